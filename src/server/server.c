/* server.c - the HTTP core: libmicrohttpd daemon, routing, bearer-token auth,
 * body limits, per-client rate limits, request log and metrics, probes. */
#include "server/server_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ------------------------------------------------------------ replies */

void firn_reply_json(firn_reply *r, int status, json_t *j) {
    r->status = status;
    r->content_type = "application/json";
    firn_buf_clear(&r->body);
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(j);
    if (text) {
        firn_buf_append_str(&r->body, text);
        free(text);
    }
    firn_buf_append_str(&r->body, "\n");
}

void firn_reply_error(firn_reply *r, int status, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *j = json_object();
    json_t *text = json_string(msg); /* NULL when msg is not UTF-8 */
    json_object_set_new(j, "error", text ? text : json_string("(bad text)"));
    json_object_set_new(j, "status", json_integer(status));
    firn_reply_json(r, status, j);
}

void firn_reply_text(firn_reply *r, int status, const char *content_type, const void *p,
                     size_t n) {
    r->status = status;
    r->content_type = content_type;
    firn_buf_clear(&r->body);
    firn_buf_append(&r->body, p, n);
}

const char *firn_request_arg(const firn_request *q, const char *name) {
    return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *firn_request_header(const firn_request *q, const char *name) {
    return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, name);
}

/* ------------------------------------------------------------ per connection */

typedef struct conn_state {
    bool started; /* the access handler saw this request's headers */
    char *raw;    /* the request target as sent (escapes kept), with its query */
    bool iceberg; /* below /iceberg: the Iceberg REST catalog */
    uint64_t start_ns;
    firn_buf body;
    bool too_large;
    bool answered; /* a response was queued before the body was read */
    int status;
    size_t resp_bytes;
    char client[64];
    char method[16];
    char *url;
} conn_state;

/* ------------------------------------------------------------ auth */

/* Constant time in the candidate's length against every token of the list. */
static bool token_ok(char *const *tokens, size_t ntokens, const char *given) {
    if (!given) return false;
    size_t glen = strlen(given);
    bool ok = false;
    for (size_t i = 0; i < ntokens; i++) {
        const char *t = tokens[i];
        size_t tlen = strlen(t);
        unsigned diff = (unsigned)(tlen ^ glen);
        for (size_t k = 0; k < glen; k++) diff |= (unsigned char)given[k] ^ (unsigned char)t[k < tlen ? k : 0];
        ok |= diff == 0 && tlen > 0;
    }
    return ok;
}

/* What a request may do: nothing, read, write (and read), or administer
 * (and write and read). */
enum { ACCESS_NONE, ACCESS_READ, ACCESS_WRITE, ACCESS_ADMIN };

/* Tokens for ingest and reads are configured (admin tokens alone leave them
 * open: they only guard the admin routes). */
static bool any_token(const firn_server *s) { return s->ntokens + s->nread_tokens > 0; }

/* The rights of the request's bearer token. Every list is compared, whatever
 * an earlier one says (constant time). */
static int access_of(const firn_server *s, struct MHD_Connection *c) {
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return ACCESS_NONE;
    h += 7;
    while (*h == ' ') h++;
    bool a = token_ok(s->admin_tokens, s->nadmin, h);
    bool w = token_ok(s->tokens, s->ntokens, h);
    bool rd = token_ok(s->read_tokens, s->nread_tokens, h);
    return a ? ACCESS_ADMIN : w ? ACCESS_WRITE : rd ? ACCESS_READ : ACCESS_NONE;
}

static void add_tokens(char ***tokens, size_t *ntokens, const char *list) {
    if (!list) return;
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > p && t[-1] == ' ') t--;
        if (t > p) {
            *tokens = firn_xrealloc(*tokens, (*ntokens + 1) * sizeof **tokens);
            (*tokens)[*ntokens] = firn_xmalloc((size_t)(t - p) + 1);
            memcpy((*tokens)[*ntokens], p, (size_t)(t - p));
            (*tokens)[*ntokens][t - p] = 0;
            (*ntokens)++;
        }
        p = e;
    }
}

/* ------------------------------------------------------------ rate limit */

struct rate_bucket {
    char client[64];
    double tokens;
    int64_t last_us;
};

/* True when the client may send one more request now. */
static bool rate_take(firn_server *s, const char *client) {
    if (s->cfg->server_rate_limit <= 0) return true;
    double rate = s->cfg->server_rate_limit, burst = (double)s->cfg->server_rate_burst;
    int64_t now = firn_now_us();
    uint64_t h = firn_xxh64(client, strlen(client), 0);
    pthread_mutex_lock(&s->rate_mu);
    struct rate_bucket *b = &s->buckets[h % s->nbuckets];
    if (strcmp(b->client, client) != 0) { /* a new client (or a collision: start it full) */
        snprintf(b->client, sizeof b->client, "%s", client);
        b->tokens = burst;
        b->last_us = now;
    }
    b->tokens = fmin(burst, b->tokens + rate * (double)(now - b->last_us) / 1e6);
    b->last_us = now;
    bool ok = b->tokens >= 1;
    if (ok) b->tokens -= 1;
    pthread_mutex_unlock(&s->rate_mu);
    return ok;
}

/* ------------------------------------------------------------ routing */

static void handle_metrics(firn_server *s, firn_reply *r) {
    firn_buf_clear(&r->body);
    firn_metrics_gauge_set("firn_server_uptime_seconds", NULL,
                           (double)(firn_now_us() - s->started_us) / 1e6);
    firn_api_table_metrics(s, &r->body);
    firn_metrics_write(&r->body);
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static void handle_readyz(firn_server *s, firn_reply *r) {
    firn_error err;
    firn_error_init(&err);
    if (firn_api_check_catalog(s, &err)) {
        char buf[512];
        firn_reply_error(r, 503, "catalog: %s", firn_error_format(&err, buf, sizeof buf));
        firn_error_release(&err);
        return;
    }
    int32_t n = 0;
    int rc = firn_stream_partitions(s->stream, s->cfg->stream_raw_topic, &n, &err);
    if (rc) {
        char buf[512];
        firn_reply_error(r, 503, "stream: %s", firn_error_format(&err, buf, sizeof buf));
        firn_error_release(&err);
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "status", json_string("ready"));
    json_object_set_new(j, "stream", json_string(firn_stream_kind(s->stream)));
    json_object_set_new(j, "raw_partitions", json_integer(n));
    firn_reply_json(r, 200, j);
}

static bool is_admin_path(const char *url) {
    return !strncmp(url, "/api/v1/admin", 13) && (url[13] == 0 || url[13] == '/');
}

/* An Iceberg catalog request that changes nothing: GET, HEAD, and the
 * metrics report a reading client sends after a scan. path is below /iceberg. */
static bool iceberg_read(const char *method, const char *path) {
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) return true;
    size_t n = strlen(path);
    return !strcmp(method, "POST") && n > 8 && !strcmp(path + n - 8, "/metrics") &&
           strstr(path, "/tables/") != NULL;
}

/* The rights a route needs: admin routes an admin token, always; ingest and
 * the catalog's writes need write rights
 * (when tokens exist), the API, /metrics and the catalog's reads read rights
 * with server.read-auth; probes and the dashboard's files never a token.
 * iceberg_path: the path below /iceberg for catalog requests, else NULL. */
static int access_needed(const firn_server *s, const char *method, const char *url,
                         const char *iceberg_path) {
    if (!iceberg_path && is_admin_path(url)) return ACCESS_ADMIN; /* always */
    if (!any_token(s)) return ACCESS_NONE;
    bool ra = s->cfg->server_read_auth;
    if (iceberg_path)
        return iceberg_read(method, iceberg_path) ? (ra ? ACCESS_READ : ACCESS_NONE) : ACCESS_WRITE;
    if (!strcmp(url, "/healthz") || !strcmp(url, "/readyz")) return ACCESS_NONE;
    if (!strcmp(url, "/v1/events")) return ACCESS_WRITE;
    if (!strncmp(url, "/api/", 5) || !strcmp(url, "/metrics")) return ra ? ACCESS_READ : ACCESS_NONE;
    return ACCESS_NONE;
}

/* The raw path below /iceberg of st->raw ("" for "/iceberg"), and the raw
 * query (NULL when none), in buf (which must hold strlen(st->raw) + 2). */
static void iceberg_split(const conn_state *st, char *buf, const char **path, const char **query) {
    strcpy(buf, st->raw + 8);
    char *qm = strchr(buf, '?');
    *query = NULL;
    if (qm) {
        *qm = 0;
        *query = qm + 1;
    }
    *path = buf;
}

static void route(firn_server *s, const conn_state *st, const firn_request *q, firn_reply *r) {
    const char *url = q->url;
    if (st->iceberg) {
        char *buf = firn_xmalloc(strlen(st->raw) + 2);
        const char *path, *query;
        iceberg_split(st, buf, &path, &query);
        firn_iceberg_handle(s, q, path, query, r);
        free(buf);
        return;
    }
    bool get = !strcmp(q->method, "GET") || !strcmp(q->method, "HEAD");
    if (!strcmp(url, "/v1/events")) {
        if (strcmp(q->method, "POST")) return firn_reply_error(r, 405, "/v1/events takes POST");
        return firn_ingest_handle(s, q, r);
    }
    if (is_admin_path(url)) {
        if (strcmp(q->method, "POST")) return firn_reply_error(r, 405, "%s takes POST", url);
        return firn_admin_handle(s, q, url + 13, r);
    }
    if (!get) return firn_reply_error(r, 405, "%s takes GET", url);
    if (!strcmp(url, "/healthz")) return firn_reply_text(r, 200, "text/plain", "ok\n", 3);
    if (!strcmp(url, "/readyz")) return handle_readyz(s, r);
    if (!strcmp(url, "/metrics")) return handle_metrics(s, r);
    if (!strncmp(url, "/api/v1/", 8) || !strcmp(url, "/api/v1"))
        return firn_api_handle(s, q, url + 7, r);
    const void *data;
    size_t len;
    const char *type;
    if (firn_dashboard_file(url, &data, &len, &type) == 0) {
        firn_reply_text(r, 200, type, data, len);
        r->cache_control = "no-cache";
        return;
    }
    firn_reply_error(r, 404, "no such path: %s", url);
}

/* One JSON line per catalog exchange (for validating answers against the
 * OpenAPI document): method, path below /iceberg with its query, status, body. */
static void log_iceberg(firn_server *s, const conn_state *st, int status, const uint8_t *body,
                        size_t len) {
    json_t *b = len ? json_loadb((const char *)body, len, 0, NULL) : NULL;
    json_t *path = json_string(st->raw + 8);
    json_t *j = json_pack("{s:s, s:o, s:i, s:o}", "method", st->method,
                          "path", path ? path : json_string("(not UTF-8)"), "status", status,
                          "body", b ? b : json_null());
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) return;
    pthread_mutex_lock(&s->log_mu);
    fprintf(s->iceberg_log, "%s\n", text);
    fflush(s->iceberg_log);
    pthread_mutex_unlock(&s->log_mu);
    free(text);
}

static enum MHD_Result send_reply(firn_server *s, struct MHD_Connection *c, conn_state *st,
                                  firn_reply *r) {
    size_t len;
    uint8_t *data = firn_buf_steal(&r->body, &len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, data ? data : (void *)"", data ? MHD_RESPMEM_MUST_FREE
                                                                            : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", r->content_type ? r->content_type : "text/plain");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->cache_control) MHD_add_response_header(resp, "Cache-Control", r->cache_control);
    if (r->retry_after) MHD_add_response_header(resp, "Retry-After", r->retry_after);
    if (r->status == 401) MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"firn\"");
    st->status = r->status;
    st->resp_bytes = len;
    if (st->iceberg && s->iceberg_log) log_iceberg(s, st, r->status, data, len);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static bool bad_path(const char *url) {
    if (url[0] != '/') return true;
    for (const char *p = url; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7f || ch == '\\') return true;
    }
    /* no ".." segment anywhere (nothing maps URLs to files, but say no early) */
    for (const char *p = url; (p = strstr(p, "..")); p += 2)
        if ((p == url || p[-1] == '/') && (p[2] == 0 || p[2] == '/')) return true;
    return false;
}

/* An error answer: in the Iceberg error model below /iceberg, firn's elsewhere. */
static void reply_error(const conn_state *st, firn_reply *r, int status, const char *type,
                        const char *msg) {
    if (st->iceberg) firn_iceberg_error(r, status, type, "%s", msg);
    else firn_reply_error(r, status, "%s", msg);
}

static int64_t body_limit(const firn_server *s, const conn_state *st) {
    return st->iceberg ? s->cfg->server_iceberg_max_body : s->cfg->server_max_body;
}

static const char *body_limit_key(const conn_state *st) {
    return st->iceberg ? "server.iceberg-max-body" : "server.max-body";
}

static conn_state *conn_state_new(const char *raw) {
    conn_state *st = firn_xcalloc(1, sizeof *st);
    st->raw = firn_xstrdup(raw ? raw : "");
    firn_buf_init(&st->body);
    return st;
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request target as sent, before MHD
 * decodes it; the Iceberg catalog needs its escapes (%1F between namespace
 * levels, %2F inside a name). Its return value is the request's *con_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
    (void)cls;
    (void)c;
    return conn_state_new(uri);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls) {
    (void)version;
    firn_server *s = cls;
    conn_state *st = *con_cls;
    if (!st) *con_cls = st = conn_state_new(url);
    if (!st->started) { /* first call: headers are in */
        st->started = true;
        st->start_ns = firn_now_ns();
        snprintf(st->method, sizeof st->method, "%s", method);
        st->url = firn_xstrdup(url);
        st->iceberg = !strncmp(st->raw, "/iceberg", 8) &&
                      (st->raw[8] == 0 || st->raw[8] == '/' || st->raw[8] == '?');
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        snprintf(st->client, sizeof st->client, "?");
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                          st->client, sizeof st->client);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                          st->client, sizeof st->client);
        }
        firn_reply r = {0};
        firn_buf_init(&r.body);
        char msg[900];
        /* below /iceberg the raw path is checked (the catalog decodes its
         * segments itself and a decoded %1F is a control character) */
        char *ipath = NULL;
        const char *iquery = NULL, *checked = url;
        if (st->iceberg) {
            ipath = firn_xmalloc(strlen(st->raw) + 2);
            iceberg_split(st, ipath, &checked, &iquery);
            if (!*checked) checked = "/";
        }
        int need = access_needed(s, method, url, st->iceberg ? checked : NULL);
        int have = need == ACCESS_NONE ? ACCESS_NONE : access_of(s, c);
        if (bad_path(checked)) {
            reply_error(st, &r, 400, "BadRequestException", "bad path");
        } else if (!rate_take(s, st->client)) {
            snprintf(msg, sizeof msg, "rate limit: over %g requests/s from %s",
                     s->cfg->server_rate_limit, st->client);
            reply_error(st, &r, 429, "TooManyRequestsException", msg);
            r.retry_after = "1";
        } else if (need == ACCESS_ADMIN && s->nadmin == 0) {
            snprintf(msg, sizeof msg, "%.300s: the admin endpoints are off (no server.admin-tokens)", url);
            reply_error(st, &r, 403, "ForbiddenException", msg);
        } else if (have < need && have == ACCESS_NONE) {
            snprintf(msg, sizeof msg, "%s %.300s%.300s needs a bearer token (Authorization: "
                     "Bearer ...)", method, st->iceberg ? "/iceberg" : url,
                     st->iceberg ? checked : "");
            reply_error(st, &r, 401, "NotAuthorizedException", msg);
        } else if (have < need && need == ACCESS_ADMIN) {
            snprintf(msg, sizeof msg, "%.300s needs an admin token (server.admin-tokens)", url);
            reply_error(st, &r, 403, "ForbiddenException", msg);
        } else if (have < need) {
            snprintf(msg, sizeof msg, "%s %.300s%.300s needs a token with write rights; this one "
                     "may only read", method, st->iceberg ? "/iceberg" : url,
                     st->iceberg ? checked : "");
            reply_error(st, &r, 403, "ForbiddenException", msg);
        } else {
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
            unsigned long long n = cl ? strtoull(cl, NULL, 10) : 0;
            if (n > (unsigned long long)body_limit(s, st)) {
                snprintf(msg, sizeof msg, "body of %s bytes is over %s (%lld)", cl,
                         body_limit_key(st), (long long)body_limit(s, st));
                reply_error(st, &r, 413, "BadRequestException", msg);
            } else if (n) {
                firn_buf_reserve(&st->body, (size_t)n); /* one allocation for the body */
            }
        }
        free(ipath);
        if (r.status) {
            st->answered = true;
            enum MHD_Result ok = send_reply(s, c, st, &r);
            firn_buf_release(&r.body);
            return ok;
        }
        firn_buf_release(&r.body);
        return MHD_YES;
    }
    if (*upload_size) {
        if (!st->answered && !st->too_large) {
            if (st->body.len + *upload_size > (uint64_t)body_limit(s, st)) {
                st->too_large = true;
                firn_buf_release(&st->body);
                firn_buf_init(&st->body);
            } else {
                firn_buf_append(&st->body, upload_data, *upload_size);
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (st->answered) return MHD_YES;
    firn_reply r = {0};
    firn_buf_init(&r.body);
    if (st->too_large) {
        char msg[256];
        snprintf(msg, sizeof msg, "body over %s (%lld bytes)", body_limit_key(st),
                 (long long)body_limit(s, st));
        reply_error(st, &r, 413, "BadRequestException", msg);
    } else {
        firn_request q = {c, method, st->url, st->body.data, st->body.len, st->client};
        route(s, st, &q, &r);
    }
    st->answered = true;
    enum MHD_Result ok = send_reply(s, c, st, &r);
    firn_buf_release(&r.body);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)c;
    firn_server *s = cls;
    conn_state *st = *con_cls;
    if (!st) return;
    if (!st->started) { /* the request line came, the headers never did */
        free(st->raw);
        firn_buf_release(&st->body);
        free(st);
        *con_cls = NULL;
        return;
    }
    double secs = (double)(firn_now_ns() - st->start_ns) / 1e9;
    int status = st->status ? st->status : 0;
    char labels[96];
    snprintf(labels, sizeof labels, "code=\"%d\"", status);
    firn_metrics_counter_add("firn_http_requests_total", labels, 1);
    firn_metrics_histogram_observe("firn_http_request_duration_seconds", NULL, secs);
    if (st->iceberg) {
        snprintf(labels, sizeof labels, "method=\"%s\",code=\"%d\"", st->method, status);
        firn_metrics_counter_add("firn_iceberg_requests_total", labels, 1);
    }
    if (!s->no_log) {
        pthread_mutex_lock(&s->log_mu);
        /* catalog paths as sent (escapes kept: %1F between namespace levels) */
        const char *shown = st->iceberg ? st->raw : st->url ? st->url : "?";
        int shown_len = (int)(st->iceberg ? strcspn(shown, "?") : strlen(shown));
        fprintf(s->log, "firn serve: %s %s %.*s %d %zuB %.3fms%s\n", st->client, st->method,
                shown_len, shown, status, st->resp_bytes, secs * 1e3,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection ended early)");
        fflush(s->log);
        pthread_mutex_unlock(&s->log_mu);
    }
    firn_buf_release(&st->body);
    free(st->url);
    free(st->raw);
    free(st);
    *con_cls = NULL;
}

/* ------------------------------------------------------------ start / stop */

void firn_server_options_init(firn_server_options *o) { memset(o, 0, sizeof *o); }

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
                        bool *v6, firn_error *err) {
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "listen address '%s': want HOST:PORT", listen);
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host) return FIRN_RAISE(err, FIRN_ERR_INVALID, "listen address too long");
    memcpy(host, listen, hl);
    host[hl] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "listen address '%s': bad port", listen);
    memset(ss, 0, sizeof *ss);
    char *h = host;
    if (h[0] == '[' && hl > 2 && h[hl - 1] == ']') {
        h[hl - 1] = 0;
        h++;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (!strcmp(h, "localhost")) h = "127.0.0.1";
    if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
        *v6 = false;
    } else if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        *v6 = true;
    } else {
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "listen address '%s': host must be an IPv4 or IPv6 address", listen);
    }
    return 0;
}

static void describe_metrics(void) {
    firn_metrics_describe("firn_http_requests_total", FIRN_METRIC_COUNTER,
                          "HTTP requests answered, by status code", NULL, 0);
    firn_metrics_describe("firn_http_request_duration_seconds", FIRN_METRIC_HISTOGRAM,
                          "Time from a request's headers to its completion", NULL, 0);
    firn_metrics_describe("firn_ingest_events_total", FIRN_METRIC_COUNTER,
                          "Events received over HTTP, by result (accepted, duplicate)", NULL, 0);
    firn_metrics_describe("firn_ingest_requests_total", FIRN_METRIC_COUNTER,
                          "Ingest requests, by result (accepted, unparseable, too-large, "
                          "append-failed)", NULL, 0);
    firn_metrics_describe("firn_ingest_bytes_total", FIRN_METRIC_COUNTER,
                          "Bytes of events (value plus image) appended by HTTP ingest", NULL, 0);
    firn_metrics_describe("firn_ingest_append_seconds", FIRN_METRIC_HISTOGRAM,
                          "Time of one ingest request's durable append", NULL, 0);
    firn_metrics_describe("firn_iceberg_requests_total", FIRN_METRIC_COUNTER,
                          "Iceberg REST catalog requests (/iceberg), by method and status code",
                          NULL, 0);
    firn_metrics_describe("firn_server_uptime_seconds", FIRN_METRIC_GAUGE,
                          "Seconds since the server started", NULL, 0);
}

int firn_server_start(const firn_server_options *o, firn_server **out, firn_error *err) {
    *out = NULL;
    const firn_config *cfg = o->cfg;
    firn_server *s = firn_xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->log = o->log ? o->log : stderr;
    s->no_log = o->no_log;
    s->started_us = firn_now_us();
    pthread_mutex_init(&s->log_mu, NULL);
    pthread_mutex_init(&s->rate_mu, NULL);
    s->nbuckets = 4096;
    s->buckets = firn_xcalloc(s->nbuckets, sizeof *s->buckets);
    add_tokens(&s->tokens, &s->ntokens, cfg->server_tokens);
    add_tokens(&s->tokens, &s->ntokens, getenv("FIRN_SERVER_TOKENS"));
    add_tokens(&s->admin_tokens, &s->nadmin, cfg->server_admin_tokens);
    add_tokens(&s->admin_tokens, &s->nadmin, getenv("FIRN_SERVER_ADMIN_TOKENS"));
    if (firn_server_tls_load(s, err)) goto fail;
    add_tokens(&s->read_tokens, &s->nread_tokens, cfg->server_read_tokens);
    add_tokens(&s->read_tokens, &s->nread_tokens, getenv("FIRN_SERVER_READ_TOKENS"));
    pthread_mutex_init(&s->rest_mu, NULL);
    s->iceberg_log = o->iceberg_log;
    describe_metrics();
    const char *listen = o->listen ? o->listen : cfg->server_listen;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    bool v6 = false;
    if (parse_listen(listen, &ss, &sslen, &v6, err)) goto fail;
    if (o->stream) {
        s->stream = o->stream;
    } else {
        firn_stream_options so;
        firn_stream_options_init(&so);
        so.fsync = (firn_fsync_policy)cfg->stream_fsync;
        so.segment_bytes = (uint64_t)cfg->stream_segment_bytes;
        so.retention_bytes = (uint64_t)cfg->stream_retention_bytes;
        so.retention_ms = cfg->stream_retention_us / 1000;
        so.max_record_bytes = (uint64_t)cfg->max_event_bytes;
        so.kafka_conf = (const char *const *)cfg->kafka_conf;
        if (firn_stream_open(cfg->stream_uri, &so, &s->stream, err)) {
            firn_error_context(err, "stream %s", cfg->stream_uri);
            goto fail;
        }
        s->own_stream = true;
    }
    if (firn_stream_partitions(s->stream, cfg->stream_raw_topic, &s->raw_partitions, err)) {
        if (err->kind != FIRN_ERR_NOT_FOUND) goto fail;
        firn_error_release(err);
        firn_error_init(err);
        if (firn_stream_create_topic(s->stream, cfg->stream_raw_topic,
                                     (int32_t)cfg->stream_partitions, err))
            goto fail;
        s->raw_partitions = (int32_t)cfg->stream_partitions;
    }
    if (firn_dedupe_open(s, err)) goto fail;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0) | (s->tls_cert ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls[] = {{MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key},
                                   {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert},
                                   {MHD_OPTION_END, 0, NULL}};
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)60, MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->server_max_connections,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_ARRAY,
        s->tls_cert ? tls : tls + 2, MHD_OPTION_END);
    if (!s->daemon) {
        if (s->tls_cert)
            FIRN_RAISE(err, FIRN_ERR_IO, "cannot listen on %s with TLS: %s (is server.tls-key the "
                       "unencrypted key of server.tls-cert?)", listen, strerror(errno));
        else
            FIRN_RAISE(err, FIRN_ERR_IO, "cannot listen on %s: %s", listen, strerror(errno));
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    if (firn_status_start(s, err)) goto fail;
    *out = s;
    return 0;
fail:
    firn_server_stop(s);
    return -1;
}

int firn_server_port(const firn_server *s) { return s->port; }

void firn_server_stop(firn_server *s) {
    if (!s) return;
    if (s->daemon) MHD_stop_daemon(s->daemon);
    firn_status_stop(s);
    firn_iceberg_close(s);
    firn_dedupe_close(s->dedupe);
    if (s->own_stream) firn_stream_close(s->stream);
    for (size_t i = 0; i < s->ntokens; i++) free(s->tokens[i]);
    free(s->tokens);
    for (size_t i = 0; i < s->nadmin; i++) free(s->admin_tokens[i]);
    free(s->admin_tokens);
    free(s->tls_cert);
    free(s->tls_key);
    for (size_t i = 0; i < s->nread_tokens; i++) free(s->read_tokens[i]);
    free(s->read_tokens);
    pthread_mutex_destroy(&s->rest_mu);
    free(s->buckets);
    pthread_mutex_destroy(&s->log_mu);
    pthread_mutex_destroy(&s->rate_mu);
    free(s);
}
