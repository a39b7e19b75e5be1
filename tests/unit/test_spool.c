/* test_spool.c - the spool: conformance suite, segments and retention, reopen,
 * torn tails, a second handle standing in for another process, fsync policies. */
#include "stream/stream.h"
#include "stream_conformance.h"
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *spool_uri(const char *name) {
    static char bufs[4][600];
    static int slot;
    char *b = bufs[slot++ & 3];
    snprintf(b, 600, "spool:%s", firn_test_path(name));
    return b;
}

FIRN_TEST(spool_conformance) {
    firn_stream_conformance_config cfg = {
        .uri = spool_uri("conf"), .big_value_bytes = 16u << 20, .has_get = true};
    firn_stream_conformance(&cfg);
}

FIRN_TEST(spool_conformance_small_segments_fsync_always) {
    firn_stream_options o;
    firn_stream_options_init(&o);
    o.segment_bytes = 8192; /* many rolls, reads across segments */
    o.fsync = FIRN_FSYNC_ALWAYS;
    firn_stream_conformance_config cfg = {.uri = spool_uri("conf-small"), .opts = &o,
                                          .big_value_bytes = 100000, .has_get = true,
                                          .records = 600};
    firn_stream_conformance(&cfg);
}

FIRN_TEST(spool_conformance_fsync_never) {
    firn_stream_options o;
    firn_stream_options_init(&o);
    o.fsync = FIRN_FSYNC_NEVER;
    firn_stream_conformance_config cfg = {.uri = spool_uri("conf-never"), .opts = &o,
                                          .big_value_bytes = 1 << 20, .has_get = true};
    firn_stream_conformance(&cfg);
}

static size_t count_files(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name), sl = strlen(suffix);
        if (l > sl && strcmp(de->d_name + l - sl, suffix) == 0) n++;
    }
    closedir(d);
    return n;
}

static int append_n(firn_stream *s, const char *topic, int64_t from, int n, int64_t ts,
                    firn_error *err) {
    for (int i = 0; i < n; i++) {
        char v[64];
        int l = snprintf(v, sizeof v, "record-%06lld-xxxxxxxxxxxxxxxx", (long long)(from + i));
        firn_msg m = {.partition = 0, .value = v, .value_len = (size_t)l, .timestamp_ms = ts};
        int64_t off;
        if (firn_stream_append(s, topic, &m, 1, &off, NULL, err) != 0) return -1;
        if (off != from + i) return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "offset %lld, want %lld",
                                               (long long)off, (long long)(from + i));
    }
    return 0;
}

/* Read partition 0 from offset `from` to the end; checks values and density. */
static int64_t read_all(firn_stream *s, const char *topic, int64_t from, firn_error *err) {
    firn_consumer *c;
    if (firn_consumer_open(s, NULL, &c, err) != 0) return -1;
    firn_topic_partition tp = {topic, 0, from};
    if (firn_consumer_assign(c, &tp, 1, err) != 0) return -1;
    int64_t next = from;
    for (;;) {
        const firn_record *r;
        size_t n;
        if (firn_consumer_poll(c, 0, &r, &n, err) != 0) {
            firn_consumer_close(c);
            return -1;
        }
        if (!n) break;
        for (size_t i = 0; i < n; i++) {
            char v[64];
            int l = snprintf(v, sizeof v, "record-%06lld-xxxxxxxxxxxxxxxx", (long long)next);
            if (r[i].offset != next || r[i].value_len != (size_t)l || memcmp(r[i].value, v, (size_t)l)) {
                firn_consumer_close(c);
                return -2;
            }
            next++;
        }
    }
    firn_consumer_close(c);
    return next;
}

FIRN_TEST(spool_roll_reopen_and_retention) {
    firn_error err;
    firn_error_init(&err);
    const char *dir = firn_test_path("roll");
    firn_stream_options o;
    firn_stream_options_init(&o);
    o.segment_bytes = 4096;
    firn_stream *s;
    CHECK_OK(firn_stream_open(dir, &o, &s, &err), &err);
    CHECK_OK(firn_stream_create_topic(s, "t", 1, &err), &err);
    CHECK_OK(append_n(s, "t", 0, 500, 0, &err), &err);
    char pdir[600];
    snprintf(pdir, sizeof pdir, "%s/t/0", dir);
    size_t segs = count_files(pdir, ".log");
    CHECK_MSG(segs >= 8, "only %zu segments for 500 records at 4 KiB", segs);
    CHECK_EQ_INT(count_files(pdir, ".idx"), segs - 1); /* sealed ones have an index */
    CHECK_EQ_INT(read_all(s, "t", 0, &err), 500);
    CHECK_EQ_INT(read_all(s, "t", 321, &err), 500);
    firn_stream_close(s);

    /* reopen: the same log, appends continue densely */
    CHECK_OK(firn_stream_open(dir, &o, &s, &err), &err);
    firn_watermarks w;
    CHECK_OK(firn_stream_watermarks(s, "t", 0, &w, &err), &err);
    CHECK(w.low == 0 && w.high == 500);
    CHECK_OK(append_n(s, "t", 500, 20, 0, &err), &err);
    CHECK_EQ_INT(read_all(s, "t", 0, &err), 520);
    firn_record *r;
    CHECK_OK(firn_stream_get(s, "t", 0, 77, &r, &err), &err);
    CHECK(r->offset == 77 && r->value_len == 30 && memcmp(r->value, "record-000077-x", 15) == 0);
    firn_stream_record_release(r);
    firn_stream_close(s);

    /* retention by size: whole old segments go, the low watermark moves */
    o.retention_bytes = 12000;
    CHECK_OK(firn_stream_open(dir, &o, &s, &err), &err);
    CHECK_OK(append_n(s, "t", 520, 100, 0, &err), &err);
    CHECK_OK(firn_stream_watermarks(s, "t", 0, &w, &err), &err);
    CHECK_MSG(w.low > 0 && w.high == 620, "after retention: [%lld, %lld)", (long long)w.low,
              (long long)w.high);
    size_t after = count_files(pdir, ".log");
    CHECK_MSG(after <= 5, "%zu segments left for 12000 bytes retained", after);
    CHECK_EQ_INT(read_all(s, "t", w.low, &err), 620);
    CHECK(firn_stream_get(s, "t", 0, 0, &r, &err) == -FIRN_ERR_NOT_FOUND);
    firn_consumer *c;
    CHECK_OK(firn_consumer_open(s, NULL, &c, &err), &err);
    firn_topic_partition tp = {"t", 0, 0};
    CHECK_OK(firn_consumer_assign(c, &tp, 1, &err), &err);
    const firn_record *recs;
    size_t n;
    CHECK(firn_consumer_poll(c, 0, &recs, &n, &err) == -FIRN_ERR_NOT_FOUND); /* deleted */
    firn_consumer_close(c);
    firn_stream_close(s);

    /* retention by age: segments whose newest record is old go */
    o.retention_bytes = 0;
    o.retention_ms = 3600 * 1000;
    CHECK_OK(firn_stream_open(dir, &o, &s, &err), &err);
    CHECK_OK(firn_stream_create_topic(s, "aged", 1, &err), &err);
    CHECK_OK(append_n(s, "aged", 0, 200, 1000, &err), &err); /* timestamps in 1970 */
    CHECK_OK(append_n(s, "aged", 200, 200, 0, &err), &err);  /* now */
    CHECK_OK(firn_stream_watermarks(s, "aged", 0, &w, &err), &err);
    CHECK_MSG(w.low >= 150 && w.low <= 200 && w.high == 400, "age retention: [%lld, %lld)",
              (long long)w.low, (long long)w.high);
    firn_stream_close(s);
    firn_error_release(&err);
}

static uint64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void append_bytes(const char *path, const void *p, size_t n) {
    int fd = open(path, O_WRONLY | O_APPEND);
    if (fd >= 0) {
        if (write(fd, p, n) != (ssize_t)n) perror("write");
        close(fd);
    }
}

FIRN_TEST(spool_torn_tail_is_truncated) {
    firn_error err;
    firn_error_init(&err);
    const char *dir = firn_test_path("torn");
    firn_stream *s;
    CHECK_OK(firn_stream_open(dir, NULL, &s, &err), &err);
    CHECK_OK(firn_stream_create_topic(s, "t", 1, &err), &err);
    CHECK_OK(append_n(s, "t", 0, 10, 0, &err), &err);
    firn_stream_close(s);
    char seg[700];
    snprintf(seg, sizeof seg, "%s/t/0/%020d.log", dir, 0);
    uint64_t good = file_size(seg);
    uint8_t *whole;
    size_t len;
    CHECK_OK(firn_read_file(seg, &whole, &len, &err), &err);
    uint32_t first = 8 + firn_load_le32(whole); /* the first frame */

    /* 1: garbage at the end */
    append_bytes(seg, "\x13\x37garbage that is not a frame", 29);
    CHECK_OK(firn_stream_open(dir, NULL, &s, &err), &err);
    firn_watermarks w;
    CHECK_OK(firn_stream_watermarks(s, "t", 0, &w, &err), &err);
    CHECK_EQ_INT(w.high, 10);
    CHECK_EQ_INT(file_size(seg), good); /* truncated on open */
    CHECK_OK(append_n(s, "t", 10, 1, 0, &err), &err);
    CHECK_EQ_INT(read_all(s, "t", 0, &err), 11);
    firn_stream_close(s);

    /* 2: half a record (a torn write) */
    good = file_size(seg);
    append_bytes(seg, whole, first / 2);
    CHECK_OK(firn_stream_open(dir, NULL, &s, &err), &err);
    CHECK_EQ_INT(read_all(s, "t", 0, &err), 11);
    CHECK_EQ_INT(file_size(seg), good);
    firn_stream_close(s);

    /* 3: a whole frame whose bytes are damaged (CRC mismatch), then a good-looking one */
    whole[20] ^= 0x40;
    append_bytes(seg, whole, first);
    whole[20] ^= 0x40;
    append_bytes(seg, whole, first);
    CHECK_OK(firn_stream_open(dir, NULL, &s, &err), &err);
    CHECK_EQ_INT(read_all(s, "t", 0, &err), 11);
    CHECK_EQ_INT(file_size(seg), good);
    CHECK_OK(append_n(s, "t", 11, 2, 0, &err), &err);
    CHECK_EQ_INT(read_all(s, "t", 0, &err), 13);
    firn_stream_close(s);
    free(whole);
    firn_error_release(&err);
}

/* Two handles on one directory: what two processes see of each other. */
FIRN_TEST(spool_two_handles_share_a_partition) {
    firn_error err;
    firn_error_init(&err);
    const char *dir = firn_test_path("two");
    firn_stream_options o;
    firn_stream_options_init(&o);
    o.segment_bytes = 2048;
    firn_stream *a, *b;
    CHECK_OK(firn_stream_open(dir, &o, &a, &err), &err);
    CHECK_OK(firn_stream_open(dir, &o, &b, &err), &err);
    CHECK_OK(firn_stream_create_topic(a, "t", 1, &err), &err);
    firn_consumer *c;
    CHECK_OK(firn_consumer_open(b, NULL, &c, &err), &err);
    firn_topic_partition tp = {"t", 0, 0};
    CHECK_OK(firn_consumer_assign(c, &tp, 1, &err), &err);
    int64_t next = 0, seen = 0;
    for (int round = 0; round < 30; round++) {
        firn_stream *w = round % 3 ? a : b; /* both write, alternately, across rolls */
        CHECK_OK(append_n(w, "t", next, 7, 0, &err), &err);
        next += 7;
        for (int tries = 0; seen < next && tries < 50; tries++) {
            const firn_record *r;
            size_t n;
            CHECK_OK(firn_consumer_poll(c, 50, &r, &n, &err), &err);
            for (size_t i = 0; i < n; i++) CHECK_EQ_INT(r[i].offset, seen++);
        }
        CHECK_EQ_INT(seen, next);
    }
    firn_consumer_close(c);
    CHECK_EQ_INT(read_all(a, "t", 0, &err), next);
    CHECK_EQ_INT(read_all(b, "t", 0, &err), next);
    firn_watermarks w;
    CHECK_OK(firn_stream_watermarks(a, "t", 0, &w, &err), &err);
    CHECK_EQ_INT(w.high, next);
    firn_stream_close(a);
    firn_stream_close(b);
    firn_error_release(&err);
}

FIRN_TEST(spool_commit_writes_positions) {
    firn_error err;
    firn_error_init(&err);
    const char *dir = firn_test_path("commit");
    firn_stream *s;
    CHECK_OK(firn_stream_open(dir, NULL, &s, &err), &err);
    CHECK_OK(firn_stream_create_topic(s, "t", 2, &err), &err);
    firn_consumer_options co;
    firn_consumer_options_init(&co);
    firn_consumer *c;
    CHECK_OK(firn_consumer_open(s, &co, &c, &err), &err);
    firn_topic_partition tps[2] = {{"t", 0, 5}, {"t", 1, 7}};
    CHECK(firn_consumer_commit(c, tps, 2, &err) == -FIRN_ERR_INVALID); /* no group */
    firn_consumer_close(c);
    co.group = "g1";
    CHECK_OK(firn_consumer_open(s, &co, &c, &err), &err);
    CHECK_OK(firn_consumer_commit(c, tps, 2, &err), &err);
    tps[1].offset = 9;
    CHECK_OK(firn_consumer_commit(c, tps + 1, 1, &err), &err);
    firn_consumer_close(c);
    char path[700];
    snprintf(path, sizeof path, "%s/.groups/g1.offsets", dir);
    uint8_t *data;
    size_t len;
    CHECK_OK(firn_read_file(path, &data, &len, &err), &err);
    bool ok = strstr((char *)data, "t 0 5\n") && strstr((char *)data, "t 1 9\n") &&
              !strstr((char *)data, "t 1 7");
    free(data);
    CHECK(ok);
    CHECK(firn_stream_create_topic(s, "../evil", 1, &err) == -FIRN_ERR_INVALID);
    CHECK(firn_stream_create_topic(s, ".hidden", 1, &err) == -FIRN_ERR_INVALID);
    firn_stream_close(s);
    firn_error_release(&err);
}
