/* reader.c - read Avro object container files: header, metadata, blocks, records. */
#include "avro/avro_internal.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct meta_entry {
    char *key;
    char *value; /* NUL-terminated copy */
    size_t len;
} meta_entry;

struct firn_avro_reader {
    uint8_t *owned; /* the file, when the reader read it */
    const uint8_t *data;
    size_t len;
    size_t pos; /* offset of the next block */
    firn_avro_schema *schema;
    avro_codec codec;
    avro_codec_state *cs;
    uint8_t sync[FIRN_AVRO_SYNC_SIZE];
    firn_arena arena; /* metadata */
    meta_entry *meta;
    size_t nmeta;
    firn_avro_limits limits;
    bool projected;
    /* the current block */
    firn_buf inflated;
    const uint8_t *bp, *bend;
    uint64_t block_left; /* records not yet read */
    size_t block_offset;
    uint64_t block_index, block_record;
    uint64_t records;
    bool failed;
    firn_error failure; /* repeated by every call after a failure */
};

void firn_avro_limits_default(firn_avro_limits *l) {
    l->max_block_size = (size_t)64 << 20;
    l->max_record_memory = (size_t)256 << 20;
    l->max_block_records = (size_t)16 << 20;
    l->max_depth = FIRN_AVRO_MAX_DEPTH;
}

/* A cursor over the header with the decoder's bounds checks. */
static int hdr_long(firn_avro_reader *r, size_t *pos, int64_t *v, firn_error *err) {
    uint64_t u;
    size_t n = firn_varint_decode(r->data + *pos, r->data + r->len, &u);
    if (!n || (n == 10 && r->data[*pos + 9] > 1))
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: %s varint at offset %zu",
                          r->len - *pos < 10 ? "truncated" : "invalid", *pos);
    *pos += n;
    *v = firn_unzigzag64(u);
    return 0;
}

static int hdr_bytes(firn_avro_reader *r, size_t *pos, const uint8_t **p, size_t *len,
                     firn_error *err) {
    int64_t n;
    int rc = hdr_long(r, pos, &n, err);
    if (rc) return rc;
    if (n < 0 || (uint64_t)n > r->len - *pos)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "avro: header string length %lld at offset %zu is out of range",
                          (long long)n, *pos);
    *p = r->data + *pos;
    *len = (size_t)n;
    *pos += (size_t)n;
    return 0;
}

static int parse_header(firn_avro_reader *r, firn_error *err) {
    if (r->len < 4 || memcmp(r->data, "Obj\x01", 4) != 0)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "avro: not an Avro object container file (bad magic)");
    size_t pos = 4, cap = 0;
    int rc;
    for (;;) {
        int64_t count;
        if ((rc = hdr_long(r, &pos, &count, err))) return rc;
        if (count == 0) break;
        if (count < 0) {
            int64_t bytes;
            if (count == INT64_MIN) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: bad metadata count");
            count = -count;
            if ((rc = hdr_long(r, &pos, &bytes, err))) return rc;
        }
        /* each entry takes at least two bytes: bounds the count before allocating */
        if ((uint64_t)count > (r->len - pos) / 2)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "avro: metadata claims %lld entries, more than the file holds",
                              (long long)count);
        if (r->nmeta + (size_t)count > cap) {
            cap = r->nmeta + (size_t)count;
            meta_entry *m = firn_arena_alloc(&r->arena, cap * sizeof *m);
            if (r->nmeta) memcpy(m, r->meta, r->nmeta * sizeof *m);
            r->meta = m;
        }
        for (int64_t i = 0; i < count; i++) {
            const uint8_t *k, *v;
            size_t klen, vlen;
            if ((rc = hdr_bytes(r, &pos, &k, &klen, err))) return rc;
            if ((rc = hdr_bytes(r, &pos, &v, &vlen, err))) return rc;
            meta_entry *e = &r->meta[r->nmeta++];
            e->key = firn_arena_strndup(&r->arena, (const char *)k, klen);
            e->value = firn_arena_strndup(&r->arena, (const char *)v, vlen);
            e->len = vlen;
        }
    }
    if (r->len - pos < FIRN_AVRO_SYNC_SIZE)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: header is truncated (no sync marker)");
    memcpy(r->sync, r->data + pos, FIRN_AVRO_SYNC_SIZE);
    r->pos = pos + FIRN_AVRO_SYNC_SIZE;

    size_t clen = 4;
    const char *codec = firn_avro_reader_meta(r, "avro.codec", &clen);
    int c = codec ? firn_avro_codec_lookup(codec, clen) : AVRO_CODEC_NULL;
    if (c < 0)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "avro: unsupported codec '%.40s' (firn reads null, deflate, zstandard, "
                          "snappy)",
                          codec);
    r->codec = (avro_codec)c;
    r->cs = firn_avro_codec_state_new(r->codec, 0);
    size_t slen;
    const char *stext = firn_avro_reader_meta(r, "avro.schema", &slen);
    if (!stext) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "avro: no avro.schema in the header");
    r->schema = firn_avro_schema_parse_mode(stext, slen, false, err);
    if (!r->schema) return FIRN_WRAP(err, FIRN_ERR_CORRUPT, "avro: the file's schema is invalid");
    return 0;
}

firn_avro_reader *firn_avro_reader_open_mem(const void *data, size_t len, firn_error *err) {
    firn_avro_reader *r = firn_xcalloc(1, sizeof *r);
    r->data = data;
    r->len = len;
    firn_arena_init(&r->arena, 4096);
    firn_avro_limits_default(&r->limits);
    if (parse_header(r, err) != 0) {
        firn_avro_reader_free(r);
        return NULL;
    }
    return r;
}

firn_avro_reader *firn_avro_reader_open(const char *path, firn_error *err) {
    uint8_t *data;
    size_t len;
    if (firn_read_file(path, &data, &len, err) != 0) return NULL;
    firn_avro_reader *r = firn_avro_reader_open_mem(data, len, err);
    if (!r) {
        free(data);
        firn_error_context(err, "%s", path);
        return NULL;
    }
    r->owned = data;
    return r;
}

void firn_avro_reader_free(firn_avro_reader *r) {
    if (!r) return;
    firn_avro_schema_free(r->schema);
    firn_avro_codec_state_free(r->cs);
    firn_arena_release(&r->arena);
    firn_buf_release(&r->inflated);
    firn_error_release(&r->failure);
    free(r->owned);
    free(r);
}

void firn_avro_reader_set_limits(firn_avro_reader *r, const firn_avro_limits *l) {
    firn_avro_limits d;
    firn_avro_limits_default(&d);
    r->limits = *l;
    if (!r->limits.max_block_size || r->limits.max_block_size > ((size_t)1 << 31))
        r->limits.max_block_size = d.max_block_size;
    if (!r->limits.max_record_memory) r->limits.max_record_memory = d.max_record_memory;
    if (!r->limits.max_block_records) r->limits.max_block_records = d.max_block_records;
    if (r->limits.max_depth <= 0 || r->limits.max_depth > FIRN_AVRO_MAX_DEPTH)
        r->limits.max_depth = FIRN_AVRO_MAX_DEPTH;
}

int firn_avro_reader_project(firn_avro_reader *r, const int32_t *field_ids, size_t n,
                             firn_error *err) {
    if (n && !field_ids) return FIRN_RAISE(err, FIRN_ERR_INVALID, "avro reader: no field ids");
    firn_avro_schema_project(r->schema, field_ids, n);
    r->projected = n > 0;
    return 0;
}

const firn_avro_schema *firn_avro_reader_schema(const firn_avro_reader *r) { return r->schema; }
const char *firn_avro_reader_codec(const firn_avro_reader *r) {
    return firn_avro_codec_name(r->codec);
}
uint64_t firn_avro_reader_record_count(const firn_avro_reader *r) { return r->records; }
size_t firn_avro_reader_meta_count(const firn_avro_reader *r) { return r->nmeta; }

const char *firn_avro_reader_meta(const firn_avro_reader *r, const char *key, size_t *len) {
    for (size_t i = 0; i < r->nmeta; i++)
        if (strcmp(r->meta[i].key, key) == 0) {
            if (len) *len = r->meta[i].len;
            return r->meta[i].value;
        }
    return NULL;
}

const char *firn_avro_reader_meta_at(const firn_avro_reader *r, size_t i, const char **value,
                                     size_t *len) {
    if (i >= r->nmeta) return NULL;
    if (value) *value = r->meta[i].value;
    if (len) *len = r->meta[i].len;
    return r->meta[i].key;
}

/* Remember the failure so that later calls repeat it instead of reading on. */
static int fail(firn_avro_reader *r, int rc, firn_error *err) {
    r->failed = true;
    firn_error_release(&r->failure);
    if (err) {
        r->failure = *err;
        r->failure.cause = NULL; /* the copy keeps only the top error */
    }
    r->failure.kind = (firn_err_kind)-rc;
    return rc;
}

static int next_block(firn_avro_reader *r, firn_error *err) {
    size_t pos = r->pos;
    int64_t count, size;
    int rc;
    r->block_offset = pos;
    if ((rc = hdr_long(r, &pos, &count, err)) || (rc = hdr_long(r, &pos, &size, err)))
        return FIRN_WRAP(err, FIRN_ERR_CORRUPT, "avro: truncated block header at offset %zu",
                         r->block_offset);
    if (count < 0 || size < 0)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "avro: block at offset %zu has a negative %s", r->block_offset,
                          count < 0 ? "record count" : "size");
    if ((uint64_t)size > r->len - pos || r->len - pos - (size_t)size < FIRN_AVRO_SYNC_SIZE)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "avro: block at offset %zu claims %lld bytes, the file has %zu left "
                          "(truncated file?)",
                          r->block_offset, (long long)size, r->len - pos);
    const uint8_t *data = r->data + pos;
    if (memcmp(data + size, r->sync, FIRN_AVRO_SYNC_SIZE) != 0)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "avro: block at offset %zu does not end with the file's sync marker",
                          r->block_offset);
    if ((uint64_t)count > r->limits.max_block_records)
        return FIRN_RAISE(err, FIRN_ERR_LIMIT,
                          "avro: block at offset %zu claims %lld records (max_block_records %zu)",
                          r->block_offset, (long long)count, r->limits.max_block_records);
    if (r->codec == AVRO_CODEC_NULL) {
        if ((uint64_t)size > r->limits.max_block_size)
            return FIRN_RAISE(err, FIRN_ERR_LIMIT,
                              "avro: block at offset %zu has %lld bytes (max_block_size %zu)",
                              r->block_offset, (long long)size, r->limits.max_block_size);
        r->bp = data;
        r->bend = data + size;
    } else {
        rc = firn_avro_decompress(r->cs, data, (size_t)size, r->limits.max_block_size,
                                  &r->inflated, err);
        if (rc) {
            firn_error_context(err, "block at offset %zu", r->block_offset);
            return rc;
        }
        r->bp = r->inflated.data;
        r->bend = r->inflated.data + r->inflated.len;
    }
    size_t bytes = (size_t)(r->bend - r->bp);
    int64_t min = firn_avro_schema_root(r->schema)->encoded_size;
    if ((min != 0 && (uint64_t)count > bytes / (uint64_t)(min < 0 ? 1 : min)) ||
        (count == 0 && bytes != 0))
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "avro: block at offset %zu claims %lld records in %zu bytes",
                          r->block_offset, (long long)count, bytes);
    r->pos = pos + (size_t)size + FIRN_AVRO_SYNC_SIZE;
    r->block_left = (uint64_t)count;
    r->block_record = 0;
    r->block_index++;
    return 0;
}

int firn_avro_reader_next(firn_avro_reader *r, firn_arena *arena, firn_avro_value *out,
                          firn_error *err) {
    if (r->failed) {
        if (err) {
            firn_error_release(err);
            *err = r->failure;
            err->cause = NULL;
        }
        return -(int)r->failure.kind;
    }
    int rc;
    while (r->block_left == 0) {
        if (r->pos == r->len) return 0;
        if ((rc = next_block(r, err))) return fail(r, rc, err);
    }
    avro_decoder d = {.p = r->bp, .end = r->bend, .arena = arena,
                      .mem_limit = r->limits.max_record_memory, .max_depth = r->limits.max_depth,
                      .project = r->projected, .err = err};
    if ((rc = firn_avro_decode(&d, firn_avro_schema_root(r->schema), out))) {
        firn_error_context(err, "record %llu of the block at offset %zu",
                           (unsigned long long)r->block_record, r->block_offset);
        return fail(r, rc, err);
    }
    r->bp = d.p;
    r->block_left--;
    r->block_record++;
    if (r->block_left == 0 && r->bp != r->bend) {
        rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                        "avro: block at offset %zu has %zu bytes after its last record",
                        r->block_offset, (size_t)(r->bend - r->bp));
        return fail(r, rc, err);
    }
    r->records++;
    return 1;
}
