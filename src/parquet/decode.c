/*
 * decode.c - Parquet encodings (Encodings.md): bit unpacking, the RLE /
 * bit-packing hybrid, deprecated BIT_PACKED levels, DELTA_BINARY_PACKED and
 * BYTE_STREAM_SPLIT. The byte-array delta encodings build on these in
 * reader.c, where values are materialised.
 *
 * Hot loops are specialised per bit width at compile time (one inlined copy
 * per width behind a switch) and load 8 bytes at a time while the load stays
 * inside the input; the last few values go through a byte-wise path.
 */
#include "parquet/decode_internal.h"

#include <string.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))

static int corrupt(firn_error *err, const char *what, size_t at) {
    return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s (at byte %zu of the encoded data)", what, at);
}

int pq_bit_width(uint64_t max_value) {
    return max_value ? 64 - __builtin_clzll(max_value) : 0;
}

/* ------------------------------------------------------------ unpacking */

/* Bits [bit, bit + bw) LSB-first, byte by byte (bytes must exist). */
static uint64_t get_bits_slow(const uint8_t *data, uint64_t bit, int bw) {
    uint64_t v = 0;
    int got = 0;
    const uint8_t *p = data + (bit >> 3);
    int shift = (int)(bit & 7);
    v = (uint64_t)(*p++ >> shift);
    got = 8 - shift;
    while (got < bw) {
        v |= (uint64_t)*p++ << got;
        got += 8;
    }
    return bw == 64 ? v : v & ((UINT64_C(1) << bw) - 1);
}

static ALWAYS_INLINE void unpack32_w(const uint8_t *data, size_t len, uint64_t first, int bw,
                                     uint32_t *out, size_t n) {
    uint64_t bit = first * (uint64_t)bw;
    const uint32_t mask = bw == 32 ? 0xffffffffu : (1u << bw) - 1;
    size_t i = 0;
    if (len >= 8) {
        /* a load at byte b reads b..b+7: safe while b <= len - 8 */
        uint64_t last_bit = (uint64_t)(len - 8) * 8;
        if (bit <= last_bit) {
            size_t fast = (size_t)((last_bit - bit) / (uint64_t)bw) + 1;
            if (fast > n) fast = n;
            for (; i < fast; i++, bit += (uint64_t)bw) {
                uint64_t w;
                memcpy(&w, data + (bit >> 3), 8);
                out[i] = (uint32_t)(w >> (bit & 7)) & mask;
            }
        }
    }
    for (; i < n; i++, bit += (uint64_t)bw) out[i] = (uint32_t)get_bits_slow(data, bit, bw);
}

void pq_unpack_u32(const uint8_t *data, size_t len, uint64_t first, int bw, uint32_t *out,
                   size_t n) {
    switch (bw) {
    case 0: memset(out, 0, n * sizeof *out); return;
#define W(k) case k: unpack32_w(data, len, first, k, out, n); return;
    W(1) W(2) W(3) W(4) W(5) W(6) W(7) W(8) W(9) W(10) W(11) W(12) W(13) W(14) W(15) W(16)
    W(17) W(18) W(19) W(20) W(21) W(22) W(23) W(24) W(25) W(26) W(27) W(28) W(29) W(30) W(31)
    W(32)
#undef W
    default: memset(out, 0, n * sizeof *out); return; /* callers reject widths > 32 */
    }
}

void pq_unpack_u64(const uint8_t *data, size_t len, uint64_t first, int bw, uint64_t *out,
                   size_t n) {
    if (bw == 0) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    uint64_t bit = first * (uint64_t)bw;
    const uint64_t mask = bw == 64 ? UINT64_MAX : (UINT64_C(1) << bw) - 1;
    size_t i = 0;
    if (len >= 9) {
        /* reads bytes b..b+8 */
        uint64_t last_bit = (uint64_t)(len - 9) * 8;
        if (bit <= last_bit) {
            size_t fast = (size_t)((last_bit - bit) / (uint64_t)bw) + 1;
            if (fast > n) fast = n;
            for (; i < fast; i++, bit += (uint64_t)bw) {
                const uint8_t *p = data + (bit >> 3);
                unsigned sh = (unsigned)(bit & 7);
                uint64_t w;
                memcpy(&w, p, 8);
                uint64_t v = w >> sh;
                if (sh) v |= (uint64_t)p[8] << (64 - sh);
                out[i] = v & mask;
            }
        }
    }
    for (; i < n; i++, bit += (uint64_t)bw) out[i] = get_bits_slow(data, bit, bw);
}

/* --------------------------------------------------------- RLE / hybrid */

void pq_rle_init(pq_rle *d, const uint8_t *data, size_t len, int bit_width) {
    memset(d, 0, sizeof *d);
    d->base = d->p = data;
    d->end = data + len;
    d->bit_width = bit_width;
}

static int rle_next_run(pq_rle *d, firn_error *err) {
    size_t at = (size_t)(d->p - d->base);
    if (d->p >= d->end) return corrupt(err, "RLE/bit-packed data ends before all values", at);
    uint64_t h;
    size_t k = firn_varint_decode(d->p, d->end, &h);
    if (!k) return corrupt(err, "RLE/bit-packed run header is truncated", at);
    uint64_t count = h >> 1;
    if (count == 0) return corrupt(err, "RLE/bit-packed run of length 0", at);
    if (count > INT32_MAX) return corrupt(err, "RLE/bit-packed run longer than 2^31-1", at);
    d->p += k;
    int bw = d->bit_width;
    size_t avail = (size_t)(d->end - d->p);
    if (h & 1) {
        uint64_t values = count * 8, bytes = count * (uint64_t)bw;
        if (bytes > avail) {
            /* Some writers cut the padding of the last group; keep the values
             * that are wholly present, fail only if more are asked for. */
            values = (uint64_t)avail * 8 / (uint64_t)bw;
            bytes = avail;
            if (values == 0) return corrupt(err, "bit-packed run is truncated", at);
        }
        d->packed = d->p;
        d->packed_len = (size_t)bytes;
        d->packed_left = values;
        d->packed_next = 0;
        d->p += bytes;
    } else {
        size_t vb = ((size_t)bw + 7) / 8;
        if (vb > avail) return corrupt(err, "RLE run value is truncated", at);
        uint32_t v = 0;
        for (size_t i = 0; i < vb; i++) v |= (uint32_t)d->p[i] << (8 * i);
        d->rle_value = v;
        d->rle_left = (uint32_t)count;
        d->p += vb;
    }
    return 0;
}

int pq_rle_get_u32(pq_rle *d, uint32_t *out, size_t n, firn_error *err) {
    while (n) {
        if (d->rle_left) {
            size_t m = n < d->rle_left ? n : d->rle_left;
            uint32_t v = d->rle_value;
            for (size_t i = 0; i < m; i++) out[i] = v;
            out += m;
            n -= m;
            d->rle_left -= (uint32_t)m;
        } else if (d->packed_left) {
            size_t m = n < d->packed_left ? n : (size_t)d->packed_left;
            pq_unpack_u32(d->packed, d->packed_len, d->packed_next, d->bit_width, out, m);
            out += m;
            n -= m;
            d->packed_left -= m;
            d->packed_next += m;
        } else if (rle_next_run(d, err)) {
            return -FIRN_ERR_CORRUPT;
        }
    }
    return 0;
}

/* 8 output bytes (0/1) for each input byte, LSB first. */
static uint64_t bit_expand[256];
static void bit_expand_init(void) {
    for (int b = 0; b < 256; b++) {
        uint64_t v = 0;
        for (int k = 0; k < 8; k++) v |= (uint64_t)((b >> k) & 1) << (8 * k);
        bit_expand[b] = v;
    }
}
__attribute__((constructor)) static void decode_init(void) { bit_expand_init(); }

int pq_rle_get_u8(pq_rle *d, uint8_t *out, size_t n, uint8_t max_value, firn_error *err) {
    uint32_t tmp[256];
    while (n) {
        if (d->rle_left) {
            if (d->rle_value > max_value)
                return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "level or boolean %u is above its maximum %u",
                                  d->rle_value, (unsigned)max_value);
            size_t m = n < d->rle_left ? n : d->rle_left;
            memset(out, (int)d->rle_value, m);
            out += m;
            n -= m;
            d->rle_left -= (uint32_t)m;
        } else if (d->packed_left) {
            size_t m = n < d->packed_left ? n : (size_t)d->packed_left;
            if (d->bit_width == 1) {
                /* unaligned head bit by bit, then whole bytes through the table */
                size_t i = 0;
                uint64_t pos = d->packed_next;
                for (; i < m && (pos & 7); i++, pos++) out[i] = (d->packed[pos >> 3] >> (pos & 7)) & 1;
                for (; i + 8 <= m; i += 8, pos += 8) {
                    uint64_t w = bit_expand[d->packed[pos >> 3]];
                    memcpy(out + i, &w, 8);
                }
                for (; i < m; i++, pos++) out[i] = (d->packed[pos >> 3] >> (pos & 7)) & 1;
            } else {
                size_t done = 0;
                while (done < m) {
                    size_t k = m - done < 256 ? m - done : 256;
                    pq_unpack_u32(d->packed, d->packed_len, d->packed_next + done, d->bit_width, tmp, k);
                    uint32_t bad = 0;
                    for (size_t i = 0; i < k; i++) {
                        bad |= tmp[i] > max_value;
                        out[done + i] = (uint8_t)tmp[i];
                    }
                    if (bad)
                        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "level or boolean above its maximum %u",
                                          (unsigned)max_value);
                    done += k;
                }
            }
            out += m;
            n -= m;
            d->packed_left -= m;
            d->packed_next += m;
        } else if (rle_next_run(d, err)) {
            return -FIRN_ERR_CORRUPT;
        }
    }
    return 0;
}

int pq_bitpacked_levels_u8(const uint8_t *data, size_t len, int bw, uint8_t *out, size_t n,
                           uint8_t max_value, size_t *consumed, firn_error *err) {
    uint64_t bits = (uint64_t)n * (uint64_t)bw;
    uint64_t bytes = (bits + 7) / 8;
    if (bytes > len) return corrupt(err, "BIT_PACKED levels are truncated", len);
    uint64_t bit = 0;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = 0;
        for (int k = 0; k < bw; k++, bit++) v = v << 1 | ((data[bit >> 3] >> (7 - (bit & 7))) & 1);
        bad |= v > max_value;
        out[i] = (uint8_t)v;
    }
    if (bad) return corrupt(err, "BIT_PACKED level above its maximum", 0);
    *consumed = (size_t)bytes;
    return 0;
}

/* --------------------------------------------------- DELTA_BINARY_PACKED */

static int rd_uvarint(const uint8_t *base, const uint8_t **p, const uint8_t *end, uint64_t *v,
                      const char *what, firn_error *err) {
    size_t k = firn_varint_decode(*p, end, v);
    if (!k) return corrupt(err, what, (size_t)(*p - base));
    *p += k;
    return 0;
}

/* Decodes into out32 or out64 (one is NULL); arithmetic wraps in 64 bits,
 * which also restores INT32 values written with 32-bit wrapping. */
static int delta_decode(const uint8_t *data, size_t len, int32_t *out32, int64_t *out64, size_t n,
                        size_t *consumed, firn_error *err) {
    const uint8_t *p = data, *end = data + len;
    uint64_t block_size, nmini, total, zz;
    if (rd_uvarint(data, &p, end, &block_size, "DELTA_BINARY_PACKED header is truncated", err) ||
        rd_uvarint(data, &p, end, &nmini, "DELTA_BINARY_PACKED header is truncated", err) ||
        rd_uvarint(data, &p, end, &total, "DELTA_BINARY_PACKED header is truncated", err) ||
        rd_uvarint(data, &p, end, &zz, "DELTA_BINARY_PACKED header is truncated", err))
        return -FIRN_ERR_CORRUPT;
    if (block_size == 0 || block_size % 128 || block_size > (UINT64_C(1) << 31))
        return corrupt(err, "DELTA_BINARY_PACKED block size is not a positive multiple of 128", 0);
    if (nmini == 0 || nmini > block_size || block_size % nmini || (block_size / nmini) % 32)
        return corrupt(err, "DELTA_BINARY_PACKED miniblock count does not divide the block into "
                            "multiples of 32 values", 0);
    if (total != n) {
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "DELTA_BINARY_PACKED stream holds %llu values where %zu are expected",
                          (unsigned long long)total, n);
    }
    uint64_t per_mini = block_size / nmini;
    uint64_t last = (uint64_t)firn_unzigzag64(zz);
    size_t i = 0;
    if (n) {
        if (out32) out32[0] = (int32_t)(uint32_t)last;
        else out64[0] = (int64_t)last;
        i = 1;
    }
    uint64_t tmp[256];
    while (i < n) {
        uint64_t mzz;
        size_t at = (size_t)(p - data);
        if (rd_uvarint(data, &p, end, &mzz, "DELTA_BINARY_PACKED block header is truncated", err))
            return -FIRN_ERR_CORRUPT;
        uint64_t min_delta = (uint64_t)firn_unzigzag64(mzz);
        if ((uint64_t)(end - p) < nmini)
            return corrupt(err, "DELTA_BINARY_PACKED miniblock widths are truncated", at);
        const uint8_t *widths = p;
        p += nmini;
        for (uint64_t m = 0; m < nmini && i < n; m++) {
            int bw = widths[m];
            if (bw > 64) return corrupt(err, "DELTA_BINARY_PACKED bit width above 64", (size_t)(widths + m - data));
            uint64_t bytes = per_mini * (uint64_t)bw / 8;
            if (bytes > (uint64_t)(end - p))
                return corrupt(err, "DELTA_BINARY_PACKED miniblock is truncated", (size_t)(p - data));
            size_t want = n - i < per_mini ? n - i : (size_t)per_mini;
            size_t done = 0;
            while (done < want) {
                size_t k = want - done < 256 ? want - done : 256;
                pq_unpack_u64(p, (size_t)bytes, done, bw, tmp, k);
                if (out32) {
                    for (size_t j = 0; j < k; j++) {
                        last += min_delta + tmp[j];
                        out32[i + done + j] = (int32_t)(uint32_t)last;
                    }
                } else {
                    for (size_t j = 0; j < k; j++) {
                        last += min_delta + tmp[j];
                        out64[i + done + j] = (int64_t)last;
                    }
                }
                done += k;
            }
            i += want;
            p += bytes;
        }
    }
    *consumed = (size_t)(p - data);
    return 0;
}

int pq_delta_decode_i32(const uint8_t *data, size_t len, int32_t *out, size_t n, size_t *consumed,
                        firn_error *err) {
    return delta_decode(data, len, out, NULL, n, consumed, err);
}

int pq_delta_decode_i64(const uint8_t *data, size_t len, int64_t *out, size_t n, size_t *consumed,
                        firn_error *err) {
    return delta_decode(data, len, NULL, out, n, consumed, err);
}

/* ----------------------------------------------------- BYTE_STREAM_SPLIT */

static ALWAYS_INLINE void bss_w(const uint8_t *data, size_t width, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < width; k++) out[i * width + k] = data[k * n + i];
}

int pq_byte_stream_split_decode(const uint8_t *data, size_t len, size_t width, uint8_t *out,
                                size_t n, firn_error *err) {
    if (width == 0 || len % width || len / width != n)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "BYTE_STREAM_SPLIT data of %zu bytes does not hold %zu values of %zu bytes",
                          len, n, width);
    switch (width) {
    case 4: bss_w(data, 4, out, n); break;
    case 8: bss_w(data, 8, out, n); break;
    default: bss_w(data, width, out, n); break;
    }
    return 0;
}
