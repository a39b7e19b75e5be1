/*
 * pq_fixture - writes a deterministic Parquet file with every Iceberg
 * primitive type (required and optional variants, nulls, extremes) and the
 * rows it holds as JSON lines, for interop checks with other readers.
 *
 *   pq_fixture OUT.parquet EXPECTED.json [--codec none|snappy|gzip|zstd|lz4]
 *       [--v2] [--rows N] [--no-dict] [--page-bytes N] [--row-group-bytes N]
 *       [--dict-bytes N] [--batch N] [--big] [--media-column BYTES]
 *
 * --media-column BYTES adds a last column "media": optional BINARY with the
 * media flag (uncompressed, PLAIN, no bounds), values of BYTES/2 to 3*BYTES/2
 * pseudo-random bytes (row 0 empty, every ninth row null). The writer
 * streams that column, so its chunk comes first in each row group's bytes
 * although it is last in the schema.
 *
 * EXPECTED.json: line 1 is {"columns":[{name,type,field_id,optional,
 * precision,scale,length,media}...],"rows":N,"codec":C,"file_size":S,
 * "row_groups":G}; then one JSON array per row in column order. Canonical
 * values: boolean true/false; int and date numbers; long, time and
 * timestamps decimal strings (micros or nanos); float/double strings
 * ("%.17g" of the value as a double, or "NaN", "Infinity", "-Infinity",
 * "-0"); decimals strings with exactly `scale` fraction digits; strings
 * JSON strings; uuid, fixed and binary lowercase hex; null for null.
 * Same arguments, same bytes.
 */
#include "parquet/parquet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct base_type {
    const char *name;
    firn_pq_type type;
    int32_t precision, scale, length;
} base_type;

static const base_type BASES[] = {
    {"bool", FIRN_PQ_BOOLEAN, 0, 0, 0},
    {"int", FIRN_PQ_INT, 0, 0, 0},
    {"long", FIRN_PQ_LONG, 0, 0, 0},
    {"float", FIRN_PQ_FLOAT, 0, 0, 0},
    {"double", FIRN_PQ_DOUBLE, 0, 0, 0},
    {"dec9", FIRN_PQ_DECIMAL, 9, 2, 0},
    {"dec18", FIRN_PQ_DECIMAL, 18, 4, 0},
    {"dec38", FIRN_PQ_DECIMAL, 38, 10, 0},
    {"date", FIRN_PQ_DATE, 0, 0, 0},
    {"time", FIRN_PQ_TIME, 0, 0, 0},
    {"ts", FIRN_PQ_TIMESTAMP, 0, 0, 0},
    {"tstz", FIRN_PQ_TIMESTAMPTZ, 0, 0, 0},
    {"ts_ns", FIRN_PQ_TIMESTAMP_NS, 0, 0, 0},
    {"tstz_ns", FIRN_PQ_TIMESTAMPTZ_NS, 0, 0, 0},
    {"string", FIRN_PQ_STRING, 0, 0, 0},
    {"uuid", FIRN_PQ_UUID, 0, 0, 0},
    {"fixed5", FIRN_PQ_FIXED, 0, 0, 5},
    {"binary", FIRN_PQ_BINARY, 0, 0, 0},
};
#define NBASES (sizeof BASES / sizeof BASES[0])

static const char *TYPE_NAMES[] = {"boolean", "int", "long", "float", "double", "decimal",
                                   "date", "time", "timestamp", "timestamptz", "timestamp_ns",
                                   "timestamptz_ns", "string", "uuid", "fixed", "binary"};

/* splitmix64 of (row, column): the same value whatever the batch layout */
static uint64_t rnd(uint64_t row, uint64_t col) {
    uint64_t z = row * 0x9E3779B97F4A7C15ull + col * 0xD1B54A32D192ED03ull + 0x1234567;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct column {
    firn_pq_column_spec spec;
    const base_type *base;
    uint8_t *validity;
    uint8_t *values;      /* fixed-width */
    int64_t *offsets;     /* byte arrays */
    uint8_t *data;
    size_t data_len, data_cap;
} column;

static void put_bytes(column *c, const void *p, size_t n) {
    if (!n) return;
    if (c->data_len + n > c->data_cap) {
        c->data_cap = (c->data_len + n) * 2 + 1024;
        c->data = realloc(c->data, c->data_cap);
        if (!c->data) abort();
    }
    memcpy(c->data + c->data_len, p, n);
    c->data_len += n;
}

static int big_mode;
static size_t media_bytes; /* --media-column */

/* ---------------------------------------------------------- values */

static const char *STRINGS[] = {"", "a", "A", "zzzz", "\x7f", "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\xa7\x8a",
                                "quote\" backslash\\ tab\t newline\n",
                                "\xf4\x8f\xbf\xbf max code point",
                                "a string that is longer than sixty-four bytes, to make the writer truncate its statistics",
                                "\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf extra"};
#define NSTRINGS (sizeof STRINGS / sizeof STRINGS[0])

static __int128 pow10_128(int n) {
    __int128 v = 1;
    while (n--) v *= 10;
    return v;
}

/* The value of column base b at row r (fixed width into out, or bytes). */
static void gen_fixed(const base_type *b, uint64_t r, uint64_t col, uint8_t *out) {
    uint64_t x = rnd(r, col);
    switch (b->type) {
    case FIRN_PQ_BOOLEAN:
        out[0] = (uint8_t)(x & 1);
        return;
    case FIRN_PQ_INT: {
        static const int32_t ext[] = {INT32_MIN, INT32_MAX, 0, -1};
        int32_t v = r < 4 ? ext[r] : (int32_t)(x % 200) - 100;
        memcpy(out, &v, 4);
        return;
    }
    case FIRN_PQ_LONG: {
        static const int64_t ext[] = {INT64_MIN, INT64_MAX, 0, -1};
        int64_t v = r < 4 ? ext[r] : (int64_t)x;
        memcpy(out, &v, 8);
        return;
    }
    case FIRN_PQ_FLOAT: {
        float ext[] = {NAN, -0.0f, 0.0f, INFINITY, -INFINITY, 3.4028235e38f, 1.4e-45f, 1.5f};
        float v = r < 8 ? ext[r] : (float)(x % 1000) / 8.0f - 50.0f;
        memcpy(out, &v, 4);
        return;
    }
    case FIRN_PQ_DOUBLE: {
        double ext[] = {NAN, -0.0, 0.0, INFINITY, -INFINITY, 1.7976931348623157e308, 5e-324, 0.1};
        double v = r < 8 ? ext[r] : (double)(int64_t)(x % 2000000) / 1000.0 - 1000.0;
        memcpy(out, &v, 8);
        return;
    }
    case FIRN_PQ_DECIMAL:
        if (b->precision <= 9) {
            static const int32_t ext[] = {-999999999, 999999999, 0, -1, 1};
            int32_t v = r < 5 ? ext[r] : (int32_t)(x % 2000000) - 1000000;
            memcpy(out, &v, 4);
        } else if (b->precision <= 18) {
            static const int64_t ext[] = {-999999999999999999ll, 999999999999999999ll, 0, -1, 1};
            int64_t v = r < 5 ? ext[r] : (int64_t)(x % 2000000000000ull) - 1000000000000ll;
            memcpy(out, &v, 8);
        } else {
            __int128 m = pow10_128(38) - 1, v;
            if (r == 0) v = -m;
            else if (r == 1) v = m;
            else if (r == 2) v = 0;
            else if (r == 3) v = -1;
            else if (r == 4) v = 1;
            else {
                v = (__int128)(x >> 2) << 64 | rnd(r, col + 1000);
                if (x & 1) v = -v;
            }
            for (int i = 0; i < 16; i++) out[i] = (uint8_t)((unsigned __int128)v >> (8 * (15 - i)));
        }
        return;
    case FIRN_PQ_DATE: {
        static const int32_t ext[] = {-719162, 2932896, 0, -1};
        int32_t v = r < 4 ? ext[r] : (int32_t)(x % 40000) - 10000;
        memcpy(out, &v, 4);
        return;
    }
    case FIRN_PQ_TIME: {
        static const int64_t ext[] = {0, 86399999999ll, 1};
        int64_t v = r < 3 ? ext[r] : (int64_t)(x % 86400000000ull);
        memcpy(out, &v, 8);
        return;
    }
    case FIRN_PQ_TIMESTAMP:
    case FIRN_PQ_TIMESTAMPTZ: {
        static const int64_t ext[] = {-62135596800000000ll, 253402300799999999ll, 0, -1};
        int64_t v = r < 4 ? ext[r] : 1600000000000000ll + (int64_t)(x % 100000000000000ull) - 50000000000000ll;
        memcpy(out, &v, 8);
        return;
    }
    case FIRN_PQ_TIMESTAMP_NS:
    case FIRN_PQ_TIMESTAMPTZ_NS: {
        static const int64_t ext[] = {-9000000000000000000ll, 9000000000000000000ll, 0, -1, 1};
        int64_t v = r < 5 ? ext[r] : 1600000000000000000ll + (int64_t)(x % 100000000000000000ull);
        memcpy(out, &v, 8);
        return;
    }
    case FIRN_PQ_UUID:
        if (r == 0) memset(out, 0, 16);
        else if (r == 1) memset(out, 0xFF, 16);
        else {
            uint64_t a = rnd(x % 100, 7), c = rnd(x % 100, 8);
            memcpy(out, &a, 8);
            memcpy(out + 8, &c, 8);
        }
        return;
    case FIRN_PQ_FIXED:
        if (r == 0) memset(out, 0, (size_t)b->length);
        else if (r == 1) memset(out, 0xFF, (size_t)b->length);
        else {
            uint64_t a = rnd(x % 300, 9);
            memcpy(out, &a, (size_t)b->length);
        }
        return;
    default:
        abort();
    }
}

static void gen_media(column *c, uint64_t r) {
    if (r == 0) return; /* empty */
    size_t n = media_bytes / 2 + (size_t)(rnd(r, 77) % (media_bytes + 1));
    uint8_t *b = malloc(n + 8);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t x = rnd(r, 1000 + i);
        memcpy(b + i, &x, 8);
    }
    put_bytes(c, b, n);
    free(b);
}

static void gen_bytes(column *c, uint64_t r, uint64_t col) {
    if (c->spec.media) {
        gen_media(c, r);
        return;
    }
    uint64_t x = rnd(r, col);
    if (c->base->type == FIRN_PQ_STRING) {
        if (r < NSTRINGS) {
            put_bytes(c, STRINGS[r], strlen(STRINGS[r]));
        } else {
            char s[64];
            int n = snprintf(s, sizeof s, "car-%05u", (unsigned)(x % 300));
            put_bytes(c, s, (size_t)n);
        }
        return;
    }
    /* binary */
    if (r == 0) return; /* empty */
    if (r == 1) {
        put_bytes(c, "\0", 1);
        return;
    }
    if (r == 2) {
        uint8_t ff[80];
        memset(ff, 0xFF, sizeof ff);
        put_bytes(c, ff, sizeof ff);
        return;
    }
    if (big_mode && r >= 5 && r <= 7) {
        size_t n = r == 5 ? 100 << 10 : r == 6 ? 1 << 20 : 16 << 20;
        uint8_t *b = malloc(n);
        for (size_t i = 0; i < n; i++) b[i] = (uint8_t)rnd(i, r);
        put_bytes(c, b, n);
        free(b);
        return;
    }
    uint64_t pick = x % 200;
    size_t n = (size_t)(rnd(pick, 11) % 40);
    uint8_t b[40];
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)rnd(pick, 100 + i);
    put_bytes(c, b, n);
}

static bool is_null(const column *c, uint64_t r, uint64_t col) {
    if (!c->spec.optional) return false;
    if (!strcmp(c->spec.name, "o_allnull")) return true;
    if (c->spec.media) return r % 9 == 4;
    if (r < 10) return false; /* keep the extremes */
    return rnd(r, col + 5000) % 5 == 0;
}

/* ------------------------------------------------------------ JSON */

static void json_string(FILE *f, const uint8_t *p, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch == '\n') fputs("\\n", f);
        else if (ch == '\t') fputs("\\t", f);
        else if (ch < 0x20 || ch == 0x7f) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

static void json_hex(FILE *f, const uint8_t *p, size_t n) {
    static const char hexd[] = "0123456789abcdef";
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        fputc(hexd[p[i] >> 4], f);
        fputc(hexd[p[i] & 15], f);
    }
    fputc('"', f);
}

static void json_double(FILE *f, double v) {
    if (isnan(v)) fputs("\"NaN\"", f);
    else if (isinf(v)) fputs(v > 0 ? "\"Infinity\"" : "\"-Infinity\"", f);
    else if (v == 0 && signbit(v)) fputs("\"-0\"", f);
    else fprintf(f, "\"%.17g\"", v);
}

static void json_decimal(FILE *f, __int128 v, int scale) {
    char digits[64];
    int n = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (n <= scale) digits[n++] = '0';
    fputc('"', f);
    if (neg) fputc('-', f);
    for (int i = n - 1; i >= 0; i--) {
        fputc(digits[i], f);
        if (i == scale && scale > 0) fputc('.', f);
    }
    fputc('"', f);
}

static void json_value(FILE *f, const column *c, size_t r) {
    if (c->validity && !c->validity[r]) {
        fputs("null", f);
        return;
    }
    const base_type *b = c->base;
    const uint8_t *v = c->values;
    switch (b->type) {
    case FIRN_PQ_BOOLEAN: fputs(v[r] ? "true" : "false", f); return;
    case FIRN_PQ_INT:
    case FIRN_PQ_DATE: {
        int32_t x;
        memcpy(&x, v + 4 * r, 4);
        fprintf(f, "%d", (int)x);
        return;
    }
    case FIRN_PQ_LONG:
    case FIRN_PQ_TIME:
    case FIRN_PQ_TIMESTAMP:
    case FIRN_PQ_TIMESTAMPTZ:
    case FIRN_PQ_TIMESTAMP_NS:
    case FIRN_PQ_TIMESTAMPTZ_NS: {
        int64_t x;
        memcpy(&x, v + 8 * r, 8);
        fprintf(f, "\"%lld\"", (long long)x);
        return;
    }
    case FIRN_PQ_FLOAT: {
        float x;
        memcpy(&x, v + 4 * r, 4);
        json_double(f, (double)x);
        return;
    }
    case FIRN_PQ_DOUBLE: {
        double x;
        memcpy(&x, v + 8 * r, 8);
        json_double(f, x);
        return;
    }
    case FIRN_PQ_DECIMAL:
        if (b->precision <= 9) {
            int32_t x;
            memcpy(&x, v + 4 * r, 4);
            json_decimal(f, x, b->scale);
        } else if (b->precision <= 18) {
            int64_t x;
            memcpy(&x, v + 8 * r, 8);
            json_decimal(f, x, b->scale);
        } else {
            const uint8_t *p = v + 16 * r;
            unsigned __int128 u = 0;
            for (int i = 0; i < 16; i++) u = u << 8 | p[i];
            json_decimal(f, (__int128)u, b->scale);
        }
        return;
    case FIRN_PQ_UUID: json_hex(f, v + 16 * r, 16); return;
    case FIRN_PQ_FIXED: json_hex(f, v + (size_t)b->length * r, (size_t)b->length); return;
    case FIRN_PQ_STRING:
        json_string(f, c->data + c->offsets[r], (size_t)(c->offsets[r + 1] - c->offsets[r]));
        return;
    case FIRN_PQ_BINARY:
        json_hex(f, c->data + c->offsets[r], (size_t)(c->offsets[r + 1] - c->offsets[r]));
        return;
    default: abort();
    }
}

static size_t fixed_width(const base_type *b) {
    switch (b->type) {
    case FIRN_PQ_BOOLEAN: return 1;
    case FIRN_PQ_INT:
    case FIRN_PQ_DATE:
    case FIRN_PQ_FLOAT: return 4;
    case FIRN_PQ_DECIMAL: return b->precision <= 9 ? 4 : b->precision <= 18 ? 8 : 16;
    case FIRN_PQ_UUID: return 16;
    case FIRN_PQ_FIXED: return (size_t)b->length;
    case FIRN_PQ_STRING:
    case FIRN_PQ_BINARY: return 0;
    default: return 8;
    }
}

static int usage(void) {
    fprintf(stderr, "usage: pq_fixture OUT.parquet EXPECTED.json [--codec none|snappy|gzip|zstd|lz4] "
                    "[--v2] [--rows N] [--no-dict] [--page-bytes N] [--row-group-bytes N] "
                    "[--dict-bytes N] [--batch N] [--big] [--media-column BYTES]\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    const char *out = argv[1], *expected = argv[2];
    firn_pq_writer_options opts;
    firn_pq_writer_options_init(&opts);
    size_t rows = 1000, batch = 0;
    bool no_dict = false;
    const char *codec_name = "zstd";
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--v2")) opts.data_page_v2 = true;
        else if (!strcmp(a, "--no-dict")) no_dict = true;
        else if (!strcmp(a, "--big")) big_mode = 1;
        else if (!v) return usage();
        else if (!strcmp(a, "--codec")) {
            codec_name = v;
            if (!strcmp(v, "none")) opts.codec = FIRN_PQ_UNCOMPRESSED;
            else if (!strcmp(v, "snappy")) opts.codec = FIRN_PQ_SNAPPY;
            else if (!strcmp(v, "gzip")) opts.codec = FIRN_PQ_GZIP;
            else if (!strcmp(v, "zstd")) opts.codec = FIRN_PQ_ZSTD;
            else if (!strcmp(v, "lz4")) opts.codec = FIRN_PQ_LZ4_RAW;
            else return usage();
            i++;
        } else if (!strcmp(a, "--rows")) rows = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--page-bytes")) opts.page_bytes = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--row-group-bytes")) opts.row_group_bytes = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--dict-bytes")) opts.dictionary_bytes = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--batch")) batch = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--media-column")) media_bytes = strtoull(v, NULL, 10), i++;
        else return usage();
    }
    if (!batch) batch = rows ? rows : 1;
    firn_pq_kv kv[] = {{"iceberg.schema", "{\"type\":\"struct\",\"schema-id\":0,\"fields\":[]}"},
                       {"firn.fixture", "pq_fixture"}};
    opts.kv = kv;
    opts.nkv = 2;

    size_t ncols = 2 * NBASES + 1 + (media_bytes ? 1 : 0);
    column *cols = calloc(ncols, sizeof *cols);
    firn_pq_column_spec *specs = calloc(ncols, sizeof *specs);
    char names[2 * NBASES + 2][32];
    for (size_t i = 0; i < ncols; i++) {
        column *c = &cols[i];
        if (i == 2 * NBASES + 1) { /* --media-column */
            c->base = &BASES[NBASES - 1]; /* binary */
            firn_pq_column_spec_init(&c->spec, "media", (int32_t)(i + 1), FIRN_PQ_BINARY);
            c->spec.optional = true;
            c->spec.media = true;
        } else {
            const base_type *b = i < 2 * NBASES ? &BASES[i / 2] : &BASES[14]; /* o_allnull: string */
            bool optional = i >= 2 * NBASES || (i & 1);
            if (i < 2 * NBASES) snprintf(names[i], sizeof names[i], "%s_%s", optional ? "o" : "r", b->name);
            else snprintf(names[i], sizeof names[i], "o_allnull");
            c->base = b;
            c->spec = (firn_pq_column_spec){
                .name = names[i], .field_id = (int32_t)(i + 1), .type = b->type, .optional = optional,
                .precision = b->precision, .scale = b->scale, .length = b->length,
                .codec = FIRN_PQ_CODEC_DEFAULT, .no_dictionary = no_dict};
        }
        const base_type *b = c->base;
        bool optional = c->spec.optional;
        specs[i] = c->spec;
        size_t w = fixed_width(b);
        c->validity = optional ? calloc(rows + 1, 1) : NULL;
        if (w) c->values = calloc(rows + 1, w);
        else c->offsets = calloc(rows + 1, sizeof *c->offsets);
        for (size_t r = 0; r < rows; r++) {
            bool null = is_null(c, r, i);
            if (c->validity) c->validity[r] = !null;
            if (w) {
                if (!null) gen_fixed(b, r, i / 2, c->values + w * r);
            } else {
                if (!null) gen_bytes(c, r, i / 2);
                c->offsets[r + 1] = (int64_t)c->data_len;
            }
        }
    }

    firn_error err;
    firn_error_init(&err);
    remove(out);
    firn_pq_writer *w = firn_pq_writer_open(out, specs, ncols, &opts, &err);
    char eb[1024];
    if (!w) {
        fprintf(stderr, "pq_fixture: %s\n", firn_error_format(&err, eb, sizeof eb));
        return 1;
    }
    firn_pq_column_data *data = calloc(ncols, sizeof *data);
    for (size_t r = 0; r < rows; r += batch) {
        size_t n = rows - r < batch ? rows - r : batch;
        for (size_t i = 0; i < ncols; i++) {
            column *c = &cols[i];
            size_t wd = fixed_width(c->base);
            data[i].validity = c->validity ? c->validity + r : NULL;
            data[i].values = wd ? c->values + wd * r : NULL;
            data[i].offsets = c->offsets ? c->offsets + r : NULL;
            data[i].data = c->data;
        }
        if (firn_pq_writer_write(w, data, n, &err)) {
            fprintf(stderr, "pq_fixture: %s\n", firn_error_format(&err, eb, sizeof eb));
            return 1;
        }
    }
    firn_pq_file_info info;
    if (firn_pq_writer_close(w, &info, &err)) {
        fprintf(stderr, "pq_fixture: %s\n", firn_error_format(&err, eb, sizeof eb));
        return 1;
    }

    FILE *f = fopen(expected, "w");
    if (!f) {
        perror(expected);
        return 1;
    }
    fputs("{\"columns\":[", f);
    for (size_t i = 0; i < ncols; i++) {
        const firn_pq_column_spec *s = &specs[i];
        fprintf(f, "%s{\"name\":\"%s\",\"type\":\"%s\",\"field_id\":%d,\"optional\":%s,"
                   "\"precision\":%d,\"scale\":%d,\"length\":%d,\"media\":%s}",
                i ? "," : "", s->name, TYPE_NAMES[s->type], (int)s->field_id,
                s->optional ? "true" : "false", (int)s->precision, (int)s->scale, (int)s->length,
                s->media ? "true" : "false");
    }
    fprintf(f, "],\"rows\":%zu,\"codec\":\"%s\",\"file_size\":%llu,\"row_groups\":%zu,"
               "\"row_group_offsets\":[",
            rows, codec_name, (unsigned long long)info.file_size, info.nrow_groups);
    for (size_t g = 0; g < info.nrow_groups; g++)
        fprintf(f, "%s%llu", g ? "," : "", (unsigned long long)info.row_group_offsets[g]);
    fputs("],\"stats\":[", f);
    for (size_t i = 0; i < ncols; i++) {
        const firn_pq_column_stats *s = &info.columns[i];
        fprintf(f, "%s{\"field_id\":%d,\"column_size\":%llu,\"value_count\":%llu,"
                   "\"null_count\":%llu,\"nan_count\":%llu,\"lower\":",
                i ? "," : "", (int)s->field_id, (unsigned long long)s->column_size,
                (unsigned long long)s->value_count, (unsigned long long)s->null_count,
                (unsigned long long)s->nan_count);
        if (s->has_bounds && s->lower) json_hex(f, s->lower, s->lower_len);
        else fputs("null", f);
        fputs(",\"upper\":", f);
        if (s->has_bounds && s->upper) json_hex(f, s->upper, s->upper_len);
        else fputs("null", f);
        fputc('}', f);
    }
    fputs("]}\n", f);
    for (size_t r = 0; r < rows; r++) {
        fputc('[', f);
        for (size_t i = 0; i < ncols; i++) {
            if (i) fputc(',', f);
            json_value(f, &cols[i], r);
        }
        fputs("]\n", f);
    }
    if (fclose(f) != 0) {
        perror(expected);
        return 1;
    }
    firn_pq_writer_free(w);
    for (size_t i = 0; i < ncols; i++) {
        free(cols[i].validity);
        free(cols[i].values);
        free(cols[i].offsets);
        free(cols[i].data);
    }
    free(cols);
    free(specs);
    free(data);
    return 0;
}
