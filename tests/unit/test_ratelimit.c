/* test_ratelimit.c - fixed windows, remaining/reset arithmetic, the
 * credential's share of its org, remembered successes per address, and the
 * bounds: tables that evict their least recently used key,
 * and failure counts that stay closed however full anything gets. */
#include "test.h"

#include "api/ratelimit.h"

#include <pthread.h>
#include <stdio.h>

#define FLOOD 10000 /* keys: far more than a table of SMALL holds */
#define SMALL 64

static void counts_within_a_window_and_resets_after(void)
{
    struct ratelimiter *r = ratelimit_new();
    struct rate_rule rule = {3, 10};
    struct rate_verdict v;
    for (int i = 1; i <= 3; i++) {
        ratelimit_take(r, "org", &rule, "o:x", 1005, &v);
        CHECK(v.allowed);
        CHECK_INT(v.remaining, 3 - i);
        CHECK_INT(v.reset, 5);
        CHECK_INT(v.limit, 3);
        CHECK_INT(v.period, 10);
        CHECK_STR(v.name, "org");
    }
    ratelimit_take(r, "org", &rule, "o:x", 1009, &v);
    CHECK(!v.allowed);
    CHECK_INT(v.remaining, 0);
    ratelimit_take(r, "org", &rule, "o:y", 1009, &v);
    CHECK(v.allowed); /* another key */
    ratelimit_take(r, "org", &rule, "o:x", 1010, &v);
    CHECK(v.allowed); /* the next window */
    CHECK_INT(v.remaining, 2);
    CHECK_INT(v.reset, 10);
    ratelimit_take(r, "org", &rule, "o:x", 1009, &v);
    CHECK(v.allowed); /* a thread behind the clock counts in the newer window */
    CHECK_INT(v.remaining, 1);
    struct rate_rule off = {0, 1};
    for (int i = 0; i < 100; i++)
        ratelimit_take(r, "org", &off, "o:z", 1000, &v);
    CHECK(v.allowed);
    CHECK_INT(v.limit, 0);
    ratelimit_free(r);
}

static void refused_requests_consume_nothing(void)
{
    struct ratelimiter *r = ratelimit_new();
    struct rate_rule rule = {3, 10};
    struct rate_verdict v;
    for (int i = 0; i < 3; i++)
        ratelimit_take(r, "credential", &rule, "c:x", 1000, &v);
    for (int i = 0; i < 100; i++) {
        ratelimit_take(r, "credential", &rule, "c:x", 1000, &v);
        CHECK(!v.allowed);
    }
    /* Had the 100 refusals counted, one request given back would not make
     * room; it makes exactly one. */
    ratelimit_give_back(r, &rule, "c:x", 1000);
    ratelimit_take(r, "credential", &rule, "c:x", 1000, &v);
    CHECK(v.allowed);
    CHECK_INT(v.remaining, 0);
    ratelimit_take(r, "credential", &rule, "c:x", 1000, &v);
    CHECK(!v.allowed);
    /* A give-back belongs to its window: none is made in the next one. */
    ratelimit_give_back(r, &rule, "c:x", 1010);
    ratelimit_take(r, "credential", &rule, "c:x", 1000, &v);
    CHECK(!v.allowed);
    ratelimit_give_back(r, &rule, "c:never-seen", 1000); /* harmless */
    CHECK_INT(ratelimit_request_entries(r), 1);
    ratelimit_free(r);
}

/* The request table stays at its size however many keys come, and the key
 * in use between them never loses its count. */
static void request_table_is_bounded_and_evicts_the_least_recently_used(void)
{
    struct ratelimiter *r = ratelimit_new();
    ratelimit_size(r, SMALL);
    struct rate_rule rule = {1000000, 10};
    struct rate_verdict v;
    char key[32];
    ratelimit_take(r, "credential", &rule, "c:first", 1000, &v);
    for (int i = 0; i < FLOOD; i++) {
        snprintf(key, sizeof key, "c:%d", i);
        ratelimit_take(r, "credential", &rule, key, 1000, &v);
        ratelimit_take(r, "credential", &rule, "c:active", 1000, &v);
        CHECK(ratelimit_request_entries(r) <= SMALL);
    }
    CHECK_INT(ratelimit_request_entries(r), SMALL); /* full, not more */
    CHECK_INT(v.remaining, rule.limit - FLOOD); /* every request of the active key counted */
    /* The idle key was evicted and starts again: the only way an entry is
     * lost, and only for a key nobody used while the table turned over. */
    ratelimit_take(r, "credential", &rule, "c:first", 1000, &v);
    CHECK_INT(v.remaining, rule.limit - 1);
    ratelimit_free(r);
}

/* Finding 4: remembered successes filled the one shared table, after which
 * failures were no longer counted. Successes now have their own table. */
static void filling_the_success_table_leaves_failure_counting_alone(void)
{
    struct ratelimiter *r = ratelimit_new();
    ratelimit_size(r, SMALL);
    struct rate_rule failures = {5, 600}, requests = {1000000, 10};
    struct rate_verdict v;
    char addr[32];
    for (int i = 0; i < 5; i++)
        ratelimit_failure_hit(r, "auth_failures", &failures, "10.0.0.1", 1000, &v);
    ratelimit_failure_peek(r, "auth_failures", &failures, "10.0.0.1", 1000, &v);
    CHECK(!v.allowed);
    for (int i = 0; i < FLOOD; i++) {
        snprintf(addr, sizeof addr, "10.1.%d.%d", i / 256, i % 256);
        ratelimit_remember_success(r, addr, 42);
        ratelimit_take(r, "credential", &requests, "c:busy", 1000, &v);
    }
    CHECK_INT(ratelimit_success_entries(r), SMALL);
    CHECK_INT(v.remaining, requests.limit - FLOOD); /* per-credential counting goes on */
    ratelimit_failure_peek(r, "auth_failures", &failures, "10.0.0.1", 1000, &v);
    CHECK(!v.allowed); /* still refused */
    CHECK_INT(v.remaining, 0);
    /* A new address is counted as the first was. */
    for (int i = 1; i <= 6; i++) {
        ratelimit_failure_hit(r, "auth_failures", &failures, "10.0.0.2", 1000, &v);
        CHECK_INT(v.allowed, i <= 5);
    }
    ratelimit_failure_peek(r, "auth_failures", &failures, "10.0.0.2", 1000, &v);
    CHECK(!v.allowed);
    ratelimit_free(r);
}

/* The failure counts live in a count-min sketch: never less than the truth,
 * though addresses share its counters (here about one and a half on each). */
static void failure_counts_never_fall_below_the_truth(void)
{
    enum { ADDRESSES = 100000 };
    struct ratelimiter *r = ratelimit_new();
    struct rate_rule failures = {3, 600};
    struct rate_verdict v;
    char addr[32];
    for (int i = 0; i < ADDRESSES; i++) {
        snprintf(addr, sizeof addr, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        for (int n = 0; n <= i % 3; n++) /* 1, 2 or 3 failures */
            ratelimit_failure_hit(r, "auth_failures", &failures, addr, 1000, &v);
    }
    int below = 0, over = 0;
    for (int i = 0; i < ADDRESSES; i++) {
        snprintf(addr, sizeof addr, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        ratelimit_failure_peek(r, "auth_failures", &failures, addr, 1000, &v);
        below += v.remaining > failures.limit - (i % 3 + 1);
        over += v.remaining < failures.limit - (i % 3 + 1);
    }
    CHECK_INT(below, 0);
    CHECK(over > 0); /* the counters are shared: some addresses are counted more */
    ratelimit_free(r);
}

/* Flooded far beyond its size (more than 20 addresses on each counter), the
 * sketch refuses rather than allows: even an address that never failed is
 * refused its unknown credentials (remembered ones still pass) until the
 * window ends. */
static void failure_limit_fails_closed_when_the_sketch_saturates(void)
{
    enum { ADDRESSES = 1500000 };
    struct ratelimiter *r = ratelimit_new();
    struct rate_rule failures = {1, 600};
    struct rate_verdict v;
    char addr[32];
    for (int i = 0; i < ADDRESSES; i++) {
        snprintf(addr, sizeof addr, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        ratelimit_failure_hit(r, "auth_failures", &failures, addr, 1000, &v);
    }
    ratelimit_failure_peek(r, "auth_failures", &failures, "192.0.2.1", 1000, &v);
    CHECK(!v.allowed);
    ratelimit_failure_peek(r, "auth_failures", &failures, "192.0.2.1", 1200, &v);
    CHECK(v.allowed); /* the next window starts empty */
    ratelimit_free(r);
}

/* At the default size, ordinary numbers of addresses are counted exactly
 * enough: nobody is refused for others' failures. */
static void failure_counts_are_per_address_at_the_default_size(void)
{
    struct ratelimiter *r = ratelimit_new();
    struct rate_rule failures = {5, 600};
    struct rate_verdict v;
    char addr[32];
    for (int i = 0; i < 200; i++) {
        snprintf(addr, sizeof addr, "10.4.%d.%d", i / 256, i % 256);
        for (int j = 0; j < 4; j++)
            ratelimit_failure_hit(r, "auth_failures", &failures, addr, 1000, &v);
    }
    int refused = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(addr, sizeof addr, "10.4.%d.%d", i / 256, i % 256);
        ratelimit_failure_peek(r, "auth_failures", &failures, addr, 1000, &v);
        refused += !v.allowed;
    }
    CHECK_INT(refused, 0);
    ratelimit_failure_peek(r, "auth_failures", &failures, "10.5.0.1", 1000, &v);
    CHECK_INT(v.remaining, 5);
    ratelimit_free(r);
}

static void remembers_successes_per_address(void)
{
    struct ratelimiter *r = ratelimit_new();
    CHECK(!ratelimit_known_success(r, "10.0.0.1", 42));
    for (uint64_t f = 1; f <= 5; f++)
        ratelimit_remember_success(r, "10.0.0.1", f);
    CHECK(ratelimit_known_success(r, "10.0.0.1", 5));
    CHECK(ratelimit_known_success(r, "10.0.0.1", 2));
    CHECK(!ratelimit_known_success(r, "10.0.0.1", 1)); /* the oldest of five fell out */
    CHECK(!ratelimit_known_success(r, "10.0.0.2", 5));
    CHECK_INT(ratelimit_success_entries(r), 1); /* asking remembers nothing */
    ratelimit_free(r);
}

/* A full success table forgets its least recently used address: that
 * address loses its exemption (closed), recent ones keep theirs. */
static void success_table_forgets_the_least_recently_used_address(void)
{
    struct ratelimiter *r = ratelimit_new();
    ratelimit_size(r, SMALL);
    char addr[32];
    ratelimit_remember_success(r, "10.0.0.1", 7);
    ratelimit_remember_success(r, "10.0.0.9", 9);
    for (int i = 0; i < FLOOD; i++) {
        snprintf(addr, sizeof addr, "10.6.%d.%d", i / 256, i % 256);
        ratelimit_remember_success(r, addr, 1);
        ratelimit_remember_success(r, "10.0.0.9", 9); /* in use throughout */
    }
    CHECK_INT(ratelimit_success_entries(r), SMALL);
    CHECK(!ratelimit_known_success(r, "10.0.0.1", 7));
    CHECK(ratelimit_known_success(r, "10.0.0.9", 9));
    CHECK(ratelimit_known_success(r, addr, 1)); /* the last one */
    ratelimit_free(r);
}

static void is_sized_once_before_first_use(void)
{
    struct ratelimiter *r = ratelimit_new();
    struct rate_rule rule = {10, 10};
    struct rate_verdict v;
    char key[32];
    ratelimit_take(r, "org", &rule, "o:x", 1000, &v); /* default size from here on */
    ratelimit_size(r, RATE_TABLE_MIN_ENTRIES);
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "o:%d", i);
        ratelimit_take(r, "org", &rule, key, 1000, &v);
    }
    CHECK_INT(ratelimit_request_entries(r), 101);
    ratelimit_free(r);
    r = ratelimit_new();
    ratelimit_size(r, 1); /* below the minimum: the minimum */
    for (int i = 0; i < 1000; i++) { /* enough to fill every shard */
        snprintf(key, sizeof key, "o:%d", i);
        ratelimit_take(r, "org", &rule, key, 1000, &v);
    }
    CHECK_INT(ratelimit_request_entries(r), RATE_TABLE_MIN_ENTRIES);
    ratelimit_free(r);
}

struct taker {
    struct ratelimiter *r;
    int allowed;
};

static void *take_many(void *arg)
{
    struct taker *t = arg;
    struct rate_rule rule = {20000, 10};
    struct rate_verdict v;
    for (int i = 0; i < 10000; i++) {
        ratelimit_take(t->r, "org", &rule, "o:shared", 1000, &v);
        t->allowed += v.allowed;
    }
    return NULL;
}

/* Threads taking from one key at once get exactly the limit between them. */
static void concurrent_takes_get_exactly_the_limit(void)
{
    struct taker takers[4];
    pthread_t threads[4];
    struct ratelimiter *r = ratelimit_new();
    for (int i = 0; i < 4; i++) {
        takers[i] = (struct taker){r, 0};
        pthread_create(&threads[i], NULL, take_many, &takers[i]);
    }
    int allowed = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        allowed += takers[i].allowed;
    }
    CHECK_INT(allowed, 20000);
    ratelimit_free(r);
}

static void a_credential_gets_at_most_its_share_of_the_org(void)
{
    static const struct {
        struct rate_rule credential, org;
        int percent, n;
        struct rate_rule out[2];
    } cases[] = {
        {{10000, 10}, {20000, 10}, 25, 1, {{5000, 10}}},            /* the defaults: the share is stricter */
        {{5, 60}, {1000, 60}, 25, 1, {{5, 60}}},                    /* the credential's own rule is */
        {{0, 1}, {40, 60}, 25, 1, {{10, 60}}},                      /* no rule of its own: the share */
        {{0, 1}, {4, 60}, 25, 1, {{1, 60}}},                        /* rounded down */
        {{0, 1}, {3, 60}, 25, 1, {{1, 60}}},                        /* but at least one */
        {{100, 1}, {1000, 60}, 25, 2, {{100, 1}, {250, 60}}},       /* periods differ: both kept */
        {{100, 1}, {0, 1}, 25, 1, {{100, 1}}},                      /* no org limit, no share */
        {{0, 1}, {0, 1}, 25, 0, {{0, 0}}},                          /* nothing to limit */
        {{10000, 10}, {20000, 10}, 100, 1, {{10000, 10}}},          /* 100%: the org limit does it */
        {{0, 1}, {INT64_MAX, 10}, 50, 1, {{INT64_MAX / 2, 10}}},    /* no overflow */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rate_rule out[2] = {{0, 0}, {0, 0}};
        int n = ratelimit_credential_rules(&cases[i].credential, &cases[i].org, cases[i].percent, out);
        CHECK_INT(n, cases[i].n);
        for (int j = 0; j < n && j < 2; j++) {
            CHECK_INT(out[j].limit, cases[i].out[j].limit);
            CHECK_INT(out[j].period, cases[i].out[j].period);
        }
    }
}

int main(void)
{
    RUN(counts_within_a_window_and_resets_after);
    RUN(refused_requests_consume_nothing);
    RUN(request_table_is_bounded_and_evicts_the_least_recently_used);
    RUN(filling_the_success_table_leaves_failure_counting_alone);
    RUN(failure_counts_never_fall_below_the_truth);
    RUN(failure_limit_fails_closed_when_the_sketch_saturates);
    RUN(failure_counts_are_per_address_at_the_default_size);
    RUN(remembers_successes_per_address);
    RUN(success_table_forgets_the_least_recently_used_address);
    RUN(is_sized_once_before_first_use);
    RUN(concurrent_takes_get_exactly_the_limit);
    RUN(a_credential_gets_at_most_its_share_of_the_org);
    return TEST_SUMMARY();
}
