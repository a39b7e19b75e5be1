/* codec.c - Avro block codecs: null, deflate (raw), zstandard, snappy (+CRC32). */
#include "avro/avro_internal.h"

#include <snappy-c.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

static const char *const codec_names[] = {
    [AVRO_CODEC_NULL] = "null",
    [AVRO_CODEC_DEFLATE] = "deflate",
    [AVRO_CODEC_ZSTD] = "zstandard",
    [AVRO_CODEC_SNAPPY] = "snappy",
};

int firn_avro_codec_lookup(const char *name, size_t len) {
    for (int i = 0; i < (int)(sizeof codec_names / sizeof codec_names[0]); i++)
        if (strlen(codec_names[i]) == len && memcmp(codec_names[i], name, len) == 0) return i;
    return -1;
}

const char *firn_avro_codec_name(avro_codec codec) { return codec_names[codec]; }

struct avro_codec_state {
    avro_codec codec;
    int level;
    bool deflate_ready, inflate_ready;
    z_stream deflate, inflate;
    ZSTD_CCtx *zc;
    ZSTD_DCtx *zd;
};

avro_codec_state *firn_avro_codec_state_new(avro_codec codec, int level) {
    avro_codec_state *s = firn_xcalloc(1, sizeof *s);
    s->codec = codec;
    s->level = level;
    return s;
}

void firn_avro_codec_state_free(avro_codec_state *s) {
    if (!s) return;
    if (s->deflate_ready) deflateEnd(&s->deflate);
    if (s->inflate_ready) inflateEnd(&s->inflate);
    ZSTD_freeCCtx(s->zc);
    ZSTD_freeDCtx(s->zd);
    free(s);
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int firn_avro_compress(avro_codec_state *s, const uint8_t *in, size_t n, firn_buf *out,
                       firn_error *err) {
    firn_buf_clear(out);
    switch (s->codec) {
    case AVRO_CODEC_NULL: firn_buf_append(out, in, n); return 0;
    case AVRO_CODEC_DEFLATE: {
        if (!s->deflate_ready) {
            int level = s->level < 0 || s->level > 9 ? Z_DEFAULT_COMPRESSION : s->level;
            if (deflateInit2(&s->deflate, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return FIRN_RAISE(err, FIRN_ERR_NOMEM, "avro: deflate: cannot initialise");
            s->deflate_ready = true;
        } else {
            deflateReset(&s->deflate);
        }
        if (n > UINT32_MAX) return FIRN_RAISE(err, FIRN_ERR_LIMIT, "avro: block too large for deflate");
        uLong bound = deflateBound(&s->deflate, (uLong)n);
        firn_buf_reserve(out, bound);
        s->deflate.next_in = (Bytef *)(uintptr_t)in;
        s->deflate.avail_in = (uInt)n;
        s->deflate.next_out = out->data;
        s->deflate.avail_out = (uInt)bound;
        int zr = deflate(&s->deflate, Z_FINISH);
        if (zr != Z_STREAM_END)
            return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "avro: deflate failed (%d)", zr);
        out->len = bound - s->deflate.avail_out;
        return 0;
    }
    case AVRO_CODEC_ZSTD: {
        if (!s->zc && !(s->zc = ZSTD_createCCtx()))
            return FIRN_RAISE(err, FIRN_ERR_NOMEM, "avro: zstd: cannot create a context");
        size_t bound = ZSTD_compressBound(n);
        firn_buf_reserve(out, bound);
        int level = s->level <= 0 ? 3 : s->level > ZSTD_maxCLevel() ? ZSTD_maxCLevel() : s->level;
        size_t r = ZSTD_compressCCtx(s->zc, out->data, bound, in, n, level);
        if (ZSTD_isError(r))
            return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "avro: zstd: %s", ZSTD_getErrorName(r));
        out->len = r;
        return 0;
    }
    case AVRO_CODEC_SNAPPY: {
        size_t bound = snappy_max_compressed_length(n);
        firn_buf_reserve(out, bound + 4);
        size_t olen = bound;
        if (snappy_compress((const char *)in, n, (char *)out->data, &olen) != SNAPPY_OK)
            return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "avro: snappy compression failed");
        put_be32(out->data + olen, (uint32_t)crc32(0, in, (uInt)n));
        out->len = olen + 4;
        return 0;
    }
    }
    return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "avro: unknown codec %d", (int)s->codec);
}

static int too_big(firn_error *err, const char *codec, size_t max) {
    return FIRN_RAISE(err, FIRN_ERR_LIMIT,
                      "avro: %s block decompresses to more than %zu bytes (max_block_size)", codec,
                      max);
}

static int inflate_block(avro_codec_state *s, const uint8_t *in, size_t n, size_t max,
                         firn_buf *out, firn_error *err) {
    if (!s->inflate_ready) {
        if (inflateInit2(&s->inflate, -15) != Z_OK)
            return FIRN_RAISE(err, FIRN_ERR_NOMEM, "avro: inflate: cannot initialise");
        s->inflate_ready = true;
    } else {
        inflateReset(&s->inflate);
    }
    if (n > UINT32_MAX) return FIRN_RAISE(err, FIRN_ERR_LIMIT, "avro: deflate block too large");
    z_stream *z = &s->inflate;
    z->next_in = (Bytef *)(uintptr_t)in;
    z->avail_in = (uInt)n;
    size_t cap = n * 4 < 64 * 1024 ? 64 * 1024 : n * 4;
    for (;;) {
        if (cap > max + 1) cap = max + 1; /* one byte more than allowed detects overflow */
        if (cap > UINT32_MAX) cap = UINT32_MAX;
        firn_buf_reserve(out, cap - out->len);
        z->next_out = out->data + out->len;
        z->avail_out = (uInt)(cap - out->len);
        int zr = inflate(z, Z_NO_FLUSH);
        out->len = cap - z->avail_out;
        if (out->len > max) return too_big(err, "deflate", max);
        if (zr == Z_STREAM_END) return 0;
        if (zr == Z_BUF_ERROR && z->avail_in == 0)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: deflate block is truncated");
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: deflate block is corrupt: %s",
                              z->msg ? z->msg : "inflate failed");
        if (z->avail_out == 0) {
            if (cap > max) return too_big(err, "deflate", max);
            cap = cap * 2;
        } else if (z->avail_in == 0) {
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: deflate block is truncated");
        }
    }
}

static int zstd_block(avro_codec_state *s, const uint8_t *in, size_t n, size_t max, firn_buf *out,
                      firn_error *err) {
    if (!s->zd && !(s->zd = ZSTD_createDCtx()))
        return FIRN_RAISE(err, FIRN_ERR_NOMEM, "avro: zstd: cannot create a context");
    ZSTD_DCtx_reset(s->zd, ZSTD_reset_session_only);
    ZSTD_inBuffer zin = {in, n, 0};
    size_t cap = n * 4 < 64 * 1024 ? 64 * 1024 : n * 4;
    for (;;) {
        if (cap > max + 1) cap = max + 1;
        firn_buf_reserve(out, cap - out->len);
        ZSTD_outBuffer zout = {out->data, cap, out->len};
        size_t r = ZSTD_decompressStream(s->zd, &zout, &zin);
        out->len = zout.pos;
        if (ZSTD_isError(r))
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: zstandard block is corrupt: %s",
                              ZSTD_getErrorName(r));
        if (out->len > max) return too_big(err, "zstandard", max);
        if (r == 0 && zin.pos == zin.size) return 0; /* frame(s) complete, input used up */
        if (zout.pos == zout.size) {
            if (cap > max) return too_big(err, "zstandard", max);
            cap *= 2;
        } else if (zin.pos == zin.size) {
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: zstandard block is truncated");
        }
    }
}

static int snappy_block(const uint8_t *in, size_t n, size_t max, firn_buf *out, firn_error *err) {
    if (n < 4) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: snappy block shorter than its CRC");
    size_t ulen;
    if (snappy_uncompressed_length((const char *)in, n - 4, &ulen) != SNAPPY_OK)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: snappy block is corrupt");
    if (ulen > max) return too_big(err, "snappy", max);
    firn_buf_reserve(out, ulen ? ulen : 1);
    size_t got = ulen;
    if (snappy_uncompress((const char *)in, n - 4, (char *)out->data, &got) != SNAPPY_OK ||
        got != ulen)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: snappy block is corrupt");
    out->len = ulen;
    const uint8_t *c = in + n - 4;
    uint32_t want = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
    if ((uint32_t)crc32(0, out->data, (uInt)ulen) != want)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: snappy block fails its CRC32 check");
    return 0;
}

int firn_avro_decompress(avro_codec_state *s, const uint8_t *in, size_t n, size_t max,
                         firn_buf *out, firn_error *err) {
    firn_buf_clear(out);
    switch (s->codec) {
    case AVRO_CODEC_NULL:
        if (n > max) return too_big(err, "null", max);
        firn_buf_append(out, in, n);
        return 0;
    case AVRO_CODEC_DEFLATE: return inflate_block(s, in, n, max, out, err);
    case AVRO_CODEC_ZSTD: return zstd_block(s, in, n, max, out, err);
    case AVRO_CODEC_SNAPPY: return snappy_block(in, n, max, out, err);
    }
    return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "avro: unknown codec %d", (int)s->codec);
}
