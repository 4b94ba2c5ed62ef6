/* usage.c - an open-addressing table of (credential id -> latest use),
 * flushed in batches (see usage.h). It grows instead of filling up: it holds
 * at most the credentials used between two flushes. */
#include "auth/usage.h"

#include "util/log.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct usage_buffer {
    struct store_touch *slots; /* kind == 0: empty */
    size_t cap;                /* a power of two */
    size_t used;
};

struct usage_buffer *usage_new(size_t capacity)
{
    struct usage_buffer *u = xcalloc(1, sizeof *u);
    u->cap = 64;
    while (u->cap < capacity)
        u->cap *= 2;
    u->slots = xcalloc(u->cap, sizeof *u->slots);
    return u;
}

void usage_free(struct usage_buffer *u)
{
    if (!u)
        return;
    free(u->slots);
    free(u);
}

/* FNV-1a over the id text. */
static size_t hash_id(const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ULL;
    return (size_t)h;
}

static struct store_touch *slot_for(struct store_touch *slots, size_t cap, int kind, const char *id)
{
    size_t mask = cap - 1;
    for (size_t i = hash_id(id) & mask;; i = (i + 1) & mask)
        if (!slots[i].kind || (slots[i].kind == kind && strcmp(slots[i].id, id) == 0))
            return &slots[i];
}

/* Doubles the table, keeping it at most half full so probes stay short. */
static void grow(struct usage_buffer *u)
{
    size_t cap = u->cap * 2;
    struct store_touch *slots = xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < u->cap; i++)
        if (u->slots[i].kind)
            *slot_for(slots, cap, u->slots[i].kind, u->slots[i].id) = u->slots[i];
    free(u->slots);
    u->slots = slots;
    u->cap = cap;
}

void usage_record(struct usage_buffer *u, int kind, const char *id, int64_t when)
{
    struct store_touch *s = slot_for(u->slots, u->cap, kind, id);
    if (!s->kind) {
        s->kind = kind;
        memcpy(s->id, id, UUID_STR);
        s->id[UUID_STR - 1] = '\0';
        s->when = when;
        if (++u->used * 2 > u->cap)
            grow(u);
    } else if (when > s->when) {
        s->when = when;
    }
}

void usage_merge(struct usage_buffer *dst, const struct usage_buffer *src)
{
    for (size_t i = 0; i < src->cap; i++)
        if (src->slots[i].kind)
            usage_record(dst, src->slots[i].kind, src->slots[i].id, src->slots[i].when);
}

int usage_flush(struct usage_buffer *u, struct store *st)
{
    if (!u || u->used == 0)
        return KH_OK;
    struct store_touch *batch = xmalloc(u->used * sizeof *batch);
    size_t n = 0;
    for (size_t i = 0; i < u->cap; i++)
        if (u->slots[i].kind)
            batch[n++] = u->slots[i];
    int rc = store_touch(st, batch, n);
    if (rc == KH_OK) {
        memset(u->slots, 0, u->cap * sizeof *u->slots);
        u->used = 0;
    } else {
        log_warn("usage: could not record last-used times of %zu credentials; will retry", n);
    }
    free(batch);
    return rc;
}

size_t usage_pending(const struct usage_buffer *u)
{
    return u ? u->used : 0;
}

int usage_has(const struct usage_buffer *u, int kind, const char *id)
{
    return u && slot_for(u->slots, u->cap, kind, id)->kind != 0;
}
