/* server_internal.h - what server.c, api.c, ingest.c and dashboard.c share. */
#ifndef FIRN_SERVER_INTERNAL_H
#define FIRN_SERVER_INTERNAL_H

#include "config/config.h"
#include "server/server.h"
#include "stream/stream.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>

struct firn_catalog;

/* One request as the handlers see it. */
typedef struct firn_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *url;    /* path, percent-decoded by MHD, without the query */
    const uint8_t *body;
    size_t body_len;
    const char *client; /* the peer's address as text */
} firn_request;

/* What a handler answers. body is owned by the reply (freed after sending). */
typedef struct firn_reply {
    int status;
    const char *content_type; /* static string */
    firn_buf body;
    const char *cache_control; /* static string or NULL */
    const char *retry_after;   /* static string or NULL */
} firn_reply;

/* The ingest dedupe window (ingest.c). */
typedef struct firn_dedupe firn_dedupe;

struct firn_server {
    const firn_config *cfg;
    struct MHD_Daemon *daemon;
    firn_stream *stream;
    bool own_stream;
    FILE *log;
    bool no_log;
    pthread_mutex_t log_mu;
    int port;
    char **admin_tokens; /* admin tokens: admin, ingest and read */
    size_t nadmin;
    char *tls_cert, *tls_key; /* PEM text when serving HTTPS (tls.c) */
    struct firn_status *status; /* the rate sampler (status.c) */
    char **tokens; /* write (ingest, catalog writes) and read rights */
    size_t ntokens;
    char **read_tokens; /* read rights only */
    size_t nread_tokens;
    /* the Iceberg REST catalog at /iceberg (rest.c): its own catalog handle,
     * opened on first use; the rest server serializes requests on it */
    pthread_mutex_t rest_mu;
    struct firn_catalog *rest_cat;
    struct firn_rest_server *rest;
    FILE *iceberg_log; /* JSON line per /iceberg exchange, or NULL */
    /* rate limit: token buckets per client address */
    pthread_mutex_t rate_mu;
    struct rate_bucket *buckets;
    size_t nbuckets;
    firn_dedupe *dedupe;
    int32_t raw_partitions;
    int64_t started_us;
};

/* Reply helpers (server.c). */
void firn_reply_json(firn_reply *r, int status, json_t *j); /* takes the reference */
void firn_reply_error(firn_reply *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void firn_reply_text(firn_reply *r, int status, const char *content_type, const void *p, size_t n);
/* A query argument (decoded) or NULL. */
const char *firn_request_arg(const firn_request *q, const char *name);
const char *firn_request_header(const firn_request *q, const char *name);

/* api.c: GET /api/v1/... (path after "/api/v1"). */
void firn_api_handle(firn_server *s, const firn_request *q, const char *path, firn_reply *r);
/* api.c: the catalog opens and lists namespaces (for /readyz). */
int firn_api_check_catalog(firn_server *s, firn_error *err);
/* api.c: table-derived series for /metrics (row counts, snapshots, freshness). */
void firn_api_table_metrics(firn_server *s, firn_buf *out);

/* ingest.c */
int firn_dedupe_open(firn_server *s, firn_error *err);
void firn_dedupe_close(firn_dedupe *d);
void firn_ingest_handle(firn_server *s, const firn_request *q, firn_reply *r);

/* api.c: every table of the catalog as "ns.name" (allocated in a). */
int firn_api_all_tables(struct firn_catalog *cat, firn_arena *a, const char ***names, size_t *n,
                        firn_error *err);
/* api.c: firn.commits' rows sorted by committed_at (committed_at_ms added), or
 * NULL (err unset when the table does not exist). */
json_t *firn_api_commits(struct firn_catalog *cat, firn_error *err);
/* api.c: open the configured catalog. */
int firn_api_open_catalog(firn_server *s, struct firn_catalog **cat, firn_error *err);

/* tls.c: read server.tls-cert and server.tls-key into s->tls_cert / tls_key
 * (nothing when neither is set); a clear error when one is missing, a file is
 * unreadable or not PEM, or libmicrohttpd lacks TLS. */
int firn_server_tls_load(firn_server *s, firn_error *err);

/* admin.c: POST /api/v1/admin/... (path after "/api/v1/admin"); the caller
 * checked the admin token. */
void firn_admin_handle(firn_server *s, const firn_request *q, const char *path, firn_reply *r);

/* status.c: GET /api/v1/pipeline; the sampler thread behind its rates. */
void firn_status_handle(firn_server *s, struct firn_catalog *cat, firn_reply *r);
int firn_status_start(firn_server *s, firn_error *err);
void firn_status_stop(firn_server *s);
/* rest.c: a request below /iceberg. path is the raw path below the mount
 * point (escapes kept), query the raw query string or NULL. */
void firn_iceberg_handle(firn_server *s, const firn_request *q, const char *path,
                         const char *query, firn_reply *r);
/* An error in the Iceberg REST error model ({"error":{"message","type","code"}}). */
void firn_iceberg_error(firn_reply *r, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* rest.c: free the REST catalog server and its catalog handle. */
void firn_iceberg_close(firn_server *s);

/* dashboard.c: the embedded file for a path ("/", "/app.js", ...), or -1. */
int firn_dashboard_file(const char *path, const void **data, size_t *len, const char **type);

#endif
