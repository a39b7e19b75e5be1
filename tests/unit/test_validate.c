/* test_validate.c - event parsing, every validation rule, images, the dedupe
 * window, and the bad-event corpus in tests/data/bad-events (each file lands
 * with the outcome its MANIFEST names). */
#include "test.h"
#include "pipeline/validate.h"

#include <png.h>
#include <regex.h>
#include <stdlib.h>
#include <turbojpeg.h>

#define CORPUS "tests/data/bad-events/"

/* The pipeline's decision for one record, as the corpus names it. */
typedef struct harness {
    firn_config *cfg;
    firn_event_limits lim;
    firn_event ev;
    firn_validator *v[8];
    firn_dedupe *dd[8];
    firn_validation res;
    firn_buf out;
} harness;

static int harness_init(harness *h, firn_config *cfg) {
    memset(h, 0, sizeof *h);
    h->cfg = cfg;
    firn_event_limits_from_config(&h->lim, cfg);
    firn_event_init(&h->ev);
    for (size_t i = 0; i < cfg->ntypes && i < 8; i++) {
        firn_error err;
        firn_error_init(&err);
        h->v[i] = firn_validator_new(&cfg->types[i], &err);
        if (!h->v[i]) return -1;
        h->dd[i] = firn_dedupe_new((size_t)cfg->dedupe_max_entries, cfg->dedupe_window_us);
    }
    return 0;
}

static void harness_release(harness *h) {
    for (int i = 0; i < 8; i++) {
        firn_validator_free(h->v[i]);
        firn_dedupe_free(h->dd[i]);
    }
    firn_event_release(&h->ev);
    firn_buf_release(&h->out);
    firn_config_free(h->cfg);
}

static const char *process(harness *h, const void *json, size_t len, const void *img, size_t ilen,
                           int64_t now) {
    const char *why = firn_event_parse(&h->ev, json, len, &h->lim);
    if (why) return why;
    const firn_event_field *rf = firn_event_get(&h->ev, h->cfg->route_field, strlen(h->cfg->route_field));
    if (!rf || rf->kind != FIRN_JSON_STRING) return "route:missing";
    const firn_config_type *t = firn_config_find_type(h->cfg, rf->value, rf->value_len);
    if (!t) return "route:unknown-type";
    size_t ti = (size_t)(t - h->cfg->types);
    firn_error err;
    firn_error_init(&err);
    if (firn_validate(h->v[ti], &h->ev, img, ilen, now, h->dd[ti], &h->res, &err)) return "error";
    if (h->res.redelivery) return "redelivery";
    if (h->res.nfailed == 0) return "ok";
    firn_buf_clear(&h->out);
    firn_validation_failed_string(&h->res, &h->out);
    return firn_buf_cstr(&h->out);
}

static const char *do_one(harness *h, const char *json, int64_t now) {
    return process(h, json, strlen(json), NULL, 0, now);
}

/* ---------------------------------------------------------------- parsing */

FIRN_TEST(validate_parse_fields) {
    firn_event e;
    firn_event_init(&e);
    firn_event_limits lim = {1 << 20, 1 << 16, 8, 100, "image"};
    const char *j = " {\"a\" : \"x\\ny\\u00e9\\ud83d\\ude97\", \"b\":-1.5e3,\"c\":[1,{\"d\":null}],"
                    "\"\\u0065\":true,\"f\":false,\"g\":null,\"h\":{}} ";
    CHECK(firn_event_parse(&e, j, strlen(j), &lim) == NULL);
    CHECK_EQ_INT(e.nfields, 7);
    const firn_event_field *f = firn_event_get(&e, "a", 1);
    CHECK(f && f->kind == FIRN_JSON_STRING);
    CHECK_EQ_INT(f->value_len, 9);
    CHECK_MEM(f->value, "x\ny\xc3\xa9\xf0\x9f\x9a\x97", 9);
    f = firn_event_get(&e, "b", 1);
    CHECK(f->kind == FIRN_JSON_NUMBER && f->value_len == 6 && memcmp(f->value, "-1.5e3", 6) == 0);
    f = firn_event_get(&e, "c", 1);
    CHECK(f->kind == FIRN_JSON_ARRAY && f->value_len == 14);
    CHECK(firn_event_get(&e, "e", 1)->kind == FIRN_JSON_TRUE);
    CHECK(firn_event_get(&e, "f", 1)->kind == FIRN_JSON_FALSE);
    CHECK(firn_event_get(&e, "g", 1)->kind == FIRN_JSON_NULL);
    CHECK(firn_event_get(&e, "h", 1)->kind == FIRN_JSON_OBJECT);
    CHECK(firn_event_get(&e, "z", 1) == NULL);
    CHECK(firn_event_parse(&e, "{}", 2, &lim) == NULL);
    CHECK_EQ_INT(e.nfields, 0);

    static const struct { const char *json; const char *why; } bad[] = {
        {"", "parse:empty"}, {"{", "parse:syntax"}, {"{\"a\"}", "parse:syntax"},
        {"{\"a\":}", "parse:syntax"}, {"{\"a\":1,}", "parse:syntax"}, {"{a:1}", "parse:syntax"},
        {"{\"a\":-}", "parse:syntax"}, {"{\"a\":1.}", "parse:syntax"}, {"{\"a\":1e}", "parse:syntax"},
        {"{\"a\":\"\\x\"}", "parse:syntax"}, {"{\"a\":\"\\u12\"}", "parse:syntax"},
        {"{\"a\":tru}", "parse:syntax"}, {"{\"a\":[1 2]}", "parse:syntax"},
        {"{\"a\":1}{}", "parse:syntax"}, {"{\"a\":\"abc", "parse:syntax"},
        {"{\"a\":1} \"b\"", "parse:syntax"}, {"[]", "parse:not-object"}, {"1", "parse:not-object"},
        {"null", "parse:not-object"}, {"{\"a\":1,\"a\":2}", "parse:duplicate-key"},
        {"{\"a\":\"\xed\xa0\x80\"}", "parse:invalid-utf8"}, {"{\"a\":\"\xf4\x90\x80\x80\"}", "parse:invalid-utf8"},
        {"{\"a\":\"\\udc00\"}", "parse:invalid-utf8"}, {"{\"a\":\"\xe2\x82\"}", "parse:invalid-utf8"},
        {"{\"a\":[[[[[[[[1]]]]]]]]}", "parse:too-deep"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = firn_event_parse(&e, bad[i].json, strlen(bad[i].json), &lim);
        CHECK_MSG(why && strcmp(why, bad[i].why) == 0, "%s: got %s, want %s", bad[i].json,
                  why ? why : "ok", bad[i].why);
        CHECK(firn_event_detail(&e)[0] != 0);
    }
    /* depth bound is exact: 7 nested arrays inside the object = depth 8 */
    {
        const char *d8 = "{\"a\":[[[[[[[1]]]]]]]}";
        CHECK(firn_event_parse(&e, d8, strlen(d8), &lim) == NULL);
        const char *d9 = "{\"a\":[[[[[[[[1]]]]]]]]}";
        CHECK_EQ_STR(firn_event_parse(&e, d9, strlen(d9), &lim), "parse:too-deep");
        const char *o9 = "{\"a\":{\"b\":[[[[[[{}]]]]]]}}";
        CHECK_EQ_STR(firn_event_parse(&e, o9, strlen(o9), &lim), "parse:too-deep");
    }
    /* field size bound, and the blob field's exemption */
    lim.max_field_bytes = 8;
    CHECK(firn_event_parse(&e, "{\"a\":\"12345678\"}", 16, &lim) == NULL);
    CHECK_EQ_STR(firn_event_parse(&e, "{\"a\":\"123456789\"}", 17, &lim), "parse:field-too-large");
    CHECK_EQ_STR(firn_event_parse(&e, "{\"a\":[1,2,3,4,5]}", 17, &lim), "parse:field-too-large");
    CHECK(firn_event_parse(&e, "{\"image\":\"123456789abc\"}", 24, &lim) == NULL);
    lim.max_event_bytes = 10;
    CHECK_EQ_STR(firn_event_parse(&e, "{\"image\":\"123456789abc\"}", 24, &lim), "parse:too-large");
    lim.max_event_bytes = 1 << 20;
    lim.max_fields = 2;
    CHECK_EQ_STR(firn_event_parse(&e, "{\"a\":1,\"b\":2,\"c\":3}", 19, &lim), "parse:too-many-fields");
    firn_event_release(&e);
}

FIRN_TEST(validate_timestamps) {
    int64_t us;
    CHECK(firn_parse_timestamp("1970-01-01T00:00:00Z", 20, &us) == 0 && us == 0);
    CHECK(firn_parse_timestamp("2026-11-26T10:00:00.123456Z", 27, &us) == 0);
    CHECK(us == 1795687200123456LL);
    CHECK(firn_parse_timestamp("2026-11-26T11:00:00.123456789+01:00", 35, &us) == 0);
    CHECK(us == 1795687200123456LL);
    CHECK(firn_parse_timestamp("2026-11-26T05:30:00.5-0430", 26, &us) == 0);
    CHECK(us == 1795687200500000LL);
    CHECK(firn_parse_timestamp("1969-12-31T23:59:59.999999Z", 27, &us) == 0 && us == -1);
    CHECK(firn_parse_timestamp("2024-02-29T00:00:00Z", 20, &us) == 0);
    static const char *const bad[] = {"2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
                                      "2026-11-26T24:00:00Z", "2026-11-26T10:00:00",
                                      "2026-11-26T10:00:00.Z", "2026-11-26T10:00:00+1:00",
                                      "2026-11-26 10:00Z", "26-11-26T10:00:00Z",
                                      "2026-11-26T10:00:00Zjunk", "2026-11-26T10:00:00.1234567890Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(firn_parse_timestamp(bad[i], strlen(bad[i]), &us) < 0, "accepted %s", bad[i]);
}

/* ---------------------------------------------------------------- rules */

static const int64_t NOW = 1795694400000000LL; /* 2026-11-26T12:00:00Z */

static firn_config *rules_config(void) {
    const char *y = "types:\n"
                    "  parking-entry: ~\n"
                    "  parking-exit: ~\n"
                    "  t:\n"
                    "    table: p.t\n"
                    "    untrusted-table: s.t\n"
                    "    fields:\n"
                    "      id: {type: string, required: true, unique: true}\n"
                    "      kind: {type: string, required: true}\n"
                    "      n: {type: int, min: -5, max: 5}\n"
                    "      big: {type: long}\n"
                    "      d: {type: double, min: 0.5, max: 1.5}\n"
                    "      ok: boolean\n"
                    "      at: {type: timestamp, max-future: 1m, max-age: 1h}\n"
                    "      plate: {type: string, pattern: '^[0-9]{2}[A-Z]{1,2}-?[0-9]{4}$'}\n"
                    "      word: {type: string, pattern: '^(ab)+c*$'}\n"
                    "types.t.fields.kind.required: true\n";
    firn_config *c = NULL;
    firn_error err;
    firn_error_init(&err);
    if (firn_config_load_string(y, strlen(y), "rules.yaml", &c, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return NULL;
    }
    c->route_field[0] = 0;
    free(c->route_field);
    c->route_field = firn_xstrdup("kind");
    return c;
}

FIRN_TEST(validate_rules_each) {
    harness h;
    firn_config *c = rules_config();
    CHECK(c != NULL);
    CHECK_OK(harness_init(&h, c), NULL);
    static const struct { const char *json, *want; } cases[] = {
        {"{\"id\":\"a1\",\"kind\":\"t\"}", "ok"},
        {"{\"kind\":\"t\"}", "required:id"},
        {"{\"id\":null,\"kind\":\"t\"}", "required:id"},
        {"{\"id\":7,\"kind\":\"t\"}", "type:id"},
        {"{\"id\":\"a2\",\"kind\":\"t\",\"n\":5}", "ok"},
        {"{\"id\":\"a3\",\"kind\":\"t\",\"n\":6}", "range:n"},
        {"{\"id\":\"a3\",\"kind\":\"t\",\"n\":-6}", "range:n"},
        {"{\"id\":\"a3\",\"kind\":\"t\",\"n\":1.0}", "type:n"},
        {"{\"id\":\"a3\",\"kind\":\"t\",\"n\":\"1\"}", "type:n"},
        {"{\"id\":\"a3\",\"kind\":\"t\",\"n\":2147483648}", "type:n"},
        {"{\"id\":\"a4\",\"kind\":\"t\",\"big\":-9223372036854775808}", "ok"},
        {"{\"id\":\"a5\",\"kind\":\"t\",\"big\":9223372036854775808}", "type:big"},
        {"{\"id\":\"a6\",\"kind\":\"t\",\"d\":0.5}", "ok"},
        {"{\"id\":\"a7\",\"kind\":\"t\",\"d\":1.5000001}", "range:d"},
        {"{\"id\":\"a7\",\"kind\":\"t\",\"d\":5e-1}", "ok"},
        {"{\"id\":\"a8y\",\"kind\":\"t\",\"d\":0.49999999999999999999}", "ok"},
        {"{\"id\":\"a8x\",\"kind\":\"t\",\"d\":0.4999999}", "range:d"},
        {"{\"id\":\"a8\",\"kind\":\"t\",\"d\":false}", "type:d"},
        {"{\"id\":\"a8\",\"kind\":\"t\",\"ok\":false}", "ok"},
        {"{\"id\":\"a9\",\"kind\":\"t\",\"ok\":0}", "type:ok"},
        {"{\"id\":\"a9\",\"kind\":\"t\",\"at\":\"2026-11-26T12:01:00Z\"}", "ok"},
        {"{\"id\":\"b1\",\"kind\":\"t\",\"at\":\"2026-11-26T12:01:00.000001Z\"}", "timestamp:future"},
        {"{\"id\":\"b1\",\"kind\":\"t\",\"at\":\"2026-11-26T11:00:00Z\"}", "ok"},
        {"{\"id\":\"b2\",\"kind\":\"t\",\"at\":\"2026-11-26T10:59:59.999999Z\"}", "timestamp:too-old"},
        {"{\"id\":\"b2\",\"kind\":\"t\",\"at\":\"yesterday\"}", "type:at"},
        {"{\"id\":\"b2\",\"kind\":\"t\",\"plate\":\"12GA3456\"}", "ok"},
        {"{\"id\":\"b3\",\"kind\":\"t\",\"plate\":\"12G-3456\"}", "ok"},
        {"{\"id\":\"b4\",\"kind\":\"t\",\"plate\":\"12GAA3456\"}", "pattern:plate"},
        {"{\"id\":\"b4\",\"kind\":\"t\",\"plate\":\"12ga3456\"}", "pattern:plate"},
        {"{\"id\":\"b4\",\"kind\":\"t\",\"plate\":\"\"}", "pattern:plate"},
        {"{\"id\":\"b4\",\"kind\":\"t\",\"word\":\"ababcc\"}", "ok"},
        {"{\"id\":\"b5\",\"kind\":\"t\",\"word\":\"abac\"}", "pattern:word"},
        {"{\"id\":\"b5\",\"kind\":\"t\",\"n\":9,\"d\":9,\"plate\":\"x\"}", "range:n,range:d,pattern:plate"},
        {"{\"id\":\"a1\",\"kind\":\"t\",\"extra\":1}", "duplicate:id"},
        {"{\"id\":\"a1\",\"kind\":\"t\"}", "redelivery"},
        {"{\"id\":\"a1\",\"kind\":\"t\",\"n\":99}", "range:n,duplicate:id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = do_one(&h, cases[i].json, NOW);
        CHECK_MSG(strcmp(got, cases[i].want) == 0, "%s: got %s, want %s", cases[i].json, got,
                  cases[i].want);
    }
    /* typed values of a passing row */
    const char *j = "{\"id\":\"z\",\"kind\":\"t\",\"n\":-3,\"big\":12345678901,\"d\":1.25,"
                    "\"ok\":true,\"at\":\"2026-11-26T11:30:00.25Z\",\"plate\":\"12GA3456\"}";
    CHECK_EQ_STR(do_one(&h, j, NOW), "ok");
    size_t nc;
    const firn_column_desc *cols = firn_validator_columns(h.v[0], &nc);
    CHECK_EQ_INT(nc, 9);
    CHECK_EQ_STR(cols[7].name, "plate");
    const firn_ice_value *r = h.res.row;
    CHECK(r[0].type == FIRN_ICE_STRING && r[0].u.bin.len == 1 && r[0].u.bin.ptr[0] == 'z');
    CHECK(r[2].type == FIRN_ICE_INT && r[2].u.i32 == -3);
    CHECK(r[3].type == FIRN_ICE_LONG && r[3].u.i64 == 12345678901LL);
    CHECK(r[4].type == FIRN_ICE_DOUBLE && r[4].u.f64 == 1.25);
    CHECK(r[5].type == FIRN_ICE_BOOLEAN && r[5].u.b && !r[5].is_null);
    CHECK(r[6].type == FIRN_ICE_TIMESTAMPTZ && r[6].u.i64 == NOW - 1800000000LL + 250000);
    CHECK(r[8].is_null && r[8].type == FIRN_ICE_STRING);
    harness_release(&h);
}

/* The fast pattern matcher agrees with regexec. */
FIRN_TEST(validate_pattern_fast_path_matches_regex) {
    static const char *const pats[] = {"^[0-9]{2}[A-Z]{2}[0-9]{4}$", "^[A-Z]{1,3}-?[0-9]{2,4}$",
                                       "^ab[^x]{0,3}b$", "^[a-c]{2,5}[b-d]{1,3}$"};
    static const char *const samples[] = {"12GA3456", "AB-1234", "abyyb", "abcbd"};
    uint32_t rnd = 7;
    for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
        char y[512];
        snprintf(y, sizeof y, "types:\n  parking-entry: ~\n  parking-exit: ~\n  t:\n    table: a.b\n"
                 "    untrusted-table: a.c\n    fields:\n      p: {type: string, pattern: '%s'}\n", pats[k]);
        firn_config *c = NULL;
        firn_error err;
        firn_error_init(&err);
        CHECK_OK(firn_config_load_string(y, strlen(y), "p.yaml", &c, &err), &err);
        firn_validator *v = firn_validator_new(&c->types[0], &err);
        regex_t re;
        CHECK(regcomp(&re, pats[k], REG_EXTENDED | REG_NOSUB) == 0);
        firn_event e;
        firn_event_init(&e);
        firn_event_limits lim = {1 << 20, 1 << 20, 8, 100, NULL};
        firn_validation res;
        const char alphabet[] = "0123456789ABCDGZabcdx-";
        int matches = 0;
        for (int i = 0; i < 4000; i++) {
            char s[24], json[80];
            rnd = rnd * 1103515245 + 12345;
            int n = (int)(rnd >> 16) % 10;
            for (int q = 0; q < n; q++) {
                rnd = rnd * 1103515245 + 12345;
                s[q] = alphabet[(rnd >> 16) % (sizeof alphabet - 1)];
            }
            s[n] = 0;
            if (i % 3 == 0 && k == 0) snprintf(s, sizeof s, "%02d%c%c%04d", i % 100, 'A' + i % 26, 'B', i);
            if (i % 5 == 0) {
                snprintf(s, sizeof s, "%s", samples[k]);
                if (i % 10 == 0) s[(size_t)i / 10 % strlen(s)] = 'b'; /* a near miss */
            }
            snprintf(json, sizeof json, "{\"p\":\"%s\"}", s);
            CHECK(firn_event_parse(&e, json, strlen(json), &lim) == NULL);
            CHECK_OK(firn_validate(v, &e, NULL, 0, NOW, NULL, &res, &err), &err);
            bool want = regexec(&re, s, 0, NULL, 0) == 0;
            matches += want;
            CHECK_MSG(want == (res.nfailed == 0), "pattern %s on '%s': regex %d", pats[k], s, want);
        }
        CHECK(matches > 0);
        regfree(&re);
        firn_event_release(&e);
        firn_validator_free(v);
        firn_config_free(c);
    }
}

/* ---------------------------------------------------------------- images */

static uint8_t *make_jpeg(int w, int h, size_t *len) {
    uint8_t *px = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h * 3; i++) px[i] = (uint8_t)(i * 5);
    tjhandle tj = tjInitCompress();
    unsigned char *out = NULL;
    unsigned long n = 0;
    int rc = tjCompress2(tj, px, w, 0, h, TJPF_RGB, &out, &n, TJSAMP_420, 75, 0);
    uint8_t *copy = NULL;
    if (rc == 0) {
        copy = malloc(n);
        memcpy(copy, out, n);
    }
    tjFree(out);
    tjDestroy(tj);
    free(px);
    *len = n;
    return copy;
}

static const char *make_event(char *json, size_t n, const char *type, int k) {
    snprintf(json, n,
             "{\"eventId\":\"id-%d\",\"eventType\":\"%s\",\"timeStamp\":\"2026-11-26T11:00:00Z\","
             "\"carId\":\"12GA3456\",\"slotId\":1,\"x\":1,\"y\":2,\"cameraId\":\"c\"}",
             k, type);
    return json;
}

static const char *proc_img(harness *h, char *json, size_t n, const char *type, int *k,
                            const uint8_t *img, size_t ilen, int64_t now) {
    make_event(json, n, type, (*k)++);
    return process(h, json, strlen(json), img, ilen, now);
}

FIRN_TEST(validate_images) {
    harness h;
    const char *y = "types.parking-entry.fields.image.max-bytes: 100KiB\n"
                    "types.parking-exit.fields.image: {formats: png, decode: scaled}\n";
    firn_config *c = NULL;
    firn_error err;
    firn_error_init(&err);
    CHECK_OK(firn_config_load_string(y, strlen(y), "img.yaml", &c, &err), &err);
    CHECK_OK(harness_init(&h, c), NULL);
    size_t jl;
    uint8_t *jpg = make_jpeg(320, 240, &jl);
    CHECK(jpg != NULL);
    char json[400];
    int k = 0;
    CHECK_EQ_STR(proc_img(&h, json, sizeof json, "parking-entry", &k, jpg, jl, NOW), "ok");
    CHECK_EQ_STR(h.res.image_format, "jpeg");
    CHECK(h.res.image_width == 320 && h.res.image_height == 240);
    uint8_t sha[32];
    char hex[65];
    firn_sha256(jpg, jl, sha);
    firn_hex(sha, 32, hex);
    CHECK_EQ_STR(h.res.image_sha256_hex, hex);
    const firn_ice_value *img = &h.res.row[8];
    CHECK(img->type == FIRN_ICE_BINARY && img->u.bin.ptr == jpg && img->u.bin.len == jl);
    CHECK(h.res.row[9].u.bin.len == 4 && memcmp(h.res.row[9].u.bin.ptr, "jpeg", 4) == 0);
    CHECK(h.res.row[10].u.i32 == 320 && h.res.row[11].u.i32 == 240);
    CHECK(h.res.row[12].u.bin.len == 64 && memcmp(h.res.row[12].u.bin.ptr, hex, 64) == 0);
    /* a truncated JPEG fails at every cut point past the header, and never crashes */
    int decode_fail = 0;
    for (size_t cut = 0; cut < jl; cut += 97) {
        const char *got = proc_img(&h, json, sizeof json, "parking-entry", &k, jpg, cut, NOW);
        CHECK_MSG(strcmp(got, cut ? "image:decode" : "required:image") == 0, "cut %zu: %s", cut, got);
        decode_fail++;
    }
    CHECK(decode_fail > 10);
    /* png only on exits; decode: scaled */
    CHECK_EQ_STR(proc_img(&h, json, sizeof json, "parking-exit", &k, jpg, jl, NOW), "image:format");
    /* too many bytes */
    uint8_t *big = malloc(200 << 10);
    memcpy(big, jpg, jl);
    memset(big + jl, 0, (200 << 10) - jl);
    CHECK_EQ_STR(proc_img(&h, json, sizeof json, "parking-entry", &k, big, 200 << 10, NOW), "image:size");
    free(big);
    /* a JPEG with a byte flipped in the entropy-coded data */
    uint8_t *bad = malloc(jl);
    int caught = 0;
    for (size_t at = jl / 3; at < jl - 2; at += jl / 7) {
        memcpy(bad, jpg, jl);
        memset(bad + at, 0xFF, 2);
        bad[at + 1] = 0xD9; /* EOI in the middle: the rest is missing */
        caught += strcmp(proc_img(&h, json, sizeof json, "parking-entry", &k, bad, jl, NOW), "image:decode") == 0;
    }
    CHECK(caught >= 5);
    free(bad);
    free(jpg);
    harness_release(&h);
}

/* The image checks done ahead on a pool of threads give the outcome
 * firn_validate gives alone, for good, truncated, corrupt, fake and
 * oversized images, in both decode modes. */
FIRN_TEST(validate_image_pool_same_verdicts) {
    const char *modes[] = {"full", "scaled", "header"};
    for (int m = 0; m < 3; m++) {
        char y[200];
        snprintf(y, sizeof y, "types.parking-entry.fields.image: {max-bytes: 100KiB, decode: %s}\n",
                 modes[m]);
        firn_config *c = NULL;
        firn_error err;
        firn_error_init(&err);
        CHECK_OK(firn_config_load_string(y, strlen(y), "img.yaml", &c, &err), &err);
        firn_validator *v = firn_validator_new(&c->types[0], &err);
        CHECK(v != NULL);
        const firn_config_field *cf = NULL;
        for (size_t i = 0; i < c->types[0].nfields; i++)
            if (c->types[0].fields[i].type == FIRN_FIELD_IMAGE) cf = &c->types[0].fields[i];
        CHECK(cf != NULL);
        size_t jl;
        uint8_t *jpg = make_jpeg(320, 240, &jl);
        CHECK(jpg != NULL);
        enum { N = 40 };
        uint8_t *imgs[N];
        size_t lens[N];
        for (int i = 0; i < N; i++) {
            size_t n = jl;
            if (i % 5 == 1) n = jl * (size_t)(i + 1) / (N + 2); /* truncated */
            if (i % 5 == 4) n = 120 << 10;                      /* too large */
            imgs[i] = calloc(1, n > jl ? n : jl);
            memcpy(imgs[i], jpg, n < jl ? n : jl);
            if (i % 5 == 2) { /* EOI in the entropy-coded data */
                size_t at = jl / 3 + (size_t)i * 13;
                imgs[i][at] = 0xFF;
                imgs[i][at + 1] = 0xD9;
            }
            if (i % 5 == 3) memcpy(imgs[i], i % 2 ? "GIF89a" : "notanimage", i % 2 ? 6 : 10);
            lens[i] = n;
        }
        firn_event ev;
        firn_event_init(&ev);
        firn_event_limits lim;
        firn_event_limits_from_config(&lim, c);
        char json[400];
        make_event(json, sizeof json, "parking-entry", 1);
        CHECK(firn_event_parse(&ev, json, strlen(json), &lim) == NULL);
        /* alone */
        char want[N][160];
        uint64_t want_hash[N];
        firn_validation res;
        for (int i = 0; i < N; i++) {
            CHECK_OK(firn_validate(v, &ev, imgs[i], lens[i], NOW, NULL, &res, &err), &err);
            firn_buf b = {0};
            firn_validation_failed_string(&res, &b);
            snprintf(want[i], sizeof want[i], "%s|%s|%d|%d|%s", firn_buf_cstr(&b),
                     res.image_format ? res.image_format : "-", res.image_width,
                     res.image_height, res.image_sha256_hex);
            firn_buf_release(&b);
            want_hash[i] = res.payload_hash;
        }
        /* ahead, on a pool (two workers and the caller) */
        firn_image_pool *pool = firn_image_pool_new(2);
        CHECK(firn_image_pool_threads(pool) == 2);
        for (int round = 0; round < 3; round++) {
            firn_image_job jobs[N];
            for (int i = 0; i < N; i++) jobs[i] = (firn_image_job){cf, imgs[i], lens[i], {0}};
            firn_image_pool_check(pool, jobs, N);
            for (int i = 0; i < N; i++) {
                CHECK(jobs[i].out.image == imgs[i] && jobs[i].out.len == lens[i]);
                CHECK_OK(firn_validate_pre(v, &ev, imgs[i], lens[i], &jobs[i].out, NOW, NULL, &res,
                                           &err), &err);
                firn_buf b = {0};
                firn_validation_failed_string(&res, &b);
                char got[160];
                snprintf(got, sizeof got, "%s|%s|%d|%d|%s", firn_buf_cstr(&b),
                         res.image_format ? res.image_format : "-", res.image_width,
                         res.image_height, res.image_sha256_hex);
                firn_buf_release(&b);
                CHECK_MSG(strcmp(got, want[i]) == 0, "%s image %d: %s, alone %s", modes[m], i,
                          got, want[i]);
                CHECK(res.payload_hash == want_hash[i]);
            }
            /* a verdict for other bytes is not used */
            CHECK_OK(firn_validate_pre(v, &ev, imgs[1], lens[1], &jobs[0].out, NOW, NULL, &res,
                                       &err), &err);
            CHECK(res.payload_hash == want_hash[1]);
        }
        /* the outcomes are the expected ones */
        CHECK(strncmp(want[0], "|jpeg|320|240|", 14) == 0);
        if (m < 2) CHECK(strncmp(want[2], "image:decode|", 13) == 0);
        CHECK(strncmp(want[3], "image:", 6) == 0);
        CHECK(strncmp(want[4], "image:size|", 11) == 0);
        if (m < 2) CHECK(strncmp(want[6], "image:decode|", 13) == 0);
        firn_image_pool_free(pool);
        firn_image_pool *none = firn_image_pool_new(0); /* the caller alone */
        firn_image_job one[2] = {{cf, imgs[0], lens[0], {0}}, {cf, imgs[4], lens[4], {0}}};
        firn_image_pool_check(none, one, 2);
        CHECK(one[0].out.failed == NULL && one[0].out.width == 320);
        CHECK(one[1].out.failed && strcmp(one[1].out.failed, "image:size") == 0);
        firn_image_pool_free(none);
        for (int i = 0; i < N; i++) free(imgs[i]);
        free(jpg);
        firn_event_release(&ev);
        firn_validator_free(v);
        firn_config_free(c);
    }
}

/* ---------------------------------------------------------------- dedupe */

FIRN_TEST(validate_dedupe_window) {
    firn_dedupe *d = firn_dedupe_new(4, 1000);
    CHECK(firn_dedupe_lookup(d, "a", 1, 1, 0) == FIRN_DEDUPE_NEW);
    firn_dedupe_insert(d, "a", 1, 1, 0);
    CHECK(firn_dedupe_lookup(d, "a", 1, 1, 10) == FIRN_DEDUPE_REDELIVERY);
    CHECK(firn_dedupe_lookup(d, "a", 1, 2, 10) == FIRN_DEDUPE_CONFLICT);
    CHECK(firn_dedupe_lookup(d, "b", 1, 1, 10) == FIRN_DEDUPE_NEW);
    /* time window: forgotten after 1000 us */
    CHECK(firn_dedupe_lookup(d, "a", 1, 2, 1001) == FIRN_DEDUPE_NEW);
    CHECK(firn_dedupe_lookup(d, "a", 1, 2, 1000) == FIRN_DEDUPE_CONFLICT);
    /* size bound: the oldest go first */
    firn_dedupe_insert(d, "b", 1, 1, 1);
    firn_dedupe_insert(d, "c", 1, 1, 2);
    firn_dedupe_insert(d, "d", 1, 1, 3);
    firn_dedupe_insert(d, "e", 1, 1, 4);
    CHECK_EQ_INT(firn_dedupe_size(d), 4);
    CHECK(firn_dedupe_lookup(d, "a", 1, 2, 5) == FIRN_DEDUPE_NEW);
    CHECK(firn_dedupe_lookup(d, "b", 1, 2, 5) == FIRN_DEDUPE_CONFLICT);
    /* an event far ahead in time (another partition) drops nothing: b..e
     * still count for events of their own time, not for the later one */
    firn_dedupe_insert(d, "f", 1, 1, 2000); /* the entry bound drops b */
    CHECK_EQ_INT(firn_dedupe_size(d), 4);
    CHECK(firn_dedupe_lookup(d, "e", 1, 2, 2000) == FIRN_DEDUPE_NEW);
    CHECK(firn_dedupe_lookup(d, "e", 1, 1, 4) == FIRN_DEDUPE_REDELIVERY);
    CHECK(firn_dedupe_lookup(d, "c", 1, 2, 900) == FIRN_DEDUPE_CONFLICT);
    CHECK(firn_dedupe_lookup(d, "b", 1, 1, 5) == FIRN_DEDUPE_NEW);
    /* an entry replaced by a later insert of its id counts from the new time */
    firn_dedupe_insert(d, "e", 1, 3, 2500);
    CHECK(firn_dedupe_lookup(d, "e", 1, 3, 3000) == FIRN_DEDUPE_REDELIVERY);
    firn_dedupe_free(d);

    /* many ids through a small window: what is kept is exactly the newest N */
    d = firn_dedupe_new(1000, 0);
    char id[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        firn_dedupe_insert(d, id, strlen(id), (uint64_t)i, i);
        if (i % 7 == 0) firn_dedupe_insert(d, id, strlen(id), (uint64_t)i + 1, i); /* re-insert */
    }
    int kept = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        firn_dedupe_result r = firn_dedupe_lookup(d, id, strlen(id), (uint64_t)i + (i % 7 == 0), 20000);
        if (r != FIRN_DEDUPE_NEW) {
            CHECK_MSG(r == FIRN_DEDUPE_REDELIVERY, "id %d conflicts", i);
            kept++;
            CHECK_MSG(i >= 19000 - 20000 / 7, "old id %d kept", i);
        }
    }
    CHECK(kept > 850 && kept <= 1000);
    for (int i = 19900; i < 20000; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        CHECK(firn_dedupe_lookup(d, id, strlen(id), (uint64_t)i + (i % 7 == 0), 20000) == FIRN_DEDUPE_REDELIVERY);
    }
    firn_dedupe_clear(d);
    CHECK_EQ_INT(firn_dedupe_size(d), 0);
    firn_dedupe_free(d);
}

/* ---------------------------------------------------------------- corpus */

FIRN_TEST(validate_bad_event_corpus) {
    firn_error err;
    firn_error_init(&err);
    firn_config *c = NULL;
    CHECK_OK(firn_config_load(CORPUS "firn.yaml", true, &c, &err), &err);
    harness h;
    CHECK_OK(harness_init(&h, c), NULL);
    uint8_t *man = NULL;
    size_t mlen = 0;
    CHECK_MSG(firn_read_file(CORPUS "MANIFEST", &man, &mlen, &err) == 0,
              "cannot read " CORPUS "MANIFEST (run from the repository root)");
    char *text = firn_xmalloc(mlen + 1);
    memcpy(text, man, mlen);
    text[mlen] = 0;
    free(man);
    int64_t now = 0;
    int cases = 0, ok = 0, parse = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || !line[0]) continue;
        char name[128], want[256];
        CHECK(sscanf(line, "%127s %255s", name, want) == 2);
        if (strcmp(name, "now") == 0) {
            CHECK(firn_parse_timestamp(want, strlen(want), &now) == 0);
            continue;
        }
        char path[256];
        uint8_t *json = NULL, *img = NULL;
        size_t jlen = 0, ilen = 0;
        snprintf(path, sizeof path, CORPUS "%s.json", name);
        CHECK_MSG(firn_read_file(path, &json, &jlen, &err) == 0, "missing %s", path);
        snprintf(path, sizeof path, CORPUS "%s.image", name);
        FILE *f = fopen(path, "rb");
        if (f) {
            fclose(f);
            CHECK_OK(firn_read_file(path, &img, &ilen, &err), &err);
        }
        const char *got = process(&h, json, jlen, img, ilen, now);
        CHECK_MSG(strcmp(got, want) == 0, "%s: got %s, want %s (%dx%d)", name, got, want, h.res.image_width, h.res.image_height);
        if (strcmp(want, "ok") == 0) {
            ok++;
            /* a trusted row carries the image and its digest */
            const firn_ice_value *r = h.res.row;
            CHECK(!r[8].is_null && r[8].u.bin.len > 0);
            uint8_t sha[32];
            firn_sha256(r[8].u.bin.ptr, r[8].u.bin.len, sha);
            CHECK_MEM(sha, h.res.image_sha256, 32);
            CHECK(r[2].type == FIRN_ICE_TIMESTAMPTZ && !r[2].is_null);
            if (strcmp(name, "good-entry") == 0) {
                CHECK(r[2].u.i64 == now - 29876544); /* 11:59:30.123456 */
                CHECK(r[4].u.i32 == 17 && r[5].u.f64 == 42.5 && r[6].u.f64 == 13.25);
                CHECK(h.res.image_width == 64 && h.res.image_height == 48);
            }
            if (strcmp(name, "good-escapes") == 0)
                CHECK(r[3].u.bin.len == 8 && memcmp(r[3].u.bin.ptr, "12GA3456", 8) == 0);
        }
        parse += strncmp(want, "parse:", 6) == 0;
        cases++;
        free(json);
        free(img);
    }
    free(text);
    CHECK_MSG(cases >= 60 && ok >= 6 && parse >= 18, "corpus too small: %d cases", cases);
    harness_release(&h);
}

/* firn_dedupe_check: one lookup, an insert only for a new id when asked */
FIRN_TEST(validate_dedupe_check) {
    firn_dedupe *d = firn_dedupe_new(100, 0);
    CHECK(firn_dedupe_check(d, "x", 1, 7, 0, false) == FIRN_DEDUPE_NEW);
    CHECK_EQ_INT(firn_dedupe_size(d), 0); /* not inserted */
    CHECK(firn_dedupe_check(d, "x", 1, 7, 1, true) == FIRN_DEDUPE_NEW);
    CHECK_EQ_INT(firn_dedupe_size(d), 1);
    CHECK(firn_dedupe_check(d, "x", 1, 7, 2, true) == FIRN_DEDUPE_REDELIVERY);
    CHECK(firn_dedupe_check(d, "x", 1, 8, 3, true) == FIRN_DEDUPE_CONFLICT);
    CHECK_EQ_INT(firn_dedupe_size(d), 1); /* a seen id is not inserted again */
    /* as many ids as the window holds, all found again (the index tags
     * must not hide an entry) */
    char id[32];
    for (int i = 0; i < 99; i++) {
        snprintf(id, sizeof id, "k%d", i);
        CHECK(firn_dedupe_check(d, id, strlen(id), (uint64_t)i, 4, true) == FIRN_DEDUPE_NEW);
    }
    for (int i = 0; i < 99; i++) {
        snprintf(id, sizeof id, "k%d", i);
        CHECK(firn_dedupe_lookup(d, id, strlen(id), (uint64_t)i, 5) == FIRN_DEDUPE_REDELIVERY);
    }
    firn_dedupe_free(d);
}

/* Partitions read side by side are not in event-time order: one reaches
 * events two hours newer while another still has older ones to go. The
 * newer event must not make the window forget the older partition's ids, or
 * a repeat that follows in that partition passes as new (scale-out: the same
 * eventId twice among a batch's trusted rows, the audit rejected the batch). */
FIRN_TEST(validate_dedupe_partitions_out_of_time_order) {
    const int64_t hour = 3600LL * 1000000;
    firn_dedupe *d = firn_dedupe_new(1000, hour);
    char id[32];
    for (int i = 0; i < 50; i++) { /* partition 0 at 08:00 */
        snprintf(id, sizeof id, "a%d", i);
        CHECK(firn_dedupe_check(d, id, strlen(id), (uint64_t)i, 8 * hour + i, true) == FIRN_DEDUPE_NEW);
    }
    /* partition 1 already at 10:00 */
    CHECK(firn_dedupe_check(d, "b0", 2, 99, 10 * hour, true) == FIRN_DEDUPE_NEW);
    for (int i = 0; i < 50; i++) { /* partition 0 goes on: repeats of its own ids */
        snprintf(id, sizeof id, "a%d", i);
        CHECK_MSG(firn_dedupe_check(d, id, strlen(id), (uint64_t)i, 8 * hour + 100 + i, true) ==
                      FIRN_DEDUPE_REDELIVERY, "repeat of %s after a newer partition's event", id);
        CHECK(firn_dedupe_check(d, id, strlen(id), 1000u + (uint64_t)i, 8 * hour + 200 + i, true) ==
              FIRN_DEDUPE_CONFLICT);
    }
    /* the window still ends: an event more than an hour after an id's time is new */
    CHECK(firn_dedupe_check(d, "a0", 2, 5, 9 * hour + 1, false) == FIRN_DEDUPE_NEW);
    firn_dedupe_free(d);
}

/* The same through validation: an event, a newer event of another partition,
 * then the first event again is a redelivery, not a second trusted row. */
FIRN_TEST(validate_dedupe_redelivery_after_newer_event) {
    harness h;
    firn_config *c = rules_config();
    CHECK(c != NULL);
    CHECK_OK(harness_init(&h, c), NULL);
    const int64_t hour = 3600LL * 1000000;
    CHECK_EQ_STR(do_one(&h, "{\"id\":\"x1\",\"kind\":\"t\"}", NOW - 2 * hour), "ok");
    CHECK_EQ_STR(do_one(&h, "{\"id\":\"y1\",\"kind\":\"t\"}", NOW), "ok");
    CHECK_EQ_STR(do_one(&h, "{\"id\":\"x1\",\"kind\":\"t\"}", NOW - 2 * hour), "redelivery");
    CHECK_EQ_STR(do_one(&h, "{\"id\":\"x1\",\"kind\":\"t\",\"n\":1}", NOW - 2 * hour + 1),
                 "duplicate:id");
    harness_release(&h);
}
