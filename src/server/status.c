/* status.c - GET /api/v1/pipeline: what the pipeline is doing now, from the
 * metrics registry that `firn run` feeds (ingest and commit rates, freshness,
 * source lag per topic/partition, maintenance runs with what they reclaimed,
 * audit failures) plus the failed audits recorded in firn.commits. The rates
 * come from a sampler thread that reads the counters once a second. Also the
 * process-wide list of the last maintenance runs (server.h). */
#include "server/server_internal.h"

#include "catalog/catalog.h"
#include "maintain/maintain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_MS 1000
#define NSAMPLES 180   /* three minutes of one-second samples */
#define RATE_WINDOW 10 /* the "now" rate: over the last ten samples */
#define NRUNS 32       /* maintenance runs kept */
#define NFAILED 20     /* failed audits listed */

/* ------------------------------------------------------------ maintenance runs */

typedef struct maint_run {
    int64_t at_ms;
    char table[256];
    char op[32];
    firn_maintain_result res; /* counters only (no paths) */
} maint_run;

static pthread_mutex_t runs_mu = PTHREAD_MUTEX_INITIALIZER;
static maint_run runs[NRUNS];
static size_t runs_head, runs_count; /* ring: the oldest at runs_head */

static size_t files_removed(const firn_maintain_result *r) {
    return r->data_files_deleted + r->manifests_deleted + r->manifest_lists_deleted +
           r->metadata_files_deleted + r->orphans_deleted;
}

void firn_server_record_maintenance(const char *table, const char *op,
                                    const firn_maintain_result *res) {
    firn_metrics_describe("firn_maintenance_runs_total", FIRN_METRIC_COUNTER,
                          "Maintenance runs that succeeded, by table and operation", NULL, 0);
    firn_metrics_describe("firn_maintenance_bytes_reclaimed_total", FIRN_METRIC_COUNTER,
                          "Bytes of files deleted by maintenance", NULL, 0);
    firn_metrics_describe("firn_maintenance_files_removed_total", FIRN_METRIC_COUNTER,
                          "Files deleted by maintenance (data, manifests, manifest lists, "
                          "metadata, orphans)", NULL, 0);
    firn_metrics_describe("firn_maintenance_files_rewritten_total", FIRN_METRIC_COUNTER,
                          "Data files replaced by compaction", NULL, 0);
    firn_metrics_describe("firn_maintenance_last_duration_seconds", FIRN_METRIC_GAUGE,
                          "Duration of the last maintenance run", NULL, 0);
    firn_metrics_describe("firn_maintenance_last_run_timestamp_seconds", FIRN_METRIC_GAUGE,
                          "When the last maintenance run ended (Unix seconds)", NULL, 0);
    char l[700];
    snprintf(l, sizeof l, "table=\"%s\",op=\"%s\"", table, op);
    int64_t now_ms = firn_now_us() / 1000;
    firn_metrics_counter_add("firn_maintenance_runs_total", l, 1);
    firn_metrics_counter_add("firn_maintenance_bytes_reclaimed_total", l, (double)res->bytes_reclaimed);
    firn_metrics_counter_add("firn_maintenance_files_removed_total", l, (double)files_removed(res));
    firn_metrics_counter_add("firn_maintenance_files_rewritten_total", l, (double)res->files_rewritten);
    firn_metrics_gauge_set("firn_maintenance_last_duration_seconds", l, (double)res->duration_ms / 1e3);
    firn_metrics_gauge_set("firn_maintenance_last_run_timestamp_seconds", l, (double)now_ms / 1e3);
    pthread_mutex_lock(&runs_mu);
    maint_run *m = &runs[(runs_head + runs_count) % NRUNS];
    if (runs_count == NRUNS) runs_head = (runs_head + 1) % NRUNS;
    else runs_count++;
    m->at_ms = now_ms;
    snprintf(m->table, sizeof m->table, "%s", table);
    snprintf(m->op, sizeof m->op, "%s", op);
    m->res = *res;
    m->res.paths = NULL;
    m->res.npaths = m->res.cap_paths = 0;
    pthread_mutex_unlock(&runs_mu);
}

/* ------------------------------------------------------------ sampler */

typedef struct sample {
    int64_t t_ms;
    double http, rows; /* counters: events accepted over HTTP, rows committed */
} sample;

typedef struct firn_status {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    sample ring[NSAMPLES];
    size_t head, count;
} firn_status;

static void add_value(void *ctx, const char *labels, double v, uint64_t count) {
    (void)labels, (void)count;
    *(double *)ctx += v;
}

static void take_sample(firn_status *st) {
    sample x = {firn_now_us() / 1000, 0, 0};
    x.http = firn_metrics_value("firn_ingest_events_total", "result=\"accepted\"");
    firn_metrics_each("firn_rows_committed_total", add_value, &x.rows);
    pthread_mutex_lock(&st->mu);
    st->ring[(st->head + st->count) % NSAMPLES] = x;
    if (st->count == NSAMPLES) st->head = (st->head + 1) % NSAMPLES;
    else st->count++;
    pthread_mutex_unlock(&st->mu);
}

static void *sampler(void *arg) {
    firn_status *st = arg;
    pthread_mutex_lock(&st->mu);
    while (!st->stop) {
        pthread_mutex_unlock(&st->mu);
        take_sample(st);
        pthread_mutex_lock(&st->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += SAMPLE_MS / 1000;
        ts.tv_nsec += (long)(SAMPLE_MS % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        while (!st->stop && pthread_cond_timedwait(&st->cv, &st->mu, &ts) == 0) {
        }
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

int firn_status_start(firn_server *s, firn_error *err) {
    firn_status *st = firn_xcalloc(1, sizeof *st);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    if (pthread_create(&st->th, NULL, sampler, st) != 0) {
        pthread_mutex_destroy(&st->mu);
        pthread_cond_destroy(&st->cv);
        free(st);
        return FIRN_RAISE(err, FIRN_ERR_IO, "cannot start the server's sampler thread");
    }
    s->status = st;
    return 0;
}

void firn_status_stop(firn_server *s) {
    firn_status *st = s->status;
    if (!st) return;
    pthread_mutex_lock(&st->mu);
    st->stop = true;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
    pthread_join(st->th, NULL);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st);
    s->status = NULL;
}

/* ------------------------------------------------------------ the answer */

/* The value of label key in a label text (key="value",...), unescaped, or false. */
static bool label_value(const char *labels, const char *key, char *out, size_t n) {
    size_t kl = strlen(key);
    for (const char *p = labels; p && *p;) {
        if (!strncmp(p, key, kl) && p[kl] == '=' && p[kl + 1] == '"') {
            const char *v = p + kl + 2;
            size_t k = 0;
            for (; *v && *v != '"'; v++) {
                if (*v == '\\' && v[1]) v++;
                if (k + 1 < n) out[k++] = *v;
            }
            out[k] = 0;
            return true;
        }
        /* next label: past the closing quote of this one */
        const char *q = strchr(p, '"');
        if (!q) break;
        for (q++; *q && *q != '"'; q++)
            if (*q == '\\' && q[1]) q++;
        p = *q ? q + 1 : q;
        if (*p == ',') p++;
    }
    return false;
}

typedef struct field_ctx {
    json_t *by_labels; /* label text -> object */
    const char *field;
    bool mean;         /* histogram: the mean and the count */
} field_ctx;

static void set_field(void *ctx, const char *labels, double v, uint64_t count) {
    field_ctx *f = ctx;
    json_t *o = json_object_get(f->by_labels, labels);
    if (!o) {
        o = json_object();
        json_object_set_new(f->by_labels, labels, o);
    }
    if (f->mean) {
        json_object_set_new(o, "commits", json_integer((json_int_t)count));
        json_object_set_new(o, f->field, count ? json_real(v / (double)count) : json_null());
    } else {
        bool whole = v == floor(v) && fabs(v) < 1e15 && !strstr(f->field, "_s") &&
                     strcmp(f->field, "seconds") != 0;
        json_object_set_new(o, f->field, whole ? json_integer((json_int_t)v) : json_real(v));
    }
}

/* The series of several metrics merged per label text into an array of
 * objects with the labels keys (strings) and one field per metric. */
static json_t *merged(const char *const (*metrics)[2], size_t nmetrics, const char *const *keys,
                      size_t nkeys) {
    json_t *by = json_object();
    for (size_t i = 0; i < nmetrics; i++) {
        field_ctx f = {by, metrics[i][1], !strcmp(metrics[i][1], "mean_s")};
        firn_metrics_each(metrics[i][0], set_field, &f);
    }
    json_t *arr = json_array();
    const char *labels;
    json_t *o;
    json_object_foreach(by, labels, o) {
        json_t *x = json_object();
        char v[256];
        for (size_t k = 0; k < nkeys; k++) {
            char *end = NULL;
            long num = 0;
            bool has = label_value(labels, keys[k], v, sizeof v);
            if (has && !strcmp(keys[k], "partition") && *v) num = strtol(v, &end, 10);
            json_object_set_new(x, keys[k], !has              ? json_null()
                                            : end && !*end    ? json_integer(num)
                                                              : json_string(v));
        }
        json_object_update(x, o);
        json_array_append_new(arr, x);
    }
    json_decref(by);
    return arr;
}

static json_t *ingest_json(firn_server *s) {
    firn_status *st = s->status;
    json_t *j = json_object();
    double http = firn_metrics_value("firn_ingest_events_total", "result=\"accepted\""), rows = 0;
    firn_metrics_each("firn_rows_committed_total", add_value, &rows);
    json_object_set_new(j, "http_events_total", json_integer((json_int_t)http));
    json_object_set_new(j, "rows_committed_total", json_integer((json_int_t)rows));
    json_t *series = json_array();
    double http_rate = 0, rows_rate = 0, window_s = 0;
    if (st) {
        pthread_mutex_lock(&st->mu);
        for (size_t i = 1; i < st->count; i++) {
            const sample *a = &st->ring[(st->head + i - 1) % NSAMPLES];
            const sample *b = &st->ring[(st->head + i) % NSAMPLES];
            double dt = (double)(b->t_ms - a->t_ms) / 1e3;
            if (dt <= 0) continue;
            json_array_append_new(series, json_pack("[I,f,f]", (json_int_t)b->t_ms,
                                                    (b->http - a->http) / dt, (b->rows - a->rows) / dt));
        }
        if (st->count >= 2) {
            size_t back = st->count - 1 < RATE_WINDOW ? st->count - 1 : RATE_WINDOW;
            const sample *a = &st->ring[(st->head + st->count - 1 - back) % NSAMPLES];
            const sample *b = &st->ring[(st->head + st->count - 1) % NSAMPLES];
            window_s = (double)(b->t_ms - a->t_ms) / 1e3;
            if (window_s > 0) {
                http_rate = (b->http - a->http) / window_s;
                rows_rate = (b->rows - a->rows) / window_s;
            }
        }
        pthread_mutex_unlock(&st->mu);
    }
    json_object_set_new(j, "window_s", json_real(window_s));
    json_object_set_new(j, "http_events_per_s", json_real(http_rate));
    json_object_set_new(j, "rows_per_s", json_real(rows_rate));
    json_object_set_new(j, "sample_ms", json_integer(SAMPLE_MS));
    json_object_set_new(j, "series", series);
    return j;
}

static json_t *recent_runs_json(void) {
    json_t *arr = json_array();
    pthread_mutex_lock(&runs_mu);
    for (size_t i = runs_count; i-- > 0;) { /* newest first */
        const maint_run *m = &runs[(runs_head + i) % NRUNS];
        const firn_maintain_result *r = &m->res;
        json_t *x = json_object();
        json_object_set_new(x, "at_ms", json_integer(m->at_ms));
        json_object_set_new(x, "table", json_string(m->table));
        json_object_set_new(x, "op", json_string(m->op));
        json_object_set_new(x, "snapshots_expired", json_integer((json_int_t)r->snapshots_expired));
        json_object_set_new(x, "files_removed", json_integer((json_int_t)files_removed(r)));
        json_object_set_new(x, "orphans_deleted", json_integer((json_int_t)r->orphans_deleted));
        json_object_set_new(x, "bytes_reclaimed", json_integer(r->bytes_reclaimed));
        json_object_set_new(x, "files_rewritten", json_integer((json_int_t)r->files_rewritten));
        json_object_set_new(x, "files_written", json_integer((json_int_t)r->files_written));
        json_object_set_new(x, "manifests_rewritten", json_integer((json_int_t)r->manifests_rewritten));
        json_object_set_new(x, "commits", json_integer((json_int_t)r->commits));
        json_object_set_new(x, "duration_ms", json_integer(r->duration_ms));
        json_array_append_new(arr, x);
    }
    pthread_mutex_unlock(&runs_mu);
    return arr;
}

/* The failed audits of firn.commits (outcome neither published nor
 * cherry-picked), newest first, at most NFAILED; *total counts them all. */
static json_t *failed_audits_json(firn_catalog *cat, int64_t *total, firn_error *err) {
    json_t *commits = firn_api_commits(cat, err);
    *total = 0;
    if (!commits) return err->kind ? NULL : json_array();
    json_t *arr = json_array();
    for (size_t i = json_array_size(commits); i-- > 0;) {
        json_t *c = json_array_get(commits, i);
        const char *oc = json_string_value(json_object_get(c, "outcome"));
        if (!oc || !strcmp(oc, "published") || !strcmp(oc, "cherry-picked")) continue;
        (*total)++;
        if (json_array_size(arr) >= NFAILED) continue;
        json_t *x = json_object();
        static const char *const keys[] = {"committed_at_ms", "table_name", "snapshot_id",
                                           "outcome", "audit", "rows_trusted", "worker"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            json_t *v = json_object_get(c, keys[k]);
            json_object_set(x, keys[k], v ? v : json_null());
        }
        json_array_append_new(arr, x);
    }
    json_decref(commits);
    return arr;
}

void firn_status_handle(firn_server *s, firn_catalog *cat, firn_reply *r) {
    firn_error err;
    firn_error_init(&err);
    int64_t failed_total = 0;
    json_t *failed = failed_audits_json(cat, &failed_total, &err);
    if (!failed) {
        char buf[1024];
        firn_reply_error(r, 500, "%s", firn_error_format(&err, buf, sizeof buf));
        firn_error_release(&err);
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "now_ms", json_integer(firn_now_us() / 1000));
    json_object_set_new(j, "ingest", ingest_json(s));
    static const char *const table_key[] = {"table"};
    static const char *const fresh[][2] = {{"firn_freshness_seconds", "seconds"},
                                           {"firn_commit_seconds", "mean_s"}};
    json_object_set_new(j, "freshness", merged(fresh, 2, table_key, 1));
    static const char *const lag[][2] = {{"firn_source_lag_records", "records"}};
    static const char *const lag_keys[] = {"topic", "partition"};
    json_object_set_new(j, "source_lag", merged(lag, 1, lag_keys, 2));
    static const char *const maint[][2] = {
        {"firn_maintenance_runs_total", "runs"},
        {"firn_maintenance_failures_total", "failures"},
        {"firn_maintenance_bytes_reclaimed_total", "bytes_reclaimed"},
        {"firn_maintenance_files_removed_total", "files_removed"},
        {"firn_maintenance_files_rewritten_total", "files_rewritten"},
        {"firn_maintenance_last_duration_seconds", "last_duration_s"},
        {"firn_maintenance_last_run_timestamp_seconds", "last_run_s"},
    };
    static const char *const maint_keys[] = {"table", "op"};
    json_t *m = json_object();
    json_object_set_new(m, "totals", merged(maint, sizeof maint / sizeof maint[0], maint_keys, 2));
    json_object_set_new(m, "recent", recent_runs_json());
    json_object_set_new(j, "maintenance", m);
    json_t *a = json_object();
    static const char *const aud[][2] = {{"firn_audit_failures_total", "failures"}};
    json_object_set_new(a, "by_table", merged(aud, 1, table_key, 1));
    json_object_set_new(a, "failed_total", json_integer(failed_total));
    json_object_set_new(a, "failed", failed);
    json_object_set_new(j, "audits", a);
    firn_reply_json(r, 200, j);
}
