/* cmd_maintain.c - `firn maintain <op> TABLE... [--dry-run]`: table maintenance
 * (src/maintain). One summary line per table and operation; --verbose (and
 * --dry-run) also print every file deleted (or that would be), one per line,
 * prefixed "delete ". See docs/cli/maintain.md.
 */
#include "cli/cli.h"
#include "iceberg/iceberg.h"
#include "maintain/maintain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: firn maintain expire-snapshots TABLE... [--older-than DURATION] [--retain-last N]\n"
    "                                     [--min-age DURATION]\n"
    "       firn maintain remove-orphans TABLE... [--older-than DURATION]\n"
    "       firn maintain compact TABLE... [--target-size BYTES] [--where EXPR]\n"
    "                                    [--min-files N] [--partitions-per-commit N] [--sort]\n"
    "       firn maintain rewrite-manifests TABLE...\n"
    "       firn maintain clean-metadata TABLE...\n"
    "       firn maintain all TABLE... [--older-than DURATION (orphan margin)]\n"
    "  every operation: [--dry-run] [--verbose] [--branch NAME (compact, rewrite-manifests)]\n";

static int parse_count(const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < 0) return -1;
    *out = v;
    return 0;
}

static void print_result(const char *op, const char *table, const firn_maintain_result *r,
                         bool dry, bool verbose) {
    for (size_t i = 0; (verbose || dry) && i < r->npaths; i++) printf("delete %s\n", r->paths[i]);
    printf("%s%s %s:", dry ? "dry-run " : "", op, table);
    if (r->snapshots_expired || r->refs_removed)
        printf(" snapshots-expired=%zu refs-removed=%zu", r->snapshots_expired, r->refs_removed);
    if (r->files_rewritten || r->groups_committed || r->groups_conflicted)
        printf(" files-rewritten=%zu files-written=%zu commits=%zu conflicts=%zu", r->files_rewritten,
               r->files_written, r->groups_committed, r->groups_conflicted);
    if (r->manifests_rewritten)
        printf(" manifests-rewritten=%zu manifests-written=%zu", r->manifests_rewritten,
               r->manifests_written);
    printf(" data-files-deleted=%zu manifests-deleted=%zu manifest-lists-deleted=%zu"
           " metadata-files-deleted=%zu orphans-deleted=%zu bytes-reclaimed=%lld duration-ms=%lld\n",
           r->data_files_deleted, r->manifests_deleted, r->manifest_lists_deleted,
           r->metadata_files_deleted, r->orphans_deleted, (long long)r->bytes_reclaimed,
           (long long)r->duration_ms);
}

int firn_cmd_maintain(int argc, char **argv) {
    if (argc < 3) return firn_cli_usage(usage);
    const char *op = argv[1];
    static const char *const ops[] = {"expire-snapshots", "remove-orphans", "compact",
                                      "rewrite-manifests", "clean-metadata", "all"};
    bool known = false;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) known = known || strcmp(op, ops[i]) == 0;
    if (!known) {
        fprintf(stderr, "firn: maintain: unknown operation '%s'\n", op);
        return firn_cli_usage(usage);
    }
    firn_maintain_options o;
    firn_maintain_options_init(&o);
    o.keep_paths = true;
    bool verbose = false;
    const char **tables = calloc((size_t)argc, sizeof *tables);
    size_t ntables = 0;
    firn_error err;
    firn_error_init(&err);
    int status = 0;
    for (int i = 2; i < argc && status == 0; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        long long n;
        int64_t ms;
        if (strcmp(a, "--dry-run") == 0) o.dry_run = true;
        else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) verbose = true;
        else if (strcmp(a, "--older-than") == 0 && has) {
            if (firn_maintain_parse_duration(argv[++i], &ms, &err)) status = firn_cli_fail("maintain", &err) + 1;
            else if (strcmp(op, "expire-snapshots") == 0) o.older_than_ms = ms;
            else o.orphan_margin_ms = ms;
        } else if (strcmp(a, "--min-age") == 0 && has) {
            if (firn_maintain_parse_duration(argv[++i], &ms, &err)) status = firn_cli_fail("maintain", &err) + 1;
            else o.min_snapshot_age_ms = ms;
        } else if (strcmp(a, "--retain-last") == 0 && has) {
            if (parse_count(argv[++i], &n) || n > 1000000000) status = firn_cli_usage(usage);
            else o.retain_last = (int)n;
        } else if (strcmp(a, "--target-size") == 0 && has) {
            if (parse_count(argv[++i], &n) || n == 0) status = firn_cli_usage(usage);
            else o.target_size = n;
        } else if (strcmp(a, "--min-files") == 0 && has) {
            if (parse_count(argv[++i], &n) || n > 1000000) status = firn_cli_usage(usage);
            else o.min_input_files = (int)n;
        } else if (strcmp(a, "--partitions-per-commit") == 0 && has) {
            if (parse_count(argv[++i], &n) || n == 0) status = firn_cli_usage(usage);
            else o.partitions_per_commit = (size_t)n;
        } else if (strcmp(a, "--where") == 0 && has) o.where = argv[++i];
        else if (strcmp(a, "--branch") == 0 && has) o.branch = argv[++i];
        else if (strcmp(a, "--sort") == 0) o.sort = true;
        else if (a[0] == '-') status = firn_cli_usage(usage);
        else tables[ntables++] = a;
    }
    if (status == 0 && ntables == 0) status = firn_cli_usage(usage);
    if (status) {
        free(tables);
        return status;
    }
    firn_cli_env env;
    if (firn_cli_env_open(&env, &err) != 0) {
        free(tables);
        return firn_cli_fail("maintain", &err);
    }
    for (size_t k = 0; k < ntables && status == 0; k++) {
        firn_ice_table *t;
        char what[300];
        snprintf(what, sizeof what, "maintain %s %s", op, tables[k]);
        if (firn_cli_load_table(&env, tables[k], &t, &err) != 0) {
            status = firn_cli_fail(what, &err);
            break;
        }
        firn_maintain_result r = {0};
        int rc;
        if (strcmp(op, "expire-snapshots") == 0) rc = firn_maintain_expire_snapshots(t, &o, &r, &err);
        else if (strcmp(op, "remove-orphans") == 0) rc = firn_maintain_remove_orphans(t, &o, &r, &err);
        else if (strcmp(op, "compact") == 0) rc = firn_maintain_compact(t, &o, &r, &err);
        else if (strcmp(op, "rewrite-manifests") == 0) rc = firn_maintain_rewrite_manifests(t, &o, &r, &err);
        else if (strcmp(op, "clean-metadata") == 0) rc = firn_maintain_clean_metadata(t, &o, &r, &err);
        else rc = firn_maintain_all(t, &o, &r, &err);
        if (rc) status = firn_cli_fail(what, &err);
        else print_result(op, tables[k], &r, o.dry_run, verbose);
        firn_maintain_result_release(&r);
        firn_ice_table_free(t);
    }
    firn_cli_env_close(&env);
    free(tables);
    return status;
}
