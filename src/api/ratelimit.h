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
 *                address stops without locking out its legitimate user.
 *
 * Memory is bounded whatever the number of keys: three structures of a size
 * fixed at the first use (ratelimit_size), each with a stated failure mode
 * (docs/security.md, "Rate limits"):
 *   requests   exact counters per org and credential, in a table that evicts
 *              its least recently used key when full. An evicted key starts
 *              again from zero (open, for that key only); a key in use is
 *              recently used and stays, and only authenticated callers add
 *              keys.
 *   failures   failed authentications per address, in a count-min sketch: it
 *              is never full and never counts less than the truth, only more
 *              (closed: at worst an address is refused its unknown
 *              credentials early).
 *   successes  the credentials that succeeded from each address, in a table
 *              of its own that evicts its least recently used address. It
 *              cannot touch the failure counts; a forgotten address only
 *              loses its exemption from the failure limit (closed).
 * Keys are hashed with a random per-process key, so nobody can aim keys at
 * one shard or at a victim's sketch counters. */
#ifndef KH_RATELIMIT_H
#define KH_RATELIMIT_H

#include "util/raterule.h"

#include <stddef.h>
#include <stdint.h>


struct rate_verdict {
    int allowed;
    const char *name; /* the rule reported in the headers */
    int64_t limit, period, remaining, reset;
};

struct ratelimiter;

/* A limiter whose tables are made at the first ratelimit_size() or, failing
 * that, at the first use with RATE_TABLE_DEFAULT_ENTRIES. */
struct ratelimiter *ratelimit_new(void);
void ratelimit_free(struct ratelimiter *r);
/* Sizes the tables: the request and success tables hold about `entries` keys
 * each (rounded up to a multiple of the shard count), the sketch has
 * `entries` counters per row, RATE_TABLE_DEFAULT_ENTRIES at least. Only the first call counts, and only before the
 * first use; later calls cost one atomic load, so every request may make it. */
void ratelimit_size(struct ratelimiter *r, size_t entries);

/* ---- requests: exact counters per org and credential ---- */
/* Counts one request against key (e.g. "o:<org id>") under rule if that
 * keeps it within the limit, and fills v; v->allowed says whether it was
 * counted. A refused request consumes nothing. */
void ratelimit_take(struct ratelimiter *r, const char *name, const struct rate_rule *rule, const char *key,
                    int64_t now_s, struct rate_verdict *v);
/* Returns one request taken from key in now_s's window (a request that
 * another limit then refused). */
void ratelimit_give_back(struct ratelimiter *r, const struct rate_rule *rule, const char *key, int64_t now_s);

/* ---- failed authentications per address: never under-counted ---- */
/* Counts one failure of addr, whatever its count; fills v. */
void ratelimit_failure_hit(struct ratelimiter *r, const char *name, const struct rate_rule *rule, const char *addr,
                           int64_t now_s, struct rate_verdict *v);
/* Reads addr's failure count without adding to it (v->allowed: under limit). */
void ratelimit_failure_peek(struct ratelimiter *r, const char *name, const struct rate_rule *rule, const char *addr,
                            int64_t now_s, struct rate_verdict *v);

/* ---- successes per address ---- */
/* Remembers that a credential (by fingerprint) succeeded from an address. */
void ratelimit_remember_success(struct ratelimiter *r, const char *addr, uint64_t fingerprint);
int ratelimit_known_success(struct ratelimiter *r, const char *addr, uint64_t fingerprint);

/* Keys held now by the request and success tables (for tests). */
size_t ratelimit_request_entries(struct ratelimiter *r);
size_t ratelimit_success_entries(struct ratelimiter *r);

/* ---- rules ---- */
/* The limits one credential is held to: its own rule and at most `percent`
 * of the org's budget. One rule when they can be merged (same period, or one
 * of them off), else two, both to be kept; out[0] when they merge. Returns
 * how many (0 when neither limits). */
int ratelimit_credential_rules(const struct rate_rule *credential, const struct rate_rule *org, int percent,
                               struct rate_rule out[2]);

#endif
