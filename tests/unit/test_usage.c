/* test_usage.c - the last-used buffer: one entry per credential with its
 * latest time, growth past the first capacity, merging, pending uses kept
 * when a flush fails, and the audit events of reads: one first_use per
 * credential however many buffers saw it, queued events deduplicated, every
 * field filled. */
#include "test.h"

#include "auth/usage.h"
#include "fixture.h"
#include "store_faulty.h"
#include "util/clock.h"

static void use(struct usage_buffer *u, int kind, const char *id, int64_t when)
{
    struct store_touch t = {.kind = kind, .when = when};
    snprintf(t.id, sizeof t.id, "%s", id);
    snprintf(t.org_id, sizeof t.org_id, "00000000-0000-4000-8000-0000000000aa");
    snprintf(t.actor_id, sizeof t.actor_id, "00000000-0000-4000-8000-0000000000bb");
    snprintf(t.source, sizeof t.source, "127.0.0.9");
    snprintf(t.target_kind, sizeof t.target_kind, "application_key");
    usage_record(u, &t, NULL);
}

static void keeps_the_latest_use_per_credential(void)
{
    struct fixture f;
    struct store_api_key_list list;
    fixture_open(&f);
    struct store_api_key_query q = {.org_id = f.admin.org_id, .remote_config = -1, .page = {10, 0}};
    CHECK_INT(store_api_key_list(f.st, &q, &list), KH_OK);
    char id[UUID_STR];
    memcpy(id, list.items[0].id, UUID_STR);
    store_api_key_list_free(&list);

    struct usage_buffer *u = usage_new(64);
    use(u, STORE_TOUCH_API_KEY, id, 500);
    use(u, STORE_TOUCH_API_KEY, id, 900);
    use(u, STORE_TOUCH_API_KEY, id, 700);
    CHECK_INT(usage_pending(u), 1);

    faulty_fail_after(1, KH_EBUSY);
    CHECK_INT(usage_flush(u, f.st), KH_EBUSY);
    faulty_off();
    CHECK_INT(usage_pending(u), 1); /* kept for the next flush */
    CHECK_INT(usage_flush(u, f.st), KH_OK);
    CHECK_INT(usage_pending(u), 0);

    struct store_api_key k;
    CHECK_INT(store_api_key_get(f.st, f.admin.org_id, id, &k), KH_OK);
    CHECK_INT(k.last_used_at, 900);
    store_api_key_clear(&k);
    usage_free(u);
    fixture_close(&f);
}

static void test_id(int i, char id[UUID_STR])
{
    snprintf(id, UUID_STR, "00000000-0000-4000-8000-%012d", i);
}

/* Far past its first capacity every use is still there, and merging two
 * buffers keeps the latest time of a credential both hold. */
static void grows_and_merges_keeping_the_latest(void)
{
    struct usage_buffer *a = usage_new(64), *b = usage_new(64);
    char id[UUID_STR];
    for (int i = 0; i < 1000; i++) {
        test_id(i, id);
        use(a, STORE_TOUCH_TOKEN, id, 10 + i);
    }
    CHECK_INT(usage_pending(a), 1000);
    for (int i = 0; i < 1000; i++) { /* each is found again: no second entry */
        test_id(i, id);
        use(a, STORE_TOUCH_TOKEN, id, 5);
    }
    CHECK_INT(usage_pending(a), 1000);
    use(a, STORE_TOUCH_APP_KEY, "00000000-0000-4000-8000-000000000001", 5); /* another kind: another entry */
    CHECK_INT(usage_pending(a), 1001);

    test_id(5, id);
    use(b, STORE_TOUCH_TOKEN, id, 5000); /* later than a's */
    test_id(6, id);
    use(b, STORE_TOUCH_TOKEN, id, 1); /* earlier than a's */
    test_id(2000, id);
    use(b, STORE_TOUCH_TOKEN, id, 7);
    usage_merge(a, b);
    CHECK_INT(usage_pending(a), 1002);
    usage_free(b);

    /* the merged times reach the store: the latest per credential */
    struct fixture f;
    fixture_open(&f);
    struct store_token t = {0};
    test_id(5, t.id);
    memcpy(t.org_id, f.admin.org_id, UUID_STR);
    memcpy(t.owner_id, f.admin.user_id, UUID_STR);
    t.kind = STORE_TOKEN_PAT;
    t.name = "merged";
    t.scopes = "[]";
    t.created_at = t.modified_at = 1;
    CHECK_INT(store_token_insert(f.st, &t), KH_OK);
    test_id(6, t.id);
    CHECK_INT(store_token_insert(f.st, &t), KH_OK);
    CHECK_INT(usage_flush(a, f.st), KH_OK);
    CHECK_INT(usage_pending(a), 0);
    struct store_token got;
    test_id(5, id);
    CHECK_INT(store_token_get(f.st, id, &got), KH_OK);
    CHECK_INT(got.last_used_at, 5000);
    store_token_clear(&got);
    test_id(6, id);
    CHECK_INT(store_token_get(f.st, id, &got), KH_OK);
    CHECK_INT(got.last_used_at, 16);
    store_token_clear(&got);
    usage_free(a);
    fixture_close(&f);
}

static int count_events(struct store *st, const char *action, struct store_audit *last)
{
    struct store_audit_list list;
    int n = 0;
    CHECK_INT(store_audit_list(st, 0, 1000, &list), KH_OK);
    for (size_t i = 0; i < list.n; i++)
        if (strcmp(list.items[i].action, action) == 0) {
            n++;
            *last = list.items[i];
        }
    store_audit_list_free(&list);
    return n;
}

/* Two event loops that both saw a credential's first use (each buffer holds
 * it as new) write one first_use event between them: the store tells which
 * write was the first, with who and from where filled in. */
static void one_first_use_event_per_credential(void)
{
    struct fixture f;
    struct store_app_key_list keys;
    struct store_audit e;
    fixture_open(&f);
    struct store_app_key_query q = {.org_id = f.admin.org_id, .page = {10, 0}};
    CHECK_INT(store_app_key_list(f.st, &q, &keys), KH_OK);
    char id[UUID_STR];
    memcpy(id, keys.items[0].id, UUID_STR);
    store_app_key_list_free(&keys);
    int before = count_events(f.st, "first_use", &e);

    struct usage_buffer *loop1 = usage_new(64), *loop2 = usage_new(64);
    use(loop1, STORE_TOUCH_APP_KEY, id, 100);
    use(loop2, STORE_TOUCH_APP_KEY, id, 200);
    CHECK_INT(usage_flush(loop1, f.st), KH_OK);
    CHECK_INT(usage_flush(loop2, f.st), KH_OK);
    CHECK_INT(count_events(f.st, "first_use", &e) - before, 1);
    CHECK_STR(e.target_id, id);
    CHECK_STR(e.target_kind, "application_key");
    CHECK_STR(e.org_id, "00000000-0000-4000-8000-0000000000aa");
    CHECK_STR(e.actor_id, "00000000-0000-4000-8000-0000000000bb");
    CHECK_STR(e.source, "127.0.0.9");
    CHECK_INT(e.at, 100);
    usage_free(loop1);
    usage_free(loop2);
    fixture_close(&f);
}

/* A flood of one event is one event per flush; different targets are each
 * kept; a failed flush keeps them. */
static void queued_events_are_deduplicated_and_kept(void)
{
    struct fixture f;
    struct store_audit e = {.at = 1}, got;
    fixture_open(&f);
    int before = count_events(f.st, "expired_use", &got);
    struct usage_buffer *u = usage_new(64);
    snprintf(e.org_id, sizeof e.org_id, "%s", f.admin.org_id);
    snprintf(e.actor_id, sizeof e.actor_id, "%s", f.admin.user_id);
    snprintf(e.action, sizeof e.action, "expired_use");
    snprintf(e.target_kind, sizeof e.target_kind, "access_token");
    snprintf(e.source, sizeof e.source, "127.0.0.1");
    for (int i = 0; i < 1000; i++) {
        test_id(i % 3, e.target_id);
        usage_record_event(u, &e);
    }
    CHECK_INT(usage_pending(u), 3);
    faulty_fail_after(1, KH_EBUSY);
    CHECK(usage_flush(u, f.st) != KH_OK);
    faulty_off();
    CHECK_INT(usage_pending(u), 3);
    CHECK_INT(usage_flush(u, f.st), KH_OK);
    CHECK_INT(usage_pending(u), 0);
    CHECK_INT(count_events(f.st, "expired_use", &got) - before, 3);
    usage_free(u);
    fixture_close(&f);
}

int main(void)
{
    RUN(keeps_the_latest_use_per_credential);
    RUN(grows_and_merges_keeping_the_latest);
    RUN(one_first_use_event_per_credential);
    RUN(queued_events_are_deduplicated_and_kept);
    return TEST_SUMMARY();
}
