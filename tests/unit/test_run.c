/* test_run.c - `firn run`'s simulator resuming after a crash: it appends
 * exactly the events the raw topic lacks, per partition. */
#include "config/config.h"
#include "run/run.h"
#include "stream/stream.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

enum { PARTS = 4, FIRST = 128, ALL = 192 }; /* the simulator appends batches of 64 */

static firn_config *sim_config(const char *spool_dir, firn_error *err) {
    firn_config *c = firn_config_new_default();
    char uri[700];
    snprintf(uri, sizeof uri, "spool:%s", spool_dir);
    char parts[16];
    snprintf(parts, sizeof parts, "%d", PARTS);
    if (firn_config_set(c, "stream.uri", uri, err) || firn_config_set(c, "stream.partitions", parts, err) ||
        firn_config_set(c, "sim.image-width", "32", err) ||
        firn_config_set(c, "sim.image-height", "32", err)) {
        firn_config_free(c);
        return NULL;
    }
    return c;
}

/* The simulator alone (no classifier, no processors) on spool_dir up to n events. */
static int sim_only(const char *spool_dir, uint64_t n, firn_run_stats *st, firn_error *err) {
    firn_config *c = sim_config(spool_dir, err);
    if (!c) return -1;
    firn_run_options o;
    firn_run_options_init(&o);
    o.cfg = c;
    o.sim_events = n;
    o.seed = 7;
    o.bad_ratio = 0.05;
    o.sim_start_us = 1795680000000000; /* 2026-11-26T08:00:00Z */
    o.classify = o.process = false;
    o.quiet = true;
    int rc = firn_run(&o, st, err);
    firn_config_free(c);
    return rc;
}

/* Appends records [from, to) of partition p of src to partition p of dst. */
static int copy_records(firn_stream *src, firn_stream *dst, int32_t p, int64_t from, int64_t to,
                        firn_error *err) {
    for (int64_t off = from; off < to; off++) {
        firn_record *r;
        if (firn_stream_get(src, "events", p, off, &r, err)) return -1;
        firn_msg m = {p, r->key, r->key_len, r->value, r->value_len, r->headers, r->n_headers,
                      r->timestamp_ms};
        int rc = firn_stream_append(dst, "events", &m, 1, NULL, NULL, err);
        firn_stream_record_release(r);
        if (rc) return rc;
    }
    return 0;
}

/* 0 when partition p of a and b hold the same records (key, value) in the same order. */
static int same_partition(firn_stream *a, firn_stream *b, int32_t p, firn_error *err) {
    firn_watermarks wa, wb;
    if (firn_stream_watermarks(a, "events", p, &wa, err) ||
        firn_stream_watermarks(b, "events", p, &wb, err))
        return -1;
    if (wa.high != wb.high) {
        fprintf(stderr, "    partition %d: %lld records, want %lld\n", p, (long long)wb.high,
                (long long)wa.high);
        return 1;
    }
    for (int64_t off = 0; off < wa.high; off++) {
        firn_record *x, *y;
        if (firn_stream_get(a, "events", p, off, &x, err)) return -1;
        if (firn_stream_get(b, "events", p, off, &y, err)) {
            firn_stream_record_release(x);
            return -1;
        }
        bool same = x->value_len == y->value_len && x->key_len == y->key_len &&
                    memcmp(x->value, y->value, x->value_len) == 0 &&
                    memcmp(x->key, y->key, x->key_len) == 0;
        if (!same)
            fprintf(stderr, "    partition %d offset %lld: %.60s, want %.60s\n", p, (long long)off,
                    (const char *)y->value, (const char *)x->value);
        firn_stream_record_release(x);
        firn_stream_record_release(y);
        if (!same) return 1;
    }
    return 0;
}

/* A crash in the middle of one append: the simulator's batch of 64 reached
 * partition 0, half of it partition 1 (a torn tail, cut on open), none of it
 * partitions 2 and 3. The raw topic holds more events than came before the
 * batch, but not the first sum(high) of the sequence: a restart that skips
 * that many events in total would append some twice and never others. */
FIRN_TEST(run_sim_resumes_per_partition_after_a_torn_append) {
    firn_error err;
    firn_error_init(&err);
    char ref_dir[600], torn_dir[600];
    snprintf(ref_dir, sizeof ref_dir, "%s", firn_test_path("run-sim-ref"));
    snprintf(torn_dir, sizeof torn_dir, "%s", firn_test_path("run-sim-torn"));
    firn_run_stats st;
    /* the reference: all events in one go; the torn log: the batches before */
    CHECK_OK(sim_only(ref_dir, ALL, &st, &err), &err);
    CHECK_EQ_INT(st.sim_appended, ALL);
    CHECK_OK(sim_only(torn_dir, FIRST, &st, &err), &err);
    CHECK_EQ_INT(st.sim_appended, FIRST);
    firn_stream *ref, *torn;
    CHECK_OK(firn_stream_open(ref_dir, NULL, &ref, &err), &err);
    CHECK_OK(firn_stream_open(torn_dir, NULL, &torn, &err), &err);
    int64_t there = 0, got[PARTS] = {0};
    for (int32_t p = 0; p < PARTS; p++) {
        firn_watermarks wr, wt;
        CHECK_OK(firn_stream_watermarks(ref, "events", p, &wr, &err), &err);
        CHECK_OK(firn_stream_watermarks(torn, "events", p, &wt, &err), &err);
        CHECK(wr.high > wt.high); /* every partition has a share of the last batch */
        int64_t to = p == 0 ? wr.high : p == 1 ? wt.high + (wr.high - wt.high) / 2 : wt.high;
        CHECK_OK(copy_records(ref, torn, p, wt.high, to, &err), &err);
        got[p] = to - wt.high;
        there += to;
    }
    CHECK(got[0] > 0 && got[1] > 0);
    firn_stream_close(torn);

    /* the restart appends exactly what is missing, each partition in order */
    CHECK_OK(sim_only(torn_dir, ALL, &st, &err), &err);
    CHECK_EQ_INT(st.sim_skipped, there);
    CHECK_EQ_INT(st.sim_appended, ALL - there);
    CHECK_OK(firn_stream_open(torn_dir, NULL, &torn, &err), &err);
    for (int32_t p = 0; p < PARTS; p++) CHECK_EQ_INT(same_partition(ref, torn, p, &err), 0);

    /* a second restart adds nothing */
    firn_stream_close(torn);
    CHECK_OK(sim_only(torn_dir, ALL, &st, &err), &err);
    CHECK_EQ_INT(st.sim_appended, 0);
    CHECK_EQ_INT(st.sim_skipped, ALL);
    CHECK_OK(firn_stream_open(torn_dir, NULL, &torn, &err), &err);
    for (int32_t p = 0; p < PARTS; p++) CHECK_EQ_INT(same_partition(ref, torn, p, &err), 0);
    firn_stream_close(torn);
    firn_stream_close(ref);
    firn_error_release(&err);
}
