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

/* A switch's variable: 1 (on), 0 (off), or -1 (neither: refused). */
static int switch_value(const char *v)
{
    static const char *const on[] = {"1", "true", "yes", "on"}, *const off[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, on[i]) == 0)
            return 1;
        if (strcmp(v, off[i]) == 0)
            return 0;
    }
    return -1;
}

static int asks_for_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

int cli_env_args(const char *command, int *argc, char **argv, char ***out)
{
    const struct cli_doc *d = NULL;
    for (size_t i = 0; i < cli_docs_count && !d; i++)
        if (strcmp(cli_docs[i].command, command) == 0)
            d = &cli_docs[i];
    size_t max = (size_t)*argc + (d ? d->n_options : 0) + 1, n = 0;
    char **args = xcalloc(max, sizeof *args);
    args[n++] = xstrdup(argv[0]);
    for (size_t k = 0; d && !asks_for_help(*argc, argv) && k < d->n_options; k++) {
        const struct cli_doc_option *o = &d->options[k];
        const char *v = o->env ? getenv(o->env) : NULL;
        if (!v || !*v)
            continue;
        if (o->arg) {
            args[n++] = xasprintf("--%s=%s", o->flag, v);
            continue;
        }
        int on = switch_value(v);
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
