/*
 * stream.c - URI dispatch and the calls every transport shares.
 */
#include "stream/stream_internal.h"

#include <stdlib.h>
#include <string.h>

void firn_stream_options_init(firn_stream_options *o) {
    memset(o, 0, sizeof *o);
    o->fsync = FIRN_FSYNC_BATCH;
}

void firn_consumer_options_init(firn_consumer_options *o) { memset(o, 0, sizeof *o); }

int firn_stream_open(const char *uri, const firn_stream_options *opts, firn_stream **out,
                     firn_error *err) {
    firn_stream_options defaults;
    if (!opts) {
        firn_stream_options_init(&defaults);
        opts = &defaults;
    }
    *out = NULL;
    if (!uri || !*uri) return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty stream URI");
    if (strncmp(uri, "kafka://", 8) == 0) return firn_kafka_open(uri + 8, opts, out, err);
    if (strncmp(uri, "spool:", 6) == 0) return firn_spool_open(uri + 6, opts, out, err);
    if (strstr(uri, "://"))
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "stream URI %s: expected spool:DIR, a directory or kafka://HOST:PORT",
                          uri);
    return firn_spool_open(uri, opts, out, err);
}

void firn_stream_close(firn_stream *s) {
    if (s) s->vt->close(s);
}

const char *firn_stream_kind(const firn_stream *s) { return s->vt->kind; }

int firn_stream_create_topic(firn_stream *s, const char *topic, int32_t partitions,
                             firn_error *err) {
    if (partitions <= 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "topic %s: %d partitions", topic, partitions);
    return s->vt->create_topic(s, topic, partitions, err);
}

int firn_stream_partitions(firn_stream *s, const char *topic, int32_t *out, firn_error *err) {
    return s->vt->partitions(s, topic, out, err);
}

int firn_stream_topics(firn_stream *s, char ***out, size_t *n, firn_error *err) {
    return s->vt->topics(s, out, n, err);
}

int firn_stream_watermarks(firn_stream *s, const char *topic, int32_t partition,
                           firn_watermarks *out, firn_error *err) {
    return s->vt->watermarks(s, topic, partition, out, err);
}

int firn_stream_append(firn_stream *s, const char *topic, const firn_msg *msgs, size_t n,
                       int64_t *offsets_out, int32_t *partitions_out, firn_error *err) {
    for (size_t i = 0; i < n; i++)
        if (msgs[i].value_len + msgs[i].key_len > s->opts.max_record_bytes)
            return FIRN_RAISE(err, FIRN_ERR_LIMIT,
                              "topic %s: record of %zu bytes exceeds the limit of %llu bytes "
                              "(limits.max-event-bytes)",
                              topic, msgs[i].value_len + msgs[i].key_len,
                              (unsigned long long)s->opts.max_record_bytes);
    return s->vt->append(s, topic, msgs, n, offsets_out, partitions_out, err);
}

/* Kafka's murmur2 (the Java client's Utils.murmur2), seed 0x9747b28c. */
static uint32_t murmur2(const uint8_t *data, size_t len) {
    const uint32_t m = 0x5bd1e995;
    const int r = 24;
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;
    size_t n4 = len / 4;
    for (size_t i = 0; i < n4; i++) {
        uint32_t k = firn_load_le32(data + 4 * i);
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    const uint8_t *tail = data + 4 * n4;
    switch (len & 3) {
    case 3: h ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2: h ^= (uint32_t)tail[1] << 8;  /* fall through */
    case 1:
        h ^= tail[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

int32_t firn_stream_partition_for_key(const void *key, size_t len, int32_t partitions) {
    if (partitions <= 1 || !key) return 0;
    return (int32_t)((murmur2(key, len) & 0x7fffffffu) % (uint32_t)partitions);
}

int firn_consumer_open(firn_stream *s, const firn_consumer_options *o, firn_consumer **out,
                       firn_error *err) {
    firn_consumer_options defaults;
    if (!o) {
        firn_consumer_options_init(&defaults);
        o = &defaults;
    }
    *out = NULL;
    return s->vt->consumer_open(s, o, out, err);
}

void firn_consumer_close(firn_consumer *c) {
    if (c) c->stream->vt->consumer_close(c);
}

int firn_consumer_assign(firn_consumer *c, const firn_topic_partition *tps, size_t n,
                         firn_error *err) {
    return c->stream->vt->assign(c, tps, n, err);
}

int firn_consumer_subscribe(firn_consumer *c, const char *const *topics, size_t n,
                            firn_error *err) {
    return c->stream->vt->subscribe(c, topics, n, err);
}

int firn_consumer_seek(firn_consumer *c, const char *topic, int32_t partition, int64_t offset,
                       firn_error *err) {
    return c->stream->vt->seek(c, topic, partition, offset, err);
}

int firn_consumer_poll(firn_consumer *c, int timeout_ms, const firn_record **records, size_t *n,
                       firn_error *err) {
    *records = NULL;
    *n = 0;
    return c->stream->vt->poll(c, timeout_ms, records, n, err);
}

int firn_consumer_commit(firn_consumer *c, const firn_topic_partition *tps, size_t n,
                         firn_error *err) {
    return c->stream->vt->commit(c, tps, n, err);
}

int firn_stream_get(firn_stream *s, const char *topic, int32_t partition, int64_t offset,
                    firn_record **out, firn_error *err) {
    *out = NULL;
    if (!s->vt->get)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "%s streams have no random access by offset", s->vt->kind);
    return s->vt->get(s, topic, partition, offset, out, err);
}

/* Transports allocate a record from firn_stream_get() as one block holding the
 * struct and everything it points to. */
void firn_stream_record_release(firn_record *r) { free(r); }

void firn_stream_resolve_options(const firn_stream_options *in, firn_stream_options *out) {
    *out = *in;
    if (!out->segment_bytes) out->segment_bytes = 64ull << 20;
    if (!out->max_record_bytes) out->max_record_bytes = 16ull << 20;
    if (!out->client_id) out->client_id = "firn";
}
