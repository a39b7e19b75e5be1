/* orphans.c - remove-orphans: list every file under "<table location>/", subtract
 * what the table reaches (metadata files, manifest lists, manifests, every entry's
 * file, statistics files), keep what is younger than the margin, delete the rest.
 * The margin is the guard against concurrent writers (see maintain.h). */
#include "maintain/maintain.h"
#include "maintain/maintain_internal.h"
#include "io/io.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct orphan_ctx {
    const char *prefix; /* canonical location + "/" */
    const firn_mt_reach *reach;
    const firn_mt_set *meta;
    int64_t cutoff_ms;
    char **del;
    int64_t *sizes;
    size_t ndel, cap;
    size_t kept_young;
} orphan_ctx;

static int visit(void *vctx, const firn_io_entry *e, firn_error *err) {
    (void)err;
    orphan_ctx *c = vctx;
    /* the listing already stays under the prefix; checked again, with the '/' */
    if (strncmp(e->location, c->prefix, strlen(c->prefix)) != 0) return 0;
    if (firn_mt_set_has(c->meta, e->location) || firn_mt_set_has(&c->reach->files, e->location) ||
        firn_mt_set_has(&c->reach->manifests, e->location) ||
        firn_mt_set_has(&c->reach->lists, e->location))
        return 0;
    if (e->mtime_ms >= c->cutoff_ms) {
        c->kept_young++;
        return 0;
    }
    if (c->ndel == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->del = firn_xrealloc(c->del, c->cap * sizeof *c->del);
        c->sizes = firn_xrealloc(c->sizes, c->cap * sizeof *c->sizes);
    }
    c->sizes[c->ndel] = (int64_t)e->size;
    c->del[c->ndel++] = firn_xstrdup(e->location);
    return 0;
}

/* "statistics-path" of each entry of a statistics JSON array text. */
static void add_statistics(firn_mt_set *meta, const char *json_text) {
    if (!json_text) return;
    json_t *arr = json_loads(json_text, 0, NULL);
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it) {
        const char *p = json_string_value(json_object_get(it, "statistics-path"));
        if (p) firn_mt_set_add(meta, p, -1);
    }
    json_decref(arr);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int firn_maintain_remove_orphans(firn_ice_table *t, const firn_maintain_options *o,
                                 firn_maintain_result *r, firn_error *err) {
    firn_maintain_options dflt;
    o = firn_mt_options(o, &dflt);
    uint64_t t0 = firn_now_ns();
    int64_t margin = o->orphan_margin_ms >= 0 ? o->orphan_margin_ms
                                              : FIRN_MAINTAIN_DEFAULT_ORPHAN_MARGIN_MS;
    int64_t now = firn_mt_now_ms(o);
    if (firn_ice_table_refresh(t, err)) return -(int)err->kind;
    const firn_ice_metadata *md = t->metadata;

    char canon[4096];
    firn_mt_canon(md->location, canon, sizeof canon);
    size_t lc = strlen(canon);
    while (lc > 1 && canon[lc - 1] == '/') canon[--lc] = 0;
    if (lc < 2 || !strchr(canon, '/'))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "remove-orphans: table location '%s' is too short to be safe", canon);
    char prefix[4100];
    snprintf(prefix, sizeof prefix, "%s/", canon);

    firn_mt_set meta = {0};
    firn_mt_reach reach = {0};
    firn_mt_set_add(&meta, t->metadata_location, -1);
    for (size_t i = 0; i < md->nmetadata_log; i++)
        firn_mt_set_add(&meta, md->metadata_log[i].metadata_file, -1);
    firn_arena a;
    firn_arena_init(&a, 0);
    char hint[4200];
    snprintf(hint, sizeof hint, "%s/version-hint.text", firn_ice_metadata_dir(md, &a));
    firn_mt_set_add(&meta, hint, -1);
    add_statistics(&meta, md->statistics_json);
    add_statistics(&meta, md->partition_statistics_json);
    int rc = firn_mt_reach_all(t->io, md, true, &reach, err);
    if (rc) FIRN_WRAP(err, err->kind, "remove-orphans: cannot read the table's metadata");

    orphan_ctx c = {0};
    c.prefix = prefix;
    c.reach = &reach;
    c.meta = &meta;
    c.cutoff_ms = now - margin;
    if (rc == 0) rc = firn_io_list(t->io, prefix, visit, &c, err);
    if (c.ndel) {
        /* sorted, so that a dry run and the real run list the same order */
        int64_t *sz = c.sizes;
        char **paths = c.del;
        typedef struct pair {
            char *p;
            int64_t s;
        } pair;
        pair *pr = firn_xcalloc(c.ndel, sizeof *pr);
        for (size_t i = 0; i < c.ndel; i++) pr[i] = (pair){paths[i], sz[i]};
        qsort(pr, c.ndel, sizeof *pr, cmp_str);
        for (size_t i = 0; i < c.ndel; i++) {
            paths[i] = pr[i].p;
            sz[i] = pr[i].s;
        }
        free(pr);
    }
    for (size_t i = 0; i < c.ndel && rc == 0; i++) {
        if (!o->dry_run && firn_io_delete(t->io, c.del[i], err)) {
            rc = FIRN_WRAP(err, err->kind, "remove-orphans: cannot delete %s", c.del[i]);
            break;
        }
        r->orphans_deleted++;
        r->bytes_reclaimed += c.sizes[i];
        firn_mt_note_path(r, o, c.del[i]);
    }
    for (size_t i = 0; i < c.ndel; i++) free(c.del[i]);
    free(c.del);
    free(c.sizes);
    firn_arena_release(&a);
    firn_mt_set_release(&meta);
    firn_mt_reach_release(&reach);
    r->duration_ms += (int64_t)((firn_now_ns() - t0) / 1000000);
    return rc;
}
