/* provision.h - creating orgs and users with their first credentials, as
 * `keyhold init`, `keyhold org add`, `keyhold user add` and `keyhold serve
 * --ephemeral` do; keeping Datadog's managed roles in step with the
 * permission catalogue; and the clean slate of test mode. Each call is one
 * store transaction: it happens entirely or not at all. */
#ifndef KH_PROVISION_H
#define KH_PROVISION_H

#include "auth/credentials.h"
#include "auth/permissions.h"
#include "store/store.h"

struct provisioned {
    char org_id[UUID_STR];
    char user_id[UUID_STR];
    char api_key_id[UUID_STR];
    char app_key_id[UUID_STR];
    char api_key[API_KEY_VALUE_LEN + 1]; /* "" when none was made */
    char app_key[APP_KEY_VALUE_LEN + 1];
};

/* What an org is made with. Key values are generated unless given (they
 * must then pass cred_value_plausible). */
struct org_spec {
    const char *name;
    const char *admin_email;
    const char *api_key; /* or NULL */
    const char *app_key; /* or NULL */
    int first;           /* the store's first org: also marks the store initialised */
    const char *made_by; /* what made it ("keyhold init"), named in its keys' names; NULL: "keyhold" */
};

/* A new org with Datadog's three managed roles, an admin user holding the
 * Admin role, one API key and one application key for that admin. The keys
 * are named for what they are: "org API key made by keyhold init", "admin
 * application key made by keyhold init". */
int provision_org(struct store *st, const struct server_secret *s, const struct org_spec *spec,
                  struct provisioned *out);
/* A new user of org_id with one application key. Its role is either the
 * existing role named role_name (managed or custom), or, when role_name is
 * NULL, a role of its own holding exactly the named permissions (each must
 * be a catalogue name: KH_EINVAL names the first unknown one in *bad).
 * KH_ENOTFOUND when the org or the role does not exist (*bad = role_name
 * for the role). The key is named "application key made by <made_by>"
 * (made_by NULL: "keyhold"). */
int provision_user(struct store *st, const struct server_secret *s, const char *org_id, const char *email,
                   const char *role_name, const char *const *permissions, size_t n_permissions,
                   struct provisioned *out, const char **bad, const char *made_by);
/* Makes a role's permissions exactly the catalogue permissions in `want`;
 * *added (may be NULL) gets those it did not hold before. */
int provision_set_role_permissions(struct store *st, const char *role_id, const struct permset *want,
                                   struct permset *added);
/* Brings the managed roles of every org in step with the catalogue this
 * binary carries, when the store last followed another: makes the missing
 * ones (orgs made before keyhold knew them), sets their permissions, and
 * passes permissions they gained on to the roles that receive permissions
 * from them. Cheap when nothing changed. */
int provision_sync_catalog(struct store *st);
/* Test mode's clean slate: everything but the store's first org, its admin
 * and the API and application key made with it is deleted, the managed
 * roles get their permissions back and the admin its Admin role. */
int provision_reset(struct store *st);
/* The first org (test mode: who may reset). KH_ENOTFOUND on a store made
 * before it was recorded. */
int provision_first_org(struct store *st, char org_id[UUID_STR]);
/* Wipes the key values. */
void provisioned_wipe(struct provisioned *p);

#endif
