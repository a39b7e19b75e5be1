/* transform.c - partition transforms and the spec's 32-bit hash (Appendix B). */
#include "iceberg/iceberg_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define US_PER_HOUR INT64_C(3600000000)
#define US_PER_DAY INT64_C(86400000000)

static const struct {
    firn_ice_transform_kind kind;
    const char *name;
} simple[] = {
    {FIRN_ICE_TRANSFORM_IDENTITY, "identity"}, {FIRN_ICE_TRANSFORM_YEAR, "year"},
    {FIRN_ICE_TRANSFORM_MONTH, "month"},       {FIRN_ICE_TRANSFORM_DAY, "day"},
    {FIRN_ICE_TRANSFORM_HOUR, "hour"},         {FIRN_ICE_TRANSFORM_VOID, "void"},
};

int firn_ice_transform_parse(const char *s, firn_ice_transform *out, firn_error *err) {
    memset(out, 0, sizeof *out);
    if (!s) return FIRN_RAISE(err, FIRN_ERR_INVALID, "no transform given");
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcasecmp(s, simple[i].name) == 0) {
            out->kind = simple[i].kind;
            return 0;
        }
    firn_ice_transform_kind kind = 0;
    const char *p = NULL;
    if (strncasecmp(s, "bucket[", 7) == 0) {
        kind = FIRN_ICE_TRANSFORM_BUCKET;
        p = s + 7;
    } else if (strncasecmp(s, "truncate[", 9) == 0) {
        kind = FIRN_ICE_TRANSFORM_TRUNCATE;
        p = s + 9;
    }
    if (!kind)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "unknown transform '%s'", s);
    char *end;
    errno = 0;
    long v = isdigit((unsigned char)*p) ? strtol(p, &end, 10) : -1;
    if (v < 0 || errno || *end != ']' || end[1] != '\0')
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "malformed transform '%s' (expected %s[N])", s,
                          kind == FIRN_ICE_TRANSFORM_BUCKET ? "bucket" : "truncate");
    if (v < 1 || v > INT32_MAX)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "transform '%s': the %s must be positive", s,
                          kind == FIRN_ICE_TRANSFORM_BUCKET ? "number of buckets" : "width");
    out->kind = kind;
    out->param = (int32_t)v;
    return 0;
}

const char *firn_ice_transform_to_string(const firn_ice_transform *t, char *buf, size_t n) {
    switch (t->kind) {
    case FIRN_ICE_TRANSFORM_BUCKET: snprintf(buf, n, "bucket[%d]", t->param); return buf;
    case FIRN_ICE_TRANSFORM_TRUNCATE: snprintf(buf, n, "truncate[%d]", t->param); return buf;
    case FIRN_ICE_TRANSFORM_UNKNOWN: snprintf(buf, n, "%s", t->unknown ? t->unknown : "unknown"); return buf;
    default: break;
    }
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (simple[i].kind == t->kind) {
            snprintf(buf, n, "%s", simple[i].name);
            return buf;
        }
    snprintf(buf, n, "?");
    return buf;
}

bool firn_ice_transform_equal(const firn_ice_transform *a, const firn_ice_transform *b) {
    if (a->kind != b->kind) return false;
    if (a->kind == FIRN_ICE_TRANSFORM_BUCKET || a->kind == FIRN_ICE_TRANSFORM_TRUNCATE)
        return a->param == b->param;
    if (a->kind == FIRN_ICE_TRANSFORM_UNKNOWN)
        return a->unknown && b->unknown && strcmp(a->unknown, b->unknown) == 0;
    return true;
}

static bool is_timestamp(firn_ice_type_id t) {
    return t == FIRN_ICE_TIMESTAMP || t == FIRN_ICE_TIMESTAMPTZ || t == FIRN_ICE_TIMESTAMP_NS ||
           t == FIRN_ICE_TIMESTAMPTZ_NS;
}

static bool is_nanos(firn_ice_type_id t) {
    return t == FIRN_ICE_TIMESTAMP_NS || t == FIRN_ICE_TIMESTAMPTZ_NS;
}

bool firn_ice_transform_can_apply(const firn_ice_transform *t, const firn_ice_type *src) {
    if (!src) return false;
    firn_ice_type_id id = src->id;
    switch (t->kind) {
    case FIRN_ICE_TRANSFORM_IDENTITY: return firn_ice_type_is_primitive(src);
    case FIRN_ICE_TRANSFORM_BUCKET:
        return id == FIRN_ICE_INT || id == FIRN_ICE_LONG || id == FIRN_ICE_DECIMAL ||
               id == FIRN_ICE_DATE || id == FIRN_ICE_TIME || is_timestamp(id) ||
               id == FIRN_ICE_STRING || id == FIRN_ICE_UUID || id == FIRN_ICE_FIXED ||
               id == FIRN_ICE_BINARY;
    case FIRN_ICE_TRANSFORM_TRUNCATE:
        return id == FIRN_ICE_INT || id == FIRN_ICE_LONG || id == FIRN_ICE_DECIMAL ||
               id == FIRN_ICE_STRING || id == FIRN_ICE_BINARY;
    case FIRN_ICE_TRANSFORM_YEAR:
    case FIRN_ICE_TRANSFORM_MONTH:
    case FIRN_ICE_TRANSFORM_DAY: return id == FIRN_ICE_DATE || is_timestamp(id);
    case FIRN_ICE_TRANSFORM_HOUR: return is_timestamp(id);
    case FIRN_ICE_TRANSFORM_VOID:
    case FIRN_ICE_TRANSFORM_UNKNOWN: return true;
    }
    return false;
}

static int not_applicable(const firn_ice_transform *t, const firn_ice_type *src, firn_error *err) {
    char tb[48], sb[48];
    return FIRN_RAISE(err, FIRN_ERR_INVALID, "transform %s cannot be applied to type %s",
                      firn_ice_transform_to_string(t, tb, sizeof tb),
                      src ? firn_ice_type_to_string(src, sb, sizeof sb) : "(none)");
}

int firn_ice_transform_result_type(const firn_ice_transform *t, const firn_ice_type *src,
                                   firn_ice_type *out, firn_error *err) {
    memset(out, 0, sizeof *out);
    if (t->kind == FIRN_ICE_TRANSFORM_UNKNOWN) {
        out->id = FIRN_ICE_STRING; /* as Java's UnknownTransform */
        return 0;
    }
    if (t->kind == FIRN_ICE_TRANSFORM_VOID && (!src || !firn_ice_type_is_primitive(src))) {
        out->id = FIRN_ICE_INT;
        return 0;
    }
    if (!firn_ice_transform_can_apply(t, src)) return not_applicable(t, src, err);
    switch (t->kind) {
    case FIRN_ICE_TRANSFORM_IDENTITY:
    case FIRN_ICE_TRANSFORM_TRUNCATE:
    case FIRN_ICE_TRANSFORM_VOID:
        *out = *src;
        return 0;
    case FIRN_ICE_TRANSFORM_DAY: out->id = FIRN_ICE_DATE; return 0;
    default: out->id = FIRN_ICE_INT; return 0;
    }
}

/* ------------------------------------------------------------------ hash */

static int32_t hash_long(int64_t v) {
    uint8_t b[8];
    firn_store_le64(b, (uint64_t)v);
    return (int32_t)firn_murmur3_32(b, 8, 0);
}

static int32_t hash_double(double d) {
    uint64_t bits;
    if (isnan(d)) bits = UINT64_C(0x7ff8000000000000);
    else {
        if (d == 0) d = 0.0; /* -0.0 hashes as 0.0 */
        memcpy(&bits, &d, 8);
    }
    return hash_long((int64_t)bits);
}

int32_t firn_ice_value_hash(const firn_ice_value *v) {
    switch (v->type) {
    case FIRN_ICE_BOOLEAN: return hash_long(v->u.b ? 1 : 0);
    case FIRN_ICE_INT:
    case FIRN_ICE_DATE: return hash_long(v->u.i32);
    case FIRN_ICE_LONG:
    case FIRN_ICE_TIME:
    case FIRN_ICE_TIMESTAMP:
    case FIRN_ICE_TIMESTAMPTZ: return hash_long(v->u.i64);
    case FIRN_ICE_TIMESTAMP_NS:
    case FIRN_ICE_TIMESTAMPTZ_NS: return hash_long(firn_ice_floor_div(v->u.i64, 1000));
    case FIRN_ICE_FLOAT: return hash_double((double)v->u.f32);
    case FIRN_ICE_DOUBLE: return hash_double(v->u.f64);
    case FIRN_ICE_DECIMAL: {
        firn_buf b = {0};
        firn_ice_value_to_bytes(v, &b, NULL);
        int32_t h = (int32_t)firn_murmur3_32(b.data, b.len, 0);
        firn_buf_release(&b);
        return h;
    }
    case FIRN_ICE_UUID: return (int32_t)firn_murmur3_32(v->u.uuid, 16, 0);
    case FIRN_ICE_STRING:
    case FIRN_ICE_BINARY:
    case FIRN_ICE_FIXED: return (int32_t)firn_murmur3_32(v->u.bin.ptr, v->u.bin.len, 0);
    default: return 0;
    }
}

/* ----------------------------------------------------------------- apply */

/* Java's int/long arithmetic (wrapping) for v - (((v % w) + w) % w). */
static int32_t truncate_i32(int32_t v, int32_t w) {
    int32_t r = v % w;
    int32_t t = (int32_t)((uint32_t)r + (uint32_t)w);
    int32_t m = t % w;
    return (int32_t)((uint32_t)v - (uint32_t)m);
}

static int64_t truncate_i64(int64_t v, int64_t w) {
    int64_t r = v % w;
    int64_t t = (int64_t)((uint64_t)r + (uint64_t)w);
    int64_t m = t % w;
    return (int64_t)((uint64_t)v - (uint64_t)m);
}

/* Days since epoch of a date/timestamp value (floor). */
static int64_t value_days(const firn_ice_value *v) {
    if (v->type == FIRN_ICE_DATE) return v->u.i32;
    int64_t us = is_nanos(v->type) ? firn_ice_floor_div(v->u.i64, 1000) : v->u.i64;
    return firn_ice_floor_div(us, US_PER_DAY);
}

int firn_ice_transform_apply(const firn_ice_transform *t, const firn_ice_type *src,
                             const firn_ice_value *in, firn_ice_value *out, firn_error *err) {
    firn_ice_type rt;
    int rc = firn_ice_transform_result_type(t, src, &rt, err);
    if (rc) return rc;
    if (t->kind == FIRN_ICE_TRANSFORM_UNKNOWN)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "cannot apply unknown transform '%s'",
                          t->unknown ? t->unknown : "?");
    if (in->type != src->id) {
        char sb[48];
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "transform input is not a %s value",
                          firn_ice_type_to_string(src, sb, sizeof sb));
    }
    if (in->is_null || t->kind == FIRN_ICE_TRANSFORM_VOID) {
        *out = firn_ice_value_null(rt.id);
        return 0;
    }
    memset(out, 0, sizeof *out);
    out->type = rt.id;
    switch (t->kind) {
    case FIRN_ICE_TRANSFORM_IDENTITY: *out = *in; return 0;
    case FIRN_ICE_TRANSFORM_BUCKET:
        out->u.i32 = (int32_t)(((uint32_t)firn_ice_value_hash(in) & 0x7FFFFFFFu) % (uint32_t)t->param);
        return 0;
    case FIRN_ICE_TRANSFORM_TRUNCATE:
        *out = *in;
        switch (in->type) {
        case FIRN_ICE_INT: out->u.i32 = truncate_i32(in->u.i32, t->param); return 0;
        case FIRN_ICE_LONG: out->u.i64 = truncate_i64(in->u.i64, t->param); return 0;
        case FIRN_ICE_DECIMAL: {
            firn_ice_int128 w = t->param;
            firn_ice_int128 r = in->u.dec % w;
            out->u.dec = in->u.dec - (r < 0 ? r + w : r);
            return 0;
        }
        case FIRN_ICE_STRING:
            out->u.bin.len = firn_ice_truncate_string_min(in->u.bin.ptr, in->u.bin.len, (size_t)t->param);
            return 0;
        case FIRN_ICE_BINARY:
            out->u.bin.len = firn_ice_truncate_binary_min(in->u.bin.len, (size_t)t->param);
            return 0;
        default: return not_applicable(t, src, err);
        }
    case FIRN_ICE_TRANSFORM_DAY: out->u.i32 = (int32_t)value_days(in); return 0;
    case FIRN_ICE_TRANSFORM_HOUR: {
        int64_t us = is_nanos(in->type) ? firn_ice_floor_div(in->u.i64, 1000) : in->u.i64;
        out->u.i32 = (int32_t)firn_ice_floor_div(us, US_PER_HOUR);
        return 0;
    }
    case FIRN_ICE_TRANSFORM_YEAR:
    case FIRN_ICE_TRANSFORM_MONTH: {
        int64_t y;
        int m, d;
        firn_ice_civil_from_days(value_days(in), &y, &m, &d);
        if (t->kind == FIRN_ICE_TRANSFORM_YEAR) out->u.i32 = (int32_t)(y - 1970);
        else out->u.i32 = (int32_t)((y - 1970) * 12 + (m - 1));
        return 0;
    }
    default: return not_applicable(t, src, err);
    }
}

void firn_ice_transform_human_string(const firn_ice_transform *t, const firn_ice_type *result_type,
                                     const firn_ice_value *v, firn_buf *out) {
    if (v->is_null) {
        firn_buf_append_str(out, "null");
        return;
    }
    int64_t x = v->type == FIRN_ICE_INT || v->type == FIRN_ICE_DATE ? v->u.i32 : v->u.i64;
    switch (t->kind) {
    case FIRN_ICE_TRANSFORM_YEAR: firn_buf_appendf(out, "%04lld", (long long)(1970 + x)); return;
    case FIRN_ICE_TRANSFORM_MONTH:
        firn_buf_appendf(out, "%04lld-%02lld", (long long)(1970 + firn_ice_floor_div(x, 12)),
                         (long long)(1 + firn_ice_floor_mod(x, 12)));
        return;
    case FIRN_ICE_TRANSFORM_HOUR: {
        int64_t y;
        int m, d;
        firn_ice_civil_from_days(firn_ice_floor_div(x, 24), &y, &m, &d);
        firn_buf_appendf(out, "%04lld-%02d-%02d-%02lld", (long long)y, m, d,
                         (long long)firn_ice_floor_mod(x, 24));
        return;
    }
    default: firn_ice_value_human_string(result_type, v, out); return;
    }
}
