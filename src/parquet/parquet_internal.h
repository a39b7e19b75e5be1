/*
 * parquet_internal.h - Parquet file metadata (parquet.thrift) as C structs,
 * the Thrift compact protocol codec for them, encodings and codecs. Shared by
 * the writer and the reader; not part of firn's public API.
 *
 * Field numbers follow apache/parquet-format src/main/thrift/parquet.thrift.
 * Decoded strings and binaries point into the decoded buffer or the arena
 * given to the decoder; they are not NUL-terminated unless noted.
 */
#ifndef FIRN_PARQUET_INTERNAL_H
#define FIRN_PARQUET_INTERNAL_H

#include "parquet/parquet.h"

/* parquet.thrift enums */
enum { PQ_BOOLEAN = 0, PQ_INT32 = 1, PQ_INT64 = 2, PQ_INT96 = 3, PQ_FLOAT = 4, PQ_DOUBLE = 5,
       PQ_BYTE_ARRAY = 6, PQ_FIXED_LEN_BYTE_ARRAY = 7 };
enum { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };
enum { PQ_ENC_PLAIN = 0, PQ_ENC_PLAIN_DICTIONARY = 2, PQ_ENC_RLE = 3, PQ_ENC_BIT_PACKED = 4,
       PQ_ENC_DELTA_BINARY_PACKED = 5, PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
       PQ_ENC_DELTA_BYTE_ARRAY = 7, PQ_ENC_RLE_DICTIONARY = 8, PQ_ENC_BYTE_STREAM_SPLIT = 9 };
enum { PQ_PAGE_DATA = 0, PQ_PAGE_INDEX = 1, PQ_PAGE_DICTIONARY = 2, PQ_PAGE_DATA_V2 = 3 };
/* ConvertedType (legacy) */
enum { PQ_CT_UTF8 = 0, PQ_CT_MAP = 1, PQ_CT_MAP_KEY_VALUE = 2, PQ_CT_LIST = 3, PQ_CT_ENUM = 4,
       PQ_CT_DECIMAL = 5, PQ_CT_DATE = 6, PQ_CT_TIME_MILLIS = 7, PQ_CT_TIME_MICROS = 8,
       PQ_CT_TIMESTAMP_MILLIS = 9, PQ_CT_TIMESTAMP_MICROS = 10, PQ_CT_UINT_8 = 11,
       PQ_CT_UINT_16 = 12, PQ_CT_UINT_32 = 13, PQ_CT_UINT_64 = 14, PQ_CT_INT_8 = 15,
       PQ_CT_INT_16 = 16, PQ_CT_INT_32 = 17, PQ_CT_INT_64 = 18, PQ_CT_JSON = 19,
       PQ_CT_BSON = 20, PQ_CT_INTERVAL = 21 };
/* LogicalType union member field numbers */
enum { PQ_LT_NONE = 0, PQ_LT_STRING = 1, PQ_LT_MAP = 2, PQ_LT_LIST = 3, PQ_LT_ENUM = 4,
       PQ_LT_DECIMAL = 5, PQ_LT_DATE = 6, PQ_LT_TIME = 7, PQ_LT_TIMESTAMP = 8,
       PQ_LT_INTEGER = 10, PQ_LT_UNKNOWN = 11, PQ_LT_JSON = 12, PQ_LT_BSON = 13,
       PQ_LT_UUID = 14, PQ_LT_FLOAT16 = 15 };
enum { PQ_UNIT_MILLIS = 1, PQ_UNIT_MICROS = 2, PQ_UNIT_NANOS = 3 }; /* TimeUnit union fields */

typedef struct pq_bytes {
    const uint8_t *ptr;
    uint32_t len;
} pq_bytes;

typedef struct pq_logical_type {
    int kind;            /* PQ_LT_*; PQ_LT_NONE when absent */
    int32_t scale, precision;      /* DECIMAL */
    bool is_adjusted_to_utc;       /* TIME, TIMESTAMP */
    int unit;                      /* PQ_UNIT_* for TIME, TIMESTAMP */
    int8_t bit_width;              /* INTEGER */
    bool is_signed;                /* INTEGER */
} pq_logical_type;

typedef struct pq_statistics {
    bool has_max, has_min, has_null_count, has_distinct_count, has_max_value, has_min_value;
    pq_bytes max, min;             /* 1, 2 (deprecated, signed order) */
    int64_t null_count;            /* 3 */
    int64_t distinct_count;        /* 4 */
    pq_bytes max_value, min_value; /* 5, 6 */
    /* Added for the writer (zero when absent; decoders may ignore them). */
    bool has_is_max_value_exact, has_is_min_value_exact, has_nan_count;
    bool is_max_value_exact;       /* 7 */
    bool is_min_value_exact;       /* 8 */
    int64_t nan_count;             /* 9 (FLOAT/DOUBLE) */
} pq_statistics;

typedef struct pq_schema_element {
    bool has_type, has_type_length, has_repetition, has_num_children, has_converted_type,
        has_scale, has_precision, has_field_id;
    int32_t type;                  /* 1 */
    int32_t type_length;           /* 2 */
    int32_t repetition_type;       /* 3 */
    pq_bytes name;                 /* 4 (required) */
    int32_t num_children;          /* 5 */
    int32_t converted_type;        /* 6 */
    int32_t scale;                 /* 7 */
    int32_t precision;             /* 8 */
    int32_t field_id;              /* 9 */
    pq_logical_type logical_type;  /* 10 */
} pq_schema_element;

typedef struct pq_key_value {
    pq_bytes key;                  /* 1 */
    bool has_value;
    pq_bytes value;                /* 2 */
} pq_key_value;

typedef struct pq_column_meta_data {
    int32_t type;                  /* 1 */
    int32_t *encodings;            /* 2 */
    uint32_t nencodings;
    pq_bytes *path_in_schema;      /* 3 */
    uint32_t npath;
    int32_t codec;                 /* 4 */
    int64_t num_values;            /* 5 */
    int64_t total_uncompressed_size; /* 6 */
    int64_t total_compressed_size; /* 7 */
    pq_key_value *key_value_metadata; /* 8 */
    uint32_t nkey_value_metadata;
    int64_t data_page_offset;      /* 9 */
    bool has_index_page_offset;
    int64_t index_page_offset;     /* 10 */
    bool has_dictionary_page_offset;
    int64_t dictionary_page_offset; /* 11 */
    bool has_statistics;
    pq_statistics statistics;      /* 12 */
} pq_column_meta_data;

typedef struct pq_column_chunk {
    bool has_file_path;
    pq_bytes file_path;            /* 1 */
    int64_t file_offset;           /* 2 */
    bool has_meta_data;
    pq_column_meta_data meta_data; /* 3 */
} pq_column_chunk;

typedef struct pq_row_group {
    pq_column_chunk *columns;      /* 1 */
    uint32_t ncolumns;
    int64_t total_byte_size;       /* 2 */
    int64_t num_rows;              /* 3 */
    bool has_file_offset;
    int64_t file_offset;           /* 5 */
    bool has_total_compressed_size;
    int64_t total_compressed_size; /* 6 */
    bool has_ordinal;
    int16_t ordinal;               /* 7 */
} pq_row_group;

typedef struct pq_file_metadata {
    int32_t version;               /* 1 */
    pq_schema_element *schema;     /* 2 */
    uint32_t nschema;
    int64_t num_rows;              /* 3 */
    pq_row_group *row_groups;      /* 4 */
    uint32_t nrow_groups;
    pq_key_value *key_value_metadata; /* 5 */
    uint32_t nkey_value_metadata;
    bool has_created_by;
    pq_bytes created_by;           /* 6 */
    uint32_t ncolumn_orders;       /* 7: written as TYPE_ORDER for every leaf */
} pq_file_metadata;

typedef struct pq_data_page_header {
    int32_t num_values;            /* 1 */
    int32_t encoding;              /* 2 */
    int32_t definition_level_encoding; /* 3 */
    int32_t repetition_level_encoding; /* 4 */
    bool has_statistics;
    pq_statistics statistics;      /* 5 */
} pq_data_page_header;

typedef struct pq_dictionary_page_header {
    int32_t num_values;            /* 1 */
    int32_t encoding;              /* 2 */
    bool has_is_sorted;
    bool is_sorted;                /* 3 */
} pq_dictionary_page_header;

typedef struct pq_data_page_header_v2 {
    int32_t num_values;            /* 1 */
    int32_t num_nulls;             /* 2 */
    int32_t num_rows;              /* 3 */
    int32_t encoding;              /* 4 */
    int32_t definition_levels_byte_length; /* 5 */
    int32_t repetition_levels_byte_length; /* 6 */
    bool is_compressed;            /* 7, default true */
    bool has_statistics;
    pq_statistics statistics;      /* 8 */
} pq_data_page_header_v2;

typedef struct pq_page_header {
    int32_t type;                  /* 1 */
    int32_t uncompressed_page_size; /* 2 */
    int32_t compressed_page_size;  /* 3 */
    bool has_crc;
    int32_t crc;                   /* 4 */
    bool has_data_page_header, has_dictionary_page_header, has_data_page_header_v2;
    pq_data_page_header data_page_header;             /* 5 */
    pq_dictionary_page_header dictionary_page_header; /* 7 */
    pq_data_page_header_v2 data_page_header_v2;       /* 8 */
} pq_page_header;

/* ------------------------------------------------ Thrift compact: encoding
 * (thrift_write.c) Appends the struct to out. */
void pq_encode_file_metadata(firn_buf *out, const pq_file_metadata *md);
void pq_encode_page_header(firn_buf *out, const pq_page_header *ph);

/* ------------------------------------------------ Thrift compact: decoding
 * (thrift_read.c) Bounds-checked; nesting depth and list sizes limited.
 * Pointers in the result point into data or into arena. */
int pq_decode_file_metadata(const uint8_t *data, size_t len, firn_arena *arena,
                            pq_file_metadata *md, firn_error *err);
/* Decodes one page header at data; *consumed = bytes it took. */
int pq_decode_page_header(const uint8_t *data, size_t len, pq_page_header *ph, size_t *consumed,
                          firn_error *err);

/* ------------------------------------------------------------- codecs
 * (compress.c) Compress appends to out. Decompress writes exactly
 * expected_len bytes into out, or fails (never more: decompression bombs). */
int pq_compress(int codec, int level, const uint8_t *in, size_t n, firn_buf *out,
                firn_error *err);
int pq_decompress(int codec, const uint8_t *in, size_t n, uint8_t *out, size_t expected_len,
                  firn_error *err);

#endif
