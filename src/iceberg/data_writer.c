/*
 * data_writer.c - Iceberg data files from columnar batches: maps the table
 * schema to Parquet columns (field ids, requiredness, media columns), routes
 * each row to its partition with the default spec (one open file per
 * partition value), rolls files at the target size, and turns what the
 * Parquet writer reports into data_file records with Java's metrics modes.
 */
#include "iceberg/iceberg_internal.h"
#include "io/io.h"
#include "parquet/parquet.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Rows handed to the Parquet writer between two size checks (at most). */
#define SLICE_MAX 1024
/* Rows of the first slice of a new file, before its bytes per row are known. */
#define SLICE_FIRST 32

typedef enum metrics_mode { M_NONE, M_COUNTS, M_TRUNCATE, M_FULL } metrics_mode;

typedef struct col_plan {
    const firn_ice_field *field;
    firn_pq_type pq_type;
    size_t width; /* bytes per value of fixed-width layouts, 0 for offsets + data */
    metrics_mode mode;
    int32_t truncate;
} col_plan;

/* One partition value and the file open for it. */
typedef struct part {
    firn_ice_value *key; /* the partition tuple, npf values (arena) */
    uint64_t hash;
    const char *dir;     /* "<data>/<partition path>" (arena) */
    int ordinal;
    int file_count;
    firn_pq_writer *pw;
    firn_io_writer *iw;
    const char *location; /* of the open file (arena) */
    uint64_t file_rows;
} part;

struct firn_ice_data_writer {
    const firn_ice_metadata *md;
    firn_io *io;
    const firn_ice_schema *schema;
    const firn_ice_partition_spec *spec;
    bool partitioned; /* some field is not void */
    size_t ncols;
    col_plan *cols;
    firn_pq_column_spec *specs;
    firn_pq_writer_options opts;
    firn_pq_kv kv;
    char *schema_json;
    const char *data_location;
    char uuid[37];
    int64_t target;

    size_t npf;
    int *pf_col; /* schema column of each partition field's source, -1 for void ones gone */
    firn_ice_value *src_vals, *tuple;

    part **parts;
    size_t nparts, cap_parts;
    uint32_t *slots; /* open addressing over parts: index + 1, 0 = empty */
    size_t nslots;

    firn_arena arena; /* data files, names, partition tuples */
    firn_ice_data_file *files;
    size_t nfiles, cap_files;
    const char **written; /* published files, for abort */
    size_t nwritten, cap_written;

    /* per-batch scratch */
    uint32_t *row_part;
    size_t cap_rows;
    uint32_t *order, *counts, *starts;
    size_t cap_order, cap_counts;
    firn_buf *gather; /* per column: values (or data) */
    firn_buf *gather_off;
    firn_buf *gather_valid;
    firn_pq_column_data *gcols;

    uint64_t rows;
    bool failed, closed;
};

/* ------------------------------------------------------------ properties */

static const char *prop(const firn_ice_metadata *md, const char *key) {
    return firn_ice_metadata_property(md, key);
}

static int prop_i64(const firn_ice_metadata *md, const char *key, int64_t dflt, int64_t min,
                    int64_t *out, firn_error *err) {
    const char *v = prop(md, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < min)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "table property %s: '%s' is not a whole number of at least %lld", key,
                          v, (long long)min);
    *out = x;
    return 0;
}

/* "none", "counts", "full", "truncate(N)" (case-insensitive, as Java's MetricsModes.fromString). */
static int parse_mode(const char *key, const char *v, metrics_mode *mode, int32_t *len,
                      firn_error *err) {
    while (isspace((unsigned char)*v)) v++;
    size_t n = strlen(v);
    while (n && isspace((unsigned char)v[n - 1])) n--;
    if (n == 4 && strncasecmp(v, "none", 4) == 0) {
        *mode = M_NONE;
        return 0;
    }
    if (n == 6 && strncasecmp(v, "counts", 6) == 0) {
        *mode = M_COUNTS;
        return 0;
    }
    if (n == 4 && strncasecmp(v, "full", 4) == 0) {
        *mode = M_FULL;
        return 0;
    }
    if (n > 10 && strncasecmp(v, "truncate(", 9) == 0 && v[n - 1] == ')') {
        long long x = 0;
        size_t i = 9;
        for (; i < n - 1 && x <= 2147483647LL; i++) {
            if (!isdigit((unsigned char)v[i])) break;
            x = x * 10 + (v[i] - '0');
        }
        if (i == n - 1 && x > 0 && x <= 2147483647LL) {
            *mode = M_TRUNCATE;
            *len = (int32_t)x;
            return 0;
        }
    }
    return FIRN_RAISE(err, FIRN_ERR_INVALID,
                      "table property %s: '%.*s' is not a metrics mode (none, counts, "
                      "truncate(N) with N > 0, full)",
                      key, (int)n, v);
}

static int parse_codec(const firn_ice_metadata *md, firn_pq_writer_options *o, firn_error *err) {
    const char *v = prop(md, "write.parquet.compression-codec");
    if (!v) v = "zstd"; /* Java's default since 1.4 */
    static const struct {
        const char *name;
        firn_pq_codec codec;
    } names[] = {{"zstd", FIRN_PQ_ZSTD},           {"snappy", FIRN_PQ_SNAPPY},
                 {"gzip", FIRN_PQ_GZIP},           {"lz4_raw", FIRN_PQ_LZ4_RAW},
                 {"uncompressed", FIRN_PQ_UNCOMPRESSED}, {"none", FIRN_PQ_UNCOMPRESSED}};
    bool found = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(v, names[i].name) == 0) {
            o->codec = names[i].codec;
            found = true;
        }
    if (!found) {
        if (strcasecmp(v, "lz4") == 0 || strcasecmp(v, "lzo") == 0 || strcasecmp(v, "brotli") == 0)
            return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                              "table property write.parquet.compression-codec: firn cannot write "
                              "'%s'; use zstd, snappy, gzip, lz4_raw or uncompressed",
                              v);
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "table property write.parquet.compression-codec: unknown codec '%s'", v);
    }
    int64_t level;
    if (prop_i64(md, "write.parquet.compression-level", 0, -131072, &level, err)) return -err->kind;
    o->codec_level = (int)level;
    return 0;
}

/* ------------------------------------------------------------ schema mapping */

static int pq_type_of(const firn_ice_field *f, firn_pq_type *t, size_t *width, firn_error *err) {
    int pq = firn_ice_type_to_pq(f->type);
    if (pq < 0)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "column '%s': the data writer takes flat schemas of primitive columns; "
                          "nested types are not written yet",
                          f->name);
    *t = (firn_pq_type)pq;
    *width = firn_ice_type_pq_width(f->type);
    return 0;
}

static bool listed(const char *csv, const char *name) {
    if (!csv) return false;
    size_t n = strlen(name);
    const char *p = csv;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p)) p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > p && isspace((unsigned char)t[-1])) t--;
        if ((size_t)(t - p) == n && strncmp(p, name, n) == 0) return true;
        p = e;
    }
    return false;
}

static bool order_preserving(const firn_ice_transform *t) {
    return t->kind != FIRN_ICE_TRANSFORM_BUCKET && t->kind != FIRN_ICE_TRANSFORM_VOID &&
           t->kind != FIRN_ICE_TRANSFORM_UNKNOWN;
}

/* Java's MetricsConfig.from for a flat schema. */
static int plan_metrics(firn_ice_data_writer *w, firn_error *err) {
    const firn_ice_metadata *md = w->md;
    metrics_mode dmode = M_TRUNCATE;
    int32_t dlen = FIRN_ICE_DEFAULT_BOUND_LENGTH;
    const char *dflt = prop(md, "write.metadata.metrics.default");
    int64_t max_inferred;
    if (prop_i64(md, "write.metadata.metrics.max-inferred-column-defaults", 100, 0, &max_inferred,
                 err))
        return -err->kind;
    if (dflt && parse_mode("write.metadata.metrics.default", dflt, &dmode, &dlen, err))
        return -err->kind;
    for (size_t i = 0; i < w->ncols; i++) {
        col_plan *c = &w->cols[i];
        c->mode = dmode;
        c->truncate = dlen;
        if (!dflt && w->ncols > (size_t)max_inferred && i >= (size_t)max_inferred)
            c->mode = M_NONE; /* past the inferred limit: no metrics */
    }
    /* sorted columns get at least truncate(16) */
    const firn_ice_sort_order *order = firn_ice_metadata_default_sort_order(md);
    for (size_t k = 0; order && k < order->nfields; k++) {
        if (!order_preserving(&order->fields[k].transform)) continue;
        for (size_t i = 0; i < w->ncols; i++) {
            col_plan *c = &w->cols[i];
            if (c->field->id != order->fields[k].source_id) continue;
            if (dmode == M_NONE || dmode == M_COUNTS) {
                c->mode = M_TRUNCATE;
                c->truncate = FIRN_ICE_DEFAULT_BOUND_LENGTH;
            } else {
                c->mode = dmode;
                c->truncate = dlen;
            }
        }
    }
    static const char prefix[] = "write.metadata.metrics.column.";
    for (size_t k = 0; k < md->nproperties; k++) {
        const char *key = md->properties[k].key;
        if (strncmp(key, prefix, sizeof prefix - 1) != 0) continue;
        const char *name = key + sizeof prefix - 1;
        for (size_t i = 0; i < w->ncols; i++) {
            col_plan *c = &w->cols[i];
            if (strcmp(c->field->name, name) != 0) continue;
            if (parse_mode(key, md->properties[k].value, &c->mode, &c->truncate, err))
                return -err->kind;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ partitions */

static uint64_t mix64(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

static uint64_t tuple_hash(const firn_ice_value *v, size_t n) {
    uint64_t h = 0x12345;
    for (size_t i = 0; i < n; i++) {
        if (v[i].is_null) {
            h = mix64(h, 0xdeadbeef);
            continue;
        }
        switch (v[i].type) {
        case FIRN_ICE_BOOLEAN: h = mix64(h, v[i].u.b); break;
        case FIRN_ICE_INT:
        case FIRN_ICE_DATE: h = mix64(h, (uint64_t)(int64_t)v[i].u.i32); break;
        case FIRN_ICE_FLOAT: {
            uint32_t b;
            memcpy(&b, &v[i].u.f32, 4);
            h = mix64(h, b);
            break;
        }
        case FIRN_ICE_DOUBLE: {
            uint64_t b;
            memcpy(&b, &v[i].u.f64, 8);
            h = mix64(h, b);
            break;
        }
        case FIRN_ICE_DECIMAL:
            h = mix64(h, (uint64_t)v[i].u.dec);
            h = mix64(h, (uint64_t)(v[i].u.dec >> 64));
            break;
        case FIRN_ICE_UUID: h = mix64(h, firn_xxh64(v[i].u.uuid, 16, 0)); break;
        case FIRN_ICE_STRING:
        case FIRN_ICE_BINARY:
        case FIRN_ICE_FIXED: h = mix64(h, firn_xxh64(v[i].u.bin.ptr, v[i].u.bin.len, 0)); break;
        default: h = mix64(h, (uint64_t)v[i].u.i64); break;
        }
    }
    return h;
}

static bool tuple_equal(const firn_ice_value *a, const firn_ice_value *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!firn_ice_value_equal(&a[i], &b[i])) return false;
    return true;
}

/* The value of column c at row r. Bytes are borrowed from the batch. */
static firn_ice_value cell(const col_plan *c, const firn_pq_column_data *d, size_t r) {
    firn_ice_type_id t = c->field->type->id;
    if (d->validity && !d->validity[r]) return firn_ice_value_null(t);
    const uint8_t *vals = d->values;
    switch (t) {
    case FIRN_ICE_BOOLEAN: return firn_ice_value_bool(vals[r] != 0);
    case FIRN_ICE_INT: return firn_ice_value_int(((const int32_t *)d->values)[r]);
    case FIRN_ICE_DATE: return firn_ice_value_date(((const int32_t *)d->values)[r]);
    case FIRN_ICE_LONG: return firn_ice_value_long(((const int64_t *)d->values)[r]);
    case FIRN_ICE_TIME:
    case FIRN_ICE_TIMESTAMP:
    case FIRN_ICE_TIMESTAMPTZ:
    case FIRN_ICE_TIMESTAMP_NS:
    case FIRN_ICE_TIMESTAMPTZ_NS: return firn_ice_value_i64(t, ((const int64_t *)d->values)[r]);
    case FIRN_ICE_FLOAT: return firn_ice_value_float(((const float *)d->values)[r]);
    case FIRN_ICE_DOUBLE: return firn_ice_value_double(((const double *)d->values)[r]);
    case FIRN_ICE_DECIMAL: {
        int32_t scale = c->field->type->scale;
        if (c->width == 4) return firn_ice_value_decimal(((const int32_t *)d->values)[r], scale);
        if (c->width == 8) return firn_ice_value_decimal(((const int64_t *)d->values)[r], scale);
        const uint8_t *p = vals + r * c->width;
        firn_ice_int128 x = (p[0] & 0x80) ? -1 : 0;
        for (size_t i = 0; i < c->width; i++) x = (firn_ice_int128)((unsigned __int128)x << 8) | p[i];
        return firn_ice_value_decimal(x, scale);
    }
    case FIRN_ICE_UUID: {
        firn_ice_value v = {0};
        v.type = FIRN_ICE_UUID;
        memcpy(v.u.uuid, vals + r * 16, 16);
        return v;
    }
    case FIRN_ICE_FIXED: return firn_ice_value_bytes(t, vals + r * c->width, c->width);
    case FIRN_ICE_STRING:
    case FIRN_ICE_BINARY:
        return firn_ice_value_bytes(t, d->data + d->offsets[r],
                                    (size_t)(d->offsets[r + 1] - d->offsets[r]));
    default: return firn_ice_value_null(t);
    }
}

static void slots_rebuild(firn_ice_data_writer *w, size_t nslots) {
    free(w->slots);
    w->nslots = nslots;
    w->slots = firn_xcalloc(nslots, sizeof *w->slots);
    for (size_t i = 0; i < w->nparts; i++) {
        size_t s = (size_t)w->parts[i]->hash & (nslots - 1);
        while (w->slots[s]) s = (s + 1) & (nslots - 1);
        w->slots[s] = (uint32_t)i + 1;
    }
}

/* The part of tuple (found or added); -1 on error. */
static int find_part(firn_ice_data_writer *w, const firn_ice_value *tuple, firn_error *err) {
    uint64_t h = tuple_hash(tuple, w->npf);
    size_t s = (size_t)h & (w->nslots - 1);
    for (; w->slots[s]; s = (s + 1) & (w->nslots - 1)) {
        part *p = w->parts[w->slots[s] - 1];
        if (p->hash == h && tuple_equal(p->key, tuple, w->npf)) return (int)(w->slots[s] - 1);
    }
    /* a new partition value */
    firn_buf path = {0};
    firn_buf_append_str(&path, w->data_location);
    if (w->spec->nfields) {
        firn_buf_put_u8(&path, '/');
        if (firn_ice_partition_path(w->spec, w->schema, tuple, &path, err)) {
            firn_buf_release(&path);
            return -1;
        }
    }
    part *p = firn_arena_calloc(&w->arena, sizeof *p);
    p->key = firn_arena_alloc(&w->arena, (w->npf ? w->npf : 1) * sizeof *p->key);
    for (size_t i = 0; i < w->npf; i++) p->key[i] = firn_ice_value_copy(&w->arena, &tuple[i]);
    p->hash = h;
    p->dir = firn_arena_strndup(&w->arena, (const char *)path.data, path.len);
    firn_buf_release(&path);
    p->ordinal = (int)w->nparts;
    firn_ice_grow((void **)&w->parts, &w->cap_parts, w->nparts + 1, sizeof *w->parts);
    w->parts[w->nparts++] = p;
    if (w->nparts * 2 > w->nslots) slots_rebuild(w, w->nslots * 2);
    else {
        w->slots[s] = (uint32_t)w->nparts;
    }
    return p->ordinal;
}

/* ------------------------------------------------------------ files */

static int sink(void *ctx, const void *data, size_t n, firn_error *err) {
    return firn_io_writer_write(ctx, data, n, err);
}

static int open_file(firn_ice_data_writer *w, part *p, firn_error *err) {
    char name[96];
    snprintf(name, sizeof name, "%05d-0-%s-%05d.parquet", p->ordinal, w->uuid, ++p->file_count);
    size_t n = strlen(p->dir) + 1 + strlen(name) + 1;
    char *loc = firn_arena_alloc(&w->arena, n);
    snprintf(loc, n, "%s/%s", p->dir, name);
    int rc = firn_io_create(w->io, loc, &p->iw, err);
    if (rc) return FIRN_WRAP(err, err->kind, "cannot create data file");
    p->pw = firn_pq_writer_new(w->specs, w->ncols, &w->opts, sink, p->iw, err);
    if (!p->pw) {
        firn_io_writer_abort(p->iw);
        p->iw = NULL;
        return -err->kind;
    }
    p->location = loc;
    p->file_rows = 0;
    return 0;
}

static void put_metric(firn_ice_metric *arr, size_t *n, int32_t id, uint64_t v) {
    arr[*n].field_id = id;
    arr[*n].value = (int64_t)v;
    (*n)++;
}

/* The data_file of a finished file, per the columns' metrics modes. */
static void record_file(firn_ice_data_writer *w, part *p, const firn_pq_file_info *info) {
    firn_arena *a = &w->arena;
    firn_ice_grow((void **)&w->files, &w->cap_files, w->nfiles + 1, sizeof *w->files);
    firn_ice_data_file *df = &w->files[w->nfiles++];
    memset(df, 0, sizeof *df);
    df->content = FIRN_ICE_CONTENT_DATA;
    df->file_path = p->location;
    df->file_format = "PARQUET";
    df->spec_id = w->spec->spec_id;
    df->npartition = w->npf;
    df->partition = p->key;
    df->record_count = (int64_t)info->row_count;
    df->file_size_in_bytes = (int64_t)info->file_size;
    size_t nc = info->ncolumns;
    firn_ice_metric *sizes = firn_arena_alloc(a, (nc + 1) * sizeof *sizes);
    firn_ice_metric *values = firn_arena_alloc(a, (nc + 1) * sizeof *values);
    firn_ice_metric *nulls = firn_arena_alloc(a, (nc + 1) * sizeof *nulls);
    firn_ice_metric *nans = firn_arena_alloc(a, (nc + 1) * sizeof *nans);
    firn_ice_bound *lower = firn_arena_alloc(a, (nc + 1) * sizeof *lower);
    firn_ice_bound *upper = firn_arena_alloc(a, (nc + 1) * sizeof *upper);
    size_t ns = 0, nv = 0, nn = 0, nnan = 0, nl = 0, nu = 0;
    firn_buf up = {0};
    for (size_t i = 0; i < nc && i < w->ncols; i++) {
        const firn_pq_column_stats *s = &info->columns[i];
        const col_plan *c = &w->cols[i];
        int32_t id = c->field->id;
        if (c->mode == M_NONE) continue;
        put_metric(sizes, &ns, id, s->column_size);
        put_metric(values, &nv, id, s->value_count);
        put_metric(nulls, &nn, id, s->null_count);
        if (c->pq_type == FIRN_PQ_FLOAT || c->pq_type == FIRN_PQ_DOUBLE)
            put_metric(nans, &nnan, id, s->nan_count);
        if (c->mode == M_COUNTS || !s->has_bounds) continue;
        const uint8_t *lo = s->lower, *hi = s->upper;
        size_t lo_n = s->lower_len, hi_n = s->upper_len;
        bool has_hi = hi != NULL;
        if (c->mode == M_TRUNCATE && (c->pq_type == FIRN_PQ_STRING || c->pq_type == FIRN_PQ_BINARY)) {
            size_t tn = (size_t)c->truncate;
            firn_buf_clear(&up);
            if (c->pq_type == FIRN_PQ_STRING) {
                lo_n = firn_ice_truncate_string_min(lo, lo_n, tn);
                has_hi = has_hi && firn_ice_truncate_string_max(hi, hi_n, tn, &up);
            } else {
                lo_n = firn_ice_truncate_binary_min(lo_n, tn);
                has_hi = has_hi && firn_ice_truncate_binary_max(hi, hi_n, tn, &up);
            }
            hi = up.data;
            hi_n = up.len;
        }
        if (lo) {
            lower[nl].field_id = id;
            lower[nl].bytes = lo_n ? firn_arena_memdup(a, lo, lo_n) : firn_arena_calloc(a, 1);
            lower[nl].len = lo_n;
            nl++;
        }
        if (has_hi) {
            upper[nu].field_id = id;
            upper[nu].bytes = hi_n ? firn_arena_memdup(a, hi, hi_n) : firn_arena_calloc(a, 1);
            upper[nu].len = hi_n;
            nu++;
        }
    }
    firn_buf_release(&up);
    df->ncolumn_sizes = ns;
    df->column_sizes = sizes;
    df->nvalue_counts = nv;
    df->value_counts = values;
    df->nnull_value_counts = nn;
    df->null_value_counts = nulls;
    df->nnan_value_counts = nnan;
    df->nan_value_counts = nans;
    df->nlower_bounds = nl;
    df->lower_bounds = lower;
    df->nupper_bounds = nu;
    df->upper_bounds = upper;
    int64_t *splits = firn_arena_alloc(a, (info->nrow_groups + 1) * sizeof *splits);
    for (size_t i = 0; i < info->nrow_groups; i++) splits[i] = (int64_t)info->row_group_offsets[i];
    df->nsplit_offsets = info->nrow_groups;
    df->split_offsets = splits;
}

static int close_file(firn_ice_data_writer *w, part *p, firn_error *err) {
    firn_pq_file_info info;
    int rc = firn_pq_writer_close(p->pw, &info, err);
    if (rc == 0 && info.file_size != firn_io_writer_offset(p->iw))
        rc = FIRN_RAISE(err, FIRN_ERR_INTERNAL,
                        "data file: the Parquet writer reports %llu bytes, %llu were written",
                        (unsigned long long)info.file_size,
                        (unsigned long long)firn_io_writer_offset(p->iw));
    if (rc) {
        firn_io_writer_abort(p->iw);
    } else {
        rc = firn_io_writer_close(p->iw, err);
        if (rc == 0) {
            firn_ice_grow((void **)&w->written, &w->cap_written, w->nwritten + 1,
                          sizeof *w->written);
            w->written[w->nwritten++] = p->location;
            record_file(w, p, &info);
        }
    }
    p->iw = NULL;
    firn_pq_writer_free(p->pw);
    p->pw = NULL;
    if (rc) FIRN_WRAP(err, err->kind, "cannot finish data file");
    if (rc) firn_error_context(err, "%s", p->location);
    return rc;
}

/* ------------------------------------------------------------ lifecycle */

firn_ice_data_writer *firn_ice_data_writer_new(const firn_ice_metadata *md, firn_io *io,
                                               const firn_ice_data_writer_options *opts,
                                               firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_ice_data_writer *w = firn_xcalloc(1, sizeof *w);
    firn_arena_init(&w->arena, 16384);
    w->md = md;
    w->io = io;
    w->schema = firn_ice_metadata_current_schema(md);
    w->spec = firn_ice_metadata_default_spec(md);
    if (!w->schema || !w->spec) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "data writer: the table has no current schema or spec");
        goto fail;
    }
    w->ncols = firn_ice_schema_nfields(w->schema);
    if (w->ncols == 0) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "data writer: the table's schema has no columns");
        goto fail;
    }
    const firn_ice_field *fields = firn_ice_schema_fields(w->schema);
    w->cols = firn_xcalloc(w->ncols, sizeof *w->cols);
    w->specs = firn_xcalloc(w->ncols, sizeof *w->specs);
    const char *media = prop(md, "write.parquet.media-columns");
    for (size_t i = 0; i < w->ncols; i++) {
        col_plan *c = &w->cols[i];
        c->field = &fields[i];
        if (pq_type_of(c->field, &c->pq_type, &c->width, err)) goto fail;
        firn_pq_column_spec *s = &w->specs[i];
        firn_pq_column_spec_init(s, c->field->name, c->field->id, c->pq_type);
        s->optional = !c->field->required;
        s->precision = c->field->type->precision;
        s->scale = c->field->type->scale;
        s->length = c->field->type->length;
        bool is_media = listed(media, c->field->name) ||
                        (c->field->doc && strstr(c->field->doc, "[media]"));
        if (is_media) {
            if (c->pq_type != FIRN_PQ_BINARY) {
                FIRN_RAISE(err, FIRN_ERR_INVALID,
                           "column '%s' is marked as media (write.parquet.media-columns or "
                           "'[media]' in its doc) but is not of type binary",
                           c->field->name);
                goto fail;
            }
            s->media = true;
            s->codec = FIRN_PQ_UNCOMPRESSED;
            s->no_dictionary = true;
        }
    }
    if (plan_metrics(w, err)) goto fail;

    firn_pq_writer_options_init(&w->opts);
    if (parse_codec(md, &w->opts, err)) goto fail;
    int64_t v;
    if (prop_i64(md, "write.parquet.row-group-size-bytes", 128LL << 20, 1, &v, err)) goto fail;
    w->opts.row_group_bytes = (uint64_t)v;
    if (prop_i64(md, "write.parquet.page-size-bytes", 1 << 20, 1, &v, err)) goto fail;
    w->opts.page_bytes = (uint64_t)v;
    if (prop_i64(md, "write.parquet.page-row-limit", 20000, 1, &v, err)) goto fail;
    w->opts.page_rows = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    if (prop_i64(md, "write.parquet.dict-size-bytes", 2 << 20, 1, &v, err)) goto fail;
    w->opts.dictionary_bytes = (uint64_t)v;
    w->opts.bounds_truncate = UINT32_MAX; /* full bounds; metrics modes truncate per column */
    w->schema_json = firn_ice_schema_to_string(w->schema);
    w->kv.key = "iceberg.schema";
    w->kv.value = w->schema_json;
    w->opts.kv = &w->kv;
    w->opts.nkv = 1;

    if (opts && opts->target_file_size > 0) {
        w->target = opts->target_file_size;
    } else if (prop_i64(md, "write.target-file-size-bytes", 512LL << 20, 1, &w->target, err)) {
        goto fail;
    }
    const char *dl = opts && opts->data_location ? opts->data_location
                                                 : prop(md, "write.data.path");
    if (dl && *dl) {
        size_t n = strlen(dl);
        while (n > 1 && dl[n - 1] == '/') n--;
        w->data_location = firn_arena_strndup(&w->arena, dl, n);
    } else {
        size_t n = strlen(md->location) + sizeof "/data";
        char *s = firn_arena_alloc(&w->arena, n);
        snprintf(s, n, "%s/data", md->location);
        w->data_location = s;
    }
    uint8_t u[16];
    firn_ice_uuid4(u);
    firn_ice_uuid_format(u, w->uuid);

    /* partition fields: their sources among the top-level columns */
    w->npf = w->spec->nfields;
    w->partitioned = !firn_ice_partition_spec_is_unpartitioned(w->spec);
    w->pf_col = firn_xcalloc(w->npf + 1, sizeof *w->pf_col);
    w->src_vals = firn_xcalloc(w->npf + 1, sizeof *w->src_vals);
    w->tuple = firn_xcalloc(w->npf + 1, sizeof *w->tuple);
    for (size_t k = 0; k < w->npf; k++) {
        const firn_ice_partition_field *f = &w->spec->fields[k];
        w->pf_col[k] = -1;
        for (size_t i = 0; i < w->ncols; i++)
            if (fields[i].id == f->source_id) w->pf_col[k] = (int)i;
        if (w->pf_col[k] < 0 && f->transform.kind != FIRN_ICE_TRANSFORM_VOID) {
            FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                       "partition field '%s': its source (field id %d) is not a top-level column",
                       f->name, f->source_id);
            goto fail;
        }
        if (f->transform.kind == FIRN_ICE_TRANSFORM_UNKNOWN) {
            FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                       "partition field '%s': firn cannot apply transform '%s'", f->name,
                       f->transform.unknown ? f->transform.unknown : "?");
            goto fail;
        }
    }
    w->nslots = 16;
    w->slots = firn_xcalloc(w->nslots, sizeof *w->slots);
    w->gather = firn_xcalloc(w->ncols, sizeof *w->gather);
    w->gather_off = firn_xcalloc(w->ncols, sizeof *w->gather_off);
    w->gather_valid = firn_xcalloc(w->ncols, sizeof *w->gather_valid);
    w->gcols = firn_xcalloc(w->ncols, sizeof *w->gcols);
    return w;
fail:
    firn_ice_data_writer_free(w);
    return NULL;
}

uint64_t firn_ice_data_writer_rows(const firn_ice_data_writer *w) { return w->rows; }

/* Rows [from, from + n) of cols go to part p, rolling files at the target size. */
static int write_rows(firn_ice_data_writer *w, part *p, const firn_pq_column_data *cols,
                      size_t n, firn_error *err) {
    size_t done = 0;
    firn_pq_column_data *slice = w->gcols;
    while (done < n) {
        if (!p->pw && open_file(w, p, err)) return -err->kind;
        uint64_t size = firn_pq_writer_estimated_size(p->pw);
        size_t k;
        if (p->file_rows == 0 || size == 0) {
            k = SLICE_FIRST;
        } else {
            double per_row = (double)size / (double)p->file_rows;
            double room = (double)w->target - (double)size;
            k = room <= 0 ? 1 : (size_t)(room / per_row) + 1;
            if (k > SLICE_MAX) k = SLICE_MAX;
        }
        if (k > n - done) k = n - done;
        const firn_pq_column_data *src = cols;
        if (done) {
            /* a view of rows [done, done + k) */
            for (size_t i = 0; i < w->ncols; i++) {
                const firn_pq_column_data *d = &cols[i];
                slice[i].validity = d->validity ? d->validity + done : NULL;
                if (w->cols[i].width) {
                    slice[i].values = (const uint8_t *)d->values + done * w->cols[i].width;
                    slice[i].offsets = NULL;
                    slice[i].data = NULL;
                } else {
                    slice[i].values = NULL;
                    slice[i].offsets = d->offsets + done;
                    slice[i].data = d->data;
                }
            }
            src = slice;
        }
        if (firn_pq_writer_write(p->pw, src, k, err)) return -err->kind;
        done += k;
        p->file_rows += k;
        if ((int64_t)firn_pq_writer_estimated_size(p->pw) >= w->target &&
            close_file(w, p, err))
            return -err->kind;
    }
    return 0;
}

/* Copy the rows listed in idx (n of them) of cols into the gather buffers. */
static void gather_rows(firn_ice_data_writer *w, const firn_pq_column_data *cols,
                        const uint32_t *idx, size_t n, firn_pq_column_data *out) {
    for (size_t i = 0; i < w->ncols; i++) {
        const firn_pq_column_data *d = &cols[i];
        const col_plan *c = &w->cols[i];
        firn_buf *g = &w->gather[i];
        firn_buf_clear(g);
        out[i].validity = NULL;
        if (d->validity) {
            firn_buf *gv = &w->gather_valid[i];
            firn_buf_clear(gv);
            uint8_t *v = firn_buf_extend(gv, n ? n : 1);
            for (size_t r = 0; r < n; r++) v[r] = d->validity[idx[r]];
            out[i].validity = v;
        }
        if (c->width) {
            uint8_t *dst = firn_buf_extend(g, n * c->width + 1);
            const uint8_t *srcv = d->values;
            for (size_t r = 0; r < n; r++)
                memcpy(dst + r * c->width, srcv + (size_t)idx[r] * c->width, c->width);
            out[i].values = dst;
            out[i].offsets = NULL;
            out[i].data = NULL;
        } else {
            firn_buf *go = &w->gather_off[i];
            firn_buf_clear(go);
            int64_t *off = (int64_t *)(void *)firn_buf_extend(go, (n + 1) * sizeof(int64_t));
            off[0] = 0;
            for (size_t r = 0; r < n; r++) {
                int64_t a = d->offsets[idx[r]], b = d->offsets[idx[r] + 1];
                firn_buf_append(g, d->data + a, (size_t)(b - a));
                off[r + 1] = off[r] + (b - a);
            }
            firn_buf_reserve(g, 1);
            out[i].values = NULL;
            out[i].offsets = off;
            out[i].data = g->data;
        }
    }
}

static void abort_all(firn_ice_data_writer *w) {
    for (size_t i = 0; i < w->nparts; i++) {
        part *p = w->parts[i];
        if (p->pw) {
            firn_pq_writer_free(p->pw);
            p->pw = NULL;
        }
        if (p->iw) {
            firn_io_writer_abort(p->iw);
            p->iw = NULL;
        }
    }
    if (w->nwritten) {
        firn_error e;
        firn_error_init(&e);
        firn_io_delete_batch(w->io, w->written, w->nwritten, NULL, &e);
        firn_error_release(&e);
    }
    w->nwritten = 0;
    w->nfiles = 0;
    w->failed = true;
}

int firn_ice_data_writer_write(firn_ice_data_writer *w, const firn_pq_column_data *cols,
                               size_t nrows, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (w->failed || w->closed)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "data writer: %s",
                          w->closed ? "already closed" : "a previous write failed");
    if (nrows == 0) return 0;
    int rc = 0;
    if (!w->partitioned) {
        if (w->nparts == 0) {
            for (size_t k = 0; k < w->npf; k++) w->tuple[k] = firn_ice_value_null(FIRN_ICE_INT);
            if (find_part(w, w->tuple, err) < 0) rc = -err->kind;
        }
        if (rc == 0) rc = write_rows(w, w->parts[0], cols, nrows, err);
    } else {
        if (nrows > w->cap_rows) {
            w->cap_rows = nrows;
            free(w->row_part);
            free(w->order);
            w->row_part = firn_xmalloc(nrows * sizeof *w->row_part);
            w->order = firn_xmalloc(nrows * sizeof *w->order);
        }
        bool single = true;
        int last = -1;
        for (size_t r = 0; r < nrows && rc == 0; r++) {
            for (size_t k = 0; k < w->npf; k++)
                w->src_vals[k] = w->pf_col[k] >= 0
                                     ? cell(&w->cols[w->pf_col[k]], &cols[w->pf_col[k]], r)
                                     : firn_ice_value_null(FIRN_ICE_INT);
            if (firn_ice_partition_apply(w->spec, w->schema, w->src_vals, w->tuple, err)) {
                rc = FIRN_WRAP(err, err->kind, "row %zu of the batch", r);
                break;
            }
            /* rows of one partition usually come together: try the last one first */
            int pi;
            if (last >= 0 && tuple_equal(w->parts[last]->key, w->tuple, w->npf)) {
                pi = last;
            } else {
                pi = find_part(w, w->tuple, err);
                if (pi < 0) {
                    rc = -err->kind;
                    break;
                }
            }
            if (last >= 0 && pi != last) single = false;
            last = pi;
            w->row_part[r] = (uint32_t)pi;
        }
        if (rc == 0 && single) {
            rc = write_rows(w, w->parts[last], cols, nrows, err);
        } else if (rc == 0) {
            /* counting sort of the rows by partition */
            if (w->nparts + 1 > w->cap_counts) {
                w->cap_counts = w->nparts * 2 + 1;
                free(w->counts);
                free(w->starts);
                w->counts = firn_xmalloc(w->cap_counts * sizeof *w->counts);
                w->starts = firn_xmalloc(w->cap_counts * sizeof *w->starts);
            }
            memset(w->counts, 0, (w->nparts + 1) * sizeof *w->counts);
            for (size_t r = 0; r < nrows; r++) w->counts[w->row_part[r]]++;
            uint32_t acc = 0;
            for (size_t i = 0; i < w->nparts; i++) {
                w->starts[i] = acc;
                acc += w->counts[i];
            }
            for (size_t r = 0; r < nrows; r++) w->order[w->starts[w->row_part[r]]++] = (uint32_t)r;
            firn_pq_column_data *g = firn_xcalloc(w->ncols, sizeof *g);
            acc = 0;
            for (size_t i = 0; i < w->nparts && rc == 0; i++) {
                uint32_t n = w->counts[i];
                if (!n) continue;
                gather_rows(w, cols, w->order + acc, n, g);
                acc += n;
                rc = write_rows(w, w->parts[i], g, n, err);
            }
            free(g);
        }
    }
    if (rc) {
        abort_all(w);
        return rc;
    }
    w->rows += nrows;
    return 0;
}

int firn_ice_data_writer_close(firn_ice_data_writer *w, const firn_ice_data_file **files,
                               size_t *nfiles, firn_error *err) {
    ICE_ERR_GUARD(err);
    *files = NULL;
    *nfiles = 0;
    if (w->failed)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "data writer: a previous write failed");
    if (!w->closed) {
        for (size_t i = 0; i < w->nparts; i++) {
            if (!w->parts[i]->pw) continue;
            if (close_file(w, w->parts[i], err)) {
                abort_all(w);
                return -err->kind;
            }
        }
        w->closed = true;
        firn_io_crash_point("write.after-data-files");
    }
    *files = w->files;
    *nfiles = w->nfiles;
    return 0;
}

void firn_ice_data_writer_abort(firn_ice_data_writer *w) {
    if (w) abort_all(w);
}

void firn_ice_data_writer_free(firn_ice_data_writer *w) {
    if (!w) return;
    if (!w->closed) abort_all(w);
    for (size_t i = 0; i < w->ncols && w->gather; i++) {
        firn_buf_release(&w->gather[i]);
        firn_buf_release(&w->gather_off[i]);
        firn_buf_release(&w->gather_valid[i]);
    }
    free(w->gather);
    free(w->gather_off);
    free(w->gather_valid);
    free(w->gcols);
    free(w->cols);
    free(w->specs);
    free(w->schema_json);
    free(w->pf_col);
    free(w->src_vals);
    free(w->tuple);
    free(w->parts);
    free(w->slots);
    free(w->files);
    free(w->written);
    free(w->row_part);
    free(w->order);
    free(w->counts);
    free(w->starts);
    firn_arena_release(&w->arena);
    free(w);
}
