/*
 * writer.c - firn's Parquet file writer: checks the column specs, slices
 * incoming batches into row groups by bytes, writes each row group's column
 * chunks (buffered in memory by column_writer.c) through a buffered sink,
 * then the footer (schema with field ids and logical + converted types,
 * row groups, statistics, key/value metadata, TYPE_ORDER column orders), and
 * reports what Iceberg needs about the file.
 *
 * Streaming: the first column that pq_col_can_stream (in practice the first
 * media BYTE_ARRAY column: uncompressed, PLAIN, no min/max) is not buffered.
 * Its pages go to the sink as they complete, values straight from the
 * caller's batch, so a row group of images is never held in memory and
 * write() copies from memory that is still in cache. Its chunk therefore
 * comes first in each row group's bytes, and the buffered chunks follow in
 * schema order when the row group ends. The footer still lists the chunks
 * in schema order; readers find each by its offsets (the Parquet spec does
 * not order chunks within a row group). A row group's file_offset (and
 * Iceberg's split offset) is its first byte, the streamed chunk's start.
 *
 * Validation (before any row of a batch is written, so a rejected batch
 * leaves the writer as it was): required columns have no nulls; STRING
 * values are valid UTF-8 (RFC 3629); byte-array offsets never decrease and
 * no value exceeds Parquet's 2 GiB limit. An error while writing (codec or
 * I/O) leaves the writer failed: every later call returns an error.
 */
#include "parquet/write_internal.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIRN_PQ_CREATED_BY "firn version 0.1.0"
#define OUTBUF_SIZE ((size_t)1 << 20)
/* Pieces at least this large go to the sink directly, not through the
 * buffer (one copy fewer: a streamed 100 KiB image goes from the caller's
 * batch to write()). */
#define DIRECT_BYTES ((size_t)64 << 10)

struct firn_pq_writer {
    firn_pq_write_fn write;
    void *ctx;
    int fd;              /* firn_pq_writer_open: the file, else -1 */
    char *path;
    uint64_t row_group_bytes;
    uint32_t bounds_truncate;
    firn_arena arena;    /* names, key/values, footer metadata */
    size_t ncols;
    firn_pq_column_spec *specs;
    pq_col *cols;
    firn_buf out;        /* sink buffer */
    uint64_t pos;        /* bytes handed to the sink, buffered or not */
    uint64_t rg_start;   /* where the open row group's bytes begin */
    pq_col *stream;      /* the streamed column, or NULL */
    pq_sink sink;        /* emit() for the streamed column */
    uint64_t rg_rows, rows;
    pq_row_group *rgs;
    size_t nrgs, rgs_cap;
    pq_key_value *kv;
    size_t nkv;
    const char *created_by;
    bool failed, closed;
    firn_buf scratch;
    firn_pq_column_stats *info_cols;
    uint64_t *rg_offsets;
};

void firn_pq_writer_options_init(firn_pq_writer_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->codec = FIRN_PQ_CODEC_DEFAULT;
}

void firn_pq_column_spec_init(firn_pq_column_spec *spec, const char *name, int32_t field_id,
                              firn_pq_type type) {
    memset(spec, 0, sizeof *spec);
    spec->name = name;
    spec->field_id = field_id;
    spec->type = type;
    spec->codec = FIRN_PQ_CODEC_DEFAULT;
}

/* ---------------------------------------------------------- validation */

static const char *type_name(firn_pq_type t) {
    static const char *names[] = {"boolean",     "int",          "long",          "float",
                                  "double",      "decimal",      "date",          "time",
                                  "timestamp",   "timestamptz",  "timestamp_ns",  "timestamptz_ns",
                                  "string",      "uuid",         "fixed",         "binary"};
    return (unsigned)t < FIRN_PQ_TYPE_COUNT ? names[t] : "?";
}

static bool codec_ok(int codec) {
    return codec == FIRN_PQ_UNCOMPRESSED || codec == FIRN_PQ_SNAPPY || codec == FIRN_PQ_GZIP ||
           codec == FIRN_PQ_ZSTD || codec == FIRN_PQ_LZ4_RAW;
}

static int spec_error(firn_error *err, const firn_pq_column_spec *s, size_t i, const char *what) {
    int rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "parquet: column '%s' (field id %d): %s",
                        s->name ? s->name : "?", (int)s->field_id, what);
    firn_error_context(err, "column %zu of the schema", i);
    return rc;
}

static int check_spec(const firn_pq_column_spec *s, size_t i, firn_error *err) {
    char msg[200];
    if (!s->name || !*s->name) return spec_error(err, s, i, "a column needs a name");
    if ((unsigned)s->type >= FIRN_PQ_TYPE_COUNT) {
        snprintf(msg, sizeof msg, "unknown type %d", (int)s->type);
        return spec_error(err, s, i, msg);
    }
    if (s->type == FIRN_PQ_DECIMAL) {
        if (s->precision < 1 || s->precision > 38) {
            snprintf(msg, sizeof msg, "decimal precision %d is out of range (1..38)",
                     (int)s->precision);
            return spec_error(err, s, i, msg);
        }
        if (s->scale < 0 || s->scale > s->precision) {
            snprintf(msg, sizeof msg, "decimal scale %d must be between 0 and the precision %d",
                     (int)s->scale, (int)s->precision);
            return spec_error(err, s, i, msg);
        }
    }
    if (s->type == FIRN_PQ_FIXED && (s->length <= 0 || s->length > (1 << 24))) {
        snprintf(msg, sizeof msg, "fixed length %d must be between 1 and 16777216",
                 (int)s->length);
        return spec_error(err, s, i, msg);
    }
    if (s->codec != FIRN_PQ_CODEC_DEFAULT && !codec_ok(s->codec)) {
        snprintf(msg, sizeof msg,
                 "compression codec %d is not supported (none, snappy, gzip, zstd, lz4_raw)",
                 (int)s->codec);
        return spec_error(err, s, i, msg);
    }
    return 0;
}

static int batch_error(firn_pq_writer *w, firn_error *err, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int batch_error(firn_pq_writer *w, firn_error *err, size_t col, const char *fmt, ...) {
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const firn_pq_column_spec *s = &w->specs[col];
    int rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "parquet: column '%s' (field id %d, %s): %s",
                        s->name, (int)s->field_id, type_name(s->type), msg);
    if (w->path) firn_error_context(err, "%s", w->path);
    return rc;
}

/* Row whose value contains byte offset at (first row with off[row+1] > at). */
static size_t row_of_offset(const int64_t *off, size_t n, int64_t at) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (off[mid + 1] > at) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

static int check_strings(firn_pq_writer *w, size_t col, const firn_pq_column_data *d,
                         size_t nrows, firn_error *err) {
    const int64_t *off = d->offsets;
    if (!d->validity) {
        /* one pass over all the bytes, then no value may start inside a code point */
        size_t len = (size_t)(off[nrows] - off[0]);
        size_t bad = pq_utf8_check(d->data + off[0], len);
        if (bad < len) {
            size_t row = row_of_offset(off, nrows, off[0] + (int64_t)bad);
            return batch_error(w, err, col,
                               "row %zu is not valid UTF-8 (byte %lld of the value); STRING "
                               "values must be UTF-8, use a binary column for other bytes",
                               row, (long long)(off[0] + (int64_t)bad - off[row]));
        }
        for (size_t r = 0; r < nrows; r++) {
            if (off[r + 1] > off[r] && (d->data[off[r]] & 0xC0) == 0x80)
                return batch_error(w, err, col,
                                   "row %zu is not valid UTF-8 (starts inside a character); "
                                   "STRING values must be UTF-8",
                                   r);
        }
        return 0;
    }
    for (size_t r = 0; r < nrows; r++) {
        if (!d->validity[r]) continue;
        size_t len = (size_t)(off[r + 1] - off[r]);
        size_t bad = pq_utf8_check(d->data + off[r], len);
        if (bad < len)
            return batch_error(w, err, col,
                               "row %zu is not valid UTF-8 (byte %zu of the value); STRING values "
                               "must be UTF-8, use a binary column for other bytes",
                               r, bad);
    }
    return 0;
}

static int check_batch(firn_pq_writer *w, const firn_pq_column_data *cols, size_t nrows,
                       firn_error *err) {
    if (!cols) return FIRN_RAISE(err, FIRN_ERR_INVALID, "parquet: write needs column data");
    for (size_t i = 0; i < w->ncols; i++) {
        const firn_pq_column_spec *s = &w->specs[i];
        const firn_pq_column_data *d = &cols[i];
        if (!s->optional && d->validity) {
            const uint8_t *z = memchr(d->validity, 0, nrows);
            if (z)
                return batch_error(w, err, i, "row %zu is null but the column is required",
                                   (size_t)(z - d->validity));
        }
        if (w->cols[i].physical == PQ_BYTE_ARRAY) {
            if (!d->offsets) return batch_error(w, err, i, "offsets are missing");
            const int64_t *off = d->offsets;
            if (off[0] < 0) return batch_error(w, err, i, "offsets[0] is negative");
            for (size_t r = 0; r < nrows; r++) {
                int64_t len = off[r + 1] - off[r];
                if (len < 0)
                    return batch_error(w, err, i, "offsets decrease at row %zu", r);
                if (len > (int64_t)INT32_MAX - 64)
                    return batch_error(w, err, i,
                                       "row %zu holds %lld bytes, over Parquet's 2 GiB limit",
                                       r, (long long)len);
            }
            if (off[nrows] > off[0] && !d->data) return batch_error(w, err, i, "data is missing");
            if (s->type == FIRN_PQ_STRING && off[nrows] > off[0] &&
                check_strings(w, i, d, nrows, err))
                return -FIRN_ERR_INVALID;
        } else if (!d->values) {
            /* fine only when every row is null */
            bool any = !d->validity;
            for (size_t r = 0; !any && r < nrows; r++) any = d->validity[r] != 0;
            if (any) return batch_error(w, err, i, "values are missing");
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- sink */

static int fail(firn_pq_writer *w, int rc) {
    w->failed = true;
    return rc;
}

static int sink_flush(firn_pq_writer *w, firn_error *err) {
    if (!w->out.len) return 0;
    int rc = w->write(w->ctx, w->out.data, w->out.len, err);
    w->out.len = 0;
    return rc ? fail(w, rc) : 0;
}

static int emit(firn_pq_writer *w, const void *p, size_t n, firn_error *err) {
    if (!n) return 0;
    if (n >= DIRECT_BYTES) { /* large: straight through, no copy */
        if (sink_flush(w, err)) return -1;
        int rc = w->write(w->ctx, p, n, err);
        if (rc) return fail(w, rc);
    } else {
        if (w->out.len + n > OUTBUF_SIZE && sink_flush(w, err)) return -1;
        firn_buf_append(&w->out, p, n);
    }
    w->pos += n;
    return 0;
}

static int sink_emit(void *ctx, const void *p, size_t n, firn_error *err) {
    return emit(ctx, p, n, err);
}

static int fd_write(void *ctx, const void *data, size_t n, firn_error *err) {
    firn_pq_writer *w = ctx;
    const uint8_t *p = data;
    while (n) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            int rc = FIRN_RAISE(err, FIRN_ERR_IO, "parquet: cannot write: %s", strerror(errno));
            firn_error_context(err, "%s", w->path);
            return rc;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* --------------------------------------------------------------- writer */

firn_pq_writer *firn_pq_writer_new(const firn_pq_column_spec *columns, size_t ncolumns,
                                   const firn_pq_writer_options *opts, firn_pq_write_fn write,
                                   void *ctx, firn_error *err) {
    firn_pq_writer_options defaults;
    if (!opts) {
        firn_pq_writer_options_init(&defaults);
        opts = &defaults;
    }
    if (!columns || ncolumns == 0) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "parquet: a file needs at least one column");
        return NULL;
    }
    if (ncolumns > 32767) {
        FIRN_RAISE(err, FIRN_ERR_LIMIT, "parquet: %zu columns is too many", ncolumns);
        return NULL;
    }
    if (!write) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "parquet: the writer needs a sink");
        return NULL;
    }
    int codec = opts->codec == FIRN_PQ_CODEC_DEFAULT ? FIRN_PQ_ZSTD : opts->codec;
    if (!codec_ok(codec)) {
        FIRN_RAISE(err, FIRN_ERR_INVALID,
                   "parquet: compression codec %d is not supported (none, snappy, gzip, zstd, "
                   "lz4_raw)",
                   (int)opts->codec);
        return NULL;
    }
    for (size_t i = 0; i < ncolumns; i++)
        if (check_spec(&columns[i], i, err)) return NULL;
    for (size_t i = 0; i < opts->nkv; i++) {
        if (!opts->kv || !opts->kv[i].key) {
            FIRN_RAISE(err, FIRN_ERR_INVALID, "parquet: key/value metadata %zu has no key", i);
            return NULL;
        }
    }

    firn_pq_writer *w = firn_xcalloc(1, sizeof *w);
    w->write = write;
    w->ctx = ctx;
    w->fd = -1;
    firn_arena_init(&w->arena, 0);
    w->row_group_bytes = opts->row_group_bytes ? opts->row_group_bytes : (uint64_t)128 << 20;
    w->bounds_truncate = opts->bounds_truncate ? opts->bounds_truncate : 16;
    w->created_by = firn_arena_strdup(&w->arena, opts->created_by ? opts->created_by
                                                                  : FIRN_PQ_CREATED_BY);
    w->nkv = opts->nkv;
    w->kv = firn_arena_calloc(&w->arena, (opts->nkv ? opts->nkv : 1) * sizeof *w->kv);
    for (size_t i = 0; i < opts->nkv; i++) {
        const char *k = opts->kv[i].key, *v = opts->kv[i].value;
        w->kv[i].key = (pq_bytes){(const uint8_t *)firn_arena_strdup(&w->arena, k),
                                  (uint32_t)strlen(k)};
        if (v) {
            w->kv[i].has_value = true;
            w->kv[i].value = (pq_bytes){(const uint8_t *)firn_arena_strdup(&w->arena, v),
                                        (uint32_t)strlen(v)};
        }
    }
    pq_col_config cfg = {
        .page_bytes = opts->page_bytes ? opts->page_bytes : (size_t)1 << 20,
        .page_rows = opts->page_rows ? opts->page_rows : 20000,
        .dict_bytes = opts->dictionary_bytes ? opts->dictionary_bytes : (size_t)1 << 20,
        .codec = codec,
        .codec_level = opts->codec_level,
        .v2 = opts->data_page_v2,
    };
    w->ncols = ncolumns;
    w->specs = firn_arena_alloc(&w->arena, ncolumns * sizeof *w->specs);
    w->cols = firn_xcalloc(ncolumns, sizeof *w->cols);
    for (size_t i = 0; i < ncolumns; i++) {
        w->specs[i] = columns[i];
        w->specs[i].name = firn_arena_strdup(&w->arena, columns[i].name);
        pq_col_config cc = cfg;
        if (columns[i].codec != FIRN_PQ_CODEC_DEFAULT) {
            cc.codec = columns[i].codec;
            cc.codec_level = columns[i].codec_level;
        } else if (columns[i].codec_level) {
            cc.codec_level = columns[i].codec_level;
        }
        pq_col_init(&w->cols[i], &w->specs[i], &cc);
    }
    w->sink = (pq_sink){sink_emit, w};
    for (size_t i = 0; i < ncolumns && !w->stream; i++) {
        if (!pq_col_can_stream(&w->cols[i])) continue;
        w->stream = &w->cols[i];
        w->stream->sink = &w->sink;
    }
    firn_buf_reserve(&w->out, OUTBUF_SIZE);
    firn_buf_append(&w->out, "PAR1", 4);
    w->pos = w->rg_start = 4;
    return w;
}

firn_pq_writer *firn_pq_writer_open(const char *path, const firn_pq_column_spec *columns,
                                    size_t ncolumns, const firn_pq_writer_options *opts,
                                    firn_error *err) {
    /* check everything before creating the file */
    static int dummy;
    firn_pq_writer *w = firn_pq_writer_new(columns, ncolumns, opts, fd_write, &dummy, err);
    if (!w) return NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        FIRN_RAISE(err, errno == EEXIST ? FIRN_ERR_CONFLICT : FIRN_ERR_IO,
                   "parquet: cannot create: %s", strerror(errno));
        firn_error_context(err, "%s", path);
        firn_pq_writer_free(w);
        return NULL;
    }
    w->fd = fd;
    w->path = firn_xstrdup(path);
    w->ctx = w;
    return w;
}

static uint64_t rg_estimate(const firn_pq_writer *w) {
    uint64_t n = 0;
    for (size_t i = 0; i < w->ncols; i++) n += pq_col_estimate(&w->cols[i]);
    return n;
}

uint64_t firn_pq_writer_estimated_size(const firn_pq_writer *w) {
    /* the streamed chunk's finished pages are in pos already */
    return w->pos + rg_estimate(w) - (w->stream ? w->stream->chunk_compressed : 0);
}

static void add_encoding(int32_t *e, uint32_t *n, int32_t enc) {
    for (uint32_t i = 0; i < *n; i++)
        if (e[i] == enc) return;
    e[(*n)++] = enc;
}

/* The footer's description of column i's chunk, which is in the file at
 * [start, start + chunk_compressed) with its first data page at data_start. */
static void describe_chunk(firn_pq_writer *w, pq_row_group *rg, size_t i, uint64_t start,
                           uint64_t data_start) {
    pq_col *c = &w->cols[i];
    pq_column_chunk *cc = &rg->columns[i];
    cc->file_offset = (int64_t)start;
    cc->has_meta_data = true;
    pq_column_meta_data *m = &cc->meta_data;
    m->type = c->physical;
    m->encodings = firn_arena_alloc(&w->arena, 4 * sizeof *m->encodings);
    if (c->used_dict) {
        add_encoding(m->encodings, &m->nencodings, PQ_ENC_PLAIN);
        add_encoding(m->encodings, &m->nencodings, PQ_ENC_RLE_DICTIONARY);
    }
    if (c->used_plain) add_encoding(m->encodings, &m->nencodings, PQ_ENC_PLAIN);
    if (c->max_def || c->max_rep) add_encoding(m->encodings, &m->nencodings, PQ_ENC_RLE);
    m->path_in_schema = firn_arena_alloc(&w->arena, sizeof *m->path_in_schema);
    m->path_in_schema[0] = (pq_bytes){(const uint8_t *)c->name, (uint32_t)strlen(c->name)};
    m->npath = 1;
    m->codec = c->cfg.codec;
    m->num_values = (int64_t)c->chunk_values;
    m->total_uncompressed_size = (int64_t)c->chunk_uncompressed;
    m->total_compressed_size = (int64_t)c->chunk_compressed;
    m->data_page_offset = (int64_t)data_start;
    if (c->has_dict_page) {
        m->has_dictionary_page_offset = true;
        m->dictionary_page_offset = (int64_t)start;
    }
    m->has_statistics = true;
    pq_statistics *st = &m->statistics;
    st->has_null_count = true;
    st->null_count = (int64_t)c->chunk_nulls;
    if (c->physical == PQ_FLOAT || c->physical == PQ_DOUBLE) {
        st->has_nan_count = true;
        st->nan_count = (int64_t)c->chunk_nans;
    }
    if (c->want_stats) {
        firn_buf_clear(&w->scratch);
        pq_stats_minmax(st, &c->chunk_mm, c->ord, c->physical, c->is_string, &w->scratch);
        if (st->has_min_value) {
            st->min_value.ptr = firn_arena_memdup(&w->arena, st->min_value.ptr, st->min_value.len);
            st->max_value.ptr = firn_arena_memdup(&w->arena, st->max_value.ptr, st->max_value.len);
        }
    }
    rg->total_byte_size += (int64_t)c->chunk_uncompressed;
    rg->total_compressed_size += (int64_t)c->chunk_compressed;
}

static int chunk_size_mismatch(firn_pq_writer *w, const pq_col *c, firn_error *err) {
    FIRN_RAISE(err, FIRN_ERR_INTERNAL, "parquet: column '%s': chunk size mismatch", c->name);
    return fail(w, -FIRN_ERR_INTERNAL);
}

/*
 * End the row group: the streamed column's last page goes out (its chunk
 * then spans [rg_start, pos)), then every buffered chunk in schema order.
 */
static int flush_row_group(firn_pq_writer *w, firn_error *err) {
    if (!w->rg_rows) return 0;
    if (w->nrgs > 32767) {
        FIRN_RAISE(err, FIRN_ERR_LIMIT, "parquet: more than 32767 row groups in one file");
        return fail(w, -FIRN_ERR_LIMIT);
    }
    for (size_t i = 0; i < w->ncols; i++)
        if (pq_col_finish_chunk(&w->cols[i], err)) return fail(w, -1);
    if (w->nrgs == w->rgs_cap) {
        w->rgs_cap = w->rgs_cap ? w->rgs_cap * 2 : 8;
        w->rgs = firn_xrealloc(w->rgs, w->rgs_cap * sizeof *w->rgs);
    }
    pq_row_group *rg = &w->rgs[w->nrgs];
    memset(rg, 0, sizeof *rg);
    rg->columns = firn_arena_calloc(&w->arena, w->ncols * sizeof *rg->columns);
    rg->ncolumns = (uint32_t)w->ncols;
    rg->num_rows = (int64_t)w->rg_rows;
    rg->has_file_offset = rg->has_total_compressed_size = rg->has_ordinal = true;
    rg->file_offset = (int64_t)w->rg_start; /* the lowest offset of its chunks */
    rg->ordinal = (int16_t)w->nrgs;
    if (w->stream) {
        if (w->pos - w->rg_start != w->stream->chunk_compressed)
            return chunk_size_mismatch(w, w->stream, err);
        describe_chunk(w, rg, (size_t)(w->stream - w->cols), w->rg_start, w->rg_start);
    }
    for (size_t i = 0; i < w->ncols; i++) {
        pq_col *c = &w->cols[i];
        if (c == w->stream) continue;
        uint64_t start = w->pos;
        if (c->has_dict_page) {
            if (emit(w, c->meta.data + c->dict_segs[0].off, c->dict_segs[0].len, err) ||
                emit(w, c->body.data + c->dict_segs[1].off, c->dict_segs[1].len, err))
                return -1;
        }
        uint64_t data_start = w->pos;
        for (size_t s = 0; s < c->nsegs; s++) {
            const pq_seg *g = &c->segs[s];
            const uint8_t *base = g->in_body ? c->body.data : c->meta.data;
            if (emit(w, base + g->off, g->len, err)) return -1;
        }
        if (w->pos - start != c->chunk_compressed) return chunk_size_mismatch(w, c, err);
        describe_chunk(w, rg, i, start, data_start);
    }
    for (size_t i = 0; i < w->ncols; i++) pq_col_reset_chunk(&w->cols[i]);
    w->nrgs++;
    w->rg_rows = 0;
    w->rg_start = w->pos;
    return 0;
}

/* Rows per slice of a batch: about 1/16 of a row group, so a row group ends
 * close to row_group_bytes. */
static size_t slice_rows(const firn_pq_writer *w, const firn_pq_column_data *cols, size_t nrows) {
    uint64_t row_bytes = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        const pq_col *c = &w->cols[i];
        if (c->physical == PQ_BYTE_ARRAY) {
            row_bytes += 4 + (uint64_t)(cols[i].offsets[nrows] - cols[i].offsets[0]) / nrows;
        } else {
            row_bytes += c->width ? c->width : 1;
        }
    }
    uint64_t k = (w->row_group_bytes / 16) / (row_bytes ? row_bytes : 1);
    if (k < 1) k = 1;
    if (k > 65536) k = 65536;
    return (size_t)k;
}

int firn_pq_writer_write(firn_pq_writer *w, const firn_pq_column_data *cols, size_t nrows,
                         firn_error *err) {
    if (w->failed)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "parquet: the writer failed earlier");
    if (w->closed) return FIRN_RAISE(err, FIRN_ERR_INVALID, "parquet: the writer is closed");
    if (!nrows) return 0;
    if (check_batch(w, cols, nrows, err)) return -FIRN_ERR_INVALID;
    size_t slice = slice_rows(w, cols, nrows);
    for (size_t r = 0; r < nrows;) {
        size_t k = nrows - r < slice ? nrows - r : slice;
        for (size_t i = 0; i < w->ncols; i++)
            if (pq_col_write(&w->cols[i], &cols[i], r, k, err)) return fail(w, -1);
        w->rg_rows += k;
        w->rows += k;
        r += k;
        if (rg_estimate(w) >= w->row_group_bytes && flush_row_group(w, err)) return -1;
    }
    if (w->stream) pq_col_end_batch(w->stream); /* cols goes away now */
    return 0;
}

/* ---------------------------------------------------------------- footer */

static void schema_element(const firn_pq_column_spec *s, const pq_col *c, pq_schema_element *e) {
    memset(e, 0, sizeof *e);
    e->has_type = true;
    e->type = c->physical;
    if (c->physical == PQ_FIXED_LEN_BYTE_ARRAY) {
        e->has_type_length = true;
        e->type_length = c->type_length;
    }
    e->has_repetition = true;
    e->repetition_type = s->optional ? PQ_OPTIONAL : PQ_REQUIRED;
    e->name = (pq_bytes){(const uint8_t *)s->name, (uint32_t)strlen(s->name)};
    if (s->field_id >= 0) {
        e->has_field_id = true;
        e->field_id = s->field_id;
    }
    pq_logical_type *lt = &e->logical_type;
    switch (s->type) {
    case FIRN_PQ_STRING:
        lt->kind = PQ_LT_STRING;
        e->has_converted_type = true;
        e->converted_type = PQ_CT_UTF8;
        break;
    case FIRN_PQ_DECIMAL:
        lt->kind = PQ_LT_DECIMAL;
        lt->precision = s->precision;
        lt->scale = s->scale;
        e->has_converted_type = e->has_scale = e->has_precision = true;
        e->converted_type = PQ_CT_DECIMAL;
        e->scale = s->scale;
        e->precision = s->precision;
        break;
    case FIRN_PQ_DATE:
        lt->kind = PQ_LT_DATE;
        e->has_converted_type = true;
        e->converted_type = PQ_CT_DATE;
        break;
    case FIRN_PQ_TIME:
        lt->kind = PQ_LT_TIME;
        lt->is_adjusted_to_utc = false;
        lt->unit = PQ_UNIT_MICROS;
        e->has_converted_type = true;
        e->converted_type = PQ_CT_TIME_MICROS;
        break;
    case FIRN_PQ_TIMESTAMP:
    case FIRN_PQ_TIMESTAMPTZ:
        lt->kind = PQ_LT_TIMESTAMP;
        lt->is_adjusted_to_utc = s->type == FIRN_PQ_TIMESTAMPTZ;
        lt->unit = PQ_UNIT_MICROS;
        e->has_converted_type = true;
        e->converted_type = PQ_CT_TIMESTAMP_MICROS;
        break;
    case FIRN_PQ_TIMESTAMP_NS:
    case FIRN_PQ_TIMESTAMPTZ_NS: /* no ConvertedType for nanoseconds */
        lt->kind = PQ_LT_TIMESTAMP;
        lt->is_adjusted_to_utc = s->type == FIRN_PQ_TIMESTAMPTZ_NS;
        lt->unit = PQ_UNIT_NANOS;
        break;
    case FIRN_PQ_UUID:
        lt->kind = PQ_LT_UUID;
        break;
    default:
        break;
    }
}

static int write_footer(firn_pq_writer *w, firn_error *err) {
    pq_file_metadata md;
    memset(&md, 0, sizeof md);
    md.version = 1;
    md.nschema = (uint32_t)w->ncols + 1;
    md.schema = firn_arena_calloc(&w->arena, md.nschema * sizeof *md.schema);
    md.schema[0].name = (pq_bytes){(const uint8_t *)"table", 5};
    md.schema[0].has_num_children = true;
    md.schema[0].num_children = (int32_t)w->ncols;
    for (size_t i = 0; i < w->ncols; i++)
        schema_element(&w->specs[i], &w->cols[i], &md.schema[i + 1]);
    md.num_rows = (int64_t)w->rows;
    md.row_groups = w->rgs;
    md.nrow_groups = (uint32_t)w->nrgs;
    md.key_value_metadata = w->kv;
    md.nkey_value_metadata = (uint32_t)w->nkv;
    md.has_created_by = true;
    md.created_by = (pq_bytes){(const uint8_t *)w->created_by, (uint32_t)strlen(w->created_by)};
    md.ncolumn_orders = (uint32_t)w->ncols;
    firn_buf footer;
    firn_buf_init(&footer);
    pq_encode_file_metadata(&footer, &md);
    uint8_t tail[8];
    firn_store_le32(tail, (uint32_t)footer.len);
    memcpy(tail + 4, "PAR1", 4);
    int rc = emit(w, footer.data, footer.len, err);
    if (!rc) rc = emit(w, tail, 8, err);
    firn_buf_release(&footer);
    if (!rc) rc = sink_flush(w, err);
    return rc;
}

int firn_pq_writer_close(firn_pq_writer *w, firn_pq_file_info *info, firn_error *err) {
    if (w->failed)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "parquet: the writer failed earlier");
    if (w->closed) return FIRN_RAISE(err, FIRN_ERR_INVALID, "parquet: the writer is closed");
    if (flush_row_group(w, err) || write_footer(w, err)) return -1;
    if (w->fd >= 0) {
        if (fsync(w->fd) != 0) {
            int rc = FIRN_RAISE(err, FIRN_ERR_IO, "parquet: cannot fsync: %s", strerror(errno));
            firn_error_context(err, "%s", w->path);
            return fail(w, rc);
        }
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0) {
            int rc = FIRN_RAISE(err, FIRN_ERR_IO, "parquet: cannot close: %s", strerror(errno));
            firn_error_context(err, "%s", w->path);
            return fail(w, rc);
        }
    }
    w->closed = true;
    w->info_cols = firn_xcalloc(w->ncols, sizeof *w->info_cols);
    for (size_t i = 0; i < w->ncols; i++) {
        const pq_col *c = &w->cols[i];
        firn_pq_column_stats *s = &w->info_cols[i];
        s->field_id = w->specs[i].field_id;
        s->column_size = c->file_size;
        s->value_count = c->file_values;
        s->null_count = c->file_nulls;
        s->nan_count = c->file_nans;
        pq_iceberg_bounds(c->type, c->ord, &c->file_mm, w->bounds_truncate, s);
    }
    w->rg_offsets = firn_xcalloc(w->nrgs ? w->nrgs : 1, sizeof *w->rg_offsets);
    for (size_t i = 0; i < w->nrgs; i++) w->rg_offsets[i] = (uint64_t)w->rgs[i].file_offset;
    if (info) {
        memset(info, 0, sizeof *info);
        info->file_size = w->pos;
        info->row_count = w->rows;
        info->ncolumns = w->ncols;
        info->columns = w->info_cols;
        info->nrow_groups = w->nrgs;
        info->row_group_offsets = w->rg_offsets;
    }
    return 0;
}

void firn_pq_writer_free(firn_pq_writer *w) {
    if (!w) return;
    if (w->fd >= 0) {
        close(w->fd);
        if (!w->closed && w->path) unlink(w->path); /* never leave a partial file behind */
    }
    for (size_t i = 0; i < w->ncols; i++) pq_col_release(&w->cols[i]);
    free(w->cols);
    if (w->info_cols) {
        for (size_t i = 0; i < w->ncols; i++) {
            free(w->info_cols[i].lower);
            free(w->info_cols[i].upper);
        }
        free(w->info_cols);
    }
    free(w->rg_offsets);
    free(w->rgs);
    free(w->path);
    firn_buf_release(&w->out);
    firn_buf_release(&w->scratch);
    firn_arena_release(&w->arena);
    free(w);
}
