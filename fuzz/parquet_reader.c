/* parquet_reader.c - libFuzzer target: open the input as a Parquet file in
 * memory, read every readable column of every row group, check the layout
 * of what comes back (touching every byte), and ask the statistics
 * questions (row-group skipping, chunk info). Any crash, out-of-bounds read
 * or broken invariant is a bug; errors are fine. Limits are lowered so a
 * hostile input cannot ask for gigabytes. */
#include "parquet/decode_internal.h"

#include <stdlib.h>
#include <string.h>

static size_t value_width(const firn_pq_column_desc *d) {
    switch (d->type) {
    case FIRN_PQ_BOOLEAN: return 1;
    case FIRN_PQ_INT:
    case FIRN_PQ_DATE:
    case FIRN_PQ_FLOAT: return 4;
    case FIRN_PQ_UUID: return 16;
    case FIRN_PQ_FIXED: return (size_t)d->length;
    case FIRN_PQ_DECIMAL:
        return d->precision <= 9 ? 4 : d->precision <= 18 ? 8 : (size_t)firn_pq_decimal_width(d->precision);
    case FIRN_PQ_STRING:
    case FIRN_PQ_BINARY: return 0;
    default: return 8;
    }
}

static volatile uint64_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    firn_error err;
    firn_error_init(&err);
    firn_pq_reader *r = firn_pq_reader_open_mem(data, size, &err);
    if (!r) {
        if (err.kind != FIRN_ERR_CORRUPT && err.kind != FIRN_ERR_UNSUPPORTED) abort();
        firn_error_release(&err);
        return 0;
    }
    pq_read_limits lim = {.max_page_bytes = 8u << 20, .max_column_bytes = 64u << 20};
    pq_reader_set_limits(r, &lim);
    firn_arena a;
    firn_arena_init(&a, 0);
    uint64_t sum = 0;
    size_t nkv;
    const firn_pq_kv *kv = firn_pq_reader_kvs(r, &nkv);
    for (size_t i = 0; i < nkv; i++) sum += strlen(kv[i].key) + (kv[i].value ? strlen(kv[i].value) : 0);
    if (firn_pq_reader_created_by(r)) sum += strlen(firn_pq_reader_created_by(r));
    size_t ncols = firn_pq_reader_num_columns(r);
    for (size_t c = 0; c < ncols; c++) {
        const firn_pq_column_desc *d = firn_pq_reader_column(r, c);
        sum += strlen(d->name) + strlen(d->path);
        if (firn_pq_reader_find_path(r, d->path) < 0) abort();
    }
    for (size_t g = 0; g < firn_pq_reader_num_row_groups(r); g++) {
        size_t n = (size_t)firn_pq_reader_row_group_rows(r, g);
        for (size_t c = 0; c < ncols; c++) {
            const firn_pq_column_desc *d = firn_pq_reader_column(r, c);
            firn_pq_chunk_info ci;
            if (firn_pq_reader_chunk_info(r, g, c, &ci, NULL) == 0) {
                for (size_t e = 0; e < ci.nencodings; e++) sum += (uint64_t)ci.encodings[e];
                if (ci.has_min && ci.min.bytes) for (size_t k = 0; k < ci.min.len; k++) sum += ci.min.bytes[k];
                if (ci.has_max && ci.max.bytes) for (size_t k = 0; k < ci.max.len; k++) sum += ci.max.bytes[k];
            }
            /* statistics questions with a constant of the column's kind */
            firn_pq_value v = {.type = d->type, .i = size ? data[size / 2] : 0, .d = 0.5};
            static const uint8_t bytes[16] = {0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
            if (d->type == FIRN_PQ_STRING || d->type == FIRN_PQ_BINARY || d->type == FIRN_PQ_UUID ||
                d->type == FIRN_PQ_FIXED || (d->type == FIRN_PQ_DECIMAL && d->precision > 18)) {
                v.bytes = bytes;
                v.len = (size_t)(data[0] % 17);
            }
            for (int op = FIRN_PQ_EQ; op <= FIRN_PQ_NOT_NULL; op++)
                sum += firn_pq_reader_row_group_may_match(r, g, c, (firn_pq_op)op, &v);
            if (!d->supported) continue;
            firn_pq_column_data col;
            if (firn_pq_reader_read_column(r, g, c, &a, &col, &err) != 0) {
                if (err.kind != FIRN_ERR_CORRUPT && err.kind != FIRN_ERR_UNSUPPORTED && err.kind != FIRN_ERR_LIMIT)
                    abort();
                continue;
            }
            if (col.validity)
                for (size_t i = 0; i < n; i++) sum += col.validity[i];
            size_t w = value_width(d);
            if (w == 0) {
                if (!col.offsets || col.offsets[0] != 0) abort();
                for (size_t i = 0; i < n; i++) {
                    if (col.offsets[i + 1] < col.offsets[i]) abort();
                    if (col.validity && !col.validity[i] && col.offsets[i + 1] != col.offsets[i]) abort();
                }
                for (int64_t k = 0; k < col.offsets[n]; k++) sum += col.data[k];
            } else {
                const uint8_t *p = col.values;
                for (size_t i = 0; i < n * w; i++) sum += p[i];
            }
        }
        firn_arena_reset(&a);
    }
    sink = sum;
    firn_arena_release(&a);
    firn_pq_reader_free(r);
    firn_error_release(&err);
    return 0;
}
