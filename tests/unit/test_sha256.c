/* test_sha256.c - SHA-256 against the FIPS 180-4 / NIST CAVP example vectors. */
#include "test.h"
#include "util/util.h"

#include <stdlib.h>

static const char *sha_hex(const void *p, size_t n) {
    static char hex[65];
    uint8_t d[32];
    firn_sha256(p, n, d);
    firn_hex(d, 32, hex);
    return hex;
}

FIRN_TEST(util_sha256_fips_vectors) {
    CHECK_EQ_STR(sha_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_EQ_STR(sha_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK_EQ_STR(sha_hex(two, strlen(two)),
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *four = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                       "klmnopqrlmnopqrsmnopqrstnopqrstu";
    CHECK_EQ_STR(sha_hex(four, strlen(four)),
                 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* one million 'a', fed in uneven pieces */
    char *m = malloc(1000000);
    memset(m, 'a', 1000000);
    firn_sha256_ctx s;
    firn_sha256_init(&s);
    size_t off = 0, step = 1;
    while (off < 1000000) {
        size_t n = step < 1000000 - off ? step : 1000000 - off;
        firn_sha256_update(&s, m + off, n);
        off += n;
        step = step * 3 % 1021 + 1;
    }
    uint8_t d[32];
    char hex[65];
    firn_sha256_final(&s, d);
    firn_hex(d, 32, hex);
    CHECK_EQ_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    CHECK_EQ_STR(sha_hex(m, 1000000), hex);
    free(m);
    /* every length around the padding boundary agrees between one-shot and streaming */
    uint8_t buf[130];
    for (int i = 0; i < 130; i++) buf[i] = (uint8_t)(i * 7);
    for (size_t n = 0; n <= 130; n++) {
        uint8_t a[32], b[32];
        firn_sha256(buf, n, a);
        firn_sha256_init(&s);
        for (size_t i = 0; i < n; i++) firn_sha256_update(&s, buf + i, 1);
        firn_sha256_final(&s, b);
        CHECK_MEM(a, b, 32);
    }
}
