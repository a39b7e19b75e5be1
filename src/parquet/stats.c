/*
 * stats.c - orderings and min/max of column values, their Parquet statistics
 * form (PLAIN bytes, floats' zero rules, truncation of long byte arrays) and
 * Iceberg's bounds (single-value binary form, truncated strings and
 * binaries with the upper bound rounded up).
 */
#include "parquet/write_internal.h"

#include <stdlib.h>

int32_t firn_pq_decimal_width(int32_t precision) {
    /* smallest n with 10^precision - 1 <= 2^(8n-1) - 1 (as Iceberg's
     * TypeUtil.decimalRequiredBytes) */
    static const int8_t width[39] = {0,  1,  1,  2,  2,  3,  3,  4,  4,  4,  5,  5,  6,
                                     6,  6,  7,  7,  8,  8,  9,  9,  9,  10, 10, 11, 11,
                                     11, 12, 12, 13, 13, 13, 14, 14, 15, 15, 16, 16, 16};
    if (precision < 1 || precision > 38) return -1;
    return width[precision];
}

void pq_minmax_release(pq_minmax *m) {
    if (!m) return;
    firn_buf_release(&m->bmin);
    firn_buf_release(&m->bmax);
    m->has = false;
}

void pq_minmax_reset(pq_minmax *m) {
    m->has = false;
    firn_buf_clear(&m->bmin);
    firn_buf_clear(&m->bmax);
}

int pq_cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return an < bn ? -1 : an > bn;
}

int pq_cmp_signed_be(const uint8_t *a, const uint8_t *b, size_t n) {
    if (!n) return 0;
    int sa = (int8_t)a[0], sb = (int8_t)b[0];
    if (sa != sb) return sa < sb ? -1 : 1;
    return n > 1 ? memcmp(a + 1, b + 1, n - 1) : 0;
}

static int cmp_ord(pq_order ord, const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    if (ord == PQ_ORD_SIGNED_BE && an == bn) return pq_cmp_signed_be(a, b, an);
    return pq_cmp_bytes(a, an, b, bn);
}

static void buf_set(firn_buf *b, const uint8_t *p, size_t n) {
    firn_buf_clear(b);
    firn_buf_reserve(b, n ? n : 1); /* data non-NULL even for an empty value */
    firn_buf_append(b, p, n);
}

void pq_minmax_bytes(pq_minmax *m, pq_order ord, const uint8_t *lo, size_t lo_n,
                     const uint8_t *hi, size_t hi_n) {
    if (!m->has) {
        m->has = true;
        buf_set(&m->bmin, lo, lo_n);
        buf_set(&m->bmax, hi, hi_n);
        return;
    }
    if (cmp_ord(ord, lo, lo_n, m->bmin.data, m->bmin.len) < 0) buf_set(&m->bmin, lo, lo_n);
    if (cmp_ord(ord, hi, hi_n, m->bmax.data, m->bmax.len) > 0) buf_set(&m->bmax, hi, hi_n);
}

void pq_minmax_merge(pq_minmax *dst, const pq_minmax *src, pq_order ord) {
    if (!src->has) return;
    switch (ord) {
    case PQ_ORD_BOOL:
    case PQ_ORD_INT:
        pq_minmax_int(dst, src->imin, src->imax);
        break;
    case PQ_ORD_FLOAT:
    case PQ_ORD_DOUBLE:
        pq_minmax_dbl(dst, src->dmin, src->dmax);
        break;
    case PQ_ORD_UNSIGNED:
    case PQ_ORD_SIGNED_BE:
        pq_minmax_bytes(dst, ord, src->bmin.data, src->bmin.len, src->bmax.data, src->bmax.len);
        break;
    case PQ_ORD_NONE:
        break;
    }
}

/* ---------------------------------------------------------- truncation */

size_t pq_utf8_prefix(const uint8_t *p, size_t n, size_t max_code_points) {
    size_t i = 0, cps = 0;
    while (i < n && cps < max_code_points) {
        i++;
        while (i < n && (p[i] & 0xC0) == 0x80) i++;
        cps++;
    }
    return i;
}

static size_t utf8_put(uint8_t *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

static uint32_t utf8_get(const uint8_t *p, size_t len) {
    if (len == 1) return p[0];
    uint32_t cp = p[0] & (0x7F >> len);
    for (size_t k = 1; k < len; k++) cp = cp << 6 | (p[k] & 0x3F);
    return cp;
}

bool pq_utf8_upper(const uint8_t *p, size_t n, size_t max_code_points, firn_buf *out) {
    size_t cut = pq_utf8_prefix(p, n, max_code_points);
    firn_buf_clear(out);
    firn_buf_reserve(out, cut + 4);
    if (cut == n) { /* not truncated: the value itself */
        firn_buf_append(out, p, n);
        return true;
    }
    /* increment the last code point that can be, dropping what follows it */
    size_t end = cut;
    while (end > 0) {
        size_t start = end - 1;
        while (start > 0 && (p[start] & 0xC0) == 0x80) start--;
        uint32_t cp = utf8_get(p + start, end - start) + 1;
        if (cp == 0xD800) cp = 0xE000; /* skip the surrogates */
        if (cp <= 0x10FFFF) {
            firn_buf_append(out, p, start);
            uint8_t enc[4];
            firn_buf_append(out, enc, utf8_put(enc, cp));
            return true;
        }
        end = start;
    }
    return false;
}

bool pq_binary_upper(const uint8_t *p, size_t n, size_t max_bytes, firn_buf *out) {
    firn_buf_clear(out);
    firn_buf_reserve(out, (n < max_bytes ? n : max_bytes) + 1);
    if (n <= max_bytes) {
        firn_buf_append(out, p, n);
        return true;
    }
    for (size_t i = max_bytes; i > 0; i--) {
        if (p[i - 1] != 0xFF) {
            firn_buf_append(out, p, i);
            out->data[i - 1]++;
            return true;
        }
    }
    return false;
}

size_t pq_decimal_trim(const uint8_t *be, size_t n) {
    size_t i = 0;
    while (i + 1 < n && ((be[i] == 0x00 && !(be[i + 1] & 0x80)) ||
                         (be[i] == 0xFF && (be[i + 1] & 0x80))))
        i++;
    return i;
}

/* ------------------------------------------------- Parquet statistics */

/* Longest prefix of at most max_bytes that ends on a code point boundary
 * (p holds more than max_bytes bytes). */
static size_t utf8_cut(const uint8_t *p, size_t max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (p[cut] & 0xC0) == 0x80) cut--;
    return cut;
}

static size_t utf8_count(const uint8_t *p, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += (p[i] & 0xC0) != 0x80;
    return c;
}

void pq_stats_minmax(pq_statistics *st, const pq_minmax *m, pq_order ord, int physical,
                     bool is_string, firn_buf *scratch) {
    if (!m->has || ord == PQ_ORD_NONE) return;
    /* reserve enough that the pointers taken below stay valid */
    size_t need = 16;
    if (ord == PQ_ORD_UNSIGNED || ord == PQ_ORD_SIGNED_BE)
        need = m->bmin.len + m->bmax.len + 2 * PQ_STATS_TRUNCATE + 16;
    firn_buf_reserve(scratch, need);
    uint8_t *base = scratch->data + scratch->len;
    size_t at = 0;
    uint8_t *mn = base, *mx;
    size_t mn_n = 0, mx_n = 0;
    switch (physical) {
    case PQ_BOOLEAN:
        mn[0] = (uint8_t)m->imin;
        mx = mn + 1;
        mx[0] = (uint8_t)m->imax;
        mn_n = mx_n = 1;
        at = 2;
        break;
    case PQ_INT32:
        firn_store_le32(mn, (uint32_t)(int32_t)m->imin);
        mx = mn + 4;
        firn_store_le32(mx, (uint32_t)(int32_t)m->imax);
        mn_n = mx_n = 4;
        at = 8;
        break;
    case PQ_INT64:
        firn_store_le64(mn, (uint64_t)m->imin);
        mx = mn + 8;
        firn_store_le64(mx, (uint64_t)m->imax);
        mn_n = mx_n = 8;
        at = 16;
        break;
    case PQ_FLOAT: {
        /* spec (ColumnOrder, TYPE_ORDER): a zero min is written -0.0, a zero max +0.0 */
        float lo = (float)m->dmin, hi = (float)m->dmax;
        if (lo == 0) lo = -0.0f;
        if (hi == 0) hi = 0.0f;
        uint32_t a, b;
        memcpy(&a, &lo, 4);
        memcpy(&b, &hi, 4);
        firn_store_le32(mn, a);
        mx = mn + 4;
        firn_store_le32(mx, b);
        mn_n = mx_n = 4;
        at = 8;
        break;
    }
    case PQ_DOUBLE: {
        double lo = m->dmin, hi = m->dmax;
        if (lo == 0) lo = -0.0;
        if (hi == 0) hi = 0.0;
        uint64_t a, b;
        memcpy(&a, &lo, 8);
        memcpy(&b, &hi, 8);
        firn_store_le64(mn, a);
        mx = mn + 8;
        firn_store_le64(mx, b);
        mn_n = mx_n = 8;
        at = 16;
        break;
    }
    case PQ_FIXED_LEN_BYTE_ARRAY:
        if (m->bmin.len > PQ_STATS_MAX_FIXED) return;
        memcpy(mn, m->bmin.data, m->bmin.len);
        mn_n = m->bmin.len;
        mx = mn + mn_n;
        memcpy(mx, m->bmax.data, m->bmax.len);
        mx_n = m->bmax.len;
        at = mn_n + mx_n;
        break;
    case PQ_BYTE_ARRAY: {
        bool exact_min = true, exact_max = true;
        mn_n = m->bmin.len;
        if (mn_n > PQ_STATS_TRUNCATE) {
            mn_n = is_string ? utf8_cut(m->bmin.data, PQ_STATS_TRUNCATE) : PQ_STATS_TRUNCATE;
            exact_min = false;
        }
        memcpy(mn, m->bmin.data, mn_n);
        mx = mn + mn_n;
        if (m->bmax.len > PQ_STATS_TRUNCATE) {
            firn_buf up = {0};
            bool ok;
            if (is_string) {
                size_t cut = utf8_cut(m->bmax.data, PQ_STATS_TRUNCATE);
                size_t cps = utf8_count(m->bmax.data, cut);
                ok = pq_utf8_upper(m->bmax.data, m->bmax.len, cps, &up);
            } else {
                ok = pq_binary_upper(m->bmax.data, m->bmax.len, PQ_STATS_TRUNCATE, &up);
            }
            if (!ok) {
                firn_buf_release(&up);
                return; /* no upper bound: write no min/max at all */
            }
            memcpy(mx, up.data, up.len);
            mx_n = up.len;
            firn_buf_release(&up);
            exact_max = false;
        } else {
            memcpy(mx, m->bmax.data, m->bmax.len);
            mx_n = m->bmax.len;
        }
        at = mn_n + mx_n;
        if (!exact_min) {
            st->has_is_min_value_exact = true;
            st->is_min_value_exact = false;
        }
        if (!exact_max) {
            st->has_is_max_value_exact = true;
            st->is_max_value_exact = false;
        }
        break;
    }
    default:
        return;
    }
    scratch->len += at;
    st->has_min_value = st->has_max_value = true;
    st->min_value = (pq_bytes){mn, (uint32_t)mn_n};
    st->max_value = (pq_bytes){mx, (uint32_t)mx_n};
}

/* ------------------------------------------------------- Iceberg bounds */

static uint8_t *dup_bytes(const void *p, size_t n) {
    uint8_t *q = firn_xmalloc(n ? n : 1);
    if (n) memcpy(q, p, n);
    return q;
}

static void set_bound(uint8_t **dst, size_t *dst_len, const void *p, size_t n) {
    *dst = dup_bytes(p, n);
    *dst_len = n;
}

void pq_iceberg_bounds(firn_pq_type type, pq_order ord, const pq_minmax *m, uint32_t truncate,
                       firn_pq_column_stats *out) {
    out->has_bounds = false;
    out->lower = out->upper = NULL;
    out->lower_len = out->upper_len = 0;
    if (!m->has || ord == PQ_ORD_NONE) return;
    uint8_t lo[16], hi[16];
    switch (type) {
    case FIRN_PQ_BOOLEAN:
        lo[0] = (uint8_t)m->imin;
        hi[0] = (uint8_t)m->imax;
        set_bound(&out->lower, &out->lower_len, lo, 1);
        set_bound(&out->upper, &out->upper_len, hi, 1);
        break;
    case FIRN_PQ_INT:
    case FIRN_PQ_DATE:
        firn_store_le32(lo, (uint32_t)(int32_t)m->imin);
        firn_store_le32(hi, (uint32_t)(int32_t)m->imax);
        set_bound(&out->lower, &out->lower_len, lo, 4);
        set_bound(&out->upper, &out->upper_len, hi, 4);
        break;
    case FIRN_PQ_LONG:
    case FIRN_PQ_TIME:
    case FIRN_PQ_TIMESTAMP:
    case FIRN_PQ_TIMESTAMPTZ:
    case FIRN_PQ_TIMESTAMP_NS:
    case FIRN_PQ_TIMESTAMPTZ_NS:
        firn_store_le64(lo, (uint64_t)m->imin);
        firn_store_le64(hi, (uint64_t)m->imax);
        set_bound(&out->lower, &out->lower_len, lo, 8);
        set_bound(&out->upper, &out->upper_len, hi, 8);
        break;
    case FIRN_PQ_FLOAT: {
        float a = (float)m->dmin, b = (float)m->dmax;
        uint32_t ua, ub;
        memcpy(&ua, &a, 4);
        memcpy(&ub, &b, 4);
        firn_store_le32(lo, ua);
        firn_store_le32(hi, ub);
        set_bound(&out->lower, &out->lower_len, lo, 4);
        set_bound(&out->upper, &out->upper_len, hi, 4);
        break;
    }
    case FIRN_PQ_DOUBLE: {
        uint64_t ua, ub;
        memcpy(&ua, &m->dmin, 8);
        memcpy(&ub, &m->dmax, 8);
        firn_store_le64(lo, ua);
        firn_store_le64(hi, ub);
        set_bound(&out->lower, &out->lower_len, lo, 8);
        set_bound(&out->upper, &out->upper_len, hi, 8);
        break;
    }
    case FIRN_PQ_DECIMAL:
        if (ord == PQ_ORD_INT) { /* INT32/INT64 unscaled: as 8 big-endian bytes, trimmed */
            for (int i = 0; i < 8; i++) {
                lo[i] = (uint8_t)((uint64_t)m->imin >> (56 - 8 * i));
                hi[i] = (uint8_t)((uint64_t)m->imax >> (56 - 8 * i));
            }
            size_t a = pq_decimal_trim(lo, 8), b = pq_decimal_trim(hi, 8);
            set_bound(&out->lower, &out->lower_len, lo + a, 8 - a);
            set_bound(&out->upper, &out->upper_len, hi + b, 8 - b);
        } else {
            size_t a = pq_decimal_trim(m->bmin.data, m->bmin.len);
            size_t b = pq_decimal_trim(m->bmax.data, m->bmax.len);
            set_bound(&out->lower, &out->lower_len, m->bmin.data + a, m->bmin.len - a);
            set_bound(&out->upper, &out->upper_len, m->bmax.data + b, m->bmax.len - b);
        }
        break;
    case FIRN_PQ_UUID:
        set_bound(&out->lower, &out->lower_len, m->bmin.data, m->bmin.len);
        set_bound(&out->upper, &out->upper_len, m->bmax.data, m->bmax.len);
        break;
    case FIRN_PQ_STRING: {
        size_t cut = pq_utf8_prefix(m->bmin.data, m->bmin.len, truncate);
        set_bound(&out->lower, &out->lower_len, m->bmin.data, cut);
        firn_buf up = {0};
        if (pq_utf8_upper(m->bmax.data, m->bmax.len, truncate, &up))
            set_bound(&out->upper, &out->upper_len, up.data, up.len);
        firn_buf_release(&up);
        break;
    }
    case FIRN_PQ_FIXED:
    case FIRN_PQ_BINARY: {
        size_t cut = m->bmin.len < truncate ? m->bmin.len : truncate;
        set_bound(&out->lower, &out->lower_len, m->bmin.data, cut);
        firn_buf up = {0};
        if (pq_binary_upper(m->bmax.data, m->bmax.len, truncate, &up))
            set_bound(&out->upper, &out->upper_len, up.data, up.len);
        firn_buf_release(&up);
        break;
    }
    default:
        return;
    }
    out->has_bounds = true;
}
