/* test_iceberg_transform.c - the spec's hash vectors (Appendix B), transforms
 * and their edge cases, partition specs, paths and spec evolution. */
#include "test.h"
#include "iceberg/iceberg.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

static const firn_ice_type *prim(firn_ice_type_id id) { return firn_ice_type_primitive(id); }

static firn_ice_value val(firn_arena *a, const firn_ice_type *t, const char *text) {
    firn_ice_value v;
    firn_error err;
    firn_error_init(&err);
    if (firn_ice_value_parse(a, t, text, strlen(text), &v, &err)) {
        fprintf(stdout, "    cannot parse '%s': %s\n", text, err.message);
        firn_test_failed = 1;
        memset(&v, 0, sizeof v);
    }
    return v;
}

static firn_ice_transform tr(const char *s) {
    firn_ice_transform t;
    if (firn_ice_transform_parse(s, &t, NULL)) firn_test_failed = 1;
    return t;
}

/* apply transform s to the text value of type src; result in *out */
static int apply(firn_arena *a, const char *s, const firn_ice_type *src, const char *text,
                 firn_ice_value *out) {
    firn_ice_transform t = tr(s);
    firn_ice_value in = val(a, src, text);
    firn_error err;
    firn_error_init(&err);
    int rc = firn_ice_transform_apply(&t, src, &in, out, &err);
    if (rc) fprintf(stdout, "    %s(%s): %s\n", s, text, err.message);
    return rc;
}

FIRN_TEST(iceberg_hash_spec_vectors) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_type dec = {.id = FIRN_ICE_DECIMAL, .precision = 9, .scale = 2};
    firn_ice_type fixed4 = {.id = FIRN_ICE_FIXED, .length = 4};
    const struct {
        const firn_ice_type *t;
        const char *text;
        int32_t hash;
    } v[] = {
        {prim(FIRN_ICE_INT), "34", 2017239379},
        {prim(FIRN_ICE_LONG), "34", 2017239379},
        {&dec, "14.20", -500754589},
        {prim(FIRN_ICE_DATE), "2017-11-16", -653330422},
        {prim(FIRN_ICE_TIME), "22:31:08", -662762989},
        {prim(FIRN_ICE_TIMESTAMP), "2017-11-16T22:31:08", -2047944441},
        {prim(FIRN_ICE_TIMESTAMP), "2017-11-16T22:31:08.000001", -1207196810},
        {prim(FIRN_ICE_TIMESTAMPTZ), "2017-11-16T14:31:08-08:00", -2047944441},
        {prim(FIRN_ICE_TIMESTAMPTZ), "2017-11-16T14:31:08.000001-08:00", -1207196810},
        {prim(FIRN_ICE_TIMESTAMP_NS), "2017-11-16T22:31:08", -2047944441},
        {prim(FIRN_ICE_TIMESTAMP_NS), "2017-11-16T22:31:08.000001001", -1207196810},
        {prim(FIRN_ICE_TIMESTAMPTZ_NS), "2017-11-16T14:31:08-08:00", -2047944441},
        {prim(FIRN_ICE_TIMESTAMPTZ_NS), "2017-11-16T14:31:08.000001001-08:00", -1207196810},
        {prim(FIRN_ICE_STRING), "iceberg", 1210000089},
        {prim(FIRN_ICE_UUID), "f79c3e09-677c-4bbd-a479-3f349cb785e7", 1488055340},
        {&fixed4, "00010203", -188683207},
        {prim(FIRN_ICE_BINARY), "00010203", -188683207},
        /* not bucketable, but the spec lists their hashes */
        {prim(FIRN_ICE_BOOLEAN), "true", 1392991556},
        {prim(FIRN_ICE_FLOAT), "1.0", -142385009},
        {prim(FIRN_ICE_FLOAT), "0.0", 1669671676},
        {prim(FIRN_ICE_FLOAT), "-0.0", 1669671676},
        {prim(FIRN_ICE_DOUBLE), "1.0", -142385009},
        {prim(FIRN_ICE_DOUBLE), "0.0", 1669671676},
        {prim(FIRN_ICE_DOUBLE), "-0.0", 1669671676},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        firn_ice_value x = val(&a, v[i].t, v[i].text);
        int32_t h = firn_ice_value_hash(&x);
        CHECK_MSG(h == v[i].hash, "hash of %s: %d, spec says %d", v[i].text, h, v[i].hash);
    }
    /* date hashed as a 4-byte int would give 1087118125: make sure we do not */
    firn_ice_value d = val(&a, prim(FIRN_ICE_DATE), "2017-11-16");
    CHECK(firn_ice_value_hash(&d) != 1087118125);
    /* all NaNs hash alike */
    firn_ice_value n1 = firn_ice_value_double(NAN), n2 = firn_ice_value_double(-NAN);
    CHECK(firn_ice_value_hash(&n1) == firn_ice_value_hash(&n2));
    firn_arena_release(&a);
}

FIRN_TEST(iceberg_transform_bucket) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_value out;
    CHECK_EQ_INT(apply(&a, "bucket[100]", prim(FIRN_ICE_INT), "34", &out), 0);
    CHECK(out.type == FIRN_ICE_INT && out.u.i32 == 79); /* 2017239379 % 100 */
    CHECK_EQ_INT(apply(&a, "bucket[16]", prim(FIRN_ICE_STRING), "iceberg", &out), 0);
    CHECK_EQ_INT(out.u.i32, 9); /* 1210000089 % 16 */
    CHECK_EQ_INT(apply(&a, "bucket[16]", prim(FIRN_ICE_DATE), "2017-11-16", &out), 0);
    CHECK_EQ_INT(out.u.i32, 10); /* (-653330422 & 0x7fffffff) % 16: the sign bit is dropped */
    CHECK_EQ_INT(apply(&a, "bucket[1]", prim(FIRN_ICE_LONG), "-9223372036854775808", &out), 0);
    CHECK_EQ_INT(out.u.i32, 0);
    /* int and long agree, so int->long promotion keeps bucket values */
    firn_ice_value o2;
    for (int x = -50; x < 50; x += 7) {
        char s[16];
        snprintf(s, sizeof s, "%d", x);
        CHECK_EQ_INT(apply(&a, "bucket[7]", prim(FIRN_ICE_INT), s, &out), 0);
        CHECK_EQ_INT(apply(&a, "bucket[7]", prim(FIRN_ICE_LONG), s, &o2), 0);
        CHECK(out.u.i32 == o2.u.i32 && out.u.i32 >= 0 && out.u.i32 < 7);
    }
    firn_ice_value nul = firn_ice_value_null(FIRN_ICE_INT);
    firn_ice_transform b = tr("bucket[4]");
    CHECK_OK(firn_ice_transform_apply(&b, prim(FIRN_ICE_INT), &nul, &out, NULL), (firn_error *)NULL);
    CHECK(out.is_null && out.type == FIRN_ICE_INT);
    firn_arena_release(&a);
}

FIRN_TEST(iceberg_transform_truncate) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_value out;
    static const struct {
        const char *in;
        int32_t want;
    } ints[] = {{"1", 0},   {"-1", -10}, {"0", 0},     {"9", 0},    {"10", 10},
                {"-10", -10}, {"-11", -20}, {"15", 10}, {"2147483647", 2147483640},
                {"-2147483648", 2147483646}}; /* Java's int arithmetic wraps, so do we */
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        CHECK_EQ_INT(apply(&a, "truncate[10]", prim(FIRN_ICE_INT), ints[i].in, &out), 0);
        CHECK_MSG(out.u.i32 == ints[i].want, "truncate[10](%s) = %d, want %d", ints[i].in, out.u.i32,
                  ints[i].want);
    }
    CHECK_EQ_INT(apply(&a, "truncate[10]", prim(FIRN_ICE_LONG), "-1", &out), 0);
    CHECK(out.type == FIRN_ICE_LONG && out.u.i64 == -10);
    CHECK_EQ_INT(apply(&a, "truncate[2]", prim(FIRN_ICE_LONG), "-9223372036854775807", &out), 0);
    CHECK(out.u.i64 == INT64_MIN); /* ...807 % 2 == -1 -> -808 */
    /* decimal: the width applies to the unscaled value */
    firn_ice_type dec = {.id = FIRN_ICE_DECIMAL, .precision = 9, .scale = 2};
    CHECK_EQ_INT(apply(&a, "truncate[50]", &dec, "10.65", &out), 0);
    CHECK(out.u.dec == 1050 && out.scale == 2);
    CHECK_EQ_INT(apply(&a, "truncate[10]", &dec, "-0.05", &out), 0);
    CHECK(out.u.dec == -10);
    CHECK_EQ_INT(apply(&a, "truncate[10]", &dec, "12.34", &out), 0);
    CHECK(out.u.dec == 1230);
    /* strings by code points, binary by bytes */
    CHECK_EQ_INT(apply(&a, "truncate[3]", prim(FIRN_ICE_STRING), "iceberg", &out), 0);
    CHECK(out.u.bin.len == 3 && memcmp(out.u.bin.ptr, "ice", 3) == 0);
    CHECK_EQ_INT(apply(&a, "truncate[2]", prim(FIRN_ICE_STRING), "\xc3\xa9" "b\xc3\xa8ne", &out), 0);
    CHECK(out.u.bin.len == 3 && memcmp(out.u.bin.ptr, "\xc3\xa9" "b", 3) == 0);
    CHECK_EQ_INT(apply(&a, "truncate[2]", prim(FIRN_ICE_STRING), "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", &out), 0);
    CHECK_EQ_INT(out.u.bin.len, 6); /* 日本 */
    CHECK_EQ_INT(apply(&a, "truncate[1]", prim(FIRN_ICE_STRING), "\xf0\x9f\x98\x80\xf0\x9f\x98\x81", &out), 0);
    CHECK_EQ_INT(out.u.bin.len, 4); /* one emoji, all four bytes */
    CHECK_EQ_INT(apply(&a, "truncate[10]", prim(FIRN_ICE_STRING), "ab", &out), 0);
    CHECK_EQ_INT(out.u.bin.len, 2);
    CHECK_EQ_INT(apply(&a, "truncate[3]", prim(FIRN_ICE_BINARY), "0102030405", &out), 0);
    CHECK(out.u.bin.len == 3 && out.u.bin.ptr[2] == 3);
    CHECK_EQ_INT(apply(&a, "truncate[2]", prim(FIRN_ICE_BINARY), "c3a9c3a8", &out), 0);
    CHECK_EQ_INT(out.u.bin.len, 2); /* bytes, whatever they encode */
    firn_arena_release(&a);
}

FIRN_TEST(iceberg_transform_time_boundaries) {
    firn_arena a;
    firn_arena_init(&a, 0);
    static const struct {
        firn_ice_type_id src;
        const char *in;
        int32_t year, month, day, hour; /* hour ignored for dates */
    } cases[] = {
        {FIRN_ICE_TIMESTAMP, "1970-01-01T00:00:00", 0, 0, 0, 0},
        {FIRN_ICE_TIMESTAMP, "1969-12-31T23:59:59.999999", -1, -1, -1, -1},
        {FIRN_ICE_TIMESTAMP, "1969-12-31T23:00:00", -1, -1, -1, -1},
        {FIRN_ICE_TIMESTAMP, "1969-12-31T22:59:59.999999", -1, -1, -1, -2},
        {FIRN_ICE_TIMESTAMP, "1969-01-01T00:00:00", -1, -12, -365, -8760},
        {FIRN_ICE_TIMESTAMP, "1968-12-31T23:59:59.999999", -2, -13, -366, -8761},
        {FIRN_ICE_TIMESTAMPTZ, "2017-11-16T22:31:08+00:00", 47, 574, 17486, 419686},
        {FIRN_ICE_TIMESTAMPTZ, "2017-11-16T23:31:08+01:00", 47, 574, 17486, 419686},
        {FIRN_ICE_TIMESTAMP_NS, "1969-12-31T23:59:59.999999999", -1, -1, -1, -1},
        {FIRN_ICE_TIMESTAMPTZ_NS, "2017-11-16T22:31:08.000000001+00:00", 47, 574, 17486, 419686},
        {FIRN_ICE_TIMESTAMP, "1900-03-01T00:00:00", -70, -838, -25508, -612192},
        {FIRN_ICE_DATE, "1969-12-31", -1, -1, -1, 0},
        {FIRN_ICE_DATE, "1969-01-01", -1, -12, -365, 0},
        {FIRN_ICE_DATE, "1968-12-31", -2, -13, -366, 0},
        {FIRN_ICE_DATE, "2000-02-29", 30, 361, 11016, 0},
        {FIRN_ICE_DATE, "0001-01-01", -1969, -23628, -719162, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        firn_ice_value out;
        const firn_ice_type *t = prim(cases[i].src);
        CHECK_EQ_INT(apply(&a, "year", t, cases[i].in, &out), 0);
        CHECK_MSG(out.u.i32 == cases[i].year, "year(%s) = %d, want %d", cases[i].in, out.u.i32, cases[i].year);
        CHECK_EQ_INT(apply(&a, "month", t, cases[i].in, &out), 0);
        CHECK_MSG(out.u.i32 == cases[i].month, "month(%s) = %d, want %d", cases[i].in, out.u.i32, cases[i].month);
        CHECK_EQ_INT(apply(&a, "day", t, cases[i].in, &out), 0);
        CHECK_MSG(out.type == FIRN_ICE_DATE && out.u.i32 == cases[i].day, "day(%s) = %d, want %d",
                  cases[i].in, out.u.i32, cases[i].day);
        if (cases[i].src != FIRN_ICE_DATE) {
            CHECK_EQ_INT(apply(&a, "hour", t, cases[i].in, &out), 0);
            CHECK_MSG(out.u.i32 == cases[i].hour, "hour(%s) = %d, want %d", cases[i].in, out.u.i32,
                      cases[i].hour);
        }
    }
    /* human-readable partition values */
    static const struct {
        const char *transform;
        int32_t v;
        const char *human;
    } h[] = {{"year", 47, "2017"},          {"year", -1, "1969"},
             {"month", 574, "2017-11"},     {"month", -1, "1969-12"},
             {"month", -13, "1968-12"},     {"day", 17486, "2017-11-16"},
             {"day", -1, "1969-12-31"},     {"hour", 419686, "2017-11-16-22"},
             {"hour", -1, "1969-12-31-23"}, {"hour", -25, "1969-12-30-23"}};
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        firn_ice_transform t = tr(h[i].transform);
        firn_ice_type rt;
        CHECK_OK(firn_ice_transform_result_type(&t, prim(FIRN_ICE_TIMESTAMP), &rt, NULL), (firn_error *)NULL);
        firn_ice_value v = firn_ice_value_int(h[i].v);
        v.type = rt.id;
        firn_buf b = {0};
        firn_ice_transform_human_string(&t, &rt, &v, &b);
        CHECK_MSG(strcmp(firn_buf_cstr(&b), h[i].human) == 0, "%s %d: %s != %s", h[i].transform,
                  h[i].v, (char *)b.data, h[i].human);
        firn_buf_release(&b);
    }
    firn_arena_release(&a);
}

FIRN_TEST(iceberg_transform_strings_and_types) {
    static const char *const ok[] = {"identity", "bucket[16]", "truncate[4]", "year",
                                     "month",    "day",        "hour",        "void"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        firn_ice_transform t;
        CHECK_OK(firn_ice_transform_parse(ok[i], &t, NULL), (firn_error *)NULL);
        char buf[32];
        CHECK_EQ_STR(firn_ice_transform_to_string(&t, buf, sizeof buf), ok[i]);
    }
    firn_error err;
    firn_error_init(&err);
    firn_ice_transform t;
    CHECK_EQ_INT(firn_ice_transform_parse("bucket[0]", &t, &err), -FIRN_ERR_CORRUPT);
    CHECK(strstr(err.message, "must be positive"));
    CHECK_EQ_INT(firn_ice_transform_parse("bucket[x]", &t, &err), -FIRN_ERR_CORRUPT);
    CHECK_EQ_INT(firn_ice_transform_parse("truncate[4", &t, &err), -FIRN_ERR_CORRUPT);
    CHECK_EQ_INT(firn_ice_transform_parse("bucket[99999999999]", &t, &err), -FIRN_ERR_CORRUPT);
    CHECK_EQ_INT(firn_ice_transform_parse("zorder", &t, &err), -FIRN_ERR_UNSUPPORTED);
    /* what applies to what */
    CHECK(!firn_ice_transform_can_apply(&(firn_ice_transform){FIRN_ICE_TRANSFORM_HOUR, 0, NULL}, prim(FIRN_ICE_DATE)));
    CHECK(!firn_ice_transform_can_apply(&(firn_ice_transform){FIRN_ICE_TRANSFORM_BUCKET, 4, NULL}, prim(FIRN_ICE_FLOAT)));
    CHECK(!firn_ice_transform_can_apply(&(firn_ice_transform){FIRN_ICE_TRANSFORM_TRUNCATE, 4, NULL}, prim(FIRN_ICE_UUID)));
    CHECK(firn_ice_transform_can_apply(&(firn_ice_transform){FIRN_ICE_TRANSFORM_BUCKET, 4, NULL}, prim(FIRN_ICE_UUID)));
    firn_ice_type rt;
    firn_ice_transform day = tr("day"), bucket = tr("bucket[8]"), trunc = tr("truncate[2]"), vd = tr("void");
    CHECK_OK(firn_ice_transform_result_type(&day, prim(FIRN_ICE_TIMESTAMPTZ), &rt, &err), &err);
    CHECK(rt.id == FIRN_ICE_DATE);
    CHECK_OK(firn_ice_transform_result_type(&bucket, prim(FIRN_ICE_STRING), &rt, &err), &err);
    CHECK(rt.id == FIRN_ICE_INT);
    firn_ice_type dec = {.id = FIRN_ICE_DECIMAL, .precision = 9, .scale = 2};
    CHECK_OK(firn_ice_transform_result_type(&trunc, &dec, &rt, &err), &err);
    CHECK(rt.id == FIRN_ICE_DECIMAL && rt.precision == 9 && rt.scale == 2);
    CHECK_EQ_INT(firn_ice_transform_result_type(&day, prim(FIRN_ICE_STRING), &rt, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_STR(err.message, "transform day cannot be applied to type string");
    /* void makes nulls of the source type */
    firn_ice_value in = firn_ice_value_long(5), out;
    CHECK_OK(firn_ice_transform_apply(&vd, prim(FIRN_ICE_LONG), &in, &out, &err), &err);
    CHECK(out.is_null && out.type == FIRN_ICE_LONG);
    /* a value of the wrong type is refused */
    CHECK_EQ_INT(firn_ice_transform_apply(&bucket, prim(FIRN_ICE_STRING), &in, &out, &err), -FIRN_ERR_INVALID);
    firn_error_release(&err);
}

/* ------------------------------------------------------------- partitions */

static const char *events_schema =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"},"
    "{\"id\":3,\"name\":\"name\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":4,\"name\":\"local\",\"required\":false,\"type\":\"timestamp\"},"
    "{\"id\":5,\"name\":\"img\",\"required\":false,\"type\":\"binary\"},"
    "{\"id\":6,\"name\":\"tags\",\"required\":false,\"type\":{\"type\":\"list\",\"element-id\":7,"
    "\"element\":\"string\",\"element-required\":false}},"
    "{\"id\":8,\"name\":\"day\",\"required\":false,\"type\":\"date\"}]}";

static firn_ice_schema *events(firn_arena *a) {
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *s = firn_ice_schema_parse(a, events_schema, strlen(events_schema), &err);
    if (!s) {
        fprintf(stdout, "    events schema: %s\n", err.message);
        firn_test_failed = 1;
    }
    return s;
}

static firn_ice_partition_spec *spec_json(firn_arena *a, const char *text, firn_error *err) {
    json_t *j = json_loads(text, 0, NULL);
    if (!j) return NULL;
    firn_ice_partition_spec *s = firn_ice_partition_spec_from_json(a, j, "spec", err);
    json_decref(j);
    return s;
}

FIRN_TEST(iceberg_partition_spec_json_and_path) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *schema = events(&a);
    CHECK(schema);
    const char *text =
        "{\"spec-id\":2,\"fields\":["
        "{\"name\":\"ts_day\",\"transform\":\"day\",\"source-id\":2,\"field-id\":1000},"
        "{\"name\":\"id_bucket\",\"transform\":\"bucket[16]\",\"source-id\":1,\"field-id\":1001},"
        "{\"name\":\"name\",\"transform\":\"identity\",\"source-id\":3,\"field-id\":1002},"
        "{\"name\":\"local_hour\",\"transform\":\"hour\",\"source-id\":4,\"field-id\":1003},"
        "{\"name\":\"ts_month\",\"transform\":\"void\",\"source-id\":2,\"field-id\":1004},"
        "{\"name\":\"img\",\"transform\":\"identity\",\"source-id\":5,\"field-id\":1005},"
        "{\"name\":\"local\",\"transform\":\"identity\",\"source-id\":4,\"field-id\":1006}]}";
    firn_ice_partition_spec *spec = spec_json(&a, text, &err);
    CHECK_MSG(spec, "spec: %s", err.message);
    CHECK_OK(firn_ice_partition_spec_validate(spec, schema, &err), &err);
    CHECK_EQ_INT(firn_ice_partition_spec_last_field_id(spec), 1006);
    json_t *orig = json_loads(text, 0, NULL), *out = firn_ice_partition_spec_to_json(spec);
    CHECK(json_equal(orig, out));
    json_decref(orig);
    json_decref(out);
    /* the partition type for manifests */
    const firn_ice_type *pt = firn_ice_partition_type(&a, spec, schema, &err);
    CHECK_MSG(pt, "type: %s", err.message);
    CHECK_EQ_INT(pt->nfields, 7);
    CHECK(pt->fields[0].id == 1000 && pt->fields[0].type->id == FIRN_ICE_DATE && !pt->fields[0].required);
    CHECK(pt->fields[1].type->id == FIRN_ICE_INT && pt->fields[2].type->id == FIRN_ICE_STRING);
    CHECK(pt->fields[3].type->id == FIRN_ICE_INT && pt->fields[4].type->id == FIRN_ICE_TIMESTAMPTZ);
    /* one row through the spec, then the path */
    firn_ice_value src[7] = {
        val(&a, prim(FIRN_ICE_TIMESTAMPTZ), "1969-12-31T23:59:59.5+00:00"),
        val(&a, prim(FIRN_ICE_LONG), "34"),
        val(&a, prim(FIRN_ICE_STRING), "a b/c&\xc3\xbc=%"),
        val(&a, prim(FIRN_ICE_TIMESTAMP), "2024-01-01T13:45:00"),
        val(&a, prim(FIRN_ICE_TIMESTAMPTZ), "2024-01-01T13:45:00Z"),
        val(&a, prim(FIRN_ICE_BINARY), "00010203"),
        val(&a, prim(FIRN_ICE_TIMESTAMP), "2017-11-16T22:31:08.5"),
    };
    firn_ice_value part[7];
    CHECK_OK(firn_ice_partition_apply(spec, schema, src, part, &err), &err);
    CHECK(part[0].u.i32 == -1 && part[1].u.i32 == 3 && part[4].is_null);
    firn_buf path = {0};
    CHECK_OK(firn_ice_partition_path(spec, schema, part, &path, &err), &err);
    CHECK_EQ_STR(firn_buf_cstr(&path),
                 "ts_day=1969-12-31/id_bucket=3/name=a+b%2Fc%26%C3%BC%3D%25/"
                 "local_hour=2024-01-01-13/ts_month=null/img=AAECAw%3D%3D/"
                 "local=2017-11-16T22%3A31%3A08.5");
    firn_buf_release(&path);
    /* a value of the wrong type for its field is refused */
    part[1] = firn_ice_value_long(3);
    firn_buf_init(&path);
    CHECK_EQ_INT(firn_ice_partition_path(spec, schema, part, &path, &err), -FIRN_ERR_INVALID);
    firn_buf_release(&path);
    firn_arena_release(&a);
    firn_error_release(&err);
}

FIRN_TEST(iceberg_partition_spec_unknown_and_v1_fields) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *schema = events(&a);
    /* another engine's transform is kept verbatim, and tolerated by validation */
    firn_ice_partition_spec *s = spec_json(
        &a, "{\"spec-id\":0,\"fields\":[{\"name\":\"z\",\"transform\":\"zorder[2]\",\"source-id\":1,"
            "\"field-id\":1000}],\"x-note\":1}", &err);
    CHECK_MSG(s, "spec: %s", err.message);
    CHECK(s->fields[0].transform.kind == FIRN_ICE_TRANSFORM_UNKNOWN);
    CHECK_OK(firn_ice_partition_spec_validate(s, schema, &err), &err);
    json_t *out = firn_ice_partition_spec_to_json(s);
    char *txt = json_dumps(out, JSON_COMPACT);
    CHECK(strstr(txt, "\"transform\":\"zorder[2]\"") && strstr(txt, "\"x-note\":1"));
    free(txt);
    json_decref(out);
    /* v1 field lists have no ids: 1000, 1001, ... */
    json_t *v1 = json_loads("[{\"name\":\"id\",\"transform\":\"identity\",\"source-id\":1},"
                            "{\"name\":\"ts_day\",\"transform\":\"day\",\"source-id\":2}]", 0, NULL);
    firn_ice_partition_spec *old = firn_ice_partition_spec_from_json_fields(&a, 0, v1, "partition-spec", &err);
    json_decref(v1);
    CHECK_MSG(old, "v1: %s", err.message);
    CHECK(old->fields[0].field_id == 1000 && old->fields[1].field_id == 1001);
    /* malformed fields name their path */
    CHECK(!spec_json(&a, "{\"spec-id\":0,\"fields\":[{\"name\":\"x\",\"transform\":\"bucket[0]\",\"source-id\":1}]}", &err));
    CHECK_EQ_STR(err.message, "spec.fields[0].transform: transform 'bucket[0]': the number of buckets must be positive");
    CHECK(!spec_json(&a, "{\"spec-id\":0,\"fields\":[{\"name\":\"x\",\"transform\":\"day\"}]}", &err));
    CHECK_EQ_STR(err.message, "spec.fields[0]: missing required field 'source-id'");
    firn_arena_release(&a);
    firn_error_release(&err);
}

FIRN_TEST(iceberg_partition_spec_validation) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *schema = events(&a);
    static const struct {
        const char *fields, *message;
    } cases[] = {
        {"{\"name\":\"x\",\"transform\":\"day\",\"source-id\":99,\"field-id\":1000}",
         "source column id 99 is not in schema 0"},
        {"{\"name\":\"x\",\"transform\":\"hour\",\"source-id\":8,\"field-id\":1000}",
         "transform hour cannot be applied to column 'day' of type date"},
        {"{\"name\":\"x\",\"transform\":\"identity\",\"source-id\":6,\"field-id\":1000}",
         "source column 'tags' is a list, not a primitive"},
        {"{\"name\":\"x\",\"transform\":\"identity\",\"source-id\":7,\"field-id\":1000}",
         "source column 'tags.element' is inside a list or map"},
        {"{\"name\":\"a\",\"transform\":\"day\",\"source-id\":2,\"field-id\":1000},"
         "{\"name\":\"a\",\"transform\":\"bucket[2]\",\"source-id\":1,\"field-id\":1001}",
         "two partition fields are named 'a'"},
        {"{\"name\":\"a\",\"transform\":\"day\",\"source-id\":2,\"field-id\":1000},"
         "{\"name\":\"b\",\"transform\":\"bucket[2]\",\"source-id\":1,\"field-id\":1000}",
         "share field id 1000"},
        {"{\"name\":\"a\",\"transform\":\"day\",\"source-id\":2,\"field-id\":1000},"
         "{\"name\":\"b\",\"transform\":\"hour\",\"source-id\":2,\"field-id\":1001}",
         "partition source 2 redundantly"},
        {"{\"name\":\"name\",\"transform\":\"bucket[4]\",\"source-id\":1,\"field-id\":1000}",
         "partition field 'name' has the name of schema column 3"},
        {"{\"name\":\"\",\"transform\":\"day\",\"source-id\":2,\"field-id\":1000}", "has an empty or non-UTF-8 name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "{\"spec-id\":0,\"fields\":[%s]}", cases[i].fields);
        firn_ice_partition_spec *s = spec_json(&a, text, &err);
        CHECK_MSG(s, "case %zu did not parse: %s", i, err.message);
        CHECK_MSG(firn_ice_partition_spec_validate(s, schema, &err) == -FIRN_ERR_INVALID,
                  "case %zu validated", i);
        CHECK_MSG(strstr(err.message, cases[i].message), "case %zu: '%s' lacks '%s'", i,
                  err.message, cases[i].message);
    }
    /* a void field whose source was dropped is fine (v1 tables keep them) */
    firn_ice_partition_spec *s = spec_json(
        &a, "{\"spec-id\":0,\"fields\":[{\"name\":\"gone\",\"transform\":\"void\",\"source-id\":42,\"field-id\":1000}]}", &err);
    CHECK_OK(firn_ice_partition_spec_validate(s, schema, &err), &err);
    firn_arena_release(&a);
    firn_error_release(&err);
}

FIRN_TEST(iceberg_partition_spec_evolution) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *schema = events(&a);
    /* a new spec for a new table: Java's PartitionSpec.Builder names */
    firn_ice_spec_builder *b = firn_ice_spec_builder_new(schema, NULL, NULL, 0, 999, 2);
    firn_ice_transform day = tr("day"), b16 = tr("bucket[16]"), b32 = tr("bucket[32]"), hour = tr("hour");
    CHECK_OK(firn_ice_spec_builder_add(b, "ts", &day, NULL, &err), &err);
    CHECK_OK(firn_ice_spec_builder_add(b, "id", &b16, NULL, &err), &err);
    CHECK_EQ_INT(firn_ice_spec_builder_add(b, "ts", &hour, NULL, &err), -FIRN_ERR_INVALID);
    CHECK(strstr(err.message, "redundant"));
    CHECK_EQ_INT(firn_ice_spec_builder_add(b, "ts", &day, "other", &err), -FIRN_ERR_INVALID);
    CHECK(strstr(err.message, "already exists as 'ts_day'"));
    CHECK_EQ_INT(firn_ice_spec_builder_add(b, "nope", &day, NULL, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_STR(err.message, "cannot partition by 'nope': no such column");
    CHECK_EQ_INT(firn_ice_spec_builder_add(b, "name", &day, NULL, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_STR(err.message, "cannot partition by day(name): column 'name' is of type string");
    int32_t last = 0;
    firn_ice_partition_spec *s0 = firn_ice_spec_builder_finish(b, &a, 0, &last, &err);
    firn_ice_spec_builder_free(b);
    CHECK_MSG(s0, "finish: %s", err.message);
    CHECK_EQ_INT(last, 1001);
    CHECK(s0->nfields == 2 && strcmp(s0->fields[0].name, "ts_day") == 0 && s0->fields[0].field_id == 1000);
    CHECK(strcmp(s0->fields[1].name, "id_bucket") == 0 && s0->fields[1].field_id == 1001);

    /* v2 evolution: drop the bucket, add a wider one; ids continue from last-partition-id */
    const firn_ice_partition_spec *hist[1] = {s0};
    b = firn_ice_spec_builder_new(schema, s0, hist, 1, last, 2);
    CHECK_OK(firn_ice_spec_builder_remove(b, "id_bucket", &err), &err);
    CHECK_OK(firn_ice_spec_builder_add(b, "id", &b32, NULL, &err), &err);
    CHECK_OK(firn_ice_spec_builder_rename(b, "ts_day", "event_day", &err), &err);
    CHECK_EQ_INT(firn_ice_spec_builder_remove(b, "id_bucket", &err), -FIRN_ERR_INVALID);
    firn_ice_partition_spec *s1 = firn_ice_spec_builder_finish(b, &a, 1, &last, &err);
    firn_ice_spec_builder_free(b);
    CHECK_MSG(s1, "finish: %s", err.message);
    CHECK_EQ_INT(last, 1002);
    CHECK(s1->nfields == 2 && s1->fields[0].field_id == 1000 && strcmp(s1->fields[0].name, "event_day") == 0);
    CHECK(s1->fields[1].field_id == 1002 && strcmp(s1->fields[1].name, "id_bucket_32") == 0);

    /* bringing back bucket[16] reuses its old field id 1001 */
    const firn_ice_partition_spec *hist2[2] = {s0, s1};
    b = firn_ice_spec_builder_new(schema, s1, hist2, 2, last, 2);
    CHECK_OK(firn_ice_spec_builder_add(b, "id", &b16, NULL, &err), &err);
    firn_ice_partition_spec *s2 = firn_ice_spec_builder_finish(b, &a, 2, &last, &err);
    firn_ice_spec_builder_free(b);
    CHECK_MSG(s2, "finish: %s", err.message);
    CHECK(s2->nfields == 3 && s2->fields[2].field_id == 1001 && last == 1002);

    /* v1: removing keeps the slot as void */
    b = firn_ice_spec_builder_new(schema, s0, hist, 1, 1001, 1);
    CHECK_OK(firn_ice_spec_builder_remove(b, "id_bucket", &err), &err);
    firn_ice_partition_spec *v1 = firn_ice_spec_builder_finish(b, &a, 1, &last, &err);
    firn_ice_spec_builder_free(b);
    CHECK_MSG(v1, "finish: %s", err.message);
    CHECK(v1->nfields == 2 && v1->fields[1].transform.kind == FIRN_ICE_TRANSFORM_VOID &&
          v1->fields[1].field_id == 1001);
    firn_arena_release(&a);
    firn_error_release(&err);
}
