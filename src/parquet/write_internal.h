/*
 * write_internal.h - the Parquet writer's encoders and statistics helpers,
 * shared by writer.c, column_writer.c and the unit tests. Not public API.
 *
 *   encode.c         RLE/bit-packed hybrid, bit widths, UTF-8 validation
 *   stats.c          value orderings, min/max accumulators, Parquet statistics
 *                    values, Iceberg bounds (single-value form, truncation)
 *   column_writer.c  one leaf column's chunk: levels, dictionary, pages
 *   writer.c         the file: schema, row groups, footer, sink, file info
 */
#ifndef FIRN_PARQUET_WRITE_INTERNAL_H
#define FIRN_PARQUET_WRITE_INTERNAL_H

#include "parquet/parquet_internal.h"

#include <string.h>

/* ------------------------------------------------------------ encode.c */

/* Bits needed to store values 0..max (0 for max == 0). */
static inline int pq_bits_needed(uint64_t max) {
    return max ? 64 - __builtin_clzll(max) : 0;
}

/*
 * Append n values of bit_width bits (0..32) in the RLE/bit-packed hybrid
 * encoding (Encodings.md), without the 4-byte length prefix. Runs of 8 or
 * more equal values become RLE runs, the rest bit-packed groups of 8 (the
 * last group padded with zeros).
 */
void pq_rle_encode(firn_buf *out, const uint32_t *values, size_t n, int bit_width);

/* Same, with the 4-byte little-endian length prefix (data page v1 levels). */
void pq_rle_encode_prefixed(firn_buf *out, const uint32_t *values, size_t n, int bit_width);

/* Offset of the first byte that is not part of valid UTF-8 (RFC 3629: no
 * overlongs, surrogates or code points above U+10FFFF), or n if all valid. */
size_t pq_utf8_check(const uint8_t *p, size_t n);

/* ------------------------------------------------------------- stats.c */

/* How a column's values are ordered for statistics. */
typedef enum pq_order {
    PQ_ORD_NONE,      /* no min/max (media columns) */
    PQ_ORD_BOOL,      /* false < true, kept in i */
    PQ_ORD_INT,       /* signed, kept in i (INT32, INT64 and their logical types) */
    PQ_ORD_FLOAT,     /* IEEE, NaN skipped, -0.0 < +0.0, kept in d */
    PQ_ORD_DOUBLE,
    PQ_ORD_UNSIGNED,  /* unsigned lexicographic bytes (strings, binary, uuid, fixed) */
    PQ_ORD_SIGNED_BE, /* big-endian two's complement of equal length (FIXED decimals) */
} pq_order;

/* Minimum and maximum of the non-null, non-NaN values seen. */
typedef struct pq_minmax {
    bool has;
    int64_t imin, imax;
    double dmin, dmax;
    firn_buf bmin, bmax; /* owned copies for byte orders */
} pq_minmax;

void pq_minmax_release(pq_minmax *m);
void pq_minmax_reset(pq_minmax *m); /* keeps buffers */

/* Total order on doubles without NaN: -0.0 < +0.0. */
static inline bool pq_dbl_lt(double a, double b) {
    return a < b || (a == b && __builtin_signbit(a) && !__builtin_signbit(b));
}

int pq_cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
int pq_cmp_signed_be(const uint8_t *a, const uint8_t *b, size_t n);

static inline void pq_minmax_int(pq_minmax *m, int64_t lo, int64_t hi) {
    if (!m->has) {
        m->has = true;
        m->imin = lo;
        m->imax = hi;
        return;
    }
    if (lo < m->imin) m->imin = lo;
    if (hi > m->imax) m->imax = hi;
}

static inline void pq_minmax_dbl(pq_minmax *m, double lo, double hi) {
    if (!m->has) {
        m->has = true;
        m->dmin = lo;
        m->dmax = hi;
        return;
    }
    if (pq_dbl_lt(lo, m->dmin)) m->dmin = lo;
    if (pq_dbl_lt(m->dmax, hi)) m->dmax = hi;
}

/* Offer byte values as candidate min and max (order UNSIGNED or SIGNED_BE). */
void pq_minmax_bytes(pq_minmax *m, pq_order ord, const uint8_t *lo, size_t lo_n,
                     const uint8_t *hi, size_t hi_n);
/* Merge src into dst. */
void pq_minmax_merge(pq_minmax *dst, const pq_minmax *src, pq_order ord);

/* Byte-array min/max longer than this are truncated in Parquet statistics
 * (the maximum rounded up, is_max_value_exact = false). */
#define PQ_STATS_TRUNCATE 64
/* FIXED_LEN_BYTE_ARRAY values longer than this get no Parquet min/max. */
#define PQ_STATS_MAX_FIXED 1024

/*
 * Fill st's min_value/max_value (and exactness flags) for a column of the
 * given physical type from m, with bytes in scratch (which must stay alive
 * until st is encoded). is_string selects code-point truncation. Leaves
 * min/max unset when m has no values or they cannot be represented.
 */
void pq_stats_minmax(pq_statistics *st, const pq_minmax *m, pq_order ord, int physical,
                     bool is_string, firn_buf *scratch);

/*
 * Truncation helpers (Iceberg bounds, Parquet statistics). A lower bound is a
 * prefix; an upper bound is a prefix whose last incrementable unit (code point
 * for UTF-8, byte for binary) is incremented. They return false when no upper
 * bound exists (all units at their maximum).
 */
size_t pq_utf8_prefix(const uint8_t *p, size_t n, size_t max_code_points);
bool pq_utf8_upper(const uint8_t *p, size_t n, size_t max_code_points, firn_buf *out);
bool pq_binary_upper(const uint8_t *p, size_t n, size_t max_bytes, firn_buf *out);

/* Minimal big-endian two's complement of a big-endian value: drops leading
 * 0x00/0xFF bytes that only repeat the sign. Returns the new start offset. */
size_t pq_decimal_trim(const uint8_t *be, size_t n);

/*
 * Iceberg single-value binary bounds for a column from its file-wide min/max
 * (spec appendix D), truncating strings to `truncate` code points and
 * binary/fixed to `truncate` bytes. Allocates out->lower/upper (free()).
 */
void pq_iceberg_bounds(firn_pq_type type, pq_order ord, const pq_minmax *m, uint32_t truncate,
                       firn_pq_column_stats *out);

/* ----------------------------------------------------- column_writer.c */

/* Where a streamed column's pages go as they complete: writer.c's sink, in
 * file order. emit writes or copies p before it returns. */
typedef struct pq_sink {
    int (*emit)(void *ctx, const void *p, size_t n, firn_error *err);
    void *ctx;
} pq_sink;

/* A piece of a column chunk's bytes, in file order: in meta (page headers,
 * uncompressed levels) or in body (page data). */
typedef struct pq_seg {
    uint8_t in_body;
    size_t off, len;
} pq_seg;

typedef struct pq_dslot {
    uint64_t key;  /* the value's bits (4/8-byte types) or its hash */
    uint32_t idx1; /* dictionary index + 1; 0 = empty slot */
    uint32_t pad;
} pq_dslot;

/* Resolved settings for one column. */
typedef struct pq_col_config {
    size_t page_bytes, page_rows, dict_bytes;
    int codec, codec_level;
    bool v2;
} pq_col_config;

/*
 * One leaf column: the pages of its current column chunk, buffered until the
 * row group is written, and its file-wide statistics.
 *
 * Levels are kept per page as arrays (def, rep) and encoded when the page is
 * flushed, so the value encoders below see only the non-null leaf values and
 * the page assembly does not assume one value per row. Today max_rep is 0 and
 * max_def is 0 or 1 (flat schemas); a nested writer fills rep/def from its
 * shredder and ends pages only where rep == 0.
 */
typedef struct pq_col {
    const char *name;
    firn_pq_type type;
    int physical;
    int32_t type_length;   /* FIXED_LEN_BYTE_ARRAY length */
    uint32_t width;        /* PLAIN bytes per value of fixed-width types; 0 otherwise */
    pq_order ord;
    bool is_string;
    bool want_stats;       /* min/max (not for media) */
    bool dict_enabled;
    int max_def, max_rep;
    pq_col_config cfg;

    /* current page */
    uint32_t *def, *rep;   /* levels, nlevels of each (rep only when max_rep > 0) */
    size_t nlevels, levels_cap;
    size_t page_rows, page_values, page_nulls, page_nans;
    uint32_t *idx;         /* dictionary indices of the page's non-null values */
    size_t nidx, idx_cap;
    firn_buf page_vals;    /* PLAIN values of the page (compressed columns) */
    firn_buf *vals;        /* where PLAIN values go: &page_vals or &body (uncompressed) */
    size_t vals_start;
    size_t bool_bits;      /* BOOLEAN: values packed so far in this page */
    uint64_t page_plain_bytes; /* PLAIN size of the page's values */
    pq_minmax page_mm;
    uint32_t page_seq;

    /* dictionary of the current chunk */
    bool dict_mode;        /* encoding new values with the dictionary */
    bool dict_checked;     /* the first dictionary page was checked for gain */
    pq_dslot *dslots;
    size_t dcap;
    uint32_t dcount;
    firn_buf dplain;       /* the dictionary page (PLAIN values) */
    size_t *doff;          /* BYTE_ARRAY: offset of each entry in dplain */
    uint32_t *dseen;       /* page_seq in which each entry was last seen */
    size_t dentries_cap;
    uint32_t dict_data_pages;

    /* the current chunk, buffered */
    firn_buf meta, body, scratch, cbuf, sbuf;
    pq_seg *segs;
    size_t nsegs, segs_cap;
    bool has_dict_page;
    pq_seg dict_segs[2];
    uint32_t dict_header_len, dict_num_values;
    uint64_t chunk_values, chunk_nulls, chunk_nans;
    uint64_t chunk_uncompressed, chunk_compressed; /* incl. page headers */
    uint64_t first_data_page_rel; /* offset of the first data page within the chunk */
    bool used_plain, used_dict;
    pq_minmax chunk_mm;

    /* the whole file, for Iceberg */
    uint64_t file_values, file_nulls, file_nans, file_size;
    pq_minmax file_mm;

    /*
     * Streaming (writer.c picks at most one column; see pq_col_can_stream):
     * a complete page goes to sink at once (header, levels, values) instead
     * of into the chunk's buffers. Values of the open page that are still in
     * the caller's batch are not copied: rows [batch_r0, batch_r1) of batch
     * (batch_bytes of PLAIN values) are written from there when the page
     * completes, or copied into body (the page's pending values) by
     * pq_col_end_batch when the batch ends first.
     */
    const pq_sink *sink;
    firn_pq_column_data batch;
    size_t batch_r0, batch_r1;
    uint64_t batch_bytes;
} pq_col;

void pq_col_init(pq_col *c, const firn_pq_column_spec *spec, const pq_col_config *cfg);
void pq_col_release(pq_col *c);
/* Append rows [r0, r0 + n) of d (already validated). A streamed column may
 * write complete pages to its sink, and remembers rows of d that belong to
 * the open page: every call until pq_col_end_batch must pass the same batch
 * d, which must stay alive until then. */
int pq_col_write(pq_col *c, const firn_pq_column_data *d, size_t r0, size_t n, firn_error *err);
/* The caller's batch is about to go away: a streamed column copies the
 * open page's values that are still in it. No-op for other columns. */
void pq_col_end_batch(pq_col *c);
/* Whether a column can be streamed: uncompressed PLAIN byte arrays without
 * min/max statistics (media columns), so a page's size and header follow
 * from its rows before its values are written. */
bool pq_col_can_stream(const pq_col *c);
/* Flush the last page and write the dictionary page; the chunk is then
 * complete in segs (dictionary page segments in dict_segs, emitted first),
 * or, for a streamed column, written to its sink. */
int pq_col_finish_chunk(pq_col *c, firn_error *err);
/* Forget the written chunk, keeping buffers. */
void pq_col_reset_chunk(pq_col *c);
/* Bytes the chunk will take (pages so far, buffered or already streamed, +
 * the open page). */
uint64_t pq_col_estimate(const pq_col *c);
/* Physical type of an Iceberg type (decimals by precision). */
int pq_physical_type(firn_pq_type t, int32_t precision);

#endif
