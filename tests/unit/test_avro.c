/* test_avro.c - the Avro codec: schemas, every type through write and read, both
 * codecs, Iceberg's manifest_entry, projection, validation, corrupt input. */
#include "../tools/avro_manifest.h"
#include "avro/avro.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ helpers */

static int buf_write(void *ctx, const void *data, size_t len, firn_error *err) {
    (void)err;
    firn_buf_append(ctx, data, len);
    return 0;
}

static const char *errmsg(const firn_error *err) {
    static char buf[1024];
    return firn_error_format(err, buf, sizeof buf);
}

/* Under valgrind or a sanitizer: fewer iterations, no timing checks. */
static bool slow_mode(void) {
    const char *preload = getenv("LD_PRELOAD");
    if (getenv("FIRN_TEST_SLOW") || (preload && strstr(preload, "vgpreload"))) return true;
#if defined(__SANITIZE_ADDRESS__)
    return true;
#else
    return false;
#endif
}

static bool value_eq(const firn_avro_value *a, const firn_avro_value *b);

static bool bytes_eq(const void *a, size_t na, const void *b, size_t nb) {
    return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

static bool value_eq(const firn_avro_value *a, const firn_avro_value *b) {
    /* the writer promotes int to long */
    if (a->type == FIRN_AVRO_INT && b->type == FIRN_AVRO_LONG) return a->u.i32 == b->u.i64;
    if (a->type != b->type) return false;
    switch (a->type) {
    case FIRN_AVRO_NULL:
    case FIRN_AVRO_ABSENT: return true;
    case FIRN_AVRO_BOOLEAN: return a->u.boolean == b->u.boolean;
    case FIRN_AVRO_INT: return a->u.i32 == b->u.i32;
    case FIRN_AVRO_LONG: return a->u.i64 == b->u.i64;
    case FIRN_AVRO_FLOAT: return memcmp(&a->u.f32, &b->u.f32, 4) == 0;
    case FIRN_AVRO_DOUBLE: return memcmp(&a->u.f64, &b->u.f64, 8) == 0;
    case FIRN_AVRO_ENUM: return a->u.symbol == b->u.symbol;
    case FIRN_AVRO_STRING: return bytes_eq(a->u.str.ptr, a->u.str.len, b->u.str.ptr, b->u.str.len);
    case FIRN_AVRO_BYTES:
    case FIRN_AVRO_FIXED:
        return bytes_eq(a->u.bytes.data, a->u.bytes.len, b->u.bytes.data, b->u.bytes.len);
    case FIRN_AVRO_RECORD:
        if (a->u.record.count != b->u.record.count) return false;
        for (size_t i = 0; i < a->u.record.count; i++)
            if (!value_eq(&a->u.record.fields[i], &b->u.record.fields[i])) return false;
        return true;
    case FIRN_AVRO_ARRAY:
        if (a->u.array.count != b->u.array.count) return false;
        for (size_t i = 0; i < a->u.array.count; i++)
            if (!value_eq(&a->u.array.items[i], &b->u.array.items[i])) return false;
        return true;
    case FIRN_AVRO_MAP:
        if (a->u.map.count != b->u.map.count) return false;
        for (size_t i = 0; i < a->u.map.count; i++) {
            const firn_avro_map_entry *x = &a->u.map.entries[i], *y = &b->u.map.entries[i];
            if (!bytes_eq(x->key, x->key_len, y->key, y->key_len) || !value_eq(&x->value, &y->value))
                return false;
        }
        return true;
    default: return false;
    }
}

/* Write n values into out (cleared first); 0 or the error. */
static int write_values(const char *schema, const char *codec, const firn_avro_value *values,
                        size_t n, size_t block_size, firn_buf *out, uint64_t *size,
                        firn_error *err) {
    firn_buf_clear(out);
    static const firn_avro_kv meta[] = {{"format-version", "2", 0}, {"content", "data", 0}, {NULL, NULL, 0}};
    firn_avro_writer *w = firn_avro_writer_new(schema, codec, -1, meta, buf_write, out, err);
    if (!w) return -1;
    int rc = 0;
    if (block_size) rc = firn_avro_writer_set_block_size(w, block_size, err);
    for (size_t i = 0; i < n && !rc; i++) rc = firn_avro_writer_append(w, &values[i], err);
    if (!rc) rc = firn_avro_writer_close(w, size, err);
    firn_avro_writer_free(w);
    return rc;
}

/* Read every record; returns the count, or -1 on error (err filled). */
static long read_all(const void *data, size_t len, firn_arena *arena, firn_avro_value *out,
                     size_t max, firn_error *err) {
    firn_avro_reader *r = firn_avro_reader_open_mem(data, len, err);
    if (!r) return -1;
    long n = 0;
    int rc;
    firn_avro_value v;
    while ((rc = firn_avro_reader_next(r, arena, &v, err)) == 1) {
        if ((size_t)n < max) out[n] = v;
        n++;
    }
    firn_avro_reader_free(r);
    return rc < 0 ? -1 : n;
}

static const char *const codecs[] = {"null", "deflate", "zstandard", "snappy"};
#define NCODECS (sizeof codecs / sizeof codecs[0])

/* ------------------------------------------------------------------ schemas */

FIRN_TEST(avro_schema_attributes) {
    firn_error err;
    firn_error_init(&err);
    firn_avro_schema *s =
        firn_avro_schema_parse(TEST_MANIFEST_ENTRY_SCHEMA, strlen(TEST_MANIFEST_ENTRY_SCHEMA), &err);
    CHECK_MSG(s, "%s", errmsg(&err));
    const firn_avro_node *root = firn_avro_schema_root(s);
    CHECK_EQ_INT(root->type, FIRN_AVRO_RECORD);
    CHECK_EQ_STR(root->name, "manifest_entry");
    CHECK_EQ_INT(root->nfields, 5);
    size_t idx;
    const firn_avro_field *f = firn_avro_node_field(root, "data_file", &idx);
    CHECK(f && idx == 4 && f->has_field_id && f->field_id == 2);
    const firn_avro_node *df = f->type;
    CHECK_EQ_STR(df->name, "r2");
    CHECK_EQ_INT(df->nfields, DF_NFIELDS);
    f = firn_avro_node_field_by_id(df, 100, &idx);
    CHECK(f && idx == DF_FILE_PATH);
    CHECK_EQ_STR(f->name, "file_path");
    CHECK_EQ_STR(json_string_value(firn_avro_field_attr(f, "doc")), "Location URI with FS scheme");
    /* optional list with element-id */
    f = firn_avro_node_field_by_id(df, 132, NULL);
    const firn_avro_node *opt = firn_avro_node_optional(f->type);
    CHECK(opt && opt->type == FIRN_AVRO_ARRAY && opt->has_element_id && opt->element_id == 133);
    CHECK(f->default_value && json_is_null(f->default_value));
    /* logicalType map array of key/value records with field ids */
    f = firn_avro_node_field_by_id(df, 125, NULL);
    opt = firn_avro_node_optional(f->type);
    CHECK_EQ_STR(opt->logical_type, "map");
    CHECK_EQ_STR(opt->items->name, "k126_v127");
    CHECK_EQ_INT(opt->items->fields[0].field_id, 126);
    CHECK_EQ_INT(opt->items->fields[1].field_id, 127);
    CHECK_EQ_INT(opt->items->fields[1].type->type, FIRN_AVRO_BYTES);
    /* logical types with Iceberg's adjust-to-utc */
    const firn_avro_node *part = firn_avro_node_field_by_id(df, 102, NULL)->type;
    const firn_avro_node *ts = firn_avro_node_optional(firn_avro_node_field_by_id(part, 1001, NULL)->type);
    CHECK_EQ_STR(ts->logical_type, "timestamp-micros");
    CHECK(json_is_true(firn_avro_node_attr(ts, "adjust-to-utc")));
    CHECK(firn_avro_node_field(df, "nope", NULL) == NULL);
    CHECK(firn_avro_schema_find(s, "k117_v118") != NULL);
    /* records of fixed size have an encoded size, others -1 */
    CHECK_EQ_INT(root->encoded_size, -1);
    firn_avro_schema_free(s);

    /* maps keep key-id/value-id; named types are shared across references, with namespaces */
    s = firn_avro_schema_parse(TEST_FIXTURE_SCHEMA, strlen(TEST_FIXTURE_SCHEMA), &err);
    CHECK_MSG(s, "%s", errmsg(&err));
    root = firn_avro_schema_root(s);
    CHECK_EQ_STR(root->name, "firn.test.manifest_entry");
    const firn_avro_node *x = firn_avro_node_field(root, "extras", NULL)->type;
    CHECK_EQ_STR(x->name, "firn.test.extras");
    const firn_avro_node *props = firn_avro_node_field(x, "props", NULL)->type;
    CHECK(props->type == FIRN_AVRO_MAP && props->has_key_id && props->key_id == 5001 &&
          props->has_value_id && props->value_id == 5002 && props->values->type == FIRN_AVRO_STRING);
    const firn_avro_node *id = firn_avro_node_field(x, "id", NULL)->type;
    CHECK_EQ_STR(id->name, "firn.ids.id16");
    CHECK_EQ_INT(id->size, 16);
    CHECK_EQ_INT(id->encoded_size, 16);
    CHECK(firn_avro_node_optional(firn_avro_node_field(x, "parent_id", NULL)->type) == id);
    const firn_avro_node *kind = firn_avro_node_field(x, "kind", NULL)->type;
    CHECK(kind->nsymbols == 3 && strcmp(kind->symbols[2], "EQUALITY_DELETES") == 0);
    CHECK(firn_avro_schema_find(s, "firn.test.r2") == firn_avro_node_field(root, "data_file", NULL)->type);
    firn_avro_schema_free(s);
}

FIRN_TEST(avro_schema_errors) {
    static const struct {
        const char *json, *expect;
    } bad[] = {
        {"{\"type\":\"record\"", "invalid JSON"},
        {"\"nosuchtype\"", "unknown type 'nosuchtype'"},
        {"{\"type\":\"record\",\"name\":\"r\"}", "without \"fields\""},
        {"{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
         "{\"name\":\"a\",\"type\":\"long\"}]}",
         "field 'a' appears twice"},
        {"{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"q\"}]}",
         "at r.a: unknown type 'q'"},
        {"{\"type\":\"record\",\"name\":\"1r\",\"fields\":[]}", "invalid name '1r'"},
        {"{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a-b\",\"type\":\"int\"}]}",
         "invalid field name 'a-b'"},
        {"[\"null\",[\"int\"]]", "may not contain a union"},
        {"[\"int\",\"int\"]", "two branches of type int"},
        {"{\"type\":\"fixed\",\"name\":\"f\",\"size\":-1}", "\"size\""},
        {"{\"type\":\"array\"}", "without \"items\""},
        {"{\"type\":\"map\",\"values\":\"int\",\"key-id\":\"x\"}", "\"key-id\" must be"},
        {"{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
         "\"field-id\":4294967296}]}",
         "\"field-id\" must be"},
        {"[{\"type\":\"record\",\"name\":\"r\",\"fields\":[]},{\"type\":\"record\",\"name\":\"r\","
         "\"fields\":[]}]",
         "defined twice"},
        {"{\"type\":\"enum\",\"name\":\"e\",\"symbols\":[\"A\",\"A\"]}", "appears twice"},
        {"{\"type\":\"record\",\"name\":\"int\",\"fields\":[]}", "may not be called 'int'"},
        {"42", "must be a name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        firn_error err;
        firn_error_init(&err);
        firn_avro_schema *s = firn_avro_schema_parse(bad[i].json, strlen(bad[i].json), &err);
        CHECK_MSG(!s, "schema %zu parsed: %s", i, bad[i].json);
        CHECK_MSG(strstr(err.message, bad[i].expect), "schema %zu: got \"%s\", want \"%s\"", i,
                  err.message, bad[i].expect);
    }
    /* nesting deeper than FIRN_AVRO_MAX_DEPTH */
    firn_buf deep;
    firn_buf_init(&deep);
    for (int i = 0; i < 300; i++) firn_buf_append_str(&deep, "{\"type\":\"array\",\"items\":");
    firn_buf_append_str(&deep, "\"int\"");
    for (int i = 0; i < 300; i++) firn_buf_append_str(&deep, "}");
    firn_error err;
    firn_error_init(&err);
    CHECK(!firn_avro_schema_parse((char *)deep.data, deep.len, &err));
    CHECK_MSG(strstr(err.message, "deeper than"), "%s", err.message);
    CHECK_EQ_INT(err.kind, FIRN_ERR_LIMIT);
    /* records nested in records: 120 levels parse (and name their path), 200 do not */
    for (int levels = 120; levels <= 200; levels += 80) {
        firn_buf_clear(&deep);
        for (int i = 0; i < levels; i++)
            firn_buf_appendf(&deep, "{\"type\":\"record\",\"name\":\"r%d\",\"fields\":[{\"name\":\"f\",\"type\":", i);
        firn_buf_append_str(&deep, "\"nosuch\"");
        for (int i = 0; i < levels; i++) firn_buf_append_str(&deep, "}]}");
        CHECK(!firn_avro_schema_parse((char *)deep.data, deep.len, &err));
        CHECK_MSG(strstr(err.message, levels == 120 ? "unknown type 'nosuch'" : "deeper than"), "%s", err.message);
    }
    firn_buf_release(&deep);
}

/* ---------------------------------------------------------- round trips */

static const char ALL_TYPES_SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"all\",\"namespace\":\"t\",\"fields\":["
    "{\"name\":\"n\",\"type\":\"null\"},"
    "{\"name\":\"b\",\"type\":\"boolean\"},"
    "{\"name\":\"i\",\"type\":\"int\"},"
    "{\"name\":\"l\",\"type\":\"long\"},"
    "{\"name\":\"f\",\"type\":\"float\"},"
    "{\"name\":\"d\",\"type\":\"double\"},"
    "{\"name\":\"by\",\"type\":\"bytes\"},"
    "{\"name\":\"s\",\"type\":\"string\"},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"f4\",\"size\":4}},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"color\",\"symbols\":[\"RED\",\"GREEN\"]}},"
    "{\"name\":\"inner\",\"type\":{\"type\":\"record\",\"name\":\"point\",\"namespace\":\"geo\","
    "\"fields\":[{\"name\":\"x\",\"type\":\"double\"},{\"name\":\"y\",\"type\":\"double\"},"
    "{\"name\":\"tag\",\"type\":[\"null\",\"t.f4\"]}]}},"
    "{\"name\":\"points\",\"type\":{\"type\":\"array\",\"items\":\"geo.point\"}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"long\"]}},"
    "{\"name\":\"u\",\"type\":[\"null\",\"string\",\"long\",\"geo.point\",\"color\","
    "{\"type\":\"array\",\"items\":\"int\"}]},"
    "{\"name\":\"two\",\"type\":[{\"type\":\"record\",\"name\":\"A\",\"fields\":[]},"
    "{\"type\":\"record\",\"name\":\"B\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"}]}]},"
    "{\"name\":\"nested\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"map\",\"values\":"
    "{\"type\":\"array\",\"items\":\"string\"}}}}"
    "]}";

enum { AT_N, AT_B, AT_I, AT_L, AT_F, AT_D, AT_BY, AT_S, AT_FX, AT_E, AT_INNER, AT_POINTS, AT_M,
       AT_U, AT_TWO, AT_NESTED, AT_COUNT };

static firn_avro_value point(firn_arena *a, double x, double y, const uint8_t *tag) {
    firn_avro_value *f = firn_avro_values_new(a, 3);
    f[0] = firn_avro_double(x);
    f[1] = firn_avro_double(y);
    f[2] = tag ? firn_avro_fixed(tag, 4) : firn_avro_null();
    return firn_avro_record(f, 3);
}

/* Record k of the all-types test: extremes spread across records. */
static firn_avro_value all_types_value(firn_arena *a, int k, const uint8_t *big, size_t big_len) {
    static const uint8_t tag[4] = {0xde, 0xad, 0xbe, 0xef};
    firn_avro_value *f = firn_avro_values_new(a, AT_COUNT);
    f[AT_N] = firn_avro_null();
    f[AT_B] = firn_avro_bool(k & 1);
    static const int32_t ints[] = {INT32_MIN, INT32_MAX, 0, -1, 1, 63, -64, 64};
    f[AT_I] = firn_avro_int(ints[k % 8]);
    static const int64_t longs[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT32_MIN - 1LL, 1LL << 53,
                                    -(1LL << 62)};
    f[AT_L] = firn_avro_long(longs[k % 8]);
    float fl[] = {0.0f, -0.0f, NAN, INFINITY, -INFINITY, 1e-45f, 3.4028235e38f, 0.1f};
    f[AT_F] = firn_avro_float(fl[k % 8]);
    double db[] = {0.0, -0.0, NAN, INFINITY, -INFINITY, 5e-324, 1.7976931348623157e308, 0.1};
    f[AT_D] = firn_avro_double(db[k % 8]);
    f[AT_BY] = k == 3 ? firn_avro_bytes(big, big_len) : firn_avro_bytes("\0\1\2\xff", (size_t)(k % 5));
    f[AT_S] = k % 2 ? firn_avro_string("") : firn_avro_string("h\xc3\xa9llo \xe2\x82\xac \"q\"\n");
    f[AT_FX] = firn_avro_fixed(tag, 4);
    f[AT_E] = firn_avro_enum(k % 2);
    f[AT_INNER] = point(a, k, -k, k % 2 ? tag : NULL);
    size_t np = (size_t)k % 4;
    firn_avro_value *pts = firn_avro_values_new(a, np);
    for (size_t i = 0; i < np; i++) pts[i] = point(a, (double)i, 0.5, i % 2 ? tag : NULL);
    f[AT_POINTS] = firn_avro_array(pts, np);
    size_t nm = (size_t)k % 3;
    firn_avro_map_entry *me = firn_arena_calloc(a, 3 * sizeof *me);
    static const char *const mk[] = {"", "k\xc3\xa9", "x"};
    for (size_t i = 0; i < nm; i++) {
        me[i].key = mk[i];
        me[i].key_len = strlen(mk[i]);
        me[i].value = i ? firn_avro_long((int64_t)i * -7) : firn_avro_null();
    }
    f[AT_M] = firn_avro_map(me, nm);
    switch (k % 6) {
    case 0: f[AT_U] = firn_avro_null(); break;
    case 1: f[AT_U] = firn_avro_string("u"); break;
    case 2: f[AT_U] = firn_avro_long(INT64_MIN); break;
    case 3: f[AT_U] = point(a, 1, 2, tag); break;
    case 4: f[AT_U] = firn_avro_enum(1); break;
    default: {
        firn_avro_value *it = firn_avro_values_new(a, 2);
        it[0] = firn_avro_int(1);
        it[1] = firn_avro_int(-2);
        f[AT_U] = firn_avro_array(it, 2);
    }
    }
    if (k % 2) {
        firn_avro_value *bv = firn_avro_values_new(a, 1);
        bv[0] = firn_avro_int(k);
        f[AT_TWO] = firn_avro_record(bv, 1);
        f[AT_TWO].branch = 1; /* two record branches: say which */
    } else {
        f[AT_TWO] = firn_avro_record(NULL, 0);
        f[AT_TWO].branch = 0;
    }
    size_t nn = (size_t)k % 3;
    firn_avro_value *maps = firn_avro_values_new(a, nn);
    for (size_t i = 0; i < nn; i++) {
        firn_avro_map_entry *e = firn_arena_calloc(a, sizeof *e);
        e->key = "list";
        e->key_len = 4;
        firn_avro_value *strs = firn_avro_values_new(a, i + 1);
        for (size_t j = 0; j <= i; j++) strs[j] = firn_avro_string(j ? "b" : "");
        e->value = firn_avro_array(strs, i + 1);
        maps[i] = firn_avro_map(e, 1);
    }
    f[AT_NESTED] = firn_avro_array(maps, nn);
    return firn_avro_record(f, AT_COUNT);
}

FIRN_TEST(avro_roundtrip_all_types) {
    enum { N = 24 };
    size_t big_len = 1 << 20;
    uint8_t *big = firn_xmalloc(big_len);
    for (size_t i = 0; i < big_len; i++) big[i] = (uint8_t)test_mix(i);
    firn_arena a, ra;
    firn_arena_init(&a, 0);
    firn_arena_init(&ra, 0);
    firn_avro_value in[N], out[N];
    for (int k = 0; k < N; k++) in[k] = all_types_value(&a, k, big, big_len);
    firn_buf file;
    firn_buf_init(&file);
    firn_error err;
    firn_error_init(&err);
    for (size_t c = 0; c < NCODECS; c++) {
        uint64_t size = 0;
        CHECK_OK(write_values(ALL_TYPES_SCHEMA, codecs[c], in, N, 0, &file, &size, &err), &err);
        CHECK_EQ_INT(size, file.len);
        firn_arena_reset(&ra);
        long n = read_all(file.data, file.len, &ra, out, N, &err);
        CHECK_MSG(n == N, "%s: read %ld records: %s", codecs[c], n, errmsg(&err));
        for (int k = 0; k < N; k++) {
            CHECK_MSG(value_eq(&in[k], &out[k]), "%s: record %d differs", codecs[c], k);
            /* the reader tells union branches */
            CHECK_EQ_INT(out[k].u.record.fields[AT_TWO].branch, k % 2);
            CHECK_EQ_INT(out[k].u.record.fields[AT_U].branch, k % 6);
        }
        /* strings come back NUL-terminated; 1 MiB bytes intact */
        CHECK_EQ_STR(out[1].u.record.fields[AT_S].u.str.ptr, "");
        CHECK_EQ_INT(out[3].u.record.fields[AT_BY].u.bytes.len, big_len);
        CHECK(isnan(out[2].u.record.fields[AT_D].u.f64));
        CHECK(signbit(out[1].u.record.fields[AT_D].u.f64));
        CHECK(out[0].u.record.fields[AT_L].u.i64 == INT64_MIN);
        CHECK(out[1].u.record.fields[AT_L].u.i64 == INT64_MAX);
        CHECK(out[0].u.record.fields[AT_I].u.i32 == INT32_MIN);
    }
    /* deflate really compresses (the 1 MiB random bytes aside, values repeat) */
    firn_buf_release(&file);
    firn_arena_release(&a);
    firn_arena_release(&ra);
    free(big);
}

FIRN_TEST(avro_schema_written_byte_for_byte) {
    /* odd spacing, key order, unicode escapes and unknown attributes all survive */
    static const char schema[] =
        "{ \"fields\" : [ {\"field-id\": 7, \"type\": {\"type\":\"array\", \"items\":\"int\", "
        "\"element-id\": 8, \"x-custom\": {\"a\": [1, 2.50]}}, \"name\":\"xs\", \"default\": [] }, "
        "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"long\",\"key-id\":9,"
        "\"value-id\":10}, \"doc\": \"caf\\u00e9\"} ],\n\t\"name\":\"r\", \"type\" : \"record\" }";
    firn_buf file;
    firn_buf_init(&file);
    firn_error err;
    firn_error_init(&err);
    firn_avro_value f[2] = {firn_avro_array(NULL, 0), firn_avro_map(NULL, 0)};
    firn_avro_value rec = firn_avro_record(f, 2);
    for (size_t c = 0; c < 2; c++) {
        CHECK_OK(write_values(schema, codecs[c], &rec, 1, 0, &file, NULL, &err), &err);
        CHECK(memmem(file.data, file.len, schema, strlen(schema)) != NULL);
        firn_avro_reader *r = firn_avro_reader_open_mem(file.data, file.len, &err);
        CHECK_MSG(r, "%s", errmsg(&err));
        size_t len;
        const char *text = firn_avro_schema_json(firn_avro_reader_schema(r), &len);
        CHECK_EQ_INT(len, strlen(schema));
        CHECK_MEM(text, schema, len);
        CHECK_EQ_STR(firn_avro_reader_meta(r, "avro.schema", NULL), schema);
        CHECK_EQ_STR(firn_avro_reader_meta(r, "avro.codec", NULL), codecs[c]);
        CHECK_EQ_STR(firn_avro_reader_codec(r), codecs[c]);
        CHECK_EQ_STR(firn_avro_reader_meta(r, "format-version", NULL), "2");
        CHECK_EQ_STR(firn_avro_reader_meta(r, "content", NULL), "data");
        CHECK(firn_avro_reader_meta(r, "nope", NULL) == NULL);
        CHECK_EQ_INT(firn_avro_reader_meta_count(r), 4);
        const firn_avro_node *root = firn_avro_schema_root(firn_avro_reader_schema(r));
        CHECK(root->fields[0].field_id == 7 && root->fields[0].type->element_id == 8);
        CHECK(json_is_array(root->fields[0].default_value));
        CHECK(root->fields[1].type->key_id == 9 && root->fields[1].type->value_id == 10);
        CHECK_EQ_STR(json_string_value(firn_avro_field_attr(&root->fields[1], "doc")), "caf\xc3\xa9");
        json_t *custom = firn_avro_node_attr(root->fields[0].type, "x-custom");
        CHECK(json_is_object(custom) && json_array_size(json_object_get(custom, "a")) == 2);
        firn_avro_reader_free(r);
    }
    firn_buf_release(&file);
}

FIRN_TEST(avro_metadata_rules) {
    firn_error err;
    firn_error_init(&err);
    firn_buf file;
    firn_buf_init(&file);
    static const firn_avro_kv dup[] = {{"a", "1", 0}, {"a", "2", 0}, {NULL, NULL, 0}};
    CHECK(!firn_avro_writer_new("\"int\"", "null", 0, dup, buf_write, &file, &err));
    CHECK(strstr(err.message, "given twice"));
    static const firn_avro_kv own[] = {{"avro.codec", "deflate", 0}, {NULL, NULL, 0}};
    CHECK(!firn_avro_writer_new("\"int\"", "null", 0, own, buf_write, &file, &err));
    CHECK(strstr(err.message, "writer's own"));
    CHECK(!firn_avro_writer_new("\"int\"", "lzma", 0, NULL, buf_write, &file, &err));
    CHECK(strstr(err.message, "unknown codec 'lzma'"));
    /* binary values with explicit lengths, Iceberg's string values */
    static const firn_avro_kv meta[] = {{"bin", "a\0b", 3},
                                        {"schema", "{\"type\":\"struct\",\"fields\":[]}", 0},
                                        {"partition-spec", "[]", 0},
                                        {NULL, NULL, 0}};
    firn_avro_writer *w = firn_avro_writer_new("\"int\"", NULL, 0, meta, buf_write, &file, &err);
    CHECK_MSG(w, "%s", errmsg(&err));
    uint64_t size;
    CHECK_OK(firn_avro_writer_close(w, &size, &err), &err);
    CHECK(firn_avro_writer_append(w, &(firn_avro_value){.type = FIRN_AVRO_INT}, &err) != 0);
    CHECK(strstr(err.message, "already closed"));
    firn_avro_writer_free(w);
    CHECK_EQ_INT(size, file.len);
    firn_avro_reader *r = firn_avro_reader_open_mem(file.data, file.len, &err);
    CHECK_MSG(r, "%s", errmsg(&err));
    size_t len;
    const char *v = firn_avro_reader_meta(r, "bin", &len);
    CHECK(v && len == 3 && memcmp(v, "a\0b", 3) == 0);
    CHECK_EQ_STR(firn_avro_reader_meta(r, "partition-spec", NULL), "[]");
    CHECK_EQ_STR(firn_avro_reader_codec(r), "null");
    const char *val;
    CHECK_EQ_STR(firn_avro_reader_meta_at(r, 0, &val, &len), "avro.schema");
    CHECK(firn_avro_reader_meta_at(r, 5, &val, &len) == NULL);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_avro_value out;
    CHECK_EQ_INT(firn_avro_reader_next(r, &a, &out, &err), 0); /* an empty file: header only */
    firn_avro_reader_free(r);
    firn_arena_release(&a);
    firn_buf_release(&file);
}

FIRN_TEST(avro_multiple_blocks_and_sync) {
    enum { N = 5000 };
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_buf file;
    firn_buf_init(&file);
    firn_error err;
    firn_error_init(&err);
    static const uint8_t sync[16] = "0123456789abcdef";
    for (size_t c = 0; c < NCODECS; c++) {
        firn_buf_clear(&file);
        firn_avro_writer *w = firn_avro_writer_new(TEST_MANIFEST_ENTRY_SCHEMA, codecs[c], 6, NULL,
                                                   buf_write, &file, &err);
        CHECK_MSG(w, "%s", errmsg(&err));
        CHECK_OK(firn_avro_writer_set_sync(w, sync, &err), &err);
        CHECK_OK(firn_avro_writer_set_block_size(w, 4096, &err), &err);
        for (uint64_t i = 0; i < N; i++) {
            firn_avro_value v = test_manifest_entry(&a, i);
            CHECK_OK(firn_avro_writer_append(w, &v, &err), &err);
            if (i % 500 == 499) firn_arena_reset(&a);
        }
        CHECK(firn_avro_writer_set_sync(w, sync, &err) != 0); /* too late now */
        CHECK_EQ_INT(firn_avro_writer_record_count(w), N);
        uint64_t size;
        CHECK_OK(firn_avro_writer_close(w, &size, &err), &err);
        firn_avro_writer_free(w);
        CHECK_EQ_INT(size, file.len);
        /* the sync marker ends the header and every block */
        size_t syncs = 0;
        for (const uint8_t *p = file.data; (p = memmem(p, file.len - (size_t)(p - file.data), sync, 16));
             p += 16)
            syncs++;
        CHECK_MSG(syncs > 20, "%s: only %zu sync markers", codecs[c], syncs);
        CHECK(memcmp(file.data + file.len - 16, sync, 16) == 0);
        firn_avro_reader *r = firn_avro_reader_open_mem(file.data, file.len, &err);
        CHECK_MSG(r, "%s", errmsg(&err));
        firn_arena ra, ea;
        firn_arena_init(&ra, 0);
        firn_arena_init(&ea, 0);
        firn_avro_value v;
        int rc;
        uint64_t n = 0;
        bool same = true;
        while ((rc = firn_avro_reader_next(r, &ra, &v, &err)) == 1) {
            firn_avro_value want = test_manifest_entry(&ea, n);
            if (!value_eq(&want, &v)) same = false;
            n++;
            firn_arena_reset(&ra);
            firn_arena_reset(&ea);
        }
        CHECK_MSG(rc == 0, "%s", errmsg(&err));
        CHECK_EQ_INT(n, N);
        CHECK(same);
        CHECK_EQ_INT(firn_avro_reader_record_count(r), N);
        firn_avro_reader_free(r);
        firn_arena_release(&ra);
        firn_arena_release(&ea);
    }
    firn_arena_release(&a);
    firn_buf_release(&file);
}

FIRN_TEST(avro_manifest_entry_v2) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_buf file;
    firn_buf_init(&file);
    firn_error err;
    firn_error_init(&err);
    enum { N = 50 };
    firn_avro_value in[N], out[N];
    for (int i = 0; i < N; i++) in[i] = test_manifest_entry(&a, (uint64_t)i);
    CHECK_OK(write_values(TEST_MANIFEST_ENTRY_SCHEMA, "deflate", in, N, 0, &file, NULL, &err), &err);
    firn_arena ra;
    firn_arena_init(&ra, 0);
    CHECK_EQ_INT(read_all(file.data, file.len, &ra, out, N, &err), N);
    for (int i = 0; i < N; i++) CHECK_MSG(value_eq(&in[i], &out[i]), "entry %d differs", i);
    /* reading by name, as Iceberg code will */
    firn_avro_schema *s =
        firn_avro_schema_parse(TEST_MANIFEST_ENTRY_SCHEMA, strlen(TEST_MANIFEST_ENTRY_SCHEMA), &err);
    const firn_avro_node *root = firn_avro_schema_root(s);
    const firn_avro_value *df = firn_avro_value_field(&out[7], root, "data_file");
    const firn_avro_node *dfn = firn_avro_node_field(root, "data_file", NULL)->type;
    const firn_avro_value *path = firn_avro_value_field(df, dfn, "file_path");
    CHECK_EQ_STR(path->u.str.ptr, "s3://warehouse/db/t/data/\xc3\xa9v\xc3\xa9nement-00007.parquet");
    CHECK_EQ_INT(firn_avro_value_field(&out[4], root, "snapshot_id")->type, FIRN_AVRO_NULL);
    CHECK_EQ_INT(firn_avro_value_field(&out[5], root, "snapshot_id")->branch, 1);
    const firn_avro_value *lb = firn_avro_value_field(df, dfn, "lower_bounds");
    CHECK_EQ_INT(lb->type, FIRN_AVRO_ARRAY);
    CHECK_EQ_INT(lb->u.array.count, 4);
    CHECK_EQ_INT(lb->u.array.items[3].u.record.fields[0].u.i32, 4);
    firn_avro_schema_free(s);

    firn_arena_release(&a);
    firn_arena_release(&ra);
    firn_buf_release(&file);
}

FIRN_TEST(avro_projection_by_field_id) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_buf file;
    firn_buf_init(&file);
    firn_error err;
    firn_error_init(&err);
    enum { N = 40 };
    firn_avro_value in[N];
    for (int i = 0; i < N; i++) in[i] = test_manifest_entry(&a, (uint64_t)i);
    CHECK_OK(write_values(TEST_MANIFEST_ENTRY_SCHEMA, "null", in, N, 2048, &file, NULL, &err), &err);
    firn_avro_reader *r = firn_avro_reader_open_mem(file.data, file.len, &err);
    CHECK_MSG(r, "%s", errmsg(&err));
    /* file_path (100), record_count (103), the whole partition (102), the key of lower_bounds (126) */
    static const int32_t ids[] = {100, 103, 102, 126, 0};
    CHECK_OK(firn_avro_reader_project(r, ids, 5, &err), &err);
    firn_arena ra;
    firn_arena_init(&ra, 0);
    firn_avro_value v;
    int n = 0, rc;
    while ((rc = firn_avro_reader_next(r, &ra, &v, &err)) == 1) {
        const firn_avro_value *f = v.u.record.fields, *want = in[n].u.record.fields;
        CHECK(value_eq(&f[0], &want[0]));             /* status, id 0 */
        CHECK_EQ_INT(f[1].type, FIRN_AVRO_ABSENT);   /* snapshot_id */
        CHECK_EQ_INT(f[3].type, FIRN_AVRO_ABSENT);
        const firn_avro_value *df = f[4].u.record.fields, *wdf = want[4].u.record.fields;
        CHECK_EQ_INT(f[4].type, FIRN_AVRO_RECORD);    /* leads to selected fields */
        CHECK_EQ_INT(df[DF_CONTENT].type, FIRN_AVRO_ABSENT);
        CHECK(value_eq(&df[DF_FILE_PATH], &wdf[DF_FILE_PATH]));
        CHECK(value_eq(&df[DF_RECORD_COUNT], &wdf[DF_RECORD_COUNT]));
        CHECK(value_eq(&df[DF_PARTITION], &wdf[DF_PARTITION])); /* whole */
        CHECK_EQ_INT(df[DF_FILE_SIZE].type, FIRN_AVRO_ABSENT);
        CHECK_EQ_INT(df[DF_COLUMN_SIZES].type, FIRN_AVRO_ABSENT);
        CHECK_EQ_INT(df[DF_SPLIT_OFFSETS].type, FIRN_AVRO_ABSENT);
        /* lower_bounds: keys only */
        const firn_avro_value *lb = &df[DF_LOWER], *wlb = &wdf[DF_LOWER];
        CHECK_EQ_INT(lb->type, FIRN_AVRO_ARRAY);
        CHECK_EQ_INT(lb->u.array.count, wlb->u.array.count);
        for (size_t k = 0; k < lb->u.array.count; k++) {
            CHECK(value_eq(&lb->u.array.items[k].u.record.fields[0], &wlb->u.array.items[k].u.record.fields[0]));
            CHECK_EQ_INT(lb->u.array.items[k].u.record.fields[1].type, FIRN_AVRO_ABSENT);
        }
        /* JSON leaves absent fields out */
        firn_buf json;
        firn_buf_init(&json);
        CHECK_OK(firn_avro_value_to_json(&json, firn_avro_schema_root(firn_avro_reader_schema(r)), &v,
                                         FIRN_AVRO_JSON_PLAIN, &err), &err);
        CHECK(!strstr(firn_buf_cstr(&json), "snapshot_id") && strstr(firn_buf_cstr(&json), "\"file_path\""));
        firn_buf_release(&json);
        n++;
    }
    CHECK_MSG(rc == 0, "%s", errmsg(&err));
    CHECK_EQ_INT(n, N);
    firn_avro_reader_free(r);
    /* n = 0: everything again */
    r = firn_avro_reader_open_mem(file.data, file.len, &err);
    CHECK_OK(firn_avro_reader_project(r, ids, 5, &err), &err);
    CHECK_OK(firn_avro_reader_project(r, NULL, 0, &err), &err);
    CHECK_EQ_INT(firn_avro_reader_next(r, &ra, &v, &err), 1);
    CHECK(value_eq(&v, &in[0]));
    firn_avro_reader_free(r);
    firn_arena_release(&a);
    firn_arena_release(&ra);
    firn_buf_release(&file);
}

FIRN_TEST(avro_writer_validation_names_the_path) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_buf file;
    firn_buf_init(&file);
    firn_error err;
    firn_error_init(&err);
    firn_avro_writer *w = firn_avro_writer_new(TEST_MANIFEST_ENTRY_SCHEMA, "deflate", 1, NULL,
                                               buf_write, &file, &err);
    CHECK_MSG(w, "%s", errmsg(&err));
    struct {
        int field, sub, item; /* data_file field, -1 for a top-level field */
        firn_avro_value bad;
        const char *expect;
    } cases[] = {
        {-1, 0, -1, firn_avro_string("x"), "manifest_entry.status: expected int, got string"},
        {DF_RECORD_COUNT, 0, -1, firn_avro_string("12"),
         "manifest_entry.data_file.record_count: expected long, got string"},
        {DF_FILE_PATH, 0, -1, firn_avro_string_n("\xff\xfe", 2), "data_file.file_path: string is not valid UTF-8"},
        {DF_SORT_ORDER_ID, 0, -1, firn_avro_string("0"),
         "data_file.sort_order_id: a string value matches no branch of the union [null, int]"},
        {DF_LOWER, 1, 2, firn_avro_long(1), "data_file.lower_bounds[2].value: expected bytes, got long"},
        {DF_PARTITION, 0, -1, firn_avro_record(NULL, 0), "data_file.partition: record r102 has 3 fields, the value has 0"},
        {DF_FILE_SIZE, 0, -1, firn_avro_float(1), "expected long, got float"},
        {DF_CONTENT, 0, -1, (firn_avro_value){.type = FIRN_AVRO_ABSENT}, "expected int, got absent"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        firn_avro_value v = test_manifest_entry(&a, 3);
        firn_avro_value *df = v.u.record.fields[4].u.record.fields;
        if (cases[c].field < 0) v.u.record.fields[cases[c].sub] = cases[c].bad;
        else if (cases[c].item >= 0)
            df[cases[c].field].u.array.items[cases[c].item].u.record.fields[cases[c].sub] = cases[c].bad;
        else df[cases[c].field] = cases[c].bad;
        CHECK_MSG(firn_avro_writer_append(w, &v, &err) != 0, "case %zu accepted", c);
        CHECK_MSG(strstr(err.message, cases[c].expect), "case %zu: \"%s\"", c, err.message);
        CHECK_EQ_INT(err.kind, FIRN_ERR_INVALID);
    }
    /* promotion int -> long is allowed; the writer is still usable after errors */
    firn_avro_value v = test_manifest_entry(&a, 3);
    v.u.record.fields[4].u.record.fields[DF_RECORD_COUNT] = firn_avro_int(77);
    CHECK_OK(firn_avro_writer_append(w, &v, &err), &err);
    firn_avro_value good = test_manifest_entry(&a, 4);
    CHECK_OK(firn_avro_writer_append(w, &good, &err), &err);
    CHECK_EQ_INT(firn_avro_writer_record_count(w), 2);
    CHECK_OK(firn_avro_writer_close(w, NULL, &err), &err);
    firn_avro_writer_free(w);
    firn_arena ra;
    firn_arena_init(&ra, 0);
    firn_avro_value out[2];
    CHECK_EQ_INT(read_all(file.data, file.len, &ra, out, 2, &err), 2);
    CHECK(out[0].u.record.fields[4].u.record.fields[DF_RECORD_COUNT].u.i64 == 77);
    CHECK(value_eq(&good, &out[1]));
    /* enum, fixed sizes, ambiguous record unions */
    firn_avro_schema *s = firn_avro_schema_parse(ALL_TYPES_SCHEMA, strlen(ALL_TYPES_SCHEMA), &err);
    const firn_avro_node *root = firn_avro_schema_root(s);
    firn_buf enc;
    firn_buf_init(&enc);
    firn_avro_value rec = all_types_value(&a, 2, NULL, 0);
    rec.u.record.fields[AT_E] = firn_avro_enum(2);
    CHECK(firn_avro_encode_value(&enc, root, &rec, &err) != 0);
    CHECK_MSG(strstr(err.message, "t.all.e: enum t.color has 2 symbols, got index 2"), "%s", err.message);
    CHECK_EQ_INT(enc.len, 0);
    rec = all_types_value(&a, 2, NULL, 0);
    rec.u.record.fields[AT_FX] = firn_avro_fixed("abc", 3);
    CHECK(firn_avro_encode_value(&enc, root, &rec, &err) != 0);
    CHECK_MSG(strstr(err.message, "fixed t.f4 needs 4 bytes, got 3"), "%s", err.message);
    rec = all_types_value(&a, 2, NULL, 0);
    rec.u.record.fields[AT_POINTS].u.array.items[1].u.record.fields[2] = firn_avro_fixed("abcde", 5);
    CHECK(firn_avro_encode_value(&enc, root, &rec, &err) != 0);
    CHECK_MSG(strstr(err.message, "t.all.points[1].tag: fixed t.f4 needs 4 bytes, got 5"), "%s", err.message);
    rec = all_types_value(&a, 2, NULL, 0);
    firn_avro_map_entry me = {"k\xc3", 2, firn_avro_null()};
    rec.u.record.fields[AT_M] = firn_avro_map(&me, 1);
    CHECK(firn_avro_encode_value(&enc, root, &rec, &err) != 0);
    CHECK_MSG(strstr(err.message, "map key is not valid UTF-8"), "%s", err.message);
    CHECK_EQ_INT(enc.len, 0);
    firn_avro_schema_free(s);
    firn_buf_release(&enc);
    firn_arena_release(&a);
    firn_arena_release(&ra);
    firn_buf_release(&file);
}

FIRN_TEST(avro_json_rendering) {
    firn_error err;
    firn_error_init(&err);
    static const char schema[] =
        "{\"type\":\"record\",\"name\":\"r\",\"namespace\":\"ns\",\"fields\":["
        "{\"name\":\"a\",\"type\":[\"null\",\"long\"]},"
        "{\"name\":\"b\",\"type\":\"bytes\"},"
        "{\"name\":\"c\",\"type\":{\"type\":\"fixed\",\"name\":\"two\",\"size\":2}},"
        "{\"name\":\"d\",\"type\":[\"null\",\"two\"]},"
        "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\",\"Y\"]}},"
        "{\"name\":\"f\",\"type\":\"float\"},"
        "{\"name\":\"g\",\"type\":{\"type\":\"array\",\"items\":\"double\"}},"
        "{\"name\":\"h\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
        "{\"name\":\"i\",\"type\":\"boolean\"},"
        "{\"name\":\"j\",\"type\":\"null\"}]}";
    firn_avro_schema *s = firn_avro_schema_parse(schema, strlen(schema), &err);
    CHECK_MSG(s, "%s", errmsg(&err));
    const firn_avro_node *root = firn_avro_schema_root(s);
    double ds[] = {0.1, -0.0, 100.0, 1e16, NAN, -INFINITY, 5e-324, 123456789012.5, 0.0001, 1.5e-5, 3.141592653589793};
    firn_avro_map_entry me[2] = {{"k\"\n", 3, firn_avro_string("v\x01\xc3\xa9")},
                                 {"", 0, firn_avro_string_n("bad\xff", 4)}};
    firn_avro_value g[11];
    for (int i = 0; i < 11; i++) g[i] = firn_avro_double(ds[i]);
    firn_avro_value f[10] = {
        firn_avro_long(INT64_MIN), firn_avro_bytes("\x00\x7f\xff\"", 4), firn_avro_fixed("\xab\x01", 2),
        firn_avro_fixed("zz", 2),  firn_avro_enum(1), firn_avro_float(0.1f), firn_avro_array(g, 11),
        firn_avro_map(me, 2),      firn_avro_bool(true), firn_avro_null()};
    firn_avro_value rec = firn_avro_record(f, 10);
    firn_buf out;
    firn_buf_init(&out);
    CHECK_OK(firn_avro_value_to_json(&out, root, &rec, FIRN_AVRO_JSON_PLAIN, &err), &err);
    CHECK_EQ_STR(firn_buf_cstr(&out),
                 "{\"a\":-9223372036854775808,\"b\":\"007fff22\",\"c\":\"ab01\",\"d\":\"7a7a\","
                 "\"e\":\"Y\",\"f\":0.1,\"g\":[0.1,-0.0,100.0,1e+16,\"NaN\",\"-Infinity\",5e-324,"
                 "123456789012.5,0.0001,1.5e-05,3.141592653589793],\"h\":{\"k\\\"\\n\":\"v\\u0001\xc3\xa9\",\"\":\"bad\xef\xbf\xbd\"},"
                 "\"i\":true,\"j\":null}");
    firn_buf_clear(&out);
    CHECK_OK(firn_avro_value_to_json(&out, root, &rec, FIRN_AVRO_JSON_AVRO, &err), &err);
    CHECK_EQ_STR(firn_buf_cstr(&out),
                 "{\"a\":{\"long\":-9223372036854775808},\"b\":\"\\u0000\\u007f\\u00ff\\u0022\","
                 "\"c\":\"\\u00ab\\u0001\",\"d\":{\"ns.two\":\"zz\"},"
                 "\"e\":\"Y\",\"f\":0.1,\"g\":[0.1,-0.0,100.0,1e+16,\"NaN\",\"-Infinity\",5e-324,"
                 "123456789012.5,0.0001,1.5e-05,3.141592653589793],\"h\":{\"k\\\"\\n\":\"v\\u0001\xc3\xa9\",\"\":\"bad\xef\xbf\xbd\"},"
                 "\"i\":true,\"j\":null}");
    /* the rendered plain JSON parses, and a value that does not match is an error */
    json_error_t je;
    json_t *parsed = json_loads(firn_buf_cstr(&out), JSON_ALLOW_NUL, &je);
    CHECK_MSG(parsed, "%s", je.text);
    json_decref(parsed);
    /* every finite double and float reads back bit for bit from its text */
    static const firn_avro_node dnode = {.type = FIRN_AVRO_DOUBLE, .encoded_size = 8};
    static const firn_avro_node fnode = {.type = FIRN_AVRO_FLOAT, .encoded_size = 4};
    for (uint64_t i = 0; i < 20000; i++) {
        uint64_t bits = test_mix(i);
        double d;
        float fl;
        uint32_t fbits = (uint32_t)bits;
        memcpy(&d, &bits, 8);
        memcpy(&fl, &fbits, 4);
        if (i % 3 == 0) d = (double)(int64_t)(bits % 2000001) / 1000.0 - 1000.0; /* "nice" numbers */
        if (isfinite(d)) {
            firn_buf_clear(&out);
            firn_avro_value dv = firn_avro_double(d);
            CHECK_OK(firn_avro_value_to_json(&out, &dnode, &dv, FIRN_AVRO_JSON_PLAIN, &err), &err);
            double back = strtod(firn_buf_cstr(&out), NULL);
            CHECK_MSG(memcmp(&back, &d, 8) == 0, "double %.17g printed as %s", d, (char *)out.data);
        }
        if (isfinite(fl)) {
            firn_buf_clear(&out);
            firn_avro_value fv = firn_avro_float(fl);
            CHECK_OK(firn_avro_value_to_json(&out, &fnode, &fv, FIRN_AVRO_JSON_PLAIN, &err), &err);
            float back = strtof(firn_buf_cstr(&out), NULL);
            CHECK_MSG(memcmp(&back, &fl, 4) == 0, "float %.9g printed as %s", (double)fl, (char *)out.data);
            CHECK_MSG(out.len <= 16, "float %.9g printed as %s", (double)fl, (char *)out.data);
        }
    }
    f[4] = firn_avro_string("Y");
    size_t before = out.len;
    CHECK(firn_avro_value_to_json(&out, root, &rec, FIRN_AVRO_JSON_PLAIN, &err) != 0);
    CHECK_EQ_INT(out.len, before);
    firn_buf_release(&out);
    firn_avro_schema_free(s);
}

FIRN_TEST(avro_file_writer_exclusive_and_exact_size) {
    firn_error err;
    firn_error_init(&err);
    const char *path = firn_test_path("m.avro");
    firn_arena a;
    firn_arena_init(&a, 0);
    static const firn_avro_kv meta[] = {{"format-version", "2", 0}, {NULL, NULL, 0}};
    firn_avro_writer *w = firn_avro_writer_create(path, TEST_MANIFEST_ENTRY_SCHEMA, "deflate", -1, meta, &err);
    CHECK_MSG(w, "%s", errmsg(&err));
    for (uint64_t i = 0; i < 300; i++) {
        firn_avro_value v = test_manifest_entry(&a, i);
        CHECK_OK(firn_avro_writer_append(w, &v, &err), &err);
    }
    /* a second writer on the same path fails: O_EXCL */
    firn_avro_writer *w2 = firn_avro_writer_create(path, "\"int\"", "null", 0, NULL, &err);
    CHECK(!w2);
    CHECK(strstr(err.message, "cannot create"));
    CHECK_EQ_STR(err.context, path);
    uint64_t size = 0;
    CHECK_OK(firn_avro_writer_close(w, &size, &err), &err);
    firn_avro_writer_free(w);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(size, st.st_size);
    firn_avro_reader *r = firn_avro_reader_open(path, &err);
    CHECK_MSG(r, "%s", errmsg(&err));
    CHECK_EQ_STR(firn_avro_reader_meta(r, "format-version", NULL), "2");
    firn_avro_value v;
    int n = 0;
    while (firn_avro_reader_next(r, &a, &v, &err) == 1) n++;
    CHECK_EQ_INT(n, 300);
    firn_avro_reader_free(r);
    /* a writer freed without close leaves no partial file */
    const char *path2 = firn_test_path("partial.avro");
    w = firn_avro_writer_create(path2, TEST_MANIFEST_ENTRY_SCHEMA, "null", 0, NULL, &err);
    CHECK_MSG(w, "%s", errmsg(&err));
    CHECK_OK(firn_avro_writer_set_block_size(w, 100, &err), &err);
    firn_avro_value e = test_manifest_entry(&a, 1);
    CHECK_OK(firn_avro_writer_append(w, &e, &err), &err);
    CHECK(access(path2, F_OK) == 0);
    firn_avro_writer_free(w);
    CHECK(access(path2, F_OK) != 0);
    /* reading a missing file */
    CHECK(!firn_avro_reader_open(firn_test_path("nope.avro"), &err));
    CHECK_EQ_INT(err.kind, FIRN_ERR_NOT_FOUND);
    firn_arena_release(&a);
}

static int failing_write(void *ctx, const void *data, size_t len, firn_error *err) {
    (void)data;
    (void)len;
    int *calls = ctx;
    if (++*calls > 1) return FIRN_RAISE(err, FIRN_ERR_IO, "disk full");
    return 0;
}

FIRN_TEST(avro_writer_write_errors) {
    firn_error err;
    firn_error_init(&err);
    int calls = 0;
    firn_avro_writer *w = firn_avro_writer_new("\"long\"", "null", 0, NULL, failing_write, &calls, &err);
    CHECK_OK(firn_avro_writer_set_block_size(w, 16, &err), &err);
    firn_avro_value v = firn_avro_long(1);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++) rc = firn_avro_writer_append(w, &v, &err);
    CHECK(rc != 0);
    CHECK(strstr(err.message, "disk full"));
    CHECK(firn_avro_writer_append(w, &v, &err) != 0);
    CHECK(strstr(err.message, "earlier write failed"));
    CHECK(firn_avro_writer_close(w, NULL, &err) != 0);
    firn_avro_writer_free(w);
}

FIRN_TEST(avro_recursive_schema_and_depth) {
    static const char schema[] =
        "{\"type\":\"record\",\"name\":\"node\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"
        "{\"name\":\"next\",\"type\":[\"null\",\"node\"]},"
        "{\"name\":\"kids\",\"type\":{\"type\":\"array\",\"items\":\"node\"}}]}";
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_buf file;
    firn_buf_init(&file);
    /* a list of `depth` nodes */
    for (int depth = 10; depth <= 200; depth += 190) {
        firn_avro_value head = firn_avro_null();
        for (int i = depth - 1; i >= 0; i--) {
            firn_avro_value *f = firn_avro_values_new(&a, 3);
            f[0] = firn_avro_int(i);
            f[1] = head;
            f[2] = firn_avro_array(NULL, 0);
            head = firn_avro_record(f, 3);
        }
        int rc = write_values(schema, "null", &head, 1, 0, &file, NULL, &err);
        if (depth == 10) {
            CHECK_OK(rc, &err);
            firn_avro_value out;
            CHECK_EQ_INT(read_all(file.data, file.len, &a, &out, 1, &err), 1);
            CHECK(value_eq(&head, &out));
        } else {
            CHECK(rc != 0);
            CHECK_MSG(strstr(err.message, "nested deeper than"), "%s", err.message);
        }
    }
    /* hand-made data nested 200 deep: the reader stops at its depth limit */
    CHECK_OK(write_values(schema, "null", NULL, 0, 0, &file, NULL, &err), &err);
    size_t header = file.len;
    firn_buf block;
    firn_buf_init(&block);
    for (int i = 0; i < 200; i++) {
        firn_avro_encode_int(&block, i);
        firn_avro_encode_long(&block, 1); /* next: branch "node" */
    }
    firn_avro_encode_int(&block, 200);
    firn_avro_encode_long(&block, 0); /* null */
    for (int i = 0; i <= 200; i++) firn_buf_put_u8(&block, 0); /* kids: empty */
    firn_avro_encode_long(&file, 1);
    firn_avro_encode_long(&file, (int64_t)block.len);
    firn_buf_append(&file, block.data, block.len);
    firn_buf_append(&file, file.data + header - 16, 16);
    firn_avro_value out;
    CHECK_EQ_INT(read_all(file.data, file.len, &a, &out, 1, &err), -1);
    CHECK_MSG(strstr(err.message, "nested deeper than"), "%s", err.message);
    CHECK_EQ_INT(err.kind, FIRN_ERR_LIMIT);
    /* a record that contains itself directly can never end */
    static const char forever[] = "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"r\",\"type\":\"r\"}]}";
    CHECK_OK(write_values(forever, "null", NULL, 0, 0, &file, NULL, &err), &err);
    firn_avro_encode_long(&file, 1);
    firn_avro_encode_long(&file, 1);
    firn_buf_put_u8(&file, 0);
    firn_buf_append(&file, file.data + file.len - 19, 16);
    CHECK_EQ_INT(read_all(file.data, file.len, &a, &out, 1, &err), -1);
    firn_buf_release(&block);
    firn_buf_release(&file);
    firn_arena_release(&a);
}

FIRN_TEST(avro_encode_decode_single_values) {
    firn_error err;
    firn_error_init(&err);
    firn_avro_schema *s = firn_avro_schema_parse(ALL_TYPES_SCHEMA, strlen(ALL_TYPES_SCHEMA), &err);
    const firn_avro_node *root = firn_avro_schema_root(s);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_buf enc;
    firn_buf_init(&enc);
    for (int k = 0; k < 12; k++) {
        firn_buf_clear(&enc);
        firn_avro_value v = all_types_value(&a, k, (const uint8_t *)"big", 3), out;
        CHECK_OK(firn_avro_encode_value(&enc, root, &v, &err), &err);
        size_t used = 0;
        CHECK_OK(firn_avro_decode_value(enc.data, enc.len, root, &a, &out, &used, &err), &err);
        CHECK_EQ_INT(used, enc.len);
        CHECK(value_eq(&v, &out));
        /* every shorter prefix is an error, not a crash */
        for (size_t cut = 0; cut < enc.len; cut++)
            CHECK_MSG(firn_avro_decode_value(enc.data, cut, root, &a, &out, &used, &err) != 0,
                      "record %d decoded from %zu of %zu bytes", k, cut, enc.len);
    }
    /* known encodings: zig-zag varints */
    firn_buf_clear(&enc);
    firn_avro_encode_long(&enc, -1);
    firn_avro_encode_long(&enc, 64);
    firn_avro_encode_int(&enc, INT32_MIN);
    CHECK_EQ_INT(enc.len, 1 + 2 + 5);
    CHECK(enc.data[0] == 0x01 && enc.data[1] == 0x80 && enc.data[2] == 0x01);
    CHECK_MEM(enc.data + 3, "\xff\xff\xff\xff\x0f", 5);
    /* appending pre-encoded records */
    firn_buf file;
    firn_buf_init(&file);
    firn_avro_writer *w = firn_avro_writer_new("\"long\"", "deflate", 9, NULL, buf_write, &file, &err);
    firn_buf one;
    firn_buf_init(&one);
    for (int64_t i = -500; i < 500; i++) {
        firn_buf_clear(&one);
        firn_avro_encode_long(&one, i * 1000003);
        CHECK_OK(firn_avro_writer_append_encoded(w, one.data, one.len, &err), &err);
        if (i == 0) CHECK_OK(firn_avro_writer_flush(w, &err), &err);
    }
    CHECK_OK(firn_avro_writer_close(w, NULL, &err), &err);
    firn_avro_writer_free(w);
    firn_avro_reader *r = firn_avro_reader_open_mem(file.data, file.len, &err);
    firn_avro_value v;
    int64_t want = -500;
    bool ok = true;
    while (firn_avro_reader_next(r, &a, &v, &err) == 1) ok &= v.u.i64 == want++ * 1000003;
    CHECK(ok && want == 500);
    firn_avro_reader_free(r);
    firn_buf_release(&one);
    firn_buf_release(&file);
    firn_buf_release(&enc);
    firn_arena_release(&a);
    firn_avro_schema_free(s);
}

/* Arrays and maps written in several blocks, with negative counts and byte
 * sizes as Java's blocking encoder writes them: decoded and skipped. */
FIRN_TEST(avro_blocked_arrays_from_other_writers) {
    static const char schema[] =
        "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
        "{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":\"long\"},\"field-id\":1},"
        "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"int\"},\"field-id\":2},"
        "{\"name\":\"tail\",\"type\":\"string\",\"field-id\":3}]}";
    firn_error err;
    firn_error_init(&err);
    firn_buf file, rec;
    firn_buf_init(&file);
    firn_buf_init(&rec);
    CHECK_OK(write_values(schema, "null", NULL, 0, 0, &file, NULL, &err), &err);
    uint8_t sync[16];
    memcpy(sync, file.data + file.len - 16, 16);
    /* xs: block of 2 (positive), block of -3 with byte size, end */
    firn_avro_encode_long(&rec, 2);
    firn_avro_encode_long(&rec, 1);
    firn_avro_encode_long(&rec, 2);
    firn_buf tmp;
    firn_buf_init(&tmp);
    for (int i = 3; i <= 5; i++) firn_avro_encode_long(&tmp, i * 1000);
    firn_avro_encode_long(&rec, -3);
    firn_avro_encode_long(&rec, (int64_t)tmp.len);
    firn_buf_append(&rec, tmp.data, tmp.len);
    firn_buf_put_u8(&rec, 0);
    /* m: block of -1 with size, block of 1 */
    firn_buf_clear(&tmp);
    firn_avro_encode_bytes(&tmp, "a", 1);
    firn_avro_encode_int(&tmp, 7);
    firn_avro_encode_long(&rec, -1);
    firn_avro_encode_long(&rec, (int64_t)tmp.len);
    firn_buf_append(&rec, tmp.data, tmp.len);
    firn_avro_encode_long(&rec, 1);
    firn_avro_encode_bytes(&rec, "b", 1);
    firn_avro_encode_int(&rec, -8);
    firn_buf_put_u8(&rec, 0);
    firn_avro_encode_bytes(&rec, "end", 3);
    firn_avro_encode_long(&file, 1);
    firn_avro_encode_long(&file, (int64_t)rec.len);
    firn_buf_append(&file, rec.data, rec.len);
    firn_buf_append(&file, sync, 16);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_avro_value v;
    CHECK_EQ_INT(read_all(file.data, file.len, &a, &v, 1, &err), 1);
    const firn_avro_value *xs = &v.u.record.fields[0], *m = &v.u.record.fields[1];
    CHECK_EQ_INT(xs->u.array.count, 5);
    CHECK(xs->u.array.items[0].u.i64 == 1 && xs->u.array.items[4].u.i64 == 5000);
    CHECK_EQ_INT(m->u.map.count, 2);
    CHECK_EQ_STR(m->u.map.entries[1].key, "b");
    CHECK_EQ_INT(m->u.map.entries[1].value.u.i32, -8);
    CHECK_EQ_STR(v.u.record.fields[2].u.str.ptr, "end");
    /* projection skips both blocked fields */
    firn_avro_reader *r = firn_avro_reader_open_mem(file.data, file.len, &err);
    static const int32_t only_tail[] = {3};
    CHECK_OK(firn_avro_reader_project(r, only_tail, 1, &err), &err);
    CHECK_EQ_INT(firn_avro_reader_next(r, &a, &v, &err), 1);
    CHECK_EQ_INT(v.u.record.fields[0].type, FIRN_AVRO_ABSENT);
    CHECK_EQ_INT(v.u.record.fields[1].type, FIRN_AVRO_ABSENT);
    CHECK_EQ_STR(v.u.record.fields[2].u.str.ptr, "end");
    CHECK_EQ_INT(firn_avro_reader_next(r, &a, &v, &err), 0);
    firn_avro_reader_free(r);
    firn_buf_release(&tmp);
    firn_buf_release(&rec);
    firn_buf_release(&file);
    firn_arena_release(&a);
}

/* ---------------------------------------------------------- corrupt input */

/* Read everything with tight limits; 1 = read fine, 0 = clean error. */
static int read_quietly(const uint8_t *data, size_t len, long *count) {
    firn_error err;
    firn_error_init(&err);
    firn_avro_reader *r = firn_avro_reader_open_mem(data, len, &err);
    if (!r) {
        int ok = err.kind != FIRN_OK && err.message[0];
        firn_error_release(&err);
        return ok ? 0 : -1;
    }
    firn_avro_limits lim = {.max_block_size = 1 << 20, .max_record_memory = 1 << 20,
                            .max_block_records = 1 << 16, .max_depth = 32};
    firn_avro_reader_set_limits(r, &lim);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_avro_value v;
    int rc;
    long n = 0;
    while ((rc = firn_avro_reader_next(r, &a, &v, &err)) == 1) {
        n++;
        firn_buf json;
        firn_buf_init(&json);
        if (firn_avro_value_to_json(&json, firn_avro_schema_root(firn_avro_reader_schema(r)), &v,
                                    FIRN_AVRO_JSON_AVRO, &err) != 0)
            rc = -99;
        firn_buf_release(&json);
        firn_arena_reset(&a);
        if (rc == -99) break;
    }
    /* after an error, the reader keeps failing */
    int again = rc < 0 ? firn_avro_reader_next(r, &a, &v, NULL) : rc;
    firn_avro_reader_free(r);
    firn_arena_release(&a);
    if (count) *count = n;
    int result = rc == 0 ? 1 : (rc < 0 && rc != -99 && err.message[0] && again < 0) ? 0 : -1;
    firn_error_release(&err);
    return result;
}

static void make_corpus_file(firn_buf *file, const char *codec, size_t nrec) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_buf_clear(file);
    firn_avro_writer *w = firn_avro_writer_new(TEST_FIXTURE_SCHEMA, codec, -1, NULL, buf_write, file, &err);
    firn_avro_writer_set_block_size(w, 700, &err);
    for (size_t i = 0; i < nrec; i++) {
        firn_avro_value v = test_fixture_record(&a, i);
        firn_avro_writer_append(w, &v, &err);
    }
    firn_avro_writer_close(w, NULL, &err);
    firn_avro_writer_free(w);
    firn_arena_release(&a);
}

FIRN_TEST(avro_corrupt_truncated_at_every_offset) {
    firn_buf file;
    firn_buf_init(&file);
    for (size_t c = 0; c < 2; c++) {
        make_corpus_file(&file, codecs[c], 8);
        long full = 0;
        CHECK_EQ_INT(read_quietly(file.data, file.len, &full), 1);
        CHECK_EQ_INT(full, 8);
        size_t clean_ends = 0, step = slow_mode() ? 5 : 1;
        for (size_t cut = 0; cut < file.len; cut += step) {
            uint8_t *copy = firn_xmalloc(cut ? cut : 1); /* exact size: ASan sees any overread */
            memcpy(copy, file.data, cut);
            long n = 0;
            int r = read_quietly(copy, cut, &n);
            free(copy);
            CHECK_MSG(r >= 0, "%s: cut at %zu: no clean error", codecs[c], cut);
            /* only a cut right after a block's sync marker reads as a (shorter) file */
            if (r == 1) {
                clean_ends++;
                CHECK_MSG(n < 8, "%s: cut at %zu read %ld records", codecs[c], cut, n);
            }
        }
        if (step == 1)
            CHECK_MSG(clean_ends >= 2 && clean_ends < 40, "%s: %zu clean cuts", codecs[c], clean_ends);
    }
    firn_buf_release(&file);
}

FIRN_TEST(avro_corrupt_flipped_bytes) {
    firn_buf file;
    firn_buf_init(&file);
    for (size_t c = 0; c < NCODECS; c++) {
        make_corpus_file(&file, codecs[c], 6);
        uint8_t *copy = firn_xmalloc(file.len);
        size_t errors = 0, tries = 0;
        /* the header ends with the sync marker, which also ends the file */
        const uint8_t *first_sync = memmem(file.data, file.len, file.data + file.len - 16, 16);
        CHECK(first_sync);
        size_t header_end = (size_t)(first_sync - file.data) + 16;
        static const uint8_t patterns[] = {0xff, 0x01, 0x80};
        /* header bytes (mostly schema JSON): sampled; block bytes: every one, for
         * null and deflate (zstandard and snappy get the random rounds below) */
        size_t step = slow_mode() ? 3 : c < 2 ? 1 : 7;
        for (size_t pos = 0; pos < file.len; pos += pos < header_end ? 11 : step) {
            for (size_t k = 0; k < (pos < header_end ? 1 : sizeof patterns); k++) {
                memcpy(copy, file.data, file.len);
                copy[pos] ^= patterns[k];
                int r = read_quietly(copy, file.len, NULL);
                CHECK_MSG(r >= 0, "%s: byte %zu ^ %02x: no clean error", codecs[c], pos, patterns[k]);
                tries++;
                if (r == 0) errors++;
            }
        }
        /* most corruptions are detected (the rest change a value or the schema's doc) */
        CHECK_MSG(errors * 3 > tries, "%s: only %zu errors in %zu tries", codecs[c], errors, tries);
        /* random multi-byte damage, mostly in the blocks */
        uint64_t seed = 7;
        for (int round = 0; round < (slow_mode() ? 60 : 400); round++) {
            memcpy(copy, file.data, file.len);
            int nflip = 1 + (int)(test_mix(seed++) % 8);
            for (int k = 0; k < nflip; k++) {
                size_t at = round % 4 == 0 ? (size_t)(test_mix(seed++) % file.len)
                                           : header_end + (size_t)(test_mix(seed++) % (file.len - header_end));
                copy[at] = (uint8_t)test_mix(seed++);
            }
            CHECK(read_quietly(copy, file.len, NULL) >= 0);
        }
        free(copy);
    }
    firn_buf_release(&file);
}

/* A file with the given schema and one hand-made block. */
static void handmade(firn_buf *file, const char *schema, const char *codec, int64_t count,
                     const void *block, size_t len) {
    firn_error err;
    firn_error_init(&err);
    firn_buf_clear(file);
    write_values(schema, codec, NULL, 0, 0, file, NULL, &err);
    uint8_t sync[16];
    memcpy(sync, file->data + file->len - 16, 16);
    firn_avro_encode_long(file, count);
    firn_avro_encode_long(file, (int64_t)len);
    firn_buf_append(file, block, len);
    firn_buf_append(file, sync, 16);
}

static const char *read_error(const firn_buf *file, firn_err_kind *kind) {
    static firn_error err;
    firn_error_release(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_avro_value v;
    long n = read_all(file->data, file->len, &a, &v, 1, &err);
    firn_arena_release(&a);
    if (kind) *kind = err.kind;
    return n < 0 ? err.message : "(no error)";
}

static void raw_header(firn_buf *f, const char *schema, const char *codec) {
    firn_buf_clear(f);
    firn_buf_append(f, "Obj\x01", 4);
    firn_avro_encode_long(f, 2);
    firn_avro_encode_bytes(f, "avro.schema", 11);
    firn_avro_encode_bytes(f, schema, strlen(schema));
    firn_avro_encode_bytes(f, "avro.codec", 10);
    firn_avro_encode_bytes(f, codec, strlen(codec));
    firn_buf_put_u8(f, 0);
    firn_buf_append(f, "0123456789abcdef", 16);
}

FIRN_TEST(avro_corrupt_specific_cases) {
    firn_buf f;
    firn_buf_init(&f);
    firn_err_kind kind;
    /* bad magic, empty input, header cut short */
    CHECK(strstr(read_error(&(firn_buf){(uint8_t *)"Obj\x02", 4, 4}, &kind), "bad magic"));
    CHECK(strstr(read_error(&(firn_buf){(uint8_t *)"", 0, 0}, &kind), "bad magic"));
    CHECK(strstr(read_error(&(firn_buf){(uint8_t *)"Obj\x01", 4, 4}, &kind), "truncated varint"));
    CHECK(strstr(read_error(&(firn_buf){(uint8_t *)"Obj\x01\x02\x10" "ab", 8, 8}, &kind), "out of range"));
    /* metadata count larger than the file */
    CHECK(strstr(read_error(&(firn_buf){(uint8_t *)"Obj\x01\xfe\xff\xff\x7f", 8, 8}, &kind),
                 "more than the file holds"));
    /* over-long varint */
    CHECK(strstr(read_error(&(firn_buf){(uint8_t *)"Obj\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01xxxxxxxxxxxxxxxxx", 32, 32}, &kind),
                 "invalid varint"));
    /* no schema; unknown codec; invalid schema JSON */
    firn_buf_clear(&f);
    firn_buf_append(&f, "Obj\x01", 4);
    firn_avro_encode_long(&f, 1);
    firn_avro_encode_bytes(&f, "avro.codec", 10);
    firn_avro_encode_bytes(&f, "null", 4);
    firn_buf_put_u8(&f, 0);
    firn_buf_append(&f, "0123456789abcdef", 16);
    CHECK(strstr(read_error(&f, &kind), "no avro.schema"));
    raw_header(&f, "\"int\"", "bzip2");
    CHECK(strstr(read_error(&f, &kind), "unsupported codec 'bzip2'"));
    CHECK_EQ_INT(kind, FIRN_ERR_UNSUPPORTED);
    raw_header(&f, "{\"type\":\"record\"}", "null");
    CHECK(strstr(read_error(&f, &kind), "schema is invalid"));
    CHECK_EQ_INT(kind, FIRN_ERR_CORRUPT);
    raw_header(&f, "{\"type\":", "deflate");
    CHECK(strstr(read_error(&f, &kind), "schema is invalid"));
    /* a header alone is an empty file */
    raw_header(&f, "\"int\"", "deflate");
    CHECK_EQ_STR(read_error(&f, &kind), "(no error)");

    static const char ls[] = "{\"type\":\"array\",\"items\":\"long\"}";
    /* negative block count and size; block size beyond the file; sync mismatch */
    handmade(&f, "\"long\"", "null", -1, "\x02", 1);
    CHECK(strstr(read_error(&f, &kind), "negative record count"));
    handmade(&f, "\"long\"", "null", 1, "\x02", 1);
    f.data[f.len - 18] = 0x7e; /* size 63 */
    CHECK(strstr(read_error(&f, &kind), "claims 63 bytes"));
    handmade(&f, "\"long\"", "null", 1, "\x02", 1);
    f.data[f.len - 1] ^= 1;
    CHECK(strstr(read_error(&f, &kind), "sync marker"));
    /* a block that claims more records than its bytes can hold */
    handmade(&f, "\"long\"", "null", 1000000, "\x02\x04", 2);
    CHECK(strstr(read_error(&f, &kind), "claims 1000000 records in 2 bytes"));
    /* fewer records than claimed; bytes left over */
    handmade(&f, "\"long\"", "null", 2, "\x02\x80", 2);
    CHECK(strstr(read_error(&f, &kind), "truncated data: varint cut off"));
    CHECK(strstr(read_error(&f, &kind), "truncated data: varint cut off"));
    handmade(&f, "\"long\"", "null", 3, "\x02\x02", 2);
    CHECK(strstr(read_error(&f, &kind), "claims 3 records in 2 bytes"));
    handmade(&f, "\"long\"", "null", 1, "\x02\x04", 2);
    CHECK(strstr(read_error(&f, &kind), "1 bytes after its last record"));
    /* negative and oversized lengths */
    handmade(&f, "\"string\"", "null", 1, "\x03x", 2);
    CHECK(strstr(read_error(&f, &kind), "negative string length"));
    handmade(&f, "\"bytes\"", "null", 1, "\x10x", 2);
    CHECK(strstr(read_error(&f, &kind), "bytes length 8 exceeds the 1 bytes left"));
    /* an array count that lies: 2^62 items in 3 bytes; no huge allocation */
    handmade(&f, ls, "null", 1, "\xfe\xff\xff\xff\xff\xff\xff\xff\x7f\x00", 10);
    CHECK(strstr(read_error(&f, &kind), "cannot fit"));
    /* zero-size items: the memory budget stops a lying count */
    handmade(&f, "{\"type\":\"array\",\"items\":\"null\"}", "null", 1, "\xfe\xff\xff\xff\x0f\x00", 6);
    CHECK(strstr(read_error(&f, &kind), "max_record_memory"));
    CHECK_EQ_INT(kind, FIRN_ERR_LIMIT);
    /* union branch, enum index, boolean byte out of range */
    handmade(&f, "[\"null\",\"int\"]", "null", 1, "\x04", 1);
    CHECK(strstr(read_error(&f, &kind), "union branch 2 out of range"));
    handmade(&f, "{\"type\":\"enum\",\"name\":\"e\",\"symbols\":[\"A\"]}", "null", 1, "\x02", 1);
    CHECK(strstr(read_error(&f, &kind), "index 1 out of range"));
    handmade(&f, "\"boolean\"", "null", 1, "\x02", 1);
    CHECK(strstr(read_error(&f, &kind), "boolean byte is 2"));
    handmade(&f, "\"int\"", "null", 1, "\x80\x80\x80\x80\x10", 5);
    CHECK(strstr(read_error(&f, &kind), "int value out of 32-bit range"));
    handmade(&f, "\"long\"", "null", 1, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
    CHECK(strstr(read_error(&f, &kind), "overflows 64 bits"));
    /* deflate: garbage, truncated, and a bomb beyond max_block_size */
    handmade(&f, "\"long\"", "deflate", 1, "\xff\xff\xff", 3);
    CHECK(strstr(read_error(&f, &kind), "deflate block is corrupt"));
    firn_avro_limits def;
    firn_avro_limits_default(&def);
    CHECK(def.max_block_size == (size_t)64 << 20 && def.max_record_memory == (size_t)256 << 20);
    /* decompression bombs: 3 MiB of zeros (1 MiB limit), and past the default 64 MiB */
    for (int big_one = 0; big_one < (slow_mode() ? 1 : 2); big_one++) {
        size_t big = big_one ? ((size_t)64 << 20) + 1024 : (size_t)3 << 20;
        uint8_t *zeros = firn_xcalloc(1, big);
        for (size_t c = 1; c < NCODECS; c++) {
            if (big_one && c != 1) continue;
            firn_error err;
            firn_error_init(&err);
            firn_buf file;
            firn_buf_init(&file);
            firn_avro_writer *w2 = firn_avro_writer_new("\"bytes\"", codecs[c], 9, NULL, buf_write, &file, &err);
            firn_avro_value v = firn_avro_bytes(zeros, big - 8);
            CHECK_OK(firn_avro_writer_append(w2, &v, &err), &err);
            CHECK_OK(firn_avro_writer_close(w2, NULL, &err), &err);
            firn_avro_writer_free(w2);
            CHECK_MSG(file.len < big / 20, "%s bomb is %zu bytes", codecs[c], file.len);
            for (int raised = 0; raised < 2; raised++) {
                firn_avro_reader *r = firn_avro_reader_open_mem(file.data, file.len, &err);
                firn_avro_limits lim;
                firn_avro_limits_default(&lim);
                if (!big_one) lim.max_block_size = raised ? (size_t)4 << 20 : (size_t)1 << 20;
                else if (raised) lim.max_block_size = (size_t)128 << 20;
                firn_avro_reader_set_limits(r, &lim);
                firn_arena a;
                firn_arena_init(&a, 0);
                firn_avro_value out;
                int rc = firn_avro_reader_next(r, &a, &out, &err);
                if (raised) {
                    CHECK_MSG(rc == 1, "%s: %s", codecs[c], errmsg(&err));
                    CHECK_EQ_INT(out.u.bytes.len, big - 8);
                } else {
                    CHECK_MSG(rc < 0 && strstr(err.message, "decompresses to more than") &&
                                  err.kind == FIRN_ERR_LIMIT,
                              "%s: %d %s", codecs[c], rc, err.message);
                }
                firn_avro_reader_free(r);
                firn_arena_release(&a);
            }
            firn_buf_release(&file);
        }
        free(zeros);
    }
    /* zstandard and snappy garbage */
    handmade(&f, "\"long\"", "zstandard", 1, "\x28\xb5\x2f\xfd\x00", 5);
    CHECK(strstr(read_error(&f, &kind), "zstandard block"));
    handmade(&f, "\"long\"", "snappy", 1, "\x01\x02\x00\x00\x00\x00", 6);
    CHECK(strstr(read_error(&f, &kind), "snappy block"));
    /* too many zero-byte records in one block */
    handmade(&f, "\"null\"", "null", (int64_t)1 << 40, "", 0);
    CHECK(strstr(read_error(&f, &kind), "max_block_records"));
    firn_buf_release(&f);
}

/* ------------------------------------------------------------------ volume */

/* Many manifest entries across many blocks, every codec: all come back.
 * (Speed belongs to bench/, not to a unit test.) */
FIRN_TEST(avro_many_manifest_entries) {
    bool slow = slow_mode();
    uint64_t n = slow ? 5000 : 100000;
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_avro_value *vals = firn_xmalloc(n * sizeof *vals);
    for (uint64_t i = 0; i < n; i++) vals[i] = test_manifest_entry(&a, i);
    for (size_t c = 0; c < 3; c++) {
        firn_buf file;
        firn_buf_init(&file);
        firn_avro_writer *w = firn_avro_writer_new(TEST_MANIFEST_ENTRY_SCHEMA, codecs[c], -1, NULL,
                                                   buf_write, &file, &err);
        for (uint64_t i = 0; i < n; i++) CHECK_OK(firn_avro_writer_append(w, &vals[i], &err), &err);
        uint64_t size;
        CHECK_OK(firn_avro_writer_close(w, &size, &err), &err);
        firn_avro_writer_free(w);
        CHECK_EQ_INT(size, file.len);
        firn_arena ra;
        firn_arena_init(&ra, 0);
        firn_avro_reader *r = firn_avro_reader_open_mem(file.data, file.len, &err);
        firn_avro_value v;
        uint64_t got = 0;
        while (firn_avro_reader_next(r, &ra, &v, &err) == 1)
            if (++got % 1000 == 0) firn_arena_reset(&ra);
        firn_avro_reader_free(r);
        firn_arena_release(&ra);
        CHECK_EQ_INT(got, n);
        firn_buf_release(&file);
    }
    free(vals);
    firn_arena_release(&a);
}
