/*
 * kafka_io - firn's Kafka transport from the shell, for interop tests.
 *
 *   kafka_io produce URI TOPIC [-p PART] [-H NAME=VALUE]... [-T MS] [FILE...]
 *       One record per FILE (its bytes; key = the file's base name), or, with
 *       no FILE, one per stdin line "KEY<TAB>VALUE". Without -p the partition
 *       comes from the key (murmur2). All records go in one append call.
 *       Prints "PARTITION OFFSET" per record.
 *   kafka_io consume URI TOPIC PARTITIONS COUNT [--raw DIR] [--check-keys]
 *       Reads COUNT records from partitions 0..PARTITIONS-1 from offset 0 and
 *       prints each as kcat -f '%p %o %T %k\t%s|%h\n' would; --raw writes each
 *       value to DIR/PARTITION-OFFSET instead; --check-keys fails unless every
 *       keyed record sits in firn_stream_partition_for_key's partition.
 */
#include "stream/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(firn_error *err, const char *what) {
    char eb[1024];
    fprintf(stderr, "kafka_io: %s: %s\n", what, firn_error_format(err, eb, sizeof eb));
    return 1;
}

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

static int produce(firn_stream *s, const char *topic, int argc, char **argv) {
    int32_t part = -1;
    int64_t ts = 0;
    firn_header hdrs[16];
    size_t nh = 0;
    int first_file = argc;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
            part = atoi(argv[++i]);
        } else if (strcmp(argv[i], "-T") == 0 && i + 1 < argc) {
            ts = atoll(argv[++i]);
        } else if (strcmp(argv[i], "-H") == 0 && i + 1 < argc && nh < 16) {
            char *kv = argv[++i], *eq = strchr(kv, '=');
            if (!eq) {
                fprintf(stderr, "kafka_io: -H wants NAME=VALUE\n");
                return 2;
            }
            *eq = 0;
            hdrs[nh++] = (firn_header){kv, eq + 1, strlen(eq + 1)};
        } else {
            first_file = i;
            break;
        }
    }
    size_t n = 0, cap = 0;
    firn_msg *msgs = NULL;
    char **owned = NULL;
    if (first_file < argc) {
        for (int i = first_file; i < argc; i++) {
            size_t len;
            char *data = slurp(argv[i], &len);
            if (!data) {
                fprintf(stderr, "kafka_io: cannot read %s\n", argv[i]);
                return 1;
            }
            const char *base = strrchr(argv[i], '/');
            base = base ? base + 1 : argv[i];
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                msgs = firn_xrealloc(msgs, cap * sizeof *msgs);
                owned = firn_xrealloc(owned, cap * sizeof *owned);
            }
            owned[n] = data;
            msgs[n] = (firn_msg){.partition = part, .key = base, .key_len = strlen(base),
                                 .value = data, .value_len = len};
            n++;
        }
    } else {
        char *line = NULL;
        size_t lcap = 0;
        ssize_t got;
        while ((got = getline(&line, &lcap, stdin)) > 0) {
            if (line[got - 1] == '\n') line[--got] = 0;
            char *copy = firn_xstrdup(line);
            char *tab = strchr(copy, '\t');
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                msgs = firn_xrealloc(msgs, cap * sizeof *msgs);
                owned = firn_xrealloc(owned, cap * sizeof *owned);
            }
            owned[n] = copy;
            if (tab) {
                *tab = 0;
                msgs[n] = (firn_msg){.partition = part, .key = copy, .key_len = strlen(copy),
                                     .value = tab + 1, .value_len = strlen(tab + 1)};
            } else {
                msgs[n] = (firn_msg){.partition = part, .value = copy, .value_len = strlen(copy)};
            }
            n++;
        }
        free(line);
    }
    for (size_t i = 0; i < n; i++) {
        msgs[i].headers = hdrs;
        msgs[i].n_headers = nh;
        msgs[i].timestamp_ms = ts;
    }
    int64_t *offs = firn_xcalloc(n + 1, sizeof *offs);
    int32_t *parts = firn_xcalloc(n + 1, sizeof *parts);
    firn_error err;
    firn_error_init(&err);
    int rc = 0;
    if (firn_stream_append(s, topic, msgs, n, offs, parts, &err) != 0) rc = fail(&err, "append");
    for (size_t i = 0; !rc && i < n; i++) printf("%d %lld\n", parts[i], (long long)offs[i]);
    for (size_t i = 0; i < n; i++) free(owned[i]);
    free(owned);
    free(msgs);
    free(offs);
    free(parts);
    firn_error_release(&err);
    return rc;
}

static int consume(firn_stream *s, const char *topic, int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "kafka_io consume: PARTITIONS COUNT\n");
        return 2;
    }
    int32_t nparts = atoi(argv[0]);
    long want = atol(argv[1]);
    const char *raw = NULL;
    bool check_keys = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--raw") == 0 && i + 1 < argc) raw = argv[++i];
        else if (strcmp(argv[i], "--check-keys") == 0) check_keys = true;
        else {
            fprintf(stderr, "kafka_io consume: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    firn_error err;
    firn_error_init(&err);
    firn_consumer *c = NULL;
    if (firn_consumer_open(s, NULL, &c, &err) != 0) return fail(&err, "consumer");
    firn_topic_partition *tps = firn_xcalloc((size_t)nparts, sizeof *tps);
    for (int32_t p = 0; p < nparts; p++) tps[p] = (firn_topic_partition){topic, p, 0};
    int rc = 0;
    if (firn_consumer_assign(c, tps, (size_t)nparts, &err) != 0) rc = fail(&err, "assign");
    long got = 0;
    uint64_t deadline = firn_now_ns() + 20ull * 1000000000ull;
    while (!rc && got < want && firn_now_ns() < deadline) {
        const firn_record *r;
        size_t n;
        if (firn_consumer_poll(c, 500, &r, &n, &err) != 0) {
            rc = fail(&err, "poll");
            break;
        }
        for (size_t i = 0; i < n; i++, got++) {
            if (check_keys && r[i].key &&
                r[i].partition != firn_stream_partition_for_key(r[i].key, r[i].key_len, nparts)) {
                fprintf(stderr, "kafka_io: key %.*s in partition %d, murmur2 says %d\n", (int)r[i].key_len,
                        (const char *)r[i].key, r[i].partition,
                        firn_stream_partition_for_key(r[i].key, r[i].key_len, nparts));
                rc = 1;
            }
            if (raw) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%d-%lld", raw, r[i].partition, (long long)r[i].offset);
                FILE *f = fopen(path, "wb");
                if (!f || fwrite(r[i].value, 1, r[i].value_len, f) != r[i].value_len) rc = 1;
                if (f) fclose(f);
                continue;
            }
            printf("%d %lld %lld ", r[i].partition, (long long)r[i].offset, (long long)r[i].timestamp_ms);
            fwrite(r[i].key, 1, r[i].key_len, stdout);
            putchar('\t');
            fwrite(r[i].value, 1, r[i].value_len, stdout);
            putchar('|');
            for (size_t h = 0; h < r[i].n_headers; h++) {
                printf("%s%s=", h ? "," : "", r[i].headers[h].key);
                fwrite(r[i].headers[h].value, 1, r[i].headers[h].value_len, stdout);
            }
            putchar('\n');
        }
    }
    if (!rc && got != want) {
        fprintf(stderr, "kafka_io: read %ld records, expected %ld\n", got, want);
        rc = 1;
    }
    free(tps);
    firn_consumer_close(c);
    firn_error_release(&err);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: kafka_io produce|consume URI TOPIC ...\n");
        return 2;
    }
    firn_error err;
    firn_error_init(&err);
    firn_stream *s = NULL;
    if (firn_stream_open(argv[2], NULL, &s, &err) != 0) return fail(&err, argv[2]);
    int rc;
    if (strcmp(argv[1], "produce") == 0) rc = produce(s, argv[3], argc - 4, argv + 4);
    else if (strcmp(argv[1], "consume") == 0) rc = consume(s, argv[3], argc - 4, argv + 4);
    else {
        fprintf(stderr, "kafka_io: unknown command %s\n", argv[1]);
        rc = 2;
    }
    fflush(stdout);
    firn_stream_close(s);
    return rc;
}
