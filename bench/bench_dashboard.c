/* bench_dashboard.c - firn serve's dashboard API on a table with many snapshots
 * (`make bench-dashboard`, after bench/dashboard.sh built a real table with
 * bench_scan build).
 *
 *   bench_dashboard DIR SNAPSHOTS
 *
 * DIR holds a SQLite catalog (DIR/catalog.db) with the table bench.events. Its
 * metadata is rewritten with older synthetic snapshots in front (each one an
 * append whose manifest list is the oldest real snapshot's, with its summary
 * and snapshot-log entry) up to SNAPSHOTS in all, and registered as bench.dash;
 * its current snapshot and data files are the real ones, so files, partitions
 * and rows read real manifests and Parquet files.
 *
 * The server runs in this process (firn_server_start) and each page and API
 * endpoint the dashboard uses is fetched over HTTP on loopback:
 *   cold: right after a commit of the table (a new metadata file, same content,
 *         swapped in the catalog): the server reads and parses the metadata
 *         and derives the page;
 *   warm: the same request again (median of 5);
 *   polled: with the server's metadata refresher on (it is off for cold and
 *         warm), the first request POLL_MS after a commit, worst of the rounds:
 *         what a dashboard that polls sees.
 * The reference, measured in the same rounds: reading the table's metadata.json
 * and parsing it with jansson (json_loadb), the least any server that does not
 * keep metadata must do per request - and what a cold page costs at least, as
 * firn parses metadata with jansson too. Rounds are interleaved (subject and
 * reference alternate) and each keeps its best round (the machine is shared).
 *
 * Lines: bench dashboard-<page>-cold / -warm / -polled: X ms vs jansson-parse Y ms = Zx,
 * then the p50 and max over pages against the 100 ms target. */
#include "catalog/catalog.h"
#include "config/config.h"
#include "iceberg/iceberg.h"
#include "server/server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 5
#define WARM 5
#define POLL_MS 700

static void die(const char *what, firn_error *err) {
    char buf[2048];
    fprintf(stderr, "bench_dashboard: %s: %s\n", what, err ? firn_error_format(err, buf, sizeof buf) : "failed");
    exit(1);
}

static double now_ms(void) { return (double)firn_now_ns() / 1e6; }

/* ------------------------------------------------------------ HTTP */

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) die("connect", NULL);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* GET path on a keep-alive connection; the status, the body in *body. */
static int get(int fd, const char *path, firn_buf *body) {
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) die("send", NULL);
    firn_buf in;
    firn_buf_init(&in);
    size_t head = 0, need = 0;
    for (;;) {
        firn_buf_reserve(&in, 65536);
        ssize_t r = recv(fd, in.data + in.len, 65536, 0);
        if (r <= 0) die("recv", NULL);
        in.len += (size_t)r;
        if (!head) {
            firn_buf_cstr(&in);
            char *end = memmem(in.data, in.len, "\r\n\r\n", 4);
            if (!end) continue;
            head = (size_t)(end + 4 - (char *)in.data);
            char *cl = strcasestr((char *)in.data, "Content-Length:");
            if (!cl || cl > end) die("no Content-Length", NULL);
            need = head + strtoul(cl + 15, NULL, 10);
        }
        if (in.len >= need) break;
    }
    int status = atoi((char *)in.data + 9);
    firn_buf_clear(body);
    firn_buf_append(body, in.data + head, need - head);
    firn_buf_release(&in);
    return status;
}

/* ------------------------------------------------------------ the table */

/* The metadata of bench.events with synthetic older snapshots up to total. */
static json_t *synthesize(firn_catalog *cat, size_t total) {
    firn_error err;
    firn_error_init(&err);
    firn_ice_table *t;
    if (firn_ice_table_load(cat, "bench", "events", &t, &err)) die("load bench.events", &err);
    json_t *md = json_load_file(t->metadata_location + (strncmp(t->metadata_location, "file:", 5) ? 0 : 5), 0, NULL);
    if (!md) die("read bench.events metadata", NULL);
    firn_ice_table_free(t);
    json_t *snaps = json_object_get(md, "snapshots");
    json_t *log = json_object_get(md, "snapshot-log");
    size_t real = json_array_size(snaps);
    if (real == 0 || real >= total) die("bench.events has no snapshots or too many", NULL);
    json_t *first = json_array_get(snaps, 0);
    const char *ml = json_string_value(json_object_get(first, "manifest-list"));
    int64_t t0 = json_integer_value(json_object_get(first, "timestamp-ms"));
    size_t add = total - real;
    json_t *ns = json_array(), *nl = json_array();
    int64_t rows = 0;
    for (size_t i = 0; i < add; i++) {
        int64_t id = 1000000 + (int64_t)i, ts = t0 - (int64_t)(add - i) * 60000;
        rows += 100;
        char buf[32];
        json_t *sum = json_object();
        json_object_set_new(sum, "operation", json_string("append"));
        json_object_set_new(sum, "added-data-files", json_string("1"));
        snprintf(buf, sizeof buf, "100");
        json_object_set_new(sum, "added-records", json_string(buf));
        snprintf(buf, sizeof buf, "%lld", (long long)rows);
        json_object_set_new(sum, "total-records", json_string(buf));
        snprintf(buf, sizeof buf, "%zu", i + 1);
        json_object_set_new(sum, "total-data-files", json_string(buf));
        snprintf(buf, sizeof buf, "%lld", (long long)(i + 1) * 2048);
        json_object_set_new(sum, "total-files-size", json_string(buf));
        json_t *s = json_pack("{s:I,s:I,s:I,s:s,s:o,s:i}", "snapshot-id", (json_int_t)id,
                              "sequence-number", (json_int_t)1, "timestamp-ms", (json_int_t)ts,
                              "manifest-list", ml, "summary", sum, "schema-id", 0);
        if (i) json_object_set_new(s, "parent-snapshot-id", json_integer(id - 1));
        json_array_append_new(ns, s);
        json_array_append_new(nl, json_pack("{s:I,s:I}", "timestamp-ms", (json_int_t)ts, "snapshot-id", (json_int_t)id));
    }
    json_object_set_new(first, "parent-snapshot-id", json_integer(1000000 + (int64_t)add - 1));
    json_array_extend(ns, snaps);
    json_array_extend(nl, log);
    json_object_set_new(md, "snapshots", ns);
    json_object_set_new(md, "snapshot-log", nl);
    json_object_set_new(md, "metadata-log", json_array());
    return md;
}

static void write_metadata(json_t *md, const char *path) {
    if (json_dump_file(md, path, JSON_COMPACT)) die("write metadata", NULL);
}

/* ------------------------------------------------------------ main */

/* A commit of bench.dash: the same metadata under the next name, swapped in
 * the catalog; the previous file goes, as after a real commit's cleanup. */
static void commit(firn_catalog *cat, const firn_cat_ident *id, json_t *md, const char *dir, int *version,
                   char *prev, size_t prevn, char *path, size_t pathn) {
    firn_error err;
    firn_error_init(&err);
    (*version)++;
    snprintf(path, pathn, "%s/%05d-dash.metadata.json", dir, *version);
    write_metadata(md, path);
    char loc[4200];
    snprintf(loc, sizeof loc, "file:%s", path);
    firn_cat_outcome oc;
    if (firn_cat_commit_table(cat, id, prev, loc, &oc, &err)) die("commit", &err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_cat_table row;
    if (firn_cat_load_table(cat, id, &a, &row, &err)) die("load bench.dash", &err);
    snprintf(prev, prevn, "%s", row.metadata_location);
    firn_arena_release(&a);
    char old[4096];
    snprintf(old, sizeof old, "%s/%05d-dash.metadata.json", dir, *version - 1);
    unlink(old);
}

/* The reference: read the whole file, parse it with jansson, free the tree (ms). */
static double reference(const char *path) {
    firn_error err;
    firn_error_init(&err);
    double t0 = now_ms();
    uint8_t *data;
    size_t len;
    if (firn_read_file(path, &data, &len, &err)) die("read metadata", &err);
    json_t *x = json_loadb((const char *)data, len, 0, NULL);
    if (!x) die("jansson", NULL);
    json_decref(x);
    free(data);
    return now_ms() - t0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bench_dashboard DIR SNAPSHOTS\n");
        return 2;
    }
    const char *dir = argv[1];
    size_t total = strtoul(argv[2], NULL, 10);
    firn_error err;
    firn_error_init(&err);
    char uri[1200], meta_dir[1400], path[4096], loc[4200], prev[4200];
    snprintf(uri, sizeof uri, "sqlite:%s/catalog.db", dir);
    firn_cat_config cc = {0};
    cc.warehouse = dir;
    firn_catalog *cat;
    if (firn_cat_open(uri, &cc, &cat, &err)) die("catalog", &err);
    json_t *md = synthesize(cat, total);
    snprintf(meta_dir, sizeof meta_dir, "%s/dash-metadata", dir);
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", meta_dir, meta_dir);
    if (system(cmd) != 0) die("mkdir", NULL);
    char *abs = realpath(meta_dir, NULL);
    int version = 0;
    snprintf(path, sizeof path, "%s/%05d-dash.metadata.json", abs, version);
    write_metadata(md, path);
    snprintf(loc, sizeof loc, "file:%s", path);
    firn_cat_ident id = {"bench", "dash"};
    firn_arena a;
    firn_arena_init(&a, 0);
    bool exists = false;
    if (firn_cat_table_exists(cat, &id, &exists, &err)) die("catalog", &err);
    if (exists && firn_cat_drop_table(cat, &id, &a, NULL, &err)) die("drop bench.dash", &err); /* a rerun */
    if (firn_cat_register_table(cat, &id, loc, &err)) die("register bench.dash", &err);
    /* what the catalog stores (canonical) is what a commit compares against */
    firn_cat_table row;
    if (firn_cat_load_table(cat, &id, &a, &row, &err)) die("load bench.dash", &err);
    snprintf(prev, sizeof prev, "%s", row.metadata_location);
    firn_arena_release(&a);
    long meta_bytes = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        fseek(f, 0, SEEK_END);
        meta_bytes = ftell(f);
        fclose(f);
    }

    setenv("FIRN_SERVE_NO_REFRESH", "1", 1); /* cold and warm first: no background refresher */
    firn_config *cfg = firn_config_new_default();
    char suri[1400], state[1400];
    snprintf(suri, sizeof suri, "spool:%s/spool", dir);
    snprintf(state, sizeof state, "%s/server", dir);
    if (firn_config_set(cfg, "catalog.uri", uri, &err) || firn_config_set(cfg, "warehouse", dir, &err) ||
        firn_config_set(cfg, "stream.uri", suri, &err) || firn_config_set(cfg, "server.state-dir", state, &err))
        die("config", &err);
    firn_server_options o;
    firn_server_options_init(&o);
    o.cfg = cfg;
    o.listen = "127.0.0.1:0";
    o.no_log = true;
    firn_server *srv;
    if (firn_server_start(&o, &srv, &err)) die("server", &err);
    int fd = connect_to(firn_server_port(srv));

    static const struct {
        const char *name, *path;
    } pages[] = {
        {"overview", "/api/v1/overview"},
        {"tables", "/api/v1/tables"},
        {"table", "/api/v1/tables/bench.dash"},
        {"snapshots", "/api/v1/tables/bench.dash/snapshots?limit=200"},
        {"history", "/api/v1/tables/bench.dash/history"},
        {"refs", "/api/v1/tables/bench.dash/refs"},
        {"files", "/api/v1/tables/bench.dash/files"},
        {"partitions", "/api/v1/tables/bench.dash/partitions"},
        {"rows", "/api/v1/tables/bench.dash/rows?limit=50"},
    };
    enum { NP = sizeof pages / sizeof pages[0] };
    double cold[NP], warm[NP], ref = 1e30;
    size_t bytes[NP];
    for (size_t p = 0; p < NP; p++) cold[p] = warm[p] = 1e30;
    firn_buf body;
    firn_buf_init(&body);
    /* check the table once: every snapshot listed */
    if (get(fd, "/api/v1/tables/bench.dash/history", &body) != 200) die("history", NULL);
    json_t *h = json_loadb((char *)body.data, body.len, 0, NULL);
    if (!h || json_array_size(json_object_get(h, "history")) != total) die("history does not list every snapshot", NULL);
    json_decref(h);
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t p = 0; p < NP; p++) {
            commit(cat, &id, md, abs, &version, prev, sizeof prev, path, sizeof path);
            if ((r + (int)p) % 2) { /* the reference first every other time */
                double dt = reference(path);
                if (dt < ref) ref = dt;
            }
            double t0 = now_ms();
            int st = get(fd, pages[p].path, &body);
            double dt = now_ms() - t0;
            if (st != 200) {
                fprintf(stderr, "bench_dashboard: %s: status %d: %.300s\n", pages[p].path, st, (char *)firn_buf_cstr(&body));
                return 1;
            }
            bytes[p] = body.len;
            if (dt < cold[p]) cold[p] = dt;
            double w[WARM];
            for (int k = 0; k < WARM; k++) {
                t0 = now_ms();
                if (get(fd, pages[p].path, &body) != 200) die(pages[p].path, NULL);
                w[k] = now_ms() - t0;
            }
            qsort(w, WARM, sizeof w[0], cmp_d);
            if (w[WARM / 2] < warm[p]) warm[p] = w[WARM / 2];
            if (!((r + (int)p) % 2)) {
                dt = reference(path);
                if (dt < ref) ref = dt;
            }
        }
    }
    /* polled: with the refresher (started by the next request), a commit, then
     * POLL_MS later every page once - what a dashboard polling every few seconds sees */
    unsetenv("FIRN_SERVE_NO_REFRESH");
    double polled[NP];
    for (size_t p = 0; p < NP; p++) polled[p] = 0;
    if (get(fd, "/api/v1/tables", &body) != 200) die("tables", NULL);
    for (int r = 0; r < ROUNDS; r++) {
        commit(cat, &id, md, abs, &version, prev, sizeof prev, path, sizeof path);
        struct timespec ts = {0, POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
        for (size_t p = 0; p < NP; p++) {
            double t0 = now_ms();
            if (get(fd, pages[p].path, &body) != 200) die(pages[p].path, NULL);
            double dt = now_ms() - t0;
            if (dt > polled[p]) polled[p] = dt; /* the worst round: the refresher may be late */
        }
    }
    printf("table bench.dash: %zu snapshots, metadata.json %.1f MB; best of %d rounds, warm = median of %d; "
           "polled = worst of %d rounds, %d ms after a commit, refresher on\n",
           total, (double)meta_bytes / 1e6, ROUNDS, WARM, ROUNDS, POLL_MS);
    double all_c[NP], all_w[NP], all_p[NP];
    for (size_t p = 0; p < NP; p++) {
        printf("bench dashboard-%s-cold: %.2f ms vs jansson-parse %.2f ms = %.2fx (%zu bytes)\n", pages[p].name,
               cold[p], ref, cold[p] / ref, bytes[p]);
        printf("bench dashboard-%s-warm: %.2f ms vs jansson-parse %.2f ms = %.3fx\n", pages[p].name, warm[p], ref,
               warm[p] / ref);
        printf("bench dashboard-%s-polled: %.2f ms vs jansson-parse %.2f ms = %.3fx\n", pages[p].name, polled[p],
               ref, polled[p] / ref);
        all_c[p] = cold[p];
        all_w[p] = warm[p];
        all_p[p] = polled[p];
    }
    qsort(all_c, NP, sizeof all_c[0], cmp_d);
    qsort(all_w, NP, sizeof all_w[0], cmp_d);
    qsort(all_p, NP, sizeof all_p[0], cmp_d);
    printf("bench dashboard-cold-p50: %.2f ms vs target 100 ms = %.2fx\n", all_c[NP / 2], all_c[NP / 2] / 100);
    printf("bench dashboard-cold-max: %.2f ms vs target 100 ms = %.2fx\n", all_c[NP - 1], all_c[NP - 1] / 100);
    printf("bench dashboard-warm-p50: %.2f ms vs target 100 ms = %.3fx\n", all_w[NP / 2], all_w[NP / 2] / 100);
    printf("bench dashboard-warm-max: %.2f ms vs target 100 ms = %.3fx\n", all_w[NP - 1], all_w[NP - 1] / 100);
    printf("bench dashboard-polled-p50: %.2f ms vs target 100 ms = %.3fx\n", all_p[NP / 2], all_p[NP / 2] / 100);
    printf("bench dashboard-polled-max: %.2f ms vs target 100 ms = %.3fx\n", all_p[NP - 1], all_p[NP - 1] / 100);
    close(fd);
    firn_buf_release(&body);
    firn_server_stop(srv);
    firn_config_free(cfg);
    json_decref(md);
    free(abs);
    firn_cat_free(cat);
    return 0;
}
