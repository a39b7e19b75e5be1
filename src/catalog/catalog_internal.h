/*
 * catalog_internal.h - what the catalog backends share: the catalog vtable and
 * the SQL driver abstraction the SQL catalog runs on.
 *
 * The SQL catalog (sql_catalog.c) writes portable SQL only: '?' placeholders,
 * VARCHAR columns, LIKE ... ESCAPE '!', LIMIT. Anything a database does its
 * own way lives in its driver: placeholder syntax (libpq wants $1, $2: its
 * prepare rewrites '?'), transaction start (SQLite BEGIN IMMEDIATE, PostgreSQL
 * BEGIN), lock waits, and the system-catalog queries behind has_table and
 * has_column.
 */
#ifndef FIRN_CATALOG_INTERNAL_H
#define FIRN_CATALOG_INTERNAL_H

#include "catalog/catalog.h"

/* ------------------------------------------------------------ catalog vtable */

/* Arguments reach these already validated by catalog.c. */
typedef struct firn_cat_ops {
    void (*free)(firn_catalog *cat);
    int (*create_namespace)(firn_catalog *cat, const char *ns, const firn_cat_props *props,
                            firn_error *err);
    int (*namespace_exists)(firn_catalog *cat, const char *ns, bool *exists, firn_error *err);
    int (*list_namespaces)(firn_catalog *cat, const char *parent, firn_arena *a,
                           const char ***out, size_t *n, firn_error *err);
    int (*load_namespace)(firn_catalog *cat, const char *ns, firn_arena *a, firn_cat_props *out,
                          firn_error *err);
    int (*update_namespace)(firn_catalog *cat, const char *ns, const firn_cat_props *set,
                            const char *const *remove, size_t nremove, firn_error *err);
    int (*drop_namespace)(firn_catalog *cat, const char *ns, firn_error *err);
    int (*create_table)(firn_catalog *cat, const firn_cat_ident *id, const char *location,
                        firn_error *err);
    int (*load_table)(firn_catalog *cat, const firn_cat_ident *id, firn_arena *a,
                      firn_cat_table *out, firn_error *err);
    int (*list_tables)(firn_catalog *cat, const char *ns, firn_arena *a, const char ***names,
                       size_t *n, firn_error *err);
    int (*rename_table)(firn_catalog *cat, const firn_cat_ident *from, const firn_cat_ident *to,
                        firn_error *err);
    int (*drop_table)(firn_catalog *cat, const firn_cat_ident *id, firn_arena *a,
                      const char **last_location, firn_error *err);
    int (*commit_tables)(firn_catalog *cat, const firn_cat_commit *commits, size_t n,
                         firn_cat_outcome *outcome, firn_error *err);
    /* NULL for catalogs that swap metadata locations (SQL). */
    int (*commit_changes)(firn_catalog *cat, firn_cat_change *changes, size_t n,
                          firn_cat_outcome *outcome, firn_error *err);
    /* optional (NULL: multi-table commits are atomic); see firn_cat_atomic_multi */
    bool (*atomic_multi)(const firn_catalog *cat);
    /* optional (NULL: no commit lock); see firn_cat_commit_lock */
    int (*commit_lock)(firn_catalog *cat, firn_error *err);
    void (*commit_unlock)(firn_catalog *cat);
} firn_cat_ops;

struct firn_catalog {
    const firn_cat_ops *ops;
    const char *kind; /* "sql/sqlite", ... (static string) */
    char *name;      /* catalog_name */
    char *warehouse; /* NULL when not configured */
};

/* ------------------------------------------------------------ SQL drivers */

typedef struct firn_cat_sql_driver firn_cat_sql_driver;

/*
 * Transaction kinds. The SQL catalog's writes are check-then-write (does the
 * namespace exist? is the name free?), so they must not interleave with other
 * firn writers; its commits are compare-and-swap UPDATEs whose predicate is
 * the guard, and need no more than the row locks the UPDATE takes.
 *   READ   consistent reads (SQLite BEGIN DEFERRED; PostgreSQL REPEATABLE READ
 *          READ ONLY: one snapshot for all statements)
 *   WRITE  exclusive among firn writers of the catalog, taken up front
 *          (SQLite BEGIN IMMEDIATE; PostgreSQL READ COMMITTED plus a
 *          transaction-scoped advisory lock on the catalog schema)
 *   CAS    a commit: SQLite BEGIN IMMEDIATE; PostgreSQL READ COMMITTED, no
 *          advisory lock (the UPDATE's row lock and predicate re-check decide)
 */
typedef enum firn_cat_sql_tx {
    FIRN_SQL_TX_READ = 0,
    FIRN_SQL_TX_WRITE = 1,
    FIRN_SQL_TX_CAS = 2,
} firn_cat_sql_tx;

/* Embedded first in a driver's connection and statement structs. */
typedef struct firn_cat_sql_conn {
    const firn_cat_sql_driver *drv;
} firn_cat_sql_conn;

typedef struct firn_cat_sql_stmt {
    firn_cat_sql_conn *conn;
    int64_t changes; /* rows changed, once a DML statement has run to completion */
} firn_cat_sql_stmt;

/*
 * Error contract: a unique / primary-key violation is FIRN_ERR_CONFLICT with
 * retriable=false; a serialization failure or deadlock (the transaction was
 * aborted, nothing changed) is FIRN_ERR_CONFLICT with retriable=true; waiting
 * too long for another session's lock, or a lost connection, is FIRN_ERR_IO
 * with retriable=true; anything else FIRN_ERR_IO (FIRN_ERR_CORRUPT for a
 * damaged database). Messages carry the database's own text.
 */
struct firn_cat_sql_driver {
    const char *name; /* "sqlite", "postgresql" */
    void (*close)(firn_cat_sql_conn *c);
    /* sql uses '?' placeholders. */
    int (*prepare)(firn_cat_sql_conn *c, const char *sql, firn_cat_sql_stmt **out, firn_error *err);
    /* index counts from 1; value NULL binds SQL NULL. */
    int (*bind_text)(firn_cat_sql_stmt *s, int index, const char *value, firn_error *err);
    /* 1: a row is ready; 0: done (s->changes set); < 0: error. */
    int (*step)(firn_cat_sql_stmt *s, firn_error *err);
    /* Column col (from 0) of the current row; NULL for SQL NULL. Valid until
     * the next step or finalize. */
    const char *(*column_text)(firn_cat_sql_stmt *s, int col);
    void (*finalize)(firn_cat_sql_stmt *s);
    /* Start a transaction of the given kind (firn_cat_sql_tx). */
    int (*begin)(firn_cat_sql_conn *c, firn_cat_sql_tx kind, firn_error *err);
    int (*commit)(firn_cat_sql_conn *c, firn_error *err);
    void (*rollback)(firn_cat_sql_conn *c);
    /* Whether a table / a column of a table exists (case-insensitive names). */
    int (*has_table)(firn_cat_sql_conn *c, const char *table, bool *out, firn_error *err);
    int (*has_column)(firn_cat_sql_conn *c, const char *table, const char *column, bool *out,
                      firn_error *err);
};

/* SQLite driver (sql_sqlite.c): path is a file (parent directories created)
 * or ":memory:". WAL journal, synchronous=FULL, busy timeout. */
int firn_cat_sqlite_open(const char *path, int busy_timeout_ms, firn_cat_sql_conn **out,
                         firn_error *err);

/* PostgreSQL driver (sql_postgres.c): uri is a libpq URI (postgresql:// or
 * postgres://). The password comes from the URI, else cfg->password, else
 * $FIRN_CATALOG_PASSWORD, else libpq's own PGPASSWORD / ~/.pgpass. A server
 * that is not up yet is retried with backoff for cfg->connect_timeout_ms. */
int firn_cat_pg_open(const char *uri, const firn_cat_config *cfg, firn_cat_sql_conn **out,
                     firn_error *err);
/* uri with any password replaced by "***" (for messages); caller frees. */
char *firn_cat_redact_uri(const char *uri);

/* The SQL catalog over an open connection (taken over, also on failure):
 * creates missing tables and migrates an old schema as cfg says. */
int firn_cat_sql_new(firn_cat_sql_conn *conn, const char *name, const char *warehouse,
                     const firn_cat_config *cfg, firn_catalog **out, firn_error *err);

/* ------------------------------------------------------------ REST client */

/* An Iceberg REST catalog at uri (rest_client.c): authenticates, reads
 * GET <uri>/v1/config. */
int firn_cat_rest_open(const char *uri, const char *name, const firn_cat_config *cfg,
                       firn_catalog **out, firn_error *err);

#endif
