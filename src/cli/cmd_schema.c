/* cmd_schema.c - `firn schema ...`: schema evolution that keeps field ids.
 *
 *   firn schema add-column TABLE NAME TYPE [--doc D]   an optional column ("a.b" nests)
 *   firn schema rename-column TABLE OLD NEW
 *   firn schema drop-column TABLE NAME
 *   firn schema widen TABLE NAME TYPE                  int->long, float->double,
 *                                                      decimal(P,S)->decimal(P2,S), P2 > P
 * Each is one commit (add-schema + set-current-schema), re-applied on a newer base when
 * another writer commits first.
 */
#include "cli/cli.h"
#include "iceberg/iceberg.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: firn schema add-column TABLE NAME TYPE [--doc D]\n"
    "       firn schema rename-column TABLE OLD NEW\n"
    "       firn schema drop-column TABLE NAME\n"
    "       firn schema widen TABLE NAME TYPE\n";

typedef enum { OP_ADD, OP_RENAME, OP_DROP, OP_WIDEN } schema_op;

typedef struct change {
    schema_op op;
    const char *name, *arg, *doc;
    firn_ice_type type;
    int32_t new_schema_id;
} change;

static int apply_change(void *ctx, firn_ice_metadata *md, firn_error *err) {
    change *c = ctx;
    const firn_ice_schema *base = firn_ice_metadata_current_schema(md);
    firn_ice_schema_update *u = firn_ice_schema_update_new(base, md->last_column_id);
    int rc;
    switch (c->op) {
    case OP_ADD: {
        /* "a.b": add b to struct a */
        const char *dot = strrchr(c->name, '.');
        char parent[512];
        const char *leaf = c->name;
        if (dot && (size_t)(dot - c->name) < sizeof parent) {
            memcpy(parent, c->name, (size_t)(dot - c->name));
            parent[dot - c->name] = '\0';
            leaf = dot + 1;
        }
        rc = firn_ice_schema_update_add_column(u, dot ? parent : NULL, leaf, &c->type, c->doc,
                                               err);
        break;
    }
    case OP_RENAME: rc = firn_ice_schema_update_rename_column(u, c->name, c->arg, err); break;
    case OP_DROP: rc = firn_ice_schema_update_delete_column(u, c->name, err); break;
    default: rc = firn_ice_schema_update_update_column(u, c->name, &c->type, err); break;
    }
    if (rc == 0) {
        firn_arena a;
        firn_arena_init(&a, 0);
        int32_t last = md->last_column_id, max_id = -1;
        for (size_t i = 0; i < md->nschemas; i++)
            if (md->schemas[i]->schema_id > max_id) max_id = md->schemas[i]->schema_id;
        firn_ice_schema *s = firn_ice_schema_update_apply(u, &a, max_id + 1, &last, err);
        rc = !s ? -1 : firn_ice_metadata_add_schema(md, s, &c->new_schema_id, err);
        if (rc == 0) rc = firn_ice_metadata_set_current_schema(md, c->new_schema_id, err);
        firn_arena_release(&a);
    }
    firn_ice_schema_update_free(u);
    return rc;
}

int firn_cmd_schema(int argc, char **argv) {
    if (argc < 2) return firn_cli_usage(usage);
    const char *sub = argv[1];
    const char *pos[4] = {0};
    int npos = 0;
    change c = {0};
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--doc") == 0 && i + 1 < argc) c.doc = argv[++i];
        else if (npos < 4 && (argv[i][0] != '-' || argv[i][1] == '\0')) pos[npos++] = argv[i];
        else return firn_cli_usage(usage);
    }
    int want;
    if (strcmp(sub, "add-column") == 0) c.op = OP_ADD, want = 3;
    else if (strcmp(sub, "rename-column") == 0) c.op = OP_RENAME, want = 3;
    else if (strcmp(sub, "drop-column") == 0) c.op = OP_DROP, want = 2;
    else if (strcmp(sub, "widen") == 0) c.op = OP_WIDEN, want = 3;
    else {
        fprintf(stderr, "firn: schema: unknown subcommand '%s'\n%s", sub, usage);
        return 2;
    }
    if (npos != want || (c.doc && c.op != OP_ADD)) return firn_cli_usage(usage);
    c.name = pos[1];
    c.arg = pos[2];
    char what[64];
    snprintf(what, sizeof what, "schema %s", sub);
    firn_error err;
    firn_error_init(&err);
    if ((c.op == OP_ADD || c.op == OP_WIDEN) &&
        firn_ice_type_parse_primitive(pos[2], &c.type, &err) != 0) {
        firn_error_context(&err, "type '%s'", pos[2]);
        return firn_cli_fail(what, &err);
    }
    firn_cli_env env;
    firn_ice_table *t = NULL;
    int rc = 0;
    firn_ice_update up = {.apply = apply_change, .ctx = &c};
    if (firn_cli_env_open(&env, &err) != 0 || firn_cli_load_table(&env, pos[0], &t, &err) != 0 ||
        firn_ice_table_commit(t, &up, 1, NULL, &err) != 0) {
        rc = firn_cli_fail(what, &err);
    } else {
        const firn_ice_schema *s = firn_ice_metadata_current_schema(t->metadata);
        printf("%s: table %s now has schema %d:", sub, pos[0], s->schema_id);
        for (size_t i = 0; i < firn_ice_schema_nfields(s); i++) {
            const firn_ice_field *f = &firn_ice_schema_fields(s)[i];
            char tb[64];
            printf(" %d:%s:%s", f->id, f->name, firn_ice_type_to_string(f->type, tb, sizeof tb));
        }
        printf("\n");
    }
    firn_ice_table_free(t);
    firn_cli_env_close(&env);
    firn_error_release(&err);
    return rc;
}
