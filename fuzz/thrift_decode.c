/* thrift_decode.c - libFuzzer target: the Thrift compact decoder on raw
 * bytes, as a FileMetaData and as a PageHeader (at the start and one byte
 * in), touching everything it decodes. */
#include "parquet/parquet_internal.h"

#include <stdlib.h>

static volatile uint64_t sink;

static uint64_t bytes_sum(pq_bytes b) {
    uint64_t s = 0;
    for (uint32_t i = 0; i < b.len; i++) s += b.ptr[i];
    return s;
}

static uint64_t stats_sum(const pq_statistics *s) {
    return bytes_sum(s->min) + bytes_sum(s->max) + bytes_sum(s->min_value) + bytes_sum(s->max_value) +
           (uint64_t)s->null_count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    firn_error err;
    firn_error_init(&err);
    firn_arena a;
    firn_arena_init(&a, 0);
    uint64_t sum = 0;
    pq_file_metadata md;
    if (pq_decode_file_metadata(data, size, &a, &md, &err) == 0) {
        for (uint32_t i = 0; i < md.nschema; i++) sum += bytes_sum(md.schema[i].name) + (uint64_t)md.schema[i].type;
        for (uint32_t g = 0; g < md.nrow_groups; g++) {
            const pq_row_group *rg = &md.row_groups[g];
            for (uint32_t c = 0; c < rg->ncolumns; c++) {
                const pq_column_meta_data *m = &rg->columns[c].meta_data;
                for (uint32_t e = 0; e < m->nencodings; e++) sum += (uint64_t)m->encodings[e];
                for (uint32_t p = 0; p < m->npath; p++) sum += bytes_sum(m->path_in_schema[p]);
                for (uint32_t k = 0; k < m->nkey_value_metadata; k++)
                    sum += bytes_sum(m->key_value_metadata[k].key) + bytes_sum(m->key_value_metadata[k].value);
                sum += stats_sum(&m->statistics) + bytes_sum(rg->columns[c].file_path);
            }
        }
        for (uint32_t k = 0; k < md.nkey_value_metadata; k++)
            sum += bytes_sum(md.key_value_metadata[k].key) + bytes_sum(md.key_value_metadata[k].value);
        sum += bytes_sum(md.created_by);
    } else if (err.kind != FIRN_ERR_CORRUPT) {
        abort();
    }
    for (size_t off = 0; off < 2 && off <= size; off++) {
        pq_page_header ph;
        size_t used = 0;
        if (pq_decode_page_header(data + off, size - off, &ph, &used, &err) == 0) {
            if (used > size - off) abort();
            sum += used + stats_sum(&ph.data_page_header.statistics) + stats_sum(&ph.data_page_header_v2.statistics);
        } else if (err.kind != FIRN_ERR_CORRUPT) {
            abort();
        }
    }
    sink = sum;
    firn_arena_release(&a);
    firn_error_release(&err);
    return 0;
}
