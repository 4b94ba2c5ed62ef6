/* ratelimit.c - the three bounded structures of ratelimit.h: sharded LRU
 * tables (exact request counters; remembered successes) and a sharded
 * count-min sketch (failed authentications).
 *
 * Every structure is cut into SHARDS shards, each with its own lock, chosen
 * by a keyed hash of the key (SipHash-2-4 under a random key made by
 * ratelimit_new). Recency is kept per shard: the entry a full shard evicts is
 * the least recently used of that shard. Nothing here is ever swept: a
 * counter whose window has passed restarts when its key comes back, and is
 * evicted like any other entry when it does not. */
#include "api/ratelimit.h"

#include "util/log.h"
#include "util/secret.h"
#include "util/xmalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 16
#define KEY_MAX 48 /* "c:" and a UUID, or an IPv6 address in text */
#define KNOWN_PER_ADDR 4
#define SKETCH_ROWS 4
#define NIL UINT32_MAX

/* One key of an LRU table. Request counters use window and count, the
 * success table uses known. */
struct entry {
    uint64_t hash;
    char key[KEY_MAX]; /* cut short when longer; the hash tells such keys apart */
    int64_t window;    /* the rule's window counted; 0 = none yet */
    int64_t count;
    uint64_t known[KNOWN_PER_ADDR]; /* fingerprints that succeeded, newest first */
    uint32_t chain;                 /* next entry of the same bucket */
    uint32_t newer, older;          /* the shard's recency list */
};

struct lru_shard {
    pthread_mutex_t lock;
    struct entry *entries; /* cap of them; the first `used` are live */
    uint32_t *buckets;     /* heads of the hash chains */
    uint32_t cap, used, mask;
    uint32_t newest, oldest;
};

struct lru_table {
    const char *what;    /* its name in the log */
    atomic_int evicting; /* the first eviction was logged */
    struct lru_shard shards[SHARDS];
};

/* SKETCH_ROWS rows of width counters; each key adds to one counter per row
 * and its count is the least of them: never below the truth. */
struct sketch_shard {
    pthread_mutex_t lock;
    int64_t window, period; /* the window the counters count */
    uint32_t *cells;
    uint32_t mask; /* width - 1 */
};

struct ratelimiter {
    uint8_t hash_key[SECRET_SIPHASH_KEY_LEN];
    pthread_mutex_t setup_lock;
    atomic_int ready; /* the tables are made */
    struct lru_table requests, successes;
    struct sketch_shard failures[SHARDS];
};

/* ---- keyed hash ---- */

/* SipHash-2-4 of a string under k (util/secret.h): attackers choose the
 * addresses and, in part, the keys, but without k cannot tell where they
 * land. */
static uint64_t siphash(const uint8_t k[SECRET_SIPHASH_KEY_LEN], const char *s)
{
    return secret_siphash(k, s, strlen(s));
}

/* The low bits choose the shard; the others are left for inside it. */
static unsigned shard_of(uint64_t h)
{
    return (unsigned)(h % SHARDS);
}

/* ---- setup ---- */

struct ratelimiter *ratelimit_new(void)
{
    struct ratelimiter *r = xcalloc(1, sizeof *r);
    secret_random(r->hash_key, sizeof r->hash_key);
    pthread_mutex_init(&r->setup_lock, NULL);
    r->requests.what = "request";
    r->successes.what = "success";
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&r->requests.shards[i].lock, NULL);
        pthread_mutex_init(&r->successes.shards[i].lock, NULL);
        pthread_mutex_init(&r->failures[i].lock, NULL);
    }
    return r;
}

static void lru_make(struct lru_table *t, size_t entries)
{
    uint32_t cap = (uint32_t)((entries + SHARDS - 1) / SHARDS), buckets = 1;
    while (buckets < cap)
        buckets <<= 1;
    for (int i = 0; i < SHARDS; i++) {
        struct lru_shard *sh = &t->shards[i];
        sh->entries = xcalloc(cap, sizeof *sh->entries);
        sh->buckets = xmalloc(buckets * sizeof *sh->buckets);
        memset(sh->buckets, 0xff, buckets * sizeof *sh->buckets); /* all NIL */
        sh->cap = cap;
        sh->mask = buckets - 1;
        sh->newest = sh->oldest = NIL;
    }
}

/* Never below the default width, whatever the tables' size: a sketch much
 * smaller than the number of addresses failing in a window over-counts them
 * all, and refuses everyone's unknown credentials (closed, but for nothing). */
static void sketch_make(struct sketch_shard *shards, size_t entries)
{
    uint32_t width = 1;
    if (entries < RATE_TABLE_DEFAULT_ENTRIES)
        entries = RATE_TABLE_DEFAULT_ENTRIES;
    while (width * SHARDS < entries)
        width <<= 1;
    for (int i = 0; i < SHARDS; i++) {
        shards[i].cells = xcalloc((size_t)SKETCH_ROWS * width, sizeof *shards[i].cells);
        shards[i].mask = width - 1;
    }
}

/* Makes the tables once, whichever thread comes first. */
static void make_tables(struct ratelimiter *r, size_t entries)
{
    pthread_mutex_lock(&r->setup_lock);
    if (!atomic_load_explicit(&r->ready, memory_order_relaxed)) {
        if (entries < RATE_TABLE_MIN_ENTRIES)
            entries = RATE_TABLE_MIN_ENTRIES;
        if (entries > RATE_TABLE_MAX_ENTRIES)
            entries = RATE_TABLE_MAX_ENTRIES;
        lru_make(&r->requests, entries);
        lru_make(&r->successes, entries);
        sketch_make(r->failures, entries);
        atomic_store_explicit(&r->ready, 1, memory_order_release);
    }
    pthread_mutex_unlock(&r->setup_lock);
}

void ratelimit_size(struct ratelimiter *r, size_t entries)
{
    if (!atomic_load_explicit(&r->ready, memory_order_acquire))
        make_tables(r, entries);
}

static void ready(struct ratelimiter *r)
{
    ratelimit_size(r, RATE_TABLE_DEFAULT_ENTRIES);
}

static void lru_free(struct lru_table *t)
{
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_destroy(&t->shards[i].lock);
        free(t->shards[i].entries);
        free(t->shards[i].buckets);
    }
}

void ratelimit_free(struct ratelimiter *r)
{
    if (!r)
        return;
    lru_free(&r->requests);
    lru_free(&r->successes);
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_destroy(&r->failures[i].lock);
        free(r->failures[i].cells);
    }
    pthread_mutex_destroy(&r->setup_lock);
    free(r);
}

/* ---- LRU tables (called with the shard locked) ---- */

static void recency_unlink(struct lru_shard *sh, uint32_t i)
{
    struct entry *e = &sh->entries[i];
    if (e->newer != NIL)
        sh->entries[e->newer].older = e->older;
    else
        sh->newest = e->older;
    if (e->older != NIL)
        sh->entries[e->older].newer = e->newer;
    else
        sh->oldest = e->newer;
}

static void recency_push(struct lru_shard *sh, uint32_t i)
{
    struct entry *e = &sh->entries[i];
    e->newer = NIL;
    e->older = sh->newest;
    if (sh->newest != NIL)
        sh->entries[sh->newest].newer = i;
    else
        sh->oldest = i;
    sh->newest = i;
}

static uint32_t *bucket_of(struct lru_shard *sh, uint64_t h)
{
    return &sh->buckets[(h / SHARDS) & sh->mask];
}

static void chain_unlink(struct lru_shard *sh, uint32_t i)
{
    uint32_t *link = bucket_of(sh, sh->entries[i].hash);
    while (*link != i)
        link = &sh->entries[*link].chain;
    *link = sh->entries[i].chain;
}

/* The shard's least recently used entry, taken out of its chain and list
 * for reuse. */
static uint32_t evict_oldest(struct lru_table *t, struct lru_shard *sh)
{
    uint32_t i = sh->oldest;
    if (!atomic_exchange(&t->evicting, 1))
        log_info("rate limiter: the %s table is full; its least recently used keys make room "
                 "(--rate-limit-table-size)",
                 t->what);
    recency_unlink(sh, i);
    chain_unlink(sh, i);
    return i;
}

/* Finds key's entry and makes it the most recently used; when it has none
 * and `create` is set, gives it a zeroed one (evicting the least recently
 * used entry of a full shard). NULL when absent and not created. */
static struct entry *lru_get(struct lru_table *t, struct lru_shard *sh, uint64_t h, const char *key, int create)
{
    for (uint32_t i = *bucket_of(sh, h); i != NIL; i = sh->entries[i].chain) {
        struct entry *e = &sh->entries[i];
        if (e->hash == h && strncmp(e->key, key, KEY_MAX - 1) == 0) {
            recency_unlink(sh, i);
            recency_push(sh, i);
            return e;
        }
    }
    if (!create)
        return NULL;
    uint32_t i = sh->used < sh->cap ? sh->used++ : evict_oldest(t, sh);
    struct entry *e = &sh->entries[i];
    memset(e, 0, sizeof *e);
    e->hash = h;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->chain = *bucket_of(sh, h);
    *bucket_of(sh, h) = i;
    recency_push(sh, i);
    return e;
}

static size_t lru_entries(struct lru_table *t)
{
    size_t n = 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&t->shards[i].lock);
        n += t->shards[i].used;
        pthread_mutex_unlock(&t->shards[i].lock);
    }
    return n;
}

/* ---- verdicts ---- */

/* Window numbers start at 1: 0 marks "none yet". */
static int64_t window_of(const struct rate_rule *rule, int64_t now_s)
{
    return now_s / rule->period + 1;
}

static void verdict_start(struct rate_verdict *v, const char *name, const struct rate_rule *rule, int64_t now_s)
{
    memset(v, 0, sizeof *v);
    v->allowed = 1;
    v->name = name;
    if (!rule->limit)
        return;
    v->limit = rule->limit;
    v->period = rule->period;
    v->remaining = rule->limit;
    v->reset = rule->period - now_s % rule->period;
}

/* ---- requests ---- */

void ratelimit_take(struct ratelimiter *r, const char *name, const struct rate_rule *rule, const char *key,
                    int64_t now_s, struct rate_verdict *v)
{
    verdict_start(v, name, rule, now_s);
    if (!rule->limit)
        return;
    ready(r);
    uint64_t h = siphash(r->hash_key, key);
    struct lru_shard *sh = &r->requests.shards[shard_of(h)];
    int64_t window = window_of(rule, now_s);
    pthread_mutex_lock(&sh->lock);
    struct entry *e = lru_get(&r->requests, sh, h, key, 1);
    /* A thread a little behind the clock counts in the newer window rather
     * than moving the counter back to its own. */
    if (window > e->window) {
        e->window = window;
        e->count = 0;
    }
    v->allowed = e->count < rule->limit;
    if (v->allowed)
        e->count++;
    v->remaining = rule->limit - e->count;
    pthread_mutex_unlock(&sh->lock);
}

void ratelimit_give_back(struct ratelimiter *r, const struct rate_rule *rule, const char *key, int64_t now_s)
{
    if (!rule->limit)
        return;
    ready(r);
    uint64_t h = siphash(r->hash_key, key);
    struct lru_shard *sh = &r->requests.shards[shard_of(h)];
    pthread_mutex_lock(&sh->lock);
    struct entry *e = lru_get(&r->requests, sh, h, key, 0);
    if (e && e->window == window_of(rule, now_s) && e->count > 0)
        e->count--;
    pthread_mutex_unlock(&sh->lock);
}

/* ---- failed authentications: count-min sketch ---- */

/* The counter of each row for hash h (double hashing over the bits the
 * shard choice left). */
static void sketch_cells(const struct sketch_shard *sh, uint64_t h, uint32_t out[SKETCH_ROWS])
{
    uint32_t a = (uint32_t)(h >> 4), b = (uint32_t)(h >> 32) | 1;
    for (uint32_t row = 0; row < SKETCH_ROWS; row++)
        out[row] = row * (sh->mask + 1) + ((a + row * b) & sh->mask);
}

/* Starts now_s's window when it is later than the one counted. A thread a
 * little behind the clock counts in the newer window: more, never less. */
static void sketch_advance(struct sketch_shard *sh, const struct rate_rule *rule, int64_t now_s)
{
    int64_t window = window_of(rule, now_s);
    if (window > sh->window || rule->period != sh->period) {
        memset(sh->cells, 0, (size_t)SKETCH_ROWS * (sh->mask + 1) * sizeof *sh->cells);
        sh->window = window;
        sh->period = rule->period;
    }
}

/* Adds one to addr's count and returns the new estimate. Conservative
 * update: only the counters at the least value grow (to least + 1), which
 * keeps every counter at or above the true count of each key on it and
 * over-counts less than adding to all of them. */
static uint32_t sketch_add(struct sketch_shard *sh, uint64_t h)
{
    uint32_t cells[SKETCH_ROWS], least = UINT32_MAX;
    sketch_cells(sh, h, cells);
    for (int row = 0; row < SKETCH_ROWS; row++)
        if (sh->cells[cells[row]] < least)
            least = sh->cells[cells[row]];
    uint32_t next = least == UINT32_MAX ? least : least + 1;
    for (int row = 0; row < SKETCH_ROWS; row++)
        if (sh->cells[cells[row]] < next)
            sh->cells[cells[row]] = next;
    return next;
}

static uint32_t sketch_read(const struct sketch_shard *sh, uint64_t h)
{
    uint32_t cells[SKETCH_ROWS], least = UINT32_MAX;
    sketch_cells(sh, h, cells);
    for (int row = 0; row < SKETCH_ROWS; row++)
        if (sh->cells[cells[row]] < least)
            least = sh->cells[cells[row]];
    return least;
}

static void failure_count(struct ratelimiter *r, const char *name, const struct rate_rule *rule, const char *addr,
                          int64_t now_s, int add, struct rate_verdict *v)
{
    verdict_start(v, name, rule, now_s);
    if (!rule->limit)
        return;
    ready(r);
    uint64_t h = siphash(r->hash_key, addr);
    struct sketch_shard *sh = &r->failures[shard_of(h)];
    pthread_mutex_lock(&sh->lock);
    sketch_advance(sh, rule, now_s);
    int64_t count = add ? sketch_add(sh, h) : sketch_read(sh, h);
    pthread_mutex_unlock(&sh->lock);
    v->remaining = count >= rule->limit ? 0 : rule->limit - count;
    v->allowed = add ? count <= rule->limit : v->remaining > 0;
}

void ratelimit_failure_hit(struct ratelimiter *r, const char *name, const struct rate_rule *rule, const char *addr,
                           int64_t now_s, struct rate_verdict *v)
{
    failure_count(r, name, rule, addr, now_s, 1, v);
}

void ratelimit_failure_peek(struct ratelimiter *r, const char *name, const struct rate_rule *rule, const char *addr,
                            int64_t now_s, struct rate_verdict *v)
{
    failure_count(r, name, rule, addr, now_s, 0, v);
}

/* ---- successes ---- */

void ratelimit_remember_success(struct ratelimiter *r, const char *addr, uint64_t fingerprint)
{
    ready(r);
    uint64_t h = siphash(r->hash_key, addr);
    struct lru_shard *sh = &r->successes.shards[shard_of(h)];
    pthread_mutex_lock(&sh->lock);
    struct entry *e = lru_get(&r->successes, sh, h, addr, 1);
    int i;
    for (i = 0; i < KNOWN_PER_ADDR && e->known[i] != fingerprint; i++)
        ;
    if (i == KNOWN_PER_ADDR) { /* new: shift out the oldest */
        memmove(e->known + 1, e->known, sizeof e->known[0] * (KNOWN_PER_ADDR - 1));
        e->known[0] = fingerprint;
    }
    pthread_mutex_unlock(&sh->lock);
}

int ratelimit_known_success(struct ratelimiter *r, const char *addr, uint64_t fingerprint)
{
    int known = 0;
    if (!fingerprint)
        return 0;
    ready(r);
    uint64_t h = siphash(r->hash_key, addr);
    struct lru_shard *sh = &r->successes.shards[shard_of(h)];
    pthread_mutex_lock(&sh->lock);
    struct entry *e = lru_get(&r->successes, sh, h, addr, 0);
    for (int i = 0; e && i < KNOWN_PER_ADDR && !known; i++)
        known = e->known[i] == fingerprint;
    pthread_mutex_unlock(&sh->lock);
    return known;
}

size_t ratelimit_request_entries(struct ratelimiter *r)
{
    ready(r);
    return lru_entries(&r->requests);
}

size_t ratelimit_success_entries(struct ratelimiter *r)
{
    ready(r);
    return lru_entries(&r->successes);
}

/* ---- rules ---- */

int ratelimit_credential_rules(const struct rate_rule *credential, const struct rate_rule *org, int percent,
                               struct rate_rule out[2])
{
    int n = 0;
    if (credential->limit)
        out[n++] = *credential;
    /* 100% is what the org limit already enforces. */
    if (!org->limit || percent >= 100)
        return n;
    /* percent of the limit, rounded down (without overflowing), at least 1 */
    int64_t share = org->limit / 100 * percent + org->limit % 100 * percent / 100;
    struct rate_rule rule = {share > 0 ? share : 1, org->period};
    if (n && out[0].period == rule.period) {
        if (rule.limit < out[0].limit)
            out[0].limit = rule.limit;
    } else {
        out[n++] = rule;
    }
    return n;
}
