/* service_accounts.c - POST /api/v2/service_accounts. A service account is a
 * user with service_account=true (it is read, updated and disabled through
 * /api/v2/users/{id}); it owns service access tokens and application keys. */
#include "api/internal.h"

#include "util/log.h"
#include "util/uuid.h"
#include "util/xmalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>


/* Reads relationships.roles.data[] into ids; each role must exist in the
 * caller's org and grant nothing the caller's effective permissions lack,
 * unless the caller holds user_access_manage (auth/authz.h). Answers and
 * returns -1 on failure. */
int roles_or_reply(struct api_call *call, struct jx *jx, json_t *data, char ids[][UUID_STR], size_t *n)
{
    *n = 0;
    json_t *rel = jx_obj(jx, data, "data", "relationships", 0);
    json_t *roles = jx_obj(jx, rel, "data.relationships", "roles", 0);
    json_t *arr = jx_arr(jx, roles, "data.relationships.roles", "data", 0);
    if (!jx->failed && arr && json_array_size(arr) > API_MAX_ROLES)
        jx_fail(jx, "Field 'data.relationships.roles.data' may list at most %d roles", API_MAX_ROLES);
    if (jx->failed) {
        reply_jx(call, jx);
        return -1;
    }
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        char path[64], what[96];
        snprintf(path, sizeof path, "data.relationships.roles.data[%zu]", i);
        if (!json_is_object(item))
            jx_fail(jx, "Field '%s' must be an object", path);
        jx_type(jx, item, path, "roles");
        const char *id = jx_str(jx, item, path, "id", 1, 1, KH_MAX_ID_LEN);
        if (jx->failed) {
            reply_jx(call, jx);
            return -1;
        }
        struct store_role role = {0};
        struct permset grants;
        int rc = uuid_valid(id, strlen(id)) ? store_role_get(call->env->store, call->who.org_id, id, &role)
                                             : KH_ENOTFOUND;
        store_role_clear(&role);
        if (!rc)
            rc = authz_role_perms(call->env->store, id, &grants);
        if (rc == KH_ENOTFOUND)
            reply_error(call, 400, "Role %.64s not found", id);
        else if (rc)
            reply_store_error(call, rc);
        snprintf(what, sizeof what, "role %s", id);
        if (rc || grant_or_reply(call, &grants, what))
            return -1;
        memcpy(ids[(*n)++], id, UUID_STR);
    }
    return 0;
}

int service_account_or_reply(struct api_call *call, const char *id, struct store_user *sa)
{
    int rc = uuid_valid(id, strlen(id)) ? store_user_get(call->env->store, call->who.org_id, id, sa) : KH_ENOTFOUND;
    if (!rc && (!sa->service_account || sa->disabled)) {
        store_user_clear(sa);
        rc = KH_ENOTFOUND;
    }
    if (rc)
        memset(sa, 0, sizeof *sa);
    if (rc == KH_ENOTFOUND)
        reply_error(call, 404, "Service account not found");
    else if (rc)
        reply_store_error(call, rc);
    return rc;
}

void api_set_email(char **email, const char *value)
{
    free(*email);
    *email = xstrdup(value);
    for (char *p = *email; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

void api_new_user(struct api_call *call, struct store_user *u, const char *email, const char *name, const char *title,
                  int service_account)
{
    memset(u, 0, sizeof *u);
    uuid_generate(u->id);
    memcpy(u->org_id, call->who.org_id, UUID_STR);
    api_set_email(&u->email, email);
    u->name = name ? xstrdup(name) : NULL;
    u->title = title ? xstrdup(title) : NULL;
    u->service_account = service_account;
    u->verified = service_account; /* a person made through the API is Pending until they join */
    u->created_at = u->modified_at = call->now;
}

int api_plausible_email(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@'))
        return 0;
    for (; *s; s++)
        if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
            return 0;
    return 1;
}

int api_insert_user_with_roles(struct store *st, const struct store_user *u, char roles[][UUID_STR], size_t n)
{
    int rc = store_begin(st);
    if (rc)
        return rc;
    rc = store_user_insert(st, u);
    for (size_t i = 0; !rc && i < n; i++)
        rc = store_user_role_add(st, u->id, roles[i]);
    return store_end(st, rc);
}

void reply_user_write_error(struct api_call *call, int rc, const char *email)
{
    if (rc == KH_ECONFLICT)
        reply_error(call, 409, "A user with the email %s already exists in this org", email);
    else
        reply_store_error(call, rc);
}

void service_accounts_create(struct api_call *call)
{
    struct jx jx = {0};
    char roles[API_MAX_ROLES][UUID_STR];
    size_t n_roles = 0;
    if (require_perm_or_reply(call, PERM_SERVICE_ACCOUNT_WRITE))
        return;
    json_t *root = body_or_reply(call, &jx);
    if (!root)
        return;
    json_t *data = jx_obj(&jx, root, "", "data", 1);
    jx_type(&jx, data, "data", "users");
    json_t *attrs = jx_obj(&jx, data, "data", "attributes", 1);
    const char *email = jx_str(&jx, attrs, "data.attributes", "email", 1, 1, API_MAX_EMAIL_LEN);
    const char *name = jx_str(&jx, attrs, "data.attributes", "name", 0, 0, KH_MAX_NAME_LEN);
    const char *title = jx_str(&jx, attrs, "data.attributes", "title", 0, 0, KH_MAX_NAME_LEN);
    if (!jx.failed && !json_is_boolean(json_object_get(attrs, "service_account")))
        jx_fail(&jx, json_object_get(attrs, "service_account") ? "Field 'data.attributes.service_account' must be a boolean"
                                                               : "Missing required field 'data.attributes.service_account'");
    if (!jx.failed && !json_is_true(json_object_get(attrs, "service_account")))
        jx_fail(&jx, "Field 'data.attributes.service_account' must be true");
    if (!jx.failed && !api_plausible_email(email))
        jx_fail(&jx, "Field 'data.attributes.email' must be an email address");
    if (jx.failed) {
        reply_jx(call, &jx);
    } else if (roles_or_reply(call, &jx, data, roles, &n_roles) == 0) {
        struct store_user u;
        api_new_user(call, &u, email, name, title, 1);
        int rc = api_insert_user_with_roles(call->env->store, &u, roles, n_roles);
        if (rc) {
            reply_user_write_error(call, rc, u.email);
        } else {
            api_audit(call, "created", "service_account", u.id);
            reply_json(call, 201, json_pack("{s:o}", "data", render_user(call->env->store, &u)));
        }
        store_user_clear(&u);
    }
    json_decref(root);
}
