/* bench_catalog.c - catalog commit latency: N sequential compare-and-swap
 * commits (load the table's entry, swap its metadata location) on the
 * PostgreSQL catalog (FIRN_PG_URI) against the same on the SQLite catalog (a
 * file in DIR, WAL, synchronous=FULL), and a 3-table commit in one
 * transaction. Used by bench/catalog.sh (`make bench-catalog`), which starts a
 * private PostgreSQL (fsync=off there: see the script).
 *
 *   bench_catalog N DIR
 */
#include "catalog/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median ms of n single-table commits, and of n/4 three-table commits. */
static int run(const char *uri, int n, double *single, double *multi) {
    firn_error err;
    firn_error_init(&err);
    firn_catalog *cat;
    if (firn_cat_open(uri, NULL, &cat, &err) != 0) goto fail;
    if (firn_cat_create_namespace(cat, "bench", NULL, &err) != 0) goto fail;
    firn_cat_ident ids[3] = {{"bench", "t0"}, {"bench", "t1"}, {"bench", "t2"}};
    for (int i = 0; i < 3; i++)
        if (firn_cat_create_table(cat, &ids[i], "file:/b/v0", &err) != 0) goto fail;
    double *lat = malloc((size_t)n * sizeof *lat);
    char cur[3][64] = {"file:/b/v0", "file:/b/v0", "file:/b/v0"}, next[3][64];
    firn_arena a;
    firn_arena_init(&a, 4096);
    for (int k = 0; k < n; k++) {
        double t0 = now_ms();
        firn_cat_table t;
        if (firn_cat_load_table(cat, &ids[0], &a, &t, &err) != 0) goto fail;
        snprintf(next[0], sizeof next[0], "file:/b/s%d", k);
        if (firn_cat_commit_table(cat, &ids[0], t.metadata_location, next[0], NULL, &err) != 0)
            goto fail;
        lat[k] = now_ms() - t0;
        firn_arena_reset(&a);
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    *single = lat[n / 2];
    memcpy(cur[0], next[0], sizeof cur[0]);
    int m = n / 4 > 0 ? n / 4 : 1;
    for (int k = 0; k < m; k++) {
        firn_cat_commit c[3];
        for (int i = 0; i < 3; i++) {
            snprintf(next[i], sizeof next[i], "file:/b/m%d-%d", i, k);
            c[i] = (firn_cat_commit){ids[i], cur[i], next[i]};
        }
        double t0 = now_ms();
        if (firn_cat_commit_tables(cat, c, 3, NULL, &err) != 0) goto fail;
        lat[k] = now_ms() - t0;
        for (int i = 0; i < 3; i++) memcpy(cur[i], next[i], sizeof cur[i]);
    }
    qsort(lat, (size_t)m, sizeof *lat, cmp_double);
    *multi = lat[m / 2];
    free(lat);
    firn_arena_release(&a);
    firn_cat_free(cat);
    return 0;
fail:;
    char eb[1024];
    fprintf(stderr, "bench_catalog: %s\n", firn_error_format(&err, eb, sizeof eb));
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3 || !getenv("FIRN_PG_URI")) {
        fprintf(stderr, "usage: FIRN_PG_URI=postgresql://... bench_catalog N DIR\n");
        return 2;
    }
    int n = atoi(argv[1]);
    char sqlite_uri[1024];
    snprintf(sqlite_uri, sizeof sqlite_uri, "sqlite:%s/bench-catalog.db", argv[2]);
    remove(sqlite_uri + 7);
    double pg1, pg3, sq1, sq3;
    if (run(getenv("FIRN_PG_URI"), n, &pg1, &pg3) || run(sqlite_uri, n, &sq1, &sq3)) return 1;
    printf("bench catalog-commit-postgresql: %.3f ms vs sqlite %.3f ms = %.2fx\n", pg1, sq1,
           pg1 / sq1);
    printf("bench catalog-commit-3-tables-postgresql: %.3f ms vs sqlite %.3f ms = %.2fx\n", pg3,
           sq3, pg3 / sq3);
    return 0;
}
