/* cmd_parquet.c - `firn parquet cat|schema|meta FILE`: look inside Parquet
 * files with firn's own reader. */
#include "cli/cli.h"
#include "parquet/parquet.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: firn parquet cat FILE [--columns a,b,...] [--limit N] [--json]\n"
    "       firn parquet schema FILE [--json]\n"
    "       firn parquet meta FILE [--json]\n"
    "\n"
    "cat     print rows as JSON lines, one object per row, keys in column order\n"
    "        (--json is accepted and changes nothing: JSON lines is cat's only\n"
    "        format). Without --columns every column firn can read is printed and\n"
    "        the others (nested, unsupported types) are named on stderr; a column\n"
    "        named in --columns (by dotted path) must be readable. Values use\n"
    "        Iceberg's JSON single-value serialization:\n"
    "          boolean            true / false\n"
    "          int, long          JSON numbers (every digit)\n"
    "          float, double      shortest JSON number that reads back to the same\n"
    "                             value; \"NaN\", \"Infinity\", \"-Infinity\" as strings\n"
    "          decimal(P,S)       string with exactly S fraction digits: \"-12.50\"\n"
    "          date               \"2017-11-16\"\n"
    "          time               \"22:31:08.000001\" (micros)\n"
    "          timestamp          \"2017-11-16T22:31:08.000001\"\n"
    "          timestamptz        \"2017-11-16T22:31:08.000001+00:00\"\n"
    "          timestamp[tz]_ns   nine fraction digits\n"
    "          string             JSON string (invalid UTF-8 bytes become U+FFFD)\n"
    "          uuid               \"f79c3e09-677c-4bbd-a479-3f349cb785e7\"\n"
    "          binary, fixed      lowercase hex string: \"000102ff\"\n"
    "          null               null\n"
    "        Parquet types are read as Iceberg types: INT(8/16) and UINT(8/16) as\n"
    "        int, UINT(32) as long, UINT(64) as decimal(20,0), TIMESTAMP(MILLIS) as\n"
    "        micros, INT96 as timestamp_ns, FLOAT16 as float, ENUM/JSON as string.\n"
    "schema  the leaf columns: index, dotted path, field id, type, repetition,\n"
    "        Parquet physical type, and why a column cannot be read.\n"
    "meta    the footer: rows, created_by, key/value metadata, and per row group\n"
    "        each column chunk's codec, encodings, value count, sizes, page\n"
    "        offsets and statistics (null count, min, max in the column's type).\n"
    "--json  for schema and meta: one JSON document instead of text.\n";

/* ------------------------------------------------------------ output */

static void out_flush(firn_buf *b) {
    if (b->len) fwrite(b->data, 1, b->len, stdout);
    firn_buf_clear(b);
}

static void put_json_string(firn_buf *b, const uint8_t *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    firn_buf_put_u8(b, '"');
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c == '"' || c == '\\') {
                firn_buf_put_u8(b, '\\');
                firn_buf_put_u8(b, c);
            } else if (c < 0x20) {
                switch (c) {
                case '\n': firn_buf_append(b, "\\n", 2); break;
                case '\r': firn_buf_append(b, "\\r", 2); break;
                case '\t': firn_buf_append(b, "\\t", 2); break;
                case '\b': firn_buf_append(b, "\\b", 2); break;
                case '\f': firn_buf_append(b, "\\f", 2); break;
                default: {
                    char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                    firn_buf_append(b, u, 6);
                }
                }
            } else {
                firn_buf_put_u8(b, c);
            }
            i++;
            continue;
        }
        /* a valid UTF-8 sequence (RFC 3629) passes through, else U+FFFD */
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        bool ok = len && c <= 0xf4 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) ok = (s[i + k] & 0xc0) == 0x80;
        if (ok && len == 3) {
            uint8_t c1 = s[i + 1];
            ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
        }
        if (ok && len == 4) {
            uint8_t c1 = s[i + 1];
            ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
        }
        if (ok) {
            firn_buf_append(b, s + i, len);
            i += len;
        } else {
            firn_buf_append(b, "\xef\xbf\xbd", 3);
            i++;
        }
    }
    firn_buf_put_u8(b, '"');
}

static void put_cstr(firn_buf *b, const char *s) { put_json_string(b, (const uint8_t *)s, strlen(s)); }

static void put_hex(firn_buf *b, const uint8_t *p, size_t n) {
    static const char hex[] = "0123456789abcdef";
    firn_buf_put_u8(b, '"');
    uint8_t *o = firn_buf_extend(b, n * 2);
    for (size_t i = 0; i < n; i++) {
        o[2 * i] = (uint8_t)hex[p[i] >> 4];
        o[2 * i + 1] = (uint8_t)hex[p[i] & 15];
    }
    firn_buf_put_u8(b, '"');
}

static void put_uuid(firn_buf *b, const uint8_t *p) {
    static const char hex[] = "0123456789abcdef";
    char s[38];
    size_t k = 0;
    s[k++] = '"';
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s[k++] = '-';
        s[k++] = hex[p[i] >> 4];
        s[k++] = hex[p[i] & 15];
    }
    s[k++] = '"';
    firn_buf_append(b, s, k);
}

static void put_double(firn_buf *b, double d, bool is_float) {
    if (isnan(d)) {
        firn_buf_append_str(b, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        firn_buf_append_str(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    char s[40];
    for (int prec = is_float ? 6 : 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, d);
        if (is_float ? strtof(s, NULL) == (float)d : strtod(s, NULL) == d) break;
    }
    firn_buf_append_str(b, s);
}

/* Big-endian two's complement integer of n bytes to decimal digits in
 * out (most significant first); returns the digit count, *neg the sign. */
static size_t be_to_digits(const uint8_t *be, size_t n, char *out, bool *neg) {
    uint8_t mag[64];
    if (n > sizeof mag) n = sizeof mag;
    memcpy(mag, be, n);
    *neg = n && (mag[0] & 0x80);
    if (*neg) { /* two's complement negate */
        int carry = 1;
        for (size_t i = n; i-- > 0;) {
            int v = (uint8_t)~mag[i] + carry;
            mag[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    char rev[160];
    size_t nd = 0;
    for (;;) {
        bool zero = true;
        int rem = 0;
        for (size_t i = 0; i < n; i++) {
            int cur = rem * 256 + mag[i];
            mag[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            if (mag[i]) zero = false;
        }
        rev[nd++] = (char)('0' + rem);
        if (zero || nd == sizeof rev) break;
    }
    for (size_t i = 0; i < nd; i++) out[i] = rev[nd - 1 - i];
    return nd;
}

static void put_decimal_digits(firn_buf *b, const char *digits, size_t nd, bool neg, int scale) {
    char s[200];
    size_t k = 0;
    s[k++] = '"';
    if (neg && !(nd == 1 && digits[0] == '0')) s[k++] = '-';
    if (scale > 0) {
        size_t sc = (size_t)scale;
        size_t intd = nd > sc ? nd - sc : 0;
        if (intd == 0) s[k++] = '0';
        else {
            memcpy(s + k, digits, intd);
            k += intd;
        }
        s[k++] = '.';
        for (size_t z = nd; z < sc; z++) s[k++] = '0';
        size_t fd = nd > sc ? sc : nd;
        memcpy(s + k, digits + nd - fd, fd);
        k += fd;
    } else {
        memcpy(s + k, digits, nd);
        k += nd;
    }
    s[k++] = '"';
    firn_buf_append(b, s, k);
}

static void put_decimal_i64(firn_buf *b, int64_t v, int scale) {
    uint8_t be[8];
    for (int k = 0; k < 8; k++) be[k] = (uint8_t)((uint64_t)v >> (56 - 8 * k));
    char digits[160];
    bool neg;
    size_t nd = be_to_digits(be, 8, digits, &neg);
    put_decimal_digits(b, digits, nd, neg, scale);
}

static void put_decimal_be(firn_buf *b, const uint8_t *be, size_t n, int scale) {
    char digits[160];
    bool neg;
    size_t nd = be_to_digits(be, n, digits, &neg);
    put_decimal_digits(b, digits, nd, neg, scale);
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant). */
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static size_t fmt_date(char *s, int64_t days) {
    int64_t y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    if (y >= 0 && y <= 9999) return (size_t)sprintf(s, "%04d-%02u-%02u", (int)y, m, d);
    return (size_t)sprintf(s, "%+05" PRId64 "-%02u-%02u", y, m, d);
}

/* Sub-second units of a day: micros (per = 1e6) or nanos (1e9). */
static size_t fmt_time(char *s, int64_t units, int64_t per) {
    int64_t secs = units / per, frac = units % per;
    return (size_t)sprintf(s, "%02d:%02d:%02d.%0*" PRId64, (int)(secs / 3600), (int)(secs / 60 % 60),
                           (int)(secs % 60), per == 1000000 ? 6 : 9, frac);
}

static void put_timestamp(firn_buf *b, int64_t v, int64_t per, bool tz) {
    int64_t day = per * 86400;
    int64_t days = v / day, rem = v % day;
    if (rem < 0) {
        rem += day;
        days--;
    }
    char s[80];
    size_t k = 0;
    s[k++] = '"';
    k += fmt_date(s + k, days);
    s[k++] = 'T';
    k += fmt_time(s + k, rem, per);
    if (tz) {
        memcpy(s + k, "+00:00", 6);
        k += 6;
    }
    s[k++] = '"';
    firn_buf_append(b, s, k);
}

/* One value of row i of a column. */
static void put_value(firn_buf *b, const firn_pq_column_desc *d, const firn_pq_column_data *c, size_t i) {
    if (c->validity && !c->validity[i]) {
        firn_buf_append(b, "null", 4);
        return;
    }
    const void *v = c->values;
    char s[64];
    switch (d->type) {
    case FIRN_PQ_BOOLEAN:
        firn_buf_append_str(b, ((const uint8_t *)v)[i] ? "true" : "false");
        return;
    case FIRN_PQ_INT:
        firn_buf_append(b, s, (size_t)sprintf(s, "%" PRId32, ((const int32_t *)v)[i]));
        return;
    case FIRN_PQ_LONG:
        firn_buf_append(b, s, (size_t)sprintf(s, "%" PRId64, ((const int64_t *)v)[i]));
        return;
    case FIRN_PQ_FLOAT: put_double(b, ((const float *)v)[i], true); return;
    case FIRN_PQ_DOUBLE: put_double(b, ((const double *)v)[i], false); return;
    case FIRN_PQ_DECIMAL:
        if (d->precision <= 9) put_decimal_i64(b, ((const int32_t *)v)[i], d->scale);
        else if (d->precision <= 18) put_decimal_i64(b, ((const int64_t *)v)[i], d->scale);
        else {
            size_t w = (size_t)firn_pq_decimal_width(d->precision);
            put_decimal_be(b, (const uint8_t *)v + i * w, w, d->scale);
        }
        return;
    case FIRN_PQ_DATE: {
        s[0] = '"';
        size_t k = 1 + fmt_date(s + 1, ((const int32_t *)v)[i]);
        s[k++] = '"';
        firn_buf_append(b, s, k);
        return;
    }
    case FIRN_PQ_TIME: {
        s[0] = '"';
        size_t k = 1 + fmt_time(s + 1, ((const int64_t *)v)[i], 1000000);
        s[k++] = '"';
        firn_buf_append(b, s, k);
        return;
    }
    case FIRN_PQ_TIMESTAMP: put_timestamp(b, ((const int64_t *)v)[i], 1000000, false); return;
    case FIRN_PQ_TIMESTAMPTZ: put_timestamp(b, ((const int64_t *)v)[i], 1000000, true); return;
    case FIRN_PQ_TIMESTAMP_NS: put_timestamp(b, ((const int64_t *)v)[i], 1000000000, false); return;
    case FIRN_PQ_TIMESTAMPTZ_NS: put_timestamp(b, ((const int64_t *)v)[i], 1000000000, true); return;
    case FIRN_PQ_STRING:
        put_json_string(b, c->data + c->offsets[i], (size_t)(c->offsets[i + 1] - c->offsets[i]));
        return;
    case FIRN_PQ_BINARY:
        put_hex(b, c->data + c->offsets[i], (size_t)(c->offsets[i + 1] - c->offsets[i]));
        return;
    case FIRN_PQ_UUID: put_uuid(b, (const uint8_t *)v + i * 16); return;
    case FIRN_PQ_FIXED:
        put_hex(b, (const uint8_t *)v + i * (size_t)d->length, (size_t)d->length);
        return;
    default: firn_buf_append(b, "null", 4); return;
    }
}

/* A statistics value (firn_pq_value typed like the column). */
static void put_stat(firn_buf *b, const firn_pq_column_desc *d, const firn_pq_value *v) {
    firn_pq_column_data c = {0};
    int64_t offs[2] = {0, (int64_t)v->len};
    int32_t i32;
    switch (d->type) {
    case FIRN_PQ_BOOLEAN: firn_buf_append_str(b, v->i ? "true" : "false"); return;
    case FIRN_PQ_FLOAT: put_double(b, v->d, true); return;
    case FIRN_PQ_DOUBLE: put_double(b, v->d, false); return;
    case FIRN_PQ_INT:
    case FIRN_PQ_DATE:
        i32 = (int32_t)v->i;
        c.values = &i32;
        break;
    case FIRN_PQ_DECIMAL:
        if (v->bytes) put_decimal_be(b, v->bytes, v->len, d->scale);
        else put_decimal_i64(b, v->i, d->scale);
        return;
    case FIRN_PQ_STRING:
    case FIRN_PQ_BINARY:
        c.offsets = offs;
        c.data = v->bytes;
        break;
    case FIRN_PQ_UUID:
    case FIRN_PQ_FIXED:
        if (v->len != (d->type == FIRN_PQ_UUID ? 16u : (size_t)d->length)) {
            put_hex(b, v->bytes, v->len);
            return;
        }
        c.values = v->bytes;
        break;
    default: c.values = &v->i; break;
    }
    put_value(b, d, &c, 0);
}

/* ------------------------------------------------------------ names */

static const char *type_name(firn_pq_type t) {
    static const char *const names[] = {
        [FIRN_PQ_BOOLEAN] = "boolean", [FIRN_PQ_INT] = "int", [FIRN_PQ_LONG] = "long",
        [FIRN_PQ_FLOAT] = "float", [FIRN_PQ_DOUBLE] = "double", [FIRN_PQ_DECIMAL] = "decimal",
        [FIRN_PQ_DATE] = "date", [FIRN_PQ_TIME] = "time", [FIRN_PQ_TIMESTAMP] = "timestamp",
        [FIRN_PQ_TIMESTAMPTZ] = "timestamptz", [FIRN_PQ_TIMESTAMP_NS] = "timestamp_ns",
        [FIRN_PQ_TIMESTAMPTZ_NS] = "timestamptz_ns", [FIRN_PQ_STRING] = "string",
        [FIRN_PQ_UUID] = "uuid", [FIRN_PQ_FIXED] = "fixed", [FIRN_PQ_BINARY] = "binary",
    };
    return (unsigned)t < FIRN_PQ_TYPE_COUNT ? names[t] : "?";
}

static void type_string(const firn_pq_column_desc *d, char *s, size_t n) {
    if (!d->supported) snprintf(s, n, "unsupported");
    else if (d->type == FIRN_PQ_DECIMAL) snprintf(s, n, "decimal(%d,%d)", d->precision, d->scale);
    else if (d->type == FIRN_PQ_FIXED) snprintf(s, n, "fixed[%d]", d->length);
    else snprintf(s, n, "%s", type_name(d->type));
}

static const char *physical_name(int t) {
    static const char *const names[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT",
                                        "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < 8 ? names[t] : "UNKNOWN";
}

static const char *codec_name(int c) {
    static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                        "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
    return c >= 0 && c < 8 ? names[c] : "UNKNOWN";
}

static const char *encoding_name(int e) {
    static const char *const names[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE",
                                        "BIT_PACKED", "DELTA_BINARY_PACKED",
                                        "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT", "ALP"};
    return e >= 0 && e < 11 ? names[e] : "UNKNOWN";
}

static int fail(const char *what, firn_error *err) {
    char buf[1024];
    fprintf(stderr, "firn: parquet %s: %s\n", what, firn_error_format(err, buf, sizeof buf));
    firn_error_release(err);
    return 1;
}

/* Why column col cannot be read (asks the reader, which refuses at once). */
static void column_problem(firn_pq_reader *r, size_t col, char *s, size_t n) {
    snprintf(s, n, "unsupported");
    if (firn_pq_reader_num_row_groups(r) == 0) return;
    firn_arena a;
    firn_arena_init(&a, 4096);
    firn_error err;
    firn_error_init(&err);
    firn_pq_column_data d;
    if (firn_pq_reader_read_column(r, 0, col, &a, &d, &err) != 0) {
        const char *m = strstr(err.message, ": ");
        snprintf(s, n, "%s", m ? m + 2 : err.message);
    }
    firn_error_release(&err);
    firn_arena_release(&a);
}

/* ------------------------------------------------------------ cat */

static int cmd_cat(const char *path, const char *columns, long long limit) {
    firn_error err;
    firn_error_init(&err);
    firn_pq_reader *r = firn_pq_reader_open(path, &err);
    if (!r) return fail("cat", &err);
    size_t ncols = firn_pq_reader_num_columns(r);
    size_t *sel = firn_xmalloc((ncols + 1) * sizeof *sel);
    size_t nsel = 0;
    int rc = 0;
    if (columns) {
        char *list = firn_xstrdup(columns), *save = NULL;
        for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
            int c = firn_pq_reader_find_path(r, name);
            if (c < 0) {
                fprintf(stderr, "firn: parquet cat: %s has no column '%s' (see 'firn parquet schema')\n",
                        path, name);
                rc = 1;
                break;
            }
            if (!firn_pq_reader_column(r, (size_t)c)->supported) {
                char why[400];
                column_problem(r, (size_t)c, why, sizeof why);
                fprintf(stderr, "firn: parquet cat: column '%s' cannot be read: %s\n", name, why);
                rc = 1;
                break;
            }
            sel = firn_xrealloc(sel, (nsel + 1) * sizeof *sel);
            sel[nsel++] = (size_t)c;
        }
        free(list);
    } else {
        for (size_t c = 0; c < ncols; c++) {
            const firn_pq_column_desc *d = firn_pq_reader_column(r, c);
            if (d->supported) {
                sel[nsel++] = c;
            } else {
                char why[400];
                column_problem(r, c, why, sizeof why);
                fprintf(stderr, "firn: parquet cat: skipping column '%s': %s\n", d->path, why);
            }
        }
    }
    /* keys, rendered once */
    firn_buf keys[1];
    firn_buf_init(keys);
    size_t *key_off = firn_xmalloc((nsel + 1) * sizeof *key_off);
    for (size_t k = 0; k < nsel; k++) {
        key_off[k] = keys->len;
        firn_buf_put_u8(keys, k ? ',' : '{');
        put_cstr(keys, firn_pq_reader_column(r, sel[k])->path);
        firn_buf_put_u8(keys, ':');
    }
    key_off[nsel] = keys->len;
    firn_arena arena;
    firn_arena_init(&arena, 1 << 20);
    firn_pq_column_data *data = firn_xcalloc(nsel ? nsel : 1, sizeof *data);
    firn_buf out;
    firn_buf_init(&out);
    long long printed = 0;
    for (size_t g = 0; rc == 0 && g < firn_pq_reader_num_row_groups(r); g++) {
        if (limit >= 0 && printed >= limit) break;
        size_t rows = (size_t)firn_pq_reader_row_group_rows(r, g);
        for (size_t k = 0; k < nsel; k++) {
            if (firn_pq_reader_read_column(r, g, sel[k], &arena, &data[k], &err) != 0) {
                out_flush(&out);
                rc = fail("cat", &err);
                break;
            }
        }
        for (size_t i = 0; rc == 0 && i < rows; i++) {
            if (limit >= 0 && printed >= limit) break;
            for (size_t k = 0; k < nsel; k++) {
                firn_buf_append(&out, keys->data + key_off[k], key_off[k + 1] - key_off[k]);
                put_value(&out, firn_pq_reader_column(r, sel[k]), &data[k], i);
            }
            firn_buf_append(&out, nsel ? "}\n" : "{}\n", nsel ? 2 : 3);
            printed++;
            if (out.len > (1 << 16)) out_flush(&out);
        }
        firn_arena_reset(&arena);
    }
    out_flush(&out);
    fflush(stdout);
    firn_buf_release(&out);
    firn_buf_release(keys);
    free(key_off);
    free(data);
    free(sel);
    firn_arena_release(&arena);
    firn_pq_reader_free(r);
    return rc;
}

/* ------------------------------------------------------------ schema */

static int cmd_schema(const char *path, bool json) {
    firn_error err;
    firn_error_init(&err);
    firn_pq_reader *r = firn_pq_reader_open(path, &err);
    if (!r) return fail("schema", &err);
    firn_buf b;
    firn_buf_init(&b);
    size_t n = firn_pq_reader_num_columns(r);
    if (json) firn_buf_append_str(&b, "{\"columns\":[");
    else firn_buf_appendf(&b, "%-4s %-28s %8s  %-16s %-9s %-21s %s\n", "#", "column", "field_id", "type",
                          "repeat", "physical", "note");
    for (size_t c = 0; c < n; c++) {
        const firn_pq_column_desc *d = firn_pq_reader_column(r, c);
        char ts[48], why[400] = "";
        type_string(d, ts, sizeof ts);
        if (!d->supported) column_problem(r, c, why, sizeof why);
        if (json) {
            firn_buf_appendf(&b, "%s{\"index\":%zu,\"path\":", c ? "," : "", c);
            put_cstr(&b, d->path);
            firn_buf_append_str(&b, ",\"name\":");
            put_cstr(&b, d->name);
            firn_buf_appendf(&b, ",\"field_id\":");
            if (d->field_id >= 0) firn_buf_appendf(&b, "%d", d->field_id);
            else firn_buf_append_str(&b, "null");
            firn_buf_appendf(&b, ",\"type\":\"%s\",\"optional\":%s,\"physical\":\"%s\",\"supported\":%s", ts,
                             d->optional ? "true" : "false", physical_name(d->physical_type),
                             d->supported ? "true" : "false");
            if (!d->supported) {
                firn_buf_append_str(&b, ",\"problem\":");
                put_cstr(&b, why);
            }
            firn_buf_put_u8(&b, '}');
        } else {
            char fid[16] = "-";
            if (d->field_id >= 0) snprintf(fid, sizeof fid, "%d", d->field_id);
            firn_buf_appendf(&b, "%-4zu %-28s %8s  %-16s %-9s %-21s %s\n", c, d->path, fid, ts,
                             d->optional ? "optional" : "required", physical_name(d->physical_type), why);
        }
    }
    if (json) firn_buf_append_str(&b, "]}\n");
    fwrite(b.data, 1, b.len, stdout);
    firn_buf_release(&b);
    firn_pq_reader_free(r);
    return 0;
}

/* ------------------------------------------------------------ meta */

static int cmd_meta(const char *path, bool json) {
    firn_error err;
    firn_error_init(&err);
    firn_pq_reader *r = firn_pq_reader_open(path, &err);
    if (!r) return fail("meta", &err);
    struct stat st;
    long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    firn_buf b;
    firn_buf_init(&b);
    const char *cb = firn_pq_reader_created_by(r);
    size_t nkv, ng = firn_pq_reader_num_row_groups(r), nc = firn_pq_reader_num_columns(r);
    const firn_pq_kv *kv = firn_pq_reader_kvs(r, &nkv);
    if (json) {
        firn_buf_appendf(&b, "{\"file_size\":%lld,\"num_rows\":%" PRIu64 ",\"created_by\":", size,
                         firn_pq_reader_num_rows(r));
        if (cb) put_cstr(&b, cb);
        else firn_buf_append_str(&b, "null");
        firn_buf_append_str(&b, ",\"key_value\":{");
        for (size_t i = 0; i < nkv; i++) {
            if (i) firn_buf_put_u8(&b, ',');
            put_cstr(&b, kv[i].key);
            firn_buf_put_u8(&b, ':');
            if (kv[i].value) put_cstr(&b, kv[i].value);
            else firn_buf_append_str(&b, "null");
        }
        firn_buf_append_str(&b, "},\"row_groups\":[");
    } else {
        firn_buf_appendf(&b, "file: %s (%lld bytes)\ncreated_by: %s\nrows: %" PRIu64 "\nrow groups: %zu\n",
                         path, size, cb ? cb : "-", firn_pq_reader_num_rows(r), ng);
        for (size_t i = 0; i < nkv; i++) {
            const char *v = kv[i].value ? kv[i].value : "(null)";
            size_t vl = strlen(v);
            firn_buf_appendf(&b, "key_value: %s = %.*s%s\n", kv[i].key, (int)(vl > 200 ? 200 : vl), v,
                             vl > 200 ? "..." : "");
        }
    }
    int rc = 0;
    for (size_t g = 0; g < ng && rc == 0; g++) {
        uint64_t rows = firn_pq_reader_row_group_rows(r, g);
        if (json) firn_buf_appendf(&b, "%s{\"num_rows\":%" PRIu64 ",\"columns\":[", g ? "," : "", rows);
        else firn_buf_appendf(&b, "row group %zu: %" PRIu64 " rows\n", g, rows);
        for (size_t c = 0; c < nc; c++) {
            const firn_pq_column_desc *d = firn_pq_reader_column(r, c);
            firn_pq_chunk_info ci;
            if (firn_pq_reader_chunk_info(r, g, c, &ci, &err) != 0) {
                fwrite(b.data, 1, b.len, stdout);
                firn_buf_clear(&b);
                rc = fail("meta", &err);
                break;
            }
            if (json) {
                firn_buf_appendf(&b, "%s{\"path\":", c ? "," : "");
                put_cstr(&b, d->path);
                firn_buf_appendf(&b, ",\"codec\":\"%s\",\"encodings\":[", codec_name(ci.codec));
                for (size_t e = 0; e < ci.nencodings; e++)
                    firn_buf_appendf(&b, "%s\"%s\"", e ? "," : "", encoding_name(ci.encodings[e]));
                firn_buf_appendf(&b,
                                 "],\"num_values\":%" PRId64 ",\"compressed_size\":%" PRId64
                                 ",\"uncompressed_size\":%" PRId64 ",\"data_page_offset\":%" PRId64
                                 ",\"dictionary_page_offset\":",
                                 ci.num_values, ci.compressed_size, ci.uncompressed_size, ci.data_page_offset);
                if (ci.dictionary_page_offset >= 0) firn_buf_appendf(&b, "%" PRId64, ci.dictionary_page_offset);
                else firn_buf_append_str(&b, "null");
                firn_buf_append_str(&b, ",\"null_count\":");
                if (ci.has_null_count) firn_buf_appendf(&b, "%" PRId64, ci.null_count);
                else firn_buf_append_str(&b, "null");
                firn_buf_append_str(&b, ",\"min\":");
                if (ci.has_min) put_stat(&b, d, &ci.min);
                else firn_buf_append_str(&b, "null");
                firn_buf_append_str(&b, ",\"max\":");
                if (ci.has_max) put_stat(&b, d, &ci.max);
                else firn_buf_append_str(&b, "null");
                firn_buf_put_u8(&b, '}');
            } else {
                firn_buf_appendf(&b, "  %s: %s", d->path, codec_name(ci.codec));
                for (size_t e = 0; e < ci.nencodings; e++)
                    firn_buf_appendf(&b, "%s%s", e ? "," : " ", encoding_name(ci.encodings[e]));
                firn_buf_appendf(&b,
                                 " values=%" PRId64 " compressed=%" PRId64 " uncompressed=%" PRId64
                                 " data_page=%" PRId64,
                                 ci.num_values, ci.compressed_size, ci.uncompressed_size, ci.data_page_offset);
                if (ci.dictionary_page_offset >= 0)
                    firn_buf_appendf(&b, " dictionary_page=%" PRId64, ci.dictionary_page_offset);
                if (ci.has_null_count) firn_buf_appendf(&b, " nulls=%" PRId64, ci.null_count);
                if (ci.has_min) {
                    firn_buf_append_str(&b, " min=");
                    put_stat(&b, d, &ci.min);
                }
                if (ci.has_max) {
                    firn_buf_append_str(&b, " max=");
                    put_stat(&b, d, &ci.max);
                }
                firn_buf_put_u8(&b, '\n');
            }
        }
        if (json) firn_buf_append_str(&b, "]}");
    }
    if (json && rc == 0) firn_buf_append_str(&b, "]}\n");
    fwrite(b.data, 1, b.len, stdout);
    firn_buf_release(&b);
    firn_pq_reader_free(r);
    return rc;
}

int firn_cmd_parquet(int argc, char **argv) {
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
                      strcmp(argv[1], "help") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc < 3) {
        fputs(usage, stderr);
        return 2;
    }
    const char *sub = argv[1], *file = NULL, *columns = NULL;
    bool json = false;
    long long limit = -1;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = true;
        else if (strcmp(argv[i], "--columns") == 0 && i + 1 < argc) columns = argv[++i];
        else if (strncmp(argv[i], "--columns=", 10) == 0) columns = argv[i] + 10;
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) limit = atoll(argv[++i]);
        else if (strncmp(argv[i], "--limit=", 8) == 0) limit = atoll(argv[i] + 8);
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "firn: parquet: unknown option '%s'\n\n%s", argv[i], usage);
            return 2;
        } else if (!file) file = argv[i];
        else {
            fprintf(stderr, "firn: parquet: one FILE only ('%s')\n", argv[i]);
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "firn: parquet %s: FILE missing\n\n%s", sub, usage);
        return 2;
    }
    if (strcmp(sub, "cat") == 0) return cmd_cat(file, columns, limit);
    if (columns) {
        fprintf(stderr, "firn: parquet %s: --columns is for cat\n", sub);
        return 2;
    }
    if (strcmp(sub, "schema") == 0) return cmd_schema(file, json);
    if (strcmp(sub, "meta") == 0) return cmd_meta(file, json);
    fprintf(stderr, "firn: parquet: unknown subcommand '%s'\n\n%s", sub, usage);
    return 2;
}
