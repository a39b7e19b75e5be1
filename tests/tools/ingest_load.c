/* ingest_load.c - load client for `firn serve`'s POST /v1/events: C
 * keep-alive clients on loopback post N events (one per POST), and retry
 * whatever was not acknowledged (connection refused or reset, 503, a reply
 * cut short) until it is, reconnecting to the port named in a file (the
 * server may be killed and restarted on another port meanwhile).
 *
 *   ingest_load --port-file F --template T --events N --acked OUT
 *               [--clients C] [--run R] [--rate EVENTS_PER_S] [--retry-for SECONDS]
 *               [--report FILE] [--progress FILE]
 *
 * Event i is line i % lines of T (NDJSON from `firn sim --ndjson`) with its
 * eventId replaced by a UUID made of R and i, so every event is unique and a
 * retry repeats the same bytes. --report FILE gets the summary line too.
 * --progress FILE holds the number of events acknowledged so far, rewritten
 * every 20 ms (a test can act at a point of the load rather than at a time).
 * OUT gets the eventId of every acknowledged event, once each. The last line on stdout:
 *   ingest_load: N acked (D as duplicates), R retries, U unacknowledged, S s, X events/s
 * Exit 0 when every event was acknowledged, 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *port_file;
static char **tmpl;
static size_t ntmpl;
static uint64_t nevents, run_id;
static int nclients = 32;
static double rate, retry_for = 60;
static const char *progress_file;
static atomic_ullong total_acked;
static atomic_bool clients_done;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct client {
    int index;
    char (*acked)[40]; /* eventIds, in order */
    size_t nacked, ndup, retries, unacked;
    int fatal;
} client;

static int read_port(void) {
    FILE *f = fopen(port_file, "r");
    if (!f) return -1;
    int port = -1;
    if (fscanf(f, "%d", &port) != 1) port = -1;
    fclose(f);
    return port;
}

static int dial(void) {
    int port = read_port();
    if (port <= 0) return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* One response: its status (body in buf), or -1 when the connection broke. */
static int read_response(int fd, char *buf, size_t cap) {
    size_t have = 0;
    for (;;) {
        if (have + 1 >= cap) return -1;
        ssize_t r = recv(fd, buf + have, cap - have - 1, 0);
        if (r <= 0) return -1;
        have += (size_t)r;
        buf[have] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        char *cl = strcasestr(buf, "Content-Length:");
        if (!cl || cl > end) return -1;
        size_t need = (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10);
        if (need >= cap) return -1;
        while (have < need) {
            r = recv(fd, buf + have, cap - have - 1, 0);
            if (r <= 0) return -1;
            have += (size_t)r;
        }
        buf[have] = 0;
        if (strncmp(buf, "HTTP/1.", 7) != 0) return -1;
        return atoi(buf + 9);
    }
}

/* The request for event i into req (the eventId into id). */
static size_t build(uint64_t i, char *req, size_t cap, char id[40]) {
    const char *t = tmpl[i % ntmpl];
    const char *p = strstr(t, "\"eventId\":\"");
    snprintf(id, 40, "%08llx-%04llx-4%03llx-8000-%012llx", (unsigned long long)(run_id & 0xffffffff),
             (unsigned long long)((i >> 48) & 0xffff), (unsigned long long)((i >> 36) & 0xfff),
             (unsigned long long)(i & 0xfffffffffULL));
    size_t tl = strlen(t);
    size_t head = p ? (size_t)(p - t) + 11 : 0;
    const char *rest = p ? strchr(t + head, '"') : NULL;
    size_t body = p && rest ? head + 36 + (tl - (size_t)(rest - t)) : tl;
    int n = snprintf(req, cap,
                     "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n", body);
    size_t k = (size_t)n;
    if (p && rest) {
        memcpy(req + k, t, head), k += head;
        memcpy(req + k, id, 36), k += 36;
        memcpy(req + k, rest, tl - (size_t)(rest - t)), k += tl - (size_t)(rest - t);
    } else {
        memcpy(req + k, t, tl), k += tl;
    }
    return k;
}

static void *run_client(void *arg) {
    client *c = arg;
    size_t cap = 1 << 20;
    char *req = malloc(cap), *resp = malloc(65536);
    uint64_t mine = nevents / (uint64_t)nclients + ((uint64_t)c->index < nevents % (uint64_t)nclients);
    c->acked = calloc(mine + 1, sizeof *c->acked);
    double t0 = now_s(), per = rate > 0 ? (double)nclients / rate : 0;
    int fd = -1;
    uint64_t k = 0;
    for (uint64_t i = (uint64_t)c->index; i < nevents; i += (uint64_t)nclients, k++) {
        if (per > 0) {
            double due = t0 + (double)k * per, now = now_s();
            if (due > now) nap_ms((int)((due - now) * 1000));
        }
        char id[40];
        size_t len = build(i, req, cap, id);
        double give_up = now_s() + retry_for;
        bool first = true;
        for (;;) {
            if (!first) {
                c->retries++;
                nap_ms(20);
            }
            first = false;
            if (now_s() > give_up) {
                c->unacked++;
                break;
            }
            if (fd < 0 && (fd = dial()) < 0) continue;
            size_t done = 0;
            while (done < len) {
                ssize_t w = send(fd, req + done, len - done, MSG_NOSIGNAL);
                if (w <= 0) break;
                done += (size_t)w;
            }
            int st = done == len ? read_response(fd, resp, 65536) : -1;
            if (st == 202) {
                memcpy(c->acked[c->nacked], id, 37);
                c->ndup += strstr(resp, "\"duplicate\":true") != NULL;
                c->nacked++;
                atomic_fetch_add(&total_acked, 1);
                break;
            }
            if (st > 0 && st != 503 && st != 429) {
                char *b = strstr(resp, "\r\n\r\n");
                fprintf(stderr, "ingest_load: event %llu: status %d: %.300s\n", (unsigned long long)i,
                        st, b ? b + 4 : resp);
                c->fatal = 1;
                c->unacked++;
                break;
            }
            close(fd); /* broken, or the server asked to retry later */
            fd = -1;
        }
        if (c->fatal) break;
    }
    if (fd >= 0) close(fd);
    free(req);
    free(resp);
    return NULL;
}

/* Rewrites --progress FILE (through a rename, so a reader never sees half a number). */
static void write_progress(void) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", progress_file);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fprintf(f, "%llu\n", (unsigned long long)atomic_load(&total_acked));
    if (fclose(f) == 0) rename(tmp, progress_file);
}

static void *run_progress(void *arg) {
    (void)arg;
    while (!atomic_load(&clients_done)) {
        write_progress();
        nap_ms(20);
    }
    write_progress();
    return NULL;
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    size_t r;
    while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) b = realloc(b, cap *= 2);
    }
    fclose(f);
    b[n] = 0;
    *len = n;
    return b;
}

int main(int argc, char **argv) {
    const char *template = NULL, *acked = NULL, *report = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "--port-file")) port_file = v;
        else if (!strcmp(o, "--template")) template = v;
        else if (!strcmp(o, "--events")) nevents = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--acked")) acked = v;
        else if (!strcmp(o, "--clients")) nclients = atoi(v);
        else if (!strcmp(o, "--run")) run_id = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--rate")) rate = atof(v);
        else if (!strcmp(o, "--retry-for")) retry_for = atof(v);
        else if (!strcmp(o, "--report")) report = v;
        else if (!strcmp(o, "--progress")) progress_file = v;
        else {
            fprintf(stderr, "ingest_load: unknown option %s\n", o);
            return 2;
        }
    }
    if (!port_file || !template || !acked || nevents == 0 || nclients < 1 || nclients > 1024) {
        fprintf(stderr, "usage: ingest_load --port-file F --template T --events N --acked OUT "
                        "[--clients C] [--run R] [--rate EVENTS_PER_S] [--retry-for SECONDS] "
                        "[--report FILE] [--progress FILE]\n");
        return 2;
    }
    size_t tlen;
    char *t = read_all(template, &tlen);
    if (!t) {
        perror(template);
        return 2;
    }
    for (char *p = t; *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        if (*p) {
            tmpl = realloc(tmpl, (ntmpl + 1) * sizeof *tmpl);
            tmpl[ntmpl++] = p;
        }
        if (!nl) break;
        p = nl + 1;
    }
    if (!ntmpl) {
        fprintf(stderr, "ingest_load: %s has no event\n", template);
        return 2;
    }
    client *cs = calloc((size_t)nclients, sizeof *cs);
    pthread_t *th = calloc((size_t)nclients, sizeof *th);
    double t0 = now_s();
    pthread_t prog;
    if (progress_file) pthread_create(&prog, NULL, run_progress, NULL);
    for (int c = 0; c < nclients; c++) {
        cs[c].index = c;
        pthread_create(&th[c], NULL, run_client, &cs[c]);
    }
    size_t nacked = 0, ndup = 0, retries = 0, unacked = 0;
    int fatal = 0;
    for (int c = 0; c < nclients; c++) pthread_join(th[c], NULL);
    double secs = now_s() - t0;
    atomic_store(&clients_done, true);
    if (progress_file) pthread_join(prog, NULL);
    FILE *out = fopen(acked, "w");
    if (!out) {
        perror(acked);
        return 2;
    }
    for (int c = 0; c < nclients; c++) {
        for (size_t k = 0; k < cs[c].nacked; k++) fprintf(out, "%s\n", cs[c].acked[k]);
        nacked += cs[c].nacked, ndup += cs[c].ndup, retries += cs[c].retries;
        unacked += cs[c].unacked, fatal |= cs[c].fatal;
        free(cs[c].acked);
    }
    fclose(out);
    FILE *rep = report ? fopen(report, "w") : NULL;
    for (int k = 0; k < (rep ? 2 : 1); k++)
        fprintf(k ? rep : stdout,
                "ingest_load: %zu acked (%zu as duplicates), %zu retries, %zu unacknowledged, "
                "%.2f s, %.0f events/s\n", nacked, ndup, retries, unacked, secs, (double)nacked / secs);
    if (rep) fclose(rep);
    free(cs);
    free(th);
    free(tmpl);
    free(t);
    return unacked || fatal ? 1 : 0;
}
