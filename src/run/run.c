/*
 * run.c - `firn run`: the stages as threads of one process (see run.h).
 *
 * Threads: the simulator appends to the raw topic; the classifier routes it;
 * each processor (one per event type, one for dead letters) publishes its
 * topic with WAP. Each thread opens its own catalog handle (catalog handles
 * are single-threaded); they share the stream. A restarted run resumes from
 * durable state only: the simulator skips the events the raw topic already
 * holds (it is deterministic), the classifier from its outputs' tails, the
 * processors from the offsets main records.
 */
#include "run/run.h"

#include "catalog/catalog.h"
#include "io/io.h"
#include "pipeline/events.h"
#include "pipeline/validate.h"
#include "sim/sim.h"
#include "stream/stream.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct run_ctx {
    const firn_run_options *o;
    const firn_config *cfg;
    firn_stream *stream;
    atomic_bool failed;
    atomic_bool sim_done;
    atomic_bool classify_done;
    firn_run_stats stats;
    pthread_mutex_t mu;
    firn_error first_err;
} run_ctx;

static bool stopping(run_ctx *r) {
    return atomic_load(&r->failed) || (r->o->stop && *r->o->stop);
}

static void fail(run_ctx *r, const char *stage, firn_error *err) {
    pthread_mutex_lock(&r->mu);
    if (!atomic_load(&r->failed)) {
        char buf[1024];
        fprintf(stderr, "firn: %s: %s\n", stage, firn_error_format(err, buf, sizeof buf));
        r->first_err = *err;
        firn_error_init(err);
        atomic_store(&r->failed, true);
    } else {
        firn_error_release(err);
    }
    pthread_mutex_unlock(&r->mu);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void firn_run_options_init(firn_run_options *o) {
    memset(o, 0, sizeof *o);
    o->seed = 42;
    o->classify = o->process = true;
}

/* ------------------------------------------------------------- simulator */

static void *sim_thread(void *arg) {
    run_ctx *r = arg;
    firn_error err;
    firn_error_init(&err);
    const firn_config *cfg = r->cfg;
    firn_sim_options so;
    firn_sim_options_init(&so);
    so.seed = r->o->seed;
    so.bad_ratio = r->o->bad_ratio;
    so.slots = (uint32_t)cfg->sim_slots;
    so.width = (int)cfg->sim_image_width;
    so.height = (int)cfg->sim_image_height;
    so.format = cfg->sim_image_format ? FIRN_SIM_PNG : FIRN_SIM_JPEG;
    so.jpeg_quality = (int)cfg->sim_jpeg_quality;
    so.start_us = r->o->sim_start_us;
    firn_sim *sim = NULL;
    const char *topic = cfg->stream_raw_topic;
    /* events already appended (a restart): the simulator is deterministic, skip them */
    uint64_t have = 0;
    int32_t parts = 0;
    if (firn_stream_partitions(r->stream, topic, &parts, &err)) goto out;
    for (int32_t p = 0; p < parts; p++) {
        firn_watermarks wm;
        if (firn_stream_watermarks(r->stream, topic, p, &wm, &err)) goto out;
        have += (uint64_t)wm.high;
    }
    if (firn_sim_new(&so, &sim, &err)) goto out;
    const firn_sim_event *ev;
    for (uint64_t i = 0; i < have && i < r->o->sim_events; i++)
        if (firn_sim_next(sim, &ev, &err)) goto out;
    r->stats.sim_skipped = have;
    enum { BATCH = 64 };
    firn_msg msgs[BATCH];
    firn_header hdrs[BATCH];
    firn_buf store[BATCH];
    for (int i = 0; i < BATCH; i++) firn_buf_init(&store[i]);
    uint64_t i = have;
    uint64_t t0 = firn_now_ns();
    while (i < r->o->sim_events && !stopping(r)) {
        size_t want = BATCH;
        if (r->o->sim_rate > 0) { /* paced: what is due by now, at least one */
            double due = (double)(firn_now_ns() - t0) * r->o->sim_rate / 1e9;
            double ahead = due - (double)(i - have);
            want = ahead < 1 ? 1 : ahead > BATCH ? BATCH : (size_t)ahead;
        }
        size_t n = 0;
        while (n < want && i < r->o->sim_events) {
            if (firn_sim_next(sim, &ev, &err)) goto out_bufs;
            /* keep the bytes: the next event reuses the simulator's buffers */
            firn_buf *b = &store[n];
            firn_buf_clear(b);
            firn_buf_append(b, ev->json, ev->json_len);
            size_t klen = strlen(ev->car_id);
            firn_buf_append(b, ev->car_id, klen);
            if (ev->image) firn_buf_append(b, ev->image, ev->image_len);
            const uint8_t *base = b->data;
            hdrs[n] = (firn_header){FIRN_SIM_IMAGE_HEADER, base + ev->json_len + klen, ev->image_len};
            msgs[n] = (firn_msg){-1, base + ev->json_len, klen, base, ev->json_len,
                                 ev->image ? &hdrs[n] : NULL, ev->image ? 1u : 0u,
                                 ev->ts_us / 1000};
            n++;
            i++;
        }
        if (firn_stream_append(r->stream, topic, msgs, n, NULL, NULL, &err)) goto out_bufs;
        firn_io_crash_point("sim.after-append");
        r->stats.sim_appended += n;
        if (r->o->sim_rate > 0) {
            uint64_t due = t0 + (uint64_t)((double)(i - have) * 1e9 / r->o->sim_rate);
            uint64_t now = firn_now_ns();
            if (due > now) {
                uint64_t d = due - now;
                struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
                nanosleep(&ts, NULL);
            }
        }
    }
out_bufs:
    for (int k = 0; k < BATCH; k++) firn_buf_release(&store[k]);
out:
    firn_sim_free(sim);
    if (err.kind) fail(r, "sim", &err);
    atomic_store(&r->sim_done, true);
    return NULL;
}

/* ------------------------------------------------------------- classifier */

static void *classify_thread(void *arg) {
    run_ctx *r = arg;
    firn_error err;
    firn_error_init(&err);
    const firn_config *cfg = r->cfg;
    firn_route *routes = firn_xcalloc(cfg->ntypes + 1, sizeof *routes);
    for (size_t i = 0; i < cfg->ntypes; i++)
        routes[i] = (firn_route){cfg->types[i].name, cfg->types[i].topic};
    firn_classifier_options co = {0};
    co.raw_topic = cfg->stream_raw_topic;
    co.route_field = cfg->route_field;
    co.routes = routes;
    co.nroutes = cfg->ntypes;
    co.dead_letter_topic = cfg->stream_dead_letter_topic;
    firn_event_limits lim;
    firn_event_limits_from_config(&lim, cfg);
    co.limits = &lim;
    firn_classifier *c = NULL;
    if (firn_classifier_new(r->stream, &co, &c, &err)) goto out;
    for (;;) {
        if (stopping(r)) break;
        size_t n;
        if (firn_classifier_step(c, 100, &n, &err)) goto out;
        if (n == 0 && (!r->o->sim_events || atomic_load(&r->sim_done)) && r->o->until_drained) {
            bool drained;
            if (firn_classifier_drained(c, &drained, &err)) goto out;
            if (drained && (!r->o->sim_events || atomic_load(&r->sim_done))) break;
        }
    }
    const firn_classifier_stats *cs = firn_classifier_get_stats(c);
    pthread_mutex_lock(&r->mu);
    r->stats.consumed += cs->consumed;
    r->stats.routed += cs->routed;
    r->stats.dead_letter += cs->dead_letter;
    pthread_mutex_unlock(&r->mu);
out:
    firn_classifier_free(c);
    free(routes);
    if (err.kind) fail(r, "classify", &err);
    atomic_store(&r->classify_done, true);
    return NULL;
}

/* ------------------------------------------------------------- processors */

typedef struct proc_arg {
    run_ctx *r;
    const firn_config_type *type; /* NULL: dead letters */
    pthread_t th;
} proc_arg;

static int open_catalog(const firn_config *cfg, firn_catalog **out, firn_error *err) {
    firn_cat_config cc = {0};
    cc.warehouse = cfg->warehouse;
    return firn_cat_open(cfg->catalog_uri, &cc, out, err);
}

/* Put the published ids of the type's unique field into the dedupe window,
 * so a restarted run judges duplicates as an uninterrupted one did. */
static int warm_dedupe(firn_type_handler *h, firn_ice_table *prod, int id_col, firn_error *err) {
    if (id_col < 0 || prod->metadata->current_snapshot_id < 0) return 0;
    const firn_ice_schema *s = firn_ice_metadata_current_schema(prod->metadata);
    const char *idname = s->type->fields[id_col].name;
    const char *tsname = NULL;
    for (size_t i = 0; i < s->type->nfields; i++)
        if (s->type->fields[i].type->id == FIRN_ICE_TIMESTAMPTZ) {
            tsname = s->type->fields[i].name;
            break;
        }
    const char *cols[2] = {idname, tsname};
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    o.columns = cols;
    o.ncolumns = tsname ? 2 : 1;
    firn_ice_scan *sc = firn_ice_scan_table(prod, &o, err);
    if (!sc) return -1;
    firn_ice_scan_batch b;
    int rc;
    while ((rc = firn_ice_scan_next_batch(sc, &b, err)) == 1) {
        const firn_pq_column_data *ids = &b.columns[0];
        for (size_t i = 0; i < b.nrows; i++) {
            int64_t ts = tsname ? ((const int64_t *)b.columns[1].values)[i] : 0;
            firn_type_handler_remember(h, ids->data + ids->offsets[i],
                                       (size_t)(ids->offsets[i + 1] - ids->offsets[i]), ts);
        }
    }
    firn_ice_scan_free(sc);
    return rc;
}

typedef struct type_ctx {
    firn_type_handler *h;
    firn_ice_table *prod;
    int id_col;
} type_ctx;

static int type_event(void *ctx, const firn_record *raw, const firn_record *routed,
                      firn_rows *trusted, firn_rows *untrusted, const char *force,
                      firn_error *err) {
    type_ctx *tc = ctx;
    return firn_type_handler_event(tc->h, raw, routed, trusted, untrusted, force, err);
}

/* A batch was abandoned: the window goes back to the ids main holds. */
static int type_abandon(void *ctx, firn_error *err) {
    type_ctx *tc = ctx;
    firn_type_handler_forget_all(tc->h);
    return warm_dedupe(tc->h, tc->prod, tc->id_col, err);
}

static void *process_thread(void *arg) {
    proc_arg *pa = arg;
    run_ctx *r = pa->r;
    const firn_config *cfg = r->cfg;
    firn_error err;
    firn_error_init(&err);
    firn_catalog *cat = NULL;
    firn_ice_table *prod = NULL, *untrusted = NULL, *history = NULL;
    firn_validator *v = NULL;
    firn_type_handler *h = NULL;
    firn_processor *p = NULL;
    type_ctx tctx = {0};
    const char *topic = pa->type ? pa->type->topic : cfg->stream_dead_letter_topic;
    if (open_catalog(cfg, &cat, &err)) goto out;
    if (firn_events_open_history_table(cat, &history, &err)) goto out;
    firn_processor_options po = {0};
    po.topic = topic;
    po.raw_topic = cfg->stream_raw_topic;
    po.history = history;
    po.branch = cfg->branch;
    char wbranch[256]; /* scale-out: each worker stages on <branch>-<worker> */
    if (r->o->worker) {
        snprintf(wbranch, sizeof wbranch, "%s-%s", cfg->branch, r->o->worker);
        po.branch = wbranch;
        po.worker = r->o->worker;
    }
    po.group = r->o->group;
    po.commit_interval_ms = cfg->commit_interval_us / 1000;
    po.commit_max_bytes = (uint64_t)cfg->commit_max_bytes;
    if (pa->type) {
        if (!(v = firn_validator_new(pa->type, &err))) goto out;
        if (firn_events_open_type_tables(cat, cfg, pa->type, v, &prod, &untrusted, &err)) goto out;
        if (firn_type_handler_new(cfg, pa->type, prod, untrusted, &h, &err)) goto out;
        po.event_id_col = firn_type_handler_event_id_col(h, prod);
        if (warm_dedupe(h, prod, po.event_id_col, &err)) goto out;
        po.prod = prod;
        po.untrusted = untrusted;
        tctx = (type_ctx){h, prod, po.event_id_col};
        po.on_event = type_event;
        po.on_abandon = type_abandon;
        po.event_ctx = &tctx;
    } else {
        if (firn_events_open_dead_letter_table(cat, cfg, &prod, &err)) goto out;
        po.prod = prod;
        po.dead_letter = true;
        po.event_id_col = -1;
        po.on_event = firn_dead_letter_event;
    }
    /* the topic exists once the classifier created it */
    for (int i = 0; i < 600; i++) {
        int32_t np;
        if (firn_stream_partitions(r->stream, topic, &np, &err) == 0) break;
        if (err.kind != FIRN_ERR_NOT_FOUND || stopping(r)) goto out;
        firn_error_release(&err);
        firn_error_init(&err);
        sleep_ms(50);
    }
    if (firn_processor_new(r->stream, &po, &p, &err)) goto out;
    for (;;) {
        if (stopping(r)) {
            if (!atomic_load(&r->failed)) firn_processor_flush(p, &err); /* SIGTERM: commit */
            break;
        }
        if (firn_processor_step(p, 100, &err)) goto out;
        if (r->o->until_drained && atomic_load(&r->classify_done)) {
            if (firn_processor_flush(p, &err)) goto out;
            bool drained;
            if (firn_processor_drained(p, &drained, &err)) goto out;
            if (drained) break;
        }
    }
out:
    if (p) {
        const firn_processor_stats *ps = firn_processor_get_stats(p);
        pthread_mutex_lock(&r->mu);
        if (pa->type) {
            r->stats.trusted += ps->rows_trusted;
            r->stats.untrusted += ps->rows_untrusted;
        } else {
            r->stats.dead_letter_rows += ps->rows_trusted;
        }
        r->stats.batches += ps->batches;
        r->stats.published += ps->published;
        r->stats.cherry_picked += ps->cherry_picked;
        r->stats.rejected += ps->rejected;
        r->stats.fenced += ps->fenced;
        r->stats.errors += ps->errors;
        pthread_mutex_unlock(&r->mu);
    }
    firn_processor_free(p);
    firn_type_handler_free(h);
    firn_validator_free(v);
    firn_ice_table_free(prod);
    firn_ice_table_free(untrusted);
    firn_ice_table_free(history);
    firn_cat_free(cat);
    if (err.kind) {
        char stage[160];
        snprintf(stage, sizeof stage, "process %s", topic);
        fail(r, stage, &err);
    }
    return NULL;
}

/* ------------------------------------------------------------- run */

int firn_run(const firn_run_options *o, firn_run_stats *st, firn_error *err) {
    const firn_config *cfg = o->cfg;
    run_ctx r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.cfg = cfg;
    pthread_mutex_init(&r.mu, NULL);
    firn_error_init(&r.first_err);
    firn_stream_options so;
    firn_stream_options_init(&so);
    so.fsync = (firn_fsync_policy)cfg->stream_fsync;
    so.segment_bytes = (uint64_t)cfg->stream_segment_bytes;
    so.retention_bytes = (uint64_t)cfg->stream_retention_bytes;
    so.retention_ms = cfg->stream_retention_us / 1000;
    so.max_record_bytes = (uint64_t)cfg->max_event_bytes;
    so.kafka_conf = (const char *const *)cfg->kafka_conf;
    int rc = firn_stream_open(cfg->stream_uri, &so, &r.stream, err);
    if (rc) return FIRN_WRAP(err, err->kind, "stream %s", cfg->stream_uri);
    /* one classifier per spool: two would route every raw record twice */
    int lockfd = -1;
    if (o->classify && strcmp(firn_stream_kind(r.stream), "spool") == 0) {
        const char *dir = strncmp(cfg->stream_uri, "spool:", 6) == 0 ? cfg->stream_uri + 6
                                                                    : cfg->stream_uri;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/.classifier.lock", dir);
        lockfd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
        if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
            rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                            "another firn process classifies spool %s (%s is locked)", dir, path);
            err->retriable = false;
            if (lockfd >= 0) close(lockfd);
            firn_stream_close(r.stream);
            return rc;
        }
    }
    rc = firn_stream_create_topic(r.stream, cfg->stream_raw_topic, (int32_t)cfg->stream_partitions,
                                  err);
    if (rc) {
        firn_stream_close(r.stream);
        return FIRN_WRAP(err, err->kind, "raw topic %s", cfg->stream_raw_topic);
    }
    pthread_t sim_th, cls_th;
    bool sim_on = o->sim_events > 0, cls_on = o->classify;
    if (!sim_on) atomic_store(&r.sim_done, true);
    if (!cls_on) atomic_store(&r.classify_done, true);
    if (sim_on) pthread_create(&sim_th, NULL, sim_thread, &r);
    if (cls_on) pthread_create(&cls_th, NULL, classify_thread, &r);
    size_t np = 0;
    proc_arg *pas = firn_xcalloc(cfg->ntypes + 1, sizeof *pas);
    if (o->process) {
        for (size_t i = 0; i <= cfg->ntypes; i++) {
            const firn_config_type *t = i < cfg->ntypes ? &cfg->types[i] : NULL;
            const char *topic = t ? t->topic : cfg->stream_dead_letter_topic;
            if (o->only_topic && strcmp(o->only_topic, topic) != 0) continue;
            pas[np] = (proc_arg){&r, t, 0};
            pthread_create(&pas[np].th, NULL, process_thread, &pas[np]);
            np++;
        }
    }
    if (sim_on) pthread_join(sim_th, NULL);
    if (cls_on) pthread_join(cls_th, NULL);
    for (size_t i = 0; i < np; i++) pthread_join(pas[i].th, NULL);
    free(pas);
    firn_stream_close(r.stream);
    if (lockfd >= 0) close(lockfd);
    if (st) *st = r.stats;
    pthread_mutex_destroy(&r.mu);
    if (atomic_load(&r.failed)) {
        *err = r.first_err;
        return -(int)(err->kind ? err->kind : FIRN_ERR_INTERNAL);
    }
    return 0;
}
