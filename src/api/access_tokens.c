/* access_tokens.c - personal access tokens (/api/v2/personal_access_tokens)
 * and service access tokens (/api/v2/service_accounts/{id}/access_tokens).
 *
 * Both live in one table and one id space. A token's secret is shown once, in
 * the 201 answer of its creation; afterwards only its public portion is.
 * Revoked and expired tokens are gone for every read and list (an expired
 * token counts as revoked, docs/datadog.md, "Expiry"). */
#include "api/internal.h"

#include "auth/credentials.h"
#include "json/jsonw.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/token.h"
#include "util/uuid.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define DAY_US (86400LL * 1000000)
#define CLOCK_SLACK_US (60LL * 1000000) /* tolerated client clock skew */

static int load_sa_token_or_reply(struct api_call *call, int want_dead, struct store_user *sa, struct store_token *t);

static const char *token_type(int kind)
{
    return kind == STORE_TOKEN_SAT ? "service_access_tokens" : "personal_access_tokens";
}

/* The parsed scope list of a token (stored as JSON text), a new reference. */
static json_t *render_scopes(const char *text)
{
    json_t *scopes = json_loads(text ? text : "[]", 0, NULL);
    return scopes ? scopes : json_array();
}

/* A token as returned by create (value given: key, no last_used_at) or by
 * get (value NULL). A list writes the same bytes with write_token_row. */
static json_t *render_token(const struct store_token *t, const char *value)
{
    char alias[TOKEN_ALIAS_LEN + 1], portion[TOKEN_ALIAS_LEN + 8];
    token_alias(t->id, alias);
    snprintf(portion, sizeof portion, "%s_%s", token_prefix(t->kind == STORE_TOKEN_SAT ? TOKEN_SAT : TOKEN_PAT),
             alias);
    json_t *attrs = json_pack("{s:o,s:o,s:s,s:s,s:o}", "created_at", render_rfc3339(t->created_at, 0), "expires_at",
                              render_rfc3339(t->expires_at, 1), "name", t->name, "public_portion", portion, "scopes",
                              render_scopes(t->scopes));
    if (value) {
        json_object_set_new(attrs, "key", json_string(value));
    } else {
        json_object_set_new(attrs, "last_used_at", render_rfc3339(t->last_used_at, 0));
        if (t->kind == STORE_TOKEN_SAT) /* Datadog's SAT reads repeat the alias (its public portion) */
            json_object_set_new(attrs, "alias", json_string(alias));
        if (t->modified_at)
            json_object_set_new(attrs, "modified_at", render_rfc3339(t->modified_at, 0));
    }
    const char *owner_type = t->kind == STORE_TOKEN_SAT ? "service_account" : "users";
    return json_pack("{s:s,s:s,s:o,s:{s:o}}", "id", t->id, "type", token_type(t->kind), "attributes", attrs,
                     "relationships", "owned_by", render_relationship(owner_type, t->owner_id));
}

static int token_live(const struct store_token *t, int64_t now)
{
    return !t->revoked_at && (!t->expires_at || t->expires_at > now);
}

/* Loads a token of the caller's org by path id. Answers 404 (or a store
 * error) and returns non-zero when there is no such token of that kind; a
 * revoked or expired one is found only when want_dead is set. */
static int load_token_or_reply(struct api_call *call, const char *id, int kind, int want_dead, struct store_token *t)
{
    int rc = uuid_valid(id, strlen(id)) ? store_token_get(call->env->store, id, t) : KH_ENOTFOUND;
    memset(t, 0, rc ? sizeof *t : 0);
    if (!rc && (strcmp(t->org_id, call->who.org_id) != 0 || t->kind != kind ||
                (!want_dead && !token_live(t, call->now)))) {
        store_token_clear(t);
        rc = KH_ENOTFOUND;
    }
    if (rc == KH_ENOTFOUND)
        reply_error(call, 404, "Access token not found");
    else if (rc)
        reply_store_error(call, rc);
    return rc;
}

/* Loads the live service account named by the first path parameter. */
static int load_service_account_or_reply(struct api_call *call, struct store_user *sa)
{
    return service_account_or_reply(call, call->params[0], sa);
}

static const struct sort_option token_sorts[] = {
    {"name", STORE_SORT_NAME},
    {"created_at", STORE_SORT_CREATED_AT},
    {"expires_at", STORE_SORT_EXPIRES_AT},
    {"last_used_at", STORE_SORT_LAST_USED_AT},
};

/* The scopes of the row a list wrote last, as JSON text: the rows of a page
 * mostly carry the same scope list, and it is parsed and dumped once a run.
 * `text` points into that row, which lives as long as the list. */
struct scopes_memo {
    const char *text;
    char *dumped;
};

/* The compact JSON of a stored scope list, as render_scopes() dumps; owned
 * by the memo. */
static const char *scopes_text(const char *text, struct scopes_memo *memo)
{
    if (!text)
        text = "[]";
    if (memo->dumped && strcmp(memo->text, text) == 0)
        return memo->dumped;
    json_t *scopes = render_scopes(text);
    free(memo->dumped);
    memo->dumped = json_dumps(scopes, JSON_COMPACT);
    json_decref(scopes);
    if (!memo->dumped)
        abort(); /* jansson fails only on allocation failure */
    memo->text = text;
    return memo->dumped;
}

/* A timestamp as render_rfc3339() renders it. */
static void write_rfc3339(struct jsonw *w, int64_t us, int trim)
{
    char buf[CLOCK_BUF];
    if (!us) {
        jsonw_null(w);
        return;
    }
    clock_format_rfc3339(us, trim, buf);
    /* digits, '-', ':', '.', 'T' and 'Z': nothing to escape or check */
    jsonw_rawn(w, "\"", 1);
    jsonw_raw(w, buf);
    jsonw_rawn(w, "\"", 1);
}

/* One row of a list: the bytes json_dumps gave for render_token(t, NULL),
 * written straight into w (issue 14). KH_EINVAL, with w cut back to where it
 * was, when the name is missing or not UTF-8: render_token() then returned
 * NULL and the list left the row out, and so does this. */
static int write_token_row(struct jsonw *w, const struct store_token *t, struct scopes_memo *memo)
{
    size_t mark = jsonw_len(w);
    char alias[TOKEN_ALIAS_LEN + 1];
    int sat = t->kind == STORE_TOKEN_SAT;
    token_alias(t->id, alias);
    jsonw_raw(w, "{\"id\":");
    jsonw_string(w, t->id);
    jsonw_raw(w, ",\"type\":");
    jsonw_string(w, token_type(t->kind));
    jsonw_raw(w, ",\"attributes\":{\"created_at\":");
    write_rfc3339(w, t->created_at, 0);
    jsonw_raw(w, ",\"expires_at\":");
    write_rfc3339(w, t->expires_at, 1);
    jsonw_raw(w, ",\"name\":");
    if (!t->name || jsonw_string(w, t->name)) {
        jsonw_truncate(w, mark);
        return KH_EINVAL;
    }
    jsonw_raw(w, sat ? ",\"public_portion\":\"ddsat_" : ",\"public_portion\":\"ddpat_");
    jsonw_raw(w, alias); /* base62: nothing to escape */
    jsonw_raw(w, "\",\"scopes\":");
    jsonw_raw(w, scopes_text(t->scopes, memo));
    jsonw_raw(w, ",\"last_used_at\":");
    write_rfc3339(w, t->last_used_at, 0);
    if (sat) { /* Datadog's SAT reads repeat the alias (its public portion) */
        jsonw_raw(w, ",\"alias\":\"");
        jsonw_raw(w, alias);
        jsonw_raw(w, "\"");
    }
    if (t->modified_at) {
        jsonw_raw(w, ",\"modified_at\":");
        write_rfc3339(w, t->modified_at, 0);
    }
    /* render_relationship(): {"data":null} without an owner */
    jsonw_raw(w, "},\"relationships\":{\"owned_by\":{\"data\":");
    if (t->owner_id[0]) {
        jsonw_raw(w, "{\"id\":");
        jsonw_string(w, t->owner_id);
        jsonw_raw(w, sat ? ",\"type\":\"service_account\"}" : ",\"type\":\"users\"}");
    } else {
        jsonw_null(w);
    }
    jsonw_raw(w, "}}}");
    return KH_OK;
}

/* Runs a token list query and answers it, written straight into the
 * answer's buffer: building, dumping and freeing a jansson tree was about 70%
 * of a page's CPU (issue 14). tests/unit/test_api.c keeps the tree rendering
 * and compares the bytes. */
static void reply_token_list(struct api_call *call, const struct store_token_query *q)
{
    struct store_token_list list;
    int rc = store_token_list(call->env->store, q, &list);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    struct scopes_memo memo = {NULL, NULL};
    struct jsonw w;
    jsonw_init(&w);
    jsonw_reserve(&w, 64 + list.n * 420); /* about what a row takes */
    jsonw_raw(&w, "{\"data\":[");
    int first = 1;
    for (size_t i = 0; i < list.n; i++) {
        size_t mark = jsonw_len(&w);
        if (!first)
            jsonw_raw(&w, ",");
        if (write_token_row(&w, &list.items[i], &memo))
            jsonw_truncate(&w, mark); /* also the comma */
        else
            first = 0;
    }
    jsonw_raw(&w, "],\"meta\":{\"page\":{\"total_filtered_count\":");
    jsonw_int(&w, (long long)list.total);
    jsonw_raw(&w, "}}}");
    free(memo.dumped);
    store_token_list_free(&list);
    reply_json_text(call, 200, jsonw_steal(&w, NULL));
}

/* GET /api/v2/personal_access_tokens: the org's PATs and SATs. With
 * org_app_keys_read every token; with only user_app_keys the caller's own. */
void access_tokens_list(struct api_call *call)
{
    struct store_token_query q;
    char *scratch = NULL;
    memset(&q, 0, sizeof q);
    if (require_any_perm_or_reply(call, PERM_USER_APP_KEYS, PERM_ORG_APP_KEYS_READ) ||
        page_or_reply(call, &q.page.limit, &q.page.offset) || sort_or_reply(call, token_sorts, 4, &q.sort, &q.desc) ||
        filter_or_reply(call, "filter", &q.name_filter))
        return;
    int n = query_get_list(&call->query, "filter[owned_by]", q.owner_ids, STORE_MAX_OWNERS, &scratch);
    if (n < 0) {
        reply_error(call, 400, "Invalid value for filter[owned_by]: at most %d owner ids", STORE_MAX_OWNERS);
        free(scratch);
        return;
    }
    q.n_owners = (size_t)n;
    q.org_id = call->who.org_id;
    q.now = call->now;
    if (!api_has_perm(call, PERM_ORG_APP_KEYS_READ)) {
        /* Own tokens only: an owner filter that leaves out the caller
         * selects nothing. */
        int self_listed = n == 0;
        for (int i = 0; i < n; i++)
            self_listed |= strcmp(q.owner_ids[i], call->who.user_id) == 0;
        q.owner_ids[0] = self_listed ? call->who.user_id : "";
        q.n_owners = 1;
    }
    reply_token_list(call, &q);
    free(scratch);
}

/* Reads and checks expires_at: required for PATs (24 h to 1 year ahead;
 * any future time in test mode), optional for SATs (future, at most 1 year ahead). A token caller cannot
 * mint a token that outlives itself. Returns 0 and sets *out (0 = never), or
 * answers and returns non-zero. */
static int expiry_or_reply(struct api_call *call, struct jx *jx, json_t *attrs, int required, int64_t *out)
{
    const char *v = jx_str(jx, attrs, "data.attributes", "expires_at", required, 1, 64);
    *out = 0;
    if (jx->failed) {
        reply_jx(call, jx);
        return -1;
    }
    if (!v && call->who.expires_at) {
        reply_error(call, 403, "Forbidden: a token cannot create a token that outlives it; set expires_at");
        return -1;
    }
    if (!v)
        return 0;
    if (clock_parse(v, out)) {
        reply_error(call, 400, "Field 'data.attributes.expires_at' must be an RFC 3339 date-time");
        return -1;
    }
    /* Test mode (serve --test-mode) lets a PAT expire in seconds. */
    int day_ahead = required && !call->env->cfg->test_mode;
    int64_t min = call->now + (day_ahead ? DAY_US - CLOCK_SLACK_US : 0);
    if (*out <= min) {
        reply_error(call, 400, "Field 'data.attributes.expires_at' must be %s",
                    day_ahead ? "at least 24 hours in the future" : "in the future");
        return -1;
    }
    if (*out > call->now + 365 * DAY_US + CLOCK_SLACK_US) {
        reply_error(call, 400, "Field 'data.attributes.expires_at' must be at most one year in the future");
        return -1;
    }
    if (call->who.expires_at && *out > call->who.expires_at) {
        reply_error(call, 403, "Forbidden: a token cannot create a token that outlives it");
        return -1;
    }
    return 0;
}

/* Shared body of PAT and SAT creation: validates the request for `type`,
 * mints the token for owner and answers 201. */
static void create_token(struct api_call *call, int kind, const char *owner_id)
{
    struct jx jx = {0};
    struct store_token t;
    struct permset scopes;
    char value[TOKEN_LEN + 1];
    json_t *root = body_or_reply(call, &jx);
    if (!root)
        return;
    memset(&t, 0, sizeof t);
    json_t *data = jx_obj(&jx, root, "", "data", 1);
    jx_type(&jx, data, "data", token_type(kind));
    json_t *attrs = jx_obj(&jx, data, "data", "attributes", 1);
    const char *name = jx_str(&jx, attrs, "data.attributes", "name", 1, 1, KH_MAX_NAME_LEN);
    json_t *scope_arr = jx_arr(&jx, attrs, "data.attributes", "scopes", 1);
    if (jx.failed) {
        reply_jx(call, &jx);
        goto out;
    }
    if (expiry_or_reply(call, &jx, attrs, kind == STORE_TOKEN_PAT, &t.expires_at))
        goto out;
    t.scopes = scopes_or_reply(call, &jx, scope_arr, "data.attributes.scopes", 1, &scopes);
    if (!t.scopes)
        goto out;
    uuid_generate_ordered(t.id, call->now);
    memcpy(t.org_id, call->who.org_id, UUID_STR);
    memcpy(t.owner_id, owner_id, UUID_STR);
    t.kind = kind;
    t.name = xstrdup(name);
    t.created_at = call->now;
    int rc = cred_token_create(call->env->store, call->env->secret, &t, value);
    if (rc) {
        reply_store_error(call, rc);
        goto out;
    }
    api_audit(call, "created", kind == STORE_TOKEN_SAT ? "service_access_token" : "personal_access_token", t.id);
    reply_json(call, 201, json_pack("{s:o}", "data", render_token(&t, value)));
    secret_wipe(value, sizeof value);
out:
    store_token_clear(&t);
    json_decref(root);
}

void access_tokens_create(struct api_call *call)
{
    if (require_perm_or_reply(call, PERM_USER_APP_KEYS))
        return;
    if (call->who.service_account) {
        reply_error(call, 403, "Forbidden: service accounts use service access tokens, not personal access tokens");
        return;
    }
    create_token(call, STORE_TOKEN_PAT, call->who.user_id);
}

void access_tokens_get(struct api_call *call)
{
    struct store_token t;
    if (require_any_perm_or_reply(call, PERM_USER_APP_KEYS, PERM_ORG_APP_KEYS_READ) ||
        load_token_or_reply(call, call->params[0], STORE_TOKEN_PAT, 0, &t))
        return;
    if (strcmp(t.owner_id, call->who.user_id) != 0 && !api_has_perm(call, PERM_ORG_APP_KEYS_READ))
        reply_error(call, 404, "Access token not found");
    else
        reply_json(call, 200, json_pack("{s:o}", "data", render_token(&t, NULL)));
    store_token_clear(&t);
}

/* DELETE: revoking an already revoked (or expired) token answers 204 again,
 * as Datadog does; an unknown id is 404 (docs/datadog.md, "Status codes of
 * creation and deletion"). */
void access_tokens_revoke(struct api_call *call)
{
    struct store_token t;
    if (require_any_perm_or_reply(call, PERM_USER_APP_KEYS, PERM_ORG_APP_KEYS_WRITE) ||
        load_token_or_reply(call, call->params[0], STORE_TOKEN_PAT, 1, &t))
        return;
    int own = strcmp(t.owner_id, call->who.user_id) == 0;
    if (!own && !api_has_perm(call, PERM_ORG_APP_KEYS_WRITE)) {
        reply_error(call, 404, "Access token not found");
    } else if (!token_live(&t, call->now)) {
        reply_empty(call, 204);
    } else {
        struct store_ending end = api_ending(call, NULL);
        int rc = store_token_revoke(call->env->store, call->who.org_id, t.id, &end);
        if (rc && rc != KH_ENOTFOUND) {
            reply_store_error(call, rc);
        } else {
            api_audit(call, "revoked", "personal_access_token", t.id);
            reply_empty(call, 204);
        }
    }
    store_token_clear(&t);
}

void sa_tokens_create(struct api_call *call)
{
    struct store_user sa;
    if (require_perm_or_reply(call, PERM_SERVICE_ACCOUNT_WRITE) || load_service_account_or_reply(call, &sa))
        return;
    create_token(call, STORE_TOKEN_SAT, sa.id);
    store_user_clear(&sa);
}

void sa_tokens_get(struct api_call *call)
{
    struct store_user sa;
    struct store_token t;
    if (load_sa_token_or_reply(call, 0, &sa, &t))
        return;
    reply_json(call, 200, json_pack("{s:o}", "data", render_token(&t, NULL)));
    store_token_clear(&t);
}

/* Shared body of PAT and SAT updates: name and scopes may change;
 * expires_at may not (docs/datadog.md, "Scopes and what a token update may
 * change"). t is the loaded live token. */
static void update_token(struct api_call *call, struct store_token *t)
{
    struct jx jx = {0};
    json_t *root = NULL;
    struct permset set;
    json_t *data = data_or_reply(call, &jx, &root, token_type(t->kind), t->id, 400,
                                 "Field 'data.id' does not match the token id in the path");
    json_t *attrs = data ? jx_obj(&jx, data, "data", "attributes", 1) : NULL;
    const char *name = jx_str(&jx, attrs, "data.attributes", "name", 0, 1, KH_MAX_NAME_LEN);
    json_t *scopes = json_object_get(attrs, "scopes");
    if (data && !jx.failed && json_object_get(attrs, "expires_at"))
        jx_fail(&jx, "Field 'data.attributes.expires_at' cannot be changed; create a new token instead");
    if (data && jx.failed) {
        reply_jx(call, &jx);
        goto out;
    }
    if (!data)
        goto out;
    if (scopes) {
        char *text = scopes_or_reply(call, &jx, scopes, "data.attributes.scopes", 1, &set);
        if (!text)
            goto out;
        free(t->scopes);
        t->scopes = text;
    }
    if (name) {
        free(t->name);
        t->name = xstrdup(name);
    }
    t->modified_at = call->now;
    int rc = store_token_update(call->env->store, t);
    if (rc == KH_ENOTFOUND) {
        reply_error(call, 404, "Access token not found");
    } else if (rc) {
        reply_store_error(call, rc);
    } else {
        api_audit(call, "updated", t->kind == STORE_TOKEN_SAT ? "service_access_token" : "personal_access_token",
                  t->id);
        reply_json(call, 200, json_pack("{s:o}", "data", render_token(t, NULL)));
    }
out:
    json_decref(root);
}

void access_tokens_update(struct api_call *call)
{
    struct store_token t;
    if (require_any_perm_or_reply(call, PERM_USER_APP_KEYS, PERM_ORG_APP_KEYS_WRITE) ||
        load_token_or_reply(call, call->params[0], STORE_TOKEN_PAT, 0, &t))
        return;
    int own = strcmp(t.owner_id, call->who.user_id) == 0;
    if (own ? !api_has_perm(call, PERM_USER_APP_KEYS) && !api_has_perm(call, PERM_ORG_APP_KEYS_WRITE)
            : !api_has_perm(call, PERM_ORG_APP_KEYS_WRITE))
        reply_error(call, 404, "Access token not found");
    else
        update_token(call, &t);
    store_token_clear(&t);
}

/* Loads the service account of the path and its token params[1]. */
static int load_sa_token_or_reply(struct api_call *call, int want_dead, struct store_user *sa, struct store_token *t)
{
    if (require_perm_or_reply(call, PERM_SERVICE_ACCOUNT_WRITE) || load_service_account_or_reply(call, sa))
        return -1;
    int rc = load_token_or_reply(call, call->params[1], STORE_TOKEN_SAT, want_dead, t);
    if (!rc && strcmp(t->owner_id, sa->id) != 0) {
        store_token_clear(t);
        reply_error(call, 404, "Access token not found");
        rc = KH_ENOTFOUND;
    }
    store_user_clear(sa);
    return rc;
}

void sa_tokens_list(struct api_call *call)
{
    struct store_user sa;
    struct store_token_query q;
    memset(&q, 0, sizeof q);
    if (require_perm_or_reply(call, PERM_SERVICE_ACCOUNT_WRITE) || load_service_account_or_reply(call, &sa))
        return;
    if (!page_or_reply(call, &q.page.limit, &q.page.offset) && !sort_or_reply(call, token_sorts, 4, &q.sort, &q.desc) &&
        !filter_or_reply(call, "filter", &q.name_filter)) {
        q.org_id = call->who.org_id;
        q.now = call->now;
        q.kind = STORE_TOKEN_SAT;
        q.owner_ids[0] = sa.id;
        q.n_owners = 1;
        reply_token_list(call, &q);
    }
    store_user_clear(&sa);
}

void sa_tokens_update(struct api_call *call)
{
    struct store_user sa;
    struct store_token t;
    if (load_sa_token_or_reply(call, 0, &sa, &t))
        return;
    update_token(call, &t);
    store_token_clear(&t);
}

/* Revoking again (or an expired token) answers 204, like PATs. */
void sa_tokens_revoke(struct api_call *call)
{
    struct store_user sa;
    struct store_token t;
    if (load_sa_token_or_reply(call, 1, &sa, &t))
        return;
    struct store_ending end = api_ending(call, NULL);
    int rc = token_live(&t, call->now) ? store_token_revoke(call->env->store, call->who.org_id, t.id, &end) : KH_OK;
    if (rc && rc != KH_ENOTFOUND) {
        reply_store_error(call, rc);
    } else {
        api_audit(call, "revoked", "service_access_token", t.id);
        reply_empty(call, 204);
    }
    store_token_clear(&t);
}
