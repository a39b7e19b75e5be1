/*
 * manifest_fixture.c - manifests and manifest lists for the interop tests
 * (tests/interop/manifest.test.sh), and firn's reading of any of them as JSON.
 *
 *   manifest_fixture write DIR
 *       DIR/manifest.avro      v2 data manifest, deflate: 3 entries (ADDED with
 *                              inherited tracking fields, EXISTING, DELETED) over
 *                              identity/day/bucket/truncate/decimal/uuid/double
 *                              partition fields, nulls, every stats map
 *       DIR/manifest-null.avro the same, codec null
 *       DIR/snap.avro          v2 manifest list: a carried-over manifest and
 *                              manifest.avro (its sequence numbers assigned)
 *       DIR/manifest-v1.avro, DIR/snap-v1.avro   the same in format version 1
 *   manifest_fixture dump-list LIST
 *       line 1 the header as JSON, then one JSON object per manifest_file
 *   manifest_fixture dump-manifest MANIFEST [LIST INDEX]
 *       the entries as JSON lines, with inheritance from entry INDEX of LIST
 *
 * Expected values live in the readers' scripts (manifest_py.py,
 * manifest_avsc.mjs), written down independently of this file.
 */
#include "iceberg/iceberg.h"
#include "io/io.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const firn_error *err) {
    char buf[1024];
    fprintf(stderr, "manifest_fixture: %s: %s\n", what, firn_error_format(err, buf, sizeof buf));
    return 1;
}

/* ------------------------------------------------------------ fixture */

static const char table_schema[] =
    "{\"type\":\"struct\",\"schema-id\":1,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"category\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":3,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"},"
    "{\"id\":4,\"name\":\"price\",\"required\":false,\"type\":\"decimal(9, 2)\"},"
    "{\"id\":5,\"name\":\"ratio\",\"required\":false,\"type\":\"double\"},"
    "{\"id\":6,\"name\":\"uid\",\"required\":false,\"type\":\"uuid\"}]}";

static const char table_spec[] =
    "{\"spec-id\":2,\"fields\":["
    "{\"name\":\"category\",\"transform\":\"identity\",\"source-id\":2,\"field-id\":1000},"
    "{\"name\":\"ts_day\",\"transform\":\"day\",\"source-id\":3,\"field-id\":1001},"
    "{\"name\":\"id_bucket\",\"transform\":\"bucket[16]\",\"source-id\":1,\"field-id\":1002},"
    "{\"name\":\"category_trunc\",\"transform\":\"truncate[4]\",\"source-id\":2,\"field-id\":1003},"
    "{\"name\":\"price\",\"transform\":\"identity\",\"source-id\":4,\"field-id\":1004},"
    "{\"name\":\"uid\",\"transform\":\"identity\",\"source-id\":6,\"field-id\":1005},"
    "{\"name\":\"ratio\",\"transform\":\"identity\",\"source-id\":5,\"field-id\":1006}]}";

#define SNAPSHOT_ID 3051729675574597004LL /* beyond 2^53: JavaScript readers need BigInt */
#define PARENT_ID 1234567890123456789LL
#define SEQUENCE 5

static firn_ice_value str(const char *s) { return firn_ice_value_bytes(FIRN_ICE_STRING, s, strlen(s)); }

static firn_ice_value uuid(const char *text) {
    firn_ice_value v = {0};
    v.type = FIRN_ICE_UUID;
    firn_ice_uuid_parse(text, v.u.uuid);
    return v;
}

typedef struct fixture {
    firn_ice_value part[3][7];
    firn_ice_metric sizes[2], counts[2], nulls[2], nans[1];
    firn_ice_bound lower[2], upper[2];
    uint8_t lo1[8], hi1[8];
    int64_t splits[1];
    firn_ice_manifest_entry e[3];
} fixture;

static void fixture_init(fixture *f) {
    memset(f, 0, sizeof *f);
    firn_ice_value *p = f->part[0];
    p[0] = str("books");
    p[1] = firn_ice_value_date(18993); /* 2022-01-01 */
    p[2] = firn_ice_value_int(3);
    p[3] = str("book");
    p[4] = firn_ice_value_decimal(1999, 2);
    p[5] = uuid("00112233-4455-6677-8899-aabbccddeeff");
    p[6] = firn_ice_value_double(0.5);
    p = f->part[1];
    p[0] = firn_ice_value_null(FIRN_ICE_STRING);
    p[1] = firn_ice_value_null(FIRN_ICE_DATE);
    p[2] = firn_ice_value_int(15);
    p[3] = firn_ice_value_null(FIRN_ICE_STRING);
    p[4] = firn_ice_value_decimal(-500, 2);
    p[5] = firn_ice_value_null(FIRN_ICE_UUID);
    p[6] = firn_ice_value_double(NAN);
    p = f->part[2];
    p[0] = str("toys");
    p[1] = firn_ice_value_date(18994);
    p[2] = firn_ice_value_int(0);
    p[3] = str("toys");
    p[4] = firn_ice_value_decimal(0, 2);
    p[5] = uuid("ffffffff-ffff-ffff-ffff-ffffffffffff");
    p[6] = firn_ice_value_double(-0.0);

    f->sizes[0] = (firn_ice_metric){1, 4000};
    f->sizes[1] = (firn_ice_metric){2, 1200};
    f->counts[0] = (firn_ice_metric){1, 1000};
    f->counts[1] = (firn_ice_metric){2, 1000};
    f->nulls[0] = (firn_ice_metric){1, 0};
    f->nulls[1] = (firn_ice_metric){2, 17};
    f->nans[0] = (firn_ice_metric){5, 3};
    firn_store_le64(f->lo1, 1);
    firn_store_le64(f->hi1, 1000);
    f->lower[0] = (firn_ice_bound){1, f->lo1, 8};
    f->lower[1] = (firn_ice_bound){2, (const uint8_t *)"aardvark", 8};
    f->upper[0] = (firn_ice_bound){1, f->hi1, 8};
    f->upper[1] = (firn_ice_bound){2, (const uint8_t *)"zebra", 5};
    f->splits[0] = 4;

    static const char *paths[3] = {
        "s3://bucket/db/t/data/category=books/ts_day=2022-01-01/00000-0-a.parquet",
        "s3://bucket/db/t/data/category=null/ts_day=null/00001-0-b.parquet",
        "s3://bucket/db/t/data/category=toys/ts_day=2022-01-02/00002-0-c.parquet"};
    static const int64_t rows[3] = {1000, 10, 5}, sizes[3] = {52342, 999, 500};
    static const firn_ice_entry_status st[3] = {FIRN_ICE_ADDED, FIRN_ICE_EXISTING, FIRN_ICE_DELETED};
    for (int i = 0; i < 3; i++) {
        firn_ice_manifest_entry *e = &f->e[i];
        e->status = st[i];
        e->data_file.content = FIRN_ICE_CONTENT_DATA;
        e->data_file.file_path = paths[i];
        e->data_file.file_format = "PARQUET";
        e->data_file.npartition = 7;
        e->data_file.partition = f->part[i];
        e->data_file.record_count = rows[i];
        e->data_file.file_size_in_bytes = sizes[i];
    }
    firn_ice_data_file *d = &f->e[0].data_file;
    d->ncolumn_sizes = 2, d->column_sizes = f->sizes;
    d->nvalue_counts = 2, d->value_counts = f->counts;
    d->nnull_value_counts = 2, d->null_value_counts = f->nulls;
    d->nnan_value_counts = 1, d->nan_value_counts = f->nans;
    d->nlower_bounds = 2, d->lower_bounds = f->lower;
    d->nupper_bounds = 2, d->upper_bounds = f->upper;
    d->nsplit_offsets = 1, d->split_offsets = f->splits;
    d->has_sort_order_id = true, d->sort_order_id = 0;
    f->e[1].has_snapshot_id = true, f->e[1].snapshot_id = 1111;
    f->e[1].has_sequence_number = true, f->e[1].sequence_number = 2;
    f->e[1].has_file_sequence_number = true, f->e[1].file_sequence_number = 3;
    f->e[1].data_file.key_metadata = (const uint8_t *)"\xca\xfe", f->e[1].data_file.key_metadata_len = 2;
    f->e[2].has_sequence_number = true, f->e[2].sequence_number = 4;
    f->e[2].has_file_sequence_number = true, f->e[2].file_sequence_number = 4;
}

static int write_all(const char *dir, int version, const char *codec, const char *mname,
                     const char *lname, firn_error *err) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_io *io = firn_io_local_new();
    int rc = 1;
    firn_ice_manifest_writer *w = NULL;
    firn_ice_manifest_list_writer *lw = NULL;
    firn_ice_schema *schema = firn_ice_schema_parse(&a, table_schema, strlen(table_schema), err);
    json_t *sj = json_loads(table_spec, 0, NULL);
    firn_ice_partition_spec *spec = firn_ice_partition_spec_from_json(&a, sj, "spec", err);
    json_decref(sj);
    if (!schema || !spec) goto out;
    static fixture f;
    fixture_init(&f);
    char loc[4096];
    snprintf(loc, sizeof loc, "%s/%s", dir, mname);
    w = firn_ice_manifest_writer_new(io, loc, version, schema, spec, FIRN_ICE_CONTENT_DATA,
                                     SNAPSHOT_ID, err);
    if (!w || (codec && firn_ice_manifest_writer_set_codec(w, codec, -1, err))) goto out;
    for (int i = 0; i < 3; i++)
        if (firn_ice_manifest_writer_add(w, &f.e[i], err)) goto out;
    firn_ice_manifest_file mf;
    if (firn_ice_manifest_writer_close(w, &a, &mf, err)) goto out;
    if (!lname) {
        rc = 0;
        goto out;
    }
    /* a manifest carried over from the parent snapshot */
    firn_ice_manifest_file old = {0};
    old.manifest_path = "s3://bucket/db/t/metadata/old-m0.avro";
    old.manifest_length = 4242;
    old.partition_spec_id = 0;
    old.sequence_number = 1;
    old.min_sequence_number = 1;
    old.added_snapshot_id = PARENT_ID;
    old.added_files_count = 1;
    old.added_rows_count = 100;
    static uint8_t lo[4], hi[4];
    firn_store_le32(lo, 1);
    firn_store_le32(hi, 9);
    static firn_ice_field_summary old_summary;
    old_summary.has_contains_nan = true;
    old_summary.lower_bound = lo, old_summary.lower_bound_len = 4;
    old_summary.upper_bound = hi, old_summary.upper_bound_len = 4;
    old.npartitions = 1;
    old.partitions = &old_summary;
    snprintf(loc, sizeof loc, "%s/%s", dir, lname);
    lw = firn_ice_manifest_list_writer_new(io, loc, version, SNAPSHOT_ID, PARENT_ID, SEQUENCE, err);
    if (!lw || firn_ice_manifest_list_writer_add(lw, &old, NULL, err) ||
        firn_ice_manifest_list_writer_add(lw, &mf, NULL, err) ||
        firn_ice_manifest_list_writer_close(lw, NULL, err))
        goto out;
    rc = 0;
out:
    firn_ice_manifest_writer_free(w);
    firn_ice_manifest_list_writer_free(lw);
    firn_io_free(io);
    firn_arena_release(&a);
    return rc;
}

/* ------------------------------------------------------------ dumping */

static json_t *hex(const uint8_t *p, size_t n) {
    if (!p) return json_null();
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) snprintf(s + 2 * i, 3, "%02x", p[i]);
    s[2 * n] = 0;
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *metrics(const firn_ice_metric *m, size_t n) {
    json_t *o = json_object();
    char k[16];
    for (size_t i = 0; i < n; i++) {
        snprintf(k, sizeof k, "%d", (int)m[i].field_id);
        json_object_set_new(o, k, json_integer(m[i].value));
    }
    return o;
}

static json_t *bounds(const firn_ice_bound *b, size_t n) {
    json_t *o = json_object();
    char k[16];
    for (size_t i = 0; i < n; i++) {
        snprintf(k, sizeof k, "%d", (int)b[i].field_id);
        json_object_set_new(o, k, hex(b[i].bytes, b[i].len));
    }
    return o;
}

static json_t *opt_i64(bool has, int64_t v) { return has ? json_integer(v) : json_null(); }

static void print_line(json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    puts(s);
    free(s);
    json_decref(j);
}

static int dump_list(const char *path, firn_ice_manifest_file **out, size_t *nout, bool print) {
    firn_error err;
    firn_error_init(&err);
    static firn_arena a;
    firn_arena_init(&a, 0);
    firn_io *io = firn_io_local_new();
    firn_ice_manifest_list_header h;
    int rc = firn_ice_manifest_list_read(io, path, &a, out, nout, &h, &err);
    firn_io_free(io);
    if (rc) return fail(path, &err);
    if (!print) return 0;
    json_t *hj = json_object();
    json_object_set_new(hj, "format_version", json_integer(h.format_version));
    json_object_set_new(hj, "snapshot_id", json_integer(h.snapshot_id));
    json_object_set_new(hj, "parent_snapshot_id", json_integer(h.parent_snapshot_id));
    json_object_set_new(hj, "sequence_number", json_integer(h.sequence_number));
    print_line(hj);
    for (size_t i = 0; i < *nout; i++) {
        const firn_ice_manifest_file *m = &(*out)[i];
        json_t *o = json_object();
        json_object_set_new(o, "manifest_path", json_string(m->manifest_path));
        json_object_set_new(o, "manifest_length", json_integer(m->manifest_length));
        json_object_set_new(o, "partition_spec_id", json_integer(m->partition_spec_id));
        json_object_set_new(o, "content", json_integer(m->content));
        json_object_set_new(o, "sequence_number", json_integer(m->sequence_number));
        json_object_set_new(o, "min_sequence_number", json_integer(m->min_sequence_number));
        json_object_set_new(o, "added_snapshot_id", json_integer(m->added_snapshot_id));
        json_object_set_new(o, "added_files_count", json_integer(m->added_files_count));
        json_object_set_new(o, "existing_files_count", json_integer(m->existing_files_count));
        json_object_set_new(o, "deleted_files_count", json_integer(m->deleted_files_count));
        json_object_set_new(o, "added_rows_count", json_integer(m->added_rows_count));
        json_object_set_new(o, "existing_rows_count", json_integer(m->existing_rows_count));
        json_object_set_new(o, "deleted_rows_count", json_integer(m->deleted_rows_count));
        json_t *parts = json_array();
        for (size_t k = 0; k < m->npartitions; k++) {
            const firn_ice_field_summary *s = &m->partitions[k];
            json_t *p = json_object();
            json_object_set_new(p, "contains_null", json_boolean(s->contains_null));
            json_object_set_new(p, "contains_nan", s->has_contains_nan ? json_boolean(s->contains_nan) : json_null());
            json_object_set_new(p, "lower_bound", hex(s->lower_bound, s->lower_bound_len));
            json_object_set_new(p, "upper_bound", hex(s->upper_bound, s->upper_bound_len));
            json_array_append_new(parts, p);
        }
        json_object_set_new(o, "partitions", parts);
        json_object_set_new(o, "key_metadata", hex(m->key_metadata, m->key_metadata_len));
        print_line(o);
    }
    return 0;
}

static json_t *value_json(const firn_ice_type *t, const firn_ice_value *v) {
    if (v->is_null) return json_null();
    if (v->type == FIRN_ICE_DOUBLE && isnan(v->u.f64)) return json_string("NaN");
    if (v->type == FIRN_ICE_FLOAT && isnan(v->u.f32)) return json_string("NaN");
    firn_error err;
    firn_error_init(&err);
    json_t *j = firn_ice_value_to_json(t, v, &err);
    return j ? j : json_string("?");
}

static int dump_manifest(const char *path, const char *list, long index) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_io *io = firn_io_local_new();
    firn_ice_manifest_reader *r = firn_ice_manifest_reader_open(io, path, &err);
    if (!r) return fail(path, &err);
    if (list) {
        firn_ice_manifest_file *mfs;
        size_t n;
        if (dump_list(list, &mfs, &n, false)) return 1;
        if (index < 0 || (size_t)index >= n) {
            fprintf(stderr, "manifest_fixture: %s has %zu manifests\n", list, n);
            return 1;
        }
        if (firn_ice_manifest_reader_inherit(r, &mfs[index], &err)) return fail(path, &err);
    }
    const firn_ice_type *pt = firn_ice_manifest_reader_header(r)->partition_type;
    firn_ice_manifest_entry e;
    int rc;
    while ((rc = firn_ice_manifest_reader_next(r, &a, &e, &err)) == 1) {
        const firn_ice_data_file *d = &e.data_file;
        json_t *o = json_object(), *df = json_object(), *part = json_object();
        json_object_set_new(o, "status", json_integer(e.status));
        json_object_set_new(o, "snapshot_id", opt_i64(e.has_snapshot_id, e.snapshot_id));
        json_object_set_new(o, "sequence_number", opt_i64(e.has_sequence_number, e.sequence_number));
        json_object_set_new(o, "file_sequence_number",
                            opt_i64(e.has_file_sequence_number, e.file_sequence_number));
        json_object_set_new(df, "content", json_integer(d->content));
        json_object_set_new(df, "file_path", json_string(d->file_path));
        json_object_set_new(df, "file_format", json_string(d->file_format));
        json_object_set_new(df, "spec_id", json_integer(d->spec_id));
        for (size_t i = 0; i < d->npartition; i++)
            json_object_set_new(part, pt->fields[i].name, value_json(pt->fields[i].type, &d->partition[i]));
        json_object_set_new(df, "partition", part);
        json_object_set_new(df, "record_count", json_integer(d->record_count));
        json_object_set_new(df, "file_size_in_bytes", json_integer(d->file_size_in_bytes));
        json_object_set_new(df, "column_sizes", metrics(d->column_sizes, d->ncolumn_sizes));
        json_object_set_new(df, "value_counts", metrics(d->value_counts, d->nvalue_counts));
        json_object_set_new(df, "null_value_counts", metrics(d->null_value_counts, d->nnull_value_counts));
        json_object_set_new(df, "nan_value_counts", metrics(d->nan_value_counts, d->nnan_value_counts));
        json_object_set_new(df, "lower_bounds", bounds(d->lower_bounds, d->nlower_bounds));
        json_object_set_new(df, "upper_bounds", bounds(d->upper_bounds, d->nupper_bounds));
        json_object_set_new(df, "key_metadata", hex(d->key_metadata, d->key_metadata_len));
        json_t *so = json_array(), *eq = json_array();
        for (size_t i = 0; i < d->nsplit_offsets; i++) json_array_append_new(so, json_integer(d->split_offsets[i]));
        for (size_t i = 0; i < d->nequality_ids; i++) json_array_append_new(eq, json_integer(d->equality_ids[i]));
        json_object_set_new(df, "split_offsets", so);
        json_object_set_new(df, "equality_ids", eq);
        json_object_set_new(df, "sort_order_id", opt_i64(d->has_sort_order_id, d->sort_order_id));
        json_object_set_new(df, "referenced_data_file",
                            d->referenced_data_file ? json_string(d->referenced_data_file) : json_null());
        json_object_set_new(o, "data_file", df);
        print_line(o);
    }
    firn_ice_manifest_reader_free(r);
    firn_io_free(io);
    firn_arena_release(&a);
    if (rc < 0) return fail(path, &err);
    return 0;
}

int main(int argc, char **argv) {
    firn_error err;
    firn_error_init(&err);
    if (argc == 3 && strcmp(argv[1], "write") == 0) {
        const char *dir = argv[2];
        if (write_all(dir, 2, NULL, "manifest.avro", "snap.avro", &err)) return fail("write v2", &err);
        if (write_all(dir, 2, "null", "manifest-null.avro", NULL, &err)) return fail("write v2 null", &err);
        if (write_all(dir, 1, NULL, "manifest-v1.avro", "snap-v1.avro", &err)) return fail("write v1", &err);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "dump-list") == 0) {
        firn_ice_manifest_file *mfs;
        size_t n;
        return dump_list(argv[2], &mfs, &n, true);
    }
    if ((argc == 3 || argc == 5) && strcmp(argv[1], "dump-manifest") == 0)
        return dump_manifest(argv[2], argc == 5 ? argv[3] : NULL, argc == 5 ? strtol(argv[4], NULL, 10) : -1);
    fprintf(stderr, "usage: manifest_fixture write DIR | dump-list LIST | dump-manifest MANIFEST [LIST INDEX]\n");
    return 2;
}
