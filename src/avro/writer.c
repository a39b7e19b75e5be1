/* writer.c - Avro object container files: header, blocks of records, sync markers. */
#include "avro/avro_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

struct firn_avro_writer {
    firn_avro_schema *schema;
    avro_codec codec;
    avro_codec_state *cs;
    firn_buf header; /* magic + metadata, written before the first block */
    uint8_t sync[FIRN_AVRO_SYNC_SIZE];
    bool header_written, closed, failed;
    size_t block_size;
    firn_buf block; /* encoded records of the current block */
    uint64_t block_count;
    firn_buf packed; /* compressed block */
    firn_buf out;    /* block framing + data, handed to write_fn at once */
    uint64_t bytes_written, records;
    firn_avro_write_fn write_fn;
    void *ctx;
    /* firn_avro_writer_create: the file it owns */
    int fd;
    char *path;
};

static void random_sync(uint8_t sync[FIRN_AVRO_SYNC_SIZE]) {
    size_t got = 0;
    while (got < FIRN_AVRO_SYNC_SIZE) {
        ssize_t r = getrandom(sync + got, FIRN_AVRO_SYNC_SIZE - got, GRND_NONBLOCK);
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got == FIRN_AVRO_SYNC_SIZE) return;
    /* no entropy source: time, pid and an address are unique enough for a sync marker */
    uint64_t seed[3] = {firn_now_ns(), (uint64_t)getpid(), (uint64_t)(uintptr_t)sync};
    firn_store_le64(sync, firn_xxh64(seed, sizeof seed, 1));
    firn_store_le64(sync + 8, firn_xxh64(seed, sizeof seed, 2));
}

static void put_string(firn_buf *b, const void *p, size_t n) { firn_avro_encode_bytes(b, p, n); }

firn_avro_writer *firn_avro_writer_new(const char *schema_json, const char *codec, int level,
                                       const firn_avro_kv *meta, firn_avro_write_fn write_fn,
                                       void *ctx, firn_error *err) {
    if (!write_fn) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "avro writer: no write function");
        return NULL;
    }
    const char *cname = codec ? codec : "null";
    int c = firn_avro_codec_lookup(cname, strlen(cname));
    if (c < 0) {
        FIRN_RAISE(err, FIRN_ERR_INVALID,
                   "avro writer: unknown codec '%s' (use null, deflate, zstandard or snappy)",
                   cname);
        return NULL;
    }
    size_t nmeta = 0;
    for (; meta && meta[nmeta].key; nmeta++) {
        const char *k = meta[nmeta].key;
        if (strcmp(k, "avro.schema") == 0 || strcmp(k, "avro.codec") == 0) {
            FIRN_RAISE(err, FIRN_ERR_INVALID, "avro writer: metadata key '%s' is the writer's own",
                       k);
            return NULL;
        }
        if (!meta[nmeta].value) {
            FIRN_RAISE(err, FIRN_ERR_INVALID, "avro writer: metadata key '%s' has no value", k);
            return NULL;
        }
        for (size_t j = 0; j < nmeta; j++)
            if (strcmp(meta[j].key, k) == 0) {
                FIRN_RAISE(err, FIRN_ERR_INVALID, "avro writer: metadata key '%s' given twice", k);
                return NULL;
            }
    }
    firn_avro_schema *schema =
        firn_avro_schema_parse(schema_json, schema_json ? strlen(schema_json) : 0, err);
    if (!schema) return NULL;

    firn_avro_writer *w = firn_xcalloc(1, sizeof *w);
    w->schema = schema;
    w->codec = (avro_codec)c;
    w->cs = firn_avro_codec_state_new(w->codec, level);
    w->block_size = FIRN_AVRO_DEFAULT_BLOCK_SIZE;
    w->write_fn = write_fn;
    w->ctx = ctx;
    w->fd = -1;
    random_sync(w->sync);

    firn_buf *h = &w->header;
    firn_buf_append(h, "Obj\x01", 4);
    firn_avro_encode_long(h, (int64_t)nmeta + 2);
    size_t slen;
    const char *stext = firn_avro_schema_json(schema, &slen);
    put_string(h, "avro.schema", 11);
    put_string(h, stext, slen);
    put_string(h, "avro.codec", 10);
    put_string(h, cname, strlen(cname));
    for (size_t i = 0; i < nmeta; i++) {
        const firn_avro_kv *kv = &meta[i];
        put_string(h, kv->key, strlen(kv->key));
        put_string(h, kv->value, kv->value_len ? kv->value_len : strlen(kv->value));
    }
    firn_buf_put_u8(h, 0); /* end of the metadata map */
    return w;
}

int firn_avro_writer_set_block_size(firn_avro_writer *w, size_t bytes, firn_error *err) {
    if (bytes == 0 || bytes > (size_t)1 << 30)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "avro writer: block size %zu out of range (1 B to 1 GiB)",
                          bytes);
    w->block_size = bytes;
    return 0;
}

int firn_avro_writer_set_sync(firn_avro_writer *w, const uint8_t sync[FIRN_AVRO_SYNC_SIZE],
                              firn_error *err) {
    if (w->header_written)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "avro writer: the sync marker is already written");
    memcpy(w->sync, sync, FIRN_AVRO_SYNC_SIZE);
    return 0;
}

const firn_avro_schema *firn_avro_writer_schema(const firn_avro_writer *w) { return w->schema; }
uint64_t firn_avro_writer_record_count(const firn_avro_writer *w) { return w->records; }

static int emit(firn_avro_writer *w, const void *data, size_t len, firn_error *err) {
    int rc = w->write_fn(w->ctx, data, len, err);
    if (rc) {
        w->failed = true;
        return rc < 0 ? rc : FIRN_RAISE(err, FIRN_ERR_IO, "avro writer: write failed");
    }
    w->bytes_written += len;
    return 0;
}

static int write_header(firn_avro_writer *w, firn_error *err) {
    if (w->header_written) return 0;
    firn_buf_append(&w->header, w->sync, FIRN_AVRO_SYNC_SIZE);
    w->header_written = true;
    int rc = emit(w, w->header.data, w->header.len, err);
    firn_buf_release(&w->header);
    return rc;
}

static int check_usable(firn_avro_writer *w, firn_error *err) {
    if (w->closed) return FIRN_RAISE(err, FIRN_ERR_INVALID, "avro writer: already closed");
    if (w->failed)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "avro writer: an earlier write failed");
    return 0;
}

int firn_avro_writer_flush(firn_avro_writer *w, firn_error *err) {
    int rc = check_usable(w, err);
    if (rc) return rc;
    if ((rc = write_header(w, err))) return rc;
    if (w->block_count == 0) return 0;
    if ((rc = firn_avro_compress(w->cs, w->block.data, w->block.len, &w->packed, err))) {
        w->failed = true;
        return rc;
    }
    firn_buf_clear(&w->out);
    firn_avro_encode_long(&w->out, (int64_t)w->block_count);
    firn_avro_encode_long(&w->out, (int64_t)w->packed.len);
    firn_buf_append(&w->out, w->packed.data, w->packed.len);
    firn_buf_append(&w->out, w->sync, FIRN_AVRO_SYNC_SIZE);
    if ((rc = emit(w, w->out.data, w->out.len, err))) return rc;
    firn_buf_clear(&w->block);
    w->block_count = 0;
    return 0;
}

static int appended(firn_avro_writer *w, firn_error *err) {
    w->block_count++;
    w->records++;
    if (w->block.len >= w->block_size) return firn_avro_writer_flush(w, err);
    return 0;
}

int firn_avro_writer_append(firn_avro_writer *w, const firn_avro_value *value, firn_error *err) {
    int rc = check_usable(w, err);
    if (rc) return rc;
    if ((rc = firn_avro_encode_value(&w->block, firn_avro_schema_root(w->schema), value, err)))
        return rc;
    return appended(w, err);
}

int firn_avro_writer_append_encoded(firn_avro_writer *w, const void *data, size_t len,
                                    firn_error *err) {
    int rc = check_usable(w, err);
    if (rc) return rc;
    firn_buf_append(&w->block, data, len);
    return appended(w, err);
}

int firn_avro_writer_close(firn_avro_writer *w, uint64_t *bytes_written, firn_error *err) {
    int rc = firn_avro_writer_flush(w, err);
    if (rc) return rc;
    if (w->fd >= 0) {
        if (fsync(w->fd) != 0) {
            w->failed = true;
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "avro writer: cannot fsync: %s", strerror(errno));
            firn_error_context(err, "%s", w->path);
            return rc;
        }
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0) {
            w->failed = true;
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "avro writer: cannot close: %s", strerror(errno));
            firn_error_context(err, "%s", w->path);
            return rc;
        }
    }
    w->closed = true;
    if (bytes_written) *bytes_written = w->bytes_written;
    return 0;
}

void firn_avro_writer_free(firn_avro_writer *w) {
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    if (w->path && !w->closed) unlink(w->path); /* never leave a partial file behind */
    free(w->path);
    firn_avro_schema_free(w->schema);
    firn_avro_codec_state_free(w->cs);
    firn_buf_release(&w->header);
    firn_buf_release(&w->block);
    firn_buf_release(&w->packed);
    firn_buf_release(&w->out);
    free(w);
}

/* ------------------------------------------------------------ file writer */

static int write_fd(void *ctx, const void *data, size_t len, firn_error *err) {
    firn_avro_writer *w = ctx;
    const uint8_t *p = data;
    while (len) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int rc = FIRN_RAISE(err, FIRN_ERR_IO, "avro writer: cannot write: %s", strerror(errno));
            firn_error_context(err, "%s", w->path);
            return rc;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

firn_avro_writer *firn_avro_writer_create(const char *path, const char *schema_json,
                                          const char *codec, int level,
                                          const firn_avro_kv *meta, firn_error *err) {
    firn_avro_writer *w = firn_avro_writer_new(schema_json, codec, level, meta, write_fd, NULL, err);
    if (!w) return NULL;
    w->ctx = w;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        FIRN_RAISE(err, errno == EEXIST ? FIRN_ERR_CONFLICT : FIRN_ERR_IO,
                   "avro writer: cannot create: %s", strerror(errno));
        firn_error_context(err, "%s", path);
        firn_avro_writer_free(w);
        return NULL;
    }
    w->fd = fd;
    w->path = firn_xstrdup(path);
    return w;
}
