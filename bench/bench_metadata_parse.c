/* bench_metadata_parse.c - reading a table's metadata.json with 10,000
 * snapshots (`make bench-metadata-parse`).
 *
 *   bench_metadata_parse [SNAPSHOTS] [FILE]
 *
 * The document is generated in the shape firn (and Java) write for a table with
 * a long history: each snapshot an append with a Java-like summary of 11 keys and
 * a manifest list path, one snapshot-log entry per snapshot, 100 metadata-log
 * entries (about 4.6 MB for 10,000 snapshots, as in bench-dashboard). With FILE,
 * that file is parsed instead.
 *
 * Measured in interleaved rounds (each keeps its best, the machine is shared):
 *   firn_ice_metadata_parse (the fast path) to a metadata and free it;
 *   the jansson path it replaced (json_loadb, firn_ice_metadata_from_json);
 *   the reference: json_loadb and json_decref alone, the least a jansson reader
 *   pays before looking at a single value.
 * Both parsers must build the same metadata (written back byte for byte equal),
 * or the bench fails.
 *
 * Lines: bench metadata-parse-10k: X ms vs jansson json_loads Y ms = Zx
 *        bench metadata-parse-10k-jansson-path: X ms vs jansson json_loads Y ms = Zx */
#include "iceberg/iceberg.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 7

static double now_ms(void) { return (double)firn_now_ns() / 1e6; }

static char *generate(size_t n, size_t *len) {
    firn_buf b = {0};
    const char *loc = "s3://warehouse/bench/events";
    firn_buf_appendf(&b,
                     "{\"format-version\":2,\"table-uuid\":\"b6739b10-f87a-4216-940d-eb10adc79271\","
                     "\"location\":\"%s\",\"last-sequence-number\":%zu,\"last-updated-ms\":%lld,"
                     "\"last-column-id\":5,\"current-schema-id\":0,\"schemas\":[{\"type\":\"struct\","
                     "\"schema-id\":0,\"identifier-field-ids\":[],\"fields\":["
                     "{\"id\":1,\"name\":\"ts\",\"required\":true,\"type\":\"timestamptz\"},"
                     "{\"id\":2,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
                     "{\"id\":3,\"name\":\"name\",\"required\":false,\"type\":\"string\"},"
                     "{\"id\":4,\"name\":\"value\",\"required\":false,\"type\":\"double\"},"
                     "{\"id\":5,\"name\":\"flag\",\"required\":false,\"type\":\"boolean\"}]}],"
                     "\"default-spec-id\":0,\"partition-specs\":[{\"spec-id\":0,\"fields\":[{\"name\":"
                     "\"ts_day\",\"transform\":\"day\",\"source-id\":1,\"field-id\":1000}]}],"
                     "\"last-partition-id\":1000,\"default-sort-order-id\":0,\"sort-orders\":[{\"order-id\":0,"
                     "\"fields\":[]}],\"properties\":{\"write.parquet.compression-codec\":\"zstd\","
                     "\"write.metadata.delete-after-commit.enabled\":\"true\","
                     "\"write.metadata.previous-versions-max\":\"100\"},\"current-snapshot-id\":%zu,"
                     "\"refs\":{\"main\":{\"snapshot-id\":%zu,\"type\":\"branch\"}},\"snapshots\":[",
                     loc, n, (long long)(1795131107272 + (int64_t)n * 60000), 1000000 + n - 1, 1000000 + n - 1);
    for (size_t i = 0; i < n; i++) {
        int64_t ts = 1795131107272 + (int64_t)i * 60000;
        firn_buf_appendf(&b, "%s{\"sequence-number\":%zu,\"snapshot-id\":%zu,", i ? "," : "", i + 1, 1000000 + i);
        if (i) firn_buf_appendf(&b, "\"parent-snapshot-id\":%zu,", 1000000 + i - 1);
        firn_buf_appendf(&b,
                         "\"timestamp-ms\":%lld,\"summary\":{\"operation\":\"append\",\"added-data-files\":\"1\","
                         "\"added-records\":\"500\",\"added-files-size\":\"%zu\",\"changed-partition-count\":\"1\","
                         "\"total-records\":\"%zu\",\"total-files-size\":\"%zu\",\"total-data-files\":\"%zu\","
                         "\"total-delete-files\":\"0\",\"total-position-deletes\":\"0\","
                         "\"total-equality-deletes\":\"0\"},\"manifest-list\":\"%s/metadata/snap-%zu-1-"
                         "60aa8671-41bf-4e33-85ab-fc1850dd47a2.avro\",\"schema-id\":0}",
                         (long long)ts, 11000 + i % 977, (i + 1) * 500, (i + 1) * 11474, i + 1, loc, 1000000 + i);
    }
    firn_buf_append_str(&b, "],\"statistics\":[],\"partition-statistics\":[],\"snapshot-log\":[");
    for (size_t i = 0; i < n; i++)
        firn_buf_appendf(&b, "%s{\"timestamp-ms\":%lld,\"snapshot-id\":%zu}", i ? "," : "",
                         (long long)(1795131107272 + (int64_t)i * 60000), 1000000 + i);
    firn_buf_append_str(&b, "],\"metadata-log\":[");
    for (size_t i = 0; i < 100 && i < n; i++)
        firn_buf_appendf(&b, "%s{\"timestamp-ms\":%lld,\"metadata-file\":\"%s/metadata/%05zu-"
                             "1fde600e-3afd-4155-9ae1-b96a1b095c9a.metadata.json\"}",
                         i ? "," : "", (long long)(1795131107272 + (int64_t)i * 60000), loc, i);
    firn_buf_append_str(&b, "]}");
    *len = b.len;
    return firn_buf_cstr(&b);
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 10000;
    size_t len;
    char *text;
    firn_error err;
    firn_error_init(&err);
    if (argc > 2) {
        uint8_t *data;
        if (firn_read_file(argv[2], &data, &len, &err)) {
            fprintf(stderr, "bench_metadata_parse: %s\n", err.message);
            return 1;
        }
        text = (char *)data;
    } else {
        text = generate(n, &len);
    }

    /* same result, and the fast path takes it */
    firn_ice_metadata *fast = firn_ice_metadata_parse_fast(text, len);
    firn_ice_metadata *ref = firn_ice_metadata_parse_jansson(text, len, &err);
    if (!fast || !ref) {
        fprintf(stderr, "bench_metadata_parse: %s\n", !ref ? err.message : "the fast path declined the document");
        return 1;
    }
    char *a = firn_ice_metadata_to_string(fast, 0, NULL, &err), *b = firn_ice_metadata_to_string(ref, 0, NULL, &err);
    if (!a || !b || strcmp(a, b) != 0) {
        fprintf(stderr, "bench_metadata_parse: the parsers disagree\n");
        return 1;
    }
    n = fast->nsnapshots;
    free(a);
    free(b);
    firn_ice_metadata_free(fast);
    firn_ice_metadata_free(ref);

    double best_fast = 1e30, best_old = 1e30, best_loads = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        for (int step = 0; step < 3; step++) {
            int what = (step + r) % 3; /* each goes first in some rounds */
            double t0 = now_ms();
            if (what == 0) {
                firn_ice_metadata_free(firn_ice_metadata_parse(text, len, &err));
            } else if (what == 1) {
                json_t *j = json_loadb(text, len, 0, NULL);
                if (!j) return 1;
                json_decref(j);
            } else {
                firn_ice_metadata_free(firn_ice_metadata_parse_jansson(text, len, &err));
            }
            double dt = now_ms() - t0;
            double *best = what == 0 ? &best_fast : what == 1 ? &best_loads : &best_old;
            if (dt < *best) *best = dt;
        }
    }
    char name[64];
    if (n % 1000 == 0) snprintf(name, sizeof name, "metadata-parse-%zuk", n / 1000);
    else snprintf(name, sizeof name, "metadata-parse-%zu", n);
    printf("document: %zu snapshots, %.1f MB\n", n, (double)len / 1e6);
    printf("bench %s: %.2f ms vs jansson json_loads %.2f ms = %.3fx\n", name, best_fast, best_loads,
           best_fast / best_loads);
    printf("bench %s-jansson-path: %.2f ms vs jansson json_loads %.2f ms = %.3fx\n", name, best_old,
           best_loads, best_old / best_loads);
    free(text);
    return 0;
}
