/*
 * maintain.h - table maintenance: snapshot expiry, orphan file removal,
 * compaction (rewrite data files), manifest rewrite and old metadata cleanup,
 * each safe to run while writers keep committing.
 *
 *   expire.c     expire-snapshots: which snapshots the table and ref retention
 *                policies let go, a remove-snapshots commit, then the deletion
 *                of exactly the files no remaining snapshot reaches
 *   orphans.c    remove-orphans: files under the table location nothing reaches
 *   compact.c    compact: bin-pack small data files per partition, committed as
 *                "replace" snapshots, one commit per group of partitions
 *   manifests.c  rewrite-manifests: merge small manifests, clustered by partition
 *   maintain.c   durations, old metadata files, firn's metadata budget, the
 *                policy ("all") and the reachable-file sets shared by the others
 *
 * Every operation works on a loaded table (iceberg.h's firn_ice_table, borrowed)
 * and commits through firn_ice_table_commit, so a lost race re-plans on the new
 * base. Files are deleted only after the commit that stops referencing them
 * landed; a crash between the two leaves unreferenced files that a later
 * remove-orphans deletes.
 *
 * Concurrency guards:
 *  - expiry never removes a branch head or tag target, the last
 *    min-snapshots-to-keep ancestors of each branch, nor (in the scheduled
 *    policy) any snapshot younger than min_snapshot_age_ms (default 5 minutes):
 *    readers that planned a scan on a recent snapshot keep their files;
 *  - remove-orphans deletes only files older than a margin (default 3 days).
 *    The margin is the only guard against a concurrent writer: a writer's data
 *    files and manifests exist before the commit that references them, and a
 *    commit that is slow (retries, a stalled process) may reference them later.
 *    Never use a margin shorter than the longest a write-and-commit can take;
 *    0s is for tables nobody writes;
 *  - compaction commits "replace" snapshots validated against the branch head:
 *    files appended meanwhile survive, a concurrent delete of a file being
 *    rewritten aborts that group (its new files are deleted) and the others go on.
 *
 * Maintenance snapshots (compaction, manifest rewrite) carry the branch head's
 * summary properties starting with "firn.source." (the pipeline's source-offset
 * map) forward, read from the head each commit attempt sees, so recovery never
 * depends on an expired snapshot.
 *
 * Crash points (firn_io_crash_point): expire.after-commit (before any file is
 * deleted), expire.after-delete:N (after the Nth deleted file),
 * compact.after-write (the new data files are written, nothing committed),
 * compact.after-commit, rewrite-manifests.after-commit; plus those of the
 * commit path (iceberg.h).
 */
#ifndef FIRN_MAINTAIN_H
#define FIRN_MAINTAIN_H

#include "iceberg/iceberg.h"
#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIRN_MAINTAIN_DEFAULT_ORPHAN_MARGIN_MS (3LL * 24 * 3600 * 1000)
#define FIRN_MAINTAIN_DEFAULT_MIN_SNAPSHOT_AGE_MS (5LL * 60 * 1000)

typedef struct firn_maintain_options {
    bool dry_run;             /* plan and report, commit and delete nothing */
    int64_t now_ms;           /* 0: the clock */
    bool keep_paths;          /* record every deleted (dry run: deletable) file in the result */
    const char *branch;       /* compaction and manifest rewrite: NULL = main */
    /* expire-snapshots */
    int64_t older_than_ms;    /* -1: the policy (table and ref properties); else overrides
                                 every max-snapshot-age and the min_snapshot_age_ms floor */
    int retain_last;          /* -1: the policy's min-snapshots-to-keep; else overrides it */
    int64_t min_snapshot_age_ms; /* -1: FIRN_MAINTAIN_DEFAULT_MIN_SNAPSHOT_AGE_MS; the policy
                                    never expires a younger snapshot */
    /* remove-orphans */
    int64_t orphan_margin_ms; /* -1: FIRN_MAINTAIN_DEFAULT_ORPHAN_MARGIN_MS */
    /* compact */
    int64_t target_size;      /* 0: write.target-file-size-bytes */
    const char *where;        /* only files that may hold matching rows (whole files) */
    int min_input_files;      /* a partition is compacted from this many small files; 0: 2 */
    size_t partitions_per_commit; /* 0: 16 */
    bool sort;                /* write each group's rows sorted by the table's default sort
                                 order (rows of a commit group are buffered in memory) */
    /* rewrite-manifests: merge when a branch head has more data manifests than this; 0: 1 */
    size_t min_manifests;
} firn_maintain_options;

/* Every field unset (-1 / 0 / NULL / false). */
void firn_maintain_options_init(firn_maintain_options *o);

/*
 * What one run did (or, with dry_run, would do). Counters add up across the
 * operations of firn_maintain_all. paths (when keep_paths) are malloc'd and
 * freed by firn_maintain_result_release.
 */
typedef struct firn_maintain_result {
    size_t snapshots_expired;
    size_t refs_removed;
    size_t data_files_deleted;     /* data and delete files */
    size_t manifests_deleted;
    size_t manifest_lists_deleted;
    size_t metadata_files_deleted;
    size_t orphans_deleted;
    int64_t bytes_reclaimed;       /* sizes of every file deleted */
    size_t files_rewritten;        /* compaction: data files replaced */
    size_t files_written;          /* compaction: data files written */
    size_t groups_committed;       /* compaction: commits */
    size_t groups_conflicted;      /* compaction: groups aborted by a concurrent delete */
    size_t manifests_rewritten;    /* rewrite-manifests: manifests replaced */
    size_t manifests_written;
    size_t commits;                /* table commits made */
    int64_t duration_ms;
    char **paths;                  /* deleted files (keep_paths), sorted by firn_maintain_all */
    size_t npaths, cap_paths;
} firn_maintain_result;

void firn_maintain_result_release(firn_maintain_result *r);

/* Expire snapshots (see the top comment). Policy per branch: keep the head's
 * ancestors younger than max-snapshot-age-ms (ref, else
 * history.expire.max-snapshot-age-ms, default 5 days) and at least
 * min-snapshots-to-keep of them (ref, else history.expire.min-snapshots-to-keep,
 * default 1); tags keep their snapshot; refs other than main older than
 * max-ref-age-ms (ref, else history.expire.max-ref-age-ms, default forever) are
 * removed; snapshots no ref reaches go when older than the table's max age. */
int firn_maintain_expire_snapshots(firn_ice_table *t, const firn_maintain_options *o,
                                   firn_maintain_result *r, firn_error *err);

/* Delete files under the table location that neither a metadata file (current or
 * in metadata-log, version-hint.text), a snapshot's manifest list, a manifest, a
 * manifest entry (any status) nor a statistics file reaches, last modified
 * before now - orphan_margin_ms. Locations are compared canonically; only files
 * under "<location>/" are listed or deleted. */
int firn_maintain_remove_orphans(firn_ice_table *t, const firn_maintain_options *o,
                                 firn_maintain_result *r, firn_error *err);

/* Rewrite small data files (< 3/4 of the target size) of each partition of the
 * default spec holding at least min_input_files of them, into files rolled at the
 * target size; files with delete files and files of older specs are left alone.
 * With sort, rows come out in the default sort order (a table without one is
 * written as read). */
int firn_maintain_compact(firn_ice_table *t, const firn_maintain_options *o,
                          firn_maintain_result *r, firn_error *err);

/* Rewrite the branch head's data manifests (more than min_manifests of them) into
 * manifests of at most commit.manifest.target-size-bytes (default 8 MiB) with the
 * live entries sorted by partition spec and partition tuple; delete manifests are
 * kept. A "replace" snapshot with no data change. */
int firn_maintain_rewrite_manifests(firn_ice_table *t, const firn_maintain_options *o,
                                    firn_maintain_result *r, firn_error *err);

/* With write.metadata.delete-after-commit.enabled=true, delete metadata files of
 * the table's metadata directory older (by version) than the oldest metadata-log
 * entry (write.metadata.previous-versions-max bounds the log at each commit):
 * what commit-time cleanup missed (crashes, the property set later). Versions
 * newer than the current file (a commit in flight) are never touched. */
int firn_maintain_clean_metadata(firn_ice_table *t, const firn_maintain_options *o,
                                 firn_maintain_result *r, firn_error *err);

/* The policy once: compact, rewrite manifests, expire snapshots (with the
 * min_snapshot_age_ms floor), clean old metadata, remove orphans. The result
 * records what was removed, bytes reclaimed and the duration (metrics). */
int firn_maintain_all(firn_ice_table *t, const firn_maintain_options *o,
                      firn_maintain_result *r, firn_error *err);

/*
 * The "metadata budget": properties firn sets on tables it creates (a caller's
 * properties override them), iceberg.h's firn_ice_table_default_properties plus:
 *   history.expire.max-snapshot-age-ms=86400000   a day of time travel (Java: 5 days;
 *       at one commit a second 5 days is 432,000 snapshots in every metadata file)
 *   history.expire.min-snapshots-to-keep=10
 *   write.metadata.previous-versions-max=20       each metadata file carries the
 *       snapshot list; 20 versions bound the directory to 21 such files
 *   commit.manifest.min-count-to-merge=16         merge append keeps main's manifest
 *       list short between compactions
 * Returns a static array of *n entries.
 */
const firn_ice_kv *firn_maintain_default_properties(size_t *n);

/* "90s", "15m", "2h", "3d", "500ms", "0s" (no margin), or a bare number of
 * milliseconds, into *ms. FIRN_ERR_INVALID otherwise. */
int firn_maintain_parse_duration(const char *s, int64_t *ms, firn_error *err);

#endif
