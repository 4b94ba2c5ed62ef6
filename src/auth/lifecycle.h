/* lifecycle.h - the changes of a user's standing that take its credentials
 * with them, shared by the API handlers (api/users.c) and the shell
 * (`keyhold user disable`), so that both take away exactly the same. */
#ifndef KH_LIFECYCLE_H
#define KH_LIFECYCLE_H

#include "store/store.h"

/* The reason the history gives for credentials ended with their owner. */
#define LIFECYCLE_OWNER_DISABLED "owner disabled"

/* Disables u (u->disabled and u->modified_at are set here) and, in the same
 * transaction, deletes its application keys and revokes its tokens: its
 * credentials stop working at once. `by` is who did it, as the audit trail
 * names the actor (kept in the history of each credential). Returns the
 * store's code; on failure nothing was written. */
int lifecycle_disable_user(struct store *st, struct store_user *u, int64_t now, const char *by);

#endif
