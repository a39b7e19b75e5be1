/* test_iceberg_evolution.c - schema evolution keeps field ids; invalid changes
 * are refused with reasons. */
#include "test.h"
#include "iceberg/iceberg.h"

#include <jansson.h>
#include <stdlib.h>

static const char *base_json =
    "{\"type\":\"struct\",\"schema-id\":0,\"identifier-field-ids\":[1],\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"count\",\"required\":true,\"type\":\"int\"},"
    "{\"id\":3,\"name\":\"ratio\",\"required\":false,\"type\":\"float\"},"
    "{\"id\":4,\"name\":\"price\",\"required\":false,\"type\":\"decimal(9, 2)\"},"
    "{\"id\":5,\"name\":\"loc\",\"required\":false,\"type\":{\"type\":\"struct\",\"fields\":["
    "  {\"id\":6,\"name\":\"lat\",\"required\":true,\"type\":\"double\"}]}},"
    "{\"id\":7,\"name\":\"points\",\"required\":false,\"type\":{\"type\":\"list\",\"element-id\":8,"
    "  \"element\":{\"type\":\"struct\",\"fields\":[{\"id\":9,\"name\":\"x\",\"required\":true,"
    "  \"type\":\"int\"}]},\"element-required\":true}},"
    "{\"id\":10,\"name\":\"attrs\",\"required\":false,\"type\":{\"type\":\"map\",\"key-id\":11,"
    "  \"key\":\"string\",\"value-id\":12,\"value\":\"string\",\"value-required\":false}},"
    "{\"id\":13,\"name\":\"name\",\"required\":false,\"type\":\"string\"}]}";

typedef struct fixture {
    firn_arena arena;
    firn_ice_schema *base;
    firn_ice_schema_update *u;
    firn_error err;
} fixture;

static int setup(fixture *f) {
    firn_arena_init(&f->arena, 0);
    firn_error_init(&f->err);
    f->base = firn_ice_schema_parse(&f->arena, base_json, strlen(base_json), &f->err);
    if (!f->base) return -1;
    f->u = firn_ice_schema_update_new(f->base, 13);
    return f->u ? 0 : -1;
}

static void teardown(fixture *f) {
    firn_ice_schema_update_free(f->u);
    firn_arena_release(&f->arena);
    firn_error_release(&f->err);
}

FIRN_TEST(iceberg_evolution_add_columns) {
    fixture f;
    CHECK(setup(&f) == 0);
    firn_ice_field sub[2] = {
        {.id = 0, .name = "a", .required = true, .type = firn_ice_type_primitive(FIRN_ICE_INT)},
        {.id = 0, .name = "b", .type = firn_ice_type_list(&f.arena, 0, false, firn_ice_type_primitive(FIRN_ICE_STRING))},
    };
    const firn_ice_type *nested = firn_ice_type_struct(&f.arena, sub, 2);
    CHECK_OK(firn_ice_schema_update_add_column(f.u, NULL, "note", firn_ice_type_primitive(FIRN_ICE_STRING), "free text", &f.err), &f.err);
    CHECK_OK(firn_ice_schema_update_add_column(f.u, "loc", "lon", firn_ice_type_primitive(FIRN_ICE_DOUBLE), NULL, &f.err), &f.err);
    CHECK_OK(firn_ice_schema_update_add_column(f.u, "points", "y", firn_ice_type_primitive(FIRN_ICE_INT), NULL, &f.err), &f.err);
    CHECK_OK(firn_ice_schema_update_add_column(f.u, NULL, "extra", nested, NULL, &f.err), &f.err);
    int32_t last = 0;
    firn_ice_schema *s = firn_ice_schema_update_apply(f.u, &f.arena, 1, &last, &f.err);
    CHECK_MSG(s, "apply: %s", f.err.message);
    CHECK_EQ_INT(s->schema_id, 1);
    CHECK_EQ_INT(last, 20); /* note 14, lon 15, y 16, extra 17, a 18, b 19, b.element 20 */
    static const struct {
        const char *name;
        int id;
        bool required;
    } want[] = {{"note", 14, false},       {"loc.lon", 15, false},  {"points.element.y", 16, false},
                {"extra", 17, false},      {"extra.a", 18, true},   {"extra.b", 19, false},
                {"extra.b.element", 20, false}, {"id", 1, true},   {"loc.lat", 6, true}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const firn_ice_field *fld = firn_ice_schema_find_by_name(s, want[i].name, true);
        CHECK_MSG(fld, "missing %s", want[i].name);
        CHECK_MSG(fld->id == want[i].id && fld->required == want[i].required, "%s: id %d req %d",
                  want[i].name, fld->id, fld->required);
    }
    CHECK_EQ_STR(firn_ice_schema_find_by_name(s, "note", true)->doc, "free text");
    /* added at the end, existing order kept; the base is untouched */
    CHECK_EQ_STR(firn_ice_schema_fields(s)[firn_ice_schema_nfields(s) - 1].name, "extra");
    CHECK_EQ_INT(firn_ice_schema_nfields(f.base), 8);
    CHECK(firn_ice_schema_find_by_name(f.base, "note", true) == NULL);
    CHECK_EQ_INT(s->nidentifier_field_ids, 1);
    teardown(&f);
}

/* the change must be refused with a message containing msg */
#define REJECT(call, msg)                                                                  \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        CHECK_MSG(rc_ == -FIRN_ERR_INVALID, "%s was accepted (rc %d)", #call, rc_);        \
        CHECK_MSG(strstr(f.err.message, (msg)), "%s: '%s' lacks '%s'", #call, f.err.message, \
                  (msg));                                                                  \
    } while (0)

FIRN_TEST(iceberg_evolution_rejects) {
    fixture f;
    CHECK(setup(&f) == 0);
    const firn_ice_type *str = firn_ice_type_primitive(FIRN_ICE_STRING);
    const firn_ice_type *lng = firn_ice_type_primitive(FIRN_ICE_LONG);
    const firn_ice_type *integer = firn_ice_type_primitive(FIRN_ICE_INT);
    const firn_ice_type *flt = firn_ice_type_primitive(FIRN_ICE_FLOAT);
    firn_ice_schema_update *u = f.u;
    firn_error *e = &f.err;
    REJECT(firn_ice_schema_update_add_required_column(u, NULL, "must", str, NULL, e),
           "cannot add required column 'must'");
    REJECT(firn_ice_schema_update_add_column(u, NULL, "name", str, NULL, e),
           "cannot add column 'name': it already exists");
    REJECT(firn_ice_schema_update_add_column(u, "loc", "lat", str, NULL, e),
           "cannot add column 'loc.lat': it already exists");
    REJECT(firn_ice_schema_update_add_column(u, "name", "x", str, NULL, e),
           "cannot add column 'x' to 'name': it is a string, not a struct");
    REJECT(firn_ice_schema_update_add_column(u, "nope", "x", str, NULL, e),
           "cannot add a column to 'nope': no such column");
    REJECT(firn_ice_schema_update_rename_column(u, "name", "count", e),
           "duplicate field name 'count'");
    REJECT(firn_ice_schema_update_rename_column(u, "points.element", "el", e),
           "list elements and map keys/values have fixed names");
    REJECT(firn_ice_schema_update_delete_column(u, "id", e), "'id' is an identifier field");
    REJECT(firn_ice_schema_update_delete_column(u, "attrs.key", e), "delete the list or map instead");
    REJECT(firn_ice_schema_update_delete_column(u, "missing", e),
           "cannot delete 'missing': no such column");
    REJECT(firn_ice_schema_update_set_required(u, "name", true, e),
           "cannot make optional column 'name' required");
    REJECT(firn_ice_schema_update_set_required(u, "id", false, e), "it is an identifier field");
    REJECT(firn_ice_schema_update_set_required(u, "attrs.key", false, e),
           "map keys are always required");
    REJECT(firn_ice_schema_update_update_column(u, "id", integer, e),
           "cannot change column 'id' from long to int: narrowing would lose values");
    REJECT(firn_ice_schema_update_update_column(u, "name", integer, e), "not a valid type promotion");
    REJECT(firn_ice_schema_update_update_column(u, "count", flt, e), "not a valid type promotion");
    REJECT(firn_ice_schema_update_update_column(u, "price", firn_ice_type_decimal(&f.arena, 12, 3), e),
           "the scale of a decimal cannot change");
    REJECT(firn_ice_schema_update_update_column(u, "price", firn_ice_type_decimal(&f.arena, 8, 2), e),
           "from decimal(9, 2) to decimal(8, 2): narrowing would lose digits");
    REJECT(firn_ice_schema_update_update_column(u, "loc", lng, e), "only primitive types can be widened");
    REJECT(firn_ice_schema_update_set_identifier_fields(u, (const char *const[]){"ratio"}, 1, e),
           "it is optional");
    REJECT(firn_ice_schema_update_set_identifier_fields(u, (const char *const[]){"points.element.x"}, 1, e),
           "nested in a list or map");
    /* after all those refusals the update still applies, unchanged */
    int32_t last;
    firn_ice_schema *s = firn_ice_schema_update_apply(u, &f.arena, 1, &last, e);
    CHECK_MSG(s, "apply: %s", e->message);
    CHECK_EQ_INT(last, 13);
    CHECK(firn_ice_schema_same_structure(s, f.base));
    teardown(&f);
}

FIRN_TEST(iceberg_evolution_rename_drop_widen) {
    fixture f;
    CHECK(setup(&f) == 0);
    firn_error *e = &f.err;
    CHECK_OK(firn_ice_schema_update_rename_column(f.u, "name", "label", e), e);
    CHECK_OK(firn_ice_schema_update_rename_column(f.u, "loc.lat", "latitude", e), e);
    CHECK_OK(firn_ice_schema_update_delete_column(f.u, "attrs", e), e);
    CHECK_OK(firn_ice_schema_update_set_required(f.u, "count", false, e), e);
    CHECK_OK(firn_ice_schema_update_update_column(f.u, "count", firn_ice_type_primitive(FIRN_ICE_LONG), e), e);
    CHECK_OK(firn_ice_schema_update_update_column(f.u, "ratio", firn_ice_type_primitive(FIRN_ICE_DOUBLE), e), e);
    CHECK_OK(firn_ice_schema_update_update_column(f.u, "price", firn_ice_type_decimal(&f.arena, 38, 2), e), e);
    CHECK_OK(firn_ice_schema_update_update_column(f.u, "id", firn_ice_type_primitive(FIRN_ICE_LONG), e), e); /* no-op */
    CHECK_OK(firn_ice_schema_update_update_doc(f.u, "label", "shown to people", e), e);
    /* a name freed by a rename or a delete may be used again, with a new id */
    CHECK_OK(firn_ice_schema_update_add_column(f.u, NULL, "name", firn_ice_type_primitive(FIRN_ICE_STRING), NULL, e), e);
    CHECK_OK(firn_ice_schema_update_add_column(f.u, NULL, "attrs", firn_ice_type_primitive(FIRN_ICE_STRING), NULL, e), e);
    /* count is optional now, so it cannot identify rows */
    CHECK_EQ_INT(firn_ice_schema_update_set_identifier_fields(f.u, (const char *const[]){"id", "count"}, 2, e),
                 -FIRN_ERR_INVALID);
    CHECK_OK(firn_ice_schema_update_set_identifier_fields(f.u, (const char *const[]){"id", "label"}, 2, e) ==
                     -FIRN_ERR_INVALID
                 ? 0
                 : -1,
             e); /* label is optional too */
    int32_t last;
    firn_ice_schema *s = firn_ice_schema_update_apply(f.u, &f.arena, 5, &last, e);
    CHECK_MSG(s, "apply: %s", e->message);
    CHECK_EQ_INT(last, 15);
    const firn_ice_field *label = firn_ice_schema_find_by_name(s, "label", true);
    CHECK(label && label->id == 13 && strcmp(label->doc, "shown to people") == 0);
    CHECK_EQ_INT(firn_ice_schema_find_by_name(s, "loc.latitude", true)->id, 6);
    CHECK_EQ_INT(firn_ice_schema_find_by_name(s, "name", true)->id, 14);
    CHECK_EQ_INT(firn_ice_schema_find_by_name(s, "attrs", true)->id, 15);
    CHECK(firn_ice_schema_find_field(s, 10) == NULL && firn_ice_schema_find_field(s, 11) == NULL);
    const firn_ice_field *count = firn_ice_schema_find_field(s, 2);
    CHECK(!count->required && count->type->id == FIRN_ICE_LONG);
    CHECK(firn_ice_schema_find_field(s, 3)->type->id == FIRN_ICE_DOUBLE);
    CHECK(firn_ice_schema_find_field(s, 4)->type->precision == 38);
    teardown(&f);
}

/* Evolution through table metadata: add-schema + set-current-schema, with the
 * partition spec guarding its source columns. */
FIRN_TEST(iceberg_evolution_in_metadata) {
    fixture f;
    CHECK(setup(&f) == 0);
    firn_error *e = &f.err;
    firn_ice_partition_field pf = {.source_id = 13, .name = "name_trunc",
                                   .transform = {FIRN_ICE_TRANSFORM_TRUNCATE, 4, NULL}};
    firn_ice_partition_spec *spec = firn_ice_partition_spec_new(&f.arena, 0, &pf, 1);
    firn_ice_metadata *md = firn_ice_metadata_new(f.base, spec, NULL, "file:/tmp/wh/t", NULL, 0, 2, 1000, e);
    CHECK_MSG(md, "new: %s", e->message);
    const firn_ice_schema *cur = firn_ice_metadata_current_schema(md);
    firn_ice_schema_update *u = firn_ice_schema_update_new(cur, md->last_column_id);
    CHECK_OK(firn_ice_schema_update_add_column(u, NULL, "extra", firn_ice_type_primitive(FIRN_ICE_DATE), NULL, e), e);
    firn_ice_schema *s1 = firn_ice_schema_update_apply(u, &f.arena, -1, NULL, e);
    firn_ice_schema_update_free(u);
    CHECK(s1);
    int32_t id = -2;
    CHECK_OK(firn_ice_metadata_add_schema(md, s1, &id, e), e);
    CHECK_EQ_INT(id, 1);
    CHECK_OK(firn_ice_metadata_set_current_schema(md, -1, e), e);
    CHECK_EQ_INT(md->current_schema_id, 1);
    CHECK_EQ_INT(md->last_column_id, 14);
    /* adding the same schema again reuses its id */
    CHECK_OK(firn_ice_metadata_add_schema(md, s1, &id, e), e);
    CHECK_EQ_INT(id, 1);
    CHECK_EQ_INT(md->nschemas, 2);
    /* dropping the partition source makes a schema the table cannot switch to */
    u = firn_ice_schema_update_new(firn_ice_metadata_current_schema(md), md->last_column_id);
    const char *src_name = firn_ice_schema_find_name(firn_ice_metadata_current_schema(md),
                                                     firn_ice_metadata_default_spec(md)->fields[0].source_id);
    CHECK_OK(firn_ice_schema_update_delete_column(u, src_name, e), e);
    firn_ice_schema *s2 = firn_ice_schema_update_apply(u, &f.arena, -1, NULL, e);
    firn_ice_schema_update_free(u);
    CHECK_OK(firn_ice_metadata_add_schema(md, s2, &id, e), e);
    CHECK_EQ_INT(firn_ice_metadata_set_current_schema(md, id, e), -FIRN_ERR_INVALID);
    CHECK_MSG(strstr(e->message, "the default partition spec breaks") &&
                  strstr(e->message, "is not in schema 2"), "%s", e->message);
    CHECK_EQ_INT(md->current_schema_id, 1);
    CHECK_EQ_INT(firn_ice_metadata_set_current_schema(md, 77, e), -FIRN_ERR_INVALID);
    CHECK_EQ_STR(e->message, "set-current-schema: no schema with id 77");
    char *txt = firn_ice_metadata_to_string(md, 0, NULL, e);
    CHECK_MSG(txt, "write: %s", e->message);
    free(txt);
    firn_ice_metadata_free(md);
    teardown(&f);
}
