/* reset.c - POST /api/v2/keyhold/reset, test mode's clean slate between
 * tests: everything but the store's first org, its admin and their API and
 * application key is deleted, and the managed roles get their permissions
 * back (provision_reset). Routed only when the server runs with
 * --test-mode (or --ephemeral); anywhere else the path does not exist. */
#include "api/internal.h"

#include "auth/provision.h"

#include <string.h>

void keyhold_reset(struct api_call *call)
{
    char first[UUID_STR];
    struct permset admin;
    int rc = provision_first_org(call->env->store, first);
    if (rc == KH_ENOTFOUND) {
        reply_error(call, 409, "This store does not record its first org (it was made by an older keyhold); "
                               "reset works on stores made by keyhold init or serve --ephemeral");
        return;
    }
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    /* It deletes other orgs too: only the first org's admin, with a
     * credential holding every permission, may. */
    managed_role_permset(MANAGED_ADMIN, &admin);
    if (strcmp(first, call->who.org_id) != 0 || !permset_subset(&admin, &call->who.perms)) {
        reply_error(call, 403, "Forbidden: reset needs the first org's admin with an unscoped credential");
        return;
    }
    rc = provision_reset(call->env->store);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    api_audit(call, "reset", "store", NULL);
    reply_empty(call, 204);
}
