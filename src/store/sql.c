/* sql.c - every store operation, once, in SQL that SQLite and PostgreSQL
 * both run (see sql.h). Fixed statements are named by enum stmt_id so that a
 * driver can keep them prepared; list queries are composed from their
 * filters, with every value bound, never spliced into the SQL. */
#include "store/sql.h"

#include "store/namecol.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fixed statements. */
enum stmt_id {
    S_META_GET,
    S_META_SET,
    S_ORG_INSERT,
    S_ORG_GET,
    S_ORG_COUNT,
    S_USER_INSERT,
    S_USER_EMAIL_TAKEN,
    S_USER_GET,
    S_USER_GET_ANY_ORG,
    S_ROLE_INSERT,
    S_ROLE_GET,
    S_ROLE_PERM_ADD,
    S_USER_ROLE_ADD,
    S_USER_PERMS,
    S_USER_ROLES,
    S_API_KEY_INSERT,
    S_API_KEY_GET,
    S_API_KEY_FIND,
    S_API_KEY_COUNT,
    S_APP_KEY_INSERT,
    S_APP_KEY_FIND,
    S_TOKEN_INSERT,
    S_TOKEN_GET,
    S_TOKEN_REVOKE,
    S_USER_UPDATE,
    S_USER_ROLE_REMOVE,
    S_ROLE_UPDATE,
    S_ROLE_DELETE,
    S_ROLE_PERMS,
    S_ROLE_PERM_REMOVE,
    S_API_KEY_UPDATE,
    S_API_KEY_DELETE,
    S_APP_KEY_GET,
    S_APP_KEY_UPDATE,
    S_APP_KEY_DELETE,
    S_APP_KEY_DELETE_OWNED,
    S_APP_KEY_COUNT,
    S_TOKEN_UPDATE,
    S_TOKEN_REVOKE_OWNED,
    S_TOUCH_API_KEY,
    S_TOUCH_APP_KEY,
    S_TOUCH_TOKEN,
    S_FIRST_TOUCH_API_KEY,
    S_FIRST_TOUCH_APP_KEY,
    S_FIRST_TOUCH_TOKEN,
    S_TOKEN_ROTATE,
    S_TOKEN_CLOSE_OVERLAP,
    S_API_KEY_FIND_PREVIOUS,
    S_APP_KEY_FIND_PREVIOUS,
    S_API_KEY_ROTATE,
    S_APP_KEY_ROTATE,
    S_API_KEY_CLOSE_OVERLAP,
    S_APP_KEY_CLOSE_OVERLAP,
    S_IDEM_GET,
    S_IDEM_PUT,
    S_IDEM_PRUNE,
    S_AUDIT_INSERT,
    S_AUDIT_LIST,
    S_AUDIT_HEAD_GET,
    S_AUDIT_HEAD_PUT,
    S_AUDIT_HEAD_MOVE,
    S_AUDIT_UNCHAINED,
    S_AUDIT_SET_HASH,
    S_AUDIT_WALK,
    S_AUDIT_UNCHAINED_ORGS,
    S_AUDIT_CHECKPOINT_INSERT,
    S_AUDIT_CHECKPOINT_LATEST,
    S_AUDIT_CHECKPOINT_WALK,
    S_AUDIT_PAGE_ASC,
    S_AUDIT_PAGE_DESC,
    S_ORG_IDS,
    S_INVITATION_INSERT,
    S_INVITATION_GET,
    S_SECRET_VERSIONS,
    S_SEALED_SAMPLE,
    S_TOKEN_REVS,
    S_LOWER,
    S_NAMES_ALL,
    S_NAMES_ALL_FROM,
    S_NAMES_SINCE,
    S_TOKENS_BY_IDS,
    S_USAGE_DAY_ADD,
    S_USAGE_ROUTE_ADD,
    S_USAGE_CLIENT_SEEN,
    S_USAGE_CLIENT_TRIM,
    S_API_KEY_TOMBSTONE,
    S_APP_KEY_TOMBSTONE,
    S_APP_KEY_TOMBSTONE_OWNED,
    S_LEAK_MARK,
    S_LEAK_GET,
    S_LEAK_LIST,
    S_LEAK_POLICY_GET,
    S_LEAK_POLICY_SET,
    S_LEAK_REPORT_INSERT,
    S_LEAK_REPORT_PRUNE,
    S_WEBHOOK_INSERT,
    S_WEBHOOK_GET,
    S_WEBHOOK_LIST,
    S_WEBHOOK_COUNT,
    S_WEBHOOK_UPDATE,
    S_WEBHOOK_DELETE,
    S_WEBHOOK_DELETE_DELIVERIES,
    S_WEBHOOK_DELETE_ATTEMPTS,
    S_EVENT_ENQUEUE,
    S_DELIVERY_LEASE,
    S_DELIVERY_CLAIMED,
    S_DELIVERY_RECORD,
    S_DELIVERY_DEFER,
    S_ATTEMPT_INSERT,
    S_DELIVERY_LIST,
    S_DELIVERY_COUNT,
    S_ATTEMPT_LIST,
    S_EXPIRY_CANDIDATES,
    S_EXPIRY_NOTICE_PUT,
    S_WEBHOOK_PRUNE_ATTEMPTS,
    S_WEBHOOK_PRUNE_DELIVERIES,
    S_EXPIRY_PRUNE,
    S_DELIVERY_DUE,
    S_DELIVERY_RELEASE,
    S_WEBHOOK_SUBSCRIBED,
    S_ENDED_BY_OWNER,
    S_ENDED_GET,
    S_COUNT
};
_Static_assert(S_COUNT <= SQL_MAX_FIXED_STATEMENTS, "the drivers keep SQL_MAX_FIXED_STATEMENTS prepared");

#define API_KEY_COLS                                                                                                   \
    "id, org_id, name, last4, category, remote_config_read_enabled, created_by, modified_by, created_at, "             \
    "modified_at, last_used_at, key_lookup, key_sealed, secret_version"
#define APP_KEY_COLS                                                                                                   \
    "id, org_id, owner_id, name, last4, scopes, created_at, last_used_at, key_lookup, key_sealed, secret_version"
/* What a single key read (get, find) adds: its rotation's overlap. */
#define KEY_OVERLAP_COLS ", prev_key_lookup, prev_valid_until, rotated_at"
#define TOKEN_COLS                                                                                                     \
    "id, org_id, owner_id, kind, name, scopes, secret_hash, created_at, modified_at, expires_at, last_used_at, "      \
    "revoked_at, secret_version, prev_secret_hash, prev_secret_version, prev_valid_until, rotated_at, revoked_by, "     \
    "revoke_reason"
/* What a list shows of a token: no hashes (a page reads 100 rows, and each
 * column read is work), read by read_listed_token. */
#define TOKEN_LISTED_COLS                                                                                              \
    "id, org_id, owner_id, kind, name, scopes, created_at, modified_at, expires_at, last_used_at, revoked_at"
#define AUDIT_CHECKPOINT_COLS "number, at, max_seq, heads, prev_digest, secret_version, mac"
#define AUDIT_COLS "seq, at, org_id, actor_id, action, target_kind, target_id, source, prev_hash, hash"
#define USER_COLS "id, org_id, email, name, title, service_account, disabled, created_at, modified_at, verified"
#define ROLE_COLS                                                                                                      \
    "id, org_id, name, created_at, modified_at, "                                                                      \
    "(SELECT count(*) FROM user_roles ur WHERE ur.role_id = roles.id) AS user_count, managed, "                        \
    "receives_permissions_from"
#define NAMES_COLS "id, lower(name), owner_id, kind, created_at, expires_at, revoked_at, rev"
#define INVITATION_COLS "id, org_id, user_id, invite_type, login_method, created_at, expires_at"
#define HISTORY_TOMB_COLS "id, org_id, kind, name, owner_id, last4, created_at, ended_at, ended_by, reason"
/* ended_at, ended_by and reason from parameters n, n+1, n+2. */
#define HISTORY_TOMB_END(n) HISTORY_TOMB_END_##n
#define HISTORY_TOMB_END_2 "CAST(?2 AS BIGINT), CAST(?3 AS TEXT), CAST(?4 AS TEXT)"
#define HISTORY_TOMB_END_3 "CAST(?3 AS BIGINT), CAST(?4 AS TEXT), CAST(?5 AS TEXT)"
#define LEAK_COLS                                                                                                      \
    "credential_id, org_id, kind, leaked_at, last_reported_at, reports, url, source, reporter, action"
#define WEBHOOK_COLS                                                                                                   \
    "id, org_id, name, url, events, enabled, secret_version, secret_sealed, created_by, created_at, modified_at"
#define DELIVERY_COLS                                                                                                  \
    "webhook_id, event_id, org_id, event_type, body, created_at, state, attempts, next_attempt_at, last_attempt_at, " \
    "last_status, last_error, delivered_at"
#define ATTEMPT_COLS "webhook_id, event_id, attempt, at, status_code, error, duration_ms"

/* "?a, ?a+1, ... ?a+9" for a = 1, 11, ... 91 (S_TOKENS_BY_IDS). */
#define IDS_10(a) IDS_10_##a
#define IDS_10_1 "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10"
#define IDS_10_11 "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20"
#define IDS_10_21 "?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30"
#define IDS_10_31 "?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40"
#define IDS_10_41 "?41, ?42, ?43, ?44, ?45, ?46, ?47, ?48, ?49, ?50"
#define IDS_10_51 "?51, ?52, ?53, ?54, ?55, ?56, ?57, ?58, ?59, ?60"
#define IDS_10_61 "?61, ?62, ?63, ?64, ?65, ?66, ?67, ?68, ?69, ?70"
#define IDS_10_71 "?71, ?72, ?73, ?74, ?75, ?76, ?77, ?78, ?79, ?80"
#define IDS_10_81 "?81, ?82, ?83, ?84, ?85, ?86, ?87, ?88, ?89, ?90"
#define IDS_10_91 "?91, ?92, ?93, ?94, ?95, ?96, ?97, ?98, ?99, ?100"

static const char *const stmt_sql[S_COUNT] = {
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    /* INSERT ... SELECT: the values have no column to take a type from. */
    [S_ORG_INSERT] = "INSERT INTO orgs(id, name, created_at) SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), "
                     "CAST(?3 AS BIGINT) WHERE NOT EXISTS (SELECT 1 FROM orgs WHERE lower(name) = lower(CAST(?2 AS TEXT)))",
    [S_ORG_GET] = "SELECT id, name, created_at FROM orgs WHERE id = ?1",
    [S_ORG_COUNT] = "SELECT count(*) FROM orgs",
    [S_USER_INSERT] = "INSERT INTO users(" USER_COLS ") SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS TEXT), "
                      "CAST(?4 AS TEXT), CAST(?5 AS TEXT), CAST(?6 AS INTEGER), CAST(?7 AS INTEGER), "
                      "CAST(?8 AS BIGINT), CAST(?9 AS BIGINT), CAST(?10 AS INTEGER) WHERE NOT EXISTS "
                      "(SELECT 1 FROM users WHERE org_id = CAST(?2 AS TEXT) AND lower(email) = lower(CAST(?3 AS TEXT)))",
    [S_USER_EMAIL_TAKEN] = "SELECT 1 FROM users WHERE org_id = ?1 AND lower(email) = lower(CAST(?2 AS TEXT)) AND id <> ?3",
    [S_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1 AND org_id = ?2",
    [S_USER_GET_ANY_ORG] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    [S_ROLE_INSERT] = "INSERT INTO roles(id, org_id, name, created_at, modified_at, managed, receives_permissions_from) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_ROLE_GET] = "SELECT " ROLE_COLS " FROM roles WHERE id = ?1 AND org_id = ?2",
    [S_ROLE_PERM_ADD] = "INSERT INTO role_permissions(role_id, permission) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    [S_USER_ROLE_ADD] = "INSERT INTO user_roles(user_id, role_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    [S_USER_PERMS] = "SELECT DISTINCT rp.permission FROM user_roles ur JOIN role_permissions rp "
                     "ON rp.role_id = ur.role_id WHERE ur.user_id = ?1 ORDER BY rp.permission",
    [S_USER_ROLES] = "SELECT role_id FROM user_roles WHERE user_id = ?1 ORDER BY role_id",
    [S_API_KEY_INSERT] = "INSERT INTO api_keys(" API_KEY_COLS
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [S_API_KEY_GET] = "SELECT " API_KEY_COLS KEY_OVERLAP_COLS " FROM api_keys WHERE id = ?1 AND org_id = ?2",
    [S_API_KEY_FIND] = "SELECT " API_KEY_COLS KEY_OVERLAP_COLS " FROM api_keys WHERE key_lookup = ?1",
    [S_API_KEY_COUNT] = "SELECT count(*) FROM api_keys WHERE org_id = ?1",
    [S_APP_KEY_INSERT] = "INSERT INTO app_keys(" APP_KEY_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [S_APP_KEY_FIND] = "SELECT " APP_KEY_COLS KEY_OVERLAP_COLS " FROM app_keys WHERE key_lookup = ?1",
    [S_TOKEN_INSERT] = "INSERT INTO tokens(" TOKEN_COLS
                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, NULL, NULL, NULL, NULL, NULL, NULL)",
    [S_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM tokens WHERE id = ?1",
    [S_TOKEN_REVOKE] = "UPDATE tokens SET revoked_at = ?3, revoked_by = ?4, revoke_reason = ?5 "
                       "WHERE id = ?1 AND org_id = ?2 AND revoked_at IS NULL",
    [S_USER_UPDATE] = "UPDATE users SET email = ?3, name = ?4, title = ?5, disabled = ?6, modified_at = ?7 "
                      "WHERE id = ?1 AND org_id = ?2",
    [S_USER_ROLE_REMOVE] = "DELETE FROM user_roles WHERE user_id = ?1 AND role_id = ?2",
    [S_ROLE_UPDATE] = "UPDATE roles SET name = ?3, modified_at = ?4, receives_permissions_from = ?5 "
                      "WHERE id = ?1 AND org_id = ?2",
    [S_ROLE_DELETE] = "DELETE FROM roles WHERE id = ?1 AND org_id = ?2",
    [S_ROLE_PERMS] = "SELECT permission FROM role_permissions WHERE role_id = ?1 ORDER BY permission",
    [S_ROLE_PERM_REMOVE] = "DELETE FROM role_permissions WHERE role_id = ?1 AND permission = ?2",
    [S_API_KEY_UPDATE] = "UPDATE api_keys SET name = ?3, category = ?4, remote_config_read_enabled = ?5, "
                         "modified_by = ?6, modified_at = ?7 WHERE id = ?1 AND org_id = ?2",
    [S_API_KEY_DELETE] = "DELETE FROM api_keys WHERE id = ?1 AND org_id = ?2",
    [S_APP_KEY_GET] = "SELECT " APP_KEY_COLS KEY_OVERLAP_COLS " FROM app_keys WHERE id = ?1 AND org_id = ?2",
    [S_APP_KEY_UPDATE] = "UPDATE app_keys SET name = ?3, scopes = ?4 WHERE id = ?1 AND org_id = ?2",
    [S_APP_KEY_DELETE] = "DELETE FROM app_keys WHERE id = ?1 AND org_id = ?2",
    [S_APP_KEY_DELETE_OWNED] = "DELETE FROM app_keys WHERE owner_id = ?1",
    [S_APP_KEY_COUNT] = "SELECT count(*) FROM app_keys WHERE owner_id = ?1",
    [S_TOKEN_UPDATE] = "UPDATE tokens SET name = ?3, scopes = ?4, modified_at = ?5 "
                       "WHERE id = ?1 AND org_id = ?2 AND revoked_at IS NULL",
    [S_TOKEN_REVOKE_OWNED] = "UPDATE tokens SET revoked_at = ?2, revoked_by = ?3, revoke_reason = ?4 "
                             "WHERE owner_id = ?1 AND revoked_at IS NULL",
    [S_TOUCH_API_KEY] = "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND coalesce(last_used_at, 0) < ?2",
    [S_TOUCH_APP_KEY] = "UPDATE app_keys SET last_used_at = ?2 WHERE id = ?1 AND coalesce(last_used_at, 0) < ?2",
    [S_TOUCH_TOKEN] = "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1 AND coalesce(last_used_at, 0) < ?2",
    [S_FIRST_TOUCH_API_KEY] = "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND last_used_at IS NULL",
    [S_FIRST_TOUCH_APP_KEY] = "UPDATE app_keys SET last_used_at = ?2 WHERE id = ?1 AND last_used_at IS NULL",
    [S_FIRST_TOUCH_TOKEN] = "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1 AND last_used_at IS NULL",
    /* A rotation keeps the hash in use as the previous one, unless an overlap
     * is still open (then nothing changes: the caller answers 409). */
    [S_TOKEN_ROTATE] = "UPDATE tokens SET prev_secret_hash = secret_hash, prev_secret_version = secret_version, "
                       "prev_valid_until = ?3, secret_hash = ?4, secret_version = ?5, rotated_at = ?6, modified_at = ?6 "
                       "WHERE id = ?1 AND org_id = ?2 AND revoked_at IS NULL "
                       "AND (prev_valid_until IS NULL OR prev_valid_until <= ?6)",
    [S_TOKEN_CLOSE_OVERLAP] = "UPDATE tokens SET prev_valid_until = ?2 WHERE id = ?1 AND prev_valid_until > ?2",
    [S_API_KEY_FIND_PREVIOUS] = "SELECT " API_KEY_COLS KEY_OVERLAP_COLS
                                " FROM api_keys WHERE prev_key_lookup = ?1 AND prev_valid_until > ?2",
    [S_APP_KEY_FIND_PREVIOUS] = "SELECT " APP_KEY_COLS KEY_OVERLAP_COLS
                                " FROM app_keys WHERE prev_key_lookup = ?1 AND prev_valid_until > ?2",
    /* As S_TOKEN_ROTATE: the lookup hash in use becomes the previous one,
     * unless an overlap is still open. */
    [S_API_KEY_ROTATE] = "UPDATE api_keys SET prev_key_lookup = CASE WHEN ?3 > ?8 THEN key_lookup END, "
                         "prev_secret_version = secret_version, "
                         "prev_valid_until = ?3, key_lookup = ?4, key_sealed = ?5, secret_version = ?6, last4 = ?7, "
                         "rotated_at = ?8, modified_at = ?8, modified_by = ?9 WHERE id = ?1 AND org_id = ?2 "
                         "AND (prev_valid_until IS NULL OR prev_valid_until <= ?8)",
    [S_APP_KEY_ROTATE] = "UPDATE app_keys SET prev_key_lookup = CASE WHEN ?3 > ?8 THEN key_lookup END, "
                         "prev_secret_version = secret_version, "
                         "prev_valid_until = ?3, key_lookup = ?4, key_sealed = ?5, secret_version = ?6, last4 = ?7, "
                         "rotated_at = ?8 WHERE id = ?1 AND org_id = ?2 "
                         "AND (prev_valid_until IS NULL OR prev_valid_until <= ?8)",
    /* A closed overlap forgets the previous lookup hash: the partial index
     * of keys in an overlap stays small, and nothing is left to match. */
    [S_API_KEY_CLOSE_OVERLAP] = "UPDATE api_keys SET prev_valid_until = ?2, prev_key_lookup = NULL "
                                "WHERE id = ?1 AND prev_valid_until > ?2",
    [S_APP_KEY_CLOSE_OVERLAP] = "UPDATE app_keys SET prev_valid_until = ?2, prev_key_lookup = NULL "
                                "WHERE id = ?1 AND prev_valid_until > ?2",
    [S_IDEM_GET] = "SELECT org_id, request_hash, created_at, status, secret_version, sealed_answer "
                   "FROM idempotency_keys WHERE key_hash = ?1 AND created_at > ?2",
    [S_IDEM_PUT] = "INSERT INTO idempotency_keys(key_hash, org_id, request_hash, created_at, status, secret_version, "
                   "sealed_answer) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key_hash) DO UPDATE SET "
                   "org_id = excluded.org_id, request_hash = excluded.request_hash, created_at = excluded.created_at, "
                   "status = excluded.status, secret_version = excluded.secret_version, "
                   "sealed_answer = excluded.sealed_answer",
    [S_IDEM_PRUNE] = "DELETE FROM idempotency_keys WHERE created_at <= ?1",
    [S_AUDIT_INSERT] = "INSERT INTO audit_events(at, org_id, actor_id, action, target_kind, target_id, source, "
                       "prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_AUDIT_HEAD_GET] = "SELECT count, hash FROM audit_heads WHERE org_key = ?1",
    [S_AUDIT_HEAD_PUT] = "INSERT INTO audit_heads(org_key, count, hash) VALUES (?1, ?2, ?3) "
                         "ON CONFLICT (org_key) DO UPDATE SET count = excluded.count, hash = excluded.hash",
    /* Moves a head only from where this handle left it (audit_append). */
    [S_AUDIT_HEAD_MOVE] = "UPDATE audit_heads SET count = ?2, hash = ?3 WHERE org_key = ?1 AND count = ?4 AND hash = ?5",
    [S_AUDIT_UNCHAINED] = "SELECT " AUDIT_COLS " FROM audit_events WHERE coalesce(org_id, '') = ?1 AND hash IS NULL "
                          "ORDER BY seq",
    [S_AUDIT_SET_HASH] = "UPDATE audit_events SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
    [S_AUDIT_WALK] = "SELECT " AUDIT_COLS " FROM audit_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [S_AUDIT_UNCHAINED_ORGS] = "SELECT DISTINCT coalesce(org_id, '') FROM audit_events WHERE hash IS NULL",
    [S_AUDIT_CHECKPOINT_INSERT] = "INSERT INTO audit_checkpoints(" AUDIT_CHECKPOINT_COLS ") "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_AUDIT_CHECKPOINT_LATEST] = "SELECT " AUDIT_CHECKPOINT_COLS " FROM audit_checkpoints ORDER BY number DESC LIMIT 1",
    [S_AUDIT_PAGE_ASC] = "SELECT " AUDIT_COLS " FROM audit_events WHERE org_id = ?1 AND at >= ?2 AND at <= ?3 "
                         "AND (at > ?4 OR (at = ?4 AND seq > ?5)) ORDER BY at, seq LIMIT ?6",
    [S_AUDIT_PAGE_DESC] = "SELECT " AUDIT_COLS " FROM audit_events WHERE org_id = ?1 AND at >= ?2 AND at <= ?3 "
                          "AND (at < ?4 OR (at = ?4 AND seq < ?5)) ORDER BY at DESC, seq DESC LIMIT ?6",
    [S_AUDIT_CHECKPOINT_WALK] = "SELECT " AUDIT_CHECKPOINT_COLS " FROM audit_checkpoints WHERE number > ?1 "
                                "ORDER BY number LIMIT ?2",
    [S_AUDIT_LIST] = "SELECT " AUDIT_COLS " FROM audit_events WHERE at >= ?1 ORDER BY seq LIMIT ?2",
    [S_ORG_IDS] = "SELECT id FROM orgs ORDER BY created_at, id",
    [S_INVITATION_INSERT] = "INSERT INTO invitations(" INVITATION_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_INVITATION_GET] = "SELECT " INVITATION_COLS " FROM invitations WHERE id = ?1 AND org_id = ?2",
    [S_SECRET_VERSIONS] = "SELECT secret_version FROM api_keys UNION SELECT secret_version FROM app_keys "
                          "UNION SELECT secret_version FROM tokens WHERE revoked_at IS NULL "
                          "AND (expires_at IS NULL OR expires_at > ?1) UNION SELECT secret_version FROM webhooks",
    [S_SEALED_SAMPLE] = "SELECT key_lookup, key_sealed, secret_version FROM api_keys WHERE secret_version = ?1 "
                        "UNION ALL SELECT key_lookup, key_sealed, secret_version FROM app_keys "
                        "WHERE secret_version = ?1 LIMIT 1",
    /* The in-memory token names (namecol.h): the store's revision, a
     * filter lowered as the backend lowers names, every live token of an
     * org, and the tokens of an org changed after a revision. */
    [S_TOKEN_REVS] = "SELECT rev, deleted_rev FROM token_rev",
    [S_LOWER] = "SELECT lower(CAST(?1 AS TEXT))",
    [S_NAMES_ALL] = "SELECT " NAMES_COLS " FROM tokens WHERE org_id = ?1 AND revoked_at IS NULL",
    [S_NAMES_ALL_FROM] = "SELECT " NAMES_COLS " FROM tokens WHERE org_id = ?1 AND revoked_at IS NULL AND id > ?2 "
                         "ORDER BY id LIMIT ?3",
    /* Rows of one transaction may share a revision (PostgreSQL): by (rev, id). */
    [S_NAMES_SINCE] = "SELECT " NAMES_COLS " FROM tokens WHERE org_id = ?1 AND (rev, id) > (?2, ?3) "
                      "ORDER BY rev, id LIMIT ?4",
    /* A page's rows by their ids (NAMECOL_MAX_PAGE of them; unused ones
     * bound NULL, which matches nothing): one statement kept prepared. */
    [S_TOKENS_BY_IDS] = "SELECT " TOKEN_LISTED_COLS " FROM tokens WHERE id IN (" IDS_10(1) ", " IDS_10(11) ", " IDS_10(21)
                        ", " IDS_10(31) ", " IDS_10(41) ", " IDS_10(51) ", " IDS_10(61) ", " IDS_10(71) ", "
                        IDS_10(81) ", " IDS_10(91) ")",
    /* A flush of usage buffers (auth/usage.h) adds to what is there; a
     * time moves forward only (CASE: SQLite's max() is GREATEST() in
     * PostgreSQL). */
    [S_USAGE_DAY_ADD] = "INSERT INTO credential_usage_days(credential_id, day, requests) VALUES (?1, ?2, ?3) "
                        "ON CONFLICT (credential_id, day) DO UPDATE SET "
                        "requests = credential_usage_days.requests + excluded.requests",
    [S_USAGE_ROUTE_ADD] = "INSERT INTO credential_usage_routes(credential_id, route, requests, last_seen) "
                          "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (credential_id, route) DO UPDATE SET "
                          "requests = credential_usage_routes.requests + excluded.requests, last_seen = CASE "
                          "WHEN excluded.last_seen > credential_usage_routes.last_seen THEN excluded.last_seen "
                          "ELSE credential_usage_routes.last_seen END",
    [S_USAGE_CLIENT_SEEN] = "INSERT INTO credential_usage_clients(credential_id, address, user_agent, last_seen) "
                            "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (credential_id, address, user_agent) DO UPDATE SET "
                            "last_seen = CASE WHEN excluded.last_seen > credential_usage_clients.last_seen "
                            "THEN excluded.last_seen ELSE credential_usage_clients.last_seen END",
    /* Keeps a credential's STORE_USAGE_CLIENTS latest clients (and any tied
     * with the last of them; reads take STORE_USAGE_CLIENTS). */
    [S_USAGE_CLIENT_TRIM] = "DELETE FROM credential_usage_clients WHERE credential_id = ?1 AND last_seen < "
                            "(SELECT last_seen FROM credential_usage_clients WHERE credential_id = ?1 "
                            "ORDER BY last_seen DESC LIMIT 1 OFFSET 4)",
    /* A deleted key's tombstone (the history), written just before the
     * delete in its transaction: what lists show, never the sealed value or
     * the lookup hash. ?3 when, ?4 by, ?5 why (?2 .. ?4 for an owner's). */
    [S_API_KEY_TOMBSTONE] = "INSERT INTO credential_history(" HISTORY_TOMB_COLS ") SELECT id, org_id, 1, name, "
                            "created_by, last4, created_at, " HISTORY_TOMB_END(3) " FROM api_keys "
                            "WHERE id = ?1 AND org_id = ?2",
    [S_APP_KEY_TOMBSTONE] = "INSERT INTO credential_history(" HISTORY_TOMB_COLS ") SELECT id, org_id, 2, name, "
                            "owner_id, last4, created_at, " HISTORY_TOMB_END(3) " FROM app_keys "
                            "WHERE id = ?1 AND org_id = ?2",
    [S_APP_KEY_TOMBSTONE_OWNED] = "INSERT INTO credential_history(" HISTORY_TOMB_COLS ") SELECT id, org_id, 2, name, "
                                  "owner_id, last4, created_at, " HISTORY_TOMB_END(2) " FROM app_keys "
                                  "WHERE owner_id = ?1",
    /* A later report keeps the first one's url, source and reporter. */
    [S_LEAK_MARK] = "INSERT INTO credential_leaks(" LEAK_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8, ?9) "
                    "ON CONFLICT (credential_id) DO UPDATE SET last_reported_at = excluded.last_reported_at, "
                    "reports = credential_leaks.reports + 1, action = excluded.action",
    [S_LEAK_GET] = "SELECT " LEAK_COLS " FROM credential_leaks WHERE credential_id = ?1",
    [S_LEAK_LIST] = "SELECT " LEAK_COLS " FROM credential_leaks WHERE org_id = ?1 "
                    "AND (CAST(?2 AS TEXT) IS NULL OR kind = ?2) AND (CAST(?3 AS TEXT) IS NULL OR action = ?3) "
                    "ORDER BY leaked_at DESC, credential_id LIMIT ?4",
    [S_LEAK_POLICY_GET] = "SELECT org_id, policy, modified_at, modified_by FROM leak_policies WHERE org_id = ?1",
    [S_LEAK_POLICY_SET] = "INSERT INTO leak_policies(org_id, policy, modified_at, modified_by) VALUES (?1, ?2, ?3, ?4) "
                          "ON CONFLICT (org_id) DO UPDATE SET policy = excluded.policy, "
                          "modified_at = excluded.modified_at, modified_by = excluded.modified_by",
    [S_LEAK_REPORT_PRUNE] = "DELETE FROM leak_reports WHERE received_at < ?1",
    [S_LEAK_REPORT_INSERT] = "INSERT INTO leak_reports(id, received_at, reporter, entries, matched) "
                             "VALUES (?1, ?2, ?3, ?4, ?5)",
    /* Webhooks and their outbox (docs/api/webhooks.md). */
    [S_WEBHOOK_INSERT] = "INSERT INTO webhooks(" WEBHOOK_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [S_WEBHOOK_GET] = "SELECT " WEBHOOK_COLS " FROM webhooks WHERE id = ?1 AND org_id = ?2",
    [S_WEBHOOK_LIST] = "SELECT " WEBHOOK_COLS " FROM webhooks WHERE org_id = ?1 ORDER BY created_at, id LIMIT ?2 OFFSET ?3",
    [S_WEBHOOK_COUNT] = "SELECT count(*) FROM webhooks WHERE org_id = ?1",
    [S_WEBHOOK_UPDATE] = "UPDATE webhooks SET name = ?3, url = ?4, events = ?5, enabled = ?6, modified_at = ?7 "
                         "WHERE id = ?1 AND org_id = ?2",
    [S_WEBHOOK_DELETE] = "DELETE FROM webhooks WHERE id = ?1 AND org_id = ?2",
    [S_WEBHOOK_DELETE_DELIVERIES] = "DELETE FROM webhook_deliveries WHERE webhook_id = ?1",
    [S_WEBHOOK_DELETE_ATTEMPTS] = "DELETE FROM webhook_attempts WHERE webhook_id = ?1",
    /* One row per subscribed webhook, none when the org has none: a single
     * indexed statement on every credential change. */
    [S_EVENT_ENQUEUE] = "INSERT INTO webhook_deliveries(webhook_id, event_id, org_id, event_type, body, created_at, "
                        "state, attempts, next_attempt_at) SELECT id, CAST(?2 AS TEXT), org_id, CAST(?3 AS TEXT), "
                        "CAST(?4 AS TEXT), CAST(?5 AS BIGINT), 0, 0, CAST(?5 AS BIGINT) FROM webhooks "
                        "WHERE org_id = ?1 AND enabled = 1 AND (events & CAST(?6 AS BIGINT)) <> 0",
    /* The outer conditions are checked again on each row: a claimer that
     * waited for another's row lock (PostgreSQL) skips rows it leased. */
    [S_DELIVERY_LEASE] = "UPDATE webhook_deliveries SET lease_token = ?1, lease_until = ?2 WHERE (webhook_id, event_id) "
                         "IN (SELECT webhook_id, event_id FROM webhook_deliveries WHERE state = 0 AND "
                         "next_attempt_at <= ?3 AND (lease_until IS NULL OR lease_until <= ?3) "
                         "ORDER BY next_attempt_at LIMIT ?4) AND state = 0 AND (lease_until IS NULL OR lease_until <= ?3)",
    [S_DELIVERY_CLAIMED] = "SELECT d.webhook_id, d.event_id, d.org_id, d.event_type, d.body, d.created_at, d.state, "
                           "d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, "
                           "d.delivered_at, w.url, w.secret_sealed, w.secret_version FROM webhook_deliveries d "
                           "JOIN webhooks w ON w.id = d.webhook_id WHERE d.lease_token = ?1 "
                           "ORDER BY d.next_attempt_at, d.event_id",
    [S_DELIVERY_RECORD] = "UPDATE webhook_deliveries SET attempts = ?4, state = ?5, next_attempt_at = ?6, "
                          "last_attempt_at = ?7, last_status = ?8, last_error = ?9, delivered_at = ?10, "
                          "lease_token = NULL, lease_until = NULL "
                          "WHERE webhook_id = ?1 AND event_id = ?2 AND lease_token = ?3",
    [S_ATTEMPT_INSERT] = "INSERT INTO webhook_attempts(" ATTEMPT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_DELIVERY_LIST] = "SELECT " DELIVERY_COLS " FROM webhook_deliveries WHERE webhook_id = ?1 "
                        "ORDER BY created_at DESC, event_id DESC LIMIT ?2 OFFSET ?3",
    [S_DELIVERY_COUNT] = "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = ?1",
    [S_ATTEMPT_LIST] = "SELECT " ATTEMPT_COLS " FROM webhook_attempts WHERE webhook_id = ?1 AND event_id IN "
                       "(SELECT event_id FROM webhook_deliveries WHERE webhook_id = ?1 "
                       "ORDER BY created_at DESC, event_id DESC LIMIT ?2 OFFSET ?3) ORDER BY event_id, attempt",
    [S_EXPIRY_CANDIDATES] = "SELECT " TOKEN_LISTED_COLS " FROM tokens WHERE revoked_at IS NULL AND expires_at > ?2 "
                            "AND expires_at <= ?3 AND org_id IN (SELECT org_id FROM webhooks WHERE enabled = 1 "
                            "AND (events & CAST(?5 AS BIGINT)) <> 0) "
                            "AND NOT EXISTS (SELECT 1 FROM expiry_notices n WHERE n.token_id = tokens.id "
                            "AND n.notice = ?1) ORDER BY expires_at, id LIMIT ?4",
    [S_EXPIRY_NOTICE_PUT] = "INSERT INTO expiry_notices(token_id, notice, sent_at) VALUES (?1, ?2, ?3) "
                            "ON CONFLICT DO NOTHING",
    [S_WEBHOOK_PRUNE_ATTEMPTS] = "DELETE FROM webhook_attempts WHERE (webhook_id, event_id) IN (SELECT webhook_id, "
                                 "event_id FROM webhook_deliveries WHERE state <> 0 AND created_at < ?1)",
    [S_WEBHOOK_PRUNE_DELIVERIES] = "DELETE FROM webhook_deliveries WHERE state <> 0 AND created_at < ?1",
    [S_DELIVERY_DUE] = "SELECT 1 FROM webhook_deliveries WHERE state = 0 AND next_attempt_at <= ?1 "
                        "AND (lease_until IS NULL OR lease_until <= ?1) LIMIT 1",
    /* What a user's disabling ended (api/users.c, auth/lifecycle.c): its
     * tokens revoked and application keys deleted, with that reason, in a
     * window of time (the CLI audits a moment after it disables). */
    [S_ENDED_BY_OWNER] = "SELECT id, CASE kind WHEN 2 THEN 'service_access_token' ELSE 'personal_access_token' END, "
                         "name, owner_id, expires_at FROM tokens WHERE org_id = ?1 AND owner_id = ?2 "
                         "AND revoked_at >= ?3 AND revoked_at <= ?4 AND revoke_reason = ?5 "
                         "UNION ALL SELECT id, 'application_key', name, owner_id, CAST(NULL AS BIGINT) "
                         "FROM credential_history WHERE org_id = ?1 AND owner_id = ?2 AND kind = 2 "
                         "AND ended_at >= ?3 AND ended_at <= ?4 AND reason = ?5 ORDER BY 1",
    [S_ENDED_GET] = "SELECT id, CASE kind WHEN 1 THEN 'api_key' ELSE 'application_key' END, name, owner_id, "
                    "CAST(NULL AS BIGINT) FROM credential_history WHERE id = ?1 AND org_id = ?2 AND kind IN (1, 2)",
    [S_WEBHOOK_SUBSCRIBED] = "SELECT events FROM webhooks WHERE org_id = ?1 AND enabled = 1",
    /* A failed attempt holds back the webhook's other pending deliveries
     * (unclaimed, or claimed in the same batch) until its next try: a
     * receiver that is down costs one attempt per backoff, not one per
     * event, and does not hold the delivery thread from other webhooks. */
    [S_DELIVERY_DEFER] = "UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE webhook_id = ?1 AND state = 0 "
                         "AND next_attempt_at < ?2 AND (lease_token IS NULL OR lease_token = ?3)",
    [S_DELIVERY_RELEASE] = "UPDATE webhook_deliveries SET lease_token = NULL, lease_until = NULL WHERE lease_token = ?1",
    [S_EXPIRY_PRUNE] = "DELETE FROM expiry_notices WHERE sent_at < ?1 AND NOT EXISTS (SELECT 1 FROM tokens t "
                       "WHERE t.id = expiry_notices.token_id AND t.revoked_at IS NULL "
                       "AND (t.expires_at IS NULL OR t.expires_at > ?1))",
};
_Static_assert(STORE_USAGE_CLIENTS == 5, "S_USAGE_CLIENT_TRIM keeps 5 clients (OFFSET 4)");

static struct sql_store *S(struct store *st)
{
    return (struct sql_store *)st;
}

/* Statements that may take access away: each moves this connection's change
 * stamp at once (store.h, change_stamp), committed or not. Only the
 * connection that ran them can see them before they commit, so the count is
 * the handle's own: other connections learn of them by the commit. */
static const unsigned char takes_access_away[S_COUNT] = {
    [S_TOKEN_REVOKE] = 1,      [S_TOKEN_REVOKE_OWNED] = 1, [S_TOKEN_UPDATE] = 1,   [S_USER_UPDATE] = 1,
    [S_USER_ROLE_REMOVE] = 1,  [S_ROLE_DELETE] = 1,        [S_ROLE_UPDATE] = 1,    [S_ROLE_PERM_REMOVE] = 1,
    [S_API_KEY_DELETE] = 1,    [S_APP_KEY_DELETE] = 1,     [S_APP_KEY_UPDATE] = 1, [S_APP_KEY_DELETE_OWNED] = 1,
    [S_API_KEY_UPDATE] = 1,    [S_TOKEN_ROTATE] = 1,       [S_TOKEN_CLOSE_OVERLAP] = 1,
    [S_API_KEY_ROTATE] = 1,    [S_APP_KEY_ROTATE] = 1,     [S_API_KEY_CLOSE_OVERLAP] = 1, [S_APP_KEY_CLOSE_OVERLAP] = 1,
};

static void took_access_away(struct sql_store *s)
{
    s->access_taken++;
}

void sql_store_init(struct sql_store *s, const struct sql_driver *drv, unsigned caps)
{
    /* Every fixed statement has its text: a missing one is a bug of this
     * file, found at the first open rather than as a failed prepare later. */
    for (int i = 0; i < S_COUNT; i++)
        if (!stmt_sql[i]) {
            log_error("store: statement %d has no SQL", i);
            abort();
        }
    s->base.ops = &store_sql_ops;
    s->base.caps = caps;
    s->drv = drv;
    s->depth = 0;
    s->unreleased = 0;
    s->names = NULL;
    s->names_mode = -1;
}

void sql_store_share_names(struct sql_store *s, const char *key)
{
    s->names = namecol_set_take(key);
}

/* ---- parameters ---- */

static void p_int(struct sql_params *p, int64_t i)
{
    p->v[p->n++] = (struct sql_param){.type = SQL_INT, .i = i};
}

/* Text, or NULL for a NULL pointer. */
static void p_text(struct sql_params *p, const char *t)
{
    p->v[p->n++] = t ? (struct sql_param){.type = SQL_TEXT, .p = t} : (struct sql_param){.type = SQL_NULL};
}

/* An optional id held in a fixed array: "" is NULL. */
static void p_id(struct sql_params *p, const char *t)
{
    p_text(p, t && *t ? t : NULL);
}

/* A timestamp: 0 is NULL. */
static void p_time(struct sql_params *p, int64_t t)
{
    if (t)
        p_int(p, t);
    else
        p->v[p->n++] = (struct sql_param){.type = SQL_NULL};
}

static void p_blob(struct sql_params *p, const void *b, size_t len)
{
    p->v[p->n++] = (struct sql_param){.type = SQL_BLOB, .p = b, .len = len};
}

/* ---- running statements and reading rows ---- */

static int run(struct sql_store *s, enum stmt_id id, const struct sql_params *p, struct sql_rows **rows,
               int64_t *changed, const char *what)
{
    static const struct sql_params none = {.n = 0};
    int rc = s->drv->query(s, (int)id, stmt_sql[id], p ? p : &none, rows, changed, what);
    if (takes_access_away[id])
        took_access_away(s); /* after it ran: what reads next on this connection sees it */
    return rc;
}

static int run_composed(struct sql_store *s, const char *sql, const struct sql_params *p, struct sql_rows **rows,
                        int64_t *changed, const char *what)
{
    static const struct sql_params none = {.n = 0};
    return s->drv->query(s, -1, sql, p ? p : &none, rows, changed, what);
}

static int step(struct sql_rows *r, int *row)
{
    return r->drv->step(r, row);
}

static void rows_close(struct sql_rows *r)
{
    if (r)
        r->drv->rows_close(r);
}

static int64_t col_int(struct sql_rows *r, int i)
{
    return r->drv->col_int(r, i);
}

static char *col_dup(struct sql_rows *r, int i)
{
    const char *t = r->drv->col_text(r, i);
    return t ? xstrdup(t) : NULL;
}

/* Copies a text column into a fixed field, cut to fit (ids: always fit).
 * Without snprintf: a list page copies several ids a row (issue 14). */
static void col_copy(struct sql_rows *r, int i, char *out, size_t outlen)
{
    const char *t = r->drv->col_text(r, i);
    size_t n = t ? strnlen(t, outlen - 1) : 0;
    memcpy(out, t ? t : "", n);
    out[n] = '\0';
}

/* Copies a blob column of exactly len bytes; leaves out alone otherwise. */
static void col_fixed_blob(struct sql_rows *r, int i, uint8_t *out, size_t len)
{
    size_t n = 0;
    const void *b = r->drv->col_blob(r, i, &n);
    if (b && n == len)
        memcpy(out, b, len);
}

/* The lookup hash, sealed value and secret version in three columns in a row. */
static void col_sealed(struct sql_rows *r, int lookup_col, int sealed_col, struct store_sealed *out)
{
    size_t n = 0;
    out->secret_version = (int)col_int(r, sealed_col + 1);
    col_fixed_blob(r, lookup_col, out->lookup, SECRET_HASH_LEN);
    const void *b = r->drv->col_blob(r, sealed_col, &n);
    out->sealed = xmalloc(n ? n : 1);
    if (b)
        memcpy(out->sealed, b, n);
    out->sealed_len = n;
}

static void read_api_key(struct sql_rows *r, void *it)
{
    struct store_api_key *k = it;
    col_copy(r, 0, k->id, sizeof k->id);
    col_copy(r, 1, k->org_id, sizeof k->org_id);
    k->name = col_dup(r, 2);
    col_copy(r, 3, k->last4, sizeof k->last4);
    k->category = col_dup(r, 4);
    k->remote_config_read_enabled = (int)col_int(r, 5);
    col_copy(r, 6, k->created_by, sizeof k->created_by);
    col_copy(r, 7, k->modified_by, sizeof k->modified_by);
    k->created_at = col_int(r, 8);
    k->modified_at = col_int(r, 9);
    k->last_used_at = col_int(r, 10);
    col_sealed(r, 11, 12, &k->key);
}

static void read_app_key(struct sql_rows *r, void *it)
{
    struct store_app_key *k = it;
    col_copy(r, 0, k->id, sizeof k->id);
    col_copy(r, 1, k->org_id, sizeof k->org_id);
    col_copy(r, 2, k->owner_id, sizeof k->owner_id);
    k->name = col_dup(r, 3);
    col_copy(r, 4, k->last4, sizeof k->last4);
    k->scopes = col_dup(r, 5);
    k->created_at = col_int(r, 6);
    k->last_used_at = col_int(r, 7);
    col_sealed(r, 8, 9, &k->key);
}

/* The overlap columns (KEY_OVERLAP_COLS) from column `at` on. */
static void read_key_overlap(struct sql_rows *r, int at, struct store_key_overlap *o)
{
    col_fixed_blob(r, at, o->prev_lookup, SECRET_HASH_LEN);
    o->prev_valid_until = col_int(r, at + 1);
    o->rotated_at = col_int(r, at + 2);
}

/* A key read alone (get, find): its columns and its overlap's. */
static void read_api_key_alone(struct sql_rows *r, void *it)
{
    read_api_key(r, it);
    read_key_overlap(r, 14, &((struct store_api_key *)it)->overlap);
}

static void read_app_key_alone(struct sql_rows *r, void *it)
{
    read_app_key(r, it);
    read_key_overlap(r, 11, &((struct store_app_key *)it)->overlap);
}

static void read_token(struct sql_rows *r, void *it)
{
    struct store_token *t = it;
    col_copy(r, 0, t->id, sizeof t->id);
    col_copy(r, 1, t->org_id, sizeof t->org_id);
    col_copy(r, 2, t->owner_id, sizeof t->owner_id);
    t->kind = (int)col_int(r, 3);
    t->name = col_dup(r, 4);
    t->scopes = col_dup(r, 5);
    col_fixed_blob(r, 6, t->secret_hash, SECRET_HASH_LEN);
    t->created_at = col_int(r, 7);
    t->modified_at = col_int(r, 8);
    t->expires_at = col_int(r, 9);
    t->last_used_at = col_int(r, 10);
    t->revoked_at = col_int(r, 11);
    t->secret_version = (int)col_int(r, 12);
    col_fixed_blob(r, 13, t->prev_secret_hash, SECRET_HASH_LEN);
    t->prev_secret_version = (int)col_int(r, 14);
    t->prev_valid_until = col_int(r, 15);
    t->rotated_at = col_int(r, 16);
    col_copy(r, 17, t->revoked_by, sizeof t->revoked_by);
    t->revoke_reason = col_dup(r, 18);
}

/* A row of TOKEN_LISTED_COLS: the hash fields stay zero. */
static void read_listed_token(struct sql_rows *r, void *it)
{
    struct store_token *t = it;
    col_copy(r, 0, t->id, sizeof t->id);
    col_copy(r, 1, t->org_id, sizeof t->org_id);
    col_copy(r, 2, t->owner_id, sizeof t->owner_id);
    t->kind = (int)col_int(r, 3);
    t->name = col_dup(r, 4);
    t->scopes = col_dup(r, 5);
    t->created_at = col_int(r, 6);
    t->modified_at = col_int(r, 7);
    t->expires_at = col_int(r, 8);
    t->last_used_at = col_int(r, 9);
    t->revoked_at = col_int(r, 10);
}

static void read_user(struct sql_rows *r, void *it)
{
    struct store_user *u = it;
    col_copy(r, 0, u->id, sizeof u->id);
    col_copy(r, 1, u->org_id, sizeof u->org_id);
    u->email = col_dup(r, 2);
    u->name = col_dup(r, 3);
    u->title = col_dup(r, 4);
    u->service_account = (int)col_int(r, 5);
    u->disabled = (int)col_int(r, 6);
    u->created_at = col_int(r, 7);
    u->modified_at = col_int(r, 8);
    u->verified = (int)col_int(r, 9);
}

static void read_role(struct sql_rows *r, void *it)
{
    struct store_role *role = it;
    col_copy(r, 0, role->id, sizeof role->id);
    col_copy(r, 1, role->org_id, sizeof role->org_id);
    role->name = col_dup(r, 2);
    role->created_at = col_int(r, 3);
    role->modified_at = col_int(r, 4);
    role->user_count = col_int(r, 5);
    role->managed = (int)col_int(r, 6);
    role->receives = col_dup(r, 7);
}

static void read_org(struct sql_rows *r, void *it)
{
    struct store_org *o = it;
    col_copy(r, 0, o->id, sizeof o->id);
    o->name = col_dup(r, 1);
    o->created_at = col_int(r, 2);
}

static void read_invitation(struct sql_rows *r, void *it)
{
    struct store_invitation *inv = it;
    col_copy(r, 0, inv->id, sizeof inv->id);
    col_copy(r, 1, inv->org_id, sizeof inv->org_id);
    col_copy(r, 2, inv->user_id, sizeof inv->user_id);
    col_copy(r, 3, inv->invite_type, sizeof inv->invite_type);
    inv->login_method = col_dup(r, 4);
    inv->created_at = col_int(r, 5);
    inv->expires_at = col_int(r, 6);
}

static void read_audit(struct sql_rows *r, void *it)
{
    struct store_audit *e = it;
    e->seq = col_int(r, 0);
    e->at = col_int(r, 1);
    col_copy(r, 2, e->org_id, sizeof e->org_id);
    col_copy(r, 3, e->actor_id, sizeof e->actor_id);
    col_copy(r, 4, e->action, sizeof e->action);
    col_copy(r, 5, e->target_kind, sizeof e->target_kind);
    col_copy(r, 6, e->target_id, sizeof e->target_id);
    col_copy(r, 7, e->source, sizeof e->source);
    e->chained = !r->drv->col_null(r, 9);
    col_fixed_blob(r, 8, e->prev_hash, SECRET_HASH_LEN);
    col_fixed_blob(r, 9, e->hash, SECRET_HASH_LEN);
}

typedef void (*row_reader)(struct sql_rows *, void *);

/* A single-row lookup by statement id, read with read(). The row is zeroed
 * first (outlen bytes), so a failed lookup leaves it safe to clear. */
static int get_row(struct sql_store *s, enum stmt_id id, const struct sql_params *p, row_reader read, void *out,
                   size_t outlen, const char *what)
{
    struct sql_rows *r = NULL;
    int row = 0;
    memset(out, 0, outlen);
    int rc = run(s, id, p, &r, NULL, what);
    if (!rc)
        rc = step(r, &row);
    if (!rc && row)
        read(r, out);
    else if (!rc)
        rc = KH_ENOTFOUND;
    rows_close(r);
    return rc;
}

/* A lookup by one or two text keys. */
static int get_by(struct sql_store *s, enum stmt_id id, const char *a, const char *b, row_reader read, void *out,
                  size_t outlen, const char *what)
{
    struct sql_params p = {.n = 0};
    p_text(&p, a);
    if (b)
        p_text(&p, b);
    return get_row(s, id, &p, read, out, outlen, what);
}

/* A lookup by a keyed hash. */
static int get_by_lookup(struct sql_store *s, enum stmt_id id, const uint8_t lookup[SECRET_HASH_LEN], row_reader read,
                         void *out, size_t outlen, const char *what)
{
    struct sql_params p = {.n = 0};
    p_blob(&p, lookup, SECRET_HASH_LEN);
    return get_row(s, id, &p, read, out, outlen, what);
}

/* Reads every row into a growing array of itemsize-byte items. */
static int read_all(struct sql_rows *r, size_t itemsize, row_reader read, void **items, size_t *n)
{
    size_t cap = 0;
    int row = 0, rc;
    *items = NULL;
    *n = 0;
    while (!(rc = step(r, &row)) && row) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *items = xrealloc(*items, cap * itemsize);
        }
        void *it = (char *)*items + *n * itemsize;
        memset(it, 0, itemsize);
        read(r, it);
        (*n)++;
    }
    return rc;
}

/* A write by statement id; *changed (may be NULL) gets the rows it wrote. */
static int write_rows(struct sql_store *s, enum stmt_id id, const struct sql_params *p, int64_t *changed,
                      const char *what)
{
    return run(s, id, p, NULL, changed, what);
}

/* An UPDATE/DELETE that must touch a row: KH_ENOTFOUND when it touched none. */
static int change(struct sql_store *s, enum stmt_id id, const struct sql_params *p, const char *what)
{
    int64_t n = 0;
    int rc = write_rows(s, id, p, &n, what);
    return !rc && n == 0 ? KH_ENOTFOUND : rc;
}

/* An INSERT ... WHERE NOT EXISTS: KH_ECONFLICT when it inserted nothing (the
 * name or email was taken). */
static int insert_unless_taken(struct sql_store *s, enum stmt_id id, const struct sql_params *p, const char *what)
{
    int64_t n = 0;
    int rc = write_rows(s, id, p, &n, what);
    return !rc && n == 0 ? KH_ECONFLICT : rc;
}

static int pair_write(struct store *st, enum stmt_id id, const char *a, const char *b, const char *what)
{
    struct sql_params p = {.n = 0};
    p_text(&p, a);
    p_text(&p, b);
    return write_rows(S(st), id, &p, NULL, what);
}

static int pair_change(struct store *st, enum stmt_id id, const char *a, const char *b, const char *what)
{
    struct sql_params p = {.n = 0};
    p_text(&p, a);
    p_text(&p, b);
    return change(S(st), id, &p, what);
}

static int count_query(struct sql_store *s, enum stmt_id id, const char *arg, int64_t *count)
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    int row = 0;
    *count = 0;
    if (arg)
        p_text(&p, arg);
    int rc = run(s, id, &p, &r, NULL, "count");
    if (!rc)
        rc = step(r, &row);
    if (!rc && row)
        *count = col_int(r, 0);
    rows_close(r);
    return rc;
}

/* Collects the first column of every row into a string list. */
static int strlist_query(struct sql_store *s, enum stmt_id id, const char *arg, struct store_strlist *out)
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    size_t cap = 0;
    int row = 0;
    memset(out, 0, sizeof *out);
    if (arg)
        p_text(&p, arg);
    int rc = run(s, id, &p, &r, NULL, "strlist");
    while (!rc && !(rc = step(r, &row)) && row) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->items = xrealloc(out->items, cap * sizeof *out->items);
        }
        out->items[out->n++] = col_dup(r, 0);
    }
    rows_close(r);
    if (rc)
        store_strlist_free(out);
    return rc;
}

/* ---- transactions ----
 *
 * They nest: the outermost opens a write transaction the dialect's way
 * (SQLite takes the write lock up front, PostgreSQL a transaction-wide
 * advisory lock, so that a transaction never fails half-way on a lock and
 * check-then-write sequences hold), inner ones are savepoints. A request
 * that changes state runs in one transaction (api/router.c), and the store
 * operations it calls may open their own. */

static int sql_begin(struct store *st)
{
    struct sql_store *s = S(st);
    int rc;
    if (s->depth == 0) {
        s->unreleased = 0;
        s->subs_known = 0;
        /* A transaction left open by a failed commit path would make every
         * later write part of it: end it first. */
        if (s->drv->in_transaction(s)) {
            took_access_away(s); /* as in sql_rollback */
            s->drv->exec(s, "ROLLBACK", "begin");
        }
        rc = s->drv->exec(s, s->drv->dialect.begin_write, "begin");
    } else {
        char sql[64];
        if (s->unreleased == s->depth)
            snprintf(sql, sizeof sql, "RELEASE kh%d; SAVEPOINT kh%d", s->depth, s->depth);
        else
            snprintf(sql, sizeof sql, "SAVEPOINT kh%d", s->depth);
        rc = s->drv->exec(s, sql, "savepoint");
        if (!rc)
            s->unreleased = 0;
    }
    if (!rc)
        s->depth++;
    return rc;
}

/* A committed savepoint is not released at once: what it wrote is part of
 * the enclosing transaction either way, and the release rides on whatever
 * ends or nests next at that level (the next savepoint's statement, the
 * enclosing ROLLBACK TO or RELEASE, the COMMIT), so that the writer's batch
 * (a savepoint per request) costs PostgreSQL one round trip a request for
 * them instead of two. */
static int sql_commit(struct store *st)
{
    struct sql_store *s = S(st);
    if (s->depth <= 1) {
        int rc = s->drv->exec(s, "COMMIT", "commit");
        if (rc)
            took_access_away(s); /* nothing of it holds: as in sql_rollback */
        if (!rc || !s->drv->in_transaction(s))
            s->depth = 0;
        s->unreleased = 0;
        s->subs_known = 0;
        return rc;
    }
    /* Released now, a savepoint in which a statement failed would fail
     * its RELEASE; released later, it must not pass for committed: its
     * caller rolls back to it instead (and nothing before it is lost). */
    if (s->drv->failed(s)) {
        log_error("store: commit of a nested transaction in a failed one: rolled back instead");
        return KH_ESTORE;
    }
    s->depth--;
    s->unreleased = s->depth; /* releasing an outer one later releases any deeper one too */
    return KH_OK;
}

static int sql_rollback(struct store *st)
{
    struct sql_store *s = S(st);
    /* What this connection read inside the rolled-back part (a user
     * re-enabled, a grant, a widened scope) was never committed: whatever a
     * cache kept from it must not outlive it. */
    took_access_away(s);
    s->unreleased = 0; /* both ends below end any savepoint nested deeper */
    s->subs_known = 0; /* what it read may be what the rolled-back part wrote */
    if (s->depth <= 1) {
        s->depth = 0;
        /* The engine may already have rolled back (SQLite after SQLITE_FULL). */
        return s->drv->in_transaction(s) ? s->drv->exec(s, "ROLLBACK", "rollback") : KH_OK;
    }
    char sql[64];
    snprintf(sql, sizeof sql, "ROLLBACK TO kh%d; RELEASE kh%d", s->depth - 1, s->depth - 1);
    s->depth--;
    return s->drv->exec(s, sql, "rollback to savepoint");
}

/* ---- meta, orgs, users, roles ---- */

static int sql_meta_get(struct store *st, const char *key, char **value)
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    int row = 0;
    *value = NULL;
    p_text(&p, key);
    int rc = run(S(st), S_META_GET, &p, &r, NULL, "meta_get");
    if (!rc)
        rc = step(r, &row);
    if (!rc && row)
        *value = col_dup(r, 0);
    else if (!rc)
        rc = KH_ENOTFOUND;
    rows_close(r);
    return rc;
}

static int sql_meta_set(struct store *st, const char *key, const char *value)
{
    return pair_write(st, S_META_SET, key, value, "meta_set");
}

static int sql_org_insert(struct store *st, const struct store_org *org)
{
    struct sql_params p = {.n = 0};
    p_text(&p, org->id);
    p_text(&p, org->name);
    p_int(&p, org->created_at);
    return insert_unless_taken(S(st), S_ORG_INSERT, &p, "org_insert");
}

static int sql_org_get(struct store *st, const char *id, struct store_org *out)
{
    return get_by(S(st), S_ORG_GET, id, NULL, read_org, out, sizeof *out, "org_get");
}

static int sql_org_count(struct store *st, int64_t *count)
{
    return count_query(S(st), S_ORG_COUNT, NULL, count);
}

static int sql_org_ids(struct store *st, struct store_strlist *out)
{
    return strlist_query(S(st), S_ORG_IDS, NULL, out);
}

static int sql_user_insert(struct store *st, const struct store_user *u)
{
    struct sql_params p = {.n = 0};
    p_text(&p, u->id);
    p_text(&p, u->org_id);
    p_text(&p, u->email);
    p_text(&p, u->name);
    p_text(&p, u->title);
    p_int(&p, u->service_account);
    p_int(&p, u->disabled);
    p_int(&p, u->created_at);
    p_int(&p, u->modified_at);
    p_int(&p, u->verified);
    return insert_unless_taken(S(st), S_USER_INSERT, &p, "user_insert");
}

static int sql_user_get(struct store *st, const char *org_id, const char *id, struct store_user *out)
{
    return get_by(S(st), org_id ? S_USER_GET : S_USER_GET_ANY_ORG, id, org_id, read_user, out, sizeof *out,
                  "user_get");
}

/* KH_ECONFLICT when another user of the org has the email. */
static int email_free(struct sql_store *s, const struct store_user *u)
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    int row = 0;
    p_text(&p, u->org_id);
    p_text(&p, u->email);
    p_text(&p, u->id);
    int rc = run(s, S_USER_EMAIL_TAKEN, &p, &r, NULL, "user_email_taken");
    if (!rc)
        rc = step(r, &row);
    rows_close(r);
    return rc ? rc : row ? KH_ECONFLICT : KH_OK;
}

static int sql_user_update(struct store *st, const struct store_user *u)
{
    struct sql_params p = {.n = 0};
    int rc = email_free(S(st), u);
    if (rc)
        return rc;
    p_text(&p, u->id);
    p_text(&p, u->org_id);
    p_text(&p, u->email);
    p_text(&p, u->name);
    p_text(&p, u->title);
    p_int(&p, u->disabled);
    p_int(&p, u->modified_at);
    return change(S(st), S_USER_UPDATE, &p, "user_update");
}

static int sql_user_role_add(struct store *st, const char *user_id, const char *role_id)
{
    return pair_write(st, S_USER_ROLE_ADD, user_id, role_id, "user_role_add");
}

static int sql_user_role_remove(struct store *st, const char *user_id, const char *role_id)
{
    return pair_change(st, S_USER_ROLE_REMOVE, user_id, role_id, "user_role_remove");
}

static int sql_user_permissions(struct store *st, const char *user_id, struct store_strlist *out)
{
    return strlist_query(S(st), S_USER_PERMS, user_id, out);
}

static int sql_user_roles(struct store *st, const char *user_id, struct store_strlist *out)
{
    return strlist_query(S(st), S_USER_ROLES, user_id, out);
}

static int sql_role_insert(struct store *st, const struct store_role *role)
{
    struct sql_params p = {.n = 0};
    p_text(&p, role->id);
    p_text(&p, role->org_id);
    p_text(&p, role->name);
    p_int(&p, role->created_at);
    p_int(&p, role->modified_at);
    p_int(&p, role->managed);
    p_text(&p, role->receives);
    return write_rows(S(st), S_ROLE_INSERT, &p, NULL, "role_insert");
}

static int sql_role_get(struct store *st, const char *org_id, const char *id, struct store_role *out)
{
    return get_by(S(st), S_ROLE_GET, id, org_id, read_role, out, sizeof *out, "role_get");
}

static int sql_role_update(struct store *st, const struct store_role *role)
{
    struct sql_params p = {.n = 0};
    p_text(&p, role->id);
    p_text(&p, role->org_id);
    p_text(&p, role->name);
    p_int(&p, role->modified_at);
    p_text(&p, role->receives);
    return change(S(st), S_ROLE_UPDATE, &p, "role_update");
}

static int sql_role_delete(struct store *st, const char *org_id, const char *id)
{
    /* role_permissions and user_roles rows go with it (ON DELETE CASCADE). */
    return pair_change(st, S_ROLE_DELETE, id, org_id, "role_delete");
}

static int sql_role_permission_add(struct store *st, const char *role_id, const char *permission)
{
    return pair_write(st, S_ROLE_PERM_ADD, role_id, permission, "role_permission_add");
}

static int sql_role_permission_remove(struct store *st, const char *role_id, const char *permission)
{
    return pair_change(st, S_ROLE_PERM_REMOVE, role_id, permission, "role_permission_remove");
}

static int sql_role_permissions(struct store *st, const char *role_id, struct store_strlist *out)
{
    return strlist_query(S(st), S_ROLE_PERMS, role_id, out);
}

/* ---- API keys, application keys, tokens ---- */

static int sql_api_key_insert(struct store *st, const struct store_api_key *k)
{
    struct sql_params p = {.n = 0};
    p_text(&p, k->id);
    p_text(&p, k->org_id);
    p_text(&p, k->name);
    p_text(&p, k->last4);
    p_text(&p, k->category ? k->category : "default");
    p_int(&p, k->remote_config_read_enabled);
    p_text(&p, k->created_by);
    p_id(&p, k->modified_by);
    p_int(&p, k->created_at);
    p_int(&p, k->modified_at);
    p_time(&p, k->last_used_at);
    p_blob(&p, k->key.lookup, SECRET_HASH_LEN);
    p_blob(&p, k->key.sealed, k->key.sealed_len);
    p_int(&p, k->key.secret_version);
    return write_rows(S(st), S_API_KEY_INSERT, &p, NULL, "api_key_insert");
}

static int sql_api_key_get(struct store *st, const char *org_id, const char *id, struct store_api_key *out)
{
    return get_by(S(st), S_API_KEY_GET, id, org_id, read_api_key_alone, out, sizeof *out, "api_key_get");
}

static int sql_api_key_find_previous(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], int64_t now,
                                     struct store_api_key *out)
{
    struct sql_params p = {.n = 0};
    p_blob(&p, lookup, SECRET_HASH_LEN);
    p_int(&p, now);
    return get_row(S(st), S_API_KEY_FIND_PREVIOUS, &p, read_api_key_alone, out, sizeof *out, "api_key_find_previous");
}

static int sql_api_key_find(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], struct store_api_key *out)
{
    return get_by_lookup(S(st), S_API_KEY_FIND, lookup, read_api_key_alone, out, sizeof *out, "api_key_find");
}

static int sql_api_key_count(struct store *st, const char *org_id, int64_t *count)
{
    return count_query(S(st), S_API_KEY_COUNT, org_id, count);
}

static int sql_api_key_update(struct store *st, const struct store_api_key *k)
{
    struct sql_params p = {.n = 0};
    p_text(&p, k->id);
    p_text(&p, k->org_id);
    p_text(&p, k->name);
    p_text(&p, k->category ? k->category : "default");
    p_int(&p, k->remote_config_read_enabled);
    p_id(&p, k->modified_by);
    p_int(&p, k->modified_at);
    return change(S(st), S_API_KEY_UPDATE, &p, "api_key_update");
}

/* Who ended a credential, when and why, as the next three parameters. */
static void ending_params(struct sql_params *p, const struct store_ending *end)
{
    p_int(p, end->at);
    p_text(p, end->by);
    p_text(p, end->reason);
}

/* Deletes key (org_id, id) with statement del after writing its tombstone
 * with tomb, in one transaction: both or neither. */
static int delete_with_tombstone(struct store *st, enum stmt_id tomb, enum stmt_id del, const char *org_id,
                                 const char *id, const struct store_ending *end, const char *what)
{
    struct sql_params p = {.n = 0};
    int64_t n = 0;
    p_text(&p, id);
    p_text(&p, org_id);
    ending_params(&p, end);
    int rc = sql_begin(st);
    if (rc)
        return rc;
    rc = write_rows(S(st), tomb, &p, &n, what);
    if (!rc && n == 0)
        rc = KH_ENOTFOUND;
    if (!rc)
        rc = pair_change(st, del, id, org_id, what);
    if (rc) {
        sql_rollback(st);
        return rc;
    }
    return sql_commit(st);
}

static int sql_api_key_delete(struct store *st, const char *org_id, const char *id, const struct store_ending *end)
{
    return delete_with_tombstone(st, S_API_KEY_TOMBSTONE, S_API_KEY_DELETE, org_id, id, end, "api_key_delete");
}

static int sql_app_key_insert(struct store *st, const struct store_app_key *k)
{
    struct sql_params p = {.n = 0};
    p_text(&p, k->id);
    p_text(&p, k->org_id);
    p_text(&p, k->owner_id);
    p_text(&p, k->name);
    p_text(&p, k->last4);
    p_text(&p, k->scopes);
    p_int(&p, k->created_at);
    p_time(&p, k->last_used_at);
    p_blob(&p, k->key.lookup, SECRET_HASH_LEN);
    p_blob(&p, k->key.sealed, k->key.sealed_len);
    p_int(&p, k->key.secret_version);
    return write_rows(S(st), S_APP_KEY_INSERT, &p, NULL, "app_key_insert");
}

static int sql_app_key_find(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], struct store_app_key *out)
{
    return get_by_lookup(S(st), S_APP_KEY_FIND, lookup, read_app_key_alone, out, sizeof *out, "app_key_find");
}

static int sql_app_key_find_previous(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], int64_t now,
                                     struct store_app_key *out)
{
    struct sql_params p = {.n = 0};
    p_blob(&p, lookup, SECRET_HASH_LEN);
    p_int(&p, now);
    return get_row(S(st), S_APP_KEY_FIND_PREVIOUS, &p, read_app_key_alone, out, sizeof *out, "app_key_find_previous");
}

static int sql_app_key_get(struct store *st, const char *org_id, const char *id, struct store_app_key *out)
{
    return get_by(S(st), S_APP_KEY_GET, id, org_id, read_app_key_alone, out, sizeof *out, "app_key_get");
}

static int sql_app_key_update(struct store *st, const struct store_app_key *k)
{
    struct sql_params p = {.n = 0};
    p_text(&p, k->id);
    p_text(&p, k->org_id);
    p_text(&p, k->name);
    p_text(&p, k->scopes);
    return change(S(st), S_APP_KEY_UPDATE, &p, "app_key_update");
}

static int sql_app_key_delete(struct store *st, const char *org_id, const char *id, const struct store_ending *end)
{
    return delete_with_tombstone(st, S_APP_KEY_TOMBSTONE, S_APP_KEY_DELETE, org_id, id, end, "app_key_delete");
}

static int sql_app_key_delete_owned(struct store *st, const char *owner_id, const struct store_ending *end)
{
    struct sql_params t = {.n = 0}, p = {.n = 0};
    p_text(&t, owner_id);
    ending_params(&t, end);
    p_text(&p, owner_id);
    int rc = sql_begin(st);
    if (rc)
        return rc;
    rc = write_rows(S(st), S_APP_KEY_TOMBSTONE_OWNED, &t, NULL, "app_key_delete_owned");
    if (!rc)
        rc = write_rows(S(st), S_APP_KEY_DELETE_OWNED, &p, NULL, "app_key_delete_owned");
    if (rc) {
        sql_rollback(st);
        return rc;
    }
    return sql_commit(st);
}

static int sql_app_key_count(struct store *st, const char *owner_id, int64_t *count)
{
    return count_query(S(st), S_APP_KEY_COUNT, owner_id, count);
}

static int sql_token_insert(struct store *st, const struct store_token *t)
{
    struct sql_params p = {.n = 0};
    p_text(&p, t->id);
    p_text(&p, t->org_id);
    p_text(&p, t->owner_id);
    p_int(&p, t->kind);
    p_text(&p, t->name);
    p_text(&p, t->scopes);
    p_blob(&p, t->secret_hash, SECRET_HASH_LEN);
    p_int(&p, t->created_at);
    p_time(&p, t->modified_at);
    p_time(&p, t->expires_at);
    p_time(&p, t->last_used_at);
    p_time(&p, t->revoked_at);
    p_int(&p, t->secret_version);
    return write_rows(S(st), S_TOKEN_INSERT, &p, NULL, "token_insert");
}

static int sql_token_get(struct store *st, const char *id, struct store_token *out)
{
    return get_by(S(st), S_TOKEN_GET, id, NULL, read_token, out, sizeof *out, "token_get");
}

static int sql_token_revoke(struct store *st, const char *org_id, const char *id, const struct store_ending *end)
{
    struct sql_params p = {.n = 0};
    p_text(&p, id);
    p_text(&p, org_id);
    ending_params(&p, end);
    return change(S(st), S_TOKEN_REVOKE, &p, "token_revoke");
}

static int sql_token_update(struct store *st, const struct store_token *t)
{
    struct sql_params p = {.n = 0};
    p_text(&p, t->id);
    p_text(&p, t->org_id);
    p_text(&p, t->name);
    p_text(&p, t->scopes);
    p_int(&p, t->modified_at);
    return change(S(st), S_TOKEN_UPDATE, &p, "token_update");
}

static int sql_token_rotate(struct store *st, const char *org_id, const char *id, const uint8_t hash[SECRET_HASH_LEN],
                            int secret_version, int64_t prev_valid_until, int64_t now)
{
    struct sql_params p = {.n = 0};
    struct store_token t;
    int64_t changed = 0;
    p_text(&p, id);
    p_text(&p, org_id);
    p_int(&p, prev_valid_until);
    p_blob(&p, hash, SECRET_HASH_LEN);
    p_int(&p, secret_version);
    p_int(&p, now);
    int rc = write_rows(S(st), S_TOKEN_ROTATE, &p, &changed, "token_rotate");
    if (rc || changed)
        return rc;
    /* Nothing changed: no such live token, or an overlap still open. */
    rc = get_by(S(st), S_TOKEN_GET, id, NULL, read_token, &t, sizeof t, "token_rotate");
    int open = !rc && !t.revoked_at && strcmp(t.org_id, org_id) == 0 && t.prev_valid_until > now;
    if (!rc)
        store_token_clear(&t);
    return rc == KH_OK || rc == KH_ENOTFOUND ? (open ? KH_ECONFLICT : KH_ENOTFOUND) : rc;
}

/* When a rotation changed nothing: KH_ECONFLICT for a key whose overlap is
 * open at now, KH_ENOTFOUND for no such key. */
static int key_not_rotated(struct sql_store *s, int kind, const char *org_id, const char *id, int64_t now)
{
    struct store_api_key a;
    struct store_app_key b;
    int64_t until = 0;
    int rc = kind == STORE_TOUCH_API_KEY ? sql_api_key_get(&s->base, org_id, id, &a)
                                         : sql_app_key_get(&s->base, org_id, id, &b);
    if (rc)
        return rc;
    until = kind == STORE_TOUCH_API_KEY ? a.overlap.prev_valid_until : b.overlap.prev_valid_until;
    if (kind == STORE_TOUCH_API_KEY)
        store_api_key_clear(&a);
    else
        store_app_key_clear(&b);
    return until > now ? KH_ECONFLICT : KH_ENOTFOUND;
}

static int sql_key_rotate(struct store *st, int kind, const char *org_id, const char *id,
                          const struct store_sealed *value, const char last4[5], const char *modified_by,
                          int64_t prev_valid_until, int64_t now)
{
    struct sql_params p = {.n = 0};
    int64_t changed = 0;
    if (kind != STORE_TOUCH_API_KEY && kind != STORE_TOUCH_APP_KEY)
        return KH_EINVAL;
    p_text(&p, id);
    p_text(&p, org_id);
    p_int(&p, prev_valid_until);
    p_blob(&p, value->lookup, SECRET_HASH_LEN);
    p_blob(&p, value->sealed, value->sealed_len);
    p_int(&p, value->secret_version);
    p_text(&p, last4);
    p_int(&p, now);
    if (kind == STORE_TOUCH_API_KEY)
        p_text(&p, modified_by);
    int rc = write_rows(S(st), kind == STORE_TOUCH_API_KEY ? S_API_KEY_ROTATE : S_APP_KEY_ROTATE, &p, &changed,
                        "key_rotate");
    return rc || changed ? rc : key_not_rotated(S(st), kind, org_id, id, now);
}

static int sql_overlap_close(struct store *st, int kind, const char *id, int64_t when)
{
    static const enum stmt_id closes[] = {[STORE_TOUCH_API_KEY] = S_API_KEY_CLOSE_OVERLAP,
                                          [STORE_TOUCH_APP_KEY] = S_APP_KEY_CLOSE_OVERLAP,
                                          [STORE_TOUCH_TOKEN] = S_TOKEN_CLOSE_OVERLAP};
    struct sql_params p = {.n = 0};
    if (kind < STORE_TOUCH_API_KEY || kind > STORE_TOUCH_TOKEN)
        return KH_EINVAL;
    p_text(&p, id);
    p_int(&p, when);
    return write_rows(S(st), closes[kind], &p, NULL, "overlap_close");
}

static void read_idempotent(struct sql_rows *r, void *it)
{
    struct store_idempotent *i = it;
    col_copy(r, 0, i->org_id, sizeof i->org_id);
    col_fixed_blob(r, 1, i->request_hash, SECRET_HASH_LEN);
    i->created_at = col_int(r, 2);
    i->status = (int)col_int(r, 3);
    i->answer.secret_version = (int)col_int(r, 4);
    size_t n = 0;
    const void *b = r->drv->col_blob(r, 5, &n);
    i->answer.sealed = xmalloc(n ? n : 1);
    if (b)
        memcpy(i->answer.sealed, b, n);
    i->answer.sealed_len = n;
}

static int sql_idem_get(struct store *st, const uint8_t key_hash[SECRET_HASH_LEN], int64_t not_before,
                        struct store_idempotent *out)
{
    struct sql_params p = {.n = 0};
    p_blob(&p, key_hash, SECRET_HASH_LEN);
    p_int(&p, not_before);
    int rc = get_row(S(st), S_IDEM_GET, &p, read_idempotent, out, sizeof *out, "idem_get");
    if (!rc)
        memcpy(out->key_hash, key_hash, SECRET_HASH_LEN);
    return rc;
}

static int sql_idem_prune(struct store *st, int64_t not_before)
{
    struct sql_params p = {.n = 0};
    p_int(&p, not_before);
    return write_rows(S(st), S_IDEM_PRUNE, &p, NULL, "idem_prune");
}

static int sql_idem_put(struct store *st, const struct store_idempotent *in, int64_t not_before)
{
    struct sql_params p = {.n = 0};
    int rc = sql_idem_prune(st, not_before);
    if (rc)
        return rc;
    p_blob(&p, in->key_hash, SECRET_HASH_LEN);
    p_text(&p, in->org_id);
    p_blob(&p, in->request_hash, SECRET_HASH_LEN);
    p_int(&p, in->created_at);
    p_int(&p, in->status);
    p_int(&p, in->answer.secret_version);
    p_blob(&p, in->answer.sealed, in->answer.sealed_len);
    return write_rows(S(st), S_IDEM_PUT, &p, NULL, "idem_put");
}

static int sql_token_revoke_owned(struct store *st, const char *owner_id, const struct store_ending *end)
{
    struct sql_params p = {.n = 0};
    p_text(&p, owner_id);
    ending_params(&p, end);
    return write_rows(S(st), S_TOKEN_REVOKE_OWNED, &p, NULL, "token_revoke_owned");
}

/* ---- composed list queries ----
 *
 * A list is two statements over the same WHERE clause: the page (ORDER BY
 * an indexed column, then id, LIMIT/OFFSET) and the filtered count. */

/* Turns a user substring into a LIKE pattern with \ as the escape, so % and _
 * in the filter stand for themselves. Caller frees. */
static char *like_pattern(const char *s)
{
    struct buf b;
    buf_init(&b, 4 * strlen(s) + 8);
    buf_adds(&b, "%");
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            buf_add(&b, "\\", 1);
        buf_add(&b, s, 1);
    }
    buf_adds(&b, "%");
    return buf_steal(&b, NULL);
}

/* The WHERE clause of a composed list being built: text, parameters, and the
 * LIKE pattern they borrow. list_where_begin() starts it with "org_id = ?1". */
struct where {
    const struct sql_dialect *dialect;
    struct buf w;
    struct sql_params p;
    char *pattern;
};

static void list_where_begin(struct where *q, const struct sql_store *s, const char *org_id)
{
    memset(q, 0, sizeof *q);
    q->dialect = &s->drv->dialect;
    buf_init(&q->w, 4096);
    p_text(&q->p, org_id);
    buf_adds(&q->w, "org_id = ?1");
}

static void list_where_end(struct where *q)
{
    buf_free(&q->w);
    free(q->pattern);
}

/* Adds " AND <col> >= start" / " AND <col> <= end" for the bounds given;
 * both are inclusive. */
static void where_range(struct where *q, const char *col, const struct store_time_range *r)
{
    if (r->has_start) {
        p_int(&q->p, r->start);
        buf_printf(&q->w, " AND %s >= ?%d", col, q->p.n);
    }
    if (r->has_end) {
        p_int(&q->p, r->end);
        buf_printf(&q->w, " AND %s <= ?%d", col, q->p.n);
    }
}

static void where_eq_int(struct where *q, const char *col, int64_t v)
{
    p_int(&q->p, v);
    buf_printf(&q->w, " AND %s = ?%d", col, q->p.n);
}

static void where_eq_text(struct where *q, const char *col, const char *v)
{
    p_text(&q->p, v);
    buf_printf(&q->w, " AND %s = ?%d", col, q->p.n);
}

/* Adds " AND <col> IN (?, ...)" for a list of ids. */
static void where_in(struct where *q, const char *col, const char *const *ids, size_t n)
{
    buf_printf(&q->w, " AND %s IN (", col);
    for (size_t i = 0; i < n; i++) {
        p_text(&q->p, ids[i]);
        buf_printf(&q->w, "%s?%d", i ? ", " : "", q->p.n);
    }
    buf_adds(&q->w, ")");
}

/* Adds " AND (col LIKE ? OR ...)" for a case-insensitive substring of any of
 * the columns (one or two). */
static void where_like(struct where *q, const char *col, const char *col2, const char *filter)
{
    q->pattern = like_pattern(filter);
    p_text(&q->p, q->pattern);
    const char *like = q->dialect->like_nocase;
    buf_printf(&q->w, " AND (%s %s ?%d ESCAPE '\\'", col, like, q->p.n);
    if (col2)
        buf_printf(&q->w, " OR %s %s ?%d ESCAPE '\\'", col2, like, q->p.n);
    buf_adds(&q->w, ")");
}

/* The ORDER BY expression of a sort, in the dialect (the case-insensitive
 * ones follow the indexes of the store's schema). */
static void sort_expression(const struct sql_dialect *d, enum store_sort sort, char *out, size_t len)
{
    switch (sort) {
    case STORE_SORT_CREATED_AT:
        snprintf(out, len, "created_at");
        break;
    case STORE_SORT_MODIFIED_AT:
        snprintf(out, len, "modified_at");
        break;
    case STORE_SORT_LAST4:
        snprintf(out, len, "last4");
        break;
    case STORE_SORT_EXPIRES_AT:
        snprintf(out, len, "expires_at");
        break;
    case STORE_SORT_LAST_USED_AT:
        snprintf(out, len, "last_used_at");
        break;
    case STORE_SORT_EMAIL:
        snprintf(out, len, d->nocase, "email");
        break;
    case STORE_SORT_STATUS: /* the status as Datadog names it */
        snprintf(out, len, "CASE WHEN disabled <> 0 THEN 'Disabled' WHEN verified <> 0 THEN 'Active' ELSE 'Pending' END");
        break;
    case STORE_SORT_USER_COUNT:
        snprintf(out, len, "user_count");
        break;
    case STORE_SORT_NAME:
    default:
        snprintf(out, len, d->nocase, "name");
    }
}

static int run_count(struct sql_store *s, const char *sql, const struct sql_params *p, int64_t *total)
{
    struct sql_rows *r = NULL;
    int row = 0;
    *total = 0;
    int rc = run_composed(s, sql, p, &r, NULL, "list count");
    if (!rc)
        rc = step(r, &row);
    if (!rc && row)
        *total = col_int(r, 0);
    rows_close(r);
    return rc;
}

static int run_page(struct sql_store *s, const char *table, const char *cols, struct where *q, enum store_sort sort,
                    int desc, const struct store_page *page, size_t itemsize, row_reader read, void **items, size_t *n);

/* Finishes a composed list: runs the count (count_sql over the same
 * parameters, or "SELECT count(*) FROM table WHERE where" when NULL), then
 * the page, read with read() into itemsize-byte items. */
static int run_list(struct sql_store *s, const char *table, const char *cols, struct where *q, const char *count_sql,
                    enum store_sort sort, int desc, const struct store_page *page, size_t itemsize, row_reader read,
                    void **items, size_t *n, int64_t *total)
{
    char *default_count = count_sql ? NULL : xasprintf("SELECT count(*) FROM %s WHERE %s", table, q->w.p);
    int rc = run_count(s, count_sql ? count_sql : default_count, &q->p, total);
    free(default_count);
    if (rc)
        return rc;
    return run_page(s, table, cols, q, sort, desc, page, itemsize, read, items, n);
}

/* The page of a composed list (the count is the caller's). */
static int run_page(struct sql_store *s, const char *table, const char *cols, struct where *q, enum store_sort sort,
                    int desc, const struct store_page *page, size_t itemsize, row_reader read, void **items, size_t *n)
{
    const char *dir = desc ? "DESC" : "ASC";
    char order[160];
    struct sql_rows *r = NULL;
    int rc;
    *items = NULL;
    *n = 0;
    sort_expression(&s->drv->dialect, sort, order, sizeof order);
    char *page_sql = xasprintf("SELECT %s FROM %s WHERE %s ORDER BY %s %s, id %s LIMIT ?%d OFFSET ?%d", cols, table,
                               q->w.p, order, dir, dir, q->p.n + 1, q->p.n + 2);
    p_int(&q->p, page->limit);
    p_int(&q->p, page->offset);
    rc = run_composed(s, page_sql, &q->p, &r, NULL, "list");
    if (!rc)
        rc = read_all(r, itemsize, read, items, n);
    rows_close(r);
    free(page_sql);
    return rc;
}

static int sql_api_key_list(struct store *st, const struct store_api_key_query *q, struct store_api_key_list *out)
{
    struct where wh;
    void *items = NULL;
    memset(out, 0, sizeof *out);
    list_where_begin(&wh, S(st), q->org_id);
    if (q->name_filter)
        where_like(&wh, "name", NULL, q->name_filter);
    where_range(&wh, "created_at", &q->created);
    where_range(&wh, "modified_at", &q->modified);
    if (q->remote_config >= 0)
        where_eq_int(&wh, "remote_config_read_enabled", q->remote_config);
    if (q->category)
        where_eq_text(&wh, "category", q->category);
    int rc = run_list(S(st), "api_keys", API_KEY_COLS, &wh, NULL, q->sort, q->desc, &q->page,
                      sizeof(struct store_api_key), read_api_key, &items, &out->n, &out->total);
    out->items = items;
    if (rc)
        store_api_key_list_free(out);
    list_where_end(&wh);
    return rc;
}

/* The token list in SQL: the count (from token_counts without a name filter)
 * and the page; known_total (may be NULL) is a count the in-memory column
 * gave for the same snapshot, and then only the page is read. */
static int token_list_sql(struct sql_store *s, const struct store_token_query *q, const int64_t *known_total,
                          struct store_token_list *out)
{
    struct where wh;
    void *items = NULL;
    char *count_sql = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    list_where_begin(&wh, s, q->org_id);
    /* "revoked_at IS NULL" matches the partial indexes' predicate. */
    p_int(&wh.p, q->now);
    buf_printf(&wh.w, " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?%d)", wh.p.n);
    size_t scope_at = wh.w.len;
    if (q->kind)
        where_eq_int(&wh, "kind", q->kind);
    if (q->n_owners)
        where_in(&wh, "owner_id", q->owner_ids, q->n_owners < STORE_MAX_OWNERS ? q->n_owners : STORE_MAX_OWNERS);
    /* Without a name filter the total comes from token_counts, less the live
     * tokens already past their expiry: the cost follows the page, not the
     * org's token count. */
    if (!q->name_filter)
        count_sql = xasprintf("SELECT (SELECT coalesce(sum(live), 0) FROM token_counts WHERE org_id = ?1%s) - "
                              "(SELECT count(*) FROM tokens WHERE org_id = ?1 AND revoked_at IS NULL "
                              "AND expires_at IS NOT NULL AND expires_at <= ?2%s)",
                              wh.w.p + scope_at, wh.w.p + scope_at);
    else
        where_like(&wh, "name", NULL, q->name_filter);
    if (known_total) {
        out->total = *known_total;
        rc = run_page(s, "tokens", TOKEN_LISTED_COLS, &wh, q->sort, q->desc, &q->page, sizeof(struct store_token),
                      read_listed_token, &items, &out->n);
    } else {
        rc = run_list(s, "tokens", TOKEN_LISTED_COLS, &wh, count_sql, q->sort, q->desc, &q->page,
                      sizeof(struct store_token), read_listed_token, &items, &out->n, &out->total);
    }
    free(count_sql);
    out->items = items;
    if (rc)
        store_token_list_free(out);
    list_where_end(&wh);
    return rc;
}

/* ---- token lists from memory (namecol.h) ----
 *
 * A filtered token list is answered from the process's in-memory column of
 * the org's token names when the column holds exactly the revision of the
 * reader's snapshot: the count, the page's ids and the rows are all read in
 * one read transaction (token_list_snapshot), the column is first brought to
 * the snapshot's revision (token_rev, migration 010; 003 on PostgreSQL) from the rows changed
 * since, and a column already newer than the snapshot is not used (the SQL
 * path answers). docs/internals/performance.md, "Issue 14: the filtered list
 * from memory", has the argument. */

/* Puts (or, revoked, removes) the current row of S_NAMES_ALL/SINCE. */
static void names_read_row(struct sql_rows *r, struct namecol *c)
{
    const char *id = r->drv->col_text(r, 0);
    if (!r->drv->col_null(r, 6)) {
        namecol_remove(c, id);
        return;
    }
    const char *lname = r->drv->col_text(r, 1);
    struct namecol_row row = {
        .id = id,
        .lname = lname ? lname : "",
        .lname_len = lname ? strlen(lname) : 0,
        .owner_id = r->drv->col_text(r, 2),
        .kind = (int)col_int(r, 3),
        .created_at = col_int(r, 4),
        .expires_at = r->drv->col_null(r, 5) ? INT64_MAX : col_int(r, 5),
    };
    namecol_put(c, &row);
}

/* Brings the locked column c of org_id to revision rev of this snapshot:
 * a full build when it holds nothing or a token was deleted since its
 * revision, else the rows changed since. KH_ENOTSUP when the column is
 * already newer than the snapshot. On a failure the column is emptied.
 *
 * A driver that holds a statement's whole result in memory (libpq) reads in
 * chunks of dialect.names_chunk rows, by id for a full build and by rev for
 * the changes, so that a million rows never sit in one result; SQLite steps
 * through one statement. */
static _Atomic int64_t names_chunk_for_tests; /* sql_test_names_chunk */

void sql_test_names_chunk(int64_t rows)
{
    names_chunk_for_tests = rows;
}

static int names_sync(struct sql_store *s, struct namecol *c, const char *org_id, int64_t rev, int64_t deleted_rev)
{
    int64_t chunk = names_chunk_for_tests ? names_chunk_for_tests : s->drv->dialect.names_chunk;
    int64_t have = namecol_rev(c), after_rev = have, got = 0;
    int full = have < 0 || deleted_rev > have, row = 0, rc = KH_OK;
    char *after_id = NULL;
    if (have == rev)
        return KH_OK;
    if (have > rev)
        return KH_ENOTSUP;
    if (full)
        namecol_clear(c);
    do {
        struct sql_params p = {.n = 0};
        struct sql_rows *r = NULL;
        p_text(&p, org_id);
        if (full && !chunk) {
            rc = run(s, S_NAMES_ALL, &p, &r, NULL, "token names");
        } else if (full) {
            p_text(&p, after_id ? after_id : "");
            p_int(&p, chunk);
            rc = run(s, S_NAMES_ALL_FROM, &p, &r, NULL, "token names");
        } else {
            p_int(&p, after_rev);
            p_text(&p, after_id); /* NULL at first: (rev, id) > (have, NULL) holds for rev > have only */
            p_int(&p, chunk ? chunk : -1); /* SQLite: -1 is no limit */
            rc = run(s, S_NAMES_SINCE, &p, &r, NULL, "token names since");
        }
        for (got = 0; !rc && !(rc = step(r, &row)) && row; got++) {
            names_read_row(r, c);
            if (chunk) {
                free(after_id);
                after_id = col_dup(r, 0);
                after_rev = col_int(r, 7);
            }
        }
        rows_close(r);
    } while (!rc && chunk && got == chunk);
    free(after_id);
    if (rc)
        namecol_clear(c);
    else
        namecol_done(c, rev);
    return rc;
}

static int token_revs(struct sql_store *s, int64_t *rev, int64_t *deleted_rev)
{
    struct sql_rows *r = NULL;
    int row = 0;
    int rc = run(s, S_TOKEN_REVS, NULL, &r, NULL, "token revision");
    if (!rc)
        rc = step(r, &row);
    if (!rc && !row)
        rc = KH_ESTORE;
    if (!rc) {
        *rev = col_int(r, 0);
        *deleted_rev = col_int(r, 1);
    }
    rows_close(r);
    return rc;
}

/* *out = lower(filter) as the backend lowers (caller frees). */
static int lower_text(struct sql_store *s, const char *filter, char **out)
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    int row = 0;
    p_text(&p, filter);
    *out = NULL;
    int rc = run(s, S_LOWER, &p, &r, NULL, "lower");
    if (!rc)
        rc = step(r, &row);
    if (!rc && row)
        *out = col_dup(r, 0);
    rows_close(r);
    return rc;
}

/* What the column may answer on this database (sql_dialect.names_probe),
 * asked once per handle. */
static int names_mode(struct sql_store *s)
{
    const char *probe = s->drv->dialect.names_probe;
    if (s->names_mode < 0) {
        int64_t mode = 0;
        s->names_mode = !probe ? 2 : !run_count(s, probe, NULL, &mode) && mode >= 0 && mode <= 2 ? (int)mode : 0;
    }
    return s->names_mode;
}

struct page_slot {
    const char *id;
    size_t pos;
};

static int page_slot_cmp(const void *a, const void *b)
{
    return strcmp(((const struct page_slot *)a)->id, ((const struct page_slot *)b)->id);
}

/* The rows of the page's ids, read in one statement and put in the page's
 * order (each row found among the page's ids, sorted, by binary search).
 * KH_ENOTSUP when a row is missing or revoked, which the snapshot rules
 * out; the SQL path would then answer. */
static int fetch_page(struct sql_store *s, const struct namecol_page *pg, struct store_token_list *out)
{
    struct sql_params p = {.n = 0};
    struct page_slot by_id[NAMECOL_MAX_PAGE];
    struct sql_rows *r = NULL;
    void *items = NULL;
    size_t n = 0;
    for (size_t i = 0; i < NAMECOL_MAX_PAGE; i++)
        p_text(&p, i < pg->n ? pg->ids[i] : NULL);
    int rc = run(s, S_TOKENS_BY_IDS, &p, &r, NULL, "list by id");
    if (!rc)
        rc = read_all(r, sizeof(struct store_token), read_listed_token, &items, &n);
    rows_close(r);
    for (size_t i = 0; i < pg->n; i++)
        by_id[i] = (struct page_slot){pg->ids[i], i};
    qsort(by_id, pg->n, sizeof *by_id, page_slot_cmp);
    struct store_token *got = items;
    out->items = xcalloc(pg->n ? pg->n : 1, sizeof *out->items);
    for (size_t j = 0; !rc && j < n; j++) {
        struct page_slot key = {got[j].id, 0};
        struct page_slot *at = bsearch(&key, by_id, pg->n, sizeof *by_id, page_slot_cmp);
        if (!at || got[j].revoked_at || out->items[at->pos].id[0])
            break;
        out->items[at->pos] = got[j];
        memset(&got[j], 0, sizeof got[j]); /* moved */
        out->n++;
    }
    if (!rc && out->n != pg->n) {
        log_error("store: token list: the rows of the in-memory page are not those of the snapshot");
        rc = KH_ENOTSUP;
    }
    for (size_t j = 0; j < n; j++)
        store_token_clear(&got[j]);
    free(items);
    out->n = pg->n; /* on failure too: the rows placed may be anywhere among the zeroed ones */
    if (rc)
        store_token_list_free(out);
    return rc;
}

/* The list from the column, within the caller's read transaction. KH_OK:
 * *out is the answer. KH_ENOTSUP: the SQL path must answer; *known_total
 * (then *has_total 1) is the exact total when the column could give it but
 * not the page (a sort it cannot reproduce). Other codes: the store failed. */
static int token_list_memory(struct sql_store *s, const struct store_token_query *q, struct store_token_list *out,
                             int64_t *known_total, int *has_total)
{
    int64_t rev = 0, deleted_rev = 0;
    struct namecol_page *pg = xmalloc(sizeof *pg);
    char *lfilter = NULL;
    *has_total = 0;
    int rc = token_revs(s, &rev, &deleted_rev);
    if (rc)
        goto out;
    enum namecol_order order = NAMECOL_COUNT_ONLY;
    if (names_mode(s) == 2)
        order = q->sort == STORE_SORT_NAME         ? NAMECOL_BY_NAME
                : q->sort == STORE_SORT_CREATED_AT ? NAMECOL_BY_CREATED
                                                   : NAMECOL_COUNT_ONLY;
    struct namecol_query nq = {
        .filter = q->name_filter,
        .kind = q->kind,
        .owner_ids = q->owner_ids,
        .n_owners = q->n_owners < STORE_MAX_OWNERS ? q->n_owners : STORE_MAX_OWNERS,
        .now = q->now,
        .order = order,
        .desc = q->desc,
        .offset = q->page.offset,
        .limit = q->page.limit,
    };
    struct namecol *c = namecol_lock(s->names, q->org_id);
    rc = names_sync(s, c, q->org_id, rev, deleted_rev);
    if (!rc)
        rc = namecol_query(c, &nq, pg);
    if (rc == KH_EINVAL) { /* the column has not seen this filter lowered yet */
        rc = lower_text(s, q->name_filter, &lfilter);
        nq.lfilter = lfilter;
        if (!rc)
            rc = lfilter ? namecol_query(c, &nq, pg) : KH_ENOTSUP;
    }
    namecol_unlock(c);
    if (rc)
        goto out;
    if (order == NAMECOL_COUNT_ONLY) {
        *known_total = pg->total;
        *has_total = 1;
        rc = KH_ENOTSUP;
        goto out;
    }
    rc = fetch_page(s, pg, out);
    out->total = pg->total;
out:
    free(lfilter);
    free(pg);
    return rc;
}

/* Runs a token list in one read transaction, so that its count and its page
 * (and the in-memory column's revision) are of one snapshot: on PostgreSQL
 * each statement of READ COMMITTED has its own. Inside a caller's
 * transaction the list runs there, from SQL only: the column is shared by
 * the process and must never hold what a transaction has not committed. */
static int sql_token_list(struct store *st, const struct store_token_query *q, struct store_token_list *out)
{
    struct sql_store *s = S(st);
    int64_t total = 0;
    int has_total = 0, rc;
    memset(out, 0, sizeof *out);
    if (s->depth > 0)
        return token_list_sql(s, q, NULL, out);
    /* Probed before the transaction: a failed statement would end it on PostgreSQL. */
    int memory = q->name_filter && s->names && names_mode(s) > 0;
    if ((rc = s->drv->exec(s, s->drv->dialect.begin_read, "begin read")))
        return rc;
    s->depth = 1; /* a lost connection now fails the list instead of reading on outside the snapshot */
    rc = KH_ENOTSUP;
    if (memory)
        rc = token_list_memory(s, q, out, &total, &has_total);
    if (rc == KH_ENOTSUP)
        rc = token_list_sql(s, q, has_total ? &total : NULL, out);
    /* Nothing was written: ROLLBACK ends it without counting as a commit
     * (store_pg.c moves the change stamp on COMMIT). */
    if (s->drv->in_transaction(s))
        s->drv->exec(s, "ROLLBACK", "end read");
    s->depth = 0;
    return rc;
}

static int sql_app_key_list(struct store *st, const struct store_app_key_query *q, struct store_app_key_list *out)
{
    struct where wh;
    void *items = NULL;
    memset(out, 0, sizeof *out);
    list_where_begin(&wh, S(st), q->org_id);
    if (q->n_owners)
        where_in(&wh, "owner_id", q->owner_ids, q->n_owners < STORE_MAX_OWNERS ? q->n_owners : STORE_MAX_OWNERS);
    if (q->name_filter)
        where_like(&wh, "name", NULL, q->name_filter);
    where_range(&wh, "created_at", &q->created);
    int rc = run_list(S(st), "app_keys", APP_KEY_COLS, &wh, NULL, q->sort, q->desc, &q->page,
                      sizeof(struct store_app_key), read_app_key, &items, &out->n, &out->total);
    out->items = items;
    if (rc)
        store_app_key_list_free(out);
    list_where_end(&wh);
    return rc;
}

/* Counts rows of table in an org (a list's unfiltered total). */
static int org_total(struct sql_store *s, const char *table, const char *org_id, int64_t *total)
{
    struct sql_params p = {.n = 0};
    char *sql = xasprintf("SELECT count(*) FROM %s WHERE org_id = ?1", table);
    p_text(&p, org_id);
    int rc = run_count(s, sql, &p, total);
    free(sql);
    return rc;
}

static int sql_user_list(struct store *st, const struct store_user_query *q, struct store_user_list *out)
{
    struct sql_store *s = S(st);
    struct where wh;
    void *items = NULL;
    memset(out, 0, sizeof *out);
    list_where_begin(&wh, s, q->org_id);
    if (q->filter)
        where_like(&wh, "name", "email", q->filter);
    if (q->status_mask) {
        buf_printf(&wh.w, " AND (1 = 0%s%s%s)",
                   q->status_mask & STORE_STATUS_ACTIVE ? " OR (disabled = 0 AND verified = 1)" : "",
                   q->status_mask & STORE_STATUS_PENDING ? " OR (disabled = 0 AND verified = 0)" : "",
                   q->status_mask & STORE_STATUS_DISABLED ? " OR disabled = 1" : "");
    }
    if (q->role_id) {
        p_text(&wh.p, q->role_id);
        buf_printf(&wh.w, " AND id IN (SELECT user_id FROM user_roles WHERE role_id = ?%d)", wh.p.n);
    }
    int rc = run_list(s, "users", USER_COLS, &wh, NULL, q->sort, q->desc, &q->page, sizeof(struct store_user),
                      read_user, &items, &out->n, &out->total);
    out->items = items;
    if (!rc && q->role_id) { /* a role's members: all of them, whatever the filters */
        struct sql_params rp = {.n = 0};
        p_text(&rp, q->role_id);
        rc = run_count(s, "SELECT count(*) FROM user_roles WHERE role_id = ?1", &rp, &out->total_unfiltered);
    } else if (!rc) {
        rc = org_total(s, "users", q->org_id, &out->total_unfiltered);
    }
    if (rc)
        store_user_list_free(out);
    list_where_end(&wh);
    return rc;
}

static int sql_role_list(struct store *st, const struct store_role_query *q, struct store_role_list *out)
{
    struct sql_store *s = S(st);
    struct where wh;
    void *items = NULL;
    memset(out, 0, sizeof *out);
    list_where_begin(&wh, s, q->org_id);
    if (q->filter)
        where_like(&wh, "name", NULL, q->filter);
    if (q->name)
        where_eq_text(&wh, "name", q->name);
    if (q->n_ids)
        where_in(&wh, "id", q->ids, q->n_ids < STORE_MAX_IDS ? q->n_ids : STORE_MAX_IDS);
    int rc = run_list(s, "roles", ROLE_COLS, &wh, NULL, q->sort, q->desc, &q->page, sizeof(struct store_role),
                      read_role, &items, &out->n, &out->total);
    out->items = items;
    if (!rc)
        rc = org_total(s, "roles", q->org_id, &out->total_unfiltered);
    if (rc)
        store_role_list_free(out);
    list_where_end(&wh);
    return rc;
}

/* ---- last-used times ---- */

/* Runs one touch statement for an item; *changed tells whether it wrote. */
static int touch_one(struct sql_store *s, enum stmt_id id, const struct store_touch *t, int *changed)
{
    struct sql_params p = {.n = 0};
    int64_t n = 0;
    p_text(&p, t->id);
    p_int(&p, t->when);
    int rc = write_rows(s, id, &p, &n, "touch");
    *changed = !rc && n > 0;
    return rc;
}

/* A first use is one that finds last_used_at unset: the first statement
 * only writes then, and the usual one moves the time forward otherwise. */
static int sql_touch(struct store *st, const struct store_touch *items, size_t n, unsigned char *first)
{
    static const enum stmt_id firsts[] = {[STORE_TOUCH_API_KEY] = S_FIRST_TOUCH_API_KEY,
                                          [STORE_TOUCH_APP_KEY] = S_FIRST_TOUCH_APP_KEY,
                                          [STORE_TOUCH_TOKEN] = S_FIRST_TOUCH_TOKEN};
    static const enum stmt_id later[] = {[STORE_TOUCH_API_KEY] = S_TOUCH_API_KEY, [STORE_TOUCH_APP_KEY] = S_TOUCH_APP_KEY,
                                         [STORE_TOUCH_TOKEN] = S_TOUCH_TOKEN};
    static const enum stmt_id closes[] = {[STORE_TOUCH_API_KEY] = S_API_KEY_CLOSE_OVERLAP,
                                          [STORE_TOUCH_APP_KEY] = S_APP_KEY_CLOSE_OVERLAP,
                                          [STORE_TOUCH_TOKEN] = S_TOKEN_CLOSE_OVERLAP};
    struct sql_store *s = S(st);
    int rc = sql_begin(st);
    for (size_t i = 0; !rc && i < n; i++) {
        int kind = items[i].kind, was_first = 0, moved;
        if (kind < STORE_TOUCH_API_KEY || kind > STORE_TOUCH_TOKEN) {
            rc = KH_EINVAL;
            break;
        }
        rc = touch_one(s, firsts[kind], &items[i], &was_first);
        if (!rc && !was_first)
            rc = touch_one(s, later[kind], &items[i], &moved);
        if (!rc && items[i].close_overlap)
            rc = touch_one(s, closes[kind], &items[i], &moved);
        if (first)
            first[i] = (unsigned char)was_first;
    }
    if (rc) {
        sql_rollback(st);
        return rc;
    }
    return sql_commit(st);
}

/* ---- who uses a credential (issue 15, item 2) ---- */

static int usage_add_one(struct sql_store *s, const struct store_usage_add *u)
{
    int rc = KH_OK;
    for (size_t i = 0; !rc && i < u->n_days; i++) {
        struct sql_params p = {.n = 0};
        p_text(&p, u->credential_id);
        p_int(&p, u->days[i].day);
        p_int(&p, u->days[i].requests);
        rc = write_rows(s, S_USAGE_DAY_ADD, &p, NULL, "usage_add");
    }
    for (size_t i = 0; !rc && i < u->n_routes; i++) {
        struct sql_params p = {.n = 0};
        p_text(&p, u->credential_id);
        p_text(&p, u->routes[i].route);
        p_int(&p, u->routes[i].requests);
        p_int(&p, u->routes[i].last_seen);
        rc = write_rows(s, S_USAGE_ROUTE_ADD, &p, NULL, "usage_add");
    }
    for (size_t i = 0; !rc && i < u->n_clients; i++) {
        struct sql_params p = {.n = 0};
        p_text(&p, u->credential_id);
        p_text(&p, u->clients[i].address);
        p_text(&p, u->clients[i].user_agent);
        p_int(&p, u->clients[i].last_seen);
        rc = write_rows(s, S_USAGE_CLIENT_SEEN, &p, NULL, "usage_add");
    }
    if (!rc && u->n_clients) {
        struct sql_params p = {.n = 0};
        p_text(&p, u->credential_id);
        rc = write_rows(s, S_USAGE_CLIENT_TRIM, &p, NULL, "usage_add");
    }
    return rc;
}

static int sql_usage_add(struct store *st, const struct store_usage_add *items, size_t n)
{
    int rc = sql_begin(st);
    for (size_t i = 0; !rc && i < n; i++)
        rc = usage_add_one(S(st), &items[i]);
    if (rc) {
        sql_rollback(st);
        return rc;
    }
    return sql_commit(st);
}

static void read_usage_day(struct sql_rows *r, void *it)
{
    struct store_usage_day *d = it;
    d->day = col_int(r, 0);
    d->requests = col_int(r, 1);
}

static void read_usage_route(struct sql_rows *r, void *it)
{
    struct store_usage_route *u = it;
    col_copy(r, 0, u->route, sizeof u->route);
    u->requests = col_int(r, 1);
    u->last_seen = col_int(r, 2);
}

static void read_usage_client(struct sql_rows *r, void *it)
{
    struct store_usage_client *c = it;
    col_copy(r, 0, c->address, sizeof c->address);
    col_copy(r, 1, c->user_agent, sizeof c->user_agent);
    c->last_seen = col_int(r, 2);
}

/* Runs a read of one credential's rows (?1 its id, ?2 a day or a time) into
 * a new array. Rare (one read per request for a credential's usage): the
 * statements are composed, not kept prepared. */
static int usage_rows(struct sql_store *s, const char *sql, const char *id, int64_t since, size_t itemsize,
                      row_reader read, void **items, size_t *n)
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    p_text(&p, id);
    p_int(&p, since);
    int rc = run_composed(s, sql, &p, &r, NULL, "usage_get");
    if (!rc)
        rc = read_all(r, itemsize, read, items, n);
    rows_close(r);
    return rc;
}

static int sql_usage_get(struct store *st, const char *credential_id, int64_t since_day, struct store_usage *out)
{
    void *clients = NULL;
    size_t n_clients = 0;
    int64_t since_us = since_day * STORE_DAY_US;
    memset(out, 0, sizeof *out);
    int rc = usage_rows(S(st),
                        "SELECT day, requests FROM credential_usage_days WHERE credential_id = ?1 AND day >= ?2 "
                        "ORDER BY day",
                        credential_id, since_day, sizeof *out->days, read_usage_day, (void **)&out->days, &out->n_days);
    if (!rc)
        rc = usage_rows(S(st),
                        "SELECT route, requests, last_seen FROM credential_usage_routes WHERE credential_id = ?1 "
                        "AND last_seen >= ?2 ORDER BY requests DESC, route",
                        credential_id, since_us, sizeof *out->routes, read_usage_route, (void **)&out->routes,
                        &out->n_routes);
    if (!rc)
        rc = usage_rows(S(st),
                        "SELECT address, user_agent, last_seen FROM credential_usage_clients WHERE credential_id = ?1 "
                        "AND last_seen >= ?2 ORDER BY last_seen DESC, address, user_agent LIMIT 5",
                        credential_id, since_us, sizeof out->clients[0], read_usage_client, &clients, &n_clients);
    if (!rc) {
        out->n_clients = n_clients < STORE_USAGE_CLIENTS ? n_clients : STORE_USAGE_CLIENTS;
        if (out->n_clients)
            memcpy(out->clients, clients, out->n_clients * sizeof out->clients[0]);
    }
    free(clients);
    if (rc)
        store_usage_clear(out);
    return rc;
}

static int sql_usage_prune(struct store *st, int64_t before_day)
{
    static const char *const steps[] = {
        "DELETE FROM credential_usage_days WHERE day < ?1",
        "DELETE FROM credential_usage_routes WHERE last_seen < ?1",
        "DELETE FROM credential_usage_clients WHERE last_seen < ?1",
    };
    int rc = sql_begin(st);
    for (size_t i = 0; !rc && i < sizeof steps / sizeof steps[0]; i++) {
        struct sql_params p = {.n = 0};
        p_int(&p, i == 0 ? before_day : before_day * STORE_DAY_US);
        rc = run_composed(S(st), steps[i], &p, NULL, NULL, "usage_prune");
    }
    if (rc) {
        sql_rollback(st);
        return rc;
    }
    return sql_commit(st);
}

/* ---- invitations, reset, the audit trail ---- */

static int sql_invitation_insert(struct store *st, const struct store_invitation *inv)
{
    struct sql_params p = {.n = 0};
    p_text(&p, inv->id);
    p_text(&p, inv->org_id);
    p_text(&p, inv->user_id);
    p_text(&p, inv->invite_type);
    p_text(&p, inv->login_method);
    p_int(&p, inv->created_at);
    p_int(&p, inv->expires_at);
    return write_rows(S(st), S_INVITATION_INSERT, &p, NULL, "invitation_insert");
}

static int sql_invitation_get(struct store *st, const char *org_id, const char *id, struct store_invitation *out)
{
    return get_by(S(st), S_INVITATION_GET, id, org_id, read_invitation, out, sizeof *out, "invitation_get");
}

/* ---- the leak loop ---- */

static void read_leak(struct sql_rows *r, void *it)
{
    struct store_leak *l = it;
    col_copy(r, 0, l->credential_id, sizeof l->credential_id);
    col_copy(r, 1, l->org_id, sizeof l->org_id);
    col_copy(r, 2, l->kind, sizeof l->kind);
    l->leaked_at = col_int(r, 3);
    l->last_reported_at = col_int(r, 4);
    l->reports = col_int(r, 5);
    l->url = col_dup(r, 6);
    l->source = col_dup(r, 7);
    col_copy(r, 8, l->reporter, sizeof l->reporter);
    col_copy(r, 9, l->action, sizeof l->action);
}

static int sql_leak_mark(struct store *st, const struct store_leak *l)
{
    struct sql_params p = {.n = 0};
    p_text(&p, l->credential_id);
    p_text(&p, l->org_id);
    p_text(&p, l->kind);
    p_int(&p, l->leaked_at);
    p_int(&p, l->last_reported_at);
    p_text(&p, l->url);
    p_text(&p, l->source);
    p_text(&p, l->reporter);
    p_text(&p, l->action);
    return write_rows(S(st), S_LEAK_MARK, &p, NULL, "leak_mark");
}

static int sql_leak_get(struct store *st, const char *credential_id, struct store_leak *out)
{
    return get_by(S(st), S_LEAK_GET, credential_id, NULL, read_leak, out, sizeof *out, "leak_get");
}

static int sql_leak_list(struct store *st, const char *org_id, const char *kind, const char *action, int64_t limit,
                         struct store_leak_list *out)
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    void *items = NULL;
    memset(out, 0, sizeof *out);
    p_text(&p, org_id);
    p_text(&p, kind);
    p_text(&p, action);
    p_int(&p, limit);
    int rc = run(S(st), S_LEAK_LIST, &p, &r, NULL, "leak_list");
    if (!rc)
        rc = read_all(r, sizeof *out->items, read_leak, &items, &out->n);
    rows_close(r);
    out->items = items;
    if (rc)
        store_leak_list_free(out);
    return rc;
}

static void read_leak_policy(struct sql_rows *r, void *it)
{
    struct store_leak_policy *lp = it;
    col_copy(r, 0, lp->org_id, sizeof lp->org_id);
    col_copy(r, 1, lp->policy, sizeof lp->policy);
    lp->modified_at = col_int(r, 2);
    col_copy(r, 3, lp->modified_by, sizeof lp->modified_by);
}

static int sql_leak_policy_get(struct store *st, const char *org_id, struct store_leak_policy *out)
{
    return get_by(S(st), S_LEAK_POLICY_GET, org_id, NULL, read_leak_policy, out, sizeof *out, "leak_policy_get");
}

static int sql_leak_policy_set(struct store *st, const struct store_leak_policy *lp)
{
    struct sql_params p = {.n = 0};
    p_text(&p, lp->org_id);
    p_text(&p, lp->policy);
    p_int(&p, lp->modified_at);
    p_text(&p, lp->modified_by);
    return write_rows(S(st), S_LEAK_POLICY_SET, &p, NULL, "leak_policy_set");
}

static int sql_leak_reports_prune(struct store *st, int64_t before)
{
    struct sql_params p = {.n = 0};
    p_int(&p, before);
    return write_rows(S(st), S_LEAK_REPORT_PRUNE, &p, NULL, "leak_reports_prune");
}

static int sql_leak_report_insert(struct store *st, const struct store_leak_report *lr)
{
    struct sql_params p = {.n = 0};
    p_text(&p, lr->id);
    p_int(&p, lr->received_at);
    p_text(&p, lr->reporter);
    p_int(&p, lr->entries);
    p_int(&p, lr->matched);
    return write_rows(S(st), S_LEAK_REPORT_INSERT, &p, NULL, "leak_report_insert");
}

enum keep_which { KEEP_NOTHING, KEEP_ORG, KEEP_USER, KEEP_API_KEY, KEEP_APP_KEY };

/* In this order, so that no foreign key is left dangling at any step; each
 * statement's ?1 is the kept row it names. Deleting the tokens fires the
 * token_counts triggers; the counts then all read 0. */
static const struct {
    const char *sql;
    enum keep_which keep;
} reset_steps[] = {
    {"DELETE FROM tokens", KEEP_NOTHING},
    {"DELETE FROM credential_history", KEEP_NOTHING},
    {"DELETE FROM idempotency_keys", KEEP_NOTHING},
    {"DELETE FROM credential_usage_days", KEEP_NOTHING},
    {"DELETE FROM credential_usage_routes", KEEP_NOTHING},
    {"DELETE FROM credential_usage_clients", KEEP_NOTHING},
    {"DELETE FROM token_counts", KEEP_NOTHING},
    {"DELETE FROM app_keys WHERE id <> ?1", KEEP_APP_KEY},
    {"DELETE FROM api_keys WHERE id <> ?1", KEEP_API_KEY},
    {"DELETE FROM invitations", KEEP_NOTHING},
    {"DELETE FROM user_roles", KEEP_NOTHING},
    {"DELETE FROM roles WHERE org_id <> ?1 OR managed = 0", KEEP_ORG},
    {"DELETE FROM users WHERE id <> ?1", KEEP_USER},
    {"DELETE FROM orgs WHERE id <> ?1", KEEP_ORG},
    {"DELETE FROM audit_events", KEEP_NOTHING},
    {"DELETE FROM audit_heads", KEEP_NOTHING},
    {"DELETE FROM audit_checkpoints", KEEP_NOTHING},
    {"DELETE FROM credential_leaks", KEEP_NOTHING},
    {"DELETE FROM leak_policies", KEEP_NOTHING},
    {"DELETE FROM leak_reports", KEEP_NOTHING},
    {"DELETE FROM webhook_attempts", KEEP_NOTHING},
    {"DELETE FROM webhook_deliveries", KEEP_NOTHING},
    {"DELETE FROM webhooks", KEEP_NOTHING},
    {"DELETE FROM expiry_notices", KEEP_NOTHING},
};

static int sql_reset(struct store *st, const struct store_keep *keep)
{
    S(st)->subs_known = 0;
    took_access_away(S(st));
    const char *kept[] = {[KEEP_NOTHING] = NULL,
                          [KEEP_ORG] = keep->org_id,
                          [KEEP_USER] = keep->user_id,
                          [KEEP_API_KEY] = keep->api_key_id,
                          [KEEP_APP_KEY] = keep->app_key_id};
    int rc = sql_begin(st);
    for (size_t i = 0; !rc && i < sizeof reset_steps / sizeof reset_steps[0]; i++) {
        struct sql_params p = {.n = 0};
        if (reset_steps[i].keep != KEEP_NOTHING)
            p_text(&p, kept[reset_steps[i].keep]);
        rc = run_composed(S(st), reset_steps[i].sql, &p, NULL, NULL, "reset");
    }
    if (rc) {
        sql_rollback(st);
        return rc;
    }
    return sql_commit(st);
}

static void audit_params(struct sql_params *p, const struct store_audit *e)
{
    p_int(p, e->at);
    p_id(p, e->org_id);
    p_id(p, e->actor_id);
    p_text(p, e->action);
    p_text(p, e->target_kind);
    p_id(p, e->target_id);
    p_id(p, e->source);
}

/* The org's chain head: *count 0 and a zero hash when it has none. */
static int audit_head(struct sql_store *s, const char *org_key, int64_t *count, uint8_t hash[SECRET_HASH_LEN],
                      int *found)
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    int row = 0;
    *count = 0;
    *found = 0;
    memset(hash, 0, SECRET_HASH_LEN);
    p_text(&p, org_key);
    int rc = run(s, S_AUDIT_HEAD_GET, &p, &r, NULL, "audit_head");
    if (!rc)
        rc = step(r, &row);
    if (!rc && row) {
        *found = 1;
        *count = col_int(r, 0);
        col_fixed_blob(r, 1, hash, SECRET_HASH_LEN);
    }
    rows_close(r);
    return rc;
}

/* Chains the org's events from before the chain existed, oldest first,
 * moving count and hash along. */
static int audit_chain_backlog(struct sql_store *s, const char *org_key, int64_t *count,
                               uint8_t hash[SECRET_HASH_LEN])
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    struct store_audit_list old = {0};
    void *items = NULL;
    p_text(&p, org_key);
    int rc = run(s, S_AUDIT_UNCHAINED, &p, &r, NULL, "audit_backlog");
    if (!rc)
        rc = read_all(r, sizeof(struct store_audit), read_audit, &items, &old.n);
    rows_close(r);
    old.items = items;
    for (size_t i = 0; !rc && i < old.n; i++) {
        uint8_t next[SECRET_HASH_LEN];
        store_audit_hash(&old.items[i], hash, next);
        struct sql_params u = {.n = 0};
        p_int(&u, old.items[i].seq);
        p_blob(&u, hash, SECRET_HASH_LEN);
        p_blob(&u, next, SECRET_HASH_LEN);
        rc = write_rows(s, S_AUDIT_SET_HASH, &u, NULL, "audit_backlog");
        memcpy(hash, next, SECRET_HASH_LEN);
        (*count)++;
    }
    store_audit_list_free(&old);
    return rc;
}

/* Moves the org's head from the one this handle wrote last, when the store
 * still has that one: one statement instead of a read and a write (on
 * PostgreSQL a round trip each). *moved 0 when it could not. */
static int move_remembered_head(struct sql_store *s, const char *org_key, const uint8_t hash[SECRET_HASH_LEN],
                                int *moved)
{
    struct sql_params p = {.n = 0};
    int64_t n = 0;
    *moved = 0;
    p_text(&p, org_key);
    p_int(&p, s->last_head_count + 1);
    p_blob(&p, hash, SECRET_HASH_LEN);
    p_int(&p, s->last_head_count);
    p_blob(&p, s->last_head_hash, SECRET_HASH_LEN);
    int rc = write_rows(s, S_AUDIT_HEAD_MOVE, &p, &n, "audit_head");
    *moved = !rc && n == 1;
    return rc;
}

static void remember_head(struct sql_store *s, const char *org_key, int64_t count, const uint8_t hash[SECRET_HASH_LEN])
{
    snprintf(s->last_head_org, sizeof s->last_head_org, "%s", org_key);
    s->last_head_count = count;
    memcpy(s->last_head_hash, hash, SECRET_HASH_LEN);
}

/* The same, and the event inserted with it, in one statement where the
 * dialect has one (a round trip less per event on PostgreSQL). */
static int append_moving_remembered_head(struct sql_store *s, const struct store_audit *e,
                                         const uint8_t hash[SECRET_HASH_LEN], int *moved)
{
    struct sql_params p = {.n = 0};
    int64_t n = 0;
    audit_params(&p, e);
    p_blob(&p, s->last_head_hash, SECRET_HASH_LEN);
    p_blob(&p, hash, SECRET_HASH_LEN);
    p_text(&p, e->org_id);
    p_int(&p, s->last_head_count + 1);
    p_int(&p, s->last_head_count);
    int rc = run_composed(s, s->drv->dialect.audit_append_moving, &p, NULL, &n, "audit_insert");
    *moved = !rc && n == 1;
    return rc;
}

/* Links the event to its org's head and moves the head, inside the caller's
 * write transaction. The head this handle wrote last is tried first (the
 * common case: one writer, a run of events); when another writer moved it
 * since, or it is another org's, the head is read. */
static int audit_append(struct sql_store *s, const struct store_audit *e)
{
    const char *org_key = e->org_id;
    int64_t count;
    int found, moved = 0, rc;
    uint8_t prev[SECRET_HASH_LEN], hash[SECRET_HASH_LEN];
    if (strcmp(s->last_head_org, org_key) == 0 && s->last_head_count > 0) {
        store_audit_hash(e, s->last_head_hash, hash);
        if (s->drv->dialect.audit_append_moving) {
            if ((rc = append_moving_remembered_head(s, e, hash, &moved)))
                return rc;
            if (moved) {
                remember_head(s, org_key, s->last_head_count + 1, hash);
                return KH_OK;
            }
        } else if ((rc = move_remembered_head(s, org_key, hash, &moved)))
            return rc;
        if (moved) {
            count = s->last_head_count;
            memcpy(prev, s->last_head_hash, SECRET_HASH_LEN);
        }
    }
    if (!moved) {
        if ((rc = audit_head(s, org_key, &count, prev, &found)) || (!found && (rc = audit_chain_backlog(s, org_key, &count, prev))))
            return rc;
        store_audit_hash(e, prev, hash);
        struct sql_params h = {.n = 0};
        p_text(&h, org_key);
        p_int(&h, count + 1);
        p_blob(&h, hash, SECRET_HASH_LEN);
        if ((rc = write_rows(s, S_AUDIT_HEAD_PUT, &h, NULL, "audit_head")))
            return rc;
    }
    struct sql_params p = {.n = 0};
    audit_params(&p, e);
    p_blob(&p, prev, SECRET_HASH_LEN);
    p_blob(&p, hash, SECRET_HASH_LEN);
    if ((rc = write_rows(s, S_AUDIT_INSERT, &p, NULL, "audit_insert")))
        return rc;
    remember_head(s, org_key, count + 1, hash);
    return KH_OK;
}

/* Inside a transaction already (a request's, or the writer's batch, whose
 * savepoint takes the event back with a failed request) the event needs no
 * transaction of its own: on PostgreSQL that was two round trips more per
 * event. Alone, it gets one: reading and moving the head must not
 * interleave with another writer's. */
static int sql_audit_insert(struct store *st, const struct store_audit *e)
{
    struct sql_store *s = S(st);
    if (s->depth > 0)
        return audit_append(s, e);
    int rc = sql_begin(st);
    if (rc)
        return rc;
    rc = audit_append(s, e);
    if (rc) {
        sql_rollback(st);
        return rc;
    }
    return sql_commit(st);
}

/* Runs a statement of audit events (AUDIT_COLS) and reads every row. */
static int audit_rows(struct sql_store *s, enum stmt_id id, const struct sql_params *p, struct store_audit_list *out,
                      const char *what)
{
    struct sql_rows *r = NULL;
    void *items = NULL;
    memset(out, 0, sizeof *out);
    int rc = run(s, id, p, &r, NULL, what);
    if (!rc)
        rc = read_all(r, sizeof(struct store_audit), read_audit, &items, &out->n);
    rows_close(r);
    out->items = items;
    out->total = (int64_t)out->n;
    if (rc)
        store_audit_list_free(out);
    return rc;
}

static int sql_audit_walk(struct store *st, int64_t after_seq, int64_t limit, struct store_audit_list *out)
{
    struct sql_params p = {.n = 0};
    p_int(&p, after_seq);
    p_int(&p, limit);
    return audit_rows(S(st), S_AUDIT_WALK, &p, out, "audit_walk");
}

static int sql_audit_page(struct store *st, const struct store_audit_page *q, struct store_audit_list *out)
{
    struct sql_params p = {.n = 0};
    p_text(&p, q->org_id);
    p_int(&p, q->from);
    p_int(&p, q->to);
    p_int(&p, q->after_at);
    p_int(&p, q->after_seq);
    p_int(&p, q->limit);
    return audit_rows(S(st), q->desc ? S_AUDIT_PAGE_DESC : S_AUDIT_PAGE_ASC, &p, out, "audit_page");
}

/* Chains every org's events from before the chain (audit_chain_backlog
 * for each org that has some), in one write transaction. */
static int sql_audit_chain_backlog(struct store *st)
{
    struct store_strlist orgs = {0};
    int rc = sql_begin(st);
    if (!rc)
        rc = strlist_query(S(st), S_AUDIT_UNCHAINED_ORGS, NULL, &orgs);
    for (size_t i = 0; !rc && i < orgs.n; i++) {
        int64_t count;
        int found;
        uint8_t hash[SECRET_HASH_LEN];
        if (!(rc = audit_head(S(st), orgs.items[i], &count, hash, &found)) &&
            !(rc = audit_chain_backlog(S(st), orgs.items[i], &count, hash))) {
            struct sql_params h = {.n = 0};
            p_text(&h, orgs.items[i]);
            p_int(&h, count);
            p_blob(&h, hash, SECRET_HASH_LEN);
            rc = write_rows(S(st), S_AUDIT_HEAD_PUT, &h, NULL, "audit_head");
        }
    }
    store_strlist_free(&orgs);
    if (rc) {
        sql_rollback(st);
        return rc;
    }
    return sql_commit(st);
}

static int sql_audit_checkpoint_insert(struct store *st, const struct store_audit_checkpoint *c)
{
    struct sql_params p = {.n = 0};
    p_int(&p, c->number);
    p_int(&p, c->at);
    p_int(&p, c->max_seq);
    p_text(&p, c->heads);
    p_blob(&p, c->prev_digest, SECRET_HASH_LEN);
    p_int(&p, c->secret_version);
    p_blob(&p, c->mac, SECRET_HASH_LEN);
    return insert_unless_taken(S(st), S_AUDIT_CHECKPOINT_INSERT, &p, "audit_checkpoint");
}

static void read_audit_checkpoint(struct sql_rows *r, void *it)
{
    struct store_audit_checkpoint *c = it;
    c->number = col_int(r, 0);
    c->at = col_int(r, 1);
    c->max_seq = col_int(r, 2);
    c->heads = col_dup(r, 3);
    if (!c->heads)
        c->heads = xstrdup("");
    col_fixed_blob(r, 4, c->prev_digest, SECRET_HASH_LEN);
    c->secret_version = (int)col_int(r, 5);
    col_fixed_blob(r, 6, c->mac, SECRET_HASH_LEN);
}

static int sql_audit_checkpoint_latest(struct store *st, struct store_audit_checkpoint *out)
{
    struct sql_params p = {.n = 0};
    return get_row(S(st), S_AUDIT_CHECKPOINT_LATEST, &p, read_audit_checkpoint, out, sizeof *out, "audit_checkpoint");
}

static int sql_audit_checkpoint_walk(struct store *st, int64_t after, int64_t limit,
                                     struct store_audit_checkpoint_list *out)
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    void *items = NULL;
    memset(out, 0, sizeof *out);
    p_int(&p, after);
    p_int(&p, limit);
    int rc = run(S(st), S_AUDIT_CHECKPOINT_WALK, &p, &r, NULL, "audit_checkpoints");
    if (!rc)
        rc = read_all(r, sizeof(struct store_audit_checkpoint), read_audit_checkpoint, &items, &out->n);
    rows_close(r);
    out->items = items;
    if (rc)
        store_audit_checkpoint_list_free(out);
    return rc;
}

static int sql_audit_list(struct store *st, int64_t since, int64_t limit, struct store_audit_list *out)
{
    struct sql_params p = {.n = 0};
    p_int(&p, since);
    p_int(&p, limit);
    return audit_rows(S(st), S_AUDIT_LIST, &p, out, "audit_list");
}

/* ---- secret rotation ---- */

#define RESEAL_BATCH 256

struct reseal_row {
    char id[UUID_STR];
    struct store_sealed old;
};

/* Up to RESEAL_BATCH keys of the table not made under version. */
static int reseal_batch(struct sql_store *s, const char *sql, int version, struct reseal_row *rows, size_t *n)
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    int row = 0;
    *n = 0;
    p_int(&p, version);
    int rc = run_composed(s, sql, &p, &r, NULL, "reseal");
    while (!rc && *n < RESEAL_BATCH && !(rc = step(r, &row)) && row) {
        col_copy(r, 0, rows[*n].id, UUID_STR);
        col_sealed(r, 1, 2, &rows[*n].old);
        (*n)++;
    }
    rows_close(r);
    return rc;
}

static int sql_reseal(struct store *st, int table, int version, store_reseal_fn fn, void *arg, int64_t *count)
{
    took_access_away(S(st)); /* keys are found by new lookup hashes */
    struct sql_store *s = S(st);
    const char *t = table == STORE_SEALED_API_KEYS ? "api_keys" : "app_keys";
    char *select = xasprintf("SELECT id, key_lookup, key_sealed, secret_version FROM %s WHERE secret_version <> ?1 "
                             "ORDER BY id LIMIT %d",
                             t, RESEAL_BATCH);
    char *update = xasprintf("UPDATE %s SET key_lookup = ?2, key_sealed = ?3, secret_version = ?4 WHERE id = ?1", t);
    struct reseal_row *rows = xcalloc(RESEAL_BATCH, sizeof *rows);
    size_t n = 0;
    int rc = KH_OK;
    *count = 0;
    while (!rc && !(rc = reseal_batch(s, select, version, rows, &n)) && n) {
        for (size_t i = 0; i < n; i++) {
            struct store_sealed fresh = {.secret_version = version};
            if (!rc && !(rc = fn(arg, &rows[i].old, &fresh))) {
                struct sql_params p = {.n = 0};
                p_text(&p, rows[i].id);
                p_blob(&p, fresh.lookup, SECRET_HASH_LEN);
                p_blob(&p, fresh.sealed, fresh.sealed_len);
                p_int(&p, version);
                if (!(rc = run_composed(s, update, &p, NULL, NULL, "reseal")))
                    (*count)++;
            }
            free(fresh.sealed);
            free(rows[i].old.sealed);
        }
    }
    free(select);
    free(update);
    free(rows);
    return rc;
}

static int sql_secret_versions(struct store *st, int64_t now, int *versions, size_t max, size_t *n)
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    int row = 0;
    *n = 0;
    p_int(&p, now);
    int rc = run(S(st), S_SECRET_VERSIONS, &p, &r, NULL, "secret_versions");
    while (!rc && !(rc = step(r, &row)) && row)
        if (*n < max)
            versions[(*n)++] = (int)col_int(r, 0);
    rows_close(r);
    return rc;
}

static int sql_sealed_sample(struct store *st, int version, struct store_sealed *out)
{
    struct sql_params p = {.n = 0};
    struct sql_rows *r = NULL;
    int row = 0;
    p_int(&p, version);
    int rc = run(S(st), S_SEALED_SAMPLE, &p, &r, NULL, "sealed_sample");
    if (!rc)
        rc = step(r, &row);
    if (!rc && row)
        col_sealed(r, 0, 1, out);
    else if (!rc)
        rc = KH_ENOTFOUND;
    rows_close(r);
    return rc;
}

/* ---- the history: ended credentials (issue 15, item 3) ----
 *
 * Three sources with the columns of HISTORY_COLS: revoked tokens (who and
 * why kept on the row), live tokens past their expiry, and the tombstones of
 * deleted keys. A list is their UNION ALL for the states and kinds asked,
 * filtered by who may see each row, ordered by when it ended. ?1 is the org,
 * ?2 the retention's start, ?3 now. */

#define HISTORY_COLS "h.kind, h.state, h.id, h.org_id, h.name, h.owner_id, h.last4, h.created_at, h.expires_at, " \
                     "h.ended_at, h.ended_by, h.reason"
#define HISTORY_TOKEN_SELECT                                                                                          \
    "SELECT kind + 2 AS kind, %d AS state, id, org_id, name, owner_id, CAST(NULL AS TEXT) AS last4, created_at, "      \
    "expires_at, %s AS ended_at, %s AS ended_by, %s AS reason FROM tokens WHERE org_id = ?1 AND "

static void history_branch(struct buf *b, const char *sql)
{
    if (b->len)
        buf_adds(b, " UNION ALL ");
    buf_adds(b, sql);
}

/* Leaked credentials (credential_leaks, api/leaks.c): each joined to what
 * is left of it, a token (revoked or quarantined), a live key
 * (quarantined) or a deleted key's tombstone; ended_at is when the first
 * report came, ended_by the reporter, reason what the policy did. */
static void history_leaked_sources(struct buf *b, unsigned tokens, unsigned keys)
{
    static const char leak_cols[] = "l.leaked_at AS ended_at, l.reporter AS ended_by, l.action AS reason";
    static const char leak_where[] = "l.org_id = ?1 AND l.leaked_at >= ?2";
    char sql[640];
    if (tokens) {
        snprintf(sql, sizeof sql,
                 "SELECT t.kind + 2 AS kind, %d AS state, t.id, t.org_id, t.name, t.owner_id, CAST(NULL AS TEXT) AS "
                 "last4, t.created_at, t.expires_at, %s FROM credential_leaks l JOIN tokens t ON t.id = "
                 "l.credential_id WHERE %s",
                 STORE_HISTORY_LEAKED, leak_cols, leak_where);
        history_branch(b, sql);
    }
    if (!keys)
        return;
    snprintf(sql, sizeof sql,
             "SELECT %d AS kind, %d AS state, k.id, k.org_id, k.name, k.created_by AS owner_id, k.last4, k.created_at, "
             "CAST(NULL AS BIGINT) AS expires_at, %s FROM credential_leaks l JOIN api_keys k ON k.id = l.credential_id "
             "WHERE %s",
             STORE_CRED_API_KEY, STORE_HISTORY_LEAKED, leak_cols, leak_where);
    history_branch(b, sql);
    snprintf(sql, sizeof sql,
             "SELECT %d AS kind, %d AS state, k.id, k.org_id, k.name, k.owner_id, k.last4, k.created_at, "
             "CAST(NULL AS BIGINT) AS expires_at, %s FROM credential_leaks l JOIN app_keys k ON k.id = l.credential_id "
             "WHERE %s",
             STORE_CRED_APP_KEY, STORE_HISTORY_LEAKED, leak_cols, leak_where);
    history_branch(b, sql);
    snprintf(sql, sizeof sql,
             "SELECT h.kind, %d AS state, h.id, h.org_id, h.name, h.owner_id, h.last4, h.created_at, "
             "CAST(NULL AS BIGINT) AS expires_at, %s FROM credential_leaks l JOIN credential_history h ON h.id = "
             "l.credential_id WHERE %s",
             STORE_HISTORY_LEAKED, leak_cols, leak_where);
    history_branch(b, sql);
}

/* The UNION of the sources that can hold rows of states and kinds (masks of
 * 1 << state, STORE_CRED_BIT); empty when none can. */
static void history_sources(struct buf *b, unsigned states, unsigned kinds)
{
    unsigned tokens = kinds & (STORE_CRED_BIT(STORE_CRED_PAT) | STORE_CRED_BIT(STORE_CRED_SAT));
    unsigned keys = kinds & (STORE_CRED_BIT(STORE_CRED_API_KEY) | STORE_CRED_BIT(STORE_CRED_APP_KEY));
    char sql[512];
    if ((states & (1u << STORE_HISTORY_REVOKED)) && tokens) {
        snprintf(sql, sizeof sql, HISTORY_TOKEN_SELECT "revoked_at IS NOT NULL AND revoked_at >= ?2",
                 STORE_HISTORY_REVOKED, "revoked_at", "revoked_by", "revoke_reason");
        history_branch(b, sql);
    }
    if ((states & (1u << STORE_HISTORY_EXPIRED)) && tokens) {
        snprintf(sql, sizeof sql,
                 HISTORY_TOKEN_SELECT "revoked_at IS NULL AND expires_at <= ?3 AND expires_at >= ?2",
                 STORE_HISTORY_EXPIRED, "expires_at", "CAST(NULL AS TEXT)", "CAST(NULL AS TEXT)");
        history_branch(b, sql);
    }
    if ((states & (1u << STORE_HISTORY_REVOKED)) && keys) {
        snprintf(sql, sizeof sql,
                 "SELECT kind, %d AS state, id, org_id, name, owner_id, last4, created_at, CAST(NULL AS BIGINT) AS "
                 "expires_at, ended_at, ended_by, reason FROM credential_history WHERE org_id = ?1 AND ended_at >= ?2",
                 STORE_HISTORY_REVOKED);
        history_branch(b, sql);
    }
    if (states & (1u << STORE_HISTORY_LEAKED))
        history_leaked_sources(b, tokens, keys);
}

/* Adds "h.kind IN (...)" for the kinds of mask, bound. */
static void history_kinds_in(struct where *q, unsigned mask)
{
    const char *sep = "";
    buf_adds(&q->w, "h.kind IN (");
    for (int k = STORE_CRED_API_KEY; k <= STORE_CRED_SAT; k++)
        if (mask & STORE_CRED_BIT(k)) {
            p_int(&q->p, k);
            buf_printf(&q->w, "%s?%d", sep, q->p.n);
            sep = ", ";
        }
    buf_adds(&q->w, ")");
}

/* Who may see a row: the query's three masks, as one condition. */
static void history_visible(struct where *q, const struct store_history_query *hq)
{
    const char *sep = "";
    buf_adds(&q->w, "(");
    if (hq->any_kinds) {
        history_kinds_in(q, hq->any_kinds);
        sep = " OR ";
    }
    if (hq->own_kinds && hq->own_id) {
        p_text(&q->p, hq->own_id);
        buf_printf(&q->w, "%s(h.owner_id = ?%d AND ", sep, q->p.n);
        history_kinds_in(q, hq->own_kinds);
        buf_adds(&q->w, ")");
        sep = " OR ";
    }
    if (hq->sa_kinds) {
        buf_printf(&q->w, "%s(o.service_account <> 0 AND ", sep);
        history_kinds_in(q, hq->sa_kinds);
        buf_adds(&q->w, ")");
    }
    buf_adds(&q->w, ")");
}

static void read_history(struct sql_rows *r, void *it)
{
    struct store_history_row *h = it;
    h->kind = (int)col_int(r, 0);
    h->state = (int)col_int(r, 1);
    col_copy(r, 2, h->id, sizeof h->id);
    col_copy(r, 3, h->org_id, sizeof h->org_id);
    h->name = col_dup(r, 4);
    col_copy(r, 5, h->owner_id, sizeof h->owner_id);
    col_copy(r, 6, h->last4, sizeof h->last4);
    h->created_at = col_int(r, 7);
    h->expires_at = col_int(r, 8);
    h->ended_at = col_int(r, 9);
    col_copy(r, 10, h->ended_by, sizeof h->ended_by);
    h->reason = col_dup(r, 11);
    h->ended_by_email = col_dup(r, 12);
}

static int sql_history_list(struct store *st, const struct store_history_query *hq, struct store_history_list *out)
{
    struct sql_store *s = S(st);
    struct where q;
    struct buf from;
    struct sql_rows *r = NULL;
    void *items = NULL;
    unsigned own = hq->own_id ? hq->own_kinds : 0;
    int rc = KH_OK;
    memset(out, 0, sizeof *out);
    buf_init(&from, 4096);
    history_sources(&from, hq->states, hq->any_kinds | own | hq->sa_kinds);
    if (!from.len) { /* nothing the caller may see can be in these states */
        buf_free(&from);
        return KH_OK;
    }
    memset(&q, 0, sizeof q);
    buf_init(&q.w, 4096);
    p_text(&q.p, hq->org_id); /* ?1 */
    p_int(&q.p, hq->since);   /* ?2 */
    p_int(&q.p, hq->now);     /* ?3 */
    history_visible(&q, hq);
    char *count_sql = xasprintf("SELECT count(*) FROM (%s) h LEFT JOIN users o ON o.id = h.owner_id WHERE %s", from.p,
                                q.w.p);
    rc = run_count(s, count_sql, &q.p, &out->total);
    free(count_sql);
    if (!rc) {
        const char *dir = hq->asc ? "ASC" : "DESC";
        char *page_sql = xasprintf("SELECT " HISTORY_COLS ", e.email FROM (%s) h LEFT JOIN users o ON o.id = h.owner_id "
                                   "LEFT JOIN users e ON e.id = h.ended_by WHERE %s ORDER BY h.ended_at %s, h.id %s "
                                   "LIMIT ?%d OFFSET ?%d",
                                   from.p, q.w.p, dir, dir, q.p.n + 1, q.p.n + 2);
        p_int(&q.p, hq->page.limit);
        p_int(&q.p, hq->page.offset);
        rc = run_composed(s, page_sql, &q.p, &r, NULL, "history_list");
        if (!rc)
            rc = read_all(r, sizeof(struct store_history_row), read_history, &items, &out->n);
        rows_close(r);
        free(page_sql);
    }
    out->items = items;
    if (rc)
        store_history_list_free(out);
    list_where_end(&q);
    buf_free(&from);
    return rc;
}

/* Removes at most limit rows of one kind of dead credential of org_id that
 * ended before `before` (sql's ?1 org, ?2 before, ?3 limit); adds to *n. */
static int prune_org(struct sql_store *s, const char *sql, const char *org_id, int64_t before, int64_t limit,
                     int64_t *n)
{
    struct sql_params p = {.n = 0};
    int64_t changed = 0;
    p_text(&p, org_id);
    p_int(&p, before);
    p_int(&p, limit);
    int rc = run_composed(s, sql, &p, NULL, &changed, "history_prune");
    *n += changed;
    return rc;
}

/* Per org, so that each delete walks an org's index from its start
 * (tokens_org_revoked, tokens_org_expires, credential_history_org_ended)
 * instead of a table-wide one: the live tokens' indexes stay as they are.
 * dead_before is set first: the token revision trigger tells a dead row's
 * delete by it (migration 013 / 006), so pruning does not make every
 * in-memory copy of token names rebuild. */
static int sql_history_prune(struct store *st, int64_t before, int64_t limit, int64_t *pruned)
{
    static const char *const prunes[] = {
        "DELETE FROM tokens WHERE id IN (SELECT id FROM tokens WHERE org_id = ?1 AND revoked_at IS NOT NULL "
        "AND revoked_at < ?2 LIMIT ?3)",
        "DELETE FROM tokens WHERE id IN (SELECT id FROM tokens WHERE org_id = ?1 AND revoked_at IS NULL "
        "AND expires_at < ?2 LIMIT ?3)",
        "DELETE FROM credential_history WHERE id IN (SELECT id FROM credential_history WHERE org_id = ?1 "
        "AND ended_at < ?2 LIMIT ?3)",
    };
    struct sql_store *s = S(st);
    struct store_strlist orgs = {0};
    struct sql_params p = {.n = 0};
    int64_t n = 0;
    int rc = sql_begin(st);
    if (rc)
        return rc;
    p_int(&p, before);
    rc = run_composed(s, "UPDATE token_rev SET dead_before = ?1 WHERE dead_before < ?1", &p, NULL, NULL,
                      "history_prune");
    if (!rc)
        rc = strlist_query(s, S_ORG_IDS, NULL, &orgs);
    for (size_t i = 0; !rc && i < orgs.n; i++)
        for (size_t k = 0; !rc && k < sizeof prunes / sizeof prunes[0]; k++)
            rc = prune_org(s, prunes[k], orgs.items[i], before, limit, &n);
    store_strlist_free(&orgs);
    if (rc) {
        sql_rollback(st);
        return rc;
    }
    if (pruned)
        *pruned = n;
    return sql_commit(st);
}

/* ---- copying a whole store, and counting its rows ----
 *
 * Every table, parents before children, with its columns and their types
 * (T text, I integer, B blob). audit_events leaves its seq to the new store,
 * in the same order. token_counts is not copied: the tokens' trigger fills
 * it as they arrive. */
#define KEY_ROTATION_COPY_COLS ", prev_key_lookup, prev_secret_version, prev_valid_until, rotated_at"
static const struct copy_table {
    const char *name, *cols, *types, *order;
} copy_tables[] = {
    {"meta", "key, value", "TT", "key"},
    {"orgs", "id, name, created_at", "TTI", "id"},
    {"users", USER_COLS, "TTTTTIIIII", "id"},
    {"roles", "id, org_id, name, created_at, modified_at, managed, receives_permissions_from", "TTTIIIT", "id"},
    {"role_permissions", "role_id, permission", "TT", "role_id, permission"},
    {"user_roles", "user_id, role_id", "TT", "user_id, role_id"},
    {"api_keys", API_KEY_COLS KEY_ROTATION_COPY_COLS, "TTTTTITTIIIBBIBIII", "id"},
    {"app_keys", APP_KEY_COLS KEY_ROTATION_COPY_COLS, "TTTTTTIIBBIBIII", "id"},
    {"tokens", TOKEN_COLS, "TTTITTBIIIIIIBIIITT", "id"},
    {"credential_history", HISTORY_TOMB_COLS, "TTITTTIITT", "id"},
    {"idempotency_keys", "key_hash, org_id, request_hash, created_at, status, secret_version, sealed_answer", "BTBIIIB",
     "key_hash"},
    {"invitations", INVITATION_COLS, "TTTTTII", "id"},
    {"audit_events", "at, org_id, actor_id, action, target_kind, target_id, source, prev_hash, hash", "ITTTTTTBB",
     "seq"},
    {"audit_heads", "org_key, count, hash", "TIB", "org_key"},
    {"audit_checkpoints", AUDIT_CHECKPOINT_COLS, "IIITBIB", "number"},
    {"credential_usage_days", "credential_id, day, requests", "TII", "credential_id, day"},
    {"credential_usage_routes", "credential_id, route, requests, last_seen", "TTII", "credential_id, route"},
    {"credential_usage_clients", "credential_id, address, user_agent, last_seen", "TTTI",
     "credential_id, address, user_agent"},
    {"credential_leaks", LEAK_COLS, "TTTIIITTTT", "credential_id"},
    {"leak_policies", "org_id, policy, modified_at, modified_by", "TTIT", "org_id"},
    {"leak_reports", "id, received_at, reporter, entries, matched", "TITII", "id"},
    {"webhooks", WEBHOOK_COLS, "TTTTIIIBTII", "id"},
    {"webhook_deliveries", DELIVERY_COLS, "TTTTTIIIIIITI", "webhook_id, event_id"},
    {"webhook_attempts", ATTEMPT_COLS, "TTIIITI", "webhook_id, event_id, attempt"},
    {"expiry_notices", "token_id, notice, sent_at", "TII", "token_id, notice"},
};

/* The current row of r as parameters, by the table's column types. */
static void row_params(struct sql_rows *r, const char *types, struct sql_params *p)
{
    p->n = 0;
    for (int i = 0; types[i]; i++) {
        size_t len = 0;
        if (r->drv->col_null(r, i))
            p->v[p->n++] = (struct sql_param){.type = SQL_NULL};
        else if (types[i] == 'I')
            p_int(p, col_int(r, i));
        else if (types[i] == 'B') {
            const void *blob = r->drv->col_blob(r, i, &len); /* before len is read */
            p_blob(p, blob, len);
        }
        else
            p_text(p, r->drv->col_text(r, i));
    }
}

static int copy_table(struct sql_store *from, struct sql_store *to, const struct copy_table *t)
{
    struct sql_rows *r = NULL;
    struct buf ins;
    int row = 0, n = (int)strlen(t->types);
    char *select = xasprintf("SELECT %s FROM %s ORDER BY %s", t->cols, t->name, t->order);
    buf_init(&ins, 4096);
    buf_printf(&ins, "INSERT INTO %s(%s) VALUES (", t->name, t->cols);
    for (int i = 1; i <= n; i++)
        buf_printf(&ins, "%s?%d", i > 1 ? ", " : "", i);
    buf_adds(&ins, ")");
    int rc = run_composed(from, select, NULL, &r, NULL, "copy");
    while (!rc && !(rc = step(r, &row)) && row) {
        struct sql_params p;
        row_params(r, t->types, &p);
        rc = run_composed(to, ins.p, &p, NULL, NULL, "copy");
    }
    rows_close(r);
    buf_free(&ins);
    free(select);
    return rc;
}

static int sql_copy_to(struct store *st, struct store *to)
{
    if (to->ops != &store_sql_ops)
        return KH_ENOTSUP;
    int rc = sql_begin(to);
    for (size_t i = 0; !rc && i < sizeof copy_tables / sizeof copy_tables[0]; i++)
        rc = copy_table(S(st), S(to), &copy_tables[i]);
    if (rc) {
        sql_rollback(to);
        return rc;
    }
    return sql_commit(to);
}

static int sql_counts(struct store *st, char **report)
{
    struct buf b;
    int rc = KH_OK;
    *report = NULL;
    buf_init(&b, 4096);
    for (size_t i = 0; !rc && i < sizeof copy_tables / sizeof copy_tables[0]; i++) {
        int64_t n = 0;
        char *sql = xasprintf("SELECT count(*) FROM %s", copy_tables[i].name);
        rc = run_count(S(st), sql, NULL, &n);
        free(sql);
        buf_printf(&b, "%s%s %lld", i ? ", " : "", copy_tables[i].name, (long long)n);
    }
    if (rc)
        buf_free(&b);
    else
        *report = buf_steal(&b, NULL);
    return rc;
}

static int sql_ready(struct store *st, const char **why)
{
    int64_t have = 0, want = 0;
    while (S(st)->drv->migrations[want])
        want++;
    if (run_count(S(st), "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL, &have)) {
        *why = "store unreachable";
        return KH_ESTORE;
    }
    *why = have < want ? "store schema not migrated" : have > want ? "store schema newer than this keyhold" : NULL;
    return *why ? KH_ESTORE : KH_OK;
}

/* ---- what only a backend can do ---- */

static void sql_close(struct store *st)
{
    if (!st)
        return;
    namecol_set_release(S(st)->names);
    S(st)->drv->close(S(st));
}

static int sql_change_stamp(struct store *st, struct store_stamp *out)
{
    if (!S(st)->drv->change_stamp)
        return KH_ENOTSUP;
    out->c = S(st)->access_taken;
    return S(st)->drv->change_stamp(S(st), out);
}

static int sql_backup(struct store *st, const char *dest, char **err)
{
    return S(st)->drv->backup ? S(st)->drv->backup(S(st), dest, err) : KH_ENOTSUP;
}

static int sql_check(struct store *st, char **report)
{
    return S(st)->drv->check ? S(st)->drv->check(S(st), report) : KH_ENOTSUP;
}

static int sql_control(struct store *st, int op, void *arg)
{
    return S(st)->drv->control ? S(st)->drv->control(S(st), op, arg) : KH_ENOTSUP;
}

/* ---- webhooks and their outbox (docs/api/webhooks.md) ---- */

static void read_webhook(struct sql_rows *r, void *it)
{
    struct store_webhook *w = it;
    size_t n = 0;
    col_copy(r, 0, w->id, sizeof w->id);
    col_copy(r, 1, w->org_id, sizeof w->org_id);
    w->name = col_dup(r, 2);
    w->url = col_dup(r, 3);
    w->events = col_int(r, 4);
    w->enabled = (int)col_int(r, 5);
    w->secret.secret_version = (int)col_int(r, 6);
    const void *b = r->drv->col_blob(r, 7, &n);
    w->secret.sealed = xmalloc(n ? n : 1);
    if (b)
        memcpy(w->secret.sealed, b, n);
    w->secret.sealed_len = n;
    col_copy(r, 8, w->created_by, sizeof w->created_by);
    w->created_at = col_int(r, 9);
    w->modified_at = col_int(r, 10);
}

/* DELIVERY_COLS; a claimed row (S_DELIVERY_CLAIMED) has the webhook's url,
 * sealed secret and its version after them. */
static void read_delivery(struct sql_rows *r, void *it)
{
    struct store_delivery *d = it;
    col_copy(r, 0, d->webhook_id, sizeof d->webhook_id);
    col_copy(r, 1, d->event_id, sizeof d->event_id);
    col_copy(r, 2, d->org_id, sizeof d->org_id);
    col_copy(r, 3, d->event_type, sizeof d->event_type);
    d->body = col_dup(r, 4);
    d->created_at = col_int(r, 5);
    d->state = (int)col_int(r, 6);
    d->attempts = (int)col_int(r, 7);
    d->next_attempt_at = col_int(r, 8);
    d->last_attempt_at = col_int(r, 9);
    d->last_status = (int)col_int(r, 10);
    d->last_error = col_dup(r, 11);
    d->delivered_at = col_int(r, 12);
}

static void read_claimed_delivery(struct sql_rows *r, void *it)
{
    struct store_delivery *d = it;
    size_t n = 0;
    read_delivery(r, it);
    d->url = col_dup(r, 13);
    const void *b = r->drv->col_blob(r, 14, &n);
    d->secret.sealed = xmalloc(n ? n : 1);
    if (b)
        memcpy(d->secret.sealed, b, n);
    d->secret.sealed_len = n;
    d->secret.secret_version = (int)col_int(r, 15);
}

static void read_attempt(struct sql_rows *r, void *it)
{
    struct store_attempt *a = it;
    col_copy(r, 0, a->webhook_id, sizeof a->webhook_id);
    col_copy(r, 1, a->event_id, sizeof a->event_id);
    a->attempt = (int)col_int(r, 2);
    a->at = col_int(r, 3);
    a->status_code = (int)col_int(r, 4);
    a->error = col_dup(r, 5);
    a->duration_ms = col_int(r, 6);
}

/* Runs a statement and reads every row into *items (itemsize each). */
static int rows_of(struct sql_store *s, enum stmt_id id, const struct sql_params *p, size_t itemsize,
                   row_reader read, void **items, size_t *n, const char *what)
{
    struct sql_rows *r = NULL;
    *items = NULL;
    *n = 0;
    int rc = run(s, id, p, &r, NULL, what);
    if (!rc)
        rc = read_all(r, itemsize, read, items, n);
    rows_close(r);
    return rc;
}

/* The number a one-row, one-column statement answers. */
static int count_of(struct sql_store *s, enum stmt_id id, const struct sql_params *p, int64_t *count, const char *what)
{
    struct sql_rows *r = NULL;
    int row = 0;
    *count = 0;
    int rc = run(s, id, p, &r, NULL, what);
    if (!rc)
        rc = step(r, &row);
    if (!rc && row)
        *count = col_int(r, 0);
    rows_close(r);
    return rc;
}

/* A page of the rows keyed by `key` (list: ?1 the key, ?2 limit, ?3
 * offset), and with count (not S_COUNT) their total (?1 the key). */
static int page_of(struct sql_store *s, enum stmt_id list, enum stmt_id count, const char *key,
                   const struct store_page *page, size_t itemsize, row_reader read, void **items, size_t *n,
                   int64_t *total, const char *what)
{
    struct sql_params p = {.n = 0};
    p_text(&p, key);
    p_int(&p, page->limit);
    p_int(&p, page->offset);
    int rc = rows_of(s, list, &p, itemsize, read, items, n, what);
    p.n = 1;
    if (!rc && count != S_COUNT)
        rc = count_of(s, count, &p, total, what);
    return rc;
}

static int sql_webhook_insert(struct store *st, const struct store_webhook *w)
{
    S(st)->subs_known = 0;
    struct sql_params p = {.n = 0};
    p_text(&p, w->id);
    p_text(&p, w->org_id);
    p_text(&p, w->name);
    p_text(&p, w->url);
    p_int(&p, w->events);
    p_int(&p, w->enabled ? 1 : 0);
    p_int(&p, w->secret.secret_version);
    p_blob(&p, w->secret.sealed, w->secret.sealed_len);
    p_id(&p, w->created_by);
    p_int(&p, w->created_at);
    p_int(&p, w->modified_at);
    return write_rows(S(st), S_WEBHOOK_INSERT, &p, NULL, "webhook_insert");
}

static int sql_webhook_get(struct store *st, const char *org_id, const char *id, struct store_webhook *out)
{
    return get_by(S(st), S_WEBHOOK_GET, id, org_id, read_webhook, out, sizeof *out, "webhook_get");
}

static int sql_webhook_list(struct store *st, const char *org_id, const struct store_page *page,
                            struct store_webhook_list *out)
{
    void *items = NULL;
    memset(out, 0, sizeof *out);
    int rc = page_of(S(st), S_WEBHOOK_LIST, S_WEBHOOK_COUNT, org_id, page, sizeof(struct store_webhook), read_webhook,
                     &items, &out->n, &out->total, "webhook_list");
    out->items = items;
    if (rc)
        store_webhook_list_free(out);
    return rc;
}

static int sql_webhook_update(struct store *st, const struct store_webhook *w)
{
    S(st)->subs_known = 0;
    struct sql_params p = {.n = 0};
    p_text(&p, w->id);
    p_text(&p, w->org_id);
    p_text(&p, w->name);
    p_text(&p, w->url);
    p_int(&p, w->events);
    p_int(&p, w->enabled ? 1 : 0);
    p_int(&p, w->modified_at);
    return change(S(st), S_WEBHOOK_UPDATE, &p, "webhook_update");
}

static int sql_webhook_delete(struct store *st, const char *org_id, const char *id)
{
    S(st)->subs_known = 0;
    struct sql_params p = {.n = 0};
    int rc = sql_begin(st);
    if (rc)
        return rc;
    rc = pair_change(st, S_WEBHOOK_DELETE, id, org_id, "webhook_delete");
    p_text(&p, id);
    if (!rc)
        rc = write_rows(S(st), S_WEBHOOK_DELETE_ATTEMPTS, &p, NULL, "webhook_delete");
    if (!rc)
        rc = write_rows(S(st), S_WEBHOOK_DELETE_DELIVERIES, &p, NULL, "webhook_delete");
    if (rc) {
        sql_rollback(st);
        return rc;
    }
    return sql_commit(st);
}

static int sql_event_enqueue(struct store *st, const struct store_event *e, int64_t *fanned)
{
    struct sql_params p = {.n = 0};
    p_text(&p, e->org_id);
    p_text(&p, e->id);
    p_text(&p, e->type);
    p_text(&p, e->body);
    p_int(&p, e->at);
    p_int(&p, e->mask);
    return write_rows(S(st), S_EVENT_ENQUEUE, &p, fanned, "event_enqueue");
}

static int sql_delivery_claim(struct store *st, int64_t now, int64_t lease_until, const char *lease, int64_t limit,
                              struct store_delivery_list *out)
{
    struct sql_params p = {.n = 0};
    void *items = NULL;
    memset(out, 0, sizeof *out);
    int64_t due = 0;
    p_int(&p, now);
    /* A read first, outside any transaction: an idle poll takes no write
     * lock (on PostgreSQL, begin_write serializes every node's writers). */
    int rc = count_of(S(st), S_DELIVERY_DUE, &p, &due, "delivery_claim");
    if (rc || !due)
        return rc;
    if ((rc = sql_begin(st)) != KH_OK)
        return rc;
    p.n = 0;
    p_text(&p, lease);
    p_int(&p, lease_until);
    p_int(&p, now);
    p_int(&p, limit);
    int64_t leased = 0;
    rc = write_rows(S(st), S_DELIVERY_LEASE, &p, &leased, "delivery_claim");
    p.n = 1;
    if (!rc && leased)
        rc = rows_of(S(st), S_DELIVERY_CLAIMED, &p, sizeof(struct store_delivery), read_claimed_delivery, &items,
                     &out->n, "delivery_claim");
    out->items = items;
    out->total = (int64_t)out->n;
    if (rc) {
        sql_rollback(st);
        store_delivery_list_free(out);
        return rc;
    }
    rc = sql_commit(st);
    if (rc)
        store_delivery_list_free(out);
    return rc;
}

static int sql_delivery_record(struct store *st, const char *lease, const struct store_delivery_outcome *o)
{
    const struct store_attempt *a = &o->attempt;
    struct sql_params p = {.n = 0};
    int rc = sql_begin(st);
    if (rc)
        return rc;
    p_text(&p, a->webhook_id);
    p_text(&p, a->event_id);
    p_text(&p, lease);
    p_int(&p, a->attempt);
    p_int(&p, o->state);
    p_int(&p, o->next_attempt_at);
    p_int(&p, a->at);
    p_int(&p, a->status_code);
    p_text(&p, a->error);
    p_time(&p, o->state == STORE_DELIVERY_DELIVERED ? a->at : 0);
    rc = change(S(st), S_DELIVERY_RECORD, &p, "delivery_record");
    if (!rc) {
        p.n = 0;
        p_text(&p, a->webhook_id);
        p_text(&p, a->event_id);
        p_int(&p, a->attempt);
        p_int(&p, a->at);
        p_int(&p, a->status_code);
        p_text(&p, a->error);
        p_int(&p, a->duration_ms);
        rc = write_rows(S(st), S_ATTEMPT_INSERT, &p, NULL, "delivery_record");
    }
    if (!rc && o->state == STORE_DELIVERY_PENDING && a->error && o->next_attempt_at > a->at) {
        p.n = 0;
        p_text(&p, a->webhook_id);
        p_int(&p, o->next_attempt_at);
        p_text(&p, lease);
        rc = write_rows(S(st), S_DELIVERY_DEFER, &p, NULL, "delivery_record");
    }
    if (rc) {
        sql_rollback(st);
        return rc;
    }
    return sql_commit(st);
}

/* Whether an enabled webhook of org_id takes an event of mask (*count 1 or
 * 0). Inside a write transaction the org's subscriptions are read once and
 * kept until it ends (sql.h, subs_*): a batch of creates costs one read. */
static int sql_webhook_subscribed(struct store *st, const char *org_id, int64_t mask, int64_t *count)
{
    struct sql_store *s = S(st);
    *count = 0;
    if (!(s->depth > 0 && s->subs_known && strcmp(s->subs_org, org_id) == 0)) {
        struct sql_params p = {.n = 0};
        struct sql_rows *r = NULL;
        int64_t events = 0;
        int row = 0;
        p_text(&p, org_id);
        int rc = run(s, S_WEBHOOK_SUBSCRIBED, &p, &r, NULL, "webhook_subscribed");
        while (!rc && !(rc = step(r, &row)) && row)
            events |= col_int(r, 0);
        rows_close(r);
        if (rc)
            return rc;
        snprintf(s->subs_org, sizeof s->subs_org, "%s", org_id);
        s->subs_events = events;
        s->subs_known = s->depth > 0;
        if (!s->subs_known) {
            *count = (events & mask) != 0;
            return KH_OK;
        }
    }
    *count = (s->subs_events & mask) != 0;
    return KH_OK;
}

static void read_ended(struct sql_rows *r, void *it)
{
    struct store_ended *e = it;
    col_copy(r, 0, e->id, sizeof e->id);
    col_copy(r, 1, e->kind, sizeof e->kind);
    e->name = col_dup(r, 2);
    col_copy(r, 3, e->owner_id, sizeof e->owner_id);
    e->expires_at = col_int(r, 4);
}

static int sql_ended_by_owner(struct store *st, const char *org_id, const char *owner_id, int64_t from, int64_t to,
                              const char *reason, struct store_ended_list *out)
{
    struct sql_params p = {.n = 0};
    void *items = NULL;
    memset(out, 0, sizeof *out);
    p_text(&p, org_id);
    p_text(&p, owner_id);
    p_int(&p, from);
    p_int(&p, to);
    p_text(&p, reason);
    int rc = rows_of(S(st), S_ENDED_BY_OWNER, &p, sizeof(struct store_ended), read_ended, &items, &out->n,
                     "ended_by_owner");
    out->items = items;
    if (rc)
        store_ended_list_free(out);
    return rc;
}

static int sql_ended_get(struct store *st, const char *org_id, const char *id, struct store_ended *out)
{
    return get_by(S(st), S_ENDED_GET, id, org_id, read_ended, out, sizeof *out, "ended_get");
}

static int sql_delivery_release(struct store *st, const char *lease)
{
    struct sql_params p = {.n = 0};
    p_text(&p, lease);
    return write_rows(S(st), S_DELIVERY_RELEASE, &p, NULL, "delivery_release");
}

static int sql_delivery_list(struct store *st, const char *webhook_id, const struct store_page *page,
                             struct store_delivery_list *out)
{
    void *items = NULL;
    memset(out, 0, sizeof *out);
    int rc = page_of(S(st), S_DELIVERY_LIST, S_DELIVERY_COUNT, webhook_id, page, sizeof(struct store_delivery),
                     read_delivery, &items, &out->n, &out->total, "delivery_list");
    out->items = items;
    if (rc)
        store_delivery_list_free(out);
    return rc;
}

static int sql_attempt_list(struct store *st, const char *webhook_id, const struct store_page *page,
                            struct store_attempt_list *out)
{
    void *items = NULL;
    int64_t no_total;
    memset(out, 0, sizeof *out);
    int rc = page_of(S(st), S_ATTEMPT_LIST, S_COUNT, webhook_id, page, sizeof(struct store_attempt), read_attempt,
                     &items, &out->n, &no_total, "attempt_list");
    out->items = items;
    if (rc)
        store_attempt_list_free(out);
    return rc;
}

static int sql_expiry_candidates(struct store *st, int notice, int64_t mask, int64_t from, int64_t to,
                                 int64_t limit, struct store_token_list *out)
{
    struct sql_params p = {.n = 0};
    void *items = NULL;
    memset(out, 0, sizeof *out);
    p_int(&p, notice);
    p_int(&p, from);
    p_int(&p, to);
    p_int(&p, limit);
    p_int(&p, mask);
    int rc = rows_of(S(st), S_EXPIRY_CANDIDATES, &p, sizeof(struct store_token), read_listed_token, &items, &out->n,
                     "expiry_candidates");
    out->items = items;
    out->total = (int64_t)out->n;
    if (rc)
        store_token_list_free(out);
    return rc;
}

static int sql_expiry_notice_put(struct store *st, const char *token_id, int notice, int64_t now, int *inserted)
{
    struct sql_params p = {.n = 0};
    int64_t n = 0;
    p_text(&p, token_id);
    p_int(&p, notice);
    p_int(&p, now);
    int rc = write_rows(S(st), S_EXPIRY_NOTICE_PUT, &p, &n, "expiry_notice_put");
    *inserted = !rc && n > 0;
    return rc;
}

static int sql_webhook_prune(struct store *st, int64_t before)
{
    struct sql_params p = {.n = 0};
    p_int(&p, before);
    int rc = sql_begin(st);
    if (rc)
        return rc;
    rc = write_rows(S(st), S_WEBHOOK_PRUNE_ATTEMPTS, &p, NULL, "webhook_prune");
    if (!rc)
        rc = write_rows(S(st), S_WEBHOOK_PRUNE_DELIVERIES, &p, NULL, "webhook_prune");
    if (!rc)
        rc = write_rows(S(st), S_EXPIRY_PRUNE, &p, NULL, "webhook_prune");
    if (rc) {
        sql_rollback(st);
        return rc;
    }
    return sql_commit(st);
}

const struct store_ops store_sql_ops = {
    .version = STORE_OPS_VERSION,
    .name = "sql",
    .close = sql_close,
    .begin = sql_begin,
    .commit = sql_commit,
    .rollback = sql_rollback,
    .meta_get = sql_meta_get,
    .meta_set = sql_meta_set,
    .org_insert = sql_org_insert,
    .org_get = sql_org_get,
    .org_count = sql_org_count,
    .org_ids = sql_org_ids,
    .user_insert = sql_user_insert,
    .user_get = sql_user_get,
    .user_list = sql_user_list,
    .user_update = sql_user_update,
    .user_role_add = sql_user_role_add,
    .user_role_remove = sql_user_role_remove,
    .user_permissions = sql_user_permissions,
    .user_roles = sql_user_roles,
    .role_insert = sql_role_insert,
    .role_get = sql_role_get,
    .role_list = sql_role_list,
    .role_update = sql_role_update,
    .role_delete = sql_role_delete,
    .role_permissions = sql_role_permissions,
    .role_permission_add = sql_role_permission_add,
    .role_permission_remove = sql_role_permission_remove,
    .api_key_insert = sql_api_key_insert,
    .api_key_get = sql_api_key_get,
    .api_key_find = sql_api_key_find,
    .api_key_list = sql_api_key_list,
    .api_key_count = sql_api_key_count,
    .api_key_update = sql_api_key_update,
    .api_key_delete = sql_api_key_delete,
    .app_key_insert = sql_app_key_insert,
    .app_key_find = sql_app_key_find,
    .app_key_get = sql_app_key_get,
    .api_key_find_previous = sql_api_key_find_previous,
    .app_key_find_previous = sql_app_key_find_previous,
    .key_rotate = sql_key_rotate,
    .overlap_close = sql_overlap_close,
    .app_key_list = sql_app_key_list,
    .app_key_update = sql_app_key_update,
    .app_key_delete = sql_app_key_delete,
    .app_key_delete_owned = sql_app_key_delete_owned,
    .app_key_count = sql_app_key_count,
    .token_insert = sql_token_insert,
    .token_get = sql_token_get,
    .token_list = sql_token_list,
    .token_revoke = sql_token_revoke,
    .token_update = sql_token_update,
    .token_revoke_owned = sql_token_revoke_owned,
    .token_rotate = sql_token_rotate,
    .idem_get = sql_idem_get,
    .idem_put = sql_idem_put,
    .idem_prune = sql_idem_prune,
    .touch = sql_touch,
    .invitation_insert = sql_invitation_insert,
    .invitation_get = sql_invitation_get,
    .reset = sql_reset,
    .audit_insert = sql_audit_insert,
    .audit_list = sql_audit_list,
    .audit_walk = sql_audit_walk,
    .audit_page = sql_audit_page,
    .audit_chain_backlog = sql_audit_chain_backlog,
    .audit_checkpoint_insert = sql_audit_checkpoint_insert,
    .audit_checkpoint_latest = sql_audit_checkpoint_latest,
    .audit_checkpoint_walk = sql_audit_checkpoint_walk,
    .reseal = sql_reseal,
    .secret_versions = sql_secret_versions,
    .sealed_sample = sql_sealed_sample,
    .change_stamp = sql_change_stamp,
    .backup = sql_backup,
    .check = sql_check,
    .control = sql_control,
    .counts = sql_counts,
    .ready = sql_ready,
    .copy_to = sql_copy_to,
    .usage_add = sql_usage_add,
    .usage_get = sql_usage_get,
    .usage_prune = sql_usage_prune,
    .history_list = sql_history_list,
    .history_prune = sql_history_prune,
    .leak_mark = sql_leak_mark,
    .leak_get = sql_leak_get,
    .leak_list = sql_leak_list,
    .leak_policy_get = sql_leak_policy_get,
    .leak_policy_set = sql_leak_policy_set,
    .leak_report_insert = sql_leak_report_insert,
    .leak_reports_prune = sql_leak_reports_prune,
    .webhook_insert = sql_webhook_insert,
    .webhook_get = sql_webhook_get,
    .webhook_list = sql_webhook_list,
    .webhook_update = sql_webhook_update,
    .webhook_delete = sql_webhook_delete,
    .event_enqueue = sql_event_enqueue,
    .webhook_subscribed = sql_webhook_subscribed,
    .ended_by_owner = sql_ended_by_owner,
    .ended_get = sql_ended_get,
    .delivery_claim = sql_delivery_claim,
    .delivery_record = sql_delivery_record,
    .delivery_release = sql_delivery_release,
    .delivery_list = sql_delivery_list,
    .attempt_list = sql_attempt_list,
    .expiry_candidates = sql_expiry_candidates,
    .expiry_notice_put = sql_expiry_notice_put,
    .webhook_prune = sql_webhook_prune,
};
