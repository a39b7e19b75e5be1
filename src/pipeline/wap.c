/*
 * wap.c - Write-Audit-Publish of one batch (see pipeline.h).
 *
 *   write    trusted rows -> data files -> one commit on the production
 *            table: drop the writer's branch, append to it (the producer
 *            re-creates it on main's head: the branch is cut at main);
 *            untrusted rows -> data files (committed at publish)
 *   audit    the branch snapshot's added-records = trusted rows; trusted +
 *            untrusted = offsets consumed, per batch; no eventId twice among
 *            the trusted rows; the snapshot's schema is the table's
 *   publish  one multi-table commit: production [fence, fast-forward main],
 *            untrusted [append], history [append one row]. When main moved
 *            (maintenance committed), the production part becomes [fence,
 *            append the same files on main] - a cherry-pick.
 *
 * The fence is an update applied first on the production table at every
 * attempt: the offsets main records for the batch's partitions must equal
 * the batch's start offsets, or the commit fails without retry.
 *
 * Offsets in snapshot summaries are computed inside the commit, at every
 * attempt (offsets_update): main's map in the metadata being committed, with
 * the batch's ranges advanced. Workers of one consumer group publish other
 * partitions of the same topic between this batch's write and its publish;
 * their offsets are carried, never overwritten by a map read earlier. The
 * fast-forward publishes only when main has not moved since the branch was
 * cut (then the branch snapshot's map is main's plus the batch's) and the
 * branch still holds the audited snapshot; otherwise the cherry-pick
 * computes its map on the new main. The history row's offsets column is
 * informational: main's map when the batch was written, plus its ranges.
 */
#include "pipeline/pipeline.h"

#include "catalog/catalog.h"
#include "io/io.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- updates */

typedef struct fence_ctx {
    const firn_wap_batch *b;
    const firn_offset_map *end; /* the offsets this publish records on main */
    int64_t branch_snapshot;    /* fast-forward: the branch must still hold it; -1 = no check */
    bool failed;                /* another worker published this batch's offsets */
    bool moved;                 /* main's other offsets or the branch moved: recompute, cherry-pick */
} fence_ctx;

static bool in_batch(const firn_wap_batch *b, const char *topic, int32_t partition) {
    for (size_t i = 0; i < b->nranges; i++)
        if (b->ranges[i].partition == partition && !strcmp(b->ranges[i].topic, topic)) return true;
    return false;
}

static int fence_apply(void *ctx, firn_ice_metadata *md, firn_error *err) {
    fence_ctx *f = ctx;
    firn_offset_map m = {0};
    firn_offsets_recover(md, FIRN_ICE_MAIN_BRANCH, &m, NULL);
    int rc = 0;
    for (size_t i = 0; i < f->b->nranges; i++) {
        const firn_wap_range *r = &f->b->ranges[i];
        /* a partition main has never recorded: nobody published any of it,
         * and its batch starts where the log starts now (the processor read
         * the low watermark; retention, or the mock cluster's 5 MiB per
         * partition, may have deleted records before it) */
        int64_t cur = firn_offset_map_get(&m, r->topic, r->partition, -1);
        if (cur >= 0 && cur != r->start) {
            f->failed = true;
            rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                            "fenced: main of %s.%s records offset %lld for %s/%d, the batch "
                            "starts at %lld (another worker published these offsets)",
                            f->b->prod->ns, f->b->prod->name, (long long)cur, r->topic,
                            r->partition, (long long)r->start);
            err->retriable = false;
            break;
        }
    }
    /* the map this publish records carries main's offsets of the partitions
     * outside the batch as they were when it was computed: another worker may
     * have advanced them since (recording the old ones would hand its records
     * out again) */
    for (size_t i = 0; rc == 0 && f->end && i < m.n; i++) {
        if (in_batch(f->b, m.e[i].topic, m.e[i].partition)) continue;
        if (firn_offset_map_get(f->end, m.e[i].topic, m.e[i].partition, -1) != m.e[i].offset) {
            f->moved = true;
            rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT, "main of %s.%s moved %s/%d to %lld meanwhile",
                            f->b->prod->ns, f->b->prod->name, m.e[i].topic, m.e[i].partition,
                            (long long)m.e[i].offset);
            err->retriable = false;
        }
    }
    /* a fast-forward publishes whatever the branch holds: another worker
     * sharing the branch may have cut it again */
    if (rc == 0 && f->branch_snapshot >= 0) {
        const firn_ice_ref *r = firn_ice_metadata_ref(md, f->b->branch);
        if (!r || r->snapshot_id != f->branch_snapshot) {
            f->moved = true;
            rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT, "branch %s of %s.%s no longer holds snapshot %lld",
                            f->b->branch, f->b->prod->ns, f->b->prod->name,
                            (long long)f->branch_snapshot);
            err->retriable = false;
        }
    }
    firn_offset_map_release(&m);
    return rc;
}

static int cut_apply(void *ctx, firn_ice_metadata *md, firn_error *err) {
    const char *branch = ctx;
    const firn_ice_ref *r = firn_ice_metadata_ref(md, branch);
    if (!r) return 0;
    if (r->type != FIRN_ICE_REF_BRANCH)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "'%s' is a tag, not a branch", branch);
    return firn_ice_metadata_remove_snapshot_ref(md, branch, err);
}

typedef struct tag_ctx {
    char name[64];
    int64_t snapshot_id;
} tag_ctx;

static int tag_apply(void *ctx, firn_ice_metadata *md, firn_error *err) {
    tag_ctx *t = ctx;
    if (t->snapshot_id < 0 || !firn_ice_metadata_snapshot(md, t->snapshot_id)) return 0;
    if (firn_ice_metadata_ref(md, t->name)) return 0;
    firn_ice_ref ref = firn_ice_ref_make(t->name, t->snapshot_id, FIRN_ICE_REF_TAG);
    return firn_ice_metadata_set_snapshot_ref(md, &ref, err);
}

/* ------------------------------------------------------------- helpers */

typedef struct written {
    firn_ice_data_writer *w;
    const firn_ice_data_file *files;
    size_t nfiles;
    uint64_t rows;
} written;

static int write_rows(firn_ice_table *t, firn_rows *rows, written *out, firn_error *err) {
    memset(out, 0, sizeof *out);
    if (!rows || rows->nrows == 0) return 0;
    out->w = firn_ice_data_writer_new(t->metadata, t->io, NULL, err);
    if (!out->w) return FIRN_WRAP(err, err->kind, "%s.%s: data writer", t->ns, t->name);
    int rc = firn_ice_data_writer_write(out->w, firn_rows_columns(rows), rows->nrows, err);
    if (rc == 0) rc = firn_ice_data_writer_close(out->w, &out->files, &out->nfiles, err);
    if (rc) {
        firn_ice_data_writer_free(out->w);
        out->w = NULL;
        return FIRN_WRAP(err, err->kind, "%s.%s: writing %zu rows", t->ns, t->name, rows->nrows);
    }
    out->rows = rows->nrows;
    return 0;
}

static void written_abort(written *w) {
    if (w->w) firn_ice_data_writer_abort(w->w);
}

static void written_free(written *w) {
    firn_ice_data_writer_free(w->w);
    memset(w, 0, sizeof *w);
}

/*
 * A producer's update whose snapshot summary is computed at apply time, on
 * the metadata being committed: the source-offset map main records there
 * with the batch's ranges advanced, then the batch's extra properties (and
 * firn.audit for a rejected batch). Computing it at each attempt matters when
 * several workers publish different partitions of one topic: the map must
 * carry what the others published in between, not what main held when this
 * batch was written.
 */
typedef struct offsets_update {
    const firn_wap_batch *b;
    firn_ice_producer *p;
    firn_ice_update inner;
    const char *audit; /* firn.audit, or NULL */
    const char *batch; /* firn.batch (publish without multi-table commits), or NULL */
} offsets_update;

static int offsets_apply(void *ctx, firn_ice_metadata *md, firn_error *err) {
    offsets_update *u = ctx;
    firn_offset_map m = {0};
    firn_offsets_recover(md, FIRN_ICE_MAIN_BRANCH, &m, NULL);
    for (size_t i = 0; i < u->b->nranges; i++)
        firn_offset_map_set(&m, u->b->ranges[i].topic, u->b->ranges[i].partition,
                            u->b->ranges[i].end);
    char key[256], val[32];
    for (size_t i = 0; i < m.n; i++) {
        snprintf(key, sizeof key, FIRN_SOURCE_PREFIX "%s.%d", m.e[i].topic, m.e[i].partition);
        snprintf(val, sizeof val, "%lld", (long long)m.e[i].offset);
        firn_ice_producer_set_summary(u->p, key, val);
    }
    firn_offset_map_release(&m);
    for (size_t i = 0; i < u->b->nsummary; i++)
        firn_ice_producer_set_summary(u->p, u->b->summary[i].key, u->b->summary[i].value);
    if (u->audit) firn_ice_producer_set_summary(u->p, "firn.audit", u->audit);
    if (u->batch) firn_ice_producer_set_summary(u->p, "firn.batch", u->batch);
    return u->inner.apply(u->inner.ctx, md, err);
}

static void offsets_finish(void *ctx, firn_ice_commit_state state) {
    offsets_update *u = ctx;
    if (u->inner.finish) u->inner.finish(u->inner.ctx, state);
}

/* u must outlive the commit. */
static firn_ice_update offsets_update_of(offsets_update *u, const firn_wap_batch *b,
                                         firn_ice_producer *p, const char *audit) {
    *u = (offsets_update){b, p, firn_ice_producer_update(p), audit, NULL};
    return (firn_ice_update){offsets_apply, offsets_finish, u};
}

/* The fast-forward publishes exactly the audited snapshot: the branch's head
 * must still be it (a second worker under the same name may have cut the
 * branch again); otherwise the publish cherry-picks the audited files. */
typedef struct head_ctx {
    const char *branch;
    int64_t snapshot_id;
} head_ctx;

static int head_apply(void *ctx, firn_ice_metadata *md, firn_error *err) {
    head_ctx *h = ctx;
    const firn_ice_ref *r = firn_ice_metadata_ref(md, h->branch);
    if (r && r->snapshot_id == h->snapshot_id) return 0;
    int rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT, "branch %s moved off the audited snapshot %lld",
                        h->branch, (long long)h->snapshot_id);
    err->retriable = false;
    return rc;
}

static firn_ice_producer *append_producer(firn_ice_table *t, const char *branch,
                                          const written *w, firn_error *err) {
    firn_ice_producer *p = firn_ice_producer_new(t, branch, "append", err);
    if (!p) return NULL;
    for (size_t i = 0; i < w->nfiles; i++)
        if (firn_ice_producer_add_file(p, &w->files[i], err)) {
            firn_ice_producer_free(p);
            return NULL;
        }
    return p;
}

/* The history table's schema (firn.commits). */
static const char *HISTORY_SCHEMA =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"committed_at\",\"required\":true,\"type\":\"timestamptz\"},"
    "{\"id\":2,\"name\":\"table_name\",\"required\":true,\"type\":\"string\"},"
    "{\"id\":3,\"name\":\"snapshot_id\",\"required\":false,\"type\":\"long\"},"
    "{\"id\":4,\"name\":\"outcome\",\"required\":true,\"type\":\"string\"},"
    "{\"id\":5,\"name\":\"audit\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":6,\"name\":\"rows_trusted\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":7,\"name\":\"rows_untrusted\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":8,\"name\":\"rows_dead_letter\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":9,\"name\":\"offsets\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":10,\"name\":\"worker\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":11,\"name\":\"total_trusted\",\"required\":false,\"type\":\"long\"},"
    "{\"id\":12,\"name\":\"batch\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":13,\"name\":\"intent\",\"required\":false,\"type\":\"string\"}]}";

const char *firn_wap_history_schema_json(void) { return HISTORY_SCHEMA; }

/* One row of firn.commits. Tables created before a column existed lack it:
 * columns are filled by name, missing ones skipped. */
typedef struct hist_row {
    const char *table;   /* "ns.name" of the production table */
    const char *outcome; /* published, cherry-picked, rejected; intent, aborted */
    const char *audit;   /* NULL: null */
    int64_t snapshot_id; /* -1: null */
    int64_t total;       /* -1: null */
    const char *offsets; /* JSON text */
    const char *worker;
    int64_t trusted, untrusted, dead_letter;
    const char *batch;  /* NULL: null */
    const char *intent; /* NULL: null */
} hist_row;

static int write_history_row(firn_ice_table *history, const hist_row *h, written *out,
                             firn_error *err) {
    memset(out, 0, sizeof *out);
    const firn_ice_schema *s = firn_ice_metadata_current_schema(history->metadata);
    firn_rows rows;
    int rc = firn_rows_init(&rows, s, err);
    if (rc) return rc;
    for (size_t c = 0; c < rows.ncols; c++) {
        const char *col = s->type->fields[c].name;
        if (!strcmp(col, "committed_at")) firn_rows_set_i64(&rows, c, firn_now_us());
        else if (!strcmp(col, "table_name")) firn_rows_set_str(&rows, c, h->table);
        else if (!strcmp(col, "snapshot_id")) {
            if (h->snapshot_id >= 0) firn_rows_set_i64(&rows, c, h->snapshot_id);
        } else if (!strcmp(col, "outcome")) firn_rows_set_str(&rows, c, h->outcome);
        else if (!strcmp(col, "audit")) firn_rows_set_str(&rows, c, h->audit);
        else if (!strcmp(col, "rows_trusted")) firn_rows_set_i64(&rows, c, h->trusted);
        else if (!strcmp(col, "rows_untrusted")) firn_rows_set_i64(&rows, c, h->untrusted);
        else if (!strcmp(col, "rows_dead_letter")) firn_rows_set_i64(&rows, c, h->dead_letter);
        else if (!strcmp(col, "offsets")) firn_rows_set_str(&rows, c, h->offsets);
        else if (!strcmp(col, "worker")) firn_rows_set_str(&rows, c, h->worker ? h->worker : "firn");
        else if (!strcmp(col, "total_trusted")) {
            if (h->total >= 0) firn_rows_set_i64(&rows, c, h->total);
        } else if (!strcmp(col, "batch")) firn_rows_set_str(&rows, c, h->batch);
        else if (!strcmp(col, "intent")) firn_rows_set_str(&rows, c, h->intent);
    }
    firn_rows_end_row(&rows);
    rc = write_rows(history, &rows, out, err);
    firn_rows_release(&rows);
    return rc;
}

/* The offset map as the history row's JSON text (malloc'd). */
static char *offsets_text(const firn_offset_map *end) {
    json_t *off = json_object();
    for (size_t i = 0; i < end->n; i++) {
        char k[160];
        snprintf(k, sizeof k, "%s.%d", end->e[i].topic, end->e[i].partition);
        json_object_set_new(off, k, json_integer(end->e[i].offset));
    }
    char *t = json_dumps(off, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(off);
    return t;
}

static void batch_counts(const firn_wap_batch *b, int64_t *trusted, int64_t *untrusted,
                         int64_t *dead) {
    uint64_t nt = b->trusted_rows ? b->trusted_rows->nrows : 0;
    uint64_t nu = b->untrusted_rows ? b->untrusted_rows->nrows : 0;
    *trusted = b->dead_letter ? 0 : (int64_t)nt;
    *untrusted = (int64_t)nu;
    *dead = b->dead_letter ? (int64_t)nt : 0;
}

static int write_history(const firn_wap_batch *b, const char *outcome, const char *audit,
                         int64_t snapshot_id, int64_t total, const firn_offset_map *end,
                         written *out, firn_error *err) {
    memset(out, 0, sizeof *out);
    if (!b->history) return 0;
    char name[512];
    snprintf(name, sizeof name, "%s.%s", b->prod->ns, b->prod->name);
    char *offtext = offsets_text(end);
    hist_row h = {name, outcome, audit, snapshot_id, total, offtext, b->worker, 0, 0, 0, NULL, NULL};
    batch_counts(b, &h.trusted, &h.untrusted, &h.dead_letter);
    int rc = write_history_row(b->history, &h, out, err);
    free(offtext);
    return rc;
}

static int64_t summary_long(const firn_ice_snapshot *s, const char *key, int64_t dflt) {
    const char *v = s ? firn_ice_snapshot_summary_get(s, key) : NULL;
    return v ? strtoll(v, NULL, 10) : dflt;
}

/* The end-offset map: main's map with the batch's ranges advanced. */
static void end_map(const firn_wap_batch *b, firn_offset_map *m) {
    firn_offsets_recover(b->prod->metadata, FIRN_ICE_MAIN_BRANCH, m, NULL);
    for (size_t i = 0; i < b->nranges; i++)
        firn_offset_map_set(m, b->ranges[i].topic, b->ranges[i].partition, b->ranges[i].end);
}

/* ------------------------------------------------------------- audit */

static uint64_t hash_bytes(const uint8_t *p, size_t n) { return firn_xxh64(p, n, 0x5eed); }

/* Test hook FIRN_WAP_AUDIT_FAIL=CHECK[:N][@TABLE]: CHECK (records, offsets,
 * duplicate) fails at every audit, or only at the process's Nth audit; with
 * @TABLE, only audits of the tables whose "ns.name" starts with TABLE count.
 * NULL: no injection for this audit. */
static const char *audit_injection(const firn_ice_table *prod, char *buf, size_t n) {
    static atomic_long audits;
    const char *v = getenv("FIRN_WAP_AUDIT_FAIL");
    if (!v) return NULL;
    const char *at = strchr(v, '@');
    if (at) {
        char t[512];
        snprintf(t, sizeof t, "%s.%s", prod->ns, prod->name);
        if (strncmp(t, at + 1, strlen(at + 1))) return NULL;
    }
    size_t len = at ? (size_t)(at - v) : strlen(v);
    const char *colon = memchr(v, ':', len);
    if (colon) {
        long nth = atol(colon + 1);
        if (atomic_fetch_add(&audits, 1) + 1 != nth) return NULL;
        len = (size_t)(colon - v);
    }
    snprintf(buf, n, "%.*s", (int)len, v);
    return buf;
}

static int audit(const firn_wap_batch *b, const firn_ice_snapshot *snap, const written *untrusted,
                 char *why, size_t whyn) {
    char ibuf[32];
    const char *inject = audit_injection(b->prod, ibuf, sizeof ibuf); /* tests: force a failed check */
    uint64_t ntrusted = b->trusted_rows ? b->trusted_rows->nrows : 0;
    uint64_t consumed = 0;
    for (size_t i = 0; i < b->nranges; i++)
        consumed += (uint64_t)(b->ranges[i].end - b->ranges[i].start);
    int64_t added = summary_long(snap, "added-records", 0);
    if ((inject && !strcmp(inject, "records")) || added != (int64_t)ntrusted) {
        snprintf(why, whyn, "audit:records: branch snapshot added %lld rows, batch has %llu",
                 (long long)added, (unsigned long long)ntrusted);
        return 1;
    }
    if ((inject && !strcmp(inject, "offsets")) || ntrusted + untrusted->rows != consumed) {
        snprintf(why, whyn, "audit:offsets: %llu trusted + %llu untrusted rows for %llu offsets",
                 (unsigned long long)ntrusted, (unsigned long long)untrusted->rows,
                 (unsigned long long)consumed);
        return 1;
    }
    if (snap && snap->has_schema_id &&
        snap->schema_id != b->prod->metadata->current_schema_id) {
        snprintf(why, whyn, "audit:schema: snapshot schema %d, table schema %d", snap->schema_id,
                 b->prod->metadata->current_schema_id);
        return 1;
    }
    if (b->event_id_col >= 0 && ntrusted > 1) {
        const firn_rows_col *c = &b->trusted_rows->cols[b->event_id_col];
        size_t cap = 1;
        while (cap < 2 * ntrusted) cap <<= 1;
        uint64_t *set = firn_xcalloc(cap, sizeof *set);
        uint32_t *row = firn_xcalloc(cap, sizeof *row);
        const int64_t *off = (const int64_t *)(void *)c->offsets.data;
        int dup = 0;
        for (size_t i = 0; i < ntrusted && !dup; i++) {
            const uint8_t *p = c->data.data + off[i];
            size_t n = (size_t)(off[i + 1] - off[i]);
            uint64_t h = hash_bytes(p, n) | 1;
            for (size_t k = h & (cap - 1);; k = (k + 1) & (cap - 1)) {
                if (!set[k]) {
                    set[k] = h;
                    row[k] = (uint32_t)i;
                    break;
                }
                if (set[k] == h) {
                    size_t j = row[k];
                    size_t nj = (size_t)(off[j + 1] - off[j]);
                    if (nj == n && memcmp(c->data.data + off[j], p, n) == 0) {
                        snprintf(why, whyn, "audit:duplicate: eventId %.*s twice in the batch",
                                 (int)(n > 64 ? 64 : n), (const char *)p);
                        dup = 1;
                        break;
                    }
                }
            }
        }
        free(set);
        free(row);
        if (dup) return 1;
    }
    if (inject && !strcmp(inject, "duplicate")) {
        snprintf(why, whyn, "audit:duplicate: injected");
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------- publish */

static int publish(const firn_wap_batch *b, const written *trusted, const written *untrusted,
                   int64_t branch_snapshot, const firn_offset_map *end, bool rejected,
                   const char *audit_text, firn_wap_result *res, firn_error *err) {
    bool cherry = false;
    firn_offset_map fresh = {0};
    int rc = 0;
    for (int round = 0; round < 8; round++) {
        /* the recorded map is computed inside the commit (offsets_update_of), from
         * the main it lands on: no check of the partitions outside the batch */
        fence_ctx fence = {b, NULL, rejected || cherry ? -1 : branch_snapshot, false, false};
        firn_ice_ref_update ff = {.op = FIRN_ICE_REF_FAST_FORWARD, .type = FIRN_ICE_REF_BRANCH,
                                  .name = FIRN_ICE_MAIN_BRANCH, .snapshot_id = -1,
                                  .source = b->branch};
        tag_ctx tag = {{0}, branch_snapshot};
        snprintf(tag.name, sizeof tag.name, "rejected-%lld", (long long)branch_snapshot);
        firn_ice_update prod_updates[4];
        size_t nprod = 0;
        offsets_update ou;
        head_ctx head = {b->branch, branch_snapshot};
        prod_updates[nprod++] = (firn_ice_update){fence_apply, NULL, &fence};
        firn_ice_producer *pick = NULL, *unp = NULL, *hp = NULL;
        written hist = {0};
        rc = 0;
        int64_t main_id = branch_snapshot;
        if (rejected || cherry) {
            /* rejected: an empty append carrying the offsets; cherry-pick: the
             * audited files again, on main */
            written none = {0};
            pick = append_producer(b->prod, FIRN_ICE_MAIN_BRANCH, rejected ? &none : trusted, err);
            if (!pick) {
                rc = FIRN_WRAP(err, err->kind, "publish");
                break;
            }
            if (rejected) prod_updates[nprod++] = (firn_ice_update){tag_apply, NULL, &tag};
            prod_updates[nprod++] = offsets_update_of(&ou, b, pick, rejected ? audit_text : NULL);
            main_id = firn_ice_producer_snapshot_id(pick);
        } else {
            prod_updates[nprod++] = (firn_ice_update){head_apply, NULL, &head};
            prod_updates[nprod++] = firn_ice_update_ref(&ff);
        }
        firn_ice_table_change changes[3];
        size_t nch = 0;
        changes[nch++] = (firn_ice_table_change){b->prod, prod_updates, nprod};
        firn_ice_update unu, hu;
        if (untrusted->nfiles) {
            unp = append_producer(b->untrusted, FIRN_ICE_MAIN_BRANCH, untrusted, err);
            if (!unp) rc = -1;
            else {
                unu = firn_ice_producer_update(unp);
                changes[nch++] = (firn_ice_table_change){b->untrusted, &unu, 1};
            }
        }
        int64_t total = summary_long(firn_ice_metadata_snapshot(b->prod->metadata, branch_snapshot),
                                     "total-records", -1);
        const char *outcome = rejected ? "rejected" : cherry ? "cherry-picked" : "published";
        if (rc == 0 && b->history) {
            rc = write_history(b, outcome, audit_text, main_id, total, end, &hist, err);
            if (rc == 0) {
                hp = append_producer(b->history, FIRN_ICE_MAIN_BRANCH, &hist, err);
                if (!hp) rc = -1;
                else {
                    hu = firn_ice_producer_update(hp);
                    changes[nch++] = (firn_ice_table_change){b->history, &hu, 1};
                }
            }
        }
        firn_ice_commit_info info = {0};
        if (rc == 0) rc = firn_ice_table_commit_multi(changes, nch, &info, err);
        res->commit_attempts += info.attempts;
        if (rc && info.state != FIRN_ICE_COMMIT_UNKNOWN) written_abort(&hist);
        written_free(&hist);
        firn_ice_producer_free(pick);
        firn_ice_producer_free(unp);
        firn_ice_producer_free(hp);
        if (rc == 0) {
            res->main_snapshot_id = main_id;
            res->outcome = rejected ? FIRN_WAP_REJECTED
                           : cherry ? FIRN_WAP_CHERRY_PICKED : FIRN_WAP_PUBLISHED;
            break;
        }
        /* main's offsets outside the batch, or the shared branch, moved: the
         * batch's own offsets still hold, so record main's current map with
         * them and re-apply the audited files */
        if (fence.moved && !fence.failed && info.state == FIRN_ICE_COMMIT_FAILED) {
            if (firn_ice_table_refresh(b->prod, err)) break;
            firn_error_release(err);
            firn_error_init(err);
            firn_offset_map_release(&fresh);
            end_map(b, &fresh);
            end = &fresh;
            cherry = !rejected;
            continue;
        }
        /* main moved under the fast-forward (and the fence held): cherry-pick */
        if (!rejected && !cherry && !fence.failed && err->kind == FIRN_ERR_CONFLICT &&
            !err->retriable && info.state == FIRN_ICE_COMMIT_FAILED) {
            cherry = true;
            if (firn_ice_table_refresh(b->prod, err)) break;
            firn_offset_map_release(&fresh);
            end_map(b, &fresh);
            end = &fresh;
            continue;
        }
        break;
    }
    firn_offset_map_release(&fresh);
    if (rc && err->kind == FIRN_OK)
        rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT, "publish: main of %s.%s kept moving", b->prod->ns,
                        b->prod->name);
    return rc;
}

/* ------------------------------------------------- publish without multi-table commits */

/*
 * A catalog that cannot commit several tables atomically (a REST server
 * without transactions/commit, firn_cat_atomic_multi) gets the publish as
 * single-table commits in a fixed order, behind an intent recorded first:
 *
 *   1. firn.commits: a row with outcome "intent" (no row counts, so totals
 *      are not counted twice) whose snapshot carries the intent as JSON in
 *      its summary (firn.intent; the row's `intent` column holds the same):
 *      the batch id, the production table with its branch, the audited
 *      branch snapshot, main's head then (the base), the batch's offset
 *      ranges, the audit outcome and the extra summary; the untrusted table
 *      with its head then; for each, a manifest written beforehand listing
 *      the data files to append (the files themselves are already written).
 *   2. the production table, alone: [fence, fast-forward main to the audited
 *      snapshot] or, when main moved, [fence, append the manifest's files on
 *      main] - the snapshot carries firn.batch = the batch id.
 *   3. the untrusted table: append the manifest's files (firn.batch too).
 *   4. firn.commits: the usual history row (outcome, counts) whose snapshot
 *      carries firn.intent-done = the batch id: the intent is complete.
 *
 * Why production first: its commit is the fenced one - it checks that main's
 * offsets for the batch's partitions are the batch's start and advances them
 * in the same swap. Before it lands nothing of the batch is visible anywhere,
 * so a zombie (or a batch another worker published meanwhile) is stopped
 * with no trace but an "aborted" row. Once it lands the offsets are claimed:
 * no other worker will publish these records, so what follows (untrusted
 * rows, the history row) can be redone by anyone, any number of times, under
 * the guards below. Staging first would put the untrusted rows of a batch
 * that may still be fenced out into the staging table - duplicates of the
 * rows the real owner publishes. `main` only ever holds audited data: the
 * audit ran before the intent; a rejected batch's production commit is an
 * empty snapshot carrying the offsets, as with atomic commits.
 *
 * Every step is guarded inside its commit (on the metadata it lands on, at
 * each attempt): production is skipped when main's ancestry since the base
 * holds a snapshot with firn.batch = the id; the untrusted append likewise
 * on its table; the completion row when firn.commits has a snapshot with
 * firn.intent-done = the id. So an intent applied by its worker and rolled
 * forward by another (or by a restart) lands exactly once.
 *
 * Roll-forward (firn_wap_roll_forward, at worker start): every intent of
 * firn.commits without its completion, for this production table, runs
 * steps 2-4 again. Step 2 on a main whose offsets moved past the batch's
 * start (another worker published those records, e.g. the restarted worker
 * itself after a crash before step 2) fails its fence: the intent completes
 * as "aborted" and nothing is applied.
 *
 * Crash points: wap.after-intent, wap.after-table-commit (after each of
 * steps 2 and 3 that committed; FIRN_CRASH_AT=wap.after-table-commit:N for
 * the Nth in the process).
 */

#define INTENT_KEY "firn.intent"
#define INTENT_DONE_KEY "firn.intent-done"
#define BATCH_KEY "firn.batch"

/* main's newest snapshot carrying firn.batch = batch, searched down to
 * (not including) base; -1 when none. */
static int64_t find_batch(const firn_ice_metadata *md, const char *batch, int64_t base) {
    const firn_ice_ref *ref = firn_ice_metadata_ref(md, FIRN_ICE_MAIN_BRANCH);
    int64_t id = ref ? ref->snapshot_id : -1;
    for (size_t steps = 0; id >= 0 && id != base && steps <= md->nsnapshots; steps++) {
        const firn_ice_snapshot *s = firn_ice_metadata_snapshot(md, id);
        if (!s) break;
        const char *v = firn_ice_snapshot_summary_get(s, BATCH_KEY);
        if (v && !strcmp(v, batch)) return id;
        id = s->has_parent ? s->parent_snapshot_id : -1;
    }
    return -1;
}

static bool has_done(const firn_ice_metadata *md, const char *batch) {
    for (size_t i = 0; i < md->nsnapshots; i++) {
        const char *v = firn_ice_snapshot_summary_get(md->snapshots[i], INTENT_DONE_KEY);
        if (v && !strcmp(v, batch)) return true;
    }
    return false;
}

/* An update that fails (not retriable) when the step already landed. */
typedef struct guard_ctx {
    const char *batch;
    int64_t base;
    bool history; /* look for the completion, not for firn.batch */
    int64_t found; /* the snapshot that holds it (or 0 for history) / -1 */
} guard_ctx;

static int guard_apply(void *ctx, firn_ice_metadata *md, firn_error *err) {
    guard_ctx *g = ctx;
    g->found = -1;
    if (g->history) {
        if (has_done(md, g->batch)) g->found = 0;
    } else {
        g->found = find_batch(md, g->batch, g->base);
    }
    if (g->found < 0) return 0;
    int rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT, "batch %s: already applied", g->batch);
    err->retriable = false;
    return rc;
}

/* Commit one table's updates behind a guard; *skipped when the guard found the
 * step done already (then 0 comes back). */
static int guarded_commit(firn_ice_table *t, firn_ice_update *ups, size_t n, guard_ctx *g,
                          bool *skipped, firn_ice_commit_info *info, firn_error *err) {
    *skipped = false;
    int rc = firn_ice_table_commit(t, ups, n, info, err);
    if (rc && g->found >= 0 && info->state == FIRN_ICE_COMMIT_FAILED) {
        firn_error_release(err);
        firn_error_init(err);
        *skipped = true;
        return 0;
    }
    return rc;
}

/* A manifest listing w's data files, in t's metadata directory; *out its
 * location (malloc'd). The snapshot that appends the files writes its own. */
static int write_intent_manifest(firn_ice_table *t, const written *w, const char *batch,
                                 char **out, firn_error *err) {
    *out = NULL;
    firn_arena a;
    firn_arena_init(&a, 1024);
    firn_buf loc = {0};
    firn_buf_appendf(&loc, "%s/intent-%s-%s.avro", firn_ice_metadata_dir(t->metadata, &a), batch,
                     t->name);
    firn_ice_manifest_writer *mw = firn_ice_manifest_writer_new(
        t->io, firn_buf_cstr(&loc), t->metadata->format_version,
        firn_ice_metadata_current_schema(t->metadata), firn_ice_metadata_default_spec(t->metadata),
        FIRN_ICE_CONTENT_DATA, firn_ice_metadata_new_snapshot_id(t->metadata), err);
    int rc = mw ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < w->nfiles; i++) {
        firn_ice_manifest_entry e = {.status = FIRN_ICE_ADDED, .data_file = w->files[i]};
        rc = firn_ice_manifest_writer_add(mw, &e, err);
    }
    firn_ice_manifest_file mf;
    if (rc == 0) rc = firn_ice_manifest_writer_close(mw, &a, &mf, err);
    if (rc == 0) *out = firn_xstrdup(mf.manifest_path);
    firn_ice_manifest_writer_free(mw);
    firn_buf_release(&loc);
    firn_arena_release(&a);
    return rc ? FIRN_WRAP(err, err->kind, "%s.%s: intent manifest", t->ns, t->name) : 0;
}

/* The data files an intent manifest lists (in a; *files malloc'd). */
static int read_intent_manifest(firn_ice_table *t, const char *loc, firn_arena *a,
                                firn_ice_data_file **files, size_t *n, firn_error *err) {
    *files = NULL;
    *n = 0;
    firn_ice_manifest_reader *r = firn_ice_manifest_reader_open(t->io, loc, err);
    if (!r) return FIRN_WRAP(err, err->kind, "%s.%s: intent manifest %s", t->ns, t->name, loc);
    int32_t spec = firn_ice_manifest_reader_header(r)->partition_spec_id;
    size_t cap = 0;
    int rc;
    for (;;) {
        firn_ice_manifest_entry e;
        rc = firn_ice_manifest_reader_next(r, a, &e, err);
        if (rc <= 0) break;
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            *files = firn_xrealloc(*files, cap * sizeof **files);
        }
        e.data_file.spec_id = spec >= 0 ? spec : 0;
        (*files)[(*n)++] = e.data_file;
    }
    firn_ice_manifest_reader_free(r);
    if (rc < 0) {
        free(*files);
        *files = NULL;
        *n = 0;
        return FIRN_WRAP(err, err->kind, "%s.%s: intent manifest %s", t->ns, t->name, loc);
    }
    return 0;
}

static const char *jstr(const json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

static int64_t jint(const json_t *o, const char *k, int64_t dflt) {
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static bool same_table(const firn_ice_table *t, const char *name) {
    char full[512];
    snprintf(full, sizeof full, "%s.%s", t->ns, t->name);
    return name && !strcmp(full, name);
}

/* Write the completion row of intent `in` (guarded: at most one per batch). */
static int intent_complete(firn_ice_table *history, const json_t *in, const char *outcome,
                           int64_t snapshot_id, int *attempts, firn_error *err) {
    const char *batch = jstr(in, "batch");
    const json_t *prod = json_object_get(in, "production");
    bool aborted = !strcmp(outcome, "aborted");
    const json_t *rows = json_object_get(in, "rows");
    hist_row h = {jstr(prod, "table"), outcome, jstr(in, "audit"), snapshot_id,
                  aborted ? -1 : jint(in, "total-trusted", -1), jstr(in, "offsets"),
                  jstr(in, "worker"), aborted ? 0 : jint(rows, "trusted", 0),
                  aborted ? 0 : jint(rows, "untrusted", 0),
                  aborted ? 0 : jint(rows, "dead-letter", 0), batch, NULL};
    written hist;
    int rc = write_history_row(history, &h, &hist, err);
    if (rc) return rc;
    firn_ice_producer *hp = append_producer(history, FIRN_ICE_MAIN_BRANCH, &hist, err);
    if (!hp) {
        written_abort(&hist);
        written_free(&hist);
        return -1;
    }
    firn_ice_producer_set_summary(hp, INTENT_DONE_KEY, batch);
    guard_ctx g = {batch, -1, true, -1};
    firn_ice_update ups[2] = {{guard_apply, NULL, &g}, firn_ice_producer_update(hp)};
    firn_ice_commit_info info = {0};
    bool skipped;
    rc = guarded_commit(history, ups, 2, &g, &skipped, &info, err);
    if (attempts) *attempts += info.attempts;
    if ((rc || skipped) && info.state != FIRN_ICE_COMMIT_UNKNOWN) written_abort(&hist);
    written_free(&hist);
    firn_ice_producer_free(hp);
    return rc;
}

/*
 * Apply intent `in` on its tables (steps 2-4 above). Returns 0 when the
 * intent is complete (*fenced says it completed as "aborted" - the caller of
 * a publish then reports the fence), else an error: the intent stays open.
 * res (may be NULL) gets the outcome and main's snapshot.
 */
static int intent_apply(firn_ice_table *prod, firn_ice_table *untrusted, firn_ice_table *history,
                        const json_t *in, bool *fenced, firn_wap_result *res, firn_error *err) {
    *fenced = false;
    const char *batch = jstr(in, "batch");
    const json_t *jp = json_object_get(in, "production");
    const json_t *ju = json_object_get(in, "untrusted");
    const char *outcome = jstr(in, "outcome");
    bool rejected = outcome && !strcmp(outcome, "rejected");
    if (!batch || !jp || !outcome)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "intent without batch, production or outcome");
    /* the batch as the fence and the offsets update need it */
    const json_t *jr = json_object_get(jp, "ranges");
    size_t nr = json_array_size(jr);
    firn_wap_range *ranges = firn_xcalloc(nr ? nr : 1, sizeof *ranges);
    for (size_t i = 0; i < nr; i++) {
        const json_t *r = json_array_get(jr, i);
        ranges[i] = (firn_wap_range){json_string_value(json_array_get(r, 0)),
                                     (int32_t)json_integer_value(json_array_get(r, 1)),
                                     (int64_t)json_integer_value(json_array_get(r, 2)),
                                     (int64_t)json_integer_value(json_array_get(r, 3))};
    }
    const json_t *js = json_object_get(in, "summary");
    size_t ns = json_object_size(js);
    firn_ice_kv *kv = firn_xcalloc(ns ? ns : 1, sizeof *kv);
    size_t k = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)js, key, val) kv[k++] = (firn_ice_kv){key, json_string_value(val)};
    firn_wap_batch b = {0};
    b.prod = prod;
    b.branch = jstr(jp, "branch");
    b.worker = jstr(in, "worker");
    b.ranges = ranges;
    b.nranges = nr;
    b.summary = kv;
    b.nsummary = k;
    int64_t branch_snap = jint(jp, "branch-snapshot-id", -1);
    int64_t base = jint(jp, "base-snapshot-id", -1);
    const char *audit_text = jstr(in, "audit");
    firn_arena a;
    firn_arena_init(&a, 4096);
    firn_ice_data_file *files = NULL;
    size_t nfiles = 0;
    int rc = 0, attempts = 0;
    if (jstr(jp, "manifest"))
        rc = read_intent_manifest(prod, jstr(jp, "manifest"), &a, &files, &nfiles, err);
    written w = {NULL, files, nfiles, 0};

    /* step 2: production */
    int64_t main_id = -1;
    bool cherry = false, skipped = false;
    bool ff = !rejected && branch_snap >= 0 && b.branch && json_is_true(json_object_get(jp, "fast-forward"));
    for (int round = 0; rc == 0 && round < 2; round++) {
        bool use_ff = ff && round == 0;
        guard_ctx g = {batch, base, false, -1};
        fence_ctx fence = {&b, NULL, use_ff ? branch_snap : -1, false, false};
        firn_ice_ref_update fu = {.op = FIRN_ICE_REF_FAST_FORWARD, .type = FIRN_ICE_REF_BRANCH,
                                  .name = FIRN_ICE_MAIN_BRANCH, .snapshot_id = -1,
                                  .source = b.branch};
        head_ctx head = {b.branch, branch_snap};
        tag_ctx tag = {{0}, branch_snap};
        snprintf(tag.name, sizeof tag.name, "rejected-%lld", (long long)branch_snap);
        firn_ice_update ups[5];
        size_t nu = 0;
        ups[nu++] = (firn_ice_update){guard_apply, NULL, &g};
        ups[nu++] = (firn_ice_update){fence_apply, NULL, &fence};
        firn_ice_producer *pick = NULL;
        offsets_update ou;
        if (use_ff) {
            ups[nu++] = (firn_ice_update){head_apply, NULL, &head};
            ups[nu++] = firn_ice_update_ref(&fu);
        } else {
            written none = {0};
            pick = append_producer(prod, FIRN_ICE_MAIN_BRANCH, rejected ? &none : &w, err);
            if (!pick) {
                rc = -1;
                break;
            }
            if (rejected) ups[nu++] = (firn_ice_update){tag_apply, NULL, &tag};
            ups[nu++] = offsets_update_of(&ou, &b, pick, rejected ? audit_text : NULL);
            ou.batch = batch;
        }
        firn_ice_commit_info info = {0};
        rc = guarded_commit(prod, ups, nu, &g, &skipped, &info, err);
        attempts += info.attempts;
        int64_t pick_id = pick ? firn_ice_producer_snapshot_id(pick) : -1;
        firn_ice_producer_free(pick);
        if (rc == 0) {
            main_id = skipped ? g.found : use_ff ? branch_snap : pick_id;
            cherry = !use_ff && !rejected;
            break;
        }
        if (fence.failed) {
            *fenced = true;
            break;
        }
        /* main moved under the fast-forward, or the branch moved: cherry-pick */
        if (use_ff && err->kind == FIRN_ERR_CONFLICT && !err->retriable &&
            info.state == FIRN_ICE_COMMIT_FAILED) {
            firn_error_release(err);
            firn_error_init(err);
            rc = firn_ice_table_refresh(prod, err);
            continue;
        }
        break;
    }
    if (rc == 0 && !skipped) firn_io_crash_point("wap.after-table-commit");

    /* step 3: untrusted */
    if (rc == 0 && ju && jstr(ju, "manifest")) {
        if (!untrusted || !same_table(untrusted, jstr(ju, "table"))) {
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "intent %s: untrusted table %s not open", batch,
                            jstr(ju, "table") ? jstr(ju, "table") : "?");
        } else {
            firn_ice_data_file *uf = NULL;
            size_t nuf = 0;
            rc = firn_ice_table_refresh(untrusted, err);
            if (rc == 0) rc = read_intent_manifest(untrusted, jstr(ju, "manifest"), &a, &uf, &nuf, err);
            written uw = {NULL, uf, nuf, 0};
            firn_ice_producer *up = rc == 0 ? append_producer(untrusted, FIRN_ICE_MAIN_BRANCH, &uw, err)
                                            : NULL;
            if (rc == 0 && !up) rc = -1;
            if (rc == 0) {
                firn_ice_producer_set_summary(up, BATCH_KEY, batch);
                guard_ctx g = {batch, jint(ju, "base-snapshot-id", -1), false, -1};
                firn_ice_update ups[2] = {{guard_apply, NULL, &g}, firn_ice_producer_update(up)};
                firn_ice_commit_info info = {0};
                bool sk;
                rc = guarded_commit(untrusted, ups, 2, &g, &sk, &info, err);
                attempts += info.attempts;
                if (rc == 0 && !sk) firn_io_crash_point("wap.after-table-commit");
            }
            firn_ice_producer_free(up);
            free(uf);
        }
    }

    /* step 4: the completion row */
    if (rc == 0 || *fenced) {
        firn_error fe;
        firn_error_init(&fe);
        if (*fenced) { /* keep the fence error for the caller */
            fe = *err;
            firn_error_init(err);
        }
        if (firn_ice_table_refresh(history, err) == 0)
            rc = intent_complete(history, in,
                                 *fenced ? "aborted" : rejected ? "rejected"
                                                     : cherry ? "cherry-picked" : "published",
                                 main_id, &attempts, err);
        else
            rc = -1;
        if (*fenced && rc == 0) {
            *err = fe;
            rc = -FIRN_ERR_CONFLICT;
        } else if (*fenced) {
            firn_error_release(&fe);
        }
    }
    if (res) {
        res->commit_attempts += attempts;
        if (rc == 0) {
            res->main_snapshot_id = main_id;
            res->outcome = rejected ? FIRN_WAP_REJECTED
                           : cherry ? FIRN_WAP_CHERRY_PICKED : FIRN_WAP_PUBLISHED;
        }
    }
    free(files);
    free(ranges);
    free(kv);
    firn_arena_release(&a);
    return rc;
}

/* Publish b (audited; rejected: quarantined) table by table behind an intent. */
static int publish_intent(const firn_wap_batch *b, const char *batch, bool ff,
                          const written *trusted, const written *untrusted, int64_t branch_snapshot,
                          const firn_offset_map *end, bool rejected, const char *audit_text,
                          firn_wap_result *res, firn_error *err) {
    if (!b->history)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "%s.%s: the catalog cannot commit several tables atomically and there "
                          "is no history table to record the intent in",
                          b->prod->ns, b->prod->name);
    char *tman = NULL, *uman = NULL;
    int rc = 0;
    if (!rejected && trusted->nfiles) rc = write_intent_manifest(b->prod, trusted, batch, &tman, err);
    if (rc == 0 && b->untrusted && untrusted->nfiles)
        rc = write_intent_manifest(b->untrusted, untrusted, batch, &uman, err);
    if (rc) {
        free(tman);
        return rc;
    }
    char name[512];
    snprintf(name, sizeof name, "%s.%s", b->prod->ns, b->prod->name);
    int64_t nt, nu, nd;
    batch_counts(b, &nt, &nu, &nd);
    char *offtext = offsets_text(end);
    json_t *ranges = json_array();
    for (size_t i = 0; i < b->nranges; i++)
        json_array_append_new(ranges, json_pack("[s,i,I,I]", b->ranges[i].topic,
                                                (int)b->ranges[i].partition,
                                                (json_int_t)b->ranges[i].start,
                                                (json_int_t)b->ranges[i].end));
    json_t *summary = json_object();
    for (size_t i = 0; i < b->nsummary; i++)
        json_object_set_new(summary, b->summary[i].key, json_string(b->summary[i].value));
    json_t *prod = json_pack("{s:s, s:s, s:I, s:I, s:o, s:I}", "table", name, "branch", b->branch,
                             "branch-snapshot-id", (json_int_t)branch_snapshot,
                             "base-snapshot-id", (json_int_t)b->prod->metadata->current_snapshot_id,
                             "ranges", ranges, "records", (json_int_t)trusted->rows);
    json_object_set_new(prod, "manifest", tman ? json_string(tman) : json_null());
    /* a fast-forward lands the branch snapshot, which carries firn.batch only
     * when it was written for this way of publishing */
    json_object_set_new(prod, "fast-forward", json_boolean(ff));
    json_t *in = json_pack("{s:s, s:s, s:s, s:o, s:{s:I, s:I, s:I}, s:I, s:s, s:o}", "batch", batch,
                           "worker", b->worker ? b->worker : "firn", "outcome",
                           rejected ? "rejected" : "published", "production", prod, "rows",
                           "trusted", (json_int_t)nt, "untrusted", (json_int_t)nu, "dead-letter",
                           (json_int_t)nd, "total-trusted",
                           (json_int_t)summary_long(
                               firn_ice_metadata_snapshot(b->prod->metadata, branch_snapshot),
                               "total-records", -1),
                           "offsets", offtext, "summary", summary);
    if (audit_text) json_object_set_new(in, "audit", json_string(audit_text));
    if (uman) {
        char uname[512];
        snprintf(uname, sizeof uname, "%s.%s", b->untrusted->ns, b->untrusted->name);
        json_object_set_new(in, "untrusted",
                            json_pack("{s:s, s:s, s:I, s:I}", "table", uname, "manifest", uman,
                                      "base-snapshot-id",
                                      (json_int_t)b->untrusted->metadata->current_snapshot_id,
                                      "records", (json_int_t)untrusted->rows));
    }
    free(tman);
    free(uman);
    char *text = json_dumps(in, JSON_COMPACT | JSON_SORT_KEYS);

    /* step 1: the intent row */
    hist_row h = {name, "intent", NULL, branch_snapshot, -1, offtext, b->worker, 0, 0, 0, batch, text};
    written hist;
    rc = write_history_row(b->history, &h, &hist, err);
    firn_ice_producer *hp = rc == 0 ? append_producer(b->history, FIRN_ICE_MAIN_BRANCH, &hist, err)
                                    : NULL;
    if (rc == 0 && !hp) rc = -1;
    if (rc == 0) {
        firn_ice_producer_set_summary(hp, INTENT_KEY, text);
        firn_ice_update u = firn_ice_producer_update(hp);
        firn_ice_commit_info info = {0};
        rc = firn_ice_table_commit(b->history, &u, 1, &info, err);
        res->commit_attempts += info.attempts;
        if (rc && info.state != FIRN_ICE_COMMIT_UNKNOWN) written_abort(&hist);
    }
    firn_ice_producer_free(hp);
    written_free(&hist);
    free(offtext);
    free(text);
    if (rc) {
        json_decref(in);
        return FIRN_WRAP(err, err->kind, "publish: recording the intent in firn.commits");
    }
    firn_io_crash_point("wap.after-intent");

    /* steps 2-4 */
    bool fenced;
    rc = intent_apply(b->prod, b->untrusted, b->history, in, &fenced, res, err);
    json_decref(in);
    if (rc && fenced) err->retriable = false;
    return rc;
}

int firn_wap_roll_forward(firn_ice_table *prod, firn_ice_table *untrusted, firn_ice_table *history,
                          int *rolled, firn_error *err) {
    if (rolled) *rolled = 0;
    if (!history) return 0;
    if (firn_ice_table_refresh(history, err)) return FIRN_WRAP(err, err->kind, "roll-forward");
    const firn_ice_metadata *md = history->metadata;
    /* the open intents of this production table, oldest first */
    json_t *open = json_array();
    for (size_t i = 0; i < md->nsnapshots; i++) {
        const char *text = firn_ice_snapshot_summary_get(md->snapshots[i], INTENT_KEY);
        if (!text) continue;
        json_t *in = json_loads(text, 0, NULL);
        const char *batch = jstr(in, "batch");
        if (!batch || !same_table(prod, jstr(json_object_get(in, "production"), "table")) ||
            has_done(md, batch)) {
            json_decref(in);
            continue;
        }
        json_object_set_new(in, "_ts", json_integer(md->snapshots[i]->timestamp_ms));
        json_array_append_new(open, in);
    }
    int rc = 0;
    size_t n = json_array_size(open);
    /* sequence numbers order them as committed; timestamps are close enough here */
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t best = i;
        for (size_t j = i + 1; j < n; j++)
            if (jint(json_array_get(open, j), "_ts", 0) < jint(json_array_get(open, best), "_ts", 0))
                best = j;
        if (best != i) {
            json_t *x = json_incref(json_array_get(open, i));
            json_array_set(open, i, json_array_get(open, best));
            json_array_set_new(open, best, x);
        }
        json_t *in = json_array_get(open, i);
        if (firn_ice_table_refresh(prod, err)) {
            rc = -1;
            break;
        }
        bool fenced;
        rc = intent_apply(prod, untrusted, history, in, &fenced, NULL, err);
        if (rc && fenced) { /* completed as aborted: nothing of it was applied */
            firn_error_release(err);
            firn_error_init(err);
            rc = 0;
        }
        fprintf(stderr, "firn: %s.%s: intent %s of worker %s %s\n", prod->ns, prod->name,
                jstr(in, "batch"), jstr(in, "worker") ? jstr(in, "worker") : "?",
                rc ? "could not be rolled forward" : fenced ? "aborted (fenced: not applied)"
                                                            : "rolled forward");
        if (rc == 0 && rolled) (*rolled)++;
    }
    json_decref(open);
    return rc ? FIRN_WRAP(err, err->kind, "%s.%s: rolling forward an intent", prod->ns, prod->name)
              : 0;
}

/* ------------------------------------------------------------- entry points */

int firn_wap_run(const firn_wap_batch *b, firn_wap_result *res, firn_error *err) {
    memset(res, 0, sizeof *res);
    res->branch_snapshot_id = res->main_snapshot_id = -1;
    if (firn_ice_table_refresh(b->prod, err)) return FIRN_WRAP(err, err->kind, "write");
    if (b->untrusted && firn_ice_table_refresh(b->untrusted, err)) return err->kind * -1;
    if (b->history && firn_ice_table_refresh(b->history, err)) return err->kind * -1;

    firn_offset_map end = {0};
    end_map(b, &end);
    /* without atomic multi-table commits the publish goes table by table behind
     * an intent naming this batch (see above) */
    bool atomic = firn_cat_atomic_multi(b->prod->catalog);
    char batch[37];
    uint8_t u[16];
    firn_ice_uuid4(u);
    firn_ice_uuid_format(u, batch);
    written trusted = {0}, untrusted = {0};
    int rc = write_rows(b->prod, b->trusted_rows, &trusted, err);
    if (rc == 0 && b->untrusted) rc = write_rows(b->untrusted, b->untrusted_rows, &untrusted, err);
    if (rc) goto fail;
    firn_io_crash_point("wap.after-data-files");

    /* write: cut the branch at main, append to it */
    firn_ice_producer *dev = append_producer(b->prod, b->branch, &trusted, err);
    if (!dev) {
        rc = -1;
        goto fail;
    }
    offsets_update ou;
    firn_ice_update ups[2] = {{cut_apply, NULL, (void *)b->branch},
                              offsets_update_of(&ou, b, dev, NULL)};
    if (!atomic) ou.batch = batch;
    firn_ice_commit_info info = {0};
    rc = firn_ice_table_commit(b->prod, ups, 2, &info, err);
    res->commit_attempts += info.attempts;
    int64_t branch_snapshot = firn_ice_producer_snapshot_id(dev);
    firn_ice_producer_free(dev);
    if (rc) {
        FIRN_WRAP(err, err->kind, "write: commit to branch %s", b->branch);
        if (info.state == FIRN_ICE_COMMIT_UNKNOWN) goto keep;
        goto fail;
    }
    res->branch_snapshot_id = branch_snapshot;
    firn_io_crash_point("wap.after-branch-commit");

    /* audit */
    res->trusted = trusted.rows;
    res->untrusted = untrusted.rows;
    if (audit(b, firn_ice_metadata_snapshot(b->prod->metadata, branch_snapshot), &untrusted,
              res->audit_failure, sizeof res->audit_failure)) {
        res->outcome = FIRN_WAP_REJECTED;
        written_abort(&untrusted); /* the caller quarantines the whole batch */
        goto done;
    }

    /* publish */
    if (b->before_publish) b->before_publish(b->hook_ctx);
    if (atomic) {
        rc = publish(b, &trusted, &untrusted, branch_snapshot, &end, false, NULL, res, err);
        if (rc && err->kind == FIRN_ERR_UNSUPPORTED && !firn_cat_atomic_multi(b->prod->catalog)) {
            /* the server lacks transactions/commit after all: nothing was committed */
            firn_error_release(err);
            firn_error_init(err);
            atomic = false;
        }
    }
    if (!atomic)
        rc = publish_intent(b, batch, ou.batch != NULL, &trusted, &untrusted, branch_snapshot, &end,
                            false, NULL, res, err);
    if (rc) {
        if (err->kind == FIRN_ERR_CONFLICT && !err->retriable) written_abort(&untrusted);
        goto keep; /* the branch references the trusted files */
    }
    firn_io_crash_point("wap.after-publish");
done:
    written_free(&trusted);
    written_free(&untrusted);
    firn_offset_map_release(&end);
    return 0;
fail:
    written_abort(&trusted);
    written_abort(&untrusted);
keep:
    written_free(&trusted);
    written_free(&untrusted);
    firn_offset_map_release(&end);
    return rc ? rc : -FIRN_ERR_INTERNAL;
}

int firn_wap_quarantine(const firn_wap_batch *b, firn_wap_result *res, firn_error *err) {
    int64_t branch_snapshot = res->branch_snapshot_id;
    char why[sizeof res->audit_failure];
    snprintf(why, sizeof why, "%s", res->audit_failure);
    if (firn_ice_table_refresh(b->prod, err)) return FIRN_WRAP(err, err->kind, "quarantine");
    if (b->untrusted && firn_ice_table_refresh(b->untrusted, err)) return err->kind * -1;
    if (b->history && firn_ice_table_refresh(b->history, err)) return err->kind * -1;
    firn_offset_map end = {0};
    end_map(b, &end);
    written trusted = {0}, untrusted = {0};
    int rc = b->untrusted ? write_rows(b->untrusted, b->untrusted_rows, &untrusted, err) : 0;
    if (rc == 0) {
        bool atomic = firn_cat_atomic_multi(b->prod->catalog);
        if (atomic) {
            rc = publish(b, &trusted, &untrusted, branch_snapshot, &end, true, why, res, err);
            if (rc && err->kind == FIRN_ERR_UNSUPPORTED && !firn_cat_atomic_multi(b->prod->catalog)) {
                firn_error_release(err);
                firn_error_init(err);
                atomic = false;
            }
        }
        if (!atomic) {
            char batch[37];
            uint8_t u[16];
            firn_ice_uuid4(u);
            firn_ice_uuid_format(u, batch);
            rc = publish_intent(b, batch, false, &trusted, &untrusted, branch_snapshot, &end, true,
                                why, res, err);
        }
        if (rc && !(err->kind == FIRN_ERR_IO && err->retriable)) written_abort(&untrusted);
    }
    res->untrusted = untrusted.rows;
    written_free(&untrusted);
    firn_offset_map_release(&end);
    if (rc == 0) firn_io_crash_point("wap.after-publish");
    return rc;
}
