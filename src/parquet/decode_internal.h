/*
 * decode_internal.h - decoders for Parquet's encodings (Encodings.md), used
 * by the reader: the RLE / bit-packing hybrid (levels, dictionary indices,
 * booleans), the deprecated BIT_PACKED levels, DELTA_BINARY_PACKED,
 * DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT.
 *
 * Every decoder reads only inside [data, data + len) and fails with a
 * FIRN_ERR_CORRUPT firn_error (message naming what and the byte offset inside
 * the encoded data) when the data ends early or is malformed. Not part of
 * firn's public API.
 */
#ifndef FIRN_PARQUET_DECODE_INTERNAL_H
#define FIRN_PARQUET_DECODE_INTERNAL_H

#include "parquet/parquet_internal.h"

/* ----------------------------------------------- RLE / bit-packing hybrid */

/* A resumable decoder of an RLE / bit-packed hybrid stream (no length prefix)
 * of values of bit_width bits (0..32). */
typedef struct pq_rle {
    const uint8_t *base, *p, *end;
    int bit_width;
    uint32_t rle_left;      /* values left in the current RLE run */
    uint32_t rle_value;
    uint64_t packed_left;   /* values left in the current bit-packed run */
    const uint8_t *packed;  /* first byte of the current bit-packed run's values */
    size_t packed_len;      /* bytes of the current bit-packed run */
    uint64_t packed_next;   /* index (in the run) of the next value */
} pq_rle;

/* bit_width must be 0..32 (callers check and report wider ones). */
void pq_rle_init(pq_rle *d, const uint8_t *data, size_t len, int bit_width);
/* Decode exactly n values. Returns 0 or a negative firn error. */
int pq_rle_get_u32(pq_rle *d, uint32_t *out, size_t n, firn_error *err);
/* Same for values that must be <= max_value (<= 255): levels and booleans. */
int pq_rle_get_u8(pq_rle *d, uint8_t *out, size_t n, uint8_t max_value, firn_error *err);

/* Deprecated BIT_PACKED levels (most significant bit first), n values of
 * bit_width bits from data; *consumed = ceil(n * bit_width / 8). */
int pq_bitpacked_levels_u8(const uint8_t *data, size_t len, int bit_width, uint8_t *out, size_t n,
                           uint8_t max_value, size_t *consumed, firn_error *err);

/* Number of bits needed for values 0..max_value. */
int pq_bit_width(uint64_t max_value);

/* ------------------------------------------------------ delta encodings */

/* DELTA_BINARY_PACKED: decode the stream at data, which must hold exactly n
 * values; *consumed = bytes of the stream (so what follows can be found). */
int pq_delta_decode_i32(const uint8_t *data, size_t len, int32_t *out, size_t n, size_t *consumed,
                        firn_error *err);
int pq_delta_decode_i64(const uint8_t *data, size_t len, int64_t *out, size_t n, size_t *consumed,
                        firn_error *err);

/* ------------------------------------------------------ byte stream split */

/* BYTE_STREAM_SPLIT of n values of width bytes: len must be n * width. */
int pq_byte_stream_split_decode(const uint8_t *data, size_t len, size_t width, uint8_t *out,
                                size_t n, firn_error *err);

/* ------------------------------------------------------ bit unpacking */

/* Unpack n values of bit_width (0..32) bits, LSB first, starting at value
 * index `first` of the packed data [data, data + len). The caller guarantees
 * the bits exist. */
void pq_unpack_u32(const uint8_t *data, size_t len, uint64_t first, int bit_width, uint32_t *out,
                   size_t n);
/* The same for 0..64 bits. */
void pq_unpack_u64(const uint8_t *data, size_t len, uint64_t first, int bit_width, uint64_t *out,
                   size_t n);

/* ------------------------------------------------------ reader limits */

/* Caps the reader applies to what a file claims, so that a corrupt or
 * hostile file cannot make it allocate without bound. */
typedef struct pq_read_limits {
    uint64_t max_page_bytes;   /* uncompressed size of one page (default 1 GiB) */
    uint64_t max_column_bytes; /* memory for one column chunk's values (default 4 GiB) */
} pq_read_limits;

/* Replace the limits of r (fuzzers and tests lower them). */
void pq_reader_set_limits(firn_pq_reader *r, const pq_read_limits *limits);

#endif
