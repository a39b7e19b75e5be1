/*
 * config.h - firn's configuration file, firn.yaml.
 *
 * Every key has a default, so an empty or missing file runs the embedded demo
 * (spool transport, SQLite catalog, the parking-lot event types). Keys are
 * namespaced by the stage that reads them (stream.*, pipeline.*, maintain.*,
 * ...) and never collide with Iceberg table properties. A key can be written
 * nested or dotted, and both mean the same:
 *
 *   pipeline:                         pipeline.commit-interval: 500ms
 *     commit-interval: 500ms
 *
 * Every scalar key lives in one table (firn_config_keys(): name, kind,
 * default, doc); docs/configuration.md is generated from that table by
 * firn_config_write_docs() and a unit test fails when the two drift.
 *
 * `kafka.*` keys are passed to librdkafka unchanged (kafka.security.protocol
 * -> security.protocol). `types.*` declares the event types: per type, its
 * topic, production and untrusted tables, and the schema and rules of its
 * fields (see firn_config_type). The built-in types (parking-entry,
 * parking-exit) are themselves a YAML text, firn_config_default_types_yaml();
 * a file's `types:` merges over them key by key, a type set to null (`~`)
 * removes it.
 *
 * Values: durations are a number and a unit, several may follow each other
 * (500ms, 90s, 5m, 1h30m, 3d, 2w; units us ms s m h d w; a bare 0 is allowed);
 * sizes are a number and an optional unit (64MiB, 512KiB, 1GB, 100 = bytes;
 * B KB MB GB TB are powers of 1000, KiB MiB GiB TiB powers of 1024).
 *
 * Errors name the file, the line and the key, git-style:
 *   firn.yaml:12: unknown key 'kafak.brokers' (did you mean 'kafka.brokers'?)
 *   firn.yaml:3: stream.fsync: 'sometimes' is not one of batch, always, never
 *
 * Ownership: firn_config_load*() returns a config the caller frees with
 * firn_config_free(); every string in it is owned by the config. A config is
 * read-only after loading and may be shared by threads.
 */
#ifndef FIRN_CONFIG_H
#define FIRN_CONFIG_H

#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ event types */

/* A field's type in an event and in the production table:
 *   string    -> Iceberg string
 *   int       -> int (32-bit)       long -> long      double -> double
 *   boolean   -> boolean
 *   timestamp -> timestamptz (ISO-8601 text with a zone, parsed to microseconds)
 *   image     -> binary plus <name>_format (string), <name>_width (int),
 *                <name>_height (int), <name>_sha256 (string, hex)
 *   json      -> string: any JSON value but null; a string as its text,
 *                anything else (numbers, booleans, objects, arrays) as its
 *                JSON text (the type of nested and mixed-kind fields of
 *                types created at run time) */
typedef enum firn_field_type {
    FIRN_FIELD_STRING = 0,
    FIRN_FIELD_INT,
    FIRN_FIELD_LONG,
    FIRN_FIELD_DOUBLE,
    FIRN_FIELD_BOOLEAN,
    FIRN_FIELD_TIMESTAMP,
    FIRN_FIELD_IMAGE,
    FIRN_FIELD_JSON,
} firn_field_type;

const char *firn_field_type_name(firn_field_type t);

/* Image formats (bit set). */
enum { FIRN_IMAGE_JPEG = 1, FIRN_IMAGE_PNG = 2 };

/* How much of an image the validator decodes:
 *   full   - every pixel (libturbojpeg / libpng), the default;
 *   scaled - JPEG: the whole entropy-coded stream at 1/8 scale (catches
 *            truncation and corrupt data at a fraction of the cost); PNG: full;
 *   header - dimensions from the header only. */
typedef enum firn_image_decode {
    FIRN_IMAGE_DECODE_FULL = 0,
    FIRN_IMAGE_DECODE_SCALED,
    FIRN_IMAGE_DECODE_HEADER,
} firn_image_decode;

/* One field of an event type and its rules (rule names in brackets). */
typedef struct firn_config_field {
    char *name;
    firn_field_type type;            /* [type:<name>] */
    bool required;                   /* [required:<name>] missing or null */
    bool unique;                     /* [duplicate:<name>] within pipeline.dedupe-window */
    bool has_min, has_max;           /* [range:<name>] int, long, double */
    double min, max;
    char *pattern;                   /* [pattern:<name>] string, POSIX extended regex, NULL = none */
    int64_t max_future_us;           /* [timestamp:future] allowed skew ahead of now, -1 = unchecked */
    int64_t max_age_us;              /* [timestamp:too-old] 0 = unchecked */
    unsigned formats;                /* [image:format] FIRN_IMAGE_* bits */
    int64_t min_width, max_width;    /* [image:dimensions] */
    int64_t min_height, max_height;
    int64_t max_bytes;               /* [image:size] */
    firn_image_decode decode;        /* [image:decode] */
    int line;                        /* where it was last set (0 = built in) */
} firn_config_field;

/* An event type: the value of the route field (pipeline.route-field) that
 * selects it, where its events go, and its fields in column order. */
typedef struct firn_config_type {
    char *name;              /* e.g. "parking-entry" */
    char *topic;             /* its per-type topic, default: the name */
    char *table;             /* production table, e.g. "production.parking_entry" */
    char *untrusted_table;   /* e.g. "staging.parking_entry_untrusted" */
    char *partition;         /* partition spec of the production table, e.g.
                                "day(timeStamp)"; "" = unpartitioned */
    firn_config_field *fields;
    size_t nfields;
} firn_config_type;

/* ------------------------------------------------------------ the config */

typedef struct firn_config {
    char *path; /* the file it was read from ("(defaults)" when none) */

    /* stream.* */
    char *stream_uri;
    int stream_fsync; /* 0 batch, 1 always, 2 never (the order of firn_fsync_policy) */
    int64_t stream_partitions;
    int64_t stream_segment_bytes;
    int64_t stream_retention_bytes;
    int64_t stream_retention_us;
    char *stream_raw_topic;
    char *stream_dead_letter_topic;

    /* catalog.*, warehouse */
    char *catalog_uri;
    char *warehouse;

    /* limits.* */
    int64_t max_event_bytes;
    int64_t max_field_bytes;
    int64_t max_depth;
    int64_t max_fields;

    /* pipeline.* */
    int64_t commit_interval_us;
    int64_t commit_max_bytes;
    int unknown_types; /* 0 dead-letter, 1 create */
    char *route_field;
    char *key_field;
    int64_t dedupe_window_us;
    int64_t dedupe_max_entries;
    char *branch;
    int64_t workers;
    int64_t image_threads; /* -1: automatic */

    /* server.* */
    bool server_enabled;
    char *server_listen;
    char *server_tokens;
    char *server_admin_tokens;
    char *server_tls_cert;
    char *server_tls_key;
    bool server_read_auth;
    char *server_read_tokens;
    int64_t server_iceberg_max_body;
    int64_t server_max_body;
    double server_rate_limit;
    int64_t server_rate_burst;
    int64_t server_dedupe_window_us;
    char *server_state_dir;
    int64_t server_max_connections;

    /* maintain.* */
    bool maintain_enabled;
    int64_t expire_interval_us;
    int64_t expire_older_than_us;
    int64_t expire_retain_last;
    int64_t orphans_interval_us;
    int64_t orphans_older_than_us;
    int64_t compact_interval_us;
    int64_t compact_min_files;
    int64_t compact_small_file_bytes;
    int64_t compact_target_file_bytes;
    int64_t rewrite_manifests_interval_us;
    int64_t metadata_retain;

    /* sim.* */
    int64_t sim_seed;
    double sim_rate;
    int64_t sim_events;
    int64_t sim_duration_us;
    int64_t sim_slots;
    int64_t sim_cameras;
    int sim_image_format; /* 0 jpeg, 1 png */
    int64_t sim_image_width;
    int64_t sim_image_height;
    int64_t sim_jpeg_quality;
    double sim_bad_ratio;

    /* tagging.* */
    bool tag_daily;
    char *tag_daily_prefix;
    int64_t tag_daily_retention_us;
    char *tag_owner;
    char *tag_rules_version;

    /* kafka.* passthrough: key/value pairs, NULL-terminated (librdkafka's
     * names, without the "kafka." prefix) */
    char **kafka_conf;
    size_t nkafka;

    /* types.* */
    firn_config_type *types;
    size_t ntypes;
} firn_config;

/* The defaults: the same as loading an empty file. */
firn_config *firn_config_new_default(void);

/*
 * Load a YAML file. A missing file is the defaults when must_exist is false
 * (the implicit ./firn.yaml) and an error when true (an explicit --config).
 */
int firn_config_load(const char *path, bool must_exist, firn_config **out, firn_error *err);
/* Load from memory; name is used in error messages in place of a file name. */
int firn_config_load_string(const char *text, size_t len, const char *name, firn_config **out,
                            firn_error *err);
void firn_config_free(firn_config *c);

/* Set one scalar key from text, as a command-line override would
 * ("sim.rate", "2000"); kafka.* keys are added to the passthrough. */
int firn_config_set(firn_config *c, const char *key, const char *value, firn_error *err);

/* The type selected by a route-field value (NULL when not configured). */
const firn_config_type *firn_config_find_type(const firn_config *c, const char *name, size_t len);
/* A type's field by name (NULL when absent). */
const firn_config_field *firn_config_type_field(const firn_config_type *t, const char *name);
/* A field with no rules but its type (name copied; the image limits at their
 * defaults, which apply once a rule turns them on). */
void firn_config_field_init(firn_config_field *f, const char *name, firn_field_type type);

/* Parse "90s", "1h30m", "500ms" into microseconds; sizes "64MiB" into bytes.
 * Return 0 or -1 (no error object: callers add file, line and key). */
int firn_parse_duration(const char *s, int64_t *us);
int firn_parse_size(const char *s, int64_t *bytes);

/* ------------------------------------------------------------ key table */

typedef enum firn_config_kind {
    FIRN_CFG_STRING,
    FIRN_CFG_INT,
    FIRN_CFG_DOUBLE,
    FIRN_CFG_BOOL,
    FIRN_CFG_DURATION,
    FIRN_CFG_SIZE,
    FIRN_CFG_ENUM,
} firn_config_kind;

typedef struct firn_config_key {
    const char *name;
    firn_config_kind kind;
    size_t offset;          /* into firn_config */
    const char *def;        /* default, as it would be written in the file */
    const char *values;     /* FIRN_CFG_ENUM: "batch|always|never" */
    double min, max;        /* numeric bounds (inclusive) */
    const char *doc;
} firn_config_key;

/* The table of scalar keys, *n entries. */
const firn_config_key *firn_config_keys(size_t *n);
/* The built-in `types:` section as YAML text. */
const char *firn_config_default_types_yaml(void);
/* docs/configuration.md, generated from the key table and the built-in types. */
void firn_config_write_docs(firn_buf *out);

#endif
