/* test_raterule.c - parsing "N/P" rate-limit rules: good ones, "0" for off,
 * and every malformed or out-of-range one refused. */
#include "test.h"

#include "util/raterule.h"

static void parses_a_limit_per_period(void)
{
    struct rate_rule rule;
    CHECK_INT(rate_rule_parse("100/10", &rule), 0);
    CHECK_INT(rule.limit, 100);
    CHECK_INT(rule.period, 10);
    CHECK_INT(rate_rule_parse("1/86400", &rule), 0);
    CHECK_INT(rule.period, 86400);
}

static void zero_turns_the_limit_off(void)
{
    struct rate_rule rule = {5, 5};
    CHECK_INT(rate_rule_parse("0", &rule), 0);
    CHECK_INT(rule.limit, 0);
}

static void refuses_malformed_rules_and_leaves_them_off(void)
{
    static const char *const bad[] = {"", "x", "10", "10/", "10/0", "-1/5", "5/x", "5/100000", "5/10x", "0/10x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rate_rule rule = {7, 7};
        CHECK_INT(rate_rule_parse(bad[i], &rule), -1);
        CHECK_INT(rule.limit, 0);
    }
}

int main(void)
{
    RUN(parses_a_limit_per_period);
    RUN(zero_turns_the_limit_off);
    RUN(refuses_malformed_rules_and_leaves_them_off);
    return TEST_SUMMARY();
}
