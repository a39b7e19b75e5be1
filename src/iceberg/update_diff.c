/*
 * update_diff.c - the REST commit (requirements + updates) that turns one
 * table metadata into another: what a REST catalog client sends instead of a
 * new metadata file.
 *
 * Works on the two metadata JSON documents. Objects are matched by id
 * (schema-id, spec-id, order-id, snapshot-id) and refs by name. The server
 * may give an added schema/spec/order another id (it reuses the id of an
 * equal one), so a new current schema/spec/order that was just added is set
 * with -1 ("the last added"), as Java's MetadataUpdate does.
 */
#include "iceberg/iceberg_internal.h"

#include <string.h>

/* The element of array arr whose key equals id, or NULL. */
static json_t *find_by_id(const json_t *arr, const char *key, json_int_t id) {
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        json_t *v = json_object_get(e, key);
        if (json_is_integer(v) && json_integer_value(v) == id) return e;
    }
    return NULL;
}

static json_int_t int_of(const json_t *o, const char *key, json_int_t dflt) {
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static void push(json_t *arr, json_t *obj) { json_array_append_new(arr, obj); }

/* Add the elements of next's array that base lacks (by id key) with
 * action/member; returns whether any was added and whether current_id (the
 * next current/default id) is one of them. */
static bool add_new(json_t *updates, const json_t *barr, const json_t *narr, const char *key,
                    const char *action, const char *member, json_int_t current_id,
                    bool *current_added, const json_t *extra_last_column_id) {
    bool any = false;
    size_t i;
    json_t *e;
    *current_added = false;
    json_array_foreach(narr, i, e) {
        json_int_t id = int_of(e, key, -1);
        if (find_by_id(barr, key, id)) continue;
        json_t *u = json_pack("{s:s, s:O}", "action", action, member, e);
        if (extra_last_column_id)
            json_object_set(u, "last-column-id", (json_t *)extra_last_column_id);
        push(updates, u);
        any = true;
        if (id == current_id) *current_added = true;
    }
    return any;
}

int firn_ice_metadata_diff(const firn_ice_metadata *base, const firn_ice_metadata *next,
                           json_t **requirements_out, json_t **updates_out, firn_error *err) {
    *requirements_out = *updates_out = NULL;
    json_t *b = firn_ice_metadata_to_json(base);
    json_t *n = firn_ice_metadata_to_json(next);
    json_t *req = json_array(), *up = json_array();
    int rc = 0;
    if (!b || !n) {
        rc = FIRN_RAISE(err, FIRN_ERR_INTERNAL, "metadata diff: cannot serialize metadata");
        goto done;
    }
    if (strcmp(base->table_uuid, next->table_uuid) != 0) {
        rc = FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                        "metadata diff: the table uuid changed (%s -> %s): a REST commit cannot "
                        "replace a table",
                        base->table_uuid, next->table_uuid);
        goto done;
    }
    if (base->table_uuid[0])
        push(req, json_pack("{s:s, s:s}", "type", "assert-table-uuid", "uuid", base->table_uuid));

    if (next->format_version != base->format_version)
        push(up, json_pack("{s:s, s:i}", "action", "upgrade-format-version", "format-version",
                           next->format_version));

    /* schemas */
    bool added;
    json_t *lcid = json_integer(next->last_column_id);
    bool schemas = add_new(up, json_object_get(b, "schemas"), json_object_get(n, "schemas"),
                           "schema-id", "add-schema", "schema", next->current_schema_id, &added,
                           lcid);
    json_decref(lcid);
    if (next->current_schema_id != base->current_schema_id || added)
        push(up, json_pack("{s:s, s:i}", "action", "set-current-schema", "schema-id",
                           added ? -1 : next->current_schema_id));
    if (schemas || next->current_schema_id != base->current_schema_id) {
        push(req, json_pack("{s:s, s:i}", "type", "assert-current-schema-id", "current-schema-id",
                            base->current_schema_id));
        push(req, json_pack("{s:s, s:i}", "type", "assert-last-assigned-field-id",
                            "last-assigned-field-id", base->last_column_id));
    }

    /* partition specs */
    bool specs = add_new(up, json_object_get(b, "partition-specs"),
                         json_object_get(n, "partition-specs"), "spec-id", "add-spec", "spec",
                         next->default_spec_id, &added, NULL);
    if (next->default_spec_id != base->default_spec_id || added)
        push(up, json_pack("{s:s, s:i}", "action", "set-default-spec", "spec-id",
                           added ? -1 : next->default_spec_id));
    if (specs || next->default_spec_id != base->default_spec_id) {
        push(req, json_pack("{s:s, s:i}", "type", "assert-last-assigned-partition-id",
                            "last-assigned-partition-id", base->last_partition_id));
        push(req, json_pack("{s:s, s:i}", "type", "assert-default-spec-id", "default-spec-id",
                            base->default_spec_id));
    }

    /* sort orders */
    bool orders = add_new(up, json_object_get(b, "sort-orders"), json_object_get(n, "sort-orders"),
                          "order-id", "add-sort-order", "sort-order", next->default_sort_order_id,
                          &added, NULL);
    if (next->default_sort_order_id != base->default_sort_order_id || added)
        push(up, json_pack("{s:s, s:i}", "action", "set-default-sort-order", "sort-order-id",
                           added ? -1 : next->default_sort_order_id));
    if (orders || next->default_sort_order_id != base->default_sort_order_id)
        push(req, json_pack("{s:s, s:i}", "type", "assert-default-sort-order-id",
                            "default-sort-order-id", base->default_sort_order_id));

    /* snapshots: removed, then added in next's order */
    json_t *bsnaps = json_object_get(b, "snapshots"), *nsnaps = json_object_get(n, "snapshots");
    json_t *removed = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(bsnaps, i, e) {
        json_int_t id = int_of(e, "snapshot-id", -1);
        if (!find_by_id(nsnaps, "snapshot-id", id)) json_array_append_new(removed, json_integer(id));
    }
    if (json_array_size(removed))
        push(up, json_pack("{s:s, s:o}", "action", "remove-snapshots", "snapshot-ids", removed));
    else
        json_decref(removed);
    json_array_foreach(nsnaps, i, e) {
        if (!find_by_id(bsnaps, "snapshot-id", int_of(e, "snapshot-id", -1)))
            push(up, json_pack("{s:s, s:O}", "action", "add-snapshot", "snapshot", e));
    }

    /* refs: removed, then set (changed or new), each guarded by its base value */
    for (size_t k = 0; k < base->nrefs; k++) {
        const firn_ice_ref *r = base->refs[k];
        if (firn_ice_metadata_ref(next, r->name)) continue;
        push(req, json_pack("{s:s, s:s, s:I}", "type", "assert-ref-snapshot-id", "ref", r->name,
                            "snapshot-id", (json_int_t)r->snapshot_id));
        push(up, json_pack("{s:s, s:s}", "action", "remove-snapshot-ref", "ref-name", r->name));
    }
    for (size_t k = 0; k < next->nrefs; k++) {
        const firn_ice_ref *r = next->refs[k];
        const firn_ice_ref *old = firn_ice_metadata_ref(base, r->name);
        json_t *rj = firn_ice_ref_to_json(r);
        json_t *oj = old ? firn_ice_ref_to_json(old) : NULL;
        bool same = oj && json_equal(rj, oj);
        json_decref(oj);
        if (same) {
            json_decref(rj);
            continue;
        }
        push(req, json_pack("{s:s, s:s, s:o}", "type", "assert-ref-snapshot-id", "ref", r->name,
                            "snapshot-id",
                            old ? json_integer(old->snapshot_id) : json_null()));
        json_object_set_new(rj, "action", json_string("set-snapshot-ref"));
        json_object_set_new(rj, "ref-name", json_string(r->name));
        push(up, rj);
    }

    /* properties */
    json_t *bp = json_object_get(b, "properties"), *np = json_object_get(n, "properties");
    json_t *set = json_object(), *gone = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(np, key, v) {
        json_t *old = json_object_get(bp, key);
        if (!old || !json_equal(old, v)) json_object_set(set, key, v);
    }
    json_object_foreach(bp, key, v) {
        if (!json_object_get(np, key)) json_array_append_new(gone, json_string(key));
    }
    if (json_object_size(set))
        push(up, json_pack("{s:s, s:O}", "action", "set-properties", "updates", set));
    if (json_array_size(gone))
        push(up, json_pack("{s:s, s:O}", "action", "remove-properties", "removals", gone));
    json_decref(set);
    json_decref(gone);

    if (strcmp(base->location, next->location) != 0)
        push(up, json_pack("{s:s, s:s}", "action", "set-location", "location", next->location));

    const char *bs = base->statistics_json ? base->statistics_json : "";
    const char *ns = next->statistics_json ? next->statistics_json : "";
    const char *bps = base->partition_statistics_json ? base->partition_statistics_json : "";
    const char *nps = next->partition_statistics_json ? next->partition_statistics_json : "";
    if (strcmp(bs, ns) != 0 || strcmp(bps, nps) != 0) {
        rc = FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                        "metadata diff: statistics files changed; firn's REST commits do not "
                        "carry set-statistics yet");
        goto done;
    }
    *requirements_out = req;
    *updates_out = up;
    req = up = NULL;
done:
    json_decref(req);
    json_decref(up);
    json_decref(b);
    json_decref(n);
    return rc;
}
