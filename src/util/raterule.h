/* raterule.h - a rate-limit rule ("N requests per P seconds") and the size
 * bounds of the limiter's tables: the settings of rate limiting, without the
 * limiter. They sit in util/ because both config.h (which holds the rules a
 * server runs with) and api/ratelimit.h (which applies them) need them, and
 * config must not include api/ (docs/internals/layout.md, the arrow rule). */
#ifndef KH_RATERULE_H
#define KH_RATERULE_H

#include <stdint.h>

/* Keys each table of the limiter holds (--rate-limit-table-size). */
#define RATE_TABLE_DEFAULT_ENTRIES 65536
#define RATE_TABLE_MIN_ENTRIES 16
#define RATE_TABLE_MAX_ENTRIES (16 * 1024 * 1024)

struct rate_rule {
    int64_t limit;  /* requests per period; 0 = no limit */
    int64_t period; /* seconds */
};

/* Parses "N/P" (N requests per P seconds, P at most a day; "0" = off) into
 * *rule. Returns 0, or -1 (and *rule off) on anything else. */
int rate_rule_parse(const char *s, struct rate_rule *rule);

#endif
