/* cli_backup.c - `keyhold backup` (an online, consistent copy of a store
 * that a server may be using), `keyhold restore` (put a backup in place of
 * a stopped server's store) and `keyhold check` (integrity check, and
 * whether the secret file is the store's).
 *
 * The server secret is not part of a backup: keep it, separately, with the
 * backups; a backup is useless without the secret it was made under. So
 * restore refuses a backup the secret file cannot open, and refuses to run
 * while a server has the store open (the hold every `serve` keeps,
 * store_hold): the server would go on with the replaced file and
 * everything it wrote from then on would be lost at its next start. */
#include "cli/cli.h"

#include "util/xmalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OPT_DB = 1, OPT_OTHER, OPT_SECRET, OPT_JSON, OPT_HELP };

const struct option cli_backup_options[] = {
    {"db", required_argument, NULL, OPT_DB}, {"to", required_argument, NULL, OPT_OTHER},
    {"json", no_argument, NULL, OPT_JSON},   {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

const struct option cli_restore_options[] = {
    {"db", required_argument, NULL, OPT_DB},         {"from", required_argument, NULL, OPT_OTHER},
    {"secret", required_argument, NULL, OPT_SECRET}, {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},           {NULL, 0, NULL, 0},
};

const struct option cli_check_options[] = {
    {"db", required_argument, NULL, OPT_DB},   {"secret", required_argument, NULL, OPT_SECRET},
    {"json", no_argument, NULL, OPT_JSON},     {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

struct args {
    const char *db;     /* --db (or KEYHOLD_DB: cli_env_args) */
    const char *other;  /* --to (backup) or --from (restore) */
    const char *secret; /* --secret, or NULL */
    int json;
};

/* Parses argv with options; want_other: --to/--from is required. Returns -1
 * to go on, or an exit status. */
static int parse(int argc, char **argv, const struct option *options, const char *command, int want_other,
                 struct args *a)
{
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == OPT_DB)
            a->db = optarg;
        else if (c == OPT_OTHER)
            a->other = optarg;
        else if (c == OPT_SECRET)
            a->secret = optarg;
        else if (c == OPT_JSON)
            a->json = 1;
        else if (c == OPT_HELP)
            return cli_usage(command, 0), 0;
        else
            return cli_usage(command, 1), 2;
    }
    if (!a->db || (want_other && !a->other) || optind < argc) {
        cli_usage(command, 1);
        return 2;
    }
    return -1;
}

/* Copies the store at from into to (through the backup API). */
static int copy_store(const char *from, const char *to)
{
    struct store *st = NULL;
    char *err = NULL;
    int status = cli_open_read(from, &st);
    if (status)
        return status;
    int rc = store_backup(st, to, &err);
    if (rc == KH_ENOTSUP) {
        fprintf(stderr, "keyhold: the %s store has no backup of keyhold's own; use the database's tools\n",
                store_backend_name(from));
        status = 1;
    } else if (rc) {
        fprintf(stderr, "keyhold: %s\n", err ? err : "backup failed");
        status = 1;
    }
    free(err);
    store_close(st);
    return status;
}

int cli_backup(int argc, char **argv)
{
    struct args a = {0};
    int status = parse(argc, argv, cli_backup_options, "backup", 1, &a);
    if (status >= 0)
        return status;
    const char *db = a.db, *to = a.other;
    char *err = NULL;
    int there = store_exists(to, &err);
    free(err);
    if (there != KH_ENOTFOUND) {
        fprintf(stderr, "keyhold: %s exists; choose a new file for the backup\n", to);
        return 1;
    }
    status = copy_store(db, to);
    if (!status && a.json)
        cli_print_json(json_pack("{s:s,s:s}", "db", db, "backup", to));
    else if (!status)
        printf("backed up %s to %s (keep the server secret with it, separately)\n", db, to);
    return status;
}

/* The secret file for db: --secret, else where serve would look for it
 * (KEYHOLD_SECRET_FILE, else db.secret). */
static char *secret_path_for(const char *db, const char *secret)
{
    struct config cfg;
    config_defaults(&cfg);
    free(cfg.db_path);
    cfg.db_path = xstrdup(db);
    if (secret) {
        free(cfg.secret_path);
        cfg.secret_path = xstrdup(secret);
    }
    char *path = config_secret_path(&cfg);
    config_free(&cfg);
    return path;
}

/* Refuses (1) a backup that secret_path cannot open: a missing secret file,
 * another one, or one without a version the backup's credentials use. */
static int backup_opens_with_secret(const char *backup, const char *db, const char *secret_path)
{
    char err[512];
    struct server_secret secret;
    struct store *st = NULL;
    int rc = secret_file_load(secret_path, &secret, err, sizeof err);
    if (rc == KH_ENOTFOUND) {
        fprintf(stderr,
                "keyhold: no server secret at %s. A restored store can only be used with the secret file it was made "
                "with: put the secret file kept with this backup there, or name it with --secret FILE\n",
                secret_path);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "keyhold: %s\n", err);
        return 1;
    }
    int status = cli_open_read(backup, &st);
    if (!status && cli_check_keyring(st, backup, secret_path, &secret))
        status = 1;
    if (status)
        fprintf(stderr, "keyhold: %s was not restored; nothing was changed\n", db);
    store_close(st);
    secret_wipe(&secret, sizeof secret);
    return status;
}

int cli_restore(int argc, char **argv)
{
    struct args a = {0};
    int status = parse(argc, argv, cli_restore_options, "restore", 1, &a);
    if (status >= 0)
        return status;
    const char *db = a.db, *from = a.other, *secret = a.secret;
    if (cli_refuse_memory_store(db) || cli_refuse_memory_store(from) || cli_refuse_missing_store(from))
        return 1;
    if (strcmp(store_backend_name(db), "sqlite") != 0 || strcmp(store_backend_name(from), "sqlite") != 0) {
        fprintf(stderr, "keyhold: restore puts SQLite store files in place; a %s database is restored with its own "
                        "tools\n",
                store_backend_name(db));
        return 1;
    }
    /* Held until the copy is in place: no server starts on a half-copied
     * store, and none may have the old one open. */
    char *err = NULL;
    int lock, held = store_hold(db, 1, &lock, &err);
    if (held == KH_EBUSY)
        fprintf(stderr,
                "keyhold: a server has %s open; stop it before restoring (it would go on writing to the replaced "
                "store, and lose all of that at its next start)\n",
                db);
    else if (held)
        fprintf(stderr, "keyhold: %s\n", err ? err : "cannot hold the store");
    free(err);
    err = NULL;
    if (held)
        return 1;
    char *secret_path = secret_path_for(db, secret);
    status = backup_opens_with_secret(from, db, secret_path);
    free(secret_path);
    if (!status && store_restore(db, from, &err)) {
        fprintf(stderr, "keyhold: %s\n", err ? err : "restore failed");
        status = 1;
    }
    free(err);
    if (!status && a.json)
        cli_print_json(json_pack("{s:s,s:s}", "db", db, "restored_from", from));
    else if (!status)
        printf("restored %s from %s\n", db, from);
    store_unhold(lock);
    return status;
}

/* Whether the secret file belongs to the store: 0 when it does or is not
 * there (a backup is checked without its secret; said on stderr). *state
 * names the finding: "ok", "missing", "mismatch" or "unreadable". */
static int check_secret(struct store *st, const char *db, const char *secret_path, const char **state)
{
    char err[512];
    struct server_secret secret;
    int rc = secret_file_load(secret_path, &secret, err, sizeof err);
    if (rc == KH_ENOTFOUND) {
        fprintf(stderr, "keyhold: no secret file at %s; the store was checked without it\n", secret_path);
        *state = "missing";
        return 0;
    }
    if (rc) {
        fprintf(stderr, "keyhold: %s\n", err);
        *state = "unreadable";
        return 1;
    }
    int status = cli_check_keyring(st, db, secret_path, &secret);
    secret_wipe(&secret, sizeof secret);
    *state = status ? "mismatch" : "ok";
    return status;
}

int cli_check(int argc, char **argv)
{
    struct args a = {0};
    struct store *st = NULL;
    char *report = NULL, *counts = NULL;
    const char *secret_state = "not named";
    int status = parse(argc, argv, cli_check_options, "check", 0, &a);
    if (status >= 0)
        return status;
    if ((status = cli_open_read(a.db, &st)))
        return status;
    if (store_check(st, &report)) {
        fprintf(stderr, "keyhold: cannot check %s\n", a.db);
        status = 1;
    } else {
        status = strcmp(report, "ok") == 0 ? 0 : 1;
    }
    if (store_counts(st, &counts) != KH_OK) { /* to compare two stores (keyhold migrate) */
        free(counts);
        counts = NULL;
    }
    char *secret_path = secret_path_for(a.db, a.secret);
    if (!secret_path)
        fprintf(stderr, "keyhold: no secret file named (--secret); the store was checked without it\n");
    else if (check_secret(st, a.db, secret_path, &secret_state))
        status = 1;
    if (a.json) {
        cli_print_json(json_pack("{s:s?,s:o,s:s,s:b}", "integrity", report, "rows",
                                 counts ? cli_counts_json(counts) : json_null(), "secret", secret_state, "ok", !status));
    } else {
        if (report)
            printf("%s\n", report);
        if (counts)
            printf("rows: %s\n", counts);
    }
    free(secret_path);
    free(report);
    free(counts);
    store_close(st);
    return status;
}
