/*
 * catalog.c - the catalog interface: opening by URI, checking names and
 * arguments once for every backend, table registration, default locations
 * and the commit retry loop.
 */
#include "catalog/catalog_internal.h"
#include "io/io.h"

#include <jansson.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAME 255      /* VARCHAR(255) columns */
#define MAX_LOCATION 1000 /* VARCHAR(1000) columns */

/* ------------------------------------------------------------ names */

int firn_cat_check_namespace(const char *ns, firn_error *err) {
    if (!ns || !*ns)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty namespace name");
    size_t n = strlen(ns);
    if (n > MAX_NAME)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "namespace name is %zu bytes long; the catalog holds at most %d", n,
                          MAX_NAME);
    if (ns[0] == '.' || ns[n - 1] == '.' || strstr(ns, ".."))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "invalid namespace '%s': levels are joined by single dots and none "
                          "may be empty",
                          ns);
    return 0;
}

int firn_cat_check_ident(const firn_cat_ident *id, firn_error *err) {
    int rc = firn_cat_check_namespace(id->ns, err);
    if (rc) return rc;
    if (!id->name || !*id->name)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty table name in namespace '%s'", id->ns);
    if (strlen(id->name) > MAX_NAME)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "table name is %zu bytes long; the catalog holds at most %d",
                          strlen(id->name), MAX_NAME);
    if (strchr(id->name, '.'))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "invalid table name '%s': a table name cannot contain '.'", id->name);
    return 0;
}

int firn_cat_ident_parse(const char *text, firn_arena *a, firn_cat_ident *out, firn_error *err) {
    const char *dot = text ? strrchr(text, '.') : NULL;
    if (!dot)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "invalid table name '%s': expected NAMESPACE.TABLE", text ? text : "");
    firn_cat_ident id = {firn_arena_strndup(a, text, (size_t)(dot - text)),
                         firn_arena_strdup(a, dot + 1)};
    int rc = firn_cat_check_ident(&id, err);
    if (rc) return rc;
    *out = id;
    return 0;
}

json_t *firn_cat_namespace_to_json(const char *ns) {
    json_t *arr = json_array();
    const char *p = ns;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        json_array_append_new(arr, json_stringn(p, n));
        if (!dot) break;
        p = dot + 1;
    }
    return arr;
}

int firn_cat_ident_split(const char *text, char *ns, size_t nsn, char *name, size_t nn,
                         firn_error *err) {
    const char *dot = strrchr(text, '.');
    if (!dot || dot == text || !dot[1] || (size_t)(dot - text) >= nsn || strlen(dot + 1) >= nn)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "table name '%s': want namespace.table", text);
    memcpy(ns, text, (size_t)(dot - text));
    ns[dot - text] = 0;
    snprintf(name, nn, "%s", dot + 1);
    return 0;
}

static int check_location(const char *what, const char *loc, firn_error *err) {
    if (!loc || !*loc) return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty %s", what);
    if (strlen(loc) > MAX_LOCATION)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "%s is %zu bytes long; the catalog holds at most %d", what,
                          strlen(loc), MAX_LOCATION);
    return 0;
}

static int check_props(const firn_cat_props *props, firn_error *err) {
    for (size_t i = 0; props && i < props->n; i++) {
        const char *k = props->keys[i], *v = props->values[i];
        if (!k || !*k) return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty property name");
        if (strcmp(k, "exists") == 0)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "property 'exists' is reserved: the catalog uses it to mark "
                              "namespaces");
        if (strlen(k) > MAX_NAME)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "property name '%.40s...' is longer than %d",
                              k, MAX_NAME);
        if (!v) return FIRN_RAISE(err, FIRN_ERR_INVALID, "property '%s' has no value", k);
        if (strlen(v) > MAX_LOCATION)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "value of property '%s' is longer than %d",
                              k, MAX_LOCATION);
    }
    return 0;
}

/* ------------------------------------------------------------ open */

static bool starts(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int normalize_warehouse(const firn_cat_config *cfg, char **out, firn_error *err) {
    *out = NULL;
    if (!cfg || !cfg->warehouse) return 0;
    int rc = firn_io_uri_normalize(cfg->warehouse, NULL, out, err);
    if (rc) return FIRN_WRAP(err, FIRN_ERR_INVALID, "invalid warehouse location");
    return 0;
}

/* postgresql://...: the libpq driver under the same SQL catalog. */
static int open_postgres(const char *uri, const char *name, const firn_cat_config *cfg,
                         firn_catalog **out, firn_error *err) {
    char *warehouse;
    int rc = normalize_warehouse(cfg, &warehouse, err);
    if (rc) return rc;
    firn_cat_sql_conn *conn;
    rc = firn_cat_pg_open(uri, cfg, &conn, err);
    if (rc == 0) rc = firn_cat_sql_new(conn, name, warehouse, cfg, out, err);
    free(warehouse);
    if (rc) {
        char *shown = firn_cat_redact_uri(uri);
        FIRN_WRAP(err, err ? err->kind : FIRN_ERR_IO, "cannot open catalog %s", shown);
        free(shown);
    }
    return rc;
}

int firn_cat_open(const char *uri, const firn_cat_config *cfg, firn_catalog **out,
                  firn_error *err) {
    *out = NULL;
    if (!uri || !*uri) return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty catalog URI");
    const char *name = cfg && cfg->name ? cfg->name : "default";
    if (!*name || strlen(name) > MAX_NAME)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "catalog name must have 1 to %d bytes",
                          MAX_NAME);
    int rc;
    if (starts(uri, "postgresql:") || starts(uri, "postgres:") || starts(uri, "jdbc:postgresql:"))
        return open_postgres(starts(uri, "jdbc:") ? uri + 5 : uri, name, cfg, out, err);
    if (starts(uri, "http:") || starts(uri, "https:")) {
        rc = firn_cat_rest_open(uri, name, cfg, out, err);
        if (rc) firn_error_context(err, "%s", uri);
        return rc;
    }
    const char *rest;
    if (starts(uri, "jdbc:sqlite:")) rest = uri + 12;
    else if (starts(uri, "sqlite:")) rest = uri + 7;
    else {
        rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                        "unknown catalog URI: expected sqlite:PATH or "
                        "postgresql://USER@HOST:PORT/DB");
        firn_error_context(err, "%s", uri);
        return rc;
    }

    char *path = NULL, *warehouse = NULL;
    if (strcmp(rest, ":memory:") == 0) {
        path = firn_xstrdup(":memory:");
    } else {
        if (rest[0] == '/' && rest[1] == '/') {
            if (rest[2] != '/') {
                rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                                "catalog URI names a host; use sqlite:PATH or sqlite:///abs/path");
                firn_error_context(err, "%s", uri);
                return rc;
            }
            rest += 2;
        }
        if (!*rest) {
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "catalog URI has no database path");
            firn_error_context(err, "%s", uri);
            return rc;
        }
        rc = firn_io_uri_to_path(rest, NULL, &path, err);
        if (rc) return rc;
    }
    if (cfg && cfg->warehouse) {
        rc = firn_io_uri_normalize(cfg->warehouse, NULL, &warehouse, err);
        if (rc) {
            free(path);
            return FIRN_WRAP(err, FIRN_ERR_INVALID, "invalid warehouse location");
        }
    }
    firn_cat_sql_conn *conn;
    rc = firn_cat_sqlite_open(path, cfg ? cfg->busy_timeout_ms : 0, &conn, err);
    free(path);
    if (rc == 0) rc = firn_cat_sql_new(conn, name, warehouse, cfg, out, err);
    free(warehouse);
    if (rc) {
        char ctx[256];
        snprintf(ctx, sizeof ctx, "%s", uri);
        FIRN_WRAP(err, err ? err->kind : FIRN_ERR_IO, "cannot open catalog");
        firn_error_context(err, "%s", ctx);
    }
    return rc;
}

void firn_cat_free(firn_catalog *cat) {
    if (cat) cat->ops->free(cat);
}

const char *firn_cat_name(const firn_catalog *cat) { return cat->name; }
const char *firn_cat_kind(const firn_catalog *cat) { return cat->kind; }

/* ------------------------------------------------------------ namespaces */

int firn_cat_create_namespace(firn_catalog *cat, const char *ns, const firn_cat_props *props,
                              firn_error *err) {
    int rc = firn_cat_check_namespace(ns, err);
    if (rc == 0) rc = check_props(props, err);
    if (rc == 0) rc = cat->ops->create_namespace(cat, ns, props, err);
    return rc;
}

int firn_cat_namespace_exists(firn_catalog *cat, const char *ns, bool *exists, firn_error *err) {
    int rc = firn_cat_check_namespace(ns, err);
    if (rc == 0) rc = cat->ops->namespace_exists(cat, ns, exists, err);
    return rc;
}

int firn_cat_list_namespaces(firn_catalog *cat, const char *parent, firn_arena *a,
                             const char ***out, size_t *n, firn_error *err) {
    *out = NULL;
    *n = 0;
    if (parent && !*parent) parent = NULL;
    int rc = parent ? firn_cat_check_namespace(parent, err) : 0;
    if (rc == 0) rc = cat->ops->list_namespaces(cat, parent, a, out, n, err);
    return rc;
}

int firn_cat_load_namespace(firn_catalog *cat, const char *ns, firn_arena *a,
                            firn_cat_props *out, firn_error *err) {
    memset(out, 0, sizeof *out);
    int rc = firn_cat_check_namespace(ns, err);
    if (rc == 0) rc = cat->ops->load_namespace(cat, ns, a, out, err);
    return rc;
}

int firn_cat_update_namespace(firn_catalog *cat, const char *ns, const firn_cat_props *set,
                              const char *const *remove, size_t nremove, firn_error *err) {
    int rc = firn_cat_check_namespace(ns, err);
    if (rc == 0) rc = check_props(set, err);
    for (size_t i = 0; rc == 0 && i < nremove; i++) {
        if (!remove[i] || !*remove[i])
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "empty property name to remove");
        else if (strcmp(remove[i], "exists") == 0)
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                            "property 'exists' is reserved: drop the namespace instead");
        for (size_t k = 0; rc == 0 && set && k < set->n; k++)
            if (strcmp(set->keys[k], remove[i]) == 0)
                rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                                "property '%s' is both set and removed", remove[i]);
    }
    if (rc == 0) rc = cat->ops->update_namespace(cat, ns, set, remove, nremove, err);
    return rc;
}

int firn_cat_drop_namespace(firn_catalog *cat, const char *ns, firn_error *err) {
    int rc = firn_cat_check_namespace(ns, err);
    if (rc == 0) rc = cat->ops->drop_namespace(cat, ns, err);
    return rc;
}

/* ------------------------------------------------------------ tables */

int firn_cat_create_table(firn_catalog *cat, const firn_cat_ident *id,
                          const char *metadata_location, firn_error *err) {
    int rc = firn_cat_check_ident(id, err);
    if (rc == 0) rc = check_location("metadata location", metadata_location, err);
    if (rc == 0) rc = cat->ops->create_table(cat, id, metadata_location, err);
    return rc;
}

int firn_cat_register_table(firn_catalog *cat, const firn_cat_ident *id,
                            const char *metadata_location, firn_error *err) {
    int rc = firn_cat_check_ident(id, err);
    if (rc == 0) rc = check_location("metadata location", metadata_location, err);
    if (rc) return rc;
    char *loc = NULL;
    firn_io *io = NULL;
    rc = firn_io_uri_normalize(metadata_location, NULL, &loc, err);
    if (rc == 0) rc = check_location("metadata location", loc, err);
    if (rc == 0) rc = firn_io_new_for_uri(loc, &io, err);
    bool exists = false;
    if (rc == 0) rc = firn_io_exists(io, loc, &exists, err);
    if (rc == 0 && !exists) {
        rc = FIRN_RAISE(err, FIRN_ERR_NOT_FOUND,
                        "cannot register table '%s.%s': its metadata file does not exist",
                        id->ns, id->name);
        firn_error_context(err, "%s", loc);
    }
    if (rc == 0) rc = cat->ops->create_table(cat, id, loc, err);
    firn_io_free(io);
    free(loc);
    return rc;
}

int firn_cat_load_table(firn_catalog *cat, const firn_cat_ident *id, firn_arena *a,
                        firn_cat_table *out, firn_error *err) {
    memset(out, 0, sizeof *out);
    int rc = firn_cat_check_ident(id, err);
    if (rc == 0) rc = cat->ops->load_table(cat, id, a, out, err);
    return rc;
}

int firn_cat_table_exists(firn_catalog *cat, const firn_cat_ident *id, bool *exists,
                          firn_error *err) {
    firn_arena a;
    firn_arena_init(&a, 1024);
    firn_cat_table t;
    firn_error e2;
    firn_error_init(&e2);
    int rc = firn_cat_load_table(cat, id, &a, &t, &e2);
    firn_arena_release(&a);
    *exists = rc == 0;
    if (rc == 0 || e2.kind == FIRN_ERR_NOT_FOUND) {
        firn_error_release(&e2);
        return 0;
    }
    if (err) {
        firn_error_release(err);
        *err = e2;
    } else {
        firn_error_release(&e2);
    }
    return rc;
}

int firn_cat_list_tables(firn_catalog *cat, const char *ns, firn_arena *a, const char ***names,
                         size_t *n, firn_error *err) {
    *names = NULL;
    *n = 0;
    int rc = firn_cat_check_namespace(ns, err);
    if (rc == 0) rc = cat->ops->list_tables(cat, ns, a, names, n, err);
    return rc;
}

int firn_cat_rename_table(firn_catalog *cat, const firn_cat_ident *from,
                          const firn_cat_ident *to, firn_error *err) {
    int rc = firn_cat_check_ident(from, err);
    if (rc == 0) rc = firn_cat_check_ident(to, err);
    if (rc) return rc;
    if (strcmp(from->ns, to->ns) == 0 && strcmp(from->name, to->name) == 0) {
        bool exists;
        rc = firn_cat_table_exists(cat, from, &exists, err);
        if (rc == 0 && !exists)
            rc = FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "table '%s.%s' does not exist", from->ns,
                            from->name);
        return rc;
    }
    return cat->ops->rename_table(cat, from, to, err);
}

int firn_cat_drop_table(firn_catalog *cat, const firn_cat_ident *id, firn_arena *a,
                        const char **last_location, firn_error *err) {
    if (last_location) *last_location = NULL;
    int rc = firn_cat_check_ident(id, err);
    if (rc == 0) rc = cat->ops->drop_table(cat, id, a, last_location, err);
    return rc;
}

int firn_cat_default_location(firn_catalog *cat, const firn_cat_ident *id, firn_arena *a,
                              const char **out, firn_error *err) {
    *out = NULL;
    int rc = firn_cat_check_ident(id, err);
    firn_cat_props props;
    if (rc == 0) rc = firn_cat_load_namespace(cat, id->ns, a, &props, err);
    if (rc) return rc;
    const char *ns_location = NULL;
    for (size_t i = 0; i < props.n; i++)
        if (strcmp(props.keys[i], "location") == 0) ns_location = props.values[i];
    firn_buf b = {0};
    if (ns_location && *ns_location) {
        firn_buf_append_str(&b, ns_location);
    } else if (cat->warehouse) {
        firn_buf_append_str(&b, cat->warehouse);
        firn_buf_put_u8(&b, '/');
        for (const char *p = id->ns; *p; p++) firn_buf_put_u8(&b, *p == '.' ? '/' : (uint8_t)*p);
    } else {
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "no location for table '%s.%s': namespace '%s' has no 'location' "
                          "property and no warehouse is configured",
                          id->ns, id->name, id->ns);
    }
    while (b.len && b.data[b.len - 1] == '/') b.len--;
    firn_buf_put_u8(&b, '/');
    firn_buf_append_str(&b, id->name);
    char *loc;
    rc = firn_io_uri_normalize(firn_buf_cstr(&b), a, &loc, err);
    firn_buf_release(&b);
    if (rc) return rc;
    *out = loc;
    return 0;
}

/* ------------------------------------------------------------ commits */

int firn_cat_commit_tables(firn_catalog *cat, const firn_cat_commit *commits, size_t n,
                           firn_cat_outcome *outcome, firn_error *err) {
    firn_cat_outcome ignored;
    if (!outcome) outcome = &ignored;
    *outcome = FIRN_CAT_NOT_COMMITTED;
    if (n == 0) return FIRN_RAISE(err, FIRN_ERR_INVALID, "nothing to commit");
    for (size_t i = 0; i < n; i++) {
        const firn_cat_commit *k = &commits[i];
        int rc = firn_cat_check_ident(&k->ident, err);
        if (rc == 0) rc = check_location("old metadata location", k->old_location, err);
        if (rc == 0) rc = check_location("new metadata location", k->new_location, err);
        if (rc) return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(commits[j].ident.ns, k->ident.ns) == 0 &&
                strcmp(commits[j].ident.name, k->ident.name) == 0)
                return FIRN_RAISE(err, FIRN_ERR_INVALID,
                                  "table '%s.%s' appears twice in one commit", k->ident.ns,
                                  k->ident.name);
    }
    return cat->ops->commit_tables(cat, commits, n, outcome, err);
}

int firn_cat_commit_lock(firn_catalog *cat, bool *held, firn_error *err) {
    *held = false;
    if (!cat->ops->commit_lock) return 0;
    int rc = cat->ops->commit_lock(cat, err);
    *held = rc == 0;
    return rc;
}

void firn_cat_commit_unlock(firn_catalog *cat) {
    if (cat->ops->commit_unlock) cat->ops->commit_unlock(cat);
}

int firn_cat_commit_table(firn_catalog *cat, const firn_cat_ident *id, const char *old_location,
                          const char *new_location, firn_cat_outcome *outcome, firn_error *err) {
    firn_cat_commit one = {*id, old_location, new_location};
    return firn_cat_commit_tables(cat, &one, 1, outcome, err);
}

bool firn_cat_takes_changes(const firn_catalog *cat) { return cat->ops->commit_changes != NULL; }

bool firn_cat_atomic_multi(const firn_catalog *cat) {
    return cat->ops->atomic_multi ? cat->ops->atomic_multi(cat) : true;
}

int firn_cat_commit_changes(firn_catalog *cat, firn_cat_change *changes, size_t n,
                            firn_cat_outcome *outcome, firn_error *err) {
    firn_cat_outcome ignored;
    if (!outcome) outcome = &ignored;
    *outcome = FIRN_CAT_NOT_COMMITTED;
    if (n == 0) return FIRN_RAISE(err, FIRN_ERR_INVALID, "nothing to commit");
    if (!cat->ops->commit_changes)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "catalog %s commits metadata locations, not changes", cat->kind);
    for (size_t i = 0; i < n; i++) {
        changes[i].new_location = NULL;
        int rc = firn_cat_check_ident(&changes[i].ident, err);
        if (rc) return rc;
        if (!changes[i].requirements_json || !changes[i].updates_json)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "commit of '%s.%s': no requirements/updates",
                              changes[i].ident.ns, changes[i].ident.name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(changes[j].ident.ns, changes[i].ident.ns) == 0 &&
                strcmp(changes[j].ident.name, changes[i].ident.name) == 0)
                return FIRN_RAISE(err, FIRN_ERR_INVALID,
                                  "table '%s.%s' appears twice in one commit",
                                  changes[i].ident.ns, changes[i].ident.name);
    }
    return cat->ops->commit_changes(cat, changes, n, outcome, err);
}

/* ------------------------------------------------------------ retries */

void firn_cat_retry_policy_default(firn_cat_retry_policy *p) {
    p->num_retries = 4;
    p->min_wait_ms = 100;
    p->max_wait_ms = 60 * 1000;
    p->total_timeout_ms = 30 * 60 * 1000;
}

int firn_cat_retry_policy_from_props(firn_cat_retry_policy *p, const firn_cat_props *props,
                                     firn_error *err) {
    static const char *const keys[] = {"commit.retry.num-retries", "commit.retry.min-wait-ms",
                                       "commit.retry.max-wait-ms",
                                       "commit.retry.total-timeout-ms"};
    for (size_t i = 0; props && i < props->n; i++) {
        for (int k = 0; k < 4; k++) {
            if (strcmp(props->keys[i], keys[k]) != 0) continue;
            const char *v = props->values[i];
            char *end;
            errno = 0;
            long long x = strtoll(v, &end, 10);
            if (errno || end == v || *end || x < 0 || (k == 0 && x > 1000000))
                return FIRN_RAISE(err, FIRN_ERR_INVALID,
                                  "table property %s: '%s' is not a non-negative whole number",
                                  keys[k], v);
            if (k == 0) p->num_retries = (int)x;
            else if (k == 1) p->min_wait_ms = x;
            else if (k == 2) p->max_wait_ms = x;
            else p->total_timeout_ms = x;
        }
    }
    return 0;
}

static void sleep_ms(int64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int firn_cat_retry(const firn_cat_retry_policy *p, firn_cat_attempt_fn fn, void *ctx,
                   int *attempts, firn_error *err) {
    firn_cat_retry_policy defaults;
    if (!p) {
        firn_cat_retry_policy_default(&defaults);
        p = &defaults;
    }
    firn_error local;
    firn_error_init(&local);
    firn_error *e = err ? err : &local;
    uint64_t start = firn_now_ns();
    for (int attempt = 1;; attempt++) {
        if (attempts) *attempts = attempt;
        firn_error_release(e);
        int rc = fn(ctx, attempt, e);
        if (rc == 0) {
            firn_error_release(&local);
            return 0;
        }
        bool retriable = e->kind == FIRN_ERR_CONFLICT && e->retriable;
        int64_t elapsed_ms = (int64_t)((firn_now_ns() - start) / 1000000u);
        if (!retriable) {
            firn_error_release(&local);
            return rc;
        }
        if (attempt >= p->num_retries + 1 || (elapsed_ms > p->total_timeout_ms && attempt > 1)) {
            rc = FIRN_WRAP(e, FIRN_ERR_CONFLICT, "commit failed after %d attempt(s) in %lld ms",
                           attempt, (long long)elapsed_ms);
            firn_error_release(&local);
            return rc;
        }
        double delay = (double)p->min_wait_ms;
        for (int k = 1; k < attempt && delay < (double)p->max_wait_ms; k++) delay *= 2;
        if (delay > (double)p->max_wait_ms) delay = (double)p->max_wait_ms;
        int64_t d = (int64_t)delay;
        /* jitter up to 10%, different in every process */
        uint64_t seed[3] = {firn_now_ns(), (uint64_t)getpid(), (uint64_t)attempt};
        int64_t span = d / 10 > 1 ? d / 10 : 1;
        int64_t jitter = (int64_t)(firn_xxh64(seed, sizeof seed, 0) % (uint64_t)span);
        sleep_ms(d + jitter);
    }
}
