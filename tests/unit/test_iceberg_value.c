/* test_iceberg_value.c - single values: binary bounds, JSON forms, ordering,
 * human strings and bound truncation. */
#include "test.h"
#include "iceberg/iceberg.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

static const firn_ice_type *prim(firn_ice_type_id id) { return firn_ice_type_primitive(id); }

/* value of type t from its text form (fails the test on error) */
#define PARSE(a, t, text, out)                                                             \
    do {                                                                                   \
        firn_error e_;                                                                     \
        firn_error_init(&e_);                                                              \
        CHECK_OK(firn_ice_value_parse((a), (t), (text), strlen(text), (out), &e_), &e_);  \
    } while (0)

static char *bytes_hex(const firn_buf *b) {
    static char s[256];
    size_t k = 0;
    for (size_t i = 0; i < b->len && k + 3 < sizeof s; i++) k += (size_t)snprintf(s + k, 4, "%02x", b->data[i]);
    s[k] = '\0';
    return s;
}

FIRN_TEST(iceberg_value_binary_encodings) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_type dec92 = {.id = FIRN_ICE_DECIMAL, .precision = 9, .scale = 2};
    firn_ice_type fixed4 = {.id = FIRN_ICE_FIXED, .length = 4};
    static const struct {
        firn_ice_type_id id;
        const char *text, *hex;
    } cases[] = {
        {FIRN_ICE_BOOLEAN, "true", "01"},
        {FIRN_ICE_BOOLEAN, "false", "00"},
        {FIRN_ICE_INT, "1", "01000000"},
        {FIRN_ICE_INT, "-2", "feffffff"},
        {FIRN_ICE_LONG, "34", "2200000000000000"},
        {FIRN_ICE_FLOAT, "1.0", "0000803f"},
        {FIRN_ICE_DOUBLE, "-0.0", "0000000000000080"},
        {FIRN_ICE_DATE, "2017-11-16", "4e440000"},                       /* 17486 */
        {FIRN_ICE_DATE, "1969-12-31", "ffffffff"},
        {FIRN_ICE_TIME, "22:31:08", "008307e012000000"},                 /* 81068000000 us */
        {FIRN_ICE_TIMESTAMP, "1970-01-01T00:00:00.000001", "0100000000000000"},
        {FIRN_ICE_TIMESTAMPTZ, "1969-12-31T23:59:59.999999+00:00", "ffffffffffffffff"},
        {FIRN_ICE_TIMESTAMP_NS, "1970-01-01T00:00:00.000000001", "0100000000000000"},
        {FIRN_ICE_STRING, "iceberg", "69636562657267"},
        {FIRN_ICE_STRING, "", ""},
        {FIRN_ICE_UUID, "f79c3e09-677c-4bbd-a479-3f349cb785e7", "f79c3e09677c4bbda4793f349cb785e7"},
        {FIRN_ICE_BINARY, "000102ff", "000102ff"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        firn_ice_value v, back;
        PARSE(&a, prim(cases[i].id), cases[i].text, &v);
        firn_buf b = {0};
        CHECK_OK(firn_ice_value_to_bytes(&v, &b, &err), &err);
        CHECK_MSG(strcmp(bytes_hex(&b), cases[i].hex) == 0, "case %zu (%s): %s != %s", i,
                  cases[i].text, bytes_hex(&b), cases[i].hex);
        CHECK_OK(firn_ice_value_from_bytes(prim(cases[i].id), b.data, b.len, &back, &err), &err);
        CHECK_MSG(firn_ice_value_equal(&v, &back), "case %zu does not round-trip", i);
        firn_buf_release(&b);
    }
    /* decimals: minimal two's complement, big-endian */
    static const struct {
        const char *text, *hex;
    } decs[] = {{"14.20", "058c"}, {"0.00", "00"},  {"-0.01", "ff"},       {"1.27", "7f"},
                {"1.28", "0080"},  {"-1.28", "80"}, {"-1.29", "ff7f"},     {"9999999.99", "3b9ac9ff"}};
    for (size_t i = 0; i < sizeof decs / sizeof decs[0]; i++) {
        firn_ice_value v, back;
        PARSE(&a, &dec92, decs[i].text, &v);
        firn_buf b = {0};
        CHECK_OK(firn_ice_value_to_bytes(&v, &b, &err), &err);
        CHECK_MSG(strcmp(bytes_hex(&b), decs[i].hex) == 0, "%s: %s != %s", decs[i].text,
                  bytes_hex(&b), decs[i].hex);
        CHECK_OK(firn_ice_value_from_bytes(&dec92, b.data, b.len, &back, &err), &err);
        CHECK(back.u.dec == v.u.dec && back.scale == 2);
        firn_buf_release(&b);
    }
    /* a 38-digit decimal needs 16 bytes */
    firn_ice_type dec38 = {.id = FIRN_ICE_DECIMAL, .precision = 38, .scale = 0};
    firn_ice_value big, back;
    PARSE(&a, &dec38, "-99999999999999999999999999999999999999", &big);
    firn_buf b = {0};
    CHECK_OK(firn_ice_value_to_bytes(&big, &b, &err), &err);
    CHECK_EQ_INT(b.len, 16);
    CHECK_OK(firn_ice_value_from_bytes(&dec38, b.data, b.len, &back, &err), &err);
    CHECK(back.u.dec == big.u.dec);
    firn_buf_release(&b);
    /* fixed and wrong lengths */
    uint8_t raw[5] = {0, 1, 2, 3, 4};
    CHECK_OK(firn_ice_value_from_bytes(&fixed4, raw, 4, &back, &err), &err);
    CHECK_EQ_INT(firn_ice_value_from_bytes(&fixed4, raw, 5, &back, &err), -FIRN_ERR_CORRUPT);
    CHECK_EQ_INT(firn_ice_value_from_bytes(prim(FIRN_ICE_INT), raw, 3, &back, &err), -FIRN_ERR_CORRUPT);
    CHECK(strstr(err.message, "a int value takes 4 bytes, got 3 bytes"));
    CHECK_EQ_INT(firn_ice_value_from_bytes(prim(FIRN_ICE_UUID), raw, 5, &back, &err), -FIRN_ERR_CORRUPT);
    CHECK_EQ_INT(firn_ice_value_from_bytes(prim(FIRN_ICE_BOOLEAN), raw, 0, &back, &err), -FIRN_ERR_CORRUPT);
    /* NaN is never a bound; null has no form */
    firn_ice_value nan = firn_ice_value_double(NAN);
    CHECK_EQ_INT(firn_ice_value_to_bytes(&nan, &b, &err), -FIRN_ERR_INVALID);
    firn_ice_value nul = firn_ice_value_null(FIRN_ICE_INT);
    CHECK_EQ_INT(firn_ice_value_to_bytes(&nul, &b, &err), -FIRN_ERR_INVALID);
    firn_buf_release(&b);
    firn_arena_release(&a);
    firn_error_release(&err);
}

FIRN_TEST(iceberg_value_promoted_bounds) {
    /* after int->long, float->double (and v3 date->timestamp), old bounds keep their width */
    firn_error err;
    firn_error_init(&err);
    uint8_t four[4];
    firn_store_le32(four, (uint32_t)-5);
    firn_ice_value v;
    CHECK_OK(firn_ice_value_from_bytes(prim(FIRN_ICE_LONG), four, 4, &v, &err), &err);
    CHECK(v.type == FIRN_ICE_LONG && v.u.i64 == -5);
    float f = 1.5f;
    memcpy(four, &f, 4);
    CHECK_OK(firn_ice_value_from_bytes(prim(FIRN_ICE_DOUBLE), four, 4, &v, &err), &err);
    CHECK(v.type == FIRN_ICE_DOUBLE && v.u.f64 == 1.5);
    firn_store_le32(four, (uint32_t)-1); /* date 1969-12-31 */
    CHECK_OK(firn_ice_value_from_bytes(prim(FIRN_ICE_TIMESTAMP), four, 4, &v, &err), &err);
    CHECK(v.u.i64 == -INT64_C(86400000000));
    firn_error_release(&err);
}

FIRN_TEST(iceberg_value_json_forms) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_type dec92 = {.id = FIRN_ICE_DECIMAL, .precision = 9, .scale = 2};
    firn_ice_type decneg = {.id = FIRN_ICE_DECIMAL, .precision = 5, .scale = -20};
    firn_ice_type fixed2 = {.id = FIRN_ICE_FIXED, .length = 2};
    const struct {
        const firn_ice_type *t;
        const char *in, *json;
    } cases[] = {
        {NULL, "true", "true"},
        {NULL, "34", "34"},
        {NULL, "-9223372036854775808", "-9223372036854775808"},
        {NULL, "1.5", "1.5"},
        {NULL, "2017-11-16", "\"2017-11-16\""},
        {NULL, "22:31:08.123456", "\"22:31:08.123456\""},
        {NULL, "2017-11-16T22:31:08.000001", "\"2017-11-16T22:31:08.000001\""},
        {NULL, "2017-11-16T22:31:08.123456+00:00", "\"2017-11-16T22:31:08.123456+00:00\""},
        {NULL, "2017-11-16T22:31:08.123456789", "\"2017-11-16T22:31:08.123456789\""},
        {NULL, "2017-11-16T22:31:08.123456789+00:00", "\"2017-11-16T22:31:08.123456789+00:00\""},
        {NULL, "1969-12-31T23:59:59.999999", "\"1969-12-31T23:59:59.999999\""},
        {NULL, "0001-01-01", "\"0001-01-01\""},
        {NULL, "iceberg", "\"iceberg\""},
        {NULL, "F79C3E09-677C-4BBD-A479-3F349CB785E7", "\"f79c3e09-677c-4bbd-a479-3f349cb785e7\""},
        {NULL, "000102FF", "\"000102ff\""},
        {&dec92, "14.20", "\"14.20\""},
        {&dec92, "-0.05", "\"-0.05\""},
        {&decneg, "2E+20", "\"2E+20\""},
        {&fixed2, "abcd", "\"abcd\""},
    };
    static const firn_ice_type_id ids[] = {
        FIRN_ICE_BOOLEAN,  FIRN_ICE_INT,          FIRN_ICE_LONG,         FIRN_ICE_DOUBLE,
        FIRN_ICE_DATE,     FIRN_ICE_TIME,         FIRN_ICE_TIMESTAMP,    FIRN_ICE_TIMESTAMPTZ,
        FIRN_ICE_TIMESTAMP_NS, FIRN_ICE_TIMESTAMPTZ_NS, FIRN_ICE_TIMESTAMP, FIRN_ICE_DATE,
        FIRN_ICE_STRING,   FIRN_ICE_UUID,         FIRN_ICE_BINARY,       0, 0, 0, 0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const firn_ice_type *t = cases[i].t ? cases[i].t : prim(ids[i]);
        firn_ice_value v, back;
        PARSE(&a, t, cases[i].in, &v);
        json_t *j = firn_ice_value_to_json(t, &v, &err);
        CHECK_MSG(j, "case %zu: %s", i, err.message);
        char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        CHECK_MSG(strcmp(s, cases[i].json) == 0, "case %zu: %s != %s", i, s, cases[i].json);
        CHECK_OK(firn_ice_value_from_json(&a, t, j, &back, &err), &err);
        CHECK_MSG(firn_ice_value_equal(&v, &back), "case %zu does not round-trip", i);
        free(s);
        json_decref(j);
    }
    /* the spec's timestamptz example with an offset reads as the same instant */
    firn_ice_value x, y;
    PARSE(&a, prim(FIRN_ICE_TIMESTAMPTZ), "2017-11-16T14:31:08-08:00", &x);
    PARSE(&a, prim(FIRN_ICE_TIMESTAMPTZ), "2017-11-16T22:31:08Z", &y);
    CHECK(x.u.i64 == y.u.i64 && x.u.i64 == INT64_C(1510871468000000));
    /* JSON types are checked */
    json_t *str = json_string("34");
    CHECK_EQ_INT(firn_ice_value_from_json(&a, prim(FIRN_ICE_INT), str, &x, &err), -FIRN_ERR_INVALID);
    CHECK(strstr(err.message, "a JSON string is not a int value"));
    json_decref(str);
    json_t *big = json_integer(INT64_C(1) << 40);
    CHECK_EQ_INT(firn_ice_value_from_json(&a, prim(FIRN_ICE_INT), big, &x, &err), -FIRN_ERR_INVALID);
    json_decref(big);
    CHECK_OK(firn_ice_value_from_json(&a, prim(FIRN_ICE_INT), json_null(), &x, &err), &err);
    CHECK(x.is_null);
    firn_ice_value inf = firn_ice_value_double(INFINITY);
    CHECK(firn_ice_value_to_json(prim(FIRN_ICE_DOUBLE), &inf, &err) == NULL);
    firn_arena_release(&a);
    firn_error_release(&err);
}

FIRN_TEST(iceberg_value_parse_rejects) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_type dec92 = {.id = FIRN_ICE_DECIMAL, .precision = 9, .scale = 2};
    static const struct {
        firn_ice_type_id id;
        const char *text, *why;
    } cases[] = {
        {FIRN_ICE_DATE, "2017-02-29", "expected yyyy-mm-dd"},
        {FIRN_ICE_DATE, "2017-13-01", "expected yyyy-mm-dd"},
        {FIRN_ICE_DATE, "17-11-16", "expected yyyy-mm-dd"},
        {FIRN_ICE_TIME, "24:00:00", "expected hh:mm:ss"},
        {FIRN_ICE_TIME, "22:31:08.0000001", "microsecond precision"},
        {FIRN_ICE_TIMESTAMP, "2017-11-16T22:31:08+01:00", "takes no offset"},
        {FIRN_ICE_TIMESTAMP, "2017-11-16X22:31:08", "expected yyyy-mm-dd"},
        {FIRN_ICE_INT, "2147483648", "out of range"},
        {FIRN_ICE_INT, "12abc", "not an integer"},
        {FIRN_ICE_LONG, " 1", "not an integer"},
        {FIRN_ICE_DOUBLE, "0x10", "not a number"},
        {FIRN_ICE_UUID, "f79c3e09-677c-4bbd-a479-3f349cb785e", "8-4-4-4-12"},
        {FIRN_ICE_BINARY, "abc", "odd number"},
        {FIRN_ICE_BINARY, "zz", "not hexadecimal"},
        {FIRN_ICE_BOOLEAN, "yes", "true or false"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        firn_ice_value v;
        int rc = firn_ice_value_parse(&a, prim(cases[i].id), cases[i].text, strlen(cases[i].text), &v, &err);
        CHECK_MSG(rc == -FIRN_ERR_INVALID, "case %zu (%s) was accepted", i, cases[i].text);
        CHECK_MSG(strstr(err.message, cases[i].why), "case %zu: '%s' lacks '%s'", i, err.message, cases[i].why);
    }
    firn_ice_value v;
    CHECK_OK(firn_ice_value_parse(&a, &dec92, "14.2", 4, &v, &err), &err);
    CHECK(v.u.dec == 1420);
    CHECK_OK(firn_ice_value_parse(&a, &dec92, "14.2000", 7, &v, &err), &err);
    CHECK(v.u.dec == 1420);
    CHECK_EQ_INT(firn_ice_value_parse(&a, &dec92, "14.201", 6, &v, &err), -FIRN_ERR_INVALID);
    CHECK(strstr(err.message, "too many fraction digits"));
    CHECK_EQ_INT(firn_ice_value_parse(&a, &dec92, "10000000.00", 11, &v, &err), -FIRN_ERR_INVALID);
    CHECK(strstr(err.message, "precision"));
    CHECK_EQ_INT(firn_ice_value_parse(&a, prim(FIRN_ICE_STRING), "\xff", 1, &v, &err), -FIRN_ERR_INVALID);
    firn_arena_release(&a);
    firn_error_release(&err);
}

FIRN_TEST(iceberg_value_ordering) {
    firn_ice_value neg_nan = firn_ice_value_double(-NAN), nan = firn_ice_value_double(NAN);
    firn_ice_value ninf = firn_ice_value_double(-INFINITY), inf = firn_ice_value_double(INFINITY);
    firn_ice_value m1 = firn_ice_value_double(-1), nz = firn_ice_value_double(-0.0);
    firn_ice_value pz = firn_ice_value_double(0.0), p1 = firn_ice_value_double(1);
    const firn_ice_value *order[] = {&neg_nan, &ninf, &m1, &nz, &pz, &p1, &inf, &nan};
    for (size_t i = 0; i + 1 < sizeof order / sizeof order[0]; i++)
        CHECK_MSG(firn_ice_value_compare(order[i], order[i + 1]) < 0, "double order broken at %zu", i);
    CHECK(firn_ice_value_compare(&nan, &nan) == 0);
    firn_ice_value fnz = firn_ice_value_float(-0.0f), fpz = firn_ice_value_float(0.0f);
    CHECK(firn_ice_value_compare(&fnz, &fpz) < 0);
    /* strings: unsigned bytes, which is code point order for UTF-8 */
    firn_ice_value s1 = firn_ice_value_bytes(FIRN_ICE_STRING, "a", 1);
    firn_ice_value s2 = firn_ice_value_bytes(FIRN_ICE_STRING, "ab", 2);
    firn_ice_value s3 = firn_ice_value_bytes(FIRN_ICE_STRING, "\xc3\xa9", 2);        /* é */
    firn_ice_value s4 = firn_ice_value_bytes(FIRN_ICE_STRING, "\xef\xbc\xa1", 3);    /* U+FF21 */
    firn_ice_value s5 = firn_ice_value_bytes(FIRN_ICE_STRING, "\xf0\x9f\x98\x80", 4); /* U+1F600 */
    const firn_ice_value *strs[] = {&s1, &s2, &s3, &s4, &s5};
    for (size_t i = 0; i + 1 < 5; i++) CHECK(firn_ice_value_compare(strs[i], strs[i + 1]) < 0);
    /* decimals of different scales compare by value */
    firn_ice_value d1 = firn_ice_value_decimal(1420, 2), d2 = firn_ice_value_decimal(142, 1);
    firn_ice_value d3 = firn_ice_value_decimal(14201, 3);
    CHECK(firn_ice_value_compare(&d1, &d2) == 0);
    CHECK(firn_ice_value_compare(&d1, &d3) < 0);
    firn_ice_value i1 = firn_ice_value_int(5), l1 = firn_ice_value_long(6);
    CHECK(firn_ice_value_compare(&i1, &l1) < 0);
    firn_ice_value null = firn_ice_value_null(FIRN_ICE_INT);
    CHECK(firn_ice_value_compare(&null, &i1) < 0 && firn_ice_value_compare(&i1, &null) > 0);
}

FIRN_TEST(iceberg_value_human_strings) {
    firn_arena a;
    firn_arena_init(&a, 0);
    static const struct {
        firn_ice_type_id id;
        const char *in, *human;
    } cases[] = {
        {FIRN_ICE_DOUBLE, "1", "1.0"},
        {FIRN_ICE_DOUBLE, "100", "100.0"},
        {FIRN_ICE_DOUBLE, "0.001", "0.001"},
        {FIRN_ICE_DOUBLE, "0.00015", "1.5E-4"},
        {FIRN_ICE_DOUBLE, "10000000", "1.0E7"},
        {FIRN_ICE_DOUBLE, "123456.789", "123456.789"},
        {FIRN_ICE_DOUBLE, "-2.5", "-2.5"},
        {FIRN_ICE_FLOAT, "0.1", "0.1"},
        {FIRN_ICE_TIME, "22:31:08", "22:31:08"},
        {FIRN_ICE_TIME, "22:31:00", "22:31"},
        {FIRN_ICE_TIME, "22:31:08.5", "22:31:08.500"},
        {FIRN_ICE_TIME, "22:31:08.000001", "22:31:08.000001"},
        {FIRN_ICE_TIMESTAMP, "2017-11-16T22:31:08", "2017-11-16T22:31:08"},
        {FIRN_ICE_TIMESTAMP, "2017-11-16T22:31:08.5", "2017-11-16T22:31:08.5"},
        {FIRN_ICE_TIMESTAMPTZ, "2017-11-16T22:31:08.000001Z", "2017-11-16T22:31:08.000001+00:00"},
        {FIRN_ICE_DATE, "1969-12-31", "1969-12-31"},
        {FIRN_ICE_BINARY, "00010203", "AAECAw=="},
        {FIRN_ICE_UUID, "f79c3e09-677c-4bbd-a479-3f349cb785e7", "f79c3e09-677c-4bbd-a479-3f349cb785e7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        firn_ice_value v;
        PARSE(&a, prim(cases[i].id), cases[i].in, &v);
        firn_buf b = {0};
        firn_ice_value_human_string(prim(cases[i].id), &v, &b);
        CHECK_MSG(strcmp(firn_buf_cstr(&b), cases[i].human) == 0, "case %zu: %s != %s", i,
                  (char *)b.data, cases[i].human);
        firn_buf_release(&b);
    }
    /* BigDecimal.toString */
    firn_ice_type d7 = {.id = FIRN_ICE_DECIMAL, .precision = 9, .scale = 7};
    firn_ice_type d2 = {.id = FIRN_ICE_DECIMAL, .precision = 9, .scale = 2};
    firn_ice_value tiny = firn_ice_value_decimal(1, 7), money = firn_ice_value_decimal(-1420, 2);
    firn_buf b = {0};
    firn_ice_value_human_string(&d7, &tiny, &b);
    CHECK_EQ_STR(firn_buf_cstr(&b), "1E-7");
    firn_buf_clear(&b);
    firn_ice_value_human_string(&d2, &money, &b);
    CHECK_EQ_STR(firn_buf_cstr(&b), "-14.20");
    firn_buf_release(&b);
    firn_arena_release(&a);
}

FIRN_TEST(iceberg_bound_truncation) {
    const uint8_t *s = (const uint8_t *)"abc\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80z"; /* a b c é 日 😀 z */
    size_t len = strlen((const char *)s);
    CHECK_EQ_INT(firn_ice_utf8_length(s, len), 7);
    CHECK_EQ_INT(firn_ice_truncate_string_min(s, len, 3), 3);
    CHECK_EQ_INT(firn_ice_truncate_string_min(s, len, 4), 5);  /* é is 2 bytes */
    CHECK_EQ_INT(firn_ice_truncate_string_min(s, len, 5), 8);  /* 日 is 3 */
    CHECK_EQ_INT(firn_ice_truncate_string_min(s, len, 6), 12); /* 😀 is 4 */
    CHECK_EQ_INT(firn_ice_truncate_string_min(s, len, 100), len);
    firn_buf b = {0};
    CHECK(firn_ice_truncate_string_max(s, len, 2, &b));
    CHECK(b.len == 2 && memcmp(b.data, "ac", 2) == 0);
    firn_buf_clear(&b);
    CHECK(firn_ice_truncate_string_max(s, len, 5, &b)); /* abcé日 -> abcé + U+65E6 */
    CHECK(b.len == 8 && memcmp(b.data, "abc\xc3\xa9\xe6\x97\xa6", 8) == 0);
    firn_buf_clear(&b);
    CHECK(firn_ice_truncate_string_max(s, len, 7, &b)); /* short enough: unchanged */
    CHECK(b.len == len && memcmp(b.data, s, len) == 0);
    firn_buf_clear(&b);
    /* U+10FFFF cannot be incremented: the code point before it is */
    const uint8_t *m = (const uint8_t *)"a\xf4\x8f\xbf\xbf" "b";
    CHECK(firn_ice_truncate_string_max(m, 6, 2, &b));
    CHECK(b.len == 1 && b.data[0] == 'b');
    firn_buf_clear(&b);
    const uint8_t *mm = (const uint8_t *)"\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf" "b";
    CHECK(!firn_ice_truncate_string_max(mm, 9, 2, &b)); /* no upper bound: drop it */
    firn_buf_clear(&b);
    /* U+D7FF + 1 would be a surrogate: the next scalar value is U+E000 */
    const uint8_t *sur = (const uint8_t *)"\xed\x9f\xbf" "x";
    CHECK(firn_ice_truncate_string_max(sur, 4, 1, &b));
    CHECK(b.len == 3 && memcmp(b.data, "\xee\x80\x80", 3) == 0);
    firn_buf_clear(&b);
    /* binary */
    const uint8_t bin[] = {0x01, 0xff, 0x05};
    CHECK_EQ_INT(firn_ice_truncate_binary_min(3, 2), 2);
    CHECK(firn_ice_truncate_binary_max(bin, 3, 2, &b));
    CHECK(b.len == 1 && b.data[0] == 0x02);
    firn_buf_clear(&b);
    const uint8_t ffs[] = {0xff, 0xff, 0x01};
    CHECK(!firn_ice_truncate_binary_max(ffs, 3, 2, &b));
    CHECK(firn_ice_truncate_binary_max(ffs, 3, 3, &b));
    CHECK_EQ_INT(b.len, 3);
    firn_buf_release(&b);
}
