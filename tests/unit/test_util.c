/* test_util.c - errors, arenas, buffers, varints and hashes. */
#include "test.h"
#include "util/util.h"

#include <stdlib.h>

FIRN_TEST(util_varint_roundtrip) {
    static const uint64_t values[] = {0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX, UINT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        uint8_t b[10];
        size_t n = firn_varint_encode(values[i], b);
        uint64_t v = 0;
        CHECK_EQ_INT(firn_varint_decode(b, b + n, &v), n);
        CHECK(v == values[i]);
        if (n > 1) CHECK_EQ_INT(firn_varint_decode(b, b + n - 1, &v), 0); /* truncated */
    }
    uint8_t b[2];
    CHECK_EQ_INT(firn_varint_encode(300, b), 2);
    CHECK(b[0] == 0xAC && b[1] == 0x02);
    uint8_t eleven[11];
    memset(eleven, 0xff, sizeof eleven);
    uint64_t v;
    CHECK_EQ_INT(firn_varint_decode(eleven, eleven + 11, &v), 0); /* over-long */
}

FIRN_TEST(util_zigzag) {
    CHECK(firn_zigzag64(0) == 0);
    CHECK(firn_zigzag64(-1) == 1);
    CHECK(firn_zigzag64(1) == 2);
    CHECK(firn_zigzag64(INT64_MIN) == UINT64_MAX);
    CHECK(firn_unzigzag64(firn_zigzag64(INT64_MIN)) == INT64_MIN);
    CHECK(firn_unzigzag64(firn_zigzag64(INT64_MAX)) == INT64_MAX);
    CHECK(firn_unzigzag32(firn_zigzag32(INT32_MIN)) == INT32_MIN);
    CHECK(firn_zigzag32(-2) == 3);
}

FIRN_TEST(util_crc32c_vectors) {
    /* RFC 3720 B.4 test vectors */
    uint8_t zeros[32] = {0}, ones[32], inc[32];
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < 32; i++) inc[i] = (uint8_t)i;
    CHECK(firn_crc32c(0, zeros, 32) == 0x8A9136AAu);
    CHECK(firn_crc32c(0, ones, 32) == 0x62A8AB43u);
    CHECK(firn_crc32c(0, inc, 32) == 0x46DD794Eu);
    CHECK(firn_crc32c(0, "123456789", 9) == 0xE3069283u);
    /* incremental equals one-shot */
    CHECK(firn_crc32c(firn_crc32c(0, "12345", 5), "6789", 4) == 0xE3069283u);
}

FIRN_TEST(util_murmur3_iceberg_vectors) {
    /* Iceberg spec appendix B: hash of long 34 (8 bytes LE), "iceberg" */
    uint8_t b[8];
    firn_store_le64(b, 34);
    CHECK((int32_t)firn_murmur3_32(b, 8, 0) == 2017239379);
    CHECK((int32_t)firn_murmur3_32("iceberg", 7, 0) == 1210000089);
    firn_store_le64(b, 17486); /* date 2017-11-16 as a long */
    CHECK((int32_t)firn_murmur3_32(b, 8, 0) == -653330422);
}

FIRN_TEST(util_buf_and_arena) {
    firn_buf b;
    firn_buf_init(&b);
    for (int i = 0; i < 1000; i++) firn_buf_appendf(&b, "%d,", i);
    CHECK(b.len > 3000);
    CHECK(memcmp(b.data, "0,1,2,", 6) == 0);
    firn_buf_clear(&b);
    firn_buf_appendf(&b, "%0300d", 7); /* longer than the stack buffer */
    CHECK_EQ_INT(b.len, 300);
    CHECK(firn_buf_cstr(&b)[299] == '7');
    firn_buf_release(&b);

    firn_arena a;
    firn_arena_init(&a, 1024);
    char *s = firn_arena_strdup(&a, "hello");
    void *big = firn_arena_alloc(&a, 100000);
    memset(big, 1, 100000);
    for (int i = 0; i < 100; i++) {
        uint8_t *p = firn_arena_alloc(&a, 24);
        CHECK(((uintptr_t)p & 15) == 0);
        memset(p, 2, 24);
    }
    CHECK_EQ_STR(s, "hello");
    firn_arena_release(&a);
}

FIRN_TEST(util_arena_recycle_reuses_chunks) {
    firn_arena a;
    firn_arena_init(&a, 1024);
    /* a round: small allocations in regular chunks, big ones in their own */
    uint8_t *small = firn_arena_alloc(&a, 100);
    uint8_t *big1 = firn_arena_alloc(&a, 300000);
    uint8_t *big2 = firn_arena_alloc(&a, 100000);
    memset(big1, 1, 300000);
    memset(big2, 2, 100000);
    CHECK_EQ_INT(a.total, 400100);
    firn_arena_recycle(&a);
    CHECK_EQ_INT(a.total, 0);
    /* the next round of similar (here slightly larger) sizes gets the same memory back */
    uint8_t *small_b = firn_arena_alloc(&a, 100);
    uint8_t *big1_b = firn_arena_alloc(&a, 300100);
    uint8_t *big2_b = firn_arena_alloc(&a, 100000);
    CHECK(small_b == small);
    CHECK(big1_b == big1);
    CHECK(big2_b == big2);
    memset(big1_b, 3, 300100); /* all of it is usable (ASan checks) */
    /* a round that needs less: what it did not use is freed at the next recycle */
    firn_arena_recycle(&a);
    uint8_t *only = firn_arena_alloc(&a, 90000);
    CHECK(only == big2); /* the smallest kept chunk that fits */
    firn_arena_recycle(&a);
    CHECK(firn_arena_alloc(&a, 100000) == big2); /* kept across rounds while used */
    firn_arena_reset(&a);
    CHECK(a.head == NULL && a.spare == NULL);
    CHECK(firn_arena_alloc(&a, 10) != NULL);
    firn_arena_release(&a);
}

FIRN_TEST(util_error_chain) {
    firn_error err;
    firn_error_init(&err);
    CHECK_EQ_INT(FIRN_RAISE(&err, FIRN_ERR_IO, "disk said %s", "no"), -FIRN_ERR_IO);
    firn_error_context(&err, "/tmp/x");
    CHECK(err.retriable);
    FIRN_WRAP(&err, FIRN_ERR_CORRUPT, "cannot read footer");
    char buf[512];
    CHECK_EQ_STR(firn_error_format(&err, buf, sizeof buf),
                 "cannot read footer: caused by: disk said no (/tmp/x)");
    CHECK(err.cause && err.cause->kind == FIRN_ERR_IO);
    firn_error_release(&err);
    CHECK(err.cause == NULL);
    CHECK_EQ_INT(FIRN_RAISE(NULL, FIRN_ERR_INVALID, "x"), -FIRN_ERR_INVALID);
}
