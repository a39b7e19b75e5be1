/*
 * events.h - the pipeline's handlers for the event types of firn.yaml and
 * for dead letters, and the tables they write (created on first use):
 *   <type table>            trusted rows: the validator's typed columns
 *   <type untrusted table>  every field as received (text), image, payload,
 *                           failed_rules, source topic/partition/offset,
 *                           received_at
 *   staging.dead_letter     reason, payload (bytes), image, raw topic/
 *                           partition/offset, received_at
 *   firn.commits            one row per publish (pipeline.h)
 */
#ifndef FIRN_PIPELINE_EVENTS_H
#define FIRN_PIPELINE_EVENTS_H

#include "config/config.h"
#include "pipeline/pipeline.h"
#include "pipeline/validate.h"

#define FIRN_DEAD_LETTER_TABLE "staging.dead_letter"
#define FIRN_HISTORY_TABLE "firn.commits"

struct firn_catalog;

/* Schema JSON texts (caller frees). */
char *firn_events_prod_schema(const firn_validator *v);
char *firn_events_untrusted_schema(const firn_config_type *t);
char *firn_events_dead_letter_schema(void);

/* Properties every table created here gets under its own (e.g. the metadata
 * budget of maintain/). Process-wide; set before any table is opened; the
 * array must stay alive. */
void firn_events_set_table_defaults(const firn_ice_kv *kv, size_t n);

/* Load the tables, creating what is missing (namespaces too). */
int firn_events_open_type_tables(struct firn_catalog *cat, const firn_config *cfg,
                                 const firn_config_type *t, const firn_validator *v,
                                 firn_ice_table **prod, firn_ice_table **untrusted,
                                 firn_error *err);
int firn_events_open_dead_letter_table(struct firn_catalog *cat, const firn_config *cfg,
                                       firn_ice_table **out, firn_error *err);
int firn_events_open_history_table(struct firn_catalog *cat, firn_ice_table **out,
                                   firn_error *err);

typedef struct firn_type_handler firn_type_handler;

typedef struct firn_type_handler_stats {
    uint64_t trusted, untrusted;
} firn_type_handler_stats;

/* The handler of one type (cfg and t must outlive it; tables are only read
 * here, for their column order). */
int firn_type_handler_new(const firn_config *cfg, const firn_config_type *t,
                          const firn_ice_table *prod, const firn_ice_table *untrusted,
                          firn_type_handler **out, firn_error *err);
void firn_type_handler_free(firn_type_handler *h);
const firn_type_handler_stats *firn_type_handler_get_stats(const firn_type_handler *h);
/* The production column of the type's unique field (eventId), or -1. */
int firn_type_handler_event_id_col(const firn_type_handler *h, const firn_ice_table *prod);
/* Put an id published earlier into the dedupe window (recovery). An id the
 * window already holds keeps its entry (which may know the payload). */
void firn_type_handler_remember(firn_type_handler *h, const void *id, size_t len, int64_t now_us);
/* Empty the dedupe window (before re-warming it from main). */
void firn_type_handler_forget_all(firn_type_handler *h);
/* firn_event_fn for a type (ctx: the handler). */
int firn_type_handler_event(void *ctx, const struct firn_record *raw,
                            const struct firn_record *routed, firn_rows *trusted,
                            firn_rows *untrusted, const char *force, firn_error *err);
/* Check images on `threads` worker threads ahead of validation (0: in
 * firn_validate, on the caller's thread; the default). Only for a type with
 * an image field. Returns the pool's worker threads (0: no pool - a type
 * without an image field, or threads <= 0; on_prepare is then not needed). */
int firn_type_handler_set_image_threads(firn_type_handler *h, int threads);
/* firn_processor_options.on_prepare for a type (ctx: the handler): checks
 * the group's images (record header `image`) in parallel; the verdicts are
 * used when firn_type_handler_event gets those same records. Without image
 * threads it does nothing. */
int firn_type_handler_prepare(void *ctx, const struct firn_record *const *raws, size_t n,
                              firn_error *err);
/*
 * Types created at run time (pipeline.unknown-types = create) evolve. With
 * evolving on, an event carrying a top-level field the type lacks (not null,
 * a name that is neither an untrusted-table column nor an image field's
 * derived column, at most 1000 fields per type) makes the handler answer
 * FIRN_EVENT_EVOLVE; the processor publishes the batch before it and calls
 * its on_evolve, which calls firn_type_handler_evolve.
 */
void firn_type_handler_set_evolving(firn_type_handler *h, bool on);
/*
 * Append the new fields of the handler's last event to t (the handler's own
 * type, owned by the caller), typed from their values (a number: long when
 * integral, else double; a string: timestamp when it parses as one, else
 * string; true/false: boolean; objects, arrays: json), add their columns to
 * the tables (firn_events_evolve_tables) and replace *hp by a handler for the
 * evolved type that keeps the dedupe window and counters. On error the old
 * handler must not be used again (t's fields moved).
 */
int firn_type_handler_evolve(firn_type_handler **hp, firn_config_type *t, firn_ice_table *prod,
                             firn_ice_table *untrusted, firn_error *err);
/*
 * Make the tables hold every field of t: a field whose production column
 * exists takes the column's type (an earlier run may have added it from other
 * values); missing columns are added, optional (production: the validator's
 * columns; untrusted: one string column per field), each table in one commit
 * re-applied on a newer base if another writer commits first. No commit
 * when nothing is missing.
 */
int firn_events_evolve_tables(firn_config_type *t, firn_ice_table *prod,
                              firn_ice_table *untrusted, firn_error *err);
/* The production table property listing a type's json fields (comma
 * separated), so a restarted run tells them from string fields. */
#define FIRN_JSON_FIELDS_PROPERTY "firn.json-fields"
/* That list for t (caller frees; "" when none). */
char *firn_events_json_fields(const firn_config_type *t);
/*
 * The type a production table was created for at run time (the
 * "firn.event-type" property equals name): a field per column, images from
 * write.parquet.media-columns (their derived columns skipped), json fields
 * from FIRN_JSON_FIELDS_PROPERTY, required as the columns are, eventId
 * unique. NULL (and err NOT_FOUND) when the table does not exist or was not
 * made for this type. Caller frees with firn_events_free_type.
 */
firn_config_type *firn_events_type_from_table(struct firn_catalog *cat, const char *name,
                                              const char *topic, const char *table,
                                              const char *untrusted_table, const char *route_field,
                                              firn_error *err);
void firn_events_free_type(firn_config_type *t);

/* firn_event_fn for dead letters (ctx unused): rows of staging.dead_letter. */
int firn_dead_letter_event(void *ctx, const struct firn_record *raw,
                           const struct firn_record *routed, firn_rows *rows,
                           firn_rows *untrusted, const char *force, firn_error *err);

#endif
