/* json.c - render Avro values as JSON: plain, or the Avro specification's JSON encoding. */
#include "avro/avro_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct json_writer {
    firn_buf *out;
    firn_avro_json_mode mode;
    firn_error *err;
} json_writer;

static const char hexdigits[] = "0123456789abcdef";

static void put_escape_u(firn_buf *b, unsigned c) {
    char u[7] = {'\\', 'u', '0', '0', hexdigits[(c >> 4) & 15], hexdigits[c & 15], 0};
    firn_buf_append(b, u, 6);
}

/* A JSON string from UTF-8; invalid sequences become U+FFFD. */
static void put_utf8_string(firn_buf *b, const uint8_t *s, size_t n) {
    firn_buf_reserve(b, n + 2);
    firn_buf_put_u8(b, '"');
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c >= 0x80) {
            size_t k = firn_avro_utf8_char(s + i, n - i);
            if (k) {
                firn_buf_append(b, s + i, k);
                i += k;
            } else {
                firn_buf_append(b, "\xEF\xBF\xBD", 3);
                i++;
            }
            continue;
        }
        switch (c) {
        case '"': firn_buf_append(b, "\\\"", 2); break;
        case '\\': firn_buf_append(b, "\\\\", 2); break;
        case '\n': firn_buf_append(b, "\\n", 2); break;
        case '\r': firn_buf_append(b, "\\r", 2); break;
        case '\t': firn_buf_append(b, "\\t", 2); break;
        case '\b': firn_buf_append(b, "\\b", 2); break;
        case '\f': firn_buf_append(b, "\\f", 2); break;
        default:
            if (c < 0x20) put_escape_u(b, c);
            else firn_buf_put_u8(b, c);
        }
        i++;
    }
    firn_buf_put_u8(b, '"');
}

/* Avro JSON encoding of bytes: one code point 0-255 per byte. */
static void put_latin1_string(firn_buf *b, const uint8_t *s, size_t n) {
    firn_buf_put_u8(b, '"');
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') firn_buf_put_u8(b, c);
        else put_escape_u(b, c);
    }
    firn_buf_put_u8(b, '"');
}

static void put_hex_string(firn_buf *b, const uint8_t *s, size_t n) {
    uint8_t *p = firn_buf_extend(b, 2 * n + 2);
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        *p++ = (uint8_t)hexdigits[s[i] >> 4];
        *p++ = (uint8_t)hexdigits[s[i] & 15];
    }
    *p = '"';
}

static bool put_nonfinite(firn_buf *b, double d) {
    if (isnan(d)) firn_buf_append_str(b, "\"NaN\"");
    else if (isinf(d)) firn_buf_append_str(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else return false;
    return true;
}

/* Make "1" read as a floating-point number: "1.0". */
static void put_number_text(firn_buf *b, const char *s) {
    firn_buf_append_str(b, s);
    if (!strpbrk(s, ".eE")) firn_buf_append(b, ".0", 2);
}

/*
 * The shortest decimal text that reads back as the same number (digits is the
 * type's maximum: 17 for double, 9 for float), written like Python's repr:
 * positional for exponents from -4 to 15 (to 8 for float: "100.0", "0.001"),
 * else with an exponent ("1e+16").
 */
static void put_shortest(firn_buf *b, double d, int digits, bool single) {
    char buf[64];
    int prec = 1;
    for (; prec < digits; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (single ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d) break;
    }
    snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
    int exp = atoi(strchr(buf, 'e') + 1);
    if (exp >= -4 && exp < (single ? 9 : 16)) {
        char fixed[64];
        int decimals = prec - 1 - exp;
        snprintf(fixed, sizeof fixed, "%.*f", decimals > 0 ? decimals : 0, d);
        if (single ? strtof(fixed, NULL) == (float)d : strtod(fixed, NULL) == d) {
            put_number_text(b, fixed);
            return;
        }
    }
    snprintf(buf, sizeof buf, "%.*g", prec, d);
    put_number_text(b, buf);
}

static void put_double(firn_buf *b, double d) {
    if (!put_nonfinite(b, d)) put_shortest(b, d, 17, false);
}

static void put_float(firn_buf *b, float f) {
    if (!put_nonfinite(b, f)) put_shortest(b, f, 9, true);
}

static int mismatch(json_writer *w, const firn_avro_node *n, const firn_avro_value *v) {
    return FIRN_RAISE(w->err, FIRN_ERR_INVALID, "avro json: expected %s, got %s",
                      n->name ? n->name : firn_avro_type_name(n->type),
                      firn_avro_type_name(v->type));
}

static int render(json_writer *w, const firn_avro_node *n, const firn_avro_value *v, int depth) {
    firn_buf *b = w->out;
    if (depth > FIRN_AVRO_MAX_DEPTH)
        return FIRN_RAISE(w->err, FIRN_ERR_LIMIT, "avro json: value nested too deeply");
    if (n->type == FIRN_AVRO_UNION) {
        int br = v->branch < n->nbranches && n->branches[v->branch]->type == v->type
                     ? (int)v->branch
                     : firn_avro_pick_branch(n, v);
        if (br < 0) return mismatch(w, n, v);
        const firn_avro_node *bn = n->branches[br];
        if (w->mode == FIRN_AVRO_JSON_PLAIN || bn->type == FIRN_AVRO_NULL)
            return render(w, bn, v, depth + 1);
        firn_buf_put_u8(b, '{');
        const char *name = bn->name ? bn->name : firn_avro_type_name(bn->type);
        put_utf8_string(b, (const uint8_t *)name, strlen(name));
        firn_buf_put_u8(b, ':');
        int rc = render(w, bn, v, depth + 1);
        firn_buf_put_u8(b, '}');
        return rc;
    }
    if (v->type != n->type && !firn_avro_promotable(v->type, n->type)) return mismatch(w, n, v);
    /* scalars render as the value's own type (the writer promotes int to long) */
    switch (v->type) {
    case FIRN_AVRO_NULL: firn_buf_append(b, "null", 4); return 0;
    case FIRN_AVRO_BOOLEAN: firn_buf_append_str(b, v->u.boolean ? "true" : "false"); return 0;
    case FIRN_AVRO_INT: firn_buf_appendf(b, "%" PRId32, v->u.i32); return 0;
    case FIRN_AVRO_LONG: firn_buf_appendf(b, "%" PRId64, v->u.i64); return 0;
    case FIRN_AVRO_FLOAT: put_float(b, v->u.f32); return 0;
    case FIRN_AVRO_DOUBLE: put_double(b, v->u.f64); return 0;
    case FIRN_AVRO_STRING:
        put_utf8_string(b, (const uint8_t *)v->u.str.ptr, v->u.str.ptr ? v->u.str.len : 0);
        return 0;
    case FIRN_AVRO_BYTES:
    case FIRN_AVRO_FIXED: {
        size_t len = v->u.bytes.data ? v->u.bytes.len : 0;
        if (w->mode == FIRN_AVRO_JSON_PLAIN) put_hex_string(b, v->u.bytes.data, len);
        else put_latin1_string(b, v->u.bytes.data, len);
        return 0;
    }
    default: break;
    }
    switch (n->type) {
    case FIRN_AVRO_ENUM: {
        if (v->u.symbol < 0 || (size_t)v->u.symbol >= n->nsymbols)
            return FIRN_RAISE(w->err, FIRN_ERR_INVALID, "avro json: enum index %d out of range",
                              (int)v->u.symbol);
        const char *s = n->symbols[v->u.symbol];
        put_utf8_string(b, (const uint8_t *)s, strlen(s));
        return 0;
    }
    case FIRN_AVRO_RECORD: {
        if (v->u.record.count != n->nfields)
            return FIRN_RAISE(w->err, FIRN_ERR_INVALID,
                              "avro json: record %s has %zu fields, the value %zu", n->name,
                              n->nfields, v->u.record.count);
        firn_buf_put_u8(b, '{');
        bool first = true;
        for (size_t i = 0; i < n->nfields; i++) {
            const firn_avro_value *f = &v->u.record.fields[i];
            if (f->type == FIRN_AVRO_ABSENT) continue;
            if (!first) firn_buf_put_u8(b, ',');
            first = false;
            put_utf8_string(b, (const uint8_t *)n->fields[i].name, strlen(n->fields[i].name));
            firn_buf_put_u8(b, ':');
            int rc = render(w, n->fields[i].type, f, depth + 1);
            if (rc) return rc;
        }
        firn_buf_put_u8(b, '}');
        return 0;
    }
    case FIRN_AVRO_ARRAY:
        firn_buf_put_u8(b, '[');
        for (size_t i = 0; i < v->u.array.count; i++) {
            if (i) firn_buf_put_u8(b, ',');
            int rc = render(w, n->items, &v->u.array.items[i], depth + 1);
            if (rc) return rc;
        }
        firn_buf_put_u8(b, ']');
        return 0;
    case FIRN_AVRO_MAP:
        firn_buf_put_u8(b, '{');
        for (size_t i = 0; i < v->u.map.count; i++) {
            const firn_avro_map_entry *e = &v->u.map.entries[i];
            if (i) firn_buf_put_u8(b, ',');
            put_utf8_string(b, (const uint8_t *)e->key, e->key ? e->key_len : 0);
            firn_buf_put_u8(b, ':');
            int rc = render(w, n->values, &e->value, depth + 1);
            if (rc) return rc;
        }
        firn_buf_put_u8(b, '}');
        return 0;
    default:
        return mismatch(w, n, v);
    }
}

int firn_avro_value_to_json(firn_buf *out, const firn_avro_node *schema,
                            const firn_avro_value *value, firn_avro_json_mode mode,
                            firn_error *err) {
    json_writer w = {.out = out, .mode = mode, .err = err};
    size_t mark = out->len;
    int rc = render(&w, schema, value, 0);
    if (rc) out->len = mark;
    return rc;
}
