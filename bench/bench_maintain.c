/* bench_maintain.c - a table built from many small commits (a pipeline committing
 * every second, simulated back to back), before and after `maintain all`:
 * data files, data manifests of main, metadata bytes (every file under
 * metadata/), full-scan time; maintenance time; a scan of the same rows written
 * in one commit as the reference; and a soak: the same commits with the policy
 * run every K commits, metadata bytes sampled at each run (must level off).
 *
 *   bench_maintain DIR [COMMITS] [ROWS_PER_COMMIT] [MAINTAIN_EVERY]
 *
 * Tables use firn's metadata budget (firn_maintain_default_properties), merge
 * append (the snapshot producer's "append"), 3 partitions, a target file size
 * of 256 KiB (row groups of 64 KiB, the ratio of Java's defaults) so that the
 * compacted table has several files per partition. */
#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "io/io.h"
#include "maintain/maintain.h"
#include "parquet/parquet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SCHEMA_JSON[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"cat\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":3,\"name\":\"value\",\"required\":false,\"type\":\"double\"},"
    "{\"id\":4,\"name\":\"note\",\"required\":false,\"type\":\"string\"}]}";

#define TARGET (256 * 1024)

static void die(const char *what, firn_error *err) {
    char b[2048];
    fprintf(stderr, "bench_maintain: %s: %s\n", what, firn_error_format(err, b, sizeof b));
    exit(1);
}

static double now_ms(void) { return (double)firn_now_ns() / 1e6; }

static firn_ice_table *create(firn_catalog *cat, const char *name, firn_arena *a) {
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *s = firn_ice_schema_parse(a, SCHEMA_JSON, strlen(SCHEMA_JSON), &err);
    if (!s) die("schema", &err);
    firn_ice_partition_field pf[1] = {{2, 1000, "cat", {FIRN_ICE_TRANSFORM_IDENTITY, 0, NULL}}};
    firn_ice_partition_spec *spec = firn_ice_partition_spec_new(a, 0, pf, 1);
    size_t nb;
    const firn_ice_kv *budget = firn_maintain_default_properties(&nb);
    firn_ice_kv props[80];
    size_t np = 0;
    for (size_t i = 0; i < nb && np < 70; i++) props[np++] = budget[i];
    char target[32];
    snprintf(target, sizeof target, "%d", TARGET);
    props[np++] = (firn_ice_kv){"write.target-file-size-bytes", target};
    props[np++] = (firn_ice_kv){"commit.retry.min-wait-ms", "1"};
    /* the data writer rolls on written + buffered (uncompressed) bytes: keep the ratio of a
     * real table (512 MiB files, 128 MiB row groups) so that files end near the target */
    char rg[32];
    snprintf(rg, sizeof rg, "%d", TARGET / 4);
    props[np++] = (firn_ice_kv){"write.parquet.row-group-size-bytes", rg};
    firn_ice_table_options o = {NULL, props, np, 0};
    firn_ice_table *t;
    if (firn_ice_table_create(cat, "db", name, s, spec, NULL, &o, &t, &err)) die("create", &err);
    return t;
}

/* rows [lo, lo + n) in one merge-append commit */
static void commit_rows(firn_ice_table *t, int64_t lo, size_t n, long offset) {
    firn_error err;
    firn_error_init(&err);
    int64_t *ids = calloc(n, sizeof *ids);
    double *vals = calloc(n, sizeof *vals);
    int64_t *coff = calloc(n + 1, sizeof *coff), *noff = calloc(n + 1, sizeof *noff);
    char *cdata = calloc(n + 1, 4), *ndata = calloc(n + 1, 40);
    size_t cl = 0, nl = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t id = lo + (int64_t)i;
        ids[i] = id;
        vals[i] = (double)(id % 1000) * 0.25;
        cl += (size_t)snprintf(cdata + cl, 4, "c%d", (int)(id % 3));
        coff[i + 1] = (int64_t)cl;
        nl += (size_t)snprintf(ndata + nl, 40, "event %lld at sensor %d", (long long)id, (int)(id % 97));
        noff[i + 1] = (int64_t)nl;
    }
    firn_pq_column_data cols[4] = {{NULL, ids, NULL, NULL},
                                   {NULL, NULL, coff, (const uint8_t *)cdata},
                                   {NULL, vals, NULL, NULL},
                                   {NULL, NULL, noff, (const uint8_t *)ndata}};
    firn_ice_data_writer *w = firn_ice_data_writer_new(t->metadata, t->io, NULL, &err);
    const firn_ice_data_file *files;
    size_t nfiles;
    if (!w || firn_ice_data_writer_write(w, cols, n, &err) ||
        firn_ice_data_writer_close(w, &files, &nfiles, &err))
        die("write", &err);
    firn_ice_producer *p = firn_ice_producer_new(t, NULL, "append", &err);
    if (!p) die("producer", &err);
    for (size_t i = 0; i < nfiles; i++)
        if (firn_ice_producer_add_file(p, &files[i], &err)) die("add", &err);
    char v[32];
    snprintf(v, sizeof v, "%ld", offset);
    firn_ice_producer_set_summary(p, "firn.source.events.0", v);
    if (firn_ice_producer_commit(p, NULL, &err)) die("commit", &err);
    firn_ice_producer_free(p);
    firn_ice_data_writer_free(w);
    free(ids);
    free(vals);
    free(coff);
    free(noff);
    free(cdata);
    free(ndata);
}

typedef struct sizes {
    int64_t bytes;
    size_t files;
} sizes;

static int add_size(void *ctx, const firn_io_entry *e, firn_error *err) {
    (void)err;
    sizes *s = ctx;
    s->bytes += (int64_t)e->size;
    s->files++;
    return 0;
}

static sizes dir_size(firn_ice_table *t, const char *sub) {
    sizes s = {0, 0};
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", t->metadata->location, sub);
    firn_error err;
    firn_error_init(&err);
    if (firn_io_list(t->io, p, add_size, &s, &err)) die("list", &err);
    return s;
}

typedef struct stats {
    size_t data_files, manifests, snapshots;
    int64_t metadata_bytes, data_bytes, rows;
    double scan_ms;
} stats;

static stats measure(firn_ice_table *t) {
    stats st = {0};
    firn_error err;
    firn_error_init(&err);
    if (firn_ice_table_refresh(t, &err)) die("refresh", &err);
    st.snapshots = t->metadata->nsnapshots;
    st.metadata_bytes = dir_size(t, "metadata").bytes;
    double best = 1e30;
    for (int rep = 0; rep < 7; rep++) {
        double t0 = now_ms();
        firn_ice_scan *s = firn_ice_scan_table(t, NULL, &err);
        if (!s) die("scan", &err);
        firn_ice_scan_batch b;
        int rc;
        int64_t rows = 0;
        double sum = 0;
        while ((rc = firn_ice_scan_next_batch(s, &b, &err)) == 1) {
            rows += (int64_t)b.nrows;
            for (size_t i = 0; i < b.nrows; i++) sum += ((const double *)b.columns[2].values)[i];
        }
        if (rc < 0) die("scan", &err);
        const firn_ice_scan_stats *ss = firn_ice_scan_get_stats(s);
        st.data_files = ss->planned_files;
        st.manifests = ss->total_manifests;
        st.data_bytes = ss->planned_bytes;
        st.rows = rows + (sum < 0); /* keep the sum alive */
        firn_ice_scan_free(s);
        double el = now_ms() - t0;
        if (el < best) best = el;
    }
    st.scan_ms = best;
    return st;
}

static void show(const char *what, const stats *s) {
    printf("%-22s rows=%lld snapshots=%zu data-files=%zu data-bytes=%lld manifests=%zu "
           "metadata-bytes=%lld full-scan=%.1f ms\n",
           what, (long long)s->rows, s->snapshots, s->data_files, (long long)s->data_bytes,
           s->manifests, (long long)s->metadata_bytes, s->scan_ms);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_maintain DIR [COMMITS] [ROWS] [EVERY]\n");
        return 2;
    }
    const char *dir = argv[1];
    int commits = argc > 2 ? atoi(argv[2]) : 1000;
    int rows = argc > 3 ? atoi(argv[3]) : 50;
    int every = argc > 4 ? atoi(argv[4]) : 200;
    firn_error err;
    firn_error_init(&err);
    char uri[1200];
    snprintf(uri, sizeof uri, "sqlite:%s/catalog.db", dir);
    firn_cat_config cfg = {0};
    cfg.warehouse = dir;
    firn_catalog *cat;
    if (firn_cat_open(uri, &cfg, &cat, &err) || firn_cat_create_namespace(cat, "db", NULL, &err))
        die("catalog", &err);
    firn_arena a;
    firn_arena_init(&a, 0);
    printf("%d commits of %d rows (3 partitions), target file size %d bytes, maintenance "
           "every %d commits in the soak\n", commits, rows, TARGET, every);

    /* 1. many small commits, no maintenance */
    firn_ice_table *t = create(cat, "small", &a);
    double t0 = now_ms();
    for (int c = 0; c < commits; c++) commit_rows(t, (int64_t)c * rows, (size_t)rows, c);
    double build_ms = now_ms() - t0;
    printf("built in %.1f s (%.2f ms a commit)\n", build_ms / 1000, build_ms / commits);
    stats before = measure(t);
    show("before maintenance", &before);

    /* 2. the policy once */
    firn_maintain_options o;
    firn_maintain_options_init(&o);
    o.older_than_ms = 0; /* a day simulated in minutes: every snapshot is "old" */
    o.retain_last = 10;
    o.orphan_margin_ms = 0;
    firn_maintain_result r = {0};
    t0 = now_ms();
    if (firn_maintain_all(t, &o, &r, &err)) die("maintain", &err);
    double maint_ms = now_ms() - t0;
    printf("maintenance: %.1f ms: files-rewritten=%zu files-written=%zu commits=%zu "
           "snapshots-expired=%zu data-files-deleted=%zu manifests-deleted=%zu "
           "manifest-lists-deleted=%zu metadata-files-deleted=%zu orphans=%zu bytes-reclaimed=%lld\n",
           maint_ms, r.files_rewritten, r.files_written, r.groups_committed, r.snapshots_expired,
           r.data_files_deleted, r.manifests_deleted, r.manifest_lists_deleted,
           r.metadata_files_deleted, r.orphans_deleted, (long long)r.bytes_reclaimed);
    firn_maintain_result_release(&r);
    stats after = measure(t);
    show("after maintenance", &after);
    if (after.rows != before.rows) {
        fprintf(stderr, "bench_maintain: rows differ after maintenance\n");
        return 1;
    }

    /* 3. the same rows in one commit */
    firn_ice_table *one = create(cat, "one", &a);
    commit_rows(one, 0, (size_t)commits * (size_t)rows, commits);
    stats ref = measure(one);
    show("one commit", &ref);
    /* ideal: per partition, ceil(bytes / target) */
    size_t ideal = 0;
    int64_t per_part = after.data_bytes / 3;
    ideal = 3 * (size_t)((per_part + TARGET - 1) / TARGET);
    if (ideal < 3) ideal = 3;

    /* 4. soak: the same commits with the policy every `every` commits */
    firn_ice_table *soak = create(cat, "soak", &a);
    int64_t samples[64];
    int ns = 0;
    for (int c = 0; c < commits; c++) {
        commit_rows(soak, (int64_t)c * rows, (size_t)rows, c);
        if ((c + 1) % every == 0) {
            firn_maintain_result sr = {0};
            if (firn_maintain_all(soak, &o, &sr, &err)) die("soak maintain", &err);
            firn_maintain_result_release(&sr);
            int64_t b = dir_size(soak, "metadata").bytes;
            if (ns < 64) samples[ns++] = b;
            printf("soak commit %d: metadata-bytes=%lld data-files=%zu\n", c + 1, (long long)b,
                   dir_size(soak, "data").files);
        }
    }
    stats soaked = measure(soak);
    show("soak end", &soaked);
    /* the scan comparison again, back to back (the machine is shared) */
    after = measure(t);
    ref = measure(one);
    show("after (re-measured)", &after);
    show("one commit (re-measured)", &ref);

    printf("bench maintain_scan_after: %.1f ms vs one_commit_scan %.1f ms = %.2fx\n", after.scan_ms,
           ref.scan_ms, after.scan_ms / ref.scan_ms);
    printf("bench maintain_scan_before: %.1f ms vs one_commit_scan %.1f ms = %.2fx\n",
           before.scan_ms, ref.scan_ms, before.scan_ms / ref.scan_ms);
    printf("bench maintain_data_files: %zu files vs ideal %zu files = %.2fx\n", after.data_files,
           ideal, (double)after.data_files / (double)ideal);
    printf("bench maintain_metadata_bytes: %lld bytes vs before %lld bytes = %.3fx\n",
           (long long)after.metadata_bytes, (long long)before.metadata_bytes,
           (double)after.metadata_bytes / (double)before.metadata_bytes);
    printf("bench maintain_time: %.1f ms vs build %.1f ms = %.3fx\n", maint_ms, build_ms,
           maint_ms / build_ms);
    if (ns >= 2) {
        int64_t mid = samples[(ns - 1) / 2], last = samples[ns - 1];
        printf("bench maintain_soak_metadata: %lld bytes at the end vs %lld bytes halfway = %.2fx\n",
               (long long)last, (long long)mid, (double)last / (double)mid);
    }
    firn_ice_table_free(t);
    firn_ice_table_free(one);
    firn_ice_table_free(soak);
    firn_cat_free(cat);
    firn_arena_release(&a);
    return 0;
}
