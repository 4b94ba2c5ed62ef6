/* provision.c - org and user creation, managed roles and the test-mode
 * reset (see provision.h). */
#include "auth/provision.h"

#include "auth/permissions.h"
#include "util/clock.h"
#include "util/secret.h"
#include "util/xmalloc.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Store-wide facts kept in the meta table. */
#define META_INITIALIZED "initialized"
#define META_CATALOG "permission_catalog" /* fingerprint of the catalogue the managed roles follow */
static const char *const meta_first[4] = {"first_org", "first_user", "first_api_key", "first_app_key"};

static char *lower_dup(const char *s)
{
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

/* FNV-1a over every name and id of the catalogue, with its size: changes
 * whenever a keyhold carrying another catalogue opens the store. */
static void catalog_fingerprint(char out[40])
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < perm_count(); i++) {
        const struct permission *p = perm_get(i);
        for (const char *f = p->name; *f; f++)
            h = (h ^ (unsigned char)*f) * 1099511628211ULL;
        for (const char *f = p->id; *f; f++)
            h = (h ^ (unsigned char)*f) * 1099511628211ULL;
    }
    snprintf(out, 40, "%zu:%016llx", perm_count(), (unsigned long long)h);
}

/* The role of org_id named exactly `name`, or KH_ENOTFOUND. */
static int role_by_name(struct store *st, const char *org_id, const char *name, struct store_role *out)
{
    struct store_role_query q = {.org_id = org_id, .name = name, .page = {.limit = 1}};
    struct store_role_list list;
    memset(out, 0, sizeof *out);
    int rc = store_role_list(st, &q, &list);
    if (!rc && list.n == 0)
        rc = KH_ENOTFOUND;
    if (!rc) {
        *out = list.items[0];
        memset(&list.items[0], 0, sizeof list.items[0]);
    }
    store_role_list_free(&list);
    return rc;
}

int provision_set_role_permissions(struct store *st, const char *role_id, const struct permset *want,
                                   struct permset *added)
{
    struct store_strlist have_names;
    struct permset have;
    permset_clear(&have);
    if (added)
        permset_clear(added);
    int rc = store_role_permissions(st, role_id, &have_names);
    for (size_t i = 0; !rc && i < have_names.n; i++) {
        int idx = perm_find(have_names.items[i]);
        if (idx >= 0 && idx < PERM_CATALOG_COUNT && permset_has(want, idx))
            permset_add(&have, idx);
        else /* not wanted, or a name the catalogue no longer has */
            rc = store_role_permission_remove(st, role_id, have_names.items[i]);
    }
    store_strlist_free(&have_names);
    for (int i = 0; !rc && i < PERM_CATALOG_COUNT; i++) {
        if (permset_has(want, i) && !permset_has(&have, i)) {
            rc = store_role_permission_add(st, role_id, perm_get((size_t)i)->name);
            if (added)
                permset_add(added, i);
        }
    }
    return rc;
}

/* Non-zero when a role's receives_permissions_from text names `managed`. */
static int receives_from(const char *receives, const char *managed)
{
    json_t *arr = receives ? json_loads(receives, 0, NULL) : NULL;
    size_t i;
    json_t *v;
    int found = 0;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), managed) == 0)
            found = 1;
    }
    json_decref(arr);
    return found;
}

/* Grants `gained` to every role of org_id that receives new permissions
 * from the managed role `managed`. */
static int pass_on(struct store *st, const char *org_id, const char *managed, const struct permset *gained)
{
    struct store_role_query q = {.org_id = org_id, .page = {.limit = 100}};
    struct store_role_list list;
    int rc = KH_OK;
    for (int64_t offset = 0; !rc; offset += q.page.limit) {
        q.page.offset = offset;
        if ((rc = store_role_list(st, &q, &list)))
            break;
        for (size_t i = 0; !rc && i < list.n; i++) {
            if (list.items[i].managed || !receives_from(list.items[i].receives, managed))
                continue;
            for (int k = 0; !rc && k < PERM_CATALOG_COUNT; k++)
                if (permset_has(gained, k))
                    rc = store_role_permission_add(st, list.items[i].id, perm_get((size_t)k)->name);
        }
        int last = list.n < (size_t)q.page.limit;
        store_role_list_free(&list);
        if (last)
            break;
    }
    return rc;
}

/* Gives each managed role of org_id its catalogue permissions, making the
 * missing ones (a role of that name that is not managed is a custom role of
 * an old store: left alone). ids[r] is the role's id, "" when there is none. */
static int ensure_managed_roles(struct store *st, const char *org_id, int64_t now, char ids[MANAGED_COUNT][UUID_STR])
{
    int rc = KH_OK;
    for (int r = 0; !rc && r < MANAGED_COUNT; r++) {
        struct store_role role;
        struct permset want, gained;
        ids[r][0] = '\0';
        rc = role_by_name(st, org_id, managed_role_name(r), &role);
        if (rc == KH_ENOTFOUND) {
            uuid_generate(role.id);
            memcpy(role.org_id, org_id, UUID_STR);
            role.name = xstrdup(managed_role_name(r));
            role.managed = 1;
            role.created_at = role.modified_at = now;
            rc = store_role_insert(st, &role);
        }
        if (!rc && role.managed) {
            memcpy(ids[r], role.id, UUID_STR);
            managed_role_permset(r, &want);
            rc = provision_set_role_permissions(st, role.id, &want, &gained);
            if (!rc)
                rc = pass_on(st, org_id, role.name, &gained);
        }
        store_role_clear(&role);
    }
    return rc;
}

/* What made a provisioned key, for its name. */
static const char *maker(const char *made_by)
{
    return made_by ? made_by : "keyhold";
}

/* Inserts a user holding role_id, or (role_id NULL) a role of its own with
 * `perms`, and an application key (value given or generated) named
 * key_name. */
static int add_user(struct store *st, const struct server_secret *s, const char *org_id, const char *email,
                    const char *role_id, const char *const *perms, size_t n, const char *app_key,
                    const char *key_name, struct provisioned *out)
{
    int64_t now = clock_now_us();
    struct store_user u = {0};
    struct store_role r = {0};
    struct store_app_key k = {0};
    uuid_generate(u.id);
    memcpy(u.org_id, org_id, UUID_STR);
    u.email = lower_dup(email);
    u.verified = 1;
    u.created_at = u.modified_at = now;
    int rc = store_user_insert(st, &u);
    if (!rc && !role_id) {
        uuid_generate(r.id);
        memcpy(r.org_id, org_id, UUID_STR);
        r.name = xasprintf("Role of %s (%s)", u.email, u.id);
        r.created_at = r.modified_at = now;
        rc = store_role_insert(st, &r);
        for (size_t i = 0; !rc && i < n; i++)
            rc = store_role_permission_add(st, r.id, perms[i]);
        role_id = r.id;
    }
    if (!rc)
        rc = store_user_role_add(st, u.id, role_id);
    if (!rc) {
        uuid_generate(k.id);
        memcpy(k.org_id, org_id, UUID_STR);
        memcpy(k.owner_id, u.id, UUID_STR);
        k.name = xstrdup(key_name);
        k.created_at = now;
        if (app_key) {
            rc = cred_app_key_store(st, s, &k, app_key);
            snprintf(out->app_key, sizeof out->app_key, "%s", app_key);
        } else {
            rc = cred_app_key_create(st, s, &k, out->app_key);
        }
    }
    if (!rc) {
        memcpy(out->user_id, u.id, UUID_STR);
        memcpy(out->app_key_id, k.id, UUID_STR);
    }
    store_user_clear(&u);
    store_role_clear(&r);
    store_app_key_clear(&k);
    return rc;
}

/* Ends the transaction: commit on success, rollback otherwise. */
static int finish(struct store *st, int rc, struct provisioned *out)
{
    rc = store_end(st, rc);
    if (rc)
        provisioned_wipe(out);
    return rc;
}

static int add_api_key(struct store *st, const struct server_secret *s, const struct org_spec *spec,
                       struct provisioned *out)
{
    struct store_api_key key = {0};
    int rc;
    uuid_generate(key.id);
    memcpy(key.org_id, out->org_id, UUID_STR);
    key.name = xasprintf("org API key made by %s", maker(spec->made_by));
    key.category = xstrdup("default");
    key.remote_config_read_enabled = 1;
    memcpy(key.created_by, out->user_id, UUID_STR);
    memcpy(key.modified_by, out->user_id, UUID_STR);
    key.created_at = key.modified_at = clock_now_us();
    if (spec->api_key) {
        rc = cred_api_key_store(st, s, &key, spec->api_key);
        snprintf(out->api_key, sizeof out->api_key, "%s", spec->api_key);
    } else {
        rc = cred_api_key_create(st, s, &key, out->api_key);
    }
    if (!rc)
        memcpy(out->api_key_id, key.id, UUID_STR);
    store_api_key_clear(&key);
    return rc;
}

/* Records the store's first org, its admin and keys (what reset keeps). */
static int mark_first(struct store *st, const struct provisioned *p)
{
    const char *ids[4] = {p->org_id, p->user_id, p->api_key_id, p->app_key_id};
    int rc = store_meta_set(st, META_INITIALIZED, "1");
    for (int i = 0; !rc && i < 4; i++)
        rc = store_meta_set(st, meta_first[i], ids[i]);
    if (!rc) {
        char fp[40];
        catalog_fingerprint(fp);
        rc = store_meta_set(st, META_CATALOG, fp);
    }
    return rc;
}

int provision_org(struct store *st, const struct server_secret *s, const struct org_spec *spec,
                  struct provisioned *out)
{
    struct store_org org = {0};
    char roles[MANAGED_COUNT][UUID_STR];
    int64_t now = clock_now_us();
    memset(out, 0, sizeof *out);
    int rc = store_begin(st);
    if (rc)
        return rc;
    uuid_generate(org.id);
    org.name = xstrdup(spec->name);
    org.created_at = now;
    memcpy(out->org_id, org.id, UUID_STR);
    rc = store_org_insert(st, &org);
    if (!rc)
        rc = ensure_managed_roles(st, org.id, now, roles);
    char *key_name = xasprintf("admin application key made by %s", maker(spec->made_by));
    if (!rc)
        rc = add_user(st, s, org.id, spec->admin_email, roles[MANAGED_ADMIN], NULL, 0, spec->app_key, key_name, out);
    free(key_name);
    if (!rc)
        rc = add_api_key(st, s, spec, out);
    if (!rc && spec->first)
        rc = mark_first(st, out);
    store_org_clear(&org);
    return finish(st, rc, out);
}

int provision_user(struct store *st, const struct server_secret *s, const char *org_id, const char *email,
                   const char *role_name, const char *const *permissions, size_t n_permissions,
                   struct provisioned *out, const char **bad, const char *made_by)
{
    struct store_org org;
    struct store_role role = {0};
    memset(out, 0, sizeof *out);
    *bad = NULL;
    for (size_t i = 0; !role_name && i < n_permissions; i++) {
        int idx = perm_find(permissions[i]);
        if (idx < 0 || idx >= PERM_CATALOG_COUNT) {
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
    if (role_name && (rc = role_by_name(st, org_id, role_name, &role)) == KH_OK && !role.managed &&
        managed_role_find(role_name) >= 0)
        rc = KH_ENOTFOUND; /* a custom role of an old store bearing a managed role's name is not it */
    if (rc == KH_ENOTFOUND)
        *bad = role_name;
    char *key_name = xasprintf("application key made by %s", maker(made_by));
    if (!rc)
        rc = add_user(st, s, org_id, email, role_name ? role.id : NULL, permissions, n_permissions, NULL, key_name,
                      out);
    free(key_name);
    if (!rc)
        memcpy(out->org_id, org_id, UUID_STR);
    store_role_clear(&role);
    return finish(st, rc, out);
}

int provision_sync_catalog(struct store *st)
{
    char fp[40], *have = NULL;
    struct store_strlist orgs = {0};
    catalog_fingerprint(fp);
    int rc = store_meta_get(st, META_CATALOG, &have);
    int current = !rc && strcmp(have, fp) == 0;
    free(have);
    if (current)
        return KH_OK;
    if (rc && rc != KH_ENOTFOUND)
        return rc;
    rc = store_begin(st);
    if (rc)
        return rc;
    rc = store_org_ids(st, &orgs);
    for (size_t i = 0; !rc && i < orgs.n; i++) {
        char ids[MANAGED_COUNT][UUID_STR];
        rc = ensure_managed_roles(st, orgs.items[i], clock_now_us(), ids);
    }
    if (!rc)
        rc = store_meta_set(st, META_CATALOG, fp);
    store_strlist_free(&orgs);
    return store_end(st, rc);
}

/* Reads the ids mark_first() recorded. */
static int read_first(struct store *st, struct store_keep *keep)
{
    char *out[4] = {keep->org_id, keep->user_id, keep->api_key_id, keep->app_key_id};
    int rc = KH_OK;
    memset(keep, 0, sizeof *keep);
    for (int i = 0; !rc && i < 4; i++) {
        char *v = NULL;
        rc = store_meta_get(st, meta_first[i], &v);
        if (!rc)
            snprintf(out[i], UUID_STR, "%s", v);
        free(v);
    }
    return rc;
}

int provision_first_org(struct store *st, char org_id[UUID_STR])
{
    struct store_keep keep;
    int rc = read_first(st, &keep);
    memcpy(org_id, rc ? "" : keep.org_id, rc ? 1 : UUID_STR);
    return rc;
}

int provision_reset(struct store *st)
{
    struct store_keep keep;
    struct store_user admin;
    char roles[MANAGED_COUNT][UUID_STR];
    int rc = read_first(st, &keep);
    if (!rc)
        rc = store_begin(st);
    if (rc)
        return rc;
    rc = store_reset(st, &keep);
    if (!rc)
        rc = ensure_managed_roles(st, keep.org_id, clock_now_us(), roles);
    if (!rc && (rc = store_user_get(st, keep.org_id, keep.user_id, &admin)) == KH_OK) {
        if (admin.disabled) {
            admin.disabled = 0;
            admin.modified_at = clock_now_us();
            rc = store_user_update(st, &admin);
        }
        if (!rc)
            rc = store_user_role_add(st, admin.id, roles[MANAGED_ADMIN]);
        store_user_clear(&admin);
    }
    return store_end(st, rc);
}

void provisioned_wipe(struct provisioned *p)
{
    secret_wipe(p->api_key, sizeof p->api_key);
    secret_wipe(p->app_key, sizeof p->app_key);
}
