/* test_config.c - firn.yaml: defaults, overrides, merging of types, values
 * (durations, sizes), and errors that name the file, the line and the key. */
#include "test.h"
#include "config/config.h"

#include <stdlib.h>

static firn_config *load(const char *text, firn_error *err) {
    firn_config *c = NULL;
    firn_error_init(err);
    if (firn_config_load_string(text, strlen(text), "firn.yaml", &c, err)) return NULL;
    return c;
}

/* The load fails and the message is exactly want. */
#define CHECK_LOAD_ERROR(text, want)                                                   \
    do {                                                                              \
        firn_error e_;                                                                \
        firn_config *c_ = load((text), &e_);                                          \
        CHECK_MSG(c_ == NULL, "loaded, expected: %s", (want));                        \
        CHECK_EQ_STR(e_.message, (want));                                             \
        CHECK(e_.kind == FIRN_ERR_INVALID);                                           \
        firn_error_release(&e_);                                                      \
    } while (0)

FIRN_TEST(config_defaults) {
    firn_error err;
    firn_config *c = load("", &err);
    CHECK(c != NULL);
    CHECK_EQ_STR(c->stream_uri, "spool:./data/spool");
    CHECK_EQ_INT(c->stream_fsync, 0);
    CHECK_EQ_STR(c->catalog_uri, "sqlite:./warehouse/catalog.db");
    CHECK_EQ_STR(c->warehouse, "./warehouse");
    CHECK_EQ_INT(c->max_event_bytes, 16 << 20);
    CHECK_EQ_INT(c->commit_interval_us, 1000000);
    CHECK_EQ_INT(c->commit_max_bytes, 64 << 20);
    CHECK_EQ_INT(c->unknown_types, 0);
    CHECK_EQ_STR(c->route_field, "eventType");
    CHECK_EQ_STR(c->key_field, "carId");
    CHECK_EQ_INT(c->dedupe_window_us, 3600LL * 1000000);
    CHECK(c->kafka_conf && c->kafka_conf[0] == NULL);
    CHECK_EQ_INT(c->ntypes, 2);
    const firn_config_type *t = firn_config_find_type(c, "parking-entry", 13);
    CHECK(t != NULL);
    CHECK_EQ_STR(t->table, "production.parking_entry");
    CHECK_EQ_STR(t->untrusted_table, "staging.parking_entry_untrusted");
    CHECK_EQ_STR(t->partition, "day(timeStamp)");
    CHECK_EQ_STR(t->topic, "parking-entry");
    static const char *const names[] = {"eventId", "eventType", "timeStamp", "carId", "slotId",
                                        "x", "y", "cameraId", "image"};
    CHECK_EQ_INT(t->nfields, 9);
    for (size_t i = 0; i < 9; i++) CHECK_EQ_STR(t->fields[i].name, names[i]);
    const firn_config_field *f = firn_config_type_field(t, "carId");
    CHECK(f->required && f->type == FIRN_FIELD_STRING && f->pattern);
    f = firn_config_type_field(t, "eventId");
    CHECK(f->unique);
    f = firn_config_type_field(t, "timeStamp");
    CHECK(f->type == FIRN_FIELD_TIMESTAMP && f->max_future_us == 300000000 &&
          f->max_age_us == 7LL * 86400 * 1000000);
    f = firn_config_type_field(t, "x");
    CHECK(f->type == FIRN_FIELD_DOUBLE && f->has_min && f->has_max && f->min == 0 && f->max == 50);
    f = firn_config_type_field(t, "image");
    CHECK(f->type == FIRN_FIELD_IMAGE && f->formats == (FIRN_IMAGE_JPEG | FIRN_IMAGE_PNG));
    CHECK_EQ_INT(f->max_bytes, 8 << 20);
    t = firn_config_find_type(c, "parking-exit", 12);
    CHECK(t && strcmp(t->table, "production.parking_exit") == 0 && t->nfields == 9);
    CHECK(firn_config_find_type(c, "parking", 7) == NULL);
    firn_config_free(c);

    /* a missing file is the defaults unless it must exist */
    c = NULL;
    CHECK_OK(firn_config_load(firn_test_path("no-such.yaml"), false, &c, &err), &err);
    CHECK(c && c->ntypes == 2);
    firn_config_free(c);
    CHECK(firn_config_load(firn_test_path("no-such.yaml"), true, &c, &err) == -FIRN_ERR_IO);
    firn_error_release(&err);
    /* a file with only comments, or an explicit null document */
    c = load("# nothing here\n", &err);
    CHECK(c && c->ntypes == 2);
    firn_config_free(c);
    c = load("~\n", &err);
    CHECK(c && c->ntypes == 2);
    firn_config_free(c);
}

FIRN_TEST(config_overrides) {
    firn_error err;
    firn_config *c = load("stream:\n"
                          "  uri: kafka://127.0.0.1:9092\n"
                          "  fsync: never\n"
                          "pipeline.commit-interval: 250ms\n"
                          "pipeline:\n"
                          "  commit-max-bytes: 1.5MiB\n"
                          "  unknown-types: create\n"
                          "  dedupe-window: 1h30m\n"
                          "limits: {max-event-bytes: 2MB}\n"
                          "server:\n  enabled: no\n"
                          "sim:\n  rate: 2500.5\n  bad-ratio: 0.05\n  image-format: png\n"
                          "kafka:\n"
                          "  security.protocol: SASL_SSL\n"
                          "  sasl: {mechanism: PLAIN}\n"
                          "kafka.linger.ms: 5\n"
                          "warehouse: s3://bucket/wh\n",
                          &err);
    CHECK_MSG(c != NULL, "%s", err.message);
    CHECK_EQ_STR(c->stream_uri, "kafka://127.0.0.1:9092");
    CHECK_EQ_INT(c->stream_fsync, 2);
    CHECK_EQ_INT(c->commit_interval_us, 250000);
    CHECK_EQ_INT(c->commit_max_bytes, 1572864);
    CHECK_EQ_INT(c->unknown_types, 1);
    CHECK_EQ_INT(c->dedupe_window_us, 5400LL * 1000000);
    CHECK_EQ_INT(c->max_event_bytes, 2000000);
    CHECK(!c->server_enabled);
    CHECK(c->sim_rate == 2500.5 && c->sim_bad_ratio == 0.05 && c->sim_image_format == 1);
    CHECK_EQ_STR(c->warehouse, "s3://bucket/wh");
    CHECK_EQ_INT(c->nkafka, 3);
    CHECK_EQ_STR(c->kafka_conf[0], "security.protocol");
    CHECK_EQ_STR(c->kafka_conf[1], "SASL_SSL");
    CHECK_EQ_STR(c->kafka_conf[2], "sasl.mechanism");
    CHECK_EQ_STR(c->kafka_conf[3], "PLAIN");
    CHECK_EQ_STR(c->kafka_conf[4], "linger.ms");
    CHECK_EQ_STR(c->kafka_conf[5], "5");
    CHECK(c->kafka_conf[6] == NULL);
    /* untouched keys keep their defaults */
    CHECK_EQ_STR(c->catalog_uri, "sqlite:./warehouse/catalog.db");
    CHECK_EQ_INT(c->stream_partitions, 4);
    /* command-line style overrides */
    CHECK_OK(firn_config_set(c, "sim.rate", "10", &err), &err);
    CHECK(c->sim_rate == 10);
    CHECK_OK(firn_config_set(c, "kafka.linger.ms", "7", &err), &err);
    CHECK_EQ_STR(c->kafka_conf[5], "7");
    CHECK(firn_config_set(c, "sim.rat", "10", &err) < 0);
    CHECK_EQ_STR(err.message, "unknown key 'sim.rat'");
    CHECK(firn_config_set(c, "sim.rate", "fast", &err) < 0);
    CHECK_EQ_STR(err.message, "sim.rate: 'fast' is not a number");
    firn_error_release(&err);
    firn_config_free(c);
}

FIRN_TEST(config_types_merge) {
    firn_error err;
    firn_config *c = load("types:\n"
                          "  parking-entry:\n"
                          "    fields:\n"
                          "      x: {max: 300}\n"
                          "      cameraId: ~\n"
                          "      plateConfidence: {type: double, min: 0, max: 1}\n"
                          "  parking-exit: ~\n"
                          "  truck-entry:\n"
                          "    table: production.truck_entry\n"
                          "    untrusted-table: staging.truck_entry_untrusted\n"
                          "    partition: hour(at)\n"
                          "    fields:\n"
                          "      at: timestamp\n"
                          "      weight: {type: long, required: yes}\n"
                          "      photo: {type: image, formats: png, decode: header}\n"
                          "types.parking-entry.fields.y.min: -5\n",
                          &err);
    CHECK_MSG(c != NULL, "%s", err.message);
    CHECK_EQ_INT(c->ntypes, 2);
    const firn_config_type *t = firn_config_find_type(c, "parking-entry", 13);
    const firn_config_field *x = firn_config_type_field(t, "x");
    CHECK(x->max == 300 && x->min == 0 && x->required && x->type == FIRN_FIELD_DOUBLE);
    CHECK(firn_config_type_field(t, "y")->min == -5);
    CHECK(firn_config_type_field(t, "cameraId") == NULL);
    CHECK_EQ_INT(t->nfields, 9);
    CHECK_EQ_STR(t->fields[8].name, "plateConfidence");
    CHECK(firn_config_find_type(c, "parking-exit", 12) == NULL);
    t = firn_config_find_type(c, "truck-entry", 11);
    CHECK(t != NULL);
    CHECK_EQ_STR(t->topic, "truck-entry");
    CHECK_EQ_INT(t->nfields, 3);
    CHECK(t->fields[0].type == FIRN_FIELD_TIMESTAMP && !t->fields[0].required);
    CHECK(t->fields[1].type == FIRN_FIELD_LONG && t->fields[1].required);
    CHECK(t->fields[2].formats == FIRN_IMAGE_PNG && t->fields[2].decode == FIRN_IMAGE_DECODE_HEADER);
    firn_config_free(c);
}

FIRN_TEST(config_durations_and_sizes) {
    static const struct { const char *s; int64_t us; } d[] = {
        {"0", 0}, {"500ms", 500000}, {"90s", 90000000}, {"3d", 259200000000LL},
        {"1h30m", 5400000000LL}, {"250us", 250}, {"1.5s", 1500000}, {"2w", 1209600000000LL},
        {"5m 30s", 330000000LL}};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        int64_t v = -1;
        CHECK_MSG(firn_parse_duration(d[i].s, &v) == 0, "duration %s", d[i].s);
        CHECK_EQ_INT(v, d[i].us);
    }
    static const char *const bad_d[] = {"", "5", "5 parsecs", "ms", "-1s", "1s5", "1y", "s1"};
    for (size_t i = 0; i < sizeof bad_d / sizeof bad_d[0]; i++) {
        int64_t v;
        CHECK_MSG(firn_parse_duration(bad_d[i], &v) < 0, "accepted duration '%s'", bad_d[i]);
    }
    static const struct { const char *s; int64_t b; } z[] = {
        {"0", 0}, {"100", 100}, {"64MiB", 64 << 20}, {"16 MiB", 16 << 20}, {"512KiB", 512 << 10},
        {"1GB", 1000000000}, {"2gib", 2LL << 30}, {"10B", 10}, {"1.5KiB", 1536}, {"3kb", 3000}};
    for (size_t i = 0; i < sizeof z / sizeof z[0]; i++) {
        int64_t v = -1;
        CHECK_MSG(firn_parse_size(z[i].s, &v) == 0, "size %s", z[i].s);
        CHECK_EQ_INT(v, z[i].b);
    }
    static const char *const bad_z[] = {"", "MiB", "-1", "5 parsecs", "1.3B", "64MiBs", "1e400"};
    for (size_t i = 0; i < sizeof bad_z / sizeof bad_z[0]; i++) {
        int64_t v;
        CHECK_MSG(firn_parse_size(bad_z[i], &v) < 0, "accepted size '%s'", bad_z[i]);
    }
}

FIRN_TEST(config_errors_name_file_line_key) {
    CHECK_LOAD_ERROR("stream:\n  uri: x\nkafak.brokers: a\n",
                     "firn.yaml:3: unknown key 'kafak.brokers' (did you mean 'kafka.brokers'?)");
    CHECK_LOAD_ERROR("kafak:\n  brokers: a\n",
                     "firn.yaml:2: unknown key 'kafak.brokers' (did you mean 'kafka.brokers'?)");
    CHECK_LOAD_ERROR("pipeline:\n  comit-interval: 1s\n",
                     "firn.yaml:2: unknown key 'pipeline.comit-interval' (did you mean "
                     "'pipeline.commit-interval'?)");
    CHECK_LOAD_ERROR("bogus: 1\n", "firn.yaml:1: unknown key 'bogus'");
    CHECK_LOAD_ERROR("stream:\n  fsync: sometimes\n",
                     "firn.yaml:2: stream.fsync: 'sometimes' is not one of batch, always, never");
    CHECK_LOAD_ERROR("\n\npipeline.commit-interval: 5 parsecs\n",
                     "firn.yaml:3: pipeline.commit-interval: bad duration '5 parsecs' (a number "
                     "and a unit: 500ms, 90s, 5m, 3d)");
    CHECK_LOAD_ERROR("pipeline:\n  commit-max-bytes: lots\n",
                     "firn.yaml:2: pipeline.commit-max-bytes: bad size 'lots' (a number and a "
                     "unit: 512KiB, 64MiB, 1GB)");
    CHECK_LOAD_ERROR("stream:\n  partitions: four\n",
                     "firn.yaml:2: stream.partitions: 'four' is not an integer");
    CHECK_LOAD_ERROR("stream:\n  partitions: 0\n",
                     "firn.yaml:2: stream.partitions: 0 is out of range [1, 4096]");
    CHECK_LOAD_ERROR("server:\n  enabled: maybe\n",
                     "firn.yaml:2: server.enabled: 'maybe' is not a boolean (true or false)");
    CHECK_LOAD_ERROR("stream:\n  uri:\n    a: b\n",
                     "firn.yaml:3: stream.uri: expects a single value, not a mapping");
    CHECK_LOAD_ERROR("stream: [1, 2]\n", "firn.yaml:1: unknown key 'stream'");
    CHECK_LOAD_ERROR("types:\n  parking-entry:\n    fields:\n      carId:\n        pattern: '[A-'\n",
                     "firn.yaml:5: types.parking-entry.fields.carId.pattern: bad regex '[A-': "
                     "Unmatched [, [^, [:, [., or [=");
    CHECK_LOAD_ERROR("types:\n  parking-entry:\n    fields:\n      x: {type: double, mxa: 3}\n",
                     "firn.yaml:4: unknown key 'types.parking-entry.fields.x.mxa' (did you mean "
                     "'types.parking-entry.fields.x.max'?)");
    CHECK_LOAD_ERROR("types:\n  parking-entry:\n    tabel: a.b\n",
                     "firn.yaml:3: unknown key 'types.parking-entry.tabel' (did you mean "
                     "'types.parking-entry.table'?)");
    CHECK_LOAD_ERROR("types:\n  parking-entry:\n    fields:\n      x: {type: float}\n",
                     "firn.yaml:4: types.parking-entry.fields.x.type: 'float' is not a field type "
                     "(string, int, long, double, boolean, timestamp, image, json)");
    CHECK_LOAD_ERROR("types:\n  parking-entry:\n    fields:\n      image: {formats: [jpeg, gif]}\n",
                     "firn.yaml:4: types.parking-entry.fields.image.formats: 'gif' is not an "
                     "image format firn decodes (jpeg, png)");
    CHECK_LOAD_ERROR("types:\n  parking-entry:\n    fields:\n      timeStamp: {max-age: forever}\n",
                     "firn.yaml:4: types.parking-entry.fields.timeStamp.max-age: bad duration "
                     "'forever' (a number and a unit: 500ms, 90s, 5m, 3d)");
    /* checks after merging name the line where the field was last set */
    CHECK_LOAD_ERROR("types:\n  parking-entry:\n    fields:\n      carId: {type: long}\n",
                     "firn.yaml:4: types.parking-entry.fields.carId: a pattern needs type string, "
                     "not long");
    CHECK_LOAD_ERROR("types:\n  parking-entry:\n    fields:\n\n      x:\n        min: 10\n        max: 5\n",
                     "firn.yaml:7: types.parking-entry.fields.x: min 10 is above max 5");
    CHECK_LOAD_ERROR("types:\n  parking-entry:\n    partition: day(when)\n",
                     "firn.yaml: types.parking-entry.partition: 'when' names no field of the type");
    CHECK_LOAD_ERROR("types:\n  t:\n    fields:\n      a: string\n",
                     "firn.yaml: types.t: needs a table and an untrusted-table");
    /* YAML syntax errors name the line too */
    firn_error e;
    CHECK(load("stream:\n  uri: [unclosed\n", &e) == NULL);
    CHECK_MSG(strncmp(e.message, "firn.yaml:3: YAML syntax error", 30) == 0, "%s", e.message);
    firn_error_release(&e);
    CHECK(load("- a\n- b\n", &e) == NULL);
    CHECK_EQ_STR(e.message, "firn.yaml:1: the file must be a mapping of keys (stream:, pipeline:, types:, ...)");
    firn_error_release(&e);
    /* and from a real file, the path */
    const char *p = firn_test_path("bad.yaml");
    CHECK_OK(firn_write_file(p, "sim:\n  seed: 7\n  rate: -3\n", 26, &e), &e);
    firn_config *c = NULL;
    CHECK(firn_config_load(p, true, &c, &e) < 0);
    char want[512];
    snprintf(want, sizeof want, "%s:3: sim.rate: -3 is out of range [0, 1e+09]", p);
    CHECK_EQ_STR(e.message, want);
    firn_error_release(&e);
}

/* docs/configuration.md is generated from the key table; fail when they drift. */
FIRN_TEST(config_docs_match_code) {
    firn_buf b;
    firn_buf_init(&b);
    firn_config_write_docs(&b);
    uint8_t *data = NULL;
    size_t len = 0;
    firn_error err;
    firn_error_init(&err);
    CHECK_MSG(firn_read_file("docs/configuration.md", &data, &len, &err) == 0,
              "cannot read docs/configuration.md (run from the repository root)");
    CHECK_MSG(len == b.len && memcmp(data, b.data, len) == 0,
              "docs/configuration.md is stale: run build/tools/config_docs > docs/configuration.md");
    free(data);
    /* every key in the table is documented with its default */
    size_t n;
    const firn_config_key *k = firn_config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        char row[200];
        snprintf(row, sizeof row, "| `%s` |", k[i].name);
        CHECK_MSG(strstr(firn_buf_cstr(&b), row) != NULL, "%s undocumented", k[i].name);
    }
    firn_buf_release(&b);
}

/* examples/firn.yaml loads and sets every key of the table explicitly. */
FIRN_TEST(config_example_file) {
    firn_error err;
    firn_config *c = NULL;
    firn_error_init(&err);
    CHECK_OK(firn_config_load("examples/firn.yaml", true, &c, &err), &err);
    uint8_t *data = NULL;
    size_t len = 0;
    CHECK_OK(firn_read_file("examples/firn.yaml", &data, &len, &err), &err);
    char *text = firn_xmalloc(len + 1);
    memcpy(text, data, len);
    text[len] = 0;
    size_t n;
    const firn_config_key *k = firn_config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        const char *dot = strchr(k[i].name, '.');
        char leaf[80];
        snprintf(leaf, sizeof leaf, "%s:", dot ? dot + 1 : k[i].name);
        CHECK_MSG(strstr(text, leaf) != NULL, "examples/firn.yaml lacks %s", k[i].name);
    }
    CHECK(c->ntypes == 2);
    free(text);
    free(data);
    firn_config_free(c);
}
