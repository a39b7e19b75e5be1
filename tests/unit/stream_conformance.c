/* stream_conformance.c - transport-independent checks of stream.h (see the header). */
#include "stream_conformance.h"

#include "test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef const firn_stream_conformance_config conf;

static const char *tname(conf *c, const char *name) {
    static char bufs[8][256];
    static int slot;
    char *b = bufs[slot++ & 7];
    snprintf(b, 256, "%s%s", c->topic_prefix ? c->topic_prefix : "", name);
    return b;
}

static size_t nrecords(conf *c) { return c->records ? c->records : 2000; }

/* Deterministic record i: key (none for i % 11 == 0), value of (i * 7) % 300
 * bytes, two headers on every fifth record (one with a null value). */
typedef struct gen_rec {
    char key[32];
    uint8_t value[300];
    char hval[32];
    firn_header h[2];
    firn_msg m;
} gen_rec;

static void gen(size_t i, gen_rec *g) {
    memset(g, 0, sizeof *g);
    snprintf(g->key, sizeof g->key, "car-%zu", i % 37);
    size_t vl = (i * 7) % 300;
    for (size_t j = 0; j < vl; j++) g->value[j] = (uint8_t)(i * 31 + j);
    g->m.partition = -1;
    g->m.key = i % 11 == 0 ? NULL : g->key;
    g->m.key_len = i % 11 == 0 ? 0 : strlen(g->key);
    g->m.value = g->value;
    g->m.value_len = vl;
    g->m.timestamp_ms = 1700000000000 + (int64_t)i;
    if (i % 5 == 0) {
        snprintf(g->hval, sizeof g->hval, "hv-%zu", i);
        g->h[0] = (firn_header){"trace", g->hval, strlen(g->hval)};
        g->h[1] = (firn_header){"empty", NULL, 0};
        g->m.headers = g->h;
        g->m.n_headers = 2;
    }
}

/* true when r holds exactly what gen(i) appended */
static bool same(const firn_record *r, size_t i) {
    gen_rec g;
    gen(i, &g);
    if (r->timestamp_ms != g.m.timestamp_ms || r->value_len != g.m.value_len) return false;
    if (r->value_len && memcmp(r->value, g.m.value, r->value_len) != 0) return false;
    if ((r->key == NULL) != (g.m.key == NULL) || r->key_len != g.m.key_len) return false;
    if (r->key_len && memcmp(r->key, g.m.key, r->key_len) != 0) return false;
    if (r->n_headers != g.m.n_headers) return false;
    for (size_t h = 0; h < r->n_headers; h++) {
        if (strcmp(r->headers[h].key, g.h[h].key) != 0) return false;
        if ((r->headers[h].value == NULL) != (g.h[h].value == NULL)) return false;
        if (r->headers[h].value_len != g.h[h].value_len) return false;
        if (g.h[h].value_len && memcmp(r->headers[h].value, g.h[h].value, g.h[h].value_len)) return false;
    }
    return true;
}

static int open_stream(conf *c, firn_stream **s, firn_error *err) {
    return firn_stream_open(c->uri, c->opts, s, err);
}

/* Poll until want records came or 40 polls in a row returned nothing. */
typedef struct drained {
    int32_t *part;
    int64_t *off;
    size_t *idx; /* the record's gen index, from its value/timestamp */
    size_t n;
    bool ok; /* every record matched its gen */
} drained;

static void drain(firn_consumer *cons, size_t want, drained *d, firn_error *err) {
    d->part = calloc(want + 1, sizeof *d->part);
    d->off = calloc(want + 1, sizeof *d->off);
    d->idx = calloc(want + 1, sizeof *d->idx);
    d->n = 0;
    d->ok = true;
    int empty = 0;
    while (d->n < want && empty < 40) {
        const firn_record *r;
        size_t n;
        if (firn_consumer_poll(cons, 100, &r, &n, err) != 0) {
            d->ok = false;
            return;
        }
        empty = n ? 0 : empty + 1;
        for (size_t i = 0; i < n && d->n < want; i++) {
            size_t gi = (size_t)(r[i].timestamp_ms - 1700000000000);
            if (!same(&r[i], gi)) d->ok = false;
            d->part[d->n] = r[i].partition;
            d->off[d->n] = r[i].offset;
            d->idx[d->n] = gi;
            d->n++;
        }
    }
}

static void drained_free(drained *d) {
    free(d->part);
    free(d->off);
    free(d->idx);
}

static void check_roundtrip(conf *c) {
    firn_error err;
    firn_error_init(&err);
    firn_stream *s;
    CHECK_OK(open_stream(c, &s, &err), &err);
    const char *topic = tname(c, "roundtrip");
    const int32_t np = 3;
    CHECK_OK(firn_stream_create_topic(s, topic, np, &err), &err);
    CHECK_OK(firn_stream_create_topic(s, topic, np, &err), &err); /* same count: fine */
    CHECK(firn_stream_create_topic(s, topic, np + 1, &err) == -FIRN_ERR_CONFLICT);
    int32_t got_np = 0;
    CHECK_OK(firn_stream_partitions(s, topic, &got_np, &err), &err);
    CHECK_EQ_INT(got_np, np);
    CHECK(firn_stream_partitions(s, tname(c, "no-such-topic"), &got_np, &err) == -FIRN_ERR_NOT_FOUND);
    char **names;
    size_t nn;
    CHECK_OK(firn_stream_topics(s, &names, &nn, &err), &err);
    bool listed = false;
    for (size_t i = 0; i < nn; i++) {
        if (strcmp(names[i], topic) == 0) listed = true;
        free(names[i]);
    }
    free(names);
    CHECK(listed);

    size_t n = nrecords(c);
    int64_t *offs = malloc(n * sizeof *offs);
    int32_t *parts = malloc(n * sizeof *parts);
    int64_t next[3] = {0, 0, 0};
    /* appended in calls of 1..64 records */
    for (size_t i = 0; i < n;) {
        size_t k = 1 + (i * 13) % 64;
        if (i + k > n) k = n - i;
        gen_rec *g = malloc(k * sizeof *g);
        firn_msg *m = malloc(k * sizeof *m);
        for (size_t j = 0; j < k; j++) {
            gen(i + j, &g[j]);
            m[j] = g[j].m;
        }
        int rc = firn_stream_append(s, topic, m, k, offs + i, parts + i, &err);
        free(g);
        free(m);
        CHECK_OK(rc, &err);
        i += k;
    }
    for (size_t i = 0; i < n; i++) {
        gen_rec g;
        gen(i, &g);
        int32_t want = g.m.key ? firn_stream_partition_for_key(g.m.key, g.m.key_len, np) : 0;
        CHECK_MSG(parts[i] == want, "record %zu: partition %d, key partitioner says %d", i,
                  parts[i], want);
        CHECK_MSG(offs[i] == next[parts[i]], "record %zu: offset %lld, expected %lld (dense)", i,
                  (long long)offs[i], (long long)next[parts[i]]);
        next[parts[i]]++;
    }
    for (int32_t p = 0; p < np; p++) {
        firn_watermarks w;
        CHECK_OK(firn_stream_watermarks(s, topic, p, &w, &err), &err);
        CHECK_EQ_INT(w.low, 0);
        CHECK_EQ_INT(w.high, next[p]);
    }
    /* read everything back */
    firn_consumer *cons;
    CHECK_OK(firn_consumer_open(s, NULL, &cons, &err), &err);
    firn_topic_partition tps[3];
    for (int32_t p = 0; p < np; p++) tps[p] = (firn_topic_partition){topic, p, 0};
    CHECK_OK(firn_consumer_assign(cons, tps, np, &err), &err);
    drained d;
    drain(cons, n, &d, &err);
    CHECK_MSG(d.n == n && d.ok, "read %zu of %zu records, contents %s: %s", d.n, n,
              d.ok ? "equal" : "differ", err.message);
    int64_t seen[3] = {0, 0, 0};
    bool order = true, where = true;
    for (size_t i = 0; i < d.n; i++) {
        if (d.off[i] != seen[d.part[i]]++) order = false;
        if (parts[d.idx[i]] != d.part[i] || offs[d.idx[i]] != d.off[i]) where = false;
    }
    drained_free(&d);
    CHECK_MSG(order, "records not in offset order per partition");
    CHECK_MSG(where, "a record came back at another partition/offset than append reported");
    /* nothing more: a short poll times out empty */
    const firn_record *r;
    size_t got;
    CHECK_OK(firn_consumer_poll(cons, 20, &r, &got, &err), &err);
    CHECK_EQ_INT(got, 0);

    /* seek back into the middle of partition 1 */
    int64_t mid = next[1] / 2;
    CHECK_OK(firn_consumer_seek(cons, topic, 1, mid, &err), &err);
    drain(cons, (size_t)(next[1] - mid), &d, &err);
    bool seek_ok = d.ok && d.n == (size_t)(next[1] - mid) && (d.n == 0 || d.off[0] == mid);
    for (size_t i = 0; i < d.n; i++)
        if (d.part[i] != 1) seek_ok = false;
    drained_free(&d);
    CHECK_MSG(seek_ok, "seek to %s/1@%lld did not read on from there", topic, (long long)mid);

    /* random access */
    if (c->has_get) {
        for (size_t i = 0; i < n; i += 97) {
            firn_record *rec;
            CHECK_OK(firn_stream_get(s, topic, parts[i], offs[i], &rec, &err), &err);
            bool eq = same(rec, i) && rec->offset == offs[i] && strcmp(rec->topic, topic) == 0;
            firn_stream_record_release(rec);
            CHECK_MSG(eq, "get %d@%lld differs from record %zu", parts[i], (long long)offs[i], i);
        }
        firn_record *rec;
        CHECK(firn_stream_get(s, topic, 0, next[0], &rec, &err) == -FIRN_ERR_NOT_FOUND);
    }
    firn_consumer_close(cons);
    free(offs);
    free(parts);
    firn_stream_close(s);
    firn_error_release(&err);
}

static void check_limits_and_sizes(conf *c) {
    firn_error err;
    firn_error_init(&err);
    firn_stream *s;
    CHECK_OK(open_stream(c, &s, &err), &err);
    const char *topic = tname(c, "sizes");
    CHECK_OK(firn_stream_create_topic(s, topic, 1, &err), &err);
    size_t big = c->big_value_bytes;
    uint64_t limit = c->opts && c->opts->max_record_bytes ? c->opts->max_record_bytes : 16u << 20;
    uint8_t *v = malloc(limit + 1);
    for (size_t i = 0; i < limit + 1; i++) v[i] = (uint8_t)(i * 2654435761u >> 13);
    firn_msg m[3] = {
        {.partition = 0, .key = "", .key_len = 0, .value = "", .value_len = 0},
        {.partition = 0, .value = v, .value_len = big},
        {.partition = 0, .key = "k", .key_len = 1, .value = "tail", .value_len = 4},
    };
    int64_t offs[3];
    int rc = firn_stream_append(s, topic, m, 3, offs, NULL, &err);
    if (rc != 0) free(v);
    CHECK_OK(rc, &err);
    CHECK(offs[0] == 0 && offs[1] == 1 && offs[2] == 2);
    /* one record over the limit: refused, nothing of the call written */
    firn_msg over[2] = {{.partition = 0, .value = "x", .value_len = 1},
                        {.partition = 0, .value = v, .value_len = limit + 1}};
    rc = firn_stream_append(s, topic, over, 2, NULL, NULL, &err);
    firn_watermarks w;
    CHECK_OK(firn_stream_watermarks(s, topic, 0, &w, &err), &err);
    if (rc != -FIRN_ERR_LIMIT || w.high != 3) free(v);
    CHECK_MSG(rc == -FIRN_ERR_LIMIT, "oversized append returned %d, not FIRN_ERR_LIMIT", rc);
    CHECK_EQ_INT(w.high, 3);

    firn_consumer *cons;
    firn_consumer_options co;
    firn_consumer_options_init(&co);
    CHECK_OK(firn_consumer_open(s, &co, &cons, &err), &err);
    firn_topic_partition tp = {topic, 0, 0};
    CHECK_OK(firn_consumer_assign(cons, &tp, 1, &err), &err);
    size_t seen = 0;
    bool ok = true;
    for (int tries = 0; seen < 3 && tries < 40; tries++) {
        const firn_record *r;
        size_t n;
        CHECK_OK(firn_consumer_poll(cons, 100, &r, &n, &err), &err);
        for (size_t i = 0; i < n; i++, seen++) {
            const firn_msg *e = &m[seen];
            if (r[i].offset != (int64_t)seen || r[i].value_len != e->value_len ||
                (e->value_len && memcmp(r[i].value, e->value, e->value_len)) ||
                r[i].key_len != e->key_len || (r[i].key == NULL) != (e->key == NULL))
                ok = false;
        }
    }
    firn_consumer_close(cons);
    if (c->has_get) {
        firn_record *rec;
        rc = firn_stream_get(s, topic, 0, 1, &rec, &err);
        if (rc == 0) {
            if (rec->value_len != big || memcmp(rec->value, v, big) != 0) ok = false;
            firn_stream_record_release(rec);
        } else {
            ok = false;
        }
    }
    free(v);
    CHECK_MSG(seen == 3 && ok, "empty / %zu-byte / small records: read %zu, equal %d", big, seen, ok);
    firn_stream_close(s);
    firn_error_release(&err);
}

typedef struct sub_ctx {
    int calls;
    size_t n;
    int64_t start;
} sub_ctx;

static void on_rebalance(void *ctx, bool assigned, firn_topic_partition *tps, size_t n) {
    sub_ctx *sc = ctx;
    if (!assigned) return;
    sc->calls++;
    sc->n = n;
    for (size_t i = 0; i < n; i++) tps[i].offset = sc->start; /* the tables' position */
}

static void check_subscribe(conf *c) {
    firn_error err;
    firn_error_init(&err);
    firn_stream *s;
    CHECK_OK(open_stream(c, &s, &err), &err);
    const char *topic = tname(c, "subscribe");
    CHECK_OK(firn_stream_create_topic(s, topic, 2, &err), &err);
    firn_msg m[20];
    char keys[20][16];
    for (int i = 0; i < 20; i++) {
        snprintf(keys[i], sizeof keys[i], "%d", i % 100);
        m[i] = (firn_msg){.partition = i % 2, .value = keys[i], .value_len = strlen(keys[i])};
    }
    CHECK_OK(firn_stream_append(s, topic, m, 20, NULL, NULL, &err), &err);
    sub_ctx sc = {.start = 4};
    firn_consumer_options co;
    firn_consumer_options_init(&co);
    co.group = "conformance";
    co.on_rebalance = on_rebalance;
    co.rebalance_ctx = &sc;
    firn_consumer *cons;
    CHECK_OK(firn_consumer_open(s, &co, &cons, &err), &err);
    const char *topics[1] = {topic};
    CHECK_OK(firn_consumer_subscribe(cons, topics, 1, &err), &err);
    size_t seen = 0;
    bool ok = true;
    for (int tries = 0; seen < 12 && tries < 100; tries++) {
        const firn_record *r;
        size_t n;
        CHECK_OK(firn_consumer_poll(cons, 100, &r, &n, &err), &err);
        for (size_t i = 0; i < n; i++, seen++) {
            char num[16] = {0}; /* values are not NUL-terminated */
            memcpy(num, r[i].value, r[i].value_len < 15 ? r[i].value_len : 15);
            if (r[i].offset < 4 || atoi(num) % 2 != r[i].partition) ok = false;
        }
    }
    CHECK_EQ_INT(sc.calls, 1);
    CHECK_EQ_INT(sc.n, 2);
    CHECK_MSG(seen == 12 && ok, "subscribe from offset 4: %zu records (want 12), ok %d", seen, ok);
    firn_topic_partition commit[2] = {{topic, 0, 10}, {topic, 1, 10}};
    CHECK_OK(firn_consumer_commit(cons, commit, 2, &err), &err);
    firn_consumer_close(cons);
    firn_stream_close(s);
    firn_error_release(&err);
}

/* ------------------------------------------------ threads */

typedef struct thr_arg {
    firn_stream *s;
    const char *topic;
    int id;
    int calls;
    int rc;
    char msg[400];
} thr_arg;

static void *appender(void *p) {
    thr_arg *a = p;
    firn_error err;
    firn_error_init(&err);
    int seq = 0;
    for (int call = 0; call < a->calls && a->rc == 0; call++) {
        firn_msg m[5];
        char vals[5][32];
        int k = 1 + call % 5;
        for (int j = 0; j < k; j++) {
            int l = snprintf(vals[j], sizeof vals[j], "%d:%d", a->id, seq++);
            m[j] = (firn_msg){.partition = a->id % 2, .value = vals[j], .value_len = (size_t)l};
        }
        a->rc = firn_stream_append(a->s, a->topic, m, (size_t)k, NULL, NULL, &err);
        if (a->rc) snprintf(a->msg, sizeof a->msg, "%s", err.message);
    }
    firn_error_release(&err);
    return NULL;
}

typedef struct waiter_arg {
    firn_stream *s;
    const char *topic;
    size_t want, got;
    int rc;
} waiter_arg;

/* A consumer that blocks in poll while the appenders run. */
static void *waiter(void *p) {
    waiter_arg *w = p;
    firn_error err;
    firn_error_init(&err);
    firn_consumer *cons;
    w->rc = firn_consumer_open(w->s, NULL, &cons, &err);
    if (w->rc) return NULL;
    firn_topic_partition tps[2] = {{w->topic, 0, 0}, {w->topic, 1, 0}};
    w->rc = firn_consumer_assign(cons, tps, 2, &err);
    int empty = 0;
    while (w->rc == 0 && w->got < w->want && empty < 100) {
        const firn_record *r;
        size_t n;
        w->rc = firn_consumer_poll(cons, 100, &r, &n, &err);
        w->got += n;
        empty = n ? 0 : empty + 1;
    }
    firn_consumer_close(cons);
    firn_error_release(&err);
    return NULL;
}

static void check_threads(conf *c) {
    firn_error err;
    firn_error_init(&err);
    firn_stream *s;
    CHECK_OK(open_stream(c, &s, &err), &err);
    const char *topic = tname(c, "threads");
    CHECK_OK(firn_stream_create_topic(s, topic, 2, &err), &err);
    enum { T = 4, CALLS = 150 };
    int per_thread = 0;
    for (int call = 0; call < CALLS; call++) per_thread += 1 + call % 5;
    thr_arg a[T];
    pthread_t th[T], wt;
    waiter_arg w = {.s = s, .topic = topic, .want = (size_t)(T * per_thread)};
    pthread_create(&wt, NULL, waiter, &w);
    for (int i = 0; i < T; i++) {
        a[i] = (thr_arg){.s = s, .topic = topic, .id = i, .calls = CALLS};
        pthread_create(&th[i], NULL, appender, &a[i]);
    }
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    pthread_join(wt, NULL);
    for (int i = 0; i < T; i++) CHECK_MSG(a[i].rc == 0, "appender %d: %s", i, a[i].msg);
    CHECK_EQ_INT(w.rc, 0);
    CHECK_EQ_INT(w.got, T * per_thread);
    /* every record exactly once, each thread's records in its order */
    firn_consumer *cons;
    CHECK_OK(firn_consumer_open(s, NULL, &cons, &err), &err);
    firn_topic_partition tps[2] = {{topic, 0, 0}, {topic, 1, 0}};
    CHECK_OK(firn_consumer_assign(cons, tps, 2, &err), &err);
    int last[T];
    for (int i = 0; i < T; i++) last[i] = -1;
    size_t total = 0;
    int64_t next[2] = {0, 0};
    bool ok = true;
    int empty = 0;
    while (total < (size_t)(T * per_thread) && empty < 40) {
        const firn_record *r;
        size_t n;
        CHECK_OK(firn_consumer_poll(cons, 100, &r, &n, &err), &err);
        empty = n ? 0 : empty + 1;
        for (size_t i = 0; i < n; i++, total++) {
            char buf[32];
            size_t l = r[i].value_len < 31 ? r[i].value_len : 31;
            memcpy(buf, r[i].value, l);
            buf[l] = 0;
            int id, seq;
            if (sscanf(buf, "%d:%d", &id, &seq) != 2 || id < 0 || id >= T || seq != last[id] + 1 ||
                id % 2 != r[i].partition || r[i].offset != next[r[i].partition])
                ok = false;
            else last[id] = seq;
            next[r[i].partition] = r[i].offset + 1;
        }
    }
    firn_consumer_close(cons);
    CHECK_EQ_INT(total, T * per_thread);
    CHECK_MSG(ok, "records lost, doubled or out of order under concurrent appends");
    for (int i = 0; i < T; i++) CHECK_EQ_INT(last[i], per_thread - 1);
    firn_stream_close(s);
    firn_error_release(&err);
}

void firn_stream_conformance(const firn_stream_conformance_config *cfg) {
    int failed = 0;
    void (*checks[])(conf *) = {check_roundtrip, check_limits_and_sizes, check_subscribe,
                                check_threads};
    const char *names[] = {"roundtrip", "limits_and_sizes", "subscribe", "threads"};
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        firn_test_failed = 0;
        checks[i](cfg);
        if (firn_test_failed) {
            printf("    conformance check %s failed on %s\n", names[i], cfg->uri);
            failed = 1;
        }
    }
    firn_test_failed = failed;
}
