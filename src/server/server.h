/*
 * server.h - firn's HTTP server (libmicrohttpd): the dashboard, the JSON API
 * over the catalog's tables, Prometheus metrics and HTTP ingest.
 *
 * Routes (docs/api.md has every request and answer):
 *   GET  /healthz, /readyz          probes (never ask for a token)
 *   GET  /metrics                   Prometheus text format
 *   GET  /api/v1/...                JSON API (tables, snapshots, files, refs, partitions,
 *                                   history, rows, images, overview, untrusted)
 *   GET  /api/v1/pipeline           ingest rate, freshness, source lag, maintenance runs,
 *                                   failed audits (the overview's operations panels)
 *   POST /api/v1/admin/maintain     run the maintenance policy now (admin token)
 *   POST /api/v1/admin/publish      the catalog-wide fast-forward of `firn publish` (admin token)
 *   POST /v1/events                 ingest: one JSON event, NDJSON, or multipart JSON + image
 *   GET  /, /app.js, /app.css       the dashboard, embedded in the binary
 *   *    /iceberg/v1/...            the Iceberg REST catalog (rest/rest.h) over the
 *                                   configured catalog: clients use http://HOST:PORT/iceberg
 *
 * Security: bearer tokens, compared in constant time: server.tokens and
 * $FIRN_SERVER_TOKENS give write and read rights, server.read-tokens and
 * $FIRN_SERVER_READ_TOKENS read rights only, server.admin-tokens and
 * $FIRN_SERVER_ADMIN_TOKENS everything. When a write or read token is
 * configured, ingest and the Iceberg catalog's writes (every /iceberg request
 * but GET, HEAD and the metrics report) need a write token: none or a wrong
 * one answers 401, a read-only one 403; with server.read-auth the API,
 * /metrics and the catalog's reads need a token too. Admin routes always need
 * an admin token (401 without a known token, 403 with a lesser one or when
 * none is configured). /iceberg answers its errors (401, 403, 413, 429, 400)
 * in the Iceberg error model. With server.tls-cert and server.tls-key the
 * server speaks HTTPS only (libmicrohttpd with GnuTLS). URLs never
 * name files: the dashboard's files are an embedded table matched exactly and
 * tables are catalog identifiers, so no URL reaches the file system. Bodies
 * over server.max-body answer 413, clients over server.rate-limit 429. Every
 * request is logged with its status and duration.
 *
 * Ingest: the events of one request are appended to the raw topic
 * (cfg->stream_raw_topic) in one firn_stream_append, in sim.h's envelope (key
 * = the key field, value = the event JSON without its image, header "image" =
 * the image bytes); the 202 carries their offsets and is sent only after the
 * append returned (durable under the stream's contract). A request is all or
 * nothing: one unparseable event answers 400 and nothing is appended; a failed
 * append answers 503. An event whose eventId and payload hash were accepted
 * within server.dedupe-window is acknowledged again with its first offsets and
 * not appended twice (the window is kept in <server.state-dir>/ingest-dedupe.log,
 * written before the reply: it survives kill -9; fsynced every second, so a
 * power cut can forget the last second of ids - a retry of those is appended
 * again and the pipeline's duplicate rule keeps it out of production).
 *
 * Threads: one thread per connection (ingest blocks on the append's fsync, and
 * concurrent appends share one fsync). Each API request opens its own catalog
 * handle (catalog handles are per thread). The Iceberg REST catalog has one
 * catalog handle of its own (opened on the first /iceberg request, never
 * shared with firn run's pipeline threads, which have theirs) used by one
 * request at a time: its requests are serialized; commits from the pipeline
 * and from REST clients meet in the catalog's compare-and-swap.
 */
#ifndef FIRN_SERVER_H
#define FIRN_SERVER_H

#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct firn_config;
struct firn_stream;

typedef struct firn_server firn_server;

typedef struct firn_server_options {
    const struct firn_config *cfg; /* borrowed; must outlive the server */
    const char *listen;            /* "host:port" (port 0 = any free one); NULL: server.listen */
    struct firn_stream *stream;    /* borrowed (firn run shares its stream); NULL: the server
                                      opens cfg->stream_uri itself and closes it on stop */
    FILE *log;                     /* request log; NULL: stderr */
    bool no_log;                   /* no request log at all (benchmarks) */
    FILE *iceberg_log;             /* borrowed; NULL: none. One JSON line per /iceberg request:
                                      {"method","path" (below /iceberg, with the query),
                                       "status","body" (the JSON answer or null)} */
} firn_server_options;

void firn_server_options_init(firn_server_options *o);

/* Bind, open the stream and the dedupe log, and start serving in background
 * threads. The caller frees *out with firn_server_stop(). */
int firn_server_start(const firn_server_options *o, firn_server **out, firn_error *err);
/* The port actually bound (when listen asked for port 0). */
int firn_server_port(const firn_server *s);
/* True when the server speaks HTTPS (server.tls-cert). */
bool firn_server_tls(const firn_server *s);
/* Stop accepting, finish the requests in flight, free everything. NULL-safe. */
void firn_server_stop(firn_server *s);

/* ------------------------------------------------------------ metrics
 *
 * A process-wide registry of Prometheus series that anything in the process
 * feeds (the server's request and ingest counts now; the pipeline can call the
 * same functions for commits, lag and maintenance) and /metrics prints.
 * A series is a metric name plus a label text in Prometheus syntax without the
 * braces ('table="production.parking_entry",trust="trusted"', or NULL / "" for
 * none). Names and label texts are copied. Thread-safe (one mutex).
 */
typedef enum firn_metric_kind {
    FIRN_METRIC_COUNTER = 1,
    FIRN_METRIC_GAUGE,
    FIRN_METRIC_HISTOGRAM,
} firn_metric_kind;

/* Declare a metric's kind and help text (optional; an undeclared metric is
 * printed untyped). Histograms use buckets (ascending upper bounds, copied;
 * NULL: 0.5 ms ... 10 s, for latencies in seconds). */
void firn_metrics_describe(const char *name, firn_metric_kind kind, const char *help,
                           const double *buckets, size_t nbuckets);
void firn_metrics_counter_add(const char *name, const char *labels, double v);
void firn_metrics_gauge_set(const char *name, const char *labels, double v);
void firn_metrics_histogram_observe(const char *name, const char *labels, double v);
/* A counter's or gauge's current value (0 when absent). */
double firn_metrics_value(const char *name, const char *labels);
/* Append every series in Prometheus text format 0.0.4. */
void firn_metrics_write(firn_buf *out);
/* Forget every series (tests). */
void firn_metrics_reset(void);
/* Call fn for each series of metric name, sorted by label text: a counter's or
 * gauge's value (count 0), a histogram's sum and count. fn runs under the
 * registry's lock: it must not call firn_metrics_*. */
typedef void (*firn_metrics_fn)(void *ctx, const char *labels, double value, uint64_t count);
void firn_metrics_each(const char *name, firn_metrics_fn fn, void *ctx);

/* ------------------------------------------------------------ maintenance runs
 *
 * Record one maintenance run (firn run's schedule, the admin endpoint): the
 * firn_maintenance_* series (runs, bytes reclaimed, files removed and
 * rewritten, last duration, last run time; labels table and op) and an entry
 * in a process-wide list of the last runs that /api/v1/pipeline shows.
 * Thread-safe. */
struct firn_maintain_result;
void firn_server_record_maintenance(const char *table, const char *op,
                                    const struct firn_maintain_result *res);

#endif
