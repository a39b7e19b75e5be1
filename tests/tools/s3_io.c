/*
 * s3_io - firn's S3 FileIO from the shell, for interop tests and benchmarks.
 * Endpoint and credentials come from the environment (FIRN_S3_ENDPOINT or
 * AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...), as firn itself reads them.
 *
 *   s3_io put LOCATION FILE [-v]    upload FILE (fails if LOCATION exists); -v prints
 *       "requests=N retries=N parts=N max-in-flight=N out-of-order=N
 *   s3_io put-many PREFIX J FILE... upload each FILE to PREFIX/BASENAME, J files at once
 *       (a thread and an io each), as `aws s3 cp --recursive` does
 *   s3_io get LOCATION FILE         download to FILE
 *   s3_io ls PREFIX                 "SIZE LOCATION" per file, sorted by the shell
 *   s3_io rm LOCATION...            delete (batch)
 *   s3_io suite s3://BUCKET/PREFIX  the FileIO contract against the server:
 *       prints "ok NAME" or "FAIL NAME: why" per check, exits 1 on any failure.
 *   s3_io abort-multipart LOCATION MIB   start a multipart upload of MIB MiB,
 *       then abort it (the shell checks that no upload is left)
 */
#include "io/io.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(firn_error *err, const char *what) {
    char eb[1024];
    fprintf(stderr, "s3_io: %s: %s\n", what, firn_error_format(err, eb, sizeof eb));
    return 1;
}

static int nfail;

static void report(bool ok, const char *name, const char *why) {
    if (ok) printf("ok %s\n", name);
    else printf("FAIL %s: %s\n", name, why ? why : ""), nfail++;
    fflush(stdout);
}

#define EXPECT(cond, name)                                                    \
    do {                                                                      \
        char why_[1200];                                                      \
        snprintf(why_, sizeof why_, "%s (%s)", #cond, firn_error_format(&err, eb, sizeof eb)); \
        report((cond), (name), why_);                                         \
    } while (0)

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    firn_buf b;
    firn_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) firn_buf_append(&b, chunk, n);
    fclose(f);
    return (char *)firn_buf_steal(&b, len);
}

typedef struct listing {
    size_t n;
    uint64_t bytes;
    bool print;
    const char *must_not_contain;
    size_t bad;
} listing;

static int on_entry(void *ctx, const firn_io_entry *e, firn_error *err) {
    (void)err;
    listing *l = ctx;
    l->n++;
    l->bytes += e->size;
    if (l->must_not_contain && strstr(e->location, l->must_not_contain)) l->bad++;
    if (e->mtime_ms <= 0) l->bad++;
    if (l->print) printf("%llu %s\n", (unsigned long long)e->size, e->location);
    return 0;
}

static void fill(uint8_t *p, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(seed >> 56);
    }
}

static char *at(const char *base, const char *name) {
    static char bufs[8][1024];
    static int slot;
    char *b = bufs[slot++ & 7];
    snprintf(b, sizeof bufs[0], "%s/%s", base, name);
    return b;
}

static int suite(const char *base) {
    firn_error err;
    firn_error_init(&err);
    char eb[1024];
    firn_io *io;
    firn_io_s3_options o;
    firn_io_s3_options_init(&o);
    o.list_page_size = 7;    /* pagination on small listings */
    o.delete_batch_size = 8; /* several DeleteObjects per batch */
    o.backoff_ms = 5;
    if (firn_io_s3_new(&o, &io, &err)) return fail(&err, "open");

    /* round trip, stat */
    const char *small = at(base, "small.txt");
    int rc = firn_io_write_all(io, small, "hello, s3", 9, &err);
    EXPECT(rc == 0, "put");
    uint8_t *data = NULL;
    size_t len = 0;
    rc = firn_io_read_all(io, small, &data, &len, &err);
    EXPECT(rc == 0 && len == 9 && memcmp(data, "hello, s3", 9) == 0, "get");
    free(data);
    firn_io_stat st = {0};
    rc = firn_io_stat_file(io, small, &st, &err);
    EXPECT(rc == 0 && st.size == 9 && st.mtime_ms > 1600000000000ll, "stat size and mtime");
    rc = firn_io_stat_file(io, at(base, "missing"), &st, &err);
    EXPECT(rc == -FIRN_ERR_NOT_FOUND, "stat missing is not-found");
    firn_io_reader *r;
    rc = firn_io_open(io, at(base, "missing"), &r, &err);
    EXPECT(rc == -FIRN_ERR_NOT_FOUND, "open missing is not-found");
    bool ex = false;
    rc = firn_io_exists(io, small, &ex, &err);
    EXPECT(rc == 0 && ex, "exists");

    /* write once: early conflict, and the atomic one at close */
    firn_io_writer *w1, *w2;
    rc = firn_io_create(io, small, &w1, &err);
    EXPECT(rc == -FIRN_ERR_CONFLICT && !err.retriable, "create on existing key conflicts early");
    const char *race = at(base, "race.json");
    rc = firn_io_create(io, race, &w1, &err);
    int rc2 = firn_io_create(io, race, &w2, &err);
    EXPECT(rc == 0 && rc2 == 0, "two writers start on a free key");
    if (rc == 0 && rc2 == 0) {
        firn_io_writer_write(w1, "first", 5, &err);
        firn_io_writer_write(w2, "second", 6, &err);
        rc = firn_io_writer_close(w1, &err);
        EXPECT(rc == 0, "first close wins");
        rc = firn_io_writer_close(w2, &err);
        EXPECT(rc == -FIRN_ERR_CONFLICT, "second close conflicts (If-None-Match)");
        rc = firn_io_read_all(io, race, &data, &len, &err);
        EXPECT(rc == 0 && len == 5 && memcmp(data, "first", 5) == 0, "the first file is intact");
        free(data);
    }
    rc = firn_io_create(io, at(base, "aborted"), &w1, &err);
    if (rc == 0) {
        firn_io_writer_write(w1, "x", 1, &err);
        firn_io_writer_abort(w1);
    }
    rc = firn_io_exists(io, at(base, "aborted"), &ex, &err);
    EXPECT(rc == 0 && !ex, "aborted writer leaves nothing");

    /* ranged reads */
    size_t blen = 300000;
    uint8_t *blob = malloc(blen);
    fill(blob, blen, 7);
    const char *ranged = at(base, "ranged.bin");
    rc = firn_io_write_all(io, ranged, blob, blen, &err);
    EXPECT(rc == 0, "put 300 KB");
    rc = firn_io_open(io, ranged, &r, &err);
    EXPECT(rc == 0 && firn_io_reader_size(r) == blen, "open reports size");
    if (rc == 0) {
        uint8_t buf[5000];
        bool same = true;
        size_t offs[] = {0, 1, 4096, 123457, blen - 5000};
        for (size_t i = 0; i < 5; i++) {
            rc = firn_io_read_at(r, offs[i], buf, sizeof buf, &err);
            same = same && rc == 0 && memcmp(buf, blob + offs[i], sizeof buf) == 0;
        }
        EXPECT(same, "ranged reads return the right bytes");
        rc = firn_io_read_at(r, blen - 10, buf, 20, &err);
        EXPECT(rc == -FIRN_ERR_CORRUPT, "read past the end is corrupt (truncated)");
        rc = firn_io_read_at(r, blen - 1, buf, 1, &err);
        EXPECT(rc == 0 && buf[0] == blob[blen - 1], "last byte");
        firn_io_reader_close(r);
    }

    /* odd keys: reserved characters in path and list prefix */
    const char *odd = at(base, "odd dir/k=v+w,x@z:(1)!$'*~.txt");
    rc = firn_io_write_all(io, odd, "odd", 3, &err);
    EXPECT(rc == 0, "put key with reserved characters");
    rc = firn_io_read_all(io, odd, &data, &len, &err);
    EXPECT(rc == 0 && len == 3, "get key with reserved characters");
    free(data);
    listing l = {0};
    rc = firn_io_list(io, at(base, "odd dir"), on_entry, &l, &err);
    EXPECT(rc == 0 && l.n == 1, "list prefix with a space");

    /* listing with pagination (page size 7) */
    for (int i = 0; i < 40; i++) {
        char name[64];
        snprintf(name, sizeof name, "many/f%03d.bin", i);
        rc = firn_io_write_all(io, at(base, name), blob, (size_t)i + 1, &err);
        if (rc) break;
    }
    EXPECT(rc == 0, "put 40 files");
    rc = firn_io_write_all(io, at(base, "many-not/x"), "x", 1, &err);
    memset(&l, 0, sizeof l);
    l.must_not_contain = "many-not";
    rc = firn_io_list(io, at(base, "many"), on_entry, &l, &err);
    EXPECT(rc == 0 && l.n == 40 && l.bytes == 820 && l.bad == 0,
           "list 40 files over 6 pages, sizes, mtimes, not the sibling prefix");
    memset(&l, 0, sizeof l);
    rc = firn_io_list(io, at(base, "many/"), on_entry, &l, &err);
    EXPECT(rc == 0 && l.n == 40, "list with a trailing slash");
    memset(&l, 0, sizeof l);
    rc = firn_io_list(io, at(base, "nothing-here"), on_entry, &l, &err);
    EXPECT(rc == 0 && l.n == 0, "list a missing prefix is empty");

    /* delete and batch delete */
    rc = firn_io_delete(io, small, &err);
    rc2 = firn_io_exists(io, small, &ex, &err);
    EXPECT(rc == 0 && rc2 == 0 && !ex, "delete");
    rc = firn_io_delete(io, small, &err);
    EXPECT(rc == 0, "delete missing succeeds");
    const char *locs[42];
    char names[42][128];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "%s/many/f%03d.bin", base, i);
        locs[i] = names[i];
    }
    snprintf(names[40], sizeof names[40], "%s/many/never-there", base);
    locs[40] = names[40];
    snprintf(names[41], sizeof names[41], "%s", odd);
    locs[41] = names[41];
    size_t failed = 99;
    rc = firn_io_delete_batch(io, locs, 42, &failed, &err);
    memset(&l, 0, sizeof l);
    rc2 = firn_io_list(io, at(base, "many"), on_entry, &l, &err);
    EXPECT(rc == 0 && failed == 0 && rc2 == 0 && l.n == 0,
           "batch delete 42 (6 requests of 8, one missing key)");

    /* multipart: 5 MiB parts above a 5 MiB threshold; an 11 MiB file */
    size_t mlen = 11 * 1024 * 1024 + 12345;
    uint8_t *mblob = malloc(mlen);
    fill(mblob, mlen, 99);
    const char *big = at(base, "big.bin");
    firn_io_s3_options mo = o;
    mo.part_size = 5 * 1024 * 1024;
    mo.multipart_threshold = 5 * 1024 * 1024;
    firn_io *mio;
    if (firn_io_s3_new(&mo, &mio, &err)) return fail(&err, "open");
    uint64_t req0, retr0, req1, retr1;
    firn_io_s3_counters(mio, &req0, &retr0);
    rc = firn_io_create(mio, big, &w1, &err);
    for (size_t off = 0; rc == 0 && off < mlen; off += 1000003)
        rc = firn_io_writer_write(w1, mblob + off, mlen - off < 1000003 ? mlen - off : 1000003,
                                  &err);
    if (rc == 0) rc = firn_io_writer_close(w1, &err);
    else firn_io_writer_abort(w1);
    firn_io_s3_counters(mio, &req1, &retr1);
    /* 1 HEAD (create) + 1 initiate + 3 parts + 1 complete */
    EXPECT(rc == 0 && req1 - req0 == 6, "multipart upload of 11 MiB in 3 parts");
    rc = firn_io_read_all(mio, big, &data, &len, &err);
    EXPECT(rc == 0 && len == mlen && memcmp(data, mblob, mlen) == 0,
           "multipart file reads back whole");
    free(data);
    /* multipart that loses the race: completes with 412, upload aborted */
    const char *big2 = at(base, "big-race.bin");
    rc = firn_io_create(mio, big2, &w1, &err);
    if (rc == 0) rc = firn_io_writer_write(w1, mblob, mlen, &err);
    rc2 = firn_io_write_all(io, big2, "winner", 6, &err);
    if (rc == 0) rc = firn_io_writer_close(w1, &err);
    EXPECT(rc2 == 0 && rc == -FIRN_ERR_CONFLICT, "multipart complete conflicts on a taken key");
    rc = firn_io_read_all(io, big2, &data, &len, &err);
    EXPECT(rc == 0 && len == 6, "the winner is intact");
    free(data);
    firn_io_free(mio);

    /* retries: an injected 503 on the next request is retried */
    firn_io_s3_counters(io, &req0, &retr0);
    firn_io_fault_arm("s3", 1);
    rc = firn_io_write_all(io, at(base, "retried.txt"), "r", 1, &err);
    firn_io_fault_disarm();
    firn_io_s3_counters(io, &req1, &retr1);
    EXPECT(rc == 0 && retr1 - retr0 == 1, "injected 503 is retried");
    firn_io_s3_options one = o;
    one.max_attempts = 1;
    firn_io *io1;
    if (firn_io_s3_new(&one, &io1, &err)) return fail(&err, "open");
    firn_io_fault_arm("s3", 1);
    rc = firn_io_stat_file(io1, at(base, "retried.txt"), &st, &err);
    firn_io_fault_disarm();
    EXPECT(rc == -FIRN_ERR_IO && err.retriable && strstr(err.message, "after 1 attempts"),
           "a fault with no attempts left is a retriable io error");
    rc = firn_io_stat_file(io1, at(base, "retried.txt"), &st, &err);
    EXPECT(rc == 0 && st.size == 1, "the next request succeeds");
    firn_io_free(io1);

    /* a wrong secret: the server checks signatures */
    firn_io_s3_options bad = o;
    bad.access_key_id = getenv("AWS_ACCESS_KEY_ID");
    bad.secret_access_key = "not-the-secret";
    if (firn_io_s3_new(&bad, &io1, &err)) return fail(&err, "open");
    rc = firn_io_stat_file(io1, at(base, "retried.txt"), &st, &err);
    EXPECT(rc == -FIRN_ERR_INVALID && strstr(err.message, "403"),
           "a wrong secret is refused (403, not retried)");
    firn_io_free(io1);

    /* virtual-hosted addressing: bucket.localhost:PORT */
    const char *ep = getenv("FIRN_S3_ENDPOINT");
    const char *port = ep ? strrchr(ep, ':') : NULL;
    if (port) {
        char vh[128];
        snprintf(vh, sizeof vh, "http://localhost%s", port);
        firn_io_s3_options v = o;
        v.endpoint = vh;
        v.path_style = 0;
        if (firn_io_s3_new(&v, &io1, &err)) return fail(&err, "open");
        rc = firn_io_write_all(io1, at(base, "vhost.txt"), "vh", 2, &err);
        rc2 = firn_io_read_all(io, at(base, "vhost.txt"), &data, &len, &err);
        EXPECT(rc == 0 && rc2 == 0 && len == 2, "virtual-hosted write, path-style read");
        if (rc2 == 0) free(data);
        memset(&l, 0, sizeof l);
        rc = firn_io_list(io1, at(base, "many-not"), on_entry, &l, &err);
        EXPECT(rc == 0 && l.n == 1, "virtual-hosted list");
        firn_io_free(io1);
    } else {
        report(false, "virtual-hosted addressing", "FIRN_S3_ENDPOINT has no port");
    }

    free(blob);
    free(mblob);
    firn_io_free(io);
    firn_error_release(&err);
    printf("%d failed\n", nfail);
    return nfail ? 1 : 0;
}

static int abort_multipart(const char *loc, int mib) {
    firn_error err;
    firn_error_init(&err);
    firn_io *io;
    firn_io_s3_options o;
    firn_io_s3_options_init(&o);
    o.part_size = 5 * 1024 * 1024;
    o.multipart_threshold = 5 * 1024 * 1024;
    if (firn_io_s3_new(&o, &io, &err)) return fail(&err, "open");
    firn_io_writer *w;
    if (firn_io_create(io, loc, &w, &err)) return fail(&err, "create");
    size_t n = (size_t)mib * 1024 * 1024;
    uint8_t *b = calloc(1, n);
    if (firn_io_writer_write(w, b, n, &err)) return fail(&err, "write");
    firn_io_writer_abort(w);
    uint64_t req, ret;
    firn_io_s3_counters(io, &req, &ret);
    printf("%llu requests\n", (unsigned long long)req);
    free(b);
    firn_io_free(io);
    return 0;
}

typedef struct put_many {
    pthread_mutex_t mu;
    const char *prefix;
    char **files;
    int nfiles, next, failed;
} put_many;

static void *put_many_thread(void *arg) {
    put_many *pm = arg;
    firn_error err;
    firn_error_init(&err);
    firn_io *io;
    if (firn_io_s3_new(NULL, &io, &err)) {
        fail(&err, "open");
        pthread_mutex_lock(&pm->mu);
        pm->failed++;
        pthread_mutex_unlock(&pm->mu);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&pm->mu);
        int i = pm->next < pm->nfiles ? pm->next++ : -1;
        pthread_mutex_unlock(&pm->mu);
        if (i < 0) break;
        const char *base = strrchr(pm->files[i], '/');
        base = base ? base + 1 : pm->files[i];
        char loc[2048];
        snprintf(loc, sizeof loc, "%s/%s", pm->prefix, base);
        size_t len;
        char *data = slurp(pm->files[i], &len);
        int bad = !data || firn_io_write_all(io, loc, data, len, &err) != 0;
        if (bad) {
            if (data) fail(&err, loc);
            else fprintf(stderr, "s3_io: cannot read %s\n", pm->files[i]);
            pthread_mutex_lock(&pm->mu);
            pm->failed++;
            pthread_mutex_unlock(&pm->mu);
        }
        free(data);
    }
    firn_io_free(io);
    firn_error_release(&err);
    return NULL;
}

static int put_many_files(const char *prefix, int jobs, char **files, int nfiles) {
    put_many pm = {.prefix = prefix, .files = files, .nfiles = nfiles};
    pthread_mutex_init(&pm.mu, NULL);
    if (jobs < 1) jobs = 1;
    if (jobs > 64) jobs = 64;
    pthread_t t[64];
    int started = 0;
    for (int i = 0; i < jobs; i++)
        if (pthread_create(&t[started], NULL, put_many_thread, &pm) == 0) started++;
    for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
    pthread_mutex_destroy(&pm.mu);
    return started && !pm.failed ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: s3_io put|put-many|get|ls|rm|suite|abort-multipart ...\n");
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "suite") == 0) return suite(argv[2]);
    if (strcmp(cmd, "put-many") == 0 && argc >= 5)
        return put_many_files(argv[2], atoi(argv[3]), argv + 4, argc - 4);
    if (strcmp(cmd, "abort-multipart") == 0 && argc == 4)
        return abort_multipart(argv[2], atoi(argv[3]));
    firn_error err;
    firn_error_init(&err);
    firn_io *io;
    if (firn_io_s3_new(NULL, &io, &err)) return fail(&err, "open");
    int rc = 0;
    if (strcmp(cmd, "put") == 0 && (argc == 4 || (argc == 5 && !strcmp(argv[4], "-v")))) {
        size_t len;
        char *data = slurp(argv[3], &len);
        if (!data) {
            fprintf(stderr, "s3_io: cannot read %s\n", argv[3]);
            rc = 1;
        } else if (firn_io_write_all(io, argv[2], data, len, &err)) {
            rc = fail(&err, "put");
        }
        free(data);
        if (argc == 5) {
            uint64_t req, ret, parts, maxin, ooo;
            firn_io_s3_counters(io, &req, &ret);
            firn_io_s3_part_counters(io, &parts, &maxin, &ooo);
            printf("requests=%llu retries=%llu parts=%llu max-in-flight=%llu out-of-order=%llu\n",
                   (unsigned long long)req, (unsigned long long)ret, (unsigned long long)parts,
                   (unsigned long long)maxin, (unsigned long long)ooo);
        }
    } else if (strcmp(cmd, "get") == 0 && argc == 4) {
        uint8_t *data;
        size_t len;
        if (firn_io_read_all(io, argv[2], &data, &len, &err)) {
            rc = fail(&err, "get");
        } else {
            FILE *f = fopen(argv[3], "wb");
            if (!f || fwrite(data, 1, len, f) != len) rc = 1;
            if (f && fclose(f) != 0) rc = 1;
            free(data);
        }
    } else if (strcmp(cmd, "ls") == 0) {
        listing l = {.print = true};
        if (firn_io_list(io, argv[2], on_entry, &l, &err)) rc = fail(&err, "ls");
    } else if (strcmp(cmd, "rm") == 0) {
        size_t failed = 0;
        if (firn_io_delete_batch(io, (const char *const *)argv + 2, (size_t)argc - 2, &failed,
                                 &err))
            rc = fail(&err, "rm");
    } else {
        fprintf(stderr, "s3_io: unknown command or arguments\n");
        rc = 2;
    }
    firn_io_free(io);
    return rc;
}
