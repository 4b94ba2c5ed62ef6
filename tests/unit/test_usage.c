/* test_usage.c - the last-used buffer: one entry per credential with its
 * latest time, growth past the first capacity, merging, and pending uses kept
 * when a flush fails. */
#include "test.h"

#include "auth/usage.h"
#include "fixture.h"
#include "store_faulty.h"
#include "util/clock.h"

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
    usage_record(u, STORE_TOUCH_API_KEY, id, 500);
    usage_record(u, STORE_TOUCH_API_KEY, id, 900);
    usage_record(u, STORE_TOUCH_API_KEY, id, 700);
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
        usage_record(a, STORE_TOUCH_TOKEN, id, 10 + i);
    }
    CHECK_INT(usage_pending(a), 1000);
    int missing = 0;
    for (int i = 0; i < 1000; i++) {
        test_id(i, id);
        missing += !usage_has(a, STORE_TOUCH_TOKEN, id);
    }
    CHECK_INT(missing, 0);
    test_id(1000, id);
    CHECK(!usage_has(a, STORE_TOUCH_TOKEN, id));
    CHECK(!usage_has(a, STORE_TOUCH_APP_KEY, "00000000-0000-4000-8000-000000000001"));

    test_id(5, id);
    usage_record(b, STORE_TOUCH_TOKEN, id, 5000); /* later than a's */
    test_id(6, id);
    usage_record(b, STORE_TOUCH_TOKEN, id, 1); /* earlier than a's */
    test_id(2000, id);
    usage_record(b, STORE_TOUCH_TOKEN, id, 7);
    usage_merge(a, b);
    CHECK_INT(usage_pending(a), 1001);
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

int main(void)
{
    RUN(keeps_the_latest_use_per_credential);
    RUN(grows_and_merges_keeping_the_latest);
    return TEST_SUMMARY();
}
