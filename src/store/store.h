/* store.h - the storage interface: one struct of function pointers (the
 * seam), the store_*() wrappers that are the only callers of those pointers
 * (store.c, which also picks a backend by the --db value), and the rows.
 * Today's backends are SQL ones (sql.h: SQLite, PostgreSQL) behind the same
 * operations; docs/internals/store.md tells the whole contract.
 *
 * The store knows rows, not requests: nothing here includes api/, auth/ or
 * http/ headers, and no SQL type, dialect or backend file leaks out of
 * src/store/.
 *
 * Contract, for every method:
 *   - returns KH_OK, KH_ENOTFOUND (lookup found nothing / update touched no
 *     row), KH_ECONFLICT (unique constraint), KH_EBUSY (locked past the busy
 *     timeout), KH_ENOTSUP (the backend lacks the capability) or KH_ESTORE
 *     (any other storage failure, a lost connection included). On failure
 *     nothing was written (every write is one statement or one transaction).
 *   - rows returned through out-parameters are owned by the caller and freed
 *     with the matching *_clear() / *_list_free(); on failure the out-row is
 *     left zeroed so clearing it is always safe.
 *   - timestamps are int64 microseconds since the epoch, UTC; 0 means NULL.
 *   - secrets never reach the store: tokens arrive as keyed hashes, API and
 *     application keys as a keyed lookup hash plus an AES-GCM sealed value.
 *   - a transaction (store_begin .. store_commit / store_rollback) is atomic
 *     and isolated: nothing of it is seen before its commit returns, and
 *     the writes of transactions are serialized (a transaction may read,
 *     then write on what it read, without another writer in between, on any
 *     node). A commit that returned KH_OK is durable.
 *
 * A store handle is used by one thread at a time; each event-loop thread opens
 * its own. */
#ifndef KH_STORE_H
#define KH_STORE_H

#include "util/errors.h"
#include "util/secret.h"
#include "util/uuid.h"

#include <stddef.h>
#include <stdint.h>

#define STORE_OPS_VERSION 2

/* What a handle can do beyond the operations every backend has (struct
 * store.caps); store.c answers KH_ENOTSUP for the rest. */
#define STORE_CAP_CHANGE_STAMP 0x1 /* store_change_stamp: see store_ops.change_stamp */
#define STORE_CAP_BACKUP 0x2       /* store_backup and store_restore work on it */
#define STORE_CAP_SHARED 0x4       /* several keyhold nodes may use it at once */

/* Backend-specific controls (store_control), after SQLite's xFileControl:
 * a backend that does not know op answers KH_ENOTSUP. */
enum store_control_op {
    /* arg: const int *; 1 trades concurrency for write volume while a bulk
     * load (`keyhold seed`) runs on a handle nobody else uses, 0 restores
     * the normal mode. Durability and atomicity of each transaction are
     * kept. KH_EBUSY when others use the store (the load goes on in the
     * normal mode). */
    STORE_CTL_BULK_LOAD = 1,
};

struct store; /* backend state; each backend embeds this first */

struct store_org {
    char id[UUID_STR];
    char *name;
    int64_t created_at;
};

struct store_user {
    char id[UUID_STR];
    char org_id[UUID_STR];
    char *email;
    char *name; /* NULL when not given */
    char *title;
    int service_account;
    int disabled;
    int verified; /* 0: made through the API and not joined yet (status Pending) */
    int64_t created_at;
    int64_t modified_at;
};

struct store_role {
    char id[UUID_STR];
    char org_id[UUID_STR];
    char *name;
    int managed;    /* one of Datadog's managed roles: not changed through the API */
    char *receives; /* JSON array of the managed role names it receives new permissions from, or NULL */
    int64_t created_at;
    int64_t modified_at;
    int64_t user_count; /* filled by role_get/role_list */
};

/* An invitation of a user to its org (nothing is mailed). */
struct store_invitation {
    char id[UUID_STR];
    char org_id[UUID_STR];
    char user_id[UUID_STR];
    char invite_type[32];
    char *login_method; /* NULL when not given */
    int64_t created_at;
    int64_t expires_at;
};

/* What store_reset keeps: one org, one of its users, one API key and one
 * application key of that org. */
struct store_keep {
    char org_id[UUID_STR];
    char user_id[UUID_STR];
    char api_key_id[UUID_STR];
    char app_key_id[UUID_STR];
};

/* A sealed secret value (AES-GCM output of secret_seal), its keyed lookup
 * hash, and the version of the server secret both were made under. */
struct store_sealed {
    uint8_t lookup[SECRET_HASH_LEN];
    uint8_t *sealed;
    size_t sealed_len;
    int secret_version;
};

/* A key's rotation (issue 15): after one, its previous value is accepted
 * until prev_valid_until (0: never rotated or no overlap left). */
struct store_key_overlap {
    uint8_t prev_lookup[SECRET_HASH_LEN]; /* the previous value's lookup hash */
    int64_t prev_valid_until;
    int64_t rotated_at;
    int found_by_previous; /* set by the finders of auth/credentials.c, not the store: the value presented was the previous one */
};

struct store_api_key {
    char id[UUID_STR];
    char org_id[UUID_STR];
    char *name;
    char last4[5];
    char *category;
    int remote_config_read_enabled;
    char created_by[UUID_STR];
    char modified_by[UUID_STR]; /* "" when never modified */
    int64_t created_at;
    int64_t modified_at;
    int64_t last_used_at;
    struct store_sealed key;
    struct store_key_overlap overlap; /* filled by get and the finders, not by lists */
};

struct store_app_key {
    char id[UUID_STR];
    char org_id[UUID_STR];
    char owner_id[UUID_STR];
    char *name;
    char last4[5];
    char *scopes; /* JSON array text, or NULL for an unscoped key */
    int64_t created_at;
    int64_t last_used_at;
    struct store_sealed key;
    struct store_key_overlap overlap; /* filled by get and the finders, not by lists */
};

enum store_token_kind { STORE_TOKEN_PAT = 1, STORE_TOKEN_SAT = 2 };

struct store_token {
    char id[UUID_STR];
    char org_id[UUID_STR];
    char owner_id[UUID_STR];
    int kind; /* enum store_token_kind */
    char *name;
    char *scopes; /* JSON array text */
    uint8_t secret_hash[SECRET_HASH_LEN];
    int secret_version; /* of the server secret the hash was made under */
    int64_t created_at;
    int64_t modified_at;
    int64_t expires_at;
    int64_t last_used_at;
    int64_t revoked_at;
    /* A rotation's overlap: the previous secret's hash (under its own
     * version) is accepted until prev_valid_until; 0 when there is none. */
    uint8_t prev_secret_hash[SECRET_HASH_LEN];
    int prev_secret_version;
    int64_t prev_valid_until;
    int64_t rotated_at;
    char revoked_by[UUID_STR]; /* who revoked it (store_ending.by), "" when unknown */
    char *revoke_reason;       /* why, or NULL */
};

/* Who ended a credential (revoked a token, deleted a key), when and why:
 * kept with the revoked token or in the deleted key's tombstone, for the
 * history (store_history_list). */
struct store_ending {
    int64_t at;
    const char *by;     /* the actor as the audit trail names it (a user id, "operator"), or NULL */
    const char *reason; /* or NULL */
};


/* A stored answer to a request made with an Idempotency-Key. */
struct store_idempotent {
    uint8_t key_hash[SECRET_HASH_LEN];
    char org_id[UUID_STR];
    uint8_t request_hash[SECRET_HASH_LEN];
    int64_t created_at;
    int status;
    struct store_sealed answer; /* lookup unused */
};

/* A credential a leak report proved leaked (docs/operations/leaks.md). */
struct store_leak {
    char credential_id[UUID_STR];
    char org_id[UUID_STR];
    char kind[32];  /* api_key, application_key, personal_access_token, service_access_token */
    int64_t leaked_at;        /* the first report */
    int64_t last_reported_at; /* the latest */
    int64_t reports;
    char *url;      /* where the first report saw it, or NULL */
    char *source;   /* the first report's source, or NULL */
    char reporter[64];
    char action[16]; /* "revoked" or "quarantined" */
};

struct store_leak_list {
    struct store_leak *items;
    size_t n;
};

/* An org's leak policy ("revoke" or "quarantine"). */
struct store_leak_policy {
    char org_id[UUID_STR];
    char policy[16];
    int64_t modified_at;
    char modified_by[UUID_STR];
};

/* One leak report received (matched or not); never a reported value. */
struct store_leak_report {
    char id[UUID_STR];
    int64_t received_at;
    char reporter[64];
    int64_t entries, matched;
};
/* ---- webhooks and their outbox (issue 15, item 5; docs/api/webhooks.md) ---- */

/* A webhook of an org: where its credential events are sent, signed with a
 * secret kept sealed (lookup unused). events is a bit mask of event types
 * (auth/events.h). */
struct store_webhook {
    char id[UUID_STR];
    char org_id[UUID_STR];
    char *name;
    char *url;
    int64_t events;
    int enabled;
    struct store_sealed secret;
    char created_by[UUID_STR];
    int64_t created_at;
    int64_t modified_at;
};

struct store_webhook_list {
    struct store_webhook *items;
    size_t n;
    int64_t total;
};

/* An event for the outbox (store_event_enqueue): borrowed strings. */
struct store_event {
    const char *id; /* a UUID: the receivers' de-duplication key */
    const char *org_id;
    const char *type; /* "credential.created", ... */
    int64_t mask;     /* its bit: sent to the enabled webhooks of the org whose events have it */
    const char *body; /* the JSON sent; never a secret */
    int64_t at;
};

enum store_delivery_state { STORE_DELIVERY_PENDING = 0, STORE_DELIVERY_DELIVERED = 1, STORE_DELIVERY_FAILED = 2 };

/* One event for one webhook (a row of the outbox). A claimed delivery
 * (store_delivery_claim) also carries the webhook's url and sealed secret. */
struct store_delivery {
    char webhook_id[UUID_STR];
    char event_id[UUID_STR];
    char org_id[UUID_STR];
    char event_type[48];
    char *body;
    int64_t created_at;
    int state; /* enum store_delivery_state */
    int attempts;
    int64_t next_attempt_at;
    int64_t last_attempt_at;
    int last_status; /* HTTP status of the last attempt, 0 for none (no answer) */
    char *last_error;
    int64_t delivered_at;
    char *url;                  /* claimed deliveries only */
    struct store_sealed secret; /* claimed deliveries only */
};

struct store_delivery_list {
    struct store_delivery *items;
    size_t n;
    int64_t total;
};

/* What one attempt at a claimed delivery came to (store_delivery_record),
 * and a row of the delivery log (store_attempt_list). */
struct store_attempt {
    char webhook_id[UUID_STR];
    char event_id[UUID_STR];
    int attempt; /* 1, 2, ... */
    int64_t at;
    int status_code; /* 0: no HTTP answer */
    char *error;     /* NULL when the receiver answered 2xx */
    int64_t duration_ms;
};

struct store_attempt_list {
    struct store_attempt *items;
    size_t n;
};

/* The outcome of an attempt for store_delivery_record: the attempt, and the
 * delivery's new state and next attempt time (when still pending). */
struct store_delivery_outcome {
    struct store_attempt attempt;
    int state;
    int64_t next_attempt_at;
};

/* A credential ended (a token revoked, a key deleted) as events need it:
 * store_ended_by_owner, store_ended_get. */
struct store_ended {
    char id[UUID_STR];
    char kind[32]; /* "api_key", "application_key", "personal_access_token", "service_access_token" */
    char *name;
    char owner_id[UUID_STR];
    int64_t expires_at; /* tokens; 0 otherwise */
};

struct store_ended_list {
    struct store_ended *items;
    size_t n;
};

/* Expiry warnings (store_expiry_candidates): which one. */
enum store_expiry_notice { STORE_NOTICE_7D = 1, STORE_NOTICE_1D = 2, STORE_NOTICE_EXPIRED = 3 };

/* Sort orders shared by the list queries. */
enum store_sort {
    STORE_SORT_NAME = 0,
    STORE_SORT_CREATED_AT,
    STORE_SORT_MODIFIED_AT,
    STORE_SORT_LAST4,
    STORE_SORT_EXPIRES_AT,
    STORE_SORT_LAST_USED_AT,
    STORE_SORT_EMAIL,
    STORE_SORT_STATUS,
    STORE_SORT_USER_COUNT,
};

#define STORE_MAX_OWNERS 32

struct store_page {
    int64_t limit;  /* rows to return */
    int64_t offset; /* rows to skip */
};

/* A time filter, inclusive on both ends. Zeroed, it is unbounded: a bound
 * counts only when it was given (the epoch is a bound like any other). */
struct store_time_range {
    int64_t start, end;
    int has_start, has_end;
};

struct store_api_key_query {
    const char *org_id;
    const char *name_filter; /* case-insensitive substring, or NULL */
    struct store_time_range created, modified;
    int remote_config;                    /* -1 any, 0 false, 1 true */
    const char *category;                 /* or NULL */
    enum store_sort sort;
    int desc;
    struct store_page page;
};

struct store_token_query {
    const char *org_id;
    int kind;                 /* 0 = PATs and SATs */
    const char *owner_ids[STORE_MAX_OWNERS];
    size_t n_owners;          /* 0 = every owner */
    const char *name_filter;  /* case-insensitive substring, or NULL */
    int64_t now;              /* tokens expired at `now` are left out */
    enum store_sort sort;
    int desc;
    struct store_page page;
};

struct store_app_key_query {
    const char *org_id;
    const char *owner_ids[STORE_MAX_OWNERS];
    size_t n_owners;         /* 0 = every owner */
    const char *name_filter; /* case-insensitive substring, or NULL */
    struct store_time_range created;
    enum store_sort sort;
    int desc;
    struct store_page page;
};

/* Credential kinds in the history, and their bits in the masks of a
 * store_history_query. */
enum store_cred_kind { STORE_CRED_API_KEY = 1, STORE_CRED_APP_KEY, STORE_CRED_PAT, STORE_CRED_SAT };
#define STORE_CRED_BIT(kind) (1u << (kind))
#define STORE_CRED_ALL (STORE_CRED_BIT(1) | STORE_CRED_BIT(2) | STORE_CRED_BIT(3) | STORE_CRED_BIT(4))

/* How a credential ended. */
/* LEAKED: a leak report matched it (credential_leaks), revoked or deleted by
 * the org's policy or kept working in quarantine. */
enum store_history_state { STORE_HISTORY_REVOKED = 1, STORE_HISTORY_EXPIRED = 2, STORE_HISTORY_LEAKED = 3 };

/* One ended credential: a revoked or expired token, or a deleted key's
 * tombstone. Nothing secret: the name, the last 4 characters of a key, the
 * owner (an API key's creator) and the dates. */
struct store_history_row {
    int kind;  /* enum store_cred_kind */
    int state; /* enum store_history_state (a deleted key: revoked) */
    char id[UUID_STR];
    char org_id[UUID_STR];
    char *name;
    char owner_id[UUID_STR];
    char last4[5]; /* keys; "" for tokens */
    int64_t created_at;
    int64_t expires_at; /* tokens; 0 when none */
    int64_t ended_at;
    char ended_by[64]; /* the audit trail's actor (a user id, "operator", a leak reporter); "" when unknown */
    char *ended_by_email;    /* the email of the user ended_by names, or NULL */
    char *reason;
};

struct store_history_list {
    struct store_history_row *items;
    size_t n;
    int64_t total;
};

/* The ended credentials of an org one caller may see, newest ended first
 * (oldest with asc). A row is in when its state is in `states` (bits
 * 1 << state), it ended at or after `since` (the retention) and the caller
 * may see it: its kind is in any_kinds, or in own_kinds and it is owned by
 * own_id, or in sa_kinds and it is owned by a service account. */
struct store_history_query {
    const char *org_id;
    unsigned states;
    int64_t now;   /* a live token expired at or before now is expired */
    int64_t since; /* rows that ended before are left out */
    unsigned any_kinds, own_kinds, sa_kinds; /* STORE_CRED_BIT masks */
    const char *own_id;
    int asc;
    struct store_page page;
};

#define STORE_MAX_IDS 32

/* A change stamp (store_ops.change_stamp): equal stamps, nothing changed. */
struct store_stamp {
    uint64_t a, b; /* the backend's: what was committed */
    uint64_t c;    /* what this handle ran that may take access away, or rolled back, committed or not */
};

struct store_user_query {
    const char *org_id;
    const char *filter;  /* substring of name or email, or NULL */
    int status_mask;     /* STORE_STATUS_* bits; 0 = any */
    const char *role_id; /* only members of this role, or NULL */
    enum store_sort sort;
    int desc;
    struct store_page page;
};

#define STORE_STATUS_ACTIVE 0x1
#define STORE_STATUS_PENDING 0x2
#define STORE_STATUS_DISABLED 0x4

struct store_role_query {
    const char *org_id;
    const char *filter; /* substring of the name, or NULL */
    const char *name;   /* exactly this name, or NULL */
    const char *ids[STORE_MAX_IDS];
    size_t n_ids; /* 0 = any */
    enum store_sort sort;
    int desc;
    struct store_page page;
};

/* One credential use, for last_used_at bookkeeping, with who used it from
 * where (for the audit event of a credential's first use). */
enum store_touch_kind { STORE_TOUCH_API_KEY = 1, STORE_TOUCH_APP_KEY, STORE_TOUCH_TOKEN };
struct store_touch {
    int kind;
    char id[UUID_STR];
    int64_t when;
    char org_id[UUID_STR];
    char actor_id[UUID_STR];
    char source[48];
    char target_kind[32]; /* what the audit trail calls the credential */
    int close_overlap;    /* a rotated credential's new value was used: its previous one stops now */
};

/* Who used a credential, how often and for what (issue 15, item 2): what
 * one flush adds (store_ops.usage_add) and what store_ops.usage_get reads.
 * Kept per credential id for STORE_USAGE_DAYS days; a credential keeps its
 * STORE_USAGE_CLIENTS latest distinct (address, user agent) pairs. */
#define STORE_USAGE_DAYS 30
#define STORE_USAGE_CLIENTS 5
#define STORE_USAGE_UA_MAX 200   /* bytes of a user agent kept (printable ASCII) */
#define STORE_USAGE_ROUTE_MAX 96 /* "METHOD /api/v2/...{id}", a route's template */
#define STORE_DAY_US (86400LL * 1000000LL)

struct store_usage_client {
    char address[48];
    char user_agent[STORE_USAGE_UA_MAX + 1]; /* "" when none was sent */
    int64_t last_seen;
};

struct store_usage_route {
    char route[STORE_USAGE_ROUTE_MAX];
    int64_t requests;
    int64_t last_seen;
};

struct store_usage_day {
    int64_t day; /* days since 1970-01-01 UTC: microseconds / STORE_DAY_US */
    int64_t requests;
};

/* What one flush adds to a credential's usage: requests added to each day
 * and route (route last_seen moves forward only), clients seen (last_seen
 * moves forward only; beyond STORE_USAGE_CLIENTS the oldest are dropped).
 * The arrays are the caller's. */
struct store_usage_add {
    char credential_id[UUID_STR];
    const struct store_usage_client *clients;
    size_t n_clients;
    const struct store_usage_route *routes;
    size_t n_routes;
    const struct store_usage_day *days;
    size_t n_days;
};

/* A credential's usage as stored: its latest clients (latest first), its
 * routes (most requests first) and its days with requests (oldest first).
 * routes and days are owned (store_usage_clear). */
struct store_usage {
    struct store_usage_client clients[STORE_USAGE_CLIENTS];
    size_t n_clients;
    struct store_usage_route *routes;
    size_t n_routes;
    struct store_usage_day *days;
    size_t n_days;
};

struct store_audit {
    int64_t seq; /* assigned by the store */
    int64_t at;
    char org_id[UUID_STR];
    char actor_id[UUID_STR];
    char action[32];
    char target_kind[32];
    char target_id[48]; /* an id, a secret version, or a client address */
    char source[48];
    /* The hash chain of the event's org (set by the store on insert): the
     * hash of the org's previous event (zeros for its first) and this one's,
     * store_audit_hash(). chained is 0 for an event not chained yet (made
     * before the chain existed; its org's next event chains it). */
    int chained;
    uint8_t prev_hash[SECRET_HASH_LEN];
    uint8_t hash[SECRET_HASH_LEN];
};

struct store_audit_list {
    struct store_audit *items;
    size_t n;
    int64_t total;
};

/* A page of an org's events by time, from..to inclusive, after the position
 * (after_at, after_seq) in the order asked (oldest first, or with desc
 * newest first); a first page starts at (from, 0), or (to, INT64_MAX). */
struct store_audit_page {
    const char *org_id;
    int64_t from, to;
    int desc;
    int64_t after_at, after_seq;
    int64_t limit;
};

/* A signed checkpoint of the audit chain (auth/auditchain.h): every org's
 * head as of event max_seq, the digest of checkpoint number - 1, and the MAC
 * under secret_version's audit key. */
struct store_audit_checkpoint {
    int64_t number;
    int64_t at;
    int64_t max_seq;
    char *heads; /* owned: "<org> <count> <hash hex>\n" lines, sorted by org */
    uint8_t prev_digest[SECRET_HASH_LEN];
    int secret_version;
    uint8_t mac[SECRET_HASH_LEN];
};

struct store_audit_checkpoint_list {
    struct store_audit_checkpoint *items;
    size_t n;
};

struct store_api_key_list {
    struct store_api_key *items;
    size_t n;
    int64_t total; /* rows matching the filters, ignoring paging */
};

struct store_token_list {
    struct store_token *items;
    size_t n;
    int64_t total;
};

struct store_app_key_list {
    struct store_app_key *items;
    size_t n;
    int64_t total;
};

struct store_user_list {
    struct store_user *items;
    size_t n;
    int64_t total;          /* matching the filters */
    int64_t total_unfiltered; /* every user of the org, or of the role (Pagination.total_count) */
};

struct store_role_list {
    struct store_role *items;
    size_t n;
    int64_t total;
    int64_t total_unfiltered;
};

struct store_strlist {
    char **items;
    size_t n;
};

/* Which keys store_reseal() walks. */
enum store_sealed_table { STORE_SEALED_API_KEYS = 1, STORE_SEALED_APP_KEYS = 2 };

/* Re-seals one key under another secret version: reads *old and fills *out
 * (out->sealed from xmalloc; the store frees it). A non-zero return stops
 * the walk with that code. */
typedef int (*store_reseal_fn)(void *arg, const struct store_sealed *old, struct store_sealed *out);

struct store_ops {
    int version; /* STORE_OPS_VERSION: store_open refuses a backend built against another */
    const char *name;

    void (*close)(struct store *st);

    /* Transactions group several writes (used by init and org creation). */
    int (*begin)(struct store *st);
    int (*commit)(struct store *st);
    int (*rollback)(struct store *st);

    /* Small key/value table for store-wide facts ("initialized"). */
    int (*meta_get)(struct store *st, const char *key, char **value);
    int (*meta_set)(struct store *st, const char *key, const char *value);

    /* KH_ECONFLICT when an org of that name (ASCII case aside) exists. */
    int (*org_insert)(struct store *st, const struct store_org *org);
    int (*org_get)(struct store *st, const char *id, struct store_org *out);
    int (*org_count)(struct store *st, int64_t *count);
    /* Ids of every org, oldest first. */
    int (*org_ids)(struct store *st, struct store_strlist *out);

    /* KH_ECONFLICT when a user of the org has that email (ASCII case
     * aside); user_update likewise for another user's email. */
    int (*user_insert)(struct store *st, const struct store_user *user);
    /* Finds a user of org_id (any org when org_id is NULL). */
    int (*user_get)(struct store *st, const char *org_id, const char *id, struct store_user *out);
    int (*role_insert)(struct store *st, const struct store_role *role);
    int (*role_get)(struct store *st, const char *org_id, const char *id, struct store_role *out);
    int (*role_permission_add)(struct store *st, const char *role_id, const char *permission);
    int (*user_role_add)(struct store *st, const char *user_id, const char *role_id);
    /* Names of every permission held through the user's roles (deduplicated). */
    int (*user_permissions)(struct store *st, const char *user_id, struct store_strlist *out);
    /* Roles of a user. */
    int (*user_roles)(struct store *st, const char *user_id, struct store_strlist *role_ids);
    int (*user_list)(struct store *st, const struct store_user_query *q, struct store_user_list *out);
    /* Writes email, name, title, disabled and modified_at of (org_id, id). */
    int (*user_update)(struct store *st, const struct store_user *user);
    int (*user_role_remove)(struct store *st, const char *user_id, const char *role_id);
    int (*role_list)(struct store *st, const struct store_role_query *q, struct store_role_list *out);
    /* Writes name, receives and modified_at of (org_id, id). */
    int (*role_update)(struct store *st, const struct store_role *role);
    /* Deletes the role, its permission grants and memberships. */
    int (*role_delete)(struct store *st, const char *org_id, const char *id);
    int (*role_permissions)(struct store *st, const char *role_id, struct store_strlist *out);
    int (*role_permission_remove)(struct store *st, const char *role_id, const char *permission);

    int (*api_key_insert)(struct store *st, const struct store_api_key *key);
    int (*api_key_get)(struct store *st, const char *org_id, const char *id, struct store_api_key *out);
    int (*api_key_find)(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], struct store_api_key *out);
    int (*api_key_list)(struct store *st, const struct store_api_key_query *q, struct store_api_key_list *out);
    int (*api_key_count)(struct store *st, const char *org_id, int64_t *count);
    /* Writes name, category, remote_config_read_enabled, modified_by and
     * modified_at of (org_id, id). */
    int (*api_key_update)(struct store *st, const struct store_api_key *key);
    /* Deletes the key and, in the same transaction, leaves its tombstone
     * (store_history_row) with who deleted it and why. */
    int (*api_key_delete)(struct store *st, const char *org_id, const char *id, const struct store_ending *end);

    int (*app_key_insert)(struct store *st, const struct store_app_key *key);
    int (*app_key_find)(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], struct store_app_key *out);
    /* The key in a rotation's overlap at now whose previous value has this
     * lookup hash (KH_ENOTFOUND when none). */
    int (*api_key_find_previous)(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], int64_t now,
                                 struct store_api_key *out);
    int (*app_key_find_previous)(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], int64_t now,
                                 struct store_app_key *out);
    /* Gives key id of org_id (kind STORE_TOUCH_API_KEY or STORE_TOUCH_APP_KEY)
     * a new value (its lookup hash and sealed value, and last4), keeping the
     * lookup hash in use as the previous one until prev_valid_until;
     * modified_by and modified_at move too on an API key. KH_ECONFLICT while
     * an earlier rotation's overlap is open at now, KH_ENOTFOUND for no such
     * key. */
    int (*key_rotate)(struct store *st, int kind, const char *org_id, const char *id, const struct store_sealed *value,
                      const char last4[5], const char *modified_by, int64_t prev_valid_until, int64_t now);
    /* Ends the overlap of credential id (kind STORE_TOUCH_*) at when: its
     * previous secret is refused from then on (KH_OK when there was none). */
    int (*overlap_close)(struct store *st, int kind, const char *id, int64_t when);
    int (*app_key_get)(struct store *st, const char *org_id, const char *id, struct store_app_key *out);
    int (*app_key_list)(struct store *st, const struct store_app_key_query *q, struct store_app_key_list *out);
    /* Writes name and scopes of (org_id, id). */
    int (*app_key_update)(struct store *st, const struct store_app_key *key);
    /* As api_key_delete: a tombstone in the transaction of the delete. */
    int (*app_key_delete)(struct store *st, const char *org_id, const char *id, const struct store_ending *end);
    /* Deletes every application key a user owns (user disabled), each
     * leaving its tombstone. */
    int (*app_key_delete_owned)(struct store *st, const char *owner_id, const struct store_ending *end);
    int (*app_key_count)(struct store *st, const char *owner_id, int64_t *count);

    int (*token_insert)(struct store *st, const struct store_token *tok);
    /* Any token by id, revoked or not (the caller decides what it may see). */
    int (*token_get)(struct store *st, const char *id, struct store_token *out);
    /* Lists live (not revoked, not expired at q->now) tokens. */
    int (*token_list)(struct store *st, const struct store_token_query *q, struct store_token_list *out);
    /* Marks a live token revoked (at end->at, by and why); KH_ENOTFOUND when
     * absent or already revoked. */
    int (*token_revoke)(struct store *st, const char *org_id, const char *id, const struct store_ending *end);
    /* Writes name, scopes and modified_at of a live token (org_id, id). */
    int (*token_update)(struct store *st, const struct store_token *tok);
    /* Revokes every live token a user owns (user disabled). */
    /* Replaces a live token's secret hash, keeping the one in use as the
     * previous one until prev_valid_until; KH_ECONFLICT while an earlier
     * rotation's overlap is open at now, KH_ENOTFOUND for no live token. */
    int (*token_rotate)(struct store *st, const char *org_id, const char *id, const uint8_t hash[SECRET_HASH_LEN],
                        int secret_version, int64_t prev_valid_until, int64_t now);
    /* The answer kept for key_hash if made after not_before (KH_ENOTFOUND
     * otherwise); idem_put keeps one (replacing an older one) and forgets
     * those made at or before not_before. */
    int (*idem_get)(struct store *st, const uint8_t key_hash[SECRET_HASH_LEN], int64_t not_before,
                    struct store_idempotent *out);
    int (*idem_put)(struct store *st, const struct store_idempotent *in, int64_t not_before);
    /* Forgets the answers made at or before not_before. */
    int (*idem_prune)(struct store *st, int64_t not_before);
    int (*token_revoke_owned)(struct store *st, const char *owner_id, const struct store_ending *end);

    /* Records credential uses: last_used_at only ever moves forward. One
     * transaction for the whole batch. first (n flags, may be NULL) tells
     * which items were their credential's first use ever (its last_used_at
     * was unset): exact whatever process or loop saw the use. */
    int (*touch)(struct store *st, const struct store_touch *items, size_t n, unsigned char *first);

    /* Writes a consistent copy of the whole store to dest (a new file),
     * while other connections keep reading and writing (STORE_CAP_BACKUP). */
    int (*backup)(struct store *st, const char *dest, char **err);
    /* Checks the store's integrity; *report is "ok" or the problems found. */
    int (*check)(struct store *st, char **report);

    /* Rewrites every key of `table` not made under secret `version` with what
     * fn gives (new lookup hash and sealed value, made under `version`), in
     * the caller's transaction; *count is how many keys were rewritten. */
    int (*reseal)(struct store *st, int table, int version, store_reseal_fn fn, void *arg, int64_t *count);
    /* The secret versions that rows able to authenticate still use: every API
     * and application key, tokens neither revoked nor expired at now. */
    int (*secret_versions)(struct store *st, int64_t now, int *versions, size_t max, size_t *n);
    /* One API or application key sealed under secret `version` (its lookup
     * hash and sealed value, which the caller frees with
     * store_sealed_clear), or KH_ENOTFOUND: what proves a secret is the
     * store's when it has no fingerprint of that version (auth/keyring.h). */
    int (*sealed_sample)(struct store *st, int version, struct store_sealed *out);
    /* A fingerprint of everything committed to the store by any connection
     * of any process on any node, read without a transaction or a lock: it
     * changes with every commit. Whoever caches what it read keeps the stamp
     * with it and drops the entry when the stamp has moved; once a commit has
     * returned, every later call on this node sees a new stamp (on another
     * node: once the backend has learnt of the commit, which it bounds and
     * docs/internals/store.md states). A backend that cannot promise this
     * lacks STORE_CAP_CHANGE_STAMP (KH_ENOTSUP); one that cannot tell right
     * now (its notification channel is down) answers KH_ESTORE. Either way
     * nothing may then be cached. Cheap enough for every request.
     * A handle's stamp also moves as soon as it runs a statement that may
     * take access away (a revocation, a deletion, a disabled user, a role
     * or permission removed), before it commits, and when it rolls back or
     * fails to commit: a cache kept by the connection that runs such
     * transactions (the writer thread's) then never answers past a
     * revocation made earlier in the same transaction, nor from what a
     * rolled-back transaction showed it. */
    int (*change_stamp)(struct store *st, struct store_stamp *out);
    /* A backend-specific control (enum store_control_op). */
    int (*control)(struct store *st, int op, void *arg);
    /* Whether the store can serve now: it answers, and its schema is the
     * one this build migrates to (not older: migrations pending; not newer:
     * another node runs a later keyhold). KH_OK, or KH_ESTORE with *why set
     * to a short static reason that is safe to show anyone (no address, no
     * error text: those go to the log). */
    int (*ready)(struct store *st, const char **why);
    /* The rows of every table, as one line of text ("orgs 1, users 2, ..."),
     * so that two stores can be compared (keyhold check, keyhold migrate). */
    int (*counts)(struct store *st, char **report);
    /* Copies every row of st into to, an empty store of any backend, in one
     * transaction of to's (keyhold migrate). Keys and tokens are copied as
     * stored: sealed and hashed under the same server secret. */
    int (*copy_to)(struct store *st, struct store *to);

    int (*invitation_insert)(struct store *st, const struct store_invitation *inv);
    /* The invitation `id` of org_id. */
    int (*invitation_get)(struct store *st, const char *org_id, const char *id, struct store_invitation *out);

    /* Deletes every row but those `keep` names and the managed roles of its
     * org: other orgs, users, custom roles, every membership and custom
     * grant, keys, tokens, invitations and audit events (a test double's
     * clean slate). One transaction. */
    int (*reset)(struct store *st, const struct store_keep *keep);

    /* Appends an event to its org's hash chain (reading and moving the
     * org's head in one write transaction, so that concurrent writers chain
     * one after the other). The org's events from before the chain are
     * chained first. */
    int (*audit_insert)(struct store *st, const struct store_audit *e);
    /* Events at or after since, oldest first, at most limit of them. */
    int (*audit_list)(struct store *st, int64_t since, int64_t limit, struct store_audit_list *out);
    /* Events after seq, in seq order, at most limit of them. */
    int (*audit_walk)(struct store *st, int64_t after_seq, int64_t limit, struct store_audit_list *out);
    int (*audit_page)(struct store *st, const struct store_audit_page *q, struct store_audit_list *out);
    /* Chains every event not chained yet (from before the chain existed),
     * org by org, oldest first, in one write transaction. */
    int (*audit_chain_backlog)(struct store *st);
    /* KH_ECONFLICT when that number is taken (another signer was first). */
    int (*audit_checkpoint_insert)(struct store *st, const struct store_audit_checkpoint *c);
    /* The highest-numbered checkpoint, KH_ENOTFOUND when there is none. */
    int (*audit_checkpoint_latest)(struct store *st, struct store_audit_checkpoint *out);
    /* Checkpoints numbered above after, in order, at most limit. */
    int (*audit_checkpoint_walk)(struct store *st, int64_t after, int64_t limit,
                                 struct store_audit_checkpoint_list *out);

    /* Adds n credentials' usage (struct store_usage_add), in one transaction
     * (the caller's when it has one: the writer's flush). */
    int (*usage_add)(struct store *st, const struct store_usage_add *items, size_t n);
    /* A credential's usage: days from since_day on, and the routes and
     * clients kept (an id with none: KH_OK and an empty *out). */
    int (*usage_get)(struct store *st, const char *credential_id, int64_t since_day, struct store_usage *out);
    /* Forgets days before before_day, and routes and clients last seen
     * before that day began. */
    int (*usage_prune)(struct store *st, int64_t before_day);
    /* The history: ended credentials (store_history_query), and forgetting
     * those that ended before `before` (revoked and expired tokens, key
     * tombstones), at most `limit` rows of each kind per org, in one
     * transaction; *pruned (may be NULL) counts the rows removed. */
    int (*history_list)(struct store *st, const struct store_history_query *q, struct store_history_list *out);
    int (*history_prune)(struct store *st, int64_t before, int64_t limit, int64_t *pruned);
    /* The leak loop. leak_mark records a report of credential l->credential_id:
     * a first report inserts l; a later one moves last_reported_at, counts
     * it and sets action (the first url, source and reporter are kept). */
    int (*leak_mark)(struct store *st, const struct store_leak *l);
    int (*leak_get)(struct store *st, const char *credential_id, struct store_leak *out);
    /* The org's leaks of one kind (NULL: every kind) with action `action`
     * (NULL: any), newest first, at most limit. */
    int (*leak_list)(struct store *st, const char *org_id, const char *kind, const char *action, int64_t limit,
                     struct store_leak_list *out);
    /* KH_ENOTFOUND when the org never set one (the default applies). */
    int (*leak_policy_get)(struct store *st, const char *org_id, struct store_leak_policy *out);
    int (*leak_policy_set)(struct store *st, const struct store_leak_policy *p);
    int (*leak_report_insert)(struct store *st, const struct store_leak_report *r);
    /* Forgets the reports received before `before`. */
    int (*leak_reports_prune)(struct store *st, int64_t before);
    /* ---- webhooks (docs/api/webhooks.md) ---- */
    int (*webhook_insert)(struct store *st, const struct store_webhook *w);
    /* The webhook id of org_id, KH_ENOTFOUND otherwise. */
    int (*webhook_get)(struct store *st, const char *org_id, const char *id, struct store_webhook *out);
    /* A page of an org's webhooks, oldest first; total counts them all. */
    int (*webhook_list)(struct store *st, const char *org_id, const struct store_page *page,
                        struct store_webhook_list *out);
    /* Writes name, url, events, enabled and modified_at of (org_id, id). */
    int (*webhook_update)(struct store *st, const struct store_webhook *w);
    /* Deletes the webhook with its outbox rows and delivery log. */
    int (*webhook_delete)(struct store *st, const char *org_id, const char *id);
    /* Puts the event in the outbox of every enabled webhook of its org
     * subscribed to it (one row each, due at e->at; none when there is
     * none), in the caller's transaction: it is sent if and only if that
     * commits. *fanned (may be NULL) gets how many rows. */
    int (*event_enqueue)(struct store *st, const struct store_event *e, int64_t *fanned);
    /* How many enabled webhooks of org_id have events with mask: one
     * indexed read, so that a change in an org without webhooks costs no
     * more (events_emit asks first). */
    int (*webhook_subscribed)(struct store *st, const char *org_id, int64_t mask, int64_t *count);
    /* The tokens of owner_id revoked, and its application keys deleted,
     * between from and to (inclusive) for `reason` (a disabled owner's). */
    int (*ended_by_owner)(struct store *st, const char *org_id, const char *owner_id, int64_t from, int64_t to,
                          const char *reason, struct store_ended_list *out);
    /* A deleted API or application key as the history keeps it, or KH_ENOTFOUND. */
    int (*ended_get)(struct store *st, const char *org_id, const char *id, struct store_ended *out);
    /* Leases up to limit pending deliveries due at now whose lease (if any)
     * ran out: they get lease and lease_until, so that no other claimer
     * (another thread or keyhold node) takes them before then, and are
     * returned with their webhook's url and sealed secret. One write
     * transaction of its own. */
    int (*delivery_claim)(struct store *st, int64_t now, int64_t lease_until, const char *lease, int64_t limit,
                          struct store_delivery_list *out);
    /* Records an attempt at a delivery still held under lease: the log row,
     * and the delivery's attempts, state, next attempt and last outcome;
     * the lease is given back. KH_ENOTFOUND when the lease was lost (the
     * row was claimed again, or deleted): nothing is written. */
    int (*delivery_record)(struct store *st, const char *lease, const struct store_delivery_outcome *o);
    /* Gives back the leases of deliveries claimed under lease and not
     * attempted (the claimer is stopping): due again at once. */
    int (*delivery_release)(struct store *st, const char *lease);
    /* A page of a webhook's deliveries, newest first (no url nor secret). */
    int (*delivery_list)(struct store *st, const char *webhook_id, const struct store_page *page,
                         struct store_delivery_list *out);
    /* The attempts of the deliveries that delivery_list answers for the same
     * page, by event then attempt. */
    int (*attempt_list)(struct store *st, const char *webhook_id, const struct store_page *page,
                        struct store_attempt_list *out);
    /* Live tokens (revoked_at NULL) of orgs with an enabled webhook whose
     * events have mask, expiring in (from, to], with no such notice
     * recorded yet: at most limit, with the listed columns only (no
     * hashes). */
    int (*expiry_candidates)(struct store *st, int notice, int64_t mask, int64_t from, int64_t to, int64_t limit,
                             struct store_token_list *out);
    /* Records that notice was sent for token_id: *inserted 0 when it was
     * already (another node was first). */
    int (*expiry_notice_put)(struct store *st, const char *token_id, int notice, int64_t now, int *inserted);
    /* Forgets deliveries finished (delivered or given up) before `before`,
     * with their log, and notices of tokens gone or expired before it. */
    int (*webhook_prune)(struct store *st, int64_t before);
};

/* Every backend's handle starts with this. */
struct store {
    const struct store_ops *ops;
    unsigned caps; /* STORE_CAP_* bits of this handle */
};

/* Opens (creating and migrating if needed) the store a dsn names, picking the
 * backend by its scheme: "postgres://..." or "postgresql://..." is
 * PostgreSQL (a libpq connection string); "sqlite:PATH", a plain PATH, or a
 * "memory:" dsn is SQLite. On failure *err is an allocated message owned by
 * the caller. */
int store_open(const char *dsn, struct store **out, char **err);
/* Whether a store is there without making one: KH_OK, KH_ENOTFOUND (no
 * file; a database without keyhold's tables), or another code with *err
 * set. */
int store_exists(const char *dsn, char **err);
/* Replaces the store dest with the backup at src (a store_backup copy);
 * KH_ENOTSUP for a backend that has no such files. Nothing may have dest
 * open (the caller's lock sees to it). */
int store_restore(const char *dest, const char *src, char **err);
/* Holds a store against being replaced (shared: every process that writes
 * to it; exclusive: store_restore), without waiting. KH_OK with *hold set
 * (store_unhold lets go; the system lets go when the process ends),
 * KH_EBUSY when a conflicting hold is there, or another code with *err.
 * A backend without store_restore holds nothing and answers KH_OK. */
int store_hold(const char *dsn, int exclusive, int *hold, char **err);
void store_unhold(int hold);
/* Which backend a dsn names ("sqlite" or "postgres"). */
const char *store_backend_name(const char *dsn);
/* Writes a dsn naming a new store that lives in this process's memory only
 * (nothing on disk): every handle opened on it in this process shares it,
 * and it is gone when the last handle closes. Such a store cannot give a
 * change stamp, so nothing is cached over it. */
void store_memory_dsn(char *out, size_t len);
/* Non-zero when dsn names such a store. */
int store_dsn_in_memory(const char *dsn);
void store_close(struct store *st);

int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);
/* Ends a transaction begun with store_begin: commits when rc is KH_OK,
 * otherwise rolls back. Returns rc, or the commit's failure. */
int store_end(struct store *st, int rc);
int store_meta_get(struct store *st, const char *key, char **value);
int store_meta_set(struct store *st, const char *key, const char *value);
int store_org_insert(struct store *st, const struct store_org *org);
int store_org_get(struct store *st, const char *id, struct store_org *out);
int store_org_count(struct store *st, int64_t *count);
int store_org_ids(struct store *st, struct store_strlist *out);
int store_user_insert(struct store *st, const struct store_user *user);
int store_user_get(struct store *st, const char *org_id, const char *id, struct store_user *out);
int store_role_insert(struct store *st, const struct store_role *role);
int store_role_get(struct store *st, const char *org_id, const char *id, struct store_role *out);
int store_role_permission_add(struct store *st, const char *role_id, const char *permission);
int store_user_role_add(struct store *st, const char *user_id, const char *role_id);
int store_user_permissions(struct store *st, const char *user_id, struct store_strlist *out);
int store_user_roles(struct store *st, const char *user_id, struct store_strlist *out);
int store_user_list(struct store *st, const struct store_user_query *q, struct store_user_list *out);
int store_user_update(struct store *st, const struct store_user *user);
int store_user_role_remove(struct store *st, const char *user_id, const char *role_id);
int store_role_list(struct store *st, const struct store_role_query *q, struct store_role_list *out);
int store_role_update(struct store *st, const struct store_role *role);
int store_role_delete(struct store *st, const char *org_id, const char *id);
int store_role_permissions(struct store *st, const char *role_id, struct store_strlist *out);
int store_role_permission_remove(struct store *st, const char *role_id, const char *permission);
int store_api_key_insert(struct store *st, const struct store_api_key *key);
int store_api_key_get(struct store *st, const char *org_id, const char *id, struct store_api_key *out);
int store_api_key_find(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], struct store_api_key *out);
int store_api_key_list(struct store *st, const struct store_api_key_query *q, struct store_api_key_list *out);
int store_api_key_count(struct store *st, const char *org_id, int64_t *count);
int store_api_key_update(struct store *st, const struct store_api_key *key);
int store_api_key_delete(struct store *st, const char *org_id, const char *id, const struct store_ending *end);
int store_app_key_insert(struct store *st, const struct store_app_key *key);
int store_app_key_find(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], struct store_app_key *out);
int store_api_key_find_previous(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], int64_t now,
                                struct store_api_key *out);
int store_app_key_find_previous(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], int64_t now,
                                struct store_app_key *out);
int store_key_rotate(struct store *st, int kind, const char *org_id, const char *id, const struct store_sealed *value,
                     const char last4[5], const char *modified_by, int64_t prev_valid_until, int64_t now);
int store_overlap_close(struct store *st, int kind, const char *id, int64_t when);
int store_app_key_get(struct store *st, const char *org_id, const char *id, struct store_app_key *out);
int store_app_key_list(struct store *st, const struct store_app_key_query *q, struct store_app_key_list *out);
int store_app_key_update(struct store *st, const struct store_app_key *key);
int store_app_key_delete(struct store *st, const char *org_id, const char *id, const struct store_ending *end);
int store_app_key_delete_owned(struct store *st, const char *owner_id, const struct store_ending *end);
int store_app_key_count(struct store *st, const char *owner_id, int64_t *count);
int store_token_insert(struct store *st, const struct store_token *tok);
int store_token_get(struct store *st, const char *id, struct store_token *out);
int store_token_list(struct store *st, const struct store_token_query *q, struct store_token_list *out);
int store_token_revoke(struct store *st, const char *org_id, const char *id, const struct store_ending *end);
int store_token_update(struct store *st, const struct store_token *tok);
int store_token_revoke_owned(struct store *st, const char *owner_id, const struct store_ending *end);
int store_touch(struct store *st, const struct store_touch *items, size_t n, unsigned char *first);
int store_backup(struct store *st, const char *dest, char **err);
int store_check(struct store *st, char **report);
int store_reseal(struct store *st, int table, int version, store_reseal_fn fn, void *arg, int64_t *count);
int store_secret_versions(struct store *st, int64_t now, int *versions, size_t max, size_t *n);
int store_sealed_sample(struct store *st, int version, struct store_sealed *out);
void store_sealed_clear(struct store_sealed *s);
int store_change_stamp(struct store *st, struct store_stamp *out);
int store_control(struct store *st, int op, void *arg);
int store_counts(struct store *st, char **report);
int store_ready(struct store *st, const char **why);
/* Counts failed store operations as metrics (util/metrics.h); before serving. */
void store_metrics_register(void);
int store_copy_to(struct store *st, struct store *to);
/* Non-zero when the handle has every capability of mask. */
int store_can(const struct store *st, unsigned mask);
int store_invitation_insert(struct store *st, const struct store_invitation *inv);
int store_invitation_get(struct store *st, const char *org_id, const char *id, struct store_invitation *out);
int store_reset(struct store *st, const struct store_keep *keep);
int store_audit_insert(struct store *st, const struct store_audit *e);
int store_audit_list(struct store *st, int64_t since, int64_t limit, struct store_audit_list *out);
int store_audit_walk(struct store *st, int64_t after_seq, int64_t limit, struct store_audit_list *out);
int store_token_rotate(struct store *st, const char *org_id, const char *id, const uint8_t hash[SECRET_HASH_LEN],
                       int secret_version, int64_t prev_valid_until, int64_t now);
int store_idem_get(struct store *st, const uint8_t key_hash[SECRET_HASH_LEN], int64_t not_before,
                   struct store_idempotent *out);
int store_idem_put(struct store *st, const struct store_idempotent *in, int64_t not_before);
int store_idem_prune(struct store *st, int64_t not_before);
void store_idempotent_clear(struct store_idempotent *i);
int store_audit_page(struct store *st, const struct store_audit_page *q, struct store_audit_list *out);
int store_audit_chain_backlog(struct store *st);
int store_audit_checkpoint_insert(struct store *st, const struct store_audit_checkpoint *c);
int store_audit_checkpoint_latest(struct store *st, struct store_audit_checkpoint *out);
int store_audit_checkpoint_walk(struct store *st, int64_t after, int64_t limit, struct store_audit_checkpoint_list *out);
void store_audit_checkpoint_clear(struct store_audit_checkpoint *c);
void store_audit_checkpoint_list_free(struct store_audit_checkpoint_list *l);
/* The chain hash of e after prev: SHA-256 over a label, prev, and e's time
 * and fields, each length-prefixed (so no two field lists hash alike). The
 * seq is left out: a copy of the store renumbers events, and order is
 * already bound by the link to prev. */
void store_audit_hash(const struct store_audit *e, const uint8_t prev[SECRET_HASH_LEN], uint8_t out[SECRET_HASH_LEN]);
void store_audit_list_free(struct store_audit_list *l);
int store_usage_add(struct store *st, const struct store_usage_add *items, size_t n);
int store_usage_get(struct store *st, const char *credential_id, int64_t since_day, struct store_usage *out);
int store_usage_prune(struct store *st, int64_t before_day);
void store_usage_clear(struct store_usage *u);
int store_history_list(struct store *st, const struct store_history_query *q, struct store_history_list *out);
int store_history_prune(struct store *st, int64_t before, int64_t limit, int64_t *pruned);
void store_history_list_free(struct store_history_list *l);
int store_leak_mark(struct store *st, const struct store_leak *l);
int store_leak_get(struct store *st, const char *credential_id, struct store_leak *out);
int store_leak_list(struct store *st, const char *org_id, const char *kind, const char *action, int64_t limit,
                    struct store_leak_list *out);
int store_leak_policy_get(struct store *st, const char *org_id, struct store_leak_policy *out);
int store_leak_policy_set(struct store *st, const struct store_leak_policy *p);
int store_leak_report_insert(struct store *st, const struct store_leak_report *r);
int store_leak_reports_prune(struct store *st, int64_t before);
void store_leak_clear(struct store_leak *l);
void store_leak_list_free(struct store_leak_list *l);

/* Row destructors; all are NULL-safe and leave the row zeroed. */
void store_org_clear(struct store_org *o);
void store_user_clear(struct store_user *u);
void store_role_clear(struct store_role *r);
void store_invitation_clear(struct store_invitation *inv);
void store_api_key_clear(struct store_api_key *k);
void store_app_key_clear(struct store_app_key *k);
void store_token_clear(struct store_token *t);
void store_api_key_list_free(struct store_api_key_list *l);
void store_token_list_free(struct store_token_list *l);
void store_app_key_list_free(struct store_app_key_list *l);
void store_user_list_free(struct store_user_list *l);
void store_role_list_free(struct store_role_list *l);
void store_strlist_free(struct store_strlist *l);

int store_webhook_insert(struct store *st, const struct store_webhook *w);
int store_webhook_get(struct store *st, const char *org_id, const char *id, struct store_webhook *out);
int store_webhook_list(struct store *st, const char *org_id, const struct store_page *page,
                       struct store_webhook_list *out);
int store_webhook_update(struct store *st, const struct store_webhook *w);
int store_webhook_delete(struct store *st, const char *org_id, const char *id);
int store_event_enqueue(struct store *st, const struct store_event *e, int64_t *fanned);
int store_delivery_claim(struct store *st, int64_t now, int64_t lease_until, const char *lease, int64_t limit,
                         struct store_delivery_list *out);
int store_delivery_record(struct store *st, const char *lease, const struct store_delivery_outcome *o);
int store_delivery_release(struct store *st, const char *lease);
int store_delivery_list(struct store *st, const char *webhook_id, const struct store_page *page,
                        struct store_delivery_list *out);
int store_attempt_list(struct store *st, const char *webhook_id, const struct store_page *page,
                       struct store_attempt_list *out);
int store_expiry_candidates(struct store *st, int notice, int64_t mask, int64_t from, int64_t to, int64_t limit,
                            struct store_token_list *out);
int store_webhook_subscribed(struct store *st, const char *org_id, int64_t mask, int64_t *count);
int store_ended_by_owner(struct store *st, const char *org_id, const char *owner_id, int64_t from, int64_t to,
                         const char *reason, struct store_ended_list *out);
int store_ended_get(struct store *st, const char *org_id, const char *id, struct store_ended *out);
void store_ended_clear(struct store_ended *e);
void store_ended_list_free(struct store_ended_list *l);
int store_expiry_notice_put(struct store *st, const char *token_id, int notice, int64_t now, int *inserted);
int store_webhook_prune(struct store *st, int64_t before);
void store_webhook_clear(struct store_webhook *w);
void store_webhook_list_free(struct store_webhook_list *l);
void store_delivery_clear(struct store_delivery *d);
void store_delivery_list_free(struct store_delivery_list *l);
void store_attempt_list_free(struct store_attempt_list *l);

/* Test hook: when set, every wrapper first asks it whether to fail, and
 * returns its code instead of calling the backend (see tests/unit/store_faulty.c). */
typedef int (*store_fault_fn)(const char *op);
void store_set_fault_hook(store_fault_fn fn);

#endif
