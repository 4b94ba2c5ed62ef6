/* ratelimit.h - fixed-window request limits, shared by every event loop of
 * a process (limits are per keyhold node).
 *
 * Windows are calendar aligned (window = now / period), as Datadog's are, and
 * answers carry its headers: X-RateLimit-Limit, -Period, -Remaining, -Reset
 * (seconds to the next window) and -Name. Three limits:
 *   org          requests per org
 *   credential   requests per application key or token
 *   auth_failures failed authentications per client address. Past it, an
 *                address may still use credentials that already succeeded
 *                from it (a fingerprint is remembered), so guessing from that
 *                address stops without locking out its legitimate user. */
#ifndef KH_RATELIMIT_H
#define KH_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct rate_rule {
    int64_t limit;  /* requests per period; 0 = no limit */
    int64_t period; /* seconds */
};

struct rate_verdict {
    int allowed;
    const char *name; /* the rule reported in the headers */
    int64_t limit, period, remaining, reset;
};

struct ratelimiter;

struct ratelimiter *ratelimit_new(void);
void ratelimit_free(struct ratelimiter *r);
/* Counts one request against key (e.g. "o:<org id>") under rule; fills v. */
void ratelimit_hit(struct ratelimiter *r, const char *name, const struct rate_rule *rule, const char *key,
                   int64_t now_s, struct rate_verdict *v);
/* Reads key's count without adding to it (v->allowed: still under limit). */
void ratelimit_peek(struct ratelimiter *r, const char *name, const struct rate_rule *rule, const char *key,
                    int64_t now_s, struct rate_verdict *v);
/* Remembers that a credential (by fingerprint) succeeded from an address. */
void ratelimit_remember_success(struct ratelimiter *r, const char *addr, uint64_t fingerprint);
int ratelimit_known_success(struct ratelimiter *r, const char *addr, uint64_t fingerprint);
/* Parses "N/P" (N requests per P seconds; "0" = off). Returns 0 or -1. */
int ratelimit_parse_rule(const char *s, struct rate_rule *rule);

#endif
