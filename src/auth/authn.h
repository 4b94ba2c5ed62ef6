/* authn.h - who is calling: turns the credentials of a request into a
 * principal (org, user, effective permissions).
 *
 * Accepted, in this order (docs/datadog.md, "Authentication headers"):
 *   Authorization: Bearer <PAT|SAT>
 *   DD-APPLICATION-KEY: <PAT|SAT>  (DD-API-KEY is then optional and ignored)
 *   DD-API-KEY + DD-APPLICATION-KEY (the application key names the user)
 * Effective permissions are the user's role permissions, narrowed to the
 * credential's scopes when it has them. Revoked or expired tokens and
 * disabled users are refused. Every secret comparison is constant-time. */
#ifndef KH_AUTHN_H
#define KH_AUTHN_H

#include "auth/permissions.h"
#include "store/store.h"

#include <stddef.h>

struct auth_input {
    const char *api_key;
    size_t api_key_len;
    const char *app_key;
    size_t app_key_len;
    const char *authorization;
    size_t authorization_len;
};

enum principal_kind { PRINCIPAL_KEYS = 1, PRINCIPAL_PAT, PRINCIPAL_SAT };

/* What was presented (for metrics and the log): set on every outcome. */
enum auth_cred { AUTH_CRED_NONE = 0, AUTH_CRED_API_KEY, AUTH_CRED_APP_KEY, AUTH_CRED_PAT, AUTH_CRED_SAT, AUTH_CRED_COUNT };

/* Why an authentication ended as it did. Told apart only for operators
 * (metrics, the log): a client is answered the same for every refusal.
 * Keys are found by a keyed hash of their whole value, so an unknown key
 * and a wrong one are both "unknown"; a token names its id, so a known token
 * with a wrong secret is "wrong_secret". OUT_OF_SCOPE is decided by the
 * caller (authz) after a successful authentication. */
enum auth_reason {
    AUTH_REASON_OK = 0,
    AUTH_REASON_MISSING,
    AUTH_REASON_UNKNOWN,
    AUTH_REASON_WRONG_SECRET,
    AUTH_REASON_REVOKED,
    AUTH_REASON_EXPIRED,
    AUTH_REASON_DISABLED,
    AUTH_REASON_OUT_OF_SCOPE,
    AUTH_REASON_COUNT
};
const char *auth_cred_name(enum auth_cred c);     /* "api_key", "app_key", "pat", "sat", "none" */
const char *auth_reason_name(enum auth_reason r); /* "ok", "unknown", "wrong_secret", ... */

struct principal {
    enum principal_kind kind;
    char org_id[UUID_STR];
    char user_id[UUID_STR];
    char credential_id[UUID_STR]; /* application key or token id */
    char api_key_id[UUID_STR];    /* "" for token callers */
    int service_account;
    struct permset perms;         /* effective permissions */
    int scoped;                   /* the credential has scopes (tokens always do) */
    struct permset scopes;        /* its scopes, when scoped */
    int64_t expires_at;           /* token expiry (or the end of the overlap its previous secret is in), 0 when none */
    /* Bits 1 << STORE_TOUCH_*: a credential of that kind presented with its
     * new value after a rotation: its use ends the previous one's overlap. */
    unsigned closes_overlap;
    int by_previous;              /* presented with a rotated credential's previous secret, within its overlap */
    int64_t accepted_until;       /* a key presented with its previous value: until its overlap ends, else 0 */
    int expired;                  /* on AUTH_INVALID: a right token past its expiry */
    enum auth_cred cred;          /* what was presented */
    enum auth_reason reason;      /* why it was accepted or refused */
};

/* Outcomes beyond KH_OK / store errors. */
enum {
    AUTH_MISSING = 100, /* no credentials were presented */
    AUTH_INVALID = 101, /* credentials presented but not valid */
};

struct usage_buffer;
struct auth_cache;

struct auth_env {
    struct store *store;
    const struct server_secret *secret;
    int64_t now;
    struct usage_buffer *usage; /* where successful uses are recorded; may be NULL */
    const char *source;         /* the client's address, for the audit trail; may be NULL */
    const char *user_agent;     /* the request's User-Agent bytes (for the usage of credentials); may be NULL */
    size_t user_agent_len;
    const char *route;          /* the route's template, a string that outlives the usage buffer; may be NULL */
    struct auth_cache *cache;   /* this thread's cache of outcomes (authcache.h); may be NULL */
};

/* Counts outcomes and cache use as metrics (util/metrics.h); before serving. */
void auth_metrics_register(void);
/* Counts an outcome decided above authentication (AUTH_REASON_OUT_OF_SCOPE). */
void auth_metrics_count(enum auth_cred cred, enum auth_reason reason);

/* Records that credential (kind, an enum store_touch_kind, and id) was
 * used now by who (for last_used_at, the first-use audit event, and its
 * usage: the request counted for its day, route and client). */
void auth_record_use(const struct auth_env *env, const struct principal *who, int kind, const char *id);

/* Authenticates a request. Returns KH_OK and fills *out, AUTH_MISSING,
 * AUTH_INVALID, or a store error (KH_ESTORE/KH_EBUSY). */
int auth_authenticate(const struct auth_env *env, const struct auth_input *in, struct principal *out);

/* Finds a live API key by its value; KH_OK, AUTH_INVALID or a store error.
 * Fills *out (caller clears). Never cached. */
int auth_find_api_key(const struct auth_env *env, const char *key, size_t len, struct store_api_key *out);

/* The API-key-only check of the validate endpoints, through the cache: on
 * KH_OK fills out->api_key_id and out->org_id and records the use. */
int auth_check_api_key(const struct auth_env *env, const char *key, size_t len, struct principal *out);

/* The permission set named by a JSON scopes array text; returns KH_EINVAL
 * for malformed text. NULL text = every permission (unscoped). */
int auth_scopes_to_permset(const char *scopes_json, struct permset *out);

/* Loads the role permissions of a user into *out. */
int auth_user_permset(struct store *st, const char *user_id, struct permset *out);

#endif
