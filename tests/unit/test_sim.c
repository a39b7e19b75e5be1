/* test_sim.c - the parking-lot simulator: determinism, lot consistency, images
 * that decode (libturbojpeg, libpng) to the configured size, and the ground
 * truth of bad events checked against the wire bytes by an independent mini
 * validator (jansson + a hand-written plate matcher). */
#include "sim/sim.h"
#include "test.h"

#include <jansson.h>
#include <png.h>
#include <stdlib.h>
#include <turbojpeg.h>

#define START_US 1764144000000000LL /* 2025-11-26T08:00:00Z */

static size_t image_max_bytes; /* for the next new_sim */

static firn_sim *new_sim(uint64_t seed, int w, int h, firn_sim_format fmt, double bad,
                         uint32_t slots) {
    firn_sim_options o;
    firn_sim_options_init(&o);
    o.seed = seed;
    o.width = w;
    o.height = h;
    o.format = fmt;
    o.bad_ratio = bad;
    o.slots = slots;
    o.start_us = START_US;
    o.image_max_bytes = image_max_bytes;
    firn_sim *s = NULL;
    firn_error err;
    firn_error_init(&err);
    if (firn_sim_new(&o, &s, &err) != 0) s = NULL;
    firn_error_release(&err);
    return s;
}

/* Decode an image from memory; 0 when it decodes completely without warnings. */
static int decode_jpeg(const uint8_t *p, size_t n, int *w, int *h) {
    tjhandle tj = tjInitDecompress();
    int sub, cs, rc = -1;
    if (tjDecompressHeader3(tj, p, (unsigned long)n, w, h, &sub, &cs) == 0) {
        uint8_t *px = malloc((size_t)*w * (size_t)*h * 3);
        rc = tjDecompress2(tj, p, (unsigned long)n, px, *w, 0, *h, TJPF_RGB, 0);
        free(px);
    }
    tjDestroy(tj);
    return rc;
}

static int decode_png(const uint8_t *p, size_t n, int *w, int *h) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, p, n)) return -1;
    img.format = PNG_FORMAT_RGB;
    uint8_t *px = malloc(PNG_IMAGE_SIZE(img));
    int ok = png_image_finish_read(&img, NULL, px, 0, NULL);
    free(px);
    *w = (int)img.width;
    *h = (int)img.height;
    png_image_free(&img);
    return ok && !(img.warning_or_error & 2) ? 0 : -1;
}

static int decode_any(const uint8_t *p, size_t n, int *w, int *h) {
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8) return decode_jpeg(p, n, w, h);
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return decode_png(p, n, w, h);
    return -1;
}

/* ^[0-9]{2}[A-Z]{2}[0-9]{4}$ by hand */
static bool plate_ok(const char *s) {
    size_t d = strspn(s, "0123456789");
    if (d != 2) return false;
    size_t l = strspn(s + d, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (l != 2) return false;
    size_t t = strspn(s + d + l, "0123456789");
    return t == 4 && s[d + l + t] == '\0';
}

FIRN_TEST(sim_ts_and_base64) {
    char ts[28];
    firn_sim_format_ts(0, ts);
    CHECK_EQ_STR(ts, "1970-01-01T00:00:00.000000Z");
    firn_sim_format_ts(START_US + 123456, ts);
    CHECK_EQ_STR(ts, "2025-11-26T08:00:00.123456Z");
    firn_sim_format_ts(-1, ts);
    CHECK_EQ_STR(ts, "1969-12-31T23:59:59.999999Z");
    firn_sim_format_ts(951782400000000LL, ts); /* leap day */
    CHECK_EQ_STR(ts, "2000-02-29T00:00:00.000000Z");
    int64_t us;
    firn_error err;
    firn_error_init(&err);
    CHECK_OK(firn_sim_parse_ts("2025-11-26T08:00:00Z", &us, &err), &err);
    CHECK(us == START_US);
    CHECK_OK(firn_sim_parse_ts("2025-11-26T08:00:00.5", &us, &err), &err);
    CHECK(us == START_US + 500000);
    CHECK_OK(firn_sim_parse_ts("2000-02-29", &us, &err), &err);
    CHECK(us == 951782400000000LL);
    CHECK(firn_sim_parse_ts("2025-13-01", &us, &err) != 0);
    firn_error_release(&err);
    CHECK(firn_sim_parse_ts("yesterday", &us, &err) != 0);
    firn_error_release(&err);
    /* RFC 4648 section 10 */
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                       "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        firn_buf b;
        firn_buf_init(&b);
        firn_sim_base64((const uint8_t *)in[i], strlen(in[i]), &b);
        CHECK_EQ_STR(firn_buf_cstr(&b), want[i]);
        firn_buf_release(&b);
    }
    for (int t = 0; t < FIRN_SIM_N_TRUTH; t++)
        CHECK_EQ_INT(firn_sim_truth_from_name(firn_sim_truth_name((firn_sim_truth)t)), t);
}

/* A hash of everything an event puts on the wire. */
static uint64_t wire_hash(const firn_sim_event *ev) {
    uint64_t h = firn_xxh64(ev->json, ev->json_len, 0);
    if (ev->image) h = firn_xxh64(ev->image, ev->image_len, h);
    return h;
}

FIRN_TEST(sim_same_seed_same_bytes) {
    firn_sim *a = new_sim(7, 160, 120, FIRN_SIM_JPEG, 0.2, 50);
    firn_sim *b = new_sim(7, 160, 120, FIRN_SIM_JPEG, 0.2, 50);
    firn_sim *c = new_sim(8, 160, 120, FIRN_SIM_JPEG, 0.2, 50);
    CHECK(a && b && c);
    firn_error err;
    firn_error_init(&err);
    size_t differ = 0;
    for (int i = 0; i < 400; i++) {
        const firn_sim_event *ea, *eb, *ec;
        CHECK_OK(firn_sim_next(a, &ea, &err), &err);
        uint64_t ha = wire_hash(ea);
        int ta = ea->truth;
        CHECK_OK(firn_sim_next(b, &eb, &err), &err);
        CHECK_EQ_INT(eb->truth, ta);
        CHECK_MSG(wire_hash(eb) == ha, "event %d differs between two runs of seed 7", i);
        CHECK_OK(firn_sim_next(c, &ec, &err), &err);
        differ += wire_hash(ec) != ha;
    }
    CHECK_EQ_INT(differ, 400); /* another seed: different events, every one */
    uint64_t counts[FIRN_SIM_N_TRUTH];
    firn_sim_counts(a, counts);
    CHECK_EQ_INT(counts[FIRN_SIM_IMAGE_SIZE], 0); /* only with image_max_bytes */
    CHECK(counts[FIRN_SIM_DUPLICATE] > 0 && counts[FIRN_SIM_GOOD] < 400);
    firn_sim_free(a);
    firn_sim_free(b);
    firn_sim_free(c);
}

FIRN_TEST(sim_lot_consistency) {
    /* a small lot so it fills and empties; bad events must not touch it */
    enum { SLOTS = 12, N = 4000 };
    firn_sim *s = new_sim(3, 64, 48, FIRN_SIM_JPEG, 0.1, SLOTS);
    CHECK(s);
    firn_error err;
    firn_error_init(&err);
    char parked[SLOTS][16];
    memset(parked, 0, sizeof parked);
    uint32_t occupied = 0, max_occ = 0, entries = 0, exits = 0, good = 0;
    int64_t last_ts = 0;
    for (int i = 0; i < N; i++) {
        const firn_sim_event *ev;
        CHECK_OK(firn_sim_next(s, &ev, &err), &err);
        CHECK_EQ_INT(ev->seq, i);
        if (ev->truth != FIRN_SIM_GOOD) continue;
        good++;
        CHECK_MSG(ev->ts_us > last_ts, "event %d: time goes backwards", i);
        last_ts = ev->ts_us;
        CHECK(ev->slot_id >= 0 && ev->slot_id < SLOTS);
        double x, y;
        firn_sim_slot_xy((uint32_t)ev->slot_id, &x, &y);
        CHECK(x == ev->x && y == ev->y);
        char *slot = parked[ev->slot_id];
        if (ev->entry) {
            CHECK_MSG(slot[0] == '\0', "event %d: slot %d already holds %s", i, (int)ev->slot_id,
                      slot);
            for (int k = 0; k < SLOTS; k++)
                CHECK_MSG(strcmp(parked[k], ev->car_id) != 0, "event %d: %s is already parked",
                          i, ev->car_id);
            snprintf(slot, 16, "%s", ev->car_id);
            occupied++;
            entries++;
        } else {
            CHECK_MSG(strcmp(slot, ev->car_id) == 0, "event %d: %s leaves slot %d holding '%s'",
                      i, ev->car_id, (int)ev->slot_id, slot);
            slot[0] = '\0';
            occupied--;
            exits++;
        }
        if (occupied > max_occ) max_occ = occupied;
        CHECK_EQ_INT(firn_sim_occupied(s), occupied);
    }
    uint64_t counts[FIRN_SIM_N_TRUTH], total = 0;
    firn_sim_counts(s, counts);
    for (int t = 0; t < FIRN_SIM_N_TRUTH; t++) total += counts[t];
    CHECK_EQ_INT(total, N);
    CHECK_EQ_INT(counts[FIRN_SIM_GOOD], good);
    CHECK_EQ_INT(entries - exits, occupied);
    CHECK(max_occ == SLOTS); /* the lot did fill up */
    CHECK(exits > N / 3);
    firn_sim_free(s);
}

static void check_images(firn_sim_format fmt) {
    image_max_bytes = 200000;
    firn_sim *s = new_sim(11, 640, 480, fmt, 0.25, 200);
    image_max_bytes = 0;
    CHECK(s);
    firn_error err;
    firn_error_init(&err);
    int good = 0, decode_bad = 0, limits = 0, bmp = 0, padded = 0;
    for (int i = 0; i < 240; i++) {
        const firn_sim_event *ev;
        CHECK_OK(firn_sim_next(s, &ev, &err), &err);
        int w = 0, h = 0;
        switch (ev->truth) {
        case FIRN_SIM_IMAGE_DECODE:
            CHECK_MSG(decode_any(ev->image, ev->image_len, &w, &h) != 0,
                      "event %d (%s) decodes", i, ev->variant);
            decode_bad++;
            break;
        case FIRN_SIM_IMAGE_FORMAT:
            CHECK(ev->image_len > 54 && ev->image[0] == 'B' && ev->image[1] == 'M');
            /* 640x480 subsampled by 3 to stay under the 200,000-byte limit */
            CHECK_EQ_INT(firn_load_le32(ev->image + 18), 213);
            CHECK_EQ_INT(firn_load_le32(ev->image + 22), 160);
            CHECK_EQ_INT(ev->image_width, 213);
            CHECK_EQ_INT(firn_load_le32(ev->image + 2), ev->image_len);
            CHECK(ev->image_len == 54 + 640 * 160 && ev->image_len <= 200000);
            bmp++;
            break;
        case FIRN_SIM_IMAGE_SIZE: /* padded, still the same picture */
            CHECK_MSG(decode_any(ev->image, ev->image_len, &w, &h) == 0, "event %d", i);
            CHECK(w == 640 && h == 480 && ev->image_len > 200000 && ev->image_len <= 204097);
            padded++;
            break;
        case FIRN_SIM_IMAGE_LIMITS:
            CHECK_MSG(decode_any(ev->image, ev->image_len, &w, &h) == 0, "event %d", i);
            CHECK((w == 12 && h == 9) || (w == 8200 && h == 24));
            CHECK(w == ev->image_width && h == ev->image_height);
            limits++;
            break;
        default:
            if (!ev->image) {
                CHECK(ev->truth == FIRN_SIM_REQUIRED);
                break;
            }
            CHECK_MSG(decode_any(ev->image, ev->image_len, &w, &h) == 0,
                      "event %d (%s) does not decode", i, firn_sim_truth_name(ev->truth));
            CHECK_EQ_INT(w, 640);
            CHECK_EQ_INT(h, 480);
            CHECK_EQ_STR(ev->image_ext, fmt == FIRN_SIM_PNG ? "png" : "jpg");
            good++;
        }
    }
    CHECK(good > 150 && decode_bad >= 3 && limits >= 2 && bmp >= 2 && padded >= 2);
    firn_sim_free(s);
}

FIRN_TEST(sim_jpeg_images_decode) { check_images(FIRN_SIM_JPEG); }
FIRN_TEST(sim_png_images_decode) { check_images(FIRN_SIM_PNG); }

/* What a validator sees in the wire bytes, per rule; returns the truth it finds. */
typedef struct seen_event {
    uint64_t hash;
    char id[37];
} seen_event;

static firn_sim_truth classify(const firn_sim_event *ev, double lot_w, double lot_d,
                               const seen_event *seen, size_t n_seen) {
    json_error_t je;
    json_t *o = json_loadb((const char *)ev->json, ev->json_len, 0, &je);
    if (!o) return json_error_code(&je) == json_error_invalid_utf8 ? FIRN_SIM_BAD_UTF8
                                                                   : FIRN_SIM_BAD_JSON;
    firn_sim_truth t = FIRN_SIM_GOOD;
    static const char *const req[] = {"eventId", "eventType", "timeStamp", "carId",
                                      "slotId",  "x",         "y"};
    for (int i = 0; i < 7 && t == FIRN_SIM_GOOD; i++)
        if (!json_object_get(o, req[i])) t = FIRN_SIM_REQUIRED;
    if (t == FIRN_SIM_GOOD && !ev->image) t = FIRN_SIM_REQUIRED;
    json_t *cam = json_object_get(o, "cameraId");
    if (t == FIRN_SIM_GOOD &&
        (!json_is_string(json_object_get(o, "eventId")) ||
         !json_is_string(json_object_get(o, "timeStamp")) ||
         !json_is_string(json_object_get(o, "carId")) ||
         !json_is_integer(json_object_get(o, "slotId")) ||
         !json_is_number(json_object_get(o, "x")) || !json_is_number(json_object_get(o, "y")) ||
         (cam && !json_is_string(cam))))
        t = FIRN_SIM_TYPE;
    if (t == FIRN_SIM_GOOD) {
        double x = json_number_value(json_object_get(o, "x"));
        double y = json_number_value(json_object_get(o, "y"));
        if (x < 0 || x > lot_w || y < 0 || y > lot_d) t = FIRN_SIM_RANGE;
    }
    if (t == FIRN_SIM_GOOD && !plate_ok(json_string_value(json_object_get(o, "carId"))))
        t = FIRN_SIM_PATTERN;
    if (t == FIRN_SIM_GOOD) {
        int64_t us = 0;
        firn_error err;
        firn_error_init(&err);
        if (firn_sim_parse_ts(json_string_value(json_object_get(o, "timeStamp")), &us, &err))
            t = FIRN_SIM_TYPE;
        firn_error_release(&err);
        /* "now" for this check is the simulated clock, bound one year */
        if (us > ev->ts_us + 86400000000LL) t = FIRN_SIM_FUTURE;
        else if (us < ev->ts_us - 365LL * 86400000000LL) t = FIRN_SIM_STALE;
    }
    if (t == FIRN_SIM_GOOD) {
        int w, h;
        const uint8_t *p = ev->image;
        if (ev->image_len > 2 && p[0] == 'B' && p[1] == 'M') t = FIRN_SIM_IMAGE_FORMAT;
        else if (decode_any(p, ev->image_len, &w, &h) != 0) t = FIRN_SIM_IMAGE_DECODE;
        else if (w < 16 || h < 16 || w > 4096 || h > 4096) t = FIRN_SIM_IMAGE_LIMITS;
        else if (image_max_bytes && ev->image_len > image_max_bytes) t = FIRN_SIM_IMAGE_SIZE;
    }
    if (t == FIRN_SIM_GOOD) {
        const char *id = json_string_value(json_object_get(o, "eventId"));
        for (size_t i = 0; i < n_seen; i++)
            if (strcmp(seen[i].id, id) == 0) {
                /* the variant says whether the payload is the original's */
                bool same = seen[i].hash == wire_hash(ev);
                bool says_repeat = strncmp(ev->variant, "repeat-of:", 10) == 0;
                t = same == says_repeat ? FIRN_SIM_DUPLICATE : FIRN_SIM_N_TRUTH;
                break;
            }
    }
    json_decref(o);
    return t;
}

/* The field in ev->rule ("range:y") is the field the wire bytes break. */
static bool rule_fits(const firn_sim_event *ev) {
    const char *family = firn_sim_truth_name(ev->truth);
    size_t fl = strlen(family);
    if (ev->truth == FIRN_SIM_GOOD) return ev->rule[0] == '\0';
    if (strncmp(ev->rule, family, fl) != 0) return false;
    switch (ev->truth) {
    case FIRN_SIM_REQUIRED: case FIRN_SIM_TYPE: case FIRN_SIM_RANGE: case FIRN_SIM_PATTERN:
    case FIRN_SIM_DUPLICATE: break;
    default: return ev->rule[fl] == '\0';
    }
    if (ev->rule[fl] != ':') return false;
    const char *f = ev->rule + fl + 1;
    if (ev->truth == FIRN_SIM_REQUIRED && strcmp(f, "image") == 0) return ev->image == NULL;
    json_t *o = json_loadb((const char *)ev->json, ev->json_len, 0, NULL);
    if (!o) return false;
    json_t *v = json_object_get(o, f);
    bool ok = false;
    switch (ev->truth) {
    case FIRN_SIM_REQUIRED: ok = v == NULL; break;
    case FIRN_SIM_TYPE:
        ok = v && (strcmp(f, "cameraId") == 0 ? !json_is_string(v)
                   : strcmp(f, "slotId") == 0 ? !json_is_integer(v)
                                              : !json_is_number(v));
        break;
    case FIRN_SIM_RANGE: {
        double lim = strcmp(f, "x") == 0 ? 50.0 : 60.0;
        ok = json_is_number(v) && (json_number_value(v) < 0 || json_number_value(v) > lim);
        break;
    }
    case FIRN_SIM_PATTERN:
        ok = strcmp(f, "carId") == 0 && json_is_string(v) && !plate_ok(json_string_value(v));
        break;
    default: ok = strcmp(f, "eventId") == 0 && json_is_string(v); break;
    }
    json_decref(o);
    return ok;
}

FIRN_TEST(sim_bad_events_ground_truth) {
    enum { N = 5000 };
    image_max_bytes = 65536; /* enables image:size */
    firn_sim *s = new_sim(5, 64, 48, FIRN_SIM_JPEG, 0.05, 200);
    CHECK(s);
    double lot_w, lot_d;
    firn_sim_lot_size(200, &lot_w, &lot_d);
    CHECK(lot_w == 50.0 && lot_d == 60.0);
    firn_error err;
    firn_error_init(&err);
    seen_event *seen = firn_xcalloc(N, sizeof *seen);
    size_t n_seen = 0;
    uint64_t found[FIRN_SIM_N_TRUTH] = {0};
    for (int i = 0; i < N; i++) {
        const firn_sim_event *ev;
        if (firn_sim_next(s, &ev, &err) != 0) break;
        firn_sim_truth t = classify(ev, lot_w, lot_d, seen, n_seen);
        if (t != ev->truth) {
            free(seen);
            firn_sim_free(s);
            CHECK_MSG(0, "event %d: simulator says %s (%s), validator finds %s: %.*s", i,
                      firn_sim_truth_name(ev->truth), ev->variant,
                      t < FIRN_SIM_N_TRUTH ? firn_sim_truth_name(t) : "payload (not) repeated",
                      (int)ev->json_len, ev->json);
        }
        found[t]++;
        if (!rule_fits(ev)) {
            free(seen);
            firn_sim_free(s);
            CHECK_MSG(0, "event %d: rule %s for %s", i, ev->rule, firn_sim_truth_name(ev->truth));
        }
        if (t == FIRN_SIM_GOOD) {
            seen[n_seen].hash = wire_hash(ev);
            memcpy(seen[n_seen].id, ev->event_id, 37);
            n_seen++;
        }
    }
    free(seen);
    image_max_bytes = 0;
    uint64_t counts[FIRN_SIM_N_TRUTH], bad = 0;
    firn_sim_counts(s, counts);
    firn_sim_free(s);
    for (int t = 0; t < FIRN_SIM_N_TRUTH; t++) {
        CHECK_EQ_INT(found[t], counts[t]);
        if (t) bad += counts[t];
    }
    CHECK_EQ_INT(counts[FIRN_SIM_GOOD] + bad, N);
    /* 5% of 5,000 = 250 expected; binomial sd ~15 */
    CHECK_MSG(bad >= 190 && bad <= 310, "bad = %llu", (unsigned long long)bad);
    /* kinds are dealt in shuffled rounds: every rule appears, evenly */
    for (int t = 1; t < FIRN_SIM_N_TRUTH; t++)
        CHECK_MSG(counts[t] + 1 >= bad / (FIRN_SIM_N_TRUTH - 1) &&
                      counts[t] <= bad / (FIRN_SIM_N_TRUTH - 1) + 2,
                  "%s: %llu of %llu bad", firn_sim_truth_name((firn_sim_truth)t),
                  (unsigned long long)counts[t], (unsigned long long)bad);
}

FIRN_TEST(sim_ndjson_line) {
    firn_sim *s = new_sim(9, 96, 64, FIRN_SIM_PNG, 0.5, 30);
    CHECK(s);
    firn_error err;
    firn_error_init(&err);
    int with_image = 0;
    for (int i = 0; i < 200; i++) {
        const firn_sim_event *ev;
        CHECK_OK(firn_sim_next(s, &ev, &err), &err);
        firn_buf line;
        firn_buf_init(&line);
        firn_sim_event_ndjson(ev, &line);
        CHECK(line.len > 0 && line.data[line.len - 1] == '\n');
        CHECK(memchr(line.data, '\n', line.len) == line.data + line.len - 1);
        if (firn_sim_truth_unparseable(ev->truth) || !ev->image) {
            CHECK(line.len == ev->json_len + 1 && memcmp(line.data, ev->json, ev->json_len) == 0);
            firn_buf_release(&line);
            continue;
        }
        json_t *o = json_loadb((const char *)line.data, line.len - 1, 0, NULL);
        json_t *v = json_loadb((const char *)ev->json, ev->json_len, 0, NULL);
        CHECK(o && v);
        /* the image is base64 of the bytes, and the other fields are the value's */
        firn_buf b64;
        firn_buf_init(&b64);
        firn_sim_base64(ev->image, ev->image_len, &b64);
        const char *img = json_string_value(json_object_get(o, "image"));
        CHECK(img && strlen(img) == b64.len && memcmp(img, b64.data, b64.len) == 0);
        json_object_del(o, "image");
        CHECK(json_equal(o, v));
        json_decref(o);
        json_decref(v);
        firn_buf_release(&b64);
        firn_buf_release(&line);
        with_image++;
    }
    CHECK(with_image > 80);
    firn_sim_free(s);
}

FIRN_TEST(sim_rejects_bad_options) {
    firn_sim_options o;
    firn_error err;
    firn_error_init(&err);
    firn_sim *s = NULL;
    firn_sim_options_init(&o);
    o.slots = 0;
    CHECK(firn_sim_new(&o, &s, &err) == -FIRN_ERR_INVALID && !s);
    firn_error_release(&err);
    firn_sim_options_init(&o);
    o.width = 20000;
    CHECK(firn_sim_new(&o, &s, &err) == -FIRN_ERR_INVALID && !s);
    firn_error_release(&err);
    firn_sim_options_init(&o);
    o.bad_ratio = 1.5;
    CHECK(firn_sim_new(&o, &s, &err) == -FIRN_ERR_INVALID && !s);
    firn_error_release(&err);
}
