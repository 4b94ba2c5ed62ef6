/* conncount.c - an open-addressing table (address -> open connections),
 * under one mutex. It never needs to grow: each open connection holds at most
 * one entry, so a table of twice the global cap stays at most half full.
 * Entries whose count drops to zero are removed by backward-shift deletion,
 * so probes never cross tombstones. */
#include "http/conncount.h"

#include "util/secret.h"
#include "util/xmalloc.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    unsigned char addr[16]; /* IPv6, or IPv4 mapped into it */
    size_t open;            /* 0: empty */
};

struct conn_counter {
    pthread_mutex_t lock;
    uint8_t hash_key[SECRET_SIPHASH_KEY_LEN]; /* clients choose their addresses (a whole IPv6 /64) */
    struct slot *slots;
    size_t mask; /* capacity - 1, a power of two */
    size_t used, max_used;
};

struct conn_counter *conn_counter_new(size_t max_open)
{
    struct conn_counter *c = xcalloc(1, sizeof *c);
    size_t cap = 64;
    while (cap < 2 * max_open)
        cap *= 2;
    c->slots = xcalloc(cap, sizeof *c->slots);
    c->mask = cap - 1;
    c->max_used = cap / 2;
    secret_random(c->hash_key, sizeof c->hash_key);
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void conn_counter_free(struct conn_counter *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->slots);
    free(c);
}

/* The address of sa as 16 bytes; the port is not part of it, and an IPv6
 * client counts by its /64 (one host commonly holds a whole /64). */
static void key_of(const struct sockaddr *sa, unsigned char key[16])
{
    memset(key, 0, 16);
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        memcpy(key, a, IN6_IS_ADDR_V4MAPPED(a) ? 16 : 8);
    } else if (sa->sa_family == AF_INET) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    }
}

static size_t home_of(const struct conn_counter *c, const unsigned char key[16])
{
    return (size_t)secret_siphash(c->hash_key, key, 16) & c->mask;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find(const struct conn_counter *c, const unsigned char key[16])
{
    size_t i = home_of(c, key);
    while (c->slots[i].open && memcmp(c->slots[i].addr, key, 16) != 0)
        i = (i + 1) & c->mask;
    return i;
}

/* Empties slot i and moves later entries of its probe run back into the
 * hole, so that every entry stays reachable from its home slot. */
static void remove_at(struct conn_counter *c, size_t i)
{
    size_t hole = i;
    for (size_t j = (i + 1) & c->mask; c->slots[j].open; j = (j + 1) & c->mask) {
        size_t home = home_of(c, c->slots[j].addr);
        /* j may move to the hole when its home is not in (hole, j] */
        if (((j - home) & c->mask) >= ((j - hole) & c->mask)) {
            c->slots[hole] = c->slots[j];
            hole = j;
        }
    }
    memset(&c->slots[hole], 0, sizeof c->slots[hole]);
    c->used--;
}

int conn_counter_take(struct conn_counter *c, const struct sockaddr *sa, size_t cap)
{
    unsigned char key[16];
    int taken = 0;
    key_of(sa, key);
    pthread_mutex_lock(&c->lock);
    size_t i = find(c, key);
    if (c->slots[i].open) {
        if (c->slots[i].open < cap)
            c->slots[i].open++, taken = 1;
    } else if (cap > 0 && c->used < c->max_used) {
        memcpy(c->slots[i].addr, key, 16);
        c->slots[i].open = 1;
        c->used++;
        taken = 1;
    }
    pthread_mutex_unlock(&c->lock);
    return taken;
}

void conn_counter_release(struct conn_counter *c, const struct sockaddr *sa)
{
    unsigned char key[16];
    key_of(sa, key);
    pthread_mutex_lock(&c->lock);
    size_t i = find(c, key);
    if (c->slots[i].open && --c->slots[i].open == 0)
        remove_at(c, i);
    pthread_mutex_unlock(&c->lock);
}

size_t conn_counter_of(struct conn_counter *c, const struct sockaddr *sa)
{
    unsigned char key[16];
    key_of(sa, key);
    pthread_mutex_lock(&c->lock);
    size_t n = c->slots[find(c, key)].open;
    pthread_mutex_unlock(&c->lock);
    return n;
}
