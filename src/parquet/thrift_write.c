/*
 * thrift_write.c - Thrift compact protocol encoder for the parts of
 * parquet.thrift the writer emits: FileMetaData (schema, row groups, column
 * chunks, statistics, key/value metadata, column orders) and PageHeader.
 *
 * Compact protocol in brief: a field is announced by one byte
 * (delta-from-previous-field-id << 4 | type) when the delta is 1..15, else by
 * the type byte and a zigzag varint id; i16/i32/i64 are zigzag varints;
 * binary is a varint length and the bytes; a boolean field carries its value
 * in the type nibble (1 true, 2 false); a list is (size << 4 | element type)
 * when size < 15, else 0xF0 | type and a varint size; a struct ends with 0.
 * Field ids restart at 0 inside each nested struct.
 */
#include "parquet/parquet_internal.h"

enum {
    CT_STOP = 0,
    CT_TRUE = 1,
    CT_FALSE = 2,
    CT_BYTE = 3,
    CT_I16 = 4,
    CT_I32 = 5,
    CT_I64 = 6,
    CT_DOUBLE = 7,
    CT_BINARY = 8,
    CT_LIST = 9,
    CT_SET = 10,
    CT_MAP = 11,
    CT_STRUCT = 12,
};

#define TW_MAX_DEPTH 16

/* Encoder state: the output and the last field id of each open struct. */
typedef struct tw {
    firn_buf *out;
    int depth;
    int16_t last[TW_MAX_DEPTH];
} tw;

static void tw_field(tw *w, int16_t id, uint8_t type) {
    int16_t delta = (int16_t)(id - w->last[w->depth]);
    if (delta > 0 && delta <= 15) {
        firn_buf_put_u8(w->out, (uint8_t)(delta << 4 | type));
    } else {
        firn_buf_put_u8(w->out, type);
        firn_buf_put_varint(w->out, firn_zigzag32(id));
    }
    w->last[w->depth] = id;
}

static void tw_i32(tw *w, int16_t id, int32_t v) {
    tw_field(w, id, CT_I32);
    firn_buf_put_varint(w->out, firn_zigzag32(v));
}

static void tw_i64(tw *w, int16_t id, int64_t v) {
    tw_field(w, id, CT_I64);
    firn_buf_put_varint(w->out, firn_zigzag64(v));
}

static void tw_i8(tw *w, int16_t id, int8_t v) {
    tw_field(w, id, CT_BYTE);
    firn_buf_put_u8(w->out, (uint8_t)v);
}

static void tw_i16(tw *w, int16_t id, int16_t v) {
    tw_field(w, id, CT_I16);
    firn_buf_put_varint(w->out, firn_zigzag32(v));
}

static void tw_bool(tw *w, int16_t id, bool v) { tw_field(w, id, v ? CT_TRUE : CT_FALSE); }

static void tw_put_binary(tw *w, const void *p, size_t n) {
    firn_buf_put_varint(w->out, n);
    firn_buf_append(w->out, p, n);
}

static void tw_binary(tw *w, int16_t id, pq_bytes b) {
    tw_field(w, id, CT_BINARY);
    tw_put_binary(w, b.ptr, b.len);
}

static void tw_list_header(tw *w, uint32_t n, uint8_t elem_type) {
    if (n < 15) {
        firn_buf_put_u8(w->out, (uint8_t)(n << 4 | elem_type));
    } else {
        firn_buf_put_u8(w->out, (uint8_t)(0xF0 | elem_type));
        firn_buf_put_varint(w->out, n);
    }
}

static void tw_list(tw *w, int16_t id, uint32_t n, uint8_t elem_type) {
    tw_field(w, id, CT_LIST);
    tw_list_header(w, n, elem_type);
}

/* Open a nested struct (after its field header or as a list element). */
static void tw_struct_begin(tw *w) {
    w->depth++;
    w->last[w->depth] = 0;
}

static void tw_struct_end(tw *w) {
    firn_buf_put_u8(w->out, CT_STOP);
    w->depth--;
}

static void tw_struct_field(tw *w, int16_t id) {
    tw_field(w, id, CT_STRUCT);
    tw_struct_begin(w);
}

/* A field holding an empty struct, e.g. StringType inside LogicalType. */
static void tw_empty_struct(tw *w, int16_t id) {
    tw_struct_field(w, id);
    tw_struct_end(w);
}

/* ------------------------------------------------------------- structs */

static void enc_statistics(tw *w, const pq_statistics *s) {
    if (s->has_max) tw_binary(w, 1, s->max);
    if (s->has_min) tw_binary(w, 2, s->min);
    if (s->has_null_count) tw_i64(w, 3, s->null_count);
    if (s->has_distinct_count) tw_i64(w, 4, s->distinct_count);
    if (s->has_max_value) tw_binary(w, 5, s->max_value);
    if (s->has_min_value) tw_binary(w, 6, s->min_value);
    if (s->has_is_max_value_exact) tw_bool(w, 7, s->is_max_value_exact);
    if (s->has_is_min_value_exact) tw_bool(w, 8, s->is_min_value_exact);
    if (s->has_nan_count) tw_i64(w, 9, s->nan_count);
}

static void enc_time_unit(tw *w, int16_t id, int unit) {
    tw_struct_field(w, id); /* TimeUnit union */
    tw_empty_struct(w, (int16_t)unit);
    tw_struct_end(w);
}

static void enc_logical_type(tw *w, const pq_logical_type *lt) {
    tw_struct_field(w, 10); /* LogicalType union */
    switch (lt->kind) {
    case PQ_LT_DECIMAL:
        tw_struct_field(w, PQ_LT_DECIMAL);
        tw_i32(w, 1, lt->scale);
        tw_i32(w, 2, lt->precision);
        tw_struct_end(w);
        break;
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        tw_struct_field(w, (int16_t)lt->kind);
        tw_bool(w, 1, lt->is_adjusted_to_utc);
        enc_time_unit(w, 2, lt->unit);
        tw_struct_end(w);
        break;
    case PQ_LT_INTEGER:
        tw_struct_field(w, PQ_LT_INTEGER);
        tw_i8(w, 1, lt->bit_width);
        tw_bool(w, 2, lt->is_signed);
        tw_struct_end(w);
        break;
    default: /* STRING, MAP, LIST, ENUM, DATE, UNKNOWN, JSON, BSON, UUID, FLOAT16: empty */
        tw_empty_struct(w, (int16_t)lt->kind);
        break;
    }
    tw_struct_end(w);
}

static void enc_schema_element(tw *w, const pq_schema_element *e) {
    tw_struct_begin(w);
    if (e->has_type) tw_i32(w, 1, e->type);
    if (e->has_type_length) tw_i32(w, 2, e->type_length);
    if (e->has_repetition) tw_i32(w, 3, e->repetition_type);
    tw_binary(w, 4, e->name);
    if (e->has_num_children) tw_i32(w, 5, e->num_children);
    if (e->has_converted_type) tw_i32(w, 6, e->converted_type);
    if (e->has_scale) tw_i32(w, 7, e->scale);
    if (e->has_precision) tw_i32(w, 8, e->precision);
    if (e->has_field_id) tw_i32(w, 9, e->field_id);
    if (e->logical_type.kind != PQ_LT_NONE) enc_logical_type(w, &e->logical_type);
    tw_struct_end(w);
}

static void enc_key_values(tw *w, int16_t id, const pq_key_value *kv, uint32_t n) {
    tw_list(w, id, n, CT_STRUCT);
    for (uint32_t i = 0; i < n; i++) {
        tw_struct_begin(w);
        tw_binary(w, 1, kv[i].key);
        if (kv[i].has_value) tw_binary(w, 2, kv[i].value);
        tw_struct_end(w);
    }
}

static void enc_column_meta_data(tw *w, const pq_column_meta_data *m) {
    tw_i32(w, 1, m->type);
    tw_list(w, 2, m->nencodings, CT_I32);
    for (uint32_t i = 0; i < m->nencodings; i++)
        firn_buf_put_varint(w->out, firn_zigzag32(m->encodings[i]));
    tw_list(w, 3, m->npath, CT_BINARY);
    for (uint32_t i = 0; i < m->npath; i++) tw_put_binary(w, m->path_in_schema[i].ptr,
                                                          m->path_in_schema[i].len);
    tw_i32(w, 4, m->codec);
    tw_i64(w, 5, m->num_values);
    tw_i64(w, 6, m->total_uncompressed_size);
    tw_i64(w, 7, m->total_compressed_size);
    if (m->nkey_value_metadata)
        enc_key_values(w, 8, m->key_value_metadata, m->nkey_value_metadata);
    tw_i64(w, 9, m->data_page_offset);
    if (m->has_index_page_offset) tw_i64(w, 10, m->index_page_offset);
    if (m->has_dictionary_page_offset) tw_i64(w, 11, m->dictionary_page_offset);
    if (m->has_statistics) {
        tw_struct_field(w, 12);
        enc_statistics(w, &m->statistics);
        tw_struct_end(w);
    }
}

static void enc_column_chunk(tw *w, const pq_column_chunk *c) {
    tw_struct_begin(w);
    if (c->has_file_path) tw_binary(w, 1, c->file_path);
    tw_i64(w, 2, c->file_offset);
    if (c->has_meta_data) {
        tw_struct_field(w, 3);
        enc_column_meta_data(w, &c->meta_data);
        tw_struct_end(w);
    }
    tw_struct_end(w);
}

static void enc_row_group(tw *w, const pq_row_group *rg) {
    tw_struct_begin(w);
    tw_list(w, 1, rg->ncolumns, CT_STRUCT);
    for (uint32_t i = 0; i < rg->ncolumns; i++) enc_column_chunk(w, &rg->columns[i]);
    tw_i64(w, 2, rg->total_byte_size);
    tw_i64(w, 3, rg->num_rows);
    if (rg->has_file_offset) tw_i64(w, 5, rg->file_offset);
    if (rg->has_total_compressed_size) tw_i64(w, 6, rg->total_compressed_size);
    if (rg->has_ordinal) tw_i16(w, 7, rg->ordinal);
    tw_struct_end(w);
}

void pq_encode_file_metadata(firn_buf *out, const pq_file_metadata *md) {
    tw w = {.out = out};
    tw_i32(&w, 1, md->version);
    tw_list(&w, 2, md->nschema, CT_STRUCT);
    for (uint32_t i = 0; i < md->nschema; i++) enc_schema_element(&w, &md->schema[i]);
    tw_i64(&w, 3, md->num_rows);
    tw_list(&w, 4, md->nrow_groups, CT_STRUCT);
    for (uint32_t i = 0; i < md->nrow_groups; i++) enc_row_group(&w, &md->row_groups[i]);
    if (md->nkey_value_metadata)
        enc_key_values(&w, 5, md->key_value_metadata, md->nkey_value_metadata);
    if (md->has_created_by) tw_binary(&w, 6, md->created_by);
    if (md->ncolumn_orders) {
        tw_list(&w, 7, md->ncolumn_orders, CT_STRUCT);
        for (uint32_t i = 0; i < md->ncolumn_orders; i++) {
            tw_struct_begin(&w);     /* ColumnOrder union */
            tw_empty_struct(&w, 1);  /* TYPE_ORDER: TypeDefinedOrder {} */
            tw_struct_end(&w);
        }
    }
    firn_buf_put_u8(out, CT_STOP);
}

void pq_encode_page_header(firn_buf *out, const pq_page_header *ph) {
    tw w = {.out = out};
    tw_i32(&w, 1, ph->type);
    tw_i32(&w, 2, ph->uncompressed_page_size);
    tw_i32(&w, 3, ph->compressed_page_size);
    if (ph->has_crc) tw_i32(&w, 4, ph->crc);
    if (ph->has_data_page_header) {
        const pq_data_page_header *d = &ph->data_page_header;
        tw_struct_field(&w, 5);
        tw_i32(&w, 1, d->num_values);
        tw_i32(&w, 2, d->encoding);
        tw_i32(&w, 3, d->definition_level_encoding);
        tw_i32(&w, 4, d->repetition_level_encoding);
        if (d->has_statistics) {
            tw_struct_field(&w, 5);
            enc_statistics(&w, &d->statistics);
            tw_struct_end(&w);
        }
        tw_struct_end(&w);
    }
    if (ph->has_dictionary_page_header) {
        const pq_dictionary_page_header *d = &ph->dictionary_page_header;
        tw_struct_field(&w, 7);
        tw_i32(&w, 1, d->num_values);
        tw_i32(&w, 2, d->encoding);
        if (d->has_is_sorted) tw_bool(&w, 3, d->is_sorted);
        tw_struct_end(&w);
    }
    if (ph->has_data_page_header_v2) {
        const pq_data_page_header_v2 *d = &ph->data_page_header_v2;
        tw_struct_field(&w, 8);
        tw_i32(&w, 1, d->num_values);
        tw_i32(&w, 2, d->num_nulls);
        tw_i32(&w, 3, d->num_rows);
        tw_i32(&w, 4, d->encoding);
        tw_i32(&w, 5, d->definition_levels_byte_length);
        tw_i32(&w, 6, d->repetition_levels_byte_length);
        tw_bool(&w, 7, d->is_compressed);
        if (d->has_statistics) {
            tw_struct_field(&w, 8);
            enc_statistics(&w, &d->statistics);
            tw_struct_end(&w);
        }
        tw_struct_end(&w);
    }
    firn_buf_put_u8(out, CT_STOP);
}
