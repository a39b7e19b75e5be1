/*
 * rest_server.c - the Iceberg REST catalog routes over firn's catalog and
 * table layer (see rest.h for the routes and the commit semantics).
 */
#include "rest/rest.h"

#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "io/io.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct firn_rest_server {
    firn_catalog *cat;
    char *warehouse;
    char *prefix;
    bool no_transactions;
    pthread_mutex_t mu;
};

int firn_rest_server_new(firn_catalog *cat, const firn_rest_server_config *cfg,
                         firn_rest_server **out, firn_error *err) {
    *out = NULL;
    if (!cat) return FIRN_RAISE(err, FIRN_ERR_INVALID, "REST server: no catalog");
    firn_rest_server *s = firn_xcalloc(1, sizeof *s);
    s->cat = cat;
    if (cfg && cfg->warehouse) s->warehouse = firn_xstrdup(cfg->warehouse);
    if (cfg && cfg->prefix && *cfg->prefix) s->prefix = firn_xstrdup(cfg->prefix);
    s->no_transactions = cfg && cfg->no_transactions;
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return 0;
}

void firn_rest_server_free(firn_rest_server *s) {
    if (!s) return;
    pthread_mutex_destroy(&s->mu);
    free(s->warehouse);
    free(s->prefix);
    free(s);
}

void firn_rest_response_release(firn_rest_response *r) {
    if (!r) return;
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ responses */

static void respond_json(firn_rest_response *out, int status, json_t *j) {
    out->status = status;
    out->body = json_dumps(j, JSON_COMPACT);
    out->len = out->body ? strlen(out->body) : 0;
    out->content_type = "application/json";
    json_decref(j);
}

static void respond_empty(firn_rest_response *out, int status) {
    out->status = status;
    out->body = NULL;
    out->len = 0;
    out->content_type = NULL;
}

static void respond_error(firn_rest_response *out, int status, const char *type, const char *fmt,
                          ...) __attribute__((format(printf, 4, 5)));
static void respond_error(firn_rest_response *out, int status, const char *type, const char *fmt,
                          ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *m = json_string(msg);
    if (!m) { /* a name from the request that is not UTF-8: show its bytes as '?' */
        for (char *p = msg; *p; p++)
            if ((unsigned char)*p >= 0x80) *p = '?';
        m = json_string(msg);
    }
    json_t *e = json_pack("{s:o, s:s, s:i}", "message", m, "type", type, "code", status);
    respond_json(out, status, json_pack("{s:o}", "error", e));
}

/* What a firn error means on the wire; what = "namespace" or "table" names
 * the NOT_FOUND type, conflict_type the 409 type. */
static void respond_firn_error(firn_rest_response *out, const firn_error *err, const char *what,
                               const char *conflict_type) {
    char buf[1024];
    firn_error_format(err, buf, sizeof buf);
    switch (err->kind) {
    case FIRN_ERR_NOT_FOUND:
        respond_error(out, 404,
                      what && strcmp(what, "table") == 0 ? "NoSuchTableException"
                                                         : "NoSuchNamespaceException",
                      "%s", buf);
        break;
    case FIRN_ERR_CONFLICT:
        respond_error(out, 409, conflict_type ? conflict_type : "CommitFailedException", "%s",
                      buf);
        break;
    case FIRN_ERR_INVALID:
    case FIRN_ERR_CORRUPT:
        respond_error(out, 400, "BadRequestException", "%s", buf);
        break;
    case FIRN_ERR_UNSUPPORTED:
        respond_error(out, 406, "UnsupportedOperationException", "%s", buf);
        break;
    default:
        respond_error(out, 500, "InternalServerError", "%s", buf);
        break;
    }
}

/* ------------------------------------------------------------ names */

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) ('+' kept as is in paths, a space in queries). */
static char *url_decode(firn_arena *a, const char *s, size_t n, bool plus_space) {
    char *o = firn_arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            o[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else if (plus_space && s[i] == '+') {
            o[k++] = ' ';
        } else {
            o[k++] = s[i];
        }
    }
    o[k] = 0;
    return o;
}

/* The decoded value of key in a query string, or NULL. */
static const char *query_get(firn_arena *a, const char *query, const char *key) {
    size_t klen = strlen(key);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
            return url_decode(a, p + klen + 1, n - klen - 1, true);
        if (n == klen && strncmp(p, key, klen) == 0) return "";
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* "a\x1fb" (a decoded path segment) -> "a.b"; NULL (with the response set)
 * when a level is empty or holds a dot. */
static const char *ns_from_levels(firn_arena *a, const char *seg, firn_rest_response *out) {
    if (!*seg) {
        respond_error(out, 400, "BadRequestException", "empty namespace");
        return NULL;
    }
    char *ns = firn_arena_strdup(a, seg);
    for (char *p = ns; *p; p++) {
        if (*p == '.') {
            respond_error(out, 400, "BadRequestException",
                          "namespace level '%s' contains '.': firn joins namespace levels with "
                          "dots and cannot hold it",
                          seg);
            return NULL;
        }
        if (*p == 0x1f) *p = '.';
    }
    return ns;
}

/* A JSON array of level strings -> "a.b". */
static const char *ns_from_json(firn_arena *a, const json_t *arr, firn_rest_response *out) {
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        respond_error(out, 400, "BadRequestException",
                      "namespace must be a non-empty array of strings");
        return NULL;
    }
    firn_buf b = {0};
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *lvl = json_string_value(json_array_get(arr, i));
        if (!lvl || !*lvl || strchr(lvl, '.')) {
            firn_buf_release(&b);
            respond_error(out, 400, "BadRequestException",
                          "namespace level %zu must be a non-empty string without '.'", i);
            return NULL;
        }
        if (i) firn_buf_put_u8(&b, '.');
        firn_buf_append_str(&b, lvl);
    }
    const char *ns = firn_arena_strdup(a, firn_buf_cstr(&b));
    firn_buf_release(&b);
    return ns;
}

static json_t *props_to_json(const firn_cat_props *p) {
    json_t *o = json_object();
    for (size_t i = 0; i < p->n; i++) json_object_set_new(o, p->keys[i], json_string(p->values[i]));
    return o;
}

/* A JSON object of strings -> props (arrays in a). NULL/absent: empty. */
static int props_from_json(firn_arena *a, const json_t *o, firn_cat_props *out,
                           firn_rest_response *resp) {
    memset(out, 0, sizeof *out);
    if (!o || json_is_null(o)) return 0;
    if (!json_is_object(o)) {
        respond_error(resp, 400, "BadRequestException", "properties must be an object of strings");
        return -1;
    }
    size_t n = json_object_size(o);
    out->keys = firn_arena_alloc(a, (n + 1) * sizeof *out->keys);
    out->values = firn_arena_alloc(a, (n + 1) * sizeof *out->values);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        if (!json_is_string(v)) {
            respond_error(resp, 400, "BadRequestException", "property '%s' is not a string", k);
            return -1;
        }
        out->keys[out->n] = firn_arena_strdup(a, k);
        out->values[out->n] = firn_arena_strdup(a, json_string_value(v));
        out->n++;
    }
    return 0;
}

/* Parse the request body as a JSON object. */
static json_t *parse_body(const uint8_t *body, size_t len, firn_rest_response *out) {
    json_error_t je;
    json_t *j = body && len ? json_loadb((const char *)body, len, 0, &je) : NULL;
    if (!j) {
        respond_error(out, 400, "BadRequestException", "request body is not JSON%s%s",
                      body && len ? ": " : "", body && len ? je.text : "");
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        respond_error(out, 400, "BadRequestException", "request body must be a JSON object");
        return NULL;
    }
    return j;
}

/* A decimal count in [lo, 2^53) (the whole text), or -1. */
static int64_t parse_count(const char *t, int64_t lo) {
    if (!t || *t < '0' || *t > '9' || strlen(t) > 15) return -1;
    char *end;
    long long v = strtoll(t, &end, 10);
    return *end || v < lo ? -1 : (int64_t)v;
}

/* Offset pagination over a sorted list: pageToken is the decimal offset of
 * the first item (as this server hands it out), pageSize the most items to
 * return (at least 1). Anything else answers 400 (-1 returned). */
static int page_bounds(firn_arena *a, const char *query, size_t n, size_t *from, size_t *to,
                       bool *more, firn_rest_response *out) {
    const char *tok = query_get(a, query, "pageToken");
    const char *size = query_get(a, query, "pageSize");
    int64_t f = tok && *tok ? parse_count(tok, 0) : 0;
    int64_t max = size ? parse_count(size, 1) : 0;
    if (f < 0 || max < 0) {
        respond_error(out, 400, "BadRequestException", "%s",
                      f < 0 ? "pageToken is not one this server handed out"
                            : "pageSize must be a whole number of at least 1");
        return -1;
    }
    *from = (size_t)f;
    if (*from > n) *from = n;
    *to = max && *from + (size_t)max < n ? *from + (size_t)max : n;
    *more = *to < n;
    return 0;
}

/* ------------------------------------------------------------ config */

static void h_config(firn_rest_server *s, firn_rest_response *out) {
    json_t *defaults = json_object();
    if (s->warehouse) json_object_set_new(defaults, "warehouse", json_string(s->warehouse));
    json_t *overrides = json_object();
    if (s->prefix) json_object_set_new(overrides, "prefix", json_string(s->prefix));
    static const char *const endpoints[] = {
        "GET /v1/{prefix}/namespaces",
        "POST /v1/{prefix}/namespaces",
        "GET /v1/{prefix}/namespaces/{namespace}",
        "HEAD /v1/{prefix}/namespaces/{namespace}",
        "DELETE /v1/{prefix}/namespaces/{namespace}",
        "POST /v1/{prefix}/namespaces/{namespace}/properties",
        "GET /v1/{prefix}/namespaces/{namespace}/tables",
        "POST /v1/{prefix}/namespaces/{namespace}/tables",
        "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "POST /v1/{prefix}/namespaces/{namespace}/register",
        "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics",
        "POST /v1/{prefix}/tables/rename",
        "POST /v1/{prefix}/transactions/commit",
    };
    json_t *ep = json_array();
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
        if (!s->no_transactions || !strstr(endpoints[i], "/transactions/commit"))
            json_array_append_new(ep, json_string(endpoints[i]));
    respond_json(out, 200,
                 json_pack("{s:o, s:o, s:o}", "defaults", defaults, "overrides", overrides,
                           "endpoints", ep));
}

/* ------------------------------------------------------------ namespaces */

static void h_list_namespaces(firn_rest_server *s, firn_arena *a, const char *query,
                              firn_rest_response *out) {
    const char *parent = query_get(a, query, "parent");
    if (parent && *parent) {
        parent = ns_from_levels(a, parent, out);
        if (!parent) return;
    }
    firn_error err;
    firn_error_init(&err);
    const char **names = NULL;
    size_t n = 0;
    if (firn_cat_list_namespaces(s->cat, parent, a, &names, &n, &err)) {
        respond_firn_error(out, &err, "namespace", NULL);
        firn_error_release(&err);
        return;
    }
    size_t from, to;
    bool more;
    if (page_bounds(a, query, n, &from, &to, &more, out)) return;
    json_t *arr = json_array();
    for (size_t i = from; i < to; i++)
        json_array_append_new(arr, firn_cat_namespace_to_json(names[i]));
    json_t *res = json_pack("{s:o}", "namespaces", arr);
    if (more) {
        char tok[32];
        snprintf(tok, sizeof tok, "%zu", to);
        json_object_set_new(res, "next-page-token", json_string(tok));
    }
    respond_json(out, 200, res);
}

static void h_create_namespace(firn_rest_server *s, firn_arena *a, const uint8_t *body,
                               size_t len, firn_rest_response *out) {
    json_t *j = parse_body(body, len, out);
    if (!j) return;
    const char *ns = ns_from_json(a, json_object_get(j, "namespace"), out);
    firn_cat_props props;
    if (ns && props_from_json(a, json_object_get(j, "properties"), &props, out) == 0) {
        firn_error err;
        firn_error_init(&err);
        if (firn_cat_create_namespace(s->cat, ns, &props, &err)) {
            respond_firn_error(out, &err, "namespace", "AlreadyExistsException");
        } else {
            firn_cat_props stored;
            if (firn_cat_load_namespace(s->cat, ns, a, &stored, &err))
                respond_firn_error(out, &err, "namespace", NULL);
            else
                respond_json(out, 200,
                             json_pack("{s:o, s:o}", "namespace", firn_cat_namespace_to_json(ns),
                                       "properties", props_to_json(&stored)));
        }
        firn_error_release(&err);
    }
    json_decref(j);
}

static void h_load_namespace(firn_rest_server *s, firn_arena *a, const char *ns, bool head,
                             firn_rest_response *out) {
    firn_error err;
    firn_error_init(&err);
    if (head) {
        bool exists = false;
        if (firn_cat_namespace_exists(s->cat, ns, &exists, &err))
            respond_firn_error(out, &err, "namespace", NULL);
        else if (!exists)
            respond_error(out, 404, "NoSuchNamespaceException", "namespace '%s' does not exist",
                          ns);
        else
            respond_empty(out, 204);
    } else {
        firn_cat_props props;
        if (firn_cat_load_namespace(s->cat, ns, a, &props, &err))
            respond_firn_error(out, &err, "namespace", NULL);
        else
            respond_json(out, 200,
                         json_pack("{s:o, s:o}", "namespace", firn_cat_namespace_to_json(ns),
                                   "properties", props_to_json(&props)));
    }
    firn_error_release(&err);
}

static void h_drop_namespace(firn_rest_server *s, const char *ns, firn_rest_response *out) {
    firn_error err;
    firn_error_init(&err);
    if (firn_cat_drop_namespace(s->cat, ns, &err))
        respond_firn_error(out, &err, "namespace", "NamespaceNotEmptyException");
    else
        respond_empty(out, 204);
    firn_error_release(&err);
}

static void h_update_namespace(firn_rest_server *s, firn_arena *a, const char *ns,
                               const uint8_t *body, size_t len, firn_rest_response *out) {
    json_t *j = parse_body(body, len, out);
    if (!j) return;
    firn_cat_props set;
    const json_t *rem = json_object_get(j, "removals");
    if (props_from_json(a, json_object_get(j, "updates"), &set, out)) goto done;
    if (rem && !json_is_null(rem) && !json_is_array(rem)) {
        respond_error(out, 400, "BadRequestException", "removals must be an array of strings");
        goto done;
    }
    size_t nrem = rem ? json_array_size(rem) : 0;
    const char **removals = firn_arena_alloc(a, (nrem + 1) * sizeof *removals);
    for (size_t i = 0; i < nrem; i++) {
        removals[i] = json_string_value(json_array_get(rem, i));
        if (!removals[i]) {
            respond_error(out, 400, "BadRequestException", "removals[%zu] is not a string", i);
            goto done;
        }
        for (size_t k = 0; k < set.n; k++)
            if (strcmp(set.keys[k], removals[i]) == 0) {
                respond_error(out, 422, "UnprocessableEntityException",
                              "property '%s' is both updated and removed", removals[i]);
                goto done;
            }
    }
    firn_error err;
    firn_error_init(&err);
    firn_cat_props before;
    if (firn_cat_load_namespace(s->cat, ns, a, &before, &err) ||
        firn_cat_update_namespace(s->cat, ns, &set, removals, nrem, &err)) {
        respond_firn_error(out, &err, "namespace", NULL);
        firn_error_release(&err);
        goto done;
    }
    json_t *updated = json_array(), *removed = json_array(), *missing = json_array();
    for (size_t k = 0; k < set.n; k++) json_array_append_new(updated, json_string(set.keys[k]));
    for (size_t i = 0; i < nrem; i++) {
        bool had = false;
        for (size_t k = 0; k < before.n && !had; k++) had = strcmp(before.keys[k], removals[i]) == 0;
        json_array_append_new(had ? removed : missing, json_string(removals[i]));
    }
    respond_json(out, 200,
                 json_pack("{s:o, s:o, s:o}", "updated", updated, "removed", removed, "missing",
                           missing));
done:
    json_decref(j);
}

/* ------------------------------------------------------------ tables */

static json_t *load_result(const firn_ice_table *t) {
    json_t *md = firn_ice_metadata_to_json(t->metadata);
    return json_pack("{s:s, s:o, s:{}}", "metadata-location", t->metadata_location, "metadata",
                     md, "config");
}

static void h_list_tables(firn_rest_server *s, firn_arena *a, const char *ns, const char *query,
                          firn_rest_response *out) {
    firn_error err;
    firn_error_init(&err);
    const char **names = NULL;
    size_t n = 0;
    if (firn_cat_list_tables(s->cat, ns, a, &names, &n, &err)) {
        respond_firn_error(out, &err, "namespace", NULL);
        firn_error_release(&err);
        return;
    }
    size_t from, to;
    bool more;
    if (page_bounds(a, query, n, &from, &to, &more, out)) return;
    json_t *arr = json_array();
    for (size_t i = from; i < to; i++)
        json_array_append_new(arr, json_pack("{s:o, s:s}", "namespace",
                                             firn_cat_namespace_to_json(ns), "name", names[i]));
    json_t *res = json_pack("{s:o}", "identifiers", arr);
    if (more) {
        char tok[32];
        snprintf(tok, sizeof tok, "%zu", to);
        json_object_set_new(res, "next-page-token", json_string(tok));
    }
    respond_json(out, 200, res);
}

/* A copy of j (an object) with key set to an integer when absent. */
static json_t *with_default_id(const json_t *j, const char *key, json_int_t v) {
    json_t *c = json_deep_copy(j);
    if (!json_object_get(c, key)) json_object_set_new(c, key, json_integer(v));
    return c;
}

static void h_create_table(firn_rest_server *s, firn_arena *a, const char *ns,
                           const uint8_t *body, size_t len, firn_rest_response *out) {
    json_t *j = parse_body(body, len, out);
    if (!j) return;
    firn_error err;
    firn_error_init(&err);
    firn_ice_table *t = NULL;
    const char *name = json_string_value(json_object_get(j, "name"));
    const json_t *jschema = json_object_get(j, "schema");
    if (!name || !jschema) {
        respond_error(out, 400, "BadRequestException", "create table: 'name' and 'schema' are "
                                                       "required");
        goto done;
    }
    if (json_is_true(json_object_get(j, "stage-create"))) {
        respond_error(out, 406, "UnsupportedOperationException",
                      "stage-create (create transactions) is not supported by firn's REST "
                      "catalog; create the table, then commit");
        goto done;
    }
    firn_ice_schema *schema = firn_ice_schema_from_json(a, jschema, "schema", &err);
    if (!schema) {
        respond_firn_error(out, &err, "table", NULL);
        goto done;
    }
    firn_ice_partition_spec *spec = NULL;
    const json_t *jspec = json_object_get(j, "partition-spec");
    if (jspec && !json_is_null(jspec)) {
        json_t *c = with_default_id(jspec, "spec-id", 0);
        spec = firn_ice_partition_spec_from_json(a, c, "partition-spec", &err);
        json_decref(c);
        if (!spec) {
            respond_firn_error(out, &err, "table", NULL);
            goto done;
        }
    }
    firn_ice_sort_order *order = NULL;
    const json_t *jorder = json_object_get(j, "write-order");
    if (jorder && !json_is_null(jorder)) {
        json_t *fields = json_object_get(jorder, "fields");
        json_t *c = with_default_id(jorder, "order-id", json_array_size(fields) ? 1 : 0);
        order = firn_ice_sort_order_from_json(a, c, "write-order", &err);
        json_decref(c);
        if (!order) {
            respond_firn_error(out, &err, "table", NULL);
            goto done;
        }
    }
    firn_cat_props props;
    if (props_from_json(a, json_object_get(j, "properties"), &props, out)) goto done;
    firn_ice_kv *kv = firn_arena_alloc(a, (props.n + 1) * sizeof *kv);
    int format_version = 0;
    size_t nkv = 0;
    for (size_t i = 0; i < props.n; i++) {
        if (strcmp(props.keys[i], "format-version") == 0) {
            format_version = atoi(props.values[i]);
            continue; /* a creation option, not a table property (as in Java) */
        }
        kv[nkv].key = props.keys[i];
        kv[nkv].value = props.values[i];
        nkv++;
    }
    firn_ice_table_options opts = {0};
    opts.location = json_string_value(json_object_get(j, "location"));
    opts.properties = kv;
    opts.nproperties = nkv;
    opts.format_version = format_version;
    if (firn_ice_table_create(s->cat, ns, name, schema, spec, order, &opts, &t, &err)) {
        respond_firn_error(out, &err, "namespace", "AlreadyExistsException");
        goto done;
    }
    respond_json(out, 200, load_result(t));
done:
    firn_ice_table_free(t);
    firn_error_release(&err);
    json_decref(j);
}

static void h_load_table(firn_rest_server *s, const char *ns, const char *name, bool head,
                         firn_rest_response *out) {
    firn_error err;
    firn_error_init(&err);
    firn_cat_ident id = {ns, name};
    if (head) {
        bool exists = false;
        if (firn_cat_table_exists(s->cat, &id, &exists, &err))
            respond_firn_error(out, &err, "table", NULL);
        else if (!exists)
            respond_error(out, 404, "NoSuchTableException", "table '%s.%s' does not exist", ns,
                          name);
        else
            respond_empty(out, 204);
    } else {
        firn_ice_table *t = NULL;
        if (firn_ice_table_load(s->cat, ns, name, &t, &err))
            respond_firn_error(out, &err, "table", NULL);
        else
            respond_json(out, 200, load_result(t));
        firn_ice_table_free(t);
    }
    firn_error_release(&err);
}

static void h_register_table(firn_rest_server *s, firn_arena *a, const char *ns,
                             const uint8_t *body, size_t len, firn_rest_response *out) {
    (void)a;
    json_t *j = parse_body(body, len, out);
    if (!j) return;
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *loc = json_string_value(json_object_get(j, "metadata-location"));
    if (!name || !loc) {
        respond_error(out, 400, "BadRequestException",
                      "register: 'name' and 'metadata-location' are required");
        json_decref(j);
        return;
    }
    if (json_is_true(json_object_get(j, "overwrite"))) {
        respond_error(out, 406, "UnsupportedOperationException",
                      "register with overwrite is not supported");
        json_decref(j);
        return;
    }
    firn_error err;
    firn_error_init(&err);
    firn_cat_ident id = {ns, name};
    firn_ice_table *t = NULL;
    if (firn_cat_register_table(s->cat, &id, loc, &err))
        respond_firn_error(out, &err, "namespace", "AlreadyExistsException");
    else if (firn_ice_table_load(s->cat, ns, name, &t, &err))
        respond_firn_error(out, &err, "table", NULL);
    else
        respond_json(out, 200, load_result(t));
    firn_ice_table_free(t);
    firn_error_release(&err);
    json_decref(j);
}

typedef struct purge_ctx {
    firn_buf paths; /* NUL-separated */
    size_t n;
} purge_ctx;

static int purge_collect(void *ctx, const firn_io_entry *e, firn_error *err) {
    (void)err;
    purge_ctx *p = ctx;
    firn_buf_append(&p->paths, e->location, strlen(e->location) + 1);
    p->n++;
    return 0;
}

static void h_drop_table(firn_rest_server *s, firn_arena *a, const char *ns, const char *name,
                         const char *query, firn_rest_response *out) {
    const char *purge = query_get(a, query, "purgeRequested");
    bool do_purge = purge && strcasecmp(purge, "true") == 0;
    firn_error err;
    firn_error_init(&err);
    firn_cat_ident id = {ns, name};
    firn_ice_table *t = NULL;
    if (do_purge && firn_ice_table_load(s->cat, ns, name, &t, &err)) {
        respond_firn_error(out, &err, "table", NULL);
        goto done;
    }
    const char *last = NULL;
    if (firn_cat_drop_table(s->cat, &id, a, &last, &err)) {
        respond_firn_error(out, &err, "table", NULL);
        goto done;
    }
    if (do_purge) {
        /* Everything under the table's location: firn's tables own their
         * directory. Best effort: the table is already gone from the catalog. */
        purge_ctx pc = {0};
        firn_error e2;
        firn_error_init(&e2);
        if (firn_io_list(t->io, t->metadata->location, purge_collect, &pc, &e2) == 0 && pc.n) {
            const char **locs = firn_xmalloc(pc.n * sizeof *locs);
            const char *p = (const char *)pc.paths.data;
            for (size_t i = 0; i < pc.n; i++) {
                locs[i] = p;
                p += strlen(p) + 1;
            }
            firn_io_delete_batch(t->io, locs, pc.n, NULL, &e2);
            free(locs);
        }
        firn_error_release(&e2);
        firn_buf_release(&pc.paths);
    }
    respond_empty(out, 204);
done:
    firn_ice_table_free(t);
    firn_error_release(&err);
}

static int ident_from_json(firn_arena *a, const json_t *j, firn_cat_ident *id,
                           firn_rest_response *out) {
    const char *name = json_string_value(json_object_get(j, "name"));
    if (!json_is_object(j) || !name) {
        respond_error(out, 400, "BadRequestException",
                      "a table identifier needs 'namespace' and 'name'");
        return -1;
    }
    const char *ns = ns_from_json(a, json_object_get(j, "namespace"), out);
    if (!ns) return -1;
    id->ns = ns;
    id->name = firn_arena_strdup(a, name);
    return 0;
}

static void h_rename_table(firn_rest_server *s, firn_arena *a, const uint8_t *body, size_t len,
                           firn_rest_response *out) {
    json_t *j = parse_body(body, len, out);
    if (!j) return;
    firn_cat_ident from, to;
    if (ident_from_json(a, json_object_get(j, "source"), &from, out) == 0 &&
        ident_from_json(a, json_object_get(j, "destination"), &to, out) == 0) {
        firn_error err;
        firn_error_init(&err);
        bool exists = false;
        if (firn_cat_table_exists(s->cat, &from, &exists, &err) == 0 && !exists) {
            respond_error(out, 404, "NoSuchTableException", "table '%s.%s' does not exist",
                          from.ns, from.name);
        } else if (err.kind == 0 && firn_cat_rename_table(s->cat, &from, &to, &err) == 0) {
            respond_empty(out, 204);
        } else {
            respond_firn_error(out, &err, "namespace", "AlreadyExistsException");
        }
        firn_error_release(&err);
    }
    json_decref(j);
}

static void h_metrics(firn_rest_server *s, const char *ns, const char *name, const uint8_t *body,
                      size_t len, firn_rest_response *out) {
    json_t *j = parse_body(body, len, out);
    if (!j) return;
    json_decref(j);
    firn_error err;
    firn_error_init(&err);
    firn_cat_ident id = {ns, name};
    bool exists = false;
    if (firn_cat_table_exists(s->cat, &id, &exists, &err))
        respond_firn_error(out, &err, "table", NULL);
    else if (!exists)
        respond_error(out, 404, "NoSuchTableException", "table '%s.%s' does not exist", ns, name);
    else
        respond_empty(out, 204);
    firn_error_release(&err);
}

/* ------------------------------------------------------------ commits */

/* One table's requirements and updates, applied at each commit attempt. */
typedef struct table_change {
    firn_cat_ident id;
    const json_t *requirements; /* array */
    const json_t *updates;      /* array */
    firn_ice_table *table;
    bool requirement_failed;
} table_change;

static bool json_int_is(const json_t *v, int64_t want) {
    return json_is_integer(v) && json_integer_value(v) == want;
}

/* Check one requirement against md (the table's current metadata). A failure
 * is FIRN_ERR_CONFLICT naming what differs; a malformed one FIRN_ERR_INVALID. */
static int check_requirement(const firn_ice_metadata *md, const json_t *r, firn_error *err) {
    const char *type = json_string_value(json_object_get(r, "type"));
    if (!type) return FIRN_RAISE(err, FIRN_ERR_INVALID, "requirement without a 'type'");
    if (strcmp(type, "assert-create") == 0)
        return FIRN_RAISE(err, FIRN_ERR_CONFLICT, "requirement failed: table already exists");
    if (strcmp(type, "assert-table-uuid") == 0) {
        const char *u = json_string_value(json_object_get(r, "uuid"));
        if (!u) return FIRN_RAISE(err, FIRN_ERR_INVALID, "assert-table-uuid without 'uuid'");
        if (strcasecmp(u, md->table_uuid) != 0)
            return FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                              "requirement failed: table uuid is %s, expected %s", md->table_uuid,
                              u);
        return 0;
    }
    if (strcmp(type, "assert-ref-snapshot-id") == 0) {
        const char *ref = json_string_value(json_object_get(r, "ref"));
        const json_t *sid = json_object_get(r, "snapshot-id");
        if (!ref || !sid || !(json_is_null(sid) || json_is_integer(sid)))
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "assert-ref-snapshot-id needs 'ref' and 'snapshot-id'");
        const firn_ice_ref *cur = firn_ice_metadata_ref(md, ref);
        if (json_is_null(sid)) {
            if (cur)
                return FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                                  "requirement failed: ref '%s' was created concurrently (it "
                                  "points at snapshot %lld)",
                                  ref, (long long)cur->snapshot_id);
            return 0;
        }
        if (!cur)
            return FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                              "requirement failed: ref '%s' is missing, expected snapshot %lld",
                              ref, (long long)json_integer_value(sid));
        if (cur->snapshot_id != json_integer_value(sid))
            return FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                              "requirement failed: ref '%s' points at snapshot %lld, expected "
                              "%lld",
                              ref, (long long)cur->snapshot_id,
                              (long long)json_integer_value(sid));
        return 0;
    }
    static const struct {
        const char *type, *field;
        int which;
    } ints[] = {
        {"assert-last-assigned-field-id", "last-assigned-field-id", 0},
        {"assert-current-schema-id", "current-schema-id", 1},
        {"assert-last-assigned-partition-id", "last-assigned-partition-id", 2},
        {"assert-default-spec-id", "default-spec-id", 3},
        {"assert-default-sort-order-id", "default-sort-order-id", 4},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (strcmp(type, ints[i].type) != 0) continue;
        const json_t *v = json_object_get(r, ints[i].field);
        if (!json_is_integer(v))
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "%s needs an integer '%s'", type,
                              ints[i].field);
        int64_t cur = ints[i].which == 0   ? md->last_column_id
                      : ints[i].which == 1 ? md->current_schema_id
                      : ints[i].which == 2 ? md->last_partition_id
                      : ints[i].which == 3 ? md->default_spec_id
                                           : md->default_sort_order_id;
        if (!json_int_is(v, cur))
            return FIRN_RAISE(err, FIRN_ERR_CONFLICT, "requirement failed: %s is %lld, expected %lld",
                              ints[i].field, (long long)cur, (long long)json_integer_value(v));
        return 0;
    }
    return FIRN_RAISE(err, FIRN_ERR_INVALID, "unknown requirement type '%s'", type);
}

static int apply_change(void *ctx, firn_ice_metadata *md, firn_error *err) {
    table_change *c = ctx;
    c->requirement_failed = false;
    for (size_t i = 0; i < json_array_size(c->requirements); i++) {
        int rc = check_requirement(md, json_array_get(c->requirements, i), err);
        if (rc) {
            if (err->kind == FIRN_ERR_CONFLICT) c->requirement_failed = true;
            return rc;
        }
    }
    for (size_t i = 0; i < json_array_size(c->updates); i++) {
        int rc = firn_ice_metadata_apply_update_json(md, json_array_get(c->updates, i), err);
        if (rc) {
            FIRN_WRAP(err, err->kind, "updates[%zu]", i);
            return rc;
        }
    }
    return 0;
}

/* Parse one CommitTableRequest (id given by the path, or by its identifier). */
static int parse_change(firn_arena *a, const json_t *j, const firn_cat_ident *path_id,
                        table_change *c, firn_rest_response *out) {
    memset(c, 0, sizeof *c);
    if (!json_is_object(j)) {
        respond_error(out, 400, "BadRequestException", "a table change must be an object");
        return -1;
    }
    const json_t *ident = json_object_get(j, "identifier");
    if (path_id) {
        c->id = *path_id;
    } else if (!ident) {
        respond_error(out, 400, "BadRequestException",
                      "each table change of a transaction needs an 'identifier'");
        return -1;
    }
    if (ident && ident_from_json(a, ident, &c->id, out)) return -1;
    if (path_id && (strcmp(c->id.ns, path_id->ns) || strcmp(c->id.name, path_id->name))) {
        respond_error(out, 400, "BadRequestException",
                      "the identifier in the body does not match the path");
        return -1;
    }
    c->requirements = json_object_get(j, "requirements");
    c->updates = json_object_get(j, "updates");
    if (!json_is_array(c->requirements) || !json_is_array(c->updates)) {
        respond_error(out, 400, "BadRequestException",
                      "a table change needs 'requirements' and 'updates' arrays");
        return -1;
    }
    return 0;
}

static bool has_assert_create(const table_change *c) {
    for (size_t i = 0; i < json_array_size(c->requirements); i++) {
        const char *t = json_string_value(json_object_get(json_array_get(c->requirements, i), "type"));
        if (t && strcmp(t, "assert-create") == 0) return true;
    }
    return false;
}

/* Load, check, apply and commit changes[0..n) all or none. single: answer
 * CommitTableResponse (else 204). */
static void commit_changes(firn_rest_server *s, table_change *cs, size_t n, bool single,
                           firn_rest_response *out) {
    firn_error err;
    firn_error_init(&err);
    firn_ice_update *ups = firn_xcalloc(n ? n : 1, sizeof *ups);
    firn_ice_table_change *tcs = firn_xcalloc(n ? n : 1, sizeof *tcs);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < i; k++)
            if (strcmp(cs[k].id.ns, cs[i].id.ns) == 0 && strcmp(cs[k].id.name, cs[i].id.name) == 0) {
                respond_error(out, 400, "BadRequestException",
                              "table '%s.%s' appears twice in one transaction", cs[i].id.ns,
                              cs[i].id.name);
                goto done;
            }
        if (firn_ice_table_load(s->cat, cs[i].id.ns, cs[i].id.name, &cs[i].table, &err)) {
            if (err.kind == FIRN_ERR_NOT_FOUND && has_assert_create(&cs[i]))
                respond_error(out, 406, "UnsupportedOperationException",
                              "create transactions (assert-create on a new table) are not "
                              "supported by firn's REST catalog");
            else
                respond_firn_error(out, &err, "table", NULL);
            goto done;
        }
        ups[i].apply = apply_change;
        ups[i].ctx = &cs[i];
        tcs[i].table = cs[i].table;
        tcs[i].updates = &ups[i];
        tcs[i].nupdates = 1;
    }
    firn_ice_commit_info info;
    if (firn_ice_table_commit_multi(tcs, n, &info, &err)) {
        bool req = false;
        for (size_t i = 0; i < n; i++) req |= cs[i].requirement_failed;
        char buf[1024];
        firn_error_format(&err, buf, sizeof buf);
        if (info.state == FIRN_ICE_COMMIT_UNKNOWN)
            respond_error(out, 500, "CommitStateUnknownException", "%s", buf);
        else if (req || err.kind == FIRN_ERR_CONFLICT)
            respond_error(out, 409, "CommitFailedException", "%s", buf);
        else
            respond_firn_error(out, &err, "table", NULL);
        goto done;
    }
    if (single)
        respond_json(out, 200,
                     json_pack("{s:s, s:o}", "metadata-location", cs[0].table->metadata_location,
                               "metadata", firn_ice_metadata_to_json(cs[0].table->metadata)));
    else
        respond_empty(out, 204);
done:
    for (size_t i = 0; i < n; i++) {
        firn_ice_table_free(cs[i].table);
        cs[i].table = NULL;
    }
    free(ups);
    free(tcs);
    firn_error_release(&err);
}

static void h_commit_table(firn_rest_server *s, firn_arena *a, const char *ns, const char *name,
                           const uint8_t *body, size_t len, firn_rest_response *out) {
    json_t *j = parse_body(body, len, out);
    if (!j) return;
    firn_cat_ident id = {ns, name};
    table_change c;
    if (parse_change(a, j, &id, &c, out) == 0) commit_changes(s, &c, 1, true, out);
    json_decref(j);
}

static void h_commit_transaction(firn_rest_server *s, firn_arena *a, const uint8_t *body,
                                 size_t len, firn_rest_response *out) {
    json_t *j = parse_body(body, len, out);
    if (!j) return;
    const json_t *arr = json_object_get(j, "table-changes");
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        respond_error(out, 400, "BadRequestException",
                      "transactions/commit needs a non-empty 'table-changes' array");
        json_decref(j);
        return;
    }
    size_t n = json_array_size(arr);
    table_change *cs = firn_arena_calloc(a, n * sizeof *cs);
    for (size_t i = 0; i < n; i++)
        if (parse_change(a, json_array_get(arr, i), NULL, &cs[i], out)) goto done;
    commit_changes(s, cs, n, false, out);
done:
    json_decref(j);
}

/* ------------------------------------------------------------ routing */

#define MAX_SEGS 8

static void route(firn_rest_server *s, firn_arena *a, const char *method, const char *path,
                  const char *query, const uint8_t *body, size_t len, firn_rest_response *out) {
    const char *segs[MAX_SEGS];
    size_t n = 0;
    for (const char *p = path; *p;) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (n == MAX_SEGS) {
            respond_error(out, 404, "NotFoundException", "no route for %s", path);
            return;
        }
        if (memmem(p, l, "%00", 3)) {
            respond_error(out, 400, "BadRequestException", "a path segment holds a NUL byte");
            return;
        }
        segs[n++] = url_decode(a, p, l, false);
        p += l;
        json_t *utf8 = json_string(segs[n - 1]); /* NULL: not UTF-8 */
        if (!utf8) {
            respond_error(out, 400, "BadRequestException", "a path segment is not UTF-8");
            return;
        }
        json_decref(utf8);
    }
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0,
         head = strcmp(method, "HEAD") == 0, del = strcmp(method, "DELETE") == 0;
    if (n < 2 || strcmp(segs[0], "v1") != 0) goto not_found;
    size_t i = 1;
    if (n == 2 && strcmp(segs[1], "config") == 0) {
        if (!get) goto bad_method;
        h_config(s, out);
        return;
    }
    if (strcmp(segs[1], "namespaces") && strcmp(segs[1], "tables") &&
        strcmp(segs[1], "transactions")) {
        if (s->prefix && strcmp(segs[1], s->prefix) == 0) i = 2;
        else goto not_found;
    }
    const char **r = segs + i; /* the route below the prefix */
    size_t m = n - i;
    if (m == 0) goto not_found;
    if (strcmp(r[0], "namespaces") == 0) {
        if (m == 1) {
            if (get) h_list_namespaces(s, a, query, out);
            else if (post) h_create_namespace(s, a, body, len, out);
            else goto bad_method;
            return;
        }
        const char *ns = ns_from_levels(a, r[1], out);
        if (!ns) return;
        if (m == 2) {
            if (get || head) h_load_namespace(s, a, ns, head, out);
            else if (del) h_drop_namespace(s, ns, out);
            else goto bad_method;
            return;
        }
        if (m == 3 && strcmp(r[2], "properties") == 0) {
            if (!post) goto bad_method;
            h_update_namespace(s, a, ns, body, len, out);
            return;
        }
        if (m == 3 && strcmp(r[2], "register") == 0) {
            if (!post) goto bad_method;
            h_register_table(s, a, ns, body, len, out);
            return;
        }
        if (strcmp(r[2], "tables") != 0) goto not_found;
        if (m == 3) {
            if (get) h_list_tables(s, a, ns, query, out);
            else if (post) h_create_table(s, a, ns, body, len, out);
            else goto bad_method;
            return;
        }
        const char *name = r[3];
        if (m == 4) {
            if (get || head) h_load_table(s, ns, name, head, out);
            else if (post) h_commit_table(s, a, ns, name, body, len, out);
            else if (del) h_drop_table(s, a, ns, name, query, out);
            else goto bad_method;
            return;
        }
        if (m == 5 && strcmp(r[4], "metrics") == 0) {
            if (!post) goto bad_method;
            h_metrics(s, ns, name, body, len, out);
            return;
        }
        goto not_found;
    }
    if (m == 2 && strcmp(r[0], "tables") == 0 && strcmp(r[1], "rename") == 0) {
        if (!post) goto bad_method;
        h_rename_table(s, a, body, len, out);
        return;
    }
    if (m == 2 && strcmp(r[0], "transactions") == 0 && strcmp(r[1], "commit") == 0) {
        if (!post) goto bad_method;
        if (s->no_transactions) {
            respond_error(out, 406, "UnsupportedOperationException",
                          "this server does not offer multi-table transactions "
                          "(transactions/commit is not in its endpoints)");
            return;
        }
        h_commit_transaction(s, a, body, len, out);
        return;
    }
not_found:
    respond_error(out, 404, "NotFoundException", "no route for %s %s", method, path);
    return;
bad_method:
    respond_error(out, 405, "MethodNotAllowedException", "%s is not allowed on %s", method, path);
}

int firn_rest_handle(firn_rest_server *s, const char *method, const char *path, const char *query,
                     const uint8_t *body, size_t len, firn_rest_response *out) {
    memset(out, 0, sizeof *out);
    firn_arena a;
    firn_arena_init(&a, 4096);
    pthread_mutex_lock(&s->mu);
    route(s, &a, method ? method : "GET", path ? path : "/", query, body, len, out);
    pthread_mutex_unlock(&s->mu);
    firn_arena_release(&a);
    if (out->status == 0) {
        respond_error(out, 500, "InternalServerError", "no response");
    }
    if (out->status != 204 && !out->body) return -FIRN_ERR_NOMEM;
    return 0;
}
