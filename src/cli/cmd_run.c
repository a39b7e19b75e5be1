/* cmd_run.c - `firn run`, `firn classify` and `firn process`: the pipeline.
 *
 *   firn run [--config firn.yaml] [--sim-events N] [--sim-rate R] [--bad-ratio F]
 *            [--seed S] [--sim-start TIME] [--until-drained] [--set KEY=VALUE]...
 *   firn classify [--config firn.yaml] [--until-drained]
 *   firn process --topic T [--config firn.yaml] [--until-drained] [--group G [--worker NAME]]
 *
 * --group: workers in one consumer group share the topic's partitions, each
 * staging on branch <branch>-<worker> (worker: --worker, default the host name).
 *
 * The global --catalog and --warehouse override catalog.uri and warehouse.
 * SIGTERM and SIGINT publish the open batch and stop.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "run/run.h"
#include "sim/sim.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

static const char usage[] =
    "usage: firn run [--config FILE] [--sim-events N] [--sim-rate R] [--bad-ratio F] [--seed S]\n"
    "                [--sim-start TIME] [--until-drained] [--listen HOST:PORT] [--no-server]\n"
    "                [--set KEY=VALUE]...\n"
    "       firn classify [--config FILE] [--until-drained] [--set KEY=VALUE]...\n"
    "       firn process --topic T [--config FILE] [--until-drained] [--set KEY=VALUE]...\n"
    "                    [--group G [--worker NAME]]\n";

static int parse_u64(const char *s, uint64_t *out) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end) return -1;
    *out = v;
    return 0;
}

static int run_stage(int argc, char **argv, const char *stage) {
    firn_run_options o;
    firn_run_options_init(&o);
    const char *config = "firn.yaml";
    bool config_given = false;
    const char *sets[64];
    int nsets = 0;
    o.classify = strcmp(stage, "process") != 0;
    o.process = strcmp(stage, "classify") != 0;
    const char *start = NULL;
    bool no_server = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--config") && v) config = argv[++i], config_given = true;
        else if (!strcmp(a, "--until-drained")) o.until_drained = true;
        else if (!strcmp(a, "--listen") && v) o.listen = argv[++i];
        else if (!strcmp(a, "--no-server")) no_server = true;
        else if (!strcmp(a, "--set") && v && nsets < 64) sets[nsets++] = argv[++i];
        else if (!strcmp(a, "--topic") && v && !strcmp(stage, "process")) o.only_topic = argv[++i];
        else if (!strcmp(a, "--group") && v && !strcmp(stage, "process")) o.group = argv[++i];
        else if (!strcmp(a, "--worker") && v && !strcmp(stage, "process")) o.worker = argv[++i];
        else if (!strcmp(a, "--sim-events") && v && !strcmp(stage, "run")) {
            if (parse_u64(argv[++i], &o.sim_events)) return firn_cli_usage(usage);
        } else if (!strcmp(a, "--sim-rate") && v && !strcmp(stage, "run")) o.sim_rate = atof(argv[++i]);
        else if (!strcmp(a, "--bad-ratio") && v && !strcmp(stage, "run")) o.bad_ratio = atof(argv[++i]);
        else if (!strcmp(a, "--seed") && v && !strcmp(stage, "run")) {
            if (parse_u64(argv[++i], &o.seed)) return firn_cli_usage(usage);
        } else if (!strcmp(a, "--sim-start") && v && !strcmp(stage, "run")) start = argv[++i];
        else return firn_cli_usage(usage);
    }
    if (!strcmp(stage, "process") && !o.only_topic) return firn_cli_usage(usage);
    char host[128]; /* a group worker's default name: the host (a pod's name) */
    if (o.group && !o.worker && gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = 0;
        o.worker = host;
    }
    firn_error err;
    firn_error_init(&err);
    firn_config *cfg = NULL;
    if (firn_config_load(config, config_given, &cfg, &err)) return firn_cli_fail(stage, &err);
    const char *cat = firn_cli_global_catalog(), *wh = firn_cli_global_warehouse();
    if (wh && firn_config_set(cfg, "warehouse", wh, &err)) goto fail;
    char catbuf[PATH_MAX + 16];
    if (wh && !cat && strstr(wh, "://")) {
        FIRN_RAISE(&err, FIRN_ERR_INVALID,
                   "warehouse '%s' is not a local directory: name the catalog with --catalog URI "
                   "(e.g. --catalog sqlite:./catalog.db)", wh);
        goto fail;
    }
    if (wh && !cat) {
        snprintf(catbuf, sizeof catbuf, "sqlite:%s/catalog.db", wh);
        cat = catbuf;
    }
    if (cat && firn_config_set(cfg, "catalog.uri", cat, &err)) goto fail;
    for (int i = 0; i < nsets; i++) {
        char key[256];
        const char *eq = strchr(sets[i], '=');
        if (!eq || (size_t)(eq - sets[i]) >= sizeof key) {
            fprintf(stderr, "firn: %s: --set wants KEY=VALUE, not '%s'\n", stage, sets[i]);
            firn_config_free(cfg);
            return 2;
        }
        memcpy(key, sets[i], (size_t)(eq - sets[i]));
        key[eq - sets[i]] = 0;
        if (firn_config_set(cfg, key, eq + 1, &err)) goto fail;
    }
    /* table locations are absolute: resolve the warehouse once it exists
     * (object-store warehouses, s3://..., are absolute already) */
    bool remote = strstr(cfg->warehouse, "://") != NULL;
    char abs[PATH_MAX];
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", cfg->warehouse);
    for (char *q = dir + 1; !remote && *q; q++) /* mkdir -p */
        if (*q == '/') {
            *q = 0;
            if (mkdir(dir, 0755) != 0 && errno != EEXIST) break;
            *q = '/';
        }
    if (!remote && mkdir(cfg->warehouse, 0755) != 0 && errno != EEXIST) {
        FIRN_RAISE(&err, FIRN_ERR_IO, "warehouse %s: %s", cfg->warehouse, strerror(errno));
        goto fail;
    }
    if (!remote && realpath(cfg->warehouse, abs) && firn_config_set(cfg, "warehouse", abs, &err)) goto fail;
    if (start && firn_sim_parse_ts(start, &o.sim_start_us, &err)) goto fail;
    if (!o.bad_ratio) o.bad_ratio = cfg->sim_bad_ratio;
    if (!o.sim_rate) o.sim_rate = o.until_drained ? 0 : cfg->sim_rate;
    /* the server runs inside `firn run` (not classify/process) at --listen, or at
     * server.listen when server.enabled and the run is not a drain-and-exit job */
    if (no_server || strcmp(stage, "run") != 0) o.listen = NULL;
    else if (!o.listen && cfg->server_enabled && !o.until_drained) o.listen = cfg->server_listen;
    o.cfg = cfg;
    o.stop = &stop_flag;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    firn_run_stats st;
    int rc = firn_run(&o, &st, &err);
    fprintf(stderr,
            "firn %s: %llu simulated (%llu already there), %llu consumed, %llu routed, %llu dead "
            "letters; %llu trusted, %llu untrusted, %llu dead-letter rows in %llu batches "
            "(%llu published, %llu cherry-picked, %llu rejected, %llu fenced, %llu failed); "
            "%llu maintenance runs, %llu compactions\n",
            stage, (unsigned long long)st.sim_appended, (unsigned long long)st.sim_skipped,
            (unsigned long long)st.consumed, (unsigned long long)st.routed,
            (unsigned long long)st.dead_letter, (unsigned long long)st.trusted,
            (unsigned long long)st.untrusted, (unsigned long long)st.dead_letter_rows,
            (unsigned long long)st.batches, (unsigned long long)st.published,
            (unsigned long long)st.cherry_picked, (unsigned long long)st.rejected,
            (unsigned long long)st.fenced, (unsigned long long)st.errors,
            (unsigned long long)st.maintenance_runs, (unsigned long long)st.compactions);
    if (rc) goto fail;
    firn_config_free(cfg);
    return 0;
fail:
    firn_config_free(cfg);
    return firn_cli_fail(stage, &err);
}

int firn_cmd_run(int argc, char **argv) { return run_stage(argc, argv, "run"); }
int firn_cmd_classify(int argc, char **argv) { return run_stage(argc, argv, "classify"); }
int firn_cmd_process(int argc, char **argv) { return run_stage(argc, argv, "process"); }
