/* authz.c - the effective-permission rule (see authz.h). */
#include "auth/authz.h"

#include <jansson.h>
#include <stdlib.h>

int authz_credential_perms(struct store *st, const char *owner_id, const char *scopes, struct permset *out)
{
    struct permset narrowed;
    int rc = auth_user_permset(st, owner_id, out);
    if (!rc && scopes) {
        rc = auth_scopes_to_permset(scopes, &narrowed);
        permset_intersect(out, &narrowed);
    }
    if (rc)
        permset_clear(out);
    return rc;
}

void authz_history_visibility(const struct principal *caller, struct store_history_query *q)
{
    const struct permset *p = &caller->perms;
    q->any_kinds = q->own_kinds = q->sa_kinds = 0;
    if (permset_has(p, PERM_API_KEYS_READ))
        q->any_kinds |= STORE_CRED_BIT(STORE_CRED_API_KEY);
    if (permset_has(p, PERM_ORG_APP_KEYS_READ))
        q->any_kinds |= STORE_CRED_BIT(STORE_CRED_APP_KEY) | STORE_CRED_BIT(STORE_CRED_PAT);
    if (permset_has(p, PERM_USER_APP_KEYS))
        q->own_kinds |= STORE_CRED_BIT(STORE_CRED_APP_KEY) | STORE_CRED_BIT(STORE_CRED_PAT);
    if (permset_has(p, PERM_SERVICE_ACCOUNT_WRITE)) {
        q->any_kinds |= STORE_CRED_BIT(STORE_CRED_SAT);
        q->sa_kinds |= STORE_CRED_BIT(STORE_CRED_APP_KEY);
    }
    q->own_id = caller->user_id;
}

int authz_role_perms(struct store *st, const char *role_id, struct permset *out)
{
    struct store_strlist names;
    permset_clear(out);
    int rc = store_role_permissions(st, role_id, &names);
    for (size_t i = 0; !rc && i < names.n; i++) {
        int idx = perm_find(names.items[i]);
        if (idx >= 0 && idx < PERM_CATALOG_COUNT)
            permset_add(out, idx);
    }
    store_strlist_free(&names);
    return rc;
}

int authz_first_excess(const struct principal *caller, const struct permset *target)
{
    return permset_first_missing(target, &caller->perms);
}

int authz_may_grant(const struct principal *caller, const struct permset *target)
{
    return permset_has(&caller->perms, PERM_USER_ACCESS_MANAGE) || authz_first_excess(caller, target) < 0;
}

int authz_may_reveal(const struct principal *caller, const struct permset *target)
{
    return authz_first_excess(caller, target) < 0;
}

char *authz_inherited_scopes(const struct principal *caller)
{
    if (!caller->scoped)
        return NULL;
    json_t *arr = json_array();
    for (int i = 0; i < PERM_LIMIT; i++)
        if (permset_has(&caller->scopes, i))
            json_array_append_new(arr, json_string(perm_name(i)));
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return text;
}
