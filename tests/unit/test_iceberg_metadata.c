/* test_iceberg_metadata.c - table metadata JSON: golden files written as
 * Spark (Java) and PyIceberg write them survive a rewrite with every known
 * value and every unknown key; v1 reads into the same model; malformed
 * metadata gives errors naming the field; table updates. */
#include "test.h"
#include "iceberg/iceberg.h"

#include <jansson.h>
#include <stdlib.h>

#define GOLDEN_DIR "tests/data/iceberg/"

static char *golden(const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, GOLDEN_DIR "%s", name);
    uint8_t *data = NULL;
    firn_error err;
    firn_error_init(&err);
    if (firn_read_file(path, &data, len, &err)) {
        fprintf(stdout, "    cannot read %s (run from the repository root): %s\n", path, err.message);
        firn_test_failed = 1;
        return NULL;
    }
    return (char *)data;
}

static firn_ice_metadata *load(const char *name, firn_error *err) {
    size_t len;
    char *text = golden(name, &len);
    if (!text) return NULL;
    firn_ice_metadata *md = firn_ice_metadata_parse(text, len, err);
    free(text);
    return md;
}

/* Is every key/value of `sub` in `sup` (recursively; arrays element-wise)? */
static bool json_subset(const json_t *sub, const json_t *sup, char *where, size_t n) {
    if (json_is_object(sub)) {
        if (!json_is_object(sup)) return snprintf(where, n, "not an object"), false;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)sub, k, v) {
            json_t *w = json_object_get(sup, k);
            if (!w) return snprintf(where, n, "missing key '%s'", k), false;
            if (!json_subset(v, w, where, n)) {
                size_t l = strlen(where);
                char tmp[512];
                snprintf(tmp, sizeof tmp, "%s.%.*s", k, (int)l, where);
                snprintf(where, n, "%s", tmp);
                return false;
            }
        }
        return true;
    }
    if (json_is_array(sub)) {
        if (!json_is_array(sup) || json_array_size(sub) != json_array_size(sup))
            return snprintf(where, n, "array differs"), false;
        for (size_t i = 0; i < json_array_size(sub); i++)
            if (!json_subset(json_array_get(sub, i), json_array_get(sup, i), where, n)) return false;
        return true;
    }
    if (!json_equal((json_t *)sub, (json_t *)sup)) return snprintf(where, n, "value differs"), false;
    return true;
}

static json_t *written(const firn_ice_metadata *md, firn_error *err) {
    char *s = firn_ice_metadata_to_string(md, 0, NULL, err);
    if (!s) return NULL;
    json_t *j = json_loads(s, 0, NULL);
    free(s);
    return j;
}

/* Parse, rewrite, and compare with the original: exactly equal (equal=true)
 * or a superset of it. Then the rewrite must reproduce itself. */
static void check_rewrite(const char *name, bool equal) {
    size_t len;
    char *text = golden(name, &len);
    if (!text) return;
    firn_error err;
    firn_error_init(&err);
    firn_ice_metadata *md = firn_ice_metadata_parse(text, len, &err);
    CHECK_MSG(md, "%s: %s", name, err.message);
    json_t *orig = json_loadb(text, len, 0, NULL);
    json_t *out = written(md, &err);
    CHECK_MSG(out, "%s: write: %s", name, err.message);
    char where[512] = "";
    if (equal) {
        char *s = json_dumps(out, JSON_COMPACT);
        CHECK_MSG(json_equal(orig, out), "%s: rewrite differs:\n%s", name, s);
        free(s);
    } else {
        CHECK_MSG(json_subset(orig, out, where, sizeof where), "%s: rewrite lost %s", name, where);
    }
    /* a fixed point: parse(write(x)) writes the same */
    char *once = json_dumps(out, JSON_COMPACT);
    firn_ice_metadata *md2 = firn_ice_metadata_parse(once, strlen(once), &err);
    CHECK_MSG(md2, "%s: reparse: %s", name, err.message);
    char *twice = firn_ice_metadata_to_string(md2, 0, NULL, &err);
    json_t *j1 = json_loads(once, 0, NULL), *j2 = json_loads(twice, 0, NULL);
    CHECK_MSG(json_equal(j1, j2), "%s: not a fixed point", name);
    json_decref(j1);
    json_decref(j2);
    free(once);
    free(twice);
    firn_ice_metadata_free(md2);
    json_decref(orig);
    json_decref(out);
    firn_ice_metadata_free(md);
    free(text);
}

FIRN_TEST(iceberg_metadata_golden_rewrites) {
    check_rewrite("spark_v2_evolved.metadata.json", true);
    check_rewrite("pyiceberg_v2.metadata.json", true);
    check_rewrite("empty_v2.metadata.json", true);
    check_rewrite("v1_java_new.metadata.json", false);
}

FIRN_TEST(iceberg_metadata_spark_values) {
    firn_error err;
    firn_error_init(&err);
    firn_ice_metadata *md = load("spark_v2_evolved.metadata.json", &err);
    CHECK_MSG(md, "%s", err.message);
    CHECK_EQ_INT(md->format_version, 2);
    CHECK_EQ_STR(md->table_uuid, "9c12d441-03fe-4693-9a96-a0705ddf69c1");
    CHECK_EQ_STR(md->location, "s3://warehouse/db/events");
    CHECK(md->last_sequence_number == 4 && md->last_updated_ms == INT64_C(1717171799000));
    CHECK_EQ_INT(md->last_column_id, 21);
    CHECK(md->nschemas == 2 && md->current_schema_id == 1);
    const firn_ice_schema *cur = firn_ice_metadata_current_schema(md);
    CHECK_EQ_INT(firn_ice_schema_nfields(cur), 16);
    CHECK_EQ_INT(firn_ice_schema_find_by_name(cur, "event_kind", true)->id, 3);
    CHECK(firn_ice_schema_find_by_name(cur, "amount", true)->type->precision == 9);
    CHECK_EQ_STR(firn_ice_metadata_schema(md, 0)->extra_json, "{\"x-schema-note\":\"kept by firn\"}");
    const firn_ice_partition_spec *spec = firn_ice_metadata_default_spec(md);
    CHECK(spec->spec_id == 1 && spec->nfields == 3 && md->last_partition_id == 1002);
    CHECK(spec->fields[1].transform.kind == FIRN_ICE_TRANSFORM_BUCKET && spec->fields[1].transform.param == 16);
    CHECK(spec->fields[2].transform.kind == FIRN_ICE_TRANSFORM_TRUNCATE && spec->fields[2].transform.param == 4);
    const firn_ice_sort_order *order = firn_ice_metadata_default_sort_order(md);
    CHECK(order->order_id == 1 && order->nfields == 2 && order->fields[1].direction == FIRN_ICE_DESC &&
          order->fields[1].null_order == FIRN_ICE_NULLS_LAST &&
          order->fields[1].transform.kind == FIRN_ICE_TRANSFORM_HOUR);
    CHECK_EQ_STR(firn_ice_metadata_property(md, "write.parquet.compression-codec"), "zstd");
    CHECK_EQ_INT(firn_ice_metadata_property_int(md, "write.metadata.previous-versions-max", 100), 10);
    CHECK(md->current_snapshot_id == INT64_C(8333017788700497002));
    const firn_ice_snapshot *s = firn_ice_metadata_current_snapshot(md);
    CHECK(s && s->sequence_number == 3 && s->has_parent &&
          s->parent_snapshot_id == INT64_C(6144239829512836421) && s->schema_id == 1);
    CHECK_EQ_STR(firn_ice_snapshot_operation(s), "append");
    CHECK_EQ_STR(firn_ice_snapshot_summary_get(s, "total-records"), "8");
    CHECK_EQ_STR(firn_ice_metadata_snapshot(md, INT64_C(6144239829512836421))->extra_json,
                 "{\"x-engine-hint\":\"keep-me\"}");
    CHECK_EQ_INT(md->nrefs, 3);
    const firn_ice_ref *audit = firn_ice_metadata_ref(md, "audit");
    CHECK(audit && audit->type == FIRN_ICE_REF_BRANCH && audit->min_snapshots_to_keep == 2 &&
          audit->max_snapshot_age_ms == 86400000 && audit->max_ref_age_ms == INT64_C(604800000));
    CHECK_EQ_STR(audit->extra_json, "{\"x-ref-note\":\"wap\"}");
    const firn_ice_ref *tag = firn_ice_metadata_ref(md, "v1.0");
    CHECK(tag && tag->type == FIRN_ICE_REF_TAG && tag->min_snapshots_to_keep == -1);
    CHECK(md->nsnapshot_log == 3 && md->nmetadata_log == 4);
    CHECK(strstr(md->statistics_json, "apache-datasketches-theta-v1"));
    CHECK(strstr(md->partition_statistics_json, "partition-stats-8333017788700497002.parquet"));
    CHECK(strstr(md->extra_json, "x-firn-test-unknown"));
    /* the unknown keys come back on write, where they were */
    json_t *out = written(md, &err);
    json_t *x = json_object_get(out, "x-firn-test-unknown");
    CHECK(x && json_array_size(json_object_get(x, "nested")) == 3);
    CHECK_EQ_STR(json_string_value(json_object_get(x, "s")), "\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9");
    json_t *snaps = json_object_get(out, "snapshots");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(snaps, 1), "x-engine-hint")), "keep-me");
    CHECK(json_object_get(json_object_get(json_object_get(out, "refs"), "audit"), "x-ref-note"));
    CHECK(json_object_get(json_array_get(json_object_get(out, "partition-specs"), 1), "x-spec-note"));
    CHECK(json_object_get(json_array_get(json_object_get(out, "sort-orders"), 1), "x-order-note"));
    json_decref(out);
    firn_ice_metadata_free(md);
}

FIRN_TEST(iceberg_metadata_pyiceberg_values) {
    firn_error err;
    firn_error_init(&err);
    firn_ice_metadata *md = load("pyiceberg_v2.metadata.json", &err);
    CHECK_MSG(md, "%s", err.message);
    CHECK(md->last_partition_id == 999 && firn_ice_partition_spec_is_unpartitioned(firn_ice_metadata_default_spec(md)));
    const firn_ice_field *fare = firn_ice_schema_find_by_name(firn_ice_metadata_current_schema(md), "fare", true);
    CHECK_EQ_STR(fare->initial_default, "\"0.00\"");
    CHECK_EQ_STR(fare->write_default, "\"1.50\"");
    /* the default parses as a decimal of the column's type */
    json_t *d = json_loads(fare->write_default, JSON_DECODE_ANY, NULL);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_value v;
    CHECK_OK(firn_ice_value_from_json(&a, fare->type, d, &v, &err), &err);
    CHECK(v.u.dec == 150 && v.scale == 2);
    json_decref(d);
    firn_arena_release(&a);
    CHECK(md->nsnapshot_log == 1 && md->nmetadata_log == 1 && md->nrefs == 1);
    firn_ice_metadata_free(md);
}

FIRN_TEST(iceberg_metadata_v1) {
    firn_error err;
    firn_error_init(&err);
    firn_ice_metadata *md = load("v1_legacy.metadata.json", &err);
    CHECK_MSG(md, "%s", err.message);
    CHECK_EQ_INT(md->format_version, 1);
    CHECK(md->nschemas == 1 && md->current_schema_id == 0);
    CHECK_EQ_STR(firn_ice_schema_find_field(firn_ice_metadata_current_schema(md), 2)->doc, "comment");
    const firn_ice_partition_spec *spec = firn_ice_metadata_default_spec(md);
    CHECK(spec && spec->spec_id == 0 && spec->nfields == 1 && spec->fields[0].field_id == 1000);
    CHECK_EQ_INT(md->last_partition_id, 1000);
    CHECK(md->nsort_orders == 1 && md->default_sort_order_id == 0 &&
          firn_ice_metadata_default_sort_order(md)->nfields == 0);
    CHECK_EQ_INT(md->last_sequence_number, 0);
    CHECK_EQ_INT(md->nsnapshots, 2);
    const firn_ice_snapshot *first = md->snapshots[0];
    CHECK(first->sequence_number == 0 && !first->manifest_list && first->nmanifests == 1);
    CHECK(strstr(first->manifests[0], "manifest-1.avro"));
    /* no refs in v1: main comes from current-snapshot-id */
    const firn_ice_ref *main = firn_ice_metadata_ref(md, "main");
    CHECK(main && main->snapshot_id == INT64_C(3055729675574597004) && main->type == FIRN_ICE_REF_BRANCH);
    /* written back as v1: the singular fields too, no sequence numbers */
    json_t *out = written(md, &err);
    CHECK_MSG(out, "%s", err.message);
    CHECK(json_object_get(out, "schema") && json_object_get(out, "partition-spec"));
    CHECK(!json_object_get(out, "last-sequence-number"));
    CHECK(json_object_get(json_array_get(json_object_get(out, "snapshots"), 0), "manifests"));
    CHECK(!json_object_get(json_array_get(json_object_get(out, "snapshots"), 1), "sequence-number"));
    json_decref(out);
    /* upgrade to v2 keeps the data readable and writes v2 fields */
    CHECK_OK(firn_ice_metadata_upgrade_format_version(md, 2, &err), &err);
    CHECK_EQ_INT(firn_ice_metadata_upgrade_format_version(md, 1, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_ice_metadata_upgrade_format_version(md, 3, &err), -FIRN_ERR_UNSUPPORTED);
    out = written(md, &err);
    CHECK_MSG(out, "%s", err.message);
    CHECK(json_integer_value(json_object_get(out, "format-version")) == 2 &&
          json_object_get(out, "last-sequence-number") && !json_object_get(out, "schema"));
    json_decref(out);
    firn_ice_metadata_free(md);
    /* the newer Java v1 layout (both singular and list fields) reads the same way */
    md = load("v1_java_new.metadata.json", &err);
    CHECK_MSG(md, "%s", err.message);
    CHECK(md->format_version == 1 && md->nspecs == 1 && md->current_snapshot_id == -1 && md->nrefs == 0);
    firn_ice_metadata_free(md);
}

/* ------------------------------------------------------------ bad metadata */

typedef void (*mutator)(json_t *md);

static void m_no_uuid(json_t *j) { json_object_del(j, "table-uuid"); }
static void m_v3(json_t *j) { json_object_set_new(j, "format-version", json_integer(3)); }
static void m_v0(json_t *j) { json_object_set_new(j, "format-version", json_integer(0)); }
static void m_fv_string(json_t *j) { json_object_set_new(j, "format-version", json_string("2")); }
static void m_no_schemas(json_t *j) { json_object_del(j, "schemas"); }
static void m_no_location(json_t *j) { json_object_del(j, "location"); }
static void m_no_seq(json_t *j) { json_object_del(j, "last-sequence-number"); }
static void m_no_sort_orders(json_t *j) { json_object_del(j, "sort-orders"); }
static void m_no_last_partition(json_t *j) { json_object_del(j, "last-partition-id"); }
static void m_cur_schema(json_t *j) { json_object_set_new(j, "current-schema-id", json_integer(5)); }
static void m_spec_id(json_t *j) { json_object_set_new(j, "default-spec-id", json_integer(7)); }
static void m_order_id(json_t *j) { json_object_set_new(j, "default-sort-order-id", json_integer(4)); }
static json_t *field(json_t *j, size_t schema, size_t i) {
    return json_array_get(json_object_get(json_array_get(json_object_get(j, "schemas"), schema), "fields"), i);
}
static void m_bad_type(json_t *j) { json_object_set_new(field(j, 0, 1), "type", json_string("strin")); }
static void m_ns_in_v2(json_t *j) { json_object_set_new(field(j, 0, 2), "type", json_string("timestamptz_ns")); }
static void m_bad_id(json_t *j) { json_object_set_new(field(j, 0, 0), "id", json_string("x")); }
static void m_dup_id(json_t *j) { json_object_set_new(field(j, 0, 1), "id", json_integer(1)); }
static void m_last_col(json_t *j) { json_object_set_new(j, "last-column-id", json_integer(1)); }
static void m_bad_uuid(json_t *j) { json_object_set_new(j, "table-uuid", json_string("nope")); }
static void m_prop(json_t *j) { json_object_set_new(json_object_get(j, "properties"), "a", json_integer(1)); }
static void m_spec_src(json_t *j) {
    json_t *f = json_array_get(json_object_get(json_array_get(json_object_get(j, "partition-specs"), 0), "fields"), 0);
    json_object_set_new(f, "source-id", json_integer(99));
}
static void m_last_part(json_t *j) { json_object_set_new(j, "last-partition-id", json_integer(999)); }
static void m_cur_snap(json_t *j) { json_object_set_new(j, "current-snapshot-id", json_integer(12345)); }
static void m_sort_zero(json_t *j) {
    json_t *o = json_array_get(json_object_get(j, "sort-orders"), 0);
    json_array_append_new(json_object_get(o, "fields"),
                          json_pack("{s:s,s:i,s:s,s:s}", "transform", "identity", "source-id", 1,
                                    "direction", "asc", "null-order", "nulls-first"));
}
static void m_sort_dir(json_t *j) {
    json_t *o = json_pack("{s:i,s:[{s:s,s:i,s:s,s:s}]}", "order-id", 1, "fields", "transform",
                          "identity", "source-id", 1, "direction", "up", "null-order", "nulls-first");
    json_array_append_new(json_object_get(j, "sort-orders"), o);
}
static void m_not_object(json_t *j) { json_object_set_new(j, "refs", json_array()); }

/* mutations of the Spark golden file (snapshots and refs) */
static json_t *snap(json_t *j, size_t i) { return json_array_get(json_object_get(j, "snapshots"), i); }
static void s_main_mismatch(json_t *j) {
    json_object_set_new(j, "current-snapshot-id", json_integer(INT64_C(6144239829512836421)));
}
static void s_no_main(json_t *j) { json_object_del(json_object_get(j, "refs"), "main"); }
static void s_unknown_schema(json_t *j) { json_object_set_new(snap(j, 0), "schema-id", json_integer(9)); }
static void s_ref_missing(json_t *j) {
    json_object_set_new(json_object_get(json_object_get(j, "refs"), "audit"), "snapshot-id", json_integer(42));
}
static void s_main_tag(json_t *j) {
    json_object_set_new(json_object_get(json_object_get(j, "refs"), "main"), "type", json_string("tag"));
}
static void s_bad_ref_type(json_t *j) {
    json_object_set_new(json_object_get(json_object_get(j, "refs"), "main"), "type", json_string("trunk"));
}
static void s_seq(json_t *j) { json_object_set_new(snap(j, 3), "sequence-number", json_integer(9)); }
static void s_dup_snap(json_t *j) {
    json_object_set_new(snap(j, 1), "snapshot-id", json_integer(INT64_C(3055729675574597004)));
}
static void s_summary(json_t *j) {
    json_object_set_new(json_object_get(snap(j, 0), "summary"), "added-records", json_integer(3));
}
static void s_min_keep(json_t *j) {
    json_object_set_new(json_object_get(json_object_get(j, "refs"), "audit"), "min-snapshots-to-keep",
                        json_integer(0));
}
static void s_tag_keep(json_t *j) {
    json_object_set_new(json_object_get(json_object_get(j, "refs"), "v1.0"), "min-snapshots-to-keep",
                        json_integer(3));
}
static void s_no_manifests(json_t *j) { json_object_del(snap(j, 2), "manifest-list"); }
static void s_no_ts(json_t *j) { json_object_del(snap(j, 2), "timestamp-ms"); }
static void s_stats(json_t *j) { json_object_set_new(j, "statistics", json_object()); }
static void s_log(json_t *j) {
    json_object_del(json_array_get(json_object_get(j, "metadata-log"), 1), "metadata-file");
}
static void s_default_spec_field(json_t *j) {
    /* the default spec must still bind to the current schema */
    json_t *f = json_array_get(json_object_get(json_array_get(json_object_get(j, "partition-specs"), 1), "fields"), 0);
    json_object_set_new(f, "transform", json_string("bucket[0]"));
}

FIRN_TEST(iceberg_metadata_errors) {
    static const struct {
        const char *file;
        mutator m;
        firn_err_kind kind;
        const char *message;
    } cases[] = {
        {"empty_v2", m_no_uuid, FIRN_ERR_CORRUPT, "table metadata: missing required field 'table-uuid'"},
        {"empty_v2", m_v3, FIRN_ERR_UNSUPPORTED, "format-version 3 is not supported"},
        {"empty_v2", m_v0, FIRN_ERR_CORRUPT, "format-version: invalid version 0"},
        {"empty_v2", m_fv_string, FIRN_ERR_CORRUPT, "format-version: expected an integer, got string"},
        {"empty_v2", m_no_schemas, FIRN_ERR_CORRUPT, "missing required field 'schemas'"},
        {"empty_v2", m_no_location, FIRN_ERR_CORRUPT, "missing required field 'location'"},
        {"empty_v2", m_no_seq, FIRN_ERR_CORRUPT, "missing required field 'last-sequence-number'"},
        {"empty_v2", m_no_sort_orders, FIRN_ERR_CORRUPT, "missing required field 'sort-orders'"},
        {"empty_v2", m_no_last_partition, FIRN_ERR_CORRUPT, "missing required field 'last-partition-id'"},
        {"empty_v2", m_cur_schema, FIRN_ERR_CORRUPT, "current-schema-id: 5 is not the id of any schema"},
        {"empty_v2", m_spec_id, FIRN_ERR_CORRUPT, "default-spec-id: 7 is not the id of any spec"},
        {"empty_v2", m_order_id, FIRN_ERR_CORRUPT, "default-sort-order-id: 4 is not the id"},
        {"empty_v2", m_bad_type, FIRN_ERR_CORRUPT, "schemas[0].fields[1].type: unknown type 'strin'"},
        {"empty_v2", m_ns_in_v2, FIRN_ERR_UNSUPPORTED,
         "schemas[0]: column 'received' (id 3) is timestamptz_ns, which needs format-version 3"},
        {"empty_v2", m_bad_id, FIRN_ERR_CORRUPT, "schemas[0].fields[0].id: expected an integer, got string"},
        {"empty_v2", m_dup_id, FIRN_ERR_CORRUPT, "schemas[0]: fields 'raw' and 'reason' share id 1"},
        {"empty_v2", m_last_col, FIRN_ERR_CORRUPT, "last-column-id: 1 is below the highest field id 3"},
        {"empty_v2", m_bad_uuid, FIRN_ERR_CORRUPT, "table-uuid: 'nope' is not a UUID"},
        {"empty_v2", m_prop, FIRN_ERR_CORRUPT, "properties.a: expected a string value, got integer"},
        {"empty_v2", m_spec_src, FIRN_ERR_CORRUPT, "source column id 99 is not in schema 0"},
        {"empty_v2", m_last_part, FIRN_ERR_CORRUPT, "last-partition-id: 999 is below field id 1000"},
        {"empty_v2", m_cur_snap, FIRN_ERR_CORRUPT, "current-snapshot-id: snapshot 12345 is not in 'snapshots'"},
        {"empty_v2", m_sort_zero, FIRN_ERR_CORRUPT, "sort-orders[0]: sort order id 0 is reserved"},
        {"empty_v2", m_sort_dir, FIRN_ERR_CORRUPT, "sort-orders[1].fields[0].direction: unknown sort direction 'up'"},
        {"empty_v2", m_not_object, FIRN_ERR_CORRUPT, "refs: expected an object, got array"},
        {"spark_v2_evolved", s_main_mismatch, FIRN_ERR_CORRUPT,
         "current-snapshot-id 6144239829512836421 does not match refs.main snapshot-id 8333017788700497002"},
        {"spark_v2_evolved", s_no_main, FIRN_ERR_CORRUPT, "refs has no main branch"},
        {"spark_v2_evolved", s_unknown_schema, FIRN_ERR_CORRUPT,
         "snapshots[0]: snapshot 3055729675574597004 refers to unknown schema-id 9"},
        {"spark_v2_evolved", s_ref_missing, FIRN_ERR_CORRUPT, "refs.audit: snapshot 42 is not in 'snapshots'"},
        {"spark_v2_evolved", s_main_tag, FIRN_ERR_CORRUPT, "main must be a branch"},
        {"spark_v2_evolved", s_bad_ref_type, FIRN_ERR_CORRUPT, "refs.main.type: unknown ref type 'trunk'"},
        {"spark_v2_evolved", s_seq, FIRN_ERR_CORRUPT, "sequence-number 9 of snapshot 1111111111111111111 is above last-sequence-number 4"},
        {"spark_v2_evolved", s_dup_snap, FIRN_ERR_CORRUPT, "snapshot id 3055729675574597004 appears twice"},
        {"spark_v2_evolved", s_summary, FIRN_ERR_CORRUPT, "snapshots[0].summary.added-records: expected a string value"},
        {"spark_v2_evolved", s_min_keep, FIRN_ERR_CORRUPT, "min-snapshots-to-keep must be positive"},
        {"spark_v2_evolved", s_tag_keep, FIRN_ERR_CORRUPT, "apply only to branches"},
        {"spark_v2_evolved", s_no_manifests, FIRN_ERR_CORRUPT, "snapshots[2]: missing required field 'manifest-list'"},
        {"spark_v2_evolved", s_no_ts, FIRN_ERR_CORRUPT, "snapshots[2]: missing required field 'timestamp-ms'"},
        {"spark_v2_evolved", s_stats, FIRN_ERR_CORRUPT, "statistics: expected an array, got object"},
        {"spark_v2_evolved", s_log, FIRN_ERR_CORRUPT, "metadata-log[1]: missing required field 'metadata-file'"},
        {"spark_v2_evolved", s_default_spec_field, FIRN_ERR_CORRUPT,
         "partition-specs[1].fields[0].transform: transform 'bucket[0]'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s.metadata.json", cases[i].file);
        size_t len;
        char *text = golden(name, &len);
        CHECK(text);
        json_t *j = json_loadb(text, len, 0, NULL);
        free(text);
        cases[i].m(j);
        firn_error err;
        firn_error_init(&err);
        firn_ice_metadata *md = firn_ice_metadata_from_json(j, &err);
        json_decref(j);
        CHECK_MSG(!md, "case %zu (%s) was accepted", i, cases[i].message);
        CHECK_MSG(err.kind == cases[i].kind, "case %zu: kind %s, want %s (%s)", i,
                  firn_err_kind_name(err.kind), firn_err_kind_name(cases[i].kind), err.message);
        CHECK_MSG(strstr(err.message, cases[i].message), "case %zu: '%s'\n      lacks '%s'", i,
                  err.message, cases[i].message);
        CHECK_MSG(strncmp(err.message, "table metadata", 14) == 0, "case %zu: '%s' does not say what", i,
                  err.message);
        firn_error_release(&err);
    }
    /* not JSON, or not an object */
    firn_error err;
    firn_error_init(&err);
    CHECK(!firn_ice_metadata_parse("{\"format-version\": 2,", 21, &err));
    CHECK_MSG(strstr(err.message, "table metadata: not valid JSON: line 1"), "%s", err.message);
    CHECK(!firn_ice_metadata_parse("[1]", 3, &err));
    CHECK_EQ_STR(err.message, "table metadata: expected table metadata (a JSON object), got array");
    CHECK(!firn_ice_metadata_parse("", 0, &err));
    CHECK(!firn_ice_metadata_parse("{}", 2, NULL)); /* NULL err is allowed */
    firn_error_release(&err);
}

/* ---------------------------------------------------------- new tables */

static firn_ice_schema *user_schema(firn_arena *a, firn_error *err) {
    /* ids as a user might write them in a schema file: any unique numbers */
    static const char *json =
        "{\"type\":\"struct\",\"identifier-field-ids\":[50],\"fields\":["
        "{\"id\":50,\"name\":\"event_id\",\"required\":true,\"type\":\"string\"},"
        "{\"id\":60,\"name\":\"ts\",\"required\":true,\"type\":\"timestamptz\"},"
        "{\"id\":70,\"name\":\"reading\",\"required\":false,\"type\":{\"type\":\"struct\",\"fields\":["
        "  {\"id\":71,\"name\":\"value\",\"required\":false,\"type\":\"double\"}]}},"
        "{\"id\":80,\"name\":\"lot\",\"required\":false,\"type\":\"int\"}]}";
    return firn_ice_schema_parse(a, json, strlen(json), err);
}

FIRN_TEST(iceberg_metadata_new_table) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *schema = user_schema(&a, &err);
    CHECK_MSG(schema, "%s", err.message);
    firn_ice_partition_field pf[2] = {
        {.source_id = 60, .field_id = 0, .name = "ts_day", .transform = {FIRN_ICE_TRANSFORM_DAY, 0, NULL}},
        {.source_id = 80, .field_id = 0, .name = "lot_bucket", .transform = {FIRN_ICE_TRANSFORM_BUCKET, 16, NULL}},
    };
    firn_ice_partition_spec *spec = firn_ice_partition_spec_new(&a, 5, pf, 2);
    firn_ice_sort_field sf = {{FIRN_ICE_TRANSFORM_IDENTITY, 0, NULL}, 80, FIRN_ICE_ASC, FIRN_ICE_NULLS_FIRST};
    firn_ice_sort_order *order = firn_ice_sort_order_new(&a, 9, &sf, 1);
    firn_ice_kv props[1] = {{"write.parquet.compression-codec", "zstd"}};
    firn_ice_metadata *md = firn_ice_metadata_new(schema, spec, order, "file:/tmp/wh/production/events/",
                                                  props, 1, 2, 1717000000000, &err);
    CHECK_MSG(md, "%s", err.message);
    CHECK_EQ_STR(md->location, "file:/tmp/wh/production/events");
    uint8_t u[16];
    CHECK(firn_ice_uuid_parse(md->table_uuid, u) == 0 && (u[6] >> 4) == 4);
    const firn_ice_schema *s = firn_ice_metadata_current_schema(md);
    CHECK_EQ_INT(firn_ice_schema_find_by_name(s, "event_id", true)->id, 1);
    CHECK_EQ_INT(firn_ice_schema_find_by_name(s, "lot", true)->id, 4);
    CHECK_EQ_INT(firn_ice_schema_find_by_name(s, "reading.value", true)->id, 5);
    CHECK(s->nidentifier_field_ids == 1 && s->identifier_field_ids[0] == 1);
    CHECK_EQ_INT(md->last_column_id, 5);
    const firn_ice_partition_spec *ns = firn_ice_metadata_default_spec(md);
    CHECK(ns->spec_id == 0 && ns->fields[0].source_id == 2 && ns->fields[0].field_id == 1000);
    CHECK(ns->fields[1].source_id == 4 && ns->fields[1].field_id == 1001 && md->last_partition_id == 1001);
    const firn_ice_sort_order *no = firn_ice_metadata_default_sort_order(md);
    CHECK(no->order_id == 1 && no->fields[0].source_id == 4);
    CHECK(md->current_snapshot_id == -1 && md->nsnapshots == 0 && md->nrefs == 0);
    CHECK(md->last_sequence_number == 0 && md->last_updated_ms == INT64_C(1717000000000));
    char *txt = firn_ice_metadata_to_string(md, FIRN_ICE_JSON_PRETTY, NULL, &err);
    CHECK_MSG(txt, "%s", err.message);
    CHECK(strstr(txt, "\"current-snapshot-id\": -1"));
    firn_ice_metadata *back = firn_ice_metadata_parse(txt, strlen(txt), &err);
    CHECK_MSG(back, "%s", err.message);
    free(txt);
    firn_ice_metadata_free(back);
    firn_ice_metadata_free(md);
    /* unpartitioned and unsorted */
    md = firn_ice_metadata_new(schema, NULL, NULL, "s3://bucket/t", NULL, 0, 2, 1, &err);
    CHECK_MSG(md, "%s", err.message);
    CHECK(md->last_partition_id == 999 && md->default_sort_order_id == 0 && md->sort_orders[0]->nfields == 0);
    firn_ice_metadata_free(md);
    /* refused: relative location, a spec on a missing column, v3 */
    CHECK(!firn_ice_metadata_new(schema, NULL, NULL, "warehouse/t", NULL, 0, 2, 1, &err));
    CHECK(strstr(err.message, "is not absolute"));
    pf[0].source_id = 99;
    spec = firn_ice_partition_spec_new(&a, 0, pf, 2);
    CHECK(!firn_ice_metadata_new(schema, spec, NULL, "/tmp/t", NULL, 0, 2, 1, &err));
    CHECK(strstr(err.message, "source column id 99"));
    CHECK(!firn_ice_metadata_new(schema, NULL, NULL, "/tmp/t", NULL, 0, 3, 1, &err));
    CHECK_EQ_INT(err.kind, FIRN_ERR_UNSUPPORTED);
    /* snapshot ids: positive and unused */
    int64_t id1 = firn_ice_metadata_new_snapshot_id(NULL), id2 = firn_ice_metadata_new_snapshot_id(NULL);
    CHECK(id1 > 0 && id2 > 0 && id1 != id2);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* --------------------------------------------------------- table updates */

static firn_ice_snapshot make_snapshot(int64_t id, int64_t parent, int64_t seq, int64_t ts) {
    static firn_ice_kv summary[2] = {{"operation", "append"}, {"added-records", "1"}};
    firn_ice_snapshot s = {0};
    s.snapshot_id = id;
    s.has_parent = parent != 0;
    s.parent_snapshot_id = parent;
    s.sequence_number = seq;
    s.timestamp_ms = ts;
    s.manifest_list = "file:/tmp/wh/t/metadata/snap.avro";
    s.summary = summary;
    s.nsummary = 2;
    s.has_schema_id = true;
    s.schema_id = 0;
    return s;
}

FIRN_TEST(iceberg_metadata_snapshot_updates) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *schema = user_schema(&a, &err);
    firn_ice_metadata *md = firn_ice_metadata_new(schema, NULL, NULL, "file:/tmp/wh/t", NULL, 0, 2, 1000, &err);
    CHECK_MSG(md, "%s", err.message);
    /* append to main */
    firn_ice_snapshot s1 = make_snapshot(101, 0, 1, 2000);
    CHECK_OK(firn_ice_metadata_add_snapshot(md, &s1, &err), &err);
    CHECK(md->last_sequence_number == 1 && md->last_updated_ms == 2000);
    CHECK(md->current_snapshot_id == -1); /* adding does not move main */
    firn_ice_ref main = firn_ice_ref_make("main", 101, FIRN_ICE_REF_BRANCH);
    CHECK_OK(firn_ice_metadata_set_snapshot_ref(md, &main, &err), &err);
    CHECK(md->current_snapshot_id == 101 && md->nsnapshot_log == 1 && md->snapshot_log[0].timestamp_ms == 2000);
    /* a stale writer: same sequence number again is a conflict to retry */
    firn_ice_snapshot stale = make_snapshot(102, 101, 1, 2500);
    CHECK_EQ_INT(firn_ice_metadata_add_snapshot(md, &stale, &err), -FIRN_ERR_CONFLICT);
    CHECK(err.retriable);
    CHECK_EQ_INT(firn_ice_metadata_add_snapshot(md, &s1, &err), -FIRN_ERR_INVALID);
    CHECK(strstr(err.message, "snapshot 101 already exists"));
    firn_ice_snapshot bad_schema = make_snapshot(103, 101, 2, 2500);
    bad_schema.schema_id = 4;
    CHECK_EQ_INT(firn_ice_metadata_add_snapshot(md, &bad_schema, &err), -FIRN_ERR_INVALID);
    /* write-audit-publish: commit to a branch, then fast-forward main */
    firn_ice_snapshot s2 = make_snapshot(202, 101, 2, 3000);
    CHECK_OK(firn_ice_metadata_add_snapshot(md, &s2, &err), &err);
    firn_ice_ref dev = firn_ice_ref_make("dev", 202, FIRN_ICE_REF_BRANCH);
    dev.max_ref_age_ms = 86400000;
    CHECK_OK(firn_ice_metadata_set_snapshot_ref(md, &dev, &err), &err);
    CHECK(md->current_snapshot_id == 101 && md->nsnapshot_log == 1);
    main.snapshot_id = 202;
    firn_ice_metadata_set_last_updated_ms(md, 3100);
    CHECK_OK(firn_ice_metadata_set_snapshot_ref(md, &main, &err), &err);
    CHECK(md->current_snapshot_id == 202 && md->nsnapshot_log == 2 && md->snapshot_log[1].timestamp_ms == 3100);
    CHECK_OK(firn_ice_metadata_set_snapshot_ref(md, &main, &err), &err); /* no move, no log entry */
    CHECK_EQ_INT(md->nsnapshot_log, 2);
    firn_ice_ref tag = firn_ice_ref_make("release", 101, FIRN_ICE_REF_TAG);
    CHECK_OK(firn_ice_metadata_set_snapshot_ref(md, &tag, &err), &err);
    firn_ice_ref bad = firn_ice_ref_make("main", 101, FIRN_ICE_REF_TAG);
    CHECK_EQ_INT(firn_ice_metadata_set_snapshot_ref(md, &bad, &err), -FIRN_ERR_INVALID);
    CHECK(strstr(err.message, "main must be a branch"));
    bad = firn_ice_ref_make("x", 999, FIRN_ICE_REF_BRANCH);
    CHECK_EQ_INT(firn_ice_metadata_set_snapshot_ref(md, &bad, &err), -FIRN_ERR_INVALID);
    CHECK(strstr(err.message, "unknown snapshot 999"));
    bad = firn_ice_ref_make("t2", 101, FIRN_ICE_REF_TAG);
    bad.min_snapshots_to_keep = 3;
    CHECK_EQ_INT(firn_ice_metadata_set_snapshot_ref(md, &bad, &err), -FIRN_ERR_INVALID);
    /* the result is valid metadata */
    char *txt = firn_ice_metadata_to_string(md, 0, NULL, &err);
    CHECK_MSG(txt, "%s", err.message);
    CHECK(strstr(txt, "\"refs\":{\"main\":{\"snapshot-id\":202,\"type\":\"branch\"},"
                      "\"dev\":{\"snapshot-id\":202,\"type\":\"branch\",\"max-ref-age-ms\":86400000},"
                      "\"release\":{\"snapshot-id\":101,\"type\":\"tag\"}}"));
    CHECK(strstr(txt, "{\"sequence-number\":2,\"snapshot-id\":202,\"parent-snapshot-id\":101,"
                      "\"timestamp-ms\":3000,\"summary\":{\"operation\":\"append\",\"added-records\":\"1\"},"
                      "\"manifest-list\":\"file:/tmp/wh/t/metadata/snap.avro\",\"schema-id\":0}"));
    free(txt);
    /* copy keeps everything */
    firn_ice_metadata *c = firn_ice_metadata_copy(md, &err);
    CHECK_MSG(c, "%s", err.message);
    json_t *j1 = firn_ice_metadata_to_json(md), *j2 = firn_ice_metadata_to_json(c);
    CHECK(json_equal(j1, j2));
    json_decref(j1);
    json_decref(j2);
    firn_ice_metadata_free(c);
    /* remove main: no current snapshot */
    CHECK_OK(firn_ice_metadata_remove_snapshot_ref(md, "main", &err), &err);
    CHECK(md->current_snapshot_id == -1 && !firn_ice_metadata_ref(md, "main"));
    CHECK_OK(firn_ice_metadata_remove_snapshot_ref(md, "never-was", &err), &err);
    CHECK_OK(firn_ice_metadata_validate(md, &err), &err);
    firn_ice_metadata_free(md);
    firn_arena_release(&a);
    firn_error_release(&err);
}

FIRN_TEST(iceberg_metadata_remove_snapshots_and_logs) {
    firn_error err;
    firn_error_init(&err);
    firn_ice_metadata *md = load("spark_v2_evolved.metadata.json", &err);
    CHECK_MSG(md, "%s", err.message);
    int64_t s1 = INT64_C(3055729675574597004), s3 = INT64_C(8333017788700497002);
    /* expiring the first snapshot drops the tag on it and its log entry */
    CHECK_OK(firn_ice_metadata_remove_snapshots(md, &s1, 1, &err), &err);
    CHECK(md->nsnapshots == 3 && !firn_ice_metadata_ref(md, "v1.0") && md->nrefs == 2);
    CHECK(md->nsnapshot_log == 2 && md->snapshot_log[0].snapshot_id == INT64_C(6144239829512836421));
    CHECK(md->statistics_json != NULL); /* those are for s3 */
    /* removing the current snapshot removes main and its statistics */
    CHECK_OK(firn_ice_metadata_remove_snapshots(md, &s3, 1, &err), &err);
    CHECK(md->current_snapshot_id == -1 && !firn_ice_metadata_ref(md, "main"));
    CHECK(md->statistics_json == NULL && md->partition_statistics_json == NULL);
    CHECK_EQ_INT(md->nsnapshot_log, 0); /* the last entry went, so the history before it too */
    CHECK_OK(firn_ice_metadata_validate(md, &err), &err);
    /* properties */
    firn_ice_kv kv[2] = {{"owner", "firn"}, {"commit.retry.num-retries", "7"}};
    CHECK_OK(firn_ice_metadata_set_properties(md, kv, 2, &err), &err);
    CHECK_EQ_STR(firn_ice_metadata_property(md, "owner"), "firn");
    CHECK_EQ_INT(firn_ice_metadata_property_int(md, "commit.retry.num-retries", 4), 7);
    const char *rm[] = {"owner", "absent"};
    CHECK_OK(firn_ice_metadata_remove_properties(md, rm, 2, &err), &err);
    CHECK(firn_ice_metadata_property(md, "owner") == NULL && md->nproperties == 4);
    firn_ice_kv bad_utf8 = {"k", "\xff\xfe"};
    CHECK_EQ_INT(firn_ice_metadata_set_properties(md, &bad_utf8, 1, &err), -FIRN_ERR_INVALID);
    CHECK(strstr(err.message, "not valid UTF-8") && md->nproperties == 4);
    /* metadata log keeps write.metadata.previous-versions-max (10 here) entries */
    for (int i = 0; i < 8; i++) {
        char f[64];
        snprintf(f, sizeof f, "s3://warehouse/db/events/metadata/%05d-x.metadata.json", i + 4);
        CHECK_OK(firn_ice_metadata_append_metadata_log(md, 1717171800000 + i, f, &err), &err);
    }
    CHECK_EQ_INT(md->nmetadata_log, 10);
    CHECK(strstr(md->metadata_log[0].metadata_file, "00002-"));
    CHECK(strstr(md->metadata_log[9].metadata_file, "00011-x"));
    CHECK_OK(firn_ice_metadata_set_location(md, "s3://other/place/", &err), &err);
    CHECK_EQ_STR(md->location, "s3://other/place");
    CHECK_EQ_INT(firn_ice_metadata_set_location(md, "", &err), -FIRN_ERR_INVALID);
    firn_ice_metadata_free(md);
}

FIRN_TEST(iceberg_metadata_rest_updates) {
    firn_error err;
    firn_error_init(&err);
    firn_ice_metadata *md = load("empty_v2.metadata.json", &err);
    CHECK_MSG(md, "%s", err.message);
    static const char *updates[] = {
        "{\"action\":\"assign-uuid\",\"uuid\":\"5F4B3E2D-1C0B-4A99-8877-665544332211\"}",
        "{\"action\":\"upgrade-format-version\",\"format-version\":2}",
        "{\"action\":\"add-schema\",\"last-column-id\":4,\"schema\":{\"type\":\"struct\",\"schema-id\":-1,"
        " \"fields\":[{\"id\":1,\"name\":\"raw\",\"required\":true,\"type\":\"binary\"},"
        " {\"id\":2,\"name\":\"reason\",\"required\":false,\"type\":\"string\"},"
        " {\"id\":3,\"name\":\"received\",\"required\":false,\"type\":\"timestamptz\"},"
        " {\"id\":4,\"name\":\"topic\",\"required\":false,\"type\":\"string\"}]}}",
        "{\"action\":\"set-current-schema\",\"schema-id\":-1}",
        "{\"action\":\"add-spec\",\"spec\":{\"fields\":["
        " {\"name\":\"received_hour\",\"transform\":\"hour\",\"source-id\":3},"
        " {\"name\":\"topic\",\"transform\":\"identity\",\"source-id\":4}]}}",
        "{\"action\":\"set-default-spec\",\"spec-id\":-1}",
        "{\"action\":\"add-sort-order\",\"sort-order\":{\"order-id\":1,\"fields\":[{\"transform\":"
        " \"identity\",\"source-id\":4,\"direction\":\"desc\",\"null-order\":\"nulls-last\"}]}}",
        "{\"action\":\"set-default-sort-order\",\"sort-order-id\":-1}",
        "{\"action\":\"set-properties\",\"updates\":{\"a\":\"1\",\"b\":\"2\"}}",
        "{\"action\":\"remove-properties\",\"removals\":[\"a\"]}",
        "{\"action\":\"add-snapshot\",\"snapshot\":{\"snapshot-id\":7,\"sequence-number\":1,"
        " \"timestamp-ms\":1700000001000,\"manifest-list\":\"file:/tmp/m.avro\","
        " \"summary\":{\"operation\":\"append\"},\"schema-id\":1}}",
        "{\"action\":\"set-snapshot-ref\",\"ref-name\":\"main\",\"type\":\"branch\",\"snapshot-id\":7}",
        "{\"action\":\"set-snapshot-ref\",\"ref-name\":\"audit\",\"type\":\"branch\",\"snapshot-id\":7,"
        " \"max-ref-age-ms\":1000}",
        "{\"action\":\"remove-snapshot-ref\",\"ref-name\":\"audit\"}",
        "{\"action\":\"set-statistics\",\"snapshot-id\":7,\"statistics\":{\"snapshot-id\":7,"
        " \"statistics-path\":\"file:/tmp/s.puffin\",\"file-size-in-bytes\":1,"
        " \"file-footer-size-in-bytes\":1,\"blob-metadata\":[]}}",
        "{\"action\":\"set-location\",\"location\":\"file:/tmp/moved\"}",
    };
    for (size_t i = 0; i < sizeof updates / sizeof updates[0]; i++) {
        json_error_t je;
        json_t *u = json_loads(updates[i], 0, &je);
        CHECK_MSG(u, "update %zu is not JSON: %s", i, je.text);
        int rc = firn_ice_metadata_apply_update_json(md, u, &err);
        json_decref(u);
        CHECK_MSG(rc == 0, "update %zu: %s", i, err.message);
    }
    CHECK(md->current_schema_id == 1 && md->last_column_id == 4);
    const firn_ice_partition_spec *spec = firn_ice_metadata_default_spec(md);
    CHECK(spec->spec_id == 1 && spec->fields[0].field_id == 1000 && spec->fields[1].field_id == 1001);
    CHECK_EQ_INT(md->last_partition_id, 1001);
    CHECK(md->default_sort_order_id == 1 && md->current_snapshot_id == 7 && md->nrefs == 1);
    CHECK(firn_ice_metadata_property(md, "a") == NULL && firn_ice_metadata_property(md, "b"));
    CHECK(strstr(md->statistics_json, "s.puffin"));
    CHECK_EQ_STR(md->location, "file:/tmp/moved");
    /* refused updates leave the metadata as it was */
    json_t *before = firn_ice_metadata_to_json(md);
    static const struct {
        const char *json, *message;
        firn_err_kind kind;
    } bad[] = {
        {"{\"action\":\"set-current-schema\",\"schema-id\":42}", "table update 'set-current-schema': set-current-schema: no schema with id 42", FIRN_ERR_INVALID},
        {"{\"action\":\"add-snapshot\",\"snapshot\":{\"snapshot-id\":8,\"parent-snapshot-id\":7,"
         "\"sequence-number\":1,\"timestamp-ms\":1,\"manifest-list\":\"x\",\"summary\":{\"operation\":\"append\"}}}",
         "is not above the table's last sequence number 1", FIRN_ERR_CONFLICT},
        {"{\"action\":\"set-snapshot-ref\",\"ref-name\":\"main\",\"type\":\"branch\",\"snapshot-id\":9}",
         "unknown snapshot 9", FIRN_ERR_INVALID},
        {"{\"action\":\"assign-uuid\",\"uuid\":\"00000000-0000-4000-8000-000000000000\"}",
         "cannot change it", FIRN_ERR_CONFLICT},
        {"{\"action\":\"upgrade-format-version\",\"format-version\":3}", "up to 2, not 3", FIRN_ERR_UNSUPPORTED},
        {"{\"action\":\"add-spec\",\"spec\":{\"fields\":[{\"name\":\"x\",\"transform\":\"day\",\"source-id\":2}]}}",
         "transform day cannot be applied to column 'reason'", FIRN_ERR_INVALID},
        {"{\"action\":\"set-properties\",\"updates\":{\"a\":1}}", "updates.a: expected a string value", FIRN_ERR_CORRUPT},
        {"{\"action\":\"add-encryption-key\",\"encryption-key\":{}}", "is not supported by firn", FIRN_ERR_UNSUPPORTED},
        {"{\"noaction\":1}", "missing required field 'action'", FIRN_ERR_CORRUPT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *u = json_loads(bad[i].json, 0, NULL);
        CHECK_MSG(u, "bad %zu is not JSON", i);
        int rc = firn_ice_metadata_apply_update_json(md, u, &err);
        json_decref(u);
        CHECK_MSG(rc == -(int)bad[i].kind, "bad update %zu: rc %d (%s)", i, rc, err.message);
        CHECK_MSG(strstr(err.message, bad[i].message), "bad update %zu: '%s' lacks '%s'", i, err.message,
                  bad[i].message);
    }
    json_t *after = firn_ice_metadata_to_json(md);
    CHECK(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    firn_ice_metadata_free(md);
    firn_error_release(&err);
}

/* The compact writer (direct emission of snapshots and logs) gives exactly the bytes
 * jansson gives for firn_ice_metadata_to_json, and a copy writes the same bytes as
 * its original: for every golden file and for one with strings that need escapes,
 * non-ASCII text, unknown keys at every level, duplicate summary keys and v1
 * embedded manifests. */
static void check_compact_same(const char *what, const firn_ice_metadata *md) {
    firn_error err;
    firn_error_init(&err);
    size_t len = 0;
    char *fast = firn_ice_metadata_to_string(md, 0, &len, &err);
    CHECK_MSG(fast, "%s: %s", what, err.message);
    json_t *j = firn_ice_metadata_to_json(md);
    char *ref = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    CHECK_MSG(fast && ref && strcmp(fast, ref) == 0, "%s: compact writer differs:\n%s\njansson:\n%s",
              what, fast ? fast : "(null)", ref ? ref : "(null)");
    CHECK(fast && len == strlen(fast));
    firn_ice_metadata *c = firn_ice_metadata_copy(md, &err);
    CHECK_MSG(c, "%s: copy: %s", what, err.message);
    char *copied = c ? firn_ice_metadata_to_string(c, 0, NULL, &err) : NULL;
    CHECK_MSG(copied && fast && strcmp(copied, fast) == 0, "%s: the copy writes differently", what);
    free(copied);
    firn_ice_metadata_free(c);
    free(fast);
    free(ref);
}

FIRN_TEST(iceberg_metadata_compact_writer_matches_jansson) {
    const char *names[] = {"spark_v2_evolved.metadata.json", "pyiceberg_v2.metadata.json",
                           "empty_v2.metadata.json", "v1_java_new.metadata.json",
                           "v1_legacy.metadata.json"};
    firn_error err;
    firn_error_init(&err);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        firn_ice_metadata *md = load(names[i], &err);
        CHECK_MSG(md, "%s: %s", names[i], err.message);
        if (md) check_compact_same(names[i], md);
        firn_ice_metadata_free(md);
    }
    /* odd strings and unknown keys everywhere */
    size_t len;
    char *text = golden("spark_v2_evolved.metadata.json", &len);
    CHECK(text);
    if (!text) return;
    json_t *j = json_loadb(text, len, 0, NULL);
    free(text);
    json_object_set_new(j, "x-engine", json_pack("{s:[i,s]}", "a", 1, "tab\there"));
    json_t *snaps = json_object_get(j, "snapshots");
    CHECK(json_array_size(snaps) >= 2);
    json_t *s0 = json_array_get(snaps, 0), *s1 = json_array_get(snaps, 1);
    json_object_set_new(s0, "first-row-id", json_integer(7));
    json_object_set_new(json_object_get(s1, "summary"), "note", json_string("quote \" back \\ nl \n \x01 ü"));
    json_object_set_new(json_object_get(s1, "summary"), "café", json_string("crème"));
    json_object_set_new(json_object_get(j, "properties"), "k\"ey", json_string("v/1"));
    json_t *log = json_object_get(j, "metadata-log");
    json_array_append_new(log, json_pack("{s:I,s:s}", "timestamp-ms", (json_int_t)1, "metadata-file",
                                         "file:/t/métadata \"1\".json"));
    char *mutated = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    firn_ice_metadata *md = firn_ice_metadata_parse(mutated, strlen(mutated), &err);
    free(mutated);
    CHECK_MSG(md, "%s", err.message);
    if (!md) return;
    check_compact_same("mutated spark", md);
    /* a snapshot added with a duplicate summary key */
    firn_ice_kv sum[] = {{"operation", "append"}, {"k", "1"}, {"k", "2"}};
    firn_ice_snapshot s;
    memset(&s, 0, sizeof s);
    s.snapshot_id = 99;
    s.has_parent = true;
    s.parent_snapshot_id = md->current_snapshot_id;
    s.sequence_number = md->last_sequence_number + 1;
    s.timestamp_ms = md->last_updated_ms + 1;
    s.manifest_list = "file:/t/metadata/snap-99.avro";
    s.summary = sum;
    s.nsummary = 3;
    CHECK_OK(firn_ice_metadata_add_snapshot(md, &s, &err), &err);
    check_compact_same("duplicate summary key", md);
    firn_ice_metadata_free(md);
}
