/* fixture.c - scaffolding the table tests share (see fixture.h). */
#include "fixture.h"

#include "test.h"

#include <stdio.h>
#include <string.h>

const char *firn_test_errtext(const firn_error *err) {
    static char buf[2048];
    return firn_error_format(err, buf, sizeof buf);
}

int firn_test_warehouse_open(const char *prefix, const char *name, bool any_catalog,
                             const char *const *namespaces, char *wh, size_t whn,
                             firn_catalog **cat, firn_error *err) {
    if (name) snprintf(wh, whn, "%s/%s-%s", firn_test_tmpdir(), prefix, name);
    else snprintf(wh, whn, "%s/%s", firn_test_tmpdir(), prefix);
    char uri[1024];
    if (any_catalog) snprintf(uri, sizeof uri, "%s", firn_test_catalog_uri(wh));
    else snprintf(uri, sizeof uri, "sqlite:%s/catalog.db", wh);
    firn_cat_config cfg = {0};
    cfg.warehouse = wh;
    if (firn_cat_open(uri, &cfg, cat, err)) return -1;
    for (size_t i = 0; namespaces && namespaces[i]; i++)
        if (firn_cat_create_namespace(*cat, namespaces[i], NULL, err)) return -1;
    return 0;
}

int firn_test_table_create(firn_catalog *cat, firn_arena *a, const char *ns, const char *name,
                           const char *schema_json, const firn_ice_partition_spec *spec,
                           const firn_ice_kv *extra, size_t nextra, firn_ice_table **out,
                           firn_error *err) {
    firn_ice_schema *s = firn_ice_schema_parse(a, schema_json, strlen(schema_json), err);
    if (!s) return -1;
    firn_ice_kv props[16] = {{"commit.retry.min-wait-ms", "1"}};
    size_t np = 1;
    for (size_t i = 0; i < nextra && np < 16; i++) props[np++] = extra[i];
    firn_ice_table_options opts = {NULL, props, np, 0};
    return firn_ice_table_create(cat, ns, name, s, spec, NULL, &opts, out, err);
}

firn_ice_producer *firn_test_fast_append_new(firn_ice_table *t, const char *branch,
                                             firn_error *err) {
    firn_ice_producer *p = firn_ice_producer_new(t, branch, "append", err);
    if (p) firn_ice_producer_set_merge(p, 0);
    return p;
}
