/* authcache.c - a per-thread, set-associative cache of authentication
 * outcomes (see authcache.h). */
#include "auth/authcache.h"

#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define WAYS 4

struct cache_entry {
    uint8_t digest[SECRET_HASH_LEN];
    struct store_stamp stamp;
    const struct server_secret *secret;
    uint64_t last_use; /* 0: empty */
    int rc;
    struct principal who;
};

struct auth_cache {
    struct cache_entry *entries; /* n_sets * WAYS */
    size_t set_mask;
    uint64_t clock; /* ticks once per lookup or insert */
    uint8_t key[SECRET_KEY_LEN];
    struct auth_cache_stats stats;
};

struct auth_cache *auth_cache_new(size_t entries)
{
    struct auth_cache *c = xcalloc(1, sizeof *c);
    size_t sets = 1;
    while (sets * WAYS < entries)
        sets *= 2;
    /* calloc: untouched pages cost no memory until entries land there */
    c->entries = xcalloc(sets * WAYS, sizeof *c->entries);
    c->set_mask = sets - 1;
    secret_random(c->key, sizeof c->key);
    return c;
}

void auth_cache_free(struct auth_cache *c)
{
    if (!c)
        return;
    secret_wipe(c->key, sizeof c->key);
    free(c->entries);
    free(c);
}

void auth_cache_get_stats(const struct auth_cache *c, struct auth_cache_stats *out)
{
    *out = c->stats;
}

/* Appends a length-prefixed field, so that no two presentations share an
 * encoding. */
static size_t put_field(uint8_t *buf, size_t at, const char *s, size_t len)
{
    uint32_t n = (uint32_t)len;
    memcpy(buf + at, &n, sizeof n);
    if (len)
        memcpy(buf + at + sizeof n, s, len);
    return at + sizeof n + len;
}

void auth_cache_digest(const struct auth_cache *c, char domain, const struct auth_input *in,
                       uint8_t out[SECRET_HASH_LEN])
{
    size_t size = 1 + 3 * sizeof(uint32_t) + in->api_key_len + in->app_key_len + in->authorization_len;
    uint8_t stack[512], *buf = size <= sizeof stack ? stack : xmalloc(size);
    size_t at = 0;
    buf[at++] = (uint8_t)domain;
    at = put_field(buf, at, in->api_key, in->api_key_len);
    at = put_field(buf, at, in->app_key, in->app_key_len);
    at = put_field(buf, at, in->authorization, in->authorization_len);
    secret_hmac(c->key, buf, at, out);
    secret_wipe(buf, at); /* it held the credentials */
    if (buf != stack)
        free(buf);
}

static struct cache_entry *set_of(struct auth_cache *c, const uint8_t digest[SECRET_HASH_LEN])
{
    uint64_t h;
    memcpy(&h, digest, sizeof h);
    return &c->entries[(h & c->set_mask) * WAYS];
}

static int live(const struct cache_entry *e, const struct store_stamp *stamp, const struct server_secret *secret,
                int64_t now)
{
    if (e->stamp.a != stamp->a || e->stamp.b != stamp->b || e->stamp.c != stamp->c || e->secret != secret)
        return 0;
    if (e->rc != KH_OK) /* an expired token's refusal holds while the clock stays past its expiry */
        return !e->who.expired || e->who.expires_at <= now;
    return (!e->who.expires_at || e->who.expires_at > now) && (!e->who.accepted_until || e->who.accepted_until > now);
}

int auth_cache_get(struct auth_cache *c, const uint8_t digest[SECRET_HASH_LEN], const struct store_stamp *stamp,
                   const struct server_secret *secret, int64_t now, int *rc, struct principal *who)
{
    struct cache_entry *set = set_of(c, digest);
    c->clock++;
    for (int i = 0; i < WAYS; i++) {
        struct cache_entry *e = &set[i];
        if (e->last_use && secret_equal(e->digest, digest, SECRET_HASH_LEN) && live(e, stamp, secret, now)) {
            e->last_use = c->clock;
            *rc = e->rc;
            *who = e->who;
            c->stats.hits++;
            return 1;
        }
    }
    c->stats.misses++;
    return 0;
}

void auth_cache_put(struct auth_cache *c, const uint8_t digest[SECRET_HASH_LEN], const struct store_stamp *stamp,
                    const struct server_secret *secret, int rc, const struct principal *who)
{
    struct cache_entry *set = set_of(c, digest), *slot = &set[0];
    for (int i = 0; i < WAYS; i++) {
        if (secret_equal(set[i].digest, digest, SECRET_HASH_LEN)) {
            slot = &set[i]; /* a stale entry of the same presentation */
            break;
        }
        if (set[i].last_use < slot->last_use)
            slot = &set[i];
    }
    memcpy(slot->digest, digest, SECRET_HASH_LEN);
    slot->stamp = *stamp;
    slot->secret = secret;
    slot->rc = rc;
    slot->who = *who;
    slot->last_use = ++c->clock;
}
