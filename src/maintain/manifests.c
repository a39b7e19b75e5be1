/* manifests.c - rewrite-manifests: the branch head's live data entries, sorted
 * by partition spec and partition tuple, written into manifests of about
 * commit.manifest.target-size-bytes, committed as a "replace" snapshot with the
 * same files (Java's RewriteManifests). Re-planned at each commit attempt, so
 * files appended meanwhile are carried. */
#include "maintain/maintain.h"
#include "maintain/maintain_internal.h"
#include "io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rw_ctx {
    firn_ice_table *t;
    const char *branch;
    int64_t snapshot_id;
    char uuid[37];
    int attempts;
    char **written;
    size_t nwritten;
    char **landed;
    size_t nlanded;
    size_t replaced, created;
} rw_ctx;

static void push(char ***arr, size_t *n, const char *s) {
    *arr = firn_xrealloc(*arr, (*n + 1) * sizeof **arr);
    (*arr)[(*n)++] = firn_xstrdup(s);
}

static void clear(char ***arr, size_t *n) {
    for (size_t i = 0; i < *n; i++) free((*arr)[i]);
    *n = 0;
}

static int cmp_entries(const void *pa, const void *pb) {
    const firn_ice_manifest_entry *a = pa, *b = pb;
    if (a->data_file.spec_id != b->data_file.spec_id)
        return a->data_file.spec_id < b->data_file.spec_id ? -1 : 1;
    size_t n = a->data_file.npartition < b->data_file.npartition ? a->data_file.npartition
                                                                 : b->data_file.npartition;
    for (size_t i = 0; i < n; i++) {
        int c = firn_ice_value_compare(&a->data_file.partition[i], &b->data_file.partition[i]);
        if (c) return c;
    }
    return strcmp(a->data_file.file_path, b->data_file.file_path);
}

static int read_live(firn_io *io, const firn_ice_metadata *md, const firn_ice_manifest_file *mf,
                     firn_arena *a, firn_ice_manifest_entry **es, size_t *n, size_t *cap,
                     firn_error *err) {
    firn_ice_manifest_reader *rd = firn_ice_manifest_reader_open(io, mf->manifest_path, err);
    if (!rd) return -(int)err->kind;
    int rc = 0;
    const firn_ice_partition_spec *spec = firn_ice_metadata_spec(md, mf->partition_spec_id);
    if (spec) rc = firn_ice_manifest_reader_set_spec(rd, firn_ice_metadata_current_schema(md), spec, err);
    if (rc == 0) rc = firn_ice_manifest_reader_inherit(rd, mf, err);
    while (rc == 0) {
        firn_ice_manifest_entry e;
        int got = firn_ice_manifest_reader_next(rd, a, &e, err);
        if (got < 0) rc = got;
        if (got <= 0) break;
        if (e.status == FIRN_ICE_DELETED) continue;
        e.status = FIRN_ICE_EXISTING; /* inherited values are explicit now */
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 256;
            *es = firn_xrealloc(*es, *cap * sizeof **es);
        }
        (*es)[(*n)++] = e;
    }
    firn_ice_manifest_reader_free(rd);
    if (rc) FIRN_WRAP(err, err->kind, "cannot read manifest %s", mf->manifest_path);
    return rc;
}

static int rw_apply(void *vctx, firn_ice_metadata *md, firn_error *err) {
    rw_ctx *c = vctx;
    c->attempts++;
    clear(&c->landed, &c->nlanded);
    c->replaced = c->created = 0;
    if (firn_ice_metadata_snapshot(md, c->snapshot_id))
        return FIRN_RAISE(err, FIRN_ERR_CONFLICT, "rewrite-manifests: snapshot id taken");
    const firn_ice_ref *head = firn_ice_metadata_ref(md, c->branch);
    if (!head || head->type != FIRN_ICE_REF_BRANCH)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "rewrite-manifests: no branch '%s'", c->branch);
    const firn_ice_snapshot *parent = firn_ice_metadata_snapshot(md, head->snapshot_id);
    if (!parent || !parent->manifest_list)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "rewrite-manifests: the head snapshot has no manifest list");
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_manifest_file *mfs = NULL;
    size_t nmf = 0, n = 0, cap = 0;
    firn_ice_manifest_entry *es = NULL;
    firn_ice_manifest_file *out = NULL;
    size_t nout = 0;
    int64_t bytes = 0;
    int rc = firn_ice_manifest_list_read(c->t->io, parent->manifest_list, &a, &mfs, &nmf, NULL, err);
    for (size_t i = 0; i < nmf && rc == 0; i++) {
        if (mfs[i].content != FIRN_ICE_CONTENT_DATA) continue;
        c->replaced++;
        bytes += mfs[i].manifest_length;
        rc = read_live(c->t->io, md, &mfs[i], &a, &es, &n, &cap, err);
    }
    if (rc) goto done;
    if (n) qsort(es, n, sizeof *es, cmp_entries);
    int64_t target = firn_ice_metadata_property_int(md, "commit.manifest.target-size-bytes", 8 << 20);
    int64_t per_entry = n ? bytes / (int64_t)n + 1 : 1;
    size_t max_entries = (size_t)(target / per_entry > 0 ? target / per_entry : 1);
    out = firn_xcalloc(nmf + n + 1, sizeof *out);
    const char *dir = firn_ice_metadata_dir(md, &a);
    for (size_t i = 0; i < n && rc == 0;) {
        int32_t spec_id = es[i].data_file.spec_id;
        const firn_ice_partition_spec *spec = firn_ice_metadata_spec(md, spec_id);
        if (!spec) {
            rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT, "unknown partition spec %d", spec_id);
            break;
        }
        char loc[4200];
        snprintf(loc, sizeof loc, "%s/%s-rw%d-%zu.avro", dir, c->uuid, c->attempts, nout);
        firn_ice_manifest_writer *w = firn_ice_manifest_writer_new(
            c->t->io, loc, md->format_version, firn_ice_metadata_current_schema(md), spec,
            FIRN_ICE_CONTENT_DATA, c->snapshot_id, err);
        if (!w) {
            rc = -(int)err->kind;
            break;
        }
        size_t k = 0;
        for (; i < n && k < max_entries && es[i].data_file.spec_id == spec_id && rc == 0; i++, k++)
            rc = firn_ice_manifest_writer_add(w, &es[i], err);
        if (rc == 0) rc = firn_ice_manifest_writer_close(w, &a, &out[nout], err);
        firn_ice_manifest_writer_free(w);
        if (rc == 0) {
            push(&c->written, &c->nwritten, out[nout].manifest_path);
            push(&c->landed, &c->nlanded, out[nout].manifest_path);
            nout++;
        }
    }
    c->created = nout;
    for (size_t i = 0; i < nmf && rc == 0; i++)
        if (mfs[i].content != FIRN_ICE_CONTENT_DATA) out[nout++] = mfs[i];
    if (rc) goto done;

    int64_t seq = md->last_sequence_number + 1;
    char lloc[4200];
    snprintf(lloc, sizeof lloc, "%s/snap-%lld-%d-%s.avro", dir, (long long)c->snapshot_id,
             c->attempts, c->uuid);
    firn_ice_manifest_list_writer *lw = firn_ice_manifest_list_writer_new(
        c->t->io, lloc, md->format_version, c->snapshot_id, parent->snapshot_id, seq, err);
    if (!lw) {
        rc = -(int)err->kind;
        goto done;
    }
    for (size_t i = 0; i < nout && rc == 0; i++)
        rc = firn_ice_manifest_list_writer_add(lw, &out[i], NULL, err);
    if (rc == 0) rc = firn_ice_manifest_list_writer_close(lw, NULL, err);
    firn_ice_manifest_list_writer_free(lw);
    if (rc) goto done;
    push(&c->written, &c->nwritten, lloc);
    push(&c->landed, &c->nlanded, lloc);

    firn_ice_kv sum[300];
    size_t ns = 0;
    char vals[3][32];
    sum[ns++] = (firn_ice_kv){"operation", "replace"};
    snprintf(vals[0], sizeof vals[0], "%zu", c->created);
    snprintf(vals[1], sizeof vals[1], "%zu", c->replaced);
    snprintf(vals[2], sizeof vals[2], "%zu", n);
    sum[ns++] = (firn_ice_kv){"manifests-created", vals[0]};
    sum[ns++] = (firn_ice_kv){"manifests-replaced", vals[1]};
    sum[ns++] = (firn_ice_kv){"entries-processed", vals[2]};
    sum[ns++] = (firn_ice_kv){"firn.maintenance", "rewrite-manifests"};
    for (size_t i = 0; i < parent->nsummary && ns < 300; i++)
        if (strncmp(parent->summary[i].key, "total-", 6) == 0 ||
            strncmp(parent->summary[i].key, "firn.source.", 12) == 0)
            sum[ns++] = parent->summary[i];
    firn_ice_snapshot snap;
    memset(&snap, 0, sizeof snap);
    snap.snapshot_id = c->snapshot_id;
    snap.has_parent = true;
    snap.parent_snapshot_id = parent->snapshot_id;
    snap.sequence_number = seq;
    snap.timestamp_ms = md->last_updated_ms;
    snap.manifest_list = lloc;
    snap.summary = sum;
    snap.nsummary = ns;
    snap.has_schema_id = true;
    snap.schema_id = md->current_schema_id;
    firn_ice_ref ref = *head; /* keeps its retention settings */
    ref.snapshot_id = c->snapshot_id;
    rc = firn_ice_metadata_add_snapshot(md, &snap, err);
    if (rc == 0) rc = firn_ice_metadata_set_snapshot_ref(md, &ref, err);
done:
    free(out);
    free(es);
    firn_arena_release(&a);
    if (rc) FIRN_WRAP(err, err->kind, "rewrite-manifests");
    return rc;
}

static void rw_finish(void *vctx, firn_ice_commit_state state) {
    rw_ctx *c = vctx;
    if (state == FIRN_ICE_COMMIT_UNKNOWN) return;
    for (size_t i = 0; i < c->nwritten; i++) {
        bool keep = false;
        for (size_t j = 0; state == FIRN_ICE_COMMIT_DONE && j < c->nlanded && !keep; j++)
            keep = strcmp(c->written[i], c->landed[j]) == 0;
        if (keep) continue;
        firn_error e;
        firn_error_init(&e);
        firn_io_delete(c->t->io, c->written[i], &e);
        firn_error_release(&e);
    }
}

int firn_maintain_rewrite_manifests(firn_ice_table *t, const firn_maintain_options *o,
                                    firn_maintain_result *r, firn_error *err) {
    firn_maintain_options dflt;
    o = firn_mt_options(o, &dflt);
    uint64_t t0 = firn_now_ns();
    const char *branch = o->branch ? o->branch : FIRN_ICE_MAIN_BRANCH;
    if (firn_ice_table_refresh(t, err)) return -(int)err->kind;
    const firn_ice_ref *head = firn_ice_metadata_ref(t->metadata, branch);
    const firn_ice_snapshot *s = head ? firn_ice_metadata_snapshot(t->metadata, head->snapshot_id)
                                      : NULL;
    if (!s || !s->manifest_list) return 0;
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_manifest_file *mfs;
    size_t nmf, ndata = 0;
    int rc = firn_ice_manifest_list_read(t->io, s->manifest_list, &a, &mfs, &nmf, NULL, err);
    for (size_t i = 0; rc == 0 && i < nmf; i++) ndata += mfs[i].content == FIRN_ICE_CONTENT_DATA;
    firn_arena_release(&a);
    if (rc) return FIRN_WRAP(err, err->kind, "rewrite-manifests");
    size_t min = o->min_manifests ? o->min_manifests : 1;
    if (ndata <= min) goto out;
    if (o->dry_run) {
        r->manifests_rewritten += ndata;
        goto out;
    }
    rw_ctx c = {0};
    c.t = t;
    c.branch = branch;
    c.snapshot_id = firn_ice_metadata_new_snapshot_id(t->metadata);
    uint8_t u[16];
    firn_ice_uuid4(u);
    firn_ice_uuid_format(u, c.uuid);
    firn_ice_update up = {rw_apply, rw_finish, &c};
    rc = firn_ice_table_commit(t, &up, 1, NULL, err);
    if (rc == 0) {
        r->manifests_rewritten += c.replaced;
        r->manifests_written += c.created;
        r->commits++;
        firn_io_crash_point("rewrite-manifests.after-commit");
    }
    clear(&c.written, &c.nwritten);
    clear(&c.landed, &c.nlanded);
    free(c.written);
    free(c.landed);
out:
    r->duration_ms += (int64_t)((firn_now_ns() - t0) / 1000000);
    return rc;
}
