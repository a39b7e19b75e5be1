/*
 * ice_write_fixture - creates an Iceberg table in a SQLite catalog, writes
 * rows through firn's data writer (partitioned by day(ts), bucket[4](id),
 * identity(category)), commits them with two fast appends, and prints the
 * rows it wrote, for interop checks with independent readers.
 *
 *   ice_write_fixture WAREHOUSE EXPECTED.jsonl [--rows N] [--target BYTES]
 *
 * The table is db.events at WAREHOUSE/db/events (catalog
 * WAREHOUSE/catalog.db). EXPECTED.jsonl: line 1 is {"metadata": current
 * metadata file URI, "columns": [{name, type, field_id, optional}...],
 * "rows": N, "files": data files written}; then one JSON array per row in
 * column order, sorted by id. Canonical values: long and timestamps as
 * decimal strings (micros), double as "%.17g" strings ("NaN" for NaN),
 * strings as JSON strings, binary as lowercase hex, date as day numbers,
 * boolean true/false, null for null.
 */
#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "parquet/parquet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Java's FastAppend: an append producer with manifest merging off. */
static firn_ice_producer *fast_append_new(firn_ice_table *t, const char *branch, firn_error *err) {
    firn_ice_producer *p = firn_ice_producer_new(t, branch, "append", err);
    if (p) firn_ice_producer_set_merge(p, 0);
    return p;
}

static const char SCHEMA_JSON[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"},"
    "{\"id\":3,\"name\":\"category\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":4,\"name\":\"score\",\"required\":false,\"type\":\"double\"},"
    "{\"id\":5,\"name\":\"img\",\"required\":false,\"type\":\"binary\",\"doc\":\"[media] a picture\"},"
    "{\"id\":6,\"name\":\"flag\",\"required\":true,\"type\":\"boolean\"},"
    "{\"id\":7,\"name\":\"d\",\"required\":false,\"type\":\"date\"}]}";

static const char *const TYPES[] = {"long", "timestamptz", "string", "double",
                                    "binary", "boolean", "date"};
static const char *const NAMES[] = {"id", "ts", "category", "score", "img", "flag", "d"};
static const char *const CATS[] = {"parking-entry", "parking exit", "caf\xc3\xa9/bar", ""};
#define NC 7
#define DAY_US 86400000000LL

static void die(const char *what, const firn_error *err) {
    char buf[2048];
    fprintf(stderr, "ice_write_fixture: %s: %s\n", what, firn_error_format(err, buf, sizeof buf));
    exit(1);
}

static void json_string(FILE *f, const uint8_t *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') fprintf(f, "\\%c", s[i]);
        else if (s[i] < 0x20) fprintf(f, "\\u%04x", s[i]);
        else fputc(s[i], f);
    }
    fputc('"', f);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: ice_write_fixture WAREHOUSE EXPECTED.jsonl [--rows N] [--target BYTES]\n");
        return 2;
    }
    const char *wh = argv[1];
    size_t n = 600;
    const char *target = NULL;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--rows") == 0) n = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--target") == 0) target = argv[i + 1];
    }
    firn_error err;
    firn_error_init(&err);
    char uri[1200];
    snprintf(uri, sizeof uri, "sqlite:%s/catalog.db", wh);
    firn_cat_config cfg = {0};
    cfg.warehouse = wh;
    firn_catalog *cat = NULL;
    if (firn_cat_open(uri, &cfg, &cat, &err)) die("catalog", &err);
    if (firn_cat_create_namespace(cat, "db", NULL, &err)) die("namespace", &err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_schema *schema = firn_ice_schema_parse(&a, SCHEMA_JSON, strlen(SCHEMA_JSON), &err);
    if (!schema) die("schema", &err);
    firn_ice_partition_field pf[3] = {
        {2, 1000, "ts_day", {FIRN_ICE_TRANSFORM_DAY, 0, NULL}},
        {1, 1001, "id_bucket", {FIRN_ICE_TRANSFORM_BUCKET, 4, NULL}},
        {3, 1002, "category", {FIRN_ICE_TRANSFORM_IDENTITY, 0, NULL}},
    };
    firn_ice_partition_spec *spec = firn_ice_partition_spec_new(&a, 0, pf, 3);
    firn_ice_kv props[2];
    size_t np = 0;
    if (target) props[np++] = (firn_ice_kv){"write.target-file-size-bytes", target};
    firn_ice_table_options opts = {NULL, props, np, 0};
    firn_ice_table *t = NULL;
    if (firn_ice_table_create(cat, "db", "events", schema, spec, NULL, &opts, &t, &err))
        die("create table", &err);

    /* the rows */
    int64_t *id = calloc(n + 1, 8), *ts = calloc(n + 1, 8), *cat_off = calloc(n + 2, 8),
            *img_off = calloc(n + 2, 8);
    double *score = calloc(n + 1, 8);
    int32_t *d = calloc(n + 1, 4);
    uint8_t *flag = calloc(n + 1, 1), *v_ts = calloc(n + 1, 1), *v_cat = calloc(n + 1, 1),
            *v_score = calloc(n + 1, 1), *v_img = calloc(n + 1, 1), *v_d = calloc(n + 1, 1);
    firn_buf cats = {0}, imgs = {0};
    for (size_t i = 0; i < n; i++) {
        id[i] = (int64_t)i * 1000003 - 5000;
        v_ts[i] = i % 23 != 3;
        ts[i] = 1709251200000000LL + (int64_t)(i % 50) * (DAY_US / 3) - DAY_US * 400;
        v_cat[i] = i % 7 != 2;
        if (v_cat[i]) firn_buf_append_str(&cats, CATS[i % 4]);
        cat_off[i + 1] = (int64_t)cats.len;
        v_score[i] = i % 5 != 1;
        score[i] = i % 31 == 0 ? NAN : (double)i / 3.0 - 7.25;
        v_img[i] = i % 6 != 0;
        if (v_img[i])
            for (size_t k = 0; k < i % 97; k++) firn_buf_put_u8(&imgs, (uint8_t)(i * 13 + k * 7));
        img_off[i + 1] = (int64_t)imgs.len;
        flag[i] = i % 3 == 0;
        v_d[i] = i % 4 != 0;
        d[i] = (int32_t)i - 300;
    }
    firn_buf_reserve(&cats, 1);
    firn_buf_reserve(&imgs, 1);
    firn_pq_column_data cols[NC] = {
        {NULL, id, NULL, NULL},          {v_ts, ts, NULL, NULL},
        {v_cat, NULL, cat_off, cats.data}, {v_score, score, NULL, NULL},
        {v_img, NULL, img_off, imgs.data}, {NULL, flag, NULL, NULL},
        {v_d, d, NULL, NULL},
    };

    /* two appends: the first half, then the rest */
    size_t half = n / 2;
    FILE *out = fopen(argv[2], "w");
    if (!out) {
        perror(argv[2]);
        return 1;
    }
    firn_buf files_json = {0};
    size_t nfiles_total = 0;
    for (int part = 0; part < 2; part++) {
        size_t from = part ? half : 0, count = part ? n - half : half;
        firn_ice_data_writer *w = firn_ice_data_writer_new(t->metadata, t->io, NULL, &err);
        if (!w) die("data writer", &err);
        firn_pq_column_data slice[NC];
        for (int c = 0; c < NC; c++) {
            slice[c] = cols[c];
            if (cols[c].validity) slice[c].validity = cols[c].validity + from;
            if (cols[c].offsets) slice[c].offsets = cols[c].offsets + from;
        }
        slice[0].values = id + from;
        slice[1].values = ts + from;
        slice[3].values = score + from;
        slice[5].values = flag + from;
        slice[6].values = d + from;
        if (count && firn_ice_data_writer_write(w, slice, count, &err)) die("write", &err);
        const firn_ice_data_file *files;
        size_t nfiles;
        if (firn_ice_data_writer_close(w, &files, &nfiles, &err)) die("close", &err);
        firn_ice_producer *fa = fast_append_new(t, NULL, &err);
        if (!fa) die("fast append", &err);
        for (size_t i = 0; i < nfiles; i++) {
            if (firn_ice_producer_add_file(fa, &files[i], &err)) die("add file", &err);
            firn_buf_appendf(&files_json, "%s\"%s\"", nfiles_total++ ? "," : "", files[i].file_path);
        }
        if (firn_ice_producer_commit(fa, NULL, &err)) die("commit", &err);
        firn_ice_producer_free(fa);
        firn_ice_data_writer_free(w);
    }

    fprintf(out, "{\"metadata\":\"%s\",\"rows\":%zu,\"columns\":[", t->metadata_location, n);
    for (int c = 0; c < NC; c++)
        fprintf(out, "%s{\"name\":\"%s\",\"type\":\"%s\",\"field_id\":%d,\"optional\":%s}",
                c ? "," : "", NAMES[c], TYPES[c], c + 1, (c == 0 || c == 5) ? "false" : "true");
    fprintf(out, "],\"files\":[%s]}\n", firn_buf_cstr(&files_json));
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "[\"%lld\",", (long long)id[i]);
        if (v_ts[i]) fprintf(out, "\"%lld\",", (long long)ts[i]);
        else fputs("null,", out);
        if (v_cat[i]) json_string(out, cats.data + cat_off[i], (size_t)(cat_off[i + 1] - cat_off[i]));
        else fputs("null", out);
        if (!v_score[i]) fputs(",null,", out);
        else if (isnan(score[i])) fputs(",\"NaN\",", out);
        else fprintf(out, ",\"%.17g\",", score[i]);
        if (v_img[i]) {
            fputc('"', out);
            for (int64_t k = img_off[i]; k < img_off[i + 1]; k++) fprintf(out, "%02x", imgs.data[k]);
            fputs("\",", out);
        } else {
            fputs("null,", out);
        }
        fprintf(out, "%s,", flag[i] ? "true" : "false");
        if (v_d[i]) fprintf(out, "%d]\n", d[i]);
        else fputs("null]\n", out);
    }
    fclose(out);
    firn_buf_release(&files_json);
    firn_buf_release(&cats);
    firn_buf_release(&imgs);
    free(id); free(ts); free(cat_off); free(img_off); free(score); free(d);
    free(flag); free(v_ts); free(v_cat); free(v_score); free(v_img); free(v_d);
    firn_ice_table_free(t);
    firn_cat_free(cat);
    firn_arena_release(&a);
    return 0;
}
