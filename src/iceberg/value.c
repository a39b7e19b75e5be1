/*
 * value.c - typed single values: binary single-value serialization (bounds),
 * JSON single-value serialization, text and human-readable forms, ordering,
 * and bound truncation.
 */
#include "iceberg/iceberg_internal.h"
#include "parquet/parquet.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY INT64_C(86400000000)
#define NS_PER_SEC INT64_C(1000000000)
#define NS_PER_DAY INT64_C(86400000000000)

static const char *type_name(firn_ice_type_id id) {
    static char buf[8][32];
    static int slot;
    char *b = buf[slot++ & 7];
    firn_ice_type t = {.id = id};
    return firn_ice_type_to_string(&t, b, 32);
}

/* ----------------------------------------------------------- civil dates */

/* Howard Hinnant's days_from_civil / civil_from_days (public domain). */
int32_t firn_ice_days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void firn_ice_civil_from_days(int64_t z, int64_t *year, int *month, int *day) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = y + (m <= 2);
    *month = m;
    *day = d;
}

static int days_in_month(int64_t y, int m) {
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

/* ------------------------------------------------------------ small helpers */

static const char hexdig[] = "0123456789abcdef";

static void put_hex(firn_buf *out, const uint8_t *p, size_t n) {
    uint8_t *d = firn_buf_extend(out, n * 2);
    for (size_t i = 0; i < n; i++) {
        d[2 * i] = (uint8_t)hexdig[p[i] >> 4];
        d[2 * i + 1] = (uint8_t)hexdig[p[i] & 15];
    }
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void put_base64(firn_buf *out, const uint8_t *p, size_t n) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        firn_buf_put_u8(out, (uint8_t)tbl[v >> 18 & 63]);
        firn_buf_put_u8(out, (uint8_t)tbl[v >> 12 & 63]);
        firn_buf_put_u8(out, i + 1 < n ? (uint8_t)tbl[v >> 6 & 63] : '=');
        firn_buf_put_u8(out, i + 2 < n ? (uint8_t)tbl[v & 63] : '=');
    }
}

void firn_ice_uuid_format(const uint8_t u[16], char out[37]) {
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
        out[k++] = hexdig[u[i] >> 4];
        out[k++] = hexdig[u[i] & 15];
    }
    out[k] = '\0';
}

int firn_ice_uuid_parse(const char *s, uint8_t out[16]) {
    if (!s) return -1;
    int k = 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return -1;
            continue;
        }
        int h = hexval((unsigned char)s[i]);
        if (h < 0) return -1;
        if (k % 2 == 0) out[k / 2] = (uint8_t)(h << 4);
        else out[k / 2] |= (uint8_t)h;
        k++;
    }
    return s[36] == '\0' ? 0 : -1;
}

/* --------------------------------------------------------------- decimals */

typedef unsigned __int128 u128;

static const char *u128_digits(u128 v, char *buf /* >= 40 */) {
    char *p = buf + 39;
    *p = '\0';
    do {
        *--p = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    return p;
}

static u128 magnitude(firn_ice_int128 v) { return v < 0 ? (u128)0 - (u128)v : (u128)v; }

static firn_ice_int128 pow10_i128(int n) {
    firn_ice_int128 r = 1;
    for (int i = 0; i < n; i++) r *= 10;
    return r;
}

/* Java's BigDecimal.toPlainString (plain) or toString (scientific when needed). */
static void put_decimal(firn_buf *out, firn_ice_int128 unscaled, int32_t scale, bool java_tostring) {
    char buf[48];
    const char *digits = u128_digits(magnitude(unscaled), buf);
    size_t nd = strlen(digits);
    int64_t adjusted = -(int64_t)scale + (int64_t)nd - 1;
    if (unscaled < 0) firn_buf_put_u8(out, '-');
    if (scale >= 0 && (!java_tostring || adjusted >= -6)) {
        if (scale == 0) {
            firn_buf_append(out, digits, nd);
        } else if ((size_t)scale >= nd) {
            firn_buf_append_str(out, "0.");
            for (size_t i = 0; i < (size_t)scale - nd; i++) firn_buf_put_u8(out, '0');
            firn_buf_append(out, digits, nd);
        } else {
            firn_buf_append(out, digits, nd - (size_t)scale);
            firn_buf_put_u8(out, '.');
            firn_buf_append(out, digits + nd - (size_t)scale, (size_t)scale);
        }
        return;
    }
    if (!java_tostring && scale < 0) {
        /* toPlainString of a negative scale: digits followed by zeros */
        firn_buf_append(out, digits, nd);
        for (int32_t i = 0; i < -scale; i++) firn_buf_put_u8(out, '0');
        return;
    }
    firn_buf_put_u8(out, (uint8_t)digits[0]);
    if (nd > 1) {
        firn_buf_put_u8(out, '.');
        firn_buf_append(out, digits + 1, nd - 1);
    }
    firn_buf_appendf(out, "E%s%lld", adjusted >= 0 ? "+" : "", (long long)adjusted);
}

/* Parse "[-+]digits[.digits][E[-+]digits]" into unscaled/scale. */
static int parse_decimal_text(const char *s, size_t len, firn_ice_int128 *unscaled, int32_t *scale) {
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    u128 v = 0;
    int ndig = 0, frac = 0;
    bool seen_point = false, any = false;
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.' && !seen_point) {
            seen_point = true;
            continue;
        }
        if (c < '0' || c > '9') break;
        any = true;
        if (v != 0 || c != '0') ndig++;
        if (ndig > 38) return -1;
        v = v * 10 + (u128)(c - '0');
        if (seen_point) frac++;
    }
    if (!any) return -1;
    int64_t exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
        if (i >= len) return -1;
        for (; i < len && isdigit((unsigned char)s[i]); i++) {
            exp = exp * 10 + (s[i] - '0');
            if (exp > 1000) return -1;
        }
        if (eneg) exp = -exp;
    }
    if (i != len) return -1;
    *unscaled = neg ? -(firn_ice_int128)v : (firn_ice_int128)v;
    *scale = (int32_t)(frac - exp);
    return 0;
}

static int decimal_min_bytes(firn_ice_int128 v) {
    for (int n = 1; n < 16; n++) {
        firn_ice_int128 hi = v >> (8 * n - 1);
        if (hi == 0 || hi == -1) return n;
    }
    return 16;
}

static bool decimal_fits(firn_ice_int128 unscaled, int32_t precision) {
    if (precision >= 39) return true;
    return magnitude(unscaled) < (u128)pow10_i128(precision);
}

/* Rescale unscaled from scale `from` to `to` (to >= from only, no rounding). */
static int rescale(firn_ice_int128 *v, int32_t from, int32_t to) {
    if (to < from) return -1;
    for (int32_t i = from; i < to; i++) {
        if (__builtin_mul_overflow(*v, (firn_ice_int128)10, v)) return -1;
    }
    return 0;
}

/* -------------------------------------------------------- date/time text */

/* ISO-8601 (Java's ISO_LOCAL_DATE): years past 9999 get a '+'. */
static void put_date(firn_buf *out, int64_t days) {
    int64_t y;
    int m, d;
    firn_ice_civil_from_days(days, &y, &m, &d);
    if (y > 9999) firn_buf_appendf(out, "+%lld-%02d-%02d", (long long)y, m, d);
    else if (y < 0) firn_buf_appendf(out, "-%04lld-%02d-%02d", -(long long)y, m, d);
    else firn_buf_appendf(out, "%04lld-%02d-%02d", (long long)y, m, d);
}

/* frac_digits: fixed number of fraction digits (6 or 9), or 0 for Java's ISO
 * formatter (minimal digits, none when zero), or -1 for LocalTime.toString. */
static void put_time_of_day(firn_buf *out, int64_t nanos_of_day, int frac_digits) {
    int64_t secs = nanos_of_day / NS_PER_SEC;
    int64_t nanos = nanos_of_day % NS_PER_SEC;
    int h = (int)(secs / 3600), mi = (int)(secs / 60 % 60), s = (int)(secs % 60);
    if (frac_digits < 0) {
        firn_buf_appendf(out, "%02d:%02d", h, mi);
        if (s || nanos) firn_buf_appendf(out, ":%02d", s);
        if (nanos) {
            if (nanos % 1000000 == 0) firn_buf_appendf(out, ".%03lld", (long long)(nanos / 1000000));
            else if (nanos % 1000 == 0) firn_buf_appendf(out, ".%06lld", (long long)(nanos / 1000));
            else firn_buf_appendf(out, ".%09lld", (long long)nanos);
        }
        return;
    }
    firn_buf_appendf(out, "%02d:%02d:%02d", h, mi, s);
    if (frac_digits == 6) firn_buf_appendf(out, ".%06lld", (long long)(nanos / 1000));
    else if (frac_digits == 9) firn_buf_appendf(out, ".%09lld", (long long)nanos);
    else if (nanos) {
        char f[16];
        snprintf(f, sizeof f, "%09lld", (long long)nanos);
        int n = 9;
        while (n > 0 && f[n - 1] == '0') n--;
        f[n] = '\0';
        firn_buf_appendf(out, ".%s", f);
    }
}

/* units per second: 1e6 (micros) or 1e9 (nanos) */
static void put_timestamp(firn_buf *out, int64_t v, int64_t per_sec, bool tz, int frac_digits) {
    int64_t per_day = per_sec * 86400;
    int64_t days = firn_ice_floor_div(v, per_day);
    int64_t rem = firn_ice_floor_mod(v, per_day);
    put_date(out, days);
    firn_buf_put_u8(out, 'T');
    put_time_of_day(out, rem * (NS_PER_SEC / per_sec), frac_digits);
    if (tz) firn_buf_append_str(out, "+00:00");
}

typedef struct parsed_ts {
    int64_t days;
    int64_t nanos_of_day;
    bool has_offset;
    int32_t offset_seconds;
} parsed_ts;

static bool parse_digits(const char *s, size_t len, size_t *i, int n, int64_t *out) {
    int64_t v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || !isdigit((unsigned char)s[*i])) return false;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return true;
}

static bool parse_date_part(const char *s, size_t len, size_t *i, int64_t *days) {
    bool neg = false;
    if (*i < len && (s[*i] == '-' || s[*i] == '+')) neg = s[(*i)++] == '-';
    int64_t y = 0;
    int nd = 0;
    while (*i < len && isdigit((unsigned char)s[*i])) {
        if (++nd > 9) return false;
        y = y * 10 + (s[(*i)++] - '0');
    }
    if (nd < 4) return false;
    if (neg) y = -y;
    int64_t m, d;
    if (*i >= len || s[(*i)++] != '-' || !parse_digits(s, len, i, 2, &m)) return false;
    if (*i >= len || s[(*i)++] != '-' || !parse_digits(s, len, i, 2, &d)) return false;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int)m)) return false;
    if (y > 5881579 || y < -5877640) return false; /* outside int32 days */
    *days = firn_ice_days_from_civil(y, (int)m, (int)d);
    return true;
}

static bool parse_time_part(const char *s, size_t len, size_t *i, int64_t *nanos_of_day) {
    int64_t h, mi, sec = 0, frac = 0;
    if (!parse_digits(s, len, i, 2, &h) || *i >= len || s[(*i)++] != ':' ||
        !parse_digits(s, len, i, 2, &mi))
        return false;
    if (*i < len && s[*i] == ':') {
        (*i)++;
        if (!parse_digits(s, len, i, 2, &sec)) return false;
        if (*i < len && (s[*i] == '.' || s[*i] == ',')) {
            (*i)++;
            int nd = 0;
            while (*i < len && isdigit((unsigned char)s[*i])) {
                if (nd < 9) {
                    frac = frac * 10 + (s[*i] - '0');
                    nd++;
                } else if (s[*i] != '0') {
                    return false; /* sub-nanosecond digits */
                }
                (*i)++;
            }
            if (nd == 0) return false;
            for (; nd < 9; nd++) frac *= 10;
        }
    }
    if (h > 23 || mi > 59 || sec > 59) return false;
    *nanos_of_day = ((h * 60 + mi) * 60 + sec) * NS_PER_SEC + frac;
    return true;
}

static bool parse_offset(const char *s, size_t len, size_t *i, int32_t *offset) {
    if (*i < len && (s[*i] == 'Z' || s[*i] == 'z')) {
        (*i)++;
        *offset = 0;
        return true;
    }
    if (*i >= len || (s[*i] != '+' && s[*i] != '-')) return false;
    bool neg = s[(*i)++] == '-';
    int64_t h, m = 0, sec = 0;
    if (!parse_digits(s, len, i, 2, &h)) return false;
    if (*i < len && s[*i] == ':') {
        (*i)++;
        if (!parse_digits(s, len, i, 2, &m)) return false;
        if (*i < len && s[*i] == ':') {
            (*i)++;
            if (!parse_digits(s, len, i, 2, &sec)) return false;
        }
    } else if (*i + 1 < len && isdigit((unsigned char)s[*i])) {
        if (!parse_digits(s, len, i, 2, &m)) return false;
    }
    if (h > 18 || m > 59 || sec > 59) return false;
    int32_t o = (int32_t)(h * 3600 + m * 60 + sec);
    *offset = neg ? -o : o;
    return true;
}

static bool parse_timestamp_text(const char *s, size_t len, parsed_ts *ts) {
    size_t i = 0;
    memset(ts, 0, sizeof *ts);
    if (!parse_date_part(s, len, &i, &ts->days)) return false;
    if (i == len) return true; /* a bare date means midnight */
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
    i++;
    if (!parse_time_part(s, len, &i, &ts->nanos_of_day)) return false;
    if (i < len) {
        if (!parse_offset(s, len, &i, &ts->offset_seconds)) return false;
        ts->has_offset = true;
    }
    return i == len;
}

/* ------------------------------------------------------------------- misc */

static bool is_bytes_type(firn_ice_type_id t) {
    return t == FIRN_ICE_STRING || t == FIRN_ICE_BINARY || t == FIRN_ICE_FIXED;
}

static bool is_i64_type(firn_ice_type_id t) {
    return t == FIRN_ICE_LONG || t == FIRN_ICE_TIME || t == FIRN_ICE_TIMESTAMP ||
           t == FIRN_ICE_TIMESTAMPTZ || t == FIRN_ICE_TIMESTAMP_NS || t == FIRN_ICE_TIMESTAMPTZ_NS;
}

firn_ice_value firn_ice_value_copy(firn_arena *a, const firn_ice_value *v) {
    firn_ice_value c = *v;
    if (!v->is_null && is_bytes_type(v->type))
        c.u.bin.ptr = v->u.bin.len ? firn_arena_memdup(a, v->u.bin.ptr, v->u.bin.len)
                                   : (const uint8_t *)"";
    return c;
}

static int check_type(const firn_ice_type *t, const firn_ice_value *v, firn_error *err) {
    if (!t || !firn_ice_type_is_primitive(t))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "single values exist only for primitive types");
    if (v->type != t->id)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "a %s value given for type %s", type_name(v->type),
                          type_name(t->id));
    return 0;
}

/* ------------------------------------------------------ binary single value */

int firn_ice_value_to_bytes(const firn_ice_value *v, firn_buf *out, firn_error *err) {
    if (v->is_null) return FIRN_RAISE(err, FIRN_ERR_INVALID, "null has no single-value serialization");
    switch (v->type) {
    case FIRN_ICE_BOOLEAN: firn_buf_put_u8(out, v->u.b ? 1 : 0); return 0;
    case FIRN_ICE_INT:
    case FIRN_ICE_DATE: firn_buf_put_le32(out, (uint32_t)v->u.i32); return 0;
    case FIRN_ICE_LONG:
    case FIRN_ICE_TIME:
    case FIRN_ICE_TIMESTAMP:
    case FIRN_ICE_TIMESTAMPTZ:
    case FIRN_ICE_TIMESTAMP_NS:
    case FIRN_ICE_TIMESTAMPTZ_NS: firn_buf_put_le64(out, (uint64_t)v->u.i64); return 0;
    case FIRN_ICE_FLOAT: {
        if (isnan(v->u.f32)) return FIRN_RAISE(err, FIRN_ERR_INVALID, "NaN is never a bound");
        uint32_t bits;
        memcpy(&bits, &v->u.f32, 4);
        firn_buf_put_le32(out, bits);
        return 0;
    }
    case FIRN_ICE_DOUBLE: {
        if (isnan(v->u.f64)) return FIRN_RAISE(err, FIRN_ERR_INVALID, "NaN is never a bound");
        uint64_t bits;
        memcpy(&bits, &v->u.f64, 8);
        firn_buf_put_le64(out, bits);
        return 0;
    }
    case FIRN_ICE_DECIMAL: {
        int n = decimal_min_bytes(v->u.dec);
        uint8_t *d = firn_buf_extend(out, (size_t)n);
        for (int i = 0; i < n; i++) d[i] = (uint8_t)(v->u.dec >> (8 * (n - 1 - i)));
        return 0;
    }
    case FIRN_ICE_UUID: firn_buf_append(out, v->u.uuid, 16); return 0;
    case FIRN_ICE_STRING:
    case FIRN_ICE_BINARY:
    case FIRN_ICE_FIXED: firn_buf_append(out, v->u.bin.ptr, v->u.bin.len); return 0;
    default: return FIRN_RAISE(err, FIRN_ERR_INVALID, "type %s has no single-value serialization",
                               type_name(v->type));
    }
}

static int bad_length(const firn_ice_type *t, size_t n, const char *want, firn_error *err) {
    char tb[48];
    return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "a %s value takes %s, got %zu bytes",
                      firn_ice_type_to_string(t, tb, sizeof tb), want, n);
}

int firn_ice_value_from_bytes(const firn_ice_type *t, const void *p, size_t n, firn_ice_value *out,
                              firn_error *err) {
    ICE_ERR_GUARD(err);
    const uint8_t *b = p;
    memset(out, 0, sizeof *out);
    if (!t || !firn_ice_type_is_primitive(t))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "single values exist only for primitive types");
    out->type = t->id;
    switch (t->id) {
    case FIRN_ICE_BOOLEAN:
        if (n != 1) return bad_length(t, n, "1 byte", err);
        out->u.b = b[0] != 0;
        return 0;
    case FIRN_ICE_INT:
    case FIRN_ICE_DATE:
        if (n != 4) return bad_length(t, n, "4 bytes", err);
        out->u.i32 = (int32_t)firn_load_le32(b);
        return 0;
    case FIRN_ICE_LONG:
    case FIRN_ICE_TIME:
        if (n == 4 && t->id == FIRN_ICE_LONG) out->u.i64 = (int32_t)firn_load_le32(b); /* was int */
        else if (n == 8) out->u.i64 = (int64_t)firn_load_le64(b);
        else return bad_length(t, n, "8 bytes", err);
        return 0;
    case FIRN_ICE_TIMESTAMP:
    case FIRN_ICE_TIMESTAMPTZ:
    case FIRN_ICE_TIMESTAMP_NS:
    case FIRN_ICE_TIMESTAMPTZ_NS:
        if (n == 8) {
            out->u.i64 = (int64_t)firn_load_le64(b);
        } else if (n == 4) { /* promoted from date */
            int64_t days = (int32_t)firn_load_le32(b);
            int64_t per_day = (t->id == FIRN_ICE_TIMESTAMP_NS || t->id == FIRN_ICE_TIMESTAMPTZ_NS)
                                  ? NS_PER_DAY : US_PER_DAY;
            if (__builtin_mul_overflow(days, per_day, &out->u.i64))
                return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "date bound %lld out of timestamp range",
                                  (long long)days);
        } else {
            return bad_length(t, n, "8 bytes", err);
        }
        return 0;
    case FIRN_ICE_FLOAT: {
        if (n != 4) return bad_length(t, n, "4 bytes", err);
        uint32_t bits = firn_load_le32(b);
        memcpy(&out->u.f32, &bits, 4);
        return 0;
    }
    case FIRN_ICE_DOUBLE:
        if (n == 4) { /* promoted from float */
            uint32_t bits = firn_load_le32(b);
            float f;
            memcpy(&f, &bits, 4);
            out->u.f64 = f;
        } else if (n == 8) {
            uint64_t bits = firn_load_le64(b);
            memcpy(&out->u.f64, &bits, 8);
        } else {
            return bad_length(t, n, "8 bytes", err);
        }
        return 0;
    case FIRN_ICE_DECIMAL: {
        if (n == 0) return bad_length(t, n, "1 to 16 bytes", err);
        size_t skip = 0;
        /* tolerate redundant sign-extension bytes beyond 16 */
        while (n - skip > 16) {
            uint8_t ext = (b[skip + 1] & 0x80) ? 0xFF : 0x00;
            if (b[skip] != ext) return bad_length(t, n, "1 to 16 bytes", err);
            skip++;
        }
        firn_ice_int128 v = (b[skip] & 0x80) ? -1 : 0;
        for (size_t i = skip; i < n; i++) v = (firn_ice_int128)(((u128)v << 8) | b[i]);
        out->u.dec = v;
        out->scale = t->scale;
        return 0;
    }
    case FIRN_ICE_UUID:
        if (n != 16) return bad_length(t, n, "16 bytes", err);
        memcpy(out->u.uuid, b, 16);
        return 0;
    case FIRN_ICE_FIXED:
        if (n > (size_t)t->length) return bad_length(t, n, "at most its length", err);
        /* fallthrough */
    case FIRN_ICE_STRING:
    case FIRN_ICE_BINARY:
        out->u.bin.ptr = n ? b : (const uint8_t *)"";
        out->u.bin.len = n;
        return 0;
    default: return FIRN_RAISE(err, FIRN_ERR_INVALID, "no single-value form for this type");
    }
}

/* ---------------------------------------------------------------- compare */

static uint64_t double_key(double d) {
    uint64_t bits;
    if (isnan(d)) bits = signbit(d) ? UINT64_C(0xFFF8000000000000) : UINT64_C(0x7FF8000000000000);
    else memcpy(&bits, &d, 8);
    return (bits & UINT64_C(0x8000000000000000)) ? ~bits : bits | UINT64_C(0x8000000000000000);
}

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }
static int cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }

static int cmp_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    size_t n = na < nb ? na : nb;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return (na > nb) - (na < nb);
}

static int cmp_decimal(firn_ice_int128 a, int32_t sa, firn_ice_int128 b, int32_t sb) {
    if (sa != sb) {
        if ((a < 0) != (b < 0) || a == 0 || b == 0) return (a > b) - (a < b);
        if (sa < sb) {
            if (rescale(&a, sa, sb)) return a < 0 ? -1 : 1; /* |a| is larger */
        } else {
            if (rescale(&b, sb, sa)) return b < 0 ? 1 : -1;
        }
    }
    return (a > b) - (a < b);
}

static bool integral(firn_ice_type_id t) { return t == FIRN_ICE_INT || t == FIRN_ICE_LONG; }

int firn_ice_value_compare(const firn_ice_value *a, const firn_ice_value *b) {
    if (a->is_null || b->is_null) {
        if (a->is_null && b->is_null) return 0;
        return a->is_null ? -1 : 1;
    }
    if (a->type != b->type) {
        if (integral(a->type) && integral(b->type)) {
            int64_t x = a->type == FIRN_ICE_INT ? a->u.i32 : a->u.i64;
            int64_t y = b->type == FIRN_ICE_INT ? b->u.i32 : b->u.i64;
            return cmp_i64(x, y);
        }
        if ((a->type == FIRN_ICE_FLOAT || a->type == FIRN_ICE_DOUBLE) &&
            (b->type == FIRN_ICE_FLOAT || b->type == FIRN_ICE_DOUBLE)) {
            double x = a->type == FIRN_ICE_FLOAT ? a->u.f32 : a->u.f64;
            double y = b->type == FIRN_ICE_FLOAT ? b->u.f32 : b->u.f64;
            return cmp_u64(double_key(x), double_key(y));
        }
        return (a->type > b->type) - (a->type < b->type);
    }
    switch (a->type) {
    case FIRN_ICE_BOOLEAN: return (int)a->u.b - (int)b->u.b;
    case FIRN_ICE_INT:
    case FIRN_ICE_DATE: return cmp_i64(a->u.i32, b->u.i32);
    case FIRN_ICE_FLOAT: return cmp_u64(double_key(a->u.f32), double_key(b->u.f32));
    case FIRN_ICE_DOUBLE: return cmp_u64(double_key(a->u.f64), double_key(b->u.f64));
    case FIRN_ICE_DECIMAL: return cmp_decimal(a->u.dec, a->scale, b->u.dec, b->scale);
    case FIRN_ICE_UUID: return cmp_bytes(a->u.uuid, 16, b->u.uuid, 16);
    case FIRN_ICE_STRING:
    case FIRN_ICE_BINARY:
    case FIRN_ICE_FIXED: return cmp_bytes(a->u.bin.ptr, a->u.bin.len, b->u.bin.ptr, b->u.bin.len);
    default: return is_i64_type(a->type) ? cmp_i64(a->u.i64, b->u.i64) : 0;
    }
}

bool firn_ice_value_equal(const firn_ice_value *a, const firn_ice_value *b) {
    if (a->is_null || b->is_null) return a->is_null && b->is_null;
    return a->type == b->type && firn_ice_value_compare(a, b) == 0;
}

/* ------------------------------------------------------------ text forms */

int firn_ice_value_format(const firn_ice_type *t, const firn_ice_value *v, firn_buf *out,
                          firn_error *err) {
    ICE_ERR_GUARD(err);
    int rc = check_type(t, v, err);
    if (rc) return rc;
    if (v->is_null) {
        firn_buf_append_str(out, "null");
        return 0;
    }
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: firn_buf_append_str(out, v->u.b ? "true" : "false"); return 0;
    case FIRN_ICE_INT: firn_buf_appendf(out, "%d", v->u.i32); return 0;
    case FIRN_ICE_LONG: firn_buf_appendf(out, "%lld", (long long)v->u.i64); return 0;
    case FIRN_ICE_FLOAT:
    case FIRN_ICE_DOUBLE: firn_ice_value_human_string(t, v, out); return 0;
    case FIRN_ICE_DECIMAL: put_decimal(out, v->u.dec, t->scale, t->scale < 0); return 0;
    case FIRN_ICE_DATE: put_date(out, v->u.i32); return 0;
    case FIRN_ICE_TIME:
        if (v->u.i64 < 0 || v->u.i64 >= US_PER_DAY)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "time value %lld us is not within a day",
                              (long long)v->u.i64);
        put_time_of_day(out, v->u.i64 * 1000, 6);
        return 0;
    case FIRN_ICE_TIMESTAMP: put_timestamp(out, v->u.i64, US_PER_SEC, false, 6); return 0;
    case FIRN_ICE_TIMESTAMPTZ: put_timestamp(out, v->u.i64, US_PER_SEC, true, 6); return 0;
    case FIRN_ICE_TIMESTAMP_NS: put_timestamp(out, v->u.i64, NS_PER_SEC, false, 9); return 0;
    case FIRN_ICE_TIMESTAMPTZ_NS: put_timestamp(out, v->u.i64, NS_PER_SEC, true, 9); return 0;
    case FIRN_ICE_STRING: firn_buf_append(out, v->u.bin.ptr, v->u.bin.len); return 0;
    case FIRN_ICE_UUID: {
        char s[37];
        firn_ice_uuid_format(v->u.uuid, s);
        firn_buf_append_str(out, s);
        return 0;
    }
    case FIRN_ICE_FIXED:
        if (v->u.bin.len != (size_t)t->length)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "fixed[%d] value has %zu bytes", t->length,
                              v->u.bin.len);
        /* fallthrough */
    case FIRN_ICE_BINARY: put_hex(out, v->u.bin.ptr, v->u.bin.len); return 0;
    default: return FIRN_RAISE(err, FIRN_ERR_INVALID, "no text form for this type");
    }
}

static int parse_error(const firn_ice_type *t, const char *s, size_t len, const char *why,
                       firn_error *err) {
    char tb[48];
    return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot read '%.*s' as %s%s%s", (int)(len > 80 ? 80 : len),
                      s, firn_ice_type_to_string(t, tb, sizeof tb), why ? ": " : "", why ? why : "");
}

static bool parse_i64_text(const char *s, size_t len, int64_t *out) {
    char buf[32];
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end || end == buf || isspace((unsigned char)buf[0])) return false;
    *out = v;
    return true;
}

static bool parse_double_text(const char *s, size_t len, double *out) {
    char buf[64];
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strcmp(buf, "NaN") == 0) { *out = NAN; return true; }
    if (strcmp(buf, "Infinity") == 0) { *out = INFINITY; return true; }
    if (strcmp(buf, "-Infinity") == 0) { *out = -INFINITY; return true; }
    if (isspace((unsigned char)buf[0])) return false;
    for (size_t i = 0; i < len; i++) /* plain decimal numbers only: no hex, no "inf" */
        if (!strchr("0123456789+-.eE", buf[i])) return false;
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (*end || end == buf) return false;
    *out = d;
    return true;
}

int firn_ice_value_parse(firn_arena *a, const firn_ice_type *t, const char *s, size_t len,
                         firn_ice_value *out, firn_error *err) {
    ICE_ERR_GUARD(err);
    memset(out, 0, sizeof *out);
    if (!t || !firn_ice_type_is_primitive(t))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "single values exist only for primitive types");
    out->type = t->id;
    switch (t->id) {
    case FIRN_ICE_BOOLEAN:
        if (len == 4 && strncasecmp(s, "true", 4) == 0) out->u.b = true;
        else if (len == 5 && strncasecmp(s, "false", 5) == 0) out->u.b = false;
        else return parse_error(t, s, len, "expected true or false", err);
        return 0;
    case FIRN_ICE_INT:
    case FIRN_ICE_LONG: {
        int64_t v;
        if (!parse_i64_text(s, len, &v)) return parse_error(t, s, len, "not an integer", err);
        if (t->id == FIRN_ICE_INT) {
            if (v < INT32_MIN || v > INT32_MAX) return parse_error(t, s, len, "out of range", err);
            out->u.i32 = (int32_t)v;
        } else {
            out->u.i64 = v;
        }
        return 0;
    }
    case FIRN_ICE_FLOAT:
    case FIRN_ICE_DOUBLE: {
        double d;
        if (!parse_double_text(s, len, &d)) return parse_error(t, s, len, "not a number", err);
        if (t->id == FIRN_ICE_FLOAT) out->u.f32 = (float)d;
        else out->u.f64 = d;
        return 0;
    }
    case FIRN_ICE_DECIMAL: {
        firn_ice_int128 u;
        int32_t sc;
        if (parse_decimal_text(s, len, &u, &sc)) return parse_error(t, s, len, "not a decimal", err);
        if (sc > t->scale) {
            /* more digits than the scale: only zeros may be dropped */
            while (sc > t->scale && u % 10 == 0) {
                u /= 10;
                sc--;
            }
            if (sc > t->scale) return parse_error(t, s, len, "too many fraction digits", err);
        }
        if (rescale(&u, sc, t->scale) || !decimal_fits(u, t->precision))
            return parse_error(t, s, len, "too many digits for its precision", err);
        out->u.dec = u;
        out->scale = t->scale;
        return 0;
    }
    case FIRN_ICE_DATE: {
        size_t i = 0;
        int64_t days;
        if (!parse_date_part(s, len, &i, &days) || i != len)
            return parse_error(t, s, len, "expected yyyy-mm-dd", err);
        out->u.i32 = (int32_t)days;
        return 0;
    }
    case FIRN_ICE_TIME: {
        size_t i = 0;
        int64_t nanos;
        if (!parse_time_part(s, len, &i, &nanos) || i != len)
            return parse_error(t, s, len, "expected hh:mm:ss[.ffffff]", err);
        if (nanos % 1000) return parse_error(t, s, len, "time has microsecond precision", err);
        out->u.i64 = nanos / 1000;
        return 0;
    }
    case FIRN_ICE_TIMESTAMP:
    case FIRN_ICE_TIMESTAMPTZ:
    case FIRN_ICE_TIMESTAMP_NS:
    case FIRN_ICE_TIMESTAMPTZ_NS: {
        parsed_ts ts;
        bool tz = t->id == FIRN_ICE_TIMESTAMPTZ || t->id == FIRN_ICE_TIMESTAMPTZ_NS;
        bool ns = t->id == FIRN_ICE_TIMESTAMP_NS || t->id == FIRN_ICE_TIMESTAMPTZ_NS;
        if (!parse_timestamp_text(s, len, &ts))
            return parse_error(t, s, len, "expected yyyy-mm-ddThh:mm:ss[.ffffff]", err);
        if (ts.has_offset && !tz)
            return parse_error(t, s, len, "a timestamp without time zone takes no offset", err);
        if (!ns && ts.nanos_of_day % 1000)
            return parse_error(t, s, len, "more than microsecond precision", err);
        int64_t per_sec = ns ? NS_PER_SEC : US_PER_SEC;
        int64_t v, sub = ns ? ts.nanos_of_day : ts.nanos_of_day / 1000;
        int64_t off = (int64_t)ts.offset_seconds * per_sec;
        if (__builtin_mul_overflow(ts.days, per_sec * 86400, &v) ||
            __builtin_add_overflow(v, sub, &v) || __builtin_sub_overflow(v, off, &v))
            return parse_error(t, s, len, "out of range", err);
        out->u.i64 = v;
        return 0;
    }
    case FIRN_ICE_STRING: {
        if (!firn_ice_valid_utf8((const uint8_t *)s, len))
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "string value is not valid UTF-8");
        out->u.bin.ptr = len ? firn_arena_memdup(a, s, len) : (const uint8_t *)"";
        out->u.bin.len = len;
        return 0;
    }
    case FIRN_ICE_UUID: {
        char buf[37];
        if (len != 36) return parse_error(t, s, len, "expected 8-4-4-4-12 hex digits", err);
        memcpy(buf, s, 36);
        buf[36] = '\0';
        if (firn_ice_uuid_parse(buf, out->u.uuid))
            return parse_error(t, s, len, "expected 8-4-4-4-12 hex digits", err);
        return 0;
    }
    case FIRN_ICE_FIXED:
    case FIRN_ICE_BINARY: {
        if (len % 2) return parse_error(t, s, len, "odd number of hex digits", err);
        if (t->id == FIRN_ICE_FIXED && len / 2 != (size_t)t->length)
            return parse_error(t, s, len, "wrong length", err);
        uint8_t *d = firn_arena_alloc(a, len / 2 + 1);
        for (size_t i = 0; i < len / 2; i++) {
            int h = hexval((unsigned char)s[2 * i]), l = hexval((unsigned char)s[2 * i + 1]);
            if (h < 0 || l < 0) return parse_error(t, s, len, "not hexadecimal", err);
            d[i] = (uint8_t)(h << 4 | l);
        }
        out->u.bin.ptr = d;
        out->u.bin.len = len / 2;
        return 0;
    }
    default: return FIRN_RAISE(err, FIRN_ERR_INVALID, "no text form for this type");
    }
}

/* ------------------------------------------------------------ JSON forms */

json_t *firn_ice_value_to_json(const firn_ice_type *t, const firn_ice_value *v, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (check_type(t, v, err)) return NULL;
    if (v->is_null) return json_null();
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: return json_boolean(v->u.b);
    case FIRN_ICE_INT: return json_integer(v->u.i32);
    case FIRN_ICE_LONG: return json_integer(v->u.i64);
    case FIRN_ICE_FLOAT:
    case FIRN_ICE_DOUBLE: {
        double d = t->id == FIRN_ICE_FLOAT ? (double)v->u.f32 : v->u.f64;
        if (!isfinite(d)) {
            FIRN_RAISE(err, FIRN_ERR_INVALID, "%g has no JSON single-value form", d);
            return NULL;
        }
        return json_real(d);
    }
    case FIRN_ICE_STRING:
        if (!firn_ice_valid_utf8(v->u.bin.ptr, v->u.bin.len)) {
            FIRN_RAISE(err, FIRN_ERR_INVALID, "string value is not valid UTF-8");
            return NULL;
        }
        return json_stringn((const char *)v->u.bin.ptr, v->u.bin.len);
    default: {
        firn_buf b = {0};
        if (firn_ice_value_format(t, v, &b, err)) {
            firn_buf_release(&b);
            return NULL;
        }
        json_t *j = json_stringn((const char *)b.data, b.len);
        firn_buf_release(&b);
        return j;
    }
    }
}

int firn_ice_value_from_json(firn_arena *a, const firn_ice_type *t, const json_t *j,
                             firn_ice_value *out, firn_error *err) {
    ICE_ERR_GUARD(err);
    memset(out, 0, sizeof *out);
    char tb[48];
    if (!t || !firn_ice_type_is_primitive(t))
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "JSON values of nested types are not supported yet");
    out->type = t->id;
    if (!j || json_is_null(j)) {
        out->is_null = true;
        return 0;
    }
    switch (t->id) {
    case FIRN_ICE_BOOLEAN:
        if (!json_is_boolean(j)) break;
        out->u.b = json_is_true(j);
        return 0;
    case FIRN_ICE_INT:
    case FIRN_ICE_LONG: {
        if (!json_is_integer(j)) break;
        json_int_t v = json_integer_value(j);
        if (t->id == FIRN_ICE_INT) {
            if (v < INT32_MIN || v > INT32_MAX)
                return FIRN_RAISE(err, FIRN_ERR_INVALID, "%lld does not fit an int", (long long)v);
            out->u.i32 = (int32_t)v;
        } else {
            out->u.i64 = v;
        }
        return 0;
    }
    case FIRN_ICE_FLOAT:
    case FIRN_ICE_DOUBLE: {
        if (!json_is_number(j)) break;
        double d = json_number_value(j);
        if (t->id == FIRN_ICE_FLOAT) out->u.f32 = (float)d;
        else out->u.f64 = d;
        return 0;
    }
    default:
        if (!json_is_string(j)) break;
        return firn_ice_value_parse(a, t, json_string_value(j), json_string_length(j), out, err);
    }
    return FIRN_RAISE(err, FIRN_ERR_INVALID, "a JSON %s is not a %s value", firn_ice_json_type_name(j),
                      firn_ice_type_to_string(t, tb, sizeof tb));
}

/* ----------------------------------------------------------- human forms */

/* Java's Double.toString / Float.toString (shortest repr, JDK 19+). */
static void put_java_float(firn_buf *out, double d, bool is_float) {
    if (isnan(d)) { firn_buf_append_str(out, "NaN"); return; }
    if (isinf(d)) { firn_buf_append_str(out, d < 0 ? "-Infinity" : "Infinity"); return; }
    if (d == 0) { firn_buf_append_str(out, signbit(d) ? "-0.0" : "0.0"); return; }
    char buf[64];
    int maxp = is_float ? 9 : 17;
    for (int p = 1; p <= maxp; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, d);
        if (is_float ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d) break;
    }
    /* buf: [-]D[.DDD]e[+-]XX */
    char digits[32];
    int nd = 0;
    const char *p = buf;
    bool neg = *p == '-';
    if (neg) p++;
    for (; *p && *p != 'e'; p++)
        if (isdigit((unsigned char)*p)) digits[nd++] = *p;
    int exp = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    if (neg) firn_buf_put_u8(out, '-');
    double ad = fabs(d);
    if (ad >= 1e-3 && ad < 1e7) {
        if (exp >= 0) {
            for (int i = 0; i <= exp; i++) firn_buf_put_u8(out, i < nd ? (uint8_t)digits[i] : '0');
            firn_buf_put_u8(out, '.');
            if (nd > exp + 1) firn_buf_append(out, digits + exp + 1, (size_t)(nd - exp - 1));
            else firn_buf_put_u8(out, '0');
        } else {
            firn_buf_append_str(out, "0.");
            for (int i = 0; i < -exp - 1; i++) firn_buf_put_u8(out, '0');
            firn_buf_append(out, digits, (size_t)nd);
        }
    } else {
        firn_buf_put_u8(out, (uint8_t)digits[0]);
        firn_buf_put_u8(out, '.');
        if (nd > 1) firn_buf_append(out, digits + 1, (size_t)(nd - 1));
        else firn_buf_put_u8(out, '0');
        firn_buf_appendf(out, "E%d", exp);
    }
}

void firn_ice_value_human_string(const firn_ice_type *t, const firn_ice_value *v, firn_buf *out) {
    if (v->is_null) {
        firn_buf_append_str(out, "null");
        return;
    }
    switch (v->type) {
    case FIRN_ICE_BOOLEAN: firn_buf_append_str(out, v->u.b ? "true" : "false"); return;
    case FIRN_ICE_INT: firn_buf_appendf(out, "%d", v->u.i32); return;
    case FIRN_ICE_LONG: firn_buf_appendf(out, "%lld", (long long)v->u.i64); return;
    case FIRN_ICE_FLOAT: put_java_float(out, v->u.f32, true); return;
    case FIRN_ICE_DOUBLE: put_java_float(out, v->u.f64, false); return;
    case FIRN_ICE_DECIMAL: put_decimal(out, v->u.dec, t ? t->scale : v->scale, true); return;
    case FIRN_ICE_DATE: { /* Java's TransformUtil.humanDay: "%04d-%02d-%02d" */
        int64_t y;
        int m, d;
        firn_ice_civil_from_days(v->u.i32, &y, &m, &d);
        firn_buf_appendf(out, "%04lld-%02d-%02d", (long long)y, m, d);
        return;
    }
    case FIRN_ICE_TIME:
        put_time_of_day(out, firn_ice_floor_mod(v->u.i64, US_PER_DAY) * 1000, -1);
        return;
    case FIRN_ICE_TIMESTAMP: put_timestamp(out, v->u.i64, US_PER_SEC, false, 0); return;
    case FIRN_ICE_TIMESTAMPTZ: put_timestamp(out, v->u.i64, US_PER_SEC, true, 0); return;
    case FIRN_ICE_TIMESTAMP_NS: put_timestamp(out, v->u.i64, NS_PER_SEC, false, 0); return;
    case FIRN_ICE_TIMESTAMPTZ_NS: put_timestamp(out, v->u.i64, NS_PER_SEC, true, 0); return;
    case FIRN_ICE_STRING: firn_buf_append(out, v->u.bin.ptr, v->u.bin.len); return;
    case FIRN_ICE_UUID: {
        char s[37];
        firn_ice_uuid_format(v->u.uuid, s);
        firn_buf_append_str(out, s);
        return;
    }
    case FIRN_ICE_FIXED:
    case FIRN_ICE_BINARY: put_base64(out, v->u.bin.ptr, v->u.bin.len); return;
    default: firn_buf_append_str(out, "?"); return;
    }
}

/* --------------------------------------------------------------- bounds */

static size_t utf8_seq_len(uint8_t c) {
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1; /* stray continuation byte: count it alone */
}

size_t firn_ice_utf8_length(const uint8_t *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i += utf8_seq_len(s[i])) n++;
    return n;
}

size_t firn_ice_truncate_string_min(const uint8_t *s, size_t len, size_t n) {
    size_t i = 0, cps = 0;
    while (i < len && cps < n) {
        size_t l = utf8_seq_len(s[i]);
        if (i + l > len) l = len - i;
        i += l;
        cps++;
    }
    return i;
}

static size_t put_utf8(uint8_t *d, uint32_t cp) {
    if (cp < 0x80) { d[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) {
        d[0] = (uint8_t)(0xC0 | cp >> 6);
        d[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (uint8_t)(0xE0 | cp >> 12);
        d[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        d[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (uint8_t)(0xF0 | cp >> 18);
    d[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    d[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    d[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

static uint32_t decode_utf8(const uint8_t *s, size_t l) {
    if (l == 1) return s[0];
    uint32_t cp = s[0] & (0xFF >> (l + 1));
    for (size_t k = 1; k < l; k++) cp = cp << 6 | (s[k] & 0x3F);
    return cp;
}

bool firn_ice_truncate_string_max(const uint8_t *s, size_t len, size_t n, firn_buf *out) {
    size_t cut = firn_ice_truncate_string_min(s, len, n);
    if (cut == len) {
        firn_buf_append(out, s, len);
        return true;
    }
    /* offsets of the code points in the prefix */
    size_t starts_small[64], *starts = starts_small, cnt = 0;
    if (n > 64) starts = firn_xmalloc(n * sizeof *starts);
    for (size_t i = 0; i < cut; i += utf8_seq_len(s[i])) starts[cnt++] = i;
    bool ok = false;
    for (size_t k = cnt; k-- > 0;) {
        size_t st = starts[k];
        size_t l = utf8_seq_len(s[st]);
        if (st + l > cut) continue;
        uint32_t cp = decode_utf8(s + st, l) + 1;
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xE000;
        if (cp > 0x10FFFF) continue;
        uint8_t enc[4];
        size_t el = put_utf8(enc, cp);
        firn_buf_append(out, s, st);
        firn_buf_append(out, enc, el);
        ok = true;
        break;
    }
    if (starts != starts_small) free(starts);
    return ok;
}

size_t firn_ice_truncate_binary_min(size_t len, size_t n) { return len < n ? len : n; }

bool firn_ice_truncate_binary_max(const uint8_t *s, size_t len, size_t n, firn_buf *out) {
    if (len <= n) {
        firn_buf_append(out, s, len);
        return true;
    }
    for (size_t k = n; k-- > 0;) {
        if (s[k] != 0xFF) {
            firn_buf_append(out, s, k);
            firn_buf_put_u8(out, (uint8_t)(s[k] + 1));
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------ column cells */

void firn_ice_value_from_column(const firn_ice_type *t, const firn_pq_column_data *c, size_t i,
                                firn_ice_value *v) {
    memset(v, 0, sizeof *v);
    v->type = t->id;
    if (c->validity && !c->validity[i]) {
        v->is_null = true;
        return;
    }
    const uint8_t *vals = c->values;
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: v->u.b = vals[i] != 0; break;
    case FIRN_ICE_INT: case FIRN_ICE_DATE: memcpy(&v->u.i32, vals + 4 * i, 4); break;
    case FIRN_ICE_FLOAT: memcpy(&v->u.f32, vals + 4 * i, 4); break;
    case FIRN_ICE_DOUBLE: memcpy(&v->u.f64, vals + 8 * i, 8); break;
    case FIRN_ICE_DECIMAL:
        v->scale = t->scale;
        if (t->precision <= 9) {
            int32_t x;
            memcpy(&x, vals + 4 * i, 4);
            v->u.dec = x;
        } else if (t->precision <= 18) {
            int64_t x;
            memcpy(&x, vals + 8 * i, 8);
            v->u.dec = x;
        } else {
            size_t w = (size_t)firn_pq_decimal_width(t->precision);
            const uint8_t *p = vals + w * i;
            firn_ice_int128 x = (p[0] & 0x80) ? -1 : 0;
            for (size_t k = 0; k < w; k++) x = (firn_ice_int128)((unsigned __int128)x << 8) | p[k];
            v->u.dec = x;
        }
        break;
    case FIRN_ICE_UUID: memcpy(v->u.uuid, vals + 16 * i, 16); break;
    case FIRN_ICE_FIXED:
        v->u.bin.ptr = vals + (size_t)t->length * i;
        v->u.bin.len = (size_t)t->length;
        break;
    case FIRN_ICE_STRING: case FIRN_ICE_BINARY:
        v->u.bin.ptr = c->data + c->offsets[i];
        v->u.bin.len = (size_t)(c->offsets[i + 1] - c->offsets[i]);
        break;
    default: memcpy(&v->u.i64, vals + 8 * i, 8); break;
    }
}
