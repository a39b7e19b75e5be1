/*
 * bench_scaleout - the reference of `make bench-scaleout`: librdkafka alone
 * consuming every record of a topic (all partitions assigned from the start,
 * no processing), the ceiling of what `firn process` workers could publish
 * from the same cluster on the same cores.
 *
 *   bench_scaleout BOOTSTRAP TOPIC PARTITIONS
 *
 * Reads until every partition reports its end (enable.partition.eof) and
 * prints "RECORDS SECONDS MSG_PER_S", timed from the first record to the last
 * (connecting is not counted; firn's workers are timed from their first
 * assignment).
 */
#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: bench_scaleout BOOTSTRAP TOPIC PARTITIONS\n");
        return 2;
    }
    int parts = atoi(argv[3]);
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[] = {"bootstrap.servers", argv[1], "group.id", "bench-scaleout-ref",
                        "enable.partition.eof", "true", "enable.auto.commit", "false",
                        "fetch.max.bytes", "52428800", "log_level", "3", NULL};
    for (int i = 0; kv[i]; i += 2)
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "bench_scaleout: %s\n", errstr);
            return 1;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "bench_scaleout: %s\n", errstr);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
    for (int i = 0; i < parts; i++)
        rd_kafka_topic_partition_list_add(l, argv[2], i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    double t0 = now_s();
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    long records = 0;
    int eof = 0;
    double t1 = t0;
    while (eof < parts) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
        if (!m) {
            if (now_s() - t0 > 300) {
                fprintf(stderr, "bench_scaleout: no end of %s after 300 s\n", argv[2]);
                return 1;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eof++;
        } else if (m->err) {
            fprintf(stderr, "bench_scaleout: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            return 1;
        } else {
            if (records++ == 0) t0 = now_s();
            t1 = now_s();
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    double secs = t1 - t0;
    printf("%ld %.3f %.0f\n", records, secs, secs > 0 ? (double)records / secs : 0.0);
    return 0;
}
