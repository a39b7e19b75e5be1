/*
 * test.h - firn's unit test harness. A test is a function registered with
 * FIRN_TEST(name); it fails when a CHECK fails. The runner prints one line per
 * test and, last, "N passed, N failed".
 *
 *   FIRN_TEST(varint_roundtrip) {
 *       CHECK_EQ_INT(firn_varint_encode(300, buf), 2);
 *   }
 */
#ifndef FIRN_TEST_H
#define FIRN_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef void (*firn_test_fn)(void);
void firn_test_register(const char *name, firn_test_fn fn);
void firn_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A scratch directory for this test run (created by the runner). */
const char *firn_test_tmpdir(void);
/* Path of a file inside the scratch directory (static buffer rotation of 8). */
const char *firn_test_path(const char *name);
extern int firn_test_failed;
/* The catalog URI for a test's warehouse directory wh (static buffer rotation
 * of 8): "sqlite:<wh>/catalog.db", or, when FIRN_TEST_CATALOG=postgresql, a
 * schema of the PostgreSQL database FIRN_PG_URI named after wh (created if
 * missing; wh is unique to the run). tests/interop/postgres.test.sh runs the
 * table, producer and WAP tests that way. */
const char *firn_test_catalog_uri(const char *wh);

#define FIRN_TEST(name)                                                                   \
    static void test_##name(void);                                                        \
    __attribute__((constructor)) static void register_##name(void) {                      \
        firn_test_register(#name, test_##name);                                           \
    }                                                                                     \
    static void test_##name(void)

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            firn_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                       \
            return;                                                                       \
        }                                                                                 \
    } while (0)

#define CHECK_MSG(cond, ...)                                                              \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            firn_test_fail(__FILE__, __LINE__, __VA_ARGS__);                              \
            return;                                                                       \
        }                                                                                 \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                \
    do {                                                                                  \
        long long a_ = (long long)(a), b_ = (long long)(b);                               \
        if (a_ != b_) {                                                                   \
            firn_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
            return;                                                                       \
        }                                                                                 \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                \
    do {                                                                                  \
        const char *a_ = (a), *b_ = (b);                                                  \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                          \
            firn_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,      \
                           a_ ? a_ : "(null)", b_ ? b_ : "(null)");                       \
            return;                                                                       \
        }                                                                                 \
    } while (0)

#define CHECK_MEM(a, b, n)                                                                \
    CHECK_MSG(memcmp((a), (b), (n)) == 0, "memory differs: %s vs %s", #a, #b)

/* Check a firn call returning int: 0 expected; prints the error otherwise. */
#define CHECK_OK(call, errp)                                                              \
    do {                                                                                  \
        int rc_ = (call);                                                                 \
        if (rc_ != 0) {                                                                   \
            char eb_[1024];                                                               \
            firn_test_fail(__FILE__, __LINE__, "%s failed (%d): %s", #call, rc_,          \
                           firn_error_format((errp), eb_, sizeof eb_));                   \
            return;                                                                       \
        }                                                                                 \
    } while (0)

#endif
