/* store_sqlite.c - the embedded SQLite backend of the store interface.
 *
 * One connection per handle (one handle per thread), WAL mode so readers never
 * wait for the writer, synchronous=FULL so an acknowledged write survives a
 * crash or power loss, and a busy timeout so concurrent writers queue instead
 * of failing. Fixed statements are prepared once per connection and reused;
 * list queries are composed from their filters (see token_list_sql). */
#include "store/store.h"

#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <unistd.h>

extern const char *const store_sqlite_migrations[];

#define BUSY_TIMEOUT_MS 5000

/* Fixed statements, prepared lazily and kept for the connection's life. */
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
    S_AUDIT_INSERT,
    S_AUDIT_LIST,
    S_ORG_IDS,
    S_INVITATION_INSERT,
    S_INVITATION_GET,
    S_COUNT
};

#define API_KEY_COLS                                                                                                   \
    "id, org_id, name, last4, category, remote_config_read_enabled, created_by, modified_by, created_at, "             \
    "modified_at, last_used_at, key_lookup, key_sealed, secret_version"
#define APP_KEY_COLS                                                                                                   \
    "id, org_id, owner_id, name, last4, scopes, created_at, last_used_at, key_lookup, key_sealed, secret_version"
#define TOKEN_COLS                                                                                                     \
    "id, org_id, owner_id, kind, name, scopes, secret_hash, created_at, modified_at, expires_at, last_used_at, "      \
    "revoked_at, secret_version"
#define USER_COLS "id, org_id, email, name, title, service_account, disabled, created_at, modified_at, verified"
#define ROLE_COLS                                                                                                      \
    "id, org_id, name, created_at, modified_at, "                                                                      \
    "(SELECT count(*) FROM user_roles ur WHERE ur.role_id = roles.id) AS user_count, managed, "                        \
    "receives_permissions_from"
#define INVITATION_COLS "id, org_id, user_id, invite_type, login_method, created_at, expires_at"

static const char *const stmt_sql[S_COUNT] = {
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
    [S_ORG_INSERT] = "INSERT INTO orgs(id, name, created_at) SELECT ?1, ?2, ?3 "
                     "WHERE NOT EXISTS (SELECT 1 FROM orgs WHERE lower(name) = lower(?2))",
    [S_ORG_GET] = "SELECT id, name, created_at FROM orgs WHERE id = ?1",
    [S_ORG_COUNT] = "SELECT count(*) FROM orgs",
    [S_USER_INSERT] = "INSERT INTO users(" USER_COLS ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 "
                      "WHERE NOT EXISTS (SELECT 1 FROM users WHERE org_id = ?2 AND lower(email) = lower(?3))",
    [S_USER_EMAIL_TAKEN] = "SELECT 1 FROM users WHERE org_id = ?1 AND lower(email) = lower(?2) AND id <> ?3",
    [S_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1 AND org_id = ?2",
    [S_USER_GET_ANY_ORG] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    [S_ROLE_INSERT] = "INSERT INTO roles(id, org_id, name, created_at, modified_at, managed, receives_permissions_from) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_ROLE_GET] = "SELECT " ROLE_COLS " FROM roles WHERE id = ?1 AND org_id = ?2",
    [S_ROLE_PERM_ADD] = "INSERT OR IGNORE INTO role_permissions(role_id, permission) VALUES (?1, ?2)",
    [S_USER_ROLE_ADD] = "INSERT OR IGNORE INTO user_roles(user_id, role_id) VALUES (?1, ?2)",
    [S_USER_PERMS] = "SELECT DISTINCT rp.permission FROM user_roles ur JOIN role_permissions rp "
                     "ON rp.role_id = ur.role_id WHERE ur.user_id = ?1 ORDER BY rp.permission",
    [S_USER_ROLES] = "SELECT role_id FROM user_roles WHERE user_id = ?1 ORDER BY role_id",
    [S_API_KEY_INSERT] = "INSERT INTO api_keys(" API_KEY_COLS
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [S_API_KEY_GET] = "SELECT " API_KEY_COLS " FROM api_keys WHERE id = ?1 AND org_id = ?2",
    [S_API_KEY_FIND] = "SELECT " API_KEY_COLS " FROM api_keys WHERE key_lookup = ?1",
    [S_API_KEY_COUNT] = "SELECT count(*) FROM api_keys WHERE org_id = ?1",
    [S_APP_KEY_INSERT] = "INSERT INTO app_keys(" APP_KEY_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [S_APP_KEY_FIND] = "SELECT " APP_KEY_COLS " FROM app_keys WHERE key_lookup = ?1",
    [S_TOKEN_INSERT] = "INSERT INTO tokens(" TOKEN_COLS
                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [S_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM tokens WHERE id = ?1",
    [S_TOKEN_REVOKE] = "UPDATE tokens SET revoked_at = ?3 WHERE id = ?1 AND org_id = ?2 AND revoked_at IS NULL",
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
    [S_APP_KEY_GET] = "SELECT " APP_KEY_COLS " FROM app_keys WHERE id = ?1 AND org_id = ?2",
    [S_APP_KEY_UPDATE] = "UPDATE app_keys SET name = ?3, scopes = ?4 WHERE id = ?1 AND org_id = ?2",
    [S_APP_KEY_DELETE] = "DELETE FROM app_keys WHERE id = ?1 AND org_id = ?2",
    [S_APP_KEY_DELETE_OWNED] = "DELETE FROM app_keys WHERE owner_id = ?1",
    [S_APP_KEY_COUNT] = "SELECT count(*) FROM app_keys WHERE owner_id = ?1",
    [S_TOKEN_UPDATE] = "UPDATE tokens SET name = ?3, scopes = ?4, modified_at = ?5 "
                       "WHERE id = ?1 AND org_id = ?2 AND revoked_at IS NULL",
    [S_TOKEN_REVOKE_OWNED] = "UPDATE tokens SET revoked_at = ?2 WHERE owner_id = ?1 AND revoked_at IS NULL",
    [S_TOUCH_API_KEY] = "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND coalesce(last_used_at, 0) < ?2",
    [S_TOUCH_APP_KEY] = "UPDATE app_keys SET last_used_at = ?2 WHERE id = ?1 AND coalesce(last_used_at, 0) < ?2",
    [S_AUDIT_INSERT] = "INSERT INTO audit_events(at, org_id, actor_id, action, target_kind, target_id, source) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_AUDIT_LIST] = "SELECT seq, at, org_id, actor_id, action, target_kind, target_id, source FROM audit_events "
                     "WHERE at >= ?1 ORDER BY seq LIMIT ?2",
    [S_TOUCH_TOKEN] = "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1 AND coalesce(last_used_at, 0) < ?2",
    [S_ORG_IDS] = "SELECT id FROM orgs ORDER BY created_at, id",
    [S_FIRST_TOUCH_API_KEY] = "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND last_used_at IS NULL",
    [S_FIRST_TOUCH_APP_KEY] = "UPDATE app_keys SET last_used_at = ?2 WHERE id = ?1 AND last_used_at IS NULL",
    [S_FIRST_TOUCH_TOKEN] = "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1 AND last_used_at IS NULL",
    [S_INVITATION_INSERT] = "INSERT INTO invitations(" INVITATION_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_INVITATION_GET] = "SELECT " INVITATION_COLS " FROM invitations WHERE id = ?1 AND org_id = ?2",
};

struct sqlite_store {
    struct store base; /* must be first */
    sqlite3 *db;
    sqlite3_stmt *stmts[S_COUNT];
    int depth; /* open transactions: 1 = BEGIN, deeper ones are savepoints */
    int in_memory;                      /* a "memory:" store: no file, no change stamp */
    const volatile uint32_t *wal_index; /* SQLite's mapping of the wal-index header; see sqlite_change_stamp */
};

static struct sqlite_store *S(struct store *st)
{
    return (struct sqlite_store *)st;
}

/* Maps an SQLite result code to a KH_E* code, logging real failures. */
static int map_rc(struct sqlite_store *s, int rc, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return KH_OK;
    case SQLITE_CONSTRAINT:
        return KH_ECONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        log_warn("store: %s: database busy", what);
        return KH_EBUSY;
    default:
        log_error("store: %s: %s", what, sqlite3_errmsg(s->db));
        return KH_ESTORE;
    }
}

/* Returns the reset, cleared prepared statement for id, or NULL. */
static sqlite3_stmt *stmt(struct sqlite_store *s, enum stmt_id id)
{
    sqlite3_stmt *st = s->stmts[id];
    if (!st) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[id], NULL) != SQLITE_OK) {
            log_error("store: prepare: %s", sqlite3_errmsg(s->db));
            return NULL;
        }
        return s->stmts[id];
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Binds "" as NULL, for optional ids held in fixed arrays. */
static void bind_id(sqlite3_stmt *st, int i, const char *v)
{
    bind_text(st, i, v && *v ? v : NULL);
}

static void bind_time(sqlite3_stmt *st, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

static void col_copy(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    out[0] = '\0';
    if (t) {
        strncpy(out, (const char *)t, outlen - 1);
        out[outlen - 1] = '\0';
    }
}

/* The lookup hash, sealed value and secret version in three columns in a row. */
static void col_sealed(sqlite3_stmt *st, int lookup_col, int sealed_col, struct store_sealed *out)
{
    out->secret_version = sqlite3_column_int(st, sealed_col + 1);
    const void *l = sqlite3_column_blob(st, lookup_col);
    if (l && sqlite3_column_bytes(st, lookup_col) == SECRET_HASH_LEN)
        memcpy(out->lookup, l, SECRET_HASH_LEN);
    int n = sqlite3_column_bytes(st, sealed_col);
    const void *b = sqlite3_column_blob(st, sealed_col);
    out->sealed = xmalloc((size_t)n);
    if (b)
        memcpy(out->sealed, b, (size_t)n);
    out->sealed_len = (size_t)n;
}

static void read_api_key(sqlite3_stmt *st, struct store_api_key *k)
{
    col_copy(st, 0, k->id, sizeof k->id);
    col_copy(st, 1, k->org_id, sizeof k->org_id);
    k->name = col_dup(st, 2);
    col_copy(st, 3, k->last4, sizeof k->last4);
    k->category = col_dup(st, 4);
    k->remote_config_read_enabled = sqlite3_column_int(st, 5);
    col_copy(st, 6, k->created_by, sizeof k->created_by);
    col_copy(st, 7, k->modified_by, sizeof k->modified_by);
    k->created_at = sqlite3_column_int64(st, 8);
    k->modified_at = sqlite3_column_int64(st, 9);
    k->last_used_at = sqlite3_column_int64(st, 10);
    col_sealed(st, 11, 12, &k->key);
}

static void read_app_key(sqlite3_stmt *st, struct store_app_key *k)
{
    col_copy(st, 0, k->id, sizeof k->id);
    col_copy(st, 1, k->org_id, sizeof k->org_id);
    col_copy(st, 2, k->owner_id, sizeof k->owner_id);
    k->name = col_dup(st, 3);
    col_copy(st, 4, k->last4, sizeof k->last4);
    k->scopes = col_dup(st, 5);
    k->created_at = sqlite3_column_int64(st, 6);
    k->last_used_at = sqlite3_column_int64(st, 7);
    col_sealed(st, 8, 9, &k->key);
}

static void read_token(sqlite3_stmt *st, struct store_token *t)
{
    col_copy(st, 0, t->id, sizeof t->id);
    col_copy(st, 1, t->org_id, sizeof t->org_id);
    col_copy(st, 2, t->owner_id, sizeof t->owner_id);
    t->kind = sqlite3_column_int(st, 3);
    t->name = col_dup(st, 4);
    t->scopes = col_dup(st, 5);
    const void *h = sqlite3_column_blob(st, 6);
    if (h && sqlite3_column_bytes(st, 6) == SECRET_HASH_LEN)
        memcpy(t->secret_hash, h, SECRET_HASH_LEN);
    t->created_at = sqlite3_column_int64(st, 7);
    t->modified_at = sqlite3_column_int64(st, 8);
    t->expires_at = sqlite3_column_int64(st, 9);
    t->last_used_at = sqlite3_column_int64(st, 10);
    t->revoked_at = sqlite3_column_int64(st, 11);
    t->secret_version = sqlite3_column_int(st, 12);
}

static void read_user(sqlite3_stmt *st, struct store_user *u)
{
    col_copy(st, 0, u->id, sizeof u->id);
    col_copy(st, 1, u->org_id, sizeof u->org_id);
    u->email = col_dup(st, 2);
    u->name = col_dup(st, 3);
    u->title = col_dup(st, 4);
    u->service_account = sqlite3_column_int(st, 5);
    u->disabled = sqlite3_column_int(st, 6);
    u->created_at = sqlite3_column_int64(st, 7);
    u->modified_at = sqlite3_column_int64(st, 8);
    u->verified = sqlite3_column_int(st, 9);
}

static void read_role(sqlite3_stmt *st, struct store_role *r)
{
    col_copy(st, 0, r->id, sizeof r->id);
    col_copy(st, 1, r->org_id, sizeof r->org_id);
    r->name = col_dup(st, 2);
    r->created_at = sqlite3_column_int64(st, 3);
    r->modified_at = sqlite3_column_int64(st, 4);
    r->user_count = sqlite3_column_int64(st, 5);
    r->managed = sqlite3_column_int(st, 6);
    r->receives = col_dup(st, 7);
}

/* Runs a write statement to completion. */
static int run_write(struct sqlite_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = map_rc(s, sqlite3_step(st), what);
    sqlite3_reset(st);
    return rc;
}

/* Steps a single-row query: KH_OK with the row current, KH_ENOTFOUND, or an
 * error. The caller reads the row and resets. */
static int step_one(struct sqlite_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return KH_OK;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? KH_ENOTFOUND : map_rc(s, rc, what);
}

static int exec_sql(struct sqlite_store *s, const char *sql, const char *what)
{
    return map_rc(s, sqlite3_exec(s->db, sql, NULL, NULL, NULL), what);
}

/* ---- open, migrate, close ---- */

static int applied_version(struct sqlite_store *s, int64_t *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &st, NULL))
        return map_rc(s, sqlite3_errcode(s->db), "migrations");
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? KH_OK : map_rc(s, rc, "migrations");
}

/* Applies every migration not yet recorded, each in its own IMMEDIATE
 * transaction so that two processes opening a fresh store at once serialize. */
static int migrate(struct sqlite_store *s)
{
    int rc = exec_sql(s, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                         "applied_at INTEGER NOT NULL)",
                      "migrations");
    for (int64_t i = 0; !rc && store_sqlite_migrations[i]; i++) {
        int64_t have = 0;
        if ((rc = exec_sql(s, "BEGIN IMMEDIATE", "migrations")))
            break;
        if (!(rc = applied_version(s, &have)) && have < i + 1) {
            char *ins = sqlite3_mprintf("INSERT INTO schema_migrations VALUES (%lld, strftime('%%s','now'))",
                                        (long long)(i + 1));
            rc = exec_sql(s, store_sqlite_migrations[i], "migration");
            if (!rc)
                rc = exec_sql(s, ins, "migrations");
            sqlite3_free(ins);
        }
        if (rc)
            exec_sql(s, "ROLLBACK", "migrations");
        else
            rc = exec_sql(s, "COMMIT", "migrations");
    }
    return rc;
}

static void sqlite_close(struct store *st)
{
    struct sqlite_store *s = S(st);
    if (!s)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    s->wal_index = NULL; /* SQLite's own mapping: it goes with the connection */
    /* The last connection to close checkpoints the WAL into the database. */
    sqlite3_close_v2(s->db);
    free(s);
}

static int sqlite_open(const char *dsn, struct store **out, char **err)
{
    struct sqlite_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &store_sqlite_ops;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    char *uri = NULL;
    /* "memory:NAME" (store_memory_dsn): SQLite's memdb VFS, whose databases
     * named with a leading '/' are shared by every connection of the
     * process, with the same locking as a file. */
    if (store_dsn_in_memory(dsn)) {
        uri = sqlite3_mprintf("file:/keyhold-%s?vfs=memdb", dsn + 7);
        flags |= SQLITE_OPEN_URI;
        s->in_memory = 1;
    }
    int rc = sqlite3_open_v2(uri ? uri : dsn, &s->db, flags, NULL);
    sqlite3_free(uri);
    if (rc != SQLITE_OK) {
        *err = xasprintf("cannot open database %s: %s", dsn, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite_close(&s->base);
        return KH_ESTORE;
    }
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(s->db, 1);
    /* A 64 MiB page cache per connection (SQLite's default is 2 MiB): with a
     * million tokens the hot index pages stay in memory instead of being
     * read again with pread() on every list page and insert. Temporary
     * storage in memory: an insert that fires a trigger (token_counts) keeps
     * a statement journal, which in a temporary file cost about twenty
     * pwrite() calls per inserted token. */
    rc = exec_sql(s,
                  "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                  "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
                  "pragmas");
    if (!rc)
        rc = migrate(s);
    if (rc) {
        *err = xasprintf("cannot prepare database %s: %s", dsn, sqlite3_errmsg(s->db));
        sqlite_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return KH_OK;
}

/* Transactions nest: the outermost is BEGIN IMMEDIATE (the write lock is
 * taken up front, so a transaction never fails half-way on a lock), inner
 * ones are savepoints. A request that changes state runs in one transaction
 * (router.c), and the store operations it calls may open their own. */
static int sqlite_begin(struct store *st)
{
    struct sqlite_store *s = S(st);
    int rc;
    if (s->depth == 0) {
        /* A transaction left open by a failed commit path would make every
         * later write part of it: end it first. */
        if (!sqlite3_get_autocommit(s->db))
            exec_sql(s, "ROLLBACK", "begin");
        rc = exec_sql(s, "BEGIN IMMEDIATE", "begin");
    } else {
        char sql[32];
        snprintf(sql, sizeof sql, "SAVEPOINT kh%d", s->depth);
        rc = exec_sql(s, sql, "savepoint");
    }
    if (!rc)
        s->depth++;
    return rc;
}

static int sqlite_commit(struct store *st)
{
    struct sqlite_store *s = S(st);
    if (s->depth <= 1) {
        int rc = exec_sql(s, "COMMIT", "commit");
        if (!rc || sqlite3_get_autocommit(s->db))
            s->depth = 0;
        return rc;
    }
    char sql[32];
    snprintf(sql, sizeof sql, "RELEASE kh%d", s->depth - 1);
    int rc = exec_sql(s, sql, "release");
    if (!rc)
        s->depth--;
    return rc;
}

static int sqlite_rollback(struct store *st)
{
    struct sqlite_store *s = S(st);
    if (s->depth <= 1) {
        s->depth = 0;
        /* SQLite may already have rolled back (e.g. after SQLITE_FULL). */
        return sqlite3_get_autocommit(s->db) ? KH_OK : exec_sql(s, "ROLLBACK", "rollback");
    }
    char sql[64];
    snprintf(sql, sizeof sql, "ROLLBACK TO kh%d; RELEASE kh%d", s->depth - 1, s->depth - 1);
    s->depth--;
    return exec_sql(s, sql, "rollback to savepoint");
}

/* ---- meta, orgs, users, roles ---- */

static void read_api_key_v(sqlite3_stmt *q, void *it)
{
    read_api_key(q, it);
}

static void read_token_v(sqlite3_stmt *q, void *it)
{
    read_token(q, it);
}

static void read_app_key_v(sqlite3_stmt *q, void *it)
{
    read_app_key(q, it);
}

static void read_user_v(sqlite3_stmt *q, void *it)
{
    read_user(q, it);
}

static void read_role_v(sqlite3_stmt *q, void *it)
{
    read_role(q, it);
}

/* A single-row lookup: binds up to two text keys (a, then b when not NULL)
 * or one blob key, steps once, and reads the row with read(). The row is
 * zeroed first (outlen bytes), so a failed lookup leaves it safe to clear. */
static int get_row(struct sqlite_store *s, enum stmt_id id, const char *a, const char *b, const uint8_t *blob,
                   void (*read)(sqlite3_stmt *, void *), void *out, size_t outlen, const char *what)
{
    sqlite3_stmt *q = stmt(s, id);
    memset(out, 0, outlen);
    if (!q)
        return KH_ESTORE;
    if (blob)
        sqlite3_bind_blob(q, 1, blob, SECRET_HASH_LEN, SQLITE_TRANSIENT);
    else
        bind_text(q, 1, a);
    if (b)
        bind_text(q, 2, b);
    int rc = step_one(s, q, what);
    if (!rc) {
        read(q, out);
        sqlite3_reset(q);
    }
    return rc;
}

static void read_org_v(sqlite3_stmt *q, void *it)
{
    struct store_org *o = it;
    col_copy(q, 0, o->id, sizeof o->id);
    o->name = col_dup(q, 1);
    o->created_at = sqlite3_column_int64(q, 2);
}

static int sqlite_meta_get(struct store *st, const char *key, char **value)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_META_GET);
    *value = NULL;
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, key);
    int rc = step_one(s, q, "meta_get");
    if (!rc) {
        *value = col_dup(q, 0);
        sqlite3_reset(q);
    }
    return rc;
}

static int sqlite_meta_set(struct store *st, const char *key, const char *value)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_META_SET);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, key);
    bind_text(q, 2, value);
    return run_write(s, q, "meta_set");
}

/* Runs an INSERT ... WHERE NOT EXISTS: KH_ECONFLICT when it inserted
 * nothing (the name or email was taken). */
static int run_insert_unless_taken(struct sqlite_store *s, sqlite3_stmt *q, const char *what)
{
    int rc = run_write(s, q, what);
    if (!rc && sqlite3_changes(s->db) == 0)
        rc = KH_ECONFLICT;
    return rc;
}

static int sqlite_org_insert(struct store *st, const struct store_org *org)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_ORG_INSERT);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, org->id);
    bind_text(q, 2, org->name);
    sqlite3_bind_int64(q, 3, org->created_at);
    return run_insert_unless_taken(s, q, "org_insert");
}

static int sqlite_org_get(struct store *st, const char *id, struct store_org *out)
{
    return get_row(S(st), S_ORG_GET, id, NULL, NULL, read_org_v, out, sizeof *out, "org_get");
}

static int count_query(struct sqlite_store *s, enum stmt_id id, const char *arg, int64_t *count)
{
    sqlite3_stmt *q = stmt(s, id);
    *count = 0;
    if (!q)
        return KH_ESTORE;
    if (arg)
        bind_text(q, 1, arg);
    int rc = step_one(s, q, "count");
    if (!rc) {
        *count = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
    }
    return rc;
}

static int sqlite_org_count(struct store *st, int64_t *count)
{
    return count_query(S(st), S_ORG_COUNT, NULL, count);
}

static int sqlite_user_insert(struct store *st, const struct store_user *u)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_USER_INSERT);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, u->id);
    bind_text(q, 2, u->org_id);
    bind_text(q, 3, u->email);
    bind_text(q, 4, u->name);
    bind_text(q, 5, u->title);
    sqlite3_bind_int(q, 6, u->service_account);
    sqlite3_bind_int(q, 7, u->disabled);
    sqlite3_bind_int64(q, 8, u->created_at);
    sqlite3_bind_int64(q, 9, u->modified_at);
    sqlite3_bind_int(q, 10, u->verified);
    return run_insert_unless_taken(s, q, "user_insert");
}

static int sqlite_user_get(struct store *st, const char *org_id, const char *id, struct store_user *out)
{
    return get_row(S(st), org_id ? S_USER_GET : S_USER_GET_ANY_ORG, id, org_id, NULL, read_user_v, out, sizeof *out,
                   "user_get");
}

static int sqlite_role_insert(struct store *st, const struct store_role *r)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_ROLE_INSERT);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, r->id);
    bind_text(q, 2, r->org_id);
    bind_text(q, 3, r->name);
    sqlite3_bind_int64(q, 4, r->created_at);
    sqlite3_bind_int64(q, 5, r->modified_at);
    sqlite3_bind_int(q, 6, r->managed);
    bind_text(q, 7, r->receives);
    return run_write(s, q, "role_insert");
}

static int sqlite_role_get(struct store *st, const char *org_id, const char *id, struct store_role *out)
{
    return get_row(S(st), S_ROLE_GET, id, org_id, NULL, read_role_v, out, sizeof *out, "role_get");
}

static int pair_write(struct store *st, enum stmt_id id, const char *a, const char *b, const char *what)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, id);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, a);
    bind_text(q, 2, b);
    return run_write(s, q, what);
}

static int sqlite_role_permission_add(struct store *st, const char *role_id, const char *permission)
{
    return pair_write(st, S_ROLE_PERM_ADD, role_id, permission, "role_permission_add");
}

static int sqlite_user_role_add(struct store *st, const char *user_id, const char *role_id)
{
    return pair_write(st, S_USER_ROLE_ADD, user_id, role_id, "user_role_add");
}

/* Collects the first column of every row into a string list. */
static int strlist_query(struct sqlite_store *s, enum stmt_id id, const char *arg, struct store_strlist *out)
{
    sqlite3_stmt *q = stmt(s, id);
    size_t cap = 0;
    memset(out, 0, sizeof *out);
    if (!q)
        return KH_ESTORE;
    if (arg)
        bind_text(q, 1, arg);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->items = xrealloc(out->items, cap * sizeof *out->items);
        }
        out->items[out->n++] = col_dup(q, 0);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        store_strlist_free(out);
        return map_rc(s, rc, "strlist");
    }
    return KH_OK;
}

static int sqlite_org_ids(struct store *st, struct store_strlist *out)
{
    return strlist_query(S(st), S_ORG_IDS, NULL, out);
}

static int sqlite_user_permissions(struct store *st, const char *user_id, struct store_strlist *out)
{
    return strlist_query(S(st), S_USER_PERMS, user_id, out);
}

static int sqlite_user_roles(struct store *st, const char *user_id, struct store_strlist *out)
{
    return strlist_query(S(st), S_USER_ROLES, user_id, out);
}

/* ---- API keys ---- */

static int sqlite_api_key_insert(struct store *st, const struct store_api_key *k)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_API_KEY_INSERT);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, k->id);
    bind_text(q, 2, k->org_id);
    bind_text(q, 3, k->name);
    bind_text(q, 4, k->last4);
    bind_text(q, 5, k->category ? k->category : "default");
    sqlite3_bind_int(q, 6, k->remote_config_read_enabled);
    bind_text(q, 7, k->created_by);
    bind_id(q, 8, k->modified_by);
    sqlite3_bind_int64(q, 9, k->created_at);
    sqlite3_bind_int64(q, 10, k->modified_at);
    bind_time(q, 11, k->last_used_at);
    sqlite3_bind_blob(q, 12, k->key.lookup, SECRET_HASH_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_blob(q, 13, k->key.sealed, (int)k->key.sealed_len, SQLITE_TRANSIENT);
    sqlite3_bind_int(q, 14, k->key.secret_version);
    return run_write(s, q, "api_key_insert");
}


static int sqlite_api_key_get(struct store *st, const char *org_id, const char *id, struct store_api_key *out)
{
    return get_row(S(st), S_API_KEY_GET, id, org_id, NULL, read_api_key_v, out, sizeof *out, "api_key_get");
}

static int sqlite_api_key_find(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], struct store_api_key *out)
{
    return get_row(S(st), S_API_KEY_FIND, NULL, NULL, lookup, read_api_key_v, out, sizeof *out, "api_key_find");
}

static int sqlite_api_key_count(struct store *st, const char *org_id, int64_t *count)
{
    return count_query(S(st), S_API_KEY_COUNT, org_id, count);
}

/* ---- composed list queries ----
 *
 * A list is two statements over the same WHERE clause: the page (ORDER BY
 * an indexed column, then id, LIMIT/OFFSET) and the filtered count. Values
 * are always bound, never spliced into the SQL. */

struct binds {
    struct {
        int is_int;
        const char *text;
        int64_t i;
    } v[64];
    int n;
};

static void add_text(struct binds *b, const char *t)
{
    b->v[b->n].is_int = 0;
    b->v[b->n++].text = t;
}

static void add_int(struct binds *b, int64_t i)
{
    b->v[b->n].is_int = 1;
    b->v[b->n++].i = i;
}

static void apply_binds(sqlite3_stmt *q, const struct binds *b)
{
    for (int i = 0; i < b->n; i++) {
        if (b->v[i].is_int)
            sqlite3_bind_int64(q, i + 1, b->v[i].i);
        else
            sqlite3_bind_text(q, i + 1, b->v[i].text, -1, SQLITE_TRANSIENT);
    }
}

/* Turns a user substring into a LIKE pattern with \ as the escape, so % and _
 * in the filter match themselves. Caller frees. */
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

/* Adds " AND <col> >= start" / " AND <col> <= end" for the bounds that are
 * set (0 = unbounded); both are inclusive. */
static void where_range(struct buf *w, struct binds *b, const char *col, const struct store_time_range *r)
{
    if (r->has_start) {
        add_int(b, r->start);
        buf_printf(w, " AND %s >= ?%d", col, b->n);
    }
    if (r->has_end) {
        add_int(b, r->end);
        buf_printf(w, " AND %s <= ?%d", col, b->n);
    }
}

/* Adds " AND <col> = ?" for a value. */
static void where_eq_int(struct buf *w, struct binds *b, const char *col, int64_t v)
{
    add_int(b, v);
    buf_printf(w, " AND %s = ?%d", col, b->n);
}

/* Adds " AND <col> IN (?, ...)" for a list of ids. */
static void where_in(struct buf *w, struct binds *b, const char *col, const char *const *ids, size_t n)
{
    buf_printf(w, " AND %s IN (", col);
    for (size_t i = 0; i < n; i++) {
        add_text(b, ids[i]);
        buf_printf(w, "%s?%d", i ? ", " : "", b->n);
    }
    buf_adds(w, ")");
}

/* Adds " AND <col> LIKE ?" for a case-insensitive substring; *pattern is
 * allocated for the binds' lifetime and freed by the caller. */
static void where_like(struct buf *w, struct binds *b, const char *col, const char *filter, char **pattern)
{
    *pattern = like_pattern(filter);
    add_text(b, *pattern);
    buf_printf(w, " AND %s LIKE ?%d ESCAPE '\\'", col, b->n);
}

static const char *sort_column(enum store_sort sort)
{
    switch (sort) {
    case STORE_SORT_CREATED_AT:
        return "created_at";
    case STORE_SORT_MODIFIED_AT:
        return "modified_at";
    case STORE_SORT_LAST4:
        return "last4";
    case STORE_SORT_EXPIRES_AT:
        return "expires_at";
    case STORE_SORT_LAST_USED_AT:
        return "last_used_at";
    case STORE_SORT_EMAIL:
        return "email COLLATE NOCASE";
    case STORE_SORT_STATUS: /* the status as Datadog names it */
        return "CASE WHEN disabled THEN 'Disabled' WHEN verified THEN 'Active' ELSE 'Pending' END";
    case STORE_SORT_USER_COUNT:
        return "user_count";
    case STORE_SORT_NAME:
    default:
        return "name COLLATE NOCASE";
    }
}

/* The WHERE clause of a composed list being built: text, binds, and the LIKE
 * pattern they borrow. list_where_begin() starts it with "org_id = ?1". */
struct where {
    struct buf w;
    struct binds b;
    char *pattern;
};

static void list_where_begin(struct where *q, const char *org_id)
{
    memset(q, 0, sizeof *q);
    buf_init(&q->w, 4096);
    add_text(&q->b, org_id);
    buf_adds(&q->w, "org_id = ?1");
}

static void list_where_end(struct where *q)
{
    buf_free(&q->w);
    free(q->pattern);
}

/* Runs the count statement of a composed list. */
static int run_count(struct sqlite_store *s, const char *sql, const struct binds *b, int64_t *total)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return map_rc(s, sqlite3_errcode(s->db), "list count");
    apply_binds(q, b);
    int rc = sqlite3_step(q);
    *total = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? KH_OK : map_rc(s, rc, "list count");
}

/* Runs the page statement, calling read(row, item) into a growing array of
 * itemsize-byte items. */
static int run_page(struct sqlite_store *s, const char *sql, const struct binds *b, size_t itemsize,
                    void (*read)(sqlite3_stmt *, void *), void **items, size_t *n)
{
    sqlite3_stmt *q;
    size_t cap = 0;
    *items = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return map_rc(s, sqlite3_errcode(s->db), "list");
    apply_binds(q, b);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *items = xrealloc(*items, cap * itemsize);
        }
        void *it = (char *)*items + *n * itemsize;
        memset(it, 0, itemsize);
        read(q, it);
        (*n)++;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? KH_OK : map_rc(s, rc, "list");
}

/* Finishes a composed list: runs the page and the count over where/binds. */
/* count_sql: the statement counting the rows of the list (same binds), or
 * NULL for "SELECT count(*) FROM table WHERE where". */
static int run_list(struct sqlite_store *s, const char *table, const char *cols, const char *where, struct binds *b,
                    const char *count_sql, enum store_sort sort, int desc, const struct store_page *page,
                    size_t itemsize, void (*read)(sqlite3_stmt *, void *), void **items, size_t *n, int64_t *total)
{
    const char *dir = desc ? "DESC" : "ASC";
    char *default_count = count_sql ? NULL : sqlite3_mprintf("SELECT count(*) FROM %s WHERE %s", table, where);
    int rc = run_count(s, count_sql ? count_sql : default_count, b, total);
    sqlite3_free(default_count);
    if (rc)
        return rc;
    char *page_sql = sqlite3_mprintf("SELECT %s FROM %s WHERE %s ORDER BY %s %s, id %s LIMIT ?%d OFFSET ?%d", cols,
                                     table, where, sort_column(sort), dir, dir, b->n + 1, b->n + 2);
    add_int(b, page->limit);
    add_int(b, page->offset);
    rc = run_page(s, page_sql, b, itemsize, read, items, n);
    sqlite3_free(page_sql);
    return rc;
}

static int sqlite_api_key_list(struct store *st, const struct store_api_key_query *q, struct store_api_key_list *out)
{
    struct where wh;
    void *items = NULL;
    memset(out, 0, sizeof *out);
    list_where_begin(&wh, q->org_id);
    if (q->name_filter)
        where_like(&wh.w, &wh.b, "name", q->name_filter, &wh.pattern);
    where_range(&wh.w, &wh.b, "created_at", &q->created);
    where_range(&wh.w, &wh.b, "modified_at", &q->modified);
    if (q->remote_config >= 0)
        where_eq_int(&wh.w, &wh.b, "remote_config_read_enabled", q->remote_config);
    if (q->category) {
        add_text(&wh.b, q->category);
        buf_printf(&wh.w, " AND category = ?%d", wh.b.n);
    }
    int rc = run_list(S(st), "api_keys", API_KEY_COLS, wh.w.p, &wh.b, NULL, q->sort, q->desc, &q->page,
                      sizeof(struct store_api_key), read_api_key_v, &items, &out->n, &out->total);
    out->items = items;
    if (rc)
        store_api_key_list_free(out);
    list_where_end(&wh);
    return rc;
}

static int sqlite_token_list(struct store *st, const struct store_token_query *q, struct store_token_list *out)
{
    struct where wh;
    void *items = NULL;
    char *count_sql = NULL;
    memset(out, 0, sizeof *out);
    list_where_begin(&wh, q->org_id);
    /* "revoked_at IS NULL" matches the partial indexes' predicate. */
    add_int(&wh.b, q->now);
    buf_printf(&wh.w, " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?%d)", wh.b.n);
    size_t scope_at = wh.w.len;
    if (q->kind)
        where_eq_int(&wh.w, &wh.b, "kind", q->kind);
    if (q->n_owners)
        where_in(&wh.w, &wh.b, "owner_id", q->owner_ids, q->n_owners < STORE_MAX_OWNERS ? q->n_owners : STORE_MAX_OWNERS);
    /* Without a name filter the total comes from token_counts (005), less
     * the live tokens already past their expiry: the cost follows the page,
     * not the org's token count. */
    if (!q->name_filter)
        count_sql = sqlite3_mprintf("SELECT (SELECT coalesce(sum(live), 0) FROM token_counts WHERE org_id = ?1%s) - "
                                    "(SELECT count(*) FROM tokens WHERE org_id = ?1 AND revoked_at IS NULL "
                                    "AND expires_at IS NOT NULL AND expires_at <= ?2%s)",
                                    wh.w.p + scope_at, wh.w.p + scope_at);
    if (q->name_filter)
        where_like(&wh.w, &wh.b, "name", q->name_filter, &wh.pattern);
    int rc = run_list(S(st), "tokens", TOKEN_COLS, wh.w.p, &wh.b, count_sql, q->sort, q->desc, &q->page,
                      sizeof(struct store_token), read_token_v, &items, &out->n, &out->total);
    sqlite3_free(count_sql);
    out->items = items;
    if (rc)
        store_token_list_free(out);
    list_where_end(&wh);
    return rc;
}

/* ---- application keys ---- */

static int sqlite_app_key_insert(struct store *st, const struct store_app_key *k)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_APP_KEY_INSERT);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, k->id);
    bind_text(q, 2, k->org_id);
    bind_text(q, 3, k->owner_id);
    bind_text(q, 4, k->name);
    bind_text(q, 5, k->last4);
    bind_text(q, 6, k->scopes);
    sqlite3_bind_int64(q, 7, k->created_at);
    bind_time(q, 8, k->last_used_at);
    sqlite3_bind_blob(q, 9, k->key.lookup, SECRET_HASH_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_blob(q, 10, k->key.sealed, (int)k->key.sealed_len, SQLITE_TRANSIENT);
    sqlite3_bind_int(q, 11, k->key.secret_version);
    return run_write(s, q, "app_key_insert");
}

static int sqlite_app_key_find(struct store *st, const uint8_t lookup[SECRET_HASH_LEN], struct store_app_key *out)
{
    return get_row(S(st), S_APP_KEY_FIND, NULL, NULL, lookup, read_app_key_v, out, sizeof *out, "app_key_find");
}

/* ---- tokens ---- */

static int sqlite_token_insert(struct store *st, const struct store_token *t)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_TOKEN_INSERT);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, t->id);
    bind_text(q, 2, t->org_id);
    bind_text(q, 3, t->owner_id);
    sqlite3_bind_int(q, 4, t->kind);
    bind_text(q, 5, t->name);
    bind_text(q, 6, t->scopes);
    sqlite3_bind_blob(q, 7, t->secret_hash, SECRET_HASH_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 8, t->created_at);
    bind_time(q, 9, t->modified_at);
    bind_time(q, 10, t->expires_at);
    bind_time(q, 11, t->last_used_at);
    bind_time(q, 12, t->revoked_at);
    sqlite3_bind_int(q, 13, t->secret_version);
    return run_write(s, q, "token_insert");
}

static int sqlite_token_get(struct store *st, const char *id, struct store_token *out)
{
    return get_row(S(st), S_TOKEN_GET, id, NULL, NULL, read_token_v, out, sizeof *out, "token_get");
}

static int sqlite_token_revoke(struct store *st, const char *org_id, const char *id, int64_t when)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_TOKEN_REVOKE);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, id);
    bind_text(q, 2, org_id);
    sqlite3_bind_int64(q, 3, when);
    int rc = run_write(s, q, "token_revoke");
    if (!rc && sqlite3_changes(s->db) == 0)
        rc = KH_ENOTFOUND;
    return rc;
}

static int sqlite_app_key_list(struct store *st, const struct store_app_key_query *q, struct store_app_key_list *out)
{
    struct where wh;
    void *items = NULL;
    memset(out, 0, sizeof *out);
    list_where_begin(&wh, q->org_id);
    if (q->n_owners)
        where_in(&wh.w, &wh.b, "owner_id", q->owner_ids, q->n_owners < STORE_MAX_OWNERS ? q->n_owners : STORE_MAX_OWNERS);
    if (q->name_filter)
        where_like(&wh.w, &wh.b, "name", q->name_filter, &wh.pattern);
    where_range(&wh.w, &wh.b, "created_at", &q->created);
    int rc = run_list(S(st), "app_keys", APP_KEY_COLS, wh.w.p, &wh.b, NULL, q->sort, q->desc, &q->page,
                      sizeof(struct store_app_key), read_app_key_v, &items, &out->n, &out->total);
    out->items = items;
    if (rc)
        store_app_key_list_free(out);
    list_where_end(&wh);
    return rc;
}

/* Counts rows of table in an org (a list's unfiltered total). */
static int org_total(struct sqlite_store *s, const char *table, const char *org_id, int64_t *total)
{
    char *sql = sqlite3_mprintf("SELECT count(*) FROM %s WHERE org_id = ?1", table);
    struct binds b = {.n = 0};
    add_text(&b, org_id);
    int rc = run_count(s, sql, &b, total);
    sqlite3_free(sql);
    return rc;
}

static int sqlite_user_list(struct store *st, const struct store_user_query *q, struct store_user_list *out)
{
    struct sqlite_store *s = S(st);
    struct where wh;
    void *items = NULL;
    memset(out, 0, sizeof *out);
    list_where_begin(&wh, q->org_id);
    if (q->filter) {
        wh.pattern = like_pattern(q->filter);
        add_text(&wh.b, wh.pattern);
        buf_printf(&wh.w, " AND (name LIKE ?%d ESCAPE '\\' OR email LIKE ?%d ESCAPE '\\')", wh.b.n, wh.b.n);
    }
    if (q->status_mask) {
        buf_printf(&wh.w, " AND (0%s%s%s)", q->status_mask & STORE_STATUS_ACTIVE ? " OR (disabled = 0 AND verified = 1)" : "",
                   q->status_mask & STORE_STATUS_PENDING ? " OR (disabled = 0 AND verified = 0)" : "",
                   q->status_mask & STORE_STATUS_DISABLED ? " OR disabled = 1" : "");
    }
    if (q->role_id) {
        add_text(&wh.b, q->role_id);
        buf_printf(&wh.w, " AND id IN (SELECT user_id FROM user_roles WHERE role_id = ?%d)", wh.b.n);
    }
    int rc = run_list(s, "users", USER_COLS, wh.w.p, &wh.b, NULL, q->sort, q->desc, &q->page, sizeof(struct store_user),
                      read_user_v, &items, &out->n, &out->total);
    out->items = items;
    if (!rc && q->role_id) { /* a role's members: all of them, whatever the filters */
        struct binds rb = {.n = 0};
        add_text(&rb, q->role_id);
        rc = run_count(s, "SELECT count(*) FROM user_roles WHERE role_id = ?1", &rb, &out->total_unfiltered);
    } else if (!rc) {
        rc = org_total(s, "users", q->org_id, &out->total_unfiltered);
    }
    if (rc)
        store_user_list_free(out);
    list_where_end(&wh);
    return rc;
}

static int sqlite_role_list(struct store *st, const struct store_role_query *q, struct store_role_list *out)
{
    struct sqlite_store *s = S(st);
    struct where wh;
    void *items = NULL;
    memset(out, 0, sizeof *out);
    list_where_begin(&wh, q->org_id);
    if (q->filter)
        where_like(&wh.w, &wh.b, "name", q->filter, &wh.pattern);
    if (q->name) {
        add_text(&wh.b, q->name);
        buf_printf(&wh.w, " AND name = ?%d", wh.b.n);
    }
    if (q->n_ids)
        where_in(&wh.w, &wh.b, "id", q->ids, q->n_ids < STORE_MAX_IDS ? q->n_ids : STORE_MAX_IDS);
    int rc = run_list(s, "roles", ROLE_COLS, wh.w.p, &wh.b, NULL, q->sort, q->desc, &q->page, sizeof(struct store_role),
                      read_role_v, &items, &out->n, &out->total);
    out->items = items;
    if (!rc)
        rc = org_total(s, "roles", q->org_id, &out->total_unfiltered);
    if (rc)
        store_role_list_free(out);
    list_where_end(&wh);
    return rc;
}

/* Runs an UPDATE/DELETE keyed by its first binds; KH_ENOTFOUND when it
 * touched no row. */
static int run_change(struct sqlite_store *s, sqlite3_stmt *q, const char *what)
{
    int rc = run_write(s, q, what);
    if (!rc && sqlite3_changes(s->db) == 0)
        rc = KH_ENOTFOUND;
    return rc;
}

/* KH_ECONFLICT when another user of the org has the email. */
static int email_free(struct sqlite_store *s, const struct store_user *u)
{
    sqlite3_stmt *q = stmt(s, S_USER_EMAIL_TAKEN);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, u->org_id);
    bind_text(q, 2, u->email);
    bind_text(q, 3, u->id);
    int rc = step_one(s, q, "user_email_taken");
    if (rc == KH_OK) {
        sqlite3_reset(q);
        return KH_ECONFLICT;
    }
    return rc == KH_ENOTFOUND ? KH_OK : rc;
}

static int sqlite_user_update(struct store *st, const struct store_user *u)
{
    struct sqlite_store *s = S(st);
    int rc = email_free(s, u);
    if (rc)
        return rc;
    sqlite3_stmt *q = stmt(s, S_USER_UPDATE);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, u->id);
    bind_text(q, 2, u->org_id);
    bind_text(q, 3, u->email);
    bind_text(q, 4, u->name);
    bind_text(q, 5, u->title);
    sqlite3_bind_int(q, 6, u->disabled);
    sqlite3_bind_int64(q, 7, u->modified_at);
    return run_change(s, q, "user_update");
}

/* A DELETE/UPDATE with two text keys. */
static int pair_change(struct store *st, enum stmt_id id, const char *a, const char *b, const char *what)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, id);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, a);
    bind_text(q, 2, b);
    return run_change(s, q, what);
}

static int sqlite_user_role_remove(struct store *st, const char *user_id, const char *role_id)
{
    return pair_change(st, S_USER_ROLE_REMOVE, user_id, role_id, "user_role_remove");
}

static int sqlite_role_update(struct store *st, const struct store_role *r)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_ROLE_UPDATE);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, r->id);
    bind_text(q, 2, r->org_id);
    bind_text(q, 3, r->name);
    sqlite3_bind_int64(q, 4, r->modified_at);
    bind_text(q, 5, r->receives);
    return run_change(s, q, "role_update");
}

static int sqlite_role_delete(struct store *st, const char *org_id, const char *id)
{
    /* role_permissions and user_roles rows go with it (ON DELETE CASCADE). */
    return pair_change(st, S_ROLE_DELETE, id, org_id, "role_delete");
}

static int sqlite_role_permissions(struct store *st, const char *role_id, struct store_strlist *out)
{
    return strlist_query(S(st), S_ROLE_PERMS, role_id, out);
}

static int sqlite_role_permission_remove(struct store *st, const char *role_id, const char *permission)
{
    return pair_change(st, S_ROLE_PERM_REMOVE, role_id, permission, "role_permission_remove");
}

static int sqlite_api_key_update(struct store *st, const struct store_api_key *k)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_API_KEY_UPDATE);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, k->id);
    bind_text(q, 2, k->org_id);
    bind_text(q, 3, k->name);
    bind_text(q, 4, k->category ? k->category : "default");
    sqlite3_bind_int(q, 5, k->remote_config_read_enabled);
    bind_id(q, 6, k->modified_by);
    sqlite3_bind_int64(q, 7, k->modified_at);
    return run_change(s, q, "api_key_update");
}

static int sqlite_api_key_delete(struct store *st, const char *org_id, const char *id)
{
    return pair_change(st, S_API_KEY_DELETE, id, org_id, "api_key_delete");
}

static int sqlite_app_key_get(struct store *st, const char *org_id, const char *id, struct store_app_key *out)
{
    return get_row(S(st), S_APP_KEY_GET, id, org_id, NULL, read_app_key_v, out, sizeof *out, "app_key_get");
}

static int sqlite_app_key_update(struct store *st, const struct store_app_key *k)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_APP_KEY_UPDATE);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, k->id);
    bind_text(q, 2, k->org_id);
    bind_text(q, 3, k->name);
    bind_text(q, 4, k->scopes);
    return run_change(s, q, "app_key_update");
}

static int sqlite_app_key_delete(struct store *st, const char *org_id, const char *id)
{
    return pair_change(st, S_APP_KEY_DELETE, id, org_id, "app_key_delete");
}

static int sqlite_app_key_delete_owned(struct store *st, const char *owner_id)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_APP_KEY_DELETE_OWNED);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, owner_id);
    return run_write(s, q, "app_key_delete_owned");
}

static int sqlite_app_key_count(struct store *st, const char *owner_id, int64_t *count)
{
    return count_query(S(st), S_APP_KEY_COUNT, owner_id, count);
}

static int sqlite_token_update(struct store *st, const struct store_token *t)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_TOKEN_UPDATE);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, t->id);
    bind_text(q, 2, t->org_id);
    bind_text(q, 3, t->name);
    bind_text(q, 4, t->scopes);
    sqlite3_bind_int64(q, 5, t->modified_at);
    return run_change(s, q, "token_update");
}

static int sqlite_token_revoke_owned(struct store *st, const char *owner_id, int64_t when)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_TOKEN_REVOKE_OWNED);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, owner_id);
    sqlite3_bind_int64(q, 2, when);
    return run_write(s, q, "token_revoke_owned");
}

/* Runs one touch statement for an item; *changed tells whether it wrote. */
static int touch_one(struct sqlite_store *s, enum stmt_id id, const struct store_touch *t, int *changed)
{
    sqlite3_stmt *q = stmt(s, id);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, t->id);
    sqlite3_bind_int64(q, 2, t->when);
    int rc = run_write(s, q, "touch");
    *changed = !rc && sqlite3_changes(s->db) > 0;
    return rc;
}

/* A first use is one that finds last_used_at unset: the first statement
 * only writes then, and the usual one moves the time forward otherwise. */
static int sqlite_touch(struct store *st, const struct store_touch *items, size_t n, unsigned char *first)
{
    static const enum stmt_id firsts[] = {[STORE_TOUCH_API_KEY] = S_FIRST_TOUCH_API_KEY,
                                          [STORE_TOUCH_APP_KEY] = S_FIRST_TOUCH_APP_KEY,
                                          [STORE_TOUCH_TOKEN] = S_FIRST_TOUCH_TOKEN};
    static const enum stmt_id later[] = {[STORE_TOUCH_API_KEY] = S_TOUCH_API_KEY, [STORE_TOUCH_APP_KEY] = S_TOUCH_APP_KEY,
                                         [STORE_TOUCH_TOKEN] = S_TOUCH_TOKEN};
    struct sqlite_store *s = S(st);
    int rc = sqlite_begin(st);
    for (size_t i = 0; !rc && i < n; i++) {
        int kind = items[i].kind, was_first = 0, moved;
        if (kind < STORE_TOUCH_API_KEY || kind > STORE_TOUCH_TOKEN) {
            rc = KH_EINVAL;
            break;
        }
        rc = touch_one(s, firsts[kind], &items[i], &was_first);
        if (!rc && !was_first)
            rc = touch_one(s, later[kind], &items[i], &moved);
        if (first)
            first[i] = (unsigned char)was_first;
    }
    if (rc) {
        sqlite_rollback(st);
        return rc;
    }
    return sqlite_commit(st);
}

/* Online backup with SQLite's backup API, a few hundred pages per step so
 * that writers are never blocked for long; the copy is a consistent snapshot
 * (the backup restarts itself if the source changes under it). The copy is
 * written to a temporary name and renamed into place, so dest is either
 * absent or complete. */
static int sqlite_backup(struct store *st, const char *dest, char **err)
{
    struct sqlite_store *s = S(st);
    sqlite3 *out = NULL;
    char *tmp = xasprintf("%s.partial", dest);
    int rc = sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(out, "main", s->db, "main") : NULL;
    if (b) {
        do {
            rc = sqlite3_backup_step(b, 256);
            if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
                sqlite3_sleep(5);
        } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
        rc = sqlite3_backup_finish(b);
    } else if (rc == SQLITE_OK) {
        rc = sqlite3_errcode(out);
    }
    if (rc != SQLITE_OK)
        *err = xasprintf("backup to %s failed: %s", dest, out ? sqlite3_errmsg(out) : "cannot open");
    sqlite3_close_v2(out);
    if (rc == SQLITE_OK && rename(tmp, dest) != 0) {
        *err = xasprintf("cannot move the backup into place at %s", dest);
        rc = SQLITE_IOERR;
    }
    if (rc != SQLITE_OK)
        unlink(tmp);
    free(tmp);
    return rc == SQLITE_OK ? KH_OK : KH_ESTORE;
}

static int sqlite_check(struct store *st, char **report)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q;
    struct buf b;
    *report = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK)
        return map_rc(s, sqlite3_errcode(s->db), "check");
    buf_init(&b, 64 * 1024);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const unsigned char *line = sqlite3_column_text(q, 0);
        buf_printf(&b, "%s%s", b.len ? "\n" : "", line ? (const char *)line : "");
    }
    sqlite3_finalize(q);
    *report = buf_steal(&b, NULL);
    return rc == SQLITE_DONE ? KH_OK : map_rc(s, rc, "check");
}

/* The change stamp of a WAL database is read from the wal-index header that
 * SQLite keeps at the start of the -shm file, shared by every connection of
 * every process (format: https://www.sqlite.org/walformat.html, "The
 * WAL-Index Header"). Each commit increments iChange and moves mxFrame (the
 * last valid frame), and a WAL restart changes the salts, so the tuple
 * (iChange, mxFrame, salt-1, salt-2) of the first header copy, which SQLite
 * writes last and behind a memory barrier, differs after every commit. A torn
 * read can only look changed, never unchanged.
 *
 * The header is reached through SQLite's own mapping of the wal-index (the
 * VFS's xShmMap on this connection's file), never by opening the -shm file
 * again: closing any descriptor of a file drops every POSIX lock the process
 * holds on it, and without its lock on the -shm a process looks gone, so the
 * next process to open the database (`keyhold user add` beside a running
 * server) truncates the -shm under the server's mapping, which then dies of
 * SIGBUS. The mapping is asked for on first use; a database not in WAL
 * mode, or a header of another version, gives KH_ESTORE, and callers then
 * do not cache. */
#define WAL_INDEX_VERSION 3007000u
#define WAL_INDEX_REGION 32768 /* SQLite's wal-index page size: every mapping of the -shm uses it */

static int map_wal_index(struct sqlite_store *s)
{
    sqlite3_file *f = NULL;
    void volatile *region = NULL;
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f || !f->pMethods ||
        f->pMethods->iVersion < 2 || !f->pMethods->xShmMap)
        return KH_ESTORE;
    if (f->pMethods->xShmMap(f, 0, WAL_INDEX_REGION, 0, &region) != SQLITE_OK || !region)
        return KH_ESTORE;
    s->wal_index = region;
    return KH_OK;
}

static int sqlite_change_stamp(struct store *st, struct store_stamp *out)
{
    struct sqlite_store *s = S(st);
    if (s->in_memory || (!s->wal_index && map_wal_index(s)))
        return KH_ESTORE;
    atomic_thread_fence(memory_order_acquire);
    const volatile uint32_t *h = s->wal_index; /* words: 0 iVersion, 2 iChange, 4 mxFrame, 8-9 aSalt */
    if (h[0] != WAL_INDEX_VERSION)
        return KH_ESTORE;
    out->a = (uint64_t)h[2] << 32 | h[4];
    out->b = (uint64_t)h[8] << 32 | h[9];
    return KH_OK;
}

/* In WAL mode every page a load writes is written twice: to the WAL, then
 * by the checkpoint into the database. A rollback journal only keeps the old
 * content of pages that existed before the transaction, and a load in key
 * order mostly adds new pages, so they are written once. Leaving WAL mode
 * needs the only connection to the file; with others open it fails with
 * SQLITE_BUSY and the load stays in WAL mode. A bigger page cache keeps a
 * whole batch's pages in memory until its commit. */
static int sqlite_bulk_mode(struct store *st, int on)
{
    struct sqlite_store *s = S(st);
    s->wal_index = NULL; /* leaving WAL mode unmaps it; asked for again when next needed */
    if (on) {
        int rc = exec_sql(s, "PRAGMA journal_mode = DELETE", "bulk mode");
        if (!rc)
            rc = exec_sql(s, "PRAGMA cache_size = -1048576", "bulk mode");
        return rc;
    }
    return exec_sql(s, "PRAGMA cache_size = -65536; PRAGMA journal_mode = WAL", "normal mode");
}

/* ---- invitations ---- */

static void read_invitation_v(sqlite3_stmt *q, void *it)
{
    struct store_invitation *inv = it;
    col_copy(q, 0, inv->id, sizeof inv->id);
    col_copy(q, 1, inv->org_id, sizeof inv->org_id);
    col_copy(q, 2, inv->user_id, sizeof inv->user_id);
    col_copy(q, 3, inv->invite_type, sizeof inv->invite_type);
    inv->login_method = col_dup(q, 4);
    inv->created_at = sqlite3_column_int64(q, 5);
    inv->expires_at = sqlite3_column_int64(q, 6);
}

static int sqlite_invitation_insert(struct store *st, const struct store_invitation *inv)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_INVITATION_INSERT);
    if (!q)
        return KH_ESTORE;
    bind_text(q, 1, inv->id);
    bind_text(q, 2, inv->org_id);
    bind_text(q, 3, inv->user_id);
    bind_text(q, 4, inv->invite_type);
    bind_text(q, 5, inv->login_method);
    sqlite3_bind_int64(q, 6, inv->created_at);
    sqlite3_bind_int64(q, 7, inv->expires_at);
    return run_write(s, q, "invitation_insert");
}

static int sqlite_invitation_get(struct store *st, const char *org_id, const char *id, struct store_invitation *out)
{
    return get_row(S(st), S_INVITATION_GET, id, org_id, NULL, read_invitation_v, out, sizeof *out, "invitation_get");
}

/* ---- reset (test mode) ---- */

/* In this order, so that no foreign key is left dangling at any step; the
 * binds are ?1 org, ?2 user, ?3 API key, ?4 application key kept. Deleting
 * the tokens fires the token_counts triggers; the counts then all read 0. */
static const char *const reset_sql[] = {
    "DELETE FROM tokens",
    "DELETE FROM token_counts",
    "DELETE FROM app_keys WHERE id <> ?4",
    "DELETE FROM api_keys WHERE id <> ?3",
    "DELETE FROM invitations",
    "DELETE FROM user_roles",
    "DELETE FROM roles WHERE org_id <> ?1 OR managed = 0",
    "DELETE FROM users WHERE id <> ?2",
    "DELETE FROM orgs WHERE id <> ?1",
    "DELETE FROM audit_events",
};

static int sqlite_reset(struct store *st, const struct store_keep *keep)
{
    struct sqlite_store *s = S(st);
    const char *keys[4] = {keep->org_id, keep->user_id, keep->api_key_id, keep->app_key_id};
    int rc = sqlite_begin(st);
    for (size_t i = 0; !rc && i < sizeof reset_sql / sizeof reset_sql[0]; i++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(s->db, reset_sql[i], -1, &q, NULL) != SQLITE_OK) {
            rc = map_rc(s, sqlite3_errcode(s->db), "reset");
            break;
        }
        for (int k = 1; k <= sqlite3_bind_parameter_count(q); k++)
            bind_text(q, k, keys[k - 1]);
        rc = map_rc(s, sqlite3_step(q), "reset");
        sqlite3_finalize(q);
    }
    if (rc) {
        sqlite_rollback(st);
        return rc;
    }
    return sqlite_commit(st);
}

static int sqlite_audit_insert(struct store *st, const struct store_audit *e)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_AUDIT_INSERT);
    if (!q)
        return KH_ESTORE;
    sqlite3_bind_int64(q, 1, e->at);
    bind_id(q, 2, e->org_id);
    bind_id(q, 3, e->actor_id);
    bind_text(q, 4, e->action);
    bind_text(q, 5, e->target_kind);
    bind_id(q, 6, e->target_id);
    bind_id(q, 7, e->source);
    return run_write(s, q, "audit_insert");
}

static void read_audit(sqlite3_stmt *q, void *it)
{
    struct store_audit *e = it;
    e->seq = sqlite3_column_int64(q, 0);
    e->at = sqlite3_column_int64(q, 1);
    col_copy(q, 2, e->org_id, sizeof e->org_id);
    col_copy(q, 3, e->actor_id, sizeof e->actor_id);
    col_copy(q, 4, e->action, sizeof e->action);
    col_copy(q, 5, e->target_kind, sizeof e->target_kind);
    col_copy(q, 6, e->target_id, sizeof e->target_id);
    col_copy(q, 7, e->source, sizeof e->source);
}

static int sqlite_audit_list(struct store *st, int64_t since, int64_t limit, struct store_audit_list *out)
{
    struct sqlite_store *s = S(st);
    sqlite3_stmt *q = stmt(s, S_AUDIT_LIST);
    size_t cap = 0;
    memset(out, 0, sizeof *out);
    if (!q)
        return KH_ESTORE;
    sqlite3_bind_int64(q, 1, since);
    sqlite3_bind_int64(q, 2, limit);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 64;
            out->items = xrealloc(out->items, cap * sizeof *out->items);
        }
        memset(&out->items[out->n], 0, sizeof out->items[0]);
        read_audit(q, &out->items[out->n++]);
    }
    sqlite3_reset(q);
    out->total = (int64_t)out->n;
    if (rc != SQLITE_DONE) {
        store_audit_list_free(out);
        return map_rc(s, rc, "audit_list");
    }
    return KH_OK;
}

/* ---- secret rotation ---- */

#define RESEAL_BATCH 256

struct reseal_row {
    char id[UUID_STR];
    struct store_sealed old;
};

/* Up to RESEAL_BATCH keys of the table not made under version. */
static int reseal_batch(struct sqlite_store *s, const char *sql, int version, struct reseal_row *rows, size_t *n)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
    *n = 0;
    if (rc != SQLITE_OK)
        return map_rc(s, rc, "reseal");
    sqlite3_bind_int(q, 1, version);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < RESEAL_BATCH) {
        col_copy(q, 0, rows[*n].id, UUID_STR);
        col_sealed(q, 1, 2, &rows[*n].old);
        (*n)++;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KH_OK : map_rc(s, rc, "reseal");
}

static int sqlite_reseal(struct store *st, int table, int version, store_reseal_fn fn, void *arg, int64_t *count)
{
    struct sqlite_store *s = S(st);
    const char *t = table == STORE_SEALED_API_KEYS ? "api_keys" : "app_keys";
    char *select = sqlite3_mprintf("SELECT id, key_lookup, key_sealed, secret_version FROM %s "
                                   "WHERE secret_version != ?1 LIMIT %d",
                                   t, RESEAL_BATCH);
    char *update = sqlite3_mprintf("UPDATE %s SET key_lookup = ?2, key_sealed = ?3, secret_version = ?4 "
                                   "WHERE id = ?1",
                                   t);
    struct reseal_row *rows = xcalloc(RESEAL_BATCH, sizeof *rows);
    sqlite3_stmt *u = NULL;
    size_t n = 0;
    int rc = map_rc(s, sqlite3_prepare_v2(s->db, update, -1, &u, NULL), "reseal");
    *count = 0;
    while (!rc && !(rc = reseal_batch(s, select, version, rows, &n)) && n) {
        for (size_t i = 0; i < n; i++) {
            struct store_sealed fresh = {.secret_version = version};
            if (!rc && !(rc = fn(arg, &rows[i].old, &fresh))) {
                bind_text(u, 1, rows[i].id);
                sqlite3_bind_blob(u, 2, fresh.lookup, SECRET_HASH_LEN, SQLITE_TRANSIENT);
                sqlite3_bind_blob(u, 3, fresh.sealed, (int)fresh.sealed_len, SQLITE_TRANSIENT);
                sqlite3_bind_int(u, 4, version);
                if (!(rc = run_write(s, u, "reseal")))
                    (*count)++;
            }
            free(fresh.sealed);
            free(rows[i].old.sealed);
        }
    }
    sqlite3_finalize(u);
    sqlite3_free(select);
    sqlite3_free(update);
    free(rows);
    return rc;
}

static int sqlite_secret_versions(struct store *st, int64_t now, int *versions, size_t max, size_t *n)
{
    struct sqlite_store *s = S(st);
    static const char sql[] = "SELECT secret_version FROM api_keys UNION SELECT secret_version FROM app_keys "
                              "UNION SELECT secret_version FROM tokens WHERE revoked_at IS NULL "
                              "AND (expires_at IS NULL OR expires_at > ?1)";
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
    *n = 0;
    if (rc != SQLITE_OK)
        return map_rc(s, rc, "secret_versions");
    sqlite3_bind_int64(q, 1, now);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if (*n < max)
            versions[(*n)++] = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return map_rc(s, rc, "secret_versions");
}

static int sqlite_sealed_sample(struct store *st, int version, struct store_sealed *out)
{
    struct sqlite_store *s = S(st);
    static const char sql[] = "SELECT key_lookup, key_sealed, secret_version FROM api_keys WHERE secret_version = ?1 "
                              "UNION ALL SELECT key_lookup, key_sealed, secret_version FROM app_keys "
                              "WHERE secret_version = ?1 LIMIT 1";
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s, rc, "sealed_sample");
    sqlite3_bind_int(q, 1, version);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        col_sealed(q, 0, 1, out);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? KH_OK : rc == SQLITE_DONE ? KH_ENOTFOUND : map_rc(s, rc, "sealed_sample");
}

const struct store_ops store_sqlite_ops = {
    .version = STORE_OPS_VERSION,
    .caps = STORE_CAP_TRANSACTIONS,
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .meta_get = sqlite_meta_get,
    .meta_set = sqlite_meta_set,
    .org_insert = sqlite_org_insert,
    .org_get = sqlite_org_get,
    .org_count = sqlite_org_count,
    .user_insert = sqlite_user_insert,
    .user_get = sqlite_user_get,
    .role_insert = sqlite_role_insert,
    .role_get = sqlite_role_get,
    .role_permission_add = sqlite_role_permission_add,
    .user_role_add = sqlite_user_role_add,
    .user_permissions = sqlite_user_permissions,
    .user_roles = sqlite_user_roles,
    .api_key_insert = sqlite_api_key_insert,
    .api_key_get = sqlite_api_key_get,
    .api_key_find = sqlite_api_key_find,
    .api_key_list = sqlite_api_key_list,
    .api_key_count = sqlite_api_key_count,
    .app_key_insert = sqlite_app_key_insert,
    .app_key_find = sqlite_app_key_find,
    .token_insert = sqlite_token_insert,
    .token_get = sqlite_token_get,
    .token_list = sqlite_token_list,
    .token_revoke = sqlite_token_revoke,
    .user_list = sqlite_user_list,
    .user_update = sqlite_user_update,
    .user_role_remove = sqlite_user_role_remove,
    .role_list = sqlite_role_list,
    .role_update = sqlite_role_update,
    .role_delete = sqlite_role_delete,
    .role_permissions = sqlite_role_permissions,
    .role_permission_remove = sqlite_role_permission_remove,
    .api_key_update = sqlite_api_key_update,
    .api_key_delete = sqlite_api_key_delete,
    .app_key_get = sqlite_app_key_get,
    .app_key_list = sqlite_app_key_list,
    .app_key_update = sqlite_app_key_update,
    .app_key_delete = sqlite_app_key_delete,
    .app_key_delete_owned = sqlite_app_key_delete_owned,
    .app_key_count = sqlite_app_key_count,
    .token_update = sqlite_token_update,
    .token_revoke_owned = sqlite_token_revoke_owned,
    .touch = sqlite_touch,
    .backup = sqlite_backup,
    .check = sqlite_check,
    .org_ids = sqlite_org_ids,
    .invitation_insert = sqlite_invitation_insert,
    .invitation_get = sqlite_invitation_get,
    .reset = sqlite_reset,
    .audit_insert = sqlite_audit_insert,
    .audit_list = sqlite_audit_list,
    .reseal = sqlite_reseal,
    .secret_versions = sqlite_secret_versions,
    .sealed_sample = sqlite_sealed_sample,
    .change_stamp = sqlite_change_stamp,
    .bulk_mode = sqlite_bulk_mode,
};
