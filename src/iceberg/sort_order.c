/* sort_order.c - sort orders: JSON and validation. */
#include "iceberg/iceberg_internal.h"

#include <stdio.h>
#include <string.h>

static firn_ice_sort_field *copy_fields(firn_arena *a, const firn_ice_sort_field *f, size_t n) {
    firn_ice_sort_field *out = firn_arena_calloc(a, (n ? n : 1) * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i] = f[i];
        if (f[i].transform.unknown) out[i].transform.unknown = firn_arena_strdup(a, f[i].transform.unknown);
    }
    return out;
}

firn_ice_sort_order *firn_ice_sort_order_new(firn_arena *a, int32_t order_id,
                                             const firn_ice_sort_field *fields, size_t n) {
    firn_ice_sort_order *o = firn_arena_calloc(a, sizeof *o);
    o->order_id = order_id;
    o->nfields = n;
    o->fields = copy_fields(a, fields, n);
    return o;
}

firn_ice_sort_order *firn_ice_sort_order_unsorted(firn_arena *a) {
    return firn_ice_sort_order_new(a, 0, NULL, 0);
}

firn_ice_sort_order *firn_ice_sort_order_copy(firn_arena *a, const firn_ice_sort_order *src) {
    firn_ice_sort_order *o = firn_ice_sort_order_new(a, src->order_id, src->fields, src->nfields);
    o->extra_json = src->extra_json ? firn_arena_strdup(a, src->extra_json) : NULL;
    return o;
}

bool firn_ice_sort_order_same_fields(const firn_ice_sort_order *a, const firn_ice_sort_order *b) {
    if (a->nfields != b->nfields) return false;
    for (size_t i = 0; i < a->nfields; i++) {
        const firn_ice_sort_field *x = &a->fields[i], *y = &b->fields[i];
        if (x->source_id != y->source_id || x->direction != y->direction ||
            x->null_order != y->null_order || !firn_ice_transform_equal(&x->transform, &y->transform))
            return false;
    }
    return true;
}

static const char *const order_keys[] = {"order-id", "fields", NULL};

firn_ice_sort_order *firn_ice_sort_order_from_json(firn_arena *a, const json_t *j,
                                                   const char *path, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (firn_ice_json_expect_object(j, path, "a sort order", err)) return NULL;
    firn_ice_sort_order *o = firn_arena_calloc(a, sizeof *o);
    json_t *fields;
    if (firn_ice_json_req_i32(j, "order-id", path, &o->order_id, err) ||
        firn_ice_json_req_array(j, "fields", path, &fields, err))
        return NULL;
    size_t n = json_array_size(fields);
    firn_ice_sort_field *f = firn_arena_calloc(a, (n ? n : 1) * sizeof *f);
    char fp[ICE_PATH_MAX], p[ICE_PATH_MAX], q[ICE_PATH_MAX];
    firn_ice_path_key(fp, path, "fields");
    for (size_t i = 0; i < n; i++) {
        json_t *fj = json_array_get(fields, i);
        firn_ice_path_index(p, fp, i);
        const char *transform, *dir, *nulls;
        if (firn_ice_json_expect_object(fj, p, "a sort field", err) ||
            firn_ice_json_req_str(a, fj, "transform", p, &transform, err) ||
            firn_ice_json_req_i32(fj, "source-id", p, &f[i].source_id, err) ||
            firn_ice_json_req_str(a, fj, "direction", p, &dir, err) ||
            firn_ice_json_req_str(a, fj, "null-order", p, &nulls, err))
            return NULL;
        int rc = firn_ice_transform_parse(transform, &f[i].transform, err);
        if (rc == -FIRN_ERR_UNSUPPORTED) {
            memset(&f[i].transform, 0, sizeof f[i].transform);
            f[i].transform.kind = FIRN_ICE_TRANSFORM_UNKNOWN;
            f[i].transform.unknown = transform;
            firn_error_release(err);
        } else if (rc) {
            firn_ice_error_prefix(err, "%s", firn_ice_path_key(q, p, "transform"));
            return NULL;
        }
        if (strcmp(dir, "asc") == 0) f[i].direction = FIRN_ICE_ASC;
        else if (strcmp(dir, "desc") == 0) f[i].direction = FIRN_ICE_DESC;
        else {
            FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: unknown sort direction '%s' (asc or desc)",
                       firn_ice_path_key(q, p, "direction"), dir);
            return NULL;
        }
        if (strcmp(nulls, "nulls-first") == 0) f[i].null_order = FIRN_ICE_NULLS_FIRST;
        else if (strcmp(nulls, "nulls-last") == 0) f[i].null_order = FIRN_ICE_NULLS_LAST;
        else {
            FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                       "%s: unknown null order '%s' (nulls-first or nulls-last)",
                       firn_ice_path_key(q, p, "null-order"), nulls);
            return NULL;
        }
    }
    o->fields = f;
    o->nfields = n;
    if (o->order_id == 0 && n) {
        FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: sort order id 0 is reserved for the unsorted order",
                   firn_ice_path_show(path));
        return NULL;
    }
    o->extra_json = firn_ice_json_extra(a, j, order_keys);
    return o;
}

json_t *firn_ice_sort_order_to_json(const firn_ice_sort_order *o) {
    json_t *obj = json_object();
    json_object_set_new(obj, "order-id", json_integer(o->order_id));
    json_t *arr = json_array();
    char tb[64];
    for (size_t i = 0; i < o->nfields; i++) {
        const firn_ice_sort_field *f = &o->fields[i];
        json_t *fo = json_object();
        json_object_set_new(fo, "transform",
                            json_string(firn_ice_transform_to_string(&f->transform, tb, sizeof tb)));
        json_object_set_new(fo, "source-id", json_integer(f->source_id));
        json_object_set_new(fo, "direction", json_string(f->direction == FIRN_ICE_DESC ? "desc" : "asc"));
        json_object_set_new(fo, "null-order",
                            json_string(f->null_order == FIRN_ICE_NULLS_LAST ? "nulls-last" : "nulls-first"));
        json_array_append_new(arr, fo);
    }
    json_object_set_new(obj, "fields", arr);
    firn_ice_json_emit_extra(obj, o->extra_json);
    return obj;
}

int firn_ice_sort_order_validate(const firn_ice_sort_order *o, const firn_ice_schema *schema,
                                 firn_error *err) {
    ICE_ERR_GUARD(err);
    char tb[64], yb[48];
    if (o->order_id == 0 && o->nfields)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "sort order id 0 is reserved for the unsorted order");
    for (size_t i = 0; i < o->nfields; i++) {
        const firn_ice_sort_field *f = &o->fields[i];
        if (f->direction != FIRN_ICE_ASC && f->direction != FIRN_ICE_DESC)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "sort order %d: field %zu has no direction",
                              o->order_id, i);
        if (f->null_order != FIRN_ICE_NULLS_FIRST && f->null_order != FIRN_ICE_NULLS_LAST)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "sort order %d: field %zu has no null order",
                              o->order_id, i);
        if (f->transform.kind == FIRN_ICE_TRANSFORM_UNKNOWN) continue;
        const firn_ice_field *src = firn_ice_schema_find_field(schema, f->source_id);
        if (!src)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "sort order %d: source column id %d is not in schema %d", o->order_id,
                              f->source_id, schema->schema_id);
        if (!firn_ice_type_is_primitive(src->type) ||
            !firn_ice_transform_can_apply(&f->transform, src->type))
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "sort order %d: cannot sort by %s of column '%s' (type %s)",
                              o->order_id, firn_ice_transform_to_string(&f->transform, tb, sizeof tb),
                              firn_ice_schema_find_name(schema, f->source_id),
                              firn_ice_type_to_string(src->type, yb, sizeof yb));
    }
    return 0;
}
