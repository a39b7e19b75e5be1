/*
 * update.c - table updates applied to metadata in memory, named after the
 * spec's/REST protocol's update actions (add-schema, set-snapshot-ref, ...).
 * Each checks everything before it changes anything, so a failed update
 * leaves the metadata as it was.
 */
#include "iceberg/iceberg_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

void firn_ice_metadata_set_last_updated_ms(firn_ice_metadata *md, int64_t ms) {
    md->last_updated_ms = ms;
}

int firn_ice_metadata_assign_uuid(firn_ice_metadata *md, const char *uuid, firn_error *err) {
    if (!uuid || !firn_ice_uuid_valid(uuid))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "assign-uuid: '%s' is not a UUID",
                          uuid ? uuid : "(null)");
    if (md->table_uuid[0] && strcasecmp(md->table_uuid, uuid) != 0 && md->format_version >= 2)
        return FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                          "assign-uuid: the table already has uuid %s, cannot change it to %s",
                          md->table_uuid, uuid);
    for (int i = 0; i < 36; i++) md->table_uuid[i] = (char)tolower((unsigned char)uuid[i]);
    md->table_uuid[36] = '\0';
    return 0;
}

int firn_ice_metadata_upgrade_format_version(firn_ice_metadata *md, int version, firn_error *err) {
    if (version > FIRN_ICE_MAX_FORMAT_VERSION)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "upgrade-format-version: firn supports format versions up to %d, not %d",
                          FIRN_ICE_MAX_FORMAT_VERSION, version);
    if (version < md->format_version)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "upgrade-format-version: cannot downgrade v%d to v%d",
                          md->format_version, version);
    if (version == md->format_version) return 0;
    if (!md->table_uuid[0]) {
        uint8_t u[16];
        firn_ice_uuid4(u);
        firn_ice_uuid_format(u, md->table_uuid);
    }
    md->format_version = version;
    return 0;
}

/* ----------------------------------------------------------------- schemas */

int firn_ice_metadata_add_schema(firn_ice_metadata *md, const firn_ice_schema *schema,
                                 int32_t *schema_id, firn_error *err) {
    ICE_ERR_GUARD(err);
    for (size_t i = 0; i < md->nschemas; i++)
        if (firn_ice_schema_same_structure(md->schemas[i], schema)) {
            md->last_added_schema_id = md->schemas[i]->schema_id;
            if (schema_id) *schema_id = md->schemas[i]->schema_id;
            return 0;
        }
    firn_ice_schema *c = firn_ice_schema_copy(&md->arena, schema, err);
    if (!c) return firn_ice_error_prefix(err, "add-schema");
    int32_t id = -1;
    for (size_t i = 0; i < md->nschemas; i++)
        if (md->schemas[i]->schema_id > id) id = md->schemas[i]->schema_id;
    c->schema_id = id + 1;
    int32_t highest = firn_ice_schema_highest_field_id(c);
    if (highest > md->last_column_id) md->last_column_id = highest;
    ICE_PUSH(md, schemas, nschemas, cap_schemas, c);
    md->last_added_schema_id = c->schema_id;
    if (schema_id) *schema_id = c->schema_id;
    return 0;
}

int firn_ice_metadata_set_current_schema(firn_ice_metadata *md, int32_t schema_id,
                                         firn_error *err) {
    ICE_ERR_GUARD(err);
    if (schema_id == -1) {
        if (md->last_added_schema_id == -1)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "set-current-schema: -1 means the last added schema, but none was added");
        schema_id = md->last_added_schema_id;
    }
    const firn_ice_schema *s = firn_ice_metadata_schema(md, schema_id);
    if (!s)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "set-current-schema: no schema with id %d", schema_id);
    const firn_ice_partition_spec *spec = firn_ice_metadata_default_spec(md);
    if (spec && firn_ice_partition_spec_validate(spec, s, err))
        return firn_ice_error_prefix(err, "set-current-schema %d: the default partition spec breaks",
                                     schema_id);
    const firn_ice_sort_order *order = firn_ice_metadata_default_sort_order(md);
    if (order && firn_ice_sort_order_validate(order, s, err))
        return firn_ice_error_prefix(err, "set-current-schema %d: the default sort order breaks",
                                     schema_id);
    md->current_schema_id = schema_id;
    return 0;
}

/* --------------------------------------------------------- partition specs */

int firn_ice_metadata_add_partition_spec(firn_ice_metadata *md, const firn_ice_partition_spec *spec,
                                         int32_t *spec_id, firn_error *err) {
    ICE_ERR_GUARD(err);
    const firn_ice_schema *cur = firn_ice_metadata_current_schema(md);
    if (!cur) return FIRN_RAISE(err, FIRN_ERR_INVALID, "add-spec: the table has no current schema");
    if (firn_ice_partition_spec_validate(spec, cur, err)) return firn_ice_error_prefix(err, "add-spec");
    if (md->format_version < 2)
        for (size_t i = 0; i < spec->nfields; i++)
            if (spec->fields[i].field_id != FIRN_ICE_PARTITION_DATA_ID_START + (int32_t)i)
                return FIRN_RAISE(err, FIRN_ERR_INVALID,
                                  "add-spec: v1 partition field ids must be sequential from 1000, "
                                  "field '%s' has %d",
                                  spec->fields[i].name, spec->fields[i].field_id);
    for (size_t i = 0; i < md->nspecs; i++)
        if (firn_ice_partition_spec_equivalent(md->specs[i], spec, false)) {
            md->last_added_spec_id = md->specs[i]->spec_id;
            if (spec_id) *spec_id = md->specs[i]->spec_id;
            return 0;
        }
    int32_t id = -1;
    for (size_t i = 0; i < md->nspecs; i++)
        if (md->specs[i]->spec_id > id) id = md->specs[i]->spec_id;
    firn_ice_partition_spec *c = firn_ice_partition_spec_copy(&md->arena, spec);
    c->spec_id = id + 1;
    int32_t last = firn_ice_partition_spec_last_field_id(c);
    if (last > md->last_partition_id) md->last_partition_id = last;
    ICE_PUSH(md, specs, nspecs, cap_specs, c);
    md->last_added_spec_id = c->spec_id;
    if (spec_id) *spec_id = c->spec_id;
    return 0;
}

int firn_ice_metadata_set_default_spec(firn_ice_metadata *md, int32_t spec_id, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (spec_id == -1) {
        if (md->last_added_spec_id == -1)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "set-default-spec: -1 means the last added spec, but none was added");
        spec_id = md->last_added_spec_id;
    }
    const firn_ice_partition_spec *s = firn_ice_metadata_spec(md, spec_id);
    if (!s) return FIRN_RAISE(err, FIRN_ERR_INVALID, "set-default-spec: no partition spec with id %d", spec_id);
    const firn_ice_schema *cur = firn_ice_metadata_current_schema(md);
    if (cur && firn_ice_partition_spec_validate(s, cur, err))
        return firn_ice_error_prefix(err, "set-default-spec %d", spec_id);
    md->default_spec_id = spec_id;
    return 0;
}

/* ------------------------------------------------------------- sort orders */

int firn_ice_metadata_add_sort_order(firn_ice_metadata *md, const firn_ice_sort_order *order,
                                     int32_t *order_id, firn_error *err) {
    ICE_ERR_GUARD(err);
    const firn_ice_schema *cur = firn_ice_metadata_current_schema(md);
    if (!cur) return FIRN_RAISE(err, FIRN_ERR_INVALID, "add-sort-order: the table has no current schema");
    firn_ice_sort_order probe = *order;
    if (probe.nfields == 0) probe.order_id = 0;
    else if (probe.order_id == 0) probe.order_id = 1; /* any non-zero id validates */
    if (firn_ice_sort_order_validate(&probe, cur, err)) return firn_ice_error_prefix(err, "add-sort-order");
    for (size_t i = 0; i < md->nsort_orders; i++)
        if (firn_ice_sort_order_same_fields(md->sort_orders[i], order)) {
            md->last_added_sort_order_id = md->sort_orders[i]->order_id;
            if (order_id) *order_id = md->sort_orders[i]->order_id;
            return 0;
        }
    int32_t id = 0;
    if (order->nfields) {
        for (size_t i = 0; i < md->nsort_orders; i++)
            if (md->sort_orders[i]->order_id > id) id = md->sort_orders[i]->order_id;
        id++;
    }
    firn_ice_sort_order *c = firn_ice_sort_order_copy(&md->arena, order);
    c->order_id = id;
    ICE_PUSH(md, sort_orders, nsort_orders, cap_sort_orders, c);
    md->last_added_sort_order_id = id;
    if (order_id) *order_id = id;
    return 0;
}

int firn_ice_metadata_set_default_sort_order(firn_ice_metadata *md, int32_t order_id,
                                             firn_error *err) {
    ICE_ERR_GUARD(err);
    if (order_id == -1) {
        if (md->last_added_sort_order_id == -1)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "set-default-sort-order: -1 means the last added order, but none was added");
        order_id = md->last_added_sort_order_id;
    }
    const firn_ice_sort_order *o = firn_ice_metadata_sort_order(md, order_id);
    if (!o)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "set-default-sort-order: no sort order with id %d",
                          order_id);
    const firn_ice_schema *cur = firn_ice_metadata_current_schema(md);
    if (cur && firn_ice_sort_order_validate(o, cur, err))
        return firn_ice_error_prefix(err, "set-default-sort-order %d", order_id);
    md->default_sort_order_id = order_id;
    return 0;
}

/* --------------------------------------------------------------- snapshots */

int firn_ice_metadata_add_snapshot(firn_ice_metadata *md, const firn_ice_snapshot *s,
                                   firn_error *err) {
    ICE_ERR_GUARD(err);
    if (s->snapshot_id < 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "add-snapshot: snapshot id %lld is negative",
                          (long long)s->snapshot_id);
    if (firn_ice_metadata_snapshot(md, s->snapshot_id))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "add-snapshot: snapshot %lld already exists",
                          (long long)s->snapshot_id);
    if (s->has_schema_id && !firn_ice_metadata_schema(md, s->schema_id))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "add-snapshot: snapshot %lld refers to unknown schema %d",
                          (long long)s->snapshot_id, s->schema_id);
    bool text_ok = firn_ice_json_safe(s->manifest_list) && firn_ice_json_safe(s->extra_json);
    for (size_t i = 0; i < s->nsummary; i++)
        text_ok = text_ok && s->summary[i].key && s->summary[i].value &&
                  firn_ice_json_safe(s->summary[i].key) && firn_ice_json_safe(s->summary[i].value);
    for (size_t i = 0; i < s->nmanifests; i++) text_ok = text_ok && s->manifests[i] && firn_ice_json_safe(s->manifests[i]);
    if (!text_ok)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "add-snapshot: snapshot %lld has a missing or non-UTF-8 summary entry or path",
                          (long long)s->snapshot_id);
    if (md->format_version >= 2) {
        if (!s->manifest_list)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "add-snapshot: snapshot %lld has no manifest list",
                              (long long)s->snapshot_id);
        if (s->sequence_number <= md->last_sequence_number && s->has_parent)
            return FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                              "add-snapshot: sequence number %lld of snapshot %lld is not above the "
                              "table's last sequence number %lld (reload and retry)",
                              (long long)s->sequence_number, (long long)s->snapshot_id,
                              (long long)md->last_sequence_number);
    }
    firn_ice_snapshot *c = firn_ice_snapshot_copy(&md->arena, s);
    if (md->format_version < 2) c->sequence_number = 0;
    ICE_PUSH(md, snapshots, nsnapshots, cap_snapshots, c);
    if (c->sequence_number > md->last_sequence_number) md->last_sequence_number = c->sequence_number;
    md->last_updated_ms = c->timestamp_ms;
    return 0;
}

static ssize_t ref_index(const firn_ice_metadata *md, const char *name) {
    for (size_t i = 0; i < md->nrefs; i++)
        if (strcmp(md->refs[i]->name, name) == 0) return (ssize_t)i;
    return -1;
}

int firn_ice_metadata_set_snapshot_ref(firn_ice_metadata *md, const firn_ice_ref *ref,
                                       firn_error *err) {
    ICE_ERR_GUARD(err);
    if (firn_ice_ref_validate(ref, err)) return firn_ice_error_prefix(err, "set-snapshot-ref");
    if (!firn_ice_metadata_snapshot(md, ref->snapshot_id))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "set-snapshot-ref: cannot point '%s' at unknown snapshot %lld",
                          ref->name, (long long)ref->snapshot_id);
    bool is_main = strcmp(ref->name, FIRN_ICE_MAIN_BRANCH) == 0;
    if (is_main && ref->type != FIRN_ICE_REF_BRANCH)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "set-snapshot-ref: main must be a branch, not a tag");
    ssize_t i = ref_index(md, ref->name);
    firn_ice_ref *c = firn_arena_memdup(&md->arena, ref, sizeof *ref);
    c->name = firn_arena_strdup(&md->arena, ref->name);
    c->extra_json = ref->extra_json ? firn_arena_strdup(&md->arena, ref->extra_json) : NULL;
    bool moved = i < 0 || md->refs[i]->snapshot_id != ref->snapshot_id;
    if (i >= 0) md->refs[i] = c;
    else ICE_PUSH(md, refs, nrefs, cap_refs, c);
    if (is_main && moved) {
        md->current_snapshot_id = ref->snapshot_id;
        firn_ice_snapshot_log_entry e = {md->last_updated_ms, ref->snapshot_id};
        ICE_PUSH(md, snapshot_log, nsnapshot_log, cap_snapshot_log, e);
    }
    return 0;
}

int firn_ice_metadata_remove_snapshot_ref(firn_ice_metadata *md, const char *name, firn_error *err) {
    (void)err;
    ssize_t i = ref_index(md, name);
    if (i < 0) return 0;
    memmove(&md->refs[i], &md->refs[i + 1], (md->nrefs - (size_t)i - 1) * sizeof *md->refs);
    md->nrefs--;
    if (strcmp(name, FIRN_ICE_MAIN_BRANCH) == 0) md->current_snapshot_id = -1;
    return 0;
}

static bool in_ids(int64_t id, const int64_t *ids, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id) return true;
    return false;
}

/* Drop entries of a statistics JSON array whose snapshot-id is in ids (or == one). */
static const char *filter_statistics(firn_arena *a, const char *text, const int64_t *ids, size_t n) {
    if (!text) return NULL;
    json_t *arr = json_loads(text, 0, NULL);
    if (!arr) return text;
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        json_t *sid = json_object_get(e, "snapshot-id");
        if (json_is_integer(sid) && in_ids(json_integer_value(sid), ids, n)) continue;
        json_array_append(out, e);
    }
    const char *r = json_array_size(out) ? firn_ice_json_text(a, out) : NULL;
    json_decref(out);
    json_decref(arr);
    return r;
}

int firn_ice_metadata_remove_snapshots(firn_ice_metadata *md, const int64_t *ids, size_t n,
                                       firn_error *err) {
    (void)err;
    size_t k = 0;
    for (size_t i = 0; i < md->nsnapshots; i++)
        if (!in_ids(md->snapshots[i]->snapshot_id, ids, n)) md->snapshots[k++] = md->snapshots[i];
    if (k == md->nsnapshots) return 0;
    md->nsnapshots = k;
    /* refs to removed snapshots go with them */
    for (size_t i = md->nrefs; i-- > 0;)
        if (in_ids(md->refs[i]->snapshot_id, ids, n)) {
            firn_ice_metadata_remove_snapshot_ref(md, md->refs[i]->name, NULL);
        }
    md->statistics_json = filter_statistics(&md->arena, md->statistics_json, ids, n);
    md->partition_statistics_json =
        filter_statistics(&md->arena, md->partition_statistics_json, ids, n);
    /* a log entry for a removed snapshot drops the history before it (Java) */
    size_t w = 0;
    for (size_t i = 0; i < md->nsnapshot_log; i++) {
        if (firn_ice_metadata_snapshot(md, md->snapshot_log[i].snapshot_id))
            md->snapshot_log[w++] = md->snapshot_log[i];
        else
            w = 0;
    }
    md->nsnapshot_log = w;
    return 0;
}

/* -------------------------------------------------------------- properties */

int firn_ice_metadata_set_properties(firn_ice_metadata *md, const firn_ice_kv *kv, size_t n,
                                     firn_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (!kv[i].key || !*kv[i].key || !kv[i].value)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "set-properties: property %zu has no key or value", i);
        if (!firn_ice_json_safe(kv[i].key) || !firn_ice_json_safe(kv[i].value))
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "set-properties: property %zu is not valid UTF-8", i);
    }
    for (size_t i = 0; i < n; i++) {
        const char *v = firn_arena_strdup(&md->arena, kv[i].value);
        bool found = false;
        for (size_t k = 0; k < md->nproperties; k++)
            if (strcmp(md->properties[k].key, kv[i].key) == 0) {
                md->properties[k].value = v;
                found = true;
            }
        if (!found) {
            firn_ice_kv e = {firn_arena_strdup(&md->arena, kv[i].key), v};
            ICE_PUSH(md, properties, nproperties, cap_properties, e);
        }
    }
    return 0;
}

int firn_ice_metadata_remove_properties(firn_ice_metadata *md, const char *const *keys, size_t n,
                                        firn_error *err) {
    (void)err;
    size_t w = 0;
    for (size_t i = 0; i < md->nproperties; i++) {
        bool drop = false;
        for (size_t k = 0; k < n && !drop; k++) drop = keys[k] && strcmp(keys[k], md->properties[i].key) == 0;
        if (!drop) md->properties[w++] = md->properties[i];
    }
    md->nproperties = w;
    return 0;
}

int firn_ice_metadata_append_metadata_log(firn_ice_metadata *md, int64_t timestamp_ms,
                                          const char *metadata_file, firn_error *err) {
    if (!metadata_file || !*metadata_file || !firn_ice_json_safe(metadata_file))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "metadata-log: no (valid UTF-8) metadata file given");
    int64_t max = firn_ice_metadata_property_int(md, "write.metadata.previous-versions-max", 100);
    if (max < 1) max = 1;
    firn_ice_metadata_log_entry e = {timestamp_ms, firn_arena_strdup(&md->arena, metadata_file)};
    ICE_PUSH(md, metadata_log, nmetadata_log, cap_metadata_log, e);
    if (md->nmetadata_log > (size_t)max) {
        size_t drop = md->nmetadata_log - (size_t)max;
        memmove(md->metadata_log, md->metadata_log + drop, (size_t)max * sizeof *md->metadata_log);
        md->nmetadata_log = (size_t)max;
    }
    return 0;
}

/* ------------------------------------------------------------- statistics */

static int set_statistics(firn_ice_metadata *md, const char **field, const json_t *stat,
                          const char *what, firn_error *err) {
    int64_t sid;
    if (firn_ice_json_expect_object(stat, what, "a statistics file", err) ||
        firn_ice_json_req_i64(stat, "snapshot-id", what, &sid, err))
        return -err->kind;
    json_t *arr = *field ? json_loads(*field, 0, NULL) : NULL;
    if (!arr) arr = json_array();
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        json_t *s = json_object_get(e, "snapshot-id");
        if (!(json_is_integer(s) && json_integer_value(s) == sid)) json_array_append(out, e);
    }
    json_array_append(out, (json_t *)stat);
    *field = firn_ice_json_text(&md->arena, out);
    json_decref(out);
    json_decref(arr);
    return 0;
}

/* ----------------------------------------------------- REST update objects */

static int update_error(firn_error *err, const char *action) {
    return firn_ice_error_prefix(err, "table update '%s'", action);
}

/* A new spec from an add-spec object whose fields may lack field ids: ids of
 * equivalent historical fields are reused, others continue last-partition-id. */
static firn_ice_partition_spec *spec_from_update(firn_arena *a, firn_ice_metadata *md,
                                                 const json_t *sj, firn_error *err) {
    firn_ice_partition_spec *s = firn_ice_partition_spec_from_json(a, sj, "spec", err);
    if (!s) return NULL;
    json_t *fields = json_object_get(sj, "fields");
    int32_t last = md->last_partition_id;
    firn_ice_partition_field *f = (firn_ice_partition_field *)s->fields;
    for (size_t i = 0; i < s->nfields; i++) {
        json_t *fj = json_array_get(fields, i);
        if (json_object_get(fj, "field-id")) continue;
        int32_t id = 0;
        for (size_t k = 0; k < md->nspecs && !id && md->format_version >= 2; k++)
            for (size_t m = 0; m < md->specs[k]->nfields; m++) {
                const firn_ice_partition_field *h = &md->specs[k]->fields[m];
                if (h->source_id == f[i].source_id &&
                    firn_ice_transform_equal(&h->transform, &f[i].transform))
                    id = h->field_id;
            }
        f[i].field_id = id ? id : ++last;
    }
    return s;
}

int firn_ice_metadata_apply_update_json(firn_ice_metadata *md, const json_t *u, firn_error *err) {
    ICE_ERR_GUARD(err);
    const char *action;
    firn_arena tmp;
    firn_arena_init(&tmp, 4096);
    int rc = 0;
    if (firn_ice_json_expect_object(u, "update", "a table update", err) ||
        firn_ice_json_req_str(&tmp, u, "action", "update", &action, err)) {
        rc = -err->kind;
        goto done;
    }
    if (strcmp(action, "assign-uuid") == 0) {
        const char *uuid;
        if ((rc = firn_ice_json_req_str(&tmp, u, "uuid", "update", &uuid, err))) goto fail;
        rc = firn_ice_metadata_assign_uuid(md, uuid, err);
    } else if (strcmp(action, "upgrade-format-version") == 0) {
        int32_t v;
        if ((rc = firn_ice_json_req_i32(u, "format-version", "update", &v, err))) goto fail;
        rc = firn_ice_metadata_upgrade_format_version(md, v, err);
    } else if (strcmp(action, "add-schema") == 0) {
        firn_ice_schema *s = firn_ice_schema_from_json(&tmp, json_object_get(u, "schema"), "schema", err);
        if (!s) goto fail_kind;
        int32_t last = -1;
        bool have;
        if ((rc = firn_ice_json_opt_i32(u, "last-column-id", "update", &last, &have, err))) goto fail;
        if ((rc = firn_ice_metadata_add_schema(md, s, NULL, err))) goto fail;
        if (have && last > md->last_column_id) md->last_column_id = last;
    } else if (strcmp(action, "set-current-schema") == 0) {
        int32_t id;
        if ((rc = firn_ice_json_req_i32(u, "schema-id", "update", &id, err))) goto fail;
        rc = firn_ice_metadata_set_current_schema(md, id, err);
    } else if (strcmp(action, "add-spec") == 0) {
        firn_ice_partition_spec *s = spec_from_update(&tmp, md, json_object_get(u, "spec"), err);
        if (!s) goto fail_kind;
        rc = firn_ice_metadata_add_partition_spec(md, s, NULL, err);
    } else if (strcmp(action, "set-default-spec") == 0) {
        int32_t id;
        if ((rc = firn_ice_json_req_i32(u, "spec-id", "update", &id, err))) goto fail;
        rc = firn_ice_metadata_set_default_spec(md, id, err);
    } else if (strcmp(action, "add-sort-order") == 0) {
        firn_ice_sort_order *o =
            firn_ice_sort_order_from_json(&tmp, json_object_get(u, "sort-order"), "sort-order", err);
        if (!o) goto fail_kind;
        rc = firn_ice_metadata_add_sort_order(md, o, NULL, err);
    } else if (strcmp(action, "set-default-sort-order") == 0) {
        int32_t id;
        if ((rc = firn_ice_json_req_i32(u, "sort-order-id", "update", &id, err))) goto fail;
        rc = firn_ice_metadata_set_default_sort_order(md, id, err);
    } else if (strcmp(action, "add-snapshot") == 0) {
        firn_ice_snapshot *s =
            firn_ice_snapshot_from_json(&tmp, json_object_get(u, "snapshot"), "snapshot", err);
        if (!s) goto fail_kind;
        rc = firn_ice_metadata_add_snapshot(md, s, err);
    } else if (strcmp(action, "set-snapshot-ref") == 0) {
        const char *name;
        if ((rc = firn_ice_json_req_str(&tmp, u, "ref-name", "update", &name, err))) goto fail;
        json_t *body = json_copy((json_t *)u);
        json_object_del(body, "action");
        json_object_del(body, "ref-name");
        firn_ice_ref *r = firn_ice_ref_from_json(&tmp, name, body, "update", err);
        json_decref(body);
        if (!r) goto fail_kind;
        rc = firn_ice_metadata_set_snapshot_ref(md, r, err);
    } else if (strcmp(action, "remove-snapshot-ref") == 0) {
        const char *name;
        if ((rc = firn_ice_json_req_str(&tmp, u, "ref-name", "update", &name, err))) goto fail;
        rc = firn_ice_metadata_remove_snapshot_ref(md, name, err);
    } else if (strcmp(action, "remove-snapshots") == 0) {
        json_t *arr;
        if ((rc = firn_ice_json_req_array(u, "snapshot-ids", "update", &arr, err))) goto fail;
        size_t n = json_array_size(arr);
        int64_t *ids = firn_arena_alloc(&tmp, (n ? n : 1) * sizeof *ids);
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_array_get(arr, i);
            if (!json_is_integer(v)) {
                rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "snapshot-ids[%zu]: expected a snapshot id, got %s",
                                i, firn_ice_json_type_name(v));
                goto fail;
            }
            ids[i] = json_integer_value(v);
        }
        rc = firn_ice_metadata_remove_snapshots(md, ids, n, err);
    } else if (strcmp(action, "set-properties") == 0) {
        firn_ice_kv *kv;
        size_t n;
        json_t *upd = json_object_get(u, "updates");
        if (!upd) {
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "update: missing required field 'updates'");
            goto fail;
        }
        if ((rc = firn_ice_json_string_map(&tmp, upd, "updates", &kv, &n, err))) goto fail;
        rc = firn_ice_metadata_set_properties(md, kv, n, err);
    } else if (strcmp(action, "remove-properties") == 0) {
        json_t *arr;
        if ((rc = firn_ice_json_req_array(u, "removals", "update", &arr, err))) goto fail;
        size_t n = json_array_size(arr);
        const char **keys = firn_arena_alloc(&tmp, (n ? n : 1) * sizeof *keys);
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_array_get(arr, i);
            if (!json_is_string(v)) {
                rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "removals[%zu]: expected a property name, got %s",
                                i, firn_ice_json_type_name(v));
                goto fail;
            }
            keys[i] = json_string_value(v);
        }
        rc = firn_ice_metadata_remove_properties(md, keys, n, err);
    } else if (strcmp(action, "set-location") == 0) {
        const char *loc;
        if ((rc = firn_ice_json_req_str(&tmp, u, "location", "update", &loc, err))) goto fail;
        rc = firn_ice_metadata_set_location(md, loc, err);
    } else if (strcmp(action, "set-statistics") == 0 ||
               strcmp(action, "set-partition-statistics") == 0) {
        bool part = action[4] == 'p';
        const char *key = part ? "partition-statistics" : "statistics";
        rc = set_statistics(md, part ? &md->partition_statistics_json : &md->statistics_json,
                            json_object_get(u, key), key, err);
    } else if (strcmp(action, "remove-statistics") == 0 ||
               strcmp(action, "remove-partition-statistics") == 0) {
        int64_t sid;
        if ((rc = firn_ice_json_req_i64(u, "snapshot-id", "update", &sid, err))) goto fail;
        if (action[7] == 'p')
            md->partition_statistics_json = filter_statistics(&md->arena, md->partition_statistics_json, &sid, 1);
        else
            md->statistics_json = filter_statistics(&md->arena, md->statistics_json, &sid, 1);
    } else {
        rc = FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "table update '%s' is not supported by firn", action);
        goto done;
    }
    if (rc) goto fail;
    goto done;
fail_kind:
    rc = -err->kind;
fail:
    update_error(err, action);
done:
    firn_arena_release(&tmp);
    return rc;
}
