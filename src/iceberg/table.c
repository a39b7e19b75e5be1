/*
 * table.c - table operations on a catalog: create, load, refresh, commit
 * (metadata file + compare-and-swap + retries), multi-table commits, and ref
 * changes (branches, tags, fast-forward).
 *
 * A commit, per attempt: copy the current metadata, apply the updates (the
 * caller's callbacks, so that a lost race re-applies them on the newer base),
 * record the base file in metadata-log, write <version+1>-<uuid>.metadata.json
 * through FileIO without overwrite, then swap the catalog's metadata location.
 * A lost race deletes the new file, reloads and retries (firn_cat_retry, Java's
 * policy). An unknown catalog outcome keeps every file. After success, best
 * effort: version-hint.text, and deleting metadata files that fell off the log.
 *
 * Note on module layering: design.md lets iceberg/ use util, avro, parquet and
 * io; table operations use the catalog too (catalog.h itself depends on
 * nothing of iceberg/, so there is no include cycle).
 */
#include "catalog/catalog.h"
#include "iceberg/iceberg_internal.h"
#include "io/io.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const firn_ice_kv firn_ice_table_default_properties[] = {
    {"write.parquet.compression-codec", "zstd"},
    {"write.metadata.delete-after-commit.enabled", "true"},
    {"write.metadata.previous-versions-max", "100"},
    {"commit.manifest-merge.enabled", "true"},
    {"write.target-file-size-bytes", "536870912"},
};
const size_t firn_ice_table_ndefault_properties =
    sizeof firn_ice_table_default_properties / sizeof firn_ice_table_default_properties[0];

#define VERSION_HINT "version-hint.text"
#define METADATA_SUFFIX ".metadata.json"

static int64_t now_ms(void) { return firn_now_us() / 1000; }

/* ------------------------------------------------------------ file names */

int firn_ice_metadata_file_version(const char *location) {
    if (!location) return -1;
    const char *slash = strrchr(location, '/');
    const char *start = slash ? slash + 1 : location;
    const char *dash = strchr(start, '-');
    if (!dash || dash == start) return -1;
    /* Java's Integer.parseInt: optional sign, digits, fits in an int */
    const char *p = start;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (p == dash) return -1;
    long long v = 0;
    for (; p < dash; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
        if (v > 2147483647LL) return -1;
    }
    if (neg) return -1; /* a negative version names no file firn writes */
    return (int)v;
}

const char *firn_ice_metadata_dir(const firn_ice_metadata *md, firn_arena *a) {
    const char *custom = firn_ice_metadata_property(md, "write.metadata.path");
    if (custom && *custom) {
        size_t n = strlen(custom);
        while (n > 1 && custom[n - 1] == '/') n--;
        return firn_arena_strndup(a, custom, n);
    }
    size_t n = strlen(md->location) + sizeof "/metadata";
    char *s = firn_arena_alloc(a, n);
    snprintf(s, n, "%s/metadata", md->location);
    return s;
}

/* <dir>/<version padded to 5>-<uuid>.metadata.json, malloc'd. */
static char *new_metadata_location(const firn_ice_metadata *md, int version) {
    firn_arena a;
    firn_arena_init(&a, 512);
    const char *dir = firn_ice_metadata_dir(md, &a);
    uint8_t u[16];
    char us[37];
    firn_ice_uuid4(u);
    firn_ice_uuid_format(u, us);
    firn_buf b = {0};
    firn_buf_appendf(&b, "%s/%05d-%s%s", dir, version, us, METADATA_SUFFIX);
    firn_arena_release(&a);
    return firn_buf_cstr(&b); /* the buffer's bytes become the string */
}

static int write_metadata_file(firn_io *io, const firn_ice_metadata *md, const char *location,
                               firn_error *err) {
    size_t len;
    char *text = firn_ice_metadata_to_string(md, 0, &len, err);
    if (!text) return -err->kind;
    int rc = firn_io_write_all(io, location, text, len, err);
    free(text);
    if (rc) FIRN_WRAP(err, err->kind, "cannot write table metadata file");
    return rc;
}

static firn_ice_metadata *read_metadata_file(firn_io *io, const char *location, firn_error *err) {
    uint8_t *data;
    size_t len;
    if (firn_io_read_all(io, location, &data, &len, err)) {
        FIRN_WRAP(err, err->kind, "cannot read table metadata file");
        firn_error_context(err, "%s", location);
        return NULL;
    }
    firn_ice_metadata *md = firn_ice_metadata_parse((const char *)data, len, err);
    free(data);
    if (!md) {
        FIRN_WRAP(err, err->kind, "table metadata file is not valid");
        firn_error_context(err, "%s", location);
    }
    return md;
}

/*
 * version-hint.text: the new file's name without ".metadata.json". FileIO
 * never overwrites, so the old hint is deleted first; when another committer
 * re-creates it meanwhile, the newer version wins (a few tries, then give up:
 * it is a hint).
 */
static void write_version_hint(firn_io *io, const char *metadata_location) {
    const char *slash = strrchr(metadata_location, '/');
    if (!slash) return;
    const char *name = slash + 1;
    size_t nlen = strlen(name), slen = strlen(METADATA_SUFFIX);
    if (nlen > slen && strcmp(name + nlen - slen, METADATA_SUFFIX) == 0) nlen -= slen;
    firn_buf hint = {0};
    firn_buf_append(&hint, metadata_location, (size_t)(slash - metadata_location));
    firn_buf_append_str(&hint, "/" VERSION_HINT);
    const char *hint_loc = firn_buf_cstr(&hint);
    int mine = firn_ice_metadata_file_version(metadata_location);
    for (int tries = 0; tries < 3; tries++) {
        firn_error e;
        firn_error_init(&e);
        uint8_t *old = NULL;
        size_t olen = 0;
        if (firn_io_read_all(io, hint_loc, &old, &olen, &e) == 0) {
            int theirs = firn_ice_metadata_file_version((const char *)old);
            if (theirs < 0) theirs = atoi((const char *)old); /* a bare integer */
            bool same = olen == nlen && memcmp(old, name, nlen) == 0;
            free(old);
            if (same || theirs > mine) {
                firn_error_release(&e);
                break;
            }
            firn_error_release(&e);
            if (firn_io_delete(io, hint_loc, &e)) {
                firn_error_release(&e);
                break;
            }
        }
        firn_error_release(&e);
        int rc = firn_io_write_all(io, hint_loc, name, nlen, &e);
        bool conflict = rc && e.kind == FIRN_ERR_CONFLICT;
        firn_error_release(&e);
        if (!conflict) break;
    }
    firn_buf_release(&hint);
}

/* ------------------------------------------------------------ tables */

static firn_ice_table *table_alloc(firn_catalog *cat, const char *ns, const char *name) {
    firn_ice_table *t = firn_xcalloc(1, sizeof *t);
    t->catalog = cat;
    t->ns = firn_xstrdup(ns);
    t->name = firn_xstrdup(name);
    return t;
}

void firn_ice_table_free(firn_ice_table *t) {
    if (!t) return;
    firn_ice_metadata_free(t->metadata);
    firn_ice_list_cache_free(t->list_cache);
    firn_io_free(t->io);
    free(t->ns);
    free(t->name);
    free(t->metadata_location);
    free(t);
}

static firn_cat_ident table_ident(const firn_ice_table *t) {
    firn_cat_ident id = {t->ns, t->name};
    return id;
}

int firn_ice_table_create(firn_catalog *cat, const char *ns, const char *name,
                          const firn_ice_schema *schema, const firn_ice_partition_spec *spec,
                          const firn_ice_sort_order *order, const firn_ice_table_options *opts,
                          firn_ice_table **out, firn_error *err) {
    ICE_ERR_GUARD(err);
    *out = NULL;
    firn_cat_ident id = {ns, name};
    int rc = firn_cat_check_ident(&id, err);
    if (rc) return rc;
    firn_ice_table_options none = {0};
    if (!opts) opts = &none;

    bool exists = false;
    rc = firn_cat_table_exists(cat, &id, &exists, err);
    if (rc) return rc;
    if (exists) {
        rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT, "cannot create table '%s.%s': it already exists",
                        ns, name);
        err->retriable = false;
        return rc;
    }

    firn_arena a;
    firn_arena_init(&a, 4096);
    firn_ice_table *t = NULL;
    firn_ice_metadata *md = NULL;
    const char *location;
    if (opts->location) {
        char *loc;
        rc = firn_io_uri_normalize(opts->location, &a, &loc, err);
        location = loc;
    } else {
        rc = firn_cat_default_location(cat, &id, &a, &location, err);
    }
    if (rc) goto done;

    /* firn's defaults, then the caller's properties over them */
    size_t np = 0;
    firn_ice_kv *props = firn_arena_alloc(
        &a, (firn_ice_table_ndefault_properties + opts->nproperties + 1) * sizeof *props);
    for (size_t i = 0; i < firn_ice_table_ndefault_properties; i++) {
        bool overridden = false;
        for (size_t j = 0; j < opts->nproperties; j++)
            if (strcmp(opts->properties[j].key, firn_ice_table_default_properties[i].key) == 0)
                overridden = true;
        if (!overridden) props[np++] = firn_ice_table_default_properties[i];
    }
    for (size_t j = 0; j < opts->nproperties; j++) props[np++] = opts->properties[j];

    md = firn_ice_metadata_new(schema, spec, order, location, props, np,
                               opts->format_version ? opts->format_version : 2, now_ms(), err);
    if (!md) {
        rc = FIRN_WRAP(err, err->kind, "cannot create table '%s.%s'", ns, name);
        goto done;
    }
    t = table_alloc(cat, ns, name);
    rc = firn_io_new_for_uri(md->location, &t->io, err);
    if (rc) goto done;
    char *mloc = new_metadata_location(md, 0);
    rc = write_metadata_file(t->io, md, mloc, err);
    if (rc) {
        free(mloc);
        goto done;
    }
    firn_io_crash_point("create.after-metadata-write");
    rc = firn_cat_create_table(cat, &id, mloc, err);
    if (rc) {
        /* a definite refusal (name taken, namespace missing, bad name): the
         * file is ours alone; otherwise the insert may have landed: keep it */
        if (err->kind == FIRN_ERR_CONFLICT || err->kind == FIRN_ERR_NOT_FOUND ||
            err->kind == FIRN_ERR_INVALID) {
            firn_error e2;
            firn_error_init(&e2);
            firn_io_delete(t->io, mloc, &e2);
            firn_error_release(&e2);
        }
        free(mloc);
        FIRN_WRAP(err, err->kind, "cannot create table '%s.%s'", ns, name);
        goto done;
    }
    firn_io_crash_point("create.after-catalog-insert");
    t->metadata_location = mloc;
    t->metadata = md;
    md = NULL;
    write_version_hint(t->io, t->metadata_location);
    *out = t;
    t = NULL;
done:
    firn_ice_metadata_free(md);
    firn_ice_table_free(t);
    firn_arena_release(&a);
    return rc;
}

int firn_ice_table_load(firn_catalog *cat, const char *ns, const char *name,
                        firn_ice_table **out, firn_error *err) {
    ICE_ERR_GUARD(err);
    *out = NULL;
    firn_ice_table *t = table_alloc(cat, ns, name);
    int rc = firn_ice_table_refresh(t, err);
    if (rc) {
        firn_ice_table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int firn_ice_table_refresh(firn_ice_table *t, firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_arena a;
    firn_arena_init(&a, 1024);
    firn_cat_ident id = table_ident(t);
    firn_cat_table row;
    int rc = firn_cat_load_table(t->catalog, &id, &a, &row, err);
    if (rc) goto done;
    if (t->metadata_location && strcmp(t->metadata_location, row.metadata_location) == 0)
        goto done;
    if (!t->io) {
        rc = firn_io_new_for_uri(row.metadata_location, &t->io, err);
        if (rc) goto done;
    }
    firn_ice_metadata *md = read_metadata_file(t->io, row.metadata_location, err);
    if (!md) {
        rc = -err->kind;
        FIRN_WRAP(err, err->kind, "cannot load table '%s.%s'", t->ns, t->name);
        goto done;
    }
    if (t->metadata && t->metadata->table_uuid[0] && md->table_uuid[0] &&
        strcmp(t->metadata->table_uuid, md->table_uuid) != 0) {
        rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                        "table '%s.%s' was replaced: its uuid changed from %s to %s", t->ns,
                        t->name, t->metadata->table_uuid, md->table_uuid);
        err->retriable = false;
        firn_ice_metadata_free(md);
        goto done;
    }
    firn_ice_metadata_free(t->metadata);
    t->metadata = md;
    free(t->metadata_location);
    t->metadata_location = firn_xstrdup(row.metadata_location);
done:
    firn_arena_release(&a);
    return rc;
}

/* ------------------------------------------------------------ commits */

typedef struct pending {
    firn_ice_table *t;
    const firn_ice_update *updates;
    size_t nupdates;
    firn_ice_metadata *next; /* built by this attempt */
    char *next_location;     /* written by this attempt */
} pending;

typedef struct commit_run {
    pending *p;
    size_t n;
    firn_ice_commit_state state;
    char last_location[1024];
} commit_run;

static void discard_attempt(commit_run *run, bool delete_files) {
    for (size_t i = 0; i < run->n; i++) {
        pending *p = &run->p[i];
        if (delete_files && p->next_location) {
            firn_error e;
            firn_error_init(&e);
            firn_io_delete(p->t->io, p->next_location, &e);
            firn_error_release(&e);
        }
        free(p->next_location);
        p->next_location = NULL;
        firn_ice_metadata_free(p->next);
        p->next = NULL;
    }
}

/* The new metadata for one table on its current base (p->next), not written. */
static int build_next(pending *p, firn_error *err) {
    firn_ice_table *t = p->t;
    const firn_ice_metadata *base = t->metadata;
    firn_ice_metadata *next = firn_ice_metadata_copy(base, err);
    if (!next) return -err->kind;
    p->next = next;
    int64_t now = now_ms();
    firn_ice_metadata_set_last_updated_ms(next, now > base->last_updated_ms ? now
                                                                            : base->last_updated_ms);
    for (size_t i = 0; i < p->nupdates; i++) {
        int rc = p->updates[i].apply(p->updates[i].ctx, next, err);
        if (rc) {
            FIRN_WRAP(err, err->kind ? err->kind : FIRN_ERR_INVALID,
                      "cannot commit to table '%s.%s'", t->ns, t->name);
            err->retriable = false; /* the change itself is refused: retrying cannot help */
            return rc;
        }
    }
    if (firn_ice_metadata_append_metadata_log(next, base->last_updated_ms, t->metadata_location,
                                              err) ||
        firn_ice_metadata_validate(next, err)) {
        err->retriable = false;
        return FIRN_WRAP(err, err->kind, "cannot commit to table '%s.%s'", t->ns, t->name);
    }
    return 0;
}

/* The new metadata for one table on its current base, written to a new file. */
static int build_and_write(pending *p, firn_error *err) {
    firn_ice_table *t = p->t;
    int rc = build_next(p, err);
    if (rc) return rc;
    firn_ice_metadata *next = p->next;
    int version = firn_ice_metadata_file_version(t->metadata_location);
    p->next_location = new_metadata_location(next, version + 1);
    rc = write_metadata_file(t->io, next, p->next_location, err);
    if (rc) {
        free(p->next_location); /* not published: nothing to delete */
        p->next_location = NULL;
    }
    return rc;
}

/* After the swap: adopt the new metadata, then best-effort housekeeping. */
static void after_success(pending *p) {
    firn_ice_table *t = p->t;
    firn_ice_metadata *base = t->metadata;
    firn_ice_metadata *next = p->next;
    t->metadata = next;
    free(t->metadata_location);
    t->metadata_location = p->next_location;
    p->next = NULL;
    p->next_location = NULL;
    write_version_hint(t->io, t->metadata_location);
    firn_io_crash_point("commit.after-version-hint");
    const char *v = firn_ice_metadata_property(next, "write.metadata.delete-after-commit.enabled");
    if (v && strcasecmp(v, "true") == 0) {
        /* Java's CatalogUtil.deleteRemovedMetadataFiles: base's log minus the new log */
        const char **gone = firn_xmalloc((base->nmetadata_log + 1) * sizeof *gone);
        size_t ngone = 0;
        for (size_t i = 0; i < base->nmetadata_log; i++) {
            const char *f = base->metadata_log[i].metadata_file;
            bool kept = false;
            for (size_t j = 0; j < next->nmetadata_log && !kept; j++)
                kept = strcmp(next->metadata_log[j].metadata_file, f) == 0;
            if (!kept && strcmp(f, t->metadata_location) != 0) gone[ngone++] = f;
        }
        if (ngone) {
            firn_error e;
            firn_error_init(&e);
            firn_io_delete_batch(t->io, gone, ngone, NULL, &e);
            firn_error_release(&e);
        }
        free(gone);
    }
    firn_io_crash_point("commit.after-metadata-cleanup");
    firn_ice_metadata_free(base);
}

/* Whether the catalog now shows location as current or in the current metadata-log
 * (Java's checkCommitStatus: a later commit may have built on ours). */
static bool landed(firn_ice_table *t, const char *location) {
    firn_error e;
    firn_error_init(&e);
    firn_arena a;
    firn_arena_init(&a, 1024);
    bool found = false;
    firn_cat_ident id = table_ident(t);
    firn_cat_table row;
    if (firn_cat_load_table(t->catalog, &id, &a, &row, &e) == 0) {
        if (strcmp(row.metadata_location, location) == 0) {
            found = true;
        } else {
            firn_ice_metadata *md = read_metadata_file(t->io, row.metadata_location, &e);
            for (size_t i = 0; md && i < md->nmetadata_log && !found; i++)
                found = strcmp(md->metadata_log[i].metadata_file, location) == 0;
            firn_ice_metadata_free(md);
        }
    }
    firn_error_release(&e);
    firn_arena_release(&a);
    return found;
}

/*
 * An attempt on a catalog that takes changes (REST): the new metadata is
 * built as usual, sent as requirements + updates (firn_ice_metadata_diff),
 * and the catalog writes the metadata file; the table then adopts the file
 * the catalog wrote. Nothing is written here, so a failure has nothing to
 * delete; version-hint and metadata cleanup are the catalog's.
 */
static int commit_attempt_changes(commit_run *run, int attempt, firn_error *err) {
    int rc = 0;
    if (attempt > 1)
        for (size_t i = 0; i < run->n && rc == 0; i++) rc = firn_ice_table_refresh(run->p[i].t, err);
    firn_cat_change *cs = firn_xcalloc(run->n, sizeof *cs);
    char **texts = firn_xcalloc(2 * run->n, sizeof *texts);
    for (size_t i = 0; i < run->n && rc == 0; i++) {
        pending *p = &run->p[i];
        rc = build_next(p, err);
        struct json_t *req = NULL, *up = NULL;
        if (rc == 0) rc = firn_ice_metadata_diff(p->t->metadata, p->next, &req, &up, err);
        if (rc) {
            err->retriable = false;
            break;
        }
        texts[2 * i] = json_dumps(req, JSON_COMPACT);
        texts[2 * i + 1] = json_dumps(up, JSON_COMPACT);
        json_decref(req);
        json_decref(up);
        cs[i].ident = table_ident(p->t);
        cs[i].requirements_json = texts[2 * i];
        cs[i].updates_json = texts[2 * i + 1];
    }
    firn_cat_outcome outcome = FIRN_CAT_NOT_COMMITTED;
    if (rc == 0) rc = firn_cat_commit_changes(run->p[0].t->catalog, cs, run->n, &outcome, err);
    for (size_t i = 0; i < 2 * run->n; i++) free(texts[i]);
    free(texts);
    if (rc) {
        if (outcome == FIRN_CAT_OUTCOME_UNKNOWN) {
            run->state = FIRN_ICE_COMMIT_UNKNOWN;
            err->retriable = false;
        }
        for (size_t i = 0; i < run->n; i++) free(cs[i].new_location);
        free(cs);
        discard_attempt(run, false);
        return rc;
    }
    run->state = FIRN_ICE_COMMIT_DONE;
    snprintf(run->last_location, sizeof run->last_location, "%s",
             cs[0].new_location ? cs[0].new_location : "");
    for (size_t i = 0; i < run->n; i++) {
        pending *p = &run->p[i];
        firn_ice_table *t = p->t;
        /* adopt the catalog's file; if it cannot be read, the metadata built here
         * (the same content but for the logs) stands in until the next refresh */
        firn_error e;
        firn_error_init(&e);
        firn_ice_metadata *md = cs[i].new_location
                                    ? read_metadata_file(t->io, cs[i].new_location, &e)
                                    : NULL;
        firn_error_release(&e);
        firn_ice_metadata_free(t->metadata);
        t->metadata = md ? md : p->next;
        if (md) firn_ice_metadata_free(p->next);
        p->next = NULL;
        if (cs[i].new_location) {
            free(t->metadata_location);
            t->metadata_location = cs[i].new_location;
        }
    }
    free(cs);
    return 0;
}

/*
 * One attempt. Every attempt starts from the catalog's current metadata (a
 * refresh costs one catalog read when nothing changed), as Java's
 * SnapshotProducer.apply() does: the base the caller loaded may be old by now.
 *
 * A retry (attempt > 1) runs under the catalog's commit lock: refresh, re-apply,
 * write the metadata file and swap while no other writer of the catalog can
 * swap. Without it a writer among several that commit back to back loses each
 * attempt with a fixed chance (the others do not back off: they keep
 * committing), so some commits lost 5 races in a row and failed with Java's
 * default 4 retries. The lock is held for one re-apply (a manifest list and a
 * metadata file; data files and manifests are written once, before the first
 * attempt); the swap inside is still a compare-and-swap.
 */
static int commit_attempt(void *ctx, int attempt, firn_error *err) {
    commit_run *run = ctx;
    if (firn_cat_takes_changes(run->p[0].t->catalog)) return commit_attempt_changes(run, attempt, err);
    firn_catalog *cat = run->p[0].t->catalog;
    bool locked = false;
    int rc = attempt > 1 ? firn_cat_commit_lock(cat, &locked, err) : 0;
    for (size_t i = 0; i < run->n && rc == 0; i++) rc = firn_ice_table_refresh(run->p[i].t, err);
    for (size_t i = 0; i < run->n && rc == 0; i++) rc = build_and_write(&run->p[i], err);
    if (rc) {
        if (locked) firn_cat_commit_unlock(cat);
        discard_attempt(run, true);
        return rc;
    }
    snprintf(run->last_location, sizeof run->last_location, "%s", run->p[0].next_location);
    firn_io_crash_point("commit.after-metadata-write");

    firn_cat_outcome outcome = FIRN_CAT_NOT_COMMITTED;
    firn_cat_commit *cs = firn_xcalloc(run->n, sizeof *cs);
    for (size_t i = 0; i < run->n; i++) {
        cs[i].ident = table_ident(run->p[i].t);
        cs[i].old_location = run->p[i].t->metadata_location;
        cs[i].new_location = run->p[i].next_location;
    }
    rc = firn_cat_commit_tables(cat, cs, run->n, &outcome, err);
    free(cs);
    if (rc && outcome == FIRN_CAT_OUTCOME_UNKNOWN) {
        /* find out; never delete what may be committed */
        bool all = true;
        for (size_t i = 0; i < run->n; i++)
            if (!landed(run->p[i].t, run->p[i].next_location)) all = false;
        if (!all) {
            run->state = FIRN_ICE_COMMIT_UNKNOWN;
            err->retriable = false;
            discard_attempt(run, false);
            return rc;
        }
        firn_error_release(err);
        rc = 0;
    }
    if (rc) {
        discard_attempt(run, true); /* certainly not committed */
        return rc;
    }
    firn_io_crash_point("commit.after-catalog-swap");
    run->state = FIRN_ICE_COMMIT_DONE;
    for (size_t i = 0; i < run->n; i++) after_success(&run->p[i]);
    return 0;
}

static void retry_policy_for(const firn_ice_metadata *md, firn_cat_retry_policy *pol) {
    firn_cat_retry_policy_default(pol);
    const char **keys = firn_xmalloc((md->nproperties + 1) * sizeof *keys);
    const char **values = firn_xmalloc((md->nproperties + 1) * sizeof *values);
    for (size_t i = 0; i < md->nproperties; i++) {
        keys[i] = md->properties[i].key;
        values[i] = md->properties[i].value;
    }
    firn_cat_props props = {md->nproperties, keys, values};
    firn_cat_retry_policy tmp = *pol;
    firn_error e;
    firn_error_init(&e);
    if (firn_cat_retry_policy_from_props(&tmp, &props, &e) == 0) *pol = tmp;
    firn_error_release(&e);
    free(keys);
    free(values);
}

int firn_ice_table_commit_multi(const firn_ice_table_change *changes, size_t n,
                                firn_ice_commit_info *info, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (info) {
        memset(info, 0, sizeof *info);
        info->state = FIRN_ICE_COMMIT_FAILED;
    }
    size_t nupdates = 0;
    for (size_t i = 0; i < n; i++) nupdates += changes[i].nupdates;
    if (nupdates == 0) { /* nothing to commit (Java returns early too) */
        if (info) {
            info->state = FIRN_ICE_COMMIT_DONE;
            if (n && changes[0].table && changes[0].table->metadata_location)
                snprintf(info->metadata_location, sizeof info->metadata_location, "%s",
                         changes[0].table->metadata_location);
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!changes[i].table || !changes[i].table->metadata)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "commit: change %zu has no loaded table", i);
        if (changes[i].table->catalog != changes[0].table->catalog)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "commit: tables of one multi-table commit must share a catalog");
        for (size_t j = 0; j < changes[i].nupdates; j++)
            if (!changes[i].updates[j].apply)
                return FIRN_RAISE(err, FIRN_ERR_INVALID, "commit: update %zu has no apply", j);
    }
    commit_run run = {0};
    run.n = n;
    run.p = firn_xcalloc(n, sizeof *run.p);
    for (size_t i = 0; i < n; i++) {
        run.p[i].t = changes[i].table;
        run.p[i].updates = changes[i].updates;
        run.p[i].nupdates = changes[i].nupdates;
    }
    firn_cat_retry_policy pol;
    retry_policy_for(changes[0].table->metadata, &pol);
    int attempts = 0;
    int rc = firn_cat_retry(&pol, commit_attempt, &run, &attempts, err);
    discard_attempt(&run, false); /* nothing left on success or an unknown outcome */
    if (rc && run.state == FIRN_ICE_COMMIT_DONE) run.state = FIRN_ICE_COMMIT_FAILED;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < changes[i].nupdates; j++)
            if (changes[i].updates[j].finish)
                changes[i].updates[j].finish(changes[i].updates[j].ctx, run.state);
    if (info) {
        info->attempts = attempts;
        info->state = run.state;
        if (run.state != FIRN_ICE_COMMIT_FAILED)
            snprintf(info->metadata_location, sizeof info->metadata_location, "%s",
                     run.last_location);
    }
    free(run.p);
    return rc;
}

int firn_ice_table_commit(firn_ice_table *t, const firn_ice_update *updates, size_t n,
                          firn_ice_commit_info *info, firn_error *err) {
    firn_ice_table_change c = {t, updates, n};
    return firn_ice_table_commit_multi(&c, 1, info, err);
}

/* ------------------------------------------------------------ property updates */

static int apply_properties(void *ctx, firn_ice_metadata *md, firn_error *err) {
    const firn_ice_properties_update *pu = ctx;
    if (pu->nset && firn_ice_metadata_set_properties(md, pu->set, pu->nset, err)) return -err->kind;
    if (pu->nremove && firn_ice_metadata_remove_properties(md, pu->remove, pu->nremove, err))
        return -err->kind;
    return 0;
}

firn_ice_update firn_ice_update_properties(const firn_ice_properties_update *pu) {
    firn_ice_update u = {apply_properties, NULL, (void *)pu};
    return u;
}

/* ------------------------------------------------------------ refs */

bool firn_ice_metadata_is_ancestor(const firn_ice_metadata *md, int64_t ancestor_id,
                                   int64_t snapshot_id) {
    const firn_ice_snapshot *s = firn_ice_metadata_snapshot(md, snapshot_id);
    for (size_t steps = 0; s && steps <= md->nsnapshots; steps++) {
        if (s->snapshot_id == ancestor_id) return true;
        if (!s->has_parent) return false;
        s = firn_ice_metadata_snapshot(md, s->parent_snapshot_id);
    }
    return false;
}

static const char *ref_kind(firn_ice_ref_type t) { return t == FIRN_ICE_REF_TAG ? "tag" : "branch"; }

int firn_ice_metadata_apply_ref_update(firn_ice_metadata *md, const firn_ice_ref_update *ru,
                                       firn_error *err) {
    ICE_ERR_GUARD(err);
    if (!ru->name || !*ru->name) return FIRN_RAISE(err, FIRN_ERR_INVALID, "a ref needs a name");
    const firn_ice_ref *cur = firn_ice_metadata_ref(md, ru->name);
    firn_ice_ref_type type = ru->type ? ru->type : FIRN_ICE_REF_BRANCH;
    switch (ru->op) {
    case FIRN_ICE_REF_CREATE:
    case FIRN_ICE_REF_REPLACE: {
        if (ru->op == FIRN_ICE_REF_CREATE && cur)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot create %s '%s': ref '%s' already exists",
                              ref_kind(type), ru->name, ru->name);
        if (ru->op == FIRN_ICE_REF_REPLACE) {
            if (!cur)
                return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "cannot replace %s '%s': it does not exist",
                                  ref_kind(type), ru->name);
            if (cur->type != type)
                return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot replace %s '%s': it is a %s",
                                  ref_kind(type), ru->name, ref_kind(cur->type));
        }
        int64_t sid = ru->snapshot_id;
        if (sid == -1) sid = md->current_snapshot_id;
        if (sid == -1)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "cannot point %s '%s' at the current snapshot: the table has none",
                              ref_kind(type), ru->name);
        if (!firn_ice_metadata_snapshot(md, sid))
            return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "cannot point %s '%s' at snapshot %lld: no such snapshot",
                              ref_kind(type), ru->name, (long long)sid);
        firn_ice_ref r = cur ? *cur : firn_ice_ref_make(ru->name, sid, type);
        r.snapshot_id = sid;
        return firn_ice_metadata_set_snapshot_ref(md, &r, err);
    }
    case FIRN_ICE_REF_REMOVE:
        if (type == FIRN_ICE_REF_BRANCH && strcmp(ru->name, FIRN_ICE_MAIN_BRANCH) == 0)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot remove the main branch");
        if (!cur)
            return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "cannot remove %s '%s': it does not exist",
                              ref_kind(type), ru->name);
        if (cur->type != type)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot remove %s '%s': it is a %s",
                              ref_kind(type), ru->name, ref_kind(cur->type));
        return firn_ice_metadata_remove_snapshot_ref(md, ru->name, err);
    case FIRN_ICE_REF_FAST_FORWARD: {
        if (!ru->source || !*ru->source)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "fast-forward of '%s' needs a source ref",
                              ru->name);
        const firn_ice_ref *src = firn_ice_metadata_ref(md, ru->source);
        if (!src)
            return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND,
                              "cannot fast-forward '%s' to '%s': ref '%s' does not exist", ru->name,
                              ru->source, ru->source);
        if (!cur) { /* Java creates the branch */
            firn_ice_ref r = firn_ice_ref_make(ru->name, src->snapshot_id, FIRN_ICE_REF_BRANCH);
            return firn_ice_metadata_set_snapshot_ref(md, &r, err);
        }
        if (cur->type != FIRN_ICE_REF_BRANCH)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "cannot fast-forward '%s': it is a tag, not a branch", ru->name);
        if (cur->snapshot_id == src->snapshot_id) return 0;
        if (!firn_ice_metadata_is_ancestor(md, cur->snapshot_id, src->snapshot_id)) {
            int rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                                "cannot fast-forward '%s' to '%s': '%s' (snapshot %lld) is not an "
                                "ancestor of '%s' (snapshot %lld); the branches have diverged",
                                ru->name, ru->source, ru->name, (long long)cur->snapshot_id,
                                ru->source, (long long)src->snapshot_id);
            err->retriable = false;
            return rc;
        }
        firn_ice_ref r = *cur;
        r.snapshot_id = src->snapshot_id;
        return firn_ice_metadata_set_snapshot_ref(md, &r, err);
    }
    }
    return FIRN_RAISE(err, FIRN_ERR_INVALID, "unknown ref operation %d", (int)ru->op);
}

static int apply_ref(void *ctx, firn_ice_metadata *md, firn_error *err) {
    return firn_ice_metadata_apply_ref_update(md, ctx, err);
}

firn_ice_update firn_ice_update_ref(const firn_ice_ref_update *ru) {
    firn_ice_update u = {apply_ref, NULL, (void *)ru};
    return u;
}

int firn_ice_table_update_ref(firn_ice_table *t, const firn_ice_ref_update *ru, firn_error *err) {
    firn_ice_update u = firn_ice_update_ref(ru);
    return firn_ice_table_commit(t, &u, 1, NULL, err);
}
