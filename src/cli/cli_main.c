/* cli_main.c - the commands of the keyhold binary in one table, and the
 * dispatch over it: `keyhold WORD [WORD] OPTIONS...`. A command of two
 * words (org add, key list) is found by both; the first word alone, or with
 * --help, describes its group. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

const struct cli_command cli_commands[] = {
    {"init", cli_init, "create a store, its server secret, the first org and admin keys"},
    {"org add", cli_org_add, "add an org with its own admin and keys"},
    {"org list", cli_org_list, "list the orgs"},
    {"user add", cli_user_add, "add a user with given permissions and an application key"},
    {"user list", cli_user_list, "list users and service accounts"},
    {"user disable", cli_user_disable, "disable a user: its application keys go, its tokens are revoked"},
    {"user enable", cli_user_enable, "enable a disabled user again"},
    {"key list", cli_key_list, "list API keys and application keys (never their values)"},
    {"key revoke", cli_key_revoke, "revoke (delete) an API key or application key"},
    {"token list", cli_token_list, "list live personal and service access tokens"},
    {"token revoke", cli_token_revoke, "revoke a personal or service access token"},
    {"serve", cli_serve, "serve the HTTP API"},
    {"backup", cli_backup, "write a consistent copy of a store, even while it is served"},
    {"restore", cli_restore, "put a backup in place of a (stopped) server's store"},
    {"check", cli_check, "run the store's integrity check and count its rows"},
    {"migrate", cli_migrate, "copy a store into another, empty one (SQLite to PostgreSQL)"},
    {"audit", cli_audit, "read the audit trail of credential events"},
    {"rotate-secret", cli_rotate_secret, "add a server secret version and re-encrypt keys under it"},
    {"seed", cli_seed, "fill a store with many tokens and keys, for benchmarks"},
    {"version", cli_version, "print keyhold's version"},
    {NULL, NULL, NULL},
};

/* The commands whose name starts with prefix ("" for all, "key " for a
 * group), one a line. */
static void list_commands(FILE *to, const char *prefix)
{
    for (const struct cli_command *c = cli_commands; c->name; c++)
        if (strncmp(c->name, prefix, strlen(prefix)) == 0)
            fprintf(to, "  %-14s %s\n", c->name, c->summary);
}

static void usage(FILE *to)
{
    fputs("usage: keyhold COMMAND [OPTIONS]\n"
          "\n"
          "keyhold issues, lists, validates, rotates and revokes API credentials, speaking\n"
          "Datadog's key management API.\n"
          "\n"
          "commands:\n",
          to);
    list_commands(to, "");
    fputs("\n`keyhold COMMAND --help` describes each command.\n", to);
}

static int is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "help") == 0;
}

/* The command named by argv[1] (and argv[2] for a group), or NULL; *words
 * is how many words named it. */
static const struct cli_command *find(int argc, char **argv, int *words)
{
    size_t len = strlen(argv[1]);
    for (const struct cli_command *c = cli_commands; c->name; c++) {
        if (strcmp(c->name, argv[1]) == 0) {
            *words = 1;
            return c;
        }
        if (argc >= 3 && strncmp(c->name, argv[1], len) == 0 && c->name[len] == ' ' &&
            strcmp(c->name + len + 1, argv[2]) == 0) {
            *words = 2;
            return c;
        }
    }
    return NULL;
}

/* Non-zero when word is the first word of a group (org, user, key, token). */
static int is_group(const char *word)
{
    size_t len = strlen(word);
    for (const struct cli_command *c = cli_commands; c->name; c++)
        if (strncmp(c->name, word, len) == 0 && c->name[len] == ' ')
            return 1;
    return 0;
}

int cli_main(int argc, char **argv)
{
    int words = 0;
    if (argc < 2 || is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cli_version(1, argv + 1);
    const struct cli_command *c = find(argc, argv, &words);
    if (c)
        return c->run(argc - words, argv + words);
    if (is_group(argv[1])) {
        int help = argc >= 3 && is_help(argv[2]);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s ", argv[1]);
        FILE *to = help ? stdout : stderr;
        if (!help && argc >= 3)
            fprintf(to, "keyhold: %s has no command '%s'\n", argv[1], argv[2]);
        fprintf(to, "usage: keyhold %s COMMAND [OPTIONS]\n\ncommands:\n", argv[1]);
        list_commands(to, prefix);
        fprintf(to, "\n`keyhold %s COMMAND --help` describes each command.\n", argv[1]);
        return help ? 0 : 2;
    }
    fprintf(stderr, "keyhold: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
