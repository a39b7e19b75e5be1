/* cmd_branch.c - `firn branch ...` and `firn tag ...`: a table's refs.
 *
 *   firn branch create TABLE NAME [--snapshot ID]   at ID, else at the current snapshot
 *   firn branch ff TABLE TARGET SOURCE              fast-forward TARGET to SOURCE's snapshot
 *                                                   (only when TARGET is an ancestor of it)
 *   firn branch list TABLE                          branches and tags with their snapshots
 *   firn branch drop TABLE NAME                     never main
 *   firn tag create TABLE NAME [--snapshot ID]
 *   firn tag drop TABLE NAME
 */
#include "cli/cli.h"
#include "iceberg/iceberg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char branch_usage[] =
    "usage: firn branch create TABLE NAME [--snapshot ID]\n"
    "       firn branch ff TABLE TARGET SOURCE\n"
    "       firn branch list TABLE\n"
    "       firn branch drop TABLE NAME\n";
static const char tag_usage[] =
    "usage: firn tag create TABLE NAME [--snapshot ID]\n"
    "       firn tag drop TABLE NAME\n";

static int parse_snapshot_id(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno) return -1;
    *out = v;
    return 0;
}

static int list_refs(firn_cli_env *env, const char *table, firn_error *err) {
    firn_ice_table *t;
    if (firn_cli_load_table(env, table, &t, err) != 0) return firn_cli_fail("branch list", err);
    for (size_t i = 0; i < t->metadata->nrefs; i++) {
        const firn_ice_ref *r = t->metadata->refs[i];
        printf("%-20s %-6s %lld\n", r->name, r->type == FIRN_ICE_REF_TAG ? "tag" : "branch",
               (long long)r->snapshot_id);
    }
    firn_ice_table_free(t);
    return 0;
}

/* create / drop / ff for either kind. */
static int run(firn_ice_ref_type type, int argc, char **argv) {
    const char *usage = type == FIRN_ICE_REF_TAG ? tag_usage : branch_usage;
    const char *kind = type == FIRN_ICE_REF_TAG ? "tag" : "branch";
    if (argc < 2) return firn_cli_usage(usage);
    const char *sub = argv[1];
    const char *pos[3] = {0};
    int npos = 0;
    const char *snap = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--snapshot") == 0 && i + 1 < argc) snap = argv[++i];
        else if (argv[i][0] != '-' && npos < 3) pos[npos++] = argv[i];
        else return firn_cli_usage(usage);
    }
    firn_ice_ref_update ru = {.type = type, .snapshot_id = -1};
    char what[64];
    snprintf(what, sizeof what, "%s %s", kind, sub);
    if (strcmp(sub, "create") == 0 && npos == 2) {
        ru.op = FIRN_ICE_REF_CREATE;
        ru.name = pos[1];
        if (snap && parse_snapshot_id(snap, &ru.snapshot_id) != 0) {
            fprintf(stderr, "firn: %s: --snapshot wants a snapshot id, not '%s'\n", what, snap);
            return 2;
        }
    } else if (strcmp(sub, "drop") == 0 && npos == 2 && !snap) {
        ru.op = FIRN_ICE_REF_REMOVE;
        ru.name = pos[1];
    } else if (type == FIRN_ICE_REF_BRANCH && strcmp(sub, "ff") == 0 && npos == 3 && !snap) {
        ru.op = FIRN_ICE_REF_FAST_FORWARD;
        ru.name = pos[1];
        ru.source = pos[2];
    } else if (type == FIRN_ICE_REF_BRANCH && strcmp(sub, "list") == 0 && npos == 1 && !snap) {
        ru.op = 0;
    } else {
        if (strcmp(sub, "create") && strcmp(sub, "drop") && strcmp(sub, "ff") && strcmp(sub, "list"))
            fprintf(stderr, "firn: %s: unknown subcommand '%s'\n", kind, sub);
        return firn_cli_usage(usage);
    }
    firn_error err;
    firn_error_init(&err);
    firn_cli_env env;
    int rc = 0;
    firn_ice_table *t = NULL;
    if (firn_cli_env_open(&env, &err) != 0) {
        rc = firn_cli_fail(kind, &err);
    } else if (ru.op == 0) {
        rc = list_refs(&env, pos[0], &err);
    } else if (firn_cli_load_table(&env, pos[0], &t, &err) != 0) {
        rc = firn_cli_fail(what, &err);
    } else if (ru.op == FIRN_ICE_REF_CREATE && ru.snapshot_id == -1 &&
               t->metadata->current_snapshot_id == -1) {
        FIRN_RAISE(&err, FIRN_ERR_INVALID, "table %s has no snapshot yet: append first", pos[0]);
        rc = firn_cli_fail(what, &err);
    } else if (firn_ice_table_update_ref(t, &ru, &err) != 0) {
        rc = firn_cli_fail(what, &err);
    } else {
        const firn_ice_ref *r = firn_ice_metadata_ref(t->metadata, ru.name);
        if (ru.op == FIRN_ICE_REF_REMOVE)
            printf("dropped %s %s of %s\n", kind, ru.name, pos[0]);
        else if (ru.op == FIRN_ICE_REF_CREATE)
            printf("created %s %s of %s at snapshot %lld\n", kind, ru.name, pos[0],
                   (long long)(r ? r->snapshot_id : -1));
        else
            printf("fast-forwarded %s of %s to %s: snapshot %lld\n", ru.name, pos[0], ru.source,
                   (long long)(r ? r->snapshot_id : -1));
    }
    firn_ice_table_free(t);
    firn_cli_env_close(&env);
    firn_error_release(&err);
    return rc;
}

int firn_cmd_branch(int argc, char **argv) { return run(FIRN_ICE_REF_BRANCH, argc, argv); }
int firn_cmd_tag(int argc, char **argv) { return run(FIRN_ICE_REF_TAG, argc, argv); }
