/* cli_init.c - `keyhold init` (first org of a new store, and the server
 * secret), `keyhold org add` (another org in an initialised store) and
 * `keyhold org list`. */
#include "cli/cli.h"

#include "auth/keyring.h"
#include "util/xmalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_DB = 1, OPT_ORG, OPT_EMAIL, OPT_SECRET, OPT_JSON, OPT_HELP, OPT_NAME };

const struct option cli_init_options[] = {
    {"db", required_argument, NULL, OPT_DB},         {"org", required_argument, NULL, OPT_ORG},
    {"admin-email", required_argument, NULL, OPT_EMAIL}, {"secret", required_argument, NULL, OPT_SECRET},
    {"json", no_argument, NULL, OPT_JSON},           {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

const struct option cli_org_add_options[] = {
    {"db", required_argument, NULL, OPT_DB},         {"name", required_argument, NULL, OPT_NAME},
    {"admin-email", required_argument, NULL, OPT_EMAIL}, {"secret", required_argument, NULL, OPT_SECRET},
    {"json", no_argument, NULL, OPT_JSON},           {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

const struct option cli_org_list_options[] = {
    {"db", required_argument, NULL, CLI_OPT_DB},
    {"json", no_argument, NULL, CLI_OPT_JSON},
    {"help", no_argument, NULL, CLI_OPT_HELP},
    {NULL, 0, NULL, 0},
};

struct init_args {
    struct config cfg;
    const char *org;
    const char *email;
    int json;
};

/* Returns -1 to continue, or an exit status. */
static int parse(int argc, char **argv, const struct option *options, const char *command, struct init_args *a)
{
    int c;
    config_defaults(&a->cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            free(a->cfg.db_path);
            a->cfg.db_path = xstrdup(optarg);
            break;
        case OPT_ORG:
        case OPT_NAME:
            a->org = optarg;
            break;
        case OPT_EMAIL:
            a->email = optarg;
            break;
        case OPT_SECRET:
            free(a->cfg.secret_path);
            a->cfg.secret_path = xstrdup(optarg);
            break;
        case OPT_JSON:
            a->json = 1;
            break;
        case OPT_HELP:
            cli_usage(command, 0);
            return 0;
        default:
            cli_usage(command, 1);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "keyhold: unexpected argument '%s'\n", argv[optind]);
        cli_usage(command, 1);
        return 2;
    }
    return -1;
}

int cli_init(int argc, char **argv)
{
    struct init_args a = {.org = "keyhold", .email = "admin@example.com"};
    struct server_secret secret;
    struct store *st = NULL;
    struct provisioned p;
    char err[512], *serr = NULL, *v = NULL, *secret_path = NULL;
    int status = parse(argc, argv, cli_init_options, "init", &a);
    if (status >= 0)
        goto out;
    status = 1;
    if (!(secret_path = cli_secret_path(&a.cfg)) || cli_refuse_memory_store(a.cfg.db_path))
        goto out;
    if (store_open(a.cfg.db_path, &st, &serr)) {
        fprintf(stderr, "keyhold: %s\n", serr);
        goto out;
    }
    if (store_meta_get(st, "initialized", &v) == KH_OK) {
        fprintf(stderr, "keyhold: %s is already initialised; use `keyhold org add` to add an org\n", a.cfg.db_path);
        goto out;
    }
    int rc = secret_file_create(secret_path, err, sizeof err);
    if (rc == KH_ECONFLICT) /* left by an init that failed later: reuse it */
        rc = secret_file_load(secret_path, &secret, err, sizeof err);
    else if (rc == KH_OK)
        rc = secret_file_load(secret_path, &secret, err, sizeof err);
    if (rc) {
        fprintf(stderr, "keyhold: %s\n", err);
        goto out;
    }
    struct org_spec spec = {.name = a.org, .admin_email = a.email, .first = 1, .made_by = "keyhold init"};
    /* One transaction: the org, its keys and their audit events. */
    rc = store_begin(st);
    if (!rc)
        rc = provision_org(st, &secret, &spec, &p);
    if (!rc)
        rc = cli_audit_provisioned(st, &p, 1);
    if (!rc)
        rc = keyring_record(st, &secret);
    if (store_end(st, rc)) {
        fprintf(stderr, "keyhold: cannot initialise %s\n", a.cfg.db_path);
        provisioned_wipe(&p);
        goto out;
    }
    if (!a.json)
        printf("keyhold initialised %s\n\n", a.cfg.db_path);
    cli_print_provisioned(&p, a.json, 1);
    provisioned_wipe(&p);
    secret_wipe(&secret, sizeof secret);
    status = 0;
out:
    free(secret_path);
    free(serr);
    free(v);
    store_close(st);
    config_free(&a.cfg);
    return status;
}

int cli_org_add(int argc, char **argv)
{
    struct init_args a = {0};
    struct server_secret secret;
    struct store *st = NULL;
    struct provisioned p;
    int status = parse(argc, argv, cli_org_add_options, "org add", &a);
    if (status >= 0)
        goto out;
    if (!a.org || !a.email) {
        fprintf(stderr, "keyhold: org add needs --name and --admin-email\n");
        cli_usage("org add", 1);
        status = 2;
        goto out;
    }
    status = cli_open(&a.cfg, 1, &st, &secret);
    if (status)
        goto out;
    struct org_spec spec = {.name = a.org, .admin_email = a.email, .made_by = "keyhold org add"};
    int rc = provision_sync_catalog(st);
    if (!rc)
        rc = store_begin(st);
    if (!rc) {
        rc = provision_org(st, &secret, &spec, &p);
        if (!rc)
            rc = cli_audit_provisioned(st, &p, 1);
        rc = store_end(st, rc);
    }
    if (rc == KH_ECONFLICT) {
        fprintf(stderr, "keyhold: there is already an org named %s\n", a.org);
        status = 1;
    } else if (rc) {
        fprintf(stderr, "keyhold: cannot add org %s\n", a.org);
        status = 1;
    } else {
        cli_print_provisioned(&p, a.json, 1);
    }
    provisioned_wipe(&p); /* also when made but not committed */
    secret_wipe(&secret, sizeof secret);
out:
    store_close(st);
    config_free(&a.cfg);
    return status;
}

/* One org, with how many users it has. */
static int collect_org(struct store *st, const char *id, const struct cli_admin_args *a, json_t *out)
{
    struct store_org org;
    struct store_user_list users = {0};
    struct store_user_query q = {.org_id = id, .page = {.limit = 1}};
    int rc = store_org_get(st, id, &org);
    if (!rc)
        rc = store_user_list(st, &q, &users);
    if (!rc)
        json_array_append_new(out, json_pack("{s:s,s:s,s:o,s:I}", "id", org.id, "name", org.name, "created_at",
                                             cli_json_time(org.created_at), "users", (json_int_t)users.total_unfiltered));
    store_user_list_free(&users);
    store_org_clear(&org);
    return rc;
}

static void print_orgs(json_t *orgs)
{
    size_t i;
    json_t *o;
    printf("%-36s %-27s %-6s %s\n", "ID", "CREATED", "USERS", "NAME");
    json_array_foreach(orgs, i, o)
    {
        printf("%-36s %-27s %-6lld %s\n", cli_field(o, "id"), cli_field(o, "created_at"),
               (long long)json_integer_value(json_object_get(o, "users")), cli_field(o, "name"));
    }
}

int cli_org_list(int argc, char **argv)
{
    static const struct cli_list list = {"org list", cli_org_list_options, NULL, "orgs", collect_org, print_orgs};
    return cli_list_run(&list, argc, argv);
}
