/* iceberg_mount.c - the Iceberg REST catalog (src/rest) mounted at /iceberg:
 * a catalog handle of the server's own, opened on first use, and the
 * exchange log (server options' iceberg_log). Auth, body limits and the
 * request log are server.c's, as for every route. */
#include "catalog/catalog.h"
#include "rest/rest.h"
#include "server/server_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void firn_iceberg_error(firn_reply *r, int status, const char *type, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *m = json_string(msg);
    if (!m) m = json_string("(message is not UTF-8)");
    firn_reply_json(r, status,
                    json_pack("{s:{s:o, s:s, s:i}}", "error", "message", m, "type", type, "code",
                              status));
}

/* The REST server over the server's own catalog handle; NULL (err filled)
 * when the catalog cannot be opened now (the next request tries again). */
static firn_rest_server *rest_server(firn_server *s, firn_error *err) {
    pthread_mutex_lock(&s->rest_mu);
    if (!s->rest) {
        firn_cat_config cc = {.warehouse = s->cfg->warehouse};
        firn_catalog *cat = NULL;
        firn_rest_server_config rc = {.warehouse = s->cfg->warehouse, .prefix = NULL};
        if (firn_cat_open(s->cfg->catalog_uri, &cc, &cat, err)) {
            firn_error_context(err, "catalog %s", s->cfg->catalog_uri);
        } else if (firn_rest_server_new(cat, &rc, &s->rest, err)) {
            firn_cat_free(cat);
        } else {
            s->rest_cat = cat;
        }
    }
    firn_rest_server *r = s->rest;
    pthread_mutex_unlock(&s->rest_mu);
    return r;
}

void firn_iceberg_close(firn_server *s) {
    firn_rest_server_free(s->rest);
    firn_cat_free(s->rest_cat);
    s->rest = NULL;
    s->rest_cat = NULL;
}

void firn_iceberg_handle(firn_server *s, const firn_request *q, const char *path,
                         const char *query, firn_reply *r) {
    firn_error err;
    firn_error_init(&err);
    firn_rest_server *rs = rest_server(s, &err);
    if (!rs) {
        char buf[512];
        firn_iceberg_error(r, 503, "ServiceUnavailableException", "catalog unavailable: %s",
                           firn_error_format(&err, buf, sizeof buf));
        firn_error_release(&err);
        return;
    }
    firn_rest_response resp;
    if (firn_rest_handle(rs, q->method, *path ? path : "/", query, q->body, q->body_len, &resp)) {
        firn_rest_response_release(&resp);
        firn_iceberg_error(r, 500, "InternalServerError", "out of memory");
        return;
    }
    r->status = resp.status;
    r->content_type = resp.content_type ? resp.content_type : "application/json";
    firn_buf_clear(&r->body);
    if (resp.body && resp.len) firn_buf_append(&r->body, resp.body, resp.len);
    r->cache_control = "no-store";
    firn_rest_response_release(&resp);
}
