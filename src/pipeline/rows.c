/*
 * rows.c - a columnar batch builder: rows in, firn_pq_column_data out.
 */
#include "pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>

static size_t width_of(firn_pq_type t) {
    switch (t) {
    case FIRN_PQ_BOOLEAN: return 1;
    case FIRN_PQ_INT:
    case FIRN_PQ_DATE:
    case FIRN_PQ_FLOAT: return 4;
    case FIRN_PQ_LONG:
    case FIRN_PQ_TIME:
    case FIRN_PQ_TIMESTAMP:
    case FIRN_PQ_TIMESTAMPTZ:
    case FIRN_PQ_TIMESTAMP_NS:
    case FIRN_PQ_TIMESTAMPTZ_NS:
    case FIRN_PQ_DOUBLE: return 8;
    case FIRN_PQ_UUID: return 16;
    default: return 0;
    }
}

int firn_rows_init(firn_rows *r, const firn_ice_schema *schema, firn_error *err) {
    memset(r, 0, sizeof *r);
    const firn_ice_type *st = schema->type;
    r->ncols = st->nfields;
    r->cols = firn_xcalloc(r->ncols ? r->ncols : 1, sizeof *r->cols);
    r->view = firn_xcalloc(r->ncols ? r->ncols : 1, sizeof *r->view);
    for (size_t i = 0; i < r->ncols; i++) {
        int t = firn_ice_type_to_pq(st->fields[i].type);
        if (t < 0 || t == FIRN_PQ_DECIMAL || t == FIRN_PQ_FIXED) {
            firn_rows_release(r);
            return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                              "column %s: the pipeline writes flat primitive columns only",
                              st->fields[i].name);
        }
        r->cols[i].type = (firn_pq_type)t;
        r->cols[i].width = width_of((firn_pq_type)t);
        if (!r->cols[i].width) {
            int64_t zero = 0;
            firn_buf_append(&r->cols[i].offsets, &zero, sizeof zero);
        }
    }
    return 0;
}

void firn_rows_release(firn_rows *r) {
    if (!r || !r->cols) return;
    for (size_t i = 0; i < r->ncols; i++) {
        firn_buf_release(&r->cols[i].values);
        firn_buf_release(&r->cols[i].offsets);
        firn_buf_release(&r->cols[i].data);
        firn_buf_release(&r->cols[i].validity);
    }
    free(r->cols);
    free(r->view);
    memset(r, 0, sizeof *r);
}

void firn_rows_clear(firn_rows *r) {
    for (size_t i = 0; i < r->ncols; i++) {
        firn_rows_col *c = &r->cols[i];
        firn_buf_clear(&c->values);
        firn_buf_clear(&c->data);
        firn_buf_clear(&c->validity);
        firn_buf_clear(&c->offsets);
        if (!c->width) {
            int64_t zero = 0;
            firn_buf_append(&c->offsets, &zero, sizeof zero);
        }
        c->n = 0;
        c->any_null = false;
    }
    r->nrows = 0;
    r->bytes = 0;
}

/* Append one slot (present or null) to column c of the current row. */
static firn_rows_col *slot(firn_rows *r, size_t c, bool present) {
    firn_rows_col *col = &r->cols[c];
    if (col->n > r->nrows) return NULL; /* set twice in one row: keep the first */
    firn_buf_put_u8(&col->validity, present ? 1 : 0);
    if (!present) col->any_null = true;
    col->n++;
    return col;
}

void firn_rows_set_null(firn_rows *r, size_t c) {
    firn_rows_col *col = slot(r, c, false);
    if (!col) return;
    if (col->width) {
        memset(firn_buf_extend(&col->values, col->width), 0, col->width);
    } else {
        int64_t end = (int64_t)col->data.len;
        firn_buf_append(&col->offsets, &end, sizeof end);
    }
}

static void set_fixed(firn_rows *r, size_t c, const void *v, size_t n) {
    firn_rows_col *col = slot(r, c, true);
    if (!col) return;
    uint8_t *p = firn_buf_extend(&col->values, col->width);
    memset(p, 0, col->width);
    memcpy(p, v, n < col->width ? n : col->width);
    r->bytes += col->width;
}

void firn_rows_set_bool(firn_rows *r, size_t c, bool v) {
    uint8_t b = v ? 1 : 0;
    set_fixed(r, c, &b, 1);
}
void firn_rows_set_i32(firn_rows *r, size_t c, int32_t v) { set_fixed(r, c, &v, sizeof v); }
void firn_rows_set_i64(firn_rows *r, size_t c, int64_t v) { set_fixed(r, c, &v, sizeof v); }
void firn_rows_set_f64(firn_rows *r, size_t c, double v) {
    if (r->cols[c].type == FIRN_PQ_FLOAT) {
        float f = (float)v;
        set_fixed(r, c, &f, sizeof f);
    } else {
        set_fixed(r, c, &v, sizeof v);
    }
}

void firn_rows_set_bytes(firn_rows *r, size_t c, const void *p, size_t n) {
    firn_rows_col *col = slot(r, c, true);
    if (!col) return;
    if (n) firn_buf_append(&col->data, p, n);
    int64_t end = (int64_t)col->data.len;
    firn_buf_append(&col->offsets, &end, sizeof end);
    r->bytes += n;
}

void firn_rows_set_str(firn_rows *r, size_t c, const char *s) {
    if (!s) firn_rows_set_null(r, c);
    else firn_rows_set_bytes(r, c, s, strlen(s));
}

void firn_rows_end_row(firn_rows *r) {
    for (size_t i = 0; i < r->ncols; i++)
        if (r->cols[i].n == r->nrows) firn_rows_set_null(r, i);
    r->nrows++;
}

const firn_pq_column_data *firn_rows_columns(firn_rows *r) {
    for (size_t i = 0; i < r->ncols; i++) {
        firn_rows_col *c = &r->cols[i];
        firn_pq_column_data *v = &r->view[i];
        memset(v, 0, sizeof *v);
        v->validity = c->any_null ? c->validity.data : NULL;
        if (c->width) {
            v->values = c->values.data;
        } else {
            v->offsets = (const int64_t *)(void *)c->offsets.data;
            v->data = c->data.data ? c->data.data : (const uint8_t *)"";
        }
    }
    return r->view;
}
