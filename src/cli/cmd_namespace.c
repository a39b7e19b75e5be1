/* cmd_namespace.c - `firn namespace create|list|show|drop`: catalog namespaces.
 *
 *   firn namespace create NS [--property k=v]...
 *   firn namespace list [PARENT]     namespaces directly under PARENT (or the top level)
 *   firn namespace show NS           its properties and tables
 *   firn namespace drop NS           only when empty
 */
#include "catalog/catalog.h"
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: firn namespace create NS [--property k=v]...\n"
    "       firn namespace list [PARENT]\n"
    "       firn namespace show NS\n"
    "       firn namespace drop NS\n";

static int ns_create(firn_cli_env *env, int argc, char **argv, firn_error *err) {
    const char *ns = NULL;
    size_t cap = (size_t)argc + 1, n = 0;
    const char **keys = firn_arena_alloc(&env->arena, cap * sizeof *keys);
    const char **values = firn_arena_alloc(&env->arena, cap * sizeof *values);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--property") == 0 && i + 1 < argc) {
            if (firn_cli_parse_kv(argv[++i], &env->arena, &keys[n], &values[n], err) != 0)
                return firn_cli_fail("namespace create", err);
            n++;
        } else if (argv[i][0] != '-' && !ns) {
            ns = argv[i];
        } else {
            return firn_cli_usage(usage);
        }
    }
    if (!ns) return firn_cli_usage(usage);
    firn_cat_props props = {n, keys, values};
    if (firn_cat_create_namespace(env->cat, ns, &props, err) != 0)
        return firn_cli_fail("namespace create", err);
    printf("created namespace %s\n", ns);
    return 0;
}

static int ns_list(firn_cli_env *env, int argc, char **argv, firn_error *err) {
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) return firn_cli_usage(usage);
    const char *parent = argc == 2 ? argv[1] : NULL;
    const char **names;
    size_t n;
    if (firn_cat_list_namespaces(env->cat, parent, &env->arena, &names, &n, err) != 0)
        return firn_cli_fail("namespace list", err);
    for (size_t i = 0; i < n; i++) printf("%s\n", names[i]);
    return 0;
}

static int ns_show(firn_cli_env *env, int argc, char **argv, firn_error *err) {
    if (argc != 2 || argv[1][0] == '-') return firn_cli_usage(usage);
    const char *ns = argv[1];
    firn_cat_props props;
    if (firn_cat_load_namespace(env->cat, ns, &env->arena, &props, err) != 0)
        return firn_cli_fail("namespace show", err);
    const char **tables, **children;
    size_t ntables, nchildren;
    if (firn_cat_list_tables(env->cat, ns, &env->arena, &tables, &ntables, err) != 0 ||
        firn_cat_list_namespaces(env->cat, ns, &env->arena, &children, &nchildren, err) != 0)
        return firn_cli_fail("namespace show", err);
    printf("namespace %s\n", ns);
    printf("properties:\n");
    for (size_t i = 0; i < props.n; i++) printf("  %s=%s\n", props.keys[i], props.values[i]);
    printf("namespaces:\n");
    for (size_t i = 0; i < nchildren; i++) printf("  %s\n", children[i]);
    printf("tables:\n");
    for (size_t i = 0; i < ntables; i++) printf("  %s.%s\n", ns, tables[i]);
    return 0;
}

static int ns_drop(firn_cli_env *env, int argc, char **argv, firn_error *err) {
    if (argc != 2 || argv[1][0] == '-') return firn_cli_usage(usage);
    if (firn_cat_drop_namespace(env->cat, argv[1], err) != 0)
        return firn_cli_fail("namespace drop", err);
    printf("dropped namespace %s\n", argv[1]);
    return 0;
}

int firn_cmd_namespace(int argc, char **argv) {
    if (argc < 2) return firn_cli_usage(usage);
    static const firn_cli_subcommand subs[] = {
        {"create", ns_create}, {"list", ns_list}, {"show", ns_show}, {"drop", ns_drop}};
    return firn_cli_run_subcommand("namespace", usage, subs, sizeof subs / sizeof subs[0], argc,
                                   argv);
}
