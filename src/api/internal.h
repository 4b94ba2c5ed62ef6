/* internal.h - what the handler files share: the per-call context, the reply
 * helpers (reply.c) and the handler declarations (one family per file).
 *
 * Names: what this header exports starts with api_, or with the name of the
 * family it belongs to: reply_ (answers, reply.c), render_ (JSON objects,
 * render.c), query_ (query.h), and the *_or_reply readers and checks below.
 * Handlers are <resource>_<verb> (docs/internals/layout.md). */
#ifndef KH_API_INTERNAL_H
#define KH_API_INTERNAL_H

#include "api/api.h"
#include "api/query.h"
#include "api/ratelimit.h"
#include "auth/authz.h"
#include "json/jsonw.h"
#include "json/jsonx.h"

#include <jansson.h>

#define API_MAX_PARAMS 3

/* route flags */
#define ROUTE_AUTH 0x1         /* needs an authenticated principal */
#define ROUTE_VND 0x2          /* answers application/vnd.api+json (PAT/SAT endpoints) */
#define ROUTE_WRITE 0x4        /* may change state: one transaction, answered by the writer (api_request_writes) */
#define ROUTE_MISSING_401 0x8  /* no credentials at all: 401 instead of 403 */
#define ROUTE_TEST_MODE 0x10   /* exists only when the server runs in test mode */
#define ROUTE_SECRETS 0x20     /* a read whose answer may hold key values (API and application keys) */

struct api_call;
typedef void (*api_handler)(struct api_call *call);

struct route {
    const char *method;
    const char *pattern; /* "{}" stands for one path segment */
    api_handler handler;
    unsigned flags;
};

struct api_call {
    struct api_env *env;
    const struct api_request *req;
    struct api_response *res;
    const struct route *route;
    char params[API_MAX_PARAMS][KH_MAX_ID_LEN + 1];
    size_t n_params;
    struct query_string query;
    struct principal who; /* valid when route->flags & ROUTE_AUTH */
    int64_t now;
    uint64_t fingerprint; /* of the presented credentials, for api_auth_guard_or_reply */
    int audit_failed;     /* an audit event could not be written: the request fails */
};

/* ---- failed-authentication limits (router.c) ---- */
/* Refuses (429) a request from an address past its failed-authentication
 * limit, unless its credentials already succeeded from there (*_or_reply:
 * 0 = go on). */
int api_auth_guard_or_reply(struct api_call *call);
/* Authenticates the request's credentials into call->who as routes with
 * ROUTE_AUTH are (rate limits included), for a handler that accepts
 * callers without credentials too (leaks.c); answers and returns non-zero
 * when they are refused. */
int api_authenticate_or_reply(struct api_call *call);
/* Counts the outcome of an authentication (rc as auth_authenticate's) and
 * notes who (or what was refused, and why) for the access log. */
void api_auth_note(struct api_call *call, int rc, const struct principal *who);
/* What authenticating the call needs (auth/authn.h): the store, secret,
 * time and cache of the call, and where its uses are recorded with the
 * client's address, user agent and the route's template. */
void api_auth_env(const struct api_call *call, struct auth_env *env);

/* Records a credential event in the audit trail (and the log): action on
 * the target of kind by the caller, from its address. Never a secret. It is
 * written in the request's transaction: if it cannot be, the whole request
 * is rolled back and answered 503 (router.c, run_handler). */
void api_audit(struct api_call *call, const char *action, const char *kind, const char *target_id);
/* The same for an event a request that only reads causes (an expired token
 * presented, a burst of failed authentications): queued, one per action and
 * target per flush, for the writer (auth/usage.h). No event loop writes. */
void api_audit_later(struct api_call *call, const char *action, const char *kind, const char *target_id);

/* ---- replies (reply.c); each sets call->res completely ---- */
/* Steals body. */
void reply_json(struct api_call *call, int status, json_t *body);
/* The same for JSON text written without jansson (json/jsonw.h); steals text. */
void reply_json_text(struct api_call *call, int status, char *text);
void reply_error(struct api_call *call, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void reply_empty(struct api_call *call, int status);
/* 400 from a struct jx. */
void reply_jx(struct api_call *call, const struct jx *jx);
/* 503/500 for a store failure code. */
void reply_store_error(struct api_call *call, int rc);

/* ---- *_or_reply: read or check, or answer ----
 * A helper named *_or_reply either lets the handler go on or answers the
 * request itself (4xx, or 5xx for a store failure) so that the handler just
 * returns. One convention for all of them, in this header and in every
 * handler file:
 *   int helpers return 0 when the caller may go on, and non-zero (-1, or
 *   the store's KH_E* code when a store call failed) when they answered:
 *       if (require_perm_or_reply(call, PERM_X) || page_or_reply(call, ...))
 *           return;
 *   helpers that hand back a pointer return NULL when they answered.
 * Out-parameters are valid only when the helper returned 0 (or non-NULL). */

/* Answers 403 unless the principal holds `perm`. */
int require_perm_or_reply(struct api_call *call, int perm);
/* Same for "any of two" (x-permission OR). */
int require_any_perm_or_reply(struct api_call *call, int perm_a, int perm_b);
/* Non-zero when the principal holds `perm` (answers nothing). */
int api_has_perm(const struct api_call *call, int perm);
/* Parses the JSON body or answers 400; NULL when answered. */
json_t *body_or_reply(struct api_call *call, struct jx *jx);
/* page[size] (1..100, default 10) and page[number] (>= 0) or answers 400. */
int page_or_reply(struct api_call *call, int64_t *limit, int64_t *offset);

struct sort_option {
    const char *name;
    enum store_sort sort;
};
/* Reads `sort` (one of options' names, each optionally prefixed with '-');
 * absent = options[0] ascending. Answers 400 on anything else. */
int sort_or_reply(struct api_call *call, const struct sort_option *options, size_t n, enum store_sort *sort,
                  int *desc);
/* Reads an optional filter string (bounded) or answers 400; *out NULL when
 * absent or empty. */
int filter_or_reply(struct api_call *call, const char *key, const char **out);

/* Parses a JSON:API body {"data":{"type":type, ...}} or answers 400. Returns
 * the data object (borrowed from *root, which the caller decrefs) or NULL.
 * When id_status is non-zero, data.id is required and must equal path_id,
 * else the answer is id_status with id_msg (Datadog uses 400 or 422). */
json_t *data_or_reply(struct api_call *call, struct jx *jx, json_t **root, const char *type, const char *path_id,
                      int id_status, const char *id_msg);
/* 403 unless the effective-permission rule (auth/authz.h) lets the caller
 * make, widen or re-enable a credential, or grant a role, holding target;
 * `what` names it in the refusal ("application key", "role ..."). */
int grant_or_reply(struct api_call *call, const struct permset *target, const char *what);
/* Refuses (403) calls made with a PAT or SAT: such calls cannot create or
 * update application keys (docs/datadog.md, "Authentication headers"). */
int not_token_or_reply(struct api_call *call);
/* Loads the live service account `id` of the caller's org into *sa (caller
 * clears); answers 404 "Service account not found" (or a store error) and
 * returns non-zero otherwise. */
int service_account_or_reply(struct api_call *call, const char *id, struct store_user *sa);
#define API_MAX_ROLES 32
#define API_MAX_EMAIL_LEN 254
/* Reads data.relationships.roles.data[] into ids: each role must exist in the
 * caller's org and, unless the caller holds user_access_manage, be one of
 * the caller's own roles. Answers on failure. */
int roles_or_reply(struct api_call *call, struct jx *jx, json_t *data, char ids[][UUID_STR], size_t *n);
/* Inserts a user and its role memberships in one transaction. */
int api_insert_user_with_roles(struct store *st, const struct store_user *u, char roles[][UUID_STR], size_t n);
/* Answers a failed user insert or update: 409 when the email is another
 * user's of the org (as Datadog does), else the store error. */
void reply_user_write_error(struct api_call *call, int rc, const char *email);
int api_plausible_email(const char *s);
/* Fills *u as a new user of the caller's org (email lower-cased). */
void api_new_user(struct api_call *call, struct store_user *u, const char *email, const char *name, const char *title,
                  int service_account);
/* Replaces *email with a lower-cased copy of value. */
void api_set_email(char **email, const char *value);
/* Reads page[size]/page[number]/sort/filter of a user list into q, or answers. */
int user_query_or_reply(struct api_call *call, struct store_user_query *q);
/* Runs a user list query and answers UsersResponse. */
void reply_user_list(struct api_call *call, const struct store_user_query *q);

/* ---- shared renderers (render.c) ---- */
json_t *render_relationship(const char *type, const char *id);
json_t *render_iso_time(int64_t us);     /* key service format, null for 0 */
json_t *render_rfc3339(int64_t us, int trim); /* token service format, null for 0 */
json_t *render_user(struct store *st, const struct store_user *u);
/* render_iso_time() written into a streaming answer (json/jsonw.h). */
void render_write_iso_time(struct jsonw *w, int64_t us);
/* A Permission object of entry i of the catalogue or (from
 * PERM_CATALOG_COUNT) of the implicit scopes: Datadog's record. */
json_t *render_permission(size_t i);
/* A Role object: attributes (user_count when with_count) and its
 * permissions as relationships. */
json_t *render_role(struct store *st, const struct store_role *r, int with_count);
/* Append to a JSON:API `included` array, each object once: the user
 * user_id of org_id; the roles a user holds. */
void render_include_user(struct store *st, const char *org_id, json_t *included, const char *user_id);
void render_include_user_roles(struct store *st, const char *org_id, json_t *included, const char *user_id);
/* The users one list answer names (the creators of its rows, the users it
 * includes), each read from the store once for the whole answer instead of
 * once a row (issue 14). One org per memo; init does no I/O, clear frees the
 * rows read and the included users' text. */
struct render_user_seen {
    char id[UUID_STR];
    int found;    /* the store has the user in the org: u is filled */
    int included; /* render_users_include() has dealt with it */
    struct store_user u;
};
struct render_users {
    struct store *st;
    const char *org_id; /* borrowed: outlives the memo */
    struct render_user_seen *items;
    size_t n, cap;
    struct jsonw included; /* the included users' JSON, comma separated, in the order first included */
};
void render_users_init(struct render_users *m, struct store *st, const char *org_id);
void render_users_clear(struct render_users *m);
/* The user user_id of the memo's org, read now or remembered from an earlier
 * call; NULL when the store has none. A store failure is not remembered (the
 * next call reads again), as a row-by-row read would not have either. The
 * user belongs to the memo and stays valid until the memo's next call. */
const struct store_user *render_users_get(struct render_users *m, const char *user_id);
/* What render_include_user() does for a JSON:API `included` array, without
 * the array: the bytes of user_id's render_user() object are added to
 * m->included unless user_id is empty, unknown, already there, or not
 * renderable (a field that is not UTF-8). */
void render_users_include(struct render_users *m, const char *user_id);
/* "Active", "Pending" (not joined yet) or "Disabled". */
const char *render_user_status(const struct store_user *u);
/* Validates a scopes array: 1.. known permission names, none beyond what the
 * caller holds. Answers 400/403 and returns NULL on failure; else returns the
 * compact JSON text (caller frees) and fills *set. */
char *scopes_or_reply(struct api_call *call, struct jx *jx, json_t *scopes, const char *path, int required,
                      struct permset *set);

/* ---- credentials of any kind, and dry runs (credential_usage.c) ---- */
enum api_credential_kind { API_CRED_API_KEY = 1, API_CRED_APP_KEY, API_CRED_PAT, API_CRED_SAT };
/* An API key, application key, PAT or SAT, as a dry run or a usage answer
 * shows it (never a secret). */
struct api_credential {
    int kind; /* enum api_credential_kind */
    char id[UUID_STR];
    char org_id[UUID_STR];
    char owner_id[UUID_STR]; /* "" for an API key */
    char *name;              /* owned (api_credential_clear) */
    int64_t created_at, last_used_at, expires_at;
};
/* Its JSON:API type: "api_keys", "application_keys", "personal_access_tokens", "service_access_tokens". */
const char *api_credential_type(int kind);
/* The credential `id` of the caller's org, of any kind: an API key, an
 * application key, or a live (neither revoked nor expired) token. KH_OK,
 * KH_ENOTFOUND or a store error; checks no permission. */
int api_credential_find(struct api_call *call, const char *id, struct api_credential *c);
/* Whether the caller may read c through Datadog's routes (*readable);
 * KH_OK or a store error. */
int api_credential_readable(struct api_call *call, const struct api_credential *c, int *readable);
/* api_credential_find and api_credential_readable, or 404 (or a store
 * error) answered. */
int readable_credential_or_reply(struct api_call *call, const char *id, struct api_credential *c);
void api_credential_clear(struct api_credential *c);
/* The attributes of a credential_usage answer: c's last use, its requests
 * per day for STORE_USAGE_DAYS days up to now's, its routes and clients. */
json_t *render_credential_usage(const struct api_credential *c, const struct store_usage *u, int64_t now);
/* Reads ?dry_run (true or false; absent: false) or answers 400: for any
 * other value, for dry_run given twice, and for any query parameter but
 * dry_run and the credentials' own (a misspelt dry_run must not act). */
int dry_run_or_reply(struct api_call *call, int *dry_run);
/* What an action on a credential would do, for its dry run's answer. */
struct api_preview {
    const char *action;         /* "rotate", "revoke", ... */
    const char *effect;         /* one sentence saying what would stop working, and when */
    int64_t stops_at;           /* when the secret in use would stop being accepted at the latest (now: at once) */
    int ends_on_new_secret_use; /* or earlier, at a new secret's first use */
    int64_t grace_s;            /* the overlap asked for, or -1 when none applies */
};
/* Answers 200 with a credential_previews object: the action's effect and
 * c's usage (what would stop working). Writes nothing: no store write, no
 * audit event. */
void reply_credential_preview(struct api_call *call, const struct api_credential *c, const struct api_preview *p);

/* ---- handlers ---- */
void api_keys_list(struct api_call *call);
void api_keys_create(struct api_call *call);
void api_keys_v1_list(struct api_call *call);
void api_keys_v1_create(struct api_call *call);
void access_tokens_list(struct api_call *call);
void access_tokens_create(struct api_call *call);
void access_tokens_get(struct api_call *call);
void access_tokens_revoke(struct api_call *call);
void sa_tokens_create(struct api_call *call);
void sa_tokens_get(struct api_call *call);
void service_accounts_create(struct api_call *call);
void validate_v1(struct api_call *call);
void validate_v2(struct api_call *call);
void validate_keys(struct api_call *call);
void api_keys_get(struct api_call *call);
void api_keys_update(struct api_call *call);
void api_keys_delete(struct api_call *call);
void api_keys_v1_get(struct api_call *call);
void api_keys_v1_update(struct api_call *call);
void api_keys_v1_delete(struct api_call *call);
void app_keys_list(struct api_call *call);
void app_keys_get(struct api_call *call);
void app_keys_update(struct api_call *call);
void app_keys_delete(struct api_call *call);
void my_app_keys_list(struct api_call *call);
void my_app_keys_create(struct api_call *call);
void my_app_keys_get(struct api_call *call);
void my_app_keys_update(struct api_call *call);
void my_app_keys_delete(struct api_call *call);
void sa_app_keys_list(struct api_call *call);
void sa_app_keys_create(struct api_call *call);
void sa_app_keys_get(struct api_call *call);
void sa_app_keys_update(struct api_call *call);
void sa_app_keys_delete(struct api_call *call);
void app_keys_v1_list(struct api_call *call);
void app_keys_v1_create(struct api_call *call);
void app_keys_v1_get(struct api_call *call);
void app_keys_v1_update(struct api_call *call);
void app_keys_v1_delete(struct api_call *call);
void access_tokens_update(struct api_call *call);
void sa_tokens_list(struct api_call *call);
void sa_tokens_update(struct api_call *call);
void sa_tokens_revoke(struct api_call *call);
void users_list(struct api_call *call);
void users_create(struct api_call *call);
void users_get(struct api_call *call);
void users_update(struct api_call *call);
void users_disable(struct api_call *call);
void roles_list(struct api_call *call);
void roles_create(struct api_call *call);
void roles_get(struct api_call *call);
void roles_update(struct api_call *call);
void roles_delete(struct api_call *call);
void role_permissions_list(struct api_call *call);
void role_permissions_add(struct api_call *call);
void role_permissions_remove(struct api_call *call);
void role_users_list(struct api_call *call);
void role_users_add(struct api_call *call);
void role_users_remove(struct api_call *call);
void permissions_list(struct api_call *call);
void keyhold_reset(struct api_call *call);
/* rotation.c: keyhold's extension */
void keyhold_credential_rotate(struct api_call *call);
/* credential_usage.c: keyhold's extension */
void keyhold_credential_usage(struct api_call *call);
/* history.c: ended credentials, and revoking any kind (keyhold's extension) */
void keyhold_credentials_history(struct api_call *call);
void keyhold_credential_revoke(struct api_call *call);
/* Who ends a credential in this request (a revocation, a deletion): the
 * caller, now, and why (NULL: no reason given). Borrows from call. */
struct store_ending api_ending(const struct api_call *call, const char *reason);
/* webhooks.c: keyhold's extension */
void keyhold_webhooks_create(struct api_call *call);
void keyhold_webhooks_list(struct api_call *call);
void keyhold_webhooks_get(struct api_call *call);
void keyhold_webhooks_update(struct api_call *call);
void keyhold_webhooks_delete(struct api_call *call);
void keyhold_webhook_deliveries_list(struct api_call *call);
/* audit.c: Datadog's Audit Trail API */
void audit_events_list(struct api_call *call);
void audit_events_search(struct api_call *call);
void roles_clone(struct api_call *call);
void roles_templates(struct api_call *call);
void users_permissions_list(struct api_call *call);
void users_orgs_list(struct api_call *call);
void invitations_send(struct api_call *call);
void invitations_get(struct api_call *call);
/* leaks.c: the leak loop, keyhold's extension */
void keyhold_leaks_report(struct api_call *call);
void keyhold_leaks_list(struct api_call *call);
void keyhold_leak_policy_get(struct api_call *call);
void keyhold_leak_policy_update(struct api_call *call);
/* What Datadog's key routes show of a quarantined key (leaks.c): the
 * caller's org's quarantined keys of kind ("api_key", "application_key";
 * empty on a store failure), one key's leak (non-zero when quarantined;
 * *out then to clear), a key of a list, the leak's LeakedKey object and its
 * leak_source (the report's url, else its source, else its reporter). */
void leaks_quarantined(struct api_call *call, const char *kind, struct store_leak_list *out);
int leaks_quarantined_one(struct api_call *call, const char *id, struct store_leak *out);
const struct store_leak *leaks_find(const struct store_leak_list *l, const char *id);
const char *leak_source_of(const struct store_leak *l);
json_t *render_leaked_key(const struct store_leak *l);

/* console.c: the web console's embedded files (docs/console.md) */
void console_redirect(struct api_call *call);
void console_index(struct api_call *call);
void console_file(struct api_call *call);

/* health.c */
void health_live(struct api_call *call);
void health_ready(struct api_call *call);

#endif
