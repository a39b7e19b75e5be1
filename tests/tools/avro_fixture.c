/*
 * avro_fixture.c - write a deterministic Avro file for the interop tests.
 *
 *   avro_fixture CODEC OUT.avro EXPECTED.jsonl [SCHEMA.json] [--records N]
 *
 * The file has a manifest-like schema (tests/tools/avro_manifest.h: Iceberg's
 * manifest_entry with field-id, element-id, logicalType map arrays, ["null", T]
 * unions, plus a map with key-id/value-id, float, double, boolean, enum, fixed,
 * long extremes and a general union), several blocks and Iceberg's metadata
 * keys. EXPECTED gets the records as plain JSON lines (firn_avro_value_to_json,
 * FIRN_AVRO_JSON_PLAIN: unions as their value, bytes and fixed as hex, NaN and
 * infinities as strings); SCHEMA, when given, the schema text as written.
 */
#include "avro_manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int save(const char *path, const void *data, size_t len) {
    firn_error err;
    firn_error_init(&err);
    if (firn_write_file(path, data, len, &err) != 0) {
        char buf[512];
        fprintf(stderr, "avro_fixture: %s\n", firn_error_format(&err, buf, sizeof buf));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *pos[4] = {0};
    int npos = 0;
    uint64_t n = 40;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) n = strtoull(argv[++i], NULL, 10);
        else if (npos < 4) pos[npos++] = argv[i];
        else npos = 5;
    }
    if (npos < 3 || npos > 4) {
        fprintf(stderr, "usage: avro_fixture CODEC OUT.avro EXPECTED.jsonl [SCHEMA.json] [--records N]\n");
        return 2;
    }
    const char *codec = pos[0], *out = pos[1], *expected = pos[2], *schema_out = pos[3];
    firn_error err;
    firn_error_init(&err);
    static const firn_avro_kv meta[] = {
        {"schema", "{\"type\":\"struct\",\"schema-id\":0,\"fields\":[]}", 0},
        {"schema-id", "0", 0},
        {"partition-spec", "[{\"name\":\"event_date\",\"transform\":\"day\",\"source-id\":3,\"field-id\":1000}]", 0},
        {"partition-spec-id", "0", 0},
        {"format-version", "2", 0},
        {"content", "data", 0},
        {NULL, NULL, 0},
    };
    unlink(out);
    firn_avro_writer *w = firn_avro_writer_create(out, TEST_FIXTURE_SCHEMA, codec, -1, meta, &err);
    char ebuf[1024];
    if (!w) {
        fprintf(stderr, "avro_fixture: %s\n", firn_error_format(&err, ebuf, sizeof ebuf));
        return 1;
    }
    firn_avro_writer_set_block_size(w, 4096, &err); /* several blocks */
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_buf json;
    firn_buf_init(&json);
    const firn_avro_node *root = firn_avro_schema_root(firn_avro_writer_schema(w));
    for (uint64_t i = 0; i < n; i++) {
        firn_avro_value v = test_fixture_record(&a, i);
        if (firn_avro_writer_append(w, &v, &err) != 0 ||
            firn_avro_value_to_json(&json, root, &v, FIRN_AVRO_JSON_PLAIN, &err) != 0) {
            fprintf(stderr, "avro_fixture: record %llu: %s\n", (unsigned long long)i,
                    firn_error_format(&err, ebuf, sizeof ebuf));
            return 1;
        }
        firn_buf_put_u8(&json, '\n');
        firn_arena_reset(&a);
    }
    uint64_t size;
    if (firn_avro_writer_close(w, &size, &err) != 0) {
        fprintf(stderr, "avro_fixture: %s\n", firn_error_format(&err, ebuf, sizeof ebuf));
        return 1;
    }
    firn_avro_writer_free(w);
    if (save(expected, json.data, json.len) != 0) return 1;
    if (schema_out && save(schema_out, TEST_FIXTURE_SCHEMA, strlen(TEST_FIXTURE_SCHEMA)) != 0)
        return 1;
    printf("%s: %llu records, %llu bytes\n", out, (unsigned long long)n, (unsigned long long)size);
    firn_buf_release(&json);
    firn_arena_release(&a);
    return 0;
}
