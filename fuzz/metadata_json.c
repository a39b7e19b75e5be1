/*
 * metadata_json.c - libFuzzer target for the table metadata parser
 * (src/iceberg/metadata.c and everything it reads: schemas, types, partition
 * specs, sort orders, snapshots, refs). Properties checked beyond "no crash":
 *   - a rejected input always says why (kind and message set);
 *   - accepted metadata can always be written, and parse(write(x)) writes the
 *     same JSON again (the writer never loses or invents anything);
 *   - lookups, partition types, defaults and a few table updates on accepted
 *     metadata do not crash, and refused updates leave the metadata unchanged.
 *
 *   make fuzz && build/fuzz/metadata_json -dict=fuzz/metadata_json.dict fuzz/corpus/metadata_json
 */
#include "iceberg/iceberg.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail) {
    fprintf(stderr, "metadata_json: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void exercise_schema(const firn_ice_schema *s, firn_arena *a) {
    json_t *j = firn_ice_schema_to_json(s);
    json_decref(j);
    int32_t hi = firn_ice_schema_highest_field_id(s);
    for (int32_t id = 0; id <= hi && id < 64; id++) {
        const firn_ice_field *f = firn_ice_schema_find_field(s, id);
        const char *name = firn_ice_schema_find_name(s, id);
        if ((f == NULL) != (name == NULL)) fail("field and name lookups disagree", NULL);
        if (!f) continue;
        if (firn_ice_schema_find_by_name(s, name, true) != f) fail("name lookup lost a field", name);
        (void)firn_ice_schema_find_by_name(s, name, false);
        (void)firn_ice_schema_parent_id(s, id);
        /* defaults parse (or fail cleanly) as values of the field's type */
        const char *defaults[2] = {f->initial_default, f->write_default};
        for (int k = 0; k < 2; k++) {
            if (!defaults[k] || !firn_ice_type_is_primitive(f->type)) continue;
            json_t *d = json_loads(defaults[k], JSON_DECODE_ANY, NULL);
            firn_ice_value v;
            firn_error err;
            firn_error_init(&err);
            if (d && firn_ice_value_from_json(a, f->type, d, &v, &err) == 0 && !v.is_null) {
                firn_buf b = {0};
                if (firn_ice_value_to_bytes(&v, &b, &err) == 0) {
                    firn_ice_value back;
                    if (firn_ice_value_from_bytes(f->type, b.data, b.len, &back, &err))
                        fail("a serialized bound does not read back", err.message);
                }
                firn_ice_value_human_string(f->type, &v, &b);
                json_t *again = firn_ice_value_to_json(f->type, &v, &err);
                json_decref(again);
                firn_buf_release(&b);
            }
            json_decref(d);
        }
    }
    /* evolve: add a column (may be refused when the name is taken) */
    firn_ice_schema_update *u = firn_ice_schema_update_new(s, hi);
    if (u) {
        firn_error err;
        firn_error_init(&err);
        (void)firn_ice_schema_update_add_column(u, NULL, "fuzz_added",
                                                firn_ice_type_primitive(FIRN_ICE_STRING), NULL, &err);
        int32_t last;
        firn_ice_schema *n = firn_ice_schema_update_apply(u, a, s->schema_id + 1, &last, &err);
        if (!n) fail("a schema update could not be applied", err.message);
        firn_ice_schema_update_free(u);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    firn_error err;
    firn_error_init(&err);
    firn_ice_metadata *md = firn_ice_metadata_parse((const char *)data, size, &err);
    if (!md) {
        if (err.kind == FIRN_OK || !err.message[0]) fail("a rejection without a reason", NULL);
        firn_error_release(&err);
        return 0;
    }
    size_t n1;
    char *once = firn_ice_metadata_to_string(md, 0, &n1, &err);
    if (!once) fail("accepted metadata cannot be written", err.message);
    firn_ice_metadata *md2 = firn_ice_metadata_parse(once, n1, &err);
    if (!md2) fail("written metadata does not parse", err.message);
    char *twice = firn_ice_metadata_to_string(md2, 0, NULL, &err);
    if (!twice) fail("rewritten metadata cannot be written", err.message);
    if (strcmp(once, twice) != 0) fail("write(parse(write(x))) != write(x)", NULL);
    free(twice);
    firn_ice_metadata_free(md2);

    firn_arena a;
    firn_arena_init(&a, 0);
    for (size_t i = 0; i < md->nschemas; i++) exercise_schema(md->schemas[i], &a);
    const firn_ice_schema *cur = firn_ice_metadata_current_schema(md);
    const firn_ice_partition_spec *spec = firn_ice_metadata_default_spec(md);
    if (!cur || !spec || !firn_ice_metadata_default_sort_order(md)) fail("defaults do not resolve", NULL);
    if (!firn_ice_partition_type(&a, spec, cur, &err)) fail("no partition type for the default spec", err.message);
    for (size_t i = 0; i < md->nspecs; i++) (void)firn_ice_partition_type(&a, md->specs[i], cur, &err);
    for (size_t i = 0; i < md->nsnapshots; i++) (void)firn_ice_snapshot_operation(md->snapshots[i]);
    (void)firn_ice_metadata_current_snapshot(md);

    /* updates: refused ones must not change anything */
    json_t *before = firn_ice_metadata_to_json(md);
    json_t *u = json_pack("{s:s,s:i}", "action", "set-current-schema", "schema-id", 1 << 30);
    if (firn_ice_metadata_apply_update_json(md, u, &err) == 0) fail("set a schema that is not there", NULL);
    json_decref(u);
    int64_t missing = 1;
    while (firn_ice_metadata_snapshot(md, missing)) missing++;
    firn_ice_ref r = firn_ice_ref_make("main", missing, FIRN_ICE_REF_BRANCH);
    if (firn_ice_metadata_set_snapshot_ref(md, &r, &err) == 0) fail("ref to a missing snapshot", NULL);
    json_t *after = firn_ice_metadata_to_json(md);
    if (!json_equal(before, after)) fail("a refused update changed the metadata", NULL);
    json_decref(before);
    json_decref(after);
    /* and accepted ones keep it valid */
    firn_ice_metadata *c = firn_ice_metadata_copy(md, &err);
    if (!c) fail("copy failed", err.message);
    int32_t sid;
    if (firn_ice_metadata_add_schema(c, cur, &sid, &err) || sid != cur->schema_id)
        fail("re-adding the current schema did not reuse its id", err.message);
    if (c->nsnapshots) {
        const firn_ice_snapshot *victim = c->snapshots[c->nsnapshots - 1];
        int64_t id = victim->snapshot_id;
        firn_ice_metadata_remove_snapshots(c, &id, 1, &err);
    }
    firn_ice_metadata_set_last_updated_ms(c, md->last_updated_ms + 1);
    char *third = firn_ice_metadata_to_string(c, 0, NULL, &err);
    if (!third) fail("metadata invalid after updates", err.message);
    free(third);
    firn_ice_metadata_free(c);

    firn_arena_release(&a);
    free(once);
    firn_ice_metadata_free(md);
    firn_error_release(&err);
    return 0;
}
