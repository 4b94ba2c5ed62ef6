/* app_keys.c - application keys under four paths that share one id space:
 *   /api/v2/application_keys                     the org's keys (admin view)
 *   /api/v2/current_user/application_keys        the caller's own keys
 *   /api/v2/service_accounts/{id}/application_keys  a service account's keys
 *   /api/v1/application_key                      v1 shape, keyed by value
 * A key deleted under one path is gone under all. The value is shown where
 * Datadog shows it (docs/datadog.md, "Where secrets are shown"): on
 * creation, on the current user's get and update, and in every v1 answer;
 * never in lists, org or service account reads. Calls made with a PAT or SAT
 * cannot create or update keys. */
#include "api/internal.h"

#include "auth/credentials.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

/* Which path family a handler serves. */
enum scope { ORG, CURRENT_USER, SERVICE_ACCOUNT };

/* An application key as JSON:API; value NULL = no key attribute. with_used
 * adds last_used_at (reads and lists, not creation). */
static json_t *render_app_key(const struct store_app_key *k, const char *value, int with_used, int leaked)
{
    json_t *scopes = k->scopes ? json_loads(k->scopes, 0, NULL) : NULL;
    json_t *attrs = json_pack("{s:o,s:s,s:s,s:o}", "created_at", render_iso_time(k->created_at), "last4", k->last4,
                              "name", k->name, "scopes", scopes ? scopes : json_null());
    if (value)
        json_object_set_new(attrs, "key", json_string(value));
    if (with_used)
        json_object_set_new(attrs, "last_used_at", render_iso_time(k->last_used_at));
    /* a key quarantined after a leak report: Datadog's leaked_keys (leaks.c) */
    return json_pack("{s:s,s:s,s:o,s:{s:o,s:{s:o}}}", "id", k->id, "type", "application_keys", "attributes", attrs,
                     "relationships", "owned_by", render_relationship("users", k->owner_id), "leak_information",
                     "data", leaked ? json_pack("{s:s,s:s}", "id", k->id, "type", "leaked_keys") : json_null());
}

/* Decrypts a key value; logs and returns non-zero on a tampered row. */
static int unseal_app_key(struct api_call *call, const struct store_app_key *k, char value[APP_KEY_VALUE_LEN + 1])
{
    int rc = cred_unseal(call->env->secret, &k->key, value, APP_KEY_VALUE_LEN);
    if (rc) {
        log_error("application key %s: stored value does not decrypt with this server secret", k->id);
        reply_error(call, 500, "The stored application key could not be decrypted with this server's secret");
    }
    return rc;
}

/* The owner a family's path names, or NULL for the org family. For the
 * service account family, loads and checks the account (404 when it is not a
 * live service account of the caller's org). Returns non-zero when answered. */
static int owner_or_reply(struct api_call *call, enum scope scope, const char **owner)
{
    *owner = NULL;
    if (scope == CURRENT_USER) {
        *owner = call->who.user_id;
        return 0;
    }
    if (scope == ORG)
        return 0;
    struct store_user sa;
    const char *id = call->params[0];
    int rc = service_account_or_reply(call, id, &sa);
    store_user_clear(&sa);
    *owner = id;
    return rc;
}

/* Loads key `id` of the caller's org, which must belong to owner when owner
 * is set. Answers 404 "Application key not found" otherwise. */
static int load_app_key_or_reply(struct api_call *call, const char *id, const char *owner, struct store_app_key *k)
{
    int rc = uuid_valid(id, strlen(id)) ? store_app_key_get(call->env->store, call->who.org_id, id, k) : KH_ENOTFOUND;
    if (!rc && owner && strcmp(k->owner_id, owner) != 0) {
        store_app_key_clear(k);
        rc = KH_ENOTFOUND;
    }
    if (rc)
        memset(k, 0, sizeof *k);
    if (rc == KH_ENOTFOUND)
        reply_error(call, 404, "Application key not found");
    else if (rc)
        reply_store_error(call, rc);
    return rc;
}

static int family_perm_or_reply(struct api_call *call, enum scope scope, int org_perm)
{
    if (scope == CURRENT_USER)
        return require_perm_or_reply(call, PERM_USER_APP_KEYS);
    if (scope == SERVICE_ACCOUNT)
        return require_perm_or_reply(call, PERM_SERVICE_ACCOUNT_WRITE);
    return require_perm_or_reply(call, org_perm);
}

static const struct sort_option app_key_sorts[] = {
    {"name", STORE_SORT_NAME},
    {"created_at", STORE_SORT_CREATED_AT},
    {"last4", STORE_SORT_LAST4},
};

/* Reads include (only owned_by exists) into *include, or answers 400. */
static int include_owner_or_reply(struct api_call *call, int *include)
{
    const char *inc = query_get(&call->query, "include");
    *include = inc && strcmp(inc, "owned_by") == 0;
    if (!inc || !*inc || *include)
        return 0;
    reply_error(call, 400, "Invalid value for include: '%.64s' (expected owned_by)", inc);
    return -1;
}

static void list_keys(struct api_call *call, enum scope scope)
{
    struct store_app_key_query q;
    struct store_app_key_list list;
    char msg[256], *scratch = NULL;
    const char *owner;
    int include = 0;
    memset(&q, 0, sizeof q);
    if (family_perm_or_reply(call, scope, PERM_ORG_APP_KEYS_READ) || owner_or_reply(call, scope, &owner) ||
        page_or_reply(call, &q.page.limit, &q.page.offset) || sort_or_reply(call, app_key_sorts, 3, &q.sort, &q.desc) ||
        filter_or_reply(call, "filter", &q.name_filter) ||
        (scope != SERVICE_ACCOUNT && include_owner_or_reply(call, &include)))
        return;
    if (query_time_range(&call->query, "filter[created_at]", &q.created, msg, sizeof msg)) {
        reply_error(call, 400, "%s", msg);
        return;
    }
    if (owner) {
        q.owner_ids[0] = owner;
        q.n_owners = 1;
    } else {
        int n = query_get_list(&call->query, "filter[owned_by]", q.owner_ids, STORE_MAX_OWNERS, &scratch);
        if (n < 0) {
            reply_error(call, 400, "Invalid value for filter[owned_by]: at most %d owner ids", STORE_MAX_OWNERS);
            free(scratch);
            return;
        }
        q.n_owners = (size_t)n;
    }
    q.org_id = call->who.org_id;
    int rc = store_app_key_list(call->env->store, &q, &list);
    free(scratch);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    struct store_leak_list leaks;
    leaks_quarantined(call, "application_key", &leaks);
    json_t *data = json_array(), *included = json_array(), *leaked = json_array();
    for (size_t i = 0; i < list.n; i++) {
        const struct store_leak *l = leaks_find(&leaks, list.items[i].id);
        json_array_append_new(data, render_app_key(&list.items[i], NULL, 1, l != NULL));
        if (include)
            render_include_user(call->env->store, call->who.org_id, included, list.items[i].owner_id);
        if (l)
            json_array_append_new(leaked, render_leaked_key(l));
    }
    int any_leaked = json_array_size(leaked) > 0;
    json_array_extend(included, leaked);
    json_decref(leaked);
    store_leak_list_free(&leaks);
    json_t *body = json_pack("{s:o,s:{s:I,s:{s:I}}}", "data", data, "meta", "max_allowed_per_user",
                             (json_int_t)call->env->cfg->max_app_keys, "page", "total_filtered_count",
                             (json_int_t)list.total);
    if (include || any_leaked)
        json_object_set_new(body, "included", included);
    else
        json_decref(included);
    store_app_key_list_free(&list);
    reply_json(call, 200, body);
}

/* Checks a key owner_id would hold with `scopes` against the rule
 * (auth/authz.h); answers 403 or a store error and returns non-zero. */
static int key_grant_or_reply(struct api_call *call, const char *owner_id, const char *scopes)
{
    struct permset target;
    int rc = authz_credential_perms(call->env->store, owner_id, scopes, &target);
    if (rc) {
        reply_store_error(call, rc);
        return rc;
    }
    return grant_or_reply(call, &target, "application key") ? KH_EINVAL : KH_OK;
}

/* Non-zero when the caller may see key k's value (auth/authz.h). */
static int may_reveal(struct api_call *call, const struct store_app_key *k)
{
    struct permset held;
    return authz_credential_perms(call->env->store, k->owner_id, k->scopes, &held) == KH_OK &&
           authz_may_reveal(&call->who, &held);
}

/* Creates a key named `name` for owner with scopes text (taken; NULL = none
 * asked: a scoped caller passes its own on, others make it unscoped), if the
 * rule allows; answers errors itself. On success *k is the stored row
 * (caller clears). */
static int create_key_or_reply(struct api_call *call, const char *owner, const char *name, char *scopes,
                               struct store_app_key *k, char value[APP_KEY_VALUE_LEN + 1])
{
    int64_t count = 0;
    memset(k, 0, sizeof *k);
    if (!scopes)
        scopes = authz_inherited_scopes(&call->who);
    if (key_grant_or_reply(call, owner, scopes)) {
        free(scopes);
        return KH_EINVAL;
    }
    int rc = store_app_key_count(call->env->store, owner, &count);
    if (!rc && count >= call->env->cfg->max_app_keys) {
        reply_error(call, 400, "Application key limit reached: a user may have at most %ld application keys",
                    call->env->cfg->max_app_keys);
        free(scopes);
        return KH_EINVAL;
    }
    if (!rc) {
        uuid_generate_ordered(k->id, call->now);
        memcpy(k->org_id, call->who.org_id, UUID_STR);
        memcpy(k->owner_id, owner, UUID_STR);
        k->name = xstrdup(name);
        k->scopes = scopes;
        scopes = NULL;
        k->created_at = call->now;
        rc = cred_app_key_create(call->env->store, call->env->secret, k, value);
    }
    free(scopes);
    if (rc) {
        store_app_key_clear(k);
        reply_store_error(call, rc);
        return rc;
    }
    api_audit(call, "created", "application_key", k->id);
    return KH_OK;
}

/* Reads optional, nullable scopes: *text NULL = unscoped. Returns non-zero
 * when answered. */
static int optional_scopes_or_reply(struct api_call *call, struct jx *jx, json_t *attrs, char **text, int *present)
{
    struct permset set;
    json_t *v = json_object_get(attrs, "scopes");
    *text = NULL;
    *present = v != NULL;
    if (!v || json_is_null(v))
        return 0;
    *text = scopes_or_reply(call, jx, v, "data.attributes.scopes", 0, &set);
    return *text ? 0 : -1;
}

static void create_key(struct api_call *call, enum scope scope)
{
    struct jx jx = {0};
    json_t *root = NULL;
    const char *owner;
    char *scopes = NULL;
    int present;
    struct store_app_key k;
    char value[APP_KEY_VALUE_LEN + 1];
    if (family_perm_or_reply(call, scope, PERM_USER_APP_KEYS) || not_token_or_reply(call) ||
        owner_or_reply(call, scope, &owner))
        return;
    json_t *data = data_or_reply(call, &jx, &root, "application_keys", NULL, 0, NULL);
    json_t *attrs = data ? jx_obj(&jx, data, "data", "attributes", 1) : NULL;
    const char *name = jx_str(&jx, attrs, "data.attributes", "name", 1, 1, KH_MAX_NAME_LEN);
    if (data && jx.failed)
        reply_jx(call, &jx);
    else if (data && optional_scopes_or_reply(call, &jx, attrs, &scopes, &present) == 0 &&
             create_key_or_reply(call, owner, name, scopes, &k, value) == KH_OK) {
        reply_json(call, 201, json_pack("{s:o}", "data", render_app_key(&k, value, 0, 0)));
        secret_wipe(value, sizeof value);
        store_app_key_clear(&k);
    }
    json_decref(root);
}

/* Answers one key: with its value for the current user's family, when the
 * caller holds everything the key does. */
static void reply_key(struct api_call *call, enum scope scope, const struct store_app_key *k, int include)
{
    char value[APP_KEY_VALUE_LEN + 1];
    int reveal = scope == CURRENT_USER && may_reveal(call, k);
    if (reveal && unseal_app_key(call, k, value))
        return;
    struct store_leak leak;
    int leaked = leaks_quarantined_one(call, k->id, &leak);
    json_t *body = json_pack("{s:o}", "data", render_app_key(k, reveal ? value : NULL, 1, leaked));
    if (reveal)
        secret_wipe(value, sizeof value);
    /* The current user's key comes with its owner and the owner's roles,
     * asked for or not, as Datadog answers it; empty for a caller that may
     * not read users and roles. */
    if (include || scope == CURRENT_USER || leaked) {
        json_t *included = json_array();
        int reads_users = api_has_perm(call, PERM_USER_ACCESS_READ);
        if (include || (scope == CURRENT_USER && reads_users))
            render_include_user(call->env->store, call->who.org_id, included, k->owner_id);
        if (scope == CURRENT_USER && reads_users)
            render_include_user_roles(call->env->store, call->who.org_id, included, k->owner_id);
        if (leaked)
            json_array_append_new(included, render_leaked_key(&leak));
        json_object_set_new(body, "included", included);
    }
    store_leak_clear(&leak);
    reply_json(call, 200, body);
}

static void get_key(struct api_call *call, enum scope scope)
{
    struct store_app_key k;
    const char *owner;
    int include = 0;
    const char *id = call->params[scope == SERVICE_ACCOUNT ? 1 : 0];
    if (family_perm_or_reply(call, scope, PERM_ORG_APP_KEYS_READ) || owner_or_reply(call, scope, &owner) ||
        (scope == ORG && include_owner_or_reply(call, &include)) || load_app_key_or_reply(call, id, owner, &k))
        return;
    reply_key(call, scope, &k, include);
    store_app_key_clear(&k);
}

static void update_key(struct api_call *call, enum scope scope)
{
    struct jx jx = {0};
    json_t *root = NULL;
    const char *owner;
    char *scopes = NULL;
    int present = 0;
    struct store_app_key k;
    const char *id = call->params[scope == SERVICE_ACCOUNT ? 1 : 0];
    if (family_perm_or_reply(call, scope, PERM_ORG_APP_KEYS_WRITE) || not_token_or_reply(call) ||
        owner_or_reply(call, scope, &owner))
        return;
    json_t *data = data_or_reply(call, &jx, &root, "application_keys", id, 400,
                                 "Field 'data.id' does not match the application key id in the path");
    json_t *attrs = data ? jx_obj(&jx, data, "data", "attributes", 1) : NULL;
    const char *name = jx_str(&jx, attrs, "data.attributes", "name", 0, 1, KH_MAX_NAME_LEN);
    if (data && jx.failed)
        reply_jx(call, &jx);
    else if (data && optional_scopes_or_reply(call, &jx, attrs, &scopes, &present) == 0 &&
             load_app_key_or_reply(call, id, owner, &k) == KH_OK) {
        if (name) {
            free(k.name);
            k.name = xstrdup(name);
        }
        if (present) {
            free(k.scopes);
            k.scopes = scopes;
            scopes = NULL;
        }
        /* New scopes may narrow the key, never widen it past the caller. */
        if (!present || key_grant_or_reply(call, k.owner_id, k.scopes) == KH_OK) {
            int rc = store_app_key_update(call->env->store, &k);
            if (rc == KH_ENOTFOUND) {
                reply_error(call, 404, "Application key not found");
            } else if (rc) {
                reply_store_error(call, rc);
            } else {
                api_audit(call, "updated", "application_key", k.id);
                reply_key(call, scope, &k, 0);
            }
        }
        store_app_key_clear(&k);
    }
    free(scopes);
    json_decref(root);
}

static void delete_key(struct api_call *call, enum scope scope)
{
    struct store_app_key k;
    const char *owner;
    const char *id = call->params[scope == SERVICE_ACCOUNT ? 1 : 0];
    if (family_perm_or_reply(call, scope, PERM_ORG_APP_KEYS_WRITE) || owner_or_reply(call, scope, &owner) ||
        load_app_key_or_reply(call, id, owner, &k))
        return;
    struct store_ending end = api_ending(call, NULL);
    int rc = store_app_key_delete(call->env->store, call->who.org_id, k.id, &end);
    if (rc == KH_ENOTFOUND) {
        reply_error(call, 404, "Application key not found");
    } else if (rc) {
        reply_store_error(call, rc);
    } else {
        api_audit(call, "deleted", "application_key", k.id);
        reply_empty(call, 204);
    }
    store_app_key_clear(&k);
}

void app_keys_list(struct api_call *call) { list_keys(call, ORG); }
void app_keys_get(struct api_call *call) { get_key(call, ORG); }
void app_keys_update(struct api_call *call) { update_key(call, ORG); }
void app_keys_delete(struct api_call *call) { delete_key(call, ORG); }
void my_app_keys_list(struct api_call *call) { list_keys(call, CURRENT_USER); }
void my_app_keys_create(struct api_call *call) { create_key(call, CURRENT_USER); }
void my_app_keys_get(struct api_call *call) { get_key(call, CURRENT_USER); }
void my_app_keys_update(struct api_call *call) { update_key(call, CURRENT_USER); }
void my_app_keys_delete(struct api_call *call) { delete_key(call, CURRENT_USER); }
void sa_app_keys_list(struct api_call *call) { list_keys(call, SERVICE_ACCOUNT); }
void sa_app_keys_create(struct api_call *call) { create_key(call, SERVICE_ACCOUNT); }
void sa_app_keys_get(struct api_call *call) { get_key(call, SERVICE_ACCOUNT); }
void sa_app_keys_update(struct api_call *call) { update_key(call, SERVICE_ACCOUNT); }
void sa_app_keys_delete(struct api_call *call) { delete_key(call, SERVICE_ACCOUNT); }

/* ---- v1: /api/v1/application_key, keyed by the key value ---- */

/* {hash, name, owner}: owner is the owner's handle (email). */
static json_t *render_app_key_v1(struct api_call *call, const struct store_app_key *k, const char *value)
{
    struct store_user u;
    json_t *o = json_pack("{s:s,s:s}", "hash", value, "name", k->name);
    if (store_user_get(call->env->store, k->org_id, k->owner_id, &u) == KH_OK) {
        json_object_set_new(o, "owner", json_string(u.email));
        store_user_clear(&u);
    }
    return o;
}

/* Finds one of the caller's own keys by value. v1 addresses keys by their
 * values and answers every read with them, so it only ever shows the
 * caller's own keys, whatever org permission it holds (the v2 API serves
 * the org's keys without their values); another user's key is 404. */
static int load_v1_key_or_reply(struct api_call *call, struct store_app_key *k)
{
    const char *value = call->params[0];
    int rc = KH_ENOTFOUND;
    memset(k, 0, sizeof *k);
    if (strlen(value) == APP_KEY_VALUE_LEN)
        rc = cred_find_app_key(call->env->store, call->env->secret, value, APP_KEY_VALUE_LEN, 0, k); /* not a previous value: the answer shows the current one */
    if (!rc && (strcmp(k->org_id, call->who.org_id) != 0 || strcmp(k->owner_id, call->who.user_id) != 0)) {
        store_app_key_clear(k);
        rc = KH_ENOTFOUND;
    }
    if (rc == KH_ENOTFOUND)
        reply_error(call, 404, "Application key not found");
    else if (rc)
        reply_store_error(call, rc);
    return rc;
}

/* Answers {"application_key": {...}} with status. */
static void reply_v1(struct api_call *call, int status, const struct store_app_key *k)
{
    char value[APP_KEY_VALUE_LEN + 1];
    if (unseal_app_key(call, k, value))
        return;
    reply_json(call, status, json_pack("{s:o}", "application_key", render_app_key_v1(call, k, value)));
    secret_wipe(value, sizeof value);
}

/* Reads the v1 body {"name": ...}; NULL when answered 400. */
static json_t *v1_body_or_reply(struct api_call *call, const char **name)
{
    static const char *const allowed[] = {"name", NULL};
    struct jx jx = {0};
    json_t *root = body_or_reply(call, &jx);
    if (!root)
        return NULL;
    jx_only(&jx, root, allowed);
    *name = jx_str(&jx, root, "", "name", 1, 1, KH_MAX_NAME_LEN);
    if (jx.failed) {
        reply_jx(call, &jx);
        json_decref(root);
        return NULL;
    }
    return root;
}

/* 409 when owner already has another key called name (the v1 API's only
 * documented conflict). */
static int name_free_or_reply(struct api_call *call, const char *owner, const char *name, const char *except_id)
{
    struct store_app_key_query q;
    struct store_app_key_list list;
    memset(&q, 0, sizeof q);
    q.org_id = call->who.org_id;
    q.owner_ids[0] = owner;
    q.n_owners = 1;
    q.name_filter = name;
    q.page.limit = 1000;
    int rc = store_app_key_list(call->env->store, &q, &list);
    if (rc) {
        reply_store_error(call, rc);
        return rc;
    }
    for (size_t i = 0; i < list.n && !rc; i++)
        if (strcmp(list.items[i].name, name) == 0 && (!except_id || strcmp(list.items[i].id, except_id) != 0))
            rc = KH_ECONFLICT;
    store_app_key_list_free(&list);
    if (rc)
        reply_error(call, 409, "An application key with the name '%.100s' already exists", name);
    return rc;
}

void app_keys_v1_list(struct api_call *call)
{
    struct store_app_key_query q;
    struct store_app_key_list list;
    if (require_any_perm_or_reply(call, PERM_ORG_APP_KEYS_READ, PERM_USER_APP_KEYS))
        return;
    memset(&q, 0, sizeof q);
    q.org_id = call->who.org_id;
    q.owner_ids[0] = call->who.user_id; /* one's own keys only (load_v1_key_or_reply) */
    q.n_owners = 1;
    q.sort = STORE_SORT_CREATED_AT;
    q.page.limit = 100000;
    int rc = store_app_key_list(call->env->store, &q, &list);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    json_t *keys = json_array();
    for (size_t i = 0; i < list.n && !rc; i++) {
        char value[APP_KEY_VALUE_LEN + 1];
        if (!may_reveal(call, &list.items[i])) /* a key wider than the caller's credential is not listed */
            continue;
        rc = unseal_app_key(call, &list.items[i], value);
        if (!rc)
            json_array_append_new(keys, render_app_key_v1(call, &list.items[i], value));
        secret_wipe(value, sizeof value);
    }
    store_app_key_list_free(&list);
    if (rc)
        json_decref(keys);
    else
        reply_json(call, 200, json_pack("{s:o}", "application_keys", keys));
}

void app_keys_v1_create(struct api_call *call)
{
    const char *name;
    struct store_app_key k;
    char value[APP_KEY_VALUE_LEN + 1];
    if (require_perm_or_reply(call, PERM_USER_APP_KEYS) || not_token_or_reply(call))
        return;
    json_t *root = v1_body_or_reply(call, &name);
    if (!root)
        return;
    if (name_free_or_reply(call, call->who.user_id, name, NULL) == KH_OK &&
        create_key_or_reply(call, call->who.user_id, name, NULL, &k, value) == KH_OK) {
        reply_json(call, 200, json_pack("{s:o}", "application_key", render_app_key_v1(call, &k, value)));
        secret_wipe(value, sizeof value);
        store_app_key_clear(&k);
    }
    json_decref(root);
}

void app_keys_v1_get(struct api_call *call)
{
    struct store_app_key k;
    if (require_any_perm_or_reply(call, PERM_ORG_APP_KEYS_READ, PERM_USER_APP_KEYS) ||
        load_v1_key_or_reply(call, &k))
        return;
    reply_v1(call, 200, &k);
    store_app_key_clear(&k);
}

void app_keys_v1_update(struct api_call *call)
{
    const char *name;
    struct store_app_key k;
    if (require_any_perm_or_reply(call, PERM_ORG_APP_KEYS_WRITE, PERM_USER_APP_KEYS) || not_token_or_reply(call))
        return;
    json_t *root = v1_body_or_reply(call, &name);
    if (!root)
        return;
    if (load_v1_key_or_reply(call, &k) == KH_OK) {
        if (name_free_or_reply(call, k.owner_id, name, k.id) == KH_OK) {
            free(k.name);
            k.name = xstrdup(name);
            int rc = store_app_key_update(call->env->store, &k);
            if (rc) {
                reply_store_error(call, rc);
            } else {
                api_audit(call, "updated", "application_key", k.id);
                reply_v1(call, 200, &k);
            }
        }
        store_app_key_clear(&k);
    }
    json_decref(root);
}

/* v1 delete answers 200 with the deleted key. */
void app_keys_v1_delete(struct api_call *call)
{
    struct store_app_key k;
    char value[APP_KEY_VALUE_LEN + 1];
    if (require_any_perm_or_reply(call, PERM_ORG_APP_KEYS_WRITE, PERM_USER_APP_KEYS) ||
        load_v1_key_or_reply(call, &k))
        return;
    if (unseal_app_key(call, &k, value) == KH_OK) {
        struct store_ending end = api_ending(call, NULL);
        int rc = store_app_key_delete(call->env->store, call->who.org_id, k.id, &end);
        if (rc == KH_ENOTFOUND)
            reply_error(call, 404, "Application key not found");
        else if (rc)
            reply_store_error(call, rc);
        else {
            api_audit(call, "deleted", "application_key", k.id);
            reply_json(call, 200, json_pack("{s:o}", "application_key", render_app_key_v1(call, &k, value)));
        }
        secret_wipe(value, sizeof value);
    }
    store_app_key_clear(&k);
}
