/*
 * rest_server - firn's Iceberg REST catalog (src/rest/rest.h) on libmicrohttpd,
 * standalone, for rest.test.sh: `firn serve` mounts the same handler at
 * /iceberg (serve_rest.test.sh), but has no --prefix, --no-transactions or
 * OAuth2 token endpoint, which rest.test.sh needs for the client's checks:
 *
 *   build/tools/rest_server --catalog sqlite:W/catalog.db --warehouse W
 *       [--port N] [--port-file F] [--log F] [--no-transactions] [--transactions-404]
 *       [--token T] [--oauth CLIENT_ID:SECRET] [--prefix P]
 *
 * Serves the catalog at http://127.0.0.1:PORT/iceberg (port 0 or absent: a
 * free port, written to --port-file and printed as "listening on PORT").
 *   --log F            one JSON line per request: method, path (below
 *                      /iceberg, with its query), status, response body
 *                      (for validating responses against the OpenAPI document)
 *   --no-transactions  the server does not offer transactions/commit: left out
 *                      of the config's "endpoints", answered 406
 *   --transactions-404 POST /v1/transactions/commit answers 404 although the
 *                      config announces it (a server that lacks the optional
 *                      endpoint and says nothing: clients must fall back)
 *   --token T          every /iceberg request must carry "Authorization: Bearer T"
 *   --oauth ID:SECRET  POST /oauth/tokens grants T to the client credentials
 *                      (grant_type=client_credentials, form body), as an
 *                      external OAuth2 server at oauth2-server-uri would
 *   --prefix P         announce P as the "prefix" override (/v1/P/namespaces...)
 * Runs until SIGINT or SIGTERM.
 */
#include "catalog/catalog.h"
#include "rest/rest.h"

#include <jansson.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static firn_rest_server *g_server;
static FILE *g_log;
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_no_tx, g_tx_404;
static const char *g_token;
static const char *g_oauth;
static volatile sig_atomic_t g_stop;

typedef struct request {
    firn_buf body;
} request;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static enum MHD_Result send_response(struct MHD_Connection *c, int status, const char *body, size_t len,
                            const char *ctype) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (ctype) MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *type,
                                  const char *msg) {
    json_t *j = json_pack("{s:{s:s, s:s, s:i}}", "error", "message", msg, "type", type, "code",
                          status);
    char *s = json_dumps(j, JSON_COMPACT);
    enum MHD_Result ret = send_response(c, status, s, strlen(s), "application/json");
    free(s);
    json_decref(j);
    return ret;
}

typedef struct query_acc {
    firn_buf q;
} query_acc;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
    (void)kind;
    query_acc *qa = cls;
    /* re-encode: the handler decodes escapes itself */
    if (qa->q.len) firn_buf_put_u8(&qa->q, '&');
    firn_buf_append_str(&qa->q, key);
    if (value) {
        firn_buf_put_u8(&qa->q, '=');
        for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '-' || *p == '_' || *p == '.' || *p == '~')
                firn_buf_put_u8(&qa->q, *p);
            else
                firn_buf_appendf(&qa->q, "%%%02X", *p);
        }
    }
    return MHD_YES;
}

static void log_exchange(const char *method, const char *path, const char *query, int status,
                         const char *body, size_t len) {
    if (!g_log) return;
    json_t *resp = NULL;
    if (body && len) resp = json_loadb(body, len, 0, NULL);
    char *full = NULL;
    if (query && *query) {
        full = malloc(strlen(path) + strlen(query) + 2);
        sprintf(full, "%s?%s", path, query);
    }
    json_t *j = json_pack("{s:s, s:s, s:i, s:o}", "method", method, "path", full ? full : path,
                          "status", status, "body", resp ? resp : json_null());
    char *s = json_dumps(j, JSON_COMPACT);
    pthread_mutex_lock(&g_log_mu);
    fprintf(g_log, "%s\n", s);
    fflush(g_log);
    pthread_mutex_unlock(&g_log_mu);
    free(s);
    free(full);
    json_decref(j);
}

static enum MHD_Result oauth_tokens(struct MHD_Connection *c, const firn_buf *body) {
    /* form body: grant_type=client_credentials&client_id=..&client_secret=..&scope=.. */
    char *form = firn_xmalloc(body->len + 1);
    memcpy(form, body->data, body->len);
    form[body->len] = 0;
    char id[256] = "", secret[256] = "", grant[64] = "";
    for (char *save = NULL, *kv = strtok_r(form, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) continue;
        *eq = 0;
        if (strcmp(kv, "client_id") == 0) snprintf(id, sizeof id, "%s", eq + 1);
        if (strcmp(kv, "client_secret") == 0) snprintf(secret, sizeof secret, "%s", eq + 1);
        if (strcmp(kv, "grant_type") == 0) snprintf(grant, sizeof grant, "%s", eq + 1);
    }
    free(form);
    char want[520];
    snprintf(want, sizeof want, "%s:%s", id, secret);
    if (strcmp(grant, "client_credentials") != 0) {
        const char *e = "{\"error\":\"unsupported_grant_type\"}";
        return send_response(c, 400, e, strlen(e), "application/json");
    }
    if (strcmp(want, g_oauth) != 0) {
        const char *e = "{\"error\":\"invalid_client\"}";
        return send_response(c, 401, e, strlen(e), "application/json");
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:i}", "access_token", g_token, "token_type", "bearer",
                          "issued_token_type", "urn:ietf:params:oauth:token-type:access_token",
                          "expires_in", 3600);
    char *s = json_dumps(j, JSON_COMPACT);
    enum MHD_Result ret = send_response(c, 200, s, strlen(s), "application/json");
    free(s);
    json_decref(j);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls) {
    (void)cls;
    (void)version;
    request *rq = *con_cls;
    if (!rq) {
        rq = firn_xcalloc(1, sizeof *rq);
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        firn_buf_append(&rq->body, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (g_oauth && strcmp(url, "/oauth/tokens") == 0 && strcmp(method, "POST") == 0)
        return oauth_tokens(c, &rq->body);
    if (strncmp(url, "/iceberg/", 9) != 0)
        return send_error(c, 404, "NotFoundException", "the catalog is at /iceberg/v1/...");
    const char *path = url + 8;
    if (g_token) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        char want[512];
        snprintf(want, sizeof want, "Bearer %s", g_token);
        if (!auth || strcmp(auth, want) != 0) {
            const char *e = "{\"error\":{\"message\":\"missing or wrong bearer token\","
                            "\"type\":\"NotAuthorizedException\",\"code\":401}}";
            log_exchange(method, path, NULL, 401, e, strlen(e));
            return send_response(c, 401, e, strlen(e), "application/json");
        }
    }
    query_acc qa = {0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &qa);
    const char *query = qa.q.len ? firn_buf_cstr(&qa.q) : NULL;
    firn_rest_response r;
    if (g_tx_404 && strstr(path, "/transactions/commit")) {
        const char *e = "{\"error\":{\"message\":\"transactions are not supported\","
                        "\"type\":\"NotFoundException\",\"code\":404}}";
        r.status = 404;
        r.body = firn_xstrdup(e);
        r.len = strlen(e);
        r.content_type = "application/json";
    } else {
        firn_rest_handle(g_server, method, path, query, rq->body.data, rq->body.len, &r);
    }
    log_exchange(method, path, query, r.status, r.body, r.len);
    enum MHD_Result ret = send_response(c, r.status, r.body, r.len, r.content_type);
    firn_rest_response_release(&r);
    firn_buf_release(&qa.q);
    return ret;
}

static void on_complete(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    request *rq = *con_cls;
    if (rq) {
        firn_buf_release(&rq->body);
        free(rq);
    }
    *con_cls = NULL;
}

int main(int argc, char **argv) {
    const char *catalog = NULL, *warehouse = NULL, *port_file = NULL, *log = NULL, *prefix = NULL;
    int port = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-transactions") == 0) {
            g_no_tx = 1;
            continue;
        }
        if (strcmp(a, "--transactions-404") == 0) {
            g_tx_404 = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "rest_server: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--catalog") == 0) catalog = v;
        else if (strcmp(a, "--warehouse") == 0) warehouse = v;
        else if (strcmp(a, "--port") == 0) port = atoi(v);
        else if (strcmp(a, "--port-file") == 0) port_file = v;
        else if (strcmp(a, "--log") == 0) log = v;
        else if (strcmp(a, "--token") == 0) g_token = v;
        else if (strcmp(a, "--oauth") == 0) g_oauth = v;
        else if (strcmp(a, "--prefix") == 0) prefix = v;
        else {
            fprintf(stderr, "rest_server: unknown option %s\n", a);
            return 2;
        }
    }
    if (!catalog) {
        fprintf(stderr, "usage: rest_server --catalog URI [--warehouse DIR] [--port N] ...\n");
        return 2;
    }
    if (g_oauth && !g_token) {
        fprintf(stderr, "rest_server: --oauth needs --token (the token it grants)\n");
        return 2;
    }
    firn_error err;
    firn_error_init(&err);
    firn_catalog *cat = NULL;
    firn_cat_config cfg = {.warehouse = warehouse};
    char buf[1024];
    if (firn_cat_open(catalog, &cfg, &cat, &err) ||
        firn_rest_server_new(cat, &(firn_rest_server_config){.warehouse = warehouse, .prefix = prefix,
                                                 .no_transactions = g_no_tx != 0}, &g_server,
                             &err)) {
        fprintf(stderr, "rest_server: %s\n", firn_error_format(&err, buf, sizeof buf));
        return 1;
    }
    if (log && !(g_log = fopen(log, "a"))) {
        perror(log);
        return 1;
    }
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(0x7f000001);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL,
        on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_complete, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "rest_server: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int bound = info ? info->port : port;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (port_file) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", bound) < 0 || fclose(f) != 0 || rename(tmp, port_file)) {
            perror(port_file);
            return 1;
        }
    }
    printf("listening on %d\n", bound);
    fflush(stdout);
    while (!g_stop) pause();
    MHD_stop_daemon(d);
    firn_rest_server_free(g_server);
    firn_cat_free(cat);
    if (g_log) fclose(g_log);
    return 0;
}
