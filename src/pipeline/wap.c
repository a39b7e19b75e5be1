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

#include "io/io.h"

#include <jansson.h>
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
    return u->inner.apply(u->inner.ctx, md, err);
}

static void offsets_finish(void *ctx, firn_ice_commit_state state) {
    offsets_update *u = ctx;
    if (u->inner.finish) u->inner.finish(u->inner.ctx, state);
}

/* u must outlive the commit. */
static firn_ice_update offsets_update_of(offsets_update *u, const firn_wap_batch *b,
                                         firn_ice_producer *p, const char *audit) {
    *u = (offsets_update){b, p, firn_ice_producer_update(p), audit};
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
    "{\"id\":11,\"name\":\"total_trusted\",\"required\":false,\"type\":\"long\"}]}";

const char *firn_wap_history_schema_json(void) { return HISTORY_SCHEMA; }

static int write_history(const firn_wap_batch *b, const char *outcome, const char *audit,
                         int64_t snapshot_id, int64_t total, const firn_offset_map *end,
                         written *out, firn_error *err) {
    memset(out, 0, sizeof *out);
    if (!b->history) return 0;
    firn_rows rows;
    int rc = firn_rows_init(&rows, firn_ice_metadata_current_schema(b->history->metadata), err);
    if (rc) return rc;
    const firn_ice_schema *s = firn_ice_metadata_current_schema(b->history->metadata);
    char name[512];
    snprintf(name, sizeof name, "%s.%s", b->prod->ns, b->prod->name);
    json_t *off = json_object();
    for (size_t i = 0; i < end->n; i++) {
        char k[160];
        snprintf(k, sizeof k, "%s.%d", end->e[i].topic, end->e[i].partition);
        json_object_set_new(off, k, json_integer(end->e[i].offset));
    }
    char *offtext = json_dumps(off, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(off);
    uint64_t ntrusted = b->trusted_rows ? b->trusted_rows->nrows : 0;
    uint64_t nuntrusted = b->untrusted_rows ? b->untrusted_rows->nrows : 0;
    for (size_t c = 0; c < rows.ncols; c++) {
        const char *col = s->type->fields[c].name;
        if (!strcmp(col, "committed_at")) firn_rows_set_i64(&rows, c, firn_now_us());
        else if (!strcmp(col, "table_name")) firn_rows_set_str(&rows, c, name);
        else if (!strcmp(col, "snapshot_id")) {
            if (snapshot_id >= 0) firn_rows_set_i64(&rows, c, snapshot_id);
        } else if (!strcmp(col, "outcome")) firn_rows_set_str(&rows, c, outcome);
        else if (!strcmp(col, "audit")) firn_rows_set_str(&rows, c, audit);
        else if (!strcmp(col, "rows_trusted"))
            firn_rows_set_i64(&rows, c, b->dead_letter ? 0 : (int64_t)ntrusted);
        else if (!strcmp(col, "rows_untrusted")) firn_rows_set_i64(&rows, c, (int64_t)nuntrusted);
        else if (!strcmp(col, "rows_dead_letter"))
            firn_rows_set_i64(&rows, c, b->dead_letter ? (int64_t)ntrusted : 0);
        else if (!strcmp(col, "offsets")) firn_rows_set_str(&rows, c, offtext);
        else if (!strcmp(col, "worker")) firn_rows_set_str(&rows, c, b->worker ? b->worker : "firn");
        else if (!strcmp(col, "total_trusted")) {
            if (total >= 0) firn_rows_set_i64(&rows, c, total);
        }
    }
    firn_rows_end_row(&rows);
    free(offtext);
    rc = write_rows(b->history, &rows, out, err);
    firn_rows_release(&rows);
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

static int audit(const firn_wap_batch *b, const firn_ice_snapshot *snap, const written *untrusted,
                 char *why, size_t whyn) {
    const char *inject = getenv("FIRN_WAP_AUDIT_FAIL"); /* tests: force a failed check */
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

/* ------------------------------------------------------------- entry points */

int firn_wap_run(const firn_wap_batch *b, firn_wap_result *res, firn_error *err) {
    memset(res, 0, sizeof *res);
    res->branch_snapshot_id = res->main_snapshot_id = -1;
    if (firn_ice_table_refresh(b->prod, err)) return FIRN_WRAP(err, err->kind, "write");
    if (b->untrusted && firn_ice_table_refresh(b->untrusted, err)) return err->kind * -1;
    if (b->history && firn_ice_table_refresh(b->history, err)) return err->kind * -1;

    firn_offset_map end = {0};
    end_map(b, &end);
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
    rc = publish(b, &trusted, &untrusted, branch_snapshot, &end, false, NULL, res, err);
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
        firn_ice_commit_info unused;
        (void)unused;
        rc = publish(b, &trusted, &untrusted, branch_snapshot, &end, true, why, res, err);
        if (rc && !(err->kind == FIRN_ERR_IO && err->retriable)) written_abort(&untrusted);
    }
    res->untrusted = untrusted.rows;
    written_free(&untrusted);
    firn_offset_map_release(&end);
    if (rc == 0) firn_io_crash_point("wap.after-publish");
    return rc;
}
