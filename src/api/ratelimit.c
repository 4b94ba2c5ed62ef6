/* ratelimit.c - sharded open-addressing tables of fixed-window counters
 * (see ratelimit.h). A slot whose window has passed counts as empty, so the
 * tables never need sweeping; a full shard fails open (allows) and says so
 * once in the log rather than refusing legitimate traffic. */
#include "api/ratelimit.h"

#include "util/log.h"
#include "util/xmalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 16
#define SLOTS 4096 /* per shard, a power of two */
#define KEY_MAX 64
#define KNOWN_PER_ADDR 4

struct counter {
    char key[KEY_MAX];
    int64_t window;  /* the rule's window number; 0 = never used */
    int64_t expires; /* second at which the window ends: free from then on */
    int64_t count;
    uint64_t known[KNOWN_PER_ADDR]; /* fingerprints that succeeded (address keys only) */
};

struct shard {
    pthread_mutex_t lock;
    struct counter slots[SLOTS];
};

struct ratelimiter {
    struct shard shards[SHARDS];
    int warned;
};

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct ratelimiter *ratelimit_new(void)
{
    struct ratelimiter *r = xcalloc(1, sizeof *r);
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&r->shards[i].lock, NULL);
    return r;
}

void ratelimit_free(struct ratelimiter *r)
{
    if (!r)
        return;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_destroy(&r->shards[i].lock);
    free(r);
}

/* Finds key's slot in a locked shard, or a free one (never used, or whose
 * window ended by now_s) to claim; NULL when the shard is full. */
static struct counter *slot_for(struct ratelimiter *r, struct shard *sh, uint64_t h, const char *key, int64_t now_s)
{
    struct counter *free_slot = NULL;
    for (size_t i = 0, at = (size_t)(h / SHARDS) & (SLOTS - 1); i < SLOTS; i++, at = (at + 1) & (SLOTS - 1)) {
        struct counter *c = &sh->slots[at];
        if (c->window && strcmp(c->key, key) == 0)
            return c;
        if (!c->window)
            return free_slot ? free_slot : c; /* end of the probe chain */
        if (c->expires <= now_s && !free_slot)
            free_slot = c;
    }
    if (!free_slot && !r->warned) {
        r->warned = 1;
        log_warn("rate limiter: a table is full; limits are not enforced for new keys until windows pass");
    }
    return free_slot;
}

/* Makes c key's counter for window (resetting it when the window moved on). */
static void claim(struct counter *c, const char *key, int64_t window, int64_t expires)
{
    if (!c->window || strcmp(c->key, key) != 0) {
        memset(c, 0, sizeof *c);
        snprintf(c->key, sizeof c->key, "%s", key);
    }
    if (c->window != window) {
        c->window = window;
        c->count = 0;
    }
    c->expires = expires;
}

static void count(struct ratelimiter *r, const char *name, const struct rate_rule *rule, const char *key,
                  int64_t now_s, int add, struct rate_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->allowed = 1;
    v->name = name;
    if (!rule->limit)
        return;
    int64_t window = now_s / rule->period + 1; /* +1: 0 marks an unused slot */
    uint64_t h = hash_key(key);
    struct shard *sh = &r->shards[h % SHARDS];
    pthread_mutex_lock(&sh->lock);
    struct counter *c = slot_for(r, sh, h, key, now_s);
    if (c) {
        claim(c, key, window, window * rule->period);
        if (add)
            c->count++;
        v->allowed = c->count <= rule->limit;
        v->remaining = c->count >= rule->limit ? 0 : rule->limit - c->count;
    } else {
        v->remaining = rule->limit;
    }
    pthread_mutex_unlock(&sh->lock);
    v->limit = rule->limit;
    v->period = rule->period;
    v->reset = rule->period - now_s % rule->period;
}

void ratelimit_hit(struct ratelimiter *r, const char *name, const struct rate_rule *rule, const char *key,
                   int64_t now_s, struct rate_verdict *v)
{
    count(r, name, rule, key, now_s, 1, v);
}

void ratelimit_peek(struct ratelimiter *r, const char *name, const struct rate_rule *rule, const char *key,
                    int64_t now_s, struct rate_verdict *v)
{
    count(r, name, rule, key, now_s, 0, v);
    v->allowed = !rule->limit || v->remaining > 0;
}

/* Success fingerprints live in a separate "k:<addr>" slot that never
 * expires, so that they outlast the failure windows. Returns with the shard
 * locked. */
static struct counter *known_slot(struct ratelimiter *r, const char *addr, struct shard **sh)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "k:%s", addr);
    uint64_t h = hash_key(key);
    *sh = &r->shards[h % SHARDS];
    pthread_mutex_lock(&(*sh)->lock);
    struct counter *c = slot_for(r, *sh, h, key, 0);
    if (c)
        claim(c, key, 1, INT64_MAX);
    return c;
}

void ratelimit_remember_success(struct ratelimiter *r, const char *addr, uint64_t fingerprint)
{
    struct shard *sh;
    struct counter *c = known_slot(r, addr, &sh);
    if (c) {
        int i;
        for (i = 0; i < KNOWN_PER_ADDR && c->known[i] != fingerprint; i++)
            ;
        if (i == KNOWN_PER_ADDR) { /* new: shift out the oldest */
            memmove(c->known + 1, c->known, sizeof c->known[0] * (KNOWN_PER_ADDR - 1));
            c->known[0] = fingerprint;
        }
    }
    pthread_mutex_unlock(&sh->lock);
}

int ratelimit_known_success(struct ratelimiter *r, const char *addr, uint64_t fingerprint)
{
    struct shard *sh;
    int known = 0;
    struct counter *c = known_slot(r, addr, &sh);
    for (int i = 0; c && i < KNOWN_PER_ADDR && !known; i++)
        known = fingerprint && c->known[i] == fingerprint;
    pthread_mutex_unlock(&sh->lock);
    return known;
}

int ratelimit_parse_rule(const char *s, struct rate_rule *rule)
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
