/* cmd_publish.c - `firn publish`: the catalog-wide merge (the paper's Nessie
 * merge of dev into main). Every table of the namespace whose branch is ahead
 * of main is fast-forwarded, in one multi-table catalog commit: all or none
 * (firn_ice_publish in iceberg.h; the server's POST /api/v1/admin/publish
 * does the same).
 *
 *   firn publish [--branch dev] [--namespace production] [--dry-run]
 */
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "iceberg/iceberg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] = "usage: firn publish [--branch NAME] [--namespace NS] [--dry-run]\n";

int firn_cmd_publish(int argc, char **argv) {
    const char *branch = "dev", *ns = "production";
    bool dry = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--branch") == 0 && i + 1 < argc) branch = argv[++i];
        else if (strcmp(argv[i], "--namespace") == 0 && i + 1 < argc) ns = argv[++i];
        else if (strcmp(argv[i], "--dry-run") == 0) dry = true;
        else return firn_cli_usage(usage);
    }
    firn_error err;
    firn_error_init(&err);
    firn_cli_env env;
    if (firn_cli_env_open(&env, &err)) return firn_cli_fail("publish", &err);
    firn_ice_publish_result res;
    int rc = firn_ice_publish(env.cat, ns, branch, dry, &res, &err);
    if (rc == 0) {
        for (size_t i = 0; i < res.ntables; i++)
            printf("%s: main %lld -> %lld\n", res.tables[i].name,
                   (long long)res.tables[i].from_snapshot_id, (long long)res.tables[i].to_snapshot_id);
        printf("%s %zu table%s of %s\n", dry ? "would publish" : "published", res.ntables,
               res.ntables == 1 ? "" : "s", ns);
    }
    firn_ice_publish_release(&res);
    firn_cli_env_close(&env);
    return rc ? firn_cli_fail("publish", &err) : 0;
}
