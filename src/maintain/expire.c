/* expire.c - expire-snapshots: choose the snapshots the retention policy lets go
 * (Java's RemoveSnapshots rules), commit their removal, then delete exactly the
 * manifest lists, manifests and data files that the removed snapshots reached and
 * no remaining snapshot does (both sets computed, then compared). */
#include "maintain/maintain.h"
#include "maintain/maintain_internal.h"
#include "io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (24LL * 3600 * 1000)

typedef struct expire_ctx {
    const firn_maintain_options *o;
    int64_t now;
    /* filled by each apply */
    int64_t *ids;
    size_t nids;
    char **lists; /* manifest lists of the removed snapshots */
    size_t nlists;
    size_t refs_removed;
} expire_ctx;

static void ctx_clear(expire_ctx *c) {
    for (size_t i = 0; i < c->nlists; i++) free(c->lists[i]);
    free(c->lists);
    free(c->ids);
    c->lists = NULL;
    c->ids = NULL;
    c->nlists = c->nids = c->refs_removed = 0;
}

static int64_t positive(int64_t ref_value, int64_t table_value) {
    return ref_value > 0 ? ref_value : table_value;
}

/* Mark what md's refs retain; remove expired refs (md changes). */
static int plan(expire_ctx *c, firn_ice_metadata *md, firn_error *err) {
    const firn_maintain_options *o = c->o;
    bool explicit_age = o->older_than_ms >= 0;
    int64_t max_age = explicit_age ? o->older_than_ms
                                   : firn_ice_metadata_property_int(
                                         md, "history.expire.max-snapshot-age-ms", 5 * DAY_MS);
    int64_t min_keep = o->retain_last >= 0 ? o->retain_last
                                           : firn_ice_metadata_property_int(
                                                 md, "history.expire.min-snapshots-to-keep", 1);
    int64_t max_ref_age = firn_ice_metadata_property_int(md, "history.expire.max-ref-age-ms",
                                                         INT64_MAX);
    int64_t floor = explicit_age ? 0
                    : o->min_snapshot_age_ms >= 0 ? o->min_snapshot_age_ms
                                                  : FIRN_MAINTAIN_DEFAULT_MIN_SNAPSHOT_AGE_MS;

    /* refs past their max age (never main) */
    for (size_t i = 0; i < md->nrefs;) {
        const firn_ice_ref *ref = md->refs[i];
        const firn_ice_snapshot *s = firn_ice_metadata_snapshot(md, ref->snapshot_id);
        int64_t age = s ? c->now - s->timestamp_ms : 0;
        int64_t limit = positive(ref->max_ref_age_ms, max_ref_age);
        if (strcmp(ref->name, FIRN_ICE_MAIN_BRANCH) != 0 && s && age > limit && age >= floor) {
            if (firn_ice_metadata_remove_snapshot_ref(md, ref->name, err)) return -(int)err->kind;
            c->refs_removed++;
            continue; /* refs shifted down */
        }
        i++;
    }

    size_t n = md->nsnapshots;
    bool *keep = firn_xcalloc(n + 1, sizeof *keep);
    bool *on_branch = firn_xcalloc(n + 1, sizeof *on_branch);
#define INDEX_OF(id, out)                                                                    \
    do {                                                                                     \
        (out) = n;                                                                           \
        for (size_t q_ = 0; q_ < n; q_++)                                                    \
            if (md->snapshots[q_]->snapshot_id == (id)) (out) = q_;                          \
    } while (0)
    for (size_t i = 0; i < md->nrefs; i++) {
        const firn_ice_ref *ref = md->refs[i];
        size_t k;
        INDEX_OF(ref->snapshot_id, k);
        if (k == n) continue;
        keep[k] = true; /* a head or a tag target always stays */
        if (ref->type == FIRN_ICE_REF_TAG) continue;
        int64_t age_limit = explicit_age ? max_age : positive(ref->max_snapshot_age_ms, max_age);
        int64_t keep_n = o->retain_last >= 0 ? min_keep
                                             : positive(ref->min_snapshots_to_keep, min_keep);
        int64_t count = 0;
        const firn_ice_snapshot *s = md->snapshots[k];
        bool retaining = true;
        for (size_t guard = 0; s && guard <= n; guard++) {
            INDEX_OF(s->snapshot_id, k);
            if (k == n) break;
            on_branch[k] = true;
            int64_t age = c->now - s->timestamp_ms;
            if (retaining && (count < keep_n || age < age_limit || age < floor)) keep[k] = true;
            else retaining = false;
            if (age < floor) keep[k] = true;
            count++;
            s = s->has_parent ? firn_ice_metadata_snapshot(md, s->parent_snapshot_id) : NULL;
        }
    }
#undef INDEX_OF
    /* snapshots no ref reaches: by the table's max age */
    for (size_t i = 0; i < n; i++) {
        if (keep[i] || on_branch[i]) continue;
        int64_t age = c->now - md->snapshots[i]->timestamp_ms;
        if (age < max_age || age < floor) keep[i] = true;
    }
    for (size_t i = 0; i < n; i++) {
        if (keep[i]) continue;
        c->ids = firn_xrealloc(c->ids, (c->nids + 1) * sizeof *c->ids);
        c->ids[c->nids++] = md->snapshots[i]->snapshot_id;
        if (md->snapshots[i]->manifest_list) {
            c->lists = firn_xrealloc(c->lists, (c->nlists + 1) * sizeof *c->lists);
            c->lists[c->nlists++] = firn_xstrdup(md->snapshots[i]->manifest_list);
        }
    }
    free(keep);
    free(on_branch);
    if (c->nids && firn_ice_metadata_remove_snapshots(md, c->ids, c->nids, err))
        return -(int)err->kind;
    return 0;
}

static int expire_apply(void *vctx, firn_ice_metadata *md, firn_error *err) {
    expire_ctx *c = vctx;
    ctx_clear(c);
    return plan(c, md, err);
}

/* Delete one file of set kind; counts and bytes into r. */
static int drop(firn_ice_table *t, const firn_maintain_options *o, firn_maintain_result *r,
                const char *path, int64_t size, size_t *counter, firn_error *err) {
    if (size < 0) {
        firn_io_stat st;
        firn_error e;
        firn_error_init(&e);
        size = firn_io_stat_file(t->io, path, &st, &e) == 0 ? (int64_t)st.size : 0;
        firn_error_release(&e);
    }
    if (!o->dry_run) {
        if (firn_io_delete(t->io, path, err))
            return FIRN_WRAP(err, err->kind, "expire-snapshots: cannot delete %s", path);
        firn_io_crash_point("expire.after-delete");
    }
    (*counter)++;
    r->bytes_reclaimed += size;
    firn_mt_note_path(r, o, path);
    return 0;
}

static int delete_set(firn_ice_table *t, const firn_maintain_options *o, firn_maintain_result *r,
                      const firn_mt_set *cand, const firn_mt_set *kept, size_t *counter,
                      firn_error *err) {
    for (size_t i = 0; i < cand->cap; i++) {
        if (!cand->keys[i] || firn_mt_set_has(kept, cand->keys[i])) continue;
        if (drop(t, o, r, cand->keys[i], cand->sizes[i], counter, err)) return -(int)err->kind;
    }
    return 0;
}

int firn_maintain_expire_snapshots(firn_ice_table *t, const firn_maintain_options *o,
                                   firn_maintain_result *r, firn_error *err) {
    firn_maintain_options dflt;
    o = firn_mt_options(o, &dflt);
    uint64_t t0 = firn_now_ns();
    expire_ctx c = {0};
    c.o = o;
    c.now = firn_mt_now_ms(o);
    if (firn_ice_table_refresh(t, err)) return -(int)err->kind;

    /* plan on a copy first: nothing to expire means no commit */
    firn_ice_metadata *copy = firn_ice_metadata_copy(t->metadata, err);
    if (!copy) return -(int)err->kind;
    int rc = plan(&c, copy, err);
    const firn_ice_metadata *after = copy;
    if (rc == 0 && (c.nids || c.refs_removed) && !o->dry_run) {
        firn_ice_update u = {expire_apply, NULL, &c};
        firn_ice_commit_info info;
        rc = firn_ice_table_commit(t, &u, 1, &info, err);
        if (rc) FIRN_WRAP(err, err->kind, "expire-snapshots: commit failed");
        else r->commits++;
        after = t->metadata;
        if (rc == 0) firn_io_crash_point("expire.after-commit");
    }
    if (rc == 0 && (c.nids || c.refs_removed)) {
        r->snapshots_expired += c.nids;
        r->refs_removed += c.refs_removed;
        firn_mt_reach gone = {0}, kept = {0};
        rc = firn_mt_reach_lists(t->io, after, (const char *const *)c.lists, c.nlists, false,
                                 &gone, err);
        if (rc == 0) rc = firn_mt_reach_all(t->io, after, false, &kept, err);
        if (rc) FIRN_WRAP(err, err->kind,
                          "expire-snapshots: cannot compute the files to delete (the expiry is "
                          "committed; remove-orphans will delete what is left)");
        if (rc == 0) rc = delete_set(t, o, r, &gone.files, &kept.files, &r->data_files_deleted, err);
        if (rc == 0)
            rc = delete_set(t, o, r, &gone.manifests, &kept.manifests, &r->manifests_deleted, err);
        if (rc == 0)
            rc = delete_set(t, o, r, &gone.lists, &kept.lists, &r->manifest_lists_deleted, err);
        firn_mt_reach_release(&gone);
        firn_mt_reach_release(&kept);
    }
    firn_ice_metadata_free(copy);
    ctx_clear(&c);
    r->duration_ms += (int64_t)((firn_now_ns() - t0) / 1000000);
    return rc;
}
