/*
 * sql_catalog.c - the SQL catalog: Iceberg's JDBC catalog schema and
 * semantics on any SQL database with a driver (catalog_internal.h).
 *
 * Tables, exactly as Java's JdbcUtil and PyIceberg's SqlCatalog create them:
 *   iceberg_tables(catalog_name, table_namespace, table_name,
 *                  metadata_location, previous_metadata_location, iceberg_type)
 *   iceberg_namespace_properties(catalog_name, namespace, property_key,
 *                                property_value)
 * iceberg_type is 'TABLE', 'VIEW' or NULL (rows written by PyIceberg or an old
 * Java): firn treats NULL as a table and never touches views except to keep
 * their names from being taken. A database without iceberg_type (Java's V0
 * schema) gets the column added unless configured not to; then every row is a
 * table.
 *
 * Every write runs in one transaction opened with the write lock (driver
 * begin(FIRN_SQL_TX_WRITE)), so checks and changes are atomic against other
 * processes. A commit is Java's UPDATE ... WHERE metadata_location = :old with
 * exactly one row changed; several commits share one transaction
 * (FIRN_SQL_TX_CAS: the predicate is the guard, see catalog_internal.h).
 */
#include "catalog/catalog_internal.h"
#include "io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sql_catalog {
    firn_catalog base;
    firn_cat_sql_conn *conn;
    bool v1;     /* iceberg_type column present */
    bool locked; /* a commit lock (write transaction) is open: commit_tables ends it */
} sql_catalog;

#define DRV(c) ((c)->conn->drv)

/* Text arguments for run(): ARGS("a", b) expands to the array and its length. */
#define ARGS(...)                                                                         \
    (const char *const[]){__VA_ARGS__},                                                   \
        (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* Rows of a query go to a callback: return 0 to go on. */
typedef int (*row_fn)(void *ctx, firn_cat_sql_stmt *s, firn_error *err);

/* Prepare, bind, step to the end (rows to fn), finalize. *changes (may be
 * NULL) gets the rows a DML statement changed. */
static int run(sql_catalog *c, const char *sql, const char *const *args, int nargs, row_fn fn,
               void *ctx, int64_t *changes, firn_error *err) {
    firn_cat_sql_stmt *s;
    int rc = DRV(c)->prepare(c->conn, sql, &s, err);
    if (rc) return rc;
    for (int i = 0; i < nargs && rc == 0; i++) rc = DRV(c)->bind_text(s, i + 1, args[i], err);
    while (rc == 0) {
        int r = DRV(c)->step(s, err);
        if (r < 0) rc = r;
        if (r <= 0) break;
        if (fn) rc = fn(ctx, s, err);
    }
    if (rc == 0 && changes) *changes = s->changes;
    DRV(c)->finalize(s);
    return rc;
}

/* For errors that retrying cannot fix (a name taken, a namespace not empty). */
static int final(firn_error *err, int rc) {
    if (err) err->retriable = false;
    return rc;
}

static int row_found(void *ctx, firn_cat_sql_stmt *s, firn_error *err) {
    (void)s, (void)err;
    *(bool *)ctx = true;
    return 0;
}

/* The WHERE clause tail that selects tables (not views). */
static const char *table_pred(const sql_catalog *c) {
    return c->v1 ? " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)" : "";
}

static int begin(sql_catalog *c, firn_cat_sql_tx kind, firn_error *err) {
    return DRV(c)->begin(c->conn, kind, err);
}

/* Commit when rc is 0, roll back otherwise; returns the final rc. */
static int finish(sql_catalog *c, int rc, firn_error *err) {
    if (rc == 0) {
        rc = DRV(c)->commit(c->conn, err);
        if (rc == 0) return 0;
    }
    DRV(c)->rollback(c->conn);
    return rc;
}

/* "ab_c" -> "ab!_c" for LIKE ... ESCAPE '!', then ".%" appended. */
static char *like_children(firn_arena *a, const char *ns) {
    firn_buf b = {0};
    for (const char *p = ns; *p; p++) {
        if (*p == '!' || *p == '_' || *p == '%') firn_buf_put_u8(&b, '!');
        firn_buf_put_u8(&b, (uint8_t)*p);
    }
    firn_buf_append_str(&b, ".%");
    char *out = firn_arena_strndup(a, (const char *)b.data, b.len);
    firn_buf_release(&b);
    return out;
}

/* Whether name is ns or below it ("ns.x..."), exactly (LIKE may be case-insensitive). */
static bool at_or_below(const char *name, const char *ns) {
    size_t n = strlen(ns);
    return strncmp(name, ns, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

/* ------------------------------------------------------------ namespace names */

typedef struct name_set {
    firn_arena *a;
    const char *parent; /* NULL: top level */
    size_t nparent_levels;
    const char **items;
    size_t n, cap;
} name_set;

static size_t count_levels(const char *ns) {
    size_t n = 1;
    for (const char *p = ns; *p; p++) n += *p == '.';
    return n;
}

/* Take a namespace string from column 0; keep its prefix one level below parent. */
static int collect_child(void *ctx, firn_cat_sql_stmt *s, firn_error *err) {
    (void)err;
    name_set *set = ctx;
    const char *ns = s->conn->drv->column_text(s, 0);
    if (!ns || !*ns) return 0;
    if (set->parent && !(at_or_below(ns, set->parent) && ns[strlen(set->parent)] == '.'))
        return 0;
    /* cut after level nparent_levels + 1 */
    const char *p = ns;
    for (size_t lvl = 0; lvl <= set->nparent_levels; lvl++) {
        p = strchr(p, '.');
        if (!p) break;
        if (lvl < set->nparent_levels) p++;
    }
    size_t len = p ? (size_t)(p - ns) : strlen(ns);
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        const char **items = firn_arena_alloc(set->a, cap * sizeof *items);
        if (set->n) memcpy(items, set->items, set->n * sizeof *items);
        set->items = items;
        set->cap = cap;
    }
    set->items[set->n++] = firn_arena_strndup(set->a, ns, len);
    return 0;
}

static int cmp_str(const void *x, const void *y) {
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void sort_unique(const char **items, size_t *n) {
    if (*n == 0) return;
    qsort(items, *n, sizeof *items, cmp_str);
    size_t w = 1;
    for (size_t i = 1; i < *n; i++)
        if (strcmp(items[i], items[w - 1]) != 0) items[w++] = items[i];
    *n = w;
}

/* Children of parent (NULL = top level) from both tables. */
static int child_namespaces(sql_catalog *c, const char *parent, firn_arena *a, const char ***out,
                            size_t *n, firn_error *err) {
    name_set set = {.a = a, .parent = parent, .nparent_levels = parent ? count_levels(parent) : 0};
    int rc;
    if (parent) {
        const char *like = like_children(a, parent);
        rc = run(c,
                 "SELECT DISTINCT table_namespace FROM iceberg_tables WHERE catalog_name = ? "
                 "AND table_namespace LIKE ? ESCAPE '!'",
                 ARGS(c->base.name, like), collect_child, &set, NULL, err);
        if (rc == 0)
            rc = run(c,
                     "SELECT DISTINCT namespace FROM iceberg_namespace_properties WHERE "
                     "catalog_name = ? AND namespace LIKE ? ESCAPE '!'",
                     ARGS(c->base.name, like), collect_child, &set, NULL, err);
    } else {
        rc = run(c, "SELECT DISTINCT table_namespace FROM iceberg_tables WHERE catalog_name = ?",
                 ARGS(c->base.name), collect_child, &set, NULL, err);
        if (rc == 0)
            rc = run(c,
                     "SELECT DISTINCT namespace FROM iceberg_namespace_properties WHERE "
                     "catalog_name = ?",
                     ARGS(c->base.name), collect_child, &set, NULL, err);
    }
    if (rc) return rc;
    sort_unique(set.items, &set.n);
    *out = set.items;
    *n = set.n;
    return 0;
}

typedef struct below_probe {
    const char *ns;
    bool found;
} below_probe;

static int check_below(void *ctx, firn_cat_sql_stmt *s, firn_error *err) {
    (void)err;
    below_probe *p = ctx;
    const char *v = s->conn->drv->column_text(s, 0);
    if (v && at_or_below(v, p->ns)) p->found = true;
    return 0;
}

/* Java's namespaceExists: a property row or a table row for ns or below it. */
static int ns_exists(sql_catalog *c, const char *ns, bool *exists, firn_error *err) {
    bool found = false;
    int rc = run(c,
                 "SELECT 1 FROM iceberg_namespace_properties WHERE catalog_name = ? AND "
                 "namespace = ? LIMIT 1",
                 ARGS(c->base.name, ns), row_found, &found, NULL, err);
    if (rc == 0 && !found)
        rc = run(c,
                 "SELECT 1 FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? "
                 "LIMIT 1",
                 ARGS(c->base.name, ns), row_found, &found, NULL, err);
    if (rc == 0 && !found) {
        firn_arena a;
        firn_arena_init(&a, 1024);
        const char *like = like_children(&a, ns);
        below_probe p = {ns, false};
        rc = run(c,
                 "SELECT DISTINCT namespace FROM iceberg_namespace_properties WHERE "
                 "catalog_name = ? AND namespace LIKE ? ESCAPE '!'",
                 ARGS(c->base.name, like), check_below, &p, NULL, err);
        if (rc == 0 && !p.found)
            rc = run(c,
                     "SELECT DISTINCT table_namespace FROM iceberg_tables WHERE catalog_name = ? "
                     "AND table_namespace LIKE ? ESCAPE '!'",
                     ARGS(c->base.name, like), check_below, &p, NULL, err);
        found = p.found;
        firn_arena_release(&a);
    }
    if (rc) return FIRN_WRAP(err, err ? err->kind : FIRN_ERR_IO,
                             "cannot look up namespace '%s'", ns);
    *exists = found;
    return 0;
}

static int no_such_namespace(firn_error *err, const char *ns) {
    return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND,
                      "namespace '%s' does not exist (create it with 'firn namespace create %s')",
                      ns, ns);
}

static int need_ns(sql_catalog *c, const char *ns, firn_error *err) {
    bool exists;
    int rc = ns_exists(c, ns, &exists, err);
    if (rc == 0 && !exists) rc = no_such_namespace(err, ns);
    return rc;
}

/* ------------------------------------------------------------ namespaces */

static int insert_prop(sql_catalog *c, const char *ns, const char *key, const char *value,
                       firn_error *err) {
    int rc = run(c,
                 "INSERT INTO iceberg_namespace_properties (catalog_name, namespace, "
                 "property_key, property_value) VALUES (?, ?, ?, ?)",
                 ARGS(c->base.name, ns, key, value), NULL, NULL, NULL, err);
    if (rc) FIRN_WRAP(err, err ? err->kind : FIRN_ERR_IO,
                      "cannot set property '%s' of namespace '%s'", key, ns);
    return rc;
}

static int sql_create_namespace(firn_catalog *cat, const char *ns, const firn_cat_props *props,
                                firn_error *err) {
    sql_catalog *c = (sql_catalog *)cat;
    int rc = begin(c, FIRN_SQL_TX_WRITE, err);
    if (rc) return rc;
    bool exists;
    rc = ns_exists(c, ns, &exists, err);
    if (rc == 0 && exists) {
        rc = final(err, FIRN_RAISE(err, FIRN_ERR_CONFLICT, "namespace '%s' already exists", ns));
    }
    for (size_t i = 0; rc == 0 && props && i < props->n; i++)
        rc = insert_prop(c, ns, props->keys[i], props->values[i], err);
    if (rc == 0) rc = insert_prop(c, ns, "exists", "true", err);
    return finish(c, rc, err);
}

static int sql_namespace_exists(firn_catalog *cat, const char *ns, bool *exists,
                                firn_error *err) {
    return ns_exists((sql_catalog *)cat, ns, exists, err);
}

static int sql_list_namespaces(firn_catalog *cat, const char *parent, firn_arena *a,
                               const char ***out, size_t *n, firn_error *err) {
    sql_catalog *c = (sql_catalog *)cat;
    int rc = begin(c, FIRN_SQL_TX_READ, err);
    if (rc) return rc;
    if (parent) rc = need_ns(c, parent, err);
    if (rc == 0) rc = child_namespaces(c, parent, a, out, n, err);
    return finish(c, rc, err);
}

typedef struct props_acc {
    firn_arena *a;
    const char **keys, **values;
    size_t n, cap;
} props_acc;

static int collect_prop(void *ctx, firn_cat_sql_stmt *s, firn_error *err) {
    (void)err;
    props_acc *p = ctx;
    const char *key = s->conn->drv->column_text(s, 0);
    const char *value = s->conn->drv->column_text(s, 1);
    if (!key || strcmp(key, "exists") == 0) return 0; /* reserved, never shown */
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        const char **k = firn_arena_alloc(p->a, cap * sizeof *k);
        const char **v = firn_arena_alloc(p->a, cap * sizeof *v);
        if (p->n) {
            memcpy(k, p->keys, p->n * sizeof *k);
            memcpy(v, p->values, p->n * sizeof *v);
        }
        p->keys = k;
        p->values = v;
        p->cap = cap;
    }
    p->keys[p->n] = firn_arena_strdup(p->a, key);
    p->values[p->n] = firn_arena_strdup(p->a, value ? value : ""); /* Java allows NULL */
    p->n++;
    return 0;
}

static int sql_load_namespace(firn_catalog *cat, const char *ns, firn_arena *a,
                              firn_cat_props *out, firn_error *err) {
    sql_catalog *c = (sql_catalog *)cat;
    int rc = begin(c, FIRN_SQL_TX_READ, err);
    if (rc) return rc;
    rc = need_ns(c, ns, err);
    props_acc acc = {.a = a};
    if (rc == 0)
        rc = run(c,
                 "SELECT property_key, property_value FROM iceberg_namespace_properties WHERE "
                 "catalog_name = ? AND namespace = ? ORDER BY property_key",
                 ARGS(c->base.name, ns), collect_prop, &acc, NULL, err);
    rc = finish(c, rc, err);
    if (rc) return rc;
    out->n = acc.n;
    out->keys = acc.keys;
    out->values = acc.values;
    return 0;
}

static int delete_prop(sql_catalog *c, const char *ns, const char *key, firn_error *err) {
    return run(c,
               "DELETE FROM iceberg_namespace_properties WHERE catalog_name = ? AND "
               "namespace = ? AND property_key = ?",
               ARGS(c->base.name, ns, key), NULL, NULL, NULL, err);
}

static int sql_update_namespace(firn_catalog *cat, const char *ns, const firn_cat_props *set,
                                const char *const *remove, size_t nremove, firn_error *err) {
    sql_catalog *c = (sql_catalog *)cat;
    int rc = begin(c, FIRN_SQL_TX_WRITE, err);
    if (rc) return rc;
    rc = need_ns(c, ns, err);
    for (size_t i = 0; rc == 0 && i < nremove; i++) rc = delete_prop(c, ns, remove[i], err);
    /* delete + insert: the portable upsert, atomic inside the transaction */
    for (size_t i = 0; rc == 0 && set && i < set->n; i++) {
        rc = delete_prop(c, ns, set->keys[i], err);
        if (rc == 0) rc = insert_prop(c, ns, set->keys[i], set->values[i], err);
    }
    /* a namespace known only through its tables gets its marker now, so it
     * keeps existing whatever happens to the properties */
    if (rc == 0 && set && set->n) {
        rc = delete_prop(c, ns, "exists", err);
        if (rc == 0) rc = insert_prop(c, ns, "exists", "true", err);
    }
    return finish(c, rc, err);
}

typedef struct counter {
    size_t n;
} counter;

static int count_row(void *ctx, firn_cat_sql_stmt *s, firn_error *err) {
    (void)s, (void)err;
    ((counter *)ctx)->n++;
    return 0;
}

static int sql_drop_namespace(firn_catalog *cat, const char *ns, firn_error *err) {
    sql_catalog *c = (sql_catalog *)cat;
    int rc = begin(c, FIRN_SQL_TX_WRITE, err);
    if (rc) return rc;
    rc = need_ns(c, ns, err);
    firn_arena a;
    firn_arena_init(&a, 0);
    const char **children = NULL;
    size_t nchildren = 0;
    if (rc == 0) rc = child_namespaces(c, ns, &a, &children, &nchildren, err);
    counter tables = {0}, views = {0};
    if (rc == 0) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND "
                 "table_namespace = ?%s",
                 table_pred(c));
        rc = run(c, sql, ARGS(c->base.name, ns), count_row, &tables, NULL, err);
    }
    if (rc == 0 && c->v1)
        rc = run(c,
                 "SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND "
                 "table_namespace = ? AND iceberg_type = 'VIEW'",
                 ARGS(c->base.name, ns), count_row, &views, NULL, err);
    if (rc == 0 && (nchildren || tables.n || views.n)) {
        char what[256];
        snprintf(what, sizeof what, "%zu table(s), %zu view(s) and %zu child namespace(s)%s%s",
                 tables.n, views.n, nchildren, nchildren ? ", e.g. " : "",
                 nchildren ? children[0] : "");
        rc = final(err, FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                                   "cannot drop namespace '%s': it is not empty, it holds %s; "
                                   "drop those first",
                                   ns, what));
    }
    firn_arena_release(&a);
    if (rc == 0)
        rc = run(c,
                 "DELETE FROM iceberg_namespace_properties WHERE catalog_name = ? AND "
                 "namespace = ?",
                 ARGS(c->base.name, ns), NULL, NULL, NULL, err);
    return finish(c, rc, err);
}

/* ------------------------------------------------------------ tables */

typedef struct table_row {
    firn_arena *a; /* NULL: only note that it exists */
    bool found;
    const char *location, *previous;
} table_row;

static int take_table_row(void *ctx, firn_cat_sql_stmt *s, firn_error *err) {
    (void)err;
    table_row *t = ctx;
    t->found = true;
    if (t->a) {
        const char *loc = s->conn->drv->column_text(s, 0);
        const char *prev = s->conn->drv->column_text(s, 1);
        t->location = loc ? firn_arena_strdup(t->a, loc) : NULL;
        t->previous = prev ? firn_arena_strdup(t->a, prev) : NULL;
    }
    return 0;
}

/* The row of a table (views excluded): found, and with t->a its locations. */
static int get_table(sql_catalog *c, const firn_cat_ident *id, table_row *t, firn_error *err) {
    char sql[320];
    snprintf(sql, sizeof sql,
             "SELECT metadata_location, previous_metadata_location FROM iceberg_tables WHERE "
             "catalog_name = ? AND table_namespace = ? AND table_name = ?%s",
             table_pred(c));
    return run(c, sql, ARGS(c->base.name, id->ns, id->name), take_table_row, t, NULL, err);
}

/* Whether any row (table or view) holds the name; *is_view says which. */
static int name_taken(sql_catalog *c, const firn_cat_ident *id, bool *taken, bool *is_view,
                      firn_error *err) {
    *taken = *is_view = false;
    table_row t = {0};
    int rc = get_table(c, id, &t, err);
    if (rc || t.found) {
        *taken = t.found;
        return rc;
    }
    if (!c->v1) return 0;
    rc = run(c,
             "SELECT 1 FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND "
             "table_name = ?",
             ARGS(c->base.name, id->ns, id->name), row_found, taken, NULL, err);
    *is_view = *taken;
    return rc;
}

static int name_taken_error(firn_error *err, const firn_cat_ident *id, bool is_view) {
    return final(err, FIRN_RAISE(err, FIRN_ERR_CONFLICT, "%s '%s.%s' already exists",
                                  is_view ? "a view named" : "table", id->ns, id->name));
}

static int no_such_table(firn_error *err, const firn_cat_ident *id) {
    return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "table '%s.%s' does not exist", id->ns, id->name);
}

static int sql_create_table(firn_catalog *cat, const firn_cat_ident *id, const char *location,
                            firn_error *err) {
    sql_catalog *c = (sql_catalog *)cat;
    int rc = begin(c, FIRN_SQL_TX_WRITE, err);
    if (rc) return rc;
    rc = need_ns(c, id->ns, err);
    bool taken = false, is_view = false;
    if (rc == 0) rc = name_taken(c, id, &taken, &is_view, err);
    if (rc == 0 && taken) rc = name_taken_error(err, id, is_view);
    if (rc == 0) {
        if (c->v1)
            rc = run(c,
                     "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
                     "metadata_location, previous_metadata_location, iceberg_type) VALUES "
                     "(?, ?, ?, ?, NULL, 'TABLE')",
                     ARGS(c->base.name, id->ns, id->name, location), NULL, NULL, NULL, err);
        else
            rc = run(c,
                     "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
                     "metadata_location, previous_metadata_location) VALUES (?, ?, ?, ?, NULL)",
                     ARGS(c->base.name, id->ns, id->name, location), NULL, NULL, NULL, err);
        if (rc && err && err->kind == FIRN_ERR_CONFLICT) /* a racing creator (other drivers) */
            rc = name_taken_error(err, id, false);
    }
    return finish(c, rc, err);
}

static int sql_load_table(firn_catalog *cat, const firn_cat_ident *id, firn_arena *a,
                          firn_cat_table *out, firn_error *err) {
    sql_catalog *c = (sql_catalog *)cat;
    table_row t = {.a = a};
    int rc = get_table(c, id, &t, err);
    if (rc) return rc;
    if (!t.found) return no_such_table(err, id);
    if (!t.location)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "table '%s.%s' has no metadata location in the catalog", id->ns,
                          id->name);
    out->ns = firn_arena_strdup(a, id->ns);
    out->name = firn_arena_strdup(a, id->name);
    out->metadata_location = t.location;
    out->previous_metadata_location = t.previous;
    return 0;
}

typedef struct names_acc {
    firn_arena *a;
    const char **items;
    size_t n, cap;
} names_acc;

static int collect_name(void *ctx, firn_cat_sql_stmt *s, firn_error *err) {
    (void)err;
    names_acc *acc = ctx;
    const char *v = s->conn->drv->column_text(s, 0);
    if (!v) return 0;
    if (acc->n == acc->cap) {
        size_t cap = acc->cap ? acc->cap * 2 : 16;
        const char **items = firn_arena_alloc(acc->a, cap * sizeof *items);
        if (acc->n) memcpy(items, acc->items, acc->n * sizeof *items);
        acc->items = items;
        acc->cap = cap;
    }
    acc->items[acc->n++] = firn_arena_strdup(acc->a, v);
    return 0;
}

static int sql_list_tables(firn_catalog *cat, const char *ns, firn_arena *a, const char ***names,
                           size_t *n, firn_error *err) {
    sql_catalog *c = (sql_catalog *)cat;
    int rc = begin(c, FIRN_SQL_TX_READ, err);
    if (rc) return rc;
    rc = need_ns(c, ns, err);
    names_acc acc = {.a = a};
    if (rc == 0) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND "
                 "table_namespace = ?%s",
                 table_pred(c));
        rc = run(c, sql, ARGS(c->base.name, ns), collect_name, &acc, NULL, err);
    }
    rc = finish(c, rc, err);
    if (rc) return rc;
    sort_unique(acc.items, &acc.n); /* sorted in C: the same order on every database */
    *names = acc.items;
    *n = acc.n;
    return 0;
}

static int sql_rename_table(firn_catalog *cat, const firn_cat_ident *from,
                            const firn_cat_ident *to, firn_error *err) {
    sql_catalog *c = (sql_catalog *)cat;
    int rc = begin(c, FIRN_SQL_TX_WRITE, err);
    if (rc) return rc;
    table_row t = {0};
    rc = get_table(c, from, &t, err);
    if (rc == 0 && !t.found) rc = no_such_table(err, from);
    if (rc == 0) rc = need_ns(c, to->ns, err);
    bool taken = false, is_view = false;
    if (rc == 0) rc = name_taken(c, to, &taken, &is_view, err);
    if (rc == 0 && taken) rc = name_taken_error(err, to, is_view);
    int64_t changed = 0;
    if (rc == 0) {
        char sql[320];
        snprintf(sql, sizeof sql,
                 "UPDATE iceberg_tables SET table_namespace = ?, table_name = ? WHERE "
                 "catalog_name = ? AND table_namespace = ? AND table_name = ?%s",
                 table_pred(c));
        rc = run(c, sql, ARGS(to->ns, to->name, c->base.name, from->ns, from->name), NULL, NULL,
                 &changed, err);
        if (rc && err && err->kind == FIRN_ERR_CONFLICT) rc = name_taken_error(err, to, false);
    }
    if (rc == 0 && changed != 1)
        rc = FIRN_RAISE(err, FIRN_ERR_INTERNAL, "renaming '%s.%s' changed %lld rows, not 1",
                        from->ns, from->name, (long long)changed);
    if (rc) FIRN_WRAP(err, err ? err->kind : FIRN_ERR_IO, "cannot rename '%s.%s' to '%s.%s'",
                      from->ns, from->name, to->ns, to->name);
    return finish(c, rc, err);
}

static int sql_drop_table(firn_catalog *cat, const firn_cat_ident *id, firn_arena *a,
                          const char **last_location, firn_error *err) {
    sql_catalog *c = (sql_catalog *)cat;
    int rc = begin(c, FIRN_SQL_TX_WRITE, err);
    if (rc) return rc;
    table_row t = {.a = a};
    rc = get_table(c, id, &t, err);
    if (rc == 0 && !t.found) rc = no_such_table(err, id);
    if (rc == 0) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND "
                 "table_name = ?%s",
                 table_pred(c));
        rc = run(c, sql, ARGS(c->base.name, id->ns, id->name), NULL, NULL, NULL, err);
    }
    rc = finish(c, rc, err);
    if (rc == 0 && last_location) *last_location = t.location;
    return rc;
}

/* ------------------------------------------------------------ commits */

static int sql_commit_tables(firn_catalog *cat, const firn_cat_commit *commits, size_t n,
                             firn_cat_outcome *outcome, firn_error *err) {
    sql_catalog *c = (sql_catalog *)cat;
    *outcome = FIRN_CAT_NOT_COMMITTED;
    int rc = c->locked ? 0 : begin(c, FIRN_SQL_TX_CAS, err);
    c->locked = false; /* this commit ends the lock's transaction either way */
    if (rc) return rc;
    char sql[400];
    snprintf(sql, sizeof sql,
             "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? "
             "WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND "
             "metadata_location = ?%s",
             table_pred(c));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const firn_cat_commit *k = &commits[i];
        int64_t changed = 0;
        rc = run(c, sql,
                 ARGS(k->new_location, k->old_location, c->base.name, k->ident.ns,
                      k->ident.name, k->old_location),
                 NULL, NULL, &changed, err);
        if (rc || changed == 1) continue;
        /* Find out why, for a message that helps. */
        firn_arena a;
        firn_arena_init(&a, 1024);
        table_row t = {.a = &a};
        rc = get_table(c, &k->ident, &t, err);
        if (rc == 0 && !t.found) {
            rc = FIRN_RAISE(err, FIRN_ERR_NOT_FOUND,
                            "cannot commit table '%s.%s': it does not exist (dropped by "
                            "another process?)",
                            k->ident.ns, k->ident.name);
        } else if (rc == 0) {
            rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                            "cannot commit table '%s.%s': another commit changed its metadata "
                            "location from %s to %s; reload and retry",
                            k->ident.ns, k->ident.name, k->old_location,
                            t.location ? t.location : "(null)");
        }
        firn_arena_release(&a);
    }
    if (rc) {
        DRV(c)->rollback(c->conn);
        return rc;
    }
    firn_io_crash_point("catalog.commit.before-sql-commit");
    rc = DRV(c)->commit(c->conn, err);
    if (rc) {
        /* The database may have applied it (a connection lost in COMMIT). */
        DRV(c)->rollback(c->conn);
        *outcome = FIRN_CAT_OUTCOME_UNKNOWN;
        return FIRN_WRAP(err, err ? err->kind : FIRN_ERR_IO,
                         "the catalog failed while committing; the commit may or may not have "
                         "happened (reload the table to find out; do not delete its new files)");
    }
    *outcome = FIRN_CAT_COMMITTED;
    firn_io_crash_point("catalog.commit.after-sql-commit");
    return 0;
}

static int sql_commit_lock(firn_catalog *cat, firn_error *err) {
    sql_catalog *c = (sql_catalog *)cat;
    if (c->locked)
        return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "the catalog's commit lock is already held");
    int rc = begin(c, FIRN_SQL_TX_WRITE, err);
    if (rc == 0) c->locked = true;
    return rc;
}

static void sql_commit_unlock(firn_catalog *cat) {
    sql_catalog *c = (sql_catalog *)cat;
    if (!c->locked) return;
    DRV(c)->rollback(c->conn);
    c->locked = false;
}

/* ------------------------------------------------------------ open */

static void sql_free(firn_catalog *cat) {
    sql_catalog *c = (sql_catalog *)cat;
    if (c->conn) c->conn->drv->close(c->conn);
    free(c->base.name);
    free(c->base.warehouse);
    free(c);
}

static const firn_cat_ops sql_ops = {
    .free = sql_free,
    .create_namespace = sql_create_namespace,
    .namespace_exists = sql_namespace_exists,
    .list_namespaces = sql_list_namespaces,
    .load_namespace = sql_load_namespace,
    .update_namespace = sql_update_namespace,
    .drop_namespace = sql_drop_namespace,
    .create_table = sql_create_table,
    .load_table = sql_load_table,
    .list_tables = sql_list_tables,
    .rename_table = sql_rename_table,
    .drop_table = sql_drop_table,
    .commit_tables = sql_commit_tables,
    .commit_lock = sql_commit_lock,
    .commit_unlock = sql_commit_unlock,
};

/* Java's JdbcUtil DDL, with iceberg_type (its V1) in iceberg_tables. */
static const char CREATE_TABLES_SQL[] =
    "CREATE TABLE iceberg_tables ("
    "catalog_name VARCHAR(255) NOT NULL, "
    "table_namespace VARCHAR(255) NOT NULL, "
    "table_name VARCHAR(255) NOT NULL, "
    "metadata_location VARCHAR(1000), "
    "previous_metadata_location VARCHAR(1000), "
    "iceberg_type VARCHAR(5), "
    "PRIMARY KEY (catalog_name, table_namespace, table_name))";
static const char CREATE_PROPS_SQL[] =
    "CREATE TABLE iceberg_namespace_properties ("
    "catalog_name VARCHAR(255) NOT NULL, "
    "namespace VARCHAR(255) NOT NULL, "
    "property_key VARCHAR(255), "
    "property_value VARCHAR(1000), "
    "PRIMARY KEY (catalog_name, namespace, property_key))";
static const char ADD_TYPE_SQL[] = "ALTER TABLE iceberg_tables ADD COLUMN iceberg_type VARCHAR(5)";

/* Create what is missing and learn the schema version, in one write
 * transaction so that processes opening a new catalog together agree. */
static int prepare_schema(sql_catalog *c, const firn_cat_config *cfg, firn_error *err) {
    bool init = !(cfg && cfg->no_init), migrate = !(cfg && cfg->no_migrate);
    bool have_tables = false, have_props = false, have_type = false;
    int rc = DRV(c)->has_table(c->conn, "iceberg_tables", &have_tables, err);
    if (rc == 0) rc = DRV(c)->has_table(c->conn, "iceberg_namespace_properties", &have_props, err);
    if (rc == 0 && have_tables)
        rc = DRV(c)->has_column(c->conn, "iceberg_tables", "iceberg_type", &have_type, err);
    if (rc) return rc;
    bool need_work =
        (init && (!have_tables || !have_props)) || (have_tables && !have_type && migrate);
    if (need_work) {
        rc = begin(c, FIRN_SQL_TX_WRITE, err);
        if (rc) return rc;
        /* look again under the lock: another process may have done it */
        rc = DRV(c)->has_table(c->conn, "iceberg_tables", &have_tables, err);
        if (rc == 0 && init && !have_tables) {
            rc = run(c, CREATE_TABLES_SQL, NULL, 0, NULL, NULL, NULL, err);
            have_tables = have_type = rc == 0;
        } else if (rc == 0 && have_tables) {
            rc = DRV(c)->has_column(c->conn, "iceberg_tables", "iceberg_type", &have_type, err);
        }
        if (rc == 0 && have_tables && !have_type && migrate) {
            rc = run(c, ADD_TYPE_SQL, NULL, 0, NULL, NULL, NULL, err);
            have_type = rc == 0;
        }
        if (rc == 0)
            rc = DRV(c)->has_table(c->conn, "iceberg_namespace_properties", &have_props, err);
        if (rc == 0 && init && !have_props) {
            rc = run(c, CREATE_PROPS_SQL, NULL, 0, NULL, NULL, NULL, err);
            have_props = rc == 0;
        }
        rc = finish(c, rc, err);
        if (rc) return FIRN_WRAP(err, err ? err->kind : FIRN_ERR_IO,
                                 "cannot create the catalog tables");
    }
    if (!have_tables || !have_props)
        return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND,
                          "the database has no Iceberg catalog tables (iceberg_tables, "
                          "iceberg_namespace_properties) and creating them is turned off");
    c->v1 = have_type;
    return 0;
}

int firn_cat_sql_new(firn_cat_sql_conn *conn, const char *name, const char *warehouse,
                     const firn_cat_config *cfg, firn_catalog **out, firn_error *err) {
    *out = NULL;
    sql_catalog *c = firn_xcalloc(1, sizeof *c);
    c->base.ops = &sql_ops;
    c->base.kind = strcmp(conn->drv->name, "sqlite") == 0 ? "sql/sqlite" : "sql/postgresql";
    c->base.name = firn_xstrdup(name);
    c->base.warehouse = warehouse ? firn_xstrdup(warehouse) : NULL;
    c->conn = conn;
    int rc = prepare_schema(c, cfg, err);
    /* A database that cannot run CREATE TABLE in a transaction that another
     * process races (PostgreSQL) fails one creator: it finds them made now. */
    if (rc && err && (err->kind == FIRN_ERR_CONFLICT || err->kind == FIRN_ERR_IO))
        rc = prepare_schema(c, cfg, err);
    if (rc) {
        sql_free(&c->base);
        return rc;
    }
    *out = &c->base;
    return 0;
}
