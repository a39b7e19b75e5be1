/* admin.c - POST /api/v1/admin/...: operations that change tables, behind an
 * admin token (server.c checks it before the body is read):
 *   /maintain[?table=NAME][&dry_run=true]   the maintenance policy now, on one
 *       table or every table of the catalog (compact, rewrite manifests,
 *       expire snapshots, clean metadata, remove orphans; maintain.* settings
 *       as `firn run` uses them), recorded like scheduled runs;
 *   /publish[?branch=dev][&namespace=production][&dry_run=true]   the
 *       catalog-wide fast-forward of `firn publish`.
 * Answers are JSON (docs/api.md). */
#include "server/server_internal.h"

#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "maintain/maintain.h"

#include <stdlib.h>
#include <string.h>

static int status_of(const firn_error *err) {
    switch (err->kind) {
    case FIRN_ERR_NOT_FOUND: return 404;
    case FIRN_ERR_INVALID: return 400;
    case FIRN_ERR_CONFLICT: return 409;
    default: return 500;
    }
}

/* ?NAME=true|1|yes (false when absent); -1 for anything else. */
static int arg_bool(const firn_request *q, const char *name) {
    const char *v = firn_request_arg(q, name);
    if (!v || !*v || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) return 0;
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) return 1;
    return -1;
}

/* The error as the reply, with what was done before it (done: taken). */
static void reply_failed(firn_reply *r, firn_error *err, json_t *done) {
    char buf[1024];
    json_t *j = json_object();
    json_object_set_new(j, "error", json_string(firn_error_format(err, buf, sizeof buf)));
    json_object_set_new(j, "status", json_integer(status_of(err)));
    if (done) json_object_set_new(j, "done", done);
    firn_reply_json(r, status_of(err), j);
    firn_error_release(err);
}

static json_t *maintain_json(const char *table, const firn_maintain_result *m) {
    json_t *x = json_object();
    json_object_set_new(x, "table", json_string(table));
    json_object_set_new(x, "snapshots_expired", json_integer((json_int_t)m->snapshots_expired));
    json_object_set_new(x, "refs_removed", json_integer((json_int_t)m->refs_removed));
    json_object_set_new(x, "data_files_deleted", json_integer((json_int_t)m->data_files_deleted));
    json_object_set_new(x, "manifests_deleted", json_integer((json_int_t)m->manifests_deleted));
    json_object_set_new(x, "manifest_lists_deleted", json_integer((json_int_t)m->manifest_lists_deleted));
    json_object_set_new(x, "metadata_files_deleted", json_integer((json_int_t)m->metadata_files_deleted));
    json_object_set_new(x, "orphans_deleted", json_integer((json_int_t)m->orphans_deleted));
    json_object_set_new(x, "bytes_reclaimed", json_integer(m->bytes_reclaimed));
    json_object_set_new(x, "files_rewritten", json_integer((json_int_t)m->files_rewritten));
    json_object_set_new(x, "files_written", json_integer((json_int_t)m->files_written));
    json_object_set_new(x, "manifests_rewritten", json_integer((json_int_t)m->manifests_rewritten));
    json_object_set_new(x, "manifests_written", json_integer((json_int_t)m->manifests_written));
    json_object_set_new(x, "commits", json_integer((json_int_t)m->commits));
    json_object_set_new(x, "duration_ms", json_integer(m->duration_ms));
    return x;
}

static void maintain(firn_server *s, const firn_request *q, firn_catalog *cat, firn_reply *r) {
    const firn_config *cfg = s->cfg;
    firn_error err;
    firn_error_init(&err);
    int dry = arg_bool(q, "dry_run");
    if (dry < 0) return firn_reply_error(r, 400, "dry_run: want true or false");
    const char *one = firn_request_arg(q, "table");
    firn_arena a;
    firn_arena_init(&a, 0);
    const char **names = NULL;
    size_t n = 0;
    if (one && *one) {
        names = firn_arena_alloc(&a, sizeof *names);
        names[0] = one;
        n = 1;
    } else if (firn_api_all_tables(cat, &a, &names, &n, &err)) {
        firn_arena_release(&a);
        return reply_failed(r, &err, NULL);
    }
    firn_maintain_options o;
    firn_maintain_options_init(&o);
    o.dry_run = dry == 1;
    o.min_input_files = (int)cfg->compact_min_files;
    o.target_size = cfg->compact_target_file_bytes;
    o.older_than_ms = cfg->expire_older_than_us / 1000;
    o.retain_last = (int)cfg->expire_retain_last;
    o.orphan_margin_ms = cfg->orphans_older_than_us / 1000;
    json_t *done = json_array();
    for (size_t i = 0; i < n; i++) {
        firn_cat_ident id;
        firn_ice_table *t = NULL;
        int rc = firn_cat_ident_parse(names[i], &a, &id, &err);
        if (!rc) rc = firn_cat_check_ident(&id, &err);
        if (!rc) rc = firn_ice_table_load(cat, id.ns, id.name, &t, &err);
        firn_maintain_result res;
        memset(&res, 0, sizeof res);
        if (!rc) rc = firn_maintain_all(t, &o, &res, &err);
        firn_ice_table_free(t);
        if (rc) {
            firn_error_context(&err, "maintain %s", names[i]);
            firn_maintain_result_release(&res);
            firn_arena_release(&a);
            if (one && *one && err.kind == FIRN_ERR_NOT_FOUND) {
                json_decref(done);
                done = NULL;
            }
            return reply_failed(r, &err, done);
        }
        if (!o.dry_run) firn_server_record_maintenance(names[i], "all", &res);
        json_array_append_new(done, maintain_json(names[i], &res));
        firn_maintain_result_release(&res);
    }
    firn_arena_release(&a);
    json_t *j = json_object();
    json_object_set_new(j, "dry_run", json_boolean(o.dry_run));
    json_object_set_new(j, "tables", done);
    firn_reply_json(r, 200, j);
}

static void publish(const firn_request *q, firn_catalog *cat, firn_reply *r) {
    firn_error err;
    firn_error_init(&err);
    int dry = arg_bool(q, "dry_run");
    if (dry < 0) return firn_reply_error(r, 400, "dry_run: want true or false");
    const char *branch = firn_request_arg(q, "branch");
    const char *ns = firn_request_arg(q, "namespace");
    if (!branch || !*branch) branch = "dev";
    if (!ns || !*ns) ns = "production";
    firn_ice_publish_result res;
    if (firn_ice_publish(cat, ns, branch, dry == 1, &res, &err)) {
        firn_error_context(&err, "publish %s of %s", branch, ns);
        return reply_failed(r, &err, NULL);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < res.ntables; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "table", json_string(res.tables[i].name));
        json_object_set_new(x, "from_snapshot_id", res.tables[i].from_snapshot_id >= 0
                                                       ? json_integer(res.tables[i].from_snapshot_id)
                                                       : json_null());
        json_object_set_new(x, "to_snapshot_id", json_integer(res.tables[i].to_snapshot_id));
        json_array_append_new(arr, x);
    }
    json_t *j = json_object();
    json_object_set_new(j, "namespace", json_string(ns));
    json_object_set_new(j, "branch", json_string(branch));
    json_object_set_new(j, "dry_run", json_boolean(dry == 1));
    json_object_set_new(j, "tables_seen", json_integer((json_int_t)res.tables_seen));
    json_object_set_new(j, "published", arr);
    firn_ice_publish_release(&res);
    firn_reply_json(r, 200, j);
}

void firn_admin_handle(firn_server *s, const firn_request *q, const char *path, firn_reply *r) {
    bool is_maintain = !strcmp(path, "/maintain"), is_publish = !strcmp(path, "/publish");
    if (!is_maintain && !is_publish) return firn_reply_error(r, 404, "no such path: /api/v1/admin%s", path);
    firn_error err;
    firn_error_init(&err);
    firn_catalog *cat = NULL;
    if (firn_api_open_catalog(s, &cat, &err)) {
        char buf[512];
        firn_reply_error(r, 503, "%s", firn_error_format(&err, buf, sizeof buf));
        firn_error_release(&err);
        return;
    }
    if (is_maintain) maintain(s, q, cat, r);
    else publish(q, cat, r);
    firn_cat_free(cat);
}
