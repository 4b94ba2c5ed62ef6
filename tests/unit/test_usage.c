/* test_usage.c - the last-used buffer: one entry per credential with its
 * latest time, growth past the first capacity, merging, pending uses kept
 * when a flush fails, and the audit events of reads: one first_use per
 * credential however many buffers saw it, queued events deduplicated, every
 * field filled. And who uses a credential: requests added up per day, route
 * and client in the buffer and across merged buffers, the latest distinct
 * clients kept, user agents made printable and cut; the store adding each
 * flush to what it holds (on SQLite and PostgreSQL), nothing counted twice
 * when a flush fails, and old usage pruned. */
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

/* ---- who uses a credential ---- */

#define DAY STORE_DAY_US
static const char *const ROUTE_A = "GET /api/v2/api_keys";
static const char *const ROUTE_B = "POST /api/v2/personal_access_tokens";

/* One request of credential id at `when` from address with user agent ua
 * (NULL: none sent) on route (NULL: none). */
static void request(struct usage_buffer *u, const char *id, int64_t when, const char *address, const char *ua,
                    const char *route)
{
    struct store_touch t = {.kind = STORE_TOUCH_TOKEN, .when = when};
    struct usage_client c = {.user_agent = ua, .user_agent_len = ua ? strlen(ua) : 0, .route = route};
    snprintf(t.id, sizeof t.id, "%s", id);
    snprintf(t.source, sizeof t.source, "%s", address);
    snprintf(t.target_kind, sizeof t.target_kind, "personal_access_token");
    usage_record(u, &t, &c);
}

static const struct store_usage_route *route_of(const struct store_usage *u, const char *route)
{
    for (size_t i = 0; i < u->n_routes; i++)
        if (strcmp(u->routes[i].route, route) == 0)
            return &u->routes[i];
    return NULL;
}

static const struct store_usage_client *client_of(const struct store_usage *u, const char *address, const char *ua)
{
    for (size_t i = 0; i < u->n_clients; i++)
        if (strcmp(u->clients[i].address, address) == 0 && strcmp(u->clients[i].user_agent, ua) == 0)
            return &u->clients[i];
    return NULL;
}

static int64_t requests_on(const struct store_usage *u, int64_t day)
{
    for (size_t i = 0; i < u->n_days; i++)
        if (u->days[i].day == day)
            return u->days[i].requests;
    return 0;
}

/* Requests add up per day, per route (the same route's text at another
 * address counts as the same route) and per client; a client seen again
 * moves forward; beyond five distinct clients the one seen longest ago
 * gives way, and an older sighting does not push a newer one out. */
static void requests_add_up_per_day_route_and_client(void)
{
    struct usage_buffer *u = usage_new(64);
    struct store_usage got;
    const char *id = "00000000-0000-4000-8000-00000000c001";
    char route_copy[64];
    snprintf(route_copy, sizeof route_copy, "%s", ROUTE_A); /* the same text, another pointer */
    int64_t day = 20000;
    request(u, id, day * DAY + 10, "10.0.0.1", "curl/8", ROUTE_A);
    request(u, id, day * DAY + 30, "10.0.0.1", "curl/8", route_copy);
    request(u, id, day * DAY + 20, "10.0.0.1", "curl/8", ROUTE_B);
    request(u, id, (day + 1) * DAY + 5, "10.0.0.2", NULL, ROUTE_A); /* after midnight */
    request(u, id, (day + 1) * DAY + 6, "10.0.0.2", NULL, NULL);     /* no route known */
    CHECK_INT(usage_pending(u), 1);
    CHECK_INT(usage_peek(u, id, &got), KH_OK);
    CHECK_INT(got.n_days, 2);
    CHECK_INT(requests_on(&got, day), 3);
    CHECK_INT(requests_on(&got, day + 1), 2);
    CHECK_INT(got.n_routes, 2);
    CHECK(route_of(&got, ROUTE_A) && route_of(&got, ROUTE_A)->requests == 3);
    CHECK(route_of(&got, ROUTE_A) && route_of(&got, ROUTE_A)->last_seen == (day + 1) * DAY + 5);
    CHECK(route_of(&got, ROUTE_B) && route_of(&got, ROUTE_B)->requests == 1);
    CHECK_INT(got.n_clients, 2);
    CHECK(client_of(&got, "10.0.0.1", "curl/8") && client_of(&got, "10.0.0.1", "curl/8")->last_seen == day * DAY + 30);
    CHECK(client_of(&got, "10.0.0.2", "") && client_of(&got, "10.0.0.2", "")->last_seen == (day + 1) * DAY + 6);
    store_usage_clear(&got);

    /* eight clients: the five seen latest stay */
    for (int i = 0; i < 8; i++) {
        char ua[32];
        snprintf(ua, sizeof ua, "agent/%d", i);
        request(u, id, (day + 1) * DAY + 100 + i, "10.0.0.3", ua, ROUTE_A);
    }
    request(u, id, (day + 1) * DAY + 50, "10.0.0.9", "late/1", ROUTE_A); /* older than all five: not kept */
    CHECK_INT(usage_peek(u, id, &got), KH_OK);
    CHECK_INT(got.n_clients, STORE_USAGE_CLIENTS);
    for (int i = 3; i < 8; i++) {
        char ua[32];
        snprintf(ua, sizeof ua, "agent/%d", i);
        CHECK(client_of(&got, "10.0.0.3", ua) != NULL);
    }
    CHECK(client_of(&got, "10.0.0.9", "late/1") == NULL);
    CHECK(route_of(&got, ROUTE_A) && route_of(&got, ROUTE_A)->requests == 12);
    CHECK_INT(requests_on(&got, day + 1), 11);
    store_usage_clear(&got);
    CHECK_INT(usage_peek(u, "00000000-0000-4000-8000-00000000c0ff", &got), KH_ENOTFOUND);
    usage_free(u);
}

/* A user agent is kept printable and cut to STORE_USAGE_UA_MAX bytes, and
 * the same raw header found again is the same client. */
static void user_agents_are_printable_and_bounded(void)
{
    struct usage_buffer *u = usage_new(64);
    struct store_usage got;
    const char *id = "00000000-0000-4000-8000-00000000c002";
    char long_ua[STORE_USAGE_UA_MAX + 50];
    memset(long_ua, 'x', sizeof long_ua - 1);
    long_ua[sizeof long_ua - 1] = '\0';
    request(u, id, 10, "10.0.0.1", "bad\x01\xff\n", ROUTE_A);
    request(u, id, 11, "10.0.0.1", "bad\x01\xff\n", ROUTE_A);
    request(u, id, 12, "10.0.0.1", long_ua, ROUTE_A);
    request(u, id, 13, "10.0.0.1", long_ua, ROUTE_A);
    CHECK_INT(usage_peek(u, id, &got), KH_OK);
    CHECK_INT(got.n_clients, 2);
    const struct store_usage_client *bad = client_of(&got, "10.0.0.1", "bad???");
    CHECK(bad && bad->last_seen == 11);
    long_ua[STORE_USAGE_UA_MAX] = '\0';
    const struct store_usage_client *cut = client_of(&got, "10.0.0.1", long_ua);
    CHECK(cut && cut->last_seen == 13);
    store_usage_clear(&got);
    usage_free(u);
}

/* Two loops' buffers merged (as the writer merges them) add up: days and
 * routes summed, clients the latest five of both. */
static void merged_buffers_add_up(void)
{
    struct usage_buffer *a = usage_new(64), *b = usage_new(64);
    struct store_usage got;
    const char *id = "00000000-0000-4000-8000-00000000c003";
    for (int i = 0; i < 4; i++) {
        char ua[16];
        snprintf(ua, sizeof ua, "a/%d", i);
        request(a, id, 100 + i, "10.0.0.1", ua, ROUTE_A);
        snprintf(ua, sizeof ua, "b/%d", i);
        request(b, id, 200 + i, "10.0.0.2", ua, ROUTE_B);
    }
    request(b, id, 300, "10.0.0.1", "a/0", ROUTE_A); /* a's client, seen later by b */
    usage_merge(a, b);
    usage_free(b);
    CHECK_INT(usage_peek(a, id, &got), KH_OK);
    CHECK_INT(requests_on(&got, 0), 9);
    CHECK(route_of(&got, ROUTE_A) && route_of(&got, ROUTE_A)->requests == 5);
    CHECK(route_of(&got, ROUTE_A) && route_of(&got, ROUTE_A)->last_seen == 300);
    CHECK(route_of(&got, ROUTE_B) && route_of(&got, ROUTE_B)->requests == 4);
    CHECK_INT(got.n_clients, 5);
    CHECK(client_of(&got, "10.0.0.1", "a/0") && client_of(&got, "10.0.0.1", "a/0")->last_seen == 300);
    for (int i = 0; i < 4; i++) {
        char ua[16];
        snprintf(ua, sizeof ua, "b/%d", i);
        CHECK(client_of(&got, "10.0.0.2", ua) != NULL);
    }
    store_usage_clear(&got);
    usage_free(a);
}

static int fail_usage_add(const char *op)
{
    return strcmp(op, "usage_add") == 0 ? KH_EBUSY : KH_OK;
}

/* Each flush adds to what the store holds (on SQLite and PostgreSQL): day
 * and route counts summed, a route's and a client's last sighting moving
 * forward only, a credential's five latest clients kept; a flush that
 * fails writes nothing and keeps everything for the next one, which then
 * counts each request once; pruning forgets what is older than its day. */
static void flushes_add_to_the_stored_usage(void)
{
    struct fixture f;
    struct store_usage got;
    fixture_open(&f);
    const char *id = "00000000-0000-4000-8000-00000000c004";
    int64_t day = clock_now_us() / DAY;
    struct usage_buffer *u = usage_new(64);
    request(u, id, (day - 2) * DAY + 1, "10.0.0.1", "first/1", ROUTE_A);
    request(u, id, day * DAY + 5, "10.0.0.1", "first/1", ROUTE_A);
    request(u, id, day * DAY + 6, "10.0.0.2", NULL, ROUTE_B);
    CHECK_INT(usage_flush(u, f.st), KH_OK);
    CHECK_INT(usage_pending(u), 0);

    /* the second flush fails at its counts, and leaves nothing behind */
    request(u, id, day * DAY + 7, "10.0.0.1", "first/1", ROUTE_A);
    for (int i = 0; i < 5; i++) {
        char ua[16];
        snprintf(ua, sizeof ua, "next/%d", i);
        request(u, id, day * DAY + 100 + i, "10.0.0.3", ua, ROUTE_B);
    }
    store_set_fault_hook(fail_usage_add);
    CHECK_INT(usage_flush(u, f.st), KH_EBUSY);
    faulty_off();
    CHECK_INT(usage_pending(u), 1);
    CHECK_INT(store_usage_get(f.st, id, day - 29, &got), KH_OK);
    CHECK_INT(requests_on(&got, day), 2);
    CHECK_INT(got.n_clients, 2);
    store_usage_clear(&got);
    struct store_token t;
    CHECK_INT(store_token_get(f.st, id, &t), KH_ENOTFOUND); /* ids need no row: usage is by id */
    CHECK_INT(usage_flush(u, f.st), KH_OK);

    CHECK_INT(store_usage_get(f.st, id, day - 29, &got), KH_OK);
    CHECK_INT(got.n_days, 2);
    CHECK_INT(requests_on(&got, day - 2), 1);
    CHECK_INT(requests_on(&got, day), 8);
    CHECK_INT(got.days[0].day, day - 2); /* oldest first */
    CHECK_INT(got.n_routes, 2);
    CHECK_STR(got.routes[0].route, ROUTE_B); /* most requests first */
    CHECK_INT(got.routes[0].requests, 6);
    CHECK_INT(got.routes[0].last_seen, day * DAY + 104);
    CHECK_INT(got.routes[1].requests, 3);
    CHECK_INT(got.routes[1].last_seen, day * DAY + 7);
    CHECK_INT(got.n_clients, STORE_USAGE_CLIENTS); /* the five next/ ones: first/1 and the address-only one went */
    CHECK_STR(got.clients[0].user_agent, "next/4"); /* latest first */
    CHECK(client_of(&got, "10.0.0.1", "first/1") == NULL);
    store_usage_clear(&got);

    /* an older sighting does not move a client or route back */
    request(u, id, day * DAY + 50, "10.0.0.3", "next/4", ROUTE_B);
    CHECK_INT(usage_flush(u, f.st), KH_OK);
    CHECK_INT(store_usage_get(f.st, id, day - 29, &got), KH_OK);
    CHECK(client_of(&got, "10.0.0.3", "next/4") && client_of(&got, "10.0.0.3", "next/4")->last_seen == day * DAY + 104);
    CHECK_INT(got.routes[0].requests, 7);
    CHECK_INT(got.routes[0].last_seen, day * DAY + 104);
    store_usage_clear(&got);

    /* a window starting later leaves the older day out; pruning forgets it */
    CHECK_INT(store_usage_get(f.st, id, day - 1, &got), KH_OK);
    CHECK_INT(got.n_days, 1);
    store_usage_clear(&got);
    CHECK_INT(store_usage_prune(f.st, day - 1), KH_OK);
    CHECK_INT(store_usage_get(f.st, id, 0, &got), KH_OK);
    CHECK_INT(got.n_days, 1);
    CHECK_INT(got.n_routes, 2);
    store_usage_clear(&got);
    CHECK_INT(store_usage_prune(f.st, day + 1), KH_OK); /* everything is older than tomorrow */
    CHECK_INT(store_usage_get(f.st, id, 0, &got), KH_OK);
    CHECK_INT(got.n_days + got.n_routes + got.n_clients, 0);
    store_usage_clear(&got);
    usage_free(u);
    fixture_close(&f);
}

int main(void)
{
    RUN(keeps_the_latest_use_per_credential);
    RUN(grows_and_merges_keeping_the_latest);
    RUN(one_first_use_event_per_credential);
    RUN(queued_events_are_deduplicated_and_kept);
    RUN(requests_add_up_per_day_route_and_client);
    RUN(user_agents_are_printable_and_bounded);
    RUN(merged_buffers_add_up);
    RUN(flushes_add_to_the_stored_usage);
    return TEST_SUMMARY();
}
