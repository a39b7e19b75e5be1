/*
 * fixture.h - scaffolding the table tests share (test_iceberg_*.c, test_wap.c,
 * test_maintain.c, test_catalog.c): a warehouse and its catalog under the
 * scratch directory, a table created from schema JSON, Java's FastAppend, and
 * the formatted error chain for failure messages.
 */
#ifndef FIRN_TEST_FIXTURE_H
#define FIRN_TEST_FIXTURE_H

#include "catalog/catalog.h"
#include "iceberg/iceberg.h"

#include <stdbool.h>
#include <stddef.h>

/* The formatted error chain (one static buffer: the next call overwrites it). */
const char *firn_test_errtext(const firn_error *err);

/* Opens the catalog of the warehouse <scratch>/<prefix>-<name> (<scratch>/<prefix>
 * when name is NULL), whose path is written to wh (whn bytes), into *cat, and
 * creates the namespaces listed (NULL-terminated; NULL: none). The catalog is
 * SQLite at <wh>/catalog.db, or, when any_catalog, firn_test_catalog_uri(wh)
 * (PostgreSQL under FIRN_TEST_CATALOG=postgresql). The caller frees *cat, also
 * when this fails after opening it. */
int firn_test_warehouse_open(const char *prefix, const char *name, bool any_catalog,
                             const char *const *namespaces, char *wh, size_t whn,
                             firn_catalog **cat, firn_error *err);

/* Creates ns.name from schema_json (parsed into a) with spec (NULL:
 * unpartitioned) and the properties commit.retry.min-wait-ms=1 then extra
 * (nextra of them, at most 15), into *out (caller frees). */
int firn_test_table_create(firn_catalog *cat, firn_arena *a, const char *ns, const char *name,
                           const char *schema_json, const firn_ice_partition_spec *spec,
                           const firn_ice_kv *extra, size_t nextra, firn_ice_table **out,
                           firn_error *err);

/* Java's FastAppend: an append producer on branch (NULL: main) with manifest
 * merging off. Caller frees. */
firn_ice_producer *firn_test_fast_append_new(firn_ice_table *t, const char *branch,
                                             firn_error *err);

#endif
