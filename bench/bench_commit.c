/* bench_commit.c - commit latency of N sequential appends of a 1-row data file to a
 * table on the SQLite catalog (used by bench/commit.sh, `make bench-commit`).
 *
 *   bench_commit fast|merge N DIR [KEEP]
 *
 * fast: Java's FastAppend (an append producer with merging off: a new manifest per
 * commit, the manifest list grows by one each time); merge: merge append with Java's
 * defaults (min-count-to-merge 100, target 8 MiB). Both keep firn's metadata defaults
 * (write.metadata.previous-versions-max=100, delete-after-commit).
 *
 * KEEP > 0 turns snapshot expiry on: whenever the table holds KEEP + KEEP/10
 * snapshots, a separate commit (the metadata update remove-snapshots, committed
 * like any table update) removes the oldest down to the last KEEP. Those expiry
 * commits are timed apart from the appends. (Their manifest lists stay on disk:
 * deleting unreachable files is the maintenance operation's job.)
 *
 * Each data file is described (path, 1 record, size, metrics), not written: what is
 * timed is the commit alone - producer creation, manifest, manifest list, metadata
 * file, catalog compare-and-swap, version hint and metadata cleanup.
 * Prints one line: mode=... n=... keep=... p50_ms=... p99_ms=... mean_ms=...
 * first_ms=... (median of commits 6..15) last_ms=... (median of the last 10)
 * expiries=... expire_p50_ms=... snapshots=... metadata_bytes=... metadata_files=...
 * (*.metadata.json files left in the metadata directory) and the same
 * medians in CPU time of the process (cpu_p50_ms, cpu_first_ms, cpu_last_ms: what
 * the wall clock shows when the machine is busy with other work) total_s=... */
#include "catalog/catalog.h"
#include "iceberg/iceberg.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of this process (user + system), robust to other load on the machine. */
static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, size_t n) {
    double *c = malloc(n * sizeof *c);
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

/* remove-snapshots: the oldest snapshots but the last *ctx (never main's head). */
static int expire_apply(void *ctx, firn_ice_metadata *md, firn_error *err) {
    size_t keep = *(const size_t *)ctx;
    if (md->nsnapshots <= keep) return 0;
    size_t n = md->nsnapshots - keep, k = 0;
    int64_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        if (md->snapshots[i]->snapshot_id != md->current_snapshot_id)
            ids[k++] = md->snapshots[i]->snapshot_id;
    int rc = firn_ice_metadata_remove_snapshots(md, ids, k, err);
    free(ids);
    return rc;
}

/* *.metadata.json files in dir: the budget previous-versions-max + delete-after-commit
 * keeps them at most previous-versions-max + 1. */
static size_t count_metadata_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        n += l > 14 && e->d_name[0] != '.' && strcmp(e->d_name + l - 14, ".metadata.json") == 0;
    }
    closedir(d);
    return n;
}

static int fail(firn_error *err) {
    char buf[2048];
    fprintf(stderr, "bench_commit: %s\n", firn_error_format(err, buf, sizeof buf));
    return 1;
}

int main(int argc, char **argv) {
    if ((argc != 4 && argc != 5) || (strcmp(argv[1], "fast") && strcmp(argv[1], "merge"))) {
        fprintf(stderr, "usage: bench_commit fast|merge N DIR [KEEP]\n");
        return 2;
    }
    bool merge = strcmp(argv[1], "merge") == 0;
    size_t n = (size_t)strtoul(argv[2], NULL, 10);
    if (n < 20) n = 20;
    const char *dir = argv[3];
    size_t keep = argc == 5 ? (size_t)strtoul(argv[4], NULL, 10) : 0;
    firn_error err;
    firn_error_init(&err);
    char uri[1200];
    snprintf(uri, sizeof uri, "sqlite:%s/catalog.db", dir);
    firn_cat_config cfg = {0};
    cfg.warehouse = dir;
    firn_catalog *cat = NULL;
    if (firn_cat_open(uri, &cfg, &cat, &err)) return fail(&err);
    bool exists = false;
    if (firn_cat_namespace_exists(cat, "bench", &exists, &err)) return fail(&err);
    if (!exists && firn_cat_create_namespace(cat, "bench", NULL, &err)) return fail(&err);
    static const char schema_json[] =
        "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
        "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
        "{\"id\":2,\"name\":\"name\",\"required\":false,\"type\":\"string\"}]}";
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_schema *schema = firn_ice_schema_parse(&a, schema_json, strlen(schema_json), &err);
    if (!schema) return fail(&err);
    firn_ice_kv props[] = {{"commit.manifest-merge.enabled", merge ? "true" : "false"}};
    firn_ice_table_options opts = {NULL, props, 1, 0};
    char name[64];
    snprintf(name, sizeof name, "%s_%zu_%ld", argv[1], keep, (long)time(NULL));
    firn_ice_table *t = NULL;
    if (firn_ice_table_create(cat, "bench", name, schema, NULL, NULL, &opts, &t, &err))
        return fail(&err);

    double *cpu = calloc(n, sizeof *cpu);
    double *lat = calloc(n, sizeof *lat), *exp_lat = calloc(n, sizeof *exp_lat);
    size_t nexp = 0;
    double start = now_ms();
    for (size_t i = 0; i < n; i++) {
        char path[1400];
        snprintf(path, sizeof path, "file:%s/bench/%s/data/%08zu.parquet", dir, name, i);
        int64_t id = (int64_t)i;
        uint8_t b[8];
        for (int k = 0; k < 8; k++) b[k] = (uint8_t)((uint64_t)id >> (8 * k));
        firn_ice_metric vc[] = {{1, 1}, {2, 1}}, nc[] = {{1, 0}, {2, 0}};
        firn_ice_bound bounds[] = {{1, b, 8}};
        firn_ice_data_file df;
        memset(&df, 0, sizeof df);
        df.content = FIRN_ICE_CONTENT_DATA;
        df.file_path = path;
        df.file_format = "PARQUET";
        df.record_count = 1;
        df.file_size_in_bytes = 600;
        df.nvalue_counts = df.nnull_value_counts = 2;
        df.value_counts = vc;
        df.null_value_counts = nc;
        df.nlower_bounds = df.nupper_bounds = 1;
        df.lower_bounds = df.upper_bounds = bounds;

        double t0 = now_ms(), c0 = cpu_ms();
        firn_ice_producer *p = firn_ice_producer_new(t, NULL, "append", &err);
        if (p && !merge) firn_ice_producer_set_merge(p, 0);
        int rc = p ? firn_ice_producer_add_file(p, &df, &err) : -1;
        if (rc == 0) rc = firn_ice_producer_commit(p, NULL, &err);
        firn_ice_producer_free(p);
        lat[i] = now_ms() - t0;
        cpu[i] = cpu_ms() - c0;
        if (rc) return fail(&err);

        if (keep && t->metadata->nsnapshots >= keep + (keep / 10 ? keep / 10 : 1)) {
            double e0 = now_ms();
            size_t k = keep;
            firn_ice_update u = {expire_apply, NULL, &k};
            if (firn_ice_table_commit(t, &u, 1, NULL, &err)) return fail(&err);
            exp_lat[nexp++] = now_ms() - e0;
        }
    }
    double total = now_ms() - start;
    double *sorted = malloc(n * sizeof *sorted);
    memcpy(sorted, lat, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += lat[i];
    size_t p99 = (size_t)(0.99 * (double)(n - 1) + 0.5);
    char mdir[1400];
    snprintf(mdir, sizeof mdir, "%s/bench/%s/metadata", dir, name);
    size_t mdfiles = count_metadata_files(mdir);
    size_t mdbytes = 0;
    char *text = firn_ice_metadata_to_string(t->metadata, 0, &mdbytes, &err);
    free(text);
    printf("mode=%s n=%zu keep=%zu p50_ms=%.3f p99_ms=%.3f mean_ms=%.3f first_ms=%.3f "
           "last_ms=%.3f expiries=%zu expire_p50_ms=%.3f snapshots=%zu metadata_bytes=%zu "
           "metadata_files=%zu "
           "cpu_p50_ms=%.3f cpu_first_ms=%.3f cpu_last_ms=%.3f total_s=%.2f\n",
           argv[1], n, keep, median(lat, n), sorted[p99], sum / (double)n, median(lat + 5, 10),
           median(lat + n - 10, 10), nexp, nexp ? median(exp_lat, nexp) : 0.0,
           t->metadata->nsnapshots, mdbytes, mdfiles, median(cpu, n), median(cpu + 5, 10),
           median(cpu + n - 10, 10), total / 1e3);
    free(cpu);
    free(exp_lat);
    free(sorted);
    free(lat);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    firn_arena_release(&a);
    return 0;
}
