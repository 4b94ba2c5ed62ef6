/* usage.c - an open-addressing table of (credential id -> latest use) and a
 * short list of audit events, flushed in batches (see usage.h). The table
 * grows instead of filling up: it holds at most the credentials used between
 * two flushes. */
#include "auth/usage.h"

#include "util/log.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct usage_buffer {
    struct store_touch *slots; /* kind == 0: empty */
    size_t cap;                /* a power of two */
    size_t used;
    struct store_audit *events;
    size_t n_events, cap_events;
    size_t dropped_events;
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
    free(u->events);
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

void usage_record(struct usage_buffer *u, const struct store_touch *use)
{
    struct store_touch *s = slot_for(u->slots, u->cap, use->kind, use->id);
    if (!s->kind) {
        *s = *use; /* who and where: the first use the buffer saw */
        s->id[UUID_STR - 1] = '\0';
        if (++u->used * 2 > u->cap)
            grow(u);
    } else {
        if (use->when > s->when)
            s->when = use->when;
        s->close_overlap |= use->close_overlap; /* any use of a rotated token's new secret closes the overlap */
    }
}

void usage_record_event(struct usage_buffer *u, const struct store_audit *e)
{
    for (size_t i = 0; i < u->n_events; i++)
        if (strcmp(u->events[i].action, e->action) == 0 && strcmp(u->events[i].target_id, e->target_id) == 0 &&
            strcmp(u->events[i].target_kind, e->target_kind) == 0)
            return;
    if (u->n_events == USAGE_MAX_EVENTS) {
        u->dropped_events++;
        return;
    }
    if (u->n_events == u->cap_events) {
        u->cap_events = u->cap_events ? u->cap_events * 2 : 16;
        u->events = xrealloc(u->events, u->cap_events * sizeof *u->events);
    }
    u->events[u->n_events++] = *e;
}

void usage_merge(struct usage_buffer *dst, const struct usage_buffer *src)
{
    for (size_t i = 0; i < src->cap; i++)
        if (src->slots[i].kind)
            usage_record(dst, &src->slots[i]);
    for (size_t i = 0; i < src->n_events; i++)
        usage_record_event(dst, &src->events[i]);
    dst->dropped_events += src->dropped_events;
}

/* The first_use event of a touch that was its credential's first use. */
static void first_use_event(const struct store_touch *t, struct store_audit *e)
{
    memset(e, 0, sizeof *e);
    e->at = t->when;
    memcpy(e->org_id, t->org_id, sizeof e->org_id);
    memcpy(e->actor_id, t->actor_id, sizeof e->actor_id);
    snprintf(e->action, sizeof e->action, "first_use");
    memcpy(e->target_kind, t->target_kind, sizeof e->target_kind);
    memcpy(e->target_id, t->id, sizeof t->id);
    memcpy(e->source, t->source, sizeof e->source);
}

/* Writes the events: first uses the store reported, then the queued ones. */
static int write_events(struct usage_buffer *u, struct store *st, const struct store_touch *batch, size_t n,
                        const unsigned char *first)
{
    int rc = KH_OK;
    for (size_t i = 0; !rc && i < n; i++) {
        struct store_audit e;
        if (!first[i] || batch[i].kind == STORE_TOUCH_API_KEY) /* API keys name no user: no event, as before */
            continue;
        first_use_event(&batch[i], &e);
        log_info("audit first_use %s %s by user %s from %s", e.target_kind, e.target_id, e.actor_id,
                 e.source[0] ? e.source : "-");
        rc = store_audit_insert(st, &e);
    }
    for (size_t i = 0; !rc && i < u->n_events; i++)
        rc = store_audit_insert(st, &u->events[i]);
    return rc;
}

int usage_flush(struct usage_buffer *u, struct store *st)
{
    if (!u || (u->used == 0 && u->n_events == 0))
        return KH_OK;
    struct store_touch *batch = xmalloc((u->used ? u->used : 1) * sizeof *batch);
    unsigned char *first = xcalloc(u->used ? u->used : 1, 1);
    size_t n = 0;
    for (size_t i = 0; i < u->cap; i++)
        if (u->slots[i].kind)
            batch[n++] = u->slots[i];
    int rc = store_begin(st);
    if (!rc && n)
        rc = store_touch(st, batch, n, first);
    if (!rc)
        rc = write_events(u, st, batch, n, first);
    rc = rc ? (store_rollback(st), rc) : store_commit(st);
    if (rc == KH_OK) {
        memset(u->slots, 0, u->cap * sizeof *u->slots);
        u->used = 0;
        u->n_events = 0;
        if (u->dropped_events)
            log_warn("usage: %zu audit events of reads were dropped (more than %d waited)", u->dropped_events,
                     USAGE_MAX_EVENTS);
        u->dropped_events = 0;
    } else {
        log_warn("usage: could not record last-used times of %zu credentials; will retry", n);
    }
    free(batch);
    free(first);
    return rc;
}

size_t usage_pending(const struct usage_buffer *u)
{
    return u ? u->used + u->n_events : 0;
}
