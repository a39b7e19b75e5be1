/* cmd_serve.c - `firn serve`: the dashboard, the JSON API, /metrics and HTTP
 * ingest over the configured catalog and stream (src/server/).
 *
 *   firn serve [--listen HOST:PORT] [--config firn.yaml] [--set KEY=VALUE]...
 *              [--quiet] [--iceberg-log FILE]
 *
 * The global --catalog and --warehouse override catalog.uri and warehouse.
 * Prints "firn serve: listening on http://HOST:PORT/" once bound (https:// with
 * server.tls-cert; port 0 binds a free port). SIGTERM and SIGINT stop it after
 * the requests in flight. --iceberg-log appends one JSON line per Iceberg REST
 * catalog exchange (method, path, status, answer body) to FILE.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "server/server.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

static const char usage[] =
    "usage: firn serve [--listen HOST:PORT] [--config FILE] [--set KEY=VALUE]... [--quiet]\n"
    "                  [--iceberg-log FILE]\n";

int firn_cmd_serve(int argc, char **argv) {
    const char *config = "firn.yaml";
    bool config_given = false, quiet = false;
    const char *listen = NULL, *iceberg_log = NULL;
    const char *sets[64];
    int nsets = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--config") && v) config = argv[++i], config_given = true;
        else if (!strcmp(a, "--listen") && v) listen = argv[++i];
        else if (!strncmp(a, "--listen=", 9)) listen = a + 9;
        else if (!strcmp(a, "--set") && v && nsets < 64) sets[nsets++] = argv[++i];
        else if (!strcmp(a, "--quiet")) quiet = true;
        else if (!strcmp(a, "--iceberg-log") && v) iceberg_log = argv[++i];
        else return firn_cli_usage(usage);
    }
    firn_error err;
    firn_error_init(&err);
    firn_config *cfg = NULL;
    firn_server *srv = NULL;
    FILE *ilog = NULL;
    if (firn_config_load(config, config_given, &cfg, &err)) return firn_cli_fail("serve", &err);
    const char *cat = firn_cli_global_catalog(), *wh = firn_cli_global_warehouse();
    if (wh && firn_config_set(cfg, "warehouse", wh, &err)) goto fail;
    char catbuf[PATH_MAX + 16];
    if (wh && !cat) {
        snprintf(catbuf, sizeof catbuf, "sqlite:%s/catalog.db", wh);
        cat = catbuf;
    }
    if (cat && firn_config_set(cfg, "catalog.uri", cat, &err)) goto fail;
    for (int i = 0; i < nsets; i++) {
        char key[256];
        const char *eq = strchr(sets[i], '=');
        if (!eq || (size_t)(eq - sets[i]) >= sizeof key) {
            fprintf(stderr, "firn: serve: --set wants KEY=VALUE, not '%s'\n", sets[i]);
            firn_config_free(cfg);
            return 2;
        }
        memcpy(key, sets[i], (size_t)(eq - sets[i]));
        key[eq - sets[i]] = 0;
        if (firn_config_set(cfg, key, eq + 1, &err)) goto fail;
    }
    if (mkdir(cfg->warehouse, 0755) != 0 && errno != EEXIST) {
        FIRN_RAISE(&err, FIRN_ERR_IO, "warehouse %s: %s", cfg->warehouse, strerror(errno));
        goto fail;
    }
    char abs[PATH_MAX];
    if (realpath(cfg->warehouse, abs) && firn_config_set(cfg, "warehouse", abs, &err)) goto fail;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    firn_server_options o;
    firn_server_options_init(&o);
    o.cfg = cfg;
    o.listen = listen;
    o.no_log = quiet;
    if (iceberg_log && !(ilog = fopen(iceberg_log, "a"))) {
        FIRN_RAISE(&err, FIRN_ERR_IO, "%s: %s", iceberg_log, strerror(errno));
        goto fail;
    }
    o.iceberg_log = ilog;
    if (firn_server_start(&o, &srv, &err)) goto fail;
    const char *addr = listen ? listen : cfg->server_listen;
    const char *colon = strrchr(addr, ':');
    printf("firn serve: listening on %s://%.*s:%d/\n", firn_server_tls(srv) ? "https" : "http",
           (int)(colon - addr), addr, firn_server_port(srv));
    fflush(stdout);
    while (!stop_flag) pause();
    firn_server_stop(srv);
    if (ilog) fclose(ilog);
    firn_config_free(cfg);
    return 0;
fail:
    firn_server_stop(srv);
    if (ilog) fclose(ilog);
    firn_config_free(cfg);
    return firn_cli_fail("serve", &err);
}
