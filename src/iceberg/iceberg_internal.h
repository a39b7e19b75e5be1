/*
 * iceberg_internal.h - helpers shared by the files of src/iceberg: JSON
 * getters that raise errors naming the JSON path, unknown-key preservation,
 * and the schema index.
 */
#ifndef FIRN_ICEBERG_INTERNAL_H
#define FIRN_ICEBERG_INTERNAL_H

#include "iceberg/iceberg.h"

#include <jansson.h>

/* ------------------------------------------------------------ JSON paths */

/* Paths are built in fixed buffers; longer ones are cut (messages only). */
#define ICE_PATH_MAX 256

/* "base.key" (or "key" when base is empty) into buf; returns buf. */
const char *firn_ice_path_key(char *buf, const char *base, const char *key);
/* "base[i]" into buf; returns buf. */
const char *firn_ice_path_index(char *buf, const char *base, size_t i);
/* The path for messages: "" becomes "(root)". */
static inline const char *firn_ice_path_show(const char *p) { return (p && *p) ? p : "(root)"; }

/* The name of a JSON value's type, for messages: "string", "integer", ... */
const char *firn_ice_json_type_name(const json_t *j);

/*
 * Getters on object o at path. A JSON null counts as absent. _req_ variants
 * fail when the key is absent; _opt_ variants set *present (may be NULL).
 * Integers are range-checked. Strings are copied into arena a.
 */
int firn_ice_json_req_i64(const json_t *o, const char *key, const char *path, int64_t *out,
                          firn_error *err);
int firn_ice_json_opt_i64(const json_t *o, const char *key, const char *path, int64_t *out,
                          bool *present, firn_error *err);
int firn_ice_json_req_i32(const json_t *o, const char *key, const char *path, int32_t *out,
                          firn_error *err);
int firn_ice_json_opt_i32(const json_t *o, const char *key, const char *path, int32_t *out,
                          bool *present, firn_error *err);
int firn_ice_json_req_str(firn_arena *a, const json_t *o, const char *key, const char *path,
                          const char **out, firn_error *err);
int firn_ice_json_opt_str(firn_arena *a, const json_t *o, const char *key, const char *path,
                          const char **out, firn_error *err);
int firn_ice_json_req_bool(const json_t *o, const char *key, const char *path, bool *out,
                           firn_error *err);
/* An array (or absent/null: *out = NULL). */
int firn_ice_json_opt_array(const json_t *o, const char *key, const char *path, json_t **out,
                            firn_error *err);
int firn_ice_json_req_array(const json_t *o, const char *key, const char *path, json_t **out,
                            firn_error *err);
/* A JSON object of strings into a kv array in a. */
int firn_ice_json_string_map(firn_arena *a, const json_t *obj, const char *path, firn_ice_kv **out,
                             size_t *n, firn_error *err);
int firn_ice_json_expect_object(const json_t *j, const char *path, const char *what,
                                firn_error *err);

/*
 * Unknown keys: the keys of o not in the NULL-terminated known list, as a
 * compact JSON object text in a (NULL when none). emit adds them back to out
 * (keys already in out win).
 */
const char *firn_ice_json_extra(firn_arena *a, const json_t *o, const char *const *known);
void firn_ice_json_emit_extra(json_t *out, const char *extra_json);
/* Compact JSON text of any value, copied into a. */
const char *firn_ice_json_text(firn_arena *a, const json_t *j);
/* json_object_set_new that tolerates a NULL value (skips it). */
void firn_ice_json_set(json_t *o, const char *key, json_t *v);

/* ---------------------------------------------------------- schema index */

typedef struct firn_ice_index_entry {
    int32_t id;
    int32_t parent_id; /* 0 for top-level */
    const firn_ice_field *field;
    const char *full_name;
    bool in_list_or_map;
    bool under_optional; /* some enclosing field is optional */
} firn_ice_index_entry;

struct firn_ice_schema_index {
    size_t n;
    firn_ice_index_entry *by_id; /* sorted by id */
    int32_t highest_id;
};

const firn_ice_index_entry *firn_ice_schema_entry(const firn_ice_schema *s, int32_t id);
/* Build the index and validate (see firn_ice_schema_new). */
int firn_ice_schema_build(firn_arena *a, firn_ice_schema *s, const char *path, firn_error *err);

/* Field helpers used by schema evolution. */
firn_ice_field *firn_ice_fields_copy(firn_arena *a, const firn_ice_field *f, size_t n);
/* Deep copy a type reassigning every nested id with ++*next_id (Java's assignFreshIds order). */
const firn_ice_type *firn_ice_type_fresh_ids(firn_arena *a, const firn_ice_type *t,
                                             int32_t *next_id);
const firn_ice_field *firn_ice_field_copy(firn_arena *a, const firn_ice_field *f);

/* ---------------------------------------------------------------- errors */

/* Public functions accept err == NULL: they then fill a local error instead. */
#define ICE_ERR_GUARD(err)                                                                \
    firn_error ice_local_err_;                                                            \
    if (!(err)) {                                                                         \
        firn_error_init(&ice_local_err_);                                                 \
        (err) = &ice_local_err_;                                                          \
    }

/* Re-raise err's current error (same kind) with "prefix: " put before its message. */
int firn_ice_error_prefix(firn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ utilities */

/* Append v to md->arr (a malloc'd array with count n and capacity cap). */
#define ICE_PUSH(md, arr, n, cap, v)                                                      \
    do {                                                                                  \
        firn_ice_grow((void **)&(md)->arr, &(md)->cap, (md)->n + 1, sizeof *(md)->arr);   \
        (md)->arr[(md)->n++] = (v);                                                       \
    } while (0)

/* Grow *arr (malloc'd, element size sz) so that it holds at least need elements. */
void firn_ice_grow(void **arr, size_t *cap, size_t need, size_t sz);
bool firn_ice_valid_utf8(const uint8_t *s, size_t n);
/* NUL-terminated string that JSON can carry (valid UTF-8). NULL is fine. */
static inline bool firn_ice_json_safe(const char *s) {
    return !s || firn_ice_valid_utf8((const uint8_t *)s, __builtin_strlen(s));
}
/* Lowercase uuid text check (8-4-4-4-12 hex). */
bool firn_ice_uuid_valid(const char *s);

/* Column ranges of one data file from its metrics (value/null/NaN counts and
 * bounds), for firn_ice_expr_may_match: scan planning prunes with it, delete
 * by filter decides whole files with it. Defined in scan.c. */
typedef struct firn_ice_metrics_ctx {
    const firn_ice_data_file *df;
    const firn_ice_schema *schema;
} firn_ice_metrics_ctx;
bool firn_ice_metrics_range(void *ctx, int32_t field_id, firn_ice_value_range *r);


/* ------------------------------------------------------- metadata parsing */

/* A metadata with an empty arena and the "none" markers set (metadata.c). */
firn_ice_metadata *firn_ice_metadata_alloc(void);
/* Parts of the document the fast parser (metadata_parse.c) already put into md:
 * parse_body then skips those keys of j. */
#define FIRN_ICE_PRE_SNAPSHOTS 1u
#define FIRN_ICE_PRE_SNAPSHOT_LOG 2u
#define FIRN_ICE_PRE_METADATA_LOG 4u
/* Fill md from the metadata object j (everything but the pre-parsed parts) and
 * validate the whole: firn_ice_metadata_from_json's body (no error prefix). */
int firn_ice_metadata_parse_body(firn_ice_metadata *md, const json_t *j, unsigned pre,
                                 firn_error *err);

/* The manifest list cache of a table handle (producer.c); NULL-safe. */
struct firn_ice_list_cache;
void firn_ice_list_cache_free(struct firn_ice_list_cache *c);

#endif
