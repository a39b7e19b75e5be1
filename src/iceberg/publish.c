/* publish.c - the catalog-wide fast-forward of main to a branch (iceberg.h's
 * PUBLISH): the paper's Nessie merge of dev into main, in one multi-table
 * catalog commit. */
#include "catalog/catalog.h"
#include "iceberg/iceberg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void firn_ice_publish_release(firn_ice_publish_result *r) {
    if (!r) return;
    for (size_t i = 0; i < r->ntables; i++) free(r->tables[i].name);
    free(r->tables);
    memset(r, 0, sizeof *r);
}

int firn_ice_publish(struct firn_catalog *cat, const char *ns, const char *branch, bool dry_run,
                     firn_ice_publish_result *out, firn_error *err) {
    memset(out, 0, sizeof *out);
    firn_arena a;
    firn_arena_init(&a, 0);
    const char **names = NULL;
    size_t n = 0;
    int rc = firn_cat_list_tables(cat, ns, &a, &names, &n, err);
    if (rc) {
        firn_arena_release(&a);
        return rc;
    }
    out->tables_seen = n;
    firn_ice_table **tables = firn_xcalloc(n + 1, sizeof *tables);
    firn_ice_table_change *changes = firn_xcalloc(n + 1, sizeof *changes);
    firn_ice_update *updates = firn_xcalloc(n + 1, sizeof *updates);
    out->tables = firn_xcalloc(n + 1, sizeof *out->tables);
    firn_ice_ref_update ru = {.op = FIRN_ICE_REF_FAST_FORWARD, .type = FIRN_ICE_REF_BRANCH,
                              .name = FIRN_ICE_MAIN_BRANCH, .snapshot_id = -1, .source = branch};
    size_t nch = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = firn_ice_table_load(cat, ns, names[i], &tables[i], err);
        if (rc) break;
        const firn_ice_metadata *md = tables[i]->metadata;
        const firn_ice_ref *b = firn_ice_metadata_ref(md, branch);
        if (!b || b->type != FIRN_ICE_REF_BRANCH) continue;
        int64_t head = md->current_snapshot_id;
        if (b->snapshot_id == head) continue; /* not ahead */
        if (head >= 0 && !firn_ice_metadata_is_ancestor(md, head, b->snapshot_id)) {
            rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                            "%s.%s: main (%lld) is not an ancestor of %s (%lld): main has moved; "
                            "nothing was published", ns, names[i], (long long)head, branch,
                            (long long)b->snapshot_id);
            break;
        }
        size_t len = strlen(ns) + strlen(names[i]) + 2;
        firn_ice_publish_table *pt = &out->tables[out->ntables++];
        pt->name = firn_xmalloc(len);
        snprintf(pt->name, len, "%s.%s", ns, names[i]);
        pt->from_snapshot_id = head;
        pt->to_snapshot_id = b->snapshot_id;
        updates[nch] = firn_ice_update_ref(&ru);
        changes[nch] = (firn_ice_table_change){tables[i], &updates[nch], 1};
        nch++;
    }
    if (rc == 0 && nch && !dry_run) {
        rc = firn_ice_table_commit_multi(changes, nch, NULL, err);
        /* a REST server that lacks transactions/commit after all (the first
         * attempt found out and committed nothing): table by table */
        if (rc && err->kind == FIRN_ERR_UNSUPPORTED && !firn_cat_atomic_multi(cat)) {
            fprintf(stderr, "firn: publish: no multi-table commits on this catalog: publishing "
                            "table by table\n");
            firn_error_release(err);
            firn_error_init(err);
            rc = firn_ice_table_commit_multi(changes, nch, NULL, err);
        }
    }
    for (size_t i = 0; i < n; i++) firn_ice_table_free(tables[i]);
    free(tables);
    free(changes);
    free(updates);
    firn_arena_release(&a);
    if (rc) firn_ice_publish_release(out);
    return rc;
}
