/* test_authcache.c - the change stamp moves with every commit, from another
 * connection or another process, and the authentication cache answers again
 * only while nothing was committed: revocations, disabled users and token
 * expiry take effect on the very next request. */
#include "test.h"

#include "auth/authcache.h"
#include "fixture.h"
#include "util/clock.h"
#include "util/token.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/wait.h>

static int same(const struct store_stamp *a, const struct store_stamp *b)
{
    return a->a == b->a && a->b == b->b;
}

/* The stamp once the announcements of earlier commits have arrived
 * (fixture.h). */
static void settled_stamp(struct store *st, struct store_stamp *out)
{
    CHECK_INT(fixture_settled_stamp(st, out), KH_OK);
}

/* Non-zero when the stamp moves from old within two seconds: another
 * process's commit reaches a PostgreSQL node through its notification. */
static int moves_from(struct store *st, const struct store_stamp *old)
{
    struct store_stamp now;
    for (int i = 0; i < 200; i++) {
        if (store_change_stamp(st, &now) == KH_OK && !same(old, &now))
            return 1;
        usleep(10000);
    }
    return 0;
}

static void stamp_moves_with_every_commit_anywhere(void)
{
    struct fixture f;
    struct store *other = NULL;
    char *err = NULL;
    struct store_stamp s1, s2;
    fixture_open(&f);
    CHECK_INT(store_open(f.dsn, &other, &err), KH_OK);
    settled_stamp(f.st, &s1);
    CHECK_INT(store_change_stamp(f.st, &s2), KH_OK);
    CHECK(same(&s1, &s2)); /* nothing committed */

    /* reads change nothing */
    struct store_org org;
    CHECK_INT(store_org_get(other, f.admin.org_id, &org), KH_OK);
    store_org_clear(&org);
    CHECK_INT(store_change_stamp(f.st, &s2), KH_OK);
    CHECK(same(&s1, &s2));

    /* a commit on another connection */
    CHECK_INT(store_meta_set(other, "test", "1"), KH_OK);
    CHECK_INT(store_change_stamp(f.st, &s2), KH_OK);
    CHECK(!same(&s1, &s2));

    /* a commit by another process */
    s1 = s2;
    pid_t pid = fork();
    if (pid == 0) {
        struct store *child = NULL;
        char *cerr = NULL;
        _exit(store_open(f.dsn, &child, &cerr) || store_meta_set(child, "test", "2") ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(moves_from(f.st, &s1));
    CHECK_INT(store_change_stamp(f.st, &s2), KH_OK);

    /* a checkpoint that empties the WAL, then one commit that starts it
     * over from its first frame: still a new stamp */
    s1 = s2;
    if (fixture_pg()) { /* no WAL file there */
        store_close(other);
        fixture_close(&f);
        return;
    }
    sqlite3 *raw = NULL;
    CHECK_INT(sqlite3_open(f.path, &raw), SQLITE_OK);
    CHECK_INT(sqlite3_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(store_change_stamp(f.st, &s2), KH_OK);
    CHECK_INT(sqlite3_exec(raw, "INSERT OR REPLACE INTO meta(key, value) VALUES ('test', '3')", NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(raw);
    struct store_stamp s3;
    CHECK_INT(store_change_stamp(f.st, &s3), KH_OK);
    CHECK(!same(&s2, &s3));
    CHECK(!same(&s1, &s3));

    store_close(other);
    fixture_close(&f);
}

struct ctx {
    struct fixture f;
    struct auth_cache *cache;
    struct auth_env env;
    struct auth_input keys;
};

static void ctx_open(struct ctx *c)
{
    struct store_stamp settled;
    fixture_open(&c->f);
    settled_stamp(c->f.st, &settled); /* the fixture's own commits announced */
    c->cache = auth_cache_new(64);
    c->env = (struct auth_env){.store = c->f.st, .secret = &c->f.secret, .now = clock_now_us(), .cache = c->cache};
    c->keys = (struct auth_input){c->f.admin.api_key, strlen(c->f.admin.api_key), c->f.admin.app_key,
                                  strlen(c->f.admin.app_key), NULL, 0};
}

static void ctx_close(struct ctx *c)
{
    auth_cache_free(c->cache);
    fixture_close(&c->f);
}

static uint64_t hits(struct ctx *c)
{
    struct auth_cache_stats s;
    auth_cache_get_stats(c->cache, &s);
    return s.hits;
}

/* A PAT of the admin's, stored (and announced), and its Authorization
 * header as a request presents it. */
struct bearer {
    char header[TOKEN_LEN + 8];
    struct auth_input in;
};

static void insert_pat(struct ctx *c, const char *name, int64_t expires_at, struct store_token *t, struct bearer *b)
{
    char value[TOKEN_LEN + 1], secret[TOKEN_SECRET_LEN + 1];
    struct store_stamp settled;
    memset(t, 0, sizeof *t);
    uuid_generate(t->id);
    memcpy(t->org_id, c->f.admin.org_id, UUID_STR);
    memcpy(t->owner_id, c->f.admin.user_id, UUID_STR);
    t->kind = STORE_TOKEN_PAT;
    t->name = (char *)name; /* not owned: these rows are never cleared */
    t->scopes = "[\"api_keys_read\"]";
    t->created_at = t->modified_at = c->env.now;
    t->expires_at = expires_at;
    token_mint(TOKEN_PAT, t->id, value, secret);
    t->secret_version = secret_current(&c->f.secret)->version;
    secret_hmac(secret_current(&c->f.secret)->token_key, secret, TOKEN_SECRET_LEN, t->secret_hash);
    CHECK_INT(store_token_insert(c->f.st, t), KH_OK);
    settled_stamp(c->f.st, &settled);
    snprintf(b->header, sizeof b->header, "Bearer %s", value);
    memset(&b->in, 0, sizeof b->in);
    b->in.authorization = b->header;
    b->in.authorization_len = strlen(b->header);
}

static void answers_from_memory_until_a_commit(void)
{
    struct ctx c;
    struct principal who, again;
    ctx_open(&c);
    CHECK_INT(auth_authenticate(&c.env, &c.keys, &who), KH_OK);
    CHECK_INT(hits(&c), 0);
    CHECK_INT(auth_authenticate(&c.env, &c.keys, &again), KH_OK);
    CHECK_INT(hits(&c), 1);
    CHECK_STR(again.user_id, who.user_id);
    CHECK_STR(again.credential_id, who.credential_id);
    CHECK(memcmp(&again.perms, &who.perms, sizeof who.perms) == 0);

    /* a wrong key is refused from memory too */
    struct auth_input bad = c.keys;
    bad.app_key = "0000000000000000000000000000000000000000";
    CHECK_INT(auth_authenticate(&c.env, &bad, &who), AUTH_INVALID);
    CHECK_INT(auth_authenticate(&c.env, &bad, &who), AUTH_INVALID);
    CHECK_INT(hits(&c), 2);

    /* the application key is deleted on another connection: refused at once */
    struct store *other = NULL;
    char *err = NULL;
    CHECK_INT(store_open(c.f.dsn, &other, &err), KH_OK);
    CHECK_INT(store_app_key_delete(other, c.f.admin.org_id, again.credential_id, &(struct store_ending){.at = 1}), KH_OK);
    CHECK_INT(auth_authenticate(&c.env, &c.keys, &who), AUTH_INVALID);
    CHECK_INT(hits(&c), 2);
    store_close(other);
    ctx_close(&c);
}

static void disabled_user_and_deleted_api_key_are_refused_at_once(void)
{
    struct ctx c;
    struct principal who;
    ctx_open(&c);
    CHECK_INT(auth_authenticate(&c.env, &c.keys, &who), KH_OK);
    CHECK_INT(auth_check_api_key(&c.env, c.keys.api_key, c.keys.api_key_len, &who), KH_OK);
    CHECK_INT(auth_check_api_key(&c.env, c.keys.api_key, c.keys.api_key_len, &who), KH_OK);
    CHECK_INT(hits(&c), 1);

    struct store_user u;
    CHECK_INT(store_user_get(c.f.st, c.f.admin.org_id, c.f.admin.user_id, &u), KH_OK);
    u.disabled = 1;
    CHECK_INT(store_user_update(c.f.st, &u), KH_OK);
    store_user_clear(&u);
    CHECK_INT(auth_authenticate(&c.env, &c.keys, &who), AUTH_INVALID);
    CHECK_INT(who.cred, AUTH_CRED_APP_KEY); /* why, for operators */
    CHECK_INT(who.reason, AUTH_REASON_DISABLED);

    CHECK_INT(auth_check_api_key(&c.env, c.keys.api_key, c.keys.api_key_len, &who), KH_OK);
    CHECK_INT(who.reason, AUTH_REASON_OK);
    CHECK_INT(store_api_key_delete(c.f.st, c.f.admin.org_id, who.api_key_id, &(struct store_ending){.at = 1}), KH_OK);
    CHECK_INT(auth_check_api_key(&c.env, c.keys.api_key, c.keys.api_key_len, &who), AUTH_INVALID);
    CHECK_INT(who.cred, AUTH_CRED_API_KEY);
    CHECK_INT(who.reason, AUTH_REASON_UNKNOWN);
    ctx_close(&c);
}

static void token_entry_ends_at_its_expiry(void)
{
    struct ctx c;
    struct principal who;
    ctx_open(&c);
    struct store_token t;
    struct bearer bearer;
    insert_pat(&c, "short-lived", c.env.now + 1000000 /* one second */, &t, &bearer);
    CHECK_INT(auth_authenticate(&c.env, &bearer.in, &who), KH_OK);
    CHECK_INT(auth_authenticate(&c.env, &bearer.in, &who), KH_OK);
    CHECK_INT(hits(&c), 1);
    c.env.now = t.expires_at; /* nothing committed, but the token is over */
    CHECK_INT(auth_authenticate(&c.env, &bearer.in, &who), AUTH_INVALID);
    CHECK(who.expired);
    CHECK_INT(who.cred, AUTH_CRED_PAT);
    CHECK_INT(who.reason, AUTH_REASON_EXPIRED);
    CHECK_INT(hits(&c), 1);
    /* a flood of the expired token is refused from memory, still told as
     * expired (for its audit event) */
    memset(&who, 0, sizeof who);
    c.env.now += 5000000;
    CHECK_INT(auth_authenticate(&c.env, &bearer.in, &who), AUTH_INVALID);
    CHECK(who.expired);
    CHECK_STR(who.credential_id, t.id);
    CHECK_INT(who.reason, AUTH_REASON_EXPIRED); /* kept with the cached refusal */
    CHECK_INT(hits(&c), 2);

    /* the same token id with another secret: a wrong secret, not an unknown token */
    struct auth_input forged = {0};
    char forged_value[TOKEN_LEN + 1], forged_secret[TOKEN_SECRET_LEN + 1], forged_header[TOKEN_LEN + 8];
    token_mint(TOKEN_PAT, t.id, forged_value, forged_secret);
    snprintf(forged_header, sizeof forged_header, "Bearer %s", forged_value);
    forged.authorization = forged_header;
    forged.authorization_len = strlen(forged_header);
    CHECK_INT(auth_authenticate(&c.env, &forged, &who), AUTH_INVALID);
    CHECK_INT(who.reason, AUTH_REASON_WRONG_SECRET);

    /* a revocation, with the clock back: refused at once as well */
    c.env.now = t.created_at;
    CHECK_INT(auth_authenticate(&c.env, &bearer.in, &who), KH_OK);
    CHECK_INT(store_token_revoke(c.f.st, c.f.admin.org_id, t.id, &(struct store_ending){.at = c.env.now}), KH_OK);
    CHECK_INT(auth_authenticate(&c.env, &bearer.in, &who), AUTH_INVALID);
    CHECK_INT(who.reason, AUTH_REASON_REVOKED);
    ctx_close(&c);
}

/* A reloaded secret (rotate-secret) starts over: entries made under another
 * secret do not count. */
static void entries_belong_to_their_secret(void)
{
    struct ctx c;
    struct principal who;
    ctx_open(&c);
    CHECK_INT(auth_authenticate(&c.env, &c.keys, &who), KH_OK);
    struct server_secret copy = c.f.secret;
    c.env.secret = &copy;
    CHECK_INT(auth_authenticate(&c.env, &c.keys, &who), KH_OK);
    CHECK_INT(hits(&c), 0);
    ctx_close(&c);
}

/* The -shm lock that tells other processes "this store is in use": SQLite's
 * unix VFS keeps a read lock on byte 128 (UNIX_SHM_DMS) of the -shm file for
 * as long as any connection of the process has it open. A process that finds
 * no such lock truncates the -shm and rebuilds it; a server still mapping it
 * then dies of SIGBUS at its next commit. */
#define SHM_DMS_BYTE 128

/* Non-zero when another process holds a lock on the -shm's DMS byte. */
static int shm_in_use_seen_from_another_process(const char *db_path)
{
    pid_t pid = fork();
    if (pid == 0) {
        char shm[96];
        snprintf(shm, sizeof shm, "%s-shm", db_path);
        int fd = open(shm, O_RDWR);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = SHM_DMS_BYTE, .l_len = 1};
        _exit(fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Reading the change stamp must not drop that lock. It once opened the -shm
 * file again and closed it, and closing any descriptor of a file drops every
 * lock the process holds on it: the next process to open the store
 * (`keyhold user add` beside a running server) then truncated the -shm under
 * the server. */
static void reading_the_stamp_keeps_the_store_marked_in_use(void)
{
    struct fixture f;
    struct store_stamp s;
    SQLITE_ONLY();
    fixture_open(&f);
    CHECK_INT(store_meta_set(f.st, "k", "1"), KH_OK);
    CHECK(shm_in_use_seen_from_another_process(f.path));
    CHECK_INT(store_change_stamp(f.st, &s), KH_OK);
    CHECK(shm_in_use_seen_from_another_process(f.path));
    /* and another process writing meanwhile changes the stamp as before */
    pid_t pid = fork();
    if (pid == 0) {
        struct store *child = NULL;
        char *cerr = NULL;
        int rc = store_open(f.dsn, &child, &cerr) || store_meta_set(child, "child", "x");
        store_close(child);
        _exit(rc ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct store_stamp s2;
    CHECK_INT(store_meta_set(f.st, "k", "2"), KH_OK);
    CHECK_INT(store_change_stamp(f.st, &s2), KH_OK);
    CHECK(!same(&s, &s2));
    CHECK(shm_in_use_seen_from_another_process(f.path));
    fixture_close(&f);
}

/* The writer thread keeps a cache too, across the requests of one open
 * transaction: a revocation made earlier in that transaction must refuse the
 * token at once, before anything is committed. */
static void a_revocation_not_yet_committed_is_seen_by_its_own_connection(void)
{
    struct ctx c;
    struct principal who;
    ctx_open(&c);
    struct store_token t;
    struct bearer bearer;
    insert_pat(&c, "in a batch", 0, &t, &bearer);

    CHECK_INT(store_begin(c.f.st), KH_OK);
    CHECK_INT(auth_authenticate(&c.env, &bearer.in, &who), KH_OK);
    CHECK_INT(auth_authenticate(&c.env, &bearer.in, &who), KH_OK);
    CHECK_INT(hits(&c), 1); /* within the transaction the cache answers */
    CHECK_INT(store_token_revoke(c.f.st, c.f.admin.org_id, t.id, &(struct store_ending){.at = c.env.now}), KH_OK);
    CHECK_INT(auth_authenticate(&c.env, &bearer.in, &who), AUTH_INVALID); /* not committed, and refused */
    CHECK_INT(hits(&c), 1);
    CHECK_INT(store_rollback(c.f.st), KH_OK);
    ctx_close(&c);
}

/* A batch that fails to commit (or rolls back) showed its own connection
 * things that never held: a user re-enabled. What the cache kept from them
 * must not answer afterwards. */
static void a_rolled_back_grant_is_not_kept(void)
{
    struct ctx c;
    struct principal who;
    struct store_user u;
    struct store_stamp settled;
    ctx_open(&c);
    CHECK_INT(store_user_get(c.f.st, c.f.admin.org_id, c.f.admin.user_id, &u), KH_OK);
    u.disabled = 1;
    CHECK_INT(store_user_update(c.f.st, &u), KH_OK);
    settled_stamp(c.f.st, &settled);
    CHECK_INT(auth_authenticate(&c.env, &c.keys, &who), AUTH_INVALID);

    CHECK_INT(store_begin(c.f.st), KH_OK);
    u.disabled = 0; /* re-enabled inside the batch */
    CHECK_INT(store_user_update(c.f.st, &u), KH_OK);
    CHECK_INT(auth_authenticate(&c.env, &c.keys, &who), KH_OK);
    CHECK_INT(auth_authenticate(&c.env, &c.keys, &who), KH_OK); /* cached within the batch */
    CHECK_INT(hits(&c), 1);
    CHECK_INT(store_rollback(c.f.st), KH_OK);
    CHECK_INT(auth_authenticate(&c.env, &c.keys, &who), AUTH_INVALID); /* the re-enable never held */
    CHECK_INT(hits(&c), 1);
    store_user_clear(&u);
    ctx_close(&c);
}

int main(void)
{
    RUN(stamp_moves_with_every_commit_anywhere);
    RUN(answers_from_memory_until_a_commit);
    RUN(a_revocation_not_yet_committed_is_seen_by_its_own_connection);
    RUN(a_rolled_back_grant_is_not_kept);
    RUN(disabled_user_and_deleted_api_key_are_refused_at_once);
    RUN(token_entry_ends_at_its_expiry);
    RUN(entries_belong_to_their_secret);
    RUN(reading_the_stamp_keeps_the_store_marked_in_use);
    return TEST_SUMMARY();
}
