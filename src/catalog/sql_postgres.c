/*
 * sql_postgres.c - the PostgreSQL driver of the SQL catalog, on libpq.
 *
 * The same tables and SQL as on SQLite (sql_catalog.c); what differs lives
 * here:
 *  - placeholders: the catalog's '?' become $1, $2, ... (outside literals);
 *    every statement is one PQexecParams round trip, all values text.
 *  - transactions and isolation (kinds in catalog_internal.h):
 *      READ   REPEATABLE READ READ ONLY: the statements of a listing see one
 *             snapshot.
 *      CAS    READ COMMITTED. A commit is UPDATE ... WHERE metadata_location =
 *             :old. Two racing commits of one table: the second UPDATE waits
 *             for the first's row lock, then PostgreSQL re-evaluates the
 *             predicate on the row's newest committed version (EvalPlanQual),
 *             finds the old location gone and changes 0 rows: the conflict the
 *             catalog reports. Exactly one wins, and a multi-table commit keeps
 *             its row locks to COMMIT, so it is all or none. SERIALIZABLE (or
 *             REPEATABLE READ) would make the loser fail with a serialization
 *             error instead (the row changed after its snapshot) and adds false
 *             positives from predicate locks, for no gain: the predicate is the
 *             guard. Java's JdbcCatalog and PyIceberg's SqlCatalog commit the
 *             same way, so firn and they exclude each other.
 *      WRITE  READ COMMITTED plus pg_advisory_xact_lock on a key of the catalog
 *             schema, taken first: creates, renames and drops check then write
 *             (namespace exists? name free? namespace empty?), and the lock makes
 *             that atomic among firn processes, as SQLite's BEGIN IMMEDIATE does.
 *             The primary keys still stop duplicate names from other engines.
 *    Serialization failures (40001) and deadlocks (40P01) abort the transaction
 *    with nothing changed: they come back as retriable FIRN_ERR_CONFLICT, so
 *    firn_cat_retry reloads and tries again (they arise with other engines'
 *    transactions, e.g. a multi-table commit locking rows in the other order).
 *  - lock waits: lock_timeout = the busy timeout; 55P03 is a retriable
 *    FIRN_ERR_IO, as SQLite's busy timeout.
 *  - connections: a server that is not accepting connections (down, starting
 *    up, shutting down, too many clients) is retried with exponential backoff
 *    (50 ms doubling to 1 s) until the connect timeout; failures the server
 *    answered (wrong password, no such database) are not. A connection lost
 *    between transactions (server restarted) is re-established at the next
 *    statement; one lost inside a transaction fails it (retriable FIRN_ERR_IO;
 *    in COMMIT the catalog reports the outcome unknown).
 *  - messages never carry the password: the URI is shown redacted.
 */
#include "catalog/catalog_internal.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_LOCK_TIMEOUT_MS 30000
#define DEFAULT_CONNECT_TIMEOUT_MS 30000

typedef struct pg_conn {
    firn_cat_sql_conn base;
    PGconn *pg;
    char *uri;      /* libpq URI */
    char *password; /* when the URI has none and one was configured; else NULL */
    char *display;  /* the URI, password redacted */
    int lock_timeout_ms;
    int connect_timeout_ms;
    bool in_tx;
    char lock_key[24]; /* advisory lock key of the catalog schema (decimal) */
    int reconnects;    /* connections re-established (tests, diagnostics) */
} pg_conn;

typedef struct pg_stmt {
    firn_cat_sql_stmt base;
    char *sql; /* with $n placeholders */
    int nparams;
    char **params; /* owned; NULL = SQL NULL */
    PGresult *res;
    int nrows, row; /* row: rows returned so far */
} pg_stmt;

static const firn_cat_sql_driver pg_driver;

static void nap_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A libpq message without its trailing newline (static buffer). */
static const char *trim(const char *msg) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s", msg && *msg ? msg : "(no message)");
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
    for (char *p = buf; *p; p++)
        if (*p == '\n') *p = ' ';
    return buf;
}

/* ------------------------------------------------------------ URIs */

char *firn_cat_redact_uri(const char *uri) {
    firn_buf b = {0};
    const char *scheme = strstr(uri, "://");
    const char *p = uri;
    if (scheme) {
        const char *auth = scheme + 3;
        const char *end = auth + strcspn(auth, "/?");
        const char *at = NULL;
        for (const char *q = auth; q < end; q++)
            if (*q == '@') at = q;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            firn_buf_append(&b, uri, (size_t)(colon - uri));
            firn_buf_append_str(&b, ":***");
            p = at;
        }
    }
    /* a password=... query parameter */
    while (*p) {
        const char *hit = strstr(p, "password=");
        if (!hit || (hit != uri && hit[-1] != '?' && hit[-1] != '&')) {
            if (!hit) {
                firn_buf_append_str(&b, p);
                break;
            }
            firn_buf_append(&b, p, (size_t)(hit + 9 - p));
            p = hit + 9;
            continue;
        }
        firn_buf_append(&b, p, (size_t)(hit + 9 - p));
        firn_buf_append_str(&b, "***");
        p = hit + 9 + strcspn(hit + 9, "&");
    }
    char *out = firn_xstrdup(firn_buf_cstr(&b));
    firn_buf_release(&b);
    return out;
}

/* ------------------------------------------------------------ errors */

static bool conn_lost(pg_conn *c, const char *state) {
    if (PQstatus(c->pg) == CONNECTION_BAD) return true;
    return state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
                     strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0);
}

/* Turn a failed result (res may be NULL) into a firn error. */
static int raise_res(pg_conn *c, PGresult *res, const char *what, firn_error *err) {
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res && *PQresultErrorMessage(res) ? PQresultErrorMessage(res)
                                                        : PQerrorMessage(c->pg);
    firn_err_kind kind = FIRN_ERR_IO;
    bool retriable = false;
    int out;
    if (state && strcmp(state, "23505") == 0) {
        kind = FIRN_ERR_CONFLICT;
        out = FIRN_RAISE(err, kind, "%s: %s (SQLSTATE %s)", what, trim(msg), state);
    } else if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)) {
        kind = FIRN_ERR_CONFLICT;
        retriable = true;
        out = FIRN_RAISE(err, kind,
                         "%s: the database aborted the transaction (%s, SQLSTATE %s), nothing "
                         "changed; retry: %s",
                         what, strcmp(state, "40001") == 0 ? "serialization failure" : "deadlock",
                         state, trim(msg));
    } else if (state && strcmp(state, "55P03") == 0) {
        retriable = true;
        out = FIRN_RAISE(err, kind,
                         "%s: the catalog stayed locked by another session for more than %d "
                         "ms (%s)",
                         what, c->lock_timeout_ms, trim(msg));
    } else if (state && strcmp(state, "57014") == 0) {
        retriable = true;
        out = FIRN_RAISE(err, kind, "%s: statement cancelled: %s", what, trim(msg));
    } else if (conn_lost(c, state)) {
        retriable = true;
        out = FIRN_RAISE(err, kind, "%s: lost the connection to the catalog database: %s", what,
                         trim(msg));
    } else {
        if (state && (strcmp(state, "XX001") == 0 || strcmp(state, "XX002") == 0))
            kind = FIRN_ERR_CORRUPT;
        out = FIRN_RAISE(err, kind, "%s: %s%s%s%s", what, trim(msg), state ? " (SQLSTATE " : "",
                         state ? state : "", state ? ")" : "");
    }
    firn_error_context(err, "%s", c->display);
    if (err) err->retriable = retriable;
    return out;
}

/* ------------------------------------------------------------ connecting */

static void quiet_notices(void *arg, const char *message) { (void)arg, (void)message; }

/* Run a statement whose result is one value (or none); *out in buf. */
static int query_value(pg_conn *c, const char *sql, char *buf, size_t n, firn_error *err) {
    PGresult *res = PQexec(c->pg, sql);
    int rc = 0;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        snprintf(buf, n, "%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
    } else if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK) {
        if (buf) buf[0] = '\0';
    } else {
        rc = raise_res(c, res, "cannot set up the catalog session", err);
    }
    PQclear(res);
    return rc;
}

/* One connection attempt. *retriable tells whether trying later may help. */
static int connect_once(pg_conn *c, bool *retriable, firn_error *err) {
    const char *kw[6], *vals[6];
    int k = 0;
    /* before dbname: the URI's own values win */
    kw[k] = "connect_timeout", vals[k++] = "10";
    kw[k] = "application_name", vals[k++] = "firn";
    kw[k] = "dbname", vals[k++] = c->uri;
    if (c->password) kw[k] = "password", vals[k++] = c->password;
    kw[k] = NULL, vals[k] = NULL;
    *retriable = false;
    PGconn *pg = PQconnectdbParams(kw, vals, 1);
    if (!pg) return FIRN_RAISE(err, FIRN_ERR_NOMEM, "cannot allocate a PostgreSQL connection");
    if (PQstatus(pg) != CONNECTION_OK) {
        /* not there or not accepting now (down, starting, shutting down, too
         * many clients): worth retrying; answered (auth, no database): not */
        PGPing ping = PQpingParams(kw, vals, 1);
        *retriable = ping == PQPING_NO_RESPONSE || ping == PQPING_REJECT;
        int rc;
        if (ping == PQPING_NO_ATTEMPT)
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "invalid PostgreSQL connection settings: %s",
                            trim(PQerrorMessage(pg)));
        else if (PQconnectionNeedsPassword(pg))
            rc = FIRN_RAISE(err, FIRN_ERR_IO,
                            "cannot connect to the catalog database: the server wants a "
                            "password and none was given (put it in the URI, "
                            "FIRN_CATALOG_PASSWORD or PGPASSWORD): %s",
                            trim(PQerrorMessage(pg)));
        else
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot connect to the catalog database: %s",
                            trim(PQerrorMessage(pg)));
        PQfinish(pg);
        return rc;
    }
    PQsetNoticeProcessor(pg, quiet_notices, NULL);
    PQfinish(c->pg);
    c->pg = pg;
    c->in_tx = false;
    char sql[128], schema[256];
    snprintf(sql, sizeof sql, "SET lock_timeout = %d", c->lock_timeout_ms);
    int rc = query_value(c, sql, NULL, 0, err);
    if (rc == 0) rc = query_value(c, "SELECT current_schema()", schema, sizeof schema, err);
    if (rc == 0 && !*schema)
        rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                        "the catalog database has no current schema (does the schema in "
                        "search_path exist?)");
    if (rc) {
        *retriable = PQstatus(c->pg) == CONNECTION_BAD;
        return rc;
    }
    char keysrc[300];
    int kn = snprintf(keysrc, sizeof keysrc, "firn.catalog:%s", schema);
    uint64_t h = firn_xxh64(keysrc, (size_t)kn, 0);
    snprintf(c->lock_key, sizeof c->lock_key, "%lld", (long long)(int64_t)h);
    return 0;
}

/* Connect, retrying with backoff while the server is not accepting. */
static int connect_retry(pg_conn *c, firn_error *err) {
    uint64_t start = firn_now_ns();
    uint64_t deadline = start + (uint64_t)c->connect_timeout_ms * 1000000u;
    int delay = 50;
    for (int attempt = 1;; attempt++) {
        bool retriable;
        int rc = connect_once(c, &retriable, err);
        if (rc == 0) return 0;
        if (!retriable) {
            firn_error_context(err, "%s", c->display);
            return rc;
        }
        if (firn_now_ns() + (uint64_t)delay * 1000000u > deadline) {
            FIRN_WRAP(err, FIRN_ERR_IO,
                      "the catalog database did not accept connections: gave up after %d "
                      "attempt(s) in %llu ms",
                      attempt, (unsigned long long)((firn_now_ns() - start) / 1000000u));
            firn_error_context(err, "%s", c->display);
            if (err) err->retriable = true;
            return rc;
        }
        nap_ms(delay);
        delay = delay * 2 > 1000 ? 1000 : delay * 2;
    }
}

/* ------------------------------------------------------------ statements */

/*
 * Execute sql with text params. Outside a transaction, a statement that
 * failed because the connection was lost (the server restarted) is run again
 * on a new connection: outside a transaction the catalog runs only reads,
 * BEGIN and session setup there, so that is safe.
 */
static int exec_params(pg_conn *c, const char *sql, int n, const char *const *params,
                       PGresult **out, const char *what, firn_error *err) {
    *out = NULL;
    for (int attempt = 0;; attempt++) {
        PGresult *res = PQexecParams(c->pg, sql, n, NULL, params, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            *out = res;
            return 0;
        }
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (attempt == 0 && !c->in_tx && conn_lost(c, state)) {
            PQclear(res);
            int rc = connect_retry(c, err);
            if (rc) return rc;
            c->reconnects++;
            continue;
        }
        int rc = raise_res(c, res, what, err);
        PQclear(res);
        return rc;
    }
}

static int pg_prepare(firn_cat_sql_conn *conn, const char *sql, firn_cat_sql_stmt **out,
                      firn_error *err) {
    (void)err;
    pg_stmt *s = firn_xcalloc(1, sizeof *s);
    s->base.conn = conn;
    firn_buf b = {0};
    bool quoted = false;
    for (const char *p = sql; *p; p++) {
        if (*p == '\'') quoted = !quoted;
        if (*p == '?' && !quoted) {
            firn_buf_appendf(&b, "$%d", ++s->nparams);
            continue;
        }
        firn_buf_put_u8(&b, (uint8_t)*p);
    }
    s->sql = firn_xstrdup(firn_buf_cstr(&b));
    firn_buf_release(&b);
    if (s->nparams) s->params = firn_xcalloc((size_t)s->nparams, sizeof *s->params);
    *out = &s->base;
    return 0;
}

static int pg_bind_text(firn_cat_sql_stmt *stmt, int index, const char *value, firn_error *err) {
    pg_stmt *s = (pg_stmt *)stmt;
    if (index < 1 || index > s->nparams)
        return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "bind index %d of %d", index, s->nparams);
    free(s->params[index - 1]);
    s->params[index - 1] = value ? firn_xstrdup(value) : NULL;
    return 0;
}

static int pg_step(firn_cat_sql_stmt *stmt, firn_error *err) {
    pg_stmt *s = (pg_stmt *)stmt;
    pg_conn *c = (pg_conn *)stmt->conn;
    if (!s->res) {
        int rc = exec_params(c, s->sql, s->nparams, (const char *const *)s->params, &s->res,
                             "SQL statement failed", err);
        if (rc) return rc;
        s->nrows = PQresultStatus(s->res) == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
        s->row = 0;
    }
    if (s->row < s->nrows) {
        s->row++;
        return 1;
    }
    const char *tuples = PQcmdTuples(s->res);
    stmt->changes = tuples && *tuples ? strtoll(tuples, NULL, 10) : 0;
    return 0;
}

static const char *pg_column_text(firn_cat_sql_stmt *stmt, int col) {
    pg_stmt *s = (pg_stmt *)stmt;
    if (!s->res || s->row < 1 || col >= PQnfields(s->res)) return NULL;
    if (PQgetisnull(s->res, s->row - 1, col)) return NULL;
    return PQgetvalue(s->res, s->row - 1, col);
}

static void pg_finalize(firn_cat_sql_stmt *stmt) {
    pg_stmt *s = (pg_stmt *)stmt;
    if (!s) return;
    PQclear(s->res);
    for (int i = 0; i < s->nparams; i++) free(s->params[i]);
    free(s->params);
    free(s->sql);
    free(s);
}

/* ------------------------------------------------------------ transactions */

static int pg_begin(firn_cat_sql_conn *conn, firn_cat_sql_tx kind, firn_error *err) {
    pg_conn *c = (pg_conn *)conn;
    char sql[160];
    if (kind == FIRN_SQL_TX_READ)
        snprintf(sql, sizeof sql, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    else if (kind == FIRN_SQL_TX_CAS) /* shared: commits run side by side, but wait
                                         for a holder of the commit lock (WRITE) */
        snprintf(sql, sizeof sql,
                 "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock_shared(%s)",
                 c->lock_key);
    else
        snprintf(sql, sizeof sql,
                 "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(%s)",
                 c->lock_key);
    c->in_tx = false;
    PGresult *res;
    /* BEGIN goes through exec_params only when it is one statement (the
     * extended protocol takes one); else plain PQexec, with the same
     * reconnect-once rule. */
    if (kind == FIRN_SQL_TX_READ) {
        int rc = exec_params(c, sql, 0, NULL, &res, "cannot start a transaction", err);
        if (rc) return rc;
        PQclear(res);
        c->in_tx = true;
        return 0;
    }
    for (int attempt = 0;; attempt++) {
        res = PQexec(c->pg, sql);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            PQclear(res);
            c->in_tx = true;
            return 0;
        }
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        bool lost = conn_lost(c, state);
        if (attempt == 0 && lost) {
            PQclear(res);
            int rc = connect_retry(c, err);
            if (rc) return rc;
            c->reconnects++;
            continue;
        }
        int rc = raise_res(c, res, "cannot start a write transaction", err);
        PQclear(res);
        if (!lost) { /* e.g. the lock wait timed out: end the aborted transaction */
            res = PQexec(c->pg, "ROLLBACK");
            PQclear(res);
        }
        return rc;
    }
}

static int pg_commit(firn_cat_sql_conn *conn, firn_error *err) {
    pg_conn *c = (pg_conn *)conn;
    PGresult *res = PQexec(c->pg, "COMMIT");
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = raise_res(c, res, "COMMIT failed", err);
    } else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        /* an aborted transaction answers COMMIT with ROLLBACK */
        rc = FIRN_RAISE(err, FIRN_ERR_IO, "COMMIT failed: the database rolled back (%s)",
                        PQcmdStatus(res));
        firn_error_context(err, "%s", c->display);
    }
    PQclear(res);
    c->in_tx = false;
    return rc;
}

static void pg_rollback(firn_cat_sql_conn *conn) {
    pg_conn *c = (pg_conn *)conn;
    if (PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        PGresult *res = PQexec(c->pg, "ROLLBACK");
        PQclear(res);
    }
    c->in_tx = false;
}

/* ------------------------------------------------------------ schema probes */

static int probe(pg_conn *c, const char *sql, const char *a1, const char *a2, bool *found,
                 firn_error *err) {
    const char *params[2] = {a1, a2};
    PGresult *res;
    int rc = exec_params(c, sql, a2 ? 2 : 1, params, &res, "cannot read the database schema",
                         err);
    if (rc) return rc;
    *found = PQntuples(res) > 0;
    PQclear(res);
    return 0;
}

static int pg_has_table(firn_cat_sql_conn *conn, const char *table, bool *out, firn_error *err) {
    return probe((pg_conn *)conn,
                 "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND "
                 "lower(tablename) = lower($1)",
                 table, NULL, out, err);
}

static int pg_has_column(firn_cat_sql_conn *conn, const char *table, const char *column,
                         bool *out, firn_error *err) {
    return probe((pg_conn *)conn,
                 "SELECT 1 FROM information_schema.columns WHERE table_schema = "
                 "current_schema() AND lower(table_name) = lower($1) AND lower(column_name) = "
                 "lower($2)",
                 table, column, out, err);
}

static void pg_close(firn_cat_sql_conn *conn) {
    pg_conn *c = (pg_conn *)conn;
    if (!c) return;
    PQfinish(c->pg);
    free(c->uri);
    if (c->password) {
        memset(c->password, 0, strlen(c->password));
        free(c->password);
    }
    free(c->display);
    free(c);
}

static const firn_cat_sql_driver pg_driver = {
    .name = "postgresql",
    .close = pg_close,
    .prepare = pg_prepare,
    .bind_text = pg_bind_text,
    .step = pg_step,
    .column_text = pg_column_text,
    .finalize = pg_finalize,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .has_table = pg_has_table,
    .has_column = pg_has_column,
};

/* ------------------------------------------------------------ open */

int firn_cat_pg_open(const char *uri, const firn_cat_config *cfg, firn_cat_sql_conn **out,
                     firn_error *err) {
    *out = NULL;
    char *display = firn_cat_redact_uri(uri);
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(uri, &perr);
    if (!opts) {
        int rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "invalid PostgreSQL URI: %s",
                            trim(perr ? perr : "cannot parse"));
        firn_error_context(err, "%s", display);
        PQfreemem(perr);
        free(display);
        return rc;
    }
    bool has_password = false, bad_port = false;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "password") == 0 && o->val && *o->val) has_password = true;
        if (strcmp(o->keyword, "port") == 0 && o->val)
            bad_port = !*o->val || o->val[strspn(o->val, "0123456789,")] != '\0';
    }
    PQconninfoFree(opts);
    if (bad_port) {
        int rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "invalid PostgreSQL URI: the port is not a number");
        firn_error_context(err, "%s", display);
        free(display);
        return rc;
    }

    pg_conn *c = firn_xcalloc(1, sizeof *c);
    c->base.drv = &pg_driver;
    c->uri = firn_xstrdup(uri);
    c->display = display;
    c->lock_timeout_ms =
        cfg && cfg->busy_timeout_ms > 0 ? cfg->busy_timeout_ms : DEFAULT_LOCK_TIMEOUT_MS;
    c->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    const char *env_timeout = getenv("FIRN_CATALOG_CONNECT_TIMEOUT_MS");
    if (cfg && cfg->connect_timeout_ms > 0) c->connect_timeout_ms = cfg->connect_timeout_ms;
    else if (env_timeout && atoi(env_timeout) > 0) c->connect_timeout_ms = atoi(env_timeout);
    if (!has_password) {
        const char *pw = cfg && cfg->password ? cfg->password : getenv("FIRN_CATALOG_PASSWORD");
        if (pw && *pw) c->password = firn_xstrdup(pw);
    }
    int rc = connect_retry(c, err);
    if (rc) {
        pg_close(&c->base);
        return rc;
    }
    *out = &c->base;
    return 0;
}
