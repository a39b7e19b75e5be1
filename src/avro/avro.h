/*
 * avro.h - firn's Avro object container file codec (Avro 1.11 specification):
 * a parsed schema model, a generic value model, a writer and a reader.
 *
 * Iceberg keeps manifests and manifest lists in Avro files whose schemas carry
 * attributes other Avro libraries drop (`field-id`, `element-id`, `key-id`,
 * `value-id`, `adjust-to-utc`). firn therefore writes the schema JSON exactly
 * as given, byte for byte, and gives every schema node's JSON attributes to
 * the caller.
 *
 *   firn_avro_writer *w = firn_avro_writer_create("m.avro", schema_json, "deflate", -1,
 *                                                 meta, &err);
 *   firn_avro_writer_append(w, &record, &err);          // validated against the schema
 *   firn_avro_writer_close(w, &manifest_length, &err);  // exact file size
 *   firn_avro_writer_free(w);
 *
 *   firn_avro_reader *r = firn_avro_reader_open("m.avro", &err);
 *   while ((rc = firn_avro_reader_next(r, &arena, &value, &err)) == 1) { ... }
 *   firn_avro_reader_free(r);
 *
 * Codecs: "null", "deflate" (raw DEFLATE, no zlib header), "zstandard" and
 * "snappy" (with the big-endian CRC32 of the uncompressed block, as Java writes).
 *
 * Types map to firn_avro_type; a value in a union position is the branch's
 * value itself (an optional long is a FIRN_AVRO_LONG or a FIRN_AVRO_NULL value)
 * with `branch` telling which branch it is.
 */
#ifndef FIRN_AVRO_H
#define FIRN_AVRO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/util.h"

/* Nesting deeper than this (schema or value) is rejected. */
#define FIRN_AVRO_MAX_DEPTH 128
#define FIRN_AVRO_SYNC_SIZE 16

/* ------------------------------------------------------------------ schema */

typedef enum firn_avro_type {
    FIRN_AVRO_NULL = 0,
    FIRN_AVRO_BOOLEAN,
    FIRN_AVRO_INT,
    FIRN_AVRO_LONG,
    FIRN_AVRO_FLOAT,
    FIRN_AVRO_DOUBLE,
    FIRN_AVRO_BYTES,
    FIRN_AVRO_STRING,
    FIRN_AVRO_FIXED,
    FIRN_AVRO_ENUM,
    FIRN_AVRO_RECORD,
    FIRN_AVRO_ARRAY,
    FIRN_AVRO_MAP,
    FIRN_AVRO_UNION,
    /* Values only: a record field the reader's projection left out. */
    FIRN_AVRO_ABSENT,
} firn_avro_type;

/* "null", "boolean", ..., "union", "absent". */
const char *firn_avro_type_name(firn_avro_type type);

typedef struct firn_avro_node firn_avro_node;

/* A record field. Everything points into the schema that owns it. */
typedef struct firn_avro_field {
    const char *name;
    const firn_avro_node *type;
    json_t *json;          /* the field's JSON object (borrowed, do not modify) */
    json_t *default_value; /* "default" (json null for `"default": null`); NULL when absent */
    int32_t field_id;      /* "field-id", when has_field_id */
    bool has_field_id;
} firn_avro_field;

/*
 * A schema node. Named types (record, enum, fixed) are defined once and every
 * later reference by name points to the same node, so the tree may be a graph
 * with cycles (a record may refer to itself through a union or an array).
 */
struct firn_avro_node {
    firn_avro_type type;
    const char *name;         /* full name (namespace.name) of a record, enum or fixed */
    const char *logical_type; /* "logicalType", or NULL */
    json_t *json;             /* the defining JSON object; NULL for a bare primitive name */
    /* record */
    const firn_avro_field *fields;
    size_t nfields;
    /* enum */
    const char *const *symbols;
    size_t nsymbols;
    /* fixed */
    size_t size;
    /* array: items, with Iceberg's "element-id" */
    const firn_avro_node *items;
    int32_t element_id;
    bool has_element_id;
    /* map: values, with Iceberg's "key-id" and "value-id" */
    const firn_avro_node *values;
    bool has_key_id, has_value_id;
    int32_t key_id, value_id;
    /* union */
    const firn_avro_node *const *branches;
    size_t nbranches;
    /* Encoded size in bytes when every value of this type has the same size
     * (null 0, boolean 1, float 4, double 8, fixed, records of such), else -1. */
    int64_t encoded_size;
};

typedef struct firn_avro_schema firn_avro_schema;

/*
 * Parse schema JSON (len bytes, not necessarily NUL-terminated). Names are
 * checked as the Avro specification requires, unions may not nest or repeat a
 * type, and "field-id"/"element-id"/"key-id"/"value-id" must be integers.
 * The caller frees the result with firn_avro_schema_free().
 */
firn_avro_schema *firn_avro_schema_parse(const char *json, size_t len, firn_error *err);
void firn_avro_schema_free(firn_avro_schema *schema);
const firn_avro_node *firn_avro_schema_root(const firn_avro_schema *schema);
/* The schema text exactly as given (NUL-terminated; *len excludes the NUL). */
const char *firn_avro_schema_json(const firn_avro_schema *schema, size_t *len);
/* A named type by full name, or NULL. */
const firn_avro_node *firn_avro_schema_find(const firn_avro_schema *schema, const char *fullname);

/* An attribute of a node's or a field's JSON object, or NULL (borrowed). */
json_t *firn_avro_node_attr(const firn_avro_node *node, const char *key);
json_t *firn_avro_field_attr(const firn_avro_field *field, const char *key);
/* A record's field by name or by field-id, or NULL; *index (may be NULL) gets its position. */
const firn_avro_field *firn_avro_node_field(const firn_avro_node *record, const char *name,
                                            size_t *index);
const firn_avro_field *firn_avro_node_field_by_id(const firn_avro_node *record, int32_t field_id,
                                                  size_t *index);
/* For ["null", T] (either order): T; for anything else NULL. */
const firn_avro_node *firn_avro_node_optional(const firn_avro_node *node);

/* ------------------------------------------------------------------ values */

typedef struct firn_avro_value firn_avro_value;
typedef struct firn_avro_map_entry firn_avro_map_entry;

/*
 * A generic value. Readers allocate values from the caller's arena; writers
 * take values built by the caller (usually in an arena too, with the inline
 * constructors below). Record fields are in schema order.
 */
struct firn_avro_value {
    firn_avro_type type;
    /* In a union position: the branch index. The reader always sets it; the
     * writer picks the branch whose type matches `type` and reads `branch`
     * only when several branches have that type (two records, say). */
    uint32_t branch;
    union {
        bool boolean;
        int32_t i32;    /* int */
        int64_t i64;    /* long */
        float f32;      /* float */
        double f64;     /* double */
        int32_t symbol; /* enum: index into the node's symbols */
        struct {
            const uint8_t *data;
            size_t len;
        } bytes; /* bytes, fixed */
        struct {
            const char *ptr; /* the reader NUL-terminates it */
            size_t len;
        } str; /* string (UTF-8) */
        struct {
            firn_avro_value *fields;
            size_t count;
        } record;
        struct {
            firn_avro_value *items;
            size_t count;
        } array;
        struct {
            firn_avro_map_entry *entries;
            size_t count;
        } map;
    } u;
};

struct firn_avro_map_entry {
    const char *key; /* UTF-8; the reader NUL-terminates it */
    size_t key_len;
    firn_avro_value value;
};

static inline firn_avro_value firn_avro_null(void) {
    firn_avro_value v = {.type = FIRN_AVRO_NULL};
    return v;
}
static inline firn_avro_value firn_avro_bool(bool b) {
    firn_avro_value v = {.type = FIRN_AVRO_BOOLEAN, .u.boolean = b};
    return v;
}
static inline firn_avro_value firn_avro_int(int32_t i) {
    firn_avro_value v = {.type = FIRN_AVRO_INT, .u.i32 = i};
    return v;
}
static inline firn_avro_value firn_avro_long(int64_t i) {
    firn_avro_value v = {.type = FIRN_AVRO_LONG, .u.i64 = i};
    return v;
}
static inline firn_avro_value firn_avro_float(float f) {
    firn_avro_value v = {.type = FIRN_AVRO_FLOAT, .u.f32 = f};
    return v;
}
static inline firn_avro_value firn_avro_double(double d) {
    firn_avro_value v = {.type = FIRN_AVRO_DOUBLE, .u.f64 = d};
    return v;
}
static inline firn_avro_value firn_avro_string_n(const char *s, size_t len) {
    firn_avro_value v = {.type = FIRN_AVRO_STRING, .u.str = {s, len}};
    return v;
}
static inline firn_avro_value firn_avro_string(const char *s) {
    return firn_avro_string_n(s, strlen(s));
}
static inline firn_avro_value firn_avro_bytes(const void *p, size_t len) {
    firn_avro_value v = {.type = FIRN_AVRO_BYTES, .u.bytes = {(const uint8_t *)p, len}};
    return v;
}
static inline firn_avro_value firn_avro_fixed(const void *p, size_t len) {
    firn_avro_value v = {.type = FIRN_AVRO_FIXED, .u.bytes = {(const uint8_t *)p, len}};
    return v;
}
static inline firn_avro_value firn_avro_enum(int32_t symbol) {
    firn_avro_value v = {.type = FIRN_AVRO_ENUM, .u.symbol = symbol};
    return v;
}
static inline firn_avro_value firn_avro_record(firn_avro_value *fields, size_t count) {
    firn_avro_value v = {.type = FIRN_AVRO_RECORD, .u.record = {fields, count}};
    return v;
}
static inline firn_avro_value firn_avro_array(firn_avro_value *items, size_t count) {
    firn_avro_value v = {.type = FIRN_AVRO_ARRAY, .u.array = {items, count}};
    return v;
}
static inline firn_avro_value firn_avro_map(firn_avro_map_entry *entries, size_t count) {
    firn_avro_value v = {.type = FIRN_AVRO_MAP, .u.map = {entries, count}};
    return v;
}

/* n zeroed (null) values from the arena. */
firn_avro_value *firn_avro_values_new(firn_arena *arena, size_t n);
/* A record value for a record node, its fields allocated from the arena and null. */
firn_avro_value firn_avro_record_new(firn_arena *arena, const firn_avro_node *record);
/* A record value's field by name (needs the record's node), or NULL. */
const firn_avro_value *firn_avro_value_field(const firn_avro_value *record,
                                             const firn_avro_node *record_node,
                                             const char *name);

typedef enum firn_avro_json_mode {
    /* Plain JSON for people and diff tools: records are objects, a union
     * value is written as the value itself, bytes and fixed as lowercase hex
     * strings, enums as their symbol, maps as objects. */
    FIRN_AVRO_JSON_PLAIN = 0,
    /* The Avro specification's JSON encoding: a non-null union value is
     * {"<branch type name>": value}; bytes and fixed are strings whose code
     * points 0-255 are the bytes. */
    FIRN_AVRO_JSON_AVRO = 1,
} firn_avro_json_mode;

/*
 * Append a value as JSON (one line, no newline) to out. In both modes NaN and
 * infinities are the strings "NaN", "Infinity", "-Infinity", floats and
 * doubles use the shortest text that reads back to the same value, and longs
 * are exact. Fields absent by projection are left out.
 */
int firn_avro_value_to_json(firn_buf *out, const firn_avro_node *schema,
                            const firn_avro_value *value, firn_avro_json_mode mode,
                            firn_error *err);

/* ---------------------------------------------------------- binary encoding */

/* Avro's binary encoding of single values, for callers that encode records
 * themselves (firn_avro_writer_append_encoded). */
static inline void firn_avro_encode_long(firn_buf *out, int64_t v) {
    firn_buf_put_varint(out, firn_zigzag64(v));
}
static inline void firn_avro_encode_int(firn_buf *out, int32_t v) {
    firn_buf_put_varint(out, firn_zigzag32(v));
}
static inline void firn_avro_encode_bytes(firn_buf *out, const void *p, size_t len) {
    firn_avro_encode_long(out, (int64_t)len);
    firn_buf_append(out, p, len);
}
void firn_avro_encode_float(firn_buf *out, float v);
void firn_avro_encode_double(firn_buf *out, double v);

/* Validate a value against a schema node and append its binary encoding. On
 * error out is left as it was and the message names the field path. */
int firn_avro_encode_value(firn_buf *out, const firn_avro_node *schema,
                           const firn_avro_value *value, firn_error *err);
/* Decode one value of the given schema from [data, data + len) into the
 * arena; *consumed gets the bytes used. */
int firn_avro_decode_value(const void *data, size_t len, const firn_avro_node *schema,
                           firn_arena *arena, firn_avro_value *out, size_t *consumed,
                           firn_error *err);

/* ------------------------------------------------------------------ writer */

typedef struct firn_avro_writer firn_avro_writer;

/* Receives the file's bytes in order; returns 0 or a negative error it raised in err. */
typedef int (*firn_avro_write_fn)(void *ctx, const void *data, size_t len, firn_error *err);

/* A file metadata entry; value_len 0 means strlen(value). */
typedef struct firn_avro_kv {
    const char *key;
    const char *value;
    size_t value_len;
} firn_avro_kv;

#define FIRN_AVRO_DEFAULT_BLOCK_SIZE (64 * 1024)

/*
 * A writer sending the file to write_fn(ctx, ...). schema_json is written to
 * "avro.schema" byte for byte. codec: "null" (or NULL), "deflate",
 * "zstandard", "snappy"; level: deflate 1-9, zstandard 1-22, -1 or 0 for the
 * codec's default. meta: user metadata entries ending with a {NULL} entry (or
 * NULL for none); keys must be unique and not "avro.schema"/"avro.codec".
 * Nothing is written before the first block is full or the writer is closed.
 */
firn_avro_writer *firn_avro_writer_new(const char *schema_json, const char *codec, int level,
                                       const firn_avro_kv *meta, firn_avro_write_fn write_fn,
                                       void *ctx, firn_error *err);
/*
 * A writer creating the file at path (O_EXCL: fails when it exists). Close
 * fsyncs and closes it; freeing a writer that was not closed successfully
 * removes the partial file.
 */
firn_avro_writer *firn_avro_writer_create(const char *path, const char *schema_json,
                                          const char *codec, int level,
                                          const firn_avro_kv *meta, firn_error *err);
/* Target uncompressed block size (records are never split); before or between appends. */
int firn_avro_writer_set_block_size(firn_avro_writer *w, size_t bytes, firn_error *err);
/* Use a given sync marker instead of a random one; only before anything was written. */
int firn_avro_writer_set_sync(firn_avro_writer *w, const uint8_t sync[FIRN_AVRO_SYNC_SIZE],
                              firn_error *err);
const firn_avro_schema *firn_avro_writer_schema(const firn_avro_writer *w);
/* Validate and append one value of the schema's root type. On error nothing
 * was appended and the writer stays usable. */
int firn_avro_writer_append(firn_avro_writer *w, const firn_avro_value *value, firn_error *err);
/* Append one record already in Avro binary encoding (not validated). */
int firn_avro_writer_append_encoded(firn_avro_writer *w, const void *data, size_t len,
                                    firn_error *err);
/* End the current block now (if it has records). */
int firn_avro_writer_flush(firn_avro_writer *w, firn_error *err);
/* Write the last block (and the header of an empty file); *bytes_written (may
 * be NULL) gets the exact file size. */
int firn_avro_writer_close(firn_avro_writer *w, uint64_t *bytes_written, firn_error *err);
uint64_t firn_avro_writer_record_count(const firn_avro_writer *w);
void firn_avro_writer_free(firn_avro_writer *w);

/* ------------------------------------------------------------------ reader */

typedef struct firn_avro_reader firn_avro_reader;

/* Limits that keep corrupt or hostile files from taking unbounded memory or time. */
typedef struct firn_avro_limits {
    size_t max_block_size;    /* decompressed bytes of one block; default 64 MiB */
    size_t max_record_memory; /* arena bytes one decoded record may take; default 256 MiB */
    size_t max_block_records; /* records in one block; default 16 Mi */
    int max_depth;            /* value nesting; default and at most FIRN_AVRO_MAX_DEPTH */
} firn_avro_limits;

void firn_avro_limits_default(firn_avro_limits *limits);

/* Open an Avro file held in memory; data must outlive the reader. Parses the
 * header and the writer's schema. */
firn_avro_reader *firn_avro_reader_open_mem(const void *data, size_t len, firn_error *err);
/* Open the file at path (read whole into memory, owned by the reader). */
firn_avro_reader *firn_avro_reader_open(const char *path, firn_error *err);
void firn_avro_reader_set_limits(firn_avro_reader *r, const firn_avro_limits *limits);
/*
 * Read only the record fields whose field-id is listed, plus the fields that
 * lead to them; a listed field comes whole (all its nested fields). Other
 * fields are skipped without decoding and come back as FIRN_AVRO_ABSENT
 * values. n = 0 reads everything again.
 */
int firn_avro_reader_project(firn_avro_reader *r, const int32_t *field_ids, size_t n,
                             firn_error *err);
/* The writer's schema (owned by the reader). */
const firn_avro_schema *firn_avro_reader_schema(const firn_avro_reader *r);
const char *firn_avro_reader_codec(const firn_avro_reader *r);
/* A metadata value by key (NUL-terminated; *len, may be NULL, gets its length), or NULL. */
const char *firn_avro_reader_meta(const firn_avro_reader *r, const char *key, size_t *len);
size_t firn_avro_reader_meta_count(const firn_avro_reader *r);
/* The i-th metadata entry in file order; returns its key, or NULL past the end. */
const char *firn_avro_reader_meta_at(const firn_avro_reader *r, size_t i, const char **value,
                                     size_t *len);
/*
 * Decode the next record into *out, allocating from arena (the caller resets
 * it between batches). Values never point into the file or the reader: strings
 * and bytes are copied (NUL-terminated), so they live as long as the arena.
 * Returns 1 for a record, 0 at the end of the file, or a negative error; after
 * an error every later call fails too.
 */
int firn_avro_reader_next(firn_avro_reader *r, firn_arena *arena, firn_avro_value *out,
                          firn_error *err);
uint64_t firn_avro_reader_record_count(const firn_avro_reader *r); /* records returned so far */
void firn_avro_reader_free(firn_avro_reader *r);

#endif
