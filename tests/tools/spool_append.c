/* spool_append.c - the spool crash test's writer and checker
 * (tests/interop/spool_crash.test.sh).
 *
 *   spool_append DIR TOPIC RUN [COUNT]   append records in calls of 1..64 until COUNT
 *                                        (default: forever); after each call returns,
 *                                        print "OFFSET RUN SEQ" per record and flush
 *   spool_append --verify DIR TOPIC      read partition 0 from its start, check each
 *                                        record's bytes and that offsets are dense;
 *                                        print "OFFSET RUN SEQ" per record
 *
 * A record's value is "RUN:SEQ:" then filler bytes derived from RUN and SEQ (50 to
 * 450 bytes in all), so a damaged or mixed-up record is detected. */
#include "stream/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t make_value(long run, long seq, char *buf) {
    int n = snprintf(buf, 64, "%ld:%ld:", run, seq);
    size_t len = 50 + (size_t)((run * 7919 + seq * 104729) % 400);
    uint32_t x = (uint32_t)(run * 2654435761u) ^ (uint32_t)(seq * 40503u);
    for (size_t i = (size_t)n; i < len; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (char)('a' + (x >> 16) % 26);
    }
    return len;
}

static int fail(const char *what, firn_error *err) {
    char b[1024];
    fprintf(stderr, "spool_append: %s: %s\n", what, firn_error_format(err, b, sizeof b));
    return 1;
}

static int verify(const char *dir, const char *topic) {
    firn_error err;
    firn_error_init(&err);
    firn_stream *s;
    if (firn_stream_open(dir, NULL, &s, &err) != 0) return fail("open", &err);
    firn_watermarks w;
    if (firn_stream_watermarks(s, topic, 0, &w, &err) != 0) return fail("watermarks", &err);
    firn_consumer *c;
    firn_topic_partition tp = {topic, 0, w.low};
    if (firn_consumer_open(s, NULL, &c, &err) != 0 || firn_consumer_assign(c, &tp, 1, &err) != 0)
        return fail("consumer", &err);
    int64_t next = w.low;
    int bad = 0;
    while (next < w.high) {
        const firn_record *r;
        size_t n;
        if (firn_consumer_poll(c, 1000, &r, &n, &err) != 0) return fail("poll", &err);
        if (!n) {
            fprintf(stderr, "spool_append: no records after offset %lld (high %lld)\n",
                    (long long)next, (long long)w.high);
            return 1;
        }
        for (size_t i = 0; i < n; i++, next++) {
            long run, seq;
            char want[512];
            if (r[i].offset != next) {
                fprintf(stderr, "offset %lld where %lld was expected\n", (long long)r[i].offset,
                        (long long)next);
                return 1;
            }
            if (sscanf(r[i].value, "%ld:%ld:", &run, &seq) != 2) {
                fprintf(stderr, "offset %lld: unreadable value\n", (long long)next);
                bad = 1;
                continue;
            }
            size_t len = make_value(run, seq, want);
            if (r[i].value_len != len || memcmp(r[i].value, want, len) != 0) {
                fprintf(stderr, "offset %lld: record %ld:%ld damaged\n", (long long)next, run, seq);
                bad = 1;
            }
            printf("%lld %ld %ld\n", (long long)next, run, seq);
        }
    }
    firn_consumer_close(c);
    firn_stream_close(s);
    return bad;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--verify") == 0) return verify(argv[2], argv[3]);
    if (argc < 4) {
        fprintf(stderr, "usage: spool_append DIR TOPIC RUN [COUNT] | --verify DIR TOPIC\n");
        return 2;
    }
    long run = atol(argv[3]);
    long count = argc > 4 ? atol(argv[4]) : -1;
    firn_error err;
    firn_error_init(&err);
    firn_stream *s;
    if (firn_stream_open(argv[1], NULL, &s, &err) != 0) return fail("open", &err);
    if (firn_stream_create_topic(s, argv[2], 1, &err) != 0) return fail("create topic", &err);
    static char vals[64][512];
    firn_msg m[64];
    int64_t offs[64];
    long seq = 0;
    srand((unsigned)run);
    while (count < 0 || seq < count) {
        int k = 1 + rand() % 64;
        if (count >= 0 && seq + k > count) k = (int)(count - seq);
        for (int i = 0; i < k; i++) {
            size_t len = make_value(run, seq + i, vals[i]);
            m[i] = (firn_msg){.partition = 0, .key = "k", .key_len = 1, .value = vals[i],
                              .value_len = len};
        }
        if (firn_stream_append(s, argv[2], m, (size_t)k, offs, NULL, &err) != 0)
            return fail("append", &err);
        for (int i = 0; i < k; i++) printf("%lld %ld %ld\n", (long long)offs[i], run, seq + i);
        fflush(stdout);
        seq += k;
    }
    firn_stream_close(s);
    return 0;
}
