/*
 * stream.h - the transports under the pipeline: firn's embedded durable log
 * (the spool) and Kafka, behind one interface. The pipeline never knows which
 * one it runs on.
 *
 * A stream is a set of topics, each with a fixed number of partitions; each
 * partition is an ordered log of records with dense offsets 0, 1, 2, ...
 * (Kafka's model). The tables, not the transport, own consumer positions:
 * readers are positioned explicitly, and a committed group offset is only for
 * monitoring tools.
 *
 * URIs:
 *   "spool:./data/spool"  or a plain path       - the spool, one directory
 *   "kafka://host:port[,host:port...]"          - a Kafka-protocol cluster
 *
 * The contract both keep:
 *  - firn_stream_append() returns only after every record of the call is
 *    durable: on the spool, fsynced under the "batch" and "always" policies
 *    (written to the OS under "never"); on Kafka, acknowledged with acks=all by
 *    an idempotent producer. On error nothing of the call may be assumed
 *    written (a caller retries the whole call; duplicates are the tables'
 *    business, not the log's).
 *  - Offsets are dense per partition and never reused. Records come back with
 *    the bytes, key, headers and timestamp they were appended with.
 *  - A record larger than the stream's max record size is refused with
 *    FIRN_ERR_LIMIT before anything is written.
 *
 * Threads: a firn_stream may be shared by threads for append; each consumer is
 * used by one thread.
 */
#ifndef FIRN_STREAM_H
#define FIRN_STREAM_H

#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct firn_stream firn_stream;
typedef struct firn_consumer firn_consumer;

/* How the spool syncs appends to disk, and what each policy risks:
 *  - batch (default): each append call writes its records (one pwritev per
 *    partition and segment), then fdatasyncs before returning; threads appending
 *    at the same time share one fdatasync (group commit). An acknowledged record
 *    survives kill -9 and a power cut. Risk: none for acknowledged records; a
 *    call that fails or is interrupted may leave some of its records in the log
 *    (the caller retries the whole call, so they may appear twice).
 *  - always: every record is written and fdatasynced on its own, even within one
 *    call. Same guarantee as batch, per record rather than per call; the cost is
 *    one disk flush per record (hundreds, not millions, of records/s).
 *  - never: written to the OS page cache only. Survives kill -9 of the process
 *    (the kernel still holds the bytes), but a power cut or kernel crash can lose
 *    the last seconds of acknowledged records (the log is then cut back to its
 *    last intact record on open; offsets after it are handed out again).
 * Consumers in the same process only see records once they are durable under the
 * policy; a consumer in another process may see a record a moment before its
 * append call returns. */
typedef enum firn_fsync_policy {
    FIRN_FSYNC_BATCH = 0,  /* default: each append call (a group of records) is
                              fsynced before it returns; concurrent calls share
                              one fsync (group commit) */
    FIRN_FSYNC_ALWAYS = 1, /* every record is fsynced on its own */
    FIRN_FSYNC_NEVER = 2,  /* written to the OS only: survives kill -9, not a
                              power cut */
} firn_fsync_policy;

typedef struct firn_stream_options {
    firn_fsync_policy fsync;       /* spool */
    uint64_t segment_bytes;        /* spool: roll segments at this size (0 = 64 MiB) */
    uint64_t retention_bytes;      /* spool: per partition, 0 = unbounded */
    int64_t retention_ms;          /* spool: by age of the newest record in a segment, 0 = forever */
    uint64_t max_record_bytes;     /* both: 0 = 16 MiB (limits.max-event-bytes) */
    const char *const *kafka_conf; /* Kafka: extra librdkafka "key", "value" pairs,
                                      NULL-terminated (SASL, TLS, ...); may be NULL */
    const char *client_id;         /* Kafka: client.id, NULL = "firn" */
} firn_stream_options;

void firn_stream_options_init(firn_stream_options *o);

/* A record header, as Kafka's. */
typedef struct firn_header {
    const char *key;
    const void *value;
    size_t value_len;
} firn_header;

/* A record to append. partition < 0 picks one from the key (Kafka's murmur2
 * partitioner, so firn and Java clients agree), or partition 0 when there is
 * no key. */
typedef struct firn_msg {
    int32_t partition;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    const firn_header *headers;
    size_t n_headers;
    int64_t timestamp_ms; /* 0 = now */
} firn_msg;

/* A record read back. Pointers stay valid until the next poll on the same
 * consumer (or until firn_stream_record_release for firn_stream_get). */
typedef struct firn_record {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    const firn_header *headers;
    size_t n_headers;
} firn_record;

/* Where a partition's log starts and ends: records [low, high) exist. */
typedef struct firn_watermarks {
    int64_t low;
    int64_t high;
} firn_watermarks;

/* ------------------------------------------------------------ streams */

int firn_stream_open(const char *uri, const firn_stream_options *opts, firn_stream **out,
                     firn_error *err);
void firn_stream_close(firn_stream *s);
/* "spool" or "kafka". */
const char *firn_stream_kind(const firn_stream *s);

/* Create a topic with n partitions. An existing topic with the same count is
 * fine; a different count is FIRN_ERR_CONFLICT. */
int firn_stream_create_topic(firn_stream *s, const char *topic, int32_t partitions,
                             firn_error *err);
/* Partition count of an existing topic (FIRN_ERR_NOT_FOUND when missing). */
int firn_stream_partitions(firn_stream *s, const char *topic, int32_t *out, firn_error *err);
/* Names of every topic (caller frees each and the array). */
int firn_stream_topics(firn_stream *s, char ***out, size_t *n, firn_error *err);
int firn_stream_watermarks(firn_stream *s, const char *topic, int32_t partition,
                           firn_watermarks *out, firn_error *err);

/* Append n records to topic, durably (see the contract above). offsets_out, if
 * not NULL, receives each record's offset; partitions_out, if not NULL, each
 * record's partition. */
int firn_stream_append(firn_stream *s, const char *topic, const firn_msg *msgs, size_t n,
                       int64_t *offsets_out, int32_t *partitions_out, firn_error *err);

/* The partition Kafka's default partitioner picks for a key (murmur2). */
int32_t firn_stream_partition_for_key(const void *key, size_t len, int32_t partitions);

/* ------------------------------------------------------------ consumers */

typedef struct firn_topic_partition {
    const char *topic;
    int32_t partition;
    int64_t offset; /* the next offset to read */
} firn_topic_partition;

/* Called when a consumer group hands partitions to this consumer (assigned =
 * true) or takes them away. The callback may set each tp->offset (to the
 * position the tables recorded) before reading starts. It runs inside
 * firn_consumer_poll() and must not call the consumer. Kafka: a member that
 * has waited for an assignment (after subscribe or a revoke) longer than
 * max.poll.interval.ms + session.timeout.ms gets FIRN_ERR_LIMIT from poll. */
typedef void (*firn_rebalance_fn)(void *ctx, bool assigned, firn_topic_partition *tps, size_t n);

typedef struct firn_consumer_options {
    const char *group;          /* NULL: manual assignment only */
    firn_rebalance_fn on_rebalance;
    void *rebalance_ctx;
    size_t max_poll_records;    /* 0 = 10000 */
    size_t max_poll_bytes;      /* 0 = 64 MiB */
} firn_consumer_options;

void firn_consumer_options_init(firn_consumer_options *o);

int firn_consumer_open(firn_stream *s, const firn_consumer_options *o, firn_consumer **out,
                       firn_error *err);
void firn_consumer_close(firn_consumer *c);
/* Read exactly these partitions from these offsets (replaces any assignment). */
int firn_consumer_assign(firn_consumer *c, const firn_topic_partition *tps, size_t n,
                         firn_error *err);
/* Join the consumer group for these topics (cooperative rebalancing on Kafka;
 * the spool assigns every partition to the one consumer). */
int firn_consumer_subscribe(firn_consumer *c, const char *const *topics, size_t n,
                            firn_error *err);
/* Move one assigned partition's position. */
int firn_consumer_seek(firn_consumer *c, const char *topic, int32_t partition, int64_t offset,
                       firn_error *err);
/* Up to max_poll_records records in offset order per partition, waiting up to
 * timeout_ms when nothing is available. *records points into the consumer and
 * is valid until the next poll or close. *n = 0 on timeout. */
int firn_consumer_poll(firn_consumer *c, int timeout_ms, const firn_record **records, size_t *n,
                       firn_error *err);
/* Record positions for monitoring tools (Kafka group offsets); firn never
 * reads them back to decide where to resume. */
int firn_consumer_commit(firn_consumer *c, const firn_topic_partition *tps, size_t n,
                         firn_error *err);

/* ------------------------------------------------------------ random access */

/* Spool specifics: subscribe() offers each partition at its low watermark to the
 * rebalance callback; a position below the low watermark (deleted by retention)
 * makes poll fail with FIRN_ERR_NOT_FOUND; a position beyond the high watermark
 * waits until the log gets there. Appends by another process on the same spool
 * are seen within about 10 ms; appends in this process wake a waiting poll at
 * once. Several processes may append to the same partition (an flock per
 * partition serialises their writes). */

/* Read the one record at (topic, partition, offset): the spool's per-type
 * topics index raw records instead of copying them, and this resolves an index
 * entry. Caller releases with firn_stream_record_release(). FIRN_ERR_NOT_FOUND
 * when the offset is outside the log (or deleted by retention). Kafka:
 * FIRN_ERR_UNSUPPORTED. */
int firn_stream_get(firn_stream *s, const char *topic, int32_t partition, int64_t offset,
                    firn_record **out, firn_error *err);
void firn_stream_record_release(firn_record *r);

#endif
