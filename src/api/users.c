/* users.c - /api/v2/users: list, create, get, update, disable. Service
 * accounts are users too (service_account=true) and are read, updated and
 * disabled here. Disabling a user deletes its application keys and revokes
 * its tokens in the same transaction (docs/datadog.md, "Disabling a user"). */
#include "api/internal.h"

#include "auth/lifecycle.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const struct sort_option user_sorts[] = {
    {"name", STORE_SORT_NAME},   {"email", STORE_SORT_EMAIL},           {"status", STORE_SORT_STATUS},
    {"created_at", STORE_SORT_CREATED_AT}, {"modified_at", STORE_SORT_MODIFIED_AT},
};

int user_query_or_reply(struct api_call *call, struct store_user_query *q)
{
    if (page_or_reply(call, &q->page.limit, &q->page.offset) || sort_or_reply(call, user_sorts, 5, &q->sort, &q->desc) ||
        filter_or_reply(call, "filter", &q->filter))
        return -1;
    q->org_id = call->who.org_id;
    return 0;
}

void reply_user_list(struct api_call *call, const struct store_user_query *q)
{
    struct store_user_list list;
    int rc = store_user_list(call->env->store, q, &list);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    /* The roles of the users listed come in `included`, as Datadog's do. */
    json_t *data = json_array(), *included = json_array();
    for (size_t i = 0; i < list.n; i++) {
        json_array_append_new(data, render_user(call->env->store, &list.items[i]));
        render_include_user_roles(call->env->store, call->who.org_id, included, list.items[i].id);
    }
    reply_json(call, 200,
               json_pack("{s:o,s:o,s:{s:{s:I,s:I}}}", "data", data, "included", included, "meta", "page", "total_count",
                         (json_int_t)list.total_unfiltered, "total_filtered_count", (json_int_t)list.total));
    store_user_list_free(&list);
}

/* sort_dir=asc|desc, an alternative to the '-' prefix. */
static int sort_dir_or_reply(struct api_call *call, int *desc)
{
    const char *d = query_get(&call->query, "sort_dir");
    if (!d)
        return 0;
    if (strcmp(d, "asc") == 0 || strcmp(d, "desc") == 0) {
        *desc = d[0] == 'd';
        return 0;
    }
    reply_error(call, 400, "Invalid value for sort_dir: '%.32s' (expected asc or desc)", d);
    return -1;
}

/* filter[status]: a comma list of Active, Pending, Disabled. */
static int status_or_reply(struct api_call *call, int *mask)
{
    const char *items[8];
    char *scratch = NULL;
    int n = query_get_list(&call->query, "filter[status]", items, 8, &scratch), ok = n >= 0;
    *mask = 0;
    for (int i = 0; ok && i < n; i++) {
        if (strcmp(items[i], "Active") == 0)
            *mask |= STORE_STATUS_ACTIVE;
        else if (strcmp(items[i], "Pending") == 0)
            *mask |= STORE_STATUS_PENDING;
        else if (strcmp(items[i], "Disabled") == 0)
            *mask |= STORE_STATUS_DISABLED;
        else
            ok = 0;
    }
    free(scratch);
    if (!ok)
        reply_error(call, 400, "Invalid value for filter[status]: expected a comma list of Active, Pending, Disabled");
    return ok ? 0 : -1;
}

void users_list(struct api_call *call)
{
    struct store_user_query q;
    memset(&q, 0, sizeof q);
    if (require_perm_or_reply(call, PERM_USER_ACCESS_READ) || user_query_or_reply(call, &q) ||
        sort_dir_or_reply(call, &q.desc) || status_or_reply(call, &q.status_mask))
        return;
    reply_user_list(call, &q);
}

/* Loads user params[0] of the caller's org, or answers 404 "<id> not found". */
static int load_user_or_reply(struct api_call *call, struct store_user *u)
{
    const char *id = call->params[0];
    int rc = uuid_valid(id, strlen(id)) ? store_user_get(call->env->store, call->who.org_id, id, u) : KH_ENOTFOUND;
    if (rc)
        memset(u, 0, sizeof *u);
    if (rc == KH_ENOTFOUND)
        reply_error(call, 404, "%s not found", id);
    else if (rc)
        reply_store_error(call, rc);
    return rc;
}

static void reply_user(struct api_call *call, int status, const struct store_user *u)
{
    reply_json(call, status, json_pack("{s:o}", "data", render_user(call->env->store, u)));
}

void users_create(struct api_call *call)
{
    struct jx jx = {0};
    json_t *root = NULL;
    char roles[API_MAX_ROLES][UUID_STR];
    size_t n_roles = 0;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_INVITE))
        return;
    json_t *data = data_or_reply(call, &jx, &root, "users", NULL, 0, NULL);
    json_t *attrs = data ? jx_obj(&jx, data, "data", "attributes", 1) : NULL;
    const char *email = jx_str(&jx, attrs, "data.attributes", "email", 1, 1, API_MAX_EMAIL_LEN);
    const char *name = jx_str(&jx, attrs, "data.attributes", "name", 0, 0, KH_MAX_NAME_LEN);
    const char *title = jx_str(&jx, attrs, "data.attributes", "title", 0, 0, KH_MAX_NAME_LEN);
    if (data && !jx.failed && !api_plausible_email(email))
        jx_fail(&jx, "Field 'data.attributes.email' must be an email address");
    if (data && jx.failed) {
        reply_jx(call, &jx);
    } else if (data && roles_or_reply(call, &jx, data, roles, &n_roles) == 0) {
        struct store_user u;
        api_new_user(call, &u, email, name, title, 0);
        int rc = api_insert_user_with_roles(call->env->store, &u, roles, n_roles);
        if (rc) {
            reply_user_write_error(call, rc, u.email);
        } else {
            api_audit(call, "created", "user", u.id);
            reply_user(call, 201, &u);
        }
        store_user_clear(&u);
    }
    json_decref(root);
}

void users_get(struct api_call *call)
{
    struct store_user u;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_READ) || load_user_or_reply(call, &u))
        return;
    reply_user(call, 200, &u);
    store_user_clear(&u);
}

/* user_access_manage may change anyone; service_account_write only service
 * accounts (x-permission: user_access_manage OR service_account_write). */
static int may_manage_or_reply(struct api_call *call, const struct store_user *u)
{
    if (api_has_perm(call, PERM_USER_ACCESS_MANAGE) ||
        (u->service_account && api_has_perm(call, PERM_SERVICE_ACCOUNT_WRITE)))
        return 0;
    reply_error(call, 403, "Forbidden: this operation requires the user_access_manage permission%s",
                u->service_account ? " or service_account_write" : "");
    return -1;
}

/* Re-enabling a user gives its permissions back to whatever credential it
 * will hold: the rule of auth/authz.h applies as to a new credential. */
static int may_enable_or_reply(struct api_call *call, const struct store_user *u)
{
    struct permset held;
    int rc = authz_credential_perms(call->env->store, u->id, NULL, &held);
    if (rc) {
        reply_store_error(call, rc);
        return -1;
    }
    return grant_or_reply(call, &held, "re-enabled user");
}

void users_update(struct api_call *call)
{
    struct jx jx = {0};
    json_t *root = NULL;
    struct store_user u;
    if (require_any_perm_or_reply(call, PERM_USER_ACCESS_MANAGE, PERM_SERVICE_ACCOUNT_WRITE))
        return;
    json_t *data = data_or_reply(call, &jx, &root, "users", call->params[0], 422,
                                 "UUID's in the URL and request body do not match");
    json_t *attrs = data ? jx_obj(&jx, data, "data", "attributes", 1) : NULL;
    const char *email = jx_str(&jx, attrs, "data.attributes", "email", 0, 1, API_MAX_EMAIL_LEN);
    const char *name = jx_str(&jx, attrs, "data.attributes", "name", 0, 0, KH_MAX_NAME_LEN);
    json_t *disabled_field = json_object_get(attrs, "disabled");
    int disabled = jx_bool(&jx, attrs, "data.attributes", "disabled", 0);
    if (data && !jx.failed && email && !api_plausible_email(email))
        jx_fail(&jx, "Field 'data.attributes.email' must be an email address");
    if (data && jx.failed) {
        reply_jx(call, &jx);
    } else if (data && load_user_or_reply(call, &u) == KH_OK) {
        if (!may_manage_or_reply(call, &u)) {
            int was_disabled = u.disabled;
            if (email)
                api_set_email(&u.email, email);
            if (name) {
                free(u.name);
                u.name = xstrdup(name);
            }
            u.modified_at = call->now;
            int rc;
            if (disabled_field && disabled && !was_disabled) {
                rc = lifecycle_disable_user(call->env->store, &u, call->now, call->who.user_id);
            } else if (disabled_field && !disabled && was_disabled && may_enable_or_reply(call, &u)) {
                rc = -1; /* answered */
            } else {
                if (disabled_field)
                    u.disabled = disabled;
                rc = store_user_update(call->env->store, &u);
            }
            if (rc > 0) {
                reply_user_write_error(call, rc, u.email);
            } else if (rc == 0) {
                api_audit(call, u.disabled ? "disabled" : was_disabled ? "enabled" : "updated", "user", u.id);
                reply_user(call, 200, &u);
            }
        }
        store_user_clear(&u);
    }
    json_decref(root);
}

void users_disable(struct api_call *call)
{
    struct store_user u;
    if (require_any_perm_or_reply(call, PERM_USER_ACCESS_MANAGE, PERM_SERVICE_ACCOUNT_WRITE) ||
        load_user_or_reply(call, &u))
        return;
    if (u.disabled) {
        /* Datadog answers a repeated disable as it answers an unknown user. */
        reply_error(call, 404, "%s not found", u.id);
    } else if (!may_manage_or_reply(call, &u)) {
        int rc = lifecycle_disable_user(call->env->store, &u, call->now, call->who.user_id);
        if (rc) {
            reply_store_error(call, rc);
        } else {
            api_audit(call, "disabled", "user", u.id);
            reply_empty(call, 204);
        }
    }
    store_user_clear(&u);
}

/* GET /api/v2/users/{id}/permissions: the union of the user's roles'
 * permissions, in the catalogue's order. */
void users_permissions_list(struct api_call *call)
{
    struct store_user u;
    struct permset held;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_READ) || load_user_or_reply(call, &u))
        return;
    int rc = auth_user_permset(call->env->store, u.id, &held);
    store_user_clear(&u);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < perm_count(); i++)
        if (permset_has(&held, (int)i))
            json_array_append_new(data, render_permission(i));
    reply_json(call, 200, json_pack("{s:o}", "data", data));
}

/* An Organization object. keyhold orgs have a name and a creation time;
 * the rest is what Datadog answers for an org with no description, sharing
 * or public page. */
static json_t *render_org(const struct store_org *o)
{
    return json_pack("{s:s,s:s,s:{s:o,s:s,s:b,s:o,s:s,s:s,s:s,s:s}}", "id", o->id, "type", "orgs", "attributes",
                     "created_at", render_iso_time(o->created_at), "description", "", "disabled", 0, "modified_at",
                     render_iso_time(o->created_at), "name", o->name, "public_id", o->id, "sharing", "", "url", "");
}

/* GET /api/v2/users/{id}/orgs: the user, with the orgs it belongs to (a
 * keyhold user belongs to exactly one) in `included`. Datadog leaves it open
 * (x-permission OPEN): every caller reads its own; another user's needs what
 * reading that user needs, user_access_read, which scopes can leave out. */
void users_orgs_list(struct api_call *call)
{
    struct store_user u;
    struct store_org org;
    if ((strcmp(call->params[0], call->who.user_id) != 0 && require_perm_or_reply(call, PERM_USER_ACCESS_READ)) ||
        load_user_or_reply(call, &u))
        return;
    int rc = store_org_get(call->env->store, u.org_id, &org);
    if (rc) {
        reply_store_error(call, rc);
    } else {
        reply_json(call, 200, json_pack("{s:o,s:[o]}", "data", render_user(call->env->store, &u), "included",
                                        render_org(&org)));
    }
    store_org_clear(&org);
    store_user_clear(&u);
}
