/* cli_tokens.c - `keyhold token list` and `keyhold token revoke`: personal
 * and service access tokens from the shell, on the store directly. A list
 * shows what the API's lists show (id, name, public portion, owner, scopes,
 * dates), never a token; a revocation is the API's, with its audit event:
 * the token is refused from the next request on. */
#include "cli/cli.h"

#include "util/clock.h"
#include "util/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 500

const struct option cli_token_list_options[] = {
    {"db", required_argument, NULL, CLI_OPT_DB},       {"org", required_argument, NULL, CLI_OPT_ORG},
    {"kind", required_argument, NULL, CLI_OPT_KIND},   {"owner", required_argument, NULL, CLI_OPT_OWNER},
    {"json", no_argument, NULL, CLI_OPT_JSON},         {"help", no_argument, NULL, CLI_OPT_HELP},
    {NULL, 0, NULL, 0},
};

const struct option cli_token_revoke_options[] = {
    {"db", required_argument, NULL, CLI_OPT_DB},   {"secret", required_argument, NULL, CLI_OPT_SECRET},
    {"org", required_argument, NULL, CLI_OPT_ORG}, {"json", no_argument, NULL, CLI_OPT_JSON},
    {"help", no_argument, NULL, CLI_OPT_HELP},     {NULL, 0, NULL, 0},
};

/* What the audit trail calls a token of this kind (as api/access_tokens.c). */
static const char *audit_kind(int kind)
{
    return kind == STORE_TOKEN_SAT ? "service_access_token" : "personal_access_token";
}

static json_t *token_json(const struct store_token *t)
{
    char alias[TOKEN_ALIAS_LEN + 1], portion[TOKEN_ALIAS_LEN + 8];
    token_alias(t->id, alias);
    snprintf(portion, sizeof portion, "%s_%s", token_prefix(t->kind == STORE_TOKEN_SAT ? TOKEN_SAT : TOKEN_PAT),
             alias);
    json_t *scopes = json_loads(t->scopes ? t->scopes : "[]", 0, NULL);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "kind", t->kind == STORE_TOKEN_SAT ? "sat" : "pat",
                     "id", t->id, "org_id", t->org_id, "owner_id", t->owner_id, "name", t->name, "public_portion",
                     portion, "scopes", scopes ? scopes : json_array(), "created_at", cli_json_time(t->created_at),
                     "expires_at", cli_json_time(t->expires_at), "last_used_at", cli_json_time(t->last_used_at));
}

static int list_org(struct store *st, const char *org, int kind, const char *owner, json_t *out)
{
    struct store_token_query q = {.org_id = org, .kind = kind, .now = clock_now_us(), .sort = STORE_SORT_CREATED_AT,
                                  .page = {.limit = PAGE}};
    if (owner) {
        q.owner_ids[0] = owner;
        q.n_owners = 1;
    }
    for (;; q.page.offset += PAGE) {
        struct store_token_list l;
        int rc = store_token_list(st, &q, &l);
        if (rc)
            return rc;
        for (size_t i = 0; i < l.n; i++)
            json_array_append_new(out, token_json(&l.items[i]));
        size_t n = l.n;
        store_token_list_free(&l);
        if (n < PAGE)
            return KH_OK;
    }
}

static void print_tokens(json_t *tokens)
{
    size_t i;
    json_t *t;
    printf("%-4s %-36s %-36s %-36s %-28s %-27s %-27s %-27s %s\n", "KIND", "ID", "ORG", "OWNER", "PUBLIC PORTION",
           "CREATED", "EXPIRES", "LAST USED", "NAME");
    json_array_foreach(tokens, i, t)
    {
        printf("%-4s %-36s %-36s %-36s %-28s %-27s %-27s %-27s %s%s\n", cli_field(t, "kind"), cli_field(t, "id"),
               cli_field(t, "org_id"), cli_field(t, "owner_id"), cli_field(t, "public_portion"),
               cli_field(t, "created_at"), cli_field(t, "expires_at"), cli_field(t, "last_used_at"),
               cli_field(t, "name"),
               json_object_get(t, "leaked") ? "  (leaked: quarantined)" : "");
    }
}

static int collect_tokens(struct store *st, const char *org, const struct cli_admin_args *a, json_t *out)
{
    int kind = !a->kind ? 0 : strcmp(a->kind, "sat") == 0 ? STORE_TOKEN_SAT : STORE_TOKEN_PAT;
    return list_org(st, org, kind, a->owner, out);
}

int cli_token_list(int argc, char **argv)
{
    static const char *const kinds[] = {"pat", "sat", NULL};
    static const struct cli_list list = {"token list", cli_token_list_options, kinds, "tokens", collect_tokens,
                                         print_tokens};
    return cli_list_run(&list, argc, argv);
}

/* Revokes a live token and records it, in one transaction. */
static int revoke(struct store *st, const struct store_token *t, int64_t now)
{
    struct store_ending end = {.at = now, .by = CLI_ACTOR};
    int rc = store_begin(st);
    if (!rc)
        rc = store_token_revoke(st, t->org_id, t->id, &end);
    if (!rc)
        rc = cli_audit_event(st, t->org_id, "revoked", audit_kind(t->kind), t->id);
    return store_end(st, rc);
}

int cli_token_revoke(int argc, char **argv)
{
    struct cli_admin_args a;
    struct store *st = NULL;
    struct server_secret secret;
    struct store_token t = {0};
    int status = cli_admin_parse(argc, argv, cli_token_revoke_options, "token revoke", 1, &a);
    if (status >= 0)
        goto out;
    status = 1;
    if (cli_open(&a.cfg, 1, &st, &secret))
        goto out;
    secret_wipe(&secret, sizeof secret); /* a revocation needs no secret; opening checks it is the store's */
    int64_t now = clock_now_us();
    int rc = uuid_valid(a.id, strlen(a.id)) ? store_token_get(st, a.id, &t) : KH_ENOTFOUND;
    if (!rc && a.org && strcmp(a.org, t.org_id) != 0)
        rc = KH_ENOTFOUND;
    const char *was = rc ? NULL : t.revoked_at ? "already revoked" : t.expires_at && t.expires_at <= now ? "expired" : NULL;
    if (!rc && !was)
        rc = revoke(st, &t, now);
    if (rc == KH_ENOTFOUND) {
        fprintf(stderr, "keyhold: no access token with id %s%s%s (keyhold token list shows them)\n", a.id,
                a.org ? " in org " : "", a.org ? a.org : "");
    } else if (rc) {
        fprintf(stderr, "keyhold: cannot revoke token %s (nothing was changed)\n", a.id);
    } else {
        if (a.json)
            cli_print_json(json_pack("{s:s,s:s,s:s,s:b}", "revoked", t.id, "kind", t.kind == STORE_TOKEN_SAT ? "sat" : "pat",
                                     "org_id", t.org_id, "changed", !was));
        else if (was)
            printf("token %s was %s; nothing to do\n", t.id, was);
        else
            printf("revoked %s %s of org %s\n", t.kind == STORE_TOKEN_SAT ? "service access token" : "personal access token",
                   t.id, t.org_id);
        status = 0;
    }
out:
    store_token_clear(&t);
    store_close(st);
    config_free(&a.cfg);
    return status;
}
