/*
 * sim.c - the parking-lot simulation: lot state, event fields, the bad events
 * (one broken rule each) and the wire form (JSON value + image bytes).
 *
 * Determinism: every random choice comes from one xoshiro256** generator
 * seeded with splitmix64(seed), drawn in a fixed order per event; rendering
 * and encoding are pure functions of the scene. So the same options give the
 * same bytes (unless start_us = 0, the live clock).
 */
#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define RING 256
#define N_BAD (FIRN_SIM_N_TRUTH - 1)
#define TEN_YEARS_US (3652LL * 86400LL * 1000000LL)
#define RANGE_FAR 1000.0 /* metres beyond the lot for x/y too large */

static const char *const truth_names[FIRN_SIM_N_TRUTH] = {
    [FIRN_SIM_GOOD] = "good",
    [FIRN_SIM_REQUIRED] = "required",
    [FIRN_SIM_TYPE] = "type",
    [FIRN_SIM_RANGE] = "range",
    [FIRN_SIM_PATTERN] = "pattern",
    [FIRN_SIM_FUTURE] = "timestamp:future",
    [FIRN_SIM_STALE] = "timestamp:too-old",
    [FIRN_SIM_IMAGE_DECODE] = "image:decode",
    [FIRN_SIM_IMAGE_FORMAT] = "image:format",
    [FIRN_SIM_IMAGE_LIMITS] = "image:dimensions",
    [FIRN_SIM_IMAGE_SIZE] = "image:size",
    [FIRN_SIM_DUPLICATE] = "duplicate",
    [FIRN_SIM_BAD_JSON] = "parse:syntax",
    [FIRN_SIM_BAD_UTF8] = "parse:invalid-utf8",
};

const char *firn_sim_truth_name(firn_sim_truth t) {
    return (unsigned)t < FIRN_SIM_N_TRUTH ? truth_names[t] : "?";
}

int firn_sim_truth_from_name(const char *name) {
    for (int i = 0; i < FIRN_SIM_N_TRUTH; i++)
        if (strcmp(truth_names[i], name) == 0) return i;
    return -1;
}

bool firn_sim_truth_unparseable(firn_sim_truth t) {
    return t == FIRN_SIM_BAD_JSON || t == FIRN_SIM_BAD_UTF8;
}

void firn_sim_options_init(firn_sim_options *o) {
    memset(o, 0, sizeof *o);
    o->seed = 42;
    o->slots = 200;
    o->width = 640;
    o->height = 480;
    o->format = FIRN_SIM_JPEG;
    o->jpeg_quality = 85;
    o->mean_gap_us = 1000000;
}

void firn_sim_lot_size(uint32_t slots, double *width_m, double *depth_m) {
    uint32_t rows = (slots + FIRN_SIM_ROW_SLOTS - 1) / FIRN_SIM_ROW_SLOTS;
    uint32_t cols = slots < FIRN_SIM_ROW_SLOTS ? slots : FIRN_SIM_ROW_SLOTS;
    *width_m = cols * 2.5;
    *depth_m = rows * 6.0;
}

void firn_sim_slot_xy(uint32_t slot, double *x, double *y) {
    *x = (slot % FIRN_SIM_ROW_SLOTS) * 2.5 + 1.25;
    *y = (slot / FIRN_SIM_ROW_SLOTS) * 6.0 + 2.5;
}

/* ------------------------------------------------------------ time */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void firn_sim_format_ts(int64_t us, char out[28]) {
    int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int64_t frac = us - secs * 1000000;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y < 0) y = 0;
    if (y > 9999) y = 9999;
    /* by hand: fixed width, and no format-truncation analysis to appease */
    unsigned v[7] = {(unsigned)y, m, d, (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60),
                     (unsigned)(sod % 60), (unsigned)frac};
    static const int width[7] = {4, 2, 2, 2, 2, 2, 6};
    static const char sep[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
    char *o = out;
    for (int i = 0; i < 7; i++) {
        for (int k = width[i] - 1; k >= 0; k--) {
            o[k] = (char)('0' + v[i] % 10);
            v[i] /= 10;
        }
        o += width[i];
        *o++ = sep[i];
    }
    *o = '\0';
}

int firn_sim_parse_ts(const char *s, int64_t *us, firn_error *err) {
    if (strcmp(s, "now") == 0) {
        *us = firn_now_us();
        return 0;
    }
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) goto bad;
    const char *p = s + 10;
    if (*p == 'T' || *p == ' ') {
        if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8) goto bad;
        p += 9;
    }
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 6) frac = frac * 10 + (*p - '0');
        if (digits == 0) goto bad;
        for (; digits < 6; digits++) frac *= 10;
    }
    if (*p == 'Z') p++;
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) goto bad;
    *us = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec) *
           1000000) + frac;
    return 0;
bad:
    return FIRN_RAISE(err, FIRN_ERR_INVALID,
                      "time '%s': expected YYYY-MM-DDTHH:MM:SS[.ffffff][Z] (UTC) or 'now'", s);
}

/* ------------------------------------------------------------ base64 */

void firn_sim_base64(const uint8_t *data, size_t n, firn_buf *out) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t *o = firn_buf_extend(out, (n + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        *o++ = (uint8_t)tab[v >> 18];
        *o++ = (uint8_t)tab[(v >> 12) & 63];
        *o++ = (uint8_t)tab[(v >> 6) & 63];
        *o++ = (uint8_t)tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < n ? (uint32_t)data[i + 1] << 8 : 0);
        *o++ = (uint8_t)tab[v >> 18];
        *o++ = (uint8_t)tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? (uint8_t)tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
}

/* ------------------------------------------------------------ state */

typedef struct stored_event { /* enough to re-create a good event byte for byte */
    uint64_t seq;
    char event_id[37];
    bool entry;
    int64_t ts_us;
    char car_id[16];
    int32_t slot;
    uint32_t rgb;
    int shift;
} stored_event;

typedef struct parked_car {
    char plate[16];
    uint32_t rgb;
    uint64_t hash;
} parked_car;

struct firn_sim {
    firn_sim_options o;
    uint64_t rng[4];
    firn_sim_renderer *r, *r_small, *r_wide;
    parked_car *cars;  /* per slot */
    int32_t *occ_pos;  /* per slot: index in occ, -1 when free */
    uint32_t *occ;     /* occupied slots */
    uint32_t n_occ;
    int64_t clock_us;
    uint64_t seq;
    uint64_t counts[FIRN_SIM_N_TRUTH];
    uint64_t variants[FIRN_SIM_N_TRUTH];
    stored_event ring[RING];
    size_t ring_n, ring_next;
    firn_sim_truth perm[N_BAD];
    size_t perm_pos, n_kinds; /* kinds enabled (image:size only with image_max_bytes) */
    firn_buf json, image;
    firn_sim_event ev;
    char variant[48];
    char rule[48];
    char bad_plate[24];
};

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rnd(firn_sim *s) { /* xoshiro256** */
    uint64_t *st = s->rng;
    uint64_t result = rotl(st[1] * 5, 7) * 9, t = st[1] << 17;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 45);
    return result;
}

static uint64_t below(firn_sim *s, uint64_t n) { return n ? rnd(s) % n : 0; }
static double unit(firn_sim *s) { return (double)(rnd(s) >> 11) * 0x1.0p-53; }

static void shuffle_kinds(firn_sim *s) {
    s->n_kinds = 0;
    for (int t = 1; t < FIRN_SIM_N_TRUTH; t++)
        if (t != FIRN_SIM_IMAGE_SIZE || s->o.image_max_bytes > 0)
            s->perm[s->n_kinds++] = (firn_sim_truth)t;
    for (size_t i = s->n_kinds - 1; i > 0; i--) {
        size_t j = (size_t)below(s, i + 1);
        firn_sim_truth t = s->perm[i];
        s->perm[i] = s->perm[j];
        s->perm[j] = t;
    }
    s->perm_pos = 0;
}

int firn_sim_new(const firn_sim_options *o, firn_sim **out, firn_error *err) {
    *out = NULL;
    if (o->slots < 1 || o->slots > 10000000)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "lot size %u: must be 1..10000000 slots", o->slots);
    if (o->width < 32 || o->height < 32 || o->width > 8192 || o->height > 8192)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "image size %dx%d: each side must be 32..8192",
                          o->width, o->height);
    if (o->format != FIRN_SIM_JPEG && o->format != FIRN_SIM_PNG)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "image format %d: jpeg or png", (int)o->format);
    if (o->jpeg_quality < 1 || o->jpeg_quality > 100)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "JPEG quality %d: must be 1..100", o->jpeg_quality);
    if (!(o->bad_ratio >= 0 && o->bad_ratio <= 1))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "bad-event ratio %g: must be 0..1", o->bad_ratio);
    if (o->image_max_bytes > ((size_t)1 << 30))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "image max bytes %zu: at most 1 GiB",
                          o->image_max_bytes);
    if (o->mean_gap_us < 1)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "mean gap %lld us: must be positive",
                          (long long)o->mean_gap_us);
    firn_sim *s = firn_xcalloc(1, sizeof *s);
    s->o = *o;
    uint64_t x = o->seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
    int rc = firn_sim_renderer_new(o->width, o->height, &s->r, err);
    if (rc) {
        free(s);
        return rc;
    }
    s->cars = firn_xcalloc(o->slots, sizeof *s->cars);
    s->occ_pos = firn_xmalloc(o->slots * sizeof *s->occ_pos);
    for (uint32_t i = 0; i < o->slots; i++) s->occ_pos[i] = -1;
    s->occ = firn_xmalloc(o->slots * sizeof *s->occ);
    s->clock_us = o->start_us;
    shuffle_kinds(s);
    *out = s;
    return 0;
}

void firn_sim_free(firn_sim *s) {
    if (!s) return;
    firn_sim_renderer_free(s->r);
    firn_sim_renderer_free(s->r_small);
    firn_sim_renderer_free(s->r_wide);
    free(s->cars);
    free(s->occ_pos);
    free(s->occ);
    firn_buf_release(&s->json);
    firn_buf_release(&s->image);
    free(s);
}

void firn_sim_counts(const firn_sim *s, uint64_t counts[FIRN_SIM_N_TRUTH]) {
    memcpy(counts, s->counts, sizeof s->counts);
}

uint32_t firn_sim_occupied(const firn_sim *s) { return s->n_occ; }

/* ------------------------------------------------------------ cars */

/* The two-letter syllables of civilian plates (ga na da ra ma, go no do ro mo
 * bo so jo, gu nu du ru mu bu su ju; ha for rentals): the plate pattern is
 * FIRN_SIM_CAR_PATTERN, as the example 12GA3456. */
static const char *const syllables[] = {
    "GA", "NA", "DA", "RA", "MA", "GO", "NO", "DO", "RO", "MO", "BO",
    "SO", "JO", "GU", "NU", "DU", "RU", "MU", "BU", "SU", "JU", "HA",
};
static const uint32_t palette[] = {
    0xF2F2F2, 0x1C1C1C, 0xB8BCC0, 0x70757A, 0xB0201C, 0x1F4E9C,
    0x1A2A4A, 0x2E6B3A, 0xC8B48C, 0xE8C020, 0xD86A1E, 0x5A3A28,
};

static void make_plate(firn_sim *s, char out[16]) {
    unsigned head = 10 + (unsigned)below(s, 90);
    const char *syl = syllables[below(s, sizeof syllables / sizeof syllables[0])];
    unsigned tail = 1 + (unsigned)below(s, 9999);
    snprintf(out, 16, "%u%s%04u", head, syl, tail);
}

static bool plate_parked(const firn_sim *s, const char *plate, uint64_t h) {
    for (uint32_t i = 0; i < s->n_occ; i++) {
        const parked_car *c = &s->cars[s->occ[i]];
        if (c->hash == h && strcmp(c->plate, plate) == 0) return true;
    }
    return false;
}

static void make_uuid(firn_sim *s, char out[37]) {
    uint8_t b[16];
    uint64_t a = rnd(s), c = rnd(s);
    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
}

/* One step of the lot: a car enters a free slot or a parked car leaves. */
static void simulate_step(firn_sim *s, firn_sim_event *ev, int *shift) {
    uint32_t n = s->o.slots, occ = s->n_occ;
    bool entry;
    if (occ == 0) entry = true;
    else if (occ == n) entry = false;
    else {
        double p = 0.5 + 0.8 * (0.7 - (double)occ / n); /* drift towards 70% full */
        if (p < 0.05) p = 0.05;
        if (p > 0.95) p = 0.95;
        entry = unit(s) < p;
    }
    ev->entry = entry;
    if (entry) {
        uint32_t slot = (uint32_t)below(s, n);
        while (s->occ_pos[slot] >= 0) slot = (slot + 1) % n;
        parked_car *c = &s->cars[slot];
        do {
            make_plate(s, c->plate);
            c->hash = firn_xxh64(c->plate, strlen(c->plate), 0);
        } while (plate_parked(s, c->plate, c->hash));
        c->rgb = palette[below(s, sizeof palette / sizeof palette[0])];
        s->occ_pos[slot] = (int32_t)s->n_occ;
        s->occ[s->n_occ++] = slot;
        ev->slot_id = (int32_t)slot;
    } else {
        uint32_t idx = (uint32_t)below(s, occ);
        uint32_t slot = s->occ[idx];
        uint32_t last = s->occ[--s->n_occ];
        s->occ[idx] = last;
        s->occ_pos[last] = (int32_t)idx;
        s->occ_pos[slot] = -1;
        ev->slot_id = (int32_t)slot;
    }
    const parked_car *c = &s->cars[ev->slot_id];
    memcpy(ev->car_id, c->plate, sizeof ev->car_id);
    ev->car_rgb = c->rgb;
    *shift = (int)below(s, 21) - 10;
}

/* ------------------------------------------------------------ wire form */

enum { F_ID, F_TYPE, F_TS, F_CAR, F_SLOT, F_X, F_Y, F_CAM, F_N };
static const char *const field_names[F_N] = {"eventId", "eventType", "timeStamp", "carId",
                                             "slotId",  "x",         "y",         "cameraId"};

typedef struct fields {
    char text[F_N][64]; /* JSON value text */
    bool present[F_N];
    bool quote_keys;    /* false: {eventId:...} (malformed) */
    bool trailing_comma;
} fields;

static void fields_from_event(const firn_sim_event *ev, fields *f) {
    char ts[28];
    firn_sim_format_ts(ev->ts_us, ts);
    snprintf(f->text[F_ID], 64, "\"%s\"", ev->event_id);
    snprintf(f->text[F_TYPE], 64, "\"%s\"", ev->entry ? "parking-entry" : "parking-exit");
    snprintf(f->text[F_TS], 64, "\"%s\"", ts);
    snprintf(f->text[F_CAR], 64, "\"%s\"", ev->car_id);
    snprintf(f->text[F_SLOT], 64, "%d", (int)ev->slot_id);
    snprintf(f->text[F_X], 64, "%.2f", ev->x);
    snprintf(f->text[F_Y], 64, "%.2f", ev->y);
    snprintf(f->text[F_CAM], 64, "\"%s\"", ev->camera_id);
    for (int i = 0; i < F_N; i++) f->present[i] = true;
    f->quote_keys = true;
    f->trailing_comma = false;
}

static void write_fields(const fields *f, firn_buf *out) {
    firn_buf_clear(out);
    firn_buf_put_u8(out, '{');
    bool first = true;
    for (int i = 0; i < F_N; i++) {
        if (!f->present[i]) continue;
        if (!first) firn_buf_put_u8(out, ',');
        first = false;
        if (f->quote_keys) firn_buf_appendf(out, "\"%s\":%s", field_names[i], f->text[i]);
        else firn_buf_appendf(out, "%s:%s", field_names[i], f->text[i]);
    }
    if (f->trailing_comma) firn_buf_put_u8(out, ',');
    firn_buf_put_u8(out, '}');
}

/* A 24-bit BMP of the w x h frame rgb, every k-th pixel (w/k x h/k). */
static void write_bmp(const uint8_t *rgb, int fw, int fh, int k, firn_buf *out) {
    int w = fw / k, h = fh / k;
    size_t row = ((size_t)w * 3 + 3) & ~(size_t)3;
    uint32_t data = (uint32_t)(row * (size_t)h);
    firn_buf_clear(out);
    uint8_t hdr[54] = {'B', 'M'};
    firn_store_le32(hdr + 2, 54 + data);
    firn_store_le32(hdr + 10, 54);
    firn_store_le32(hdr + 14, 40);
    firn_store_le32(hdr + 18, (uint32_t)w);
    firn_store_le32(hdr + 22, (uint32_t)h);
    hdr[26] = 1;
    hdr[28] = 24;
    firn_store_le32(hdr + 34, data);
    firn_store_le32(hdr + 38, 2835);
    firn_store_le32(hdr + 42, 2835);
    firn_buf_append(out, hdr, sizeof hdr);
    for (int y = h - 1; y >= 0; y--) {
        uint8_t *o = firn_buf_extend(out, row);
        const uint8_t *p = rgb + (size_t)y * (size_t)k * (size_t)fw * 3;
        for (int x = 0; x < w; x++) {
            const uint8_t *q = p + (size_t)x * (size_t)k * 3;
            o[3 * x] = q[2];
            o[3 * x + 1] = q[1];
            o[3 * x + 2] = q[0];
        }
        memset(o + (size_t)w * 3, 0, row - (size_t)w * 3);
    }
}

/* Grow a JPEG or PNG to at least target bytes with ignorable padding (JPEG
 * comment segments after the JFIF header, a private ancillary PNG chunk after
 * IHDR): it still decodes to the same pixels. */
static void pad_image(firn_buf *img, size_t target, bool png) {
    if (img->len >= target) return;
    size_t need = target - img->len;
    firn_buf out;
    firn_buf_init(&out);
    firn_buf_reserve(&out, target + 65536);
    if (png) {
        size_t at = 8 + 25; /* signature, IHDR */
        if (need < 13) need = 13;
        uint32_t n = (uint32_t)(need - 12);
        firn_buf_append(&out, img->data, at);
        uint8_t hdr[8] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n,
                          'f', 'i', 'L', 'l'}; /* ancillary, private, safe to copy */
        firn_buf_append(&out, hdr, 8);
        uint8_t *z = firn_buf_extend(&out, n);
        memset(z, 0, n);
        uint32_t crc = (uint32_t)crc32(0L, hdr + 4, 4);
        crc = (uint32_t)crc32(crc, z, n);
        uint8_t c[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
        firn_buf_append(&out, c, 4);
        firn_buf_append(&out, img->data + at, img->len - at);
    } else {
        size_t at = 2; /* after SOI, and after a JFIF APP0 segment, which must come first */
        if (img->len > 6 && img->data[2] == 0xFF && img->data[3] == 0xE0)
            at = 4 + ((size_t)img->data[4] << 8 | img->data[5]);
        firn_buf_append(&out, img->data, at);
        while (need > 0) {
            size_t seg = need < 5 ? 5 : need > 65537 ? 65537 : need; /* marker + length + data */
            size_t len = seg - 2;
            uint8_t hdr[4] = {0xFF, 0xFE, (uint8_t)(len >> 8), (uint8_t)len};
            firn_buf_append(&out, hdr, 4);
            memset(firn_buf_extend(&out, seg - 4), ' ', seg - 4);
            need = need > seg ? need - seg : 0;
        }
        firn_buf_append(&out, img->data + at, img->len - at);
    }
    firn_buf_release(img);
    *img = out;
}

static void random_bytes(firn_sim *s, uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(rnd(s) >> 56);
}

/* Render ev's scene with renderer r into s->image in the configured format. */
static int render_image(firn_sim *s, firn_sim_renderer *r, int w, int h, const char *plate,
                        int shift, firn_error *err) {
    firn_sim_scene sc = {.entry = s->ev.entry, .car_rgb = s->ev.car_rgb, .plate = plate,
                         .shift = shift, .ts_us = s->ev.ts_us};
    firn_sim_render(r, &sc);
    int rc = firn_sim_encode(r, s->o.format, s->o.jpeg_quality, &s->image, err);
    if (rc) return rc;
    s->ev.image_width = w;
    s->ev.image_height = h;
    s->ev.image_ext = s->o.format == FIRN_SIM_PNG ? "png" : "jpg";
    return 0;
}

static int ensure_renderer(firn_sim_renderer **r, int w, int h, firn_error *err) {
    return *r ? 0 : firn_sim_renderer_new(w, h, r, err);
}

int firn_sim_next(firn_sim *s, const firn_sim_event **out, firn_error *err) {
    firn_sim_event *ev = &s->ev;
    memset(ev, 0, sizeof *ev);
    s->variant[0] = '\0';
    ev->seq = s->seq;
    ev->dup_of = -1;
    ev->variant = s->variant;

    /* the clock */
    int64_t now;
    if (s->o.start_us == 0) {
        now = firn_now_us();
        if (now <= s->clock_us) now = s->clock_us + 1;
    } else {
        now = s->clock_us + 1 + (int64_t)below(s, (uint64_t)s->o.mean_gap_us * 2);
    }
    s->clock_us = now;

    /* good or which fault */
    firn_sim_truth kind = FIRN_SIM_GOOD;
    if (s->o.bad_ratio > 0 && unit(s) < s->o.bad_ratio) {
        kind = s->perm[s->perm_pos];
        if (kind == FIRN_SIM_DUPLICATE && s->ring_n == 0) kind = FIRN_SIM_GOOD; /* nothing yet */
        else if (++s->perm_pos == s->n_kinds) shuffle_kinds(s);
    }
    ev->truth = kind;
    uint64_t variant = s->variants[kind]++;
    int shift = 0;
    const char *rule_field = NULL; /* the field in the validator's rule name */

    if (kind == FIRN_SIM_DUPLICATE) {
        const stored_event *o = &s->ring[(s->ring_next + RING - 1 - below(s, s->ring_n)) % RING];
        ev->dup_of = (int64_t)o->seq;
        memcpy(ev->event_id, o->event_id, sizeof ev->event_id);
        ev->entry = o->entry;
        /* even: the same event again, byte for byte; odd: the same id on a
         * different payload (sent again with the time it was resent) */
        bool repeat = variant % 2 == 0;
        ev->ts_us = repeat ? o->ts_us : now;
        memcpy(ev->car_id, o->car_id, sizeof ev->car_id);
        ev->slot_id = o->slot;
        ev->car_rgb = o->rgb;
        shift = o->shift;
        snprintf(s->variant, sizeof s->variant, "%s:%llu", repeat ? "repeat-of" : "conflict-with",
                 (unsigned long long)o->seq);
        rule_field = "eventId";
    } else {
        make_uuid(s, ev->event_id);
        ev->ts_us = now;
        if (kind == FIRN_SIM_GOOD) {
            simulate_step(s, ev, &shift);
        } else { /* a plausible event that leaves the lot untouched */
            ev->entry = below(s, 2) == 0;
            make_plate(s, ev->car_id);
            ev->slot_id = (int32_t)below(s, s->o.slots);
            ev->car_rgb = palette[below(s, sizeof palette / sizeof palette[0])];
            shift = (int)below(s, 21) - 10;
        }
    }
    firn_sim_slot_xy((uint32_t)ev->slot_id, &ev->x, &ev->y);
    ev->camera_id = ev->entry ? "gate-in" : "gate-out";

    fields f;
    fields_from_event(ev, &f);
    const char *plate = ev->car_id;
    double lot_w, lot_d;
    firn_sim_lot_size(s->o.slots, &lot_w, &lot_d);
    bool with_image = true;
    int rc = 0;

    switch (kind) {
    case FIRN_SIM_REQUIRED: {
        static const int missing[] = {F_ID, F_TS, F_CAR, F_SLOT, F_X, F_Y, -1 /* image */};
        int m = missing[variant % 7];
        if (m < 0) with_image = false;
        else f.present[m] = false;
        rule_field = m < 0 ? "image" : field_names[m];
        snprintf(s->variant, sizeof s->variant, "missing:%s", m < 0 ? "image" : field_names[m]);
        break;
    }
    case FIRN_SIM_TYPE:
        switch (variant % 4) {
        case 0: snprintf(f.text[F_SLOT], 64, "\"%d\"", (int)ev->slot_id); break;
        case 1: snprintf(f.text[F_X], 64, "\"%.2f\"", ev->x); break;
        case 2: snprintf(f.text[F_Y], 64, "true"); break;
        default: snprintf(f.text[F_CAM], 64, "%d", 1 + (int)below(s, 9)); break;
        }
        snprintf(s->variant, sizeof s->variant, "%s", (const char *[]){
            "slotId:string", "x:string", "y:boolean", "cameraId:number"}[variant % 4]);
        rule_field = (const char *[]){"slotId", "x", "y", "cameraId"}[variant % 4];
        break;
    case FIRN_SIM_RANGE: {
        double off = 1.0 + (double)below(s, 2000) / 100.0;
        switch (variant % 4) {
        case 0: snprintf(f.text[F_X], 64, "%.2f", -off); break;
        case 1: snprintf(f.text[F_X], 64, "%.2f", lot_w + RANGE_FAR + off); break;
        case 2: snprintf(f.text[F_Y], 64, "%.2f", -off); break;
        default: snprintf(f.text[F_Y], 64, "%.2f", lot_d + RANGE_FAR + off); break;
        }
        snprintf(s->variant, sizeof s->variant, "%s", (const char *[]){
            "x<0", "x>width", "y<0", "y>depth"}[variant % 4]);
        rule_field = variant % 4 < 2 ? "x" : "y";
        break;
    }
    case FIRN_SIM_PATTERN: {
        char *b = s->bad_plate;
        const char *p = ev->car_id;
        size_t nd = strspn(p, "0123456789"), nl = strspn(p + nd, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        switch (variant % 6) {
        case 0: snprintf(b, 24, "%.*s-%.*s-%s", (int)nd, p, (int)nl, p + nd, p + nd + nl); break;
        case 1:
            snprintf(b, 24, "%s", p);
            for (char *q = b; *q; q++)
                if (*q >= 'A' && *q <= 'Z') *q = (char)(*q - 'A' + 'a');
            break;
        case 2:
            snprintf(b, 24, "%c%c%c%04u", 'A' + (int)below(s, 26), 'A' + (int)below(s, 26),
                     'A' + (int)below(s, 26), (unsigned)below(s, 10000));
            break;
        case 3: snprintf(b, 24, "%07u", (unsigned)below(s, 10000000)); break;
        case 4: snprintf(b, 24, "%s%u", p, (unsigned)below(s, 10)); break;
        default: snprintf(b, 24, "%u%s", 1 + (unsigned)below(s, 9), p); break;
        }
        snprintf(f.text[F_CAR], 64, "\"%s\"", b);
        plate = b;
        rule_field = "carId";
        snprintf(s->variant, sizeof s->variant, "%s", (const char *[]){
            "dashes", "lower-case", "letters-first", "digits-only", "five-digits",
            "three-digit-prefix"}[variant % 6]);
        break;
    }
    case FIRN_SIM_FUTURE:
    case FIRN_SIM_STALE: {
        char ts[28];
        firn_sim_format_ts(ev->ts_us + (kind == FIRN_SIM_FUTURE ? TEN_YEARS_US : -TEN_YEARS_US), ts);
        snprintf(f.text[F_TS], 64, "\"%s\"", ts);
        snprintf(s->variant, sizeof s->variant, kind == FIRN_SIM_FUTURE ? "+10y" : "-10y");
        break;
    }
    default: break;
    }

    /* the image */
    if (with_image) {
        if (kind == FIRN_SIM_IMAGE_LIMITS) {
            bool small = variant % 2 == 0;
            firn_sim_renderer **r = small ? &s->r_small : &s->r_wide;
            int w = small ? 12 : 8200, h = small ? 9 : 24;
            rc = ensure_renderer(r, w, h, err);
            if (rc == 0) rc = render_image(s, *r, w, h, plate, shift, err);
            snprintf(s->variant, sizeof s->variant, "%dx%d", w, h);
        } else {
            rc = render_image(s, s->r, s->o.width, s->o.height, plate, shift, err);
        }
        if (rc) return rc;
    } else {
        firn_buf_clear(&s->image);
    }
    if (kind == FIRN_SIM_IMAGE_DECODE) {
        ev->image_width = ev->image_height = 0;
        switch (variant % 3) {
        case 0:
            s->image.len /= 2;
            snprintf(s->variant, sizeof s->variant, "truncated");
            break;
        case 1: {
            size_t n = 512 + (size_t)below(s, 3000);
            firn_buf_clear(&s->image);
            random_bytes(s, firn_buf_extend(&s->image, n), n);
            s->image.data[0] = s->image.data[1] = 0; /* no format's signature */
            ev->image_ext = "bin";
            snprintf(s->variant, sizeof s->variant, "random-bytes");
            break;
        }
        default: {
            static const uint8_t jpeg_sig[] = {0xFF, 0xD8, 0xFF, 0xE0};
            static const uint8_t png_sig[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
            bool png = s->o.format == FIRN_SIM_PNG;
            size_t n = 512 + (size_t)below(s, 3000);
            firn_buf_clear(&s->image);
            firn_buf_append(&s->image, png ? png_sig : jpeg_sig, png ? 8 : 4);
            random_bytes(s, firn_buf_extend(&s->image, n), n);
            snprintf(s->variant, sizeof s->variant, "signature-garbage");
            break;
        }
        }
    } else if (kind == FIRN_SIM_IMAGE_SIZE) {
        size_t target = s->o.image_max_bytes + 1 + (size_t)below(s, 4096);
        pad_image(&s->image, target, s->o.format == FIRN_SIM_PNG);
        snprintf(s->variant, sizeof s->variant, "%zu-bytes", s->image.len);
    } else if (kind == FIRN_SIM_IMAGE_FORMAT) {
        /* subsampled when the full frame would break the size limit too */
        int k = 1, w = s->o.width, h = s->o.height;
        while (s->o.image_max_bytes > 0 && w / k > 16 && h / k > 16 &&
               54 + (((size_t)(w / k) * 3 + 3) & ~(size_t)3) * (size_t)(h / k) >
                   s->o.image_max_bytes)
            k++;
        write_bmp(firn_sim_render(s->r, &(firn_sim_scene){.entry = ev->entry, .car_rgb = ev->car_rgb,
                                                          .plate = plate, .shift = shift,
                                                          .ts_us = ev->ts_us}),
                  w, h, k, &s->image);
        ev->image_ext = "bmp";
        ev->image_width = w / k;
        ev->image_height = h / k;
        snprintf(s->variant, sizeof s->variant, "bmp");
    }

    /* the JSON value */
    if (kind == FIRN_SIM_BAD_JSON) {
        switch (variant % 4) {
        case 0:
            write_fields(&f, &s->json);
            s->json.len = s->json.len / 2;
            snprintf(s->variant, sizeof s->variant, "truncated");
            break;
        case 1:
            f.quote_keys = false;
            write_fields(&f, &s->json);
            snprintf(s->variant, sizeof s->variant, "unquoted-keys");
            break;
        case 2:
            f.trailing_comma = true;
            write_fields(&f, &s->json);
            snprintf(s->variant, sizeof s->variant, "trailing-comma");
            break;
        default:
            firn_buf_clear(&s->json);
            firn_buf_appendf(&s->json, "%s %s slot %d", ev->entry ? "parking-entry" : "parking-exit",
                             ev->car_id, (int)ev->slot_id);
            snprintf(s->variant, sizeof s->variant, "not-json");
            break;
        }
    } else if (kind == FIRN_SIM_BAD_UTF8) {
        switch (variant % 3) {
        case 0: snprintf(f.text[F_CAM], 64, "\"%s\xff\"", ev->camera_id); break;
        case 1: snprintf(f.text[F_CAR], 64, "\"%s\xe2\x82\"", ev->car_id); break;
        default: snprintf(f.text[F_CAM], 64, "\"gate\xc0\xaf%s\"", ev->entry ? "in" : "out"); break;
        }
        write_fields(&f, &s->json);
        snprintf(s->variant, sizeof s->variant, "%s", (const char *[]){
            "byte-ff", "truncated-sequence", "overlong"}[variant % 3]);
    } else {
        write_fields(&f, &s->json);
    }

    if (rule_field) snprintf(s->rule, sizeof s->rule, "%s:%s", truth_names[kind], rule_field);
    else snprintf(s->rule, sizeof s->rule, "%s", kind == FIRN_SIM_GOOD ? "" : truth_names[kind]);
    ev->rule = s->rule;
    ev->json = s->json.data;
    ev->json_len = s->json.len;
    ev->image = with_image ? s->image.data : NULL;
    ev->image_len = with_image ? s->image.len : 0;
    if (!with_image) ev->image_ext = NULL;

    if (kind == FIRN_SIM_GOOD) {
        stored_event *o = &s->ring[s->ring_next];
        s->ring_next = (s->ring_next + 1) % RING;
        if (s->ring_n < RING) s->ring_n++;
        o->seq = ev->seq;
        memcpy(o->event_id, ev->event_id, sizeof o->event_id);
        o->entry = ev->entry;
        o->ts_us = ev->ts_us;
        memcpy(o->car_id, ev->car_id, sizeof o->car_id);
        o->slot = ev->slot_id;
        o->rgb = ev->car_rgb;
        o->shift = shift;
    }
    s->counts[kind]++;
    s->seq++;
    *out = ev;
    return 0;
}

void firn_sim_event_ndjson(const firn_sim_event *ev, firn_buf *out) {
    if (firn_sim_truth_unparseable(ev->truth) || ev->json_len < 2 || !ev->image) {
        firn_buf_append(out, ev->json, ev->json_len);
        firn_buf_put_u8(out, '\n');
        return;
    }
    firn_buf_append(out, ev->json, ev->json_len - 1); /* without the closing brace */
    firn_buf_append_str(out, ",\"image\":\"");
    firn_sim_base64(ev->image, ev->image_len, out);
    firn_buf_append_str(out, "\"}\n");
}
