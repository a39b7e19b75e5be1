/* main.c - `firn <command>`: dispatch through one commands[] table (git-shaped). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

/* `firn --version`; deploy/ checks that the binary in the runtime image prints it. */
#define FIRN_VERSION "0.1.0"

static const firn_cli_command commands[] = {
    {"help", firn_cmd_help, "show help for firn or one command"},
    {"avro", firn_cmd_avro, "print an Avro file's records, schema or metadata"},
    {"parquet", firn_cmd_parquet, "print a Parquet file's rows, schema or metadata"},
    {"sample", firn_cmd_sample, "write sample parking events as a Parquet file"},
    {"namespace", firn_cmd_namespace, "create, list, show or drop catalog namespaces"},
    {"table", firn_cmd_table, "create, list, show, drop, rename or register tables"},
    {"append", firn_cmd_append, "append rows from a CSV, JSON Lines or Parquet file to a table"},
    {"branch", firn_cmd_branch, "create, fast-forward, list or drop a table's branches"},
    {"tag", firn_cmd_tag, "create or drop a table's tags"},
    {"schema", firn_cmd_schema, "evolve a table's schema: add, rename, drop or widen columns"},
    {"scan", firn_cmd_scan, "read a table's rows: time travel, filters, projection, changes"},
    {"inspect", firn_cmd_inspect, "show a table's snapshots, history, files, manifests, refs"},
    {"run", firn_cmd_run, "run the pipeline: simulate, classify, validate and publish with WAP"},
    {"classify", firn_cmd_classify, "run the classifier alone: raw topic to per-type topics"},
    {"process", firn_cmd_process, "run one topic's processor alone: validate and publish with WAP"},
    {"publish", firn_cmd_publish, "fast-forward main to a branch in every table of a namespace, all or none"},
    {"collect", firn_cmd_collect, "ingest a directory of image + sidecar JSON frames onto the raw topic"},
    {"sim", firn_cmd_sim, "simulate the parking lot: events with gate-camera images"},
    {"topic", firn_cmd_topic, "list, create, describe, produce to or consume from stream topics"},
    {"maintain", firn_cmd_maintain, "expire snapshots, remove orphans, compact, rewrite manifests"},
    {"config", firn_cmd_config, "check a firn.yaml, print a key's effective value, list the keys"},
    {"serve", firn_cmd_serve, "serve the dashboard, the JSON API, /metrics and HTTP ingest"},
};

const firn_cli_command *firn_cli_commands(size_t *n) {
    *n = sizeof commands / sizeof commands[0];
    return commands;
}

int main(int argc, char **argv) {
    argc = firn_cli_take_globals(argc, argv);
    if (argc < 2) return firn_cmd_help(0, NULL);
    if (strcmp(argv[1], "--version") == 0) {
        printf("firn %s\n", FIRN_VERSION);
        return 0;
    }
    size_t n;
    const firn_cli_command *cmds = firn_cli_commands(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) return cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "firn: '%s' is not a firn command. See 'firn help'.\n", argv[1]);
    return 1;
}
