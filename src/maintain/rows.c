/* rows.c - rows of scan batches buffered in memory and sorted by a sort order,
 * for sorted compaction: batches are copied in (parquet.h's column layout, the
 * table types), a permutation is sorted by the sort fields (transforms applied,
 * direction and null order honoured, ties in arrival order), and the rows are
 * written out in that order in slices. */
#include "maintain/maintain_internal.h"
#include "parquet/parquet.h"

#include <stdlib.h>
#include <string.h>

void firn_mt_rows_init(firn_mt_rows *r, const firn_ice_field *const *fields, size_t n) {
    memset(r, 0, sizeof *r);
    r->ncols = n;
    r->cols = firn_xcalloc(n + 1, sizeof *r->cols);
    for (size_t i = 0; i < n; i++) {
        r->cols[i].type = fields[i]->type;
        r->cols[i].field_id = fields[i]->id;
        r->cols[i].width = firn_ice_type_pq_width(fields[i]->type);
        firn_buf_init(&r->cols[i].values);
        firn_buf_init(&r->cols[i].data);
        firn_buf_init(&r->cols[i].valid);
        firn_buf_init(&r->cols[i].offsets);
        int64_t zero = 0;
        firn_buf_append(&r->cols[i].offsets, &zero, sizeof zero);
    }
}

void firn_mt_rows_release(firn_mt_rows *r) {
    for (size_t i = 0; i < r->ncols; i++) {
        firn_buf_release(&r->cols[i].values);
        firn_buf_release(&r->cols[i].data);
        firn_buf_release(&r->cols[i].valid);
        firn_buf_release(&r->cols[i].offsets);
    }
    free(r->cols);
    memset(r, 0, sizeof *r);
}

void firn_mt_rows_append(firn_mt_rows *r, const firn_pq_column_data *cols, size_t n) {
    for (size_t c = 0; c < r->ncols; c++) {
        firn_mt_col *col = &r->cols[c];
        const firn_pq_column_data *d = &cols[c];
        uint8_t *v = firn_buf_extend(&col->valid, n);
        if (d->validity) memcpy(v, d->validity, n);
        else memset(v, 1, n);
        if (col->width) {
            firn_buf_append(&col->values, d->values, n * col->width);
            continue;
        }
        int64_t base = ((const int64_t *)col->offsets.data)[r->nrows];
        for (size_t i = 0; i < n; i++) {
            int64_t len = d->offsets[i + 1] - d->offsets[i];
            if (len) firn_buf_append(&col->data, d->data + d->offsets[i], (size_t)len);
            base += len;
            firn_buf_append(&col->offsets, &base, sizeof base);
        }
    }
    r->nrows += n;
}

/* Row i of column c as a value (bytes borrowed from the buffer). */
static void cell(const firn_mt_col *col, size_t i, firn_ice_value *v) {
    memset(v, 0, sizeof *v);
    const firn_ice_type *t = col->type;
    v->type = t->id;
    if (!col->valid.data[i]) {
        v->is_null = true;
        return;
    }
    const uint8_t *p = col->values.data + col->width * i;
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: v->u.b = *p != 0; break;
    case FIRN_ICE_INT: case FIRN_ICE_DATE: memcpy(&v->u.i32, p, 4); break;
    case FIRN_ICE_FLOAT: memcpy(&v->u.f32, p, 4); break;
    case FIRN_ICE_DOUBLE: memcpy(&v->u.f64, p, 8); break;
    case FIRN_ICE_DECIMAL:
        v->scale = t->scale;
        if (col->width == 4) {
            int32_t x;
            memcpy(&x, p, 4);
            v->u.dec = x;
        } else if (col->width == 8) {
            int64_t x;
            memcpy(&x, p, 8);
            v->u.dec = x;
        } else {
            firn_ice_int128 x = (p[0] & 0x80) ? -1 : 0;
            for (size_t k = 0; k < col->width; k++)
                x = (firn_ice_int128)((unsigned __int128)x << 8) | p[k];
            v->u.dec = x;
        }
        break;
    case FIRN_ICE_UUID: memcpy(v->u.uuid, p, 16); break;
    case FIRN_ICE_FIXED:
        v->u.bin.ptr = p;
        v->u.bin.len = col->width;
        break;
    case FIRN_ICE_STRING: case FIRN_ICE_BINARY: {
        const int64_t *off = (const int64_t *)col->offsets.data;
        v->u.bin.ptr = col->data.data + off[i];
        v->u.bin.len = (size_t)(off[i + 1] - off[i]);
        break;
    }
    default: memcpy(&v->u.i64, p, 8); break;
    }
}

typedef struct sort_key {
    const firn_mt_col *col;
    const firn_ice_sort_field *f;
} sort_key;

typedef struct sort_ctx {
    const sort_key *keys;
    size_t nkeys;
} sort_ctx;

static sort_ctx g_sort; /* qsort has no context argument in C11 */

static int compare_rows(const void *pa, const void *pb) {
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    for (size_t k = 0; k < g_sort.nkeys; k++) {
        const sort_key *key = &g_sort.keys[k];
        firn_ice_value va, vb, ta, tb;
        cell(key->col, a, &va);
        cell(key->col, b, &vb);
        firn_error e;
        firn_error_init(&e);
        if (firn_ice_transform_apply(&key->f->transform, key->col->type, &va, &ta, &e)) ta = va;
        firn_error_release(&e);
        firn_error_init(&e);
        if (firn_ice_transform_apply(&key->f->transform, key->col->type, &vb, &tb, &e)) tb = vb;
        firn_error_release(&e);
        int c;
        if (ta.is_null || tb.is_null) {
            if (ta.is_null && tb.is_null) continue;
            bool first = key->f->null_order == FIRN_ICE_NULLS_FIRST;
            c = ta.is_null ? (first ? -1 : 1) : (first ? 1 : -1);
            return c;
        }
        c = firn_ice_value_compare(&ta, &tb);
        if (key->f->direction == FIRN_ICE_DESC) c = -c;
        if (c) return c;
    }
    return a < b ? -1 : a > b; /* stable */
}

uint32_t *firn_mt_rows_sort(const firn_mt_rows *r, const firn_ice_sort_order *order) {
    uint32_t *perm = firn_xcalloc(r->nrows + 1, sizeof *perm);
    for (size_t i = 0; i < r->nrows; i++) perm[i] = (uint32_t)i;
    sort_key *keys = firn_xcalloc(order->nfields + 1, sizeof *keys);
    size_t nk = 0;
    for (size_t i = 0; i < order->nfields; i++)
        for (size_t c = 0; c < r->ncols; c++)
            if (r->cols[c].field_id == order->fields[i].source_id &&
                firn_ice_type_is_primitive(r->cols[c].type))
                keys[nk++] = (sort_key){&r->cols[c], &order->fields[i]};
    g_sort = (sort_ctx){keys, nk};
    if (nk && r->nrows > 1) qsort(perm, r->nrows, sizeof *perm, compare_rows);
    g_sort = (sort_ctx){NULL, 0};
    free(keys);
    return perm;
}

int firn_mt_rows_write(const firn_mt_rows *r, const uint32_t *perm, firn_ice_data_writer *w,
                       firn_error *err) {
    const size_t slice = 65536;
    firn_pq_column_data *out = firn_xcalloc(r->ncols + 1, sizeof *out);
    firn_buf *vals = firn_xcalloc(r->ncols + 1, sizeof *vals);
    firn_buf *data = firn_xcalloc(r->ncols + 1, sizeof *data);
    firn_buf *offs = firn_xcalloc(r->ncols + 1, sizeof *offs);
    firn_buf *valid = firn_xcalloc(r->ncols + 1, sizeof *valid);
    int rc = 0;
    for (size_t from = 0; from < r->nrows && rc == 0; from += slice) {
        size_t n = r->nrows - from < slice ? r->nrows - from : slice;
        for (size_t c = 0; c < r->ncols; c++) {
            const firn_mt_col *col = &r->cols[c];
            firn_buf_clear(&vals[c]);
            firn_buf_clear(&data[c]);
            firn_buf_clear(&offs[c]);
            firn_buf_clear(&valid[c]);
            uint8_t *vd = firn_buf_extend(&valid[c], n);
            int64_t len = 0;
            if (!col->width) firn_buf_append(&offs[c], &len, sizeof len);
            const int64_t *off = (const int64_t *)col->offsets.data;
            for (size_t k = 0; k < n; k++) {
                uint32_t i = perm ? perm[from + k] : (uint32_t)(from + k);
                vd[k] = col->valid.data[i];
                if (col->width) {
                    firn_buf_append(&vals[c], col->values.data + col->width * i, col->width);
                } else {
                    int64_t l = off[i + 1] - off[i];
                    if (l) firn_buf_append(&data[c], col->data.data + off[i], (size_t)l);
                    len += l;
                    firn_buf_append(&offs[c], &len, sizeof len);
                }
            }
            out[c].validity = valid[c].data;
            out[c].values = col->width ? vals[c].data : NULL;
            out[c].offsets = col->width ? NULL : (const int64_t *)offs[c].data;
            out[c].data = col->width ? NULL : (data[c].data ? data[c].data : (const uint8_t *)"");
        }
        rc = firn_ice_data_writer_write(w, out, n, err);
    }
    for (size_t c = 0; c < r->ncols; c++) {
        firn_buf_release(&vals[c]);
        firn_buf_release(&data[c]);
        firn_buf_release(&offs[c]);
        firn_buf_release(&valid[c]);
    }
    free(vals);
    free(data);
    free(offs);
    free(valid);
    free(out);
    return rc;
}
