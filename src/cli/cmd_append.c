/* cmd_append.c - `firn append NS.TABLE FILE [--branch B] [--format csv|jsonl|parquet]`:
 * rows from a CSV file (with a header), JSON Lines or Parquet, into one append commit
 * (merge append: manifests merged per commit.manifest-merge.enabled, see producer.c).
 *
 * Columns are matched by name (Parquet: by field id when the file has field ids);
 * optional columns absent from the file are null; a column the table lacks, a missing
 * required column or a value that does not parse is an error naming the file, the line
 * and the column, and then nothing is committed: data files already written are deleted.
 * Rows are gathered into columnar batches of BATCH_ROWS rows and go through the table's
 * data writer (partitioning, file rolling, metrics); the data files then become one
 * snapshot on main or --branch.
 *
 * Value text (CSV fields and JSON strings) is read as Iceberg's single-value text forms
 * (firn_ice_value_parse): decimals "14.20", dates 2025-11-26, timestamps ISO-8601 with
 * 'Z' or an offset for timestamptz, uuids, binary and fixed as hex. In CSV an empty
 * unquoted field is null and "" is the empty string.
 */
#include "cli/cli.h"
#include "iceberg/iceberg.h"
#include "parquet/parquet.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BATCH_ROWS = 8192 };

static const char usage[] =
    "usage: firn append NS.TABLE FILE [--branch B] [--format csv|jsonl|parquet]\n";

typedef enum { FMT_CSV, FMT_JSONL, FMT_PARQUET } input_format;

/* ---------------------------------------------------------------- batches */

/* One column of the batch being gathered, in parquet.h's layout. */
typedef struct column {
    const firn_ice_field *field;
    size_t width;    /* bytes per value; 0 for string/binary */
    firn_buf values; /* fixed-width values, or string/binary bytes */
    firn_buf offsets; /* int64 offsets (string/binary), nrows + 1 */
    firn_buf validity;
    bool has_null;
} column;

typedef struct batch {
    size_t ncols, nrows;
    column *cols;
    firn_ice_data_writer *writer;
    firn_arena arena; /* parsed values of the current batch */
} batch;

static void column_reset(column *c) {
    firn_buf_clear(&c->values);
    firn_buf_clear(&c->offsets);
    firn_buf_clear(&c->validity);
    c->has_null = false;
    if (!c->width) {
        int64_t zero = 0;
        firn_buf_append(&c->offsets, &zero, 8);
    }
}

/* Append v (NULL or is_null: a null) to c. */
static void column_put(column *c, const firn_ice_value *v) {
    bool null = !v || v->is_null;
    firn_buf_put_u8(&c->validity, null ? 0 : 1);
    c->has_null |= null;
    if (!c->width) {
        if (!null) firn_buf_append(&c->values, v->u.bin.ptr, v->u.bin.len);
        int64_t off = (int64_t)c->values.len;
        firn_buf_append(&c->offsets, &off, 8);
        return;
    }
    uint8_t *p = firn_buf_extend(&c->values, c->width);
    memset(p, 0, c->width);
    if (null) return;
    const firn_ice_type *t = c->field->type;
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: p[0] = v->u.b ? 1 : 0; break;
    case FIRN_ICE_INT:
    case FIRN_ICE_DATE: memcpy(p, &v->u.i32, 4); break;
    case FIRN_ICE_FLOAT: memcpy(p, &v->u.f32, 4); break;
    case FIRN_ICE_DOUBLE: memcpy(p, &v->u.f64, 8); break;
    case FIRN_ICE_UUID: memcpy(p, v->u.uuid, 16); break;
    case FIRN_ICE_FIXED: memcpy(p, v->u.bin.ptr, v->u.bin.len < c->width ? v->u.bin.len : c->width); break;
    case FIRN_ICE_DECIMAL:
        if (c->width == 4) {
            int32_t x = (int32_t)v->u.dec;
            memcpy(p, &x, 4);
        } else if (c->width == 8) {
            int64_t x = (int64_t)v->u.dec;
            memcpy(p, &x, 8);
        } else {
            firn_ice_int128 x = v->u.dec;
            for (size_t i = c->width; i-- > 0;) {
                p[i] = (uint8_t)(x & 0xff);
                x >>= 8; /* arithmetic: keeps the sign for the leading bytes */
            }
        }
        break;
    default: memcpy(p, &v->u.i64, 8); break;
    }
}

static int batch_flush(batch *b, firn_error *err) {
    if (b->nrows == 0) return 0;
    firn_pq_column_data *cd = firn_xcalloc(b->ncols, sizeof *cd);
    static const uint8_t empty[1];
    for (size_t i = 0; i < b->ncols; i++) {
        column *c = &b->cols[i];
        cd[i].validity = c->has_null ? c->validity.data : NULL;
        if (c->width) {
            cd[i].values = c->values.data;
        } else {
            cd[i].offsets = (const int64_t *)c->offsets.data;
            cd[i].data = c->values.len ? c->values.data : empty;
        }
    }
    int rc = firn_ice_data_writer_write(b->writer, cd, b->nrows, err);
    free(cd);
    for (size_t i = 0; i < b->ncols; i++) column_reset(&b->cols[i]);
    b->nrows = 0;
    firn_arena_reset(&b->arena);
    return rc;
}

/* A row is complete: flush when the batch is full. */
static int batch_end_row(batch *b, firn_error *err) {
    return ++b->nrows >= BATCH_ROWS ? batch_flush(b, err) : 0;
}

/* --------------------------------------------------------- values as text */

static const char *article(const char *type) {
    return strchr("aeio", type[0]) ? "an" : "a"; /* "a uuid" */
}

/* Parse text as c's type into *v. where is "FILE:LINE". */
static int parse_text(batch *b, const column *c, const char *where, const char *s, size_t len,
                      firn_ice_value *v, firn_error *err) {
    const firn_ice_type *t = c->field->type;
    if (t->id == FIRN_ICE_STRING) {
        *v = firn_ice_value_bytes(FIRN_ICE_STRING, s, len);
        return 0;
    }
    firn_error perr;
    firn_error_init(&perr);
    if (firn_ice_value_parse(&b->arena, t, s, len, v, &perr) == 0) {
        firn_error_release(&perr);
        if (t->id == FIRN_ICE_BINARY || t->id == FIRN_ICE_FIXED) {
            /* bytes may borrow s, which the caller reuses: copy */
            *v = firn_ice_value_copy(&b->arena, v);
        }
        if (t->id == FIRN_ICE_FIXED && v->u.bin.len != (size_t)t->length) {
            char tb[48];
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: column '%s': '%.*s' is not %s %s", where,
                              c->field->name, (int)(len > 80 ? 80 : len), s, "a",
                              firn_ice_type_to_string(t, tb, sizeof tb));
        }
        return 0;
    }
    const char *why = strstr(perr.message, ": ");
    why = why ? why + 2 : "";
    char tb[48];
    firn_ice_type_to_string(t, tb, sizeof tb);
    bool say_why = *why && strncmp(why, "not ", 4) != 0;
    FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: column '%s': '%.*s' is not %s %s%s%s%s", where,
               c->field->name, (int)(len > 80 ? 80 : len), s, article(tb), tb,
               say_why ? " (" : "", say_why ? why : "", say_why ? ")" : "");
    firn_error_release(&perr);
    return -1;
}

/* Map input column names to table columns: map[i] = table column index. Unknown names
 * and missing required columns are errors. */
static int map_names(batch *b, const char *where, const char *const *names, size_t n, int *map,
                     const char *table, firn_error *err) {
    bool *seen = firn_xcalloc(b->ncols ? b->ncols : 1, 1);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        map[i] = -1;
        for (size_t k = 0; k < b->ncols; k++)
            if (strcmp(names[i], b->cols[k].field->name) == 0) map[i] = (int)k;
        if (map[i] < 0)
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: column '%s' is not in table %s", where,
                            names[i], table);
        else if (seen[map[i]])
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: column '%s' appears twice", where, names[i]);
        else seen[map[i]] = true;
    }
    for (size_t k = 0; k < b->ncols && rc == 0; k++)
        if (!seen[k] && b->cols[k].field->required)
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: required column '%s' is missing", where,
                            b->cols[k].field->name);
    free(seen);
    return rc;
}

static int null_in_required(const column *c, const char *where, firn_error *err) {
    return FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: column '%s': required, but the value is empty",
                      where, c->field->name);
}

/* --------------------------------------------------------------------- CSV */

typedef struct csv_reader {
    const char *p, *end;
    size_t line;     /* line of p */
    firn_buf text;   /* unescaped fields, back to back */
    size_t *starts, *lens;
    bool *quoted;
    size_t n, cap;
} csv_reader;

/* Read one record into r; returns 1, 0 at the end, -1 on a bad quote. Blank lines skipped. */
static int csv_next(csv_reader *r, size_t *record_line) {
    while (r->p < r->end && (*r->p == '\n' || *r->p == '\r')) {
        if (*r->p == '\n') r->line++;
        r->p++;
    }
    if (r->p >= r->end) return 0;
    *record_line = r->line;
    firn_buf_clear(&r->text);
    r->n = 0;
    for (;;) {
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 16;
            r->starts = firn_xrealloc(r->starts, r->cap * sizeof *r->starts);
            r->lens = firn_xrealloc(r->lens, r->cap * sizeof *r->lens);
            r->quoted = firn_xrealloc(r->quoted, r->cap * sizeof *r->quoted);
        }
        size_t start = r->text.len;
        bool quoted = false;
        if (r->p < r->end && *r->p == '"') {
            quoted = true;
            r->p++;
            for (;;) {
                if (r->p >= r->end) return -1;
                if (*r->p == '"') {
                    if (r->p + 1 < r->end && r->p[1] == '"') {
                        firn_buf_put_u8(&r->text, '"');
                        r->p += 2;
                        continue;
                    }
                    r->p++;
                    break;
                }
                if (*r->p == '\n') r->line++;
                firn_buf_put_u8(&r->text, (uint8_t)*r->p++);
            }
            if (r->p < r->end && *r->p != ',' && *r->p != '\n' && *r->p != '\r') return -1;
        } else {
            const char *s = r->p;
            while (r->p < r->end && *r->p != ',' && *r->p != '\n' && *r->p != '\r') {
                if (*r->p == '"') return -1;
                r->p++;
            }
            firn_buf_append(&r->text, s, (size_t)(r->p - s));
        }
        r->starts[r->n] = start;
        r->lens[r->n] = r->text.len - start;
        r->quoted[r->n] = quoted;
        r->n++;
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '\r') r->p++;
        if (r->p < r->end && *r->p == '\n') {
            r->p++;
            r->line++;
        }
        firn_buf_put_u8(&r->text, 0);
        return 1;
    }
}

static int read_csv(batch *b, const char *path, const char *table, firn_error *err) {
    uint8_t *data;
    size_t len;
    if (firn_read_file(path, &data, &len, err) != 0) return -1;
    csv_reader r = {.p = (const char *)data, .end = (const char *)data + len, .line = 1};
    firn_buf_init(&r.text);
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) r.p += 3;
    char where[PATH_MAX + 32];
    size_t line = 1;
    int rc = 0, got;
    int *map = NULL;
    size_t nheader = 0;
    got = csv_next(&r, &line);
    snprintf(where, sizeof where, "%s:%zu", path, line);
    if (got <= 0) {
        rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: %s", where,
                        got == 0 ? "empty file: expected a header line" : "bad quoting");
    } else {
        nheader = r.n;
        const char **names = firn_xcalloc(nheader, sizeof *names);
        for (size_t i = 0; i < nheader; i++) names[i] = (const char *)r.text.data + r.starts[i];
        map = firn_xcalloc(nheader, sizeof *map);
        /* names point into r.text, which the next record reuses: copy them */
        char **copies = firn_xcalloc(nheader, sizeof *copies);
        for (size_t i = 0; i < nheader; i++) {
            copies[i] = firn_xmalloc(r.lens[i] + 1);
            memcpy(copies[i], names[i], r.lens[i]);
            copies[i][r.lens[i]] = '\0';
            names[i] = copies[i];
        }
        rc = map_names(b, where, names, nheader, map, table, err);
        for (size_t i = 0; i < nheader; i++) free(copies[i]);
        free(copies);
        free(names);
    }
    firn_ice_value *vals = firn_xcalloc(b->ncols ? b->ncols : 1, sizeof *vals);
    bool *have = firn_xcalloc(b->ncols ? b->ncols : 1, 1);
    while (rc == 0 && (got = csv_next(&r, &line)) != 0) {
        snprintf(where, sizeof where, "%s:%zu", path, line);
        if (got < 0) {
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: bad quoting", where);
            break;
        }
        if (r.n != nheader) {
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: %zu fields, but the header has %zu", where,
                            r.n, nheader);
            break;
        }
        memset(have, 0, b->ncols);
        for (size_t i = 0; i < nheader && rc == 0; i++) {
            column *c = &b->cols[map[i]];
            const char *s = (const char *)r.text.data + r.starts[i];
            if (r.lens[i] == 0 && !r.quoted[i]) continue; /* null */
            if (parse_text(b, c, where, s, r.lens[i], &vals[map[i]], err) != 0) rc = -1;
            else have[map[i]] = true;
        }
        for (size_t k = 0; k < b->ncols && rc == 0; k++) {
            if (!have[k] && b->cols[k].field->required) {
                rc = null_in_required(&b->cols[k], where, err);
                break;
            }
            column_put(&b->cols[k], have[k] ? &vals[k] : NULL);
        }
        if (rc == 0) rc = batch_end_row(b, err);
    }
    free(vals);
    free(have);
    free(map);
    free(r.starts);
    free(r.lens);
    free(r.quoted);
    firn_buf_release(&r.text);
    free(data);
    return rc;
}

/* -------------------------------------------------------------- JSON Lines */

static int json_value(batch *b, const column *c, const char *where, json_t *j, firn_ice_value *v,
                      firn_error *err) {
    char tb[48];
    firn_ice_type_to_string(c->field->type, tb, sizeof tb);
    if (json_is_string(j))
        return parse_text(b, c, where, json_string_value(j), json_string_length(j), v, err);
    if (c->field->type->id != FIRN_ICE_STRING && (json_is_number(j) || json_is_boolean(j))) {
        char buf[64];
        if (json_is_integer(j)) snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(j));
        else if (json_is_real(j)) {
            /* the shortest text that reads back to the same double: 0.1, not 0.1000...01 */
            double d = json_real_value(j);
            for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof buf, "%.*g", prec, d);
                if (strtod(buf, NULL) == d) break;
            }
        }
        else snprintf(buf, sizeof buf, "%s", json_is_true(j) ? "true" : "false");
        bool numeric_type = c->field->type->id != FIRN_ICE_BOOLEAN;
        if (json_is_boolean(j) == !numeric_type)
            return parse_text(b, c, where, buf, strlen(buf), v, err);
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: column '%s': %s is not %s %s", where,
                          c->field->name, buf, article(tb), tb);
    }
    char *dump = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: column '%s': %.80s is not %s %s", where, c->field->name,
               dump ? dump : "?", article(tb), tb);
    free(dump);
    return -1;
}

static int read_jsonl(batch *b, const char *path, const char *table, firn_error *err) {
    uint8_t *data;
    size_t len;
    if (firn_read_file(path, &data, &len, err) != 0) return -1;
    const char *p = (const char *)data, *end = p + len;
    char where[PATH_MAX + 32];
    firn_ice_value *vals = firn_xcalloc(b->ncols ? b->ncols : 1, sizeof *vals);
    bool *have = firn_xcalloc(b->ncols ? b->ncols : 1, 1);
    int rc = 0;
    for (size_t line = 1; p < end && rc == 0; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *s = p;
        p = nl ? nl + 1 : end;
        while (s < le && (*s == ' ' || *s == '\t' || *s == '\r')) s++;
        if (s == le) continue;
        snprintf(where, sizeof where, "%s:%zu", path, line);
        json_error_t je;
        json_t *o = json_loadb(s, (size_t)(le - s), 0, &je);
        if (!o || !json_is_object(o)) {
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: %s", where,
                            o ? "expected a JSON object" : je.text);
            json_decref(o);
            break;
        }
        memset(have, 0, b->ncols);
        const char *key;
        json_t *jv;
        json_object_foreach(o, key, jv) {
            int k = -1;
            for (size_t i = 0; i < b->ncols; i++)
                if (strcmp(key, b->cols[i].field->name) == 0) k = (int)i;
            if (k < 0) {
                rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: column '%s' is not in table %s", where,
                                key, table);
                break;
            }
            if (json_is_null(jv)) continue;
            if (json_value(b, &b->cols[k], where, jv, &vals[k], err) != 0) {
                rc = -1;
                break;
            }
            /* strings borrow o, which goes away: copy them into the batch arena */
            vals[k] = firn_ice_value_copy(&b->arena, &vals[k]);
            have[k] = true;
        }
        for (size_t k = 0; k < b->ncols && rc == 0; k++) {
            if (!have[k] && b->cols[k].field->required) {
                rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: required column '%s' is missing",
                                where, b->cols[k].field->name);
                break;
            }
            column_put(&b->cols[k], have[k] ? &vals[k] : NULL);
        }
        json_decref(o);
        if (rc == 0) rc = batch_end_row(b, err);
    }
    free(vals);
    free(have);
    free(data);
    return rc;
}

/* ----------------------------------------------------------------- Parquet */

static const char *pq_type_name(firn_pq_type t) {
    switch (t) {
    case FIRN_PQ_BOOLEAN: return "boolean";
    case FIRN_PQ_INT: return "int";
    case FIRN_PQ_LONG: return "long";
    case FIRN_PQ_FLOAT: return "float";
    case FIRN_PQ_DOUBLE: return "double";
    case FIRN_PQ_DECIMAL: return "decimal";
    case FIRN_PQ_DATE: return "date";
    case FIRN_PQ_TIME: return "time";
    case FIRN_PQ_TIMESTAMP: return "timestamp";
    case FIRN_PQ_TIMESTAMPTZ: return "timestamptz";
    case FIRN_PQ_TIMESTAMP_NS: return "timestamp_ns";
    case FIRN_PQ_TIMESTAMPTZ_NS: return "timestamptz_ns";
    case FIRN_PQ_STRING: return "string";
    case FIRN_PQ_UUID: return "uuid";
    case FIRN_PQ_FIXED: return "fixed";
    default: return "binary";
    }
}

static int read_parquet(batch *b, const char *path, const char *table, firn_error *err) {
    firn_pq_reader *r = firn_pq_reader_open(path, err);
    if (!r) return -1;
    size_t nfile = firn_pq_reader_num_columns(r);
    bool by_id = false;
    for (size_t i = 0; i < nfile; i++)
        if (firn_pq_reader_column(r, i)->field_id >= 0) by_id = true;
    int *src = firn_xcalloc(b->ncols ? b->ncols : 1, sizeof *src);
    bool *used = firn_xcalloc(nfile ? nfile : 1, 1);
    int rc = 0;
    for (size_t k = 0; k < b->ncols && rc == 0; k++) {
        const firn_ice_field *f = b->cols[k].field;
        src[k] = by_id ? firn_pq_reader_find_field(r, f->id) : firn_pq_reader_find_path(r, f->name);
        if (src[k] < 0) {
            if (f->required)
                rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: required column '%s' (id %d) is missing",
                                path, f->name, f->id);
            continue;
        }
        used[src[k]] = true;
        const firn_pq_column_desc *d = firn_pq_reader_column(r, (size_t)src[k]);
        firn_pq_type want = (firn_pq_type)firn_ice_type_to_pq(f->type);
        bool ok = d->supported && (d->type == want || (d->type == FIRN_PQ_INT && want == FIRN_PQ_LONG) ||
                                   (d->type == FIRN_PQ_FLOAT && want == FIRN_PQ_DOUBLE));
        if (ok && want == FIRN_PQ_DECIMAL)
            ok = d->precision == f->type->precision && d->scale == f->type->scale;
        if (ok && want == FIRN_PQ_FIXED) ok = d->length == f->type->length;
        if (!ok) {
            char tb[48];
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: column '%s': the file has %s, table %s has %s",
                            path, d->path, d->supported ? pq_type_name(d->type) : "an unsupported type",
                            table, firn_ice_type_to_string(f->type, tb, sizeof tb));
        }
    }
    for (size_t i = 0; i < nfile && rc == 0; i++)
        if (!used[i]) {
            const firn_pq_column_desc *d = firn_pq_reader_column(r, i);
            if (by_id)
                rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: column '%s' (field id %d) is not in table %s",
                                path, d->path, d->field_id, table);
            else
                rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: column '%s' is not in table %s", path,
                                d->path, table);
        }
    firn_pq_column_data *cd = firn_xcalloc(b->ncols ? b->ncols : 1, sizeof *cd);
    firn_arena a;
    firn_arena_init(&a, 0);
    for (size_t rg = 0; rg < firn_pq_reader_num_row_groups(r) && rc == 0; rg++) {
        size_t nrows = (size_t)firn_pq_reader_row_group_rows(r, rg);
        for (size_t k = 0; k < b->ncols && rc == 0; k++) {
            const firn_ice_field *f = b->cols[k].field;
            size_t w = b->cols[k].width;
            if (src[k] < 0) { /* absent optional column: all null */
                cd[k].validity = firn_arena_calloc(&a, nrows + 1);
                if (w) cd[k].values = firn_arena_calloc(&a, nrows * w + 1);
                else {
                    cd[k].offsets = firn_arena_calloc(&a, (nrows + 1) * 8);
                    cd[k].data = firn_arena_calloc(&a, 1);
                }
                continue;
            }
            if (firn_pq_reader_read_column(r, rg, (size_t)src[k], &a, &cd[k], err) != 0) {
                rc = -1;
                break;
            }
            const firn_pq_column_desc *d = firn_pq_reader_column(r, (size_t)src[k]);
            if (f->required && cd[k].validity) {
                for (size_t i = 0; i < nrows; i++)
                    if (!cd[k].validity[i]) {
                        rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                                        "%s: row %zu of row group %zu: column '%s' is required, "
                                        "but the value is null", path, i, rg, f->name);
                        break;
                    }
                if (rc) break;
            }
            if (d->type == FIRN_PQ_INT && f->type->id == FIRN_ICE_LONG) {
                int64_t *out = firn_arena_alloc(&a, nrows * 8 + 1);
                const int32_t *in = cd[k].values;
                for (size_t i = 0; i < nrows; i++) out[i] = in[i];
                cd[k].values = out;
            } else if (d->type == FIRN_PQ_FLOAT && f->type->id == FIRN_ICE_DOUBLE) {
                double *out = firn_arena_alloc(&a, nrows * 8 + 1);
                const float *in = cd[k].values;
                for (size_t i = 0; i < nrows; i++) out[i] = in[i];
                cd[k].values = out;
            }
        }
        if (rc == 0 && nrows) rc = firn_ice_data_writer_write(b->writer, cd, nrows, err);
        firn_arena_reset(&a);
    }
    firn_arena_release(&a);
    free(cd);
    free(src);
    free(used);
    firn_pq_reader_free(r);
    return rc;
}

/* ------------------------------------------------------------------ append */

static int detect_format(const char *path, const char *flag, input_format *out) {
    const char *f = flag;
    if (!f) {
        const char *dot = strrchr(path, '.');
        f = dot ? dot + 1 : "";
    }
    if (strcasecmp(f, "csv") == 0) *out = FMT_CSV;
    else if (strcasecmp(f, "jsonl") == 0 || strcasecmp(f, "ndjson") == 0 ||
             (flag && strcasecmp(f, "json") == 0))
        *out = FMT_JSONL;
    else if (strcasecmp(f, "parquet") == 0) *out = FMT_PARQUET;
    else return -1;
    return 0;
}

int firn_cmd_append(int argc, char **argv) {
    const char *table = NULL, *path = NULL, *branch = NULL, *format = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--branch") == 0 && i + 1 < argc) branch = argv[++i];
        else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) format = argv[++i];
        else if (argv[i][0] != '-' && !table) table = argv[i];
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else return firn_cli_usage(usage);
    }
    if (!table || !path) return firn_cli_usage(usage);
    input_format fmt;
    if (detect_format(path, format, &fmt) != 0) {
        if (format)
            fprintf(stderr, "firn: append: unknown --format '%s' (csv, jsonl or parquet)\n", format);
        else
            fprintf(stderr, "firn: append: cannot tell the format of '%s' from its name: "
                            "use --format csv|jsonl|parquet\n", path);
        return 2;
    }
    firn_error err;
    firn_error_init(&err);
    firn_cli_env env;
    firn_ice_table *t = NULL;
    firn_ice_metadata *md = NULL;
    firn_ice_producer *fa = NULL; /* merge append (commit.manifest-merge.enabled) */
    batch b = {0};
    firn_arena_init(&b.arena, 0);
    int rc = 1;
    if (firn_cli_env_open(&env, &err) != 0 || firn_cli_load_table(&env, table, &t, &err) != 0) {
        firn_cli_fail("append", &err);
        goto out;
    }
    /* the writer keeps its own copy: commits replace t->metadata */
    if (!(md = firn_ice_metadata_copy(t->metadata, &err))) {
        firn_cli_fail("append", &err);
        goto out;
    }
    const firn_ice_schema *schema = firn_ice_metadata_current_schema(md);
    b.ncols = firn_ice_schema_nfields(schema);
    b.cols = firn_xcalloc(b.ncols ? b.ncols : 1, sizeof *b.cols);
    for (size_t i = 0; i < b.ncols; i++) {
        column *c = &b.cols[i];
        c->field = &firn_ice_schema_fields(schema)[i];
        if (!firn_ice_type_is_primitive(c->field->type)) {
            FIRN_RAISE(&err, FIRN_ERR_UNSUPPORTED,
                       "table %s has the nested column '%s': append writes flat tables only", table,
                       c->field->name);
            firn_cli_fail("append", &err);
            goto out;
        }
        c->width = firn_ice_type_pq_width(c->field->type);
        firn_buf_init(&c->values);
        firn_buf_init(&c->offsets);
        firn_buf_init(&c->validity);
        column_reset(c);
    }
    if (!(b.writer = firn_ice_data_writer_new(md, t->io, NULL, &err))) {
        firn_cli_fail("append", &err);
        goto out;
    }
    int r = fmt == FMT_CSV     ? read_csv(&b, path, table, &err)
            : fmt == FMT_JSONL ? read_jsonl(&b, path, table, &err)
                               : read_parquet(&b, path, table, &err);
    if (r == 0) r = batch_flush(&b, &err);
    const firn_ice_data_file *files;
    size_t nfiles = 0;
    if (r == 0) r = firn_ice_data_writer_close(b.writer, &files, &nfiles, &err);
    if (r != 0) {
        firn_ice_data_writer_abort(b.writer);
        firn_cli_fail("append", &err);
        goto out;
    }
    uint64_t rows = firn_ice_data_writer_rows(b.writer);
    if (rows == 0) {
        printf("%s: no rows: nothing to append to %s\n", path, table);
        rc = 0;
        goto out;
    }
    firn_ice_commit_info info = {0};
    if (!(fa = firn_ice_producer_new(t, branch, "append", &err))) {
        firn_ice_data_writer_abort(b.writer);
        firn_cli_fail("append", &err);
        goto out;
    }
    for (size_t i = 0; i < nfiles && r == 0; i++) r = firn_ice_producer_add_file(fa, &files[i], &err);
    if (r == 0) r = firn_ice_producer_commit(fa, &info, &err);
    if (r != 0) {
        if (info.state != FIRN_ICE_COMMIT_UNKNOWN) firn_ice_data_writer_abort(b.writer);
        firn_cli_fail(info.state == FIRN_ICE_COMMIT_UNKNOWN
                          ? "append: the commit may or may not have happened; data files kept"
                          : "append",
                      &err);
        goto out;
    }
    printf("appended %llu rows in %zu data file%s to %s (branch %s): snapshot %lld\n",
           (unsigned long long)rows, nfiles, nfiles == 1 ? "" : "s", table,
           branch ? branch : FIRN_ICE_MAIN_BRANCH, (long long)firn_ice_producer_snapshot_id(fa));
    for (size_t i = 0; i < nfiles; i++)
        printf("  %s (%lld rows, %lld bytes)\n", files[i].file_path,
               (long long)files[i].record_count, (long long)files[i].file_size_in_bytes);
    printf("metadata %s\n", t->metadata_location);
    rc = 0;
out:
    firn_ice_producer_free(fa);
    firn_ice_data_writer_free(b.writer);
    for (size_t i = 0; i < b.ncols && b.cols; i++) {
        firn_buf_release(&b.cols[i].values);
        firn_buf_release(&b.cols[i].offsets);
        firn_buf_release(&b.cols[i].validity);
    }
    free(b.cols);
    firn_arena_release(&b.arena);
    firn_ice_metadata_free(md);
    firn_ice_table_free(t);
    firn_cli_env_close(&env);
    firn_error_release(&err);
    return rc;
}
