/*
 * manifest_list.c - manifest lists: one Avro file per snapshot naming its
 * manifests with their counts, partition field summaries and sequence numbers
 * (spec: "Manifest Lists"). Written with Java's V1Metadata/V2Metadata
 * MANIFEST_LIST_SCHEMA as Avro prints it, and Java's header keys; read by
 * field id.
 */
#include "iceberg/manifest_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================== schema */

/* r508: ManifestFile.PARTITION_SUMMARY_TYPE */
static void summary_record_json(firn_buf *b) {
    firn_buf_append_str(b, "{\"type\":\"record\",\"name\":\"r508\",\"fields\":[");
    firn_ice_avro_field_json(b, "contains_null", "\"boolean\"",
                             "True if any file has a null partition value", false, 509, NULL);
    firn_buf_put_u8(b, ',');
    firn_ice_avro_field_json(b, "contains_nan", "\"boolean\"",
                             "True if any file has a nan partition value", true, 518, NULL);
    firn_buf_put_u8(b, ',');
    firn_ice_avro_field_json(b, "lower_bound", "\"bytes\"", "Partition lower bound for all files",
                             true, 510, NULL);
    firn_buf_put_u8(b, ',');
    firn_ice_avro_field_json(b, "upper_bound", "\"bytes\"", "Partition upper bound for all files",
                             true, 511, NULL);
    firn_buf_append_str(b, "]}");
}

typedef struct ml_field {
    int32_t id;
    const char *name;
    const char *type;
    const char *doc;
} ml_field;

/* ManifestFile's fields */
enum {
    ML_PATH, ML_LENGTH, ML_SPEC_ID, ML_CONTENT, ML_SEQ, ML_MIN_SEQ, ML_SNAPSHOT, ML_ADDED_FILES,
    ML_EXISTING_FILES, ML_DELETED_FILES, ML_ADDED_ROWS, ML_EXISTING_ROWS, ML_DELETED_ROWS,
    ML_PARTITIONS, ML_KEY_METADATA, ML_N
};

static const ml_field ml_fields[ML_N] = {
    [ML_PATH] = {500, "manifest_path", "\"string\"", "Location URI with FS scheme"},
    [ML_LENGTH] = {501, "manifest_length", "\"long\"", "Total file size in bytes"},
    [ML_SPEC_ID] = {502, "partition_spec_id", "\"int\"", "Spec ID used to write"},
    [ML_CONTENT] = {517, "content", "\"int\"", "Contents of the manifest: 0=data, 1=deletes"},
    [ML_SEQ] = {515, "sequence_number", "\"long\"", "Sequence number when the manifest was added"},
    [ML_MIN_SEQ] = {516, "min_sequence_number", "\"long\"", "Lowest sequence number in the manifest"},
    [ML_SNAPSHOT] = {503, "added_snapshot_id", "\"long\"", "Snapshot ID that added the manifest"},
    [ML_ADDED_FILES] = {504, "added_files_count", "\"int\"", "Added entry count"},
    [ML_EXISTING_FILES] = {505, "existing_files_count", "\"int\"", "Existing entry count"},
    [ML_DELETED_FILES] = {506, "deleted_files_count", "\"int\"", "Deleted entry count"},
    [ML_ADDED_ROWS] = {512, "added_rows_count", "\"long\"", "Added rows count"},
    [ML_EXISTING_ROWS] = {513, "existing_rows_count", "\"long\"", "Existing rows count"},
    [ML_DELETED_ROWS] = {514, "deleted_rows_count", "\"long\"", "Deleted rows count"},
    [ML_PARTITIONS] = {507, "partitions", NULL, "Summary for each partition"},
    [ML_KEY_METADATA] = {519, "key_metadata", "\"bytes\"", "Encryption key metadata blob"},
};

/* Field order of V2Metadata.MANIFEST_LIST_SCHEMA (all counts required) and
 * V1Metadata.MANIFEST_LIST_SCHEMA (counts optional, no content or sequence
 * numbers, row counts after the partitions). */
static const int v2_order[] = {ML_PATH,           ML_LENGTH,        ML_SPEC_ID,       ML_CONTENT,
                               ML_SEQ,            ML_MIN_SEQ,       ML_SNAPSHOT,      ML_ADDED_FILES,
                               ML_EXISTING_FILES, ML_DELETED_FILES, ML_ADDED_ROWS,    ML_EXISTING_ROWS,
                               ML_DELETED_ROWS,   ML_PARTITIONS,    ML_KEY_METADATA};
static const int v1_order[] = {ML_PATH,           ML_LENGTH,        ML_SPEC_ID,      ML_SNAPSHOT,
                               ML_ADDED_FILES,    ML_EXISTING_FILES, ML_DELETED_FILES, ML_PARTITIONS,
                               ML_ADDED_ROWS,     ML_EXISTING_ROWS, ML_DELETED_ROWS, ML_KEY_METADATA};

static bool ml_optional(int version, int k) {
    if (k == ML_PARTITIONS || k == ML_KEY_METADATA) return true;
    if (version == 1)
        return k == ML_ADDED_FILES || k == ML_EXISTING_FILES || k == ML_DELETED_FILES ||
               k == ML_ADDED_ROWS || k == ML_EXISTING_ROWS || k == ML_DELETED_ROWS;
    return false;
}

static char *list_schema_json(int version) {
    firn_buf b = {0}, parts = {0};
    firn_buf_append_str(&parts, "{\"type\":\"array\",\"items\":");
    summary_record_json(&parts);
    firn_buf_append_str(&parts, ",\"element-id\":508}");
    const int *order = version == 1 ? v1_order : v2_order;
    size_t n = version == 1 ? sizeof v1_order / sizeof *v1_order : sizeof v2_order / sizeof *v2_order;
    firn_buf_append_str(&b, "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":[");
    for (size_t i = 0; i < n; i++) {
        const ml_field *f = &ml_fields[order[i]];
        if (i) firn_buf_put_u8(&b, ',');
        firn_ice_avro_field_json(&b, f->name, f->type ? f->type : firn_buf_cstr(&parts), f->doc,
                                 ml_optional(version, order[i]), f->id, NULL);
    }
    firn_buf_append_str(&b, "]}");
    firn_buf_release(&parts);
    firn_buf_cstr(&b);
    return (char *)firn_buf_steal(&b, NULL);
}

/* ============================================================== writer */

struct firn_ice_manifest_list_writer {
    firn_ice_sink sink;
    firn_avro_writer *avro; /* created with the first manifest (or at close) */
    firn_arena arena;       /* one record's values */
    int version;
    int64_t snapshot_id, parent_snapshot_id, sequence_number;
    char codec[16];
    int level;
    char *schema_json;
    bool closed;
};

static firn_ice_manifest_list_writer *list_writer_new(int format_version, int64_t snapshot_id,
                                                      int64_t parent_snapshot_id,
                                                      int64_t sequence_number, firn_error *err) {
    if (format_version != 1 && format_version != 2) {
        FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                   "manifest list writer: format version %d (firn writes versions 1 and 2)",
                   format_version);
        return NULL;
    }
    if (format_version >= 2 && sequence_number < 0) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest list writer: sequence number %lld is negative",
                   (long long)sequence_number);
        return NULL;
    }
    firn_ice_manifest_list_writer *w = firn_xcalloc(1, sizeof *w);
    firn_arena_init(&w->arena, 0);
    w->version = format_version;
    w->snapshot_id = snapshot_id;
    w->parent_snapshot_id = parent_snapshot_id;
    w->sequence_number = format_version >= 2 ? sequence_number : 0;
    snprintf(w->codec, sizeof w->codec, "deflate");
    w->level = -1;
    w->schema_json = list_schema_json(format_version);
    return w;
}

firn_ice_manifest_list_writer *firn_ice_manifest_list_writer_new(
    firn_io *io, const char *location, int format_version, int64_t snapshot_id,
    int64_t parent_snapshot_id, int64_t sequence_number, firn_error *err) {
    ICE_ERR_GUARD(err);
    firn_ice_manifest_list_writer *w =
        list_writer_new(format_version, snapshot_id, parent_snapshot_id, sequence_number, err);
    if (!w) return NULL;
    if (firn_ice_sink_open_io(&w->sink, io, location, err)) {
        firn_ice_manifest_list_writer_free(w);
        return NULL;
    }
    return w;
}

firn_ice_manifest_list_writer *firn_ice_manifest_list_writer_new_fn(
    firn_ice_write_fn write_fn, void *ctx, int format_version, int64_t snapshot_id,
    int64_t parent_snapshot_id, int64_t sequence_number, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (!write_fn) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest list writer: no write function");
        return NULL;
    }
    firn_ice_manifest_list_writer *w =
        list_writer_new(format_version, snapshot_id, parent_snapshot_id, sequence_number, err);
    if (!w) return NULL;
    firn_ice_sink_open_fn(&w->sink, write_fn, ctx, NULL);
    return w;
}

int firn_ice_manifest_list_writer_set_codec(firn_ice_manifest_list_writer *w, const char *codec,
                                            int level, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (w->avro || w->closed)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "manifest list writer: the codec is set before the first manifest");
    if (firn_ice_check_codec(codec, err)) return -FIRN_ERR_INVALID;
    snprintf(w->codec, sizeof w->codec, "%s", codec);
    w->level = level;
    return 0;
}

static int list_start(firn_ice_manifest_list_writer *w, firn_error *err) {
    if (w->avro) return 0;
    char snap[24], parent[24], seq[24], version[4];
    snprintf(snap, sizeof snap, "%lld", (long long)w->snapshot_id);
    if (w->parent_snapshot_id < 0) snprintf(parent, sizeof parent, "null");
    else snprintf(parent, sizeof parent, "%lld", (long long)w->parent_snapshot_id);
    snprintf(seq, sizeof seq, "%lld", (long long)w->sequence_number);
    snprintf(version, sizeof version, "%d", w->version);
    /* ManifestListWriter.V2Writer / V1Writer */
    firn_avro_kv meta[5];
    size_t n = 0;
    meta[n++] = (firn_avro_kv){"snapshot-id", snap, 0};
    meta[n++] = (firn_avro_kv){"parent-snapshot-id", parent, 0};
    if (w->version >= 2) meta[n++] = (firn_avro_kv){"sequence-number", seq, 0};
    meta[n++] = (firn_avro_kv){"format-version", version, 0};
    meta[n] = (firn_avro_kv){NULL, NULL, 0};
    w->avro = firn_avro_writer_new(w->schema_json, w->codec, w->level, meta, firn_ice_sink_write,
                                   &w->sink, err);
    if (!w->avro)
        return FIRN_WRAP(err, FIRN_ERR_INTERNAL,
                         "manifest list writer: the Avro writer refused the manifest_file schema");
    return 0;
}

static firn_avro_value opt_int_or_null(int64_t v) {
    return v < 0 ? firn_avro_null() : firn_avro_int((int32_t)v);
}

static firn_avro_value opt_long_or_null(int64_t v) {
    return v < 0 ? firn_avro_null() : firn_avro_long(v);
}

int firn_ice_manifest_list_writer_add(firn_ice_manifest_list_writer *w,
                                      const firn_ice_manifest_file *mf,
                                      firn_ice_manifest_file *written, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (w->closed) return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest list writer: already closed");
    const char *path = mf->manifest_path;
    if (!path || !*path)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest list writer: a manifest without a path");
    if (mf->content != FIRN_ICE_CONTENT_DATA && mf->content != FIRN_ICE_MANIFEST_DELETES)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "manifest list writer: manifest %s has content %d (0 data or 1 deletes)",
                          path, (int)mf->content);
    if (w->version == 1 && mf->content != FIRN_ICE_CONTENT_DATA)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "manifest list writer: a v1 table cannot hold delete manifest %s", path);
    if (mf->manifest_length < 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest list writer: manifest %s has a negative length",
                          path);
    firn_ice_manifest_file m = *mf;
    if (w->version >= 2) {
        /* V2Metadata.ManifestFileWrapper: only this snapshot's manifests are unassigned */
        if (m.sequence_number == FIRN_ICE_UNASSIGNED_SEQ || m.min_sequence_number == FIRN_ICE_UNASSIGNED_SEQ) {
            if (m.added_snapshot_id != w->snapshot_id)
                return FIRN_RAISE(err, FIRN_ERR_INVALID,
                                  "manifest list writer: manifest %s from snapshot %lld has an "
                                  "unassigned sequence number, but this is snapshot %lld",
                                  path, (long long)m.added_snapshot_id, (long long)w->snapshot_id);
            if (m.sequence_number == FIRN_ICE_UNASSIGNED_SEQ) m.sequence_number = w->sequence_number;
            if (m.min_sequence_number == FIRN_ICE_UNASSIGNED_SEQ) m.min_sequence_number = w->sequence_number;
        }
        if (m.sequence_number < 0 || m.min_sequence_number < 0)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "manifest list writer: manifest %s has a negative sequence number", path);
        if (m.added_files_count < 0 || m.existing_files_count < 0 || m.deleted_files_count < 0 ||
            m.added_rows_count < 0 || m.existing_rows_count < 0 || m.deleted_rows_count < 0)
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "manifest list writer: manifest %s has unknown (negative) file or row "
                              "counts, which v2 requires",
                              path);
    } else {
        m.sequence_number = 0;
        m.min_sequence_number = 0;
    }
    if (m.npartitions && !m.partitions)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest list writer: manifest %s: summaries missing", path);

    firn_arena *a = &w->arena;
    firn_arena_reset(a);
    firn_avro_value *items = firn_avro_values_new(a, m.npartitions ? m.npartitions : 1);
    for (size_t i = 0; i < m.npartitions; i++) {
        const firn_ice_field_summary *s = &m.partitions[i];
        firn_avro_value *f = firn_avro_values_new(a, 4);
        f[0] = firn_avro_bool(s->contains_null);
        f[1] = s->has_contains_nan ? firn_avro_bool(s->contains_nan) : firn_avro_null();
        f[2] = s->lower_bound ? firn_avro_bytes(s->lower_bound, s->lower_bound_len) : firn_avro_null();
        f[3] = s->upper_bound ? firn_avro_bytes(s->upper_bound, s->upper_bound_len) : firn_avro_null();
        items[i] = firn_avro_record(f, 4);
    }
    const int *order = w->version == 1 ? v1_order : v2_order;
    size_t n = w->version == 1 ? sizeof v1_order / sizeof *v1_order : sizeof v2_order / sizeof *v2_order;
    firn_avro_value rec[ML_N];
    for (size_t i = 0; i < n; i++) {
        firn_avro_value *v = &rec[i];
        switch (order[i]) {
        case ML_PATH: *v = firn_avro_string(path); break;
        case ML_LENGTH: *v = firn_avro_long(m.manifest_length); break;
        case ML_SPEC_ID: *v = firn_avro_int(m.partition_spec_id); break;
        case ML_CONTENT: *v = firn_avro_int((int32_t)m.content); break;
        case ML_SEQ: *v = firn_avro_long(m.sequence_number); break;
        case ML_MIN_SEQ: *v = firn_avro_long(m.min_sequence_number); break;
        case ML_SNAPSHOT: *v = firn_avro_long(m.added_snapshot_id); break;
        case ML_ADDED_FILES: *v = opt_int_or_null(m.added_files_count); break;
        case ML_EXISTING_FILES: *v = opt_int_or_null(m.existing_files_count); break;
        case ML_DELETED_FILES: *v = opt_int_or_null(m.deleted_files_count); break;
        case ML_ADDED_ROWS: *v = opt_long_or_null(m.added_rows_count); break;
        case ML_EXISTING_ROWS: *v = opt_long_or_null(m.existing_rows_count); break;
        case ML_DELETED_ROWS: *v = opt_long_or_null(m.deleted_rows_count); break;
        case ML_PARTITIONS: *v = firn_avro_array(items, m.npartitions); break;
        case ML_KEY_METADATA:
            *v = m.key_metadata ? firn_avro_bytes(m.key_metadata, m.key_metadata_len) : firn_avro_null();
            break;
        }
    }
    firn_avro_value record = firn_avro_record(rec, n);
    int rc = list_start(w, err);
    if (rc) return rc;
    if ((rc = firn_avro_writer_append(w->avro, &record, err)))
        return firn_ice_error_prefix(err, "manifest list writer: manifest %s", path);
    if (written) *written = m;
    return 0;
}

int firn_ice_manifest_list_writer_close(firn_ice_manifest_list_writer *w, uint64_t *length,
                                        firn_error *err) {
    ICE_ERR_GUARD(err);
    if (w->closed) return FIRN_RAISE(err, FIRN_ERR_INVALID, "manifest list writer: already closed");
    int rc = list_start(w, err);
    if (rc) return rc;
    uint64_t len = 0;
    if ((rc = firn_avro_writer_close(w->avro, &len, err))) return rc;
    if ((rc = firn_ice_sink_close(&w->sink, err))) return rc;
    w->closed = true;
    if (length) *length = len;
    return 0;
}

void firn_ice_manifest_list_writer_free(firn_ice_manifest_list_writer *w) {
    if (!w) return;
    firn_avro_writer_free(w->avro);
    firn_ice_sink_abort(&w->sink);
    free(w->schema_json);
    firn_arena_release(&w->arena);
    free(w);
}

/* ============================================================== reader */

static int read_summaries(firn_arena *a, const firn_avro_value *v, const firn_avro_node *item,
                          firn_ice_manifest_file *m, firn_error *err) {
    if (firn_ice_avro_is_null(v)) return 0;
    if (v->type != FIRN_AVRO_ARRAY)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "partitions: expected an array, got %s",
                          firn_avro_type_name(v->type));
    int p_null = firn_ice_avro_pos(item, 509, "contains_null");
    int p_nan = firn_ice_avro_pos(item, 518, "contains_nan");
    int p_lo = firn_ice_avro_pos(item, 510, "lower_bound");
    int p_hi = firn_ice_avro_pos(item, 511, "upper_bound");
    size_t n = v->u.array.count;
    firn_ice_field_summary *s = firn_arena_calloc(a, (n ? n : 1) * sizeof *s);
    for (size_t i = 0; i < n; i++) {
        const firn_avro_value *r = &v->u.array.items[i], *x;
        if (r->type != FIRN_AVRO_RECORD)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "partitions[%zu]: expected a record", i);
        x = firn_ice_avro_at(r, p_null);
        if (!x || x->type != FIRN_AVRO_BOOLEAN)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "partitions[%zu].contains_null: expected a boolean", i);
        s[i].contains_null = x->u.boolean;
        x = firn_ice_avro_at(r, p_nan);
        if (!firn_ice_avro_is_null(x)) {
            if (x->type != FIRN_AVRO_BOOLEAN)
                return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "partitions[%zu].contains_nan: expected a boolean", i);
            s[i].has_contains_nan = true;
            s[i].contains_nan = x->u.boolean;
        }
        x = firn_ice_avro_at(r, p_lo);
        if (!firn_ice_avro_is_null(x) &&
            firn_ice_avro_get_bytes(x, "partitions.lower_bound", &s[i].lower_bound, &s[i].lower_bound_len, err))
            return -FIRN_ERR_CORRUPT;
        x = firn_ice_avro_at(r, p_hi);
        if (!firn_ice_avro_is_null(x) &&
            firn_ice_avro_get_bytes(x, "partitions.upper_bound", &s[i].upper_bound, &s[i].upper_bound_len, err))
            return -FIRN_ERR_CORRUPT;
    }
    m->npartitions = n;
    m->partitions = s;
    return 0;
}

static int read_list(firn_avro_reader *r, firn_arena *a, firn_ice_manifest_file **out, size_t *nout,
                     firn_ice_manifest_list_header *hdr, firn_error *err) {
    const firn_avro_node *root = firn_avro_schema_root(firn_avro_reader_schema(r));
    if (root->type != FIRN_AVRO_RECORD)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "manifest list: the Avro schema is a %s, not a manifest_file record",
                          firn_avro_type_name(root->type));
    int p[ML_N];
    for (int k = 0; k < ML_N; k++) p[k] = firn_ice_avro_pos(root, ml_fields[k].id, ml_fields[k].name);
    static const int required[] = {ML_PATH, ML_LENGTH, ML_SPEC_ID, ML_SNAPSHOT};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (p[required[i]] < 0)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "manifest list: the schema has no %s field (field-id %d): not a "
                              "manifest list",
                              ml_fields[required[i]].name, (int)ml_fields[required[i]].id);
    const firn_avro_node *item = NULL;
    if (p[ML_PARTITIONS] >= 0) {
        const firn_avro_node *t = firn_ice_avro_unopt(root->fields[p[ML_PARTITIONS]].type);
        if (t->type == FIRN_AVRO_ARRAY) item = firn_ice_avro_unopt(t->items);
    }

    firn_ice_manifest_list_header h = {0};
    const char *v;
    int64_t x;
    h.format_version = p[ML_SEQ] >= 0 ? 2 : 1;
    if ((v = firn_avro_reader_meta(r, "format-version", NULL))) {
        if (!firn_ice_parse_meta_i64(v, &x) || x < 1)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "manifest list: format-version '%s'", v);
        if (x > FIRN_ICE_MAX_FORMAT_VERSION)
            return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                              "manifest list: format version %lld (firn reads up to %d)",
                              (long long)x, FIRN_ICE_MAX_FORMAT_VERSION);
        h.format_version = (int)x;
    }
    h.snapshot_id = -1;
    if ((v = firn_avro_reader_meta(r, "snapshot-id", NULL)) && !firn_ice_parse_meta_i64(v, &h.snapshot_id))
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "manifest list: snapshot-id '%s'", v);
    h.parent_snapshot_id = -1;
    if ((v = firn_avro_reader_meta(r, "parent-snapshot-id", NULL)) && strcmp(v, "null") != 0 &&
        !firn_ice_parse_meta_i64(v, &h.parent_snapshot_id))
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "manifest list: parent-snapshot-id '%s'", v);
    h.sequence_number = 0;
    if ((v = firn_avro_reader_meta(r, "sequence-number", NULL)) &&
        !firn_ice_parse_meta_i64(v, &h.sequence_number))
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "manifest list: sequence-number '%s'", v);
    if (hdr) *hdr = h;

    size_t cap = 16, n = 0;
    firn_ice_manifest_file *list = firn_arena_alloc(a, cap * sizeof *list);
    for (;;) {
        firn_avro_value rec;
        int rc = firn_avro_reader_next(r, a, &rec, err);
        if (rc < 0) return firn_ice_error_prefix(err, "manifest list");
        if (rc == 0) break;
        if (n == cap) {
            firn_ice_manifest_file *bigger = firn_arena_alloc(a, 2 * cap * sizeof *list);
            memcpy(bigger, list, n * sizeof *list);
            list = bigger;
            cap *= 2;
        }
        firn_ice_manifest_file *m = &list[n];
        memset(m, 0, sizeof *m);
        const firn_avro_value *f;
        int32_t i32;
        int64_t i64;
#define ML_LONG(k, dst, dflt)                                                                      \
    do {                                                                                           \
        f = firn_ice_avro_at(&rec, p[k]);                                                          \
        if (firn_ice_avro_is_null(f)) (dst) = (dflt);                                              \
        else if (firn_ice_avro_get_long(f, ml_fields[k].name, &i64, err)) goto bad;                \
        else (dst) = i64;                                                                          \
    } while (0)
#define ML_INT(k, dst, dflt)                                                                       \
    do {                                                                                           \
        f = firn_ice_avro_at(&rec, p[k]);                                                          \
        if (firn_ice_avro_is_null(f)) (dst) = (dflt);                                              \
        else if (firn_ice_avro_get_int(f, ml_fields[k].name, &i32, err)) goto bad;                 \
        else (dst) = i32;                                                                          \
    } while (0)
        if (firn_ice_avro_get_string(firn_ice_avro_at(&rec, p[ML_PATH]), "manifest_path",
                                     &m->manifest_path, err))
            goto bad;
        f = firn_ice_avro_at(&rec, p[ML_LENGTH]);
        if (firn_ice_avro_get_long(f, "manifest_length", &m->manifest_length, err)) goto bad;
        f = firn_ice_avro_at(&rec, p[ML_SPEC_ID]);
        if (firn_ice_avro_get_int(f, "partition_spec_id", &m->partition_spec_id, err)) goto bad;
        f = firn_ice_avro_at(&rec, p[ML_SNAPSHOT]);
        if (firn_ice_avro_get_long(f, "added_snapshot_id", &m->added_snapshot_id, err)) goto bad;
        ML_INT(ML_CONTENT, i32, 0);
        if (i32 != FIRN_ICE_CONTENT_DATA && i32 != FIRN_ICE_MANIFEST_DELETES) {
            FIRN_RAISE(err, FIRN_ERR_CORRUPT, "content %d (expected 0 data or 1 deletes)", (int)i32);
            goto bad;
        }
        m->content = (firn_ice_content)i32;
        ML_LONG(ML_SEQ, m->sequence_number, 0);
        ML_LONG(ML_MIN_SEQ, m->min_sequence_number, 0);
        ML_INT(ML_ADDED_FILES, m->added_files_count, -1);
        ML_INT(ML_EXISTING_FILES, m->existing_files_count, -1);
        ML_INT(ML_DELETED_FILES, m->deleted_files_count, -1);
        ML_LONG(ML_ADDED_ROWS, m->added_rows_count, -1);
        ML_LONG(ML_EXISTING_ROWS, m->existing_rows_count, -1);
        ML_LONG(ML_DELETED_ROWS, m->deleted_rows_count, -1);
#undef ML_LONG
#undef ML_INT
        if (read_summaries(a, firn_ice_avro_at(&rec, p[ML_PARTITIONS]), item, m, err)) goto bad;
        f = firn_ice_avro_at(&rec, p[ML_KEY_METADATA]);
        if (!firn_ice_avro_is_null(f) &&
            firn_ice_avro_get_bytes(f, "key_metadata", &m->key_metadata, &m->key_metadata_len, err))
            goto bad;
        n++;
        continue;
    bad:
        return firn_ice_error_prefix(err, "manifest list entry %zu", n);
    }
    *out = list;
    *nout = n;
    return 0;
}

int firn_ice_manifest_list_read_mem(const void *data, size_t len, firn_arena *a,
                                    firn_ice_manifest_file **out, size_t *n,
                                    firn_ice_manifest_list_header *hdr, firn_error *err) {
    ICE_ERR_GUARD(err);
    *out = NULL;
    *n = 0;
    firn_avro_reader *r = firn_avro_reader_open_mem(data, len, err);
    if (!r) return FIRN_WRAP(err, FIRN_ERR_CORRUPT, "manifest list: not a readable Avro file");
    int rc = read_list(r, a, out, n, hdr, err);
    firn_avro_reader_free(r);
    return rc;
}

int firn_ice_manifest_list_read(firn_io *io, const char *location, firn_arena *a,
                                firn_ice_manifest_file **out, size_t *n,
                                firn_ice_manifest_list_header *hdr, firn_error *err) {
    ICE_ERR_GUARD(err);
    *out = NULL;
    *n = 0;
    uint8_t *data;
    size_t len;
    int rc = firn_io_read_all(io, location, &data, &len, err);
    if (rc) return rc;
    rc = firn_ice_manifest_list_read_mem(data, len, a, out, n, hdr, err);
    free(data);
    if (rc) firn_error_context(err, "%s", location);
    return rc;
}
