/* lifecycle.h - the changes of a user's standing that take its credentials
 * with them, shared by the API handlers (api/users.c) and the shell
 * (`keyhold user disable`), so that both take away exactly the same. */
#ifndef KH_LIFECYCLE_H
#define KH_LIFECYCLE_H

#include "store/store.h"

/* Disables u (u->disabled and u->modified_at are set here) and, in the same
 * transaction, deletes its application keys and revokes its tokens: its
 * credentials stop working at once. Returns the store's code; on failure
 * nothing was written. */
int lifecycle_disable_user(struct store *st, struct store_user *u, int64_t now);

#endif
