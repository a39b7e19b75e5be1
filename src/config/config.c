/* config.c - firn.yaml: the key table, defaults, YAML loading, merging of
 * event types, error messages with file/line/key, and the generated docs. */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ------------------------------------------------------------ key table */

#define OFF(f) offsetof(firn_config, f)
#define NOLIM 0, 0

static const firn_config_key keys[] = {
    /* stream */
    {"stream.uri", FIRN_CFG_STRING, OFF(stream_uri), "spool:./data/spool", NULL, NOLIM,
     "Where events are logged: `spool:<dir>` (the embedded durable log) or "
     "`kafka://host:port[,host:port...]`."},
    {"stream.fsync", FIRN_CFG_ENUM, OFF(stream_fsync), "batch", "batch|always|never", NOLIM,
     "Spool only. `batch`: each append call is fsynced before it is acknowledged (concurrent "
     "calls share one fsync); survives kill -9 and power loss. `always`: every record is fsynced "
     "on its own; the same guarantee, slower. `never`: written to the OS only; survives kill -9 "
     "but a power cut may lose the last seconds of acknowledged events."},
    {"stream.partitions", FIRN_CFG_INT, OFF(stream_partitions), "4", NULL, 1, 4096,
     "Partitions of each topic firn creates. Records with the same key (pipeline.key-field) "
     "stay in one partition, in order."},
    {"stream.segment-bytes", FIRN_CFG_SIZE, OFF(stream_segment_bytes), "64MiB", NULL, 4096, 0,
     "Spool: roll to a new segment file at this size."},
    {"stream.retention-bytes", FIRN_CFG_SIZE, OFF(stream_retention_bytes), "0", NULL, NOLIM,
     "Spool: delete the oldest segments of a partition beyond this size (0 = unbounded)."},
    {"stream.retention", FIRN_CFG_DURATION, OFF(stream_retention_us), "7d", NULL, NOLIM,
     "Spool: delete segments whose newest record is older than this (0 = forever)."},
    {"stream.raw-topic", FIRN_CFG_STRING, OFF(stream_raw_topic), "events", NULL, NOLIM,
     "The topic every collected event lands on first."},
    {"stream.dead-letter-topic", FIRN_CFG_STRING, OFF(stream_dead_letter_topic), "dead-letter",
     NULL, NOLIM, "Where unparseable and unroutable events go, with the reason and raw offset."},
    /* catalog */
    {"catalog.uri", FIRN_CFG_STRING, OFF(catalog_uri), "sqlite:./warehouse/catalog.db", NULL,
     NOLIM, "The Iceberg catalog: `sqlite:<file>` or `postgresql://...`."},
    {"warehouse", FIRN_CFG_STRING, OFF(warehouse), "./warehouse", NULL, NOLIM,
     "Where table data and metadata files are written: a directory or `s3://bucket/prefix`."},
    /* limits */
    {"limits.max-event-bytes", FIRN_CFG_SIZE, OFF(max_event_bytes), "16MiB", NULL, 1024, 0,
     "Largest event accepted (JSON plus image). Larger events are refused at collection with a "
     "reason; on Kafka, the producer's message.max.bytes and consumer's fetch.max.bytes follow."},
    {"limits.max-field-bytes", FIRN_CFG_SIZE, OFF(max_field_bytes), "1MiB", NULL, 16, 0,
     "Largest single JSON value in an event (an image field is bounded by max-event-bytes "
     "only). Larger: dead-letter, reason `parse:field-too-large`."},
    {"limits.max-depth", FIRN_CFG_INT, OFF(max_depth), "32", NULL, 1, 1000,
     "Deepest nesting of JSON objects and arrays (the event itself is depth 1). Deeper: "
     "dead-letter, reason `parse:too-deep`."},
    {"limits.max-fields", FIRN_CFG_INT, OFF(max_fields), "1024", NULL, 1, 1000000,
     "Most top-level fields in an event. More: dead-letter, reason `parse:too-many-fields`."},
    /* pipeline */
    {"pipeline.commit-interval", FIRN_CFG_DURATION, OFF(commit_interval_us), "1s", NULL, NOLIM,
     "A batch is audited and published at most this long after its first event."},
    {"pipeline.commit-max-bytes", FIRN_CFG_SIZE, OFF(commit_max_bytes), "64MiB", NULL, 1, 0,
     "... or as soon as it holds this many bytes of events."},
    {"pipeline.unknown-types", FIRN_CFG_ENUM, OFF(unknown_types), "dead-letter",
     "dead-letter|create", NOLIM,
     "Events whose type is not configured: `dead-letter` them, or `create` the topic, tables "
     "and `dev` branch on first sight with a schema inferred from the first batch."},
    {"pipeline.route-field", FIRN_CFG_STRING, OFF(route_field), "eventType", NULL, NOLIM,
     "The field whose value names an event's type (a key of `types`)."},
    {"pipeline.key-field", FIRN_CFG_STRING, OFF(key_field), "carId", NULL, NOLIM,
     "The field used as the record key: events with the same key keep their order."},
    {"pipeline.dedupe-window", FIRN_CFG_DURATION, OFF(dedupe_window_us), "1h", NULL, NOLIM,
     "How long a unique field's values (eventId) are remembered: a second event with the same "
     "id and a different payload fails `duplicate:eventId`; the same payload again is a "
     "redelivery and is dropped."},
    {"pipeline.dedupe-max-entries", FIRN_CFG_INT, OFF(dedupe_max_entries), "1000000", NULL, 1,
     1e9, "Most ids remembered per type (the oldest are forgotten first); about 48 bytes each."},
    {"pipeline.branch", FIRN_CFG_STRING, OFF(branch), "dev", NULL, NOLIM,
     "The audit branch trusted rows are written to before publishing (`<branch>-<worker>` when "
     "several workers share a table)."},
    {"pipeline.workers", FIRN_CFG_INT, OFF(workers), "1", NULL, 1, 1024,
     "Process workers per event type in `firn run`."},
    {"pipeline.image-threads", FIRN_CFG_INT, OFF(image_threads), "-1", NULL, -1, 64,
     "Threads per event type that check (decode, hash) the images of a batch in parallel "
     "with its processor; -1: one less than the CPUs (at most 7), 0: the processor alone."},
    /* server */
    {"server.enabled", FIRN_CFG_BOOL, OFF(server_enabled), "true", NULL, NOLIM,
     "Start the HTTP server (dashboard, API, metrics, ingest) in `firn run`."},
    {"server.listen", FIRN_CFG_STRING, OFF(server_listen), "127.0.0.1:8080", NULL, NOLIM,
     "Address and port the HTTP server listens on."},
    {"server.tokens", FIRN_CFG_STRING, OFF(server_tokens), "", NULL, NOLIM,
     "Bearer tokens with write rights (ingest, the Iceberg REST catalog's writes) and read "
     "rights, comma-separated (the environment variable `FIRN_SERVER_TOKENS` adds more). No "
     "token here nor in `server.read-tokens`: no token is asked for."},
    {"server.read-tokens", FIRN_CFG_STRING, OFF(server_read_tokens), "", NULL, NOLIM,
     "Read-only bearer tokens, comma-separated (`FIRN_SERVER_READ_TOKENS` adds more): they "
     "open what `server.read-auth` guards and the Iceberg REST catalog's reads; a write with "
     "one answers 403."},
    {"server.admin-tokens", FIRN_CFG_STRING, OFF(server_admin_tokens), "", NULL, NOLIM,
     "Bearer tokens for the admin endpoints (`/api/v1/admin/...`: maintenance, publish), "
     "comma-separated (`FIRN_SERVER_ADMIN_TOKENS` adds more); an admin token may also ingest "
     "and read. Empty: the admin endpoints answer 403."},
    {"server.tls-cert", FIRN_CFG_STRING, OFF(server_tls_cert), "", NULL, NOLIM,
     "PEM certificate file (chain) for HTTPS; with `server.tls-key` the server speaks only TLS. "
     "Empty: plain HTTP."},
    {"server.tls-key", FIRN_CFG_STRING, OFF(server_tls_key), "", NULL, NOLIM,
     "PEM private key file of `server.tls-cert` (unencrypted)."},
    {"server.read-auth", FIRN_CFG_BOOL, OFF(server_read_auth), "false", NULL, NOLIM,
     "Ask for a token on the read-only API and `/metrics` too (the dashboard's own files stay "
     "public)."},
    {"server.max-body", FIRN_CFG_SIZE, OFF(server_max_body), "64MiB", NULL, 1024, 0,
     "Largest request body; larger ones answer 413."},
    {"server.iceberg-max-body", FIRN_CFG_SIZE, OFF(server_iceberg_max_body), "16MiB", NULL, 1024,
     0, "Largest request body on the Iceberg REST catalog (`/iceberg/...`: table creates and "
     "metadata commits); larger ones answer 413."},
    {"server.rate-limit", FIRN_CFG_DOUBLE, OFF(server_rate_limit), "0", NULL, 0, 1e9,
     "Requests per second per client address (token bucket; 0 = unlimited); over it: 429."},
    {"server.rate-burst", FIRN_CFG_INT, OFF(server_rate_burst), "100", NULL, 1, 1000000000,
     "Requests a client may send at once before `server.rate-limit` applies."},
    {"server.dedupe-window", FIRN_CFG_DURATION, OFF(server_dedupe_window_us), "1h", NULL, NOLIM,
     "How long an ingested event's id and payload hash are remembered, so that a retry is "
     "acknowledged again without a second append (kept across restarts in `server.state-dir`)."},
    {"server.state-dir", FIRN_CFG_STRING, OFF(server_state_dir), "./data/server", NULL, NOLIM,
     "Directory of the server's own state (the ingest dedupe log)."},
    {"server.max-connections", FIRN_CFG_INT, OFF(server_max_connections), "512", NULL, 1, 65536,
     "Concurrent HTTP connections (one thread each)."},
    /* maintain */
    {"maintain.enabled", FIRN_CFG_BOOL, OFF(maintain_enabled), "true", NULL, NOLIM,
     "Run table maintenance on a schedule in `firn run`."},
    {"maintain.expire-interval", FIRN_CFG_DURATION, OFF(expire_interval_us), "1h", NULL, NOLIM,
     "How often snapshots are expired (0 = never)."},
    {"maintain.expire-older-than", FIRN_CFG_DURATION, OFF(expire_older_than_us), "7d", NULL,
     NOLIM, "Expire snapshots older than this ..."},
    {"maintain.expire-retain-last", FIRN_CFG_INT, OFF(expire_retain_last), "10", NULL, 1, 1e9,
     "... but always keep this many of the newest."},
    {"maintain.orphans-interval", FIRN_CFG_DURATION, OFF(orphans_interval_us), "1d", NULL,
     NOLIM, "How often files no snapshot references are removed (0 = never)."},
    {"maintain.orphans-older-than", FIRN_CFG_DURATION, OFF(orphans_older_than_us), "3d", NULL,
     NOLIM, "Only files older than this are orphans (protects commits in flight)."},
    {"maintain.compact-interval", FIRN_CFG_DURATION, OFF(compact_interval_us), "10m", NULL,
     NOLIM, "How often small data files are compacted (0 = never)."},
    {"maintain.compact-min-files", FIRN_CFG_INT, OFF(compact_min_files), "5", NULL, 2, 1e9,
     "Compact a partition once it has at least this many small files."},
    {"maintain.compact-small-file-bytes", FIRN_CFG_SIZE, OFF(compact_small_file_bytes),
     "32MiB", NULL, NOLIM, "A data file smaller than this is small."},
    {"maintain.compact-target-file-bytes", FIRN_CFG_SIZE, OFF(compact_target_file_bytes),
     "128MiB", NULL, 1024, 0, "Size of the files compaction writes."},
    {"maintain.rewrite-manifests-interval", FIRN_CFG_DURATION,
     OFF(rewrite_manifests_interval_us), "1h", NULL, NOLIM,
     "How often manifests are rewritten (0 = never)."},
    {"maintain.metadata-retain", FIRN_CFG_INT, OFF(metadata_retain), "100", NULL, 1, 1e9,
     "Old metadata.json files kept per table (write.metadata.previous-versions-max)."},
    /* sim */
    {"sim.seed", FIRN_CFG_INT, OFF(sim_seed), "42", NULL, NOLIM,
     "The simulator's seed: the same seed gives the same events."},
    {"sim.rate", FIRN_CFG_DOUBLE, OFF(sim_rate), "100", NULL, 0, 1e9,
     "Events per second (0 = as fast as possible)."},
    {"sim.events", FIRN_CFG_INT, OFF(sim_events), "0", NULL, 0, 9e18,
     "Stop after this many events (0 = no limit)."},
    {"sim.duration", FIRN_CFG_DURATION, OFF(sim_duration_us), "0", NULL, NOLIM,
     "Stop after this long (0 = no limit)."},
    {"sim.slots", FIRN_CFG_INT, OFF(sim_slots), "200", NULL, 1, 1e6,
     "Parking slots in the lot."},
    {"sim.cameras", FIRN_CFG_INT, OFF(sim_cameras), "4", NULL, 1, 1e4, "Gate cameras."},
    {"sim.image-format", FIRN_CFG_ENUM, OFF(sim_image_format), "jpeg", "jpeg|png", NOLIM,
     "Format of the rendered camera images."},
    {"sim.image-width", FIRN_CFG_INT, OFF(sim_image_width), "640", NULL, 16, 16384,
     "Image width in pixels."},
    {"sim.image-height", FIRN_CFG_INT, OFF(sim_image_height), "480", NULL, 16, 16384,
     "Image height in pixels."},
    {"sim.jpeg-quality", FIRN_CFG_INT, OFF(sim_jpeg_quality), "85", NULL, 1, 100,
     "JPEG quality of the rendered images."},
    {"sim.bad-ratio", FIRN_CFG_DOUBLE, OFF(sim_bad_ratio), "0", NULL, 0, 1,
     "Fraction of events made bad on purpose, spread over every validation rule."},
    /* tagging */
    {"tagging.daily", FIRN_CFG_BOOL, OFF(tag_daily), "true", NULL, NOLIM,
     "Tag the first snapshot published each day (UTC) on every production table."},
    {"tagging.daily-prefix", FIRN_CFG_STRING, OFF(tag_daily_prefix), "daily-", NULL, NOLIM,
     "Daily tags are named <prefix><YYYY-MM-DD>."},
    {"tagging.daily-retention", FIRN_CFG_DURATION, OFF(tag_daily_retention_us), "30d", NULL,
     NOLIM, "How long a daily tag keeps its snapshot (max-ref-age-ms; 0 = forever)."},
    {"tagging.owner", FIRN_CFG_STRING, OFF(tag_owner), "firn", NULL, NOLIM,
     "Table property `owner` on the tables firn creates."},
    {"tagging.rules-version", FIRN_CFG_STRING, OFF(tag_rules_version), "1", NULL, NOLIM,
     "Table property `firn.rules-version`: bump it when the rules change."},
};

const firn_config_key *firn_config_keys(size_t *n) {
    *n = sizeof keys / sizeof keys[0];
    return keys;
}

static const firn_config_key *find_key(const char *name) {
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].name, name) == 0) return &keys[i];
    return NULL;
}

/* ------------------------------------------------------------ built-in types */

#define PARKING_FIELDS                                                                          \
    "    fields:\n"                                                                             \
    "      eventId: {type: string, required: true, unique: true}\n"                             \
    "      eventType: {type: string, required: true}\n"                                         \
    "      timeStamp: {type: timestamp, required: true, max-future: 5m, max-age: 7d}\n"          \
    "      carId: {type: string, required: true, pattern: '^[0-9]{2}[A-Z]{2}[0-9]{4}$'}\n"     \
    "      slotId: {type: int, required: true, min: 0, max: 100000}\n"                         \
    "      x: {type: double, required: true, min: 0, max: 50}\n"                              \
    "      y: {type: double, required: true, min: 0, max: 60}\n"                              \
    "      cameraId: {type: string, required: true}\n"                                          \
    "      image: {type: image, required: true, formats: [jpeg, png], max-bytes: 8MiB,\n"      \
    "              min-width: 16, max-width: 4096, min-height: 16, max-height: 4096,\n"        \
    "              decode: full}\n"

static const char default_types_yaml[] =
    "types:\n"
    "  parking-entry:\n"
    "    topic: parking-entry\n"
    "    table: production.parking_entry\n"
    "    untrusted-table: staging.parking_entry_untrusted\n"
    "    partition: day(timeStamp)\n" PARKING_FIELDS
    "  parking-exit:\n"
    "    topic: parking-exit\n"
    "    table: production.parking_exit\n"
    "    untrusted-table: staging.parking_exit_untrusted\n"
    "    partition: day(timeStamp)\n" PARKING_FIELDS;

const char *firn_config_default_types_yaml(void) { return default_types_yaml; }

static const char *const field_keys[] = {
    "type", "required", "unique", "min", "max", "pattern", "max-future", "max-age",
    "formats", "min-width", "max-width", "min-height", "max-height", "max-bytes", "decode", NULL};
static const char *const type_keys[] = {"topic", "table", "untrusted-table", "partition",
                                        "fields", NULL};
static const char *const field_type_names[] = {"string", "int", "long", "double",
                                               "boolean", "timestamp", "image", "json"};

const char *firn_field_type_name(firn_field_type t) {
    return (unsigned)t < sizeof field_type_names / sizeof field_type_names[0]
               ? field_type_names[t] : "?";
}

/* ------------------------------------------------------------ values */

int firn_parse_duration(const char *s, int64_t *us) {
    static const struct { const char *u; int64_t mult; } units[] = {
        {"us", 1}, {"ms", 1000}, {"s", 1000000}, {"m", 60000000LL}, {"h", 3600000000LL},
        {"d", 86400000000LL}, {"w", 604800000000LL}};
    while (isspace((unsigned char)*s)) s++;
    if (strcmp(s, "0") == 0) { *us = 0; return 0; }
    if (!*s) return -1;
    double total = 0;
    while (*s) {
        if (!isdigit((unsigned char)*s) && *s != '.') return -1;
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || v < 0) return -1;
        s = end;
        size_t ul = 0;
        while (isalpha((unsigned char)s[ul])) ul++;
        int64_t mult = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].u) == ul && strncmp(units[i].u, s, ul) == 0) mult = units[i].mult;
        if (!mult) return -1;
        total += v * (double)mult;
        s += ul;
        while (isspace((unsigned char)*s)) s++;
    }
    if (total > 9.2e18) return -1;
    *us = (int64_t)llround(total);
    return 0;
}

int firn_parse_size(const char *s, int64_t *bytes) {
    static const struct { const char *u; double mult; } units[] = {
        {"", 1}, {"b", 1}, {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
        {"kib", 1024.0}, {"mib", 1048576.0}, {"gib", 1073741824.0}, {"tib", 1099511627776.0}};
    while (isspace((unsigned char)*s)) s++;
    if (!isdigit((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0) return -1;
    while (isspace((unsigned char)*end)) end++;
    size_t ul = strlen(end);
    while (ul && isspace((unsigned char)end[ul - 1])) ul--;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].u) == ul && strncasecmp(units[i].u, end, ul) == 0) {
            double b = v * units[i].mult;
            if (b > 9.2e18 || b != floor(b)) return -1;
            *bytes = (int64_t)b;
            return 0;
        }
    }
    return -1;
}

static int parse_bool(const char *s, bool *out) {
    static const char *const t[] = {"true", "yes", "on", "1"}, *const f[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, t[i]) == 0) { *out = true; return 0; }
        if (strcasecmp(s, f[i]) == 0) { *out = false; return 0; }
    }
    return -1;
}

static int parse_int(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* Index of s in "a|b|c", or -1. */
static int enum_index(const char *values, const char *s) {
    int i = 0;
    size_t sl = strlen(s);
    for (const char *p = values;; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == sl && strncmp(p, s, len) == 0) return i;
        if (!bar) return -1;
        p = bar + 1;
    }
}

static void enum_list(const char *values, char *out, size_t n) {
    size_t o = 0;
    for (const char *p = values; *p && o + 3 < n; p++) {
        if (*p == '|') { out[o++] = ','; out[o++] = ' '; }
        else out[o++] = *p;
    }
    out[o] = 0;
}

/* Set a scalar key from text; on failure write why into msg. */
static int set_scalar(firn_config *c, const firn_config_key *k, const char *text, char *msg,
                      size_t msgn) {
    void *slot = (char *)c + k->offset;
    switch (k->kind) {
    case FIRN_CFG_STRING: {
        char **p = slot;
        free(*p);
        *p = firn_xstrdup(text);
        return 0;
    }
    case FIRN_CFG_BOOL:
        if (parse_bool(text, slot)) {
            snprintf(msg, msgn, "'%s' is not a boolean (true or false)", text);
            return -1;
        }
        return 0;
    case FIRN_CFG_ENUM: {
        int i = enum_index(k->values, text);
        if (i < 0) {
            char list[128];
            enum_list(k->values, list, sizeof list);
            snprintf(msg, msgn, "'%s' is not one of %s", text, list);
            return -1;
        }
        *(int *)slot = i;
        return 0;
    }
    case FIRN_CFG_DOUBLE: {
        double v;
        if (parse_double(text, &v)) {
            snprintf(msg, msgn, "'%s' is not a number", text);
            return -1;
        }
        if ((k->min || k->max) && (v < k->min || v > k->max)) {
            snprintf(msg, msgn, "%s is out of range [%g, %g]", text, k->min, k->max);
            return -1;
        }
        *(double *)slot = v;
        return 0;
    }
    case FIRN_CFG_INT:
    case FIRN_CFG_DURATION:
    case FIRN_CFG_SIZE: {
        int64_t v;
        if (k->kind == FIRN_CFG_INT && parse_int(text, &v)) {
            snprintf(msg, msgn, "'%s' is not an integer", text);
            return -1;
        }
        if (k->kind == FIRN_CFG_DURATION && firn_parse_duration(text, &v)) {
            snprintf(msg, msgn, "bad duration '%s' (a number and a unit: 500ms, 90s, 5m, 3d)", text);
            return -1;
        }
        if (k->kind == FIRN_CFG_SIZE && firn_parse_size(text, &v)) {
            snprintf(msg, msgn, "bad size '%s' (a number and a unit: 512KiB, 64MiB, 1GB)", text);
            return -1;
        }
        if ((k->min && (double)v < k->min) || (k->max && (double)v > k->max)) {
            if (k->max)
                snprintf(msg, msgn, "%s is out of range [%.0f, %.0f]", text, k->min, k->max);
            else
                snprintf(msg, msgn, "%s is below the minimum %.0f", text, k->min);
            return -1;
        }
        *(int64_t *)slot = v;
        return 0;
    }
    }
    snprintf(msg, msgn, "internal: unknown key kind");
    return -1;
}

/* ------------------------------------------------------------ types */

static void field_release(firn_config_field *f) {
    free(f->name);
    free(f->pattern);
}

static void type_release(firn_config_type *t) {
    free(t->name);
    free(t->topic);
    free(t->table);
    free(t->untrusted_table);
    free(t->partition);
    for (size_t i = 0; i < t->nfields; i++) field_release(&t->fields[i]);
    free(t->fields);
}

static firn_config_type *type_get(firn_config *c, const char *name, bool create) {
    for (size_t i = 0; i < c->ntypes; i++)
        if (strcmp(c->types[i].name, name) == 0) return &c->types[i];
    if (!create) return NULL;
    c->types = firn_xrealloc(c->types, (c->ntypes + 1) * sizeof *c->types);
    firn_config_type *t = &c->types[c->ntypes++];
    memset(t, 0, sizeof *t);
    t->name = firn_xstrdup(name);
    t->topic = firn_xstrdup(name);
    t->table = firn_xstrdup("");
    t->untrusted_table = firn_xstrdup("");
    t->partition = firn_xstrdup("");
    return t;
}

static void type_remove(firn_config *c, const char *name) {
    for (size_t i = 0; i < c->ntypes; i++) {
        if (strcmp(c->types[i].name, name) == 0) {
            type_release(&c->types[i]);
            memmove(&c->types[i], &c->types[i + 1], (c->ntypes - i - 1) * sizeof *c->types);
            c->ntypes--;
            return;
        }
    }
}

static firn_config_field *field_get(firn_config_type *t, const char *name, bool create) {
    for (size_t i = 0; i < t->nfields; i++)
        if (strcmp(t->fields[i].name, name) == 0) return &t->fields[i];
    if (!create) return NULL;
    t->fields = firn_xrealloc(t->fields, (t->nfields + 1) * sizeof *t->fields);
    firn_config_field *f = &t->fields[t->nfields++];
    firn_config_field_init(f, name, FIRN_FIELD_STRING);
    return f;
}

void firn_config_field_init(firn_config_field *f, const char *name, firn_field_type type) {
    memset(f, 0, sizeof *f);
    f->name = firn_xstrdup(name);
    f->type = type;
    f->max_future_us = -1;
    f->formats = FIRN_IMAGE_JPEG | FIRN_IMAGE_PNG;
    f->min_width = f->min_height = 1;
    f->max_width = f->max_height = 65535;
    f->max_bytes = 16 << 20;
}

static void field_remove(firn_config_type *t, const char *name) {
    for (size_t i = 0; i < t->nfields; i++) {
        if (strcmp(t->fields[i].name, name) == 0) {
            field_release(&t->fields[i]);
            memmove(&t->fields[i], &t->fields[i + 1], (t->nfields - i - 1) * sizeof *t->fields);
            t->nfields--;
            return;
        }
    }
}

const firn_config_type *firn_config_find_type(const firn_config *c, const char *name, size_t len) {
    for (size_t i = 0; i < c->ntypes; i++)
        if (strlen(c->types[i].name) == len && memcmp(c->types[i].name, name, len) == 0)
            return &c->types[i];
    return NULL;
}

const firn_config_field *firn_config_type_field(const firn_config_type *t, const char *name) {
    for (size_t i = 0; i < t->nfields; i++)
        if (strcmp(t->fields[i].name, name) == 0) return &t->fields[i];
    return NULL;
}

static int parse_formats_item(const char *s, unsigned *bits, char *msg, size_t msgn) {
    if (strcasecmp(s, "jpeg") == 0 || strcasecmp(s, "jpg") == 0) *bits |= FIRN_IMAGE_JPEG;
    else if (strcasecmp(s, "png") == 0) *bits |= FIRN_IMAGE_PNG;
    else {
        snprintf(msg, msgn, "'%s' is not an image format firn decodes (jpeg, png)", s);
        return -1;
    }
    return 0;
}

/* Apply one key of a field. items/nitems: a sequence's scalars (formats). */
static int set_field_key(firn_config_field *f, const char *key, const char *v,
                         const char *const *items, size_t nitems, char *msg, size_t msgn) {
    if (items && strcmp(key, "formats") != 0) {
        snprintf(msg, msgn, "expects a single value, not a list");
        return -1;
    }
    if (strcmp(key, "type") == 0) {
        for (size_t i = 0; i < sizeof field_type_names / sizeof field_type_names[0]; i++) {
            if (strcmp(v, field_type_names[i]) == 0) {
                f->type = (firn_field_type)i;
                return 0;
            }
        }
        snprintf(msg, msgn,
                 "'%s' is not a field type (string, int, long, double, boolean, timestamp, image, json)", v);
        return -1;
    }
    if (strcmp(key, "required") == 0 || strcmp(key, "unique") == 0) {
        if (parse_bool(v, key[0] == 'r' ? &f->required : &f->unique)) {
            snprintf(msg, msgn, "'%s' is not a boolean (true or false)", v);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "min") == 0 || strcmp(key, "max") == 0) {
        double d;
        if (v[0] == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0) {
            if (key[1] == 'i') f->has_min = false; else f->has_max = false;
            return 0;
        }
        if (parse_double(v, &d)) {
            snprintf(msg, msgn, "'%s' is not a number", v);
            return -1;
        }
        if (key[1] == 'i') { f->has_min = true; f->min = d; }
        else { f->has_max = true; f->max = d; }
        return 0;
    }
    if (strcmp(key, "pattern") == 0) {
        regex_t re;
        int rc = regcomp(&re, v, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char why[128];
            regerror(rc, &re, why, sizeof why);
            snprintf(msg, msgn, "bad regex '%s': %s", v, why);
            return -1;
        }
        regfree(&re);
        free(f->pattern);
        f->pattern = v[0] ? firn_xstrdup(v) : NULL;
        return 0;
    }
    if (strcmp(key, "max-future") == 0 || strcmp(key, "max-age") == 0) {
        int64_t us;
        if (firn_parse_duration(v, &us)) {
            snprintf(msg, msgn, "bad duration '%s' (a number and a unit: 500ms, 90s, 5m, 3d)", v);
            return -1;
        }
        if (key[4] == 'f') f->max_future_us = us; else f->max_age_us = us;
        return 0;
    }
    if (strcmp(key, "formats") == 0) {
        unsigned bits = 0;
        if (items) {
            for (size_t i = 0; i < nitems; i++)
                if (parse_formats_item(items[i], &bits, msg, msgn)) return -1;
        } else {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", v);
            for (char *save = NULL, *tok = strtok_r(tmp, ", ", &save); tok;
                 tok = strtok_r(NULL, ", ", &save))
                if (parse_formats_item(tok, &bits, msg, msgn)) return -1;
        }
        if (!bits) {
            snprintf(msg, msgn, "names no image format (jpeg, png)");
            return -1;
        }
        f->formats = bits;
        return 0;
    }
    if (strcmp(key, "max-bytes") == 0) {
        if (firn_parse_size(v, &f->max_bytes)) {
            snprintf(msg, msgn, "bad size '%s' (a number and a unit: 512KiB, 64MiB, 1GB)", v);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "decode") == 0) {
        int i = enum_index("full|scaled|header", v);
        if (i < 0) {
            snprintf(msg, msgn, "'%s' is not one of full, scaled, header", v);
            return -1;
        }
        f->decode = (firn_image_decode)i;
        return 0;
    }
    int64_t *dim = strcmp(key, "min-width") == 0    ? &f->min_width
                   : strcmp(key, "max-width") == 0  ? &f->max_width
                   : strcmp(key, "min-height") == 0 ? &f->min_height
                   : strcmp(key, "max-height") == 0 ? &f->max_height
                                                    : NULL;
    if (dim) {
        int64_t d;
        if (parse_int(v, &d) || d < 0 || d > 1 << 20) {
            snprintf(msg, msgn, "'%s' is not a pixel count (0 to 1048576)", v);
            return -1;
        }
        *dim = d;
        return 0;
    }
    return 1; /* unknown */
}

/* Checks a merged type (names the line where the field was last set). */
static int check_type(const firn_config_type *t, char *msg, size_t msgn, int *line) {
    int images = 0, uniques = 0;
    for (size_t i = 0; i < t->nfields; i++) {
        const firn_config_field *f = &t->fields[i];
        *line = f->line;
        bool numeric = f->type == FIRN_FIELD_INT || f->type == FIRN_FIELD_LONG ||
                       f->type == FIRN_FIELD_DOUBLE;
        if ((f->has_min || f->has_max) && !numeric) {
            snprintf(msg, msgn, "types.%s.fields.%s: min/max need a numeric type, not %s",
                     t->name, f->name, firn_field_type_name(f->type));
            return -1;
        }
        if (f->has_min && f->has_max && f->min > f->max) {
            snprintf(msg, msgn, "types.%s.fields.%s: min %g is above max %g", t->name, f->name,
                     f->min, f->max);
            return -1;
        }
        if (f->pattern && f->type != FIRN_FIELD_STRING) {
            snprintf(msg, msgn, "types.%s.fields.%s: a pattern needs type string, not %s",
                     t->name, f->name, firn_field_type_name(f->type));
            return -1;
        }
        if (f->type == FIRN_FIELD_IMAGE) {
            images++;
            if (f->min_width > f->max_width || f->min_height > f->max_height) {
                snprintf(msg, msgn, "types.%s.fields.%s: minimum dimensions above maximum",
                         t->name, f->name);
                return -1;
            }
        }
        if (f->unique) {
            uniques++;
            if (f->type != FIRN_FIELD_STRING && f->type != FIRN_FIELD_LONG &&
                f->type != FIRN_FIELD_INT) {
                snprintf(msg, msgn, "types.%s.fields.%s: unique needs a string or integer field",
                         t->name, f->name);
                return -1;
            }
        }
    }
    *line = 0;
    if (images > 1 || uniques > 1) {
        snprintf(msg, msgn, "types.%s: at most one %s field per type", t->name,
                 images > 1 ? "image" : "unique");
        return -1;
    }
    if (!t->table[0] || !t->untrusted_table[0]) {
        snprintf(msg, msgn, "types.%s: needs a table and an untrusted-table", t->name);
        return -1;
    }
    if (t->partition[0]) {
        const char *open = strchr(t->partition, '(');
        char src[128];
        if (open) {
            const char *close = strchr(open, ')');
            size_t n = close ? (size_t)(close - open - 1) : 0;
            if (!close || close[1] || n == 0 || n >= sizeof src) {
                snprintf(msg, msgn, "types.%s.partition: '%s' is not 'transform(field)' or 'field'",
                         t->name, t->partition);
                return -1;
            }
            memcpy(src, open + 1, n);
            src[n] = 0;
            char *comma = strrchr(src, ','); /* bucket(16, field) */
            if (comma) memmove(src, comma + 1 + (comma[1] == ' '), strlen(comma + 1) + 1);
        } else {
            snprintf(src, sizeof src, "%s", t->partition);
        }
        if (!firn_config_type_field(t, src)) {
            snprintf(msg, msgn, "types.%s.partition: '%s' names no field of the type", t->name,
                     src);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ YAML loading */

typedef struct load_ctx {
    firn_config *c;
    const char *name;
    yaml_document_t *doc;
    firn_error *err;
} load_ctx;

#define MAX_PATH 16

typedef struct path {
    const char *comp[MAX_PATH];
    size_t len[MAX_PATH];
    size_t n;
} key_path;

static bool comp_is(const key_path *p, size_t i, const char *s) {
    return i < p->n && p->len[i] == strlen(s) && memcmp(p->comp[i], s, p->len[i]) == 0;
}

static void path_join(const key_path *p, size_t from, char *out, size_t n) {
    size_t o = 0;
    out[0] = 0;
    for (size_t i = from; i < p->n && o + 1 < n; i++) {
        int w = snprintf(out + o, n - o, "%s%.*s", i > from ? "." : "", (int)p->len[i], p->comp[i]);
        if (w < 0) break;
        o += (size_t)w;
    }
    if (o >= n) out[n - 1] = 0;
}

static void path_str(const key_path *p, size_t from, size_t to, char *out, size_t n) {
    key_path q = *p;
    q.n = to;
    path_join(&q, from, out, n);
}

static bool is_null_scalar(const yaml_node_t *n) {
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

/* Edit distance counting a swap of neighbours as one edit (optimal string alignment). */
static size_t levenshtein(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 100 || lb > 100) return 1000;
    uint16_t d[101][101];
    for (size_t i = 0; i <= la; i++) d[i][0] = (uint16_t)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (uint16_t)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            unsigned best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1u < best) best = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < best) best = d[i][j - 1] + 1u;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1u < best)
                best = d[i - 2][j - 2] + 1u;
            d[i][j] = (uint16_t)best;
        }
    }
    return d[la][lb];
}

static void suggest(const char *key, const char *const *cands, size_t n, char *out, size_t outn) {
    size_t best = (size_t)-1;
    const char *pick = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t d = levenshtein(key, cands[i]);
        if (d < best) { best = d; pick = cands[i]; }
    }
    size_t limit = strlen(key) / 3 > 2 ? strlen(key) / 3 : 2;
    if (pick && best <= limit) snprintf(out, outn, " (did you mean '%s'?)", pick);
    else out[0] = 0;
}

static int fail(load_ctx *x, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(load_ctx *x, int line, const char *fmt, ...) {
    char body[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (line > 0) {
        FIRN_RAISE(x->err, FIRN_ERR_INVALID, "%s:%d: %s", x->name, line, body);
        firn_error_context(x->err, "%s:%d", x->name, line);
    } else {
        FIRN_RAISE(x->err, FIRN_ERR_INVALID, "%s: %s", x->name, body);
        firn_error_context(x->err, "%s", x->name);
    }
    return -1;
}

static int unknown_key(load_ctx *x, int line, const key_path *p) {
    char full[256], hint[300];
    path_join(p, 0, full, sizeof full);
    /* candidates: every table key, kafka.<rest>, and the types keys at this depth */
    const char *cands[128];
    char kafka_cand[300], tbuf[16][256];
    size_t n = 0, nt = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && n < 100; i++) cands[n++] = keys[i].name;
    if (p->n >= 2) {
        char rest[256];
        path_join(p, 1, rest, sizeof rest);
        snprintf(kafka_cand, sizeof kafka_cand, "kafka.%s", rest);
        cands[n++] = kafka_cand;
    }
    if (comp_is(p, 0, "types")) {
        char pre[128];
        if (p->n == 3) {
            path_str(p, 0, 2, pre, sizeof pre);
            for (size_t i = 0; type_keys[i] && nt < 16; i++, nt++) {
                snprintf(tbuf[nt], sizeof tbuf[nt], "%s.%s", pre, type_keys[i]);
                cands[n++] = tbuf[nt];
            }
        } else if (p->n == 5) {
            path_str(p, 0, 4, pre, sizeof pre);
            for (size_t i = 0; field_keys[i] && nt < 16; i++, nt++) {
                snprintf(tbuf[nt], sizeof tbuf[nt], "%s.%s", pre, field_keys[i]);
                cands[n++] = tbuf[nt];
            }
        }
    }
    suggest(full, cands, n, hint, sizeof hint);
    return fail(x, line, "unknown key '%s'%s", full, hint);
}

/* Scalar text of a node, or NULL (mapping or sequence). */
static const char *scalar(const yaml_node_t *n) {
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int apply_leaf(load_ctx *x, const key_path *p, yaml_node_t *node) {
    int line = (int)node->start_mark.line + 1;
    char full[256], msg[300];
    path_join(p, 0, full, sizeof full);
    const char *v = scalar(node);

    if (comp_is(p, 0, "kafka")) {
        if (p->n < 2) return fail(x, line, "kafka: expects a mapping of librdkafka settings");
        if (!v) return fail(x, line, "%s: expects a single value", full);
        return firn_config_set(x->c, full, v, NULL) == 0
                   ? 0 : fail(x, line, "%s: cannot be set", full);
    }
    if (comp_is(p, 0, "types")) {
        if (p->n == 1) {
            if (is_null_scalar(node)) return 0;
            return fail(x, line, "types: expects a mapping of event types");
        }
        char tname[128];
        path_str(p, 1, 2, tname, sizeof tname);
        if (p->n == 2) {
            if (is_null_scalar(node)) { type_remove(x->c, tname); return 0; }
            return fail(x, line, "%s: expects a mapping (topic, table, untrusted-table, partition, fields) or ~ to remove the type", full);
        }
        firn_config_type *t = type_get(x->c, tname, true);
        if (p->n == 3) {
            char **slot = comp_is(p, 2, "topic")             ? &t->topic
                          : comp_is(p, 2, "table")           ? &t->table
                          : comp_is(p, 2, "untrusted-table") ? &t->untrusted_table
                          : comp_is(p, 2, "partition")       ? &t->partition
                                                             : NULL;
            if (comp_is(p, 2, "fields")) {
                if (is_null_scalar(node)) {
                    while (t->nfields) field_remove(t, t->fields[0].name);
                    return 0;
                }
                return fail(x, line, "%s: expects a mapping of field names to rules", full);
            }
            if (!slot) return unknown_key(x, line, p);
            if (!v) return fail(x, line, "%s: expects a single value", full);
            if (is_null_scalar(node)) v = "";
            free(*slot);
            *slot = firn_xstrdup(v);
            return 0;
        }
        if (!comp_is(p, 2, "fields") || p->n > 5) return unknown_key(x, line, p);
        char fname[128];
        path_str(p, 3, 4, fname, sizeof fname);
        if (p->n == 4) {
            if (is_null_scalar(node)) { field_remove(t, fname); return 0; }
            if (!v) return fail(x, line, "%s: expects a mapping of rules or a type name", full);
            firn_config_field *f = field_get(t, fname, true);
            f->line = line;
            int rc = set_field_key(f, "type", v, NULL, 0, msg, sizeof msg);
            return rc ? fail(x, line, "%s: %s", full, msg) : 0;
        }
        firn_config_field *f = field_get(t, fname, true);
        f->line = line;
        char key[64];
        path_str(p, 4, 5, key, sizeof key);
        const char *items[16];
        size_t nitems = 0;
        if (node->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *it = node->data.sequence.items.start;
                 it < node->data.sequence.items.top; it++) {
                yaml_node_t *in = yaml_document_get_node(x->doc, *it);
                if (!in || !scalar(in) || nitems == 16)
                    return fail(x, line, "%s: expects a list of names", full);
                items[nitems++] = scalar(in);
            }
        } else if (!v) {
            return fail(x, line, "%s: expects a single value, not a mapping", full);
        }
        int rc = set_field_key(f, key, v ? v : "", node->type == YAML_SEQUENCE_NODE ? items : NULL,
                               nitems, msg, sizeof msg);
        if (rc > 0) return unknown_key(x, line, p);
        return rc ? fail(x, line, "%s: %s", full, msg) : 0;
    }
    const firn_config_key *k = find_key(full);
    if (!k) return unknown_key(x, line, p);
    if (!v) return fail(x, line, "%s: expects a single value, not a %s", full,
                        node->type == YAML_MAPPING_NODE ? "mapping" : "list");
    if (set_scalar(x->c, k, v, msg, sizeof msg)) return fail(x, line, "%s: %s", full, msg);
    return 0;
}

/* Does any table key start with prefix + "."? */
static bool is_section(const char *prefix) {
    size_t n = strlen(prefix);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strncmp(keys[i].name, prefix, n) == 0 && keys[i].name[n] == '.') return true;
    return false;
}

static int walk(load_ctx *x, key_path *p, yaml_node_t *node, int depth) {
    if (depth > 12) return fail(x, (int)node->start_mark.line + 1, "nesting too deep");
    if (node->type != YAML_MAPPING_NODE) return apply_leaf(x, p, node);
    char full[256];
    path_join(p, 0, full, sizeof full);
    /* a mapping where a scalar key lives is an error */
    if (p->n && !comp_is(p, 0, "kafka") && !comp_is(p, 0, "types") && find_key(full))
        return apply_leaf(x, p, node);
    if (p->n && !comp_is(p, 0, "kafka") && !comp_is(p, 0, "types") && !is_section(full) &&
        node->data.mapping.pairs.start == node->data.mapping.pairs.top)
        return unknown_key(x, (int)node->start_mark.line + 1, p);
    if (comp_is(p, 0, "types")) {
        char name[128];
        int line = (int)node->start_mark.line + 1;
        if (p->n == 2) {
            path_str(p, 1, 2, name, sizeof name);
            type_get(x->c, name, true);
        } else if (p->n == 3 && !comp_is(p, 2, "fields")) {
            return apply_leaf(x, p, node); /* a mapping under topic/table/...: error */
        } else if (p->n == 4 && comp_is(p, 2, "fields")) {
            path_str(p, 1, 2, name, sizeof name);
            firn_config_type *t = type_get(x->c, name, true);
            path_str(p, 3, 4, name, sizeof name);
            field_get(t, name, true)->line = line;
        } else if (p->n >= 5) {
            return apply_leaf(x, p, node);
        }
    }
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(x->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(x->doc, pair->value);
        if (!k || !v) continue;
        const char *ks = scalar(k);
        if (!ks || !*ks) return fail(x, (int)k->start_mark.line + 1, "keys must be names");
        key_path q = *p;
        /* split dotted keys, except the inside of kafka.* and names under types */
        const char *s = ks;
        for (;;) {
            if (q.n == MAX_PATH) return fail(x, (int)k->start_mark.line + 1, "key '%s' too deep", ks);
            bool whole = comp_is(&q, 0, "kafka") && q.n >= 1;
            const char *dot = whole ? NULL : strchr(s, '.');
            q.comp[q.n] = s;
            q.len[q.n] = dot ? (size_t)(dot - s) : strlen(s);
            q.n++;
            if (!dot) break;
            s = dot + 1;
        }
        int rc = walk(x, &q, v, depth + 1);
        if (rc) return rc;
    }
    return 0;
}

static int load_yaml(firn_config *c, const char *text, size_t len, const char *name,
                     firn_error *err) {
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) return FIRN_RAISE(err, FIRN_ERR_NOMEM, "yaml parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    load_ctx x = {c, name, &doc, err};
    int rc = 0;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = fail(&x, (int)parser.problem_mark.line + 1, "YAML syntax error: %s%s%s",
                  parser.problem ? parser.problem : "unknown",
                  parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && !is_null_scalar(root)) {
        if (root->type != YAML_MAPPING_NODE) {
            rc = fail(&x, (int)root->start_mark.line + 1,
                      "the file must be a mapping of keys (stream:, pipeline:, types:, ...)");
        } else {
            key_path p = {.n = 0};
            rc = walk(&x, &p, root, 0);
        }
    }
    yaml_document_delete(&doc);
    /* a second document is an error: one config per file */
    if (!rc && root) {
        yaml_document_t more;
        if (yaml_parser_load(&parser, &more)) {
            yaml_node_t *r2 = yaml_document_get_root_node(&more);
            if (r2) rc = fail(&x, (int)r2->start_mark.line + 1, "more than one YAML document");
            yaml_document_delete(&more);
        }
    }
    yaml_parser_delete(&parser);
    if (rc) return rc;
    for (size_t i = 0; i < c->ntypes; i++) {
        char msg[320];
        int line = 0;
        if (check_type(&c->types[i], msg, sizeof msg, &line)) return fail(&x, line, "%s", msg);
    }
    return 0;
}

/* ------------------------------------------------------------ public */

firn_config *firn_config_new_default(void) {
    firn_config *c = firn_xcalloc(1, sizeof *c);
    c->path = firn_xstrdup("(defaults)");
    char msg[300];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (set_scalar(c, &keys[i], keys[i].def, msg, sizeof msg)) {
            fprintf(stderr, "firn: built-in default of %s: %s\n", keys[i].name, msg);
            abort();
        }
    }
    c->kafka_conf = firn_xcalloc(1, sizeof *c->kafka_conf);
    firn_error err;
    firn_error_init(&err);
    if (load_yaml(c, default_types_yaml, strlen(default_types_yaml), "(built-in types)", &err)) {
        fprintf(stderr, "firn: %s\n", err.message);
        abort();
    }
    for (size_t i = 0; i < c->ntypes; i++)
        for (size_t j = 0; j < c->types[i].nfields; j++) c->types[i].fields[j].line = 0;
    return c;
}

void firn_config_free(firn_config *c) {
    if (!c) return;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].kind == FIRN_CFG_STRING) free(*(char **)((char *)c + keys[i].offset));
    for (size_t i = 0; c->kafka_conf && c->kafka_conf[i]; i++) free(c->kafka_conf[i]);
    free(c->kafka_conf);
    for (size_t i = 0; i < c->ntypes; i++) type_release(&c->types[i]);
    free(c->types);
    free(c->path);
    free(c);
}

int firn_config_load_string(const char *text, size_t len, const char *name, firn_config **out,
                            firn_error *err) {
    firn_config *c = firn_config_new_default();
    free(c->path);
    c->path = firn_xstrdup(name);
    int rc = load_yaml(c, text, len, name, err);
    if (rc) {
        firn_config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int firn_config_load(const char *path, bool must_exist, firn_config **out, firn_error *err) {
    uint8_t *data = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT && !must_exist) {
            *out = firn_config_new_default();
            return 0;
        }
        return FIRN_RAISE(err, FIRN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    fclose(f);
    int rc = firn_read_file(path, &data, &len, err);
    if (rc) return rc;
    rc = firn_config_load_string((const char *)data, len, path, out, err);
    free(data);
    return rc;
}

int firn_config_set(firn_config *c, const char *key, const char *value, firn_error *err) {
    if (strncmp(key, "kafka.", 6) == 0 && key[6]) {
        const char *k = key + 6;
        size_t i = 0;
        for (; c->kafka_conf[i]; i += 2) {
            if (strcmp(c->kafka_conf[i], k) == 0) {
                free(c->kafka_conf[i + 1]);
                c->kafka_conf[i + 1] = firn_xstrdup(value);
                return 0;
            }
        }
        c->kafka_conf = firn_xrealloc(c->kafka_conf, (i + 3) * sizeof *c->kafka_conf);
        c->kafka_conf[i] = firn_xstrdup(k);
        c->kafka_conf[i + 1] = firn_xstrdup(value);
        c->kafka_conf[i + 2] = NULL;
        c->nkafka++;
        return 0;
    }
    const firn_config_key *k = find_key(key);
    if (!k) return FIRN_RAISE(err, FIRN_ERR_INVALID, "unknown key '%s'", key);
    char msg[300];
    if (set_scalar(c, k, value, msg, sizeof msg))
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: %s", key, msg);
    return 0;
}

/* ------------------------------------------------------------ docs */

static const char *kind_doc(firn_config_kind k) {
    switch (k) {
    case FIRN_CFG_STRING: return "string";
    case FIRN_CFG_INT: return "integer";
    case FIRN_CFG_DOUBLE: return "number";
    case FIRN_CFG_BOOL: return "boolean";
    case FIRN_CFG_DURATION: return "duration";
    case FIRN_CFG_SIZE: return "size";
    case FIRN_CFG_ENUM: return "one of";
    }
    return "?";
}

void firn_config_write_docs(firn_buf *o) {
    firn_buf_append_str(o,
        "# Configuration: firn.yaml\n\n"
        "<!-- Generated from the key table in src/config/config.c by build/tools/config_docs;\n"
        "     a unit test fails when this file and the code drift. Do not edit by hand. -->\n\n"
        "firn reads one YAML file, `firn.yaml` in the working directory or the file given with\n"
        "`--config`. Every key has a default, so an empty or missing file runs the embedded demo:\n"
        "the spool log in `./data/spool`, a SQLite catalog and tables in `./warehouse`, and the\n"
        "parking-lot event types below. An example with every key is `examples/firn.yaml`.\n\n"
        "Keys are namespaced by the stage that reads them and never collide with Iceberg table\n"
        "properties. Nested and dotted spellings mean the same:\n\n"
        "```yaml\n"
        "pipeline:\n"
        "  commit-interval: 500ms\n"
        "# or\n"
        "pipeline.commit-interval: 500ms\n"
        "```\n\n"
        "**Durations** are a number and a unit, several may follow each other: `500ms`, `90s`,\n"
        "`5m`, `1h30m`, `3d`, `2w` (units `us ms s m h d w`; a bare `0` is allowed).\n"
        "**Sizes** are a number and an optional unit: `64MiB`, `512KiB`, `1GB`, `100` (bytes);\n"
        "`B KB MB GB TB` are powers of 1000, `KiB MiB GiB TiB` powers of 1024.\n"
        "**Booleans** are `true`/`false` (also yes/no, on/off).\n\n"
        "Errors name the file, the line and the key, for example\n"
        "`firn.yaml:12: unknown key 'kafak.brokers' (did you mean 'kafka.brokers'?)`.\n");
    char section[32] = "-";
    size_t nkeys = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < nkeys; i++) {
        const firn_config_key *k = &keys[i];
        const char *dot = strchr(k->name, '.');
        char cur[32];
        snprintf(cur, sizeof cur, "%.*s", dot ? (int)(dot - k->name) : (int)strlen(k->name),
                 k->name);
        if (!dot || strcmp(cur, section) != 0) {
            snprintf(section, sizeof section, "%s", dot ? cur : "-");
            if (!dot) firn_buf_appendf(o, "\n## `%s`\n\n", k->name);
            else firn_buf_appendf(o, "\n## `%s.*`\n\n", cur);
            firn_buf_append_str(o, "| Key | Type | Default | Description |\n|---|---|---|---|\n");
        }
        char type[96];
        if (k->kind == FIRN_CFG_ENUM) {
            char list[80];
            enum_list(k->values, list, sizeof list);
            snprintf(type, sizeof type, "one of %s", list);
        } else {
            snprintf(type, sizeof type, "%s", kind_doc(k->kind));
        }
        firn_buf_appendf(o, "| `%s` | %s | `%s` | %s |\n", k->name, type, k->def, k->doc);
    }
    firn_buf_append_str(o,
        "\n## `kafka.*`\n\n"
        "Every `kafka.<name>` key is passed to librdkafka as `<name>` unchanged, for SASL, TLS and\n"
        "tuning (`kafka.security.protocol: SASL_SSL`, `kafka.sasl.mechanism: SCRAM-SHA-512`, ...).\n"
        "Nested spelling works too: `kafka: {security.protocol: SASL_SSL}`. The brokers come from\n"
        "`stream.uri`. No default keys.\n");
    firn_buf_append_str(o,
        "\n## `types`\n\n"
        "Each key of `types` is an event type: the value of the route field\n"
        "(`pipeline.route-field`, default `eventType`) that selects it. Per type:\n\n"
        "| Key | Meaning |\n|---|---|\n"
        "| `topic` | its per-type topic (default: the type's name) |\n"
        "| `table` | the production table (trusted rows), `namespace.name` |\n"
        "| `untrusted-table` | the staging table for rows that fail a rule |\n"
        "| `partition` | the production table's partition spec: `transform(field)` or `field`, "
        "e.g. `day(timeStamp)`; empty = unpartitioned |\n"
        "| `fields` | the fields, in column order: `name: {rules}` or `name: <type>` |\n\n"
        "Field rules, with the rule name an event that breaks it gets (in the untrusted table's\n"
        "`failed_rules`; `<f>` is the field's name):\n\n"
        "| Key | Applies to | Default | Rule | Meaning |\n|---|---|---|---|---|\n"
        "| `type` | all | `string` | `type:<f>` | `string`, `int` (32-bit), `long`, `double`, "
        "`boolean`, `timestamp` (ISO-8601 with a zone, stored as timestamptz in microseconds), "
        "`image`, `json` (any value but null, kept as text: a string as itself, anything else as "
        "its JSON text) |\n"
        "| `required` | all | `false` | `required:<f>` | the field must be present and not null |\n"
        "| `unique` | string, int, long | `false` | `duplicate:<f>` | no two events with this "
        "value and different payloads within `pipeline.dedupe-window`; at most one per type |\n"
        "| `min`, `max` | int, long, double | none | `range:<f>` | inclusive bounds |\n"
        "| `pattern` | string | none | `pattern:<f>` | POSIX extended regex the value must match "
        "(anchor it with `^...$`) |\n"
        "| `max-future` | timestamp | unchecked | `timestamp:future` | allowed clock skew: how far "
        "ahead of the processing clock a timestamp may be |\n"
        "| `max-age` | timestamp | unchecked | `timestamp:too-old` | how far behind it may be |\n"
        "| `formats` | image | `[jpeg, png]` | `image:format` | allowed formats (jpeg, png) |\n"
        "| `min-width`, `max-width`, `min-height`, `max-height` | image | 1, 65535 | "
        "`image:dimensions` | pixel bounds |\n"
        "| `max-bytes` | image | `16MiB` | `image:size` | largest encoded image |\n"
        "| `decode` | image | `full` | `image:decode` | `full`: decode every pixel; `scaled`: "
        "JPEG at 1/8 scale (the whole entropy-coded stream is still read, so truncation and "
        "corrupt data are caught, at a fraction of the cost); `header`: dimensions only |\n\n"
        "A wrong JSON type (a string where a number is expected) fails `type:<f>`; an image "
        "that is not a JPEG or PNG, or does not decode, fails `image:decode`. An image arrives "
        "in the record header `image` or, base64-encoded, in the JSON field itself; an image "
        "field becomes the columns `<f>` (binary), `<f>_format`, `<f>_width`, `<f>_height` and "
        "`<f>_sha256` (hex) of the production table.\n\n"
        "Events that cannot be parsed at all go to the dead-letter topic with one of these "
        "reasons: `parse:too-large`, `parse:empty`, `parse:invalid-utf8`, `parse:syntax`, "
        "`parse:not-object`, `parse:too-deep`, `parse:field-too-large`, "
        "`parse:too-many-fields`, `parse:duplicate-key`.\n\n"
        "A file's `types:` merges over the built-in types key by key: "
        "`types.parking-entry.fields.x.max: 300` changes one bound; a new type name adds a "
        "type; a type or field set to `~` removes it. The built-in types:\n\n"
        "```yaml\n");
    firn_buf_append_str(o, default_types_yaml);
    firn_buf_append_str(o, "```\n");
}
