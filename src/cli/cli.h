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
int cli_migrate(int argc, char **argv);

/* Shared helpers (cli_common.c). */
/* Opens an existing store and loads its secret; prints the error and
 * returns 1 on failure. require_init refuses a store that `init` has not
 * set up. A secret file that is not the store's is refused
 * (cli_check_keyring); versions the store has not seen yet are recorded.
 * Holds the store's shared lock (util/filelock.h) until the process ends,
 * so that no restore replaces the store under the command. */
int cli_open(const struct config *cfg, int require_init, struct store **st, struct server_secret *secret);
/* Refuses (prints why, returns 1) a --db naming a store in memory: only
 * `serve --ephemeral` makes one, and it lives in that process alone. */
int cli_refuse_memory_store(const char *dsn);
/* Refuses (prints why, returns 1) a --db naming no file: only `init` makes
 * a store; every other command would otherwise make an empty one. */
int cli_refuse_missing_store(const char *dsn);
/* The secret file of cfg's store; NULL, having said why, when a database
 * named by URL has none set. Caller frees. */
char *cli_secret_path(const struct config *cfg);
/* Compares secret with the store's record of its server secret
 * (auth/keyring.h); prints what is wrong, naming the secret file, and
 * returns 1 when they do not belong together. */
int cli_check_keyring(struct store *st, const char *db, const char *secret_path, const struct server_secret *secret);
/* Prints provisioned credentials as text or JSON. */
void cli_print_provisioned(const struct provisioned *p, int json, int with_org);
/* Parses a whole decimal number in [min, max]; returns 0 or -1. */
int cli_parse_long(const char *s, long min, long max, long *out);
/* Usage text of a subcommand, printed on --help or a usage error. */
void cli_usage(const char *text, int to_stderr);

#endif
