/* test_rest.c - the REST catalog handler (src/rest) driven in process, and the
 * metadata diff (firn_ice_metadata_diff) it pairs with: a diff sent as a
 * commit reproduces the change on the server's table. */
#include "catalog/catalog.h"
#include "iceberg/iceberg.h"
#include "rest/rest.h"
#include "test.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static json_t *call(firn_rest_server *s, const char *method, const char *path, const char *body,
                    int *status) {
    firn_rest_response r;
    firn_rest_handle(s, method, path, NULL, (const uint8_t *)body, body ? strlen(body) : 0, &r);
    *status = r.status;
    json_t *j = r.body ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    firn_rest_response_release(&r);
    return j;
}

FIRN_TEST(rest_handler_commit_requirements_and_diff) {
    firn_error err;
    firn_error_init(&err);
    char wh[512];
    snprintf(wh, sizeof wh, "%s/rest-wh", firn_test_tmpdir());
    firn_cat_config cfg = {.warehouse = wh};
    firn_catalog *cat = NULL;
    CHECK_OK(firn_cat_open("sqlite::memory:", &cfg, &cat, &err), &err);
    firn_rest_server *s = NULL;
    CHECK_OK(firn_rest_server_new(cat, NULL, &s, &err), &err);
    int st;
    json_t *j = call(s, "POST", "/v1/namespaces", "{\"namespace\":[\"a\",\"b\"]}", &st);
    CHECK_EQ_INT(st, 200);
    json_decref(j);
    j = call(s, "GET", "/v1/namespaces/a%1Fb", NULL, &st);
    CHECK_EQ_INT(st, 200);
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(j, "namespace"), 1)), "b");
    json_decref(j);
    j = call(s, "POST", "/v1/namespaces/a%1Fb/tables",
             "{\"name\":\"t\",\"schema\":{\"type\":\"struct\",\"schema-id\":0,\"fields\":"
             "[{\"id\":1,\"name\":\"x\",\"type\":\"long\",\"required\":false}]}}",
             &st);
    CHECK_EQ_INT(st, 200);
    firn_ice_metadata *base =
        firn_ice_metadata_from_json(json_object_get(j, "metadata"), &err);
    CHECK(base != NULL);
    json_decref(j);

    /* the client side: a change made locally, then diffed */
    firn_ice_metadata *next = firn_ice_metadata_copy(base, &err);
    firn_ice_kv kv = {"k", "v"};
    CHECK_OK(firn_ice_metadata_set_properties(next, &kv, 1, &err), &err);
    json_t *req = NULL, *up = NULL;
    CHECK_OK(firn_ice_metadata_diff(base, next, &req, &up, &err), &err);
    CHECK_EQ_INT((int)json_array_size(up), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(up, 0), "action")),
                 "set-properties");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(req, 0), "type")),
                 "assert-table-uuid");
    json_t *body = json_pack("{s:O, s:O}", "requirements", req, "updates", up);
    char *text = json_dumps(body, JSON_COMPACT);
    j = call(s, "POST", "/v1/namespaces/a%1Fb/tables/t", text, &st);
    CHECK_EQ_INT(st, 200);
    CHECK_EQ_STR(json_string_value(json_object_get(
                     json_object_get(json_object_get(j, "metadata"), "properties"), "k")),
                 "v");
    json_decref(j);

    /* a stale requirement: 409, and the table keeps its state */
    json_t *stale = json_pack("{s:[{s:s, s:i}], s:[]}", "requirements", "type",
                              "assert-current-schema-id", "current-schema-id", 3, "updates");
    char *stext = json_dumps(stale, JSON_COMPACT);
    j = call(s, "POST", "/v1/namespaces/a%1Fb/tables/t", stext, &st);
    CHECK_EQ_INT(st, 409);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(j, "error"), "type")),
                 "CommitFailedException");
    json_decref(j);
    j = call(s, "GET", "/v1/nowhere", NULL, &st);
    CHECK_EQ_INT(st, 404);
    json_decref(j);

    free(stext);
    json_decref(stale);
    free(text);
    json_decref(body);
    json_decref(req);
    json_decref(up);
    firn_ice_metadata_free(base);
    firn_ice_metadata_free(next);
    firn_rest_server_free(s);
    firn_cat_free(cat);
    firn_error_release(&err);
}
