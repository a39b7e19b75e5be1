/* test_iceberg_metadata_parse.c - the fast metadata parser (metadata_parse.c)
 * against the jansson path: on the golden files, on generated histories of
 * thousands of snapshots (escapes, unicode, extreme ids, unknown keys, pretty and
 * ASCII-escaped forms) both build the same structures; on malformed or unusual
 * input (every prefix and many one-byte corruptions of a document, and a list of
 * hand-picked cases) the fast path never accepts what jansson rejects, and
 * firn_ice_metadata_parse answers exactly as the jansson path does. */
#include "test.h"
#include "iceberg/iceberg.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_DIR "tests/data/iceberg/"

static bool str_same(const char *a, const char *b) {
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Field by field, the parts the fast path builds itself; returns what differs. */
static const char *md_diff(const firn_ice_metadata *a, const firn_ice_metadata *b, size_t *at) {
    *at = 0;
    if (a->nsnapshots != b->nsnapshots) return "snapshot count";
    for (size_t i = 0; i < a->nsnapshots; i++) {
        const firn_ice_snapshot *x = a->snapshots[i], *y = b->snapshots[i];
        *at = i;
        if (x->snapshot_id != y->snapshot_id || x->has_parent != y->has_parent ||
            x->parent_snapshot_id != y->parent_snapshot_id || x->sequence_number != y->sequence_number ||
            x->timestamp_ms != y->timestamp_ms || x->has_schema_id != y->has_schema_id ||
            x->schema_id != y->schema_id)
            return "snapshot numbers";
        if (!str_same(x->manifest_list, y->manifest_list)) return "manifest-list";
        if (x->nmanifests != y->nmanifests) return "manifests";
        for (size_t k = 0; k < x->nmanifests; k++)
            if (!str_same(x->manifests[k], y->manifests[k])) return "manifests";
        if (x->nsummary != y->nsummary) return "summary size";
        for (size_t k = 0; k < x->nsummary; k++)
            if (!str_same(x->summary[k].key, y->summary[k].key) ||
                !str_same(x->summary[k].value, y->summary[k].value))
                return "summary";
        if (!str_same(x->extra_json, y->extra_json)) return "snapshot extra keys";
    }
    if (a->nsnapshot_log != b->nsnapshot_log) return "snapshot-log count";
    for (size_t i = 0; i < a->nsnapshot_log; i++)
        if ((*at = i, a->snapshot_log[i].timestamp_ms != b->snapshot_log[i].timestamp_ms ||
                          a->snapshot_log[i].snapshot_id != b->snapshot_log[i].snapshot_id))
            return "snapshot-log";
    if (a->nmetadata_log != b->nmetadata_log) return "metadata-log count";
    for (size_t i = 0; i < a->nmetadata_log; i++)
        if ((*at = i, a->metadata_log[i].timestamp_ms != b->metadata_log[i].timestamp_ms ||
                          !str_same(a->metadata_log[i].metadata_file, b->metadata_log[i].metadata_file)))
            return "metadata-log";
    *at = 0;
    if (a->nproperties != b->nproperties) return "property count";
    for (size_t i = 0; i < a->nproperties; i++)
        if (!str_same(a->properties[i].key, b->properties[i].key) ||
            !str_same(a->properties[i].value, b->properties[i].value))
            return "properties";
    if (a->nrefs != b->nrefs) return "ref count";
    for (size_t i = 0; i < a->nrefs; i++)
        if (!str_same(a->refs[i]->name, b->refs[i]->name) || a->refs[i]->snapshot_id != b->refs[i]->snapshot_id ||
            !str_same(a->refs[i]->extra_json, b->refs[i]->extra_json))
            return "refs";
    if (!str_same(a->extra_json, b->extra_json)) return "extra keys";
    if (!str_same(a->statistics_json, b->statistics_json)) return "statistics";
    if (a->current_snapshot_id != b->current_snapshot_id || a->nschemas != b->nschemas ||
        a->nspecs != b->nspecs || a->nsort_orders != b->nsort_orders || strcmp(a->table_uuid, b->table_uuid))
        return "head";
    return NULL;
}

static int fast_taken;      /* inputs the fast path took (so the comparisons are not vacuous) */
static bool last_accepted; /* the last agree(): jansson accepted the input */

/* Parse text with both paths and with firn_ice_metadata_parse; everything must agree.
 * want_fast: the fast path must take this input. Sets last_accepted. */
static void agree(const char *what, const char *text, size_t len, bool want_fast) {
    firn_error e_ref, e_full;
    firn_error_init(&e_ref);
    firn_error_init(&e_full);
    firn_ice_metadata *ref = firn_ice_metadata_parse_jansson(text, len, &e_ref);
    firn_ice_metadata *fast = firn_ice_metadata_parse_fast(text, len);
    firn_ice_metadata *full = firn_ice_metadata_parse(text, len, &e_full);
    last_accepted = ref != NULL;
    if (fast) fast_taken++;
    CHECK_MSG(!fast || ref, "%s: the fast path accepted what jansson rejects (%s)", what, e_ref.message);
    CHECK_MSG(!want_fast || fast, "%s: the fast path declined", what);
    CHECK_MSG(!ref == !full, "%s: parse %s, jansson %s", what, full ? "accepts" : "rejects",
              ref ? "accepts" : "rejects");
    if (!ref && !full) {
        CHECK_MSG(e_ref.kind == e_full.kind && strcmp(e_ref.message, e_full.message) == 0,
                  "%s: errors differ:\n      %s\n      %s", what, e_ref.message, e_full.message);
    }
    firn_ice_metadata *mine[2] = {fast, full};
    for (int k = 0; k < 2 && ref; k++) {
        if (!mine[k]) continue;
        size_t at;
        const char *d = md_diff(ref, mine[k], &at);
        CHECK_MSG(!d, "%s (%s): %s differs at %zu", what, k ? "parse" : "fast", d, at);
        for (int flags = 0; flags <= FIRN_ICE_JSON_PRETTY; flags++) {
            firn_error e;
            firn_error_init(&e);
            char *a = firn_ice_metadata_to_string(ref, flags, NULL, &e);
            char *b = firn_ice_metadata_to_string(mine[k], flags, NULL, &e);
            CHECK_MSG(a && b && strcmp(a, b) == 0, "%s (%s): written %s differs", what,
                      k ? "parse" : "fast", flags ? "pretty" : "compact");
            free(a);
            free(b);
        }
    }
    firn_ice_metadata_free(ref);
    firn_ice_metadata_free(fast);
    firn_ice_metadata_free(full);
    firn_error_release(&e_ref);
    firn_error_release(&e_full);
}

FIRN_TEST(iceberg_metadata_parse_golden_files) {
    DIR *d = opendir(GOLDEN_DIR);
    CHECK_MSG(d, "cannot open " GOLDEN_DIR " (run from the repository root)");
    if (!d) return;
    int files = 0;
    fast_taken = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 5, ".json") != 0) continue;
        char path[512];
        snprintf(path, sizeof path, GOLDEN_DIR "%s", de->d_name);
        uint8_t *data;
        size_t len;
        firn_error err;
        firn_error_init(&err);
        CHECK_OK(firn_read_file(path, &data, &len, &err), &err);
        if (!data) continue;
        agree(de->d_name, (const char *)data, len, true);
        CHECK_MSG(last_accepted, "%s: rejected", de->d_name);
        /* the same documents compact, indented and with every non-ASCII escaped */
        json_t *j = json_loadb((const char *)data, len, 0, NULL);
        size_t forms[] = {JSON_COMPACT, JSON_INDENT(3), JSON_ENSURE_ASCII | JSON_INDENT(1)};
        for (size_t f = 0; j && f < 3; f++) {
            char *t = json_dumps(j, forms[f]);
            char what[600];
            snprintf(what, sizeof what, "%s form %zu", de->d_name, f);
            agree(what, t, strlen(t), true);
            free(t);
        }
        json_decref(j);
        free(data);
        files++;
    }
    closedir(d);
    CHECK_MSG(files >= 5, "only %d golden metadata files", files);
    CHECK_EQ_INT(fast_taken, files * 4);
}

/* A v2 document with n snapshots in the shapes engines write, and the oddities
 * the fast path must read exactly as jansson does. */
static char *generate(size_t n, bool odd) {
    firn_buf b = {0};
    firn_buf_appendf(&b,
                     "{\"format-version\":2,\"table-uuid\":\"9C12D441-03FE-4693-9A96-A0705DDF69C1\","
                     "\"location\":\"s3://bucket/t\\u00e9st/tbl\",\"last-sequence-number\":%zu,"
                     "\"last-updated-ms\":1700000000000,\"last-column-id\":3,\"current-schema-id\":0,"
                     "\"schemas\":[{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
                     "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
                     "{\"id\":2,\"name\":\"n\\u00e4me\",\"required\":false,\"type\":\"string\"},"
                     "{\"id\":3,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"}]}],"
                     "\"default-spec-id\":0,\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
                     "\"last-partition-id\":999,\"default-sort-order-id\":0,"
                     "\"sort-orders\":[{\"order-id\":0,\"fields\":[]}],",
                     n + 5);
    if (odd)
        firn_buf_append_str(&b, "\"properties\":{\"owner\":\"\\u00e9\\u4e2d\\ud83d\\ude00\",\"q\\\"k\":\"tab\\tnl\\n\\/\","
                                "\"\\u0041\":\"b\\\\s\",\"empty\":\"\",\"owner\":\"second wins\"},"
                                "\"x-nested\":{\"a\":[1,-2.5e-3,true,false,null,{\"b\":\"\\u00ff\"}],\"c\":{}},"
                                "\"x-big\":-9223372036854775808,\"x-real\":1E+308,");
    else
        firn_buf_append_str(&b, "\"properties\":{\"write.format.default\":\"parquet\"},");
    int64_t last = 0;
    firn_buf_append_str(&b, "\"snapshots\":[");
    for (size_t i = 0; i < n; i++) {
        int64_t id = (int64_t)(i * 7919 + 1) * (odd && i % 3 ? 1000003 : 1);
        if (odd && i == n - 1) id = INT64_MAX;
        firn_buf_appendf(&b, "%s\n  {\"sequence-number\":%zu,\"snapshot-id\":%lld", i ? "," : "", i + 1,
                         (long long)id);
        if (i) firn_buf_appendf(&b, ",\"parent-snapshot-id\":%lld", (long long)last);
        else if (odd) firn_buf_append_str(&b, ",\"parent-snapshot-id\":-42");
        firn_buf_appendf(&b, ",\"timestamp-ms\":%lld,\"summary\":{", (long long)(1700000000000 + (int64_t)i * 1000));
        if (odd && i % 5 == 1) firn_buf_append_str(&b, "\"added-records\":\"10\",\"operation\":\"overwrite\"");
        else firn_buf_appendf(&b, "\"operation\":\"append\",\"added-records\":\"%zu\",\"total-records\":\"%zu\"", i, i * i);
        if (odd && i % 7 == 2)
            firn_buf_append_str(&b, ",\"caf\\u00e9\":\"cr\\u00e8me \\\"q\\\" \\\\ \\b\\f\\r\\u0001\",\"\":\"\",\"\\ud834\\udd1e\":\"\xf0\x9d\x84\x9e \xe4\xb8\xad\"");
        firn_buf_append_str(&b, "}");
        if (odd && i % 11 == 3) firn_buf_append_str(&b, ",\"first-row-id\":12,\"x-nested\":{\"k\":[\"v\",{\"z\":null}]}");
        if (odd && i % 13 == 4) firn_buf_append_str(&b, ",\"schema-id\":null");
        else firn_buf_append_str(&b, ",\"schema-id\":0");
        firn_buf_appendf(&b, ",\"manifest-list\":\"s3://bucket/t\\u00e9st/tbl/metadata/snap-%lld-1-%s.avro\"}",
                         (long long)id, odd && i % 17 == 5 ? "a\\/b" : "c2f1e0");
        last = id;
    }
    firn_buf_appendf(&b, "],\"current-snapshot-id\":%lld,\"refs\":{\"main\":{\"snapshot-id\":%lld,\"type\":\"branch\"}", (long long)last,
                     (long long)last);
    if (odd) firn_buf_append_str(&b, ",\"t\\u00e4g\":{\"snapshot-id\":1,\"type\":\"tag\",\"x-r\":[]}");
    firn_buf_append_str(&b, "},\"statistics\":[],\"snapshot-log\":[");
    for (size_t i = 0; i < n; i++)
        firn_buf_appendf(&b, "%s{\"timestamp-ms\":%lld,\"snapshot-id\":%lld}", i ? "," : "",
                         (long long)(1700000000000 + (int64_t)i * 1000), (long long)(i * 7919 + 1));
    firn_buf_append_str(&b, "],\"metadata-log\":[");
    for (size_t i = 0; i < n / 2; i++)
        firn_buf_appendf(&b, "%s{ \"metadata-file\" : \"s3://bucket/t/metadata/%05zu-\\u00e9.metadata.json\" , \"timestamp-ms\" : %lld }",
                         i ? "," : "", i, (long long)(1600000000000 + (int64_t)i));
    firn_buf_append_str(&b, "]}\n");
    return firn_buf_cstr(&b);
}

FIRN_TEST(iceberg_metadata_parse_generated_histories) {
    fast_taken = 0;
    for (int odd = 0; odd <= 1; odd++) {
        char *text = generate(odd ? 2000 : 3000, odd);
        char what[64];
        snprintf(what, sizeof what, "generated %s", odd ? "odd" : "plain");
        agree(what, text, strlen(text), true);
        CHECK_MSG(last_accepted, "%s: rejected", what);
        json_t *j = json_loads(text, 0, NULL);
        CHECK(j);
        if (odd && j) { /* the oddities are really there */
            json_t *s = json_array_get(json_object_get(j, "snapshots"), 2);
            CHECK(json_object_get(json_object_get(s, "summary"), "caf\xc3\xa9"));
            CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(j, "properties"), "owner")), "second wins");
        }
        char *ascii = j ? json_dumps(j, JSON_ENSURE_ASCII | JSON_INDENT(2)) : NULL;
        if (ascii) agree("generated, ASCII-escaped and indented", ascii, strlen(ascii), true);
        free(ascii);
        json_decref(j);
        free(text);
    }
    CHECK_EQ_INT(fast_taken, 4);
    /* the parsed odd history, checked against values written above */
    char *text = generate(200, true);
    firn_error err;
    firn_error_init(&err);
    firn_ice_metadata *md = firn_ice_metadata_parse_fast(text, strlen(text));
    free(text);
    CHECK(md);
    if (!md) return;
    CHECK_EQ_INT(md->nsnapshots, 200);
    CHECK(md->snapshots[199]->snapshot_id == INT64_MAX);
    CHECK(md->snapshots[0]->has_parent && md->snapshots[0]->parent_snapshot_id == -42);
    CHECK_EQ_STR(firn_ice_snapshot_operation(md->snapshots[1]), "overwrite"); /* moved first */
    CHECK_EQ_STR(firn_ice_snapshot_summary_get(md->snapshots[2], "caf\xc3\xa9"), "cr\xc3\xa8me \"q\" \\ \b\f\r\x01");
    CHECK_EQ_STR(firn_ice_snapshot_summary_get(md->snapshots[2], "\xf0\x9d\x84\x9e"), "\xf0\x9d\x84\x9e \xe4\xb8\xad");
    CHECK(!md->snapshots[4]->has_schema_id && md->snapshots[5]->has_schema_id);
    CHECK(md->snapshots[3]->extra_json && strstr(md->snapshots[3]->extra_json, "first-row-id"));
    CHECK_EQ_STR(firn_ice_metadata_property(md, "owner"), "second wins");
    CHECK_EQ_STR(firn_ice_metadata_property(md, "A"), "b\\s");
    CHECK(md->extra_json && strstr(md->extra_json, "x-nested") && strstr(md->extra_json, "-9223372036854775808"));
    CHECK_EQ_STR(md->metadata_log[3].metadata_file, "s3://bucket/t/metadata/00003-\xc3\xa9.metadata.json");
    CHECK_EQ_STR(md->table_uuid, "9c12d441-03fe-4693-9a96-a0705ddf69c1");
    firn_ice_metadata_free(md);
    firn_error_release(&err);
}

/* A small valid document to break. */
static const char small_doc[] =
    "{\"format-version\":2,\"table-uuid\":\"5f1f7a2e-5c3a-4b0e-9a55-1a2b3c4d5e6f\",\"location\":\"file:/t\","
    "\"last-sequence-number\":2,\"last-updated-ms\":17,\"last-column-id\":1,\"current-schema-id\":0,"
    "\"schemas\":[{\"type\":\"struct\",\"schema-id\":0,\"fields\":[{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"int\"}]}],"
    "\"default-spec-id\":0,\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],\"last-partition-id\":999,"
    "\"default-sort-order-id\":0,\"sort-orders\":[{\"order-id\":0,\"fields\":[]}],\"properties\":{\"k\":\"v\"},"
    "\"current-snapshot-id\":11,\"refs\":{\"main\":{\"snapshot-id\":11,\"type\":\"branch\"}},"
    "\"snapshots\":[{\"sequence-number\":1,\"snapshot-id\":10,\"timestamp-ms\":5,\"summary\":{\"operation\":\"append\",\"x\":\"\\u00e9\"},"
    "\"manifest-list\":\"file:/t/m/s10.avro\",\"schema-id\":0},"
    "{\"sequence-number\":2,\"snapshot-id\":11,\"parent-snapshot-id\":10,\"timestamp-ms\":6,"
    "\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"file:/t/m/s11.avro\"}],"
    "\"snapshot-log\":[{\"timestamp-ms\":5,\"snapshot-id\":10},{\"timestamp-ms\":6,\"snapshot-id\":11}],"
    "\"metadata-log\":[{\"timestamp-ms\":4,\"metadata-file\":\"file:/t/m/00000.metadata.json\"}]}";

FIRN_TEST(iceberg_metadata_parse_broken_input) {
    size_t n = sizeof small_doc - 1;
    agree("small", small_doc, n, true);
    CHECK(last_accepted);
    char *buf = malloc(n + 1);
    char what[80];
    /* every prefix */
    for (size_t cut = 0; cut < n; cut++) {
        snprintf(what, sizeof what, "prefix %zu", cut);
        memcpy(buf, small_doc, cut);
        agree(what, buf, cut, false);
        CHECK_MSG(!last_accepted, "%s accepted", what);
    }
    /* one byte replaced, everywhere */
    const char repl[] = {'"', '}', ']', '\\', ',', '1', '-', ' ', 'e', '\0', '\x01', '\xc3', '\xff'};
    int accepted = 0;
    for (size_t pos = 0; pos < n; pos++)
        for (size_t r = 0; r < sizeof repl; r++) {
            if (small_doc[pos] == repl[r]) continue;
            memcpy(buf, small_doc, n);
            buf[pos] = repl[r];
            snprintf(what, sizeof what, "byte %zu = 0x%02x", pos, (unsigned char)repl[r]);
            agree(what, buf, n, false);
            accepted += last_accepted;
        }
    CHECK(accepted > 0); /* some replacements are harmless (a digit in a name, ...) */
    free(buf);
}

/* Documents that differ from small_doc by one substitution. */
static void variant(const char *what, const char *from, const char *to, bool want_fast) {
    const char *at = strstr(small_doc, from);
    CHECK_MSG(at, "%s: '%s' not in the document", what, from);
    if (!at) return;
    firn_buf b = {0};
    firn_buf_append(&b, small_doc, (size_t)(at - small_doc));
    firn_buf_append_str(&b, to);
    firn_buf_append_str(&b, at + strlen(from));
    agree(what, (const char *)b.data, b.len, want_fast);
    firn_buf_release(&b);
}

FIRN_TEST(iceberg_metadata_parse_unusual_input) {
    /* rejected by jansson: the fast path must decline, parse must say what jansson says */
    variant("NUL escape", "\\u00e9", "\\u0000", false);
    variant("lone high surrogate", "\\u00e9", "\\ud800", false);
    variant("lone low surrogate", "\\u00e9", "\\udc00x", false);
    variant("bad surrogate pair", "\\u00e9", "\\ud800\\u0041", false);
    variant("bad hex", "\\u00e9", "\\u00g9", false);
    variant("bad escape", "\\u00e9", "\\x", false);
    variant("raw tab in string", "\"x\":", "\"x\t\":", false);
    variant("invalid UTF-8", "s10.avro", "s10\xc3(.avro", false);
    variant("overlong UTF-8", "s10.avro", "s10\xc0\xaf.avro", false);
    variant("UTF-8 surrogate", "s10.avro", "s10\xed\xa0\x80.avro", false);
    variant("integer overflow", "\"timestamp-ms\":5,", "\"timestamp-ms\":9223372036854775808,", false);
    variant("negative overflow", "\"timestamp-ms\":5,", "\"timestamp-ms\":-9223372036854775809,", false);
    variant("overflow in a log", "{\"timestamp-ms\":5,\"snapshot-id\":10}",
            "{\"timestamp-ms\":99999999999999999999,\"snapshot-id\":10}", false);
    variant("real overflow in an unknown key", "\"properties\"", "\"x\":1e400,\"properties\"", false);
    variant("leading zero", "\"timestamp-ms\":5,", "\"timestamp-ms\":05,", false);
    variant("real id", "\"snapshot-id\":10,", "\"snapshot-id\":10.0,", false);
    variant("exponent id", "\"snapshot-id\":10,", "\"snapshot-id\":1e1,", false);
    variant("string id", "\"snapshot-id\":10,", "\"snapshot-id\":\"10\",", false);
    variant("null in a log", "{\"timestamp-ms\":5,\"snapshot-id\":10}", "{\"timestamp-ms\":null,\"snapshot-id\":10}", false);
    variant("missing log field", "{\"timestamp-ms\":5,\"snapshot-id\":10}", "{\"timestamp-ms\":5}", false);
    variant("summary number", "\"x\":\"\\u00e9\"", "\"x\":1", false);
    variant("negative sequence", "\"sequence-number\":1,", "\"sequence-number\":-1,", false);
    variant("snapshot not an object", "{\"sequence-number\":1,", "7,{\"sequence-number\":1,", false);
    variant("snapshots not an array", "\"snapshots\":[", "\"snapshots\":{\"a\":[", false);
    variant("trailing garbage", "11.avro\"}],", "11.avro\"}]],", false);
    variant("missing comma", "\"k\":\"v\"}", "\"k\":\"v\" \"l\":\"w\"}", false);
    variant("bad literal", "\"properties\"", "\"x\":nul,\"properties\"", false);
    variant("long literal", "\"properties\"", "\"x\":truex,\"properties\"", false);
    variant("BOM", "{\"format-version\"", "\xef\xbb\xbf{\"format-version\"", false);
    /* nesting: well within both limits, beyond the fast path's (512), beyond jansson's (2048) */
    size_t depths[] = {100, 600, 2100};
    for (size_t d = 0; d < 3; d++) {
        firn_buf b = {0};
        firn_buf_append_str(&b, "\"x\":");
        for (size_t i = 0; i < depths[d]; i++) firn_buf_append_str(&b, i % 2 ? "{\"k\":" : "[");
        firn_buf_append_str(&b, "0");
        for (size_t i = depths[d]; i-- > 0;) firn_buf_append_str(&b, i % 2 ? "}" : "]");
        firn_buf_append_str(&b, ",\"properties\"");
        char what[64];
        snprintf(what, sizeof what, "unknown key %zu deep", depths[d]);
        variant(what, "\"properties\"", firn_buf_cstr(&b), d == 0);
        CHECK_MSG(last_accepted == (d < 2), "%s: accepted %d", what, last_accepted);
        firn_buf_release(&b);
    }
    variant("unknown ref snapshot", "\"current-snapshot-id\":11,", "\"current-snapshot-id\":12,", false);

    /* accepted: where jansson keeps the last of a repeated key, or reads an escaped key,
     * the fast path hands over (or gives jansson's result) */
    variant("repeated snapshots key", "\"snapshot-log\"", "\"snapshots\":null,\"snapshot-log\"", false);
    variant("repeated snapshots, null first", "\"snapshots\":[", "\"snapshots\":null,\"snapshots\":[", false);
    variant("escaped top-level key", "\"snapshots\":[", "\"snap\\u0073hots\":[", false);
    variant("escaped snapshot key", "\"snapshot-id\":10,", "\"snapshot\\u002did\":10,", true);
    variant("repeated snapshot key", "\"snapshot-id\":10,", "\"snapshot-id\":9,\"snapshot-id\":10,", true);
    variant("repeated summary key", "\"x\":\"\\u00e9\"", "\"x\":\"1\",\"x\":\"\\u00e9\"", true);
    variant("null summary", "\"summary\":{\"operation\":\"append\"}", "\"summary\":null", true);
    variant("empty summary", "\"summary\":{\"operation\":\"append\"}", "\"summary\":{}", true);
    variant("null parent", "\"parent-snapshot-id\":10,", "\"parent-snapshot-id\":null,", true);
    variant("v1 manifests", "\"manifest-list\":\"file:/t/m/s10.avro\"", "\"manifests\":[\"file:/t/m/a.avro\"]", true);
    variant("unknown snapshot key", "\"schema-id\":0}", "\"schema-id\":0,\"key-id\":\"k\\u00e9\"}", true);
    variant("extra key in a log entry", "{\"timestamp-ms\":5,\"snapshot-id\":10}",
            "{\"timestamp-ms\":5,\"snapshot-id\":10,\"x\":1}", false);
    variant("repeated log field", "{\"timestamp-ms\":5,\"snapshot-id\":10}",
            "{\"timestamp-ms\":4,\"timestamp-ms\":5,\"snapshot-id\":10}", false);
    variant("snapshot-log null", "\"snapshot-log\":[{\"timestamp-ms\":5,\"snapshot-id\":10},{\"timestamp-ms\":6,\"snapshot-id\":11}]",
            "\"snapshot-log\":null", true);
    variant("whitespace everywhere", "{\"sequence-number\":1,\"snapshot-id\":10,",
            " \r\n\t{ \"sequence-number\" :\n1 ,\t\"snapshot-id\"\r: 10 ,", true);
    variant("extreme ids", "\"snapshot-id\":10,\"timestamp-ms\":5,",
            "\"snapshot-id\":10,\"timestamp-ms\":-9223372036854775808,", true);
    variant("tiny real in unknown key", "\"properties\"", "\"x\":1e-400,\"properties\"", true);
    variant("repeated properties", "\"properties\":{\"k\":\"v\"}", "\"properties\":{\"k\":\"v\"},\"properties\":{\"z\":\"\\u00e9\"}", true);
    variant("deep unknown value", "\"properties\"", "\"x\":{\"a\":{\"b\":[{\"c\":[[]]}]}},\"properties\"", true);
}
