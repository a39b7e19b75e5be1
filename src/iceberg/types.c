/* types.c - Iceberg primitive and nested types, type strings and type JSON. */
#include "iceberg/iceberg_internal.h"
#include "parquet/parquet.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    firn_ice_type_id id;
    const char *name;
} primitive_names[] = {
    {FIRN_ICE_BOOLEAN, "boolean"},
    {FIRN_ICE_INT, "int"},
    {FIRN_ICE_LONG, "long"},
    {FIRN_ICE_FLOAT, "float"},
    {FIRN_ICE_DOUBLE, "double"},
    {FIRN_ICE_DATE, "date"},
    {FIRN_ICE_TIME, "time"},
    {FIRN_ICE_TIMESTAMP, "timestamp"},
    {FIRN_ICE_TIMESTAMPTZ, "timestamptz"},
    {FIRN_ICE_TIMESTAMP_NS, "timestamp_ns"},
    {FIRN_ICE_TIMESTAMPTZ_NS, "timestamptz_ns"},
    {FIRN_ICE_STRING, "string"},
    {FIRN_ICE_UUID, "uuid"},
    {FIRN_ICE_BINARY, "binary"},
};
#define NPRIM (sizeof primitive_names / sizeof primitive_names[0])

static const firn_ice_type static_types[] = {
    {.id = FIRN_ICE_BOOLEAN},      {.id = FIRN_ICE_INT},         {.id = FIRN_ICE_LONG},
    {.id = FIRN_ICE_FLOAT},        {.id = FIRN_ICE_DOUBLE},      {.id = FIRN_ICE_DATE},
    {.id = FIRN_ICE_TIME},         {.id = FIRN_ICE_TIMESTAMP},   {.id = FIRN_ICE_TIMESTAMPTZ},
    {.id = FIRN_ICE_TIMESTAMP_NS}, {.id = FIRN_ICE_TIMESTAMPTZ_NS}, {.id = FIRN_ICE_STRING},
    {.id = FIRN_ICE_UUID},         {.id = FIRN_ICE_BINARY},
};

const firn_ice_type *firn_ice_type_primitive(firn_ice_type_id id) {
    for (size_t i = 0; i < sizeof static_types / sizeof static_types[0]; i++)
        if (static_types[i].id == id) return &static_types[i];
    return NULL;
}

static bool is_static(const firn_ice_type *t) {
    return t >= static_types && t < static_types + sizeof static_types / sizeof static_types[0];
}

firn_ice_type *firn_ice_type_decimal(firn_arena *a, int32_t precision, int32_t scale) {
    firn_ice_type *t = firn_arena_calloc(a, sizeof *t);
    t->id = FIRN_ICE_DECIMAL;
    t->precision = precision;
    t->scale = scale;
    return t;
}

firn_ice_type *firn_ice_type_fixed(firn_arena *a, int32_t length) {
    firn_ice_type *t = firn_arena_calloc(a, sizeof *t);
    t->id = FIRN_ICE_FIXED;
    t->length = length;
    return t;
}

firn_ice_field *firn_ice_fields_copy(firn_arena *a, const firn_ice_field *f, size_t n) {
    firn_ice_field *out = firn_arena_calloc(a, (n ? n : 1) * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i] = f[i];
        out[i].name = f[i].name ? firn_arena_strdup(a, f[i].name) : NULL;
        out[i].doc = f[i].doc ? firn_arena_strdup(a, f[i].doc) : NULL;
        out[i].initial_default = f[i].initial_default ? firn_arena_strdup(a, f[i].initial_default) : NULL;
        out[i].write_default = f[i].write_default ? firn_arena_strdup(a, f[i].write_default) : NULL;
        out[i].extra_json = f[i].extra_json ? firn_arena_strdup(a, f[i].extra_json) : NULL;
    }
    return out;
}

const firn_ice_field *firn_ice_field_copy(firn_arena *a, const firn_ice_field *f) {
    return firn_ice_fields_copy(a, f, 1);
}

firn_ice_type *firn_ice_type_struct(firn_arena *a, const firn_ice_field *fields, size_t n) {
    firn_ice_type *t = firn_arena_calloc(a, sizeof *t);
    t->id = FIRN_ICE_STRUCT;
    t->nfields = n;
    t->fields = firn_ice_fields_copy(a, fields, n);
    return t;
}

static firn_ice_field *make_field(firn_arena *a, int32_t id, const char *name, bool required,
                                  const firn_ice_type *type) {
    firn_ice_field *f = firn_arena_calloc(a, sizeof *f);
    f->id = id;
    f->name = name;
    f->required = required;
    f->type = type;
    return f;
}

firn_ice_type *firn_ice_type_list(firn_arena *a, int32_t element_id, bool element_required,
                                  const firn_ice_type *element) {
    firn_ice_type *t = firn_arena_calloc(a, sizeof *t);
    t->id = FIRN_ICE_LIST;
    t->element = make_field(a, element_id, "element", element_required, element);
    return t;
}

firn_ice_type *firn_ice_type_map(firn_arena *a, int32_t key_id, const firn_ice_type *key,
                                 int32_t value_id, bool value_required,
                                 const firn_ice_type *value) {
    firn_ice_type *t = firn_arena_calloc(a, sizeof *t);
    t->id = FIRN_ICE_MAP;
    t->key = make_field(a, key_id, "key", true, key);
    t->value = make_field(a, value_id, "value", value_required, value);
    return t;
}

const char *firn_ice_type_to_string(const firn_ice_type *t, char *buf, size_t n) {
    switch (t->id) {
    case FIRN_ICE_DECIMAL: snprintf(buf, n, "decimal(%d, %d)", t->precision, t->scale); return buf;
    case FIRN_ICE_FIXED: snprintf(buf, n, "fixed[%d]", t->length); return buf;
    case FIRN_ICE_STRUCT: snprintf(buf, n, "struct"); return buf;
    case FIRN_ICE_LIST: snprintf(buf, n, "list"); return buf;
    case FIRN_ICE_MAP: snprintf(buf, n, "map"); return buf;
    default: break;
    }
    for (size_t i = 0; i < NPRIM; i++)
        if (primitive_names[i].id == t->id) {
            snprintf(buf, n, "%s", primitive_names[i].name);
            return buf;
        }
    snprintf(buf, n, "?");
    return buf;
}

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* Parse an int with optional surrounding blanks; *p advanced. */
static bool parse_int_param(const char **p, long *out) {
    const char *s = skip_ws(*p);
    if (!(isdigit((unsigned char)*s) || *s == '-' || *s == '+')) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s) return false;
    *out = v;
    *p = skip_ws(end);
    return true;
}

int firn_ice_type_parse_primitive(const char *s, firn_ice_type *out, firn_error *err) {
    memset(out, 0, sizeof *out);
    if (!s) return FIRN_RAISE(err, FIRN_ERR_INVALID, "no type given");
    for (size_t i = 0; i < NPRIM; i++)
        if (strcmp(s, primitive_names[i].name) == 0) {
            out->id = primitive_names[i].id;
            return 0;
        }
    if (strncmp(s, "decimal", 7) == 0) {
        const char *p = skip_ws(s + 7);
        long prec, scale;
        if (*p++ != '(' || !parse_int_param(&p, &prec) || *p++ != ',' ||
            !parse_int_param(&p, &scale) || *p++ != ')' || *skip_ws(p))
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "malformed decimal type '%s' (expected decimal(P,S))", s);
        if (prec < 1 || prec > FIRN_ICE_MAX_DECIMAL_PRECISION)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "decimal type '%s': precision must be 1..38", s);
        if (scale < -FIRN_ICE_MAX_DECIMAL_PRECISION || scale > FIRN_ICE_MAX_DECIMAL_PRECISION)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "decimal type '%s': scale out of range", s);
        out->id = FIRN_ICE_DECIMAL;
        out->precision = (int32_t)prec;
        out->scale = (int32_t)scale;
        return 0;
    }
    if (strncmp(s, "fixed", 5) == 0) {
        const char *p = skip_ws(s + 5);
        long len;
        if (*p++ != '[' || !parse_int_param(&p, &len) || *p++ != ']' || *skip_ws(p))
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "malformed fixed type '%s' (expected fixed[L])",
                              s);
        if (len < 1 || len > INT32_MAX)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "fixed type '%s': length must be positive", s);
        out->id = FIRN_ICE_FIXED;
        out->length = (int32_t)len;
        return 0;
    }
    if (strcmp(s, "variant") == 0 || strcmp(s, "unknown") == 0 || strncmp(s, "geometry", 8) == 0 ||
        strncmp(s, "geography", 9) == 0)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "type '%s' needs format version 3, which firn does not support yet", s);
    return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "unknown type '%s'", s);
}

static bool str_eq(const char *a, const char *b) {
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

static bool field_equal(const firn_ice_field *a, const firn_ice_field *b) {
    return a->id == b->id && a->required == b->required && str_eq(a->name, b->name) &&
           str_eq(a->doc, b->doc) && str_eq(a->initial_default, b->initial_default) &&
           str_eq(a->write_default, b->write_default) && firn_ice_type_equal(a->type, b->type);
}

bool firn_ice_type_equal(const firn_ice_type *a, const firn_ice_type *b) {
    if (a == b) return true;
    if (!a || !b || a->id != b->id) return false;
    switch (a->id) {
    case FIRN_ICE_DECIMAL: return a->precision == b->precision && a->scale == b->scale;
    case FIRN_ICE_FIXED: return a->length == b->length;
    case FIRN_ICE_STRUCT:
        if (a->nfields != b->nfields) return false;
        for (size_t i = 0; i < a->nfields; i++)
            if (!field_equal(&a->fields[i], &b->fields[i])) return false;
        return true;
    case FIRN_ICE_LIST: return field_equal(a->element, b->element);
    case FIRN_ICE_MAP: return field_equal(a->key, b->key) && field_equal(a->value, b->value);
    default: return true;
    }
}

const firn_ice_type *firn_ice_type_copy(firn_arena *a, const firn_ice_type *t) {
    if (is_static(t)) return t;
    firn_ice_type *c = firn_arena_memdup(a, t, sizeof *t);
    switch (t->id) {
    case FIRN_ICE_STRUCT: {
        firn_ice_field *f = firn_ice_fields_copy(a, t->fields, t->nfields);
        for (size_t i = 0; i < t->nfields; i++) f[i].type = firn_ice_type_copy(a, t->fields[i].type);
        c->fields = f;
        break;
    }
    case FIRN_ICE_LIST: {
        firn_ice_field *e = firn_ice_fields_copy(a, t->element, 1);
        e->type = firn_ice_type_copy(a, t->element->type);
        c->element = e;
        break;
    }
    case FIRN_ICE_MAP: {
        firn_ice_field *k = firn_ice_fields_copy(a, t->key, 1);
        firn_ice_field *v = firn_ice_fields_copy(a, t->value, 1);
        k->type = firn_ice_type_copy(a, t->key->type);
        v->type = firn_ice_type_copy(a, t->value->type);
        c->key = k;
        c->value = v;
        break;
    }
    default: break;
    }
    return c;
}

const firn_ice_type *firn_ice_type_fresh_ids(firn_arena *a, const firn_ice_type *t,
                                             int32_t *next_id) {
    if (firn_ice_type_is_primitive(t)) return firn_ice_type_copy(a, t);
    firn_ice_type *c = firn_arena_memdup(a, t, sizeof *t);
    switch (t->id) {
    case FIRN_ICE_STRUCT: {
        firn_ice_field *f = firn_ice_fields_copy(a, t->fields, t->nfields);
        for (size_t i = 0; i < t->nfields; i++) f[i].id = ++*next_id;
        for (size_t i = 0; i < t->nfields; i++)
            f[i].type = firn_ice_type_fresh_ids(a, t->fields[i].type, next_id);
        c->fields = f;
        break;
    }
    case FIRN_ICE_LIST: {
        firn_ice_field *e = firn_ice_fields_copy(a, t->element, 1);
        e->id = ++*next_id;
        e->type = firn_ice_type_fresh_ids(a, t->element->type, next_id);
        c->element = e;
        break;
    }
    case FIRN_ICE_MAP: {
        firn_ice_field *k = firn_ice_fields_copy(a, t->key, 1);
        firn_ice_field *v = firn_ice_fields_copy(a, t->value, 1);
        k->id = ++*next_id;
        v->id = ++*next_id;
        k->type = firn_ice_type_fresh_ids(a, t->key->type, next_id);
        v->type = firn_ice_type_fresh_ids(a, t->value->type, next_id);
        c->key = k;
        c->value = v;
        break;
    }
    default: break;
    }
    return c;
}

/* ------------------------------------------------------------------ JSON */

static json_t *json_default(const char *text) {
    if (!text) return NULL;
    return json_loads(text, JSON_DECODE_ANY, NULL);
}

json_t *firn_ice_type_to_json(const firn_ice_type *t) {
    char buf[64];
    switch (t->id) {
    case FIRN_ICE_STRUCT: {
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string("struct"));
        json_t *fields = json_array();
        for (size_t i = 0; i < t->nfields; i++) {
            const firn_ice_field *f = &t->fields[i];
            json_t *fo = json_object();
            json_object_set_new(fo, "id", json_integer(f->id));
            json_object_set_new(fo, "name", json_string(f->name));
            json_object_set_new(fo, "required", json_boolean(f->required));
            json_object_set_new(fo, "type", firn_ice_type_to_json(f->type));
            if (f->doc) json_object_set_new(fo, "doc", json_string(f->doc));
            firn_ice_json_set(fo, "initial-default", json_default(f->initial_default));
            firn_ice_json_set(fo, "write-default", json_default(f->write_default));
            firn_ice_json_emit_extra(fo, f->extra_json);
            json_array_append_new(fields, fo);
        }
        json_object_set_new(o, "fields", fields);
        return o;
    }
    case FIRN_ICE_LIST: {
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string("list"));
        json_object_set_new(o, "element-id", json_integer(t->element->id));
        json_object_set_new(o, "element", firn_ice_type_to_json(t->element->type));
        json_object_set_new(o, "element-required", json_boolean(t->element->required));
        return o;
    }
    case FIRN_ICE_MAP: {
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string("map"));
        json_object_set_new(o, "key-id", json_integer(t->key->id));
        json_object_set_new(o, "key", firn_ice_type_to_json(t->key->type));
        json_object_set_new(o, "value-id", json_integer(t->value->id));
        json_object_set_new(o, "value", firn_ice_type_to_json(t->value->type));
        json_object_set_new(o, "value-required", json_boolean(t->value->required));
        return o;
    }
    default: return json_string(firn_ice_type_to_string(t, buf, sizeof buf));
    }
}

static const char *const field_keys[] = {"id",  "name", "required", "type", "doc", "initial-default",
                                         "write-default", NULL};

static int parse_struct_field(firn_arena *a, const json_t *j, const char *path, firn_ice_field *f,
                              firn_error *err) {
    int rc = firn_ice_json_expect_object(j, path, "a struct field", err);
    if (rc) return rc;
    if ((rc = firn_ice_json_req_i32(j, "id", path, &f->id, err)) ||
        (rc = firn_ice_json_req_str(a, j, "name", path, &f->name, err)) ||
        (rc = firn_ice_json_req_bool(j, "required", path, &f->required, err)) ||
        (rc = firn_ice_json_opt_str(a, j, "doc", path, &f->doc, err)))
        return rc;
    json_t *type = json_object_get(j, "type");
    char p[ICE_PATH_MAX];
    firn_ice_path_key(p, path, "type");
    if (!type || json_is_null(type))
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: missing required field 'type'",
                          firn_ice_path_show(path));
    f->type = firn_ice_type_from_json(a, type, p, err);
    if (!f->type) return -err->kind;
    json_t *d = json_object_get(j, "initial-default");
    if (d && !json_is_null(d)) f->initial_default = firn_ice_json_text(a, d);
    d = json_object_get(j, "write-default");
    if (d && !json_is_null(d)) f->write_default = firn_ice_json_text(a, d);
    f->extra_json = firn_ice_json_extra(a, j, field_keys);
    return 0;
}

static const firn_ice_type *parse_nested(firn_arena *a, const json_t *j, const char *path,
                                         firn_error *err) {
    const char *kind = NULL;
    if (firn_ice_json_req_str(a, j, "type", path, &kind, err)) return NULL;
    char p[ICE_PATH_MAX];
    if (strcmp(kind, "struct") == 0) {
        json_t *fields;
        if (firn_ice_json_req_array(j, "fields", path, &fields, err)) return NULL;
        size_t n = json_array_size(fields);
        firn_ice_field *f = firn_arena_calloc(a, (n ? n : 1) * sizeof *f);
        char fp[ICE_PATH_MAX];
        firn_ice_path_key(fp, path, "fields");
        for (size_t i = 0; i < n; i++)
            if (parse_struct_field(a, json_array_get(fields, i), firn_ice_path_index(p, fp, i), &f[i],
                                   err))
                return NULL;
        firn_ice_type *t = firn_arena_calloc(a, sizeof *t);
        t->id = FIRN_ICE_STRUCT;
        t->nfields = n;
        t->fields = f;
        return t;
    }
    if (strcmp(kind, "list") == 0) {
        int32_t id;
        bool req;
        if (firn_ice_json_req_i32(j, "element-id", path, &id, err) ||
            firn_ice_json_req_bool(j, "element-required", path, &req, err))
            return NULL;
        json_t *e = json_object_get(j, "element");
        if (!e || json_is_null(e)) {
            FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: missing required field 'element'",
                       firn_ice_path_show(path));
            return NULL;
        }
        const firn_ice_type *et = firn_ice_type_from_json(a, e, firn_ice_path_key(p, path, "element"), err);
        if (!et) return NULL;
        return firn_ice_type_list(a, id, req, et);
    }
    if (strcmp(kind, "map") == 0) {
        int32_t kid, vid;
        bool vreq;
        if (firn_ice_json_req_i32(j, "key-id", path, &kid, err) ||
            firn_ice_json_req_i32(j, "value-id", path, &vid, err) ||
            firn_ice_json_req_bool(j, "value-required", path, &vreq, err))
            return NULL;
        json_t *k = json_object_get(j, "key"), *v = json_object_get(j, "value");
        if (!k || json_is_null(k) || !v || json_is_null(v)) {
            FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: missing required field '%s'",
                       firn_ice_path_show(path), (!k || json_is_null(k)) ? "key" : "value");
            return NULL;
        }
        const firn_ice_type *kt = firn_ice_type_from_json(a, k, firn_ice_path_key(p, path, "key"), err);
        if (!kt) return NULL;
        const firn_ice_type *vt = firn_ice_type_from_json(a, v, firn_ice_path_key(p, path, "value"), err);
        if (!vt) return NULL;
        return firn_ice_type_map(a, kid, kt, vid, vreq, vt);
    }
    FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: unknown nested type '%s' (expected struct, list or map)",
               firn_ice_path_key(p, path, "type"), kind);
    return NULL;
}

/* Nesting deeper than this is rejected (protects the recursive parser's stack). */
#define MAX_TYPE_DEPTH 64
static _Thread_local int type_depth;

const firn_ice_type *firn_ice_type_from_json(firn_arena *a, const json_t *j, const char *path,
                                             firn_error *err) {
    ICE_ERR_GUARD(err);
    if (json_is_string(j)) {
        firn_ice_type t;
        if (firn_ice_type_parse_primitive(json_string_value(j), &t, err)) {
            firn_ice_error_prefix(err, "%s", firn_ice_path_show(path));
            return NULL;
        }
        const firn_ice_type *st = firn_ice_type_primitive(t.id);
        if (st) return st;
        return firn_arena_memdup(a, &t, sizeof t);
    }
    if (!json_is_object(j)) {
        FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: expected a type (a string or an object), got %s",
                   firn_ice_path_show(path), firn_ice_json_type_name(j));
        return NULL;
    }
    if (type_depth >= MAX_TYPE_DEPTH) {
        FIRN_RAISE(err, FIRN_ERR_LIMIT, "%s: types nested deeper than %d levels",
                   firn_ice_path_show(path), MAX_TYPE_DEPTH);
        return NULL;
    }
    type_depth++;
    const firn_ice_type *t = parse_nested(a, j, path, err);
    type_depth--;
    return t;
}

int firn_ice_type_to_pq(const firn_ice_type *t) {
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: return FIRN_PQ_BOOLEAN;
    case FIRN_ICE_INT: return FIRN_PQ_INT;
    case FIRN_ICE_LONG: return FIRN_PQ_LONG;
    case FIRN_ICE_FLOAT: return FIRN_PQ_FLOAT;
    case FIRN_ICE_DOUBLE: return FIRN_PQ_DOUBLE;
    case FIRN_ICE_DECIMAL: return FIRN_PQ_DECIMAL;
    case FIRN_ICE_DATE: return FIRN_PQ_DATE;
    case FIRN_ICE_TIME: return FIRN_PQ_TIME;
    case FIRN_ICE_TIMESTAMP: return FIRN_PQ_TIMESTAMP;
    case FIRN_ICE_TIMESTAMPTZ: return FIRN_PQ_TIMESTAMPTZ;
    case FIRN_ICE_TIMESTAMP_NS: return FIRN_PQ_TIMESTAMP_NS;
    case FIRN_ICE_TIMESTAMPTZ_NS: return FIRN_PQ_TIMESTAMPTZ_NS;
    case FIRN_ICE_STRING: return FIRN_PQ_STRING;
    case FIRN_ICE_UUID: return FIRN_PQ_UUID;
    case FIRN_ICE_FIXED: return FIRN_PQ_FIXED;
    case FIRN_ICE_BINARY: return FIRN_PQ_BINARY;
    default: return -1;
    }
}

size_t firn_ice_type_pq_width(const firn_ice_type *t) {
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: return 1;
    case FIRN_ICE_INT:
    case FIRN_ICE_DATE:
    case FIRN_ICE_FLOAT: return 4;
    case FIRN_ICE_LONG:
    case FIRN_ICE_TIME:
    case FIRN_ICE_TIMESTAMP:
    case FIRN_ICE_TIMESTAMPTZ:
    case FIRN_ICE_TIMESTAMP_NS:
    case FIRN_ICE_TIMESTAMPTZ_NS:
    case FIRN_ICE_DOUBLE: return 8;
    case FIRN_ICE_DECIMAL:
        return t->precision <= 9    ? 4
               : t->precision <= 18 ? 8
                                    : (size_t)firn_pq_decimal_width(t->precision);
    case FIRN_ICE_UUID: return 16;
    case FIRN_ICE_FIXED: return (size_t)t->length;
    default: return 0;
    }
}
