/* maintain.c - what the maintenance operations share: location sets, the files
 * snapshots reach, durations, old metadata files, the metadata budget and the
 * policy run once ("all"). */
#include "maintain/maintain.h"
#include "maintain/maintain_internal.h"
#include "io/io.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

void (*firn_mt_test_hook)(const char *step);

void firn_maintain_options_init(firn_maintain_options *o) {
    memset(o, 0, sizeof *o);
    o->older_than_ms = -1;
    o->retain_last = -1;
    o->min_snapshot_age_ms = -1;
    o->orphan_margin_ms = -1;
}

void firn_maintain_result_release(firn_maintain_result *r) {
    if (!r) return;
    for (size_t i = 0; i < r->npaths; i++) free(r->paths[i]);
    free(r->paths);
    memset(r, 0, sizeof *r);
}

const firn_maintain_options *firn_mt_options(const firn_maintain_options *o,
                                             firn_maintain_options *dflt) {
    if (o) return o;
    firn_maintain_options_init(dflt);
    return dflt;
}

void firn_mt_note_path(firn_maintain_result *r, const firn_maintain_options *o, const char *path) {
    if (!o->keep_paths) return;
    if (r->npaths == r->cap_paths) {
        r->cap_paths = r->cap_paths ? 2 * r->cap_paths : 16;
        r->paths = firn_xrealloc(r->paths, r->cap_paths * sizeof *r->paths);
    }
    r->paths[r->npaths++] = firn_xstrdup(path);
}

int64_t firn_mt_now_ms(const firn_maintain_options *o) {
    if (o && o->now_ms > 0) return o->now_ms;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ------------------------------------------------------------ location sets */

const char *firn_mt_canon(const char *location, char *buf, size_t n) {
    char *c = NULL;
    firn_error e;
    firn_error_init(&e);
    if (firn_io_uri_normalize(location, NULL, &c, &e) == 0 && c) {
        snprintf(buf, n, "%s", c);
        free(c);
    } else {
        snprintf(buf, n, "%s", location);
    }
    firn_error_release(&e);
    return buf;
}

static size_t slot_of(const firn_mt_set *s, const char *key) {
    uint64_t h = firn_xxh64(key, strlen(key), 0);
    size_t i = (size_t)h & (s->cap - 1);
    while (s->keys[i] && strcmp(s->keys[i], key) != 0) i = (i + 1) & (s->cap - 1);
    return i;
}

static void grow(firn_mt_set *s) {
    size_t ncap = s->cap ? 2 * s->cap : 64;
    char **keys = firn_xcalloc(ncap, sizeof *keys);
    int64_t *sizes = firn_xcalloc(ncap, sizeof *sizes);
    firn_mt_set t = {keys, sizes, 0, ncap};
    for (size_t i = 0; i < s->cap; i++)
        if (s->keys[i]) {
            size_t j = slot_of(&t, s->keys[i]);
            t.keys[j] = s->keys[i];
            t.sizes[j] = s->sizes[i];
        }
    free(s->keys);
    free(s->sizes);
    s->keys = keys;
    s->sizes = sizes;
    s->cap = ncap;
}

void firn_mt_set_release(firn_mt_set *s) {
    for (size_t i = 0; i < s->cap; i++) free(s->keys[i]);
    free(s->keys);
    free(s->sizes);
    memset(s, 0, sizeof *s);
}

bool firn_mt_set_add(firn_mt_set *s, const char *location, int64_t size) {
    char buf[4096];
    const char *key = firn_mt_canon(location, buf, sizeof buf);
    if ((s->n + 1) * 2 > s->cap) grow(s);
    size_t i = slot_of(s, key);
    if (s->keys[i]) return false;
    s->keys[i] = firn_xstrdup(key);
    s->sizes[i] = size;
    s->n++;
    return true;
}

bool firn_mt_set_has(const firn_mt_set *s, const char *location) {
    if (!s->cap) return false;
    char buf[4096];
    const char *key = firn_mt_canon(location, buf, sizeof buf);
    return s->keys[slot_of(s, key)] != NULL;
}

/* ------------------------------------------------------------ reachability */

void firn_mt_reach_release(firn_mt_reach *r) {
    firn_mt_set_release(&r->lists);
    firn_mt_set_release(&r->manifests);
    firn_mt_set_release(&r->files);
}

static int reach_manifest(struct firn_io *io, const firn_ice_metadata *md,
                          const firn_ice_manifest_file *mf, bool all_entries, firn_mt_reach *r,
                          firn_error *err) {
    firn_ice_manifest_reader *rd = firn_ice_manifest_reader_open(io, mf->manifest_path, err);
    if (!rd) return -(int)err->kind;
    int rc = firn_ice_manifest_reader_skip_stats(rd, true, err);
    const firn_ice_partition_spec *spec = firn_ice_metadata_spec(md, mf->partition_spec_id);
    if (rc == 0 && spec)
        rc = firn_ice_manifest_reader_set_spec(rd, firn_ice_metadata_current_schema(md), spec, err);
    if (rc == 0) rc = firn_ice_manifest_reader_inherit(rd, mf, err);
    firn_arena a;
    firn_arena_init(&a, 0);
    while (rc == 0) {
        firn_ice_manifest_entry e;
        int got = firn_ice_manifest_reader_next(rd, &a, &e, err);
        if (got < 0) rc = got;
        if (got <= 0) break;
        if (all_entries || e.status != FIRN_ICE_DELETED)
            firn_mt_set_add(&r->files, e.data_file.file_path, e.data_file.file_size_in_bytes);
        firn_arena_reset(&a);
    }
    firn_arena_release(&a);
    firn_ice_manifest_reader_free(rd);
    if (rc) return FIRN_WRAP(err, err->kind, "cannot read manifest %s", mf->manifest_path);
    return 0;
}

int firn_mt_reach_lists(struct firn_io *io, const firn_ice_metadata *md,
                        const char *const *lists, size_t n, bool all_entries,
                        firn_mt_reach *r, firn_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (!lists[i] || !firn_mt_set_add(&r->lists, lists[i], -1)) continue;
        firn_arena a;
        firn_arena_init(&a, 0);
        firn_ice_manifest_file *mfs;
        size_t nmf;
        int rc = firn_ice_manifest_list_read(io, lists[i], &a, &mfs, &nmf, NULL, err);
        if (rc) FIRN_WRAP(err, err->kind, "cannot read manifest list %s", lists[i]);
        for (size_t j = 0; j < nmf && rc == 0; j++) {
            if (!firn_mt_set_add(&r->manifests, mfs[j].manifest_path, mfs[j].manifest_length))
                continue;
            rc = reach_manifest(io, md, &mfs[j], all_entries, r, err);
        }
        firn_arena_release(&a);
        if (rc) return rc;
    }
    return 0;
}

int firn_mt_reach_all(struct firn_io *io, const firn_ice_metadata *md, bool all_entries,
                      firn_mt_reach *r, firn_error *err) {
    const char **lists = firn_xcalloc(md->nsnapshots + 1, sizeof *lists);
    for (size_t i = 0; i < md->nsnapshots; i++) {
        const firn_ice_snapshot *s = md->snapshots[i];
        lists[i] = s->manifest_list;
        for (size_t j = 0; j < s->nmanifests; j++) /* v1 snapshots embedding manifests */
            firn_mt_set_add(&r->manifests, s->manifests[j], -1);
    }
    int rc = firn_mt_reach_lists(io, md, lists, md->nsnapshots, all_entries, r, err);
    free(lists);
    return rc;
}

size_t firn_mt_source_props(const firn_ice_metadata *md, const char *branch, firn_ice_kv *out,
                            size_t max) {
    const firn_ice_ref *ref = firn_ice_metadata_ref(md, branch ? branch : FIRN_ICE_MAIN_BRANCH);
    const firn_ice_snapshot *s = ref ? firn_ice_metadata_snapshot(md, ref->snapshot_id) : NULL;
    size_t n = 0;
    for (size_t i = 0; s && i < s->nsummary && n < max; i++)
        if (strncmp(s->summary[i].key, "firn.source.", 12) == 0) out[n++] = s->summary[i];
    return n;
}

/* ------------------------------------------------------------ durations */

int firn_maintain_parse_duration(const char *s, int64_t *ms, firn_error *err) {
    if (!s || !isdigit((unsigned char)*s))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "bad duration '%s': expected a number and a unit (500ms, 90s, 15m, 2h, 3d)",
                          s ? s : "");
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].unit) == 0) {
            if (errno || v > INT64_MAX / units[i].ms)
                return FIRN_RAISE(err, FIRN_ERR_INVALID, "duration '%s' is too long", s);
            *ms = v * units[i].ms;
            return 0;
        }
    return FIRN_RAISE(err, FIRN_ERR_INVALID,
                      "bad duration '%s': unknown unit '%s' (use ms, s, m, h or d)", s, end);
}

/* ------------------------------------------------------------ metadata budget */

static const firn_ice_kv budget[] = {
    {"history.expire.max-snapshot-age-ms", "86400000"},
    {"history.expire.min-snapshots-to-keep", "10"},
    {"write.metadata.previous-versions-max", "20"},
    {"commit.manifest.min-count-to-merge", "16"},
};

const firn_ice_kv *firn_maintain_default_properties(size_t *n) {
    static firn_ice_kv all[64];
    static size_t nall;
    if (!nall) {
        size_t k = 0;
        for (size_t i = 0; i < firn_ice_table_ndefault_properties && k < 48; i++) {
            bool over = false;
            for (size_t j = 0; j < sizeof budget / sizeof budget[0]; j++)
                over = over || strcmp(budget[j].key, firn_ice_table_default_properties[i].key) == 0;
            if (!over) all[k++] = firn_ice_table_default_properties[i];
        }
        for (size_t j = 0; j < sizeof budget / sizeof budget[0]; j++) all[k++] = budget[j];
        nall = k;
    }
    *n = nall;
    return all;
}

/* ------------------------------------------------------------ old metadata */

typedef struct meta_ctx {
    const char *dir; /* canonical, no trailing '/' */
    int oldest_kept; /* version */
    int current;
    char **del;
    int64_t *sizes;
    size_t ndel, cap;
} meta_ctx;

static int meta_visit(void *vctx, const firn_io_entry *e, firn_error *err) {
    (void)err;
    meta_ctx *c = vctx;
    size_t ld = strlen(c->dir), ll = strlen(e->location);
    if (ll <= ld + 1 || strncmp(e->location, c->dir, ld) != 0 || e->location[ld] != '/') return 0;
    const char *name = e->location + ld + 1;
    if (strchr(name, '/')) return 0;
    size_t ln = strlen(name);
    if (ln < 15 || strcmp(name + ln - 14, ".metadata.json") != 0) return 0;
    int v = firn_ice_metadata_file_version(e->location);
    if (v < 0 || v >= c->oldest_kept || v >= c->current) return 0;
    if (c->ndel == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->del = firn_xrealloc(c->del, c->cap * sizeof *c->del);
        c->sizes = firn_xrealloc(c->sizes, c->cap * sizeof *c->sizes);
    }
    c->sizes[c->ndel] = (int64_t)e->size;
    c->del[c->ndel++] = firn_xstrdup(e->location);
    return 0;
}

int firn_maintain_clean_metadata(firn_ice_table *t, const firn_maintain_options *o,
                                 firn_maintain_result *r, firn_error *err) {
    uint64_t t0 = firn_now_ns();
    firn_maintain_options dflt;
    o = firn_mt_options(o, &dflt);
    if (firn_ice_table_refresh(t, err)) return -(int)err->kind;
    const firn_ice_metadata *md = t->metadata;
    const char *v = firn_ice_metadata_property(md, "write.metadata.delete-after-commit.enabled");
    if (!v || strcmp(v, "true") != 0) return 0;
    int current = firn_ice_metadata_file_version(t->metadata_location);
    if (current < 0) return 0;
    meta_ctx c = {0};
    c.current = current;
    c.oldest_kept = current;
    for (size_t i = 0; i < md->nmetadata_log; i++) {
        int lv = firn_ice_metadata_file_version(md->metadata_log[i].metadata_file);
        if (lv >= 0 && lv < c.oldest_kept) c.oldest_kept = lv;
    }
    firn_arena a;
    firn_arena_init(&a, 0);
    char dirbuf[4096];
    c.dir = firn_mt_canon(firn_ice_metadata_dir(md, &a), dirbuf, sizeof dirbuf);
    int rc = firn_io_list(t->io, c.dir, meta_visit, &c, err);
    for (size_t i = 0; i < c.ndel && rc == 0; i++) {
        if (!o->dry_run) {
            if (firn_io_delete(t->io, c.del[i], err)) {
                rc = -(int)err->kind;
                break;
            }
        }
        r->metadata_files_deleted++;
        r->bytes_reclaimed += c.sizes[i];
        firn_mt_note_path(r, o, c.del[i]);
    }
    for (size_t i = 0; i < c.ndel; i++) free(c.del[i]);
    free(c.del);
    free(c.sizes);
    firn_arena_release(&a);
    r->duration_ms += (int64_t)((firn_now_ns() - t0) / 1000000);
    return rc;
}

/* ------------------------------------------------------------ the policy */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int firn_maintain_all(firn_ice_table *t, const firn_maintain_options *o, firn_maintain_result *r,
                      firn_error *err) {
    firn_maintain_options opts;
    if (o) opts = *o;
    else firn_maintain_options_init(&opts);
    uint64_t t0 = firn_now_ns();
    int rc = firn_maintain_compact(t, &opts, r, err);
    if (rc == 0) rc = firn_maintain_rewrite_manifests(t, &opts, r, err);
    if (rc == 0) rc = firn_maintain_expire_snapshots(t, &opts, r, err);
    if (rc == 0) rc = firn_maintain_clean_metadata(t, &opts, r, err);
    if (rc == 0) rc = firn_maintain_remove_orphans(t, &opts, r, err);
    if (r->npaths) qsort(r->paths, r->npaths, sizeof *r->paths, cmp_str);
    r->duration_ms = (int64_t)((firn_now_ns() - t0) / 1000000);
    return rc;
}
