/* raterule.c - parsing a rate-limit rule (see raterule.h). */
#include "util/raterule.h"

#include <stdlib.h>

int rate_rule_parse(const char *s, struct rate_rule *rule)
{
    char *end;
    long long n = strtoll(s, &end, 10);
    rule->limit = 0;
    rule->period = 1;
    if (end == s || n < 0)
        return -1;
    if (*end == '\0' && n == 0)
        return 0;
    if (*end != '/')
        return -1;
    const char *p = end + 1;
    long long period = strtoll(p, &end, 10);
    if (end == p || *end || period < 1 || period > 86400)
        return -1;
    rule->limit = n;
    rule->period = period;
    return 0;
}
