/*
 * iceberg.h - the Apache Iceberg table format core: types and schemas, values
 * and their serialized forms, partition transforms and specs, sort orders,
 * snapshots and refs, and table metadata JSON with the table updates the REST
 * protocol names (add-schema, set-snapshot-ref, ...). No I/O happens here.
 *
 * Spec: apache/iceberg format/spec.md. The module mirrors the spec's nouns:
 *   types.c        primitive and nested types, type strings
 *   schema.c       schemas, field lookup, schema JSON, fresh id assignment
 *   schema_update.c schema evolution that keeps field ids
 *   value.c        typed single values, binary/JSON/human forms, comparison, bounds
 *   transform.c    identity, bucket, truncate, year/month/day/hour, void
 *   partition.c    partition specs, partition type, partition paths, spec evolution
 *   sort_order.c   sort orders
 *   snapshot.c     snapshots and snapshot refs
 *   metadata.c     table metadata JSON (v1 and v2) and validation
 *   update.c       table updates applied to metadata in memory
 *
 * Memory: schemas, types, specs, sort orders and values are built in a
 * caller-supplied firn_arena and live as long as it does; they are immutable
 * once built (evolution builds new ones). firn_ice_metadata owns its own
 * arena: objects added to it are deep-copied in, and firn_ice_metadata_free()
 * releases everything. JSON objects cross the API as jansson json_t (declared
 * here as struct json_t so that this header does not need jansson); functions
 * returning json_t return a new reference the caller json_decref()s.
 *
 * Errors: functions return 0 / a pointer on success and a negative firn error
 * kind / NULL on failure, with err filled. Messages name the JSON path of the
 * offending value, e.g. "schemas[0].fields[2].type: unknown type 'strin'".
 */
#ifndef FIRN_ICEBERG_H
#define FIRN_ICEBERG_H

#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;

/* Decimal unscaled values (precision <= 38) need 128 bits. */
__extension__ typedef __int128 firn_ice_int128;

#define FIRN_ICE_MAX_DECIMAL_PRECISION 38
/* Field ids above this are reserved for metadata columns (spec: Reserved Field IDs). */
#define FIRN_ICE_MAX_FIELD_ID 2147483447
/* Partition field ids start here; an unpartitioned table's last-partition-id is 999. */
#define FIRN_ICE_PARTITION_DATA_ID_START 1000
/* The highest format version firn reads and writes. */
#define FIRN_ICE_MAX_FORMAT_VERSION 2
/* Java's default number of code points kept in string bounds. */
#define FIRN_ICE_DEFAULT_BOUND_LENGTH 16

/* ================================================================== types */

typedef enum firn_ice_type_id {
    FIRN_ICE_BOOLEAN = 1,
    FIRN_ICE_INT,
    FIRN_ICE_LONG,
    FIRN_ICE_FLOAT,
    FIRN_ICE_DOUBLE,
    FIRN_ICE_DECIMAL,
    FIRN_ICE_DATE,
    FIRN_ICE_TIME,
    FIRN_ICE_TIMESTAMP,
    FIRN_ICE_TIMESTAMPTZ,
    FIRN_ICE_TIMESTAMP_NS,
    FIRN_ICE_TIMESTAMPTZ_NS,
    FIRN_ICE_STRING,
    FIRN_ICE_UUID,
    FIRN_ICE_FIXED,
    FIRN_ICE_BINARY,
    FIRN_ICE_STRUCT,
    FIRN_ICE_LIST,
    FIRN_ICE_MAP,
} firn_ice_type_id;

typedef struct firn_ice_type firn_ice_type;

/*
 * A named, id'd slot of a nested type: a struct field, a list element (named
 * "element") or a map key/value (named "key"/"value"). Defaults are kept as
 * their JSON single-value text (spec Appendix D) exactly as read; parse them
 * with firn_ice_value_from_json() when needed.
 */
typedef struct firn_ice_field {
    int32_t id;
    const char *name;
    bool required;
    const firn_ice_type *type;
    const char *doc;             /* or NULL */
    const char *initial_default; /* JSON text or NULL */
    const char *write_default;   /* JSON text or NULL */
    const char *extra_json;      /* unknown keys read with the field, a JSON object text, or NULL */
} firn_ice_field;

struct firn_ice_type {
    firn_ice_type_id id;
    int32_t precision, scale; /* decimal */
    int32_t length;           /* fixed */
    size_t nfields;           /* struct */
    const firn_ice_field *fields;
    const firn_ice_field *element; /* list */
    const firn_ice_field *key;     /* map (key->required is always true) */
    const firn_ice_field *value;   /* map */
};

/* Static instances of the parameterless primitives; NULL for decimal, fixed and nested ids. */
const firn_ice_type *firn_ice_type_primitive(firn_ice_type_id id);
firn_ice_type *firn_ice_type_decimal(firn_arena *a, int32_t precision, int32_t scale);
firn_ice_type *firn_ice_type_fixed(firn_arena *a, int32_t length);
/* Nested constructors copy the field arrays/fields (not the types they point to). */
firn_ice_type *firn_ice_type_struct(firn_arena *a, const firn_ice_field *fields, size_t n);
firn_ice_type *firn_ice_type_list(firn_arena *a, int32_t element_id, bool element_required,
                                  const firn_ice_type *element);
firn_ice_type *firn_ice_type_map(firn_arena *a, int32_t key_id, const firn_ice_type *key,
                                 int32_t value_id, bool value_required, const firn_ice_type *value);

static inline bool firn_ice_type_is_primitive(const firn_ice_type *t) {
    return t->id < FIRN_ICE_STRUCT;
}
static inline bool firn_ice_type_is_nested(const firn_ice_type *t) {
    return t->id >= FIRN_ICE_STRUCT;
}
/* "long", "decimal(9, 2)" (as Java and PyIceberg write it), "fixed[16]", "struct", "list",
 * "map". Returns buf. */
const char *firn_ice_type_to_string(const firn_ice_type *t, char *buf, size_t n);
/* The firn_pq_type (parquet.h) a primitive is stored as in Parquet, or -1 for
 * nested types. */
int firn_ice_type_to_pq(const firn_ice_type *t);
/* Bytes per value of a primitive in parquet.h's column layout
 * (firn_pq_column_data.values): 1 boolean, 4 int/date/float, 8 for the other
 * 64-bit types, 4, 8 or firn_pq_decimal_width() for decimal by precision, 16
 * uuid, the length of fixed; 0 for string and binary (values and offsets) and
 * for nested types. */
size_t firn_ice_type_pq_width(const firn_ice_type *t);
/* Parse a primitive type string ("decimal(9, 2)" with optional spaces is accepted) into *out
 * (nested pointers zeroed). Unknown names fail with FIRN_ERR_UNSUPPORTED (v3 types such as
 * variant or geometry) or FIRN_ERR_CORRUPT. */
int firn_ice_type_parse_primitive(const char *s, firn_ice_type *out, firn_error *err);
/* Structural equality including field ids, names, requiredness and docs. */
bool firn_ice_type_equal(const firn_ice_type *a, const firn_ice_type *b);
/* Deep copy into arena a (static primitives are shared). */
const firn_ice_type *firn_ice_type_copy(firn_arena *a, const firn_ice_type *t);
/* Type JSON (spec Appendix C): a string for primitives, an object for nested types. */
struct json_t *firn_ice_type_to_json(const firn_ice_type *t);
const firn_ice_type *firn_ice_type_from_json(firn_arena *a, const struct json_t *j,
                                             const char *path, firn_error *err);

/* ================================================================ schemas */

typedef struct firn_ice_schema_index firn_ice_schema_index;

typedef struct firn_ice_schema {
    int32_t schema_id;
    const firn_ice_type *type; /* the root struct */
    size_t nidentifier_field_ids;
    const int32_t *identifier_field_ids;
    const char *extra_json; /* unknown keys of the schema object, or NULL */
    firn_ice_schema_index *index; /* private: built by every constructor */
} firn_ice_schema;

/*
 * A schema over the top-level fields (copied). Validates: ids unique and in
 * (0, FIRN_ICE_MAX_FIELD_ID], names unique within each struct, map keys
 * required, identifier fields primitive, required, not float/double, not
 * inside a list or map or an optional struct.
 */
firn_ice_schema *firn_ice_schema_new(firn_arena *a, int32_t schema_id, const firn_ice_field *fields,
                                     size_t nfields, const int32_t *identifier_field_ids,
                                     size_t nidentifier, firn_error *err);
firn_ice_schema *firn_ice_schema_from_json(firn_arena *a, const struct json_t *j, const char *path,
                                           firn_error *err);
/* Parse schema JSON text (e.g. a user's schema file). */
firn_ice_schema *firn_ice_schema_parse(firn_arena *a, const char *text, size_t len,
                                       firn_error *err);
struct json_t *firn_ice_schema_to_json(const firn_ice_schema *s);
/* Compact schema JSON text, malloc'd (for manifest and Parquet footer keys). */
char *firn_ice_schema_to_string(const firn_ice_schema *s);
firn_ice_schema *firn_ice_schema_copy(firn_arena *a, const firn_ice_schema *s, firn_error *err);
/* Same fields and identifier ids (schema ids and unknown keys ignored). */
bool firn_ice_schema_same_structure(const firn_ice_schema *a, const firn_ice_schema *b);

static inline size_t firn_ice_schema_nfields(const firn_ice_schema *s) { return s->type->nfields; }
static inline const firn_ice_field *firn_ice_schema_fields(const firn_ice_schema *s) {
    return s->type->fields;
}
/* Any field (nested, list element, map key/value) by id, or NULL. */
const firn_ice_field *firn_ice_schema_find_field(const firn_ice_schema *s, int32_t id);
/* Dotted full name of a field id ("loc.lat", "tags.element", "attrs.key"), or NULL. */
const char *firn_ice_schema_find_name(const firn_ice_schema *s, int32_t id);
/* Field by dotted full name; case_sensitive=false folds ASCII case. NULL when absent (or, case
 * insensitively, ambiguous). */
const firn_ice_field *firn_ice_schema_find_by_name(const firn_ice_schema *s, const char *name,
                                                   bool case_sensitive);
/* Id of the struct/list/map field that contains id, 0 for top-level fields, -1 if unknown. */
int32_t firn_ice_schema_parent_id(const firn_ice_schema *s, int32_t id);
/* True when id is nested (at any depth) in a list or a map. */
bool firn_ice_schema_in_list_or_map(const firn_ice_schema *s, int32_t id);
int32_t firn_ice_schema_highest_field_id(const firn_ice_schema *s);

/*
 * Java's TypeUtil.assignFreshIds: a copy of s with ids 1.. assigned in pre-order
 * by level (all fields of a struct first, then each field's nested types), the
 * identifier fields remapped, schema id set. *last_column_id receives the highest id.
 */
firn_ice_schema *firn_ice_schema_assign_fresh_ids(firn_arena *a, const firn_ice_schema *s,
                                                  int32_t schema_id, int32_t *last_column_id,
                                                  firn_error *err);

/* ------------------------------------------------------ schema evolution */

/*
 * Schema evolution that keeps ids (Java's UpdateSchema). Changes are applied in
 * order to a working copy, so later calls see earlier ones; names are dotted
 * full names. Invalid changes fail with FIRN_ERR_INVALID and leave the update
 * usable. Column additions get ids after last_column_id.
 */
typedef struct firn_ice_schema_update firn_ice_schema_update;

firn_ice_schema_update *firn_ice_schema_update_new(const firn_ice_schema *base,
                                                   int32_t last_column_id);
void firn_ice_schema_update_free(firn_ice_schema_update *u);
/* Add an optional column to the top level (parent NULL) or to the struct named parent (or
 * the struct element/value of the list/map named parent). Nested ids in type are reassigned. */
int firn_ice_schema_update_add_column(firn_ice_schema_update *u, const char *parent,
                                      const char *name, const firn_ice_type *type,
                                      const char *doc, firn_error *err);
/* Required columns without defaults are an incompatible change: always an error in v1/v2. */
int firn_ice_schema_update_add_required_column(firn_ice_schema_update *u, const char *parent,
                                               const char *name, const firn_ice_type *type,
                                               const char *doc, firn_error *err);
int firn_ice_schema_update_rename_column(firn_ice_schema_update *u, const char *name,
                                         const char *new_name, firn_error *err);
int firn_ice_schema_update_delete_column(firn_ice_schema_update *u, const char *name,
                                         firn_error *err);
/* required=false makes a column optional; required=true is rejected (existing nulls). */
int firn_ice_schema_update_set_required(firn_ice_schema_update *u, const char *name,
                                        bool required, firn_error *err);
/* Widen a primitive: int->long, float->double, decimal(P,S)->decimal(P',S) with P'>P. */
int firn_ice_schema_update_update_column(firn_ice_schema_update *u, const char *name,
                                         const firn_ice_type *new_type, firn_error *err);
int firn_ice_schema_update_update_doc(firn_ice_schema_update *u, const char *name,
                                      const char *doc, firn_error *err);
int firn_ice_schema_update_set_identifier_fields(firn_ice_schema_update *u,
                                                 const char *const *names, size_t n,
                                                 firn_error *err);
/* The evolved schema (new schema_id) in arena a; *last_column_id receives the new value. */
firn_ice_schema *firn_ice_schema_update_apply(firn_ice_schema_update *u, firn_arena *a,
                                              int32_t schema_id, int32_t *last_column_id,
                                              firn_error *err);

/* ================================================================= values */

/*
 * One typed primitive value. String/binary/fixed bytes are borrowed: they point
 * into the buffer or arena the value was made from.
 */
typedef struct firn_ice_value {
    firn_ice_type_id type;
    bool is_null;
    int32_t scale; /* decimal */
    union {
        bool b;
        int32_t i32; /* int, date (days since 1970-01-01) */
        int64_t i64; /* long, time (us since midnight), timestamp[tz] (us), timestamp[tz]_ns (ns) */
        float f32;
        double f64;
        firn_ice_int128 dec; /* decimal unscaled value */
        uint8_t uuid[16];    /* big-endian */
        struct {
            const uint8_t *ptr;
            size_t len;
        } bin; /* string (UTF-8), binary, fixed */
    } u;
} firn_ice_value;

static inline firn_ice_value firn_ice_value_null(firn_ice_type_id t) {
    firn_ice_value v = {0};
    v.type = t;
    v.is_null = true;
    return v;
}
static inline firn_ice_value firn_ice_value_int(int32_t x) {
    firn_ice_value v = {0};
    v.type = FIRN_ICE_INT;
    v.u.i32 = x;
    return v;
}
static inline firn_ice_value firn_ice_value_long(int64_t x) {
    firn_ice_value v = {0};
    v.type = FIRN_ICE_LONG;
    v.u.i64 = x;
    return v;
}
static inline firn_ice_value firn_ice_value_date(int32_t days) {
    firn_ice_value v = firn_ice_value_int(days);
    v.type = FIRN_ICE_DATE;
    return v;
}
/* type is one of the int64-valued types (time, timestamp[tz][_ns]). */
static inline firn_ice_value firn_ice_value_i64(firn_ice_type_id type, int64_t x) {
    firn_ice_value v = firn_ice_value_long(x);
    v.type = type;
    return v;
}
static inline firn_ice_value firn_ice_value_double(double x) {
    firn_ice_value v = {0};
    v.type = FIRN_ICE_DOUBLE;
    v.u.f64 = x;
    return v;
}
static inline firn_ice_value firn_ice_value_float(float x) {
    firn_ice_value v = {0};
    v.type = FIRN_ICE_FLOAT;
    v.u.f32 = x;
    return v;
}
static inline firn_ice_value firn_ice_value_bool(bool x) {
    firn_ice_value v = {0};
    v.type = FIRN_ICE_BOOLEAN;
    v.u.b = x;
    return v;
}
/* type is FIRN_ICE_STRING, FIRN_ICE_BINARY or FIRN_ICE_FIXED; bytes borrowed. */
static inline firn_ice_value firn_ice_value_bytes(firn_ice_type_id type, const void *p, size_t n) {
    firn_ice_value v = {0};
    v.type = type;
    v.u.bin.ptr = (const uint8_t *)p;
    v.u.bin.len = n;
    return v;
}
static inline firn_ice_value firn_ice_value_decimal(firn_ice_int128 unscaled, int32_t scale) {
    firn_ice_value v = {0};
    v.type = FIRN_ICE_DECIMAL;
    v.u.dec = unscaled;
    v.scale = scale;
    return v;
}

/* Civil calendar helpers (proleptic Gregorian, UTC). */
int32_t firn_ice_days_from_civil(int64_t year, int month, int day);
void firn_ice_civil_from_days(int64_t days, int64_t *year, int *month, int *day);
static inline int64_t firn_ice_floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
static inline int64_t firn_ice_floor_mod(int64_t a, int64_t b) { return a - firn_ice_floor_div(a, b) * b; }

/*
 * Binary single-value serialization (spec Appendix D), as used for manifest
 * bounds: appends to out. NaN and null values have no serialized form.
 */
int firn_ice_value_to_bytes(const firn_ice_value *v, firn_buf *out, firn_error *err);
/*
 * Read a binary single value of type t (borrowing p for string/binary/fixed).
 * Reads the promoted forms the spec lists: 4-byte bounds of long (int), double
 * (float) and timestamp (date) columns are widened to t.
 */
int firn_ice_value_from_bytes(const firn_ice_type *t, const void *p, size_t n, firn_ice_value *out,
                              firn_error *err);

/*
 * Order of two non-null values of the same type (<0, 0, >0). Floats follow the
 * spec's total order: -NaN < -Inf < -x < -0.0 < +0.0 < x < Inf < NaN.
 * Strings and binary compare as unsigned bytes (= code point order for UTF-8),
 * uuids as unsigned big-endian bytes. Nulls sort first.
 */
int firn_ice_value_compare(const firn_ice_value *a, const firn_ice_value *b);
bool firn_ice_value_equal(const firn_ice_value *a, const firn_ice_value *b);

/* JSON single-value serialization (spec Appendix D). NaN/Inf floats fail. */
struct json_t *firn_ice_value_to_json(const firn_ice_type *t, const firn_ice_value *v,
                                      firn_error *err);
/* Parse a JSON single value of primitive type t; bytes are allocated in a. */
int firn_ice_value_from_json(firn_arena *a, const firn_ice_type *t, const struct json_t *j,
                             firn_ice_value *out, firn_error *err);
/*
 * The text forms of JSON single values, unquoted: "2017-11-16",
 * "22:31:08.000000", "2017-11-16T22:31:08.000001+00:00" (always 6 fraction
 * digits, 9 for _ns), "14.20", lowercase hex for binary/fixed, Java's
 * Double.toString for floats. format appends to out; parse reads such text and
 * is lenient: any fraction length, a bare date for a timestamp, 'Z' or any
 * offset for timestamptz (converted to UTC), fewer decimal digits than the scale.
 */
int firn_ice_value_format(const firn_ice_type *t, const firn_ice_value *v, firn_buf *out,
                          firn_error *err);
int firn_ice_value_parse(firn_arena *a, const firn_ice_type *t, const char *s, size_t len,
                         firn_ice_value *out, firn_error *err);
/* Java's Transform.toHumanString for partition paths: dates yyyy-MM-dd, base64 for binary,
 * ISO timestamps without trailing zeros, "null" for null. Appends to out. */
void firn_ice_value_human_string(const firn_ice_type *t, const firn_ice_value *v, firn_buf *out);
/* Deep copy: string/binary/fixed bytes copied into a. */
firn_ice_value firn_ice_value_copy(firn_arena *a, const firn_ice_value *v);
struct firn_pq_column_data; /* parquet/parquet.h */
/* Row i of column c (parquet.h's layout, e.g. a scan batch's column) as a value
 * of type t (primitive); string/binary/fixed bytes are borrowed from c. */
void firn_ice_value_from_column(const firn_ice_type *t, const struct firn_pq_column_data *c,
                                size_t i, firn_ice_value *v);

/*
 * Bound truncation (Java's UnicodeUtil/BinaryUtil). _min returns the length of
 * the longest prefix with at most n code points (or bytes) - a valid lower
 * bound. _max writes an upper bound of at most n code points/bytes into out:
 * the value itself when short enough, else the prefix with its last
 * incrementable code point (byte) incremented; returns false when there is no
 * such bound (drop it).
 */
size_t firn_ice_truncate_string_min(const uint8_t *s, size_t len, size_t n);
bool firn_ice_truncate_string_max(const uint8_t *s, size_t len, size_t n, firn_buf *out);
size_t firn_ice_truncate_binary_min(size_t len, size_t n);
bool firn_ice_truncate_binary_max(const uint8_t *s, size_t len, size_t n, firn_buf *out);
/* Number of code points in valid UTF-8 (counts lead bytes). */
size_t firn_ice_utf8_length(const uint8_t *s, size_t len);

/* ============================================================= transforms */

typedef enum firn_ice_transform_kind {
    FIRN_ICE_TRANSFORM_IDENTITY = 1,
    FIRN_ICE_TRANSFORM_BUCKET,
    FIRN_ICE_TRANSFORM_TRUNCATE,
    FIRN_ICE_TRANSFORM_YEAR,
    FIRN_ICE_TRANSFORM_MONTH,
    FIRN_ICE_TRANSFORM_DAY,
    FIRN_ICE_TRANSFORM_HOUR,
    FIRN_ICE_TRANSFORM_VOID,
    FIRN_ICE_TRANSFORM_UNKNOWN, /* read from another engine; kept, never applied */
} firn_ice_transform_kind;

typedef struct firn_ice_transform {
    firn_ice_transform_kind kind;
    int32_t param;       /* N for bucket, W for truncate */
    const char *unknown; /* the original string of an unknown transform */
} firn_ice_transform;

/* "identity", "bucket[16]", "truncate[4]", "year", ..., "void". Unknown names fail with
 * FIRN_ERR_UNSUPPORTED; a malformed known one ("bucket[0]") with FIRN_ERR_CORRUPT. */
int firn_ice_transform_parse(const char *s, firn_ice_transform *out, firn_error *err);
const char *firn_ice_transform_to_string(const firn_ice_transform *t, char *buf, size_t n);
bool firn_ice_transform_equal(const firn_ice_transform *a, const firn_ice_transform *b);
/* Whether t applies to source type src. */
bool firn_ice_transform_can_apply(const firn_ice_transform *t, const firn_ice_type *src);
/* The result type of t on src (primitive; nested pointers zeroed). */
int firn_ice_transform_result_type(const firn_ice_transform *t, const firn_ice_type *src,
                                   firn_ice_type *out, firn_error *err);
/* Apply t to in (of source type src). The result may borrow in's bytes (string/binary
 * truncation). Null in gives null out. */
int firn_ice_transform_apply(const firn_ice_transform *t, const firn_ice_type *src,
                             const firn_ice_value *in, firn_ice_value *out, firn_error *err);
/* The spec's 32-bit hash (Appendix B) of a non-null value. */
int32_t firn_ice_value_hash(const firn_ice_value *v);
/* Human-readable form of a transform result (year "2024", month "2024-03", day
 * "2024-03-01", hour "2024-03-01-13", others by result type). Appends to out. */
void firn_ice_transform_human_string(const firn_ice_transform *t, const firn_ice_type *result_type,
                                     const firn_ice_value *v, firn_buf *out);

/* ======================================================== partition specs */

typedef struct firn_ice_partition_field {
    int32_t source_id;
    int32_t field_id;
    const char *name;
    firn_ice_transform transform;
} firn_ice_partition_field;

typedef struct firn_ice_partition_spec {
    int32_t spec_id;
    size_t nfields;
    const firn_ice_partition_field *fields;
    const char *extra_json; /* unknown keys of the spec object, or NULL */
} firn_ice_partition_spec;

/* Copies fields (names and unknown-transform strings too). */
firn_ice_partition_spec *firn_ice_partition_spec_new(firn_arena *a, int32_t spec_id,
                                                     const firn_ice_partition_field *fields,
                                                     size_t n);
firn_ice_partition_spec *firn_ice_partition_spec_unpartitioned(firn_arena *a, int32_t spec_id);
static inline bool firn_ice_partition_spec_is_unpartitioned(const firn_ice_partition_spec *s) {
    for (size_t i = 0; i < s->nfields; i++)
        if (s->fields[i].transform.kind != FIRN_ICE_TRANSFORM_VOID) return false;
    return true;
}
/* {"spec-id":0,"fields":[...]} */
firn_ice_partition_spec *firn_ice_partition_spec_from_json(firn_arena *a, const struct json_t *j,
                                                           const char *path, firn_error *err);
/* The bare field list (v1 "partition-spec", manifest header "partition-spec"); missing
 * field ids are assigned 1000, 1001, ... */
firn_ice_partition_spec *firn_ice_partition_spec_from_json_fields(firn_arena *a, int32_t spec_id,
                                                                  const struct json_t *j,
                                                                  const char *path,
                                                                  firn_error *err);
struct json_t *firn_ice_partition_spec_to_json(const firn_ice_partition_spec *s);
struct json_t *firn_ice_partition_spec_fields_to_json(const firn_ice_partition_spec *s);
firn_ice_partition_spec *firn_ice_partition_spec_copy(firn_arena *a,
                                                      const firn_ice_partition_spec *s);
/* Same fields: source ids, transforms and names (and field ids when with_ids). */
bool firn_ice_partition_spec_equivalent(const firn_ice_partition_spec *a,
                                        const firn_ice_partition_spec *b, bool with_ids);
int32_t firn_ice_partition_spec_last_field_id(const firn_ice_partition_spec *s); /* 999 if none */
/*
 * Check s against schema: sources exist, are primitive, not inside a list or
 * map, transforms apply to their types (void and unknown transforms excepted,
 * whose sources may be gone), names unique and non-empty, names not shadowing a
 * different schema column, field ids unique.
 */
int firn_ice_partition_spec_validate(const firn_ice_partition_spec *s,
                                     const firn_ice_schema *schema, firn_error *err);
/* The partition tuple type for manifests: a struct of optional result types with the
 * partition field ids and names. */
const firn_ice_type *firn_ice_partition_type(firn_arena *a, const firn_ice_partition_spec *s,
                                             const firn_ice_schema *schema, firn_error *err);
/* Partition values of one row: values[i] is the source value of field i; out[i] the result. */
int firn_ice_partition_apply(const firn_ice_partition_spec *s, const firn_ice_schema *schema,
                             const firn_ice_value *source_values, firn_ice_value *out,
                             firn_error *err);
/* "ts_day=2024-01-01/id_bucket=3": Java's PartitionSpec.partitionToPath, names and values
 * URL-encoded. values are the partition tuple (result types). Appends to out. */
int firn_ice_partition_path(const firn_ice_partition_spec *s, const firn_ice_schema *schema,
                            const firn_ice_value *values, firn_buf *out, firn_error *err);
/* Java's URLEncoder (UTF-8): [A-Za-z0-9.*_-] kept, space -> '+', others %XX. */
void firn_ice_url_encode(const char *s, size_t len, firn_buf *out);

/*
 * Spec evolution (Java's UpdatePartitionSpec): start from a table's current
 * spec, add/remove/rename fields, finish into a new spec. Field ids of
 * equivalent fields (same source and transform) in any of the table's
 * previous specs are reused; new fields get ids after last_partition_id.
 * Removing a field in a v1 table replaces its transform with void.
 */
typedef struct firn_ice_spec_builder firn_ice_spec_builder;

firn_ice_spec_builder *firn_ice_spec_builder_new(const firn_ice_schema *schema,
                                                 const firn_ice_partition_spec *base,
                                                 const firn_ice_partition_spec *const *history,
                                                 size_t nhistory, int32_t last_partition_id,
                                                 int format_version);
void firn_ice_spec_builder_free(firn_ice_spec_builder *b);
/* name NULL: Java's default name (id, id_bucket, name_trunc, ts_year/_month/_day/_hour). */
int firn_ice_spec_builder_add(firn_ice_spec_builder *b, const char *source_name,
                              const firn_ice_transform *t, const char *name, firn_error *err);
int firn_ice_spec_builder_remove(firn_ice_spec_builder *b, const char *name, firn_error *err);
int firn_ice_spec_builder_rename(firn_ice_spec_builder *b, const char *name, const char *new_name,
                                 firn_error *err);
/* The new spec with spec_id; *last_partition_id receives the updated value. */
firn_ice_partition_spec *firn_ice_spec_builder_finish(firn_ice_spec_builder *b, firn_arena *a,
                                                      int32_t spec_id, int32_t *last_partition_id,
                                                      firn_error *err);

/* ============================================================ sort orders */

typedef enum firn_ice_sort_direction { FIRN_ICE_ASC = 1, FIRN_ICE_DESC } firn_ice_sort_direction;
typedef enum firn_ice_null_order {
    FIRN_ICE_NULLS_FIRST = 1,
    FIRN_ICE_NULLS_LAST
} firn_ice_null_order;

typedef struct firn_ice_sort_field {
    firn_ice_transform transform;
    int32_t source_id;
    firn_ice_sort_direction direction;
    firn_ice_null_order null_order;
} firn_ice_sort_field;

typedef struct firn_ice_sort_order {
    int32_t order_id;
    size_t nfields;
    const firn_ice_sort_field *fields;
    const char *extra_json;
} firn_ice_sort_order;

firn_ice_sort_order *firn_ice_sort_order_new(firn_arena *a, int32_t order_id,
                                             const firn_ice_sort_field *fields, size_t n);
/* Order id 0, no fields. */
firn_ice_sort_order *firn_ice_sort_order_unsorted(firn_arena *a);
firn_ice_sort_order *firn_ice_sort_order_from_json(firn_arena *a, const struct json_t *j,
                                                   const char *path, firn_error *err);
struct json_t *firn_ice_sort_order_to_json(const firn_ice_sort_order *o);
firn_ice_sort_order *firn_ice_sort_order_copy(firn_arena *a, const firn_ice_sort_order *o);
bool firn_ice_sort_order_same_fields(const firn_ice_sort_order *a, const firn_ice_sort_order *b);
/* Sources exist and are primitive, transforms apply. */
int firn_ice_sort_order_validate(const firn_ice_sort_order *o, const firn_ice_schema *schema,
                                 firn_error *err);

/* ================================================== snapshots and refs */

typedef struct firn_ice_kv {
    const char *key;
    const char *value;
} firn_ice_kv;

typedef struct firn_ice_snapshot {
    int64_t snapshot_id;
    bool has_parent;
    int64_t parent_snapshot_id;
    int64_t sequence_number; /* 0 for v1 snapshots */
    int64_t timestamp_ms;
    const char *manifest_list; /* NULL only for v1 snapshots that embed "manifests" */
    size_t nmanifests;
    const char *const *manifests; /* v1 only */
    size_t nsummary;
    const firn_ice_kv *summary; /* string map; "operation" first when present */
    bool has_schema_id;
    int32_t schema_id;
    const char *extra_json; /* unknown keys (v3 first-row-id, key-id, ...), or NULL */
} firn_ice_snapshot;

/* The summary's "operation" (append, replace, overwrite, delete) or NULL. */
const char *firn_ice_snapshot_operation(const firn_ice_snapshot *s);
const char *firn_ice_snapshot_summary_get(const firn_ice_snapshot *s, const char *key);
firn_ice_snapshot *firn_ice_snapshot_from_json(firn_arena *a, const struct json_t *j,
                                               const char *path, firn_error *err);
struct json_t *firn_ice_snapshot_to_json(const firn_ice_snapshot *s);
firn_ice_snapshot *firn_ice_snapshot_copy(firn_arena *a, const firn_ice_snapshot *s);

typedef enum firn_ice_ref_type { FIRN_ICE_REF_BRANCH = 1, FIRN_ICE_REF_TAG } firn_ice_ref_type;

/* Retention fields are -1 when unset. */
typedef struct firn_ice_ref {
    const char *name;
    int64_t snapshot_id;
    firn_ice_ref_type type;
    int32_t min_snapshots_to_keep;
    int64_t max_snapshot_age_ms;
    int64_t max_ref_age_ms;
    const char *extra_json;
} firn_ice_ref;

#define FIRN_ICE_MAIN_BRANCH "main"

/* A branch or tag with no retention settings. */
static inline firn_ice_ref firn_ice_ref_make(const char *name, int64_t snapshot_id,
                                             firn_ice_ref_type type) {
    firn_ice_ref r = {name, snapshot_id, type, -1, -1, -1, NULL};
    return r;
}
firn_ice_ref *firn_ice_ref_from_json(firn_arena *a, const char *name, const struct json_t *j,
                                     const char *path, firn_error *err);
struct json_t *firn_ice_ref_to_json(const firn_ice_ref *r);
/* Checks retention fields are positive and tags carry no branch-only fields. */
int firn_ice_ref_validate(const firn_ice_ref *r, firn_error *err);

/* ========================================================= table metadata */

typedef struct firn_ice_snapshot_log_entry {
    int64_t timestamp_ms;
    int64_t snapshot_id;
} firn_ice_snapshot_log_entry;

typedef struct firn_ice_metadata_log_entry {
    int64_t timestamp_ms;
    const char *metadata_file;
} firn_ice_metadata_log_entry;

/*
 * Table metadata (vN.metadata.json), read-only to callers: change it only
 * through the update functions below. Arrays are in file order.
 */
typedef struct firn_ice_metadata {
    int format_version;
    char table_uuid[37]; /* lowercase; "" when a v1 file had none */
    const char *location;
    int64_t last_sequence_number;
    int64_t last_updated_ms;
    int32_t last_column_id;
    size_t nschemas;
    firn_ice_schema **schemas;
    int32_t current_schema_id;
    size_t nspecs;
    firn_ice_partition_spec **specs;
    int32_t default_spec_id;
    int32_t last_partition_id;
    size_t nsort_orders;
    firn_ice_sort_order **sort_orders;
    int32_t default_sort_order_id;
    size_t nproperties;
    firn_ice_kv *properties;
    int64_t current_snapshot_id; /* -1 when none */
    size_t nsnapshots;
    firn_ice_snapshot **snapshots;
    size_t nsnapshot_log;
    firn_ice_snapshot_log_entry *snapshot_log;
    size_t nmetadata_log;
    firn_ice_metadata_log_entry *metadata_log;
    size_t nrefs;
    firn_ice_ref **refs; /* "main" present iff current_snapshot_id != -1 */
    const char *statistics_json;           /* JSON array text, kept intact, or NULL */
    const char *partition_statistics_json; /* JSON array text, kept intact, or NULL */
    const char *extra_json; /* unknown top-level keys, re-emitted on write, or NULL */

    /* private */
    firn_arena arena;
    size_t cap_schemas, cap_specs, cap_sort_orders, cap_properties, cap_snapshots,
        cap_snapshot_log, cap_metadata_log, cap_refs;
    int32_t last_added_schema_id, last_added_spec_id, last_added_sort_order_id; /* -1: none */
} firn_ice_metadata;

/*
 * Parse and validate metadata JSON (v1 or v2). The bulk of a long history
 * (snapshots with their summaries, snapshot-log, metadata-log) is read by a
 * single-pass parser straight into the metadata's arena; the small rest
 * (schemas, specs, sort orders, properties, refs, statistics, unknown keys) and
 * anything unusual go through jansson. Any input the fast path does not take
 * (malformed JSON, a wrong type, an unknown snapshot key, ...) is parsed again by
 * firn_ice_metadata_parse_jansson, so what is accepted, the result and every
 * error (kind and message) are those of the jansson parser.
 */
firn_ice_metadata *firn_ice_metadata_parse(const char *text, size_t len, firn_error *err);
/* The fast path alone: the metadata, or NULL when it declines the input (any
 * error, or anything it hands over). Never accepts what the jansson path rejects;
 * for tests, fuzzers and benchmarks. */
firn_ice_metadata *firn_ice_metadata_parse_fast(const char *text, size_t len);
/* The reference path alone: json_loadb, then firn_ice_metadata_from_json. */
firn_ice_metadata *firn_ice_metadata_parse_jansson(const char *text, size_t len, firn_error *err);
firn_ice_metadata *firn_ice_metadata_from_json(const struct json_t *j, firn_error *err);
/* Check the invariants the parser checks (ids resolve, main == current-snapshot-id, ...). */
int firn_ice_metadata_validate(const firn_ice_metadata *md, firn_error *err);
struct json_t *firn_ice_metadata_to_json(const firn_ice_metadata *md);
#define FIRN_ICE_JSON_PRETTY 1
/* Metadata JSON text, malloc'd, compact (or indented with FIRN_ICE_JSON_PRETTY). */
char *firn_ice_metadata_to_string(const firn_ice_metadata *md, int flags, size_t *len,
                                  firn_error *err);
/* A deep copy (made by a JSON round trip: O(size of the metadata)). */
firn_ice_metadata *firn_ice_metadata_copy(const firn_ice_metadata *md, firn_error *err);
void firn_ice_metadata_free(firn_ice_metadata *md);

/*
 * A new table's metadata: a fresh uuid, the schema with fresh ids (schema id
 * 0), the spec and sort order rebound to those ids by column name (spec id 0,
 * partition field ids from 1000; order id 1, or 0 when unsorted), no
 * snapshots. spec and order may be NULL (unpartitioned, unsorted); their
 * source ids refer to schema's ids. location must be absolute (with a scheme
 * or a leading '/'); a trailing '/' is dropped.
 */
firn_ice_metadata *firn_ice_metadata_new(const firn_ice_schema *schema,
                                         const firn_ice_partition_spec *spec,
                                         const firn_ice_sort_order *order, const char *location,
                                         const firn_ice_kv *properties, size_t nproperties,
                                         int format_version, int64_t now_ms, firn_error *err);

/* Lookups (NULL when absent). */
const firn_ice_schema *firn_ice_metadata_schema(const firn_ice_metadata *md, int32_t schema_id);
const firn_ice_schema *firn_ice_metadata_current_schema(const firn_ice_metadata *md);
const firn_ice_partition_spec *firn_ice_metadata_spec(const firn_ice_metadata *md,
                                                      int32_t spec_id);
const firn_ice_partition_spec *firn_ice_metadata_default_spec(const firn_ice_metadata *md);
const firn_ice_sort_order *firn_ice_metadata_sort_order(const firn_ice_metadata *md,
                                                        int32_t order_id);
const firn_ice_sort_order *firn_ice_metadata_default_sort_order(const firn_ice_metadata *md);
const firn_ice_snapshot *firn_ice_metadata_snapshot(const firn_ice_metadata *md,
                                                    int64_t snapshot_id);
const firn_ice_snapshot *firn_ice_metadata_current_snapshot(const firn_ice_metadata *md);
const firn_ice_ref *firn_ice_metadata_ref(const firn_ice_metadata *md, const char *name);
const char *firn_ice_metadata_property(const firn_ice_metadata *md, const char *key);
int64_t firn_ice_metadata_property_int(const firn_ice_metadata *md, const char *key,
                                       int64_t dflt);

/* A random version 4 uuid, and a positive snapshot id unused in md (Java's scheme). */
void firn_ice_uuid4(uint8_t out[16]);
void firn_ice_uuid_format(const uint8_t u[16], char out[37]);
int firn_ice_uuid_parse(const char *s, uint8_t out[16]);
int64_t firn_ice_metadata_new_snapshot_id(const firn_ice_metadata *md);

/* ---------------------------------------------------------- table updates
 *
 * Each applies one of the spec's/REST protocol's metadata updates in place;
 * on error md is unchanged. Copy first (firn_ice_metadata_copy) to keep the
 * base. Set last-updated-ms (firn_ice_metadata_set_last_updated_ms) before a
 * batch of updates: snapshot-log entries take that time.
 */
void firn_ice_metadata_set_last_updated_ms(firn_ice_metadata *md, int64_t ms);
/* assign-uuid */
int firn_ice_metadata_assign_uuid(firn_ice_metadata *md, const char *uuid, firn_error *err);
/* upgrade-format-version: only upward, at most FIRN_ICE_MAX_FORMAT_VERSION. */
int firn_ice_metadata_upgrade_format_version(firn_ice_metadata *md, int version, firn_error *err);
/* add-schema: reuses the id of a structurally equal schema, else max id + 1; raises
 * last-column-id to the schema's highest id. *schema_id (may be NULL) gets the id. */
int firn_ice_metadata_add_schema(firn_ice_metadata *md, const firn_ice_schema *schema,
                                 int32_t *schema_id, firn_error *err);
/* set-current-schema: -1 means the schema added last. The default spec and sort order
 * must still resolve against it. */
int firn_ice_metadata_set_current_schema(firn_ice_metadata *md, int32_t schema_id,
                                         firn_error *err);
/* add-spec: validated against the current schema; reuses the id of an equivalent spec;
 * raises last-partition-id. */
int firn_ice_metadata_add_partition_spec(firn_ice_metadata *md, const firn_ice_partition_spec *spec,
                                         int32_t *spec_id, firn_error *err);
/* set-default-spec: -1 means the spec added last. */
int firn_ice_metadata_set_default_spec(firn_ice_metadata *md, int32_t spec_id, firn_error *err);
/* add-sort-order: unsorted is 0; reuses the id of an order with the same fields. */
int firn_ice_metadata_add_sort_order(firn_ice_metadata *md, const firn_ice_sort_order *order,
                                     int32_t *order_id, firn_error *err);
int firn_ice_metadata_set_default_sort_order(firn_ice_metadata *md, int32_t order_id,
                                             firn_error *err);
/* add-snapshot: id unused, schema id known, v2 sequence number above last-sequence-number
 * (which it becomes); last-updated-ms becomes the snapshot's timestamp. No ref moves. */
int firn_ice_metadata_add_snapshot(firn_ice_metadata *md, const firn_ice_snapshot *snapshot,
                                   firn_error *err);
/* set-snapshot-ref: the snapshot must exist; main must be a branch. Setting main moves
 * current-snapshot-id and appends to the snapshot log. */
int firn_ice_metadata_set_snapshot_ref(firn_ice_metadata *md, const firn_ice_ref *ref,
                                       firn_error *err);
/* remove-snapshot-ref: removing main clears current-snapshot-id. Absent refs are fine. */
int firn_ice_metadata_remove_snapshot_ref(firn_ice_metadata *md, const char *name,
                                          firn_error *err);
/* remove-snapshots: also drops refs to them, their statistics, and the snapshot-log
 * history up to the last removed entry (as Java does). */
int firn_ice_metadata_remove_snapshots(firn_ice_metadata *md, const int64_t *ids, size_t n,
                                       firn_error *err);
int firn_ice_metadata_set_properties(firn_ice_metadata *md, const firn_ice_kv *kv, size_t n,
                                     firn_error *err);
int firn_ice_metadata_remove_properties(firn_ice_metadata *md, const char *const *keys, size_t n,
                                        firn_error *err);
int firn_ice_metadata_set_location(firn_ice_metadata *md, const char *location, firn_error *err);
/* Record the previous metadata file (a new commit's base) in metadata-log, keeping at most
 * write.metadata.previous-versions-max (default 100) entries. */
int firn_ice_metadata_append_metadata_log(firn_ice_metadata *md, int64_t timestamp_ms,
                                          const char *metadata_file, firn_error *err);
/*
 * Apply one REST TableUpdate object ({"action":"add-schema",...}): assign-uuid,
 * upgrade-format-version, add-schema, set-current-schema, add-spec,
 * set-default-spec, add-sort-order, set-default-sort-order, add-snapshot,
 * set-snapshot-ref, remove-snapshot-ref, remove-snapshots, set-properties,
 * remove-properties, set-location. Others fail with FIRN_ERR_UNSUPPORTED.
 */
int firn_ice_metadata_apply_update_json(firn_ice_metadata *md, const struct json_t *update,
                                        firn_error *err);
/*
 * The REST commit that turns base into next (update_diff.c): *requirements a
 * JSON array of TableRequirements (assert-table-uuid; assert-ref-snapshot-id
 * with base's value for every ref that changes; schema/spec/order ids when
 * those change) and *updates the TableUpdates (add-schema, set-current-schema,
 * add-spec, ..., remove-snapshots, add-snapshot, remove-snapshot-ref,
 * set-snapshot-ref, set-properties, remove-properties, set-location), both new
 * references. metadata-log, snapshot-log and last-updated-ms are the server's
 * to keep. A changed uuid or statistics are FIRN_ERR_UNSUPPORTED.
 */
int firn_ice_metadata_diff(const firn_ice_metadata *base, const firn_ice_metadata *next,
                           struct json_t **requirements, struct json_t **updates, firn_error *err);

/* ======================================================= data files and manifests
 * The content of manifests (manifest.c) and manifest lists (manifest_list.c),
 * shared by the writer, the snapshot producers and scan planning. Field ids in
 * comments are the spec's. Strings and arrays are borrowed (arena-owned by
 * whoever built or read them). */

typedef enum firn_ice_content {
    FIRN_ICE_CONTENT_DATA = 0,
    FIRN_ICE_CONTENT_POSITION_DELETES = 1,
    FIRN_ICE_CONTENT_EQUALITY_DELETES = 2,
} firn_ice_content;

/* One entry of a metrics map keyed by field id (column_sizes, value_counts, ...). */
typedef struct firn_ice_metric {
    int32_t field_id;
    int64_t value;
} firn_ice_metric;

/* One entry of lower_bounds/upper_bounds: the single-value binary form. */
typedef struct firn_ice_bound {
    int32_t field_id;
    const uint8_t *bytes;
    size_t len;
} firn_ice_bound;

typedef struct firn_ice_data_file {
    firn_ice_content content;     /* 134 */
    const char *file_path;        /* 100, full URI (file:/..., s3://...) */
    const char *file_format;      /* 101, "PARQUET" | "AVRO" | "ORC" */
    int32_t spec_id;              /* the spec of the manifest it belongs to */
    size_t npartition;            /* 102: one value per field of that spec, in order */
    const firn_ice_value *partition;
    int64_t record_count;         /* 103 */
    int64_t file_size_in_bytes;   /* 104 */
    size_t ncolumn_sizes;         /* 108 */
    const firn_ice_metric *column_sizes;
    size_t nvalue_counts;         /* 109 */
    const firn_ice_metric *value_counts;
    size_t nnull_value_counts;    /* 110 */
    const firn_ice_metric *null_value_counts;
    size_t nnan_value_counts;     /* 137 */
    const firn_ice_metric *nan_value_counts;
    size_t nlower_bounds;         /* 125 */
    const firn_ice_bound *lower_bounds;
    size_t nupper_bounds;         /* 128 */
    const firn_ice_bound *upper_bounds;
    const uint8_t *key_metadata;  /* 131, NULL when absent */
    size_t key_metadata_len;
    size_t nsplit_offsets;        /* 132 */
    const int64_t *split_offsets;
    size_t nequality_ids;         /* 135 */
    const int32_t *equality_ids;
    bool has_sort_order_id;
    int32_t sort_order_id;        /* 140 */
    const char *referenced_data_file; /* 143, v2 delete files only; NULL when absent */
} firn_ice_data_file;

typedef enum firn_ice_entry_status {
    FIRN_ICE_EXISTING = 0,
    FIRN_ICE_ADDED = 1,
    FIRN_ICE_DELETED = 2,
} firn_ice_entry_status;

/* A manifest_entry. When read, inherited values are filled in (snapshot id and
 * sequence numbers of ADDED entries come from the manifest list entry). */
typedef struct firn_ice_manifest_entry {
    firn_ice_entry_status status;      /* 0 */
    bool has_snapshot_id;
    int64_t snapshot_id;               /* 1 */
    bool has_sequence_number;
    int64_t sequence_number;           /* 3 */
    bool has_file_sequence_number;
    int64_t file_sequence_number;      /* 4 */
    firn_ice_data_file data_file;      /* 2 */
} firn_ice_manifest_entry;

/* field_summary (508) of a manifest list entry, one per partition field. */
typedef struct firn_ice_field_summary {
    bool contains_null;                /* 509 */
    bool has_contains_nan;
    bool contains_nan;                 /* 518 */
    const uint8_t *lower_bound;        /* 510, NULL when absent */
    size_t lower_bound_len;
    const uint8_t *upper_bound;        /* 511 */
    size_t upper_bound_len;
} firn_ice_field_summary;

/* A manifest_file: one entry of a manifest list. */
typedef struct firn_ice_manifest_file {
    const char *manifest_path;         /* 500 */
    int64_t manifest_length;           /* 501, exact bytes */
    int32_t partition_spec_id;         /* 502 */
    firn_ice_content content;          /* 517: DATA (0) or deletes (1) for manifests */
    int64_t sequence_number;           /* 515 */
    int64_t min_sequence_number;       /* 516 */
    int64_t added_snapshot_id;         /* 503 */
    int32_t added_files_count;         /* 504 */
    int32_t existing_files_count;      /* 505 */
    int32_t deleted_files_count;       /* 506 */
    int64_t added_rows_count;          /* 512 */
    int64_t existing_rows_count;       /* 513 */
    int64_t deleted_rows_count;        /* 514 */
    size_t npartitions;                /* 507 */
    const firn_ice_field_summary *partitions;
    const uint8_t *key_metadata;       /* 519 */
    size_t key_metadata_len;
} firn_ice_manifest_file;

/* ==================================================================
 * MANIFESTS AND MANIFEST LISTS (manifest.c, manifest_list.c)
 * ==================================================================
 *
 * Reading and writing the Avro files of the spec's "Manifests" and "Manifest
 * Lists" sections with the exact schemas Java writes (V1Metadata/V2Metadata:
 * record names manifest_entry, r2, r102, k117_v118, manifest_file, r508;
 * field-id/element-id on every field; optional fields ["null", T] with
 * "default": null; metrics maps as arrays with "logicalType": "map") and
 * Java's header keys. Unlike the core of this header these functions do I/O
 * through FileIO (io/io.h) or a caller's byte sink.
 *
 * Sequence numbers: a new manifest is written before its snapshot's sequence
 * number is known. ADDED entries without explicit values are written with
 * null snapshot_id/sequence_number/file_sequence_number and inherit them from
 * the manifest list entry when read; the firn_ice_manifest_file the writer
 * returns has sequence_number = FIRN_ICE_UNASSIGNED_SEQ (and
 * min_sequence_number too when no entry had an explicit data sequence
 * number); the manifest list writer replaces them with the snapshot's
 * sequence number, as Java's ManifestListWriter does.
 */

struct firn_io; /* io/io.h */

/* Manifest sequence number not yet assigned (Java's ManifestWriter.UNASSIGNED_SEQ). */
#define FIRN_ICE_UNASSIGNED_SEQ (-1)
/* firn_ice_manifest_file.content of a delete manifest (data manifests: FIRN_ICE_CONTENT_DATA). */
#define FIRN_ICE_MANIFEST_DELETES 1
/* Java's default block_size_in_bytes written in v1 manifests (64 MiB). */
#define FIRN_ICE_V1_BLOCK_SIZE (64 * 1024 * 1024)

/* Receives a file's bytes in order; returns 0 or a negative error raised in err.
 * (Same signature as firn_avro_write_fn.) */
typedef int (*firn_ice_write_fn)(void *ctx, const void *data, size_t len, firn_error *err);

/* ---------------------------------------------------------- manifest writer */

typedef struct firn_ice_manifest_writer firn_ice_manifest_writer;

/*
 * A manifest at location, created through io without overwrite (a file that
 * exists fails with FIRN_ERR_CONFLICT). format_version 1 or 2; schema is the
 * table schema (header "schema", and the partition field types), spec the
 * partition spec every entry's partition tuple follows; content
 * FIRN_ICE_CONTENT_DATA for a data manifest, either delete content for a
 * delete manifest (v2 only); snapshot_id the snapshot that adds the manifest.
 * schema and spec are copied. Codec deflate (Java's default), see _set_codec.
 * Free with firn_ice_manifest_writer_free().
 */
firn_ice_manifest_writer *firn_ice_manifest_writer_new(struct firn_io *io, const char *location,
                                                       int format_version,
                                                       const firn_ice_schema *schema,
                                                       const firn_ice_partition_spec *spec,
                                                       firn_ice_content content,
                                                       int64_t snapshot_id, firn_error *err);
/* The same sending the bytes to write_fn(ctx, ...); location is only recorded
 * as the manifest_path of the result. */
firn_ice_manifest_writer *firn_ice_manifest_writer_new_fn(firn_ice_write_fn write_fn, void *ctx,
                                                          const char *location,
                                                          int format_version,
                                                          const firn_ice_schema *schema,
                                                          const firn_ice_partition_spec *spec,
                                                          firn_ice_content content,
                                                          int64_t snapshot_id, firn_error *err);
/* Avro codec ("null", "deflate", "zstandard", "snappy") and level (-1: the codec's
 * default); only before the first entry. */
int firn_ice_manifest_writer_set_codec(firn_ice_manifest_writer *w, const char *codec, int level,
                                       firn_error *err);
/*
 * Append one entry (copied). ADDED: has_snapshot_id/has_sequence_number/
 * has_file_sequence_number false write null (inherited on read; in v1 the
 * snapshot id is always written, the writer's when the entry has none).
 * EXISTING and DELETED need an explicit data sequence number in v2 and an
 * explicit snapshot id (a DELETED entry without one gets the writer's, as
 * Java's delete() does). The partition tuple must have one value per spec
 * field of the partition type (or a null of any type); the data file's content
 * must suit the manifest's. On error nothing was written.
 */
int firn_ice_manifest_writer_add(firn_ice_manifest_writer *w, const firn_ice_manifest_entry *entry,
                                 firn_error *err);
/*
 * Finish the file (for io writers: durable and visible at its location) and
 * describe it in *out, allocated in a: path (canonical for io writers), exact
 * manifest_length, spec id, content, counts, partition field summaries
 * (contains_null, contains_nan, lower/upper bounds in single-value binary
 * form), added_snapshot_id, sequence_number FIRN_ICE_UNASSIGNED_SEQ and
 * min_sequence_number (the lowest explicit data sequence number of a live
 * entry, else FIRN_ICE_UNASSIGNED_SEQ).
 */
int firn_ice_manifest_writer_close(firn_ice_manifest_writer *w, firn_arena *a,
                                   firn_ice_manifest_file *out, firn_error *err);
/* NULL-safe. A writer not closed successfully leaves no file behind (io writers). */
void firn_ice_manifest_writer_free(firn_ice_manifest_writer *w);

/* ---------------------------------------------------------- manifest reader */

typedef struct firn_ice_manifest_reader firn_ice_manifest_reader;

/* What a manifest's header says. Pointers are owned by the reader. */
typedef struct firn_ice_manifest_header {
    int format_version;             /* "format-version"; 1 when absent */
    int content;                    /* FIRN_ICE_CONTENT_DATA or FIRN_ICE_MANIFEST_DELETES */
    int32_t partition_spec_id;      /* -1 when absent */
    int32_t schema_id;              /* -1 when absent (Java writes none) */
    const firn_ice_schema *schema;  /* "schema", or NULL when absent */
    const firn_ice_partition_spec *spec; /* "partition-spec" (or set_spec's), or NULL */
    const firn_ice_type *partition_type; /* the struct partition values are read as */
} firn_ice_manifest_header;

/* Open the manifest at location through io (read whole) and parse its header.
 * Free with firn_ice_manifest_reader_free(). */
firn_ice_manifest_reader *firn_ice_manifest_reader_open(struct firn_io *io, const char *location,
                                                        firn_error *err);
/* The same over bytes in memory, which must outlive the reader. */
firn_ice_manifest_reader *firn_ice_manifest_reader_open_mem(const void *data, size_t len,
                                                            firn_error *err);
const firn_ice_manifest_header *firn_ice_manifest_reader_header(const firn_ice_manifest_reader *r);
/* Read partition values with this schema and spec instead of the header's,
 * e.g. from the table metadata: firn_ice_metadata_spec(md, mf->partition_spec_id)
 * and firn_ice_metadata_current_schema(md) (values of promoted columns, int to
 * long or float to double, are widened). Both copied. Without it the header's
 * schema and spec are used, and failing those the Avro schema's own types. */
int firn_ice_manifest_reader_set_spec(firn_ice_manifest_reader *r, const firn_ice_schema *schema,
                                      const firn_ice_partition_spec *spec, firn_error *err);
/*
 * Apply inheritance from the manifest list entry mf (copied values) as Java's
 * InheritableMetadataFactory does: a null snapshot_id becomes
 * mf->added_snapshot_id; null sequence numbers become mf->sequence_number for
 * ADDED entries (and for every entry when it is 0: v1). data_file.spec_id is
 * mf->partition_spec_id. A header partition-spec-id that differs is
 * FIRN_ERR_CORRUPT.
 */
int firn_ice_manifest_reader_inherit(firn_ice_manifest_reader *r, const firn_ice_manifest_file *mf,
                                     firn_error *err);
/* Skip the metrics maps (108-110, 137, 125, 128) without decoding them (Avro
 * projection), e.g. for scan planning without filters; false reads them again. */
int firn_ice_manifest_reader_skip_stats(firn_ice_manifest_reader *r, bool skip, firn_error *err);
/* The next entry into *out, its strings and arrays allocated in a. Returns 1,
 * 0 at the end, or a negative error (FIRN_ERR_CORRUPT naming the entry and
 * field for malformed data). */
int firn_ice_manifest_reader_next(firn_ice_manifest_reader *r, firn_arena *a,
                                  firn_ice_manifest_entry *out, firn_error *err);
void firn_ice_manifest_reader_free(firn_ice_manifest_reader *r);

/* ----------------------------------------------------- manifest list writer */

typedef struct firn_ice_manifest_list_writer firn_ice_manifest_list_writer;

/*
 * The manifest list of snapshot snapshot_id (parent_snapshot_id -1: none,
 * written "null"), whose sequence number is sequence_number (v2; ignored in v1),
 * created at location through io without overwrite. Header keys as Java's:
 * snapshot-id, parent-snapshot-id, sequence-number (v2), format-version.
 */
firn_ice_manifest_list_writer *firn_ice_manifest_list_writer_new(
    struct firn_io *io, const char *location, int format_version, int64_t snapshot_id,
    int64_t parent_snapshot_id, int64_t sequence_number, firn_error *err);
firn_ice_manifest_list_writer *firn_ice_manifest_list_writer_new_fn(
    firn_ice_write_fn write_fn, void *ctx, int format_version, int64_t snapshot_id,
    int64_t parent_snapshot_id, int64_t sequence_number, firn_error *err);
int firn_ice_manifest_list_writer_set_codec(firn_ice_manifest_list_writer *w, const char *codec,
                                            int level, firn_error *err);
/*
 * Append one manifest. A manifest whose sequence_number is
 * FIRN_ICE_UNASSIGNED_SEQ must have been added by this snapshot
 * (added_snapshot_id == snapshot_id) and gets the list's sequence number, as
 * does its min_sequence_number when unassigned; carried-over manifests keep
 * theirs. *written (may be NULL) gets mf as written (pointers shared with mf).
 */
int firn_ice_manifest_list_writer_add(firn_ice_manifest_list_writer *w,
                                      const firn_ice_manifest_file *mf,
                                      firn_ice_manifest_file *written, firn_error *err);
/* Finish the file; *length (may be NULL) gets its exact size. */
int firn_ice_manifest_list_writer_close(firn_ice_manifest_list_writer *w, uint64_t *length,
                                        firn_error *err);
void firn_ice_manifest_list_writer_free(firn_ice_manifest_list_writer *w);

/* ----------------------------------------------------- manifest list reader */

typedef struct firn_ice_manifest_list_header {
    int format_version;          /* "format-version"; else 2 when the schema has field 515, else 1 */
    int64_t snapshot_id;         /* -1 when absent */
    int64_t parent_snapshot_id;  /* -1 when absent or "null" */
    int64_t sequence_number;     /* 0 when absent (v1) */
} firn_ice_manifest_list_header;

/*
 * Every manifest_file of the manifest list at location, allocated in a
 * (*out, *n). v1 lists read with sequence numbers 0 and content DATA; counts
 * a v1 list left null read as -1 (unknown: the spec says assume non-zero).
 * hdr may be NULL.
 */
int firn_ice_manifest_list_read(struct firn_io *io, const char *location, firn_arena *a,
                                firn_ice_manifest_file **out, size_t *n,
                                firn_ice_manifest_list_header *hdr, firn_error *err);
int firn_ice_manifest_list_read_mem(const void *data, size_t len, firn_arena *a,
                                    firn_ice_manifest_file **out, size_t *n,
                                    firn_ice_manifest_list_header *hdr, firn_error *err);
/*
 * The manifests of snapshot snap, allocated in a: its manifest list's entries,
 * or for a v1 snapshot that embeds a "manifests" array instead (early Java
 * tables) one entry per location as Java's BaseSnapshot makes them: the exact
 * file length, the header's partition-spec-id (0 when absent) and content,
 * sequence numbers 0, added_snapshot_id = the snapshot's, every count -1
 * (unknown), no partition summaries. Each embedded manifest's header is read.
 */
int firn_ice_snapshot_manifest_files(struct firn_io *io, const firn_ice_snapshot *snap,
                                     firn_arena *a, firn_ice_manifest_file **out, size_t *n,
                                     firn_error *err);
/* ============================================ end of MANIFESTS AND MANIFEST LISTS */

/* ==================================================================
 * TABLES AND THE DATA WRITER (table.c, data_writer.c)
 * ==================================================================
 *
 * Table operations on a catalog (catalog/catalog.h): create, load, commit
 * metadata with compare-and-swap and retries, multi-table commits, refs.
 * Unlike the rest of this header these functions do I/O: metadata files go
 * through FileIO (io/io.h), the catalog holds the current metadata location.
 *
 * Metadata files: <location>/metadata/<NNNNN>-<uuid>.metadata.json (or under
 * the table property write.metadata.path), NNNNN the version parsed from the
 * base file's name plus one, zero-padded to 5 digits (Java's
 * BaseMetastoreTableOperations; a base name without a version, such as a
 * file-system table's v3.metadata.json, gives version 0 as in Java). Files
 * are created without overwrite and never renamed.
 *
 * After each successful commit (best effort: the catalog is the truth):
 *  - metadata/version-hint.text holds the new file's name without
 *    ".metadata.json" ("00003-6f0c...-...."), no newline. Java's file-system
 *    tables write a bare integer N for vN.metadata.json, which names no file
 *    of a catalog table; DuckDB reads the hint and tries v<hint>.metadata.json,
 *    then <hint>.metadata.json - the second finds our file. FileIO never
 *    overwrites, so the old hint is deleted and a new one created (the only
 *    file firn replaces; it is not table data); when committers race, the
 *    hint naming the higher version is kept.
 *  - with write.metadata.delete-after-commit.enabled=true the metadata files
 *    that fell off the metadata-log (write.metadata.previous-versions-max) are
 *    deleted, as Java's CatalogUtil.deleteRemovedMetadataFiles does.
 *
 * Crash points (firn_io_crash_point, FIRN_CRASH_AT=<name>):
 *   create.after-metadata-write, create.after-catalog-insert,
 *   commit.after-metadata-write, commit.after-catalog-swap,
 *   commit.after-version-hint, commit.after-metadata-cleanup,
 *   write.after-data-files (firn_ice_data_writer_close, all files published).
 */

struct firn_catalog;        /* catalog/catalog.h */
struct firn_io;             /* io/io.h */
struct firn_pq_column_data; /* parquet/parquet.h */

/*
 * Properties firn sets on every table it creates (the caller's properties
 * override them):
 *   write.parquet.compression-codec=zstd           Java's default since 1.4; written
 *       down so that older engines writing the table use it too
 *   write.metadata.delete-after-commit.enabled=true   the metadata directory stays
 *       bounded (Java's default is false)
 *   write.metadata.previous-versions-max=100       Java's default: the log costs ~150
 *       bytes an entry, small next to the snapshot list, and it is the window in
 *       which older metadata files stay readable (time travel by metadata file,
 *       icebird's metadataFileName, resolving an unknown commit outcome)
 *   commit.manifest-merge.enabled=true             Java's default, explicit
 *   write.target-file-size-bytes=536870912         Java's default (512 MiB), explicit
 */
extern const firn_ice_kv firn_ice_table_default_properties[];
extern const size_t firn_ice_table_ndefault_properties;

/* A table as loaded from a catalog. Read-only to callers; commits replace
 * metadata and metadata_location. */
typedef struct firn_ice_table {
    struct firn_catalog *catalog;  /* borrowed: must outlive the table */
    char *ns;                      /* namespace ("a.b") */
    char *name;
    char *metadata_location;       /* current metadata file, canonical URI */
    firn_ice_metadata *metadata;   /* parsed current metadata */
    struct firn_io *io;            /* FileIO for the table's files */
    /* private (producer.c): the manifest list this handle committed last, decoded,
     * so that the next commit on top of it does not read it back */
    struct firn_ice_list_cache *list_cache;
} firn_ice_table;

typedef struct firn_ice_table_options {
    const char *location;          /* NULL: firn_cat_default_location() */
    const firn_ice_kv *properties; /* over firn's defaults */
    size_t nproperties;
    int format_version;            /* 0: 2 */
} firn_ice_table_options;

/*
 * Create table ns.name: metadata from firn_ice_metadata_new (fresh ids,
 * spec/order rebound by column name; either may be NULL), the first metadata
 * file 00000-<uuid>.metadata.json written without overwrite, then the catalog
 * row. A name already taken fails with FIRN_ERR_CONFLICT (not retriable) and
 * the metadata file just written is deleted. *out is freed with
 * firn_ice_table_free(). opts may be NULL.
 */
int firn_ice_table_create(struct firn_catalog *cat, const char *ns, const char *name,
                          const firn_ice_schema *schema, const firn_ice_partition_spec *spec,
                          const firn_ice_sort_order *order, const firn_ice_table_options *opts,
                          firn_ice_table **out, firn_error *err);
/* Catalog -> metadata location -> parsed metadata. */
int firn_ice_table_load(struct firn_catalog *cat, const char *ns, const char *name,
                        firn_ice_table **out, firn_error *err);
/* Reload from the catalog (a no-op read when the location did not change). */
int firn_ice_table_refresh(firn_ice_table *t, firn_error *err);
void firn_ice_table_free(firn_ice_table *t);

/* The version in a metadata file name ("…/00012-<uuid>.metadata.json" -> 12,
 * Java's parseVersion); -1 when the name has no "NNNNN-" prefix. */
int firn_ice_metadata_file_version(const char *location);
/* Directory of metadata files: write.metadata.path or <location>/metadata,
 * no trailing '/'. Allocated in a. */
const char *firn_ice_metadata_dir(const firn_ice_metadata *md, firn_arena *a);

/* ---------------------------------------------------------------- commits */

typedef enum firn_ice_commit_state {
    FIRN_ICE_COMMIT_FAILED = 0,  /* certainly not committed: new files may go */
    FIRN_ICE_COMMIT_DONE = 1,
    FIRN_ICE_COMMIT_UNKNOWN = 2, /* the catalog failed mid-commit: keep every file */
} firn_ice_commit_state;

/*
 * A change to a table, as a callback so that a commit can re-apply it on a
 * newer base after losing a race: apply() changes md (a fresh copy of the
 * current metadata, last-updated-ms already set to now) and fails when the
 * change no longer makes sense on that base (then the commit fails, without
 * retry). apply may be called several times, once per attempt, each time on a
 * new copy. finish (optional) is called once when the commit is over, e.g. to
 * delete files written by attempts that did not land.
 */
typedef struct firn_ice_update {
    int (*apply)(void *ctx, firn_ice_metadata *md, firn_error *err);
    void (*finish)(void *ctx, firn_ice_commit_state state);
    void *ctx;
} firn_ice_update;

typedef struct firn_ice_commit_info {
    int attempts;
    firn_ice_commit_state state;
    /* The metadata file written by the last attempt (DONE or UNKNOWN; in a
     * multi-table commit, the first table's), "" when none. */
    char metadata_location[1024];
} firn_ice_commit_info;

/*
 * Apply updates (in order) to t's current metadata, append the base file to
 * metadata-log, write <version+1>-<uuid>.metadata.json, CAS in the catalog.
 * On a lost race (FIRN_ERR_CONFLICT, retriable) the new file is deleted, the
 * table reloaded and the updates re-applied, with Java's retry policy from
 * the table's commit.retry.* properties (firn_cat_retry). A definite failure
 * deletes the new file; an unknown outcome never does (the table is
 * reloaded: if the catalog points at the new file the commit succeeded). On
 * success t holds the new metadata. info may be NULL.
 */
int firn_ice_table_commit(firn_ice_table *t, const firn_ice_update *updates, size_t n,
                          firn_ice_commit_info *info, firn_error *err);

/* One table's part of a multi-table commit. */
typedef struct firn_ice_table_change {
    firn_ice_table *table;
    const firn_ice_update *updates;
    size_t nupdates;
} firn_ice_table_change;

/* Several tables of one catalog, all or none (firn_cat_commit_tables): any
 * stale table makes every table reload, re-apply and retry. info may be NULL. */
int firn_ice_table_commit_multi(const firn_ice_table_change *changes, size_t n,
                                firn_ice_commit_info *info, firn_error *err);

/* Ready-made update: set and remove properties (arrays must outlive the commit). */
typedef struct firn_ice_properties_update {
    const firn_ice_kv *set;
    size_t nset;
    const char *const *remove;
    size_t nremove;
} firn_ice_properties_update;
firn_ice_update firn_ice_update_properties(const firn_ice_properties_update *pu);

/* -------------------------------------------------------------------- refs */

typedef enum firn_ice_ref_op {
    FIRN_ICE_REF_CREATE = 1,     /* name must not exist */
    FIRN_ICE_REF_REPLACE,        /* name must exist with the same type */
    FIRN_ICE_REF_REMOVE,         /* name must exist with the same type; never main */
    FIRN_ICE_REF_FAST_FORWARD,   /* move branch name to source's snapshot, only when name's
                                    snapshot is an ancestor of it (name absent: created) */
} firn_ice_ref_op;

typedef struct firn_ice_ref_update {
    firn_ice_ref_op op;
    firn_ice_ref_type type;  /* branch or tag (create, replace, remove) */
    const char *name;
    int64_t snapshot_id;     /* create, replace: -1 = the table's current snapshot */
    const char *source;      /* fast-forward: the ref whose snapshot name moves to */
} firn_ice_ref_update;

/*
 * Apply a ref change to md (Java's UpdateSnapshotReferencesOperation rules).
 * A fast-forward whose target is not an ancestor of the source fails with
 * FIRN_ERR_CONFLICT, retriable=false ("main has moved"); other misuse with
 * FIRN_ERR_INVALID or FIRN_ERR_NOT_FOUND.
 */
int firn_ice_metadata_apply_ref_update(firn_ice_metadata *md, const firn_ice_ref_update *ru,
                                       firn_error *err);
/* The same as a re-appliable update (ru must outlive the commit), e.g. for a
 * multi-table WAP publish. */
firn_ice_update firn_ice_update_ref(const firn_ice_ref_update *ru);
/* Commit one ref change to t. */
int firn_ice_table_update_ref(firn_ice_table *t, const firn_ice_ref_update *ru, firn_error *err);
/* Whether ancestor_id is snapshot_id or one of its parents in md. */
bool firn_ice_metadata_is_ancestor(const firn_ice_metadata *md, int64_t ancestor_id,
                                   int64_t snapshot_id);

/* ------------------------------------------------------------- data writer */

/*
 * Writes rows of a table's current schema (flat, primitive columns) into
 * Parquet data files, one open file per partition value of the default spec,
 * rolling to a new file at write.target-file-size-bytes, and returns the
 * data_file records a snapshot producer commits.
 *
 * Files: <write.data.path or <location>/data>/<partition path>/
 *   <PPPPP>-0-<writer uuid>-<FFFFF>.parquet (Java's OutputFileFactory shape),
 * written through FileIO (never overwriting). Parquet columns carry the field
 * ids, names and requiredness; the footer key "iceberg.schema" holds the
 * schema JSON. Table properties read:
 *   write.parquet.compression-codec   zstd|snappy|gzip|lz4_raw|uncompressed (Java names;
 *                                     "lz4" (Hadoop framing), lzo, brotli: unsupported)
 *   write.parquet.compression-level   codec level (default: codec default)
 *   write.parquet.row-group-size-bytes  default 134217728
 *   write.parquet.page-size-bytes     default 1048576
 *   write.parquet.page-row-limit      default 20000
 *   write.parquet.dict-size-bytes     default 2097152
 *   write.target-file-size-bytes      default 536870912
 *   write.metadata.metrics.default    none|counts|truncate(N)|full, default truncate(16)
 *   write.metadata.metrics.column.<name>  per column, same values
 *   write.metadata.metrics.max-inferred-column-defaults  default 100 (Java: without an
 *                                     explicit default, columns past the first 100 get none)
 *   write.parquet.media-columns       firn's own: comma-separated binary/string column
 *                                     names holding already-compressed media (JPEG/PNG):
 *                                     written uncompressed, no dictionary, no bounds.
 *                                     A field whose doc contains "[media]" counts too.
 * Metrics follow Java's ParquetMetrics: none = no entry in any map (column
 * sizes included); counts = column size, value, null and (float/double) NaN
 * counts; truncate(N) adds bounds with strings/binaries truncated to N code
 * points/bytes (the upper bound rounded up, or dropped); full = untruncated
 * bounds. Sorted columns (identity in the default sort order) get at least
 * truncate(16), as in Java. An invalid mode is an error (Java warns and falls
 * back; firn prefers to say so).
 */
typedef struct firn_ice_data_writer firn_ice_data_writer;

typedef struct firn_ice_data_writer_options {
    int64_t target_file_size; /* 0: the table's write.target-file-size-bytes */
    const char *data_location; /* NULL: write.data.path or <location>/data */
} firn_ice_data_writer_options;

/* A writer for md's current schema and default spec. md and io are borrowed
 * (must outlive the writer). opts may be NULL. */
firn_ice_data_writer *firn_ice_data_writer_new(const firn_ice_metadata *md, struct firn_io *io,
                                               const firn_ice_data_writer_options *opts,
                                               firn_error *err);
/*
 * Append nrows rows: cols[i] holds the values of the schema's i-th field in
 * parquet.h's layout (decimals: int32/int64 unscaled values for precision
 * <= 9 / <= 18, else big-endian fixed-width bytes; uuids 16 bytes). A failure
 * aborts the writer: every file written so far is deleted.
 */
int firn_ice_data_writer_write(firn_ice_data_writer *w, const struct firn_pq_column_data *cols,
                               size_t nrows, firn_error *err);
/*
 * Finish every open file; *files gets the data files (in the order they were
 * finished; memory owned by the writer, valid until firn_ice_data_writer_free).
 * On failure every file is deleted.
 */
int firn_ice_data_writer_close(firn_ice_data_writer *w, const firn_ice_data_file **files,
                               size_t *nfiles, firn_error *err);
/* Delete every file written or being written (also after a successful close:
 * a commit that failed definitely). */
void firn_ice_data_writer_abort(firn_ice_data_writer *w);
/* Free; a writer not closed is aborted first. NULL-safe. */
void firn_ice_data_writer_free(firn_ice_data_writer *w);
/* Rows written so far. */
uint64_t firn_ice_data_writer_rows(const firn_ice_data_writer *w);


/* ==================================================================
 * SCAN: filter expressions (expr.c) and table scans (scan.c)
 * ==================================================================
 *
 * Expressions are trees over column names: comparisons (= != < <= > >=),
 * in / not in, is null / is not null, and, or, not. An unbound tree names
 * columns and holds literals as text; binding to a schema resolves names to
 * field ids, converts literals to the column's type (firn_ice_value_parse:
 * ISO timestamps/dates, numbers, booleans, quoted strings) and pushes every
 * NOT down to the leaves, so a bound tree has no NOT node.
 *
 * Row semantics are SQL's three-valued logic: a comparison with a null
 * column value is unknown, NOT of unknown is unknown, and a row is returned
 * only when the filter is true. So "x != 5" and "not (x = 5)" both exclude
 * rows where x is null (Spark, Trino, DuckDB agree). Floats order by the
 * spec's total order (NaN above +Inf). Trees live in a caller's arena.
 */
typedef enum firn_ice_expr_op {
    FIRN_ICE_EXPR_TRUE = 1,
    FIRN_ICE_EXPR_FALSE,
    FIRN_ICE_EXPR_AND,
    FIRN_ICE_EXPR_OR,
    FIRN_ICE_EXPR_NOT,      /* unbound trees only */
    FIRN_ICE_EXPR_EQ,
    FIRN_ICE_EXPR_NE,
    FIRN_ICE_EXPR_LT,
    FIRN_ICE_EXPR_LE,
    FIRN_ICE_EXPR_GT,
    FIRN_ICE_EXPR_GE,
    FIRN_ICE_EXPR_IN,
    FIRN_ICE_EXPR_NOT_IN,
    FIRN_ICE_EXPR_IS_NULL,
    FIRN_ICE_EXPR_NOT_NULL,
} firn_ice_expr_op;

/* A literal as written: kind of token and its text (unquoted, '' unescaped). */
typedef enum firn_ice_literal_kind {
    FIRN_ICE_LIT_STRING = 1, /* 'quoted' */
    FIRN_ICE_LIT_NUMBER,     /* 12, -3.5, 1e9 */
    FIRN_ICE_LIT_BOOL,       /* true, false */
    FIRN_ICE_LIT_NULL,       /* null (rejected when bound: use is null) */
} firn_ice_literal_kind;

typedef struct firn_ice_literal {
    firn_ice_literal_kind kind;
    const char *text;
    size_t len;
    size_t pos; /* 1-based position in the parsed text, 0 when built in code */
} firn_ice_literal;

typedef struct firn_ice_expr {
    firn_ice_expr_op op;
    struct firn_ice_expr *left, *right; /* and/or: both; not: left */
    /* leaves */
    const char *column;                 /* as written (unbound) or full name (bound) */
    size_t pos;                         /* 1-based position of the column in the text */
    size_t nliterals;                   /* 1 for comparisons, >= 1 for in / not in */
    const firn_ice_literal *literals;   /* unbound */
    int32_t field_id;                   /* bound: the column's id, else 0 */
    const firn_ice_type *type;          /* bound: the column's type */
    const firn_ice_value *values;       /* bound: nliterals values of that type */
} firn_ice_expr;

/*
 * Parse a --where text:
 *   expr := or ; or := and ('or' and)* ; and := unary ('and' unary)*
 *   unary := 'not' unary | '(' expr ')' | 'true' | 'false' | predicate
 *   predicate := column (op literal | ['not'] 'in' '(' literal, ... ')' |
 *                'is' ['not'] 'null')
 * Keywords are case-insensitive; columns are names or dotted names, or
 * "double quoted"; strings 'single quoted' ('' for a quote). Errors are
 * FIRN_ERR_INVALID with a message naming the 1-based position, e.g.
 * "--where: position 14: expected a value after '>=', found ')'".
 */
firn_ice_expr *firn_ice_expr_parse(firn_arena *a, const char *text, firn_error *err);

/* Constructors for code (strings copied into a). */
firn_ice_expr *firn_ice_expr_const(firn_arena *a, bool value);
firn_ice_expr *firn_ice_expr_and(firn_arena *a, firn_ice_expr *l, firn_ice_expr *r);
firn_ice_expr *firn_ice_expr_or(firn_arena *a, firn_ice_expr *l, firn_ice_expr *r);
firn_ice_expr *firn_ice_expr_not(firn_arena *a, firn_ice_expr *e);
/* A leaf; literals (copied) are nliterals texts, each of kind kinds[i]. */
firn_ice_expr *firn_ice_expr_predicate(firn_arena *a, firn_ice_expr_op op, const char *column,
                                       const firn_ice_literal *literals, size_t nliterals);

/*
 * Bind e to schema (top-level and nested struct fields by dotted name;
 * case_sensitive=false folds ASCII case) into a new tree in a, with NOT pushed
 * to the leaves and constant subtrees folded. Unknown columns, literals that
 * are not values of the column's type, comparisons on nested types and
 * "= null" are FIRN_ERR_INVALID naming the column and position.
 */
firn_ice_expr *firn_ice_expr_bind(firn_arena *a, const firn_ice_expr *e,
                                  const firn_ice_schema *schema, bool case_sensitive,
                                  firn_error *err);
/* Whether a tree is bound (leaves carry field ids and values). */
bool firn_ice_expr_is_bound(const firn_ice_expr *e);
/* Human form ("(slot >= 3 and carId in ('a', 'b'))"); appends to out. */
void firn_ice_expr_to_string(const firn_ice_expr *e, firn_buf *out);
/* Field ids a bound tree reads (each once) into ids (capacity max); returns how many
 * (may exceed max: then only max were written). */
size_t firn_ice_expr_field_ids(const firn_ice_expr *e, int32_t *ids, size_t max);

/* Columns of a batch of rows for evaluation: column i has field id
 * field_ids[i], type types[i] (primitive) and values cols[i] in parquet.h's layout. */
typedef struct firn_ice_expr_columns {
    size_t ncolumns;
    const int32_t *field_ids;
    const firn_ice_type *const *types;
    const struct firn_pq_column_data *cols;
} firn_ice_expr_columns;

/*
 * Evaluate bound e on nrows rows: sel[i] = 1 when row i matches (true), 0
 * when false or unknown. A leaf whose column is not in c is an error
 * (FIRN_ERR_INVALID).
 */
int firn_ice_expr_eval(const firn_ice_expr *e, const firn_ice_expr_columns *c, size_t nrows,
                       uint8_t *sel, firn_error *err);

/*
 * Facts about one column's values in some set of rows (a file's metrics, a
 * partition tuple value, a manifest's partition summary), for pruning.
 */
typedef struct firn_ice_value_range {
    bool has_lower, has_upper;   /* lower <= every non-null non-NaN value <= upper */
    firn_ice_value lower, upper;
    bool may_have_null;          /* false only when known to have no null */
    bool may_have_non_null;      /* false only when known to be all null (or empty) */
    bool may_have_nan;           /* floats: false only when known to have no NaN */
} firn_ice_value_range;

/* Supplies the range of field_id (a table column, or a partition field id in
 * partition evaluation); returns false when nothing is known. */
typedef bool (*firn_ice_range_fn)(void *ctx, int32_t field_id, firn_ice_value_range *out);

/* Java's InclusiveMetricsEvaluator over any range source: false only when the
 * ranges prove no row can match the bound expression. */
bool firn_ice_expr_may_match(const firn_ice_expr *e, firn_ice_range_fn fn, void *ctx);

/*
 * The inclusive projection of bound e (over table columns) onto partition
 * spec's fields (Java's Projections.inclusive): a bound expression over
 * partition field ids (types: the transforms' result types) that is true for
 * a partition whenever e may be true for some row in it. identity, year,
 * month, day, hour and truncate project comparisons and in; bucket projects
 * = and in; != and not in project through identity only; is null/not null
 * through every transform but void. Built in a.
 */
firn_ice_expr *firn_ice_expr_project(firn_arena *a, const firn_ice_expr *e,
                                     const firn_ice_partition_spec *spec,
                                     const firn_ice_schema *schema, firn_error *err);

/* ------------------------------------------------------------------ scans */

typedef struct firn_ice_scan firn_ice_scan;

typedef struct firn_ice_scan_options {
    /* At most one of the three; none: the current snapshot (main). */
    const char *ref;          /* branch or tag name */
    int64_t snapshot_id;      /* -1: unset */
    int64_t as_of_ms;         /* -1: unset; the snapshot current at that time (snapshot-log) */
    const char *where;        /* filter text (firn_ice_expr_parse), or NULL */
    const firn_ice_expr *filter; /* or an unbound tree (ANDed with where) */
    const char *const *columns; /* projected column names (top-level); NULL: all */
    size_t ncolumns;
    bool case_insensitive;
    /* file_size_in_bytes differing from the file read: false = error (default),
     * true = a warning (firn_ice_scan_warnings) and the file is read. */
    bool allow_size_mismatch;
} firn_ice_scan_options;

/* Options with snapshot_id = as_of_ms = -1, everything else zero. */
void firn_ice_scan_options_init(firn_ice_scan_options *o);

/* A planned data file and the delete files that apply to it (spec: Scan
 * Planning): position deletes with sequence number >= the data file's, same
 * spec and partition (or referenced_data_file naming it); equality deletes
 * with sequence number > the data file's, same partition or unpartitioned. */
typedef struct firn_ice_scan_task {
    const firn_ice_data_file *file;
    int64_t data_sequence_number;
    const firn_ice_partition_spec *spec;
    size_t ndeletes;
    const firn_ice_data_file *const *deletes;
} firn_ice_scan_task;

typedef struct firn_ice_scan_stats {
    int64_t snapshot_id;          /* -1: the table has no snapshot (empty scan) */
    size_t total_manifests, planned_manifests; /* data manifests in the list / not pruned */
    size_t delete_manifests;
    int64_t total_files;          /* live data files in the snapshot (manifest list counts) */
    int64_t total_bytes;          /* summary total-files-size, -1 when absent */
    int64_t total_records;        /* summary total-records, -1 when absent */
    size_t files_scanned_in_manifests; /* live data entries read from planned manifests */
    size_t planned_files;
    int64_t planned_bytes;        /* sum of planned file_size_in_bytes */
    int64_t planned_records;
    size_t pruned_by_partition, pruned_by_metrics;
    size_t delete_files;          /* live delete files seen in the snapshot */
    size_t position_deletes_applied; /* (delete file, data file) pairs planned */
    size_t equality_deletes_applied; /* (delete file, data file) pairs planned */
    int64_t rows_deleted;         /* rows matching the filter dropped by deletes */
    /* while reading */
    size_t files_read;
    /* Bytes read from storage by the scan, counted at the read calls: for each
     * data file its head magic (4), tail (8) and footer, then the byte range of
     * every column chunk read (only the read columns of row groups not skipped,
     * and only the filter's columns of row groups where no row matches). Delete
     * files the same way: an equality delete file once per scan (its equality
     * columns); a position delete file once per data file it applies to (its
     * file_path and pos chunks of the row groups whose file_path bounds hold
     * that data file's path). Manifests and manifest lists are not counted. */
    int64_t bytes_read;
    size_t row_groups_total, row_groups_skipped;
    int64_t rows_read, rows_returned;
} firn_ice_scan_stats;

/* One batch of rows: the matching rows of one row group of one data file. columns[i] is the projected field fields[i] in
 * parquet.h's layout (timestamps int64 us, decimals as the table type wants
 * them for precision <= 18). Memory owned by the scan, valid until the next
 * firn_ice_scan_next_batch or firn_ice_scan_free. */
typedef struct firn_ice_scan_batch {
    size_t nrows;
    size_t ncolumns;
    const firn_ice_field *const *fields;
    const struct firn_pq_column_data *columns;
    const char *file_path;        /* the data file the rows come from */
} firn_ice_scan_batch;

/*
 * Plan a scan of md's snapshot chosen by opts (opts may be NULL): resolve the
 * snapshot, parse and bind the filter (against the snapshot's schema for
 * snapshot id / time / tag, the current schema for branches, as Java does),
 * read the manifest list, prune manifests by partition summaries, read the
 * rest and prune data files by partition values and column metrics. md and io
 * are borrowed. Returns NULL with err filled on failure.
 */
firn_ice_scan *firn_ice_scan_new(const firn_ice_metadata *md, struct firn_io *io,
                                 const firn_ice_scan_options *opts, firn_error *err);
/* The same for a loaded table. */
firn_ice_scan *firn_ice_scan_table(const firn_ice_table *t, const firn_ice_scan_options *opts,
                                   firn_error *err);
void firn_ice_scan_free(firn_ice_scan *s);

const firn_ice_scan_task *firn_ice_scan_tasks(const firn_ice_scan *s, size_t *n);
const firn_ice_scan_stats *firn_ice_scan_get_stats(const firn_ice_scan *s);
const firn_ice_schema *firn_ice_scan_schema(const firn_ice_scan *s);
/* The bound filter (TRUE when none). */
const firn_ice_expr *firn_ice_scan_filter(const firn_ice_scan *s);
/* Projected fields, in output order. */
const firn_ice_field *const *firn_ice_scan_fields(const firn_ice_scan *s, size_t *n);
/* Warnings (file size mismatches allowed by allow_size_mismatch), one message each. */
const char *const *firn_ice_scan_warnings(const firn_ice_scan *s, size_t *n);
/* Keep only the planned tasks for which keep(ctx, task) is true (e.g. the files a
 * compaction rewrites), before the first firn_ice_scan_next_batch; stats' planned_*
 * counts follow. */
int firn_ice_scan_keep_tasks(firn_ice_scan *s, bool (*keep)(void *ctx, const firn_ice_scan_task *t),
                             void *ctx, firn_error *err);

/* The next batch of matching rows: 1 with *out filled, 0 at the end, or a
 * negative error (the scan stays at the failing file). Batches may have 0 rows
 * only at the end (never returned). */
int firn_ice_scan_next_batch(firn_ice_scan *s, firn_ice_scan_batch *out, firn_error *err);
/* ============================================================ end of SCAN */

/* ==================================================================
 * SNAPSHOT PRODUCERS (producer.c): append, replace, overwrite, delete
 * ==================================================================
 *
 * One producer per commit, like Java's SnapshotProducer subclasses.
 * operation (the snapshot summary's "operation"):
 *   "append"    add files; manifests merged per commit.manifest-merge.enabled
 *               (absent: true) - Java's MergeAppend; with set_merge(p, 0) it is
 *               Java's FastAppend: one new manifest per partition spec, and a
 *               manifest list of the new manifests first, then the parent's
 *               unchanged
 *   "replace"   remove files (remove_file) and add others with the same rows,
 *               compaction style (Java's RewriteFiles)
 *   "overwrite" remove files and/or whole files matching a filter, add others
 *   "delete"    remove files by path and/or whole files matching a filter
 *               (Java's DeleteFiles)
 * Validation on every attempt (also after losing a race): each removed path
 * must be a live file of the branch head - a file a concurrent commit deleted
 * fails the commit (FIRN_ERR_CONFLICT, not retried); files a concurrent append
 * added survive (they are carried over). A filter must select whole files by
 * their metrics (the filter holds for no row or for every row); a file it may
 * match only in part fails with FIRN_ERR_INVALID (no row-level deletes yet).
 *
 * The snapshot (sequence number last-sequence-number + 1) becomes the head of
 * the target branch (created at the new snapshot when absent; its parent is then
 * main's current snapshot, as Java's SnapshotUtil.latestSnapshot). Summary: Java's
 * counters added-data-files, added-records, added-files-size,
 * changed-partition-count (when files are added), deleted-data-files,
 * deleted-records, removed-files-size (when files are removed), and the totals
 * total-records, total-data-files, total-files-size, total-delete-files,
 * total-position-deletes, total-equality-deletes (from the parent's summary; a
 * total the parent lacks is left out, as Java does), plus the caller's properties
 * (set_summary, e.g. firn.source.<topic>.<partition>).
 *
 * Manifests holding removed files are rewritten: removed entries DELETED with
 * this snapshot's id, other live entries EXISTING with their snapshot ids and
 * sequence numbers, older DELETED entries dropped.
 *
 * Merging (append: unless disabled; other operations: only after
 * set_merge(p, 1)): per partition spec, when the data manifests of the new
 * snapshot number at least commit.manifest.min-count-to-merge (default 100),
 * they are packed in order (new manifests first) into bins of at most
 * commit.manifest.target-size-bytes (default 8 MiB) and each bin of two or more
 * is rewritten as one manifest: ADDED entries of this snapshot stay ADDED,
 * older live entries become EXISTING keeping their snapshot ids and sequence
 * numbers, DELETED entries of older snapshots are dropped. (Simpler than
 * Java's ManifestMergeManager, which leaves a first bin below the minimum
 * count unmerged.)
 *
 * Files: <metadata dir>/<uuid>-m<N>.avro (new, first attempt),
 * <uuid>-r<attempt>-<N>.avro (rewritten), <uuid>-merged<attempt>-<N>.avro,
 * snap-<id>-<attempt>-<uuid>.avro. After a commit every file written that the
 * landed snapshot does not reference is deleted; after a definite failure all
 * are; after an unknown outcome none. Crash points: append.after-manifest-write,
 * append.after-manifest-list-write.
 */
typedef struct firn_ice_producer firn_ice_producer;

/* branch NULL: main; operation NULL: "append". t is borrowed. */
firn_ice_producer *firn_ice_producer_new(firn_ice_table *t, const char *branch,
                                         const char *operation, firn_error *err);
/* Add a data file (borrowed: must outlive the producer). Not for "delete". */
int firn_ice_producer_add_file(firn_ice_producer *p, const firn_ice_data_file *df,
                               firn_error *err);
/* Remove the live data file with this exact path (copied). Not for "append". */
int firn_ice_producer_remove_file(firn_ice_producer *p, const char *path, firn_error *err);
/* Remove every live data file whose rows all match filter (an unbound tree, bound
 * to the current schema at each attempt; borrowed). "delete" and "overwrite". */
int firn_ice_producer_delete_where(firn_ice_producer *p, const firn_ice_expr *filter,
                                   firn_error *err);
/* Merge manifests: 1 on, 0 off, -1 (default) the table property for appends, off
 * for the other operations. */
void firn_ice_producer_set_merge(firn_ice_producer *p, int enabled);
void firn_ice_producer_set_summary(firn_ice_producer *p, const char *key, const char *value);
firn_ice_update firn_ice_producer_update(firn_ice_producer *p);
int firn_ice_producer_commit(firn_ice_producer *p, firn_ice_commit_info *info, firn_error *err);
int64_t firn_ice_producer_snapshot_id(const firn_ice_producer *p);
void firn_ice_producer_free(firn_ice_producer *p);
/* ============================================== end of SNAPSHOT PRODUCERS */

/* ============================================== PUBLISH (publish.c)
 *
 * The catalog-wide merge (`firn publish`, POST /api/v1/admin/publish): every
 * table of namespace ns whose branch is ahead of main is fast-forwarded, in one
 * multi-table catalog commit: all or none. A table whose main is not an
 * ancestor of the branch fails the whole publish (FIRN_ERR_CONFLICT) and
 * nothing is published. dry_run plans only. out->tables lists each table
 * moved (or that would move), malloc'd; free with firn_ice_publish_release. */
typedef struct firn_ice_publish_table {
    char *name; /* "ns.table" */
    int64_t from_snapshot_id; /* main before (-1: none) */
    int64_t to_snapshot_id;   /* the branch head */
} firn_ice_publish_table;

typedef struct firn_ice_publish_result {
    firn_ice_publish_table *tables;
    size_t ntables;
    size_t tables_seen; /* tables of the namespace */
} firn_ice_publish_result;

int firn_ice_publish(struct firn_catalog *cat, const char *ns, const char *branch, bool dry_run,
                     firn_ice_publish_result *out, firn_error *err);
void firn_ice_publish_release(firn_ice_publish_result *r);
/* ============================================== end of PUBLISH */

#endif
