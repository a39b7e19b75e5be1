/*
 * validate.h - the pipeline's validation: parse a raw event, check its type's
 * rules (firn.yaml `types:`), and produce either the typed production row or
 * the names of the rules it broke.
 *
 * Three objects, each owned by the stage that uses it:
 *
 *  firn_event      a parsed event: the top-level fields of one JSON object,
 *                  found by a hand-written scanner (no tree is built; nested
 *                  objects and arrays are checked and kept as raw text).
 *                  Anything that is not a well-formed JSON object within the
 *                  limits is "unparseable" with a stable reason (parse:*),
 *                  and goes to the dead-letter topic. Reused across events.
 *  firn_validator  one event type's compiled rules (regexes, rule names,
 *                  column list, image decoders' scratch). One per type and
 *                  thread.
 *  firn_dedupe     the window of recently seen unique ids (eventId) with a
 *                  hash of their payload, bounded in entries and time. The
 *                  pipeline owns one per type and decides when to rebuild it.
 *
 * Rule names (stable; they appear in failed_rules and in metrics):
 *   required:<f> type:<f> range:<f> pattern:<f> duplicate:<f>
 *   timestamp:future timestamp:too-old
 *   image:decode image:format image:dimensions image:size
 * Parse reasons: see firn_event_parse().
 *
 * Threads: none of these objects is shared between threads without a lock.
 */
#ifndef FIRN_PIPELINE_VALIDATE_H
#define FIRN_PIPELINE_VALIDATE_H

#include "config/config.h"
#include "iceberg/iceberg.h"
#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ parsing */

typedef struct firn_event_limits {
    size_t max_event_bytes; /* whole JSON value (limits.max-event-bytes) */
    size_t max_field_bytes; /* any one value, except blob_field (limits.max-field-bytes) */
    int max_depth;          /* the event object itself is depth 1 (limits.max-depth) */
    size_t max_fields;      /* top-level fields (limits.max-fields) */
    const char *blob_field; /* a field exempt from max_field_bytes (a base64 image), or NULL */
} firn_event_limits;

/* The limits of limits.*, with blob_field "image". */
void firn_event_limits_from_config(firn_event_limits *l, const firn_config *c);

typedef enum firn_json_kind {
    FIRN_JSON_NULL = 0,
    FIRN_JSON_FALSE,
    FIRN_JSON_TRUE,
    FIRN_JSON_NUMBER,
    FIRN_JSON_STRING,
    FIRN_JSON_OBJECT,
    FIRN_JSON_ARRAY,
} firn_json_kind;

/* One top-level field. name and a string's value are decoded UTF-8 (escapes
 * resolved; may contain NUL); a number's value is its JSON text; an object's
 * or array's value is its raw JSON text. */
typedef struct firn_event_field {
    const char *name;
    size_t name_len;
    firn_json_kind kind;
    const char *value;
    size_t value_len;
} firn_event_field;

typedef struct firn_event {
    firn_event_field *fields;
    size_t nfields;
    const uint8_t *raw; /* the input, as given */
    size_t raw_len;
    /* private */
    size_t cap;
    firn_buf decoded;   /* unescaped strings */
    const char *reason;
    char detail[160];
} firn_event;

void firn_event_init(firn_event *e);
void firn_event_release(firn_event *e);

/*
 * Parse one event (a JSON object). Returns NULL when it parsed, else the
 * reason, a static string:
 *   parse:empty            no bytes, or only white space
 *   parse:too-large        more than max_event_bytes
 *   parse:invalid-utf8     bytes that are not UTF-8, or an escaped lone surrogate
 *   parse:syntax           not JSON (firn_event_detail() says what and where)
 *   parse:not-object       valid JSON, but not an object
 *   parse:too-deep         nesting beyond max_depth
 *   parse:field-too-large  one value longer than max_field_bytes
 *   parse:too-many-fields  more than max_fields top-level fields
 *   parse:duplicate-key    the same top-level name twice
 * The event points into json (keep it alive while using the event) and into
 * its own buffer, until the next parse.
 */
const char *firn_event_parse(firn_event *e, const void *json, size_t len,
                             const firn_event_limits *lim);
/* "expected ':' at byte 17", for the last failed parse ("" when it parsed). */
const char *firn_event_detail(const firn_event *e);
/* The top-level field with this name, or NULL. */
const firn_event_field *firn_event_get(const firn_event *e, const char *name, size_t len);

/* ------------------------------------------------------------ dedupe window */

typedef struct firn_dedupe firn_dedupe;

typedef enum firn_dedupe_result {
    FIRN_DEDUPE_NEW = 0,        /* not seen within the window */
    FIRN_DEDUPE_REDELIVERY = 1, /* seen with the same payload: the caller may drop it */
    FIRN_DEDUPE_CONFLICT = 2,   /* seen with a different payload: duplicate:<f> */
} firn_dedupe_result;

/* A window of at most max_entries ids (the oldest inserted go first), each
 * counting for lookups of events at most window_us after its time (0 = no
 * time limit). Times are event times, which are not monotonic across
 * partitions, so an entry is never dropped because a newer event arrived:
 * only the entry bound removes entries. Ids are kept as 128-bit hashes, about
 * 64 bytes per entry (a 32-byte ring entry, two 8-byte index slots). Caller
 * frees with firn_dedupe_free(). */
firn_dedupe *firn_dedupe_new(size_t max_entries, int64_t window_us);
void firn_dedupe_free(firn_dedupe *d);
/* Look an id up as of now_us (entries older than the window do not count). */
firn_dedupe_result firn_dedupe_lookup(const firn_dedupe *d, const void *id, size_t len,
                                      uint64_t payload_hash, int64_t now_us);
/* Remember an id (replacing an entry for the same id); forgets the oldest
 * entries beyond max_entries. */
void firn_dedupe_insert(firn_dedupe *d, const void *id, size_t len, uint64_t payload_hash,
                        int64_t now_us);
/* firn_dedupe_lookup, then, when the id is NEW and insert_if_new,
 * firn_dedupe_insert, hashing the id once. */
firn_dedupe_result firn_dedupe_check(firn_dedupe *d, const void *id, size_t len,
                                     uint64_t payload_hash, int64_t now_us, bool insert_if_new);
size_t firn_dedupe_size(const firn_dedupe *d);
void firn_dedupe_clear(firn_dedupe *d);

/* ------------------------------------------------------------ validation */

typedef struct firn_validator firn_validator;

/* A production table column, in order. An image field f yields five: f
 * (binary), f_format (string), f_width (int), f_height (int), f_sha256
 * (string, lower-case hex). */
typedef struct firn_column_desc {
    const char *name;
    firn_ice_type_id type; /* STRING, INT, LONG, DOUBLE, BOOLEAN, TIMESTAMPTZ, BINARY */
    bool required;
} firn_column_desc;

#define FIRN_MAX_FAILED 32

typedef struct firn_validation {
    /* The rules broken, in field order (static strings or owned by the
     * validator); none = the event is trusted. */
    const char *failed[FIRN_MAX_FAILED];
    size_t nfailed;
    /* The unique field's value was seen with the same payload: a redelivery
     * (not a failure; nothing was inserted into the window). */
    bool redelivery;
    /* The production row, one value per column (firn_validator_columns), set
     * when nfailed == 0. Strings and binaries point into the event, the image
     * given, or the validator's scratch: valid until the next validate. */
    firn_ice_value *row;
    size_t ncolumns;
    /* The image (when the type has an image field and one was given). */
    const uint8_t *image;
    size_t image_len;
    const char *image_format; /* "jpeg", "png", NULL */
    int32_t image_width, image_height;
    uint8_t image_sha256[32];
    char image_sha256_hex[65];
    /* xxh64 of the JSON bytes and the image: what the dedupe window compares */
    uint64_t payload_hash;
} firn_validation;

/* Compile a type's rules. The type (and the config holding it) must outlive
 * the validator. Caller frees with firn_validator_free(). */
firn_validator *firn_validator_new(const firn_config_type *t, firn_error *err);
void firn_validator_free(firn_validator *v);
const firn_config_type *firn_validator_type(const firn_validator *v);
/* The production columns (owned by the validator). */
const firn_column_desc *firn_validator_columns(const firn_validator *v, size_t *n);

/*
 * Check a parsed event against the type's rules.
 *   image, image_len   the record header `image`, or NULL: then the image
 *                      field's JSON value is read as base64.
 *   now_us             the clock timestamp rules and the dedupe window use.
 *                      Pass the raw record's append time, so a replay after
 *                      a crash validates exactly as the first run did.
 *   dd                 the dedupe window of the type's unique field, or NULL.
 *                      An event that passes every rule is inserted.
 * Every rule is checked (an event may break several). Returns 0 (the outcome
 * is in *out, owned by the validator) or a negative error when the validator
 * itself fails (out of memory); bad input is never an error.
 */
int firn_validate(firn_validator *v, const firn_event *ev, const void *image, size_t image_len,
                  int64_t now_us, firn_dedupe *dd, firn_validation *out, firn_error *err);

/* ------------------------------------------------------------ images in parallel */

/*
 * An image's checks done ahead of firn_validate, possibly on another thread:
 * size, format, dimensions and decode (the field's decode setting), its
 * SHA-256 and the hash the dedupe payload hash mixes in. firn_validate_pre
 * then uses the verdict instead of checking the image again, with the same
 * outcome as firn_validate.
 */
typedef struct firn_image_verdict {
    const void *image; /* the bytes checked (a verdict applies only to them) */
    size_t len;
    const char *failed;  /* the rule broken (image:size|format|dimensions|decode), or NULL */
    const char *format;  /* "jpeg", "png", or NULL */
    int32_t width, height;
    uint8_t sha256[32];  /* when !failed */
    uint64_t hash;       /* XXH3 of the image, seed 1 */
} firn_image_verdict;

/* One image check of a group: cf (the image field's config) and the bytes in,
 * the verdict out. The bytes must stay alive until the check returns. */
typedef struct firn_image_job {
    const firn_config_field *cf;
    const void *image;
    size_t len;
    firn_image_verdict out;
} firn_image_job;

/*
 * A pool of image checkers: `threads` worker threads, each with its own
 * decoder, plus the caller's. 0 threads: the caller checks every image.
 * One caller at a time (the pool belongs to one processor thread).
 */
typedef struct firn_image_pool firn_image_pool;
firn_image_pool *firn_image_pool_new(int threads);
void firn_image_pool_free(firn_image_pool *p);
int firn_image_pool_threads(const firn_image_pool *p);
/* Check jobs[0..n) (their `out`), spread over the workers and the caller;
 * returns when every job is done. */
void firn_image_pool_check(firn_image_pool *p, firn_image_job *jobs, size_t n);
/* The number of threads to check images with by default: the online CPUs,
 * at most 8, minus the caller (0 on one CPU). */
int firn_image_threads_default(void);

/*
 * firn_validate with the image's verdict computed earlier (pre may be NULL:
 * then exactly firn_validate). pre is used only when it was computed for the
 * image given (same pointer and length, the record header path).
 */
int firn_validate_pre(firn_validator *v, const firn_event *ev, const void *image,
                      size_t image_len, const firn_image_verdict *pre, int64_t now_us,
                      firn_dedupe *dd, firn_validation *out, firn_error *err);

/* "range:x,pattern:carId" (appended to out; nothing when none failed). */
void firn_validation_failed_string(const firn_validation *r, firn_buf *out);

/* Parse an ISO-8601 timestamp with a zone ("2026-11-26T10:00:00.123456Z",
 * "...+01:00") to microseconds since the epoch (UTC). 0 ok, -1 not one. */
int firn_parse_timestamp(const char *s, size_t len, int64_t *us);

#endif
