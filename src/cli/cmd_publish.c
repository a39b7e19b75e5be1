/* cmd_publish.c - `firn publish`: the catalog-wide merge (the paper's Nessie
 * merge of dev into main). Every table of the namespace whose branch is ahead
 * of main is fast-forwarded, in one multi-table catalog commit: all or none.
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
    const char **names = NULL;
    size_t n = 0;
    int rc = firn_cat_list_tables(env.cat, ns, &env.arena, &names, &n, &err);
    if (rc) {
        firn_cli_env_close(&env);
        return firn_cli_fail("publish", &err);
    }
    firn_ice_table **tables = firn_xcalloc(n + 1, sizeof *tables);
    firn_ice_table_change *changes = firn_xcalloc(n + 1, sizeof *changes);
    firn_ice_update *updates = firn_xcalloc(n + 1, sizeof *updates);
    firn_ice_ref_update ru = {.op = FIRN_ICE_REF_FAST_FORWARD, .type = FIRN_ICE_REF_BRANCH,
                              .name = FIRN_ICE_MAIN_BRANCH, .snapshot_id = -1, .source = branch};
    size_t nch = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = firn_ice_table_load(env.cat, ns, names[i], &tables[i], &err);
        if (rc) break;
        const firn_ice_metadata *md = tables[i]->metadata;
        const firn_ice_ref *b = firn_ice_metadata_ref(md, branch);
        if (!b || b->type != FIRN_ICE_REF_BRANCH) continue;
        int64_t head = md->current_snapshot_id;
        if (b->snapshot_id == head) continue; /* not ahead */
        if (head >= 0 && !firn_ice_metadata_is_ancestor(md, head, b->snapshot_id)) {
            rc = FIRN_RAISE(&err, FIRN_ERR_CONFLICT,
                            "%s.%s: main (%lld) is not an ancestor of %s (%lld): main has moved; "
                            "nothing was published", ns, names[i], (long long)head, branch,
                            (long long)b->snapshot_id);
            break;
        }
        printf("%s.%s: main %lld -> %lld\n", ns, names[i], (long long)head,
               (long long)b->snapshot_id);
        updates[nch] = firn_ice_update_ref(&ru);
        changes[nch] = (firn_ice_table_change){tables[i], &updates[nch], 1};
        nch++;
    }
    if (rc == 0 && nch && !dry) {
        rc = firn_ice_table_commit_multi(changes, nch, NULL, &err);
        /* a REST server that lacks transactions/commit after all: table by table */
        if (rc && err.kind == FIRN_ERR_UNSUPPORTED && !firn_cat_atomic_multi(env.cat)) {
            fprintf(stderr, "firn publish: no multi-table commits on this catalog: publishing "
                            "table by table\n");
            firn_error_release(&err);
            firn_error_init(&err);
            rc = firn_ice_table_commit_multi(changes, nch, NULL, &err);
        }
    }
    if (rc == 0)
        printf("%s %zu table%s of %s\n", dry ? "would publish" : "published", nch,
               nch == 1 ? "" : "s", ns);
    for (size_t i = 0; i < n; i++) firn_ice_table_free(tables[i]);
    free(tables);
    free(changes);
    free(updates);
    firn_cli_env_close(&env);
    return rc ? firn_cli_fail("publish", &err) : 0;
}
