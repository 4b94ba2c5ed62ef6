/* test_ratelimit.c - fixed windows, remaining/reset arithmetic, rule
 * parsing, and remembered successes per address. */
#include "test.h"

#include "api/ratelimit.h"

static void counts_within_a_window_and_resets_after(void)
{
    struct ratelimiter *r = ratelimit_new();
    struct rate_rule rule = {3, 10};
    struct rate_verdict v;
    for (int i = 1; i <= 3; i++) {
        ratelimit_hit(r, "org", &rule, "o:x", 1005, &v);
        CHECK(v.allowed);
        CHECK_INT(v.remaining, 3 - i);
        CHECK_INT(v.reset, 5);
    }
    ratelimit_hit(r, "org", &rule, "o:x", 1009, &v);
    CHECK(!v.allowed);
    CHECK_INT(v.remaining, 0);
    ratelimit_hit(r, "org", &rule, "o:y", 1009, &v);
    CHECK(v.allowed); /* another key */
    ratelimit_hit(r, "org", &rule, "o:x", 1010, &v);
    CHECK(v.allowed); /* the next window */
    CHECK_INT(v.remaining, 2);
    CHECK_INT(v.reset, 10);
    ratelimit_peek(r, "org", &rule, "o:x", 1011, &v);
    CHECK_INT(v.remaining, 2); /* peeking does not count */
    struct rate_rule off = {0, 1};
    for (int i = 0; i < 100; i++)
        ratelimit_hit(r, "org", &off, "o:z", 1000, &v);
    CHECK(v.allowed);
    ratelimit_free(r);
}

static void parses_rules(void)
{
    struct rate_rule rule;
    CHECK_INT(ratelimit_parse_rule("100/10", &rule), 0);
    CHECK_INT(rule.limit, 100);
    CHECK_INT(rule.period, 10);
    CHECK_INT(ratelimit_parse_rule("0", &rule), 0);
    CHECK_INT(rule.limit, 0);
    const char *bad[] = {"", "x", "10", "10/", "10/0", "-1/5", "5/x", "5/100000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(ratelimit_parse_rule(bad[i], &rule), -1);
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
    ratelimit_free(r);
}

int main(void)
{
    RUN(counts_within_a_window_and_resets_after);
    RUN(parses_rules);
    RUN(remembers_successes_per_address);
    return TEST_SUMMARY();
}
