/*
 * manifest_internal.h - what manifest.c and manifest_list.c share: the byte
 * sink a writer sends its file to (FileIO or a caller's function), Avro schema
 * JSON pieces written the way Java's Avro library prints them, and lookups of
 * record fields by Iceberg field id in a writer's schema.
 */
#ifndef FIRN_ICEBERG_MANIFEST_INTERNAL_H
#define FIRN_ICEBERG_MANIFEST_INTERNAL_H

#include "avro/avro.h"
#include "iceberg/iceberg_internal.h"
#include "io/io.h"

/* ------------------------------------------------------------------ sink */

/* Where a manifest or manifest list goes: a FileIO writer (create without
 * overwrite, published at close) or a caller's function. */
typedef struct firn_ice_sink {
    firn_io_writer *io_writer;
    firn_ice_write_fn fn;
    void *ctx;
    char *location; /* malloc'd: canonical for FileIO */
    uint64_t written;
} firn_ice_sink;

int firn_ice_sink_open_io(firn_ice_sink *s, struct firn_io *io, const char *location,
                          firn_error *err);
void firn_ice_sink_open_fn(firn_ice_sink *s, firn_ice_write_fn fn, void *ctx,
                           const char *location);
/* A firn_avro_write_fn; ctx is the sink. */
int firn_ice_sink_write(void *ctx, const void *data, size_t len, firn_error *err);
/* Publish (FileIO) and release; the sink is released in every case. */
int firn_ice_sink_close(firn_ice_sink *s, firn_error *err);
/* Discard what was written (FileIO) and release. NULL-safe, idempotent. */
void firn_ice_sink_abort(firn_ice_sink *s);

/* Avro codec names firn writes; *level -1 for the default. */
int firn_ice_check_codec(const char *codec, firn_error *err);

/* --------------------------------------------------------- schema JSON */

/*
 * One record field as Java's Avro prints it:
 *   {"name":N,"type":T,"doc":D,"default":null,"field-id":ID}
 * optional wraps T as ["null",T] and adds "default":null; doc may be NULL.
 * iceberg_name (may be NULL) is the original name of a sanitized one.
 */
void firn_ice_avro_field_json(firn_buf *b, const char *name, const char *type_json,
                              const char *doc, bool optional, int32_t field_id,
                              const char *iceberg_name);
/* A JSON string literal (escaped as jansson does) appended to b. */
void firn_ice_json_string_append(firn_buf *b, const char *s);

/* ------------------------------------------------------------ reading */

/* T for ["null", T] (either order), else n itself. */
const firn_avro_node *firn_ice_avro_unopt(const firn_avro_node *n);
/* Position of the field with field-id id in record rec (or, for fields without
 * ids, named name); -1 when absent. */
int firn_ice_avro_pos(const firn_avro_node *rec, int32_t id, const char *name);
/* Field i of a record value, or NULL (absent by projection, or no such field). */
static inline const firn_avro_value *firn_ice_avro_at(const firn_avro_value *rec, int pos) {
    if (pos < 0 || rec->type != FIRN_AVRO_RECORD || (size_t)pos >= rec->u.record.count)
        return NULL;
    const firn_avro_value *v = &rec->u.record.fields[pos];
    return v->type == FIRN_AVRO_ABSENT ? NULL : v;
}
static inline bool firn_ice_avro_is_null(const firn_avro_value *v) {
    return !v || v->type == FIRN_AVRO_NULL || v->type == FIRN_AVRO_ABSENT;
}
/* Typed getters: an int or long (in range) value; a string; bytes or fixed. Raise
 * FIRN_ERR_CORRUPT naming what (e.g. "data_file.record_count") on a type mismatch. */
int firn_ice_avro_get_long(const firn_avro_value *v, const char *what, int64_t *out,
                           firn_error *err);
int firn_ice_avro_get_int(const firn_avro_value *v, const char *what, int32_t *out,
                          firn_error *err);
int firn_ice_avro_get_string(const firn_avro_value *v, const char *what, const char **out,
                             firn_error *err);
int firn_ice_avro_get_bytes(const firn_avro_value *v, const char *what, const uint8_t **out,
                            size_t *len, firn_error *err);

/* An integer header value ("2", "-1"); false when missing or malformed. */
bool firn_ice_parse_meta_i64(const char *s, int64_t *out);

#endif
