/*
 * pipeline.h - firn's main job: classify raw events by type, validate them,
 * and publish them with Write-Audit-Publish, exactly once.
 *
 * This header has three layers, bottom up:
 *  - firn_rows: a columnar batch builder for a table's flat schema, row by
 *    row, in the layout the data writer takes.
 *  - source offsets: the map (topic, partition) -> next offset that every
 *    snapshot firn writes on `main` carries in its summary as
 *    firn.source.<topic>.<partition>, and recovery from it.
 *  - WAP: one batch's write (data files appended to the writer's branch cut
 *    at main), audit (counts per offset space, duplicates, schema) and
 *    publish (one multi-table catalog commit: fast-forward main, or
 *    cherry-pick onto a main that moved; the untrusted rows; one history row),
 *    fenced on the offsets main records.
 */
#ifndef FIRN_PIPELINE_H
#define FIRN_PIPELINE_H

#include "iceberg/iceberg.h"
#include "parquet/parquet.h"
#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------- row batches */

typedef struct firn_rows_col {
    firn_pq_type type;
    size_t width;    /* bytes per value for fixed-width types, 0 for string/binary */
    firn_buf values; /* fixed-width values */
    firn_buf offsets; /* int64 offsets (nrows + 1) */
    firn_buf data;
    firn_buf validity;
    size_t n;        /* values set so far (== nrows after firn_rows_end_row) */
    bool any_null;
} firn_rows_col;

typedef struct firn_rows {
    size_t ncols;
    size_t nrows;
    firn_rows_col *cols;
    firn_pq_column_data *view; /* built by firn_rows_columns() */
    uint64_t bytes;            /* payload bytes appended (for batch size limits) */
} firn_rows;

/* Columns for the top-level fields of schema (primitive types only). */
int firn_rows_init(firn_rows *r, const firn_ice_schema *schema, firn_error *err);
void firn_rows_release(firn_rows *r);
void firn_rows_clear(firn_rows *r); /* drop rows, keep memory */
/* Set column c of the current row. Unset columns become null at end_row. */
void firn_rows_set_null(firn_rows *r, size_t c);
void firn_rows_set_bool(firn_rows *r, size_t c, bool v);
void firn_rows_set_i32(firn_rows *r, size_t c, int32_t v);
void firn_rows_set_i64(firn_rows *r, size_t c, int64_t v); /* long, timestamps (us) */
void firn_rows_set_f64(firn_rows *r, size_t c, double v);
void firn_rows_set_bytes(firn_rows *r, size_t c, const void *p, size_t n); /* string/binary */
void firn_rows_set_str(firn_rows *r, size_t c, const char *s);
void firn_rows_end_row(firn_rows *r);
/* The columns in the data writer's layout; valid until the rows change. */
const firn_pq_column_data *firn_rows_columns(firn_rows *r);

/* ---------------------------------------------------------- source offsets */

typedef struct firn_offset {
    char topic[128];
    int32_t partition;
    int64_t offset; /* the next offset to read */
} firn_offset;

typedef struct firn_offset_map {
    size_t n, cap;
    firn_offset *e;
} firn_offset_map;

void firn_offset_map_release(firn_offset_map *m);
int64_t firn_offset_map_get(const firn_offset_map *m, const char *topic, int32_t partition,
                            int64_t dflt);
void firn_offset_map_set(firn_offset_map *m, const char *topic, int32_t partition, int64_t next);
/* Read the firn.source.* keys of a snapshot summary (replaces m's content). */
void firn_offset_map_from_snapshot(firn_offset_map *m, const firn_ice_snapshot *s);
/*
 * Walk `branch`'s ancestry in md from its head to the newest snapshot whose
 * summary has a firn.source.* key and read its map; an empty map when none
 * (a new table). *snapshot_id gets that snapshot's id or -1.
 */
void firn_offsets_recover(const firn_ice_metadata *md, const char *branch, firn_offset_map *m,
                          int64_t *snapshot_id);

#define FIRN_SOURCE_PREFIX "firn.source."

/* --------------------------------------------------------------------- WAP */

/* One partition of a source topic consumed by a batch: offsets [start, end). */
typedef struct firn_wap_range {
    const char *topic;
    int32_t partition;
    int64_t start, end;
} firn_wap_range;

typedef struct firn_wap_batch {
    firn_ice_table *prod;       /* trusted rows go here (its branch, then main) */
    firn_ice_table *untrusted;  /* may be NULL when untrusted_rows is NULL or empty */
    firn_ice_table *history;    /* firn.commits, or NULL */
    const char *branch;         /* "dev" or "dev-<worker>" */
    const char *worker;         /* for the history row; NULL = "firn" */
    firn_rows *trusted_rows;    /* prod schema; may be empty */
    firn_rows *untrusted_rows;  /* untrusted schema; may be NULL/empty */
    const firn_wap_range *ranges;
    size_t nranges;
    /* Audit inputs: eventIds of the trusted rows (column index in prod schema),
     * -1 to skip the duplicate check. */
    int event_id_col;
    /* The batch is dead letters: prod is staging.dead_letter and its rows
     * count as dead-letter in the history row. */
    bool dead_letter;
    /* Called between audit and publish (tests: a concurrent commit on main). */
    void (*before_publish)(void *ctx);
    void *hook_ctx;
    /* Extra summary properties on every snapshot (e.g. firn.rules-version). */
    const firn_ice_kv *summary;
    size_t nsummary;
} firn_wap_batch;

typedef enum firn_wap_outcome {
    FIRN_WAP_PUBLISHED = 1,   /* main fast-forwarded to the branch */
    FIRN_WAP_CHERRY_PICKED,   /* main had moved: the append re-applied on it */
    FIRN_WAP_REJECTED,        /* the audit failed: see audit_failure */
} firn_wap_outcome;

typedef struct firn_wap_result {
    firn_wap_outcome outcome;
    int64_t branch_snapshot_id; /* the audited snapshot on the branch (-1: none) */
    int64_t main_snapshot_id;   /* main's head after publish */
    char audit_failure[128];    /* "audit:<check>: detail" when rejected */
    uint64_t trusted, untrusted;
    int commit_attempts;
} firn_wap_result;

/*
 * Write, audit and publish one batch. Audit failures are not errors: the
 * result says REJECTED, main's data is unchanged and the caller quarantines
 * the batch (firn_wap_quarantine). Errors: FIRN_ERR_CONFLICT non-retriable
 * when the fence fails (main's offsets for these partitions are not the
 * batch's start offsets: another worker published them; this worker must
 * re-read its offsets), or any I/O or catalog failure (nothing published;
 * the caller retries the batch from its start offsets).
 * Crash points: wap.after-data-files, wap.after-branch-commit,
 * wap.after-publish.
 *
 * When the catalog cannot commit several tables atomically
 * (firn_cat_atomic_multi: a REST server without transactions/commit), the
 * publish records an intent in b->history first (a row with outcome
 * "intent"; required then), commits the production table (fenced), then
 * the untrusted table, then the usual history row marking the intent done
 * (wap.c explains the order). A crash in between leaves an open intent that
 * firn_wap_roll_forward completes. Extra crash points: wap.after-intent,
 * wap.after-table-commit.
 */
int firn_wap_run(const firn_wap_batch *b, firn_wap_result *res, firn_error *err);

/*
 * Publish a rejected batch: every row of b->untrusted_rows (the caller puts
 * the whole batch there with the failed check as its reason) goes to the
 * untrusted table, main of prod gets an empty snapshot carrying the advanced
 * offsets (its data unchanged), the rejected branch snapshot is tagged
 * rejected-<id>, and the history row records the failure; fenced like publish.
 */
int firn_wap_quarantine(const firn_wap_batch *b, firn_wap_result *res, firn_error *err);

/*
 * Complete the open intents (publishes without atomic multi-table commits
 * that stopped between their single-table commits) of production table prod
 * recorded in history: each step not yet applied is applied - the production
 * commit only if main's offsets are still the batch's start (otherwise
 * another worker published those records and the intent completes as
 * "aborted", nothing applied) - then the completion row is written. Safe
 * against a concurrent roll-forward or publish of the same intent (every
 * step is guarded inside its commit). Call before reading offsets from prod.
 * untrusted may be NULL (then an intent naming one fails). *rolled (may be
 * NULL) gets the number of intents completed.
 */
int firn_wap_roll_forward(firn_ice_table *prod, firn_ice_table *untrusted, firn_ice_table *history,
                          int *rolled, firn_error *err);

/* Schema JSON of the history table firn.commits: one row per publish
 * (bookkeeping rows of publishes without atomic multi-table commits have
 * outcome "intent" or "aborted" and no row counts). */
const char *firn_wap_history_schema_json(void);

/* --------------------------------------------------------------- classify */

struct firn_stream;
struct firn_record;
struct firn_event_limits;

/* Routed and dead-letter records carry these headers. */
#define FIRN_HDR_RAW "firn.raw"       /* "<raw partition>:<raw offset>" */
#define FIRN_HDR_REASON "firn.reason" /* dead-letter: why */

typedef struct firn_route {
    const char *value; /* of the route field, e.g. "parking-entry" */
    const char *topic; /* where those events go */
} firn_route;

typedef struct firn_classifier_options {
    const char *raw_topic;         /* NULL: "events" */
    const char *route_field;       /* NULL: "eventType" */
    const firn_route *routes;
    size_t nroutes;
    const char *dead_letter_topic; /* NULL: "dead-letter" */
    const char *checkpoint_path;   /* lower-bound checkpoint file, or NULL */
    size_t max_poll_records;       /* 0: 10000 */
    const struct firn_event_limits *limits; /* parser limits (limits.*), NULL: defaults */
    /* pipeline.unknown-types = create: an event type not in routes gets a topic
     * named after it (with the raw topic's partition count) on first sight,
     * instead of going to dead letters */
    bool create_unknown;
} firn_classifier_options;

/* Whether a route value can name a topic: [A-Za-z0-9._-]{1,100}, not starting
 * with '.' or '_'. */
bool firn_topic_name_ok(const char *s, size_t n);

typedef struct firn_classifier_stats {
    uint64_t consumed, routed, dead_letter, skipped;
} firn_classifier_stats;

typedef struct firn_classifier firn_classifier;

/*
 * The router: reads the raw topic, sends each event to the topic of its
 * route field's value, and unparseable events, events without the field and
 * unknown types to the dead-letter topic with a reason. Raw partition p goes
 * to partition p of every output topic (created with the raw topic's
 * partition count), so per-key order holds. On the spool a routed record is
 * an index entry (empty value, header firn.raw); on Kafka it is a copy of
 * the raw record plus firn.raw.
 * Exactly once: an output partition receives raw offsets in increasing
 * order, so on start the classifier reads the firn.raw of the last record of
 * every output partition and skips a raw record whose offset is at or below
 * that of its destination; it starts reading at the checkpoint (a lower
 * bound written after each durable step) or the log start.
 */
int firn_classifier_new(struct firn_stream *s, const firn_classifier_options *o,
                        firn_classifier **out, firn_error *err);
/* One poll (waiting up to timeout_ms) and the appends it needs. *n (may be
 * NULL) gets the raw records consumed. */
int firn_classifier_step(firn_classifier *c, int timeout_ms, size_t *n, firn_error *err);
const firn_classifier_stats *firn_classifier_get_stats(const firn_classifier *c);
/* Whether every raw partition has been consumed to its current end. */
int firn_classifier_drained(firn_classifier *c, bool *drained, firn_error *err);
void firn_classifier_free(firn_classifier *c);

/*
 * The raw record behind a routed record: on the spool, a routed record's
 * value is empty and firn.raw points into the raw topic (read with
 * firn_stream_get; *owned gets it, release with firn_stream_record_release);
 * otherwise *view is rec itself and *owned NULL.
 */
int firn_pipeline_resolve(struct firn_stream *s, const char *raw_topic,
                          const struct firn_record *rec, struct firn_record **owned,
                          const struct firn_record **view, firn_error *err);
/* The firn.raw header of rec parsed; false when absent or malformed. */
bool firn_pipeline_raw_ref(const struct firn_record *rec, int32_t *partition, int64_t *offset);
/* A header's value (NULL when absent); *len gets its length. */
const void *firn_record_header(const struct firn_record *rec, const char *key, size_t *len);

/* ---------------------------------------------------------------- process */

/*
 * What the processor does with one event: add exactly one row, to trusted
 * (the production table's schema) or untrusted (the staging table's). raw is
 * the raw record (value = event JSON, header "image" = image bytes), routed
 * the record read from the type topic (its topic/partition/offset are the
 * event's source). With force_reason set, the event goes to untrusted with
 * that reason (a quarantined batch). Returns 1 for trusted, 0 for
 * untrusted, negative on error, or FIRN_EVENT_EVOLVE (only when the
 * processor has on_evolve, and never with force_reason) when the event
 * carries fields the tables' schemas have no column for: the row is not
 * added; the processor publishes the batch before the event, calls
 * on_evolve, rebuilds its row buffers from the tables' new schemas and hands
 * the event again.
 */
#define FIRN_EVENT_EVOLVE 2
typedef int (*firn_event_fn)(void *ctx, const struct firn_record *raw,
                             const struct firn_record *routed, firn_rows *trusted,
                             firn_rows *untrusted, const char *force_reason, firn_error *err);

typedef struct firn_processor_options {
    const char *topic;          /* the type topic (or the dead-letter topic) */
    const char *raw_topic;      /* NULL: "events" */
    firn_ice_table *prod, *untrusted, *history; /* borrowed; untrusted/history may be NULL */
    const char *branch;         /* NULL: "dev" */
    const char *worker;         /* NULL: "firn" */
    bool dead_letter;           /* rows count as dead letters */
    int event_id_col;           /* for the duplicate audit, -1: none */
    int64_t commit_interval_ms; /* 0: 1000 */
    uint64_t commit_max_bytes;  /* 0: 64 MiB */
    size_t max_poll_records;    /* 0: 10000 */
    firn_event_fn on_event;
    void *event_ctx;
    /* Called (with event_ctx) when a batch is abandoned and will be read again:
     * the handler drops what it learned from it. May be NULL. */
    int (*on_abandon)(void *ctx, firn_error *err);
    /* Group mode: called (with event_ctx) after a poll whose rebalance
     * assigned partitions, before their records are read: the handler adds
     * what main holds now (ids other workers published from those partitions)
     * to its dedupe window, keeping what it has. May be NULL. */
    int (*on_assign)(void *ctx, firn_error *err);
    /* Called (with event_ctx) after on_event answered FIRN_EVENT_EVOLVE and
     * the batch before that event was published: evolve the tables (prod and
     * untrusted, which stay the same handles) and the handler. May be NULL. */
    int (*on_evolve)(void *ctx, firn_error *err);
    const firn_ice_kv *summary; /* extra summary properties on every snapshot */
    size_t nsummary;
    /* Optional: work ahead on a group of events that carry an image header
     * (decode them on other threads). The processor hands a run of up to 64
     * consecutive such events of one poll (at most 32 MiB) as raw records,
     * then calls on_event for each of those it adds to the batch, in order,
     * with the same record pointers (copies the processor keeps alive until
     * then); then on_prepare(ctx, NULL, 0): forget the group. The group is
     * also forgotten before anything inside the poll that may replace its
     * records (a publish, which may re-read a rejected batch, or an
     * evolution); the rest of the run is then handed again as a new group,
     * or dropped with the rest of the poll. An event of the
     * group may still be skipped (already in the batch) or handed again after
     * an evolution; the handler must give the same outcome with or without
     * the work done ahead. */
    int (*on_prepare)(void *ctx, const struct firn_record *const *raws, size_t n,
                      firn_error *err);
    /* Scale-out: join this consumer group (NULL: read every partition, by
     * manual assignment). Workers of one group share the topic's partitions;
     * give each its own worker name and branch ("dev-<worker>"). */
    const char *group;
} firn_processor_options;

typedef struct firn_processor_stats {
    uint64_t batches, published, cherry_picked, rejected, fenced, errors;
    uint64_t rebalances;          /* group mode: assignments and revocations seen */
    uint64_t abandoned;           /* open batches a rebalance could not publish */
    uint64_t evolutions;          /* schema changes made for new fields */
    int32_t assigned;             /* partitions read now */
    uint64_t rows_trusted, rows_untrusted;
    uint64_t records;             /* records added to batches (a re-read batch counts again) */
    int64_t last_commit_ms;       /* duration of the last WAP */
    int64_t last_freshness_ms;    /* append -> visible on main, oldest event of the last batch */
    char last_error[256];
} firn_processor_stats;

typedef struct firn_processor firn_processor;

/*
 * Recover offsets from the production table's main and assign every
 * partition of the topic there. Tables must exist.
 *
 * Group mode (options.group): the processor subscribes to the topic in the
 * consumer group (cooperative-sticky on Kafka) and reads only the partitions
 * the group assigns it. Each commit's ranges cover only those partitions;
 * the snapshot's offset map is main's at commit time with them advanced
 * (wap.c), and the fence compares only them, so workers publish their
 * partitions independently, by fast-forward when main has not moved since
 * their branch was cut and by cherry-pick otherwise.
 *  - Assigned partitions start at the offsets main records (the log's start
 *    when main has none), read when the assignment arrives.
 *  - When the group takes partitions away (revoke callback, eager or
 *    cooperative), the open batch is published inside the callback, while
 *    this worker still owns them (Kafka Connect's flush on revoke), so a
 *    rebalance storm does not throw work away. If the partitions already
 *    moved (lost after a session timeout) and the new owner published first,
 *    the fence refuses it; a batch that cannot publish there (fenced, or
 *    rejected by the audit, whose re-read needs the consumer) is abandoned
 *    (on_abandon runs, counted in stats.abandoned) and read again by the
 *    partitions' next owner from main's offsets.
 *  - Partitions added without a revoke (cooperative) leave the open batch
 *    of the partitions kept alone.
 *  - Waiting for the group is bounded: a worker that has had no assignment
 *    for max.poll.interval.ms + session.timeout.ms since it joined or lost
 *    its partitions fails its poll (FIRN_ERR_LIMIT, "no partition
 *    assignment ... a rebalance did not complete") instead of waiting on.
 *  - A worker that resumes after its partitions moved (a zombie: stopped past
 *    the session timeout, then continued mid-publish) is stopped by the
 *    fence: the new owner advanced main's offsets for those partitions, so
 *    the zombie's batch no longer starts where main says, and its commit
 *    fails without retry (counted as fenced); it then re-reads from main.
 * Within a batch, each partition's records are kept contiguous from the
 * batch's start: a record past the expected offset (a position left over
 * from before a rebalance) makes the processor seek the partition back.
 * Test hook: FIRN_PROCESS_STOP_AT_BATCH=N makes the process SIGSTOP itself
 * between audit and publish of its Nth batch (the zombie tests);
 * FIRN_PROCESS_PAUSE_BEFORE_PUBLISH_MS=M sleeps M ms there at every batch (so
 * a test's maintenance lands between a batch's write and its publish).
 */
int firn_processor_new(struct firn_stream *s, const firn_processor_options *o,
                       firn_processor **out, firn_error *err);
/* Poll once (up to timeout_ms), add events to the open batch, and run WAP
 * when the batch is due (interval or size). Batch failures other than
 * errors of the stream are handled here: counted, the batch re-read. */
int firn_processor_step(firn_processor *p, int timeout_ms, firn_error *err);
/* Publish the open batch now (SIGTERM, --until-drained). */
int firn_processor_flush(firn_processor *p, firn_error *err);
/* Whether every partition's published offset reached the topic's end. */
int firn_processor_drained(firn_processor *p, bool *drained, firn_error *err);
const firn_processor_stats *firn_processor_get_stats(const firn_processor *p);
void firn_processor_free(firn_processor *p);

#endif
