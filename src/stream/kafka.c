/*
 * kafka.c - the Kafka transport on librdkafka.
 *
 * Producer: one idempotent producer per stream (acks=all, max.in.flight 5,
 * retries without end until message.timeout.ms). firn_stream_append() hands
 * every record of the call to librdkafka with an explicit partition (firn
 * computes Kafka's murmur2 partition itself, so firn and Java clients agree),
 * then waits on a condition variable until the delivery report of each one has
 * arrived. A background thread serves rd_kafka_poll(), which runs the delivery
 * callbacks. Payloads are not copied: the call owns them until it returns, and
 * it returns only after every delivery report, also on error.
 *
 * Consumer: one rd_kafka_t per firn_consumer, with auto commit and auto
 * offset store off: the tables own positions, a commit only informs
 * monitoring tools. Groups use the cooperative-sticky assignor; the rebalance
 * callback asks the caller (opts.on_rebalance) for starting offsets, then
 * assigns or unassigns incrementally. Records returned by a poll point into
 * the librdkafka messages the consumer holds until the next poll. A member
 * waiting for an assignment (from subscribe or a revoke until the group's
 * assign callback) longer than the rebalance can legitimately take
 * (max.poll.interval.ms + session.timeout.ms) gets an error from poll rather
 * than waiting forever on a group that never completes its rebalance.
 *
 * Topics: librdkafka's mock cluster (2.0.2) has no controller, so the Admin
 * API's CreateTopics cannot run against it: create topics there with
 * rd_kafka_mock_topic_create (tests/tools/mock_kafka's "create" command).
 * firn_stream_create_topic() on an existing topic only compares counts, so it
 * works on the mock for topics created that way.
 *
 * Settings: opts.kafka_conf pairs are applied after firn's defaults (so
 * linger.ms, SASL, TLS, ... can be set), then the settings the contract
 * depends on are applied again and cannot be overridden: enable.idempotence,
 * acks, enable.auto.commit, enable.auto.offset.store. FIRN_KAFKA_LOG=N sets
 * the highest syslog level librdkafka logs to stderr (default 3, errors).
 * Kafka-internal topics (names starting with "__") are not listed by
 * firn_stream_topics().
 */
#include "stream/stream_internal.h"

#include <librdkafka/rdkafka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KAFKA_META_TIMEOUT_MS 10000
#define KAFKA_ADMIN_TIMEOUT_MS 15000
#define KAFKA_PARTITION_CACHE_NS (60ull * 1000000000ull)
/* room above max_record_bytes for headers and record-batch framing */
#define KAFKA_FRAME_SLACK (64u << 10)

typedef struct kafka_topic_count {
    char *topic;
    int32_t partitions;
    uint64_t fetched_ns;
} kafka_topic_count;

typedef struct kafka_stream {
    firn_stream base;
    char *bootstrap;
    rd_kafka_t *rk; /* the producer, also used for metadata, watermarks and admin */
    pthread_t poller;
    atomic_bool stop;

    pthread_mutex_t mu; /* guards delivery state and the partition cache */
    pthread_cond_t delivered;
    kafka_topic_count *counts;
    size_t n_counts;
} kafka_stream;

/* One firn_stream_append() call waiting for its delivery reports. */
typedef struct append_call {
    size_t pending;
    rd_kafka_resp_err_t first_err;
    int64_t *offsets;
    int32_t *partitions;
} append_call;

typedef struct append_slot {
    append_call *call;
    size_t index;
} append_slot;

typedef struct kafka_consumer {
    firn_consumer base;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    bool has_group;
    rd_kafka_message_t **held; /* messages behind the last poll's records */
    size_t n_held, cap_held;
    firn_record *recs; /* cap_held of them */
    firn_header *hdrs;
    size_t cap_hdrs;
    rd_kafka_resp_err_t pending_err; /* an error seen after records were collected */
    char pending_msg[256];
    /* Group mode: when the member started waiting for an assignment (subscribe,
     * a revoke, a rebalance error), 0 once the group's assign callback came.
     * A poll past rebalance_limit_ms of waiting fails instead of waiting on. */
    uint64_t waiting_since_ns;
    int64_t rebalance_limit_ms; /* max.poll.interval.ms + session.timeout.ms */
    const char *group;
} kafka_consumer;

/* ------------------------------------------------------------ errors */

static bool kafka_err_retriable(rd_kafka_resp_err_t e) {
    switch (e) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__OUTDATED:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
        return true;
    default:
        return false;
    }
}

static firn_err_kind kafka_err_kind(rd_kafka_resp_err_t e) {
    switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
        return FIRN_ERR_LIMIT;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return FIRN_ERR_NOT_FOUND;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
        return FIRN_ERR_CONFLICT;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
        return FIRN_ERR_INVALID;
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
        return FIRN_ERR_UNSUPPORTED;
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
        return FIRN_ERR_CORRUPT;
    default:
        return FIRN_ERR_IO;
    }
}

/* Raise a firn error for a librdkafka error code: "what: librdkafka's text". */
__attribute__((format(printf, 5, 6))) static int kafka_raise(firn_error *err, const char *file,
                                                             int line, rd_kafka_resp_err_t e,
                                                             const char *fmt, ...) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int rc = firn_error_raise(err, kafka_err_kind(e), file, line, "%s: %s (%s)", what,
                              rd_kafka_err2str(e), rd_kafka_err2name(e));
    if (err) err->retriable = kafka_err_retriable(e);
    return rc;
}
#define KAFKA_RAISE(err, e, ...) kafka_raise((err), __FILE__, __LINE__, (e), __VA_ARGS__)

/* ------------------------------------------------------------ configuration */

static void kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    const char *v = getenv("FIRN_KAFKA_LOG");
    int max_level = v && *v ? atoi(v) : 3;
    if (level <= max_level) fprintf(stderr, "firn: kafka %s: %s: %s\n", rd_kafka_name(rk), fac, buf);
}

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, firn_error *err) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "kafka setting %s=%s: %s", key, value, errstr);
    return 0;
}

/* The sizes that follow max_record_bytes (limits.max-event-bytes). */
static uint64_t kafka_message_max(const firn_stream_options *o) {
    uint64_t m = o->max_record_bytes + KAFKA_FRAME_SLACK;
    return m > 1000000000ull ? 1000000000ull : m;
}

/* A conf with the bootstrap servers, client id, logging, firn's defaults and
 * the caller's pairs. required[] is applied last (key, value, NULL). */
static int kafka_conf_new(const kafka_stream *ks, const char *const *defaults,
                          const char *const *required, rd_kafka_conf_t **out, firn_error *err) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, kafka_log);
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)kafka_message_max(&ks->base.opts));
    int rc = conf_set(conf, "bootstrap.servers", ks->bootstrap, err);
    if (!rc) rc = conf_set(conf, "client.id", ks->base.opts.client_id, err);
    if (!rc) rc = conf_set(conf, "message.max.bytes", num, err);
    for (size_t i = 0; !rc && defaults[i]; i += 2) rc = conf_set(conf, defaults[i], defaults[i + 1], err);
    const char *const *extra = ks->base.opts.kafka_conf;
    for (size_t i = 0; !rc && extra && extra[i]; i += 2) {
        if (!extra[i + 1]) {
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "kafka setting %s has no value", extra[i]);
            break;
        }
        rc = conf_set(conf, extra[i], extra[i + 1], err);
    }
    for (size_t i = 0; !rc && required[i]; i += 2) rc = conf_set(conf, required[i], required[i + 1], err);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    *out = conf;
    return 0;
}

/* ------------------------------------------------------------ producer */

static void kafka_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    kafka_stream *ks = opaque;
    append_slot *slot = m->_private;
    append_call *call = slot->call;
    pthread_mutex_lock(&ks->mu);
    if (m->err || rd_kafka_message_status(m) != RD_KAFKA_MSG_STATUS_PERSISTED) {
        if (!call->first_err) call->first_err = m->err ? m->err : RD_KAFKA_RESP_ERR__FAIL;
    } else {
        if (call->offsets) call->offsets[slot->index] = m->offset;
        if (call->partitions) call->partitions[slot->index] = m->partition;
    }
    if (--call->pending == 0) pthread_cond_broadcast(&ks->delivered);
    pthread_mutex_unlock(&ks->mu);
}

static void *kafka_poller(void *arg) {
    kafka_stream *ks = arg;
    while (!atomic_load(&ks->stop)) rd_kafka_poll(ks->rk, 100);
    return NULL;
}

static void kafka_close(firn_stream *s) {
    kafka_stream *ks = (kafka_stream *)s;
    if (ks->rk) {
        atomic_store(&ks->stop, true);
        rd_kafka_yield(ks->rk); /* wake the poller out of rd_kafka_poll() */
        pthread_join(ks->poller, NULL);
        rd_kafka_flush(ks->rk, 10000);
        rd_kafka_destroy(ks->rk);
    }
    for (size_t i = 0; i < ks->n_counts; i++) free(ks->counts[i].topic);
    free(ks->counts);
    pthread_mutex_destroy(&ks->mu);
    pthread_cond_destroy(&ks->delivered);
    free(ks->bootstrap);
    free(ks);
}

/* ------------------------------------------------------------ metadata */

/* Partition count of topic from the cluster (all-topics metadata, so asking
 * never auto-creates a topic). *out = -1 when the topic does not exist. */
static int kafka_fetch_partitions(kafka_stream *ks, const char *topic, int32_t *out,
                                  firn_error *err) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(ks->rk, 1, NULL, &md, KAFKA_META_TIMEOUT_MS);
    if (e) return KAFKA_RAISE(err, e, "kafka %s: metadata for topic %s", ks->bootstrap, topic);
    *out = -1;
    for (int i = 0; i < md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *t = &md->topics[i];
        if (strcmp(t->topic, topic) != 0) continue;
        if (t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) break;
        if (t->err && t->partition_cnt == 0) {
            rd_kafka_resp_err_t te = t->err;
            rd_kafka_metadata_destroy(md);
            return KAFKA_RAISE(err, te, "kafka %s: topic %s", ks->bootstrap, topic);
        }
        *out = t->partition_cnt;
        break;
    }
    rd_kafka_metadata_destroy(md);
    pthread_mutex_lock(&ks->mu);
    size_t i = 0;
    while (i < ks->n_counts && strcmp(ks->counts[i].topic, topic) != 0) i++;
    if (*out < 0) {
        if (i < ks->n_counts) {
            free(ks->counts[i].topic);
            ks->counts[i] = ks->counts[--ks->n_counts];
        }
    } else {
        if (i == ks->n_counts) {
            ks->counts = firn_xrealloc(ks->counts, (ks->n_counts + 1) * sizeof *ks->counts);
            ks->counts[ks->n_counts++].topic = firn_xstrdup(topic);
        }
        ks->counts[i].partitions = *out;
        ks->counts[i].fetched_ns = firn_now_ns();
    }
    pthread_mutex_unlock(&ks->mu);
    return 0;
}

/* Partition count for appends: cached for a minute. */
static int kafka_cached_partitions(kafka_stream *ks, const char *topic, int32_t *out,
                                   firn_error *err) {
    uint64_t now = firn_now_ns();
    pthread_mutex_lock(&ks->mu);
    for (size_t i = 0; i < ks->n_counts; i++)
        if (strcmp(ks->counts[i].topic, topic) == 0 &&
            now - ks->counts[i].fetched_ns < KAFKA_PARTITION_CACHE_NS) {
            *out = ks->counts[i].partitions;
            pthread_mutex_unlock(&ks->mu);
            return 0;
        }
    pthread_mutex_unlock(&ks->mu);
    return kafka_fetch_partitions(ks, topic, out, err);
}

static int kafka_partitions(firn_stream *s, const char *topic, int32_t *out, firn_error *err) {
    kafka_stream *ks = (kafka_stream *)s;
    int32_t n;
    int rc = kafka_fetch_partitions(ks, topic, &n, err);
    if (rc) return rc;
    if (n < 0) return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "kafka %s: no topic %s", ks->bootstrap, topic);
    *out = n;
    return 0;
}

static int kafka_topics(firn_stream *s, char ***out, size_t *n, firn_error *err) {
    kafka_stream *ks = (kafka_stream *)s;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(ks->rk, 1, NULL, &md, KAFKA_META_TIMEOUT_MS);
    if (e) return KAFKA_RAISE(err, e, "kafka %s: listing topics", ks->bootstrap);
    char **names = firn_xcalloc((size_t)md->topic_cnt + 1, sizeof *names);
    size_t k = 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *t = &md->topics[i];
        if (t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
        if (strncmp(t->topic, "__", 2) == 0) continue;
        names[k++] = firn_xstrdup(t->topic);
    }
    rd_kafka_metadata_destroy(md);
    *out = names;
    *n = k;
    return 0;
}

static int kafka_watermarks(firn_stream *s, const char *topic, int32_t partition,
                            firn_watermarks *out, firn_error *err) {
    kafka_stream *ks = (kafka_stream *)s;
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(ks->rk, topic, partition, &lo, &hi,
                                                             KAFKA_META_TIMEOUT_MS);
    if (e) return KAFKA_RAISE(err, e, "kafka %s: watermarks of %s[%d]", ks->bootstrap, topic, partition);
    out->low = lo;
    out->high = hi;
    return 0;
}

static int kafka_create_topic(firn_stream *s, const char *topic, int32_t partitions,
                              firn_error *err) {
    kafka_stream *ks = (kafka_stream *)s;
    int32_t have;
    int rc = kafka_fetch_partitions(ks, topic, &have, err);
    if (rc) return rc;
    if (have < 0) {
        char errstr[512], num[32];
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, -1, errstr, sizeof errstr);
        if (!nt) return FIRN_RAISE(err, FIRN_ERR_INVALID, "kafka: topic %s: %s", topic, errstr);
        snprintf(num, sizeof num, "%llu", (unsigned long long)kafka_message_max(&s->opts));
        rd_kafka_NewTopic_set_config(nt, "max.message.bytes", num);
        rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(ks->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_AdminOptions_set_request_timeout(ao, KAFKA_ADMIN_TIMEOUT_MS, errstr, sizeof errstr);
        rd_kafka_AdminOptions_set_operation_timeout(ao, KAFKA_ADMIN_TIMEOUT_MS, errstr, sizeof errstr);
        rd_kafka_queue_t *q = rd_kafka_queue_new(ks->rk);
        rd_kafka_CreateTopics(ks->rk, &nt, 1, ao, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, KAFKA_ADMIN_TIMEOUT_MS + 5000);
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
        char msg[256] = "no answer";
        if (ev) {
            e = rd_kafka_event_error(ev);
            if (e) {
                snprintf(msg, sizeof msg, "%s", rd_kafka_event_error_string(ev));
            } else {
                size_t nr = 0;
                const rd_kafka_topic_result_t **tr =
                    rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &nr);
                for (size_t i = 0; i < nr; i++) {
                    e = rd_kafka_topic_result_error(tr[i]);
                    if (e) {
                        const char *es = rd_kafka_topic_result_error_string(tr[i]);
                        snprintf(msg, sizeof msg, "%s", es ? es : rd_kafka_err2str(e));
                    }
                }
            }
            rd_kafka_event_destroy(ev);
        }
        rd_kafka_queue_destroy(q);
        rd_kafka_AdminOptions_destroy(ao);
        rd_kafka_NewTopic_destroy(nt);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            rc = KAFKA_RAISE(err, e, "kafka %s: creating topic %s (%s)", ks->bootstrap, topic, msg);
            if (e == RD_KAFKA_RESP_ERR__TIMED_OUT && strstr(msg, "controller"))
                firn_error_context(err, "the cluster names no controller (librdkafka's mock "
                                        "cluster cannot create topics: create them with "
                                        "rd_kafka_mock_topic_create)");
            return rc;
        }
        /* Created (or created concurrently): wait until metadata shows it. */
        uint64_t deadline = firn_now_ns() + (uint64_t)KAFKA_META_TIMEOUT_MS * 1000000ull;
        for (;;) {
            rc = kafka_fetch_partitions(ks, topic, &have, err);
            if (rc) return rc;
            if (have >= 0 || firn_now_ns() > deadline) break;
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (have < 0)
            return FIRN_RAISE(err, FIRN_ERR_IO, "kafka %s: topic %s created but not in metadata",
                              ks->bootstrap, topic);
    }
    if (have != partitions)
        return FIRN_RAISE(err, FIRN_ERR_CONFLICT, "kafka %s: topic %s exists with %d partitions, not %d",
                          ks->bootstrap, topic, have, partitions);
    return 0;
}

/* ------------------------------------------------------------ append */

static int kafka_append(firn_stream *s, const char *topic, const firn_msg *msgs, size_t n,
                        int64_t *offsets_out, int32_t *partitions_out, firn_error *err) {
    kafka_stream *ks = (kafka_stream *)s;
    if (n == 0) return 0;
    int32_t count;
    int rc = kafka_cached_partitions(ks, topic, &count, err);
    if (rc) return rc;
    if (count < 0) return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "kafka %s: no topic %s", ks->bootstrap, topic);
    for (size_t i = 0; i < n; i++)
        if (msgs[i].partition >= count)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "kafka %s: topic %s has %d partitions, record %zu asks for %d",
                              ks->bootstrap, topic, count, i, msgs[i].partition);

    rd_kafka_topic_t *rkt = rd_kafka_topic_new(ks->rk, topic, NULL);
    if (!rkt)
        return KAFKA_RAISE(err, rd_kafka_last_error(), "kafka %s: topic %s", ks->bootstrap, topic);
    append_call call = {.pending = 0, .first_err = 0, .offsets = offsets_out, .partitions = partitions_out};
    append_slot *slots = firn_xmalloc(n * sizeof *slots);
    rd_kafka_resp_err_t produce_err = 0;
    size_t failed_at = 0;
    for (size_t i = 0; i < n; i++) {
        const firn_msg *m = &msgs[i];
        int32_t part = m->partition >= 0 ? m->partition
                                         : firn_stream_partition_for_key(m->key, m->key_len, count);
        rd_kafka_headers_t *hdrs = NULL;
        if (m->n_headers) {
            hdrs = rd_kafka_headers_new(m->n_headers);
            for (size_t h = 0; h < m->n_headers; h++)
                rd_kafka_header_add(hdrs, m->headers[h].key, -1, m->headers[h].value,
                                    (ssize_t)m->headers[h].value_len);
        }
        slots[i].call = &call;
        slots[i].index = i;
        pthread_mutex_lock(&ks->mu);
        call.pending++;
        pthread_mutex_unlock(&ks->mu);
        rd_kafka_vu_t vu[7];
        size_t nvu = 0;
        vu[nvu].vtype = RD_KAFKA_VTYPE_RKT, vu[nvu++].u.rkt = rkt;
        vu[nvu].vtype = RD_KAFKA_VTYPE_PARTITION, vu[nvu++].u.i32 = part;
        vu[nvu].vtype = RD_KAFKA_VTYPE_VALUE, vu[nvu].u.mem.ptr = (void *)m->value,
        vu[nvu++].u.mem.size = m->value_len;
        vu[nvu].vtype = RD_KAFKA_VTYPE_KEY, vu[nvu].u.mem.ptr = (void *)m->key,
        vu[nvu++].u.mem.size = m->key_len;
        vu[nvu].vtype = RD_KAFKA_VTYPE_TIMESTAMP, vu[nvu++].u.i64 = m->timestamp_ms;
        vu[nvu].vtype = RD_KAFKA_VTYPE_OPAQUE, vu[nvu++].u.ptr = &slots[i];
        if (hdrs) vu[nvu].vtype = RD_KAFKA_VTYPE_HEADERS, vu[nvu++].u.headers = hdrs;
        for (;;) {
            rd_kafka_error_t *pe = rd_kafka_produceva(ks->rk, vu, nvu);
            if (!pe) break;
            rd_kafka_resp_err_t code = rd_kafka_error_code(pe);
            rd_kafka_error_destroy(pe);
            if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                /* wait for deliveries to make room (the poller serves them) */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 5 * 1000000L;
                if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
                pthread_mutex_lock(&ks->mu);
                pthread_cond_timedwait(&ks->delivered, &ks->mu, &ts);
                pthread_mutex_unlock(&ks->mu);
                continue;
            }
            produce_err = code;
            break;
        }
        if (produce_err) {
            if (hdrs) rd_kafka_headers_destroy(hdrs);
            pthread_mutex_lock(&ks->mu);
            call.pending--;
            pthread_mutex_unlock(&ks->mu);
            failed_at = i;
            break;
        }
    }
    /* Every enqueued record refers to call and slots: wait for all of them. */
    pthread_mutex_lock(&ks->mu);
    while (call.pending > 0) pthread_cond_wait(&ks->delivered, &ks->mu);
    pthread_mutex_unlock(&ks->mu);
    free(slots);
    rd_kafka_topic_destroy(rkt);
    if (produce_err)
        return KAFKA_RAISE(err, produce_err, "kafka %s: appending record %zu of %zu to %s", ks->bootstrap,
                           failed_at, n, topic);
    if (call.first_err)
        return KAFKA_RAISE(err, call.first_err, "kafka %s: delivering %zu records to %s", ks->bootstrap, n,
                           topic);
    return 0;
}

/* ------------------------------------------------------------ consumer */

static void kafka_tps_from_list(const rd_kafka_topic_partition_list_t *l, firn_topic_partition *tps) {
    for (int i = 0; i < l->cnt; i++) {
        tps[i].topic = l->elems[i].topic;
        tps[i].partition = l->elems[i].partition;
        tps[i].offset = l->elems[i].offset >= 0 ? l->elems[i].offset : 0;
    }
}

static void kafka_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                            rd_kafka_topic_partition_list_t *parts, void *opaque) {
    kafka_consumer *kc = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    bool assigned = e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    /* every completed rebalance ends in an assign callback (an empty list
     * when the member gets nothing new); a revoke or an error starts a wait */
    kc->waiting_since_ns = assigned ? 0 : firn_now_ns();
    if (e != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && e != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        kafka_log(rk, 3, "REBALANCE", rd_kafka_err2str(e));
        if (cooperative) rd_kafka_incremental_unassign(rk, parts);
        else rd_kafka_assign(rk, NULL);
        return;
    }
    if (parts->cnt > 0 && kc->base.opts.on_rebalance) {
        firn_topic_partition *tps = firn_xcalloc((size_t)parts->cnt, sizeof *tps);
        kafka_tps_from_list(parts, tps);
        kc->base.opts.on_rebalance(kc->base.opts.rebalance_ctx, assigned, tps, (size_t)parts->cnt);
        if (assigned)
            for (int i = 0; i < parts->cnt; i++) parts->elems[i].offset = tps[i].offset;
        free(tps);
    } else if (assigned) {
        for (int i = 0; i < parts->cnt; i++) parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_error_t *ae = NULL;
    rd_kafka_resp_err_t ee = 0;
    if (cooperative) {
        ae = assigned ? rd_kafka_incremental_assign(rk, parts) : rd_kafka_incremental_unassign(rk, parts);
    } else {
        ee = rd_kafka_assign(rk, assigned ? parts : NULL);
    }
    if (ae) {
        kafka_log(rk, 3, "REBALANCE", rd_kafka_error_string(ae));
        rd_kafka_error_destroy(ae);
    } else if (ee) {
        kafka_log(rk, 3, "REBALANCE", rd_kafka_err2str(ee));
    }
}

/* A millisecond setting of conf, def when it cannot be read. */
static int64_t kafka_conf_ms(const rd_kafka_conf_t *conf, const char *key, int64_t def) {
    char buf[32];
    size_t size = sizeof buf;
    if (rd_kafka_conf_get(conf, key, buf, &size) != RD_KAFKA_CONF_OK) return def;
    char *end;
    long long v = strtoll(buf, &end, 10);
    return end != buf && v > 0 ? v : def;
}

static int kafka_consumer_open(firn_stream *s, const firn_consumer_options *o, firn_consumer **out,
                               firn_error *err) {
    kafka_stream *ks = (kafka_stream *)s;
    kafka_consumer *kc = firn_xcalloc(1, sizeof *kc);
    kc->base.stream = s;
    kc->base.opts = *o;
    if (!kc->base.opts.max_poll_records) kc->base.opts.max_poll_records = 10000;
    if (!kc->base.opts.max_poll_bytes) kc->base.opts.max_poll_bytes = 64u << 20;
    kc->has_group = o->group && *o->group;
    char fetch_max[32], recv_max[32];
    uint64_t mm = kafka_message_max(&s->opts);
    snprintf(fetch_max, sizeof fetch_max, "%llu", (unsigned long long)mm);
    snprintf(recv_max, sizeof recv_max, "%llu", (unsigned long long)(mm + (1u << 20)));
    const char *defaults[] = {"fetch.max.bytes", fetch_max,
                              "receive.message.max.bytes", recv_max,
                              "auto.offset.reset", "earliest",
                              "partition.assignment.strategy", "cooperative-sticky",
                              "allow.auto.create.topics", "false",
                              NULL};
    const char *required[] = {"enable.auto.commit", "false",
                              "enable.auto.offset.store", "false",
                              /* librdkafka's assign() needs a group id even
                                 without a group: a private one, never joined
                                 nor committed to */
                              "group.id", kc->has_group ? o->group : "firn.manual-assignment",
                              NULL};
    rd_kafka_conf_t *conf;
    int rc = kafka_conf_new(ks, defaults, required, &conf, err);
    if (rc) {
        free(kc);
        return rc;
    }
    rd_kafka_conf_set_opaque(conf, kc);
    if (kc->has_group) {
        rd_kafka_conf_set_rebalance_cb(conf, kafka_rebalance);
        kc->group = o->group;
        kc->rebalance_limit_ms = kafka_conf_ms(conf, "max.poll.interval.ms", 300000) +
                                 kafka_conf_ms(conf, "session.timeout.ms", 45000);
    }
    char errstr[512];
    kc->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!kc->rk) {
        rd_kafka_conf_destroy(conf);
        free(kc);
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "kafka %s: consumer: %s", ks->bootstrap, errstr);
    }
    rd_kafka_poll_set_consumer(kc->rk);
    kc->queue = rd_kafka_queue_get_consumer(kc->rk);
    *out = &kc->base;
    return 0;
}

static void kafka_release_held(kafka_consumer *kc) {
    for (size_t i = 0; i < kc->n_held; i++) rd_kafka_message_destroy(kc->held[i]);
    kc->n_held = 0;
}

static void kafka_consumer_close(firn_consumer *c) {
    kafka_consumer *kc = (kafka_consumer *)c;
    kafka_release_held(kc);
    if (kc->queue) rd_kafka_queue_destroy(kc->queue);
    rd_kafka_consumer_close(kc->rk);
    rd_kafka_destroy(kc->rk);
    free(kc->held);
    free(kc->recs);
    free(kc->hdrs);
    free(kc);
}

static rd_kafka_topic_partition_list_t *kafka_list(const firn_topic_partition *tps, size_t n) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, tps[i].topic, tps[i].partition)->offset = tps[i].offset;
    return l;
}

static int kafka_assign(firn_consumer *c, const firn_topic_partition *tps, size_t n, firn_error *err) {
    kafka_consumer *kc = (kafka_consumer *)c;
    for (size_t i = 0; i < n; i++)
        if (tps[i].offset < 0)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "kafka: assign %s[%d] at offset %lld", tps[i].topic,
                              tps[i].partition, (long long)tps[i].offset);
    rd_kafka_topic_partition_list_t *l = kafka_list(tps, n);
    rd_kafka_resp_err_t e = rd_kafka_assign(kc->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) return KAFKA_RAISE(err, e, "kafka: assigning %zu partitions", n);
    return 0;
}

static int kafka_subscribe(firn_consumer *c, const char *const *topics, size_t n, firn_error *err) {
    kafka_consumer *kc = (kafka_consumer *)c;
    if (!kc->has_group)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "kafka: subscribe needs a consumer group (options.group)");
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++) rd_kafka_topic_partition_list_add(l, topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(kc->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) return KAFKA_RAISE(err, e, "kafka: subscribing to %zu topics", n);
    kc->waiting_since_ns = firn_now_ns();
    return 0;
}

static int kafka_seek(firn_consumer *c, const char *topic, int32_t partition, int64_t offset,
                      firn_error *err) {
    kafka_consumer *kc = (kafka_consumer *)c;
    if (offset < 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "kafka: seek %s[%d] to offset %lld", topic, partition,
                          (long long)offset);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
    rd_kafka_error_t *se = rd_kafka_seek_partitions(kc->rk, l, KAFKA_META_TIMEOUT_MS);
    int rc = 0;
    if (se) {
        rc = KAFKA_RAISE(err, rd_kafka_error_code(se), "kafka: seek %s[%d] to %lld", topic, partition,
                         (long long)offset);
        rd_kafka_error_destroy(se);
    } else if (l->elems[0].err) {
        rc = KAFKA_RAISE(err, l->elems[0].err, "kafka: seek %s[%d] to %lld (is it assigned?)", topic,
                         partition, (long long)offset);
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Fill r from m; headers go to kc->hdrs from *n_hdrs on (pointers fixed up
 * once the poll is complete, since the array may grow). */
static void kafka_fill_record(kafka_consumer *kc, rd_kafka_message_t *m, firn_record *r,
                              size_t *n_hdrs) {
    r->topic = rd_kafka_topic_name(m->rkt);
    r->partition = m->partition;
    r->offset = m->offset;
    r->timestamp_ms = rd_kafka_message_timestamp(m, NULL);
    r->key = m->key;
    r->key_len = m->key_len;
    r->value = m->payload;
    r->value_len = m->len;
    r->headers = NULL;
    r->n_headers = 0;
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) || !h) return;
    size_t cnt = rd_kafka_header_cnt(h);
    if (kc->cap_hdrs < *n_hdrs + cnt) {
        kc->cap_hdrs = 2 * (*n_hdrs + cnt);
        kc->hdrs = firn_xrealloc(kc->hdrs, kc->cap_hdrs * sizeof *kc->hdrs);
    }
    r->headers = (const firn_header *)(uintptr_t)(*n_hdrs + 1); /* index + 1, fixed up later */
    for (size_t j = 0; j < cnt; j++) {
        const char *name;
        const void *val;
        size_t size;
        if (rd_kafka_header_get_all(h, j, &name, &val, &size)) break;
        kc->hdrs[*n_hdrs] = (firn_header){name, val, size};
        (*n_hdrs)++;
        r->n_headers++;
    }
    if (!r->n_headers) r->headers = NULL;
}

static int kafka_poll(firn_consumer *c, int timeout_ms, const firn_record **records, size_t *n,
                      firn_error *err) {
    kafka_consumer *kc = (kafka_consumer *)c;
    kafka_release_held(kc);
    if (kc->pending_err) {
        rd_kafka_resp_err_t e = kc->pending_err;
        kc->pending_err = 0;
        return KAFKA_RAISE(err, e, "kafka: consuming: %s", kc->pending_msg);
    }
    if (kc->waiting_since_ns) {
        int64_t waited_ms = (int64_t)((firn_now_ns() - kc->waiting_since_ns) / 1000000u);
        if (waited_ms > kc->rebalance_limit_ms) {
            int rc = FIRN_RAISE(err, FIRN_ERR_LIMIT,
                                "kafka: consumer group '%s': no partition assignment %lld s after "
                                "joining (a rebalance did not complete within max.poll.interval.ms "
                                "+ session.timeout.ms = %lld ms); is the group coordinator reachable "
                                "and does every member poll?",
                                kc->group, (long long)(waited_ms / 1000),
                                (long long)kc->rebalance_limit_ms);
            kc->waiting_since_ns = firn_now_ns(); /* the next poll waits again */
            return rc;
        }
    }
    size_t max = kc->base.opts.max_poll_records, bytes = 0, n_hdrs = 0;
    if (kc->cap_held < max) {
        kc->held = firn_xrealloc(kc->held, max * sizeof *kc->held);
        kc->recs = firn_xrealloc(kc->recs, max * sizeof *kc->recs);
        kc->cap_held = max;
    }
    uint64_t deadline = firn_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ull;
    while (kc->n_held < max && bytes < kc->base.opts.max_poll_bytes) {
        int wait = 0;
        if (kc->n_held == 0) {
            uint64_t now = firn_now_ns();
            wait = now < deadline ? (int)((deadline - now + 999999) / 1000000) : 0;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(kc->rk, wait);
        if (!m) {
            if (kc->n_held > 0 || firn_now_ns() >= deadline) break;
            continue;
        }
        if (m->err) {
            rd_kafka_resp_err_t e = m->err;
            if (e != RD_KAFKA_RESP_ERR__PARTITION_EOF && !kafka_err_retriable(e)) {
                snprintf(kc->pending_msg, sizeof kc->pending_msg, "%s%s%s",
                         m->rkt ? rd_kafka_topic_name(m->rkt) : "", m->rkt ? ": " : "",
                         rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                if (kc->n_held == 0) return KAFKA_RAISE(err, e, "kafka: consuming: %s", kc->pending_msg);
                kc->pending_err = e; /* returned by the next poll */
                break;
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        kafka_fill_record(kc, m, &kc->recs[kc->n_held], &n_hdrs);
        kc->held[kc->n_held++] = m;
        bytes += m->len + m->key_len;
    }
    for (size_t i = 0; i < kc->n_held; i++)
        if (kc->recs[i].headers)
            kc->recs[i].headers = kc->hdrs + ((uintptr_t)kc->recs[i].headers - 1);
    *records = kc->recs;
    *n = kc->n_held;
    return 0;
}

static int kafka_commit(firn_consumer *c, const firn_topic_partition *tps, size_t n, firn_error *err) {
    kafka_consumer *kc = (kafka_consumer *)c;
    /* Without a group there is nowhere to record positions; they are the tables' anyway. */
    if (!kc->has_group || n == 0) return 0;
    rd_kafka_topic_partition_list_t *l = kafka_list(tps, n);
    rd_kafka_resp_err_t e = rd_kafka_commit(kc->rk, l, 0);
    int rc = 0;
    if (e) rc = KAFKA_RAISE(err, e, "kafka: committing offsets of %zu partitions", n);
    for (int i = 0; !rc && i < l->cnt; i++)
        if (l->elems[i].err)
            rc = KAFKA_RAISE(err, l->elems[i].err, "kafka: committing %s[%d]", l->elems[i].topic,
                             l->elems[i].partition);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* ------------------------------------------------------------ open */

static const firn_stream_vtable kafka_vtable = {
    .kind = "kafka",
    .close = kafka_close,
    .create_topic = kafka_create_topic,
    .partitions = kafka_partitions,
    .topics = kafka_topics,
    .watermarks = kafka_watermarks,
    .append = kafka_append,
    .get = NULL,
    .consumer_open = kafka_consumer_open,
    .consumer_close = kafka_consumer_close,
    .assign = kafka_assign,
    .subscribe = kafka_subscribe,
    .seek = kafka_seek,
    .poll = kafka_poll,
    .commit = kafka_commit,
};

int firn_kafka_open(const char *bootstrap, const firn_stream_options *opts, firn_stream **out,
                    firn_error *err) {
    *out = NULL;
    if (!bootstrap || !*bootstrap)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "kafka:// URI without brokers (kafka://host:port,...)");
    kafka_stream *ks = firn_xcalloc(1, sizeof *ks);
    ks->base.vt = &kafka_vtable;
    firn_stream_resolve_options(opts, &ks->base.opts);
    ks->bootstrap = firn_xstrdup(bootstrap);
    size_t bl = strlen(ks->bootstrap);
    if (bl && ks->bootstrap[bl - 1] == '/') ks->bootstrap[bl - 1] = 0;
    pthread_mutex_init(&ks->mu, NULL);
    pthread_cond_init(&ks->delivered, NULL);
    atomic_init(&ks->stop, false);

    const char *defaults[] = {"linger.ms", "2",
                              "message.timeout.ms", "60000",
                              "allow.auto.create.topics", "false",
                              "partitioner", "murmur2_random",
                              NULL};
    const char *required[] = {"enable.idempotence", "true", "acks", "all", NULL};
    rd_kafka_conf_t *conf;
    int rc = kafka_conf_new(ks, defaults, required, &conf, err);
    if (rc) {
        kafka_close(&ks->base);
        return rc;
    }
    rd_kafka_conf_set_opaque(conf, ks);
    rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr);
    char errstr[512];
    ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!ks->rk) {
        rd_kafka_conf_destroy(conf);
        kafka_close(&ks->base);
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "kafka %s: producer: %s", bootstrap, errstr);
    }
    if (pthread_create(&ks->poller, NULL, kafka_poller, ks) != 0) {
        rd_kafka_destroy(ks->rk);
        ks->rk = NULL;
        kafka_close(&ks->base);
        return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "kafka: cannot start the delivery thread");
    }
    *out = &ks->base;
    return 0;
}
