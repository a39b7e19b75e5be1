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

char *firn_events_json_fields(const firn_config_type *t) {
    firn_buf b;
    firn_buf_init(&b);
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].type == FIRN_FIELD_JSON)
            firn_buf_appendf(&b, "%s%s", b.len ? "," : "", t->fields[i].name);
    char *out = firn_xstrdup(firn_buf_cstr(&b));
    firn_buf_release(&b);
    return out;
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
    if (firn_cat_ident_split(full, ns, sizeof ns, name, sizeof name, err)) return -1;
    int rc = firn_ice_table_load(cat, ns, name, out, err);
    if (rc == 0 || err->kind != FIRN_ERR_NOT_FOUND) return rc;
    firn_error_release(err);
    firn_error_init(err);
    bool exists = false;
    if (firn_cat_namespace_exists(cat, ns, &exists, err)) return -1;
    if (!exists && firn_cat_create_namespace(cat, ns, NULL, err)) {
        if (err->kind != FIRN_ERR_CONFLICT) return -1;
        /* another thread or worker created it meanwhile */
        firn_error_release(err);
        firn_error_init(err);
    }
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
    char *json = firn_events_json_fields(t);
    firn_ice_kv props[] = {
        {"write.parquet.compression-level", "1"}, /* zstd 1: small events are CPU-bound */
        {"write.parquet.media-columns", media},
        {"firn.source.topic", t->topic},
        {"firn.event-type", t->name},
        {"firn.rules-version", cfg->tag_rules_version ? cfg->tag_rules_version : "1"},
        {"firn.owner", cfg->tag_owner ? cfg->tag_owner : "firn"},
        {FIRN_JSON_FIELDS_PROPERTY, json},
    };
    char *ps = firn_events_prod_schema(v);
    int rc = ensure_table(cat, t->table, ps, t->partition, props, *json ? 7 : 6, prod, err);
    free(ps);
    free(json);
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
    const firn_config *cfg;
    const firn_config_type *type;
    bool evolving;      /* new top-level fields make the tables evolve */
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
    /* images checked ahead (firn_type_handler_prepare) */
    int image_field;          /* the type's image field, -1 none */
    firn_image_pool *pool;    /* NULL: images are checked in firn_validate */
    firn_image_job *jobs;     /* the group's, one per raw record */
    const firn_record **prep; /* the group's raw records */
    size_t nprep, prep_cap, prep_next;
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
    h->cfg = cfg;
    h->v = firn_validator_new(t, err);
    if (!h->v) {
        free(h);
        return FIRN_WRAP(err, err->kind, "type %s", t->name);
    }
    firn_event_init(&h->ev);
    firn_event_limits_from_config(&h->lim, cfg);
    h->image_field = -1;
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].type == FIRN_FIELD_IMAGE) h->image_field = (int)i;
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
    firn_image_pool_free(h->pool);
    free(h->jobs);
    free(h->prep);
    free(h);
}

int firn_type_handler_set_image_threads(firn_type_handler *h, int threads) {
    firn_image_pool_free(h->pool);
    h->pool = NULL;
    h->nprep = h->prep_next = 0;
    if (threads > 0 && h->image_field >= 0) h->pool = firn_image_pool_new(threads);
    return h->pool ? firn_image_pool_threads(h->pool) : 0;
}

int firn_type_handler_prepare(void *ctx, const firn_record *const *raws, size_t n,
                              firn_error *err) {
    (void)err;
    firn_type_handler *h = ctx;
    h->nprep = h->prep_next = 0;
    if (!h->pool || !n) return 0;
    if (n > h->prep_cap) {
        h->jobs = firn_xrealloc(h->jobs, n * sizeof *h->jobs);
        h->prep = firn_xrealloc(h->prep, n * sizeof *h->prep);
        h->prep_cap = n;
    }
    const firn_config_field *cf = &h->type->fields[h->image_field];
    for (size_t i = 0; i < n; i++) {
        size_t ilen = 0;
        const void *image = firn_record_header(raws[i], "image", &ilen);
        if (!image) continue;
        h->prep[h->nprep] = raws[i];
        h->jobs[h->nprep++] = (firn_image_job){cf, image, ilen, {0}};
    }
    firn_image_pool_check(h->pool, h->jobs, h->nprep);
    return 0;
}

/* The verdict prepared for raw's image, or NULL. Events come in the group's
 * order, so the search starts after the last one found. */
static const firn_image_verdict *prepared(firn_type_handler *h, const firn_record *raw,
                                          const void *image, size_t ilen) {
    for (size_t t = 0; t < h->nprep; t++) {
        size_t i = h->prep_next + t < h->nprep ? h->prep_next + t : h->prep_next + t - h->nprep;
        if (h->prep[i] == raw && h->jobs[i].image == image && h->jobs[i].len == ilen) {
            h->prep_next = i + 1;
            return &h->jobs[i].out;
        }
    }
    return NULL;
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
    firn_dedupe_check(h->dd, id, len, 0, now_us, true);
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

/* ------------------------------------------------------------- evolution */

/* Columns of the untrusted table that are not the type's fields. */
static const char *const untrusted_reserved[] = {"image", "payload", "failed_rules",
                                                 "source_topic", "source_partition",
                                                 "source_offset", "received_at", NULL};
#define MAX_EVOLVED_FIELDS 1000
/* The suffixes of an image field's derived production columns (validate.c). */
static const char *const image_derived[] = {"_format", "_width", "_height", "_sha256", NULL};

static bool type_has_field(const firn_config_type *t, const char *name, size_t len) {
    for (size_t i = 0; i < t->nfields; i++)
        if (strlen(t->fields[i].name) == len && !memcmp(t->fields[i].name, name, len)) return true;
    return false;
}

/* A field the type may take as a new column: a usable name that collides
 * with neither the untrusted table's own columns nor an image field's
 * derived columns (<image>_format, ...), and a value that says its kind. */
static bool can_add(const firn_config_type *t, const firn_event_field *f) {
    if (f->kind == FIRN_JSON_NULL || !f->name_len || f->name_len > 200 ||
        memchr(f->name, 0, f->name_len) || memchr(f->name, '.', f->name_len))
        return false;
    if (t->nfields >= MAX_EVOLVED_FIELDS || type_has_field(t, f->name, f->name_len)) return false;
    for (size_t i = 0; untrusted_reserved[i]; i++)
        if (strlen(untrusted_reserved[i]) == f->name_len &&
            !memcmp(untrusted_reserved[i], f->name, f->name_len))
            return false;
    for (size_t i = 0; i < t->nfields; i++) {
        if (t->fields[i].type != FIRN_FIELD_IMAGE) continue;
        size_t nl = strlen(t->fields[i].name);
        for (size_t k = 0; image_derived[k]; k++)
            if (nl + strlen(image_derived[k]) == f->name_len &&
                !memcmp(f->name, t->fields[i].name, nl) &&
                !memcmp(f->name + nl, image_derived[k], f->name_len - nl))
                return false;
    }
    return true;
}

static bool has_new_field(const firn_type_handler *h) {
    for (size_t i = 0; i < h->ev.nfields; i++)
        if (can_add(h->type, &h->ev.fields[i])) return true;
    return false;
}

void firn_type_handler_set_evolving(firn_type_handler *h, bool on) { h->evolving = on; }

static firn_field_type kind_type(const firn_event_field *f) {
    int64_t us;
    switch (f->kind) {
    case FIRN_JSON_NUMBER:
        return memchr(f->value, '.', f->value_len) || memchr(f->value, 'e', f->value_len) ||
                       memchr(f->value, 'E', f->value_len)
                   ? FIRN_FIELD_DOUBLE
                   : FIRN_FIELD_LONG;
    case FIRN_JSON_STRING:
        return firn_parse_timestamp(f->value, f->value_len, &us) ? FIRN_FIELD_STRING
                                                                 : FIRN_FIELD_TIMESTAMP;
    case FIRN_JSON_TRUE:
    case FIRN_JSON_FALSE: return FIRN_FIELD_BOOLEAN;
    default: return FIRN_FIELD_JSON;
    }
}

/* The field type that stores values in an existing column of type id, or -1. */
static int column_field_type(firn_ice_type_id id, firn_field_type want) {
    switch (id) {
    case FIRN_ICE_STRING: return want == FIRN_FIELD_JSON ? FIRN_FIELD_JSON : FIRN_FIELD_STRING;
    case FIRN_ICE_INT: return FIRN_FIELD_INT;
    case FIRN_ICE_LONG: return FIRN_FIELD_LONG;
    case FIRN_ICE_DOUBLE: return FIRN_FIELD_DOUBLE;
    case FIRN_ICE_BOOLEAN: return FIRN_FIELD_BOOLEAN;
    case FIRN_ICE_TIMESTAMPTZ: return FIRN_FIELD_TIMESTAMP;
    default: return -1;
    }
}

typedef struct add_columns {
    const char *const *names;
    const firn_ice_type_id *types;
    size_t n;
    const char *json_fields; /* FIRN_JSON_FIELDS_PROPERTY's value, or NULL */
} add_columns;

/* One commit's update: add the columns the current schema lacks (at every
 * attempt, so a concurrent writer that added some first is respected). */
static int apply_add_columns(void *ctx, firn_ice_metadata *md, firn_error *err) {
    const add_columns *ac = ctx;
    const firn_ice_schema *base = firn_ice_metadata_current_schema(md);
    firn_ice_schema_update *u = firn_ice_schema_update_new(base, md->last_column_id);
    int rc = 0;
    size_t added = 0;
    for (size_t i = 0; i < ac->n && rc == 0; i++) {
        if (firn_ice_schema_find_by_name(base, ac->names[i], true)) continue;
        firn_ice_type ty;
        rc = firn_ice_type_parse_primitive(ice_type_name(ac->types[i]), &ty, err);
        if (rc == 0) rc = firn_ice_schema_update_add_column(u, NULL, ac->names[i], &ty, NULL, err);
        added++;
    }
    const char *had = firn_ice_metadata_property(md, FIRN_JSON_FIELDS_PROPERTY);
    if (rc == 0 && ac->json_fields && strcmp(had ? had : "", ac->json_fields)) {
        firn_ice_kv kv = {FIRN_JSON_FIELDS_PROPERTY, ac->json_fields};
        rc = firn_ice_metadata_set_properties(md, &kv, 1, err);
    }
    if (rc == 0 && added) {
        firn_arena a;
        firn_arena_init(&a, 0);
        int32_t last = md->last_column_id, max_id = -1, sid;
        for (size_t i = 0; i < md->nschemas; i++)
            if (md->schemas[i]->schema_id > max_id) max_id = md->schemas[i]->schema_id;
        firn_ice_schema *ns = firn_ice_schema_update_apply(u, &a, max_id + 1, &last, err);
        rc = !ns ? -1 : firn_ice_metadata_add_schema(md, ns, &sid, err);
        if (rc == 0) rc = firn_ice_metadata_set_current_schema(md, sid, err);
        firn_arena_release(&a);
    }
    firn_ice_schema_update_free(u);
    return rc;
}

static int ensure_columns(firn_ice_table *t, const char *const *names,
                          const firn_ice_type_id *types, size_t n, const char *json_fields,
                          firn_error *err) {
    if (firn_ice_table_refresh(t, err)) return -1;
    const firn_ice_schema *s = firn_ice_metadata_current_schema(t->metadata);
    size_t missing = 0;
    for (size_t i = 0; i < n; i++) missing += !firn_ice_schema_find_by_name(s, names[i], true);
    const char *had = firn_ice_metadata_property(t->metadata, FIRN_JSON_FIELDS_PROPERTY);
    if (!missing && (!json_fields || !strcmp(had ? had : "", json_fields))) return 0;
    add_columns ac = {names, types, n, json_fields};
    firn_ice_update up = {.apply = apply_add_columns, .ctx = &ac};
    if (firn_ice_table_commit(t, &up, 1, NULL, err))
        return FIRN_WRAP(err, err->kind, "adding columns to %s.%s", t->ns, t->name);
    return 0;
}

int firn_events_evolve_tables(firn_config_type *t, firn_ice_table *prod,
                              firn_ice_table *untrusted, firn_error *err) {
    if (firn_ice_table_refresh(prod, err)) return -1;
    /* fields whose column exists take its type (it may have been added by an
     * earlier run from other values) */
    const firn_ice_schema *ps = firn_ice_metadata_current_schema(prod->metadata);
    for (size_t i = 0; i < t->nfields; i++) {
        firn_config_field *f = &t->fields[i];
        if (f->type == FIRN_FIELD_IMAGE) continue;
        const firn_ice_field *c = firn_ice_schema_find_by_name(ps, f->name, true);
        if (!c) continue;
        int ft = column_field_type(c->type->id, f->type);
        if (ft < 0)
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "table %s: column %s cannot hold field %s "
                              "of type %s", t->table, f->name, f->name,
                              firn_field_type_name(f->type));
        f->type = (firn_field_type)ft;
    }
    firn_validator *v = firn_validator_new(t, err);
    if (!v) return FIRN_WRAP(err, err->kind, "type %s", t->name);
    size_t ncols;
    const firn_column_desc *cols = firn_validator_columns(v, &ncols);
    const char **names = firn_xcalloc(ncols + t->nfields + 1, sizeof *names);
    firn_ice_type_id *types = firn_xcalloc(ncols + t->nfields + 1, sizeof *types);
    for (size_t i = 0; i < ncols; i++) {
        names[i] = cols[i].name;
        types[i] = cols[i].type;
    }
    char *json = firn_events_json_fields(t);
    int rc = ensure_columns(prod, names, types, ncols, json, err);
    free(json);
    size_t n = 0;
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].type != FIRN_FIELD_IMAGE) {
            names[n] = t->fields[i].name;
            types[n++] = FIRN_ICE_STRING;
        }
    if (rc == 0 && untrusted) rc = ensure_columns(untrusted, names, types, n, NULL, err);
    free(names);
    free(types);
    firn_validator_free(v);
    return rc;
}

int firn_type_handler_evolve(firn_type_handler **hp, firn_config_type *t, firn_ice_table *prod,
                             firn_ice_table *untrusted, firn_error *err) {
    firn_type_handler *h = *hp;
    if (h->type != t)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "type %s: evolving another type's handler", t->name);
    size_t added = 0;
    for (size_t i = 0; i < h->ev.nfields; i++) {
        const firn_event_field *f = &h->ev.fields[i];
        if (!can_add(t, f)) continue;
        char *name = firn_xmalloc(f->name_len + 1);
        memcpy(name, f->name, f->name_len);
        name[f->name_len] = 0;
        t->fields = firn_xrealloc(t->fields, (t->nfields + 1) * sizeof *t->fields);
        firn_config_field_init(&t->fields[t->nfields++], name, kind_type(f));
        free(name);
        added++;
    }
    if (!added) return 0;
    /* the handler keeps pointers into t->fields: from here on only the new
     * handler may be used */
    int rc = firn_events_evolve_tables(t, prod, untrusted, err);
    firn_type_handler *nh = NULL;
    if (rc == 0) rc = firn_type_handler_new(h->cfg, t, prod, untrusted, &nh, err);
    if (rc) return rc;
    /* the dedupe window carries over */
    firn_dedupe_free(nh->dd);
    nh->dd = h->dd;
    h->dd = NULL;
    nh->evolving = h->evolving;
    nh->pool = h->pool; /* so do the image workers (not the group: fields moved) */
    h->pool = NULL;
    nh->stats = h->stats;
    firn_type_handler_free(h);
    *hp = nh;
    return 0;
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
    if (h->evolving && !force && has_new_field(h)) return FIRN_EVENT_EVOLVE;
    firn_validation val;
    /* a quarantined re-read (force) never takes a verdict: its records are
     * not the group's */
    const firn_image_verdict *pre =
        image && h->nprep && !force ? prepared(h, raw, image, ilen) : NULL;
    if (firn_validate_pre(h->v, &h->ev, image, ilen, pre, raw->timestamp_ms * 1000,
                          force ? NULL : h->dd, &val, err))
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

/* ------------------------------------------------------------- created types */

void firn_events_free_type(firn_config_type *t) {
    if (!t) return;
    for (size_t i = 0; i < t->nfields; i++) {
        free(t->fields[i].name);
        free(t->fields[i].pattern);
    }
    free(t->fields);
    free(t->name);
    free(t->topic);
    free(t->table);
    free(t->untrusted_table);
    free(t->partition);
    free(t);
}

/* name is an element of the comma-separated list. */
static bool in_list(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !memcmp(p, name, n)) return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

firn_config_type *firn_events_type_from_table(firn_catalog *cat, const char *name,
                                              const char *topic, const char *table,
                                              const char *untrusted_table, const char *route_field,
                                              firn_error *err) {
    char ns[256], tn[256];
    if (firn_cat_ident_split(table, ns, sizeof ns, tn, sizeof tn, err)) return NULL;
    firn_ice_table *prod = NULL;
    if (firn_ice_table_load(cat, ns, tn, &prod, err)) return NULL;
    const firn_ice_metadata *md = prod->metadata;
    const char *et = firn_ice_metadata_property(md, "firn.event-type");
    if (!et || strcmp(et, name)) {
        FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "table %s was not created for event type %s", table,
                   name);
        firn_ice_table_free(prod);
        return NULL;
    }
    const char *media = firn_ice_metadata_property(md, "write.parquet.media-columns");
    const char *json = firn_ice_metadata_property(md, FIRN_JSON_FIELDS_PROPERTY);
    const firn_ice_schema *s = firn_ice_metadata_current_schema(md);
    firn_config_type *t = firn_xcalloc(1, sizeof *t);
    t->name = firn_xstrdup(name);
    t->topic = firn_xstrdup(topic);
    t->table = firn_xstrdup(table);
    t->untrusted_table = firn_xstrdup(untrusted_table);
    t->partition = firn_xstrdup("");
    t->fields = firn_xcalloc(s->type->nfields + 1, sizeof *t->fields);
    for (size_t i = 0; i < s->type->nfields; i++) {
        const firn_ice_field *c = &s->type->fields[i];
        bool skip = false;
        for (size_t k = 0; image_derived[k] && !skip; k++) {
            size_t nl = strlen(c->name), dl = strlen(image_derived[k]);
            if (nl > dl && !strcmp(c->name + nl - dl, image_derived[k])) {
                char base[256];
                snprintf(base, sizeof base, "%.*s", (int)(nl - dl), c->name);
                skip = in_list(media, base);
            }
        }
        if (skip) continue;
        int ft = in_list(media, c->name) ? FIRN_FIELD_IMAGE
                 : column_field_type(c->type->id, in_list(json, c->name) ? FIRN_FIELD_JSON
                                                                         : FIRN_FIELD_STRING);
        if (ft < 0) continue; /* not a column this pipeline writes */
        firn_config_field *f = &t->fields[t->nfields++];
        firn_config_field_init(f, c->name, (firn_field_type)ft);
        f->required = c->required || !strcmp(c->name, route_field);
        f->unique = (ft == FIRN_FIELD_STRING || ft == FIRN_FIELD_LONG) && !strcmp(c->name, "eventId");
    }
    firn_ice_table_free(prod);
    return t;
}
