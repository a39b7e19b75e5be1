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

/* Schema JSON of the history table firn.commits: one row per publish. */
const char *firn_wap_history_schema_json(void);

#endif
