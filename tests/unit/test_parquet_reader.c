/* test_parquet_reader.c - the Parquet reader: Thrift compact decoding
 * (hand-made bytes with unknown fields of every wire type, truncations,
 * depth and size bombs), the encodings (vectors from Encodings.md, round
 * trips against the writer's RLE encoder and a reference delta encoder),
 * synthetic files built page by page (every conversion, every corruption the
 * reader must name), the files in tests/data/parquet (values, v1 == v2,
 * row-group skipping that never skips a matching row group), round trips
 * through firn's writer, and corrupt input of every kind: truncation at each
 * offset, a flipped byte at each offset, every footer length, chopped data. */
#include "parquet/decode_internal.h"
#include "parquet/write_internal.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>

/* ------------------------------------------------------------ helpers */

static uint8_t *load_data(const char *name, size_t *len) {
    char path[256];
    snprintf(path, sizeof path, "tests/data/parquet/%s", name);
    uint8_t *d = NULL;
    firn_error err;
    firn_error_init(&err);
    if (firn_read_file(path, &d, len, &err) != 0) {
        firn_error_release(&err);
        return NULL;
    }
    return d;
}

static const char *const data_files[] = {"duckdb_v1_snappy.parquet", "duckdb_v2_zstd.parquet",
                                         "arrowrs_v1_dict.parquet", "arrowrs_v2_delta.parquet"};
#define NDATA (sizeof data_files / sizeof data_files[0])

static bool has(const char *hay, const char *needle) { return hay && strstr(hay, needle) != NULL; }

/* A tiny compact-protocol writer for hand-made vectors. */
typedef struct tb {
    firn_buf b;
    int16_t last[32];
    int depth;
} tb;

static void tb_byte(tb *t, uint8_t v) { firn_buf_put_u8(&t->b, v); }
static void tb_field(tb *t, int16_t id, int type) {
    int d = id - t->last[t->depth];
    if (d > 0 && d <= 15) {
        tb_byte(t, (uint8_t)(d << 4 | type));
    } else {
        tb_byte(t, (uint8_t)type);
        firn_buf_put_varint(&t->b, firn_zigzag64(id));
    }
    t->last[t->depth] = id;
}
static void tb_i32(tb *t, int16_t id, int64_t v) {
    tb_field(t, id, 5);
    firn_buf_put_varint(&t->b, firn_zigzag64(v));
}
static void tb_i64(tb *t, int16_t id, int64_t v) {
    tb_field(t, id, 6);
    firn_buf_put_varint(&t->b, firn_zigzag64(v));
}
static void tb_bin(tb *t, int16_t id, const char *s) {
    tb_field(t, id, 8);
    firn_buf_put_varint(&t->b, strlen(s));
    firn_buf_append_str(&t->b, s);
}
static void tb_struct(tb *t, int16_t id) {
    tb_field(t, id, 12);
    t->last[++t->depth] = 0;
}
static void tb_end(tb *t) {
    tb_byte(t, 0);
    t->depth--;
}
static void tb_list(tb *t, int16_t id, uint32_t n, int et) {
    tb_field(t, id, 9);
    if (n < 15) {
        tb_byte(t, (uint8_t)(n << 4 | et));
    } else {
        tb_byte(t, (uint8_t)(0xf0 | et));
        firn_buf_put_varint(&t->b, n);
    }
}
static void tb_elem_begin(tb *t) { t->last[++t->depth] = 0; }

/* ---------------------------------------------------- Thrift: vectors */

/* FileMetaData assembled byte by byte from the compact protocol spec: one
 * INT64 column "a" (OPTIONAL, field id 7, TIMESTAMP(utc, MICROS)), one row
 * group, and unknown fields of every wire type at three levels. */
static const uint8_t handmade_md[] = {
    0x15, 0x02,                   /* 1: version i32 = 1 */
    0x19, 0x2C,                   /* 2: schema list<struct>, 2 elements */
    0x48, 0x01, 'r',              /*   root: 4: name "r" */
    0x15, 0x02,                   /*         5: num_children = 1 */
    0x00,
    0x15, 0x04,                   /*   leaf: 1: type = INT64 */
    0x25, 0x02,                   /*         3: repetition = OPTIONAL */
    0x18, 0x01, 'a',              /*         4: name "a" */
    0x55, 0x0E,                   /*         9: field_id = 7 */
    0x1C,                         /*         10: LogicalType { */
    0x8C,                         /*           8: TIMESTAMP { */
    0x11,                         /*             1: isAdjustedToUTC = true */
    0x1C, 0x2C, 0x00, 0x00,       /*             2: unit { 2: MICROS {} } */
    0x00, 0x00,                   /*           } } */
    0x00,
    0x16, 0x06,                   /* 3: num_rows i64 = 3 */
    0x19, 0x1C,                   /* 4: row_groups list<struct>, 1 element */
    0x19, 0x1C,                   /*   1: columns list<struct>, 1 element */
    0x26, 0x08,                   /*     2: file_offset = 4 */
    0x1C,                         /*     3: ColumnMetaData { */
    0x15, 0x04,                   /*       1: type INT64 */
    0x19, 0x25, 0x00, 0x06,       /*       2: encodings list<i32> [PLAIN, RLE] */
    0x19, 0x18, 0x01, 'a',        /*       3: path ["a"] */
    0x15, 0x0C,                   /*       4: codec ZSTD */
    0x16, 0x06,                   /*       5: num_values 3 */
    0x16, 0x30,                   /*       6: total_uncompressed 24 */
    0x16, 0x30,                   /*       7: total_compressed 24 */
    0x26, 0x08,                   /*       9: data_page_offset 4 */
    0x3C,                         /*       12: Statistics { */
    0x36, 0x00,                   /*         3: null_count 0 */
    0x28, 0x08, 30, 0, 0, 0, 0, 0, 0, 0, /* 5: max_value 30 */
    0x18, 0x08, 10, 0, 0, 0, 0, 0, 0, 0, /* 6: min_value 10 */
    0x16, 0x01,                   /*         7: is_max_value_exact = true */
    0x00,                         /*       } */
    0x4C,                         /*       16: SizeStatistics (unknown here) { */
    0x16, 0x02,                   /*         1: i64 1 */
    0x29, 0x36, 0x02, 0x04, 0x06, /*         3: list<i64> [1, 2, 3] */
    0x00,                         /*       } */
    0x15, 0x02,                   /*       17: unknown i32 */
    0x00,                         /*     } */
    0x00,                         /*   end ColumnChunk */
    0x16, 0x30,                   /*   2: total_byte_size 24 */
    0x16, 0x06,                   /*   3: num_rows 3 */
    0x00,                         /*   end RowGroup */
    0x28, 0x04, 't', 'e', 's', 't', /* 6: created_by "test" */
    0x19, 0x1C, 0x1C, 0x00, 0x00, /* 7: column_orders [ { 1: TYPE_ORDER {} } ] */
    0x0C, 0x90, 0x03,             /* 200 (long form, zigzag 400): struct { */
    0x17, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, /* 1: double 1.0 */
    0x1B, 0x02, 0x58, 0x02, 0x01, 'x', 0x04, 0x01, 'y', /* 2: map<i32,binary> {1:x, 2:y} */
    0x19, 0x21, 0x01, 0x02,       /*   3: list<bool> [true, false] */
    0x1A, 0x14, 0x02,             /*   4: set<i16> {1} */
    0x1D, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, /* 5: uuid */
    0x11,                         /*   6: bool true */
    0x1C, 0x1C, 0x13, 0x05, 0x00, 0x00, /* 7: struct { 1: struct { 1: byte 5 } } */
    0x1B, 0x00,                   /*   8: empty map */
    0x00,                         /* } */
    0x00,                         /* end FileMetaData */
};

FIRN_TEST(parquet_reader_thrift_handmade_vector) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    pq_file_metadata md;
    CHECK_OK(pq_decode_file_metadata(handmade_md, sizeof handmade_md, &a, &md, &err), &err);
    CHECK_EQ_INT(md.version, 1);
    CHECK_EQ_INT(md.nschema, 2);
    CHECK(md.schema[0].name.len == 1 && md.schema[0].name.ptr[0] == 'r');
    CHECK(md.schema[0].has_num_children && md.schema[0].num_children == 1);
    const pq_schema_element *e = &md.schema[1];
    CHECK(e->has_type && e->type == PQ_INT64);
    CHECK(e->has_repetition && e->repetition_type == PQ_OPTIONAL);
    CHECK(e->has_field_id && e->field_id == 7);
    CHECK_EQ_INT(e->logical_type.kind, PQ_LT_TIMESTAMP);
    CHECK(e->logical_type.is_adjusted_to_utc);
    CHECK_EQ_INT(e->logical_type.unit, PQ_UNIT_MICROS);
    CHECK_EQ_INT(md.num_rows, 3);
    CHECK_EQ_INT(md.nrow_groups, 1);
    const pq_row_group *rg = &md.row_groups[0];
    CHECK_EQ_INT(rg->num_rows, 3);
    CHECK_EQ_INT(rg->total_byte_size, 24);
    CHECK_EQ_INT(rg->ncolumns, 1);
    const pq_column_meta_data *m = &rg->columns[0].meta_data;
    CHECK(rg->columns[0].has_meta_data);
    CHECK_EQ_INT(rg->columns[0].file_offset, 4);
    CHECK_EQ_INT(m->type, PQ_INT64);
    CHECK_EQ_INT(m->nencodings, 2);
    CHECK(m->encodings[0] == PQ_ENC_PLAIN && m->encodings[1] == PQ_ENC_RLE);
    CHECK(m->npath == 1 && m->path_in_schema[0].len == 1);
    CHECK_EQ_INT(m->codec, FIRN_PQ_ZSTD);
    CHECK_EQ_INT(m->num_values, 3);
    CHECK_EQ_INT(m->total_compressed_size, 24);
    CHECK_EQ_INT(m->data_page_offset, 4);
    CHECK(m->has_statistics && m->statistics.has_null_count && m->statistics.null_count == 0);
    CHECK(m->statistics.has_max_value && m->statistics.max_value.len == 8);
    CHECK_EQ_INT(firn_load_le64(m->statistics.max_value.ptr), 30);
    CHECK_EQ_INT(firn_load_le64(m->statistics.min_value.ptr), 10);
    CHECK(!m->statistics.has_min && !m->statistics.has_max);
    CHECK(md.has_created_by && md.created_by.len == 4 && memcmp(md.created_by.ptr, "test", 4) == 0);
    CHECK_EQ_INT(md.ncolumn_orders, 1);

    /* every proper prefix is an error, never a crash */
    for (size_t n = 0; n < sizeof handmade_md; n++) {
        firn_arena_reset(&a);
        int rc = pq_decode_file_metadata(handmade_md, n, &a, &md, &err);
        CHECK_MSG(rc != 0, "prefix of %zu bytes decoded", n);
        CHECK_EQ_INT(err.kind, FIRN_ERR_CORRUPT);
    }
    firn_error_release(&err);
    firn_arena_release(&a);
}

static int decode_md(const firn_buf *b, firn_error *err) {
    firn_arena a;
    firn_arena_init(&a, 0);
    pq_file_metadata md;
    int rc = pq_decode_file_metadata(b->data, b->len, &a, &md, err);
    firn_arena_release(&a);
    return rc;
}

FIRN_TEST(parquet_reader_thrift_bombs_and_errors) {
    firn_error err;
    firn_error_init(&err);
    tb t = {0};
    /* structures nested 200 deep inside an unknown field */
    tb_i32(&t, 1, 1);
    for (int i = 0; i < 200; i++) tb_byte(&t, 0x1C);
    for (int i = 0; i < 201; i++) tb_byte(&t, 0x00);
    CHECK(decode_md(&t.b, &err) != 0);
    CHECK(has(err.message, "nested too deeply"));
    /* lists inside lists */
    firn_buf_clear(&t.b);
    tb_byte(&t, 0x99); /* field 9: list */
    for (int i = 0; i < 100; i++) tb_byte(&t, 0x19); /* list of 1 list */
    CHECK(decode_md(&t.b, &err) != 0);
    CHECK(has(err.message, "nested too deeply") || has(err.message, "list size"));
    /* a list claiming 2^31 schema elements in a few bytes */
    firn_buf_clear(&t.b);
    t.depth = 0;
    t.last[0] = 0;
    tb_field(&t, 2, 9);
    tb_byte(&t, 0xFC);
    firn_buf_put_varint(&t.b, 0x7fffffff);
    tb_byte(&t, 0);
    CHECK(decode_md(&t.b, &err) != 0);
    CHECK(has(err.message, "list size larger than the bytes left"));
    /* a list of doubles: 8 bytes each */
    firn_buf_clear(&t.b);
    t.last[0] = 0;
    tb_field(&t, 50, 9);
    tb_byte(&t, 0x57); /* 5 doubles */
    firn_buf_append(&t.b, "0123456789012345678901234567890123456789", 39);
    CHECK(decode_md(&t.b, &err) != 0);
    CHECK(has(err.message, "list size"));
    /* a map claiming more entries than bytes */
    firn_buf_clear(&t.b);
    t.last[0] = 0;
    tb_field(&t, 50, 11);
    firn_buf_put_varint(&t.b, 1000000);
    tb_byte(&t, 0x55);
    CHECK(decode_md(&t.b, &err) != 0);
    CHECK(has(err.message, "map size"));
    /* unknown wire type 14 */
    static const uint8_t bad_type[] = {0x15, 0x02, 0x1E, 0x00};
    firn_buf_clear(&t.b);
    firn_buf_append(&t.b, bad_type, sizeof bad_type);
    CHECK(decode_md(&t.b, &err) != 0);
    CHECK(has(err.message, "unknown wire type 14"));
    /* i32 beyond 32 bits */
    firn_buf_clear(&t.b);
    t.last[0] = 0;
    tb_i32(&t, 1, INT64_C(1) << 33);
    tb_byte(&t, 0);
    CHECK(decode_md(&t.b, &err) != 0);
    CHECK(has(err.message, "i32 value out of range"));
    /* an 11-byte varint */
    static const uint8_t long_varint[] = {0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0x01, 0x00};
    firn_buf_clear(&t.b);
    firn_buf_append(&t.b, long_varint, sizeof long_varint);
    CHECK(decode_md(&t.b, &err) != 0);
    CHECK(has(err.message, "varint too long"));
    /* binary longer than the input */
    static const uint8_t long_bin[] = {0x68, 100, 'a', 'b', 'c'};
    firn_buf_clear(&t.b);
    firn_buf_append(&t.b, long_bin, sizeof long_bin);
    CHECK(decode_md(&t.b, &err) != 0);
    CHECK(has(err.message, "binary length beyond the end"));
    /* required fields missing */
    firn_buf_clear(&t.b);
    t.last[0] = 0;
    tb_i32(&t, 1, 1);
    tb_byte(&t, 0);
    CHECK(decode_md(&t.b, &err) != 0);
    CHECK(has(err.message, "required field missing: FileMetaData.schema"));
    CHECK_EQ_INT(err.kind, FIRN_ERR_CORRUPT);
    /* known field with an unexpected wire type is skipped like an unknown one */
    firn_buf_clear(&t.b);
    t.last[0] = 0;
    tb_bin(&t, 1, "not an i32");
    tb_list(&t, 2, 1, 12);
    tb_elem_begin(&t);
    tb_bin(&t, 4, "root");
    tb_end(&t);
    tb_i64(&t, 3, 0);
    tb_list(&t, 4, 0, 12);
    tb_byte(&t, 0);
    firn_arena a;
    firn_arena_init(&a, 0);
    pq_file_metadata md;
    CHECK_OK(pq_decode_file_metadata(t.b.data, t.b.len, &a, &md, &err), &err);
    CHECK_EQ_INT(md.version, 0);
    CHECK_EQ_INT(md.nschema, 1);
    /* page header: trailing page data is not consumed, unknown fields skipped */
    firn_buf_clear(&t.b);
    t.depth = 0;
    t.last[0] = 0;
    tb_i32(&t, 1, PQ_PAGE_DATA);
    tb_i32(&t, 2, 10);
    tb_i32(&t, 3, 10);
    tb_struct(&t, 5);
    tb_i32(&t, 1, 4);
    tb_i32(&t, 2, PQ_ENC_PLAIN);
    tb_struct(&t, 5); /* statistics */
    tb_i64(&t, 3, 1);
    tb_i64(&t, 9, 0); /* nan_count: skipped here */
    tb_end(&t);
    tb_end(&t);
    tb_struct(&t, 6); /* IndexPageHeader {} */
    tb_end(&t);
    tb_i32(&t, 99, 5); /* from the future */
    tb_byte(&t, 0);
    size_t hlen = t.b.len;
    firn_buf_append(&t.b, "0123456789", 10);
    pq_page_header ph;
    size_t used;
    CHECK_OK(pq_decode_page_header(t.b.data, t.b.len, &ph, &used, &err), &err);
    CHECK_EQ_INT(used, hlen);
    CHECK(ph.has_data_page_header && ph.data_page_header.num_values == 4);
    CHECK_EQ_INT(ph.data_page_header.definition_level_encoding, PQ_ENC_RLE); /* default */
    CHECK(ph.data_page_header.has_statistics && ph.data_page_header.statistics.null_count == 1);
    for (size_t n = 0; n < hlen; n++) CHECK(pq_decode_page_header(t.b.data, n, &ph, &used, &err) != 0);
    firn_arena_release(&a);
    firn_buf_release(&t.b);
    firn_error_release(&err);
}

/* The writer's encoder and this decoder agree on every field both know. */
FIRN_TEST(parquet_reader_thrift_roundtrip_with_writer) {
    pq_schema_element el[3];
    memset(el, 0, sizeof el);
    el[0].name = (pq_bytes){(const uint8_t *)"schema", 6};
    el[0].has_num_children = true;
    el[0].num_children = 2;
    el[1] = (pq_schema_element){.has_type = true, .type = PQ_FIXED_LEN_BYTE_ARRAY, .has_type_length = true,
                                .type_length = 16, .has_repetition = true, .repetition_type = PQ_OPTIONAL,
                                .name = {(const uint8_t *)"d", 1}, .has_converted_type = true,
                                .converted_type = PQ_CT_DECIMAL, .has_scale = true, .scale = 10,
                                .has_precision = true, .precision = 38, .has_field_id = true, .field_id = 12,
                                .logical_type = {.kind = PQ_LT_DECIMAL, .scale = 10, .precision = 38}};
    el[2] = (pq_schema_element){.has_type = true, .type = PQ_INT32, .has_repetition = true,
                                .repetition_type = PQ_REQUIRED, .name = {(const uint8_t *)"u", 1},
                                .logical_type = {.kind = PQ_LT_INTEGER, .bit_width = 16, .is_signed = false}};
    int32_t encs[] = {PQ_ENC_PLAIN, PQ_ENC_RLE_DICTIONARY, PQ_ENC_RLE};
    pq_bytes path[] = {{(const uint8_t *)"d", 1}};
    pq_column_chunk cc[2];
    memset(cc, 0, sizeof cc);
    for (int i = 0; i < 2; i++) {
        cc[i].has_meta_data = true;
        pq_column_meta_data *m = &cc[i].meta_data;
        m->type = i ? PQ_INT32 : PQ_FIXED_LEN_BYTE_ARRAY;
        m->encodings = encs;
        m->nencodings = 3;
        m->path_in_schema = path;
        m->npath = 1;
        m->codec = FIRN_PQ_SNAPPY;
        m->num_values = 1000 + i;
        m->total_uncompressed_size = 123456789012LL;
        m->total_compressed_size = 1234;
        m->data_page_offset = 4 + i;
        m->has_dictionary_page_offset = true;
        m->dictionary_page_offset = 3;
        m->has_statistics = true;
        m->statistics.has_null_count = true;
        m->statistics.null_count = 17;
        m->statistics.has_min_value = m->statistics.has_max_value = true;
        m->statistics.min_value = (pq_bytes){(const uint8_t *)"\x80\x01", 2};
        m->statistics.max_value = (pq_bytes){(const uint8_t *)"\x7f", 1};
        m->statistics.has_nan_count = true; /* field 9: the reader skips it */
    }
    pq_row_group rg = {.columns = cc, .ncolumns = 2, .total_byte_size = 99, .num_rows = 1000,
                       .has_file_offset = true, .file_offset = 4, .has_ordinal = true, .ordinal = 3};
    pq_key_value kv[] = {{.key = {(const uint8_t *)"k", 1}, .has_value = true, .value = {(const uint8_t *)"v", 1}},
                         {.key = {(const uint8_t *)"only", 4}}};
    pq_file_metadata md = {.version = 2, .schema = el, .nschema = 3, .num_rows = 1000, .row_groups = &rg,
                           .nrow_groups = 1, .key_value_metadata = kv, .nkey_value_metadata = 2,
                           .has_created_by = true, .created_by = {(const uint8_t *)"me", 2},
                           .ncolumn_orders = 2};
    firn_buf b = {0};
    pq_encode_file_metadata(&b, &md);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    pq_file_metadata o;
    CHECK_OK(pq_decode_file_metadata(b.data, b.len, &a, &o, &err), &err);
    CHECK_EQ_INT(o.version, 2);
    CHECK_EQ_INT(o.nschema, 3);
    CHECK(o.schema[1].type_length == 16 && o.schema[1].field_id == 12 && o.schema[1].precision == 38);
    CHECK(o.schema[1].logical_type.kind == PQ_LT_DECIMAL && o.schema[1].logical_type.scale == 10);
    CHECK(o.schema[2].logical_type.kind == PQ_LT_INTEGER && o.schema[2].logical_type.bit_width == 16 &&
          !o.schema[2].logical_type.is_signed);
    CHECK_EQ_INT(o.nrow_groups, 1);
    CHECK(o.row_groups[0].has_ordinal && o.row_groups[0].ordinal == 3);
    CHECK(o.row_groups[0].has_file_offset && o.row_groups[0].file_offset == 4);
    const pq_column_meta_data *m = &o.row_groups[0].columns[1].meta_data;
    CHECK_EQ_INT(m->num_values, 1001);
    CHECK_EQ_INT(m->total_uncompressed_size, 123456789012LL);
    CHECK(m->has_dictionary_page_offset && m->dictionary_page_offset == 3);
    CHECK(m->nencodings == 3 && m->encodings[1] == PQ_ENC_RLE_DICTIONARY);
    CHECK(m->statistics.null_count == 17 && m->statistics.min_value.len == 2);
    CHECK(o.nkey_value_metadata == 2 && o.key_value_metadata[0].has_value && !o.key_value_metadata[1].has_value);
    CHECK_EQ_INT(o.ncolumn_orders, 2);
    firn_buf_release(&b);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* ------------------------------------------------ encodings: vectors */

FIRN_TEST(parquet_reader_rle_spec_vectors) {
    firn_error err;
    firn_error_init(&err);
    uint32_t out[128];
    pq_rle d;
    /* Encodings.md: 0..7 bit-packed with width 3, one group of 8 */
    static const uint8_t packed[] = {0x03, 0x88, 0xC6, 0xFA};
    pq_rle_init(&d, packed, sizeof packed, 3);
    CHECK_OK(pq_rle_get_u32(&d, out, 8, &err), &err);
    for (uint32_t i = 0; i < 8; i++) CHECK_EQ_INT(out[i], i);
    CHECK(pq_rle_get_u32(&d, out, 1, &err) != 0); /* nothing more */
    /* an RLE run: 100 times 5 (header varint(200)) */
    static const uint8_t run[] = {0xC8, 0x01, 0x05};
    pq_rle_init(&d, run, sizeof run, 3);
    CHECK_OK(pq_rle_get_u32(&d, out, 100, &err), &err);
    for (int i = 0; i < 100; i++) CHECK_EQ_INT(out[i], 5);
    /* same through the u8 path, in uneven pieces */
    uint8_t o8[128];
    pq_rle_init(&d, packed, sizeof packed, 3);
    CHECK_OK(pq_rle_get_u8(&d, o8, 3, 7, &err), &err);
    CHECK_OK(pq_rle_get_u8(&d, o8 + 3, 5, 7, &err), &err);
    for (int i = 0; i < 8; i++) CHECK_EQ_INT(o8[i], i);
    pq_rle_init(&d, packed, sizeof packed, 3);
    CHECK(pq_rle_get_u8(&d, o8, 8, 6, &err) != 0); /* 7 is above the maximum 6 */
    CHECK(has(err.message, "above its maximum"));
    /* deprecated BIT_PACKED, most significant bit first: 0..7 in 3 bytes */
    static const uint8_t bp[] = {0x05, 0x39, 0x77};
    size_t used;
    CHECK_OK(pq_bitpacked_levels_u8(bp, sizeof bp, 3, o8, 8, 7, &used, &err), &err);
    CHECK_EQ_INT(used, 3);
    for (int i = 0; i < 8; i++) CHECK_EQ_INT(o8[i], i);
    CHECK(pq_bitpacked_levels_u8(bp, 2, 3, o8, 8, 7, &used, &err) != 0);
    /* width 1 levels: unaligned reads across groups */
    static const uint8_t lv[] = {0x05, 0xA5, 0x0F}; /* 2 groups: 10100101 00001111 */
    pq_rle_init(&d, lv, sizeof lv, 1);
    static const uint8_t want[16] = {1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0};
    for (size_t k = 0; k < 16; k += 3) {
        size_t n = 16 - k < 3 ? 16 - k : 3;
        CHECK_OK(pq_rle_get_u8(&d, o8 + k, n, 1, &err), &err);
    }
    CHECK_MEM(o8, want, 16);
    /* width 0: every value is 0, no value bytes */
    static const uint8_t zero[] = {0x08, 0x03};
    pq_rle_init(&d, zero, sizeof zero, 0);
    CHECK_OK(pq_rle_get_u32(&d, out, 12, &err), &err);
    for (int i = 0; i < 12; i++) CHECK_EQ_INT(out[i], 0);
    /* width 32 RLE value */
    static const uint8_t w32[] = {0x04, 0xff, 0xff, 0xff, 0xff};
    pq_rle_init(&d, w32, sizeof w32, 32);
    CHECK_OK(pq_rle_get_u32(&d, out, 2, &err), &err);
    CHECK(out[0] == UINT32_MAX && out[1] == UINT32_MAX);
    /* errors: empty run, truncated header, truncated value, run above 2^31-1 */
    static const uint8_t empty_run[] = {0x00, 0x01};
    pq_rle_init(&d, empty_run, sizeof empty_run, 1);
    CHECK(pq_rle_get_u32(&d, out, 1, &err) != 0 && has(err.message, "length 0"));
    static const uint8_t trunc_hdr[] = {0x80};
    pq_rle_init(&d, trunc_hdr, sizeof trunc_hdr, 1);
    CHECK(pq_rle_get_u32(&d, out, 1, &err) != 0 && has(err.message, "truncated"));
    static const uint8_t trunc_val[] = {0x02, 0x01};
    pq_rle_init(&d, trunc_val, sizeof trunc_val, 16);
    CHECK(pq_rle_get_u32(&d, out, 1, &err) != 0 && has(err.message, "truncated"));
    static const uint8_t huge[] = {0xfe, 0xff, 0xff, 0xff, 0x1f, 0x01};
    pq_rle_init(&d, huge, sizeof huge, 1);
    CHECK(pq_rle_get_u32(&d, out, 1, &err) != 0 && has(err.message, "2^31"));
    /* a bit-packed run whose last group is cut short keeps the whole values */
    static const uint8_t cut[] = {0x03, 0x88, 0xC6};
    pq_rle_init(&d, cut, sizeof cut, 3);
    CHECK_OK(pq_rle_get_u32(&d, out, 5, &err), &err);
    for (uint32_t i = 0; i < 5; i++) CHECK_EQ_INT(out[i], i);
    CHECK(pq_rle_get_u32(&d, out, 1, &err) != 0);
    firn_error_release(&err);
}

static uint64_t rnd_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* Bits [bit, bit + w) of p, LSB first, one at a time. */
static uint64_t naive_bits(const uint8_t *p, uint64_t bit, int w) {
    uint64_t v = 0;
    for (int k = 0; k < w; k++, bit++) v |= (uint64_t)((p[bit >> 3] >> (bit & 7)) & 1) << k;
    return v;
}

FIRN_TEST(parquet_reader_unpack_every_width) {
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)rnd();
    uint32_t o32[100];
    uint64_t o64[100];
    for (int w = 0; w <= 64; w++) {
        for (uint64_t first = 0; first < 40; first += 7) {
            /* lengths that end right at the last value (slow-path tail) and with slack */
            size_t n = 50;
            size_t exact = (size_t)(((first + n) * (uint64_t)w + 7) / 8);
            size_t lens[2] = {exact, exact + 9};
            for (int li = 0; li < 2; li++) {
                if (w <= 32) {
                    pq_unpack_u32(buf, lens[li], first, w, o32, n);
                    for (size_t i = 0; i < n; i++)
                        CHECK_MSG(o32[i] == naive_bits(buf, (first + i) * (uint64_t)w, w),
                                  "u32 width %d first %llu value %zu", w, (unsigned long long)first, i);
                }
                pq_unpack_u64(buf, lens[li], first, w, o64, n);
                for (size_t i = 0; i < n; i++)
                    CHECK_MSG(o64[i] == naive_bits(buf, (first + i) * (uint64_t)w, w),
                              "u64 width %d first %llu value %zu", w, (unsigned long long)first, i);
            }
        }
    }
}

/* The writer's RLE encoder and this decoder agree, read back in odd pieces. */
FIRN_TEST(parquet_reader_rle_roundtrip_with_writer) {
    firn_error err;
    firn_error_init(&err);
    static uint32_t in[5000], out[5000];
    static uint8_t o8[5000];
    firn_buf b = {0};
    for (int w = 0; w <= 32; w++) {
        uint64_t mask = w == 32 ? UINT32_MAX : (UINT64_C(1) << w) - 1;
        size_t n = 1 + rnd() % 4999;
        for (size_t i = 0; i < n; i++) {
            /* runs and noise */
            in[i] = (rnd() % 4 == 0 && i) ? in[i - 1] : (uint32_t)(rnd() & mask);
            if (i > 100 && i < 400) in[i] = (uint32_t)(7 & mask);
        }
        firn_buf_clear(&b);
        pq_rle_encode(&b, in, n, w);
        pq_rle d;
        pq_rle_init(&d, b.data, b.len, w);
        for (size_t k = 0; k < n;) {
            size_t m = 1 + rnd() % 300;
            if (m > n - k) m = n - k;
            CHECK_OK(pq_rle_get_u32(&d, out + k, m, &err), &err);
            k += m;
        }
        CHECK_MSG(memcmp(in, out, n * sizeof *in) == 0, "width %d differs", w);
        if (w <= 8) {
            pq_rle_init(&d, b.data, b.len, w);
            CHECK_OK(pq_rle_get_u8(&d, o8, n, (uint8_t)mask, &err), &err);
            for (size_t i = 0; i < n; i++) CHECK_EQ_INT(o8[i], in[i]);
        }
    }
    firn_buf_release(&b);
    firn_error_release(&err);
}

/* A plain reference DELTA_BINARY_PACKED encoder (Encodings.md), 64-bit. */
static void put_bits(uint8_t *p, uint64_t bit, uint64_t v, int w) {
    for (int k = 0; k < w; k++, bit++)
        if ((v >> k) & 1) p[bit >> 3] |= (uint8_t)(1u << (bit & 7));
}

static void delta_encode(firn_buf *b, const int64_t *v, size_t n, unsigned block, unsigned nmini) {
    firn_buf_put_varint(b, block);
    firn_buf_put_varint(b, nmini);
    firn_buf_put_varint(b, n);
    firn_buf_put_varint(b, firn_zigzag64(n ? v[0] : 0));
    unsigned per = block / nmini;
    static uint64_t d[1024];
    for (size_t i = 1; i < n; i += block) {
        size_t m = n - i < block ? n - i : block;
        int64_t mind = INT64_MAX;
        for (size_t k = 0; k < m; k++) {
            d[k] = (uint64_t)v[i + k] - (uint64_t)v[i + k - 1];
            if ((int64_t)d[k] < mind) mind = (int64_t)d[k];
        }
        firn_buf_put_varint(b, firn_zigzag64(mind));
        int widths[64];
        for (unsigned j = 0; j < nmini; j++) {
            uint64_t mx = 0;
            for (size_t k = j * per; k < (j + 1) * per && k < m; k++)
                if (d[k] - (uint64_t)mind > mx) mx = d[k] - (uint64_t)mind;
            widths[j] = pq_bit_width(mx);
            firn_buf_put_u8(b, (uint8_t)widths[j]);
        }
        for (unsigned j = 0; j < nmini && j * per < m; j++) {
            size_t bytes = (size_t)per * (size_t)widths[j] / 8;
            uint8_t *p = firn_buf_extend(b, bytes);
            memset(p, 0, bytes);
            for (size_t k = j * per; k < (j + 1) * per && k < m; k++)
                put_bits(p, (k - j * per) * (uint64_t)widths[j], d[k] - (uint64_t)mind, widths[j]);
        }
    }
}

FIRN_TEST(parquet_reader_delta_binary_packed) {
    firn_error err;
    firn_error_init(&err);
    size_t used;
    int64_t o64[2000];
    int32_t o32[2000];
    /* Encodings.md example 1 (block of 128 here: 8 is not a valid size): 1..5 */
    static const uint8_t ex1[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0};
    CHECK_OK(pq_delta_decode_i64(ex1, sizeof ex1, o64, 5, &used, &err), &err);
    CHECK_EQ_INT(used, sizeof ex1);
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(o64[i], i + 1);
    /* example 2: 7 5 3 1 2 3 4 5, min delta -2, relative 0 0 0 3 3 3 3 in 2 bits */
    static const uint8_t ex2[] = {0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 2,    0,    0, 0,
                                  0xC0, 0x3F, 0,    0,    0,    0,    0,    0};
    CHECK_OK(pq_delta_decode_i32(ex2, sizeof ex2, o32, 8, &used, &err), &err);
    static const int32_t want2[] = {7, 5, 3, 1, 2, 3, 4, 5};
    CHECK_MEM(o32, want2, sizeof want2);
    CHECK_EQ_INT(used, sizeof ex2);
    /* one value: the header only */
    static const uint8_t one[] = {0x80, 0x01, 0x04, 0x01, 0x07};
    CHECK_OK(pq_delta_decode_i64(one, sizeof one, o64, 1, &used, &err), &err);
    CHECK(o64[0] == -4 && used == sizeof one);
    /* errors */
    CHECK(pq_delta_decode_i64(ex1, sizeof ex1, o64, 4, &used, &err) != 0); /* count differs */
    CHECK(has(err.message, "holds 5 values where 4"));
    static const uint8_t bad_block[] = {0x08, 0x01, 0x05, 0x02};
    CHECK(pq_delta_decode_i64(bad_block, sizeof bad_block, o64, 5, &used, &err) != 0);
    CHECK(has(err.message, "multiple of 128"));
    static const uint8_t bad_mini[] = {0x80, 0x01, 0x03, 0x05, 0x02};
    CHECK(pq_delta_decode_i64(bad_mini, sizeof bad_mini, o64, 5, &used, &err) != 0);
    static const uint8_t wide[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 65, 0, 0, 0};
    CHECK(pq_delta_decode_i64(wide, sizeof wide, o64, 5, &used, &err) != 0);
    CHECK(has(err.message, "above 64"));
    for (size_t n = 0; n < sizeof ex2; n++)
        CHECK_MSG(pq_delta_decode_i32(ex2, n, o32, 8, &used, &err) != 0, "prefix %zu", n);

    /* round trips through the reference encoder: extremes wrap around */
    static int64_t v[2000];
    firn_buf b = {0};
    unsigned shapes[][2] = {{128, 4}, {128, 1}, {256, 8}, {1024, 2}};
    for (int s = 0; s < 4; s++) {
        for (int kind = 0; kind < 4; kind++) {
            size_t n = 1 + rnd() % 1999;
            for (size_t i = 0; i < n; i++) {
                switch (kind) {
                case 0: v[i] = (int64_t)i * 3 - 100; break;
                case 1: v[i] = (int64_t)rnd(); break;
                case 2: v[i] = i % 2 ? INT64_MAX : INT64_MIN; break;
                default: v[i] = (int64_t)(rnd() % 1000) - 500; break;
                }
            }
            firn_buf_clear(&b);
            delta_encode(&b, v, n, shapes[s][0], shapes[s][1]);
            CHECK_OK(pq_delta_decode_i64(b.data, b.len, o64, n, &used, &err), &err);
            CHECK_EQ_INT(used, b.len);
            CHECK_MSG(memcmp(o64, v, n * 8) == 0, "shape %d kind %d", s, kind);
            /* INT32 streams: 32-bit values, decoded with 32-bit wrap-around */
            for (size_t i = 0; i < n; i++) v[i] = (int32_t)v[i];
            firn_buf_clear(&b);
            delta_encode(&b, v, n, shapes[s][0], shapes[s][1]);
            CHECK_OK(pq_delta_decode_i32(b.data, b.len, o32, n, &used, &err), &err);
            for (size_t i = 0; i < n; i++) CHECK_EQ_INT(o32[i], v[i]);
        }
    }
    firn_buf_release(&b);
    firn_error_release(&err);
}

FIRN_TEST(parquet_reader_byte_stream_split) {
    firn_error err;
    firn_error_init(&err);
    /* Encodings.md: three 32-bit floats */
    static const uint8_t enc[] = {0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4, 0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6};
    static const uint8_t dec[] = {0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6};
    uint8_t out[24];
    CHECK_OK(pq_byte_stream_split_decode(enc, sizeof enc, 4, out, 3, &err), &err);
    CHECK_MEM(out, dec, sizeof dec);
    CHECK_OK(pq_byte_stream_split_decode(enc, sizeof enc, 3, out, 4, &err), &err);
    CHECK(pq_byte_stream_split_decode(enc, sizeof enc, 4, out, 2, &err) != 0);
    CHECK(pq_byte_stream_split_decode(enc, 11, 4, out, 3, &err) != 0);
    firn_error_release(&err);
}

/* ------------------------------------------------- synthetic files */

typedef struct tpage {
    pq_page_header h;
    const uint8_t *body;
    size_t len;
} tpage;

typedef struct tcol {
    const tpage *pages;
    size_t npages;
    int codec;
} tcol;

static pq_schema_element leaf(const char *name, int type, int rep) {
    return (pq_schema_element){.has_type = true, .type = type, .has_repetition = true,
                               .repetition_type = rep, .name = {(const uint8_t *)name, (uint32_t)strlen(name)}};
}

static tpage data_page(int32_t nv, int enc, const void *body, size_t len) {
    tpage p = {.body = body, .len = len};
    p.h.type = PQ_PAGE_DATA;
    p.h.has_data_page_header = true;
    p.h.data_page_header = (pq_data_page_header){.num_values = nv, .encoding = enc,
                                                 .definition_level_encoding = PQ_ENC_RLE,
                                                 .repetition_level_encoding = PQ_ENC_RLE};
    return p;
}

static tpage dict_page(int32_t nv, const void *body, size_t len) {
    tpage p = {.body = body, .len = len};
    p.h.type = PQ_PAGE_DICTIONARY;
    p.h.has_dictionary_page_header = true;
    p.h.dictionary_page_header = (pq_dictionary_page_header){.num_values = nv, .encoding = PQ_ENC_PLAIN};
    return p;
}

typedef void (*tweak_fn)(pq_file_metadata *md);

/* A whole file: the schema (root first), one row group of nrows rows, each
 * leaf's pages as given (sizes filled in when left 0; bodies as given, so
 * compressed pages are compressed by the caller). */
static void build(firn_buf *out, const pq_schema_element *schema, uint32_t nschema, int64_t nrows,
                  const tcol *cols, uint32_t ncols, tweak_fn tweak) {
    firn_buf_clear(out);
    firn_buf_append(out, "PAR1", 4);
    static pq_column_chunk cc[8];
    static int32_t encs[] = {PQ_ENC_PLAIN, PQ_ENC_RLE};
    memset(cc, 0, sizeof cc);
    uint32_t li = 0;
    for (uint32_t c = 0; c < ncols; c++) {
        /* the c-th leaf of the schema */
        const pq_schema_element *lf = NULL;
        for (uint32_t k = 1, seen = 0; k < nschema; k++) {
            if (schema[k].has_num_children && schema[k].num_children > 0) continue;
            if (seen++ == c) {
                lf = &schema[k];
                break;
            }
        }
        (void)li;
        int64_t start = (int64_t)out->len, dict = -1, data = -1;
        for (size_t p = 0; p < cols[c].npages; p++) {
            pq_page_header h = cols[c].pages[p].h;
            if (!h.compressed_page_size && !h.uncompressed_page_size)
                h.compressed_page_size = h.uncompressed_page_size = (int32_t)cols[c].pages[p].len;
            if (h.type == PQ_PAGE_DICTIONARY && dict < 0) dict = (int64_t)out->len;
            if (h.type != PQ_PAGE_DICTIONARY && data < 0) data = (int64_t)out->len;
            pq_encode_page_header(out, &h);
            firn_buf_append(out, cols[c].pages[p].body, cols[c].pages[p].len);
        }
        pq_column_meta_data *m = &cc[c].meta_data;
        cc[c].has_meta_data = true;
        cc[c].file_offset = start;
        m->type = lf ? lf->type : 0;
        m->encodings = encs;
        m->nencodings = 2;
        m->path_in_schema = (pq_bytes *)(lf ? &lf->name : NULL);
        m->npath = lf ? 1 : 0;
        m->codec = cols[c].codec;
        m->num_values = nrows;
        m->total_compressed_size = m->total_uncompressed_size = (int64_t)out->len - start;
        m->data_page_offset = data >= 0 ? data : start;
        if (dict >= 0) {
            m->has_dictionary_page_offset = true;
            m->dictionary_page_offset = dict;
        }
    }
    pq_row_group rg = {.columns = cc, .ncolumns = ncols, .total_byte_size = 1, .num_rows = nrows};
    pq_file_metadata md = {.version = 1, .schema = (pq_schema_element *)schema, .nschema = nschema,
                           .num_rows = nrows, .row_groups = &rg, .nrow_groups = 1,
                           .has_created_by = true, .created_by = {(const uint8_t *)"test", 4}};
    if (tweak) tweak(&md);
    size_t fstart = out->len;
    pq_encode_file_metadata(out, &md);
    firn_buf_put_le32(out, (uint32_t)(out->len - fstart));
    firn_buf_append(out, "PAR1", 4);
}

/* One flat column "c" (field id 1) under a root. */
static void build1(firn_buf *out, pq_schema_element lf, int64_t nrows, const tpage *pages, size_t np,
                   tweak_fn tweak) {
    pq_schema_element s[2] = {{.name = {(const uint8_t *)"schema", 6}, .has_num_children = true,
                               .num_children = 1},
                              lf};
    s[1].has_field_id = true;
    s[1].field_id = 1;
    tcol c = {pages, np, FIRN_PQ_UNCOMPRESSED};
    build(out, s, 2, nrows, &c, 1, tweak);
}

/* Read column 0 of row group 0; returns the rc, err filled. */
static int read1(const firn_buf *f, firn_arena *a, firn_pq_column_data *out, firn_error *err) {
    firn_pq_reader *r = firn_pq_reader_open_mem(f->data, f->len, err);
    if (!r) return -err->kind;
    int rc = firn_pq_reader_read_column(r, 0, 0, a, out, err);
    firn_pq_reader_free(r);
    return rc;
}

FIRN_TEST(parquet_reader_synthetic_pages) {
    firn_buf f = {0};
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_pq_column_data d;

    /* REQUIRED INT32, PLAIN */
    static const int32_t five[] = {1, -2, 3, INT32_MIN, INT32_MAX};
    tpage p1 = data_page(5, PQ_ENC_PLAIN, five, sizeof five);
    build1(&f, leaf("c", PQ_INT32, PQ_REQUIRED), 5, &p1, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK(d.validity == NULL);
    CHECK_MEM(d.values, five, sizeof five);

    /* OPTIONAL INT32: levels 1 0 1 1 0 (length-prefixed RLE), 3 values */
    static const uint8_t opt[] = {2, 0, 0, 0, 0x03, 0x0D, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0};
    tpage p2 = data_page(5, PQ_ENC_PLAIN, opt, sizeof opt);
    build1(&f, leaf("c", PQ_INT32, PQ_OPTIONAL), 5, &p2, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    static const uint8_t valid[] = {1, 0, 1, 1, 0};
    static const int32_t spread[] = {10, 0, 20, 30, 0};
    CHECK(d.validity != NULL);
    CHECK_MEM(d.validity, valid, 5);
    CHECK_MEM(d.values, spread, sizeof spread);

    /* the same with deprecated BIT_PACKED levels: 10110000 */
    static const uint8_t optbp[] = {0xB0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0};
    tpage p2b = data_page(5, PQ_ENC_PLAIN, optbp, sizeof optbp);
    p2b.h.data_page_header.definition_level_encoding = PQ_ENC_BIT_PACKED;
    build1(&f, leaf("c", PQ_INT32, PQ_OPTIONAL), 5, &p2b, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK_MEM(d.validity, valid, 5);
    CHECK_MEM(d.values, spread, sizeof spread);

    /* dictionary: 100 200 300, indices 2 0 1 2 0 (width 2) */
    static const int32_t dict[] = {100, 200, 300};
    static const uint8_t idx[] = {2, 0x03, 0x92, 0x00};
    tpage pd[2] = {dict_page(3, dict, sizeof dict), data_page(5, PQ_ENC_RLE_DICTIONARY, idx, sizeof idx)};
    build1(&f, leaf("c", PQ_INT32, PQ_REQUIRED), 5, pd, 2, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    static const int32_t dwant[] = {300, 100, 200, 300, 100};
    CHECK_MEM(d.values, dwant, sizeof dwant);
    /* deprecated PLAIN_DICTIONARY names, an index page in between */
    tpage pd2[3] = {dict_page(3, dict, sizeof dict), {.h = {.type = PQ_PAGE_INDEX}, .body = (const uint8_t *)"xx", .len = 2},
                    data_page(5, PQ_ENC_PLAIN_DICTIONARY, idx, sizeof idx)};
    pd2[0].h.dictionary_page_header.encoding = PQ_ENC_PLAIN_DICTIONARY;
    build1(&f, leaf("c", PQ_INT32, PQ_REQUIRED), 5, pd2, 3, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK_MEM(d.values, dwant, sizeof dwant);

    /* BOOLEAN: PLAIN bits, then RLE with its length prefix */
    static const uint8_t bits[] = {0x0D};
    tpage pb = data_page(5, PQ_ENC_PLAIN, bits, 1);
    build1(&f, leaf("c", PQ_BOOLEAN, PQ_REQUIRED), 5, &pb, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK_MEM(d.values, valid, 5);
    static const uint8_t rleb[] = {2, 0, 0, 0, 0x03, 0x0D};
    tpage pr = data_page(5, PQ_ENC_RLE, rleb, sizeof rleb);
    build1(&f, leaf("c", PQ_BOOLEAN, PQ_REQUIRED), 5, &pr, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK_MEM(d.values, valid, 5);

    /* BYTE_ARRAY with nulls: "ab", null, "", "xyz" */
    static const uint8_t ba[] = {2, 0, 0, 0, 0x03, 0x0D, 2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0, 3, 0, 0, 0, 'x', 'y', 'z'};
    tpage pba = data_page(4, PQ_ENC_PLAIN, ba, sizeof ba);
    pq_schema_element sl = leaf("c", PQ_BYTE_ARRAY, PQ_OPTIONAL);
    sl.logical_type.kind = PQ_LT_STRING;
    build1(&f, sl, 4, &pba, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    static const int64_t offs[] = {0, 2, 2, 2, 5};
    CHECK_MEM(d.offsets, offs, sizeof offs);
    CHECK_MEM(d.data, "abxyz", 5);
    CHECK(d.validity && d.validity[0] && !d.validity[1] && d.validity[2] && d.validity[3]);

    /* data page v2: levels outside the compressed part, nulls counted */
    static const uint8_t v2[] = {0x03, 0x0D, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0};
    tpage pv2 = {.body = v2, .len = sizeof v2};
    pv2.h.type = PQ_PAGE_DATA_V2;
    pv2.h.has_data_page_header_v2 = true;
    pv2.h.data_page_header_v2 = (pq_data_page_header_v2){.num_values = 5, .num_nulls = 2, .num_rows = 5,
                                                         .encoding = PQ_ENC_PLAIN,
                                                         .definition_levels_byte_length = 2,
                                                         .is_compressed = false};
    build1(&f, leaf("c", PQ_INT32, PQ_OPTIONAL), 5, &pv2, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK_MEM(d.validity, valid, 5);
    CHECK_MEM(d.values, spread, sizeof spread);
    pv2.h.data_page_header_v2.num_nulls = 1; /* lies */
    build1(&f, leaf("c", PQ_INT32, PQ_OPTIONAL), 5, &pv2, 1, NULL);
    CHECK(read1(&f, &a, &d, &err) != 0);
    CHECK(has(err.message, "says 1 nulls but its definition levels have 2"));

    /* a compressed v1 page (zstd) */
    firn_buf z = {0};
    firn_error e2;
    firn_error_init(&e2);
    CHECK_OK(pq_compress(FIRN_PQ_ZSTD, 0, (const uint8_t *)five, sizeof five, &z, &e2), &e2);
    tpage pz = data_page(5, PQ_ENC_PLAIN, z.data, z.len);
    pz.h.uncompressed_page_size = sizeof five;
    pz.h.compressed_page_size = (int32_t)z.len;
    pq_schema_element s2[2] = {{.name = {(const uint8_t *)"schema", 6}, .has_num_children = true, .num_children = 1},
                               leaf("c", PQ_INT32, PQ_REQUIRED)};
    tcol zc = {&pz, 1, FIRN_PQ_ZSTD};
    build(&f, s2, 2, 5, &zc, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK_MEM(d.values, five, sizeof five);
    /* the same page claiming 1 byte more uncompressed */
    pz.h.uncompressed_page_size++;
    build(&f, s2, 2, 5, &zc, 1, NULL);
    CHECK(read1(&f, &a, &d, &err) != 0);
    CHECK_EQ_INT(err.kind, FIRN_ERR_CORRUPT);
    CHECK(has(err.message, "zstd"));
    firn_buf_release(&z);

    firn_buf_release(&f);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* Every corruption the reader names: kind CORRUPT, and what and where. */
FIRN_TEST(parquet_reader_synthetic_corruptions) {
    firn_buf f = {0};
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_pq_column_data d;
    static const int32_t dict[] = {100, 200, 300};
    struct {
        const char *name;
        tpage pages[3];
        size_t np;
        int64_t rows;
        const char *want;
    } cases[] = {
        {"index out of range", {dict_page(3, dict, 12), data_page(5, PQ_ENC_RLE_DICTIONARY, "\x02\x03\x93\x00", 4)}, 2, 5,
         "dictionary index 3 is out of range (the dictionary has 3 entries)"},
        {"bit width 33", {dict_page(3, dict, 12), data_page(5, PQ_ENC_RLE_DICTIONARY, "\x21\x03\x00\x00", 4)}, 2, 5,
         "bit width 33 is above 32"},
        {"no dictionary", {data_page(5, PQ_ENC_RLE_DICTIONARY, "\x02\x03\x00\x00", 4)}, 1, 5,
         "no dictionary page"},
        {"dictionary after data",
         {data_page(2, PQ_ENC_PLAIN, "01234567", 8), dict_page(3, dict, 12), data_page(3, PQ_ENC_PLAIN, "012345678901", 12)},
         3, 5, "dictionary page after data pages"},
        {"too many values", {data_page(6, PQ_ENC_PLAIN, "012345678901234567890123", 24)}, 1, 5,
         "data pages hold more values than the row group's 5 rows"},
        {"too few values", {data_page(3, PQ_ENC_PLAIN, "012345678901", 12)}, 1, 5,
         "pages hold 3 values but the row group has 5 rows"},
        {"plain too short", {data_page(5, PQ_ENC_PLAIN, "0123456789ab", 12)}, 1, 5,
         "PLAIN page of 12 bytes cannot hold 5 values of 4 bytes"},
        {"negative count", {data_page(-1, PQ_ENC_PLAIN, "0123", 4)}, 1, 1, "data page has -1 values"},
        {"unknown encoding", {data_page(1, 42, "0123", 4)}, 1, 1, "encoding unknown (42)"},
        {"delta for int32 wrong count", {data_page(2, PQ_ENC_DELTA_BINARY_PACKED, "\x80\x01\x04\x05\x02", 5)}, 1, 2,
         "DELTA_BINARY_PACKED stream holds 5 values where 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build1(&f, leaf("c", PQ_INT32, PQ_REQUIRED), cases[i].rows, cases[i].pages, cases[i].np, NULL);
        int rc = read1(&f, &a, &d, &err);
        CHECK_MSG(rc != 0, "%s: read succeeded", cases[i].name);
        CHECK_MSG(err.kind == FIRN_ERR_CORRUPT || err.kind == FIRN_ERR_UNSUPPORTED, "%s: kind %d", cases[i].name,
                  err.kind);
        CHECK_MSG(has(err.message, cases[i].want), "%s: message '%s'", cases[i].name, err.message);
        CHECK_MSG(has(err.message, "column 'c', row group 0, page at offset "), "%s: where: '%s'", cases[i].name,
                  err.message);
    }
    /* sizes a page header lies about */
    tpage p = data_page(5, PQ_ENC_PLAIN, "01234567890123456789", 20);
    p.h.compressed_page_size = 120;
    p.h.uncompressed_page_size = 20;
    build1(&f, leaf("c", PQ_INT32, PQ_REQUIRED), 5, &p, 1, NULL);
    CHECK(read1(&f, &a, &d, &err) != 0 && has(err.message, "runs past the end of the column chunk"));
    p.h.compressed_page_size = 20;
    p.h.uncompressed_page_size = 0x7fffffff; /* a decompression bomb */
    build1(&f, leaf("c", PQ_INT32, PQ_REQUIRED), 5, &p, 1, NULL);
    CHECK(read1(&f, &a, &d, &err) != 0 && has(err.message, "above the reader's limit"));
    CHECK_EQ_INT(err.kind, FIRN_ERR_CORRUPT);
    p.h.compressed_page_size = -5;
    build1(&f, leaf("c", PQ_INT32, PQ_REQUIRED), 5, &p, 1, NULL);
    CHECK(read1(&f, &a, &d, &err) != 0 && has(err.message, "negative"));
    /* byte arrays */
    static const uint8_t dba[] = {2, 0, 0, 0, 'a', 'b', 99, 0, 0, 0, 'x'};
    tpage pb = data_page(2, PQ_ENC_PLAIN, dba, sizeof dba);
    build1(&f, leaf("c", PQ_BYTE_ARRAY, PQ_REQUIRED), 2, &pb, 1, NULL);
    CHECK(read1(&f, &a, &d, &err) != 0 && has(err.message, "PLAIN byte array 1 of 99 bytes runs past the page"));
    /* DELTA_BYTE_ARRAY reusing more than the previous value holds */
    firn_buf db = {0};
    int64_t pre[] = {0, 5}, suf[] = {2, 1};
    delta_encode(&db, pre, 2, 128, 4);
    delta_encode(&db, suf, 2, 128, 4);
    firn_buf_append(&db, "abc", 3);
    tpage pdb = data_page(2, PQ_ENC_DELTA_BYTE_ARRAY, db.data, db.len);
    build1(&f, leaf("c", PQ_BYTE_ARRAY, PQ_REQUIRED), 2, &pdb, 1, NULL);
    CHECK(read1(&f, &a, &d, &err) != 0 && has(err.message, "reuses 5 bytes of a 2-byte previous value"));
    /* and a good one: "ab", "ac" (prefix 1 + "c") */
    firn_buf_clear(&db);
    pre[1] = 1;
    delta_encode(&db, pre, 2, 128, 4);
    delta_encode(&db, suf, 2, 128, 4);
    firn_buf_append(&db, "abc", 3);
    pdb = data_page(2, PQ_ENC_DELTA_BYTE_ARRAY, db.data, db.len);
    build1(&f, leaf("c", PQ_BYTE_ARRAY, PQ_REQUIRED), 2, &pdb, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK(d.offsets[2] == 4 && memcmp(d.data, "abac", 4) == 0);
    firn_buf_release(&db);
    firn_buf_release(&f);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* ------------------------------------------------------------ ranged reads */

/* A file in memory read through firn_pq_read_fn, counting calls and bytes. */
typedef struct ranged_src {
    const uint8_t *data;
    size_t len;
    size_t calls;
    uint64_t bytes;
    uint64_t last_off, last_n;
    long fail_at; /* fail the call with this number (1-based), 0: never */
} ranged_src;

static int ranged_read(void *ctx, uint64_t off, void *buf, size_t n, firn_error *err) {
    ranged_src *s = ctx;
    s->calls++;
    if (s->fail_at && (long)s->calls == s->fail_at) return FIRN_RAISE(err, FIRN_ERR_IO, "injected read failure");
    if (off > s->len || n > s->len - off) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "file truncated");
    memcpy(buf, s->data + off, n);
    s->bytes += n;
    s->last_off = off;
    s->last_n = n;
    return 0;
}

static size_t value_bytes(const firn_pq_column_desc *d) {
    switch (d->type) {
    case FIRN_PQ_BOOLEAN: return 1;
    case FIRN_PQ_INT: case FIRN_PQ_FLOAT: case FIRN_PQ_DATE: return 4;
    case FIRN_PQ_DECIMAL: return d->precision <= 9 ? 4 : d->precision <= 18 ? 8 : (size_t)firn_pq_decimal_width(d->precision);
    case FIRN_PQ_UUID: return 16;
    case FIRN_PQ_FIXED: return (size_t)d->length;
    case FIRN_PQ_STRING: case FIRN_PQ_BINARY: return 0;
    default: return 8;
    }
}

FIRN_TEST(parquet_reader_ranged_reads_fetch_footer_then_each_chunk) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    for (size_t fi = 0; fi < NDATA; fi++) {
        size_t len;
        uint8_t *data = load_data(data_files[fi], &len);
        CHECK_MSG(data != NULL, "cannot read tests/data/parquet/%s", data_files[fi]);
        if (!data) continue;
        ranged_src src = {data, len, 0, 0, 0, 0, 0};
        firn_pq_reader *m = firn_pq_reader_open_mem(data, len, &err);
        firn_pq_reader *r = firn_pq_reader_open_ranged(len, ranged_read, &src, &err);
        CHECK_MSG(m && r, "%s: %s", data_files[fi], err.message);
        if (!m || !r) {
            firn_pq_reader_free(m);
            free(data);
            continue;
        }
        /* the open: head magic, tail, footer - nothing else */
        uint32_t flen = firn_load_le32(data + len - 8);
        CHECK_EQ_INT(src.calls, 3);
        CHECK_EQ_INT(src.bytes, 4 + 8 + flen);
        CHECK_EQ_INT(firn_pq_reader_num_rows(r), firn_pq_reader_num_rows(m));
        /* each column read: one call, exactly the chunk's range, the same values */
        for (size_t g = 0; g < firn_pq_reader_num_row_groups(r); g++) {
            size_t n = (size_t)firn_pq_reader_row_group_rows(r, g);
            for (size_t c = 0; c < firn_pq_reader_num_columns(r); c++) {
                const firn_pq_column_desc *d = firn_pq_reader_column(r, c);
                if (!d->supported) continue;
                firn_pq_chunk_info ci;
                CHECK_OK(firn_pq_reader_chunk_info(r, g, c, &ci, &err), &err);
                int64_t start = ci.dictionary_page_offset > 0 && ci.dictionary_page_offset < ci.data_page_offset
                                    ? ci.dictionary_page_offset : ci.data_page_offset;
                size_t calls = src.calls;
                uint64_t bytes = src.bytes;
                firn_pq_column_data x, y;
                CHECK_OK(firn_pq_reader_read_column(m, g, c, &a, &x, &err), &err);
                CHECK_OK(firn_pq_reader_read_column(r, g, c, &a, &y, &err), &err);
                CHECK_EQ_INT(src.calls, calls + 1);
                CHECK_EQ_INT(src.bytes - bytes, ci.compressed_size);
                CHECK_EQ_INT(src.last_off, start);
                CHECK_MSG((!x.validity) == (!y.validity) && (!x.validity || memcmp(x.validity, y.validity, n) == 0),
                          "%s %s: validity differs", data_files[fi], d->path);
                size_t w = value_bytes(d);
                if (w) {
                    CHECK_MSG(memcmp(x.values, y.values, n * w) == 0, "%s %s: values differ", data_files[fi], d->path);
                } else {
                    CHECK_MSG(memcmp(x.offsets, y.offsets, (n + 1) * 8) == 0 &&
                                  memcmp(x.data, y.data, (size_t)x.offsets[n]) == 0,
                              "%s %s: bytes differ", data_files[fi], d->path);
                }
            }
        }
        firn_pq_reader_free(r);
        firn_pq_reader_free(m);

        /* a failing read is an error at open and at a column read, naming where */
        for (long k = 1; k <= 4; k++) {
            ranged_src bad = {data, len, 0, 0, 0, 0, k};
            r = firn_pq_reader_open_ranged(len, ranged_read, &bad, &err);
            if (k <= 3) {
                CHECK_MSG(!r && has(err.message, "injected read failure") && has(err.message, "reading "),
                          "open, failing call %ld: %s", k, r ? "(opened)" : err.message);
                firn_pq_reader_free(r);
                continue;
            }
            CHECK_MSG(r, "%s", err.message);
            if (!r) continue;
            firn_pq_column_data x;
            CHECK(firn_pq_reader_read_column(r, 0, 0, &a, &x, &err) != 0);
            CHECK_MSG(err.kind == FIRN_ERR_IO && has(err.message, "injected read failure"), "%s", err.message);
            firn_pq_reader_free(r);
        }
        /* a size that is not the file's: the tail is not a footer */
        ranged_src shorter = {data, len, 0, 0, 0, 0, 0};
        r = firn_pq_reader_open_ranged(len - 1, ranged_read, &shorter, &err);
        CHECK_MSG(!r && err.kind == FIRN_ERR_CORRUPT && has(err.message, "no PAR1 magic at the end"), "%s",
                  r ? "(opened)" : err.message);
        firn_pq_reader_free(r);
        r = firn_pq_reader_open_ranged(11, ranged_read, &shorter, &err);
        CHECK(!r && has(err.message, "too small to be Parquet"));
        firn_pq_reader_free(r);
        free(data);
    }
    firn_arena_release(&a);
    firn_error_release(&err);
}

static void tw_rows_mismatch(pq_file_metadata *md) { md->num_rows += 1; }
static void tw_chunk_far(pq_file_metadata *md) { md->row_groups[0].columns[0].meta_data.data_page_offset = 1 << 20; }
static void tw_chunk_into_footer(pq_file_metadata *md) {
    md->row_groups[0].columns[0].meta_data.total_compressed_size += 10;
}
static void tw_no_columns(pq_file_metadata *md) { md->row_groups[0].ncolumns = 0; }
static void tw_children(pq_file_metadata *md) { md->schema[0].num_children = 5; }
static void tw_neg_rows(pq_file_metadata *md) {
    md->num_rows = -1;
    md->row_groups[0].num_rows = -1;
}
static void tw_values(pq_file_metadata *md) { md->row_groups[0].columns[0].meta_data.num_values = 4; }
static void tw_type(pq_file_metadata *md) { md->row_groups[0].columns[0].meta_data.type = PQ_INT64; }
static void tw_codec(pq_file_metadata *md) { md->row_groups[0].columns[0].meta_data.codec = 4; }
static void tw_ext(pq_file_metadata *md) {
    md->row_groups[0].columns[0].has_file_path = true;
    md->row_groups[0].columns[0].file_path = (pq_bytes){(const uint8_t *)"x.parquet", 9};
}

FIRN_TEST(parquet_reader_footer_corruptions) {
    firn_buf f = {0};
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_pq_column_data d;
    static const int32_t five[] = {1, 2, 3, 4, 5};
    tpage p = data_page(5, PQ_ENC_PLAIN, five, sizeof five);
    struct {
        tweak_fn fn;
        bool at_open;
        const char *want;
    } cases[] = {
        {tw_rows_mismatch, true, "footer says 6 rows but its row groups hold 5"},
        {tw_no_columns, true, "row group 0 has 0 column chunks but the schema has 1 leaf columns"},
        {tw_children, true, "schema tree needs more elements than the 2 listed"},
        {tw_neg_rows, true, "footer says the file has -1 rows"},
        {tw_chunk_far, false, "outside the file's data"},
        {tw_chunk_into_footer, false, "outside the file's data"},
        {tw_values, false, "column chunk says 4 values but the row group has 5 rows"},
        {tw_type, false, "physical type 2 but the schema says 1"},
        {tw_codec, false, "codec BROTLI (4) is not supported"},
        {tw_ext, false, "stored in another file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build1(&f, leaf("c", PQ_INT32, PQ_REQUIRED), 5, &p, 1, cases[i].fn);
        firn_pq_reader *r = firn_pq_reader_open_mem(f.data, f.len, &err);
        if (cases[i].at_open) {
            CHECK_MSG(r == NULL, "case %zu opened", i);
        } else {
            CHECK_MSG(r != NULL, "case %zu: %s", i, err.message);
            CHECK_MSG(firn_pq_reader_read_column(r, 0, 0, &a, &d, &err) != 0, "case %zu read", i);
            firn_pq_reader_free(r);
        }
        CHECK_MSG(has(err.message, cases[i].want), "case %zu: '%s'", i, err.message);
        CHECK_MSG(err.kind == FIRN_ERR_CORRUPT || err.kind == FIRN_ERR_UNSUPPORTED, "case %zu kind", i);
        CHECK_EQ_STR(err.context, "<memory>");
    }
    /* the frame: magics, footer length */
    build1(&f, leaf("c", PQ_INT32, PQ_REQUIRED), 5, &p, 1, NULL);
    firn_buf g = {0};
    firn_buf_append(&g, f.data, f.len);
    g.data[0] = 'X';
    CHECK(firn_pq_reader_open_mem(g.data, g.len, &err) == NULL && has(err.message, "no PAR1 magic at the start"));
    g.data[0] = 'P';
    g.data[g.len - 1] = 'E';
    CHECK(firn_pq_reader_open_mem(g.data, g.len, &err) == NULL && has(err.message, "PARE"));
    CHECK_EQ_INT(err.kind, FIRN_ERR_UNSUPPORTED);
    g.data[g.len - 1] = '2';
    CHECK(firn_pq_reader_open_mem(g.data, g.len, &err) == NULL && has(err.message, "no PAR1 magic at the end"));
    g.data[g.len - 1] = '1';
    firn_store_le32(g.data + g.len - 8, (uint32_t)g.len);
    CHECK(firn_pq_reader_open_mem(g.data, g.len, &err) == NULL && has(err.message, "is beyond the"));
    firn_store_le32(g.data + g.len - 8, 3);
    CHECK(firn_pq_reader_open_mem(g.data, g.len, &err) == NULL && has(err.message, "footer at offset"));
    CHECK(firn_pq_reader_open_mem(g.data, 11, &err) == NULL && has(err.message, "too small"));
    CHECK(firn_pq_reader_open("/nonexistent/file.parquet", &err) == NULL);
    CHECK_EQ_INT(err.kind, FIRN_ERR_NOT_FOUND);
    CHECK_EQ_STR(err.context, "/nonexistent/file.parquet");
    firn_buf_release(&g);
    firn_buf_release(&f);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* Types: conversions to the Iceberg representation, unsupported ones. */
FIRN_TEST(parquet_reader_type_mapping) {
    firn_buf f = {0};
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_pq_column_data d;
    firn_pq_reader *r;

    /* INT64 TIMESTAMP(MILLIS, utc) -> timestamptz micros */
    static const int64_t ms[] = {1, -1, 1700000000123};
    pq_schema_element e = leaf("c", PQ_INT64, PQ_REQUIRED);
    e.logical_type = (pq_logical_type){.kind = PQ_LT_TIMESTAMP, .unit = PQ_UNIT_MILLIS, .is_adjusted_to_utc = true};
    tpage p = data_page(3, PQ_ENC_PLAIN, ms, sizeof ms);
    build1(&f, e, 3, &p, 1, NULL);
    r = firn_pq_reader_open_mem(f.data, f.len, &err);
    CHECK(r && firn_pq_reader_column(r, 0)->type == FIRN_PQ_TIMESTAMPTZ);
    firn_pq_reader_free(r);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK(((const int64_t *)d.values)[0] == 1000 && ((const int64_t *)d.values)[1] == -1000 &&
          ((const int64_t *)d.values)[2] == 1700000000123000);
    /* legacy TIMESTAMP_MILLIS converted type: utc, millis */
    e = leaf("c", PQ_INT64, PQ_REQUIRED);
    e.has_converted_type = true;
    e.converted_type = PQ_CT_TIMESTAMP_MILLIS;
    build1(&f, e, 3, &p, 1, NULL);
    r = firn_pq_reader_open_mem(f.data, f.len, &err);
    CHECK(r && firn_pq_reader_column(r, 0)->type == FIRN_PQ_TIMESTAMPTZ);
    firn_pq_reader_free(r);
    /* NANOS, not utc */
    e = leaf("c", PQ_INT64, PQ_REQUIRED);
    e.logical_type = (pq_logical_type){.kind = PQ_LT_TIMESTAMP, .unit = PQ_UNIT_NANOS};
    build1(&f, e, 3, &p, 1, NULL);
    r = firn_pq_reader_open_mem(f.data, f.len, &err);
    CHECK(r && firn_pq_reader_column(r, 0)->type == FIRN_PQ_TIMESTAMP_NS);
    firn_pq_reader_free(r);
    /* TIME(NANOS): no Iceberg type */
    e.logical_type.kind = PQ_LT_TIME;
    build1(&f, e, 3, &p, 1, NULL);
    CHECK(read1(&f, &a, &d, &err) != 0);
    CHECK_EQ_INT(err.kind, FIRN_ERR_UNSUPPORTED);
    CHECK(has(err.message, "TIME(NANOS)"));
    /* INT32 TIME_MILLIS -> int64 micros */
    static const int32_t tms[] = {0, 86399999};
    e = leaf("c", PQ_INT32, PQ_REQUIRED);
    e.has_converted_type = true;
    e.converted_type = PQ_CT_TIME_MILLIS;
    p = data_page(2, PQ_ENC_PLAIN, tms, sizeof tms);
    build1(&f, e, 2, &p, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK(((const int64_t *)d.values)[1] == INT64_C(86399999000));
    /* UINT_32 -> long, UINT_8 -> int */
    static const uint32_t u32[] = {0xffffffffu, 7};
    e.converted_type = PQ_CT_UINT_32;
    p = data_page(2, PQ_ENC_PLAIN, u32, sizeof u32);
    build1(&f, e, 2, &p, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK(((const int64_t *)d.values)[0] == INT64_C(4294967295));
    e.converted_type = PQ_CT_UINT_8;
    build1(&f, e, 2, &p, 1, NULL);
    r = firn_pq_reader_open_mem(f.data, f.len, &err);
    CHECK(r && firn_pq_reader_column(r, 0)->type == FIRN_PQ_INT);
    firn_pq_reader_free(r);
    /* INT(64, unsigned) -> decimal(20, 0), 9 bytes big-endian */
    static const uint64_t u64[] = {UINT64_MAX, 1};
    e = leaf("c", PQ_INT64, PQ_REQUIRED);
    e.logical_type = (pq_logical_type){.kind = PQ_LT_INTEGER, .bit_width = 64, .is_signed = false};
    p = data_page(2, PQ_ENC_PLAIN, u64, sizeof u64);
    build1(&f, e, 2, &p, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    static const uint8_t dec20[] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK_MEM(d.values, dec20, sizeof dec20);
    /* INT96: Julian day 2440588 + 5 ns, day 2440589 */
    uint8_t i96[24] = {0};
    i96[0] = 5;
    firn_store_le32(i96 + 8, 2440588);
    firn_store_le32(i96 + 20, 2440589);
    e = leaf("c", PQ_INT96, PQ_REQUIRED);
    p = data_page(2, PQ_ENC_PLAIN, i96, sizeof i96);
    build1(&f, e, 2, &p, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK(((const int64_t *)d.values)[0] == 5 && ((const int64_t *)d.values)[1] == INT64_C(86400000000000));
    firn_store_le32(i96 + 8, 0x7fffffff); /* out of range for nanoseconds */
    build1(&f, e, 2, &p, 1, NULL);
    CHECK(read1(&f, &a, &d, &err) != 0 && has(err.message, "row 0"));
    /* FLOAT16 -> float */
    static const uint8_t f16[] = {0x00, 0x3C, 0x00, 0xC0, 0x00, 0x7C, 0x01, 0x00};
    e = leaf("c", PQ_FIXED_LEN_BYTE_ARRAY, PQ_REQUIRED);
    e.has_type_length = true;
    e.type_length = 2;
    e.logical_type.kind = PQ_LT_FLOAT16;
    p = data_page(4, PQ_ENC_PLAIN, f16, sizeof f16);
    build1(&f, e, 4, &p, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    const float *fv = d.values;
    CHECK(fv[0] == 1.0f && fv[1] == -2.0f && isinf(fv[2]) && fv[3] == ldexpf(1, -24));
    /* decimals: INT64 (5,2) -> int32; FLBA(3) (5,1) -> int32; BYTE_ARRAY (25,3) -> 11 bytes */
    static const int64_t d64[] = {-12345, 99999};
    e = leaf("c", PQ_INT64, PQ_REQUIRED);
    e.logical_type = (pq_logical_type){.kind = PQ_LT_DECIMAL, .precision = 5, .scale = 2};
    p = data_page(2, PQ_ENC_PLAIN, d64, sizeof d64);
    build1(&f, e, 2, &p, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK(((const int32_t *)d.values)[0] == -12345 && ((const int32_t *)d.values)[1] == 99999);
    static const uint8_t fl3[] = {0xff, 0xff, 0xfe, 0x00, 0x01, 0x00};
    e = leaf("c", PQ_FIXED_LEN_BYTE_ARRAY, PQ_REQUIRED);
    e.has_type_length = true;
    e.type_length = 3;
    e.has_converted_type = true;
    e.converted_type = PQ_CT_DECIMAL;
    e.has_precision = e.has_scale = true;
    e.precision = 5;
    e.scale = 1;
    p = data_page(2, PQ_ENC_PLAIN, fl3, sizeof fl3);
    build1(&f, e, 2, &p, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    CHECK(((const int32_t *)d.values)[0] == -2 && ((const int32_t *)d.values)[1] == 256);
    static const uint8_t bad[] = {2, 0, 0, 0, 0xff, 0x85, 5, 0, 0, 0, 0x01, 0, 0, 0, 0};
    e = leaf("c", PQ_BYTE_ARRAY, PQ_REQUIRED);
    e.logical_type = (pq_logical_type){.kind = PQ_LT_DECIMAL, .precision = 25, .scale = 3};
    p = data_page(2, PQ_ENC_PLAIN, bad, sizeof bad);
    build1(&f, e, 2, &p, 1, NULL);
    CHECK_OK(read1(&f, &a, &d, &err), &err);
    static const uint8_t w11[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x85,
                                  0,    0,    0,    0,    0,    0,    0x01, 0,    0,    0,    0};
    CHECK_MEM(d.values, w11, sizeof w11);
    e.logical_type.precision = 5; /* 0x0100000000 does not fit an int32 */
    build1(&f, e, 2, &p, 1, NULL);
    CHECK(read1(&f, &a, &d, &err) != 0 && has(err.message, "decimal in row 1 does not fit"));
    /* annotations firn does not read: VARIANT (16) and a LIST annotation on a leaf */
    e = leaf("c", PQ_BYTE_ARRAY, PQ_REQUIRED);
    e.logical_type.kind = 16;
    build1(&f, e, 2, &p, 1, NULL);
    CHECK(read1(&f, &a, &d, &err) != 0);
    CHECK_EQ_INT(err.kind, FIRN_ERR_UNSUPPORTED);
    CHECK(has(err.message, "column 'c' cannot be read"));
    /* FIXED_LEN_BYTE_ARRAY without a length */
    e = leaf("c", PQ_FIXED_LEN_BYTE_ARRAY, PQ_REQUIRED);
    build1(&f, e, 2, &p, 1, NULL);
    CHECK(read1(&f, &a, &d, &err) != 0);
    CHECK_EQ_INT(err.kind, FIRN_ERR_CORRUPT);
    firn_buf_release(&f);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* A struct and a list next to a flat column: the flat one stays readable. */
FIRN_TEST(parquet_reader_nested_columns_unsupported) {
    pq_schema_element s[6] = {
        {.name = {(const uint8_t *)"schema", 6}, .has_num_children = true, .num_children = 3},
        {.name = {(const uint8_t *)"s", 1}, .has_num_children = true, .num_children = 1, .has_repetition = true,
         .repetition_type = PQ_OPTIONAL},
        leaf("x", PQ_INT32, PQ_OPTIONAL),
        leaf("flat", PQ_INT32, PQ_REQUIRED),
        {.name = {(const uint8_t *)"l", 1}, .has_num_children = true, .num_children = 1, .has_repetition = true,
         .repetition_type = PQ_OPTIONAL, .has_converted_type = true, .converted_type = PQ_CT_LIST},
        leaf("e", PQ_INT32, PQ_REPEATED),
    };
    s[3].has_field_id = true;
    s[3].field_id = 42;
    static const int32_t v[] = {7, 8};
    tpage p = data_page(2, PQ_ENC_PLAIN, v, sizeof v);
    static const uint8_t lv[] = {2, 0, 0, 0, 0x04, 0x01, 7, 0, 0, 0, 8, 0, 0, 0};
    tpage pl = data_page(2, PQ_ENC_PLAIN, lv, sizeof lv);
    tcol cols[3] = {{&pl, 1, 0}, {&p, 1, 0}, {&pl, 1, 0}};
    firn_buf f = {0};
    build(&f, s, 6, 2, cols, 3, NULL);
    firn_error err;
    firn_error_init(&err);
    firn_pq_reader *r = firn_pq_reader_open_mem(f.data, f.len, &err);
    CHECK_MSG(r != NULL, "%s", err.message);
    CHECK_EQ_INT(firn_pq_reader_num_columns(r), 3);
    CHECK_EQ_STR(firn_pq_reader_column(r, 0)->path, "s.x");
    CHECK(!firn_pq_reader_column(r, 0)->supported);
    CHECK_EQ_STR(firn_pq_reader_column(r, 2)->path, "l.e");
    CHECK(!firn_pq_reader_column(r, 2)->supported);
    CHECK(firn_pq_reader_column(r, 1)->supported);
    CHECK_EQ_INT(firn_pq_reader_find_field(r, 42), 1);
    CHECK_EQ_INT(firn_pq_reader_find_path(r, "s.x"), 0);
    CHECK_EQ_INT(firn_pq_reader_find_path(r, "x"), -1);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_pq_column_data d;
    CHECK(firn_pq_reader_read_column(r, 0, 0, &a, &d, &err) != 0);
    CHECK_EQ_INT(err.kind, FIRN_ERR_UNSUPPORTED);
    CHECK(has(err.message, "column 's.x' cannot be read: nested column"));
    CHECK(firn_pq_reader_read_column(r, 0, 2, &a, &d, &err) != 0 && has(err.message, "nested"));
    CHECK_OK(firn_pq_reader_read_column(r, 0, 1, &a, &d, &err), &err);
    CHECK_MEM(d.values, v, sizeof v);
    CHECK(firn_pq_reader_read_column(r, 1, 1, &a, &d, &err) != 0);
    CHECK_EQ_INT(err.kind, FIRN_ERR_INVALID);
    firn_pq_reader_free(r);
    firn_arena_release(&a);
    firn_buf_release(&f);
    firn_error_release(&err);
}

/* ------------------------------------------------ row-group skipping */

static pq_statistics g_stats;
static void tw_stats(pq_file_metadata *md) {
    md->row_groups[0].columns[0].meta_data.has_statistics = true;
    md->row_groups[0].columns[0].meta_data.statistics = g_stats;
}

static firn_pq_reader *stats_file(firn_buf *f, pq_schema_element e, const void *body, size_t len, int64_t rows) {
    tpage p = data_page((int32_t)rows, PQ_ENC_PLAIN, body, len);
    build1(f, e, rows, &p, 1, tw_stats);
    return firn_pq_reader_open_mem(f->data, f->len, NULL);
}

#define MAY(r, op, v) firn_pq_reader_row_group_may_match((r), 0, 0, (op), &(v))

FIRN_TEST(parquet_reader_may_match) {
    firn_buf f = {0};
    static const int64_t vals[] = {10, 15, 20};
    uint8_t lo[8], hi[8];
    firn_store_le64(lo, 10);
    firn_store_le64(hi, 20);
    memset(&g_stats, 0, sizeof g_stats);
    g_stats.has_null_count = true;
    g_stats.has_min_value = g_stats.has_max_value = true;
    g_stats.min_value = (pq_bytes){lo, 8};
    g_stats.max_value = (pq_bytes){hi, 8};
    firn_pq_reader *r = stats_file(&f, leaf("c", PQ_INT64, PQ_OPTIONAL), vals, sizeof vals, 3);
    CHECK(r != NULL);
    firn_pq_value v = {.type = FIRN_PQ_LONG};
    v.i = 5;
    CHECK(!MAY(r, FIRN_PQ_EQ, v));
    CHECK(!MAY(r, FIRN_PQ_LT, v) && !MAY(r, FIRN_PQ_LE, v));
    CHECK(MAY(r, FIRN_PQ_GT, v) && MAY(r, FIRN_PQ_NE, v));
    v.i = 10;
    CHECK(MAY(r, FIRN_PQ_EQ, v) && !MAY(r, FIRN_PQ_LT, v) && MAY(r, FIRN_PQ_LE, v));
    v.i = 20;
    CHECK(MAY(r, FIRN_PQ_GE, v) && !MAY(r, FIRN_PQ_GT, v));
    v.i = 21;
    CHECK(!MAY(r, FIRN_PQ_EQ, v) && !MAY(r, FIRN_PQ_GE, v) && MAY(r, FIRN_PQ_LT, v));
    CHECK(!firn_pq_reader_row_group_may_match(r, 0, 0, FIRN_PQ_IS_NULL, NULL));
    CHECK(firn_pq_reader_row_group_may_match(r, 0, 0, FIRN_PQ_NOT_NULL, NULL));
    CHECK(firn_pq_reader_row_group_may_match(r, 5, 0, FIRN_PQ_EQ, &v)); /* out of range: unsure */
    firn_pq_reader_free(r);
    /* min == max == v: NE proves nothing matches */
    g_stats.min_value = (pq_bytes){hi, 8};
    r = stats_file(&f, leaf("c", PQ_INT64, PQ_OPTIONAL), vals, sizeof vals, 3);
    v.i = 20;
    CHECK(!MAY(r, FIRN_PQ_NE, v));
    firn_pq_reader_free(r);
    /* deprecated min/max: used for signed INT64, ignored for strings and UINT_64 */
    memset(&g_stats, 0, sizeof g_stats);
    g_stats.has_min = g_stats.has_max = true;
    g_stats.min = (pq_bytes){lo, 8};
    g_stats.max = (pq_bytes){hi, 8};
    r = stats_file(&f, leaf("c", PQ_INT64, PQ_REQUIRED), vals, sizeof vals, 3);
    v.i = 30;
    CHECK(!MAY(r, FIRN_PQ_EQ, v));
    CHECK(firn_pq_reader_row_group_may_match(r, 0, 0, FIRN_PQ_IS_NULL, NULL)); /* no null_count: unsure */
    firn_pq_reader_free(r);
    pq_schema_element ue = leaf("c", PQ_INT64, PQ_REQUIRED);
    ue.has_converted_type = true;
    ue.converted_type = PQ_CT_UINT_64;
    r = stats_file(&f, ue, vals, sizeof vals, 3);
    v = (firn_pq_value){.type = FIRN_PQ_DECIMAL, .i = 30};
    CHECK(MAY(r, FIRN_PQ_EQ, v));
    firn_pq_reader_free(r);
    static const uint8_t sv[] = {1, 0, 0, 0, 'b', 1, 0, 0, 0, 'c'};
    g_stats.min = (pq_bytes){(const uint8_t *)"b", 1};
    g_stats.max = (pq_bytes){(const uint8_t *)"c", 1};
    pq_schema_element se = leaf("c", PQ_BYTE_ARRAY, PQ_REQUIRED);
    se.logical_type.kind = PQ_LT_STRING;
    r = stats_file(&f, se, sv, sizeof sv, 2);
    firn_pq_value sval = {.type = FIRN_PQ_STRING, .bytes = (const uint8_t *)"z", .len = 1};
    CHECK(MAY(r, FIRN_PQ_EQ, sval)); /* deprecated byte-array order is signed: ignored */
    firn_pq_reader_free(r);
    /* min_value/max_value on strings: unsigned byte order */
    memset(&g_stats, 0, sizeof g_stats);
    g_stats.has_min_value = g_stats.has_max_value = true;
    g_stats.min_value = (pq_bytes){(const uint8_t *)"b", 1};
    g_stats.max_value = (pq_bytes){(const uint8_t *)"\xc3\xa9", 2};
    r = stats_file(&f, se, sv, sizeof sv, 2);
    CHECK(!MAY(r, FIRN_PQ_EQ, sval) == false); /* "z" < "\xc3\xa9" unsigned: may match */
    sval.bytes = (const uint8_t *)"a";
    CHECK(!MAY(r, FIRN_PQ_EQ, sval));
    sval.bytes = (const uint8_t *)"\xc3\xa9z";
    sval.len = 3;
    CHECK(!MAY(r, FIRN_PQ_EQ, sval) && MAY(r, FIRN_PQ_GT, sval) == false);
    sval.bytes = (const uint8_t *)"b";
    sval.len = 1;
    CHECK(MAY(r, FIRN_PQ_EQ, sval) && !MAY(r, FIRN_PQ_LT, sval));
    firn_pq_reader_free(r);
    /* all null: nothing but IS_NULL matches */
    memset(&g_stats, 0, sizeof g_stats);
    g_stats.has_null_count = true;
    g_stats.null_count = 2;
    r = stats_file(&f, se, sv, sizeof sv, 2);
    CHECK(!MAY(r, FIRN_PQ_EQ, sval) && !MAY(r, FIRN_PQ_NE, sval));
    CHECK(firn_pq_reader_row_group_may_match(r, 0, 0, FIRN_PQ_IS_NULL, NULL));
    CHECK(!firn_pq_reader_row_group_may_match(r, 0, 0, FIRN_PQ_NOT_NULL, NULL));
    firn_pq_reader_free(r);
    /* no statistics at all: unsure */
    memset(&g_stats, 0, sizeof g_stats);
    r = stats_file(&f, se, sv, sizeof sv, 2);
    CHECK(MAY(r, FIRN_PQ_EQ, sval) && MAY(r, FIRN_PQ_LT, sval));
    firn_pq_reader_free(r);
    /* doubles: a NaN bound is ignored, -0.0 == +0.0 */
    double dlo = NAN, dhi = 0.0;
    memset(&g_stats, 0, sizeof g_stats);
    g_stats.has_min_value = g_stats.has_max_value = true;
    g_stats.min_value = (pq_bytes){(const uint8_t *)&dlo, 8};
    g_stats.max_value = (pq_bytes){(const uint8_t *)&dhi, 8};
    static const double dv[] = {0.0, -1.0};
    r = stats_file(&f, leaf("c", PQ_DOUBLE, PQ_REQUIRED), dv, sizeof dv, 2);
    firn_pq_value dval = {.type = FIRN_PQ_DOUBLE, .d = -1e300};
    CHECK(MAY(r, FIRN_PQ_EQ, dval) && MAY(r, FIRN_PQ_LT, dval));
    dval.d = 1.0;
    CHECK(!MAY(r, FIRN_PQ_EQ, dval) && !MAY(r, FIRN_PQ_GE, dval));
    dval.d = -0.0;
    CHECK(MAY(r, FIRN_PQ_GE, dval) && MAY(r, FIRN_PQ_NE, dval));
    dval.d = NAN;
    CHECK(MAY(r, FIRN_PQ_EQ, dval));
    firn_pq_reader_free(r);
    /* TIMESTAMP(MILLIS) bounds are compared in micros */
    memset(&g_stats, 0, sizeof g_stats);
    g_stats.has_min_value = g_stats.has_max_value = true;
    g_stats.min_value = (pq_bytes){lo, 8};
    g_stats.max_value = (pq_bytes){hi, 8};
    pq_schema_element te = leaf("c", PQ_INT64, PQ_REQUIRED);
    te.logical_type = (pq_logical_type){.kind = PQ_LT_TIMESTAMP, .unit = PQ_UNIT_MILLIS};
    r = stats_file(&f, te, vals, sizeof vals, 3);
    v = (firn_pq_value){.type = FIRN_PQ_TIMESTAMP, .i = 15000};
    CHECK(MAY(r, FIRN_PQ_EQ, v));
    v.i = 25;
    CHECK(!MAY(r, FIRN_PQ_EQ, v));
    firn_pq_reader_free(r);
    /* decimal(38) in FLBA: signed big-endian, bounds of other widths */
    static const uint8_t dmin[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x9c}; /* -100 */
    static const uint8_t dmax[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00}; /* 256 */
    memset(&g_stats, 0, sizeof g_stats);
    g_stats.has_min_value = g_stats.has_max_value = true;
    g_stats.min_value = (pq_bytes){dmin, 16};
    g_stats.max_value = (pq_bytes){dmax, 16};
    pq_schema_element de = leaf("c", PQ_FIXED_LEN_BYTE_ARRAY, PQ_REQUIRED);
    de.has_type_length = true;
    de.type_length = 16;
    de.logical_type = (pq_logical_type){.kind = PQ_LT_DECIMAL, .precision = 38, .scale = 0};
    uint8_t body[32];
    memcpy(body, dmin, 16);
    memcpy(body + 16, dmax, 16);
    r = stats_file(&f, de, body, 32, 2);
    static const uint8_t m101[] = {0xff, 0x9b}, p5[] = {0x05}, p300[] = {0x01, 0x2c};
    firn_pq_value dv2 = {.type = FIRN_PQ_DECIMAL, .bytes = m101, .len = 2};
    CHECK(!MAY(r, FIRN_PQ_EQ, dv2) && MAY(r, FIRN_PQ_GT, dv2) && !MAY(r, FIRN_PQ_LE, dv2));
    dv2.bytes = p5;
    dv2.len = 1;
    CHECK(MAY(r, FIRN_PQ_EQ, dv2));
    dv2.bytes = p300;
    dv2.len = 2;
    CHECK(!MAY(r, FIRN_PQ_EQ, dv2) && MAY(r, FIRN_PQ_LT, dv2));
    firn_pq_chunk_info ci;
    CHECK_OK(firn_pq_reader_chunk_info(r, 0, 0, &ci, NULL), NULL);
    CHECK(ci.has_min && ci.min.len == 16 && memcmp(ci.min.bytes, dmin, 16) == 0);
    firn_pq_reader_free(r);
    firn_buf_release(&f);
}

/* ------------------------------------------- tests/data/parquet files */

/* Read every column of every row group; values checked for their shape.
 * Returns the number of columns read. */
static size_t read_everything(firn_pq_reader *r, firn_arena *a, uint64_t *checksum) {
    size_t ok = 0;
    firn_error err;
    firn_error_init(&err);
    for (size_t g = 0; g < firn_pq_reader_num_row_groups(r); g++) {
        size_t n = (size_t)firn_pq_reader_row_group_rows(r, g);
        for (size_t c = 0; c < firn_pq_reader_num_columns(r); c++) {
            const firn_pq_column_desc *d = firn_pq_reader_column(r, c);
            firn_pq_column_data col;
            int rc = firn_pq_reader_read_column(r, g, c, a, &col, &err);
            if (rc != 0) {
                if (err.kind != FIRN_ERR_CORRUPT && err.kind != FIRN_ERR_UNSUPPORTED && err.kind != FIRN_ERR_LIMIT) {
                    firn_test_fail(__FILE__, __LINE__, "unexpected error kind %d: %s", err.kind, err.message);
                }
                continue;
            }
            ok++;
            /* touch every byte the layout promises */
            uint64_t s = 0;
            if (col.validity)
                for (size_t i = 0; i < n; i++) s += col.validity[i];
            if (d->type == FIRN_PQ_STRING || d->type == FIRN_PQ_BINARY) {
                if (col.offsets[0] != 0) firn_test_fail(__FILE__, __LINE__, "offsets[0] != 0");
                for (size_t i = 0; i < n; i++) {
                    if (col.offsets[i + 1] < col.offsets[i]) firn_test_fail(__FILE__, __LINE__, "offsets decrease");
                    for (int64_t k = col.offsets[i]; k < col.offsets[i + 1]; k++) s += col.data[k];
                }
            } else {
                size_t w = d->type == FIRN_PQ_BOOLEAN ? 1
                           : d->type == FIRN_PQ_INT || d->type == FIRN_PQ_DATE || d->type == FIRN_PQ_FLOAT ? 4
                           : d->type == FIRN_PQ_UUID ? 16
                           : d->type == FIRN_PQ_FIXED ? (size_t)d->length
                           : d->type == FIRN_PQ_DECIMAL && d->precision > 18 ? (size_t)firn_pq_decimal_width(d->precision)
                           : d->type == FIRN_PQ_DECIMAL && d->precision <= 9 ? 4
                                                                             : 8;
                const uint8_t *v = col.values;
                for (size_t i = 0; i < n * w; i++) s += v[i];
            }
            *checksum += s;
        }
    }
    firn_error_release(&err);
    return ok;
}

FIRN_TEST(parquet_reader_data_files_values) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    for (size_t fi = 0; fi < NDATA; fi++) {
        size_t len;
        uint8_t *data = load_data(data_files[fi], &len);
        CHECK_MSG(data != NULL, "cannot read tests/data/parquet/%s (run from the repository root)", data_files[fi]);
        firn_pq_reader *r = firn_pq_reader_open_mem(data, len, &err);
        CHECK_MSG(r != NULL, "%s: %s", data_files[fi], err.message);
        CHECK_EQ_INT(firn_pq_reader_num_rows(r), 50);
        bool duck = data_files[fi][0] == 'd';
        CHECK_EQ_INT(firn_pq_reader_num_columns(r), duck ? 28 : 25);
        uint64_t sum = 0;
        CHECK_EQ_INT(read_everything(r, &a, &sum), firn_pq_reader_num_columns(r));
        /* id = row number */
        firn_pq_column_data c;
        CHECK_OK(firn_pq_reader_read_column(r, 0, 0, &a, &c, &err), &err);
        for (int64_t i = 0; i < 50; i++) CHECK_EQ_INT(((const int64_t *)c.values)[i], i);
        if (duck) {
            /* c_int: row 2 = INT32_MIN, row 4 = INT32_MAX, null when i % 13 == 1 */
            int k = firn_pq_reader_find_path(r, "c_int");
            CHECK_OK(firn_pq_reader_read_column(r, 0, (size_t)k, &a, &c, &err), &err);
            CHECK(((const int32_t *)c.values)[2] == INT32_MIN && ((const int32_t *)c.values)[4] == INT32_MAX);
            CHECK(c.validity && !c.validity[1] && !c.validity[14] && c.validity[2]);
            /* c_varchar: '' at 1, unicode at 2, null at 0 */
            k = firn_pq_reader_find_path(r, "c_varchar");
            CHECK_OK(firn_pq_reader_read_column(r, 0, (size_t)k, &a, &c, &err), &err);
            CHECK(!c.validity[0] && c.validity[1] && c.offsets[2] == c.offsets[1]);
            const char *uni = "ünïcødé ✓ 日本語 🚀";
            CHECK((size_t)(c.offsets[3] - c.offsets[2]) == strlen(uni));
            CHECK(memcmp(c.data + c.offsets[2], uni, strlen(uni)) == 0);
            /* types as mapped */
            const firn_pq_column_desc *d = firn_pq_reader_column(r, (size_t)firn_pq_reader_find_path(r, "c_dec38"));
            CHECK(d->type == FIRN_PQ_DECIMAL && d->precision == 38 && d->scale == 10);
            d = firn_pq_reader_column(r, (size_t)firn_pq_reader_find_path(r, "c_ubigint"));
            CHECK(d->type == FIRN_PQ_DECIMAL && d->precision == 20 && d->scale == 0);
            d = firn_pq_reader_column(r, (size_t)firn_pq_reader_find_path(r, "c_uinteger"));
            CHECK(d->type == FIRN_PQ_LONG);
            d = firn_pq_reader_column(r, (size_t)firn_pq_reader_find_path(r, "c_tstz"));
            CHECK(d->type == FIRN_PQ_TIMESTAMPTZ);
            d = firn_pq_reader_column(r, (size_t)firn_pq_reader_find_path(r, "c_ts_ns"));
            CHECK(d->type == FIRN_PQ_TIMESTAMP_NS);
            d = firn_pq_reader_column(r, (size_t)firn_pq_reader_find_path(r, "c_uuid"));
            CHECK(d->type == FIRN_PQ_UUID);
            d = firn_pq_reader_column(r, (size_t)firn_pq_reader_find_path(r, "c_enum"));
            CHECK(d->type == FIRN_PQ_STRING);
            CHECK(has(firn_pq_reader_created_by(r), "DuckDB"));
        } else {
            const firn_pq_column_desc *d = firn_pq_reader_column(r, (size_t)firn_pq_reader_find_path(r, "c_u64"));
            CHECK(d->type == FIRN_PQ_DECIMAL && d->precision == 20);
            d = firn_pq_reader_column(r, (size_t)firn_pq_reader_find_path(r, "c_time_ms"));
            CHECK(d->type == FIRN_PQ_TIME);
            d = firn_pq_reader_column(r, (size_t)firn_pq_reader_find_path(r, "c_ts_us_tz"));
            CHECK(d->type == FIRN_PQ_TIMESTAMPTZ);
            d = firn_pq_reader_column(r, (size_t)firn_pq_reader_find_path(r, "c_fixed16"));
            CHECK(d->type == FIRN_PQ_FIXED && d->length == 16);
            CHECK(firn_pq_reader_kv(r, "ARROW:schema") != NULL);
            /* c_time_ms (TIME(MILLIS) in INT32) as micros: (i * 1234567) % 86400000 ms */
            int k = firn_pq_reader_find_path(r, "c_time_ms");
            CHECK_OK(firn_pq_reader_read_column(r, 0, (size_t)k, &a, &c, &err), &err);
            CHECK(((const int64_t *)c.values)[3] == INT64_C(3703701000));
        }
        firn_pq_reader_free(r);
        free(data);
        firn_arena_reset(&a);
    }
    firn_arena_release(&a);
    firn_error_release(&err);
}

static bool same_column(const firn_pq_column_desc *d, const firn_pq_column_data *x, const firn_pq_column_data *y,
                        size_t n) {
    if ((x->validity == NULL) != (y->validity == NULL)) return false;
    if (x->validity && memcmp(x->validity, y->validity, n) != 0) return false;
    if (d->type == FIRN_PQ_STRING || d->type == FIRN_PQ_BINARY)
        return memcmp(x->offsets, y->offsets, (n + 1) * 8) == 0 && memcmp(x->data, y->data, (size_t)x->offsets[n]) == 0;
    size_t w = d->type == FIRN_PQ_BOOLEAN ? 1
               : d->type == FIRN_PQ_INT || d->type == FIRN_PQ_DATE || d->type == FIRN_PQ_FLOAT ? 4
               : d->type == FIRN_PQ_UUID ? 16
               : d->type == FIRN_PQ_FIXED ? (size_t)d->length
               : d->type == FIRN_PQ_DECIMAL && d->precision > 18 ? (size_t)firn_pq_decimal_width(d->precision)
               : d->type == FIRN_PQ_DECIMAL && d->precision <= 9 ? 4
                                                                 : 8;
    return memcmp(x->values, y->values, n * w) == 0;
}

/* The same rows written with data page v1 (plain/dictionary) and v2 (delta,
 * byte stream split) read back identically. */
FIRN_TEST(parquet_reader_data_files_v1_equals_v2) {
    const char *pairs[2][2] = {{"duckdb_v1_snappy.parquet", "duckdb_v2_zstd.parquet"},
                               {"arrowrs_v1_dict.parquet", "arrowrs_v2_delta.parquet"}};
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    for (int p = 0; p < 2; p++) {
        size_t l1, l2;
        uint8_t *d1 = load_data(pairs[p][0], &l1), *d2 = load_data(pairs[p][1], &l2);
        CHECK(d1 && d2);
        firn_pq_reader *r1 = firn_pq_reader_open_mem(d1, l1, &err), *r2 = firn_pq_reader_open_mem(d2, l2, &err);
        CHECK(r1 && r2);
        CHECK_EQ_INT(firn_pq_reader_num_columns(r1), firn_pq_reader_num_columns(r2));
        for (size_t c = 0; c < firn_pq_reader_num_columns(r1); c++) {
            const firn_pq_column_desc *dc = firn_pq_reader_column(r1, c);
            CHECK_EQ_STR(dc->path, firn_pq_reader_column(r2, c)->path);
            CHECK_EQ_INT(dc->type, firn_pq_reader_column(r2, c)->type);
            firn_pq_column_data x, y;
            CHECK_OK(firn_pq_reader_read_column(r1, 0, c, &a, &x, &err), &err);
            CHECK_OK(firn_pq_reader_read_column(r2, 0, c, &a, &y, &err), &err);
            CHECK_MSG(same_column(dc, &x, &y, 50), "%s: column %s differs", pairs[p][1], dc->path);
        }
        firn_pq_reader_free(r1);
        firn_pq_reader_free(r2);
        free(d1);
        free(d2);
    }
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* The checked-in files cover data page v2 and the encodings firn reads. */
FIRN_TEST(parquet_reader_data_files_cover_page_kinds) {
    bool page_kind[4] = {0}, enc[10] = {0};
    firn_error err;
    firn_error_init(&err);
    for (size_t fi = 0; fi < NDATA; fi++) {
        size_t len;
        uint8_t *data = load_data(data_files[fi], &len);
        CHECK(data);
        firn_arena a;
        firn_arena_init(&a, 0);
        pq_file_metadata md;
        uint32_t flen = firn_load_le32(data + len - 8);
        CHECK_OK(pq_decode_file_metadata(data + len - 8 - flen, flen, &a, &md, &err), &err);
        for (uint32_t c = 0; c < md.row_groups[0].ncolumns; c++) {
            const pq_column_meta_data *m = &md.row_groups[0].columns[c].meta_data;
            int64_t pos = m->has_dictionary_page_offset && m->dictionary_page_offset > 0 ? m->dictionary_page_offset
                                                                                          : m->data_page_offset;
            int64_t end = pos + m->total_compressed_size;
            while (pos < end) {
                pq_page_header ph;
                size_t hl;
                CHECK_OK(pq_decode_page_header(data + pos, (size_t)(end - pos), &ph, &hl, &err), &err);
                if (ph.type >= 0 && ph.type < 4) page_kind[ph.type] = true;
                int e = ph.has_data_page_header      ? ph.data_page_header.encoding
                        : ph.has_data_page_header_v2 ? ph.data_page_header_v2.encoding
                                                     : -1;
                if (e >= 0 && e < 10) enc[e] = true;
                pos += (int64_t)hl + ph.compressed_page_size;
            }
        }
        firn_arena_release(&a);
        free(data);
    }
    CHECK(page_kind[PQ_PAGE_DATA] && page_kind[PQ_PAGE_DATA_V2] && page_kind[PQ_PAGE_DICTIONARY]);
    CHECK(enc[PQ_ENC_PLAIN] && enc[PQ_ENC_PLAIN_DICTIONARY] && enc[PQ_ENC_RLE_DICTIONARY]);
    CHECK(enc[PQ_ENC_DELTA_BINARY_PACKED] && enc[PQ_ENC_DELTA_BYTE_ARRAY] && enc[PQ_ENC_DELTA_LENGTH_BYTE_ARRAY]);
    CHECK(enc[PQ_ENC_BYTE_STREAM_SPLIT]);
    firn_error_release(&err);
}

/* Row-group skipping never skips a row group that holds a matching row:
 * every value of every int/long/date/timestamp/double/string column is
 * probed with every operator against the row group's real contents. */
FIRN_TEST(parquet_reader_may_match_is_sound) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    size_t pruned = 0;
    for (size_t fi = 0; fi < NDATA; fi++) {
        size_t len;
        uint8_t *data = load_data(data_files[fi], &len);
        CHECK(data);
        firn_pq_reader *r = firn_pq_reader_open_mem(data, len, &err);
        CHECK(r);
        size_t n = (size_t)firn_pq_reader_row_group_rows(r, 0);
        for (size_t c = 0; c < firn_pq_reader_num_columns(r); c++) {
            const firn_pq_column_desc *d = firn_pq_reader_column(r, c);
            int kind = d->type == FIRN_PQ_STRING || d->type == FIRN_PQ_BINARY ? 2
                       : d->type == FIRN_PQ_DOUBLE || d->type == FIRN_PQ_FLOAT ? 1
                       : d->type == FIRN_PQ_INT || d->type == FIRN_PQ_LONG || d->type == FIRN_PQ_DATE ||
                               d->type == FIRN_PQ_TIMESTAMP || d->type == FIRN_PQ_TIMESTAMPTZ ||
                               d->type == FIRN_PQ_TIME
                           ? 0
                           : -1;
            if (kind < 0) continue;
            firn_pq_column_data col;
            CHECK_OK(firn_pq_reader_read_column(r, 0, c, &a, &col, &err), &err);
            /* probe values: each present value, and each +/- a little */
            for (size_t pi = 0; pi < n; pi++) {
                if (col.validity && !col.validity[pi]) continue;
                for (int delta = -1; delta <= 1; delta++) {
                    firn_pq_value v = {.type = d->type};
                    if (kind == 0) {
                        int64_t x = d->type == FIRN_PQ_INT || d->type == FIRN_PQ_DATE ? ((const int32_t *)col.values)[pi]
                                                                                       : ((const int64_t *)col.values)[pi];
                        v.i = (int64_t)((uint64_t)x + (uint64_t)(delta * 1000003));
                    } else if (kind == 1) {
                        double x = d->type == FIRN_PQ_FLOAT ? ((const float *)col.values)[pi] : ((const double *)col.values)[pi];
                        if (isnan(x)) continue;
                        v.d = x + delta * 12345.5;
                    } else {
                        v.bytes = col.data + col.offsets[pi];
                        v.len = (size_t)(col.offsets[pi + 1] - col.offsets[pi]) - (delta < 0 && col.offsets[pi + 1] > col.offsets[pi]);
                    }
                    for (int op = FIRN_PQ_EQ; op <= FIRN_PQ_GE; op++) {
                        /* the truth, by scanning */
                        bool any = false;
                        for (size_t i = 0; i < n && !any; i++) {
                            if (col.validity && !col.validity[i]) continue;
                            int cmp;
                            if (kind == 0) {
                                int64_t x = d->type == FIRN_PQ_INT || d->type == FIRN_PQ_DATE ? ((const int32_t *)col.values)[i]
                                                                                               : ((const int64_t *)col.values)[i];
                                cmp = x < v.i ? -1 : x > v.i;
                            } else if (kind == 1) {
                                double x = d->type == FIRN_PQ_FLOAT ? ((const float *)col.values)[i] : ((const double *)col.values)[i];
                                if (isnan(x)) continue;
                                cmp = x < v.d ? -1 : x > v.d;
                            } else {
                                size_t xl = (size_t)(col.offsets[i + 1] - col.offsets[i]);
                                size_t m = xl < v.len ? xl : v.len;
                                cmp = m ? memcmp(col.data + col.offsets[i], v.bytes, m) : 0;
                                if (!cmp) cmp = xl < v.len ? -1 : xl > v.len;
                            }
                            switch (op) {
                            case FIRN_PQ_EQ: any = cmp == 0; break;
                            case FIRN_PQ_NE: any = cmp != 0; break;
                            case FIRN_PQ_LT: any = cmp < 0; break;
                            case FIRN_PQ_LE: any = cmp <= 0; break;
                            case FIRN_PQ_GT: any = cmp > 0; break;
                            default: any = cmp >= 0; break;
                            }
                        }
                        bool may = firn_pq_reader_row_group_may_match(r, 0, c, (firn_pq_op)op, &v);
                        CHECK_MSG(may || !any, "%s column %s op %d probe %zu/%d: skipped a matching row group",
                                  data_files[fi], d->path, op, pi, delta);
                        if (!may) pruned++;
                    }
                }
            }
            bool nulls = false;
            for (size_t i = 0; i < n; i++) nulls |= col.validity && !col.validity[i];
            if (nulls) CHECK(firn_pq_reader_row_group_may_match(r, 0, c, FIRN_PQ_IS_NULL, NULL));
            else if (col.validity == NULL && d->optional)
                CHECK(firn_pq_reader_row_group_may_match(r, 0, c, FIRN_PQ_NOT_NULL, NULL));
        }
        firn_pq_reader_free(r);
        free(data);
        firn_arena_reset(&a);
    }
    CHECK_MSG(pruned > 1000, "statistics pruned only %zu probes", pruned);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* ----------------------------------------------- firn writer -> reader */

static int buf_sink(void *ctx, const void *data, size_t n, firn_error *err) {
    (void)err;
    firn_buf_append(ctx, data, n);
    return 0;
}

/* Every type the writer has, with nulls, through every codec, v1 and v2,
 * dictionary and plain: the reader returns exactly what was written. */
FIRN_TEST(parquet_reader_roundtrip_firn_writer) {
    enum { N = 3000, NC = 16 };
    static const firn_pq_type types[NC] = {
        FIRN_PQ_BOOLEAN, FIRN_PQ_INT, FIRN_PQ_LONG, FIRN_PQ_FLOAT, FIRN_PQ_DOUBLE, FIRN_PQ_DECIMAL,
        FIRN_PQ_DECIMAL, FIRN_PQ_DECIMAL, FIRN_PQ_DATE, FIRN_PQ_TIME, FIRN_PQ_TIMESTAMPTZ,
        FIRN_PQ_TIMESTAMP_NS, FIRN_PQ_STRING, FIRN_PQ_UUID, FIRN_PQ_FIXED, FIRN_PQ_BINARY};
    static const int32_t prec[NC] = {[5] = 9, [6] = 18, [7] = 38};
    firn_pq_column_spec spec[NC];
    static uint8_t valid[NC][N];
    static uint8_t vals[NC][N * 16];
    static int64_t offs[NC][N + 1];
    firn_buf bytes[NC];
    char names[NC][16];
    memset(spec, 0, sizeof spec);
    for (int c = 0; c < NC; c++) {
        snprintf(names[c], sizeof names[c], "c%u", (unsigned)c & 0xff);
        spec[c] = (firn_pq_column_spec){.name = names[c], .field_id = c + 1, .type = types[c], .optional = c % 3 != 0,
                                        .precision = prec[c], .scale = prec[c] ? 2 : 0,
                                        .length = types[c] == FIRN_PQ_FIXED ? 5 : 0, .codec = FIRN_PQ_CODEC_DEFAULT,
                                        .no_dictionary = c % 4 == 1};
        firn_buf_init(&bytes[c]);
        size_t w = types[c] == FIRN_PQ_BOOLEAN ? 1
                   : types[c] == FIRN_PQ_INT || types[c] == FIRN_PQ_DATE || types[c] == FIRN_PQ_FLOAT ? 4
                   : types[c] == FIRN_PQ_UUID || (types[c] == FIRN_PQ_DECIMAL && prec[c] == 38) ? 16
                   : types[c] == FIRN_PQ_FIXED ? 5
                   : types[c] == FIRN_PQ_DECIMAL && prec[c] == 9 ? 4
                                                                 : 8;
        offs[c][0] = 0;
        for (size_t i = 0; i < N; i++) {
            valid[c][i] = !spec[c].optional || (rnd() % 7 != 0);
            uint64_t x = rnd() % (i % 3 ? 50 : UINT64_MAX); /* repeats: dictionary pages */
            uint8_t *v = vals[c] + i * w;
            memset(v, 0, w);
            if (valid[c][i]) {
                switch (types[c]) {
                case FIRN_PQ_BOOLEAN: v[0] = x & 1; break;
                case FIRN_PQ_FLOAT: {
                    float fl = (float)((double)(int64_t)x / 7.0);
                    memcpy(v, &fl, 4);
                    break;
                }
                case FIRN_PQ_DOUBLE: {
                    double dd = (double)(int64_t)x / 3.0;
                    memcpy(v, &dd, 8);
                    break;
                }
                case FIRN_PQ_DECIMAL:
                    if (prec[c] == 9) {
                        int32_t y = (int32_t)(x % 999999999) - 499999999;
                        memcpy(v, &y, 4);
                    } else if (prec[c] == 18) {
                        int64_t y = (int64_t)(x % 999999999999999999ull) - 499999999999999999ll;
                        memcpy(v, &y, 8);
                    } else {
                        memset(v, x & 1 ? 0xff : 0, 16);
                        for (int k = 0; k < 8; k++) v[15 - k] = (uint8_t)(x >> (8 * k));
                        v[1] = (uint8_t)(x & 0x7f) | (x & 1 ? 0x80 : 0);
                        v[0] = x & 1 ? 0xff : 0x00;
                    }
                    break;
                case FIRN_PQ_TIME: {
                    int64_t y = (int64_t)(x % 86400000000ull);
                    memcpy(v, &y, 8);
                    break;
                }
                case FIRN_PQ_UUID:
                case FIRN_PQ_FIXED:
                    for (size_t k = 0; k < w; k++) v[k] = (uint8_t)(x >> (k % 8 * 8));
                    break;
                case FIRN_PQ_INT:
                case FIRN_PQ_DATE: {
                    int32_t y = (int32_t)(x % 2000000) - 1000000;
                    memcpy(v, &y, 4);
                    break;
                }
                default: memcpy(v, &x, 8); break;
                }
                if (types[c] == FIRN_PQ_STRING || types[c] == FIRN_PQ_BINARY) {
                    char s[64];
                    int l = snprintf(s, sizeof s, "%s%llu", types[c] == FIRN_PQ_STRING ? "välue-" : "\x01\x02",
                                     (unsigned long long)(x % 100000));
                    if (x % 11 == 0) l = 0;
                    firn_buf_append(&bytes[c], s, (size_t)l);
                }
            }
            offs[c][i + 1] = (int64_t)bytes[c].len;
        }
    }
    static const firn_pq_codec codecs[] = {FIRN_PQ_UNCOMPRESSED, FIRN_PQ_SNAPPY, FIRN_PQ_GZIP, FIRN_PQ_ZSTD,
                                           FIRN_PQ_LZ4_RAW};
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    for (size_t k = 0; k < sizeof codecs / sizeof codecs[0] * 2; k++) {
        firn_pq_writer_options o = {.codec = codecs[k / 2], .data_page_v2 = k % 2, .page_rows = 700,
                                    .row_group_bytes = 40000};
        firn_buf file = {0};
        firn_pq_writer *w = firn_pq_writer_new(spec, NC, &o, buf_sink, &file, &err);
        CHECK_MSG(w != NULL, "%s", err.message);
        for (size_t off = 0; off < N; off += 1000) {
            firn_pq_column_data cd[NC];
            for (int c = 0; c < NC; c++) {
                size_t wd = types[c] == FIRN_PQ_BOOLEAN ? 1
                            : types[c] == FIRN_PQ_INT || types[c] == FIRN_PQ_DATE || types[c] == FIRN_PQ_FLOAT ? 4
                            : types[c] == FIRN_PQ_UUID || (types[c] == FIRN_PQ_DECIMAL && prec[c] == 38) ? 16
                            : types[c] == FIRN_PQ_FIXED ? 5
                            : types[c] == FIRN_PQ_DECIMAL && prec[c] == 9 ? 4
                                                                          : 8;
                cd[c] = (firn_pq_column_data){.validity = spec[c].optional ? valid[c] + off : NULL,
                                              .values = vals[c] + off * wd, .offsets = offs[c] + off,
                                              .data = bytes[c].data};
            }
            CHECK_OK(firn_pq_writer_write(w, cd, 1000, &err), &err);
        }
        firn_pq_file_info info;
        CHECK_OK(firn_pq_writer_close(w, &info, &err), &err);
        firn_pq_reader *r = firn_pq_reader_open_mem(file.data, file.len, &err);
        CHECK_MSG(r != NULL, "%s", err.message);
        CHECK_EQ_INT(firn_pq_reader_num_rows(r), N);
        CHECK_MSG(firn_pq_reader_num_row_groups(r) > 1, "codec %d: one row group", codecs[k / 2]);
        size_t row0 = 0;
        for (size_t g = 0; g < firn_pq_reader_num_row_groups(r); g++) {
            size_t n = (size_t)firn_pq_reader_row_group_rows(r, g);
            for (int c = 0; c < NC; c++) {
                const firn_pq_column_desc *d = firn_pq_reader_column(r, (size_t)c);
                CHECK_EQ_INT(d->field_id, c + 1);
                CHECK_EQ_INT(d->type, types[c]);
                firn_pq_column_data col;
                CHECK_OK(firn_pq_reader_read_column(r, g, (size_t)c, &a, &col, &err), &err);
                for (size_t i = 0; i < n; i++) {
                    size_t ri = row0 + i;
                    bool present = !col.validity || col.validity[i];
                    CHECK_MSG(present == (bool)valid[c][ri], "codec %d v2 %d column %d row %zu: validity",
                              codecs[k / 2], (int)(k % 2), c, ri);
                    if (!present) continue;
                    if (types[c] == FIRN_PQ_STRING || types[c] == FIRN_PQ_BINARY) {
                        int64_t l = col.offsets[i + 1] - col.offsets[i];
                        CHECK(l == offs[c][ri + 1] - offs[c][ri]);
                        CHECK(memcmp(col.data + col.offsets[i], bytes[c].data + offs[c][ri], (size_t)l) == 0);
                    } else {
                        size_t wd = types[c] == FIRN_PQ_BOOLEAN ? 1
                                    : types[c] == FIRN_PQ_INT || types[c] == FIRN_PQ_DATE || types[c] == FIRN_PQ_FLOAT ? 4
                                    : types[c] == FIRN_PQ_UUID || (types[c] == FIRN_PQ_DECIMAL && prec[c] == 38) ? 16
                                    : types[c] == FIRN_PQ_FIXED ? 5
                                    : types[c] == FIRN_PQ_DECIMAL && prec[c] == 9 ? 4
                                                                                  : 8;
                        CHECK_MSG(memcmp((const uint8_t *)col.values + i * wd, vals[c] + ri * wd, wd) == 0,
                                  "codec %d v2 %d column %d row %zu: value", codecs[k / 2], (int)(k % 2), c, ri);
                    }
                }
            }
            row0 += n;
            firn_arena_reset(&a);
        }
        firn_pq_reader_free(r);
        firn_pq_writer_free(w);
        firn_buf_release(&file);
    }
    for (int c = 0; c < NC; c++) firn_buf_release(&bytes[c]);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* ------------------------------------------------- corrupt input */

static void set_small_limits(firn_pq_reader *r) {
    pq_read_limits l = {.max_page_bytes = 1 << 24, .max_column_bytes = 1 << 26};
    pq_reader_set_limits(r, &l);
}

/* Open and read everything; any outcome but a crash or an unexpected error
 * kind is fine. Returns true when the file opened. */
static bool try_file(const uint8_t *d, size_t n, firn_arena *a) {
    firn_error err;
    firn_error_init(&err);
    firn_pq_reader *r = firn_pq_reader_open_mem(d, n, &err);
    if (!r) {
        if (err.kind != FIRN_ERR_CORRUPT && err.kind != FIRN_ERR_UNSUPPORTED)
            firn_test_fail(__FILE__, __LINE__, "open: unexpected error kind %d: %s", err.kind, err.message);
        firn_error_release(&err);
        return false;
    }
    set_small_limits(r);
    uint64_t sum = 0;
    read_everything(r, a, &sum);
    firn_pq_value v = {.type = FIRN_PQ_LONG, .i = 1};
    firn_pq_value s = {.type = FIRN_PQ_STRING, .bytes = (const uint8_t *)"m", .len = 1};
    for (size_t g = 0; g < firn_pq_reader_num_row_groups(r); g++)
        for (size_t c = 0; c < firn_pq_reader_num_columns(r); c++) {
            firn_pq_chunk_info ci;
            firn_pq_reader_chunk_info(r, g, c, &ci, NULL);
            for (int op = FIRN_PQ_EQ; op <= FIRN_PQ_NOT_NULL; op += 3) {
                firn_pq_reader_row_group_may_match(r, g, c, (firn_pq_op)op, &v);
                firn_pq_reader_row_group_may_match(r, g, c, (firn_pq_op)op, &s);
            }
        }
    firn_pq_reader_free(r);
    firn_arena_reset(a);
    firn_error_release(&err);
    return true;
}

FIRN_TEST(parquet_reader_corrupt_truncations) {
    firn_arena a;
    firn_arena_init(&a, 0);
    for (size_t fi = 0; fi < NDATA; fi++) {
        size_t len;
        uint8_t *data = load_data(data_files[fi], &len);
        CHECK(data);
        /* truncated at every offset: a fresh copy each time so ASan sees the end */
        for (size_t n = 0; n < len; n++) {
            uint8_t *cut = malloc(n ? n : 1);
            memcpy(cut, data, n);
            try_file(cut, n, &a);
            free(cut);
        }
        /* the data cut short before an intact footer: offsets now point past it */
        uint32_t flen = firn_load_le32(data + len - 8);
        size_t fstart = len - 8 - flen;
        for (size_t keep = 0; keep < fstart; keep += 1 + keep / 16) {
            size_t n = keep + flen + 8;
            uint8_t *f = malloc(n);
            memcpy(f, data, keep);
            memcpy(f + keep, data + fstart, flen + 8);
            try_file(f, n, &a);
            free(f);
        }
        /* every footer length, and some absurd ones */
        uint8_t *g = malloc(len);
        for (uint64_t fl = 0; fl <= len + 16; fl++) {
            memcpy(g, data, len);
            firn_store_le32(g + len - 8, (uint32_t)fl);
            bool opened = try_file(g, len, &a);
            if (fl == flen) CHECK_MSG(opened, "%s: the true footer length does not open", data_files[fi]);
        }
        static const uint32_t absurd[] = {UINT32_MAX, UINT32_MAX - 7, 0x80000000u, 0x7fffffff};
        for (size_t i = 0; i < 4; i++) {
            memcpy(g, data, len);
            firn_store_le32(g + len - 8, absurd[i]);
            CHECK(!try_file(g, len, &a));
        }
        free(g);
        free(data);
    }
    firn_arena_release(&a);
}

FIRN_TEST(parquet_reader_corrupt_byte_flips) {
    /* Every byte of every file with three mutations under FIRN_TEST_LONG=1;
     * by default every other footer byte and every 11th page byte of two
     * files (one DuckDB, one arrow-rs), one mutation each (rotating), so the
     * test stays quick under valgrind. The fuzzers go further. */
    firn_arena a;
    firn_arena_init(&a, 0);
    bool full = getenv("FIRN_TEST_LONG") != NULL;
    size_t opened = 0, tried = 0;
    static const uint8_t masks[] = {0xff, 0x01, 0x80};
    for (size_t fi = 0; fi < NDATA; fi++) {
        if (!full && fi % 2) continue;
        size_t len;
        uint8_t *data = load_data(data_files[fi], &len);
        CHECK(data);
        uint8_t *g = malloc(len);
        uint32_t flen = firn_load_le32(data + len - 8);
        size_t fstart = len - 8 - flen;
        for (size_t at = 0; at < len; at += full ? 1 : at >= fstart ? 2 : 11) {
            for (size_t m = 0; m < 3; m++) {
                if (!full && m != at % 3) continue;
                memcpy(g, data, len);
                g[at] ^= masks[m];
                opened += try_file(g, len, &a);
                tried++;
            }
            if (at >= fstart && at < len - 8 && (full || at % 5 == 0)) {
                /* extremes inside the footer: sizes, counts, lengths */
                memcpy(g, data, len);
                g[at] = at % 2 ? 0x7f : 0xff;
                opened += try_file(g, len, &a);
                tried++;
            }
        }
        free(g);
        free(data);
    }
    CHECK_MSG(opened > tried / 4, "only %zu of %zu mutated files opened: the loop tests little", opened, tried);
    firn_arena_release(&a);
}
