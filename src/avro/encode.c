/* encode.c - Avro binary encoding of generic values, validated against the schema. */
#include "avro/avro_internal.h"

#include <stdio.h>

size_t firn_avro_utf8_char(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1Fu;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0Fu;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07u;
    else return 0;
    if (n < len) return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[k] & 0x3Fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

bool firn_avro_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = firn_avro_utf8_char(s + i, n - i);
        if (!k) return false;
        i += k;
    }
    return true;
}

void firn_avro_encode_float(firn_buf *out, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    firn_buf_put_le32(out, u);
}

void firn_avro_encode_double(firn_buf *out, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    firn_buf_put_le64(out, u);
}

/* Where in the value we are, for error messages: field names, [index], [key]. */
typedef struct path_step {
    const char *name; /* field name, or map key (len bytes) */
    size_t len;
    size_t index;
    enum { STEP_FIELD, STEP_INDEX, STEP_KEY } kind;
} path_step;

typedef struct encoder {
    firn_buf *out;
    firn_error *err;
    const char *root_name;
    int depth;
    path_step path[FIRN_AVRO_MAX_DEPTH + 1];
} encoder;

static int enc_error(encoder *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int enc_error(encoder *e, const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    firn_buf where;
    firn_buf_init(&where);
    firn_buf_append_str(&where, e->root_name ? e->root_name : "value");
    for (int i = 0; i < e->depth && i <= FIRN_AVRO_MAX_DEPTH; i++) {
        const path_step *s = &e->path[i];
        if (s->kind == STEP_FIELD) firn_buf_appendf(&where, ".%s", s->name);
        else if (s->kind == STEP_INDEX) firn_buf_appendf(&where, "[%zu]", s->index);
        else firn_buf_appendf(&where, "[\"%.*s\"]", (int)(s->len > 64 ? 64 : s->len), s->name);
    }
    const char *w = firn_buf_cstr(&where);
    int rc;
    if (where.len > 160) /* deep values: the start and the end of the path */
        rc = FIRN_RAISE(e->err, FIRN_ERR_INVALID, "avro: %.60s...%s: %s", w, w + where.len - 90, msg);
    else
        rc = FIRN_RAISE(e->err, FIRN_ERR_INVALID, "avro: %s: %s", w, msg);
    firn_buf_release(&where);
    return rc;
}

bool firn_avro_promotable(firn_avro_type from, firn_avro_type to) {
    return (from == FIRN_AVRO_INT && (to == FIRN_AVRO_LONG || to == FIRN_AVRO_DOUBLE)) ||
           (from == FIRN_AVRO_FLOAT && to == FIRN_AVRO_DOUBLE);
}

int firn_avro_pick_branch(const firn_avro_node *u, const firn_avro_value *v) {
    int first = -1, matches = 0;
    for (size_t i = 0; i < u->nbranches; i++)
        if (u->branches[i]->type == v->type) {
            if (first < 0) first = (int)i;
            matches++;
        }
    if (matches > 1 && v->branch < u->nbranches && u->branches[v->branch]->type == v->type)
        return (int)v->branch;
    if (first >= 0) return first;
    /* lossless promotions: int to long or double, float to double */
    for (size_t i = 0; i < u->nbranches; i++)
        if (firn_avro_promotable(v->type, u->branches[i]->type)) return (int)i;
    return -1;
}

static int enc_value(encoder *e, const firn_avro_node *n, const firn_avro_value *v);

static int enc_string(encoder *e, const char *p, size_t len, const char *what) {
    if (!p && len) return enc_error(e, "%s has length %zu but no data", what, len);
    if (len && !firn_avro_utf8_valid((const uint8_t *)p, len))
        return enc_error(e, "%s is not valid UTF-8", what);
    firn_avro_encode_bytes(e->out, p, len);
    return 0;
}

static int enc_value(encoder *e, const firn_avro_node *n, const firn_avro_value *v) {
    if (e->depth > FIRN_AVRO_MAX_DEPTH)
        return enc_error(e, "nested deeper than %d levels", FIRN_AVRO_MAX_DEPTH);
    firn_buf *out = e->out;
    if (n->type == FIRN_AVRO_UNION) {
        int b = firn_avro_pick_branch(n, v);
        if (b < 0) {
            char types[160] = "";
            size_t w = 0;
            for (size_t i = 0; i < n->nbranches && w < sizeof types; i++) {
                const firn_avro_node *br = n->branches[i];
                int k = snprintf(types + w, sizeof types - w, "%s%s", i ? ", " : "",
                                 br->name ? br->name : firn_avro_type_name(br->type));
                if (k < 0) break;
                w += (size_t)k;
            }
            return enc_error(e, "a %s value matches no branch of the union [%s]",
                             firn_avro_type_name(v->type), types);
        }
        firn_avro_encode_long(out, b);
        return enc_value(e, n->branches[b], v);
    }
    if (v->type != n->type && !firn_avro_promotable(v->type, n->type))
        return enc_error(e, "expected %s, got %s",
                         n->name ? n->name : firn_avro_type_name(n->type),
                         firn_avro_type_name(v->type));
    switch (n->type) {
    case FIRN_AVRO_NULL: return 0;
    case FIRN_AVRO_BOOLEAN: firn_buf_put_u8(out, v->u.boolean ? 1 : 0); return 0;
    case FIRN_AVRO_INT: firn_avro_encode_int(out, v->u.i32); return 0;
    case FIRN_AVRO_LONG:
        firn_avro_encode_long(out, v->type == FIRN_AVRO_INT ? v->u.i32 : v->u.i64);
        return 0;
    case FIRN_AVRO_FLOAT: firn_avro_encode_float(out, v->u.f32); return 0;
    case FIRN_AVRO_DOUBLE:
        firn_avro_encode_double(out, v->type == FIRN_AVRO_INT     ? (double)v->u.i32
                                     : v->type == FIRN_AVRO_FLOAT ? (double)v->u.f32
                                                                  : v->u.f64);
        return 0;
    case FIRN_AVRO_BYTES:
        if (!v->u.bytes.data && v->u.bytes.len)
            return enc_error(e, "bytes of length %zu but no data", v->u.bytes.len);
        firn_avro_encode_bytes(out, v->u.bytes.data, v->u.bytes.len);
        return 0;
    case FIRN_AVRO_STRING: return enc_string(e, v->u.str.ptr, v->u.str.len, "string");
    case FIRN_AVRO_FIXED:
        if (v->u.bytes.len != n->size)
            return enc_error(e, "fixed %s needs %zu bytes, got %zu", n->name, n->size,
                             v->u.bytes.len);
        if (!v->u.bytes.data && n->size) return enc_error(e, "fixed value without data");
        firn_buf_append(out, v->u.bytes.data, n->size);
        return 0;
    case FIRN_AVRO_ENUM:
        if (v->u.symbol < 0 || (size_t)v->u.symbol >= n->nsymbols)
            return enc_error(e, "enum %s has %zu symbols, got index %d", n->name, n->nsymbols,
                             (int)v->u.symbol);
        firn_avro_encode_long(out, v->u.symbol);
        return 0;
    case FIRN_AVRO_RECORD: {
        if (v->u.record.count != n->nfields)
            return enc_error(e, "record %s has %zu fields, the value has %zu", n->name,
                             n->nfields, v->u.record.count);
        if (n->nfields && !v->u.record.fields) return enc_error(e, "record value without fields");
        path_step *s = &e->path[e->depth++];
        s->kind = STEP_FIELD;
        for (size_t i = 0; i < n->nfields; i++) {
            s->name = n->fields[i].name;
            int rc = enc_value(e, n->fields[i].type, &v->u.record.fields[i]);
            if (rc) return rc;
        }
        e->depth--;
        return 0;
    }
    case FIRN_AVRO_ARRAY: {
        size_t count = v->u.array.count;
        if (count && !v->u.array.items) return enc_error(e, "array of %zu items without items", count);
        if (count) {
            firn_avro_encode_long(out, (int64_t)count);
            path_step *s = &e->path[e->depth++];
            s->kind = STEP_INDEX;
            for (size_t i = 0; i < count; i++) {
                s->index = i;
                int rc = enc_value(e, n->items, &v->u.array.items[i]);
                if (rc) return rc;
            }
            e->depth--;
        }
        firn_buf_put_u8(out, 0);
        return 0;
    }
    case FIRN_AVRO_MAP: {
        size_t count = v->u.map.count;
        if (count && !v->u.map.entries) return enc_error(e, "map of %zu entries without entries", count);
        if (count) {
            firn_avro_encode_long(out, (int64_t)count);
            path_step *s = &e->path[e->depth++];
            s->kind = STEP_KEY;
            for (size_t i = 0; i < count; i++) {
                const firn_avro_map_entry *me = &v->u.map.entries[i];
                s->name = me->key ? me->key : "";
                s->len = me->key ? me->key_len : 0;
                int rc = enc_string(e, me->key, me->key_len, "map key");
                if (rc) return rc;
                if ((rc = enc_value(e, n->values, &me->value))) return rc;
            }
            e->depth--;
        }
        firn_buf_put_u8(out, 0);
        return 0;
    }
    default:
        return enc_error(e, "cannot encode a %s", firn_avro_type_name(n->type));
    }
}

int firn_avro_encode_value(firn_buf *out, const firn_avro_node *schema,
                           const firn_avro_value *value, firn_error *err) {
    encoder e = {.out = out, .err = err, .root_name = schema->name};
    size_t mark = out->len;
    int rc = enc_value(&e, schema, value);
    if (rc) out->len = mark;
    return rc;
}
