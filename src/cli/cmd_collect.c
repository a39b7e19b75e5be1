/* cmd_collect.c - `firn collect --watch DIR`: file-drop ingest of a
 * Replicator-layout directory onto the raw topic (src/collect/collect.h).
 * docs/cli/collect.md says what each option does. */
#include "cli/cli.h"
#include "collect/collect.h"
#include "config/config.h"
#include "stream/stream.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: firn collect --watch DIR [--stream URI] [--once] [--grace DURATION]\n"
    "                    [--config FILE] [--quiet]\n";

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void sleep_us(int64_t us) {
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

int firn_cmd_collect(int argc, char **argv) {
    const char *dir = NULL, *uri = NULL, *config = "firn.yaml", *grace = NULL;
    bool config_given = false, once = false, quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--watch") && v) dir = argv[++i];
        else if (!strcmp(a, "--stream") && v) uri = argv[++i];
        else if (!strcmp(a, "--config") && v) config = argv[++i], config_given = true;
        else if (!strcmp(a, "--grace") && v) grace = argv[++i];
        else if (!strcmp(a, "--once")) once = true;
        else if (!strcmp(a, "--quiet")) quiet = true;
        else return firn_cli_usage(usage);
    }
    if (!dir) return firn_cli_usage(usage);
    firn_error err;
    firn_error_init(&err);
    firn_config *cfg = NULL;
    if (firn_config_load(config, config_given, &cfg, &err)) return firn_cli_fail("collect", &err);
    firn_collect_options o;
    firn_collect_options_init(&o);
    o.dir = dir;
    o.topic = cfg->stream_raw_topic;
    o.partitions = (int32_t)cfg->stream_partitions;
    o.key_field = cfg->key_field;
    o.max_event_bytes = (uint64_t)cfg->max_event_bytes;
    if (grace && firn_parse_duration(grace, &o.grace_us) != 0) {
        fprintf(stderr, "firn: collect: --grace wants a duration (500ms, 5s), not '%s'\n", grace);
        firn_config_free(cfg);
        return 2;
    }
    firn_stream_options so;
    firn_stream_options_init(&so);
    so.fsync = (firn_fsync_policy)cfg->stream_fsync;
    so.segment_bytes = (uint64_t)cfg->stream_segment_bytes;
    so.retention_bytes = (uint64_t)cfg->stream_retention_bytes;
    so.retention_ms = cfg->stream_retention_us / 1000;
    so.max_record_bytes = (uint64_t)cfg->max_event_bytes + 4096; /* + key and headers */
    so.kafka_conf = (const char *const *)cfg->kafka_conf;
    firn_stream *s = NULL;
    firn_collect *c = NULL;
    const char *what = "collect";
    int rc = firn_stream_open(uri ? uri : cfg->stream_uri, &so, &s, &err);
    if (rc) {
        what = "collect --stream";
        goto done;
    }
    if ((rc = firn_collect_open(s, &o, &c, &err)) != 0) goto done;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop_requested) {
        int64_t due = 0;
        if ((rc = firn_collect_scan(c, &due, &err)) != 0) break;
        if (once && due == 0) break;
        /* poll: a new frame is seen within 200 ms; a waiting lone file when its grace ends */
        sleep_us(due && due < 200000 ? due + 1000 : 200000);
    }
done:
    if (c && !quiet) {
        const firn_collect_stats *st = firn_collect_get_stats(c);
        fprintf(stderr,
                "firn collect: %llu events appended (%llu sidecars without image), %llu recovered "
                "after a restart, %llu failed, %llu waiting\n",
                (unsigned long long)st->appended, (unsigned long long)st->sidecar_only,
                (unsigned long long)st->recovered, (unsigned long long)st->failed,
                (unsigned long long)st->waiting);
    }
    firn_collect_free(c);
    firn_stream_close(s);
    firn_config_free(cfg);
    return rc ? firn_cli_fail(what, &err) : 0;
}
