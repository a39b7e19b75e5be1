/* main.c - the unit test runner: runs every registered test (or those whose
 * name contains argv[1]), one line each, then "N passed, N failed". */
#include "test.h"

#include "util/util.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TESTS 1024

struct test_entry {
    const char *name;
    firn_test_fn fn;
};
static struct test_entry tests[MAX_TESTS];
static int ntests;
int firn_test_failed;
static char tmpdir[256];

void firn_test_register(const char *name, firn_test_fn fn) {
    if (ntests == MAX_TESTS) {
        fprintf(stderr, "too many tests\n");
        exit(2);
    }
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    ntests++;
}

void firn_test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "    %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    firn_test_failed = 1;
}

const char *firn_test_tmpdir(void) { return tmpdir; }

const char *firn_test_path(const char *name) {
    static char paths[8][512];
    static int slot;
    char *p = paths[slot++ & 7];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

const char *firn_test_catalog_uri(const char *wh) {
    static char uris[8][1024];
    static int slot;
    char *u = uris[slot++ & 7];
    const char *kind = getenv("FIRN_TEST_CATALOG");
    const char *pg = getenv("FIRN_PG_URI");
    if (!kind || strcmp(kind, "postgresql") != 0 || !pg) {
        snprintf(u, sizeof uris[0], "sqlite:%s/catalog.db", wh);
        return u;
    }
    char schema[32];
    snprintf(schema, sizeof schema, "w_%016llx",
             (unsigned long long)firn_xxh64(wh, strlen(wh), 0));
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s", schema);
    PGconn *c = PQconnectdb(pg);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fprintf(stderr, "firn_test_catalog_uri: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(u, sizeof uris[0], "%s%soptions=-csearch_path%%3D%s", pg, strchr(pg, '?') ? "&" : "?",
             schema);
    return u;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const struct test_entry *)a)->name, ((const struct test_entry *)b)->name);
}

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    const char *base = getenv("FIRN_TEST_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s/firn-unit-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    qsort(tests, (size_t)ntests, sizeof tests[0], by_name);
    int passed = 0, failed = 0;
    for (int i = 0; i < ntests; i++) {
        if (filter && !strstr(tests[i].name, filter)) continue;
        firn_test_failed = 0;
        tests[i].fn();
        printf("%s %s\n", firn_test_failed ? "FAIL" : "ok  ", tests[i].name);
        fflush(stdout);
        if (firn_test_failed) failed++;
        else passed++;
    }
    if (!getenv("FIRN_TEST_KEEP")) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
