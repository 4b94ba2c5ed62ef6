/* test_usage.c - the last-used buffer: one entry per credential with its
 * latest time, a full signal, and pending uses kept when a flush fails. */
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
    CHECK_INT(usage_record(u, STORE_TOUCH_API_KEY, id, 500), 0);
    CHECK_INT(usage_record(u, STORE_TOUCH_API_KEY, id, 900), 0);
    CHECK_INT(usage_record(u, STORE_TOUCH_API_KEY, id, 700), 0);
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

static void signals_full_at_half_capacity(void)
{
    struct usage_buffer *u = usage_new(64);
    int full_at = -1;
    for (int i = 0; i < 64 && full_at < 0; i++) {
        char id[UUID_STR];
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
        if (usage_record(u, STORE_TOUCH_TOKEN, id, i))
            full_at = i + 1;
    }
    CHECK_INT(full_at, 32);
    usage_free(u);
}

int main(void)
{
    RUN(keeps_the_latest_use_per_credential);
    RUN(signals_full_at_half_capacity);
    return TEST_SUMMARY();
}
