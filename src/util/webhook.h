/* webhook.h - what a webhook delivery needs that is neither HTTP nor
 * storage: the signature receivers verify, the retry schedule, and which
 * network addresses count as private (docs/api/webhooks.md).
 *
 * Signature (as Stripe's): the header
 *     Keyhold-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256>
 * where the HMAC is keyed with the webhook's secret (the whole "whsec_..."
 * string as shown at creation, its bytes as they are) over "<t>.<body>".
 * A receiver recomputes it, compares in constant time, and refuses a t too
 * far from its clock (replays). */
#ifndef KH_UTIL_WEBHOOK_H
#define KH_UTIL_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_SECRET_RANDOM 40 /* base62 characters after the prefix: 238 bits */
#define WEBHOOK_SECRET_LEN (sizeof WEBHOOK_SECRET_PREFIX - 1 + WEBHOOK_SECRET_RANDOM)
#define WEBHOOK_SIG_HEX 64
/* "t=" + up to 20 digits + ",v1=" + 64 hex + NUL */
#define WEBHOOK_SIG_HEADER_LEN 96

/* The retry schedule: attempt n (1-based) failed, the next waits
 * webhook_backoff_ms(n, ...); after WEBHOOK_MAX_ATTEMPTS attempts the
 * delivery is given up (state failed, kept in the log): with the default
 * 10 s base, about 2 to 4 days after the event, so that a receiver down
 * over a weekend still gets it. */
#define WEBHOOK_MAX_ATTEMPTS 106
#define WEBHOOK_BACKOFF_CAP_MS (60 * 60 * 1000LL)

/* Writes a new secret ("whsec_" + WEBHOOK_SECRET_RANDOM base62 characters
 * from the CSPRNG) and a NUL to out. */
void webhook_secret_new(char out[WEBHOOK_SECRET_LEN + 1]);

/* The hex HMAC-SHA-256 under secret of "<t>.<body>" (lowercase, NUL-ended). */
void webhook_sign(const char *secret, size_t secret_len, int64_t t, const char *body, size_t body_len,
                  char out[WEBHOOK_SIG_HEX + 1]);
/* The header's value, "t=<t>,v1=<hex>". */
void webhook_signature_header(const char *secret, size_t secret_len, int64_t t, const char *body, size_t body_len,
                              char out[WEBHOOK_SIG_HEADER_LEN]);

/* How long to wait after the failed attempt number `attempt` (1-based):
 * exponential from base_ms (base_ms * 2^(attempt-1)), capped at cap_ms, with
 * "equal jitter": half of it fixed, the other half scaled by rnd (0..2^32-1,
 * from the caller's random source) so that deliveries failing together do
 * not retry together. Always >= 1. */
int64_t webhook_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint32_t rnd);

/* Non-zero when addr (IPv4 dotted or IPv6 text, no brackets) is not a public
 * unicast address: loopback, private (RFC 1918, fc00::/7), link-local,
 * CGNAT, unspecified, multicast, broadcast, IPv4-mapped forms of those; -1
 * when addr is not an IP address at all. */
int webhook_addr_private(const char *addr);
/* The same for a binary address (AF_INET: 4 bytes, AF_INET6: 16). */
int webhook_addr_private_bin(int family, const void *bytes);

#endif
