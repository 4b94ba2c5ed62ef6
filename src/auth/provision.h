/* provision.h - creating orgs and users with their first credentials, as
 * `keyhold init`, `keyhold org add` and `keyhold user add` do. Each call is
 * one store transaction: it happens entirely or not at all. */
#ifndef KH_PROVISION_H
#define KH_PROVISION_H

#include "auth/credentials.h"
#include "store/store.h"

struct provisioned {
    char org_id[UUID_STR];
    char user_id[UUID_STR];
    char api_key[API_KEY_VALUE_LEN + 1]; /* "" when none was made */
    char app_key[APP_KEY_VALUE_LEN + 1];
};

/* A new org with an admin user whose role holds every permission, one API
 * key and one application key for that admin. */
int provision_org(struct store *st, const struct server_secret *s, const char *org_name, const char *admin_email,
                  struct provisioned *out);
/* A new user of org_id whose own role holds exactly the named permissions
 * (each must be known: KH_EINVAL names the first unknown one in *bad), with
 * one application key. */
int provision_user(struct store *st, const struct server_secret *s, const char *org_id, const char *email,
                   const char *const *permissions, size_t n_permissions, struct provisioned *out, const char **bad);
/* Wipes the key values. */
void provisioned_wipe(struct provisioned *p);

#endif
