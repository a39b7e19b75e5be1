/* test_iceberg_producer.c - snapshot producers (producer.c): merge append merging
 * manifests at commit.manifest.min-count-to-merge with EXISTING entries keeping
 * their sequence numbers and snapshot ids; replace of files surviving a concurrent
 * append and aborting on a concurrent delete of a removed file; delete of whole
 * files by filter (refusing a filter that matches part of a file). Data files are
 * described, not written: commits only read metadata, manifests and lists. */
#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "io/io.h"
#include "fixture.h"
#include "test.h"

#include <stdlib.h>

static const char SCHEMA_JSON[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"}]}";

typedef struct fixture {
    firn_catalog *cat;
    firn_ice_table *t;
    firn_arena a;
    char wh[600];
} fixture;

static int fixture_open(fixture *f, const char *name, const char *min_count, firn_error *err) {
    memset(f, 0, sizeof *f);
    firn_arena_init(&f->a, 0);
    static const char *const db[] = {"db", NULL};
    if (firn_test_warehouse_open("producer", name, true, db, f->wh, sizeof f->wh, &f->cat, err))
        return -1;
    firn_ice_kv merge = {"commit.manifest.min-count-to-merge", min_count};
    return firn_test_table_create(f->cat, &f->a, "db", "t", SCHEMA_JSON, NULL, &merge, 1, &f->t,
                                  err);
}

static void fixture_close(fixture *f) {
    firn_ice_table_free(f->t);
    firn_cat_free(f->cat);
    firn_arena_release(&f->a);
}

/* A described data file data/<name>.parquet holding ids [lo, hi]. */
static firn_ice_data_file *dfile(fixture *f, const char *name, int64_t lo, int64_t hi) {
    firn_ice_data_file *df = firn_arena_calloc(&f->a, sizeof *df);
    char path[800];
    snprintf(path, sizeof path, "file:%s/db/t/data/%s.parquet", f->wh, name);
    df->content = FIRN_ICE_CONTENT_DATA;
    df->file_path = firn_arena_strdup(&f->a, path);
    df->file_format = "PARQUET";
    df->record_count = hi - lo + 1;
    df->file_size_in_bytes = 1000 + lo;
    firn_ice_metric *m = firn_arena_calloc(&f->a, 2 * sizeof *m);
    m[0] = (firn_ice_metric){1, hi - lo + 1};
    m[1] = (firn_ice_metric){1, 0};
    df->nvalue_counts = df->nnull_value_counts = 1;
    df->value_counts = &m[0];
    df->null_value_counts = &m[1];
    firn_ice_bound *b = firn_arena_calloc(&f->a, 2 * sizeof *b);
    uint8_t *bytes = firn_arena_alloc(&f->a, 16);
    for (int i = 0; i < 8; i++) {
        bytes[i] = (uint8_t)((uint64_t)lo >> (8 * i));
        bytes[8 + i] = (uint8_t)((uint64_t)hi >> (8 * i));
    }
    b[0] = (firn_ice_bound){1, bytes, 8};
    b[1] = (firn_ice_bound){1, bytes + 8, 8};
    df->nlower_bounds = df->nupper_bounds = 1;
    df->lower_bounds = &b[0];
    df->upper_bounds = &b[1];
    return df;
}

static int commit_op(firn_ice_table *t, const char *op, const firn_ice_data_file *const *add,
                     size_t nadd, const char *const *rm, size_t nrm, const char *where,
                     firn_arena *a, int64_t *snap, firn_error *err) {
    firn_ice_producer *p = firn_ice_producer_new(t, NULL, op, err);
    if (!p) return -1;
    int rc = 0;
    for (size_t i = 0; i < nadd && rc == 0; i++) rc = firn_ice_producer_add_file(p, add[i], err);
    for (size_t i = 0; i < nrm && rc == 0; i++) rc = firn_ice_producer_remove_file(p, rm[i], err);
    if (rc == 0 && where) {
        firn_ice_expr *e = firn_ice_expr_parse(a, where, err);
        rc = e ? firn_ice_producer_delete_where(p, e, err) : -1;
    }
    if (rc == 0) rc = firn_ice_producer_commit(p, NULL, err);
    if (snap) *snap = firn_ice_producer_snapshot_id(p);
    firn_ice_producer_free(p);
    return rc;
}

/* The current snapshot's manifests and entries (all statuses). */
typedef struct view {
    size_t nmf;
    firn_ice_manifest_file *mfs;
    size_t n;
    firn_ice_manifest_entry e[256];
} view;

static int read_view(firn_ice_table *t, firn_arena *a, view *v, firn_error *err) {
    memset(v, 0, sizeof *v);
    const firn_ice_snapshot *s = firn_ice_metadata_current_snapshot(t->metadata);
    if (!s) return 0;
    if (firn_ice_manifest_list_read(t->io, s->manifest_list, a, &v->mfs, &v->nmf, NULL, err))
        return -1;
    for (size_t i = 0; i < v->nmf; i++) {
        firn_ice_manifest_reader *r = firn_ice_manifest_reader_open(t->io, v->mfs[i].manifest_path, err);
        if (!r || firn_ice_manifest_reader_inherit(r, &v->mfs[i], err)) {
            firn_ice_manifest_reader_free(r);
            return -1;
        }
        int got;
        while (v->n < 256 && (got = firn_ice_manifest_reader_next(r, a, &v->e[v->n], err)) == 1) v->n++;
        firn_ice_manifest_reader_free(r);
    }
    return 0;
}

static const firn_ice_manifest_entry *find(const view *v, const char *suffix, int status) {
    for (size_t i = 0; i < v->n; i++) {
        const char *p = v->e[i].data_file.file_path;
        size_t lp = strlen(p), ls = strlen(suffix);
        if ((int)v->e[i].status == status && lp >= ls && strcmp(p + lp - ls, suffix) == 0)
            return &v->e[i];
    }
    return NULL;
}

static size_t nlive(const view *v) {
    size_t n = 0;
    for (size_t i = 0; i < v->n; i++) n += v->e[i].status != FIRN_ICE_DELETED;
    return n;
}

static const char *sum(firn_ice_table *t, const char *k) {
    const char *v = firn_ice_snapshot_summary_get(firn_ice_metadata_current_snapshot(t->metadata), k);
    return v ? v : "(none)";
}

FIRN_TEST(ice_producer_merge_append_merges_at_min_count) {
    firn_error err;
    firn_error_init(&err);
    fixture f;
    CHECK_OK(fixture_open(&f, "merge", "5", &err), &err);
    int64_t ids[6];
    char name[32];
    view v;
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "f%d", i);
        const firn_ice_data_file *df = dfile(&f, name, i * 10, i * 10 + 9);
        CHECK_OK(commit_op(f.t, "append", &df, 1, NULL, 0, NULL, &f.a, &ids[i], &err), &err);
        CHECK_OK(read_view(f.t, &f.a, &v, &err), &err);
        CHECK_EQ_INT(v.nmf, i + 1); /* below the minimum: one manifest per commit */
    }
    const firn_ice_data_file *df = dfile(&f, "f4", 40, 49);
    CHECK_OK(commit_op(f.t, "append", &df, 1, NULL, 0, NULL, &f.a, &ids[4], &err), &err);
    CHECK_OK(read_view(f.t, &f.a, &v, &err), &err);
    CHECK_EQ_INT(v.nmf, 1); /* five manifests: merged */
    CHECK_EQ_INT(v.n, 5);
    CHECK_EQ_INT(v.mfs[0].added_snapshot_id, ids[4]);
    CHECK_EQ_INT(v.mfs[0].sequence_number, 5);
    CHECK_EQ_INT(v.mfs[0].min_sequence_number, 1);
    CHECK_EQ_INT(v.mfs[0].added_files_count, 1);
    CHECK_EQ_INT(v.mfs[0].existing_files_count, 4);
    const firn_ice_manifest_entry *e = find(&v, "/f4.parquet", FIRN_ICE_ADDED);
    CHECK(e);
    CHECK_EQ_INT(e->snapshot_id, ids[4]);
    CHECK_EQ_INT(e->sequence_number, 5);
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "/f%d.parquet", i);
        e = find(&v, name, FIRN_ICE_EXISTING);
        CHECK_MSG(e, "%s not EXISTING", name);
        CHECK_EQ_INT(e->snapshot_id, ids[i]);
        CHECK_EQ_INT(e->sequence_number, i + 1);
        CHECK_EQ_INT(e->file_sequence_number, i + 1);
    }
    CHECK_EQ_STR(sum(f.t, "total-records"), "50");
    CHECK_EQ_STR(sum(f.t, "total-data-files"), "5");
    /* disabled: a new manifest again */
    firn_ice_producer *p = firn_ice_producer_new(f.t, NULL, "append", &err);
    CHECK(p);
    firn_ice_producer_set_merge(p, 0);
    df = dfile(&f, "f5", 50, 59);
    CHECK_OK(firn_ice_producer_add_file(p, df, &err), &err);
    CHECK_OK(firn_ice_producer_commit(p, NULL, &err), &err);
    firn_ice_producer_free(p);
    CHECK_OK(read_view(f.t, &f.a, &v, &err), &err);
    CHECK_EQ_INT(v.nmf, 2);
    fixture_close(&f);
    firn_error_release(&err);
}

FIRN_TEST(ice_producer_merge_drops_old_deleted_entries) {
    firn_error err;
    firn_error_init(&err);
    fixture f;
    CHECK_OK(fixture_open(&f, "mergedel", "3", &err), &err);
    const firn_ice_data_file *a = dfile(&f, "a", 0, 9), *b = dfile(&f, "b", 10, 19);
    const firn_ice_data_file *ab[] = {a, b};
    CHECK_OK(commit_op(f.t, "append", ab, 2, NULL, 0, NULL, &f.a, NULL, &err), &err);
    const char *rm[] = {a->file_path};
    CHECK_OK(commit_op(f.t, "delete", NULL, 0, rm, 1, NULL, &f.a, NULL, &err), &err);
    view v;
    CHECK_OK(read_view(f.t, &f.a, &v, &err), &err);
    CHECK(find(&v, "/a.parquet", FIRN_ICE_DELETED));
    const firn_ice_data_file *c = dfile(&f, "c", 20, 29), *d = dfile(&f, "d", 30, 39);
    CHECK_OK(commit_op(f.t, "append", &c, 1, NULL, 0, NULL, &f.a, NULL, &err), &err);
    CHECK_OK(commit_op(f.t, "append", &d, 1, NULL, 0, NULL, &f.a, NULL, &err), &err);
    CHECK_OK(read_view(f.t, &f.a, &v, &err), &err);
    CHECK_EQ_INT(v.nmf, 1);
    CHECK(!find(&v, "/a.parquet", FIRN_ICE_DELETED)); /* dropped when merged */
    CHECK_EQ_INT(v.n, 3);
    CHECK_EQ_STR(sum(f.t, "total-records"), "30");
    fixture_close(&f);
    firn_error_release(&err);
}

FIRN_TEST(ice_producer_replace_survives_concurrent_append) {
    firn_error err;
    firn_error_init(&err);
    fixture f;
    CHECK_OK(fixture_open(&f, "replace", "100", &err), &err);
    const firn_ice_data_file *a = dfile(&f, "a", 0, 9), *b = dfile(&f, "b", 10, 19);
    const firn_ice_data_file *ab[] = {a, b};
    int64_t s1;
    CHECK_OK(commit_op(f.t, "append", ab, 2, NULL, 0, NULL, &f.a, &s1, &err), &err);
    /* a stale copy of the table: the compaction planned on it */
    firn_ice_table *stale = NULL;
    CHECK_OK(firn_ice_table_load(f.cat, "db", "t", &stale, &err), &err);
    const firn_ice_data_file *c = dfile(&f, "c", 20, 29);
    CHECK_OK(commit_op(f.t, "append", &c, 1, NULL, 0, NULL, &f.a, NULL, &err), &err);
    const firn_ice_data_file *ab2 = dfile(&f, "ab", 0, 19);
    const char *rm[] = {a->file_path, b->file_path};
    int64_t s3;
    CHECK_OK(commit_op(stale, "replace", &ab2, 1, rm, 2, NULL, &f.a, &s3, &err), &err);
    view v;
    CHECK_OK(read_view(stale, &f.a, &v, &err), &err);
    CHECK_EQ_STR(sum(stale, "operation"), "replace");
    CHECK_EQ_STR(sum(stale, "deleted-data-files"), "2");
    CHECK_EQ_STR(sum(stale, "added-data-files"), "1");
    CHECK_EQ_STR(sum(stale, "total-records"), "30");
    CHECK_EQ_STR(sum(stale, "total-data-files"), "2");
    CHECK_EQ_INT(nlive(&v), 2);
    CHECK(find(&v, "/c.parquet", FIRN_ICE_EXISTING) || find(&v, "/c.parquet", FIRN_ICE_ADDED));
    CHECK(find(&v, "/ab.parquet", FIRN_ICE_ADDED));
    const firn_ice_manifest_entry *e = find(&v, "/a.parquet", FIRN_ICE_DELETED);
    CHECK(e);
    CHECK_EQ_INT(e->snapshot_id, s3);
    CHECK_EQ_INT(e->sequence_number, 1); /* keeps its data sequence number */
    /* a concurrent delete of a removed file aborts the replace */
    firn_ice_table *stale2 = NULL;
    CHECK_OK(firn_ice_table_load(f.cat, "db", "t", &stale2, &err), &err);
    const char *rmc[] = {c->file_path};
    CHECK_OK(commit_op(f.t, "delete", NULL, 0, rmc, 1, NULL, &f.a, NULL, &err), &err);
    const firn_ice_data_file *c2 = dfile(&f, "c2", 20, 29);
    int64_t before = firn_ice_metadata_current_snapshot(f.t->metadata)->snapshot_id;
    CHECK(commit_op(stale2, "replace", &c2, 1, rmc, 1, NULL, &f.a, NULL, &err) != 0);
    CHECK_MSG(strstr(firn_test_errtext(&err), "not live"), "error: %s", firn_test_errtext(&err));
    firn_error_release(&err);
    firn_error_init(&err);
    CHECK_OK(firn_ice_table_refresh(f.t, &err), &err);
    CHECK_EQ_INT(firn_ice_metadata_current_snapshot(f.t->metadata)->snapshot_id, before);
    /* removing a file that never existed fails too */
    const char *rmx[] = {"file:/nope.parquet"};
    CHECK(commit_op(f.t, "delete", NULL, 0, rmx, 1, NULL, &f.a, NULL, &err) != 0);
    firn_ice_table_free(stale);
    firn_ice_table_free(stale2);
    fixture_close(&f);
    firn_error_release(&err);
}

FIRN_TEST(ice_producer_delete_by_filter_whole_files) {
    firn_error err;
    firn_error_init(&err);
    fixture f;
    CHECK_OK(fixture_open(&f, "delfilter", "100", &err), &err);
    const firn_ice_data_file *fs[] = {dfile(&f, "x0", 0, 9), dfile(&f, "x1", 10, 19),
                                      dfile(&f, "x2", 20, 29)};
    CHECK_OK(commit_op(f.t, "append", fs, 3, NULL, 0, NULL, &f.a, NULL, &err), &err);
    int64_t before = firn_ice_metadata_current_snapshot(f.t->metadata)->snapshot_id;
    /* matches part of x2: refused, table unchanged */
    CHECK(commit_op(f.t, "delete", NULL, 0, NULL, 0, "id < 25", &f.a, NULL, &err) != 0);
    CHECK_MSG(strstr(firn_test_errtext(&err), "only part"), "error: %s", firn_test_errtext(&err));
    firn_error_release(&err);
    firn_error_init(&err);
    CHECK_EQ_INT(firn_ice_metadata_current_snapshot(f.t->metadata)->snapshot_id, before);
    CHECK_OK(commit_op(f.t, "delete", NULL, 0, NULL, 0, "id < 20", &f.a, NULL, &err), &err);
    view v;
    CHECK_OK(read_view(f.t, &f.a, &v, &err), &err);
    CHECK_EQ_STR(sum(f.t, "operation"), "delete");
    CHECK_EQ_STR(sum(f.t, "deleted-data-files"), "2");
    CHECK_EQ_STR(sum(f.t, "deleted-records"), "20");
    CHECK_EQ_STR(sum(f.t, "total-records"), "10");
    CHECK_EQ_INT(nlive(&v), 1);
    CHECK(find(&v, "/x2.parquet", FIRN_ICE_EXISTING));
    CHECK(find(&v, "/x0.parquet", FIRN_ICE_DELETED));
    CHECK(find(&v, "/x1.parquet", FIRN_ICE_DELETED));
    /* a filter matching nothing commits an empty delete */
    CHECK_OK(commit_op(f.t, "delete", NULL, 0, NULL, 0, "id > 100", &f.a, NULL, &err), &err);
    CHECK_EQ_STR(sum(f.t, "total-records"), "10");
    fixture_close(&f);
    firn_error_release(&err);
}

/* One handle committing fast appends back to back builds each manifest list on the
 * one it wrote before (kept in memory, not read back); another handle's commit in
 * between makes it read the list from disk. Either way every list on disk holds the
 * manifests of all earlier appends, newest first, each with the sequence number
 * and snapshot id of the append that added it and its exact file length. */
FIRN_TEST(ice_producer_fast_append_lists_chain) {
    fixture f;
    firn_error err;
    firn_error_init(&err);
    CHECK_MSG(fixture_open(&f, "chain", "100", &err) == 0, "%s", firn_test_errtext(&err));
    firn_ice_table *other = NULL;
    CHECK_OK(firn_ice_table_load(f.cat, "db", "t", &other, &err), &err);
    int64_t ids[7];
    for (int k = 0; k < 7; k++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", k);
        const firn_ice_data_file *df = dfile(&f, name, k * 10, k * 10 + 9);
        firn_ice_table *t = k == 4 ? other : f.t; /* commit 5 through the other handle */
        if (k == 4) CHECK_OK(firn_ice_table_refresh(other, &err), &err);
        firn_ice_producer *p = firn_ice_producer_new(t, NULL, "append", &err);
        CHECK(p);
        firn_ice_producer_set_merge(p, 0);
        CHECK_OK(firn_ice_producer_add_file(p, df, &err), &err);
        CHECK_OK(firn_ice_producer_commit(p, NULL, &err), &err);
        ids[k] = firn_ice_producer_snapshot_id(p);
        firn_ice_producer_free(p);

        firn_arena a;
        firn_arena_init(&a, 0);
        const firn_ice_snapshot *s = firn_ice_metadata_current_snapshot(t->metadata);
        CHECK(s && s->snapshot_id == ids[k] && s->sequence_number == k + 1);
        firn_ice_manifest_file *mfs = NULL;
        size_t n = 0;
        CHECK_OK(firn_ice_manifest_list_read(t->io, s->manifest_list, &a, &mfs, &n, NULL, &err),
                 &err);
        CHECK_EQ_INT(n, k + 1);
        for (size_t i = 0; i < n && i <= (size_t)k; i++) {
            int j = k - (int)i; /* newest first */
            CHECK_EQ_INT(mfs[i].sequence_number, j + 1);
            CHECK_EQ_INT(mfs[i].min_sequence_number, j + 1);
            CHECK(mfs[i].added_snapshot_id == ids[j]);
            CHECK_EQ_INT(mfs[i].added_files_count, 1);
            CHECK_EQ_INT(mfs[i].added_rows_count, 10);
            firn_io_stat st;
            CHECK_OK(firn_io_stat_file(t->io, mfs[i].manifest_path, &st, &err), &err);
            CHECK_EQ_INT(mfs[i].manifest_length, (int64_t)st.size);
        }
        firn_arena_release(&a);
        if (k == 4) CHECK_OK(firn_ice_table_refresh(f.t, &err), &err);
    }
    CHECK_EQ_STR(sum(f.t, "total-records"), "70");
    firn_ice_table_free(other);
    fixture_close(&f);
    firn_error_release(&err);
}
