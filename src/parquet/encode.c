/*
 * encode.c - the writer's bulk encoders: the RLE/bit-packed hybrid (levels
 * and dictionary indices) and UTF-8 validation of STRING values.
 */
#include "parquet/write_internal.h"

/* Length of the run of values equal to v[i], at most limit. */
static inline size_t run_length(const uint32_t *v, size_t i, size_t n, size_t limit) {
    uint32_t x = v[i];
    size_t j = i + 1, end = n - i > limit ? i + limit : n;
    while (j < end && v[j] == x) j++;
    return j - i;
}

static void put_rle_run(firn_buf *out, uint32_t value, size_t count, int bit_width) {
    firn_buf_put_varint(out, (uint64_t)count << 1);
    int nbytes = (bit_width + 7) / 8;
    for (int b = 0; b < nbytes; b++) firn_buf_put_u8(out, (uint8_t)(value >> (8 * b)));
}

/* Bit-pack groups*8 values starting at v; values at index >= avail are 0. */
static void put_bitpacked(firn_buf *out, const uint32_t *v, size_t groups, size_t avail,
                          int bit_width) {
    firn_buf_put_varint(out, (uint64_t)groups << 1 | 1);
    size_t count = groups * 8;
    uint8_t *p = firn_buf_extend(out, groups * (size_t)bit_width);
    if (bit_width == 0) return;
    uint64_t acc = 0;
    int bits = 0;
    size_t full = avail < count ? avail : count;
    if (bit_width == 1) {
        size_t i = 0;
        for (; i + 8 <= full; i += 8)
            *p++ = (uint8_t)(v[i] | v[i + 1] << 1 | v[i + 2] << 2 | v[i + 3] << 3 |
                             v[i + 4] << 4 | v[i + 5] << 5 | v[i + 6] << 6 | v[i + 7] << 7);
        if (i < count) {
            uint8_t b = 0;
            for (size_t k = 0; i + k < full; k++) b |= (uint8_t)(v[i + k] << k);
            *p = b;
        }
        return;
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t x = i < full ? v[i] : 0;
        acc |= x << bits;
        bits += bit_width;
        while (bits >= 8) {
            *p++ = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
}

#define MAX_RUN ((size_t)INT32_MAX)
#define MAX_GROUPS ((size_t)1 << 24)

void pq_rle_encode(firn_buf *out, const uint32_t *v, size_t n, int bit_width) {
    size_t i = 0;
    /* worst case: one header byte per 8 values plus the packed bits */
    firn_buf_reserve(out, n / 8 * ((size_t)bit_width + 1) + 16);
    while (i < n) {
        size_t run = run_length(v, i, n, MAX_RUN);
        if (run >= 8 || i + run == n) { /* long runs, and the last values if all equal */
            put_rle_run(out, v[i], run, bit_width);
            i += run;
            continue;
        }
        size_t start = i, groups = 0;
        do {
            i += 8;
            groups++;
        } while (i < n && groups < MAX_GROUPS && run_length(v, i, n, 8) < 8);
        put_bitpacked(out, v + start, groups, n - start, bit_width);
        if (i > n) i = n;
    }
}

void pq_rle_encode_prefixed(firn_buf *out, const uint32_t *v, size_t n, int bit_width) {
    size_t at = out->len;
    firn_buf_extend(out, 4);
    pq_rle_encode(out, v, n, bit_width);
    firn_store_le32(out->data + at, (uint32_t)(out->len - at - 4));
}

size_t pq_utf8_check(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        /* ASCII fast path, 8 bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1; cp = c & 0x1F; min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2; cp = c & 0x0F; min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3; cp = c & 0x07; min = 0x10000;
        } else {
            return i;
        }
        if (n - i <= need) return i;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return i;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += need + 1;
    }
    return n;
}
