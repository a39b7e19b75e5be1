/*
 * process.c - the per-topic processor: consume a type topic from the offsets
 * its production table records, turn events into trusted or untrusted rows,
 * and publish batches with Write-Audit-Publish (wap.c).
 */
#include "pipeline/pipeline.h"

#include "io/io.h"
#include "stream/stream.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A sequential reader of one raw partition (spool): routed records are index
 * entries pointing into the raw topic in increasing offset order, so one
 * consumer per raw partition reads them in the order they are needed instead
 * of one random read (firn_stream_get) per event. It seeks when the next
 * wanted offset is behind its window or far ahead of it. */
typedef struct raw_reader {
    firn_consumer *c;
    const firn_record *recs; /* the last poll's records (this partition only) */
    size_t n, i;
    int64_t next; /* the offset the consumer returns next */
} raw_reader;

/* Read on rather than seek when the wanted offset is at most this far ahead. */
#define RAW_SEEK_GAP 4096
#define RAW_POLL_RECORDS 4096
#define RAW_POLL_BYTES (4u << 20)

/* A group of events handed to on_prepare at most. */
#define PREP_MAX_EVENTS 64
#define PREP_MAX_BYTES (32u << 20)

typedef struct part_state {
    int64_t expected; /* next offset main records (the batch start) */
    int64_t end;      /* one past the last offset in the open batch */
    int64_t next;     /* group mode: the offset the consumer returns next */
    bool owned;       /* read by this processor (always, without a group) */
    bool need_seek;   /* group mode: the consumer is not at end */
} part_state;

struct firn_processor {
    firn_stream *s;
    firn_processor_options o;
    char *topic, *raw_topic, *branch, *worker;
    int32_t partitions;
    part_state *parts;
    firn_consumer *c;
    bool spool;
    raw_reader *raw; /* per raw partition, grown on demand */
    int32_t nraw;
    firn_rows trusted, untrusted;
    bool has_untrusted;
    size_t batch_events;
    int64_t batch_started_ms; /* wall clock of the first event, 0 when empty */
    int64_t oldest_ts_ms;     /* append time of the oldest event in the batch */
    firn_processor_stats stats;
    bool group;      /* consumer-group mode */
    bool rebalanced; /* set by the rebalance callback, handled after the poll */
    bool in_rebalance; /* publishing inside the rebalance callback: no consumer calls */
    bool newly_assigned; /* partitions came: on_assign runs after the poll */
    long stop_at;    /* FIRN_PROCESS_STOP_AT_BATCH */
    long pause_ms;   /* FIRN_PROCESS_PAUSE_BEFORE_PUBLISH_MS */
    /* on_prepare's group: the raw records (copies in prep_arena on the spool) */
    firn_arena prep_arena;
    const firn_record *prep[PREP_MAX_EVENTS];
    bool prepared; /* the handler holds a group (on_prepare(NULL, 0) forgets it) */
};

static int64_t now_ms(void) { return firn_now_us() / 1000; }

static int seek_all(firn_processor *p, firn_error *err) {
    firn_topic_partition *tps = firn_xcalloc((size_t)p->partitions, sizeof *tps);
    for (int32_t i = 0; i < p->partitions; i++) {
        tps[i] = (firn_topic_partition){p->topic, i, p->parts[i].expected};
        p->parts[i].end = p->parts[i].expected;
    }
    int rc = firn_consumer_assign(p->c, tps, (size_t)p->partitions, err);
    free(tps);
    return rc;
}

/* Partition k's batch starts at main's offset (map m), or at the log's start
 * when main never saw it. */
static int start_at_main(firn_processor *p, const firn_offset_map *m, int32_t k, firn_error *err) {
    int64_t v = firn_offset_map_get(m, p->topic, k, -1);
    if (v < 0) {
        firn_watermarks wm;
        if (firn_stream_watermarks(p->s, p->topic, k, &wm, err)) return -1;
        v = wm.low;
    }
    p->parts[k].expected = p->parts[k].end = v;
    return 0;
}

/* Offsets from the production table's main; partitions it never saw start at
 * the log's start. */
static int recover(firn_processor *p, firn_error *err) {
    if (firn_ice_table_refresh(p->o.prod, err)) return -1;
    firn_offset_map m = {0};
    firn_offsets_recover(p->o.prod->metadata, FIRN_ICE_MAIN_BRANCH, &m, NULL);
    int rc = 0;
    for (int32_t i = 0; i < p->partitions && rc == 0; i++) rc = start_at_main(p, &m, i, err);
    firn_offset_map_release(&m);
    return rc;
}

/* Group mode: move the consumer of every owned partition whose position is
 * not the open batch's end back there. A failed seek (the partition was just
 * revoked; the next poll says so) is left to the gap check of add_records. */
static void group_reposition(firn_processor *p) {
    for (int32_t i = 0; i < p->partitions; i++) {
        part_state *ps = &p->parts[i];
        if (!ps->owned || (ps->next == ps->end && !ps->need_seek)) continue;
        firn_error err;
        firn_error_init(&err);
        if (getenv("FIRN_PROCESS_DEBUG"))
            fprintf(stderr, "firn: %s (worker %s): seek %d from %lld to %lld%s\n", p->topic,
                    p->worker, i, (long long)ps->next, (long long)ps->end,
                    ps->need_seek ? " (gap)" : "");
        if (firn_consumer_seek(p->c, p->topic, i, ps->end, &err) == 0) {
            ps->next = ps->end;
            ps->need_seek = false;
        } else {
            char msg[512];
            fprintf(stderr, "firn: %s (worker %s): seek %d to %lld: %s\n", p->topic, p->worker,
                    i, (long long)ps->end, firn_error_format(&err, msg, sizeof msg));
            ps->need_seek = true;
        }
        firn_error_release(&err);
    }
}

static void reset_batch(firn_processor *p) {
    firn_rows_clear(&p->trusted);
    if (p->has_untrusted) firn_rows_clear(&p->untrusted);
    p->batch_events = 0;
    p->batch_started_ms = 0;
    p->oldest_ts_ms = 0;
    for (int32_t i = 0; i < p->partitions; i++) p->parts[i].end = p->parts[i].expected;
}

static int commit_batch(firn_processor *p, firn_error *err);

static uint64_t batch_bytes(const firn_processor *p) {
    return p->trusted.bytes + (p->has_untrusted ? p->untrusted.bytes : 0);
}

/* Group mode: main's offset of each of the n partitions tps, which start
 * there (the open batch of other partitions is left alone). */
static int recover_parts(firn_processor *p, firn_topic_partition *tps, size_t n, firn_error *err) {
    if (firn_ice_table_refresh(p->o.prod, err)) return -1;
    firn_offset_map m = {0};
    firn_offsets_recover(p->o.prod->metadata, FIRN_ICE_MAIN_BRANCH, &m, NULL);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int32_t k = tps[i].partition;
        if (k < 0 || k >= p->partitions) continue;
        rc = start_at_main(p, &m, k, err);
    }
    firn_offset_map_release(&m);
    return rc;
}

/* The consumer group moved partitions (called inside a poll, before the
 * group goes on). Partitions taken away: the open batch is published now,
 * while this worker still owns them (Kafka Connect's flush on revoke); if its
 * partitions already moved and the new owner published first, the fence
 * refuses it and nothing lands twice. A batch that cannot be published here
 * (fenced, rejected by the audit: its re-read needs the consumer) is
 * abandoned and read again by the partitions' next owner. Assigned
 * partitions start at what main records now; the open batch of partitions
 * kept (cooperative rebalancing) goes on. The poll's records are dropped
 * after it returns (handle_rebalance). */
static void on_rebalance(void *ctx, bool assigned, firn_topic_partition *tps, size_t n) {
    firn_processor *p = ctx;
    p->rebalanced = true;
    p->stats.rebalances++;
    firn_error err;
    firn_error_init(&err);
    if (!assigned && p->batch_events) {
        size_t events = p->batch_events;
        uint64_t fenced = p->stats.fenced, errors = p->stats.errors;
        p->in_rebalance = true;
        int rc = commit_batch(p, &err);
        p->in_rebalance = false;
        bool published = rc == 0 && p->stats.fenced == fenced && p->stats.errors == errors;
        fprintf(stderr, "firn: %s (worker %s): rebalance: the open batch of %zu events is %s\n",
                p->topic, p->worker, events,
                published ? "published before the partitions go" : "abandoned (not published)");
        if (!published) p->stats.abandoned++;
        if (rc) {
            char msg[512];
            fprintf(stderr, "firn: %s (worker %s): %s\n", p->topic, p->worker,
                    firn_error_format(&err, msg, sizeof msg));
            reset_batch(p);
        }
        firn_error_release(&err);
        firn_error_init(&err);
    }
    if (assigned) p->newly_assigned = true;
    if (assigned && recover_parts(p, tps, n, &err)) {
        char msg[512];
        fprintf(stderr, "firn: %s (worker %s): reading main's offsets at assignment: %s\n",
                p->topic, p->worker, firn_error_format(&err, msg, sizeof msg));
        for (size_t i = 0; i < n; i++) /* re-read and sought after the poll */
            if (tps[i].partition >= 0 && tps[i].partition < p->partitions)
                p->parts[tps[i].partition].need_seek = true;
    }
    firn_error_release(&err);
    char list[512];
    size_t len = 0;
    list[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t k = tps[i].partition;
        if (k < 0 || k >= p->partitions) continue;
        part_state *ps = &p->parts[k];
        ps->owned = assigned;
        if (assigned) {
            tps[i].offset = ps->expected;
            ps->next = ps->expected;
        } else {
            ps->end = ps->expected; /* nothing of it stays in a batch */
        }
        if (len < sizeof list - 40)
            len += (size_t)snprintf(list + len, sizeof list - len, assigned ? " %d@%lld" : " %d", k,
                                    (long long)ps->expected);
    }
    int32_t owned = 0;
    for (int32_t i = 0; i < p->partitions; i++) owned += p->parts[i].owned;
    p->stats.assigned = owned;
    fprintf(stderr, "firn: %s (worker %s): %s partitions%s (now %d)\n", p->topic, p->worker,
            assigned ? "assigned" : "revoked", list, owned);
}

int firn_processor_new(firn_stream *s, const firn_processor_options *o, firn_processor **out,
                       firn_error *err) {
    *out = NULL;
    firn_processor *p = firn_xcalloc(1, sizeof *p);
    p->s = s;
    p->o = *o;
    p->topic = firn_xstrdup(o->topic);
    p->raw_topic = firn_xstrdup(o->raw_topic ? o->raw_topic : "events");
    p->branch = firn_xstrdup(o->branch ? o->branch : "dev");
    p->worker = firn_xstrdup(o->worker ? o->worker : "firn");
    if (!p->o.commit_interval_ms) p->o.commit_interval_ms = 1000;
    if (!p->o.commit_max_bytes) p->o.commit_max_bytes = 64ull << 20;
    p->spool = strcmp(firn_stream_kind(s), "spool") == 0;
    firn_arena_init(&p->prep_arena, 4u << 20);
    int rc = firn_stream_partitions(s, p->topic, &p->partitions, err);
    if (rc == 0) {
        p->parts = firn_xcalloc((size_t)p->partitions, sizeof *p->parts);
        rc = firn_rows_init(&p->trusted, firn_ice_metadata_current_schema(o->prod->metadata), err);
    }
    if (rc == 0 && o->untrusted) {
        rc = firn_rows_init(&p->untrusted,
                            firn_ice_metadata_current_schema(o->untrusted->metadata), err);
        p->has_untrusted = rc == 0;
    }
    /* publishes a crash left half done (no atomic multi-table commits) first:
     * they may move main's offsets */
    if (rc == 0) rc = firn_wap_roll_forward(o->prod, o->untrusted, o->history, NULL, err);
    if (rc == 0) rc = recover(p, err);
    firn_consumer_options co;
    firn_consumer_options_init(&co);
    co.max_poll_records = o->max_poll_records ? o->max_poll_records : 10000;
    p->group = o->group && *o->group;
    const char *stop = getenv("FIRN_PROCESS_STOP_AT_BATCH");
    p->stop_at = stop ? atol(stop) : 0;
    const char *pause = getenv("FIRN_PROCESS_PAUSE_BEFORE_PUBLISH_MS");
    p->pause_ms = pause ? atol(pause) : 0;
    if (p->group) {
        co.group = o->group;
        co.on_rebalance = on_rebalance;
        co.rebalance_ctx = p;
    }
    if (rc == 0) rc = firn_consumer_open(s, &co, &p->c, err);
    if (rc == 0 && p->group) {
        const char *topics[1] = {p->topic};
        rc = firn_consumer_subscribe(p->c, topics, 1, err);
    } else if (rc == 0) {
        for (int32_t i = 0; i < p->partitions; i++) p->parts[i].owned = true;
        p->stats.assigned = p->partitions;
        rc = seek_all(p, err);
    }
    if (rc) {
        FIRN_WRAP(err, err->kind, "processor for %s", o->topic);
        firn_processor_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void firn_processor_free(firn_processor *p) {
    if (!p) return;
    firn_consumer_close(p->c);
    for (int32_t i = 0; i < p->nraw; i++) firn_consumer_close(p->raw[i].c);
    free(p->raw);
    firn_arena_release(&p->prep_arena);
    firn_rows_release(&p->trusted);
    if (p->has_untrusted) firn_rows_release(&p->untrusted);
    free(p->parts);
    free(p->topic);
    free(p->raw_topic);
    free(p->branch);
    free(p->worker);
    free(p);
}

const firn_processor_stats *firn_processor_get_stats(const firn_processor *p) {
    return &p->stats;
}

static void raw_reader_drop(raw_reader *rr) {
    firn_consumer_close(rr->c);
    memset(rr, 0, sizeof *rr);
}

/* The raw record at (partition, offset) through the partition's sequential
 * reader; NULL when the reader cannot get it (the caller falls back to
 * firn_stream_get, which reports the error). */
static const firn_record *raw_read(firn_processor *p, int32_t part, int64_t off) {
    if (part < 0 || part > 65535) return NULL;
    if (part >= p->nraw) {
        p->raw = firn_xrealloc(p->raw, (size_t)(part + 1) * sizeof *p->raw);
        memset(p->raw + p->nraw, 0, (size_t)(part + 1 - p->nraw) * sizeof *p->raw);
        p->nraw = part + 1;
    }
    raw_reader *rr = &p->raw[part];
    firn_error err;
    firn_error_init(&err);
    for (int polls = 0; polls < 64; polls++) {
        while (rr->i < rr->n && rr->recs[rr->i].offset < off) rr->i++;
        if (rr->i < rr->n && rr->recs[rr->i].offset == off) return &rr->recs[rr->i];
        bool behind = rr->i < rr->n; /* the window is past off: a gap or a step back */
        int rc = 0;
        if (!rr->c) {
            firn_consumer_options co;
            firn_consumer_options_init(&co);
            co.max_poll_records = RAW_POLL_RECORDS;
            co.max_poll_bytes = RAW_POLL_BYTES;
            firn_topic_partition tp = {p->raw_topic, part, off};
            rc = firn_consumer_open(p->s, &co, &rr->c, &err);
            if (rc == 0) rc = firn_consumer_assign(rr->c, &tp, 1, &err);
            rr->next = off;
        } else if (behind || off < rr->next || off - rr->next > RAW_SEEK_GAP) {
            rc = firn_consumer_seek(rr->c, p->raw_topic, part, off, &err);
            rr->next = off;
        }
        rr->n = rr->i = 0;
        rr->recs = NULL;
        size_t n = 0;
        if (rc == 0) rc = firn_consumer_poll(rr->c, 1000, &rr->recs, &n, &err);
        if (rc || n == 0) break;
        rr->n = n;
        rr->next = rr->recs[n - 1].offset + 1;
    }
    firn_error_release(&err);
    raw_reader_drop(rr);
    return NULL;
}

/* The raw record of routed record r without copying: the sequential
 * reader's (valid until that raw partition is read again) or r itself; NULL
 * when it cannot be read that way. */
static const firn_record *raw_view(firn_processor *p, const firn_record *r) {
    int32_t rp;
    int64_t ro;
    if (r->value_len == 0 && firn_pipeline_raw_ref(r, &rp, &ro))
        return p->spool ? raw_read(p, rp, ro) : r;
    return r;
}

/* A copy of rec (topic, key, value, headers) in the prep arena. */
static const firn_record *prep_copy(firn_processor *p, const firn_record *rec) {
    firn_arena *a = &p->prep_arena;
    firn_record *c = firn_arena_alloc(a, sizeof *c);
    *c = *rec;
    c->topic = rec->topic ? firn_arena_strdup(a, rec->topic) : NULL;
    c->key = rec->key_len ? firn_arena_memdup(a, rec->key, rec->key_len) : rec->key;
    c->value = firn_arena_memdup(a, rec->value ? rec->value : "", rec->value_len);
    firn_header *h = rec->n_headers ? firn_arena_alloc(a, rec->n_headers * sizeof *h) : NULL;
    for (size_t i = 0; i < rec->n_headers; i++) {
        h[i].key = firn_arena_strdup(a, rec->headers[i].key);
        h[i].value = firn_arena_memdup(a, rec->headers[i].value ? rec->headers[i].value : "",
                                       rec->headers[i].value_len);
        h[i].value_len = rec->headers[i].value_len;
    }
    c->headers = h;
    return c;
}

/* Make the handler forget its group (its verdicts are for records that may
 * be gone after a publish: a re-read replaces the poll's records). */
static void prep_forget(firn_processor *p) {
    if (!p->prepared) return;
    p->prepared = false;
    firn_error e;
    firn_error_init(&e);
    p->o.on_prepare(p->o.event_ctx, NULL, 0, &e);
    firn_error_release(&e);
}

/* From recs[i]: the run of consecutive records whose raw record carries an
 * image, handed to on_prepare; their raw records (copied on the spool, where
 * the next read of a raw partition replaces what the reader returned) go to
 * p->prep[0..). Returns the run's length, 0 when recs[i] has no image (or
 * is not readable here: the usual path reports that). */
static size_t prepare_run(firn_processor *p, const firn_record *recs, size_t i, size_t n,
                          firn_error *err, int *rc) {
    *rc = 0;
    prep_forget(p);
    firn_arena_recycle(&p->prep_arena);
    size_t k = 0, bytes = 0;
    for (size_t j = i; j < n && k < PREP_MAX_EVENTS && bytes < PREP_MAX_BYTES; j++, k++) {
        const firn_record *r = &recs[j];
        if (r->partition < 0 || r->partition >= p->partitions) break;
        const firn_record *raw = raw_view(p, r);
        size_t ilen = 0;
        if (!raw || !firn_record_header(raw, "image", &ilen)) break;
        bytes += raw->value_len + ilen;
        p->prep[k] = p->spool ? prep_copy(p, raw) : raw;
    }
    if (k) {
        p->prepared = true;
        *rc = p->o.on_prepare(p->o.event_ctx, p->prep, k, err);
    }
    return k;
}

static int handle(firn_processor *p, const firn_record *r, const char *force,
                  const firn_record *prepared, firn_error *err) {
    firn_record *owned = NULL;
    const firn_record *raw = prepared;
    int32_t rp;
    int64_t ro;
    if (!raw && p->spool && r->value_len == 0 && firn_pipeline_raw_ref(r, &rp, &ro))
        raw = raw_read(p, rp, ro);
    if (!raw && firn_pipeline_resolve(p->s, p->raw_topic, r, &owned, &raw, err)) return -1;
    int rc = p->o.on_event(p->o.event_ctx, raw, r, &p->trusted,
                           p->has_untrusted ? &p->untrusted : NULL, force, err);
    if (owned) firn_stream_record_release(owned);
    if (rc == FIRN_EVENT_EVOLVE && force)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "%s offset %lld: a schema change asked for "
                          "a quarantined event", r->topic, (long long)r->offset);
    return rc < 0 ? rc : rc == FIRN_EVENT_EVOLVE ? FIRN_EVENT_EVOLVE : 0;
}

/* Publish the open batch now. 0: published (or nothing open); 1: it did not
 * publish (commit_batch counted it, reset the batch and repositioned the
 * consumer at main's offsets) or the audit rejected it (it was re-read from
 * the consumer and quarantined, and the consumer repositioned at the batch's
 * end): either way the caller drops the rest of its poll - after a re-read
 * the poll's records are no longer valid (a poll's records live until the
 * next poll) - and reads it again from the stream; negative: an error of the
 * stream. */
static int publish_now(firn_processor *p, firn_error *err) {
    uint64_t failed = p->stats.errors + p->stats.fenced + p->stats.rejected;
    if (commit_batch(p, err)) return -1;
    return p->stats.errors + p->stats.fenced + p->stats.rejected != failed;
}

/* The handler needs columns the tables lack: publish the batch before the
 * event, let the handler evolve the tables, and rebuild the row buffers from
 * the new schemas. 1: the batch did not publish or was quarantined
 * (publish_now: the consumer is repositioned and the poll's records may be
 * gone), so the caller drops the rest of its poll, the event included. */
static int evolve(firn_processor *p, firn_error *err) {
    if (!p->o.on_evolve)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: the handler asked for a schema change "
                          "and the processor has no on_evolve", p->topic);
    int pr = publish_now(p, err);
    if (pr) return pr;
    if (p->o.on_evolve(p->o.event_ctx, err))
        return FIRN_WRAP(err, err->kind, "%s: evolving the tables' schemas", p->topic);
    firn_rows_release(&p->trusted);
    int rc = firn_rows_init(&p->trusted, firn_ice_metadata_current_schema(p->o.prod->metadata), err);
    if (rc == 0 && p->has_untrusted) {
        firn_rows_release(&p->untrusted);
        rc = firn_rows_init(&p->untrusted,
                            firn_ice_metadata_current_schema(p->o.untrusted->metadata), err);
        if (rc) p->has_untrusted = false;
    }
    if (rc) return FIRN_WRAP(err, err->kind, "%s: rows for the evolved schema", p->topic);
    p->stats.evolutions++;
    return 0;
}

/* Add recs[first, first + k) to the batch (n: the poll's length; prep: the
 * raw records of a group handed to on_prepare, or NULL). *used: how many of
 * them were looked at; fewer than k when a publish or an evolution ended the
 * run early (the handler forgot its group first: the caller prepares the
 * rest again). 1: the batch did not publish or was re-read, the rest of the
 * poll must be dropped (its records may be gone); negative: an error. */
static int add_run(firn_processor *p, const firn_record *recs, size_t first, size_t k, size_t n,
                   const firn_record *const *prep, size_t *used, firn_error *err) {
    *used = k;
    for (size_t i = 0; i < k; i++) {
        const firn_record *r = &recs[first + i];
        const firn_record *pre = prep ? prep[i] : NULL;
        if (r->partition < 0 || r->partition >= p->partitions) continue;
        part_state *ps = &p->parts[r->partition];
        if (p->group) {
            if (!ps->owned) continue; /* revoked within this poll */
            if (r->offset > ps->end) { /* not contiguous with the batch: seek back */
                ps->need_seek = true;
                continue;
            }
        }
        if (r->offset < ps->end) continue; /* already in the batch */
        int hr = handle(p, r, NULL, pre, err);
        bool evolved = false;
        /* a few times at most: publishing the batch may re-read a rejected batch
         * through the handler, which then evolves for another event first */
        for (int tries = 0; hr == FIRN_EVENT_EVOLVE; tries++) {
            if (tries == 3)
                return FIRN_RAISE(err, FIRN_ERR_INVALID, "%s offset %lld: the evolved schema "
                                  "still lacks a field of the event", r->topic, (long long)r->offset);
            prep_forget(p); /* the publish may re-read: the group's records may go */
            evolved = true;
            int er = evolve(p, err);
            if (er < 0) return -1;
            if (er > 0) return 1; /* r may be gone: read again from the stream */
            hr = handle(p, r, NULL, pre, err);
        }
        if (hr) return -1;
        ps->end = r->offset + 1;
        if (!p->batch_events) p->batch_started_ms = now_ms();
        if (!p->oldest_ts_ms || (r->timestamp_ms && r->timestamp_ms < p->oldest_ts_ms))
            p->oldest_ts_ms = r->timestamp_ms;
        p->batch_events++;
        p->stats.records++;
        /* a full batch publishes before the rest of the poll is added, so a
         * poll of many large records (a lagging processor) stays within
         * pipeline.commit-max-bytes of rows in memory */
        if (first + i + 1 < n && batch_bytes(p) >= p->o.commit_max_bytes) {
            prep_forget(p); /* a rejected batch is re-read: the poll's records go */
            int pr = publish_now(p, err);
            if (pr < 0) return -1;
            if (pr > 0) return 1; /* not published, or re-read: read on from the stream */
            evolved = true;
        }
        if (evolved) { /* the group is forgotten: prepare the rest again */
            *used = i + 1;
            return 0;
        }
    }
    return 0;
}

/* Add the records of one poll to the batch. Group mode: the consumer's
 * position (next) of every partition is taken from the whole poll first, so a
 * publish that fails in the middle of the poll (the rest of the poll is
 * dropped) seeks back every partition whose records were dropped. With
 * on_prepare, runs of records with images are handed to the handler ahead
 * (prepare_run); the handler forgets each group before anything that may
 * replace the poll's records (a publish) and after the run. */
static int add_records(firn_processor *p, const firn_record *recs, size_t n, firn_error *err) {
    for (size_t i = 0; p->group && i < n; i++) {
        int32_t k = recs[i].partition;
        if (k >= 0 && k < p->partitions && p->parts[k].owned) p->parts[k].next = recs[i].offset + 1;
    }
    for (size_t i = 0; i < n;) {
        int rc = 0;
        size_t k = p->o.on_prepare ? prepare_run(p, recs, i, n, err, &rc) : 0;
        size_t len = k ? k : p->o.on_prepare ? 1 : n - i, used = len;
        if (rc == 0) rc = add_run(p, recs, i, len, n, k ? p->prep : NULL, &used, err);
        prep_forget(p);
        if (rc) return rc < 0 ? -1 : 0;
        i += used;
    }
    return 0;
}

/* Re-read the batch [expected, end) of every partition and rebuild it as
 * untrusted rows with reason. */
static int rebuild_untrusted(firn_processor *p, const char *reason, firn_error *err) {
    firn_rows_clear(&p->trusted);
    firn_rows_clear(&p->untrusted);
    int64_t *ends = firn_xcalloc((size_t)p->partitions, sizeof *ends);
    for (int32_t i = 0; i < p->partitions; i++) ends[i] = p->parts[i].end;
    int rc = 0;
    if (p->group) {
        for (int32_t i = 0; i < p->partitions; i++) p->parts[i].end = p->parts[i].expected;
        group_reposition(p);
    } else {
        rc = seek_all(p, err); /* resets end = expected */
    }
    size_t remaining = 0;
    for (int32_t i = 0; i < p->partitions; i++)
        remaining += (size_t)(ends[i] - p->parts[i].expected);
    for (int idle = 0; rc == 0 && remaining && idle < 200;) {
        const firn_record *recs;
        size_t n;
        rc = firn_consumer_poll(p->c, 50, &recs, &n, err);
        if (rc) break;
        if (p->rebalanced) { /* handled by the caller's failure path */
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "%s: a rebalance while re-reading a rejected batch",
                            p->topic);
            err->retriable = true;
            break;
        }
        if (!n) {
            idle++;
            continue;
        }
        for (size_t i = 0; i < n && rc == 0; i++) {
            const firn_record *r = &recs[i];
            if (r->partition < 0 || r->partition >= p->partitions) continue;
            part_state *ps = &p->parts[r->partition];
            if (p->group) {
                if (!ps->owned) continue;
                ps->next = r->offset + 1;
                if (r->offset > ps->end) {
                    ps->need_seek = true;
                    continue;
                }
            }
            if (r->offset < ps->end || r->offset >= ends[r->partition]) continue;
            rc = handle(p, r, reason, NULL, err);
            ps->end = r->offset + 1;
            remaining--;
        }
        if (p->group) group_reposition(p);
    }
    if (rc == 0 && remaining)
        rc = FIRN_RAISE(err, FIRN_ERR_IO, "%s: %zu records of a rejected batch could not be re-read",
                        p->topic, remaining);
    free(ends);
    return rc;
}

/* Test hook (FIRN_PROCESS_STOP_AT_BATCH): stop between audit and publish,
 * to be continued (SIGCONT) after the group moved this worker's partitions. */
static void stop_self(void *ctx) {
    (void)ctx;
    fprintf(stderr, "firn: FIRN_PROCESS_STOP_AT_BATCH: stopping before publish\n");
    raise(SIGSTOP);
    fprintf(stderr, "firn: FIRN_PROCESS_STOP_AT_BATCH: continued, publishing\n");
}

/* Test hook (FIRN_PROCESS_PAUSE_BEFORE_PUBLISH_MS): widen the window between
 * a batch's write and its publish, so maintenance lands inside it. */
static void pause_self(void *ctx) {
    const firn_processor *p = ctx;
    struct timespec ts = {p->pause_ms / 1000, (p->pause_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int commit_batch(firn_processor *p, firn_error *err) {
    if (!p->batch_events) return 0;
    firn_wap_range *ranges = firn_xcalloc((size_t)p->partitions, sizeof *ranges);
    size_t nr = 0;
    for (int32_t i = 0; i < p->partitions; i++)
        if (p->parts[i].end > p->parts[i].expected)
            ranges[nr++] = (firn_wap_range){p->topic, i, p->parts[i].expected, p->parts[i].end};
    firn_wap_batch b = {0};
    b.prod = p->o.prod;
    b.untrusted = p->has_untrusted ? p->o.untrusted : NULL;
    b.history = p->o.history;
    b.branch = p->branch;
    b.worker = p->worker;
    b.trusted_rows = &p->trusted;
    b.untrusted_rows = p->has_untrusted ? &p->untrusted : NULL;
    b.ranges = ranges;
    b.nranges = nr;
    b.event_id_col = p->o.event_id_col;
    b.dead_letter = p->o.dead_letter;
    b.summary = p->o.summary;
    b.nsummary = p->o.nsummary;
    firn_wap_result res;
    int64_t t0 = now_ms();
    p->stats.batches++;
    if (p->stop_at > 0 && p->stats.batches == (uint64_t)p->stop_at) b.before_publish = stop_self;
    else if (p->pause_ms > 0) {
        b.before_publish = pause_self;
        b.hook_ctx = p;
    }
    int rc = firn_wap_run(&b, &res, err);
    bool reread = false;
    if (rc == 0 && res.outcome == FIRN_WAP_REJECTED && p->in_rebalance) {
        /* the re-read needs the consumer, which is inside its rebalance callback */
        p->stats.rejected++;
        rc = FIRN_RAISE(err, FIRN_ERR_IO, "%s: batch rejected (%s) while partitions are revoked: "
                        "left to the partitions' next owner", p->topic, res.audit_failure);
        err->retriable = true;
    } else if (rc == 0 && res.outcome == FIRN_WAP_REJECTED && !p->has_untrusted) {
        /* no untrusted table to quarantine into (dead letters): the batch is
         * abandoned and read again, never dropped */
        p->stats.rejected++;
        rc = FIRN_RAISE(err, FIRN_ERR_IO, "%s: batch rejected (%s); with no untrusted table it "
                        "is read again", p->topic, res.audit_failure);
        err->retriable = true;
    } else if (rc == 0 && res.outcome == FIRN_WAP_REJECTED) {
        p->stats.rejected++;
        fprintf(stderr, "firn: %s: batch rejected: %s\n", p->topic, res.audit_failure);
        rc = rebuild_untrusted(p, res.audit_failure, err);
        reread = true;
        if (rc == 0) rc = firn_wap_quarantine(&b, &res, err);
    } else if (rc == 0) {
        if (res.outcome == FIRN_WAP_CHERRY_PICKED) p->stats.cherry_picked++;
        else p->stats.published++;
    }
    free(ranges);
    if (rc == 0) {
        p->stats.rows_trusted += res.trusted;
        p->stats.rows_untrusted += res.untrusted;
        p->stats.last_commit_ms = now_ms() - t0;
        if (p->oldest_ts_ms) p->stats.last_freshness_ms = now_ms() - p->oldest_ts_ms;
        for (int32_t i = 0; i < p->partitions; i++) p->parts[i].expected = p->parts[i].end;
        reset_batch(p);
        /* the re-read polled past the batch's end (it skips what follows):
         * read on from the end, not from where the re-read stopped */
        if (reread && p->group) group_reposition(p);
        else if (reread) return seek_all(p, err);
        return 0;
    }
    /* the batch did not publish: start again from what main records */
    char msg[1024];
    firn_error_format(err, msg, sizeof msg);
    memcpy(p->stats.last_error, msg, sizeof p->stats.last_error - 1);
    p->stats.last_error[sizeof p->stats.last_error - 1] = 0;
    if (err->kind == FIRN_ERR_CONFLICT && !err->retriable) p->stats.fenced++;
    else p->stats.errors++;
    fprintf(stderr, "firn: %s: batch not published, re-reading from the table's offsets: %s\n",
            p->topic, msg);
    firn_error local;
    firn_error_init(&local);
    reset_batch(p);
    /* a publish that stopped between its single-table commits: complete it now
     * (otherwise at the next start) */
    if (firn_wap_roll_forward(p->o.prod, p->o.untrusted, p->o.history, NULL, &local)) {
        firn_error_format(&local, msg, sizeof msg);
        fprintf(stderr, "firn: %s: %s\n", p->topic, msg);
        firn_error_release(&local);
        firn_error_init(&local);
    }
    int r2 = recover(p, &local);
    /* state the handler built from the abandoned batch (its dedupe window)
     * goes back to what main holds */
    if (r2 == 0 && p->o.on_abandon) r2 = p->o.on_abandon(p->o.event_ctx, &local);
    if (r2 == 0 && p->group && p->in_rebalance) { /* sought after the poll, if still owned */
        for (int32_t i = 0; i < p->partitions; i++) p->parts[i].need_seek = p->parts[i].owned;
    } else if (r2 == 0 && p->group) {
        group_reposition(p);
    } else if (r2 == 0) {
        r2 = seek_all(p, &local);
    }
    if (r2) {
        firn_error_release(err);
        *err = local;
        return r2;
    }
    firn_error_release(&local);
    firn_error_release(err);
    firn_error_init(err);
    return 0;
}

/* After a poll in which the group moved partitions (the callback published
 * or abandoned the open batch of revoked partitions): the poll's records are
 * dropped (their positions noted) and every owned partition is read on from
 * its batch end. */
static int handle_rebalance(firn_processor *p, const firn_record *recs, size_t n,
                            firn_error *err) {
    (void)err;
    p->rebalanced = false;
    for (size_t i = 0; i < n; i++) {
        int32_t k = recs[i].partition;
        if (k >= 0 && k < p->partitions && p->parts[k].owned) p->parts[k].next = recs[i].offset + 1;
    }
    group_reposition(p);
    return 0;
}

int firn_processor_step(firn_processor *p, int timeout_ms, firn_error *err) {
    const firn_record *recs;
    size_t n;
    if (firn_consumer_poll(p->c, timeout_ms, &recs, &n, err))
        return FIRN_WRAP(err, err->kind, "processor: reading %s", p->topic);
    if (p->rebalanced) {
        if (handle_rebalance(p, recs, n, err)) return -1;
        n = 0;
    }
    if (p->newly_assigned) {
        p->newly_assigned = false;
        if (p->o.on_assign && p->o.on_assign(p->o.event_ctx, err))
            return FIRN_WRAP(err, err->kind, "processor %s: after an assignment", p->topic);
    }
    if (n && add_records(p, recs, n, err)) return FIRN_WRAP(err, err->kind, "processor %s", p->topic);
    if (p->group) {
        bool seek = false;
        for (int32_t i = 0; i < p->partitions; i++) seek |= p->parts[i].owned && p->parts[i].need_seek;
        if (seek) group_reposition(p);
    }
    if (p->batch_events && (now_ms() - p->batch_started_ms >= p->o.commit_interval_ms ||
                            batch_bytes(p) >= p->o.commit_max_bytes))
        return commit_batch(p, err);
    return 0;
}

int firn_processor_flush(firn_processor *p, firn_error *err) { return commit_batch(p, err); }

int firn_processor_drained(firn_processor *p, bool *drained, firn_error *err) {
    *drained = p->batch_events == 0;
    if (p->group && *drained) {
        /* the group's work: every partition published (by any worker) to its end */
        if (firn_ice_table_refresh(p->o.prod, err)) return -1;
        firn_offset_map m = {0};
        firn_offsets_recover(p->o.prod->metadata, FIRN_ICE_MAIN_BRANCH, &m, NULL);
        int rc = 0;
        for (int32_t i = 0; i < p->partitions && *drained && rc == 0; i++) {
            firn_watermarks wm;
            rc = firn_stream_watermarks(p->s, p->topic, i, &wm, err);
            if (rc == 0 && firn_offset_map_get(&m, p->topic, i, wm.low) < wm.high) *drained = false;
        }
        firn_offset_map_release(&m);
        return rc;
    }
    for (int32_t i = 0; i < p->partitions && *drained; i++) {
        firn_watermarks wm;
        if (firn_stream_watermarks(p->s, p->topic, i, &wm, err)) return -1;
        if (p->parts[i].expected < wm.high) *drained = false;
    }
    return 0;
}
