/* cmd_help.c - `firn help [command]`: the command list, or one command's page
 * (docs/cli/<command>.md, embedded in the binary at build time). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const char *doc_of(const char *name) {
    for (size_t i = 0; i < firn_cli_ndocs; i++)
        if (strcmp(firn_cli_docs[i].name, name) == 0) return firn_cli_docs[i].text;
    return NULL;
}

int firn_cmd_help(int argc, char **argv) {
    size_t n;
    const firn_cli_command *cmds = firn_cli_commands(&n);
    if (argc > 1) {
        const char *doc = doc_of(argv[1]);
        const firn_cli_command *cmd = NULL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(argv[1], cmds[i].name) == 0) cmd = &cmds[i];
        if (doc) {
            fputs(doc, stdout);
            return 0;
        }
        if (cmd) {
            printf("firn %s: %s\n(no page docs/cli/%s.md; run 'firn %s' for its usage)\n", cmd->name,
                   cmd->summary, cmd->name, cmd->name);
            return 0;
        }
        fprintf(stderr, "firn: no such command '%s'. See 'firn help'.\n", argv[1]);
        return 1;
    }
    printf("usage: firn <command> [args]\n\ncommands:\n");
    for (size_t i = 0; i < n; i++) printf("   %-12s %s\n", cmds[i].name, cmds[i].summary);
    printf("\n'firn help <command>' prints a command's page.\n");
    return 0;
}
