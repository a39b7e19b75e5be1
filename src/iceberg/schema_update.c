/*
 * schema_update.c - schema evolution that keeps field ids (Java's
 * UpdateSchema): add optional columns, rename, delete, make optional, widen
 * primitives, update docs, set identifier fields. Each change is applied to a
 * working copy and checked at once; a rejected change leaves it untouched.
 */
#include "iceberg/iceberg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct firn_ice_schema_update {
    firn_arena arena;
    firn_ice_schema *cur;
    int32_t last_column_id;
};

firn_ice_schema_update *firn_ice_schema_update_new(const firn_ice_schema *base,
                                                   int32_t last_column_id) {
    firn_ice_schema_update *u = firn_xcalloc(1, sizeof *u);
    firn_arena_init(&u->arena, 16 * 1024);
    firn_error err;
    firn_error_init(&err);
    u->cur = firn_ice_schema_copy(&u->arena, base, &err);
    if (!u->cur) { /* base was built by a constructor, so this cannot fail; be safe */
        firn_arena_release(&u->arena);
        free(u);
        return NULL;
    }
    int32_t highest = firn_ice_schema_highest_field_id(base);
    u->last_column_id = last_column_id > highest ? last_column_id : highest;
    return u;
}

void firn_ice_schema_update_free(firn_ice_schema_update *u) {
    if (!u) return;
    firn_arena_release(&u->arena);
    free(u);
}

/* ------------------------------------------------------- tree rewriting */

typedef enum { OP_REPLACE, OP_DELETE, OP_APPEND } op_kind;

/*
 * A copy of t with the field `target` replaced by *with (OP_REPLACE), removed
 * from its struct (OP_DELETE), or - for OP_APPEND - *with appended to the
 * struct that is the type of field `target` (0: the root struct t itself).
 * Untouched subtrees are shared. *done is set when the target was found.
 */
static const firn_ice_type *rewrite(firn_arena *a, const firn_ice_type *t, int32_t target,
                                    op_kind op, const firn_ice_field *with, bool *done) {
    if (op == OP_APPEND && target == 0 && t->id == FIRN_ICE_STRUCT) {
        firn_ice_type *c = firn_arena_memdup(a, t, sizeof *t);
        firn_ice_field *f = firn_arena_alloc(a, (t->nfields + 1) * sizeof *f);
        if (t->nfields) memcpy(f, t->fields, t->nfields * sizeof *f);
        f[t->nfields] = *with;
        c->fields = f;
        c->nfields = t->nfields + 1;
        *done = true;
        return c;
    }
    switch (t->id) {
    case FIRN_ICE_STRUCT:
        for (size_t i = 0; i < t->nfields; i++) {
            const firn_ice_field *fld = &t->fields[i];
            firn_ice_field nf = *fld;
            bool hit = fld->id == target;
            if (hit && op == OP_DELETE) {
                firn_ice_type *c = firn_arena_memdup(a, t, sizeof *t);
                firn_ice_field *f = firn_arena_alloc(a, (t->nfields ? t->nfields : 1) * sizeof *f);
                memcpy(f, t->fields, i * sizeof *f);
                memcpy(f + i, t->fields + i + 1, (t->nfields - i - 1) * sizeof *f);
                c->fields = f;
                c->nfields = t->nfields - 1;
                *done = true;
                return c;
            }
            if (hit && op == OP_REPLACE) {
                nf = *with;
                *done = true;
            } else if (hit && op == OP_APPEND) {
                nf.type = rewrite(a, fld->type, 0, op, with, done);
            } else if (firn_ice_type_is_nested(fld->type)) {
                nf.type = rewrite(a, fld->type, target, op, with, done);
            }
            if (*done) {
                firn_ice_type *c = firn_arena_memdup(a, t, sizeof *t);
                firn_ice_field *f = firn_arena_alloc(a, t->nfields * sizeof *f);
                memcpy(f, t->fields, t->nfields * sizeof *f);
                f[i] = nf;
                c->fields = f;
                return c;
            }
        }
        return t;
    case FIRN_ICE_LIST:
    case FIRN_ICE_MAP: {
        const firn_ice_field *slots[2] = {t->id == FIRN_ICE_LIST ? t->element : t->key,
                                          t->id == FIRN_ICE_LIST ? NULL : t->value};
        for (int k = 0; k < 2 && slots[k]; k++) {
            const firn_ice_field *fld = slots[k];
            firn_ice_field nf = *fld;
            if (fld->id == target) {
                if (op == OP_REPLACE) nf = *with;
                else if (op == OP_APPEND) nf.type = rewrite(a, fld->type, 0, op, with, done);
                else continue; /* cannot delete an element/key/value; caller checks */
                *done = true;
            } else if (firn_ice_type_is_nested(fld->type)) {
                nf.type = rewrite(a, fld->type, target, op, with, done);
            }
            if (*done) {
                firn_ice_type *c = firn_arena_memdup(a, t, sizeof *t);
                firn_ice_field *f = firn_arena_memdup(a, &nf, sizeof nf);
                if (t->id == FIRN_ICE_LIST) c->element = f;
                else if (k == 0) c->key = f;
                else c->value = f;
                return c;
            }
        }
        return t;
    }
    default: return t;
    }
}

/* Install a new root (and identifier ids); rejects it if the result is invalid. */
static int commit(firn_ice_schema_update *u, const firn_ice_type *root, const int32_t *ids,
                  size_t nids, firn_error *err) {
    firn_ice_schema *s = firn_arena_calloc(&u->arena, sizeof *s);
    s->schema_id = u->cur->schema_id;
    s->type = root;
    s->identifier_field_ids = ids;
    s->nidentifier_field_ids = nids;
    s->extra_json = u->cur->extra_json;
    if (firn_ice_schema_build(&u->arena, s, NULL, err)) {
        err->kind = FIRN_ERR_INVALID; /* the caller's change is at fault, not stored data */
        return -FIRN_ERR_INVALID;
    }
    u->cur = s;
    return 0;
}

static int commit_root(firn_ice_schema_update *u, const firn_ice_type *root, firn_error *err) {
    return commit(u, root, u->cur->identifier_field_ids, u->cur->nidentifier_field_ids, err);
}

static const firn_ice_index_entry *lookup(firn_ice_schema_update *u, const char *name,
                                          const char *what, firn_error *err) {
    const firn_ice_field *f = name ? firn_ice_schema_find_by_name(u->cur, name, true) : NULL;
    if (!f) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot %s '%s': no such column", what,
                   name ? name : "(null)");
        return NULL;
    }
    return firn_ice_schema_entry(u->cur, f->id);
}

/* True when the entry is a list element or map key/value (its name is fixed). */
static bool is_container_slot(firn_ice_schema_update *u, const firn_ice_index_entry *e) {
    if (e->parent_id == 0) return false;
    const firn_ice_field *p = firn_ice_schema_find_field(u->cur, e->parent_id);
    return p && (p->type->id == FIRN_ICE_LIST || p->type->id == FIRN_ICE_MAP);
}

static bool is_identifier(const firn_ice_schema *s, int32_t id) {
    for (size_t i = 0; i < s->nidentifier_field_ids; i++)
        if (s->identifier_field_ids[i] == id) return true;
    return false;
}

/* ------------------------------------------------------------- changes */

static int add_column(firn_ice_schema_update *u, const char *parent, const char *name,
                      const firn_ice_type *type, const char *doc, firn_error *err) {
    char tb[48];
    if (!name || !*name)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot add a column without a name");
    if (!type) return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot add column '%s' without a type", name);
    int32_t container = 0;
    const firn_ice_type *st = u->cur->type;
    if (parent) {
        const firn_ice_index_entry *e = lookup(u, parent, "add a column to", err);
        if (!e) return -err->kind;
        const firn_ice_field *pf = e->field;
        container = pf->id;
        st = pf->type;
        if (st->id == FIRN_ICE_LIST) {
            container = st->element->id;
            st = st->element->type;
        } else if (st->id == FIRN_ICE_MAP) {
            container = st->value->id;
            st = st->value->type;
        }
        if (st->id != FIRN_ICE_STRUCT)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "cannot add column '%s' to '%s': it is a %s, not a struct", name,
                              parent, firn_ice_type_to_string(pf->type, tb, sizeof tb));
    }
    for (size_t i = 0; i < st->nfields; i++)
        if (strcmp(st->fields[i].name, name) == 0)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot add column '%s%s%s': it already exists",
                              parent ? parent : "", parent ? "." : "", name);
    int32_t next = u->last_column_id;
    firn_ice_field nf = {0};
    nf.id = ++next;
    nf.name = firn_arena_strdup(&u->arena, name);
    nf.required = false;
    nf.doc = doc ? firn_arena_strdup(&u->arena, doc) : NULL;
    nf.type = firn_ice_type_fresh_ids(&u->arena, type, &next);
    if (next > FIRN_ICE_MAX_FIELD_ID)
        return FIRN_RAISE(err, FIRN_ERR_LIMIT, "cannot add column '%s': out of field ids", name);
    bool done = false;
    const firn_ice_type *root = rewrite(&u->arena, u->cur->type, container, OP_APPEND, &nf, &done);
    if (!done) return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "add column '%s': parent not found", name);
    int rc = commit_root(u, root, err);
    if (rc) return firn_ice_error_prefix(err, "cannot add column '%s'", name);
    u->last_column_id = next;
    return 0;
}

int firn_ice_schema_update_add_column(firn_ice_schema_update *u, const char *parent,
                                      const char *name, const firn_ice_type *type,
                                      const char *doc, firn_error *err) {
    ICE_ERR_GUARD(err);
    return add_column(u, parent, name, type, doc, err);
}

int firn_ice_schema_update_add_required_column(firn_ice_schema_update *u, const char *parent,
                                               const char *name, const firn_ice_type *type,
                                               const char *doc, firn_error *err) {
    (void)u, (void)type, (void)doc;
    return FIRN_RAISE(err, FIRN_ERR_INVALID,
                      "cannot add required column '%s%s%s': existing rows have no value for it "
                      "(incompatible change; add it as optional, required columns need format v3 "
                      "defaults)",
                      parent ? parent : "", parent ? "." : "", name ? name : "");
}

static int replace_field(firn_ice_schema_update *u, const firn_ice_field *nf, firn_error *err) {
    bool done = false;
    const firn_ice_type *root = rewrite(&u->arena, u->cur->type, nf->id, OP_REPLACE, nf, &done);
    if (!done) return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "field %d not found", nf->id);
    return commit_root(u, root, err);
}

int firn_ice_schema_update_rename_column(firn_ice_schema_update *u, const char *name,
                                         const char *new_name, firn_error *err) {
    ICE_ERR_GUARD(err);
    const firn_ice_index_entry *e = lookup(u, name, "rename", err);
    if (!e) return -err->kind;
    if (!new_name || !*new_name)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot rename '%s' to an empty name", name);
    if (is_container_slot(u, e))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "cannot rename '%s': list elements and map keys/values have fixed names", name);
    if (strcmp(e->field->name, new_name) == 0) return 0;
    firn_ice_field nf = *e->field;
    nf.name = firn_arena_strdup(&u->arena, new_name);
    int rc = replace_field(u, &nf, err);
    if (rc) return firn_ice_error_prefix(err, "cannot rename '%s' to '%s'", name, new_name);
    return 0;
}

int firn_ice_schema_update_delete_column(firn_ice_schema_update *u, const char *name,
                                         firn_error *err) {
    ICE_ERR_GUARD(err);
    const firn_ice_index_entry *e = lookup(u, name, "delete", err);
    if (!e) return -err->kind;
    if (is_container_slot(u, e))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "cannot delete '%s': it is a list element or map key/value; delete the "
                          "list or map instead",
                          name);
    for (size_t i = 0; i < u->cur->nidentifier_field_ids; i++) {
        int32_t id = u->cur->identifier_field_ids[i];
        const char *idname = firn_ice_schema_find_name(u->cur, id);
        size_t n = strlen(e->full_name);
        if (id == e->id || (idname && strncmp(idname, e->full_name, n) == 0 && idname[n] == '.'))
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "cannot delete '%s': '%s' is an identifier field (change the "
                              "identifier fields first)",
                              name, idname ? idname : name);
    }
    if (e->parent_id == 0 && u->cur->type->nfields == 1)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot delete '%s': it is the table's only column",
                          name);
    bool done = false;
    const firn_ice_type *root = rewrite(&u->arena, u->cur->type, e->id, OP_DELETE, NULL, &done);
    if (!done) return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "delete '%s': not found", name);
    int rc = commit_root(u, root, err);
    if (rc) return firn_ice_error_prefix(err, "cannot delete '%s'", name);
    return 0;
}

int firn_ice_schema_update_set_required(firn_ice_schema_update *u, const char *name, bool required,
                                        firn_error *err) {
    ICE_ERR_GUARD(err);
    const firn_ice_index_entry *e = lookup(u, name, required ? "require" : "make optional", err);
    if (!e) return -err->kind;
    if (e->field->required == required) return 0;
    if (required)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "cannot make optional column '%s' required: existing rows may hold nulls "
                          "(incompatible change)",
                          name);
    const firn_ice_field *parent = e->parent_id ? firn_ice_schema_find_field(u->cur, e->parent_id) : NULL;
    if (parent && parent->type->id == FIRN_ICE_MAP && parent->type->key->id == e->id)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot make '%s' optional: map keys are always required",
                          name);
    if (is_identifier(u->cur, e->id))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "cannot make '%s' optional: it is an identifier field, which must be required",
                          name);
    firn_ice_field nf = *e->field;
    nf.required = false;
    int rc = replace_field(u, &nf, err);
    if (rc) return firn_ice_error_prefix(err, "cannot make '%s' optional", name);
    return 0;
}

static bool valid_promotion(const firn_ice_type *from, const firn_ice_type *to) {
    if (from->id == FIRN_ICE_INT && to->id == FIRN_ICE_LONG) return true;
    if (from->id == FIRN_ICE_FLOAT && to->id == FIRN_ICE_DOUBLE) return true;
    if (from->id == FIRN_ICE_DECIMAL && to->id == FIRN_ICE_DECIMAL)
        return to->scale == from->scale && to->precision > from->precision &&
               to->precision <= FIRN_ICE_MAX_DECIMAL_PRECISION;
    return false;
}

int firn_ice_schema_update_update_column(firn_ice_schema_update *u, const char *name,
                                         const firn_ice_type *new_type, firn_error *err) {
    ICE_ERR_GUARD(err);
    char fb[48], tb[48];
    const firn_ice_index_entry *e = lookup(u, name, "change the type of", err);
    if (!e) return -err->kind;
    const firn_ice_type *old = e->field->type;
    if (!new_type || !firn_ice_type_is_primitive(new_type) || !firn_ice_type_is_primitive(old))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "cannot change the type of '%s': only primitive types can be widened", name);
    if (firn_ice_type_equal(old, new_type)) return 0;
    firn_ice_type_to_string(old, fb, sizeof fb);
    firn_ice_type_to_string(new_type, tb, sizeof tb);
    if (!valid_promotion(old, new_type)) {
        const char *why = "not a valid type promotion (allowed: int to long, float to double, "
                          "decimal(P,S) to decimal(P',S) with P' > P)";
        if (old->id == FIRN_ICE_LONG && new_type->id == FIRN_ICE_INT) why = "narrowing would lose values";
        else if (old->id == FIRN_ICE_DOUBLE && new_type->id == FIRN_ICE_FLOAT)
            why = "narrowing would lose precision";
        else if (old->id == FIRN_ICE_DECIMAL && new_type->id == FIRN_ICE_DECIMAL) {
            if (new_type->scale != old->scale) why = "the scale of a decimal cannot change";
            else if (new_type->precision < old->precision) why = "narrowing would lose digits";
            else why = "precision above 38";
        }
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot change column '%s' from %s to %s: %s", name,
                          fb, tb, why);
    }
    firn_ice_field nf = *e->field;
    nf.type = firn_ice_type_copy(&u->arena, new_type);
    int rc = replace_field(u, &nf, err);
    if (rc) return firn_ice_error_prefix(err, "cannot change column '%s' to %s", name, tb);
    return 0;
}

int firn_ice_schema_update_update_doc(firn_ice_schema_update *u, const char *name, const char *doc,
                                      firn_error *err) {
    ICE_ERR_GUARD(err);
    const firn_ice_index_entry *e = lookup(u, name, "document", err);
    if (!e) return -err->kind;
    firn_ice_field nf = *e->field;
    nf.doc = doc ? firn_arena_strdup(&u->arena, doc) : NULL;
    return replace_field(u, &nf, err);
}

int firn_ice_schema_update_set_identifier_fields(firn_ice_schema_update *u,
                                                 const char *const *names, size_t n,
                                                 firn_error *err) {
    ICE_ERR_GUARD(err);
    int32_t *ids = firn_arena_alloc(&u->arena, (n ? n : 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        const firn_ice_index_entry *e = lookup(u, names[i], "use as an identifier field", err);
        if (!e) return -err->kind;
        ids[i] = e->id;
    }
    int rc = commit(u, u->cur->type, n ? ids : NULL, n, err);
    if (rc) return firn_ice_error_prefix(err, "cannot set identifier fields");
    return 0;
}

firn_ice_schema *firn_ice_schema_update_apply(firn_ice_schema_update *u, firn_arena *a,
                                              int32_t schema_id, int32_t *last_column_id,
                                              firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_ice_schema *s = firn_ice_schema_copy(a, u->cur, err);
    if (!s) return NULL;
    s->schema_id = schema_id;
    if (last_column_id) *last_column_id = u->last_column_id;
    return s;
}
