/* authz.h - the effective-permission rule, in the one place every route that
 * makes, widens, re-enables or reveals a credential, or grants a role, asks
 * (docs/security.md, "The rule"):
 *
 *   A credential's effective permissions are its owner's role permissions
 *   (and the scopes every user holds), narrowed to its scopes when it has
 *   scopes. No operation may create, widen or re-enable a credential, or
 *   grant a role, whose effective permissions exceed the caller's, unless the
 *   caller holds user_access_manage (Datadog's Access Management: it manages
 *   who holds what, admin-equivalent by design). A key value or token secret
 *   is shown only to a caller whose effective permissions include every
 *   permission of that credential, with no exception.
 *
 * A scoped caller that makes a credential without naming scopes passes its
 * own scopes on: it cannot mint an unscoped one. */
#ifndef KH_AUTHZ_H
#define KH_AUTHZ_H

#include "auth/authn.h"

/* The effective permissions a credential of owner_id holds with `scopes`
 * (JSON array text; NULL = unscoped), were its owner enabled. */
int authz_credential_perms(struct store *st, const char *owner_id, const char *scopes, struct permset *out);

/* The permissions a role grants. */
int authz_role_perms(struct store *st, const char *role_id, struct permset *out);

/* Non-zero when caller may make, widen or re-enable a credential, or grant a
 * role, holding `target`. */
int authz_may_grant(const struct principal *caller, const struct permset *target);

/* Non-zero when caller may see the secret of a credential holding `target`. */
int authz_may_reveal(const struct principal *caller, const struct permset *target);

/* The lowest permission of target the caller lacks (for the refusal's
 * message), or -1. */
int authz_first_excess(const struct principal *caller, const struct permset *target);

/* Which ended credentials (the history, store_history_query) the caller
 * may see: those it could read live through Datadog's routes. API keys:
 * api_keys_read. Application keys: org_app_keys_read (any), user_app_keys
 * (its own), service_account_write (a service account's). PATs:
 * org_app_keys_read (any), user_app_keys (its own). SATs:
 * service_account_write. Sets q's any_kinds, own_kinds, sa_kinds and own_id
 * (borrowed from caller). */
void authz_history_visibility(const struct principal *caller, struct store_history_query *q);

/* The scopes a credential made by caller gets when the request names none:
 * NULL (unscoped) for an unscoped caller, else the caller's own scopes as a
 * JSON array (caller of this function frees). */
char *authz_inherited_scopes(const struct principal *caller);

#endif
