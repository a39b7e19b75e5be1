/*
 * catalog.h - where tables are found and how commits become atomic.
 *
 * A catalog maps table identifiers (namespace + name) to the location of the
 * table's current metadata file, and swaps that location atomically: a commit
 * is a compare-and-swap from the metadata location the writer started from to
 * the one it wrote. This layer works at the metadata-location level; composing
 * metadata files is the table format's job (src/iceberg/).
 *
 * Backends behind one interface:
 *  - SQL catalog (sql_catalog.c) on a small driver abstraction: SQLite
 *    (sql_sqlite.c) and PostgreSQL on libpq (sql_postgres.c), same code path. Its tables are exactly
 *    those of Iceberg's JDBC catalog and PyIceberg's SqlCatalog
 *    (iceberg_tables, iceberg_namespace_properties), so Spark, Trino (JDBC
 *    catalog) and PyIceberg can open the same database, and firn adopts a
 *    database they created (an older JDBC schema without iceberg_type is
 *    migrated by adding the column, as Java does with jdbc.schema-version=V1).
 *  - REST client (rest_client.c): an Iceberg REST catalog server over HTTP
 *    (libcurl). Namespaces and tables map onto its routes; a new table's first
 *    metadata file is adopted with the register route; commits send the
 *    change (requirements + updates, firn_cat_commit_changes) instead of a
 *    metadata location, and the server writes the metadata file.
 *
 * Names: namespaces are strings whose levels are joined with "." ("a.b"), as
 * the JDBC catalog stores them; a table is a namespace plus a name without
 * dots. A namespace exists when it has properties (firn, like Java, always
 * writes "exists" = "true") or holds tables, or a child namespace does.
 *
 * Errors (firn_error kinds):
 *   FIRN_ERR_NOT_FOUND    no such namespace / table
 *   FIRN_ERR_CONFLICT     retriable=true: a commit lost a race (reload, re-apply,
 *                         retry: firn_cat_retry); retriable=false: the name is
 *                         taken, or a namespace to drop is not empty
 *   FIRN_ERR_INVALID      bad name, property or URI
 *   FIRN_ERR_UNSUPPORTED  a catalog kind that comes later (REST)
 *   FIRN_ERR_IO           the database failed (retriable when it was busy or
 *                         the connection was lost)
 *
 * Results are allocated in an arena the caller passes and frees. A catalog
 * handle is used by one thread at a time; open one per thread or process (a
 * handle must not cross fork()).
 */
#ifndef FIRN_CATALOG_H
#define FIRN_CATALOG_H

#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct firn_catalog firn_catalog;

/* A table identifier: namespace "a.b" and table name. */
typedef struct firn_cat_ident {
    const char *ns;
    const char *name;
} firn_cat_ident;

/* String properties. As input: arrays the caller owns. As output: arrays and
 * strings in the caller's arena, sorted by key. */
typedef struct firn_cat_props {
    size_t n;
    const char **keys;
    const char **values;
} firn_cat_props;

/* A table's catalog entry (strings in the caller's arena). */
typedef struct firn_cat_table {
    const char *ns;
    const char *name;
    const char *metadata_location;
    const char *previous_metadata_location; /* NULL when the table has had no commit */
} firn_cat_table;

typedef struct firn_cat_config {
    /* The catalog_name column: engines sharing a database must agree on it
     * (Spark: the catalog's name in spark.sql.catalog.<name>; PyIceberg: the
     * name given to load_catalog). NULL = "default". */
    const char *name;
    /* Base of default table locations (firn_cat_default_location); a path or
     * URI, may be NULL. */
    const char *warehouse;
    /* How long to wait for another process's lock, ms (0 = 30000): SQLite's
     * busy timeout, PostgreSQL's lock_timeout. */
    int busy_timeout_ms;
    /* PostgreSQL: how long to keep trying to connect to a server that is not
     * up (yet), or that restarted under an open catalog, ms (0 = 30000, or
     * $FIRN_CATALOG_CONNECT_TIMEOUT_MS). */
    int connect_timeout_ms;
    /* PostgreSQL: the password when the URI has none (NULL: then
     * $FIRN_CATALOG_PASSWORD, then libpq's PGPASSWORD and ~/.pgpass). */
    const char *password;
    /* Do not create missing catalog tables (Java's jdbc.init-catalog-tables=false). */
    bool no_init;
    /* Leave an old JDBC schema without iceberg_type as it is (then views are
     * unknown and every row is a table) instead of adding the column. */
    bool no_migrate;
    /* REST catalogs (each falls back to the environment variable named):
     * a bearer token (FIRN_REST_TOKEN); OAuth2 client credentials
     * "client_id:client_secret" (FIRN_REST_CREDENTIAL) exchanged for a token
     * at oauth2_server_uri (FIRN_REST_OAUTH2_SERVER_URI; default: the
     * catalog's own deprecated <uri>/v1/oauth/tokens) with scope (default
     * "catalog"). */
    const char *rest_token;
    const char *rest_credential;
    const char *rest_oauth2_server_uri;
    const char *rest_scope;
} firn_cat_config;

/* ------------------------------------------------------------ open */

/*
 * Open a catalog by URI:
 *   sqlite:PATH            SQLite file, relative or absolute (created if missing)
 *   sqlite:///abs/path     the same, file-URI style (note: SQLAlchemy reads three
 *                          slashes as relative; firn reads them as absolute, and
 *                          sqlite:////abs/path works too)
 *   jdbc:sqlite:PATH       as Java's JDBC catalog writes it
 *   sqlite::memory:        a private in-memory database (tests)
 *   postgresql://[user[:password]@]host[:port]/db[?param=value...]
 *   postgres://...         the same (libpq URI syntax; params are libpq's, e.g.
 *                          sslmode, connect_timeout, options=-csearch_path%3Dschema:
 *                          the catalog tables live in the current schema)
 *   jdbc:postgresql://...  as Java's JDBC catalog writes it
 *   http(s)://host/path    Iceberg REST catalog whose routes are below the URI
 *                          (<uri>/v1/config, ...); GET /v1/config is called on open
 * cfg may be NULL (defaults). Caller frees *out with firn_cat_free().
 */
int firn_cat_open(const char *uri, const firn_cat_config *cfg, firn_catalog **out,
                  firn_error *err);
void firn_cat_free(firn_catalog *cat);
/* catalog_name of this handle. */
const char *firn_cat_name(const firn_catalog *cat);
/* "sql/sqlite", "sql/postgresql", later "rest". */
const char *firn_cat_kind(const firn_catalog *cat);

/* ------------------------------------------------------------ identifiers */

/* Split "a.b.table" at its last dot into *out (strings in a). */
int firn_cat_ident_parse(const char *text, firn_arena *a, firn_cat_ident *out, firn_error *err);
/* Split "a.b.table" at its last dot into caller buffers: ns (nsn bytes) and
 * name (nn bytes). FIRN_ERR_INVALID when there is no dot, either side is empty
 * or a side does not fit its buffer. Checks no more than that (see
 * firn_cat_check_ident). */
int firn_cat_ident_split(const char *text, char *ns, size_t nsn, char *name, size_t nn,
                         firn_error *err);
/* Check a namespace / identifier is well formed (no empty levels, lengths
 * that fit the JDBC columns, no dot in a table name). */
int firn_cat_check_namespace(const char *ns, firn_error *err);
/* Namespace "a.b" as the REST catalog spec writes it: the JSON array
 * ["a", "b"] (a new reference, owned by the caller). */
struct json_t *firn_cat_namespace_to_json(const char *ns);
int firn_cat_check_ident(const firn_cat_ident *id, firn_error *err);

/* ------------------------------------------------------------ namespaces */

/* Create ns with properties (may be NULL); "exists"="true" is added.
 * FIRN_ERR_CONFLICT (not retriable) when it exists. The key "exists" is
 * reserved. A parent need not exist (as in Java's JDBC catalog). */
int firn_cat_create_namespace(firn_catalog *cat, const char *ns, const firn_cat_props *props,
                              firn_error *err);
int firn_cat_namespace_exists(firn_catalog *cat, const char *ns, bool *exists, firn_error *err);
/* Namespaces directly under parent (NULL or "" = top level), as full names
 * ("a.b"), sorted. A namespace known only through a deeper one or a table is
 * listed too. FIRN_ERR_NOT_FOUND when parent does not exist. */
int firn_cat_list_namespaces(firn_catalog *cat, const char *parent, firn_arena *a,
                             const char ***out, size_t *n, firn_error *err);
/* Properties of ns, without the reserved "exists". */
int firn_cat_load_namespace(firn_catalog *cat, const char *ns, firn_arena *a,
                            firn_cat_props *out, firn_error *err);
/* Set (insert or replace) and remove properties in one transaction. Removing
 * a key that is not there is fine; "exists" can be neither set nor removed. */
int firn_cat_update_namespace(firn_catalog *cat, const char *ns, const firn_cat_props *set,
                              const char *const *remove, size_t nremove, firn_error *err);
/* Drop an empty namespace: FIRN_ERR_CONFLICT (not retriable) naming what it
 * still holds (tables, views, child namespaces); FIRN_ERR_NOT_FOUND if absent. */
int firn_cat_drop_namespace(firn_catalog *cat, const char *ns, firn_error *err);

/* ------------------------------------------------------------ tables */

/* Add a table whose first metadata file the caller has written. The namespace
 * must exist. FIRN_ERR_CONFLICT (not retriable) when the name is taken (by a
 * table or a view). */
int firn_cat_create_table(firn_catalog *cat, const firn_cat_ident *id,
                          const char *metadata_location, firn_error *err);
/* Adopt a table another engine wrote: like create, after checking through
 * FileIO that the metadata file exists. The location is stored canonical
 * ("file:/..."). */
int firn_cat_register_table(firn_catalog *cat, const firn_cat_ident *id,
                            const char *metadata_location, firn_error *err);
int firn_cat_load_table(firn_catalog *cat, const firn_cat_ident *id, firn_arena *a,
                        firn_cat_table *out, firn_error *err);
int firn_cat_table_exists(firn_catalog *cat, const firn_cat_ident *id, bool *exists,
                          firn_error *err);
/* Table names in ns, sorted. FIRN_ERR_NOT_FOUND when ns does not exist. */
int firn_cat_list_tables(firn_catalog *cat, const char *ns, firn_arena *a, const char ***names,
                         size_t *n, firn_error *err);
/* Rename, also across namespaces; the target namespace must exist and the
 * target name be free. Renaming to itself does nothing. Files do not move. */
int firn_cat_rename_table(firn_catalog *cat, const firn_cat_ident *from,
                          const firn_cat_ident *to, firn_error *err);
/* Remove the table's entry. Its files stay: *last_location (may be NULL; in a)
 * gets its metadata location for a caller that purges them. */
int firn_cat_drop_table(firn_catalog *cat, const firn_cat_ident *id, firn_arena *a,
                        const char **last_location, firn_error *err);

/*
 * Where a new table's files go: the namespace's "location" property plus
 * "/name", else <warehouse>/<ns levels joined by "/">/<name> (as Java's JDBC
 * catalog). Local paths come back canonical ("file:/..."). FIRN_ERR_INVALID
 * when there is neither.
 */
int firn_cat_default_location(firn_catalog *cat, const firn_cat_ident *id, firn_arena *a,
                              const char **out, firn_error *err);

/* ------------------------------------------------------------ commits */

/* One table's compare-and-swap: from old_location (what the writer loaded) to
 * new_location (the metadata file it wrote). */
typedef struct firn_cat_commit {
    firn_cat_ident ident;
    const char *old_location;
    const char *new_location;
} firn_cat_commit;

/* What happened to a commit that returned an error. */
typedef enum firn_cat_outcome {
    FIRN_CAT_NOT_COMMITTED = 0, /* certainly not: the new files may be deleted */
    FIRN_CAT_COMMITTED = 1,
    /* The database failed while committing: the swap may have happened. Never
     * delete the new files then; reload and compare to find out. */
    FIRN_CAT_OUTCOME_UNKNOWN = 2,
} firn_cat_outcome;

/*
 * Swap one table's metadata location. FIRN_ERR_CONFLICT (retriable) when the
 * table's location is no longer old_location - the row is then unchanged;
 * FIRN_ERR_NOT_FOUND when the table is gone.
 */
int firn_cat_commit_table(firn_catalog *cat, const firn_cat_ident *id, const char *old_location,
                          const char *new_location, firn_cat_outcome *outcome, firn_error *err);
/*
 * Swap several tables' metadata locations in one transaction: all or none.
 * The first stale table fails the whole commit with FIRN_ERR_CONFLICT
 * (retriable) naming it, and no table changes. A table may appear once.
 * outcome (may be NULL) tells whether an error left the commit unknown.
 */
int firn_cat_commit_tables(firn_catalog *cat, const firn_cat_commit *commits, size_t n,
                           firn_cat_outcome *outcome, firn_error *err);

/*
 * Catalogs that take changes rather than metadata locations (REST): one
 * table's commit as the REST protocol's requirements and updates (JSON array
 * texts, e.g. from firn_ice_metadata_diff). The catalog checks the
 * requirements against the table's current state, applies the updates and
 * writes the new metadata file itself; new_location receives it (malloc'd,
 * caller frees; NULL on failure).
 */
typedef struct firn_cat_change {
    firn_cat_ident ident;
    const char *requirements_json;
    const char *updates_json;
    char *new_location; /* out */
} firn_cat_change;

/* Whether cat commits through firn_cat_commit_changes (and refuses
 * firn_cat_commit_tables with FIRN_ERR_UNSUPPORTED). */
bool firn_cat_takes_changes(const firn_catalog *cat);
/*
 * Whether a commit of several tables is atomic (all or none). SQL catalogs:
 * always (one transaction). REST: when GET /v1/config's "endpoints" lists
 * "POST /v1/{prefix}/transactions/commit", or has no "endpoints" (the spec's
 * default set includes it) - until the server answers transactions/commit
 * with 404/405/406/501, which turns it false for the rest of the handle's
 * life. Callers that need atomicity (the pipeline's publish) ask before each
 * multi-table commit and, when false, commit table by table themselves with
 * a recorded intent (pipeline/wap.c).
 */
bool firn_cat_atomic_multi(const firn_catalog *cat);
/*
 * Commit changes to n tables, all or none when the catalog can (REST:
 * transactions/commit). A failed requirement is FIRN_ERR_CONFLICT, retriable:
 * reload, rebuild the change, retry.
 * When firn_cat_atomic_multi() was already false, the tables are committed one
 * by one in the order given; a failure after the first landed returns the
 * error with outcome FIRN_CAT_OUTCOME_UNKNOWN and a message naming the tables
 * that landed - the caller must roll forward. When the server turns out to
 * lack transactions/commit (it answers 404/405/406/501 although it was
 * assumed to have it), nothing is committed: FIRN_ERR_UNSUPPORTED, outcome
 * FIRN_CAT_NOT_COMMITTED, and firn_cat_atomic_multi() is false from then on;
 * the caller decides how to commit (calling again commits one by one).
 */
int firn_cat_commit_changes(firn_catalog *cat, firn_cat_change *changes, size_t n,
                            firn_cat_outcome *outcome, firn_error *err);

/*
 * The catalog's commit lock, for a commit retry that must not lose the race
 * again. Between firn_cat_commit_lock() and the next firn_cat_commit_tables()
 * (which still compares and swaps, then commits and releases the lock whatever
 * it returns) or firn_cat_commit_unlock(), no other writer of this catalog can
 * swap a metadata location, and loads see the latest committed state. SQL
 * catalog: the database's write transaction, taken before the first read
 * (SQLite BEGIN IMMEDIATE; other writers wait up to the busy timeout, readers
 * are not blocked). *held tells whether the catalog has such a lock; when it
 * does not, nothing happens and the retry stays optimistic.
 */
int firn_cat_commit_lock(firn_catalog *cat, bool *held, firn_error *err);
/* Release the lock without committing; a no-op when none is held. */
void firn_cat_commit_unlock(firn_catalog *cat);

/* ------------------------------------------------------------ retries */

/* Java's commit retry settings (table properties commit.retry.*). */
typedef struct firn_cat_retry_policy {
    int num_retries;          /* commit.retry.num-retries, default 4 (5 attempts) */
    int64_t min_wait_ms;      /* commit.retry.min-wait-ms, default 100 */
    int64_t max_wait_ms;      /* commit.retry.max-wait-ms, default 60000 */
    int64_t total_timeout_ms; /* commit.retry.total-timeout-ms, default 1800000 */
} firn_cat_retry_policy;

void firn_cat_retry_policy_default(firn_cat_retry_policy *p);
/* Override p from table properties (the four keys above); others ignored. */
int firn_cat_retry_policy_from_props(firn_cat_retry_policy *p, const firn_cat_props *props,
                                     firn_error *err);

/* One attempt: reload the table, re-apply the change on the new base, write
 * the metadata, try the CAS. attempt counts from 1. Return 0 on success. */
typedef int (*firn_cat_attempt_fn)(void *ctx, int attempt, firn_error *err);

/*
 * Run fn until it succeeds, fails with anything but a retriable
 * FIRN_ERR_CONFLICT, or the policy is spent (then the last conflict comes back,
 * wrapped with the attempt count). Waits min_wait * 2^(k-1) ms, capped at
 * max_wait, plus up to 10% jitter, between attempts, as Java's Tasks does.
 * *attempts (may be NULL) gets the number of attempts made.
 */
int firn_cat_retry(const firn_cat_retry_policy *p, firn_cat_attempt_fn fn, void *ctx,
                   int *attempts, firn_error *err);

#endif
