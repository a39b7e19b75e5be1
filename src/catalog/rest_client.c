/*
 * rest_client.c - the catalog interface over an Iceberg REST catalog server
 * (apache/iceberg open-api/rest-catalog-open-api.yaml), on libcurl.
 *
 * Open: authenticate (a bearer token as given, or OAuth2 client credentials
 * exchanged at oauth2-server-uri), then GET <uri>/v1/config?warehouse=...:
 * "prefix" and "warehouse" from overrides (over the caller's warehouse, over
 * defaults), and the "endpoints" list: without it the spec's default set is
 * assumed, which includes POST /v1/{prefix}/transactions/commit.
 *
 * Mapping of the catalog operations:
 *   namespaces      GET/POST /namespaces, GET/HEAD/DELETE /namespaces/{ns},
 *                   POST /namespaces/{ns}/properties; listings follow
 *                   next-page-token
 *   create_table    POST /namespaces/{ns}/register with the first metadata
 *                   file firn wrote (firn_ice_table_create writes it itself)
 *   load_table      GET /namespaces/{ns}/tables/{t}: metadata-location (the
 *                   previous location is the last metadata-log entry)
 *   rename, drop    POST /tables/rename; DELETE (purgeRequested=false: the
 *                   files stay, as with the SQL catalog)
 *   commit_changes  one table: POST /namespaces/{ns}/tables/{t}; several:
 *                   POST /transactions/commit, all or none, then each table
 *                   is loaded for its new metadata location
 *   commit_tables   FIRN_ERR_UNSUPPORTED: a REST server writes metadata files
 *                   itself; table.c sends changes (firn_cat_takes_changes)
 *
 * Status codes: 404 -> FIRN_ERR_NOT_FOUND; 409 -> FIRN_ERR_CONFLICT
 * (retriable for CommitFailedException, not for AlreadyExistsException or
 * NamespaceNotEmptyException); 400/422 -> FIRN_ERR_INVALID; 401/403/419 ->
 * FIRN_ERR_INVALID (credentials; a 401 first re-fetches an OAuth2 token
 * once); 406/501 -> FIRN_ERR_UNSUPPORTED; other 5xx and transport failures ->
 * FIRN_ERR_IO, and for a commit an unknown outcome (Java treats 500, 502, 504
 * the same way: CommitStateUnknownException).
 *
 * Without transactions/commit (absent from "endpoints"), a multi-table commit
 * commits the tables one by one in the order given (firn_cat_atomic_multi
 * says false, so the pipeline records an intent first and rolls it forward
 * after a crash: pipeline/wap.c). A failure of the first is an ordinary
 * failure; a failure after some landed leaves the commit half done: the
 * error names the tables that landed and the outcome is
 * FIRN_CAT_OUTCOME_UNKNOWN, so no file is deleted and nothing is retried.
 * A server that announced (or defaulted to) transactions/commit but answers
 * it with 404/405/406/501 gets FIRN_ERR_UNSUPPORTED back to the caller,
 * nothing committed, and the capability turns false: a caller that needs
 * atomicity must not find its commit silently split.
 */
#include "catalog/catalog_internal.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rest_catalog {
    firn_catalog base;
    CURL *curl;
    char *uri;        /* without trailing '/' */
    char *prefix;     /* "" or "name/" (escaped), inserted after /v1/ */
    char *token;      /* bearer token or NULL */
    char *credential; /* "id:secret" or NULL */
    char *oauth_uri;
    char *scope;
    bool transactions; /* POST transactions/commit available */
} rest_catalog;

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ------------------------------------------------------------ HTTP */

static size_t on_body(char *p, size_t size, size_t n, void *ctx) {
    firn_buf_append(ctx, p, size * n);
    return size * n;
}

/* One request; *status the HTTP status, *resp the parsed JSON body (NULL when
 * none). Transport failures are FIRN_ERR_IO, retriable. */
static int http_raw(rest_catalog *c, const char *method, const char *url, const char *ctype,
                    const char *body, const char *auth, long *status, json_t **resp,
                    firn_error *err) {
    *status = 0;
    *resp = NULL;
    CURL *h = c->curl;
    curl_easy_reset(h);
    firn_buf out = {0};
    struct curl_slist *hdrs = NULL;
    char hbuf[4096];
    if (auth) {
        snprintf(hbuf, sizeof hbuf, "Authorization: Bearer %s", auth);
        hdrs = curl_slist_append(hdrs, hbuf);
    }
    if (ctype) {
        snprintf(hbuf, sizeof hbuf, "Content-Type: %s", ctype);
        hdrs = curl_slist_append(hdrs, hbuf);
    }
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    hdrs = curl_slist_append(hdrs, "X-Client-Version: firn");
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 300000L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (body) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        }
    }
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    int rc = 0;
    if (cc != CURLE_OK) {
        rc = FIRN_RAISE(err, FIRN_ERR_IO, "REST catalog: %s %s: %s", method, url,
                        curl_easy_strerror(cc));
        err->retriable = true;
        firn_buf_release(&out);
        return rc;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    if (out.len) *resp = json_loadb((const char *)out.data, out.len, 0, NULL);
    firn_buf_release(&out);
    return 0;
}

/* Exchange the client credentials for a token (RFC 6749 client_credentials). */
static int fetch_token(rest_catalog *c, firn_error *err) {
    const char *colon = strchr(c->credential, ':');
    char *id = colon ? curl_easy_escape(c->curl, c->credential, (int)(colon - c->credential))
                     : curl_easy_escape(c->curl, c->credential, 0);
    char *secret = curl_easy_escape(c->curl, colon ? colon + 1 : "", 0);
    char *scope = curl_easy_escape(c->curl, c->scope, 0);
    firn_buf form = {0};
    firn_buf_appendf(&form, "grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s",
                     id, secret, scope);
    curl_free(id);
    curl_free(secret);
    curl_free(scope);
    long status;
    json_t *resp;
    int rc = http_raw(c, "POST", c->oauth_uri, "application/x-www-form-urlencoded",
                      firn_buf_cstr(&form), NULL, &status, &resp, err);
    firn_buf_release(&form);
    if (rc) return rc;
    const char *tok = json_string_value(json_object_get(resp, "access_token"));
    if (status != 200 || !tok) {
        const char *e = json_string_value(json_object_get(resp, "error"));
        rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                        "REST catalog: OAuth2 token request to %s failed: HTTP %ld%s%s (check "
                        "the client credentials)",
                        c->oauth_uri, status, e ? ": " : "", e ? e : "");
        json_decref(resp);
        return rc;
    }
    free(c->token);
    c->token = firn_xstrdup(tok);
    json_decref(resp);
    return 0;
}

/* The catalog's error for a non-2xx answer. */
static int status_error(long status, const json_t *resp, const char *method, const char *what,
                        firn_error *err) {
    const json_t *e = json_object_get(resp, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *type = json_string_value(json_object_get(e, "type"));
    firn_err_kind kind = FIRN_ERR_IO;
    bool retriable = false;
    if (status == 404) kind = FIRN_ERR_NOT_FOUND;
    else if (status == 409) {
        kind = FIRN_ERR_CONFLICT;
        retriable = !type || strcmp(type, "CommitFailedException") == 0;
    } else if (status == 400 || status == 422 || status == 401 || status == 403 || status == 419)
        kind = FIRN_ERR_INVALID;
    else if (status == 406 || status == 501 || status == 405)
        kind = FIRN_ERR_UNSUPPORTED;
    else if (status == 503 || status == 429)
        retriable = true;
    int rc = FIRN_RAISE(err, kind, "REST catalog: %s %s: HTTP %ld %s: %s", method, what, status,
                        type ? type : "", msg ? msg : "(no message)");
    err->retriable = retriable;
    return rc;
}

/*
 * A request to <uri>/v1/<prefix><route> (route may hold a query). body may be
 * NULL. *status and *resp as http_raw; a 401 with OAuth2 credentials fetches a
 * new token and tries once more.
 */
static int http(rest_catalog *c, const char *method, const char *route, bool prefixed,
                const json_t *body, long *status, json_t **resp, firn_error *err) {
    firn_buf url = {0};
    firn_buf_appendf(&url, "%s/v1/%s%s", c->uri, prefixed ? c->prefix : "", route);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    int rc = http_raw(c, method, firn_buf_cstr(&url), text ? "application/json" : NULL, text,
                      c->token, status, resp, err);
    if (rc == 0 && *status == 401 && c->credential) {
        json_decref(*resp);
        *resp = NULL;
        rc = fetch_token(c, err);
        if (rc == 0)
            rc = http_raw(c, method, firn_buf_cstr(&url), text ? "application/json" : NULL, text,
                          c->token, status, resp, err);
    }
    free(text);
    firn_buf_release(&url);
    return rc;
}

/* ------------------------------------------------------------ names in paths */

/* "a.b" -> "a%1Fb" with each level escaped, appended to b. */
static void append_ns(rest_catalog *c, firn_buf *b, const char *ns) {
    const char *p = ns;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char *e = curl_easy_escape(c->curl, p, (int)n);
        firn_buf_append_str(b, e);
        curl_free(e);
        if (!dot) break;
        firn_buf_append_str(b, "%1F");
        p = dot + 1;
    }
}

static void append_escaped(rest_catalog *c, firn_buf *b, const char *s) {
    char *e = curl_easy_escape(c->curl, s, 0);
    firn_buf_append_str(b, e);
    curl_free(e);
}

/* ["a","b"] -> "a.b" in a; NULL when a level holds a dot (firn cannot name it). */
static const char *ns_from_json(firn_arena *a, const json_t *arr) {
    firn_buf b = {0};
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *lvl = json_string_value(json_array_get(arr, i));
        if (!lvl || strchr(lvl, '.')) {
            firn_buf_release(&b);
            return NULL;
        }
        if (i) firn_buf_put_u8(&b, '.');
        firn_buf_append_str(&b, lvl);
    }
    const char *s = json_array_size(arr) ? firn_arena_strdup(a, firn_buf_cstr(&b)) : NULL;
    firn_buf_release(&b);
    return s;
}

static void route_ns(rest_catalog *c, firn_buf *b, const char *ns, const char *tail) {
    firn_buf_append_str(b, "namespaces/");
    append_ns(c, b, ns);
    if (tail) firn_buf_append_str(b, tail);
}

static void route_table(rest_catalog *c, firn_buf *b, const firn_cat_ident *id) {
    route_ns(c, b, id->ns, "/tables/");
    append_escaped(c, b, id->name);
}

/* ------------------------------------------------------------ namespaces */

static int rest_create_namespace(firn_catalog *cat, const char *ns, const firn_cat_props *props,
                                 firn_error *err) {
    rest_catalog *c = (rest_catalog *)cat;
    json_t *p = json_object();
    for (size_t i = 0; props && i < props->n; i++)
        json_object_set_new(p, props->keys[i], json_string(props->values[i]));
    json_t *body =
        json_pack("{s:o, s:o}", "namespace", firn_cat_namespace_to_json(ns), "properties", p);
    long status;
    json_t *resp;
    int rc = http(c, "POST", "namespaces", true, body, &status, &resp, err);
    json_decref(body);
    if (rc == 0 && status != 200) rc = status_error(status, resp, "create namespace", ns, err);
    if (rc && err->kind == FIRN_ERR_CONFLICT) err->retriable = false; /* it exists */
    json_decref(resp);
    return rc;
}

static int rest_namespace_exists(firn_catalog *cat, const char *ns, bool *exists,
                                 firn_error *err) {
    rest_catalog *c = (rest_catalog *)cat;
    firn_buf r = {0};
    route_ns(c, &r, ns, NULL);
    long status;
    json_t *resp;
    int rc = http(c, "HEAD", firn_buf_cstr(&r), true, NULL, &status, &resp, err);
    if (rc == 0) {
        if (status == 200 || status == 204) *exists = true;
        else if (status == 404) *exists = false;
        else rc = status_error(status, resp, "namespace exists", ns, err);
    }
    json_decref(resp);
    firn_buf_release(&r);
    return rc;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* GET a paginated list: calls each(ctx, item) for the items of key. */
static int list_all(rest_catalog *c, const char *route, const char *what, const char *key,
                    void (*each)(void *ctx, const json_t *item), void *ctx, firn_error *err) {
    char *token = NULL;
    int rc = 0;
    for (;;) {
        firn_buf r = {0};
        firn_buf_append_str(&r, route);
        if (token) {
            firn_buf_put_u8(&r, strchr(route, '?') ? '&' : '?');
            firn_buf_append_str(&r, "pageToken=");
            append_escaped(c, &r, token);
        }
        long status;
        json_t *resp;
        rc = http(c, "GET", firn_buf_cstr(&r), true, NULL, &status, &resp, err);
        firn_buf_release(&r);
        if (rc == 0 && status != 200) rc = status_error(status, resp, "list", what, err);
        if (rc) {
            json_decref(resp);
            break;
        }
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(resp, key), i, it) each(ctx, it);
        const char *next = json_string_value(json_object_get(resp, "next-page-token"));
        free(token);
        token = next && *next ? firn_xstrdup(next) : NULL;
        json_decref(resp);
        if (!token) break;
    }
    free(token);
    return rc;
}

typedef struct names_acc {
    firn_arena *a;
    const char **v;
    size_t n, cap;
    bool tables;
} names_acc;

static void names_each(void *ctx, const json_t *item) {
    names_acc *acc = ctx;
    const char *s = acc->tables ? json_string_value(json_object_get(item, "name"))
                                : ns_from_json(acc->a, item);
    if (!s) return; /* a level with a dot: not nameable in firn */
    if (acc->n == acc->cap) {
        size_t cap = acc->cap ? acc->cap * 2 : 16;
        const char **v = firn_arena_alloc(acc->a, cap * sizeof *v);
        if (acc->n) memcpy(v, acc->v, acc->n * sizeof *v);
        acc->v = v;
        acc->cap = cap;
    }
    acc->v[acc->n++] = firn_arena_strdup(acc->a, s);
}

static int rest_list_namespaces(firn_catalog *cat, const char *parent, firn_arena *a,
                                const char ***out, size_t *n, firn_error *err) {
    rest_catalog *c = (rest_catalog *)cat;
    firn_buf r = {0};
    firn_buf_append_str(&r, "namespaces");
    if (parent && *parent) {
        firn_buf_append_str(&r, "?parent=");
        append_ns(c, &r, parent);
    }
    names_acc acc = {a, NULL, 0, 0, false};
    int rc = list_all(c, firn_buf_cstr(&r), parent ? parent : "namespaces", "namespaces",
                      names_each, &acc, err);
    firn_buf_release(&r);
    if (rc) return rc;
    if (acc.n) qsort(acc.v, acc.n, sizeof *acc.v, cmp_str);
    *out = acc.v;
    *n = acc.n;
    return 0;
}

static int rest_load_namespace(firn_catalog *cat, const char *ns, firn_arena *a,
                               firn_cat_props *out, firn_error *err) {
    rest_catalog *c = (rest_catalog *)cat;
    firn_buf r = {0};
    route_ns(c, &r, ns, NULL);
    long status;
    json_t *resp;
    int rc = http(c, "GET", firn_buf_cstr(&r), true, NULL, &status, &resp, err);
    firn_buf_release(&r);
    if (rc == 0 && status != 200) rc = status_error(status, resp, "load namespace", ns, err);
    if (rc == 0) {
        json_t *p = json_object_get(resp, "properties");
        size_t np = json_is_object(p) ? json_object_size(p) : 0;
        const char **keys = firn_arena_alloc(a, (np + 1) * sizeof *keys);
        size_t k = 0;
        const char *key;
        json_t *v;
        if (np) json_object_foreach(p, key, v) {
                if (json_is_string(v) && strcmp(key, "exists") != 0)
                    keys[k++] = firn_arena_strdup(a, key);
            }
        if (k) qsort(keys, k, sizeof *keys, cmp_str);
        const char **values = firn_arena_alloc(a, (k + 1) * sizeof *values);
        for (size_t i = 0; i < k; i++)
            values[i] = firn_arena_strdup(a, json_string_value(json_object_get(p, keys[i])));
        out->n = k;
        out->keys = keys;
        out->values = values;
    }
    json_decref(resp);
    return rc;
}

static int rest_update_namespace(firn_catalog *cat, const char *ns, const firn_cat_props *set,
                                 const char *const *remove, size_t nremove, firn_error *err) {
    rest_catalog *c = (rest_catalog *)cat;
    json_t *up = json_object(), *rm = json_array();
    for (size_t i = 0; set && i < set->n; i++)
        json_object_set_new(up, set->keys[i], json_string(set->values[i]));
    for (size_t i = 0; i < nremove; i++) json_array_append_new(rm, json_string(remove[i]));
    json_t *body = json_pack("{s:o, s:o}", "updates", up, "removals", rm);
    firn_buf r = {0};
    route_ns(c, &r, ns, "/properties");
    long status;
    json_t *resp;
    int rc = http(c, "POST", firn_buf_cstr(&r), true, body, &status, &resp, err);
    firn_buf_release(&r);
    json_decref(body);
    if (rc == 0 && status != 200) rc = status_error(status, resp, "update namespace", ns, err);
    json_decref(resp);
    return rc;
}

static int rest_drop_namespace(firn_catalog *cat, const char *ns, firn_error *err) {
    rest_catalog *c = (rest_catalog *)cat;
    firn_buf r = {0};
    route_ns(c, &r, ns, NULL);
    long status;
    json_t *resp;
    int rc = http(c, "DELETE", firn_buf_cstr(&r), true, NULL, &status, &resp, err);
    firn_buf_release(&r);
    if (rc == 0 && status != 204 && status != 200) {
        rc = status_error(status, resp, "drop namespace", ns, err);
        if (err->kind == FIRN_ERR_CONFLICT) err->retriable = false;
    }
    json_decref(resp);
    return rc;
}

/* ------------------------------------------------------------ tables */

static int rest_create_table(firn_catalog *cat, const firn_cat_ident *id, const char *location,
                             firn_error *err) {
    rest_catalog *c = (rest_catalog *)cat;
    json_t *body = json_pack("{s:s, s:s}", "name", id->name, "metadata-location", location);
    firn_buf r = {0};
    route_ns(c, &r, id->ns, "/register");
    long status;
    json_t *resp;
    int rc = http(c, "POST", firn_buf_cstr(&r), true, body, &status, &resp, err);
    firn_buf_release(&r);
    json_decref(body);
    if (rc == 0 && status != 200) {
        char what[600];
        snprintf(what, sizeof what, "%s.%s", id->ns, id->name);
        rc = status_error(status, resp, "register table", what, err);
        if (err->kind == FIRN_ERR_CONFLICT) err->retriable = false;
    }
    json_decref(resp);
    return rc;
}

static int rest_load_table(firn_catalog *cat, const firn_cat_ident *id, firn_arena *a,
                           firn_cat_table *out, firn_error *err) {
    rest_catalog *c = (rest_catalog *)cat;
    firn_buf r = {0};
    route_table(c, &r, id);
    long status;
    json_t *resp;
    int rc = http(c, "GET", firn_buf_cstr(&r), true, NULL, &status, &resp, err);
    firn_buf_release(&r);
    char what[600];
    snprintf(what, sizeof what, "%s.%s", id->ns, id->name);
    if (rc == 0 && status != 200) rc = status_error(status, resp, "load table", what, err);
    if (rc == 0) {
        const char *loc = json_string_value(json_object_get(resp, "metadata-location"));
        if (!loc) {
            rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                            "REST catalog: load table %s: the answer has no metadata-location",
                            what);
        } else {
            memset(out, 0, sizeof *out);
            out->ns = firn_arena_strdup(a, id->ns);
            out->name = firn_arena_strdup(a, id->name);
            out->metadata_location = firn_arena_strdup(a, loc);
            json_t *log = json_object_get(json_object_get(resp, "metadata"), "metadata-log");
            size_t nlog = json_array_size(log);
            const char *prev =
                nlog ? json_string_value(json_object_get(json_array_get(log, nlog - 1),
                                                         "metadata-file"))
                     : NULL;
            out->previous_metadata_location = prev ? firn_arena_strdup(a, prev) : NULL;
        }
    }
    json_decref(resp);
    return rc;
}

static int rest_list_tables(firn_catalog *cat, const char *ns, firn_arena *a, const char ***names,
                            size_t *n, firn_error *err) {
    rest_catalog *c = (rest_catalog *)cat;
    firn_buf r = {0};
    route_ns(c, &r, ns, "/tables");
    names_acc acc = {a, NULL, 0, 0, true};
    int rc = list_all(c, firn_buf_cstr(&r), ns, "identifiers", names_each, &acc, err);
    firn_buf_release(&r);
    if (rc) return rc;
    if (acc.n) qsort(acc.v, acc.n, sizeof *acc.v, cmp_str);
    *names = acc.v;
    *n = acc.n;
    return 0;
}

static int rest_rename_table(firn_catalog *cat, const firn_cat_ident *from,
                             const firn_cat_ident *to, firn_error *err) {
    rest_catalog *c = (rest_catalog *)cat;
    if (strcmp(from->ns, to->ns) == 0 && strcmp(from->name, to->name) == 0) return 0;
    json_t *body = json_pack("{s:{s:o, s:s}, s:{s:o, s:s}}", "source", "namespace",
                             firn_cat_namespace_to_json(from->ns), "name", from->name,
                             "destination", "namespace", firn_cat_namespace_to_json(to->ns),
                             "name", to->name);
    long status;
    json_t *resp;
    int rc = http(c, "POST", "tables/rename", true, body, &status, &resp, err);
    json_decref(body);
    if (rc == 0 && status != 204 && status != 200) {
        char what[600];
        snprintf(what, sizeof what, "%s.%s", from->ns, from->name);
        rc = status_error(status, resp, "rename table", what, err);
        if (err->kind == FIRN_ERR_CONFLICT) err->retriable = false;
    }
    json_decref(resp);
    return rc;
}

static int rest_drop_table(firn_catalog *cat, const firn_cat_ident *id, firn_arena *a,
                           const char **last_location, firn_error *err) {
    rest_catalog *c = (rest_catalog *)cat;
    firn_cat_table row;
    int rc = rest_load_table(cat, id, a, &row, err);
    if (rc) return rc;
    firn_buf r = {0};
    route_table(c, &r, id);
    firn_buf_append_str(&r, "?purgeRequested=false");
    long status;
    json_t *resp;
    rc = http(c, "DELETE", firn_buf_cstr(&r), true, NULL, &status, &resp, err);
    firn_buf_release(&r);
    if (rc == 0 && status != 204 && status != 200) {
        char what[600];
        snprintf(what, sizeof what, "%s.%s", id->ns, id->name);
        rc = status_error(status, resp, "drop table", what, err);
    }
    json_decref(resp);
    if (rc == 0 && last_location) *last_location = row.metadata_location;
    return rc;
}

static int rest_commit_tables(firn_catalog *cat, const firn_cat_commit *commits, size_t n,
                              firn_cat_outcome *outcome, firn_error *err) {
    (void)cat;
    (void)commits;
    (void)n;
    *outcome = FIRN_CAT_NOT_COMMITTED;
    return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                      "a REST catalog commits changes (requirements and updates), not metadata "
                      "locations: use firn_cat_commit_changes");
}

/* ------------------------------------------------------------ commits */

static json_t *change_json(const firn_cat_change *ch, bool with_ident, firn_error *err) {
    json_t *req = json_loads(ch->requirements_json, 0, NULL);
    json_t *up = json_loads(ch->updates_json, 0, NULL);
    if (!json_is_array(req) || !json_is_array(up)) {
        json_decref(req);
        json_decref(up);
        FIRN_RAISE(err, FIRN_ERR_INVALID, "commit of '%s.%s': requirements and updates must be "
                                          "JSON arrays",
                   ch->ident.ns, ch->ident.name);
        return NULL;
    }
    json_t *j = json_pack("{s:o, s:o}", "requirements", req, "updates", up);
    if (with_ident)
        json_object_set_new(j, "identifier",
                            json_pack("{s:o, s:s}", "namespace",
                                      firn_cat_namespace_to_json(ch->ident.ns), "name",
                                      ch->ident.name));
    return j;
}

/* Outcome of a failed commit request from its status. */
static firn_cat_outcome failed_outcome(int rc_transport, long status) {
    if (rc_transport) return FIRN_CAT_OUTCOME_UNKNOWN;
    if (status == 500 || status == 502 || status == 504) return FIRN_CAT_OUTCOME_UNKNOWN;
    return FIRN_CAT_NOT_COMMITTED;
}

static int commit_one(rest_catalog *c, firn_cat_change *ch, firn_cat_outcome *outcome,
                      firn_error *err) {
    json_t *body = change_json(ch, true, err);
    if (!body) return -err->kind;
    firn_buf r = {0};
    route_table(c, &r, &ch->ident);
    long status = 0;
    json_t *resp = NULL;
    int rc = http(c, "POST", firn_buf_cstr(&r), true, body, &status, &resp, err);
    firn_buf_release(&r);
    json_decref(body);
    const char *loc = rc == 0 ? json_string_value(json_object_get(resp, "metadata-location")) : NULL;
    if (rc == 0 && status == 200 && loc) {
        ch->new_location = firn_xstrdup(loc);
        *outcome = FIRN_CAT_COMMITTED;
    } else {
        *outcome = failed_outcome(rc, status);
        if (rc == 0) {
            char what[600];
            snprintf(what, sizeof what, "%s.%s", ch->ident.ns, ch->ident.name);
            rc = status_error(status, resp, "commit table", what, err);
            if (status == 200) { /* a 200 without a location */
                *outcome = FIRN_CAT_OUTCOME_UNKNOWN;
                err->retriable = false;
            }
        }
        if (*outcome == FIRN_CAT_OUTCOME_UNKNOWN) err->retriable = false;
    }
    json_decref(resp);
    return rc;
}

static int rest_commit_changes(firn_catalog *cat, firn_cat_change *changes, size_t n,
                               firn_cat_outcome *outcome, firn_error *err) {
    rest_catalog *c = (rest_catalog *)cat;
    if (n == 1) return commit_one(c, &changes[0], outcome, err);
    int rc = 0;
    if (c->transactions) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n && rc == 0; i++) {
            json_t *j = change_json(&changes[i], true, err);
            if (!j) rc = -err->kind;
            else json_array_append_new(arr, j);
        }
        if (rc) {
            json_decref(arr);
            return rc;
        }
        json_t *body = json_pack("{s:o}", "table-changes", arr);
        long status = 0;
        json_t *resp = NULL;
        rc = http(c, "POST", "transactions/commit", true, body, &status, &resp, err);
        json_decref(body);
        if (rc == 0 && (status == 404 || status == 405 || status == 406 || status == 501)) {
            c->transactions = false;
            json_decref(resp);
            *outcome = FIRN_CAT_NOT_COMMITTED;
            return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                              "the REST catalog answered HTTP %ld to transactions/commit: it cannot "
                              "commit several tables atomically (nothing was committed)",
                              status);
        } else if (rc || (status != 204 && status != 200)) {
            *outcome = failed_outcome(rc, status);
            if (rc == 0) rc = status_error(status, resp, "commit transaction", "", err);
            if (*outcome == FIRN_CAT_OUTCOME_UNKNOWN) err->retriable = false;
            json_decref(resp);
            return rc;
        } else {
            json_decref(resp);
            *outcome = FIRN_CAT_COMMITTED;
            /* the new locations: load each table (a concurrent commit may already have
             * moved one on; the caller then reads a newer file, which holds ours) */
            firn_arena a;
            firn_arena_init(&a, 1024);
            for (size_t i = 0; i < n; i++) {
                firn_cat_table row;
                firn_error e;
                firn_error_init(&e);
                if (rest_load_table(cat, &changes[i].ident, &a, &row, &e) == 0)
                    changes[i].new_location = firn_xstrdup(row.metadata_location);
                firn_error_release(&e);
            }
            firn_arena_release(&a);
            return 0;
        }
        json_decref(resp);
    }
    /* one by one, in the order given */
    for (size_t i = 0; i < n; i++) {
        firn_cat_outcome o = FIRN_CAT_NOT_COMMITTED;
        rc = commit_one(c, &changes[i], &o, err);
        if (rc) {
            if (i == 0) {
                *outcome = o;
                return rc;
            }
            firn_buf landed = {0};
            for (size_t k = 0; k < i; k++)
                firn_buf_appendf(&landed, "%s%s.%s", k ? ", " : "", changes[k].ident.ns,
                                 changes[k].ident.name);
            rc = FIRN_WRAP(err, err->kind,
                           "multi-table commit half done (the server has no transactions/commit): "
                           "%s committed, %s.%s and later not: roll forward",
                           firn_buf_cstr(&landed), changes[i].ident.ns, changes[i].ident.name);
            firn_buf_release(&landed);
            err->retriable = false;
            *outcome = FIRN_CAT_OUTCOME_UNKNOWN;
            return rc;
        }
    }
    *outcome = FIRN_CAT_COMMITTED;
    return 0;
}

static bool rest_atomic_multi(const firn_catalog *cat) {
    return ((const rest_catalog *)cat)->transactions;
}

static void rest_free(firn_catalog *cat) {
    rest_catalog *c = (rest_catalog *)cat;
    if (c->curl) curl_easy_cleanup(c->curl);
    free(c->uri);
    free(c->prefix);
    free(c->token);
    free(c->credential);
    free(c->oauth_uri);
    free(c->scope);
    free(c->base.name);
    free(c->base.warehouse);
    free(c);
}

static const firn_cat_ops rest_ops = {
    .free = rest_free,
    .create_namespace = rest_create_namespace,
    .namespace_exists = rest_namespace_exists,
    .list_namespaces = rest_list_namespaces,
    .load_namespace = rest_load_namespace,
    .update_namespace = rest_update_namespace,
    .drop_namespace = rest_drop_namespace,
    .create_table = rest_create_table,
    .load_table = rest_load_table,
    .list_tables = rest_list_tables,
    .rename_table = rest_rename_table,
    .drop_table = rest_drop_table,
    .commit_tables = rest_commit_tables,
    .commit_changes = rest_commit_changes,
    .atomic_multi = rest_atomic_multi,
};

/* ------------------------------------------------------------ open */

static const char *pick(const char *configured, const char *env) {
    if (configured && *configured) return configured;
    const char *v = getenv(env);
    return v && *v ? v : NULL;
}

int firn_cat_rest_open(const char *uri, const char *name, const firn_cat_config *cfg,
                       firn_catalog **out, firn_error *err) {
    *out = NULL;
    pthread_once(&g_curl_once, curl_init_once);
    rest_catalog *c = firn_xcalloc(1, sizeof *c);
    c->base.ops = &rest_ops;
    c->base.kind = "rest";
    c->base.name = firn_xstrdup(name);
    c->uri = firn_xstrdup(uri);
    size_t ul = strlen(c->uri);
    while (ul && c->uri[ul - 1] == '/') c->uri[--ul] = 0;
    c->prefix = firn_xstrdup("");
    c->transactions = true;
    c->curl = curl_easy_init();
    const char *tok = pick(cfg ? cfg->rest_token : NULL, "FIRN_REST_TOKEN");
    const char *cred = pick(cfg ? cfg->rest_credential : NULL, "FIRN_REST_CREDENTIAL");
    const char *oauth = pick(cfg ? cfg->rest_oauth2_server_uri : NULL,
                             "FIRN_REST_OAUTH2_SERVER_URI");
    const char *scope = cfg && cfg->rest_scope ? cfg->rest_scope : "catalog";
    if (tok) c->token = firn_xstrdup(tok);
    if (cred) c->credential = firn_xstrdup(cred);
    c->scope = firn_xstrdup(scope);
    if (oauth) {
        c->oauth_uri = firn_xstrdup(oauth);
    } else {
        firn_buf b = {0};
        firn_buf_appendf(&b, "%s/v1/oauth/tokens", c->uri);
        c->oauth_uri = firn_xstrdup(firn_buf_cstr(&b));
        firn_buf_release(&b);
    }
    int rc = 0;
    if (!c->curl) {
        rc = FIRN_RAISE(err, FIRN_ERR_IO, "REST catalog: cannot initialise libcurl");
        goto fail;
    }
    if (c->credential && !c->token && (rc = fetch_token(c, err))) goto fail;

    const char *warehouse = cfg ? cfg->warehouse : NULL;
    firn_buf r = {0};
    firn_buf_append_str(&r, "config");
    if (warehouse) {
        firn_buf_append_str(&r, "?warehouse=");
        append_escaped(c, &r, warehouse);
    }
    long status;
    json_t *resp;
    rc = http(c, "GET", firn_buf_cstr(&r), false, NULL, &status, &resp, err);
    firn_buf_release(&r);
    if (rc == 0 && status != 200) rc = status_error(status, resp, "GET", "config", err);
    if (rc) {
        json_decref(resp);
        goto fail;
    }
    json_t *defaults = json_object_get(resp, "defaults");
    json_t *overrides = json_object_get(resp, "overrides");
    const char *wh = json_string_value(json_object_get(overrides, "warehouse"));
    if (!wh) wh = warehouse;
    if (!wh) wh = json_string_value(json_object_get(defaults, "warehouse"));
    if (wh) c->base.warehouse = firn_xstrdup(wh);
    const char *prefix = json_string_value(json_object_get(overrides, "prefix"));
    if (!prefix) prefix = json_string_value(json_object_get(defaults, "prefix"));
    if (prefix && *prefix) {
        firn_buf p = {0};
        append_escaped(c, &p, prefix);
        firn_buf_put_u8(&p, '/');
        free(c->prefix);
        c->prefix = firn_xstrdup(firn_buf_cstr(&p));
        firn_buf_release(&p);
    }
    json_t *ep = json_object_get(resp, "endpoints");
    if (json_is_array(ep)) {
        c->transactions = false;
        size_t i;
        json_t *e;
        json_array_foreach(ep, i, e) {
            const char *s = json_string_value(e);
            if (s && strcmp(s, "POST /v1/{prefix}/transactions/commit") == 0) c->transactions = true;
        }
    }
    json_decref(resp);
    *out = &c->base;
    return 0;
fail:
    rest_free(&c->base);
    return rc;
}
