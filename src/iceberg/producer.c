/* producer.c - the snapshot producers: append (Java's FastAppend with merging off,
 * MergeAppend with it on), replace/overwrite of files and delete of whole files by
 * filter, as Java's SnapshotProducer and MergingSnapshotProducer (BaseRewriteFiles,
 * BaseOverwriteFiles, StreamingDelete). One producer type, configured by operation;
 * see iceberg.h. */
#include "iceberg/iceberg.h"
#include "iceberg/iceberg_internal.h"
#include "io/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A manifest list as written: its location and entries (sequence numbers assigned). */
struct firn_ice_list_cache {
    char *location;
    firn_arena arena;
    firn_ice_manifest_file *v;
    size_t n;
};

void firn_ice_list_cache_free(struct firn_ice_list_cache *c) {
    if (!c) return;
    free(c->location);
    firn_arena_release(&c->arena);
    free(c);
}

static struct firn_ice_list_cache *list_cache_new(const char *location, size_t n) {
    struct firn_ice_list_cache *c = firn_xcalloc(1, sizeof *c);
    c->location = firn_xstrdup(location);
    firn_arena_init(&c->arena, 4096);
    c->v = firn_arena_calloc(&c->arena, (n + 1) * sizeof *c->v);
    return c;
}

/* Append a deep copy of mf to c (room for it was made by list_cache_new). */
static void list_cache_add(struct firn_ice_list_cache *c, const firn_ice_manifest_file *mf) {
    firn_arena *a = &c->arena;
    firn_ice_manifest_file *d = &c->v[c->n++];
    *d = *mf;
    d->manifest_path = firn_arena_strdup(a, mf->manifest_path);
    if (mf->npartitions) {
        firn_ice_field_summary *fs =
            firn_arena_memdup(a, mf->partitions, mf->npartitions * sizeof *fs);
        for (size_t i = 0; i < mf->npartitions; i++) {
            if (fs[i].lower_bound)
                fs[i].lower_bound = firn_arena_memdup(a, fs[i].lower_bound, fs[i].lower_bound_len);
            if (fs[i].upper_bound)
                fs[i].upper_bound = firn_arena_memdup(a, fs[i].upper_bound, fs[i].upper_bound_len);
        }
        d->partitions = fs;
    }
    if (mf->key_metadata)
        d->key_metadata = firn_arena_memdup(a, mf->key_metadata, mf->key_metadata_len);
}

struct firn_ice_producer {
    firn_ice_table *table;
    char *branch;
    char operation[16];
    int64_t snapshot_id;
    char commit_uuid[37];
    firn_arena arena;
    const firn_ice_data_file **files; /* added */
    size_t nfiles, cap_files;
    char **removed; /* paths of data files to remove */
    size_t nremoved, cap_removed;
    const firn_ice_expr *filter; /* delete whole files matching it (unbound) */
    int merge;                   /* -1: commit.manifest-merge.enabled */
    firn_ice_kv *extra;
    size_t nextra, cap_extra;
    firn_ice_manifest_file *manifests; /* new manifests, written on the first attempt */
    size_t nmanifests;
    bool manifests_written;
    char **written; /* every file written, for cleanup */
    size_t nwritten, cap_written;
    char **landed; /* files referenced by the last attempt's manifest list */
    size_t nlanded, cap_landed;
    struct firn_ice_list_cache *list; /* the last attempt's list, for the table's cache */
    int attempts;
};

firn_ice_producer *firn_ice_producer_new(firn_ice_table *t, const char *branch,
                                         const char *operation, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (!t || !t->metadata) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "snapshot producer: no loaded table");
        return NULL;
    }
    if (!operation) operation = "append";
    if (strcmp(operation, "append") && strcmp(operation, "replace") &&
        strcmp(operation, "overwrite") && strcmp(operation, "delete")) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "snapshot producer: unknown operation '%s'", operation);
        return NULL;
    }
    firn_ice_producer *p = firn_xcalloc(1, sizeof *p);
    p->table = t;
    p->branch = firn_xstrdup(branch && *branch ? branch : FIRN_ICE_MAIN_BRANCH);
    snprintf(p->operation, sizeof p->operation, "%s", operation);
    p->snapshot_id = firn_ice_metadata_new_snapshot_id(t->metadata);
    p->merge = -1;
    uint8_t u[16];
    firn_ice_uuid4(u);
    firn_ice_uuid_format(u, p->commit_uuid);
    firn_arena_init(&p->arena, 8192);
    return p;
}

int64_t firn_ice_producer_snapshot_id(const firn_ice_producer *p) { return p->snapshot_id; }

int firn_ice_producer_add_file(firn_ice_producer *p, const firn_ice_data_file *df,
                               firn_error *err) {
    ICE_ERR_GUARD(err);
    if (!df || !df->file_path)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "snapshot producer: no data file");
    if (strcmp(p->operation, "delete") == 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "snapshot producer: a delete adds no files");
    if (p->manifests_written)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "snapshot producer: already committing");
    if (df->content != FIRN_ICE_CONTENT_DATA)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "snapshot producer: '%s' is a delete file; a snapshot producer adds "
                          "data files",
                          df->file_path);
    if (!firn_ice_metadata_spec(p->table->metadata, df->spec_id))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "snapshot producer: '%s' has unknown partition spec %d", df->file_path,
                          df->spec_id);
    firn_ice_grow((void **)&p->files, &p->cap_files, p->nfiles + 1, sizeof *p->files);
    p->files[p->nfiles++] = df;
    return 0;
}

int firn_ice_producer_remove_file(firn_ice_producer *p, const char *path, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (!path || !*path) return FIRN_RAISE(err, FIRN_ERR_INVALID, "snapshot producer: no path");
    if (strcmp(p->operation, "append") == 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "snapshot producer: an append removes no files");
    firn_ice_grow((void **)&p->removed, &p->cap_removed, p->nremoved + 1, sizeof *p->removed);
    p->removed[p->nremoved++] = firn_arena_strdup(&p->arena, path);
    return 0;
}

int firn_ice_producer_delete_where(firn_ice_producer *p, const firn_ice_expr *filter,
                                   firn_error *err) {
    ICE_ERR_GUARD(err);
    if (strcmp(p->operation, "delete") && strcmp(p->operation, "overwrite"))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "snapshot producer: delete by filter needs operation delete or overwrite");
    p->filter = filter;
    return 0;
}

void firn_ice_producer_set_merge(firn_ice_producer *p, int enabled) { p->merge = enabled; }

void firn_ice_producer_set_summary(firn_ice_producer *p, const char *key, const char *value) {
    for (size_t i = 0; i < p->nextra; i++)
        if (strcmp(p->extra[i].key, key) == 0) {
            p->extra[i].value = firn_arena_strdup(&p->arena, value);
            return;
        }
    firn_ice_grow((void **)&p->extra, &p->cap_extra, p->nextra + 1, sizeof *p->extra);
    p->extra[p->nextra].key = firn_arena_strdup(&p->arena, key);
    p->extra[p->nextra].value = firn_arena_strdup(&p->arena, value);
    p->nextra++;
}

static void note_written(firn_ice_producer *p, const char *path) {
    firn_ice_grow((void **)&p->written, &p->cap_written, p->nwritten + 1, sizeof *p->written);
    p->written[p->nwritten++] = firn_xstrdup(path);
}

static void note_landed(firn_ice_producer *p, const char *path) {
    firn_ice_grow((void **)&p->landed, &p->cap_landed, p->nlanded + 1, sizeof *p->landed);
    p->landed[p->nlanded++] = firn_xstrdup(path);
}

static void clear_landed(firn_ice_producer *p) {
    for (size_t i = 0; i < p->nlanded; i++) free(p->landed[i]);
    p->nlanded = 0;
}

/* Write one manifest per partition spec among the added files into out (room
 * for nfiles entries); *nout counts the manifests closed so far, also when a
 * later one fails, so the caller can delete them. ADDED entries inherit their
 * snapshot id and sequence number, so the manifests suit any base. */
static int write_added_manifests(firn_io *io, const firn_ice_metadata *md,
                                   const firn_ice_data_file *const *files, size_t nfiles,
                                   const char *commit_uuid, int64_t snapshot_id, firn_arena *arena,
                                   firn_ice_manifest_file *out, size_t *nout, firn_error *err) {
    const char *dir = firn_ice_metadata_dir(md, arena);
    const firn_ice_schema *schema = firn_ice_metadata_current_schema(md);
    bool *done = firn_xcalloc(nfiles + 1, sizeof *done);
    int rc = 0;
    *nout = 0;
    for (size_t i = 0; i < nfiles && rc == 0; i++) {
        if (done[i]) continue;
        int32_t spec_id = files[i]->spec_id;
        const firn_ice_partition_spec *spec = firn_ice_metadata_spec(md, spec_id);
        if (!spec) {
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "unknown partition spec %d", spec_id);
            break;
        }
        char loc[1100];
        snprintf(loc, sizeof loc, "%s/%s-m%zu.avro", dir, commit_uuid, *nout);
        firn_ice_manifest_writer *mw =
            firn_ice_manifest_writer_new(io, loc, md->format_version, schema, spec,
                                         FIRN_ICE_CONTENT_DATA, snapshot_id, err);
        if (!mw) {
            rc = -err->kind;
            break;
        }
        for (size_t j = i; j < nfiles && rc == 0; j++) {
            if (done[j] || files[j]->spec_id != spec_id) continue;
            firn_ice_manifest_entry e;
            memset(&e, 0, sizeof e);
            e.status = FIRN_ICE_ADDED;
            e.data_file = *files[j];
            rc = firn_ice_manifest_writer_add(mw, &e, err);
            done[j] = true;
        }
        if (rc == 0) rc = firn_ice_manifest_writer_close(mw, arena, &out[*nout], err);
        firn_ice_manifest_writer_free(mw);
        if (rc == 0) (*nout)++;
    }
    free(done);
    return rc;
}

/* The new manifests (first attempt only; see write_added_manifests). */
static int write_new_manifests(firn_ice_producer *p, const firn_ice_metadata *md,
                               firn_error *err) {
    p->manifests = firn_arena_calloc(&p->arena, (p->nfiles + 1) * sizeof *p->manifests);
    int rc = write_added_manifests(p->table->io, md, p->files, p->nfiles,
                                            p->commit_uuid, p->snapshot_id, &p->arena,
                                            p->manifests, &p->nmanifests, err);
    for (size_t i = 0; i < p->nmanifests; i++) note_written(p, p->manifests[i].manifest_path);
    p->manifests_written = true;
    if (rc) return FIRN_WRAP(err, err->kind, "cannot write the new manifest");
    firn_io_crash_point("append.after-manifest-write");
    return 0;
}

/* ------------------------------------------------------- filter evaluation */

/* Whether the filter selects the whole file (1), none of it (0), or the metrics
 * cannot tell / only part (-1). Whole: no row can fail it, i.e. its negation cannot
 * match (Java's StrictMetricsEvaluator, by way of the inclusive evaluator). */
static int filter_file(const firn_ice_expr *bound, const firn_ice_expr *negated,
                       const firn_ice_schema *schema, const firn_ice_data_file *df) {
    firn_ice_metrics_ctx c = {df, schema};
    if (!firn_ice_expr_may_match(bound, firn_ice_metrics_range, &c)) return 0;
    if (!firn_ice_expr_may_match(negated, firn_ice_metrics_range, &c)) return 1;
    return -1;
}

/* ------------------------------------------------------------- the apply */

typedef struct counts {
    int64_t files, records, bytes;
} counts;

static void count_file(counts *c, const firn_ice_data_file *df) {
    c->files++;
    c->records += df->record_count;
    c->bytes += df->file_size_in_bytes;
}

static bool total_of(const firn_ice_snapshot *parent, const char *key, int64_t delta,
                     int64_t *out) {
    if (!parent) {
        *out = delta;
        return true;
    }
    const char *v = firn_ice_snapshot_summary_get(parent, key);
    if (!v) return false;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || end == v) return false;
    *out = x + delta;
    return true;
}

static int64_t prop_long(const firn_ice_metadata *md, const char *key, int64_t def) {
    const char *v = firn_ice_metadata_property(md, key);
    if (!v) return def;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    return errno || *end || end == v || x <= 0 ? def : (int64_t)x;
}

/* Entries of manifest mf (inherited values filled). */
static int read_entries(firn_ice_producer *p, const firn_ice_metadata *md,
                        const firn_ice_manifest_file *mf, firn_arena *a,
                        firn_ice_manifest_entry **out, size_t *n, firn_error *err) {
    firn_ice_manifest_reader *r = firn_ice_manifest_reader_open(p->table->io, mf->manifest_path, err);
    if (!r) return -err->kind;
    int rc = 0;
    const firn_ice_partition_spec *spec = firn_ice_metadata_spec(md, mf->partition_spec_id);
    if (spec) rc = firn_ice_manifest_reader_set_spec(r, firn_ice_metadata_current_schema(md), spec, err);
    if (rc == 0) rc = firn_ice_manifest_reader_inherit(r, mf, err);
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    while (rc == 0) {
        firn_ice_manifest_entry e;
        int got = firn_ice_manifest_reader_next(r, a, &e, err);
        if (got < 0) rc = got;
        if (got <= 0) break;
        if (*n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            firn_ice_manifest_entry *ne = firn_arena_alloc(a, nc * sizeof *ne);
            if (*n) memcpy(ne, *out, *n * sizeof *ne);
            *out = ne;
            cap = nc;
        }
        (*out)[(*n)++] = e;
    }
    firn_ice_manifest_reader_free(r);
    if (rc) FIRN_WRAP(err, err->kind, "cannot read manifest %s", mf->manifest_path);
    return rc;
}

/* An entry as carried into a manifest of this snapshot: ours stay as they are
 * (ADDED inherit; DELETED explicit), older live ones become EXISTING with their
 * explicit snapshot id and sequence numbers. */
static void carry(firn_ice_producer *p, const firn_ice_manifest_file *mf,
                  firn_ice_manifest_entry *e) {
    if (mf->added_snapshot_id == p->snapshot_id && e->status == FIRN_ICE_ADDED) {
        e->has_snapshot_id = e->has_sequence_number = e->has_file_sequence_number = false;
        return;
    }
    if (e->status == FIRN_ICE_ADDED) e->status = FIRN_ICE_EXISTING;
}

typedef struct mlist {
    firn_ice_manifest_file *v;
    size_t n, cap;
} mlist;

static void mlist_push(mlist *l, const firn_ice_manifest_file *mf) {
    firn_ice_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v);
    l->v[l->n++] = *mf;
}

static int open_writer(firn_ice_producer *p, const firn_ice_metadata *md, int32_t spec_id,
                       const char *kind, size_t k, firn_arena *a,
                       firn_ice_manifest_writer **out, firn_error *err) {
    const firn_ice_partition_spec *spec = firn_ice_metadata_spec(md, spec_id);
    if (!spec) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "unknown partition spec %d", spec_id);
    char loc[1100];
    snprintf(loc, sizeof loc, "%s/%s-%s%d-%zu.avro", firn_ice_metadata_dir(md, a), p->commit_uuid,
             kind, p->attempts, k);
    *out = firn_ice_manifest_writer_new(p->table->io, loc, md->format_version,
                                        firn_ice_metadata_current_schema(md), spec,
                                        FIRN_ICE_CONTENT_DATA, p->snapshot_id, err);
    return *out ? 0 : -err->kind;
}

static int close_writer(firn_ice_producer *p, firn_ice_manifest_writer *w, firn_arena *a,
                        firn_ice_manifest_file *out, firn_error *err) {
    int rc = firn_ice_manifest_writer_close(w, a, out, err);
    firn_ice_manifest_writer_free(w);
    if (rc == 0) note_written(p, out->manifest_path);
    return rc;
}

/* Merge data manifests of one spec in l (Java's ManifestMergeManager, simplified):
 * when the spec has at least min_count manifests, pack them in list order (new
 * ones first) into bins of up to target bytes and rewrite each bin of two or more
 * as one manifest. */
static int merge_manifests(firn_ice_producer *p, const firn_ice_metadata *md, mlist *l,
                           firn_arena *a, firn_error *err) {
    int64_t min_count = prop_long(md, "commit.manifest.min-count-to-merge", 100);
    int64_t target = prop_long(md, "commit.manifest.target-size-bytes", 8 << 20);
    mlist out = {0};
    bool *used = firn_xcalloc(l->n + 1, sizeof *used);
    int rc = 0;
    size_t k = 0;
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        if (used[i]) continue;
        if (l->v[i].content != FIRN_ICE_CONTENT_DATA) {
            used[i] = true;
            mlist_push(&out, &l->v[i]);
            continue;
        }
        int32_t spec_id = l->v[i].partition_spec_id;
        size_t count = 0;
        for (size_t j = i; j < l->n; j++)
            count += !used[j] && l->v[j].content == FIRN_ICE_CONTENT_DATA &&
                     l->v[j].partition_spec_id == spec_id;
        if ((int64_t)count < min_count) {
            for (size_t j = i; j < l->n; j++)
                if (!used[j] && l->v[j].content == FIRN_ICE_CONTENT_DATA &&
                    l->v[j].partition_spec_id == spec_id) {
                    used[j] = true;
                    mlist_push(&out, &l->v[j]);
                }
            continue;
        }
        /* bins in order */
        size_t j = i;
        while (j < l->n && rc == 0) {
            size_t bin[4096], nb = 0;
            int64_t size = 0;
            for (; j < l->n && nb < 4096; j++) {
                if (used[j] || l->v[j].content != FIRN_ICE_CONTENT_DATA ||
                    l->v[j].partition_spec_id != spec_id)
                    continue;
                if (nb && size + l->v[j].manifest_length > target) break;
                bin[nb++] = j;
                size += l->v[j].manifest_length;
                used[j] = true;
            }
            if (nb == 0) break;
            if (nb == 1) {
                mlist_push(&out, &l->v[bin[0]]);
                continue;
            }
            firn_ice_manifest_writer *w;
            if ((rc = open_writer(p, md, spec_id, "merged", k++, a, &w, err))) break;
            for (size_t b = 0; b < nb && rc == 0; b++) {
                const firn_ice_manifest_file *mf = &l->v[bin[b]];
                firn_arena ea;
                firn_arena_init(&ea, 8192);
                firn_ice_manifest_entry *es;
                size_t ne;
                rc = read_entries(p, md, mf, &ea, &es, &ne, err);
                for (size_t e = 0; e < ne && rc == 0; e++) {
                    /* DELETED entries of older snapshots are dropped */
                    if (es[e].status == FIRN_ICE_DELETED && mf->added_snapshot_id != p->snapshot_id)
                        continue;
                    carry(p, mf, &es[e]);
                    rc = firn_ice_manifest_writer_add(w, &es[e], err);
                }
                firn_arena_release(&ea);
            }
            firn_ice_manifest_file merged;
            if (rc == 0) rc = close_writer(p, w, a, &merged, err);
            else firn_ice_manifest_writer_free(w);
            if (rc == 0) mlist_push(&out, &merged);
        }
    }
    free(used);
    if (rc) {
        free(out.v);
        return FIRN_WRAP(err, err->kind, "cannot merge manifests");
    }
    free(l->v);
    *l = out;
    return 0;
}

static int producer_apply(void *ctx, firn_ice_metadata *md, firn_error *err) {
    firn_ice_producer *p = ctx;
    p->attempts++;
    clear_landed(p);
    const char *what = p->operation;
    if (firn_ice_metadata_snapshot(md, p->snapshot_id))
        return FIRN_RAISE(err, FIRN_ERR_CONFLICT, "%s: snapshot id %lld was taken by another commit",
                          what, (long long)p->snapshot_id);
    if (!p->manifests_written && write_new_manifests(p, md, err))
        return FIRN_WRAP(err, err->kind, "%s", what);

    const firn_ice_ref *head = firn_ice_metadata_ref(md, p->branch);
    if (head && head->type != FIRN_ICE_REF_BRANCH)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: '%s' is a tag, not a branch", what, p->branch);
    int64_t parent_id = head ? head->snapshot_id : md->current_snapshot_id;
    const firn_ice_snapshot *parent = parent_id >= 0 ? firn_ice_metadata_snapshot(md, parent_id)
                                                     : NULL;
    int64_t seq = md->last_sequence_number + 1;
    const firn_ice_schema *schema = firn_ice_metadata_current_schema(md);

    firn_arena scratch;
    firn_arena_init(&scratch, 8192);
    firn_ice_manifest_file *old = NULL;
    size_t nold = 0;
    mlist l = {0};
    bool *found = firn_xcalloc(p->nremoved + 1, sizeof *found);
    counts added = {0}, deleted = {0};
    int rc = 0;
    const firn_ice_expr *bound = NULL, *negated = NULL;
    if (p->filter) {
        bound = firn_ice_expr_bind(&scratch, p->filter, schema, true, err);
        negated = bound ? firn_ice_expr_bind(&scratch, firn_ice_expr_not(&scratch, (firn_ice_expr *)p->filter),
                                             schema, true, err)
                        : NULL;
        if (!negated) {
            rc = FIRN_WRAP(err, err->kind, "%s: bad filter", what);
            goto done;
        }
    }
    if (parent) {
        if (!parent->manifest_list) {
            rc = FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                            "%s: parent snapshot %lld embeds its manifests (format v1)", what,
                            (long long)parent->snapshot_id);
            goto done;
        }
        const struct firn_ice_list_cache *c = p->table->list_cache;
        if (c && strcmp(c->location, parent->manifest_list) == 0) {
            old = c->v; /* this handle wrote it: no need to read it back */
            nold = c->n;
        } else {
            rc = firn_ice_manifest_list_read(p->table->io, parent->manifest_list, &scratch, &old,
                                             &nold, NULL, err);
        }
        if (rc) {
            FIRN_WRAP(err, err->kind, "%s: cannot read the parent's manifest list", what);
            goto done;
        }
    }
    for (size_t i = 0; i < p->nfiles; i++) count_file(&added, p->files[i]);
    for (size_t i = 0; i < p->nmanifests; i++) mlist_push(&l, &p->manifests[i]);

    /* removals: rewrite each manifest that holds a removed file */
    size_t k = 0;
    for (size_t i = 0; i < nold && rc == 0; i++) {
        const firn_ice_manifest_file *mf = &old[i];
        bool live = mf->added_files_count != 0 || mf->existing_files_count != 0;
        if (mf->content != FIRN_ICE_CONTENT_DATA || (!p->nremoved && !bound) || !live) {
            mlist_push(&l, mf);
            continue;
        }
        firn_ice_manifest_entry *es;
        size_t ne;
        if ((rc = read_entries(p, md, mf, &scratch, &es, &ne, err))) break;
        bool *hit = firn_arena_calloc(&scratch, (ne + 1) * sizeof *hit);
        size_t nhit = 0;
        for (size_t e = 0; e < ne && rc == 0; e++) {
            if (es[e].status == FIRN_ICE_DELETED) continue;
            const firn_ice_data_file *df = &es[e].data_file;
            for (size_t r = 0; r < p->nremoved; r++)
                if (strcmp(p->removed[r], df->file_path) == 0) {
                    hit[e] = true;
                    found[r] = true;
                }
            if (!hit[e] && bound) {
                int m = filter_file(bound, negated, schema, df);
                if (m < 0)
                    rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                                    "%s: cannot delete only part of data file %s: the filter "
                                    "matches some of its rows, maybe not all",
                                    what, df->file_path);
                hit[e] = m == 1;
            }
            nhit += hit[e];
        }
        if (rc) break;
        if (!nhit) {
            mlist_push(&l, mf);
            continue;
        }
        firn_ice_manifest_writer *w;
        if ((rc = open_writer(p, md, mf->partition_spec_id, "r", k++, &scratch, &w, err))) break;
        for (size_t e = 0; e < ne && rc == 0; e++) {
            if (es[e].status == FIRN_ICE_DELETED) continue; /* older deletes dropped */
            if (hit[e]) {
                count_file(&deleted, &es[e].data_file);
                es[e].status = FIRN_ICE_DELETED;
                es[e].has_snapshot_id = true;
                es[e].snapshot_id = p->snapshot_id;
            } else {
                carry(p, mf, &es[e]);
            }
            rc = firn_ice_manifest_writer_add(w, &es[e], err);
        }
        firn_ice_manifest_file rewritten;
        if (rc == 0) rc = close_writer(p, w, &scratch, &rewritten, err);
        else firn_ice_manifest_writer_free(w);
        if (rc == 0) mlist_push(&l, &rewritten);
    }
    if (rc) {
        FIRN_WRAP(err, err->kind, "%s", what);
        goto done;
    }
    for (size_t r = 0; r < p->nremoved; r++)
        if (!found[r]) {
            rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                            "%s: data file %s is not live in the table (deleted by a concurrent "
                            "commit?)",
                            what, p->removed[r]);
            goto done;
        }
    if (strcmp(p->operation, "append") == 0 ? p->merge != 0 : p->merge == 1) {
        bool on = p->merge == 1;
        if (p->merge < 0) {
            const char *v = firn_ice_metadata_property(md, "commit.manifest-merge.enabled");
            on = !v || strcmp(v, "true") == 0;
        }
        if (on && (rc = merge_manifests(p, md, &l, &scratch, err))) goto done;
    }

    char loc[1100];
    snprintf(loc, sizeof loc, "%s/snap-%lld-%d-%s.avro", firn_ice_metadata_dir(md, &scratch),
             (long long)p->snapshot_id, p->attempts, p->commit_uuid);
    firn_ice_manifest_list_writer *lw = firn_ice_manifest_list_writer_new(
        p->table->io, loc, md->format_version, p->snapshot_id, parent ? parent_id : -1, seq, err);
    if (!lw) {
        rc = -err->kind;
        goto done;
    }
    /* A manifest list is rewritten whole by every commit: deflate at level 1 (the
     * level does not matter to readers) unless write.avro.compression-level says. */
    int64_t level = firn_ice_metadata_property_int(md, "write.avro.compression-level", 1);
    if (level < 0 || level > 9) level = 1;
    if ((rc = firn_ice_manifest_list_writer_set_codec(lw, "deflate", (int)level, err))) {
        firn_ice_manifest_list_writer_free(lw);
        goto done;
    }
    firn_ice_list_cache_free(p->list);
    p->list = md->format_version >= 2 ? list_cache_new(loc, l.n) : NULL;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        firn_ice_manifest_file written;
        rc = firn_ice_manifest_list_writer_add(lw, &l.v[i], &written, err);
        if (rc == 0 && p->list) list_cache_add(p->list, &written);
        if (l.v[i].added_snapshot_id == p->snapshot_id) note_landed(p, l.v[i].manifest_path);
    }
    if (rc == 0) rc = firn_ice_manifest_list_writer_close(lw, NULL, err);
    firn_ice_manifest_list_writer_free(lw);
    if (rc) {
        FIRN_WRAP(err, err->kind, "%s: cannot write the manifest list", what);
        goto done;
    }
    note_written(p, loc);
    note_landed(p, loc);
    firn_io_crash_point("append.after-manifest-list-write");

    firn_ice_kv sum[24 + 1];
    size_t ns = 0;
    char vals[20][32];
    int nv = 0;
#define PUT(kk, v)                                                                       \
    do {                                                                                 \
        snprintf(vals[nv], sizeof vals[nv], "%lld", (long long)(v));                     \
        sum[ns].key = (kk);                                                               \
        sum[ns].value = vals[nv++];                                                      \
        ns++;                                                                            \
    } while (0)
    sum[ns++] = (firn_ice_kv){"operation", p->operation};
    size_t changed = 0; /* distinct partitions among added and deleted files (Java's) */
    for (size_t i = 0; i < p->nfiles; i++) {
        const firn_ice_data_file *df = p->files[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            const firn_ice_data_file *o = p->files[j];
            if (o->spec_id != df->spec_id || o->npartition != df->npartition) continue;
            bool same = true;
            for (size_t q = 0; q < df->npartition && same; q++)
                same = firn_ice_value_equal(&o->partition[q], &df->partition[q]);
            seen = same;
        }
        changed += !seen;
    }
    if (added.files) {
        PUT("added-data-files", added.files);
        PUT("added-records", added.records);
        PUT("added-files-size", added.bytes);
    }
    if (deleted.files) {
        PUT("deleted-data-files", deleted.files);
        PUT("deleted-records", deleted.records);
        PUT("removed-files-size", deleted.bytes);
    }
    if (added.files) PUT("changed-partition-count", changed);
    int64_t tot;
    if (total_of(parent, "total-records", added.records - deleted.records, &tot))
        PUT("total-records", tot);
    if (total_of(parent, "total-files-size", added.bytes - deleted.bytes, &tot))
        PUT("total-files-size", tot);
    if (total_of(parent, "total-data-files", added.files - deleted.files, &tot))
        PUT("total-data-files", tot);
    if (total_of(parent, "total-delete-files", 0, &tot)) PUT("total-delete-files", tot);
    if (total_of(parent, "total-position-deletes", 0, &tot)) PUT("total-position-deletes", tot);
    if (total_of(parent, "total-equality-deletes", 0, &tot)) PUT("total-equality-deletes", tot);
#undef PUT
    firn_ice_kv *all = firn_arena_alloc(&scratch, (ns + p->nextra + 1) * sizeof *all);
    memcpy(all, sum, ns * sizeof *sum);
    size_t nall = ns;
    for (size_t i = 0; i < p->nextra; i++) {
        bool dup = false;
        for (size_t j = 0; j < ns; j++) dup = dup || strcmp(sum[j].key, p->extra[i].key) == 0;
        if (!dup) all[nall++] = p->extra[i];
    }
    firn_ice_snapshot snap;
    memset(&snap, 0, sizeof snap);
    snap.snapshot_id = p->snapshot_id;
    snap.has_parent = parent != NULL;
    snap.parent_snapshot_id = parent ? parent_id : -1;
    snap.sequence_number = seq;
    snap.timestamp_ms = md->last_updated_ms;
    snap.manifest_list = loc;
    snap.summary = all;
    snap.nsummary = nall;
    snap.has_schema_id = true;
    snap.schema_id = md->current_schema_id;
    rc = firn_ice_metadata_add_snapshot(md, &snap, err);
    if (rc == 0) {
        firn_ice_ref r = head ? *head : firn_ice_ref_make(p->branch, p->snapshot_id,
                                                         FIRN_ICE_REF_BRANCH);
        r.snapshot_id = p->snapshot_id;
        rc = firn_ice_metadata_set_snapshot_ref(md, &r, err);
    }
done:
    free(l.v);
    free(found);
    firn_arena_release(&scratch);
    return rc;
}

static void producer_finish(void *ctx, firn_ice_commit_state state) {
    firn_ice_producer *p = ctx;
    if (state == FIRN_ICE_COMMIT_DONE && p->list) {
        firn_ice_list_cache_free(p->table->list_cache);
        p->table->list_cache = p->list;
        p->list = NULL;
    }
    if (state == FIRN_ICE_COMMIT_UNKNOWN) return; /* keep everything */
    for (size_t i = 0; i < p->nwritten; i++) {
        bool keep = false;
        if (state == FIRN_ICE_COMMIT_DONE)
            for (size_t j = 0; j < p->nlanded && !keep; j++)
                keep = strcmp(p->written[i], p->landed[j]) == 0;
        if (keep) continue;
        firn_error e;
        firn_error_init(&e);
        firn_io_delete(p->table->io, p->written[i], &e);
        firn_error_release(&e);
    }
}

firn_ice_update firn_ice_producer_update(firn_ice_producer *p) {
    firn_ice_update u = {producer_apply, producer_finish, p};
    return u;
}

int firn_ice_producer_commit(firn_ice_producer *p, firn_ice_commit_info *info, firn_error *err) {
    firn_ice_update u = firn_ice_producer_update(p);
    return firn_ice_table_commit(p->table, &u, 1, info, err);
}

void firn_ice_producer_free(firn_ice_producer *p) {
    if (!p) return;
    firn_ice_list_cache_free(p->list);
    for (size_t i = 0; i < p->nwritten; i++) free(p->written[i]);
    free(p->written);
    clear_landed(p);
    free(p->landed);
    free(p->files);
    free(p->removed);
    free(p->extra);
    free(p->branch);
    firn_arena_release(&p->arena);
    free(p);
}
