/*
 * mock_kafka - librdkafka's mock Kafka cluster as a process, for tests.
 *
 *   mock_kafka [--brokers N]
 *
 * Starts N brokers (default 3) on loopback, prints the bootstrap address
 * ("127.0.0.1:PORT,...") as the first line of stdout, then reads commands from
 * stdin, one per line, until EOF or SIGTERM. Each command is answered with one
 * line: "ok" or "error: REASON".
 *
 *   create TOPIC PARTITIONS REPLICATION   create a topic (the mock cluster has
 *                                         no CreateTopics API)
 *   down BROKER | up BROKER               disconnect a broker / accept again
 *                                         (no leader change)
 *   leader TOPIC PARTITION BROKER         move a partition's leader
 *   rtt BROKER MS                         add round-trip latency (-1 = all)
 *   error APIKEY CODE COUNT               the next COUNT requests of APIKEY
 *                                         (0 = Produce, 1 = Fetch, ...) fail
 *                                         with Kafka error CODE
 *   clear APIKEY                          drop pending injected errors
 *
 * The mock keeps about 5 MiB per partition.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_requested;

static void on_term(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void reply(rd_kafka_resp_err_t e) {
    if (e) printf("error: %s\n", rd_kafka_err2str(e));
    else printf("ok\n");
    fflush(stdout);
}

int main(int argc, char **argv) {
    int brokers = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
            brokers = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: mock_kafka [--brokers N]\n");
            return 2;
        }
    }
    if (brokers < 1) {
        fprintf(stderr, "mock_kafka: --brokers must be at least 1\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: fgets returns on SIGTERM */
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "mock_kafka: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "mock_kafka: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    char line[1024];
    while (!stop_requested && fgets(line, sizeof line, stdin)) {
        char topic[512];
        int a, b, c;
        if (line[0] == '\n' || line[0] == '#') continue;
        if (sscanf(line, "create %511s %d %d", topic, &a, &b) == 3) {
            reply(rd_kafka_mock_topic_create(mc, topic, a, b));
        } else if (sscanf(line, "down %d", &a) == 1) {
            reply(rd_kafka_mock_broker_set_down(mc, a));
        } else if (sscanf(line, "up %d", &a) == 1) {
            reply(rd_kafka_mock_broker_set_up(mc, a));
        } else if (sscanf(line, "leader %511s %d %d", topic, &a, &b) == 3) {
            reply(rd_kafka_mock_partition_set_leader(mc, topic, a, b));
        } else if (sscanf(line, "rtt %d %d", &a, &b) == 2) {
            reply(rd_kafka_mock_broker_set_rtt(mc, a, b));
        } else if (sscanf(line, "error %d %d %d", &a, &b, &c) == 3 && c >= 0) {
            rd_kafka_resp_err_t *errs = calloc((size_t)c + 1, sizeof *errs);
            for (int i = 0; i < c; i++) errs[i] = (rd_kafka_resp_err_t)b;
            rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, (size_t)c, errs);
            free(errs);
            reply(0);
        } else if (sscanf(line, "clear %d", &a) == 1) {
            rd_kafka_mock_clear_request_errors(mc, (int16_t)a);
            reply(0);
        } else {
            line[strcspn(line, "\n")] = 0;
            printf("error: unknown command '%s'\n", line);
            fflush(stdout);
        }
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
