/* credential_usage.c - who still uses a credential (issue 15, item 2), a
 * keyhold extension (docs/api/keyhold-extensions.yaml, docs/api/usage.md):
 *
 *   GET /api/v2/keyhold/credentials/{id}/usage
 *
 * answers, for an API key, an application key, a PAT or a SAT of the
 * caller's org: its last use, requests per day for STORE_USAGE_DAYS days,
 * the routes it called and its latest distinct clients (address and user
 * agent), as the writer last flushed them (auth/usage.h: within
 * --usage-flush-ms of the requests). Never a secret.
 *
 * Also what the dry runs of keyhold's actions share: finding a credential of
 * any kind by id, ?dry_run=true|false, and the preview answer ("what would
 * stop working": the action's effect and the credential's usage), which
 * rotation.c renders for ?dry_run=true and any other action route can.
 *
 * Who may read a credential's usage: whoever may read the credential through
 * Datadog's routes (api_credential_readable): api_keys_read for an API key;
 * org_app_keys_read for any application key or token of the org;
 * user_app_keys for one's own application keys and PATs;
 * service_account_write for a service account's application keys and SATs.
 * Everything else, another org's credentials included, is 404. */
#include "api/internal.h"

#include "util/clock.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *api_credential_type(int kind)
{
    switch (kind) {
    case API_CRED_API_KEY:
        return "api_keys";
    case API_CRED_APP_KEY:
        return "application_keys";
    case API_CRED_SAT:
        return "service_access_tokens";
    default:
        return "personal_access_tokens";
    }
}

void api_credential_clear(struct api_credential *c)
{
    if (!c)
        return;
    free(c->name);
    memset(c, 0, sizeof *c);
}

/* Fills c from a live token of org (KH_ENOTFOUND for another org's, a
 * revoked or an expired one). */
static int find_token(struct api_call *call, const char *id, struct api_credential *c)
{
    struct store_token t;
    int rc = store_token_get(call->env->store, id, &t);
    if (!rc && (strcmp(t.org_id, call->who.org_id) != 0 || t.revoked_at || (t.expires_at && t.expires_at <= call->now)))
        rc = KH_ENOTFOUND;
    if (!rc) {
        c->kind = t.kind == STORE_TOKEN_SAT ? API_CRED_SAT : API_CRED_PAT;
        memcpy(c->owner_id, t.owner_id, UUID_STR);
        c->name = t.name;
        t.name = NULL;
        c->created_at = t.created_at;
        c->last_used_at = t.last_used_at;
        c->expires_at = t.expires_at;
    }
    store_token_clear(&t);
    return rc;
}

int api_credential_find(struct api_call *call, const char *id, struct api_credential *c)
{
    struct store_api_key ak;
    struct store_app_key pk;
    memset(c, 0, sizeof *c);
    if (!uuid_valid(id, strlen(id)))
        return KH_ENOTFOUND;
    int rc = store_api_key_get(call->env->store, call->who.org_id, id, &ak);
    if (!rc) {
        c->kind = API_CRED_API_KEY;
        c->name = ak.name;
        ak.name = NULL;
        c->created_at = ak.created_at;
        c->last_used_at = ak.last_used_at;
    }
    store_api_key_clear(&ak);
    if (rc == KH_ENOTFOUND) {
        rc = store_app_key_get(call->env->store, call->who.org_id, id, &pk);
        if (!rc) {
            c->kind = API_CRED_APP_KEY;
            memcpy(c->owner_id, pk.owner_id, UUID_STR);
            c->name = pk.name;
            pk.name = NULL;
            c->created_at = pk.created_at;
            c->last_used_at = pk.last_used_at;
        }
        store_app_key_clear(&pk);
    }
    if (rc == KH_ENOTFOUND)
        rc = find_token(call, id, c);
    if (!rc) {
        memcpy(c->id, id, UUID_STR - 1);
        memcpy(c->org_id, call->who.org_id, UUID_STR);
    } else {
        api_credential_clear(c);
    }
    return rc;
}

/* Whether the owner of c is a live service account of the caller's org. */
static int owned_by_service_account(struct api_call *call, const struct api_credential *c, int *yes)
{
    struct store_user u;
    *yes = 0;
    int rc = store_user_get(call->env->store, call->who.org_id, c->owner_id, &u);
    if (rc == KH_ENOTFOUND)
        return KH_OK;
    *yes = !rc && u.service_account && !u.disabled;
    store_user_clear(&u);
    return rc;
}

int api_credential_readable(struct api_call *call, const struct api_credential *c, int *readable)
{
    int own = c->owner_id[0] && strcmp(c->owner_id, call->who.user_id) == 0;
    *readable = 0;
    switch (c->kind) {
    case API_CRED_API_KEY:
        *readable = api_has_perm(call, PERM_API_KEYS_READ);
        return KH_OK;
    case API_CRED_PAT:
        *readable = api_has_perm(call, PERM_ORG_APP_KEYS_READ) || (own && api_has_perm(call, PERM_USER_APP_KEYS));
        return KH_OK;
    case API_CRED_SAT:
        *readable = api_has_perm(call, PERM_ORG_APP_KEYS_READ) || api_has_perm(call, PERM_SERVICE_ACCOUNT_WRITE);
        return KH_OK;
    default: /* an application key: the org's, one's own, or a service account's */
        if (api_has_perm(call, PERM_ORG_APP_KEYS_READ) || (own && api_has_perm(call, PERM_USER_APP_KEYS))) {
            *readable = 1;
            return KH_OK;
        }
        return api_has_perm(call, PERM_SERVICE_ACCOUNT_WRITE) ? owned_by_service_account(call, c, readable) : KH_OK;
    }
}

int readable_credential_or_reply(struct api_call *call, const char *id, struct api_credential *c)
{
    int readable = 0;
    int rc = api_credential_find(call, id, c);
    if (!rc)
        rc = api_credential_readable(call, c, &readable);
    if (!rc && !readable)
        rc = KH_ENOTFOUND;
    if (rc)
        api_credential_clear(c);
    if (rc == KH_ENOTFOUND)
        reply_error(call, 404, "Credential not found: no API key, application key or live access token of the "
                               "caller's org with this id is readable by the caller");
    else if (rc)
        reply_store_error(call, rc);
    return rc;
}

/* ---- rendering ---- */

/* "2026-12-01": a day as stored (days since the epoch, UTC). */
static json_t *render_day(int64_t day)
{
    char buf[CLOCK_BUF];
    clock_format_rfc3339(day * STORE_DAY_US, 0, buf);
    return json_stringn(buf, 10);
}

/* Text from the store that should be UTF-8 (a credential's name): null
 * rather than an answer jansson cannot make. */
static json_t *text_or_null(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

/* Every day of the window, oldest first, with its requests (0 for a day
 * with none); *total gets their sum. */
static json_t *render_days(const struct store_usage *u, int64_t first_day, int64_t *total)
{
    json_t *days = json_array();
    size_t k = 0;
    *total = 0;
    for (int64_t d = first_day; d < first_day + STORE_USAGE_DAYS; d++) {
        int64_t n = 0;
        while (k < u->n_days && u->days[k].day < d)
            k++;
        if (k < u->n_days && u->days[k].day == d)
            n = u->days[k].requests;
        *total += n;
        json_array_append_new(days, json_pack("{s:o,s:I}", "date", render_day(d), "requests", (json_int_t)n));
    }
    return days;
}

json_t *render_credential_usage(const struct api_credential *c, const struct store_usage *u, int64_t now)
{
    int64_t total = 0, first_day = now / STORE_DAY_US - (STORE_USAGE_DAYS - 1);
    json_t *clients = json_array(), *routes = json_array();
    for (size_t i = 0; i < u->n_clients; i++)
        json_array_append_new(clients, json_pack("{s:o,s:o,s:o}", "address", text_or_null(u->clients[i].address),
                                                 "user_agent",
                                                 text_or_null(u->clients[i].user_agent[0] ? u->clients[i].user_agent
                                                                                          : NULL),
                                                 "last_seen_at", render_rfc3339(u->clients[i].last_seen, 0)));
    for (size_t i = 0; i < u->n_routes; i++)
        json_array_append_new(routes, json_pack("{s:o,s:I,s:o}", "route", text_or_null(u->routes[i].route),
                                                "requests", (json_int_t)u->routes[i].requests, "last_seen_at",
                                                render_rfc3339(u->routes[i].last_seen, 0)));
    json_t *days = render_days(u, first_day, &total);
    json_t *attrs = json_pack("{s:s,s:o,s:o,s:I,s:o,s:o,s:o}", "credential_type", api_credential_type(c->kind), "name",
                              text_or_null(c->name), "last_used_at", render_rfc3339(c->last_used_at, 0),
                              "requests_last_30_days", (json_int_t)total, "days", days, "clients", clients, "routes",
                              routes);
    if (!attrs)
        abort(); /* jansson fails only on allocation failure: every text here is checked */
    return attrs;
}

/* The credential's usage, read from the store, as render_credential_usage
 * shows it; NULL having answered a store failure. */
static json_t *usage_or_reply(struct api_call *call, const struct api_credential *c)
{
    struct store_usage u;
    int rc = store_usage_get(call->env->store, c->id, call->now / STORE_DAY_US - (STORE_USAGE_DAYS - 1), &u);
    if (rc) {
        reply_store_error(call, rc);
        return NULL;
    }
    json_t *attrs = render_credential_usage(c, &u, call->now);
    store_usage_clear(&u);
    return attrs;
}

void keyhold_credential_usage(struct api_call *call)
{
    struct api_credential c;
    if (readable_credential_or_reply(call, call->params[0], &c))
        return;
    json_t *attrs = usage_or_reply(call, &c);
    if (attrs)
        reply_json(call, 200,
                   json_pack("{s:{s:s,s:s,s:o}}", "data", "id", c.id, "type", "credential_usage", "attributes", attrs));
    api_credential_clear(&c);
}

/* ---- dry runs ---- */

int dry_run_or_reply(struct api_call *call, int *dry_run)
{
    static const char *const known[] = {"dry_run", "api_key", "application_key", NULL};
    char msg[160];
    size_t seen = 0;
    *dry_run = 0;
    for (size_t i = 0; i < call->query.n; i++) {
        const char *key = call->query.params[i].key;
        size_t k = 0;
        while (known[k] && strcmp(known[k], key) != 0)
            k++;
        if (!known[k]) {
            /* A misspelt dry_run must not turn a preview into the real thing. */
            reply_error(call, 400, "Unknown query parameter '%.64s' (this route takes dry_run=true or dry_run=false)",
                        key);
            return -1;
        }
        seen += k == 0;
    }
    if (seen > 1) {
        reply_error(call, 400, "dry_run is given %zu times; give it once, true or false", seen);
        return -1;
    }
    if (query_bool(&call->query, "dry_run", dry_run, msg, sizeof msg)) {
        reply_error(call, 400, "%s", msg);
        return -1;
    }
    return 0;
}

void reply_credential_preview(struct api_call *call, const struct api_credential *c, const struct api_preview *p)
{
    /* Acting on a credential is not reading it (api_keys_delete without
     * api_keys_read, org_app_keys_write without org_app_keys_read): its
     * usage is shown only to a caller who could read it (null otherwise). */
    int readable = 0;
    int rc = api_credential_readable(call, c, &readable);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    json_t *usage = readable ? usage_or_reply(call, c) : json_null();
    if (!usage)
        return;
    json_t *attrs = json_pack("{s:s,s:b,s:s,s:o,s:s,s:o,s:b,s:o,s:o}", "action", p->action, "dry_run", 1,
                              "credential_type", api_credential_type(c->kind), "name", text_or_null(c->name), "effect",
                              p->effect, "secret_in_use_valid_until",
                              render_rfc3339(p->stops_at > call->now ? p->stops_at : call->now, 0),
                              "ends_at_first_use_of_new_secret", p->ends_on_new_secret_use, "grace_seconds",
                              p->grace_s < 0 ? json_null() : json_integer(p->grace_s), "usage", usage);
    if (!attrs)
        abort(); /* allocation failure: effect and action are the caller's ASCII */
    reply_json(call, 200,
               json_pack("{s:{s:s,s:s,s:o}}", "data", "id", c->id, "type", "credential_previews", "attributes", attrs));
}
