/* test_catalog.c - the SQL catalog on SQLite and PostgreSQL: namespaces,
 * tables, atomic compare-and-swap commits (single and multi-table), concurrent
 * committers in several processes, locks, crashes, and the JDBC / PyIceberg
 * schema as other engines see it.
 *
 * Each scenario is one function (CATALOG_SCENARIO) registered twice: as
 * catalog_NAME on SQLite and, when FIRN_PG_URI names a PostgreSQL database, as
 * catalog_pg_NAME on it (tests/interop/postgres.test.sh starts a private
 * server and runs them). A scenario's databases are SQLite files, or schemas
 * of that database (dropped and made anew on first use in a run, selected
 * through the URI's options=-csearch_path). */
#include "catalog/catalog.h"
#include "io/io.h"
#include "fixture.h"
#include "test.h"

#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef enum { BK_SQLITE, BK_PG } backend;
static backend g_bk;

#define CATALOG_SCENARIO(name)                                                            \
    static void scn_##name(void);                                                         \
    FIRN_TEST(catalog_##name) {                                                           \
        g_bk = BK_SQLITE;                                                                 \
        scn_##name();                                                                     \
    }                                                                                     \
    static void pg_##name(void) {                                                         \
        g_bk = BK_PG;                                                                     \
        scn_##name();                                                                     \
    }                                                                                     \
    __attribute__((constructor)) static void register_pg_##name(void) {                   \
        if (getenv("FIRN_PG_URI")) firn_test_register("catalog_pg_" #name, pg_##name);    \
    }                                                                                     \
    static void scn_##name(void)

/* A fresh catalog database path in the scratch directory. */
static const char *db_path(const char *name) {
    static char bufs[4][600];
    static int slot;
    char *b = bufs[slot++ & 3];
    snprintf(b, sizeof bufs[0], "%s/catalogs/%s.db", firn_test_tmpdir(), name);
    return b;
}

static void quiet(void *arg, const char *msg) { (void)arg, (void)msg; }

/* PostgreSQL: run sql on the test database with search_path = schema "t_name"
 * (schema NULL: none). Returns 0, or -1 after printing the error. With out,
 * the first value of the last result goes there. */
static int pg_sql(const char *name, const char *sql, char *out, size_t outn) {
    PGconn *pg = PQconnectdb(getenv("FIRN_PG_URI"));
    int rc = -1;
    PQsetNoticeProcessor(pg, quiet, NULL);
    if (PQstatus(pg) == CONNECTION_OK) {
        char set[300];
        snprintf(set, sizeof set, "SET search_path = \"t_%s\"", name ? name : "public");
        PQclear(PQexec(pg, set));
        PGresult *res = PQexec(pg, sql);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            rc = 0;
            if (out) snprintf(out, outn, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
        } else {
            printf("    pg_sql: %s: %s", sql, PQresultErrorMessage(res));
        }
        PQclear(res);
    } else {
        printf("    pg_sql: %s", PQerrorMessage(pg));
    }
    PQfinish(pg);
    return rc;
}

/* The catalog URI of database `name` for this scenario's backend. */
static const char *cat_uri(const char *name) {
    static char bufs[4][900];
    static int slot;
    char *b = bufs[slot++ & 3];
    char dir[600];
    snprintf(dir, sizeof dir, "%s/catalogs", firn_test_tmpdir());
    mkdir(dir, 0755);
    if (g_bk == BK_SQLITE) {
        snprintf(b, sizeof bufs[0], "sqlite:%s", db_path(name));
        return b;
    }
    /* a fresh schema on first use in this process */
    static char made[64][64];
    static int nmade;
    bool fresh = true;
    for (int i = 0; i < nmade; i++) fresh = fresh && strcmp(made[i], name) != 0;
    if (fresh && nmade < 64) {
        char sql[300];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS \"t_%s\" CASCADE; CREATE SCHEMA \"t_%s\"",
                 name, name);
        if (pg_sql(NULL, sql, NULL, 0) == 0) snprintf(made[nmade++], sizeof made[0], "%s", name);
    }
    const char *base = getenv("FIRN_PG_URI");
    snprintf(b, sizeof bufs[0], "%s%soptions=-csearch_path%%3Dt_%s", base,
             strchr(base, '?') ? "&" : "?", name);
    return b;
}

static firn_catalog *open_db(const char *name, const firn_cat_config *cfg) {
    const char *uri = cat_uri(name);
    firn_catalog *cat = NULL;
    firn_error err;
    firn_error_init(&err);
    if (firn_cat_open(uri, cfg, &cat, &err) != 0) {
        char eb[1024];
        printf("    open %s: %s\n", uri, firn_error_format(&err, eb, sizeof eb));
    }
    firn_error_release(&err);
    return cat;
}

static bool contains(const char *haystack, const char *needle) {
    return haystack && strstr(haystack, needle) != NULL;
}

FIRN_TEST(catalog_open_uris) {
    firn_error err;
    firn_error_init(&err);
    firn_catalog *cat;
    char uri[700];
    /* sqlite:PATH creates the file and its directories */
    snprintf(uri, sizeof uri, "sqlite:%s/catalogs/deep/er/c.db", firn_test_tmpdir());
    CHECK_OK(firn_cat_open(uri, NULL, &cat, &err), &err);
    CHECK_EQ_STR(firn_cat_kind(cat), "sql/sqlite");
    CHECK_EQ_STR(firn_cat_name(cat), "default");
    CHECK_OK(firn_cat_create_namespace(cat, "ns", NULL, &err), &err);
    firn_cat_free(cat);
    /* the same database through the other spellings */
    const char *forms[] = {"sqlite://%s/catalogs/deep/er/c.db",
                           "sqlite:///%s/catalogs/deep/er/c.db",
                           "jdbc:sqlite:%s/catalogs/deep/er/c.db",
                           "sqlite:file://%s/catalogs/deep/er/c.db"};
    for (int i = 0; i < 4; i++) {
        snprintf(uri, sizeof uri, forms[i], firn_test_tmpdir());
        CHECK_OK(firn_cat_open(uri, NULL, &cat, &err), &err);
        bool exists = false;
        CHECK_OK(firn_cat_namespace_exists(cat, "ns", &exists, &err), &err);
        CHECK_MSG(exists, "%s does not see the namespace", uri);
        firn_cat_free(cat);
    }
    firn_cat_config cfg = {.name = "other"};
    snprintf(uri, sizeof uri, "sqlite:%s/catalogs/deep/er/c.db", firn_test_tmpdir());
    CHECK_OK(firn_cat_open(uri, &cfg, &cat, &err), &err);
    bool exists = true;
    CHECK_OK(firn_cat_namespace_exists(cat, "ns", &exists, &err), &err);
    CHECK(!exists); /* catalogs sharing a database are separate */
    firn_cat_free(cat);

    CHECK_OK(firn_cat_open("sqlite::memory:", NULL, &cat, &err), &err);
    firn_cat_free(cat);

    /* PostgreSQL with no server there: retried until the connect timeout,
     * then a clear error that never shows the password */
    firn_cat_config quick = {.connect_timeout_ms = 300};
    uint64_t t0 = firn_now_ns();
    CHECK_EQ_INT(firn_cat_open("postgresql://u:hunter2@127.0.0.1:1/db", &quick, &cat, &err),
                 -FIRN_ERR_IO);
    uint64_t waited_ms = (firn_now_ns() - t0) / 1000000u;
    CHECK(cat == NULL);
    CHECK(err.retriable);
    CHECK_MSG(contains(firn_test_errtext(&err), "did not accept connections") &&
                  contains(firn_test_errtext(&err), "postgresql://u:***@127.0.0.1:1/db") &&
                  !contains(firn_test_errtext(&err), "hunter2"),
              "%s", firn_test_errtext(&err));
    CHECK_MSG(waited_ms >= 150, "gave up after %llu ms: no retries", (unsigned long long)waited_ms);
    CHECK_EQ_INT(firn_cat_open("postgresql://u@h:notaport/db", &quick, &cat, &err),
                 -FIRN_ERR_INVALID);
    /* a REST catalog is opened by asking it for its config: nothing listens here */
    CHECK_EQ_INT(firn_cat_open("http://127.0.0.1:1/iceberg", NULL, &cat, &err), -FIRN_ERR_IO);
    CHECK(cat == NULL);
    CHECK(contains(err.message, "REST catalog") && contains(err.message, "/v1/config"));
    CHECK_EQ_INT(firn_cat_open("mysql://x/y", NULL, &cat, &err), -FIRN_ERR_INVALID);
    CHECK(contains(err.message, "sqlite:PATH"));
    CHECK_EQ_INT(firn_cat_open("sqlite://host/x.db", NULL, &cat, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_cat_open("sqlite:", NULL, &cat, &err), -FIRN_ERR_INVALID);
    /* a file that is not a database */
    firn_io *io = firn_io_local_new();
    snprintf(uri, sizeof uri, "%s/catalogs/garbage.db", firn_test_tmpdir());
    CHECK_OK(firn_io_write_all(io, uri, "this is not a database, just text........", 41, &err),
             &err);
    firn_io_free(io);
    snprintf(uri, sizeof uri, "sqlite:%s/catalogs/garbage.db", firn_test_tmpdir());
    CHECK(firn_cat_open(uri, NULL, &cat, &err) < 0);
    CHECK(contains(firn_test_errtext(&err), "cannot open catalog"));
    CHECK(contains(firn_test_errtext(&err), "garbage.db"));
    firn_error_release(&err);
}

FIRN_TEST(catalog_names) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_cat_ident id;
    CHECK_OK(firn_cat_ident_parse("prod.eu.events", &a, &id, &err), &err);
    CHECK_EQ_STR(id.ns, "prod.eu");
    CHECK_EQ_STR(id.name, "events");
    CHECK_EQ_INT(firn_cat_ident_parse("events", &a, &id, &err), -FIRN_ERR_INVALID);
    CHECK(contains(err.message, "NAMESPACE.TABLE"));
    CHECK_EQ_INT(firn_cat_ident_parse("prod..t", &a, &id, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_cat_ident_parse(".t", &a, &id, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_cat_ident_parse("ns.", &a, &id, &err), -FIRN_ERR_INVALID);
    char longname[300];
    memset(longname, 'x', sizeof longname);
    longname[299] = 0;
    firn_cat_ident big = {"ns", longname};
    CHECK_EQ_INT(firn_cat_check_ident(&big, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_cat_check_namespace(longname, &err), -FIRN_ERR_INVALID);
    firn_cat_ident dotted = {"ns", "a.b"};
    CHECK_EQ_INT(firn_cat_check_ident(&dotted, &err), -FIRN_ERR_INVALID);
    char ns[8], name[8];
    CHECK_OK(firn_cat_ident_split("a.b.t", ns, sizeof ns, name, sizeof name, &err), &err);
    CHECK_EQ_STR(ns, "a.b");
    CHECK_EQ_STR(name, "t");
    CHECK_EQ_INT(firn_cat_ident_split("t", ns, sizeof ns, name, sizeof name, &err),
                 -FIRN_ERR_INVALID);
    CHECK(contains(err.message, "want namespace.table"));
    CHECK_EQ_INT(firn_cat_ident_split(".t", ns, sizeof ns, name, sizeof name, &err),
                 -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_cat_ident_split("ns.", ns, sizeof ns, name, sizeof name, &err),
                 -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_cat_ident_split("namespace.t", ns, sizeof ns, name, sizeof name, &err),
                 -FIRN_ERR_INVALID); /* the namespace does not fit ns[8] */
    CHECK_EQ_INT(firn_cat_ident_split("n.tablename", ns, sizeof ns, name, sizeof name, &err),
                 -FIRN_ERR_INVALID);
    firn_arena_release(&a);
    firn_error_release(&err);
}

CATALOG_SCENARIO(namespaces) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_catalog *cat = open_db("namespaces", NULL);
    CHECK(cat);

    const char *keys[] = {"owner", "comment"};
    const char *values[] = {"data-eng", "production tables"};
    firn_cat_props props = {2, keys, values};
    CHECK_OK(firn_cat_create_namespace(cat, "prod", &props, &err), &err);
    int rc = firn_cat_create_namespace(cat, "prod", NULL, &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_CONFLICT);
    CHECK(!err.retriable);
    CHECK(contains(err.message, "'prod' already exists"));
    CHECK_OK(firn_cat_create_namespace(cat, "prod.eu", NULL, &err), &err);
    CHECK_OK(firn_cat_create_namespace(cat, "prod.eu.west", NULL, &err), &err);
    CHECK_OK(firn_cat_create_namespace(cat, "staging", NULL, &err), &err);
    CHECK_OK(firn_cat_create_namespace(cat, "a_b.c", NULL, &err), &err); /* parent implied */

    const char **names;
    size_t n;
    CHECK_OK(firn_cat_list_namespaces(cat, NULL, &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_STR(names[0], "a_b");
    CHECK_EQ_STR(names[1], "prod");
    CHECK_EQ_STR(names[2], "staging");
    CHECK_OK(firn_cat_list_namespaces(cat, "prod", &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(names[0], "prod.eu");
    CHECK_OK(firn_cat_list_namespaces(cat, "prod.eu", &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(names[0], "prod.eu.west");
    CHECK_OK(firn_cat_list_namespaces(cat, "prod.eu.west", &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(firn_cat_list_namespaces(cat, "nope", &a, &names, &n, &err), -FIRN_ERR_NOT_FOUND);
    CHECK(contains(err.message, "'nope' does not exist"));

    /* existence is by whole levels, and LIKE wildcards in names are literal */
    static const struct {
        const char *ns;
        bool exists;
    } ex[] = {{"prod", true},  {"prod.eu", true}, {"pro", false}, {"prod.e", false},
              {"a_b", true},   {"aXb", false},    {"a%", false},  {"PROD", false},
              {"a_b.c", true}, {"staging.x", false}};
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        bool exists = !ex[i].exists;
        CHECK_OK(firn_cat_namespace_exists(cat, ex[i].ns, &exists, &err), &err);
        CHECK_MSG(exists == ex[i].exists, "namespace_exists(%s) = %d", ex[i].ns, exists);
    }

    firn_cat_props got;
    CHECK_OK(firn_cat_load_namespace(cat, "prod", &a, &got, &err), &err);
    CHECK_EQ_INT(got.n, 2); /* "exists" is never shown */
    CHECK_EQ_STR(got.keys[0], "comment");
    CHECK_EQ_STR(got.values[0], "production tables");
    CHECK_EQ_STR(got.keys[1], "owner");
    CHECK_EQ_STR(got.values[1], "data-eng");

    const char *skeys[] = {"owner", "location"};
    const char *svalues[] = {"platform", "file:/lake/prod"};
    firn_cat_props set = {2, skeys, svalues};
    const char *remove[] = {"comment", "never-set"};
    CHECK_OK(firn_cat_update_namespace(cat, "prod", &set, remove, 2, &err), &err);
    CHECK_OK(firn_cat_load_namespace(cat, "prod", &a, &got, &err), &err);
    CHECK_EQ_INT(got.n, 2);
    CHECK_EQ_STR(got.keys[0], "location");
    CHECK_EQ_STR(got.values[0], "file:/lake/prod");
    CHECK_EQ_STR(got.keys[1], "owner");
    CHECK_EQ_STR(got.values[1], "platform");
    /* the reserved marker can be neither set nor removed */
    const char *rkeys[] = {"exists"};
    const char *rvalues[] = {"false"};
    firn_cat_props reserved = {1, rkeys, rvalues};
    CHECK_EQ_INT(firn_cat_update_namespace(cat, "prod", &reserved, NULL, 0, &err),
                 -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_cat_update_namespace(cat, "prod", NULL, rkeys, 1, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_cat_create_namespace(cat, "x", &reserved, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_cat_update_namespace(cat, "nope", &set, NULL, 0, &err), -FIRN_ERR_NOT_FOUND);
    CHECK_EQ_INT(firn_cat_load_namespace(cat, "nope", &a, &got, &err), -FIRN_ERR_NOT_FOUND);

    /* drop only when empty */
    rc = firn_cat_drop_namespace(cat, "prod", &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_CONFLICT);
    CHECK(!err.retriable);
    CHECK_MSG(contains(err.message, "not empty") && contains(err.message, "1 child namespace") &&
                  contains(err.message, "prod.eu"),
              "%s", err.message);
    CHECK_EQ_INT(firn_cat_drop_namespace(cat, "prod.eu", &err), -FIRN_ERR_CONFLICT);
    CHECK_OK(firn_cat_drop_namespace(cat, "prod.eu.west", &err), &err);
    CHECK_OK(firn_cat_drop_namespace(cat, "prod.eu", &err), &err);
    CHECK_OK(firn_cat_drop_namespace(cat, "prod", &err), &err);
    CHECK_EQ_INT(firn_cat_drop_namespace(cat, "prod", &err), -FIRN_ERR_NOT_FOUND);
    /* a_b exists only through a_b.c: not empty, not droppable by itself */
    CHECK_EQ_INT(firn_cat_drop_namespace(cat, "a_b", &err), -FIRN_ERR_CONFLICT);
    CHECK_OK(firn_cat_list_namespaces(cat, NULL, &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(names[0], "a_b");
    CHECK_EQ_STR(names[1], "staging");
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

CATALOG_SCENARIO(tables) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_catalog *cat = open_db("tables", NULL);
    CHECK(cat);
    firn_cat_ident t1 = {"prod", "events"}, t2 = {"prod", "alerts"}, t3 = {"prod.eu", "zones"};
    int rc = firn_cat_create_table(cat, &t1, "file:/w/prod/events/metadata/00000-a.metadata.json",
                                   &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_NOT_FOUND); /* namespace first */
    CHECK(contains(err.message, "namespace 'prod' does not exist"));
    CHECK_OK(firn_cat_create_namespace(cat, "prod", NULL, &err), &err);
    CHECK_OK(firn_cat_create_namespace(cat, "prod.eu", NULL, &err), &err);
    CHECK_OK(firn_cat_create_table(cat, &t1, "file:/w/prod/events/metadata/00000-a.metadata.json",
                                   &err),
             &err);
    CHECK_OK(firn_cat_create_table(cat, &t2, "file:/w/prod/alerts/metadata/00000-b.metadata.json",
                                   &err),
             &err);
    CHECK_OK(firn_cat_create_table(cat, &t3, "file:/w/prod/eu/zones/m.json", &err), &err);
    rc = firn_cat_create_table(cat, &t1, "file:/w/other.json", &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_CONFLICT);
    CHECK(!err.retriable);
    CHECK(contains(err.message, "table 'prod.events' already exists"));

    firn_cat_table t;
    CHECK_OK(firn_cat_load_table(cat, &t1, &a, &t, &err), &err);
    CHECK_EQ_STR(t.ns, "prod");
    CHECK_EQ_STR(t.name, "events");
    CHECK_EQ_STR(t.metadata_location, "file:/w/prod/events/metadata/00000-a.metadata.json");
    CHECK(t.previous_metadata_location == NULL);
    bool exists = false;
    CHECK_OK(firn_cat_table_exists(cat, &t2, &exists, &err), &err);
    CHECK(exists);
    firn_cat_ident none = {"prod", "none"};
    CHECK_OK(firn_cat_table_exists(cat, &none, &exists, &err), &err);
    CHECK(!exists);
    CHECK_EQ_INT(firn_cat_load_table(cat, &none, &a, &t, &err), -FIRN_ERR_NOT_FOUND);
    CHECK(contains(err.message, "'prod.none' does not exist"));

    const char **names;
    size_t n;
    CHECK_OK(firn_cat_list_tables(cat, "prod", &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 2); /* not prod.eu's */
    CHECK_EQ_STR(names[0], "alerts");
    CHECK_EQ_STR(names[1], "events");
    CHECK_EQ_INT(firn_cat_list_tables(cat, "nope", &a, &names, &n, &err), -FIRN_ERR_NOT_FOUND);

    rc = firn_cat_drop_namespace(cat, "prod.eu", &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_CONFLICT);
    CHECK_MSG(contains(err.message, "1 table(s)"), "%s", err.message);

    const char *last;
    CHECK_OK(firn_cat_drop_table(cat, &t3, &a, &last, &err), &err);
    CHECK_EQ_STR(last, "file:/w/prod/eu/zones/m.json");
    CHECK_EQ_INT(firn_cat_drop_table(cat, &t3, &a, &last, &err), -FIRN_ERR_NOT_FOUND);
    CHECK(last == NULL);
    CHECK_EQ_INT(firn_cat_load_table(cat, &t3, &a, &t, &err), -FIRN_ERR_NOT_FOUND);
    CHECK_OK(firn_cat_drop_namespace(cat, "prod.eu", &err), &err);
    /* a namespace that holds tables exists even without properties */
    CHECK_OK(firn_cat_list_tables(cat, "prod", &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 2);

    /* names and locations that do not fit the JDBC columns are refused */
    char longloc[1100];
    memset(longloc, 'x', sizeof longloc);
    longloc[1099] = 0;
    firn_cat_ident t4 = {"prod", "long"};
    CHECK_EQ_INT(firn_cat_create_table(cat, &t4, longloc, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_cat_create_table(cat, &t4, "", &err), -FIRN_ERR_INVALID);
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

CATALOG_SCENARIO(rename) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_catalog *cat = open_db("rename", NULL);
    CHECK(cat);
    CHECK_OK(firn_cat_create_namespace(cat, "staging", NULL, &err), &err);
    CHECK_OK(firn_cat_create_namespace(cat, "prod", NULL, &err), &err);
    firn_cat_ident s = {"staging", "events"}, p = {"prod", "events"}, q = {"prod", "events_v2"};
    firn_cat_ident other = {"prod", "other"};
    CHECK_OK(firn_cat_create_table(cat, &s, "file:/w/s.json", &err), &err);
    CHECK_OK(firn_cat_create_table(cat, &other, "file:/w/o.json", &err), &err);
    CHECK_OK(firn_cat_rename_table(cat, &s, &p, &err), &err); /* across namespaces */
    firn_cat_table t;
    CHECK_EQ_INT(firn_cat_load_table(cat, &s, &a, &t, &err), -FIRN_ERR_NOT_FOUND);
    CHECK_OK(firn_cat_load_table(cat, &p, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/w/s.json"); /* files do not move */
    CHECK_OK(firn_cat_rename_table(cat, &p, &q, &err), &err); /* within a namespace */
    CHECK_OK(firn_cat_rename_table(cat, &q, &q, &err), &err); /* to itself: nothing */
    int rc = firn_cat_rename_table(cat, &q, &other, &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_CONFLICT);
    CHECK(contains(firn_test_errtext(&err), "'prod.other' already exists"));
    firn_cat_ident nowhere = {"nope", "events"};
    CHECK_EQ_INT(firn_cat_rename_table(cat, &q, &nowhere, &err), -FIRN_ERR_NOT_FOUND);
    CHECK(contains(firn_test_errtext(&err), "namespace 'nope' does not exist"));
    CHECK_EQ_INT(firn_cat_rename_table(cat, &s, &p, &err), -FIRN_ERR_NOT_FOUND);
    CHECK_EQ_INT(firn_cat_rename_table(cat, &s, &s, &err), -FIRN_ERR_NOT_FOUND);
    const char **names;
    size_t n;
    CHECK_OK(firn_cat_list_tables(cat, "prod", &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(names[0], "events_v2");
    CHECK_EQ_STR(names[1], "other");
    CHECK_OK(firn_cat_list_tables(cat, "staging", &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 0);
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

CATALOG_SCENARIO(register) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_catalog *cat = open_db("register", NULL);
    CHECK(cat);
    CHECK_OK(firn_cat_create_namespace(cat, "ext", NULL, &err), &err);
    char path[600], want[620];
    snprintf(path, sizeof path, "%s/register-%d/t/metadata/00003-x.metadata.json",
             firn_test_tmpdir(), (int)g_bk);
    snprintf(want, sizeof want, "file:%s", path);
    firn_cat_ident id = {"ext", "spark_table"};
    int rc = firn_cat_register_table(cat, &id, path, &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_NOT_FOUND);
    CHECK(contains(err.message, "metadata file does not exist"));
    firn_io *io = firn_io_local_new();
    CHECK_OK(firn_io_write_all(io, path, "{}", 2, &err), &err);
    firn_io_free(io);
    CHECK_OK(firn_cat_register_table(cat, &id, path, &err), &err); /* a plain path */
    firn_cat_table t;
    CHECK_OK(firn_cat_load_table(cat, &id, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, want); /* stored canonical */
    CHECK_EQ_INT(firn_cat_register_table(cat, &id, path, &err), -FIRN_ERR_CONFLICT);
    CHECK_EQ_INT(firn_cat_register_table(cat, &id, "gs://bucket/m.json", &err),
                 -FIRN_ERR_UNSUPPORTED);
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

CATALOG_SCENARIO(commit_cas) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_catalog *cat = open_db("cas", NULL);
    CHECK(cat);
    CHECK_OK(firn_cat_create_namespace(cat, "prod", NULL, &err), &err);
    firn_cat_ident id = {"prod", "events"};
    CHECK_OK(firn_cat_create_table(cat, &id, "file:/m0.json", &err), &err);
    firn_cat_outcome outcome = FIRN_CAT_OUTCOME_UNKNOWN;
    CHECK_OK(firn_cat_commit_table(cat, &id, "file:/m0.json", "file:/m1.json", &outcome, &err),
             &err);
    CHECK_EQ_INT(outcome, FIRN_CAT_COMMITTED);
    firn_cat_table t;
    CHECK_OK(firn_cat_load_table(cat, &id, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/m1.json");
    CHECK_EQ_STR(t.previous_metadata_location, "file:/m0.json");

    /* a writer that started from m0 lost the race: conflict, row unchanged */
    int rc = firn_cat_commit_table(cat, &id, "file:/m0.json", "file:/m2.json", &outcome, &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_CONFLICT);
    CHECK(err.retriable);
    CHECK_EQ_INT(outcome, FIRN_CAT_NOT_COMMITTED);
    CHECK_MSG(contains(err.message, "prod.events") && contains(err.message, "file:/m1.json") &&
                  contains(err.message, "reload"),
              "%s", err.message);
    CHECK_OK(firn_cat_load_table(cat, &id, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/m1.json");
    CHECK_EQ_STR(t.previous_metadata_location, "file:/m0.json");

    firn_cat_ident gone = {"prod", "gone"};
    CHECK_EQ_INT(firn_cat_commit_table(cat, &gone, "file:/a", "file:/b", &outcome, &err),
                 -FIRN_ERR_NOT_FOUND);
    CHECK(contains(err.message, "does not exist"));
    CHECK_OK(firn_cat_commit_table(cat, &id, "file:/m1.json", "file:/m2.json", NULL, &err), &err);
    CHECK_OK(firn_cat_load_table(cat, &id, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/m2.json");
    CHECK_EQ_STR(t.previous_metadata_location, "file:/m1.json");
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* The commit lock: while one connection holds it, another cannot swap (it waits,
 * here past its short busy timeout: a retriable error, nothing changed); a load
 * inside the lock sees the latest state; the commit inside still compares and
 * swaps, and ends the lock either way; unlock without commit changes nothing. */
FIRN_TEST(catalog_commit_lock) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_catalog *cat = open_db("lock", NULL);
    firn_cat_config quick = {.busy_timeout_ms = 100};
    firn_catalog *other = open_db("lock", &quick);
    CHECK(cat && other);
    CHECK_OK(firn_cat_create_namespace(cat, "prod", NULL, &err), &err);
    firn_cat_ident id = {"prod", "events"};
    CHECK_OK(firn_cat_create_table(cat, &id, "file:/m0.json", &err), &err);

    bool held = false;
    CHECK_OK(firn_cat_commit_lock(cat, &held, &err), &err);
    CHECK(held);
    firn_cat_outcome outcome;
    int rc = firn_cat_commit_table(other, &id, "file:/m0.json", "file:/x.json", &outcome, &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_IO);
    CHECK(err.retriable);
    CHECK_EQ_INT(outcome, FIRN_CAT_NOT_COMMITTED);
    firn_cat_table t;
    CHECK_OK(firn_cat_load_table(cat, &id, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/m0.json");
    CHECK_OK(firn_cat_commit_table(cat, &id, "file:/m0.json", "file:/m1.json", &outcome, &err),
             &err);
    CHECK_EQ_INT(outcome, FIRN_CAT_COMMITTED);
    firn_cat_commit_unlock(cat); /* released by the commit already: a no-op */
    CHECK_OK(firn_cat_load_table(other, &id, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/m1.json");

    /* a stale swap inside the lock is still refused, and the lock is released */
    CHECK_OK(firn_cat_commit_lock(cat, &held, &err), &err);
    rc = firn_cat_commit_table(cat, &id, "file:/m0.json", "file:/m2.json", &outcome, &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_CONFLICT);
    CHECK_OK(firn_cat_commit_table(other, &id, "file:/m1.json", "file:/m2.json", NULL, &err),
             &err);
    /* lock, then give up: nothing changes and others commit again */
    CHECK_OK(firn_cat_commit_lock(cat, &held, &err), &err);
    firn_cat_commit_unlock(cat);
    CHECK_OK(firn_cat_commit_table(other, &id, "file:/m2.json", "file:/m3.json", NULL, &err),
             &err);
    CHECK_OK(firn_cat_load_table(cat, &id, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/m3.json");
    firn_cat_free(other);
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

CATALOG_SCENARIO(multi_table_commit_all_or_none) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_catalog *cat = open_db("multi", NULL);
    CHECK(cat);
    CHECK_OK(firn_cat_create_namespace(cat, "production", NULL, &err), &err);
    CHECK_OK(firn_cat_create_namespace(cat, "staging", NULL, &err), &err);
    firn_cat_ident ids[3] = {{"production", "parking_entry"},
                             {"staging", "parking_entry_untrusted"},
                             {"production", "commits"}};
    for (int i = 0; i < 3; i++) {
        char loc[64];
        snprintf(loc, sizeof loc, "file:/t%d/v0.json", i);
        CHECK_OK(firn_cat_create_table(cat, &ids[i], loc, &err), &err);
    }
    firn_cat_commit c[3];
    char olds[3][64], news[3][64];
    for (int i = 0; i < 3; i++) {
        snprintf(olds[i], sizeof olds[i], "file:/t%d/v0.json", i);
        snprintf(news[i], sizeof news[i], "file:/t%d/v1.json", i);
        c[i] = (firn_cat_commit){ids[i], olds[i], news[i]};
    }
    firn_cat_outcome outcome;
    CHECK_OK(firn_cat_commit_tables(cat, c, 3, &outcome, &err), &err);
    CHECK_EQ_INT(outcome, FIRN_CAT_COMMITTED);
    for (int i = 0; i < 3; i++) {
        firn_cat_table t;
        CHECK_OK(firn_cat_load_table(cat, &ids[i], &a, &t, &err), &err);
        CHECK_EQ_STR(t.metadata_location, news[i]);
    }
    /* next round: the middle table is stale -> nothing changes anywhere */
    for (int i = 0; i < 3; i++) {
        snprintf(olds[i], sizeof olds[i], "file:/t%d/v1.json", i);
        snprintf(news[i], sizeof news[i], "file:/t%d/v2.json", i);
    }
    snprintf(olds[1], sizeof olds[1], "file:/t1/v0.json");
    int rc = firn_cat_commit_tables(cat, c, 3, &outcome, &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_CONFLICT);
    CHECK(err.retriable);
    CHECK_EQ_INT(outcome, FIRN_CAT_NOT_COMMITTED);
    CHECK(contains(err.message, "staging.parking_entry_untrusted"));
    for (int i = 0; i < 3; i++) {
        firn_cat_table t;
        char want[64];
        snprintf(want, sizeof want, "file:/t%d/v1.json", i);
        CHECK_OK(firn_cat_load_table(cat, &ids[i], &a, &t, &err), &err);
        CHECK_MSG(strcmp(t.metadata_location, want) == 0, "table %d moved to %s", i,
                  t.metadata_location);
    }
    /* the last table missing: also none */
    firn_cat_commit c2[2] = {{ids[0], "file:/t0/v1.json", "file:/t0/v9.json"},
                             {{"staging", "dropped"}, "file:/x", "file:/y"}};
    CHECK_EQ_INT(firn_cat_commit_tables(cat, c2, 2, &outcome, &err), -FIRN_ERR_NOT_FOUND);
    firn_cat_table t;
    CHECK_OK(firn_cat_load_table(cat, &ids[0], &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/t0/v1.json");
    /* a table twice, or nothing, is a caller bug */
    firn_cat_commit twice[2] = {{ids[0], "file:/t0/v1.json", "file:/a"},
                                {ids[0], "file:/a", "file:/b"}};
    CHECK_EQ_INT(firn_cat_commit_tables(cat, twice, 2, &outcome, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_cat_commit_tables(cat, twice, 0, &outcome, &err), -FIRN_ERR_INVALID);
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* ------------------------------------------------------------ retries */

typedef struct flaky {
    int conflicts_left; /* fail this many times with a retriable conflict */
    int calls;
    firn_err_kind kind;
} flaky;

static int flaky_attempt(void *ctx, int attempt, firn_error *err) {
    flaky *f = ctx;
    f->calls++;
    if (attempt != f->calls) return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "attempt numbering");
    if (f->conflicts_left-- > 0) return FIRN_RAISE(err, f->kind, "lost the race (%d)", attempt);
    return 0;
}

FIRN_TEST(catalog_retry_helper) {
    firn_error err;
    firn_error_init(&err);
    firn_cat_retry_policy p;
    firn_cat_retry_policy_default(&p);
    CHECK_EQ_INT(p.num_retries, 4); /* Java's TableProperties defaults */
    CHECK_EQ_INT(p.min_wait_ms, 100);
    CHECK_EQ_INT(p.max_wait_ms, 60000);
    CHECK_EQ_INT(p.total_timeout_ms, 1800000);

    p.min_wait_ms = 10;
    p.max_wait_ms = 25;
    flaky f = {2, 0, FIRN_ERR_CONFLICT};
    int attempts = 0;
    uint64_t t0 = firn_now_ns();
    CHECK_OK(firn_cat_retry(&p, flaky_attempt, &f, &attempts, &err), &err);
    uint64_t ms = (firn_now_ns() - t0) / 1000000u;
    CHECK_EQ_INT(attempts, 3);
    CHECK_MSG(ms >= 30 && ms < 5000, "waited %llu ms (10 + 20 expected)", (unsigned long long)ms);

    /* always conflicting: 1 + num_retries attempts, then the conflict */
    f = (flaky){100, 0, FIRN_ERR_CONFLICT};
    t0 = firn_now_ns();
    int rc = firn_cat_retry(&p, flaky_attempt, &f, &attempts, &err);
    ms = (firn_now_ns() - t0) / 1000000u;
    CHECK_EQ_INT(rc, -FIRN_ERR_CONFLICT);
    CHECK_EQ_INT(attempts, 5);
    CHECK_EQ_INT(f.calls, 5);
    CHECK(contains(err.message, "after 5 attempt(s)"));
    CHECK(contains(firn_test_errtext(&err), "lost the race (5)"));
    CHECK_MSG(ms >= 10 + 20 + 25 + 25, "waited only %llu ms: max-wait caps 40 at 25",
              (unsigned long long)ms);

    /* other errors are not retried */
    f = (flaky){100, 0, FIRN_ERR_IO};
    CHECK_EQ_INT(firn_cat_retry(&p, flaky_attempt, &f, &attempts, &err), -FIRN_ERR_IO);
    CHECK_EQ_INT(attempts, 1);
    /* a non-retriable conflict (name taken) neither */
    p.num_retries = 0;
    f = (flaky){1, 0, FIRN_ERR_CONFLICT};
    CHECK_EQ_INT(firn_cat_retry(&p, flaky_attempt, &f, &attempts, NULL), -FIRN_ERR_CONFLICT);
    CHECK_EQ_INT(attempts, 1);
    /* total timeout: stops after the attempt that crosses it */
    firn_cat_retry_policy_default(&p);
    p.min_wait_ms = 30;
    p.total_timeout_ms = 50;
    f = (flaky){100, 0, FIRN_ERR_CONFLICT};
    CHECK_EQ_INT(firn_cat_retry(&p, flaky_attempt, &f, &attempts, &err), -FIRN_ERR_CONFLICT);
    /* attempts at 0, 30, 90 ms: the third is past 50 ms (the second too on a
     * loaded machine), well before the 5 that num_retries allows */
    CHECK_MSG(attempts == 2 || attempts == 3, "%d attempts", attempts);

    /* table properties override the defaults */
    const char *keys[] = {"commit.retry.num-retries", "commit.retry.min-wait-ms", "other"};
    const char *values[] = {"10", "5", "x"};
    firn_cat_props props = {3, keys, values};
    firn_cat_retry_policy_default(&p);
    CHECK_OK(firn_cat_retry_policy_from_props(&p, &props, &err), &err);
    CHECK_EQ_INT(p.num_retries, 10);
    CHECK_EQ_INT(p.min_wait_ms, 5);
    CHECK_EQ_INT(p.max_wait_ms, 60000);
    values[0] = "ten";
    CHECK_EQ_INT(firn_cat_retry_policy_from_props(&p, &props, &err), -FIRN_ERR_INVALID);
    CHECK(contains(err.message, "commit.retry.num-retries"));
    firn_error_release(&err);
}

/* ------------------------------------------------------------ processes */

typedef struct committer {
    firn_catalog *cat;
    firn_cat_ident id;
    char new_location[128];
    char old_location[128];
} committer;

/* One attempt as the table layer makes it: reload, "write metadata" (a short
 * pause widens the race), swap. */
static int commit_attempt(void *ctx, int attempt, firn_error *err) {
    (void)attempt;
    committer *c = ctx;
    firn_arena a;
    firn_arena_init(&a, 1024);
    firn_cat_table t;
    int rc = firn_cat_load_table(c->cat, &c->id, &a, &t, err);
    if (rc == 0) {
        snprintf(c->old_location, sizeof c->old_location, "%s", t.metadata_location);
        struct timespec pause = {0, 500000};
        nanosleep(&pause, NULL);
        rc = firn_cat_commit_table(c->cat, &c->id, c->old_location, c->new_location, NULL, err);
    }
    firn_arena_release(&a);
    return rc;
}

#define PROCS 4
#define COMMITS 25

/* A child: COMMITS commits through the retry helper, each success appended to
 * its log as "old new", then "attempts N". Short waits keep the processes
 * colliding all along (with Java's 100 ms the first collisions spread them
 * out). Exit status: 100 + commits that gave up, or 1 on any other error. */
static void committer_child(const char *uri, const char *db, int proc) {
    char logpath[700];
    snprintf(logpath, sizeof logpath, "%s.log%d", db, proc);
    FILE *log = fopen(logpath, "w");
    firn_error err;
    firn_error_init(&err);
    committer c = {.id = {"prod", "events"}};
    if (!log || firn_cat_open(uri, NULL, &c.cat, &err) != 0) _exit(1);
    firn_cat_retry_policy p;
    firn_cat_retry_policy_default(&p);
    p.num_retries = 40;
    p.min_wait_ms = 1;
    p.max_wait_ms = 8;
    int failed = 0, total_attempts = 0;
    for (int j = 0; j < COMMITS; j++) {
        snprintf(c.new_location, sizeof c.new_location,
                 "file:/w/prod/events/metadata/p%d-%02d.metadata.json", proc, j);
        int attempts = 0;
        int rc = firn_cat_retry(&p, commit_attempt, &c, &attempts, &err);
        total_attempts += attempts;
        if (rc == 0) {
            fprintf(log, "%s %s\n", c.old_location, c.new_location);
            fflush(log);
        } else if (err.kind == FIRN_ERR_CONFLICT) {
            failed++;
        } else {
            char eb[1024];
            fprintf(stderr, "child %d: %s\n", proc, firn_error_format(&err, eb, sizeof eb));
            _exit(1);
        }
    }
    fprintf(log, "attempts %d\n", total_attempts);
    fclose(log);
    firn_cat_free(c.cat);
    firn_error_release(&err);
    _exit(100 + failed);
}

CATALOG_SCENARIO(concurrent_commits_processes) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_catalog *cat = open_db("concurrent", NULL);
    CHECK(cat);
    const char *db = db_path("concurrent");
    char uri[900];
    snprintf(uri, sizeof uri, "%s", cat_uri("concurrent"));
    firn_cat_ident id = {"prod", "events"};
    CHECK_OK(firn_cat_create_namespace(cat, "prod", NULL, &err), &err);
    CHECK_OK(firn_cat_create_table(cat, &id, "file:/w/m0", &err), &err);
    firn_cat_free(cat);

    fflush(stdout);
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) committer_child(uri, db, i);
    }
    int failed = 0;
    for (int i = 0; i < PROCS; i++) {
        int st;
        waitpid(pids[i], &st, 0);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) >= 100, "child %d: status %d", i, st);
        failed += WEXITSTATUS(st) - 100;
    }
    /* Every success is one link old -> new. Follow the links from m0: each
     * base is used once (no lost update), the chain visits every success and
     * ends where the catalog points. */
    static char olds[PROCS * COMMITS][128], news[PROCS * COMMITS][128];
    int nlinks = 0, attempts = 0;
    for (int i = 0; i < PROCS; i++) {
        char logpath[700], line[300];
        snprintf(logpath, sizeof logpath, "%s.log%d", db, i);
        FILE *f = fopen(logpath, "r");
        CHECK(f);
        while (fgets(line, sizeof line, f)) {
            int n;
            if (sscanf(line, "attempts %d", &n) == 1) attempts += n;
            else if (nlinks < PROCS * COMMITS &&
                     sscanf(line, "%127s %127s", olds[nlinks], news[nlinks]) == 2)
                nlinks++;
        }
        fclose(f);
    }
    CHECK_EQ_INT(nlinks + failed, PROCS * COMMITS);
    CHECK_MSG(failed == 0, "%d commits gave up after 41 attempts", failed);
    /* the processes did collide: the test exercised the compare-and-swap */
    CHECK_MSG(attempts > PROCS * COMMITS, "no conflicts in %d attempts", attempts);
    const char *at = "file:/w/m0";
    const char *prev = NULL;
    for (int step = 0; step < nlinks; step++) {
        int next = -1;
        for (int k = 0; k < nlinks; k++) {
            if (strcmp(olds[k], at) != 0) continue;
            CHECK_MSG(next < 0, "two commits were based on %s", at);
            next = k;
        }
        CHECK_MSG(next >= 0, "chain broken after %d links at %s", step, at);
        prev = at;
        at = news[next];
    }
    cat = open_db("concurrent", NULL);
    CHECK(cat);
    firn_cat_table t;
    CHECK_OK(firn_cat_load_table(cat, &id, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, at);
    CHECK_EQ_STR(t.previous_metadata_location, prev);
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* A second connection (another engine: plain SQL) writes a marker property
 * into namespace "prod" and holds its locks for hold_ms, then commits. On
 * SQLite that is the database's write lock; on PostgreSQL the row of table
 * prod.events (an UPDATE that changes nothing), which a commit must wait for. */
static pid_t hold_lock(const char *name, int hold_ms, int ready_fd) {
    const char *pg_uri = g_bk == BK_PG ? cat_uri(name) : NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec ts = {hold_ms / 1000, (long)(hold_ms % 1000) * 1000000L};
        if (pg_uri) {
            PGconn *pg = PQconnectdb(pg_uri);
            if (PQstatus(pg) != CONNECTION_OK) _exit(1);
            PGresult *r = PQexec(pg,
                                 "BEGIN; INSERT INTO iceberg_namespace_properties VALUES "
                                 "('default', 'prod', 'held-by', 'other'); UPDATE iceberg_tables "
                                 "SET metadata_location = metadata_location WHERE table_name = "
                                 "'events'");
            if (PQresultStatus(r) != PGRES_COMMAND_OK) _exit(4);
            PQclear(r);
            if (write(ready_fd, "x", 1) != 1) _exit(3);
            nanosleep(&ts, NULL);
            PQclear(PQexec(pg, "COMMIT"));
            PQfinish(pg);
            _exit(0);
        }
        sqlite3 *h;
        if (sqlite3_open(db_path(name), &h) != SQLITE_OK) _exit(1);
        if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) _exit(2);
        if (sqlite3_exec(h,
                         "INSERT OR REPLACE INTO iceberg_namespace_properties VALUES "
                         "('default', 'prod', 'held-by', 'other')",
                         NULL, NULL, NULL) != SQLITE_OK)
            _exit(4);
        if (write(ready_fd, "x", 1) != 1) _exit(3);
        nanosleep(&ts, NULL);
        sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(h);
        _exit(0);
    }
    return pid;
}

CATALOG_SCENARIO(waits_for_busy_database) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_cat_config cfg = {.busy_timeout_ms = 150};
    firn_catalog *cat = open_db("busy", &cfg);
    CHECK(cat);
    firn_cat_ident id = {"prod", "events"};
    CHECK_OK(firn_cat_create_namespace(cat, "prod", NULL, &err), &err);
    CHECK_OK(firn_cat_create_table(cat, &id, "file:/m0", &err), &err);

    /* held longer than the timeout: a clear, retriable error; nothing changed */
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = hold_lock("busy", 1500, fds[1]);
    char c;
    CHECK(read(fds[0], &c, 1) == 1);
    firn_cat_outcome outcome;
    int rc = firn_cat_commit_table(cat, &id, "file:/m0", "file:/m1", &outcome, &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_IO);
    CHECK(err.retriable);
    CHECK_EQ_INT(outcome, FIRN_CAT_NOT_COMMITTED);
    CHECK_MSG(contains(err.message, "stayed locked by another"), "%s", err.message);
    /* reading is not blocked by a writer (SQLite: WAL; PostgreSQL: MVCC) */
    firn_cat_table t;
    CHECK_OK(firn_cat_load_table(cat, &id, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/m0");
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    firn_cat_props props;
    CHECK_OK(firn_cat_load_namespace(cat, "prod", &a, &props, &err), &err);
    CHECK_EQ_INT(props.n, 1); /* the other writer's commit */
    firn_cat_free(cat);

    /* held shorter than the timeout: the commit waits its turn and succeeds */
    cat = open_db("busy", NULL);
    CHECK(cat);
    const char *rm[] = {"held-by"};
    CHECK_OK(firn_cat_update_namespace(cat, "prod", NULL, rm, 1, &err), &err);
    pid = hold_lock("busy", 500, fds[1]);
    CHECK(read(fds[0], &c, 1) == 1);
    CHECK_OK(firn_cat_commit_table(cat, &id, "file:/m0", "file:/m1", &outcome, &err), &err);
    /* the lock holder committed first: its property is there */
    CHECK_OK(firn_cat_load_namespace(cat, "prod", &a, &props, &err), &err);
    CHECK_EQ_INT(props.n, 1);
    waitpid(pid, &st, 0);
    CHECK_OK(firn_cat_load_table(cat, &id, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/m1");
    close(fds[0]);
    close(fds[1]);
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* A child killed at a crash point in the middle of a two-table commit. */
static int crash_commit(const char *uri, const char *point, const char *from, const char *to) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("FIRN_CRASH_AT", point, 1);
        if (!freopen("/dev/null", "w", stderr)) _exit(2); /* the crash notice */
        firn_catalog *cat;
        if (firn_cat_open(uri, NULL, &cat, NULL) != 0) _exit(1);
        firn_cat_commit c[2] = {{{"prod", "a"}, from, to}, {{"prod", "b"}, from, to}};
        firn_cat_commit_tables(cat, c, 2, NULL, NULL);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

CATALOG_SCENARIO(crash_during_multi_table_commit) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_catalog *cat = open_db("crash", NULL);
    CHECK(cat);
    CHECK_OK(firn_cat_create_namespace(cat, "prod", NULL, &err), &err);
    firn_cat_ident ta = {"prod", "a"}, tb = {"prod", "b"};
    CHECK_OK(firn_cat_create_table(cat, &ta, "file:/v0", &err), &err);
    CHECK_OK(firn_cat_create_table(cat, &tb, "file:/v0", &err), &err);
    /* killed with both updates made but not committed: none happened */
    int st = crash_commit(cat_uri("crash"), "catalog.commit.before-sql-commit", "file:/v0",
                          "file:/v1");
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    firn_cat_table t;
    CHECK_OK(firn_cat_load_table(cat, &ta, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/v0");
    CHECK_OK(firn_cat_load_table(cat, &tb, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/v0");
    /* killed right after COMMIT: both happened */
    st = crash_commit(cat_uri("crash"), "catalog.commit.after-sql-commit", "file:/v0", "file:/v1");
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CHECK_OK(firn_cat_load_table(cat, &ta, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/v1");
    CHECK_OK(firn_cat_load_table(cat, &tb, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/v1");
    /* and the catalog works on: the killed transaction left no lock behind */
    CHECK_OK(firn_cat_commit_table(cat, &ta, "file:/v1", "file:/v2", NULL, &err), &err);
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

CATALOG_SCENARIO(default_location) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_cat_config cfg = {.warehouse = "/lake/warehouse/"};
    firn_catalog *cat = open_db("location", &cfg);
    CHECK(cat);
    CHECK_OK(firn_cat_create_namespace(cat, "prod.eu", NULL, &err), &err);
    const char *keys[] = {"location"};
    const char *values[] = {"file:///data/staging/"};
    firn_cat_props props = {1, keys, values};
    CHECK_OK(firn_cat_create_namespace(cat, "staging", &props, &err), &err);
    const char *loc;
    firn_cat_ident a1 = {"prod.eu", "events"}, a2 = {"staging", "dead_letter"};
    CHECK_OK(firn_cat_default_location(cat, &a1, &a, &loc, &err), &err);
    CHECK_EQ_STR(loc, "file:/lake/warehouse/prod/eu/events");
    CHECK_OK(firn_cat_default_location(cat, &a2, &a, &loc, &err), &err);
    CHECK_EQ_STR(loc, "file:/data/staging/dead_letter");
    firn_cat_free(cat);
    cat = open_db("location", NULL); /* no warehouse */
    CHECK(cat);
    CHECK_EQ_INT(firn_cat_default_location(cat, &a1, &a, &loc, &err), -FIRN_ERR_INVALID);
    CHECK(contains(err.message, "no warehouse"));
    CHECK_OK(firn_cat_default_location(cat, &a2, &a, &loc, &err), &err);
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* ------------------------------------------------------------ other engines */

/* Run a Python script (sqlite3 module) on args; its output on failure. */
static int python(const char *script, const char *args, char *out, size_t outn) {
    char path[600], outpath[600], cmd[2000];
    snprintf(path, sizeof path, "%s/catalogs/check.py", firn_test_tmpdir());
    snprintf(outpath, sizeof outpath, "%s/catalogs/check.out", firn_test_tmpdir());
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(script, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s >%s 2>&1", path, args, outpath);
    int st = system(cmd);
    out[0] = 0;
    f = fopen(outpath, "r");
    if (f) {
        size_t n = fread(out, 1, outn - 1, f);
        out[n] = 0;
        fclose(f);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* What Java's JdbcCatalog and PyIceberg's SqlCatalog would see in firn's
 * database: column names, types and the queries they run. */
static const char PY_READ_FIRN[] =
    "import sqlite3, sys\n"
    "db = sqlite3.connect(sys.argv[1])\n"
    "def cols(t): return [(r[1], r[2], r[3], r[5]) for r in db.execute(f'PRAGMA"
    " table_info({t})')]\n"
    "got = cols('iceberg_tables')\n"
    "want = [('catalog_name','VARCHAR(255)',1,1), ('table_namespace','VARCHAR(255)',1,2),\n"
    "        ('table_name','VARCHAR(255)',1,3), ('metadata_location','VARCHAR(1000)',0,0),\n"
    "        ('previous_metadata_location','VARCHAR(1000)',0,0),"
    " ('iceberg_type','VARCHAR(5)',0,0)]\n"
    "assert got == want, got\n"
    "got = cols('iceberg_namespace_properties')\n"
    "want = [('catalog_name','VARCHAR(255)',1,1), ('namespace','VARCHAR(255)',1,2),\n"
    "        ('property_key','VARCHAR(255)',0,3), ('property_value','VARCHAR(1000)',0,0)]\n"
    "assert got == want, got\n"
    "assert db.execute('PRAGMA journal_mode').fetchone()[0] == 'wal'\n"
    "# Java V1_GET_TABLE_SQL\n"
    "r = db.execute(\"SELECT * FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ?"
    " AND table_name = ? AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)\","
    " ('default','prod.eu','events')).fetchall()\n"
    "assert r == [('default','prod.eu','events','file:/w/m1.json','file:/w/m0.json','TABLE')], r\n"
    "# Java namespaceExists: GET_NAMESPACE_SQL with LIKE ... ESCAPE '!'\n"
    "r = db.execute(\"SELECT table_namespace FROM iceberg_tables WHERE catalog_name = ? AND "
    " (table_namespace = ? OR table_namespace LIKE ? ESCAPE '!') LIMIT 1\","
    " ('default','prod','prod.%')).fetchall()\n"
    "assert r == [('prod.eu',)], r\n"
    "# Java loadNamespaceMetadata / PyIceberg load_namespace_properties\n"
    "r = dict(db.execute('SELECT property_key, property_value FROM iceberg_namespace_properties"
    " WHERE catalog_name = ? AND namespace = ?', ('default','prod')).fetchall())\n"
    "assert r == {'exists': 'true', 'owner': 'eng'}, r\n"
    "# PyIceberg list_namespaces: union of both tables\n"
    "r = sorted(x[0] for x in db.execute('SELECT table_namespace FROM iceberg_tables WHERE"
    " catalog_name = ? UNION SELECT namespace FROM iceberg_namespace_properties WHERE"
    " catalog_name = ?', ('default','default')))\n"
    "assert r == ['prod', 'prod.eu'], r\n"
    "# a view row, as Java writes one, for firn to respect\n"
    "db.execute(\"INSERT INTO iceberg_tables VALUES"
    " ('default','prod.eu','daily','file:/w/v.json',NULL,'VIEW')\")\n"
    "db.commit()\n"
    "print('ok')\n";

FIRN_TEST(catalog_interop_schema_as_java_and_pyiceberg_see_it) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    CHECK_MSG(access("/usr/bin/python3", X_OK) == 0, "needs /usr/bin/python3 (Debian python3)");
    firn_catalog *cat = open_db("interop", NULL);
    CHECK(cat);
    const char *keys[] = {"owner"};
    const char *values[] = {"eng"};
    firn_cat_props props = {1, keys, values};
    CHECK_OK(firn_cat_create_namespace(cat, "prod", &props, &err), &err);
    firn_cat_ident id = {"prod.eu", "events"};
    CHECK_OK(firn_cat_create_namespace(cat, "prod.eu", NULL, &err), &err);
    CHECK_OK(firn_cat_create_table(cat, &id, "file:/w/m0.json", &err), &err);
    CHECK_OK(firn_cat_commit_table(cat, &id, "file:/w/m0.json", "file:/w/m1.json", NULL, &err),
             &err);
    CHECK_EQ_INT(firn_cat_drop_namespace(cat, "prod.eu", &err), -FIRN_ERR_CONFLICT);
    firn_cat_free(cat);

    char out[4096];
    int rc = python(PY_READ_FIRN, db_path("interop"), out, sizeof out);
    CHECK_MSG(rc == 0, "python check failed (%d): %s", rc, out);

    /* firn respects the view Python wrote the way Java does */
    cat = open_db("interop", NULL);
    CHECK(cat);
    const char **names;
    size_t n;
    CHECK_OK(firn_cat_list_tables(cat, "prod.eu", &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(names[0], "events");
    firn_cat_ident view = {"prod.eu", "daily"};
    firn_cat_table t;
    CHECK_EQ_INT(firn_cat_load_table(cat, &view, &a, &t, &err), -FIRN_ERR_NOT_FOUND);
    CHECK_EQ_INT(firn_cat_create_table(cat, &view, "file:/x", &err), -FIRN_ERR_CONFLICT);
    CHECK(contains(err.message, "a view named 'prod.eu.daily' already exists"));
    CHECK_EQ_INT(firn_cat_rename_table(cat, &id, &view, &err), -FIRN_ERR_CONFLICT);
    CHECK_EQ_INT(firn_cat_drop_table(cat, &view, &a, NULL, &err), -FIRN_ERR_NOT_FOUND);
    CHECK_OK(firn_cat_drop_table(cat, &id, &a, NULL, &err), &err);
    CHECK_EQ_INT(firn_cat_drop_namespace(cat, "prod.eu", &err), -FIRN_ERR_CONFLICT);
    CHECK(contains(err.message, "1 view(s)"));
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* Databases as Java's JDBC catalog (schema V0, before iceberg_type) and
 * PyIceberg's SqlCatalog (SQLAlchemy DDL) create and fill them. */
static const char PY_MAKE_OTHERS[] =
    "import sqlite3, sys\n"
    "java = sqlite3.connect(sys.argv[1])\n"
    "java.execute('CREATE TABLE iceberg_tables(catalog_name VARCHAR(255) NOT NULL,table_namespace"
    " VARCHAR(255) NOT NULL,table_name VARCHAR(255) NOT NULL,metadata_location"
    " VARCHAR(1000),previous_metadata_location VARCHAR(1000),PRIMARY KEY (catalog_name,"
    " table_namespace, table_name))')\n"
    "java.execute('CREATE TABLE iceberg_namespace_properties(catalog_name VARCHAR(255) NOT"
    " NULL,namespace VARCHAR(255) NOT NULL,property_key VARCHAR(255),property_value"
    " VARCHAR(1000),PRIMARY KEY (catalog_name, namespace, property_key))')\n"
    "java.execute(\"INSERT INTO iceberg_namespace_properties VALUES ('spark', 'db', 'exists',"
    " 'true')\")\n"
    "java.execute(\"INSERT INTO iceberg_namespace_properties VALUES ('spark', 'db', 'comment',"
    " NULL)\")\n"
    "java.execute(\"INSERT INTO iceberg_tables VALUES ('spark', 'db', 'orders',"
    " 'file:/s/00001-a.metadata.json', 'file:/s/00000-b.metadata.json')\")\n"
    "java.commit()\n"
    "py = sqlite3.connect(sys.argv[2])\n"
    "py.execute('CREATE TABLE iceberg_tables (\\n\\tcatalog_name VARCHAR(255) NOT NULL,"
    " \\n\\ttable_namespace VARCHAR(255) NOT NULL, \\n\\ttable_name VARCHAR(255) NOT NULL,"
    " \\n\\tmetadata_location VARCHAR(1000), \\n\\tprevious_metadata_location VARCHAR(1000),"
    " \\n\\tPRIMARY KEY (catalog_name, table_namespace, table_name)\\n)')\n"
    "py.execute('CREATE TABLE iceberg_namespace_properties (\\n\\tcatalog_name VARCHAR(255) NOT"
    " NULL, \\n\\tnamespace VARCHAR(255) NOT NULL, \\n\\tproperty_key VARCHAR(255) NOT NULL,"
    " \\n\\tproperty_value VARCHAR(1000) NOT NULL, \\n\\tPRIMARY KEY (catalog_name, namespace,"
    " property_key)\\n)')\n"
    "py.execute(\"INSERT INTO iceberg_namespace_properties VALUES ('default', 'default',"
    " 'exists', 'true')\")\n"
    "py.execute(\"INSERT INTO iceberg_tables VALUES ('default', 'default', 'taxis',"
    " 'file:/p/00000-c.metadata.json', NULL)\")\n"
    "py.commit()\n"
    "print('ok')\n";

static const char PY_CHECK_MIGRATED[] =
    "import sqlite3, sys\n"
    "java = sqlite3.connect(sys.argv[1])\n"
    "cols = [r[1] for r in java.execute('PRAGMA table_info(iceberg_tables)')]\n"
    "assert cols[-1] == 'iceberg_type', cols\n"
    "r = java.execute(\"SELECT metadata_location, previous_metadata_location, iceberg_type FROM"
    " iceberg_tables WHERE table_name = 'orders'\").fetchall()\n"
    "assert r == [('file:/s/00002-c.metadata.json', 'file:/s/00001-a.metadata.json', None)], r\n"
    "r = java.execute(\"SELECT iceberg_type FROM iceberg_tables WHERE table_name ="
    " 'lines'\").fetchall()\n"
    "assert r == [('TABLE',)], r\n"
    "py = sqlite3.connect(sys.argv[2])\n"
    "cols = [r[1] for r in py.execute('PRAGMA table_info(iceberg_tables)')]\n"
    "assert 'iceberg_type' not in cols, cols\n"
    "# PyIceberg's own ORM query still works on what firn wrote\n"
    "r = py.execute('SELECT iceberg_tables.catalog_name, iceberg_tables.table_namespace,"
    " iceberg_tables.table_name, iceberg_tables.metadata_location,"
    " iceberg_tables.previous_metadata_location FROM iceberg_tables WHERE"
    " iceberg_tables.catalog_name = ? AND iceberg_tables.table_namespace = ? AND"
    " iceberg_tables.table_name = ?', ('default','default','trips')).fetchall()\n"
    "assert r == [('default','default','trips','file:/p/trips.json',None)], r\n"
    "print('ok')\n";

FIRN_TEST(catalog_interop_adopts_java_and_pyiceberg_databases) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    CHECK_MSG(access("/usr/bin/python3", X_OK) == 0, "needs /usr/bin/python3 (Debian python3)");
    char args[1400], out[4096];
    /* make sure the directory exists */
    firn_catalog *tmp = open_db("placeholder", NULL);
    firn_cat_free(tmp);
    snprintf(args, sizeof args, "%s %s", db_path("java_v0"), db_path("pyiceberg"));
    int rc = python(PY_MAKE_OTHERS, args, out, sizeof out);
    CHECK_MSG(rc == 0, "python failed (%d): %s", rc, out);

    /* Java's V0 database: firn reads it, adds iceberg_type, commits */
    firn_cat_config spark = {.name = "spark"};
    firn_catalog *cat = open_db("java_v0", &spark);
    CHECK(cat);
    firn_cat_ident orders = {"db", "orders"};
    firn_cat_table t;
    CHECK_OK(firn_cat_load_table(cat, &orders, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/s/00001-a.metadata.json");
    CHECK_EQ_STR(t.previous_metadata_location, "file:/s/00000-b.metadata.json");
    firn_cat_props props;
    CHECK_OK(firn_cat_load_namespace(cat, "db", &a, &props, &err), &err);
    CHECK_EQ_INT(props.n, 1);
    CHECK_EQ_STR(props.keys[0], "comment");
    CHECK_EQ_STR(props.values[0], ""); /* NULL in Java's nullable column */
    CHECK_OK(firn_cat_commit_table(cat, &orders, "file:/s/00001-a.metadata.json",
                                   "file:/s/00002-c.metadata.json", NULL, &err),
             &err);
    firn_cat_ident lines = {"db", "lines"};
    CHECK_OK(firn_cat_create_table(cat, &lines, "file:/s/lines.json", &err), &err);
    firn_cat_free(cat);

    /* PyIceberg's database, left as it is (no_migrate): rows without a type */
    firn_cat_config pycfg = {.no_migrate = true};
    cat = open_db("pyiceberg", &pycfg);
    CHECK(cat);
    const char **names;
    size_t n;
    CHECK_OK(firn_cat_list_namespaces(cat, NULL, &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(names[0], "default");
    CHECK_OK(firn_cat_list_tables(cat, "default", &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(names[0], "taxis");
    firn_cat_ident trips = {"default", "trips"};
    CHECK_OK(firn_cat_create_table(cat, &trips, "file:/p/trips.json", &err), &err);
    firn_cat_ident taxis = {"default", "taxis"};
    CHECK_OK(firn_cat_commit_table(cat, &taxis, "file:/p/00000-c.metadata.json",
                                   "file:/p/00001-d.metadata.json", NULL, &err),
             &err);
    firn_cat_free(cat);

    snprintf(args, sizeof args, "%s %s", db_path("java_v0"), db_path("pyiceberg"));
    rc = python(PY_CHECK_MIGRATED, args, out, sizeof out);
    CHECK_MSG(rc == 0, "python check failed (%d): %s", rc, out);

    /* refusing to create tables in a database without them */
    firn_cat_config noinit = {.no_init = true};
    firn_catalog *none;
    char uri[700];
    snprintf(uri, sizeof uri, "sqlite:%s", db_path("empty"));
    CHECK_EQ_INT(firn_cat_open(uri, &noinit, &none, &err), -FIRN_ERR_NOT_FOUND);
    CHECK(contains(firn_test_errtext(&err), "no Iceberg catalog tables"));
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* ------------------------------------------------------------ PostgreSQL only */

#define PG_ONLY_TEST(name)                                                                \
    static void test_pg_##name(void);                                                     \
    __attribute__((constructor)) static void register_pg_only_##name(void) {              \
        if (getenv("FIRN_PG_URI")) firn_test_register("catalog_pg_" #name, test_pg_##name); \
    }                                                                                     \
    static void test_pg_##name(void)

/* FIRN_PG_URI with its password cut out, and the password. */
static void split_password(char *uri, size_t n, char *pw, size_t pwn) {
    const char *base = getenv("FIRN_PG_URI");
    const char *auth = strstr(base, "://") + 3;
    const char *at = strchr(auth, '@');
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    snprintf(pw, pwn, "%.*s", (int)(at - colon - 1), colon + 1);
    snprintf(uri, n, "%.*s%s", (int)(colon - base), base, at);
}

PG_ONLY_TEST(open_uris_and_passwords) {
    g_bk = BK_PG;
    firn_error err;
    firn_error_init(&err);
    firn_catalog *cat = open_db("open", NULL);
    CHECK(cat);
    CHECK_EQ_STR(firn_cat_kind(cat), "sql/postgresql");
    CHECK_OK(firn_cat_create_namespace(cat, "ns", NULL, &err), &err);
    firn_cat_free(cat);
    /* postgres:// and jdbc:postgresql:// reach the same database */
    const char *uri = cat_uri("open");
    char other[1000];
    const char *forms[] = {"postgres://%s", "jdbc:postgresql://%s"};
    for (int i = 0; i < 2; i++) {
        snprintf(other, sizeof other, forms[i], strstr(uri, "://") + 3);
        CHECK_OK(firn_cat_open(other, NULL, &cat, &err), &err);
        bool exists = false;
        CHECK_OK(firn_cat_namespace_exists(cat, "ns", &exists, &err), &err);
        CHECK_MSG(exists, "%s does not see the namespace", other);
        firn_cat_free(cat);
    }
    /* the password: URI, config, FIRN_CATALOG_PASSWORD, PGPASSWORD */
    char nopw[900], pw[128];
    split_password(nopw, sizeof nopw, pw, sizeof pw);
    unsetenv("PGPASSWORD");
    unsetenv("FIRN_CATALOG_PASSWORD");
    firn_cat_config quick = {.connect_timeout_ms = 5000};
    uint64_t t0 = firn_now_ns();
    CHECK_EQ_INT(firn_cat_open(nopw, &quick, &cat, &err), -FIRN_ERR_IO);
    CHECK_MSG(contains(firn_test_errtext(&err), "wants a password"), "%s", firn_test_errtext(&err));
    CHECK_MSG((firn_now_ns() - t0) / 1000000u < 2500, "an answered refusal was retried");
    firn_cat_config with_pw = {.password = pw};
    CHECK_OK(firn_cat_open(nopw, &with_pw, &cat, &err), &err);
    firn_cat_free(cat);
    setenv("FIRN_CATALOG_PASSWORD", pw, 1);
    CHECK_OK(firn_cat_open(nopw, NULL, &cat, &err), &err);
    firn_cat_free(cat);
    unsetenv("FIRN_CATALOG_PASSWORD");
    setenv("PGPASSWORD", pw, 1);
    CHECK_OK(firn_cat_open(nopw, NULL, &cat, &err), &err);
    firn_cat_free(cat);
    unsetenv("PGPASSWORD");
    /* a wrong password: refused at once, and never printed */
    char wrong[1000];
    const char *at = strchr(strstr(nopw, "://") + 3, '@');
    snprintf(wrong, sizeof wrong, "%.*s:NotThePassword%s", (int)(at - nopw), nopw, at);
    CHECK_EQ_INT(firn_cat_open(wrong, &quick, &cat, &err), -FIRN_ERR_IO);
    CHECK_MSG(contains(firn_test_errtext(&err), "password authentication failed") &&
                  !contains(firn_test_errtext(&err), "NotThePassword") && contains(firn_test_errtext(&err), ":***@"),
              "%s", firn_test_errtext(&err));
    /* no such database: the server answered, no retries */
    char nodb[1000];
    snprintf(nodb, sizeof nodb, "%s", getenv("FIRN_PG_URI"));
    char *slash = strrchr(nodb, '/');
    snprintf(slash, sizeof nodb - (size_t)(slash - nodb), "/no_such_db");
    t0 = firn_now_ns();
    CHECK_EQ_INT(firn_cat_open(nodb, &quick, &cat, &err), -FIRN_ERR_IO);
    CHECK_MSG(contains(firn_test_errtext(&err), "no_such_db") && contains(firn_test_errtext(&err), "does not exist"),
              "%s", firn_test_errtext(&err));
    CHECK((firn_now_ns() - t0) / 1000000u < 2500);
    /* a schema that does not exist */
    snprintf(other, sizeof other, "%s?options=-csearch_path%%3Dnope_schema",
             getenv("FIRN_PG_URI"));
    CHECK(firn_cat_open(other, &quick, &cat, &err) < 0);
    CHECK_MSG(contains(firn_test_errtext(&err), "no current schema"), "%s", firn_test_errtext(&err));
    firn_error_release(&err);
}

/* The tables as Java's JdbcCatalog and PyIceberg's SqlCatalog see them on
 * PostgreSQL, a view row Java wrote, and Java's V0 schema adopted. */
PG_ONLY_TEST(schema_as_java_and_pyiceberg_see_it) {
    g_bk = BK_PG;
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_catalog *cat = open_db("pginterop", NULL);
    CHECK(cat);
    const char *keys[] = {"owner"};
    const char *values[] = {"eng"};
    firn_cat_props props = {1, keys, values};
    CHECK_OK(firn_cat_create_namespace(cat, "prod", &props, &err), &err);
    CHECK_OK(firn_cat_create_namespace(cat, "prod.eu", NULL, &err), &err);
    firn_cat_ident id = {"prod.eu", "events"};
    CHECK_OK(firn_cat_create_table(cat, &id, "file:/w/m0.json", &err), &err);
    CHECK_OK(firn_cat_commit_table(cat, &id, "file:/w/m0.json", "file:/w/m1.json", NULL, &err),
             &err);
    char got[2000];
    CHECK(pg_sql("pginterop",
                 "SELECT string_agg(column_name || ' ' || data_type || "
                 "coalesce('(' || character_maximum_length || ')', '') || ' ' || is_nullable, "
                 "', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE "
                 "table_schema = current_schema() AND table_name = 'iceberg_tables'",
                 got, sizeof got) == 0);
    CHECK_EQ_STR(got, "catalog_name character varying(255) NO, table_namespace character "
                      "varying(255) NO, table_name character varying(255) NO, "
                      "metadata_location character varying(1000) YES, "
                      "previous_metadata_location character varying(1000) YES, iceberg_type "
                      "character varying(5) YES");
    CHECK(pg_sql("pginterop",
                 "SELECT string_agg(column_name || ' ' || data_type || "
                 "coalesce('(' || character_maximum_length || ')', '') || ' ' || is_nullable, "
                 "', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE "
                 "table_schema = current_schema() AND table_name = "
                 "'iceberg_namespace_properties'",
                 got, sizeof got) == 0);
    CHECK_EQ_STR(got, "catalog_name character varying(255) NO, namespace character "
                      "varying(255) NO, property_key character varying(255) NO, "
                      "property_value character varying(1000) YES");
    CHECK(pg_sql("pginterop",
                 "SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM pg_index i, "
                 "unnest(i.indkey) WITH ORDINALITY k(att, n), pg_attribute a WHERE "
                 "i.indrelid = 'iceberg_tables'::regclass AND i.indisprimary AND "
                 "a.attrelid = i.indrelid AND a.attnum = k.att",
                 got, sizeof got) == 0);
    CHECK_EQ_STR(got, "catalog_name,table_namespace,table_name");
    /* Java's V1_GET_TABLE_SQL and namespace probe */
    CHECK(pg_sql("pginterop",
                 "SELECT metadata_location || ' ' || previous_metadata_location || ' ' || "
                 "iceberg_type FROM iceberg_tables WHERE catalog_name = 'default' AND "
                 "table_namespace = 'prod.eu' AND table_name = 'events' AND (iceberg_type = "
                 "'TABLE' OR iceberg_type IS NULL)",
                 got, sizeof got) == 0);
    CHECK_EQ_STR(got, "file:/w/m1.json file:/w/m0.json TABLE");
    CHECK(pg_sql("pginterop",
                 "SELECT table_namespace FROM iceberg_tables WHERE catalog_name = 'default' AND "
                 "(table_namespace = 'prod' OR table_namespace LIKE 'prod.%' ESCAPE '!') LIMIT 1",
                 got, sizeof got) == 0);
    CHECK_EQ_STR(got, "prod.eu");
    CHECK(pg_sql("pginterop",
                 "INSERT INTO iceberg_tables VALUES ('default', 'prod.eu', 'daily', "
                 "'file:/w/v.json', NULL, 'VIEW')",
                 NULL, 0) == 0);
    const char **names;
    size_t n;
    CHECK_OK(firn_cat_list_tables(cat, "prod.eu", &a, &names, &n, &err), &err);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(names[0], "events");
    firn_cat_ident view = {"prod.eu", "daily"};
    CHECK_EQ_INT(firn_cat_create_table(cat, &view, "file:/x", &err), -FIRN_ERR_CONFLICT);
    CHECK(contains(err.message, "a view named 'prod.eu.daily' already exists"));
    firn_cat_free(cat);

    /* Java's V0 tables (no iceberg_type), as JdbcUtil creates them */
    cat_uri("pgjava"); /* fresh schema */
    CHECK(pg_sql("pgjava",
                 "CREATE TABLE iceberg_tables(catalog_name VARCHAR(255) NOT NULL, "
                 "table_namespace VARCHAR(255) NOT NULL, table_name VARCHAR(255) NOT NULL, "
                 "metadata_location VARCHAR(1000), previous_metadata_location VARCHAR(1000), "
                 "PRIMARY KEY (catalog_name, table_namespace, table_name)); "
                 "CREATE TABLE iceberg_namespace_properties(catalog_name VARCHAR(255) NOT NULL, "
                 "namespace VARCHAR(255) NOT NULL, property_key VARCHAR(255), property_value "
                 "VARCHAR(1000), PRIMARY KEY (catalog_name, namespace, property_key)); "
                 "INSERT INTO iceberg_namespace_properties VALUES ('spark', 'db', 'exists', "
                 "'true'); INSERT INTO iceberg_tables VALUES ('spark', 'db', 'orders', "
                 "'file:/s/1.json', 'file:/s/0.json')",
                 NULL, 0) == 0);
    firn_cat_config spark = {.name = "spark"};
    cat = open_db("pgjava", &spark);
    CHECK(cat);
    firn_cat_ident orders = {"db", "orders"};
    CHECK_OK(firn_cat_commit_table(cat, &orders, "file:/s/1.json", "file:/s/2.json", NULL, &err),
             &err);
    firn_cat_free(cat);
    CHECK(pg_sql("pgjava",
                 "SELECT metadata_location || ' ' || coalesce(iceberg_type, 'NULL') FROM "
                 "iceberg_tables WHERE table_name = 'orders'",
                 got, sizeof got) == 0);
    CHECK_EQ_STR(got, "file:/s/2.json NULL");
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* Another engine's transaction and a firn multi-table commit lock two rows in
 * opposite orders: PostgreSQL breaks the deadlock by aborting firn's
 * transaction (the other session waits 30 s before it checks), which comes
 * back as a retriable conflict with nothing changed; the retry then succeeds. */
PG_ONLY_TEST(deadlock_is_a_retriable_conflict) {
    g_bk = BK_PG;
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_catalog *cat = open_db("deadlock", NULL);
    CHECK(cat);
    CHECK_OK(firn_cat_create_namespace(cat, "prod", NULL, &err), &err);
    firn_cat_ident ta = {"prod", "a"}, tb = {"prod", "b"};
    CHECK_OK(firn_cat_create_table(cat, &ta, "file:/a0", &err), &err);
    CHECK_OK(firn_cat_create_table(cat, &tb, "file:/b0", &err), &err);
    const char *uri = cat_uri("deadlock");
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        PGconn *pg = PQconnectdb(uri);
        if (PQstatus(pg) != CONNECTION_OK) _exit(1);
        PGresult *r = PQexec(pg,
                             "SET deadlock_timeout = '30s'; BEGIN; UPDATE iceberg_tables SET "
                             "previous_metadata_location = 'x' WHERE table_name = 'b'");
        if (PQresultStatus(r) != PGRES_COMMAND_OK) _exit(2);
        PQclear(r);
        if (write(fds[1], "x", 1) != 1) _exit(3);
        struct timespec ts = {0, 300 * 1000000L}; /* firn now waits for row b */
        nanosleep(&ts, NULL);
        r = PQexec(pg, "UPDATE iceberg_tables SET previous_metadata_location = 'x' WHERE "
                       "table_name = 'a'");
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        PQclear(PQexec(pg, "ROLLBACK"));
        PQfinish(pg);
        _exit(ok ? 0 : 4);
    }
    char c;
    CHECK(read(fds[0], &c, 1) == 1);
    firn_cat_commit commits[2] = {{ta, "file:/a0", "file:/a1"}, {tb, "file:/b0", "file:/b1"}};
    firn_cat_outcome outcome;
    int rc = firn_cat_commit_tables(cat, commits, 2, &outcome, &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_CONFLICT);
    CHECK(err.retriable);
    CHECK_EQ_INT(outcome, FIRN_CAT_NOT_COMMITTED);
    CHECK_MSG(contains(firn_test_errtext(&err), "deadlock") && contains(firn_test_errtext(&err), "40P01"), "%s",
              firn_test_errtext(&err));
    int st;
    waitpid(pid, &st, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "other session: status %d", st);
    firn_cat_table t;
    CHECK_OK(firn_cat_load_table(cat, &ta, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/a0");
    CHECK_OK(firn_cat_commit_tables(cat, commits, 2, &outcome, &err), &err);
    CHECK_OK(firn_cat_load_table(cat, &tb, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/b1");
    close(fds[0]);
    close(fds[1]);
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}

/* The server restarts under an open catalog (FIRN_PG_RESTART_CMD stops it,
 * waits a second, starts it): the next calls reconnect, retrying while it is
 * down, and work. */
PG_ONLY_TEST(reconnects_after_server_restart) {
    g_bk = BK_PG;
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    const char *restart = getenv("FIRN_PG_RESTART_CMD");
    CHECK_MSG(restart, "FIRN_PG_RESTART_CMD is not set (tests/interop/postgres.test.sh sets it)");
    firn_catalog *cat = open_db("restart", NULL);
    CHECK(cat);
    CHECK_OK(firn_cat_create_namespace(cat, "prod", NULL, &err), &err);
    firn_cat_ident id = {"prod", "events"};
    CHECK_OK(firn_cat_create_table(cat, &id, "file:/m0", &err), &err);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s >/dev/null 2>&1 &", restart);
    fflush(stdout);
    CHECK(system(cmd) == 0);
    struct timespec ts = {0, 500 * 1000000L}; /* the server is down now */
    nanosleep(&ts, NULL);
    uint64_t t0 = firn_now_ns();
    firn_cat_table t;
    CHECK_OK(firn_cat_load_table(cat, &id, &a, &t, &err), &err); /* a read outside a tx */
    uint64_t waited_ms = (firn_now_ns() - t0) / 1000000u;
    CHECK_EQ_STR(t.metadata_location, "file:/m0");
    CHECK_MSG(waited_ms >= 200, "load took %llu ms: was the server down?",
              (unsigned long long)waited_ms);
    CHECK_OK(firn_cat_commit_table(cat, &id, "file:/m0", "file:/m1", NULL, &err), &err);
    /* and again, this time the first call after the restart is a commit */
    CHECK(system(cmd) == 0);
    nanosleep(&ts, NULL);
    CHECK_OK(firn_cat_commit_table(cat, &id, "file:/m1", "file:/m2", NULL, &err), &err);
    CHECK_OK(firn_cat_load_table(cat, &id, &a, &t, &err), &err);
    CHECK_EQ_STR(t.metadata_location, "file:/m2");
    CHECK_EQ_STR(t.previous_metadata_location, "file:/m1");
    firn_cat_free(cat);
    firn_arena_release(&a);
    firn_error_release(&err);
}
