/* cmd_inspect.c - `firn inspect`: a table's metadata as rows, with the columns
 * of Trino's Iceberg metadata tables ($snapshots, $history, $files,
 * $manifests, $partitions, $refs), or the metadata JSON itself.
 *
 *   firn inspect NS.TABLE snapshots|history|files|manifests|partitions|refs|metadata
 *                [--format jsonl|csv|table]
 *
 * files, manifests and partitions read the current snapshot (main).
 */
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "iceberg/iceberg.h"
#include "io/io.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: firn inspect NS.TABLE snapshots|history|files|manifests|partitions|refs|metadata\n"
    "                    [--format jsonl|csv|table]\n";

/* "2024-03-01T12:00:00.123+00:00" (timestamptz JSON form, milliseconds) */
static json_t *time_json(int64_t ms) {
    firn_ice_value v = firn_ice_value_i64(FIRN_ICE_TIMESTAMPTZ, ms * 1000);
    return firn_cli_value_json(firn_ice_type_primitive(FIRN_ICE_TIMESTAMPTZ), &v);
}

static json_t *id_or_null(bool has, int64_t id) { return has ? json_integer(id) : json_null(); }

static json_t *hex_json(const uint8_t *p, size_t n) {
    if (!p) return json_null();
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) snprintf(s + 2 * i, 3, "%02x", p[i]);
    s[2 * n] = '\0';
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* --------------------------------------------------------- snapshots, history, refs */

static void do_snapshots(const firn_ice_metadata *md, firn_cli_out *o) {
    for (size_t i = 0; i < md->nsnapshots; i++) {
        const firn_ice_snapshot *s = md->snapshots[i];
        json_t *summary = json_object();
        for (size_t k = 0; k < s->nsummary; k++)
            if (strcmp(s->summary[k].key, "operation") != 0)
                json_object_set_new(summary, s->summary[k].key, json_string(s->summary[k].value));
        const char *op = firn_ice_snapshot_operation(s);
        json_t *row = json_object();
        json_object_set_new(row, "committed_at", time_json(s->timestamp_ms));
        json_object_set_new(row, "snapshot_id", json_integer(s->snapshot_id));
        json_object_set_new(row, "parent_id", id_or_null(s->has_parent, s->parent_snapshot_id));
        json_object_set_new(row, "operation", op ? json_string(op) : json_null());
        json_object_set_new(row, "manifest_list",
                            s->manifest_list ? json_string(s->manifest_list) : json_null());
        json_object_set_new(row, "summary", summary);
        firn_cli_out_row(o, row);
    }
}

static void do_history(const firn_ice_metadata *md, firn_cli_out *o) {
    for (size_t i = 0; i < md->nsnapshot_log; i++) {
        const firn_ice_snapshot_log_entry *e = &md->snapshot_log[i];
        const firn_ice_snapshot *s = firn_ice_metadata_snapshot(md, e->snapshot_id);
        json_t *row = json_object();
        json_object_set_new(row, "made_current_at", time_json(e->timestamp_ms));
        json_object_set_new(row, "snapshot_id", json_integer(e->snapshot_id));
        json_object_set_new(row, "parent_id",
                            s ? id_or_null(s->has_parent, s->parent_snapshot_id) : json_null());
        json_object_set_new(row, "is_current_ancestor",
                            json_boolean(md->current_snapshot_id >= 0 &&
                                         firn_ice_metadata_is_ancestor(md, e->snapshot_id,
                                                                       md->current_snapshot_id)));
        firn_cli_out_row(o, row);
    }
}

static json_t *opt_int(int64_t v) { return v < 0 ? json_null() : json_integer(v); }

static void do_refs(const firn_ice_metadata *md, firn_cli_out *o) {
    for (size_t i = 0; i < md->nrefs; i++) {
        const firn_ice_ref *r = md->refs[i];
        json_t *row = json_object();
        json_object_set_new(row, "name", json_string(r->name));
        json_object_set_new(row, "type", json_string(r->type == FIRN_ICE_REF_TAG ? "TAG" : "BRANCH"));
        json_object_set_new(row, "snapshot_id", json_integer(r->snapshot_id));
        json_object_set_new(row, "max_reference_age_in_ms", opt_int(r->max_ref_age_ms));
        json_object_set_new(row, "min_snapshots_to_keep", opt_int(r->min_snapshots_to_keep));
        json_object_set_new(row, "max_snapshot_age_in_ms", opt_int(r->max_snapshot_age_ms));
        firn_cli_out_row(o, row);
    }
}

/* ------------------------------------------------------------- manifests */

static int read_manifest_list(const firn_ice_table *t, firn_arena *a, firn_ice_manifest_file **mfs,
                              size_t *n, firn_error *err) {
    *mfs = NULL;
    *n = 0;
    const firn_ice_snapshot *s = firn_ice_metadata_current_snapshot(t->metadata);
    if (!s) return 0;
    return firn_ice_snapshot_manifest_files(t->io, s, a, mfs, n, err);
}

/* A manifest count; null when unknown (-1: a v1 list left it null, or an embedded manifest). */
static json_t *count_json(int64_t n) { return n < 0 ? json_null() : json_integer(n); }

/* A partition field's bound in human form, or null. */
static json_t *partition_bound_json(const firn_ice_metadata *md, const firn_ice_partition_spec *spec,
                                    size_t f, const uint8_t *p, size_t n, firn_arena *a) {
    if (!p || !spec || f >= spec->nfields) return p ? hex_json(p, n) : json_null();
    const firn_ice_schema *schema = firn_ice_metadata_current_schema(md);
    const firn_ice_field *src = firn_ice_schema_find_field(schema, spec->fields[f].source_id);
    firn_ice_type rt;
    firn_error err;
    firn_error_init(&err);
    json_t *j = NULL;
    firn_ice_value v;
    if (src && firn_ice_transform_result_type(&spec->fields[f].transform, src->type, &rt, &err) == 0) {
        firn_ice_type *rtp = firn_arena_alloc(a, sizeof *rtp);
        *rtp = rt;
        if (firn_ice_value_from_bytes(rtp, p, n, &v, &err) == 0) {
            firn_buf b;
            firn_buf_init(&b);
            firn_ice_transform_human_string(&spec->fields[f].transform, rtp, &v, &b);
            j = json_stringn(b.data ? (char *)b.data : "", b.len);
            firn_buf_release(&b);
        }
    }
    firn_error_release(&err);
    return j ? j : hex_json(p, n);
}

static int do_manifests(const firn_ice_table *t, firn_cli_out *o, firn_arena *a, firn_error *err) {
    firn_ice_manifest_file *mfs;
    size_t n;
    if (read_manifest_list(t, a, &mfs, &n, err)) return -1;
    for (size_t i = 0; i < n; i++) {
        const firn_ice_manifest_file *m = &mfs[i];
        const firn_ice_partition_spec *spec = firn_ice_metadata_spec(t->metadata, m->partition_spec_id);
        json_t *sums = json_array();
        for (size_t f = 0; f < m->npartitions; f++) {
            const firn_ice_field_summary *fs = &m->partitions[f];
            json_t *s = json_object();
            json_object_set_new(s, "contains_null", json_boolean(fs->contains_null));
            json_object_set_new(s, "contains_nan",
                                fs->has_contains_nan ? json_boolean(fs->contains_nan) : json_null());
            json_object_set_new(s, "lower_bound",
                                partition_bound_json(t->metadata, spec, f, fs->lower_bound,
                                                     fs->lower_bound_len, a));
            json_object_set_new(s, "upper_bound",
                                partition_bound_json(t->metadata, spec, f, fs->upper_bound,
                                                     fs->upper_bound_len, a));
            json_array_append_new(sums, s);
        }
        json_t *row = json_object();
        json_object_set_new(row, "path", json_string(m->manifest_path));
        json_object_set_new(row, "length", json_integer(m->manifest_length));
        json_object_set_new(row, "partition_spec_id", json_integer(m->partition_spec_id));
        json_object_set_new(row, "added_snapshot_id", json_integer(m->added_snapshot_id));
        json_object_set_new(row, "added_data_files_count", count_json(m->added_files_count));
        json_object_set_new(row, "added_rows_count", count_json(m->added_rows_count));
        json_object_set_new(row, "existing_data_files_count",
                            count_json(m->existing_files_count));
        json_object_set_new(row, "existing_rows_count", count_json(m->existing_rows_count));
        json_object_set_new(row, "deleted_data_files_count",
                            count_json(m->deleted_files_count));
        json_object_set_new(row, "deleted_rows_count", count_json(m->deleted_rows_count));
        json_object_set_new(row, "partition_summaries", sums);
        firn_cli_out_row(o, row);
    }
    return 0;
}

/* ------------------------------------------------------------- files */

typedef int (*file_fn)(void *ctx, const firn_ice_data_file *df, firn_error *err);

/* Every live file (data and delete) of the current snapshot. */
static int each_file(const firn_ice_table *t, firn_arena *a, file_fn fn, void *ctx, firn_error *err) {
    firn_ice_manifest_file *mfs;
    size_t n;
    if (read_manifest_list(t, a, &mfs, &n, err)) return -1;
    const firn_ice_schema *schema = firn_ice_metadata_current_schema(t->metadata);
    for (size_t i = 0; i < n; i++) {
        firn_ice_manifest_reader *r = firn_ice_manifest_reader_open(t->io, mfs[i].manifest_path, err);
        if (!r) return -1;
        int rc = firn_ice_manifest_reader_inherit(r, &mfs[i], err);
        const firn_ice_partition_spec *spec = firn_ice_metadata_spec(t->metadata, mfs[i].partition_spec_id);
        if (rc == 0 && spec) rc = firn_ice_manifest_reader_set_spec(r, schema, spec, err);
        firn_ice_manifest_entry e;
        while (rc == 0 && (rc = firn_ice_manifest_reader_next(r, a, &e, err)) == 1) {
            rc = 0;
            if (e.status == FIRN_ICE_DELETED) continue;
            rc = fn(ctx, &e.data_file, err);
        }
        firn_ice_manifest_reader_free(r);
        if (rc < 0) return -1;
    }
    return 0;
}

typedef struct files_ctx {
    const firn_ice_metadata *md;
    firn_cli_out *o;
    firn_arena *a;
} files_ctx;

static json_t *metrics_json(const firn_ice_metric *m, size_t n) {
    json_t *j = json_object();
    for (size_t i = 0; i < n; i++) {
        char k[16];
        snprintf(k, sizeof k, "%d", m[i].field_id);
        json_object_set_new(j, k, json_integer(m[i].value));
    }
    return j;
}

/* A column bound in its JSON single-value form (hex when it cannot be read). */
static json_t *bound_value_json(const firn_ice_schema *schema, int32_t id, const uint8_t *p,
                                size_t n) {
    const firn_ice_field *f = firn_ice_schema_find_field(schema, id);
    if (f && firn_ice_type_is_primitive(f->type)) {
        firn_error err;
        firn_error_init(&err);
        firn_ice_value v;
        int rc = firn_ice_value_from_bytes(f->type, p, n, &v, &err);
        firn_error_release(&err);
        if (rc == 0) return firn_cli_value_json(f->type, &v);
    }
    return hex_json(p, n);
}

static json_t *bounds_json(const firn_ice_schema *schema, const firn_ice_bound *b, size_t n) {
    json_t *j = json_object();
    for (size_t i = 0; i < n; i++) {
        char k[16];
        snprintf(k, sizeof k, "%d", b[i].field_id);
        json_object_set_new(j, k, bound_value_json(schema, b[i].field_id, b[i].bytes, b[i].len));
    }
    return j;
}

static json_t *partition_json(const firn_ice_metadata *md, const firn_ice_data_file *df) {
    const firn_ice_partition_spec *spec = firn_ice_metadata_spec(md, df->spec_id);
    const firn_ice_schema *schema = firn_ice_metadata_current_schema(md);
    json_t *j = json_object();
    for (size_t i = 0; spec && i < spec->nfields && i < df->npartition; i++) {
        const firn_ice_value *v = &df->partition[i];
        const firn_ice_type *t = firn_ice_type_primitive(v->type);
        firn_ice_type tmp;
        if (!t) {
            const firn_ice_field *src = firn_ice_schema_find_field(schema, spec->fields[i].source_id);
            firn_error err;
            firn_error_init(&err);
            if (src && firn_ice_transform_result_type(&spec->fields[i].transform, src->type, &tmp,
                                                      &err) == 0)
                t = &tmp;
            firn_error_release(&err);
        }
        json_object_set_new(j, spec->fields[i].name, t ? firn_cli_value_json(t, v) : json_null());
    }
    return j;
}

static int file_row(void *ctx, const firn_ice_data_file *df, firn_error *err) {
    (void)err;
    files_ctx *c = ctx;
    const firn_ice_schema *schema = firn_ice_metadata_current_schema(c->md);
    json_t *row = json_object();
    json_object_set_new(row, "content", json_integer(df->content));
    json_object_set_new(row, "file_path", json_string(df->file_path));
    json_object_set_new(row, "file_format", json_string(df->file_format ? df->file_format : ""));
    json_object_set_new(row, "spec_id", json_integer(df->spec_id));
    json_object_set_new(row, "partition", partition_json(c->md, df));
    json_object_set_new(row, "record_count", json_integer(df->record_count));
    json_object_set_new(row, "file_size_in_bytes", json_integer(df->file_size_in_bytes));
    json_object_set_new(row, "column_sizes", metrics_json(df->column_sizes, df->ncolumn_sizes));
    json_object_set_new(row, "value_counts", metrics_json(df->value_counts, df->nvalue_counts));
    json_object_set_new(row, "null_value_counts",
                        metrics_json(df->null_value_counts, df->nnull_value_counts));
    json_object_set_new(row, "nan_value_counts",
                        metrics_json(df->nan_value_counts, df->nnan_value_counts));
    json_object_set_new(row, "lower_bounds", bounds_json(schema, df->lower_bounds, df->nlower_bounds));
    json_object_set_new(row, "upper_bounds", bounds_json(schema, df->upper_bounds, df->nupper_bounds));
    json_object_set_new(row, "key_metadata", hex_json(df->key_metadata, df->key_metadata_len));
    json_t *so = json_array();
    for (size_t i = 0; i < df->nsplit_offsets; i++) json_array_append_new(so, json_integer(df->split_offsets[i]));
    json_object_set_new(row, "split_offsets", df->nsplit_offsets ? so : (json_decref(so), json_null()));
    json_t *eq = json_array();
    for (size_t i = 0; i < df->nequality_ids; i++) json_array_append_new(eq, json_integer(df->equality_ids[i]));
    json_object_set_new(row, "equality_ids", df->nequality_ids ? eq : (json_decref(eq), json_null()));
    json_object_set_new(row, "sort_order_id",
                        df->has_sort_order_id ? json_integer(df->sort_order_id) : json_null());
    firn_cli_out_row(c->o, row);
    return 0;
}

/* ------------------------------------------------------------- partitions */

typedef struct col_agg {
    int32_t field_id;
    bool has_min, has_max;
    firn_ice_value min, max;
    int64_t null_count, nan_count;
    bool has_null_count, has_nan_count;
} col_agg;

typedef struct part_agg {
    char *key; /* compact partition JSON */
    json_t *partition;
    int64_t record_count, file_count, total_size;
    col_agg *cols; /* one per top-level primitive column */
} part_agg;

typedef struct parts_ctx {
    const firn_ice_metadata *md;
    const firn_ice_schema *schema;
    firn_arena *a;
    part_agg *parts;
    size_t n, cap;
    size_t ncols;
    const firn_ice_field **cols;
} parts_ctx;

static const firn_ice_bound *find_bound(const firn_ice_bound *b, size_t n, int32_t id) {
    for (size_t i = 0; i < n; i++)
        if (b[i].field_id == id) return &b[i];
    return NULL;
}

static const firn_ice_metric *find_metric(const firn_ice_metric *m, size_t n, int32_t id) {
    for (size_t i = 0; i < n; i++)
        if (m[i].field_id == id) return &m[i];
    return NULL;
}

static int part_file(void *ctx, const firn_ice_data_file *df, firn_error *err) {
    (void)err;
    parts_ctx *c = ctx;
    if (df->content != FIRN_ICE_CONTENT_DATA) return 0;
    json_t *pj = partition_json(c->md, df);
    char *key = json_dumps(pj, JSON_COMPACT | JSON_SORT_KEYS);
    part_agg *p = NULL;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->parts[i].key, key) == 0) p = &c->parts[i];
    if (!p) {
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 16;
            c->parts = realloc(c->parts, c->cap * sizeof *c->parts);
        }
        p = &c->parts[c->n++];
        memset(p, 0, sizeof *p);
        p->key = key;
        p->partition = pj;
        p->cols = calloc(c->ncols + 1, sizeof *p->cols);
        for (size_t k = 0; k < c->ncols; k++) {
            p->cols[k].field_id = c->cols[k]->id;
            p->cols[k].has_null_count = p->cols[k].has_nan_count = true;
        }
    } else {
        free(key);
        json_decref(pj);
    }
    p->record_count += df->record_count;
    p->file_count++;
    p->total_size += df->file_size_in_bytes;
    for (size_t k = 0; k < c->ncols; k++) {
        col_agg *ca = &p->cols[k];
        const firn_ice_type *t = c->cols[k]->type;
        firn_error e2;
        firn_error_init(&e2);
        const firn_ice_bound *lo = find_bound(df->lower_bounds, df->nlower_bounds, ca->field_id);
        const firn_ice_bound *hi = find_bound(df->upper_bounds, df->nupper_bounds, ca->field_id);
        firn_ice_value v;
        if (lo && firn_ice_value_from_bytes(t, lo->bytes, lo->len, &v, &e2) == 0 &&
            (!ca->has_min || firn_ice_value_compare(&v, &ca->min) < 0)) {
            ca->min = firn_ice_value_copy(c->a, &v);
            ca->has_min = true;
        }
        if (hi && firn_ice_value_from_bytes(t, hi->bytes, hi->len, &v, &e2) == 0 &&
            (!ca->has_max || firn_ice_value_compare(&v, &ca->max) > 0)) {
            ca->max = firn_ice_value_copy(c->a, &v);
            ca->has_max = true;
        }
        firn_error_release(&e2);
        const firn_ice_metric *nc = find_metric(df->null_value_counts, df->nnull_value_counts, ca->field_id);
        if (nc) ca->null_count += nc->value;
        else ca->has_null_count = false;
        const firn_ice_metric *nn = find_metric(df->nan_value_counts, df->nnan_value_counts, ca->field_id);
        if (nn) ca->nan_count += nn->value;
        else ca->has_nan_count = false;
    }
    return 0;
}

static int do_partitions(const firn_ice_table *t, firn_cli_out *o, firn_arena *a, firn_error *err) {
    parts_ctx c = {.md = t->metadata, .a = a};
    c.schema = firn_ice_metadata_current_schema(t->metadata);
    size_t nf = firn_ice_schema_nfields(c.schema);
    c.cols = firn_arena_alloc(a, (nf + 1) * sizeof *c.cols);
    for (size_t i = 0; i < nf; i++)
        if (firn_ice_type_is_primitive(firn_ice_schema_fields(c.schema)[i].type))
            c.cols[c.ncols++] = &firn_ice_schema_fields(c.schema)[i];
    int rc = each_file(t, a, part_file, &c, err);
    for (size_t i = 0; i < c.n; i++) {
        part_agg *p = &c.parts[i];
        if (rc == 0) {
            json_t *data = json_object();
            for (size_t k = 0; k < c.ncols; k++) {
                const firn_ice_type *ty = c.cols[k]->type;
                col_agg *ca = &p->cols[k];
                json_t *cj = json_object();
                json_object_set_new(cj, "min", ca->has_min ? firn_cli_value_json(ty, &ca->min) : json_null());
                json_object_set_new(cj, "max", ca->has_max ? firn_cli_value_json(ty, &ca->max) : json_null());
                json_object_set_new(cj, "null_count",
                                    ca->has_null_count ? json_integer(ca->null_count) : json_null());
                json_object_set_new(cj, "nan_count",
                                    ca->has_nan_count && (ty->id == FIRN_ICE_FLOAT || ty->id == FIRN_ICE_DOUBLE)
                                        ? json_integer(ca->nan_count)
                                        : json_null());
                json_object_set_new(data, c.cols[k]->name, cj);
            }
            json_t *row = json_object();
            json_object_set(row, "partition", p->partition);
            json_object_set_new(row, "record_count", json_integer(p->record_count));
            json_object_set_new(row, "file_count", json_integer(p->file_count));
            json_object_set_new(row, "total_size", json_integer(p->total_size));
            json_object_set_new(row, "data", data);
            firn_cli_out_row(o, row);
        }
        free(p->key);
        json_decref(p->partition);
        free(p->cols);
    }
    free(c.parts);
    return rc;
}

/* ------------------------------------------------------------------ main */

static const char *const snapshots_cols[] = {"committed_at", "snapshot_id", "parent_id",
                                             "operation", "manifest_list", "summary"};
static const char *const history_cols[] = {"made_current_at", "snapshot_id", "parent_id",
                                           "is_current_ancestor"};
static const char *const files_cols[] = {
    "content", "file_path", "file_format", "spec_id", "partition", "record_count",
    "file_size_in_bytes", "column_sizes", "value_counts", "null_value_counts",
    "nan_value_counts", "lower_bounds", "upper_bounds", "key_metadata", "split_offsets",
    "equality_ids", "sort_order_id"};
static const char *const manifests_cols[] = {
    "path", "length", "partition_spec_id", "added_snapshot_id",
    "added_data_files_count", "added_rows_count", "existing_data_files_count",
    "existing_rows_count", "deleted_data_files_count", "deleted_rows_count",
    "partition_summaries"};
static const char *const partitions_cols[] = {"partition", "record_count", "file_count",
                                              "total_size", "data"};
static const char *const refs_cols[] = {"name", "type", "snapshot_id", "max_reference_age_in_ms",
                                        "min_snapshots_to_keep", "max_snapshot_age_in_ms"};
#define NCOLS(a) (sizeof a / sizeof a[0])

static int run_inspect(firn_cli_env *env, int argc, char **argv, firn_error *err) {
    const char *name = NULL, *what = NULL, *fmt = "table";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) fmt = argv[++i];
        else if (argv[i][0] != '-' && !name) name = argv[i];
        else if (argv[i][0] != '-' && !what) what = argv[i];
        else return firn_cli_usage(usage);
    }
    if (!name || !what) return firn_cli_usage(usage);
    firn_cli_format format;
    if (firn_cli_parse_format(fmt, &format) != 0 || format == FIRN_CLI_PARQUET) {
        fprintf(stderr, "firn: inspect: --format '%s': expected jsonl, csv or table\n", fmt);
        return 2;
    }
    static const struct {
        const char *name;
        const char *const *cols;
        size_t ncols;
    } kinds[] = {{"snapshots", snapshots_cols, NCOLS(snapshots_cols)},
                 {"history", history_cols, NCOLS(history_cols)},
                 {"files", files_cols, NCOLS(files_cols)},
                 {"manifests", manifests_cols, NCOLS(manifests_cols)},
                 {"partitions", partitions_cols, NCOLS(partitions_cols)},
                 {"refs", refs_cols, NCOLS(refs_cols)},
                 {"metadata", NULL, 0}};
    size_t k = 0;
    while (k < NCOLS(kinds) && strcmp(kinds[k].name, what) != 0) k++;
    if (k == NCOLS(kinds)) {
        fprintf(stderr, "firn: inspect: unknown metadata table '%s'\n%s", what, usage);
        return 2;
    }
    char ctx[512];
    snprintf(ctx, sizeof ctx, "inspect %s %s", name, what);
    firn_ice_table *t;
    if (firn_cli_load_table(env, name, &t, err) != 0) return firn_cli_fail(ctx, err);
    int rc = 0;
    if (!kinds[k].cols) {
        uint8_t *data;
        size_t len;
        if (firn_io_read_all(t->io, t->metadata_location, &data, &len, err) != 0) {
            rc = firn_cli_fail(ctx, err);
        } else {
            fwrite(data, 1, len, stdout);
            if (len && data[len - 1] != '\n') putchar('\n');
            free(data);
        }
        firn_ice_table_free(t);
        return rc;
    }
    firn_cli_out o;
    firn_cli_out_begin(&o, format, kinds[k].cols, kinds[k].ncols);
    firn_arena a;
    firn_arena_init(&a, 0);
    int r = 0;
    if (k == 0) do_snapshots(t->metadata, &o);
    else if (k == 1) do_history(t->metadata, &o);
    else if (k == 2) {
        files_ctx fc = {t->metadata, &o, &a};
        r = each_file(t, &a, file_row, &fc, err);
    } else if (k == 3) r = do_manifests(t, &o, &a, err);
    else if (k == 4) r = do_partitions(t, &o, &a, err);
    else do_refs(t->metadata, &o);
    firn_cli_out_end(&o);
    if (r != 0) rc = firn_cli_fail(ctx, err);
    firn_arena_release(&a);
    firn_ice_table_free(t);
    return rc;
}

int firn_cmd_inspect(int argc, char **argv) {
    if (argc < 2) return firn_cli_usage(usage);
    firn_error err;
    firn_error_init(&err);
    firn_cli_env env;
    int rc;
    if (firn_cli_env_open(&env, &err) != 0) rc = firn_cli_fail("inspect", &err);
    else rc = run_inspect(&env, argc, argv, &err);
    firn_cli_env_close(&env);
    firn_error_release(&err);
    return rc;
}
