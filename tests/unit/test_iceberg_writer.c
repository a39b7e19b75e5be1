/* test_iceberg_writer.c - the Iceberg data file writer: rows in, Parquet data
 * files out, read back with firn's Parquet reader. Partitioning by day(ts),
 * bucket[4](id) and identity(string) checked against independently computed
 * transforms; file rolling at a small target size; data_file metrics keyed by
 * field id equal to what was written (and Java's metrics modes); media
 * columns; abort and failed writes deleting every file. */
#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "io/io.h"
#include "parquet/parquet.h"
#include "fixture.h"
#include "test.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>

static const char SCHEMA_JSON[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"},"
    "{\"id\":3,\"name\":\"category\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":4,\"name\":\"score\",\"required\":false,\"type\":\"double\"},"
    "{\"id\":5,\"name\":\"img\",\"required\":false,\"type\":\"binary\"}]}";

#define NCOLS 5
#define DAY_US 86400000000LL
/* 2024-03-01T00:00:00Z */
#define BASE_TS 1709251200000000LL

static const char *const CATS[] = {"alpha", "b c", "\xc3\xa9/x", "a-much-longer-category-name-over-16"};

/* Rows [from, from + n) of the test data set, in parquet.h's layout. */
typedef struct rows {
    size_t n;
    int64_t *id, *ts;
    double *score;
    uint8_t *ts_valid, *cat_valid, *score_valid, *img_valid;
    int64_t *cat_off, *img_off;
    firn_buf cat, img;
    firn_pq_column_data cols[NCOLS];
} rows;

static size_t img_len(size_t i) { return (i * 7) % 40; }
static uint8_t img_byte(size_t i, size_t k) { return (uint8_t)((i * 31 + k * 17) % 251); }

static void rows_make(rows *r, size_t from, size_t n, int64_t ts_step) {
    memset(r, 0, sizeof *r);
    r->n = n;
    r->id = calloc(n + 1, 8);
    r->ts = calloc(n + 1, 8);
    r->score = calloc(n + 1, 8);
    r->ts_valid = calloc(n + 1, 1);
    r->cat_valid = calloc(n + 1, 1);
    r->score_valid = calloc(n + 1, 1);
    r->img_valid = calloc(n + 1, 1);
    r->cat_off = calloc(n + 1, 8);
    r->img_off = calloc(n + 1, 8);
    for (size_t k = 0; k < n; k++) {
        size_t i = from + k;
        r->id[k] = (int64_t)i;
        r->ts_valid[k] = i % 13 != 5;
        r->ts[k] = BASE_TS + (int64_t)i * ts_step - 3 * DAY_US / 2;
        r->cat_valid[k] = i % 9 != 4;
        if (r->cat_valid[k]) firn_buf_append_str(&r->cat, CATS[i % 4]);
        r->cat_off[k + 1] = (int64_t)r->cat.len;
        r->score_valid[k] = i % 10 != 3;
        r->score[k] = i % 17 == 0 ? NAN : (double)i * 0.5 - 100.0;
        r->img_valid[k] = i % 11 != 7;
        if (r->img_valid[k])
            for (size_t b = 0; b < img_len(i); b++) firn_buf_put_u8(&r->img, img_byte(i, b));
        r->img_off[k + 1] = (int64_t)r->img.len;
    }
    firn_buf_reserve(&r->cat, 1);
    firn_buf_reserve(&r->img, 1);
    r->cols[0] = (firn_pq_column_data){NULL, r->id, NULL, NULL};
    r->cols[1] = (firn_pq_column_data){r->ts_valid, r->ts, NULL, NULL};
    r->cols[2] = (firn_pq_column_data){r->cat_valid, NULL, r->cat_off, r->cat.data};
    r->cols[3] = (firn_pq_column_data){r->score_valid, r->score, NULL, NULL};
    r->cols[4] = (firn_pq_column_data){r->img_valid, NULL, r->img_off, r->img.data};
}

static void rows_free(rows *r) {
    free(r->id);
    free(r->ts);
    free(r->score);
    free(r->ts_valid);
    free(r->cat_valid);
    free(r->score_valid);
    free(r->img_valid);
    free(r->cat_off);
    free(r->img_off);
    firn_buf_release(&r->cat);
    firn_buf_release(&r->img);
}

/* Table metadata at <tmp>/<name> with the test schema, spec fields (source
 * names + transforms) and properties (NULL-terminated key, value list). */
static firn_ice_metadata *make_table(const char *name, const char *const *spec_fields,
                                     const char *const *kv, char *dir, size_t dirn) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *s = firn_ice_schema_parse(&a, SCHEMA_JSON, strlen(SCHEMA_JSON), &err);
    firn_ice_partition_field pf[4];
    size_t npf = 0;
    for (size_t i = 0; spec_fields && spec_fields[i]; i += 3) {
        const firn_ice_field *f = firn_ice_schema_find_by_name(s, spec_fields[i], true);
        pf[npf].source_id = f->id;
        pf[npf].field_id = 1000 + (int32_t)npf;
        pf[npf].name = spec_fields[i + 2];
        firn_ice_transform_parse(spec_fields[i + 1], &pf[npf].transform, &err);
        npf++;
    }
    firn_ice_partition_spec *spec = firn_ice_partition_spec_new(&a, 0, pf, npf);
    firn_ice_kv props[16];
    size_t np = 0;
    for (size_t i = 0; kv && kv[i]; i += 2) props[np++] = (firn_ice_kv){kv[i], kv[i + 1]};
    snprintf(dir, dirn, "%s/writer-%s", firn_test_tmpdir(), name);
    char loc[600];
    snprintf(loc, sizeof loc, "file:%s", dir);
    firn_ice_metadata *md =
        firn_ice_metadata_new(s, spec, NULL, loc, props, np, 2, 1700000000000, &err);
    if (!md) printf("    metadata: %s\n", firn_test_errtext(&err));
    firn_error_release(&err);
    firn_arena_release(&a);
    return md;
}

static const char *local_path(const char *loc) {
    return strncmp(loc, "file:", 5) == 0 ? loc + 5 : loc;
}

static const firn_ice_metric *metric(const firn_ice_metric *m, size_t n, int32_t id) {
    for (size_t i = 0; i < n; i++)
        if (m[i].field_id == id) return &m[i];
    return NULL;
}

static const firn_ice_bound *bound(const firn_ice_bound *b, size_t n, int32_t id) {
    for (size_t i = 0; i < n; i++)
        if (b[i].field_id == id) return &b[i];
    return NULL;
}

/* Every row of every file, back as ids with the row's other values checked
 * against the generator. seen[id] counts appearances. Returns rows read or -1. */
static long read_back(const firn_ice_data_file *files, size_t nfiles, unsigned char *seen,
                      size_t nseen) {
    long total = 0;
    for (size_t f = 0; f < nfiles; f++) {
        firn_error err;
        firn_error_init(&err);
        firn_pq_reader *r = firn_pq_reader_open(local_path(files[f].file_path), &err);
        if (!r) {
            printf("    open %s: %s\n", files[f].file_path, firn_test_errtext(&err));
            return -1;
        }
        if ((int64_t)firn_pq_reader_num_rows(r) != files[f].record_count) return -1;
        for (size_t rg = 0; rg < firn_pq_reader_num_row_groups(r); rg++) {
            firn_arena a;
            firn_arena_init(&a, 0);
            firn_pq_column_data c[NCOLS];
            for (size_t k = 0; k < NCOLS; k++)
                if (firn_pq_reader_read_column(r, rg, k, &a, &c[k], &err)) {
                    printf("    read: %s\n", firn_test_errtext(&err));
                    return -1;
                }
            size_t n = firn_pq_reader_row_group_rows(r, rg);
            rows want;
            for (size_t i = 0; i < n; i++) {
                int64_t id = ((const int64_t *)c[0].values)[i];
                if (id < 0 || (size_t)id >= nseen) return -1;
                seen[id]++;
                rows_make(&want, (size_t)id, 1, DAY_US / 5);
                bool ok = true;
                bool tv = !c[1].validity || c[1].validity[i];
                ok = ok && tv == want.ts_valid[0];
                ok = ok && (!tv || ((const int64_t *)c[1].values)[i] == want.ts[0]);
                bool cv = !c[2].validity || c[2].validity[i];
                ok = ok && cv == want.cat_valid[0];
                ok = ok && (!cv || (size_t)(c[2].offsets[i + 1] - c[2].offsets[i]) == want.cat.len);
                ok = ok && (!cv || memcmp(c[2].data + c[2].offsets[i], want.cat.data, want.cat.len) == 0);
                bool sv = !c[3].validity || c[3].validity[i];
                double d = ((const double *)c[3].values)[i];
                ok = ok && sv == want.score_valid[0];
                ok = ok && (!sv || (isnan(want.score[0]) ? isnan(d) : d == want.score[0]));
                bool iv = !c[4].validity || c[4].validity[i];
                ok = ok && iv == want.img_valid[0];
                ok = ok && (!iv || (size_t)(c[4].offsets[i + 1] - c[4].offsets[i]) == want.img.len);
                ok = ok && (!iv || want.img.len == 0 ||
                            memcmp(c[4].data + c[4].offsets[i], want.img.data, want.img.len) == 0);
                rows_free(&want);
                if (!ok) {
                    printf("    row id %lld differs in %s\n", (long long)id, files[f].file_path);
                    return -1;
                }
            }
            total += (long)n;
            firn_arena_release(&a);
        }
        firn_pq_reader_free(r);
        firn_error_release(&err);
    }
    return total;
}

static int count_parquet(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) n += count_parquet(p);
        else if (strstr(e->d_name, ".parquet")) n++;
    }
    closedir(d);
    return n;
}

/* Write n rows from 0 in batches, close. */
static firn_ice_data_writer *write_all(const firn_ice_metadata *md, firn_io *io,
                                       const firn_ice_data_writer_options *o, size_t n,
                                       size_t batch, const firn_ice_data_file **files,
                                       size_t *nfiles) {
    firn_error err;
    firn_error_init(&err);
    firn_ice_data_writer *w = firn_ice_data_writer_new(md, io, o, &err);
    if (!w) {
        printf("    writer: %s\n", firn_test_errtext(&err));
        return NULL;
    }
    for (size_t from = 0; from < n; from += batch) {
        rows r;
        rows_make(&r, from, from + batch > n ? n - from : batch, DAY_US / 5);
        int rc = firn_ice_data_writer_write(w, r.cols, r.n, &err);
        rows_free(&r);
        if (rc) {
            printf("    write: %s\n", firn_test_errtext(&err));
            firn_ice_data_writer_free(w);
            return NULL;
        }
    }
    if (firn_ice_data_writer_close(w, files, nfiles, &err)) {
        printf("    close: %s\n", firn_test_errtext(&err));
        firn_ice_data_writer_free(w);
        return NULL;
    }
    firn_error_release(&err);
    return w;
}

/* ------------------------------------------------------------ tests */

FIRN_TEST(ice_writer_unpartitioned_stats_by_field_id) {
    char dir[600];
    firn_ice_metadata *md = make_table("plain", NULL, NULL, dir, sizeof dir);
    CHECK(md);
    firn_io *io = firn_io_local_new();
    const size_t N = 1000;
    const firn_ice_data_file *files;
    size_t nfiles;
    firn_ice_data_writer *w = write_all(md, io, NULL, N, 333, &files, &nfiles);
    CHECK(w);
    CHECK_EQ_INT(nfiles, 1);
    CHECK_EQ_INT(firn_ice_data_writer_rows(w), N);
    const firn_ice_data_file *df = &files[0];
    /* <location>/data/00000-0-<uuid>-00001.parquet, a full URI */
    char prefix[700];
    snprintf(prefix, sizeof prefix, "file:%s/data/00000-0-", dir);
    CHECK_MSG(strncmp(df->file_path, prefix, strlen(prefix)) == 0, "%s", df->file_path);
    CHECK(strstr(df->file_path, "-00001.parquet"));
    CHECK_EQ_STR(df->file_format, "PARQUET");
    CHECK_EQ_INT(df->content, FIRN_ICE_CONTENT_DATA);
    CHECK_EQ_INT(df->spec_id, 0);
    CHECK_EQ_INT(df->npartition, 0);
    CHECK_EQ_INT(df->record_count, N);
    struct stat st;
    CHECK(stat(local_path(df->file_path), &st) == 0);
    CHECK_EQ_INT(df->file_size_in_bytes, st.st_size);
    CHECK(df->nsplit_offsets >= 1);
    CHECK_EQ_INT(df->split_offsets[0], 4);

    /* expected counts and bounds, computed from the generator */
    rows all;
    rows_make(&all, 0, N, DAY_US / 5);
    int64_t nulls[NCOLS] = {0}, nans = 0;
    int64_t ts_min = INT64_MAX, ts_max = INT64_MIN;
    double sc_min = INFINITY, sc_max = -INFINITY;
    for (size_t i = 0; i < N; i++) {
        if (!all.ts_valid[i]) nulls[1]++;
        else {
            if (all.ts[i] < ts_min) ts_min = all.ts[i];
            if (all.ts[i] > ts_max) ts_max = all.ts[i];
        }
        if (!all.cat_valid[i]) nulls[2]++;
        if (!all.score_valid[i]) nulls[3]++;
        else if (isnan(all.score[i])) nans++;
        else {
            if (all.score[i] < sc_min) sc_min = all.score[i];
            if (all.score[i] > sc_max) sc_max = all.score[i];
        }
        if (!all.img_valid[i]) nulls[4]++;
    }
    for (int32_t id = 1; id <= NCOLS; id++) {
        const firn_ice_metric *v = metric(df->value_counts, df->nvalue_counts, id);
        const firn_ice_metric *nu = metric(df->null_value_counts, df->nnull_value_counts, id);
        const firn_ice_metric *cs = metric(df->column_sizes, df->ncolumn_sizes, id);
        CHECK_MSG(v && nu && cs, "field %d lacks counts", id);
        CHECK_EQ_INT(v->value, N);
        CHECK_EQ_INT(nu->value, nulls[id - 1]);
        CHECK(cs->value > 0);
    }
    CHECK_EQ_INT(df->nnan_value_counts, 1);
    CHECK_EQ_INT(metric(df->nan_value_counts, 1, 4)->value, nans);
    /* bounds: id 0..N-1, ts and score as written (NaN never a bound) */
    const firn_ice_bound *lo = bound(df->lower_bounds, df->nlower_bounds, 1);
    const firn_ice_bound *hi = bound(df->upper_bounds, df->nupper_bounds, 1);
    CHECK(lo && hi && lo->len == 8 && hi->len == 8);
    CHECK_EQ_INT((int64_t)firn_load_le64(lo->bytes), 0);
    CHECK_EQ_INT((int64_t)firn_load_le64(hi->bytes), N - 1);
    lo = bound(df->lower_bounds, df->nlower_bounds, 2);
    hi = bound(df->upper_bounds, df->nupper_bounds, 2);
    CHECK(lo && hi);
    CHECK_EQ_INT((int64_t)firn_load_le64(lo->bytes), ts_min);
    CHECK_EQ_INT((int64_t)firn_load_le64(hi->bytes), ts_max);
    lo = bound(df->lower_bounds, df->nlower_bounds, 4);
    hi = bound(df->upper_bounds, df->nupper_bounds, 4);
    CHECK(lo && hi);
    uint64_t bits = firn_load_le64(lo->bytes);
    double dlo, dhi;
    memcpy(&dlo, &bits, 8);
    bits = firn_load_le64(hi->bytes);
    memcpy(&dhi, &bits, 8);
    CHECK(dlo == sc_min && dhi == sc_max);
    /* strings: the longest category is cut to 16 code points, the upper bound
     * rounded up ("a-much-longer-ca" -> "a-much-longer-cb"); min "a-much..." < "alpha" */
    lo = bound(df->lower_bounds, df->nlower_bounds, 3);
    hi = bound(df->upper_bounds, df->nupper_bounds, 3);
    CHECK(lo && hi);
    CHECK_EQ_INT(lo->len, 16);
    CHECK_MEM(lo->bytes, "a-much-longer-ca", 16);
    CHECK_EQ_INT(hi->len, 4); /* "é/x" is the max: bytes C3 A9 2F 78, 3 code points */
    CHECK_MEM(hi->bytes, "\xc3\xa9/x", 4);
    /* binary: lower = min truncated to 16 bytes; upper = max's 16-byte prefix
     * with the last byte incremented */
    const uint8_t *bmin = NULL, *bmax = NULL;
    size_t lmin = 0, lmax = 0;
    for (size_t i = 0; i < N; i++) {
        if (!all.img_valid[i]) continue;
        const uint8_t *p = all.img.data + all.img_off[i];
        size_t l = (size_t)(all.img_off[i + 1] - all.img_off[i]);
        size_t m;
        int c;
        m = bmin ? (l < lmin ? l : lmin) : 0;
        c = bmin ? memcmp(p, bmin, m) : -1;
        if (!bmin || c < 0 || (c == 0 && l < lmin)) bmin = p, lmin = l;
        m = bmax ? (l < lmax ? l : lmax) : 0;
        c = bmax ? memcmp(p, bmax, m) : 1;
        if (!bmax || c > 0 || (c == 0 && l > lmax)) bmax = p, lmax = l;
    }
    lo = bound(df->lower_bounds, df->nlower_bounds, 5);
    hi = bound(df->upper_bounds, df->nupper_bounds, 5);
    CHECK(lo && hi);
    CHECK_EQ_INT(lo->len, lmin < 16 ? lmin : 16);
    CHECK(lo->len == 0 || memcmp(lo->bytes, bmin, lo->len) == 0);
    CHECK(lmax > 16 && bmax[15] != 0xFF);
    CHECK_EQ_INT(hi->len, 16);
    CHECK_MEM(hi->bytes, bmax, 15);
    CHECK_EQ_INT(hi->bytes[15], bmax[15] + 1);
    rows_free(&all);

    /* the file: every row back, field ids, iceberg.schema */
    unsigned char *seen = calloc(N, 1);
    CHECK_EQ_INT(read_back(files, nfiles, seen, N), N);
    for (size_t i = 0; i < N; i++) CHECK_EQ_INT(seen[i], 1);
    free(seen);
    firn_error err;
    firn_error_init(&err);
    firn_pq_reader *r = firn_pq_reader_open(local_path(df->file_path), &err);
    CHECK(r);
    char *schema_json = firn_ice_schema_to_string(firn_ice_metadata_current_schema(md));
    CHECK_EQ_STR(firn_pq_reader_kv(r, "iceberg.schema"), schema_json);
    free(schema_json);
    for (size_t c = 0; c < NCOLS; c++) {
        const firn_pq_column_desc *d = firn_pq_reader_column(r, c);
        CHECK_EQ_INT(d->field_id, (int)c + 1);
        CHECK_EQ_INT(d->optional, c != 0);
    }
    firn_pq_chunk_info ci;
    CHECK_OK(firn_pq_reader_chunk_info(r, 0, 0, &ci, &err), &err);
    CHECK_EQ_INT(ci.codec, FIRN_PQ_ZSTD); /* the table property's default */
    firn_pq_reader_free(r);
    firn_ice_data_writer_free(w);
    firn_io_free(io);
    firn_ice_metadata_free(md);
}

/* Java's bucket: murmur3_x86_32 of the long as 8 bytes little-endian. */
static int32_t bucket_long(int64_t v, int n) {
    uint8_t b[8];
    firn_store_le64(b, (uint64_t)v);
    return (int32_t)((firn_murmur3_32(b, 8, 0) & 0x7FFFFFFF) % (uint32_t)n);
}

FIRN_TEST(ice_writer_partitioned_day_and_bucket) {
    char dir[600];
    const char *spec[] = {"ts", "day", "ts_day", "id", "bucket[4]", "id_bucket", NULL};
    firn_ice_metadata *md = make_table("daybucket", spec, NULL, dir, sizeof dir);
    CHECK(md);
    CHECK_EQ_INT(firn_ice_metadata_default_spec(md)->nfields, 2);
    firn_io *io = firn_io_local_new();
    const size_t N = 2000;
    const firn_ice_data_file *files;
    size_t nfiles;
    firn_ice_data_writer *w = write_all(md, io, NULL, N, 700, &files, &nfiles);
    CHECK(w);
    /* ts spans N/5 = 400 days plus nulls; 4 buckets */
    CHECK(nfiles > 100);
    unsigned char *seen = calloc(N, 1);
    long total = 0;
    for (size_t f = 0; f < nfiles; f++) {
        const firn_ice_data_file *df = &files[f];
        CHECK_EQ_INT(df->npartition, 2);
        const firn_ice_value *day = &df->partition[0], *bkt = &df->partition[1];
        CHECK(!bkt->is_null && bkt->type == FIRN_ICE_INT);
        /* the path: data/ts_day=YYYY-MM-DD/id_bucket=K/ (ts_day=null for null ts) */
        char want[200];
        if (day->is_null) {
            snprintf(want, sizeof want, "/data/ts_day=null/id_bucket=%d/", bkt->u.i32);
        } else {
            CHECK(day->type == FIRN_ICE_DATE);
            int64_t y;
            int mo, dd;
            firn_ice_civil_from_days(day->u.i32, &y, &mo, &dd);
            snprintf(want, sizeof want, "/data/ts_day=%04lld-%02d-%02d/id_bucket=%d/", (long long)y,
                     mo, dd, bkt->u.i32);
        }
        CHECK_MSG(strstr(df->file_path, want), "%s not under %s", df->file_path, want);
        /* every row of the file belongs to the file's partition */
        firn_error err;
        firn_error_init(&err);
        firn_pq_reader *r = firn_pq_reader_open(local_path(df->file_path), &err);
        CHECK(r);
        for (size_t rg = 0; rg < firn_pq_reader_num_row_groups(r); rg++) {
            firn_arena a;
            firn_arena_init(&a, 0);
            firn_pq_column_data ids, ts;
            CHECK_OK(firn_pq_reader_read_column(r, rg, 0, &a, &ids, &err), &err);
            CHECK_OK(firn_pq_reader_read_column(r, rg, 1, &a, &ts, &err), &err);
            for (size_t i = 0; i < firn_pq_reader_row_group_rows(r, rg); i++) {
                int64_t id = ((const int64_t *)ids.values)[i];
                CHECK(id >= 0 && (size_t)id < N);
                seen[id]++;
                CHECK_EQ_INT(bucket_long(id, 4), bkt->u.i32);
                bool tv = !ts.validity || ts.validity[i];
                CHECK_EQ_INT(!tv, day->is_null);
                if (tv) {
                    int64_t t = ((const int64_t *)ts.values)[i];
                    int64_t days = t >= 0 ? t / DAY_US : -((-t + DAY_US - 1) / DAY_US);
                    CHECK_EQ_INT(days, day->u.i32);
                }
                total++;
            }
            firn_arena_release(&a);
        }
        firn_pq_reader_free(r);
    }
    CHECK_EQ_INT(total, N);
    for (size_t i = 0; i < N; i++) CHECK_MSG(seen[i] == 1, "id %zu seen %d times", i, seen[i]);
    /* and the full read-back compares every value */
    memset(seen, 0, N);
    CHECK_EQ_INT(read_back(files, nfiles, seen, N), N);
    free(seen);
    firn_ice_data_writer_free(w);
    firn_io_free(io);
    firn_ice_metadata_free(md);
}

FIRN_TEST(ice_writer_partitioned_identity_string) {
    char dir[600];
    const char *spec[] = {"category", "identity", "category", NULL};
    firn_ice_metadata *md = make_table("identity", spec, NULL, dir, sizeof dir);
    CHECK(md);
    firn_io *io = firn_io_local_new();
    const size_t N = 500;
    const firn_ice_data_file *files;
    size_t nfiles;
    firn_ice_data_writer *w = write_all(md, io, NULL, N, 128, &files, &nfiles);
    CHECK(w);
    CHECK_EQ_INT(nfiles, 5); /* four categories and null */
    static const char *const dirs[] = {"/category=alpha/", "/category=b+c/",
                                       "/category=%C3%A9%2Fx/",
                                       "/category=a-much-longer-category-name-over-16/",
                                       "/category=null/"};
    for (size_t k = 0; k < 5; k++) {
        bool found = false;
        for (size_t f = 0; f < nfiles; f++) {
            if (!strstr(files[f].file_path, dirs[k])) continue;
            found = true;
            const firn_ice_value *v = &files[f].partition[0];
            if (k == 4) {
                CHECK(v->is_null);
            } else {
                CHECK(!v->is_null && v->type == FIRN_ICE_STRING);
                CHECK_EQ_INT(v->u.bin.len, strlen(CATS[k]));
                CHECK_MEM(v->u.bin.ptr, CATS[k], v->u.bin.len);
                /* identity partitions: bounds of the column equal the value */
                const firn_ice_bound *lo =
                    bound(files[f].lower_bounds, files[f].nlower_bounds, 3);
                CHECK(lo);
            }
        }
        CHECK_MSG(found, "no file under %s", dirs[k]);
    }
    unsigned char *seen = calloc(N, 1);
    CHECK_EQ_INT(read_back(files, nfiles, seen, N), N);
    free(seen);
    firn_ice_data_writer_free(w);
    firn_io_free(io);
    firn_ice_metadata_free(md);
}

FIRN_TEST(ice_writer_rolls_files_at_target_size) {
    char dir[600];
    /* small pages and dictionaries, scaled to the small target: the Parquet
     * writer's size estimate counts open pages uncompressed and a dictionary
     * next to its staged values, so with the 1-2 MiB defaults a 32 KiB file
     * would be cut at about a third of the target */
    const char *kv[] = {"write.target-file-size-bytes", "32768", "write.parquet.page-size-bytes",
                        "2048", "write.parquet.dict-size-bytes", "1024", NULL};
    firn_ice_metadata *md = make_table("rolling", NULL, kv, dir, sizeof dir);
    CHECK(md);
    firn_io *io = firn_io_local_new();
    const size_t N = 20000;
    const firn_ice_data_file *files;
    size_t nfiles;
    firn_ice_data_writer *w = write_all(md, io, NULL, N, 5000, &files, &nfiles);
    CHECK(w);
    CHECK_MSG(nfiles >= 4, "%zu files", nfiles);
    int64_t rows_total = 0;
    for (size_t f = 0; f < nfiles; f++) {
        struct stat st;
        CHECK(stat(local_path(files[f].file_path), &st) == 0);
        CHECK_EQ_INT(files[f].file_size_in_bytes, st.st_size);
        /* the size is checked as rows go in: files end near the target */
        CHECK_MSG(files[f].file_size_in_bytes < 32768 * 3 / 2, "file %zu: %lld bytes", f,
                  (long long)files[f].file_size_in_bytes);
        if (f + 1 < nfiles)
            CHECK_MSG(files[f].file_size_in_bytes > 32768 / 2, "file %zu: %lld bytes", f,
                      (long long)files[f].file_size_in_bytes);
        char want[32];
        snprintf(want, sizeof want, "-%05zu.parquet", f + 1);
        CHECK_MSG(strstr(files[f].file_path, want), "%s", files[f].file_path);
        rows_total += files[f].record_count;
    }
    CHECK_EQ_INT(rows_total, N);
    unsigned char *seen = calloc(N, 1);
    CHECK_EQ_INT(read_back(files, nfiles, seen, N), N);
    for (size_t i = 0; i < N; i++) CHECK_EQ_INT(seen[i], 1);
    free(seen);
    firn_ice_data_writer_free(w);

    /* the option overrides the property */
    firn_ice_data_writer_options o = {0};
    o.target_file_size = 1 << 30;
    w = write_all(md, io, &o, N, 5000, &files, &nfiles);
    CHECK(w);
    CHECK_EQ_INT(nfiles, 1);
    firn_ice_data_writer_free(w);
    firn_io_free(io);
    firn_ice_metadata_free(md);
}

FIRN_TEST(ice_writer_metrics_modes) {
    char dir[600];
    const char *kv[] = {"write.metadata.metrics.default", "counts",
                        "write.metadata.metrics.column.id", "full",
                        "write.metadata.metrics.column.category", "truncate(2)",
                        "write.metadata.metrics.column.img", "None",
                        "write.metadata.metrics.column.gone", "full", /* unknown: ignored */
                        NULL};
    firn_ice_metadata *md = make_table("metrics", NULL, kv, dir, sizeof dir);
    CHECK(md);
    firn_io *io = firn_io_local_new();
    const firn_ice_data_file *files;
    size_t nfiles;
    firn_ice_data_writer *w = write_all(md, io, NULL, 300, 300, &files, &nfiles);
    CHECK(w);
    const firn_ice_data_file *df = &files[0];
    /* none: img in no map at all */
    CHECK(!metric(df->column_sizes, df->ncolumn_sizes, 5));
    CHECK(!metric(df->value_counts, df->nvalue_counts, 5));
    CHECK(!metric(df->null_value_counts, df->nnull_value_counts, 5));
    CHECK(!bound(df->lower_bounds, df->nlower_bounds, 5));
    /* counts: ts and score counted, no bounds; score's NaNs counted */
    CHECK(metric(df->value_counts, df->nvalue_counts, 2));
    CHECK(metric(df->column_sizes, df->ncolumn_sizes, 2));
    CHECK(!bound(df->lower_bounds, df->nlower_bounds, 2));
    CHECK(!bound(df->upper_bounds, df->nupper_bounds, 4));
    CHECK(metric(df->nan_value_counts, df->nnan_value_counts, 4));
    /* full id, truncate(2) category: "a-" .. "é0" ("é/" rounded up) */
    CHECK(bound(df->lower_bounds, df->nlower_bounds, 1));
    const firn_ice_bound *lo = bound(df->lower_bounds, df->nlower_bounds, 3);
    const firn_ice_bound *hi = bound(df->upper_bounds, df->nupper_bounds, 3);
    CHECK(lo && hi);
    CHECK_EQ_INT(lo->len, 2);
    CHECK_MEM(lo->bytes, "a-", 2);
    CHECK_EQ_INT(hi->len, 3);
    CHECK_MEM(hi->bytes, "\xc3\xa9" "0", 3);
    firn_ice_data_writer_free(w);
    firn_ice_metadata_free(md);

    /* a mode that is not one is an error naming the property */
    const char *bad[] = {"write.metadata.metrics.column.id", "truncate(0)", NULL};
    md = make_table("metrics-bad", NULL, bad, dir, sizeof dir);
    CHECK(md);
    firn_error err;
    firn_error_init(&err);
    CHECK(!firn_ice_data_writer_new(md, io, NULL, &err));
    CHECK_MSG(strstr(firn_test_errtext(&err), "write.metadata.metrics.column.id"), "%s", firn_test_errtext(&err));
    firn_ice_metadata_free(md);
    firn_io_free(io);
    firn_error_release(&err);
}

FIRN_TEST(ice_writer_media_column_uncompressed) {
    char dir[600];
    const char *kv[] = {"write.parquet.media-columns", "img", "write.parquet.compression-codec",
                        "snappy", NULL};
    firn_ice_metadata *md = make_table("media", NULL, kv, dir, sizeof dir);
    CHECK(md);
    firn_io *io = firn_io_local_new();
    const firn_ice_data_file *files;
    size_t nfiles;
    firn_ice_data_writer *w = write_all(md, io, NULL, 400, 100, &files, &nfiles);
    CHECK(w);
    const firn_ice_data_file *df = &files[0];
    CHECK(!bound(df->lower_bounds, df->nlower_bounds, 5)); /* media: no bounds */
    CHECK(metric(df->value_counts, df->nvalue_counts, 5));
    firn_error err;
    firn_error_init(&err);
    firn_pq_reader *r = firn_pq_reader_open(local_path(df->file_path), &err);
    CHECK(r);
    firn_pq_chunk_info ci;
    CHECK_OK(firn_pq_reader_chunk_info(r, 0, 4, &ci, &err), &err);
    CHECK_EQ_INT(ci.codec, FIRN_PQ_UNCOMPRESSED);
    CHECK_EQ_INT(ci.dictionary_page_offset, -1);
    CHECK_OK(firn_pq_reader_chunk_info(r, 0, 2, &ci, &err), &err);
    CHECK_EQ_INT(ci.codec, FIRN_PQ_SNAPPY);
    firn_pq_reader_free(r);
    unsigned char *seen = calloc(400, 1);
    CHECK_EQ_INT(read_back(files, nfiles, seen, 400), 400);
    free(seen);
    firn_ice_data_writer_free(w);
    firn_ice_metadata_free(md);

    /* a media marker on a non-binary column is refused */
    const char *bad[] = {"write.parquet.media-columns", "category", NULL};
    md = make_table("media-bad", NULL, bad, dir, sizeof dir);
    CHECK(!firn_ice_data_writer_new(md, io, NULL, &err));
    CHECK_MSG(strstr(firn_test_errtext(&err), "category"), "%s", firn_test_errtext(&err));
    firn_ice_metadata_free(md);
    /* an unsupported codec is named */
    const char *lz4[] = {"write.parquet.compression-codec", "lzo", NULL};
    md = make_table("codec-bad", NULL, lz4, dir, sizeof dir);
    CHECK(!firn_ice_data_writer_new(md, io, NULL, &err));
    CHECK_EQ_INT(err.kind, FIRN_ERR_UNSUPPORTED);
    firn_ice_metadata_free(md);
    firn_io_free(io);
    firn_error_release(&err);
}

FIRN_TEST(ice_writer_abort_and_failure_delete_files) {
    char dir[600];
    const char *spec[] = {"id", "bucket[4]", "id_bucket", NULL};
    const char *kv[] = {"write.target-file-size-bytes", "8192", NULL};
    firn_ice_metadata *md = make_table("abort", spec, kv, dir, sizeof dir);
    CHECK(md);
    firn_io *io = firn_io_local_new();
    firn_error err;
    firn_error_init(&err);
    char data[700];
    snprintf(data, sizeof data, "%s/data", dir);

    /* closed, then aborted (a commit that failed): every file goes */
    const firn_ice_data_file *files;
    size_t nfiles;
    firn_ice_data_writer *w = write_all(md, io, NULL, 6000, 1000, &files, &nfiles);
    CHECK(w);
    CHECK(nfiles > 4);
    CHECK_EQ_INT(count_parquet(data), (int)nfiles);
    firn_ice_data_writer_abort(w);
    firn_ice_data_writer_free(w);
    CHECK_EQ_INT(count_parquet(data), 0);

    /* free without close: open and rolled files go */
    w = firn_ice_data_writer_new(md, io, NULL, &err);
    CHECK(w);
    rows r;
    rows_make(&r, 0, 6000, DAY_US / 5);
    CHECK_OK(firn_ice_data_writer_write(w, r.cols, r.n, &err), &err);
    CHECK(count_parquet(data) > 0); /* rolled files are published as they finish */
    firn_ice_data_writer_free(w);
    CHECK_EQ_INT(count_parquet(data), 0);

    /* a bad batch (null in the required id) after good ones: all files go */
    w = firn_ice_data_writer_new(md, io, NULL, &err);
    CHECK(w);
    CHECK_OK(firn_ice_data_writer_write(w, r.cols, r.n, &err), &err);
    uint8_t *valid = malloc(r.n);
    memset(valid, 1, r.n);
    valid[r.n / 2] = 0;
    r.cols[0].validity = valid;
    CHECK(firn_ice_data_writer_write(w, r.cols, r.n, &err) != 0);
    CHECK_EQ_INT(count_parquet(data), 0);
    /* the writer stays failed */
    r.cols[0].validity = NULL;
    CHECK(firn_ice_data_writer_write(w, r.cols, r.n, &err) != 0);
    CHECK(firn_ice_data_writer_close(w, &files, &nfiles, &err) != 0);
    firn_ice_data_writer_free(w);
    free(valid);
    rows_free(&r);
    CHECK_EQ_INT(count_parquet(data), 0);
    firn_ice_metadata_free(md);
    firn_io_free(io);
    firn_error_release(&err);
}

/* ------------------------------------------------------------ fast append */

static const char *sum(const firn_ice_snapshot *s, const char *k) {
    const char *v = firn_ice_snapshot_summary_get(s, k);
    return v ? v : "(none)";
}

static int count_files_named(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
    closedir(d);
    return n;
}

/* Update: inner, but on its first call another producer commits first. */
typedef struct race {
    firn_ice_update inner;
    firn_ice_producer *first;
    int calls;
} race;

static int race_apply(void *ctx, firn_ice_metadata *md, firn_error *err) {
    race *r = ctx;
    if (r->calls++ == 0 && firn_ice_producer_commit(r->first, NULL, err)) return -err->kind;
    return r->inner.apply(r->inner.ctx, md, err);
}

static void race_finish(void *ctx, firn_ice_commit_state state) {
    race *r = ctx;
    r->inner.finish(r->inner.ctx, state);
}

FIRN_TEST(ice_writer_fast_append_commits_snapshots) {
    firn_error err;
    firn_error_init(&err);
    char wh[600];
    static const char *const db[] = {"db", NULL};
    firn_catalog *cat = NULL;
    CHECK_OK(firn_test_warehouse_open("append-wh", NULL, false, db, wh, sizeof wh, &cat, &err),
             &err);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_partition_field pf = {1, 1000, "id_bucket", {FIRN_ICE_TRANSFORM_BUCKET, 4, NULL}};
    firn_ice_partition_spec *spec = firn_ice_partition_spec_new(&a, 0, &pf, 1);
    firn_ice_table *t = NULL;
    CHECK_OK(firn_test_table_create(cat, &a, "db", "ev", SCHEMA_JSON, spec, NULL, 0, &t, &err),
             &err);

    /* append 1: 300 rows in 4 buckets */
    const firn_ice_data_file *files;
    size_t nfiles;
    firn_ice_data_writer *w1 = write_all(t->metadata, t->io, NULL, 300, 100, &files, &nfiles);
    CHECK(w1 && nfiles == 4);
    int64_t bytes1 = 0;
    for (size_t i = 0; i < nfiles; i++) bytes1 += files[i].file_size_in_bytes;
    firn_ice_producer *fa = firn_test_fast_append_new(t, NULL, &err);
    CHECK(fa);
    for (size_t i = 0; i < nfiles; i++) CHECK_OK(firn_ice_producer_add_file(fa, &files[i], &err), &err);
    firn_ice_producer_set_summary(fa, "firn.source.raw.0", "299");
    CHECK_OK(firn_ice_producer_commit(fa, NULL, &err), &err);
    int64_t s1 = firn_ice_producer_snapshot_id(fa);
    firn_ice_producer_free(fa);
    const firn_ice_snapshot *snap = firn_ice_metadata_current_snapshot(t->metadata);
    CHECK(snap && snap->snapshot_id == s1 && !snap->has_parent);
    CHECK_EQ_INT(snap->sequence_number, 1);
    CHECK_EQ_STR(firn_ice_snapshot_operation(snap), "append");
    CHECK_EQ_STR(sum(snap, "added-data-files"), "4");
    CHECK_EQ_STR(sum(snap, "added-records"), "300");
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)bytes1);
    CHECK_EQ_STR(sum(snap, "added-files-size"), b);
    CHECK_EQ_STR(sum(snap, "total-files-size"), b);
    CHECK_EQ_STR(sum(snap, "changed-partition-count"), "4");
    CHECK_EQ_STR(sum(snap, "total-records"), "300");
    CHECK_EQ_STR(sum(snap, "total-data-files"), "4");
    CHECK_EQ_STR(sum(snap, "total-delete-files"), "0");
    CHECK_EQ_STR(sum(snap, "total-position-deletes"), "0");
    CHECK_EQ_STR(sum(snap, "total-equality-deletes"), "0");
    CHECK_EQ_STR(sum(snap, "firn.source.raw.0"), "299");

    /* the manifest list and manifest: entries inherit the snapshot's ids */
    firn_ice_manifest_file *mfs;
    size_t nmf;
    firn_ice_manifest_list_header lh;
    CHECK_OK(firn_ice_manifest_list_read(t->io, snap->manifest_list, &a, &mfs, &nmf, &lh, &err), &err);
    CHECK_EQ_INT(nmf, 1);
    CHECK_EQ_INT(lh.snapshot_id, s1);
    CHECK_EQ_INT(lh.sequence_number, 1);
    CHECK_EQ_INT(mfs[0].sequence_number, 1);
    CHECK_EQ_INT(mfs[0].min_sequence_number, 1);
    CHECK_EQ_INT(mfs[0].added_snapshot_id, s1);
    CHECK_EQ_INT(mfs[0].added_files_count, 4);
    CHECK_EQ_INT(mfs[0].added_rows_count, 300);
    firn_ice_manifest_reader *mr = firn_ice_manifest_reader_open(t->io, mfs[0].manifest_path, &err);
    CHECK(mr);
    CHECK_OK(firn_ice_manifest_reader_inherit(mr, &mfs[0], &err), &err);
    firn_ice_manifest_entry e;
    int n = 0, got;
    while ((got = firn_ice_manifest_reader_next(mr, &a, &e, &err)) == 1) {
        CHECK_EQ_INT(e.status, FIRN_ICE_ADDED);
        CHECK_EQ_INT(e.snapshot_id, s1);
        CHECK_EQ_INT(e.sequence_number, 1);
        bool found = false;
        for (size_t i = 0; i < nfiles; i++)
            if (strcmp(files[i].file_path, e.data_file.file_path) == 0) {
                found = true;
                CHECK_EQ_INT(e.data_file.record_count, files[i].record_count);
                CHECK_EQ_INT(e.data_file.file_size_in_bytes, files[i].file_size_in_bytes);
                CHECK_EQ_INT(e.data_file.partition[0].u.i32, files[i].partition[0].u.i32);
                CHECK_EQ_INT(e.data_file.nlower_bounds, files[i].nlower_bounds);
            }
        CHECK(found);
        n++;
    }
    CHECK_EQ_INT(got, 0);
    CHECK_EQ_INT(n, 4);
    firn_ice_manifest_reader_free(mr);

    /* append 2 (through t) lands while append 3 (through another handle) is in its
     * first attempt: 3 loses once, re-lists on 2 */
    firn_ice_table *t2 = NULL;
    CHECK_OK(firn_ice_table_load(cat, "db", "ev", &t2, &err), &err);
    firn_ice_data_writer *w2 = write_all(t->metadata, t->io, NULL, 50, 50, &files, &nfiles);
    CHECK(w2);
    firn_ice_producer *fa2 = firn_test_fast_append_new(t, NULL, &err);
    for (size_t i = 0; i < nfiles; i++) firn_ice_producer_add_file(fa2, &files[i], &err);
    int64_t s2 = firn_ice_producer_snapshot_id(fa2);
    firn_ice_data_writer *w3 = write_all(t2->metadata, t2->io, NULL, 10, 10, &files, &nfiles);
    CHECK(w3);
    fa = firn_test_fast_append_new(t2, NULL, &err);
    for (size_t i = 0; i < nfiles; i++) firn_ice_producer_add_file(fa, &files[i], &err);
    race r = {firn_ice_producer_update(fa), fa2, 0};
    firn_ice_update ru = {race_apply, race_finish, &r};
    firn_ice_commit_info info;
    CHECK_OK(firn_ice_table_commit(t2, &ru, 1, &info, &err), &err);
    CHECK_EQ_INT(info.attempts, 2);
    firn_ice_producer_free(fa2);
    int64_t s3 = firn_ice_producer_snapshot_id(fa);
    firn_ice_producer_free(fa);
    snap = firn_ice_metadata_current_snapshot(t2->metadata);
    CHECK(snap->snapshot_id == s3 && snap->parent_snapshot_id == s2);
    CHECK_EQ_INT(snap->sequence_number, 3);
    CHECK_EQ_STR(sum(snap, "total-records"), "360");
    CHECK_OK(firn_ice_manifest_list_read(t2->io, snap->manifest_list, &a, &mfs, &nmf, &lh, &err), &err);
    CHECK_EQ_INT(nmf, 3);
    /* new first; carried-over manifests keep their sequence numbers and snapshot ids */
    CHECK_EQ_INT(mfs[0].added_snapshot_id, s3);
    CHECK_EQ_INT(mfs[0].sequence_number, 3);
    CHECK_EQ_INT(mfs[1].added_snapshot_id, s2);
    CHECK_EQ_INT(mfs[1].sequence_number, 2);
    CHECK_EQ_INT(mfs[2].added_snapshot_id, s1);
    CHECK_EQ_INT(mfs[2].sequence_number, 1);
    /* the losing attempt's manifest list was deleted: one list per snapshot */
    char mdir[700];
    snprintf(mdir, sizeof mdir, "%s/db/ev/metadata", wh);
    CHECK_EQ_INT(count_files_named(mdir, "snap-"), 3);

    /* an append to a new branch: parented on main, main unchanged */
    firn_ice_data_writer *w4 = write_all(t2->metadata, t2->io, NULL, 5, 5, &files, &nfiles);
    fa = firn_test_fast_append_new(t2, "dev", &err);
    for (size_t i = 0; i < nfiles; i++) firn_ice_producer_add_file(fa, &files[i], &err);
    CHECK_OK(firn_ice_producer_commit(fa, NULL, &err), &err);
    int64_t d1 = firn_ice_producer_snapshot_id(fa);
    firn_ice_producer_free(fa);
    CHECK_EQ_INT(t2->metadata->current_snapshot_id, s3);
    CHECK_EQ_INT(firn_ice_metadata_ref(t2->metadata, "dev")->snapshot_id, d1);
    CHECK_EQ_INT(firn_ice_metadata_snapshot(t2->metadata, d1)->parent_snapshot_id, s3);
    /* publish: fast-forward main to dev */
    firn_ice_ref_update ff = {FIRN_ICE_REF_FAST_FORWARD, FIRN_ICE_REF_BRANCH, "main", 0, "dev"};
    CHECK_OK(firn_ice_table_update_ref(t2, &ff, &err), &err);
    CHECK_EQ_INT(t2->metadata->current_snapshot_id, d1);
    CHECK_EQ_STR(sum(firn_ice_metadata_current_snapshot(t2->metadata), "total-records"), "365");

    /* a definite failure removes the new manifest and list (data files are the writer's) */
    firn_ice_data_writer *w5 = write_all(t2->metadata, t2->io, NULL, 5, 5, &files, &nfiles);
    fa = firn_test_fast_append_new(t2, NULL, &err);
    for (size_t i = 0; i < nfiles; i++) firn_ice_producer_add_file(fa, &files[i], &err);
    firn_ice_update u[2] = {firn_ice_producer_update(fa), {NULL, NULL, NULL}};
    int nm_before = count_files_named(mdir, "");
    firn_ice_ref_update bad = {FIRN_ICE_REF_REMOVE, FIRN_ICE_REF_BRANCH, "main", 0, NULL};
    u[1] = firn_ice_update_ref(&bad);
    CHECK(firn_ice_table_commit(t2, u, 2, NULL, &err) != 0);
    CHECK_EQ_INT(count_files_named(mdir, ""), nm_before);
    firn_ice_producer_free(fa);
    firn_ice_data_writer_abort(w5);

    firn_ice_data_writer_free(w1);
    firn_ice_data_writer_free(w2);
    firn_ice_data_writer_free(w3);
    firn_ice_data_writer_free(w4);
    firn_ice_data_writer_free(w5);
    firn_ice_table_free(t);
    firn_ice_table_free(t2);
    firn_arena_release(&a);
    firn_cat_free(cat);
    firn_error_release(&err);
}
