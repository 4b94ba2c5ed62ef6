/* cli_docs.h - the command-line reference, compiled in from the files of docs/cli/
 * by tools/gen_cli.c (which also writes the man page keyhold.1 from the same
 * files): each command's --help text and, per option, what the option
 * source says of it. cli_docs.c is generated; docs/cli/README.md describes
 * the source format. */
#ifndef KH_CLI_DOCS_H
#define KH_CLI_DOCS_H

#include <stddef.h>

struct cli_doc_option {
    const char *flag;   /* "db" (the long option, without dashes) */
    const char *arg;    /* "STORE", or NULL for a switch */
    const char *env;    /* environment variable that sets it ("KEYHOLD_DB"), or NULL */
    const char *config; /* key in a configuration file, or NULL */
    const char *def;    /* the default, as text, or NULL */
    const char *help;   /* what it does */
};

struct cli_doc {
    const char *command; /* "key list" */
    const char *summary; /* one line */
    const char *help;    /* the whole text of `keyhold <command> --help` */
    const struct cli_doc_option *options;
    size_t n_options;
};

/* Every command, in the order `keyhold --help` lists them. */
extern const struct cli_doc cli_docs[];
extern const size_t cli_docs_count;
/* The text of `keyhold --help`. */
extern const char cli_docs_usage[];

#endif
