/* cmd_config.c - `firn config`: check a firn.yaml and read its effective values.
 *
 *   firn config check [FILE]      load FILE (default ./firn.yaml, which must exist) with the
 *                                 same loader as every command: unknown keys, bad values and
 *                                 bad rules fail with file:line; prints "FILE: ok"
 *   firn config get KEY [--config FILE] [--set KEY=VALUE]...
 *                                 the effective value of one scalar or kafka.* key: sizes in
 *                                 bytes, durations in microseconds ("90000000us"), enums and
 *                                 booleans by name
 *   firn config keys              every scalar key firn knows, one a line
 *   firn config types [FILE]      one line per event type: name, topic, table, untrusted table
 *                                 (after merging FILE's types over the built-in ones)
 *
 * Deployment checks (deploy/check.py) run these on the firn.yaml a ConfigMap carries.
 */
#include "cli/cli.h"
#include "config/config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: firn config check [FILE]\n"
    "       firn config get KEY [--config FILE] [--set KEY=VALUE]...\n"
    "       firn config keys\n"
    "       firn config types [FILE]\n";

static void print_value(const firn_config *c, const firn_config_key *k) {
    const char *p = (const char *)c + k->offset;
    switch (k->kind) {
    case FIRN_CFG_STRING: {
        const char *s = *(char *const *)(const void *)p;
        printf("%s\n", s ? s : "");
        return;
    }
    case FIRN_CFG_INT:
    case FIRN_CFG_SIZE: printf("%" PRId64 "\n", *(const int64_t *)(const void *)p); return;
    case FIRN_CFG_DURATION: printf("%" PRId64 "us\n", *(const int64_t *)(const void *)p); return;
    case FIRN_CFG_DOUBLE: printf("%.17g\n", *(const double *)(const void *)p); return;
    case FIRN_CFG_BOOL: printf("%s\n", *(const bool *)(const void *)p ? "true" : "false"); return;
    case FIRN_CFG_ENUM: { /* the index-th name of "a|b|c" */
        int idx = *(const int *)(const void *)p;
        const char *v = k->values;
        for (int i = 0; i < idx && v; i++) {
            v = strchr(v, '|');
            if (v) v++;
        }
        if (!v) v = "?";
        printf("%.*s\n", (int)strcspn(v, "|"), v);
        return;
    }
    }
}

static int config_get(int argc, char **argv) {
    const char *key = NULL, *path = "firn.yaml";
    bool given = false;
    const char *sets[64];
    int nsets = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc) path = argv[++i], given = true;
        else if (!strcmp(argv[i], "--set") && i + 1 < argc && nsets < 64) sets[nsets++] = argv[++i];
        else if (!key && argv[i][0] != '-') key = argv[i];
        else return firn_cli_usage(usage);
    }
    if (!key) return firn_cli_usage(usage);
    firn_error err;
    firn_error_init(&err);
    firn_config *c = NULL;
    if (firn_config_load(path, given, &c, &err)) return firn_cli_fail("config", &err);
    for (int i = 0; i < nsets; i++) {
        char k[256];
        const char *eq = strchr(sets[i], '=');
        if (!eq || (size_t)(eq - sets[i]) >= sizeof k) {
            firn_config_free(c);
            return firn_cli_usage(usage);
        }
        memcpy(k, sets[i], (size_t)(eq - sets[i]));
        k[eq - sets[i]] = 0;
        if (firn_config_set(c, k, eq + 1, &err)) {
            firn_config_free(c);
            return firn_cli_fail("config", &err);
        }
    }
    int rc = 1;
    if (!strncmp(key, "kafka.", 6)) {
        for (size_t i = 0; c->kafka_conf && c->kafka_conf[i]; i += 2)
            if (!strcmp(c->kafka_conf[i], key + 6)) {
                printf("%s\n", c->kafka_conf[i + 1]);
                rc = 0;
            }
        if (rc) fprintf(stderr, "firn: config: %s: kafka.%s is not set\n", c->path, key + 6);
    } else {
        size_t n;
        const firn_config_key *keys = firn_config_keys(&n);
        for (size_t i = 0; i < n; i++)
            if (!strcmp(keys[i].name, key)) {
                print_value(c, &keys[i]);
                rc = 0;
            }
        if (rc) fprintf(stderr, "firn: config: unknown key '%s'. See 'firn config keys'.\n", key);
    }
    firn_config_free(c);
    return rc;
}

int firn_cmd_config(int argc, char **argv) {
    if (argc < 2) return firn_cli_usage(usage);
    const char *sub = argv[1];
    if (!strcmp(sub, "check")) {
        if (argc > 3) return firn_cli_usage(usage);
        const char *path = argc == 3 ? argv[2] : "firn.yaml";
        firn_error err;
        firn_error_init(&err);
        firn_config *c = NULL;
        if (firn_config_load(path, true, &c, &err)) return firn_cli_fail("config", &err);
        printf("%s: ok (%zu event types, %zu kafka keys)\n", path, c->ntypes, c->nkafka);
        firn_config_free(c);
        return 0;
    }
    if (!strcmp(sub, "get")) return config_get(argc - 1, argv + 1);
    if (!strcmp(sub, "types") && argc <= 3) {
        firn_error err;
        firn_error_init(&err);
        firn_config *c = NULL;
        if (firn_config_load(argc == 3 ? argv[2] : "firn.yaml", argc == 3, &c, &err))
            return firn_cli_fail("config", &err);
        for (size_t i = 0; i < c->ntypes; i++)
            printf("%s %s %s %s\n", c->types[i].name, c->types[i].topic, c->types[i].table,
                   c->types[i].untrusted_table);
        firn_config_free(c);
        return 0;
    }
    if (!strcmp(sub, "keys") && argc == 2) {
        size_t n;
        const firn_config_key *keys = firn_config_keys(&n);
        for (size_t i = 0; i < n; i++) printf("%s\n", keys[i].name);
        return 0;
    }
    return firn_cli_usage(usage);
}
