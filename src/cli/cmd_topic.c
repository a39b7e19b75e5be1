/* cmd_topic.c - `firn topic ...`: look at and feed a stream's topics, in the
 * spirit of kafka-topics and kcat. Works on any stream URI.
 *
 *   firn topic list                               topic names
 *   firn topic create NAME [-p N]                 N partitions (default 1)
 *   firn topic describe NAME                      partitions and their watermarks
 *   firn topic produce NAME [-p P] [-k KEY] [-K SEP]
 *                                                 one record per stdin line
 *   firn topic consume NAME [-p P] [-o OFFSET] [-c COUNT] [-f]
 *                                                 print "PARTITION:OFFSET<TAB>KEY<TAB>VALUE"
 * Global: --stream URI (default spool:./data/spool).
 */
#include "cli/cli.h"
#include "stream/stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: firn topic list [--stream URI]\n"
    "       firn topic create NAME [-p PARTITIONS] [--stream URI]\n"
    "       firn topic describe NAME [--stream URI]\n"
    "       firn topic produce NAME [-p PARTITION] [-k KEY] [-K SEP] [--stream URI]\n"
    "       firn topic consume NAME [-p PARTITION] [-o OFFSET|beginning|end|-N] [-c COUNT] [-f]\n"
    "                          [--stream URI]\n";

static int parse_i64(const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno) return -1;
    *out = v;
    return 0;
}

static void print_bytes(const void *p, size_t n) {
    if (n) fwrite(p, 1, n, stdout);
}

static int produce(firn_stream *s, const char *topic, int32_t partition, const char *key,
                   const char *sep, firn_error *err) {
    enum { BATCH = 1000 };
    firn_msg *m = firn_xcalloc(BATCH, sizeof *m);
    char **lines = firn_xcalloc(BATCH, sizeof *lines);
    size_t n = 0, total = 0;
    int rc = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool eof = false;
    while (rc == 0 && !eof) {
        len = getline(&line, &cap, stdin);
        if (len < 0) eof = true;
        if (!eof) {
            if (len && line[len - 1] == '\n') line[--len] = 0;
            lines[n] = line;
            line = NULL;
            cap = 0;
            firn_msg *x = &m[n];
            *x = (firn_msg){.partition = partition, .value = lines[n], .value_len = (size_t)len};
            if (key) {
                x->key = key;
                x->key_len = strlen(key);
            } else if (sep) {
                char *hit = strstr(lines[n], sep);
                if (hit) {
                    x->key = lines[n];
                    x->key_len = (size_t)(hit - lines[n]);
                    x->value = hit + strlen(sep);
                    x->value_len = (size_t)len - x->key_len - strlen(sep);
                }
            }
            n++;
        }
        if (n && (n == BATCH || eof)) {
            rc = firn_stream_append(s, topic, m, n, NULL, NULL, err);
            total += rc == 0 ? n : 0;
            for (size_t i = 0; i < n; i++) free(lines[i]);
            n = 0;
        }
    }
    for (size_t i = 0; i < n; i++) free(lines[i]);
    free(line);
    free(lines);
    free(m);
    if (rc == 0) fprintf(stderr, "produced %zu records to %s\n", total, topic);
    return rc;
}

static int consume(firn_stream *s, const char *topic, int32_t partition, const char *from,
                   long long count, bool follow, firn_error *err) {
    int32_t np;
    if (firn_stream_partitions(s, topic, &np, err) != 0) return -1;
    if (partition >= np)
        return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "topic %s has %d partitions", topic, np);
    int32_t first = partition >= 0 ? partition : 0, last = partition >= 0 ? partition : np - 1;
    size_t n = (size_t)(last - first + 1);
    firn_topic_partition *tps = firn_xcalloc(n, sizeof *tps);
    int64_t *end = firn_xcalloc(n, sizeof *end);
    for (size_t i = 0; i < n; i++) {
        firn_watermarks w;
        if (firn_stream_watermarks(s, topic, first + (int32_t)i, &w, err) != 0) {
            free(tps);
            free(end);
            return -1;
        }
        long long o = 0;
        int64_t at = w.low;
        if (!from || strcmp(from, "beginning") == 0) at = w.low;
        else if (strcmp(from, "end") == 0) at = w.high;
        else if (parse_i64(from, &o) == 0) at = o < 0 ? (w.high + o > w.low ? w.high + o : w.low) : o;
        else {
            free(tps);
            free(end);
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "-o wants an offset, beginning, end or -N, not '%s'", from);
        }
        tps[i] = (firn_topic_partition){topic, first + (int32_t)i, at};
        end[i] = w.high;
    }
    firn_consumer *c;
    int rc = firn_consumer_open(s, NULL, &c, err);
    if (rc == 0) rc = firn_consumer_assign(c, tps, n, err);
    int64_t *pos = firn_xcalloc(n, sizeof *pos);
    for (size_t i = 0; i < n; i++) pos[i] = tps[i].offset;
    long long printed = 0;
    while (rc == 0 && (count < 0 || printed < count)) {
        bool done = !follow;
        for (size_t i = 0; i < n && done; i++)
            if (pos[i] < end[i]) done = false;
        if (done) break;
        const firn_record *r;
        size_t got;
        rc = firn_consumer_poll(c, 500, &r, &got, err);
        for (size_t i = 0; rc == 0 && i < got && (count < 0 || printed < count); i++) {
            printf("%d:%lld\t", r[i].partition, (long long)r[i].offset);
            print_bytes(r[i].key, r[i].key_len);
            putchar('\t');
            print_bytes(r[i].value, r[i].value_len);
            putchar('\n');
            pos[r[i].partition - first] = r[i].offset + 1;
            printed++;
        }
        if (follow) fflush(stdout);
    }
    firn_consumer_close(c);
    free(pos);
    free(tps);
    free(end);
    return rc;
}

int firn_cmd_topic(int argc, char **argv) {
    const char *uri = "spool:./data/spool";
    const char *pos[2] = {0};
    int npos = 0;
    long long partition = -1, count = -1;
    const char *from = NULL, *key = NULL, *sep = NULL;
    bool follow = false, have_p = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strncmp(a, "--stream=", 9) == 0) uri = a + 9;
        else if (strcmp(a, "--stream") == 0 && more) uri = argv[++i];
        else if ((strcmp(a, "-p") == 0 || strcmp(a, "--partitions") == 0 ||
                  strcmp(a, "--partition") == 0) && more) {
            if (parse_i64(argv[++i], &partition) != 0 || partition < 0 || partition > INT32_MAX)
                return firn_cli_usage(usage);
            have_p = true;
        } else if (strcmp(a, "-o") == 0 && more) from = argv[++i];
        else if (strcmp(a, "-c") == 0 && more) {
            if (parse_i64(argv[++i], &count) != 0 || count < 0) return firn_cli_usage(usage);
        } else if (strcmp(a, "-k") == 0 && more) key = argv[++i];
        else if (strcmp(a, "-K") == 0 && more) sep = argv[++i];
        else if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0) follow = true;
        else if ((a[0] != '-' || (a[1] == 0)) && npos < 2) pos[npos++] = a;
        else return firn_cli_usage(usage);
    }
    if (npos < 1) return firn_cli_usage(usage);
    const char *sub = pos[0], *topic = pos[1];
    bool is_list = strcmp(sub, "list") == 0;
    if (!is_list && strcmp(sub, "create") && strcmp(sub, "describe") && strcmp(sub, "produce") &&
        strcmp(sub, "consume")) {
        fprintf(stderr, "firn: topic: unknown subcommand '%s'\n", sub);
        return firn_cli_usage(usage);
    }
    if (is_list ? npos != 1 : npos != 2) return firn_cli_usage(usage);
    firn_error err;
    firn_error_init(&err);
    firn_stream *s;
    char what[300];
    snprintf(what, sizeof what, "topic %s", sub);
    if (firn_stream_open(uri, NULL, &s, &err) != 0) return firn_cli_fail(what, &err);
    int rc = 0;
    if (is_list) {
        char **names;
        size_t n;
        rc = firn_stream_topics(s, &names, &n, &err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            printf("%s\n", names[i]);
            free(names[i]);
        }
        if (rc == 0) free(names);
    } else if (strcmp(sub, "create") == 0) {
        int32_t np = have_p ? (int32_t)partition : 1;
        rc = firn_stream_create_topic(s, topic, np, &err);
        if (rc == 0) printf("created topic %s with %d partition%s\n", topic, np, np == 1 ? "" : "s");
    } else if (strcmp(sub, "describe") == 0) {
        int32_t np;
        rc = firn_stream_partitions(s, topic, &np, &err);
        if (rc == 0) printf("topic %s: %d partition%s (%s)\n", topic, np, np == 1 ? "" : "s",
                            firn_stream_kind(s));
        for (int32_t pt = 0; rc == 0 && pt < np; pt++) {
            firn_watermarks w;
            rc = firn_stream_watermarks(s, topic, pt, &w, &err);
            if (rc == 0)
                printf("  partition %d: low %lld high %lld records %lld\n", pt, (long long)w.low,
                       (long long)w.high, (long long)(w.high - w.low));
        }
    } else if (strcmp(sub, "produce") == 0) {
        if (key && sep) {
            firn_stream_close(s);
            return firn_cli_usage(usage);
        }
        rc = produce(s, topic, (int32_t)partition, key, sep, &err);
    } else {
        rc = consume(s, topic, (int32_t)partition, from, count, follow, &err);
    }
    firn_stream_close(s);
    if (rc != 0) return firn_cli_fail(what, &err);
    firn_error_release(&err);
    return 0;
}
