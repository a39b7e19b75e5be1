/* bench_validate.c - parse + validate speed of parking events (`make bench-validate`).
 *
 *   bench_validate [N]      (N small events, default 200000)
 *
 * Small events (~250 bytes, no image) through firn_event_parse +
 * firn_validate with the default parking-entry rules and a dedupe window,
 * against jansson's json_loadb (parse into a tree, then free) of the same
 * bytes: the pipeline needs well under a microsecond per event. Then camera
 * images (640x480 JPEG, about 100 KiB) through the image rules at each decode
 * level against libturbojpeg's tjDecompress2 of the same bytes alone. Each
 * figure is the best of 3 runs, measured in this run. */
#include "pipeline/validate.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

static double now_s(void) { return (double)firn_now_ns() / 1e9; }

static char **events;
static size_t *lens;

static void make_events(size_t n) {
    events = malloc(n * sizeof *events);
    lens = malloc(n * sizeof *lens);
    uint32_t r = 1;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        char buf[400];
        r = r * 1103515245 + 12345;
        int len = snprintf(buf, sizeof buf,
                           "{\"eventId\":\"%08x-%04x-4%03x-8%03x-%012zx\",\"eventType\":\"parking-entry\","
                           "\"timeStamp\":\"2026-11-26T11:%02zu:%02zu.%06zuZ\",\"carId\":\"%02u%c%c%04u\","
                           "\"slotId\":%u,\"x\":%u.%02u,\"y\":%u.%u,\"cameraId\":\"gate-%u\"}",
                           r, (unsigned)(i & 0xffff), (unsigned)(i % 4096), (unsigned)(r % 4096), i,
                           i / 60 % 60, i % 60, i * 7 % 1000000, r % 100, 'A' + r % 26,
                           'A' + (r >> 8) % 26, (r >> 4) % 10000, r % 200, r % 200, r % 100,
                           (r >> 3) % 100, (r >> 5) % 10, r % 4);
        events[i] = malloc((size_t)len);
        memcpy(events[i], buf, (size_t)len);
        lens[i] = (size_t)len;
        total += (size_t)len;
    }
    printf("events: %zu, mean %.0f bytes\n", n, (double)total / (double)n);
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 200000;
    make_events(n);
    firn_config *cfg = firn_config_new_default();
    firn_error err;
    firn_error_init(&err);
    firn_validator *v = firn_validator_new(&cfg->types[0], &err);
    /* small events carry no image here: validate against a copy of the type
     * without the image field (the image column has its own figure below) */
    firn_config_type t = cfg->types[0];
    t.nfields = 8;
    firn_validator *vs = firn_validator_new(&t, &err);
    firn_dedupe *dd = firn_dedupe_new(1000000, cfg->dedupe_window_us);
    firn_event ev;
    firn_event_init(&ev);
    firn_event_limits lim;
    firn_event_limits_from_config(&lim, cfg);
    firn_validation res;
    int64_t now = 1795694400000000LL;

    double best_parse = 1e9, best_val = 1e9, best_jansson = 1e9;
    size_t failed = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        for (size_t i = 0; i < n; i++)
            if (firn_event_parse(&ev, events[i], lens[i], &lim)) failed++;
        double t1 = now_s();
        firn_dedupe_clear(dd);
        double t2 = now_s();
        for (size_t i = 0; i < n; i++) {
            if (firn_event_parse(&ev, events[i], lens[i], &lim)) { failed++; continue; }
            firn_validate(vs, &ev, NULL, 0, now, dd, &res, &err);
            failed += res.nfailed != 0 || res.redelivery;
        }
        double t3 = now_s();
        for (size_t i = 0; i < n; i++) {
            json_t *j = json_loadb(events[i], lens[i], 0, NULL);
            if (!j) failed++;
            json_decref(j);
        }
        double t4 = now_s();
        if (t1 - t0 < best_parse) best_parse = t1 - t0;
        if (t3 - t2 < best_val) best_val = t3 - t2;
        if (t4 - t3 < best_jansson) best_jansson = t4 - t3;
    }
    if (failed) {
        fprintf(stderr, "bench_validate: %zu events failed\n", failed);
        return 1;
    }
    double eps_parse = (double)n / best_parse, eps_val = (double)n / best_val,
           eps_j = (double)n / best_jansson;
    printf("parse: %.0f ns/event; parse+validate: %.0f ns/event; jansson json_loadb: %.0f ns/event\n",
           best_parse / (double)n * 1e9, best_val / (double)n * 1e9, best_jansson / (double)n * 1e9);
    printf("bench parse-small: %.0f events/s vs jansson-parse %.0f events/s = %.2fx\n", eps_parse,
           eps_j, eps_parse / eps_j);
    printf("bench validate-small: %.0f events/s vs jansson-parse %.0f events/s = %.2fx\n", eps_val,
           eps_j, eps_val / eps_j);

    /* images: 640x480 camera-like JPEG */
    int w = 640, h = 480;
    uint8_t *px = malloc((size_t)w * h * 3);
    uint32_t r = 9;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            r = r * 1103515245 + 12345;
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            int noise = (int)(r >> 28);
            p[0] = (uint8_t)(x / 3 + noise);
            p[1] = (uint8_t)(y / 2 + noise);
            p[2] = (uint8_t)(((x / 40) ^ (y / 40)) * 30 + noise);
        }
    tjhandle tc = tjInitCompress();
    unsigned char *jpg = NULL;
    unsigned long jl = 0;
    tjCompress2(tc, px, w, 0, h, TJPF_RGB, &jpg, &jl, TJSAMP_420, 92, 0);
    tjDestroy(tc);
    printf("image: %dx%d JPEG, %lu bytes\n", w, h, jl);
    const char *json = "{\"eventId\":\"x\",\"eventType\":\"parking-entry\",\"timeStamp\":"
                       "\"2026-11-26T11:00:00Z\",\"carId\":\"12GA3456\",\"slotId\":1,\"x\":1,"
                       "\"y\":2,\"cameraId\":\"c\"}";
    if (firn_event_parse(&ev, json, strlen(json), &lim)) return 1;
    int reps = 200;
    tjhandle td = tjInitDecompress();
    double best_ref = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        for (int i = 0; i < reps; i++)
            if (tjDecompress2(td, jpg, jl, px, w, 0, h, TJPF_RGB, 0)) return 1;
        double t1 = now_s();
        if (t1 - t0 < best_ref) best_ref = t1 - t0;
    }
    double ref_mbs = (double)jl * reps / best_ref / 1e6;
    static const char *const levels[] = {"full", "scaled", "header"};
    firn_config_field *img = &cfg->types[0].fields[8];
    for (int lvl = 0; lvl < 3; lvl++) {
        img->decode = (firn_image_decode)lvl;
        double best = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = now_s();
            for (int i = 0; i < reps; i++) {
                firn_validate(v, &ev, jpg, jl, now, NULL, &res, &err);
                if (res.nfailed) { fprintf(stderr, "image failed: %s\n", res.failed[0]); return 1; }
            }
            double t1 = now_s();
            if (t1 - t0 < best) best = t1 - t0;
        }
        double mbs = (double)jl * reps / best / 1e6;
        printf("bench validate-image-%s: %.1f MB/s (%.0f images/s, sha256 included) vs "
               "tjDecompress2 %.1f MB/s = %.2fx\n",
               levels[lvl], mbs, reps / best, ref_mbs, mbs / ref_mbs);
    }
    tjDestroy(td);
    tjFree(jpg);
    free(px);
    for (size_t i = 0; i < n; i++) free(events[i]);
    free(events);
    free(lens);
    firn_event_release(&ev);
    firn_validator_free(v);
    firn_validator_free(vs);
    firn_dedupe_free(dd);
    firn_config_free(cfg);
    return 0;
}
