/*
 * classify.c - the router from the raw topic to the per-type topics and the
 * dead-letter topic, exactly once (see pipeline.h).
 */
#include "pipeline/pipeline.h"

#include "io/io.h"
#include "pipeline/validate.h"
#include "stream/stream.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct out_topic {
    char *name;
    int64_t *last_raw; /* per partition: highest raw offset routed there, -1 none */
    /* the messages of the current step */
    firn_msg *msgs;
    int64_t *raw;      /* the raw offset of each message */
    size_t n, cap;
} out_topic;

struct firn_classifier {
    firn_stream *s;
    firn_consumer *c;
    char *raw_topic, *route_field, *dlq, *checkpoint_path;
    int32_t partitions;
    size_t nroutes;
    char **route_values;
    size_t *route_out; /* index into outs */
    out_topic *outs;   /* routes' distinct topics, then the dead-letter topic last */
    size_t nouts;
    int64_t *next;     /* per raw partition: the next raw offset to consume */
    size_t dlq_out;    /* index of the dead-letter topic in outs */
    bool create_unknown;
    firn_classifier_stats stats;
    firn_arena step;   /* headers of the current step */
    firn_event ev;     /* the parser's reusable state */
    firn_event_limits lim;
};

const void *firn_record_header(const firn_record *rec, const char *key, size_t *len) {
    for (size_t i = rec->n_headers; i-- > 0;)
        if (strcmp(rec->headers[i].key, key) == 0) {
            if (len) *len = rec->headers[i].value_len;
            return rec->headers[i].value;
        }
    return NULL;
}

/* Digits only, at most 19 of them (no sign, no spaces): the form the
 * classifier writes. */
static bool parse_digits(const char *s, size_t n, int64_t *out) {
    if (n == 0 || n > 19) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX) return false;
    *out = (int64_t)v;
    return true;
}

bool firn_pipeline_raw_ref(const firn_record *rec, int32_t *partition, int64_t *offset) {
    size_t n;
    const char *v = firn_record_header(rec, FIRN_HDR_RAW, &n);
    if (!v || n == 0 || n > 40) return false;
    const char *colon = memchr(v, ':', n);
    if (!colon) return false;
    int64_t p, o;
    if (!parse_digits(v, (size_t)(colon - v), &p) ||
        !parse_digits(colon + 1, n - (size_t)(colon - v) - 1, &o) || p > INT32_MAX)
        return false;
    *partition = (int32_t)p;
    *offset = o;
    return true;
}

/* "<partition>:<offset>" into buf (at least 32 bytes); returns the length. */
static size_t format_ref(char *buf, int32_t partition, int64_t offset) {
    char tmp[24];
    size_t n = 0, k = 0;
    uint64_t v = (uint64_t)(uint32_t)partition;
    do tmp[k++] = (char)('0' + v % 10); while ((v /= 10));
    while (k) buf[n++] = tmp[--k];
    buf[n++] = ':';
    v = (uint64_t)offset;
    do tmp[k++] = (char)('0' + v % 10); while ((v /= 10));
    while (k) buf[n++] = tmp[--k];
    return n;
}

int firn_pipeline_resolve(firn_stream *s, const char *raw_topic, const firn_record *rec,
                          firn_record **owned, const firn_record **view, firn_error *err) {
    *owned = NULL;
    *view = rec;
    int32_t p;
    int64_t o;
    if (rec->value_len != 0 || !firn_pipeline_raw_ref(rec, &p, &o)) return 0;
    if (strcmp(firn_stream_kind(s), "spool") != 0) return 0;
    if (firn_stream_get(s, raw_topic, p, o, owned, err))
        return FIRN_WRAP(err, err->kind, "%s/%d offset %lld: cannot resolve raw record %s/%d:%lld",
                         rec->topic, rec->partition, (long long)rec->offset, raw_topic, p,
                         (long long)o);
    *view = *owned;
    return 0;
}

/* ------------------------------------------------------------- setup */

bool firn_topic_name_ok(const char *s, size_t n) {
    if (n == 0 || n > 100 || s[0] == '.' || s[0] == '_') return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    return true;
}

static size_t add_out(firn_classifier *c, const char *topic) {
    for (size_t i = 0; i < c->nouts; i++)
        if (strcmp(c->outs[i].name, topic) == 0) return i;
    c->outs = firn_xrealloc(c->outs, (c->nouts + 1) * sizeof *c->outs);
    out_topic *o = &c->outs[c->nouts];
    memset(o, 0, sizeof *o);
    o->name = firn_xstrdup(topic);
    o->last_raw = firn_xmalloc((size_t)c->partitions * sizeof *o->last_raw);
    for (int32_t p = 0; p < c->partitions; p++) o->last_raw[p] = -1;
    return c->nouts++;
}

/* The raw offset of the last record of topic/partition, -1 when empty. */
static int read_tail(firn_classifier *c, const char *topic, int32_t p, int64_t *out,
                     firn_error *err) {
    *out = -1;
    firn_watermarks wm;
    if (firn_stream_watermarks(c->s, topic, p, &wm, err)) return -1;
    if (wm.high <= wm.low) return 0;
    firn_consumer *k;
    if (firn_consumer_open(c->s, NULL, &k, err)) return -1;
    firn_topic_partition tp = {topic, p, wm.high - 1};
    int rc = firn_consumer_assign(k, &tp, 1, err);
    for (int tries = 0; rc == 0 && tries < 100; tries++) {
        const firn_record *recs;
        size_t n;
        rc = firn_consumer_poll(k, 100, &recs, &n, err);
        if (rc || !n) continue;
        const firn_record *last = &recs[n - 1];
        int32_t rp;
        int64_t ro;
        if (!firn_pipeline_raw_ref(last, &rp, &ro) || rp != p)
            rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                            "%s/%d offset %lld: routed record without a valid %s header", topic,
                            p, (long long)last->offset, FIRN_HDR_RAW);
        else *out = ro;
        break;
    }
    firn_consumer_close(k);
    return rc;
}

static void read_checkpoint(firn_classifier *c) {
    if (!c->checkpoint_path) return;
    json_error_t je;
    json_t *j = json_load_file(c->checkpoint_path, 0, &je);
    if (!j) return;
    json_t *next = json_object_get(j, "next");
    if (json_is_array(next) && json_array_size(next) == (size_t)c->partitions)
        for (int32_t p = 0; p < c->partitions; p++) {
            json_int_t v = json_integer_value(json_array_get(next, (size_t)p));
            if (v > c->next[p]) c->next[p] = v;
        }
    json_decref(j);
}

static int write_checkpoint(firn_classifier *c, firn_error *err) {
    if (!c->checkpoint_path) return 0;
    json_t *j = json_object(), *a = json_array();
    for (int32_t p = 0; p < c->partitions; p++) json_array_append_new(a, json_integer(c->next[p]));
    json_object_set_new(j, "topic", json_string(c->raw_topic));
    json_object_set_new(j, "next", a);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", c->checkpoint_path);
    int rc = firn_write_file(tmp, text, strlen(text), err);
    free(text);
    if (rc == 0 && rename(tmp, c->checkpoint_path) != 0)
        rc = FIRN_RAISE(err, FIRN_ERR_IO, "%s: %s", c->checkpoint_path, strerror(errno));
    return rc;
}

int firn_classifier_new(firn_stream *s, const firn_classifier_options *o, firn_classifier **out,
                        firn_error *err) {
    *out = NULL;
    firn_classifier *c = firn_xcalloc(1, sizeof *c);
    c->s = s;
    c->raw_topic = firn_xstrdup(o->raw_topic ? o->raw_topic : "events");
    c->route_field = firn_xstrdup(o->route_field ? o->route_field : "eventType");
    c->dlq = firn_xstrdup(o->dead_letter_topic ? o->dead_letter_topic : "dead-letter");
    c->checkpoint_path = o->checkpoint_path ? firn_xstrdup(o->checkpoint_path) : NULL;
    firn_arena_init(&c->step, 0);
    firn_event_init(&c->ev);
    if (o->limits) {
        c->lim = *o->limits;
    } else {
        c->lim = (firn_event_limits){16u << 20, 1u << 20, 32, 1024, "image"};
    }
    int rc = firn_stream_partitions(s, c->raw_topic, &c->partitions, err);
    if (rc) goto fail;
    c->nroutes = o->nroutes;
    c->route_values = firn_xcalloc(o->nroutes + 1, sizeof *c->route_values);
    c->route_out = firn_xcalloc(o->nroutes + 1, sizeof *c->route_out);
    for (size_t i = 0; i < o->nroutes; i++) {
        c->route_values[i] = firn_xstrdup(o->routes[i].value);
        c->route_out[i] = add_out(c, o->routes[i].topic);
    }
    c->dlq_out = add_out(c, c->dlq);
    c->create_unknown = o->create_unknown;
    for (size_t i = 0; i < c->nouts && rc == 0; i++) {
        rc = firn_stream_create_topic(s, c->outs[i].name, c->partitions, err);
        for (int32_t p = 0; p < c->partitions && rc == 0; p++)
            rc = read_tail(c, c->outs[i].name, p, &c->outs[i].last_raw[p], err);
    }
    if (rc) goto fail;
    c->next = firn_xcalloc((size_t)c->partitions, sizeof *c->next);
    firn_topic_partition *tps = firn_xcalloc((size_t)c->partitions, sizeof *tps);
    for (int32_t p = 0; p < c->partitions && rc == 0; p++) {
        firn_watermarks wm;
        rc = firn_stream_watermarks(s, c->raw_topic, p, &wm, err);
        c->next[p] = wm.low;
    }
    read_checkpoint(c);
    for (int32_t p = 0; p < c->partitions; p++) tps[p] = (firn_topic_partition){c->raw_topic, p, c->next[p]};
    firn_consumer_options co;
    firn_consumer_options_init(&co);
    co.max_poll_records = o->max_poll_records ? o->max_poll_records : 10000;
    if (rc == 0) rc = firn_consumer_open(s, &co, &c->c, err);
    if (rc == 0) rc = firn_consumer_assign(c->c, tps, (size_t)c->partitions, err);
    free(tps);
    if (rc) goto fail;
    *out = c;
    return 0;
fail:
    FIRN_WRAP(err, err->kind, "classifier on %s", c->raw_topic);
    firn_classifier_free(c);
    return rc ? rc : -FIRN_ERR_INTERNAL;
}

void firn_classifier_free(firn_classifier *c) {
    if (!c) return;
    firn_consumer_close(c->c);
    for (size_t i = 0; i < c->nouts; i++) {
        free(c->outs[i].name);
        free(c->outs[i].last_raw);
        free(c->outs[i].msgs);
        free(c->outs[i].raw);
    }
    free(c->outs);
    for (size_t i = 0; i < c->nroutes; i++) free(c->route_values[i]);
    free(c->route_values);
    free(c->route_out);
    free(c->next);
    free(c->raw_topic);
    free(c->route_field);
    free(c->dlq);
    free(c->checkpoint_path);
    firn_arena_release(&c->step);
    firn_event_release(&c->ev);
    free(c);
}

const firn_classifier_stats *firn_classifier_get_stats(const firn_classifier *c) {
    return &c->stats;
}

/* ------------------------------------------------------------- routing */

/* The destination of one raw record: an index into outs, and a reason for
 * dead letters (in the step arena). */
static size_t route(firn_classifier *c, const firn_record *r, const char **reason) {
    *reason = NULL;
    size_t dlq = c->dlq_out;
    char buf[300];
    const char *why = firn_event_parse(&c->ev, r->value, r->value_len, &c->lim);
    if (why) { /* parse:syntax (expected ':' at byte 17) */
        const char *detail = firn_event_detail(&c->ev);
        if (detail && *detail) snprintf(buf, sizeof buf, "%s (%s)", why, detail);
        else snprintf(buf, sizeof buf, "%s", why);
        *reason = firn_arena_strdup(&c->step, buf);
        return dlq;
    }
    const firn_event_field *f = firn_event_get(&c->ev, c->route_field, strlen(c->route_field));
    if (!f || f->kind == FIRN_JSON_NULL) {
        snprintf(buf, sizeof buf, "route:missing (no field %s)", c->route_field);
        *reason = firn_arena_strdup(&c->step, buf);
        return dlq;
    }
    if (f->kind != FIRN_JSON_STRING) {
        snprintf(buf, sizeof buf, "route:not-a-string (%s)", c->route_field);
        *reason = firn_arena_strdup(&c->step, buf);
        return dlq;
    }
    for (size_t i = 0; i < c->nroutes; i++)
        if (strlen(c->route_values[i]) == f->value_len &&
            memcmp(c->route_values[i], f->value, f->value_len) == 0)
            return c->route_out[i];
    for (size_t i = c->nroutes; i < c->nouts; i++) /* a type created earlier */
        if (i != dlq && strlen(c->outs[i].name) == f->value_len &&
            memcmp(c->outs[i].name, f->value, f->value_len) == 0)
            return i;
    if (c->create_unknown && firn_topic_name_ok(f->value, f->value_len)) {
        /* policy create: the type gets its own topic on first sight */
        char topic[128];
        memcpy(topic, f->value, f->value_len);
        topic[f->value_len] = 0;
        firn_error e;
        firn_error_init(&e);
        int64_t *tails = firn_xmalloc((size_t)c->partitions * sizeof *tails);
        int rc = firn_stream_create_topic(c->s, topic, c->partitions, &e);
        for (int32_t p = 0; p < c->partitions && rc == 0; p++)
            rc = read_tail(c, topic, p, &tails[p], &e);
        if (rc == 0) {
            size_t k = add_out(c, topic);
            memcpy(c->outs[k].last_raw, tails, (size_t)c->partitions * sizeof *tails);
            free(tails);
            firn_error_release(&e);
            return k;
        }
        free(tails);
        char eb[200];
        snprintf(buf, sizeof buf, "route:create-failed (%s: %s)", topic,
                 firn_error_format(&e, eb, sizeof eb));
        firn_error_release(&e);
        *reason = firn_arena_strdup(&c->step, buf);
        return dlq;
    }
    snprintf(buf, sizeof buf, "route:unknown-type (%s '%.*s')", c->route_field,
             (int)(f->value_len > 100 ? 100 : f->value_len), f->value);
    *reason = firn_arena_strdup(&c->step, buf);
    return dlq;
}

static void push(out_topic *o, const firn_msg *m, int64_t raw_offset) {
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 256;
        o->msgs = firn_xrealloc(o->msgs, o->cap * sizeof *o->msgs);
        o->raw = firn_xrealloc(o->raw, o->cap * sizeof *o->raw);
    }
    o->raw[o->n] = raw_offset;
    o->msgs[o->n++] = *m;
}

int firn_classifier_step(firn_classifier *c, int timeout_ms, size_t *nconsumed, firn_error *err) {
    if (nconsumed) *nconsumed = 0;
    const firn_record *recs;
    size_t n;
    if (firn_consumer_poll(c->c, timeout_ms, &recs, &n, err))
        return FIRN_WRAP(err, err->kind, "classifier: reading %s", c->raw_topic);
    if (!n) return 0;
    firn_arena_reset(&c->step);
    bool spool = strcmp(firn_stream_kind(c->s), "spool") == 0;
    uint64_t routed = 0, dead = 0, skipped = 0;
    for (size_t i = 0; i < c->nouts; i++) c->outs[i].n = 0;
    for (size_t i = 0; i < n; i++) {
        const firn_record *r = &recs[i];
        if (r->partition < 0 || r->partition >= c->partitions)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: unexpected partition %d", c->raw_topic,
                              r->partition);
        const char *reason;
        size_t d = route(c, r, &reason);
        out_topic *o = &c->outs[d];
        if (r->offset <= o->last_raw[r->partition]) {
            skipped++; /* routed before a crash: already there */
            continue;
        }
        size_t extra = reason ? 2 : 1;
        size_t nh = (spool ? 0 : r->n_headers) + extra;
        firn_header *h = firn_arena_alloc(&c->step, nh * sizeof *h);
        size_t k = 0;
        if (!spool)
            for (size_t j = 0; j < r->n_headers; j++) h[k++] = r->headers[j];
        char ref[48];
        size_t len = format_ref(ref, r->partition, r->offset);
        h[k++] = (firn_header){FIRN_HDR_RAW, firn_arena_memdup(&c->step, ref, len), len};
        if (reason) h[k++] = (firn_header){FIRN_HDR_REASON, reason, strlen(reason)};
        firn_msg m = {r->partition, r->key, r->key_len, spool ? "" : r->value,
                      spool ? 0 : r->value_len, h, k, r->timestamp_ms};
        push(o, &m, r->offset);
        if (reason) dead++;
        else routed++;
    }
    for (size_t i = 0; i < c->nouts; i++) {
        out_topic *o = &c->outs[i];
        if (!o->n) continue;
        if (firn_stream_append(c->s, o->name, o->msgs, o->n, NULL, NULL, err))
            return FIRN_WRAP(err, err->kind, "classifier: appending %zu records to %s", o->n,
                             o->name);
    }
    firn_io_crash_point("classify.after-routing");
    /* everything appended is durable: advance */
    for (size_t i = 0; i < c->nouts; i++) {
        out_topic *o = &c->outs[i];
        for (size_t j = 0; j < o->n; j++) {
            int32_t p = o->msgs[j].partition;
            if (o->raw[j] > o->last_raw[p]) o->last_raw[p] = o->raw[j];
        }
    }
    for (size_t i = 0; i < n; i++)
        if (recs[i].offset + 1 > c->next[recs[i].partition])
            c->next[recs[i].partition] = recs[i].offset + 1;
    /* the classifier's own audit: every raw offset consumed went somewhere */
    if (routed + dead + skipped != n)
        return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "classifier audit: %llu routed + %llu dead "
                          "letters + %llu skipped != %zu consumed", (unsigned long long)routed,
                          (unsigned long long)dead, (unsigned long long)skipped, n);
    c->stats.consumed += n;
    c->stats.routed += routed;
    c->stats.dead_letter += dead;
    c->stats.skipped += skipped;
    if (nconsumed) *nconsumed = n;
    return write_checkpoint(c, err);
}

int firn_classifier_drained(firn_classifier *c, bool *drained, firn_error *err) {
    *drained = true;
    for (int32_t p = 0; p < c->partitions; p++) {
        firn_watermarks wm;
        if (firn_stream_watermarks(c->s, c->raw_topic, p, &wm, err)) return -1;
        if (c->next[p] < wm.high) *drained = false;
    }
    return 0;
}
