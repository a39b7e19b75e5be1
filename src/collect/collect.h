/*
 * collect.h - file-drop ingest: a directory in the layout an Omniverse
 * Replicator BasicWriter produces (`firn sim --out DIR` writes exactly that),
 * one frame = an image file plus its annotation sidecar with the same stem
 * (rgb_0000.jpg + rgb_0000.json), each written via a temp file and rename.
 * Each frame becomes one event on the raw topic in sim.h's envelope (value =
 * the sidecar's bytes, header "image" = the image's bytes, key = the sidecar's
 * key field, timestamp = now), appended durably, and then the pair is moved
 * to DIR/.done/.
 *
 * What happens to each file:
 *  - sidecar + one image: appended, moved to .done/.
 *  - sidecar alone: once it is older than the grace period (an image may still
 *    come), appended as an event without image (validation then rejects it as
 *    required:image - kept, never lost), moved to .done/. Counted.
 *  - image alone: waits for its sidecar; after the grace period it is moved to
 *    .failed/ with a reason file (.failed/<stem>.reason). Counted.
 *  - unreadable files, several images for one stem, an event over
 *    max_event_bytes: moved to .failed/ with a reason file. Counted.
 *  Names starting with '.' (temp files, firn's own) and directories are ignored.
 *  Frames are taken in natural order of their stems (rgb_9999 before rgb_10000).
 *
 * Exactly once across crashes: before each append, the frames' identities
 * (stem + hashes of sidecar and image) and the raw topic's high watermarks are
 * written and fsynced to DIR/.collect.pending; each record carries its identity
 * in the header "firn-collect". After the append the pairs are moved, the
 * directories fsynced, and the pending file removed. On open, a complete
 * pending file means a batch may have reached the log: the records appended
 * since those watermarks are read back, and every listed frame found there is
 * moved to .done/ without being appended again; the others are collected as
 * usual. One collector per directory (flock on DIR/.collect.lock).
 *
 * Crash points (FIRN_CRASH_AT, io.h): collect.after-pending, collect.after-append,
 * collect.mid-move.
 */
#ifndef FIRN_COLLECT_H
#define FIRN_COLLECT_H

#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct firn_stream;

#define FIRN_COLLECT_HEADER "firn-collect"

typedef struct firn_collect_options {
    const char *dir;          /* the watched directory (required) */
    const char *topic;        /* raw topic, default "events" (created with partitions if missing) */
    int32_t partitions;       /* default 1 */
    const char *key_field;    /* record key from this sidecar field, default "carId" */
    int64_t grace_us;         /* how long a lone file may wait for its partner, default 5 s */
    uint64_t max_event_bytes; /* sidecar + image limit, default 16 MiB */
    size_t batch_max;         /* frames per append call, default 64 */
} firn_collect_options;

void firn_collect_options_init(firn_collect_options *o);

typedef struct firn_collect_stats {
    uint64_t appended;      /* events appended to the raw topic */
    uint64_t recovered;     /* frames a crashed run had appended, moved without a new append */
    uint64_t sidecar_only;  /* of appended: sidecars without image */
    uint64_t failed;        /* frames (or lone files) moved to .failed/ */
    uint64_t waiting;       /* lone files still inside their grace period at the last scan */
} firn_collect_stats;

typedef struct firn_collect firn_collect;

/* Lock the directory, create .done/ and .failed/, and recover a crashed run's
 * pending batch. The stream is borrowed and must outlive the collector. */
int firn_collect_open(struct firn_stream *s, const firn_collect_options *o, firn_collect **out,
                      firn_error *err);
void firn_collect_free(firn_collect *c);
/* One pass over the directory: append every complete frame, settle lone files
 * whose grace has passed. *next_due_us (may be NULL) receives how long until
 * a waiting lone file's grace ends (0 when none waits). */
int firn_collect_scan(firn_collect *c, int64_t *next_due_us, firn_error *err);
const firn_collect_stats *firn_collect_get_stats(const firn_collect *c);

#endif
