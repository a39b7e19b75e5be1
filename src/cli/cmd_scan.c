/* cmd_scan.c - `firn scan`: read a table's rows (time travel, filters,
 * projection, incremental reads), and the row printer that `firn inspect`
 * shares (jsonl, csv, aligned table).
 *
 *   firn scan NS.TABLE [--ref R | --snapshot ID | --as-of TIME] [--where EXPR]
 *                      [--columns a,b] [--limit N] [--format jsonl|csv|table|parquet]
 *                      [--output FILE] [--changes-since SNAPSHOT_ID]
 */
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "iceberg/iceberg.h"
#include "io/io.h"
#include "parquet/parquet.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: firn scan NS.TABLE [--ref R | --snapshot ID | --as-of TIME] [--where EXPR]\n"
    "                 [--columns a,b] [--limit N] [--format jsonl|csv|table|parquet]\n"
    "                 [--output FILE] [--changes-since SNAPSHOT_ID] [--allow-size-mismatch]\n";

/* ------------------------------------------------------------ row printer */

int firn_cli_parse_format(const char *s, firn_cli_format *out) {
    if (strcmp(s, "jsonl") == 0) *out = FIRN_CLI_JSONL;
    else if (strcmp(s, "csv") == 0) *out = FIRN_CLI_CSV;
    else if (strcmp(s, "table") == 0) *out = FIRN_CLI_TABLE;
    else if (strcmp(s, "parquet") == 0) *out = FIRN_CLI_PARQUET;
    else return -1;
    return 0;
}

void firn_cli_out_begin(firn_cli_out *o, firn_cli_format format, const char *const *cols,
                        size_t ncols) {
    memset(o, 0, sizeof *o);
    o->format = format;
    o->cols = cols;
    o->ncols = ncols;
    if (format == FIRN_CLI_TABLE) o->rows = json_array();
}

/* Display width: UTF-8 code points. */
static size_t text_width(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A cell as text: strings raw, null empty, the rest compact JSON. malloc'd. */
static char *cell_text(const json_t *v) {
    if (!v || json_is_null(v)) return strdup("");
    if (json_is_string(v)) return strdup(json_string_value(v));
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void csv_field(const char *s, bool is_null) {
    if (is_null) return;
    if (!*s || strpbrk(s, ",\"\r\n")) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"') putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
}

void firn_cli_out_row(firn_cli_out *o, struct json_t *row) {
    o->nrows++;
    if (o->format == FIRN_CLI_JSONL) {
        char *s = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
        puts(s);
        free(s);
    } else if (o->format == FIRN_CLI_CSV) {
        if (o->nrows == 1) {
            for (size_t i = 0; i < o->ncols; i++) {
                if (i) putchar(',');
                csv_field(o->cols[i], false);
            }
            putchar('\n');
        }
        for (size_t i = 0; i < o->ncols; i++) {
            if (i) putchar(',');
            const json_t *v = json_object_get(row, o->cols[i]);
            char *t = cell_text(v);
            csv_field(t, !v || json_is_null(v));
            free(t);
        }
        putchar('\n');
    } else if (o->format == FIRN_CLI_TABLE) {
        json_array_append(o->rows, row);
    }
    json_decref(row);
}

void firn_cli_out_end(firn_cli_out *o) {
    if (o->format == FIRN_CLI_CSV && o->nrows == 0) {
        for (size_t i = 0; i < o->ncols; i++) {
            if (i) putchar(',');
            csv_field(o->cols[i], false);
        }
        putchar('\n');
    }
    if (o->format == FIRN_CLI_TABLE) {
        size_t n = json_array_size(o->rows), nc = o->ncols;
        char **cells = calloc((n + 1) * nc + 1, sizeof *cells);
        size_t *w = calloc(nc + 1, sizeof *w);
        for (size_t c = 0; c < nc; c++) {
            cells[c] = strdup(o->cols[c]);
            w[c] = text_width(cells[c]);
        }
        for (size_t r = 0; r < n; r++)
            for (size_t c = 0; c < nc; c++) {
                char *t = cell_text(json_object_get(json_array_get(o->rows, r), o->cols[c]));
                for (char *p = t; *p; p++)
                    if (*p == '\n' || *p == '\t') *p = ' ';
                cells[(r + 1) * nc + c] = t;
                size_t l = text_width(t);
                if (l > w[c]) w[c] = l;
            }
        firn_buf line;
        firn_buf_init(&line);
        for (size_t r = 0; r <= n; r++) {
            firn_buf_clear(&line);
            for (size_t c = 0; c < nc; c++) {
                const char *t = cells[r * nc + c];
                firn_buf_append_str(&line, t);
                if (c + 1 < nc)
                    for (size_t k = text_width(t); k < w[c] + 2; k++) firn_buf_put_u8(&line, ' ');
            }
            while (line.len && line.data[line.len - 1] == ' ') line.len--;
            fwrite(line.data, 1, line.len, stdout);
            putchar('\n');
            if (r == 0) {
                for (size_t c = 0; c < nc; c++) {
                    for (size_t k = 0; k < w[c]; k++) putchar('-');
                    if (c + 1 < nc) fputs("  ", stdout);
                }
                putchar('\n');
            }
        }
        firn_buf_release(&line);
        for (size_t i = 0; i < (n + 1) * nc; i++) free(cells[i]);
        free(cells);
        free(w);
        json_decref(o->rows);
        o->rows = NULL;
    }
    fflush(stdout);
}

/* --------------------------------------------------------------- values */


/* JSON single-value form; NaN and infinities (which JSON lacks) as strings. */
json_t *firn_cli_value_json(const firn_ice_type *t, const firn_ice_value *v) {
    if (v->is_null) return json_null();
    firn_error err;
    firn_error_init(&err);
    json_t *j = firn_ice_value_to_json(t, v, &err);
    if (!j) {
        firn_buf b;
        firn_buf_init(&b);
        firn_error_release(&err);
        firn_error_init(&err);
        if (firn_ice_value_format(t, v, &b, &err) == 0) j = json_stringn(b.data ? (char *)b.data : "", b.len);
        else j = json_null();
        firn_buf_release(&b);
    }
    firn_error_release(&err);
    return j;
}

/* ----------------------------------------------------------------- scan */

/* "1700000000000" (epoch millis) or an ISO-8601 date/timestamp (UTC unless it
 * has an offset) into milliseconds. */
static int parse_time(const char *s, int64_t *ms, firn_error *err) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*s && !*end && errno == 0) {
        *ms = x;
        return 0;
    }
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_value v;
    int rc = firn_ice_value_parse(&a, firn_ice_type_primitive(FIRN_ICE_TIMESTAMPTZ), s, strlen(s),
                                  &v, err);
    firn_arena_release(&a);
    if (rc != 0) {
        firn_error_release(err);
        firn_error_init(err);
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "--as-of '%s' is neither epoch milliseconds nor an ISO-8601 "
                          "timestamp (2024-03-01T12:00:00Z)", s);
    }
    *ms = firn_ice_floor_div(v.u.i64, 1000);
    return 0;
}

static int parse_id(const char *flag, const char *s, int64_t *out, firn_error *err) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "%s '%s' is not a number", flag, s);
    *out = x;
    return 0;
}

typedef struct added_set {
    const char **paths;
    size_t n, cap;
} added_set;

static void added_put(added_set *s, firn_arena *a, const char *p) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        const char **np = firn_arena_alloc(a, cap * sizeof *np);
        if (s->n) memcpy(np, s->paths, s->n * sizeof *np);
        s->paths = np;
        s->cap = cap;
    }
    s->paths[s->n++] = firn_arena_strdup(a, p);
}

static int cmp_path(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* After added_sort: whether p is in the set. */
static bool added_has(const added_set *s, const char *p) {
    return s->n && bsearch(&p, s->paths, s->n, sizeof *s->paths, cmp_path) != NULL;
}

static void added_sort(added_set *s) {
    if (s->n) qsort(s->paths, s->n, sizeof *s->paths, cmp_path);
}

/* Data files added by the snapshots after since_id up to to_id (walking to_id's
 * parents); every snapshot in between must be an append. */
static int changes_since(const firn_ice_metadata *md, firn_io *io, int64_t since_id,
                         int64_t to_id, firn_arena *a, added_set *out, firn_error *err) {
    if (!firn_ice_metadata_snapshot(md, since_id))
        return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND,
                          "--changes-since %lld: no such snapshot (see 'firn inspect TABLE "
                          "snapshots')", (long long)since_id);
    if (to_id < 0 || !firn_ice_metadata_is_ancestor(md, since_id, to_id))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "--changes-since %lld: that snapshot is not an ancestor of the "
                          "snapshot read (%lld)", (long long)since_id, (long long)to_id);
    for (int64_t id = to_id; id != since_id;) {
        const firn_ice_snapshot *s = firn_ice_metadata_snapshot(md, id);
        if (!s)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "snapshot %lld is missing from the metadata",
                              (long long)id);
        const char *op = firn_ice_snapshot_operation(s);
        if (!op || strcmp(op, "append") != 0)
            return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                              "--changes-since %lld: snapshot %lld is a '%s' operation, not an "
                              "append; changes across it cannot be computed incrementally "
                              "(rows may have been deleted or rewritten): scan the whole table",
                              (long long)since_id, (long long)id, op ? op : "unknown");
        if (!s->manifest_list)
            return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "snapshot %lld has no manifest list (v1)",
                              (long long)id);
        firn_ice_manifest_file *mfs;
        size_t nmf;
        if (firn_ice_manifest_list_read(io, s->manifest_list, a, &mfs, &nmf, NULL, err)) return -1;
        for (size_t m = 0; m < nmf; m++) {
            if (mfs[m].added_snapshot_id != id || mfs[m].content != FIRN_ICE_CONTENT_DATA) continue;
            firn_ice_manifest_reader *r = firn_ice_manifest_reader_open(io, mfs[m].manifest_path, err);
            if (!r) return -1;
            int rc = firn_ice_manifest_reader_inherit(r, &mfs[m], err);
            if (rc == 0) rc = firn_ice_manifest_reader_skip_stats(r, true, err);
            firn_ice_manifest_entry e;
            while (rc == 0 && (rc = firn_ice_manifest_reader_next(r, a, &e, err)) == 1) {
                rc = 0;
                if (e.status == FIRN_ICE_ADDED && e.snapshot_id == id &&
                    e.data_file.content == FIRN_ICE_CONTENT_DATA)
                    added_put(out, a, e.data_file.file_path);
            }
            firn_ice_manifest_reader_free(r);
            if (rc < 0) return -1;
        }
        if (!s->has_parent) break;
        id = s->parent_snapshot_id;
    }
    added_sort(out);
    return 0;
}

static int run_scan(firn_cli_env *env, int argc, char **argv, firn_error *err) {
    const char *name = NULL, *columns = NULL, *output = NULL, *fmt = "jsonl";
    const char *snap_arg = NULL, *asof_arg = NULL, *since_arg = NULL;
    int64_t limit = -1;
    firn_ice_scan_options opts;
    firn_ice_scan_options_init(&opts);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--ref") == 0 && more) opts.ref = argv[++i];
        else if (strcmp(a, "--snapshot") == 0 && more) snap_arg = argv[++i];
        else if (strcmp(a, "--as-of") == 0 && more) asof_arg = argv[++i];
        else if (strcmp(a, "--where") == 0 && more) opts.where = argv[++i];
        else if (strcmp(a, "--columns") == 0 && more) columns = argv[++i];
        else if (strcmp(a, "--limit") == 0 && more) {
            if (parse_id("--limit", argv[++i], &limit, err) || limit < 0) {
                if (limit < 0 && !err->kind) FIRN_RAISE(err, FIRN_ERR_INVALID, "--limit must be >= 0");
                return firn_cli_fail("scan", err);
            }
        } else if (strcmp(a, "--format") == 0 && more) fmt = argv[++i];
        else if (strcmp(a, "--output") == 0 && more) output = argv[++i];
        else if (strcmp(a, "--changes-since") == 0 && more) since_arg = argv[++i];
        else if (strcmp(a, "--allow-size-mismatch") == 0) opts.allow_size_mismatch = true;
        else if (a[0] != '-' && !name) name = a;
        else return firn_cli_usage(usage);
    }
    if (!name) return firn_cli_usage(usage);
    if ((opts.ref != NULL) + (snap_arg != NULL) + (asof_arg != NULL) > 1) {
        fprintf(stderr, "firn: scan: --ref, --snapshot and --as-of are exclusive\n");
        return 2;
    }
    firn_cli_format format;
    if (firn_cli_parse_format(fmt, &format) != 0) {
        fprintf(stderr, "firn: scan: --format '%s': expected jsonl, csv, table or parquet\n", fmt);
        return 2;
    }
    if ((format == FIRN_CLI_PARQUET) != (output != NULL)) {
        fprintf(stderr, "firn: scan: --format parquet needs --output FILE (and --output "
                        "needs --format parquet)\n");
        return 2;
    }
    if (snap_arg && parse_id("--snapshot", snap_arg, &opts.snapshot_id, err))
        return firn_cli_fail("scan", err);
    if (asof_arg && parse_time(asof_arg, &opts.as_of_ms, err)) return firn_cli_fail("scan", err);
    int64_t since_id = -1;
    if (since_arg && parse_id("--changes-since", since_arg, &since_id, err))
        return firn_cli_fail("scan", err);
    if (columns) {
        char *s = firn_arena_strdup(&env->arena, columns);
        size_t n = 1;
        for (char *p = s; *p; p++) n += *p == ',';
        const char **cols = firn_arena_alloc(&env->arena, n * sizeof *cols);
        n = 0;
        for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
            while (*tok == ' ') tok++;
            char *e = tok + strlen(tok);
            while (e > tok && e[-1] == ' ') *--e = '\0';
            if (*tok) cols[n++] = tok;
        }
        opts.columns = cols;
        opts.ncolumns = n;
    }

    char what[512];
    snprintf(what, sizeof what, "scan %s", name);
    firn_ice_table *t;
    if (firn_cli_load_table(env, name, &t, err) != 0) return firn_cli_fail(what, err);
    firn_ice_scan *scan = firn_ice_scan_table(t, &opts, err);
    if (!scan) {
        firn_ice_table_free(t);
        return firn_cli_fail(what, err);
    }
    int rc = 0;
    added_set added = {0};
    firn_pq_writer *pw = NULL;
    const firn_ice_scan_stats *st = firn_ice_scan_get_stats(scan);
    if (since_arg && changes_since(t->metadata, t->io, since_id, st->snapshot_id, &env->arena,
                                   &added, err) != 0) {
        rc = firn_cli_fail(what, err);
        goto done;
    }
    size_t nf;
    const firn_ice_field *const *fields = firn_ice_scan_fields(scan, &nf);
    const char **names = firn_arena_alloc(&env->arena, (nf + 1) * sizeof *names);
    for (size_t i = 0; i < nf; i++) {
        names[i] = fields[i]->name;
        if (!firn_ice_type_is_primitive(fields[i]->type)) {
            FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                       "column '%s' is nested: firn scan prints primitive columns only "
                       "(leave it out with --columns)", fields[i]->name);
            rc = firn_cli_fail(what, err);
            goto done;
        }
    }

    if (format == FIRN_CLI_PARQUET) {
        firn_pq_column_spec *specs = firn_arena_alloc(&env->arena, (nf + 1) * sizeof *specs);
        for (size_t i = 0; i < nf; i++) {
            const firn_ice_type *ty = fields[i]->type;
            if (!firn_ice_type_is_primitive(ty)) {
                FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                           "column '%s' is nested: --format parquet writes flat columns only",
                           fields[i]->name);
                rc = firn_cli_fail(what, err);
                goto done;
            }
            firn_pq_column_spec_init(&specs[i], fields[i]->name, fields[i]->id, (firn_pq_type)firn_ice_type_to_pq(ty));
            specs[i].optional = !fields[i]->required;
            specs[i].precision = ty->precision;
            specs[i].scale = ty->scale;
            specs[i].length = ty->length;
        }
        firn_pq_writer_options po;
        firn_pq_writer_options_init(&po);
        pw = firn_pq_writer_open(output, specs, nf, &po, err);
        if (!pw) {
            snprintf(what, sizeof what, "scan %s: --output %s", name, output);
            rc = firn_cli_fail(what, err);
            goto done;
        }
    }
    firn_cli_out out;
    firn_cli_out_begin(&out, format, names, nf);
    int64_t emitted = 0;
    firn_ice_scan_batch b;
    int r = 0;
    while ((limit < 0 || emitted < limit) && (r = firn_ice_scan_next_batch(scan, &b, err)) == 1) {
        if (since_arg && !added_has(&added, b.file_path)) continue;
        size_t n = b.nrows;
        if (limit >= 0 && (int64_t)n > limit - emitted) n = (size_t)(limit - emitted);
        emitted += (int64_t)n;
        if (pw) {
            if (firn_pq_writer_write(pw, b.columns, n, err) != 0) {
                r = -1;
                break;
            }
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *row = json_object();
            for (size_t c = 0; c < nf; c++) {
                firn_ice_value v;
                firn_ice_value_from_column(fields[c]->type, &b.columns[c], i, &v);
                json_object_set_new(row, fields[c]->name, firn_cli_value_json(fields[c]->type, &v));
            }
            firn_cli_out_row(&out, row);
        }
    }
    if (limit >= 0 && emitted >= limit) r = 0;
    if (r < 0) {
        firn_cli_out_end(&out);
        rc = firn_cli_fail(what, err);
        goto done;
    }
    if (pw) {
        firn_pq_file_info info;
        if (firn_pq_writer_close(pw, &info, err) != 0) {
            rc = firn_cli_fail(what, err);
            goto done;
        }
    } else {
        firn_cli_out_end(&out);
    }
    size_t nw;
    const char *const *warn = firn_ice_scan_warnings(scan, &nw);
    for (size_t i = 0; i < nw; i++) fprintf(stderr, "firn: scan: warning: %s\n", warn[i]);
done:
    firn_pq_writer_free(pw);
    firn_ice_scan_free(scan);
    firn_ice_table_free(t);
    return rc;
}

int firn_cmd_scan(int argc, char **argv) {
    if (argc < 2) return firn_cli_usage(usage);
    firn_error err;
    firn_error_init(&err);
    firn_cli_env env;
    int rc;
    if (firn_cli_env_open(&env, &err) != 0) rc = firn_cli_fail("scan", &err);
    else rc = run_scan(&env, argc, argv, &err);
    firn_cli_env_close(&env);
    firn_error_release(&err);
    return rc;
}
