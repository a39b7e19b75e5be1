/*
 * decode.c - Avro binary decoding into generic values, and skipping.
 *
 * Everything read is bounds-checked against the end of the block; lengths and
 * counts are checked against the bytes left before anything is allocated, and
 * all allocations of one record count against a memory budget, so a lying
 * count can neither read out of bounds nor allocate absurd amounts.
 */
#include "avro/avro_internal.h"

#include <stdio.h>

static int dec_error(avro_decoder *d, firn_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int dec_error(avro_decoder *d, firn_err_kind kind, const char *fmt, ...) {
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return FIRN_RAISE(d->err, kind, "avro: %s", msg);
}

static inline size_t left(const avro_decoder *d) { return (size_t)(d->end - d->p); }

static int need(avro_decoder *d, uint64_t n, const char *what) {
    if (n > left(d))
        return dec_error(d, FIRN_ERR_CORRUPT, "truncated data: %s needs %llu bytes, %zu left",
                         what, (unsigned long long)n, left(d));
    return 0;
}

static int read_varint(avro_decoder *d, uint64_t *u) {
    const uint8_t *p = d->p;
    if (p < d->end && !(*p & 0x80)) {
        *u = *p;
        d->p++;
        return 0;
    }
    size_t n = firn_varint_decode(p, d->end, u);
    if (!n) {
        if (left(d) < 10) return dec_error(d, FIRN_ERR_CORRUPT, "truncated data: varint cut off");
        return dec_error(d, FIRN_ERR_CORRUPT, "varint longer than 10 bytes");
    }
    if (n == 10 && p[9] > 1) return dec_error(d, FIRN_ERR_CORRUPT, "varint overflows 64 bits");
    d->p += n;
    return 0;
}

static inline int read_long(avro_decoder *d, int64_t *v) {
    uint64_t u;
    int rc = read_varint(d, &u);
    if (rc) return rc;
    *v = firn_unzigzag64(u);
    return 0;
}

static inline int read_int(avro_decoder *d, int32_t *v) {
    uint64_t u;
    int rc = read_varint(d, &u);
    if (rc) return rc;
    if (u > UINT32_MAX) return dec_error(d, FIRN_ERR_CORRUPT, "int value out of 32-bit range");
    *v = firn_unzigzag32((uint32_t)u);
    return 0;
}

static int over_budget(avro_decoder *d) {
    return dec_error(d, FIRN_ERR_LIMIT,
                     "a record needs more than %zu bytes of memory (max_record_memory)",
                     d->mem_limit);
}

/* n bytes from the arena, counted against the record's memory budget; NULL
 * (with the error raised) when the budget is spent. */
static void *dalloc(avro_decoder *d, size_t n) {
    if (n > d->mem_limit - d->mem_used) {
        over_budget(d);
        return NULL;
    }
    d->mem_used += n;
    return firn_arena_alloc(d->arena, n);
}
#define OVER_BUDGET (-(int)FIRN_ERR_LIMIT)

/* A length prefix of bytes/string: non-negative and within the data left. */
static int read_length(avro_decoder *d, size_t *len, const char *what) {
    int64_t n;
    int rc = read_long(d, &n);
    if (rc) return rc;
    if (n < 0) return dec_error(d, FIRN_ERR_CORRUPT, "negative %s length %lld", what, (long long)n);
    if ((uint64_t)n > left(d))
        return dec_error(d, FIRN_ERR_CORRUPT, "%s length %lld exceeds the %zu bytes left", what,
                         (long long)n, left(d));
    *len = (size_t)n;
    return 0;
}

/* The item count of an array or map block; a negative count is followed by
 * the block's byte size (*bytes, else -1). The count must be possible given
 * the bytes left and the item's smallest encoding. */
static int read_block_count(avro_decoder *d, const firn_avro_node *item, bool is_map,
                            uint64_t *count, int64_t *bytes) {
    int64_t c;
    int rc = read_long(d, &c);
    if (rc) return rc;
    *bytes = -1;
    if (c < 0) {
        if (c == INT64_MIN) return dec_error(d, FIRN_ERR_CORRUPT, "invalid block count");
        c = -c;
        if ((rc = read_long(d, bytes))) return rc;
        if (*bytes < 0 || (uint64_t)*bytes > left(d))
            return dec_error(d, FIRN_ERR_CORRUPT, "block byte size %lld out of range",
                             (long long)*bytes);
    }
    int64_t min = is_map ? 1 : item->encoded_size < 0 ? 1 : item->encoded_size;
    if (min > 0 && (uint64_t)c > left(d) / (uint64_t)min)
        return dec_error(d, FIRN_ERR_CORRUPT,
                         "%s block of %lld items cannot fit in the %zu bytes left",
                         is_map ? "map" : "array", (long long)c, left(d));
    *count = (uint64_t)c;
    return 0;
}

static int skip_value(avro_decoder *d, const firn_avro_node *n, int depth);

static int skip_blocks(avro_decoder *d, const firn_avro_node *n, int depth) {
    bool is_map = n->type == FIRN_AVRO_MAP;
    const firn_avro_node *item = is_map ? n->values : n->items;
    for (;;) {
        uint64_t count;
        int64_t bytes;
        int rc = read_block_count(d, item, is_map, &count, &bytes);
        if (rc) return rc;
        if (count == 0) return 0;
        if (bytes >= 0) {
            d->p += bytes; /* read_block_count checked it */
            continue;
        }
        if (!is_map && item->encoded_size >= 0) {
            /* count * size fits: read_block_count checked count <= left / size */
            d->p += count * (uint64_t)item->encoded_size;
            continue;
        }
        for (uint64_t i = 0; i < count; i++) {
            if (is_map) {
                size_t len;
                if ((rc = read_length(d, &len, "map key"))) return rc;
                d->p += len;
            }
            if ((rc = skip_value(d, item, depth + 1))) return rc;
        }
    }
}

static int skip_value(avro_decoder *d, const firn_avro_node *n, int depth) {
    if (depth > d->max_depth)
        return dec_error(d, FIRN_ERR_LIMIT, "value nested deeper than %d levels", d->max_depth);
    int rc;
    switch (n->type) {
    case FIRN_AVRO_NULL: return 0;
    case FIRN_AVRO_BOOLEAN:
    case FIRN_AVRO_FLOAT:
    case FIRN_AVRO_DOUBLE:
    case FIRN_AVRO_FIXED:
        if ((rc = need(d, (uint64_t)n->encoded_size, firn_avro_type_name(n->type)))) return rc;
        d->p += n->encoded_size;
        return 0;
    case FIRN_AVRO_INT:
    case FIRN_AVRO_LONG:
    case FIRN_AVRO_ENUM: {
        int64_t v;
        return read_long(d, &v);
    }
    case FIRN_AVRO_BYTES:
    case FIRN_AVRO_STRING: {
        size_t len;
        if ((rc = read_length(d, &len, firn_avro_type_name(n->type)))) return rc;
        d->p += len;
        return 0;
    }
    case FIRN_AVRO_RECORD:
        if (n->encoded_size >= 0) {
            if ((rc = need(d, (uint64_t)n->encoded_size, "record"))) return rc;
            d->p += n->encoded_size;
            return 0;
        }
        for (size_t i = 0; i < n->nfields; i++)
            if ((rc = skip_value(d, n->fields[i].type, depth + 1))) return rc;
        return 0;
    case FIRN_AVRO_ARRAY:
    case FIRN_AVRO_MAP: return skip_blocks(d, n, depth);
    case FIRN_AVRO_UNION: {
        int64_t b;
        if ((rc = read_long(d, &b))) return rc;
        if (b < 0 || (uint64_t)b >= n->nbranches)
            return dec_error(d, FIRN_ERR_CORRUPT, "union branch %lld out of range (%zu branches)",
                             (long long)b, n->nbranches);
        return skip_value(d, n->branches[b], depth + 1);
    }
    default: return dec_error(d, FIRN_ERR_INTERNAL, "cannot skip a %s", firn_avro_type_name(n->type));
    }
}

static int dec_value(avro_decoder *d, const firn_avro_node *n, firn_avro_value *out, int depth,
                     bool project);

/* Grow an array being decoded block by block to hold `need` elements of
 * `size` bytes: doubling, or exactly when doubling would break the budget. */
static int grow(avro_decoder *d, void **items, size_t have, size_t *cap, size_t need_n,
                size_t size) {
    if (need_n <= *cap) return 0;
    size_t max = (d->mem_limit - d->mem_used) / size;
    if (need_n > max) return over_budget(d);
    size_t c = *cap * 2 > need_n ? *cap * 2 : need_n;
    if (c > max) c = need_n;
    void *p = dalloc(d, c * size);
    if (!p) return OVER_BUDGET;
    if (have) memcpy(p, *items, have * size);
    *items = p;
    *cap = c;
    return 0;
}

static int dec_blocks(avro_decoder *d, const firn_avro_node *n, firn_avro_value *out, int depth,
                      bool project) {
    bool is_map = n->type == FIRN_AVRO_MAP;
    const firn_avro_node *item = is_map ? n->values : n->items;
    size_t have = 0, cap = 0;
    void *items = NULL;
    size_t esize = is_map ? sizeof(firn_avro_map_entry) : sizeof(firn_avro_value);
    for (;;) {
        uint64_t count;
        int64_t bytes;
        int rc = read_block_count(d, item, is_map, &count, &bytes);
        if (rc) return rc;
        if (count == 0) break;
        if (count > SIZE_MAX / esize - have)
            return dec_error(d, FIRN_ERR_LIMIT, "%s too large", is_map ? "map" : "array");
        if ((rc = grow(d, &items, have, &cap, have + (size_t)count, esize))) return rc;
        const uint8_t *start = d->p;
        for (uint64_t i = 0; i < count; i++, have++) {
            if (is_map) {
                firn_avro_map_entry *e = (firn_avro_map_entry *)items + have;
                size_t len;
                if ((rc = read_length(d, &len, "map key"))) return rc;
                char *key = dalloc(d, len + 1);
                if (!key) return OVER_BUDGET;
                memcpy(key, d->p, len);
                key[len] = '\0';
                d->p += len;
                e->key = key;
                e->key_len = len;
                rc = dec_value(d, item, &e->value, depth + 1, project);
            } else {
                rc = dec_value(d, item, (firn_avro_value *)items + have, depth + 1, project);
            }
            if (rc) return rc;
        }
        if (bytes >= 0 && d->p - start != bytes)
            return dec_error(d, FIRN_ERR_CORRUPT, "%s block says %lld bytes but holds %lld",
                             is_map ? "map" : "array", (long long)bytes,
                             (long long)(d->p - start));
    }
    if (is_map) {
        out->type = FIRN_AVRO_MAP;
        out->u.map.entries = items;
        out->u.map.count = have;
    } else {
        out->type = FIRN_AVRO_ARRAY;
        out->u.array.items = items;
        out->u.array.count = have;
    }
    return 0;
}

static int dec_value(avro_decoder *d, const firn_avro_node *n, firn_avro_value *out, int depth,
                     bool project) {
    if (depth > d->max_depth)
        return dec_error(d, FIRN_ERR_LIMIT, "value nested deeper than %d levels", d->max_depth);
    int rc;
    out->type = n->type;
    out->branch = 0;
    switch (n->type) {
    case FIRN_AVRO_NULL: return 0;
    case FIRN_AVRO_BOOLEAN:
        if ((rc = need(d, 1, "boolean"))) return rc;
        if (*d->p > 1) return dec_error(d, FIRN_ERR_CORRUPT, "boolean byte is %u", *d->p);
        out->u.boolean = *d->p++ == 1;
        return 0;
    case FIRN_AVRO_INT: return read_int(d, &out->u.i32);
    case FIRN_AVRO_LONG: return read_long(d, &out->u.i64);
    case FIRN_AVRO_FLOAT: {
        if ((rc = need(d, 4, "float"))) return rc;
        uint32_t u = firn_load_le32(d->p);
        memcpy(&out->u.f32, &u, 4);
        d->p += 4;
        return 0;
    }
    case FIRN_AVRO_DOUBLE: {
        if ((rc = need(d, 8, "double"))) return rc;
        uint64_t u = firn_load_le64(d->p);
        memcpy(&out->u.f64, &u, 8);
        d->p += 8;
        return 0;
    }
    case FIRN_AVRO_BYTES:
    case FIRN_AVRO_STRING:
    case FIRN_AVRO_FIXED: {
        size_t len = n->size;
        if (n->type == FIRN_AVRO_FIXED) {
            if ((rc = need(d, len, "fixed"))) return rc;
        } else if ((rc = read_length(d, &len, firn_avro_type_name(n->type)))) {
            return rc;
        }
        uint8_t *p = dalloc(d, len + 1);
        if (!p) return OVER_BUDGET;
        if (len) memcpy(p, d->p, len);
        p[len] = '\0';
        d->p += len;
        if (n->type == FIRN_AVRO_STRING) {
            out->u.str.ptr = (const char *)p;
            out->u.str.len = len;
        } else {
            out->u.bytes.data = p;
            out->u.bytes.len = len;
        }
        return 0;
    }
    case FIRN_AVRO_ENUM: {
        int32_t s = 0;
        if ((rc = read_int(d, &s))) return rc;
        if (s < 0 || (size_t)s >= n->nsymbols)
            return dec_error(d, FIRN_ERR_CORRUPT, "enum %s index %d out of range (%zu symbols)",
                             n->name, (int)s, n->nsymbols);
        out->u.symbol = s;
        return 0;
    }
    case FIRN_AVRO_RECORD: {
        firn_avro_value *fields = dalloc(d, (n->nfields ? n->nfields : 1) * sizeof *fields);
        if (!fields) return OVER_BUDGET;
        out->u.record.fields = fields;
        out->u.record.count = n->nfields;
        const uint8_t *proj = project ? avro_priv(n)->field_proj : NULL;
        for (size_t i = 0; i < n->nfields; i++) {
            const firn_avro_node *ft = n->fields[i].type;
            if (proj && !(proj[i] & (AVRO_PROJ_SELECTED | AVRO_PROJ_LEADS))) {
                fields[i].type = FIRN_AVRO_ABSENT;
                fields[i].branch = 0;
                rc = skip_value(d, ft, depth + 1);
            } else {
                rc = dec_value(d, ft, &fields[i], depth + 1,
                               proj && !(proj[i] & AVRO_PROJ_SELECTED));
            }
            if (rc) return rc;
        }
        return 0;
    }
    case FIRN_AVRO_ARRAY:
    case FIRN_AVRO_MAP: return dec_blocks(d, n, out, depth, project);
    case FIRN_AVRO_UNION: {
        int64_t b;
        if ((rc = read_long(d, &b))) return rc;
        if (b < 0 || (uint64_t)b >= n->nbranches)
            return dec_error(d, FIRN_ERR_CORRUPT, "union branch %lld out of range (%zu branches)",
                             (long long)b, n->nbranches);
        rc = dec_value(d, n->branches[b], out, depth + 1, project);
        out->branch = (uint32_t)b;
        return rc;
    }
    default:
        return dec_error(d, FIRN_ERR_INTERNAL, "cannot decode a %s", firn_avro_type_name(n->type));
    }
}

int firn_avro_decode(avro_decoder *d, const firn_avro_node *node, firn_avro_value *out) {
    return dec_value(d, node, out, 0, d->project);
}

int firn_avro_decode_value(const void *data, size_t len, const firn_avro_node *schema,
                           firn_arena *arena, firn_avro_value *out, size_t *consumed,
                           firn_error *err) {
    firn_avro_limits lim;
    firn_avro_limits_default(&lim);
    avro_decoder d = {.p = data, .end = (const uint8_t *)data + len, .arena = arena,
                      .mem_limit = lim.max_record_memory, .max_depth = lim.max_depth,
                      .err = err};
    int rc = firn_avro_decode(&d, schema, out);
    if (rc == 0 && consumed) *consumed = (size_t)(d.p - (const uint8_t *)data);
    return rc;
}
