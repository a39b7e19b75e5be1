/* snapshot.c - snapshots and snapshot refs (branches and tags): JSON. */
#include "iceberg/iceberg_internal.h"

#include <stdio.h>
#include <string.h>

const char *firn_ice_snapshot_summary_get(const firn_ice_snapshot *s, const char *key) {
    for (size_t i = 0; i < s->nsummary; i++)
        if (strcmp(s->summary[i].key, key) == 0) return s->summary[i].value;
    return NULL;
}

const char *firn_ice_snapshot_operation(const firn_ice_snapshot *s) {
    return firn_ice_snapshot_summary_get(s, "operation");
}

static const char *const snapshot_keys[] = {"sequence-number", "snapshot-id",  "parent-snapshot-id",
                                            "timestamp-ms",    "summary",      "manifest-list",
                                            "manifests",       "schema-id",    NULL};

firn_ice_snapshot *firn_ice_snapshot_from_json(firn_arena *a, const json_t *j, const char *path,
                                               firn_error *err) {
    ICE_ERR_GUARD(err);
    if (firn_ice_json_expect_object(j, path, "a snapshot", err)) return NULL;
    firn_ice_snapshot *s = firn_arena_calloc(a, sizeof *s);
    bool have_seq, have_schema;
    if (firn_ice_json_req_i64(j, "snapshot-id", path, &s->snapshot_id, err) ||
        firn_ice_json_opt_i64(j, "parent-snapshot-id", path, &s->parent_snapshot_id,
                              &s->has_parent, err) ||
        firn_ice_json_opt_i64(j, "sequence-number", path, &s->sequence_number, &have_seq, err) ||
        firn_ice_json_req_i64(j, "timestamp-ms", path, &s->timestamp_ms, err) ||
        firn_ice_json_opt_str(a, j, "manifest-list", path, &s->manifest_list, err) ||
        firn_ice_json_opt_i32(j, "schema-id", path, &s->schema_id, &have_schema, err))
        return NULL;
    if (!have_seq) s->sequence_number = 0;
    if (s->sequence_number < 0) {
        char p[ICE_PATH_MAX];
        FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: negative sequence number %lld",
                   firn_ice_path_key(p, path, "sequence-number"), (long long)s->sequence_number);
        return NULL;
    }
    s->has_schema_id = have_schema;
    if (!s->manifest_list) {
        json_t *m;
        if (firn_ice_json_opt_array(j, "manifests", path, &m, err)) return NULL;
        if (!m) {
            FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: missing required field 'manifest-list'",
                       firn_ice_path_show(path));
            return NULL;
        }
        size_t n = json_array_size(m);
        const char **list = firn_arena_alloc(a, (n ? n : 1) * sizeof *list);
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_array_get(m, i);
            if (!json_is_string(v)) {
                char p[ICE_PATH_MAX], q[ICE_PATH_MAX];
                FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: expected a manifest path, got %s",
                           firn_ice_path_index(q, firn_ice_path_key(p, path, "manifests"), i),
                           firn_ice_json_type_name(v));
                return NULL;
            }
            list[i] = firn_arena_strdup(a, json_string_value(v));
        }
        s->manifests = list;
        s->nmanifests = n;
    }
    json_t *summary = json_object_get(j, "summary");
    if (summary && !json_is_null(summary)) {
        char p[ICE_PATH_MAX];
        firn_ice_kv *kv;
        size_t n;
        if (firn_ice_json_string_map(a, summary, firn_ice_path_key(p, path, "summary"), &kv, &n, err))
            return NULL;
        /* operation first, as Java writes it */
        for (size_t i = 1; i < n; i++)
            if (strcmp(kv[i].key, "operation") == 0) {
                firn_ice_kv op = kv[i];
                memmove(&kv[1], &kv[0], i * sizeof *kv);
                kv[0] = op;
                break;
            }
        s->summary = kv;
        s->nsummary = n;
    }
    s->extra_json = firn_ice_json_extra(a, j, snapshot_keys);
    return s;
}

json_t *firn_ice_snapshot_to_json(const firn_ice_snapshot *s) {
    json_t *o = json_object();
    if (s->sequence_number > 0) json_object_set_new(o, "sequence-number", json_integer(s->sequence_number));
    json_object_set_new(o, "snapshot-id", json_integer(s->snapshot_id));
    if (s->has_parent) json_object_set_new(o, "parent-snapshot-id", json_integer(s->parent_snapshot_id));
    json_object_set_new(o, "timestamp-ms", json_integer(s->timestamp_ms));
    if (s->nsummary) {
        json_t *sum = json_object();
        for (size_t i = 0; i < s->nsummary; i++)
            json_object_set_new(sum, s->summary[i].key, json_string(s->summary[i].value));
        json_object_set_new(o, "summary", sum);
    }
    if (s->manifest_list) {
        json_object_set_new(o, "manifest-list", json_string(s->manifest_list));
    } else {
        json_t *m = json_array();
        for (size_t i = 0; i < s->nmanifests; i++) json_array_append_new(m, json_string(s->manifests[i]));
        json_object_set_new(o, "manifests", m);
    }
    if (s->has_schema_id) json_object_set_new(o, "schema-id", json_integer(s->schema_id));
    firn_ice_json_emit_extra(o, s->extra_json);
    return o;
}

firn_ice_snapshot *firn_ice_snapshot_copy(firn_arena *a, const firn_ice_snapshot *src) {
    firn_ice_snapshot *s = firn_arena_memdup(a, src, sizeof *s);
    s->manifest_list = src->manifest_list ? firn_arena_strdup(a, src->manifest_list) : NULL;
    if (src->nmanifests) {
        const char **m = firn_arena_alloc(a, src->nmanifests * sizeof *m);
        for (size_t i = 0; i < src->nmanifests; i++) m[i] = firn_arena_strdup(a, src->manifests[i]);
        s->manifests = m;
    } else {
        s->manifests = NULL;
    }
    if (src->nsummary) {
        firn_ice_kv *kv = firn_arena_alloc(a, src->nsummary * sizeof *kv);
        for (size_t i = 0; i < src->nsummary; i++) {
            kv[i].key = firn_arena_strdup(a, src->summary[i].key);
            kv[i].value = firn_arena_strdup(a, src->summary[i].value);
        }
        s->summary = kv;
    } else {
        s->summary = NULL;
    }
    s->extra_json = src->extra_json ? firn_arena_strdup(a, src->extra_json) : NULL;
    return s;
}

/* ------------------------------------------------------------------- refs */

static const char *const ref_keys[] = {"snapshot-id", "type", "min-snapshots-to-keep",
                                       "max-snapshot-age-ms", "max-ref-age-ms", NULL};

int firn_ice_ref_validate(const firn_ice_ref *r, firn_error *err) {
    if (!r->name || !*r->name) return FIRN_RAISE(err, FIRN_ERR_INVALID, "a ref needs a name");
    if (!firn_ice_json_safe(r->name)) return FIRN_RAISE(err, FIRN_ERR_INVALID, "ref name is not valid UTF-8");
    if (r->type != FIRN_ICE_REF_BRANCH && r->type != FIRN_ICE_REF_TAG)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "ref '%s': type must be branch or tag", r->name);
    if (r->min_snapshots_to_keep != -1 && r->min_snapshots_to_keep <= 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "ref '%s': min-snapshots-to-keep must be positive",
                          r->name);
    if (r->max_snapshot_age_ms != -1 && r->max_snapshot_age_ms <= 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "ref '%s': max-snapshot-age-ms must be positive",
                          r->name);
    if (r->max_ref_age_ms != -1 && r->max_ref_age_ms <= 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "ref '%s': max-ref-age-ms must be positive",
                          r->name);
    if (r->type == FIRN_ICE_REF_TAG && (r->min_snapshots_to_keep != -1 || r->max_snapshot_age_ms != -1))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "tag '%s': min-snapshots-to-keep and max-snapshot-age-ms apply only to "
                          "branches",
                          r->name);
    return 0;
}

firn_ice_ref *firn_ice_ref_from_json(firn_arena *a, const char *name, const json_t *j,
                                     const char *path, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (firn_ice_json_expect_object(j, path, "a snapshot ref", err)) return NULL;
    firn_ice_ref *r = firn_arena_calloc(a, sizeof *r);
    r->name = firn_arena_strdup(a, name);
    const char *type;
    bool have;
    int32_t min_keep = -1;
    int64_t age = -1, ref_age = -1;
    if (firn_ice_json_req_i64(j, "snapshot-id", path, &r->snapshot_id, err) ||
        firn_ice_json_req_str(a, j, "type", path, &type, err) ||
        firn_ice_json_opt_i32(j, "min-snapshots-to-keep", path, &min_keep, &have, err) ||
        firn_ice_json_opt_i64(j, "max-snapshot-age-ms", path, &age, &have, err) ||
        firn_ice_json_opt_i64(j, "max-ref-age-ms", path, &ref_age, &have, err))
        return NULL;
    if (strcmp(type, "branch") == 0) r->type = FIRN_ICE_REF_BRANCH;
    else if (strcmp(type, "tag") == 0) r->type = FIRN_ICE_REF_TAG;
    else {
        char p[ICE_PATH_MAX];
        FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: unknown ref type '%s' (branch or tag)",
                   firn_ice_path_key(p, path, "type"), type);
        return NULL;
    }
    r->min_snapshots_to_keep = min_keep;
    r->max_snapshot_age_ms = age;
    r->max_ref_age_ms = ref_age;
    if (firn_ice_ref_validate(r, err)) {
        err->kind = FIRN_ERR_CORRUPT; /* read from a document, not given by a caller */
        firn_ice_error_prefix(err, "%s", firn_ice_path_show(path));
        return NULL;
    }
    r->extra_json = firn_ice_json_extra(a, j, ref_keys);
    return r;
}

json_t *firn_ice_ref_to_json(const firn_ice_ref *r) {
    json_t *o = json_object();
    json_object_set_new(o, "snapshot-id", json_integer(r->snapshot_id));
    json_object_set_new(o, "type", json_string(r->type == FIRN_ICE_REF_TAG ? "tag" : "branch"));
    if (r->min_snapshots_to_keep != -1)
        json_object_set_new(o, "min-snapshots-to-keep", json_integer(r->min_snapshots_to_keep));
    if (r->max_snapshot_age_ms != -1)
        json_object_set_new(o, "max-snapshot-age-ms", json_integer(r->max_snapshot_age_ms));
    if (r->max_ref_age_ms != -1) json_object_set_new(o, "max-ref-age-ms", json_integer(r->max_ref_age_ms));
    firn_ice_json_emit_extra(o, r->extra_json);
    return o;
}
