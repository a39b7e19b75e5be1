/*
 * scan.c - table scans: snapshot selection (ref, snapshot id, time travel by
 * the snapshot log), planning (manifest list -> manifests pruned by partition
 * summaries -> data files pruned by partition values and column metrics) and
 * reading rows through the Parquet reader with column mapping by field id (or
 * the table's name mapping), schema evolution (missing columns read null,
 * promoted types widened), identity partition constants, row-group skipping,
 * the residual filter per row, and position and equality delete files
 * (planned by sequence number and partition, applied while reading).
 */
#include "iceberg/iceberg_internal.h"
#include "io/io.h"
#include "parquet/parquet.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct scan_delete {
    const firn_ice_data_file *file;
    int64_t sequence_number;
    int32_t spec_id;
} scan_delete;

/* The rows of one equality delete file, as a hash set of keys over its
 * equality columns (canonical forms: ints widened to 64 bits, floats to
 * double, decimals to 128 bits, so promoted columns compare equal). */
typedef struct eq_set {
    size_t nids;
    int read_idx[16];  /* index in the scan's read columns */
    firn_buf keys;
    int64_t *off;      /* nkeys + 1 */
    size_t nkeys, cap;
    uint32_t *table;   /* open addressing: key index + 1, 0 empty */
    size_t tcap;
} eq_set;

typedef struct eq_loaded {
    const firn_ice_data_file *file;
    eq_set set;
} eq_loaded;

/* A file being read, every byte counted in the scan's bytes_read. */
typedef struct counted_src {
    struct firn_ice_scan *s;
    firn_io_reader *in;
} counted_src;

/* Reserved field ids of position delete files (spec: Position Delete Files). */
#define POS_DELETE_FILE_PATH_ID 2147483546
#define POS_DELETE_POS_ID 2147483545

struct firn_ice_scan {
    firn_arena arena;       /* plan lifetime */
    firn_arena batch_arena; /* one batch */
    firn_arena read_scratch; /* the Parquet reader's temporaries, kept across files */
    const firn_ice_metadata *md;
    struct firn_io *io;
    firn_ice_scan_options opts;
    const firn_ice_snapshot *snap;
    const firn_ice_schema *schema;
    firn_ice_expr *filter;
    const firn_ice_field **fields; /* projected */
    size_t nfields;
    /* columns read: the projected ones first, then filter-only ones */
    const firn_ice_field **read;
    size_t nread;
    firn_ice_scan_task *tasks;
    size_t ntasks, cap_tasks;
    /* live delete files of the snapshot */
    struct scan_delete *dels;
    size_t ndels, cap_dels;
    /* positions deleted in the open file, sorted */
    int64_t *del_pos;
    size_t ndel_pos;
    /* equality delete sets: loaded once per delete file (eq_loaded), those of the
     * open data file in eqs */
    struct eq_loaded *eq_loaded;
    size_t neq_loaded;
    const eq_set **eqs;
    size_t neqs;
    uint64_t rg_first_row;
    firn_ice_scan_stats stats;
    char **warnings;
    size_t nwarnings, cap_warnings;
    /* name mapping: parsed lazily */
    json_t *name_mapping;
    bool name_mapping_loaded;
    /* reading */
    size_t cur_task;
    firn_pq_reader *reader;
    counted_src file_src; /* the open data file; reader reads through it (ranged) */
    bool *is_filter_col;     /* per read column: the filter reads it */
    size_t cur_rg;
    int *file_col; /* per read column: file column index or -1 */
    firn_pq_column_data *cols;
    const firn_ice_type **types;
    int32_t *ids;
    firn_pq_column_data *out_cols;
};

static void eq_sets_free(firn_ice_scan *s);

void firn_ice_scan_options_init(firn_ice_scan_options *o) {
    memset(o, 0, sizeof *o);
    o->snapshot_id = -1;
    o->as_of_ms = -1;
}

static void add_warning(firn_ice_scan *s, const char *msg) {
    if (s->nwarnings == s->cap_warnings) {
        s->cap_warnings = s->cap_warnings ? 2 * s->cap_warnings : 4;
        s->warnings = firn_xrealloc(s->warnings, s->cap_warnings * sizeof *s->warnings);
    }
    s->warnings[s->nwarnings++] = firn_xstrdup(msg);
}

void firn_ice_scan_free(firn_ice_scan *s) {
    if (!s) return;
    firn_pq_reader_free(s->reader);
    firn_io_reader_close(s->file_src.in);
    for (size_t i = 0; i < s->nwarnings; i++) free(s->warnings[i]);
    free(s->warnings);
    free(s->tasks);
    free(s->dels);
    free(s->del_pos);
    eq_sets_free(s);
    if (s->name_mapping) json_decref(s->name_mapping);
    firn_arena_release(&s->batch_arena);
    firn_arena_release(&s->read_scratch);
    firn_arena_release(&s->arena);
    free(s);
}

const firn_ice_scan_task *firn_ice_scan_tasks(const firn_ice_scan *s, size_t *n) {
    *n = s->ntasks;
    return s->tasks;
}
const firn_ice_scan_stats *firn_ice_scan_get_stats(const firn_ice_scan *s) { return &s->stats; }
const firn_ice_schema *firn_ice_scan_schema(const firn_ice_scan *s) { return s->schema; }
const firn_ice_expr *firn_ice_scan_filter(const firn_ice_scan *s) { return s->filter; }
const firn_ice_field *const *firn_ice_scan_fields(const firn_ice_scan *s, size_t *n) {
    *n = s->nfields;
    return s->fields;
}
const char *const *firn_ice_scan_warnings(const firn_ice_scan *s, size_t *n) {
    *n = s->nwarnings;
    return (const char *const *)s->warnings;
}

/* ---------------------------------------------------- snapshot selection */

static void format_ms(int64_t ms, char *buf, size_t n) {
    firn_ice_value v = firn_ice_value_i64(FIRN_ICE_TIMESTAMPTZ, ms * 1000);
    firn_buf b;
    firn_buf_init(&b);
    if (firn_ice_value_format(firn_ice_type_primitive(FIRN_ICE_TIMESTAMPTZ), &v, &b, NULL) == 0)
        snprintf(n ? buf : buf, n, "%s", firn_buf_cstr(&b));
    else
        snprintf(buf, n, "%lld ms", (long long)ms);
    firn_buf_release(&b);
}

static int select_snapshot(firn_ice_scan *s, firn_error *err) {
    const firn_ice_metadata *md = s->md;
    const firn_ice_scan_options *o = &s->opts;
    int nsel = (o->ref != NULL) + (o->snapshot_id >= 0) + (o->as_of_ms >= 0);
    if (nsel > 1)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "choose one of a ref, a snapshot id or a time to scan, not %d", nsel);
    bool use_snapshot_schema = false;
    s->snap = NULL;
    if (o->snapshot_id >= 0) {
        s->snap = firn_ice_metadata_snapshot(md, o->snapshot_id);
        if (!s->snap)
            return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND,
                              "snapshot %lld is not in the table (it may have expired); "
                              "list snapshots with 'firn inspect TABLE snapshots'",
                              (long long)o->snapshot_id);
        use_snapshot_schema = true;
    } else if (o->as_of_ms >= 0) {
        int64_t id = -1;
        for (size_t i = 0; i < md->nsnapshot_log; i++)
            if (md->snapshot_log[i].timestamp_ms <= o->as_of_ms) id = md->snapshot_log[i].snapshot_id;
        char tb[64];
        format_ms(o->as_of_ms, tb, sizeof tb);
        if (id < 0) {
            if (md->nsnapshot_log) {
                char ob[64];
                format_ms(md->snapshot_log[0].timestamp_ms, ob, sizeof ob);
                return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND,
                                  "no snapshot was current at %s: the snapshot log starts at %s",
                                  tb, ob);
            }
            return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND,
                              "no snapshot was current at %s: the table's snapshot log is empty", tb);
        }
        s->snap = firn_ice_metadata_snapshot(md, id);
        if (!s->snap)
            return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND,
                              "snapshot %lld, current at %s per the snapshot log, has expired",
                              (long long)id, tb);
        use_snapshot_schema = true;
    } else if (o->ref) {
        const firn_ice_ref *r = firn_ice_metadata_ref(md, o->ref);
        if (!r)
            return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "no branch or tag named '%s' in the table",
                              o->ref);
        s->snap = firn_ice_metadata_snapshot(md, r->snapshot_id);
        if (!s->snap)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "ref '%s' points at missing snapshot %lld",
                              o->ref, (long long)r->snapshot_id);
        use_snapshot_schema = r->type == FIRN_ICE_REF_TAG;
    } else {
        s->snap = firn_ice_metadata_current_snapshot(md);
    }
    s->schema = NULL;
    if (s->snap && use_snapshot_schema && s->snap->has_schema_id)
        s->schema = firn_ice_metadata_schema(md, s->snap->schema_id);
    if (!s->schema) s->schema = firn_ice_metadata_current_schema(md);
    if (!s->schema) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "table metadata has no current schema");
    s->stats.snapshot_id = s->snap ? s->snap->snapshot_id : -1;
    return 0;
}

/* ------------------------------------------------------------ projection */

static int select_columns(firn_ice_scan *s, firn_error *err) {
    const firn_ice_schema *sc = s->schema;
    size_t nall = firn_ice_schema_nfields(sc);
    const firn_ice_field *all = firn_ice_schema_fields(sc);
    size_t cap = (s->opts.columns ? s->opts.ncolumns : nall) + 64;
    s->fields = firn_arena_calloc(&s->arena, cap * sizeof *s->fields);
    if (s->opts.columns) {
        for (size_t i = 0; i < s->opts.ncolumns; i++) {
            const char *name = s->opts.columns[i];
            const firn_ice_field *f = firn_ice_schema_find_by_name(sc, name, !s->opts.case_insensitive);
            if (!f)
                return FIRN_RAISE(err, FIRN_ERR_INVALID, "--columns: unknown column '%s'", name);
            if (!firn_ice_type_is_primitive(f->type) || firn_ice_schema_parent_id(sc, f->id) != 0)
                return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                                  "--columns: column '%s' is nested or not primitive; scans read "
                                  "top-level primitive columns only",
                                  name);
            s->fields[s->nfields++] = f;
        }
    } else {
        for (size_t i = 0; i < nall; i++)
            if (firn_ice_type_is_primitive(all[i].type)) s->fields[s->nfields++] = &all[i];
    }
    return 0;
}

/* The columns read: projected, then filter columns and equality delete
 * columns not projected. */
static int build_read_list(firn_ice_scan *s, firn_error *err) {
    const firn_ice_schema *sc = s->schema;
    int32_t ids[128];
    size_t nids = firn_ice_expr_field_ids(s->filter, ids, 64);
    if (nids > 64) return FIRN_RAISE(err, FIRN_ERR_LIMIT, "filter uses more than 64 columns");
    for (size_t k = 0; k < s->ndels; k++) {
        const firn_ice_data_file *d = s->dels[k].file;
        if (d->content != FIRN_ICE_CONTENT_EQUALITY_DELETES) continue;
        for (size_t j = 0; j < d->nequality_ids; j++) {
            bool have = false;
            for (size_t m = 0; m < nids; m++) have = have || ids[m] == d->equality_ids[j];
            if (have) continue;
            if (nids == 128) return FIRN_RAISE(err, FIRN_ERR_LIMIT, "too many equality delete columns");
            ids[nids++] = d->equality_ids[j];
        }
    }
    s->read = firn_arena_calloc(&s->arena, (s->nfields + nids + 1) * sizeof *s->read);
    memcpy(s->read, s->fields, s->nfields * sizeof *s->read);
    s->nread = s->nfields;
    for (size_t k = 0; k < nids; k++) {
        bool have = false;
        for (size_t j = 0; j < s->nread; j++) have = have || s->read[j]->id == ids[k];
        if (have) continue;
        const firn_ice_field *f = firn_ice_schema_find_field(sc, ids[k]);
        if (!f)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "an equality delete file names field id %d, which the schema lacks",
                              ids[k]);
        if (firn_ice_schema_parent_id(sc, f->id) != 0 || !firn_ice_type_is_primitive(f->type))
            return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                              "column '%s' is nested; filters and equality deletes on nested "
                              "columns are not supported yet",
                              f->name);
        s->read[s->nread++] = f;
    }
    s->file_col = firn_arena_calloc(&s->arena, (s->nread + 1) * sizeof *s->file_col);
    s->cols = firn_arena_calloc(&s->arena, (s->nread + 1) * sizeof *s->cols);
    s->out_cols = firn_arena_calloc(&s->arena, (s->nread + 1) * sizeof *s->out_cols);
    s->types = firn_arena_calloc(&s->arena, (s->nread + 1) * sizeof *s->types);
    s->ids = firn_arena_calloc(&s->arena, (s->nread + 1) * sizeof *s->ids);
    s->is_filter_col = firn_arena_calloc(&s->arena, (s->nread + 1) * sizeof *s->is_filter_col);
    size_t nfilter = firn_ice_expr_field_ids(s->filter, ids, 64);
    for (size_t j = 0; j < s->nread; j++) {
        s->types[j] = s->read[j]->type;
        s->ids[j] = s->read[j]->id;
        for (size_t k = 0; k < nfilter; k++) s->is_filter_col[j] |= ids[k] == s->ids[j];
    }
    return 0;
}

/* --------------------------------------------------------------- ranges */

typedef struct summary_ctx {
    const firn_ice_manifest_file *mf;
    const firn_ice_partition_spec *spec;
    const firn_ice_expr *projected; /* for the partition field types */
} summary_ctx;

static const firn_ice_type *leaf_type(const firn_ice_expr *e, int32_t id) {
    if (e->op == FIRN_ICE_EXPR_AND || e->op == FIRN_ICE_EXPR_OR) {
        const firn_ice_type *t = leaf_type(e->left, id);
        return t ? t : leaf_type(e->right, id);
    }
    return e->field_id == id ? e->type : NULL;
}

static bool summary_range(void *ctx, int32_t id, firn_ice_value_range *r) {
    summary_ctx *c = ctx;
    size_t i = 0;
    while (i < c->spec->nfields && c->spec->fields[i].field_id != id) i++;
    if (i == c->spec->nfields || i >= c->mf->npartitions) return false;
    const firn_ice_field_summary *fs = &c->mf->partitions[i];
    const firn_ice_type *t = leaf_type(c->projected, id);
    if (!t) return false;
    r->may_have_null = fs->contains_null;
    r->may_have_nan = !fs->has_contains_nan || fs->contains_nan;
    r->may_have_non_null = fs->lower_bound || fs->upper_bound || !fs->contains_null || r->may_have_nan;
    firn_error e;
    firn_error_init(&e);
    if (fs->lower_bound && firn_ice_value_from_bytes(t, fs->lower_bound, fs->lower_bound_len, &r->lower, &e) == 0)
        r->has_lower = true;
    if (fs->upper_bound && firn_ice_value_from_bytes(t, fs->upper_bound, fs->upper_bound_len, &r->upper, &e) == 0)
        r->has_upper = true;
    firn_error_release(&e);
    return true;
}

typedef struct tuple_ctx {
    const firn_ice_data_file *df;
    const firn_ice_partition_spec *spec;
} tuple_ctx;

static bool tuple_range(void *ctx, int32_t id, firn_ice_value_range *r) {
    tuple_ctx *c = ctx;
    size_t i = 0;
    while (i < c->spec->nfields && c->spec->fields[i].field_id != id) i++;
    if (i == c->spec->nfields || i >= c->df->npartition) return false;
    const firn_ice_value *v = &c->df->partition[i];
    r->may_have_null = v->is_null;
    r->may_have_non_null = !v->is_null;
    r->may_have_nan = (v->type == FIRN_ICE_FLOAT && isnan(v->u.f32)) ||
                      (v->type == FIRN_ICE_DOUBLE && isnan(v->u.f64));
    if (!v->is_null && !r->may_have_nan) {
        r->has_lower = r->has_upper = true;
        r->lower = r->upper = *v;
    }
    return true;
}

static const firn_ice_metric *find_metric(const firn_ice_metric *m, size_t n, int32_t id) {
    for (size_t i = 0; i < n; i++)
        if (m[i].field_id == id) return &m[i];
    return NULL;
}

static const firn_ice_bound *find_bound(const firn_ice_bound *b, size_t n, int32_t id) {
    for (size_t i = 0; i < n; i++)
        if (b[i].field_id == id) return &b[i];
    return NULL;
}

bool firn_ice_metrics_range(void *ctx, int32_t id, firn_ice_value_range *r) {
    firn_ice_metrics_ctx *c = ctx;
    const firn_ice_data_file *df = c->df;
    const firn_ice_field *f = firn_ice_schema_find_field(c->schema, id);
    if (!f) return false;
    const firn_ice_metric *vc = find_metric(df->value_counts, df->nvalue_counts, id);
    const firn_ice_metric *nc = find_metric(df->null_value_counts, df->nnull_value_counts, id);
    const firn_ice_metric *nan = find_metric(df->nan_value_counts, df->nnan_value_counts, id);
    r->may_have_null = !nc || nc->value > 0;
    r->may_have_non_null = !(vc && nc && nc->value == vc->value);
    if (df->record_count == 0) r->may_have_non_null = r->may_have_null = false;
    r->may_have_nan = (f->type->id == FIRN_ICE_FLOAT || f->type->id == FIRN_ICE_DOUBLE) &&
                      (!nan || nan->value > 0);
    firn_error e;
    firn_error_init(&e);
    const firn_ice_bound *lo = find_bound(df->lower_bounds, df->nlower_bounds, id);
    const firn_ice_bound *hi = find_bound(df->upper_bounds, df->nupper_bounds, id);
    if (lo && firn_ice_value_from_bytes(f->type, lo->bytes, lo->len, &r->lower, &e) == 0)
        r->has_lower = true;
    if (hi && firn_ice_value_from_bytes(f->type, hi->bytes, hi->len, &r->upper, &e) == 0)
        r->has_upper = true;
    firn_error_release(&e);
    return true;
}

/* ------------------------------------------------------------- planning */

static int add_task(firn_ice_scan *s, const firn_ice_manifest_entry *en,
                    const firn_ice_partition_spec *spec) {
    if (s->ntasks == s->cap_tasks) {
        s->cap_tasks = s->cap_tasks ? 2 * s->cap_tasks : 16;
        s->tasks = firn_xrealloc(s->tasks, s->cap_tasks * sizeof *s->tasks);
    }
    firn_ice_data_file *df = firn_arena_alloc(&s->arena, sizeof *df);
    *df = en->data_file;
    firn_ice_scan_task *t = &s->tasks[s->ntasks++];
    memset(t, 0, sizeof *t);
    t->file = df;
    t->data_sequence_number = en->has_sequence_number ? en->sequence_number : 0;
    t->spec = spec;
    s->stats.planned_files++;
    s->stats.planned_bytes += df->file_size_in_bytes;
    s->stats.planned_records += df->record_count;
    return 0;
}

static int read_manifest(firn_ice_scan *s, const firn_ice_manifest_file *mf,
                         const firn_ice_partition_spec *spec, const firn_ice_expr *projected,
                         firn_error *err) {
    firn_ice_manifest_reader *r = firn_ice_manifest_reader_open(s->io, mf->manifest_path, err);
    if (!r) return FIRN_WRAP(err, err->kind, "cannot read manifest %s", mf->manifest_path);
    int rc = 0;
    if (spec) {
        firn_error sub;
        firn_error_init(&sub);
        /* the table's view of the partition types; the header's when the table's fails */
        (void)firn_ice_manifest_reader_set_spec(r, firn_ice_metadata_current_schema(s->md), spec, &sub);
        firn_error_release(&sub);
    }
    rc = firn_ice_manifest_reader_inherit(r, mf, err);
    bool deletes = mf->content != FIRN_ICE_CONTENT_DATA;
    if (!rc && (deletes || s->filter->op == FIRN_ICE_EXPR_TRUE))
        rc = firn_ice_manifest_reader_skip_stats(r, true, err);
    while (!rc) {
        firn_ice_manifest_entry en;
        int n = firn_ice_manifest_reader_next(r, &s->arena, &en, err);
        if (n < 0) {
            rc = n;
            break;
        }
        if (n == 0) break;
        if (en.status == FIRN_ICE_DELETED) continue;
        if (deletes) {
            s->stats.delete_files++;
            if (s->ndels == s->cap_dels) {
                s->cap_dels = s->cap_dels ? 2 * s->cap_dels : 8;
                s->dels = firn_xrealloc(s->dels, s->cap_dels * sizeof *s->dels);
            }
            firn_ice_data_file *df = firn_arena_alloc(&s->arena, sizeof *df);
            *df = en.data_file;
            s->dels[s->ndels].file = df;
            s->dels[s->ndels].sequence_number = en.has_sequence_number ? en.sequence_number : 0;
            s->dels[s->ndels].spec_id = mf->partition_spec_id;
            s->ndels++;
            continue;
        }
        if (en.data_file.content != FIRN_ICE_CONTENT_DATA) continue;
        s->stats.files_scanned_in_manifests++;
        if (projected->op != FIRN_ICE_EXPR_TRUE) {
            tuple_ctx tc = {&en.data_file, spec};
            if (!firn_ice_expr_may_match(projected, tuple_range, &tc)) {
                s->stats.pruned_by_partition++;
                continue;
            }
        }
        if (s->filter->op != FIRN_ICE_EXPR_TRUE) {
            firn_ice_metrics_ctx mc = {&en.data_file, s->schema};
            if (!firn_ice_expr_may_match(s->filter, firn_ice_metrics_range, &mc)) {
                s->stats.pruned_by_metrics++;
                continue;
            }
        }
        add_task(s, &en, spec);
    }
    if (rc && !strstr(err->message, mf->manifest_path))
        firn_error_context(err, "manifest %s", mf->manifest_path);
    firn_ice_manifest_reader_free(r);
    return rc;
}

static bool same_partition(const firn_ice_data_file *a, const firn_ice_data_file *b) {
    if (a->npartition != b->npartition) return false;
    for (size_t i = 0; i < a->npartition; i++) {
        const firn_ice_value *x = &a->partition[i], *y = &b->partition[i];
        if (x->is_null != y->is_null) return false;
        if (!x->is_null && (x->type != y->type || firn_ice_value_compare(x, y) != 0)) return false;
    }
    return true;
}

/* Whether the file_path bounds of a position delete file exclude path. */
static bool path_outside_bounds(const firn_ice_data_file *d, const char *path) {
    size_t n = strlen(path);
    for (size_t i = 0; i < d->nlower_bounds; i++)
        if (d->lower_bounds[i].field_id == POS_DELETE_FILE_PATH_ID) {
            const firn_ice_bound *b = &d->lower_bounds[i];
            size_t m = b->len < n ? b->len : n;
            int c = memcmp(b->bytes, path, m);
            if (c > 0 || (c == 0 && b->len > n)) return true;
        }
    for (size_t i = 0; i < d->nupper_bounds; i++)
        if (d->upper_bounds[i].field_id == POS_DELETE_FILE_PATH_ID) {
            const firn_ice_bound *b = &d->upper_bounds[i];
            size_t m = b->len < n ? b->len : n;
            int c = memcmp(b->bytes, path, m);
            if (c < 0 || (c == 0 && b->len < n)) return true;
        }
    return false;
}

/* Attach to each planned data file the delete files that apply (spec:
 * Scan Planning). Position deletes: delete seq >= data seq, same spec and
 * partition (or referenced_data_file = the file). Equality deletes: delete
 * seq > data seq, same partition or an unpartitioned delete: not applied yet. */
static int assign_deletes(firn_ice_scan *s, firn_error *err) {
    (void)err;
    if (!s->ndels) return 0;
    for (size_t t = 0; t < s->ntasks; t++) {
        firn_ice_scan_task *task = &s->tasks[t];
        const firn_ice_data_file *df = task->file;
        const firn_ice_data_file **list = NULL;
        size_t n = 0;
        for (size_t k = 0; k < s->ndels; k++) {
            const scan_delete *d = &s->dels[k];
            const firn_ice_data_file *dd = d->file;
            if (dd->content == FIRN_ICE_CONTENT_POSITION_DELETES) {
                if (d->sequence_number < task->data_sequence_number) continue;
                if (dd->referenced_data_file) {
                    if (strcmp(dd->referenced_data_file, df->file_path) != 0) continue;
                } else {
                    if (d->spec_id != df->spec_id || !same_partition(dd, df)) continue;
                    if (path_outside_bounds(dd, df->file_path)) continue;
                }
                if (!list) list = firn_arena_alloc(&s->arena, s->ndels * sizeof *list);
                list[n++] = dd;
                s->stats.position_deletes_applied++;
            } else if (dd->content == FIRN_ICE_CONTENT_EQUALITY_DELETES) {
                if (d->sequence_number <= task->data_sequence_number) continue;
                const firn_ice_partition_spec *dspec = firn_ice_metadata_spec(s->md, d->spec_id);
                bool global = !dspec || firn_ice_partition_spec_is_unpartitioned(dspec);
                if (!global && (d->spec_id != df->spec_id || !same_partition(dd, df))) continue;
                if (!list) list = firn_arena_alloc(&s->arena, s->ndels * sizeof *list);
                list[n++] = dd;
                s->stats.equality_deletes_applied++;
                continue;
            }
            continue;
        }
        task->deletes = list;
        task->ndeletes = n;
    }
    return 0;
}

int firn_ice_snapshot_manifest_files(struct firn_io *io, const firn_ice_snapshot *snap,
                                     firn_arena *a, firn_ice_manifest_file **out, size_t *n,
                                     firn_error *err) {
    ICE_ERR_GUARD(err);
    *out = NULL;
    *n = 0;
    if (snap->manifest_list)
        return firn_ice_manifest_list_read(io, snap->manifest_list, a, out, n, NULL, err);
    if (!snap->nmanifests) return 0;
    /* v1 without a manifest list: what Java's BaseSnapshot builds for each
     * embedded location (GenericManifestFile: the snapshot's id, no sequence
     * numbers, unknown counts), with the spec id and content of the header */
    firn_ice_manifest_file *v = firn_arena_calloc(a, snap->nmanifests * sizeof *v);
    for (size_t i = 0; i < snap->nmanifests; i++) {
        const char *path = snap->manifests[i];
        firn_io_stat st;
        if (firn_io_stat_file(io, path, &st, err))
            return FIRN_WRAP(err, err->kind, "snapshot %lld: embedded manifest %s",
                             (long long)snap->snapshot_id, path);
        firn_ice_manifest_reader *r = firn_ice_manifest_reader_open(io, path, err);
        if (!r)
            return FIRN_WRAP(err, err->kind, "snapshot %lld: cannot read embedded manifest %s",
                             (long long)snap->snapshot_id, path);
        const firn_ice_manifest_header *h = firn_ice_manifest_reader_header(r);
        firn_ice_manifest_file *m = &v[i];
        m->manifest_path = firn_arena_strdup(a, path);
        m->manifest_length = (int64_t)st.size;
        m->partition_spec_id = h->partition_spec_id >= 0 ? h->partition_spec_id : 0;
        m->content = h->content == FIRN_ICE_MANIFEST_DELETES ? (firn_ice_content)FIRN_ICE_MANIFEST_DELETES
                                                             : FIRN_ICE_CONTENT_DATA;
        m->sequence_number = m->min_sequence_number = 0;
        m->added_snapshot_id = snap->snapshot_id;
        m->added_files_count = m->existing_files_count = m->deleted_files_count = -1;
        m->added_rows_count = m->existing_rows_count = m->deleted_rows_count = -1;
        firn_ice_manifest_reader_free(r);
    }
    *out = v;
    *n = snap->nmanifests;
    return 0;
}

static int plan(firn_ice_scan *s, firn_error *err) {
    const firn_ice_snapshot *snap = s->snap;
    s->stats.total_bytes = s->stats.total_records = -1;
    if (!snap) return 0;
    const char *tfs = firn_ice_snapshot_summary_get(snap, "total-files-size");
    const char *trc = firn_ice_snapshot_summary_get(snap, "total-records");
    if (tfs) s->stats.total_bytes = strtoll(tfs, NULL, 10);
    if (trc) s->stats.total_records = strtoll(trc, NULL, 10);
    firn_ice_manifest_file *mfs = NULL;
    size_t n = 0;
    if (firn_ice_snapshot_manifest_files(s->io, snap, &s->arena, &mfs, &n, err))
        return FIRN_WRAP(err, err->kind, "cannot read the manifest list of snapshot %lld",
                         (long long)snap->snapshot_id);
    for (size_t i = 0; i < n; i++) {
        const firn_ice_manifest_file *mf = &mfs[i];
        if (mf->content != FIRN_ICE_CONTENT_DATA) {
            s->stats.delete_manifests++;
            if (mf->added_files_count == 0 && mf->existing_files_count == 0) continue;
            if (read_manifest(s, mf, NULL, NULL, err)) return err->kind ? -(int)err->kind : -1;
            continue;
        }
        s->stats.total_manifests++;
        int64_t live = (mf->added_files_count >= 0 ? mf->added_files_count : 0) +
                       (mf->existing_files_count >= 0 ? mf->existing_files_count : 0);
        s->stats.total_files += live;
        const firn_ice_partition_spec *spec = firn_ice_metadata_spec(s->md, mf->partition_spec_id);
        if (!spec)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "manifest %s uses partition spec %d, which the "
                              "table metadata does not have", mf->manifest_path, mf->partition_spec_id);
        const firn_ice_expr *projected = firn_ice_expr_project(&s->arena, s->filter, spec, s->schema, err);
        if (!projected) return -(int)err->kind;
        if (projected->op != FIRN_ICE_EXPR_TRUE) {
            summary_ctx sc = {mf, spec, projected};
            if (!firn_ice_expr_may_match(projected, summary_range, &sc)) continue;
        }
        if (mf->added_files_count == 0 && mf->existing_files_count == 0) continue;
        s->stats.planned_manifests++;
        if (read_manifest(s, mf, spec, projected, err)) return -(int)err->kind;
    }
    return assign_deletes(s, err);
}

firn_ice_scan *firn_ice_scan_new(const firn_ice_metadata *md, struct firn_io *io,
                                 const firn_ice_scan_options *opts, firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_ice_scan *s = firn_xcalloc(1, sizeof *s);
    firn_arena_init(&s->arena, 0);
    firn_arena_init(&s->batch_arena, 0);
    firn_arena_init(&s->read_scratch, 0);
    s->md = md;
    s->io = io;
    if (opts) s->opts = *opts;
    else firn_ice_scan_options_init(&s->opts);
    if (select_snapshot(s, err)) goto fail;
    firn_ice_expr *unbound = NULL;
    if (s->opts.where) {
        unbound = firn_ice_expr_parse(&s->arena, s->opts.where, err);
        if (!unbound) goto fail;
    }
    if (s->opts.filter) unbound = unbound ? firn_ice_expr_and(&s->arena, unbound, (firn_ice_expr *)s->opts.filter)
                                          : (firn_ice_expr *)s->opts.filter;
    s->filter = firn_ice_expr_bind(&s->arena, unbound, s->schema, !s->opts.case_insensitive, err);
    if (!s->filter) goto fail;
    if (select_columns(s, err)) goto fail;
    if (plan(s, err)) goto fail;
    if (build_read_list(s, err)) goto fail;
    return s;
fail:
    firn_ice_scan_free(s);
    return NULL;
}

firn_ice_scan *firn_ice_scan_table(const firn_ice_table *t, const firn_ice_scan_options *opts,
                                   firn_error *err) {
    return firn_ice_scan_new(t->metadata, t->io, opts, err);
}

/* --------------------------------------------------------------- reading */

static const json_t *mapping_find(const json_t *arr, int32_t id) {
    size_t i;
    const json_t *m;
    if (!json_is_array(arr)) return NULL;
    json_array_foreach(arr, i, m) {
        json_t *fid = json_object_get(m, "field-id");
        if (json_is_integer(fid) && json_integer_value(fid) == id) return m;
    }
    return NULL;
}

/* Map the read columns of the open file: by field id, else by name mapping. */
static int map_columns(firn_ice_scan *s, const char *path, firn_error *err) {
    firn_pq_reader *r = s->reader;
    size_t nc = firn_pq_reader_num_columns(r);
    bool has_ids = false;
    for (size_t c = 0; c < nc; c++) has_ids = has_ids || firn_pq_reader_column(r, c)->field_id >= 0;
    if (!has_ids && nc > 0 && !s->name_mapping_loaded) {
        s->name_mapping_loaded = true;
        const char *nm = firn_ice_metadata_property(s->md, "schema.name-mapping.default");
        if (nm) {
            json_error_t je;
            s->name_mapping = json_loads(nm, 0, &je);
            if (!s->name_mapping || !json_is_array(s->name_mapping))
                return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                                  "table property schema.name-mapping.default is not a JSON array "
                                  "of mappings (line %d: %s)",
                                  je.line, s->name_mapping ? "not an array" : je.text);
        }
    }
    if (!has_ids && nc > 0 && !s->name_mapping)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "data file %s has no Parquet field ids and the table has no "
                          "schema.name-mapping.default property to map its columns by name; "
                          "set one (PyIceberg and Java's MappingUtil create it)",
                          path);
    for (size_t j = 0; j < s->nread; j++) {
        int c = -1;
        if (has_ids) {
            c = firn_pq_reader_find_field(r, s->ids[j]);
        } else if (nc > 0) {
            const json_t *m = mapping_find(s->name_mapping, s->ids[j]);
            const json_t *names = m ? json_object_get(m, "names") : NULL;
            size_t k;
            const json_t *nmv;
            if (json_is_array(names))
                json_array_foreach(names, k, nmv) {
                    if (c < 0 && json_is_string(nmv)) c = firn_pq_reader_find_path(r, json_string_value(nmv));
                }
        }
        if (c >= 0) {
            const firn_pq_column_desc *d = firn_pq_reader_column(r, (size_t)c);
            int want = firn_ice_type_to_pq(s->types[j]);
            bool ok = d->supported && (int)d->type == want;
            const firn_ice_type *t = s->types[j];
            if (!ok && d->supported) {
                /* promotions the spec allows */
                ok = (d->type == FIRN_PQ_INT && t->id == FIRN_ICE_LONG) ||
                     (d->type == FIRN_PQ_FLOAT && t->id == FIRN_ICE_DOUBLE) ||
                     (d->type == FIRN_PQ_DATE && (t->id == FIRN_ICE_TIMESTAMP || t->id == FIRN_ICE_TIMESTAMPTZ));
            }
            if (ok && t->id == FIRN_ICE_DECIMAL) {
                /* decimal(P,S) -> decimal(P',S): int32 -> int64 widening only */
                size_t fw = d->precision <= 9 ? 4 : d->precision <= 18 ? 8 : (size_t)firn_pq_decimal_width(d->precision);
                size_t tw = firn_ice_type_pq_width(t);
                ok = d->scale == t->scale && (fw == tw || (fw == 4 && tw == 8));
            }
            if (!ok) {
                char tb[48];
                return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                                  "data file %s: column '%s' (field id %d) cannot be read as the "
                                  "table's %s",
                                  path, d->path, s->ids[j], firn_ice_type_to_string(t, tb, sizeof tb));
            }
        }
        s->file_col[j] = c;
    }
    return 0;
}

static void eq_sets_free(firn_ice_scan *s) {
    for (size_t i = 0; i < s->neq_loaded; i++) {
        eq_set *e = &s->eq_loaded[i].set;
        firn_buf_release(&e->keys);
        free(e->off);
        free(e->table);
    }
    free(s->eq_loaded);
    s->eq_loaded = NULL;
    s->neq_loaded = 0;
    free(s->eqs);
    s->eqs = NULL;
    s->neqs = 0;
}

/* Append the canonical key form of row i of column c (type t) to b. */
static void key_append(firn_buf *b, const firn_ice_type *t, const firn_pq_column_data *c, size_t i) {
    if (c->validity && !c->validity[i]) {
        firn_buf_put_u8(b, 0);
        return;
    }
    firn_buf_put_u8(b, 1);
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: firn_buf_put_u8(b, ((const uint8_t *)c->values)[i] != 0); return;
    case FIRN_ICE_INT:
    case FIRN_ICE_DATE: firn_buf_put_le64(b, (uint64_t)(int64_t)((const int32_t *)c->values)[i]); return;
    case FIRN_ICE_FLOAT: {
        double d = ((const float *)c->values)[i];
        firn_buf_append(b, &d, 8);
        return;
    }
    case FIRN_ICE_DOUBLE: firn_buf_append(b, (const double *)c->values + i, 8); return;
    case FIRN_ICE_DECIMAL: {
        firn_ice_int128 x;
        if (t->precision <= 9) x = ((const int32_t *)c->values)[i];
        else if (t->precision <= 18) x = ((const int64_t *)c->values)[i];
        else {
            int32_t w = firn_pq_decimal_width(t->precision);
            const uint8_t *p = (const uint8_t *)c->values + (size_t)w * i;
            x = (p[0] & 0x80) ? -1 : 0;
            for (int32_t k = 0; k < w; k++) x = (firn_ice_int128)(((unsigned __int128)x << 8) | p[k]);
        }
        firn_buf_append(b, &x, sizeof x);
        return;
    }
    case FIRN_ICE_UUID: firn_buf_append(b, (const uint8_t *)c->values + 16 * i, 16); return;
    case FIRN_ICE_FIXED:
        firn_buf_append(b, (const uint8_t *)c->values + (size_t)t->length * i, (size_t)t->length);
        return;
    case FIRN_ICE_STRING:
    case FIRN_ICE_BINARY: {
        uint64_t l = (uint64_t)(c->offsets[i + 1] - c->offsets[i]);
        firn_buf_put_le64(b, l);
        firn_buf_append(b, c->data + c->offsets[i], (size_t)l);
        return;
    }
    default: firn_buf_append(b, (const int64_t *)c->values + i, 8); return;
    }
}

static bool eq_find(const eq_set *e, const uint8_t *key, size_t len, uint64_t h) {
    if (!e->tcap) return false;
    for (size_t p = h & (e->tcap - 1);; p = (p + 1) & (e->tcap - 1)) {
        uint32_t v = e->table[p];
        if (!v) return false;
        size_t k = v - 1;
        size_t kl = (size_t)(e->off[k + 1] - e->off[k]);
        if (kl == len && memcmp(e->keys.data + e->off[k], key, len) == 0) return true;
    }
}

static void eq_insert(eq_set *e, size_t key_start) {
    size_t len = e->keys.len - key_start;
    uint64_t h = firn_xxh64(e->keys.data + key_start, len, 0);
    if (eq_find(e, e->keys.data + key_start, len, h)) {
        e->keys.len = key_start;
        return;
    }
    if (e->nkeys + 2 > e->cap) {
        e->cap = e->cap ? 2 * e->cap : 64;
        e->off = firn_xrealloc(e->off, (e->cap + 1) * sizeof *e->off);
    }
    e->off[e->nkeys] = (int64_t)key_start;
    e->off[e->nkeys + 1] = (int64_t)e->keys.len;
    e->nkeys++;
    if (2 * e->nkeys > e->tcap) {
        size_t ncap = e->tcap ? 2 * e->tcap : 128;
        uint32_t *t = firn_xcalloc(ncap, sizeof *t);
        for (size_t k = 0; k < e->nkeys; k++) {
            size_t kl = (size_t)(e->off[k + 1] - e->off[k]);
            uint64_t kh = firn_xxh64(e->keys.data + e->off[k], kl, 0);
            size_t p = kh & (ncap - 1);
            while (t[p]) p = (p + 1) & (ncap - 1);
            t[p] = (uint32_t)(k + 1);
        }
        free(e->table);
        e->table = t;
        e->tcap = ncap;
        return;
    }
    size_t p = h & (e->tcap - 1);
    while (e->table[p]) p = (p + 1) & (e->tcap - 1);
    e->table[p] = (uint32_t)e->nkeys;
}

static const firn_ice_type_id PQ_TO_ICE[FIRN_PQ_TYPE_COUNT] = {
    [FIRN_PQ_BOOLEAN] = FIRN_ICE_BOOLEAN, [FIRN_PQ_INT] = FIRN_ICE_INT, [FIRN_PQ_LONG] = FIRN_ICE_LONG,
    [FIRN_PQ_FLOAT] = FIRN_ICE_FLOAT, [FIRN_PQ_DOUBLE] = FIRN_ICE_DOUBLE,
    [FIRN_PQ_DECIMAL] = FIRN_ICE_DECIMAL, [FIRN_PQ_DATE] = FIRN_ICE_DATE, [FIRN_PQ_TIME] = FIRN_ICE_TIME,
    [FIRN_PQ_TIMESTAMP] = FIRN_ICE_TIMESTAMP, [FIRN_PQ_TIMESTAMPTZ] = FIRN_ICE_TIMESTAMPTZ,
    [FIRN_PQ_TIMESTAMP_NS] = FIRN_ICE_TIMESTAMP_NS, [FIRN_PQ_TIMESTAMPTZ_NS] = FIRN_ICE_TIMESTAMPTZ_NS,
    [FIRN_PQ_STRING] = FIRN_ICE_STRING, [FIRN_PQ_UUID] = FIRN_ICE_UUID, [FIRN_PQ_FIXED] = FIRN_ICE_FIXED,
    [FIRN_PQ_BINARY] = FIRN_ICE_BINARY,
};

/* Reads of a counted file (firn_pq_read_fn): every byte the scan reads from a
 * data or delete file goes through here. */
static int read_counted(void *ctx, uint64_t off, void *buf, size_t n, firn_error *err) {
    counted_src *c = ctx;
    int rc = firn_io_read_at(c->in, off, buf, n, err);
    if (rc) return rc;
    c->s->stats.bytes_read += (int64_t)n;
    return 0;
}

/* Open file_path for ranged reads through src (src->in set; the caller closes
 * it after freeing the reader). what names the file in errors. */
static firn_pq_reader *open_counted(firn_ice_scan *s, const char *file_path, const char *what,
                                    counted_src *src, firn_error *err) {
    src->s = s;
    src->in = NULL;
    if (firn_io_open(s->io, file_path, &src->in, err)) {
        FIRN_WRAP(err, err->kind, "cannot read %s %s", what, file_path);
        return NULL;
    }
    firn_pq_reader *r = firn_pq_reader_open_ranged(firn_io_reader_size(src->in), read_counted, src, err);
    if (!r) {
        FIRN_WRAP(err, err->kind, "cannot open %s %s", what, file_path);
        return NULL;
    }
    firn_pq_reader_use_scratch(r, &s->read_scratch);
    return r;
}

/* The loaded set of equality delete file d, or NULL. */
static const eq_set *eq_find_loaded(const firn_ice_scan *s, const firn_ice_data_file *d) {
    for (size_t i = 0; i < s->neq_loaded; i++)
        if (s->eq_loaded[i].file == d) return &s->eq_loaded[i].set;
    return NULL;
}

/* Load equality delete file d into a set, once per scan (a file applying to
 * many data files is read once). Only its equality columns are fetched. */
static int load_equality_delete(firn_ice_scan *s, const firn_ice_data_file *d, firn_error *err) {
    if (eq_find_loaded(s, d)) return 0;
    if (d->nequality_ids == 0 || d->nequality_ids > 16)
        return FIRN_RAISE(err, d->nequality_ids ? FIRN_ERR_UNSUPPORTED : FIRN_ERR_CORRUPT,
                          "equality delete file %s has %zu equality ids (firn handles 1 to 16)",
                          d->file_path, d->nequality_ids);
    eq_set set;
    memset(&set, 0, sizeof set);
    eq_set *e = &set;
    e->nids = d->nequality_ids;
    for (size_t j = 0; j < e->nids; j++) {
        e->read_idx[j] = -1;
        for (size_t k = 0; k < s->nread; k++)
            if (s->ids[k] == d->equality_ids[j]) e->read_idx[j] = (int)k;
        if (e->read_idx[j] < 0)
            return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "equality column %d not read", d->equality_ids[j]);
    }
    counted_src src;
    firn_pq_reader *r = open_counted(s, d->file_path, "equality delete file", &src, err);
    if (!r) {
        firn_io_reader_close(src.in);
        return -(int)err->kind;
    }
    int cols[16];
    firn_ice_type types[16];
    int rc = 0;
    for (size_t j = 0; j < e->nids && !rc; j++) {
        cols[j] = firn_pq_reader_find_field(r, d->equality_ids[j]);
        if (cols[j] < 0) {
            rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT, "equality delete file %s has no column with field id %d",
                            d->file_path, d->equality_ids[j]);
            break;
        }
        const firn_pq_column_desc *cd = firn_pq_reader_column(r, (size_t)cols[j]);
        memset(&types[j], 0, sizeof types[j]);
        types[j].id = cd->supported ? PQ_TO_ICE[cd->type] : 0;
        types[j].precision = cd->precision;
        types[j].scale = cd->scale;
        types[j].length = cd->length;
        if (!types[j].id)
            rc = FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "equality delete file %s: column %s cannot be read",
                            d->file_path, cd->path);
    }
    for (size_t rg = 0; !rc && rg < firn_pq_reader_num_row_groups(r); rg++) {
        firn_arena_reset(&s->batch_arena);
        firn_pq_column_data c[16];
        for (size_t j = 0; j < e->nids && !rc; j++)
            rc = firn_pq_reader_read_column(r, rg, (size_t)cols[j], &s->batch_arena, &c[j], err);
        if (rc) break;
        size_t n = firn_pq_reader_row_group_rows(r, rg);
        for (size_t i = 0; i < n; i++) {
            size_t start = e->keys.len;
            for (size_t j = 0; j < e->nids; j++) key_append(&e->keys, &types[j], &c[j], i);
            eq_insert(e, start);
        }
    }
    firn_pq_reader_free(r);
    firn_io_reader_close(src.in);
    if (rc) {
        firn_buf_release(&e->keys);
        free(e->off);
        free(e->table);
        return rc;
    }
    s->eq_loaded = firn_xrealloc(s->eq_loaded, (s->neq_loaded + 1) * sizeof *s->eq_loaded);
    s->eq_loaded[s->neq_loaded].file = d;
    s->eq_loaded[s->neq_loaded].set = set;
    s->neq_loaded++;
    return 0;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The deletes of the data file being opened: the positions of position delete
 * files naming it (row groups whose file_path bounds exclude it are not
 * fetched, nor any column but file_path and pos), and the equality sets. */
static int load_position_deletes(firn_ice_scan *s, const firn_ice_scan_task *task, firn_error *err) {
    free(s->del_pos);
    s->del_pos = NULL;
    s->ndel_pos = 0;
    size_t cap = 0;
    const char *path = task->file->file_path;
    size_t plen = strlen(path);
    /* equality sets: load the missing ones, then list this file's (after all
     * loads: eq_loaded may move while it grows) */
    free(s->eqs);
    s->eqs = firn_xcalloc(task->ndeletes + 1, sizeof *s->eqs);
    s->neqs = 0;
    for (size_t k = 0; k < task->ndeletes; k++)
        if (task->deletes[k]->content == FIRN_ICE_CONTENT_EQUALITY_DELETES &&
            load_equality_delete(s, task->deletes[k], err))
            return -(int)err->kind;
    for (size_t k = 0; k < task->ndeletes; k++)
        if (task->deletes[k]->content == FIRN_ICE_CONTENT_EQUALITY_DELETES)
            s->eqs[s->neqs++] = eq_find_loaded(s, task->deletes[k]);
    for (size_t k = 0; k < task->ndeletes; k++) {
        const firn_ice_data_file *d = task->deletes[k];
        if (d->content == FIRN_ICE_CONTENT_EQUALITY_DELETES) continue;
        counted_src src;
        firn_pq_reader *r = open_counted(s, d->file_path, "position delete file", &src, err);
        if (!r) {
            firn_io_reader_close(src.in);
            return -(int)err->kind;
        }
        int cp = firn_pq_reader_find_field(r, POS_DELETE_FILE_PATH_ID);
        int cq = firn_pq_reader_find_field(r, POS_DELETE_POS_ID);
        if (cp < 0) cp = firn_pq_reader_find_path(r, "file_path");
        if (cq < 0) cq = firn_pq_reader_find_path(r, "pos");
        int rc = 0;
        if (cp < 0 || cq < 0 || firn_pq_reader_column(r, (size_t)cp)->type != FIRN_PQ_STRING ||
            firn_pq_reader_column(r, (size_t)cq)->type != FIRN_PQ_LONG)
            rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                            "position delete file %s lacks a string file_path (field id %d) and a "
                            "long pos (field id %d) column",
                            d->file_path, POS_DELETE_FILE_PATH_ID, POS_DELETE_POS_ID);
        firn_pq_value want = {.type = FIRN_PQ_STRING, .bytes = (const uint8_t *)path, .len = plen};
        for (size_t rg = 0; !rc && rg < firn_pq_reader_num_row_groups(r); rg++) {
            if (!firn_pq_reader_row_group_may_match(r, rg, (size_t)cp, FIRN_PQ_EQ, &want)) continue;
            firn_arena_reset(&s->batch_arena);
            firn_pq_column_data pc, qc;
            rc = firn_pq_reader_read_column(r, rg, (size_t)cp, &s->batch_arena, &pc, err);
            if (!rc) rc = firn_pq_reader_read_column(r, rg, (size_t)cq, &s->batch_arena, &qc, err);
            if (rc) break;
            size_t n = firn_pq_reader_row_group_rows(r, rg);
            for (size_t i = 0; i < n; i++) {
                if ((pc.validity && !pc.validity[i]) || (qc.validity && !qc.validity[i])) continue;
                size_t l = (size_t)(pc.offsets[i + 1] - pc.offsets[i]);
                if (l != plen || memcmp(pc.data + pc.offsets[i], path, plen) != 0) continue;
                if (s->ndel_pos == cap) {
                    cap = cap ? 2 * cap : 64;
                    s->del_pos = firn_xrealloc(s->del_pos, cap * sizeof *s->del_pos);
                }
                s->del_pos[s->ndel_pos++] = ((const int64_t *)qc.values)[i];
            }
        }
        firn_pq_reader_free(r);
        firn_io_reader_close(src.in);
        if (rc) return rc;
    }
    if (s->ndel_pos > 1) qsort(s->del_pos, s->ndel_pos, sizeof *s->del_pos, cmp_i64);
    return 0;
}

static int open_file(firn_ice_scan *s, const firn_ice_scan_task *task, firn_error *err) {
    const firn_ice_data_file *df = task->file;
    if (df->file_format && strcasecmp(df->file_format, "PARQUET") != 0)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "data file %s is %s; firn reads Parquet only",
                          df->file_path, df->file_format);
    s->file_src.s = s;
    if (firn_io_open(s->io, df->file_path, &s->file_src.in, err))
        return FIRN_WRAP(err, err->kind, "cannot read data file %s", df->file_path);
    uint64_t len = firn_io_reader_size(s->file_src.in);
    if ((int64_t)len != df->file_size_in_bytes) {
        char msg[1400];
        snprintf(msg, sizeof msg,
                 "data file %s: the manifest says file_size_in_bytes = %lld but the file has %llu "
                 "bytes (the manifest is wrong or the file was replaced)",
                 df->file_path, (long long)df->file_size_in_bytes, (unsigned long long)len);
        if (!s->opts.allow_size_mismatch) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s", msg);
        add_warning(s, msg);
    }
    /* footer first; column chunks are read when a row group needs them */
    firn_pq_reader *r = firn_pq_reader_open_ranged(len, read_counted, &s->file_src, err);
    if (!r) return FIRN_WRAP(err, err->kind, "cannot open data file %s", df->file_path);
    firn_pq_reader_use_scratch(r, &s->read_scratch);
    s->reader = r;
    s->cur_rg = 0;
    s->rg_first_row = 0;
    if (load_position_deletes(s, task, err)) return -(int)err->kind;
    s->stats.files_read++;
    s->stats.row_groups_total += firn_pq_reader_num_row_groups(r);
    if ((int64_t)firn_pq_reader_num_rows(r) != df->record_count) {
        char msg[1400];
        snprintf(msg, sizeof msg, "data file %s: the manifest says record_count = %lld but the file has %llu rows",
                 df->file_path, (long long)df->record_count,
                 (unsigned long long)firn_pq_reader_num_rows(r));
        add_warning(s, msg);
    }
    return map_columns(s, df->file_path, err);
}

static void close_file(firn_ice_scan *s) {
    firn_pq_reader_free(s->reader);
    firn_io_reader_close(s->file_src.in);
    s->reader = NULL;
    s->file_src.in = NULL;
}

static bool pq_value_from(const firn_ice_value *v, const firn_pq_column_desc *d, firn_pq_value *out) {
    memset(out, 0, sizeof *out);
    out->type = d->type;
    switch (v->type) {
    case FIRN_ICE_BOOLEAN: out->i = v->u.b; return true;
    case FIRN_ICE_INT: case FIRN_ICE_DATE: out->i = v->u.i32; return d->type != FIRN_PQ_TIMESTAMP && d->type != FIRN_PQ_TIMESTAMPTZ;
    case FIRN_ICE_LONG: case FIRN_ICE_TIME: case FIRN_ICE_TIMESTAMP: case FIRN_ICE_TIMESTAMPTZ:
    case FIRN_ICE_TIMESTAMP_NS: case FIRN_ICE_TIMESTAMPTZ_NS:
        if (d->type == FIRN_PQ_DATE) return false; /* promoted date -> timestamp */
        out->i = v->u.i64;
        return true;
    case FIRN_ICE_DECIMAL:
        if (d->precision > 18 || d->scale != v->scale) return false;
        out->i = (int64_t)v->u.dec;
        return true;
    case FIRN_ICE_STRING: case FIRN_ICE_BINARY: case FIRN_ICE_FIXED:
        out->bytes = v->u.bin.ptr;
        out->len = v->u.bin.len;
        return true;
    case FIRN_ICE_UUID: out->bytes = v->u.uuid; out->len = 16; return true;
    default: return false; /* floats: NaN ordering differs, no skipping */
    }
}

static bool rg_may_match(firn_ice_scan *s, const firn_ice_expr *e, size_t rg) {
    switch (e->op) {
    case FIRN_ICE_EXPR_TRUE: return true;
    case FIRN_ICE_EXPR_FALSE: return false;
    case FIRN_ICE_EXPR_AND: return rg_may_match(s, e->left, rg) && rg_may_match(s, e->right, rg);
    case FIRN_ICE_EXPR_OR: return rg_may_match(s, e->left, rg) || rg_may_match(s, e->right, rg);
    case FIRN_ICE_EXPR_NE: case FIRN_ICE_EXPR_NOT_IN: case FIRN_ICE_EXPR_NOT: return true;
    default: break;
    }
    int c = -1;
    for (size_t j = 0; j < s->nread; j++)
        if (s->ids[j] == e->field_id) c = s->file_col[j];
    if (c < 0) return true;
    const firn_pq_column_desc *d = firn_pq_reader_column(s->reader, (size_t)c);
    if (e->op == FIRN_ICE_EXPR_IS_NULL || e->op == FIRN_ICE_EXPR_NOT_NULL)
        return firn_pq_reader_row_group_may_match(s->reader, rg, (size_t)c,
                                                  e->op == FIRN_ICE_EXPR_IS_NULL ? FIRN_PQ_IS_NULL : FIRN_PQ_NOT_NULL, NULL);
    firn_pq_op op;
    switch (e->op) {
    case FIRN_ICE_EXPR_EQ: case FIRN_ICE_EXPR_IN: op = FIRN_PQ_EQ; break;
    case FIRN_ICE_EXPR_LT: op = FIRN_PQ_LT; break;
    case FIRN_ICE_EXPR_LE: op = FIRN_PQ_LE; break;
    case FIRN_ICE_EXPR_GT: op = FIRN_PQ_GT; break;
    case FIRN_ICE_EXPR_GE: op = FIRN_PQ_GE; break;
    default: return true;
    }
    for (size_t k = 0; k < e->nliterals; k++) {
        firn_pq_value pv;
        if (!pq_value_from(&e->values[k], d, &pv)) return true;
        if (firn_pq_reader_row_group_may_match(s->reader, rg, (size_t)c, op, &pv)) return true;
    }
    return false;
}

/* A column of n rows that are all null, or all equal to v. */
static void constant_column(firn_arena *a, const firn_ice_type *t, const firn_ice_value *v, size_t n,
                            firn_pq_column_data *out) {
    memset(out, 0, sizeof *out);
    size_t w = firn_ice_type_pq_width(t);
    bool null = !v || v->is_null;
    uint8_t *valid = firn_arena_calloc(a, n + 1);
    if (!null) memset(valid, 1, n);
    out->validity = valid;
    if (w == 0) {
        int64_t *off = firn_arena_calloc(a, (n + 1) * sizeof *off);
        size_t len = null ? 0 : v->u.bin.len;
        uint8_t *data = firn_arena_alloc(a, len * n + 1);
        for (size_t i = 0; i < n; i++) {
            if (len) memcpy(data + i * len, v->u.bin.ptr, len);
            off[i + 1] = (int64_t)((i + 1) * len);
        }
        out->offsets = off;
        out->data = data;
        return;
    }
    uint8_t *vals = firn_arena_calloc(a, w * n + 1);
    if (!null) {
        uint8_t one[32] = {0};
        switch (t->id) {
        case FIRN_ICE_BOOLEAN: one[0] = v->u.b; break;
        case FIRN_ICE_INT: case FIRN_ICE_DATE: memcpy(one, &v->u.i32, 4); break;
        case FIRN_ICE_FLOAT: memcpy(one, &v->u.f32, 4); break;
        case FIRN_ICE_DOUBLE:
            if (v->type == FIRN_ICE_FLOAT) { double d = v->u.f32; memcpy(one, &d, 8); }
            else memcpy(one, &v->u.f64, 8);
            break;
        case FIRN_ICE_LONG:
            if (v->type == FIRN_ICE_INT) { int64_t x = v->u.i32; memcpy(one, &x, 8); }
            else memcpy(one, &v->u.i64, 8);
            break;
        case FIRN_ICE_DECIMAL:
            if (w == 4) { int32_t x = (int32_t)v->u.dec; memcpy(one, &x, 4); }
            else if (w == 8) { int64_t x = (int64_t)v->u.dec; memcpy(one, &x, 8); }
            else for (size_t k = 0; k < w; k++) one[w - 1 - k] = (uint8_t)(v->u.dec >> (8 * k));
            break;
        case FIRN_ICE_UUID: memcpy(one, v->u.uuid, 16); break;
        case FIRN_ICE_FIXED: if (w <= 32) memcpy(one, v->u.bin.ptr, v->u.bin.len < w ? v->u.bin.len : w); break;
        default: memcpy(one, &v->u.i64, 8); break;
        }
        for (size_t i = 0; i < n; i++) memcpy(vals + i * w, one, w);
    }
    out->values = vals;
}

/* Widen a promoted column in place of *c (new memory in a). */
static void widen(firn_arena *a, const firn_pq_column_desc *d, const firn_ice_type *t, size_t n,
                  firn_pq_column_data *c) {
    if (d->type == FIRN_PQ_INT && t->id == FIRN_ICE_LONG) {
        int64_t *v = firn_arena_alloc(a, 8 * n + 8);
        for (size_t i = 0; i < n; i++) v[i] = ((const int32_t *)c->values)[i];
        c->values = v;
    } else if (d->type == FIRN_PQ_FLOAT && t->id == FIRN_ICE_DOUBLE) {
        double *v = firn_arena_alloc(a, 8 * n + 8);
        for (size_t i = 0; i < n; i++) v[i] = ((const float *)c->values)[i];
        c->values = v;
    } else if (d->type == FIRN_PQ_DATE && t->id != FIRN_ICE_DATE) {
        int64_t *v = firn_arena_alloc(a, 8 * n + 8);
        for (size_t i = 0; i < n; i++) v[i] = (int64_t)((const int32_t *)c->values)[i] * 86400000000LL;
        c->values = v;
    } else if (d->type == FIRN_PQ_DECIMAL && d->precision <= 9 && t->precision > 9 && t->precision <= 18) {
        int64_t *v = firn_arena_alloc(a, 8 * n + 8);
        for (size_t i = 0; i < n; i++) v[i] = ((const int32_t *)c->values)[i];
        c->values = v;
    }
}

/* Keep the rows with sel[i] (k of them) of column c. */
static void compact(firn_arena *a, const firn_ice_type *t, const firn_pq_column_data *c,
                    const uint8_t *sel, size_t n, size_t k, firn_pq_column_data *out) {
    memset(out, 0, sizeof *out);
    if (c->validity) {
        uint8_t *v = firn_arena_alloc(a, k + 1);
        size_t o = 0;
        for (size_t i = 0; i < n; i++)
            if (sel[i]) v[o++] = c->validity[i];
        out->validity = v;
    }
    size_t w = firn_ice_type_pq_width(t);
    if (w == 0) {
        int64_t *off = firn_arena_alloc(a, (k + 1) * sizeof *off);
        size_t bytes = 0;
        for (size_t i = 0; i < n; i++)
            if (sel[i]) bytes += (size_t)(c->offsets[i + 1] - c->offsets[i]);
        uint8_t *data = firn_arena_alloc(a, bytes + 1);
        size_t o = 0, p = 0;
        off[0] = 0;
        for (size_t i = 0; i < n; i++) {
            if (!sel[i]) continue;
            size_t l = (size_t)(c->offsets[i + 1] - c->offsets[i]);
            if (l) memcpy(data + p, c->data + c->offsets[i], l);
            p += l;
            off[++o] = (int64_t)p;
        }
        out->offsets = off;
        out->data = data;
        return;
    }
    uint8_t *vals = firn_arena_alloc(a, w * k + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (sel[i]) memcpy(vals + w * o++, (const uint8_t *)c->values + w * i, w);
    out->values = vals;
}

static const firn_ice_value *identity_constant(const firn_ice_scan_task *task, int32_t source_id) {
    const firn_ice_partition_spec *spec = task->spec;
    if (!spec) return NULL;
    for (size_t i = 0; i < spec->nfields && i < task->file->npartition; i++)
        if (spec->fields[i].source_id == source_id &&
            spec->fields[i].transform.kind == FIRN_ICE_TRANSFORM_IDENTITY)
            return &task->file->partition[i];
    return NULL;
}

/* Read column j of the read list for row group rg of the open file into s->cols[j]
 * (a constant column when the file lacks it). */
static int read_column(firn_ice_scan *s, const firn_ice_scan_task *task, size_t rg, size_t j, size_t n,
                       firn_error *err) {
    int c = s->file_col[j];
    if (c < 0) {
        constant_column(&s->batch_arena, s->types[j], identity_constant(task, s->ids[j]), n, &s->cols[j]);
        return 0;
    }
    if (firn_pq_reader_read_column(s->reader, rg, (size_t)c, &s->batch_arena, &s->cols[j], err))
        return FIRN_WRAP(err, err->kind, "cannot read column '%s' of data file %s", s->read[j]->name,
                         task->file->file_path);
    widen(&s->batch_arena, firn_pq_reader_column(s->reader, (size_t)c), s->types[j], n, &s->cols[j]);
    return 0;
}

int firn_ice_scan_next_batch(firn_ice_scan *s, firn_ice_scan_batch *out, firn_error *err) {
    ICE_ERR_GUARD(err);
    memset(out, 0, sizeof *out);
    for (;;) {
        if (!s->reader) {
            if (s->cur_task >= s->ntasks) return 0;
            if (open_file(s, &s->tasks[s->cur_task], err)) {
                close_file(s);
                return -(int)err->kind;
            }
        }
        const firn_ice_scan_task *task = &s->tasks[s->cur_task];
        if (s->cur_rg >= firn_pq_reader_num_row_groups(s->reader)) {
            close_file(s);
            s->cur_task++;
            continue;
        }
        size_t rg = s->cur_rg++;
        uint64_t first_row = s->rg_first_row;
        s->rg_first_row += firn_pq_reader_row_group_rows(s->reader, rg);
        if (s->filter->op != FIRN_ICE_EXPR_TRUE && !rg_may_match(s, s->filter, rg)) {
            s->stats.row_groups_skipped++;
            continue;
        }
        firn_arena_recycle(&s->batch_arena);
        size_t n = firn_pq_reader_row_group_rows(s->reader, rg);
        bool filtered = s->filter->op != FIRN_ICE_EXPR_TRUE;
        uint8_t *sel = NULL;
        s->stats.rows_read += (int64_t)n;
        if (filtered) {
            /* the filter's columns first: a row group where no row matches reads
             * (and fetches) no other column */
            for (size_t j = 0; j < s->nread; j++)
                if (s->is_filter_col[j] && read_column(s, task, rg, j, n, err)) return -(int)err->kind;
            sel = firn_arena_alloc(&s->batch_arena, n + 1);
            firn_ice_expr_columns ec = {s->nread, s->ids, s->types, s->cols};
            if (firn_ice_expr_eval(s->filter, &ec, n, sel, err)) return -(int)err->kind;
            if (!memchr(sel, 1, n)) continue;
        }
        for (size_t j = 0; j < s->nread; j++)
            if (!(filtered && s->is_filter_col[j]) && read_column(s, task, rg, j, n, err))
                return -(int)err->kind;
        out->file_path = task->file->file_path;
        out->fields = s->fields;
        out->ncolumns = s->nfields;
        /* deleted positions in [first_row, first_row + n) */
        size_t lo = 0, hi = s->ndel_pos;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (s->del_pos[mid] < (int64_t)first_row) lo = mid + 1;
            else hi = mid;
        }
        bool any_deleted = lo < s->ndel_pos && s->del_pos[lo] < (int64_t)(first_row + n);
        if (s->neqs) any_deleted = true;
        if (!filtered && !any_deleted) {
            if (n == 0) continue;
            memcpy(s->out_cols, s->cols, s->nfields * sizeof *s->cols);
            out->nrows = n;
            out->columns = s->out_cols;
            s->stats.rows_returned += (int64_t)n;
            return 1;
        }
        if (!sel) {
            sel = firn_arena_alloc(&s->batch_arena, n + 1);
            memset(sel, 1, n);
        }
        for (size_t p = lo; p < s->ndel_pos && s->del_pos[p] < (int64_t)(first_row + n); p++) {
            size_t at = (size_t)(s->del_pos[p] - (int64_t)first_row);
            if (sel[at]) {
                sel[at] = 0;
                s->stats.rows_deleted++;
            }
        }
        if (s->neqs) {
            firn_buf key;
            firn_buf_init(&key);
            for (size_t i = 0; i < n; i++) {
                if (!sel[i]) continue;
                for (size_t q = 0; q < s->neqs && sel[i]; q++) {
                    const eq_set *e = s->eqs[q];
                    firn_buf_clear(&key);
                    for (size_t j = 0; j < e->nids; j++)
                        key_append(&key, s->types[e->read_idx[j]], &s->cols[e->read_idx[j]], i);
                    if (eq_find(e, key.data, key.len, firn_xxh64(key.data, key.len, 0))) {
                        sel[i] = 0;
                        s->stats.rows_deleted++;
                    }
                }
            }
            firn_buf_release(&key);
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++) k += sel[i];
        if (k == 0) continue;
        for (size_t j = 0; j < s->nfields; j++) {
            if (k == n) s->out_cols[j] = s->cols[j];
            else compact(&s->batch_arena, s->types[j], &s->cols[j], sel, n, k, &s->out_cols[j]);
        }
        out->nrows = k;
        out->columns = s->out_cols;
        s->stats.rows_returned += (int64_t)k;
        return 1;
    }
}

int firn_ice_scan_keep_tasks(firn_ice_scan *s, bool (*keep)(void *ctx, const firn_ice_scan_task *t),
                             void *ctx, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (s->cur_task != 0 || s->reader)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "scan: tasks can only be chosen before reading");
    size_t k = 0;
    int64_t bytes = 0, records = 0;
    for (size_t i = 0; i < s->ntasks; i++)
        if (keep(ctx, &s->tasks[i])) {
            bytes += s->tasks[i].file->file_size_in_bytes;
            records += s->tasks[i].file->record_count;
            s->tasks[k++] = s->tasks[i];
        }
    s->ntasks = k;
    s->stats.planned_files = k;
    s->stats.planned_bytes = bytes;
    s->stats.planned_records = records;
    return 0;
}
