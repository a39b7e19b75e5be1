/* cli.h - the `firn` command table. One src/cli/cmd_<name>.c per command. */
#ifndef FIRN_CLI_H
#define FIRN_CLI_H

#include "util/util.h"

#include <stddef.h>

typedef struct firn_cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;
} firn_cli_command;

const firn_cli_command *firn_cli_commands(size_t *n);

/* docs/cli/<name>.md, embedded at build time (scripts/embed_docs.sh); the array
 * ends with {NULL, NULL}. */
typedef struct firn_cli_doc {
    const char *name;
    const char *text;
} firn_cli_doc;
extern const firn_cli_doc firn_cli_docs[];
extern const size_t firn_cli_ndocs;

int firn_cmd_help(int argc, char **argv);
int firn_cmd_avro(int argc, char **argv);
int firn_cmd_parquet(int argc, char **argv);
int firn_cmd_sample(int argc, char **argv);
int firn_cmd_namespace(int argc, char **argv);
int firn_cmd_table(int argc, char **argv);
int firn_cmd_append(int argc, char **argv);
int firn_cmd_branch(int argc, char **argv);
int firn_cmd_tag(int argc, char **argv);
int firn_cmd_schema(int argc, char **argv);
int firn_cmd_scan(int argc, char **argv);
int firn_cmd_inspect(int argc, char **argv);
int firn_cmd_publish(int argc, char **argv);
int firn_cmd_sim(int argc, char **argv);
int firn_cmd_collect(int argc, char **argv);
int firn_cmd_run(int argc, char **argv);
int firn_cmd_classify(int argc, char **argv);
int firn_cmd_process(int argc, char **argv);
int firn_cmd_topic(int argc, char **argv);
int firn_cmd_maintain(int argc, char **argv);
int firn_cmd_config(int argc, char **argv);
int firn_cmd_serve(int argc, char **argv);

/* ---- cli_common.c: shared by the table commands ---- */

struct firn_catalog;
struct firn_io;
struct firn_cat_ident;
struct firn_ice_table;

/* The opened catalog and FileIO of one command run. */
typedef struct firn_cli_env {
    const char *catalog_uri; /* --catalog, default sqlite:<warehouse>/catalog.db */
    const char *warehouse;   /* --warehouse, default ./warehouse (absolute once opened) */
    struct firn_catalog *cat;
    struct firn_io *io;
    firn_arena arena;        /* strings of this run */
} firn_cli_env;

/* Remove the global options --catalog URI and --warehouse PATH (anywhere in argv,
 * also as --opt=value) and remember them; returns the new argc. */
int firn_cli_take_globals(int argc, char **argv);
/* --catalog / --warehouse as given, or NULL. */
const char *firn_cli_global_catalog(void);
const char *firn_cli_global_warehouse(void);
/* Create the warehouse directory if missing, open the catalog and a local FileIO. */
int firn_cli_env_open(firn_cli_env *env, firn_error *err);
void firn_cli_env_close(firn_cli_env *env);
/* "ns.table" (split at the last dot; strings in env->arena). */
int firn_cli_parse_ident(firn_cli_env *env, const char *text, struct firn_cat_ident *out,
                         firn_error *err);
/* Load "ns.table" from env's catalog; the caller frees *out with firn_ice_table_free. */
int firn_cli_load_table(firn_cli_env *env, const char *text, struct firn_ice_table **out,
                        firn_error *err);
/* "k=v" into *key and *value, allocated in a. */
int firn_cli_parse_kv(const char *arg, firn_arena *a, const char **key, const char **value,
                      firn_error *err);
/* Print "firn: <what>: <error>" to stderr, reset err, return 1 (the exit status). */
int firn_cli_fail(const char *what, firn_error *err);
/* Print usage to stderr and return 2. */
int firn_cli_usage(const char *usage);

/* A subcommand of a table command ("create" of `firn table`): runs on an opened
 * env with argv[0] = its name; returns the exit status. */
typedef struct firn_cli_subcommand {
    const char *name;
    int (*run)(firn_cli_env *env, int argc, char **argv, firn_error *err);
} firn_cli_subcommand;
/* `firn <what> <sub> ...`: opens the env and runs the subcommand of subs (n of
 * them) named argv[1]; an unknown one prints usage and returns 2. argc >= 2. */
int firn_cli_run_subcommand(const char *what, const char *usage,
                            const firn_cli_subcommand *subs, size_t n, int argc, char **argv);

/* ---- cmd_scan.c: rows out, shared by scan and inspect ---- */

struct json_t;
struct firn_pq_column_data;
struct firn_ice_type;
struct firn_ice_value;

typedef enum firn_cli_format {
    FIRN_CLI_JSONL = 1, /* one JSON object a line */
    FIRN_CLI_CSV,       /* header line, RFC 4180 quoting, null = empty field */
    FIRN_CLI_TABLE,     /* aligned text columns (buffers every row) */
    FIRN_CLI_PARQUET,   /* scan only */
} firn_cli_format;

typedef struct firn_cli_out {
    firn_cli_format format;
    const char *const *cols; /* borrowed */
    size_t ncols;
    size_t nrows;
    struct json_t *rows;     /* table: buffered rows */
} firn_cli_out;

/* "jsonl" | "csv" | "table" | "parquet"; -1 when unknown. */
int firn_cli_parse_format(const char *s, firn_cli_format *out);
void firn_cli_out_begin(firn_cli_out *o, firn_cli_format format, const char *const *cols,
                        size_t ncols);
/* Print (or buffer) one row: an object keyed by column name; takes the reference. */
void firn_cli_out_row(firn_cli_out *o, struct json_t *row);
void firn_cli_out_end(firn_cli_out *o);
/* Iceberg's JSON single-value form (new reference); NaN/Inf as strings, null as null. */
struct json_t *firn_cli_value_json(const struct firn_ice_type *t, const struct firn_ice_value *v);

#endif
