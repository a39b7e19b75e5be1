/* test_iceberg_table.c - table operations on the SQLite catalog: create and
 * load, commits (metadata file names, metadata-log, version-hint, old
 * metadata deleted per the table's properties), lost races re-applied on the
 * new base, forked concurrent committers, definite failures leaving no
 * orphan metadata file, crash points, multi-table commits, and refs
 * (branches, tags, fast-forward). */
#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "io/io.h"
#include "fixture.h"
#include "test.h"

#include <dirent.h>
#include <signal.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char SCHEMA_JSON[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"name\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":3,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"}]}";

/* A fresh warehouse directory and SQLite catalog under the scratch dir, with
 * namespace "db". */
static firn_catalog *open_catalog(const char *name, char *warehouse, size_t n) {
    firn_catalog *cat = NULL;
    firn_error err;
    firn_error_init(&err);
    bool exists = false;
    if (firn_test_warehouse_open("tables", name, true, NULL, warehouse, n, &cat, &err) ||
        firn_cat_namespace_exists(cat, "db", &exists, &err) ||
        (!exists && firn_cat_create_namespace(cat, "db", NULL, &err))) {
        printf("    catalog of %s: %s\n", warehouse, firn_test_errtext(&err));
        firn_cat_free(cat);
        cat = NULL;
    }
    firn_error_release(&err);
    return cat;
}

static firn_ice_schema *test_schema(firn_arena *a) {
    return firn_ice_schema_parse(a, SCHEMA_JSON, strlen(SCHEMA_JSON), NULL);
}

/* Create db.<name> with extra properties (NULL-terminated key, value list). */
static firn_ice_table *create_table(firn_catalog *cat, const char *name, const char *const *kv) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_kv props[16];
    size_t np = 0;
    for (size_t i = 0; kv && kv[i]; i += 2) props[np++] = (firn_ice_kv){kv[i], kv[i + 1]};
    firn_ice_table_options opts = {0};
    opts.properties = props;
    opts.nproperties = np;
    firn_ice_table *t = NULL;
    firn_error err;
    firn_error_init(&err);
    if (firn_ice_table_create(cat, "db", name, test_schema(&a), NULL, NULL, &opts, &t, &err))
        printf("    create %s: %s\n", name, firn_test_errtext(&err));
    firn_error_release(&err);
    firn_arena_release(&a);
    return t;
}

/* Files named *.metadata.json in <table dir>/metadata. */
static int count_metadata_files(const char *warehouse, const char *table) {
    char dir[800];
    snprintf(dir, sizeof dir, "%s/db/%s/metadata", warehouse, table);
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 14 && strcmp(e->d_name + l - 14, ".metadata.json") == 0) n++;
    }
    closedir(d);
    return n;
}

static bool file_exists(const char *location) {
    const char *p = strncmp(location, "file:", 5) == 0 ? location + 5 : location;
    struct stat st;
    return stat(p, &st) == 0;
}

static char *read_text(const char *path) {
    uint8_t *data = NULL;
    size_t len;
    if (firn_read_file(path, &data, &len, NULL)) return NULL;
    char *s = malloc(len + 1);
    memcpy(s, data, len);
    s[len] = 0;
    free(data);
    return s;
}

/* Update: set one property key = value. */
typedef struct set_prop {
    const char *key, *value;
    int calls;
} set_prop;

static int apply_set_prop(void *ctx, firn_ice_metadata *md, firn_error *err) {
    set_prop *s = ctx;
    s->calls++;
    firn_ice_kv kv = {s->key, s->value};
    return firn_ice_metadata_set_properties(md, &kv, 1, err);
}

static int commit_prop(firn_ice_table *t, const char *key, const char *value, firn_error *err) {
    set_prop s = {key, value, 0};
    firn_ice_update u = {apply_set_prop, NULL, &s};
    return firn_ice_table_commit(t, &u, 1, NULL, err);
}

/* Update: counter = counter + 1 (a read-modify-write of the base). */
static int apply_increment(void *ctx, firn_ice_metadata *md, firn_error *err) {
    int *calls = ctx;
    (*calls)++;
    int64_t v = firn_ice_metadata_property_int(md, "test.counter", 0);
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)(v + 1));
    firn_ice_kv kv = {"test.counter", buf};
    return firn_ice_metadata_set_properties(md, &kv, 1, err);
}

/* Update: inner, but on its first call another writer first commits a property
 * change through the handle other (an earlier load of the same table): every
 * attempt starts from the catalog's latest metadata, so a race must happen
 * inside the attempt to make it lose the compare-and-swap. */
typedef struct racing {
    firn_ice_update inner;
    firn_ice_table *other;
    const char *key;
    int calls;
} racing;

static int apply_racing(void *ctx, firn_ice_metadata *md, firn_error *err) {
    racing *r = ctx;
    if (r->calls++ == 0) {
        firn_error e;
        firn_error_init(&e);
        int rc = commit_prop(r->other, r->key, "1", &e);
        firn_error_release(&e);
        if (rc) return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "test: the racing commit failed");
    }
    return r->inner.apply(r->inner.ctx, md, err);
}

/* Update: a snapshot (metadata only: its manifest list is never read) on
 * branch (NULL: main), parented on the branch head (or main's for a new branch). */
typedef struct add_snap {
    const char *branch;
    int64_t id;
} add_snap;

static int apply_add_snap(void *ctx, firn_ice_metadata *md, firn_error *err) {
    add_snap *s = ctx;
    const char *branch = s->branch ? s->branch : FIRN_ICE_MAIN_BRANCH;
    const firn_ice_ref *head = firn_ice_metadata_ref(md, branch);
    int64_t parent = head ? head->snapshot_id : md->current_snapshot_id;
    firn_ice_snapshot snap = {0};
    snap.snapshot_id = firn_ice_metadata_new_snapshot_id(md);
    snap.has_parent = parent >= 0;
    snap.parent_snapshot_id = parent;
    snap.sequence_number = md->last_sequence_number + 1;
    snap.timestamp_ms = md->last_updated_ms;
    char ml[128];
    snprintf(ml, sizeof ml, "file:/nonexistent/snap-%lld.avro", (long long)snap.snapshot_id);
    snap.manifest_list = ml;
    firn_ice_kv summary[] = {{"operation", "append"}};
    snap.summary = summary;
    snap.nsummary = 1;
    snap.has_schema_id = true;
    snap.schema_id = md->current_schema_id;
    if (firn_ice_metadata_add_snapshot(md, &snap, err)) return -err->kind;
    firn_ice_ref r = head ? *head : firn_ice_ref_make(branch, snap.snapshot_id, FIRN_ICE_REF_BRANCH);
    r.snapshot_id = snap.snapshot_id;
    s->id = snap.snapshot_id;
    return firn_ice_metadata_set_snapshot_ref(md, &r, err);
}

static int64_t commit_snapshot(firn_ice_table *t, const char *branch, firn_error *err) {
    add_snap s = {branch, -1};
    firn_ice_update u = {apply_add_snap, NULL, &s};
    if (firn_ice_table_commit(t, &u, 1, NULL, err)) return -1;
    return s.id;
}

/* Update: inner, but on its first call other commits a snapshot to main. */
typedef struct ff_race {
    firn_ice_update inner;
    firn_ice_table *other;
    int calls;
} ff_race;

static int apply_ff_racing(void *ctx, firn_ice_metadata *md, firn_error *err) {
    ff_race *r = ctx;
    if (r->calls++ == 0) {
        firn_error e;
        firn_error_init(&e);
        int64_t id = commit_snapshot(r->other, NULL, &e);
        firn_error_release(&e);
        if (id < 0) return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "test: the racing commit failed");
    }
    return r->inner.apply(r->inner.ctx, md, err);
}

/* ------------------------------------------------------------ create / load */

FIRN_TEST(ice_table_create_and_load) {
    firn_error err;
    firn_error_init(&err);
    char wh[512];
    firn_catalog *cat = open_catalog("create", wh, sizeof wh);
    CHECK(cat);
    const char *kv[] = {"owner", "firn-tests", "write.target-file-size-bytes", "1024", NULL};
    firn_ice_table *t = create_table(cat, "events", kv);
    CHECK(t);
    /* <warehouse>/db/events/metadata/00000-<uuid>.metadata.json */
    char prefix[700];
    snprintf(prefix, sizeof prefix, "file:%s/db/events/metadata/00000-", wh);
    CHECK_MSG(strncmp(t->metadata_location, prefix, strlen(prefix)) == 0, "location %s",
              t->metadata_location);
    const char *name = strrchr(t->metadata_location, '/') + 1;
    CHECK_EQ_INT(strlen(name), 6 + 36 + 14);
    uint8_t u[16];
    char uuid[37];
    memcpy(uuid, name + 6, 36);
    uuid[36] = 0;
    CHECK_EQ_INT(firn_ice_uuid_parse(uuid, u), 0);
    CHECK_EQ_STR(name + 42, ".metadata.json");
    CHECK_EQ_INT(firn_ice_metadata_file_version(t->metadata_location), 0);
    CHECK(file_exists(t->metadata_location));
    /* firn's defaults, with the caller's override */
    const firn_ice_metadata *md = t->metadata;
    CHECK_EQ_STR(firn_ice_metadata_property(md, "write.parquet.compression-codec"), "zstd");
    CHECK_EQ_STR(firn_ice_metadata_property(md, "write.metadata.delete-after-commit.enabled"),
                 "true");
    CHECK_EQ_STR(firn_ice_metadata_property(md, "write.metadata.previous-versions-max"), "100");
    CHECK_EQ_STR(firn_ice_metadata_property(md, "commit.manifest-merge.enabled"), "true");
    CHECK_EQ_STR(firn_ice_metadata_property(md, "write.target-file-size-bytes"), "1024");
    CHECK_EQ_STR(firn_ice_metadata_property(md, "owner"), "firn-tests");
    CHECK_EQ_INT(md->format_version, 2);
    char loc[700];
    snprintf(loc, sizeof loc, "file:%s/db/events", wh);
    CHECK_EQ_STR(md->location, loc);
    /* the version hint names the file without .metadata.json */
    char hint[800];
    snprintf(hint, sizeof hint, "%s/db/events/metadata/version-hint.text", wh);
    char *h = read_text(hint);
    CHECK(h);
    CHECK_MSG(strlen(h) == 42 && strncmp(h, name, 42) == 0, "hint '%s'", h);
    free(h);

    /* load: catalog -> location -> metadata */
    firn_ice_table *t2 = NULL;
    CHECK_OK(firn_ice_table_load(cat, "db", "events", &t2, &err), &err);
    CHECK_EQ_STR(t2->metadata_location, t->metadata_location);
    CHECK_EQ_STR(t2->metadata->table_uuid, t->metadata->table_uuid);
    CHECK_EQ_INT(t2->metadata->last_column_id, 3);

    /* a second create: a clear conflict, nothing new on disk */
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_table *t3 = NULL;
    int rc = firn_ice_table_create(cat, "db", "events", test_schema(&a), NULL, NULL, NULL, &t3,
                                   &err);
    CHECK(rc != 0 && err.kind == FIRN_ERR_CONFLICT && !err.retriable && !t3);
    CHECK_MSG(strstr(firn_test_errtext(&err), "already exists"), "%s", firn_test_errtext(&err));
    CHECK_EQ_INT(count_metadata_files(wh, "events"), 1);
    /* a missing namespace: refused, no orphan metadata file */
    rc = firn_ice_table_create(cat, "nope", "x", test_schema(&a), NULL, NULL, NULL, &t3, &err);
    CHECK(rc != 0 && !t3);
    firn_error_release(&err);
    /* load of a missing table */
    rc = firn_ice_table_load(cat, "db", "missing", &t3, &err);
    CHECK(rc != 0 && err.kind == FIRN_ERR_NOT_FOUND);

    firn_arena_release(&a);
    firn_ice_table_free(t);
    firn_ice_table_free(t2);
    firn_cat_free(cat);
    firn_error_release(&err);
}

FIRN_TEST(ice_table_metadata_file_version) {
    CHECK_EQ_INT(firn_ice_metadata_file_version("file:/t/metadata/00012-abc.metadata.json"), 12);
    CHECK_EQ_INT(firn_ice_metadata_file_version("00000-x.metadata.json"), 0);
    CHECK_EQ_INT(firn_ice_metadata_file_version("s3://b/t/metadata/123456-u.metadata.json"), 123456);
    CHECK_EQ_INT(firn_ice_metadata_file_version("file:/t/metadata/v3.metadata.json"), -1);
    CHECK_EQ_INT(firn_ice_metadata_file_version("file:/t-1/metadata/v3.metadata.json"), -1);
    CHECK_EQ_INT(firn_ice_metadata_file_version("file:/t/metadata/x1-u.metadata.json"), -1);
    CHECK_EQ_INT(firn_ice_metadata_file_version("file:/t/metadata/99999999999-u.metadata.json"), -1);
}

/* ------------------------------------------------------------ commits */

FIRN_TEST(ice_table_commit_names_log_and_hint) {
    firn_error err;
    firn_error_init(&err);
    char wh[512];
    firn_catalog *cat = open_catalog("commit", wh, sizeof wh);
    CHECK(cat);
    firn_ice_table *t = create_table(cat, "t", NULL);
    CHECK(t);
    char *locs[4];
    int64_t stamps[4];
    locs[0] = strdup(t->metadata_location);
    stamps[0] = t->metadata->last_updated_ms;
    for (int i = 1; i <= 3; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        firn_ice_commit_info info;
        set_prop s = {"test.step", v, 0};
        firn_ice_update u = {apply_set_prop, NULL, &s};
        CHECK_OK(firn_ice_table_commit(t, &u, 1, &info, &err), &err);
        CHECK_EQ_INT(info.state, FIRN_ICE_COMMIT_DONE);
        CHECK_EQ_INT(info.attempts, 1);
        CHECK_EQ_STR(info.metadata_location, t->metadata_location);
        CHECK_EQ_INT(firn_ice_metadata_file_version(t->metadata_location), i);
        char want[16];
        snprintf(want, sizeof want, "/%05d-", i);
        CHECK_MSG(strstr(t->metadata_location, want), "%s", t->metadata_location);
        CHECK(file_exists(t->metadata_location));
        CHECK(t->metadata->last_updated_ms >= stamps[i - 1]);
        locs[i] = strdup(t->metadata_location);
        stamps[i] = t->metadata->last_updated_ms;
    }
    /* metadata-log: every earlier file, oldest first, with its last-updated-ms */
    CHECK_EQ_INT(t->metadata->nmetadata_log, 3);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_STR(t->metadata->metadata_log[i].metadata_file, locs[i]);
        CHECK_EQ_INT(t->metadata->metadata_log[i].timestamp_ms, stamps[i]);
    }
    CHECK_EQ_STR(firn_ice_metadata_property(t->metadata, "test.step"), "3");
    /* the catalog row and a fresh load agree */
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_cat_ident id = {"db", "t"};
    firn_cat_table row;
    CHECK_OK(firn_cat_load_table(cat, &id, &a, &row, &err), &err);
    CHECK_EQ_STR(row.metadata_location, locs[3]);
    CHECK_EQ_STR(row.previous_metadata_location, locs[2]);
    /* version-hint.text names the newest */
    char hint[800];
    snprintf(hint, sizeof hint, "%s/db/t/metadata/version-hint.text", wh);
    char *h = read_text(hint);
    CHECK(h);
    const char *name = strrchr(locs[3], '/') + 1;
    CHECK_MSG(strncmp(h, name, strlen(name) - 14) == 0 && strlen(h) == strlen(name) - 14,
              "hint '%s' for %s", h, name);
    free(h);
    /* an empty commit changes nothing */
    CHECK_OK(firn_ice_table_commit(t, NULL, 0, NULL, &err), &err);
    CHECK_EQ_STR(t->metadata_location, locs[3]);
    CHECK_EQ_INT(count_metadata_files(wh, "t"), 4);
    for (int i = 0; i < 4; i++) free(locs[i]);
    firn_arena_release(&a);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    firn_error_release(&err);
}

FIRN_TEST(ice_table_old_metadata_deleted_per_properties) {
    firn_error err;
    firn_error_init(&err);
    char wh[512];
    firn_catalog *cat = open_catalog("prune", wh, sizeof wh);
    CHECK(cat);
    /* keep 2 previous versions, delete the rest */
    const char *kv[] = {"write.metadata.previous-versions-max", "2", NULL};
    firn_ice_table *t = create_table(cat, "pruned", kv);
    CHECK(t);
    char *first = strdup(t->metadata_location);
    for (int i = 0; i < 5; i++) CHECK_OK(commit_prop(t, "test.i", "x", &err), &err);
    CHECK_EQ_INT(t->metadata->nmetadata_log, 2);
    CHECK_EQ_INT(count_metadata_files(wh, "pruned"), 3); /* current + 2 in the log */
    CHECK(!file_exists(first));
    for (size_t i = 0; i < t->metadata->nmetadata_log; i++)
        CHECK(file_exists(t->metadata->metadata_log[i].metadata_file));
    free(first);

    /* with delete-after-commit off every file stays (the log still trims) */
    const char *kv2[] = {"write.metadata.previous-versions-max", "2",
                         "write.metadata.delete-after-commit.enabled", "false", NULL};
    firn_ice_table *t2 = create_table(cat, "kept", kv2);
    CHECK(t2);
    for (int i = 0; i < 5; i++) CHECK_OK(commit_prop(t2, "test.i", "x", &err), &err);
    CHECK_EQ_INT(t2->metadata->nmetadata_log, 2);
    CHECK_EQ_INT(count_metadata_files(wh, "kept"), 6);
    firn_ice_table_free(t);
    firn_ice_table_free(t2);
    firn_cat_free(cat);
    firn_error_release(&err);
}

FIRN_TEST(ice_table_conflict_reapplies_on_new_base) {
    firn_error err;
    firn_error_init(&err);
    char wh[512];
    firn_catalog *cat = open_catalog("race", wh, sizeof wh);
    CHECK(cat);
    const char *kv[] = {"commit.retry.min-wait-ms", "1", NULL};
    firn_ice_table *a = create_table(cat, "t", kv);
    CHECK(a);
    firn_ice_table *b = NULL;
    CHECK_OK(firn_ice_table_load(cat, "db", "t", &b, &err), &err);
    /* a commits while b's first attempt is under way: that attempt loses, the
     * retry re-applies the increment on a's metadata */
    int calls_b = 0;
    racing r = {{apply_increment, NULL, &calls_b}, a, "test.by-a", 0};
    firn_ice_update ub = {apply_racing, NULL, &r};
    firn_ice_commit_info info;
    CHECK_OK(firn_ice_table_commit(b, &ub, 1, &info, &err), &err);
    CHECK_EQ_INT(calls_b, 2);
    CHECK_EQ_INT(info.attempts, 2);
    CHECK_EQ_STR(firn_ice_metadata_property(b->metadata, "test.counter"), "1");
    CHECK_EQ_STR(firn_ice_metadata_property(b->metadata, "test.by-a"), "1");
    CHECK_EQ_INT(firn_ice_metadata_file_version(b->metadata_location), 2);
    /* the losing attempt's file was deleted: 00000, 00001 (a), 00002 (b) */
    CHECK_EQ_INT(count_metadata_files(wh, "t"), 3);
    /* b's log chains through a's commit */
    CHECK_EQ_INT(b->metadata->nmetadata_log, 2);
    CHECK_EQ_STR(b->metadata->metadata_log[1].metadata_file, a->metadata_location);
    /* a refreshes onto b's commit */
    CHECK_OK(firn_ice_table_refresh(a, &err), &err);
    CHECK_EQ_STR(a->metadata_location, b->metadata_location);
    firn_ice_table_free(a);
    firn_ice_table_free(b);
    firn_cat_free(cat);
    firn_error_release(&err);
}

static int apply_fail(void *ctx, firn_ice_metadata *md, firn_error *err) {
    (void)ctx;
    (void)md;
    return FIRN_RAISE(err, FIRN_ERR_INVALID, "test: refusing this change");
}

typedef struct finish_log {
    int calls;
    firn_ice_commit_state state;
} finish_log;

static void record_finish(void *ctx, firn_ice_commit_state state) {
    finish_log *f = ctx;
    f->calls++;
    f->state = state;
}

static int apply_noop(void *ctx, firn_ice_metadata *md, firn_error *err) {
    (void)ctx;
    (void)md;
    (void)err;
    return 0;
}

FIRN_TEST(ice_table_definite_failures_leave_no_orphan) {
    firn_error err;
    firn_error_init(&err);
    char wh[512];
    firn_catalog *cat = open_catalog("fail", wh, sizeof wh);
    CHECK(cat);
    firn_ice_table *t = create_table(cat, "t", NULL);
    CHECK(t);
    char *loc0 = strdup(t->metadata_location);
    /* an update that refuses: no file, no retry, finish told FAILED */
    int calls = 0;
    finish_log fl = {0};
    firn_ice_update u[2] = {{apply_increment, NULL, &calls}, {apply_fail, record_finish, &fl}};
    firn_ice_commit_info info;
    int rc = firn_ice_table_commit(t, u, 2, &info, &err);
    CHECK(rc != 0);
    CHECK_MSG(strstr(firn_test_errtext(&err), "refusing this change"), "%s", firn_test_errtext(&err));
    CHECK_EQ_INT(calls, 1);
    CHECK_EQ_INT(info.attempts, 1);
    CHECK_EQ_INT(info.state, FIRN_ICE_COMMIT_FAILED);
    CHECK_EQ_INT(fl.calls, 1);
    CHECK_EQ_INT(fl.state, FIRN_ICE_COMMIT_FAILED);
    CHECK_EQ_INT(count_metadata_files(wh, "t"), 1);
    CHECK_EQ_STR(t->metadata_location, loc0);

    /* the metadata write fails (EIO on publish): nothing left behind */
    firn_io_fault_arm("publish", 1);
    rc = commit_prop(t, "k", "v", &err);
    firn_io_fault_disarm();
    CHECK(rc != 0);
    CHECK_EQ_INT(count_metadata_files(wh, "t"), 1);
    CHECK_EQ_STR(t->metadata_location, loc0);

    /* the CAS fails definitely (table dropped meanwhile): the new file is deleted */
    firn_cat_ident id = {"db", "t"};
    firn_arena a;
    firn_arena_init(&a, 0);
    CHECK_OK(firn_cat_drop_table(cat, &id, &a, NULL, &err), &err);
    finish_log fl2 = {0};
    firn_ice_update un = {apply_noop, record_finish, &fl2};
    rc = firn_ice_table_commit(t, &un, 1, &info, &err);
    CHECK(rc != 0 && err.kind == FIRN_ERR_NOT_FOUND);
    CHECK_EQ_INT(info.state, FIRN_ICE_COMMIT_FAILED);
    CHECK_EQ_INT(fl2.state, FIRN_ICE_COMMIT_FAILED);
    CHECK_EQ_INT(count_metadata_files(wh, "t"), 1);
    /* retries exhausted on a table that keeps moving: still no orphan */
    CHECK_OK(firn_cat_register_table(cat, &id, loc0, &err), &err);
    firn_arena_release(&a);
    free(loc0);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    firn_error_release(&err);
}

/* An update that moves the table under its own feet: every attempt loses. */
typedef struct saboteur {
    firn_catalog *cat;
    int calls;
} saboteur;

static int apply_sabotage(void *ctx, firn_ice_metadata *md, firn_error *err) {
    saboteur *s = ctx;
    (void)md;
    s->calls++;
    firn_ice_table *other = NULL;
    if (firn_ice_table_load(s->cat, "db", "busy", &other, err)) return -err->kind;
    int rc = commit_prop(other, "test.other", "x", err);
    firn_ice_table_free(other);
    return rc;
}

FIRN_TEST(ice_table_retries_exhausted) {
    firn_error err;
    firn_error_init(&err);
    char wh[512];
    firn_catalog *cat = open_catalog("busy", wh, sizeof wh);
    CHECK(cat);
    const char *kv[] = {"commit.retry.min-wait-ms", "1", "commit.retry.num-retries", "2", NULL};
    firn_ice_table *t = create_table(cat, "busy", kv);
    CHECK(t);
    saboteur s = {cat, 0};
    firn_ice_update u = {apply_sabotage, NULL, &s};
    firn_ice_commit_info info;
    int rc = firn_ice_table_commit(t, &u, 1, &info, &err);
    CHECK(rc != 0 && err.kind == FIRN_ERR_CONFLICT);
    CHECK_EQ_INT(info.attempts, 3);
    CHECK_EQ_INT(s.calls, 3);
    /* 00000 + three commits by the saboteur; none of ours left */
    CHECK_EQ_INT(count_metadata_files(wh, "busy"), 4);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    firn_error_release(&err);
}

/* ------------------------------------------------------------ concurrency */

#define PROCS 4
#define COMMITS 12

static void committer(const char *wh, int proc) {
    char uri[700];
    snprintf(uri, sizeof uri, "%s", firn_test_catalog_uri(wh));
    firn_catalog *cat = NULL;
    firn_error err;
    firn_error_init(&err);
    if (firn_cat_open(uri, NULL, &cat, &err)) _exit(2);
    firn_ice_table *t = NULL;
    if (firn_ice_table_load(cat, "db", "shared", &t, &err)) _exit(3);
    char logpath[700];
    snprintf(logpath, sizeof logpath, "%s/committer.%d", wh, proc);
    FILE *log = fopen(logpath, "w");
    for (int i = 0; i < COMMITS; i++) {
        int calls = 0;
        char key[32];
        snprintf(key, sizeof key, "test.p%d.c%d", proc, i);
        set_prop mark = {key, "1", 0};
        firn_ice_update u[2] = {{apply_increment, NULL, &calls}, {apply_set_prop, NULL, &mark}};
        firn_ice_commit_info info;
        /* Java's default 4 retries suffice: a retry runs under the catalog's commit
         * lock, so it cannot lose to the other committers again */
        int rc = firn_ice_table_commit(t, u, 2, &info, &err);
        if (rc) {
            fprintf(stderr, "committer %d: %s\n", proc, firn_test_errtext(&err));
            _exit(4);
        }
        fprintf(log, "%s\n", info.metadata_location);
    }
    fclose(log);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    firn_error_release(&err);
    _exit(0);
}

FIRN_TEST(ice_table_concurrent_committers_processes) {
    firn_error err;
    firn_error_init(&err);
    char wh[512];
    firn_catalog *cat = open_catalog("concurrent", wh, sizeof wh);
    CHECK(cat);
    const char *kv[] = {"commit.retry.min-wait-ms", "2", "commit.retry.max-wait-ms", "50", NULL};
    firn_ice_table *t = create_table(cat, "shared", kv);
    CHECK(t);
    /* no handle crosses fork(): the children open their own */
    firn_ice_table_free(t);
    firn_cat_free(cat);
    fflush(stdout);
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) committer(wh, i);
    }
    for (int i = 0; i < PROCS; i++) {
        int st;
        waitpid(pids[i], &st, 0);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "committer %d: status %d", i, st);
    }
    cat = open_catalog("concurrent", wh, sizeof wh);
    CHECK(cat);
    CHECK_OK(firn_ice_table_load(cat, "db", "shared", &t, &err), &err);
    const firn_ice_metadata *md = t->metadata;
    /* every commit landed once: the counter saw each increment on its true base */
    CHECK_EQ_INT(firn_ice_metadata_property_int(md, "test.counter", 0), PROCS * COMMITS);
    for (int p = 0; p < PROCS; p++)
        for (int i = 0; i < COMMITS; i++) {
            char key[32];
            snprintf(key, sizeof key, "test.p%d.c%d", p, i);
            CHECK_MSG(firn_ice_metadata_property(md, key), "missing %s", key);
        }
    CHECK_EQ_INT(firn_ice_metadata_file_version(t->metadata_location), PROCS * COMMITS);
    /* each committer's metadata files are distinct versions 1..N */
    static bool seen[PROCS * COMMITS + 1];
    memset(seen, 0, sizeof seen);
    for (int p = 0; p < PROCS; p++) {
        char path[700], line[1100];
        snprintf(path, sizeof path, "%s/committer.%d", wh, p);
        FILE *f = fopen(path, "r");
        CHECK(f);
        int n = 0;
        while (fgets(line, sizeof line, f)) {
            int v = firn_ice_metadata_file_version(line);
            CHECK_MSG(v >= 1 && v <= PROCS * COMMITS && !seen[v], "version %d twice or bad", v);
            seen[v] = true;
            n++;
        }
        fclose(f);
        CHECK_EQ_INT(n, COMMITS);
    }
    /* losing attempts left no files: exactly one per version */
    CHECK_EQ_INT(count_metadata_files(wh, "shared"), PROCS * COMMITS + 1);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    firn_error_release(&err);
}

/* ------------------------------------------------------------ crash points */

static char crash_wh[512];

static void crash_child(const char *point) {
    setenv("FIRN_CRASH_AT", point, 1);
    char uri[700];
    snprintf(uri, sizeof uri, "%s", firn_test_catalog_uri(crash_wh));
    firn_catalog *cat = NULL;
    firn_error err;
    firn_error_init(&err);
    firn_ice_table *t = NULL;
    if (firn_cat_open(uri, NULL, &cat, &err) || firn_ice_table_load(cat, "db", "crash", &t, &err))
        _exit(2);
    commit_prop(t, "test.crash", point, &err);
    _exit(3); /* not reached when the crash point fires */
}

FIRN_TEST(ice_table_crash_points) {
    firn_error err;
    firn_error_init(&err);
    firn_catalog *cat = open_catalog("crash", crash_wh, sizeof crash_wh);
    CHECK(cat);
    firn_ice_table *t = create_table(cat, "crash", NULL);
    CHECK(t);
    static const struct {
        const char *point;
        bool committed;
    } cases[] = {
        {"commit.after-metadata-write", false},
        {"commit.after-catalog-swap", true},
        {"commit.after-version-hint", true},
        {"commit.after-metadata-cleanup", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *before = strdup(t->metadata_location);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) crash_child(cases[i].point);
        int st;
        waitpid(pid, &st, 0);
        CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "%s: status %d", cases[i].point,
                  st);
        /* the table is the old or the new version, and loads cleanly */
        CHECK_OK(firn_ice_table_refresh(t, &err), &err);
        const char *v = firn_ice_metadata_property(t->metadata, "test.crash");
        if (cases[i].committed) {
            CHECK_MSG(v && strcmp(v, cases[i].point) == 0, "%s: not committed", cases[i].point);
            CHECK(strcmp(before, t->metadata_location) != 0);
        } else {
            CHECK_EQ_STR(t->metadata_location, before);
        }
        for (size_t k = 0; k < t->metadata->nmetadata_log; k++)
            CHECK(file_exists(t->metadata->metadata_log[k].metadata_file));
        free(before);
    }
    /* a later commit goes on from whatever the crashes left */
    CHECK_OK(commit_prop(t, "test.after", "1", &err), &err);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    firn_error_release(&err);
}

/* ------------------------------------------------------------ multi-table */

FIRN_TEST(ice_table_multi_commit_all_or_none) {
    firn_error err;
    firn_error_init(&err);
    char wh[512];
    firn_catalog *cat = open_catalog("multi", wh, sizeof wh);
    CHECK(cat);
    const char *kv[] = {"commit.retry.min-wait-ms", "1", NULL};
    firn_ice_table *x = create_table(cat, "x", kv);
    firn_ice_table *y = create_table(cat, "y", kv);
    CHECK(x && y);
    int cx = 0, cy = 0;
    firn_ice_update ux = {apply_increment, NULL, &cx}, uy = {apply_increment, NULL, &cy};
    firn_ice_table_change ch[2] = {{x, &ux, 1}, {y, &uy, 1}};
    CHECK_OK(firn_ice_table_commit_multi(ch, 2, NULL, &err), &err);
    CHECK_EQ_INT(firn_ice_metadata_file_version(x->metadata_location), 1);
    CHECK_EQ_INT(firn_ice_metadata_file_version(y->metadata_location), 1);

    /* y moves under us during the first attempt: both re-apply and land together */
    firn_ice_table *y2 = NULL;
    CHECK_OK(firn_ice_table_load(cat, "db", "y", &y2, &err), &err);
    racing r = {ux, y2, "test.other", 0};
    firn_ice_update rx = {apply_racing, NULL, &r};
    firn_ice_table_change chr[2] = {{x, &rx, 1}, {y, &uy, 1}};
    firn_ice_commit_info info;
    CHECK_OK(firn_ice_table_commit_multi(chr, 2, &info, &err), &err);
    CHECK_EQ_INT(info.attempts, 2);
    CHECK_EQ_STR(firn_ice_metadata_property(x->metadata, "test.counter"), "2");
    CHECK_EQ_STR(firn_ice_metadata_property(y->metadata, "test.counter"), "2");
    CHECK_EQ_STR(firn_ice_metadata_property(y->metadata, "test.other"), "1");
    CHECK_EQ_INT(firn_ice_metadata_file_version(x->metadata_location), 2);
    CHECK_EQ_INT(firn_ice_metadata_file_version(y->metadata_location), 3);
    CHECK_EQ_INT(count_metadata_files(wh, "x"), 3);
    CHECK_EQ_INT(count_metadata_files(wh, "y"), 4);

    /* the second table's change is refused: neither table moves, no file left */
    char *xl = strdup(x->metadata_location), *yl = strdup(y->metadata_location);
    firn_ice_update bad = {apply_fail, NULL, NULL};
    firn_ice_table_change ch2[2] = {{x, &ux, 1}, {y, &bad, 1}};
    CHECK(firn_ice_table_commit_multi(ch2, 2, NULL, &err) != 0);
    CHECK_EQ_STR(x->metadata_location, xl);
    CHECK_EQ_STR(y->metadata_location, yl);
    CHECK_EQ_INT(count_metadata_files(wh, "x"), 3);
    CHECK_EQ_INT(count_metadata_files(wh, "y"), 4);
    firn_ice_table *x2 = NULL;
    CHECK_OK(firn_ice_table_load(cat, "db", "x", &x2, &err), &err);
    CHECK_EQ_STR(x2->metadata_location, xl);
    free(xl);
    free(yl);
    firn_ice_table_free(x);
    firn_ice_table_free(x2);
    firn_ice_table_free(y);
    firn_ice_table_free(y2);
    firn_cat_free(cat);
    firn_error_release(&err);
}

/* ------------------------------------------------------------ refs */

FIRN_TEST(ice_table_branches_tags_fast_forward) {
    firn_error err;
    firn_error_init(&err);
    char wh[512];
    firn_catalog *cat = open_catalog("refs", wh, sizeof wh);
    CHECK(cat);
    firn_ice_table *t = create_table(cat, "r", NULL);
    CHECK(t);
    /* no snapshot yet: a branch at "the current snapshot" is refused */
    firn_ice_ref_update dev = {FIRN_ICE_REF_CREATE, FIRN_ICE_REF_BRANCH, "dev", -1, NULL};
    CHECK(firn_ice_table_update_ref(t, &dev, &err) != 0);
    CHECK_MSG(strstr(firn_test_errtext(&err), "has none"), "%s", firn_test_errtext(&err));

    int64_t s1 = commit_snapshot(t, NULL, &err);
    CHECK_MSG(s1 > 0, "%s", firn_test_errtext(&err));
    CHECK_EQ_INT(t->metadata->current_snapshot_id, s1);
    CHECK_OK(firn_ice_table_update_ref(t, &dev, &err), &err);
    CHECK_EQ_INT(firn_ice_metadata_ref(t->metadata, "dev")->snapshot_id, s1);
    /* creating it again is an error */
    CHECK(firn_ice_table_update_ref(t, &dev, &err) != 0);
    CHECK_MSG(strstr(firn_test_errtext(&err), "already exists"), "%s", firn_test_errtext(&err));

    /* two commits on dev; main stays */
    int64_t d1 = commit_snapshot(t, "dev", &err);
    int64_t d2 = commit_snapshot(t, "dev", &err);
    CHECK(d1 > 0 && d2 > 0);
    CHECK_EQ_INT(firn_ice_metadata_snapshot(t->metadata, d2)->parent_snapshot_id, d1);
    CHECK_EQ_INT(firn_ice_metadata_snapshot(t->metadata, d1)->parent_snapshot_id, s1);
    CHECK_EQ_INT(t->metadata->current_snapshot_id, s1);
    CHECK(firn_ice_metadata_is_ancestor(t->metadata, s1, d2));
    CHECK(!firn_ice_metadata_is_ancestor(t->metadata, d2, s1));

    /* fast-forward main to dev (the WAP publish) */
    size_t log_before = t->metadata->nsnapshot_log;
    firn_ice_ref_update ff = {FIRN_ICE_REF_FAST_FORWARD, FIRN_ICE_REF_BRANCH, "main", 0, "dev"};
    CHECK_OK(firn_ice_table_update_ref(t, &ff, &err), &err);
    CHECK_EQ_INT(t->metadata->current_snapshot_id, d2);
    CHECK_EQ_INT(firn_ice_metadata_ref(t->metadata, "main")->snapshot_id, d2);
    CHECK_EQ_INT(t->metadata->nsnapshot_log, log_before + 1);
    /* again: nothing to do, still fine */
    CHECK_OK(firn_ice_table_update_ref(t, &ff, &err), &err);

    /* diverge: one commit on each; ff refuses with a clear, non-retriable error */
    int64_t m3 = commit_snapshot(t, NULL, &err);
    int64_t d3 = commit_snapshot(t, "dev", &err);
    CHECK(m3 > 0 && d3 > 0);
    char *loc = strdup(t->metadata_location);
    int files = count_metadata_files(wh, "r");
    firn_ice_commit_info info;
    firn_ice_update uff = firn_ice_update_ref(&ff);
    int rc = firn_ice_table_commit(t, &uff, 1, &info, &err);
    CHECK(rc != 0 && err.kind == FIRN_ERR_CONFLICT && !err.retriable);
    CHECK_EQ_INT(info.attempts, 1);
    CHECK_MSG(strstr(firn_test_errtext(&err), "is not an ancestor of 'dev'"), "%s", firn_test_errtext(&err));
    CHECK_EQ_STR(t->metadata_location, loc);
    CHECK_EQ_INT(count_metadata_files(wh, "r"), files);
    CHECK_EQ_INT(t->metadata->current_snapshot_id, m3);
    free(loc);

    /* fast-forward to a missing ref / of a tag */
    firn_ice_ref_update ffx = {FIRN_ICE_REF_FAST_FORWARD, FIRN_ICE_REF_BRANCH, "main", 0, "nope"};
    CHECK(firn_ice_table_update_ref(t, &ffx, &err) != 0 && err.kind == FIRN_ERR_NOT_FOUND);
    /* fast-forward of a branch that does not exist creates it (Java) */
    firn_ice_ref_update ffn = {FIRN_ICE_REF_FAST_FORWARD, FIRN_ICE_REF_BRANCH, "audit", 0, "dev"};
    CHECK_OK(firn_ice_table_update_ref(t, &ffn, &err), &err);
    CHECK_EQ_INT(firn_ice_metadata_ref(t->metadata, "audit")->snapshot_id, d3);

    /* tags: create at a snapshot, replace, remove; type checks */
    firn_ice_ref_update tag = {FIRN_ICE_REF_CREATE, FIRN_ICE_REF_TAG, "v1", s1, NULL};
    CHECK_OK(firn_ice_table_update_ref(t, &tag, &err), &err);
    CHECK_EQ_INT(firn_ice_metadata_ref(t->metadata, "v1")->type, FIRN_ICE_REF_TAG);
    firn_ice_ref_update ffv = {FIRN_ICE_REF_FAST_FORWARD, FIRN_ICE_REF_BRANCH, "v1", 0, "dev"};
    CHECK(firn_ice_table_update_ref(t, &ffv, &err) != 0);
    CHECK_MSG(strstr(firn_test_errtext(&err), "tag"), "%s", firn_test_errtext(&err));
    firn_ice_ref_update rtag = {FIRN_ICE_REF_REPLACE, FIRN_ICE_REF_TAG, "v1", d1, NULL};
    CHECK_OK(firn_ice_table_update_ref(t, &rtag, &err), &err);
    CHECK_EQ_INT(firn_ice_metadata_ref(t->metadata, "v1")->snapshot_id, d1);
    firn_ice_ref_update rbr = {FIRN_ICE_REF_REPLACE, FIRN_ICE_REF_BRANCH, "v1", d1, NULL};
    CHECK(firn_ice_table_update_ref(t, &rbr, &err) != 0);
    firn_ice_ref_update bad_snap = {FIRN_ICE_REF_REPLACE, FIRN_ICE_REF_TAG, "v1", 12345, NULL};
    CHECK(firn_ice_table_update_ref(t, &bad_snap, &err) != 0 && err.kind == FIRN_ERR_NOT_FOUND);
    firn_ice_ref_update rmt = {FIRN_ICE_REF_REMOVE, FIRN_ICE_REF_TAG, "v1", 0, NULL};
    CHECK_OK(firn_ice_table_update_ref(t, &rmt, &err), &err);
    CHECK(!firn_ice_metadata_ref(t->metadata, "v1"));
    CHECK(firn_ice_table_update_ref(t, &rmt, &err) != 0 && err.kind == FIRN_ERR_NOT_FOUND);

    /* replace a branch keeps its retention settings */
    firn_ice_ref_update rdev = {FIRN_ICE_REF_REPLACE, FIRN_ICE_REF_BRANCH, "dev", s1, NULL};
    CHECK_OK(firn_ice_table_update_ref(t, &rdev, &err), &err);
    CHECK_EQ_INT(firn_ice_metadata_ref(t->metadata, "dev")->snapshot_id, s1);

    /* remove branches: dev yes, main never */
    firn_ice_ref_update rm = {FIRN_ICE_REF_REMOVE, FIRN_ICE_REF_BRANCH, "dev", 0, NULL};
    CHECK_OK(firn_ice_table_update_ref(t, &rm, &err), &err);
    CHECK(!firn_ice_metadata_ref(t->metadata, "dev"));
    firn_ice_ref_update rmm = {FIRN_ICE_REF_REMOVE, FIRN_ICE_REF_BRANCH, "main", 0, NULL};
    CHECK(firn_ice_table_update_ref(t, &rmm, &err) != 0);
    CHECK_MSG(strstr(firn_test_errtext(&err), "main"), "%s", firn_test_errtext(&err));
    CHECK_EQ_INT(t->metadata->current_snapshot_id, m3);

    /* everything survives a reload */
    firn_ice_table *t2 = NULL;
    CHECK_OK(firn_ice_table_load(cat, "db", "r", &t2, &err), &err);
    CHECK_EQ_INT(t2->metadata->current_snapshot_id, m3);
    CHECK_EQ_INT(firn_ice_metadata_ref(t2->metadata, "audit")->snapshot_id, d3);
    CHECK_EQ_INT(t2->metadata->nrefs, 2);
    firn_ice_table_free(t2);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    firn_error_release(&err);
}

/* A fast-forward inside a multi-table commit re-evaluated on a new base:
 * main moved meanwhile, so the publish must fail, not clobber. */
FIRN_TEST(ice_table_fast_forward_rechecked_after_race) {
    firn_error err;
    firn_error_init(&err);
    char wh[512];
    firn_catalog *cat = open_catalog("ffrace", wh, sizeof wh);
    CHECK(cat);
    const char *kv[] = {"commit.retry.min-wait-ms", "1", NULL};
    firn_ice_table *t = create_table(cat, "w", kv);
    CHECK(t);
    CHECK(commit_snapshot(t, NULL, &err) > 0);
    CHECK(commit_snapshot(t, "dev", &err) > 0);
    /* another writer moves main while our first attempt is under way */
    firn_ice_table *other = NULL;
    CHECK_OK(firn_ice_table_load(cat, "db", "w", &other, &err), &err);
    firn_ice_ref_update ff = {FIRN_ICE_REF_FAST_FORWARD, FIRN_ICE_REF_BRANCH, "main", 0, "dev"};
    ff_race fr = {firn_ice_update_ref(&ff), other, 0};
    firn_ice_update u = {apply_ff_racing, NULL, &fr};
    firn_ice_commit_info info;
    int rc = firn_ice_table_commit(t, &u, 1, &info, &err);
    /* attempt 1 applied on the stale base and lost the CAS; attempt 2 sees main moved */
    CHECK(rc != 0 && err.kind == FIRN_ERR_CONFLICT && !err.retriable);
    CHECK_EQ_INT(info.attempts, 2);
    CHECK_EQ_INT(t->metadata->current_snapshot_id, other->metadata->current_snapshot_id);
    firn_ice_table_free(other);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    firn_error_release(&err);
}
