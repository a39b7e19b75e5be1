/*
 * bench_sim.c - `make bench-sim`: how fast firn sim renders and encodes the gate
 * camera's pictures, on one core, against references measured in the same run:
 *   - JPEG: render + tjCompress2 vs raw tjCompress2 of a constant frame of the
 *     same size and quality (the floor for any JPEG of that size);
 *   - PNG: render + firn's libpng encoding vs libpng with its default settings
 *     on the same constant frame;
 *   - whole events (firn_sim_next: lot, JSON, image, 5% bad) vs the JPEG reference.
 * Usage: bench_sim [WIDTH HEIGHT [SECONDS]]   (default 640 480 1.5 per measurement,
 * in 5 interleaved slices, best slice kept)
 */
#include "sim/sim.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

static double seconds = 1.5;

typedef struct ctx {
    int w, h;
    uint8_t *constant;
    tjhandle tj;
    uint8_t *jpeg;
    unsigned long cap;
    firn_sim_renderer *r;
    firn_sim *sim;
    firn_buf out;
    uint64_t bytes;
    int i;
} ctx;

static void die(const char *what, firn_error *err) {
    char b[1024];
    fprintf(stderr, "bench_sim: %s: %s\n", what, firn_error_format(err, b, sizeof b));
    exit(1);
}

/* Runs fn for one slice of `seconds` / ROUNDS; returns operations per second
 * and adds the bytes per operation to *bytes_per_op (for the last slice). */
#define ROUNDS 5
static double slice(ctx *c, void (*fn)(ctx *), double *bytes_per_op) {
    uint64_t t0 = firn_now_ns(), n = 0, t;
    c->bytes = 0;
    do {
        for (int k = 0; k < 4; k++, n++) fn(c);
        t = firn_now_ns();
    } while (t - t0 < (uint64_t)(seconds / ROUNDS * 1e9));
    *bytes_per_op = (double)c->bytes / (double)n;
    return (double)n / ((double)(t - t0) / 1e9);
}

static void ref_jpeg(ctx *c) {
    unsigned char *dst = c->jpeg;
    unsigned long size = c->cap;
    if (tjCompress2(c->tj, c->constant, c->w, 0, c->h, TJPF_RGB, &dst, &size, TJSAMP_420, 85,
                    TJFLAG_NOREALLOC) != 0)
        exit(1);
    c->bytes += size;
}

static void png_write_cb(png_structp p, png_bytep data, size_t n) {
    ctx *c = png_get_io_ptr(p);
    c->bytes += n;
    (void)data;
}
static void png_flush_cb(png_structp p) { (void)p; }

static void ref_png(ctx *c) { /* libpng defaults (zlib level 6, adaptive filters) */
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    if (setjmp(png_jmpbuf(p))) exit(1);
    png_set_write_fn(p, c, png_write_cb, png_flush_cb);
    png_set_IHDR(p, info, (png_uint_32)c->w, (png_uint_32)c->h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_write_info(p, info);
    for (int y = 0; y < c->h; y++) png_write_row(p, c->constant + (size_t)y * (size_t)c->w * 3);
    png_write_end(p, info);
    png_destroy_write_struct(&p, &info);
}

static const char *const plates[] = {"12GA3456", "345NEO0001", "77JU9021", "108BO4410"};

static void render_only(ctx *c) {
    firn_sim_scene sc = {.entry = c->i & 1, .car_rgb = 0x1F4E9C + (uint32_t)c->i * 0x10203,
                         .plate = plates[c->i & 3], .shift = c->i % 21 - 10,
                         .ts_us = 1764144000000000LL + c->i * 1000003LL};
    c->i++;
    firn_sim_render(c->r, &sc);
}

static void encode(ctx *c, firn_sim_format fmt) {
    render_only(c);
    firn_error err;
    firn_error_init(&err);
    if (firn_sim_encode(c->r, fmt, 85, &c->out, &err)) die("encode", &err);
    c->bytes += c->out.len;
}
static void render_jpeg(ctx *c) { encode(c, FIRN_SIM_JPEG); }
static void render_png(ctx *c) { encode(c, FIRN_SIM_PNG); }

static void sim_event(ctx *c) {
    const firn_sim_event *ev;
    firn_error err;
    firn_error_init(&err);
    if (firn_sim_next(c->sim, &ev, &err)) die("firn_sim_next", &err);
    c->bytes += ev->json_len + ev->image_len;
}

int main(int argc, char **argv) {
    ctx c = {.w = 640, .h = 480};
    if (argc >= 3) {
        c.w = atoi(argv[1]);
        c.h = atoi(argv[2]);
    }
    if (argc >= 4) seconds = atof(argv[3]);
    firn_error err;
    firn_error_init(&err);
    size_t n = (size_t)c.w * (size_t)c.h * 3;
    c.constant = malloc(n);
    memset(c.constant, 0x80, n);
    c.tj = tjInitCompress();
    c.cap = tjBufSize(c.w, c.h, TJSAMP_420);
    c.jpeg = malloc(c.cap);
    if (firn_sim_renderer_new(c.w, c.h, &c.r, &err)) die("renderer", &err);
    firn_sim_options o;
    firn_sim_options_init(&o);
    o.width = c.w;
    o.height = c.h;
    o.bad_ratio = 0.05;
    o.start_us = 1764144000000000LL;
    if (firn_sim_new(&o, &c.sim, &err)) die("sim", &err);

    /* The machine is shared: measurements are interleaved in ROUNDS slices and
     * each keeps its best slice, so a busy moment hurts subject and reference alike. */
    void (*fns[6])(ctx *) = {ref_jpeg, render_only, render_jpeg, ref_png, render_png, sim_event};
    double best[6] = {0}, per_op[6] = {0};
    for (int r = 0; r < ROUNDS; r++)
        for (int f = 0; f < 6; f++) {
            double b, v = slice(&c, fns[f], &b);
            if (v > best[f]) best[f] = v;
            per_op[f] = b;
        }
    double ref = best[0], ren = best[1], jpg = best[2], pref = best[3], png = best[4],
           ev = best[5];
    double ref_kb = per_op[0] / 1024, jpg_kb = per_op[2] / 1024, png_kb = per_op[4] / 1024;
    printf("size %dx%d, best of %d interleaved slices of %.2f s each, one thread\n", c.w, c.h,
           ROUNDS, seconds / ROUNDS);
    printf("render only (no encoding): %.0f frames/s\n", ren);
    printf("JPEG q85: %.1f KiB per image (constant frame: %.1f KiB)\n", jpg_kb, ref_kb);
    printf("PNG: %.1f KiB per image\n", png_kb);
    printf("bench sim-jpeg: %.0f images/s vs tjCompress2-constant-frame %.0f images/s = %.2fx\n",
           jpg, ref, jpg / ref);
    printf("bench sim-png: %.0f images/s vs libpng-defaults-constant-frame %.0f images/s = %.2fx\n",
           png, pref, png / pref);
    printf("bench sim-events: %.0f events/s vs tjCompress2-constant-frame %.0f images/s = %.2fx\n",
           ev, ref, ev / ref);
    firn_sim_free(c.sim);
    firn_sim_renderer_free(c.r);
    firn_buf_release(&c.out);
    tjDestroy(c.tj);
    free(c.jpeg);
    free(c.constant);
    return 0;
}
