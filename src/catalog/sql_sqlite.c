/*
 * sql_sqlite.c - the SQLite driver of the SQL catalog.
 *
 * Several processes share one catalog file, so: WAL journal (readers never
 * block the writer), synchronous=FULL (a commit that returned survives a power
 * cut), a busy timeout for lock waits, and BEGIN IMMEDIATE for transactions
 * that write (the write lock is taken before the first read, so no transaction
 * fails upgrading a read lock). A lock still busy after the timeout comes back
 * as a retriable FIRN_ERR_IO, never as a silent failure.
 *
 * Why not synchronous=NORMAL, which saves the WAL fsync of every commit (one
 * fdatasync, about 0.2 ms of a table commit here): in WAL mode NORMAL keeps
 * the database consistent but a power cut may roll back the last transactions
 * that returned. For the catalog that is the metadata swap itself: after it
 * returned, firn has told the user the commit happened, deleted the metadata
 * files that fell off the log (write.metadata.delete-after-commit) and the
 * losing attempts' files; a rolled-back swap would bring back a pointer to an
 * older metadata file - possibly one already deleted, leaving the table
 * unloadable - and lose a commit that was acknowledged. So a committed swap
 * must be durable when COMMIT returns: FULL.
 */
#include "catalog/catalog_internal.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_BUSY_TIMEOUT_MS 30000

typedef struct sqlite_conn {
    firn_cat_sql_conn base;
    sqlite3 *db;
    int busy_timeout_ms;
    char *path;
} sqlite_conn;

typedef struct sqlite_stmt {
    firn_cat_sql_stmt base;
    sqlite3_stmt *st;
} sqlite_stmt;

static const firn_cat_sql_driver sqlite_driver;

static bool is_busy(int rc) {
    rc &= 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

static int raise_db(sqlite_conn *c, int rc, const char *what, firn_error *err) {
    int prim = rc & 0xff;
    firn_err_kind kind = FIRN_ERR_IO;
    if (prim == SQLITE_CONSTRAINT) kind = FIRN_ERR_CONFLICT;
    else if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB) kind = FIRN_ERR_CORRUPT;
    else if (prim == SQLITE_NOMEM) kind = FIRN_ERR_NOMEM;
    int out;
    if (is_busy(rc))
        out = FIRN_RAISE(err, kind,
                         "%s: the catalog database stayed locked by another process for "
                         "more than %d ms (%s)",
                         what, c->busy_timeout_ms, sqlite3_errstr(rc));
    else
        out = FIRN_RAISE(err, kind, "%s: %s (sqlite error %d)", what,
                         c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc), rc);
    firn_error_context(err, "sqlite:%s", c->path);
    if (err) err->retriable = is_busy(rc);
    return out;
}

static void nap_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Run one statement that returns no rows, retrying while the database is
 * busy, for at most the busy timeout. */
static int exec_sql(sqlite_conn *c, const char *sql, firn_error *err) {
    uint64_t deadline = firn_now_ns() + (uint64_t)c->busy_timeout_ms * 1000000u;
    for (int attempt = 0;; attempt++) {
        int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK) return 0;
        if (!is_busy(rc) || firn_now_ns() > deadline) return raise_db(c, rc, sql, err);
        nap_ms(attempt < 10 ? 1 : 10);
    }
}

static int sq_prepare(firn_cat_sql_conn *conn, const char *sql, firn_cat_sql_stmt **out,
                      firn_error *err) {
    sqlite_conn *c = (sqlite_conn *)conn;
    sqlite3_stmt *st = NULL;
    uint64_t deadline = firn_now_ns() + (uint64_t)c->busy_timeout_ms * 1000000u;
    int rc;
    /* preparing reads the schema, which can meet a busy database too */
    while ((rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL)) != SQLITE_OK && is_busy(rc) &&
           firn_now_ns() < deadline)
        nap_ms(2);
    if (rc != SQLITE_OK) return raise_db(c, rc, "cannot prepare SQL", err);
    sqlite_stmt *s = firn_xcalloc(1, sizeof *s);
    s->base.conn = conn;
    s->st = st;
    *out = &s->base;
    return 0;
}

static int sq_bind_text(firn_cat_sql_stmt *stmt, int index, const char *value, firn_error *err) {
    sqlite_stmt *s = (sqlite_stmt *)stmt;
    int rc = value ? sqlite3_bind_text(s->st, index, value, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(s->st, index);
    if (rc != SQLITE_OK) return raise_db((sqlite_conn *)stmt->conn, rc, "cannot bind value", err);
    return 0;
}

static int sq_step(firn_cat_sql_stmt *stmt, firn_error *err) {
    sqlite_stmt *s = (sqlite_stmt *)stmt;
    sqlite_conn *c = (sqlite_conn *)stmt->conn;
    uint64_t deadline = 0;
    for (int attempt = 0;; attempt++) {
        int rc = sqlite3_step(s->st);
        if (rc == SQLITE_ROW) return 1;
        if (rc == SQLITE_DONE) {
            stmt->changes = sqlite3_changes(c->db);
            return 0;
        }
        /* The busy handler has waited already. Outside a transaction a busy
         * statement changed nothing and is safe to run again (the busy handler
         * is not consulted in every case, e.g. during WAL recovery). Inside a
         * transaction the caller rolls back. */
        if (is_busy(rc) && sqlite3_get_autocommit(c->db)) {
            if (!deadline) deadline = firn_now_ns() + (uint64_t)c->busy_timeout_ms * 1000000u;
            if (firn_now_ns() < deadline) {
                sqlite3_reset(s->st);
                nap_ms(attempt < 10 ? 1 : 10);
                continue;
            }
        }
        int ext = sqlite3_extended_errcode(c->db);
        sqlite3_reset(s->st);
        return raise_db(c, ext ? ext : rc, "SQL statement failed", err);
    }
}

static const char *sq_column_text(firn_cat_sql_stmt *stmt, int col) {
    return (const char *)sqlite3_column_text(((sqlite_stmt *)stmt)->st, col);
}

static void sq_finalize(firn_cat_sql_stmt *stmt) {
    if (!stmt) return;
    sqlite3_finalize(((sqlite_stmt *)stmt)->st);
    free(stmt);
}

static int sq_begin(firn_cat_sql_conn *conn, firn_cat_sql_tx kind, firn_error *err) {
    return exec_sql((sqlite_conn *)conn,
                    kind == FIRN_SQL_TX_READ ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE", err);
}

static int sq_commit(firn_cat_sql_conn *conn, firn_error *err) {
    /* A busy COMMIT keeps the transaction open: exec_sql retries it. */
    return exec_sql((sqlite_conn *)conn, "COMMIT", err);
}

static void sq_rollback(firn_cat_sql_conn *conn) {
    sqlite_conn *c = (sqlite_conn *)conn;
    if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Run a one-row probe query with text arguments; *found = it returned a row. */
static int probe(sqlite_conn *c, const char *sql, const char *a1, const char *a2, bool *found,
                 firn_error *err) {
    firn_cat_sql_stmt *s;
    int rc = sq_prepare(&c->base, sql, &s, err);
    if (rc) return rc;
    if (a1) rc = sq_bind_text(s, 1, a1, err);
    if (!rc && a2) rc = sq_bind_text(s, 2, a2, err);
    if (!rc) rc = sq_step(s, err);
    sq_finalize(s);
    if (rc < 0) return rc;
    *found = rc == 1;
    return 0;
}

static int sq_has_table(firn_cat_sql_conn *conn, const char *table, bool *out, firn_error *err) {
    return probe((sqlite_conn *)conn,
                 "SELECT 1 FROM sqlite_master WHERE type = 'table' AND lower(name) = lower(?)",
                 table, NULL, out, err);
}

static int sq_has_column(firn_cat_sql_conn *conn, const char *table, const char *column, bool *out,
                         firn_error *err) {
    return probe((sqlite_conn *)conn,
                 "SELECT 1 FROM pragma_table_info(?) WHERE lower(name) = lower(?)", table, column,
                 out, err);
}

static void sq_close(firn_cat_sql_conn *conn) {
    sqlite_conn *c = (sqlite_conn *)conn;
    if (!c) return;
    sqlite3_close(c->db);
    free(c->path);
    free(c);
}

static const firn_cat_sql_driver sqlite_driver = {
    .name = "sqlite",
    .close = sq_close,
    .prepare = sq_prepare,
    .bind_text = sq_bind_text,
    .step = sq_step,
    .column_text = sq_column_text,
    .finalize = sq_finalize,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .has_table = sq_has_table,
    .has_column = sq_has_column,
};

/* mkdir -p for the directory holding the database file. */
static int make_parent_dirs(const char *path, firn_error *err) {
    char *dir = firn_xstrdup(path);
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; *p; p++) {
            if (*p != '/') continue;
            *p = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST) break;
            *p = '/';
        }
        struct stat st;
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot create directory for the catalog: %s",
                            strerror(errno));
            firn_error_context(err, "%s", dir);
        } else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot create the catalog: not a directory");
            firn_error_context(err, "%s", dir);
        }
    }
    free(dir);
    return rc;
}

int firn_cat_sqlite_open(const char *path, int busy_timeout_ms, firn_cat_sql_conn **out,
                         firn_error *err) {
    *out = NULL;
    bool memory = strcmp(path, ":memory:") == 0;
    if (!memory) {
        int rc = make_parent_dirs(path, err);
        if (rc) return rc;
    }
    sqlite_conn *c = firn_xcalloc(1, sizeof *c);
    c->base.drv = &sqlite_driver;
    c->busy_timeout_ms = busy_timeout_ms > 0 ? busy_timeout_ms : DEFAULT_BUSY_TIMEOUT_MS;
    c->path = firn_xstrdup(path);
    int rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        rc = raise_db(c, rc, "cannot open the catalog database", err);
        sq_close(&c->base);
        return rc;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, c->busy_timeout_ms);
    /* WAL persists in the file: set once, a no-op afterwards. */
    if (!memory) {
        rc = exec_sql(c, "PRAGMA journal_mode=WAL", err);
        if (rc == 0) rc = exec_sql(c, "PRAGMA synchronous=FULL", err);
        if (rc) {
            FIRN_WRAP(err, err ? err->kind : FIRN_ERR_IO, "cannot open the catalog database");
            sq_close(&c->base);
            return rc;
        }
    }
    *out = &c->base;
    return 0;
}
