/* cli.h - the `firn` command table. One src/cli/cmd_<name>.c per command. */
#ifndef FIRN_CLI_H
#define FIRN_CLI_H

#include <stddef.h>

typedef struct firn_cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;
} firn_cli_command;

const firn_cli_command *firn_cli_commands(size_t *n);

int firn_cmd_help(int argc, char **argv);
int firn_cmd_avro(int argc, char **argv);
int firn_cmd_parquet(int argc, char **argv);
int firn_cmd_sample(int argc, char **argv);

#endif
