/* cli_main.c - the commands of the keyhold binary in one table, and the
 * dispatch over it: `keyhold WORD [WORD] OPTIONS...`. A command of two
 * words (org add, key list) is found by both; the first word alone, or with
 * --help, describes its group. */
#include "cli/cli.h"

#include "cli/cli_docs.h"

#include <stdio.h>
#include <string.h>

const struct cli_command cli_commands[] = {
    {"init", cli_init, cli_init_options},
    {"org add", cli_org_add, cli_org_add_options},
    {"org list", cli_org_list, cli_org_list_options},
    {"user add", cli_user_add, cli_user_add_options},
    {"user list", cli_user_list, cli_user_list_options},
    {"user disable", cli_user_disable, cli_user_change_options},
    {"user enable", cli_user_enable, cli_user_change_options},
    {"key list", cli_key_list, cli_key_list_options},
    {"key revoke", cli_key_revoke, cli_key_revoke_options},
    {"token list", cli_token_list, cli_token_list_options},
    {"token revoke", cli_token_revoke, cli_token_revoke_options},
    {"serve", cli_serve, cli_serve_options},
    {"backup", cli_backup, cli_backup_options},
    {"restore", cli_restore, cli_restore_options},
    {"check", cli_check, cli_check_options},
    {"migrate", cli_migrate, cli_migrate_options},
    {"audit verify", cli_audit_verify, cli_audit_verify_options}, /* before "audit": found by two words first */
    {"audit", cli_audit, cli_audit_options},
    {"rotate-secret", cli_rotate_secret, cli_rotate_secret_options},
    {"seed", cli_seed, cli_seed_options},
    {"scan", cli_scan, cli_scan_options},
    {"usage", cli_usage_show, cli_usage_options},
    {"version", cli_version, cli_version_options},
    {NULL, NULL, NULL},
};

/* `keyhold GROUP --help`: the commands of the group, with their summaries
 * (docs/cli/). */
static void group_usage(FILE *to, const char *group)
{
    size_t len = strlen(group);
    fprintf(to, "usage: keyhold %s COMMAND [OPTIONS]\n\ncommands:\n", group);
    for (size_t i = 0; i < cli_docs_count; i++)
        if (strncmp(cli_docs[i].command, group, len) == 0 && cli_docs[i].command[len] == ' ')
            fprintf(to, "  %-14s %s\n", cli_docs[i].command, cli_docs[i].summary);
    fprintf(to, "\n`keyhold %s COMMAND --help` describes each command.\n", group);
}

/* Runs c with the options its environment variables give first. */
static int run(const struct cli_command *c, int argc, char **argv)
{
    char **args;
    const struct cli_doc *doc = cli_doc_of(c->name);
    for (int i = 1; doc && i < argc; i++)
        if (strcmp(argv[i], "--print-config") == 0)
            return cli_print_config(doc, argc, argv);
    int status = cli_env_args(c->name, &argc, argv, &args);
    if (status)
        return status;
    status = c->run(argc, args);
    cli_env_args_free(args);
    return status;
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
        fputs(cli_docs_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cli_version(1, argv + 1);
    const struct cli_command *c = find(argc, argv, &words);
    if (c)
        return run(c, argc - words, argv + words);
    if (is_group(argv[1])) {
        int help = argc >= 3 && is_help(argv[2]);
        if (!help && argc >= 3)
            fprintf(stderr, "keyhold: %s has no command '%s'\n", argv[1], argv[2]);
        group_usage(help ? stdout : stderr, argv[1]);
        return help ? 0 : 2;
    }
    fprintf(stderr, "keyhold: unknown command '%s'\n\n", argv[1]);
    fputs(cli_docs_usage, stderr);
    return 2;
}
