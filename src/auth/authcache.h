/* authcache.h - the outcome of recent authentications, so that a credential
 * presented again is answered from memory instead of the store.
 *
 * Exact, not eventually consistent: every entry carries the store's change
 * stamp (store_change_stamp) from before its outcome was read, and counts
 * only while the stamp is unchanged. Any commit by anyone (a revocation, a
 * disabled user, a role change, a new key) therefore makes every entry stale
 * before the commit's answer can reach a client, and the next presentation
 * of each credential is checked against the store again. A token's entry
 * also ends at the token's expiry, and every entry with the server secret it
 * was made under.
 *
 * Refusals are kept too, so refusing a key costs what accepting one does.
 *
 * Entries are keyed by a keyed hash (HMAC-SHA-256 under a random per-cache
 * key) of what was presented; no credential value is kept, and the key makes
 * slots impossible to aim at. Lookups compare the full hash in constant time.
 *
 * One cache per thread: no locks. Bounded: a set-associative table whose
 * least recently used entry in a set makes way. */
#ifndef KH_AUTHCACHE_H
#define KH_AUTHCACHE_H

#include "auth/authn.h"

#include <stdint.h>

struct auth_cache;

/* A cache of about `entries` entries (rounded up to a power of two). */
struct auth_cache *auth_cache_new(size_t entries);
void auth_cache_free(struct auth_cache *c);

/* What the cache has been asked, for tests and the log. */
struct auth_cache_stats {
    uint64_t hits, misses;
};
void auth_cache_get_stats(const struct auth_cache *c, struct auth_cache_stats *out);

/* Used by authn.c. The digest of a presentation: domain tells apart the
 * questions asked (full authentication, API key only). */
void auth_cache_digest(const struct auth_cache *c, char domain, const struct auth_input *in,
                       uint8_t out[SECRET_HASH_LEN]);
/* 1 and the outcome when a live entry holds digest, else 0. */
int auth_cache_get(struct auth_cache *c, const uint8_t digest[SECRET_HASH_LEN], const struct store_stamp *stamp,
                   const struct server_secret *secret, int64_t now, int *rc, struct principal *who);
void auth_cache_put(struct auth_cache *c, const uint8_t digest[SECRET_HASH_LEN], const struct store_stamp *stamp,
                    const struct server_secret *secret, int rc, const struct principal *who);

#endif
