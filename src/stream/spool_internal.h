/*
 * spool_internal.h - the spool's on-disk format and in-memory state, shared by
 * spool.c (topics, partitions, append, retention) and spool_read.c (consumers
 * and random access).
 *
 * Layout under the spool directory:
 *   <topic>/topic.meta                  "partitions N\n" (published with link(), atomic)
 *   <topic>/<p>/<base:020>.log          a segment: frames of records base, base+1, ...
 *   <topic>/<p>/<base:020>.idx          sparse index of a sealed segment (written at roll)
 *   <topic>/<p>/.lock                   flock()ed by an appender (any process) per call
 *   .groups/<group>.offsets             committed positions, for monitoring only
 *
 * A frame (all integers little-endian):
 *   u32 body_len, u32 crc32c(body), body:
 *     i64 offset, i64 timestamp_ms,
 *     u32 key_len (0xffffffff = no key), key,
 *     u32 n_headers, n x { u32 name_len, name, NUL, u32 value_len (0xffffffff = null), value },
 *     u32 value_len, value
 * A reader accepts a frame only when all of it is there and its CRC matches, so a
 * partly written frame is invisible; an appender (holding the lock, so no write is
 * in flight) truncates such a tail: it is a crashed writer's leftover.
 *
 * Index file: 48-byte header "FIDX", u32 version 1, i64 base, i64 next, u64 size,
 * i64 max_ts, u32 n, u32 crc32c(header[0..44) + entries), then n x {u32 offset -
 * base, u32 byte position}. One entry per SPOOL_INDEX_INTERVAL bytes of log.
 */
#ifndef FIRN_SPOOL_INTERNAL_H
#define FIRN_SPOOL_INTERNAL_H

#include "stream/stream_internal.h"

#include <pthread.h>
#include <sys/types.h>

#define SPOOL_FRAME_HDR 8
#define SPOOL_BODY_FIXED 28
#define SPOOL_NULL_LEN 0xffffffffu
#define SPOOL_INDEX_INTERVAL 4096
#define SPOOL_FRAME_MAX ((uint64_t)(1u << 30) + (1u << 20))
#define SPOOL_MAX_RECORD_LIMIT (1ull << 30)

typedef struct spool_idx_entry {
    uint32_t rel;
    uint32_t pos;
} spool_idx_entry;

typedef struct spool_seg {
    int64_t base;
    int64_t next;          /* offset after the last valid record */
    uint64_t size;         /* bytes of valid frames */
    int64_t max_ts;        /* newest record timestamp (INT64_MIN when empty) */
    uint64_t last_idx_pos; /* byte position of the last index entry */
    spool_idx_entry *idx;
    size_t nidx, capidx;
    int rfd;     /* shared read fd, opened lazily; -1 */
    int readers; /* firn_stream_get calls reading through rfd outside the lock */
    bool dead;   /* deleted by retention; freed when readers drops to 0 */
} spool_seg;

typedef struct spool spool;

typedef struct spool_part {
    spool *s;
    const char *topic;
    int32_t id;
    char *dir;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a sync finished */
    spool_seg **segs;  /* ascending base; the last one is active */
    size_t nsegs, capsegs;
    /* appending (under mu) */
    int lock_fd;           /* <dir>/.lock, -1 until the first append */
    int wfd;               /* active segment, write only; -1 */
    int64_t wfd_base;
    uint64_t write_seq;    /* writes done */
    uint64_t synced_seq;   /* writes durable */
    bool syncing;          /* a thread is in fdatasync outside mu */
    int64_t vis_base;      /* >= 0: readers in this process see segment vis_base only */
    uint64_t vis_pos;      /*   up to vis_pos (the rest is not yet fsynced) */
    uint64_t last_retention_ns;
    bool broken; /* an fsync failed: the page cache may have dropped data */
    firn_buf enc;
    uint8_t *scan_buf;
    size_t scan_cap;
} spool_part;

typedef struct spool_topic {
    char *name;
    int32_t nparts;
    spool_part **parts; /* loaded lazily */
} spool_topic;

struct spool {
    firn_stream base;
    char *dir;
    pthread_mutex_t mu; /* topics and lazy partition loading */
    spool_topic **topics;
    size_t ntopics, captopics;
    pthread_mutex_t data_mu; /* consumers wait here for appends in this process */
    pthread_cond_t data_cv;
    uint64_t append_gen;
};

/* A decoded frame (pointers into the buffer it was parsed from). */
typedef struct spool_frame {
    size_t len; /* whole frame, header included; 0 when not even the header is there */
    int64_t offset;
    int64_t timestamp_ms;
    const uint8_t *key; /* NULL: no key */
    uint32_t key_len;
    uint32_t n_headers;
    const uint8_t *headers; /* encoded */
    size_t headers_len;
    const uint8_t *value;
    uint32_t value_len;
} spool_frame;

/* 1: a whole valid frame; 0: incomplete (f->len says how much is needed when
 * known); -1: corrupt (bad length, CRC or layout). */
int firn_spool_frame_parse(const uint8_t *p, size_t avail, spool_frame *f);
/* Decode n_headers of f into out (names point into the frame). */
void firn_spool_frame_headers(const spool_frame *f, firn_header *out);

/* "<part dir>/<base:020>.<ext>" */
void firn_spool_seg_path(const spool_part *p, int64_t base, const char *ext, char *buf, size_t n);
/* The partition, loaded on first use (FIRN_ERR_NOT_FOUND for a missing topic or
 * partition out of range). */
int firn_spool_part(spool *s, const char *topic, int32_t partition, spool_part **out,
                    firn_error *err);
/* Catch up with the files (appends and rolls by other processes, retention).
 * repair: truncate an invalid tail (only with the partition's flock held).
 * Caller holds p->mu. */
int firn_spool_part_refresh(spool_part *p, bool repair, firn_error *err);
/* Segment index holding offset (base <= offset < next, or the last segment when
 * offset == its next), or -1. Caller holds p->mu. */
ssize_t firn_spool_find_seg(const spool_part *p, int64_t offset);
/* Byte position to start scanning from for offset within seg (index lookup). */
uint64_t firn_spool_seg_lookup(const spool_seg *seg, int64_t offset);
/* Release a reader reference on seg (frees a dead segment). Caller holds p->mu. */
void firn_spool_seg_unref(spool_seg *seg);

/* spool_read.c */
int firn_spool_get(firn_stream *st, const char *topic, int32_t partition, int64_t offset,
                   firn_record **out, firn_error *err);
int firn_spool_consumer_open(firn_stream *st, const firn_consumer_options *o,
                             firn_consumer **out, firn_error *err);
void firn_spool_consumer_close(firn_consumer *c);
int firn_spool_assign(firn_consumer *c, const firn_topic_partition *tps, size_t n,
                      firn_error *err);
int firn_spool_subscribe(firn_consumer *c, const char *const *topics, size_t n,
                         firn_error *err);
int firn_spool_seek(firn_consumer *c, const char *topic, int32_t partition, int64_t offset,
                    firn_error *err);
int firn_spool_poll(firn_consumer *c, int timeout_ms, const firn_record **records, size_t *n,
                    firn_error *err);
int firn_spool_commit(firn_consumer *c, const firn_topic_partition *tps, size_t n,
                      firn_error *err);

#endif
