/* test_history.c - the history of ended credentials in the store (issue 15,
 * item 3), on SQLite and (with KEYHOLD_TEST_PG) PostgreSQL: who revoked a
 * token and why, tombstones of deleted keys written with the delete and
 * holding nothing secret, expired tokens, who may see which row, the
 * retention's cutoff, and pruning (which leaves live tokens listed as
 * before, the in-memory name copies included). */
#include "test.h"

#include "fixture.h"
#include "util/clock.h"
#include "util/xmalloc.h"

static const int64_t T0 = 1800000000000000LL; /* a fixed "now" */

static void insert_token(struct fixture *f, const char *owner, int kind, const char *name, int64_t expires,
                         char id[UUID_STR])
{
    struct store_token t = {0};
    uuid_generate(t.id);
    memcpy(t.org_id, f->admin.org_id, UUID_STR);
    memcpy(t.owner_id, owner, UUID_STR);
    t.kind = kind;
    t.name = xstrdup(name);
    t.scopes = xstrdup("[\"api_keys_read\"]");
    memset(t.secret_hash, 0xab, SECRET_HASH_LEN);
    t.created_at = T0 - 1000;
    t.expires_at = expires;
    CHECK_INT(store_token_insert(f->st, &t), KH_OK);
    memcpy(id, t.id, UUID_STR);
    store_token_clear(&t);
}

/* Everything the admin's org has ended since `since`, as an unrestricted reader. */
static int list_all(struct fixture *f, unsigned states, int64_t since, struct store_history_list *out)
{
    struct store_history_query q = {.org_id = f->admin.org_id, .states = states, .now = T0, .since = since,
                                    .any_kinds = STORE_CRED_ALL, .page = {100, 0}};
    return store_history_list(f->st, &q, out);
}

static const struct store_history_row *find(const struct store_history_list *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].id, id) == 0)
            return &l->items[i];
    return NULL;
}

#define BOTH ((1u << STORE_HISTORY_REVOKED) | (1u << STORE_HISTORY_EXPIRED))

static void a_revoked_token_keeps_who_and_why(void)
{
    struct fixture f;
    struct store_history_list l;
    struct store_token got;
    char id[UUID_STR];
    fixture_open(&f);
    insert_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "ci", 0, id);
    struct store_ending end = {.at = T0 - 10, .by = f.admin.user_id, .reason = "seen in a build log"};
    CHECK_INT(store_token_revoke(f.st, f.admin.org_id, id, &end), KH_OK);
    CHECK_INT(store_token_get(f.st, id, &got), KH_OK);
    CHECK_STR(got.revoked_by, f.admin.user_id);
    CHECK_STR(got.revoke_reason, "seen in a build log");
    store_token_clear(&got);
    CHECK_INT(list_all(&f, BOTH, 0, &l), KH_OK);
    CHECK_INT(l.total, 1);
    const struct store_history_row *h = find(&l, id);
    CHECK(h != NULL);
    if (h) {
        CHECK_INT(h->kind, STORE_CRED_PAT);
        CHECK_INT(h->state, STORE_HISTORY_REVOKED);
        CHECK_INT(h->ended_at, T0 - 10);
        CHECK_STR(h->ended_by, f.admin.user_id);
        CHECK_STR(h->ended_by_email, "admin@example.com");
        CHECK_STR(h->reason, "seen in a build log");
        CHECK_STR(h->name, "ci");
    }
    store_history_list_free(&l);
    fixture_close(&f);
}

static void deleted_keys_leave_a_tombstone_without_their_secret(void)
{
    struct fixture f;
    struct store_history_list l;
    fixture_open(&f);
    struct store_ending end = {.at = T0 - 5, .by = "operator", .reason = "rotated by hand"};
    CHECK_INT(store_api_key_delete(f.st, "00000000-0000-0000-0000-000000000000", f.admin.api_key_id, &end),
              KH_ENOTFOUND);
    CHECK_INT(list_all(&f, BOTH, 0, &l), KH_OK);
    CHECK_INT(l.total, 0); /* a failed delete leaves no tombstone */
    store_history_list_free(&l);
    CHECK_INT(store_api_key_delete(f.st, f.admin.org_id, f.admin.api_key_id, &end), KH_OK);
    CHECK_INT(store_app_key_delete(f.st, f.admin.org_id, f.admin.app_key_id, &(struct store_ending){.at = T0 - 4}),
              KH_OK);
    CHECK_INT(store_api_key_delete(f.st, f.admin.org_id, f.admin.api_key_id, &end), KH_ENOTFOUND);
    CHECK_INT(list_all(&f, 1u << STORE_HISTORY_REVOKED, 0, &l), KH_OK);
    CHECK_INT(l.total, 2);
    CHECK_INT(l.n, 2);
    if (l.n == 2) {
        CHECK_STR(l.items[0].id, f.admin.app_key_id); /* newest ended first */
        CHECK_INT(l.items[0].kind, STORE_CRED_APP_KEY);
        CHECK_STR(l.items[0].owner_id, f.admin.user_id);
        CHECK_STR(l.items[0].last4, f.admin.app_key + 36);
        CHECK_STR(l.items[0].ended_by, "");
        CHECK(l.items[0].reason == NULL);
        CHECK_INT(l.items[1].kind, STORE_CRED_API_KEY);
        CHECK_STR(l.items[1].last4, f.admin.api_key + 28);
        CHECK_STR(l.items[1].ended_by, "operator");
        CHECK(l.items[1].ended_by_email == NULL);
        CHECK_STR(l.items[1].reason, "rotated by hand");
    }
    store_history_list_free(&l);
    /* Only expired tokens are asked for: no key. */
    CHECK_INT(list_all(&f, 1u << STORE_HISTORY_EXPIRED, 0, &l), KH_OK);
    CHECK_INT(l.total, 0);
    store_history_list_free(&l);
    /* The tombstones are rows of their own table (copied by keyhold migrate). */
    char *report = NULL;
    CHECK_INT(store_counts(f.st, &report), KH_OK);
    CHECK(report && strstr(report, "credential_history 2"));
    free(report);
    fixture_close(&f);
}

static void expired_tokens_are_history_and_live_ones_are_not(void)
{
    struct fixture f;
    struct store_history_list l;
    char gone[UUID_STR], live[UUID_STR], forever[UUID_STR];
    fixture_open(&f);
    insert_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "gone", T0 - 60, gone);
    insert_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "live", T0 + 60, live);
    insert_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "forever", 0, forever);
    CHECK_INT(list_all(&f, 1u << STORE_HISTORY_EXPIRED, 0, &l), KH_OK);
    CHECK_INT(l.total, 1);
    CHECK(l.n == 1 && strcmp(l.items[0].id, gone) == 0 && l.items[0].state == STORE_HISTORY_EXPIRED &&
          l.items[0].ended_at == T0 - 60 && l.items[0].ended_by[0] == '\0');
    store_history_list_free(&l);
    CHECK_INT(list_all(&f, 1u << STORE_HISTORY_REVOKED, 0, &l), KH_OK);
    CHECK_INT(l.total, 0);
    store_history_list_free(&l);
    fixture_close(&f);
}

static void each_row_is_seen_only_by_who_may_read_it_live(void)
{
    struct fixture f;
    struct provisioned bob;
    struct store_history_list l;
    const char *none = NULL, *perms[] = {"user_app_keys"};
    char bobs[UUID_STR], admins[UUID_STR], sat[UUID_STR];
    fixture_open(&f);
    CHECK_INT(provision_user(f.st, &f.secret, f.admin.org_id, "bob@example.com", NULL, perms, 1, &bob, &none, NULL),
              KH_OK);
    struct store_user sa = {0};
    uuid_generate(sa.id);
    memcpy(sa.org_id, f.admin.org_id, UUID_STR);
    sa.email = xstrdup("bot@example.com");
    sa.service_account = 1;
    sa.verified = 1;
    sa.created_at = sa.modified_at = T0;
    CHECK_INT(store_user_insert(f.st, &sa), KH_OK);
    insert_token(&f, bob.user_id, STORE_TOKEN_PAT, "bob's", 0, bobs);
    insert_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "admin's", 0, admins);
    insert_token(&f, sa.id, STORE_TOKEN_SAT, "bot's", 0, sat);
    struct store_ending end = {.at = T0 - 1, .by = f.admin.user_id};
    CHECK_INT(store_token_revoke(f.st, f.admin.org_id, bobs, &end), KH_OK);
    CHECK_INT(store_token_revoke(f.st, f.admin.org_id, admins, &end), KH_OK);
    CHECK_INT(store_token_revoke(f.st, f.admin.org_id, sat, &end), KH_OK);
    CHECK_INT(store_app_key_delete_owned(f.st, bob.user_id, &end), KH_OK);
    /* bob (user_app_keys): his own PAT and application key only */
    struct store_history_query q = {.org_id = f.admin.org_id, .states = BOTH, .now = T0,
                                    .own_kinds = STORE_CRED_BIT(STORE_CRED_APP_KEY) | STORE_CRED_BIT(STORE_CRED_PAT),
                                    .own_id = bob.user_id, .page = {100, 0}};
    CHECK_INT(store_history_list(f.st, &q, &l), KH_OK);
    CHECK_INT(l.total, 2);
    CHECK(find(&l, bobs) && find(&l, bob.app_key_id) && !find(&l, admins) && !find(&l, sat));
    store_history_list_free(&l);
    /* service_account_write: SATs and service accounts' application keys, not bob's key */
    struct store_history_query s = {.org_id = f.admin.org_id, .states = BOTH, .now = T0,
                                    .any_kinds = STORE_CRED_BIT(STORE_CRED_SAT),
                                    .sa_kinds = STORE_CRED_BIT(STORE_CRED_APP_KEY), .page = {100, 0}};
    CHECK_INT(store_history_list(f.st, &s, &l), KH_OK);
    CHECK_INT(l.total, 1);
    CHECK(find(&l, sat) != NULL);
    store_history_list_free(&l);
    /* nothing to see: nothing */
    struct store_history_query n = {.org_id = f.admin.org_id, .states = BOTH, .now = T0, .page = {100, 0}};
    CHECK_INT(store_history_list(f.st, &n, &l), KH_OK);
    CHECK_INT(l.total, 0);
    store_history_list_free(&l);
    /* another org sees none of it */
    struct store_history_query o = {.org_id = "00000000-0000-0000-0000-000000000000", .states = BOTH, .now = T0,
                                    .any_kinds = STORE_CRED_ALL, .page = {100, 0}};
    CHECK_INT(store_history_list(f.st, &o, &l), KH_OK);
    CHECK_INT(l.total, 0);
    store_history_list_free(&l);
    /* the owner-deletion path says why */
    CHECK_INT(list_all(&f, BOTH, 0, &l), KH_OK);
    const struct store_history_row *k = find(&l, bob.app_key_id);
    CHECK(k && k->kind == STORE_CRED_APP_KEY && strcmp(k->ended_by, f.admin.user_id) == 0);
    store_history_list_free(&l);
    store_user_clear(&sa);
    provisioned_wipe(&bob);
    fixture_close(&f);
}

static void retention_hides_then_prune_forgets_and_live_tokens_stay_listed(void)
{
    struct fixture f;
    struct store_history_list l;
    struct store_token_list live;
    char old_rev[UUID_STR], new_rev[UUID_STR], old_exp[UUID_STR], keep[UUID_STR], token[UUID_STR];
    int64_t pruned = -1;
    fixture_open(&f);
    insert_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "old revoked", 0, old_rev);
    insert_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "new revoked", 0, new_rev);
    insert_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "old expired", T0 - 500, old_exp);
    insert_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "kept live", 0, keep);
    insert_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "kept token", T0 + 1000000000, token);
    CHECK_INT(store_token_revoke(f.st, f.admin.org_id, old_rev, &(struct store_ending){.at = T0 - 400}), KH_OK);
    CHECK_INT(store_token_revoke(f.st, f.admin.org_id, new_rev, &(struct store_ending){.at = T0 - 10}), KH_OK);
    CHECK_INT(store_api_key_delete(f.st, f.admin.org_id, f.admin.api_key_id, &(struct store_ending){.at = T0 - 300}),
              KH_OK);
    /* A filtered list before the prune (it builds the org's name copy). */
    struct store_token_query tq = {.org_id = f.admin.org_id, .name_filter = "kept", .now = T0, .page = {100, 0}};
    CHECK_INT(store_token_list(f.st, &tq, &live), KH_OK);
    CHECK_INT(live.total, 2);
    store_token_list_free(&live);
    /* The cutoff of the retention hides what ended before it... */
    CHECK_INT(list_all(&f, BOTH, T0 - 100, &l), KH_OK);
    CHECK_INT(l.total, 1);
    CHECK(find(&l, new_rev) != NULL);
    store_history_list_free(&l);
    /* ...and the prune forgets it, and only it. */
    CHECK_INT(store_history_prune(f.st, T0 - 100, 1000, &pruned), KH_OK);
    CHECK_INT(pruned, 3);
    CHECK_INT(list_all(&f, BOTH, 0, &l), KH_OK);
    CHECK_INT(l.total, 1);
    CHECK(find(&l, new_rev) != NULL);
    store_history_list_free(&l);
    struct store_token got;
    CHECK_INT(store_token_get(f.st, old_rev, &got), KH_ENOTFOUND);
    CHECK_INT(store_token_get(f.st, old_exp, &got), KH_ENOTFOUND);
    CHECK_INT(store_token_get(f.st, keep, &got), KH_OK);
    store_token_clear(&got);
    /* Live tokens are listed as before, filtered (the name copy) or not. */
    CHECK_INT(store_token_list(f.st, &tq, &live), KH_OK);
    CHECK_INT(live.total, 2);
    CHECK_INT(live.n, 2);
    store_token_list_free(&live);
    tq.name_filter = NULL;
    CHECK_INT(store_token_list(f.st, &tq, &live), KH_OK);
    CHECK_INT(live.total, 2);
    store_token_list_free(&live);
    /* A second prune finds nothing more. */
    CHECK_INT(store_history_prune(f.st, T0 - 100, 1000, &pruned), KH_OK);
    CHECK_INT(pruned, 0);
    /* The limit bounds one beat's work. */
    char more[3][UUID_STR];
    for (int i = 0; i < 3; i++) {
        insert_token(&f, f.admin.user_id, STORE_TOKEN_SAT, "bulk", 0, more[i]);
        CHECK_INT(store_token_revoke(f.st, f.admin.org_id, more[i], &(struct store_ending){.at = T0 - 200}), KH_OK);
    }
    CHECK_INT(store_history_prune(f.st, T0 - 100, 2, &pruned), KH_OK);
    CHECK_INT(pruned, 2);
    CHECK_INT(store_history_prune(f.st, T0 - 100, 2, &pruned), KH_OK);
    CHECK_INT(pruned, 1);
    fixture_close(&f);
}

static void paging_and_order(void)
{
    struct fixture f;
    struct store_history_list l;
    char ids[5][UUID_STR];
    fixture_open(&f);
    for (int i = 0; i < 5; i++) {
        insert_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "p", 0, ids[i]);
        CHECK_INT(store_token_revoke(f.st, f.admin.org_id, ids[i], &(struct store_ending){.at = T0 - 100 + i}), KH_OK);
    }
    struct store_history_query q = {.org_id = f.admin.org_id, .states = BOTH, .now = T0,
                                    .any_kinds = STORE_CRED_ALL, .page = {2, 2}};
    CHECK_INT(store_history_list(f.st, &q, &l), KH_OK);
    CHECK_INT(l.total, 5);
    CHECK(l.n == 2 && strcmp(l.items[0].id, ids[2]) == 0 && strcmp(l.items[1].id, ids[1]) == 0);
    store_history_list_free(&l);
    q.asc = 1;
    q.page = (struct store_page){2, 0};
    CHECK_INT(store_history_list(f.st, &q, &l), KH_OK);
    CHECK(l.n == 2 && strcmp(l.items[0].id, ids[0]) == 0 && strcmp(l.items[1].id, ids[1]) == 0);
    store_history_list_free(&l);
    fixture_close(&f);
}

int main(void)
{
    RUN(a_revoked_token_keeps_who_and_why);
    RUN(deleted_keys_leave_a_tombstone_without_their_secret);
    RUN(expired_tokens_are_history_and_live_ones_are_not);
    RUN(each_row_is_seen_only_by_who_may_read_it_live);
    RUN(retention_hides_then_prune_forgets_and_live_tokens_stay_listed);
    RUN(paging_and_order);
    return TEST_SUMMARY();
}
