/* hash.c - CRC32C, MurmurHash3 x86_32 and xxHash64. */
#include "util/util.h"

#include <string.h>
#include <xxhash.h>

/* ---------------------------------------------------------------- CRC32C */

static uint32_t crc32c_table[8][256];
static int crc32c_hw = -1; /* -1 unknown, 0 software, 1 SSE4.2 */

static void crc32c_init_tables(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc32c_table[t][i] =
                (crc32c_table[t - 1][i] >> 8) ^ crc32c_table[0][crc32c_table[t - 1][i] & 0xff];
}

static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t n) {
    while (n >= 8) {
        uint64_t w = firn_load_le64(p) ^ crc;
        crc = crc32c_table[7][w & 0xff] ^ crc32c_table[6][(w >> 8) & 0xff] ^
              crc32c_table[5][(w >> 16) & 0xff] ^ crc32c_table[4][(w >> 24) & 0xff] ^
              crc32c_table[3][(w >> 32) & 0xff] ^ crc32c_table[2][(w >> 40) & 0xff] ^
              crc32c_table[1][(w >> 48) & 0xff] ^ crc32c_table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw_x86(uint32_t crc, const uint8_t *p,
                                                                 size_t n) {
    uint64_t c = crc;
    while (n >= 8) {
        c = __builtin_ia32_crc32di(c, firn_load_le64(p));
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t firn_crc32c(uint32_t crc, const void *data, size_t n) {
    if (crc32c_hw < 0) {
        crc32c_init_tables();
#if defined(__x86_64__)
        __builtin_cpu_init();
        crc32c_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#else
        crc32c_hw = 0;
#endif
    }
    crc = ~crc;
#if defined(__x86_64__)
    if (crc32c_hw) return ~crc32c_hw_x86(crc, data, n);
#endif
    return ~crc32c_sw(crc, data, n);
}

/* ---------------------------------------------------------------- murmur3 */

static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

uint32_t firn_murmur3_32(const void *data, size_t n, uint32_t seed) {
    const uint8_t *p = data;
    const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
    uint32_t h = seed;
    size_t nblocks = n / 4;
    for (size_t i = 0; i < nblocks; i++) {
        uint32_t k = firn_load_le32(p + i * 4);
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        h = rotl32(h, 13);
        h = h * 5 + 0xe6546b64;
    }
    const uint8_t *tail = p + nblocks * 4;
    uint32_t k = 0;
    switch (n & 3) {
    case 3: k ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2: k ^= (uint32_t)tail[1] << 8;  /* fall through */
    case 1:
        k ^= tail[0];
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
    }
    h ^= (uint32_t)n;
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return h;
}

uint64_t firn_xxh64(const void *data, size_t n, uint64_t seed) { return XXH64(data, n, seed); }
