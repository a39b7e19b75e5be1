/* cmd_table.c - `firn table create|list|show|drop|rename|register`.
 *
 *   firn table create NS.TABLE --schema FILE.json [--partition-by SPEC] [--property k=v]...
 *       SPEC: comma-separated terms col | identity(col) | year|month|day|hour(col) |
 *       bucket(N,col) | truncate(W,col) | void(col); the schema file is Iceberg's schema
 *       JSON, its ids are reassigned fresh (as Java does)
 *   firn table list NS
 *   firn table show NS.TABLE
 *   firn table drop NS.TABLE [--purge]     --purge also deletes the files under its location
 *   firn table rename NS.A NS2.B
 *   firn table register NS.TABLE METADATA_FILE
 */
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "iceberg/iceberg.h"
#include "io/io.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: firn table create NS.TABLE --schema FILE.json [--partition-by SPEC] "
    "[--property k=v]...\n"
    "       firn table list NS\n"
    "       firn table show NS.TABLE\n"
    "       firn table drop NS.TABLE [--purge]\n"
    "       firn table rename NS.TABLE NS2.TABLE2\n"
    "       firn table register NS.TABLE METADATA_FILE\n";

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
    return s;
}

/* One --partition-by term into the spec builder. */
static int add_term(firn_ice_spec_builder *b, char *term, firn_error *err) {
    term = trim(term);
    char *open = strchr(term, '(');
    firn_ice_transform t = {.kind = FIRN_ICE_TRANSFORM_IDENTITY};
    const char *col = term;
    if (open) {
        char *close = strrchr(term, ')');
        if (!close || close[1] != '\0')
            return FIRN_RAISE(err, FIRN_ERR_INVALID, "partition term '%s': missing ')'", term);
        *open = '\0';
        *close = '\0';
        char *fn = trim(term), *args = open + 1, *comma = strchr(args, ',');
        col = trim(comma ? comma + 1 : args);
        char tbuf[64];
        if (comma) {
            *comma = '\0';
            snprintf(tbuf, sizeof tbuf, "%s[%s]", fn, trim(args));
        } else {
            snprintf(tbuf, sizeof tbuf, "%s", fn);
        }
        if (firn_ice_transform_parse(tbuf, &t, err) != 0) {
            firn_error_context(err, "partition term %s(...)", fn);
            return -1;
        }
    }
    if (!*col) return FIRN_RAISE(err, FIRN_ERR_INVALID, "partition term without a column");
    return firn_ice_spec_builder_add(b, col, &t, NULL, err);
}

static firn_ice_partition_spec *parse_partition_by(firn_arena *a, const firn_ice_schema *schema,
                                                   const char *text, firn_error *err) {
    firn_arena tmp;
    firn_arena_init(&tmp, 0);
    firn_ice_partition_spec *base = firn_ice_partition_spec_unpartitioned(&tmp, 0);
    firn_ice_spec_builder *b = firn_ice_spec_builder_new(schema, base, NULL, 0, 999, 2);
    char *s = firn_arena_strdup(&tmp, text);
    firn_ice_partition_spec *spec = NULL;
    int depth = 0, rc = 0;
    char *start = s;
    for (char *p = s;; p++) {
        if (*p == '(') depth++;
        else if (*p == ')') depth--;
        if ((*p == ',' && depth == 0) || *p == '\0') {
            bool end = *p == '\0';
            *p = '\0';
            if ((rc = add_term(b, start, err)) != 0) break;
            if (end) break;
            start = p + 1;
        }
    }
    if (rc == 0) {
        int32_t last;
        spec = firn_ice_spec_builder_finish(b, a, 0, &last, err);
    }
    firn_ice_spec_builder_free(b);
    firn_arena_release(&tmp);
    return spec;
}

static int tbl_create(firn_cli_env *env, int argc, char **argv, firn_error *err) {
    const char *name = NULL, *schema_path = NULL, *partition_by = NULL;
    size_t n = 0;
    firn_ice_kv *props = firn_arena_alloc(&env->arena, ((size_t)argc + 1) * sizeof *props);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--schema") == 0 && i + 1 < argc) schema_path = argv[++i];
        else if (strcmp(argv[i], "--partition-by") == 0 && i + 1 < argc) partition_by = argv[++i];
        else if (strcmp(argv[i], "--property") == 0 && i + 1 < argc) {
            if (firn_cli_parse_kv(argv[++i], &env->arena, &props[n].key, &props[n].value, err))
                return firn_cli_fail("table create", err);
            n++;
        } else if (argv[i][0] != '-' && !name) name = argv[i];
        else return firn_cli_usage(usage);
    }
    if (!name || !schema_path) return firn_cli_usage(usage);
    firn_cat_ident id;
    if (firn_cli_parse_ident(env, name, &id, err) != 0) return firn_cli_fail("table create", err);
    uint8_t *text;
    size_t len;
    if (firn_read_file(schema_path, &text, &len, err) != 0) {
        firn_error_context(err, "%s", schema_path);
        return firn_cli_fail("table create", err);
    }
    firn_ice_schema *schema = firn_ice_schema_parse(&env->arena, (const char *)text, len, err);
    free(text);
    if (!schema) {
        char what[PATH_MAX + 32];
        snprintf(what, sizeof what, "table create: %s", schema_path);
        return firn_cli_fail(what, err);
    }
    firn_ice_partition_spec *spec = NULL;
    if (partition_by && !(spec = parse_partition_by(&env->arena, schema, partition_by, err))) {
        char what[256];
        snprintf(what, sizeof what, "table create: --partition-by '%s'", partition_by);
        return firn_cli_fail(what, err);
    }
    firn_ice_table_options opts = {.properties = props, .nproperties = n};
    firn_ice_table *t;
    if (firn_ice_table_create(env->cat, id.ns, id.name, schema, spec, NULL, &opts, &t, err) != 0)
        return firn_cli_fail("table create", err);
    printf("created table %s.%s\nlocation %s\nmetadata %s\n", id.ns, id.name,
           t->metadata->location, t->metadata_location);
    firn_ice_table_free(t);
    return 0;
}

static int tbl_list(firn_cli_env *env, int argc, char **argv, firn_error *err) {
    if (argc != 2 || argv[1][0] == '-') return firn_cli_usage(usage);
    const char **names;
    size_t n;
    if (firn_cat_list_tables(env->cat, argv[1], &env->arena, &names, &n, err) != 0)
        return firn_cli_fail("table list", err);
    for (size_t i = 0; i < n; i++) printf("%s.%s\n", argv[1], names[i]);
    return 0;
}

static void print_time(int64_t ms) {
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    printf("%s.%03dZ", buf, (int)(ms % 1000));
}

static void print_schema(const firn_ice_schema *s) {
    printf("schema %d:\n", s->schema_id);
    for (size_t i = 0; i < firn_ice_schema_nfields(s); i++) {
        const firn_ice_field *f = &firn_ice_schema_fields(s)[i];
        char tbuf[64];
        const char *ts = tbuf;
        char *dumped = NULL;
        if (firn_ice_type_is_primitive(f->type)) {
            firn_ice_type_to_string(f->type, tbuf, sizeof tbuf);
        } else {
            json_t *j = firn_ice_type_to_json(f->type);
            ts = dumped = json_dumps(j, JSON_COMPACT);
            json_decref(j);
        }
        printf("  %4d  %-20s %-16s %s%s%s\n", f->id, f->name, ts,
               f->required ? "required" : "optional", f->doc ? "  -- " : "",
               f->doc ? f->doc : "");
        free(dumped);
    }
}

static int tbl_show(firn_cli_env *env, int argc, char **argv, firn_error *err) {
    if (argc != 2 || argv[1][0] == '-') return firn_cli_usage(usage);
    firn_ice_table *t;
    if (firn_cli_load_table(env, argv[1], &t, err) != 0) return firn_cli_fail("table show", err);
    const firn_ice_metadata *md = t->metadata;
    const firn_ice_schema *schema = firn_ice_metadata_current_schema(md);
    printf("table %s.%s\n", t->ns, t->name);
    printf("uuid %s\nformat-version %d\nlocation %s\nmetadata %s\n", md->table_uuid,
           md->format_version, md->location, t->metadata_location);
    print_schema(schema);
    const firn_ice_partition_spec *spec = firn_ice_metadata_default_spec(md);
    printf("partition spec %d:%s\n", spec->spec_id, spec->nfields ? "" : " unpartitioned");
    for (size_t i = 0; i < spec->nfields; i++) {
        const firn_ice_partition_field *pf = &spec->fields[i];
        char tbuf[64];
        const char *src = firn_ice_schema_find_name(schema, pf->source_id);
        printf("  %4d  %-20s %s(%s)\n", pf->field_id, pf->name,
               firn_ice_transform_to_string(&pf->transform, tbuf, sizeof tbuf),
               src ? src : "?");
    }
    printf("properties:\n");
    for (size_t i = 0; i < md->nproperties; i++)
        printf("  %s=%s\n", md->properties[i].key, md->properties[i].value);
    printf("refs:\n");
    for (size_t i = 0; i < md->nrefs; i++) {
        const firn_ice_ref *r = md->refs[i];
        printf("  %-20s %-6s %lld\n", r->name, r->type == FIRN_ICE_REF_TAG ? "tag" : "branch",
               (long long)r->snapshot_id);
    }
    const firn_ice_snapshot *cur = firn_ice_metadata_current_snapshot(md);
    printf("snapshots: %zu\n", md->nsnapshots);
    if (!cur) {
        printf("current snapshot: none\n");
    } else {
        const char *op = firn_ice_snapshot_operation(cur);
        printf("current snapshot: %lld (%s, sequence %lld, ", (long long)cur->snapshot_id,
               op ? op : "?", (long long)cur->sequence_number);
        print_time(cur->timestamp_ms);
        printf(")\n");
        for (size_t i = 0; i < cur->nsummary; i++)
            if (strcmp(cur->summary[i].key, "operation") != 0)
                printf("  %s=%s\n", cur->summary[i].key, cur->summary[i].value);
        printf("  manifest-list=%s\n", cur->manifest_list ? cur->manifest_list : "");
    }
    firn_ice_table_free(t);
    return 0;
}

typedef struct purge_list {
    firn_arena *a;
    const char **locs;
    size_t n, cap;
} purge_list;

static int collect(void *ctx, const firn_io_entry *e, firn_error *err) {
    (void)err;
    purge_list *pl = ctx;
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 64;
        const char **nl = firn_arena_alloc(pl->a, cap * sizeof *nl);
        if (pl->n) memcpy(nl, pl->locs, pl->n * sizeof *nl);
        pl->locs = nl;
        pl->cap = cap;
    }
    pl->locs[pl->n++] = firn_arena_strdup(pl->a, e->location);
    return 0;
}

static int tbl_drop(firn_cli_env *env, int argc, char **argv, firn_error *err) {
    const char *name = NULL;
    bool purge = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--purge") == 0) purge = true;
        else if (argv[i][0] != '-' && !name) name = argv[i];
        else return firn_cli_usage(usage);
    }
    if (!name) return firn_cli_usage(usage);
    firn_cat_ident id;
    if (firn_cli_parse_ident(env, name, &id, err) != 0) return firn_cli_fail("table drop", err);
    const char *location = NULL;
    if (purge) {
        firn_ice_table *t;
        if (firn_ice_table_load(env->cat, id.ns, id.name, &t, err) != 0)
            return firn_cli_fail("table drop", err);
        location = firn_arena_strdup(&env->arena, t->metadata->location);
        firn_ice_table_free(t);
    }
    if (firn_cat_drop_table(env->cat, &id, &env->arena, NULL, err) != 0)
        return firn_cli_fail("table drop", err);
    printf("dropped table %s.%s\n", id.ns, id.name);
    if (purge) {
        purge_list pl = {.a = &env->arena};
        size_t failed = 0;
        firn_io *io = NULL; /* the table's own scheme: local or s3 */
        if (firn_io_new_for_uri(location, &io, err) != 0 ||
            firn_io_list(io, location, collect, &pl, err) != 0 ||
            firn_io_delete_batch(io, pl.locs, pl.n, &failed, err) != 0) {
            firn_io_free(io);
            return firn_cli_fail("table drop --purge", err);
        }
        firn_io_free(io);
        printf("purged %zu files under %s\n", pl.n, location);
    }
    return 0;
}

static int tbl_rename(firn_cli_env *env, int argc, char **argv, firn_error *err) {
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') return firn_cli_usage(usage);
    firn_cat_ident from, to;
    if (firn_cli_parse_ident(env, argv[1], &from, err) != 0 ||
        firn_cli_parse_ident(env, argv[2], &to, err) != 0 ||
        firn_cat_rename_table(env->cat, &from, &to, err) != 0)
        return firn_cli_fail("table rename", err);
    printf("renamed table %s.%s to %s.%s\n", from.ns, from.name, to.ns, to.name);
    return 0;
}

static int tbl_register(firn_cli_env *env, int argc, char **argv, firn_error *err) {
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') return firn_cli_usage(usage);
    firn_cat_ident id;
    if (firn_cli_parse_ident(env, argv[1], &id, err) != 0) return firn_cli_fail("table register", err);
    const char *loc = argv[2];
    char abs[PATH_MAX];
    if (!strstr(loc, ":/") && strncmp(loc, "file:", 5) != 0) {
        if (!realpath(loc, abs)) {
            FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "no metadata file '%s'", loc);
            return firn_cli_fail("table register", err);
        }
        loc = abs;
    }
    if (firn_cat_register_table(env->cat, &id, loc, err) != 0)
        return firn_cli_fail("table register", err);
    firn_ice_table *t;
    if (firn_ice_table_load(env->cat, id.ns, id.name, &t, err) != 0) {
        /* not a table we can read: take the entry back out */
        firn_error e2;
        firn_error_init(&e2);
        firn_cat_drop_table(env->cat, &id, &env->arena, NULL, &e2);
        firn_error_release(&e2);
        return firn_cli_fail("table register", err);
    }
    printf("registered table %s.%s at %s\n", id.ns, id.name, t->metadata_location);
    firn_ice_table_free(t);
    return 0;
}

int firn_cmd_table(int argc, char **argv) {
    if (argc < 2) return firn_cli_usage(usage);
    static const firn_cli_subcommand subs[] = {
        {"create", tbl_create}, {"list", tbl_list},     {"show", tbl_show},
        {"drop", tbl_drop},     {"rename", tbl_rename}, {"register", tbl_register}};
    return firn_cli_run_subcommand("table", usage, subs, sizeof subs / sizeof subs[0], argc, argv);
}
