/* history.c - ended credentials stay listable, and any credential can be
 * revoked with a reason: keyhold extensions (docs/api/keyhold-extensions.yaml,
 * docs/api/history.md; issue 15, item 3).
 *
 *   GET  /api/v2/keyhold/credentials?state=revoked|expired|leaked
 *        revoked and expired tokens and deleted API and application keys of
 *        the caller's org, for --history-retention (90 days by default),
 *        with who ended each, when and why; never a secret. Each row is shown
 *        under the rule that reads that credential live
 *        (authz_history_visibility in auth/authz.c).
 *   POST /api/v2/keyhold/credentials/{id}/revoke
 *        revokes a PAT or SAT, or deletes an API or application key, under
 *        exactly the permissions of the matching Datadog route, recording
 *        the caller and the reason given.
 *
 * The Datadog routes are unchanged: a revoked token or deleted key is 404
 * and absent from their lists; they record who ended it (no reason). */
#include "api/internal.h"
#include "util/clock.h"
#include "util/text.h"
#include "util/token.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REASON_LEN 256

struct store_ending api_ending(const struct api_call *call, const char *reason)
{
    return (struct store_ending){.at = call->now, .by = call->who.user_id[0] ? call->who.user_id : NULL,
                                 .reason = reason && *reason ? reason : NULL};
}

/* What the API calls each kind: filter[kind] values, the audit trail's. */
static const char *const kind_names[] = {
    [STORE_CRED_API_KEY] = "api_key",
    [STORE_CRED_APP_KEY] = "application_key",
    [STORE_CRED_PAT] = "personal_access_token",
    [STORE_CRED_SAT] = "service_access_token",
};

/* ---- the list ---- */

/* state (absent: revoked and expired) into *states (1 << state bits), or
 * answers 400. state=leaked lists what leak reports matched
 * (api/leaks.c), whatever the org's policy did with it. */
static int state_or_reply(struct api_call *call, unsigned *states)
{
    const char *v = query_get(&call->query, "state");
    *states = (1u << STORE_HISTORY_REVOKED) | (1u << STORE_HISTORY_EXPIRED);
    if (!v || !*v)
        return 0;
    if (strcmp(v, "revoked") == 0)
        *states = 1u << STORE_HISTORY_REVOKED;
    else if (strcmp(v, "expired") == 0)
        *states = 1u << STORE_HISTORY_EXPIRED;
    else if (strcmp(v, "leaked") == 0)
        *states = 1u << STORE_HISTORY_LEAKED;
    else {
        reply_error(call, 400, "Invalid value for state: '%.64s' (expected revoked, expired or leaked)", v);
        return -1;
    }
    return 0;
}

/* filter[kind] (absent: every kind) into a STORE_CRED_BIT mask, or answers 400. */
static int kind_or_reply(struct api_call *call, unsigned *kinds)
{
    const char *v = query_get(&call->query, "filter[kind]");
    *kinds = STORE_CRED_ALL;
    if (!v || !*v)
        return 0;
    for (int k = STORE_CRED_API_KEY; k <= STORE_CRED_SAT; k++)
        if (strcmp(v, kind_names[k]) == 0) {
            *kinds = STORE_CRED_BIT(k);
            return 0;
        }
    reply_error(call, 400,
                "Invalid value for filter[kind]: '%.64s' (expected api_key, application_key, personal_access_token "
                "or service_access_token)",
                v);
    return -1;
}

/* sort: ended_at (oldest first) or -ended_at (newest first, the default). */
static int history_sort_or_reply(struct api_call *call, int *asc)
{
    const char *v = query_get(&call->query, "sort");
    *asc = v && strcmp(v, "ended_at") == 0;
    if (!v || *asc || strcmp(v, "-ended_at") == 0)
        return 0;
    reply_error(call, 400, "Invalid value for sort: '%.64s' (expected ended_at or -ended_at)", v);
    return -1;
}

static json_t *nullable_string(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* One row as JSON:API: nothing secret (a token's public portion is derived
 * from its id; a key's last 4 characters are what its lists show). */
static json_t *render_history(const struct store_history_row *h)
{
    char portion[TOKEN_ALIAS_LEN + 8] = "";
    if (h->kind == STORE_CRED_PAT || h->kind == STORE_CRED_SAT) {
        char alias[TOKEN_ALIAS_LEN + 1];
        if (token_alias(h->id, alias) == 0)
            snprintf(portion, sizeof portion, "%s_%s", token_prefix(h->kind == STORE_CRED_SAT ? TOKEN_SAT : TOKEN_PAT),
                     alias);
    }
    int known = h->kind >= STORE_CRED_API_KEY && h->kind <= STORE_CRED_SAT;
    json_t *attrs = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "kind",
                              known ? kind_names[h->kind] : "unknown", "state",
                              h->state == STORE_HISTORY_EXPIRED ? "expired" : h->state == STORE_HISTORY_LEAKED ? "leaked" : "revoked", "name",
                              nullable_string(h->name), "owner_id", nullable_string(h->owner_id), "created_at",
                              render_rfc3339(h->created_at, 0), "expires_at", render_rfc3339(h->expires_at, 0),
                              "ended_at", render_rfc3339(h->ended_at, 0), "ended_by", nullable_string(h->ended_by),
                              "ended_by_email", nullable_string(h->ended_by_email), "reason",
                              nullable_string(h->reason), "last4", nullable_string(h->last4), "public_portion",
                              nullable_string(portion));
    return json_pack("{s:s,s:s,s:o}", "id", h->id, "type", "credential_history", "attributes", attrs);
}

static void reply_history(struct api_call *call, const struct store_history_list *list)
{
    json_t *data = json_array();
    for (size_t i = 0; i < list->n; i++)
        json_array_append_new(data, render_history(&list->items[i]));
    reply_json(call, 200,
               json_pack("{s:o,s:{s:{s:I},s:I}}", "data", data, "meta", "page", "total_filtered_count",
                         (json_int_t)list->total, "retention_seconds",
                         (json_int_t)call->env->cfg->history_retention_s));
}

void keyhold_credentials_history(struct api_call *call)
{
    struct store_history_query q;
    struct store_history_list list = {0};
    unsigned kinds;
    memset(&q, 0, sizeof q);
    authz_history_visibility(&call->who, &q); /* each row under the rule that reads it live */
    if (!q.any_kinds && !q.own_kinds && !q.sa_kinds) {
        reply_error(call, 403, "Forbidden: reading credential history needs api_keys_read, org_app_keys_read, "
                               "user_app_keys or service_account_write");
        return;
    }
    if (state_or_reply(call, &q.states) || kind_or_reply(call, &kinds) ||
        page_or_reply(call, &q.page.limit, &q.page.offset) || history_sort_or_reply(call, &q.asc))
        return;
    q.any_kinds &= kinds;
    q.own_kinds &= kinds;
    q.sa_kinds &= kinds;
    q.org_id = call->who.org_id;
    q.now = call->now;
    q.since = call->now - call->env->cfg->history_retention_s * 1000000;
    int rc = store_history_list(call->env->store, &q, &list);
    if (rc)
        reply_store_error(call, rc);
    else
        reply_history(call, &list);
    store_history_list_free(&list);
}

/* ---- revoking any kind ---- */

/* Reads {"data":{"type":"credential_revocations","attributes":{"reason":"..."}}}
 * (every part optional; an empty body gives no reason). *reason borrows
 * from *root, which the caller decrefs. */
static int reason_or_reply(struct api_call *call, json_t **root, const char **reason)
{
    static const char *const data_keys[] = {"type", "attributes", NULL};
    static const char *const attr_keys[] = {"reason", NULL};
    struct jx jx = {0};
    *root = NULL;
    *reason = NULL;
    if (!call->req->body_len)
        return 0;
    if (!(*root = body_or_reply(call, &jx)))
        return -1;
    json_t *data = jx_obj(&jx, *root, "", "data", 0);
    if (data) {
        jx_only(&jx, data, data_keys);
        if (json_object_get(data, "type"))
            jx_type(&jx, data, "data", "credential_revocations");
    }
    json_t *attrs = data ? jx_obj(&jx, data, "data", "attributes", 0) : NULL;
    if (attrs) {
        jx_only(&jx, attrs, attr_keys);
        json_t *r = json_object_get(attrs, "reason");
        if (r && !json_is_null(r))
            *reason = jx_str(&jx, attrs, "data.attributes", "reason", 0, 0, MAX_REASON_LEN);
    }
    for (const char *c = *reason; !jx.failed && c && *c; c++)
        if (text_control_at(c))
            jx_fail(&jx, "Field 'data.attributes.reason' must not hold control characters (line breaks, C1 and "
                         "bidirectional controls included)");
    if (jx.failed) {
        reply_jx(call, &jx);
        json_decref(*root);
        *root = NULL;
        return -1;
    }
    return 0;
}

static void not_found(struct api_call *call)
{
    reply_error(call, 404, "Credential not found: keyhold revokes live API keys, application keys, personal and "
                           "service access tokens of the caller's org");
}

/* A token of the caller's org, as DELETE /api/v2/personal_access_tokens/{id}
 * (user_app_keys for one's own, org_app_keys_write for any) or the service
 * account route (service_account_write) would revoke it. */
/* ?dry_run=true: what revoking c would stop (its usage), and nothing
 * revoked. c's name is borrowed: c is not cleared. */
static void preview_revoke(struct api_call *call, struct api_credential c)
{
    snprintf(c.org_id, sizeof c.org_id, "%s", call->who.org_id);
    struct api_preview p = {
        .action = "revoke",
        .effect = c.kind == API_CRED_API_KEY || c.kind == API_CRED_APP_KEY
                      ? "The key would be deleted: every request with it would be refused at once, and it would be "
                        "listed in the history (GET /api/v2/keyhold/credentials?state=revoked) for the retention."
                      : "The token would be revoked: every request with it would be refused at once, and it would be "
                        "listed in the history (GET /api/v2/keyhold/credentials?state=revoked) for the retention.",
        .stops_at = call->now,
        .grace_s = -1,
    };
    reply_credential_preview(call, &c, &p);
}

static void revoke_token(struct api_call *call, const struct store_token *t, const char *reason, int dry_run)
{
    int sat = t->kind == STORE_TOKEN_SAT;
    if (sat ? require_perm_or_reply(call, PERM_SERVICE_ACCOUNT_WRITE)
            : require_any_perm_or_reply(call, PERM_USER_APP_KEYS, PERM_ORG_APP_KEYS_WRITE))
        return;
    if (!sat && strcmp(t->owner_id, call->who.user_id) != 0 && !api_has_perm(call, PERM_ORG_APP_KEYS_WRITE)) {
        not_found(call); /* as the Datadog route answers for another's token */
        return;
    }
    if (t->revoked_at || (t->expires_at && t->expires_at <= call->now)) {
        not_found(call);
        return;
    }
    if (dry_run) {
        struct api_credential c = {.kind = sat ? API_CRED_SAT : API_CRED_PAT, .name = t->name,
                                   .created_at = t->created_at, .last_used_at = t->last_used_at,
                                   .expires_at = t->expires_at};
        memcpy(c.id, t->id, UUID_STR);
        memcpy(c.owner_id, t->owner_id, UUID_STR);
        preview_revoke(call, c);
        return;
    }
    struct store_ending end = api_ending(call, reason);
    int rc = store_token_revoke(call->env->store, call->who.org_id, t->id, &end);
    if (rc == KH_ENOTFOUND) {
        not_found(call);
    } else if (rc) {
        reply_store_error(call, rc);
    } else {
        api_audit(call, "revoked", sat ? "service_access_token" : "personal_access_token", t->id);
        reply_empty(call, 204);
    }
}

/* An API key, as DELETE /api/v2/api_keys/{id} would (api_keys_delete). */
static void revoke_api_key(struct api_call *call, const struct store_api_key *k, const char *reason, int dry_run)
{
    if (require_perm_or_reply(call, PERM_API_KEYS_DELETE))
        return;
    const char *id = k->id;
    if (dry_run) {
        struct api_credential c = {.kind = API_CRED_API_KEY, .name = k->name, .created_at = k->created_at,
                                   .last_used_at = k->last_used_at};
        memcpy(c.id, k->id, UUID_STR);
        preview_revoke(call, c);
        return;
    }
    struct store_ending end = api_ending(call, reason);
    int rc = store_api_key_delete(call->env->store, call->who.org_id, id, &end);
    if (rc == KH_ENOTFOUND) {
        not_found(call);
    } else if (rc) {
        reply_store_error(call, rc);
    } else {
        api_audit(call, "deleted", "api_key", id);
        reply_empty(call, 204);
    }
}

/* Non-zero when owner_id is a live service account of the caller's org. */
static int owned_by_service_account(struct api_call *call, const char *owner_id, int *rc)
{
    struct store_user u;
    *rc = store_user_get(call->env->store, call->who.org_id, owner_id, &u);
    int sa = !*rc && u.service_account && !u.disabled;
    if (*rc == KH_ENOTFOUND)
        *rc = KH_OK;
    store_user_clear(&u);
    return sa;
}

/* An application key, as one of Datadog's delete routes would: the org's
 * (org_app_keys_write, any key), the current user's (user_app_keys, its
 * own) or a service account's (service_account_write, a live service
 * account's keys). */
static void revoke_app_key(struct api_call *call, const struct store_app_key *k, const char *reason, int dry_run)
{
    int rc = KH_OK;
    if (!api_has_perm(call, PERM_ORG_APP_KEYS_WRITE) && !api_has_perm(call, PERM_USER_APP_KEYS) &&
        !api_has_perm(call, PERM_SERVICE_ACCOUNT_WRITE)) {
        reply_error(call, 403, "Forbidden: deleting an application key needs org_app_keys_write, user_app_keys "
                               "(one's own) or service_account_write (a service account's)");
        return;
    }
    int allowed = api_has_perm(call, PERM_ORG_APP_KEYS_WRITE) ||
                  (api_has_perm(call, PERM_USER_APP_KEYS) && strcmp(k->owner_id, call->who.user_id) == 0) ||
                  (api_has_perm(call, PERM_SERVICE_ACCOUNT_WRITE) && owned_by_service_account(call, k->owner_id, &rc));
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    if (!allowed) {
        not_found(call); /* as the current user's and service account routes answer for a key not theirs */
        return;
    }
    if (dry_run) {
        struct api_credential c = {.kind = API_CRED_APP_KEY, .name = k->name, .created_at = k->created_at,
                                   .last_used_at = k->last_used_at};
        memcpy(c.id, k->id, UUID_STR);
        memcpy(c.owner_id, k->owner_id, UUID_STR);
        preview_revoke(call, c);
        return;
    }
    struct store_ending end = api_ending(call, reason);
    rc = store_app_key_delete(call->env->store, call->who.org_id, k->id, &end);
    if (rc == KH_ENOTFOUND) {
        not_found(call);
    } else if (rc) {
        reply_store_error(call, rc);
    } else {
        api_audit(call, "deleted", "application_key", k->id);
        reply_empty(call, 204);
    }
}

void keyhold_credential_revoke(struct api_call *call)
{
    const char *id = call->params[0], *reason;
    json_t *root;
    int dry_run;
    struct store_token t = {0};
    struct store_api_key ak = {0};
    struct store_app_key pk = {0};
    if (dry_run_or_reply(call, &dry_run) || reason_or_reply(call, &root, &reason))
        return;
    struct store *st = call->env->store;
    int rc = uuid_valid(id, strlen(id)) ? store_token_get(st, id, &t) : KH_ENOTFOUND;
    if (!rc && strcmp(t.org_id, call->who.org_id) == 0) {
        revoke_token(call, &t, reason, dry_run);
    } else if (rc && rc != KH_ENOTFOUND) {
        reply_store_error(call, rc);
    } else if (!(rc = store_api_key_get(st, call->who.org_id, id, &ak))) {
        revoke_api_key(call, &ak, reason, dry_run);
    } else if (rc != KH_ENOTFOUND) {
        reply_store_error(call, rc);
    } else if (!(rc = store_app_key_get(st, call->who.org_id, id, &pk))) {
        revoke_app_key(call, &pk, reason, dry_run);
    } else if (rc != KH_ENOTFOUND) {
        reply_store_error(call, rc);
    } else {
        not_found(call);
    }
    store_token_clear(&t);
    store_api_key_clear(&ak);
    store_app_key_clear(&pk);
    json_decref(root);
}
