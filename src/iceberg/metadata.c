/*
 * metadata.c - table metadata JSON (vN.metadata.json): parsing v1 and v2 into
 * one model, validation, writing v2 (and v1) the way Java's
 * TableMetadataParser does, and keeping the keys other engines add.
 */
#include "iceberg/iceberg_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static const char *const metadata_keys[] = {
    "format-version",  "table-uuid",          "location",
    "last-sequence-number", "last-updated-ms", "last-column-id",
    "schema",          "schemas",             "current-schema-id",
    "partition-spec",  "partition-specs",     "default-spec-id",
    "last-partition-id", "sort-orders",       "default-sort-order-id",
    "properties",      "current-snapshot-id", "refs",
    "snapshots",       "statistics",          "partition-statistics",
    "snapshot-log",    "metadata-log",        NULL};

firn_ice_metadata *firn_ice_metadata_alloc(void) {
    firn_ice_metadata *md = firn_xcalloc(1, sizeof *md);
    firn_arena_init(&md->arena, 32 * 1024);
    md->current_snapshot_id = -1;
    md->last_added_schema_id = md->last_added_spec_id = md->last_added_sort_order_id = -1;
    return md;
}

void firn_ice_metadata_free(firn_ice_metadata *md) {
    if (!md) return;
    free(md->schemas);
    free(md->specs);
    free(md->sort_orders);
    free(md->properties);
    free(md->snapshots);
    free(md->snapshot_log);
    free(md->metadata_log);
    free(md->refs);
    firn_arena_release(&md->arena);
    free(md);
}

#define PUSH ICE_PUSH

/* ---------------------------------------------------------------- lookups */

const firn_ice_schema *firn_ice_metadata_schema(const firn_ice_metadata *md, int32_t id) {
    for (size_t i = 0; i < md->nschemas; i++)
        if (md->schemas[i]->schema_id == id) return md->schemas[i];
    return NULL;
}

const firn_ice_schema *firn_ice_metadata_current_schema(const firn_ice_metadata *md) {
    return firn_ice_metadata_schema(md, md->current_schema_id);
}

const firn_ice_partition_spec *firn_ice_metadata_spec(const firn_ice_metadata *md, int32_t id) {
    for (size_t i = 0; i < md->nspecs; i++)
        if (md->specs[i]->spec_id == id) return md->specs[i];
    return NULL;
}

const firn_ice_partition_spec *firn_ice_metadata_default_spec(const firn_ice_metadata *md) {
    return firn_ice_metadata_spec(md, md->default_spec_id);
}

const firn_ice_sort_order *firn_ice_metadata_sort_order(const firn_ice_metadata *md, int32_t id) {
    for (size_t i = 0; i < md->nsort_orders; i++)
        if (md->sort_orders[i]->order_id == id) return md->sort_orders[i];
    return NULL;
}

const firn_ice_sort_order *firn_ice_metadata_default_sort_order(const firn_ice_metadata *md) {
    return firn_ice_metadata_sort_order(md, md->default_sort_order_id);
}

const firn_ice_snapshot *firn_ice_metadata_snapshot(const firn_ice_metadata *md, int64_t id) {
    for (size_t i = 0; i < md->nsnapshots; i++)
        if (md->snapshots[i]->snapshot_id == id) return md->snapshots[i];
    return NULL;
}

const firn_ice_snapshot *firn_ice_metadata_current_snapshot(const firn_ice_metadata *md) {
    if (md->current_snapshot_id == -1) return NULL;
    return firn_ice_metadata_snapshot(md, md->current_snapshot_id);
}

const firn_ice_ref *firn_ice_metadata_ref(const firn_ice_metadata *md, const char *name) {
    for (size_t i = 0; i < md->nrefs; i++)
        if (strcmp(md->refs[i]->name, name) == 0) return md->refs[i];
    return NULL;
}

const char *firn_ice_metadata_property(const firn_ice_metadata *md, const char *key) {
    for (size_t i = 0; i < md->nproperties; i++)
        if (strcmp(md->properties[i].key, key) == 0) return md->properties[i].value;
    return NULL;
}

int64_t firn_ice_metadata_property_int(const firn_ice_metadata *md, const char *key, int64_t dflt) {
    const char *v = firn_ice_metadata_property(md, key);
    if (!v || !*v) return dflt;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end) return dflt;
    return x;
}

/* ------------------------------------------------------------------- uuids */

void firn_ice_uuid4(uint8_t out[16]) {
    size_t got = 0;
    while (got < 16) {
        ssize_t n = getrandom(out + got, 16 - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            /* no getrandom: fall back to the clock mixed with the pid */
            uint64_t a = firn_now_ns() ^ ((uint64_t)getpid() << 32), b = a * 0x9E3779B97F4A7C15u;
            firn_store_le64(out, a);
            firn_store_le64(out + 8, b);
            break;
        }
        got += (size_t)n;
    }
    out[6] = (uint8_t)((out[6] & 0x0F) | 0x40);
    out[8] = (uint8_t)((out[8] & 0x3F) | 0x80);
}

int64_t firn_ice_metadata_new_snapshot_id(const firn_ice_metadata *md) {
    for (;;) {
        uint8_t u[16];
        firn_ice_uuid4(u);
        uint64_t msb = 0, lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = msb << 8 | u[i];
            lsb = lsb << 8 | u[8 + i];
        }
        int64_t id = (int64_t)((msb ^ lsb) & (uint64_t)INT64_MAX);
        if (id != 0 && (!md || !firn_ice_metadata_snapshot(md, id))) return id;
    }
}

/* ------------------------------------------------------------- validation */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int check_unique_ids(const firn_ice_metadata *md, firn_error *err) {
    for (size_t i = 0; i < md->nschemas; i++)
        for (size_t k = 0; k < i; k++)
            if (md->schemas[i]->schema_id == md->schemas[k]->schema_id)
                return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "schemas: two schemas have schema-id %d",
                                  md->schemas[i]->schema_id);
    for (size_t i = 0; i < md->nspecs; i++)
        for (size_t k = 0; k < i; k++)
            if (md->specs[i]->spec_id == md->specs[k]->spec_id)
                return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                                  "partition-specs: two specs have spec-id %d", md->specs[i]->spec_id);
    for (size_t i = 0; i < md->nsort_orders; i++)
        for (size_t k = 0; k < i; k++)
            if (md->sort_orders[i]->order_id == md->sort_orders[k]->order_id)
                return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                                  "sort-orders: two sort orders have order-id %d",
                                  md->sort_orders[i]->order_id);
    /* snapshots: sort a copy of the ids to find duplicates in O(n log n) */
    if (md->nsnapshots > 1) {
        int64_t *ids = firn_xmalloc(md->nsnapshots * sizeof *ids);
        for (size_t i = 0; i < md->nsnapshots; i++) ids[i] = md->snapshots[i]->snapshot_id;
        qsort(ids, md->nsnapshots, sizeof *ids, cmp_i64);
        int rc = 0;
        for (size_t i = 1; i < md->nsnapshots; i++)
            if (ids[i] == ids[i - 1]) {
                rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT, "snapshots: snapshot id %lld appears twice",
                                (long long)ids[i]);
                break;
            }
        free(ids);
        if (rc) return rc;
    }
    return 0;
}

/* The first field (depth-first) whose type needs a newer format version than
 * `version`, or NULL: timestamp_ns and timestamptz_ns are v3 types. */
static const firn_ice_field *field_needing_newer_format(const firn_ice_type *t, int version) {
    if (!t || version >= 3) return NULL;
    const firn_ice_field *children[3] = {t->element, t->key, t->value};
    for (size_t i = 0; i < t->nfields; i++) {
        const firn_ice_field *f = &t->fields[i];
        if (f->type && (f->type->id == FIRN_ICE_TIMESTAMP_NS || f->type->id == FIRN_ICE_TIMESTAMPTZ_NS))
            return f;
        const firn_ice_field *g = field_needing_newer_format(f->type, version);
        if (g) return g;
    }
    for (size_t i = 0; i < 3; i++) {
        const firn_ice_field *f = children[i];
        if (!f) continue;
        if (f->type && (f->type->id == FIRN_ICE_TIMESTAMP_NS || f->type->id == FIRN_ICE_TIMESTAMPTZ_NS))
            return f;
        const firn_ice_field *g = field_needing_newer_format(f->type, version);
        if (g) return g;
    }
    return NULL;
}

int firn_ice_metadata_validate(const firn_ice_metadata *md, firn_error *err) {
    ICE_ERR_GUARD(err);
    int rc;
    if (md->format_version < 1 || md->format_version > FIRN_ICE_MAX_FORMAT_VERSION)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "format-version %d is not supported",
                          md->format_version);
    if (md->format_version >= 2 && !firn_ice_uuid_valid(md->table_uuid))
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "table-uuid: '%s' is not a UUID", md->table_uuid);
    if (!md->location || !*md->location)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "location: must not be empty");
    if ((rc = check_unique_ids(md, err))) return rc;
    for (size_t i = 0; i < md->nschemas; i++) {
        const firn_ice_field *f = field_needing_newer_format(md->schemas[i]->type, md->format_version);
        char tb[64];
        if (f)
            return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                              "schemas[%zu]: column '%s' (id %d) is %s, which needs format-version 3 "
                              "(this table is format-version %d)",
                              i, f->name, f->id, firn_ice_type_to_string(f->type, tb, sizeof tb), md->format_version);
    }
    const firn_ice_schema *cur = firn_ice_metadata_current_schema(md);
    if (!cur)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "current-schema-id: %d is not the id of any schema in 'schemas'",
                          md->current_schema_id);
    const firn_ice_partition_spec *spec = firn_ice_metadata_default_spec(md);
    if (!spec)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "default-spec-id: %d is not the id of any spec in 'partition-specs'",
                          md->default_spec_id);
    if (firn_ice_partition_spec_validate(spec, cur, err)) {
        err->kind = FIRN_ERR_CORRUPT;
        return firn_ice_error_prefix(err, "default partition spec %d does not fit current schema %d",
                                     spec->spec_id, cur->schema_id);
    }
    const firn_ice_sort_order *order = firn_ice_metadata_default_sort_order(md);
    if (!order)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "default-sort-order-id: %d is not the id of any order in 'sort-orders'",
                          md->default_sort_order_id);
    if (firn_ice_sort_order_validate(order, cur, err)) {
        err->kind = FIRN_ERR_CORRUPT;
        return firn_ice_error_prefix(err, "default sort order %d does not fit current schema %d",
                                     order->order_id, cur->schema_id);
    }
    int32_t highest = 0;
    for (size_t i = 0; i < md->nschemas; i++) {
        int32_t h = firn_ice_schema_highest_field_id(md->schemas[i]);
        if (h > highest) highest = h;
    }
    if (md->last_column_id < highest)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "last-column-id: %d is below the highest field id %d in the schemas",
                          md->last_column_id, highest);
    if (md->format_version >= 2)
        for (size_t i = 0; i < md->nspecs; i++) {
            int32_t l = firn_ice_partition_spec_last_field_id(md->specs[i]);
            if (l > md->last_partition_id)
                return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                                  "last-partition-id: %d is below field id %d of partition spec %d",
                                  md->last_partition_id, l, md->specs[i]->spec_id);
        }
    for (size_t i = 0; i < md->nsnapshots; i++) {
        const firn_ice_snapshot *s = md->snapshots[i];
        if (s->has_schema_id && !firn_ice_metadata_schema(md, s->schema_id))
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "snapshots[%zu]: snapshot %lld refers to unknown schema-id %d", i,
                              (long long)s->snapshot_id, s->schema_id);
        if (md->format_version >= 2 && s->sequence_number > md->last_sequence_number)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "snapshots[%zu]: sequence-number %lld of snapshot %lld is above "
                              "last-sequence-number %lld",
                              i, (long long)s->sequence_number, (long long)s->snapshot_id,
                              (long long)md->last_sequence_number);
        /* v2 requires manifest-list, but tables upgraded from v1 (Java) may keep snapshots
         * with embedded "manifests": accepted on read, never produced by add-snapshot */
    }
    if (md->current_snapshot_id != -1 && !firn_ice_metadata_snapshot(md, md->current_snapshot_id))
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "current-snapshot-id: snapshot %lld is not in 'snapshots'",
                          (long long)md->current_snapshot_id);
    for (size_t i = 0; i < md->nrefs; i++) {
        const firn_ice_ref *r = md->refs[i];
        if (!firn_ice_metadata_snapshot(md, r->snapshot_id))
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "refs.%s: snapshot %lld is not in 'snapshots'",
                              r->name, (long long)r->snapshot_id);
        for (size_t k = 0; k < i; k++)
            if (strcmp(md->refs[k]->name, r->name) == 0)
                return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "refs: '%s' appears twice", r->name);
    }
    const firn_ice_ref *main = firn_ice_metadata_ref(md, FIRN_ICE_MAIN_BRANCH);
    if (main && main->type != FIRN_ICE_REF_BRANCH)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "refs.main: main must be a branch, not a tag");
    if (main && main->snapshot_id != md->current_snapshot_id)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "current-snapshot-id %lld does not match refs.main snapshot-id %lld",
                          (long long)md->current_snapshot_id, (long long)main->snapshot_id);
    if (!main && md->current_snapshot_id != -1)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "current-snapshot-id is %lld but refs has no main branch",
                          (long long)md->current_snapshot_id);
    return 0;
}

/* ---------------------------------------------------------------- parsing */

static int parse_log_entries(firn_ice_metadata *md, const json_t *j, unsigned pre,
                             firn_error *err) {
    json_t *arr = NULL;
    int rc;
    char p[ICE_PATH_MAX];
    if (!(pre & FIRN_ICE_PRE_SNAPSHOT_LOG) &&
        (rc = firn_ice_json_opt_array(j, "snapshot-log", "", &arr, err)))
        return rc;
    for (size_t i = 0; arr && i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        firn_ice_path_index(p, "snapshot-log", i);
        firn_ice_snapshot_log_entry le;
        if ((rc = firn_ice_json_expect_object(e, p, "a snapshot-log entry", err)) ||
            (rc = firn_ice_json_req_i64(e, "timestamp-ms", p, &le.timestamp_ms, err)) ||
            (rc = firn_ice_json_req_i64(e, "snapshot-id", p, &le.snapshot_id, err)))
            return rc;
        PUSH(md, snapshot_log, nsnapshot_log, cap_snapshot_log, le);
    }
    arr = NULL;
    if (!(pre & FIRN_ICE_PRE_METADATA_LOG) &&
        (rc = firn_ice_json_opt_array(j, "metadata-log", "", &arr, err)))
        return rc;
    for (size_t i = 0; arr && i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        firn_ice_path_index(p, "metadata-log", i);
        firn_ice_metadata_log_entry le;
        if ((rc = firn_ice_json_expect_object(e, p, "a metadata-log entry", err)) ||
            (rc = firn_ice_json_req_i64(e, "timestamp-ms", p, &le.timestamp_ms, err)) ||
            (rc = firn_ice_json_req_str(&md->arena, e, "metadata-file", p, &le.metadata_file, err)))
            return rc;
        PUSH(md, metadata_log, nmetadata_log, cap_metadata_log, le);
    }
    return 0;
}

static int parse_statistics(firn_ice_metadata *md, const json_t *j, const char *key,
                            const char **out, firn_error *err) {
    json_t *arr;
    int rc = firn_ice_json_opt_array(j, key, "", &arr, err);
    if (rc) return rc;
    *out = NULL;
    if (!arr || json_array_size(arr) == 0) return 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        char p[ICE_PATH_MAX];
        int64_t sid;
        firn_ice_path_index(p, key, i);
        if ((rc = firn_ice_json_expect_object(e, p, "a statistics file", err)) ||
            (rc = firn_ice_json_req_i64(e, "snapshot-id", p, &sid, err)))
            return rc;
    }
    *out = firn_ice_json_text(&md->arena, arr);
    return 0;
}

int firn_ice_metadata_parse_body(firn_ice_metadata *md, const json_t *j, unsigned pre,
                                 firn_error *err) {
    firn_arena *a = &md->arena;
    int rc;
    char p[ICE_PATH_MAX];
    if ((rc = firn_ice_json_expect_object(j, "", "table metadata", err))) return rc;
    int32_t fv;
    if ((rc = firn_ice_json_req_i32(j, "format-version", "", &fv, err))) return rc;
    if (fv > FIRN_ICE_MAX_FORMAT_VERSION)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "format-version %d is not supported (firn reads v1 and v2)", fv);
    if (fv < 1) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "format-version: invalid version %d", fv);
    md->format_version = fv;
    bool v2 = fv >= 2;

    const char *uuid;
    if ((rc = v2 ? firn_ice_json_req_str(a, j, "table-uuid", "", &uuid, err)
                 : firn_ice_json_opt_str(a, j, "table-uuid", "", &uuid, err)))
        return rc;
    if (uuid) {
        if (!firn_ice_uuid_valid(uuid))
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "table-uuid: '%.64s' is not a UUID", uuid);
        for (int i = 0; i < 36; i++) md->table_uuid[i] = (char)tolower((unsigned char)uuid[i]);
        md->table_uuid[36] = '\0';
    }
    if ((rc = firn_ice_json_req_str(a, j, "location", "", &md->location, err))) return rc;
    if (v2) {
        if ((rc = firn_ice_json_req_i64(j, "last-sequence-number", "", &md->last_sequence_number, err)))
            return rc;
        if (md->last_sequence_number < 0)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "last-sequence-number: negative value %lld",
                              (long long)md->last_sequence_number);
    }
    if ((rc = firn_ice_json_req_i64(j, "last-updated-ms", "", &md->last_updated_ms, err)) ||
        (rc = firn_ice_json_req_i32(j, "last-column-id", "", &md->last_column_id, err)))
        return rc;

    /* schemas */
    json_t *arr;
    if ((rc = firn_ice_json_opt_array(j, "schemas", "", &arr, err))) return rc;
    if (arr) {
        if ((rc = firn_ice_json_req_i32(j, "current-schema-id", "", &md->current_schema_id, err)))
            return rc;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            firn_ice_schema *s =
                firn_ice_schema_from_json(a, json_array_get(arr, i), firn_ice_path_index(p, "schemas", i), err);
            if (!s) return -err->kind;
            PUSH(md, schemas, nschemas, cap_schemas, s);
        }
    } else {
        if (v2) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "missing required field 'schemas'");
        json_t *sj = json_object_get(j, "schema");
        if (!sj || json_is_null(sj))
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "missing required field 'schema' (or 'schemas')");
        firn_ice_schema *s = firn_ice_schema_from_json(a, sj, "schema", err);
        if (!s) return -err->kind;
        PUSH(md, schemas, nschemas, cap_schemas, s);
        md->current_schema_id = s->schema_id;
    }
    if (!firn_ice_metadata_current_schema(md))
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "current-schema-id: %d is not the id of any schema in 'schemas'",
                          md->current_schema_id);

    /* partition specs */
    if ((rc = firn_ice_json_opt_array(j, "partition-specs", "", &arr, err))) return rc;
    if (arr) {
        if ((rc = firn_ice_json_req_i32(j, "default-spec-id", "", &md->default_spec_id, err)))
            return rc;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            firn_ice_partition_spec *s = firn_ice_partition_spec_from_json(
                a, json_array_get(arr, i), firn_ice_path_index(p, "partition-specs", i), err);
            if (!s) return -err->kind;
            PUSH(md, specs, nspecs, cap_specs, s);
        }
    } else {
        if (v2)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "missing required field 'partition-specs'");
        json_t *sj = json_object_get(j, "partition-spec");
        if (!sj || json_is_null(sj))
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "missing required field 'partition-spec' (or 'partition-specs')");
        firn_ice_partition_spec *s = firn_ice_partition_spec_from_json_fields(a, 0, sj, "partition-spec", err);
        if (!s) return -err->kind;
        PUSH(md, specs, nspecs, cap_specs, s);
        md->default_spec_id = 0;
    }
    bool have;
    if ((rc = firn_ice_json_opt_i32(j, "last-partition-id", "", &md->last_partition_id, &have, err)))
        return rc;
    if (!have) {
        if (v2)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "missing required field 'last-partition-id'");
        md->last_partition_id = FIRN_ICE_PARTITION_DATA_ID_START - 1;
        for (size_t i = 0; i < md->nspecs; i++) {
            int32_t l = firn_ice_partition_spec_last_field_id(md->specs[i]);
            if (l > md->last_partition_id) md->last_partition_id = l;
        }
    }

    /* sort orders */
    if ((rc = firn_ice_json_opt_array(j, "sort-orders", "", &arr, err))) return rc;
    if (arr) {
        if ((rc = firn_ice_json_req_i32(j, "default-sort-order-id", "", &md->default_sort_order_id, err)))
            return rc;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            firn_ice_sort_order *o = firn_ice_sort_order_from_json(
                a, json_array_get(arr, i), firn_ice_path_index(p, "sort-orders", i), err);
            if (!o) return -err->kind;
            PUSH(md, sort_orders, nsort_orders, cap_sort_orders, o);
        }
    } else {
        if (v2) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "missing required field 'sort-orders'");
        firn_ice_sort_order *o = firn_ice_sort_order_unsorted(a);
        PUSH(md, sort_orders, nsort_orders, cap_sort_orders, o);
        md->default_sort_order_id = 0;
    }

    /* properties */
    json_t *props = json_object_get(j, "properties");
    if (props && !json_is_null(props)) {
        firn_ice_kv *kv;
        size_t n;
        if ((rc = firn_ice_json_string_map(a, props, "properties", &kv, &n, err))) return rc;
        for (size_t i = 0; i < n; i++) PUSH(md, properties, nproperties, cap_properties, kv[i]);
    }

    /* snapshots */
    int64_t cur = -1;
    if ((rc = firn_ice_json_opt_i64(j, "current-snapshot-id", "", &cur, &have, err))) return rc;
    md->current_snapshot_id = have ? cur : -1;
    if (md->current_snapshot_id < -1)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "current-snapshot-id: invalid id %lld",
                          (long long)md->current_snapshot_id);
    arr = NULL;
    if (!(pre & FIRN_ICE_PRE_SNAPSHOTS) && (rc = firn_ice_json_opt_array(j, "snapshots", "", &arr, err)))
        return rc;
    for (size_t i = 0; arr && i < json_array_size(arr); i++) {
        firn_ice_snapshot *s =
            firn_ice_snapshot_from_json(a, json_array_get(arr, i), firn_ice_path_index(p, "snapshots", i), err);
        if (!s) return -err->kind;
        PUSH(md, snapshots, nsnapshots, cap_snapshots, s);
    }

    /* refs */
    json_t *refs = json_object_get(j, "refs");
    if (refs && !json_is_null(refs)) {
        if (!json_is_object(refs))
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "refs: expected an object, got %s",
                              firn_ice_json_type_name(refs));
        const char *name;
        json_t *rj;
        json_object_foreach(refs, name, rj) {
            firn_ice_ref *r = firn_ice_ref_from_json(a, name, rj, firn_ice_path_key(p, "refs", name), err);
            if (!r) return -err->kind;
            PUSH(md, refs, nrefs, cap_refs, r);
        }
    } else if (md->current_snapshot_id != -1) {
        firn_ice_ref *r = firn_arena_calloc(a, sizeof *r);
        *r = firn_ice_ref_make(FIRN_ICE_MAIN_BRANCH, md->current_snapshot_id, FIRN_ICE_REF_BRANCH);
        PUSH(md, refs, nrefs, cap_refs, r);
    }

    if ((rc = parse_statistics(md, j, "statistics", &md->statistics_json, err)) ||
        (rc = parse_statistics(md, j, "partition-statistics", &md->partition_statistics_json, err)) ||
        (rc = parse_log_entries(md, j, pre, err)))
        return rc;
    md->extra_json = firn_ice_json_extra(a, j, metadata_keys);
    return firn_ice_metadata_validate(md, err);
}

firn_ice_metadata *firn_ice_metadata_from_json(const json_t *j, firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_ice_metadata *md = firn_ice_metadata_alloc();
    if (firn_ice_metadata_parse_body(md, j, 0, err)) {
        firn_ice_error_prefix(err, "table metadata");
        firn_ice_metadata_free(md);
        return NULL;
    }
    return md;
}

firn_ice_metadata *firn_ice_metadata_parse(const char *text, size_t len, firn_error *err) {
    firn_ice_metadata *md = firn_ice_metadata_parse_fast(text, len);
    return md ? md : firn_ice_metadata_parse_jansson(text, len, err);
}

firn_ice_metadata *firn_ice_metadata_parse_jansson(const char *text, size_t len, firn_error *err) {
    ICE_ERR_GUARD(err);
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    if (!j) {
        FIRN_RAISE(err, FIRN_ERR_CORRUPT, "table metadata: not valid JSON: line %d column %d: %s",
                   je.line, je.column, je.text);
        return NULL;
    }
    firn_ice_metadata *md = firn_ice_metadata_from_json(j, err);
    json_decref(j);
    return md;
}

/* ---------------------------------------------------------------- writing */

static json_t *statistics_json(const char *text) {
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    return j ? j : json_array();
}

/* The keys before "snapshots", in Java's order. */
static json_t *firn_ice_metadata_to_json_head(const firn_ice_metadata *md) {
    json_t *o = json_object();
    json_object_set_new(o, "format-version", json_integer(md->format_version));
    if (md->table_uuid[0]) json_object_set_new(o, "table-uuid", json_string(md->table_uuid));
    json_object_set_new(o, "location", json_string(md->location));
    if (md->format_version >= 2)
        json_object_set_new(o, "last-sequence-number", json_integer(md->last_sequence_number));
    json_object_set_new(o, "last-updated-ms", json_integer(md->last_updated_ms));
    json_object_set_new(o, "last-column-id", json_integer(md->last_column_id));
    const firn_ice_schema *cur = firn_ice_metadata_current_schema(md);
    if (md->format_version == 1 && cur) json_object_set_new(o, "schema", firn_ice_schema_to_json(cur));
    json_object_set_new(o, "current-schema-id", json_integer(md->current_schema_id));
    json_t *arr = json_array();
    for (size_t i = 0; i < md->nschemas; i++) json_array_append_new(arr, firn_ice_schema_to_json(md->schemas[i]));
    json_object_set_new(o, "schemas", arr);
    const firn_ice_partition_spec *spec = firn_ice_metadata_default_spec(md);
    if (md->format_version == 1 && spec)
        json_object_set_new(o, "partition-spec", firn_ice_partition_spec_fields_to_json(spec));
    json_object_set_new(o, "default-spec-id", json_integer(md->default_spec_id));
    arr = json_array();
    for (size_t i = 0; i < md->nspecs; i++) json_array_append_new(arr, firn_ice_partition_spec_to_json(md->specs[i]));
    json_object_set_new(o, "partition-specs", arr);
    json_object_set_new(o, "last-partition-id", json_integer(md->last_partition_id));
    json_object_set_new(o, "default-sort-order-id", json_integer(md->default_sort_order_id));
    arr = json_array();
    for (size_t i = 0; i < md->nsort_orders; i++)
        json_array_append_new(arr, firn_ice_sort_order_to_json(md->sort_orders[i]));
    json_object_set_new(o, "sort-orders", arr);
    json_t *props = json_object();
    for (size_t i = 0; i < md->nproperties; i++)
        json_object_set_new(props, md->properties[i].key, json_string(md->properties[i].value));
    json_object_set_new(o, "properties", props);
    json_object_set_new(o, "current-snapshot-id", json_integer(md->current_snapshot_id));
    json_t *refs = json_object();
    for (size_t i = 0; i < md->nrefs; i++)
        json_object_set_new(refs, md->refs[i]->name, firn_ice_ref_to_json(md->refs[i]));
    json_object_set_new(o, "refs", refs);
    return o;
}

json_t *firn_ice_metadata_to_json(const firn_ice_metadata *md) {
    json_t *o = firn_ice_metadata_to_json_head(md);
    json_t *arr = json_array();
    for (size_t i = 0; i < md->nsnapshots; i++)
        json_array_append_new(arr, firn_ice_snapshot_to_json(md->snapshots[i]));
    json_object_set_new(o, "snapshots", arr);
    json_object_set_new(o, "statistics", statistics_json(md->statistics_json));
    json_object_set_new(o, "partition-statistics", statistics_json(md->partition_statistics_json));
    arr = json_array();
    for (size_t i = 0; i < md->nsnapshot_log; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "timestamp-ms", json_integer(md->snapshot_log[i].timestamp_ms));
        json_object_set_new(e, "snapshot-id", json_integer(md->snapshot_log[i].snapshot_id));
        json_array_append_new(arr, e);
    }
    json_object_set_new(o, "snapshot-log", arr);
    arr = json_array();
    for (size_t i = 0; i < md->nmetadata_log; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "timestamp-ms", json_integer(md->metadata_log[i].timestamp_ms));
        json_object_set_new(e, "metadata-file", json_string(md->metadata_log[i].metadata_file));
        json_array_append_new(arr, e);
    }
    json_object_set_new(o, "metadata-log", arr);
    firn_ice_json_emit_extra(o, md->extra_json);
    return o;
}

/*
 * Compact writing without building a jansson tree of the whole history.
 *
 * A commit writes the metadata once per attempt, and the snapshots, snapshot log
 * and metadata log grow with the table's history: those are emitted directly here,
 * the small rest (schemas, specs, orders, properties, refs, statistics, unknown
 * keys) through jansson. The output is byte for byte what json_dumps(JSON_COMPACT)
 * of firn_ice_metadata_to_json() gives (a unit test compares them): strings with
 * escapes, duplicate summary keys, v1 embedded manifests or unknown snapshot keys
 * make a snapshot go through jansson too.
 */

/* A string jansson would write unescaped: printable ASCII but '"' and '\\', or valid
 * UTF-8 above 0x7f. */
static bool plain_string(const char *s) {
    bool high = false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f) return false;
        if (*p >= 0x80) high = true;
    }
    return !high || firn_ice_valid_utf8((const uint8_t *)s, strlen(s));
}

static void put_str(firn_buf *b, const char *s) {
    firn_buf_put_u8(b, '"');
    firn_buf_append_str(b, s);
    firn_buf_put_u8(b, '"');
}

/* v in decimal, as "%lld" writes it (printf is the hot spot of a long history). */
static void put_i64(firn_buf *b, int64_t v) {
    char tmp[24], *e = tmp + sizeof tmp, *p = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    firn_buf_append(b, p, (size_t)(e - p));
}

static void put_key_i64(firn_buf *b, const char *key, int64_t v) {
    firn_buf_put_u8(b, '"');
    firn_buf_append_str(b, key);
    firn_buf_append(b, "\":", 2);
    put_i64(b, v);
}

/* Append the members of object o (compact, without the braces), comma first unless
 * *first. Consumes o. */
static void splice_members(firn_buf *b, json_t *o, bool *first) {
    char *t = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    size_t n = t ? strlen(t) : 0;
    if (n > 2) {
        if (!*first) firn_buf_put_u8(b, ',');
        firn_buf_append(b, t + 1, n - 2);
        *first = false;
    }
    free(t);
}

static bool snapshot_is_plain(const firn_ice_snapshot *s) {
    if (s->extra_json || !s->manifest_list || !plain_string(s->manifest_list)) return false;
    for (size_t i = 0; i < s->nsummary; i++) {
        if (!plain_string(s->summary[i].key) || !plain_string(s->summary[i].value)) return false;
        for (size_t k = 0; k < i; k++)
            if (strcmp(s->summary[k].key, s->summary[i].key) == 0) return false;
    }
    return true;
}

static void put_snapshot(firn_buf *b, const firn_ice_snapshot *s) {
    if (!snapshot_is_plain(s)) {
        json_t *j = firn_ice_snapshot_to_json(s);
        char *t = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (t) firn_buf_append_str(b, t);
        free(t);
        return;
    }
    firn_buf_put_u8(b, '{');
    if (s->sequence_number > 0) {
        put_key_i64(b, "sequence-number", s->sequence_number);
        firn_buf_put_u8(b, ',');
    }
    put_key_i64(b, "snapshot-id", s->snapshot_id);
    if (s->has_parent) {
        firn_buf_put_u8(b, ',');
        put_key_i64(b, "parent-snapshot-id", s->parent_snapshot_id);
    }
    firn_buf_put_u8(b, ',');
    put_key_i64(b, "timestamp-ms", s->timestamp_ms);
    if (s->nsummary) {
        firn_buf_append_str(b, ",\"summary\":{");
        for (size_t i = 0; i < s->nsummary; i++) {
            if (i) firn_buf_put_u8(b, ',');
            put_str(b, s->summary[i].key);
            firn_buf_put_u8(b, ':');
            put_str(b, s->summary[i].value);
        }
        firn_buf_put_u8(b, '}');
    }
    firn_buf_append_str(b, ",\"manifest-list\":");
    put_str(b, s->manifest_list);
    if (s->has_schema_id) {
        firn_buf_put_u8(b, ',');
        put_key_i64(b, "schema-id", s->schema_id);
    }
    firn_buf_put_u8(b, '}');
}

static char *metadata_to_compact(const firn_ice_metadata *md, size_t *len) {
    firn_buf b = {0};
    bool first = true;
    firn_buf_put_u8(&b, '{');
    /* format-version .. refs: firn_ice_metadata_to_json's head */
    json_t *head = firn_ice_metadata_to_json_head(md);
    splice_members(&b, head, &first);
    firn_buf_append_str(&b, first ? "\"snapshots\":[" : ",\"snapshots\":[");
    first = false;
    for (size_t i = 0; i < md->nsnapshots; i++) {
        if (i) firn_buf_put_u8(&b, ',');
        put_snapshot(&b, md->snapshots[i]);
    }
    firn_buf_put_u8(&b, ']');
    json_t *stats = json_object();
    json_object_set_new(stats, "statistics", statistics_json(md->statistics_json));
    json_object_set_new(stats, "partition-statistics",
                        statistics_json(md->partition_statistics_json));
    splice_members(&b, stats, &first);
    firn_buf_append_str(&b, ",\"snapshot-log\":[");
    for (size_t i = 0; i < md->nsnapshot_log; i++) {
        firn_buf_append_str(&b, i ? ",{" : "{");
        put_key_i64(&b, "timestamp-ms", md->snapshot_log[i].timestamp_ms);
        firn_buf_put_u8(&b, ',');
        put_key_i64(&b, "snapshot-id", md->snapshot_log[i].snapshot_id);
        firn_buf_put_u8(&b, '}');
    }
    firn_buf_append_str(&b, "],\"metadata-log\":[");
    for (size_t i = 0; i < md->nmetadata_log; i++) {
        const char *f = md->metadata_log[i].metadata_file;
        if (i) firn_buf_put_u8(&b, ',');
        if (plain_string(f)) {
            firn_buf_put_u8(&b, '{');
            put_key_i64(&b, "timestamp-ms", md->metadata_log[i].timestamp_ms);
            firn_buf_append_str(&b, ",\"metadata-file\":");
            put_str(&b, f);
            firn_buf_put_u8(&b, '}');
            continue;
        }
        json_t *e = json_object();
        json_object_set_new(e, "timestamp-ms", json_integer(md->metadata_log[i].timestamp_ms));
        json_object_set_new(e, "metadata-file", json_string(f));
        char *t = json_dumps(e, JSON_COMPACT);
        json_decref(e);
        firn_buf_append_str(&b, t ? t : "{}");
        free(t);
    }
    firn_buf_put_u8(&b, ']');
    if (md->extra_json) {
        json_t *extra = json_loads(md->extra_json, 0, NULL), *keep = json_object();
        const char *k;
        json_t *v;
        if (extra)
            json_object_foreach(extra, k, v) {
                bool known = false;
                for (size_t i = 0; metadata_keys[i] && !known; i++)
                    known = strcmp(metadata_keys[i], k) == 0;
                if (!known) json_object_set(keep, k, v);
            }
        json_decref(extra);
        splice_members(&b, keep, &first);
    }
    firn_buf_put_u8(&b, '}');
    *len = b.len;
    return firn_buf_cstr(&b);
}

char *firn_ice_metadata_to_string(const firn_ice_metadata *md, int flags, size_t *len,
                                  firn_error *err) {
    ICE_ERR_GUARD(err);
    if (firn_ice_metadata_validate(md, err)) {
        firn_ice_error_prefix(err, "refusing to write invalid table metadata");
        return NULL;
    }
    if (!(flags & FIRN_ICE_JSON_PRETTY)) {
        size_t n;
        char *s = metadata_to_compact(md, &n);
        if (len) *len = n;
        return s;
    }
    json_t *j = firn_ice_metadata_to_json(md);
    char *s = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (!s) {
        FIRN_RAISE(err, FIRN_ERR_INTERNAL, "table metadata: JSON encoding failed");
        return NULL;
    }
    if (len) *len = strlen(s);
    return s;
}

/*
 * A deep copy into a fresh arena, object by object. Commits copy the base metadata
 * once per attempt, so this must not cost a JSON round trip of the whole history:
 * it copies strings and small structs and parses nothing (the extra_json texts of
 * unknown keys are copied as text).
 */
firn_ice_metadata *firn_ice_metadata_copy(const firn_ice_metadata *md, firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_ice_metadata *c = firn_ice_metadata_alloc();
    firn_arena *a = &c->arena;
    c->format_version = md->format_version;
    memcpy(c->table_uuid, md->table_uuid, sizeof c->table_uuid);
    c->location = md->location ? firn_arena_strdup(a, md->location) : NULL;
    c->last_sequence_number = md->last_sequence_number;
    c->last_updated_ms = md->last_updated_ms;
    c->last_column_id = md->last_column_id;
    c->current_schema_id = md->current_schema_id;
    c->default_spec_id = md->default_spec_id;
    c->last_partition_id = md->last_partition_id;
    c->default_sort_order_id = md->default_sort_order_id;
    c->current_snapshot_id = md->current_snapshot_id;
    for (size_t i = 0; i < md->nschemas; i++) {
        firn_ice_schema *s = firn_ice_schema_copy(a, md->schemas[i], err);
        if (!s) {
            firn_ice_metadata_free(c);
            return NULL;
        }
        PUSH(c, schemas, nschemas, cap_schemas, s);
    }
    for (size_t i = 0; i < md->nspecs; i++) {
        firn_ice_partition_spec *s = firn_ice_partition_spec_copy(a, md->specs[i]);
        PUSH(c, specs, nspecs, cap_specs, s);
    }
    for (size_t i = 0; i < md->nsort_orders; i++) {
        firn_ice_sort_order *o = firn_ice_sort_order_copy(a, md->sort_orders[i]);
        PUSH(c, sort_orders, nsort_orders, cap_sort_orders, o);
    }
    for (size_t i = 0; i < md->nproperties; i++) {
        firn_ice_kv kv = {firn_arena_strdup(a, md->properties[i].key),
                          firn_arena_strdup(a, md->properties[i].value)};
        PUSH(c, properties, nproperties, cap_properties, kv);
    }
    firn_ice_grow((void **)&c->snapshots, &c->cap_snapshots, md->nsnapshots + 1,
                  sizeof *c->snapshots);
    for (size_t i = 0; i < md->nsnapshots; i++)
        c->snapshots[c->nsnapshots++] = firn_ice_snapshot_copy(a, md->snapshots[i]);
    for (size_t i = 0; i < md->nrefs; i++) {
        firn_ice_ref *r = firn_arena_memdup(a, md->refs[i], sizeof *r);
        r->name = firn_arena_strdup(a, r->name);
        r->extra_json = r->extra_json ? firn_arena_strdup(a, r->extra_json) : NULL;
        PUSH(c, refs, nrefs, cap_refs, r);
    }
    if (md->nsnapshot_log) {
        firn_ice_grow((void **)&c->snapshot_log, &c->cap_snapshot_log, md->nsnapshot_log,
                      sizeof *c->snapshot_log);
        memcpy(c->snapshot_log, md->snapshot_log, md->nsnapshot_log * sizeof *c->snapshot_log);
        c->nsnapshot_log = md->nsnapshot_log;
    }
    for (size_t i = 0; i < md->nmetadata_log; i++) {
        firn_ice_metadata_log_entry e = {md->metadata_log[i].timestamp_ms,
                                         firn_arena_strdup(a, md->metadata_log[i].metadata_file)};
        PUSH(c, metadata_log, nmetadata_log, cap_metadata_log, e);
    }
    c->statistics_json = md->statistics_json ? firn_arena_strdup(a, md->statistics_json) : NULL;
    c->partition_statistics_json =
        md->partition_statistics_json ? firn_arena_strdup(a, md->partition_statistics_json) : NULL;
    c->extra_json = md->extra_json ? firn_arena_strdup(a, md->extra_json) : NULL;
    c->last_added_schema_id = md->last_added_schema_id;
    c->last_added_spec_id = md->last_added_spec_id;
    c->last_added_sort_order_id = md->last_added_sort_order_id;
    return c;
}

/* -------------------------------------------------------------- new table */

static bool absolute_location(const char *loc) {
    if (loc[0] == '/') return true;
    const char *colon = strchr(loc, ':');
    if (!colon || colon == loc) return false;
    for (const char *p = loc; p < colon; p++)
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.') return false;
    return true;
}

int firn_ice_metadata_set_location(firn_ice_metadata *md, const char *location, firn_error *err) {
    if (!location || !*location)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "set-location: the location must not be empty");
    if (!firn_ice_json_safe(location))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "set-location: the location is not valid UTF-8");
    if (!absolute_location(location))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "set-location: '%s' is not absolute (give a URI like file:/... or s3://...)",
                          location);
    size_t n = strlen(location);
    while (n > 1 && location[n - 1] == '/' && location[n - 2] != '/') n--;
    md->location = firn_arena_strndup(&md->arena, location, n);
    return 0;
}

firn_ice_metadata *firn_ice_metadata_new(const firn_ice_schema *schema,
                                         const firn_ice_partition_spec *spec,
                                         const firn_ice_sort_order *order, const char *location,
                                         const firn_ice_kv *properties, size_t nproperties,
                                         int format_version, int64_t now_ms, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (format_version < 1 || format_version > FIRN_ICE_MAX_FORMAT_VERSION) {
        FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "cannot create a table with format version %d",
                   format_version);
        return NULL;
    }
    firn_ice_metadata *md = firn_ice_metadata_alloc();
    firn_arena *a = &md->arena;
    md->format_version = format_version;
    md->last_updated_ms = now_ms;
    uint8_t u[16];
    firn_ice_uuid4(u);
    firn_ice_uuid_format(u, md->table_uuid);
    if (firn_ice_metadata_set_location(md, location, err)) goto fail;

    int32_t last_col;
    firn_ice_schema *fresh = firn_ice_schema_assign_fresh_ids(a, schema, 0, &last_col, err);
    if (!fresh) goto fail;
    PUSH(md, schemas, nschemas, cap_schemas, fresh);
    md->current_schema_id = 0;
    md->last_column_id = last_col;

    /* the spec, rebound to the fresh ids by column name, field ids from 1000 */
    size_t nf = spec ? spec->nfields : 0;
    firn_ice_partition_field *pf = firn_arena_calloc(a, (nf ? nf : 1) * sizeof *pf);
    for (size_t i = 0; i < nf; i++) {
        const firn_ice_partition_field *f = &spec->fields[i];
        const char *name = firn_ice_schema_find_name(schema, f->source_id);
        const firn_ice_field *nfld = name ? firn_ice_schema_find_by_name(fresh, name, true) : NULL;
        if (!nfld) {
            FIRN_RAISE(err, FIRN_ERR_INVALID, "partition field '%s': source column id %d is not in the schema",
                       f->name, f->source_id);
            goto fail;
        }
        pf[i] = *f;
        pf[i].source_id = nfld->id;
        pf[i].field_id = FIRN_ICE_PARTITION_DATA_ID_START + (int32_t)i;
    }
    firn_ice_partition_spec *ns = firn_ice_partition_spec_new(a, 0, pf, nf);
    if (firn_ice_partition_spec_validate(ns, fresh, err)) goto fail;
    PUSH(md, specs, nspecs, cap_specs, ns);
    md->default_spec_id = 0;
    md->last_partition_id = firn_ice_partition_spec_last_field_id(ns);

    size_t no = order ? order->nfields : 0;
    firn_ice_sort_field *sf = firn_arena_calloc(a, (no ? no : 1) * sizeof *sf);
    for (size_t i = 0; i < no; i++) {
        const char *name = firn_ice_schema_find_name(schema, order->fields[i].source_id);
        const firn_ice_field *nfld = name ? firn_ice_schema_find_by_name(fresh, name, true) : NULL;
        if (!nfld) {
            FIRN_RAISE(err, FIRN_ERR_INVALID, "sort field %zu: source column id %d is not in the schema",
                       i, order->fields[i].source_id);
            goto fail;
        }
        sf[i] = order->fields[i];
        sf[i].source_id = nfld->id;
    }
    firn_ice_sort_order *no_ = firn_ice_sort_order_new(a, no ? 1 : 0, sf, no);
    if (firn_ice_sort_order_validate(no_, fresh, err)) goto fail;
    PUSH(md, sort_orders, nsort_orders, cap_sort_orders, no_);
    md->default_sort_order_id = no_->order_id;

    if (nproperties && firn_ice_metadata_set_properties(md, properties, nproperties, err)) goto fail;
    if (firn_ice_metadata_validate(md, err)) goto fail;
    return md;
fail:
    firn_ice_metadata_free(md);
    return NULL;
}
