/*
 * events.c - the pipeline's event handlers (firn_event_fn) and its tables.
 *
 * A type handler parses the raw event, validates it against its type's rules
 * and adds one row: trusted (the production table's columns, from the
 * validator) or untrusted (every field as received, the raw payload, the
 * image, failed_rules, the source topic/partition/offset, received_at).
 * The dead-letter handler writes staging.dead_letter rows.
 */
#include "pipeline/events.h"

#include "catalog/catalog.h"
#include "stream/stream.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- schemas */

static const char *ice_type_name(firn_ice_type_id id) {
    switch (id) {
    case FIRN_ICE_INT: return "int";
    case FIRN_ICE_LONG: return "long";
    case FIRN_ICE_DOUBLE: return "double";
    case FIRN_ICE_BOOLEAN: return "boolean";
    case FIRN_ICE_TIMESTAMPTZ: return "timestamptz";
    case FIRN_ICE_BINARY: return "binary";
    default: return "string";
    }
}

static void add_field(json_t *fields, const char *name, const char *type, bool required) {
    json_t *f = json_object();
    json_object_set_new(f, "id", json_integer((json_int_t)json_array_size(fields) + 1));
    json_object_set_new(f, "name", json_string(name));
    json_object_set_new(f, "required", json_boolean(required));
    json_object_set_new(f, "type", json_string(type));
    json_array_append_new(fields, f);
}

static char *schema_text(json_t *fields) {
    json_t *s = json_object();
    json_object_set_new(s, "type", json_string("struct"));
    json_object_set_new(s, "schema-id", json_integer(0));
    json_object_set_new(s, "fields", fields);
    char *text = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    return text;
}

char *firn_events_prod_schema(const firn_validator *v) {
    size_t n;
    const firn_column_desc *cols = firn_validator_columns(v, &n);
    json_t *fields = json_array();
    for (size_t i = 0; i < n; i++)
        add_field(fields, cols[i].name, ice_type_name(cols[i].type), cols[i].required);
    return schema_text(fields);
}

/* Untrusted rows keep every field as received: as text. */
char *firn_events_untrusted_schema(const firn_config_type *t) {
    json_t *fields = json_array();
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].type != FIRN_FIELD_IMAGE) add_field(fields, t->fields[i].name, "string", false);
    add_field(fields, "image", "binary", false);
    add_field(fields, "payload", "string", false);
    add_field(fields, "failed_rules", "string", true);
    add_field(fields, "source_topic", "string", true);
    add_field(fields, "source_partition", "int", true);
    add_field(fields, "source_offset", "long", true);
    add_field(fields, "received_at", "timestamptz", true);
    return schema_text(fields);
}

char *firn_events_dead_letter_schema(void) {
    json_t *fields = json_array();
    add_field(fields, "reason", "string", true);
    add_field(fields, "payload", "binary", false);
    add_field(fields, "image", "binary", false);
    add_field(fields, "raw_topic", "string", true);
    add_field(fields, "raw_partition", "int", true);
    add_field(fields, "raw_offset", "long", true);
    add_field(fields, "received_at", "timestamptz", true);
    return schema_text(fields);
}

/* ------------------------------------------------------------- tables */

static int split_ident(const char *full, char *ns, size_t nsn, char *name, size_t nn,
                       firn_error *err) {
    const char *dot = strrchr(full, '.');
    if (!dot || dot == full || !dot[1] || (size_t)(dot - full) >= nsn || strlen(dot + 1) >= nn)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "table name '%s': want namespace.table", full);
    memcpy(ns, full, (size_t)(dot - full));
    ns[dot - full] = 0;
    snprintf(name, nn, "%s", dot + 1);
    return 0;
}

static const firn_ice_kv *g_defaults;
static size_t g_ndefaults;

void firn_events_set_table_defaults(const firn_ice_kv *kv, size_t n) {
    g_defaults = kv;
    g_ndefaults = n;
}

/* Create ns.name when missing (namespace too); open it into *out. */
static int ensure_table(firn_catalog *cat, const char *full, const char *schema_json,
                        const char *partition, const firn_ice_kv *own, size_t nown,
                        firn_ice_table **out, firn_error *err) {
    char ns[256], name[256];
    if (split_ident(full, ns, sizeof ns, name, sizeof name, err)) return -1;
    int rc = firn_ice_table_load(cat, ns, name, out, err);
    if (rc == 0 || err->kind != FIRN_ERR_NOT_FOUND) return rc;
    firn_error_release(err);
    firn_error_init(err);
    bool exists = false;
    if (firn_cat_namespace_exists(cat, ns, &exists, err)) return -1;
    if (!exists && firn_cat_create_namespace(cat, ns, NULL, err) && err->kind != FIRN_ERR_CONFLICT)
        return -1;
    firn_arena a;
    firn_arena_init(&a, 0);
    firn_ice_schema *s = firn_ice_schema_parse(&a, schema_json, strlen(schema_json), err);
    firn_ice_partition_spec *spec = NULL;
    rc = s ? 0 : -1;
    if (rc == 0 && partition && *partition) {
        /* "day(timeStamp)" or "identity(col)" or a bare column */
        char transform[64] = "identity", col[128];
        const char *lp = strchr(partition, '(');
        if (lp && partition[strlen(partition) - 1] == ')') {
            snprintf(transform, sizeof transform, "%.*s", (int)(lp - partition), partition);
            snprintf(col, sizeof col, "%.*s", (int)(strlen(lp) - 2), lp + 1);
        } else {
            snprintf(col, sizeof col, "%s", partition);
        }
        const firn_ice_field *f = firn_ice_schema_find_by_name(s, col, true);
        if (!f) {
            rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "%s: partition '%s': no column %s", full,
                            partition, col);
        } else {
            json_t *fields = json_array(), *pf = json_object();
            char pname[256];
            snprintf(pname, sizeof pname, "%s_%s", col, transform);
            if (!strcmp(transform, "identity")) snprintf(pname, sizeof pname, "%s", col);
            json_object_set_new(pf, "name", json_string(pname));
            json_object_set_new(pf, "transform", json_string(transform));
            json_object_set_new(pf, "source-id", json_integer(f->id));
            json_object_set_new(pf, "field-id", json_integer(1000));
            json_array_append_new(fields, pf);
            spec = firn_ice_partition_spec_from_json_fields(&a, 0, fields, "partition", err);
            json_decref(fields);
            if (!spec) rc = -1;
        }
    }
    /* the defaults (the metadata budget), then the table's own properties */
    firn_ice_kv *props = firn_xcalloc(g_ndefaults + nown + 1, sizeof *props);
    size_t nprops = 0;
    for (size_t i = 0; i < g_ndefaults; i++) {
        bool overridden = false;
        for (size_t j = 0; j < nown; j++) overridden |= strcmp(own[j].key, g_defaults[i].key) == 0;
        if (!overridden) props[nprops++] = g_defaults[i];
    }
    for (size_t j = 0; j < nown; j++) props[nprops++] = own[j];
    if (rc == 0) {
        firn_ice_table_options opts = {NULL, props, nprops, 0};
        rc = firn_ice_table_create(cat, ns, name, s, spec, NULL, &opts, out, err);
        if (rc && err->kind == FIRN_ERR_CONFLICT) { /* created meanwhile by another worker */
            firn_error_release(err);
            firn_error_init(err);
            rc = firn_ice_table_load(cat, ns, name, out, err);
        }
    }
    free(props);
    firn_arena_release(&a);
    return rc ? FIRN_WRAP(err, err->kind, "table %s", full) : 0;
}

int firn_events_open_type_tables(firn_catalog *cat, const firn_config *cfg,
                                 const firn_config_type *t, const firn_validator *v,
                                 firn_ice_table **prod, firn_ice_table **untrusted,
                                 firn_error *err) {
    *prod = *untrusted = NULL;
    char media[512] = "";
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].type == FIRN_FIELD_IMAGE)
            snprintf(media + strlen(media), sizeof media - strlen(media), "%s%s",
                     *media ? "," : "", t->fields[i].name);
    firn_ice_kv props[] = {
        {"write.parquet.compression-level", "1"}, /* zstd 1: small events are CPU-bound */
        {"write.parquet.media-columns", media},
        {"firn.source.topic", t->topic},
        {"firn.event-type", t->name},
        {"firn.rules-version", cfg->tag_rules_version ? cfg->tag_rules_version : "1"},
        {"firn.owner", cfg->tag_owner ? cfg->tag_owner : "firn"},
    };
    char *ps = firn_events_prod_schema(v);
    int rc = ensure_table(cat, t->table, ps, t->partition, props, 6, prod, err);
    free(ps);
    if (rc) return rc;
    firn_ice_kv uprops[] = {{"write.parquet.media-columns", "image"},
                            {"firn.source.topic", t->topic},
                            {"firn.event-type", t->name}};
    char *us = firn_events_untrusted_schema(t);
    rc = ensure_table(cat, t->untrusted_table, us, "day(received_at)", uprops, 3, untrusted, err);
    free(us);
    if (rc) {
        firn_ice_table_free(*prod);
        *prod = NULL;
    }
    return rc;
}

int firn_events_open_dead_letter_table(firn_catalog *cat, const firn_config *cfg,
                                       firn_ice_table **out, firn_error *err) {
    firn_ice_kv props[] = {{"write.parquet.media-columns", "image"},
                           {"firn.source.topic", cfg->stream_dead_letter_topic}};
    char *s = firn_events_dead_letter_schema();
    int rc = ensure_table(cat, FIRN_DEAD_LETTER_TABLE, s, "day(received_at)", props, 2, out, err);
    free(s);
    return rc;
}

int firn_events_open_history_table(firn_catalog *cat, firn_ice_table **out, firn_error *err) {
    return ensure_table(cat, FIRN_HISTORY_TABLE, firn_wap_history_schema_json(), NULL, NULL, 0,
                        out, err);
}

/* ------------------------------------------------------------- handlers */

struct firn_type_handler {
    firn_validator *v;
    const firn_config_type *type;
    firn_event ev;
    firn_event_limits lim;
    firn_dedupe *dd;
    size_t ncols;
    int *prod_col;      /* validator column i -> production schema column */
    /* untrusted schema columns */
    size_t nfields;
    int *field_col;     /* config field i -> untrusted column (-1 for images) */
    int u_image, u_payload, u_failed, u_topic, u_partition, u_offset, u_received;
    firn_buf scratch;
    firn_type_handler_stats stats;
};

static int col_index(const firn_ice_schema *s, const char *name) {
    for (size_t i = 0; i < s->type->nfields; i++)
        if (strcmp(s->type->fields[i].name, name) == 0) return (int)i;
    return -1;
}

int firn_type_handler_new(const firn_config *cfg, const firn_config_type *t,
                          const firn_ice_table *prod, const firn_ice_table *untrusted,
                          firn_type_handler **out, firn_error *err) {
    *out = NULL;
    firn_type_handler *h = firn_xcalloc(1, sizeof *h);
    h->type = t;
    h->v = firn_validator_new(t, err);
    if (!h->v) {
        free(h);
        return FIRN_WRAP(err, err->kind, "type %s", t->name);
    }
    firn_event_init(&h->ev);
    firn_event_limits_from_config(&h->lim, cfg);
    h->dd = firn_dedupe_new((size_t)cfg->dedupe_max_entries, cfg->dedupe_window_us);
    const firn_column_desc *cols = firn_validator_columns(h->v, &h->ncols);
    const firn_ice_schema *ps = firn_ice_metadata_current_schema(prod->metadata);
    h->prod_col = firn_xcalloc(h->ncols + 1, sizeof *h->prod_col);
    for (size_t i = 0; i < h->ncols; i++) {
        h->prod_col[i] = col_index(ps, cols[i].name);
        if (h->prod_col[i] < 0) {
            firn_type_handler_free(h);
            return FIRN_RAISE(err, FIRN_ERR_INVALID,
                              "table %s has no column %s that type %s produces", t->table,
                              cols[i].name, t->name);
        }
    }
    const firn_ice_schema *us = firn_ice_metadata_current_schema(untrusted->metadata);
    h->nfields = t->nfields;
    h->field_col = firn_xcalloc(t->nfields + 1, sizeof *h->field_col);
    for (size_t i = 0; i < t->nfields; i++)
        h->field_col[i] = t->fields[i].type == FIRN_FIELD_IMAGE ? -1 : col_index(us, t->fields[i].name);
    h->u_image = col_index(us, "image");
    h->u_payload = col_index(us, "payload");
    h->u_failed = col_index(us, "failed_rules");
    h->u_topic = col_index(us, "source_topic");
    h->u_partition = col_index(us, "source_partition");
    h->u_offset = col_index(us, "source_offset");
    h->u_received = col_index(us, "received_at");
    if (h->u_failed < 0 || h->u_topic < 0 || h->u_partition < 0 || h->u_offset < 0 ||
        h->u_received < 0) {
        firn_type_handler_free(h);
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "table %s lacks the untrusted columns",
                          t->untrusted_table);
    }
    *out = h;
    return 0;
}

void firn_type_handler_free(firn_type_handler *h) {
    if (!h) return;
    firn_validator_free(h->v);
    firn_event_release(&h->ev);
    firn_dedupe_free(h->dd);
    free(h->prod_col);
    free(h->field_col);
    firn_buf_release(&h->scratch);
    free(h);
}

const firn_type_handler_stats *firn_type_handler_get_stats(const firn_type_handler *h) {
    return &h->stats;
}

int firn_type_handler_event_id_col(const firn_type_handler *h, const firn_ice_table *prod) {
    for (size_t i = 0; i < h->type->nfields; i++)
        if (h->type->fields[i].unique)
            return col_index(firn_ice_metadata_current_schema(prod->metadata),
                             h->type->fields[i].name);
    return -1;
}

void firn_type_handler_forget_all(firn_type_handler *h) { firn_dedupe_clear(h->dd); }

void firn_type_handler_remember(firn_type_handler *h, const void *id, size_t len, int64_t now_us) {
    firn_dedupe_insert(h->dd, id, len, 0, now_us);
}

static void set_value(firn_rows *r, size_t c, const firn_ice_value *v, firn_ice_type_id t) {
    if (v->is_null) {
        firn_rows_set_null(r, c);
        return;
    }
    switch (t) {
    case FIRN_ICE_INT: firn_rows_set_i32(r, c, v->u.i32); break;
    case FIRN_ICE_LONG:
    case FIRN_ICE_TIMESTAMPTZ: firn_rows_set_i64(r, c, v->u.i64); break;
    case FIRN_ICE_DOUBLE: firn_rows_set_f64(r, c, v->u.f64); break;
    case FIRN_ICE_BOOLEAN: firn_rows_set_bool(r, c, v->u.b); break;
    default: firn_rows_set_bytes(r, c, v->u.bin.ptr, v->u.bin.len); break;
    }
}

static void untrusted_row(firn_type_handler *h, const firn_record *raw, const firn_record *routed,
                          const void *image, size_t image_len, bool parsed, const char *failed,
                          firn_rows *u) {
    for (size_t i = 0; parsed && i < h->nfields; i++) {
        int c = h->field_col[i];
        if (c < 0) continue;
        const char *name = h->type->fields[i].name;
        const firn_event_field *f = firn_event_get(&h->ev, name, strlen(name));
        if (!f || f->kind == FIRN_JSON_NULL) continue;
        if (f->kind == FIRN_JSON_TRUE) firn_rows_set_str(u, (size_t)c, "true");
        else if (f->kind == FIRN_JSON_FALSE) firn_rows_set_str(u, (size_t)c, "false");
        else firn_rows_set_bytes(u, (size_t)c, f->value, f->value_len);
    }
    if (h->u_image >= 0 && image) firn_rows_set_bytes(u, (size_t)h->u_image, image, image_len);
    if (h->u_payload >= 0) firn_rows_set_bytes(u, (size_t)h->u_payload, raw->value, raw->value_len);
    firn_rows_set_str(u, (size_t)h->u_failed, failed);
    firn_rows_set_str(u, (size_t)h->u_topic, routed->topic);
    firn_rows_set_i32(u, (size_t)h->u_partition, routed->partition);
    firn_rows_set_i64(u, (size_t)h->u_offset, routed->offset);
    firn_rows_set_i64(u, (size_t)h->u_received, raw->timestamp_ms * 1000);
    firn_rows_end_row(u);
}

int firn_type_handler_event(void *ctx, const firn_record *raw, const firn_record *routed,
                            firn_rows *trusted, firn_rows *untrusted, const char *force,
                            firn_error *err) {
    firn_type_handler *h = ctx;
    size_t ilen = 0;
    const void *image = firn_record_header(raw, "image", &ilen);
    const char *reason = firn_event_parse(&h->ev, raw->value, raw->value_len, &h->lim);
    if (reason) { /* the classifier's parser accepted it; ours is stricter */
        h->stats.untrusted++;
        untrusted_row(h, raw, routed, image, ilen, false, force ? force : reason, untrusted);
        return 0;
    }
    firn_validation val;
    if (firn_validate(h->v, &h->ev, image, ilen, raw->timestamp_ms * 1000, force ? NULL : h->dd,
                      &val, err))
        return FIRN_WRAP(err, err->kind, "%s offset %lld", routed->topic, (long long)routed->offset);
    if (force || val.nfailed || val.redelivery) {
        firn_buf_clear(&h->scratch);
        if (force) firn_buf_append_str(&h->scratch, force);
        else if (val.redelivery) {
            /* inside the pipeline every record is read exactly once, so a
             * repeat with the same payload is a duplicate the source sent */
            for (size_t i = 0; i < h->type->nfields; i++)
                if (h->type->fields[i].unique) {
                    firn_buf_appendf(&h->scratch, "duplicate:%s", h->type->fields[i].name);
                    break;
                }
        } else {
            firn_validation_failed_string(&val, &h->scratch);
        }
        h->stats.untrusted++;
        untrusted_row(h, raw, routed, image, ilen, true, firn_buf_cstr(&h->scratch), untrusted);
        return 0;
    }
    const firn_column_desc *cols = firn_validator_columns(h->v, &h->ncols);
    for (size_t i = 0; i < h->ncols; i++)
        set_value(trusted, (size_t)h->prod_col[i], &val.row[i], cols[i].type);
    firn_rows_end_row(trusted);
    h->stats.trusted++;
    return 1;
}

/* ------------------------------------------------------------- dead letters */

int firn_dead_letter_event(void *ctx, const firn_record *raw, const firn_record *routed,
                           firn_rows *rows, firn_rows *untrusted, const char *force,
                           firn_error *err) {
    (void)ctx;
    (void)untrusted;
    (void)err;
    size_t rlen = 0, ilen = 0;
    const char *reason = firn_record_header(routed, FIRN_HDR_REASON, &rlen);
    const void *image = firn_record_header(raw, "image", &ilen);
    int32_t rp = raw->partition;
    int64_t ro = raw->offset;
    firn_pipeline_raw_ref(routed, &rp, &ro);
    /* columns: reason, payload, image, raw_topic, raw_partition, raw_offset, received_at */
    if (force) firn_rows_set_str(rows, 0, force);
    else if (reason) firn_rows_set_bytes(rows, 0, reason, rlen);
    else firn_rows_set_str(rows, 0, "unknown");
    firn_rows_set_bytes(rows, 1, raw->value, raw->value_len);
    if (image) firn_rows_set_bytes(rows, 2, image, ilen);
    firn_rows_set_str(rows, 3, raw->topic);
    firn_rows_set_i32(rows, 4, rp);
    firn_rows_set_i64(rows, 5, ro);
    firn_rows_set_i64(rows, 6, raw->timestamp_ms * 1000);
    firn_rows_end_row(rows);
    return 1;
}
