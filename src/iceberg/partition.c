/* partition.c - partition specs: JSON, validation, the partition type,
 * partition paths and spec evolution. */
#include "iceberg/iceberg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static firn_ice_partition_field *copy_fields(firn_arena *a, const firn_ice_partition_field *f,
                                             size_t n) {
    firn_ice_partition_field *out = firn_arena_calloc(a, (n ? n : 1) * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i] = f[i];
        out[i].name = f[i].name ? firn_arena_strdup(a, f[i].name) : NULL;
        if (f[i].transform.unknown) out[i].transform.unknown = firn_arena_strdup(a, f[i].transform.unknown);
    }
    return out;
}

firn_ice_partition_spec *firn_ice_partition_spec_new(firn_arena *a, int32_t spec_id,
                                                     const firn_ice_partition_field *fields,
                                                     size_t n) {
    firn_ice_partition_spec *s = firn_arena_calloc(a, sizeof *s);
    s->spec_id = spec_id;
    s->nfields = n;
    s->fields = copy_fields(a, fields, n);
    return s;
}

firn_ice_partition_spec *firn_ice_partition_spec_unpartitioned(firn_arena *a, int32_t spec_id) {
    return firn_ice_partition_spec_new(a, spec_id, NULL, 0);
}

firn_ice_partition_spec *firn_ice_partition_spec_copy(firn_arena *a,
                                                      const firn_ice_partition_spec *src) {
    firn_ice_partition_spec *s = firn_ice_partition_spec_new(a, src->spec_id, src->fields, src->nfields);
    s->extra_json = src->extra_json ? firn_arena_strdup(a, src->extra_json) : NULL;
    return s;
}

int32_t firn_ice_partition_spec_last_field_id(const firn_ice_partition_spec *s) {
    int32_t last = FIRN_ICE_PARTITION_DATA_ID_START - 1;
    for (size_t i = 0; i < s->nfields; i++)
        if (s->fields[i].field_id > last) last = s->fields[i].field_id;
    return last;
}

bool firn_ice_partition_spec_equivalent(const firn_ice_partition_spec *a,
                                        const firn_ice_partition_spec *b, bool with_ids) {
    if (a->nfields != b->nfields) return false;
    for (size_t i = 0; i < a->nfields; i++) {
        const firn_ice_partition_field *x = &a->fields[i], *y = &b->fields[i];
        if (x->source_id != y->source_id || strcmp(x->name, y->name) != 0 ||
            !firn_ice_transform_equal(&x->transform, &y->transform))
            return false;
        if (with_ids && x->field_id != y->field_id) return false;
    }
    return true;
}

/* ------------------------------------------------------------------- JSON */

static int parse_transform(firn_arena *a, const char *s, const char *path,
                           firn_ice_transform *out, firn_error *err) {
    int rc = firn_ice_transform_parse(s, out, err);
    if (rc == -FIRN_ERR_UNSUPPORTED) {
        /* another engine's transform: keep it, never apply it */
        memset(out, 0, sizeof *out);
        out->kind = FIRN_ICE_TRANSFORM_UNKNOWN;
        out->unknown = firn_arena_strdup(a, s);
        firn_error_release(err);
        return 0;
    }
    if (rc) return firn_ice_error_prefix(err, "%s", path);
    return 0;
}

static int parse_field(firn_arena *a, const json_t *j, const char *path, int32_t default_id,
                       firn_ice_partition_field *f, firn_error *err) {
    int rc = firn_ice_json_expect_object(j, path, "a partition field", err);
    if (rc) return rc;
    bool have_source, have_id;
    if ((rc = firn_ice_json_opt_i32(j, "source-id", path, &f->source_id, &have_source, err)))
        return rc;
    if (!have_source) {
        json_t *ids;
        if ((rc = firn_ice_json_opt_array(j, "source-ids", path, &ids, err))) return rc;
        if (!ids)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: missing required field 'source-id'",
                              firn_ice_path_show(path));
        if (json_array_size(ids) != 1 || !json_is_integer(json_array_get(ids, 0)))
            return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                              "%s: multi-argument transforms (source-ids) are not supported",
                              firn_ice_path_show(path));
        json_int_t v = json_integer_value(json_array_get(ids, 0));
        if (v < INT32_MIN || v > INT32_MAX)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s.source-ids: id out of range",
                              firn_ice_path_show(path));
        f->source_id = (int32_t)v;
    }
    if ((rc = firn_ice_json_opt_i32(j, "field-id", path, &f->field_id, &have_id, err))) return rc;
    if (!have_id) f->field_id = default_id;
    const char *transform;
    if ((rc = firn_ice_json_req_str(a, j, "name", path, &f->name, err)) ||
        (rc = firn_ice_json_req_str(a, j, "transform", path, &transform, err)))
        return rc;
    char p[ICE_PATH_MAX];
    return parse_transform(a, transform, firn_ice_path_key(p, path, "transform"), &f->transform, err);
}

static int parse_fields(firn_arena *a, const json_t *arr, const char *path,
                        firn_ice_partition_spec *s, firn_error *err) {
    size_t n = json_array_size(arr);
    firn_ice_partition_field *f = firn_arena_calloc(a, (n ? n : 1) * sizeof *f);
    for (size_t i = 0; i < n; i++) {
        char p[ICE_PATH_MAX];
        int32_t default_id = FIRN_ICE_PARTITION_DATA_ID_START + (int32_t)i;
        int rc = parse_field(a, json_array_get(arr, i), firn_ice_path_index(p, path, i), default_id,
                             &f[i], err);
        if (rc) return rc;
    }
    s->fields = f;
    s->nfields = n;
    return 0;
}

static const char *const spec_keys[] = {"spec-id", "fields", NULL};

firn_ice_partition_spec *firn_ice_partition_spec_from_json(firn_arena *a, const json_t *j,
                                                           const char *path, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (firn_ice_json_expect_object(j, path, "a partition spec", err)) return NULL;
    firn_ice_partition_spec *s = firn_arena_calloc(a, sizeof *s);
    bool have_id;
    if (firn_ice_json_opt_i32(j, "spec-id", path, &s->spec_id, &have_id, err)) return NULL;
    if (!have_id) s->spec_id = 0;
    json_t *fields;
    if (firn_ice_json_req_array(j, "fields", path, &fields, err)) return NULL;
    char p[ICE_PATH_MAX];
    if (parse_fields(a, fields, firn_ice_path_key(p, path, "fields"), s, err)) return NULL;
    s->extra_json = firn_ice_json_extra(a, j, spec_keys);
    return s;
}

firn_ice_partition_spec *firn_ice_partition_spec_from_json_fields(firn_arena *a, int32_t spec_id,
                                                                  const json_t *j,
                                                                  const char *path,
                                                                  firn_error *err) {
    ICE_ERR_GUARD(err);
    if (!json_is_array(j)) {
        FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: expected an array of partition fields, got %s",
                   firn_ice_path_show(path), firn_ice_json_type_name(j));
        return NULL;
    }
    firn_ice_partition_spec *s = firn_arena_calloc(a, sizeof *s);
    s->spec_id = spec_id;
    if (parse_fields(a, j, path, s, err)) return NULL;
    return s;
}

json_t *firn_ice_partition_spec_fields_to_json(const firn_ice_partition_spec *s) {
    json_t *arr = json_array();
    char tb[64];
    for (size_t i = 0; i < s->nfields; i++) {
        const firn_ice_partition_field *f = &s->fields[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(f->name));
        json_object_set_new(o, "transform",
                            json_string(firn_ice_transform_to_string(&f->transform, tb, sizeof tb)));
        json_object_set_new(o, "source-id", json_integer(f->source_id));
        json_object_set_new(o, "field-id", json_integer(f->field_id));
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *firn_ice_partition_spec_to_json(const firn_ice_partition_spec *s) {
    json_t *o = json_object();
    json_object_set_new(o, "spec-id", json_integer(s->spec_id));
    json_object_set_new(o, "fields", firn_ice_partition_spec_fields_to_json(s));
    firn_ice_json_emit_extra(o, s->extra_json);
    return o;
}

/* ------------------------------------------------------------- validation */

static bool time_transform(firn_ice_transform_kind k) {
    return k == FIRN_ICE_TRANSFORM_YEAR || k == FIRN_ICE_TRANSFORM_MONTH ||
           k == FIRN_ICE_TRANSFORM_DAY || k == FIRN_ICE_TRANSFORM_HOUR;
}

int firn_ice_partition_spec_validate(const firn_ice_partition_spec *s,
                                     const firn_ice_schema *schema, firn_error *err) {
    ICE_ERR_GUARD(err);
    char tb[64], yb[48];
    for (size_t i = 0; i < s->nfields; i++) {
        const firn_ice_partition_field *f = &s->fields[i];
        if (!f->name || !*f->name || !firn_ice_json_safe(f->name))
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "partition spec %d: field %zu has an empty or non-UTF-8 name", s->spec_id, i);
        for (size_t k = 0; k < i; k++) {
            if (strcmp(s->fields[k].name, f->name) == 0)
                return FIRN_RAISE(err, FIRN_ERR_INVALID,
                                  "partition spec %d: two partition fields are named '%s'",
                                  s->spec_id, f->name);
            if (s->fields[k].field_id == f->field_id)
                return FIRN_RAISE(err, FIRN_ERR_INVALID,
                                  "partition spec %d: fields '%s' and '%s' share field id %d",
                                  s->spec_id, s->fields[k].name, f->name, f->field_id);
            if (s->fields[k].source_id == f->source_id &&
                f->transform.kind != FIRN_ICE_TRANSFORM_VOID &&
                (firn_ice_transform_equal(&s->fields[k].transform, &f->transform) ||
                 (time_transform(f->transform.kind) &&
                  time_transform(s->fields[k].transform.kind))))
                return FIRN_RAISE(err, FIRN_ERR_INVALID,
                                  "partition spec %d: fields '%s' and '%s' partition source %d "
                                  "redundantly",
                                  s->spec_id, s->fields[k].name, f->name, f->source_id);
        }
        bool lenient = f->transform.kind == FIRN_ICE_TRANSFORM_VOID ||
                       f->transform.kind == FIRN_ICE_TRANSFORM_UNKNOWN;
        const firn_ice_field *src = firn_ice_schema_find_field(schema, f->source_id);
        if (!src) {
            if (lenient) continue;
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "partition field '%s': source column id %d is not in schema %d",
                              f->name, f->source_id, schema->schema_id);
        }
        if (lenient) continue;
        const char *src_name = firn_ice_schema_find_name(schema, f->source_id);
        if (!firn_ice_type_is_primitive(src->type))
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "partition field '%s': source column '%s' is a %s, not a primitive",
                              f->name, src_name, firn_ice_type_to_string(src->type, yb, sizeof yb));
        if (firn_ice_schema_in_list_or_map(schema, f->source_id))
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "partition field '%s': source column '%s' is inside a list or map",
                              f->name, src_name);
        if (!firn_ice_transform_can_apply(&f->transform, src->type))
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "partition field '%s': transform %s cannot be applied to column "
                              "'%s' of type %s",
                              f->name, firn_ice_transform_to_string(&f->transform, tb, sizeof tb),
                              src_name, firn_ice_type_to_string(src->type, yb, sizeof yb));
        const firn_ice_field *clash = firn_ice_schema_find_by_name(schema, f->name, true);
        if (clash && !(f->transform.kind == FIRN_ICE_TRANSFORM_IDENTITY && clash->id == f->source_id))
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "partition field '%s' has the name of schema column %d; only an "
                              "identity partition of that column may",
                              f->name, clash->id);
    }
    return 0;
}

/* --------------------------------------------------------- partition type */

static const firn_ice_type *result_type(firn_arena *a, const firn_ice_partition_field *f,
                                        const firn_ice_schema *schema, firn_error *err) {
    const firn_ice_field *src = firn_ice_schema_find_field(schema, f->source_id);
    firn_ice_type rt;
    if (firn_ice_transform_result_type(&f->transform, src ? src->type : NULL, &rt, err)) {
        firn_ice_error_prefix(err, "partition field '%s'", f->name);
        return NULL;
    }
    const firn_ice_type *st = firn_ice_type_primitive(rt.id);
    return st ? st : firn_arena_memdup(a, &rt, sizeof rt);
}

const firn_ice_type *firn_ice_partition_type(firn_arena *a, const firn_ice_partition_spec *s,
                                             const firn_ice_schema *schema, firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_ice_field *fields = firn_arena_calloc(a, (s->nfields ? s->nfields : 1) * sizeof *fields);
    for (size_t i = 0; i < s->nfields; i++) {
        fields[i].id = s->fields[i].field_id;
        fields[i].name = firn_arena_strdup(a, s->fields[i].name);
        fields[i].required = false;
        fields[i].type = result_type(a, &s->fields[i], schema, err);
        if (!fields[i].type) return NULL;
    }
    firn_ice_type *t = firn_arena_calloc(a, sizeof *t);
    t->id = FIRN_ICE_STRUCT;
    t->nfields = s->nfields;
    t->fields = fields;
    return t;
}

int firn_ice_partition_apply(const firn_ice_partition_spec *s, const firn_ice_schema *schema,
                             const firn_ice_value *source_values, firn_ice_value *out,
                             firn_error *err) {
    ICE_ERR_GUARD(err);
    for (size_t i = 0; i < s->nfields; i++) {
        const firn_ice_partition_field *f = &s->fields[i];
        const firn_ice_field *src = firn_ice_schema_find_field(schema, f->source_id);
        if (!src && f->transform.kind == FIRN_ICE_TRANSFORM_VOID) {
            out[i] = firn_ice_value_null(FIRN_ICE_INT);
            continue;
        }
        if (!src)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "partition field '%s': source column id %d is not in the schema",
                              f->name, f->source_id);
        if (firn_ice_transform_apply(&f->transform, src->type, &source_values[i], &out[i], err))
            return firn_ice_error_prefix(err, "partition field '%s'", f->name);
    }
    return 0;
}

/* --------------------------------------------------------- partition path */

void firn_ice_url_encode(const char *s, size_t len, firn_buf *out) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '-' || c == '*' || c == '_') {
            firn_buf_put_u8(out, c);
        } else if (c == ' ') {
            firn_buf_put_u8(out, '+');
        } else {
            firn_buf_put_u8(out, '%');
            firn_buf_put_u8(out, (uint8_t)hex[c >> 4]);
            firn_buf_put_u8(out, (uint8_t)hex[c & 15]);
        }
    }
}

int firn_ice_partition_path(const firn_ice_partition_spec *s, const firn_ice_schema *schema,
                            const firn_ice_value *values, firn_buf *out, firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_arena scratch;
    firn_arena_init(&scratch, 1024);
    firn_buf human = {0};
    int rc = 0;
    for (size_t i = 0; i < s->nfields; i++) {
        const firn_ice_partition_field *f = &s->fields[i];
        const firn_ice_type *rt = result_type(&scratch, f, schema, err);
        if (!rt) {
            rc = -err->kind;
            break;
        }
        if (!values[i].is_null && values[i].type != rt->id) {
            char tb[48];
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                            "partition field '%s': value is not of its result type %s", f->name,
                            firn_ice_type_to_string(rt, tb, sizeof tb));
            break;
        }
        if (i) firn_buf_put_u8(out, '/');
        firn_ice_url_encode(f->name, strlen(f->name), out);
        firn_buf_put_u8(out, '=');
        firn_buf_clear(&human);
        firn_ice_transform_human_string(&f->transform, rt, &values[i], &human);
        firn_ice_url_encode((const char *)human.data, human.len, out);
    }
    firn_buf_release(&human);
    firn_arena_release(&scratch);
    return rc;
}

/* ---------------------------------------------------------- spec builder */

struct firn_ice_spec_builder {
    const firn_ice_schema *schema;
    const firn_ice_partition_spec *base;
    const firn_ice_partition_spec *const *history;
    size_t nhistory;
    int32_t last_id;
    int format_version;
    bool fresh; /* base had no fields: Java's PartitionSpec.Builder names */
    firn_arena arena;
    firn_ice_partition_field *fields;
    size_t n, cap;
};

firn_ice_spec_builder *firn_ice_spec_builder_new(const firn_ice_schema *schema,
                                                 const firn_ice_partition_spec *base,
                                                 const firn_ice_partition_spec *const *history,
                                                 size_t nhistory, int32_t last_partition_id,
                                                 int format_version) {
    firn_ice_spec_builder *b = firn_xcalloc(1, sizeof *b);
    b->schema = schema;
    b->base = base;
    b->history = history;
    b->nhistory = nhistory;
    b->last_id = last_partition_id < FIRN_ICE_PARTITION_DATA_ID_START - 1
                     ? FIRN_ICE_PARTITION_DATA_ID_START - 1
                     : last_partition_id;
    b->format_version = format_version;
    b->fresh = !base || base->nfields == 0;
    firn_arena_init(&b->arena, 4096);
    if (base && base->nfields) {
        firn_ice_grow((void **)&b->fields, &b->cap, base->nfields, sizeof *b->fields);
        for (size_t i = 0; i < base->nfields; i++) {
            b->fields[i] = base->fields[i];
            if (b->fields[i].field_id > b->last_id) b->last_id = b->fields[i].field_id;
        }
        b->n = base->nfields;
    }
    return b;
}

void firn_ice_spec_builder_free(firn_ice_spec_builder *b) {
    if (!b) return;
    free(b->fields);
    firn_arena_release(&b->arena);
    free(b);
}

static ssize_t find_by_name(const firn_ice_spec_builder *b, const char *name) {
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->fields[i].name, name) == 0) return (ssize_t)i;
    return -1;
}

static const char *default_name(firn_ice_spec_builder *b, const char *src,
                                const firn_ice_transform *t) {
    char buf[512];
    switch (t->kind) {
    case FIRN_ICE_TRANSFORM_IDENTITY: snprintf(buf, sizeof buf, "%s", src); break;
    case FIRN_ICE_TRANSFORM_BUCKET:
        if (b->fresh) snprintf(buf, sizeof buf, "%s_bucket", src);
        else snprintf(buf, sizeof buf, "%s_bucket_%d", src, t->param);
        break;
    case FIRN_ICE_TRANSFORM_TRUNCATE:
        if (b->fresh) snprintf(buf, sizeof buf, "%s_trunc", src);
        else snprintf(buf, sizeof buf, "%s_trunc_%d", src, t->param);
        break;
    case FIRN_ICE_TRANSFORM_YEAR: snprintf(buf, sizeof buf, "%s_year", src); break;
    case FIRN_ICE_TRANSFORM_MONTH: snprintf(buf, sizeof buf, "%s_month", src); break;
    case FIRN_ICE_TRANSFORM_DAY: snprintf(buf, sizeof buf, "%s_day", src); break;
    case FIRN_ICE_TRANSFORM_HOUR: snprintf(buf, sizeof buf, "%s_hour", src); break;
    default: snprintf(buf, sizeof buf, "%s_null", src); break;
    }
    return firn_arena_strdup(&b->arena, buf);
}

static int32_t reuse_id(const firn_ice_spec_builder *b, int32_t source_id,
                        const firn_ice_transform *t, const char *name) {
    if (b->format_version < 2) return 0;
    for (size_t h = 0; h <= b->nhistory; h++) {
        const firn_ice_partition_spec *s = h < b->nhistory ? b->history[h] : b->base;
        if (!s) continue;
        for (size_t i = 0; i < s->nfields; i++) {
            const firn_ice_partition_field *f = &s->fields[i];
            if (f->source_id == source_id && firn_ice_transform_equal(&f->transform, t) &&
                (!name || strcmp(f->name, name) == 0))
                return f->field_id;
        }
    }
    return 0;
}

int firn_ice_spec_builder_add(firn_ice_spec_builder *b, const char *source_name,
                              const firn_ice_transform *t, const char *name, firn_error *err) {
    ICE_ERR_GUARD(err);
    char tb[64], yb[48];
    const firn_ice_field *src = firn_ice_schema_find_by_name(b->schema, source_name, true);
    if (!src)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot partition by '%s': no such column",
                          source_name);
    if (t->kind == FIRN_ICE_TRANSFORM_UNKNOWN)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot add a partition field with unknown transform");
    if (!firn_ice_transform_can_apply(t, src->type) || !firn_ice_type_is_primitive(src->type))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "cannot partition by %s(%s): column '%s' is of type %s",
                          firn_ice_transform_to_string(t, tb, sizeof tb), source_name, source_name,
                          firn_ice_type_to_string(src->type, yb, sizeof yb));
    for (size_t i = 0; i < b->n; i++) {
        const firn_ice_partition_field *f = &b->fields[i];
        if (f->source_id != src->id || f->transform.kind == FIRN_ICE_TRANSFORM_VOID) continue;
        if (firn_ice_transform_equal(&f->transform, t))
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "cannot add partition field %s(%s): it already exists as '%s'",
                              firn_ice_transform_to_string(t, tb, sizeof tb), source_name, f->name);
        if (time_transform(f->transform.kind) && time_transform(t->kind))
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "cannot add redundant partition field %s(%s): '%s' already "
                              "partitions it by time",
                              firn_ice_transform_to_string(t, tb, sizeof tb), source_name, f->name);
    }
    const char *pname = name ? firn_arena_strdup(&b->arena, name) : default_name(b, source_name, t);
    ssize_t clash = find_by_name(b, pname);
    if (clash >= 0) {
        firn_ice_partition_field *old = &b->fields[clash];
        if (old->transform.kind != FIRN_ICE_TRANSFORM_VOID)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "cannot add partition field '%s': the spec already has a field of "
                              "that name",
                              pname);
        /* a v1 void field keeps its slot under a new name */
        char buf[512];
        snprintf(buf, sizeof buf, "%s_%d", old->name, old->field_id);
        old->name = firn_arena_strdup(&b->arena, buf);
    }
    int32_t id = reuse_id(b, src->id, t, name);
    for (size_t i = 0; id && i < b->n; i++)
        if (b->fields[i].field_id == id) id = 0; /* still in use */
    if (!id) id = ++b->last_id;
    firn_ice_grow((void **)&b->fields, &b->cap, b->n + 1, sizeof *b->fields);
    firn_ice_partition_field *f = &b->fields[b->n++];
    memset(f, 0, sizeof *f);
    f->source_id = src->id;
    f->field_id = id;
    f->name = pname;
    f->transform = *t;
    return 0;
}

int firn_ice_spec_builder_remove(firn_ice_spec_builder *b, const char *name, firn_error *err) {
    ICE_ERR_GUARD(err);
    ssize_t i = find_by_name(b, name);
    if (i < 0 || b->fields[i].transform.kind == FIRN_ICE_TRANSFORM_VOID)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot remove partition field '%s': no such field",
                          name);
    if (b->format_version < 2) {
        /* v1 field ids are positional: keep the slot, produce nulls */
        b->fields[i].transform.kind = FIRN_ICE_TRANSFORM_VOID;
        b->fields[i].transform.param = 0;
        return 0;
    }
    memmove(&b->fields[i], &b->fields[i + 1], (b->n - (size_t)i - 1) * sizeof *b->fields);
    b->n--;
    return 0;
}

int firn_ice_spec_builder_rename(firn_ice_spec_builder *b, const char *name, const char *new_name,
                                 firn_error *err) {
    ICE_ERR_GUARD(err);
    ssize_t i = find_by_name(b, name);
    if (i < 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot rename partition field '%s': no such field",
                          name);
    if (!new_name || !*new_name)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot rename partition field '%s' to an empty name",
                          name);
    if (strcmp(name, new_name) != 0 && find_by_name(b, new_name) >= 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "cannot rename partition field '%s' to '%s': that name is taken", name,
                          new_name);
    b->fields[i].name = firn_arena_strdup(&b->arena, new_name);
    return 0;
}

firn_ice_partition_spec *firn_ice_spec_builder_finish(firn_ice_spec_builder *b, firn_arena *a,
                                                      int32_t spec_id, int32_t *last_partition_id,
                                                      firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_ice_partition_spec *s = firn_ice_partition_spec_new(a, spec_id, b->fields, b->n);
    if (firn_ice_partition_spec_validate(s, b->schema, err)) return NULL;
    if (last_partition_id) *last_partition_id = b->last_id;
    return s;
}
