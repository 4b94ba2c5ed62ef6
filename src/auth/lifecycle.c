/* lifecycle.c - disabling a user with its credentials (see lifecycle.h). */
#include "auth/lifecycle.h"

int lifecycle_disable_user(struct store *st, struct store_user *u, int64_t now, const char *by)
{
    /* what the history says of each credential taken with the user */
    struct store_ending end = {.at = now, .by = by, .reason = LIFECYCLE_OWNER_DISABLED};
    int rc = store_begin(st);
    if (rc)
        return rc;
    u->disabled = 1;
    u->modified_at = now;
    rc = store_user_update(st, u);
    if (!rc)
        rc = store_app_key_delete_owned(st, u->id, &end);
    if (!rc)
        rc = store_token_revoke_owned(st, u->id, &end);
    return store_end(st, rc);
}
