/* cli_env.c - environment variables as options: each command reads the
 * variables its options name in docs/cli/ (cli_docs) before its command
 * line, so the variable a --help or the man page names is the one that
 * works, and the command line wins over it (getopt reads it later). */
#include "cli/cli.h"

#include "cli/cli_docs.h"
#include "util/secret.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int asks_for_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

const struct cli_doc *cli_doc_of(const char *command)
{
    for (size_t i = 0; i < cli_docs_count; i++)
        if (strcmp(cli_docs[i].command, command) == 0)
            return &cli_docs[i];
    return NULL;
}

/* The configuration file's settings, for a command that takes --config;
 * 0 or 2 (cli_config.c said why). */
static int read_file(const struct cli_doc *d, int argc, char **argv, struct cli_settings *file)
{
    const char *path = d && !asks_for_help(argc, argv) ? cli_config_path(argc, argv) : NULL;
    int takes_config = 0;
    for (size_t k = 0; d && k < d->n_options; k++)
        takes_config |= strcmp(d->options[k].flag, "config") == 0;
    return path && takes_config ? cli_config_read(d, path, file) : 0;
}

int cli_env_args(const char *command, int *argc, char **argv, char ***out)
{
    const struct cli_doc *d = cli_doc_of(command);
    struct cli_settings file = {0};
    *out = NULL;
    if (read_file(d, *argc, argv, &file))
        return 2;
    size_t max = (size_t)*argc + (d ? d->n_options : 0) + file.n + 1, n = 0;
    char **args = xcalloc(max, sizeof *args);
    args[n++] = xstrdup(argv[0]);
    /* the file first, then the environment, then the command line: getopt
     * reads them in this order, and the last one given wins */
    for (size_t i = 0; i < file.n; i++) {
        const struct cli_doc_option *o = file.v[i].option;
        args[n++] = file.v[i].value ? xasprintf("--%s=%s", o->flag, file.v[i].value) : xasprintf("--%s", o->flag);
    }
    cli_settings_free(&file);
    for (size_t k = 0; d && !asks_for_help(*argc, argv) && k < d->n_options; k++) {
        const struct cli_doc_option *o = &d->options[k];
        const char *v = o->env ? getenv(o->env) : NULL;
        if (!v || !*v)
            continue;
        if (o->arg) {
            args[n++] = xasprintf("--%s=%s", o->flag, v);
            continue;
        }
        int on = cli_switch_value(v);
        if (on < 0) {
            fprintf(stderr, "keyhold: %s is a switch (--%s): 1 or 0, got '%s'\n", o->env, o->flag, v);
            cli_env_args_free(args);
            *out = NULL;
            return 2;
        }
        if (on)
            args[n++] = xasprintf("--%s", o->flag);
    }
    for (int i = 1; i < *argc; i++)
        args[n++] = xstrdup(argv[i]);
    args[n] = NULL;
    *argc = (int)n;
    *out = args;
    return 0;
}

void cli_env_args_free(char **args)
{
    for (size_t i = 0; args && args[i]; i++) {
        secret_wipe(args[i], strlen(args[i])); /* it may be a key taken from the environment */
        free(args[i]);
    }
    free(args);
}
