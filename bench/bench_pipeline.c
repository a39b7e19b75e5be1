/*
 * bench_pipeline.c - `make bench-pipeline`: the pipeline (classify, validate,
 * Write-Audit-Publish) end to end from the raw topic to `main`, side by side
 * with a reference measured in the same run (issue 5, "Speed").
 *
 *  1. small events (valid parking-entry JSON, ~190 bytes, no image; the type's
 *     image field is made optional by the firn.yaml this bench writes):
 *     - spool: the raw topic is pre-filled, then `firn run` without the
 *       simulator (firn_run(), classify + process until drained) runs in a
 *       child process; events per CPU second of that process, against a
 *       firn_consumer_poll loop reading the same records (CPU seconds).
 *     - Kafka (librdkafka's mock cluster in this process, topics pre-created:
 *       the mock cannot serve CreateTopics): the same, events/s of wall time,
 *       against an rd_kafka_consumer_poll loop over the same records, both
 *       in steady state (tables exist: a warm-up run first) and both from
 *       their client's start; best of 3 interleaved rounds. Figures from the
 *       mock cluster are not representative of a real broker.
 *  2. image events (the same JSON plus a ~100 KiB 640x480 JPEG in the `image`
 *     header) on the spool, collect to tables: in a child process a producer
 *     thread appends them (calls of 64, fsync batch) while `firn run` (no
 *     simulator) classifies and publishes them; bytes / time from the first
 *     append until main records every event, against write() of the same
 *     bytes to a file on the same disk plus one fsync. Each image is written
 *     twice (log, Parquet): 50% is the ceiling. Run for decode: full (the
 *     default), scaled and header.
 *  3. freshness: `firn run` (default settings: commit-interval 1 s, fsync
 *     batch) runs in a thread while a producer appends small events at
 *     1,000/s to the raw topic through its own stream handle; a watcher polls
 *     the production table's main every 5 ms and reads the source offsets its
 *     snapshot records (firn.source.*): an event is visible once main's offset
 *     for its partition is past it. Latency = visible - append acknowledged.
 *  4. peak RSS (getrusage of the child process) while processing the image
 *     events of 2 with the default decode.
 *
 * Sizes (environment):
 *   BENCH_PIPE_SMALL      small events on the spool (default 300000)
 *   BENCH_PIPE_KAFKA      small events on the mock cluster (default 60000)
 *   BENCH_PIPE_IMAGE_MB   MiB of image events per image run (default 512, so the
 *                         last batch's wait for pipeline.commit-interval, up to
 *                         1 s, weighs little; the RSS figure is 4096)
 *   BENCH_PIPE_FRESH_S    seconds of paced production for freshness (default 20)
 *   BENCH_PIPE_DIR        scratch directory (default build/bench-data/pipeline)
 *   BENCH_PIPE_ONLY       comma list of sections to run: small,kafka,image,fresh
 *   BENCH_PIPE_DECODE     image runs: only this decode setting (full|scaled|header)
 *   BENCH_PIPE_IMAGE_THREADS  pipeline.image-threads of every run (default: the
 *                         config's default, one less than the CPUs)
 */
#include "catalog/catalog.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "pipeline/validate.h"
#include "run/run.h"
#include "stream/stream.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <turbojpeg.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOPIC_RAW "events"
#define TYPE_TOPIC "parking-entry"
#define PARTS 4

static char g_dir[PATH_MAX];

static double secs(void) { return (double)firn_now_ns() / 1e9; }

static double cpu_secs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, firn_error *err) {
    char eb[1024];
    fprintf(stderr, "bench_pipeline: %s: %s\n", what,
            err ? firn_error_format(err, eb, sizeof eb) : "");
    exit(1);
}

static bool section(const char *name) {
    const char *only = getenv("BENCH_PIPE_ONLY");
    if (!only || !*only) return true;
    size_t n = strlen(name);
    for (const char *p = only; (p = strstr(p, name)); p += n)
        if ((p == only || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) return true;
    return false;
}

static long env_long(const char *k, long dflt) {
    const char *v = getenv(k);
    return v && *v ? atol(v) : dflt;
}

static void rm_rf(const char *path) {
    char cmd[PATH_MAX + 160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "bench_pipeline: %s failed\n", cmd);
}

/* ------------------------------------------------------------- events */

/* A valid parking-entry event without an image (~190 bytes). */
static size_t make_event(char *buf, size_t cap, uint64_t i, char *car, size_t carcap) {
    int64_t now = firn_now_us();
    time_t t = (time_t)(now / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(car, carcap, "%02u%c%c%04u", (unsigned)(i % 97), 'A' + (int)(i % 26),
             'A' + (int)((i / 26) % 26), (unsigned)((i * 7919) % 10000));
    int n = snprintf(buf, cap,
                     "{\"eventId\":\"%08x-%04x-4%03x-8%03x-%012llx\",\"eventType\":\"parking-entry\","
                     "\"timeStamp\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\",\"carId\":\"%s\","
                     "\"slotId\":%u,\"x\":%.2f,\"y\":%.2f,\"cameraId\":\"gate-in\"}",
                     (unsigned)(i * 2654435761u), (unsigned)(i & 0xffff), (unsigned)(i % 4096),
                     (unsigned)((i / 4096) % 4096), (unsigned long long)i, tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(now % 1000000), car, (unsigned)(i % 200), 1.25 + (double)(i % 20) * 2.5,
                     2.5 + (double)((i / 20) % 10) * 6.0);
    return (size_t)n;
}

/* Synthetic 640x480 JPEGs of about target bytes: a gradient with noise whose
 * amplitude is searched so the size lands near the target. */
typedef struct jpeg_pool {
    size_t n;
    uint8_t **data;
    size_t *len;
} jpeg_pool;

static size_t render_jpeg(tjhandle tj, uint8_t *px, int amp, unsigned seed, uint8_t **out) {
    const int w = 640, h = 480;
    uint32_t r = seed * 2654435761u + 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            for (int c = 0; c < 3; c++) {
                r = r * 1103515245u + 12345u;
                int v = (x * (c + 1) / 5 + y / (c + 2) + (int)seed * 13) % 256;
                v += (int)((r >> 16) % (unsigned)(2 * amp + 1)) - amp;
                px[(y * w + x) * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    unsigned long len = 0;
    *out = NULL;
    if (tjCompress2(tj, px, w, 0, h, TJPF_RGB, out, &len, TJSAMP_420, 85, 0) != 0)
        die("tjCompress2", NULL);
    return len;
}

static void jpeg_pool_make(jpeg_pool *p, size_t n, size_t target) {
    tjhandle tj = tjInitCompress();
    uint8_t *px = firn_xmalloc(640 * 480 * 3);
    int lo = 0, hi = 128;
    while (lo < hi) { /* smallest amplitude giving >= target */
        int mid = (lo + hi) / 2;
        uint8_t *j;
        size_t len = render_jpeg(tj, px, mid, 1, &j);
        tjFree(j);
        if (len >= target) hi = mid;
        else lo = mid + 1;
    }
    p->n = n;
    p->data = firn_xcalloc(n, sizeof *p->data);
    p->len = firn_xcalloc(n, sizeof *p->len);
    for (size_t i = 0; i < n; i++) p->len[i] = render_jpeg(tj, px, lo, (unsigned)i + 1, &p->data[i]);
    free(px);
    tjDestroy(tj);
}

static void jpeg_pool_free(jpeg_pool *p) {
    for (size_t i = 0; i < p->n; i++) tjFree(p->data[i]);
    free(p->data);
    free(p->len);
}

/* Append n events (with images from pool when not NULL) to the raw topic,
 * in calls of `call` records. Returns the bytes appended (value + image). */
static uint64_t prefill(firn_stream *s, uint64_t first, uint64_t n, const jpeg_pool *pool,
                        size_t call) {
    firn_error err;
    firn_error_init(&err);
    firn_msg *msgs = firn_xcalloc(call, sizeof *msgs);
    firn_header *hdrs = firn_xcalloc(call, sizeof *hdrs);
    char *json = firn_xmalloc(call * 320);
    char *cars = firn_xmalloc(call * 16);
    uint64_t bytes = 0;
    for (uint64_t base = 0; base < n; base += call) {
        size_t k = (size_t)(n - base < call ? n - base : call);
        for (size_t j = 0; j < k; j++) {
            uint64_t i = first + base + j;
            char *jb = json + j * 320, *car = cars + j * 16;
            size_t jl = make_event(jb, 320, i, car, 16);
            msgs[j] = (firn_msg){-1, car, strlen(car), jb, jl, NULL, 0, 0};
            bytes += jl;
            if (pool) {
                size_t pi = (size_t)(i % pool->n);
                hdrs[j] = (firn_header){"image", pool->data[pi], pool->len[pi]};
                msgs[j].headers = &hdrs[j];
                msgs[j].n_headers = 1;
                bytes += pool->len[pi];
            }
        }
        if (firn_stream_append(s, TOPIC_RAW, msgs, k, NULL, NULL, &err)) die("prefill append", &err);
    }
    free(msgs);
    free(hdrs);
    free(json);
    free(cars);
    return bytes;
}

/* ------------------------------------------------------------- config */

/* firn.yaml of the bench: one type (parking-entry; parking-exit removed),
 * its image optional (small events) or decoded as `decode`. */
static firn_config *make_config(const char *dir, const char *stream_uri, bool image_required,
                                const char *decode) {
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "types:\n"
             "  parking-entry:\n"
             "    fields:\n"
             "      image: {required: %s, decode: %s}\n"
             "  parking-exit: ~\n",
             image_required ? "true" : "false", decode ? decode : "full");
    firn_error err;
    firn_error_init(&err);
    firn_config *cfg = NULL;
    if (firn_config_load_string(yaml, strlen(yaml), "bench-firn.yaml", &cfg, &err))
        die("config", &err);
    char wh[PATH_MAX + 128], cat[PATH_MAX + 160];
    snprintf(wh, sizeof wh, "%s/wh", dir);
    mkdir(dir, 0755);
    mkdir(wh, 0755);
    snprintf(cat, sizeof cat, "sqlite:%s/catalog.db", wh);
    if (firn_config_set(cfg, "warehouse", wh, &err) || firn_config_set(cfg, "catalog.uri", cat, &err) ||
        firn_config_set(cfg, "stream.uri", stream_uri, &err))
        die("config set", &err);
    const char *threads = getenv("BENCH_PIPE_IMAGE_THREADS");
    if (threads && *threads && firn_config_set(cfg, "pipeline.image-threads", threads, &err))
        die("config set pipeline.image-threads", &err);
    return cfg;
}

/* firn_run: classify + process until drained, no simulator. */
static void run_drain(const firn_config *cfg, firn_run_stats *st) {
    firn_run_options o;
    firn_run_options_init(&o);
    o.cfg = cfg;
    o.until_drained = true;
    o.quiet = true;
    firn_error err;
    firn_error_init(&err);
    if (firn_run(&o, st, &err)) die("firn_run", &err);
}

typedef struct child_result {
    double wall, cpu;
    long maxrss_kib;
} child_result;

/* run_drain in a child process: its own CPU time and peak RSS. */
static child_result run_drain_child(const firn_config *cfg, uint64_t expect) {
    fflush(stdout);
    fflush(stderr);
    double t0 = secs();
    pid_t pid = fork();
    if (pid < 0) die("fork", NULL);
    if (pid == 0) {
        firn_run_stats st;
        run_drain(cfg, &st);
        if (st.trusted != expect || st.untrusted || st.dead_letter_rows) {
            fprintf(stderr, "bench_pipeline: expected %llu trusted rows, got %llu trusted, %llu "
                    "untrusted, %llu dead letters\n", (unsigned long long)expect,
                    (unsigned long long)st.trusted, (unsigned long long)st.untrusted,
                    (unsigned long long)st.dead_letter_rows);
            _exit(3);
        }
        _exit(0);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) die("wait4", NULL);
    child_result r;
    r.wall = secs() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("pipeline child failed", NULL);
    r.cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    r.maxrss_kib = ru.ru_maxrss;
    return r;
}

static firn_stream *open_stream(const char *uri) {
    firn_stream_options so;
    firn_stream_options_init(&so);
    firn_stream *s;
    firn_error err;
    firn_error_init(&err);
    if (firn_stream_open(uri, &so, &s, &err)) die(uri, &err);
    if (firn_stream_create_topic(s, TOPIC_RAW, PARTS, &err)) die("create raw topic", &err);
    return s;
}

/* Read every record of the raw topic through firn_consumer_poll; CPU seconds. */
static double spool_consume_cpu(firn_stream *s, uint64_t n) {
    firn_error err;
    firn_error_init(&err);
    firn_consumer *c;
    if (firn_consumer_open(s, NULL, &c, &err)) die("consumer", &err);
    firn_topic_partition tps[PARTS];
    for (int p = 0; p < PARTS; p++) tps[p] = (firn_topic_partition){TOPIC_RAW, p, 0};
    double c0 = cpu_secs();
    if (firn_consumer_assign(c, tps, PARTS, &err)) die("assign", &err);
    uint64_t got = 0, bytes = 0;
    while (got < n) {
        const firn_record *r;
        size_t k;
        if (firn_consumer_poll(c, 1000, &r, &k, &err)) die("poll", &err);
        for (size_t i = 0; i < k; i++) bytes += r[i].value_len;
        got += k;
    }
    double cpu = cpu_secs() - c0;
    firn_consumer_close(c);
    if (got != n || !bytes) die("reference consumer: wrong count", NULL);
    return cpu;
}

/* ------------------------------------------------------------- 1. small, spool */

static void bench_small_spool(void) {
    uint64_t n = (uint64_t)env_long("BENCH_PIPE_SMALL", 300000);
    char dir[PATH_MAX + 64], uri[PATH_MAX + 96];
    snprintf(dir, sizeof dir, "%s/small", g_dir);
    rm_rf(dir);
    mkdir(dir, 0755);
    snprintf(uri, sizeof uri, "spool:%s/spool", dir);
    firn_stream *s = open_stream(uri);
    double t0 = secs();
    uint64_t bytes = prefill(s, 0, n, NULL, 1000);
    double tfill = secs() - t0;
    double ref = 1e30;
    for (int i = 0; i < 3; i++) {
        double c = spool_consume_cpu(s, n);
        if (c < ref) ref = c;
    }
    firn_stream_close(s);
    printf("small events: %llu events, %.1f MB appended in %.2f s\n", (unsigned long long)n,
           (double)bytes / 1e6, tfill);
    firn_config *cfg = make_config(dir, uri, false, NULL);
    child_result r = run_drain_child(cfg, n);
    firn_config_free(cfg);
    double rate = (double)n / r.cpu, refrate = (double)n / ref;
    printf("small events, spool: firn run drained in %.2f s wall, %.2f s CPU (%.0f events/s wall); "
           "consume-only %.3f s CPU\n", r.wall, r.cpu, (double)n / r.wall, ref);
    printf("bench pipeline-spool-small-per-core: %.0f events/s vs spool-consume-only %.0f events/s "
           "= %.3fx\n", rate, refrate, rate / refrate);
    printf("bench pipeline-spool-small-per-core-target: %.0f events/s vs target 300000 events/s "
           "= %.2fx\n", rate, rate / 300000.0);
    rm_rf(dir);
}

/* ------------------------------------------------------------- 1b. small, Kafka */

/* librdkafka consume-only: assign every partition at from[p] and read n
 * records; wall seconds from rd_kafka_new to the last record. */
static double kafka_ref_consume(const char *bootstrap, const int64_t *from, uint64_t n) {
    char errstr[512];
    double t0 = secs();
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "bench-ref", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) die(errstr, NULL);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(PARTS);
    for (int p = 0; p < PARTS; p++)
        rd_kafka_topic_partition_list_add(l, TOPIC_RAW, p)->offset = from[p];
    rd_kafka_assign(rk, l);
    uint64_t got = 0, bytes = 0;
    while (got < n) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
        if (!m) continue;
        if (!m->err) {
            got++;
            bytes += m->len;
        }
        rd_kafka_message_destroy(m);
    }
    double t = secs() - t0;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (!bytes) die("reference consumer: no bytes", NULL);
    return t;
}

/*
 * Steady state on both sides, same records, same start conditions: each round
 * has its own mock cluster; WARM events are appended and drained by firn run
 * first (the tables exist, as they do for a running pipeline), then n events
 * are appended. Reference: a new librdkafka consumer from the offsets after
 * the warm-up to the last record. Subject: a new `firn run` (until drained),
 * which starts at the same offsets (main's), classifies, validates and
 * publishes them. Both include their client start; rounds interleave the
 * two and the best of each is kept (the machine is shared).
 */
static void bench_small_kafka(void) {
    uint64_t n = (uint64_t)env_long("BENCH_PIPE_KAFKA", 60000);
    const uint64_t warm = 2000;
    const int rounds = 3;
    double ref = 1e30, best = 1e30, best_cpu = 0;
    for (int round = 0; round < rounds; round++) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
        rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        rd_kafka_mock_cluster_t *mc = mrk ? rd_kafka_mock_cluster_new(mrk, 1) : NULL;
        if (!mc) die("cannot start the mock cluster", NULL);
        char bootstrap[512], uri[600];
        snprintf(bootstrap, sizeof bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(mc));
        rd_kafka_mock_topic_create(mc, TOPIC_RAW, PARTS, 1);
        rd_kafka_mock_topic_create(mc, TYPE_TOPIC, PARTS, 1);
        rd_kafka_mock_topic_create(mc, "dead-letter", PARTS, 1);
        snprintf(uri, sizeof uri, "kafka://%s", bootstrap);
        char dir[PATH_MAX + 64];
        snprintf(dir, sizeof dir, "%s/kafka", g_dir);
        rm_rf(dir);
        mkdir(dir, 0755);
        firn_config *cfg = make_config(dir, uri, false, NULL);
        /* the mock broker answers a fetch that found no data only after
         * fetch.wait.max.ms (default 500), even when records arrive meanwhile
         * (a real broker answers as soon as fetch.min.bytes are there): the
         * processor, whose topic the classifier fills while it waits, would
         * measure the mock's wait */
        firn_error cerr;
        firn_error_init(&cerr);
        if (firn_config_set(cfg, "kafka.fetch.wait.max.ms", "10", &cerr)) die("config", &cerr);
        firn_stream *s = open_stream(uri);
        prefill(s, 0, warm, NULL, 1000);
        firn_run_stats st;
        run_drain(cfg, &st); /* warm-up: tables created, offsets on main */
        int64_t from[PARTS];
        firn_error err;
        firn_error_init(&err);
        for (int p = 0; p < PARTS; p++) {
            firn_watermarks wm;
            if (firn_stream_watermarks(s, TOPIC_RAW, p, &wm, &err)) die("watermarks", &err);
            from[p] = wm.high;
        }
        prefill(s, warm, n, NULL, 10000);
        firn_stream_close(s);
        double t = kafka_ref_consume(bootstrap, from, n);
        if (t < ref) ref = t;
        double t0 = secs(), c0 = cpu_secs();
        run_drain(cfg, &st);
        t = secs() - t0;
        double cpu = cpu_secs() - c0;
        firn_config_free(cfg);
        if (st.trusted != n) {
            fprintf(stderr, "bench_pipeline: kafka: %llu trusted rows of %llu\n",
                    (unsigned long long)st.trusted, (unsigned long long)n);
            exit(1);
        }
        if (t < best) best = t, best_cpu = cpu;
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(mrk);
        rm_rf(dir);
    }
    printf("small events, Kafka mock cluster (in process; not representative of a real broker): "
           "%llu events drained in %.2f s wall (best of %d), %.2f s CPU incl. the mock broker; "
           "consume-only %.3f s\n", (unsigned long long)n, best, rounds, best_cpu, ref);
    printf("bench pipeline-kafka-mock-small: %.0f events/s vs librdkafka-consume-only %.0f "
           "events/s = %.3fx\n", (double)n / best, (double)n / ref, ref / best);
}

/* ------------------------------------------------------------- collect to tables, live */

typedef struct live_ctx {
    const char *uri;
    const firn_config *cfg;
    const jpeg_pool *pool;
    uint64_t n, bytes;
    double append_s;
    volatile sig_atomic_t stop;
} live_ctx;

static void *live_producer(void *arg) {
    live_ctx *l = arg;
    firn_stream *s = open_stream(l->uri);
    double t0 = secs();
    l->bytes = prefill(s, 0, l->n, l->pool, 64);
    l->append_s = secs() - t0;
    firn_stream_close(s);
    return NULL;
}

static void *live_run(void *arg) {
    live_ctx *l = arg;
    firn_run_options o;
    firn_run_options_init(&o);
    o.cfg = l->cfg;
    o.stop = &l->stop;
    o.quiet = true;
    firn_run_stats st;
    firn_error err;
    firn_error_init(&err);
    if (firn_run(&o, &st, &err)) die("firn_run (live)", &err);
    if (st.trusted != l->n) {
        fprintf(stderr, "bench_pipeline: live: %llu trusted rows of %llu\n",
                (unsigned long long)st.trusted, (unsigned long long)l->n);
        exit(3);
    }
    return NULL;
}

/* Sum of main's source offsets of the type topic: the events published. */
static int64_t published(firn_ice_table *t) {
    firn_offset_map m = {0};
    firn_offsets_recover(t->metadata, FIRN_ICE_MAIN_BRANCH, &m, NULL);
    int64_t sum = 0;
    for (int p = 0; p < PARTS; p++) sum += firn_offset_map_get(&m, TYPE_TOPIC, p, 0);
    firn_offset_map_release(&m);
    return sum;
}

static firn_ice_table *wait_table(firn_catalog *cat) {
    firn_error err;
    firn_error_init(&err);
    for (int i = 0; i < 400; i++) {
        firn_ice_table *t = NULL;
        if (firn_ice_table_load(cat, "production", "parking_entry", &t, &err) == 0) return t;
        firn_error_release(&err);
        firn_error_init(&err);
        usleep(25000);
    }
    die("production.parking_entry never appeared", NULL);
    return NULL;
}

typedef struct live_result {
    double total_s, append_s;
    uint64_t bytes;
} live_result;

/* In a child process: a producer appends n events (images from pool) while
 * firn run (no simulator) classifies and publishes them; done when main
 * records all n. The child's CPU time and peak RSS come back in *r. */
static live_result run_live_child(const firn_config *cfg, const char *uri, const jpeg_pool *pool,
                                  uint64_t n, child_result *r) {
    fflush(stdout);
    fflush(stderr);
    int fds[2];
    if (pipe(fds) != 0) die("pipe", NULL);
    pid_t pid = fork();
    if (pid < 0) die("fork", NULL);
    if (pid == 0) {
        close(fds[0]);
        static live_ctx l;
        l.uri = uri;
        l.cfg = cfg;
        l.pool = pool;
        l.n = n;
        firn_stream_close(open_stream(uri));
        double t0 = secs();
        pthread_t rt, pt;
        pthread_create(&rt, NULL, live_run, &l);
        pthread_create(&pt, NULL, live_producer, &l);
        firn_catalog *cat;
        firn_error err;
        firn_error_init(&err);
        firn_cat_config cc = {0};
        cc.warehouse = cfg->warehouse;
        if (firn_cat_open(cfg->catalog_uri, &cc, &cat, &err)) die("catalog", &err);
        firn_ice_table *t = wait_table(cat);
        for (;;) {
            if (firn_ice_table_refresh(t, &err)) die("refresh", &err);
            if (published(t) >= (int64_t)n) break;
            usleep(10000);
        }
        live_result lr = {secs() - t0, 0, 0};
        l.stop = 1;
        pthread_join(pt, NULL);
        pthread_join(rt, NULL);
        lr.append_s = l.append_s;
        lr.bytes = l.bytes;
        firn_ice_table_free(t);
        firn_cat_free(cat);
        if (write(fds[1], &lr, sizeof lr) != (ssize_t)sizeof lr) _exit(4);
        _exit(0);
    }
    close(fds[1]);
    live_result lr;
    memset(&lr, 0, sizeof lr);
    ssize_t got = read(fds[0], &lr, sizeof lr);
    close(fds[0]);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) die("wait4", NULL);
    if (got != (ssize_t)sizeof lr || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("live pipeline child failed", NULL);
    r->wall = lr.total_s;
    r->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    r->maxrss_kib = ru.ru_maxrss;
    return lr;
}

/* ------------------------------------------------------------- 2. images */

static double write_ref(const char *dir, const jpeg_pool *pool, uint64_t n, uint64_t *bytes_out) {
    char path[PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/ref.bin", dir);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) die("ref file", NULL);
    char json[320], car[16];
    uint64_t bytes = 0;
    double t0 = secs();
    for (uint64_t i = 0; i < n; i++) {
        size_t jl = make_event(json, sizeof json, i, car, sizeof car);
        size_t pi = (size_t)(i % pool->n);
        if (write(fd, json, jl) != (ssize_t)jl ||
            write(fd, pool->data[pi], pool->len[pi]) != (ssize_t)pool->len[pi])
            die("ref write", NULL);
        bytes += jl + pool->len[pi];
    }
    if (fsync(fd) != 0) die("ref fsync", NULL);
    double t = secs() - t0;
    close(fd);
    unlink(path);
    *bytes_out = bytes;
    return t;
}

static void bench_images(void) {
    long mib = env_long("BENCH_PIPE_IMAGE_MB", 512);
    jpeg_pool pool;
    jpeg_pool_make(&pool, 16, 100 * 1024);
    size_t avg = 0;
    for (size_t i = 0; i < pool.n; i++) avg += pool.len[i];
    avg /= pool.n;
    uint64_t n = (uint64_t)mib * 1048576u / (avg + 190);
    if (n < 16) n = 16;
    printf("image events: %llu events with 640x480 JPEGs of %.1f KiB on average (%ld MiB)\n",
           (unsigned long long)n, (double)avg / 1024, mib);
    static const char *const decodes[] = {"full", "scaled", "header"};
    const char *only_decode = getenv("BENCH_PIPE_DECODE");
    int rss_done = 0; /* peak RSS is reported for the first run (decode full by default) */
    for (size_t d = 0; d < 3; d++) {
        if (only_decode && *only_decode && strcmp(only_decode, decodes[d]) != 0) continue;
        char dir[PATH_MAX + 64], uri[PATH_MAX + 96];
        snprintf(dir, sizeof dir, "%s/image-%s", g_dir, decodes[d]);
        rm_rf(dir);
        mkdir(dir, 0755);
        uint64_t refbytes;
        double tref = write_ref(dir, &pool, n, &refbytes);
        snprintf(uri, sizeof uri, "spool:%s/spool", dir);
        firn_config *cfg = make_config(dir, uri, true, decodes[d]);
        child_result r;
        live_result lr = run_live_child(cfg, uri, &pool, n, &r);
        int threads = (int)cfg->image_threads < 0 ? firn_image_threads_default()
                                                  : (int)cfg->image_threads;
        firn_config_free(cfg);
        uint64_t bytes = lr.bytes;
        double mbs = (double)bytes / 1e6 / r.wall, refmbs = (double)refbytes / 1e6 / tref;
        printf("image events, decode %s (%d image threads): appended (concurrently) in %.2f s, "
               "all on main after %.2f s; %.2f s CPU, peak RSS %.0f MiB\n", decodes[d], threads,
               lr.append_s, r.wall, r.cpu, (double)r.maxrss_kib / 1024);
        printf("bench pipeline-spool-images-decode-%s: %.1f MB/s vs write()+fsync %.1f MB/s = "
               "%.3fx\n", decodes[d], mbs, refmbs, mbs / refmbs);
        printf("bench pipeline-spool-images-decode-%s-per-core: %.1f MB/s vs write()+fsync %.1f "
               "MB/s = %.3fx\n", decodes[d], (double)bytes / 1e6 / r.cpu, refmbs,
               (double)bytes / 1e6 / r.cpu / refmbs);
        if (!rss_done++)
            printf("bench pipeline-peak-rss-images: %.0f MiB vs image-bytes-processed %.0f MiB "
                   "= %.3fx\n", (double)r.maxrss_kib / 1024, (double)bytes / 1048576.0,
                   (double)r.maxrss_kib * 1024.0 / (double)bytes);
        rm_rf(dir);
    }
    jpeg_pool_free(&pool);
}

/* ------------------------------------------------------------- 3. freshness */

typedef struct fresh_part {
    int64_t *off;   /* raw offsets in append order */
    int64_t *ack_us;
    size_t n, cap, seen;
} fresh_part;

typedef struct fresh_ctx {
    const char *uri;
    const firn_config *cfg;
    double rate, seconds;
    pthread_mutex_t mu;
    fresh_part parts[PARTS];
    atomic_bool producer_done;
    double *lat; /* seconds */
    size_t nlat;
    uint64_t produced;
    volatile sig_atomic_t stop;
} fresh_ctx;

static void *fresh_producer(void *arg) {
    fresh_ctx *f = arg;
    firn_stream *s = open_stream(f->uri);
    firn_error err;
    firn_error_init(&err);
    enum { MAXB = 64 };
    firn_msg msgs[MAXB];
    char json[MAXB][320], car[MAXB][16];
    int64_t offs[MAXB];
    int32_t parts[MAXB];
    uint64_t total = (uint64_t)(f->rate * f->seconds), i = 0;
    uint64_t t0 = firn_now_ns();
    while (i < total) {
        double due = (double)(firn_now_ns() - t0) * f->rate / 1e9;
        double ahead = due - (double)i;
        size_t want = ahead < 1 ? 1 : ahead > MAXB ? MAXB : (size_t)ahead;
        if (want > total - i) want = (size_t)(total - i);
        for (size_t j = 0; j < want; j++) {
            size_t jl = make_event(json[j], 320, i + j, car[j], 16);
            msgs[j] = (firn_msg){-1, car[j], strlen(car[j]), json[j], jl, NULL, 0, 0};
        }
        if (firn_stream_append(s, TOPIC_RAW, msgs, want, offs, parts, &err)) die("append", &err);
        int64_t ack = firn_now_us();
        pthread_mutex_lock(&f->mu);
        for (size_t j = 0; j < want; j++) {
            fresh_part *fp = &f->parts[parts[j]];
            if (fp->n == fp->cap) {
                fp->cap = fp->cap ? 2 * fp->cap : 1024;
                fp->off = firn_xrealloc(fp->off, fp->cap * sizeof *fp->off);
                fp->ack_us = firn_xrealloc(fp->ack_us, fp->cap * sizeof *fp->ack_us);
            }
            fp->off[fp->n] = offs[j];
            fp->ack_us[fp->n++] = ack;
        }
        pthread_mutex_unlock(&f->mu);
        i += want;
        uint64_t next = t0 + (uint64_t)((double)i * 1e9 / f->rate);
        uint64_t now = firn_now_ns();
        if (next > now) {
            uint64_t d = next - now;
            struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
            nanosleep(&ts, NULL);
        }
    }
    f->produced = i;
    firn_stream_close(s);
    atomic_store(&f->producer_done, true);
    return NULL;
}

static void *fresh_run(void *arg) {
    fresh_ctx *f = arg;
    firn_run_options o;
    firn_run_options_init(&o);
    o.cfg = f->cfg;
    o.stop = &f->stop;
    o.quiet = true;
    firn_run_stats st;
    firn_error err;
    firn_error_init(&err);
    if (firn_run(&o, &st, &err)) die("firn_run (freshness)", &err);
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench_freshness(void) {
    char dir[PATH_MAX + 64], uri[PATH_MAX + 96];
    snprintf(dir, sizeof dir, "%s/fresh", g_dir);
    rm_rf(dir);
    mkdir(dir, 0755);
    snprintf(uri, sizeof uri, "spool:%s/spool", dir);
    firn_stream_close(open_stream(uri)); /* the raw topic with PARTS partitions */
    static fresh_ctx f;
    memset(&f, 0, sizeof f);
    f.uri = uri;
    f.rate = 1000;
    f.seconds = (double)env_long("BENCH_PIPE_FRESH_S", 20);
    firn_config *cfg = make_config(dir, uri, false, NULL);
    f.cfg = cfg;
    pthread_mutex_init(&f.mu, NULL);
    uint64_t total = (uint64_t)(f.rate * f.seconds);
    f.lat = firn_xcalloc(total, sizeof *f.lat);
    pthread_t run_th, prod_th;
    pthread_create(&run_th, NULL, fresh_run, &f);
    /* the production table exists once its processor started */
    firn_catalog *cat;
    firn_error err;
    firn_error_init(&err);
    firn_cat_config cc = {0};
    cc.warehouse = cfg->warehouse;
    if (firn_cat_open(cfg->catalog_uri, &cc, &cat, &err)) die("catalog", &err);
    firn_ice_table *t = NULL;
    for (int i = 0; i < 400 && !t; i++) {
        if (firn_ice_table_load(cat, "production", "parking_entry", &t, &err)) {
            firn_error_release(&err);
            firn_error_init(&err);
            t = NULL;
            usleep(25000);
        }
    }
    if (!t) die("production.parking_entry never appeared", NULL);
    pthread_create(&prod_th, NULL, fresh_producer, &f);
    int64_t last_snap = -2;
    double deadline = 0;
    for (;;) {
        if (firn_ice_table_refresh(t, &err)) die("refresh", &err);
        int64_t now = firn_now_us();
        const firn_ice_ref *main_ref = firn_ice_metadata_ref(t->metadata, FIRN_ICE_MAIN_BRANCH);
        int64_t snap = main_ref ? main_ref->snapshot_id : -1;
        if (snap != last_snap && snap >= 0) {
            last_snap = snap;
            firn_offset_map m = {0};
            firn_offsets_recover(t->metadata, FIRN_ICE_MAIN_BRANCH, &m, NULL);
            pthread_mutex_lock(&f.mu);
            for (int p = 0; p < PARTS; p++) {
                int64_t vis = firn_offset_map_get(&m, TYPE_TOPIC, p, 0);
                fresh_part *fp = &f.parts[p];
                while (fp->seen < fp->n && fp->off[fp->seen] < vis) {
                    f.lat[f.nlat++] = (double)(now - fp->ack_us[fp->seen]) / 1e6;
                    fp->seen++;
                }
            }
            pthread_mutex_unlock(&f.mu);
            firn_offset_map_release(&m);
        }
        if (atomic_load(&f.producer_done)) {
            if (f.nlat >= f.produced) break;
            if (!deadline) deadline = secs() + 30;
            if (secs() > deadline) break;
        }
        usleep(5000);
    }
    f.stop = 1;
    pthread_join(prod_th, NULL);
    pthread_join(run_th, NULL);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    firn_config_free(cfg);
    if (f.nlat < f.produced) {
        fprintf(stderr, "bench_pipeline: freshness: only %zu of %llu events became visible\n",
                f.nlat, (unsigned long long)f.produced);
        exit(1);
    }
    qsort(f.lat, f.nlat, sizeof *f.lat, cmp_double);
    double p50 = f.lat[f.nlat / 2], p99 = f.lat[(size_t)((double)f.nlat * 0.99)],
           mx = f.lat[f.nlat - 1];
    printf("freshness: %zu events at %.0f/s, append acknowledged -> visible on main: p50 %.3f s, "
           "p99 %.3f s, max %.3f s (commit-interval 1 s)\n", f.nlat, f.rate, p50, p99, mx);
    printf("bench pipeline-freshness-p50: %.3f s vs target 2 s = %.3fx\n", p50, p50 / 2);
    printf("bench pipeline-freshness-p99: %.3f s vs target 5 s = %.3fx\n", p99, p99 / 5);
    for (int p = 0; p < PARTS; p++) {
        free(f.parts[p].off);
        free(f.parts[p].ack_us);
    }
    free(f.lat);
    pthread_mutex_destroy(&f.mu);
    rm_rf(dir);
}

int main(int argc, char **argv) {
    const char *d = argc > 1 ? argv[1] : getenv("BENCH_PIPE_DIR");
    if (!d || !*d) d = "build/bench-data/pipeline";
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", d);
    if (system(cmd) != 0 || !realpath(d, g_dir)) die("scratch directory", NULL);
    setenv("FIRN_KAFKA_LOG", "3", 0);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (section("small")) bench_small_spool();
    if (section("image")) bench_images();
    if (section("fresh")) bench_freshness();
    if (section("kafka")) bench_small_kafka();
    return 0;
}
