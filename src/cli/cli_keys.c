/* cli_keys.c - `keyhold key list` and `keyhold key revoke`: API keys and
 * application keys from the shell, on the store directly (for when the API
 * is unreachable). A list never shows a key's value: id, name, last 4
 * characters, owner and dates, as the API's lists do. Revoking a key
 * deletes it, as DELETE /api/v2/api_keys/{id} and
 * /api/v2/application_keys/{id} do, with the same audit event. */
#include "cli/cli.h"

#include "util/clock.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 500

const struct option cli_key_list_options[] = {
    {"db", required_argument, NULL, CLI_OPT_DB},     {"org", required_argument, NULL, CLI_OPT_ORG},
    {"kind", required_argument, NULL, CLI_OPT_KIND}, {"json", no_argument, NULL, CLI_OPT_JSON},
    {"help", no_argument, NULL, CLI_OPT_HELP},       {NULL, 0, NULL, 0},
};

const struct option cli_key_revoke_options[] = {
    {"db", required_argument, NULL, CLI_OPT_DB},   {"secret", required_argument, NULL, CLI_OPT_SECRET},
    {"org", required_argument, NULL, CLI_OPT_ORG}, {"json", no_argument, NULL, CLI_OPT_JSON},
    {"help", no_argument, NULL, CLI_OPT_HELP},     {NULL, 0, NULL, 0},
};

/* One listed key, either kind. */
static json_t *key_json(const char *kind, const char *id, const char *org, const char *name, const char *last4,
                        const char *owner, int64_t created, int64_t last_used)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "kind", kind, "id", id, "org_id", org, "name", name,
                     "last4", last4, "owner_id", owner, "created_at", cli_json_time(created), "last_used_at",
                     cli_json_time(last_used));
}

static int list_api_keys(struct store *st, const char *org, json_t *out)
{
    struct store_api_key_query q = {.org_id = org, .remote_config = -1, .sort = STORE_SORT_CREATED_AT,
                                    .page = {.limit = PAGE}};
    for (;; q.page.offset += PAGE) {
        struct store_api_key_list l;
        int rc = store_api_key_list(st, &q, &l);
        if (rc)
            return rc;
        for (size_t i = 0; i < l.n; i++) {
            const struct store_api_key *k = &l.items[i];
            json_array_append_new(out, key_json("api", k->id, k->org_id, k->name, k->last4, k->created_by,
                                                k->created_at, k->last_used_at));
        }
        size_t n = l.n;
        store_api_key_list_free(&l);
        if (n < PAGE)
            return KH_OK;
    }
}

static int list_app_keys(struct store *st, const char *org, json_t *out)
{
    struct store_app_key_query q = {.org_id = org, .sort = STORE_SORT_CREATED_AT, .page = {.limit = PAGE}};
    for (;; q.page.offset += PAGE) {
        struct store_app_key_list l;
        int rc = store_app_key_list(st, &q, &l);
        if (rc)
            return rc;
        for (size_t i = 0; i < l.n; i++) {
            const struct store_app_key *k = &l.items[i];
            json_array_append_new(out, key_json("app", k->id, k->org_id, k->name, k->last4, k->owner_id,
                                                k->created_at, k->last_used_at));
        }
        size_t n = l.n;
        store_app_key_list_free(&l);
        if (n < PAGE)
            return KH_OK;
    }
}

static void print_keys(json_t *keys)
{
    size_t i;
    json_t *k;
    printf("%-4s %-36s %-36s %-5s %-36s %-27s %-27s %s\n", "KIND", "ID", "ORG", "LAST4", "OWNER", "CREATED",
           "LAST USED", "NAME");
    json_array_foreach(keys, i, k)
    {
        printf("%-4s %-36s %-36s %-5s %-36s %-27s %-27s %s%s\n", cli_field(k, "kind"), cli_field(k, "id"),
               cli_field(k, "org_id"), cli_field(k, "last4"), cli_field(k, "owner_id"), cli_field(k, "created_at"),
               cli_field(k, "last_used_at"), cli_field(k, "name"),
               json_object_get(k, "leaked") ? "  (leaked: quarantined)" : "");
    }
}

static int collect_keys(struct store *st, const char *org, const struct cli_admin_args *a, json_t *out)
{
    int rc = KH_OK;
    if (!a->kind || strcmp(a->kind, "api") == 0)
        rc = list_api_keys(st, org, out);
    if (!rc && (!a->kind || strcmp(a->kind, "app") == 0))
        rc = list_app_keys(st, org, out);
    return rc;
}

int cli_key_list(int argc, char **argv)
{
    static const char *const kinds[] = {"api", "app", NULL};
    static const struct cli_list list = {"key list", cli_key_list_options, kinds, "keys", collect_keys, print_keys};
    return cli_list_run(&list, argc, argv);
}

/* Deletes key id of one of orgs, whichever kind it is, and records it as
 * the API does, in one transaction. *kind says which it was. */
static int revoke_key(struct store *st, const struct store_strlist *orgs, const char *id, const char **kind,
                      const char **org)
{
    int rc = KH_ENOTFOUND;
    struct store_ending end = {.at = clock_now_us(), .by = CLI_ACTOR};
    for (size_t i = 0; rc == KH_ENOTFOUND && i < orgs->n; i++) {
        struct store_api_key api = {0};
        struct store_app_key app = {0};
        *org = orgs->items[i];
        if ((rc = store_api_key_get(st, *org, id, &api)) == KH_OK) {
            *kind = "api_key";
            rc = store_api_key_delete(st, *org, id, &end);
        } else if (rc == KH_ENOTFOUND && (rc = store_app_key_get(st, *org, id, &app)) == KH_OK) {
            *kind = "application_key";
            rc = store_app_key_delete(st, *org, id, &end);
        }
        store_api_key_clear(&api);
        store_app_key_clear(&app);
    }
    if (!rc)
        rc = cli_audit_event(st, *org, "deleted", *kind, id);
    return rc;
}

int cli_key_revoke(int argc, char **argv)
{
    struct cli_admin_args a;
    struct store *st = NULL;
    struct server_secret secret;
    struct store_strlist orgs = {0};
    const char *kind = NULL, *org = NULL;
    int status = cli_admin_parse(argc, argv, cli_key_revoke_options, "key revoke", 1, &a);
    if (status >= 0)
        goto out;
    status = 1;
    if (!uuid_valid(a.id, strlen(a.id))) {
        fprintf(stderr, "keyhold: '%s' is not a key id (keyhold key list shows them)\n", a.id);
        goto out;
    }
    if (cli_open(&a.cfg, 1, &st, &secret))
        goto out;
    secret_wipe(&secret, sizeof secret); /* a revocation needs no secret; opening checks it is the store's */
    if (cli_orgs(st, a.org, &orgs))
        goto out;
    int rc = store_begin(st);
    if (!rc)
        rc = revoke_key(st, &orgs, a.id, &kind, &org);
    rc = store_end(st, rc);
    if (rc == KH_ENOTFOUND) {
        fprintf(stderr, "keyhold: no API key or application key with id %s%s%s\n", a.id, a.org ? " in org " : "",
                a.org ? a.org : "");
    } else if (rc) {
        fprintf(stderr, "keyhold: cannot revoke key %s (nothing was changed)\n", a.id);
    } else {
        const char *what = strcmp(kind, "api_key") == 0 ? "API key" : "application key";
        if (a.json)
            cli_print_json(json_pack("{s:s,s:s,s:s,s:s}", "revoked", a.id, "kind", kind, "org_id", org, "action",
                                     "deleted"));
        else
            printf("revoked %s %s of org %s\n", what, a.id, org);
        status = 0;
    }
out:
    store_strlist_free(&orgs);
    store_close(st);
    config_free(&a.cfg);
    return status;
}
