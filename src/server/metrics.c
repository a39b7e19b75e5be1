/* metrics.c - the process-wide Prometheus registry (server.h): counters,
 * gauges and histograms keyed by name and label text, printed in the text
 * exposition format 0.0.4. */
#include "server/server.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct metric_desc {
    char *name;
    firn_metric_kind kind;
    char *help;
    double *buckets;
    size_t nbuckets;
} metric_desc;

typedef struct series {
    char *name;
    char *labels;
    uint64_t hash;
    double value;     /* counter, gauge; histogram: sum */
    uint64_t count;   /* histogram */
    uint64_t *bucket; /* histogram: cumulative counts are computed when printed */
    size_t nbuckets;
    const double *bounds;
    struct series *next;
} series;

#define NSLOTS 256

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static series *slots[NSLOTS];
static size_t nseries;
static metric_desc *descs;
static size_t ndescs, cap_descs;

static const double default_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1,    0.25,  0.5,    1,     2.5,  5,     10};

static uint64_t key_hash(const char *name, const char *labels) {
    uint64_t h = firn_xxh64(name, strlen(name), 0);
    return firn_xxh64(labels, strlen(labels), h);
}

static metric_desc *find_desc(const char *name) {
    for (size_t i = 0; i < ndescs; i++)
        if (!strcmp(descs[i].name, name)) return &descs[i];
    return NULL;
}

void firn_metrics_describe(const char *name, firn_metric_kind kind, const char *help,
                           const double *buckets, size_t nbuckets) {
    pthread_mutex_lock(&mu);
    metric_desc *d = find_desc(name);
    if (!d) {
        if (ndescs == cap_descs) {
            cap_descs = cap_descs ? cap_descs * 2 : 32;
            descs = firn_xrealloc(descs, cap_descs * sizeof *descs);
        }
        d = &descs[ndescs++];
        memset(d, 0, sizeof *d);
        d->name = firn_xstrdup(name);
        d->kind = kind;
        d->help = firn_xstrdup(help ? help : "");
        if (kind == FIRN_METRIC_HISTOGRAM) {
            if (!buckets) buckets = default_buckets, nbuckets = sizeof default_buckets / sizeof(double);
            d->buckets = firn_xmalloc(nbuckets * sizeof(double));
            memcpy(d->buckets, buckets, nbuckets * sizeof(double));
            d->nbuckets = nbuckets;
        }
    }
    pthread_mutex_unlock(&mu);
}

/* The series for (name, labels), created when absent; mu held. */
static series *get_series(const char *name, const char *labels) {
    if (!labels) labels = "";
    uint64_t h = key_hash(name, labels);
    series **slot = &slots[h % NSLOTS];
    for (series *s = *slot; s; s = s->next)
        if (s->hash == h && !strcmp(s->name, name) && !strcmp(s->labels, labels)) return s;
    series *s = firn_xcalloc(1, sizeof *s);
    s->name = firn_xstrdup(name);
    s->labels = firn_xstrdup(labels);
    s->hash = h;
    metric_desc *d = find_desc(name);
    if (d && d->kind == FIRN_METRIC_HISTOGRAM) {
        s->bounds = d->buckets;
        s->nbuckets = d->nbuckets;
    } else if (!d) {
        s->bounds = NULL;
    }
    if (s->nbuckets) s->bucket = firn_xcalloc(s->nbuckets, sizeof(uint64_t));
    s->next = *slot;
    *slot = s;
    nseries++;
    return s;
}

void firn_metrics_counter_add(const char *name, const char *labels, double v) {
    pthread_mutex_lock(&mu);
    get_series(name, labels)->value += v;
    pthread_mutex_unlock(&mu);
}

void firn_metrics_gauge_set(const char *name, const char *labels, double v) {
    pthread_mutex_lock(&mu);
    get_series(name, labels)->value = v;
    pthread_mutex_unlock(&mu);
}

void firn_metrics_histogram_observe(const char *name, const char *labels, double v) {
    pthread_mutex_lock(&mu);
    series *s = get_series(name, labels);
    if (!s->nbuckets) { /* observed before described: default buckets */
        s->bounds = default_buckets;
        s->nbuckets = sizeof default_buckets / sizeof(double);
        s->bucket = firn_xcalloc(s->nbuckets, sizeof(uint64_t));
    }
    s->value += v;
    s->count++;
    for (size_t i = 0; i < s->nbuckets; i++)
        if (v <= s->bounds[i]) {
            s->bucket[i]++;
            break;
        }
    pthread_mutex_unlock(&mu);
}

double firn_metrics_value(const char *name, const char *labels) {
    if (!labels) labels = "";
    double v = 0;
    pthread_mutex_lock(&mu);
    uint64_t h = key_hash(name, labels);
    for (series *s = slots[h % NSLOTS]; s; s = s->next)
        if (s->hash == h && !strcmp(s->name, name) && !strcmp(s->labels, labels)) v = s->value;
    pthread_mutex_unlock(&mu);
    return v;
}

static int cmp_series(const void *a, const void *b) {
    const series *x = *(series *const *)a, *y = *(series *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->labels, y->labels);
}

static void put_number(firn_buf *out, double v) {
    if (isnan(v)) firn_buf_append_str(out, "NaN");
    else if (isinf(v)) firn_buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15) firn_buf_appendf(out, "%.0f", v);
    else firn_buf_appendf(out, "%.9g", v);
}

static void put_labels(firn_buf *out, const char *labels, const char *extra) {
    bool any = labels[0] || extra;
    if (!any) return;
    firn_buf_append_str(out, "{");
    firn_buf_append_str(out, labels);
    if (extra) {
        if (labels[0]) firn_buf_append_str(out, ",");
        firn_buf_append_str(out, extra);
    }
    firn_buf_append_str(out, "}");
}

void firn_metrics_write(firn_buf *out) {
    pthread_mutex_lock(&mu);
    series **all = firn_xmalloc((nseries ? nseries : 1) * sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < NSLOTS; i++)
        for (series *s = slots[i]; s; s = s->next) all[n++] = s;
    qsort(all, n, sizeof *all, cmp_series);
    const char *last = "";
    for (size_t i = 0; i < n; i++) {
        series *s = all[i];
        metric_desc *d = find_desc(s->name);
        if (strcmp(last, s->name)) {
            if (d) {
                firn_buf_appendf(out, "# HELP %s %s\n", s->name, d->help);
                firn_buf_appendf(out, "# TYPE %s %s\n", s->name,
                                 d->kind == FIRN_METRIC_COUNTER ? "counter"
                                 : d->kind == FIRN_METRIC_GAUGE ? "gauge"
                                                                : "histogram");
            }
            last = s->name;
        }
        if (s->nbuckets) {
            uint64_t cum = 0;
            char le[64];
            for (size_t b = 0; b < s->nbuckets; b++) {
                cum += s->bucket[b];
                snprintf(le, sizeof le, "le=\"%g\"", s->bounds[b]);
                firn_buf_appendf(out, "%s_bucket", s->name);
                put_labels(out, s->labels, le);
                firn_buf_appendf(out, " %llu\n", (unsigned long long)cum);
            }
            firn_buf_appendf(out, "%s_bucket", s->name);
            put_labels(out, s->labels, "le=\"+Inf\"");
            firn_buf_appendf(out, " %llu\n", (unsigned long long)s->count);
            firn_buf_appendf(out, "%s_sum", s->name);
            put_labels(out, s->labels, NULL);
            firn_buf_append_str(out, " ");
            put_number(out, s->value);
            firn_buf_appendf(out, "\n%s_count", s->name);
            put_labels(out, s->labels, NULL);
            firn_buf_appendf(out, " %llu\n", (unsigned long long)s->count);
        } else {
            firn_buf_append_str(out, s->name);
            put_labels(out, s->labels, NULL);
            firn_buf_append_str(out, " ");
            put_number(out, s->value);
            firn_buf_append_str(out, "\n");
        }
    }
    free(all);
    pthread_mutex_unlock(&mu);
}

void firn_metrics_reset(void) {
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < NSLOTS; i++) {
        series *s = slots[i];
        while (s) {
            series *next = s->next;
            free(s->name);
            free(s->labels);
            free(s->bucket);
            free(s);
            s = next;
        }
        slots[i] = NULL;
    }
    nseries = 0;
    for (size_t i = 0; i < ndescs; i++) {
        free(descs[i].name);
        free(descs[i].help);
        free(descs[i].buckets);
    }
    free(descs);
    descs = NULL;
    ndescs = cap_descs = 0;
    pthread_mutex_unlock(&mu);
}

void firn_metrics_each(const char *name, firn_metrics_fn fn, void *ctx) {
    pthread_mutex_lock(&mu);
    series **all = firn_xmalloc((nseries ? nseries : 1) * sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < NSLOTS; i++)
        for (series *s = slots[i]; s; s = s->next)
            if (!strcmp(s->name, name)) all[n++] = s;
    qsort(all, n, sizeof *all, cmp_series);
    for (size_t i = 0; i < n; i++) fn(ctx, all[i]->labels, all[i]->value, all[i]->count);
    free(all);
    pthread_mutex_unlock(&mu);
}
