/* test_parquet_writer.c - the Parquet writer: spec and batch validation, the
 * Thrift compact encoding of known structs (bytes derived by hand from the
 * compact protocol), RLE/bit-packed vectors from Encodings.md, Iceberg bounds
 * (truncation, round-up, -0.0 and NaN), exact file size, pages and row
 * groups rolling by bytes, dictionary fallback. The pages and the footer of
 * written files are walked with the Thrift decoder (thrift_read.c). */
#include "parquet/write_internal.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

static int mem_sink(void *ctx, const void *data, size_t n, firn_error *err) {
    (void)err;
    firn_buf_append(ctx, data, n);
    return 0;
}

static int failing_sink(void *ctx, const void *data, size_t n, firn_error *err) {
    (void)data;
    size_t *budget = ctx;
    if (n > *budget) return FIRN_RAISE(err, FIRN_ERR_IO, "disk full (test)");
    *budget -= n;
    return 0;
}

static firn_pq_column_spec col(const char *name, int32_t id, firn_pq_type t, bool optional) {
    return (firn_pq_column_spec){.name = name, .field_id = id, .type = t, .optional = optional,
                                 .codec = FIRN_PQ_CODEC_DEFAULT};
}

/* A written file, parsed back: footer and the pages of every chunk. */
typedef struct parsed {
    firn_arena arena;
    pq_file_metadata md;
} parsed;

static int parse_file(const uint8_t *data, size_t len, parsed *p, firn_error *err) {
    firn_arena_init(&p->arena, 0);
    if (len < 12 || memcmp(data, "PAR1", 4) || memcmp(data + len - 4, "PAR1", 4))
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "no PAR1 magic");
    uint32_t flen = firn_load_le32(data + len - 8);
    if (flen > len - 12) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "footer length");
    return pq_decode_file_metadata(data + len - 8 - flen, flen, &p->arena, &p->md, err);
}

typedef struct page_list {
    int n;
    int type[4096];
    int encoding[4096];
    int32_t num_values[4096];
    int32_t csize[4096];
} page_list;

/* The pages of one column chunk, in file order. */
static int chunk_pages(const uint8_t *data, const pq_column_meta_data *m, page_list *pl,
                       firn_error *err) {
    int64_t pos = m->has_dictionary_page_offset ? m->dictionary_page_offset : m->data_page_offset;
    int64_t end = pos + m->total_compressed_size;
    pl->n = 0;
    while (pos < end && pl->n < 4096) {
        pq_page_header ph;
        size_t used;
        if (pq_decode_page_header(data + pos, (size_t)(end - pos), &ph, &used, err)) return -1;
        pl->type[pl->n] = ph.type;
        pl->encoding[pl->n] = ph.has_data_page_header      ? ph.data_page_header.encoding
                              : ph.has_data_page_header_v2 ? ph.data_page_header_v2.encoding
                                                           : ph.dictionary_page_header.encoding;
        pl->num_values[pl->n] = ph.has_data_page_header      ? ph.data_page_header.num_values
                                : ph.has_data_page_header_v2 ? ph.data_page_header_v2.num_values
                                                             : ph.dictionary_page_header.num_values;
        pl->csize[pl->n] = ph.compressed_page_size;
        pl->n++;
        pos += (int64_t)used + ph.compressed_page_size;
    }
    return pos == end ? 0 : FIRN_RAISE(err, FIRN_ERR_CORRUPT, "pages overrun their chunk");
}

/* Write nrows of the given columns into memory; returns the writer (closed). */
static firn_pq_writer *write_mem(const firn_pq_column_spec *specs, size_t ncols,
                                 const firn_pq_writer_options *opts,
                                 const firn_pq_column_data *data, size_t nrows, firn_buf *out,
                                 firn_pq_file_info *info, firn_error *err) {
    firn_pq_writer *w = firn_pq_writer_new(specs, ncols, opts, mem_sink, out, err);
    if (!w) return NULL;
    if (firn_pq_writer_write(w, data, nrows, err) || firn_pq_writer_close(w, info, err)) {
        firn_pq_writer_free(w);
        return NULL;
    }
    return w;
}

/* ----------------------------------------------------- spec validation */

FIRN_TEST(parquet_writer_decimal_width) {
    static const int32_t want[39] = {-1, 1,  1,  2,  2,  3,  3,  4,  4,  4,  5,  5,  6,
                                     6,  6,  7,  7,  8,  8,  9,  9,  9,  10, 10, 11, 11,
                                     11, 12, 12, 13, 13, 13, 14, 14, 15, 15, 16, 16, 16};
    for (int p = 0; p <= 38; p++) CHECK_EQ_INT(firn_pq_decimal_width(p), want[p]);
    CHECK_EQ_INT(firn_pq_decimal_width(39), -1);
    CHECK_EQ_INT(firn_pq_decimal_width(-5), -1);
    /* each width holds 10^p - 1 and the width below does not */
    for (int p = 1; p <= 38; p++) {
        int n = firn_pq_decimal_width(p);
        double maxv = pow(10, p) - 1, cap = ldexp(1, 8 * n - 1), below = ldexp(1, 8 * (n - 1) - 1);
        CHECK_MSG(maxv < cap && (n == 1 || maxv >= below), "precision %d width %d", p, n);
    }
}

static int spec_fails(firn_pq_column_spec s, const char *needle) {
    firn_error err;
    firn_error_init(&err);
    firn_buf out = {0};
    firn_pq_writer *w = firn_pq_writer_new(&s, 1, NULL, mem_sink, &out, &err);
    int ok = !w && err.kind == FIRN_ERR_INVALID && strstr(err.message, needle);
    if (!ok) printf("    message: %s\n", err.message);
    firn_pq_writer_free(w);
    firn_buf_release(&out);
    return ok;
}

FIRN_TEST(parquet_writer_spec_errors) {
    firn_pq_column_spec s = col("price", 7, FIRN_PQ_DECIMAL, false);
    s.precision = 39;
    CHECK(spec_fails(s, "'price' (field id 7): decimal precision 39 is out of range"));
    s.precision = 0;
    CHECK(spec_fails(s, "decimal precision 0"));
    s.precision = 5;
    s.scale = 6;
    CHECK(spec_fails(s, "decimal scale 6"));
    s = col("blob", 3, FIRN_PQ_FIXED, true);
    s.length = 0;
    CHECK(spec_fails(s, "'blob' (field id 3): fixed length 0"));
    s.length = -4;
    CHECK(spec_fails(s, "fixed length -4"));
    s = col(NULL, 1, FIRN_PQ_INT, false);
    CHECK(spec_fails(s, "needs a name"));
    s = col("x", 1, (firn_pq_type)99, false);
    CHECK(spec_fails(s, "unknown type 99"));
    s = col("x", 1, FIRN_PQ_INT, false);
    s.codec = (firn_pq_codec)4; /* BROTLI */
    CHECK(spec_fails(s, "codec 4 is not supported"));

    /* a bad spec never creates the file; an existing file is never overwritten */
    firn_error err;
    firn_error_init(&err);
    const char *path = firn_test_path("spec.parquet");
    s = col("d", 1, FIRN_PQ_DECIMAL, false);
    s.precision = 40;
    CHECK(!firn_pq_writer_open(path, &s, 1, NULL, &err));
    CHECK(access(path, F_OK) != 0);
    s.precision = 10;
    firn_pq_writer *w = firn_pq_writer_open(path, &s, 1, NULL, &err);
    CHECK(w);
    firn_pq_writer *w2 = firn_pq_writer_open(path, &s, 1, NULL, &err);
    CHECK(!w2);
    CHECK_EQ_INT(err.kind, FIRN_ERR_CONFLICT);
    CHECK(strstr(err.context, "spec.parquet"));
    /* freed without close: the partial file is removed */
    firn_pq_writer_free(w);
    CHECK(access(path, F_OK) != 0);
}

FIRN_TEST(parquet_writer_batch_errors) {
    firn_pq_column_spec specs[2] = {col("id", 1, FIRN_PQ_LONG, false),
                                    col("name", 2, FIRN_PQ_STRING, true)};
    int64_t ids[3] = {1, 2, 3};
    uint8_t id_valid[3] = {1, 0, 1};
    const char *text = "ab\xc3(cd";
    int64_t offs[4] = {0, 2, 4, 6};
    firn_pq_column_data data[2] = {{.validity = id_valid, .values = ids},
                                   {.offsets = offs, .data = (const uint8_t *)text}};
    firn_buf out = {0};
    firn_error err;
    firn_error_init(&err);
    firn_pq_writer *w = firn_pq_writer_new(specs, 2, NULL, mem_sink, &out, &err);
    CHECK(w);
    CHECK(firn_pq_writer_write(w, data, 3, &err) < 0);
    CHECK(strstr(err.message, "column 'id' (field id 1, long): row 1 is null but the column is required"));
    data[0].validity = NULL;
    CHECK(firn_pq_writer_write(w, data, 3, &err) < 0);
    CHECK_MSG(strstr(err.message, "column 'name' (field id 2, string): row 1 is not valid UTF-8"),
              "%s", err.message);
    uint8_t name_valid[3] = {1, 1, 1};
    data[1].validity = name_valid;
    CHECK(firn_pq_writer_write(w, data, 3, &err) < 0);
    CHECK(strstr(err.message, "row 1 is not valid UTF-8"));
    name_valid[1] = 0; /* the bad value is in a null row: ignored */
    int64_t bad_offs[4] = {0, 2, 1, 6};
    data[1].offsets = bad_offs;
    CHECK(firn_pq_writer_write(w, data, 3, &err) < 0);
    CHECK(strstr(err.message, "offsets decrease at row 1"));
    /* a value split inside a character */
    int64_t split[4] = {0, 3, 4, 6};
    data[1].offsets = split;
    data[1].validity = NULL;
    CHECK(firn_pq_writer_write(w, data, 3, &err) < 0);
    CHECK(strstr(err.message, "not valid UTF-8"));
    /* rejected batches left nothing behind: a good batch and close work */
    data[1].offsets = offs;
    data[1].validity = name_valid;
    CHECK_OK(firn_pq_writer_write(w, data, 3, &err), &err);
    firn_pq_file_info info;
    CHECK_OK(firn_pq_writer_close(w, &info, &err), &err);
    CHECK_EQ_INT(info.row_count, 3);
    CHECK_EQ_INT(info.columns[1].null_count, 1);
    CHECK_EQ_INT(info.columns[0].value_count, 3);
    CHECK(firn_pq_writer_write(w, data, 3, &err) < 0); /* closed */
    firn_pq_writer_free(w);
    firn_buf_release(&out);
}

FIRN_TEST(parquet_writer_sink_failure) {
    firn_pq_column_spec s = col("v", 1, FIRN_PQ_BINARY, false);
    s.media = true;
    enum { N = 64, SZ = 100000 };
    uint8_t *blob = calloc(N, SZ);
    int64_t offs[N + 1];
    for (int i = 0; i <= N; i++) offs[i] = (int64_t)i * SZ;
    firn_pq_column_data d = {.offsets = offs, .data = blob};
    firn_pq_writer_options o;
    firn_pq_writer_options_init(&o);
    o.row_group_bytes = 1 << 20;
    size_t budget = 3 << 20;
    firn_error err;
    firn_error_init(&err);
    firn_pq_writer *w = firn_pq_writer_new(&s, 1, &o, failing_sink, &budget, &err);
    CHECK(w);
    int rc = firn_pq_writer_write(w, &d, N, &err);
    if (!rc) rc = firn_pq_writer_close(w, NULL, &err);
    CHECK(rc < 0);
    CHECK(strstr(err.message, "disk full"));
    CHECK(firn_pq_writer_write(w, &d, 1, &err) < 0);
    CHECK(strstr(err.message, "failed earlier"));
    firn_pq_writer_free(w);
    free(blob);
}

/* ---------------------------------------------------------- Thrift bytes */

static int same_bytes(const firn_buf *b, const uint8_t *want, size_t n) {
    if (b->len == n && memcmp(b->data, want, n) == 0) return 1;
    printf("    got:  ");
    for (size_t i = 0; i < b->len; i++) printf("%02x ", b->data[i]);
    printf("\n    want: ");
    for (size_t i = 0; i < n; i++) printf("%02x ", want[i]);
    printf("\n");
    return 0;
}

FIRN_TEST(parquet_thrift_page_headers) {
    firn_buf b = {0};
    pq_page_header ph;
    memset(&ph, 0, sizeof ph);
    ph.type = PQ_PAGE_DATA;
    ph.uncompressed_page_size = 100;
    ph.compressed_page_size = 50;
    ph.has_data_page_header = true;
    ph.data_page_header = (pq_data_page_header){.num_values = 10, .encoding = PQ_ENC_PLAIN,
                                                .definition_level_encoding = PQ_ENC_RLE,
                                                .repetition_level_encoding = PQ_ENC_RLE};
    pq_encode_page_header(&b, &ph);
    /* field 1 i32 (delta 1, type 5) 0 | field 2: zigzag(100) = 200 = c8 01 | field 3:
     * zigzag(50) = 100 | field 5 struct (delta 2, type 12) { 10 -> 20, 0, 3 -> 6, 3 -> 6 } */
    static const uint8_t v1[] = {0x15, 0x00, 0x15, 0xC8, 0x01, 0x15, 0x64, 0x2C, 0x15, 0x14,
                                 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00};
    CHECK(same_bytes(&b, v1, sizeof v1));

    firn_buf_clear(&b);
    memset(&ph, 0, sizeof ph);
    ph.type = PQ_PAGE_DICTIONARY;
    ph.uncompressed_page_size = ph.compressed_page_size = 7;
    ph.has_dictionary_page_header = true;
    ph.dictionary_page_header.num_values = 3;
    ph.dictionary_page_header.encoding = PQ_ENC_PLAIN;
    pq_encode_page_header(&b, &ph);
    /* field 7 struct: delta 4 from field 3 */
    static const uint8_t dict[] = {0x15, 0x04, 0x15, 0x0E, 0x15, 0x0E, 0x4C,
                                   0x15, 0x06, 0x15, 0x00, 0x00, 0x00};
    CHECK(same_bytes(&b, dict, sizeof dict));

    firn_buf_clear(&b);
    memset(&ph, 0, sizeof ph);
    ph.type = PQ_PAGE_DATA_V2;
    ph.uncompressed_page_size = ph.compressed_page_size = 20;
    ph.has_data_page_header_v2 = true;
    pq_data_page_header_v2 *h = &ph.data_page_header_v2;
    h->num_values = 5;
    h->num_nulls = 1;
    h->num_rows = 5;
    h->encoding = PQ_ENC_RLE_DICTIONARY;
    h->definition_levels_byte_length = 2;
    h->is_compressed = false;
    h->has_statistics = true;
    h->statistics.has_null_count = true;
    h->statistics.null_count = 1;
    h->statistics.has_min_value = h->statistics.has_max_value = true;
    h->statistics.min_value = (pq_bytes){(const uint8_t *)"a", 1};
    h->statistics.max_value = (pq_bytes){(const uint8_t *)"z", 1};
    pq_encode_page_header(&b, &ph);
    /* field 8 struct (delta 5) { 5->10, 1->2, 5->10, 8->16, 2->4, 0, field 7 bool false
     * (0x12), field 8 struct { null_count i64 field 3 (0x36) 2, max_value field 5 binary
     * (0x28) "z", min_value field 6 (0x18) "a" } } */
    static const uint8_t v2[] = {0x15, 0x06, 0x15, 0x28, 0x15, 0x28, 0x5C, 0x15, 0x0A, 0x15,
                                 0x02, 0x15, 0x0A, 0x15, 0x10, 0x15, 0x04, 0x15, 0x00, 0x12,
                                 0x1C, 0x36, 0x02, 0x28, 0x01, 'z',  0x18, 0x01, 'a',  0x00,
                                 0x00, 0x00};
    CHECK(same_bytes(&b, v2, sizeof v2));
    firn_buf_release(&b);
}

FIRN_TEST(parquet_thrift_file_metadata) {
    firn_buf b = {0};
    pq_schema_element el[2];
    memset(el, 0, sizeof el);
    el[0].name = (pq_bytes){(const uint8_t *)"t", 1};
    el[0].has_num_children = true;
    el[0].num_children = 1;
    el[1].has_type = el[1].has_repetition = el[1].has_field_id = true;
    el[1].type = PQ_INT32;
    el[1].repetition_type = PQ_REQUIRED;
    el[1].name = (pq_bytes){(const uint8_t *)"a", 1};
    el[1].field_id = 1;
    pq_file_metadata md;
    memset(&md, 0, sizeof md);
    md.version = 1;
    md.schema = el;
    md.nschema = 2;
    md.has_created_by = true;
    md.created_by = (pq_bytes){(const uint8_t *)"x", 1};
    md.ncolumn_orders = 1;
    pq_encode_file_metadata(&b, &md);
    static const uint8_t want[] = {
        0x15, 0x02,                               /* 1: version 1 */
        0x19, 0x2C,                               /* 2: list of 2 structs */
        0x48, 0x01, 't', 0x15, 0x02, 0x00,        /* root: name (4), num_children (5) 1 */
        0x15, 0x02, 0x25, 0x00, 0x18, 0x01, 'a',  /* type INT32, REQUIRED, name */
        0x55, 0x02, 0x00,                         /* field_id (9, delta 5) 1 */
        0x16, 0x00,                               /* 3: num_rows i64 0 */
        0x19, 0x0C,                               /* 4: empty list of structs */
        0x28, 0x01, 'x',                          /* 6: created_by */
        0x19, 0x1C, 0x1C, 0x00, 0x00,             /* 7: [ColumnOrder{TYPE_ORDER{}}] */
        0x00};
    CHECK(same_bytes(&b, want, sizeof want));

    /* logical types are unions of structs; TimeUnit nests one more */
    firn_buf_clear(&b);
    pq_schema_element e3[3];
    memset(e3, 0, sizeof e3);
    e3[0].name = (pq_bytes){(const uint8_t *)"r", 1};
    e3[0].has_num_children = true;
    e3[0].num_children = 2;
    e3[1] = (pq_schema_element){.has_type = true, .has_repetition = true,
                                .has_converted_type = true, .has_field_id = true,
                                .type = PQ_INT64, .repetition_type = PQ_OPTIONAL,
                                .name = {(const uint8_t *)"ts", 2},
                                .converted_type = PQ_CT_TIMESTAMP_MICROS, .field_id = 7,
                                .logical_type = {.kind = PQ_LT_TIMESTAMP,
                                                 .is_adjusted_to_utc = true,
                                                 .unit = PQ_UNIT_MICROS}};
    e3[2] = (pq_schema_element){.has_type = true, .has_repetition = true,
                                .has_converted_type = true, .has_scale = true,
                                .has_precision = true, .type = PQ_INT32,
                                .repetition_type = PQ_REQUIRED,
                                .name = {(const uint8_t *)"d", 1},
                                .converted_type = PQ_CT_DECIMAL, .scale = 2, .precision = 9,
                                .logical_type = {.kind = PQ_LT_DECIMAL, .scale = 2,
                                                 .precision = 9}};
    memset(&md, 0, sizeof md);
    md.version = 1;
    md.schema = e3;
    md.nschema = 3;
    pq_encode_file_metadata(&b, &md);
    static const uint8_t want2[] = {
        0x15, 0x02, 0x19, 0x3C,
        0x48, 0x01, 'r', 0x15, 0x04, 0x00,
        /* ts: INT64, OPTIONAL, "ts", converted (6) 10, field_id (9) 7, logicalType (10)
         * { TIMESTAMP (8) { isAdjustedToUTC true (bool in the type nibble),
         *   unit (2) { MICROS (2) {} } } } */
        0x15, 0x04, 0x25, 0x02, 0x18, 0x02, 't', 's', 0x25, 0x14, 0x35, 0x0E,
        0x1C, 0x8C, 0x11, 0x1C, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x00,
        /* d: INT32, REQUIRED, "d", converted 5, scale 2, precision 9,
         * logicalType { DECIMAL (5) { scale 2, precision 9 } } */
        0x15, 0x02, 0x25, 0x00, 0x18, 0x01, 'd', 0x25, 0x0A, 0x15, 0x04, 0x15, 0x12,
        0x2C, 0x5C, 0x15, 0x04, 0x15, 0x12, 0x00, 0x00, 0x00,
        0x16, 0x00, 0x19, 0x0C, 0x00};
    CHECK(same_bytes(&b, want2, sizeof want2));

    /* and the decoder reads back what the encoder wrote */
    firn_arena a;
    firn_arena_init(&a, 0);
    pq_file_metadata back;
    firn_error err;
    firn_error_init(&err);
    CHECK_OK(pq_decode_file_metadata(b.data, b.len, &a, &back, &err), &err);
    CHECK_EQ_INT(back.nschema, 3);
    CHECK_EQ_INT(back.schema[1].logical_type.kind, PQ_LT_TIMESTAMP);
    CHECK(back.schema[1].logical_type.is_adjusted_to_utc);
    CHECK_EQ_INT(back.schema[1].logical_type.unit, PQ_UNIT_MICROS);
    CHECK_EQ_INT(back.schema[2].logical_type.precision, 9);
    CHECK_EQ_INT(back.schema[1].field_id, 7);
    firn_arena_release(&a);
    firn_buf_release(&b);
}

/* ---------------------------------------------------------- RLE hybrid */

static int rle_is(const uint32_t *v, size_t n, int bw, const uint8_t *want, size_t wn) {
    firn_buf b = {0};
    pq_rle_encode(&b, v, n, bw);
    int ok = same_bytes(&b, want, wn);
    firn_buf_release(&b);
    return ok;
}

FIRN_TEST(parquet_rle_vectors) {
    /* Encodings.md: 0..7 with bit width 3, bit-packed LSB first: one group */
    uint32_t seq[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    static const uint8_t packed[] = {0x03, 0x88, 0xC6, 0xFA};
    CHECK(rle_is(seq, 8, 3, packed, sizeof packed));
    /* 100 x 5, bit width 3: RLE run, header varint(100 << 1) = c8 01, value in 1 byte */
    uint32_t fives[100];
    for (int i = 0; i < 100; i++) fives[i] = 5;
    static const uint8_t run[] = {0xC8, 0x01, 0x05};
    CHECK(rle_is(fives, 100, 3, run, sizeof run));
    /* value of 9 bits takes 2 bytes little-endian */
    uint32_t big[8] = {300, 300, 300, 300, 300, 300, 300, 300};
    static const uint8_t run9[] = {0x10, 0x2C, 0x01};
    CHECK(rle_is(big, 8, 9, run9, sizeof run9));
    /* fewer than 8 values: one group padded with zeros */
    uint32_t lv[4] = {1, 1, 0, 1};
    static const uint8_t pad[] = {0x03, 0x0B};
    CHECK(rle_is(lv, 4, 1, pad, sizeof pad));
    /* bit width 0: runs without value bytes */
    uint32_t zeros[5] = {0};
    static const uint8_t z[] = {0x0A};
    CHECK(rle_is(zeros, 5, 0, z, sizeof z));
    /* a group of 8 mixed values then a run of 8 */
    uint32_t mix[16] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    static const uint8_t m[] = {0x03, 0x55, 0x10, 0x01};
    CHECK(rle_is(mix, 16, 1, m, sizeof m));
    /* length-prefixed form (data page v1 levels) */
    firn_buf b = {0};
    pq_rle_encode_prefixed(&b, fives, 100, 3);
    static const uint8_t pre[] = {0x03, 0x00, 0x00, 0x00, 0xC8, 0x01, 0x05};
    CHECK(same_bytes(&b, pre, sizeof pre));
    firn_buf_release(&b);
}

/* A decoder written from Encodings.md, to check the encoder on many inputs. */
static size_t rle_decode(const uint8_t *p, size_t len, int bw, uint32_t *out, size_t n) {
    size_t i = 0, at = 0;
    int vbytes = (bw + 7) / 8;
    while (i < n && at < len) {
        uint64_t h;
        size_t k = firn_varint_decode(p + at, p + len, &h);
        if (!k) return 0;
        at += k;
        if (h & 1) {
            size_t count = (size_t)(h >> 1) * 8;
            uint64_t acc = 0;
            int bits = 0;
            for (size_t j = 0; j < count; j++) {
                while (bits < bw) {
                    acc |= (uint64_t)p[at++] << bits;
                    bits += 8;
                }
                uint32_t v = bw ? (uint32_t)(acc & ((1ull << bw) - 1)) : 0;
                acc >>= bw;
                bits -= bw;
                if (i < n) out[i++] = v;
            }
        } else {
            uint32_t v = 0;
            for (int j = 0; j < vbytes; j++) v |= (uint32_t)p[at++] << (8 * j);
            for (uint64_t j = 0; j < (h >> 1) && i < n; j++) out[i++] = v;
        }
    }
    return at == len ? i : 0;
}

FIRN_TEST(parquet_rle_roundtrip) {
    enum { N = 5000 };
    uint32_t *v = malloc(N * sizeof *v), *back = malloc(N * sizeof *back);
    uint64_t seed = 42;
    for (int bw = 0; bw <= 32; bw++) {
        for (int shape = 0; shape < 3; shape++) {
            size_t n = (size_t)(seed % N) + 1;
            uint64_t mask = bw == 32 ? 0xFFFFFFFFull : (1ull << bw) - 1;
            for (size_t i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                uint32_t r = (uint32_t)(seed >> 32);
                /* random, runs of random length, or mostly one value */
                if (shape == 0) v[i] = (uint32_t)(r & mask);
                else if (shape == 1) v[i] = i && (r % 10) ? v[i - 1] : (uint32_t)(r & mask);
                else v[i] = (r % 50) ? 0 : (uint32_t)(r & mask);
            }
            firn_buf b = {0};
            pq_rle_encode(&b, v, n, bw);
            size_t got = rle_decode(b.data, b.len, bw, back, n);
            CHECK_MSG(got == n && !memcmp(v, back, n * sizeof *v), "bw %d shape %d n %zu", bw,
                      shape, n);
            firn_buf_release(&b);
        }
    }
    free(v);
    free(back);
}

/* ------------------------------------------------------------- UTF-8 */

FIRN_TEST(parquet_utf8_check) {
    struct { const char *s; size_t bad; } cases[] = {
        {"plain ascii, longer than eight bytes", 36},
        {"caf\xc3\xa9", 5},
        {"\xe2\x82\xac and \xf0\x9f\x98\x80", 12},
        {"abc\x80", 3},            /* stray continuation */
        {"ab\xc0\xaf", 2},         /* overlong '/' */
        {"ab\xe0\x80\xaf", 2},     /* overlong */
        {"\xed\xa0\x80", 0},       /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", 0},   /* above U+10FFFF */
        {"12345678\xc3", 8},       /* truncated after the fast path */
        {"\xf4\x8f\xbf\xbf", 4},   /* U+10FFFF is fine */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].s);
        CHECK_MSG(pq_utf8_check((const uint8_t *)cases[i].s, n) == cases[i].bad, "case %zu", i);
    }
}

/* -------------------------------------------------------------- bounds */

static int buf_is(const firn_buf *b, const char *want) {
    size_t n = strlen(want);
    return b->len == n && memcmp(b->data, want, n) == 0;
}

FIRN_TEST(parquet_bounds_truncation) {
    firn_buf b = {0};
    const uint8_t *abc = (const uint8_t *)"abcdefghijklmnopqrstuvwxyz";
    CHECK_EQ_INT(pq_utf8_prefix(abc, 26, 16), 16);
    CHECK(pq_utf8_upper(abc, 26, 16, &b) && buf_is(&b, "abcdefghijklmnoq"));
    CHECK(pq_utf8_upper(abc, 10, 16, &b) && buf_is(&b, "abcdefghij")); /* not truncated */
    /* code points, not bytes: 3 two-byte characters */
    const uint8_t *e = (const uint8_t *)"\xc3\xa9\xc3\xa9\xc3\xa9";
    CHECK_EQ_INT(pq_utf8_prefix(e, 6, 2), 4);
    CHECK(pq_utf8_upper(e, 6, 2, &b) && buf_is(&b, "\xc3\xa9\xc3\xaa"));
    /* U+007F + 1 = U+0080 grows to two bytes */
    CHECK(pq_utf8_upper((const uint8_t *)"a\x7fz", 3, 2, &b) && buf_is(&b, "a\xc2\x80"));
    /* U+D7FF + 1 skips the surrogates to U+E000 */
    CHECK(pq_utf8_upper((const uint8_t *)"\xed\x9f\xbfz", 4, 1, &b) && buf_is(&b, "\xee\x80\x80"));
    /* the last code point is U+10FFFF: increment the one before */
    CHECK(pq_utf8_upper((const uint8_t *)"a\xf4\x8f\xbf\xbfz", 6, 2, &b) && buf_is(&b, "b"));
    /* nothing can be incremented: no upper bound */
    CHECK(!pq_utf8_upper((const uint8_t *)"\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbfz", 9, 2, &b));

    const uint8_t bin[] = {0x01, 0xFF, 0xFF, 0x07};
    CHECK(pq_binary_upper(bin, 4, 3, &b) && b.len == 1 && b.data[0] == 0x02);
    CHECK(pq_binary_upper(bin, 4, 4, &b) && b.len == 4 && !memcmp(b.data, bin, 4));
    const uint8_t ff[] = {0xFF, 0xFF, 0xFF};
    CHECK(!pq_binary_upper(ff, 3, 2, &b));

    const uint8_t m1[] = {0xFF, 0xFF, 0xFF, 0xFF}, p300[] = {0x00, 0x00, 0x01, 0x2C},
                  n129[] = {0xFF, 0xFF, 0xFF, 0x7F}, p128[] = {0x00, 0x00, 0x00, 0x80};
    CHECK_EQ_INT(pq_decimal_trim(m1, 4), 3);   /* -1: ff */
    CHECK_EQ_INT(pq_decimal_trim(p300, 4), 2); /* 300: 01 2c */
    CHECK_EQ_INT(pq_decimal_trim(n129, 4), 2); /* -129: ff 7f */
    CHECK_EQ_INT(pq_decimal_trim(p128, 4), 2); /* 128: 00 80 */
    firn_buf_release(&b);
}

static int bound_is(const uint8_t *p, size_t n, const void *want, size_t wn) {
    return p && n == wn && memcmp(p, want, n) == 0;
}

FIRN_TEST(parquet_writer_iceberg_bounds) {
    enum { N = 6 };
    firn_pq_column_spec s[] = {
        col("b", 1, FIRN_PQ_BOOLEAN, false),      col("i", 2, FIRN_PQ_INT, true),
        col("l", 3, FIRN_PQ_LONG, false),         col("f", 4, FIRN_PQ_FLOAT, false),
        col("d", 5, FIRN_PQ_DOUBLE, true),        col("dec9", 6, FIRN_PQ_DECIMAL, false),
        col("dec38", 7, FIRN_PQ_DECIMAL, false),  col("date", 8, FIRN_PQ_DATE, false),
        col("ts", 9, FIRN_PQ_TIMESTAMPTZ, false), col("s", 10, FIRN_PQ_STRING, false),
        col("u", 11, FIRN_PQ_UUID, false),        col("fx", 12, FIRN_PQ_FIXED, false),
        col("bin", 13, FIRN_PQ_BINARY, false),    col("nul", 14, FIRN_PQ_STRING, true),
        col("nan", 15, FIRN_PQ_DOUBLE, false),    col("img", 16, FIRN_PQ_BINARY, false),
    };
    s[5].precision = 9, s[5].scale = 2;
    s[6].precision = 38, s[6].scale = 0;
    s[11].length = 3;
    s[15].media = true;
    size_t ncols = sizeof s / sizeof s[0];
    uint8_t bools[N] = {1, 1, 1, 1, 1, 1};
    int32_t ints[N] = {5, -3, 7, 100, 0, 1};
    uint8_t ivalid[N] = {1, 1, 1, 0, 1, 1}; /* 100 is null */
    int64_t longs[N] = {INT64_MAX, INT64_MIN, 0, 1, 2, 3};
    float floats[N] = {0.0f, -0.0f, NAN, 2.5f, -1.5f, 0.0f};
    double doubles[N] = {NAN, 0.0, -0.0, NAN, 1e300, -1e-300};
    uint8_t dvalid[N] = {1, 1, 1, 1, 0, 1}; /* 1e300 is null */
    int32_t dec9[N] = {-1, 300, 0, -129, 128, 5};
    uint8_t dec38[N][16];
    memset(dec38, 0, sizeof dec38);
    memset(dec38[0], 0xFF, 16);              /* -1 */
    dec38[1][15] = 0x80;                     /* 128 */
    memset(dec38[2], 0xFF, 15);              /* -129 */
    dec38[2][15] = 0x7F;
    dec38[3][0] = 0x40;                      /* 2^126: the largest */
    memset(dec38[4], 0x80, 1);               /* -2^127: the smallest */
    int32_t dates[N] = {-719162, 19000, 0, 1, 2, 3};
    int64_t ts[N] = {-1, 1, 1700000000000000, 2, 3, 4};
    const char *strs = "zebra"
                       "abcdefghijklmnopqrstuvwxyz"
                       "\xf4\x8f\xbf\xbf"
                       "b";
    int64_t soff[N + 1] = {0, 5, 31, 31, 35, 36, 36}; /* "zebra", alphabet, "", U+10FFFF, "b", "" */
    uint8_t uuids[N][16];
    for (int r = 0; r < N; r++) memset(uuids[r], 0x10 * (r + 1), 16);
    uint8_t fixed[N][3] = {{1, 2, 3}, {0, 0, 0}, {0xFF, 0xFF, 0xFF}, {1, 1, 1}, {2, 2, 2}, {3, 3, 3}};
    uint8_t bins[40];
    memset(bins, 0xFF, sizeof bins);
    bins[0] = 0x00;
    int64_t boff[N + 1] = {0, 1, 1, 21, 21, 21, 21}; /* 00, empty, 0xff x 20 */
    uint8_t none[N] = {0};
    double nans[N] = {NAN, NAN, NAN, NAN, NAN, NAN};
    firn_pq_column_data d[] = {
        {.values = bools},   {.validity = ivalid, .values = ints},
        {.values = longs},   {.values = floats},
        {.validity = dvalid, .values = doubles}, {.values = dec9},
        {.values = dec38},   {.values = dates},
        {.values = ts},      {.offsets = soff, .data = (const uint8_t *)strs},
        {.values = uuids},   {.values = fixed},
        {.offsets = boff, .data = bins}, {.validity = none, .offsets = boff, .data = bins},
        {.values = nans},    {.offsets = boff, .data = bins},
    };
    firn_buf out = {0};
    firn_pq_file_info info;
    firn_error err;
    firn_error_init(&err);
    firn_pq_writer *w = write_mem(s, ncols, NULL, d, N, &out, &info, &err);
    CHECK_MSG(w, "%s", err.message);
    const firn_pq_column_stats *c = info.columns;
    CHECK_EQ_INT(info.ncolumns, ncols);
    for (size_t i = 0; i < ncols; i++) {
        CHECK_EQ_INT(c[i].field_id, (int)i + 1);
        CHECK_EQ_INT(c[i].value_count, N);
    }
    uint8_t one = 1;
    CHECK(bound_is(c[0].lower, c[0].lower_len, &one, 1) && bound_is(c[0].upper, c[0].upper_len, &one, 1));
    uint8_t le[8];
    firn_store_le32(le, (uint32_t)-3);
    CHECK(bound_is(c[1].lower, c[1].lower_len, le, 4));
    firn_store_le32(le, 7); /* 100 is null */
    CHECK(bound_is(c[1].upper, c[1].upper_len, le, 4));
    CHECK_EQ_INT(c[1].null_count, 1);
    firn_store_le64(le, (uint64_t)INT64_MIN);
    CHECK(bound_is(c[2].lower, c[2].lower_len, le, 8));
    firn_store_le64(le, (uint64_t)INT64_MAX);
    CHECK(bound_is(c[2].upper, c[2].upper_len, le, 8));
    float fl = -1.5f, fh = 2.5f;
    CHECK(bound_is(c[3].lower, c[3].lower_len, &fl, 4) && bound_is(c[3].upper, c[3].upper_len, &fh, 4));
    CHECK_EQ_INT(c[3].nan_count, 1);
    /* doubles: NaN is never a bound; -0.0 sorts before +0.0 */
    double dl = -1e-300, dh = 0.0;
    CHECK(bound_is(c[4].lower, c[4].lower_len, &dl, 8) && bound_is(c[4].upper, c[4].upper_len, &dh, 8));
    CHECK_EQ_INT(c[4].nan_count, 2);
    CHECK_EQ_INT(c[4].null_count, 1);
    /* decimals: minimal big-endian two's complement */
    const uint8_t m129[] = {0xFF, 0x7F}, p300[] = {0x01, 0x2C};
    CHECK(bound_is(c[5].lower, c[5].lower_len, m129, 2) && bound_is(c[5].upper, c[5].upper_len, p300, 2));
    uint8_t lo38[16] = {0x80}, hi38[16] = {0x40};
    CHECK(bound_is(c[6].lower, c[6].lower_len, lo38, 16) && bound_is(c[6].upper, c[6].upper_len, hi38, 16));
    firn_store_le32(le, (uint32_t)-719162);
    CHECK(bound_is(c[7].lower, c[7].lower_len, le, 4));
    firn_store_le64(le, 1700000000000000);
    CHECK(bound_is(c[8].upper, c[8].upper_len, le, 8));
    /* strings: 16 code points, upper rounded up; the max U+10FFFF value is its own upper */
    CHECK(bound_is(c[9].lower, c[9].lower_len, "", 0));
    CHECK(bound_is(c[9].upper, c[9].upper_len, "\xf4\x8f\xbf\xbf", 4));
    CHECK(bound_is(c[10].lower, c[10].lower_len, uuids[0], 16) && bound_is(c[10].upper, c[10].upper_len, uuids[5], 16));
    CHECK(bound_is(c[11].lower, c[11].lower_len, fixed[1], 3) && bound_is(c[11].upper, c[11].upper_len, fixed[2], 3));
    /* binary: lower "" ; upper 0xff x 20 truncated to 16 bytes cannot be rounded up */
    CHECK(c[12].has_bounds && bound_is(c[12].lower, c[12].lower_len, "", 0) && !c[12].upper);
    /* all null, all NaN, media: no bounds */
    CHECK(!c[13].has_bounds && c[13].null_count == N && !c[13].lower && !c[13].upper);
    CHECK(!c[14].has_bounds && c[14].nan_count == N);
    CHECK(!c[15].has_bounds);
    /* column sizes add up to the chunks in the file */
    uint64_t sum = 0;
    for (size_t i = 0; i < ncols; i++) sum += c[i].column_size;
    CHECK(sum < info.file_size && sum > info.file_size / 2);
    firn_pq_writer_free(w);

    /* truncated strings: a longer max string gets a rounded-up upper bound */
    const char *t = "abcdefghijklmnopqrstuvwxyzaa";
    int64_t toff[3] = {0, 26, 28};
    firn_pq_column_spec one_s = col("s", 1, FIRN_PQ_STRING, false);
    firn_pq_column_data td = {.offsets = toff, .data = (const uint8_t *)t};
    firn_pq_writer_options o;
    firn_pq_writer_options_init(&o);
    firn_buf_clear(&out);
    w = write_mem(&one_s, 1, &o, &td, 2, &out, &info, &err);
    CHECK(w);
    CHECK(bound_is(info.columns[0].lower, info.columns[0].lower_len, "aa", 2));
    CHECK(bound_is(info.columns[0].upper, info.columns[0].upper_len, "abcdefghijklmnoq", 16));
    firn_pq_writer_free(w);
    o.bounds_truncate = 4;
    firn_buf_clear(&out);
    w = write_mem(&one_s, 1, &o, &td, 2, &out, &info, &err);
    CHECK(bound_is(info.columns[0].upper, info.columns[0].upper_len, "abce", 4));
    firn_pq_writer_free(w);
    firn_buf_release(&out);
}

/* ---------------------------------------------- files, pages, row groups */

FIRN_TEST(parquet_writer_file_size_and_footer) {
    enum { N = 10000 };
    firn_pq_column_spec s[3] = {col("id", 1, FIRN_PQ_LONG, false), col("v", 2, FIRN_PQ_DOUBLE, true),
                                col("name", 3, FIRN_PQ_STRING, true)};
    int64_t *ids = malloc(N * sizeof *ids);
    double *vs = malloc(N * sizeof *vs);
    uint8_t *valid = malloc(N);
    int64_t *offs = malloc((N + 1) * sizeof *offs);
    char *text = malloc(N * 16);
    offs[0] = 0;
    for (int i = 0; i < N; i++) {
        ids[i] = i * 3;
        vs[i] = i * 0.5;
        valid[i] = i % 3 != 0;
        int n = snprintf(text + offs[i], 16, "name-%d", i % 97);
        offs[i + 1] = offs[i] + n;
    }
    firn_pq_kv kv[1] = {{"iceberg.schema", "{}"}};
    firn_pq_writer_options o;
    firn_pq_writer_options_init(&o);
    o.kv = kv;
    o.nkv = 1;
    const char *path = firn_test_path("size.parquet");
    firn_error err;
    firn_error_init(&err);
    firn_pq_writer *w = firn_pq_writer_open(path, s, 3, &o, &err);
    CHECK(w);
    for (int r = 0; r < N; r += 1000) {
        firn_pq_column_data part[3] = {{.values = ids + r},
                                       {.validity = valid + r, .values = vs + r},
                                       {.validity = valid + r, .offsets = offs + r, .data = (uint8_t *)text}};
        CHECK_OK(firn_pq_writer_write(w, part, 1000, &err), &err);
        CHECK(firn_pq_writer_estimated_size(w) > 4);
    }
    firn_pq_file_info info;
    CHECK_OK(firn_pq_writer_close(w, &info, &err), &err);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(info.file_size, st.st_size);
    CHECK_EQ_INT(info.row_count, N);
    CHECK_EQ_INT(info.nrow_groups, 1);
    CHECK_EQ_INT(info.row_group_offsets[0], 4);
    CHECK_EQ_INT(info.columns[1].null_count, N / 3 + 1);

    uint8_t *data;
    size_t len;
    CHECK_OK(firn_read_file(path, &data, &len, &err), &err);
    parsed p;
    CHECK_OK(parse_file(data, len, &p, &err), &err);
    CHECK_EQ_INT(p.md.num_rows, N);
    CHECK_EQ_INT(p.md.nschema, 4);
    CHECK_EQ_INT(p.md.ncolumn_orders, 3);
    CHECK(p.md.has_created_by && !memcmp(p.md.created_by.ptr, "firn version ", 13));
    CHECK_EQ_INT(p.md.nkey_value_metadata, 1);
    CHECK(!memcmp(p.md.key_value_metadata[0].key.ptr, "iceberg.schema", 14));
    CHECK(!p.md.schema[0].has_field_id);
    for (int i = 1; i <= 3; i++) CHECK(p.md.schema[i].has_field_id && p.md.schema[i].field_id == i);
    CHECK_EQ_INT(p.md.schema[3].logical_type.kind, PQ_LT_STRING);
    CHECK_EQ_INT(p.md.schema[3].converted_type, PQ_CT_UTF8);
    const pq_column_meta_data *m = &p.md.row_groups[0].columns[0].meta_data;
    CHECK_EQ_INT(m->codec, FIRN_PQ_ZSTD);
    CHECK(m->statistics.has_min_value && firn_load_le64(m->statistics.min_value.ptr) == 0);
    CHECK(firn_load_le64(m->statistics.max_value.ptr) == (uint64_t)(N - 1) * 3);
    /* the name column is dictionary encoded (97 distinct values) */
    const pq_column_meta_data *mn = &p.md.row_groups[0].columns[2].meta_data;
    CHECK(mn->has_dictionary_page_offset);
    page_list pl;
    CHECK_OK(chunk_pages(data, mn, &pl, &err), &err);
    CHECK_EQ_INT(pl.type[0], PQ_PAGE_DICTIONARY);
    CHECK_EQ_INT(pl.num_values[0], 97);
    for (int i = 1; i < pl.n; i++) CHECK_EQ_INT(pl.encoding[i], PQ_ENC_RLE_DICTIONARY);
    /* the sum of the chunk sizes is what info reports */
    for (int c = 0; c < 3; c++)
        CHECK_EQ_INT(info.columns[c].column_size,
                     p.md.row_groups[0].columns[c].meta_data.total_compressed_size);
    firn_arena_release(&p.arena);
    free(data);
    firn_pq_writer_free(w);
    free(ids);
    free(vs);
    free(valid);
    free(offs);
    free(text);
}

FIRN_TEST(parquet_writer_pages_and_row_groups_roll_by_bytes) {
    enum { N = 50000 };
    firn_pq_column_spec s[2] = {col("id", 1, FIRN_PQ_LONG, false), col("tag", 2, FIRN_PQ_INT, true)};
    s[0].codec = FIRN_PQ_UNCOMPRESSED; /* sizes then follow the bytes of values */
    int64_t *ids = malloc(N * sizeof *ids);
    int32_t *tags = malloc(N * sizeof *tags);
    uint8_t *valid = malloc(N);
    for (int i = 0; i < N; i++) {
        ids[i] = (int64_t)i * 7919;
        tags[i] = i % 5;
        valid[i] = i % 11 != 0;
    }
    firn_pq_column_data d[2] = {{.values = ids}, {.validity = valid, .values = tags}};
    firn_pq_writer_options o;
    firn_pq_writer_options_init(&o);
    o.page_bytes = 8 << 10;
    o.row_group_bytes = 100 << 10;
    for (int v2 = 0; v2 <= 1; v2++) {
        o.data_page_v2 = v2;
        firn_buf out = {0};
        firn_pq_file_info info;
        firn_error err;
        firn_error_init(&err);
        firn_pq_writer *w = write_mem(s, 2, &o, d, N, &out, &info, &err);
        CHECK_MSG(w, "%s", err.message);
        /* 400 KB of ids in row groups of ~100 KB */
        CHECK_MSG(info.nrow_groups >= 4 && info.nrow_groups <= 6, "%zu row groups",
                  info.nrow_groups);
        CHECK_EQ_INT(info.file_size, out.len);
        parsed p;
        CHECK_OK(parse_file(out.data, out.len, &p, &err), &err);
        CHECK_EQ_INT(p.md.nrow_groups, info.nrow_groups);
        int64_t rows = 0;
        for (uint32_t g = 0; g < p.md.nrow_groups; g++) {
            const pq_row_group *rg = &p.md.row_groups[g];
            CHECK_EQ_INT(rg->file_offset, info.row_group_offsets[g]);
            CHECK(g == 0 || info.row_group_offsets[g] > info.row_group_offsets[g - 1]);
            CHECK_MSG(rg->total_compressed_size <= 110 << 10, "row group %u: %lld bytes", g,
                      (long long)rg->total_compressed_size);
            rows += rg->num_rows;
            page_list pl;
            const pq_column_meta_data *m = &rg->columns[0].meta_data;
            CHECK_OK(chunk_pages(out.data, m, &pl, &err), &err);
            CHECK_EQ_INT(pl.type[0], PQ_PAGE_DICTIONARY); /* first page tries the dictionary */
            int64_t values = 0;
            for (int i = 1; i < pl.n; i++) {
                CHECK_EQ_INT(pl.type[i], v2 ? PQ_PAGE_DATA_V2 : PQ_PAGE_DATA);
                /* unique ids: after the first page, PLAIN pages of at most 8 KiB */
                if (i > 1) {
                    CHECK_EQ_INT(pl.encoding[i], PQ_ENC_PLAIN);
                    CHECK_MSG(pl.csize[i] <= 8 << 10, "page of %d bytes", (int)pl.csize[i]);
                }
                values += pl.num_values[i];
            }
            if (g + 1 < p.md.nrow_groups)
                CHECK_MSG(pl.n > 5, "row group %u: %d pages, %lld rows", g, pl.n,
                          (long long)rg->num_rows);
            CHECK_EQ_INT(values, rg->num_rows);
            CHECK_EQ_INT(m->num_values, rg->num_rows);
        }
        CHECK_EQ_INT(rows, N);
        firn_arena_release(&p.arena);
        firn_pq_writer_free(w);
        firn_buf_release(&out);
    }
    /* page_rows caps pages too */
    o.page_bytes = 0;
    o.row_group_bytes = 0;
    o.page_rows = 1000;
    firn_buf out = {0};
    firn_error err;
    firn_error_init(&err);
    firn_pq_writer *w = write_mem(s, 2, &o, d, N, &out, NULL, &err);
    CHECK(w);
    parsed p;
    CHECK_OK(parse_file(out.data, out.len, &p, &err), &err);
    CHECK_EQ_INT(p.md.nrow_groups, 1);
    page_list pl;
    CHECK_OK(chunk_pages(out.data, &p.md.row_groups[0].columns[1].meta_data, &pl, &err), &err);
    CHECK_EQ_INT(pl.type[0], PQ_PAGE_DICTIONARY);
    CHECK_EQ_INT(pl.n, 1 + N / 1000);
    for (int i = 1; i < pl.n; i++) CHECK_EQ_INT(pl.num_values[i], 1000);
    firn_arena_release(&p.arena);
    firn_pq_writer_free(w);
    firn_buf_release(&out);
    free(ids);
    free(tags);
    free(valid);
}

FIRN_TEST(parquet_writer_dictionary_fallback) {
    enum { N = 20000 };
    firn_pq_column_spec s = col("k", 1, FIRN_PQ_STRING, false);
    char *text = malloc(N * 12);
    int64_t *offs = malloc((N + 1) * sizeof *offs);
    offs[0] = 0;
    /* 300 distinct values, then all distinct: the dictionary overflows */
    for (int i = 0; i < N; i++)
        offs[i + 1] = offs[i] + snprintf(text + offs[i], 12, "k%d", i < 5000 ? i % 300 : i);
    firn_pq_column_data d = {.offsets = offs, .data = (uint8_t *)text};
    firn_pq_writer_options o;
    firn_pq_writer_options_init(&o);
    o.dictionary_bytes = 16 << 10;
    o.page_rows = 1000;
    firn_buf out = {0};
    firn_error err;
    firn_error_init(&err);
    firn_pq_writer *w = write_mem(&s, 1, &o, &d, N, &out, NULL, &err);
    CHECK(w);
    parsed p;
    CHECK_OK(parse_file(out.data, out.len, &p, &err), &err);
    const pq_column_meta_data *m = &p.md.row_groups[0].columns[0].meta_data;
    page_list pl;
    CHECK_OK(chunk_pages(out.data, m, &pl, &err), &err);
    CHECK_EQ_INT(pl.type[0], PQ_PAGE_DICTIONARY);
    int dict_pages = 0, plain_pages = 0;
    int64_t values = 0;
    for (int i = 1; i < pl.n; i++) {
        if (pl.encoding[i] == PQ_ENC_RLE_DICTIONARY) {
            CHECK_MSG(plain_pages == 0, "dictionary page after a plain page");
            dict_pages++;
        } else {
            CHECK_EQ_INT(pl.encoding[i], PQ_ENC_PLAIN);
            plain_pages++;
        }
        values += pl.num_values[i];
    }
    CHECK(dict_pages >= 5 && plain_pages >= 5);
    CHECK_EQ_INT(values, N);
    /* the dictionary page stays within its limit */
    CHECK(pl.csize[0] > 0);
    bool has_plain = false, has_dict = false;
    for (uint32_t i = 0; i < m->nencodings; i++) {
        has_plain |= m->encodings[i] == PQ_ENC_PLAIN;
        has_dict |= m->encodings[i] == PQ_ENC_RLE_DICTIONARY;
    }
    CHECK(has_plain && has_dict);
    firn_arena_release(&p.arena);
    firn_pq_writer_free(w);
    firn_buf_release(&out);

    /* no dictionary when the column says so, or for media */
    s.no_dictionary = true;
    firn_buf out2 = {0};
    w = write_mem(&s, 1, &o, &d, N, &out2, NULL, &err);
    CHECK(w);
    CHECK_OK(parse_file(out2.data, out2.len, &p, &err), &err);
    CHECK(!p.md.row_groups[0].columns[0].meta_data.has_dictionary_page_offset);
    firn_arena_release(&p.arena);
    firn_pq_writer_free(w);
    firn_buf_release(&out2);
    free(text);
    free(offs);
}

FIRN_TEST(parquet_writer_media_and_long_stats) {
    firn_pq_column_spec s[2] = {col("img", 1, FIRN_PQ_BINARY, false), col("txt", 2, FIRN_PQ_STRING, false)};
    s[0].media = true;
    enum { N = 3 };
    static char text[300];
    memset(text, 'x', 200);
    memcpy(text, "b", 1);
    memcpy(text + 100, "a\xc3\xa9", 3); /* the min string is 100 bytes long */
    int64_t offs[N + 1] = {0, 100, 200, 200};
    firn_pq_column_data d[2] = {{.offsets = offs, .data = (uint8_t *)text},
                                {.offsets = offs, .data = (uint8_t *)text}};
    firn_buf out = {0};
    firn_pq_file_info info;
    firn_error err;
    firn_error_init(&err);
    firn_pq_writer *w = write_mem(s, 2, NULL, d, N, &out, &info, &err);
    CHECK(w);
    CHECK(!info.columns[0].has_bounds);
    parsed p;
    CHECK_OK(parse_file(out.data, out.len, &p, &err), &err);
    const pq_column_meta_data *m = &p.md.row_groups[0].columns[0].meta_data;
    CHECK_EQ_INT(m->codec, FIRN_PQ_UNCOMPRESSED);
    CHECK(!m->has_dictionary_page_offset);
    CHECK(!m->statistics.has_min_value && m->statistics.has_null_count);
    /* long strings: Parquet statistics truncated to 64 bytes, the max rounded up */
    const pq_statistics *st = &p.md.row_groups[0].columns[1].meta_data.statistics;
    CHECK(st->has_min_value && st->has_max_value);
    CHECK_EQ_INT(st->min_value.len, 0); /* "" is the min */
    CHECK_EQ_INT(st->max_value.len, 64);
    CHECK(st->max_value.ptr[63] == 'y' && st->max_value.ptr[0] == 'b');
    firn_arena_release(&p.arena);
    firn_pq_writer_free(w);
    firn_buf_release(&out);
}

FIRN_TEST(parquet_writer_deterministic) {
    enum { N = 3000 };
    firn_pq_column_spec s[2] = {col("a", 1, FIRN_PQ_DOUBLE, true), col("b", 2, FIRN_PQ_BINARY, true)};
    double *v = malloc(N * sizeof *v);
    uint8_t *valid = malloc(N);
    int64_t *offs = malloc((N + 1) * sizeof *offs);
    uint8_t *bytes = malloc(N * 8);
    offs[0] = 0;
    for (int i = 0; i < N; i++) {
        v[i] = sin(i);
        valid[i] = (i * 7) % 5 != 0;
        int n = valid[i] ? i % 8 : 0;
        for (int k = 0; k < n; k++) bytes[offs[i] + k] = (uint8_t)(i + k);
        offs[i + 1] = offs[i] + n;
    }
    firn_pq_column_data d[2] = {{.validity = valid, .values = v},
                                {.validity = valid, .offsets = offs, .data = bytes}};
    firn_pq_writer_options o;
    firn_pq_writer_options_init(&o);
    o.page_bytes = 1000;
    firn_buf a = {0}, b = {0};
    firn_error err;
    firn_error_init(&err);
    firn_pq_writer *w1 = write_mem(s, 2, &o, d, N, &a, NULL, &err);
    firn_pq_writer *w2 = firn_pq_writer_new(s, 2, &o, mem_sink, &b, &err);
    CHECK(w1 && w2);
    /* the same rows in other batch sizes give the same bytes */
    for (int r = 0; r < N; r += 700) {
        size_t n = N - r < 700 ? (size_t)(N - r) : 700;
        firn_pq_column_data part[2] = {{.validity = valid + r, .values = v + r},
                                       {.validity = valid + r, .offsets = offs + r, .data = bytes}};
        CHECK_OK(firn_pq_writer_write(w2, part, n, &err), &err);
    }
    CHECK_OK(firn_pq_writer_close(w2, NULL, &err), &err);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    firn_pq_writer_free(w1);
    firn_pq_writer_free(w2);
    firn_buf_release(&a);
    firn_buf_release(&b);
    free(v);
    free(valid);
    free(offs);
    free(bytes);
}

FIRN_TEST(parquet_writer_all_null_batch_without_values) {
    firn_pq_column_spec s[2] = {col("a", 1, FIRN_PQ_LONG, true), col("b", 2, FIRN_PQ_BINARY, true)};
    uint8_t none[4] = {0};
    int64_t offs[5] = {0};
    firn_pq_column_data d[2] = {{.validity = none}, {.validity = none, .offsets = offs}};
    firn_buf out = {0};
    firn_pq_file_info info;
    firn_error err;
    firn_error_init(&err);
    firn_pq_writer *w = write_mem(s, 2, NULL, d, 4, &out, &info, &err);
    CHECK_MSG(w, "%s", err.message);
    CHECK_EQ_INT(info.columns[0].null_count, 4);
    CHECK_EQ_INT(info.columns[1].null_count, 4);
    CHECK(!info.columns[0].has_bounds && !info.columns[1].has_bounds);
    firn_pq_writer_free(w);
    /* values are needed as soon as one row is present */
    none[2] = 1;
    firn_buf_clear(&out);
    CHECK(!write_mem(s, 2, NULL, d, 4, &out, &info, &err));
    CHECK(strstr(err.message, "column 'a'") && strstr(err.message, "values are missing"));
    firn_buf_release(&out);
}

/* ------------------------------------------------- streamed media column */

/* Rows for the streaming tests: id (long), tag (optional string), img
 * (optional media binary, 0..~24 KiB, every seventh null) and score. */
typedef struct media_rows {
    size_t n;
    int64_t *ids;
    double *scores;
    uint8_t *valid;
    int64_t *tag_off, *img_off;
    uint8_t *tags, *imgs;
} media_rows;

static void media_rows_make(media_rows *m, size_t n) {
    m->n = n;
    m->ids = malloc(n * sizeof *m->ids);
    m->scores = malloc(n * sizeof *m->scores);
    m->valid = malloc(n);
    m->tag_off = malloc((n + 1) * sizeof *m->tag_off);
    m->img_off = malloc((n + 1) * sizeof *m->img_off);
    m->tags = malloc(n * 16);
    m->imgs = malloc(n * 24600);
    m->tag_off[0] = m->img_off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        m->ids[i] = (int64_t)i * 1000003;
        m->scores[i] = (double)i / 7;
        m->valid[i] = i % 7 != 3;
        int t = m->valid[i] ? snprintf((char *)m->tags + m->tag_off[i], 16, "t%zu", i % 13) : 0;
        m->tag_off[i + 1] = m->tag_off[i] + t;
        size_t len = m->valid[i] ? (i * 7919) % 24577 : 0;
        for (size_t k = 0; k < len; k++) m->imgs[m->img_off[i] + k] = (uint8_t)(i * 31 + k * 7);
        m->img_off[i + 1] = m->img_off[i] + (int64_t)len;
    }
}

static void media_rows_free(media_rows *m) {
    free(m->ids);
    free(m->scores);
    free(m->valid);
    free(m->tag_off);
    free(m->img_off);
    free(m->tags);
    free(m->imgs);
}

/* Columns of rows [r, ...) in schema order id, tag, img, score. */
static void media_cols(const media_rows *m, size_t r, firn_pq_column_data d[4]) {
    d[0] = (firn_pq_column_data){.values = m->ids + r};
    d[1] = (firn_pq_column_data){.validity = m->valid + r, .offsets = m->tag_off + r, .data = m->tags};
    d[2] = (firn_pq_column_data){.validity = m->valid + r, .offsets = m->img_off + r, .data = m->imgs};
    d[3] = (firn_pq_column_data){.values = m->scores + r};
}

static void media_specs(firn_pq_column_spec s[4]) {
    firn_pq_column_spec_init(&s[0], "id", 1, FIRN_PQ_LONG);
    firn_pq_column_spec_init(&s[1], "tag", 2, FIRN_PQ_STRING);
    firn_pq_column_spec_init(&s[2], "img", 3, FIRN_PQ_BINARY);
    firn_pq_column_spec_init(&s[3], "score", 4, FIRN_PQ_DOUBLE);
    s[1].optional = s[2].optional = true;
    s[2].media = true;
}

/* Write m in batches of `batch` rows into out. */
static firn_pq_writer *media_write(const media_rows *m, const firn_pq_column_spec *s,
                                   const firn_pq_writer_options *o, size_t batch, firn_buf *out,
                                   firn_pq_file_info *info, firn_error *err) {
    firn_pq_writer *w = firn_pq_writer_new(s, 4, o, mem_sink, out, err);
    if (!w) return NULL;
    for (size_t r = 0; r < m->n; r += batch) {
        size_t k = m->n - r < batch ? m->n - r : batch;
        firn_pq_column_data d[4];
        media_cols(m, r, d);
        if (firn_pq_writer_write(w, d, k, err)) goto fail;
        /* buffered bytes are never counted twice, nor the streamed ones missed */
        uint64_t est = firn_pq_writer_estimated_size(w);
        if (est < out->len || est > out->len + (3u << 20)) {
            FIRN_RAISE(err, FIRN_ERR_INTERNAL, "estimated size %llu with %zu bytes written",
                       (unsigned long long)est, out->len);
            goto fail;
        }
    }
    if (firn_pq_writer_close(w, info, err)) goto fail;
    return w;
fail:
    firn_pq_writer_free(w);
    return NULL;
}

FIRN_TEST(parquet_writer_streamed_media_layout) {
    media_rows m;
    media_rows_make(&m, 1500);
    firn_pq_column_spec s[4];
    media_specs(s);
    firn_pq_writer_options o;
    firn_pq_writer_options_init(&o);
    o.page_bytes = 64 << 10;
    o.row_group_bytes = 2 << 20;
    firn_buf out = {0};
    firn_pq_file_info info;
    firn_error err;
    firn_error_init(&err);
    firn_pq_writer *w = media_write(&m, s, &o, 113, &out, &info, &err);
    CHECK_MSG(w, "%s", err.message);
    CHECK_EQ_INT(info.file_size, out.len);
    CHECK_MSG(info.nrow_groups >= 4, "%zu row groups", info.nrow_groups);
    parsed p;
    CHECK_OK(parse_file(out.data, out.len, &p, &err), &err);
    CHECK_EQ_INT(p.md.nrow_groups, info.nrow_groups);
    uint64_t col_bytes[4] = {0};
    int64_t rows = 0;
    uint64_t footer_at = out.len - 8 - firn_load_le32(out.data + out.len - 8);
    for (uint32_t g = 0; g < p.md.nrow_groups; g++) {
        const pq_row_group *rg = &p.md.row_groups[g];
        int64_t rg_end = g + 1 < p.md.nrow_groups ? p.md.row_groups[g + 1].file_offset
                                                  : (int64_t)footer_at;
        /* the streamed chunk starts the row group: file_offset and split offset */
        const pq_column_meta_data *img = &rg->columns[2].meta_data;
        CHECK_EQ_INT(rg->file_offset, info.row_group_offsets[g]);
        CHECK_EQ_INT(img->data_page_offset, rg->file_offset);
        CHECK_EQ_INT(rg->columns[2].file_offset, rg->file_offset);
        CHECK(g == 0 || info.row_group_offsets[g] > info.row_group_offsets[g - 1]);
        /* then the buffered chunks in schema order; together they tile the row group */
        int64_t at = rg->file_offset + img->total_compressed_size, sum = 0;
        for (int c = 0; c < 4; c++) {
            const pq_column_meta_data *cm = &rg->columns[c].meta_data;
            int64_t start = cm->has_dictionary_page_offset ? cm->dictionary_page_offset
                                                           : cm->data_page_offset;
            CHECK_EQ_INT(start, rg->columns[c].file_offset);
            CHECK(start >= rg->file_offset);
            if (c != 2) {
                CHECK_EQ_INT(start, at);
                at += cm->total_compressed_size;
            }
            sum += cm->total_compressed_size;
            col_bytes[c] += (uint64_t)cm->total_compressed_size;
            CHECK_EQ_INT(cm->num_values, rg->num_rows);
            page_list pl;
            CHECK_OK(chunk_pages(out.data, cm, &pl, &err), &err);
            if (c == 2 && g + 1 < p.md.nrow_groups)
                CHECK_MSG(pl.n >= 10, "row group %u: %d media pages", g, pl.n);
        }
        CHECK_EQ_INT(at, rg_end);
        CHECK_EQ_INT(sum, rg->total_compressed_size);
        CHECK_EQ_INT(rg_end - rg->file_offset, rg->total_compressed_size);
        CHECK_EQ_INT(img->codec, FIRN_PQ_UNCOMPRESSED);
        CHECK_EQ_INT(rg->columns[0].meta_data.codec, FIRN_PQ_ZSTD); /* spec_init: the default */
        CHECK(!img->statistics.has_min_value);
        CHECK(rg->columns[0].meta_data.statistics.has_min_value);
        rows += rg->num_rows;
    }
    CHECK_EQ_INT(rows, m.n);
    for (int c = 0; c < 4; c++) CHECK_EQ_INT(info.columns[c].column_size, col_bytes[c]);
    CHECK_EQ_INT(info.columns[2].null_count, (m.n + 3) / 7);
    CHECK(!info.columns[2].has_bounds && info.columns[1].has_bounds);

    /* firn's reader returns every row */
    firn_pq_reader *rd = firn_pq_reader_open_mem(out.data, out.len, &err);
    CHECK_MSG(rd, "%s", err.message);
    firn_arena arena;
    firn_arena_init(&arena, 0);
    size_t r0 = 0;
    for (size_t g = 0; g < firn_pq_reader_num_row_groups(rd); g++) {
        size_t n = firn_pq_reader_row_group_rows(rd, g);
        firn_pq_column_data id, tag, img, score;
        CHECK_OK(firn_pq_reader_read_column(rd, g, 0, &arena, &id, &err), &err);
        CHECK_OK(firn_pq_reader_read_column(rd, g, 1, &arena, &tag, &err), &err);
        CHECK_OK(firn_pq_reader_read_column(rd, g, 2, &arena, &img, &err), &err);
        CHECK_OK(firn_pq_reader_read_column(rd, g, 3, &arena, &score, &err), &err);
        CHECK_MEM(id.values, m.ids + r0, n * 8);
        CHECK_MEM(score.values, m.scores + r0, n * 8);
        for (size_t i = 0; i < n; i++) {
            size_t r = r0 + i;
            CHECK_MSG(img.validity && !img.validity[i] == !m.valid[r], "row %zu", r);
            CHECK_MSG(!tag.validity[i] == !m.valid[r], "row %zu", r);
            size_t want = (size_t)(m.img_off[r + 1] - m.img_off[r]);
            size_t got = (size_t)(img.offsets[i + 1] - img.offsets[i]);
            CHECK_MSG(got == want, "row %zu: %zu bytes, want %zu", r, got, want);
            CHECK_MSG(!memcmp(img.data + img.offsets[i], m.imgs + m.img_off[r], want), "row %zu", r);
            size_t tw = (size_t)(m.tag_off[r + 1] - m.tag_off[r]);
            CHECK(tag.offsets[i + 1] - tag.offsets[i] == (int64_t)tw);
            CHECK(!memcmp(tag.data + tag.offsets[i], m.tags + m.tag_off[r], tw));
        }
        r0 += n;
        firn_arena_reset(&arena);
    }
    CHECK_EQ_INT(r0, m.n);
    firn_arena_release(&arena);
    firn_pq_reader_free(rd);
    firn_arena_release(&p.arena);
    firn_pq_writer_free(w);
    firn_buf_release(&out);
    media_rows_free(&m);
}

/* The chunk of a column in a file of one row group. */
static int one_chunk(const firn_buf *f, size_t col, const uint8_t **p, size_t *n, firn_error *err) {
    parsed pf;
    if (parse_file(f->data, f->len, &pf, err)) return -1;
    const pq_column_meta_data *cm = &pf.md.row_groups[0].columns[col].meta_data;
    *p = f->data + (cm->has_dictionary_page_offset ? cm->dictionary_page_offset : cm->data_page_offset);
    *n = (size_t)cm->total_compressed_size;
    int rc = pf.md.nrow_groups == 1 ? 0 : FIRN_RAISE(err, FIRN_ERR_INTERNAL, "row groups");
    firn_arena_release(&pf.arena);
    return rc;
}

/* Streaming moves the media chunk, nothing else: each chunk has the bytes it
 * has in a file of that column alone, and the bytes do not depend on how the
 * rows were batched (whole pages from the batch, or pages completed across
 * batches, or one row at a time). */
FIRN_TEST(parquet_writer_streamed_chunks_unchanged) {
    media_rows m;
    media_rows_make(&m, 600);
    firn_pq_column_spec s[4];
    media_specs(s);
    firn_pq_writer_options o;
    firn_pq_writer_options_init(&o);
    o.page_bytes = 50000;
    firn_error err;
    firn_error_init(&err);
    firn_buf all = {0}, batched = {0}, single = {0};
    firn_pq_writer *w = media_write(&m, s, &o, m.n, &all, NULL, &err);
    CHECK_MSG(w, "%s", err.message);
    firn_pq_writer_free(w);
    w = media_write(&m, s, &o, 7, &batched, NULL, &err);
    CHECK_MSG(w, "%s", err.message);
    firn_pq_writer_free(w);
    w = media_write(&m, s, &o, 1, &single, NULL, &err);
    CHECK_MSG(w, "%s", err.message);
    firn_pq_writer_free(w);
    CHECK(all.len == batched.len && !memcmp(all.data, batched.data, all.len));
    CHECK(all.len == single.len && !memcmp(all.data, single.data, all.len));
    for (size_t c = 0; c < 4; c++) {
        firn_pq_column_data d[4];
        media_cols(&m, 0, d);
        firn_buf alone = {0};
        w = write_mem(&s[c], 1, &o, &d[c], m.n, &alone, NULL, &err);
        CHECK_MSG(w, "%s", err.message);
        const uint8_t *a, *b;
        size_t an, bn;
        CHECK_OK(one_chunk(&all, c, &a, &an, &err), &err);
        CHECK_OK(one_chunk(&alone, 0, &b, &bn, &err), &err);
        CHECK_MSG(an == bn && !memcmp(a, b, an), "column %zu: %zu vs %zu bytes", c, an, bn);
        firn_pq_writer_free(w);
        firn_buf_release(&alone);
    }
    firn_buf_release(&all);
    firn_buf_release(&batched);
    firn_buf_release(&single);
    media_rows_free(&m);
}

/* A row group of images is not held in memory: the sink has the media pages
 * before the row group ends; the other columns wait for it. */
FIRN_TEST(parquet_writer_streams_before_row_group_ends) {
    media_rows m;
    media_rows_make(&m, 400);
    firn_pq_column_spec s[4];
    media_specs(s);
    firn_buf out = {0};
    firn_error err;
    firn_error_init(&err);
    firn_pq_writer *w = firn_pq_writer_new(s, 4, NULL, mem_sink, &out, &err);
    CHECK(w);
    firn_pq_column_data d[4];
    media_cols(&m, 0, d);
    CHECK_OK(firn_pq_writer_write(w, d, m.n, &err), &err);
    /* all but the open page (<= 1 MiB + a value) and the sink buffer (1 MiB) */
    uint64_t img_bytes = (uint64_t)m.img_off[m.n];
    CHECK_MSG(img_bytes > (4u << 20) && out.len + (2u << 20) + 2 * (24577 + 4) > img_bytes,
              "%zu of %llu media bytes written", out.len, (unsigned long long)img_bytes);
    CHECK_OK(firn_pq_writer_close(w, NULL, &err), &err);
    parsed p;
    CHECK_OK(parse_file(out.data, out.len, &p, &err), &err);
    CHECK_EQ_INT(p.md.nrow_groups, 1);
    CHECK_EQ_INT(p.md.row_groups[0].columns[2].meta_data.data_page_offset, 4);
    CHECK(p.md.row_groups[0].columns[0].file_offset > 4);
    firn_arena_release(&p.arena);
    firn_pq_writer_free(w);
    firn_buf_release(&out);
    media_rows_free(&m);
}

FIRN_TEST(parquet_writer_column_spec_init) {
    firn_pq_column_spec s;
    memset(&s, 0x5a, sizeof s);
    firn_pq_column_spec_init(&s, "v", 7, FIRN_PQ_STRING);
    CHECK_EQ_STR(s.name, "v");
    CHECK_EQ_INT(s.field_id, 7);
    CHECK_EQ_INT(s.type, FIRN_PQ_STRING);
    CHECK_EQ_INT(s.codec, FIRN_PQ_CODEC_DEFAULT);
    CHECK(!s.optional && !s.media && !s.no_dictionary);
    CHECK_EQ_INT(s.codec_level, 0);
    CHECK_EQ_INT(s.precision + s.scale + s.length, 0);
    /* the trap it avoids: a zero codec is UNCOMPRESSED */
    firn_pq_column_spec z = {.name = "v", .field_id = 7, .type = FIRN_PQ_STRING};
    int64_t offs[2] = {0, 3};
    firn_pq_column_data d = {.offsets = offs, .data = (const uint8_t *)"abc"};
    firn_buf a = {0}, b = {0};
    firn_error err;
    firn_error_init(&err);
    firn_pq_writer *w1 = write_mem(&s, 1, NULL, &d, 1, &a, NULL, &err);
    firn_pq_writer *w2 = write_mem(&z, 1, NULL, &d, 1, &b, NULL, &err);
    CHECK(w1 && w2);
    parsed pa, pb;
    CHECK_OK(parse_file(a.data, a.len, &pa, &err), &err);
    CHECK_OK(parse_file(b.data, b.len, &pb, &err), &err);
    CHECK_EQ_INT(pa.md.row_groups[0].columns[0].meta_data.codec, FIRN_PQ_ZSTD);
    CHECK_EQ_INT(pb.md.row_groups[0].columns[0].meta_data.codec, FIRN_PQ_UNCOMPRESSED);
    firn_arena_release(&pa.arena);
    firn_arena_release(&pb.arena);
    firn_pq_writer_free(w1);
    firn_pq_writer_free(w2);
    firn_buf_release(&a);
    firn_buf_release(&b);
}
