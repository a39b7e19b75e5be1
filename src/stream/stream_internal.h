/*
 * stream_internal.h - how a transport plugs into stream.h. stream.c parses the
 * URI, then calls the matching open; every other public call dispatches
 * through the vtable. Each transport embeds firn_stream / firn_consumer as its
 * first member.
 */
#ifndef FIRN_STREAM_INTERNAL_H
#define FIRN_STREAM_INTERNAL_H

#include "stream/stream.h"

typedef struct firn_stream_vtable {
    const char *kind;
    void (*close)(firn_stream *s);
    int (*create_topic)(firn_stream *s, const char *topic, int32_t partitions, firn_error *err);
    int (*partitions)(firn_stream *s, const char *topic, int32_t *out, firn_error *err);
    int (*topics)(firn_stream *s, char ***out, size_t *n, firn_error *err);
    int (*watermarks)(firn_stream *s, const char *topic, int32_t partition,
                      firn_watermarks *out, firn_error *err);
    int (*append)(firn_stream *s, const char *topic, const firn_msg *msgs, size_t n,
                  int64_t *offsets_out, int32_t *partitions_out, firn_error *err);
    int (*get)(firn_stream *s, const char *topic, int32_t partition, int64_t offset,
               firn_record **out, firn_error *err);

    int (*consumer_open)(firn_stream *s, const firn_consumer_options *o, firn_consumer **out,
                         firn_error *err);
    void (*consumer_close)(firn_consumer *c);
    int (*assign)(firn_consumer *c, const firn_topic_partition *tps, size_t n, firn_error *err);
    int (*subscribe)(firn_consumer *c, const char *const *topics, size_t n, firn_error *err);
    int (*seek)(firn_consumer *c, const char *topic, int32_t partition, int64_t offset,
                firn_error *err);
    int (*poll)(firn_consumer *c, int timeout_ms, const firn_record **records, size_t *n,
                firn_error *err);
    int (*commit)(firn_consumer *c, const firn_topic_partition *tps, size_t n, firn_error *err);
} firn_stream_vtable;

struct firn_stream {
    const firn_stream_vtable *vt;
    firn_stream_options opts; /* resolved: zeros replaced by defaults */
};

struct firn_consumer {
    firn_stream *stream;
    firn_consumer_options opts; /* resolved */
};

/* Fill out from in with defaults for zeros (segment 64 MiB, max record 16 MiB,
 * client id "firn"). Transports keep the result in firn_stream.opts. */
void firn_stream_resolve_options(const firn_stream_options *in, firn_stream_options *out);

/* firn_stream_get() results are one malloc block: the firn_record followed by
 * the topic, key, value and headers it points to (released with free()). */

/* Transport constructors (location is the URI without its scheme). */
int firn_spool_open(const char *dir, const firn_stream_options *opts, firn_stream **out,
                    firn_error *err);
int firn_kafka_open(const char *bootstrap, const firn_stream_options *opts, firn_stream **out,
                    firn_error *err);

#endif
