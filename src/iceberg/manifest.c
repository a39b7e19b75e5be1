/*
 * manifest.c - manifests: the Avro files listing data or delete files with
 * their partition tuples, metrics and tracking information (spec:
 * "Manifests", "Sequence Number Inheritance").
 *
 * The writer prints the manifest_entry schema the way Java's V1Metadata /
 * V2Metadata schemas come out of Iceberg's AvroSchemaUtil and Avro's
 * Schema.toString(): field attributes in the order name, type, doc, default,
 * then iceberg-field-name and field-id; record names manifest_entry, r2, r102,
 * k<key>_v<value>; named types (fixed_L, decimal_P_S, uuid_fixed) defined once
 * and referenced by name after. The reader goes by field id, so that files from
 * Java, PyIceberg and others (other field orders, extra fields, v1) read alike.
 */
#include "iceberg/manifest_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* =============================================================== shared */

int firn_ice_sink_open_io(firn_ice_sink *s, firn_io *io, const char *location, firn_error *err) {
    memset(s, 0, sizeof *s);
    if (!io || !location)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest: no FileIO or location given");
    int rc = firn_io_create(io, location, &s->io_writer, err);
    if (rc) return rc;
    s->location = firn_xstrdup(firn_io_writer_location(s->io_writer));
    return 0;
}

void firn_ice_sink_open_fn(firn_ice_sink *s, firn_ice_write_fn fn, void *ctx,
                           const char *location) {
    memset(s, 0, sizeof *s);
    s->fn = fn;
    s->ctx = ctx;
    s->location = firn_xstrdup(location ? location : "");
}

int firn_ice_sink_write(void *ctx, const void *data, size_t len, firn_error *err) {
    firn_ice_sink *s = ctx;
    int rc = s->io_writer ? firn_io_writer_write(s->io_writer, data, len, err)
                          : s->fn(s->ctx, data, len, err);
    if (rc == 0) s->written += len;
    return rc;
}

int firn_ice_sink_close(firn_ice_sink *s, firn_error *err) {
    int rc = 0;
    if (s->io_writer) {
        rc = firn_io_writer_close(s->io_writer, err);
        s->io_writer = NULL;
    }
    free(s->location);
    s->location = NULL;
    return rc;
}

void firn_ice_sink_abort(firn_ice_sink *s) {
    if (!s) return;
    if (s->io_writer) firn_io_writer_abort(s->io_writer);
    s->io_writer = NULL;
    free(s->location);
    s->location = NULL;
}

int firn_ice_check_codec(const char *codec, firn_error *err) {
    static const char *const known[] = {"null", "deflate", "zstandard", "snappy"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (codec && strcmp(codec, known[i]) == 0) return 0;
    return FIRN_RAISE(err, FIRN_ERR_INVALID,
                      "manifest: unknown Avro codec '%s' (use null, deflate, zstandard or snappy)",
                      codec ? codec : "(null)");
}

void firn_ice_json_string_append(firn_buf *b, const char *s) {
    json_t *j = json_string(s);
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    firn_buf_append_str(b, t ? t : "\"\"");
    free(t);
    json_decref(j);
}

void firn_ice_avro_field_json(firn_buf *b, const char *name, const char *type_json,
                              const char *doc, bool optional, int32_t field_id,
                              const char *iceberg_name) {
    firn_buf_append_str(b, "{\"name\":");
    firn_ice_json_string_append(b, name);
    firn_buf_append_str(b, ",\"type\":");
    if (optional) firn_buf_append_str(b, "[\"null\",");
    firn_buf_append_str(b, type_json);
    if (optional) firn_buf_append_str(b, "]");
    if (doc) {
        firn_buf_append_str(b, ",\"doc\":");
        firn_ice_json_string_append(b, doc);
    }
    if (optional) firn_buf_append_str(b, ",\"default\":null");
    if (iceberg_name) {
        firn_buf_append_str(b, ",\"iceberg-field-name\":");
        firn_ice_json_string_append(b, iceberg_name);
    }
    firn_buf_appendf(b, ",\"field-id\":%d}", (int)field_id);
}

const firn_avro_node *firn_ice_avro_unopt(const firn_avro_node *n) {
    const firn_avro_node *t = n ? firn_avro_node_optional(n) : NULL;
    return t ? t : n;
}

int firn_ice_avro_pos(const firn_avro_node *rec, int32_t id, const char *name) {
    if (!rec || rec->type != FIRN_AVRO_RECORD) return -1;
    size_t i;
    if (firn_avro_node_field_by_id(rec, id, &i)) return (int)i;
    const firn_avro_field *f = name ? firn_avro_node_field(rec, name, &i) : NULL;
    if (f && !f->has_field_id) return (int)i;
    return -1;
}

static int wrong_type(const firn_avro_value *v, const char *what, const char *want,
                      firn_error *err) {
    return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: expected %s, got %s", what, want,
                      v ? firn_avro_type_name(v->type) : "nothing");
}

int firn_ice_avro_get_long(const firn_avro_value *v, const char *what, int64_t *out,
                           firn_error *err) {
    if (v && v->type == FIRN_AVRO_LONG) *out = v->u.i64;
    else if (v && v->type == FIRN_AVRO_INT) *out = v->u.i32;
    else return wrong_type(v, what, "a long", err);
    return 0;
}

int firn_ice_avro_get_int(const firn_avro_value *v, const char *what, int32_t *out,
                          firn_error *err) {
    if (v && v->type == FIRN_AVRO_INT) *out = v->u.i32;
    else if (v && v->type == FIRN_AVRO_LONG && v->u.i64 >= INT32_MIN && v->u.i64 <= INT32_MAX)
        *out = (int32_t)v->u.i64;
    else return wrong_type(v, what, "an int", err);
    return 0;
}

int firn_ice_avro_get_string(const firn_avro_value *v, const char *what, const char **out,
                             firn_error *err) {
    if (!v || v->type != FIRN_AVRO_STRING) return wrong_type(v, what, "a string", err);
    *out = v->u.str.ptr ? v->u.str.ptr : "";
    return 0;
}

int firn_ice_avro_get_bytes(const firn_avro_value *v, const char *what, const uint8_t **out,
                            size_t *len, firn_error *err) {
    if (!v || (v->type != FIRN_AVRO_BYTES && v->type != FIRN_AVRO_FIXED))
        return wrong_type(v, what, "bytes", err);
    *out = v->u.bytes.data ? v->u.bytes.data : (const uint8_t *)"";
    *len = v->u.bytes.len;
    return 0;
}

bool firn_ice_parse_meta_i64(const char *s, int64_t *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

/* ======================================================== entry schema */

/* data_file fields in the order of Java's V2Metadata.fileType (v2) and
 * V1Metadata.dataFileSchema (v1: no content/equality_ids/referenced_data_file,
 * block_size_in_bytes after file_size_in_bytes). */
enum {
    DF_CONTENT, DF_PATH, DF_FORMAT, DF_PARTITION, DF_RECORDS, DF_SIZE, DF_BLOCK_SIZE,
    DF_COLUMN_SIZES, DF_VALUE_COUNTS, DF_NULL_COUNTS, DF_NAN_COUNTS, DF_LOWER, DF_UPPER,
    DF_KEY_METADATA, DF_SPLIT_OFFSETS, DF_EQUALITY_IDS, DF_SORT_ORDER, DF_REFERENCED,
    DF_N
};

typedef struct df_field {
    int32_t id;
    const char *name;
    const char *doc;
    int32_t key_id, value_id; /* metrics maps; element id of lists in key_id */
    bool v1, v2;
} df_field;

static const df_field df_fields[DF_N] = {
    [DF_CONTENT] = {134, "content", "Contents of the file: 0=data, 1=position deletes, 2=equality deletes", 0, 0, false, true},
    [DF_PATH] = {100, "file_path", "Location URI with FS scheme", 0, 0, true, true},
    [DF_FORMAT] = {101, "file_format", "File format name: avro, orc, or parquet", 0, 0, true, true},
    [DF_PARTITION] = {102, "partition", "Partition data tuple, schema based on the partition spec", 0, 0, true, true},
    [DF_RECORDS] = {103, "record_count", "Number of records in the file", 0, 0, true, true},
    [DF_SIZE] = {104, "file_size_in_bytes", "Total file size in bytes", 0, 0, true, true},
    [DF_BLOCK_SIZE] = {105, "block_size_in_bytes", NULL, 0, 0, true, false},
    [DF_COLUMN_SIZES] = {108, "column_sizes", "Map of column id to total size on disk", 117, 118, true, true},
    [DF_VALUE_COUNTS] = {109, "value_counts", "Map of column id to total count, including null and NaN", 119, 120, true, true},
    [DF_NULL_COUNTS] = {110, "null_value_counts", "Map of column id to null value count", 121, 122, true, true},
    [DF_NAN_COUNTS] = {137, "nan_value_counts", "Map of column id to number of NaN values in the column", 138, 139, true, true},
    [DF_LOWER] = {125, "lower_bounds", "Map of column id to lower bound", 126, 127, true, true},
    [DF_UPPER] = {128, "upper_bounds", "Map of column id to upper bound", 129, 130, true, true},
    [DF_KEY_METADATA] = {131, "key_metadata", "Encryption key metadata blob", 0, 0, true, true},
    [DF_SPLIT_OFFSETS] = {132, "split_offsets", "Splittable offsets", 133, 0, true, true},
    [DF_EQUALITY_IDS] = {135, "equality_ids", "Equality comparison field IDs", 136, 0, false, true},
    [DF_SORT_ORDER] = {140, "sort_order_id", "Sort order ID", 0, 0, true, true},
    [DF_REFERENCED] = {143, "referenced_data_file", "Fully qualified location (URI with FS scheme) of a data file that all deletes reference", 0, 0, false, true},
};

static bool df_in(int version, int i) { return version == 1 ? df_fields[i].v1 : df_fields[i].v2; }

/* Java's AvroSchemaUtil.sanitize: characters other than letters, digits and
 * '_' become "_x<HEX>" (a leading digit "_<digit>"). Non-ASCII characters
 * are replaced too (Java keeps Unicode letters, which strict Avro readers
 * reject), by their UTF-16 units as Java's char loop would see them. */
static bool avro_name_char(uint32_t c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

static uint32_t next_code_point(const uint8_t *s, size_t len, size_t *i) {
    uint8_t c = s[*i];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (*i + n > len) n = len - *i;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (size_t k = 1; k < n; k++) cp = cp << 6 | (s[*i + k] & 0x3Fu);
    *i += n;
    return cp;
}

static bool sanitize_name(const char *name, firn_buf *out) {
    const uint8_t *s = (const uint8_t *)name;
    size_t len = strlen(name), i = 0;
    bool changed = false;
    while (i < len) {
        bool first = i == 0;
        uint32_t cp = next_code_point(s, len, &i);
        if (avro_name_char(cp, first)) {
            firn_buf_put_u8(out, (uint8_t)cp);
        } else if (first && cp >= '0' && cp <= '9') {
            firn_buf_appendf(out, "_%c", (char)cp);
            changed = true;
        } else if (cp > 0xFFFF) {
            uint32_t v = cp - 0x10000;
            firn_buf_appendf(out, "_x%X_x%X", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
            changed = true;
        } else {
            firn_buf_appendf(out, "_x%X", cp);
            changed = true;
        }
    }
    return changed;
}

/* Bytes of the fixed holding a decimal of this precision (Java's
 * TypeUtil.decimalRequiredBytes): the fewest n with 10^p <= 2^(8n-1) - 1. */
static int decimal_required_bytes(int32_t precision) {
    unsigned __int128 pow10 = 1;
    for (int32_t i = 0; i < precision; i++) pow10 *= 10;
    for (int n = 1; n < 16; n++)
        if (pow10 <= ((unsigned __int128)1 << (8 * n - 1)) - 1) return n;
    return 16;
}

/* Name of the Avro named type an Iceberg primitive maps to, or "" for none. */
static const char *avro_type_name(const firn_ice_type *t, char *buf, size_t n) {
    switch (t->id) {
    case FIRN_ICE_UUID: snprintf(buf, n, "uuid_fixed"); break;
    case FIRN_ICE_FIXED: snprintf(buf, n, "fixed_%d", (int)t->length); break;
    case FIRN_ICE_DECIMAL: snprintf(buf, n, "decimal_%d_%d", (int)t->precision, (int)t->scale); break;
    default: buf[0] = 0;
    }
    return buf;
}

/* The Avro schema of a partition field's result type (TypeToSchema.primitive). */
static int avro_type_json(firn_buf *b, const firn_ice_type *t, bool defined, firn_error *err) {
    char nb[64];
    avro_type_name(t, nb, sizeof nb);
    if (nb[0] && defined) {
        firn_buf_appendf(b, "\"%s\"", nb);
        return 0;
    }
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: firn_buf_append_str(b, "\"boolean\""); return 0;
    case FIRN_ICE_INT: firn_buf_append_str(b, "\"int\""); return 0;
    case FIRN_ICE_LONG: firn_buf_append_str(b, "\"long\""); return 0;
    case FIRN_ICE_FLOAT: firn_buf_append_str(b, "\"float\""); return 0;
    case FIRN_ICE_DOUBLE: firn_buf_append_str(b, "\"double\""); return 0;
    case FIRN_ICE_DATE: firn_buf_append_str(b, "{\"type\":\"int\",\"logicalType\":\"date\"}"); return 0;
    case FIRN_ICE_TIME:
        firn_buf_append_str(b, "{\"type\":\"long\",\"logicalType\":\"time-micros\"}");
        return 0;
    case FIRN_ICE_TIMESTAMP:
    case FIRN_ICE_TIMESTAMPTZ:
        firn_buf_appendf(b, "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\",\"adjust-to-utc\":%s}",
                         t->id == FIRN_ICE_TIMESTAMPTZ ? "true" : "false");
        return 0;
    case FIRN_ICE_TIMESTAMP_NS:
    case FIRN_ICE_TIMESTAMPTZ_NS:
        firn_buf_appendf(b, "{\"type\":\"long\",\"logicalType\":\"timestamp-nanos\",\"adjust-to-utc\":%s}",
                         t->id == FIRN_ICE_TIMESTAMPTZ_NS ? "true" : "false");
        return 0;
    case FIRN_ICE_STRING: firn_buf_append_str(b, "\"string\""); return 0;
    case FIRN_ICE_BINARY: firn_buf_append_str(b, "\"bytes\""); return 0;
    case FIRN_ICE_UUID:
        firn_buf_append_str(b, "{\"type\":\"fixed\",\"name\":\"uuid_fixed\",\"size\":16,\"logicalType\":\"uuid\"}");
        return 0;
    case FIRN_ICE_FIXED:
        firn_buf_appendf(b, "{\"type\":\"fixed\",\"name\":\"%s\",\"size\":%d}", nb, (int)t->length);
        return 0;
    case FIRN_ICE_DECIMAL:
        firn_buf_appendf(b,
                         "{\"type\":\"fixed\",\"name\":\"%s\",\"size\":%d,\"logicalType\":\"decimal\","
                         "\"precision\":%d,\"scale\":%d}",
                         nb, decimal_required_bytes(t->precision), (int)t->precision, (int)t->scale);
        return 0;
    default:
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "manifest: a partition field of type %s",
                          firn_ice_type_to_string(t, nb, sizeof nb));
    }
}

static void stats_map_json(firn_buf *b, const df_field *f, const char *value_type) {
    firn_buf t = {0};
    firn_buf_appendf(&t,
                     "{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"k%d_v%d\","
                     "\"fields\":[{\"name\":\"key\",\"type\":\"int\",\"field-id\":%d},"
                     "{\"name\":\"value\",\"type\":\"%s\",\"field-id\":%d}]},\"logicalType\":\"map\"}",
                     (int)f->key_id, (int)f->value_id, (int)f->key_id, value_type, (int)f->value_id);
    firn_ice_avro_field_json(b, f->name, firn_buf_cstr(&t), f->doc, true, f->id, NULL);
    firn_buf_release(&t);
}

/* The manifest_entry schema of a format version for a partition type (a struct). */
static int entry_schema_json(firn_buf *b, int version, const firn_ice_type *ptype,
                             firn_error *err) {
    firn_buf part = {0}, df = {0}, tmp = {0};
    int rc = 0;
    /* r102 */
    firn_buf_append_str(&part, "{\"type\":\"record\",\"name\":\"r102\",\"fields\":[");
    for (size_t i = 0; i < ptype->nfields; i++) {
        const firn_ice_field *f = &ptype->fields[i];
        char nb[64], pb[64];
        bool defined = false;
        if (avro_type_name(f->type, nb, sizeof nb)[0])
            for (size_t j = 0; j < i && !defined; j++)
                defined = strcmp(avro_type_name(ptype->fields[j].type, pb, sizeof pb), nb) == 0;
        firn_buf_clear(&tmp);
        if ((rc = avro_type_json(&tmp, f->type, defined, err))) {
            firn_ice_error_prefix(err, "partition field '%s'", f->name);
            goto out;
        }
        firn_buf name = {0};
        bool changed = sanitize_name(f->name, &name);
        if (i) firn_buf_put_u8(&part, ',');
        firn_ice_avro_field_json(&part, firn_buf_cstr(&name), firn_buf_cstr(&tmp), NULL, true,
                                 f->id, changed ? f->name : NULL);
        firn_buf_release(&name);
    }
    firn_buf_append_str(&part, "]}");

    /* r2 */
    firn_buf_append_str(&df, "{\"type\":\"record\",\"name\":\"r2\",\"fields\":[");
    bool first = true;
    for (int i = 0; i < DF_N; i++) {
        if (!df_in(version, i)) continue;
        const df_field *f = &df_fields[i];
        if (!first) firn_buf_put_u8(&df, ',');
        first = false;
        switch (i) {
        case DF_CONTENT:
        case DF_SORT_ORDER:
            firn_ice_avro_field_json(&df, f->name, "\"int\"", f->doc, i == DF_SORT_ORDER, f->id, NULL);
            break;
        case DF_PATH:
        case DF_FORMAT:
            firn_ice_avro_field_json(&df, f->name, "\"string\"", f->doc, false, f->id, NULL);
            break;
        case DF_REFERENCED:
            firn_ice_avro_field_json(&df, f->name, "\"string\"", f->doc, true, f->id, NULL);
            break;
        case DF_PARTITION: /* v1 writes the partition field without its doc */
            firn_ice_avro_field_json(&df, f->name, firn_buf_cstr(&part), version == 1 ? NULL : f->doc,
                                     false, f->id, NULL);
            break;
        case DF_RECORDS:
        case DF_SIZE:
        case DF_BLOCK_SIZE:
            firn_ice_avro_field_json(&df, f->name, "\"long\"", f->doc, false, f->id, NULL);
            break;
        case DF_COLUMN_SIZES:
        case DF_VALUE_COUNTS:
        case DF_NULL_COUNTS:
        case DF_NAN_COUNTS: stats_map_json(&df, f, "long"); break;
        case DF_LOWER:
        case DF_UPPER: stats_map_json(&df, f, "bytes"); break;
        case DF_KEY_METADATA:
            firn_ice_avro_field_json(&df, f->name, "\"bytes\"", f->doc, true, f->id, NULL);
            break;
        case DF_SPLIT_OFFSETS:
        case DF_EQUALITY_IDS:
            firn_buf_clear(&tmp);
            firn_buf_appendf(&tmp, "{\"type\":\"array\",\"items\":\"%s\",\"element-id\":%d}",
                             i == DF_SPLIT_OFFSETS ? "long" : "int", (int)f->key_id);
            firn_ice_avro_field_json(&df, f->name, firn_buf_cstr(&tmp), f->doc, true, f->id, NULL);
            break;
        }
    }
    firn_buf_append_str(&df, "]}");

    /* manifest_entry */
    firn_buf_append_str(b, "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":[");
    firn_ice_avro_field_json(b, "status", "\"int\"", NULL, false, 0, NULL);
    firn_buf_put_u8(b, ',');
    firn_ice_avro_field_json(b, "snapshot_id", "\"long\"", NULL, true, 1, NULL);
    firn_buf_put_u8(b, ',');
    if (version >= 2) {
        firn_ice_avro_field_json(b, "sequence_number", "\"long\"", NULL, true, 3, NULL);
        firn_buf_put_u8(b, ',');
        firn_ice_avro_field_json(b, "file_sequence_number", "\"long\"", NULL, true, 4, NULL);
        firn_buf_put_u8(b, ',');
    }
    firn_ice_avro_field_json(b, "data_file", firn_buf_cstr(&df), NULL, false, 2, NULL);
    firn_buf_append_str(b, "]}");
out:
    firn_buf_release(&part);
    firn_buf_release(&df);
    firn_buf_release(&tmp);
    return rc;
}

/* ============================================================== writer */

typedef struct field_stats {
    bool contains_null, contains_nan, has_bounds;
    firn_ice_value min, max;
    firn_buf min_buf, max_buf; /* bytes of string/binary/fixed bounds */
} field_stats;

struct firn_ice_manifest_writer {
    firn_ice_sink sink;
    firn_avro_writer *avro; /* created with the first entry (or at close) */
    firn_arena arena;       /* schema, spec, partition type */
    firn_arena entry_arena; /* one entry's Avro values */
    int version;
    int content; /* FIRN_ICE_CONTENT_DATA or FIRN_ICE_MANIFEST_DELETES */
    int64_t snapshot_id;
    const firn_ice_schema *schema;
    const firn_ice_partition_spec *spec;
    const firn_ice_type *ptype;
    char *entry_schema;      /* Avro schema JSON */
    char *table_schema_json; /* header "schema" */
    char *spec_json;         /* header "partition-spec" */
    char codec[16];
    int level;
    int64_t added_files, existing_files, deleted_files;
    int64_t added_rows, existing_rows, deleted_rows;
    bool has_min_seq;
    int64_t min_seq;
    field_stats *stats;
    bool closed;
};

static firn_ice_manifest_writer *writer_new(int format_version, const firn_ice_schema *schema,
                                            const firn_ice_partition_spec *spec,
                                            firn_ice_content content, int64_t snapshot_id,
                                            firn_error *err) {
    if (format_version != 1 && format_version != 2) {
        FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                   "manifest writer: format version %d (firn writes versions 1 and 2)",
                   format_version);
        return NULL;
    }
    if (!schema || !spec) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest writer: a table schema and a partition spec are needed");
        return NULL;
    }
    if (content != FIRN_ICE_CONTENT_DATA && content != FIRN_ICE_CONTENT_POSITION_DELETES &&
        content != FIRN_ICE_CONTENT_EQUALITY_DELETES) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest writer: unknown content %d", (int)content);
        return NULL;
    }
    if (content != FIRN_ICE_CONTENT_DATA && format_version < 2) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest writer: delete manifests need format version 2");
        return NULL;
    }
    firn_ice_manifest_writer *w = firn_xcalloc(1, sizeof *w);
    firn_arena_init(&w->arena, 0);
    firn_arena_init(&w->entry_arena, 0);
    w->version = format_version;
    w->content = content == FIRN_ICE_CONTENT_DATA ? FIRN_ICE_CONTENT_DATA : FIRN_ICE_MANIFEST_DELETES;
    w->snapshot_id = snapshot_id;
    snprintf(w->codec, sizeof w->codec, "deflate");
    w->level = -1;
    w->schema = firn_ice_schema_copy(&w->arena, schema, err);
    if (!w->schema) goto fail;
    w->spec = firn_ice_partition_spec_copy(&w->arena, spec);
    w->ptype = firn_ice_partition_type(&w->arena, w->spec, w->schema, err);
    if (!w->ptype) {
        firn_ice_error_prefix(err, "manifest writer: partition spec %d", (int)spec->spec_id);
        goto fail;
    }
    firn_buf b = {0};
    if (entry_schema_json(&b, format_version, w->ptype, err)) {
        firn_buf_release(&b);
        goto fail;
    }
    firn_buf_cstr(&b);
    w->entry_schema = (char *)firn_buf_steal(&b, NULL);
    w->table_schema_json = firn_ice_schema_to_string(w->schema);
    json_t *sj = firn_ice_partition_spec_fields_to_json(w->spec);
    w->spec_json = json_dumps(sj, JSON_COMPACT);
    json_decref(sj);
    if (!w->table_schema_json || !w->spec_json) {
        FIRN_RAISE(err, FIRN_ERR_INTERNAL, "manifest writer: could not print the schema or spec JSON");
        goto fail;
    }
    w->stats = firn_xcalloc(w->ptype->nfields ? w->ptype->nfields : 1, sizeof *w->stats);
    return w;
fail:
    firn_ice_manifest_writer_free(w);
    return NULL;
}

firn_ice_manifest_writer *firn_ice_manifest_writer_new(firn_io *io, const char *location,
                                                       int format_version,
                                                       const firn_ice_schema *schema,
                                                       const firn_ice_partition_spec *spec,
                                                       firn_ice_content content,
                                                       int64_t snapshot_id, firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_ice_manifest_writer *w = writer_new(format_version, schema, spec, content, snapshot_id, err);
    if (!w) return NULL;
    if (firn_ice_sink_open_io(&w->sink, io, location, err)) {
        firn_ice_manifest_writer_free(w);
        return NULL;
    }
    return w;
}

firn_ice_manifest_writer *firn_ice_manifest_writer_new_fn(firn_ice_write_fn write_fn, void *ctx,
                                                          const char *location,
                                                          int format_version,
                                                          const firn_ice_schema *schema,
                                                          const firn_ice_partition_spec *spec,
                                                          firn_ice_content content,
                                                          int64_t snapshot_id, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (!write_fn) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest writer: no write function");
        return NULL;
    }
    firn_ice_manifest_writer *w = writer_new(format_version, schema, spec, content, snapshot_id, err);
    if (!w) return NULL;
    firn_ice_sink_open_fn(&w->sink, write_fn, ctx, location);
    return w;
}

int firn_ice_manifest_writer_set_codec(firn_ice_manifest_writer *w, const char *codec, int level,
                                       firn_error *err) {
    ICE_ERR_GUARD(err);
    if (w->avro || w->closed)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest writer: the codec is set before the first entry");
    if (firn_ice_check_codec(codec, err)) return -FIRN_ERR_INVALID;
    snprintf(w->codec, sizeof w->codec, "%s", codec);
    w->level = level;
    return 0;
}

static int start_avro(firn_ice_manifest_writer *w, firn_error *err) {
    if (w->avro) return 0;
    char spec_id[16], schema_id[16], version[4];
    snprintf(spec_id, sizeof spec_id, "%d", (int)w->spec->spec_id);
    snprintf(schema_id, sizeof schema_id, "%d", (int)w->schema->schema_id);
    snprintf(version, sizeof version, "%d", w->version);
    /* Java's keys and order (ManifestWriter.V2Writer), plus schema-id as the spec asks */
    firn_avro_kv meta[8];
    size_t n = 0;
    meta[n++] = (firn_avro_kv){"schema", w->table_schema_json, 0};
    meta[n++] = (firn_avro_kv){"schema-id", schema_id, 0};
    meta[n++] = (firn_avro_kv){"partition-spec", w->spec_json, 0};
    meta[n++] = (firn_avro_kv){"partition-spec-id", spec_id, 0};
    meta[n++] = (firn_avro_kv){"format-version", version, 0};
    if (w->version >= 2)
        meta[n++] = (firn_avro_kv){"content", w->content == FIRN_ICE_CONTENT_DATA ? "data" : "deletes", 0};
    meta[n] = (firn_avro_kv){NULL, NULL, 0};
    w->avro = firn_avro_writer_new(w->entry_schema, w->codec, w->level, meta, firn_ice_sink_write,
                                   &w->sink, err);
    if (!w->avro) return FIRN_WRAP(err, FIRN_ERR_INTERNAL, "manifest writer: the Avro writer refused the manifest schema");
    return 0;
}

/* ------------------------------------------------------- entry values */

static bool is_bytes_type(firn_ice_type_id t) {
    return t == FIRN_ICE_STRING || t == FIRN_ICE_BINARY || t == FIRN_ICE_FIXED;
}

static bool decimal_fits(firn_ice_int128 v, int32_t precision) {
    unsigned __int128 mag = v < 0 ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
    unsigned __int128 pow10 = 1;
    for (int32_t i = 0; i < precision && i < 39; i++) pow10 *= 10;
    return precision >= 39 || mag < pow10;
}

/* The Avro value of a partition value of type t (checked). */
static int partition_avro_value(firn_arena *a, const firn_ice_field *f, const firn_ice_value *v,
                                firn_avro_value *out, firn_error *err) {
    const firn_ice_type *t = f->type;
    char tb[48];
    if (v->is_null) {
        *out = firn_avro_null();
        return 0;
    }
    if (v->type != t->id)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "partition field '%s' is a %s, the value given is not",
                          f->name, firn_ice_type_to_string(t, tb, sizeof tb));
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: *out = firn_avro_bool(v->u.b); return 0;
    case FIRN_ICE_INT:
    case FIRN_ICE_DATE: *out = firn_avro_int(v->u.i32); return 0;
    case FIRN_ICE_LONG:
    case FIRN_ICE_TIME:
    case FIRN_ICE_TIMESTAMP:
    case FIRN_ICE_TIMESTAMPTZ:
    case FIRN_ICE_TIMESTAMP_NS:
    case FIRN_ICE_TIMESTAMPTZ_NS: *out = firn_avro_long(v->u.i64); return 0;
    case FIRN_ICE_FLOAT: *out = firn_avro_float(v->u.f32); return 0;
    case FIRN_ICE_DOUBLE: *out = firn_avro_double(v->u.f64); return 0;
    case FIRN_ICE_STRING:
        *out = firn_avro_string_n((const char *)(v->u.bin.len ? v->u.bin.ptr : (const uint8_t *)""),
                                  v->u.bin.len);
        return 0;
    case FIRN_ICE_BINARY: *out = firn_avro_bytes(v->u.bin.ptr, v->u.bin.len); return 0;
    case FIRN_ICE_FIXED:
        if (v->u.bin.len != (size_t)t->length)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "partition field '%s': a %s value of %zu bytes",
                              f->name, firn_ice_type_to_string(t, tb, sizeof tb), v->u.bin.len);
        *out = firn_avro_fixed(v->u.bin.ptr, v->u.bin.len);
        return 0;
    case FIRN_ICE_UUID: *out = firn_avro_fixed(firn_arena_memdup(a, v->u.uuid, 16), 16); return 0;
    case FIRN_ICE_DECIMAL: {
        if (v->scale != t->scale || !decimal_fits(v->u.dec, t->precision))
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "partition field '%s': the decimal value does not fit %s", f->name,
                              firn_ice_type_to_string(t, tb, sizeof tb));
        int n = decimal_required_bytes(t->precision);
        uint8_t *d = firn_arena_alloc(a, (size_t)n);
        for (int i = 0; i < n; i++) {
            int shift = 8 * (n - 1 - i);
            d[i] = shift >= 128 ? (uint8_t)(v->u.dec < 0 ? 0xFF : 0) : (uint8_t)(v->u.dec >> shift);
        }
        *out = firn_avro_fixed(d, (size_t)n);
        return 0;
    }
    default:
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "partition field '%s' of type %s", f->name,
                          firn_ice_type_to_string(t, tb, sizeof tb));
    }
}

static firn_avro_value metrics_value(firn_arena *a, const firn_ice_metric *m, size_t n) {
    if (!n) return firn_avro_null();
    firn_avro_value *items = firn_avro_values_new(a, n);
    for (size_t i = 0; i < n; i++) {
        firn_avro_value *kv = firn_avro_values_new(a, 2);
        kv[0] = firn_avro_int(m[i].field_id);
        kv[1] = firn_avro_long(m[i].value);
        items[i] = firn_avro_record(kv, 2);
    }
    return firn_avro_array(items, n);
}

static firn_avro_value bounds_value(firn_arena *a, const firn_ice_bound *m, size_t n) {
    if (!n) return firn_avro_null();
    firn_avro_value *items = firn_avro_values_new(a, n);
    for (size_t i = 0; i < n; i++) {
        firn_avro_value *kv = firn_avro_values_new(a, 2);
        kv[0] = firn_avro_int(m[i].field_id);
        kv[1] = firn_avro_bytes(m[i].bytes ? m[i].bytes : (const uint8_t *)"", m[i].len);
        items[i] = firn_avro_record(kv, 2);
    }
    return firn_avro_array(items, n);
}

static firn_avro_value opt_long(bool has, int64_t v) {
    return has ? firn_avro_long(v) : firn_avro_null();
}

static const char *status_name(int s) {
    return s == FIRN_ICE_ADDED ? "ADDED" : s == FIRN_ICE_EXISTING ? "EXISTING" : "DELETED";
}

/* Check an entry against the manifest and the spec. */
static int check_entry(const firn_ice_manifest_writer *w, const firn_ice_manifest_entry *e,
                       firn_error *err) {
    const firn_ice_data_file *df = &e->data_file;
    if (e->status != FIRN_ICE_ADDED && e->status != FIRN_ICE_EXISTING && e->status != FIRN_ICE_DELETED)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest entry: unknown status %d", (int)e->status);
    if (!df->file_path || !*df->file_path)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest entry: the data file has no path");
    const char *path = df->file_path;
    if (!df->file_format || !*df->file_format)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest entry %s: no file format", path);
    if (df->content != FIRN_ICE_CONTENT_DATA && df->content != FIRN_ICE_CONTENT_POSITION_DELETES &&
        df->content != FIRN_ICE_CONTENT_EQUALITY_DELETES)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest entry %s: unknown content %d", path,
                          (int)df->content);
    if ((df->content == FIRN_ICE_CONTENT_DATA) != (w->content == FIRN_ICE_CONTENT_DATA))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest entry %s: a %s file in a %s manifest",
                          path, df->content == FIRN_ICE_CONTENT_DATA ? "data" : "delete",
                          w->content == FIRN_ICE_CONTENT_DATA ? "data" : "delete");
    if (df->content == FIRN_ICE_CONTENT_EQUALITY_DELETES && df->nequality_ids == 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "manifest entry %s: an equality delete file needs equality_ids", path);
    if (df->record_count < 0 || df->file_size_in_bytes < 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "manifest entry %s: negative record count or file size", path);
    if (df->npartition != w->ptype->nfields || (df->npartition && !df->partition))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "manifest entry %s: %zu partition values for spec %d, which has %zu fields",
                          path, df->npartition, (int)w->spec->spec_id, w->ptype->nfields);
    if ((df->ncolumn_sizes && !df->column_sizes) || (df->nvalue_counts && !df->value_counts) ||
        (df->nnull_value_counts && !df->null_value_counts) ||
        (df->nnan_value_counts && !df->nan_value_counts) || (df->nlower_bounds && !df->lower_bounds) ||
        (df->nupper_bounds && !df->upper_bounds) || (df->nsplit_offsets && !df->split_offsets) ||
        (df->nequality_ids && !df->equality_ids))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest entry %s: a metrics count without its array",
                          path);
    if (w->version >= 2 && e->status != FIRN_ICE_ADDED && !e->has_sequence_number)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "manifest entry %s: an %s entry needs its data sequence number (only "
                          "ADDED entries inherit one)",
                          path, status_name(e->status));
    if (e->status == FIRN_ICE_EXISTING && !e->has_snapshot_id)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "manifest entry %s: an EXISTING entry needs the id of the snapshot that "
                          "added the file",
                          path);
    if ((e->has_sequence_number && e->sequence_number < 0) ||
        (e->has_file_sequence_number && e->file_sequence_number < 0))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest entry %s: a negative sequence number",
                          path);
    return 0;
}

static void update_stats(field_stats *s, const firn_ice_value *v) {
    if (v->is_null) {
        s->contains_null = true;
        return;
    }
    if ((v->type == FIRN_ICE_FLOAT && isnan(v->u.f32)) || (v->type == FIRN_ICE_DOUBLE && isnan(v->u.f64))) {
        s->contains_nan = true;
        return;
    }
    bool lower = !s->has_bounds || firn_ice_value_compare(v, &s->min) < 0;
    bool upper = !s->has_bounds || firn_ice_value_compare(v, &s->max) > 0;
    if (lower) {
        s->min = *v;
        if (is_bytes_type(v->type)) {
            firn_buf_clear(&s->min_buf);
            firn_buf_append(&s->min_buf, v->u.bin.ptr, v->u.bin.len);
            s->min.u.bin.ptr = s->min_buf.data ? s->min_buf.data : (const uint8_t *)"";
        }
    }
    if (upper) {
        s->max = *v;
        if (is_bytes_type(v->type)) {
            firn_buf_clear(&s->max_buf);
            firn_buf_append(&s->max_buf, v->u.bin.ptr, v->u.bin.len);
            s->max.u.bin.ptr = s->max_buf.data ? s->max_buf.data : (const uint8_t *)"";
        }
    }
    s->has_bounds = true;
}

int firn_ice_manifest_writer_add(firn_ice_manifest_writer *w, const firn_ice_manifest_entry *e,
                                 firn_error *err) {
    ICE_ERR_GUARD(err);
    if (w->closed) return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest writer: already closed");
    int rc = check_entry(w, e, err);
    if (rc) return rc;
    const firn_ice_data_file *df = &e->data_file;
    firn_arena *a = &w->entry_arena;
    firn_arena_reset(a);

    /* partition tuple */
    size_t np = w->ptype->nfields;
    firn_avro_value *pv = firn_avro_values_new(a, np ? np : 1);
    for (size_t i = 0; i < np; i++)
        if ((rc = partition_avro_value(a, &w->ptype->fields[i], &df->partition[i], &pv[i], err)))
            return firn_ice_error_prefix(err, "manifest entry %s", df->file_path);

    firn_avro_value *dv = firn_avro_values_new(a, DF_N);
    size_t nd = 0;
    for (int i = 0; i < DF_N; i++) {
        if (!df_in(w->version, i)) continue;
        firn_avro_value *v = &dv[nd++];
        switch (i) {
        case DF_CONTENT: *v = firn_avro_int((int32_t)df->content); break;
        case DF_PATH: *v = firn_avro_string(df->file_path); break;
        case DF_FORMAT: *v = firn_avro_string(df->file_format); break;
        case DF_PARTITION: *v = firn_avro_record(pv, np); break;
        case DF_RECORDS: *v = firn_avro_long(df->record_count); break;
        case DF_SIZE: *v = firn_avro_long(df->file_size_in_bytes); break;
        case DF_BLOCK_SIZE: *v = firn_avro_long(FIRN_ICE_V1_BLOCK_SIZE); break;
        case DF_COLUMN_SIZES: *v = metrics_value(a, df->column_sizes, df->ncolumn_sizes); break;
        case DF_VALUE_COUNTS: *v = metrics_value(a, df->value_counts, df->nvalue_counts); break;
        case DF_NULL_COUNTS: *v = metrics_value(a, df->null_value_counts, df->nnull_value_counts); break;
        case DF_NAN_COUNTS: *v = metrics_value(a, df->nan_value_counts, df->nnan_value_counts); break;
        case DF_LOWER: *v = bounds_value(a, df->lower_bounds, df->nlower_bounds); break;
        case DF_UPPER: *v = bounds_value(a, df->upper_bounds, df->nupper_bounds); break;
        case DF_KEY_METADATA:
            *v = df->key_metadata ? firn_avro_bytes(df->key_metadata, df->key_metadata_len)
                                  : firn_avro_null();
            break;
        case DF_SPLIT_OFFSETS:
            if (df->nsplit_offsets) {
                firn_avro_value *items = firn_avro_values_new(a, df->nsplit_offsets);
                for (size_t k = 0; k < df->nsplit_offsets; k++)
                    items[k] = firn_avro_long(df->split_offsets[k]);
                *v = firn_avro_array(items, df->nsplit_offsets);
            } else {
                *v = firn_avro_null();
            }
            break;
        case DF_EQUALITY_IDS:
            if (df->nequality_ids) {
                firn_avro_value *items = firn_avro_values_new(a, df->nequality_ids);
                for (size_t k = 0; k < df->nequality_ids; k++)
                    items[k] = firn_avro_int(df->equality_ids[k]);
                *v = firn_avro_array(items, df->nequality_ids);
            } else {
                *v = firn_avro_null();
            }
            break;
        case DF_SORT_ORDER:
            *v = df->has_sort_order_id ? firn_avro_int(df->sort_order_id) : firn_avro_null();
            break;
        case DF_REFERENCED:
            *v = df->referenced_data_file ? firn_avro_string(df->referenced_data_file)
                                          : firn_avro_null();
            break;
        }
    }

    /* tracking fields */
    bool has_snap = e->has_snapshot_id;
    int64_t snap = e->snapshot_id;
    if (!has_snap && (w->version == 1 || e->status == FIRN_ICE_DELETED)) {
        has_snap = true;
        snap = w->snapshot_id;
    }
    firn_avro_value ev[5];
    size_t ne = 0;
    ev[ne++] = firn_avro_int((int32_t)e->status);
    ev[ne++] = opt_long(has_snap, snap);
    if (w->version >= 2) {
        ev[ne++] = opt_long(e->has_sequence_number, e->sequence_number);
        ev[ne++] = opt_long(e->has_file_sequence_number, e->file_sequence_number);
    }
    ev[ne++] = firn_avro_record(dv, nd);
    firn_avro_value entry = firn_avro_record(ev, ne);

    if ((rc = start_avro(w, err))) return rc;
    if ((rc = firn_avro_writer_append(w->avro, &entry, err)))
        return firn_ice_error_prefix(err, "manifest entry %s", df->file_path);

    switch (e->status) {
    case FIRN_ICE_ADDED: w->added_files++; w->added_rows += df->record_count; break;
    case FIRN_ICE_EXISTING: w->existing_files++; w->existing_rows += df->record_count; break;
    default: w->deleted_files++; w->deleted_rows += df->record_count; break;
    }
    for (size_t i = 0; i < np; i++) update_stats(&w->stats[i], &df->partition[i]);
    if (e->status != FIRN_ICE_DELETED && e->has_sequence_number &&
        (!w->has_min_seq || e->sequence_number < w->min_seq)) {
        w->has_min_seq = true;
        w->min_seq = e->sequence_number;
    }
    return 0;
}

static const uint8_t *bound_bytes(firn_arena *a, const firn_ice_value *v, size_t *len) {
    firn_buf b = {0};
    if (firn_ice_value_to_bytes(v, &b, NULL)) {
        firn_buf_release(&b);
        *len = 0;
        return NULL;
    }
    *len = b.len;
    const uint8_t *p = firn_arena_memdup(a, b.data ? b.data : (const uint8_t *)"", b.len ? b.len : 1);
    firn_buf_release(&b);
    return p;
}

int firn_ice_manifest_writer_close(firn_ice_manifest_writer *w, firn_arena *a,
                                   firn_ice_manifest_file *out, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (w->closed) return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest writer: already closed");
    if (w->added_files > INT32_MAX || w->existing_files > INT32_MAX || w->deleted_files > INT32_MAX)
        return FIRN_RAISE(err, FIRN_ERR_LIMIT, "manifest writer: more than 2^31-1 entries of one status");
    int rc = start_avro(w, err);
    if (rc) return rc;
    uint64_t length = 0;
    if ((rc = firn_avro_writer_close(w->avro, &length, err))) return rc;
    char *location = firn_arena_strdup(a, w->sink.location);
    if (w->sink.written != length)
        return FIRN_RAISE(err, FIRN_ERR_INTERNAL, "manifest writer: %llu bytes sent, the Avro writer counted %llu",
                          (unsigned long long)w->sink.written, (unsigned long long)length);
    if ((rc = firn_ice_sink_close(&w->sink, err))) return rc;
    w->closed = true;

    memset(out, 0, sizeof *out);
    out->manifest_path = location;
    out->manifest_length = (int64_t)length;
    out->partition_spec_id = w->spec->spec_id;
    out->content = (firn_ice_content)w->content;
    out->sequence_number = FIRN_ICE_UNASSIGNED_SEQ;
    out->min_sequence_number = w->has_min_seq ? w->min_seq : FIRN_ICE_UNASSIGNED_SEQ;
    out->added_snapshot_id = w->snapshot_id;
    out->added_files_count = (int32_t)w->added_files;
    out->existing_files_count = (int32_t)w->existing_files;
    out->deleted_files_count = (int32_t)w->deleted_files;
    out->added_rows_count = w->added_rows;
    out->existing_rows_count = w->existing_rows;
    out->deleted_rows_count = w->deleted_rows;
    size_t np = w->ptype->nfields;
    firn_ice_field_summary *fs = firn_arena_calloc(a, (np ? np : 1) * sizeof *fs);
    for (size_t i = 0; i < np; i++) {
        const field_stats *s = &w->stats[i];
        fs[i].contains_null = s->contains_null;
        fs[i].has_contains_nan = true;
        fs[i].contains_nan = s->contains_nan;
        if (s->has_bounds) {
            fs[i].lower_bound = bound_bytes(a, &s->min, &fs[i].lower_bound_len);
            fs[i].upper_bound = bound_bytes(a, &s->max, &fs[i].upper_bound_len);
        }
    }
    out->npartitions = np;
    out->partitions = fs;
    return 0;
}

void firn_ice_manifest_writer_free(firn_ice_manifest_writer *w) {
    if (!w) return;
    firn_avro_writer_free(w->avro);
    firn_ice_sink_abort(&w->sink);
    if (w->stats)
        for (size_t i = 0; w->ptype && i < w->ptype->nfields; i++) {
            firn_buf_release(&w->stats[i].min_buf);
            firn_buf_release(&w->stats[i].max_buf);
        }
    free(w->stats);
    free(w->entry_schema);
    free(w->table_schema_json);
    free(w->spec_json);
    firn_arena_release(&w->entry_arena);
    firn_arena_release(&w->arena);
    free(w);
}

/* ============================================================== reader */

typedef struct map_plan {
    int pos;        /* in data_file, -1 absent */
    int kpos, vpos; /* in the key/value record */
} map_plan;

struct firn_ice_manifest_reader {
    uint8_t *owned; /* file bytes read through FileIO */
    firn_avro_reader *avro;
    firn_arena arena;
    firn_ice_manifest_header hdr;
    /* positions in manifest_entry and data_file, -1 when absent */
    int p_status, p_snapshot, p_seq, p_fseq, p_df;
    const firn_avro_node *df;
    int p[DF_N];
    map_plan maps[DF_N];
    const firn_avro_node *part; /* the partition record, or NULL */
    int *part_pos;              /* per partition type field */
    /* inheritance */
    bool inherit;
    int64_t inh_snapshot, inh_seq;
    int32_t inh_spec;
    uint64_t entries;
};

const firn_ice_manifest_header *firn_ice_manifest_reader_header(const firn_ice_manifest_reader *r) {
    return &r->hdr;
}

/* The Iceberg type of a partition field's Avro schema (for files whose header
 * lacks a usable schema or spec). */
static const firn_ice_type *type_from_avro(firn_arena *a, const firn_avro_node *n) {
    n = firn_ice_avro_unopt(n);
    const char *lt = n->logical_type ? n->logical_type : "";
    json_t *utc = firn_avro_node_attr(n, "adjust-to-utc");
    bool tz = utc && json_is_true(utc);
    firn_ice_type_id id;
    switch (n->type) {
    case FIRN_AVRO_BOOLEAN: id = FIRN_ICE_BOOLEAN; break;
    case FIRN_AVRO_INT: id = strcmp(lt, "date") == 0 ? FIRN_ICE_DATE : FIRN_ICE_INT; break;
    case FIRN_AVRO_LONG:
        if (strcmp(lt, "time-micros") == 0) id = FIRN_ICE_TIME;
        else if (strcmp(lt, "timestamp-micros") == 0) id = tz ? FIRN_ICE_TIMESTAMPTZ : FIRN_ICE_TIMESTAMP;
        else if (strcmp(lt, "timestamp-nanos") == 0) id = tz ? FIRN_ICE_TIMESTAMPTZ_NS : FIRN_ICE_TIMESTAMP_NS;
        else id = FIRN_ICE_LONG;
        break;
    case FIRN_AVRO_FLOAT: id = FIRN_ICE_FLOAT; break;
    case FIRN_AVRO_DOUBLE: id = FIRN_ICE_DOUBLE; break;
    case FIRN_AVRO_STRING: id = strcmp(lt, "uuid") == 0 ? FIRN_ICE_UUID : FIRN_ICE_STRING; break;
    case FIRN_AVRO_BYTES:
    case FIRN_AVRO_FIXED:
        if (strcmp(lt, "decimal") == 0) {
            json_t *p = firn_avro_node_attr(n, "precision"), *s = firn_avro_node_attr(n, "scale");
            int32_t prec = json_is_integer(p) ? (int32_t)json_integer_value(p) : 38;
            int32_t scale = json_is_integer(s) ? (int32_t)json_integer_value(s) : 0;
            if (prec < 1 || prec > FIRN_ICE_MAX_DECIMAL_PRECISION) prec = 38;
            if (scale < 0 || scale > prec) scale = 0;
            return firn_ice_type_decimal(a, prec, scale);
        }
        if (n->type == FIRN_AVRO_FIXED && strcmp(lt, "uuid") == 0 && n->size == 16) {
            id = FIRN_ICE_UUID;
            break;
        }
        if (n->type == FIRN_AVRO_FIXED) return firn_ice_type_fixed(a, (int32_t)n->size);
        id = FIRN_ICE_BINARY;
        break;
    default: return NULL;
    }
    return firn_ice_type_primitive(id);
}

/* Partition type from the file's r102 record. */
static const firn_ice_type *ptype_from_avro(firn_arena *a, const firn_avro_node *part) {
    size_t n = part ? part->nfields : 0;
    firn_ice_field *fields = firn_arena_calloc(a, (n ? n : 1) * sizeof *fields);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const firn_avro_field *af = &part->fields[i];
        const firn_ice_type *t = type_from_avro(a, af->type);
        if (!t) continue; /* a type no partition has: left out */
        json_t *orig = firn_avro_field_attr(af, "iceberg-field-name");
        fields[k].id = af->has_field_id ? af->field_id : FIRN_ICE_PARTITION_DATA_ID_START + (int32_t)i;
        fields[k].name = firn_arena_strdup(a, json_is_string(orig) ? json_string_value(orig) : af->name);
        fields[k].required = false;
        fields[k].type = t;
        k++;
    }
    return firn_ice_type_struct(a, fields, k);
}

static void plan_partition(firn_ice_manifest_reader *r) {
    const firn_ice_type *pt = r->hdr.partition_type;
    r->part_pos = firn_arena_calloc(&r->arena, (pt->nfields ? pt->nfields : 1) * sizeof(int));
    for (size_t i = 0; i < pt->nfields; i++)
        r->part_pos[i] = firn_ice_avro_pos(r->part, pt->fields[i].id, pt->fields[i].name);
}

static int parse_header(firn_ice_manifest_reader *r, firn_error *err) {
    firn_ice_manifest_header *h = &r->hdr;
    const char *v;
    int64_t x;
    h->format_version = 1;
    if ((v = firn_avro_reader_meta(r->avro, "format-version", NULL))) {
        if (!firn_ice_parse_meta_i64(v, &x) || x < 1)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "manifest: format-version '%s' is not a version", v);
        if (x > FIRN_ICE_MAX_FORMAT_VERSION)
            return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                              "manifest: format version %lld (firn reads up to %d)", (long long)x,
                              FIRN_ICE_MAX_FORMAT_VERSION);
        h->format_version = (int)x;
    }
    h->content = FIRN_ICE_CONTENT_DATA;
    if ((v = firn_avro_reader_meta(r->avro, "content", NULL))) {
        if (strcmp(v, "deletes") == 0) h->content = FIRN_ICE_MANIFEST_DELETES;
        else if (strcmp(v, "data") != 0)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "manifest: content '%s' (expected data or deletes)", v);
    }
    h->partition_spec_id = -1;
    if ((v = firn_avro_reader_meta(r->avro, "partition-spec-id", NULL))) {
        if (!firn_ice_parse_meta_i64(v, &x) || x < 0 || x > INT32_MAX)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "manifest: partition-spec-id '%s' is not an id", v);
        h->partition_spec_id = (int32_t)x;
    }
    h->schema_id = -1;
    if ((v = firn_avro_reader_meta(r->avro, "schema-id", NULL))) {
        if (!firn_ice_parse_meta_i64(v, &x) || x < 0 || x > INT32_MAX)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "manifest: schema-id '%s' is not an id", v);
        h->schema_id = (int32_t)x;
    }
    /* schema and spec: used when they parse; otherwise the partition types
     * come from the Avro schema itself */
    size_t len;
    firn_error ignored;
    firn_error_init(&ignored);
    if ((v = firn_avro_reader_meta(r->avro, "schema", &len)))
        h->schema = firn_ice_schema_parse(&r->arena, v, len, &ignored);
    firn_error_release(&ignored);
    if ((v = firn_avro_reader_meta(r->avro, "partition-spec", &len))) {
        json_t *j = json_loadb(v, len, 0, NULL);
        if (j) {
            firn_error_init(&ignored);
            h->spec = firn_ice_partition_spec_from_json_fields(
                &r->arena, h->partition_spec_id >= 0 ? h->partition_spec_id : 0, j,
                "partition-spec", &ignored);
            firn_error_release(&ignored);
            json_decref(j);
        }
    }
    if (h->schema && h->spec) {
        firn_error_init(&ignored);
        h->partition_type = firn_ice_partition_type(&r->arena, h->spec, h->schema, &ignored);
        firn_error_release(&ignored);
    }
    if (!h->partition_type) h->partition_type = ptype_from_avro(&r->arena, r->part);
    return 0;
}

static int plan(firn_ice_manifest_reader *r, firn_error *err) {
    const firn_avro_node *root = firn_avro_schema_root(firn_avro_reader_schema(r->avro));
    if (root->type != FIRN_AVRO_RECORD)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "manifest: the Avro schema is a %s, not a manifest_entry record",
                          firn_avro_type_name(root->type));
    r->p_status = firn_ice_avro_pos(root, 0, "status");
    r->p_snapshot = firn_ice_avro_pos(root, 1, "snapshot_id");
    r->p_seq = firn_ice_avro_pos(root, 3, "sequence_number");
    r->p_fseq = firn_ice_avro_pos(root, 4, "file_sequence_number");
    r->p_df = firn_ice_avro_pos(root, 2, "data_file");
    if (r->p_status < 0 || r->p_df < 0)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "manifest: the Avro schema has no %s field (field-id %d): not a manifest",
                          r->p_status < 0 ? "status" : "data_file", r->p_status < 0 ? 0 : 2);
    r->df = firn_ice_avro_unopt(root->fields[r->p_df].type);
    if (r->df->type != FIRN_AVRO_RECORD)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "manifest: data_file is a %s, not a record",
                          firn_avro_type_name(r->df->type));
    for (int i = 0; i < DF_N; i++) {
        r->p[i] = firn_ice_avro_pos(r->df, df_fields[i].id, df_fields[i].name);
        r->maps[i].pos = -1;
    }
    static const int required[] = {DF_PATH, DF_FORMAT, DF_RECORDS, DF_SIZE};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (r->p[required[i]] < 0)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "manifest: data_file has no %s field (field-id %d)",
                              df_fields[required[i]].name, (int)df_fields[required[i]].id);
    static const int maps[] = {DF_COLUMN_SIZES, DF_VALUE_COUNTS, DF_NULL_COUNTS,
                               DF_NAN_COUNTS,   DF_LOWER,        DF_UPPER};
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) {
        int k = maps[i];
        if (r->p[k] < 0) continue;
        const firn_avro_node *t = firn_ice_avro_unopt(r->df->fields[r->p[k]].type);
        map_plan *m = &r->maps[k];
        m->pos = r->p[k];
        m->kpos = 0;
        m->vpos = 1;
        if (t->type == FIRN_AVRO_ARRAY && t->items->type == FIRN_AVRO_RECORD) {
            int kp = firn_ice_avro_pos(t->items, df_fields[k].key_id, "key");
            int vp = firn_ice_avro_pos(t->items, df_fields[k].value_id, "value");
            if (kp >= 0) m->kpos = kp;
            if (vp >= 0) m->vpos = vp;
        }
    }
    r->part = NULL;
    if (r->p[DF_PARTITION] >= 0) {
        const firn_avro_node *pn = firn_ice_avro_unopt(r->df->fields[r->p[DF_PARTITION]].type);
        if (pn->type != FIRN_AVRO_RECORD)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "manifest: data_file.partition is a %s, not a record",
                              firn_avro_type_name(pn->type));
        r->part = pn;
    }
    return 0;
}

static firn_ice_manifest_reader *reader_open(uint8_t *owned, const void *data, size_t len,
                                             firn_error *err) {
    firn_ice_manifest_reader *r = firn_xcalloc(1, sizeof *r);
    firn_arena_init(&r->arena, 0);
    r->owned = owned;
    r->avro = firn_avro_reader_open_mem(data, len, err);
    if (!r->avro) {
        FIRN_WRAP(err, FIRN_ERR_CORRUPT, "manifest: not a readable Avro file");
        goto fail;
    }
    if (plan(r, err) || parse_header(r, err)) goto fail;
    plan_partition(r);
    return r;
fail:
    r->owned = NULL; /* the caller still owns the bytes */
    firn_ice_manifest_reader_free(r);
    return NULL;
}

firn_ice_manifest_reader *firn_ice_manifest_reader_open_mem(const void *data, size_t len,
                                                            firn_error *err) {
    ICE_ERR_GUARD(err);
    return reader_open(NULL, data, len, err);
}

firn_ice_manifest_reader *firn_ice_manifest_reader_open(firn_io *io, const char *location,
                                                        firn_error *err) {
    ICE_ERR_GUARD(err);
    uint8_t *data;
    size_t len;
    if (firn_io_read_all(io, location, &data, &len, err)) return NULL;
    firn_ice_manifest_reader *r = reader_open(data, data, len, err);
    if (!r) {
        free(data);
        firn_error_context(err, "%s", location);
    }
    return r;
}

int firn_ice_manifest_reader_set_spec(firn_ice_manifest_reader *r, const firn_ice_schema *schema,
                                      const firn_ice_partition_spec *spec, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (!schema || !spec)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest reader: set_spec needs a schema and a spec");
    firn_ice_schema *s = firn_ice_schema_copy(&r->arena, schema, err);
    if (!s) return -FIRN_ERR_INVALID;
    firn_ice_partition_spec *p = firn_ice_partition_spec_copy(&r->arena, spec);
    const firn_ice_type *t = firn_ice_partition_type(&r->arena, p, s, err);
    if (!t) return firn_ice_error_prefix(err, "manifest reader: partition spec %d", (int)spec->spec_id);
    r->hdr.schema = s;
    r->hdr.spec = p;
    r->hdr.partition_type = t;
    plan_partition(r);
    return 0;
}

int firn_ice_manifest_reader_inherit(firn_ice_manifest_reader *r, const firn_ice_manifest_file *mf,
                                     firn_error *err) {
    ICE_ERR_GUARD(err);
    if (!mf) {
        r->inherit = false;
        return 0;
    }
    if (r->hdr.partition_spec_id >= 0 && r->hdr.partition_spec_id != mf->partition_spec_id)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "manifest %s: written with partition spec %d, the manifest list says %d",
                          mf->manifest_path ? mf->manifest_path : "", (int)r->hdr.partition_spec_id,
                          (int)mf->partition_spec_id);
    r->inherit = true;
    r->inh_snapshot = mf->added_snapshot_id;
    r->inh_seq = mf->sequence_number;
    r->inh_spec = mf->partition_spec_id;
    return 0;
}

int firn_ice_manifest_reader_skip_stats(firn_ice_manifest_reader *r, bool skip, firn_error *err) {
    ICE_ERR_GUARD(err);
    static const int32_t ids[] = {0, 1, 3, 4, 134, 100, 101, 102, 103, 104, 105, 131, 132, 135, 140, 143};
    return firn_avro_reader_project(r->avro, skip ? ids : NULL, skip ? sizeof ids / sizeof *ids : 0,
                                    err);
}

/* ----------------------------------------------------------- decoding */

/* An Avro partition value into an Iceberg value of type t (with the promotions
 * schema evolution allows: int to long, float to double). */
static int partition_value(firn_arena *a, const firn_avro_value *v, const firn_ice_field *f,
                           firn_ice_value *out, firn_error *err) {
    const firn_ice_type *t = f->type;
    char tb[48];
    memset(out, 0, sizeof *out);
    out->type = t->id;
    if (firn_ice_avro_is_null(v)) {
        *out = firn_ice_value_null(t->id);
        out->scale = t->id == FIRN_ICE_DECIMAL ? t->scale : 0;
        return 0;
    }
    switch (t->id) {
    case FIRN_ICE_BOOLEAN:
        if (v->type != FIRN_AVRO_BOOLEAN) break;
        out->u.b = v->u.boolean;
        return 0;
    case FIRN_ICE_INT:
    case FIRN_ICE_DATE:
        if (v->type != FIRN_AVRO_INT) break;
        out->u.i32 = v->u.i32;
        return 0;
    case FIRN_ICE_LONG:
    case FIRN_ICE_TIME:
    case FIRN_ICE_TIMESTAMP:
    case FIRN_ICE_TIMESTAMPTZ:
    case FIRN_ICE_TIMESTAMP_NS:
    case FIRN_ICE_TIMESTAMPTZ_NS:
        if (v->type == FIRN_AVRO_LONG) out->u.i64 = v->u.i64;
        else if (v->type == FIRN_AVRO_INT && t->id == FIRN_ICE_LONG) out->u.i64 = v->u.i32;
        else break;
        return 0;
    case FIRN_ICE_FLOAT:
        if (v->type != FIRN_AVRO_FLOAT) break;
        out->u.f32 = v->u.f32;
        return 0;
    case FIRN_ICE_DOUBLE:
        if (v->type == FIRN_AVRO_DOUBLE) out->u.f64 = v->u.f64;
        else if (v->type == FIRN_AVRO_FLOAT) out->u.f64 = v->u.f32;
        else break;
        return 0;
    case FIRN_ICE_STRING:
        if (v->type != FIRN_AVRO_STRING) break;
        out->u.bin.ptr = (const uint8_t *)(v->u.str.ptr ? v->u.str.ptr : "");
        out->u.bin.len = v->u.str.len;
        return 0;
    case FIRN_ICE_BINARY:
    case FIRN_ICE_FIXED:
        if (v->type != FIRN_AVRO_BYTES && v->type != FIRN_AVRO_FIXED) break;
        if (t->id == FIRN_ICE_FIXED && v->u.bytes.len != (size_t)t->length)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "partition field '%s': %zu bytes for a %s",
                              f->name, v->u.bytes.len, firn_ice_type_to_string(t, tb, sizeof tb));
        out->u.bin.ptr = v->u.bytes.data ? v->u.bytes.data : (const uint8_t *)"";
        out->u.bin.len = v->u.bytes.len;
        return 0;
    case FIRN_ICE_UUID:
        if ((v->type == FIRN_AVRO_FIXED || v->type == FIRN_AVRO_BYTES) && v->u.bytes.len == 16) {
            memcpy(out->u.uuid, v->u.bytes.data, 16);
            return 0;
        }
        if (v->type == FIRN_AVRO_STRING && v->u.str.len == 36 &&
            firn_ice_uuid_parse(v->u.str.ptr, out->u.uuid) == 0)
            return 0;
        break;
    case FIRN_ICE_DECIMAL: {
        if (v->type != FIRN_AVRO_BYTES && v->type != FIRN_AVRO_FIXED) break;
        firn_ice_value d;
        if (firn_ice_value_from_bytes(t, v->u.bytes.data ? v->u.bytes.data : (const uint8_t *)"",
                                      v->u.bytes.len, &d, err))
            return firn_ice_error_prefix(err, "partition field '%s'", f->name);
        *out = d;
        return 0;
    }
    default: break;
    }
    (void)a;
    return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "partition field '%s': a %s value for type %s", f->name,
                      firn_avro_type_name(v->type), firn_ice_type_to_string(t, tb, sizeof tb));
}

static int read_metrics(firn_arena *a, const firn_avro_value *v, const map_plan *m,
                        const char *what, bool bounds, void **out, size_t *n, firn_error *err) {
    *out = NULL;
    *n = 0;
    if (firn_ice_avro_is_null(v)) return 0;
    size_t count = v->type == FIRN_AVRO_ARRAY ? v->u.array.count
                   : v->type == FIRN_AVRO_MAP ? v->u.map.count : 0;
    if (v->type != FIRN_AVRO_ARRAY && v->type != FIRN_AVRO_MAP)
        return wrong_type(v, what, "an array of key/value records", err);
    if (!count) return 0;
    firn_ice_metric *mets = bounds ? NULL : firn_arena_alloc(a, count * sizeof *mets);
    firn_ice_bound *bnds = bounds ? firn_arena_alloc(a, count * sizeof *bnds) : NULL;
    char kw[96], vw[96];
    snprintf(kw, sizeof kw, "%s key", what);
    snprintf(vw, sizeof vw, "%s value", what);
    for (size_t i = 0; i < count; i++) {
        int32_t key;
        const firn_avro_value *val;
        if (v->type == FIRN_AVRO_ARRAY) {
            const firn_avro_value *kv = &v->u.array.items[i];
            if (kv->type != FIRN_AVRO_RECORD) return wrong_type(kv, what, "a key/value record", err);
            if (firn_ice_avro_get_int(firn_ice_avro_at(kv, m->kpos), kw, &key, err)) return -FIRN_ERR_CORRUPT;
            val = firn_ice_avro_at(kv, m->vpos);
        } else { /* a map keyed by the id's decimal text */
            int64_t k;
            if (!firn_ice_parse_meta_i64(v->u.map.entries[i].key, &k) || k < INT32_MIN || k > INT32_MAX)
                return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: map key '%s' is not a field id", what,
                                  v->u.map.entries[i].key);
            key = (int32_t)k;
            val = &v->u.map.entries[i].value;
        }
        if (bounds) {
            bnds[i].field_id = key;
            if (firn_ice_avro_get_bytes(val, vw, &bnds[i].bytes, &bnds[i].len, err)) return -FIRN_ERR_CORRUPT;
        } else {
            mets[i].field_id = key;
            if (firn_ice_avro_get_long(val, vw, &mets[i].value, err)) return -FIRN_ERR_CORRUPT;
        }
    }
    *out = bounds ? (void *)bnds : (void *)mets;
    *n = count;
    return 0;
}

static int opt_long_field(const firn_avro_value *rec, int pos, const char *what, bool *has,
                          int64_t *out, firn_error *err) {
    const firn_avro_value *v = firn_ice_avro_at(rec, pos);
    *has = !firn_ice_avro_is_null(v);
    *out = 0;
    return *has ? firn_ice_avro_get_long(v, what, out, err) : 0;
}

static int decode_entry(firn_ice_manifest_reader *r, firn_arena *a, const firn_avro_value *rec,
                        firn_ice_manifest_entry *e, firn_error *err) {
    memset(e, 0, sizeof *e);
    int32_t status;
    if (firn_ice_avro_get_int(firn_ice_avro_at(rec, r->p_status), "status", &status, err))
        return -FIRN_ERR_CORRUPT;
    if (status < 0 || status > 2)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "status %d (expected 0 EXISTING, 1 ADDED or 2 DELETED)",
                          (int)status);
    e->status = (firn_ice_entry_status)status;
    if (opt_long_field(rec, r->p_snapshot, "snapshot_id", &e->has_snapshot_id, &e->snapshot_id, err) ||
        opt_long_field(rec, r->p_seq, "sequence_number", &e->has_sequence_number, &e->sequence_number, err) ||
        opt_long_field(rec, r->p_fseq, "file_sequence_number", &e->has_file_sequence_number,
                       &e->file_sequence_number, err))
        return -FIRN_ERR_CORRUPT;

    const firn_avro_value *dv = firn_ice_avro_at(rec, r->p_df);
    if (!dv || dv->type != FIRN_AVRO_RECORD) return wrong_type(dv, "data_file", "a record", err);
    firn_ice_data_file *df = &e->data_file;
    const firn_avro_value *v;
    int32_t i32;
    df->content = FIRN_ICE_CONTENT_DATA;
    if (!firn_ice_avro_is_null(v = firn_ice_avro_at(dv, r->p[DF_CONTENT]))) {
        if (firn_ice_avro_get_int(v, "data_file.content", &i32, err)) return -FIRN_ERR_CORRUPT;
        if (i32 < 0 || i32 > 2)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "data_file.content %d (expected 0, 1 or 2)", (int)i32);
        df->content = (firn_ice_content)i32;
    }
    if (firn_ice_avro_get_string(firn_ice_avro_at(dv, r->p[DF_PATH]), "data_file.file_path",
                                 &df->file_path, err) ||
        firn_ice_avro_get_string(firn_ice_avro_at(dv, r->p[DF_FORMAT]), "data_file.file_format",
                                 &df->file_format, err) ||
        firn_ice_avro_get_long(firn_ice_avro_at(dv, r->p[DF_RECORDS]), "data_file.record_count",
                               &df->record_count, err) ||
        firn_ice_avro_get_long(firn_ice_avro_at(dv, r->p[DF_SIZE]), "data_file.file_size_in_bytes",
                               &df->file_size_in_bytes, err))
        return -FIRN_ERR_CORRUPT;
    df->spec_id = r->inherit ? r->inh_spec : r->hdr.partition_spec_id >= 0 ? r->hdr.partition_spec_id : 0;

    /* partition tuple */
    const firn_ice_type *pt = r->hdr.partition_type;
    const firn_avro_value *pv = firn_ice_avro_at(dv, r->p[DF_PARTITION]);
    if (pv && pv->type != FIRN_AVRO_RECORD && pv->type != FIRN_AVRO_NULL)
        return wrong_type(pv, "data_file.partition", "a record", err);
    firn_ice_value *parts = firn_arena_alloc(a, (pt->nfields ? pt->nfields : 1) * sizeof *parts);
    for (size_t i = 0; i < pt->nfields; i++) {
        const firn_avro_value *x = pv && pv->type == FIRN_AVRO_RECORD ? firn_ice_avro_at(pv, r->part_pos[i]) : NULL;
        if (partition_value(a, x, &pt->fields[i], &parts[i], err))
            return firn_ice_error_prefix(err, "data_file.partition");
    }
    df->npartition = pt->nfields;
    df->partition = parts;

    /* metrics */
    struct {
        int k;
        bool bounds;
        void **out;
        size_t *n;
    } ms[] = {
        {DF_COLUMN_SIZES, false, (void **)&df->column_sizes, &df->ncolumn_sizes},
        {DF_VALUE_COUNTS, false, (void **)&df->value_counts, &df->nvalue_counts},
        {DF_NULL_COUNTS, false, (void **)&df->null_value_counts, &df->nnull_value_counts},
        {DF_NAN_COUNTS, false, (void **)&df->nan_value_counts, &df->nnan_value_counts},
        {DF_LOWER, true, (void **)&df->lower_bounds, &df->nlower_bounds},
        {DF_UPPER, true, (void **)&df->upper_bounds, &df->nupper_bounds},
    };
    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++) {
        char what[64];
        snprintf(what, sizeof what, "data_file.%s", df_fields[ms[i].k].name);
        if (read_metrics(a, firn_ice_avro_at(dv, r->maps[ms[i].k].pos), &r->maps[ms[i].k], what,
                         ms[i].bounds, ms[i].out, ms[i].n, err))
            return -FIRN_ERR_CORRUPT;
    }

    if (!firn_ice_avro_is_null(v = firn_ice_avro_at(dv, r->p[DF_KEY_METADATA])) &&
        firn_ice_avro_get_bytes(v, "data_file.key_metadata", &df->key_metadata, &df->key_metadata_len, err))
        return -FIRN_ERR_CORRUPT;
    if (!firn_ice_avro_is_null(v = firn_ice_avro_at(dv, r->p[DF_SPLIT_OFFSETS]))) {
        if (v->type != FIRN_AVRO_ARRAY) return wrong_type(v, "data_file.split_offsets", "an array", err);
        int64_t *offs = firn_arena_alloc(a, (v->u.array.count ? v->u.array.count : 1) * sizeof *offs);
        for (size_t i = 0; i < v->u.array.count; i++)
            if (firn_ice_avro_get_long(&v->u.array.items[i], "data_file.split_offsets element", &offs[i], err))
                return -FIRN_ERR_CORRUPT;
        df->nsplit_offsets = v->u.array.count;
        df->split_offsets = offs;
    }
    if (!firn_ice_avro_is_null(v = firn_ice_avro_at(dv, r->p[DF_EQUALITY_IDS]))) {
        if (v->type != FIRN_AVRO_ARRAY) return wrong_type(v, "data_file.equality_ids", "an array", err);
        int32_t *ids = firn_arena_alloc(a, (v->u.array.count ? v->u.array.count : 1) * sizeof *ids);
        for (size_t i = 0; i < v->u.array.count; i++) /* PyIceberg writes longs */
            if (firn_ice_avro_get_int(&v->u.array.items[i], "data_file.equality_ids element", &ids[i], err))
                return -FIRN_ERR_CORRUPT;
        df->nequality_ids = v->u.array.count;
        df->equality_ids = ids;
    }
    if (!firn_ice_avro_is_null(v = firn_ice_avro_at(dv, r->p[DF_SORT_ORDER]))) {
        if (firn_ice_avro_get_int(v, "data_file.sort_order_id", &df->sort_order_id, err))
            return -FIRN_ERR_CORRUPT;
        df->has_sort_order_id = true;
    }
    if (!firn_ice_avro_is_null(v = firn_ice_avro_at(dv, r->p[DF_REFERENCED])) &&
        firn_ice_avro_get_string(v, "data_file.referenced_data_file", &df->referenced_data_file, err))
        return -FIRN_ERR_CORRUPT;

    /* inheritance (Java's InheritableMetadataFactory.BaseInheritableMetadata) */
    if (r->inherit) {
        if (!e->has_snapshot_id) {
            e->has_snapshot_id = true;
            e->snapshot_id = r->inh_snapshot;
        }
        bool inherit_seq = r->inh_seq == 0 || e->status == FIRN_ICE_ADDED;
        if (!e->has_sequence_number && inherit_seq) {
            e->has_sequence_number = true;
            e->sequence_number = r->inh_seq;
        }
        if (!e->has_file_sequence_number && inherit_seq) {
            e->has_file_sequence_number = true;
            e->file_sequence_number = r->inh_seq;
        }
    }
    return 0;
}

int firn_ice_manifest_reader_next(firn_ice_manifest_reader *r, firn_arena *a,
                                  firn_ice_manifest_entry *out, firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_avro_value rec;
    int rc = firn_avro_reader_next(r->avro, a, &rec, err);
    if (rc <= 0) {
        if (rc < 0) firn_ice_error_prefix(err, "manifest");
        return rc;
    }
    uint64_t n = r->entries++;
    if ((rc = decode_entry(r, a, &rec, out, err)))
        return firn_ice_error_prefix(err, "manifest entry %llu", (unsigned long long)n);
    return 1;
}

void firn_ice_manifest_reader_free(firn_ice_manifest_reader *r) {
    if (!r) return;
    firn_avro_reader_free(r->avro);
    free(r->owned);
    firn_arena_release(&r->arena);
    free(r);
}
