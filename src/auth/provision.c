/* provision.c - org and user creation for the CLI (see provision.h). */
#include "auth/provision.h"

#include "auth/permissions.h"
#include "util/clock.h"
#include "util/secret.h"
#include "util/xmalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static char *lower_dup(const char *s)
{
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

/* Inserts a user with its own role holding `perms` and an application key. */
static int add_user(struct store *st, const struct server_secret *s, const char *org_id, const char *email,
                    const char *role_name, const char *const *perms, size_t n, struct provisioned *out)
{
    int64_t now = clock_now_us();
    struct store_user u = {0};
    struct store_role r = {0};
    struct store_app_key k = {0};
    uuid_generate(u.id);
    memcpy(u.org_id, org_id, UUID_STR);
    u.email = lower_dup(email);
    u.created_at = u.modified_at = now;
    uuid_generate(r.id);
    memcpy(r.org_id, org_id, UUID_STR);
    r.name = role_name ? xstrdup(role_name) : xasprintf("Role of %s (%s)", u.email, u.id);
    r.created_at = r.modified_at = now;
    int rc = store_user_insert(st, &u);
    if (!rc)
        rc = store_role_insert(st, &r);
    for (size_t i = 0; !rc && i < n; i++)
        rc = store_role_permission_add(st, r.id, perms[i]);
    if (!rc)
        rc = store_user_role_add(st, u.id, r.id);
    if (!rc) {
        uuid_generate(k.id);
        memcpy(k.org_id, org_id, UUID_STR);
        memcpy(k.owner_id, u.id, UUID_STR);
        k.name = xstrdup("keyhold bootstrap key");
        k.created_at = now;
        rc = cred_app_key_create(st, s, &k, out->app_key);
    }
    if (!rc)
        memcpy(out->user_id, u.id, UUID_STR);
    store_user_clear(&u);
    store_role_clear(&r);
    store_app_key_clear(&k);
    return rc;
}

/* Runs the transaction's outcome: commit on success, rollback otherwise. */
static int finish(struct store *st, int rc, struct provisioned *out)
{
    rc = store_end(st, rc);
    if (rc)
        provisioned_wipe(out);
    return rc;
}

int provision_org(struct store *st, const struct server_secret *s, const char *org_name, const char *admin_email,
                  struct provisioned *out)
{
    const char **all = xcalloc(perm_count(), sizeof *all);
    struct store_org org = {0};
    struct store_api_key key = {0};
    int64_t now = clock_now_us();
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < perm_count(); i++)
        all[i] = perm_get(i)->name;
    int rc = store_begin(st);
    if (rc) {
        free(all);
        return rc;
    }
    uuid_generate(org.id);
    org.name = xstrdup(org_name);
    org.created_at = now;
    rc = store_org_insert(st, &org);
    if (!rc)
        rc = add_user(st, s, org.id, admin_email, "Datadog Admin Role", all, perm_count(), out);
    if (!rc) {
        uuid_generate(key.id);
        memcpy(key.org_id, org.id, UUID_STR);
        key.name = xstrdup("keyhold bootstrap key");
        key.category = xstrdup("default");
        key.remote_config_read_enabled = 1;
        memcpy(key.created_by, out->user_id, UUID_STR);
        memcpy(key.modified_by, out->user_id, UUID_STR);
        key.created_at = key.modified_at = now;
        rc = cred_api_key_create(st, s, &key, out->api_key);
    }
    if (!rc)
        memcpy(out->org_id, org.id, UUID_STR);
    store_org_clear(&org);
    store_api_key_clear(&key);
    free(all);
    return finish(st, rc, out);
}

int provision_user(struct store *st, const struct server_secret *s, const char *org_id, const char *email,
                   const char *const *permissions, size_t n_permissions, struct provisioned *out, const char **bad)
{
    struct store_org org;
    memset(out, 0, sizeof *out);
    *bad = NULL;
    for (size_t i = 0; i < n_permissions; i++) {
        if (perm_find(permissions[i]) < 0) {
            *bad = permissions[i];
            return KH_EINVAL;
        }
    }
    int rc = store_org_get(st, org_id, &org);
    store_org_clear(&org);
    if (rc)
        return rc;
    rc = store_begin(st);
    if (rc)
        return rc;
    rc = add_user(st, s, org_id, email, NULL, permissions, n_permissions, out);
    if (!rc)
        memcpy(out->org_id, org_id, UUID_STR);
    return finish(st, rc, out);
}

void provisioned_wipe(struct provisioned *p)
{
    secret_wipe(p->api_key, sizeof p->api_key);
    secret_wipe(p->app_key, sizeof p->app_key);
}
