/* test_wap.c - Write-Audit-Publish of one batch (pipeline/wap.c): publish by
 * fast-forward, the fence against stale offsets, the cherry-pick when main
 * moved between write and publish, and quarantine after a failed audit. Rows
 * are counted by scanning the tables back. */
#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "pipeline/pipeline.h"
#include "fixture.h"
#include "test.h"

#include <stdlib.h>

static const char PROD[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"eventId\",\"required\":true,\"type\":\"string\"},"
    "{\"id\":2,\"name\":\"v\",\"required\":false,\"type\":\"long\"}]}";
static const char UNTRUSTED[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"eventId\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":2,\"name\":\"failed_rules\",\"required\":false,\"type\":\"string\"}]}";

typedef struct wfix {
    firn_catalog *cat;
    firn_ice_table *prod, *untrusted, *history;
    firn_arena a;
} wfix;

static int wfix_open(wfix *f, const char *name, firn_error *err) {
    memset(f, 0, sizeof *f);
    firn_arena_init(&f->a, 0);
    char wh[600];
    static const char *const nss[] = {"production", "staging", "firn", NULL};
    if (firn_test_warehouse_open("wap", name, true, nss, wh, sizeof wh, &f->cat, err)) return -1;
    if (firn_test_table_create(f->cat, &f->a, "production", "t", PROD, NULL, NULL, 0, &f->prod, err))
        return -1;
    if (firn_test_table_create(f->cat, &f->a, "staging", "t_untrusted", UNTRUSTED, NULL, NULL, 0,
                               &f->untrusted, err))
        return -1;
    return firn_test_table_create(f->cat, &f->a, "firn", "commits", firn_wap_history_schema_json(),
                                  NULL, NULL, 0, &f->history, err);
}

static void wfix_close(wfix *f) {
    firn_ice_table_free(f->prod);
    firn_ice_table_free(f->untrusted);
    firn_ice_table_free(f->history);
    firn_cat_free(f->cat);
    firn_arena_release(&f->a);
}

/* Rows of t at ref (NULL: main), or -1 on error. */
static long long count_rows(firn_ice_table *t, const char *ref) {
    firn_error err;
    firn_error_init(&err);
    if (firn_ice_table_refresh(t, &err)) return -1;
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    o.ref = ref;
    firn_ice_scan *s = firn_ice_scan_table(t, &o, &err);
    if (!s) {
        firn_error_release(&err);
        return -1;
    }
    long long n = 0;
    firn_ice_scan_batch b;
    int rc;
    while ((rc = firn_ice_scan_next_batch(s, &b, &err)) == 1) n += (long long)b.nrows;
    firn_ice_scan_free(s);
    firn_error_release(&err);
    return rc == 0 ? n : -1;
}

static void add_trusted(firn_rows *r, const char *id, long long v) {
    firn_rows_set_str(r, 0, id);
    firn_rows_set_i64(r, 1, v);
    firn_rows_end_row(r);
}

static void add_untrusted(firn_rows *r, const char *id, const char *why) {
    firn_rows_set_str(r, 0, id);
    firn_rows_set_str(r, 1, why);
    firn_rows_end_row(r);
}

static int64_t main_offset(firn_ice_table *t, const char *topic, int32_t p) {
    firn_offset_map m = {0};
    firn_offsets_recover(t->metadata, "main", &m, NULL);
    int64_t v = firn_offset_map_get(&m, topic, p, -1);
    firn_offset_map_release(&m);
    return v;
}

static void concurrent_append(void *ctx) {
    /* another writer (compaction, say) commits on main: an empty append */
    firn_ice_table *t = ctx;
    firn_error err;
    firn_error_init(&err);
    firn_ice_producer *p = firn_ice_producer_new(t, NULL, "append", &err);
    if (p) firn_ice_producer_commit(p, NULL, &err);
    firn_ice_producer_free(p);
    firn_error_release(&err);
}

FIRN_TEST(wap_publish_fence_cherry_pick_quarantine) {
    firn_error err;
    firn_error_init(&err);
    wfix f;
    CHECK_MSG(wfix_open(&f, "all", &err) == 0, "%s", err.message);
    firn_rows tr, un;
    CHECK(firn_rows_init(&tr, firn_ice_metadata_current_schema(f.prod->metadata), &err) == 0);
    CHECK(firn_rows_init(&un, firn_ice_metadata_current_schema(f.untrusted->metadata), &err) == 0);

    /* batch 1: offsets [0, 4) = 3 trusted + 1 untrusted */
    add_trusted(&tr, "e1", 1);
    add_trusted(&tr, "e2", 2);
    add_trusted(&tr, "e3", 3);
    add_untrusted(&un, "e4", "range:x");
    firn_wap_range r1 = {"parking-entry", 0, 0, 4};
    firn_wap_batch b = {0};
    b.prod = f.prod;
    b.untrusted = f.untrusted;
    b.history = f.history;
    b.branch = "dev";
    b.trusted_rows = &tr;
    b.untrusted_rows = &un;
    b.ranges = &r1;
    b.nranges = 1;
    b.event_id_col = 0;
    firn_wap_result res;
    CHECK_MSG(firn_wap_run(&b, &res, &err) == 0, "%s", err.message);
    CHECK_EQ_INT(res.outcome, FIRN_WAP_PUBLISHED);
    CHECK_EQ_INT(count_rows(f.prod, NULL), 3);
    CHECK_EQ_INT(count_rows(f.prod, "dev"), 3);
    CHECK_EQ_INT(count_rows(f.untrusted, NULL), 1);
    CHECK_EQ_INT(count_rows(f.history, NULL), 1);
    CHECK_EQ_INT(main_offset(f.prod, "parking-entry", 0), 4);
    CHECK_EQ_INT(f.prod->metadata->current_snapshot_id, res.branch_snapshot_id);

    /* a zombie replaying [0, 4) is fenced: nothing changes */
    int64_t before = f.prod->metadata->current_snapshot_id;
    CHECK(firn_wap_run(&b, &res, &err) != 0);
    CHECK_EQ_INT(err.kind, FIRN_ERR_CONFLICT);
    CHECK(!err.retriable);
    char fm[2048];
    CHECK_MSG(strstr(firn_error_format(&err, fm, sizeof fm), "fenced") != NULL, "%s", fm);
    CHECK_EQ_INT(count_rows(f.prod, NULL), 3);
    CHECK_EQ_INT(f.prod->metadata->current_snapshot_id, before);
    CHECK_EQ_INT(count_rows(f.untrusted, NULL), 1);
    CHECK_EQ_INT(count_rows(f.history, NULL), 1);

    /* batch 2: main moves between write and publish: cherry-picked */
    firn_rows_clear(&tr);
    firn_rows_clear(&un);
    add_trusted(&tr, "e5", 5);
    add_trusted(&tr, "e6", 6);
    firn_wap_range r2 = {"parking-entry", 0, 4, 6};
    b.ranges = &r2;
    b.before_publish = concurrent_append;
    b.hook_ctx = f.prod;
    CHECK_MSG(firn_wap_run(&b, &res, &err) == 0, "%s", err.message);
    CHECK_EQ_INT(res.outcome, FIRN_WAP_CHERRY_PICKED);
    CHECK_EQ_INT(count_rows(f.prod, NULL), 5);
    CHECK_EQ_INT(main_offset(f.prod, "parking-entry", 0), 6);
    CHECK_EQ_INT(count_rows(f.history, NULL), 2);
    b.before_publish = NULL;

    /* batch 3: the audit fails; quarantine keeps main's rows, advances offsets */
    firn_rows_clear(&tr);
    add_trusted(&tr, "e7", 7);
    add_trusted(&tr, "e8", 8);
    firn_wap_range r3 = {"parking-entry", 0, 6, 8};
    b.ranges = &r3;
    setenv("FIRN_WAP_AUDIT_FAIL", "records", 1);
    int rc = firn_wap_run(&b, &res, &err);
    unsetenv("FIRN_WAP_AUDIT_FAIL");
    CHECK_MSG(rc == 0, "%s", err.message);
    CHECK_EQ_INT(res.outcome, FIRN_WAP_REJECTED);
    CHECK(strncmp(res.audit_failure, "audit:records", 13) == 0);
    CHECK_EQ_INT(count_rows(f.prod, NULL), 5);
    firn_rows_clear(&un);
    add_untrusted(&un, "e7", res.audit_failure);
    add_untrusted(&un, "e8", res.audit_failure);
    firn_rows_clear(&tr);
    CHECK_MSG(firn_wap_quarantine(&b, &res, &err) == 0, "%s", err.message);
    CHECK_EQ_INT(count_rows(f.prod, NULL), 5);
    CHECK_EQ_INT(count_rows(f.untrusted, NULL), 3);
    CHECK_EQ_INT(count_rows(f.history, NULL), 3);
    CHECK_EQ_INT(main_offset(f.prod, "parking-entry", 0), 8);
    char tag[64];
    snprintf(tag, sizeof tag, "rejected-%lld", (long long)res.branch_snapshot_id);
    const firn_ice_ref *ref = firn_ice_metadata_ref(f.prod->metadata, tag);
    CHECK(ref != NULL && ref->type == FIRN_ICE_REF_TAG);
    CHECK_EQ_INT(count_rows(f.prod, tag), 7); /* the rejected rows stay inspectable */

    /* the duplicate check: the same eventId twice among trusted rows */
    firn_rows_clear(&tr);
    firn_rows_clear(&un);
    add_trusted(&tr, "e9", 9);
    add_trusted(&tr, "e9", 9);
    firn_wap_range r4 = {"parking-entry", 0, 8, 10};
    b.ranges = &r4;
    CHECK_MSG(firn_wap_run(&b, &res, &err) == 0, "%s", err.message);
    CHECK_EQ_INT(res.outcome, FIRN_WAP_REJECTED);
    CHECK(strncmp(res.audit_failure, "audit:duplicate", 15) == 0);

    firn_rows_release(&tr);
    firn_rows_release(&un);
    wfix_close(&f);
    firn_error_release(&err);
}

/* ------------------------------------------------ workers sharing a topic */

typedef struct other_worker {
    wfix *f;
    firn_wap_range range;
    const char *branch;
    int rc;
    firn_wap_outcome outcome;
} other_worker;

/* Worker B publishes its own partition while worker A's batch waits to publish. */
static void other_publishes(void *ctx) {
    other_worker *o = ctx;
    firn_error err;
    firn_error_init(&err);
    firn_rows tr;
    o->rc = firn_rows_init(&tr, firn_ice_metadata_current_schema(o->f->prod->metadata), &err);
    for (int64_t i = o->range.start; o->rc == 0 && i < o->range.end; i++) {
        char id[32];
        snprintf(id, sizeof id, "b%lld", (long long)i);
        add_trusted(&tr, id, i);
    }
    firn_wap_batch b = {0};
    b.prod = o->f->prod;
    b.history = o->f->history;
    b.branch = o->branch;
    b.worker = "b";
    b.trusted_rows = &tr;
    b.ranges = &o->range;
    b.nranges = 1;
    b.event_id_col = 0;
    firn_wap_result res;
    if (o->rc == 0) o->rc = firn_wap_run(&b, &res, &err);
    o->outcome = res.outcome;
    firn_rows_release(&tr);
    firn_error_release(&err);
}

/* Someone else (a second worker under the same name) commits on A's branch. */
static void branch_moves(void *ctx) {
    firn_ice_table *t = ctx;
    firn_error err;
    firn_error_init(&err);
    firn_ice_producer *p = firn_ice_producer_new(t, "dev-a", "append", &err);
    if (p) firn_ice_producer_commit(p, NULL, &err);
    firn_ice_producer_free(p);
    firn_error_release(&err);
}

FIRN_TEST(wap_workers_merge_offsets_at_commit) {
    firn_error err;
    firn_error_init(&err);
    wfix f;
    CHECK_MSG(wfix_open(&f, "workers", &err) == 0, "%s", err.message);
    firn_rows tr;
    CHECK(firn_rows_init(&tr, firn_ice_metadata_current_schema(f.prod->metadata), &err) == 0);

    /* worker A owns partition 0, worker B partition 1 */
    add_trusted(&tr, "a0", 0);
    add_trusted(&tr, "a1", 1);
    firn_wap_range ra = {"parking-entry", 0, 0, 2};
    firn_wap_batch a = {0};
    a.prod = f.prod;
    a.history = f.history;
    a.branch = "dev-a";
    a.worker = "a";
    a.trusted_rows = &tr;
    a.ranges = &ra;
    a.nranges = 1;
    a.event_id_col = 0;
    firn_wap_result res;
    CHECK_MSG(firn_wap_run(&a, &res, &err) == 0, "%s", err.message);
    CHECK_EQ_INT(res.outcome, FIRN_WAP_PUBLISHED);

    /* A's next batch is written; B publishes partition 1 before A publishes:
     * A's snapshot must carry B's offsets (merged at commit time), not the map
     * main had when A's batch was written */
    firn_rows_clear(&tr);
    add_trusted(&tr, "a2", 2);
    add_trusted(&tr, "a3", 3);
    ra = (firn_wap_range){"parking-entry", 0, 2, 4};
    other_worker ob = {&f, {"parking-entry", 1, 0, 3}, "dev-b", -1, 0};
    a.before_publish = other_publishes;
    a.hook_ctx = &ob;
    CHECK_MSG(firn_wap_run(&a, &res, &err) == 0, "%s", err.message);
    CHECK_EQ_INT(ob.rc, 0);
    CHECK_EQ_INT(ob.outcome, FIRN_WAP_PUBLISHED);
    CHECK_EQ_INT(res.outcome, FIRN_WAP_CHERRY_PICKED);
    CHECK_EQ_INT(main_offset(f.prod, "parking-entry", 0), 4);
    CHECK_EQ_INT(main_offset(f.prod, "parking-entry", 1), 3);
    CHECK_EQ_INT(count_rows(f.prod, NULL), 7);

    /* B again, while A is fenced on its own partition only: a zombie A replaying
     * [2, 4) never publishes; B's partition is not A's business */
    a.before_publish = NULL;
    CHECK(firn_wap_run(&a, &res, &err) != 0);
    CHECK_EQ_INT(err.kind, FIRN_ERR_CONFLICT);
    CHECK(!err.retriable);
    firn_error_release(&err);
    firn_error_init(&err);
    ob.range = (firn_wap_range){"parking-entry", 1, 3, 5};
    other_publishes(&ob);
    CHECK_EQ_INT(ob.rc, 0);
    CHECK_EQ_INT(main_offset(f.prod, "parking-entry", 0), 4);
    CHECK_EQ_INT(main_offset(f.prod, "parking-entry", 1), 5);
    CHECK_EQ_INT(count_rows(f.prod, NULL), 9);

    /* A's branch moves after its audit while main stays: the fast-forward would
     * publish a snapshot nobody audited, so A cherry-picks its own files */
    firn_rows_clear(&tr);
    add_trusted(&tr, "a4", 4);
    ra = (firn_wap_range){"parking-entry", 0, 4, 5};
    a.before_publish = branch_moves;
    a.hook_ctx = f.prod;
    CHECK_MSG(firn_wap_run(&a, &res, &err) == 0, "%s", err.message);
    CHECK_EQ_INT(res.outcome, FIRN_WAP_CHERRY_PICKED);
    CHECK_EQ_INT(main_offset(f.prod, "parking-entry", 0), 5);
    CHECK_EQ_INT(main_offset(f.prod, "parking-entry", 1), 5);
    CHECK_EQ_INT(count_rows(f.prod, NULL), 10);

    /* a partition main never recorded, whose log starts past 0 (retention
     * deleted its first records): the batch from the log's start publishes,
     * and a second batch replaying the same start is fenced (before the fix
     * it was fenced forever: main's missing offset read as 0) */
    firn_rows_clear(&tr);
    add_trusted(&tr, "a70", 70);
    ra = (firn_wap_range){"parking-entry", 2, 70, 71};
    a.before_publish = NULL;
    CHECK_MSG(firn_wap_run(&a, &res, &err) == 0, "%s", err.message);
    CHECK_EQ_INT(main_offset(f.prod, "parking-entry", 2), 71);
    CHECK(firn_wap_run(&a, &res, &err) != 0);
    CHECK_EQ_INT(err.kind, FIRN_ERR_CONFLICT);
    firn_error_release(&err);
    firn_error_init(&err);
    CHECK_EQ_INT(count_rows(f.prod, NULL), 11);

    firn_rows_release(&tr);
    wfix_close(&f);
    firn_error_release(&err);
}
