/* cli.h - the subcommands of the keyhold binary. Each takes argc/argv after
 * the command words and returns the process exit status. They call core code
 * (store, auth, http), never HTTP handlers. */
#ifndef KH_CLI_H
#define KH_CLI_H

#include "auth/provision.h"
#include "config.h"
#include "store/store.h"

int cli_init(int argc, char **argv);
int cli_org_add(int argc, char **argv);
int cli_user_add(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_seed(int argc, char **argv);
int cli_rotate_secret(int argc, char **argv);

/* Shared helpers (cli_common.c). */
/* Opens the store and loads the secret; prints the error and returns 1 on
 * failure. require_init refuses a store that `init` has not set up. */
int cli_open(const struct config *cfg, int require_init, struct store **st, struct server_secret *secret);
/* Refuses (prints why, returns 1) a --db naming a store in memory: only
 * `serve --ephemeral` makes one, and it lives in that process alone. */
int cli_refuse_memory_store(const char *dsn);
/* Prints provisioned credentials as text or JSON. */
void cli_print_provisioned(const struct provisioned *p, int json, int with_org);
/* Parses a whole decimal number in [min, max]; returns 0 or -1. */
int cli_parse_long(const char *s, long min, long max, long *out);
/* Usage text of a subcommand, printed on --help or a usage error. */
void cli_usage(const char *text, int to_stderr);

#endif
