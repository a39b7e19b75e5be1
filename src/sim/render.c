/*
 * render.c - the gate camera's picture: a precomputed background per camera
 * (wall, booth, barrier, road), then per frame a car drawn from rectangles and
 * trapezoids in its colour, its plate in a built-in 5x7 bitmap font and the
 * camera's time overlay; encoded with libturbojpeg (tjCompress2) or libpng.
 *
 * Speed: a frame costs one memcpy of the background plus the car's pixels;
 * the encoder dominates (see bench/bench_sim.c).
 */
#include "sim/sim.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

struct firn_sim_renderer {
    int w, h;
    uint8_t *bg[2]; /* [0] exit camera, [1] entry camera */
    uint8_t *frame;
    tjhandle tj;
};

/* ------------------------------------------------------------ font */

/* 5x7 glyphs, one byte per row, bit 4 = leftmost column. */
static const uint8_t digit_glyphs[10][7] = {
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
};
static const uint8_t letter_glyphs[26][7] = {
    {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}, {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E},
    {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}, {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C},
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}, {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},
    {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}, {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},
    {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}, {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C},
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F},
    {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}, {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},
    {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10},
    {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}, {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},
    {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}, {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04},
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}, {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11},
    {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F},
};
static const uint8_t dash_glyph[7] = {0, 0, 0, 0x1F, 0, 0, 0};
static const uint8_t colon_glyph[7] = {0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0};
static const uint8_t dot_glyph[7] = {0, 0, 0, 0, 0, 0x0C, 0x0C};
static const uint8_t space_glyph[7] = {0};
static const uint8_t box_glyph[7] = {0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F};

static const uint8_t *glyph(unsigned char c) {
    if (c >= '0' && c <= '9') return digit_glyphs[c - '0'];
    if (c >= 'A' && c <= 'Z') return letter_glyphs[c - 'A'];
    if (c >= 'a' && c <= 'z') return letter_glyphs[c - 'a'];
    switch (c) {
    case '-': return dash_glyph;
    case ':': return colon_glyph;
    case '.': return dot_glyph;
    case ' ': return space_glyph;
    default: return box_glyph; /* anything else (a bad plate's stray byte) */
    }
}

/* ------------------------------------------------------------ drawing */

typedef struct canvas {
    uint8_t *px;
    int w, h;
} canvas;

static void fill_rect(canvas *c, int x0, int y0, int x1, int y1, uint32_t rgb) {
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > c->w) x1 = c->w;
    if (y1 > c->h) y1 = c->h;
    if (x0 >= x1 || y0 >= y1) return;
    uint8_t r = (uint8_t)(rgb >> 16), g = (uint8_t)(rgb >> 8), b = (uint8_t)rgb;
    uint8_t *row = c->px + ((size_t)y0 * (size_t)c->w + (size_t)x0) * 3;
    size_t n = (size_t)(x1 - x0);
    for (size_t i = 0; i < n; i++) {
        row[3 * i] = r;
        row[3 * i + 1] = g;
        row[3 * i + 2] = b;
    }
    for (int y = y0 + 1; y < y1; y++)
        memcpy(c->px + ((size_t)y * (size_t)c->w + (size_t)x0) * 3, row, n * 3);
}

/* A trapezoid: at y0 it spans [cx - top/2, cx + top/2), at y1 [cx - bottom/2, ...). */
static void fill_trapezoid(canvas *c, int cx, int y0, int y1, int top, int bottom, uint32_t rgb) {
    int hgt = y1 - y0;
    if (hgt <= 0) return;
    for (int y = y0; y < y1; y++) {
        int wdt = top + (bottom - top) * (y - y0) / hgt;
        fill_rect(c, cx - wdt / 2, y, cx - wdt / 2 + wdt, y + 1, rgb);
    }
}

static uint32_t shade(uint32_t rgb, int num, int den) {
    uint32_t out = 0;
    for (int s = 0; s < 24; s += 8) {
        int v = (int)((rgb >> s) & 0xff) * num / den;
        if (v > 255) v = 255;
        out |= (uint32_t)v << s;
    }
    return out;
}

/* Text with scale s (pixels per font dot), top-left at (x, y); 6*s per glyph. */
static void draw_text(canvas *c, int x, int y, int s, const char *text, uint32_t rgb) {
    for (const unsigned char *p = (const unsigned char *)text; *p; p++, x += 6 * s) {
        const uint8_t *g = glyph(*p);
        for (int row = 0; row < 7; row++)
            for (int col = 0; col < 5; col++)
                if (g[row] & (0x10 >> col))
                    fill_rect(c, x + col * s, y + row * s, x + col * s + s, y + row * s + s, rgb);
    }
}

static int text_width(const char *text, int s) {
    int n = (int)strlen(text);
    return n > 0 ? n * 6 * s - s : 0;
}

static void draw_background(canvas *c, bool entry) {
    int w = c->w, h = c->h;
    int horizon = h * 45 / 100;
    /* wall / sky: a vertical gradient, one row at a time */
    for (int y = 0; y < horizon; y++) {
        int t = y * 255 / (horizon > 0 ? horizon : 1);
        uint32_t rgb = entry ? (uint32_t)(0x70 + t / 5) << 16 | (uint32_t)(0x90 + t / 6) << 8 |
                                   (uint32_t)(0xC0 + t / 5)
                             : (uint32_t)(0x80 + t / 6) << 16 | (uint32_t)(0x80 + t / 6) << 8 |
                                   (uint32_t)(0x88 + t / 6);
        fill_rect(c, 0, y, w, y + 1, rgb);
    }
    /* road with perspective: asphalt, kerbs, lane markings converging */
    fill_rect(c, 0, horizon, w, h, 0x4A4A4E);
    for (int y = horizon; y < h; y++) {
        int depth = y - horizon, span = h - horizon;
        int half = w / 8 + (w * 3 / 8) * depth / (span > 0 ? span : 1);
        fill_rect(c, 0, y, w / 2 - half, y + 1, 0x6E7B5A);         /* verge */
        fill_rect(c, w / 2 + half, y, w, y + 1, 0x6E7B5A);
        int kerb = 2 + depth / 40;
        fill_rect(c, w / 2 - half, y, w / 2 - half + kerb, y + 1, 0xD8D8D0);
        fill_rect(c, w / 2 + half - kerb, y, w / 2 + half, y + 1, 0xD8D8D0);
        if ((depth / (8 + depth / 6)) % 2 == 0) /* dashed centre line */
            fill_rect(c, w / 2 - 1 - depth / 60, y, w / 2 + 1 + depth / 60, y + 1, 0xE8D048);
    }
    /* booth on the left, barrier post on the right with a striped arm */
    int bw = w / 7, bh = h / 3;
    fill_rect(c, w / 20, horizon - bh, w / 20 + bw, horizon + h / 12, 0xB0A890);
    fill_rect(c, w / 20 + bw / 6, horizon - bh + bh / 6, w / 20 + bw - bw / 6,
              horizon - bh / 3, 0x30404C); /* booth window */
    int post = w * 17 / 20;
    fill_rect(c, post, horizon - h / 6, post + w / 40 + 1, horizon + h / 10, 0xF0C020);
    int arm_y = horizon - h / 7, arm_h = h / 60 + 1;
    int seg = w / 16 + 1;
    for (int x = w / 8, i = 0; x < post; x += seg, i++)
        fill_rect(c, x, arm_y, x + seg < post ? x + seg : post, arm_y + arm_h,
                  i % 2 ? 0xD02020 : 0xF4F4F4);
    /* the camera's name, top right */
    const char *name = entry ? "GATE-IN" : "GATE-OUT";
    int s = h / 160 > 0 ? h / 160 : 1;
    int tw = text_width(name, s);
    fill_rect(c, w - tw - 4 * s, 0, w, 11 * s, 0x101010);
    draw_text(c, w - tw - 2 * s, 2 * s, s, name, 0xF0F0F0);
}

static void draw_car(canvas *c, const firn_sim_scene *sc) {
    int w = c->w, h = c->h;
    int cx = w / 2 + w * (sc->shift < -10 ? -10 : sc->shift > 10 ? 10 : sc->shift) / 100;
    uint32_t body = sc->car_rgb & 0xFFFFFF;
    int bw = w * 56 / 100, by0 = h * 56 / 100, by1 = h * 80 / 100;
    /* shadow, wheels, body, roof, windshield */
    fill_rect(c, cx - bw / 2 - w / 50, by1 - h / 60, cx + bw / 2 + w / 50, by1 + h / 30, 0x2A2A2C);
    int ww = bw / 7;
    fill_rect(c, cx - bw / 2 + bw / 16, by1 - h / 40, cx - bw / 2 + bw / 16 + ww, by1 + h / 25,
              0x111111);
    fill_rect(c, cx + bw / 2 - bw / 16 - ww, by1 - h / 40, cx + bw / 2 - bw / 16, by1 + h / 25,
              0x111111);
    fill_rect(c, cx - bw / 2, by0, cx + bw / 2, by1, body);
    int roof0 = h * 38 / 100;
    fill_trapezoid(c, cx, roof0, by0, bw * 60 / 100, bw * 86 / 100, shade(body, 4, 5));
    fill_trapezoid(c, cx, roof0 + h / 50, by0 - h / 80, bw * 52 / 100, bw * 76 / 100, 0x28323C);
    fill_rect(c, cx - bw / 2, by0, cx + bw / 2, by0 + h / 90 + 1, shade(body, 6, 5)); /* bonnet edge */
    /* headlights and grille */
    int lh = (by1 - by0) / 4, lw = bw / 6;
    fill_rect(c, cx - bw / 2 + bw / 24, by0 + lh / 2, cx - bw / 2 + bw / 24 + lw, by0 + lh / 2 + lh,
              0xF8F0C0);
    fill_rect(c, cx + bw / 2 - bw / 24 - lw, by0 + lh / 2, cx + bw / 2 - bw / 24, by0 + lh / 2 + lh,
              0xF8F0C0);
    fill_rect(c, cx - bw / 5, by0 + lh / 2, cx + bw / 5, by0 + lh / 2 + lh, shade(body, 1, 3));
    /* plate: white with a black rim, text centred */
    int pw = bw * 50 / 100, ph = (by1 - by0) * 30 / 100;
    int py0 = by1 - ph - (by1 - by0) / 10;
    fill_rect(c, cx - pw / 2 - 2, py0 - 2, cx + pw / 2 + 2, py0 + ph + 2, 0x101010);
    fill_rect(c, cx - pw / 2, py0, cx + pw / 2, py0 + ph, 0xF8F8F8);
    const char *plate = sc->plate ? sc->plate : "";
    int n = (int)strlen(plate);
    if (n > 0) {
        int s = ph * 7 / 10 / 7;
        int s2 = pw * 9 / 10 / (6 * n);
        if (s2 < s) s = s2;
        if (s < 1) s = 1;
        draw_text(c, cx - text_width(plate, s) / 2, py0 + (ph - 7 * s) / 2, s, plate, 0x101010);
    }
}

static void draw_overlay(canvas *c, int64_t ts_us) {
    char ts[28];
    firn_sim_format_ts(ts_us, ts);
    ts[10] = ' ';
    ts[19] = '\0'; /* "2025-11-26 08:00:00" */
    int s = c->h / 160 > 0 ? c->h / 160 : 1;
    fill_rect(c, 0, 0, text_width(ts, s) + 4 * s, 11 * s, 0x101010);
    draw_text(c, 2 * s, 2 * s, s, ts, 0xF0F0F0);
}

/* ------------------------------------------------------------ renderer */

int firn_sim_renderer_new(int width, int height, firn_sim_renderer **out, firn_error *err) {
    *out = NULL;
    if (width < 8 || height < 8 || width > 16384 || height > 16384)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "image size %dx%d: each side must be 8..16384",
                          width, height);
    firn_sim_renderer *r = firn_xcalloc(1, sizeof *r);
    r->w = width;
    r->h = height;
    size_t n = (size_t)width * (size_t)height * 3;
    for (int i = 0; i < 2; i++) {
        r->bg[i] = firn_xmalloc(n);
        canvas c = {r->bg[i], width, height};
        draw_background(&c, i == 1);
    }
    r->frame = firn_xmalloc(n);
    r->tj = tjInitCompress();
    if (!r->tj) {
        firn_sim_renderer_free(r);
        return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "tjInitCompress: %s", tjGetErrorStr2(NULL));
    }
    *out = r;
    return 0;
}

void firn_sim_renderer_free(firn_sim_renderer *r) {
    if (!r) return;
    free(r->bg[0]);
    free(r->bg[1]);
    free(r->frame);
    if (r->tj) tjDestroy(r->tj);
    free(r);
}

const uint8_t *firn_sim_render(firn_sim_renderer *r, const firn_sim_scene *sc) {
    memcpy(r->frame, r->bg[sc->entry ? 1 : 0], (size_t)r->w * (size_t)r->h * 3);
    canvas c = {r->frame, r->w, r->h};
    draw_car(&c, sc);
    draw_overlay(&c, sc->ts_us);
    return r->frame;
}

/* ------------------------------------------------------------ encoders */

static int encode_jpeg(firn_sim_renderer *r, int quality, firn_buf *out, firn_error *err) {
    unsigned long cap = tjBufSize(r->w, r->h, TJSAMP_420);
    firn_buf_clear(out);
    firn_buf_reserve(out, cap);
    unsigned char *dst = out->data;
    unsigned long size = cap;
    if (tjCompress2(r->tj, r->frame, r->w, 0, r->h, TJPF_RGB, &dst, &size, TJSAMP_420, quality,
                    TJFLAG_NOREALLOC) != 0)
        return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "tjCompress2 %dx%d: %s", r->w, r->h,
                          tjGetErrorStr2(r->tj));
    out->len = size;
    return 0;
}

typedef struct png_sink {
    firn_buf *out;
    char message[200];
} png_sink;

static void png_write_cb(png_structp p, png_bytep data, size_t n) {
    png_sink *s = png_get_io_ptr(p);
    firn_buf_append(s->out, data, n);
}

static void png_flush_cb(png_structp p) { (void)p; }

static void png_error_cb(png_structp p, png_const_charp msg) {
    png_sink *s = png_get_error_ptr(p);
    snprintf(s->message, sizeof s->message, "%s", msg);
    png_longjmp(p, 1);
}

static void png_warning_cb(png_structp p, png_const_charp msg) {
    (void)p;
    (void)msg;
}

static int encode_png(firn_sim_renderer *r, firn_buf *out, firn_error *err) {
    png_sink sink = {.out = out, .message = ""};
    firn_buf_clear(out);
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, png_error_cb,
                                            png_warning_cb);
    if (!p) return FIRN_RAISE(err, FIRN_ERR_NOMEM, "png_create_write_struct failed");
    png_infop info = png_create_info_struct(p);
    if (!info) {
        png_destroy_write_struct(&p, NULL);
        return FIRN_RAISE(err, FIRN_ERR_NOMEM, "png_create_info_struct failed");
    }
    if (setjmp(png_jmpbuf(p))) {
        png_destroy_write_struct(&p, &info);
        return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "libpng: %s", sink.message);
    }
    png_set_write_fn(p, &sink, png_write_cb, png_flush_cb);
    /* Flat colours: the Sub filter turns runs into zeros and zlib's RLE strategy
     * packs them at a fraction of the default level's cost. */
    png_set_filter(p, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
    png_set_compression_strategy(p, 3 /* Z_RLE */);
    png_set_compression_level(p, 1);
    png_set_IHDR(p, info, (png_uint_32)r->w, (png_uint_32)r->h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_write_info(p, info);
    for (int y = 0; y < r->h; y++) png_write_row(p, r->frame + (size_t)y * (size_t)r->w * 3);
    png_write_end(p, info);
    png_destroy_write_struct(&p, &info);
    return 0;
}

int firn_sim_encode(firn_sim_renderer *r, firn_sim_format fmt, int quality, firn_buf *out,
                    firn_error *err) {
    if (fmt == FIRN_SIM_PNG) return encode_png(r, out, err);
    return encode_jpeg(r, quality, out, err);
}
