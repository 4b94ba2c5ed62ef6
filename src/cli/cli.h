/* cli.h - the subcommands of the keyhold binary. Each takes argc/argv after
 * the command words and returns the process exit status. They call core code
 * (store, auth, http), never HTTP handlers. */
#ifndef KH_CLI_H
#define KH_CLI_H

#include "auth/provision.h"
#include "config.h"
#include "store/store.h"

#include <getopt.h>
#include <jansson.h>

/* One command of the binary: its words ("key list"), what runs it (argv[0]
 * is its last word) and the getopt table it parses with. What it does and
 * what each option means is said once, in docs/cli/ (cli_docs.h), which
 * tests/unit/test_cli_docs.c keeps in step with these tables. */
struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const struct option *options;
};

/* Every command, ending with a zeroed entry (cli_main.c). */
extern const struct cli_command cli_commands[];

/* The whole command line (argv[0] is the program): finds the command and
 * runs it; returns the exit status. */
int cli_main(int argc, char **argv);

/* Builds the arguments a command runs with: argv[0], then an option for
 * each environment variable its options name in docs/cli/ that is set
 * ("--threads=4"; a switch's variable is 1/true/yes/on or 0/false/no/off),
 * then the rest of argv, which getopt reads later and so wins. Nothing is
 * taken from the environment when argv asks for --help. Returns 0 with
 * *out (NULL-terminated, *argc updated; free with cli_env_args_free), or
 * 2 having said why (a switch's variable that is neither). */
int cli_env_args(const char *command, int *argc, char **argv, char ***out);
void cli_env_args_free(char **args);
/* A switch's value in a variable or a file: 1 (1/true/yes/on), 0
 * (0/false/no/off), or -1 (neither: refused). */
int cli_switch_value(const char *v);
/* The description of a command (docs/cli/), or NULL. */
struct cli_doc;
struct cli_doc_option;
const struct cli_doc *cli_doc_of(const char *command);

/* Settings read from a configuration file (cli_config.c): options with their
 * values (NULL for a switch that is on), in the file's order. */
struct cli_setting {
    const struct cli_doc_option *option;
    char *value;
};
struct cli_settings {
    struct cli_setting *v;
    size_t n, cap;
};
/* The file --config (or KEYHOLD_CONFIG) names, or NULL. */
const char *cli_config_path(int argc, char **argv);
/* Reads path's `key = value` lines as the options of d whose config keys
 * they name; 0, or 2 having said which line is wrong and why (and *out
 * left empty). */
int cli_config_read(const struct cli_doc *d, const char *path, struct cli_settings *out);
void cli_settings_free(struct cli_settings *s);
/* `COMMAND --print-config`: every setting of d with its value and source
 * (flag, environment, file, default), credentials elided; returns the exit
 * status. */
int cli_print_config(const struct cli_doc *d, int argc, char **argv);

/* The getopt table of each command (in its file). */
extern const struct option cli_init_options[], cli_org_add_options[], cli_org_list_options[],
    cli_user_add_options[], cli_user_list_options[], cli_user_change_options[], cli_key_list_options[],
    cli_key_revoke_options[], cli_token_list_options[], cli_token_revoke_options[], cli_serve_options[],
    cli_backup_options[], cli_restore_options[], cli_check_options[], cli_migrate_options[], cli_audit_options[],
    cli_rotate_secret_options[], cli_audit_verify_options[], cli_seed_options[], cli_version_options[],
    cli_scan_options[], cli_usage_options[];

int cli_init(int argc, char **argv);
int cli_org_add(int argc, char **argv);
int cli_org_list(int argc, char **argv);
int cli_user_add(int argc, char **argv);
int cli_user_list(int argc, char **argv);
int cli_user_disable(int argc, char **argv);
int cli_user_enable(int argc, char **argv);
int cli_key_list(int argc, char **argv);
int cli_key_revoke(int argc, char **argv);
int cli_token_list(int argc, char **argv);
int cli_token_revoke(int argc, char **argv);
int cli_version(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_seed(int argc, char **argv);
int cli_rotate_secret(int argc, char **argv);
int cli_audit_verify(int argc, char **argv);
int cli_migrate(int argc, char **argv);
int cli_scan(int argc, char **argv);
int cli_usage_show(int argc, char **argv);

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
/* Opens an existing store for reading only, without its secret (listing
 * shows no secret, so needs none); prints the error and returns 1 on
 * failure. */
int cli_open_read(const char *db, struct store **st);
/* Prints doc as one line of JSON on stdout; takes the reference. */
void cli_print_json(json_t *doc);
/* A timestamp as JSON: RFC 3339, or null for 0 (never). */
json_t *cli_json_time(int64_t us);
/* The string field key of a row, or "-" when it is null or absent (for
 * the tables the list commands print). */
const char *cli_field(const json_t *row, const char *key);
/* "meta 1, orgs 2, ..." (store_counts) as {"meta":1,"orgs":2,...}. */
json_t *cli_counts_json(const char *report);
/* The actor of a change made from the shell, in the audit trail and the
 * history of what it revokes or deletes. */
#define CLI_ACTOR "operator"
/* Records a change made from the shell in the audit trail, as the API
 * records the same change, with CLI_ACTOR as actor and "cli" as source;
 * org_id is the org the target belongs to. Returns the store's code. */
int cli_audit_event(struct store *st, const char *org_id, const char *action, const char *kind, const char *target_id);
/* Records what provisioning made (provision_org, with_org; provision_user)
 * as the API records a user and keys it creates: created user, created
 * api_key (with_org), created application_key. */
int cli_audit_provisioned(struct store *st, const struct provisioned *p, int with_org);
/* The orgs a command covers: only (which must exist: KH_ENOTFOUND, having
 * said so) or, when only is NULL, every org. Prints the error and returns
 * non-zero on failure. */
int cli_orgs(struct store *st, const char *only, struct store_strlist *out);

/* The options the administration commands (org/user/key/token list, ...)
 * share: one parser for all, each command its own getopt table of a subset
 * of these (cli_common.c). */
enum {
    CLI_OPT_DB = 1,
    CLI_OPT_SECRET,
    CLI_OPT_ORG,
    CLI_OPT_KIND,
    CLI_OPT_OWNER,
    CLI_OPT_CHECKPOINT,
    CLI_OPT_JSON,
    CLI_OPT_HELP,
};
struct cli_admin_args {
    struct config cfg;
    const char *org, *kind, *owner;
    const char *checkpoint; /* audit verify: NUMBER:MAC from a server's log */
    const char *id; /* the one positional argument, when the command takes one */
    int json;
};
/* Parses argv with options (command: whose --help to print); want_id: the
 * command takes exactly one ID.
 * Returns -1 to go on, or the exit status (help: 0, usage error: 2). The
 * caller frees a->cfg with config_free in every case. */
int cli_admin_parse(int argc, char **argv, const struct option *options, const char *command, int want_id,
                    struct cli_admin_args *a);

/* What a list command (org/user/key/token list) says of itself. */
struct cli_list {
    const char *command;              /* "key list" */
    const struct option *options;     /* its getopt table */
    const char *const *kinds;         /* the values --kind takes (NULL-terminated), or NULL */
    const char *what;                 /* "keys", for "cannot list the keys of STORE" */
    /* Appends a JSON object for each row of org that a asks for to out. */
    int (*collect)(struct store *st, const char *org, const struct cli_admin_args *a, json_t *out);
    /* Prints the rows as a table. */
    void (*print)(json_t *rows);
};
/* Runs a list command: parses argv, opens the store read-only (a list shows
 * no secret, so needs none), collects the rows of every org (or of --org)
 * and prints them: one JSON array with --json, else a table. Returns the
 * exit status. */
int cli_list_run(const struct cli_list *l, int argc, char **argv);

/* Prints provisioned credentials as text or JSON. */
void cli_print_provisioned(const struct provisioned *p, int json, int with_org);
/* Parses a whole decimal number in [min, max]; returns 0 or -1. */
int cli_parse_long(const char *s, long min, long max, long *out);
/* The --help text of command ("key list", from docs/cli/), printed on
 * stdout for --help or on stderr after a usage error. */
void cli_usage(const char *command, int to_stderr);

#endif
