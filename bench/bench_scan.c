/* bench_scan.c - firn's half of `make bench-scan` (bench/scan.sh): a table partitioned by
 * day(ts), written through firn's own table API, scanned through firn_ice_scan.
 *
 *   bench_scan build DIR ROWS DAYS COMMITS
 *       create table bench.events (ts timestamptz, id long, name string, value double,
 *       flag boolean) partitioned by day(ts) in a SQLite catalog at DIR/catalog.db and
 *       append ROWS rows over DAYS days in COMMITS commits (data writer + fast append);
 *       rows arrive in time order, so each commit covers DAYS/COMMITS days.
 *   bench_scan files DIR
 *       the table's data files (local paths), one per line
 *   bench_scan scan DIR [WHERE]
 *       scan every column (optionally filtered) and fold every value of every returned
 *       row into aggregates - DuckDB's query in bench/duckdb_scan.mjs computes the same
 *
 * Row i (0-based): ts = 2024-01-01 + i * DAYS days / ROWS (+ up to 999 us of jitter),
 * id = i, name = "sensor-<city>-<k>" (1,000 distinct; null every 97th row),
 * value = a hashed double (null every 101st row), flag = one hash bit.
 *
 * scan prints one line:
 *   rows=N bytes_read=B files=F row_groups=R seconds=S cpu_seconds=C sum_id=.. sum_ts=.. count_name=..
 *   sum_name_len=.. count_value=.. sum_value=.. count_flag=..
 * bytes_read is the scan's own counter (firn_ice_scan_stats.bytes_read: bytes of data and
 * delete files the scan read from storage, counted at the read calls). */
#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "io/io.h"
#include "parquet/parquet.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_US INT64_C(86400000000)
#define BASE_US INT64_C(1704067200000000) /* 2024-01-01T00:00:00Z */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(firn_error *err) {
    char buf[2048];
    fprintf(stderr, "bench_scan: %s\n", firn_error_format(err, buf, sizeof buf));
    return 1;
}

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static const char *const CITIES[] = {"oslo", "bergen", "lyon", "porto", "graz",
                                     "turku", "gent", "brno", "split", "cork"};

static const char SCHEMA_JSON[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"ts\",\"required\":true,\"type\":\"timestamptz\"},"
    "{\"id\":2,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":3,\"name\":\"name\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":4,\"name\":\"value\",\"required\":false,\"type\":\"double\"},"
    "{\"id\":5,\"name\":\"flag\",\"required\":false,\"type\":\"boolean\"}]}";

static int open_catalog(const char *dir, firn_catalog **cat, firn_error *err) {
    char uri[1200];
    snprintf(uri, sizeof uri, "sqlite:%s/catalog.db", dir);
    firn_cat_config cfg = {0};
    cfg.warehouse = dir;
    return firn_cat_open(uri, &cfg, cat, err);
}

static int cmd_build(const char *dir, uint64_t rows, uint64_t days, uint64_t commits) {
    firn_error err;
    firn_error_init(&err);
    firn_catalog *cat = NULL;
    if (open_catalog(dir, &cat, &err)) return fail(&err);
    if (firn_cat_create_namespace(cat, "bench", NULL, &err)) return fail(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_schema *schema = firn_ice_schema_parse(&a, SCHEMA_JSON, strlen(SCHEMA_JSON), &err);
    if (!schema) return fail(&err);
    firn_ice_partition_field pf[] = {{1, 1000, "ts_day", {FIRN_ICE_TRANSFORM_DAY, 0, NULL}}};
    firn_ice_partition_spec *spec = firn_ice_partition_spec_new(&a, 0, pf, 1);
    firn_ice_table *t = NULL;
    if (firn_ice_table_create(cat, "bench", "events", schema, spec, NULL, NULL, &t, &err))
        return fail(&err);

    double t0 = now_s();
    uint64_t per = (rows + commits - 1) / commits, nfiles = 0, bytes = 0;
    int64_t *ts = malloc(per * 8), *id = malloc(per * 8), *off = malloc((per + 1) * 8);
    double *value = malloc(per * 8);
    uint8_t *flag = malloc(per), *name_valid = malloc(per), *value_valid = malloc(per);
    char *names = malloc(per * 24);
    for (uint64_t from = 0; from < rows; from += per) {
        size_t n = (size_t)(rows - from < per ? rows - from : per);
        size_t nb = 0;
        off[0] = 0;
        for (size_t k = 0; k < n; k++) {
            uint64_t i = from + k, h = mix(i);
            ts[k] = BASE_US + (int64_t)((double)i * (double)days * (double)DAY_US / (double)rows) +
                    (int64_t)(h % 1000);
            id[k] = (int64_t)i;
            name_valid[k] = i % 97 != 0;
            if (name_valid[k])
                nb += (size_t)sprintf(names + nb, "sensor-%s-%03u", CITIES[(h >> 20) % 10],
                                      (unsigned)((h >> 24) % 100));
            off[k + 1] = (int64_t)nb;
            value_valid[k] = i % 101 != 0;
            value[k] = (double)(h >> 11) / 9007199254740992.0 * 1000.0 - 500.0;
            flag[k] = (h >> 40) & 1;
        }
        firn_pq_column_data cols[5] = {
            {NULL, ts, NULL, NULL},
            {NULL, id, NULL, NULL},
            {name_valid, NULL, off, (const uint8_t *)names},
            {value_valid, value, NULL, NULL},
            {NULL, flag, NULL, NULL},
        };
        firn_ice_data_writer *w = firn_ice_data_writer_new(t->metadata, t->io, NULL, &err);
        const firn_ice_data_file *files;
        size_t nf;
        if (!w || firn_ice_data_writer_write(w, cols, n, &err) ||
            firn_ice_data_writer_close(w, &files, &nf, &err))
            return fail(&err);
        firn_ice_producer *fa = firn_ice_producer_new(t, NULL, "append", &err);
        if (fa) firn_ice_producer_set_merge(fa, 0);
        if (!fa) return fail(&err);
        for (size_t f = 0; f < nf; f++) {
            if (firn_ice_producer_add_file(fa, &files[f], &err)) return fail(&err);
            bytes += (uint64_t)files[f].file_size_in_bytes;
        }
        if (firn_ice_producer_commit(fa, NULL, &err)) return fail(&err);
        nfiles += nf;
        firn_ice_producer_free(fa);
        firn_ice_data_writer_free(w);
    }
    printf("rows=%" PRIu64 " days=%" PRIu64 " commits=%" PRIu64 " files=%" PRIu64 " bytes=%" PRIu64
           " seconds=%.2f\n",
           rows, days, commits, nfiles, bytes, now_s() - t0);
    free(ts); free(id); free(off); free(value); free(flag); free(name_valid); free(value_valid);
    free(names);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    firn_arena_release(&a);
    return 0;
}

static int load(const char *dir, firn_catalog **cat, firn_ice_table **t, firn_error *err) {
    if (open_catalog(dir, cat, err)) return -1;
    return firn_ice_table_load(*cat, "bench", "events", t, err);
}

static int cmd_files(const char *dir) {
    firn_error err;
    firn_error_init(&err);
    firn_catalog *cat = NULL;
    firn_ice_table *t = NULL;
    if (load(dir, &cat, &t, &err)) return fail(&err);
    firn_ice_scan *s = firn_ice_scan_table(t, NULL, &err);
    if (!s) return fail(&err);
    size_t n;
    const firn_ice_scan_task *tasks = firn_ice_scan_tasks(s, &n);
    firn_arena a;
    firn_arena_init(&a, 0);
    for (size_t i = 0; i < n; i++) {
        char *path;
        if (firn_io_uri_to_path(tasks[i].file->file_path, &a, &path, &err)) return fail(&err);
        printf("%s\n", path);
    }
    firn_arena_release(&a);
    firn_ice_scan_free(s);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    return 0;
}

static int cmd_scan(const char *dir, const char *where) {
    firn_error err;
    firn_error_init(&err);
    firn_catalog *cat = NULL;
    firn_ice_table *t = NULL;
    if (load(dir, &cat, &t, &err)) return fail(&err);
    double t0 = now_s(), c0 = cpu_s();
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    o.where = where;
    firn_ice_scan *s = firn_ice_scan_table(t, &o, &err);
    if (!s) return fail(&err);
    size_t nf;
    const firn_ice_field *const *fields = firn_ice_scan_fields(s, &nf);
    if (nf != 5 || strcmp(fields[0]->name, "ts") || strcmp(fields[4]->name, "flag")) {
        fprintf(stderr, "bench_scan: unexpected projection\n");
        return 1;
    }
    int64_t rows = 0, sum_id = 0, count_name = 0, sum_name_len = 0, count_value = 0,
            count_flag = 0;
    uint64_t sum_ts = 0; /* modulo 2^64 */
    double sum_value = 0;
    firn_ice_scan_batch b;
    int rc;
    while ((rc = firn_ice_scan_next_batch(s, &b, &err)) == 1) {
        const firn_pq_column_data *c = b.columns;
        const int64_t *ts = c[0].values, *id = c[1].values;
        const double *v = c[3].values;
        const uint8_t *flag = c[4].values;
        for (size_t i = 0; i < b.nrows; i++) {
            sum_ts += (uint64_t)ts[i];
            sum_id += id[i];
            if (!c[2].validity || c[2].validity[i]) {
                count_name++;
                sum_name_len += c[2].offsets[i + 1] - c[2].offsets[i];
            }
            if (!c[3].validity || c[3].validity[i]) {
                count_value++;
                sum_value += v[i];
            }
            if ((!c[4].validity || c[4].validity[i]) && flag[i]) count_flag++;
        }
        rows += (int64_t)b.nrows;
    }
    if (rc < 0) return fail(&err);
    double secs = now_s() - t0, cpu = cpu_s() - c0;
    const firn_ice_scan_stats *st = firn_ice_scan_get_stats(s);
    printf("rows=%" PRId64 " bytes_read=%" PRId64 " files=%zu row_groups=%zu seconds=%.4f cpu_seconds=%.4f sum_id=%" PRId64
           " sum_ts=%" PRIu64 " count_name=%" PRId64 " sum_name_len=%" PRId64 " count_value=%" PRId64
           " sum_value=%.6f count_flag=%" PRId64 "\n",
           rows, st->bytes_read, st->files_read, st->row_groups_total - st->row_groups_skipped, secs, cpu,
           sum_id, sum_ts, count_name, sum_name_len, count_value, sum_value, count_flag);
    firn_ice_scan_free(s);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "build") == 0)
        return cmd_build(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
                         strtoull(argv[5], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "files") == 0) return cmd_files(argv[2]);
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "scan") == 0)
        return cmd_scan(argv[2], argc == 4 ? argv[3] : NULL);
    fprintf(stderr, "usage: bench_scan build DIR ROWS DAYS COMMITS | files DIR | scan DIR [WHERE]\n");
    return 2;
}
