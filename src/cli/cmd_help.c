/* cmd_help.c - `firn help [command]`. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

int firn_cmd_help(int argc, char **argv) {
    size_t n;
    const firn_cli_command *cmds = firn_cli_commands(&n);
    if (argc > 1) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(argv[1], cmds[i].name) == 0) {
                printf("firn %s: %s\nSee docs/cli/%s.md\n", cmds[i].name, cmds[i].summary,
                       cmds[i].name);
                return 0;
            }
        fprintf(stderr, "firn: no such command '%s'\n", argv[1]);
        return 1;
    }
    printf("usage: firn <command> [args]\n\ncommands:\n");
    for (size_t i = 0; i < n; i++) printf("   %-12s %s\n", cmds[i].name, cmds[i].summary);
    return 0;
}
