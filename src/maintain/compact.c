/* compact.c - rewrite small data files: plan the branch head, group its small
 * files by partition, and for each group of partitions read their rows (a scan
 * restricted to those files), write them through the data writer (which rolls
 * files at the target size: the bin packing) and commit a "replace" that the
 * snapshot producer validates against the head (concurrent appends survive, a
 * concurrent delete of a rewritten file aborts the group, whose new files are
 * then deleted). */
#include "maintain/maintain.h"
#include "maintain/maintain_internal.h"
#include "io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct group {
    const firn_ice_data_file *first; /* partition representative */
    const char **paths;
    size_t n, cap;
} group;

static bool same_partition(const firn_ice_data_file *a, const firn_ice_data_file *b) {
    if (a->spec_id != b->spec_id || a->npartition != b->npartition) return false;
    for (size_t i = 0; i < a->npartition; i++)
        if (!firn_ice_value_equal(&a->partition[i], &b->partition[i])) return false;
    return true;
}

static bool keep_task(void *ctx, const firn_ice_scan_task *task) {
    return firn_mt_set_has(ctx, task->file->file_path);
}

/* Producer update that copies the head's firn.source.* summary into the new
 * snapshot at each attempt (the head may have moved). */
typedef struct carry_update {
    firn_ice_update inner;
    firn_ice_producer *p;
    const char *branch;
} carry_update;

static int carry_apply(void *vctx, firn_ice_metadata *md, firn_error *err) {
    carry_update *c = vctx;
    firn_ice_kv kv[256];
    size_t n = firn_mt_source_props(md, c->branch, kv, 256);
    for (size_t i = 0; i < n; i++) firn_ice_producer_set_summary(c->p, kv[i].key, kv[i].value);
    return c->inner.apply(c->inner.ctx, md, err);
}

static void carry_finish(void *vctx, firn_ice_commit_state state) {
    carry_update *c = vctx;
    if (c->inner.finish) c->inner.finish(c->inner.ctx, state);
}

/* Rewrite the files of paths (one or more partitions) in one commit. *conflict is
 * set when a concurrent commit removed one of them (nothing is left behind). */
static int rewrite_group(firn_ice_table *t, const char *branch, bool sort,
                         int64_t target, const firn_mt_set *paths, firn_maintain_result *r,
                         bool *conflict, firn_error *err) {
    *conflict = false;
    if (firn_ice_table_refresh(t, err)) return -(int)err->kind;
    firn_ice_metadata *md = firn_ice_metadata_copy(t->metadata, err);
    if (!md) return -(int)err->kind;
    firn_ice_scan_options so;
    firn_ice_scan_options_init(&so);
    so.ref = branch;
    firn_ice_scan *s = firn_ice_scan_new(md, t->io, &so, err);
    firn_ice_data_writer *w = NULL;
    firn_ice_producer *p = NULL;
    int rc = s ? 0 : -(int)err->kind;
    if (rc == 0) rc = firn_ice_scan_keep_tasks(s, keep_task, (void *)paths, err);
    size_t ntasks = 0;
    const firn_ice_scan_task *tasks = rc == 0 ? firn_ice_scan_tasks(s, &ntasks) : NULL;
    if (rc == 0 && ntasks < 2) goto done; /* removed meanwhile: nothing worth a commit */
    firn_ice_data_writer_options wo = {target, NULL};
    if (rc == 0) {
        w = firn_ice_data_writer_new(md, t->io, &wo, err);
        if (!w) rc = -(int)err->kind;
    }
    const firn_ice_sort_order *order = firn_ice_metadata_default_sort_order(md);
    bool sorted = sort && order && order->nfields > 0;
    firn_mt_rows buffered = {0};
    if (sorted && rc == 0) {
        size_t nf;
        const firn_ice_field *const *fields = firn_ice_scan_fields(s, &nf);
        firn_mt_rows_init(&buffered, fields, nf);
    }
    while (rc == 0) {
        firn_ice_scan_batch b;
        int got = firn_ice_scan_next_batch(s, &b, err);
        if (got < 0) rc = got;
        if (got <= 0) break;
        if (sorted) firn_mt_rows_append(&buffered, b.columns, b.nrows);
        else rc = firn_ice_data_writer_write(w, b.columns, b.nrows, err);
    }
    if (sorted) {
        if (rc == 0 && w) {
            uint32_t *perm = firn_mt_rows_sort(&buffered, order);
            rc = firn_mt_rows_write(&buffered, perm, w, err);
            free(perm);
        }
        firn_mt_rows_release(&buffered);
    }
    const firn_ice_data_file *files = NULL;
    size_t nfiles = 0;
    if (rc == 0) rc = firn_ice_data_writer_close(w, &files, &nfiles, err);
    if (rc) {
        FIRN_WRAP(err, err->kind, "compact: cannot rewrite %zu data files", ntasks);
        goto done;
    }
    firn_io_crash_point("compact.after-write");
    if (firn_mt_test_hook) firn_mt_test_hook("compact.before-commit");
    p = firn_ice_producer_new(t, branch, "replace", err);
    if (!p) rc = -(int)err->kind;
    for (size_t i = 0; i < ntasks && rc == 0; i++)
        rc = firn_ice_producer_remove_file(p, tasks[i].file->file_path, err);
    for (size_t i = 0; i < nfiles && rc == 0; i++) rc = firn_ice_producer_add_file(p, &files[i], err);
    if (rc == 0) {
        firn_ice_producer_set_summary(p, "firn.maintenance", "compact");
        carry_update cu = {firn_ice_producer_update(p), p, branch};
        firn_ice_update u = {carry_apply, carry_finish, &cu};
        firn_ice_commit_info info = {0};
        rc = firn_ice_table_commit(t, &u, 1, &info, err);
        if (rc == 0) {
            r->files_rewritten += ntasks;
            r->files_written += nfiles;
            r->groups_committed++;
            r->commits++;
            firn_io_crash_point("compact.after-commit");
        } else if (info.state == FIRN_ICE_COMMIT_UNKNOWN) {
            firn_ice_data_writer_free(w); /* closed: its files stay (they may be committed) */
            w = NULL;
        } else if (err->kind == FIRN_ERR_CONFLICT && !err->retriable) {
            *conflict = true;
        }
    }
    if (rc && w) firn_ice_data_writer_abort(w); /* a definite failure: no garbage */
done:
    firn_ice_producer_free(p);
    firn_ice_data_writer_free(w);
    firn_ice_scan_free(s);
    firn_ice_metadata_free(md);
    return rc;
}

int firn_maintain_compact(firn_ice_table *t, const firn_maintain_options *o,
                          firn_maintain_result *r, firn_error *err) {
    firn_maintain_options dflt;
    o = firn_mt_options(o, &dflt);
    uint64_t t0 = firn_now_ns();
    const char *branch = o->branch ? o->branch : FIRN_ICE_MAIN_BRANCH;
    if (firn_ice_table_refresh(t, err)) return -(int)err->kind;
    if (!firn_ice_metadata_ref(t->metadata, branch)) return 0; /* empty table */
    int64_t target = o->target_size > 0
                         ? o->target_size
                         : firn_ice_metadata_property_int(t->metadata, "write.target-file-size-bytes",
                                                          536870912);
    int64_t small = target / 4 * 3;
    size_t min_in = o->min_input_files > 0 ? (size_t)o->min_input_files : 2;
    size_t per_commit = o->partitions_per_commit ? o->partitions_per_commit : 16;

    firn_ice_scan_options so;
    firn_ice_scan_options_init(&so);
    so.ref = branch;
    so.where = o->where;
    firn_ice_scan *s = firn_ice_scan_table(t, &so, err);
    if (!s) return FIRN_WRAP(err, err->kind, "compact: cannot plan the files of %s", branch);
    size_t ntasks;
    const firn_ice_scan_task *tasks = firn_ice_scan_tasks(s, &ntasks);
    group *groups = NULL;
    size_t ng = 0, capg = 0;
    for (size_t i = 0; i < ntasks; i++) {
        const firn_ice_data_file *df = tasks[i].file;
        if (tasks[i].ndeletes || df->content != FIRN_ICE_CONTENT_DATA ||
            df->spec_id != t->metadata->default_spec_id || df->file_size_in_bytes >= small)
            continue;
        size_t g = 0;
        while (g < ng && !same_partition(groups[g].first, df)) g++;
        if (g == ng) {
            if (ng == capg) {
                capg = capg ? 2 * capg : 16;
                groups = firn_xrealloc(groups, capg * sizeof *groups);
            }
            memset(&groups[ng++], 0, sizeof *groups);
            groups[g].first = df;
        }
        group *gr = &groups[g];
        if (gr->n == gr->cap) {
            gr->cap = gr->cap ? 2 * gr->cap : 8;
            gr->paths = firn_xrealloc(gr->paths, gr->cap * sizeof *gr->paths);
        }
        gr->paths[gr->n++] = df->file_path;
    }
    int rc = 0;
    size_t g = 0;
    while (g < ng && rc == 0) {
        firn_mt_set chunk = {0};
        size_t parts = 0, nfiles = 0;
        for (; g < ng && parts < per_commit; g++) {
            if (groups[g].n < min_in) continue;
            for (size_t i = 0; i < groups[g].n; i++) firn_mt_set_add(&chunk, groups[g].paths[i], -1);
            nfiles += groups[g].n;
            parts++;
        }
        if (parts && o->dry_run) {
            r->files_rewritten += nfiles;
        } else if (parts) {
            bool conflict = false;
            rc = rewrite_group(t, branch, o->sort, target, &chunk, r, &conflict, err);
            if (rc && conflict) { /* that group only: the others go on */
                r->groups_conflicted++;
                firn_error_release(err);
                firn_error_init(err);
                rc = 0;
            }
        }
        firn_mt_set_release(&chunk);
    }
    for (size_t i = 0; i < ng; i++) free(groups[i].paths);
    free(groups);
    firn_ice_scan_free(s);
    r->duration_ms += (int64_t)((firn_now_ns() - t0) / 1000000);
    return rc;
}
