/* test_io.c - FileIO: local files written whole or not at all, never
 * overwritten; listing, deleting, locations, injected faults and crashes. */
#include "io/io.h"
#include "test.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Collects what firn_io_list() reports. */
typedef struct listing {
    int n;
    char names[64][512];
    uint64_t sizes[64];
    int64_t mtimes[64];
} listing;

static int collect(void *ctx, const firn_io_entry *e, firn_error *err) {
    (void)err;
    listing *l = ctx;
    if (l->n < 64) {
        snprintf(l->names[l->n], sizeof l->names[0], "%s", e->location);
        l->sizes[l->n] = e->size;
        l->mtimes[l->n] = e->mtime_ms;
    }
    l->n++;
    return 0;
}

static int stop_at_first(void *ctx, const firn_io_entry *e, firn_error *err) {
    (void)ctx, (void)e, (void)err;
    return 42;
}

static int list_count(firn_io *io, const char *prefix) {
    listing l = {0};
    firn_error err;
    firn_error_init(&err);
    int rc = firn_io_list(io, prefix, collect, &l, &err);
    firn_error_release(&err);
    return rc ? -1 : l.n;
}

static const char *find_name(const listing *l, const char *suffix) {
    size_t sn = strlen(suffix);
    for (int i = 0; i < l->n && i < 64; i++) {
        size_t n = strlen(l->names[i]);
        if (n >= sn && strcmp(l->names[i] + n - sn, suffix) == 0) return l->names[i];
    }
    return NULL;
}

/* A location in the scratch directory, as a file: URI. */
static const char *loc(const char *name) {
    static char bufs[8][600];
    static int slot;
    char *b = bufs[slot++ & 7];
    snprintf(b, sizeof bufs[0], "file:%s/%s", firn_test_tmpdir(), name);
    return b;
}

FIRN_TEST(io_write_read_roundtrip) {
    firn_error err;
    firn_error_init(&err);
    firn_io *io = firn_io_local_new();
    const char *where = loc("io_rt/a/b/data.bin");
    /* 3 MiB + change in uneven pieces: crosses the 1 MiB write buffer both ways */
    size_t total = 3 * 1024 * 1024 + 12345;
    uint8_t *data = malloc(total);
    for (size_t i = 0; i < total; i++) data[i] = (uint8_t)(i * 2654435761u >> 13);
    firn_io_writer *w;
    CHECK_OK(firn_io_create(io, where, &w, &err), &err);
    size_t off = 0, piece = 1;
    while (off < total) {
        size_t n = piece < total - off ? piece : total - off;
        CHECK_OK(firn_io_writer_write(w, data + off, n, &err), &err);
        off += n;
        piece = piece * 7 + 3; /* 1, 10, 73, ... up to multi-MiB */
    }
    CHECK_EQ_INT(firn_io_writer_offset(w), total);
    CHECK_OK(firn_io_writer_close(w, &err), &err);

    firn_io_stat st;
    CHECK_OK(firn_io_stat_file(io, where, &st, &err), &err);
    CHECK_EQ_INT(st.size, total);
    CHECK(st.mtime_ms > 1600000000000LL);

    uint8_t *back;
    size_t len;
    CHECK_OK(firn_io_read_all(io, where, &back, &len, &err), &err);
    CHECK_EQ_INT(len, total);
    CHECK_MEM(back, data, total);
    free(back);

    firn_io_reader *r;
    CHECK_OK(firn_io_open(io, where, &r, &err), &err);
    CHECK_EQ_INT(firn_io_reader_size(r), total);
    uint8_t tail[8];
    CHECK_OK(firn_io_read_at(r, total - 8, tail, 8, &err), &err);
    CHECK_MEM(tail, data + total - 8, 8);
    uint8_t mid[1000];
    CHECK_OK(firn_io_read_at(r, 1048570, mid, sizeof mid, &err), &err);
    CHECK_MEM(mid, data + 1048570, sizeof mid);
    /* past the end: a clear truncation error, not a short read */
    int rc = firn_io_read_at(r, total - 4, tail, 8, &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_CORRUPT);
    CHECK(strstr(err.message, "truncated") != NULL);
    firn_io_reader_close(r);
    free(data);

    /* plain absolute paths work the same */
    char path[600];
    snprintf(path, sizeof path, "%s/io_rt/plain.txt", firn_test_tmpdir());
    CHECK_OK(firn_io_write_all(io, path, "hello", 5, &err), &err);
    CHECK_OK(firn_io_read_all(io, loc("io_rt/plain.txt"), &back, &len, &err), &err);
    CHECK_EQ_STR((char *)back, "hello");
    free(back);
    firn_error_release(&err);
    firn_io_free(io);
}

FIRN_TEST(io_missing_files) {
    firn_error err;
    firn_error_init(&err);
    firn_io *io = firn_io_local_new();
    firn_io_reader *r;
    CHECK_EQ_INT(firn_io_open(io, loc("io_missing/nope"), &r, &err), -FIRN_ERR_NOT_FOUND);
    CHECK(strstr(err.context, "io_missing/nope") != NULL);
    firn_io_stat st;
    CHECK_EQ_INT(firn_io_stat_file(io, loc("io_missing/nope"), &st, &err), -FIRN_ERR_NOT_FOUND);
    bool exists = true;
    CHECK_OK(firn_io_exists(io, loc("io_missing/nope"), &exists, &err), &err);
    CHECK(!exists);
    /* a directory is not a file */
    CHECK_OK(firn_io_write_all(io, loc("io_missing/d/f"), "x", 1, &err), &err);
    CHECK_OK(firn_io_exists(io, loc("io_missing/d"), &exists, &err), &err);
    CHECK(!exists);
    CHECK_OK(firn_io_exists(io, loc("io_missing/d/f"), &exists, &err), &err);
    CHECK(exists);
    /* deleting what is not there is fine (S3 semantics) */
    CHECK_OK(firn_io_delete(io, loc("io_missing/nope"), &err), &err);
    CHECK_OK(firn_io_delete(io, loc("io_missing/d/f/under-a-file"), &err), &err);
    firn_error_release(&err);
    firn_io_free(io);
}

FIRN_TEST(io_never_overwrites) {
    firn_error err;
    firn_error_init(&err);
    firn_io *io = firn_io_local_new();
    const char *where = loc("io_noover/00001-abc.metadata.json");
    CHECK_OK(firn_io_write_all(io, where, "first", 5, &err), &err);
    /* creating it again fails at once with a clear conflict */
    firn_io_writer *w;
    int rc = firn_io_create(io, where, &w, &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_CONFLICT);
    CHECK(!err.retriable);
    CHECK(strstr(err.message, "already exists") != NULL);
    CHECK(strstr(err.context, "00001-abc.metadata.json") != NULL);
    CHECK_EQ_INT(firn_io_write_all(io, where, "second", 6, &err), -FIRN_ERR_CONFLICT);

    /* two writers race for one name: the first to close wins, the second
     * fails at close and the winner's bytes stay */
    const char *race = loc("io_noover/race.json");
    firn_io_writer *a, *b;
    CHECK_OK(firn_io_create(io, race, &a, &err), &err);
    CHECK_OK(firn_io_create(io, race, &b, &err), &err);
    CHECK_OK(firn_io_writer_write(a, "AAAA", 4, &err), &err);
    CHECK_OK(firn_io_writer_write(b, "BBBBBBBB", 8, &err), &err);
    CHECK_OK(firn_io_writer_close(b, &err), &err);
    rc = firn_io_writer_close(a, &err);
    CHECK_EQ_INT(rc, -FIRN_ERR_CONFLICT);
    CHECK(strstr(err.message, "never overwrites") != NULL);

    uint8_t *back;
    size_t len;
    CHECK_OK(firn_io_read_all(io, where, &back, &len, &err), &err);
    CHECK_EQ_STR((char *)back, "first");
    free(back);
    CHECK_OK(firn_io_read_all(io, race, &back, &len, &err), &err);
    CHECK_EQ_STR((char *)back, "BBBBBBBB");
    free(back);
    /* and the loser left no temporary file behind */
    CHECK_EQ_INT(list_count(io, loc("io_noover")), 2);
    firn_error_release(&err);
    firn_io_free(io);
}

FIRN_TEST(io_temporary_invisible_until_close) {
    firn_error err;
    firn_error_init(&err);
    firn_io *io = firn_io_local_new();
    const char *where = loc("io_tmp/data/part-0.parquet");
    firn_io_writer *w;
    CHECK_OK(firn_io_create(io, where, &w, &err), &err);
    CHECK_OK(firn_io_writer_write(w, "PAR1", 4, &err), &err);
    char big[70000];
    memset(big, 'x', sizeof big);
    CHECK_OK(firn_io_writer_write(w, big, sizeof big, &err), &err);
    bool exists = true;
    CHECK_OK(firn_io_exists(io, where, &exists, &err), &err);
    CHECK(!exists);
    /* what is on disk meanwhile is one hidden temporary file next to it */
    listing l = {0};
    CHECK_OK(firn_io_list(io, loc("io_tmp"), collect, &l, &err), &err);
    CHECK_EQ_INT(l.n, 1);
    CHECK(strstr(l.names[0], "/data/.part-0.parquet.") != NULL);
    CHECK_EQ_STR(firn_io_writer_location(w), where);
    CHECK_OK(firn_io_writer_close(w, &err), &err);
    CHECK_OK(firn_io_exists(io, where, &exists, &err), &err);
    CHECK(exists);
    memset(&l, 0, sizeof l);
    CHECK_OK(firn_io_list(io, loc("io_tmp"), collect, &l, &err), &err);
    CHECK_EQ_INT(l.n, 1);
    CHECK_EQ_STR(l.names[0], where);
    CHECK_EQ_INT(l.sizes[0], 4 + sizeof big);
    firn_error_release(&err);
    firn_io_free(io);
}

FIRN_TEST(io_abort_leaves_nothing) {
    firn_error err;
    firn_error_init(&err);
    firn_io *io = firn_io_local_new();
    const char *where = loc("io_abort/x/y.avro");
    firn_io_writer *w;
    CHECK_OK(firn_io_create(io, where, &w, &err), &err);
    size_t n = 3 << 20;
    uint8_t *big = malloc(n);
    memset(big, 7, n);
    CHECK_OK(firn_io_writer_write(w, big, n, &err), &err); /* reaches the disk */
    free(big);
    firn_io_writer_abort(w);
    bool exists = true;
    CHECK_OK(firn_io_exists(io, where, &exists, &err), &err);
    CHECK(!exists);
    CHECK_EQ_INT(list_count(io, loc("io_abort")), 0);
    firn_io_writer_abort(NULL);
    firn_error_release(&err);
    firn_io_free(io);
}

/* Every write-path step of writing a file, failed in turn, leaves neither the
 * file nor a temporary behind, and the error says what failed. */
FIRN_TEST(io_injected_errors_leave_no_partial_file) {
    firn_error err;
    firn_error_init(&err);
    firn_io *io = firn_io_local_new();
    size_t len = (2 << 20) + 100; /* three write syscalls */
    uint8_t *data = malloc(len);
    memset(data, 'd', len);

    CHECK_OK(firn_io_write_all(io, loc("io_fault/first"), "", 0, &err), &err);
    firn_io_fault_disarm();
    CHECK_OK(firn_io_write_all(io, loc("io_fault/run0/a/f.bin"), data, len, &err), &err);
    /* 2 x (mkdir, fsync parent), write, fsync, publish, fsync dir */
    long steps = firn_io_fault_steps();
    CHECK_EQ_INT(steps, 8);

    for (long n = 1; n <= steps; n++) {
        char name[64];
        snprintf(name, sizeof name, "io_fault/run%ld/a/f.bin", n);
        firn_io_fault_arm(NULL, n);
        int rc = firn_io_write_all(io, loc(name), data, len, &err);
        CHECK_MSG(rc == -FIRN_ERR_IO, "step %ld of %ld: rc %d", n, steps, rc);
        char eb[1024];
        CHECK_MSG(strstr(firn_error_format(&err, eb, sizeof eb), "Input/output error") != NULL,
                  "step %ld: %s", n, eb);
        bool exists = true;
        CHECK_OK(firn_io_exists(io, loc(name), &exists, &err), &err);
        CHECK_MSG(!exists, "step %ld left the file", n);
        snprintf(name, sizeof name, "io_fault/run%ld", n);
        CHECK_MSG(list_count(io, loc(name)) == 0, "step %ld left a temporary file", n);
    }
    /* the injection fires once: the next write goes through */
    CHECK_OK(firn_io_write_all(io, loc("io_fault/dirsync/first"), "z", 1, &err), &err);
    firn_io_fault_arm("fsync", 2); /* the file's fsync, then its directory's after publishing */
    CHECK_EQ_INT(firn_io_write_all(io, loc("io_fault/dirsync/f"), "z", 1, &err), -FIRN_ERR_IO);
    CHECK(strstr(err.message, "durable") != NULL);
    CHECK_EQ_INT(list_count(io, loc("io_fault/dirsync")), 1);
    CHECK_OK(firn_io_write_all(io, loc("io_fault/dirsync/f"), "z", 1, &err), &err);
    CHECK_EQ_INT(list_count(io, loc("io_fault/dirsync")), 2);
    firn_io_fault_disarm();
    free(data);
    firn_error_release(&err);
    firn_io_free(io);
}

FIRN_TEST(io_list_and_delete) {
    firn_error err;
    firn_error_init(&err);
    firn_io *io = firn_io_local_new();
    const char *files[] = {"io_list/t/data/a.parquet", "io_list/t/data/p=1/b.parquet",
                           "io_list/t/metadata/00000-x.metadata.json", "io_list/tx/other"};
    for (int i = 0; i < 4; i++)
        CHECK_OK(firn_io_write_all(io, loc(files[i]), "0123456789", (size_t)(i + 1), &err), &err);
    int64_t now_ms = firn_now_us() / 1000;

    listing l = {0};
    CHECK_OK(firn_io_list(io, loc("io_list/t"), collect, &l, &err), &err);
    CHECK_EQ_INT(l.n, 3); /* never io_list/tx */
    for (int i = 0; i < 3; i++) {
        const char *name = find_name(&l, files[i] + strlen("io_list/t"));
        CHECK_MSG(name != NULL, "%s not listed", files[i]);
        CHECK_EQ_STR(name, loc(files[i]));
        int k = (int)(name == l.names[0] ? 0 : name == l.names[1] ? 1 : 2);
        CHECK_EQ_INT(l.sizes[k], i + 1);
        CHECK(l.mtimes[k] <= now_ms + 1000 && l.mtimes[k] > now_ms - 60000);
    }
    /* a trailing slash and the plain path mean the same */
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s/io_list/t/", firn_test_tmpdir());
    CHECK_EQ_INT(list_count(io, prefix), 3);
    CHECK_EQ_INT(list_count(io, loc("io_list/none")), 0);
    CHECK_EQ_INT(list_count(io, loc("io_list/t/data/a.parquet")), 0); /* a file, not a prefix */

    CHECK_OK(firn_io_delete(io, loc(files[0]), &err), &err);
    CHECK_EQ_INT(list_count(io, loc("io_list/t")), 2);
    const char *batch[] = {loc(files[1]), loc(files[2]), loc("io_list/t/never-existed")};
    size_t failed = 99;
    CHECK_OK(firn_io_delete_batch(io, batch, 3, &failed, &err), &err);
    CHECK_EQ_INT(failed, 0);
    CHECK_EQ_INT(list_count(io, loc("io_list/t")), 0);
    CHECK_EQ_INT(list_count(io, loc("io_list")), 1);

    /* a callback can stop the walk; its value comes back */
    CHECK_EQ_INT(firn_io_list(io, loc("io_list"), stop_at_first, NULL, &err), 42);
    firn_error_release(&err);
    firn_io_free(io);
}

FIRN_TEST(io_uri_normalize) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"file:/tmp/wh/t", "file:/tmp/wh/t"},
        {"file:///tmp/wh/t", "file:/tmp/wh/t"},
        {"file://localhost/tmp/wh/t", "file:/tmp/wh/t"},
        {"/tmp/wh/t", "file:/tmp/wh/t"},
        {"/tmp//wh/./x/../t/", "file:/tmp/wh/t"},
        {"file:/tmp/wh/t/", "file:/tmp/wh/t"},
        {"/", "file:/"},
        {"file:///", "file:/"},
        {"/../..", "file:/"},
        {"/tmp/a b/c%20d", "file:/tmp/a b/c%20d"}, /* written raw, as Java's Hadoop paths */
        {"s3://bucket/wh/t", "s3://bucket/wh/t"},
        {"S3://Bucket/k", "S3://Bucket/k"},
        {"FILE:///tmp/x", "file:/tmp/x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out;
        CHECK_OK(firn_io_uri_normalize(cases[i].in, &a, &out, &err), &err);
        CHECK_EQ_STR(out, cases[i].out);
    }
    /* relative paths resolve against the working directory */
    char cwd[512], want[600], *out;
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(want, sizeof want, "file:%s/warehouse/catalog.db", cwd);
    CHECK_OK(firn_io_uri_normalize("./warehouse/catalog.db", &a, &out, &err), &err);
    CHECK_EQ_STR(out, want);
    CHECK_OK(firn_io_uri_to_path("file:///tmp/x/../y", &a, &out, &err), &err);
    CHECK_EQ_STR(out, "/tmp/y");
    /* malloc'ed when no arena */
    CHECK_OK(firn_io_uri_normalize("file:///a", NULL, &out, &err), &err);
    CHECK_EQ_STR(out, "file:/a");
    free(out);

    CHECK_EQ_INT(firn_io_uri_normalize("file://otherhost/tmp/x", &a, &out, &err),
                 -FIRN_ERR_INVALID);
    CHECK(strstr(err.message, "remote host") != NULL);
    CHECK_EQ_INT(firn_io_uri_normalize("file:relative", &a, &out, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_io_uri_normalize("", &a, &out, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_io_uri_to_path("s3://b/k", &a, &out, &err), -FIRN_ERR_INVALID);

    char scheme[16];
    CHECK_EQ_STR(firn_io_uri_scheme("S3A://b/k", scheme, sizeof scheme), "s3a");
    CHECK_EQ_STR(firn_io_uri_scheme("/abs", scheme, sizeof scheme), "file");
    CHECK_EQ_STR(firn_io_uri_scheme("file:/abs", scheme, sizeof scheme), "file");
    firn_arena_release(&a);
    firn_error_release(&err);
}

FIRN_TEST(io_new_for_uri_dispatch) {
    firn_error err;
    firn_error_init(&err);
    firn_io *io;
    CHECK_OK(firn_io_new_for_uri("file:/tmp/x", &io, &err), &err);
    CHECK_EQ_STR(firn_io_kind(io), "local");
    firn_io_free(io);
    CHECK_OK(firn_io_new_for_uri("/tmp/x", &io, &err), &err);
    firn_io_free(io);
    /* s3:// gets the S3 io, with the process-wide options */
    firn_io_s3_options o;
    firn_io_s3_options_init(&o);
    o.endpoint = "http://127.0.0.1:9";
    o.access_key_id = "AKIDEXAMPLE";
    o.secret_access_key = "secret";
    firn_io_s3_set_defaults(&o);
    CHECK_OK(firn_io_new_for_uri("s3://bucket/wh", &io, &err), &err);
    CHECK_EQ_STR(firn_io_kind(io), "s3");
    firn_io_free(io);
    CHECK_OK(firn_io_new_for_uri("s3a://bucket/wh", &io, &err), &err);
    firn_io_free(io);
    firn_io_s3_set_defaults(NULL);
    CHECK_EQ_INT(firn_io_new_for_uri("gs://bucket/wh", &io, &err), -FIRN_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "'gs'") != NULL);
    firn_io_free(NULL);
    firn_error_release(&err);
}

/* S3 without a server: a refused connection is retried max_attempts times
 * and then a retriable io error; bad locations and missing credentials are
 * refused before any request. */
FIRN_TEST(io_s3_offline) {
    firn_error err;
    firn_error_init(&err);
    firn_io_s3_options o;
    firn_io_s3_options_init(&o);
    o.endpoint = "http://127.0.0.1:9"; /* discard port: nothing listens */
    o.access_key_id = "AKIDEXAMPLE";
    o.secret_access_key = "secret";
    o.max_attempts = 3;
    o.backoff_ms = 1;
    firn_io *io;
    CHECK_OK(firn_io_s3_new(&o, &io, &err), &err);
    firn_io_stat st;
    CHECK_EQ_INT(firn_io_stat_file(io, "s3://bucket/k", &st, &err), -FIRN_ERR_IO);
    CHECK(err.retriable);
    CHECK(strstr(err.message, "after 3 attempts") != NULL);
    CHECK_EQ_STR(err.context, "s3://bucket/k");
    uint64_t req, retries;
    firn_io_s3_counters(io, &req, &retries);
    CHECK_EQ_INT((int)req, 3);
    CHECK_EQ_INT((int)retries, 2);
    firn_io_writer *w;
    CHECK_EQ_INT(firn_io_create(io, "s3://bucket/", &w, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_io_create(io, "s3:///k", &w, &err), -FIRN_ERR_INVALID);
    CHECK_EQ_INT(firn_io_delete(io, "s3://bu cket/k", &err), -FIRN_ERR_INVALID);
    firn_io_s3_counters(io, &req, &retries);
    CHECK_EQ_INT((int)req, 3); /* no request for a bad location */
    firn_io_free(io);
    /* credentials: none in options, environment or files */
    firn_io_s3_options none;
    firn_io_s3_options_init(&none);
    char *saved_id = getenv("AWS_ACCESS_KEY_ID") ? strdup(getenv("AWS_ACCESS_KEY_ID")) : NULL;
    char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    unsetenv("AWS_ACCESS_KEY_ID");
    setenv("HOME", firn_test_tmpdir(), 1);
    CHECK_EQ_INT(firn_io_s3_new(&none, &io, &err), -FIRN_ERR_INVALID);
    CHECK(strstr(err.message, "no S3 credentials") != NULL);
    /* ~/.aws/credentials and config of the profile */
    char path[600];
    snprintf(path, sizeof path, "%s/.aws", firn_test_tmpdir());
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/.aws/credentials", firn_test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("[other]\naws_access_key_id = WRONG\n[default]\naws_access_key_id = AKIDFILE\n"
              "aws_secret_access_key = s3cret\n", f);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/.aws/config", firn_test_tmpdir());
    f = fopen(path, "w");
    if (f) {
        fputs("[default]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:9\n", f);
        fclose(f);
    }
    none.max_attempts = 1;
    CHECK_OK(firn_io_s3_new(&none, &io, &err), &err);
    CHECK_EQ_INT(firn_io_stat_file(io, "s3://bucket/k", &st, &err), -FIRN_ERR_IO);
    /* the endpoint of the config file: refused, not an unresolved AWS host */
    CHECK(strstr(err.message, "connect to server") != NULL);
    firn_io_free(io);
    if (saved_id) setenv("AWS_ACCESS_KEY_ID", saved_id, 1);
    if (saved_home) setenv("HOME", saved_home, 1);
    else unsetenv("HOME");
    free(saved_id);
    free(saved_home);
    firn_error_release(&err);
}

/* Runs a child that writes a file with FIRN_CRASH_AT=point; returns its wait status. */
static int crash_child(const char *point, const char *where) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("FIRN_CRASH_AT", point, 1);
        if (!freopen("/dev/null", "w", stderr)) _exit(2); /* the crash notice */
        firn_io *io = firn_io_local_new();
        firn_io_write_all(io, where, "committed?", 10, NULL);
        firn_io_free(io);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

FIRN_TEST(io_crash_points) {
    firn_error err;
    firn_error_init(&err);
    firn_io *io = firn_io_local_new();
    /* killed before the link: the name is free, a temporary orphan remains */
    int st = crash_child("io.create.before-publish", loc("io_crash/a/f"));
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    bool exists = true;
    CHECK_OK(firn_io_exists(io, loc("io_crash/a/f"), &exists, &err), &err);
    CHECK(!exists);
    CHECK_EQ_INT(list_count(io, loc("io_crash/a")), 1);
    /* killed after the link: the whole file is there */
    st = crash_child("io.create.after-publish", loc("io_crash/b/f"));
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    uint8_t *back;
    size_t len;
    CHECK_OK(firn_io_read_all(io, loc("io_crash/b/f"), &back, &len, &err), &err);
    CHECK_EQ_STR((char *)back, "committed?");
    free(back);
    /* the Nth hit form, and a non-matching name does nothing */
    st = crash_child("io.create.after-publish:2", loc("io_crash/c/f"));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    st = crash_child("io.create.after", loc("io_crash/d/f"));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    firn_error_release(&err);
    firn_io_free(io);
}
