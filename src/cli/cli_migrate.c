/* cli_migrate.c - `keyhold migrate`: copies a store into another, empty
 * one, e.g. from the embedded SQLite file to PostgreSQL when one node
 * becomes several (docs/operations/scale-out.md). Keys and tokens are copied
 * as stored, sealed and hashed under the server secret, so the new store is
 * served with the same secret file; the copy is one transaction of the new
 * store's, and both stores' row counts are printed to compare. */
#include "cli/cli.h"

#include "auth/keyring.h"
#include "util/xmalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct migrate_args {
    const char *from, *to, *secret;
    int json;
};

enum { OPT_FROM = 1, OPT_TO, OPT_SECRET, OPT_JSON, OPT_HELP };

const struct option cli_migrate_options[] = {
    {"from", required_argument, NULL, OPT_FROM},     {"to", required_argument, NULL, OPT_TO},
    {"secret", required_argument, NULL, OPT_SECRET}, {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},           {NULL, 0, NULL, 0},
};

static int parse(int argc, char **argv, struct migrate_args *a)
{
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", cli_migrate_options, NULL)) != -1) {
        if (c == OPT_FROM)
            a->from = optarg;
        else if (c == OPT_TO)
            a->to = optarg;
        else if (c == OPT_SECRET)
            a->secret = optarg;
        else if (c == OPT_JSON)
            a->json = 1;
        else if (c == OPT_HELP)
            return cli_usage("migrate", 0), 0;
        else
            return cli_usage("migrate", 1), 2;
    }
    if (!a->from || !a->to || optind < argc)
        return cli_usage("migrate", 1), 2;
    return -1;
}

/* Refuses (1) a destination that already holds a store's rows. */
static int refuse_unless_empty(struct store *to, const char *dsn)
{
    int64_t orgs = 0;
    char *v = NULL;
    int initialized = store_meta_get(to, "initialized", &v) == KH_OK;
    free(v);
    if (initialized || store_org_count(to, &orgs) || orgs) {
        fprintf(stderr, "keyhold: %s already holds a store; migrate copies into an empty one only\n", dsn);
        return 1;
    }
    return 0;
}

/* The row counts of st: printed after label, or (json) set in doc. */
static void print_counts(const char *label, struct store *st, json_t *doc)
{
    char *report = NULL;
    if (store_counts(st, &report) == KH_OK && doc)
        json_object_set_new(doc, label, cli_counts_json(report));
    else if (report)
        printf("%s: %s\n", label, report);
    free(report);
}

int cli_migrate(int argc, char **argv)
{
    struct migrate_args a = {0};
    struct config cfg;
    struct store *from = NULL, *to = NULL;
    struct server_secret secret;
    char *err = NULL;
    int status = parse(argc, argv, &a);
    if (status >= 0)
        return status;
    config_defaults(&cfg);
    free(cfg.db_path);
    cfg.db_path = xstrdup(a.from);
    if (a.secret) {
        free(cfg.secret_path);
        cfg.secret_path = xstrdup(a.secret);
    }
    status = 1;
    /* The source, with its secret (which must be the store's): the same
     * file serves the copy. */
    if (cli_open(&cfg, 1, &from, &secret))
        goto out;
    if (cli_refuse_memory_store(a.to))
        goto out;
    if (store_open(a.to, &to, &err)) {
        fprintf(stderr, "keyhold: %s\n", err);
        goto out;
    }
    if (refuse_unless_empty(to, a.to))
        goto out;
    int rc = store_copy_to(from, to);
    if (rc) {
        fprintf(stderr, "keyhold: the copy failed (%s); %s is left as it was\n",
                rc == KH_ENOTSUP ? "these stores cannot be copied into each other" : "storage error", a.to);
        goto out;
    }
    if (keyring_record(to, &secret) != KH_OK)
        fprintf(stderr, "keyhold: could not record the server secret's fingerprint in %s (it will be next time)\n",
                a.to);
    if (a.json) {
        json_t *doc = json_pack("{s:s,s:s}", "from", a.from, "to", a.to);
        print_counts("rows_from", from, doc);
        print_counts("rows_to", to, doc);
        cli_print_json(doc);
    } else {
        print_counts("from", from, NULL);
        print_counts("to  ", to, NULL);
        printf("migrated %s to %s; serve it with the same secret file\n", a.from, a.to);
    }
    status = 0;
out:
    secret_wipe(&secret, sizeof secret);
    free(err);
    store_close(from);
    store_close(to);
    config_free(&cfg);
    return status;
}
