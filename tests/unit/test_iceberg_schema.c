/* test_iceberg_schema.c - Iceberg types, schema JSON, lookups, fresh ids. */
#include "test.h"
#include "iceberg/iceberg.h"

#include <jansson.h>
#include <stdlib.h>

/* A schema with every kind of nesting, in the spec's JSON. */
static const char *nested_schema_json =
    "{\"type\":\"struct\",\"schema-id\":3,\"identifier-field-ids\":[1],\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\",\"doc\":\"row id\"},"
    "{\"id\":2,\"name\":\"loc\",\"required\":false,\"type\":{\"type\":\"struct\",\"fields\":["
    "  {\"id\":3,\"name\":\"lat\",\"required\":true,\"type\":\"double\"},"
    "  {\"id\":4,\"name\":\"lon\",\"required\":true,\"type\":\"double\"}]}},"
    "{\"id\":5,\"name\":\"tags\",\"required\":false,\"type\":{\"type\":\"list\",\"element-id\":6,"
    "  \"element\":\"string\",\"element-required\":false}},"
    "{\"id\":7,\"name\":\"attrs\",\"required\":true,\"type\":{\"type\":\"map\",\"key-id\":8,"
    "  \"key\":\"string\",\"value-id\":9,\"value\":{\"type\":\"struct\",\"fields\":["
    "    {\"id\":10,\"name\":\"v\",\"required\":false,\"type\":\"decimal(38, 10)\"}]},"
    "  \"value-required\":false}},"
    "{\"id\":11,\"name\":\"points\",\"required\":false,\"type\":{\"type\":\"list\",\"element-id\":12,"
    "  \"element\":{\"type\":\"struct\",\"fields\":[{\"id\":13,\"name\":\"x\",\"required\":true,"
    "  \"type\":\"fixed[16]\"}]},\"element-required\":true}},"
    "{\"id\":14,\"name\":\"n\",\"required\":false,\"type\":\"int\",\"initial-default\":34,"
    "  \"write-default\":35},"
    "{\"id\":15,\"name\":\"Mixed\",\"required\":false,\"type\":\"timestamptz_ns\","
    "  \"x-engine-field-key\":[1,2]}],"
    "\"x-engine-schema-key\":\"kept\"}";

static firn_ice_schema *parse_schema(firn_arena *a, const char *text, firn_error *err) {
    return firn_ice_schema_parse(a, text, strlen(text), err);
}

FIRN_TEST(iceberg_type_strings) {
    static const char *const names[] = {"boolean", "int", "long", "float", "double", "date",
                                        "time", "timestamp", "timestamptz", "timestamp_ns",
                                        "timestamptz_ns", "string", "uuid", "binary",
                                        "decimal(9, 2)", "fixed[16]"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        firn_ice_type t;
        firn_error err;
        firn_error_init(&err);
        CHECK_OK(firn_ice_type_parse_primitive(names[i], &t, &err), &err);
        char buf[64];
        CHECK_EQ_STR(firn_ice_type_to_string(&t, buf, sizeof buf), names[i]);
    }
    firn_ice_type t;
    firn_error err;
    firn_error_init(&err);
    CHECK_OK(firn_ice_type_parse_primitive("decimal( 38 ,0 )", &t, &err), &err);
    CHECK(t.id == FIRN_ICE_DECIMAL && t.precision == 38 && t.scale == 0);
    CHECK_OK(firn_ice_type_parse_primitive("decimal(9,2)", &t, &err), &err);
    CHECK(t.precision == 9 && t.scale == 2);
    CHECK_OK(firn_ice_type_parse_primitive("fixed[ 3 ]", &t, &err), &err);
    CHECK(t.id == FIRN_ICE_FIXED && t.length == 3);
    CHECK_EQ_INT(firn_ice_type_parse_primitive("decimal(39,2)", &t, &err), -FIRN_ERR_CORRUPT);
    CHECK(strstr(err.message, "precision must be 1..38"));
    CHECK_EQ_INT(firn_ice_type_parse_primitive("decimal(9)", &t, &err), -FIRN_ERR_CORRUPT);
    CHECK_EQ_INT(firn_ice_type_parse_primitive("fixed[0]", &t, &err), -FIRN_ERR_CORRUPT);
    CHECK_EQ_INT(firn_ice_type_parse_primitive("fixed[16]x", &t, &err), -FIRN_ERR_CORRUPT);
    CHECK_EQ_INT(firn_ice_type_parse_primitive("variant", &t, &err), -FIRN_ERR_UNSUPPORTED);
    CHECK_EQ_INT(firn_ice_type_parse_primitive("geometry(OGC:CRS84)", &t, &err), -FIRN_ERR_UNSUPPORTED);
    CHECK_EQ_INT(firn_ice_type_parse_primitive("strin", &t, &err), -FIRN_ERR_CORRUPT);
    CHECK_EQ_STR(err.message, "unknown type 'strin'");
    firn_error_release(&err);
}

FIRN_TEST(iceberg_schema_json_roundtrip) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *s = parse_schema(&a, nested_schema_json, &err);
    CHECK_MSG(s, "parse: %s", err.message);
    CHECK_EQ_INT(s->schema_id, 3);
    CHECK_EQ_INT(firn_ice_schema_nfields(s), 7);
    CHECK_EQ_INT(firn_ice_schema_highest_field_id(s), 15);
    /* write it back: the same JSON (key order aside), unknown keys included */
    json_t *orig = json_loads(nested_schema_json, 0, NULL);
    json_t *out = firn_ice_schema_to_json(s);
    char *txt = json_dumps(out, JSON_COMPACT);
    CHECK_MSG(json_equal(orig, out), "schema JSON changed: %s", txt);
    /* Java's layout: list/map keys in order, decimal with a space */
    CHECK(strstr(txt, "\"type\":\"decimal(38, 10)\""));
    CHECK(strstr(txt, "{\"type\":\"list\",\"element-id\":6,\"element\":\"string\",\"element-required\":false}"));
    CHECK(strstr(txt, "\"initial-default\":34,\"write-default\":35"));
    free(txt);
    /* and once more through our own output */
    firn_ice_schema *s2 = firn_ice_schema_from_json(&a, out, "", &err);
    CHECK_MSG(s2, "reparse: %s", err.message);
    CHECK(firn_ice_schema_same_structure(s, s2));
    CHECK_EQ_STR(s2->extra_json, "{\"x-engine-schema-key\":\"kept\"}");
    const firn_ice_field *mixed = firn_ice_schema_find_field(s2, 15);
    CHECK_EQ_STR(mixed->extra_json, "{\"x-engine-field-key\":[1,2]}");
    json_decref(orig);
    json_decref(out);
    firn_arena_release(&a);
    firn_error_release(&err);
}

FIRN_TEST(iceberg_schema_lookup) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *s = parse_schema(&a, nested_schema_json, &err);
    CHECK_MSG(s, "parse: %s", err.message);
    CHECK_EQ_STR(firn_ice_schema_find_name(s, 3), "loc.lat");
    CHECK_EQ_STR(firn_ice_schema_find_name(s, 6), "tags.element");
    CHECK_EQ_STR(firn_ice_schema_find_name(s, 8), "attrs.key");
    CHECK_EQ_STR(firn_ice_schema_find_name(s, 10), "attrs.value.v");
    CHECK_EQ_STR(firn_ice_schema_find_name(s, 13), "points.element.x");
    CHECK(firn_ice_schema_find_name(s, 99) == NULL);
    CHECK_EQ_INT(firn_ice_schema_find_by_name(s, "loc.lon", true)->id, 4);
    CHECK(firn_ice_schema_find_by_name(s, "LOC.LON", true) == NULL);
    CHECK_EQ_INT(firn_ice_schema_find_by_name(s, "LOC.LON", false)->id, 4);
    CHECK_EQ_INT(firn_ice_schema_find_by_name(s, "mixed", false)->id, 15);
    CHECK(firn_ice_schema_find_by_name(s, "mixed", true) == NULL);
    CHECK_EQ_INT(firn_ice_schema_parent_id(s, 3), 2);
    CHECK_EQ_INT(firn_ice_schema_parent_id(s, 1), 0);
    CHECK_EQ_INT(firn_ice_schema_parent_id(s, 10), 9);
    CHECK(firn_ice_schema_in_list_or_map(s, 13));
    CHECK(firn_ice_schema_in_list_or_map(s, 10));
    CHECK(!firn_ice_schema_in_list_or_map(s, 4));
    const firn_ice_field *f = firn_ice_schema_find_field(s, 7);
    CHECK(f->type->id == FIRN_ICE_MAP && f->type->key->id == 8 && !f->type->value->required);
    CHECK_EQ_STR(f->type->value->type->fields[0].name, "v");
    CHECK_EQ_STR(firn_ice_schema_find_field(s, 14)->initial_default, "34");
    firn_arena_release(&a);
    firn_error_release(&err);
}

FIRN_TEST(iceberg_schema_invalid) {
    static const struct {
        const char *json, *message;
    } cases[] = {
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"int\"},"
         "{\"id\":1,\"name\":\"b\",\"required\":true,\"type\":\"int\"}]}",
         "fields 'a' and 'b' share id 1"},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"int\"},"
         "{\"id\":2,\"name\":\"a\",\"required\":true,\"type\":\"int\"}]}",
         "duplicate field name 'a'"},
        {"{\"type\":\"struct\",\"identifier-field-ids\":[1],\"fields\":[{\"id\":1,\"name\":\"a\","
         "\"required\":false,\"type\":\"int\"}]}",
         "field 'a' cannot be an identifier field: it is optional"},
        {"{\"type\":\"struct\",\"identifier-field-ids\":[1],\"fields\":[{\"id\":1,\"name\":\"a\","
         "\"required\":true,\"type\":\"double\"}]}",
         "it is a floating point type"},
        {"{\"type\":\"struct\",\"identifier-field-ids\":[2],\"fields\":[{\"id\":1,\"name\":\"l\","
         "\"required\":true,\"type\":{\"type\":\"list\",\"element-id\":2,\"element\":\"int\","
         "\"element-required\":true}}]}",
         "nested in a list or map"},
        {"{\"type\":\"struct\",\"identifier-field-ids\":[7],\"fields\":[]}",
         "identifier field id 7 is not in the schema"},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"strin\"}]}",
         "fields[0].type: unknown type 'strin'"},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\",\"type\":\"int\"}]}",
         "fields[0]: missing required field 'required'"},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":\"1\",\"name\":\"a\",\"required\":true,\"type\":\"int\"}]}",
         "fields[0].id: expected an integer, got string"},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":0,\"name\":\"a\",\"required\":true,\"type\":\"int\"}]}",
         "has id 0, outside 1.."},
        {"{\"type\":\"list\",\"fields\":[]}", "a schema must have type \"struct\""},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"m\",\"required\":true,\"type\":"
         "{\"type\":\"map\",\"key-id\":2,\"key\":\"string\",\"value-id\":3,\"value\":\"int\"}}]}",
         "fields[0].type: missing required field 'value-required'"},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"v\",\"required\":true,\"type\":\"variant\"}]}",
         "needs format version 3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        firn_arena a;
        firn_arena_init(&a, 0);
        firn_error err;
        firn_error_init(&err);
        firn_ice_schema *s = parse_schema(&a, cases[i].json, &err);
        CHECK_MSG(!s, "case %zu parsed but should not", i);
        CHECK_MSG(strstr(err.message, cases[i].message), "case %zu: message '%s' lacks '%s'", i,
                  err.message, cases[i].message);
        firn_arena_release(&a);
        firn_error_release(&err);
    }
}

FIRN_TEST(iceberg_schema_fresh_ids) {
    /* a: struct<x, y>, b: list<struct<z>>, c: map<string, int>, d: int - with ids all over */
    static const char *json =
        "{\"type\":\"struct\",\"schema-id\":7,\"identifier-field-ids\":[44],\"fields\":["
        "{\"id\":40,\"name\":\"a\",\"required\":true,\"type\":{\"type\":\"struct\",\"fields\":["
        "  {\"id\":41,\"name\":\"x\",\"required\":true,\"type\":\"int\"},"
        "  {\"id\":42,\"name\":\"y\",\"required\":false,\"type\":\"int\"}]}},"
        "{\"id\":30,\"name\":\"b\",\"required\":false,\"type\":{\"type\":\"list\",\"element-id\":31,"
        "  \"element\":{\"type\":\"struct\",\"fields\":[{\"id\":32,\"name\":\"z\",\"required\":false,"
        "  \"type\":\"string\"}]},\"element-required\":true}},"
        "{\"id\":20,\"name\":\"c\",\"required\":false,\"type\":{\"type\":\"map\",\"key-id\":21,"
        "  \"key\":\"string\",\"value-id\":22,\"value\":\"int\",\"value-required\":false}},"
        "{\"id\":44,\"name\":\"d\",\"required\":true,\"type\":\"int\"}]}";
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *s = parse_schema(&a, json, &err);
    CHECK_MSG(s, "parse: %s", err.message);
    int32_t last = 0;
    firn_ice_schema *f = firn_ice_schema_assign_fresh_ids(&a, s, 0, &last, &err);
    CHECK_MSG(f, "fresh: %s", err.message);
    CHECK_EQ_INT(last, 10);
    CHECK_EQ_INT(f->schema_id, 0);
    static const struct {
        const char *name;
        int id;
    } want[] = {{"a", 1},         {"b", 2},          {"c", 3},         {"d", 4},
                {"a.x", 5},       {"a.y", 6},        {"b.element", 7}, {"b.element.z", 8},
                {"c.key", 9},     {"c.value", 10}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const firn_ice_field *fld = firn_ice_schema_find_by_name(f, want[i].name, true);
        CHECK_MSG(fld, "no %s", want[i].name);
        CHECK_MSG(fld->id == want[i].id, "%s has id %d, want %d", want[i].name, fld->id, want[i].id);
    }
    CHECK_EQ_INT(f->nidentifier_field_ids, 1);
    CHECK_EQ_INT(f->identifier_field_ids[0], 4); /* d moved with its name */
    firn_arena_release(&a);
    firn_error_release(&err);
}

FIRN_TEST(iceberg_schema_constructors) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_field fields[3] = {
        {.id = 1, .name = "id", .required = true, .type = firn_ice_type_primitive(FIRN_ICE_LONG)},
        {.id = 2, .name = "price", .type = firn_ice_type_decimal(&a, 10, 2)},
        {.id = 3, .name = "tags", .type = firn_ice_type_list(&a, 4, false, firn_ice_type_primitive(FIRN_ICE_STRING))},
    };
    int32_t ident = 1;
    firn_ice_schema *s = firn_ice_schema_new(&a, 0, fields, 3, &ident, 1, &err);
    CHECK_MSG(s, "new: %s", err.message);
    char *txt = firn_ice_schema_to_string(s);
    CHECK_EQ_STR(txt,
                 "{\"type\":\"struct\",\"schema-id\":0,\"identifier-field-ids\":[1],\"fields\":["
                 "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
                 "{\"id\":2,\"name\":\"price\",\"required\":false,\"type\":\"decimal(10, 2)\"},"
                 "{\"id\":3,\"name\":\"tags\",\"required\":false,\"type\":{\"type\":\"list\","
                 "\"element-id\":4,\"element\":\"string\",\"element-required\":false}}]}");
    free(txt);
    fields[2].id = 1;
    CHECK(firn_ice_schema_new(&a, 0, fields, 3, NULL, 0, &err) == NULL);
    CHECK(strstr(err.message, "share id 1"));
    CHECK(firn_ice_schema_new(&a, 0, fields, 3, NULL, 0, NULL) == NULL); /* NULL err is fine */
    firn_arena_release(&a);
    firn_error_release(&err);
}
