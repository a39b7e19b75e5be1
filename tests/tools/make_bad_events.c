/* make_bad_events - writes the bad-event corpus tests/data/bad-events/ (run
 * once; the output is checked in):  build/tools/make_bad_events tests/data/bad-events
 * Each case is NAME.json, with NAME.image when the image travels in the
 * record header; MANIFEST lists "NAME expected" in processing order. */
#include "util/util.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

static const char *dir;
static FILE *manifest;

static void put(const char *name, const char *ext, const void *data, size_t len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f)) { perror(path); exit(1); }
}

static void ev(const char *name, const char *expect, const char *json, size_t len,
               const uint8_t *img, size_t img_len) {
    put(name, "json", json, len);
    if (img) put(name, "image", img, img_len);
    fprintf(manifest, "%-28s %s\n", name, expect);
}

static void evs(const char *name, const char *expect, const char *json, const uint8_t *img, size_t n) {
    ev(name, expect, json, strlen(json), img, n);
}

static uint8_t *jpeg(int w, int h, size_t *len) {
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 4); p[1] = (uint8_t)(y * 4); p[2] = (uint8_t)((x ^ y) * 8);
        }
    tjhandle tj = tjInitCompress();
    unsigned char *out = NULL;
    unsigned long n = 0;
    if (tjCompress2(tj, px, w, 0, h, TJPF_RGB, &out, &n, TJSAMP_420, 80, 0)) exit(1);
    uint8_t *copy = malloc(n);
    memcpy(copy, out, n);
    tjFree(out);
    tjDestroy(tj);
    free(px);
    *len = n;
    return copy;
}

static uint8_t *png(int w, int h, bool noise, size_t *len) {
    uint8_t *px = malloc((size_t)w * h * 3);
    uint32_t r = 12345;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        r = r * 1103515245 + 12345;
        px[i] = noise ? (uint8_t)(r >> 16) : (uint8_t)(i * 7 / 3);
    }
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    pi.width = (png_uint_32)w;
    pi.height = (png_uint_32)h;
    pi.format = PNG_FORMAT_RGB;
    png_alloc_size_t n = 0;
    if (!png_image_write_to_memory(&pi, NULL, &n, 0, px, 0, NULL)) exit(1);
    uint8_t *out = malloc(n);
    if (!png_image_write_to_memory(&pi, out, &n, 0, px, 0, NULL)) exit(1);
    free(px);
    *len = n;
    return out;
}

static char *b64(const uint8_t *p, size_t n) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc(n / 3 * 4 + 8), *q = o;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *q++ = a[v >> 18]; *q++ = a[(v >> 12) & 63]; *q++ = a[(v >> 6) & 63]; *q++ = a[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        *q++ = a[v >> 18]; *q++ = a[(v >> 12) & 63]; *q++ = '='; *q++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        *q++ = a[v >> 18]; *q++ = a[(v >> 12) & 63]; *q++ = a[(v >> 6) & 63]; *q++ = '=';
    }
    *q = 0;
    return o;
}

/* A parking event; fields given as JSON text fragments (NULL = left out). */
static char *event(const char *id, const char *type, const char *ts, const char *car,
                   const char *slot, const char *x, const char *y, const char *cam,
                   const char *extra) {
    firn_buf b = {0};
    firn_buf_append_str(&b, "{");
    const char *names[] = {"eventId", "eventType", "timeStamp", "carId", "slotId", "x", "y", "cameraId"};
    const char *vals[] = {id, type, ts, car, slot, x, y, cam};
    bool first = true;
    for (int i = 0; i < 8; i++) {
        if (!vals[i]) continue;
        firn_buf_appendf(&b, "%s\"%s\":%s", first ? "" : ",", names[i], vals[i]);
        first = false;
    }
    if (extra) firn_buf_appendf(&b, ",%s", extra);
    firn_buf_append_str(&b, "}");
    return firn_buf_cstr(&b);
}

#define ID(n) "\"4f1c2d3e-0000-4000-8000-0000000000" #n "\""
#define ENTRY "\"parking-entry\""
#define TS "\"2026-11-26T11:59:30.123456Z\""
#define CAR "\"12GA3456\""
#define STD(id) id, ENTRY, TS, CAR, "17", "42.5", "13.25", "\"gate-1\""

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: make_bad_events DIR\n"); return 2; }
    dir = argv[1];
    char path[512];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    manifest = fopen(path, "w");
    fprintf(manifest,
            "# The bad-event corpus: NAME expected-outcome, processed in this order through\n"
            "# parse + validate with firn.yaml from this directory and one dedupe window per type.\n"
            "# NAME.json is the record value; NAME.image, when present, the record header `image`.\n"
            "# Outcomes: ok | redelivery | parse:<reason> | route:missing | route:unknown-type |\n"
            "# rule,rule,... (the failed rules in field order). Regenerate with\n"
            "# build/tools/make_bad_events tests/data/bad-events\n"
            "now 2026-11-26T12:00:00Z\n");
    size_t jl, pl, sl, nl;
    uint8_t *j = jpeg(64, 48, &jl), *p = png(40, 30, false, &pl), *small = jpeg(8, 8, &sl);
    uint8_t *noisy = png(160, 160, true, &nl);
    char *e;

    e = event(STD(ID(01)), NULL); evs("good-entry", "ok", e, j, jl);
    char *good = e;
    e = event(ID(02), "\"parking-exit\"", TS, "\"98ZZ0001\"", "3", "0", "60", "\"gate-2\"", NULL);
    evs("good-exit-png", "ok", e, p, pl); free(e);
    {
        char *b = b64(p, pl);
        firn_buf x = {0};
        firn_buf_appendf(&x, "\"image\":\"%s\"", b);
        e = event(STD(ID(03)), firn_buf_cstr(&x)); evs("good-base64-image", "ok", e, NULL, 0); free(e);
        firn_buf_release(&x);
        free(b);
    }
    e = event(ID(04), ENTRY, TS, "\"\\u00312GA3456\"", "17", "4.25e1", "1.325E1", "\"gate\\/1 \\ud83d\\ude97\"", NULL);
    evs("good-escapes", "ok", e, j, jl); free(e);
    e = event(ID(05), ENTRY, "\"2026-11-26T12:02:00+00:00\"", CAR, "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("clock-skew-within", "ok", e, j, jl); free(e);

    evs("malformed-unclosed", "parse:syntax", "{\"eventId\":\"a\",\"eventType\":\"parking-entry\"", j, jl);
    evs("malformed-trailing-comma", "parse:syntax", "{\"eventId\":\"a\",}", NULL, 0);
    evs("malformed-single-quotes", "parse:syntax", "{'eventId':'a'}", NULL, 0);
    evs("malformed-garbage-after", "parse:syntax", "{\"eventId\":\"a\"} x", NULL, 0);
    evs("malformed-bare-word", "parse:syntax", "{\"eventId\":nope}", NULL, 0);
    evs("malformed-number", "parse:syntax", "{\"slotId\":01}", NULL, 0);
    evs("malformed-control-char", "parse:syntax", "{\"carId\":\"12\tGA\"}", NULL, 0);
    evs("empty", "parse:empty", "", NULL, 0);
    evs("whitespace-only", "parse:empty", " \n\t ", NULL, 0);
    evs("not-object-array", "parse:not-object", "[1,2,3]", NULL, 0);
    evs("not-object-string", "parse:not-object", "\"parking-entry\"", NULL, 0);
    evs("duplicate-key", "parse:duplicate-key", "{\"eventType\":\"parking-entry\",\"eventType\":\"parking-exit\"}", NULL, 0);
    evs("invalid-utf8", "parse:invalid-utf8", "{\"carId\":\"12G\xC3\x28" "3456\"}", NULL, 0);
    evs("invalid-utf8-overlong", "parse:invalid-utf8", "{\"carId\":\"\xC0\xAF\"}", NULL, 0);
    evs("invalid-utf8-outside-string", "parse:invalid-utf8", "{\"carId\":\xFF}", NULL, 0);
    evs("lone-surrogate", "parse:invalid-utf8", "{\"carId\":\"\\ud800x\"}", NULL, 0);
    {
        firn_buf x = {0};
        firn_buf_append_str(&x, "{\"eventType\":\"parking-entry\",\"extra\":");
        for (int i = 0; i < 40; i++) firn_buf_append_str(&x, "[");
        for (int i = 0; i < 40; i++) firn_buf_append_str(&x, "]");
        firn_buf_append_str(&x, "}");
        ev("deep-nesting", "parse:too-deep", (char *)x.data, x.len, NULL, 0);
        firn_buf_clear(&x);
        firn_buf_append_str(&x, "{\"eventType\":\"parking-entry\",\"cameraId\":\"");
        for (int i = 0; i < 10000; i++) firn_buf_put_u8(&x, 'c');
        firn_buf_append_str(&x, "\"}");
        ev("huge-field", "parse:field-too-large", (char *)x.data, x.len, NULL, 0);
        firn_buf_clear(&x);
        firn_buf_append_str(&x, "{\"eventType\":\"parking-entry\"");
        for (int i = 0; i < 100; i++) firn_buf_appendf(&x, ",\"f%d\":%d", i, i);
        firn_buf_append_str(&x, "}");
        ev("too-many-fields", "parse:too-many-fields", (char *)x.data, x.len, NULL, 0);
        firn_buf_clear(&x);
        firn_buf_append_str(&x, "{\"eventType\":\"parking-entry\"");
        for (int i = 0; i < 60; i++) {
            firn_buf_appendf(&x, ",\"pad%d\":\"", i);
            for (int k = 0; k < 5000; k++) firn_buf_put_u8(&x, 'p');
            firn_buf_append_str(&x, "\"");
        }
        firn_buf_append_str(&x, "}");
        ev("oversized-event", "parse:too-large", (char *)x.data, x.len, NULL, 0);
        firn_buf_release(&x);
    }
    e = event(ID(10), NULL, TS, CAR, "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("no-route-field", "route:missing", e, j, jl); free(e);
    e = event(ID(11), "\"parking-teleport\"", TS, CAR, "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("unknown-type", "route:unknown-type", e, j, jl); free(e);

    e = event(ID(20), ENTRY, TS, CAR, "\"17\"", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("wrong-type-slot-string", "type:slotId", e, j, jl); free(e);
    e = event(ID(21), ENTRY, TS, CAR, "17.5", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("wrong-type-slot-fraction", "type:slotId", e, j, jl); free(e);
    e = event(ID(22), ENTRY, TS, CAR, "17", "true", "[13]", "\"gate-1\"", NULL);
    evs("wrong-type-x-y", "type:x,type:y", e, j, jl); free(e);
    e = event(ID(23), ENTRY, "\"2026-11-26T11:59:30\"", CAR, "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("wrong-type-ts-no-zone", "type:timeStamp", e, j, jl); free(e);
    e = event(ID(24), ENTRY, "\"2026-02-30T11:59:30Z\"", CAR, "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("wrong-type-ts-feb-30", "type:timeStamp", e, j, jl); free(e);
    e = event(ID(25), ENTRY, "1764158370", CAR, "17", "42.5", "13.25", "{\"id\":1}", NULL);
    evs("wrong-type-ts-number", "type:timeStamp,type:cameraId", e, j, jl); free(e);
    e = event(ID(26), ENTRY, TS, CAR, "4294967296", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("wrong-type-slot-overflow", "type:slotId", e, j, jl); free(e);

    e = event(ID(30), ENTRY, TS, NULL, "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("missing-car", "required:carId", e, j, jl); free(e);
    e = event(NULL, ENTRY, TS, NULL, "17", NULL, "13.25", "\"gate-1\"", NULL);
    evs("missing-several", "required:eventId,required:carId,required:x", e, j, jl); free(e);
    e = event(ID(32), ENTRY, TS, CAR, "17", "42.5", "13.25", "null", NULL);
    evs("null-camera", "required:cameraId", e, j, jl); free(e);
    e = event(ID(33), ENTRY, TS, CAR, "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("missing-image", "required:image", e, NULL, 0); free(e);

    e = event(ID(40), ENTRY, TS, CAR, "17", "-0.5", "13.25", "\"gate-1\"", NULL);
    evs("range-x-negative", "range:x", e, j, jl); free(e);
    e = event(ID(41), ENTRY, TS, CAR, "-1", "42.5", "100.01", "\"gate-1\"", NULL);
    evs("range-slot-and-y", "range:slotId,range:y", e, j, jl); free(e);
    e = event(ID(42), ENTRY, TS, "\"12-GA-3456\"", "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("pattern-car", "pattern:carId", e, j, jl); free(e);
    e = event(ID(43), ENTRY, TS, "\"12GA34567\"", "17", "1e3", "13.25", "\"gate-1\"", NULL);
    evs("pattern-and-range", "pattern:carId,range:x", e, j, jl); free(e);
    e = event(ID(44), ENTRY, TS, "\"12GA3456\\u0000\"", "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("pattern-embedded-nul", "pattern:carId", e, j, jl); free(e);

    e = event(ID(50), ENTRY, "\"2026-11-26T13:00:00Z\"", CAR, "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("clock-skew-future", "timestamp:future", e, j, jl); free(e);
    e = event(ID(51), ENTRY, "\"2026-11-26T12:59:30+01:00\"", CAR, "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("clock-skew-zone-ok", "ok", e, j, jl); free(e);
    e = event(ID(52), ENTRY, "\"2026-10-01T00:00:00Z\"", CAR, "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("too-old", "timestamp:too-old", e, j, jl); free(e);

    e = event(ID(60), ENTRY, TS, CAR, "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("image-truncated-jpeg", "image:decode", e, j, jl / 2);
    evs("image-truncated-jpeg-tail", "image:decode", e, j, jl - 2);
    evs("image-truncated-png", "image:decode", e, p, pl / 2);
    evs("image-truncated-png-header", "image:decode", e, p, 20);
    {
        uint8_t fake[300];
        memcpy(fake, j, 3);
        for (int i = 3; i < 300; i++) fake[i] = (uint8_t)(i * 37);
        evs("image-fake-jpeg", "image:decode", e, fake, sizeof fake);
        memcpy(fake, p, 33);
        for (int i = 33; i < 300; i++) fake[i] = (uint8_t)(i * 13);
        evs("image-fake-png", "image:decode", e, fake, sizeof fake);
        uint8_t *corrupt = malloc(jl);
        memcpy(corrupt, j, jl);
        for (size_t i = jl / 2; i < jl / 2 + 64; i++) corrupt[i] ^= 0x5A;
        evs("image-corrupt-jpeg", "image:decode", e, corrupt, jl);
        free(corrupt);
        corrupt = malloc(pl);
        memcpy(corrupt, p, pl);
        corrupt[pl / 2] ^= 0xFF; /* breaks the IDAT CRC */
        evs("image-corrupt-png", "image:decode", e, corrupt, pl);
        free(corrupt);
    }
    evs("image-text", "image:decode", e, (const uint8_t *)"this is not an image\n", 21);
    evs("image-gif", "image:format", e, (const uint8_t *)"GIF89a\x10\x00\x10\x00\x80\x00\x00", 13);
    evs("image-too-small", "image:dimensions", e, small, sl);
    evs("image-too-many-bytes", "image:size", e, noisy, nl);
    free(e);
    e = event(STD(ID(61)), "\"image\":\"not base64!\""); evs("image-bad-base64", "image:decode", e, NULL, 0); free(e);
    e = event(STD(ID(62)), "\"image\":12345"); evs("image-not-a-string", "type:image", e, NULL, 0); free(e);

    e = event(ID(01), ENTRY, TS, "\"34XY5678\"", "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("duplicate-id-new-payload", "duplicate:eventId", e, j, jl); free(e);
    evs("duplicate-redelivery", "redelivery", good, j, jl);
    evs("duplicate-same-json-new-image", "duplicate:eventId", good, p, pl);
    e = event(ID(01), "\"parking-exit\"", TS, CAR, "17", "42.5", "13.25", "\"gate-1\"", NULL);
    evs("same-id-other-type", "ok", e, j, jl); free(e);
    free(good);
    fclose(manifest);
    free(j); free(p); free(small); free(noisy);
    return 0;
}
