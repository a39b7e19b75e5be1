/*
 * column_writer.c - one leaf column's chunk: values are encoded PLAIN or with
 * a dictionary into the open page, definition levels are kept as an array,
 * and a full page (page_bytes or page_rows) is assembled, compressed and
 * appended to the chunk, which stays in memory until its row group is
 * written.
 *
 * Dictionary: an open-addressing table (linear probing, power-of-two size,
 * at most half full) from a value (its bits for 4/8-byte types, its xxh64
 * for byte arrays) to its index; the dictionary page is kept PLAIN-encoded as
 * entries arrive. When adding an entry would make the dictionary page larger
 * than dict_bytes, the open page is finished with the dictionary and the
 * chunk goes on PLAIN (pages already written keep the dictionary). The first
 * dictionary page is also checked for gain: if dictionary + indices are not
 * smaller than PLAIN, the chunk goes on PLAIN after it (as parquet-mr).
 *
 * Uncompressed columns stage PLAIN values directly in the chunk's body (no
 * page buffer to copy from). A streamed column (one media column per file,
 * chosen by writer.c) keeps no chunk at all: rows are counted into the open
 * page without copying their values, and a page that completes is written
 * to the sink at once - header and levels, then the values, straight from
 * the caller's batch. Only the rows of a page still open when a batch ends
 * are copied (into body), since the batch goes away.
 *
 * Page boundaries depend only on the rows, not on how they were batched:
 * rows are encoded in runs that cannot reach page_bytes (by a per-row upper
 * bound of their size), so a page ends at the first row that fills it.
 */
#include "parquet/write_internal.h"

#include <stdlib.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "firn's Parquet writer assumes a little-endian host (PLAIN values are copied as they are)"
#endif

int pq_physical_type(firn_pq_type t, int32_t precision) {
    switch (t) {
    case FIRN_PQ_BOOLEAN: return PQ_BOOLEAN;
    case FIRN_PQ_INT:
    case FIRN_PQ_DATE: return PQ_INT32;
    case FIRN_PQ_LONG:
    case FIRN_PQ_TIME:
    case FIRN_PQ_TIMESTAMP:
    case FIRN_PQ_TIMESTAMPTZ:
    case FIRN_PQ_TIMESTAMP_NS:
    case FIRN_PQ_TIMESTAMPTZ_NS: return PQ_INT64;
    case FIRN_PQ_FLOAT: return PQ_FLOAT;
    case FIRN_PQ_DOUBLE: return PQ_DOUBLE;
    case FIRN_PQ_DECIMAL:
        return precision <= 9 ? PQ_INT32 : precision <= 18 ? PQ_INT64 : PQ_FIXED_LEN_BYTE_ARRAY;
    case FIRN_PQ_UUID:
    case FIRN_PQ_FIXED: return PQ_FIXED_LEN_BYTE_ARRAY;
    case FIRN_PQ_STRING:
    case FIRN_PQ_BINARY: return PQ_BYTE_ARRAY;
    default: return -1;
    }
}

static void start_page(pq_col *c) {
    c->nlevels = 0;
    c->page_rows = c->page_values = c->page_nulls = c->page_nans = 0;
    c->nidx = 0;
    if (c->vals == &c->page_vals) firn_buf_clear(&c->page_vals);
    c->vals_start = c->vals->len;
    c->bool_bits = 0;
    c->page_plain_bytes = 0;
    pq_minmax_reset(&c->page_mm);
    c->page_seq++;
}

#define DICT_INITIAL_SLOTS 1024

void pq_col_init(pq_col *c, const firn_pq_column_spec *s, const pq_col_config *cfg) {
    memset(c, 0, sizeof *c);
    c->name = s->name;
    c->type = s->type;
    c->physical = pq_physical_type(s->type, s->precision);
    c->cfg = *cfg;
    switch (c->physical) {
    case PQ_INT32:
    case PQ_FLOAT: c->width = 4; break;
    case PQ_INT64:
    case PQ_DOUBLE: c->width = 8; break;
    case PQ_FIXED_LEN_BYTE_ARRAY:
        c->type_length = s->type == FIRN_PQ_UUID      ? 16
                         : s->type == FIRN_PQ_DECIMAL ? firn_pq_decimal_width(s->precision)
                                                      : s->length;
        c->width = (uint32_t)c->type_length;
        break;
    default: c->width = 0; break;
    }
    switch (c->physical) {
    case PQ_BOOLEAN: c->ord = PQ_ORD_BOOL; break;
    case PQ_INT32:
    case PQ_INT64: c->ord = PQ_ORD_INT; break;
    case PQ_FLOAT: c->ord = PQ_ORD_FLOAT; break;
    case PQ_DOUBLE: c->ord = PQ_ORD_DOUBLE; break;
    default: c->ord = s->type == FIRN_PQ_DECIMAL ? PQ_ORD_SIGNED_BE : PQ_ORD_UNSIGNED; break;
    }
    c->is_string = s->type == FIRN_PQ_STRING;
    c->want_stats = !s->media;
    if (s->media) {
        c->ord = PQ_ORD_NONE;
        c->cfg.codec = FIRN_PQ_UNCOMPRESSED;
    }
    c->dict_enabled = !s->media && !s->no_dictionary && c->physical != PQ_BOOLEAN;
    c->dict_mode = c->dict_enabled;
    c->max_def = s->optional ? 1 : 0;
    c->max_rep = 0;
    c->vals = c->cfg.codec == FIRN_PQ_UNCOMPRESSED ? &c->body : &c->page_vals;
    firn_buf_reserve(&c->page_vals, 64); /* never a NULL input to a codec */
    if (c->dict_enabled) {
        c->dcap = DICT_INITIAL_SLOTS;
        c->dslots = firn_xcalloc(c->dcap, sizeof *c->dslots);
    }
    start_page(c);
}

void pq_col_release(pq_col *c) {
    if (!c) return;
    free(c->def);
    free(c->rep);
    free(c->idx);
    free(c->dslots);
    free(c->doff);
    free(c->dseen);
    free(c->segs);
    firn_buf_release(&c->page_vals);
    firn_buf_release(&c->dplain);
    firn_buf_release(&c->meta);
    firn_buf_release(&c->body);
    firn_buf_release(&c->scratch);
    firn_buf_release(&c->cbuf);
    firn_buf_release(&c->sbuf);
    pq_minmax_release(&c->page_mm);
    pq_minmax_release(&c->chunk_mm);
    pq_minmax_release(&c->file_mm);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------ dictionary */

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static void dict_grow(pq_col *c) {
    size_t ncap = c->dcap * 2, mask = ncap - 1;
    pq_dslot *ns = firn_xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < c->dcap; i++) {
        if (!c->dslots[i].idx1) continue;
        size_t h = mix64(c->dslots[i].key) & mask;
        while (ns[h].idx1) h = (h + 1) & mask;
        ns[h] = c->dslots[i];
    }
    free(c->dslots);
    c->dslots = ns;
    c->dcap = ncap;
}

/* Record a new entry in slot s; returns its index. */
static uint32_t dict_new_entry(pq_col *c, pq_dslot *s, uint64_t key, size_t plain_off) {
    if (c->dcount == c->dentries_cap) {
        c->dentries_cap = c->dentries_cap ? c->dentries_cap * 2 : 1024;
        c->dseen = firn_xrealloc(c->dseen, c->dentries_cap * sizeof *c->dseen);
        if (c->physical == PQ_BYTE_ARRAY)
            c->doff = firn_xrealloc(c->doff, c->dentries_cap * sizeof *c->doff);
    }
    uint32_t e = c->dcount++;
    c->dseen[e] = 0;
    if (c->physical == PQ_BYTE_ARRAY) c->doff[e] = plain_off;
    s->key = key;
    s->idx1 = e + 1;
    if ((size_t)c->dcount * 2 > c->dcap) dict_grow(c);
    return e;
}

/* Index of a 4- or 8-byte value (bits in key, bytes at p), inserted if new;
 * -1 when the dictionary is full. */
static inline int64_t dict_put_small(pq_col *c, uint64_t key, const uint8_t *p, uint32_t w) {
    size_t mask = c->dcap - 1, h = mix64(key) & mask;
    for (;;) {
        pq_dslot *s = &c->dslots[h];
        if (!s->idx1) break;
        if (s->key == key) return s->idx1 - 1;
        h = (h + 1) & mask;
    }
    if (c->dplain.len + w > c->cfg.dict_bytes) return -1;
    firn_buf_append(&c->dplain, p, w);
    return dict_new_entry(c, &c->dslots[h], key, 0);
}

/* Same for byte arrays (fixed: FIXED_LEN_BYTE_ARRAY entries without a length). */
static inline int64_t dict_put_bytes(pq_col *c, const uint8_t *p, size_t len, bool fixed) {
    uint64_t key = firn_xxh64(p, len, 0);
    size_t mask = c->dcap - 1, h = mix64(key) & mask;
    for (;;) {
        pq_dslot *s = &c->dslots[h];
        if (!s->idx1) break;
        if (s->key == key) {
            uint32_t e = s->idx1 - 1;
            const uint8_t *q;
            size_t qn;
            if (fixed) {
                q = c->dplain.data + (size_t)e * len;
                qn = len;
            } else {
                q = c->dplain.data + c->doff[e];
                qn = firn_load_le32(q);
                q += 4;
            }
            if (qn == len && memcmp(q, p, len) == 0) return e;
        }
        h = (h + 1) & mask;
    }
    size_t add = fixed ? len : len + 4;
    if (c->dplain.len + add > c->cfg.dict_bytes) return -1;
    size_t off = c->dplain.len;
    uint8_t *o = firn_buf_extend(&c->dplain, add);
    if (!fixed) {
        firn_store_le32(o, (uint32_t)len);
        o += 4;
    }
    if (len) memcpy(o, p, len);
    return dict_new_entry(c, &c->dslots[h], key, off);
}

static void dict_reset(pq_col *c) {
    if (!c->dict_enabled) return;
    if (c->dcount) memset(c->dslots, 0, c->dcap * sizeof *c->dslots);
    c->dcount = 0;
    firn_buf_clear(&c->dplain);
    c->dict_mode = true;
    c->dict_checked = false;
    c->dict_data_pages = 0;
}

/* ---------------------------------------------------------------- stats */

/* Min/max (and NaN count) of k contiguous PLAIN values at p into page_mm. */
static void stats_fixed(pq_col *c, const uint8_t *p, size_t k, bool count_nan) {
    if (!k) return;
    switch (c->physical) {
    case PQ_INT32: {
        if (!c->want_stats) return;
        int32_t lo, hi, v;
        memcpy(&lo, p, 4);
        hi = lo;
        for (size_t i = 1; i < k; i++) {
            memcpy(&v, p + 4 * i, 4);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        pq_minmax_int(&c->page_mm, lo, hi);
        return;
    }
    case PQ_INT64: {
        if (!c->want_stats) return;
        int64_t lo, hi, v;
        memcpy(&lo, p, 8);
        hi = lo;
        for (size_t i = 1; i < k; i++) {
            memcpy(&v, p + 8 * i, 8);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        pq_minmax_int(&c->page_mm, lo, hi);
        return;
    }
    case PQ_FLOAT:
    case PQ_DOUBLE: {
        bool dbl = c->physical == PQ_DOUBLE, any = false;
        double lo = 0, hi = 0;
        size_t nans = 0;
        for (size_t i = 0; i < k; i++) {
            double v;
            if (dbl) {
                memcpy(&v, p + 8 * i, 8);
            } else {
                float f;
                memcpy(&f, p + 4 * i, 4);
                v = f;
            }
            if (v != v) {
                nans++;
                continue;
            }
            if (!any) {
                lo = hi = v;
                any = true;
                continue;
            }
            if (v < lo || (v == lo && __builtin_signbit(v))) lo = v;
            if (v > hi || (v == hi && !__builtin_signbit(v))) hi = v;
        }
        if (count_nan) c->page_nans += nans;
        if (any && c->want_stats) pq_minmax_dbl(&c->page_mm, lo, hi);
        return;
    }
    case PQ_FIXED_LEN_BYTE_ARRAY: {
        if (!c->want_stats) return;
        size_t w = c->width;
        const uint8_t *lo = p, *hi = p;
        for (size_t i = 1; i < k; i++) {
            const uint8_t *v = p + w * i;
            if (c->ord == PQ_ORD_SIGNED_BE) {
                if (pq_cmp_signed_be(v, lo, w) < 0) lo = v;
                else if (pq_cmp_signed_be(v, hi, w) > 0) hi = v;
            } else {
                if (memcmp(v, lo, w) < 0) lo = v;
                else if (memcmp(v, hi, w) > 0) hi = v;
            }
        }
        pq_minmax_bytes(&c->page_mm, c->ord, lo, w, hi, w);
        return;
    }
    default:
        return;
    }
}

/* ------------------------------------------------------------- encoders
 * Each encodes the non-null values of rows [r, r + n) into the open page and
 * returns the rows consumed: n, or fewer when the dictionary filled up. */

static size_t enc_bool(pq_col *c, const firn_pq_column_data *d, size_t r, size_t n) {
    const uint8_t *src = (const uint8_t *)d->values + r;
    const uint8_t *valid = d->validity ? d->validity + r : NULL;
    firn_buf *vb = c->vals;
    size_t have = vb->len - c->vals_start, need = (c->bool_bits + n + 7) / 8;
    if (need > have) firn_buf_reserve(vb, need - have);
    uint8_t *base = vb->data + c->vals_start;
    size_t pos = c->bool_bits;
    unsigned seen0 = 0, seen1 = 0;
    for (size_t i = 0; i < n; i++) {
        if (valid && !valid[i]) continue;
        unsigned b = src[i] != 0;
        if (!(pos & 7)) base[pos >> 3] = 0;
        base[pos >> 3] |= (uint8_t)(b << (pos & 7));
        pos++;
        seen0 |= !b;
        seen1 |= b;
    }
    c->bool_bits = pos;
    vb->len = c->vals_start + (pos + 7) / 8;
    if ((seen0 | seen1) && c->want_stats) pq_minmax_int(&c->page_mm, seen0 ? 0 : 1, seen1 ? 1 : 0);
    return n;
}

static size_t enc_plain_fixed(pq_col *c, const firn_pq_column_data *d, size_t r, size_t n) {
    size_t w = c->width;
    const uint8_t *src = (const uint8_t *)d->values + r * w;
    const uint8_t *valid = d->validity ? d->validity + r : NULL;
    firn_buf *vb = c->vals;
    size_t at = vb->len, k = 0;
    uint8_t *o = firn_buf_extend(vb, n * w);
    if (!valid) {
        memcpy(o, src, n * w);
        k = n;
    } else if (w == 4) {
        for (size_t i = 0; i < n; i++) { /* branch-free compaction */
            memcpy(o + 4 * k, src + 4 * i, 4);
            k += valid[i] != 0;
        }
    } else if (w == 8) {
        for (size_t i = 0; i < n; i++) {
            memcpy(o + 8 * k, src + 8 * i, 8);
            k += valid[i] != 0;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            if (!valid[i]) continue;
            memcpy(o + w * k, src + w * i, w);
            k++;
        }
    }
    vb->len = at + k * w;
    stats_fixed(c, vb->data + at, k, true);
    c->page_plain_bytes += k * w;
    return n;
}

static size_t enc_plain_bytes(pq_col *c, const firn_pq_column_data *d, size_t r, size_t n) {
    const int64_t *off = d->offsets + r;
    const uint8_t *data = d->data;
    const uint8_t *valid = d->validity ? d->validity + r : NULL;
    firn_buf *vb = c->vals;
    firn_buf_reserve(vb, (size_t)(off[n] - off[0]) + 4 * n);
    uint8_t *o0 = vb->data + vb->len, *o = o0;
    const uint8_t *lo = NULL, *hi = NULL;
    size_t lo_n = 0, hi_n = 0;
    bool stats = c->want_stats;
    for (size_t i = 0; i < n; i++) {
        if (valid && !valid[i]) continue;
        size_t len = (size_t)(off[i + 1] - off[i]);
        const uint8_t *p = data + off[i];
        firn_store_le32(o, (uint32_t)len);
        if (len) memcpy(o + 4, p, len);
        o += 4 + len;
        if (!stats) continue;
        if (!lo) {
            lo = hi = p;
            lo_n = hi_n = len;
            continue;
        }
        /* most values differ from the min and max in their first byte */
        int first = len ? p[0] : -1;
        if (first <= (lo_n ? lo[0] : -1) && pq_cmp_bytes(p, len, lo, lo_n) < 0) {
            lo = p;
            lo_n = len;
        } else if (first >= (hi_n ? hi[0] : -1) && pq_cmp_bytes(p, len, hi, hi_n) > 0) {
            hi = p;
            hi_n = len;
        }
    }
    vb->len += (size_t)(o - o0);
    c->page_plain_bytes += (size_t)(o - o0);
    if (lo) pq_minmax_bytes(&c->page_mm, c->ord, lo, lo_n, hi, hi_n);
    return n;
}

static void reserve_idx(pq_col *c, size_t n) {
    if (c->nidx + n <= c->idx_cap) return;
    size_t cap = c->idx_cap ? c->idx_cap : 4096;
    while (cap < c->nidx + n) cap *= 2;
    c->idx = firn_xrealloc(c->idx, cap * sizeof *c->idx);
    c->idx_cap = cap;
}

static size_t enc_dict_fixed(pq_col *c, const firn_pq_column_data *d, size_t r, size_t n) {
    uint32_t w = c->width;
    const uint8_t *src = (const uint8_t *)d->values + (size_t)r * w;
    const uint8_t *valid = d->validity ? d->validity + r : NULL;
    reserve_idx(c, n);
    uint32_t *ix = c->idx + c->nidx;
    size_t k = 0, nans = 0, i;
    int fp = c->physical == PQ_FLOAT ? 4 : c->physical == PQ_DOUBLE ? 8 : 0;
    for (i = 0; i < n; i++) {
        if (valid && !valid[i]) continue;
        const uint8_t *p = src + (size_t)i * w;
        int64_t e;
        if (w == 4) {
            uint32_t v = firn_load_le32(p);
            if (fp == 4) nans += (v & 0x7FFFFFFFu) > 0x7F800000u;
            e = dict_put_small(c, v, p, 4);
        } else if (w == 8) {
            uint64_t v = firn_load_le64(p);
            if (fp == 8) nans += (v & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull;
            e = dict_put_small(c, v, p, 8);
        } else {
            e = dict_put_bytes(c, p, w, true);
        }
        if (e < 0) break;
        ix[k++] = (uint32_t)e;
        if (c->dseen[e] != c->page_seq) {
            c->dseen[e] = c->page_seq;
            stats_fixed(c, p, 1, false);
        }
    }
    if (i < n && fp) { /* the value that did not fit was counted */
        const uint8_t *p = src + (size_t)i * w;
        nans -= fp == 4 ? (firn_load_le32(p) & 0x7FFFFFFFu) > 0x7F800000u
                        : (firn_load_le64(p) & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull;
    }
    c->nidx += k;
    c->page_nans += nans;
    c->page_plain_bytes += k * w;
    return i;
}

static size_t enc_dict_bytes(pq_col *c, const firn_pq_column_data *d, size_t r, size_t n) {
    const int64_t *off = d->offsets + r;
    const uint8_t *data = d->data;
    const uint8_t *valid = d->validity ? d->validity + r : NULL;
    reserve_idx(c, n);
    uint32_t *ix = c->idx + c->nidx;
    size_t k = 0, i, plain = 0;
    for (i = 0; i < n; i++) {
        if (valid && !valid[i]) continue;
        size_t len = (size_t)(off[i + 1] - off[i]);
        const uint8_t *p = data + off[i];
        int64_t e = dict_put_bytes(c, p, len, false);
        if (e < 0) break;
        ix[k++] = (uint32_t)e;
        plain += 4 + len;
        if (c->dseen[e] != c->page_seq) {
            c->dseen[e] = c->page_seq;
            if (c->want_stats) pq_minmax_bytes(&c->page_mm, c->ord, p, len, p, len);
        }
    }
    c->nidx += k;
    c->page_plain_bytes += plain;
    return i;
}

static size_t encode_values(pq_col *c, const firn_pq_column_data *d, size_t r, size_t n) {
    if (!d->values && c->physical != PQ_BYTE_ARRAY) return n; /* every row is null */
    if (c->physical == PQ_BOOLEAN) return enc_bool(c, d, r, n);
    if (c->dict_mode)
        return c->physical == PQ_BYTE_ARRAY ? enc_dict_bytes(c, d, r, n) : enc_dict_fixed(c, d, r, n);
    return c->physical == PQ_BYTE_ARRAY ? enc_plain_bytes(c, d, r, n) : enc_plain_fixed(c, d, r, n);
}

/* ---------------------------------------------------------------- levels */

static void add_levels(pq_col *c, const uint8_t *valid, size_t n) {
    c->page_rows += n;
    c->page_values += n;
    if (c->max_def == 0) return;
    if (c->nlevels + n > c->levels_cap) {
        size_t cap = c->levels_cap ? c->levels_cap : 4096;
        while (cap < c->nlevels + n) cap *= 2;
        c->def = firn_xrealloc(c->def, cap * sizeof *c->def);
        c->levels_cap = cap;
    }
    uint32_t *o = c->def + c->nlevels;
    size_t nulls = 0;
    if (!valid) {
        for (size_t i = 0; i < n; i++) o[i] = 1;
    } else {
        for (size_t i = 0; i < n; i++) {
            uint32_t b = valid[i] != 0;
            o[i] = b;
            nulls += !b;
        }
    }
    c->nlevels += n;
    c->page_nulls += nulls;
}

/* ----------------------------------------------------------------- pages */

static void push_seg(pq_col *c, bool in_body, size_t off, size_t len) {
    if (c->nsegs == c->segs_cap) {
        c->segs_cap = c->segs_cap ? c->segs_cap * 2 : 64;
        c->segs = firn_xrealloc(c->segs, c->segs_cap * sizeof *c->segs);
    }
    c->segs[c->nsegs++] = (pq_seg){in_body, off, len};
}

static size_t open_page_bytes(const pq_col *c) {
    size_t v = c->dict_mode ? (c->nidx * (size_t)pq_bits_needed(c->dcount) + 7) / 8
                            : c->vals->len - c->vals_start + (size_t)c->batch_bytes;
    return v + c->nlevels / 8;
}

static void page_statistics(pq_col *c, pq_statistics *st, const pq_minmax *m, uint64_t nulls,
                            uint64_t nans) {
    memset(st, 0, sizeof *st);
    st->has_null_count = true;
    st->null_count = (int64_t)nulls;
    if (c->physical == PQ_FLOAT || c->physical == PQ_DOUBLE) {
        st->has_nan_count = true;
        st->nan_count = (int64_t)nans;
    }
    if (c->want_stats) pq_stats_minmax(st, m, c->ord, c->physical, c->is_string, &c->sbuf);
}

static int too_big(pq_col *c, uint64_t n, firn_error *err) {
    if (n <= INT32_MAX) return 0;
    return FIRN_RAISE(err, FIRN_ERR_LIMIT,
                      "parquet: column '%s': a page of %llu bytes is over Parquet's 2 GiB limit",
                      c->name, (unsigned long long)n);
}

/* Write a streamed column's finished page: its header and levels (at h_at
 * in meta), the values copied from earlier batches (body from vals_start),
 * then the values still in the caller's batch, each a 4-byte length and
 * the bytes. Nothing of the page stays buffered. */
static int stream_page(pq_col *c, size_t h_at, firn_error *err) {
    const pq_sink *s = c->sink;
    if (s->emit(s->ctx, c->meta.data + h_at, c->meta.len - h_at, err) ||
        s->emit(s->ctx, c->body.data + c->vals_start, c->body.len - c->vals_start, err))
        return -1;
    const firn_pq_column_data *d = &c->batch;
    for (size_t i = c->batch_r0; i < c->batch_r1; i++) {
        if (d->validity && !d->validity[i]) continue;
        size_t len = (size_t)(d->offsets[i + 1] - d->offsets[i]);
        uint8_t prefix[4];
        firn_store_le32(prefix, (uint32_t)len);
        if (s->emit(s->ctx, prefix, 4, err) || s->emit(s->ctx, d->data + d->offsets[i], len, err))
            return -1;
    }
    firn_buf_clear(&c->meta);
    firn_buf_clear(&c->body);
    c->batch_r0 = c->batch_r1;
    c->batch_bytes = 0;
    return 0;
}

static int flush_page(pq_col *c, firn_error *err) {
    if (!c->page_rows) return 0;
    bool dict = c->dict_mode && c->nidx > 0;
    bool v2 = c->cfg.v2;
    int codec = c->cfg.codec;
    firn_buf *lv = &c->scratch;
    firn_buf_clear(lv);
    size_t rep_len = 0, def_len = 0;
    if (c->max_rep) {
        if (v2) pq_rle_encode(lv, c->rep, c->nlevels, pq_bits_needed((uint64_t)c->max_rep));
        else pq_rle_encode_prefixed(lv, c->rep, c->nlevels, pq_bits_needed((uint64_t)c->max_rep));
        rep_len = lv->len;
    }
    if (c->max_def) {
        if (v2) pq_rle_encode(lv, c->def, c->nlevels, pq_bits_needed((uint64_t)c->max_def));
        else pq_rle_encode_prefixed(lv, c->def, c->nlevels, pq_bits_needed((uint64_t)c->max_def));
        def_len = lv->len - rep_len;
    }
    firn_buf *vb = c->vals;
    if (dict) {
        int bw = pq_bits_needed(c->dcount - 1);
        if (bw < 1) bw = 1;
        firn_buf_put_u8(vb, (uint8_t)bw);
        pq_rle_encode(vb, c->idx, c->nidx, bw);
    }
    size_t vals_len = vb->len - c->vals_start + (size_t)c->batch_bytes;
    size_t lv_len = lv->len;
    uint64_t usize = lv_len + vals_len, csize;
    size_t body_at, body_len;
    bool levels_in_meta = true;
    if (too_big(c, usize, err)) return -1;
    if (codec == FIRN_PQ_UNCOMPRESSED) {
        body_at = c->vals_start;
        body_len = vals_len;
        csize = usize;
    } else if (v2) {
        body_at = c->body.len;
        if (pq_compress(codec, c->cfg.codec_level, c->page_vals.data, vals_len, &c->body, err))
            goto compress_failed;
        body_len = c->body.len - body_at;
        csize = lv_len + body_len;
    } else {
        levels_in_meta = false;
        body_at = c->body.len;
        const uint8_t *in = c->page_vals.data;
        if (lv_len) {
            firn_buf_clear(&c->cbuf);
            firn_buf_reserve(&c->cbuf, lv_len + vals_len);
            firn_buf_append(&c->cbuf, lv->data, lv_len);
            firn_buf_append(&c->cbuf, c->page_vals.data, vals_len);
            in = c->cbuf.data;
        }
        if (pq_compress(codec, c->cfg.codec_level, in, lv_len + vals_len, &c->body, err))
            goto compress_failed;
        body_len = c->body.len - body_at;
        csize = body_len;
    }
    if (too_big(c, csize, err)) return -1;

    pq_page_header ph;
    memset(&ph, 0, sizeof ph);
    ph.uncompressed_page_size = (int32_t)usize;
    ph.compressed_page_size = (int32_t)csize;
    firn_buf_clear(&c->sbuf);
    int enc = dict ? PQ_ENC_RLE_DICTIONARY : PQ_ENC_PLAIN;
    if (v2) {
        ph.type = PQ_PAGE_DATA_V2;
        ph.has_data_page_header_v2 = true;
        pq_data_page_header_v2 *h = &ph.data_page_header_v2;
        h->num_values = (int32_t)c->page_values;
        h->num_nulls = (int32_t)c->page_nulls;
        h->num_rows = (int32_t)c->page_rows;
        h->encoding = enc;
        h->definition_levels_byte_length = (int32_t)def_len;
        h->repetition_levels_byte_length = (int32_t)rep_len;
        h->is_compressed = codec != FIRN_PQ_UNCOMPRESSED;
        h->has_statistics = true;
        page_statistics(c, &h->statistics, &c->page_mm, c->page_nulls, c->page_nans);
    } else {
        ph.type = PQ_PAGE_DATA;
        ph.has_data_page_header = true;
        pq_data_page_header *h = &ph.data_page_header;
        h->num_values = (int32_t)c->page_values;
        h->encoding = enc;
        h->definition_level_encoding = PQ_ENC_RLE;
        h->repetition_level_encoding = PQ_ENC_RLE;
        h->has_statistics = true;
        page_statistics(c, &h->statistics, &c->page_mm, c->page_nulls, c->page_nans);
    }
    size_t h_at = c->meta.len;
    pq_encode_page_header(&c->meta, &ph);
    size_t header_len = c->meta.len - h_at;
    if (levels_in_meta) firn_buf_append(&c->meta, lv->data, lv_len);
    if (c->sink) {
        if (stream_page(c, h_at, err)) return -1;
    } else {
        push_seg(c, false, h_at, c->meta.len - h_at);
        push_seg(c, true, body_at, body_len);
    }

    c->chunk_uncompressed += header_len + usize;
    c->chunk_compressed += header_len + csize;
    c->chunk_values += c->page_values;
    c->chunk_nulls += c->page_nulls;
    c->chunk_nans += c->page_nans;
    pq_minmax_merge(&c->chunk_mm, &c->page_mm, c->ord);
    if (dict) {
        c->used_dict = true;
        c->dict_data_pages++;
        if (!c->dict_checked) {
            /* worth it? dictionary page + indices against PLAIN */
            c->dict_checked = true;
            if (c->dplain.len + vals_len >= c->page_plain_bytes) c->dict_mode = false;
        }
    } else {
        c->used_plain = true;
    }
    start_page(c);
    return 0;
compress_failed:
    firn_error_context(err, "parquet column '%s'", c->name);
    return -1;
}

/*
 * Rows of [r, r + k) to encode next: as many as surely keep the open page
 * under page_bytes (by a per-row upper bound of the encoded size), at least
 * one. A page is thus ended at the first row that brings it to page_bytes
 * (or page_rows), whatever the batches the rows came in.
 */
static size_t rows_that_fit(const pq_col *c, const firn_pq_column_data *d, size_t r, size_t k) {
    size_t est = open_page_bytes(c);
    size_t room = c->cfg.page_bytes > est ? c->cfg.page_bytes - est : 0;
    size_t m;
    if (c->dict_mode) {
        m = room / 5; /* index of at most 32 bits + level */
    } else if (c->physical == PQ_BOOLEAN) {
        m = room;
    } else if (c->width) {
        m = room / (c->width + 1);
    } else {
        /* the most rows whose PLAIN bytes (4-byte length + value) and levels fit */
        const int64_t *off = d->offsets + r;
        if ((uint64_t)(off[k] - off[0]) + 5 * (uint64_t)k < room) return k;
        size_t lo = 0, hi = k;
        while (lo < hi) {
            size_t mid = lo + (hi - lo + 1) / 2;
            if ((uint64_t)(off[mid] - off[0]) + 5 * (uint64_t)mid < room) lo = mid;
            else hi = mid - 1;
        }
        m = lo;
    }
    if (m < 1) m = 1;
    return k < m ? k : m;
}

bool pq_col_can_stream(const pq_col *c) {
    return c->physical == PQ_BYTE_ARRAY && c->cfg.codec == FIRN_PQ_UNCOMPRESSED &&
           !c->dict_enabled && !c->want_stats && c->max_rep == 0;
}

/* PLAIN bytes of the present values of rows [r, r + n): length + bytes each. */
static uint64_t plain_bytes(const firn_pq_column_data *d, size_t r, size_t n) {
    const int64_t *off = d->offsets;
    if (!d->validity) return (uint64_t)(off[r + n] - off[r]) + 4 * (uint64_t)n;
    uint64_t b = 0;
    for (size_t i = r; i < r + n; i++)
        if (d->validity[i]) b += 4 + (uint64_t)(off[i + 1] - off[i]);
    return b;
}

/*
 * A streamed column: the same page boundaries as pq_col_write's loop below
 * (rows_that_fit sees the batch's bytes through open_page_bytes), but rows
 * are only counted; flush_page writes the page, values from the batch.
 */
static int stream_write(pq_col *c, const firn_pq_column_data *d, size_t r, size_t end,
                        firn_error *err) {
    while (r < end) {
        size_t k = end - r;
        size_t room = c->cfg.page_rows - c->page_rows;
        if (k > room) k = room;
        k = rows_that_fit(c, d, r, k);
        if (c->batch_r0 == c->batch_r1) {
            c->batch = *d;
            c->batch_r0 = c->batch_r1 = r;
        } else if (c->batch_r1 != r || c->batch.offsets != d->offsets) {
            return FIRN_RAISE(err, FIRN_ERR_INTERNAL,
                              "parquet: column '%s': rows of another batch in the open page "
                              "(pq_col_end_batch not called)", c->name);
        }
        uint64_t b = plain_bytes(d, r, k);
        add_levels(c, d->validity ? d->validity + r : NULL, k);
        c->batch_r1 = r + k;
        c->batch_bytes += b;
        c->page_plain_bytes += b;
        r += k;
        if (c->page_rows >= c->cfg.page_rows || open_page_bytes(c) >= c->cfg.page_bytes)
            if (flush_page(c, err)) return -1;
    }
    return 0;
}

void pq_col_end_batch(pq_col *c) {
    if (c->batch_r1 > c->batch_r0) {
        const firn_pq_column_data *d = &c->batch;
        firn_buf *vb = c->vals;
        firn_buf_reserve(vb, (size_t)c->batch_bytes);
        uint8_t *o = vb->data + vb->len;
        for (size_t i = c->batch_r0; i < c->batch_r1; i++) {
            if (d->validity && !d->validity[i]) continue;
            size_t len = (size_t)(d->offsets[i + 1] - d->offsets[i]);
            firn_store_le32(o, (uint32_t)len);
            if (len) memcpy(o + 4, d->data + d->offsets[i], len);
            o += 4 + len;
        }
        vb->len += (size_t)c->batch_bytes;
    }
    memset(&c->batch, 0, sizeof c->batch);
    c->batch_r0 = c->batch_r1 = 0;
    c->batch_bytes = 0;
}

int pq_col_write(pq_col *c, const firn_pq_column_data *d_in, size_t r0, size_t n,
                 firn_error *err) {
    static const uint8_t empty[1];
    firn_pq_column_data dd = *d_in, *d = &dd;
    if (!dd.data) dd.data = empty; /* only empty values */
    size_t r = r0, end = r0 + n;
    if (c->sink) return stream_write(c, d, r, end, err);
    while (r < end) {
        size_t k = end - r;
        size_t room = c->cfg.page_rows - c->page_rows;
        if (k > room) k = room;
        if (k > 8192 && c->dict_mode) k = 8192;
        k = rows_that_fit(c, d, r, k);
        size_t got = encode_values(c, d, r, k);
        add_levels(c, d->validity ? d->validity + r : NULL, got);
        r += got;
        if (got < k) { /* the dictionary is full: go on PLAIN */
            if (c->nidx && flush_page(c, err)) return -1;
            c->dict_mode = false;
            continue;
        }
        if (c->page_rows >= c->cfg.page_rows || open_page_bytes(c) >= c->cfg.page_bytes)
            if (flush_page(c, err)) return -1;
    }
    return 0;
}

int pq_col_finish_chunk(pq_col *c, firn_error *err) {
    if (flush_page(c, err)) return -1;
    c->has_dict_page = false;
    if (c->dict_data_pages) {
        size_t body_at = c->body.len;
        if (pq_compress(c->cfg.codec, c->cfg.codec_level, c->dplain.data, c->dplain.len, &c->body,
                        err)) {
            firn_error_context(err, "parquet column '%s'", c->name);
            return -1;
        }
        size_t csize = c->body.len - body_at;
        if (too_big(c, c->dplain.len, err) || too_big(c, csize, err)) return -1;
        pq_page_header ph;
        memset(&ph, 0, sizeof ph);
        ph.type = PQ_PAGE_DICTIONARY;
        ph.uncompressed_page_size = (int32_t)c->dplain.len;
        ph.compressed_page_size = (int32_t)csize;
        ph.has_dictionary_page_header = true;
        ph.dictionary_page_header.num_values = (int32_t)c->dcount;
        ph.dictionary_page_header.encoding = PQ_ENC_PLAIN;
        size_t h_at = c->meta.len;
        pq_encode_page_header(&c->meta, &ph);
        size_t hl = c->meta.len - h_at;
        c->dict_segs[0] = (pq_seg){false, h_at, hl};
        c->dict_segs[1] = (pq_seg){true, body_at, csize};
        c->dict_header_len = (uint32_t)hl;
        c->dict_num_values = c->dcount;
        c->chunk_uncompressed += hl + c->dplain.len;
        c->chunk_compressed += hl + csize;
        c->has_dict_page = true;
    }
    c->file_values += c->chunk_values;
    c->file_nulls += c->chunk_nulls;
    c->file_nans += c->chunk_nans;
    c->file_size += c->chunk_compressed;
    pq_minmax_merge(&c->file_mm, &c->chunk_mm, c->ord);
    return 0;
}

void pq_col_reset_chunk(pq_col *c) {
    firn_buf_clear(&c->meta);
    firn_buf_clear(&c->body);
    c->nsegs = 0;
    c->has_dict_page = false;
    c->chunk_values = c->chunk_nulls = c->chunk_nans = 0;
    c->chunk_uncompressed = c->chunk_compressed = 0;
    c->used_plain = c->used_dict = false;
    pq_minmax_reset(&c->chunk_mm);
    dict_reset(c);
    start_page(c);
}

uint64_t pq_col_estimate(const pq_col *c) {
    if (c->sink) return c->chunk_compressed + open_page_bytes(c);
    /* staged PLAIN values of uncompressed columns sit in body: count them once */
    uint64_t body = c->vals == &c->body ? c->vals_start : c->body.len;
    return c->meta.len + body + c->dplain.len + open_page_bytes(c);
}
