/* cli_user.c - `keyhold user add`: a user holding an existing role (one of
 * Datadog's managed roles, or a custom one) or a role of its own with
 * exactly the given permissions, with one application key; `keyhold user
 * list`, `disable` and `enable`, on the store directly, disabling as the
 * API does (auth/lifecycle.h) with the same audit events. */
#include "cli/cli.h"

#include "auth/lifecycle.h"
#include "util/clock.h"
#include "util/xmalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PERMS 128

enum { OPT_DB = 1, OPT_ORG, OPT_EMAIL, OPT_PERMS, OPT_ROLE, OPT_JSON, OPT_HELP, OPT_SECRET };

const struct option cli_user_add_options[] = {
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

int cli_user_add(int argc, char **argv)
{
    struct config cfg;
    const char *org = NULL, *email = NULL, *perms_arg = NULL, *role = NULL;
    int json = 0, c, status = 2;
    struct store *st = NULL;
    struct server_secret secret;
    char *perms_copy = NULL;
    config_defaults(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", cli_user_add_options, NULL)) != -1) {
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
            cli_usage("user add", 0);
            status = 0;
            goto out;
        default:
            cli_usage("user add", 1);
            goto out;
        }
    }
    if (!org || !email || !perms_arg == !role || optind < argc) {
        fprintf(stderr, "keyhold: user add needs --org, --email and one of --role or --permissions\n");
        cli_usage("user add", 1);
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
        rc = store_begin(st);
    if (!rc) { /* one transaction: the user, its key and their audit events */
        rc = provision_user(st, &secret, org, email, role, perms, n, &p, &bad, "keyhold user add");
        if (!rc)
            rc = cli_audit_provisioned(st, &p, 0);
        rc = store_end(st, rc);
    }
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
    }
    provisioned_wipe(&p); /* also when made but not committed */
out:
    free(perms_copy);
    store_close(st);
    config_free(&cfg);
    return status;
}

/* ---- keyhold user list | disable | enable ---- */

const struct option cli_user_list_options[] = {
    {"db", required_argument, NULL, CLI_OPT_DB}, {"org", required_argument, NULL, CLI_OPT_ORG},
    {"json", no_argument, NULL, CLI_OPT_JSON},   {"help", no_argument, NULL, CLI_OPT_HELP},
    {NULL, 0, NULL, 0},
};

const struct option cli_user_change_options[] = {
    {"db", required_argument, NULL, CLI_OPT_DB},   {"secret", required_argument, NULL, CLI_OPT_SECRET},
    {"org", required_argument, NULL, CLI_OPT_ORG}, {"json", no_argument, NULL, CLI_OPT_JSON},
    {"help", no_argument, NULL, CLI_OPT_HELP},     {NULL, 0, NULL, 0},
};

/* The API's user status (api/render.c). */
static const char *user_status(const struct store_user *u)
{
    return u->disabled ? "Disabled" : u->verified ? "Active" : "Pending";
}

/* The names of u's roles. */
static json_t *role_names(struct store *st, const struct store_user *u)
{
    struct store_strlist ids;
    json_t *names = json_array();
    if (store_user_roles(st, u->id, &ids) == KH_OK) {
        for (size_t i = 0; i < ids.n; i++) {
            struct store_role r;
            if (store_role_get(st, u->org_id, ids.items[i], &r) == KH_OK)
                json_array_append_new(names, json_string(r.name));
            store_role_clear(&r);
        }
    }
    store_strlist_free(&ids);
    return names;
}

static json_t *user_json(struct store *st, const struct store_user *u)
{
    return json_pack("{s:s,s:s,s:s,s:s?,s:s,s:b,s:o,s:o,s:o}", "id", u->id, "org_id", u->org_id, "email", u->email,
                     "name", u->name, "status", user_status(u), "service_account", u->service_account, "created_at",
                     cli_json_time(u->created_at), "modified_at", cli_json_time(u->modified_at), "roles",
                     role_names(st, u));
}

static int list_org_users(struct store *st, const char *org, const struct cli_admin_args *a, json_t *out)
{
    struct store_user_query q = {.org_id = org, .sort = STORE_SORT_CREATED_AT, .page = {.limit = 500}};
    for (;; q.page.offset += q.page.limit) {
        struct store_user_list l;
        int rc = store_user_list(st, &q, &l);
        if (rc)
            return rc;
        for (size_t i = 0; i < l.n; i++)
            json_array_append_new(out, user_json(st, &l.items[i]));
        size_t n = l.n;
        store_user_list_free(&l);
        if (n < (size_t)q.page.limit)
            return KH_OK;
    }
}

static void print_users(json_t *users)
{
    size_t i, j;
    json_t *u, *r;
    printf("%-36s %-36s %-8s %-3s %-27s %-30s %s\n", "ID", "ORG", "STATUS", "SA", "CREATED", "EMAIL", "ROLES");
    json_array_foreach(users, i, u)
    {
        printf("%-36s %-36s %-8s %-3s %-27s %-30s ", cli_field(u, "id"), cli_field(u, "org_id"),
               cli_field(u, "status"), json_is_true(json_object_get(u, "service_account")) ? "yes" : "no",
               cli_field(u, "created_at"), cli_field(u, "email"));
        json_t *roles = json_object_get(u, "roles");
        json_array_foreach(roles, j, r)
        {
            printf("%s%s", j ? ", " : "", json_string_value(r));
        }
        printf("\n");
    }
}

int cli_user_list(int argc, char **argv)
{
    static const struct cli_list list = {"user list", cli_user_list_options, NULL, "users", list_org_users,
                                         print_users};
    return cli_list_run(&list, argc, argv);
}

/* Disables (disable 1) or enables u as the API does, with the audit event
 * in the same transaction. */
static int set_disabled(struct store *st, struct store_user *u, int disable)
{
    int64_t now = clock_now_us();
    int rc = store_begin(st);
    if (rc)
        return rc;
    if (disable) {
        rc = lifecycle_disable_user(st, u, now, CLI_ACTOR);
    } else {
        u->disabled = 0;
        u->modified_at = now;
        rc = store_user_update(st, u);
    }
    if (!rc)
        rc = cli_audit_event(st, u->org_id, disable ? "disabled" : "enabled", "user", u->id);
    return store_end(st, rc);
}

/* user disable / user enable. */
static int change_user(int argc, char **argv, int disable)
{
    struct cli_admin_args a;
    struct store *st = NULL;
    struct server_secret secret;
    struct store_user u = {0};
    const char *verb = disable ? "disable" : "enable";
    int status = cli_admin_parse(argc, argv, cli_user_change_options, disable ? "user disable" : "user enable", 1, &a);
    if (status >= 0)
        goto out;
    status = 1;
    if (cli_open(&a.cfg, 1, &st, &secret))
        goto out;
    secret_wipe(&secret, sizeof secret); /* no secret is needed; opening checks it is the store's */
    int rc = uuid_valid(a.id, strlen(a.id)) ? store_user_get(st, a.org, a.id, &u) : KH_ENOTFOUND;
    if (rc == KH_ENOTFOUND) {
        fprintf(stderr, "keyhold: no user with id %s%s%s (keyhold user list shows them)\n", a.id,
                a.org ? " in org " : "", a.org ? a.org : "");
        goto out;
    }
    int noop = !rc && u.disabled == disable;
    if (noop && disable) { /* the API answers a repeated disable 404 */
        fprintf(stderr, "keyhold: user %s (%s) is already disabled\n", u.id, u.email);
        goto out;
    }
    if (!rc && !noop)
        rc = set_disabled(st, &u, disable);
    if (rc) {
        fprintf(stderr, "keyhold: cannot %s user %s (nothing was changed)\n", verb, a.id);
        goto out;
    }
    if (a.json)
        cli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:b}", "id", u.id, "org_id", u.org_id, "email", u.email, "status",
                                 user_status(&u), "changed", !noop));
    else if (noop)
        printf("user %s (%s) is already enabled; nothing to do\n", u.id, u.email);
    else
        printf("%sd user %s (%s) of org %s%s\n", verb, u.id, u.email, u.org_id,
               disable ? ": its application keys were deleted and its tokens revoked" : "");
    status = 0;
out:
    store_user_clear(&u);
    store_close(st);
    config_free(&a.cfg);
    return status;
}

int cli_user_disable(int argc, char **argv)
{
    return change_user(argc, argv, 1);
}

int cli_user_enable(int argc, char **argv)
{
    return change_user(argc, argv, 0);
}
