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
#include "maintain/maintain.h"
#include "server/server.h"
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

struct discovered;
typedef struct run_ctx {
    const firn_run_options *o;
    const firn_config *cfg;
    firn_stream *stream;
    atomic_bool failed;
    atomic_bool sim_done;
    atomic_bool classify_done;
    atomic_bool processors_done;
    struct discovered *disc; /* types found at run time (unknown-types: create) */
    size_t ndisc;
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
    /* Events already appended (a restart): the simulator is deterministic, skip
     * them. Per partition, not in total: one append spans the partitions, and a
     * crash in the middle of it leaves some partitions with their share of the
     * batch and others without, so the events there are not the first
     * sum(high) of the sequence. What each partition holds is a prefix of the
     * events keyed to it (appends to a partition are in order, a torn tail is
     * cut), so an event is there when fewer of its partition's events came
     * before it than the partition holds. */
    int32_t parts = 0;
    uint64_t *left = NULL; /* per partition: events of the sequence still to skip */
    uint64_t have = 0;
    if (firn_stream_partitions(r->stream, topic, &parts, &err)) goto out;
    left = firn_xcalloc((size_t)parts, sizeof *left);
    for (int32_t p = 0; p < parts; p++) {
        firn_watermarks wm;
        if (firn_stream_watermarks(r->stream, topic, p, &wm, &err)) goto out;
        left[p] = (uint64_t)wm.high;
        have += left[p];
    }
    if (firn_sim_new(&so, &sim, &err)) goto out;
    const firn_sim_event *ev;
    r->stats.sim_skipped = have;
    enum { BATCH = 64 };
    firn_msg msgs[BATCH];
    firn_header hdrs[BATCH];
    firn_buf store[BATCH];
    for (int i = 0; i < BATCH; i++) firn_buf_init(&store[i]);
    uint64_t i = 0, appended = 0;
    uint64_t t0 = firn_now_ns();
    while (i < r->o->sim_events && !stopping(r)) {
        size_t want = BATCH;
        if (r->o->sim_rate > 0) { /* paced: what is due by now, at least one */
            double due = (double)(firn_now_ns() - t0) * r->o->sim_rate / 1e9;
            double ahead = due - (double)appended;
            want = ahead < 1 ? 1 : ahead > BATCH ? BATCH : (size_t)ahead;
        }
        size_t n = 0;
        while (n < want && i < r->o->sim_events) {
            if (firn_sim_next(sim, &ev, &err)) goto out_bufs;
            size_t klen = strlen(ev->car_id);
            if (have) {
                int32_t p = firn_stream_partition_for_key(ev->car_id, klen, parts);
                if (p >= 0 && p < parts && left[p]) { /* appended before the restart */
                    left[p]--;
                    have--;
                    i++;
                    continue;
                }
            }
            /* keep the bytes: the next event reuses the simulator's buffers */
            firn_buf *b = &store[n];
            firn_buf_clear(b);
            firn_buf_append(b, ev->json, ev->json_len);
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
        if (n == 0) continue; /* all of them were there */
        if (firn_stream_append(r->stream, topic, msgs, n, NULL, NULL, &err)) goto out_bufs;
        firn_io_crash_point("sim.after-append");
        r->stats.sim_appended += n;
        appended += n;
        if (r->o->sim_rate > 0) {
            uint64_t due = t0 + (uint64_t)((double)appended * 1e9 / r->o->sim_rate);
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
    free(left);
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
    co.create_unknown = cfg->unknown_types == 1;
    firn_classifier *c = NULL;
    if (firn_classifier_new(r->stream, &co, &c, &err)) goto out;
    for (;;) {
        if (stopping(r)) break;
        size_t n;
        /* draining: an empty poll ends the run, so it waits little */
        if (firn_classifier_step(c, r->o->until_drained ? 10 : 100, &n, &err)) goto out;
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
    struct run_ctx *r;
    const firn_config_type *type; /* NULL: dead letters */
    firn_config_type *created;    /* == type for a type created at run time: it evolves */
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
    firn_ice_table *prod, *untrusted;
    firn_config_type *created; /* a type created at run time, or NULL */
    int id_col;
} type_ctx;

static int type_event(void *ctx, const firn_record *raw, const firn_record *routed,
                      firn_rows *trusted, firn_rows *untrusted, const char *force,
                      firn_error *err) {
    type_ctx *tc = ctx;
    return firn_type_handler_event(tc->h, raw, routed, trusted, untrusted, force, err);
}

static int type_prepare(void *ctx, const firn_record *const *raws, size_t n, firn_error *err) {
    type_ctx *tc = ctx;
    return firn_type_handler_prepare(tc->h, raws, n, err);
}

/* The type created at run time met a new field: its tables get columns. */
static int type_evolve(void *ctx, firn_error *err) {
    type_ctx *tc = ctx;
    size_t before = tc->created->nfields;
    if (firn_type_handler_evolve(&tc->h, tc->created, tc->prod, tc->untrusted, err)) return -1;
    for (size_t i = before; i < tc->created->nfields; i++)
        fprintf(stderr, "firn: type %s: new field %s (%s): tables %s and %s evolved\n",
                tc->created->name, tc->created->fields[i].name,
                firn_field_type_name(tc->created->fields[i].type), tc->created->table,
                tc->created->untrusted_table);
    return 0;
}

/* A batch was abandoned: the window goes back to the ids main holds. */
static int type_abandon(void *ctx, firn_error *err) {
    type_ctx *tc = ctx;
    firn_type_handler_forget_all(tc->h);
    return warm_dedupe(tc->h, tc->prod, tc->id_col, err);
}

/* Partitions were assigned (group mode): ids other workers published from
 * them since this worker last looked join the window (a repeat read here
 * must not pass as new); what the window holds stays. */
static int type_assign(void *ctx, firn_error *err) {
    type_ctx *tc = ctx;
    if (firn_ice_table_refresh(tc->prod, err)) return -1;
    return warm_dedupe(tc->h, tc->prod, tc->id_col, err);
}

/* Feed the metrics registry from a processor's counters (deltas since the
 * last call). */
static void feed_metrics(const char *table, const firn_processor_stats *ps,
                         firn_processor_stats *last, bool dead_letter) {
    char l[700];
    if (ps->rows_trusted > last->rows_trusted) {
        snprintf(l, sizeof l, "table=\"%s\",trust=\"%s\"", table,
                 dead_letter ? "dead-letter" : "trusted");
        firn_metrics_counter_add("firn_rows_committed_total", l,
                                 (double)(ps->rows_trusted - last->rows_trusted));
    }
    if (ps->rows_untrusted > last->rows_untrusted) {
        snprintf(l, sizeof l, "table=\"%s\",trust=\"untrusted\"", table);
        firn_metrics_counter_add("firn_rows_committed_total", l,
                                 (double)(ps->rows_untrusted - last->rows_untrusted));
    }
    snprintf(l, sizeof l, "table=\"%s\"", table);
    uint64_t batches = ps->published + ps->cherry_picked + ps->rejected;
    uint64_t before = last->published + last->cherry_picked + last->rejected;
    if (batches > before) {
        firn_metrics_histogram_observe("firn_commit_seconds", l, (double)ps->last_commit_ms / 1e3);
        firn_metrics_gauge_set("firn_freshness_seconds", l, (double)ps->last_freshness_ms / 1e3);
    }
    if (ps->rejected > last->rejected)
        firn_metrics_counter_add("firn_audit_failures_total", l, (double)(ps->rejected - last->rejected));
    if (ps->fenced > last->fenced)
        firn_metrics_counter_add("firn_fenced_batches_total", l, (double)(ps->fenced - last->fenced));
    if (ps->errors > last->errors)
        firn_metrics_counter_add("firn_failed_batches_total", l, (double)(ps->errors - last->errors));
    *last = *ps;
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
        /* a created type: columns an earlier run added keep their types, and
         * fields the inference found that the tables lack get columns */
        if (pa->created && firn_events_evolve_tables(pa->created, prod, untrusted, &err)) goto out;
        if (firn_type_handler_new(cfg, pa->type, prod, untrusted, &h, &err)) goto out;
        if (pa->created) firn_type_handler_set_evolving(h, true);
        bool image_pool = firn_type_handler_set_image_threads(
                              h, cfg->image_threads < 0 ? firn_image_threads_default()
                                                        : (int)cfg->image_threads) > 0;
        po.event_id_col = firn_type_handler_event_id_col(h, prod);
        /* a publish a crash left half done lands first: its ids belong in the window */
        if (firn_wap_roll_forward(prod, untrusted, history, NULL, &err)) goto out;
        /* a group worker reads nothing before its first assignment, whose
         * on_assign (type_assign) fills the window: scanning here too would
         * read the table twice at start */
        bool group = po.group && *po.group;
        if (!group && warm_dedupe(h, prod, po.event_id_col, &err)) goto out;
        po.prod = prod;
        po.untrusted = untrusted;
        tctx = (type_ctx){h, prod, untrusted, pa->created, po.event_id_col};
        po.on_event = type_event;
        po.on_abandon = type_abandon;
        po.on_assign = type_assign;
        if (image_pool) po.on_prepare = type_prepare;
        if (pa->created) po.on_evolve = type_evolve;
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
    firn_processor_stats last = {0};
    char tname[300];
    snprintf(tname, sizeof tname, "%s.%s", prod->ns, prod->name);
    for (;;) {
        feed_metrics(tname, firn_processor_get_stats(p), &last, !pa->type);
        if (stopping(r)) {
            if (!atomic_load(&r->failed)) firn_processor_flush(p, &err); /* SIGTERM: commit */
            break;
        }
        /* draining: once the classifier is done, nothing new arrives; a
         * batch is committed when a poll finds nothing more (not after every
         * poll: each commit has a fixed cost), and an empty poll waits little */
        bool cls_done = r->o->until_drained && atomic_load(&r->classify_done);
        uint64_t before = firn_processor_get_stats(p)->records;
        if (firn_processor_step(p, cls_done ? 10 : 100, &err)) goto out;
        if (cls_done && firn_processor_get_stats(p)->records == before) {
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
    firn_type_handler_free(tctx.h ? tctx.h : h); /* evolution replaces the handler */
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

/* ------------------------------------------------------------- discovered types */

/*
 * pipeline.unknown-types = create: the classifier gives an unknown event type
 * its own topic; this thread notices the topic, infers the type's fields from
 * its first records (JSON kinds: integer numbers long, others double, strings
 * that are ISO timestamps everywhere seen timestamp, else string; booleans;
 * nested values and fields whose kind varies json, kept as their JSON text;
 * an `image` header an image field), and starts a processor for it with the
 * tables production.<type> and staging.<type>_untrusted (dashes become
 * underscores), partitioned by day of the first timestamp field. The schema
 * evolves: a field first seen later gets a column (events.h,
 * firn_type_handler_evolve) before the event that carries it is written, and
 * a restarted run takes the types of columns added earlier from the tables.
 */
typedef struct infer_field {
    char name[128];
    bool integer_only, number, string, timestamp_only, boolean, nested;
    size_t seen;
} infer_field;

/* production.<type> and staging.<type>_untrusted, dashes and dots as underscores. */
static void created_table_names(const char *topic, char table[300], char untrusted[300]) {
    char base[128];
    snprintf(base, sizeof base, "%s", topic);
    for (char *q = base; *q; q++)
        if (*q == '-' || *q == '.') *q = '_';
    snprintf(table, 300, "production.%s", base);
    snprintf(untrusted, 300, "staging.%s_untrusted", base);
}

/* A type an earlier run created: its tables say what it is (its columns,
 * including those evolution added). NULL with err NOT_FOUND when new. */
static firn_config_type *known_type(run_ctx *r, const char *topic, firn_error *err) {
    firn_catalog *cat = NULL;
    if (open_catalog(r->cfg, &cat, err)) return NULL;
    char table[300], untrusted[300];
    created_table_names(topic, table, untrusted);
    firn_config_type *t = firn_events_type_from_table(cat, topic, topic, table, untrusted,
                                                      r->cfg->route_field, err);
    firn_cat_free(cat);
    return t;
}

static firn_config_type *infer_type(run_ctx *r, const char *topic, firn_error *err) {
    const firn_config *cfg = r->cfg;
    int32_t np = 0;
    if (firn_stream_partitions(r->stream, topic, &np, err)) return NULL;
    infer_field fields[64];
    size_t nf = 0, seen = 0;
    bool image = false;
    firn_event ev;
    firn_event_init(&ev);
    firn_event_limits lim;
    firn_event_limits_from_config(&lim, cfg);
    for (int32_t p = 0; p < np && seen < 100; p++) {
        firn_watermarks wm;
        if (firn_stream_watermarks(r->stream, topic, p, &wm, err)) break;
        if (wm.high <= wm.low) continue;
        firn_consumer *c = NULL;
        if (firn_consumer_open(r->stream, NULL, &c, err)) break;
        firn_topic_partition tp = {topic, p, wm.low};
        const firn_record *recs;
        size_t n = 0;
        if (firn_consumer_assign(c, &tp, 1, err) == 0) firn_consumer_poll(c, 500, &recs, &n, err);
        for (size_t i = 0; i < n && i < 50; i++) {
            firn_record *owned;
            const firn_record *raw;
            if (firn_pipeline_resolve(r->stream, cfg->stream_raw_topic, &recs[i], &owned, &raw, err))
                break;
            if (firn_record_header(raw, "image", NULL)) image = true;
            if (!firn_event_parse(&ev, raw->value, raw->value_len, &lim)) {
                seen++;
                for (size_t k = 0; k < ev.nfields; k++) {
                    const firn_event_field *f = &ev.fields[k];
                    if (f->name_len >= sizeof fields[0].name || memchr(f->name, 0, f->name_len)) continue;
                    size_t j;
                    for (j = 0; j < nf; j++)
                        if (strlen(fields[j].name) == f->name_len &&
                            !memcmp(fields[j].name, f->name, f->name_len))
                            break;
                    if (j == nf) {
                        if (nf == 64) continue;
                        memset(&fields[nf], 0, sizeof fields[nf]);
                        memcpy(fields[nf].name, f->name, f->name_len);
                        fields[nf].integer_only = fields[nf].timestamp_only = true;
                        nf++;
                    }
                    infer_field *x = &fields[j];
                    x->seen++;
                    int64_t us;
                    switch (f->kind) {
                    case FIRN_JSON_NUMBER:
                        x->number = true;
                        if (memchr(f->value, '.', f->value_len) || memchr(f->value, 'e', f->value_len) ||
                            memchr(f->value, 'E', f->value_len))
                            x->integer_only = false;
                        break;
                    case FIRN_JSON_STRING:
                        x->string = true;
                        if (firn_parse_timestamp(f->value, f->value_len, &us)) x->timestamp_only = false;
                        break;
                    case FIRN_JSON_TRUE:
                    case FIRN_JSON_FALSE: x->boolean = true; break;
                    case FIRN_JSON_OBJECT:
                    case FIRN_JSON_ARRAY: x->nested = true; break;
                    default: break;
                    }
                }
            }
            if (owned) firn_stream_record_release(owned);
        }
        firn_consumer_close(c);
    }
    firn_event_release(&ev);
    if (err->kind) return NULL;
    if (!seen) {
        FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "topic %s: no parseable event to infer a type from", topic);
        return NULL;
    }
    firn_config_type *t = firn_xcalloc(1, sizeof *t);
    t->name = firn_xstrdup(topic);
    t->topic = firn_xstrdup(topic);
    char table[300], untrusted[300], buf[300];
    created_table_names(topic, table, untrusted);
    t->table = firn_xstrdup(table);
    t->untrusted_table = firn_xstrdup(untrusted);
    t->partition = firn_xstrdup("");
    t->fields = firn_xcalloc(nf + 2, sizeof *t->fields);
    for (size_t j = 0; j < nf; j++) {
        infer_field *x = &fields[j];
        if (!strcmp(x->name, "image") && image) continue; /* the header wins */
        /* nested values and fields whose kind changes between events are
         * kept as their JSON text */
        bool mixed = x->nested || (x->number + x->string + x->boolean) != 1;
        firn_field_type ty = mixed                ? FIRN_FIELD_JSON
                             : x->number          ? (x->integer_only ? FIRN_FIELD_LONG : FIRN_FIELD_DOUBLE)
                             : x->boolean         ? FIRN_FIELD_BOOLEAN
                             : x->timestamp_only  ? FIRN_FIELD_TIMESTAMP
                                                  : FIRN_FIELD_STRING;
        firn_config_field *f = &t->fields[t->nfields++];
        firn_config_field_init(f, x->name, ty);
        f->required = !strcmp(x->name, cfg->route_field);
        f->unique = (ty == FIRN_FIELD_STRING || ty == FIRN_FIELD_LONG) && !strcmp(x->name, "eventId");
        if (f->type == FIRN_FIELD_TIMESTAMP && !*t->partition) {
            free(t->partition);
            snprintf(buf, sizeof buf, "day(%s)", f->name);
            t->partition = firn_xstrdup(buf);
        }
    }
    if (image) firn_config_field_init(&t->fields[t->nfields++], "image", FIRN_FIELD_IMAGE);
    return t;
}

static void *process_thread(void *arg);

typedef struct discovered {
    firn_config_type *type;
    struct proc_arg *pa;
} discovered;

static bool known_topic(run_ctx *r, const char *topic) {
    const firn_config *cfg = r->cfg;
    if (!strcmp(topic, cfg->stream_raw_topic) || !strcmp(topic, cfg->stream_dead_letter_topic))
        return true;
    for (size_t i = 0; i < cfg->ntypes; i++)
        if (!strcmp(topic, cfg->types[i].topic)) return true;
    pthread_mutex_lock(&r->mu);
    bool found = false;
    for (size_t i = 0; i < r->ndisc && !found; i++) found = !strcmp(r->disc[i].type->topic, topic);
    pthread_mutex_unlock(&r->mu);
    return found;
}

static void *discover_thread(void *arg) {
    run_ctx *r = arg;
    firn_error err;
    firn_error_init(&err);
    for (bool last = false;;) {
        bool cls_done = atomic_load(&r->classify_done);
        char **topics = NULL;
        size_t n = 0;
        if (firn_stream_topics(r->stream, &topics, &n, &err) == 0) {
            for (size_t i = 0; i < n; i++) {
                if (known_topic(r, topics[i])) continue;
                firn_config_type *t = known_type(r, topics[i], &err);
                bool inferred = false;
                if (!t && err.kind == FIRN_ERR_NOT_FOUND) {
                    firn_error_release(&err);
                    firn_error_init(&err);
                    t = infer_type(r, topics[i], &err);
                    inferred = true;
                }
                if (!t) { /* no event yet (or the catalog failed): try again later */
                    firn_error_release(&err);
                    firn_error_init(&err);
                    continue;
                }
                if (!r->o->quiet)
                    fprintf(stderr, "firn: %s event type %s: %zu fields %s, tables %s and %s\n",
                            inferred ? "new" : "created", t->name, t->nfields,
                            inferred ? "inferred" : "from its tables", t->table, t->untrusted_table);
                struct proc_arg *pa = firn_xcalloc(1, sizeof *pa);
                pa->r = r;
                pa->type = pa->created = t;
                pthread_mutex_lock(&r->mu);
                r->disc = firn_xrealloc(r->disc, (r->ndisc + 1) * sizeof *r->disc);
                r->disc[r->ndisc++] = (discovered){t, pa};
                pthread_mutex_unlock(&r->mu);
                pthread_create(&pa->th, NULL, process_thread, pa);
            }
            for (size_t i = 0; i < n; i++) free(topics[i]);
            free(topics);
        } else {
            firn_error_release(&err);
            firn_error_init(&err);
        }
        if (last || stopping(r)) break;
        if (cls_done) last = true; /* one more look after the classifier's last routing */
        else sleep_ms(200);
    }
    return NULL;
}

/* ------------------------------------------------------------- maintenance */

/* The tables the pipeline writes (created by the processors). */
static size_t pipeline_tables(const firn_config *cfg, const char **out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < cfg->ntypes && n + 2 <= cap; i++) {
        out[n++] = cfg->types[i].table;
        out[n++] = cfg->types[i].untrusted_table;
    }
    if (n < cap) out[n++] = FIRN_DEAD_LETTER_TABLE;
    if (n < cap) out[n++] = FIRN_HISTORY_TABLE;
    return n;
}

static int load_ident(firn_catalog *cat, const char *full, firn_ice_table **t, firn_error *err) {
    char ns[256], name[256];
    if (firn_cat_ident_split(full, ns, sizeof ns, name, sizeof name, err)) return -1;
    return firn_ice_table_load(cat, ns, name, t, err);
}

/* The daily tag: the first time main has a snapshot of a new UTC day, tag it
 * <prefix>YYYY-MM-DD (a tag that expires after tagging.daily-retention). */
typedef struct tag_ctx {
    firn_ice_ref ref;
} tag_ctx;

static int tag_apply(void *ctx, firn_ice_metadata *md, firn_error *err) {
    tag_ctx *tc = ctx;
    if (firn_ice_metadata_ref(md, tc->ref.name)) return 0; /* another process tagged it */
    if (!firn_ice_metadata_snapshot(md, tc->ref.snapshot_id)) return 0; /* expired meanwhile */
    return firn_ice_metadata_set_snapshot_ref(md, &tc->ref, err);
}

static int tag_daily(const firn_config *cfg, firn_ice_table *t, firn_error *err) {
    const firn_ice_snapshot *s = firn_ice_metadata_current_snapshot(t->metadata);
    if (!s) return 0;
    time_t secs = (time_t)(s->timestamp_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char name[128];
    snprintf(name, sizeof name, "%s%04d-%02d-%02d",
             cfg->tag_daily_prefix ? cfg->tag_daily_prefix : "daily-", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday);
    if (firn_ice_metadata_ref(t->metadata, name)) return 0;
    tag_ctx tc = {firn_ice_ref_make(name, s->snapshot_id, FIRN_ICE_REF_TAG)};
    if (cfg->tag_daily_retention_us > 0) tc.ref.max_ref_age_ms = cfg->tag_daily_retention_us / 1000;
    firn_ice_update u = {tag_apply, NULL, &tc};
    return firn_ice_table_commit(t, &u, 1, NULL, err);
}

typedef struct maint_op {
    const char *name;
    int64_t interval_us;
    int64_t next_us;
} maint_op;

static void record_run(const char *table, const char *op, const firn_maintain_result *res) {
    firn_server_record_maintenance(table, op, res); /* metrics and the dashboard's list */
}

/* Source lag: per topic/partition, the log's end minus what main records. */
static void feed_lag(run_ctx *r, firn_catalog *cat) {
    const firn_config *cfg = r->cfg;
    for (size_t i = 0; i < cfg->ntypes; i++) {
        firn_error err;
        firn_error_init(&err);
        firn_ice_table *t = NULL;
        if (load_ident(cat, cfg->types[i].table, &t, &err) == 0) {
            firn_offset_map m = {0};
            firn_offsets_recover(t->metadata, FIRN_ICE_MAIN_BRANCH, &m, NULL);
            int32_t np = 0;
            if (firn_stream_partitions(r->stream, cfg->types[i].topic, &np, &err) == 0)
                for (int32_t p = 0; p < np; p++) {
                    firn_watermarks wm;
                    if (firn_stream_watermarks(r->stream, cfg->types[i].topic, p, &wm, &err)) break;
                    char l[256];
                    snprintf(l, sizeof l, "topic=\"%s\",partition=\"%d\"", cfg->types[i].topic, p);
                    int64_t at = firn_offset_map_get(&m, cfg->types[i].topic, p, wm.low);
                    firn_metrics_gauge_set("firn_source_lag_records", l, (double)(wm.high - at));
                }
            firn_offset_map_release(&m);
        }
        firn_ice_table_free(t);
        firn_error_release(&err);
    }
}

static void *maintain_thread(void *arg) {
    run_ctx *r = arg;
    const firn_config *cfg = r->cfg;
    firn_error err;
    firn_error_init(&err);
    firn_catalog *cat = NULL;
    if (open_catalog(cfg, &cat, &err)) {
        fail(r, "maintain", &err);
        return NULL;
    }
    maint_op ops[] = {
        {"compact", cfg->compact_interval_us, 0},
        {"rewrite-manifests", cfg->rewrite_manifests_interval_us, 0},
        {"expire-snapshots", cfg->expire_interval_us, 0},
        {"remove-orphans", cfg->orphans_interval_us, 0},
    };
    int64_t start = firn_now_us();
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) ops[i].next_us = start + ops[i].interval_us;
    int64_t next_lag = 0;
    while (!stopping(r) && !(r->o->until_drained && atomic_load(&r->processors_done))) {
        int64_t now = firn_now_us();
        if (now >= next_lag) {
            feed_lag(r, cat);
            next_lag = now + 2000000;
        }
        const char *tables[64];
        size_t nt = pipeline_tables(cfg, tables, 64);
        for (size_t k = 0; k < sizeof ops / sizeof ops[0] && !stopping(r); k++) {
            maint_op *op = &ops[k];
            if (op->interval_us <= 0 || now < op->next_us) continue;
            op->next_us = now + op->interval_us;
            for (size_t i = 0; i < nt && !stopping(r); i++) {
                firn_ice_table *t = NULL;
                if (load_ident(cat, tables[i], &t, &err)) { /* not created yet */
                    firn_error_release(&err);
                    firn_error_init(&err);
                    continue;
                }
                firn_maintain_options mo;
                firn_maintain_options_init(&mo);
                firn_maintain_result res;
                memset(&res, 0, sizeof res);
                int rc = 0;
                if (!strcmp(op->name, "compact")) {
                    mo.min_input_files = (int)cfg->compact_min_files;
                    mo.target_size = cfg->compact_target_file_bytes;
                    rc = firn_maintain_compact(t, &mo, &res, &err);
                } else if (!strcmp(op->name, "rewrite-manifests")) {
                    rc = firn_maintain_rewrite_manifests(t, &mo, &res, &err);
                } else if (!strcmp(op->name, "expire-snapshots")) {
                    mo.older_than_ms = cfg->expire_older_than_us / 1000;
                    mo.retain_last = (int)cfg->expire_retain_last;
                    rc = firn_maintain_expire_snapshots(t, &mo, &res, &err);
                    if (rc == 0) rc = firn_maintain_clean_metadata(t, &mo, &res, &err);
                } else {
                    mo.orphan_margin_ms = cfg->orphans_older_than_us / 1000;
                    rc = firn_maintain_remove_orphans(t, &mo, &res, &err);
                }
                if (rc) {
                    char buf[1024];
                    fprintf(stderr, "firn: maintain %s %s: %s\n", op->name, tables[i],
                            firn_error_format(&err, buf, sizeof buf));
                    firn_error_release(&err);
                    firn_error_init(&err);
                    char l[700];
                    snprintf(l, sizeof l, "table=\"%s\",op=\"%s\"", tables[i], op->name);
                    firn_metrics_counter_add("firn_maintenance_failures_total", l, 1);
                } else {
                    record_run(tables[i], op->name, &res);
                    pthread_mutex_lock(&r->mu);
                    r->stats.maintenance_runs++;
                    if (!strcmp(op->name, "compact")) r->stats.compactions += res.groups_committed;
                    pthread_mutex_unlock(&r->mu);
                }
                firn_maintain_result_release(&res);
                firn_ice_table_free(t);
            }
        }
        if (cfg->tag_daily)
            for (size_t i = 0; i < cfg->ntypes; i++) {
                firn_ice_table *t = NULL;
                if (load_ident(cat, cfg->types[i].table, &t, &err) == 0) tag_daily(cfg, t, &err);
                firn_error_release(&err);
                firn_error_init(&err);
                firn_ice_table_free(t);
            }
        /* 100 ms, in slices: a drained run does not wait for the last one */
        for (int i = 0; i < 10 && !stopping(r) &&
                        !(r->o->until_drained && atomic_load(&r->processors_done)); i++)
            sleep_ms(10);
    }
    firn_cat_free(cat);
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
    /* every table the pipeline creates carries the metadata budget */
    size_t ndefaults;
    const firn_ice_kv *defaults = firn_maintain_default_properties(&ndefaults);
    firn_events_set_table_defaults(defaults, ndefaults);
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
    /* the server shares the run's stream (ingest appends to the same raw topic) */
    firn_server *server = NULL;
    if (o->listen) {
        firn_server_options sopt;
        firn_server_options_init(&sopt);
        sopt.cfg = cfg;
        sopt.listen = o->listen;
        sopt.stream = r.stream;
        if (firn_server_start(&sopt, &server, err)) {
            if (lockfd >= 0) close(lockfd);
            firn_stream_close(r.stream);
            return FIRN_WRAP(err, err->kind, "server on %s", o->listen);
        }
        if (!o->quiet)
            fprintf(stderr, "firn: serving the dashboard on %s://%s/ (port %d)\n",
                    firn_server_tls(server) ? "https" : "http", o->listen, firn_server_port(server));
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
            pas[np] = (proc_arg){&r, t, NULL, 0};
            pthread_create(&pas[np].th, NULL, process_thread, &pas[np]);
            np++;
        }
    }
    pthread_t disc_th;
    bool disc_on = o->process && !o->only_topic && cfg->unknown_types == 1;
    if (disc_on) pthread_create(&disc_th, NULL, discover_thread, &r);
    pthread_t mt_th;
    bool mt_on = o->process && cfg->maintain_enabled;
    if (mt_on) pthread_create(&mt_th, NULL, maintain_thread, &r);
    if (sim_on) pthread_join(sim_th, NULL);
    if (cls_on) pthread_join(cls_th, NULL);
    if (disc_on) pthread_join(disc_th, NULL);
    for (size_t i = 0; i < np; i++) pthread_join(pas[i].th, NULL);
    for (size_t i = 0; i < r.ndisc; i++) pthread_join(r.disc[i].pa->th, NULL);
    atomic_store(&r.processors_done, true);
    if (mt_on) pthread_join(mt_th, NULL);
    free(pas);
    for (size_t i = 0; i < r.ndisc; i++) {
        firn_events_free_type(r.disc[i].type);
        free(r.disc[i].pa);
    }
    free(r.disc);
    firn_server_stop(server);
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
