/*
 * avro_manifest.h - the Iceberg v2 manifest_entry Avro schema (format/spec.md,
 * "Manifests", written the way Iceberg's Java writer writes it) and
 * deterministic manifest entries, shared by tests/unit/test_avro.c and
 * tests/tools/avro_fixture.c.
 */
#ifndef FIRN_TEST_AVRO_MANIFEST_H
#define FIRN_TEST_AVRO_MANIFEST_H

#include "avro/avro.h"

#include <math.h>
#include <stdio.h>

/* A stats map as Iceberg writes it: an array of key/value records, logicalType map. */
#define TEST_STATS_MAP(fname, fid, kid, vid, vtype, doc)                                       \
    "{\"name\":\"" fname "\",\"type\":[\"null\",{\"type\":\"array\",\"items\":{\"type\":"     \
    "\"record\",\"name\":\"k" #kid "_v" #vid "\",\"fields\":[{\"name\":\"key\",\"type\":"    \
    "\"int\",\"field-id\":" #kid "},{\"name\":\"value\",\"type\":\"" vtype "\",\"field-id\":" \
    #vid "}]},\"logicalType\":\"map\"}],\"doc\":\"" doc "\",\"default\":null,\"field-id\":" #fid "}"

#define TEST_DATA_FILE_FIELDS                                                                     \
    "{\"name\":\"content\",\"type\":\"int\",\"doc\":\"Contents of the file: 0=data, 1=position "  \
    "deletes, 2=equality deletes\",\"field-id\":134},"                                            \
    "{\"name\":\"file_path\",\"type\":\"string\",\"doc\":\"Location URI with FS scheme\","        \
    "\"field-id\":100},"                                                                          \
    "{\"name\":\"file_format\",\"type\":\"string\",\"doc\":\"File format name: avro, orc, or "    \
    "parquet\",\"field-id\":101},"                                                                \
    "{\"name\":\"partition\",\"type\":{\"type\":\"record\",\"name\":\"r102\",\"fields\":["        \
    "{\"name\":\"event_date\",\"type\":[\"null\",{\"type\":\"int\",\"logicalType\":\"date\"}],"   \
    "\"default\":null,\"field-id\":1000},"                                                        \
    "{\"name\":\"event_ts_hour\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":"          \
    "\"timestamp-micros\",\"adjust-to-utc\":true}],\"default\":null,\"field-id\":1001},"          \
    "{\"name\":\"car_bucket\",\"type\":[\"null\",\"int\"],\"default\":null,\"field-id\":1002}]}," \
    "\"doc\":\"Partition data tuple, schema based on the partition spec\",\"field-id\":102},"     \
    "{\"name\":\"record_count\",\"type\":\"long\",\"doc\":\"Number of records in the file\","     \
    "\"field-id\":103},"                                                                          \
    "{\"name\":\"file_size_in_bytes\",\"type\":\"long\",\"doc\":\"Total file size in bytes\","    \
    "\"field-id\":104}," TEST_STATS_MAP("column_sizes", 108, 117, 118, "long",                    \
                                        "Map of column id to total size on disk") ","            \
    TEST_STATS_MAP("value_counts", 109, 119, 120, "long",                                         \
                   "Map of column id to total count, including null and NaN") ","                 \
    TEST_STATS_MAP("null_value_counts", 110, 121, 122, "long",                                    \
                   "Map of column id to null value count") ","                                    \
    TEST_STATS_MAP("nan_value_counts", 137, 138, 139, "long",                                     \
                   "Map of column id to number of NaN values in the column") ","                  \
    TEST_STATS_MAP("lower_bounds", 125, 126, 127, "bytes", "Map of column id to lower bound") "," \
    TEST_STATS_MAP("upper_bounds", 128, 129, 130, "bytes", "Map of column id to upper bound") "," \
    "{\"name\":\"key_metadata\",\"type\":[\"null\",\"bytes\"],\"doc\":\"Encryption key "          \
    "metadata blob\",\"default\":null,\"field-id\":131},"                                         \
    "{\"name\":\"split_offsets\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"long\","      \
    "\"element-id\":133}],\"doc\":\"Splittable offsets\",\"default\":null,\"field-id\":132},"     \
    "{\"name\":\"equality_ids\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"int\","        \
    "\"element-id\":136}],\"doc\":\"Equality comparison field IDs\",\"default\":null,"            \
    "\"field-id\":135},"                                                                          \
    "{\"name\":\"sort_order_id\",\"type\":[\"null\",\"int\"],\"doc\":\"Sort order ID\","          \
    "\"default\":null,\"field-id\":140},"                                                         \
    "{\"name\":\"referenced_data_file\",\"type\":[\"null\",\"string\"],\"doc\":\"Fully "          \
    "qualified location (URI with FS scheme) of a data file that all deletes reference\","        \
    "\"default\":null,\"field-id\":143}"

#define TEST_ENTRY_FIELDS                                                                         \
    "{\"name\":\"status\",\"type\":\"int\",\"field-id\":0},"                                      \
    "{\"name\":\"snapshot_id\",\"type\":[\"null\",\"long\"],\"default\":null,\"field-id\":1},"    \
    "{\"name\":\"sequence_number\",\"type\":[\"null\",\"long\"],\"default\":null,"                \
    "\"field-id\":3},"                                                                            \
    "{\"name\":\"file_sequence_number\",\"type\":[\"null\",\"long\"],\"default\":null,"           \
    "\"field-id\":4},"                                                                            \
    "{\"name\":\"data_file\",\"type\":{\"type\":\"record\",\"name\":\"r2\",\"fields\":["          \
    TEST_DATA_FILE_FIELDS "]},\"field-id\":2}"

/* Iceberg v2 manifest_entry, partitioned by day(ts), hour(ts), bucket[16](car). */
static const char TEST_MANIFEST_ENTRY_SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":[" TEST_ENTRY_FIELDS "]}";

/* The same plus a record of everything else Avro has (for interop fixtures): a
 * string map with key-id/value-id, float, double, boolean, enum, fixed,
 * long extremes, a general union and a named type used twice. */
static const char TEST_FIXTURE_SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"manifest_entry\",\"namespace\":\"firn.test\",\"fields\":["
    TEST_ENTRY_FIELDS ","
    "{\"name\":\"extras\",\"type\":{\"type\":\"record\",\"name\":\"extras\",\"fields\":["
    "{\"name\":\"props\",\"type\":{\"type\":\"map\",\"values\":\"string\",\"key-id\":5001,"
    "\"value-id\":5002},\"field-id\":5000},"
    "{\"name\":\"ratio\",\"type\":\"float\",\"field-id\":5003},"
    "{\"name\":\"score\",\"type\":\"double\",\"field-id\":5004},"
    "{\"name\":\"flag\",\"type\":\"boolean\",\"field-id\":5005},"
    "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"kind\",\"symbols\":[\"DATA\","
    "\"POSITION_DELETES\",\"EQUALITY_DELETES\"]},\"field-id\":5006},"
    "{\"name\":\"id\",\"type\":{\"type\":\"fixed\",\"name\":\"id16\",\"namespace\":\"firn.ids\","
    "\"size\":16},\"field-id\":5007},"
    "{\"name\":\"parent_id\",\"type\":[\"null\",\"firn.ids.id16\"],\"default\":null,"
    "\"field-id\":5008},"
    "{\"name\":\"big\",\"type\":\"long\",\"field-id\":5009},"
    "{\"name\":\"small\",\"type\":\"int\",\"field-id\":5010},"
    "{\"name\":\"either\",\"type\":[\"null\",\"string\",\"long\"],\"default\":null,"
    "\"field-id\":5011}"
    "]},\"field-id\":5012}]}";

/* data_file field positions */
enum {
    DF_CONTENT, DF_FILE_PATH, DF_FILE_FORMAT, DF_PARTITION, DF_RECORD_COUNT, DF_FILE_SIZE,
    DF_COLUMN_SIZES, DF_VALUE_COUNTS, DF_NULL_COUNTS, DF_NAN_COUNTS, DF_LOWER, DF_UPPER,
    DF_KEY_METADATA, DF_SPLIT_OFFSETS, DF_EQUALITY_IDS, DF_SORT_ORDER_ID, DF_REFERENCED,
    DF_NFIELDS
};

static inline uint64_t test_mix(uint64_t x) { /* splitmix64 finaliser */
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* An array of k{key}_v{value} records: n entries, keys 1.., long or bytes values. */
static inline firn_avro_value test_stats(firn_arena *a, uint64_t seed, size_t n, bool bytes) {
    firn_avro_value *items = firn_avro_values_new(a, n);
    for (size_t k = 0; k < n; k++) {
        firn_avro_value *kv = firn_avro_values_new(a, 2);
        kv[0] = firn_avro_int((int32_t)k + 1);
        if (bytes) {
            size_t len = (size_t)(test_mix(seed + k) % 9); /* 0..8 bytes, 0 included */
            uint8_t *b = firn_arena_alloc(a, len + 1);
            for (size_t j = 0; j < len; j++) b[j] = (uint8_t)test_mix(seed * 31 + k * 7 + j);
            kv[1] = firn_avro_bytes(b, len);
        } else {
            kv[1] = firn_avro_long((int64_t)(test_mix(seed + k) % 1000000));
        }
        items[k] = firn_avro_record(kv, 2);
    }
    return firn_avro_array(items, n);
}

/* Manifest entry number i (fields as in TEST_MANIFEST_ENTRY_SCHEMA). */
static inline firn_avro_value test_manifest_entry(firn_arena *a, uint64_t i) {
    uint64_t r = test_mix(i);
    firn_avro_value *e = firn_avro_values_new(a, 5);
    e[0] = firn_avro_int((int32_t)(i % 3));
    e[1] = i % 4 == 0 ? firn_avro_null() : firn_avro_long((int64_t)(r >> 1));
    e[2] = i % 5 == 0 ? firn_avro_null() : firn_avro_long((int64_t)i + 1);
    e[3] = i % 5 == 0 ? firn_avro_null() : firn_avro_long((int64_t)i + 1);
    firn_avro_value *df = firn_avro_values_new(a, DF_NFIELDS);
    df[DF_CONTENT] = firn_avro_int(0);
    char *path = firn_arena_alloc(a, 96);
    int plen = snprintf(path, 96, "s3://warehouse/db/t/data/%s-%05llu.parquet",
                        i % 7 == 0 ? "\xc3\xa9v\xc3\xa9nement" : "part",
                        (unsigned long long)i);
    df[DF_FILE_PATH] = firn_avro_string_n(path, (size_t)plen);
    df[DF_FILE_FORMAT] = firn_avro_string("PARQUET");
    firn_avro_value *part = firn_avro_values_new(a, 3);
    part[0] = i % 6 == 0 ? firn_avro_null() : firn_avro_int(20000 + (int32_t)(i % 400));
    part[1] = i % 6 == 1 ? firn_avro_null()
                         : firn_avro_long(1764115200000000LL + (int64_t)(i % 48) * 3600000000LL);
    part[2] = firn_avro_int((int32_t)(r % 16));
    df[DF_PARTITION] = firn_avro_record(part, 3);
    df[DF_RECORD_COUNT] = firn_avro_long((int64_t)(r % 100000) + 1);
    df[DF_FILE_SIZE] = firn_avro_long((int64_t)(r % 100000000) + 4);
    size_t ncols = (size_t)(i % 4) + 1;
    df[DF_COLUMN_SIZES] = test_stats(a, r, ncols, false);
    df[DF_VALUE_COUNTS] = test_stats(a, r + 1, ncols, false);
    df[DF_NULL_COUNTS] = test_stats(a, r + 2, ncols, false);
    df[DF_NAN_COUNTS] = i % 3 == 0 ? firn_avro_null() : test_stats(a, r + 3, 0, false);
    df[DF_LOWER] = test_stats(a, r + 4, ncols, true);
    df[DF_UPPER] = test_stats(a, r + 5, ncols, true);
    df[DF_KEY_METADATA] = i % 2 ? firn_avro_null() : firn_avro_bytes("", 0);
    if (i % 3 == 2) {
        df[DF_SPLIT_OFFSETS] = firn_avro_null();
    } else {
        firn_avro_value *offs = firn_avro_values_new(a, 2);
        offs[0] = firn_avro_long(4);
        offs[1] = firn_avro_long((int64_t)(r % 1000000) + 4);
        df[DF_SPLIT_OFFSETS] = firn_avro_array(offs, 2);
    }
    df[DF_EQUALITY_IDS] = firn_avro_null();
    df[DF_SORT_ORDER_ID] = i % 2 ? firn_avro_int(0) : firn_avro_null();
    df[DF_REFERENCED] = firn_avro_null();
    e[4] = firn_avro_record(df, DF_NFIELDS);
    return firn_avro_record(e, 5);
}

/* Fixture record i: the manifest entry plus the extras record. */
static inline firn_avro_value test_fixture_record(firn_arena *a, uint64_t i) {
    firn_avro_value entry = test_manifest_entry(a, i);
    firn_avro_value *f = firn_avro_values_new(a, 6);
    memcpy(f, entry.u.record.fields, 5 * sizeof *f);
    firn_avro_value *x = firn_avro_values_new(a, 10);
    size_t nprops = i % 3;
    firn_avro_map_entry *props = firn_arena_calloc(a, (nprops ? nprops : 1) * sizeof *props);
    static const char *const keys[] = {"", "owner", "\xe6\x9d\xb1\xe4\xba\xac"};
    static const char *const vals[] = {"empty key", "firn \"quoted\"\n", "\xf0\x9f\x9a\x97"};
    for (size_t k = 0; k < nprops; k++) {
        props[k].key = keys[(i + k) % 3];
        props[k].key_len = strlen(props[k].key);
        props[k].value = firn_avro_string(vals[(i + k) % 3]);
    }
    x[0] = firn_avro_map(props, nprops);
    static const float ratios[] = {1.5f, -0.0f, 0.0f, 1024.125f, -2.25f, 16777216.0f};
    x[1] = firn_avro_float(ratios[i % 6]);
    static const double scores[] = {0.1, -0.0, 1e300, -2.5e-300, 3.141592653589793, 1.0};
    double sc = scores[i % 6];
    if (i % 11 == 5) sc = NAN;
    if (i % 11 == 6) sc = INFINITY;
    if (i % 11 == 7) sc = -INFINITY;
    x[2] = firn_avro_double(sc);
    x[3] = firn_avro_bool(i % 2 == 0);
    x[4] = firn_avro_enum((int32_t)(i % 3));
    uint8_t *id = firn_arena_alloc(a, 16);
    for (int k = 0; k < 16; k++) id[k] = (uint8_t)test_mix(i * 16 + (uint64_t)k);
    x[5] = firn_avro_fixed(id, 16);
    x[6] = i % 2 ? firn_avro_null() : firn_avro_fixed(id, 16);
    static const int64_t bigs[] = {INT64_MIN, INT64_MAX, 0, -1, 9007199254740993LL};
    x[7] = firn_avro_long(bigs[i % 5]);
    static const int32_t smalls[] = {INT32_MIN, INT32_MAX, 0, -1, 64};
    x[8] = firn_avro_int(smalls[i % 5]);
    x[9] = i % 3 == 0 ? firn_avro_null()
           : i % 3 == 1 ? firn_avro_string("either string")
                        : firn_avro_long(-(int64_t)i * 1000003);
    f[5] = firn_avro_record(x, 10);
    return firn_avro_record(f, 6);
}

#endif
