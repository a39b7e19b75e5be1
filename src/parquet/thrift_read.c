/*
 * thrift_read.c - Thrift compact protocol decoder for Parquet's FileMetaData
 * and PageHeader (parquet.thrift), and everything nested in them.
 *
 * Every read is bounds-checked against the input. Fields this decoder does not
 * know (newer parquet-format versions keep adding them: SizeStatistics,
 * GeospatialStatistics, encoding_stats, bloom filter offsets, page indexes,
 * encryption) are skipped generically, whatever their type, down to a nesting
 * depth limit. A field whose id is known but whose wire type is not the
 * expected one is skipped too (as Apache Thrift does). List sizes are checked
 * against the bytes left before anything is allocated: every element takes at
 * least one byte on the wire.
 *
 * Strings and binaries point into the input; arrays live in the arena.
 */
#include "parquet/parquet_internal.h"

#include <stdio.h>
#include <string.h>

/* Compact protocol wire types. */
enum {
    CT_STOP = 0,
    CT_BOOL_TRUE = 1,
    CT_BOOL_FALSE = 2,
    CT_BYTE = 3,
    CT_I16 = 4,
    CT_I32 = 5,
    CT_I64 = 6,
    CT_DOUBLE = 7,
    CT_BINARY = 8,
    CT_LIST = 9,
    CT_SET = 10,
    CT_MAP = 11,
    CT_STRUCT = 12,
    CT_UUID = 13,
};

/* Deeper than any Parquet structure (FileMetaData > RowGroup > ColumnChunk >
 * ColumnMetaData > Statistics is 5); generous for unknown nested fields. */
#define MAX_DEPTH 48

typedef struct tcur {
    const uint8_t *base, *p, *end;
    firn_arena *arena;
    firn_error *err;
    const char *what; /* top-level structure, for messages */
    int depth;
    bool failed;
} tcur;

static int fail(tcur *c, const char *msg, const char *detail) {
    if (!c->failed) {
        c->failed = true;
        FIRN_RAISE(c->err, FIRN_ERR_CORRUPT, "bad Thrift %s at byte %zu: %s%s%s", c->what,
                   (size_t)(c->p - c->base), msg, detail ? " " : "", detail ? detail : "");
    }
    return -1;
}

static int rd_varint(tcur *c, uint64_t *v) {
    size_t n = firn_varint_decode(c->p, c->end, v);
    if (n == 0) return fail(c, c->p >= c->end ? "input ends inside a varint" : "varint too long", NULL);
    c->p += n;
    return 0;
}

static int rd_i64(tcur *c, int64_t *v) {
    uint64_t u;
    if (rd_varint(c, &u)) return -1;
    *v = firn_unzigzag64(u);
    return 0;
}

static int rd_i32(tcur *c, int32_t *v) {
    int64_t x;
    if (rd_i64(c, &x)) return -1;
    if (x < INT32_MIN || x > INT32_MAX) return fail(c, "i32 value out of range", NULL);
    *v = (int32_t)x;
    return 0;
}

static int rd_i16(tcur *c, int16_t *v) {
    int64_t x;
    if (rd_i64(c, &x)) return -1;
    if (x < INT16_MIN || x > INT16_MAX) return fail(c, "i16 value out of range", NULL);
    *v = (int16_t)x;
    return 0;
}

static int rd_byte(tcur *c, uint8_t *v) {
    if (c->p >= c->end) return fail(c, "input ends inside a byte field", NULL);
    *v = *c->p++;
    return 0;
}

static int rd_binary(tcur *c, pq_bytes *b) {
    uint64_t n;
    if (rd_varint(c, &n)) return -1;
    if (n > (uint64_t)(c->end - c->p)) return fail(c, "binary length beyond the end of input", NULL);
    if (n > UINT32_MAX) return fail(c, "binary too long", NULL);
    b->ptr = c->p;
    b->len = (uint32_t)n;
    c->p += n;
    return 0;
}

/* Field header: returns 1 with *type, *id set, 0 at STOP, -1 on error. */
static int rd_field(tcur *c, int16_t *last_id, int *type, int16_t *id) {
    uint8_t b;
    if (rd_byte(c, &b)) return -1;
    if (b == CT_STOP) return 0;
    *type = b & 0x0f;
    int delta = b >> 4;
    if (delta) {
        int nid = *last_id + delta;
        if (nid > INT16_MAX) return fail(c, "field id out of range", NULL);
        *id = (int16_t)nid;
    } else if (rd_i16(c, id)) {
        return -1;
    }
    *last_id = *id;
    return 1;
}

/* List/set header: element count and type. The count is checked against the
 * bytes left (each element takes at least one byte; a double eight). */
static int rd_list(tcur *c, uint32_t *n, int *etype) {
    uint8_t b;
    if (rd_byte(c, &b)) return -1;
    uint64_t size = b >> 4;
    *etype = b & 0x0f;
    if (size == 15 && rd_varint(c, &size)) return -1;
    uint64_t min_elem = *etype == CT_DOUBLE ? 8 : 1;
    if (size > (uint64_t)(c->end - c->p) / min_elem)
        return fail(c, "list size larger than the bytes left", NULL);
    *n = (uint32_t)size;
    return 0;
}

static int skip(tcur *c, int type);

static int skip_struct(tcur *c) {
    if (++c->depth > MAX_DEPTH) return fail(c, "structures nested too deeply", NULL);
    int16_t last = 0, id;
    int type, r;
    while ((r = rd_field(c, &last, &type, &id)) == 1)
        if (skip(c, type)) return -1;
    c->depth--;
    return r;
}

/* Skip one value of any wire type (bool fields carry their value in the type). */
static int skip(tcur *c, int type) {
    uint64_t u;
    pq_bytes b;
    switch (type) {
    case CT_BOOL_TRUE:
    case CT_BOOL_FALSE:
        return 0;
    case CT_BYTE:
        if (c->p >= c->end) return fail(c, "input ends inside a byte field", NULL);
        c->p++;
        return 0;
    case CT_I16:
    case CT_I32:
    case CT_I64:
        return rd_varint(c, &u);
    case CT_DOUBLE:
        if (c->end - c->p < 8) return fail(c, "input ends inside a double", NULL);
        c->p += 8;
        return 0;
    case CT_UUID:
        if (c->end - c->p < 16) return fail(c, "input ends inside a uuid", NULL);
        c->p += 16;
        return 0;
    case CT_BINARY:
        return rd_binary(c, &b);
    case CT_LIST:
    case CT_SET: {
        uint32_t n;
        int et;
        if (rd_list(c, &n, &et)) return -1;
        if (++c->depth > MAX_DEPTH) return fail(c, "structures nested too deeply", NULL);
        for (uint32_t i = 0; i < n; i++) {
            /* booleans inside lists take one byte each */
            if (et == CT_BOOL_TRUE || et == CT_BOOL_FALSE) {
                if (c->p >= c->end) return fail(c, "input ends inside a list", NULL);
                c->p++;
            } else if (skip(c, et)) {
                return -1;
            }
        }
        c->depth--;
        return 0;
    }
    case CT_MAP: {
        uint64_t n;
        if (rd_varint(c, &n)) return -1;
        if (n == 0) return 0;
        uint8_t kv;
        if (rd_byte(c, &kv)) return -1;
        if (n > (uint64_t)(c->end - c->p) / 2) return fail(c, "map size larger than the bytes left", NULL);
        if (++c->depth > MAX_DEPTH) return fail(c, "structures nested too deeply", NULL);
        int kt = kv >> 4, vt = kv & 0x0f;
        for (uint64_t i = 0; i < n; i++) {
            for (int k = 0; k < 2; k++) {
                int t = k ? vt : kt;
                if (t == CT_BOOL_TRUE || t == CT_BOOL_FALSE) {
                    if (c->p >= c->end) return fail(c, "input ends inside a map", NULL);
                    c->p++;
                } else if (skip(c, t)) {
                    return -1;
                }
            }
        }
        c->depth--;
        return 0;
    }
    case CT_STRUCT:
        return skip_struct(c) < 0 ? -1 : 0;
    default: {
        char t[16];
        snprintf(t, sizeof t, "%d", type);
        return fail(c, "unknown wire type", t);
    }
    }
}

/* Bool field value from its wire type; anything else is skipped. */
static int rd_bool_field(tcur *c, int type, bool *v, bool *has) {
    if (type == CT_BOOL_TRUE || type == CT_BOOL_FALSE) {
        *v = type == CT_BOOL_TRUE;
        if (has) *has = true;
        return 0;
    }
    return skip(c, type);
}

#define EXPECT(t) if (type != (t)) { if (skip(c, type)) return -1; break; }
#define ENTER()                                                                     \
    if (++c->depth > MAX_DEPTH) return fail(c, "structures nested too deeply", NULL); \
    int16_t last_ = 0, id;                                                          \
    int type, r_;                                                                   \
    while ((r_ = rd_field(c, &last_, &type, &id)) == 1)
#define LEAVE()            \
    if (r_ < 0) return -1; \
    c->depth--

static int missing(tcur *c, const char *field) { return fail(c, "required field missing:", field); }

/* ------------------------------------------------------------ structures */

static int rd_statistics(tcur *c, pq_statistics *s) {
    memset(s, 0, sizeof *s);
    ENTER() {
        switch (id) {
        case 1: EXPECT(CT_BINARY); if (rd_binary(c, &s->max)) return -1; s->has_max = true; break;
        case 2: EXPECT(CT_BINARY); if (rd_binary(c, &s->min)) return -1; s->has_min = true; break;
        case 3: EXPECT(CT_I64); if (rd_i64(c, &s->null_count)) return -1; s->has_null_count = true; break;
        case 4:
            EXPECT(CT_I64);
            if (rd_i64(c, &s->distinct_count)) return -1;
            s->has_distinct_count = true;
            break;
        case 5:
            EXPECT(CT_BINARY);
            if (rd_binary(c, &s->max_value)) return -1;
            s->has_max_value = true;
            break;
        case 6:
            EXPECT(CT_BINARY);
            if (rd_binary(c, &s->min_value)) return -1;
            s->has_min_value = true;
            break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    return 0;
}

/* TimeUnit union: which member is set. */
static int rd_time_unit(tcur *c, int *unit) {
    *unit = 0;
    ENTER() {
        if (type == CT_STRUCT && id >= 1 && id <= 3) *unit = id;
        if (skip(c, type)) return -1;
    }
    LEAVE();
    return 0;
}

static int rd_time_type(tcur *c, pq_logical_type *lt) {
    bool has_utc = false;
    ENTER() {
        switch (id) {
        case 1: if (rd_bool_field(c, type, &lt->is_adjusted_to_utc, &has_utc)) return -1; break;
        case 2: EXPECT(CT_STRUCT); if (rd_time_unit(c, &lt->unit)) return -1; break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    if (!has_utc) return missing(c, "isAdjustedToUTC");
    if (!lt->unit) return missing(c, "unit");
    return 0;
}

static int rd_decimal_type(tcur *c, pq_logical_type *lt) {
    bool hs = false, hp = false;
    ENTER() {
        switch (id) {
        case 1: EXPECT(CT_I32); if (rd_i32(c, &lt->scale)) return -1; hs = true; break;
        case 2: EXPECT(CT_I32); if (rd_i32(c, &lt->precision)) return -1; hp = true; break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    if (!hs || !hp) return missing(c, "DecimalType scale/precision");
    return 0;
}

static int rd_int_type(tcur *c, pq_logical_type *lt) {
    bool hb = false, hs = false;
    ENTER() {
        switch (id) {
        case 1: {
            EXPECT(CT_BYTE);
            uint8_t b;
            if (rd_byte(c, &b)) return -1;
            lt->bit_width = (int8_t)b;
            hb = true;
            break;
        }
        case 2: if (rd_bool_field(c, type, &lt->is_signed, &hs)) return -1; break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    if (!hb || !hs) return missing(c, "IntType bitWidth/isSigned");
    return 0;
}

static int rd_logical_type(tcur *c, pq_logical_type *lt) {
    memset(lt, 0, sizeof *lt);
    ENTER() {
        if (type != CT_STRUCT) {
            if (skip(c, type)) return -1;
            continue;
        }
        lt->kind = id; /* unknown kinds keep their id: the reader rejects them */
        int rc;
        switch (id) {
        case PQ_LT_DECIMAL: rc = rd_decimal_type(c, lt); break;
        case PQ_LT_TIME:
        case PQ_LT_TIMESTAMP: rc = rd_time_type(c, lt); break;
        case PQ_LT_INTEGER: rc = rd_int_type(c, lt); break;
        default: rc = skip_struct(c) < 0 ? -1 : 0;
        }
        if (rc) return -1;
    }
    LEAVE();
    return 0;
}

static int rd_schema_element(tcur *c, pq_schema_element *e) {
    memset(e, 0, sizeof *e);
    bool has_name = false;
    ENTER() {
        switch (id) {
        case 1: EXPECT(CT_I32); if (rd_i32(c, &e->type)) return -1; e->has_type = true; break;
        case 2:
            EXPECT(CT_I32);
            if (rd_i32(c, &e->type_length)) return -1;
            e->has_type_length = true;
            break;
        case 3:
            EXPECT(CT_I32);
            if (rd_i32(c, &e->repetition_type)) return -1;
            e->has_repetition = true;
            break;
        case 4: EXPECT(CT_BINARY); if (rd_binary(c, &e->name)) return -1; has_name = true; break;
        case 5:
            EXPECT(CT_I32);
            if (rd_i32(c, &e->num_children)) return -1;
            e->has_num_children = true;
            break;
        case 6:
            EXPECT(CT_I32);
            if (rd_i32(c, &e->converted_type)) return -1;
            e->has_converted_type = true;
            break;
        case 7: EXPECT(CT_I32); if (rd_i32(c, &e->scale)) return -1; e->has_scale = true; break;
        case 8: EXPECT(CT_I32); if (rd_i32(c, &e->precision)) return -1; e->has_precision = true; break;
        case 9: EXPECT(CT_I32); if (rd_i32(c, &e->field_id)) return -1; e->has_field_id = true; break;
        case 10: EXPECT(CT_STRUCT); if (rd_logical_type(c, &e->logical_type)) return -1; break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    if (!has_name) return missing(c, "SchemaElement.name");
    return 0;
}

static int rd_key_value(tcur *c, pq_key_value *kv) {
    memset(kv, 0, sizeof *kv);
    bool has_key = false;
    ENTER() {
        switch (id) {
        case 1: EXPECT(CT_BINARY); if (rd_binary(c, &kv->key)) return -1; has_key = true; break;
        case 2: EXPECT(CT_BINARY); if (rd_binary(c, &kv->value)) return -1; kv->has_value = true; break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    if (!has_key) return missing(c, "KeyValue.key");
    return 0;
}

/* A list of structs: header checked, array allocated, elements decoded. */
#define RD_STRUCT_LIST(c, type, arr, n, elem_fn)                                            \
    do {                                                                                    \
        if ((type) != CT_LIST && (type) != CT_SET) {                                        \
            if (skip((c), (type))) return -1;                                               \
            break;                                                                          \
        }                                                                                   \
        uint32_t n_;                                                                        \
        int et_;                                                                            \
        if (rd_list((c), &n_, &et_)) return -1;                                             \
        if (et_ != CT_STRUCT && n_ > 0) return fail((c), "list of structs has elements of another type", NULL); \
        (arr) = n_ ? firn_arena_calloc((c)->arena, (size_t)n_ * sizeof *(arr)) : NULL;      \
        (n) = n_;                                                                           \
        for (uint32_t i_ = 0; i_ < n_; i_++)                                                \
            if (elem_fn((c), &(arr)[i_])) return -1;                                        \
    } while (0)

static int rd_i32_list(tcur *c, int type, int32_t **arr, uint32_t *n) {
    if (type != CT_LIST && type != CT_SET) return skip(c, type);
    uint32_t k;
    int et;
    if (rd_list(c, &k, &et)) return -1;
    if (et != CT_I32 && k > 0) return fail(c, "list of i32 has elements of another type", NULL);
    *arr = k ? firn_arena_alloc(c->arena, (size_t)k * sizeof **arr) : NULL;
    *n = k;
    for (uint32_t i = 0; i < k; i++)
        if (rd_i32(c, &(*arr)[i])) return -1;
    return 0;
}

static int rd_binary_list(tcur *c, int type, pq_bytes **arr, uint32_t *n) {
    if (type != CT_LIST && type != CT_SET) return skip(c, type);
    uint32_t k;
    int et;
    if (rd_list(c, &k, &et)) return -1;
    if (et != CT_BINARY && k > 0) return fail(c, "list of strings has elements of another type", NULL);
    *arr = k ? firn_arena_alloc(c->arena, (size_t)k * sizeof **arr) : NULL;
    *n = k;
    for (uint32_t i = 0; i < k; i++)
        if (rd_binary(c, &(*arr)[i])) return -1;
    return 0;
}

static int rd_column_meta_data(tcur *c, pq_column_meta_data *m) {
    memset(m, 0, sizeof *m);
    bool h_type = false, h_codec = false, h_nv = false, h_tcs = false, h_dpo = false;
    ENTER() {
        switch (id) {
        case 1: EXPECT(CT_I32); if (rd_i32(c, &m->type)) return -1; h_type = true; break;
        case 2: if (rd_i32_list(c, type, &m->encodings, &m->nencodings)) return -1; break;
        case 3: if (rd_binary_list(c, type, &m->path_in_schema, &m->npath)) return -1; break;
        case 4: EXPECT(CT_I32); if (rd_i32(c, &m->codec)) return -1; h_codec = true; break;
        case 5: EXPECT(CT_I64); if (rd_i64(c, &m->num_values)) return -1; h_nv = true; break;
        case 6: EXPECT(CT_I64); if (rd_i64(c, &m->total_uncompressed_size)) return -1; break;
        case 7: EXPECT(CT_I64); if (rd_i64(c, &m->total_compressed_size)) return -1; h_tcs = true; break;
        case 8:
            RD_STRUCT_LIST(c, type, m->key_value_metadata, m->nkey_value_metadata, rd_key_value);
            break;
        case 9: EXPECT(CT_I64); if (rd_i64(c, &m->data_page_offset)) return -1; h_dpo = true; break;
        case 10:
            EXPECT(CT_I64);
            if (rd_i64(c, &m->index_page_offset)) return -1;
            m->has_index_page_offset = true;
            break;
        case 11:
            EXPECT(CT_I64);
            if (rd_i64(c, &m->dictionary_page_offset)) return -1;
            m->has_dictionary_page_offset = true;
            break;
        case 12:
            EXPECT(CT_STRUCT);
            if (rd_statistics(c, &m->statistics)) return -1;
            m->has_statistics = true;
            break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    if (!h_type) return missing(c, "ColumnMetaData.type");
    if (!h_codec) return missing(c, "ColumnMetaData.codec");
    if (!h_nv) return missing(c, "ColumnMetaData.num_values");
    if (!h_tcs) return missing(c, "ColumnMetaData.total_compressed_size");
    if (!h_dpo) return missing(c, "ColumnMetaData.data_page_offset");
    return 0;
}

static int rd_column_chunk(tcur *c, pq_column_chunk *cc) {
    memset(cc, 0, sizeof *cc);
    ENTER() {
        switch (id) {
        case 1:
            EXPECT(CT_BINARY);
            if (rd_binary(c, &cc->file_path)) return -1;
            cc->has_file_path = true;
            break;
        case 2: EXPECT(CT_I64); if (rd_i64(c, &cc->file_offset)) return -1; break;
        case 3:
            EXPECT(CT_STRUCT);
            if (rd_column_meta_data(c, &cc->meta_data)) return -1;
            cc->has_meta_data = true;
            break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    return 0;
}

static int rd_row_group(tcur *c, pq_row_group *rg) {
    memset(rg, 0, sizeof *rg);
    bool h_cols = false, h_rows = false;
    ENTER() {
        switch (id) {
        case 1:
            if (type == CT_LIST) h_cols = true;
            RD_STRUCT_LIST(c, type, rg->columns, rg->ncolumns, rd_column_chunk);
            break;
        case 2: EXPECT(CT_I64); if (rd_i64(c, &rg->total_byte_size)) return -1; break;
        case 3: EXPECT(CT_I64); if (rd_i64(c, &rg->num_rows)) return -1; h_rows = true; break;
        case 5:
            EXPECT(CT_I64);
            if (rd_i64(c, &rg->file_offset)) return -1;
            rg->has_file_offset = true;
            break;
        case 6:
            EXPECT(CT_I64);
            if (rd_i64(c, &rg->total_compressed_size)) return -1;
            rg->has_total_compressed_size = true;
            break;
        case 7: EXPECT(CT_I16); if (rd_i16(c, &rg->ordinal)) return -1; rg->has_ordinal = true; break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    if (!h_cols) return missing(c, "RowGroup.columns");
    if (!h_rows) return missing(c, "RowGroup.num_rows");
    return 0;
}

int pq_decode_file_metadata(const uint8_t *data, size_t len, firn_arena *arena,
                            pq_file_metadata *md, firn_error *err) {
    memset(md, 0, sizeof *md);
    tcur cur = {.base = data, .p = data, .end = data + len, .arena = arena, .err = err,
                .what = "FileMetaData"};
    tcur *c = &cur;
    bool h_schema = false, h_rows = false, h_rgs = false;
    ENTER() {
        switch (id) {
        case 1: EXPECT(CT_I32); if (rd_i32(c, &md->version)) return -1; break;
        case 2:
            if (type == CT_LIST) h_schema = true;
            RD_STRUCT_LIST(c, type, md->schema, md->nschema, rd_schema_element);
            break;
        case 3: EXPECT(CT_I64); if (rd_i64(c, &md->num_rows)) return -1; h_rows = true; break;
        case 4:
            if (type == CT_LIST) h_rgs = true;
            RD_STRUCT_LIST(c, type, md->row_groups, md->nrow_groups, rd_row_group);
            break;
        case 5:
            RD_STRUCT_LIST(c, type, md->key_value_metadata, md->nkey_value_metadata, rd_key_value);
            break;
        case 6:
            EXPECT(CT_BINARY);
            if (rd_binary(c, &md->created_by)) return -1;
            md->has_created_by = true;
            break;
        case 7: {
            if (type != CT_LIST) {
                if (skip(c, type)) return -1;
                break;
            }
            uint32_t n;
            int et;
            if (rd_list(c, &n, &et)) return -1;
            for (uint32_t i = 0; i < n; i++)
                if (skip(c, et)) return -1;
            md->ncolumn_orders = n;
            break;
        }
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    if (!h_schema) return missing(c, "FileMetaData.schema");
    if (!h_rows) return missing(c, "FileMetaData.num_rows");
    if (!h_rgs) return missing(c, "FileMetaData.row_groups");
    return 0;
}

/* ----------------------------------------------------------- page header */

static int rd_data_page_header(tcur *c, pq_data_page_header *h) {
    memset(h, 0, sizeof *h);
    h->definition_level_encoding = PQ_ENC_RLE;
    h->repetition_level_encoding = PQ_ENC_RLE;
    bool h_nv = false, h_enc = false;
    ENTER() {
        switch (id) {
        case 1: EXPECT(CT_I32); if (rd_i32(c, &h->num_values)) return -1; h_nv = true; break;
        case 2: EXPECT(CT_I32); if (rd_i32(c, &h->encoding)) return -1; h_enc = true; break;
        case 3: EXPECT(CT_I32); if (rd_i32(c, &h->definition_level_encoding)) return -1; break;
        case 4: EXPECT(CT_I32); if (rd_i32(c, &h->repetition_level_encoding)) return -1; break;
        case 5:
            EXPECT(CT_STRUCT);
            if (rd_statistics(c, &h->statistics)) return -1;
            h->has_statistics = true;
            break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    if (!h_nv) return missing(c, "DataPageHeader.num_values");
    if (!h_enc) return missing(c, "DataPageHeader.encoding");
    return 0;
}

static int rd_dictionary_page_header(tcur *c, pq_dictionary_page_header *h) {
    memset(h, 0, sizeof *h);
    h->encoding = PQ_ENC_PLAIN;
    bool h_nv = false;
    ENTER() {
        switch (id) {
        case 1: EXPECT(CT_I32); if (rd_i32(c, &h->num_values)) return -1; h_nv = true; break;
        case 2: EXPECT(CT_I32); if (rd_i32(c, &h->encoding)) return -1; break;
        case 3: if (rd_bool_field(c, type, &h->is_sorted, &h->has_is_sorted)) return -1; break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    if (!h_nv) return missing(c, "DictionaryPageHeader.num_values");
    return 0;
}

static int rd_data_page_header_v2(tcur *c, pq_data_page_header_v2 *h) {
    memset(h, 0, sizeof *h);
    h->is_compressed = true;
    unsigned have = 0;
    ENTER() {
        switch (id) {
        case 1: EXPECT(CT_I32); if (rd_i32(c, &h->num_values)) return -1; have |= 1; break;
        case 2: EXPECT(CT_I32); if (rd_i32(c, &h->num_nulls)) return -1; have |= 2; break;
        case 3: EXPECT(CT_I32); if (rd_i32(c, &h->num_rows)) return -1; have |= 4; break;
        case 4: EXPECT(CT_I32); if (rd_i32(c, &h->encoding)) return -1; have |= 8; break;
        case 5:
            EXPECT(CT_I32);
            if (rd_i32(c, &h->definition_levels_byte_length)) return -1;
            have |= 16;
            break;
        case 6:
            EXPECT(CT_I32);
            if (rd_i32(c, &h->repetition_levels_byte_length)) return -1;
            have |= 32;
            break;
        case 7: if (rd_bool_field(c, type, &h->is_compressed, NULL)) return -1; break;
        case 8:
            EXPECT(CT_STRUCT);
            if (rd_statistics(c, &h->statistics)) return -1;
            h->has_statistics = true;
            break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    if (have != 63)
        return missing(c, "DataPageHeaderV2 num_values/num_nulls/num_rows/encoding/levels lengths");
    return 0;
}

int pq_decode_page_header(const uint8_t *data, size_t len, pq_page_header *ph, size_t *consumed,
                          firn_error *err) {
    memset(ph, 0, sizeof *ph);
    tcur cur = {.base = data, .p = data, .end = data + len, .err = err, .what = "PageHeader"};
    tcur *c = &cur;
    bool h_type = false, h_u = false, h_c = false;
    ENTER() {
        switch (id) {
        case 1: EXPECT(CT_I32); if (rd_i32(c, &ph->type)) return -1; h_type = true; break;
        case 2: EXPECT(CT_I32); if (rd_i32(c, &ph->uncompressed_page_size)) return -1; h_u = true; break;
        case 3: EXPECT(CT_I32); if (rd_i32(c, &ph->compressed_page_size)) return -1; h_c = true; break;
        case 4: EXPECT(CT_I32); if (rd_i32(c, &ph->crc)) return -1; ph->has_crc = true; break;
        case 5:
            EXPECT(CT_STRUCT);
            if (rd_data_page_header(c, &ph->data_page_header)) return -1;
            ph->has_data_page_header = true;
            break;
        case 7:
            EXPECT(CT_STRUCT);
            if (rd_dictionary_page_header(c, &ph->dictionary_page_header)) return -1;
            ph->has_dictionary_page_header = true;
            break;
        case 8:
            EXPECT(CT_STRUCT);
            if (rd_data_page_header_v2(c, &ph->data_page_header_v2)) return -1;
            ph->has_data_page_header_v2 = true;
            break;
        default: if (skip(c, type)) return -1;
        }
    }
    LEAVE();
    if (!h_type) return missing(c, "PageHeader.type");
    if (!h_u) return missing(c, "PageHeader.uncompressed_page_size");
    if (!h_c) return missing(c, "PageHeader.compressed_page_size");
    if (consumed) *consumed = (size_t)(c->p - c->base);
    return 0;
}
