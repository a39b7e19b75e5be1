/* cmd_sim.c - `firn sim`: the parking-lot simulator (src/sim/sim.h) to NDJSON
 * on stdout, to a directory in the Omniverse Replicator BasicWriter layout, or
 * onto the raw topic of a stream. docs/cli/sim.md says what each option does. */
#include "cli/cli.h"
#include "sim/sim.h"
#include "stream/stream.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char usage[] =
    "usage: firn sim [--count N | --duration SECONDS] [--rate EVENTS_PER_S] [--slots N]\n"
    "                [--size WxH] [--format jpeg|png] [--quality Q] [--bad-ratio F]\n"
    "                [--seed S] [--start TIME|now] [--gap-ms MS] [--image-max-bytes N]\n"
    "                [--truth FILE] [--quiet]\n"
    "                (--ndjson | --out DIR | --stream URI [--partitions N]) ...\n";

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* ------------------------------------------------------------ outputs */

static int write_plain(const char *path, const void *data, size_t n, firn_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return FIRN_RAISE(err, FIRN_ERR_IO, "open %s: %s", path, strerror(errno));
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    int rc = fclose(f);
    if (w != n || rc != 0) return FIRN_RAISE(err, FIRN_ERR_IO, "write %s: %s", path, strerror(errno));
    return 0;
}

/* Write to DIR/.NAME.tmp, then rename to DIR/NAME: a watcher never sees half a file. */
static int write_frame_file(const char *dir, const char *name, const void *data, size_t n,
                            firn_error *err) {
    char tmp[4096], final[4096];
    if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof tmp ||
        snprintf(final, sizeof final, "%s/%s", dir, name) >= (int)sizeof final)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "path too long: %s", dir);
    int rc = write_plain(tmp, data, n, err);
    if (rc) return rc;
    if (rename(tmp, final) != 0)
        return FIRN_RAISE(err, FIRN_ERR_IO, "rename %s: %s", final, strerror(errno));
    return 0;
}

/* Replicator BasicWriter names: rgb_<frame padded to 4>.<ext>; firn's event
 * sidecar has the same stem with .json and is written last. */
static int write_frame(const char *dir, const firn_sim_event *ev, firn_error *err) {
    char name[64];
    int rc = 0;
    if (ev->image) {
        snprintf(name, sizeof name, "rgb_%04llu.%s", (unsigned long long)ev->seq, ev->image_ext);
        rc = write_frame_file(dir, name, ev->image, ev->image_len, err);
    }
    if (rc == 0) {
        snprintf(name, sizeof name, "rgb_%04llu.json", (unsigned long long)ev->seq);
        rc = write_frame_file(dir, name, ev->json, ev->json_len, err);
    }
    return rc;
}

static int mkdirs(const char *path, firn_error *err) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return FIRN_RAISE(err, FIRN_ERR_IO, "mkdir %s: %s", buf, strerror(errno));
            *p = c;
            if (!c) break;
        }
    }
    return 0;
}

/* Events copied for one stream append call. */
typedef struct stream_batch {
    firn_arena arena;
    firn_msg msgs[64];
    firn_header headers[64];
    size_t n;
} stream_batch;

static void batch_add(stream_batch *b, const firn_sim_event *ev) {
    firn_msg *m = &b->msgs[b->n];
    memset(m, 0, sizeof *m);
    m->partition = -1;
    m->key = firn_arena_strdup(&b->arena, ev->car_id);
    m->key_len = strlen(ev->car_id);
    m->value = firn_arena_memdup(&b->arena, ev->json, ev->json_len);
    m->value_len = ev->json_len;
    m->timestamp_ms = ev->ts_us / 1000;
    if (ev->image) {
        firn_header *h = &b->headers[b->n];
        h->key = FIRN_SIM_IMAGE_HEADER;
        h->value = ev->image_len ? firn_arena_memdup(&b->arena, ev->image, ev->image_len) : NULL;
        h->value_len = ev->image_len;
        m->headers = h;
        m->n_headers = 1;
    }
    b->n++;
}

static int batch_flush(firn_stream *s, stream_batch *b, firn_error *err) {
    if (b->n == 0) return 0;
    int rc = firn_stream_append(s, FIRN_SIM_RAW_TOPIC, b->msgs, b->n, NULL, NULL, err);
    b->n = 0;
    firn_arena_reset(&b->arena);
    return rc;
}

static int open_stream(const char *uri, int32_t partitions, firn_stream **out, firn_error *err) {
    int rc = firn_stream_open(uri, NULL, out, err);
    if (rc) return rc;
    int32_t have = 0;
    rc = firn_stream_partitions(*out, FIRN_SIM_RAW_TOPIC, &have, err);
    if (rc == -FIRN_ERR_NOT_FOUND) {
        firn_error_release(err);
        firn_error_init(err);
        rc = firn_stream_create_topic(*out, FIRN_SIM_RAW_TOPIC, partitions, err);
    }
    if (rc) {
        firn_stream_close(*out);
        *out = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------ options */

static int parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

static void sleep_until_ns(uint64_t t) {
    uint64_t now = firn_now_ns();
    if (t <= now) return;
    uint64_t d = t - now;
    struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
    nanosleep(&ts, NULL);
}

int firn_cmd_sim(int argc, char **argv) {
    firn_sim_options o;
    firn_sim_options_init(&o);
    uint64_t count = 100;
    bool count_set = false;
    double duration = 0, rate = 0;
    const char *out_dir = NULL, *stream_uri = NULL, *truth_path = NULL, *start = NULL;
    bool ndjson = false, quiet = false;
    uint64_t partitions = 1;
    firn_error err;
    firn_error_init(&err);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        double d;
#define NEED_VALUE()                                                                      \
    do {                                                                                  \
        if (!v) {                                                                         \
            fprintf(stderr, "firn: sim: %s needs a value\n", a);                          \
            return firn_cli_usage(usage);                                                 \
        }                                                                                 \
        i++;                                                                              \
    } while (0)
#define BAD_VALUE()                                                                       \
    do {                                                                                  \
        fprintf(stderr, "firn: sim: %s '%s' is not valid\n", a, v);                       \
        return 2;                                                                         \
    } while (0)
        if (strcmp(a, "--count") == 0) {
            NEED_VALUE();
            if (parse_u64(v, &count)) BAD_VALUE();
            count_set = true;
        } else if (strcmp(a, "--duration") == 0) {
            NEED_VALUE();
            if (parse_double(v, &duration) || duration <= 0) BAD_VALUE();
        } else if (strcmp(a, "--rate") == 0) {
            NEED_VALUE();
            if (parse_double(v, &rate) || rate < 0) BAD_VALUE();
        } else if (strcmp(a, "--slots") == 0) {
            NEED_VALUE();
            if (parse_u64(v, &u) || u == 0 || u > 10000000) BAD_VALUE();
            o.slots = (uint32_t)u;
        } else if (strcmp(a, "--size") == 0) {
            NEED_VALUE();
            int w, h, n = 0;
            if (sscanf(v, "%dx%d%n", &w, &h, &n) != 2 || v[n]) BAD_VALUE();
            o.width = w;
            o.height = h;
        } else if (strcmp(a, "--format") == 0) {
            NEED_VALUE();
            if (strcmp(v, "jpeg") == 0 || strcmp(v, "jpg") == 0) o.format = FIRN_SIM_JPEG;
            else if (strcmp(v, "png") == 0) o.format = FIRN_SIM_PNG;
            else BAD_VALUE();
        } else if (strcmp(a, "--quality") == 0) {
            NEED_VALUE();
            if (parse_u64(v, &u) || u < 1 || u > 100) BAD_VALUE();
            o.jpeg_quality = (int)u;
        } else if (strcmp(a, "--bad-ratio") == 0) {
            NEED_VALUE();
            if (parse_double(v, &d) || !(d >= 0 && d <= 1)) BAD_VALUE();
            o.bad_ratio = d;
        } else if (strcmp(a, "--seed") == 0) {
            NEED_VALUE();
            if (parse_u64(v, &o.seed)) BAD_VALUE();
        } else if (strcmp(a, "--start") == 0) {
            NEED_VALUE();
            start = v;
        } else if (strcmp(a, "--gap-ms") == 0) {
            NEED_VALUE();
            if (parse_double(v, &d) || !(d > 0 && d < 1e12)) BAD_VALUE();
            o.mean_gap_us = (int64_t)(d * 1000);
            if (o.mean_gap_us < 1) o.mean_gap_us = 1;
        } else if (strcmp(a, "--image-max-bytes") == 0) {
            NEED_VALUE();
            if (parse_u64(v, &u) || u > ((uint64_t)1 << 30)) BAD_VALUE();
            o.image_max_bytes = (size_t)u;
        } else if (strcmp(a, "--ndjson") == 0) {
            ndjson = true;
        } else if (strcmp(a, "--out") == 0) {
            NEED_VALUE();
            out_dir = v;
        } else if (strcmp(a, "--stream") == 0) {
            NEED_VALUE();
            stream_uri = v;
        } else if (strcmp(a, "--partitions") == 0) {
            NEED_VALUE();
            if (parse_u64(v, &partitions) || partitions < 1 || partitions > 100000) BAD_VALUE();
        } else if (strcmp(a, "--truth") == 0) {
            NEED_VALUE();
            truth_path = v;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else {
            fprintf(stderr, "firn: sim: unknown option '%s'\n", a);
            return firn_cli_usage(usage);
        }
#undef NEED_VALUE
#undef BAD_VALUE
    }
    if (!ndjson && !out_dir && !stream_uri) {
        fprintf(stderr, "firn: sim: say where events go: --ndjson, --out DIR or --stream URI\n");
        return firn_cli_usage(usage);
    }
    if (duration > 0 && !count_set) count = 0; /* the duration alone bounds the run */
    if (start) {
        if (firn_sim_parse_ts(start, &o.start_us, &err)) return firn_cli_fail("sim --start", &err);
        if (o.start_us == 0) o.start_us = 1; /* 0 means the live clock */
    } else if (rate > 0) {
        o.mean_gap_us = (int64_t)(1e6 / rate) > 0 ? (int64_t)(1e6 / rate) : 1;
    }

    firn_sim *sim = NULL;
    firn_stream *stream = NULL;
    FILE *truth = NULL;
    stream_batch batch = {.n = 0};
    firn_arena_init(&batch.arena, 0);
    firn_buf line;
    firn_buf_init(&line);
    int rc = 0;
    const char *what = "sim";

    if ((rc = firn_sim_new(&o, &sim, &err)) != 0) goto done;
    if (out_dir && (rc = mkdirs(out_dir, &err)) != 0) {
        what = "sim --out";
        goto done;
    }
    if (stream_uri && (rc = open_stream(stream_uri, (int32_t)partitions, &stream, &err)) != 0) {
        what = "sim --stream";
        goto done;
    }
    if (truth_path && !(truth = fopen(truth_path, "w"))) {
        rc = FIRN_RAISE(&err, FIRN_ERR_IO, "open %s: %s", truth_path, strerror(errno));
        what = "sim --truth";
        goto done;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    size_t batch_max = rate > 0 ? (size_t)(rate / 20) : 64;
    if (batch_max < 1) batch_max = 1;
    if (batch_max > 64) batch_max = 64;
    uint64_t t0 = firn_now_ns();
    uint64_t bytes = 0;
    for (uint64_t i = 0; (count == 0 || i < count) && !stop_requested; i++) {
        if (duration > 0 && (double)(firn_now_ns() - t0) >= duration * 1e9) break;
        if (rate > 0) sleep_until_ns(t0 + (uint64_t)((double)i * 1e9 / rate));
        const firn_sim_event *ev;
        if ((rc = firn_sim_next(sim, &ev, &err)) != 0) goto done;
        bytes += ev->json_len + ev->image_len;
        if (ndjson) {
            firn_sim_event_ndjson(ev, &line);
            if (line.len >= (1u << 20) || rate > 0) {
                if (fwrite(line.data, 1, line.len, stdout) != line.len || fflush(stdout) != 0) {
                    rc = FIRN_RAISE(&err, FIRN_ERR_IO, "write stdout: %s", strerror(errno));
                    goto done;
                }
                firn_buf_clear(&line);
            }
        }
        if (out_dir && (rc = write_frame(out_dir, ev, &err)) != 0) {
            what = "sim --out";
            goto done;
        }
        if (stream) {
            batch_add(&batch, ev);
            if (batch.n == batch_max && (rc = batch_flush(stream, &batch, &err)) != 0) {
                what = "sim --stream";
                goto done;
            }
        }
        if (truth) {
            fprintf(truth,
                    "{\"seq\":%llu,\"eventId\":\"%s\",\"eventType\":\"%s\",\"carId\":\"%s\","
                    "\"slotId\":%d,\"truth\":\"%s\",\"rule\":\"%s\",\"variant\":\"%s\"",
                    (unsigned long long)ev->seq, ev->event_id,
                    ev->entry ? "parking-entry" : "parking-exit", ev->car_id, (int)ev->slot_id,
                    firn_sim_truth_name(ev->truth), ev->rule, ev->variant);
            if (ev->dup_of >= 0) fprintf(truth, ",\"dupOf\":%lld", (long long)ev->dup_of);
            fputs("}\n", truth);
        }
    }
    if (stream && (rc = batch_flush(stream, &batch, &err)) != 0) {
        what = "sim --stream";
        goto done;
    }
    if (ndjson && line.len &&
        (fwrite(line.data, 1, line.len, stdout) != line.len || fflush(stdout) != 0)) {
        rc = FIRN_RAISE(&err, FIRN_ERR_IO, "write stdout: %s", strerror(errno));
        goto done;
    }
    if (!quiet) {
        uint64_t counts[FIRN_SIM_N_TRUTH], total = 0;
        firn_sim_counts(sim, counts);
        for (int t = 0; t < FIRN_SIM_N_TRUTH; t++) total += counts[t];
        double secs = (double)(firn_now_ns() - t0) / 1e9;
        fprintf(stderr, "firn sim: %llu events in %.2f s (%.0f/s, %.1f MB):",
                (unsigned long long)total, secs, secs > 0 ? (double)total / secs : 0.0,
                (double)bytes / 1e6);
        for (int t = 0; t < FIRN_SIM_N_TRUTH; t++)
            fprintf(stderr, "%s %s %llu", t ? "," : "", firn_sim_truth_name((firn_sim_truth)t),
                    (unsigned long long)counts[t]);
        fprintf(stderr, "\n");
    }

done:
    if (truth && fclose(truth) != 0 && rc == 0) {
        rc = FIRN_RAISE(&err, FIRN_ERR_IO, "write %s: %s", truth_path, strerror(errno));
        what = "sim --truth";
    }
    firn_stream_close(stream);
    firn_sim_free(sim);
    firn_arena_release(&batch.arena);
    firn_buf_release(&line);
    if (rc) return firn_cli_fail(what, &err);
    firn_error_release(&err);
    return 0;
}
