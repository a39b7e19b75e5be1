/* schema.c - schemas: validation, the id/name index, schema JSON, fresh ids. */
#include "iceberg/iceberg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ index */

typedef struct walk {
    firn_arena *a;
    firn_ice_index_entry *e;
    size_t n, cap;
} walk;

static void push(walk *w, const firn_ice_index_entry *e) {
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 32;
        firn_ice_index_entry *ne = firn_arena_alloc(w->a, nc * sizeof *ne);
        if (w->n) memcpy(ne, w->e, w->n * sizeof *ne);
        w->e = ne;
        w->cap = nc;
    }
    w->e[w->n++] = *e;
}

static const char *join(firn_arena *a, const char *parent, const char *name) {
    if (!parent) return firn_arena_strdup(a, name);
    size_t lp = strlen(parent), ln = strlen(name);
    char *s = firn_arena_alloc(a, lp + ln + 2);
    memcpy(s, parent, lp);
    s[lp] = '.';
    memcpy(s + lp + 1, name, ln + 1);
    return s;
}

static int index_type(walk *w, const firn_ice_type *t, int32_t parent_id, const char *parent_name,
                      bool in_list_or_map, bool under_optional, int depth, firn_error *err);

static int index_field(walk *w, const firn_ice_field *f, int32_t parent_id,
                       const char *parent_name, bool in_list_or_map, bool under_optional,
                       int depth, firn_error *err) {
    if (!f->name || !*f->name)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "field %d has an empty name", f->id);
    if (!firn_ice_json_safe(f->name) || !firn_ice_json_safe(f->doc))
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "field %d has a name or doc that is not UTF-8", f->id);
    if (!f->type) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "field %d has no type", f->id);
    firn_ice_index_entry e = {
        .id = f->id,
        .parent_id = parent_id,
        .field = f,
        .full_name = join(w->a, parent_name, f->name),
        .in_list_or_map = in_list_or_map,
        .under_optional = under_optional,
    };
    push(w, &e);
    return index_type(w, f->type, f->id, e.full_name, in_list_or_map,
                      under_optional || !f->required, depth + 1, err);
}

static int index_type(walk *w, const firn_ice_type *t, int32_t parent_id, const char *parent_name,
                      bool in_list_or_map, bool under_optional, int depth, firn_error *err) {
    int rc;
    if (depth > 128) return FIRN_RAISE(err, FIRN_ERR_LIMIT, "schema nested too deeply");
    switch (t->id) {
    case FIRN_ICE_STRUCT:
        /* duplicate names show up as duplicate full names in firn_ice_schema_build */
        for (size_t i = 0; i < t->nfields; i++)
            if ((rc = index_field(w, &t->fields[i], parent_id, parent_name, in_list_or_map,
                                  under_optional, depth, err)))
                return rc;
        return 0;
    case FIRN_ICE_LIST:
        return index_field(w, t->element, parent_id, parent_name, true, under_optional, depth, err);
    case FIRN_ICE_MAP:
        if (!t->key->required)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "map key %d must be required", t->key->id);
        if ((rc = index_field(w, t->key, parent_id, parent_name, true, under_optional, depth, err)))
            return rc;
        return index_field(w, t->value, parent_id, parent_name, true, under_optional, depth, err);
    default: return 0;
    }
}

static int by_id(const void *a, const void *b) {
    const firn_ice_index_entry *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static int by_name(const void *a, const void *b) {
    const firn_ice_index_entry *const *x = a, *const *y = b;
    return strcmp((*x)->full_name, (*y)->full_name);
}

int firn_ice_schema_build(firn_arena *a, firn_ice_schema *s, const char *path, firn_error *err) {
    /* messages start with "path: " when there is a path (JSON), else nothing */
    char where[ICE_PATH_MAX + 2];
    snprintf(where, sizeof where, "%s%s", path && *path ? path : "", path && *path ? ": " : "");
    if (!s->type || s->type->id != FIRN_ICE_STRUCT)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%sa schema must be a struct", where);
    walk w = {.a = a};
    int rc = index_type(&w, s->type, 0, NULL, false, false, 0, err);
    if (rc) return firn_ice_error_prefix(err, "%sinvalid schema", where);
    firn_ice_schema_index *ix = firn_arena_calloc(a, sizeof *ix);
    ix->n = w.n;
    ix->by_id = w.e;
    if (w.n) qsort(ix->by_id, w.n, sizeof *ix->by_id, by_id);
    for (size_t i = 0; i < w.n; i++) {
        int32_t id = ix->by_id[i].id;
        if (id <= 0 || id > FIRN_ICE_MAX_FIELD_ID)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "%sfield '%s' has id %d, outside 1..%d", where,
                              ix->by_id[i].full_name, id, FIRN_ICE_MAX_FIELD_ID);
        if (i && ix->by_id[i - 1].id == id)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%sfields '%s' and '%s' share id %d", where,
                              ix->by_id[i - 1].full_name, ix->by_id[i].full_name, id);
    }
    ix->highest_id = w.n ? ix->by_id[w.n - 1].id : 0;
    /* full names must be unique too: a top-level "a.b" clashes with a.b */
    if (w.n > 1) {
        const firn_ice_index_entry **names = firn_xmalloc(w.n * sizeof *names);
        for (size_t i = 0; i < w.n; i++) names[i] = &ix->by_id[i];
        qsort(names, w.n, sizeof *names, by_name);
        for (size_t i = 1; i < w.n; i++)
            if (strcmp(names[i - 1]->full_name, names[i]->full_name) == 0) {
                rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%sduplicate field name '%s' (ids %d and %d)",
                                where, names[i]->full_name, names[i - 1]->id, names[i]->id);
                break;
            }
        free(names);
        if (rc) return rc;
    }
    s->index = ix;
    for (size_t i = 0; i < s->nidentifier_field_ids; i++) {
        int32_t id = s->identifier_field_ids[i];
        const firn_ice_index_entry *e = firn_ice_schema_entry(s, id);
        if (!e)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%sidentifier field id %d is not in the schema",
                              where, id);
        const firn_ice_field *f = e->field;
        const char *why = NULL;
        if (!firn_ice_type_is_primitive(f->type)) why = "not a primitive";
        else if (!f->required) why = "optional";
        else if (f->type->id == FIRN_ICE_FLOAT || f->type->id == FIRN_ICE_DOUBLE)
            why = "a floating point type";
        else if (e->in_list_or_map) why = "nested in a list or map";
        else if (e->under_optional) why = "nested in an optional struct";
        if (why)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "%sfield '%s' cannot be an identifier field: it is %s", where,
                              e->full_name, why);
        for (size_t k = 0; k < i; k++)
            if (s->identifier_field_ids[k] == id)
                return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                                  "%sidentifier field id %d is listed twice", where, id);
    }
    return 0;
}

const firn_ice_index_entry *firn_ice_schema_entry(const firn_ice_schema *s, int32_t id) {
    if (!s || !s->index) return NULL;
    size_t lo = 0, hi = s->index->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int32_t m = s->index->by_id[mid].id;
        if (m == id) return &s->index->by_id[mid];
        if (m < id) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const firn_ice_field *firn_ice_schema_find_field(const firn_ice_schema *s, int32_t id) {
    const firn_ice_index_entry *e = firn_ice_schema_entry(s, id);
    return e ? e->field : NULL;
}

const char *firn_ice_schema_find_name(const firn_ice_schema *s, int32_t id) {
    const firn_ice_index_entry *e = firn_ice_schema_entry(s, id);
    return e ? e->full_name : NULL;
}

const firn_ice_field *firn_ice_schema_find_by_name(const firn_ice_schema *s, const char *name,
                                                   bool case_sensitive) {
    if (!s || !s->index || !name) return NULL;
    const firn_ice_field *found = NULL;
    for (size_t i = 0; i < s->index->n; i++) {
        const firn_ice_index_entry *e = &s->index->by_id[i];
        if (case_sensitive) {
            if (strcmp(e->full_name, name) == 0) return e->field;
        } else if (strcasecmp(e->full_name, name) == 0) {
            if (strcmp(e->full_name, name) == 0) return e->field; /* exact match wins */
            if (found) found = (const firn_ice_field *)-1;
            else found = e->field;
        }
    }
    if (found == (const firn_ice_field *)-1) {
        /* ambiguous unless one matches exactly (handled above) */
        return NULL;
    }
    return found;
}

int32_t firn_ice_schema_parent_id(const firn_ice_schema *s, int32_t id) {
    const firn_ice_index_entry *e = firn_ice_schema_entry(s, id);
    return e ? e->parent_id : -1;
}

bool firn_ice_schema_in_list_or_map(const firn_ice_schema *s, int32_t id) {
    const firn_ice_index_entry *e = firn_ice_schema_entry(s, id);
    return e && e->in_list_or_map;
}

int32_t firn_ice_schema_highest_field_id(const firn_ice_schema *s) {
    return s && s->index ? s->index->highest_id : 0;
}

/* ------------------------------------------------------------ constructors */

firn_ice_schema *firn_ice_schema_new(firn_arena *a, int32_t schema_id, const firn_ice_field *fields,
                                     size_t nfields, const int32_t *identifier_field_ids,
                                     size_t nidentifier, firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_ice_schema *s = firn_arena_calloc(a, sizeof *s);
    s->schema_id = schema_id;
    firn_ice_type root = {.id = FIRN_ICE_STRUCT, .nfields = nfields, .fields = fields};
    s->type = firn_ice_type_copy(a, &root);
    s->nidentifier_field_ids = nidentifier;
    s->identifier_field_ids =
        nidentifier ? firn_arena_memdup(a, identifier_field_ids, nidentifier * sizeof(int32_t)) : NULL;
    if (firn_ice_schema_build(a, s, NULL, err)) return NULL;
    return s;
}

firn_ice_schema *firn_ice_schema_copy(firn_arena *a, const firn_ice_schema *src, firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_ice_schema *s = firn_arena_calloc(a, sizeof *s);
    s->schema_id = src->schema_id;
    s->type = firn_ice_type_copy(a, src->type);
    s->nidentifier_field_ids = src->nidentifier_field_ids;
    s->identifier_field_ids =
        src->nidentifier_field_ids
            ? firn_arena_memdup(a, src->identifier_field_ids,
                                src->nidentifier_field_ids * sizeof(int32_t))
            : NULL;
    s->extra_json = src->extra_json ? firn_arena_strdup(a, src->extra_json) : NULL;
    if (firn_ice_schema_build(a, s, NULL, err)) return NULL;
    return s;
}

bool firn_ice_schema_same_structure(const firn_ice_schema *a, const firn_ice_schema *b) {
    if (a->nidentifier_field_ids != b->nidentifier_field_ids) return false;
    for (size_t i = 0; i < a->nidentifier_field_ids; i++) {
        bool found = false;
        for (size_t k = 0; k < b->nidentifier_field_ids; k++)
            if (a->identifier_field_ids[i] == b->identifier_field_ids[k]) found = true;
        if (!found) return false;
    }
    return firn_ice_type_equal(a->type, b->type);
}

/* ------------------------------------------------------------------- JSON */

static const char *const schema_keys[] = {"type", "schema-id", "identifier-field-ids", "fields",
                                          NULL};

firn_ice_schema *firn_ice_schema_from_json(firn_arena *a, const json_t *j, const char *path,
                                           firn_error *err) {
    ICE_ERR_GUARD(err);
    if (firn_ice_json_expect_object(j, path, "a schema", err)) return NULL;
    const char *kind = NULL;
    if (firn_ice_json_req_str(a, j, "type", path, &kind, err)) return NULL;
    if (strcmp(kind, "struct") != 0) {
        char p[ICE_PATH_MAX];
        FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: a schema must have type \"struct\", not \"%s\"",
                   firn_ice_path_key(p, path, "type"), kind);
        return NULL;
    }
    firn_ice_schema *s = firn_arena_calloc(a, sizeof *s);
    bool have_id;
    if (firn_ice_json_opt_i32(j, "schema-id", path, &s->schema_id, &have_id, err)) return NULL;
    if (!have_id) s->schema_id = 0;
    json_t *ids;
    if (firn_ice_json_opt_array(j, "identifier-field-ids", path, &ids, err)) return NULL;
    if (ids) {
        size_t n = json_array_size(ids);
        int32_t *out = firn_arena_alloc(a, (n ? n : 1) * sizeof *out);
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_array_get(ids, i);
            if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
                json_integer_value(v) > INT32_MAX) {
                char p[ICE_PATH_MAX], q[ICE_PATH_MAX];
                FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: expected a field id, got %s",
                           firn_ice_path_index(q, firn_ice_path_key(p, path, "identifier-field-ids"), i),
                           firn_ice_json_type_name(v));
                return NULL;
            }
            out[i] = (int32_t)json_integer_value(v);
        }
        s->identifier_field_ids = out;
        s->nidentifier_field_ids = n;
    }
    s->type = firn_ice_type_from_json(a, j, path, err);
    if (!s->type) return NULL;
    s->extra_json = firn_ice_json_extra(a, j, schema_keys);
    if (firn_ice_schema_build(a, s, path, err)) return NULL;
    return s;
}

firn_ice_schema *firn_ice_schema_parse(firn_arena *a, const char *text, size_t len,
                                       firn_error *err) {
    ICE_ERR_GUARD(err);
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    if (!j) {
        FIRN_RAISE(err, FIRN_ERR_CORRUPT, "schema JSON: line %d column %d: %s", je.line,
                   je.column, je.text);
        return NULL;
    }
    firn_ice_schema *s = firn_ice_schema_from_json(a, j, "", err);
    json_decref(j);
    return s;
}

json_t *firn_ice_schema_to_json(const firn_ice_schema *s) {
    json_t *t = firn_ice_type_to_json(s->type); /* {"type":"struct","fields":[...]} */
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("struct"));
    json_object_set_new(o, "schema-id", json_integer(s->schema_id));
    json_t *ids = json_array();
    for (size_t i = 0; i < s->nidentifier_field_ids; i++)
        json_array_append_new(ids, json_integer(s->identifier_field_ids[i]));
    json_object_set_new(o, "identifier-field-ids", ids);
    json_object_set(o, "fields", json_object_get(t, "fields"));
    json_decref(t);
    firn_ice_json_emit_extra(o, s->extra_json);
    return o;
}

char *firn_ice_schema_to_string(const firn_ice_schema *s) {
    json_t *j = firn_ice_schema_to_json(s);
    char *r = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return r;
}

/* -------------------------------------------------------------- fresh ids */

firn_ice_schema *firn_ice_schema_assign_fresh_ids(firn_arena *a, const firn_ice_schema *src,
                                                  int32_t schema_id, int32_t *last_column_id,
                                                  firn_error *err) {
    ICE_ERR_GUARD(err);
    int32_t next = 0;
    firn_ice_schema *s = firn_arena_calloc(a, sizeof *s);
    s->schema_id = schema_id;
    s->type = firn_ice_type_fresh_ids(a, src->type, &next);
    s->extra_json = src->extra_json ? firn_arena_strdup(a, src->extra_json) : NULL;
    /* identifier fields move with their names */
    if (src->nidentifier_field_ids) {
        firn_ice_schema tmp = *s;
        tmp.nidentifier_field_ids = 0;
        if (firn_ice_schema_build(a, &tmp, NULL, err)) return NULL;
        int32_t *ids = firn_arena_alloc(a, src->nidentifier_field_ids * sizeof *ids);
        for (size_t i = 0; i < src->nidentifier_field_ids; i++) {
            const char *name = firn_ice_schema_find_name(src, src->identifier_field_ids[i]);
            const firn_ice_field *f = name ? firn_ice_schema_find_by_name(&tmp, name, true) : NULL;
            if (!f) {
                FIRN_RAISE(err, FIRN_ERR_INVALID, "identifier field id %d is not in the schema",
                           src->identifier_field_ids[i]);
                return NULL;
            }
            ids[i] = f->id;
        }
        s->identifier_field_ids = ids;
        s->nidentifier_field_ids = src->nidentifier_field_ids;
    }
    if (firn_ice_schema_build(a, s, NULL, err)) return NULL;
    if (last_column_id) *last_column_id = next;
    return s;
}
