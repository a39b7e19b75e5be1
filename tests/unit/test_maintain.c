/* test_maintain.c - table maintenance (src/maintain) on real tables: every ref
 * reads the same rows before and after each operation (full scans compared, row
 * content checked), no file reachable from a remaining snapshot is gone, expiry
 * deletes exactly the files that became unreachable, ref retention, compaction
 * racing a concurrent append (survives, offsets carried from the newer head) and a
 * concurrent delete (the group aborts, nothing left behind), manifest rewrite,
 * orphan removal next to a table whose location extends this one's ("t" and
 * "t2"), the age margin, dry runs listing exactly what real runs delete, old
 * metadata cleanup, durations and the metadata budget. */
#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "io/io.h"
#include "maintain/maintain.h"
#include "maintain/maintain_internal.h"
#include "parquet/parquet.h"
#include "fixture.h"
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

static const char SCHEMA_JSON[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"cat\",\"required\":false,\"type\":\"string\"}]}";

#define NCAT 3
#define MAXID 4096

typedef struct fx {
    firn_catalog *cat;
    firn_ice_table *t;
    firn_arena a;
    firn_error err;
    char wh[600];
} fx;

static int fx_table(fx *f, const char *name, const firn_ice_kv *extra, size_t nextra) {
    firn_ice_partition_field pf[1] = {{2, 1000, "cat", {FIRN_ICE_TRANSFORM_IDENTITY, 0, NULL}}};
    firn_ice_partition_spec *spec = firn_ice_partition_spec_new(&f->a, 0, pf, 1);
    firn_ice_table_free(f->t);
    f->t = NULL;
    return firn_test_table_create(f->cat, &f->a, "db", name, SCHEMA_JSON, spec, extra, nextra,
                                  &f->t, &f->err);
}

static int fx_open(fx *f, const char *name, const firn_ice_kv *extra, size_t nextra) {
    memset(f, 0, sizeof *f);
    firn_error_init(&f->err);
    firn_arena_init(&f->a, 0);
    static const char *const db[] = {"db", NULL};
    if (firn_test_warehouse_open("maintain", name, false, db, f->wh, sizeof f->wh, &f->cat, &f->err))
        return -1;
    return fx_table(f, "t", extra, nextra);
}

static void fx_close(fx *f) {
    firn_ice_table_free(f->t);
    firn_cat_free(f->cat);
    firn_arena_release(&f->a);
    firn_error_release(&f->err);
}

static void cat_of(int64_t id, char *buf) { snprintf(buf, 8, "c%d", (int)(id % NCAT)); }

/* Append ids [lo, lo + n) in one commit to t (branch NULL: main), with summary
 * firn.source.topic.0 = source when source >= 0. */
static int append_rows(firn_ice_table *t, int64_t lo, size_t n, const char *branch, long source,
                       firn_error *err) {
    int64_t *ids = calloc(n + 1, sizeof *ids);
    int64_t *off = calloc(n + 1, sizeof *off);
    char *data = calloc(n + 1, 8);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        ids[i] = lo + (int64_t)i;
        char c[8];
        cat_of(ids[i], c);
        memcpy(data + len, c, strlen(c));
        len += strlen(c);
        off[i + 1] = (int64_t)len;
    }
    firn_pq_column_data cols[2] = {{NULL, ids, NULL, NULL},
                                   {NULL, NULL, off, (const uint8_t *)data}};
    const firn_ice_data_file *files;
    size_t nfiles;
    firn_ice_producer *fa = NULL;
    int rc = -1;
    firn_ice_data_writer *w = firn_ice_data_writer_new(t->metadata, t->io, NULL, err);
    if (!w || firn_ice_data_writer_write(w, cols, n, err) ||
        firn_ice_data_writer_close(w, &files, &nfiles, err))
        goto out;
    fa = firn_ice_producer_new(t, branch, "append", err);
    if (fa) firn_ice_producer_set_merge(fa, 0); /* fast append: one manifest per commit */
    if (!fa) goto out;
    for (size_t i = 0; i < nfiles; i++)
        if (firn_ice_producer_add_file(fa, &files[i], err)) goto out;
    if (source >= 0) {
        char v[32];
        snprintf(v, sizeof v, "%ld", source);
        firn_ice_producer_set_summary(fa, "firn.source.topic.0", v);
    }
    rc = firn_ice_producer_commit(fa, NULL, err);
out:
    firn_ice_producer_free(fa);
    firn_ice_data_writer_free(w);
    free(ids);
    free(off);
    free(data);
    return rc;
}

/* Rows of ref (NULL: main) as counts per id, content checked (cat derived from id).
 * Returns the row count or -1. */
static long scan_rows(firn_ice_table *t, const char *ref, unsigned char *seen, firn_error *err) {
    memset(seen, 0, MAXID);
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    o.ref = ref;
    firn_ice_scan *s = firn_ice_scan_table(t, &o, err);
    if (!s) return -1;
    long n = 0;
    firn_ice_scan_batch b;
    int rc;
    while ((rc = firn_ice_scan_next_batch(s, &b, err)) == 1) {
        for (size_t r = 0; r < b.nrows; r++) {
            int64_t id = ((const int64_t *)b.columns[0].values)[r];
            char c[8];
            cat_of(id, c);
            const firn_pq_column_data *cc = &b.columns[1];
            size_t l = (size_t)(cc->offsets[r + 1] - cc->offsets[r]);
            if (id < 0 || id >= MAXID || l != strlen(c) || memcmp(cc->data + cc->offsets[r], c, l)) {
                printf("    bad row id %lld\n", (long long)id);
                firn_ice_scan_free(s);
                return -1;
            }
            seen[id]++;
            n++;
        }
    }
    firn_ice_scan_free(s);
    return rc < 0 ? -1 : n;
}

/* Every file the table's snapshots reach (live entries, manifests, lists) exists. */
static long missing_reachable(firn_ice_table *t, firn_error *err) {
    firn_mt_reach r = {0};
    if (firn_mt_reach_all(t->io, t->metadata, false, &r, err)) return -1;
    long missing = 0;
    const firn_mt_set *sets[3] = {&r.files, &r.manifests, &r.lists};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < sets[k]->cap; i++) {
            if (!sets[k]->keys[i]) continue;
            bool ex = false;
            firn_io_exists(t->io, sets[k]->keys[i], &ex, err);
            if (!ex) {
                printf("    missing %s\n", sets[k]->keys[i]);
                missing++;
            }
        }
    firn_mt_reach_release(&r);
    return missing;
}

static size_t count_files(const char *dir) {
    char cmd[900];
    snprintf(cmd, sizeof cmd, "find '%s' -type f 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    if (p) {
        if (fscanf(p, "%zu", &n) != 1) n = 0;
        pclose(p);
    }
    return n;
}

static unsigned char g_a[MAXID], g_b[MAXID];

/* --------------------------------------------------------------- expiry */

FIRN_TEST(maintain_expire_keeps_refs_and_deletes_exactly_unreachable) {
    fx f;
    CHECK_OK(fx_open(&f, "expire", NULL, 0), &f.err);
    for (int i = 0; i < 6; i++) CHECK_OK(append_rows(f.t, i * 10, 10, NULL, i, &f.err), &f.err);
    firn_ice_ref_update tag = {FIRN_ICE_REF_CREATE, FIRN_ICE_REF_TAG, "v1", -1, NULL};
    CHECK_OK(firn_ice_table_update_ref(f.t, &tag, &f.err), &f.err);
    firn_ice_ref_update br = {FIRN_ICE_REF_CREATE, FIRN_ICE_REF_BRANCH, "b", -1, NULL};
    CHECK_OK(firn_ice_table_update_ref(f.t, &br, &f.err), &f.err);
    CHECK_OK(append_rows(f.t, 500, 5, "b", -1, &f.err), &f.err);
    for (int i = 6; i < 9; i++) CHECK_OK(append_rows(f.t, i * 10, 10, NULL, i, &f.err), &f.err);
    /* compaction makes the small files of main unreachable from main's head */
    firn_maintain_options o;
    firn_maintain_options_init(&o);
    o.target_size = 1 << 20;
    firn_maintain_result r = {0};
    CHECK_OK(firn_maintain_compact(f.t, &o, &r, &f.err), &f.err);
    CHECK(r.groups_committed == 1 && r.files_rewritten == 27 && r.files_written == NCAT);

    const char *refs[3] = {NULL, "v1", "b"};
    long want[3] = {90, 60, 65};
    unsigned char before[3][MAXID];
    for (int k = 0; k < 3; k++) CHECK_EQ_INT(scan_rows(f.t, refs[k], before[k], &f.err), want[k]);
    firn_mt_reach pre = {0}, post = {0};
    CHECK_OK(firn_mt_reach_all(f.t->io, f.t->metadata, false, &pre, &f.err), &f.err);

    firn_maintain_options_init(&o);
    o.older_than_ms = 0;
    o.retain_last = 1;
    o.keep_paths = true;
    firn_maintain_result dry = {0};
    o.dry_run = true;
    CHECK_OK(firn_maintain_expire_snapshots(f.t, &o, &dry, &f.err), &f.err);
    o.dry_run = false;
    firn_maintain_result_release(&r);
    memset(&r, 0, sizeof r);
    CHECK_OK(firn_maintain_expire_snapshots(f.t, &o, &r, &f.err), &f.err);
    /* left: main's head, the tag's snapshot, b's head */
    CHECK_EQ_INT(f.t->metadata->nsnapshots, 3);
    CHECK_EQ_INT(r.snapshots_expired, 8); /* of 11 */
    for (int k = 0; k < 3; k++) {
        CHECK_EQ_INT(scan_rows(f.t, refs[k], g_a, &f.err), want[k]);
        CHECK(memcmp(g_a, before[k], MAXID) == 0);
    }
    CHECK_EQ_INT(missing_reachable(f.t, &f.err), 0);
    /* exactly the files that became unreachable are gone */
    CHECK_OK(firn_mt_reach_all(f.t->io, f.t->metadata, false, &post, &f.err), &f.err);
    size_t gone_files = 0, gone_manifests = 0, gone_lists = 0;
    firn_mt_set *pres[3] = {&pre.files, &pre.manifests, &pre.lists};
    firn_mt_set *posts[3] = {&post.files, &post.manifests, &post.lists};
    size_t *gone[3] = {&gone_files, &gone_manifests, &gone_lists};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < pres[k]->cap; i++) {
            if (!pres[k]->keys[i] || firn_mt_set_has(posts[k], pres[k]->keys[i])) continue;
            bool ex = true;
            firn_io_exists(f.t->io, pres[k]->keys[i], &ex, &f.err);
            CHECK_MSG(!ex, "unreachable file kept: %s", pres[k]->keys[i]);
            (*gone[k])++;
        }
    /* the tag holds the first 6 appends' 18 files, b one more: 27 - 18 = 9 deleted */
    CHECK_EQ_INT(gone_files, 9);
    CHECK_EQ_INT(r.data_files_deleted, gone_files);
    CHECK_EQ_INT(r.manifests_deleted, gone_manifests);
    CHECK_EQ_INT(r.manifest_lists_deleted, gone_lists);
    CHECK(r.bytes_reclaimed > 0);
    /* the dry run listed exactly these */
    CHECK_EQ_INT(dry.npaths, r.npaths);
    for (size_t i = 0; i < r.npaths; i++) {
        bool found = false;
        for (size_t j = 0; j < dry.npaths && !found; j++) found = strcmp(dry.paths[j], r.paths[i]) == 0;
        CHECK_MSG(found, "not in the dry run: %s", r.paths[i]);
    }
    /* nothing left for orphan removal: expiry deleted everything unreferenced */
    firn_maintain_result orph = {0};
    firn_maintain_options_init(&o);
    o.orphan_margin_ms = 0;
    o.dry_run = true;
    CHECK_OK(firn_maintain_remove_orphans(f.t, &o, &orph, &f.err), &f.err);
    CHECK_EQ_INT(orph.orphans_deleted, 0);
    firn_mt_reach_release(&pre);
    firn_mt_reach_release(&post);
    firn_maintain_result_release(&r);
    firn_maintain_result_release(&dry);
    fx_close(&f);
}

/* set-snapshot-ref with retention fields, as a table update */
typedef struct ref_set {
    firn_ice_ref ref;
} ref_set;
static int ref_set_apply(void *ctx, firn_ice_metadata *md, firn_error *err) {
    ref_set *rs = ctx;
    return firn_ice_metadata_set_snapshot_ref(md, &rs->ref, err);
}

FIRN_TEST(maintain_expire_ref_retention_and_policy) {
    fx f;
    firn_ice_kv props[] = {{"history.expire.max-snapshot-age-ms", "1"},
                           {"history.expire.min-snapshots-to-keep", "1"}};
    CHECK_OK(fx_open(&f, "expire-policy", props, 2), &f.err);
    for (int i = 0; i < 5; i++) CHECK_OK(append_rows(f.t, i * 10, 10, NULL, -1, &f.err), &f.err);
    int64_t head = f.t->metadata->current_snapshot_id;
    /* "keep3": a branch at main's head keeping 3 snapshots; "old": a branch whose
     * max-ref-age has passed */
    ref_set k3 = {firn_ice_ref_make("keep3", head, FIRN_ICE_REF_BRANCH)};
    k3.ref.min_snapshots_to_keep = 3;
    ref_set old = {firn_ice_ref_make("old", f.t->metadata->snapshots[0]->snapshot_id,
                                     FIRN_ICE_REF_BRANCH)};
    old.ref.max_ref_age_ms = 1000;
    firn_ice_update u[2] = {{ref_set_apply, NULL, &k3}, {ref_set_apply, NULL, &old}};
    CHECK_OK(firn_ice_table_commit(f.t, u, 2, NULL, &f.err), &f.err);
    CHECK_EQ_INT(scan_rows(f.t, "keep3", g_b, &f.err), 50);

    firn_maintain_options o;
    firn_maintain_options_init(&o);
    o.now_ms = firn_mt_now_ms(NULL) + 60000; /* everything a minute old */
    o.min_snapshot_age_ms = 120000;          /* the floor: nothing expires */
    firn_maintain_result r = {0};
    CHECK_OK(firn_maintain_expire_snapshots(f.t, &o, &r, &f.err), &f.err);
    CHECK_EQ_INT(r.snapshots_expired, 0);
    CHECK_EQ_INT(r.refs_removed, 0);
    o.min_snapshot_age_ms = 0;
    CHECK_OK(firn_maintain_expire_snapshots(f.t, &o, &r, &f.err), &f.err);
    CHECK_EQ_INT(r.refs_removed, 1);
    CHECK(firn_ice_metadata_ref(f.t->metadata, "old") == NULL);
    /* keep3 keeps its head and 2 ancestors; main (min 1) adds nothing */
    CHECK_EQ_INT(f.t->metadata->nsnapshots, 3);
    CHECK_EQ_INT(r.snapshots_expired, 2);
    CHECK_EQ_INT(scan_rows(f.t, "keep3", g_a, &f.err), 50);
    CHECK(memcmp(g_a, g_b, MAXID) == 0);
    CHECK_EQ_INT(missing_reachable(f.t, &f.err), 0);
    fx_close(&f);
}

/* ------------------------------------------------------------ compaction */

static fx *g_fx;
static int g_hook_mode; /* 1: append, 2: delete a file being rewritten */
static int g_hook_rc;

static void hook(const char *step) {
    if (strcmp(step, "compact.before-commit") != 0 || !g_hook_mode) return;
    firn_ice_table *other;
    firn_error e;
    firn_error_init(&e);
    g_hook_rc = firn_ice_table_load(g_fx->cat, "db", "t", &other, &e);
    if (g_hook_rc == 0 && g_hook_mode == 1) g_hook_rc = append_rows(other, 1000, 6, NULL, 99, &e);
    if (g_hook_rc == 0 && g_hook_mode == 2) {
        /* delete ids 0, 1, 2: one whole one-row file of each partition ("id < 3":
         * whole files are proven by the bounds of the negation) */
        firn_ice_producer *p = firn_ice_producer_new(other, NULL, "delete", &e);
        firn_arena a;
        firn_arena_init(&a, 0);
        firn_ice_expr *x = firn_ice_expr_parse(&a, "id < 3", &e);
        g_hook_rc = p && x ? firn_ice_producer_delete_where(p, x, &e) : -1;
        if (g_hook_rc == 0) g_hook_rc = firn_ice_producer_commit(p, NULL, &e);
        firn_ice_producer_free(p);
        firn_arena_release(&a);
    }
    if (g_hook_rc) printf("    hook: %s\n", firn_test_errtext(&e));
    firn_ice_table_free(other);
    firn_error_release(&e);
    g_hook_mode = 0;
}

FIRN_TEST(maintain_compact_survives_concurrent_append_and_carries_offsets) {
    fx f;
    CHECK_OK(fx_open(&f, "compact-append", NULL, 0), &f.err);
    for (int i = 0; i < 8; i++) CHECK_OK(append_rows(f.t, i * 4, 4, NULL, i + 1, &f.err), &f.err);
    CHECK_EQ_INT(scan_rows(f.t, NULL, g_b, &f.err), 32);
    g_fx = &f;
    g_hook_mode = 1;
    g_hook_rc = 0;
    firn_mt_test_hook = hook;
    firn_maintain_options o;
    firn_maintain_options_init(&o);
    o.target_size = 1 << 20;
    firn_maintain_result r = {0};
    int rc = firn_maintain_compact(f.t, &o, &r, &f.err);
    firn_mt_test_hook = NULL;
    CHECK_OK(rc, &f.err);
    CHECK_EQ_INT(g_hook_rc, 0);
    CHECK_EQ_INT(r.files_rewritten, 24);
    CHECK_EQ_INT(r.files_written, NCAT);
    /* the concurrent append's rows survive, nothing doubled */
    for (int i = 1000; i < 1006; i++) g_b[i]++;
    CHECK_EQ_INT(scan_rows(f.t, NULL, g_a, &f.err), 38);
    CHECK(memcmp(g_a, g_b, MAXID) == 0);
    const firn_ice_snapshot *s = firn_ice_metadata_current_snapshot(f.t->metadata);
    CHECK_EQ_STR(firn_ice_snapshot_operation(s), "replace");
    /* the offsets of the head the commit landed on (the concurrent append's) */
    CHECK_EQ_STR(firn_ice_snapshot_summary_get(s, "firn.source.topic.0"), "99");
    CHECK_EQ_INT(missing_reachable(f.t, &f.err), 0);
    /* one file per partition plus the concurrent append's 3 */
    firn_ice_scan *sc = firn_ice_scan_table(f.t, NULL, &f.err);
    CHECK(sc != NULL);
    size_t nt;
    firn_ice_scan_tasks(sc, &nt);
    firn_ice_scan_free(sc);
    CHECK_EQ_INT(nt, 2 * NCAT);
    fx_close(&f);
}

FIRN_TEST(maintain_compact_aborts_on_concurrent_delete_without_garbage) {
    fx f;
    CHECK_OK(fx_open(&f, "compact-delete", NULL, 0), &f.err);
    /* one-row appends: 3 files per partition (c0: ids 0, 3, 6; ...) */
    for (int i = 0; i < 9; i++) CHECK_OK(append_rows(f.t, i, 1, NULL, i, &f.err), &f.err);
    char data_dir[800];
    snprintf(data_dir, sizeof data_dir, "%s/db/t/data", f.wh);
    size_t files_before = count_files(data_dir);
    g_fx = &f;
    g_hook_mode = 2;
    g_hook_rc = 0;
    firn_mt_test_hook = hook;
    firn_maintain_options o;
    firn_maintain_options_init(&o);
    o.target_size = 1 << 20;
    /* each partition its own commit: the delete lands while the first one commits, which
     * aborts; the next two re-plan without the deleted files and commit */
    o.partitions_per_commit = 1;
    firn_maintain_result r = {0};
    int rc = firn_maintain_compact(f.t, &o, &r, &f.err);
    firn_mt_test_hook = NULL;
    CHECK_OK(rc, &f.err);
    CHECK_EQ_INT(g_hook_rc, 0);
    CHECK_EQ_INT(r.groups_conflicted, 1);
    CHECK_EQ_INT(r.groups_committed, 2);
    memset(g_b, 0, sizeof g_b);
    for (int i = 3; i < 9; i++) g_b[i] = 1;
    CHECK_EQ_INT(scan_rows(f.t, NULL, g_a, &f.err), 6);
    CHECK(memcmp(g_a, g_b, MAXID) == 0);
    /* the aborted group's new file is gone: data files = before + the 2 committed groups' */
    CHECK_EQ_INT(count_files(data_dir), files_before + 2);
    /* and no manifest or list of the aborted attempt is left: nothing orphaned */
    firn_maintain_options_init(&o);
    o.orphan_margin_ms = 0;
    o.dry_run = true;
    o.keep_paths = true;
    firn_maintain_result orph = {0};
    CHECK_OK(firn_maintain_remove_orphans(f.t, &o, &orph, &f.err), &f.err);
    for (size_t i = 0; i < orph.npaths; i++) printf("    orphan %s\n", orph.paths[i]);
    CHECK_EQ_INT(orph.orphans_deleted, 0);
    firn_maintain_result_release(&orph);
    fx_close(&f);
}

/* ------------------------------------------------------- manifest rewrite */

FIRN_TEST(maintain_rewrite_manifests_merges_and_keeps_rows) {
    fx f;
    CHECK_OK(fx_open(&f, "rewrite", NULL, 0), &f.err);
    for (int i = 0; i < 7; i++) CHECK_OK(append_rows(f.t, i * 5, 5, NULL, i, &f.err), &f.err);
    CHECK_EQ_INT(scan_rows(f.t, NULL, g_b, &f.err), 35);
    firn_maintain_result r = {0};
    CHECK_OK(firn_maintain_rewrite_manifests(f.t, NULL, &r, &f.err), &f.err);
    CHECK_EQ_INT(r.manifests_rewritten, 7);
    CHECK_EQ_INT(r.manifests_written, 1);
    CHECK_EQ_INT(scan_rows(f.t, NULL, g_a, &f.err), 35);
    CHECK(memcmp(g_a, g_b, MAXID) == 0);
    const firn_ice_snapshot *s = firn_ice_metadata_current_snapshot(f.t->metadata);
    CHECK_EQ_STR(firn_ice_snapshot_summary_get(s, "total-records"), "35");
    CHECK_EQ_STR(firn_ice_snapshot_summary_get(s, "firn.source.topic.0"), "6");
    firn_ice_scan *sc = firn_ice_scan_table(f.t, NULL, &f.err);
    CHECK(sc != NULL);
    CHECK_EQ_INT(firn_ice_scan_get_stats(sc)->total_manifests, 1);
    firn_ice_scan_free(sc);
    /* a second run finds one manifest: nothing to do, no commit */
    memset(&r, 0, sizeof r);
    CHECK_OK(firn_maintain_rewrite_manifests(f.t, NULL, &r, &f.err), &f.err);
    CHECK_EQ_INT(r.commits, 0);
    fx_close(&f);
}

/* ---------------------------------------------------------------- orphans */

static void age_file(const char *path, int64_t seconds) {
    struct utimbuf ut;
    ut.actime = ut.modtime = time(NULL) - seconds;
    utime(path, &ut);
}

static void age_tree(const char *dir, int64_t seconds) {
    char cmd[900];
    snprintf(cmd, sizeof cmd, "find '%s' -type f -exec touch -d '@%lld' {} +", dir,
             (long long)(time(NULL) - seconds));
    if (system(cmd) != 0) printf("    touch failed\n");
}

FIRN_TEST(maintain_orphans_prefix_margin_and_dry_run) {
    fx f;
    CHECK_OK(fx_open(&f, "orphans", NULL, 0), &f.err);
    for (int i = 0; i < 3; i++) CHECK_OK(append_rows(f.t, i * 3, 3, NULL, i, &f.err), &f.err);
    firn_ice_table *t = f.t;
    f.t = NULL;
    CHECK_OK(fx_table(&f, "t2", NULL, 0), &f.err); /* location .../db/t2: t's plus "2" */
    CHECK_OK(append_rows(f.t, 100, 3, NULL, -1, &f.err), &f.err);
    firn_ice_table *t2 = f.t;
    f.t = t;
    char dir2[800], dir[800], junk_old[900], junk_new[900], junk_meta[900];
    snprintf(dir, sizeof dir, "%s/db/t", f.wh);
    snprintf(dir2, sizeof dir2, "%s/db/t2", f.wh);
    /* an orphan in t2 too, old: t's run must not see it */
    snprintf(junk_old, sizeof junk_old, "%s/data/cat=c0/zz-orphan.parquet", dir2);
    CHECK_OK(firn_write_file(junk_old, "x", 1, &f.err), &f.err);
    age_tree(dir2, 10 * 86400);
    age_tree(dir, 10 * 86400);
    size_t n2 = count_files(dir2);
    snprintf(junk_old, sizeof junk_old, "%s/data/cat=c0/old-orphan.parquet", dir);
    snprintf(junk_new, sizeof junk_new, "%s/data/cat=c0/new-orphan.parquet", dir);
    snprintf(junk_meta, sizeof junk_meta, "%s/metadata/dead-m0.avro", dir);
    CHECK_OK(firn_write_file(junk_old, "old", 3, &f.err), &f.err);
    CHECK_OK(firn_write_file(junk_new, "new", 3, &f.err), &f.err);
    CHECK_OK(firn_write_file(junk_meta, "meta", 4, &f.err), &f.err);
    age_file(junk_old, 4 * 86400);
    age_file(junk_meta, 4 * 86400);
    CHECK_EQ_INT(scan_rows(t, NULL, g_b, &f.err), 9);

    firn_maintain_options o;
    firn_maintain_options_init(&o); /* default margin: 3 days */
    o.keep_paths = true;
    o.dry_run = true;
    firn_maintain_result dry = {0}, real = {0};
    CHECK_OK(firn_maintain_remove_orphans(t, &o, &dry, &f.err), &f.err);
    CHECK_EQ_INT(dry.orphans_deleted, 2);
    bool ex = false;
    CHECK_OK(firn_io_exists(t->io, junk_old, &ex, &f.err), &f.err);
    CHECK(ex); /* a dry run deletes nothing */
    o.dry_run = false;
    CHECK_OK(firn_maintain_remove_orphans(t, &o, &real, &f.err), &f.err);
    CHECK_EQ_INT(real.npaths, dry.npaths);
    for (size_t i = 0; i < real.npaths; i++) CHECK_EQ_STR(real.paths[i], dry.paths[i]);
    CHECK_OK(firn_io_exists(t->io, junk_old, &ex, &f.err), &f.err);
    CHECK(!ex);
    CHECK_OK(firn_io_exists(t->io, junk_meta, &ex, &f.err), &f.err);
    CHECK(!ex);
    CHECK_OK(firn_io_exists(t->io, junk_new, &ex, &f.err), &f.err);
    CHECK(ex); /* younger than the margin */
    CHECK_EQ_INT(real.bytes_reclaimed, 7);
    CHECK_EQ_INT(count_files(dir2), n2); /* t2 untouched */
    CHECK_EQ_INT(scan_rows(t, NULL, g_a, &f.err), 9);
    CHECK(memcmp(g_a, g_b, MAXID) == 0);
    CHECK_EQ_INT(scan_rows(t2, NULL, g_a, &f.err), 3);
    CHECK_EQ_INT(missing_reachable(t, &f.err), 0);
    CHECK_EQ_INT(missing_reachable(t2, &f.err), 0);
    firn_maintain_result_release(&dry);
    firn_maintain_result_release(&real);
    firn_ice_table_free(t2);
    fx_close(&f);
}

/* ---------------------------------------------------------- old metadata */

FIRN_TEST(maintain_clean_metadata_and_all) {
    fx f;
    firn_ice_kv props[] = {{"write.metadata.delete-after-commit.enabled", "false"},
                           {"write.metadata.previous-versions-max", "3"}};
    CHECK_OK(fx_open(&f, "metadata", props, 2), &f.err);
    for (int i = 0; i < 8; i++) CHECK_OK(append_rows(f.t, i * 3, 3, NULL, i, &f.err), &f.err);
    char mdir[800];
    snprintf(mdir, sizeof mdir, "%s/db/t/metadata", f.wh);
    firn_maintain_result r = {0};
    CHECK_OK(firn_maintain_clean_metadata(f.t, NULL, &r, &f.err), &f.err);
    CHECK_EQ_INT(r.metadata_files_deleted, 0); /* not enabled */
    firn_ice_kv on = {"write.metadata.delete-after-commit.enabled", "true"};
    firn_ice_properties_update pu = {&on, 1, NULL, 0};
    firn_ice_update u = firn_ice_update_properties(&pu);
    CHECK_OK(firn_ice_table_commit(f.t, &u, 1, NULL, &f.err), &f.err);
    CHECK_OK(firn_maintain_clean_metadata(f.t, NULL, &r, &f.err), &f.err);
    /* versions 0..9 exist; the log holds 3 (6, 7, 8) and 9 is current: 0..5 go,
     * less the one the commit's own cleanup already deleted (5) */
    CHECK_EQ_INT(r.metadata_files_deleted, 5);
    char cmd[900];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c 'metadata.json$'", mdir);
    FILE *p = popen(cmd, "r");
    int nmd = 0;
    CHECK(p && fscanf(p, "%d", &nmd) == 1);
    pclose(p);
    CHECK_EQ_INT(nmd, 4);
    CHECK_EQ_INT(scan_rows(f.t, NULL, g_b, &f.err), 24);

    /* the policy once: every small file compacted, the record filled */
    firn_maintain_options o;
    firn_maintain_options_init(&o);
    o.target_size = 1 << 20;
    o.older_than_ms = 0;
    o.retain_last = 1;
    o.orphan_margin_ms = 0;
    memset(&r, 0, sizeof r);
    CHECK_OK(firn_maintain_all(f.t, &o, &r, &f.err), &f.err);
    CHECK_EQ_INT(r.files_rewritten, 24);
    CHECK_EQ_INT(r.data_files_deleted, 24);
    CHECK(r.snapshots_expired >= 9 && r.bytes_reclaimed > 0 && r.duration_ms >= 0);
    CHECK_EQ_INT(f.t->metadata->nsnapshots, 1);
    CHECK_EQ_INT(scan_rows(f.t, NULL, g_a, &f.err), 24);
    CHECK(memcmp(g_a, g_b, MAXID) == 0);
    CHECK_EQ_INT(missing_reachable(f.t, &f.err), 0);
    fx_close(&f);
}

/* ------------------------------------------------------------ small parts */

FIRN_TEST(maintain_durations_and_budget) {
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {{"0s", 0}, {"90s", 90000}, {"3d", 259200000}, {"15m", 900000}, {"2h", 7200000},
              {"500ms", 500}, {"1234", 1234}};
    firn_error err;
    firn_error_init(&err);
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ms = -1;
        CHECK_OK(firn_maintain_parse_duration(ok[i].text, &ms, &err), &err);
        CHECK_EQ_INT(ms, ok[i].ms);
    }
    static const char *const bad[] = {"", "s", "-1s", "3 d", "3w", "1.5h", "99999999999999999d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms;
        CHECK_MSG(firn_maintain_parse_duration(bad[i], &ms, &err) != 0, "accepted '%s'", bad[i]);
        firn_error_release(&err);
        firn_error_init(&err);
    }
    size_t n;
    const firn_ice_kv *kv = firn_maintain_default_properties(&n);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) CHECK_MSG(strcmp(kv[i].key, kv[j].key), "dup %s", kv[i].key);
        if (strcmp(kv[i].key, "write.metadata.previous-versions-max") == 0) {
            CHECK_EQ_STR(kv[i].value, "20");
            found++;
        }
        if (strcmp(kv[i].key, "write.metadata.delete-after-commit.enabled") == 0) {
            CHECK_EQ_STR(kv[i].value, "true");
            found++;
        }
        if (strcmp(kv[i].key, "history.expire.max-snapshot-age-ms") == 0) found++;
    }
    CHECK_EQ_INT(found, 3);
    firn_error_release(&err);
}

/* ------------------------------------------------------------ sorted compaction */

FIRN_TEST(maintain_compact_sorted_by_sort_order) {
    fx f;
    memset(&f, 0, sizeof f);
    firn_error_init(&f.err);
    firn_arena_init(&f.a, 0);
    static const char *const db[] = {"db", NULL};
    CHECK_OK(firn_test_warehouse_open("maintain", "sorted", false, db, f.wh, sizeof f.wh, &f.cat,
                                      &f.err),
             &f.err);
    firn_ice_schema *s = firn_ice_schema_parse(&f.a, SCHEMA_JSON, strlen(SCHEMA_JSON), &f.err);
    CHECK(s != NULL);
    firn_ice_partition_field pf[1] = {{2, 1000, "cat", {FIRN_ICE_TRANSFORM_IDENTITY, 0, NULL}}};
    firn_ice_partition_spec *spec = firn_ice_partition_spec_new(&f.a, 0, pf, 1);
    firn_ice_sort_field sf = {{FIRN_ICE_TRANSFORM_IDENTITY, 0, NULL}, 1, FIRN_ICE_DESC,
                              FIRN_ICE_NULLS_LAST};
    firn_ice_sort_order *order = firn_ice_sort_order_new(&f.a, 1, &sf, 1);
    CHECK_OK(firn_ice_table_create(f.cat, "db", "t", s, spec, order, NULL, &f.t, &f.err), &f.err);
    /* ids ascending in every file and across appends; the order says descending */
    for (int k = 0; k < 8; k++) CHECK_OK(append_rows(f.t, k * 5, 5, NULL, k, &f.err), &f.err);
    CHECK_EQ_INT(scan_rows(f.t, NULL, g_b, &f.err), 40);
    firn_maintain_options o;
    firn_maintain_options_init(&o);
    o.target_size = 1 << 20;
    o.sort = true;
    firn_maintain_result r = {0};
    CHECK_OK(firn_maintain_compact(f.t, &o, &r, &f.err), &f.err);
    CHECK_EQ_INT(r.files_written, NCAT);
    CHECK_EQ_INT(scan_rows(f.t, NULL, g_a, &f.err), 40);
    CHECK(memcmp(g_a, g_b, MAXID) == 0);
    /* within each file, ids descend */
    firn_ice_scan *sc = firn_ice_scan_table(f.t, NULL, &f.err);
    CHECK(sc != NULL);
    firn_ice_scan_batch b;
    char last_file[1024] = "";
    int64_t prev = INT64_MAX;
    size_t files = 0, nrows = 0;
    while (firn_ice_scan_next_batch(sc, &b, &f.err) == 1)
        for (size_t i = 0; i < b.nrows; i++) {
            if (strcmp(last_file, b.file_path) != 0) {
                snprintf(last_file, sizeof last_file, "%s", b.file_path);
                prev = INT64_MAX;
                files++;
            }
            int64_t id = ((const int64_t *)b.columns[0].values)[i];
            if (id >= prev) {
                firn_ice_scan_free(sc);
                CHECK_MSG(false, "id %lld after %lld in %s", (long long)id, (long long)prev, last_file);
            }
            prev = id;
            nrows++;
        }
    firn_ice_scan_free(sc);
    CHECK_EQ_INT(files, NCAT);
    CHECK_EQ_INT(nrows, 40);
    fx_close(&f);
}
