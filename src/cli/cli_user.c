/* cli_user.c - `keyhold user add`: a user holding an existing role (one of
 * Datadog's managed roles, or a custom one) or a role of its own with
 * exactly the given permissions, with one application key. */
#include "cli/cli.h"

#include "util/xmalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: keyhold user add --db FILE --org ORG_ID --email EMAIL\n"
    "                        (--role NAME | --permissions P1,P2,...) [--json]\n"
    "\n"
    "Adds a user to ORG_ID with one application key, and prints its id and key.\n"
    "  --role NAME            the user holds the org's role of that name, e.g.\n"
    "                         \"Datadog Standard Role\" or \"Datadog Read Only Role\"\n"
    "  --permissions P1,...   the user holds a role of its own with exactly these\n"
    "                         permissions (Datadog permission names, e.g. user_app_keys)\n";

#define MAX_PERMS 128

int cli_user_add(int argc, char **argv)
{
    enum { OPT_DB = 1, OPT_ORG, OPT_EMAIL, OPT_PERMS, OPT_ROLE, OPT_JSON, OPT_HELP, OPT_SECRET };
    static const struct option options[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"org", required_argument, NULL, OPT_ORG},
        {"email", required_argument, NULL, OPT_EMAIL},
        {"permissions", required_argument, NULL, OPT_PERMS},
        {"role", required_argument, NULL, OPT_ROLE},
        {"secret", required_argument, NULL, OPT_SECRET},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    struct config cfg;
    const char *org = NULL, *email = NULL, *perms_arg = NULL, *role = NULL;
    int json = 0, c, status = 2;
    struct store *st = NULL;
    struct server_secret secret;
    char *perms_copy = NULL;
    config_defaults(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            free(cfg.db_path);
            cfg.db_path = xstrdup(optarg);
            break;
        case OPT_SECRET:
            free(cfg.secret_path);
            cfg.secret_path = xstrdup(optarg);
            break;
        case OPT_ORG:
            org = optarg;
            break;
        case OPT_EMAIL:
            email = optarg;
            break;
        case OPT_PERMS:
            perms_arg = optarg;
            break;
        case OPT_ROLE:
            role = optarg;
            break;
        case OPT_JSON:
            json = 1;
            break;
        case OPT_HELP:
            cli_usage(USAGE, 0);
            status = 0;
            goto out;
        default:
            cli_usage(USAGE, 1);
            goto out;
        }
    }
    if (!org || !email || !perms_arg == !role || optind < argc) {
        fprintf(stderr, "keyhold: user add needs --org, --email and one of --role or --permissions\n");
        cli_usage(USAGE, 1);
        goto out;
    }
    const char *perms[MAX_PERMS];
    size_t n = 0;
    perms_copy = xstrdup(perms_arg ? perms_arg : "");
    for (char *save = NULL, *p = strtok_r(perms_copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (n == MAX_PERMS) {
            fprintf(stderr, "keyhold: at most %d permissions\n", MAX_PERMS);
            goto out;
        }
        perms[n++] = p;
    }
    status = cli_open(&cfg, 1, &st, &secret);
    if (status)
        goto out;
    struct provisioned p;
    const char *bad = NULL;
    int rc = provision_sync_catalog(st);
    if (!rc)
        rc = provision_user(st, &secret, org, email, role, perms, n, &p, &bad);
    secret_wipe(&secret, sizeof secret);
    if (rc == KH_EINVAL && bad) {
        fprintf(stderr, "keyhold: unknown permission '%s' (see GET /api/v2/permissions)\n", bad);
        status = 1;
    } else if (rc == KH_ENOTFOUND && bad) {
        fprintf(stderr, "keyhold: org %s has no role named '%s'\n", org, bad);
        status = 1;
    } else if (rc == KH_ENOTFOUND) {
        fprintf(stderr, "keyhold: no org with id %s\n", org);
        status = 1;
    } else if (rc == KH_ECONFLICT) {
        fprintf(stderr, "keyhold: org %s already has a user with the email %s\n", org, email);
        status = 1;
    } else if (rc) {
        fprintf(stderr, "keyhold: cannot add user %s\n", email);
        status = 1;
    } else {
        cli_print_provisioned(&p, json, 0);
        provisioned_wipe(&p);
    }
out:
    free(perms_copy);
    store_close(st);
    config_free(&cfg);
    return status;
}
