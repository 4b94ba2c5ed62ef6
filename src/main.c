/* main.c - the one binary `keyhold`: dispatch to a subcommand; nothing else. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define KEYHOLD_VERSION "0.1.0"

static const char USAGE[] =
    "usage: keyhold COMMAND [OPTIONS]\n"
    "\n"
    "keyhold issues, lists, validates, rotates and revokes API credentials, speaking\n"
    "Datadog's key management API.\n"
    "\n"
    "commands:\n"
    "  init       create a store, its server secret, the first org and admin keys\n"
    "  org add    add an org with its own admin and keys\n"
    "  user add   add a user with given permissions and an application key\n"
    "  serve      serve the HTTP API\n"
    "  backup     write a consistent copy of a store, even while it is served\n"
    "  restore    put a backup in place of a (stopped) server's store\n"
    "  check      run the store's integrity check and count its rows\n"
    "  migrate    copy a store into another, empty one (SQLite to PostgreSQL)\n"
    "  audit      read the audit trail of credential events\n"
    "  rotate-secret  add a server secret version and re-encrypt keys under it\n"
    "  seed       fill a store with many tokens and keys, for benchmarks\n"
    "\n"
    "`keyhold COMMAND --help` describes each command.\n";

int main(int argc, char **argv)
{
    /* Everything keyhold creates (database, WAL, secret) is private. */
    umask(077);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("keyhold %s\n", KEYHOLD_VERSION);
        return 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "init") == 0)
        return cli_init(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "backup") == 0)
        return cli_backup(argc - 1, argv + 1);
    if (strcmp(cmd, "restore") == 0)
        return cli_restore(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cli_check(argc - 1, argv + 1);
    if (strcmp(cmd, "audit") == 0)
        return cli_audit(argc - 1, argv + 1);
    if (strcmp(cmd, "rotate-secret") == 0)
        return cli_rotate_secret(argc - 1, argv + 1);
    if (strcmp(cmd, "seed") == 0)
        return cli_seed(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0)
        return cli_migrate(argc - 1, argv + 1);
    if ((strcmp(cmd, "org") == 0 || strcmp(cmd, "user") == 0) && argc >= 3 && strcmp(argv[2], "add") == 0)
        return cmd[0] == 'o' ? cli_org_add(argc - 2, argv + 2) : cli_user_add(argc - 2, argv + 2);
    if ((strcmp(cmd, "org") == 0 || strcmp(cmd, "user") == 0)) {
        fprintf(stderr, "usage: keyhold %s add ... (see keyhold %s add --help)\n", cmd, cmd);
        return 2;
    }
    fprintf(stderr, "keyhold: unknown command '%s'\n\n%s", cmd, USAGE);
    return 2;
}
