/* test_iceberg_scan.c - filter expressions (parser, binding, errors) and
 * table scans: tables written with the data writer + fast append, partitioned
 * by day(ts) and identity(carId), scanned with filters and compared against
 * brute-force filtering of the generated rows; pruning counts; time travel by
 * snapshot id, time and ref; projection; schema evolution (added column reads
 * null, rename keeps ids, int widened to long); name mapping for files
 * without field ids; identity partition values missing from the file; the
 * file_size_in_bytes mismatch report. */
#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "io/io.h"
#include "parquet/parquet.h"
#include "fixture.h"
#include "test.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ expressions */

static const char EXPR_SCHEMA[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"},"
    "{\"id\":3,\"name\":\"carId\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":4,\"name\":\"slot\",\"required\":false,\"type\":\"int\"},"
    "{\"id\":5,\"name\":\"score\",\"required\":false,\"type\":\"double\"},"
    "{\"id\":6,\"name\":\"d\",\"required\":false,\"type\":\"date\"},"
    "{\"id\":7,\"name\":\"ok\",\"required\":false,\"type\":\"boolean\"},"
    "{\"id\":8,\"name\":\"x\",\"required\":false,\"type\":\"long\"}]}";

FIRN_TEST(iceberg_scan_expr_parse_and_bind) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *s = firn_ice_schema_parse(&a, EXPR_SCHEMA, strlen(EXPR_SCHEMA), &err);
    CHECK(s);
    static const struct { const char *in, *bound; } cases[] = {
        {"slot >= 3 and carId in ('12GA3456','34NA1234') or not (x is null)",
         "((slot >= 3 and carId in ('12GA3456', '34NA1234')) or x is not null)"},
        {"not (slot < 3 or slot > 5)", "(slot >= 3 and slot <= 5)"},
        {"ts >= '2024-03-01T10:00:00' and ts < '2024-03-02T00:00:00.5+00:00'",
         "(ts >= '2024-03-01T10:00:00.000000+00:00' and ts < '2024-03-02T00:00:00.500000+00:00')"},
        {"d = '2024-02-29' AND ok = true", "(d = '2024-02-29' and ok = true)"},
        {"score > -1.5e2 and score != 3", "(score > -150.0 and score != 3.0)"},
        {"carId not in ('it''s') and \"slot\" <> 4", "(carId not in ('it's') and slot != 4)"},
        {"not not (id = 7)", "id = 7"},
        {"true and slot = 1", "slot = 1"},
        {"not (x is not null and true)", "x is null"},
        {"CARID = 'a'", NULL}, /* case-sensitive: unknown */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        firn_ice_expr *e = firn_ice_expr_parse(&a, cases[i].in, &err);
        CHECK_MSG(e, "parse %s: %s", cases[i].in, firn_test_errtext(&err));
        firn_ice_expr *b = firn_ice_expr_bind(&a, e, s, true, &err);
        if (!cases[i].bound) {
            CHECK_MSG(!b && strstr(err.message, "unknown column 'CARID'"), "%s", cases[i].in);
            b = firn_ice_expr_bind(&a, e, s, false, &err);
            CHECK_MSG(b && b->field_id == 3, "case-insensitive bind: %s", firn_test_errtext(&err));
            continue;
        }
        CHECK_MSG(b, "bind %s: %s", cases[i].in, firn_test_errtext(&err));
        CHECK(firn_ice_expr_is_bound(b));
        firn_buf out;
        firn_buf_init(&out);
        firn_ice_expr_to_string(b, &out);
        CHECK_MSG(strcmp(firn_buf_cstr(&out), cases[i].bound) == 0, "%s -> %s (want %s)", cases[i].in,
                  firn_buf_cstr(&out), cases[i].bound);
        firn_buf_release(&out);
    }
    /* errors name the position */
    static const struct { const char *in, *msg; } bad[] = {
        {"slot >= ", "position 9: expected a value after '>=', found the end"},
        {"slot >> 3", "position 7: expected a value after '>'"},
        {"(slot = 1", "position 10: expected ')' to close '(' at position 1"},
        {"slot = 1 slot", "position 10: expected 'and', 'or' or the end"},
        {"carId = 'abc", "position 9: unterminated string"},
        {"slot in (1, 2", "position 14: expected ',' or ')'"},
        {"slot is nul", "position 9: expected 'null' after 'is'"},
        {"", "position 1: empty filter"},
        {"slot = 1 & x = 2", "position 10: unexpected character '&'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        firn_ice_expr *e = firn_ice_expr_parse(&a, bad[i].in, &err);
        CHECK_MSG(!e && err.kind == FIRN_ERR_INVALID && strstr(err.message, bad[i].msg),
                  "'%s': got '%s', want '%s'", bad[i].in, e ? "(parsed)" : err.message, bad[i].msg);
    }
    static const struct { const char *in, *msg; } badbind[] = {
        {"nope = 1", "position 1: unknown column 'nope'"},
        {"slot = 'abc'", "position 8: 'abc' is not a int value for column 'slot'"},
        {"slot = 3000000000", "3000000000 is not a int value for column 'slot'"},
        {"ts > 'yesterday'", "'yesterday' is not a timestamptz value for column 'ts'"},
        {"carId = 12", "12 is not a string value for column 'carId'"},
        {"slot = null", "use 'slot is null'"},
        {"ok = 1", "1 is not a boolean value"},
        {"d < '2024-13-01'", "'2024-13-01' is not a date value"},
    };
    for (size_t i = 0; i < sizeof badbind / sizeof badbind[0]; i++) {
        firn_ice_expr *e = firn_ice_expr_parse(&a, badbind[i].in, &err);
        CHECK_MSG(e, "parse %s: %s", badbind[i].in, firn_test_errtext(&err));
        firn_ice_expr *b = firn_ice_expr_bind(&a, e, s, true, &err);
        CHECK_MSG(!b && strstr(err.message, badbind[i].msg), "'%s': got '%s', want '%s'",
                  badbind[i].in, b ? "(bound)" : err.message, badbind[i].msg);
    }
    firn_error_release(&err);
    firn_arena_release(&a);
}

FIRN_TEST(iceberg_scan_expr_eval_three_valued) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *s = firn_ice_schema_parse(&a, EXPR_SCHEMA, strlen(EXPR_SCHEMA), &err);
    int32_t slot[6] = {1, 2, 3, 0, 5, 6};
    uint8_t valid[6] = {1, 1, 1, 0, 1, 1};
    firn_pq_column_data col = {valid, slot, NULL, NULL};
    int32_t ids[1] = {4};
    const firn_ice_type *types[1] = {firn_ice_type_primitive(FIRN_ICE_INT)};
    firn_ice_expr_columns c = {1, ids, types, &col};
    static const struct { const char *f; const char *want; } cases[] = {
        {"slot != 2", "101011"},          /* null row excluded */
        {"not (slot = 2)", "101011"},
        {"slot is null or slot > 4", "000111"},
        {"slot in (1, 6) or slot is null", "100101"},
        {"not (slot in (1, 6))", "011010"},
        {"slot <= 3 and not (slot >= 2)", "100000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        firn_ice_expr *b = firn_ice_expr_bind(&a, firn_ice_expr_parse(&a, cases[i].f, &err), s, true, &err);
        CHECK_MSG(b, "%s: %s", cases[i].f, firn_test_errtext(&err));
        uint8_t sel[6];
        CHECK_OK(firn_ice_expr_eval(b, &c, 6, sel, &err), &err);
        char got[7];
        for (int k = 0; k < 6; k++) got[k] = sel[k] ? '1' : '0';
        got[6] = 0;
        CHECK_MSG(strcmp(got, cases[i].want) == 0, "%s: %s want %s", cases[i].f, got, cases[i].want);
    }
    firn_error_release(&err);
    firn_arena_release(&a);
}

/* Row i of a test column as a value (the reference the vectorised leaves must
 * agree with, through firn_ice_value_compare). */
static firn_ice_value eval_row_value(const firn_ice_type *t, const firn_pq_column_data *c, size_t i) {
    firn_ice_value v;
    memset(&v, 0, sizeof v);
    v.type = t->id;
    if (c->validity && !c->validity[i]) {
        v.is_null = true;
        return v;
    }
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: v.u.b = ((const uint8_t *)c->values)[i]; break;
    case FIRN_ICE_INT: case FIRN_ICE_DATE: v.u.i32 = ((const int32_t *)c->values)[i]; break;
    case FIRN_ICE_FLOAT: v.u.f32 = ((const float *)c->values)[i]; break;
    case FIRN_ICE_DOUBLE: v.u.f64 = ((const double *)c->values)[i]; break;
    case FIRN_ICE_DECIMAL:
        v.scale = t->scale;
        v.u.dec = t->precision <= 9 ? ((const int32_t *)c->values)[i] : ((const int64_t *)c->values)[i];
        break;
    case FIRN_ICE_STRING: case FIRN_ICE_BINARY:
        v.u.bin.ptr = c->data + c->offsets[i];
        v.u.bin.len = (size_t)(c->offsets[i + 1] - c->offsets[i]);
        break;
    default: v.u.i64 = ((const int64_t *)c->values)[i]; break;
    }
    return v;
}

static int reference_leaf(firn_ice_expr_op op, const firn_ice_value *v, const firn_ice_value *lits, size_t nl) {
    if (op == FIRN_ICE_EXPR_IS_NULL) return v->is_null;
    if (op == FIRN_ICE_EXPR_NOT_NULL) return !v->is_null;
    if (v->is_null) return -1;
    if (op == FIRN_ICE_EXPR_IN || op == FIRN_ICE_EXPR_NOT_IN) {
        bool found = false;
        for (size_t k = 0; k < nl; k++) found = found || firn_ice_value_compare(v, &lits[k]) == 0;
        return (op == FIRN_ICE_EXPR_IN) == found;
    }
    int c = firn_ice_value_compare(v, &lits[0]);
    switch (op) {
    case FIRN_ICE_EXPR_EQ: return c == 0;
    case FIRN_ICE_EXPR_NE: return c != 0;
    case FIRN_ICE_EXPR_LT: return c < 0;
    case FIRN_ICE_EXPR_LE: return c <= 0;
    case FIRN_ICE_EXPR_GT: return c > 0;
    default: return c >= 0;
    }
}

/* Every operator on columns of every type the vectorised leaves cover (nulls,
 * negative numbers, -0/+0, infinities and NaNs of both signs, empty and prefix
 * strings), literals drawn from the columns, against firn_ice_value_compare row
 * by row; and a leaf under and/or/not with unknowns. */
FIRN_TEST(iceberg_scan_expr_eval_vectorised_matches_value_compare) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    enum { N = 64 };
    static const double dv[] = {0.0, -0.0, 1.5, -1.5, 1e300, -1e300, 3.0, 7.25};
    static const char *const sv[] = {"", "a", "ab", "abc", "b", "\xc3\xa9t\xc3\xa9", "ab\x01", "zz"};
    const firn_ice_type *types[] = {
        firn_ice_type_primitive(FIRN_ICE_BOOLEAN), firn_ice_type_primitive(FIRN_ICE_INT),
        firn_ice_type_primitive(FIRN_ICE_DATE), firn_ice_type_primitive(FIRN_ICE_LONG),
        firn_ice_type_primitive(FIRN_ICE_TIMESTAMPTZ), firn_ice_type_primitive(FIRN_ICE_FLOAT),
        firn_ice_type_primitive(FIRN_ICE_DOUBLE), firn_ice_type_primitive(FIRN_ICE_STRING),
        firn_ice_type_primitive(FIRN_ICE_BINARY), firn_ice_type_decimal(&a, 9, 2),
        firn_ice_type_decimal(&a, 18, 3),
    };
    uint8_t valid[N];
    int64_t i64[N], off[N + 1];
    int32_t i32[N];
    uint8_t b8[N];
    float f32[N];
    double f64[N];
    firn_buf sb;
    firn_buf_init(&sb);
    off[0] = 0;
    for (size_t i = 0; i < N; i++) {
        uint64_t h = (uint64_t)i * 0x9E3779B97F4A7C15ull;
        valid[i] = i % 7 != 3;
        b8[i] = (uint8_t)(h >> 61 & 1);
        i32[i] = (int32_t)(h >> 40) % 9 - 4;
        i64[i] = i % 5 == 0 ? INT64_MIN + (int64_t)i : (int64_t)(h >> 20) % 11 - 5;
        f64[i] = i % 9 == 1 ? NAN : i % 9 == 2 ? -NAN : i % 9 == 4 ? INFINITY : i % 9 == 5 ? -INFINITY : dv[h >> 61];
        f32[i] = (float)f64[i];
        firn_buf_append_str(&sb, sv[(h >> 33) % 8]);
        off[i + 1] = (int64_t)sb.len;
    }
    static const firn_ice_expr_op ops[] = {FIRN_ICE_EXPR_EQ, FIRN_ICE_EXPR_NE, FIRN_ICE_EXPR_LT,
                                           FIRN_ICE_EXPR_LE, FIRN_ICE_EXPR_GT, FIRN_ICE_EXPR_GE,
                                           FIRN_ICE_EXPR_IN, FIRN_ICE_EXPR_NOT_IN, FIRN_ICE_EXPR_IS_NULL,
                                           FIRN_ICE_EXPR_NOT_NULL};
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
        const firn_ice_type *t = types[ti];
        firn_pq_column_data col = {ti % 2 ? valid : NULL, NULL, NULL, NULL};
        switch (t->id) {
        case FIRN_ICE_BOOLEAN: col.values = b8; break;
        case FIRN_ICE_INT: case FIRN_ICE_DATE: col.values = i32; break;
        case FIRN_ICE_FLOAT: col.values = f32; break;
        case FIRN_ICE_DOUBLE: col.values = f64; break;
        case FIRN_ICE_DECIMAL: col.values = t->precision <= 9 ? (const void *)i32 : (const void *)i64; break;
        case FIRN_ICE_STRING: case FIRN_ICE_BINARY: col.offsets = off; col.data = sb.data; break;
        default: col.values = i64; break;
        }
        int32_t id = 9;
        firn_ice_expr_columns cs = {1, &id, &t, &col};
        for (size_t oi = 0; oi < sizeof ops / sizeof *ops; oi++) {
            for (size_t li = 0; li < N; li += 5) {
                firn_ice_value lits[3];
                size_t nl = ops[oi] == FIRN_ICE_EXPR_IN || ops[oi] == FIRN_ICE_EXPR_NOT_IN ? 3 : 1;
                for (size_t k = 0; k < nl; k++) {
                    firn_pq_column_data all = col;
                    all.validity = NULL; /* literals from any row, nulls' slots included */
                    lits[k] = eval_row_value(t, &all, (li + 17 * k) % N);
                }
                firn_ice_expr e;
                memset(&e, 0, sizeof e);
                e.op = ops[oi];
                e.column = "c";
                e.field_id = 9;
                e.type = t;
                bool nullop = e.op == FIRN_ICE_EXPR_IS_NULL || e.op == FIRN_ICE_EXPR_NOT_NULL;
                e.nliterals = nullop ? 0 : nl;
                e.values = nullop ? NULL : lits;
                uint8_t sel[N];
                CHECK_OK(firn_ice_expr_eval(&e, &cs, N, sel, &err), &err);
                /* not (leaf): unknown stays unknown */
                firn_ice_expr f = {0}, g = {0};
                f.op = FIRN_ICE_EXPR_OR;
                f.left = &e;
                g.op = FIRN_ICE_EXPR_FALSE;
                f.right = &g;
                uint8_t sel2[N];
                CHECK_OK(firn_ice_expr_eval(&f, &cs, N, sel2, &err), &err);
                for (size_t i = 0; i < N; i++) {
                    firn_ice_value v = eval_row_value(t, &col, i);
                    int want = reference_leaf(e.op, &v, lits, e.nliterals);
                    CHECK_MSG(sel[i] == (want == 1) && sel2[i] == sel[i],
                              "type %zu op %d literal row %zu: row %zu got %d want %d", ti, e.op, li, i,
                              sel[i], want);
                }
            }
        }
    }
    firn_buf_release(&sb);
    firn_error_release(&err);
    firn_arena_release(&a);
}

/* ------------------------------------------------------------------ tables */

static const char SCHEMA_JSON[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"},"
    "{\"id\":3,\"name\":\"carId\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":4,\"name\":\"slot\",\"required\":false,\"type\":\"int\"},"
    "{\"id\":5,\"name\":\"score\",\"required\":false,\"type\":\"double\"}]}";

#define DAY_US 86400000000LL
#define BASE_TS 1709251200000000LL /* 2024-03-01T00:00:00Z */
static const char *const CARS[] = {"12GA3456", "34NA1234", "99ZZ0001", "56XY7890", "00AA0000"};

/* The generator: row i of the data set. */
static int64_t g_ts(size_t i) { return BASE_TS + (int64_t)i * (DAY_US / 7) + 3600000000LL; }
static bool g_ts_valid(size_t i) { return i % 17 != 6; }
static const char *g_car(size_t i) { return i % 11 == 3 ? NULL : CARS[i % 5]; }
static int32_t g_slot(size_t i) { return (int32_t)(i % 10); }
static bool g_slot_valid(size_t i) { return i % 13 != 0; }
static double g_score(size_t i) { return (double)i * 0.25; }

typedef struct rows {
    size_t n;
    int64_t *id, *ts;
    int32_t *slot;
    double *score;
    uint8_t *ts_valid, *car_valid, *slot_valid;
    int64_t *car_off;
    firn_buf car;
    firn_pq_column_data cols[5];
} rows;

static void rows_make(rows *r, size_t from, size_t n) {
    memset(r, 0, sizeof *r);
    r->n = n;
    r->id = calloc(n + 1, 8);
    r->ts = calloc(n + 1, 8);
    r->slot = calloc(n + 1, 4);
    r->score = calloc(n + 1, 8);
    r->ts_valid = calloc(n + 1, 1);
    r->car_valid = calloc(n + 1, 1);
    r->slot_valid = calloc(n + 1, 1);
    r->car_off = calloc(n + 1, 8);
    for (size_t k = 0; k < n; k++) {
        size_t i = from + k;
        r->id[k] = (int64_t)i;
        r->ts[k] = g_ts(i);
        r->ts_valid[k] = g_ts_valid(i);
        r->car_valid[k] = g_car(i) != NULL;
        if (g_car(i)) firn_buf_append_str(&r->car, g_car(i));
        r->car_off[k + 1] = (int64_t)r->car.len;
        r->slot[k] = g_slot(i);
        r->slot_valid[k] = g_slot_valid(i);
        r->score[k] = g_score(i);
    }
    firn_buf_reserve(&r->car, 1);
    r->cols[0] = (firn_pq_column_data){NULL, r->id, NULL, NULL};
    r->cols[1] = (firn_pq_column_data){r->ts_valid, r->ts, NULL, NULL};
    r->cols[2] = (firn_pq_column_data){r->car_valid, NULL, r->car_off, r->car.data};
    r->cols[3] = (firn_pq_column_data){r->slot_valid, r->slot, NULL, NULL};
    r->cols[4] = (firn_pq_column_data){NULL, r->score, NULL, NULL};
}

static void rows_free(rows *r) {
    free(r->id);
    free(r->ts);
    free(r->slot);
    free(r->score);
    free(r->ts_valid);
    free(r->car_valid);
    free(r->slot_valid);
    free(r->car_off);
    firn_buf_release(&r->car);
}

typedef struct fixture {
    firn_catalog *cat;
    firn_ice_table *t;
    firn_arena a;
    firn_error err;
} fixture;

static int fixture_open_props(fixture *f, const char *name, bool partitioned, const firn_ice_kv *extra,
                              size_t nextra) {
    memset(f, 0, sizeof *f);
    firn_error_init(&f->err);
    firn_arena_init(&f->a, 0);
    static const char *const db[] = {"db", NULL};
    char wh[600];
    if (firn_test_warehouse_open("scan", name, false, db, wh, sizeof wh, &f->cat, &f->err))
        return -1;
    firn_ice_partition_field pf[2] = {
        {2, 1000, "ts_day", {FIRN_ICE_TRANSFORM_DAY, 0, NULL}},
        {3, 1001, "carId", {FIRN_ICE_TRANSFORM_IDENTITY, 0, NULL}},
    };
    firn_ice_partition_spec *spec = firn_ice_partition_spec_new(&f->a, 0, pf, partitioned ? 2 : 0);
    return firn_test_table_create(f->cat, &f->a, "db", name, SCHEMA_JSON, spec, extra, nextra,
                                  &f->t, &f->err);
}

static int fixture_open(fixture *f, const char *name, bool partitioned) {
    return fixture_open_props(f, name, partitioned, NULL, 0);
}

static void fixture_close(fixture *f) {
    firn_ice_table_free(f->t);
    firn_cat_free(f->cat);
    firn_arena_release(&f->a);
    firn_error_release(&f->err);
}

/* Append rows [from, from + n) in one commit to branch (NULL: main); returns
 * the snapshot id or -1. */
static int64_t append_rows(fixture *f, size_t from, size_t n, const char *branch) {
    rows r;
    rows_make(&r, from, n);
    int64_t id = -1;
    firn_ice_data_writer *w = firn_ice_data_writer_new(f->t->metadata, f->t->io, NULL, &f->err);
    const firn_ice_data_file *files;
    size_t nfiles;
    firn_ice_producer *fa = NULL;
    if (!w || firn_ice_data_writer_write(w, r.cols, n, &f->err) ||
        firn_ice_data_writer_close(w, &files, &nfiles, &f->err))
        goto out;
    fa = firn_test_fast_append_new(f->t, branch, &f->err);
    if (!fa) goto out;
    for (size_t i = 0; i < nfiles; i++)
        if (firn_ice_producer_add_file(fa, &files[i], &f->err)) goto out;
    if (firn_ice_producer_commit(fa, NULL, &f->err)) goto out;
    id = firn_ice_producer_snapshot_id(fa);
out:
    firn_ice_producer_free(fa);
    firn_ice_data_writer_free(w);
    rows_free(&r);
    usleep(3000); /* distinct snapshot timestamps for time travel */
    return id;
}

typedef bool (*row_pred)(size_t i);

/* Scan and check every returned row against the generator; seen[id]++ for
 * each. Returns rows returned or -1 (message printed). */
static long scan_ids(const firn_ice_metadata *md, firn_io *io, const firn_ice_scan_options *o,
                     unsigned char *seen, size_t nseen, firn_ice_scan_stats *stats, firn_error *err) {
    firn_ice_scan *s = firn_ice_scan_new(md, io, o, err);
    if (!s) return -1;
    size_t nf;
    const firn_ice_field *const *fields = firn_ice_scan_fields(s, &nf);
    long total = 0;
    firn_ice_scan_batch b;
    int rc;
    while ((rc = firn_ice_scan_next_batch(s, &b, err)) == 1) {
        for (size_t r = 0; r < b.nrows; r++) {
            int64_t id = -1;
            for (size_t c = 0; c < nf; c++)
                if (fields[c]->id == 1) id = ((const int64_t *)b.columns[c].values)[r];
            if (id < 0 || (size_t)id >= nseen) {
                printf("    bad id %lld\n", (long long)id);
                firn_ice_scan_free(s);
                return -1;
            }
            size_t i = (size_t)id;
            seen[i]++;
            for (size_t c = 0; c < nf; c++) {
                const firn_pq_column_data *col = &b.columns[c];
                bool valid = !col->validity || col->validity[r];
                bool ok = true;
                switch (fields[c]->id) {
                case 2: ok = valid == g_ts_valid(i) && (!valid || ((const int64_t *)col->values)[r] == g_ts(i)); break;
                case 3:
                    ok = valid == (g_car(i) != NULL) &&
                         (!valid || ((size_t)(col->offsets[r + 1] - col->offsets[r]) == strlen(g_car(i)) &&
                                     memcmp(col->data + col->offsets[r], g_car(i), strlen(g_car(i))) == 0));
                    break;
                case 4: ok = valid == g_slot_valid(i) && (!valid || ((const int32_t *)col->values)[r] == g_slot(i)); break;
                case 5: ok = valid && ((const double *)col->values)[r] == g_score(i); break;
                default: break;
                }
                if (!ok) {
                    printf("    row %zu column %s differs\n", i, fields[c]->name);
                    firn_ice_scan_free(s);
                    return -1;
                }
            }
            total++;
        }
    }
    if (stats) *stats = *firn_ice_scan_get_stats(s);
    firn_ice_scan_free(s);
    return rc < 0 ? -1 : total;
}

/* Brute force: compare the scan of `where` on rows [0, n) with pred. */
static int check_filter(fixture *f, const char *where, row_pred pred, size_t n,
                        firn_ice_scan_stats *stats) {
    unsigned char *seen = calloc(n, 1);
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    o.where = where;
    long got = scan_ids(f->t->metadata, f->t->io, &o, seen, n, stats, &f->err);
    int bad = got < 0;
    if (got < 0) printf("    scan '%s': %s\n", where, firn_test_errtext(&f->err));
    for (size_t i = 0; i < n && !bad; i++) {
        if (seen[i] != (pred(i) ? 1 : 0)) {
            printf("    '%s': row %zu seen %d times, want %d\n", where, i, seen[i], pred(i) ? 1 : 0);
            bad = 1;
        }
    }
    free(seen);
    return bad ? -1 : 0;
}

#define NROWS 700

static bool p_car(size_t i) { return g_car(i) && strcmp(g_car(i), "12GA3456") == 0; }
static bool p_ts(size_t i) { return g_ts_valid(i) && g_ts(i) < BASE_TS + 3 * DAY_US; }
static bool p_slot_ge(size_t i) { return g_slot_valid(i) && g_slot(i) >= 3; }
static bool p_all(size_t i) { (void)i; return true; }
static bool p_combo(size_t i) {
    bool a = g_slot_valid(i) && g_slot(i) >= 3 && g_car(i) &&
             (strcmp(g_car(i), "12GA3456") == 0 || strcmp(g_car(i), "34NA1234") == 0);
    return a || !g_ts_valid(i);
}
static bool p_not(size_t i) {
    /* not (slot < 5 or carId = '99ZZ0001'), three-valued */
    int s = g_slot_valid(i) ? (g_slot(i) < 5) : -1;
    int c = g_car(i) ? strcmp(g_car(i), "99ZZ0001") == 0 : -1;
    int o = (s == 1 || c == 1) ? 1 : (s == 0 && c == 0) ? 0 : -1;
    return o == 0;
}
static bool p_ne(size_t i) { return g_car(i) && strcmp(g_car(i), "00AA0000") != 0; }
static bool p_null(size_t i) { return !g_car(i); }
static bool p_score(size_t i) { return g_score(i) > 150.0 && g_score(i) <= 160.0; }
static bool p_id_in(size_t i) { return i == 5 || i == 350 || i == 699; }
static bool p_none(size_t i) { (void)i; return false; }
static bool p_day(size_t i) {
    return g_ts_valid(i) && g_ts(i) >= BASE_TS + 10 * DAY_US && g_ts(i) < BASE_TS + 12 * DAY_US;
}

FIRN_TEST(iceberg_scan_filters_match_brute_force_and_prune) {
    fixture f;
    CHECK_OK(fixture_open(&f, "filters", true), &f.err);
    CHECK_MSG(append_rows(&f, 0, 300, NULL) > 0, "%s", firn_test_errtext(&f.err));
    CHECK_MSG(append_rows(&f, 300, 250, NULL) > 0, "%s", firn_test_errtext(&f.err));
    CHECK_MSG(append_rows(&f, 550, 150, NULL) > 0, "%s", firn_test_errtext(&f.err));
    firn_ice_scan_stats st;
    CHECK_OK(check_filter(&f, NULL, p_all, NROWS, &st), &f.err);
    int64_t total = st.total_files;
    CHECK(total > 20);
    CHECK_EQ_INT(st.planned_files, total);
    CHECK_EQ_INT(st.total_manifests, 3);
    CHECK_EQ_INT(st.rows_returned, NROWS);
    CHECK_EQ_INT(st.planned_records, NROWS);
    CHECK_EQ_INT(st.planned_bytes, st.total_bytes);

    /* identity partition: only that car's files */
    CHECK_OK(check_filter(&f, "carId = '12GA3456'", p_car, NROWS, &st), &f.err);
    CHECK_MSG(st.planned_files > 0 && (int64_t)st.planned_files * 4 < total, "planned %zu of %lld",
              st.planned_files, (long long)total);
    CHECK(st.pruned_by_partition > 0);
    /* day(ts): the first three days */
    CHECK_OK(check_filter(&f, "ts < '2024-03-04T00:00:00+00:00'", p_ts, NROWS, &st), &f.err);
    CHECK_MSG((int64_t)st.planned_files * 4 < total, "planned %zu of %lld", st.planned_files, (long long)total);
    /* the first append's days only: later manifests pruned by their summaries */
    CHECK_EQ_INT(st.planned_manifests, 1);
    CHECK_OK(check_filter(&f, "ts >= '2024-03-11' and ts < '2024-03-13'", p_day, NROWS, &st), &f.err);
    CHECK_MSG((int64_t)st.planned_files * 4 < total, "planned %zu of %lld", st.planned_files, (long long)total);
    /* not selective by partition or metrics: every file */
    CHECK_OK(check_filter(&f, "id >= 0 and score >= 0", p_all, NROWS, &st), &f.err);
    CHECK_EQ_INT(st.planned_files, total);
    CHECK_EQ_INT(st.row_groups_skipped, 0);
    /* many small files: some hold only slots < 3 and are pruned by metrics */
    CHECK_OK(check_filter(&f, "slot >= 3", p_slot_ge, NROWS, &st), &f.err);
    CHECK((int64_t)st.planned_files <= total);
    /* metrics on a non-partition column: score grows with id */
    CHECK_OK(check_filter(&f, "score > 150 and score <= 160", p_score, NROWS, &st), &f.err);
    CHECK_MSG((int64_t)st.planned_files * 4 < total && st.pruned_by_metrics > 0, "planned %zu of %lld",
              st.planned_files, (long long)total);
    CHECK_OK(check_filter(&f, "id in (5, 350, 699)", p_id_in, NROWS, &st), &f.err);
    CHECK((int64_t)st.planned_files < total);
    CHECK_OK(check_filter(&f, "slot >= 3 and carId in ('12GA3456','34NA1234') or ts is null", p_combo,
                          NROWS, &st), &f.err);
    CHECK_OK(check_filter(&f, "not (slot < 5 or carId = '99ZZ0001')", p_not, NROWS, NULL), &f.err);
    CHECK_OK(check_filter(&f, "carId != '00AA0000'", p_ne, NROWS, &st), &f.err);
    CHECK_OK(check_filter(&f, "carId is null", p_null, NROWS, &st), &f.err);
    CHECK((int64_t)st.planned_files < total);
    CHECK_OK(check_filter(&f, "carId = 'nope'", p_none, NROWS, &st), &f.err);
    CHECK_EQ_INT(st.planned_files, 0);
    CHECK_OK(check_filter(&f, "id > 100000", p_none, NROWS, &st), &f.err);
    CHECK_EQ_INT(st.planned_files, 0);
    fixture_close(&f);
}

static bool p_lt300(size_t i) { return i < 300; }
static bool p_lt550(size_t i) { return i < 550; }
static bool p_branch(size_t i) { return i < 550 || (i >= 1000 && i < 1040); }

static int check_opts(fixture *f, const firn_ice_scan_options *o, row_pred pred, size_t n) {
    unsigned char *seen = calloc(n, 1);
    long got = scan_ids(f->t->metadata, f->t->io, o, seen, n, NULL, &f->err);
    int bad = got < 0;
    for (size_t i = 0; i < n && !bad; i++)
        if (seen[i] != (pred(i) ? 1 : 0)) {
            printf("    row %zu seen %d times\n", i, seen[i]);
            bad = 1;
        }
    free(seen);
    return bad ? -1 : 0;
}

FIRN_TEST(iceberg_scan_time_travel_and_refs) {
    fixture f;
    CHECK_OK(fixture_open(&f, "travel", true), &f.err);
    int64_t s1 = append_rows(&f, 0, 300, NULL);
    CHECK_MSG(s1 > 0, "%s", firn_test_errtext(&f.err));
    int64_t s2 = append_rows(&f, 300, 250, NULL);
    CHECK(s2 > 0);
    /* branch dev from main at s2? fast append to a missing branch creates it at
     * main's current snapshot: dev = s2 + rows 1000..1039 */
    int64_t d1 = append_rows(&f, 1000, 40, "dev");
    CHECK_MSG(d1 > 0, "%s", firn_test_errtext(&f.err));
    int64_t s3 = append_rows(&f, 550, 150, NULL);
    CHECK(s3 > 0);
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    o.snapshot_id = s1;
    CHECK_OK(check_opts(&f, &o, p_lt300, 1100), &f.err);
    o.snapshot_id = s2;
    CHECK_OK(check_opts(&f, &o, p_lt550, 1100), &f.err);
    firn_ice_scan_options_init(&o);
    CHECK_OK(check_opts(&f, &o, p_all, NROWS), &f.err);
    /* ref dev: s2's rows... dev's parent is main's snapshot when created */
    o.ref = "dev";
    const firn_ice_snapshot *ds = firn_ice_metadata_snapshot(f.t->metadata, d1);
    CHECK(ds && ds->has_parent);
    CHECK_EQ_INT(ds->parent_snapshot_id, s2);
    CHECK_OK(check_opts(&f, &o, p_branch, 1100), &f.err);
    o.where = "id >= 540";
    firn_ice_scan_stats st;
    unsigned char seen2[1100] = {0};
    CHECK_EQ_INT(scan_ids(f.t->metadata, f.t->io, &o, seen2, 1100, &st, &f.err), 10 + 40);
    o.where = NULL;
    o.ref = "main";
    CHECK_OK(check_opts(&f, &o, p_all, NROWS), &f.err);
    o.ref = "nope";
    firn_ice_scan *s = firn_ice_scan_new(f.t->metadata, f.t->io, &o, &f.err);
    CHECK(!s && strstr(f.err.message, "no branch or tag named 'nope'"));
    /* time travel: the snapshot log of main */
    const firn_ice_metadata *md = f.t->metadata;
    CHECK_EQ_INT(md->nsnapshot_log, 3);
    firn_ice_scan_options_init(&o);
    o.as_of_ms = md->snapshot_log[0].timestamp_ms;
    CHECK_OK(check_opts(&f, &o, p_lt300, 1100), &f.err);
    o.as_of_ms = md->snapshot_log[1].timestamp_ms + 1;
    CHECK(md->snapshot_log[2].timestamp_ms > o.as_of_ms);
    CHECK_OK(check_opts(&f, &o, p_lt550, 1100), &f.err);
    o.as_of_ms = md->snapshot_log[2].timestamp_ms + 100000;
    CHECK_OK(check_opts(&f, &o, p_all, NROWS), &f.err);
    o.as_of_ms = md->snapshot_log[0].timestamp_ms - 1;
    s = firn_ice_scan_new(f.t->metadata, f.t->io, &o, &f.err);
    CHECK_MSG(!s && strstr(f.err.message, "no snapshot was current at") &&
                  strstr(f.err.message, "the snapshot log starts at"), "%s", firn_test_errtext(&f.err));
    firn_ice_scan_options_init(&o);
    o.snapshot_id = 12345;
    s = firn_ice_scan_new(f.t->metadata, f.t->io, &o, &f.err);
    CHECK(!s && strstr(f.err.message, "snapshot 12345 is not in the table"));
    o.ref = "main";
    s = firn_ice_scan_new(f.t->metadata, f.t->io, &o, &f.err);
    CHECK(!s && strstr(f.err.message, "choose one of"));
    /* time travel with a filter */
    firn_ice_scan_options_init(&o);
    o.snapshot_id = s1;
    o.where = "carId = '12GA3456'";
    unsigned char seen[1100] = {0};
    long got = scan_ids(f.t->metadata, f.t->io, &o, seen, 1100, NULL, &f.err);
    CHECK_MSG(got >= 0, "%s", firn_test_errtext(&f.err));
    for (size_t i = 0; i < 1100; i++) CHECK_EQ_INT(seen[i], (i < 300 && p_car(i)) ? 1 : 0);
    fixture_close(&f);
}

FIRN_TEST(iceberg_scan_projection_and_empty_table) {
    fixture f;
    CHECK_OK(fixture_open(&f, "proj", false), &f.err);
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    /* no snapshot: empty */
    firn_ice_scan *s = firn_ice_scan_table(f.t, &o, &f.err);
    CHECK_MSG(s, "%s", firn_test_errtext(&f.err));
    firn_ice_scan_batch b;
    CHECK_EQ_INT(firn_ice_scan_next_batch(s, &b, &f.err), 0);
    CHECK_EQ_INT(firn_ice_scan_get_stats(s)->snapshot_id, -1);
    firn_ice_scan_free(s);
    CHECK(append_rows(&f, 0, 200, NULL) > 0);
    const char *cols[] = {"slot", "id"};
    o.columns = cols;
    o.ncolumns = 2;
    o.where = "carId = '34NA1234'"; /* filter on a column not projected */
    s = firn_ice_scan_table(f.t, &o, &f.err);
    CHECK_MSG(s, "%s", firn_test_errtext(&f.err));
    size_t nf;
    const firn_ice_field *const *fields = firn_ice_scan_fields(s, &nf);
    CHECK_EQ_INT(nf, 2);
    CHECK_EQ_STR(fields[0]->name, "slot");
    CHECK_EQ_STR(fields[1]->name, "id");
    long n = 0;
    int rc;
    while ((rc = firn_ice_scan_next_batch(s, &b, &f.err)) == 1) {
        CHECK_EQ_INT(b.ncolumns, 2);
        for (size_t r = 0; r < b.nrows; r++) {
            int64_t id = ((const int64_t *)b.columns[1].values)[r];
            CHECK(g_car((size_t)id) && strcmp(g_car((size_t)id), "34NA1234") == 0);
            bool v = !b.columns[0].validity || b.columns[0].validity[r];
            CHECK_EQ_INT(v, g_slot_valid((size_t)id));
            if (v) CHECK_EQ_INT(((const int32_t *)b.columns[0].values)[r], g_slot((size_t)id));
            n++;
        }
    }
    CHECK_OK(rc, &f.err);
    long want = 0;
    for (size_t i = 0; i < 200; i++) want += g_car(i) && strcmp(g_car(i), "34NA1234") == 0;
    CHECK_EQ_INT(n, want);
    firn_ice_scan_free(s);
    const char *badcols[] = {"nope"};
    o.columns = badcols;
    o.ncolumns = 1;
    s = firn_ice_scan_table(f.t, &o, &f.err);
    CHECK(!s && strstr(f.err.message, "unknown column 'nope'"));
    fixture_close(&f);
}

/* ------------------------------------------------------- schema evolution */

typedef struct schema_change {
    const firn_ice_schema *schema;
} schema_change;

static int apply_schema(void *ctx, firn_ice_metadata *md, firn_error *err) {
    schema_change *c = ctx;
    int rc = firn_ice_metadata_add_schema(md, c->schema, NULL, err);
    return rc ? rc : firn_ice_metadata_set_current_schema(md, -1, err);
}

FIRN_TEST(iceberg_scan_schema_evolution) {
    fixture f;
    CHECK_OK(fixture_open(&f, "evolve", true), &f.err);
    CHECK(append_rows(&f, 0, 100, NULL) > 0);
    /* add column note, rename slot -> position, widen position int -> long */
    const firn_ice_schema *cur = firn_ice_metadata_current_schema(f.t->metadata);
    firn_ice_schema_update *u = firn_ice_schema_update_new(cur, f.t->metadata->last_column_id);
    CHECK_OK(firn_ice_schema_update_add_column(u, NULL, "note", firn_ice_type_primitive(FIRN_ICE_STRING),
                                               NULL, &f.err), &f.err);
    CHECK_OK(firn_ice_schema_update_rename_column(u, "slot", "position", &f.err), &f.err);
    CHECK_OK(firn_ice_schema_update_update_column(u, "position", firn_ice_type_primitive(FIRN_ICE_LONG),
                                                  &f.err), &f.err);
    int32_t last;
    firn_ice_schema *ns = firn_ice_schema_update_apply(u, &f.a, 1, &last, &f.err);
    firn_ice_schema_update_free(u);
    CHECK_MSG(ns, "%s", firn_test_errtext(&f.err));
    schema_change sc = {ns};
    firn_ice_update up = {apply_schema, NULL, &sc};
    CHECK_OK(firn_ice_table_commit(f.t, &up, 1, NULL, &f.err), &f.err);
    /* rows 100..149 with the new schema: id ts carId position(long) score note */
    {
        rows r;
        rows_make(&r, 100, 50);
        int64_t *pos = calloc(50, 8);
        int64_t *note_off = calloc(51, 8);
        firn_buf notes;
        firn_buf_init(&notes);
        for (size_t k = 0; k < 50; k++) {
            pos[k] = r.slot[k];
            firn_buf_appendf(&notes, "n%zu", 100 + k);
            note_off[k + 1] = (int64_t)notes.len;
        }
        firn_pq_column_data cols[6];
        memcpy(cols, r.cols, sizeof r.cols);
        cols[3].values = pos;
        cols[5] = (firn_pq_column_data){NULL, NULL, note_off, notes.data};
        firn_ice_data_writer *w = firn_ice_data_writer_new(f.t->metadata, f.t->io, NULL, &f.err);
        const firn_ice_data_file *files;
        size_t nfiles;
        CHECK(w);
        CHECK_OK(firn_ice_data_writer_write(w, cols, 50, &f.err), &f.err);
        CHECK_OK(firn_ice_data_writer_close(w, &files, &nfiles, &f.err), &f.err);
        firn_ice_producer *fa = firn_test_fast_append_new(f.t, NULL, &f.err);
        for (size_t i = 0; i < nfiles; i++) CHECK_OK(firn_ice_producer_add_file(fa, &files[i], &f.err), &f.err);
        CHECK_OK(firn_ice_producer_commit(fa, NULL, &f.err), &f.err);
        firn_ice_producer_free(fa);
        firn_ice_data_writer_free(w);
        free(pos);
        free(note_off);
        firn_buf_release(&notes);
        rows_free(&r);
    }
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    const char *cols[] = {"id", "position", "note"};
    o.columns = cols;
    o.ncolumns = 3;
    o.where = "position >= 7 or note = 'n120'"; /* old files: by id 4 */
    firn_ice_scan *s = firn_ice_scan_table(f.t, &o, &f.err);
    CHECK_MSG(s, "%s", firn_test_errtext(&f.err));
    firn_ice_scan_batch b;
    int rc;
    unsigned char seen[150] = {0};
    while ((rc = firn_ice_scan_next_batch(s, &b, &f.err)) == 1) {
        for (size_t r = 0; r < b.nrows; r++) {
            int64_t id = ((const int64_t *)b.columns[0].values)[r];
            CHECK(id >= 0 && id < 150);
            seen[id]++;
            bool pv = !b.columns[1].validity || b.columns[1].validity[r];
            CHECK_EQ_INT(pv, g_slot_valid((size_t)id));
            if (pv) CHECK_EQ_INT(((const int64_t *)b.columns[1].values)[r], g_slot((size_t)id));
            bool nv = !b.columns[2].validity || b.columns[2].validity[r];
            CHECK_EQ_INT(nv, id >= 100);
            if (nv) {
                char want[16];
                snprintf(want, sizeof want, "n%lld", (long long)id);
                CHECK((size_t)(b.columns[2].offsets[r + 1] - b.columns[2].offsets[r]) == strlen(want));
                CHECK_MEM(b.columns[2].data + b.columns[2].offsets[r], want, strlen(want));
            }
        }
    }
    CHECK_OK(rc, &f.err);
    for (size_t i = 0; i < 150; i++)
        CHECK_EQ_INT(seen[i], ((g_slot_valid(i) && g_slot(i) >= 7) || i == 120) ? 1 : 0);
    firn_ice_scan_free(s);
    /* old name is gone; "note is null" finds exactly the old rows */
    firn_ice_scan_options_init(&o);
    o.where = "slot = 1";
    s = firn_ice_scan_table(f.t, &o, &f.err);
    CHECK(!s && strstr(f.err.message, "unknown column 'slot'"));
    o.where = "note is null";
    o.columns = cols;
    o.ncolumns = 1;
    s = firn_ice_scan_table(f.t, &o, &f.err);
    CHECK_MSG(s, "%s", firn_test_errtext(&f.err));
    long n = 0;
    while ((rc = firn_ice_scan_next_batch(s, &b, &f.err)) == 1)
        for (size_t r = 0; r < b.nrows; r++) {
            CHECK(((const int64_t *)b.columns[0].values)[r] < 100);
            n++;
        }
    CHECK_OK(rc, &f.err);
    CHECK_EQ_INT(n, 100);
    firn_ice_scan_free(s);
    fixture_close(&f);
}

/* ------------------------------------------------ files written elsewhere */

/* A Parquet file at path with columns id (long) and slot (int), field ids
 * given or -1, rows [from, from+n); *size gets its size. */
static int write_foreign(const char *path, bool with_ids, bool with_car, size_t from, size_t n,
                         uint64_t *size, firn_error *err) {
    firn_pq_column_spec cs[3];
    firn_pq_column_spec_init(&cs[0], "id", with_ids ? 1 : -1, FIRN_PQ_LONG);
    firn_pq_column_spec_init(&cs[1], "slot_col", with_ids ? 4 : -1, FIRN_PQ_INT);
    cs[1].optional = true;
    firn_pq_column_spec_init(&cs[2], "car", with_ids ? 3 : -1, FIRN_PQ_STRING);
    cs[2].optional = true;
    firn_pq_writer *w = firn_pq_writer_open(path, cs, with_car ? 3 : 2, NULL, err);
    if (!w) return -1;
    rows r;
    rows_make(&r, from, n);
    firn_pq_column_data cols[3] = {r.cols[0], r.cols[3], r.cols[2]};
    firn_pq_file_info info;
    int rc = firn_pq_writer_write(w, cols, n, err);
    if (!rc) rc = firn_pq_writer_close(w, &info, err);
    if (!rc) *size = info.file_size;
    firn_pq_writer_free(w);
    rows_free(&r);
    return rc;
}

static int append_file(fixture *f, const char *path, int64_t records, int64_t size,
                       const firn_ice_value *partition, size_t npartition) {
    firn_ice_data_file df;
    memset(&df, 0, sizeof df);
    char loc[700];
    snprintf(loc, sizeof loc, "file:%s", path);
    df.content = FIRN_ICE_CONTENT_DATA;
    df.file_path = loc;
    df.file_format = "PARQUET";
    df.record_count = records;
    df.file_size_in_bytes = size;
    df.partition = partition;
    df.npartition = npartition;
    firn_ice_producer *fa = firn_test_fast_append_new(f->t, NULL, &f->err);
    if (!fa) return -1;
    int rc = firn_ice_producer_add_file(fa, &df, &f->err);
    if (!rc) rc = firn_ice_producer_commit(fa, NULL, &f->err);
    firn_ice_producer_free(fa);
    return rc;
}

static int set_property(fixture *f, const char *k, const char *v) {
    firn_ice_kv kv = {k, v};
    firn_ice_properties_update pu = {&kv, 1, NULL, 0};
    firn_ice_update u = firn_ice_update_properties(&pu);
    return firn_ice_table_commit(f->t, &u, 1, NULL, &f->err);
}

FIRN_TEST(iceberg_scan_name_mapping_for_files_without_ids) {
    fixture f;
    CHECK_OK(fixture_open(&f, "namemap", false), &f.err);
    char path[600];
    snprintf(path, sizeof path, "%s/scan-namemap/foreign-1.parquet", firn_test_tmpdir());
    uint64_t size;
    CHECK_OK(write_foreign(path, false, true, 0, 60, &size, &f.err), &f.err);
    CHECK_OK(append_file(&f, path, 60, (int64_t)size, NULL, 0), &f.err);
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    unsigned char seen[60] = {0};
    long got = scan_ids(f.t->metadata, f.t->io, &o, seen, 60, NULL, &f.err);
    CHECK_MSG(got < 0 && strstr(f.err.message, "has no Parquet field ids") &&
                  strstr(f.err.message, "schema.name-mapping.default"), "%s", firn_test_errtext(&f.err));
    CHECK_OK(set_property(&f, "schema.name-mapping.default",
                          "[{\"field-id\":1,\"names\":[\"id\"]},{\"field-id\":2,\"names\":[\"ts\"]},"
                          "{\"field-id\":3,\"names\":[\"carId\",\"car\"]},"
                          "{\"field-id\":4,\"names\":[\"slot\",\"slot_col\"]},"
                          "{\"field-id\":5,\"names\":[\"score\"]}]"), &f.err);
    /* ts and score are absent from the file: read as null. Check id/car/slot. */
    const char *cols[] = {"id", "carId", "slot", "ts"};
    o.columns = cols;
    o.ncolumns = 4;
    o.ncolumns = 3;
    o.where = "slot < 4 and ts is null"; /* ts is not in the file: null */
    memset(seen, 0, sizeof seen);
    got = scan_ids(f.t->metadata, f.t->io, &o, seen, 60, NULL, &f.err);
    CHECK_MSG(got >= 0, "%s", firn_test_errtext(&f.err));
    for (size_t i = 0; i < 60; i++) CHECK_EQ_INT(seen[i], (g_slot_valid(i) && g_slot(i) < 4) ? 1 : 0);
    fixture_close(&f);
}

FIRN_TEST(iceberg_scan_identity_partition_from_manifest_and_size_mismatch) {
    fixture f;
    CHECK_OK(fixture_open(&f, "constants", true), &f.err);
    /* a file without the carId column whose partition says carId = 12GA3456
     * and ts_day null (ts absent from the file too) */
    char path[600];
    snprintf(path, sizeof path, "%s/scan-constants/foreign-2.parquet", firn_test_tmpdir());
    uint64_t size;
    CHECK_OK(write_foreign(path, true, false, 0, 40, &size, &f.err), &f.err);
    firn_ice_value part[2] = {firn_ice_value_null(FIRN_ICE_INT),
                              firn_ice_value_bytes(FIRN_ICE_STRING, "12GA3456", 8)};
    CHECK_OK(append_file(&f, path, 40, (int64_t)size, part, 2), &f.err);
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    const char *cols[] = {"id", "carId", "slot"};
    o.columns = cols;
    o.ncolumns = 3;
    o.where = "carId = '12GA3456'";
    firn_ice_scan *s = firn_ice_scan_table(f.t, &o, &f.err);
    CHECK_MSG(s, "%s", firn_test_errtext(&f.err));
    firn_ice_scan_batch b;
    int rc;
    long n = 0;
    while ((rc = firn_ice_scan_next_batch(s, &b, &f.err)) == 1)
        for (size_t r = 0; r < b.nrows; r++) {
            CHECK(!b.columns[1].validity || b.columns[1].validity[r]);
            CHECK_EQ_INT(b.columns[1].offsets[r + 1] - b.columns[1].offsets[r], 8);
            CHECK_MEM(b.columns[1].data + b.columns[1].offsets[r], "12GA3456", 8);
            n++;
        }
    CHECK_OK(rc, &f.err);
    CHECK_EQ_INT(n, 40);
    firn_ice_scan_free(s);

    /* a manifest whose file_size_in_bytes is wrong */
    char path2[600];
    snprintf(path2, sizeof path2, "%s/scan-constants/foreign-3.parquet", firn_test_tmpdir());
    CHECK_OK(write_foreign(path2, true, true, 40, 10, &size, &f.err), &f.err);
    firn_ice_value part2[2] = {firn_ice_value_null(FIRN_ICE_INT), firn_ice_value_null(FIRN_ICE_STRING)};
    CHECK_OK(append_file(&f, path2, 10, (int64_t)size + 100, part2, 2), &f.err);
    firn_ice_scan_options_init(&o);
    o.columns = cols;
    o.ncolumns = 3;
    o.where = "id >= 40";
    unsigned char seen[50] = {0};
    long got = scan_ids(f.t->metadata, f.t->io, &o, seen, 50, NULL, &f.err);
    char want[128];
    snprintf(want, sizeof want, "file_size_in_bytes = %llu but the file has %llu bytes",
             (unsigned long long)size + 100, (unsigned long long)size);
    CHECK_MSG(got < 0 && f.err.kind == FIRN_ERR_CORRUPT && strstr(f.err.message, want) &&
                  strstr(f.err.message, "foreign-3.parquet"), "%s", firn_test_errtext(&f.err));
    o.allow_size_mismatch = true;
    s = firn_ice_scan_table(f.t, &o, &f.err);
    CHECK(s);
    n = 0;
    while ((rc = firn_ice_scan_next_batch(s, &b, &f.err)) == 1) n += (long)b.nrows;
    CHECK_OK(rc, &f.err);
    CHECK_EQ_INT(n, 10);
    size_t nw;
    const char *const *w = firn_ice_scan_warnings(s, &nw);
    CHECK_EQ_INT(nw, 1);
    CHECK(strstr(w[0], want));
    firn_ice_scan_free(s);
    fixture_close(&f);
}

static bool p_rg(size_t i) { return (i >= 1234 && i < 1300) || i == 4000; }

FIRN_TEST(iceberg_scan_row_group_skipping) {
    fixture f;
    firn_ice_kv props[] = {{"write.parquet.row-group-size-bytes", "4096"},
                           {"write.parquet.page-row-limit", "100"}};
    CHECK_OK(fixture_open_props(&f, "rowgroups", false, props, 2), &f.err);
    CHECK(append_rows(&f, 0, 5000, NULL) > 0);
    firn_ice_scan_stats st;
    CHECK_OK(check_filter(&f, "id >= 1234 and id < 1300 or id = 4000", p_rg, 5000, &st), &f.err);
    CHECK_EQ_INT(st.planned_files, 1);
    CHECK_MSG(st.row_groups_total > 4, "%zu row groups", st.row_groups_total);
    CHECK_MSG(st.row_groups_skipped + 3 >= st.row_groups_total, "skipped %zu of %zu",
              st.row_groups_skipped, st.row_groups_total);
    CHECK(st.rows_read < 5000);
    CHECK_EQ_INT(st.rows_returned, 67);
    fixture_close(&f);
}

/* ------------------------------------------------------------ bytes read */

/* What a ranged scan must read from one data file, from the file itself: its
 * size, the footer length (last 8 bytes), and per row group the byte size and
 * id bounds of each column chunk (firn_pq_reader_chunk_info). */
typedef struct file_facts {
    uint64_t size, footer;
    size_t nrg, ncol;
    int32_t field_id[8];
    int64_t chunk[64][8]; /* [rg][col] total_compressed_size */
    int64_t id_min[64], id_max[64];
} file_facts;

static int file_facts_load(const char *location, file_facts *ff) {
    memset(ff, 0, sizeof *ff);
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    char *path;
    int rc = -1;
    firn_pq_reader *r = NULL;
    FILE *fp = NULL;
    if (firn_io_uri_to_path(location, &a, &path, &err)) goto out;
    fp = fopen(path, "rb");
    uint8_t tail[8];
    if (!fp || fseek(fp, -8, SEEK_END) != 0 || fread(tail, 1, 8, fp) != 8) goto out;
    ff->size = (uint64_t)ftell(fp);
    ff->footer = (uint64_t)tail[0] | (uint64_t)tail[1] << 8 | (uint64_t)tail[2] << 16 | (uint64_t)tail[3] << 24;
    r = firn_pq_reader_open(path, &err);
    if (!r) goto out;
    ff->nrg = firn_pq_reader_num_row_groups(r);
    ff->ncol = firn_pq_reader_num_columns(r);
    if (ff->nrg > 64 || ff->ncol > 8) goto out;
    for (size_t c = 0; c < ff->ncol; c++) ff->field_id[c] = firn_pq_reader_column(r, c)->field_id;
    for (size_t g = 0; g < ff->nrg; g++)
        for (size_t c = 0; c < ff->ncol; c++) {
            firn_pq_chunk_info ci;
            if (firn_pq_reader_chunk_info(r, g, c, &ci, &err)) goto out;
            ff->chunk[g][c] = ci.compressed_size;
            if (ff->field_id[c] == 1) {
                if (!ci.has_min || !ci.has_max) goto out;
                ff->id_min[g] = ci.min.i;
                ff->id_max[g] = ci.max.i;
            }
        }
    rc = 0;
out:
    if (rc) printf("    cannot inspect %s: %s\n", location, firn_test_errtext(&err));
    if (fp) fclose(fp);
    firn_pq_reader_free(r);
    firn_error_release(&err);
    firn_arena_release(&a);
    return rc;
}

/* Bytes of the file's chunks of field `id` (all row groups). */
static int64_t facts_column_bytes(const file_facts *ff, int32_t id) {
    int64_t n = 0;
    for (size_t g = 0; g < ff->nrg; g++)
        for (size_t c = 0; c < ff->ncol; c++)
            if (ff->field_id[c] == id) n += ff->chunk[g][c];
    return n;
}

/* The metric of field id in a data file's column_sizes, or -1. */
static int64_t column_size_metric(const firn_ice_data_file *df, int32_t id) {
    for (size_t i = 0; i < df->ncolumn_sizes; i++)
        if (df->column_sizes[i].field_id == id) return df->column_sizes[i].value;
    return -1;
}

/* Plan a scan and sum, over its tasks, what expect() says it must read. */
typedef int64_t (*expect_fn)(const file_facts *ff, const firn_ice_data_file *df);

static int64_t expected_bytes(fixture *f, const firn_ice_scan_options *o, expect_fn expect) {
    firn_ice_scan *s = firn_ice_scan_new(f->t->metadata, f->t->io, o, &f->err);
    if (!s) return -1;
    size_t n;
    const firn_ice_scan_task *tasks = firn_ice_scan_tasks(s, &n);
    int64_t total = 0;
    for (size_t i = 0; i < n && total >= 0; i++) {
        file_facts ff;
        int64_t e = file_facts_load(tasks[i].file->file_path, &ff) ? -1 : expect(&ff, tasks[i].file);
        total = e < 0 ? -1 : total + e;
    }
    firn_ice_scan_free(s);
    return total;
}

static int64_t expect_whole_file(const file_facts *ff, const firn_ice_data_file *df) {
    /* head magic + chunks + footer + tail = the file, as the manifest says too */
    return (int64_t)ff->size == df->file_size_in_bytes ? (int64_t)ff->size : -1;
}

static int64_t expect_id_score(const file_facts *ff, const firn_ice_data_file *df) {
    int64_t chunks = 0;
    for (int32_t id = 1; id <= 5; id += 4) {
        int64_t c = facts_column_bytes(ff, id);
        /* the writer's column_sizes metric counts the same chunks */
        if (c <= 0 || c != column_size_metric(df, id)) {
            printf("    field %d: chunks %lld bytes, column_sizes says %lld\n", id, (long long)c,
                   (long long)column_size_metric(df, id));
            return -1;
        }
        chunks += c;
    }
    return 4 + 8 + (int64_t)ff->footer + chunks;
}

/* id >= 1234 and id < 1300: row groups whose id bounds overlap are read whole, the
 * others not at all. */
static int64_t expect_id_range(const file_facts *ff, const firn_ice_data_file *df) {
    (void)df;
    int64_t n = 4 + 8 + (int64_t)ff->footer;
    for (size_t g = 0; g < ff->nrg; g++)
        if (ff->id_max[g] >= 1234 && ff->id_min[g] < 1300)
            for (size_t c = 0; c < ff->ncol; c++) n += ff->chunk[g][c];
    return n;
}

static int64_t expect_score_chunks(const file_facts *ff, const firn_ice_data_file *df) {
    (void)df;
    return 4 + 8 + (int64_t)ff->footer + facts_column_bytes(ff, 5);
}

static bool p_id_range(size_t i) { return i >= 1234 && i < 1300; }
static bool p_score_gap(size_t i) { return g_score(i) > 10.1 && g_score(i) < 10.2; }

FIRN_TEST(iceberg_scan_bytes_read_exact) {
    fixture f;
    firn_ice_kv props[] = {{"write.parquet.row-group-size-bytes", "4096"},
                           {"write.parquet.page-row-limit", "100"}};
    CHECK_OK(fixture_open_props(&f, "bytesread", true, props, 2), &f.err);
    CHECK(append_rows(&f, 0, 400, NULL) > 0);
    CHECK(append_rows(&f, 400, 300, NULL) > 0);
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    firn_ice_scan_stats st;

    /* full scan: every byte of every file, once */
    CHECK_OK(check_filter(&f, NULL, p_all, NROWS, &st), &f.err);
    int64_t whole = expected_bytes(&f, &o, expect_whole_file);
    CHECK(whole > 0);
    CHECK_EQ_INT(st.bytes_read, whole);
    CHECK_EQ_INT(st.bytes_read, st.planned_bytes);
    int64_t full = st.bytes_read;

    /* two of five columns: footers and those columns' chunks only */
    static const char *const cols[] = {"id", "score"};
    o.columns = cols;
    o.ncolumns = 2;
    /* (planned with a filter that prunes nothing, so that manifests keep metrics) */
    firn_ice_scan_options plan = o;
    plan.where = "id >= 0";
    int64_t want = expected_bytes(&f, &plan, expect_id_score);
    CHECK(want > 0);
    unsigned char *seen = calloc(NROWS, 1);
    CHECK_EQ_INT(scan_ids(f.t->metadata, f.t->io, &o, seen, NROWS, &st, &f.err), NROWS);
    CHECK_EQ_INT(st.bytes_read, want);
    /* (small files: footers dominate) */
    CHECK_MSG(st.bytes_read < full, "two columns %lld of %lld bytes", (long long)st.bytes_read,
              (long long)full);
    free(seen);

    /* a selective filter: fewer bytes, exactly the rows (two days' files, read whole) */
    o.columns = NULL;
    o.ncolumns = 0;
    o.where = "ts >= '2024-03-11' and ts < '2024-03-13'";
    want = expected_bytes(&f, &o, expect_whole_file);
    CHECK_OK(check_filter(&f, o.where, p_day, NROWS, &st), &f.err);
    CHECK_EQ_INT(st.bytes_read, want);
    CHECK_MSG(st.bytes_read * 4 < full, "selective %lld of %lld bytes", (long long)st.bytes_read,
              (long long)full);
    CHECK(st.rows_returned > 0);
    fixture_close(&f);
}

FIRN_TEST(iceberg_scan_bytes_read_skips_row_groups_and_unmatched_columns) {
    fixture f;
    firn_ice_kv props[] = {{"write.parquet.row-group-size-bytes", "4096"},
                           {"write.parquet.page-row-limit", "100"}};
    CHECK_OK(fixture_open_props(&f, "bytesrg", false, props, 2), &f.err);
    CHECK(append_rows(&f, 0, 5000, NULL) > 0);
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    firn_ice_scan_stats st;
    CHECK_OK(check_filter(&f, NULL, p_all, 5000, &st), &f.err);
    int64_t full = st.bytes_read;
    CHECK_EQ_INT(full, expected_bytes(&f, &o, expect_whole_file));

    /* row groups the id statistics exclude are never fetched */
    o.where = "id >= 1234 and id < 1300";
    int64_t want = expected_bytes(&f, &o, expect_id_range);
    CHECK_OK(check_filter(&f, o.where, p_id_range, 5000, &st), &f.err);
    CHECK_MSG(st.row_groups_total > 4 && st.row_groups_skipped > 0, "%zu of %zu skipped",
              st.row_groups_skipped, st.row_groups_total);
    CHECK_EQ_INT(st.bytes_read, want);
    CHECK_MSG(st.bytes_read * 4 < full, "%lld of %lld bytes", (long long)st.bytes_read, (long long)full);

    /* no row matches though no statistic says so (floats are never skipped by
     * row-group bounds): only the filter's column is fetched */
    o.where = "score > 10.1 and score < 10.2";
    want = expected_bytes(&f, &o, expect_score_chunks);
    CHECK_OK(check_filter(&f, o.where, p_score_gap, 5000, &st), &f.err);
    CHECK_EQ_INT(st.rows_returned, 0);
    CHECK_EQ_INT(st.row_groups_skipped, 0);
    CHECK_EQ_INT(st.bytes_read, want);
    CHECK(st.bytes_read * 2 < full);
    fixture_close(&f);
}

/* ------------------------------------------------------- position deletes */

typedef struct snapshot_commit {
    firn_ice_snapshot snap;
} snapshot_commit;

static int apply_snapshot(void *ctx, firn_ice_metadata *md, firn_error *err) {
    snapshot_commit *c = ctx;
    int rc = firn_ice_metadata_add_snapshot(md, &c->snap, err);
    if (rc) return rc;
    firn_ice_ref ref = firn_ice_ref_make("main", c->snap.snapshot_id, FIRN_ICE_REF_BRANCH);
    return firn_ice_metadata_set_snapshot_ref(md, &ref, err);
}

/* Commit a snapshot whose manifest list is a new delete manifest holding df,
 * then the parent's manifests. */
static int commit_delete(fixture *f, const firn_ice_data_file *df, const char *name) {
    firn_error *err = &f->err;
    const firn_ice_metadata *md = f->t->metadata;
    char mloc[700], lloc[700];
    /* the delete manifest */
    int64_t sid = firn_ice_metadata_new_snapshot_id(md);
    snprintf(mloc, sizeof mloc, "%s/metadata/%s-m0.avro", md->location, name);
    firn_ice_manifest_writer *mw = firn_ice_manifest_writer_new(
        f->t->io, mloc, 2, firn_ice_metadata_current_schema(md), firn_ice_metadata_default_spec(md),
        df->content, sid, err);
    if (!mw) return -1;
    firn_ice_manifest_entry e;
    memset(&e, 0, sizeof e);
    e.status = FIRN_ICE_ADDED;
    e.data_file = *df;
    firn_ice_manifest_file mf;
    int rc = firn_ice_manifest_writer_add(mw, &e, err);
    if (!rc) rc = firn_ice_manifest_writer_close(mw, &f->a, &mf, err);
    firn_ice_manifest_writer_free(mw);
    if (rc) return rc;
    /* the manifest list: the delete manifest, then the parent's manifests */
    const firn_ice_snapshot *parent = firn_ice_metadata_current_snapshot(md);
    firn_ice_manifest_file *pm = NULL;
    size_t npm = 0;
    if (firn_ice_manifest_list_read(f->t->io, parent->manifest_list, &f->a, &pm, &npm, NULL, err)) return -1;
    snprintf(lloc, sizeof lloc, "%s/metadata/snap-%lld-%s.avro", md->location, (long long)sid, name);
    firn_ice_manifest_list_writer *lw = firn_ice_manifest_list_writer_new(
        f->t->io, lloc, 2, sid, parent->snapshot_id, md->last_sequence_number + 1, err);
    if (!lw) return -1;
    rc = firn_ice_manifest_list_writer_add(lw, &mf, NULL, err);
    for (size_t i = 0; !rc && i < npm; i++) rc = firn_ice_manifest_list_writer_add(lw, &pm[i], NULL, err);
    if (!rc) rc = firn_ice_manifest_list_writer_close(lw, NULL, err);
    firn_ice_manifest_list_writer_free(lw);
    if (rc) return rc;
    snapshot_commit sc;
    memset(&sc, 0, sizeof sc);
    static const firn_ice_kv summary[] = {{"operation", "delete"}};
    sc.snap.snapshot_id = sid;
    sc.snap.has_parent = true;
    sc.snap.parent_snapshot_id = parent->snapshot_id;
    sc.snap.sequence_number = md->last_sequence_number + 1;
    sc.snap.timestamp_ms = firn_now_us() / 1000;
    sc.snap.manifest_list = lloc;
    sc.snap.nsummary = 1;
    sc.snap.summary = summary;
    sc.snap.has_schema_id = true;
    sc.snap.schema_id = md->current_schema_id;
    firn_ice_update up = {apply_snapshot, NULL, &sc};
    return firn_ice_table_commit(f->t, &up, 1, NULL, err);
}

/* Commit a snapshot adding a position delete file that deletes positions
 * pos[0..n) of data file target, plus position 1 of file other. */
static int commit_position_deletes_other(fixture *f, const char *target, const int64_t *pos, size_t n,
                                         const char *name, const char *other) {
    firn_error *err = &f->err;
    char path[600], loc[700];
    snprintf(path, sizeof path, "%s/scan-deletes/%s.parquet", firn_test_tmpdir(), name);
    snprintf(loc, sizeof loc, "file:%s", path);
    /* the delete file: file_path, pos (+ a row for another file) */
    firn_pq_column_spec cs[2];
    firn_pq_column_spec_init(&cs[0], "file_path", 2147483546, FIRN_PQ_STRING);
    firn_pq_column_spec_init(&cs[1], "pos", 2147483545, FIRN_PQ_LONG);
    firn_pq_writer *w = firn_pq_writer_open(path, cs, 2, NULL, err);
    if (!w) return -1;
    firn_buf paths;
    firn_buf_init(&paths);
    int64_t *off = calloc(n + 2, 8), *p = calloc(n + 2, 8);
    for (size_t i = 0; i < n; i++) {
        firn_buf_append_str(&paths, target);
        off[i + 1] = (int64_t)paths.len;
        p[i] = pos[i];
    }
    firn_buf_append_str(&paths, other);
    off[n + 1] = (int64_t)paths.len;
    p[n] = 1;
    firn_pq_column_data cols[2] = {{NULL, NULL, off, paths.data}, {NULL, p, NULL, NULL}};
    firn_pq_file_info info;
    int rc = firn_pq_writer_write(w, cols, n + 1, err);
    if (!rc) rc = firn_pq_writer_close(w, &info, err);
    uint64_t size = info.file_size;
    firn_pq_writer_free(w);
    free(off);
    free(p);
    firn_buf_release(&paths);
    if (rc) return rc;
    firn_ice_data_file df;
    memset(&df, 0, sizeof df);
    df.content = FIRN_ICE_CONTENT_POSITION_DELETES;
    df.file_path = loc;
    df.file_format = "PARQUET";
    df.record_count = (int64_t)n + 1;
    df.file_size_in_bytes = (int64_t)size;
    return commit_delete(f, &df, name);
}

static int commit_position_deletes(fixture *f, const char *target, const int64_t *pos, size_t n,
                                   const char *name) {
    return commit_position_deletes_other(f, target, pos, n, name, "file:/elsewhere.parquet");
}

static bool p_not_deleted(size_t i) { return i != 0 && i != 5 && i != 17 && i != 199; }
static bool p_not_deleted_ge(size_t i) { return p_not_deleted(i) && i >= 10; }
static bool p_not_deleted_plus(size_t i) { return p_not_deleted(i) || (i >= 200 && i < 230); }

FIRN_TEST(iceberg_scan_position_deletes) {
    fixture f;
    CHECK_OK(fixture_open(&f, "deletes", false), &f.err);
    int64_t s1 = append_rows(&f, 0, 200, NULL);
    CHECK(s1 > 0);
    size_t nt;
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    firn_ice_scan *s = firn_ice_scan_table(f.t, &o, &f.err);
    CHECK(s);
    const firn_ice_scan_task *tasks = firn_ice_scan_tasks(s, &nt);
    CHECK_EQ_INT(nt, 1);
    char target[700];
    snprintf(target, sizeof target, "%s", tasks[0].file->file_path);
    firn_ice_scan_free(s);
    int64_t pos[] = {199, 5, 0, 17}; /* unsorted on purpose */
    CHECK_OK(commit_position_deletes(&f, target, pos, 4, "pd1"), &f.err);
    firn_ice_scan_stats st;
    CHECK_OK(check_filter(&f, NULL, p_not_deleted, 200, &st), &f.err);
    CHECK_EQ_INT(st.delete_files, 1);
    CHECK_EQ_INT(st.position_deletes_applied, 1);
    CHECK_EQ_INT(st.rows_deleted, 4);
    CHECK_EQ_INT(st.rows_returned, 196);
    CHECK_OK(check_filter(&f, "id >= 10", p_not_deleted_ge, 200, &st), &f.err);
    /* the snapshot before the delete still has every row */
    o.snapshot_id = s1;
    CHECK_OK(check_opts(&f, &o, p_all, 200), &f.err);
    /* a later append is untouched (its file is not the delete's target) */
    CHECK(append_rows(&f, 200, 30, NULL) > 0);
    CHECK_OK(check_filter(&f, NULL, p_not_deleted_plus, 230, &st), &f.err);
    CHECK_EQ_INT(st.rows_deleted, 4);
    fixture_close(&f);
}

static bool p_eq(size_t i) {
    if (i >= 300) return true; /* appended after the delete */
    bool car = g_car(i) && strcmp(g_car(i), "12GA3456") == 0;
    bool slot = !g_slot_valid(i) || g_slot(i) == 3;
    return !car && !slot;
}

FIRN_TEST(iceberg_scan_equality_deletes) {
    fixture f;
    CHECK_OK(fixture_open(&f, "eqdeletes2", false), &f.err);
    CHECK(append_rows(&f, 0, 300, NULL) > 0);
    const char *const what[2] = {"car", "slot"};
    for (int k = 0; k < 2; k++) {
        char path[600], loc[700];
        snprintf(path, sizeof path, "%s/scan-eqdeletes2/eq-%s.parquet", firn_test_tmpdir(), what[k]);
        snprintf(loc, sizeof loc, "file:%s", path);
        firn_pq_column_spec cs;
        firn_pq_file_info info;
        firn_pq_writer *w;
        int rc;
        int32_t eqid;
        int64_t nrec;
        if (k == 0) {
            firn_pq_column_spec_init(&cs, "carId", 3, FIRN_PQ_STRING);
            cs.optional = true;
            w = firn_pq_writer_open(path, &cs, 1, NULL, &f.err);
            CHECK(w);
            int64_t off[3] = {0, 8, 16};
            firn_pq_column_data c = {NULL, NULL, off, (const uint8_t *)"12GA3456NOSUCHID"};
            rc = firn_pq_writer_write(w, &c, 2, &f.err);
            eqid = 3;
            nrec = 2;
        } else {
            firn_pq_column_spec_init(&cs, "slot", 4, FIRN_PQ_INT);
            cs.optional = true;
            w = firn_pq_writer_open(path, &cs, 1, NULL, &f.err);
            CHECK(w);
            int32_t v[2] = {3, 0};
            uint8_t valid[2] = {1, 0}; /* 3 and null */
            firn_pq_column_data c = {valid, v, NULL, NULL};
            rc = firn_pq_writer_write(w, &c, 2, &f.err);
            eqid = 4;
            nrec = 2;
        }
        if (!rc) rc = firn_pq_writer_close(w, &info, &f.err);
        uint64_t size = info.file_size;
        firn_pq_writer_free(w);
        CHECK_OK(rc, &f.err);
        firn_ice_data_file df;
        memset(&df, 0, sizeof df);
        df.content = FIRN_ICE_CONTENT_EQUALITY_DELETES;
        df.file_path = loc;
        df.file_format = "PARQUET";
        df.record_count = nrec;
        df.file_size_in_bytes = (int64_t)size;
        df.equality_ids = &eqid;
        df.nequality_ids = 1;
        char name[32];
        snprintf(name, sizeof name, "eq%d", k);
        CHECK_OK(commit_delete(&f, &df, name), &f.err);
    }
    /* rows appended after the deletes (higher sequence number) stay */
    CHECK(append_rows(&f, 300, 100, NULL) > 0);
    firn_ice_scan_stats st;
    CHECK_OK(check_filter(&f, NULL, p_eq, 400, &st), &f.err);
    CHECK_EQ_INT(st.delete_files, 2);
    CHECK_EQ_INT(st.equality_deletes_applied, 2);
    long want = 0;
    for (size_t i = 0; i < 300; i++) want += !p_eq(i);
    CHECK_EQ_INT(st.rows_deleted, want);
    /* with a filter on another column: the equality columns are still read */
    firn_ice_scan_options o;
    firn_ice_scan_options_init(&o);
    const char *cols[] = {"id"};
    o.columns = cols;
    o.ncolumns = 1;
    unsigned char seen[400] = {0};
    long got = scan_ids(f.t->metadata, f.t->io, &o, seen, 400, NULL, &f.err);
    CHECK_MSG(got >= 0, "%s", firn_test_errtext(&f.err));
    for (size_t i = 0; i < 400; i++) CHECK_EQ_INT(seen[i], p_eq(i) ? 1 : 0);
    fixture_close(&f);
}

/* An equality delete file on slot (deleting slot = 3 and slot null), committed
 * as a snapshot; *size gets its size. */
static int commit_slot_eq_delete(fixture *f, const char *dir, const char *name, uint64_t *size) {
    char path[600], loc[700];
    snprintf(path, sizeof path, "%s/%s/%s.parquet", firn_test_tmpdir(), dir, name);
    snprintf(loc, sizeof loc, "file:%s", path);
    firn_pq_column_spec cs;
    firn_pq_column_spec_init(&cs, "slot", 4, FIRN_PQ_INT);
    cs.optional = true;
    firn_pq_writer *w = firn_pq_writer_open(path, &cs, 1, NULL, &f->err);
    if (!w) return -1;
    int32_t v[2] = {3, 0};
    uint8_t valid[2] = {1, 0};
    firn_pq_column_data c = {valid, v, NULL, NULL};
    firn_pq_file_info info;
    int rc = firn_pq_writer_write(w, &c, 2, &f->err);
    if (!rc) rc = firn_pq_writer_close(w, &info, &f->err);
    *size = rc ? 0 : info.file_size;
    firn_pq_writer_free(w);
    if (rc) return rc;
    int32_t eqid = 4;
    firn_ice_data_file df;
    memset(&df, 0, sizeof df);
    df.content = FIRN_ICE_CONTENT_EQUALITY_DELETES;
    df.file_path = loc;
    df.file_format = "PARQUET";
    df.record_count = 2;
    df.file_size_in_bytes = (int64_t)*size;
    df.equality_ids = &eqid;
    df.nequality_ids = 1;
    return commit_delete(f, &df, name);
}

static int64_t bytes_del_a_first;
static bool p_bytes_del(size_t i) {
    bool pos = (int64_t)i == bytes_del_a_first + 3 || (int64_t)i == bytes_del_a_first + 50;
    bool slot = !g_slot_valid(i) || g_slot(i) == 3;
    return !pos && !slot;
}

/* Delete files are read once per scan (equality) or only as far as the data
 * file needs (position: footer, then the file_path and pos chunks of row groups
 * whose file_path bounds hold the data file's path), and counted. */
FIRN_TEST(iceberg_scan_bytes_read_with_delete_files) {
    fixture f;
    CHECK_OK(fixture_open(&f, "bytesdel", false), &f.err);
    CHECK(append_rows(&f, 0, 100, NULL) > 0);
    CHECK(append_rows(&f, 100, 100, NULL) > 0);
    firn_ice_scan *s = firn_ice_scan_new(f.t->metadata, f.t->io, NULL, &f.err);
    CHECK(s);
    size_t nt;
    const firn_ice_scan_task *tasks = firn_ice_scan_tasks(s, &nt);
    CHECK_EQ_INT(nt, 2);
    /* A: the file whose path sorts first, so that B's lies above the delete
     * file's file_path bounds ("file:/elsewhere.parquet" .. A) */
    size_t ai = strcmp(tasks[0].file->file_path, tasks[1].file->file_path) < 0 ? 0 : 1;
    char a_path[700], b_path[700];
    snprintf(a_path, sizeof a_path, "%s", tasks[ai].file->file_path);
    snprintf(b_path, sizeof b_path, "%s", tasks[1 - ai].file->file_path);
    int64_t data_bytes = tasks[0].file->file_size_in_bytes + tasks[1].file->file_size_in_bytes;
    /* A's rows: batches come in task order, rows in file order */
    firn_ice_scan_batch b;
    for (size_t k = 0; k <= ai; k++) CHECK_EQ_INT(firn_ice_scan_next_batch(s, &b, &f.err), 1);
    CHECK(strcmp(b.file_path, a_path) == 0);
    bytes_del_a_first = ((const int64_t *)b.columns[0].values)[0];
    CHECK(bytes_del_a_first == 0 || bytes_del_a_first == 100);
    firn_ice_scan_free(s);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/scan-deletes", firn_test_tmpdir());
    CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST);
    int64_t pos[2] = {3, 50};
    CHECK_OK(commit_position_deletes(&f, a_path, pos, 2, "bd-pos"), &f.err);
    uint64_t eq_size = 0;
    CHECK_OK(commit_slot_eq_delete(&f, "scan-deletes", "bd-eq", &eq_size), &f.err);
    /* a position delete file for other files only: its file_path bounds exclude A
     * and B, so each reads its footer and no column chunk */
    int64_t none[1] = {0};
    CHECK_OK(commit_position_deletes_other(&f, "file:/zzz/gone-1.parquet", none, 1, "bd-pos-other",
                                           "file:/zzz/gone-2.parquet"),
             &f.err);

    firn_ice_scan_stats st;
    CHECK_OK(check_filter(&f, NULL, p_bytes_del, 200, &st), &f.err);
    CHECK_EQ_INT(st.position_deletes_applied, 4);
    CHECK_EQ_INT(st.equality_deletes_applied, 2);
    /* the position delete file: rows for A and for file:/elsewhere.parquet */
    char pd_loc[700];
    snprintf(pd_loc, sizeof pd_loc, "file:%s/scan-deletes/bd-pos.parquet", firn_test_tmpdir());
    file_facts pd;
    CHECK_OK(file_facts_load(pd_loc, &pd), &f.err);
    /* its file_path statistics (as written: possibly truncated, so wider than
     * the paths themselves) */
    firn_pq_reader *pr = firn_pq_reader_open(pd_loc + 5, &f.err);
    CHECK(pr);
    firn_pq_chunk_info ci;
    CHECK_OK(firn_pq_reader_chunk_info(pr, 0, 0, &ci, &f.err), &f.err);
    CHECK(ci.has_min && ci.has_max);
    int64_t pd_chunks = pd.chunk[0][0] + pd.chunk[0][1];
    int64_t want = data_bytes + (int64_t)eq_size; /* the equality file once, whole (one column) */
    const char *paths[2] = {a_path, b_path};
    bool fetched[2];
    for (int k = 0; k < 2; k++) {
        size_t l = strlen(paths[k]);
        int lo = memcmp(paths[k], ci.min.bytes, l < ci.min.len ? l : ci.min.len);
        int hi = memcmp(paths[k], ci.max.bytes, l < ci.max.len ? l : ci.max.len);
        if (lo == 0) lo = l < ci.min.len ? -1 : 0;
        if (hi == 0) hi = l > ci.max.len ? 1 : 0;
        fetched[k] = lo >= 0 && hi <= 0;
        want += 4 + 8 + (int64_t)pd.footer + (fetched[k] ? pd_chunks : 0);
    }
    CHECK(fetched[0]); /* A's own rows are in it */
    firn_pq_reader_free(pr);
    snprintf(pd_loc, sizeof pd_loc, "file:%s/scan-deletes/bd-pos-other.parquet", firn_test_tmpdir());
    CHECK_OK(file_facts_load(pd_loc, &pd), &f.err);
    want += 2 * (4 + 8 + (int64_t)pd.footer);
    CHECK_EQ_INT(st.bytes_read, want);
    fixture_close(&f);
}

/* ------------------------------------------ projection and NaN pruning */

FIRN_TEST(iceberg_scan_expr_inclusive_projection) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *s = firn_ice_schema_parse(&a, EXPR_SCHEMA, strlen(EXPR_SCHEMA), &err);
    firn_ice_partition_field pf[4] = {
        {1, 1000, "id_bucket", {FIRN_ICE_TRANSFORM_BUCKET, 4, NULL}},
        {4, 1001, "slot_trunc", {FIRN_ICE_TRANSFORM_TRUNCATE, 10, NULL}},
        {2, 1002, "ts_month", {FIRN_ICE_TRANSFORM_MONTH, 0, NULL}},
        {3, 1003, "carId", {FIRN_ICE_TRANSFORM_IDENTITY, 0, NULL}},
    };
    firn_ice_partition_spec *spec = firn_ice_partition_spec_new(&a, 0, pf, 4);
    static const struct { const char *in, *out; } cases[] = {
        /* bucket(34) = 2017239379 % 4 = 3 (spec vector) */
        {"id = 34 and slot < 25 and ts > '2024-03-05T00:00:00+00:00'",
         "((id_bucket = 3 and slot_trunc <= 20) and ts_month >= 650)"},
        {"id > 34", "true"},                            /* bucket: only = and in */
        {"id in (34, 34)", "id_bucket in (3, 3)"},
        {"carId != 'x' or slot != 4", "true"},          /* != through non-identity: true */
        {"carId != 'x'", "carId != 'x'"},
        {"not (carId in ('a', 'b'))", "carId not in ('a', 'b')"},
        {"slot is null and score > 1", "slot_trunc is null"},
        {"ts <= '2024-01-31T23:59:59+00:00'", "ts_month <= 648"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        firn_ice_expr *b = firn_ice_expr_bind(&a, firn_ice_expr_parse(&a, cases[i].in, &err), s, true, &err);
        CHECK_MSG(b, "%s: %s", cases[i].in, firn_test_errtext(&err));
        firn_ice_expr *p = firn_ice_expr_project(&a, b, spec, s, &err);
        CHECK_MSG(p, "%s: %s", cases[i].in, firn_test_errtext(&err));
        firn_buf out;
        firn_buf_init(&out);
        firn_ice_expr_to_string(p, &out);
        CHECK_MSG(strcmp(firn_buf_cstr(&out), cases[i].out) == 0, "%s -> %s (want %s)", cases[i].in,
                  firn_buf_cstr(&out), cases[i].out);
        firn_buf_release(&out);
    }
    firn_error_release(&err);
    firn_arena_release(&a);
}

static firn_ice_value_range g_range;
static bool fixed_range(void *ctx, int32_t id, firn_ice_value_range *r) {
    (void)ctx;
    (void)id;
    *r = g_range;
    return true;
}

FIRN_TEST(iceberg_scan_metrics_nan_and_nulls) {
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_error err;
    firn_error_init(&err);
    firn_ice_schema *s = firn_ice_schema_parse(&a, EXPR_SCHEMA, strlen(EXPR_SCHEMA), &err);
#define BIND(text) firn_ice_expr_bind(&a, firn_ice_expr_parse(&a, text, &err), s, true, &err)
    memset(&g_range, 0, sizeof g_range);
    g_range.has_lower = g_range.has_upper = true;
    g_range.lower = firn_ice_value_double(1.0);
    g_range.upper = firn_ice_value_double(5.0);
    g_range.may_have_non_null = true;
    /* NaN sorts above every number: a file that may hold NaN may match > 10 */
    g_range.may_have_nan = true;
    CHECK(firn_ice_expr_may_match(BIND("score > 10"), fixed_range, NULL));
    CHECK(!firn_ice_expr_may_match(BIND("score < 0.5"), fixed_range, NULL));
    g_range.may_have_nan = false;
    CHECK(!firn_ice_expr_may_match(BIND("score > 10"), fixed_range, NULL));
    CHECK(!firn_ice_expr_may_match(BIND("score >= 5.5 or score = 0"), fixed_range, NULL));
    CHECK(firn_ice_expr_may_match(BIND("score >= 5 and score <= 1"), fixed_range, NULL));
    CHECK(!firn_ice_expr_may_match(BIND("score is null"), fixed_range, NULL));
    CHECK(firn_ice_expr_may_match(BIND("score != 3"), fixed_range, NULL));
    /* all null: only is null may match */
    g_range.may_have_non_null = false;
    g_range.may_have_null = true;
    g_range.has_lower = g_range.has_upper = false;
    CHECK(firn_ice_expr_may_match(BIND("score is null"), fixed_range, NULL));
    CHECK(!firn_ice_expr_may_match(BIND("score != 3"), fixed_range, NULL));
    CHECK(!firn_ice_expr_may_match(BIND("score is not null"), fixed_range, NULL));
    CHECK(!firn_ice_expr_may_match(BIND("not (score < 3)"), fixed_range, NULL));
#undef BIND
    firn_error_release(&err);
    firn_arena_release(&a);
}
