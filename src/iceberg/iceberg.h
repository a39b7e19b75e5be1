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

/* Parse and validate metadata JSON (v1 or v2). */
firn_ice_metadata *firn_ice_metadata_parse(const char *text, size_t len, firn_error *err);
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

#endif
