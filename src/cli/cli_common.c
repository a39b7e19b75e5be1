/* cli_common.c - what every table command shares: the global options
 * --catalog URI and --warehouse PATH, opening the catalog and FileIO, loading
 * a table by "ns.name", and git-style error lines ("firn: <what>: <why>"). */
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "iceberg/iceberg.h"
#include "io/io.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *g_catalog_uri;
static const char *g_warehouse;

int firn_cli_take_globals(int argc, char **argv) {
    int out = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--catalog") == 0 || strcmp(a, "--warehouse") == 0) && i + 1 < argc) {
            if (a[2] == 'c') g_catalog_uri = argv[i + 1];
            else g_warehouse = argv[i + 1];
            i++;
            continue;
        }
        if (strncmp(a, "--catalog=", 10) == 0) {
            g_catalog_uri = a + 10;
            continue;
        }
        if (strncmp(a, "--warehouse=", 12) == 0) {
            g_warehouse = a + 12;
            continue;
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    return out;
}

int firn_cli_fail(const char *what, firn_error *err) {
    char buf[2048];
    fprintf(stderr, "firn: %s: %s\n", what, firn_error_format(err, buf, sizeof buf));
    firn_error_release(err);
    firn_error_init(err);
    return 1;
}

int firn_cli_usage(const char *usage) {
    fputs(usage, stderr);
    return 2;
}

int firn_cli_run_subcommand(const char *what, const char *usage,
                            const firn_cli_subcommand *subs, size_t n, int argc, char **argv) {
    for (size_t i = 0; i < n; i++) {
        if (strcmp(argv[1], subs[i].name) != 0) continue;
        firn_error err;
        firn_error_init(&err);
        firn_cli_env env;
        int rc;
        if (firn_cli_env_open(&env, &err) != 0) rc = firn_cli_fail(what, &err);
        else rc = subs[i].run(&env, argc - 1, argv + 1, &err);
        firn_cli_env_close(&env);
        firn_error_release(&err);
        return rc;
    }
    fprintf(stderr, "firn: %s: unknown subcommand '%s'\n%s", what, argv[1], usage);
    return 2;
}

/* mkdir -p */
static int make_dirs(const char *path, firn_error *err) {
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) return FIRN_RAISE(err, FIRN_ERR_INVALID, "bad path '%s'", path);
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return FIRN_RAISE(err, FIRN_ERR_IO, "cannot create directory '%s': %s", tmp,
                              strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return FIRN_RAISE(err, FIRN_ERR_IO, "cannot create directory '%s': %s", tmp,
                          strerror(errno));
    return 0;
}

int firn_cli_env_open(firn_cli_env *env, firn_error *err) {
    memset(env, 0, sizeof *env);
    firn_arena_init(&env->arena, 0);
    const char *wh = g_warehouse ? g_warehouse : "./warehouse";
    if (strncmp(wh, "file:", 5) == 0) {
        char *p;
        if (firn_io_uri_to_path(wh, &env->arena, &p, err) != 0) return -1;
        wh = p;
    }
    bool local = !strstr(wh, "://");
    if (!local && !g_catalog_uri)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "warehouse '%s' is not a local directory: name the catalog with "
                          "--catalog URI", wh);
    if (local) {
        if (make_dirs(wh, err) != 0) return -1;
        char abs[PATH_MAX];
        if (!realpath(wh, abs))
            return FIRN_RAISE(err, FIRN_ERR_IO, "warehouse '%s': %s", wh, strerror(errno));
        wh = firn_arena_strdup(&env->arena, abs);
    }
    env->warehouse = wh;
    const char *uri = g_catalog_uri;
    if (!uri) {
        firn_buf b;
        firn_buf_init(&b);
        firn_buf_appendf(&b, "sqlite:%s/catalog.db", wh);
        uri = firn_arena_strdup(&env->arena, firn_buf_cstr(&b));
        firn_buf_release(&b);
    }
    env->catalog_uri = uri;
    firn_cat_config cfg = {.warehouse = wh};
    if (firn_cat_open(uri, &cfg, &env->cat, err) != 0) return -1; /* names the URI */
    env->io = firn_io_local_new();
    return 0;
}

void firn_cli_env_close(firn_cli_env *env) {
    firn_cat_free(env->cat);
    firn_io_free(env->io);
    firn_arena_release(&env->arena);
    memset(env, 0, sizeof *env);
}

int firn_cli_parse_ident(firn_cli_env *env, const char *text, firn_cat_ident *out,
                         firn_error *err) {
    if (!strchr(text, '.'))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "'%s' is not a table name: expected NAMESPACE.TABLE", text);
    if (firn_cat_ident_parse(text, &env->arena, out, err) != 0) return -1;
    return firn_cat_check_ident(out, err);
}

int firn_cli_load_table(firn_cli_env *env, const char *text, firn_ice_table **out,
                        firn_error *err) {
    firn_cat_ident id;
    if (firn_cli_parse_ident(env, text, &id, err) != 0) return -1;
    return firn_ice_table_load(env->cat, id.ns, id.name, out, err);
}

int firn_cli_parse_kv(const char *arg, firn_arena *a, const char **key, const char **value,
                      firn_error *err) {
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "property '%s' is not KEY=VALUE", arg);
    *key = firn_arena_strndup(a, arg, (size_t)(eq - arg));
    *value = firn_arena_strdup(a, eq + 1);
    return 0;
}

const char *firn_cli_global_catalog(void) { return g_catalog_uri; }
const char *firn_cli_global_warehouse(void) { return g_warehouse; }
