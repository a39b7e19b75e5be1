/* compress.c - Parquet page codecs: SNAPPY, GZIP, ZSTD, LZ4_RAW, none.
 * Decompression writes exactly the expected size or fails, so a lying page
 * header or a decompression bomb cannot make it write past its buffer. */
#include "parquet/parquet_internal.h"

#include <lz4.h>
#include <pthread.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* One compression context per thread, reused across pages (allocation of a
 * ZSTD context costs more than compressing a small page). */
/* One zstd context of each kind per thread, freed when the thread exits (a
 * pthread key's destructor; a plain _Thread_local pointer would leak them). */
static pthread_key_t cctx_key, dctx_key;
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static void free_cctx(void *p) { ZSTD_freeCCtx(p); }
static void free_dctx(void *p) { ZSTD_freeDCtx(p); }
static void make_keys(void) {
    pthread_key_create(&cctx_key, free_cctx);
    pthread_key_create(&dctx_key, free_dctx);
}
static ZSTD_CCtx *thread_cctx(void) {
    pthread_once(&keys_once, make_keys);
    ZSTD_CCtx *c = pthread_getspecific(cctx_key);
    if (!c && (c = ZSTD_createCCtx())) pthread_setspecific(cctx_key, c);
    return c;
}
static ZSTD_DCtx *thread_dctx(void) {
    pthread_once(&keys_once, make_keys);
    ZSTD_DCtx *d = pthread_getspecific(dctx_key);
    if (!d && (d = ZSTD_createDCtx())) pthread_setspecific(dctx_key, d);
    return d;
}

static int codec_error(firn_error *err, const char *codec, const char *what) {
    return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s %s", codec, what);
}

int pq_compress(int codec, int level, const uint8_t *in, size_t n, firn_buf *out,
                firn_error *err) {
    switch (codec) {
    case FIRN_PQ_UNCOMPRESSED:
        firn_buf_append(out, in, n);
        return 0;
    case FIRN_PQ_SNAPPY: {
        size_t cap = snappy_max_compressed_length(n);
        firn_buf_reserve(out, cap);
        size_t got = cap;
        if (snappy_compress((const char *)in, n, (char *)out->data + out->len, &got) != SNAPPY_OK)
            return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "snappy compression failed");
        out->len += got;
        return 0;
    }
    case FIRN_PQ_GZIP: {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (deflateInit2(&zs, level > 0 ? level : 6, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "gzip: deflateInit2 failed");
        size_t cap = deflateBound(&zs, (uLong)n) + 32;
        firn_buf_reserve(out, cap);
        zs.next_in = (Bytef *)(uintptr_t)in;
        zs.avail_in = (uInt)n;
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)cap;
        int zr = deflate(&zs, Z_FINISH);
        size_t got = cap - zs.avail_out;
        deflateEnd(&zs);
        if (zr != Z_STREAM_END) return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "gzip: deflate failed");
        out->len += got;
        return 0;
    }
    case FIRN_PQ_ZSTD: {
        ZSTD_CCtx *zstd_cctx = thread_cctx();
        if (!zstd_cctx) return FIRN_RAISE(err, FIRN_ERR_NOMEM, "zstd: no compression context");
        size_t cap = ZSTD_compressBound(n);
        firn_buf_reserve(out, cap);
        size_t got = ZSTD_compressCCtx(zstd_cctx, out->data + out->len, cap, in, n,
                                       level ? level : 3);
        if (ZSTD_isError(got))
            return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "zstd: %s", ZSTD_getErrorName(got));
        out->len += got;
        return 0;
    }
    case FIRN_PQ_LZ4_RAW: {
        if (n > (size_t)LZ4_MAX_INPUT_SIZE)
            return FIRN_RAISE(err, FIRN_ERR_LIMIT, "lz4: page of %zu bytes is too large", n);
        int cap = LZ4_compressBound((int)n);
        firn_buf_reserve(out, (size_t)cap);
        int got = LZ4_compress_default((const char *)in, (char *)out->data + out->len, (int)n, cap);
        if (got <= 0) return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "lz4 compression failed");
        out->len += (size_t)got;
        return 0;
    }
    default:
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "compression codec %d is not supported",
                          codec);
    }
}

int pq_decompress(int codec, const uint8_t *in, size_t n, uint8_t *out, size_t expected_len,
                  firn_error *err) {
    switch (codec) {
    case FIRN_PQ_UNCOMPRESSED:
        if (n != expected_len)
            return codec_error(err, "uncompressed page", "size differs from its header");
        if (n) memcpy(out, in, n);
        return 0;
    case FIRN_PQ_SNAPPY: {
        size_t ulen;
        if (snappy_uncompressed_length((const char *)in, n, &ulen) != SNAPPY_OK ||
            ulen != expected_len)
            return codec_error(err, "snappy", "page length does not match its header");
        if (snappy_uncompress((const char *)in, n, (char *)out, &ulen) != SNAPPY_OK ||
            ulen != expected_len)
            return codec_error(err, "snappy", "page is corrupt");
        return 0;
    }
    case FIRN_PQ_GZIP: {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (inflateInit2(&zs, 15 + 32) != Z_OK)
            return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "gzip: inflateInit2 failed");
        zs.next_in = (Bytef *)(uintptr_t)in;
        zs.avail_in = (uInt)n;
        zs.next_out = out;
        zs.avail_out = (uInt)expected_len;
        int zr = inflate(&zs, Z_FINISH);
        size_t got = expected_len - zs.avail_out;
        inflateEnd(&zs);
        if (zr != Z_STREAM_END || got != expected_len)
            return codec_error(err, "gzip", "page is corrupt or its size differs from its header");
        return 0;
    }
    case FIRN_PQ_ZSTD: {
        ZSTD_DCtx *zstd_dctx = thread_dctx();
        if (!zstd_dctx) return FIRN_RAISE(err, FIRN_ERR_NOMEM, "zstd: no decompression context");
        size_t got = ZSTD_decompressDCtx(zstd_dctx, out, expected_len, in, n);
        if (ZSTD_isError(got) || got != expected_len)
            return codec_error(err, "zstd", "page is corrupt or its size differs from its header");
        return 0;
    }
    case FIRN_PQ_LZ4_RAW: {
        if (n > (size_t)INT32_MAX || expected_len > (size_t)INT32_MAX)
            return codec_error(err, "lz4", "page too large");
        int got = LZ4_decompress_safe((const char *)in, (char *)out, (int)n, (int)expected_len);
        if (got < 0 || (size_t)got != expected_len)
            return codec_error(err, "lz4", "page is corrupt or its size differs from its header");
        return 0;
    }
    default:
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "compression codec %d is not supported (firn reads none, snappy, gzip, "
                          "zstd, lz4_raw)",
                          codec);
    }
}
