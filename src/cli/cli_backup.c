/* cli_backup.c - `keyhold backup` (an online, consistent copy of a store
 * that a server may be using), `keyhold restore` (put a backup in place of
 * a stopped server's store) and `keyhold check` (integrity check).
 *
 * The server secret is not part of a backup: keep it, separately, with the
 * backups; a backup is useless without the secret it was made under. */
#include "cli/cli.h"

#include "util/xmalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char BACKUP_USAGE[] =
    "usage: keyhold backup --db FILE --to FILE\n"
    "\n"
    "Writes a consistent copy of the store to FILE while a server keeps using it.\n"
    "The server secret (FILE.secret) is not copied: back it up separately.\n";

static const char RESTORE_USAGE[] =
    "usage: keyhold restore --from BACKUP --db FILE\n"
    "\n"
    "Replaces the store FILE with the backup. Stop the server first; start it again\n"
    "afterwards with the server secret the backup was made under.\n";

static const char CHECK_USAGE[] = "usage: keyhold check --db FILE\n"
                                  "\n"
                                  "Runs the store's integrity check; exit 0 when it is sound.\n";

/* Parses --db/--to/--from; returns -1 to go on, or an exit status. */
static int parse(int argc, char **argv, const char *usage, const char **db, const char **other, const char *other_name)
{
    enum { OPT_DB = 1, OPT_OTHER, OPT_HELP };
    const struct option options[] = {
        {"db", required_argument, NULL, OPT_DB},
        {other_name ? other_name : "unused-option", required_argument, NULL, OPT_OTHER},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == OPT_DB)
            *db = optarg;
        else if (c == OPT_OTHER && other_name)
            *other = optarg;
        else if (c == OPT_HELP)
            return cli_usage(usage, 0), 0;
        else
            return cli_usage(usage, 1), 2;
    }
    if (!*db || (other_name && !*other) || optind < argc) {
        cli_usage(usage, 1);
        return 2;
    }
    return -1;
}

static int open_store(const char *path, struct store **st)
{
    char *err = NULL;
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "keyhold: cannot read %s\n", path);
        return 1;
    }
    if (store_open(path, st, &err)) {
        fprintf(stderr, "keyhold: %s\n", err);
        free(err);
        return 1;
    }
    return 0;
}

/* Copies the store at from into to (through the backup API). */
static int copy_store(const char *from, const char *to)
{
    struct store *st = NULL;
    char *err = NULL;
    int status = open_store(from, &st);
    if (status)
        return status;
    if (store_backup(st, to, &err)) {
        fprintf(stderr, "keyhold: %s\n", err ? err : "backup failed");
        status = 1;
    }
    free(err);
    store_close(st);
    return status;
}

int cli_backup(int argc, char **argv)
{
    const char *db = NULL, *to = NULL;
    int status = parse(argc, argv, BACKUP_USAGE, &db, &to, "to");
    if (status >= 0)
        return status;
    if (access(to, F_OK) == 0) {
        fprintf(stderr, "keyhold: %s exists; choose a new file for the backup\n", to);
        return 1;
    }
    status = copy_store(db, to);
    if (!status)
        printf("backed up %s to %s (keep the server secret with it, separately)\n", db, to);
    return status;
}

int cli_restore(int argc, char **argv)
{
    const char *db = NULL, *from = NULL;
    int status = parse(argc, argv, RESTORE_USAGE, &db, &from, "from");
    if (status >= 0)
        return status;
    /* The old store's WAL and shared-memory files belong to the old file:
     * left beside the restored one they would be replayed into it. */
    char *wal = xasprintf("%s-wal", db), *shm = xasprintf("%s-shm", db);
    unlink(wal);
    unlink(shm);
    free(wal);
    free(shm);
    status = copy_store(from, db);
    if (!status)
        printf("restored %s from %s\n", db, from);
    return status;
}

int cli_check(int argc, char **argv)
{
    const char *db = NULL, *unused = NULL;
    struct store *st = NULL;
    char *report = NULL;
    int status = parse(argc, argv, CHECK_USAGE, &db, &unused, NULL);
    if (status >= 0)
        return status;
    if ((status = open_store(db, &st)))
        return status;
    if (store_check(st, &report)) {
        fprintf(stderr, "keyhold: cannot check %s\n", db);
        status = 1;
    } else {
        printf("%s\n", report);
        status = strcmp(report, "ok") == 0 ? 0 : 1;
    }
    free(report);
    store_close(st);
    return status;
}
