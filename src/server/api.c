/* api.c - the JSON API under /api/v1/ (docs/api.md): tables and their
 * metadata (schema, spec, properties, refs, snapshots, history, files,
 * partitions), rows with a filter and time travel, images of binary columns
 * as their own URLs, the dashboard's overview (from firn.commits) and the
 * untrusted rows grouped by failed rule; and the table-derived series of
 * /metrics. Every request opens its own catalog handle and asks it for each
 * table's current metadata location; the parsed metadata and the pages derived
 * from it come from a cache keyed by that location (see "metadata cache"). */
#include "server/server_internal.h"

#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "io/io.h"
#include "parquet/parquet.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_TABLE "firn.commits"
#define ROWS_DEFAULT 50
#define ROWS_MAX 1000

static int open_catalog(firn_server *s, firn_catalog **cat, firn_error *err) {
    firn_cat_config cc = {.warehouse = s->cfg->warehouse};
    if (firn_cat_open(s->cfg->catalog_uri, &cc, cat, err)) {
        firn_error_context(err, "catalog %s", s->cfg->catalog_uri);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ metadata cache
 *
 * A table's parsed metadata and what the dashboard derives from it (its summary,
 * detail, snapshot list, history, refs, row series, files) are kept per metadata
 * location: a commit writes a new metadata file and points the catalog at it, so
 * the next request, which asks the catalog for the location first, misses and
 * reloads - nothing stale is ever served, with no invalidation message needed.
 * Process-wide (a location names one file's content, whatever catalog points
 * at it), bounded by CACHE_MAX_ENTRIES and CACHE_MAX_BYTES (least recently used
 * entries go first; an entry in use by a request is freed when that request is
 * done). Entries are immutable once loaded except their derived pages, which
 * are filled once each under the entry's mutex. */

#define CACHE_MAX_ENTRIES 64
#define CACHE_MAX_BYTES ((size_t)256 << 20)

enum {
    PAGE_SUMMARY,    /* table_summary */
    PAGE_DETAIL,     /* GET /tables/X */
    PAGE_HISTORY,    /* GET /tables/X/history */
    PAGE_REFS,       /* GET /tables/X/refs */
    PAGE_SERIES,     /* the overview's [[ms, total rows], ...] */
    PAGE_FILES,      /* GET /tables/X/files (current snapshot) */
    PAGE_PARTITIONS, /* GET /tables/X/partitions (current snapshot) */
    PAGE_COMMITS,    /* firn.commits: every row as a JSON array */
    PAGE_OVERVIEW,   /* firn.commits: the overview's totals, per_table, commits, last ms */
    NPAGES
};

typedef struct meta_entry {
    char *location;
    firn_ice_metadata *md;
    size_t bytes;     /* estimate: metadata file size x 4 plus the pages */
    int refs;         /* requests holding it, +1 while in the cache */
    uint64_t used;    /* LRU tick */
    pthread_mutex_t mu; /* the pages */
    char *page[NPAGES];
    char **snap;      /* snapshot_json text of snapshots[i], filled on demand */
    int64_t last_commit_ms; /* with PAGE_OVERVIEW */
} meta_entry;

#define INFLIGHT_MAX 16

static struct {
    pthread_mutex_t mu;
    meta_entry *v[CACHE_MAX_ENTRIES];
    size_t n, bytes;
    uint64_t tick, hits, misses;
    /* locations being read and parsed now: a second request waits for them */
    char *inflight[INFLIGHT_MAX];
    size_t ninflight;
    pthread_cond_t loaded;
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER, .loaded = PTHREAD_COND_INITIALIZER};

static bool inflight(const char *location) {
    for (size_t i = 0; i < cache.ninflight; i++)
        if (!strcmp(cache.inflight[i], location)) return true;
    return false;
}

static void inflight_done(char *mine) {
    if (!mine) return;
    for (size_t i = 0; i < cache.ninflight; i++)
        if (cache.inflight[i] == mine) cache.inflight[i] = cache.inflight[--cache.ninflight];
    free(mine);
    pthread_cond_broadcast(&cache.loaded);
}

static void entry_free(meta_entry *e) {
    for (int i = 0; i < NPAGES; i++) free(e->page[i]);
    if (e->snap)
        for (size_t i = 0; i < e->md->nsnapshots; i++) free(e->snap[i]);
    free(e->snap);
    firn_ice_metadata_free(e->md);
    pthread_mutex_destroy(&e->mu);
    free(e->location);
    free(e);
}

static void entry_release(meta_entry *e) {
    pthread_mutex_lock(&cache.mu);
    bool last = --e->refs == 0;
    pthread_mutex_unlock(&cache.mu);
    if (last) entry_free(e);
}

/* Drop entries (least recently used first, mu held) until need more bytes fit. */
static void cache_evict(size_t need) {
    while (cache.n && (cache.n >= CACHE_MAX_ENTRIES || cache.bytes + need > CACHE_MAX_BYTES)) {
        size_t lru = 0;
        for (size_t i = 1; i < cache.n; i++)
            if (cache.v[i]->used < cache.v[lru]->used) lru = i;
        meta_entry *e = cache.v[lru];
        cache.v[lru] = cache.v[--cache.n];
        cache.bytes -= e->bytes;
        if (--e->refs == 0) entry_free(e);
    }
}

/* Add to an entry's size (a page filled in). */
static void entry_grow(meta_entry *e, size_t n) {
    pthread_mutex_lock(&cache.mu);
    e->bytes += n;
    for (size_t i = 0; i < cache.n; i++)
        if (cache.v[i] == e) cache.bytes += n;
    pthread_mutex_unlock(&cache.mu);
}

static meta_entry *cache_put(const char *location, firn_ice_metadata *md, size_t len, char *mine);
static _Thread_local bool in_refresher; /* this thread is the refresher (for the metrics) */

/* The entry of a metadata location (read and parsed on a miss, or waited for
 * when another request is reading it); the caller releases it with entry_release. */
static meta_entry *cache_get(const char *location, firn_error *err) {
    pthread_mutex_lock(&cache.mu);
    for (;;) {
        for (size_t i = 0; i < cache.n; i++)
            if (!strcmp(cache.v[i]->location, location)) {
                meta_entry *e = cache.v[i];
                e->refs++;
                e->used = ++cache.tick;
                cache.hits++;
                pthread_mutex_unlock(&cache.mu);
                return e;
            }
        if (!inflight(location)) break;
        pthread_cond_wait(&cache.loaded, &cache.mu); /* another request is reading it */
    }
    cache.misses++;
    char *mine = NULL;
    if (cache.ninflight < INFLIGHT_MAX) cache.inflight[cache.ninflight++] = mine = firn_xstrdup(location);
    pthread_mutex_unlock(&cache.mu);
    /* read and parse outside the lock */
    firn_io *io;
    firn_ice_metadata *md = NULL;
    if (firn_io_new_for_uri(location, &io, err) == 0) {
        uint8_t *data;
        size_t len;
        int rc = firn_io_read_all(io, location, &data, &len, err);
        firn_io_free(io);
        if (rc) {
            FIRN_WRAP(err, err->kind, "cannot read table metadata file");
            firn_error_context(err, "%s", location);
        } else {
            md = firn_ice_metadata_parse((const char *)data, len, err);
            free(data);
            if (!md) {
                FIRN_WRAP(err, err->kind, "table metadata file is not valid");
                firn_error_context(err, "%s", location);
            } else {
                meta_entry *e = cache_put(location, md, len, mine);
                firn_metrics_counter_add("firn_api_metadata_loads_total",
                                         in_refresher ? "by=\"refresher\"" : "by=\"request\"", 1);
                return e;
            }
        }
    }
    pthread_mutex_lock(&cache.mu);
    inflight_done(mine);
    pthread_mutex_unlock(&cache.mu);
    return NULL;
}

/* Add a parsed metadata file (ends the in-flight mark mine). */
static meta_entry *cache_put(const char *location, firn_ice_metadata *md, size_t len, char *mine) {
    meta_entry *e = firn_xcalloc(1, sizeof *e);
    e->location = firn_xstrdup(location);
    e->md = md;
    e->bytes = len * 4 + sizeof *e;
    pthread_mutex_init(&e->mu, NULL);
    e->refs = 1;
    pthread_mutex_lock(&cache.mu);
    inflight_done(mine);
    for (size_t i = 0; i < cache.n; i++)
        if (!strcmp(cache.v[i]->location, location)) { /* another request was faster */
            meta_entry *x = cache.v[i];
            x->refs++;
            x->used = ++cache.tick;
            pthread_mutex_unlock(&cache.mu);
            entry_free(e);
            return x;
        }
    if (e->bytes <= CACHE_MAX_BYTES / 2) { /* a bigger one is used by this request only */
        cache_evict(e->bytes);
        e->refs++;
        e->used = ++cache.tick;
        cache.v[cache.n++] = e;
        cache.bytes += e->bytes;
    }
    pthread_mutex_unlock(&cache.mu);
    return e;
}

/* A derived page of an entry, made by fn (which returns malloc'd text) on
 * the first request that needs it; computed outside the entry's mutex (two
 * requests may both make it: the first one stored is kept), so a page may ask
 * for another page of the same entry. The text stays valid while the caller
 * holds the entry. */
typedef char *(*page_fn)(meta_entry *e, const firn_ice_table *t, void *ctx, firn_error *err);

static const char *entry_page(meta_entry *e, int page, page_fn fn, const firn_ice_table *t,
                              void *ctx, firn_error *err) {
    pthread_mutex_lock(&e->mu);
    char *text = e->page[page];
    pthread_mutex_unlock(&e->mu);
    if (text) return text;
    char *made = fn(e, t, ctx, err);
    if (!made) return NULL;
    pthread_mutex_lock(&e->mu);
    if (!e->page[page]) e->page[page] = made;
    text = e->page[page];
    pthread_mutex_unlock(&e->mu);
    if (text == made) entry_grow(e, strlen(made));
    else free(made);
    return text;
}

static char *dump_json(json_t *j) {
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
    json_decref(j);
    return text ? text : firn_xstrdup("null");
}

/* Answer 200 with a cached JSON text. */
static void reply_page(firn_reply *r, const char *text) {
    if (!text) return firn_reply_error(r, 500, "could not make the page");
    r->status = 200;
    r->content_type = "application/json";
    firn_buf_clear(&r->body);
    firn_buf_append_str(&r->body, text);
    firn_buf_append_str(&r->body, "\n");
}

/* A table as a request sees it: the cached metadata and a FileIO of its own
 * (io handles are per thread). Free with table_done, not firn_ice_table_free. */
typedef struct table_view {
    firn_ice_table t; /* first: a view is used as its table */
    meta_entry *e;
} table_view;

static meta_entry *view_entry(const firn_ice_table *t) { return ((const table_view *)(const void *)t)->e; }

static void table_done(firn_ice_table *t) {
    if (!t) return;
    table_view *v = (table_view *)(void *)t;
    firn_io_free(t->io);
    free(t->ns);
    free(t->name);
    if (v->e) entry_release(v->e);
    free(v);
}

static void note_interest(const char *full);

/* "ns.name" -> loaded table (through the cache). */
static int load_table(firn_catalog *cat, const char *full, firn_ice_table **out, firn_error *err) {
    *out = NULL;
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_cat_ident id;
    firn_cat_table row;
    int rc = firn_cat_ident_parse(full, &a, &id, err);
    if (!rc) rc = firn_cat_check_ident(&id, err);
    if (!rc) rc = firn_cat_load_table(cat, &id, &a, &row, err);
    meta_entry *e = NULL;
    if (!rc && !(e = cache_get(row.metadata_location, err))) {
        rc = -1;
        FIRN_WRAP(err, err->kind, "cannot load table '%s'", full);
    }
    firn_io *io = NULL;
    if (!rc && firn_io_new_for_uri(e->location, &io, err)) {
        entry_release(e);
        rc = -1;
    }
    if (!rc) {
        table_view *v = firn_xcalloc(1, sizeof *v);
        v->e = e;
        v->t.catalog = cat;
        v->t.ns = firn_xstrdup(id.ns);
        v->t.name = firn_xstrdup(id.name);
        v->t.metadata_location = e->location;
        v->t.metadata = e->md;
        v->t.io = io;
        *out = &v->t;
        note_interest(full);
    }
    firn_arena_release(&a);
    return rc;
}

static int status_of(const firn_error *err) {
    switch (err->kind) {
    case FIRN_ERR_NOT_FOUND: return 404;
    case FIRN_ERR_INVALID: return 400;
    default: return 500;
    }
}

static void reply_err(firn_reply *r, firn_error *err) {
    char buf[1024];
    firn_reply_error(r, status_of(err), "%s", firn_error_format(err, buf, sizeof buf));
    firn_error_release(err);
    firn_error_init(err);
}

/* Percent-encode s for a query string. */
static void url_encode(const char *s, firn_buf *out) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            firn_buf_put_u8(out, *p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            firn_buf_append(out, e, 3);
        }
    }
}

/* ------------------------------------------------------------ values */


static json_t *value_json(const firn_ice_type *t, const firn_ice_value *v) {
    if (v->is_null) return json_null();
    firn_error err;
    firn_error_init(&err);
    json_t *j = NULL;
    if (t->id == FIRN_ICE_STRING) {
        j = json_stringn((const char *)v->u.bin.ptr, v->u.bin.len);
    } else {
        j = firn_ice_value_to_json(t, v, &err);
    }
    if (!j) {
        firn_buf b;
        firn_buf_init(&b);
        firn_error_release(&err);
        firn_error_init(&err);
        if (firn_ice_value_format(t, v, &b, &err) == 0)
            j = json_stringn(b.data ? (char *)b.data : "", b.len);
        firn_buf_release(&b);
    }
    firn_error_release(&err);
    return j ? j : json_null();
}

static json_t *type_json(const firn_ice_type *t) {
    if (firn_ice_type_is_primitive(t)) {
        char buf[64];
        return json_string(firn_ice_type_to_string(t, buf, sizeof buf));
    }
    return firn_ice_type_to_json(t);
}

/* ------------------------------------------------------------ snapshot choice */

/* ?snapshot=ID or ?ref=NAME into scan options; 400 on a bad id. */
static int scan_target(const firn_request *q, firn_ice_scan_options *o, firn_error *err) {
    const char *snap = firn_request_arg(q, "snapshot");
    const char *ref = firn_request_arg(q, "ref");
    if (snap && *snap) {
        char *end;
        errno = 0;
        long long id = strtoll(snap, &end, 10);
        if (*end || errno) return FIRN_RAISE(err, FIRN_ERR_INVALID, "snapshot '%s' is not an id", snap);
        o->snapshot_id = id;
    } else if (ref && *ref) {
        o->ref = ref;
    }
    return 0;
}

/* ------------------------------------------------------------ tables */

static json_t *table_summary(const firn_ice_table *t) {
    const firn_ice_metadata *md = t->metadata;
    json_t *j = json_object();
    char full[512];
    snprintf(full, sizeof full, "%s.%s", t->ns, t->name);
    json_object_set_new(j, "name", json_string(full));
    json_object_set_new(j, "namespace", json_string(t->ns));
    json_object_set_new(j, "table", json_string(t->name));
    json_object_set_new(j, "format_version", json_integer(md->format_version));
    json_object_set_new(j, "snapshots", json_integer((json_int_t)md->nsnapshots));
    json_object_set_new(j, "last_updated_ms", json_integer(md->last_updated_ms));
    const firn_ice_snapshot *cur = firn_ice_metadata_current_snapshot(md);
    int64_t rows = 0, files = 0, bytes = 0;
    if (cur) {
        const char *v;
        if ((v = firn_ice_snapshot_summary_get(cur, "total-records"))) rows = strtoll(v, NULL, 10);
        if ((v = firn_ice_snapshot_summary_get(cur, "total-data-files"))) files = strtoll(v, NULL, 10);
        if ((v = firn_ice_snapshot_summary_get(cur, "total-files-size"))) bytes = strtoll(v, NULL, 10);
        json_object_set_new(j, "current_snapshot_id", json_integer(cur->snapshot_id));
        json_object_set_new(j, "current_snapshot_ms", json_integer(cur->timestamp_ms));
    } else {
        json_object_set_new(j, "current_snapshot_id", json_null());
    }
    json_object_set_new(j, "rows", json_integer(rows));
    json_object_set_new(j, "files", json_integer(files));
    json_object_set_new(j, "bytes", json_integer(bytes));
    json_object_set_new(j, "avg_file_bytes", json_integer(files ? bytes / files : 0));
    return j;
}

static char *summary_page(meta_entry *e, const firn_ice_table *t, void *ctx, firn_error *err) {
    (void)e, (void)ctx, (void)err;
    return dump_json(table_summary(t));
}

/* Every table of every namespace (depth first), as "ns.name" in a. */
static int all_tables(firn_catalog *cat, const char *parent, firn_arena *a, const char ***names,
                      size_t *n, size_t *cap, firn_error *err) {
    const char **nss;
    size_t nns;
    if (firn_cat_list_namespaces(cat, parent, a, &nss, &nns, err)) return -1;
    for (size_t i = 0; i < nns; i++) {
        const char **tabs;
        size_t ntabs;
        if (firn_cat_list_tables(cat, nss[i], a, &tabs, &ntabs, err)) return -1;
        for (size_t k = 0; k < ntabs; k++) {
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 16;
                const char **grown = firn_arena_alloc(a, *cap * sizeof *grown);
                if (*n) memcpy(grown, *names, *n * sizeof *grown);
                *names = grown;
            }
            size_t len = strlen(nss[i]) + strlen(tabs[k]) + 2;
            char *full = firn_arena_alloc(a, len);
            snprintf(full, len, "%s.%s", nss[i], tabs[k]);
            (*names)[(*n)++] = full;
        }
        if (all_tables(cat, nss[i], a, names, n, cap, err)) return -1;
    }
    return 0;
}

static json_t *list_tables_json(firn_catalog *cat, firn_error *err) {
    firn_arena a;
    firn_arena_init(&a, 0);
    const char **names = NULL;
    size_t n = 0, cap = 0;
    json_t *arr = NULL;
    if (all_tables(cat, NULL, &a, &names, &n, &cap, err)) goto done;
    arr = json_array();
    for (size_t i = 0; i < n; i++) {
        firn_ice_table *t;
        if (load_table(cat, names[i], &t, err)) {
            json_decref(arr);
            arr = NULL;
            goto done;
        }
        const char *text = entry_page(view_entry(t), PAGE_SUMMARY, summary_page, t, NULL, err);
        json_t *x = text ? json_loads(text, 0, NULL) : NULL;
        table_done(t);
        if (!x) {
            if (!err->kind) FIRN_RAISE(err, FIRN_ERR_INTERNAL, "table summary of %s", names[i]);
            json_decref(arr);
            arr = NULL;
            goto done;
        }
        json_array_append_new(arr, x);
    }
done:
    firn_arena_release(&a);
    return arr;
}

static json_t *schema_json(const firn_ice_schema *sc) {
    json_t *j = json_object();
    json_object_set_new(j, "schema_id", json_integer(sc->schema_id));
    json_t *fields = json_array();
    size_t nf = firn_ice_schema_nfields(sc);
    const firn_ice_field *f = firn_ice_schema_fields(sc);
    for (size_t i = 0; i < nf; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "id", json_integer(f[i].id));
        json_object_set_new(x, "name", json_string(f[i].name));
        json_object_set_new(x, "type", type_json(f[i].type));
        json_object_set_new(x, "required", json_boolean(f[i].required));
        if (f[i].doc) json_object_set_new(x, "doc", json_string(f[i].doc));
        json_array_append_new(fields, x);
    }
    json_object_set_new(j, "fields", fields);
    return j;
}

static json_t *spec_json(const firn_ice_partition_spec *sp, const firn_ice_schema *sc) {
    json_t *j = json_object();
    json_object_set_new(j, "spec_id", json_integer(sp->spec_id));
    json_t *fields = json_array();
    for (size_t i = 0; i < sp->nfields; i++) {
        const firn_ice_partition_field *pf = &sp->fields[i];
        char tb[64];
        json_t *x = json_object();
        json_object_set_new(x, "field_id", json_integer(pf->field_id));
        json_object_set_new(x, "name", json_string(pf->name));
        json_object_set_new(x, "source_id", json_integer(pf->source_id));
        const char *src = firn_ice_schema_find_name(sc, pf->source_id);
        json_object_set_new(x, "source", src ? json_string(src) : json_null());
        json_object_set_new(x, "transform",
                            json_string(firn_ice_transform_to_string(&pf->transform, tb, sizeof tb)));
        json_array_append_new(fields, x);
    }
    json_object_set_new(j, "fields", fields);
    return j;
}

static json_t *ref_json(const firn_ice_ref *rf) {
    json_t *x = json_object();
    json_object_set_new(x, "name", json_string(rf->name));
    json_object_set_new(x, "type", json_string(rf->type == FIRN_ICE_REF_TAG ? "tag" : "branch"));
    json_object_set_new(x, "snapshot_id", json_integer(rf->snapshot_id));
    if (rf->max_ref_age_ms >= 0) json_object_set_new(x, "max_ref_age_ms", json_integer(rf->max_ref_age_ms));
    if (rf->max_snapshot_age_ms >= 0)
        json_object_set_new(x, "max_snapshot_age_ms", json_integer(rf->max_snapshot_age_ms));
    if (rf->min_snapshots_to_keep >= 0)
        json_object_set_new(x, "min_snapshots_to_keep", json_integer(rf->min_snapshots_to_keep));
    return x;
}

static json_t *refs_json(const firn_ice_metadata *md) {
    json_t *arr = json_array();
    for (size_t i = 0; i < md->nrefs; i++) json_array_append_new(arr, ref_json(md->refs[i]));
    return arr;
}

static json_t *table_detail(const firn_ice_table *t) {
    const firn_ice_metadata *md = t->metadata;
    json_t *j = table_summary(t);
    json_object_set_new(j, "location", json_string(md->location));
    json_object_set_new(j, "metadata_location", json_string(t->metadata_location));
    json_object_set_new(j, "uuid", json_string(md->table_uuid));
    const firn_ice_schema *sc = firn_ice_metadata_current_schema(md);
    json_object_set_new(j, "schema", schema_json(sc));
    json_object_set_new(j, "schemas", json_integer((json_int_t)md->nschemas));
    json_object_set_new(j, "partition_spec", spec_json(firn_ice_metadata_default_spec(md), sc));
    const firn_ice_sort_order *so = firn_ice_metadata_default_sort_order(md);
    json_object_set_new(j, "sort_order", so ? firn_ice_sort_order_to_json(so) : json_null());
    json_t *props = json_object();
    for (size_t i = 0; i < md->nproperties; i++)
        json_object_set_new(props, md->properties[i].key, json_string(md->properties[i].value));
    json_object_set_new(j, "properties", props);
    json_object_set_new(j, "refs", refs_json(md));
    return j;
}

static char *detail_page(meta_entry *e, const firn_ice_table *t, void *ctx, firn_error *err) {
    (void)e, (void)ctx, (void)err;
    return dump_json(table_detail(t));
}

static char *refs_page(meta_entry *e, const firn_ice_table *t, void *ctx, firn_error *err) {
    (void)e, (void)ctx, (void)err;
    json_t *j = json_object();
    json_object_set_new(j, "refs", refs_json(t->metadata));
    return dump_json(j);
}

static json_t *snapshot_json(const firn_ice_snapshot *sn) {
    json_t *x = json_object();
    json_object_set_new(x, "snapshot_id", json_integer(sn->snapshot_id));
    json_object_set_new(x, "parent_id", sn->has_parent ? json_integer(sn->parent_snapshot_id) : json_null());
    json_object_set_new(x, "sequence_number", json_integer(sn->sequence_number));
    json_object_set_new(x, "timestamp_ms", json_integer(sn->timestamp_ms));
    const char *op = firn_ice_snapshot_operation(sn);
    json_object_set_new(x, "operation", op ? json_string(op) : json_null());
    json_t *sum = json_object();
    for (size_t i = 0; i < sn->nsummary; i++)
        if (strcmp(sn->summary[i].key, "operation"))
            json_object_set_new(sum, sn->summary[i].key, json_string(sn->summary[i].value));
    json_object_set_new(x, "summary", sum);
    json_object_set_new(x, "manifest_list", sn->manifest_list ? json_string(sn->manifest_list) : json_null());
    if (sn->has_schema_id) json_object_set_new(x, "schema_id", json_integer(sn->schema_id));
    return x;
}

/* ?limit=N (default dflt, at most max); -1 when not a number. */
static long arg_limit(const firn_request *q, long dflt, long max) {
    const char *l = firn_request_arg(q, "limit");
    if (!l || !*l) return dflt;
    char *end;
    long v = strtol(l, &end, 10);
    if (*end || v < 0) return -1;
    return v > max ? max : v;
}

/* Newest first, at most ?limit; each snapshot's JSON text is made once per
 * metadata file (the dashboard asks for the newest 200 of 10,000 on every visit). */
static void snapshots(const firn_request *q, const firn_ice_table *t, firn_reply *r) {
    const firn_ice_metadata *md = t->metadata;
    long limit = arg_limit(q, 100000, 100000);
    if (limit < 0) return firn_reply_error(r, 400, "limit: want a number >= 0");
    meta_entry *e = view_entry(t);
    firn_buf_clear(&r->body);
    firn_buf_appendf(&r->body, "{\"total\":%zu,\"snapshots\":[", md->nsnapshots);
    size_t made = 0;
    pthread_mutex_lock(&e->mu);
    if (!e->snap && md->nsnapshots) e->snap = firn_xcalloc(md->nsnapshots, sizeof *e->snap);
    long k = 0;
    for (size_t i = md->nsnapshots; i-- > 0 && k < limit; k++) {
        if (!e->snap[i]) {
            e->snap[i] = dump_json(snapshot_json(md->snapshots[i]));
            made += strlen(e->snap[i]);
        }
        if (k) firn_buf_append_str(&r->body, ",");
        firn_buf_append_str(&r->body, e->snap[i]);
    }
    pthread_mutex_unlock(&e->mu);
    if (made) entry_grow(e, made);
    firn_buf_append_str(&r->body, "]}\n");
    r->status = 200;
    r->content_type = "application/json";
}

typedef struct snap_ix {
    int64_t id;
    size_t i;
} snap_ix;

static int snap_ix_cmp(const void *a, const void *b) {
    int64_t x = ((const snap_ix *)a)->id, y = ((const snap_ix *)b)->id;
    return x < y ? -1 : x > y;
}

/* The index of snapshot id in md->snapshots, or -1 (ix sorted by id). */
static long snap_find(const snap_ix *ix, size_t n, int64_t id) {
    snap_ix key = {id, 0};
    const snap_ix *f = bsearch(&key, ix, n, sizeof *ix, snap_ix_cmp);
    return f ? (long)f->i : -1;
}

/* O(n log n) in snapshots: an id index and the current snapshot's ancestors
 * marked once (a walk per log entry was quadratic: seconds at 2,000 snapshots). */
static char *history_page(meta_entry *me, const firn_ice_table *t, void *ctx, firn_error *err) {
    const firn_ice_metadata *md = t->metadata;
    size_t n = md->nsnapshots;
    snap_ix *ix = firn_xmalloc((n ? n : 1) * sizeof *ix);
    bool *anc = firn_xcalloc(n ? n : 1, sizeof *anc);
    for (size_t i = 0; i < n; i++) ix[i] = (snap_ix){md->snapshots[i]->snapshot_id, i};
    qsort(ix, n, sizeof *ix, snap_ix_cmp);
    long c = md->current_snapshot_id >= 0 ? snap_find(ix, n, md->current_snapshot_id) : -1;
    for (size_t steps = 0; c >= 0 && !anc[c] && steps < n; steps++) {
        anc[c] = true;
        const firn_ice_snapshot *sn = md->snapshots[c];
        c = sn->has_parent ? snap_find(ix, n, sn->parent_snapshot_id) : -1;
    }
    /* written directly (what dump_json of the jansson tree gives, byte for byte):
     * a long history would otherwise build and free a node per value */
    firn_buf b;
    firn_buf_init(&b);
    firn_buf_reserve(&b, 32 + md->nsnapshot_log * 112);
    firn_buf_append_str(&b, "{\"history\":[");
    for (size_t i = 0; i < md->nsnapshot_log; i++) {
        const firn_ice_snapshot_log_entry *e = &md->snapshot_log[i];
        long k = snap_find(ix, n, e->snapshot_id);
        const firn_ice_snapshot *sn = k >= 0 ? md->snapshots[k] : NULL;
        firn_buf_appendf(&b, "%s{\"made_current_at_ms\":%lld,\"snapshot_id\":%lld,\"parent_id\":", i ? "," : "",
                         (long long)e->timestamp_ms, (long long)e->snapshot_id);
        if (sn && sn->has_parent) firn_buf_appendf(&b, "%lld", (long long)sn->parent_snapshot_id);
        else firn_buf_append_str(&b, "null");
        firn_buf_append_str(&b, k >= 0 && anc[k] ? ",\"is_current_ancestor\":true}" : ",\"is_current_ancestor\":false}");
    }
    firn_buf_append_str(&b, "]}");
    free(ix);
    free(anc);
    (void)me, (void)ctx, (void)err;
    return firn_buf_cstr(&b);
}

static json_t *partition_json(const firn_ice_scan_task *task, const firn_ice_schema *sc) {
    json_t *p = json_object();
    const firn_ice_partition_spec *sp = task->spec;
    for (size_t k = 0; sp && k < sp->nfields && k < task->file->npartition; k++) {
        const firn_ice_partition_field *pf = &sp->fields[k];
        const firn_ice_field *src = firn_ice_schema_find_field(sc, pf->source_id);
        firn_ice_type rtype;
        const firn_ice_type *rt = &rtype;
        firn_error err;
        firn_error_init(&err);
        if (src && firn_ice_type_is_primitive(src->type) &&
            firn_ice_transform_result_type(&pf->transform, src->type, &rtype, &err) == 0) {
            const firn_ice_value *v = &task->file->partition[k];
            if (v->is_null) {
                json_object_set_new(p, pf->name, json_null());
            } else {
                firn_buf b;
                firn_buf_init(&b);
                firn_ice_transform_human_string(&pf->transform, rt, v, &b);
                json_object_set_new(p, pf->name, json_stringn((char *)b.data, b.len));
                firn_buf_release(&b);
            }
        } else {
            json_object_set_new(p, pf->name, json_null());
        }
        firn_error_release(&err);
    }
    return p;
}

/* The files (or partitions) of the snapshot o chooses, as JSON; NULL on error. */
static json_t *files_json(const firn_ice_table *t, const firn_ice_scan_options *o, bool by_partition,
                          firn_error *err) {
    firn_ice_scan *sc = firn_ice_scan_table(t, o, err);
    if (!sc) return NULL;
    size_t n;
    const firn_ice_scan_task *tasks = firn_ice_scan_tasks(sc, &n);
    const firn_ice_schema *schema = firn_ice_scan_schema(sc);
    json_t *arr = json_array();
    json_t *parts = json_object(); /* partition key text -> aggregate */
    for (size_t i = 0; i < n; i++) {
        const firn_ice_data_file *df = tasks[i].file;
        json_t *pj = partition_json(&tasks[i], schema);
        if (by_partition) {
            char *key = json_dumps(pj, JSON_COMPACT | JSON_SORT_KEYS);
            json_t *agg = json_object_get(parts, key);
            if (!agg) {
                agg = json_object();
                json_object_set(agg, "partition", pj);
                json_object_set_new(agg, "spec_id", json_integer(df->spec_id));
                json_object_set_new(agg, "record_count", json_integer(0));
                json_object_set_new(agg, "file_count", json_integer(0));
                json_object_set_new(agg, "total_bytes", json_integer(0));
                json_object_set_new(parts, key, agg);
            }
            json_object_set_new(agg, "record_count", json_integer(json_integer_value(json_object_get(agg, "record_count")) + df->record_count));
            json_object_set_new(agg, "file_count", json_integer(json_integer_value(json_object_get(agg, "file_count")) + 1));
            json_object_set_new(agg, "total_bytes", json_integer(json_integer_value(json_object_get(agg, "total_bytes")) + df->file_size_in_bytes));
            free(key);
            json_decref(pj);
        } else {
            json_t *x = json_object();
            json_object_set_new(x, "path", json_string(df->file_path));
            json_object_set_new(x, "format", json_string(df->file_format ? df->file_format : "PARQUET"));
            json_object_set_new(x, "spec_id", json_integer(df->spec_id));
            json_object_set_new(x, "partition", pj);
            json_object_set_new(x, "record_count", json_integer(df->record_count));
            json_object_set_new(x, "file_size_in_bytes", json_integer(df->file_size_in_bytes));
            json_object_set_new(x, "data_sequence_number", json_integer(tasks[i].data_sequence_number));
            json_object_set_new(x, "delete_files", json_integer((json_int_t)tasks[i].ndeletes));
            json_array_append_new(arr, x);
        }
    }
    const firn_ice_scan_stats *st = firn_ice_scan_get_stats(sc);
    json_t *j = json_object();
    json_object_set_new(j, "snapshot_id", st->snapshot_id >= 0 ? json_integer(st->snapshot_id) : json_null());
    if (by_partition) {
        const char *k;
        json_t *v;
        json_object_foreach(parts, k, v) json_array_append(arr, v);
        json_object_set_new(j, "partitions", arr);
    } else {
        json_object_set_new(j, "files", arr);
    }
    json_decref(parts);
    firn_ice_scan_free(sc);
    return j;
}

static char *files_page(meta_entry *e, const firn_ice_table *t, void *ctx, firn_error *err) {
    (void)e;
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    json_t *j = files_json(t, &o, *(const bool *)ctx, err);
    return j ? dump_json(j) : NULL;
}

/* The current snapshot's answer is cached with the metadata; a chosen
 * snapshot or ref is planned each time. */
static void files(const firn_request *q, const firn_ice_table *t, bool by_partition, firn_reply *r) {
    firn_error err;
    firn_error_init(&err);
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    if (scan_target(q, &o, &err)) return reply_err(r, &err);
    if (o.snapshot_id < 0 && !o.ref && o.as_of_ms < 0) {
        const char *text = entry_page(view_entry(t), by_partition ? PAGE_PARTITIONS : PAGE_FILES,
                                      files_page, t, &by_partition, &err);
        if (!text) return reply_err(r, &err);
        return reply_page(r, text);
    }
    json_t *j = files_json(t, &o, by_partition, &err);
    if (!j) return reply_err(r, &err);
    firn_reply_json(r, 200, j);
}

/* ------------------------------------------------------------ rows */

typedef struct rows_ctx {
    const char *table;
    int64_t snapshot_id;
    int id_col; /* index of eventId among the fields, -1 */
} rows_ctx;

/* The URL of the image in column col of the row whose eventId is id. */
static json_t *image_url(const rows_ctx *c, const char *col, const char *id, size_t idlen) {
    firn_buf b;
    firn_buf_init(&b);
    firn_buf_appendf(&b, "/api/v1/tables/%s/image?column=", c->table);
    url_encode(col, &b);
    firn_buf_append_str(&b, "&where=");
    firn_buf w;
    firn_buf_init(&w);
    firn_buf_append_str(&w, "eventId = '");
    for (size_t i = 0; i < idlen; i++) {
        if (id[i] == '\'') firn_buf_append_str(&w, "''");
        else firn_buf_put_u8(&w, (uint8_t)id[i]);
    }
    firn_buf_append_str(&w, "'");
    url_encode(firn_buf_cstr(&w), &b);
    if (c->snapshot_id >= 0) firn_buf_appendf(&b, "&snapshot=%lld", (long long)c->snapshot_id);
    json_t *j = json_stringn((char *)b.data, b.len);
    firn_buf_release(&b);
    firn_buf_release(&w);
    return j;
}

static void rows(const firn_request *q, const firn_ice_table *t, const char *full, firn_reply *r) {
    firn_error err;
    firn_error_init(&err);
    long limit = arg_limit(q, ROWS_DEFAULT, ROWS_MAX);
    if (limit < 0) return firn_reply_error(r, 400, "limit: want a number >= 0");
    const char *order = firn_request_arg(q, "order");
    bool newest = !order || strcmp(order, "asc") != 0;
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    if (scan_target(q, &o, &err)) return reply_err(r, &err);
    const char *where = firn_request_arg(q, "where");
    if (where && *where) o.where = where;
    /* binary columns are not read: each row links its image instead */
    const firn_ice_schema *cs = firn_ice_metadata_current_schema(t->metadata);
    size_t nf = firn_ice_schema_nfields(cs);
    const firn_ice_field *f = firn_ice_schema_fields(cs);
    const char **cols = firn_xcalloc(nf + 1, sizeof *cols);
    const char **bins = firn_xcalloc(nf + 1, sizeof *bins);
    size_t ncols = 0, nbins = 0;
    bool has_id = false;
    for (size_t i = 0; i < nf; i++) {
        if (f[i].type->id == FIRN_ICE_BINARY) bins[nbins++] = f[i].name;
        else cols[ncols++] = f[i].name;
        if (!strcmp(f[i].name, "eventId") && f[i].type->id == FIRN_ICE_STRING) has_id = true;
    }
    o.columns = cols;
    o.ncolumns = ncols;
    firn_ice_scan *sc = firn_ice_scan_table(t, &o, &err);
    if (!sc) {
        free(cols);
        free(bins);
        return reply_err(r, &err);
    }
    const firn_ice_scan_stats *st = firn_ice_scan_get_stats(sc);
    rows_ctx rc = {full, st->snapshot_id, -1};
    /* a ring of the last `limit` rows (newest) or the first `limit` (asc) */
    json_t **ring = firn_xcalloc((size_t)limit + 1, sizeof *ring);
    size_t head = 0, count = 0;
    int64_t matched = 0;
    firn_ice_scan_batch b;
    int got;
    while ((got = firn_ice_scan_next_batch(sc, &b, &err)) == 1) {
        if (rc.id_col < 0 && has_id)
            for (size_t c = 0; c < b.ncolumns; c++)
                if (!strcmp(b.fields[c]->name, "eventId")) rc.id_col = (int)c;
        /* newest first: a row followed by `limit` more in this batch cannot stay in the ring */
        size_t skip = newest && b.nrows > (size_t)limit ? b.nrows - (size_t)limit : 0;
        for (size_t i = 0; i < b.nrows; i++) {
            matched++;
            if (limit == 0 || (!newest && count >= (size_t)limit) || i < skip) continue;
            json_t *row = json_object();
            firn_ice_value v;
            for (size_t c = 0; c < b.ncolumns; c++) {
                firn_ice_value_from_column(b.fields[c]->type, &b.columns[c], i, &v);
                json_object_set_new(row, b.fields[c]->name, value_json(b.fields[c]->type, &v));
            }
            for (size_t k = 0; k < nbins; k++) {
                json_t *url = json_null();
                if (rc.id_col >= 0) {
                    firn_ice_value_from_column(b.fields[rc.id_col]->type, &b.columns[rc.id_col], i, &v);
                    if (!v.is_null) url = image_url(&rc, bins[k], (const char *)v.u.bin.ptr, v.u.bin.len);
                }
                json_object_set_new(row, bins[k], url);
            }
            if (count < (size_t)limit) {
                ring[(head + count) % (size_t)limit] = row;
                count++;
            } else {
                json_decref(ring[head]);
                ring[head] = row;
                head = (head + 1) % (size_t)limit;
            }
        }
    }
    if (got < 0) {
        for (size_t i = 0; i < count; i++) json_decref(ring[(head + i) % (size_t)limit]);
        free(ring);
        free(cols);
        free(bins);
        firn_ice_scan_free(sc);
        return reply_err(r, &err);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < count; i++) {
        size_t k = newest ? (head + count - 1 - i) % (size_t)limit : (head + i) % (size_t)limit;
        json_array_append_new(arr, ring[k]);
    }
    json_t *j = json_object();
    json_object_set_new(j, "table", json_string(full));
    json_object_set_new(j, "snapshot_id", st->snapshot_id >= 0 ? json_integer(st->snapshot_id) : json_null());
    json_object_set_new(j, "matched", json_integer(matched));
    json_object_set_new(j, "order", json_string(newest ? "desc" : "asc"));
    json_t *fj = json_array();
    for (size_t i = 0; i < nf; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "name", json_string(f[i].name));
        json_object_set_new(x, "type", type_json(f[i].type));
        json_array_append_new(fj, x);
    }
    json_object_set_new(j, "fields", fj);
    json_object_set_new(j, "rows", arr);
    free(ring);
    free(cols);
    free(bins);
    firn_ice_scan_free(sc);
    firn_reply_json(r, 200, j);
}

static const char *image_type(const uint8_t *p, size_t n) {
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return "image/jpeg";
    if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return "image/png";
    if (n >= 2 && p[0] == 'B' && p[1] == 'M') return "image/bmp";
    return "application/octet-stream";
}

static void image(const firn_request *q, const firn_ice_table *t, firn_reply *r) {
    firn_error err;
    firn_error_init(&err);
    const char *col = firn_request_arg(q, "column");
    const char *where = firn_request_arg(q, "where");
    if (!col || !*col) return firn_reply_error(r, 400, "image: ?column= names a binary column");
    const firn_ice_field *fld =
        firn_ice_schema_find_by_name(firn_ice_metadata_current_schema(t->metadata), col, true);
    if (!fld || fld->type->id != FIRN_ICE_BINARY)
        return firn_reply_error(r, 400, "image: '%s' is not a binary column", col);
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    if (scan_target(q, &o, &err)) return reply_err(r, &err);
    if (where && *where) o.where = where;
    const char *cols[1] = {col};
    o.columns = cols;
    o.ncolumns = 1;
    firn_ice_scan *sc = firn_ice_scan_table(t, &o, &err);
    if (!sc) return reply_err(r, &err);
    firn_ice_scan_batch b;
    int got;
    bool found = false;
    while (!found && (got = firn_ice_scan_next_batch(sc, &b, &err)) == 1) {
        for (size_t i = 0; i < b.nrows; i++) {
            firn_ice_value v;
            firn_ice_value_from_column(b.fields[0]->type, &b.columns[0], i, &v);
            if (v.is_null) continue;
            firn_reply_text(r, 200, image_type(v.u.bin.ptr, v.u.bin.len), v.u.bin.ptr, v.u.bin.len);
            if (o.snapshot_id >= 0) r->cache_control = "public, max-age=31536000, immutable";
            found = true;
            break;
        }
    }
    if (!found) {
        if (got < 0) reply_err(r, &err);
        else firn_reply_error(r, 404, "image: no row with a value in '%s' matches", col);
    }
    firn_ice_scan_free(sc);
}

/* ------------------------------------------------------------ overview */

/* Scan a whole table column-wise with a callback per row (small tables). */
typedef void (*row_fn)(void *ctx, const firn_ice_scan_batch *b, size_t i);

static int scan_all(const firn_ice_table *t, const char *const *cols, size_t ncols, row_fn fn,
                    void *ctx, firn_error *err) {
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    o.columns = cols;
    o.ncolumns = ncols;
    firn_ice_scan *sc = firn_ice_scan_table(t, &o, err);
    if (!sc) return -1;
    firn_ice_scan_batch b;
    int got;
    while ((got = firn_ice_scan_next_batch(sc, &b, err)) == 1)
        for (size_t i = 0; i < b.nrows; i++) fn(ctx, &b, i);
    firn_ice_scan_free(sc);
    return got < 0 ? -1 : 0;
}

static json_t *cell_json(const firn_ice_scan_batch *b, size_t c, size_t i) {
    firn_ice_value v;
    firn_ice_value_from_column(b->fields[c]->type, &b->columns[c], i, &v);
    return value_json(b->fields[c]->type, &v);
}

static void commit_row(void *ctx, const firn_ice_scan_batch *b, size_t i) {
    json_t *arr = ctx;
    json_t *row = json_object();
    for (size_t c = 0; c < b->ncolumns; c++) {
        if (!strcmp(b->fields[c]->name, "committed_at")) {
            firn_ice_value v;
            firn_ice_value_from_column(b->fields[c]->type, &b->columns[c], i, &v);
            json_object_set_new(row, "committed_at_ms", json_integer(v.is_null ? 0 : v.u.i64 / 1000));
        }
        json_object_set_new(row, b->fields[c]->name, cell_json(b, c, i));
    }
    json_array_append_new(arr, row);
}

static int cmp_commit(const void *a, const void *b) {
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "committed_at_ms"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "committed_at_ms"));
    return x < y ? -1 : x > y;
}

/* firn.commits' rows sorted by committed_at. Bookkeeping rows of publishes
 * without atomic multi-table commits (outcome "intent", and "aborted" for an
 * intent that was fenced out) are left out: they published nothing, and the
 * publish's own row follows its intent. */
static char *commits_page(meta_entry *e, const firn_ice_table *t, void *ctx, firn_error *err) {
    (void)e, (void)ctx;
    json_t *arr = json_array();
    static const char *const cols[] = {"committed_at", "table_name", "snapshot_id", "outcome",
                                       "audit", "rows_trusted", "rows_untrusted",
                                       "rows_dead_letter", "total_trusted", "worker"};
    if (scan_all(t, cols, sizeof cols / sizeof cols[0], commit_row, arr, err)) {
        json_decref(arr);
        return NULL;
    }
    size_t n = json_array_size(arr);
    json_t **v = firn_xmalloc((n ? n : 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(arr, i);
        const char *oc = json_string_value(json_object_get(c, "outcome"));
        if (oc && (!strcmp(oc, "intent") || !strcmp(oc, "aborted"))) continue;
        v[k++] = json_incref(c);
    }
    n = k;
    qsort(v, n, sizeof *v, cmp_commit);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, v[i]);
    free(v);
    return dump_json(arr);
}

/* firn.commits' rows sorted by committed_at as JSON text, held by *hold
 * (table_done it after use); NULL with no error when the table is absent. */
static const char *commits_text(firn_catalog *cat, firn_ice_table **hold, firn_error *err) {
    *hold = NULL;
    if (load_table(cat, HISTORY_TABLE, hold, err)) {
        if (err->kind == FIRN_ERR_NOT_FOUND) {
            firn_error_release(err);
            firn_error_init(err);
        }
        return NULL;
    }
    const char *text = entry_page(view_entry(*hold), PAGE_COMMITS, commits_page, *hold, NULL, err);
    if (!text) {
        table_done(*hold);
        *hold = NULL;
    }
    return text;
}

/* firn.commits' rows sorted by committed_at, or NULL when the table is absent. */
static json_t *commits_json(firn_catalog *cat, firn_error *err) {
    firn_ice_table *hold;
    const char *text = commits_text(cat, &hold, err);
    json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
    table_done(hold);
    return arr;
}

/* The overview's part that comes from firn.commits (commits NULL: none):
 * "totals":{...},"per_table":{...},"commits":[...] and the last commit's time. */
static char *commits_overview(json_t *commits, int64_t *last_out) {
    json_t *totals = json_object();
    int64_t trusted = 0, untrusted = 0, dead = 0, failed_audits = 0, last_ms = 0;
    json_t *per_table = json_object();
    if (commits) {
        size_t n = json_array_size(commits);
        for (size_t i = 0; i < n; i++) {
            json_t *c = json_array_get(commits, i);
            const char *tn = json_string_value(json_object_get(c, "table_name"));
            const char *oc = json_string_value(json_object_get(c, "outcome"));
            int64_t rt = json_integer_value(json_object_get(c, "rows_trusted"));
            int64_t ru = json_integer_value(json_object_get(c, "rows_untrusted"));
            int64_t rd = json_integer_value(json_object_get(c, "rows_dead_letter"));
            trusted += rt, untrusted += ru, dead += rd;
            if (oc && strcmp(oc, "published") && strcmp(oc, "cherry-picked")) failed_audits++;
            int64_t at = json_integer_value(json_object_get(c, "committed_at_ms"));
            if (at > last_ms) last_ms = at;
            if (!tn) continue;
            json_t *pt = json_object_get(per_table, tn);
            if (!pt) {
                pt = json_pack("{s:I,s:I,s:I,s:I}", "trusted", (json_int_t)0, "untrusted",
                               (json_int_t)0, "dead_letter", (json_int_t)0, "commits", (json_int_t)0);
                json_object_set_new(per_table, tn, pt);
            }
            json_object_set_new(pt, "trusted", json_integer(json_integer_value(json_object_get(pt, "trusted")) + rt));
            json_object_set_new(pt, "untrusted", json_integer(json_integer_value(json_object_get(pt, "untrusted")) + ru));
            json_object_set_new(pt, "dead_letter", json_integer(json_integer_value(json_object_get(pt, "dead_letter")) + rd));
            json_object_set_new(pt, "commits", json_integer(json_integer_value(json_object_get(pt, "commits")) + 1));
        }
    }
    json_object_set_new(totals, "trusted", json_integer(trusted));
    json_object_set_new(totals, "untrusted", json_integer(untrusted));
    json_object_set_new(totals, "dead_letter", json_integer(dead));
    json_object_set_new(totals, "failed_audits", json_integer(failed_audits));
    json_t *j = json_object();
    json_object_set_new(j, "totals", totals);
    json_object_set_new(j, "per_table", per_table);
    json_object_set(j, "commits", commits ? commits : json_null());
    char *text = dump_json(j); /* {...}: the caller splices the inside */
    *last_out = last_ms;
    return text;
}

/* ctx: the entry's PAGE_COMMITS text. */
static char *overview_page(meta_entry *e, const firn_ice_table *t, void *ctx, firn_error *err) {
    (void)t;
    json_t *commits = json_loads(ctx, 0, NULL);
    if (!commits) {
        FIRN_RAISE(err, FIRN_ERR_INTERNAL, "firn.commits: cached rows are not JSON");
        return NULL;
    }
    int64_t last_ms;
    char *out = commits_overview(commits, &last_ms);
    pthread_mutex_lock(&e->mu);
    e->last_commit_ms = last_ms;
    pthread_mutex_unlock(&e->mu);
    json_decref(commits);
    return out;
}

/* The overview's [[made current at ms, total rows], ...] of one table, from
 * its snapshot log (snapshots found through an id index: a search per log
 * entry was quadratic). */
static char *series_page(meta_entry *e, const firn_ice_table *t, void *ctx, firn_error *err) {
    (void)e, (void)ctx, (void)err;
    const firn_ice_metadata *md = t->metadata;
    size_t n = md->nsnapshots;
    snap_ix *ix = firn_xmalloc((n ? n : 1) * sizeof *ix);
    for (size_t i = 0; i < n; i++) ix[i] = (snap_ix){md->snapshots[i]->snapshot_id, i};
    qsort(ix, n, sizeof *ix, snap_ix_cmp);
    firn_buf b;
    firn_buf_init(&b);
    firn_buf_append_str(&b, "[");
    bool first = true;
    for (size_t k = 0; k < md->nsnapshot_log; k++) {
        long at = snap_find(ix, n, md->snapshot_log[k].snapshot_id);
        const char *tr = at >= 0 ? firn_ice_snapshot_summary_get(md->snapshots[at], "total-records") : NULL;
        if (!tr) continue;
        firn_buf_appendf(&b, "%s[%lld,%lld]", first ? "" : ",",
                         (long long)md->snapshot_log[k].timestamp_ms, strtoll(tr, NULL, 10));
        first = false;
    }
    firn_buf_append_str(&b, "]");
    free(ix);
    firn_buf_cstr(&b);
    size_t len;
    return (char *)firn_buf_steal(&b, &len);
}

/* Assembled from cached parts: the tables' summaries and series and the
 * firn.commits part are each made once per metadata file; what changes with
 * time (now, freshness, uptime, ingest counters) is added per request. */
static void overview(firn_server *s, firn_catalog *cat, firn_reply *r) {
    firn_error err;
    firn_error_init(&err);
    json_t *tables = list_tables_json(cat, &err);
    if (!tables) return reply_err(r, &err);
    firn_ice_table *hold;
    const char *part = NULL;
    char *own_part = NULL;
    int64_t last_ms = 0;
    const char *ctext = commits_text(cat, &hold, &err);
    if (!ctext && err.kind) {
        json_decref(tables);
        return reply_err(r, &err);
    }
    if (hold) {
        part = entry_page(view_entry(hold), PAGE_OVERVIEW, overview_page, hold, (void *)ctext, &err);
        if (!part) {
            table_done(hold);
            json_decref(tables);
            return reply_err(r, &err);
        }
        pthread_mutex_lock(&view_entry(hold)->mu);
        last_ms = view_entry(hold)->last_commit_ms;
        pthread_mutex_unlock(&view_entry(hold)->mu);
    } else {
        part = own_part = commits_overview(NULL, &last_ms);
    }
    int64_t now_ms = firn_now_us() / 1000;
    json_t *j = json_object();
    json_object_set_new(j, "now_ms", json_integer(now_ms));
    json_object_set_new(j, "last_commit_ms", last_ms ? json_integer(last_ms) : json_null());
    json_object_set_new(j, "freshness_s", last_ms ? json_real((double)(now_ms - last_ms) / 1e3) : json_null());
    json_t *ing = json_object();
    json_object_set_new(ing, "accepted", json_integer((json_int_t)firn_metrics_value("firn_ingest_events_total", "result=\"accepted\"")));
    json_object_set_new(ing, "duplicates", json_integer((json_int_t)firn_metrics_value("firn_ingest_events_total", "result=\"duplicate\"")));
    json_object_set_new(ing, "unparseable", json_integer((json_int_t)firn_metrics_value("firn_ingest_requests_total", "result=\"unparseable\"")));
    json_object_set_new(j, "ingest", ing);
    json_object_set_new(j, "uptime_s", json_real((double)(firn_now_us() - s->started_us) / 1e6));
    char *head = dump_json(j);
    firn_buf *b = &r->body;
    firn_buf_clear(b);
    firn_buf_append(b, head, strlen(head) - 1); /* without its '}' */
    free(head);
    firn_buf_append_str(b, ",");
    firn_buf_append(b, part + 1, strlen(part) - 2); /* totals, per_table, commits */
    char *tt = dump_json(json_incref(tables));
    firn_buf_append_str(b, ",\"tables\":");
    firn_buf_append_str(b, tt);
    free(tt);
    firn_buf_append_str(b, ",\"snapshot_series\":{");
    size_t nt = json_array_size(tables), nout = 0;
    for (size_t i = 0; i < nt; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(tables, i), "name"));
        firn_ice_table *t;
        if (!name || load_table(cat, name, &t, &err)) {
            firn_error_release(&err);
            firn_error_init(&err);
            continue;
        }
        const char *series = entry_page(view_entry(t), PAGE_SERIES, series_page, t, NULL, &err);
        if (series) {
            char *key = dump_json(json_string(name));
            firn_buf_appendf(b, "%s%s:", nout++ ? "," : "", key);
            firn_buf_append_str(b, series);
            free(key);
        }
        table_done(t);
    }
    firn_buf_append_str(b, "}}\n");
    table_done(hold);
    free(own_part);
    json_decref(tables);
    r->status = 200;
    r->content_type = "application/json";
}

/* ------------------------------------------------------------ untrusted */

typedef struct untrusted_ctx {
    json_t *groups; /* rule -> {count, samples[]} */
    int64_t rows;
    size_t samples;
} untrusted_ctx;

static void untrusted_row(void *ctx, const firn_ice_scan_batch *b, size_t i) {
    untrusted_ctx *u = ctx;
    u->rows++;
    json_t *row = json_object();
    const char *rules = NULL;
    size_t rules_len = 0;
    for (size_t c = 0; c < b->ncolumns; c++) {
        firn_ice_value v;
        firn_ice_value_from_column(b->fields[c]->type, &b->columns[c], i, &v);
        if (!strcmp(b->fields[c]->name, "failed_rules") && !v.is_null)
            rules = (const char *)v.u.bin.ptr, rules_len = v.u.bin.len;
        json_object_set_new(row, b->fields[c]->name, value_json(b->fields[c]->type, &v));
    }
    char one[256];
    const char *p = rules ? rules : "", *end = p + (rules ? rules_len : 0);
    do {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        size_t len = (size_t)(e - p) < sizeof one - 1 ? (size_t)(e - p) : sizeof one - 1;
        memcpy(one, p, len);
        one[len] = 0;
        if (!len) snprintf(one, sizeof one, "(none)");
        json_t *g = json_object_get(u->groups, one);
        if (!g) {
            g = json_object();
            json_object_set_new(g, "count", json_integer(0));
            json_object_set_new(g, "samples", json_array());
            json_object_set_new(u->groups, one, g);
        }
        json_object_set_new(g, "count", json_integer(json_integer_value(json_object_get(g, "count")) + 1));
        json_t *samples = json_object_get(g, "samples");
        if (json_array_size(samples) < u->samples) json_array_append(samples, row);
        p = e + 1;
    } while (p < end);
    json_decref(row);
}

static void untrusted(const firn_request *q, firn_catalog *cat, firn_reply *r) {
    firn_error err;
    firn_error_init(&err);
    const char *name = firn_request_arg(q, "table");
    long samples = arg_limit(q, 5, 100);
    if (samples < 0) return firn_reply_error(r, 400, "limit: want a number >= 0");
    firn_arena a;
    firn_arena_init(&a, 0);
    const char **names = NULL;
    size_t n = 0, cap = 0;
    if (all_tables(cat, NULL, &a, &names, &n, &cap, &err)) {
        firn_arena_release(&a);
        return reply_err(r, &err);
    }
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        if (name && *name ? strcmp(names[i], name) != 0 : !strstr(names[i], "_untrusted")) continue;
        firn_ice_table *t;
        if (load_table(cat, names[i], &t, &err)) break;
        const firn_ice_schema *sc = firn_ice_metadata_current_schema(t->metadata);
        if (!firn_ice_schema_find_by_name(sc, "failed_rules", true)) {
            table_done(t);
            if (name && *name) {
                FIRN_RAISE(&err, FIRN_ERR_INVALID, "%s has no failed_rules column", names[i]);
                break;
            }
            continue;
        }
        /* every column but binaries */
        size_t nf = firn_ice_schema_nfields(sc);
        const firn_ice_field *f = firn_ice_schema_fields(sc);
        const char **cols = firn_arena_alloc(&a, (nf + 1) * sizeof *cols);
        size_t nc = 0;
        for (size_t k = 0; k < nf; k++)
            if (f[k].type->id != FIRN_ICE_BINARY) cols[nc++] = f[k].name;
        untrusted_ctx u = {json_object(), 0, (size_t)samples};
        int rc = scan_all(t, cols, nc, untrusted_row, &u, &err);
        table_done(t);
        if (rc) {
            json_decref(u.groups);
            break;
        }
        json_t *x = json_object();
        json_object_set_new(x, "table", json_string(names[i]));
        json_object_set_new(x, "rows", json_integer(u.rows));
        json_t *groups = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(u.groups, k, v) {
            json_t *g = json_object();
            json_object_set_new(g, "rule", json_string(k));
            json_object_set(g, "count", json_object_get(v, "count"));
            json_object_set(g, "samples", json_object_get(v, "samples"));
            json_array_append_new(groups, g);
        }
        json_decref(u.groups);
        json_object_set_new(x, "groups", groups);
        json_array_append_new(out, x);
    }
    firn_arena_release(&a);
    if (err.kind) {
        json_decref(out);
        return reply_err(r, &err);
    }
    json_t *j = json_object();
    json_object_set_new(j, "tables", out);
    firn_reply_json(r, 200, j);
}

/* ------------------------------------------------------------ refresher
 *
 * The first request after a commit would parse the table's new metadata file
 * (about 100 ms at 10,000 snapshots). A background thread keeps the tables
 * that were asked for in the last INTEREST_US warm instead: every REFRESH_MS it
 * asks their catalog for the current metadata location and, when it is not
 * cached, loads it and makes the summary, detail, series and history pages, so
 * a dashboard that polls finds them made. A request that comes first loads the
 * file itself as before (the cache keeps one copy): answers never wait for the
 * refresher and are never older than the catalog. Started by the first API
 * request; it runs until the process exits and holds nothing of a server
 * (catalog URI and warehouse are copied). */

#define REFRESH_MS 200
#define INTEREST_US (60 * 1000000LL)
#define INTEREST_MAX 256

typedef struct interest {
    char *cat_uri, *warehouse, *table;
    int64_t asked_us;
} interest;

static struct {
    pthread_mutex_t mu;
    interest v[INTEREST_MAX];
    size_t n;
    pthread_once_t once;
    uint64_t loads; /* metadata files the refresher loaded */
} refresh = {.mu = PTHREAD_MUTEX_INITIALIZER, .once = PTHREAD_ONCE_INIT};

/* The server of the API request this thread is answering (for note_interest). */
static _Thread_local const firn_server *cur_server;

static void note_interest(const char *full) {
    const firn_server *s = cur_server;
    if (!s || !s->cfg->catalog_uri) return;
    const char *wh = s->cfg->warehouse ? s->cfg->warehouse : "";
    int64_t now = firn_now_us();
    pthread_mutex_lock(&refresh.mu);
    size_t i = 0, oldest = 0;
    for (; i < refresh.n; i++) {
        interest *x = &refresh.v[i];
        if (!strcmp(x->table, full) && !strcmp(x->cat_uri, s->cfg->catalog_uri) && !strcmp(x->warehouse, wh))
            break;
        if (x->asked_us < refresh.v[oldest].asked_us) oldest = i;
    }
    if (i == refresh.n) {
        if (refresh.n == INTEREST_MAX) { /* full: the least recently asked goes */
            i = oldest;
            free(refresh.v[i].cat_uri), free(refresh.v[i].warehouse), free(refresh.v[i].table);
        } else {
            refresh.n++;
        }
        refresh.v[i] = (interest){firn_xstrdup(s->cfg->catalog_uri), firn_xstrdup(wh), firn_xstrdup(full), 0};
    }
    refresh.v[i].asked_us = now;
    pthread_mutex_unlock(&refresh.mu);
}

static bool cached(const char *location) {
    pthread_mutex_lock(&cache.mu);
    bool found = false;
    for (size_t i = 0; i < cache.n && !found; i++) found = !strcmp(cache.v[i]->location, location);
    pthread_mutex_unlock(&cache.mu);
    return found;
}

/* Warm one table: its current metadata cached, with the pages every visit asks for. */
static void refresh_table(firn_catalog *cat, const char *full) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_cat_ident id;
    firn_cat_table row;
    if (firn_cat_ident_parse(full, &a, &id, &err) || firn_cat_load_table(cat, &id, &a, &row, &err) ||
        cached(row.metadata_location))
        goto done;
    meta_entry *e = cache_get(row.metadata_location, &err);
    if (!e) goto done;
    __atomic_add_fetch(&refresh.loads, 1, __ATOMIC_RELAXED);
    table_view v;
    memset(&v, 0, sizeof v);
    v.e = e;
    v.t.ns = (char *)id.ns;
    v.t.name = (char *)id.name;
    v.t.metadata_location = e->location;
    v.t.metadata = e->md; /* no io: these pages read no file */
    entry_page(e, PAGE_SUMMARY, summary_page, &v.t, NULL, &err);
    entry_page(e, PAGE_DETAIL, detail_page, &v.t, NULL, &err);
    entry_page(e, PAGE_SERIES, series_page, &v.t, NULL, &err);
    entry_page(e, PAGE_HISTORY, history_page, &v.t, NULL, &err);
    entry_release(e);
done:
    firn_arena_release(&a);
    firn_error_release(&err);
}

static void *refresher(void *arg) {
    (void)arg;
    in_refresher = true;
    for (;;) {
        struct timespec ts = {0, REFRESH_MS * 1000000L};
        nanosleep(&ts, NULL);
        /* this round's work, copied: catalogs are opened without the lock */
        int64_t now = firn_now_us();
        interest work[INTEREST_MAX];
        size_t n = 0;
        pthread_mutex_lock(&refresh.mu);
        for (size_t i = 0; i < refresh.n; i++)
            if (refresh.v[i].asked_us > now - INTEREST_US)
                work[n++] = (interest){firn_xstrdup(refresh.v[i].cat_uri), firn_xstrdup(refresh.v[i].warehouse),
                                       firn_xstrdup(refresh.v[i].table), 0};
        pthread_mutex_unlock(&refresh.mu);
        for (size_t i = 0; i < n; i++) {
            if (work[i].cat_uri) {
                firn_cat_config cc = {.warehouse = *work[i].warehouse ? work[i].warehouse : NULL};
                firn_catalog *cat = NULL;
                firn_error err;
                firn_error_init(&err);
                if (firn_cat_open(work[i].cat_uri, &cc, &cat, &err) == 0) {
                    /* every table of this catalog in one visit */
                    for (size_t k = i; k < n; k++)
                        if (work[k].cat_uri && !strcmp(work[k].cat_uri, work[i].cat_uri) &&
                            !strcmp(work[k].warehouse, work[i].warehouse)) {
                            refresh_table(cat, work[k].table);
                            if (k != i) free(work[k].cat_uri), work[k].cat_uri = NULL;
                        }
                    firn_cat_free(cat);
                }
                firn_error_release(&err);
                free(work[i].cat_uri);
            }
            free(work[i].warehouse);
            free(work[i].table);
        }
    }
    return NULL;
}

static void start_refresher(void) {
    firn_metrics_describe("firn_api_metadata_loads_total", FIRN_METRIC_COUNTER,
                          "Table metadata files read and parsed by the API, by who needed them "
                          "(request: a request waited; refresher: loaded ahead after a commit)", NULL, 0);
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &at, refresher, NULL) != 0)
        fprintf(stderr, "firn serve: no metadata refresher thread (pages load on request)\n");
    pthread_attr_destroy(&at);
}

/* ------------------------------------------------------------ routing */

void firn_api_handle(firn_server *s, const firn_request *q, const char *path, firn_reply *r) {
    firn_error err;
    firn_error_init(&err);
    if (!getenv("FIRN_SERVE_NO_REFRESH")) pthread_once(&refresh.once, start_refresher);
    cur_server = s;
    firn_catalog *cat = NULL;
    if (open_catalog(s, &cat, &err)) {
        char buf[512];
        firn_reply_error(r, 503, "%s", firn_error_format(&err, buf, sizeof buf));
        firn_error_release(&err);
        return;
    }
    if (!strcmp(path, "/tables") || !strcmp(path, "/tables/")) {
        json_t *arr = list_tables_json(cat, &err);
        if (!arr) reply_err(r, &err);
        else {
            json_t *j = json_object();
            json_object_set_new(j, "tables", arr);
            firn_reply_json(r, 200, j);
        }
    } else if (!strcmp(path, "/overview")) {
        overview(s, cat, r);
    } else if (!strcmp(path, "/pipeline")) {
        firn_status_handle(s, cat, r);
    } else if (!strcmp(path, "/untrusted")) {
        untrusted(q, cat, r);
    } else if (!strcmp(path, "/commits")) {
        json_t *c = commits_json(cat, &err);
        if (!c && err.kind) reply_err(r, &err);
        else {
            json_t *j = json_object();
            json_object_set_new(j, "commits", c ? c : json_array());
            firn_reply_json(r, 200, j);
        }
    } else if (!strncmp(path, "/tables/", 8)) {
        char name[512];
        const char *rest = path + 8;
        const char *slash = strchr(rest, '/');
        size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
        const char *sub = slash ? slash : "";
        firn_ice_table *t = NULL;
        if (len == 0 || len >= sizeof name) {
            firn_reply_error(r, 400, "bad table name");
        } else {
            memcpy(name, rest, len);
            name[len] = 0;
            if (!strchr(name, '.')) {
                firn_reply_error(r, 400, "'%s' is not a table name: want namespace.table", name);
            } else if (load_table(cat, name, &t, &err)) {
                reply_err(r, &err);
            } else if (!*sub || !strcmp(sub, "/")) {
                reply_page(r, entry_page(view_entry(t), PAGE_DETAIL, detail_page, t, NULL, &err));
            } else if (!strcmp(sub, "/snapshots")) {
                snapshots(q, t, r);
            } else if (!strcmp(sub, "/history")) {
                reply_page(r, entry_page(view_entry(t), PAGE_HISTORY, history_page, t, NULL, &err));
            } else if (!strcmp(sub, "/refs")) {
                reply_page(r, entry_page(view_entry(t), PAGE_REFS, refs_page, t, NULL, &err));
            } else if (!strcmp(sub, "/files")) {
                files(q, t, false, r);
            } else if (!strcmp(sub, "/partitions")) {
                files(q, t, true, r);
            } else if (!strcmp(sub, "/rows")) {
                rows(q, t, name, r);
            } else if (!strcmp(sub, "/image")) {
                image(q, t, r);
            } else {
                firn_reply_error(r, 404, "no such path: /api/v1%s", path);
            }
        }
        table_done(t);
    } else {
        firn_reply_error(r, 404, "no such path: /api/v1%s", path);
    }
    firn_cat_free(cat);
    cur_server = NULL;
}

int firn_api_open_catalog(firn_server *s, firn_catalog **cat, firn_error *err) {
    return open_catalog(s, cat, err);
}

int firn_api_all_tables(firn_catalog *cat, firn_arena *a, const char ***names, size_t *n,
                        firn_error *err) {
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    return all_tables(cat, NULL, a, names, n, &cap, err);
}

json_t *firn_api_commits(firn_catalog *cat, firn_error *err) { return commits_json(cat, err); }

int firn_api_check_catalog(firn_server *s, firn_error *err) {
    firn_catalog *cat;
    if (open_catalog(s, &cat, err)) return -1;
    firn_arena a;
    firn_arena_init(&a, 0);
    const char **nss;
    size_t n;
    int rc = firn_cat_list_namespaces(cat, NULL, &a, &nss, &n, err);
    firn_arena_release(&a);
    firn_cat_free(cat);
    return rc;
}

/* ------------------------------------------------------------ /metrics */

static void metric_line(firn_buf *out, const char *name, const char *table, double v) {
    if (v == floor(v) && fabs(v) < 1e15) firn_buf_appendf(out, "%s{table=\"%s\"} %.0f\n", name, table, v);
    else firn_buf_appendf(out, "%s{table=\"%s\"} %.3f\n", name, table, v);
}

static void count_series(void *ctx, const char *labels, double v, uint64_t count) {
    (void)labels, (void)v, (void)count;
    ++*(size_t *)ctx;
}

/* True when something in the process (firn run) feeds metric name: then
 * firn.commits' version is left out, so that no family is printed twice. */
static bool in_registry(const char *name) {
    size_t n = 0;
    firn_metrics_each(name, count_series, &n);
    return n > 0;
}

void firn_api_table_metrics(firn_server *s, firn_buf *out) {
    firn_error err;
    firn_error_init(&err);
    firn_catalog *cat;
    if (open_catalog(s, &cat, &err)) {
        firn_error_release(&err);
        return;
    }
    json_t *tables = list_tables_json(cat, &err);
    json_t *commits = commits_json(cat, &err);
    firn_error_release(&err);
    firn_cat_free(cat);
    if (tables) {
        static const struct {
            const char *key, *name, *help;
        } m[] = {
            {"rows", "firn_table_rows", "Rows in the table's current snapshot (total-records)"},
            {"snapshots", "firn_table_snapshots", "Snapshots in the table's metadata"},
            {"files", "firn_table_data_files", "Data files in the current snapshot"},
            {"bytes", "firn_table_bytes", "Bytes of data files in the current snapshot"},
            {"last_updated_ms", "firn_table_last_updated_timestamp_seconds",
             "When the table's metadata last changed (Unix seconds)"},
        };
        for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
            firn_buf_appendf(out, "# HELP %s %s\n# TYPE %s gauge\n", m[k].name, m[k].help, m[k].name);
            for (size_t i = 0; i < json_array_size(tables); i++) {
                json_t *t = json_array_get(tables, i);
                double v = (double)json_integer_value(json_object_get(t, m[k].key));
                if (!strcmp(m[k].key, "last_updated_ms")) v /= 1e3;
                metric_line(out, m[k].name, json_string_value(json_object_get(t, "name")), v);
            }
        }
        json_decref(tables);
    }
    if (commits) {
        json_t *per = json_object();
        int64_t last_ms = 0;
        size_t n = json_array_size(commits);
        for (size_t i = 0; i < n; i++) {
            json_t *c = json_array_get(commits, i);
            const char *tn = json_string_value(json_object_get(c, "table_name"));
            if (!tn) continue;
            json_t *pt = json_object_get(per, tn);
            if (!pt) {
                pt = json_pack("[I,I,I,I,I]", (json_int_t)0, (json_int_t)0, (json_int_t)0,
                               (json_int_t)0, (json_int_t)0);
                json_object_set_new(per, tn, pt);
            }
            static const char *const keys[] = {"rows_trusted", "rows_untrusted", "rows_dead_letter"};
            for (size_t k = 0; k < 3; k++)
                json_array_set_new(pt, k, json_integer(json_integer_value(json_array_get(pt, k)) +
                                                       json_integer_value(json_object_get(c, keys[k]))));
            const char *oc = json_string_value(json_object_get(c, "outcome"));
            bool failed = oc && strcmp(oc, "published") && strcmp(oc, "cherry-picked");
            json_array_set_new(pt, 3, json_integer(json_integer_value(json_array_get(pt, 3)) + failed));
            int64_t at = json_integer_value(json_object_get(c, "committed_at_ms"));
            if (at > json_integer_value(json_array_get(pt, 4))) json_array_set_new(pt, 4, json_integer(at));
            if (at > last_ms) last_ms = at;
        }
        const char *tn;
        json_t *pt;
        static const char *const trust[] = {"trusted", "untrusted", "dead-letter"};
        bool rows_fed = in_registry("firn_rows_committed_total");
        bool audits_fed = in_registry("firn_audit_failures_total");
        if (!rows_fed)
            firn_buf_append_str(out, "# HELP firn_rows_committed_total Rows published, by table and "
                                     "trust level (from firn.commits)\n# TYPE "
                                     "firn_rows_committed_total counter\n");
        if (!rows_fed) json_object_foreach(per, tn, pt) for (size_t k = 0; k < 3; k++)
            firn_buf_appendf(out, "firn_rows_committed_total{table=\"%s\",trust=\"%s\"} %lld\n", tn,
                             trust[k], (long long)json_integer_value(json_array_get(pt, k)));
        if (!audits_fed)
            firn_buf_append_str(out, "# HELP firn_audit_failures_total Batches whose audit failed "
                                     "(from firn.commits)\n# TYPE firn_audit_failures_total counter\n");
        if (!audits_fed) json_object_foreach(per, tn, pt)
            metric_line(out, "firn_audit_failures_total", tn, (double)json_integer_value(json_array_get(pt, 3)));
        firn_buf_append_str(out, "# HELP firn_last_commit_timestamp_seconds When each table last "
                                 "published (from firn.commits)\n# TYPE "
                                 "firn_last_commit_timestamp_seconds gauge\n");
        json_object_foreach(per, tn, pt)
            metric_line(out, "firn_last_commit_timestamp_seconds", tn,
                        (double)json_integer_value(json_array_get(pt, 4)) / 1e3);
        if (last_ms && !in_registry("firn_freshness_seconds"))
            firn_buf_appendf(out, "# HELP firn_freshness_seconds Seconds since the last publish of "
                                  "any table\n# TYPE firn_freshness_seconds gauge\n"
                                  "firn_freshness_seconds %.3f\n",
                             (double)(firn_now_us() / 1000 - last_ms) / 1e3);
        json_decref(per);
        json_decref(commits);
    }
}
