#define _GNU_SOURCE
/* test_store.c - the SQLite store through the store_*() interface: rows
 * round-trip, lookups, list filters/sorting/paging, revocation, constraints,
 * migrations on reopen, and failures injected through the fault hook. */
#include "test.h"

#include "auth/credentials.h"
#include "auth/permissions.h"
#include "fixture.h"
#include "store_faulty.h"
#include "util/clock.h"
#include "util/xmalloc.h"

static void make_token(struct fixture *f, const char *owner, int kind, const char *name, int64_t created,
                       int64_t expires, struct store_token *t)
{
    memset(t, 0, sizeof *t);
    uuid_generate(t->id);
    memcpy(t->org_id, f->admin.org_id, UUID_STR);
    memcpy(t->owner_id, owner, UUID_STR);
    t->kind = kind;
    t->name = xstrdup(name);
    t->scopes = xstrdup("[\"api_keys_read\"]");
    memset(t->secret_hash, 0xab, SECRET_HASH_LEN);
    t->created_at = created;
    t->expires_at = expires;
}

static void provisioned_admin_holds_every_permission(void)
{
    struct fixture f;
    struct store_strlist perms;
    struct store_user u;
    fixture_open(&f);
    CHECK_INT(store_user_permissions(f.st, f.admin.user_id, &perms), KH_OK);
    CHECK_INT(perms.n, perm_count());
    store_strlist_free(&perms);
    CHECK_INT(store_user_get(f.st, f.admin.org_id, f.admin.user_id, &u), KH_OK);
    CHECK_STR(u.email, "admin@example.com");
    store_user_clear(&u);
    CHECK_INT(store_user_get(f.st, "00000000-0000-0000-0000-000000000000", f.admin.user_id, &u), KH_ENOTFOUND);
    fixture_close(&f);
}

static void keys_are_found_by_lookup_hash_only(void)
{
    struct fixture f;
    struct store_api_key k;
    struct store_app_key a;
    uint8_t lookup[SECRET_HASH_LEN];
    fixture_open(&f);
    secret_hmac(secret_current(&f.secret)->lookup_key, f.admin.api_key, 32, lookup);
    CHECK_INT(store_api_key_find(f.st, lookup, &k), KH_OK);
    CHECK_STR(k.last4, f.admin.api_key + 28);
    CHECK(k.key.sealed_len == 32 + SECRET_SEAL_OVERHEAD);
    CHECK(memmem(k.key.sealed, k.key.sealed_len, f.admin.api_key, 32) == NULL);
    store_api_key_clear(&k);
    secret_hmac(secret_current(&f.secret)->lookup_key, f.admin.app_key, 40, lookup);
    CHECK_INT(store_app_key_find(f.st, lookup, &a), KH_OK);
    CHECK_STR(a.owner_id, f.admin.user_id);
    CHECK(a.scopes == NULL);
    store_app_key_clear(&a);
    lookup[0] ^= 1;
    CHECK_INT(store_app_key_find(f.st, lookup, &a), KH_ENOTFOUND);
    fixture_close(&f);
}

static void token_list_sorts_filters_and_pages(void)
{
    struct fixture f;
    struct store_token t;
    struct store_token_list list;
    struct provisioned bob;
    const char *none = NULL;
    const char *perms[] = {"user_app_keys"};
    fixture_open(&f);
    CHECK_INT(provision_user(f.st, &f.secret, f.admin.org_id, "bob@example.com", NULL, perms, 1, &bob, &none, NULL), KH_OK);
    int64_t now = clock_now_us();
    const char *names[] = {"delta", "Alpha", "charlie", "bravo", "echo 100%"};
    for (int i = 0; i < 5; i++) {
        make_token(&f, i < 3 ? f.admin.user_id : bob.user_id, i == 4 ? STORE_TOKEN_SAT : STORE_TOKEN_PAT, names[i],
                   now + i, 0, &t);
        CHECK_INT(store_token_insert(f.st, &t), KH_OK);
        store_token_clear(&t);
    }
    make_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "expired", now, now - 1, &t);
    CHECK_INT(store_token_insert(f.st, &t), KH_OK);
    store_token_clear(&t);

    struct store_token_query q = {.org_id = f.admin.org_id, .now = now, .page = {10, 0}};
    CHECK_INT(store_token_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 5); /* the expired one is left out */
    CHECK_STR(list.items[0].name, "Alpha"); /* case-insensitive name order */
    CHECK_STR(list.items[1].name, "bravo");
    CHECK_STR(list.items[4].name, "echo 100%");
    store_token_list_free(&list);

    q.sort = STORE_SORT_CREATED_AT;
    q.desc = 1;
    q.page.limit = 2;
    q.page.offset = 2;
    CHECK_INT(store_token_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.n, 2);
    CHECK_INT(list.total, 5);
    CHECK_STR(list.items[0].name, "charlie");
    CHECK_STR(list.items[1].name, "Alpha");
    store_token_list_free(&list);

    q.page.limit = 10;
    q.page.offset = 0;
    q.name_filter = "100%";
    CHECK_INT(store_token_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 1);
    store_token_list_free(&list);
    q.name_filter = "%";
    CHECK_INT(store_token_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 1); /* % matches itself, not everything */
    store_token_list_free(&list);

    q.name_filter = NULL;
    q.owner_ids[0] = bob.user_id;
    q.n_owners = 1;
    CHECK_INT(store_token_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 2);
    store_token_list_free(&list);
    q.kind = STORE_TOKEN_SAT;
    CHECK_INT(store_token_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 1);
    CHECK_INT(list.items[0].kind, STORE_TOKEN_SAT);
    store_token_list_free(&list);

    /* the total follows revocations (token_counts is kept by triggers) */
    CHECK_INT(store_token_revoke_owned(f.st, bob.user_id, &(struct store_ending){.at = now}), KH_OK);
    q.kind = 0;
    CHECK_INT(store_token_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 0);
    store_token_list_free(&list);
    q.n_owners = 0;
    CHECK_INT(store_token_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 3);
    CHECK_INT((int64_t)list.n, 3);
    store_token_list_free(&list);
    provisioned_wipe(&bob);
    fixture_close(&f);
}

/* The SQLite backend keeps its 16 most recent list statements by their text.
 * 48 list shapes (sort, direction, kind, filter) run three times, so each
 * statement is evicted and prepared again: the same answers each time, and a
 * new row is seen by every kept statement. */
static void kept_list_statements_answer_as_fresh_ones(void)
{
    enum { SHAPES = 48 };
    static const enum store_sort sorts[] = {STORE_SORT_NAME, STORE_SORT_CREATED_AT, STORE_SORT_EXPIRES_AT,
                                            STORE_SORT_LAST_USED_AT};
    struct fixture f;
    struct store_token t;
    int64_t totals[SHAPES];
    char firsts[SHAPES][UUID_STR];
    fixture_open(&f);
    int64_t now = clock_now_us();
    const char *names[] = {"echo", "delta", "Bravo", "alpha", "charlie"};
    for (int i = 0; i < 5; i++) {
        make_token(&f, f.admin.user_id, i % 2 ? STORE_TOKEN_SAT : STORE_TOKEN_PAT, names[i], now + i,
                   i == 2 ? now + 3600000000 : 0, &t);
        CHECK_INT(store_token_insert(f.st, &t), KH_OK);
        store_token_clear(&t);
    }
    for (int round = 0; round < 3; round++) {
        if (round == 2) { /* a PAT without "e" in its name */
            make_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "zulu", now + 10, 0, &t);
            CHECK_INT(store_token_insert(f.st, &t), KH_OK);
            store_token_clear(&t);
        }
        for (int shape = 0; shape < SHAPES; shape++) {
            int kind = shape / 16, filtered = shape / 8 % 2;
            struct store_token_query q = {.org_id = f.admin.org_id, .now = now, .page = {2, 0}};
            q.sort = sorts[shape % 4];
            q.desc = shape / 4 % 2;
            q.kind = kind;
            q.name_filter = filtered ? "E" : NULL;
            struct store_token_list list;
            CHECK_INT(store_token_list(f.st, &q, &list), KH_OK);
            const char *first = list.n ? list.items[0].id : "";
            if (round == 0) {
                totals[shape] = list.total;
                snprintf(firsts[shape], UUID_STR, "%s", first);
            } else {
                int grows = round == 2 && !filtered && kind != STORE_TOKEN_SAT;
                CHECK_INT(list.total, totals[shape] + grows);
                if (!grows)
                    CHECK_STR(first, firsts[shape]);
            }
            store_token_list_free(&list);
        }
    }
    CHECK_INT(totals[0], 5);            /* every kind, no filter */
    CHECK_INT(totals[8], 3);            /* "e": "echo", "delta", "charlie"... */
    CHECK_INT(totals[16 + 8], 2);       /* ...of which the PATs "echo" and "charlie" */
    fixture_close(&f);
}

static void revoke_is_once_and_org_scoped(void)
{
    struct fixture f;
    struct store_token t, got;
    fixture_open(&f);
    make_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "t", clock_now_us(), 0, &t);
    CHECK_INT(store_token_insert(f.st, &t), KH_OK);
    CHECK_INT(store_token_revoke(f.st, "00000000-0000-0000-0000-000000000000", t.id, &(struct store_ending){.at = 5}), KH_ENOTFOUND);
    CHECK_INT(store_token_revoke(f.st, f.admin.org_id, t.id, &(struct store_ending){.at = 5}), KH_OK);
    CHECK_INT(store_token_revoke(f.st, f.admin.org_id, t.id, &(struct store_ending){.at = 6}), KH_ENOTFOUND);
    CHECK_INT(store_token_get(f.st, t.id, &got), KH_OK);
    CHECK_INT(got.revoked_at, 5);
    store_token_clear(&got);
    CHECK_INT(store_token_insert(f.st, &t), KH_ECONFLICT); /* same id twice */
    store_token_clear(&t);
    fixture_close(&f);
}

static void api_key_list_applies_every_filter(void)
{
    struct fixture f;
    struct store_api_key_list list;
    fixture_open(&f);
    int64_t base = 1700000000000000LL;
    for (int i = 0; i < 4; i++) {
        struct store_api_key k = {0};
        char value[33];
        uuid_generate(k.id);
        memcpy(k.org_id, f.admin.org_id, UUID_STR);
        k.name = xasprintf("key %d", i);
        k.category = xstrdup(i % 2 ? "ci" : "default");
        k.remote_config_read_enabled = i % 2;
        memcpy(k.created_by, f.admin.user_id, UUID_STR);
        k.created_at = base + i * 1000000;
        k.modified_at = base + i * 2000000;
        CHECK_INT(cred_api_key_create(f.st, &f.secret, &k, value), KH_OK);
        store_api_key_clear(&k);
    }
    struct store_api_key_query q = {.org_id = f.admin.org_id, .remote_config = -1, .page = {10, 0}};
    CHECK_INT(store_api_key_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 5); /* with the bootstrap key */
    store_api_key_list_free(&list);
    q.created = (struct store_time_range){base + 1000000, base + 2000000, 1, 1}; /* inclusive on both ends */
    CHECK_INT(store_api_key_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 2);
    store_api_key_list_free(&list);
    q.created = (struct store_time_range){.end = 0, .has_end = 1}; /* the epoch is a bound: nothing before it */
    CHECK_INT(store_api_key_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 0);
    store_api_key_list_free(&list);
    q.created = (struct store_time_range){0};
    q.modified = (struct store_time_range){.end = base + 2000000, .has_end = 1};
    CHECK_INT(store_api_key_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 2);
    store_api_key_list_free(&list);
    q.modified = (struct store_time_range){0};
    q.category = "ci";
    q.remote_config = 1;
    CHECK_INT(store_api_key_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 2);
    store_api_key_list_free(&list);
    q.category = NULL;
    q.remote_config = -1;
    q.name_filter = "KEY 3";
    CHECK_INT(store_api_key_list(f.st, &q, &list), KH_OK);
    CHECK_INT(list.total, 1);
    CHECK_STR(list.items[0].name, "key 3");
    store_api_key_list_free(&list);
    fixture_close(&f);
}

static void reopen_keeps_rows_and_schema(void)
{
    struct fixture f;
    int64_t orgs = 0;
    char *err = NULL;
    fixture_open(&f);
    store_close(f.st);
    CHECK_INT(store_open(f.dsn, &f.st, &err), KH_OK);
    CHECK_INT(store_org_count(f.st, &orgs), KH_OK);
    CHECK_INT(orgs, 1);
    fixture_close(&f);
}

static void injected_failure_rolls_back_provisioning(void)
{
    struct fixture f;
    struct provisioned p;
    int64_t orgs = 0;
    fixture_open(&f);
    /* Fail each step of provisioning in turn: nothing partial may remain. */
    for (int n = 2; n < 12; n++) {
        faulty_fail_after(n, KH_ESTORE);
        int rc = provision_org(f.st, &f.secret, &(struct org_spec){.name = "second", .admin_email = "x@example.com"}, &p);
        int calls = faulty_calls();
        faulty_off();
        if (calls < n)
            break; /* provisioning finished before the fault: done */
        CHECK_INT(rc, KH_ESTORE);
        CHECK_INT(store_org_count(f.st, &orgs), KH_OK);
        CHECK_INT(orgs, 1);
    }
    CHECK_INT(provision_org(f.st, &f.secret, &(struct org_spec){.name = "second", .admin_email = "x@example.com"}, &p), KH_OK);
    CHECK_INT(store_org_count(f.st, &orgs), KH_OK);
    CHECK_INT(orgs, 2);
    fixture_close(&f);
}

static void touch_only_moves_forward(void)
{
    struct fixture f;
    struct store_token t, got;
    fixture_open(&f);
    make_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "t", clock_now_us(), 0, &t);
    CHECK_INT(store_token_insert(f.st, &t), KH_OK);
    struct store_touch batch[2] = {{.kind = STORE_TOUCH_TOKEN, .when = 2000}, {.kind = STORE_TOUCH_TOKEN, .when = 1000}};
    unsigned char first[2] = {9, 9};
    memcpy(batch[0].id, t.id, UUID_STR);
    memcpy(batch[1].id, t.id, UUID_STR);
    CHECK_INT(store_touch(f.st, batch, 2, first), KH_OK);
    CHECK_INT(first[0], 1); /* the token had never been used */
    CHECK_INT(first[1], 0);
    CHECK_INT(store_token_get(f.st, t.id, &got), KH_OK);
    CHECK_INT(got.last_used_at, 2000); /* the older use did not move it back */
    store_token_clear(&got);
    batch[0].when = 3000;
    CHECK_INT(store_touch(f.st, batch, 1, first), KH_OK);
    CHECK_INT(first[0], 0); /* a later use is not a first one */
    CHECK_INT(store_token_get(f.st, t.id, &got), KH_OK);
    CHECK_INT(got.last_used_at, 3000);
    store_token_clear(&got);
    store_token_clear(&t);
    fixture_close(&f);
}

static void owned_credentials_go_with_their_owner(void)
{
    struct fixture f;
    struct provisioned bob;
    const char *none = NULL, *perms[] = {"user_app_keys"};
    struct store_token t, got;
    struct store_app_key_list keys;
    fixture_open(&f);
    CHECK_INT(provision_user(f.st, &f.secret, f.admin.org_id, "bob@example.com", NULL, perms, 1, &bob, &none, NULL), KH_OK);
    make_token(&f, bob.user_id, STORE_TOKEN_PAT, "bob's", clock_now_us(), 0, &t);
    CHECK_INT(store_token_insert(f.st, &t), KH_OK);
    CHECK_INT(store_app_key_delete_owned(f.st, bob.user_id, &(struct store_ending){.at = 1}), KH_OK);
    CHECK_INT(store_token_revoke_owned(f.st, bob.user_id, &(struct store_ending){.at = 77}), KH_OK);
    CHECK_INT(store_token_get(f.st, t.id, &got), KH_OK);
    CHECK_INT(got.revoked_at, 77);
    store_token_clear(&got);
    struct store_app_key_query q = {.org_id = f.admin.org_id, .page = {100, 0}};
    CHECK_INT(store_app_key_list(f.st, &q, &keys), KH_OK);
    CHECK_INT(keys.total, 1); /* only the admin's key is left */
    CHECK_STR(keys.items[0].owner_id, f.admin.user_id);
    store_app_key_list_free(&keys);
    store_token_clear(&t);
    provisioned_wipe(&bob);
    fixture_close(&f);
}

static void roles_count_users_and_cascade_on_delete(void)
{
    struct fixture f;
    struct store_role_list roles;
    struct store_user_list users;
    struct store_strlist perms;
    fixture_open(&f);
    struct store_role_query q = {.org_id = f.admin.org_id, .sort = STORE_SORT_USER_COUNT, .desc = 1, .page = {10, 0}};
    CHECK_INT(store_role_list(f.st, &q, &roles), KH_OK);
    CHECK_INT(roles.n, 3); /* Datadog's managed roles; the admin holds the Admin role */
    CHECK_INT(roles.items[0].user_count, 1);
    CHECK_STR(roles.items[0].name, "Datadog Admin Role");
    CHECK_INT(roles.items[0].managed, 1);
    CHECK_INT(roles.items[1].user_count, 0);
    char role_id[UUID_STR];
    memcpy(role_id, roles.items[0].id, UUID_STR);
    store_role_list_free(&roles);
    struct store_user_query uq = {.org_id = f.admin.org_id, .role_id = role_id, .page = {10, 0}};
    CHECK_INT(store_user_list(f.st, &uq, &users), KH_OK);
    CHECK_INT(users.total, 1);
    store_user_list_free(&users);
    CHECK_INT(store_role_delete(f.st, f.admin.org_id, role_id), KH_OK);
    CHECK_INT(store_role_delete(f.st, f.admin.org_id, role_id), KH_ENOTFOUND);
    CHECK_INT(store_user_permissions(f.st, f.admin.user_id, &perms), KH_OK);
    CHECK_INT(perms.n, 0); /* grants and membership went with the role */
    store_strlist_free(&perms);
    uq.status_mask = STORE_STATUS_DISABLED;
    uq.role_id = NULL;
    CHECK_INT(store_user_list(f.st, &uq, &users), KH_OK);
    CHECK_INT(users.total, 0);
    CHECK_INT(users.total_unfiltered, 1);
    store_user_list_free(&users);
    fixture_close(&f);
}

static void invitations_round_trip_within_their_org(void)
{
    struct fixture f;
    struct store_invitation inv = {0}, got;
    fixture_open(&f);
    uuid_generate(inv.id);
    memcpy(inv.org_id, f.admin.org_id, UUID_STR);
    memcpy(inv.user_id, f.admin.user_id, UUID_STR);
    snprintf(inv.invite_type, sizeof inv.invite_type, "openid_invite");
    inv.created_at = 10;
    inv.expires_at = 20;
    CHECK_INT(store_invitation_insert(f.st, &inv), KH_OK);
    CHECK_INT(store_invitation_insert(f.st, &inv), KH_ECONFLICT);
    CHECK_INT(store_invitation_get(f.st, f.admin.org_id, inv.id, &got), KH_OK);
    CHECK_STR(got.user_id, f.admin.user_id);
    CHECK_STR(got.invite_type, "openid_invite");
    CHECK(got.login_method == NULL);
    CHECK_INT(got.expires_at, 20);
    store_invitation_clear(&got);
    CHECK_INT(store_invitation_get(f.st, "00000000-0000-0000-0000-000000000000", inv.id, &got), KH_ENOTFOUND);
    CHECK(got.login_method == NULL);
    fixture_close(&f);
}

static void users_are_pending_until_verified(void)
{
    struct fixture f;
    struct store_user u = {0};
    struct store_user_list l;
    fixture_open(&f);
    uuid_generate(u.id);
    memcpy(u.org_id, f.admin.org_id, UUID_STR);
    u.email = xstrdup("new@example.com");
    u.created_at = u.modified_at = 1;
    CHECK_INT(store_user_insert(f.st, &u), KH_OK);
    struct store_user_query q = {.org_id = f.admin.org_id, .status_mask = STORE_STATUS_PENDING, .page = {10, 0}};
    CHECK_INT(store_user_list(f.st, &q, &l), KH_OK);
    CHECK_INT(l.total, 1);
    if (l.n == 1) {
        CHECK_STR(l.items[0].id, u.id);
        CHECK_INT(l.items[0].verified, 0);
    }
    store_user_list_free(&l);
    q.status_mask = STORE_STATUS_ACTIVE;
    CHECK_INT(store_user_list(f.st, &q, &l), KH_OK);
    CHECK_INT(l.total, 1); /* the admin, verified by init */
    store_user_list_free(&l);
    q.status_mask = STORE_STATUS_ACTIVE | STORE_STATUS_PENDING;
    q.sort = STORE_SORT_STATUS;
    q.desc = 1;
    CHECK_INT(store_user_list(f.st, &q, &l), KH_OK);
    CHECK_INT(l.total, 2);
    if (l.n == 2)
        CHECK_STR(l.items[0].id, u.id); /* "Pending" after "Active" */
    store_user_list_free(&l);
    store_user_clear(&u);
    fixture_close(&f);
}

static void roles_are_found_by_exact_name_and_orgs_listed_oldest_first(void)
{
    struct fixture f;
    struct provisioned two;
    struct store_role_list l;
    struct store_strlist orgs;
    fixture_open(&f);
    struct store_role_query q = {.org_id = f.admin.org_id, .name = "Datadog Admin", .page = {10, 0}};
    CHECK_INT(store_role_list(f.st, &q, &l), KH_OK);
    CHECK_INT(l.n, 0); /* exact, not a substring */
    store_role_list_free(&l);
    q.name = "Datadog Admin Role";
    CHECK_INT(store_role_list(f.st, &q, &l), KH_OK);
    CHECK_INT(l.n, 1);
    store_role_list_free(&l);
    CHECK_INT(provision_org(f.st, &f.secret, &(struct org_spec){.name = "two", .admin_email = "t@two.example"}, &two),
              KH_OK);
    CHECK_INT(store_org_ids(f.st, &orgs), KH_OK);
    CHECK_INT(orgs.n, 2);
    if (orgs.n == 2) {
        CHECK_STR(orgs.items[0], f.admin.org_id);
        CHECK_STR(orgs.items[1], two.org_id);
    }
    store_strlist_free(&orgs);
    provisioned_wipe(&two);
    fixture_close(&f);
}

static void a_memory_store_is_shared_by_the_handles_of_the_process(void)
{
    char dsn[64], *err = NULL;
    struct store *a = NULL, *b = NULL, *other = NULL;
    struct store_stamp stamp;
    char *v = NULL;
    store_memory_dsn(dsn, sizeof dsn);
    CHECK_INT(store_open(dsn, &a, &err), KH_OK);
    CHECK_INT(store_open(dsn, &b, &err), KH_OK);
    CHECK_INT(store_meta_set(a, "k", "v"), KH_OK);
    CHECK_INT(store_meta_get(b, "k", &v), KH_OK);
    CHECK_STR(v, "v");
    free(v);
    CHECK_INT(store_change_stamp(a, &stamp), KH_ENOTSUP); /* nothing may be cached over it */
    char dsn2[64];
    store_memory_dsn(dsn2, sizeof dsn2);
    CHECK(strcmp(dsn, dsn2) != 0);
    CHECK_INT(store_open(dsn2, &other, &err), KH_OK);
    CHECK_INT(store_meta_get(other, "k", &v), KH_ENOTFOUND);
    store_close(other);
    store_close(a);
    store_close(b);
    /* gone with the last handle */
    CHECK_INT(store_open(dsn, &a, &err), KH_OK);
    CHECK_INT(store_meta_get(a, "k", &v), KH_ENOTFOUND);
    store_close(a);
}

/* An org's name and a user's email in an org are taken once, ASCII case
 * aside (issue 11); another org may use the same email. */
static void names_and_emails_are_unique(void)
{
    struct fixture f;
    struct provisioned p;
    const char *none = NULL, *perms[] = {"user_app_keys"};
    fixture_open(&f);
    CHECK_INT(provision_org(f.st, &f.secret, &(struct org_spec){.name = "TEST ORG", .admin_email = "x@example.com"}, &p),
              KH_ECONFLICT);
    CHECK_INT(provision_user(f.st, &f.secret, f.admin.org_id, "admin@EXAMPLE.com", NULL, perms, 1, &p, &none, NULL),
              KH_ECONFLICT);
    struct provisioned two, bob;
    CHECK_INT(provision_org(f.st, &f.secret, &(struct org_spec){.name = "second", .admin_email = "admin@example.com"}, &two),
              KH_OK);
    CHECK_INT(provision_user(f.st, &f.secret, f.admin.org_id, "bob@example.com", NULL, perms, 1, &bob, &none, NULL), KH_OK);
    struct store_user u;
    CHECK_INT(store_user_get(f.st, f.admin.org_id, bob.user_id, &u), KH_OK);
    free(u.email);
    u.email = strdup("ADMIN@example.com");
    CHECK_INT(store_user_update(f.st, &u), KH_ECONFLICT);
    free(u.email);
    u.email = strdup("Bob@Example.com"); /* its own email, in another case */
    CHECK_INT(store_user_update(f.st, &u), KH_OK);
    store_user_clear(&u);
    fixture_close(&f);
}

/* store_copy_to copies every row as stored (sealed blobs byte for byte,
 * NULLs as NULLs) into an empty store, whose counts then match. */
static void copy_to_an_empty_store_keeps_every_row(void)
{
    struct fixture f, g;
    char *a = NULL, *b = NULL, *err = NULL;
    struct store_api_key_list keys;
    fixture_open(&f);
    fixture_new_store(&g);
    CHECK_INT(store_open(g.dsn, &g.st, &err), KH_OK);
    CHECK_INT(store_copy_to(f.st, g.st), KH_OK);
    CHECK_INT(store_counts(f.st, &a), KH_OK);
    CHECK_INT(store_counts(g.st, &b), KH_OK);
    CHECK_STR(b, a);
    CHECK(a && strstr(a, "orgs 1, "));
    struct store_api_key_query q = {.org_id = f.admin.org_id, .remote_config = -1, .page = {10, 0}};
    CHECK_INT(store_api_key_list(f.st, &q, &keys), KH_OK);
    struct store_api_key copy;
    CHECK_INT(store_api_key_find(g.st, keys.items[0].key.lookup, &copy), KH_OK);
    CHECK_INT(copy.key.sealed_len, keys.items[0].key.sealed_len);
    CHECK(copy.key.sealed_len && memcmp(copy.key.sealed, keys.items[0].key.sealed, copy.key.sealed_len) == 0);
    CHECK_INT(copy.last_used_at, 0); /* NULL stays NULL */
    store_api_key_clear(&copy);
    store_api_key_list_free(&keys);
    free(a);
    free(b);
    fixture_close(&g);
    fixture_close(&f);
}

/* A rotated key is found by its new value, and by its previous one (marked
 * so) only while the overlap is open: until its end, or until a touch of
 * the new value closes it; never when the caller asks for current values
 * only (now 0). A second rotation within the overlap is refused. */
static void rotated_keys_answer_to_both_values_until_the_overlap_closes(void)
{
    struct fixture f;
    struct store_api_key k, again;
    struct store_app_key a;
    char api[API_KEY_VALUE_LEN + 1], app[APP_KEY_VALUE_LEN + 1];
    int64_t now = clock_now_us(), minute = 60 * 1000000LL;
    fixture_open(&f);
    CHECK_INT(cred_find_api_key(f.st, &f.secret, f.admin.api_key, 32, now, &k), KH_OK);
    CHECK_INT(k.overlap.found_by_previous, 0);
    CHECK_INT(cred_api_key_rotate(f.st, &f.secret, &k, f.admin.user_id, now + minute, now, api), KH_OK);
    CHECK(strcmp(api, f.admin.api_key) != 0);
    CHECK_INT(cred_find_api_key(f.st, &f.secret, api, 32, now, &again), KH_OK);
    CHECK_STR(again.id, k.id);
    CHECK_INT(again.overlap.found_by_previous, 0);
    CHECK(again.overlap.prev_valid_until == now + minute && again.overlap.rotated_at == now);
    CHECK_STR(again.last4, api + 28);
    store_api_key_clear(&again);
    CHECK_INT(cred_find_api_key(f.st, &f.secret, f.admin.api_key, 32, now, &again), KH_OK);
    CHECK_STR(again.id, k.id);
    CHECK_INT(again.overlap.found_by_previous, 1);
    store_api_key_clear(&again);
    CHECK_INT(cred_find_api_key(f.st, &f.secret, f.admin.api_key, 32, 0, &again), KH_ENOTFOUND);
    CHECK_INT(cred_find_api_key(f.st, &f.secret, f.admin.api_key, 32, now + minute, &again), KH_ENOTFOUND);
    CHECK_INT(cred_api_key_rotate(f.st, &f.secret, &k, f.admin.user_id, now + minute, now + 1, api), KH_ECONFLICT);
    struct store_touch use = {.kind = STORE_TOUCH_API_KEY, .when = now + 2, .close_overlap = 1};
    memcpy(use.id, k.id, UUID_STR);
    memcpy(use.org_id, k.org_id, UUID_STR);
    CHECK_INT(store_touch(f.st, &use, 1, NULL), KH_OK);
    CHECK_INT(cred_find_api_key(f.st, &f.secret, f.admin.api_key, 32, now + 3, &again), KH_ENOTFOUND);
    CHECK_INT(cred_api_key_rotate(f.st, &f.secret, &k, f.admin.user_id, now + 3, now + 3, api), KH_OK);
    store_api_key_clear(&k);

    CHECK_INT(cred_find_app_key(f.st, &f.secret, f.admin.app_key, 40, now, &a), KH_OK);
    CHECK_INT(cred_app_key_rotate(f.st, &f.secret, &a, now + minute, now, app), KH_OK);
    store_app_key_clear(&a);
    CHECK_INT(cred_find_app_key(f.st, &f.secret, f.admin.app_key, 40, now, &a), KH_OK);
    CHECK_INT(a.overlap.found_by_previous, 1);
    store_app_key_clear(&a);
    CHECK_INT(cred_find_app_key(f.st, &f.secret, app, 40, now, &a), KH_OK);
    CHECK_INT(a.overlap.found_by_previous, 0);
    CHECK_STR(a.owner_id, f.admin.user_id);
    memcpy(a.id, "00000000-0000-4000-8000-000000000000", UUID_STR);
    CHECK_INT(cred_app_key_rotate(f.st, &f.secret, &a, now + minute, now, app), KH_ENOTFOUND);
    store_app_key_clear(&a);
    fixture_close(&f);
}

/* What a meta key holds now ("" when absent), for the nesting test. */
static void check_meta(struct store *st, const char *key, const char *want)
{
    char *v = NULL;
    int rc = store_meta_get(st, key, &v);
    CHECK_STR(rc == KH_OK && v ? v : "", want);
    free(v);
}

/* A request whose statement failed cannot pass for committed in the
 * writer's batch: on PostgreSQL (where a failed statement aborts the
 * transaction) its commit fails and its caller rolls back to its savepoint,
 * keeping the requests before it; on SQLite the transaction goes on. Either
 * way the batch commits, what an earlier request wrote stays, and the
 * failed request's own write is there exactly when its commit said so. */
static void a_failed_statement_in_a_batch_fails_only_its_request(void)
{
    struct fixture f;
    fixture_open(&f);
    struct store_org o = {.id = "11111111-2222-4333-8444-555555555555", .name = "poison-1", .created_at = 1};
    CHECK_INT(store_org_insert(f.st, &o), KH_OK);
    CHECK_INT(store_begin(f.st), KH_OK); /* the batch */
    CHECK_INT(store_begin(f.st), KH_OK); /* an earlier request */
    CHECK_INT(store_meta_set(f.st, "poison.z", "kept"), KH_OK);
    CHECK_INT(store_commit(f.st), KH_OK);
    CHECK_INT(store_begin(f.st), KH_OK); /* a request whose handler ignores a failed statement */
    CHECK_INT(store_meta_set(f.st, "poison.a", "kept"), KH_OK);
    o.name = "poison-2";
    CHECK(store_org_insert(f.st, &o) != KH_OK); /* the id is taken */
    int committed = store_commit(f.st);
    if (committed != KH_OK)
        CHECK_INT(store_rollback(f.st), KH_OK);
    CHECK_INT(store_begin(f.st), KH_OK); /* a later request */
    CHECK_INT(store_meta_set(f.st, "poison.b", "kept"), KH_OK);
    CHECK_INT(store_commit(f.st), KH_OK);
    CHECK_INT(store_commit(f.st), KH_OK); /* the batch */
    check_meta(f.st, "poison.z", "kept");
    check_meta(f.st, "poison.a", committed == KH_OK ? "kept" : "");
    check_meta(f.st, "poison.b", "kept");
    fixture_close(&f);
}

/* Nested transactions are savepoints, and a committed one is released only
 * lazily (sql.c): what a committed inner one wrote stays, a rolled-back one
 * after it goes alone, whatever the depth, and the outer commit keeps the
 * rest. The writer's batch is this shape (a savepoint per request). */
static void nested_transactions_keep_committed_and_drop_rolled_back(void)
{
    struct fixture f;
    fixture_open(&f);
    CHECK_INT(store_begin(f.st), KH_OK);
    for (int i = 0; i < 3; i++) { /* three requests of one batch: the second fails */
        char key[16];
        snprintf(key, sizeof key, "nest.%d", i);
        CHECK_INT(store_begin(f.st), KH_OK);
        CHECK_INT(store_meta_set(f.st, key, "kept"), KH_OK);
        CHECK_INT(i == 1 ? store_rollback(f.st) : store_commit(f.st), KH_OK);
    }
    CHECK_INT(store_begin(f.st), KH_OK); /* two levels deep: inner committed, outer rolled back */
    CHECK_INT(store_begin(f.st), KH_OK);
    CHECK_INT(store_meta_set(f.st, "nest.deep", "kept"), KH_OK);
    CHECK_INT(store_commit(f.st), KH_OK);
    CHECK_INT(store_rollback(f.st), KH_OK);
    CHECK_INT(store_begin(f.st), KH_OK); /* two levels deep, both committed */
    CHECK_INT(store_begin(f.st), KH_OK);
    CHECK_INT(store_meta_set(f.st, "nest.both", "kept"), KH_OK);
    CHECK_INT(store_commit(f.st), KH_OK);
    CHECK_INT(store_commit(f.st), KH_OK);
    CHECK_INT(store_commit(f.st), KH_OK);
    check_meta(f.st, "nest.0", "kept");
    check_meta(f.st, "nest.1", "");
    check_meta(f.st, "nest.2", "kept");
    check_meta(f.st, "nest.deep", "");
    check_meta(f.st, "nest.both", "kept");
    CHECK_INT(store_begin(f.st), KH_OK); /* and a later transaction starts clean */
    CHECK_INT(store_meta_set(f.st, "nest.after", "kept"), KH_OK);
    CHECK_INT(store_commit(f.st), KH_OK);
    check_meta(f.st, "nest.after", "kept");
    fixture_close(&f);
}

int main(void)
{
    RUN(copy_to_an_empty_store_keeps_every_row);
    RUN(nested_transactions_keep_committed_and_drop_rolled_back);
    RUN(a_failed_statement_in_a_batch_fails_only_its_request);
    RUN(names_and_emails_are_unique);
    RUN(provisioned_admin_holds_every_permission);
    RUN(keys_are_found_by_lookup_hash_only);
    RUN(rotated_keys_answer_to_both_values_until_the_overlap_closes);
    RUN(token_list_sorts_filters_and_pages);
    RUN(kept_list_statements_answer_as_fresh_ones);
    RUN(revoke_is_once_and_org_scoped);
    RUN(api_key_list_applies_every_filter);
    RUN(reopen_keeps_rows_and_schema);
    RUN(injected_failure_rolls_back_provisioning);
    RUN(touch_only_moves_forward);
    RUN(owned_credentials_go_with_their_owner);
    RUN(roles_count_users_and_cascade_on_delete);
    RUN(invitations_round_trip_within_their_org);
    RUN(users_are_pending_until_verified);
    RUN(roles_are_found_by_exact_name_and_orgs_listed_oldest_first);
    RUN(a_memory_store_is_shared_by_the_handles_of_the_process);
    return TEST_SUMMARY();
}
