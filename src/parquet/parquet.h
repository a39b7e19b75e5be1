/*
 * parquet.h - firn's own Apache Parquet writer and reader.
 *
 * The writer takes rows in columnar batches (Arrow-like arrays), writes flat
 * schemas of Iceberg's primitive types with field ids on every column,
 * PLAIN / RLE_DICTIONARY encodings, RLE/bit-packed definition levels, data page
 * v1 (or v2), per-column codecs, column chunk statistics, and reports what
 * Iceberg needs about the file: exact size, row count, per-column sizes, value,
 * null and NaN counts, and lower/upper bounds in Iceberg's single-value binary
 * form.
 *
 * The reader reads flat files written by firn, DuckDB and arrow-rs: dictionary
 * and plain pages, data page v1 and v2, every codec the writer has, column
 * projection and row-group skipping by statistics. Corrupt input gives an
 * error, never an out-of-bounds read.
 *
 * Nested types (struct/list/map) are not written yet; levels are carried as
 * arrays so repetition levels fit in later.
 */
#ifndef FIRN_PARQUET_H
#define FIRN_PARQUET_H

#include "util/util.h"

/* Iceberg primitive types, as columns of a Parquet file. */
typedef enum firn_pq_type {
    FIRN_PQ_BOOLEAN,        /* BOOLEAN; values: uint8_t 0/1 */
    FIRN_PQ_INT,            /* INT32; values: int32_t */
    FIRN_PQ_LONG,           /* INT64; values: int64_t */
    FIRN_PQ_FLOAT,          /* FLOAT; values: float */
    FIRN_PQ_DOUBLE,         /* DOUBLE; values: double */
    FIRN_PQ_DECIMAL,        /* precision <= 9: INT32 (int32_t values); <= 18: INT64 (int64_t);
                               else FIXED_LEN_BYTE_ARRAY of firn_pq_decimal_width(P) bytes,
                               values big-endian two's complement, that many bytes each */
    FIRN_PQ_DATE,           /* INT32 DATE; values: int32_t days since 1970-01-01 */
    FIRN_PQ_TIME,           /* INT64 TIME(MICROS, utc=false); values: int64_t micros of day */
    FIRN_PQ_TIMESTAMP,      /* INT64 TIMESTAMP(MICROS, utc=false); int64_t */
    FIRN_PQ_TIMESTAMPTZ,    /* INT64 TIMESTAMP(MICROS, utc=true); int64_t */
    FIRN_PQ_TIMESTAMP_NS,   /* INT64 TIMESTAMP(NANOS, utc=false); int64_t */
    FIRN_PQ_TIMESTAMPTZ_NS, /* INT64 TIMESTAMP(NANOS, utc=true); int64_t */
    FIRN_PQ_STRING,         /* BYTE_ARRAY STRING; offsets + data (UTF-8) */
    FIRN_PQ_UUID,           /* FIXED_LEN_BYTE_ARRAY(16) UUID; 16 bytes each, big-endian */
    FIRN_PQ_FIXED,          /* FIXED_LEN_BYTE_ARRAY(length); length bytes each */
    FIRN_PQ_BINARY,         /* BYTE_ARRAY; offsets + data */
    FIRN_PQ_TYPE_COUNT
} firn_pq_type;

typedef enum firn_pq_codec {
    FIRN_PQ_UNCOMPRESSED = 0, /* values are Parquet's CompressionCodec numbers */
    FIRN_PQ_SNAPPY = 1,
    FIRN_PQ_GZIP = 2,
    FIRN_PQ_ZSTD = 6,
    FIRN_PQ_LZ4_RAW = 7,
    FIRN_PQ_CODEC_DEFAULT = -1, /* in a column spec: use the writer's default */
} firn_pq_codec;

/*
 * One leaf column of a flat schema. Start from firn_pq_column_spec_init():
 * a zero-filled spec (`= {0}`, calloc, a designated initializer without
 * .codec) has codec 0, which is FIRN_PQ_UNCOMPRESSED, not the writer's
 * default - the column is silently written without compression.
 */
typedef struct firn_pq_column_spec {
    const char *name;
    int32_t field_id;      /* Iceberg field id, written on the schema element */
    firn_pq_type type;
    bool optional;         /* false: REQUIRED, every row must be present */
    int32_t precision;     /* DECIMAL */
    int32_t scale;         /* DECIMAL */
    int32_t length;        /* FIXED: bytes per value */
    firn_pq_codec codec;   /* FIRN_PQ_CODEC_DEFAULT: the writer's default; 0 means
                              UNCOMPRESSED (see above) */
    int codec_level;       /* 0: codec default */
    bool media;            /* binary payloads already compressed (JPEG/PNG): no codec,
                              no dictionary, no bounds. The first media column of
                              type BINARY or STRING is streamed: see
                              firn_pq_writer_new */
    bool no_dictionary;    /* PLAIN only */
} firn_pq_column_spec;

/*
 * Values of one column for a batch of rows. Fixed-width types use `values`
 * (one slot per row; slots of null rows are ignored). STRING and BINARY use
 * `offsets` (nrows + 1 entries) into `data`; null rows have empty ranges.
 * `validity` is NULL when every row is present, else one byte per row
 * (nonzero = present).
 */
typedef struct firn_pq_column_data {
    const uint8_t *validity;
    const void *values;
    const int64_t *offsets;
    const uint8_t *data;
} firn_pq_column_data;

/* A column spec with every field zero except name, field_id, type and codec =
 * FIRN_PQ_CODEC_DEFAULT. name is not copied (the writer copies it later). */
void firn_pq_column_spec_init(firn_pq_column_spec *spec, const char *name, int32_t field_id,
                              firn_pq_type type);

/* Number of bytes of a FIXED_LEN_BYTE_ARRAY decimal of this precision. */
int32_t firn_pq_decimal_width(int32_t precision);

typedef struct firn_pq_kv {
    const char *key;
    const char *value;
} firn_pq_kv;

typedef struct firn_pq_writer_options {
    uint64_t row_group_bytes;  /* 0: 128 MiB (parquet-mr's default) */
    uint64_t page_bytes;       /* 0: 1 MiB */
    uint64_t dictionary_bytes; /* dictionary page size limit before falling back
                                  to PLAIN; 0: 1 MiB */
    uint32_t page_rows;        /* max rows per page; 0: 20000 (parquet-mr) */
    firn_pq_codec codec;       /* default codec; FIRN_PQ_CODEC_DEFAULT: ZSTD */
    int codec_level;           /* 0: codec default (zstd 3) */
    bool data_page_v2;         /* write DataPageHeaderV2 pages */
    uint32_t bounds_truncate;  /* Iceberg bounds of strings/binaries truncated to this many
                                  code points/bytes (upper bound rounded up); 0: 16 */
    const firn_pq_kv *kv;      /* footer key/value metadata (copied) */
    size_t nkv;
    const char *created_by;    /* NULL: "firn version X" */
} firn_pq_writer_options;

/* Defaults: every field zero except codec = FIRN_PQ_CODEC_DEFAULT (ZSTD). A
 * zero-filled struct means UNCOMPRESSED, since that codec's number is 0. */
void firn_pq_writer_options_init(firn_pq_writer_options *opts);

/* Sink for the bytes of the file. Returns 0 or a negative firn error. */
typedef int (*firn_pq_write_fn)(void *ctx, const void *data, size_t n, firn_error *err);

/* Per-column facts about a finished file, as Iceberg's data_file wants them. */
typedef struct firn_pq_column_stats {
    int32_t field_id;
    uint64_t column_size;  /* bytes of this column's chunks in the file (column_sizes) */
    uint64_t value_count;  /* values including nulls (value_counts) */
    uint64_t null_count;   /* null_value_counts */
    uint64_t nan_count;    /* nan_value_counts (float/double only) */
    bool has_bounds;       /* false when all values are null/NaN, or for media columns */
    uint8_t *lower;        /* Iceberg single-value binary form; owned by the writer */
    size_t lower_len;
    uint8_t *upper;
    size_t upper_len;
} firn_pq_column_stats;

typedef struct firn_pq_file_info {
    uint64_t file_size;    /* exact bytes written */
    uint64_t row_count;
    size_t ncolumns;
    firn_pq_column_stats *columns; /* owned by the writer */
    size_t nrow_groups;
    uint64_t *row_group_offsets;   /* Iceberg split_offsets; owned by the writer */
} firn_pq_file_info;

typedef struct firn_pq_writer firn_pq_writer;

/*
 * Create a writer over a sink. columns and opts are copied. Returns NULL on
 * error.
 *
 * Row groups are buffered in memory until they reach row_group_bytes,
 * except for the first media column of type BINARY or STRING: its pages are
 * written as they fill, values going from the caller's batch to the sink
 * without being held (a page still open at the end of a batch is copied).
 * So that column's chunk comes first in each row group's bytes and the
 * other chunks follow in schema order; the footer locates every chunk by
 * its offsets, as the Parquet spec does, and lists them in schema order.
 * Row group file_offset and row_group_offsets are each row group's first
 * byte.
 */
firn_pq_writer *firn_pq_writer_new(const firn_pq_column_spec *columns, size_t ncolumns,
                                   const firn_pq_writer_options *opts, firn_pq_write_fn write,
                                   void *ctx, firn_error *err);
/* Convenience: a writer that creates (O_EXCL) and writes the file at path;
 * close fsyncs it. The specs are checked before the file is created; a writer
 * freed without a successful close removes its partial file. */
firn_pq_writer *firn_pq_writer_open(const char *path, const firn_pq_column_spec *columns,
                                    size_t ncolumns, const firn_pq_writer_options *opts,
                                    firn_error *err);
/* Append nrows rows, one firn_pq_column_data per column in schema order. */
int firn_pq_writer_write(firn_pq_writer *w, const firn_pq_column_data *cols, size_t nrows,
                         firn_error *err);
/* Bytes written or buffered so far (to roll files by size). */
uint64_t firn_pq_writer_estimated_size(const firn_pq_writer *w);
/* Flush, write the footer, fill *info (valid until firn_pq_writer_free). */
int firn_pq_writer_close(firn_pq_writer *w, firn_pq_file_info *info, firn_error *err);
void firn_pq_writer_free(firn_pq_writer *w);

/* ------------------------------------------------------------------ reader */

/* A leaf column of a file being read. */
typedef struct firn_pq_column_desc {
    const char *name;        /* leaf name; path is the dotted path_in_schema */
    const char *path;
    int32_t field_id;        /* -1 when the file has none */
    firn_pq_type type;       /* the Iceberg type the reader returns it as */
    bool supported;          /* false: type or nesting the reader cannot return */
    bool optional;
    int32_t precision, scale, length;
    int physical_type;       /* Parquet Type enum */
} firn_pq_column_desc;

typedef struct firn_pq_reader firn_pq_reader;

/* Open a file from memory (not copied: the caller keeps data alive) or a path
 * (read into memory owned by the reader). The footer is parsed and checked. */
firn_pq_reader *firn_pq_reader_open_mem(const uint8_t *data, size_t len, firn_error *err);
firn_pq_reader *firn_pq_reader_open(const char *path, firn_error *err);
/*
 * Read exactly n bytes at offset of the file into buf: 0, or a negative firn
 * error (a short read is an error).
 */
typedef int (*firn_pq_read_fn)(void *ctx, uint64_t offset, void *buf, size_t n, firn_error *err);
/*
 * Open a file of `size` bytes through ranged reads (object stores, or reading
 * only what a scan needs): the open reads the first 4 bytes, the last 8 and
 * the footer - three calls of exactly those ranges - and each
 * firn_pq_reader_read_column then reads its column chunk's byte range (from
 * the dictionary page or first data page, total_compressed_size bytes) and
 * nothing else. Column chunks never read are never fetched. read and ctx are
 * borrowed: they must outlive the reader.
 */
firn_pq_reader *firn_pq_reader_open_ranged(uint64_t size, firn_pq_read_fn read, void *ctx,
                                           firn_error *err);
void firn_pq_reader_free(firn_pq_reader *r);
/*
 * Keep the temporaries of each column read (decompressed pages, a ranged
 * reader's chunk bytes) in scratch instead of the reader's own arena (NULL:
 * back to its own). The reader recycles scratch (firn_arena_recycle) after
 * each column read, so a caller reading many files through one scratch reuses
 * the same memory. scratch must outlive the reader's reads; one reader at a time.
 */
void firn_pq_reader_use_scratch(firn_pq_reader *r, firn_arena *scratch);

uint64_t firn_pq_reader_num_rows(const firn_pq_reader *r);
size_t firn_pq_reader_num_row_groups(const firn_pq_reader *r);
uint64_t firn_pq_reader_row_group_rows(const firn_pq_reader *r, size_t rg);
size_t firn_pq_reader_num_columns(const firn_pq_reader *r);
const firn_pq_column_desc *firn_pq_reader_column(const firn_pq_reader *r, size_t col);
/* Index of the column with this field id (or dotted path), or -1. */
int firn_pq_reader_find_field(const firn_pq_reader *r, int32_t field_id);
int firn_pq_reader_find_path(const firn_pq_reader *r, const char *path);
/* Footer key/value metadata; NULL if absent. */
const char *firn_pq_reader_kv(const firn_pq_reader *r, const char *key);
const char *firn_pq_reader_created_by(const firn_pq_reader *r);

/*
 * Read one column of one row group. On success *out holds row_group_rows
 * values in the layout of firn_pq_column_data (validity is NULL when the
 * column has no nulls in this row group); the memory belongs to arena.
 */
int firn_pq_reader_read_column(firn_pq_reader *r, size_t rg, size_t col, firn_arena *arena,
                               firn_pq_column_data *out, firn_error *err);

/* A constant for row-group skipping, typed like the column. */
typedef struct firn_pq_value {
    firn_pq_type type;
    int64_t i;        /* BOOLEAN, INT, LONG, DATE, TIME, TIMESTAMP*, DECIMAL (P <= 18) */
    double d;         /* FLOAT, DOUBLE */
    const uint8_t *bytes; /* STRING, BINARY, UUID, FIXED, DECIMAL (P > 18, big-endian) */
    size_t len;
} firn_pq_value;

typedef enum firn_pq_op {
    FIRN_PQ_EQ, FIRN_PQ_NE, FIRN_PQ_LT, FIRN_PQ_LE, FIRN_PQ_GT, FIRN_PQ_GE,
    FIRN_PQ_IS_NULL, FIRN_PQ_NOT_NULL,
} firn_pq_op;

/* False only when the row group's statistics prove no row has `column op value`
 * true; true when it may (or when statistics are missing). */
bool firn_pq_reader_row_group_may_match(const firn_pq_reader *r, size_t rg, size_t col,
                                        firn_pq_op op, const firn_pq_value *value);

/* ------------------------------------------------- reader: footer facts */

/* What the footer says about one column chunk, for tools (`firn parquet
 * meta`). Pointers stay valid while the reader lives. */
typedef struct firn_pq_chunk_info {
    int codec;                      /* Parquet CompressionCodec number */
    const int32_t *encodings;       /* Parquet Encoding numbers */
    size_t nencodings;
    int64_t num_values;
    int64_t compressed_size, uncompressed_size;
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* -1: none */
    bool has_null_count;
    int64_t null_count;
    bool has_min, has_max;          /* bounds decoded into the column's type (as for
                                       row-group skipping); DECIMAL with P > 18 as
                                       big-endian bytes of any width */
    firn_pq_value min, max;
} firn_pq_chunk_info;

int firn_pq_reader_chunk_info(const firn_pq_reader *r, size_t rg, size_t col,
                              firn_pq_chunk_info *info, firn_error *err);
/* All footer key/value pairs (values may be NULL); *n gets the count. */
const firn_pq_kv *firn_pq_reader_kvs(const firn_pq_reader *r, size_t *n);

#endif
