/*
 * bench_kafka.c - `make bench-kafka`: firn's Kafka transport against
 * librdkafka alone, both on librdkafka's mock cluster started in this process
 * (figures from the mock cluster, NOT representative of a real broker).
 *
 *  - produce: N records of 200 bytes, in calls of 10,000 records (each call
 *    waits for every acknowledgement, idempotent, acks=all), against a plain
 *    librdkafka producer with the same settings that produces 10,000 records
 *    and flushes, repeatedly.
 *  - consume-only: the same N records read through firn_consumer_poll against
 *    an rd_kafka_consumer_poll loop, both assigned every partition from 0.
 *    Each side runs three times, alternating; the best run counts (the
 *    machine is shared, so single runs are noisy).
 *
 *   BENCH_KAFKA_RECORDS (default 200000), BENCH_KAFKA_PARTITIONS (default 16)
 */
#include "stream/stream.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REC_BYTES 200
#define CALL 10000

static long n_records;
static int n_parts;
static char bootstrap[512];

static double secs(void) { return (double)firn_now_ns() / 1e9; }

static void die(const char *what, firn_error *err) {
    char eb[1024];
    fprintf(stderr, "bench_kafka: %s: %s\n", what, err ? firn_error_format(err, eb, sizeof eb) : "");
    exit(1);
}

static void fill(char *buf, long i) {
    memset(buf, 'a' + (int)(i % 26), REC_BYTES);
    snprintf(buf, 24, "%ld:", i);
}

static double firn_produce(firn_stream *s) {
    firn_msg *msgs = firn_xcalloc(CALL, sizeof *msgs);
    char *data = firn_xmalloc((size_t)CALL * REC_BYTES);
    firn_error err;
    firn_error_init(&err);
    double t0 = secs();
    for (long base = 0; base < n_records; base += CALL) {
        size_t n = (size_t)(n_records - base < CALL ? n_records - base : CALL);
        for (size_t j = 0; j < n; j++) {
            fill(data + j * REC_BYTES, base + (long)j);
            msgs[j] = (firn_msg){.partition = (int32_t)((base + (long)j) % n_parts),
                                 .value = data + j * REC_BYTES, .value_len = REC_BYTES};
        }
        if (firn_stream_append(s, "bench", msgs, n, NULL, NULL, &err) != 0) die("append", &err);
    }
    double t = secs() - t0;
    free(msgs);
    free(data);
    return (double)n_records / t;
}

static int ref_errors;
static void ref_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err) ref_errors++;
}

static double ref_produce(void) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "linger.ms", "2", errstr, sizeof errstr);
    rd_kafka_conf_set_dr_msg_cb(conf, ref_dr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) die(errstr, NULL);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "bench_ref", NULL);
    char *data = firn_xmalloc((size_t)CALL * REC_BYTES);
    double t0 = secs();
    for (long base = 0; base < n_records; base += CALL) {
        long n = n_records - base < CALL ? n_records - base : CALL;
        for (long j = 0; j < n; j++) {
            fill(data + j * REC_BYTES, base + j);
            while (rd_kafka_produce(rkt, (int32_t)((base + j) % n_parts), 0, data + j * REC_BYTES, REC_BYTES,
                                    NULL, 0, NULL) != 0) {
                if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("rd_kafka_produce", NULL);
                rd_kafka_poll(rk, 5);
            }
        }
        rd_kafka_flush(rk, 60000);
    }
    double t = secs() - t0;
    if (ref_errors) die("reference deliveries failed", NULL);
    free(data);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return (double)n_records / t;
}

static double firn_consume(firn_stream *s) {
    firn_error err;
    firn_error_init(&err);
    firn_consumer *c;
    if (firn_consumer_open(s, NULL, &c, &err) != 0) die("consumer", &err);
    firn_topic_partition *tps = firn_xcalloc((size_t)n_parts, sizeof *tps);
    for (int p = 0; p < n_parts; p++) tps[p] = (firn_topic_partition){"bench", p, 0};
    double t0 = secs();
    if (firn_consumer_assign(c, tps, (size_t)n_parts, &err) != 0) die("assign", &err);
    long got = 0;
    size_t bytes = 0;
    while (got < n_records) {
        const firn_record *r;
        size_t n;
        if (firn_consumer_poll(c, 1000, &r, &n, &err) != 0) die("poll", &err);
        for (size_t i = 0; i < n; i++) bytes += r[i].value_len;
        got += (long)n;
    }
    double t = secs() - t0;
    if (bytes != (size_t)n_records * REC_BYTES) die("firn consumer: wrong byte count", NULL);
    free(tps);
    firn_consumer_close(c);
    return (double)n_records / t;
}

static double ref_consume(void) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "bench-ref", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) die(errstr, NULL);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n_parts);
    for (int p = 0; p < n_parts; p++) rd_kafka_topic_partition_list_add(l, "bench", p)->offset = 0;
    double t0 = secs();
    rd_kafka_assign(rk, l);
    long got = 0;
    size_t bytes = 0;
    while (got < n_records) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
        if (!m) continue;
        if (!m->err) {
            got++;
            bytes += m->len;
        }
        rd_kafka_message_destroy(m);
    }
    double t = secs() - t0;
    if (bytes != (size_t)n_records * REC_BYTES) die("librdkafka consumer: wrong byte count", NULL);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return (double)n_records / t;
}

static double best(double a, double b) { return a > b ? a : b; }

int main(void) {
    const char *v = getenv("BENCH_KAFKA_RECORDS");
    n_records = v ? atol(v) : 200000;
    v = getenv("BENCH_KAFKA_PARTITIONS");
    n_parts = v ? atoi(v) : 16;
    if (n_records <= 0 || n_parts <= 0) die("bad BENCH_KAFKA_RECORDS / BENCH_KAFKA_PARTITIONS", NULL);
    setenv("FIRN_KAFKA_LOG", "3", 0);

    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    rd_kafka_mock_cluster_t *mc = mrk ? rd_kafka_mock_cluster_new(mrk, 1) : NULL;
    if (!mc) die("cannot start the mock cluster", NULL);
    snprintf(bootstrap, sizeof bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(mc));
    rd_kafka_mock_topic_create(mc, "bench", n_parts, 1);
    rd_kafka_mock_topic_create(mc, "bench_ref", n_parts, 1);

    char uri[600];
    snprintf(uri, sizeof uri, "kafka://%s", bootstrap);
    firn_error err;
    firn_error_init(&err);
    firn_stream *s;
    if (firn_stream_open(uri, NULL, &s, &err) != 0) die(uri, &err);

    printf("mock cluster (1 broker, in process), %ld records of %d bytes over %d partitions; "
           "figures from the mock cluster are not representative of a real broker\n",
           n_records, REC_BYTES, n_parts);
    double ref_p = ref_produce();
    double firn_p = firn_produce(s);
    printf("produce: firn %.0f rec/s, librdkafka %.0f rec/s\n", firn_p, ref_p);
    double fc = 0, rc = 0;
    for (int round = 0; round < 3; round++) {
        double r = ref_consume(), f = firn_consume(s);
        printf("consume round %d: firn %.0f rec/s, librdkafka %.0f rec/s\n", round + 1, f, r);
        fc = best(fc, f);
        rc = best(rc, r);
    }
    printf("bench kafka-mock-consume-200B: %.0f rec/s vs librdkafka-consume-loop %.0f rec/s = %.2fx\n", fc, rc,
           fc / rc);
    printf("bench kafka-mock-produce-200B: %.0f rec/s vs librdkafka-produce-flush %.0f rec/s = %.2fx\n", firn_p,
           ref_p, firn_p / ref_p);
    firn_stream_close(s);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    return 0;
}
