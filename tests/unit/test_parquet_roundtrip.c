/* test_parquet_roundtrip.c - files written by firn's Parquet writer read back
 * by firn's reader: every type, required and optional (nulls), extremes,
 * empty values, every codec, data page v1/v2, dictionary on/off, small pages
 * and row groups, and a 16 MiB binary. Values, types and field ids must come
 * back as they went in. */
#include "parquet/parquet.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct rt_col {
    firn_pq_column_spec spec;
    size_t width; /* fixed-width bytes per value; 0: byte array */
    uint8_t *validity;
    uint8_t *values;
    int64_t *offsets;
    uint8_t *data;
} rt_col;

static uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t z = a * 0x9E3779B97F4A7C15ull + b * 0xD1B54A32D192ED03ull + 1;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t width_of(const firn_pq_column_spec *s) {
    switch (s->type) {
    case FIRN_PQ_BOOLEAN: return 1;
    case FIRN_PQ_INT: case FIRN_PQ_DATE: case FIRN_PQ_FLOAT: return 4;
    case FIRN_PQ_DECIMAL:
        return s->precision <= 9 ? 4 : s->precision <= 18 ? 8 : (size_t)firn_pq_decimal_width(s->precision);
    case FIRN_PQ_UUID: return 16;
    case FIRN_PQ_FIXED: return (size_t)s->length;
    case FIRN_PQ_STRING: case FIRN_PQ_BINARY: return 0;
    default: return 8;
    }
}

/* Deterministic values with the extremes in the first rows. */
static void fill(rt_col *c, size_t n, uint64_t seed, size_t huge_row) {
    size_t w = c->width;
    c->validity = c->spec.optional ? malloc(n + 1) : NULL;
    if (w) c->values = calloc(n + 1, w);
    else c->offsets = calloc(n + 1, sizeof *c->offsets);
    size_t cap = 1024, len = 0;
    if (!w) c->data = malloc(cap);
    for (size_t r = 0; r < n; r++) {
        uint64_t x = mix(r, seed);
        bool null = c->spec.optional && r >= 6 && x % 4 == 0;
        if (c->validity) c->validity[r] = !null;
        if (w) {
            uint8_t *p = c->values + w * r;
            if (null) continue;
            switch (c->spec.type) {
            case FIRN_PQ_BOOLEAN: p[0] = x & 1; break;
            case FIRN_PQ_INT: case FIRN_PQ_DATE: {
                int32_t ext[] = {INT32_MIN, INT32_MAX, 0, -1};
                int32_t v = r < 4 ? ext[r] : (int32_t)(x % 1000) - 500;
                memcpy(p, &v, 4);
                break;
            }
            case FIRN_PQ_FLOAT: {
                float ext[] = {NAN, -0.0f, INFINITY, -INFINITY, 1e-45f};
                float v = r < 5 ? ext[r] : (float)(x % 100) / 4;
                memcpy(p, &v, 4);
                break;
            }
            case FIRN_PQ_DOUBLE: {
                double ext[] = {NAN, -0.0, INFINITY, -INFINITY, 5e-324};
                double v = r < 5 ? ext[r] : (double)(int64_t)x / 7;
                memcpy(p, &v, 8);
                break;
            }
            case FIRN_PQ_DECIMAL:
                if (w == 4) {
                    int32_t v = r == 0 ? -999999999 : r == 1 ? 999999999 : (int32_t)(x % 1000) - 500;
                    memcpy(p, &v, 4);
                } else if (w == 8) {
                    int64_t v = r == 0 ? -999999999999999999ll : (int64_t)(x % 100000) - 50000;
                    memcpy(p, &v, 8);
                } else {
                    for (size_t k = 0; k < w; k++) p[k] = (uint8_t)mix(x % 50, k);
                    if (r == 0) memset(p, 0xFF, w);
                }
                break;
            default: { /* 8-byte ints, uuid, fixed */
                if (w == 8) {
                    int64_t ext[] = {INT64_MIN, INT64_MAX, 0, -1};
                    int64_t v = r < 4 ? ext[r] : (int64_t)(x % 300) * 1000003;
                    memcpy(p, &v, 8);
                } else {
                    for (size_t k = 0; k < w; k++) p[k] = (uint8_t)mix(x % 40, k);
                }
            }
            }
        } else {
            size_t vn = null ? 0 : r == huge_row ? (size_t)16 << 20 : (size_t)(x % 23);
            if (r == 0) vn = 0; /* an empty value */
            if (len + vn > cap) {
                while (len + vn > cap) cap *= 2;
                c->data = realloc(c->data, cap);
            }
            for (size_t k = 0; k < vn; k++)
                c->data[len + k] = c->spec.type == FIRN_PQ_STRING ? (uint8_t)('a' + (mix(x % 60, k) % 26))
                                                                  : (uint8_t)mix(x % 60, k);
            if (r == huge_row && vn) memset(c->data + len, 'z', vn);
            len += vn;
            c->offsets[r + 1] = (int64_t)len;
        }
    }
}

static void free_cols(rt_col *c, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(c[i].validity);
        free(c[i].values);
        free(c[i].offsets);
        free(c[i].data);
    }
}

static int mem_sink(void *ctx, const void *data, size_t n, firn_error *err) {
    (void)err;
    firn_buf_append(ctx, data, n);
    return 0;
}

static const firn_pq_type TYPES[] = {
    FIRN_PQ_BOOLEAN,   FIRN_PQ_INT,          FIRN_PQ_LONG,         FIRN_PQ_FLOAT,
    FIRN_PQ_DOUBLE,    FIRN_PQ_DECIMAL,      FIRN_PQ_DECIMAL,      FIRN_PQ_DECIMAL,
    FIRN_PQ_DATE,      FIRN_PQ_TIME,         FIRN_PQ_TIMESTAMP,    FIRN_PQ_TIMESTAMPTZ,
    FIRN_PQ_TIMESTAMP_NS, FIRN_PQ_TIMESTAMPTZ_NS, FIRN_PQ_STRING,  FIRN_PQ_UUID,
    FIRN_PQ_FIXED,     FIRN_PQ_BINARY,
};
#define NTYPES (sizeof TYPES / sizeof TYPES[0])

/* Write the columns with opts, read every row group back, compare. */
static void roundtrip(rt_col *cols, size_t ncols, size_t nrows, const firn_pq_writer_options *o,
                     size_t batch, const char *label) {
    firn_error err;
    firn_error_init(&err);
    char eb[1024];
    firn_pq_column_spec specs[2 * NTYPES + 1];
    for (size_t i = 0; i < ncols; i++) specs[i] = cols[i].spec;
    firn_buf out = {0};
    firn_pq_writer *w = firn_pq_writer_new(specs, ncols, o, mem_sink, &out, &err);
    CHECK_MSG(w, "%s: %s", label, firn_error_format(&err, eb, sizeof eb));
    for (size_t r = 0; r < nrows; r += batch) {
        size_t n = nrows - r < batch ? nrows - r : batch;
        firn_pq_column_data d[2 * NTYPES + 1];
        for (size_t i = 0; i < ncols; i++) {
            d[i].validity = cols[i].validity ? cols[i].validity + r : NULL;
            d[i].values = cols[i].values ? cols[i].values + cols[i].width * r : NULL;
            d[i].offsets = cols[i].offsets ? cols[i].offsets + r : NULL;
            d[i].data = cols[i].data;
        }
        int rc = firn_pq_writer_write(w, d, n, &err);
        CHECK_MSG(rc == 0, "%s: %s", label, firn_error_format(&err, eb, sizeof eb));
    }
    firn_pq_file_info info;
    CHECK_MSG(firn_pq_writer_close(w, &info, &err) == 0, "%s: %s", label,
              firn_error_format(&err, eb, sizeof eb));
    CHECK_EQ_INT(info.file_size, out.len);

    firn_pq_reader *rd = firn_pq_reader_open_mem(out.data, out.len, &err);
    CHECK_MSG(rd, "%s: open: %s", label, firn_error_format(&err, eb, sizeof eb));
    CHECK_EQ_INT(firn_pq_reader_num_rows(rd), nrows);
    CHECK_EQ_INT(firn_pq_reader_num_columns(rd), ncols);
    CHECK_EQ_INT(firn_pq_reader_num_row_groups(rd), info.nrow_groups);
    for (size_t i = 0; i < ncols; i++) {
        const firn_pq_column_desc *cd = firn_pq_reader_column(rd, i);
        const firn_pq_column_spec *s = &cols[i].spec;
        CHECK_MSG(cd->supported && cd->type == s->type && cd->field_id == s->field_id &&
                      cd->optional == s->optional && !strcmp(cd->name, s->name),
                  "%s: column %s described as type %d field %d", label, s->name, cd->type,
                  cd->field_id);
        if (s->type == FIRN_PQ_DECIMAL)
            CHECK(cd->precision == s->precision && cd->scale == s->scale);
        if (s->type == FIRN_PQ_FIXED) CHECK_EQ_INT(cd->length, s->length);
    }
    size_t base = 0;
    firn_arena arena;
    firn_arena_init(&arena, 0);
    for (size_t g = 0; g < firn_pq_reader_num_row_groups(rd); g++) {
        size_t n = firn_pq_reader_row_group_rows(rd, g);
        for (size_t i = 0; i < ncols; i++) {
            const rt_col *c = &cols[i];
            firn_pq_column_data got;
            int rc = firn_pq_reader_read_column(rd, g, i, &arena, &got, &err);
            CHECK_MSG(rc == 0, "%s: read rg %zu %s: %s", label, g, c->spec.name,
                      firn_error_format(&err, eb, sizeof eb));
            for (size_t r = 0; r < n; r++) {
                size_t row = base + r;
                bool want_null = c->validity && !c->validity[row];
                bool got_null = got.validity && !got.validity[r];
                CHECK_MSG(want_null == got_null, "%s: %s row %zu: null %d != %d", label,
                          c->spec.name, row, got_null, want_null);
                if (want_null) continue;
                if (c->width) {
                    const uint8_t *a = c->values + c->width * row;
                    const uint8_t *b = (const uint8_t *)got.values + c->width * r;
                    if (c->spec.type == FIRN_PQ_BOOLEAN)
                        CHECK_MSG((a[0] != 0) == (b[0] != 0), "%s: %s row %zu", label, c->spec.name, row);
                    else
                        CHECK_MSG(!memcmp(a, b, c->width), "%s: %s row %zu differs", label,
                                  c->spec.name, row);
                } else {
                    size_t an = (size_t)(c->offsets[row + 1] - c->offsets[row]);
                    size_t bn = (size_t)(got.offsets[r + 1] - got.offsets[r]);
                    CHECK_MSG(an == bn && (!an || !memcmp(c->data + c->offsets[row],
                                                          got.data + got.offsets[r], an)),
                              "%s: %s row %zu: %zu bytes vs %zu", label, c->spec.name, row, bn, an);
                }
            }
        }
        firn_arena_reset(&arena);
        base += n;
    }
    CHECK_EQ_INT(base, nrows);
    firn_arena_release(&arena);
    firn_pq_reader_free(rd);
    firn_pq_writer_free(w);
    firn_buf_release(&out);
}

static size_t make_cols(rt_col *cols, size_t nrows, size_t huge_row, bool no_dict) {
    static char names[2 * NTYPES][24];
    size_t n = 0;
    for (size_t t = 0; t < NTYPES; t++) {
        for (int opt = 0; opt <= 1; opt++) {
            rt_col *c = &cols[n];
            memset(c, 0, sizeof *c);
            snprintf(names[n], sizeof names[n], "%c%zu", opt ? 'o' : 'r', t);
            c->spec = (firn_pq_column_spec){.name = names[n], .field_id = (int32_t)(100 + n),
                                            .type = TYPES[t], .optional = opt,
                                            .codec = FIRN_PQ_CODEC_DEFAULT,
                                            .no_dictionary = no_dict};
            if (t == 5) c->spec.precision = 9, c->spec.scale = 3;
            if (t == 6) c->spec.precision = 18, c->spec.scale = 0;
            if (t == 7) c->spec.precision = 38, c->spec.scale = 9;
            if (TYPES[t] == FIRN_PQ_FIXED) c->spec.length = 7;
            c->width = width_of(&c->spec);
            fill(c, nrows, t * 2 + (size_t)opt, TYPES[t] == FIRN_PQ_BINARY && opt ? huge_row : SIZE_MAX);
            n++;
        }
    }
    return n;
}

FIRN_TEST(parquet_roundtrip_codecs_and_pages) {
    static const int codecs[] = {FIRN_PQ_UNCOMPRESSED, FIRN_PQ_SNAPPY, FIRN_PQ_GZIP, FIRN_PQ_ZSTD,
                                 FIRN_PQ_LZ4_RAW};
    enum { N = 2500 };
    rt_col cols[2 * NTYPES];
    for (int nd = 0; nd <= 1; nd++) {
        size_t ncols = make_cols(cols, N, SIZE_MAX, nd);
        for (size_t k = 0; k < sizeof codecs / sizeof codecs[0]; k++) {
            for (int v2 = 0; v2 <= 1; v2++) {
                firn_pq_writer_options o;
                firn_pq_writer_options_init(&o);
                o.codec = codecs[k];
                o.data_page_v2 = v2;
                o.page_bytes = 700;         /* many pages */
                o.row_group_bytes = 40000;  /* several row groups */
                o.dictionary_bytes = 400;   /* dictionaries overflow */
                char label[64];
                snprintf(label, sizeof label, "codec %d v%d %s", codecs[k], v2 + 1,
                         nd ? "no-dict" : "dict");
                roundtrip(cols, ncols, N, &o, 333, label);
                if (firn_test_failed) {
                    free_cols(cols, ncols);
                    return;
                }
            }
        }
        free_cols(cols, ncols);
    }
}

FIRN_TEST(parquet_roundtrip_defaults_and_16mib_binary) {
    enum { N = 300 };
    rt_col cols[2 * NTYPES];
    size_t ncols = make_cols(cols, N, 7, false);
    firn_pq_writer_options o;
    firn_pq_writer_options_init(&o);
    roundtrip(cols, ncols, N, &o, N, "defaults");
    if (!firn_test_failed) {
        o.codec = FIRN_PQ_UNCOMPRESSED;
        o.data_page_v2 = true;
        roundtrip(cols, ncols, N, &o, 50, "uncompressed v2");
    }
    free_cols(cols, ncols);
}
