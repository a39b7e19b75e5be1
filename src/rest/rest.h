/*
 * rest.h - the Iceberg REST catalog protocol served over firn's catalog.
 *
 * firn_rest_handle() answers one HTTP request of the Iceberg REST catalog
 * OpenAPI document (apache/iceberg open-api/rest-catalog-open-api.yaml) from
 * a firn catalog (catalog/catalog.h) and the table layer (iceberg/iceberg.h).
 * It knows nothing of sockets: an HTTP server (`firn serve` and `firn run
 * --listen` mount it at /iceberg, src/server/iceberg_mount.c; the test tool
 * tests/tools/rest_server.c serves it alone) passes the method, the path below its mount
 * point ("/v1/config", "/v1/namespaces/a%1Fb/tables/t", ...), the raw query
 * string and the body, and sends back the status, body and content type.
 *
 * Routes (paths may carry the configured prefix after /v1/, or none):
 *   GET  /v1/config
 *   GET|POST /v1/namespaces                      list (parent, pageToken, pageSize), create
 *   GET|HEAD|DELETE /v1/namespaces/{ns}          load, exists, drop (empty only)
 *   POST /v1/namespaces/{ns}/properties          set and remove properties
 *   GET|POST /v1/namespaces/{ns}/tables          list, create (stage-create: 406)
 *   POST /v1/namespaces/{ns}/register            adopt a metadata file
 *   GET|HEAD|POST|DELETE /v1/namespaces/{ns}/tables/{t}
 *                                                load, exists, commit, drop (purgeRequested)
 *   POST /v1/namespaces/{ns}/tables/{t}/metrics  accepted and dropped (204)
 *   POST /v1/tables/rename
 *   POST /v1/transactions/commit                 several tables, all or none
 *                                                (406 with no_transactions)
 * Namespaces are firn's dotted names ("a.b"); on the wire they are arrays of
 * levels (["a","b"]) and in paths levels joined by the unit separator (%1F).
 * A level containing '.' cannot be represented and is refused (400), as is a
 * path segment that is not UTF-8 or holds %00, and a pageToken or pageSize
 * that is not a whole number (pageSize at least 1).
 *
 * Commits: the table is loaded, then - at each attempt of firn's commit loop,
 * so also after losing a race to another writer - the requirements are
 * checked against the current metadata (assert-create, assert-table-uuid,
 * assert-ref-snapshot-id, assert-last-assigned-field-id,
 * assert-current-schema-id, assert-last-assigned-partition-id,
 * assert-default-spec-id, assert-default-sort-order-id) and the updates
 * applied in order (firn_ice_metadata_apply_update_json); the new metadata
 * file is written and swapped in through the catalog's compare-and-swap
 * (firn_ice_table_commit_multi). A failed requirement answers 409
 * CommitFailedException; an update the metadata refuses 400; an unknown
 * outcome (the catalog failed mid-swap) 500 CommitStateUnknownException.
 *
 * Errors are the spec's IcebergErrorResponse: {"error": {"message", "type",
 * "code"}} with types NoSuchNamespaceException, NoSuchTableException,
 * AlreadyExistsException, NamespaceNotEmptyException, CommitFailedException,
 * BadRequestException, UnsupportedOperationException, ...
 *
 * Threads: firn_rest_handle serializes requests on one server (a mutex
 * around the catalog handle), so an HTTP server may call it from several
 * threads.
 */
#ifndef FIRN_REST_H
#define FIRN_REST_H

#include "util/util.h"

#include <stddef.h>
#include <stdint.h>

struct firn_catalog;

typedef struct firn_rest_server firn_rest_server;

typedef struct firn_rest_server_config {
    /* Announced in GET /v1/config defaults as "warehouse" (may be NULL). */
    const char *warehouse;
    /* A path prefix clients put after /v1/ (announced as the "prefix"
     * override); NULL: none (paths without a prefix are always accepted). */
    const char *prefix;
    /* Do not offer POST /v1/transactions/commit: it is left out of the
     * config's "endpoints" and answers 406 UnsupportedOperationException (a
     * server without the optional endpoint, for tests of clients that then
     * commit table by table). */
    bool no_transactions;
} firn_rest_server_config;

/* cat is borrowed and must outlive the server; cfg may be NULL. */
int firn_rest_server_new(struct firn_catalog *cat, const firn_rest_server_config *cfg,
                         firn_rest_server **out, firn_error *err);
void firn_rest_server_free(firn_rest_server *s);

typedef struct firn_rest_response {
    int status;               /* HTTP status */
    char *body;               /* malloc'd, NULL when none (204) */
    size_t len;
    const char *content_type; /* static string, NULL when no body */
} firn_rest_response;

void firn_rest_response_release(firn_rest_response *r);

/*
 * Answer one request. method is "GET", "POST", "HEAD", "DELETE"; path the
 * part below the mount point starting with "/v1/" (percent-escapes still in
 * it); query the raw query string without '?' (or NULL); body/len the request
 * body (may be NULL/0). *out is always filled (release it with
 * firn_rest_response_release); the return value is 0, or a negative firn error
 * when no response could be built at all (out of memory).
 */
int firn_rest_handle(firn_rest_server *s, const char *method, const char *path, const char *query,
                     const uint8_t *body, size_t len, firn_rest_response *out);

#endif
