/*
 * test_kafka.c - the Kafka transport against librdkafka's mock cluster, started
 * in this process (rd_kafka_mock_cluster_new): round trips with keys, headers
 * and timestamps, dense offsets, murmur2 partitioning, watermarks, topic
 * creation rules, the record size limit, manual assignment and seek, one
 * consumer group join with the rebalance callback, and delivery under injected
 * faults (request errors, leader change, a broker down then up, latency).
 */
#include "stream/stream.h"
#include "test.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef struct mock {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    char uri[512];
} mock;

static int mock_start(mock *m, int brokers) {
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!m->rk) return -1;
    m->mc = rd_kafka_mock_cluster_new(m->rk, brokers);
    if (!m->mc) return -1;
    snprintf(m->uri, sizeof m->uri, "kafka://%s", rd_kafka_mock_cluster_bootstraps(m->mc));
    return 0;
}

static void mock_stop(mock *m) {
    if (m->mc) rd_kafka_mock_cluster_destroy(m->mc);
    if (m->rk) rd_kafka_destroy(m->rk);
    m->mc = NULL;
    m->rk = NULL;
}

/* Poll c until want records arrived (or 20 s pass); copies (partition, offset,
 * value) of each into the arrays. Returns the count read. */
typedef struct got {
    int32_t partition;
    int64_t offset;
    int64_t ts;
    char value[64];
    char key[32];
    size_t n_headers;
    char h0[32];
    char h0v[32];
} got;

static size_t poll_n(firn_consumer *c, size_t want, got *out, size_t cap) {
    size_t k = 0;
    uint64_t deadline = firn_now_ns() + 20ull * 1000000000ull;
    while (k < want && firn_now_ns() < deadline) {
        const firn_record *r;
        size_t n;
        firn_error err;
        firn_error_init(&err);
        if (firn_consumer_poll(c, 200, &r, &n, &err) != 0) {
            char eb[512];
            fprintf(stderr, "poll: %s\n", firn_error_format(&err, eb, sizeof eb));
            firn_error_release(&err);
            continue;
        }
        for (size_t i = 0; i < n && k < cap; i++, k++) {
            got *g = &out[k];
            memset(g, 0, sizeof *g);
            g->partition = r[i].partition;
            g->offset = r[i].offset;
            g->ts = r[i].timestamp_ms;
            snprintf(g->value, sizeof g->value, "%.*s", (int)r[i].value_len, (const char *)r[i].value);
            if (r[i].key) snprintf(g->key, sizeof g->key, "%.*s", (int)r[i].key_len, (const char *)r[i].key);
            g->n_headers = r[i].n_headers;
            if (r[i].n_headers) {
                snprintf(g->h0, sizeof g->h0, "%s", r[i].headers[0].key);
                snprintf(g->h0v, sizeof g->h0v, "%.*s", (int)r[i].headers[0].value_len,
                         (const char *)r[i].headers[0].value);
            }
        }
    }
    return k;
}

FIRN_TEST(kafka_roundtrip_keys_headers_timestamps) {
    mock m = {0};
    CHECK(mock_start(&m, 3) == 0);
    CHECK(rd_kafka_mock_topic_create(m.mc, "rt", 3, 3) == 0);
    firn_error err;
    firn_error_init(&err);
    firn_stream *s = NULL;
    CHECK_OK(firn_stream_open(m.uri, NULL, &s, &err), &err);
    CHECK_EQ_STR(firn_stream_kind(s), "kafka");

    enum { N = 30 };
    char keys[N][16], vals[N][32], hv[N][16];
    firn_header hdr[N][2];
    firn_msg msgs[N];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "car-%d", i % 7);
        snprintf(vals[i], sizeof vals[i], "value-%d", i);
        snprintf(hv[i], sizeof hv[i], "h%d", i);
        hdr[i][0] = (firn_header){"source", hv[i], strlen(hv[i])};
        hdr[i][1] = (firn_header){"empty", "", 0};
        msgs[i] = (firn_msg){.partition = -1,
                             .key = keys[i], .key_len = strlen(keys[i]),
                             .value = vals[i], .value_len = strlen(vals[i]),
                             .headers = hdr[i], .n_headers = (size_t)(i % 3 == 0 ? 2 : 0),
                             .timestamp_ms = 1700000000000 + i};
    }
    msgs[5].partition = 2; /* explicit */
    msgs[6].key = NULL;    /* no key: partition 0 */
    msgs[6].key_len = 0;
    int64_t offs[N];
    int32_t parts[N];
    CHECK_OK(firn_stream_append(s, "rt", msgs, N, offs, parts, &err), &err);
    /* partitions: explicit, murmur2 of the key, or 0 without a key; offsets dense */
    int64_t next[3] = {0, 0, 0};
    for (int i = 0; i < N; i++) {
        int32_t want = i == 5 ? 2 : i == 6 ? 0 : firn_stream_partition_for_key(keys[i], strlen(keys[i]), 3);
        CHECK_EQ_INT(parts[i], want);
        CHECK_EQ_INT(offs[i], next[parts[i]]);
        next[parts[i]]++;
    }
    /* a second call continues the offsets */
    int64_t off2;
    int32_t part2;
    firn_msg more = {.partition = 1, .value = "later", .value_len = 5};
    CHECK_OK(firn_stream_append(s, "rt", &more, 1, &off2, &part2, &err), &err);
    CHECK_EQ_INT(part2, 1);
    CHECK_EQ_INT(off2, next[1]);
    next[1]++;
    for (int p = 0; p < 3; p++) {
        firn_watermarks w;
        CHECK_OK(firn_stream_watermarks(s, "rt", p, &w, &err), &err);
        CHECK_EQ_INT(w.low, 0);
        CHECK_EQ_INT(w.high, next[p]);
    }

    firn_consumer *c = NULL;
    CHECK_OK(firn_consumer_open(s, NULL, &c, &err), &err);
    firn_topic_partition tps[3] = {{"rt", 0, 0}, {"rt", 1, 0}, {"rt", 2, 0}};
    CHECK_OK(firn_consumer_assign(c, tps, 3, &err), &err);
    got g[N + 1];
    size_t k = poll_n(c, N + 1, g, N + 1);
    CHECK_EQ_INT(k, N + 1);
    int seen[N] = {0};
    int64_t last[3] = {-1, -1, -1};
    for (size_t j = 0; j < k; j++) {
        CHECK_EQ_INT(g[j].offset, last[g[j].partition] + 1); /* in order, dense */
        last[g[j].partition] = g[j].offset;
        if (strcmp(g[j].value, "later") == 0) {
            CHECK_EQ_INT(g[j].offset, off2);
            continue;
        }
        int i = atoi(g[j].value + 6);
        CHECK(i >= 0 && i < N && !seen[i]);
        seen[i] = 1;
        CHECK_EQ_STR(g[j].value, vals[i]);
        CHECK_EQ_INT(g[j].partition, parts[i]);
        CHECK_EQ_INT(g[j].offset, offs[i]);
        CHECK_EQ_INT(g[j].ts, 1700000000000 + i);
        CHECK_EQ_STR(g[j].key, i == 6 ? "" : keys[i]);
        CHECK_EQ_INT(g[j].n_headers, i % 3 == 0 ? 2 : 0);
        if (i % 3 == 0) {
            CHECK_EQ_STR(g[j].h0, "source");
            CHECK_EQ_STR(g[j].h0v, hv[i]);
        }
    }
    firn_consumer_close(c);
    firn_stream_close(s);
    mock_stop(&m);
}

FIRN_TEST(kafka_topics_create_and_limits) {
    mock m = {0};
    CHECK(mock_start(&m, 1) == 0);
    CHECK(rd_kafka_mock_topic_create(m.mc, "ct", 4, 1) == 0);
    firn_error err;
    firn_error_init(&err);
    firn_stream_options o;
    firn_stream_options_init(&o);
    o.max_record_bytes = 1000;
    firn_stream *s = NULL;
    CHECK_OK(firn_stream_open(m.uri, &o, &s, &err), &err);
    /* existing topic, same count: fine; another count: conflict */
    CHECK_OK(firn_stream_create_topic(s, "ct", 4, &err), &err);
    CHECK_EQ_INT(firn_stream_create_topic(s, "ct", 5, &err), -FIRN_ERR_CONFLICT);
    CHECK_EQ_INT(err.kind, FIRN_ERR_CONFLICT);
    int32_t n = 0;
    CHECK_OK(firn_stream_partitions(s, "ct", &n, &err), &err);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(firn_stream_partitions(s, "nope", &n, &err), -FIRN_ERR_NOT_FOUND);
    char **names = NULL;
    size_t nn = 0;
    CHECK_OK(firn_stream_topics(s, &names, &nn, &err), &err);
    int found = 0;
    for (size_t i = 0; i < nn; i++) {
        found += strcmp(names[i], "ct") == 0;
        free(names[i]);
    }
    free(names);
    CHECK_EQ_INT(found, 1);
    CHECK_EQ_INT(nn, 1);

    /* appends: to a missing topic, to a missing partition, oversized */
    firn_msg msg = {.partition = 0, .value = "x", .value_len = 1};
    CHECK_EQ_INT(firn_stream_append(s, "nope", &msg, 1, NULL, NULL, &err), -FIRN_ERR_NOT_FOUND);
    msg.partition = 4;
    CHECK_EQ_INT(firn_stream_append(s, "ct", &msg, 1, NULL, NULL, &err), -FIRN_ERR_INVALID);
    static char big[80 << 10];
    memset(big, 'b', sizeof big);
    firn_msg two[2] = {{.partition = 1, .value = "ok", .value_len = 2},
                       {.partition = 1, .value = big, .value_len = 1001}};
    CHECK_EQ_INT(firn_stream_append(s, "ct", two, 2, NULL, NULL, &err), -FIRN_ERR_LIMIT);
    /* headers past message.max.bytes: librdkafka refuses, mapped to the limit too */
    firn_header h = {"blob", big, sizeof big};
    firn_msg hm = {.partition = 1, .value = "v", .value_len = 1, .headers = &h, .n_headers = 1};
    CHECK_EQ_INT(firn_stream_append(s, "ct", &hm, 1, NULL, NULL, &err), -FIRN_ERR_LIMIT);
    firn_watermarks w;
    CHECK_OK(firn_stream_watermarks(s, "ct", 1, &w, &err), &err);
    CHECK_EQ_INT(w.high, 0); /* nothing of the refused calls was written */
    /* exactly at the limit is fine */
    firn_msg at = {.partition = 1, .key = "k", .key_len = 1, .value = big, .value_len = 999};
    int64_t off = -1;
    CHECK_OK(firn_stream_append(s, "ct", &at, 1, &off, NULL, &err), &err);
    CHECK_EQ_INT(off, 0);
    CHECK_EQ_INT(firn_stream_watermarks(s, "ct", 9, &w, &err) < 0, 1);
    firn_record *rec = NULL;
    CHECK_EQ_INT(firn_stream_get(s, "ct", 1, 0, &rec, &err), -FIRN_ERR_UNSUPPORTED);
    firn_stream_close(s);

    /* bad settings are refused with the key's name */
    const char *conf[] = {"no.such.setting", "1", NULL};
    o.kafka_conf = conf;
    CHECK(firn_stream_open(m.uri, &o, &s, &err) == -FIRN_ERR_INVALID);
    CHECK(strstr(err.message, "no.such.setting") != NULL);
    mock_stop(&m);
}

FIRN_TEST(kafka_assign_and_seek) {
    mock m = {0};
    CHECK(mock_start(&m, 1) == 0);
    CHECK(rd_kafka_mock_topic_create(m.mc, "as", 2, 1) == 0);
    firn_error err;
    firn_error_init(&err);
    firn_stream *s = NULL;
    CHECK_OK(firn_stream_open(m.uri, NULL, &s, &err), &err);
    enum { N = 100 };
    char vals[N][16];
    firn_msg msgs[N];
    for (int i = 0; i < N; i++) {
        snprintf(vals[i], sizeof vals[i], "v%d", i);
        msgs[i] = (firn_msg){.partition = 1, .value = vals[i], .value_len = strlen(vals[i])};
    }
    CHECK_OK(firn_stream_append(s, "as", msgs, N, NULL, NULL, &err), &err);
    firn_consumer_options co;
    firn_consumer_options_init(&co);
    co.max_poll_records = 7;
    firn_consumer *c = NULL;
    CHECK_OK(firn_consumer_open(s, &co, &c, &err), &err);
    firn_topic_partition tp = {"as", 1, 50};
    CHECK_OK(firn_consumer_assign(c, &tp, 1, &err), &err);
    got g[N];
    size_t k = poll_n(c, 10, g, N);
    CHECK(k >= 10);
    CHECK_EQ_INT(g[0].offset, 50);
    CHECK_EQ_STR(g[0].value, "v50");
    for (size_t j = 0; j < k; j++) CHECK_EQ_INT(g[j].offset, 50 + (int64_t)j);
    /* seek back: the next record is offset 10, whatever was fetched before;
     * max_poll_records bounds a poll */
    CHECK_OK(firn_consumer_seek(c, "as", 1, 10, &err), &err);
    const firn_record *r;
    size_t n = 0;
    for (int tries = 0; tries < 50 && n == 0; tries++) CHECK_OK(firn_consumer_poll(c, 200, &r, &n, &err), &err);
    CHECK(n >= 1 && n <= 7);
    for (size_t j = 0; j < n; j++) {
        CHECK_EQ_INT(r[j].offset, 10 + (int64_t)j);
        CHECK_EQ_STR(r[j].topic, "as");
        CHECK_EQ_INT(r[j].value_len, strlen(vals[10 + j]));
        CHECK_MEM(r[j].value, vals[10 + j], r[j].value_len);
    }
    /* reassign replaces: partition 0 is empty, so a poll times out with nothing */
    firn_topic_partition tp0 = {"as", 0, 0};
    CHECK_OK(firn_consumer_assign(c, &tp0, 1, &err), &err);
    CHECK_OK(firn_consumer_poll(c, 300, &r, &n, &err), &err);
    CHECK_EQ_INT(n, 0);
    firn_topic_partition neg = {"as", 0, -1};
    CHECK_EQ_INT(firn_consumer_assign(c, &neg, 1, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_consumer_subscribe(c, (const char *const[]){"as"}, 1, &err), -FIRN_ERR_INVALID);
    firn_consumer_close(c);
    firn_stream_close(s);
    mock_stop(&m);
}

typedef struct rebalance_log {
    int assigned_calls, revoked_calls;
    int assigned_parts, revoked_parts;
} rebalance_log;

static void on_rebalance(void *ctx, bool assigned, firn_topic_partition *tps, size_t n) {
    rebalance_log *l = ctx;
    if (assigned) {
        l->assigned_calls++;
        l->assigned_parts += (int)n;
        for (size_t i = 0; i < n; i++) tps[i].offset = 5 + tps[i].partition; /* "from the tables" */
    } else {
        l->revoked_calls++;
        l->revoked_parts += (int)n;
    }
}

/* A group whose rebalance never completes (every JoinGroup fails): the member's
 * poll fails with FIRN_ERR_LIMIT once it has waited max.poll.interval.ms +
 * session.timeout.ms (here 2 s) for an assignment, instead of waiting forever. */
FIRN_TEST(kafka_group_rebalance_wait_bounded) {
    mock m = {0};
    CHECK(mock_start(&m, 1) == 0);
    CHECK(rd_kafka_mock_topic_create(m.mc, "stuck", 2, 1) == 0);
    rd_kafka_resp_err_t errs[400];
    for (size_t i = 0; i < 400; i++) errs[i] = RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    rd_kafka_mock_push_request_errors_array(m.mc, 11 /* JoinGroup */, 400, errs);
    firn_error err;
    firn_error_init(&err);
    const char *conf[] = {"session.timeout.ms", "1000", "heartbeat.interval.ms", "100",
                          "max.poll.interval.ms", "1000", NULL};
    firn_stream_options o;
    firn_stream_options_init(&o);
    o.kafka_conf = conf;
    firn_stream *s = NULL;
    CHECK_OK(firn_stream_open(m.uri, &o, &s, &err), &err);
    rebalance_log log = {0};
    firn_consumer_options co;
    firn_consumer_options_init(&co);
    co.group = "firn-stuck";
    co.on_rebalance = on_rebalance;
    co.rebalance_ctx = &log;
    firn_consumer *c = NULL;
    CHECK_OK(firn_consumer_open(s, &co, &c, &err), &err);
    CHECK_OK(firn_consumer_subscribe(c, (const char *const[]){"stuck"}, 1, &err), &err);
    int rc = 0;
    uint64_t t0 = firn_now_ns();
    for (int polls = 0; polls < 100 && rc == 0; polls++) { /* at most ~10 s */
        const firn_record *r;
        size_t n = 0;
        rc = firn_consumer_poll(c, 100, &r, &n, &err);
    }
    CHECK_EQ_INT(rc, -FIRN_ERR_LIMIT);
    CHECK(firn_now_ns() - t0 >= 2000000000ull); /* not before the bound */
    CHECK(strstr(err.message, "firn-stuck") && strstr(err.message, "no partition assignment"));
    CHECK_EQ_INT(log.assigned_calls, 0);
    firn_error_release(&err);
    rd_kafka_mock_clear_request_errors(m.mc, 11);
    firn_consumer_close(c);
    firn_stream_close(s);
    mock_stop(&m);
}

FIRN_TEST(kafka_group_subscribe_rebalance) {
    mock m = {0};
    CHECK(mock_start(&m, 3) == 0);
    CHECK(rd_kafka_mock_topic_create(m.mc, "grp", 2, 3) == 0);
    firn_error err;
    firn_error_init(&err);
    firn_stream *s = NULL;
    CHECK_OK(firn_stream_open(m.uri, NULL, &s, &err), &err);
    firn_msg msgs[20];
    char vals[20][16];
    for (int i = 0; i < 20; i++) {
        snprintf(vals[i], sizeof vals[i], "g%d", i);
        msgs[i] = (firn_msg){.partition = i % 2, .value = vals[i], .value_len = strlen(vals[i])};
    }
    CHECK_OK(firn_stream_append(s, "grp", msgs, 20, NULL, NULL, &err), &err);
    rebalance_log log = {0};
    firn_consumer_options co;
    firn_consumer_options_init(&co);
    co.group = "firn-test";
    co.on_rebalance = on_rebalance;
    co.rebalance_ctx = &log;
    firn_consumer *c = NULL;
    CHECK_OK(firn_consumer_open(s, &co, &c, &err), &err);
    CHECK_OK(firn_consumer_subscribe(c, (const char *const[]){"grp"}, 1, &err), &err);
    /* partition 0 starts at 5 (offsets 5..9), partition 1 at 6 (6..9): 9 records */
    got g[20];
    size_t k = poll_n(c, 9, g, 20);
    CHECK_EQ_INT(k, 9);
    CHECK_EQ_INT(log.assigned_parts, 2);
    int64_t next[2] = {5, 6};
    for (size_t j = 0; j < k; j++) {
        CHECK_EQ_INT(g[j].offset, next[g[j].partition]);
        next[g[j].partition]++;
        char want[16];
        snprintf(want, sizeof want, "g%d", (int)(g[j].offset * 2 + g[j].partition));
        CHECK_EQ_STR(g[j].value, want);
    }
    /* nothing more */
    const firn_record *r;
    size_t n = 0;
    CHECK_OK(firn_consumer_poll(c, 200, &r, &n, &err), &err);
    CHECK_EQ_INT(n, 0);
    /* commit for monitoring: visible to another client of the group */
    firn_topic_partition done[2] = {{"grp", 0, 10}, {"grp", 1, 10}};
    CHECK_OK(firn_consumer_commit(c, done, 2, &err), &err);
    firn_consumer_close(c);
    CHECK_EQ_INT(log.revoked_parts, 2);

    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", m.uri + 8, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "firn-test", errstr, sizeof errstr);
    rd_kafka_t *probe = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    CHECK(probe != NULL);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(l, "grp", 0);
    rd_kafka_topic_partition_list_add(l, "grp", 1);
    rd_kafka_resp_err_t e = rd_kafka_committed(probe, l, 10000);
    int64_t c0 = l->elems[0].offset, c1 = l->elems[1].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(probe);
    rd_kafka_destroy(probe);
    CHECK_EQ_INT(e, 0);
    CHECK_EQ_INT(c0, 10);
    CHECK_EQ_INT(c1, 10);
    firn_stream_close(s);
    mock_stop(&m);
}

/* ------------------------------------------------------------ faults */

typedef struct fault_ctx {
    firn_stream *s;
    const firn_msg *msgs;
    size_t n;
    int64_t *offs;
    int32_t *parts;
    int rc;
    firn_error err;
} fault_ctx;

static void *append_thread(void *arg) {
    fault_ctx *f = arg;
    f->rc = firn_stream_append(f->s, "flt", f->msgs, f->n, f->offs, f->parts, &f->err);
    return NULL;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

FIRN_TEST(kafka_delivery_under_faults) {
    setenv("FIRN_KAFKA_LOG", "0", 0); /* the faults make librdkafka log errors on purpose */
    mock m = {0};
    CHECK(mock_start(&m, 3) == 0);
    CHECK(rd_kafka_mock_topic_create(m.mc, "flt", 4, 3) == 0);
    firn_error err;
    firn_error_init(&err);
    firn_stream *s = NULL;
    const char *conf[] = {"retry.backoff.ms", "20", "reconnect.backoff.ms", "20",
                          "reconnect.backoff.max.ms", "200", NULL};
    firn_stream_options o;
    firn_stream_options_init(&o);
    o.kafka_conf = conf;
    CHECK_OK(firn_stream_open(m.uri, &o, &s, &err), &err);

    enum { ROUNDS = 6, PER = 200, TOTAL = ROUNDS * PER };
    static char vals[TOTAL][16];
    static firn_msg msgs[TOTAL];
    static int64_t offs[TOTAL];
    static int32_t parts[TOTAL];
    for (int i = 0; i < TOTAL; i++) {
        snprintf(vals[i], sizeof vals[i], "%d", i);
        msgs[i] = (firn_msg){.partition = -1, .key = vals[i], .key_len = strlen(vals[i]),
                             .value = vals[i], .value_len = strlen(vals[i])};
    }
    for (int round = 0; round < ROUNDS; round++) {
        fault_ctx f = {.s = s, .msgs = msgs + round * PER, .n = PER, .offs = offs + round * PER,
                       .parts = parts + round * PER};
        firn_error_init(&f.err);
        bool threaded = false;
        switch (round) {
        case 0: break; /* no fault */
        case 1: /* produce requests fail with retriable errors and a disconnect */
            rd_kafka_mock_push_request_errors(m.mc, 0 /* Produce */, 4,
                                              RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                              RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                              RD_KAFKA_RESP_ERR__TRANSPORT,
                                              RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
            /* and on every broker, each leading a partition, so each refuses some requests */
            for (int p = 0; p < 4; p++) rd_kafka_mock_partition_set_leader(m.mc, "flt", p, 1 + p % 3);
            for (int b = 1; b <= 3; b++)
                rd_kafka_mock_broker_push_request_error_rtts(
                    m.mc, b, 0, 2, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, 10,
                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, 0);
            break;
        case 2: /* leaders move */
            for (int p = 0; p < 4; p++) rd_kafka_mock_partition_set_leader(m.mc, "flt", p, 1 + (p + 1) % 3);
            break;
        case 3: /* a broker (leading partitions) goes down and comes back during the call */
            for (int p = 0; p < 4; p++) rd_kafka_mock_partition_set_leader(m.mc, "flt", p, 2);
            rd_kafka_mock_broker_set_down(m.mc, 2);
            threaded = true;
            break;
        case 4: /* latency */
            rd_kafka_mock_broker_set_rtt(m.mc, -1, 40);
            break;
        case 5:
            rd_kafka_mock_broker_set_rtt(m.mc, -1, 0);
            break;
        }
        if (threaded) {
            pthread_t t;
            CHECK(pthread_create(&t, NULL, append_thread, &f) == 0);
            sleep_ms(400);
            rd_kafka_mock_broker_set_up(m.mc, 2);
            pthread_join(t, NULL);
        } else {
            append_thread(&f);
        }
        char eb[1024];
        CHECK_MSG(f.rc == 0, "round %d: %s", round, firn_error_format(&f.err, eb, sizeof eb));
        firn_error_release(&f.err);
        if (round == 1)
            for (int b = 1; b <= 3; b++) { /* the injected errors were really served */
                size_t left = 99;
                CHECK_EQ_INT(rd_kafka_mock_broker_error_stack_cnt(m.mc, b, 0, &left), 0);
                CHECK_EQ_INT(left, 0);
            }
    }
    /* every offset the calls returned holds exactly its record, none twice */
    int64_t high[4] = {0};
    for (int p = 0; p < 4; p++) {
        firn_watermarks w;
        CHECK_OK(firn_stream_watermarks(s, "flt", p, &w, &err), &err);
        high[p] = w.high;
    }
    CHECK_EQ_INT(high[0] + high[1] + high[2] + high[3], TOTAL);
    firn_consumer *c = NULL;
    CHECK_OK(firn_consumer_open(s, NULL, &c, &err), &err);
    firn_topic_partition tps[4] = {{"flt", 0, 0}, {"flt", 1, 0}, {"flt", 2, 0}, {"flt", 3, 0}};
    CHECK_OK(firn_consumer_assign(c, tps, 4, &err), &err);
    static got g[TOTAL];
    static int seen[TOTAL];
    size_t k = poll_n(c, TOTAL, g, TOTAL);
    CHECK_EQ_INT(k, TOTAL);
    for (size_t j = 0; j < k; j++) {
        int i = atoi(g[j].value);
        CHECK(i >= 0 && i < TOTAL);
        CHECK_MSG(!seen[i], "record %d read twice", i);
        seen[i] = 1;
        CHECK_EQ_INT(g[j].partition, parts[i]);
        CHECK_EQ_INT(g[j].offset, offs[i]);
        CHECK_EQ_INT(parts[i], firn_stream_partition_for_key(vals[i], strlen(vals[i]), 4));
    }
    firn_consumer_close(c);
    firn_stream_close(s);
    mock_stop(&m);
}
