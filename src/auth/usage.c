/* usage.c - an open-addressing table of (credential id -> latest use, and
 * its request counts) and a short list of audit events, flushed in batches
 * (see usage.h). The table grows instead of filling up: it holds at most
 * the credentials used between two flushes. */
#include "auth/usage.h"

#include "util/log.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A route's requests in the buffer; route is the caller's (usage.h). */
struct usage_route_count {
    const char *route;
    int64_t requests;
    int64_t last_seen;
};

/* What one credential's requests add up to between two flushes: made at
 * its first request in the buffer, so a credential costs one allocation
 * per flush interval, not one per request. */
struct usage_detail {
    struct store_usage_client clients[STORE_USAGE_CLIENTS]; /* the latest distinct ones */
    size_t n_clients;
    struct usage_route_count *routes;
    size_t n_routes, cap_routes;
    struct store_usage_day *days; /* one or two: a flush interval rarely spans midnight */
    size_t n_days, cap_days;
};

struct usage_slot {
    struct store_touch use;      /* use.kind == 0: empty */
    struct usage_detail *detail; /* NULL until a request is counted */
};

struct usage_buffer {
    struct usage_slot *slots;
    size_t cap; /* a power of two */
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

static void detail_free(struct usage_detail *d)
{
    if (!d)
        return;
    free(d->routes);
    free(d->days);
    free(d);
}

/* Forgets every use (after a flush, or when the buffer goes). */
static void clear_slots(struct usage_buffer *u)
{
    for (size_t i = 0; i < u->cap; i++)
        detail_free(u->slots[i].detail);
    memset(u->slots, 0, u->cap * sizeof *u->slots);
    u->used = 0;
}

void usage_free(struct usage_buffer *u)
{
    if (!u)
        return;
    clear_slots(u);
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

static struct usage_slot *slot_for(struct usage_slot *slots, size_t cap, int kind, const char *id)
{
    size_t mask = cap - 1;
    for (size_t i = hash_id(id) & mask;; i = (i + 1) & mask)
        if (!slots[i].use.kind || (slots[i].use.kind == kind && strcmp(slots[i].use.id, id) == 0))
            return &slots[i];
}

/* Doubles the table, keeping it at most half full so probes stay short. */
static void grow(struct usage_buffer *u)
{
    size_t cap = u->cap * 2;
    struct usage_slot *slots = xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < u->cap; i++)
        if (u->slots[i].use.kind)
            *slot_for(slots, cap, u->slots[i].use.kind, u->slots[i].use.id) = u->slots[i];
    free(u->slots);
    u->slots = slots;
    u->cap = cap;
}

/* ---- one credential's counts ---- */

/* A user agent as kept: printable ASCII, other bytes '?' (it is shown in
 * JSON answers and terminals; a header may carry any byte). */
static char ua_char(char c)
{
    return c >= 0x20 && c <= 0x7e ? c : '?';
}

/* Whether kept (a user agent as kept) is raw once kept. */
static int ua_same(const char *kept, const char *raw, size_t len)
{
    if (len > STORE_USAGE_UA_MAX)
        len = STORE_USAGE_UA_MAX;
    for (size_t i = 0; i < len; i++)
        if (kept[i] != ua_char(raw[i]))
            return 0;
    return kept[len] == '\0';
}

static void ua_keep(char out[STORE_USAGE_UA_MAX + 1], const char *raw, size_t len)
{
    if (len > STORE_USAGE_UA_MAX)
        len = STORE_USAGE_UA_MAX;
    for (size_t i = 0; i < len; i++)
        out[i] = ua_char(raw[i]);
    out[len] = '\0';
}

/* Notes a client seen at `when`: the one already there moves forward; a new
 * one takes a free place, or the place of the one seen longest ago when it
 * is newer than that one. */
static void see_client(struct usage_detail *d, const char *address, const char *ua, size_t ua_len, int64_t when)
{
    struct store_usage_client *oldest = NULL;
    for (size_t i = 0; i < d->n_clients; i++) {
        struct store_usage_client *c = &d->clients[i];
        if (strcmp(c->address, address) == 0 && ua_same(c->user_agent, ua, ua_len)) {
            if (when > c->last_seen)
                c->last_seen = when;
            return;
        }
        if (!oldest || c->last_seen < oldest->last_seen)
            oldest = c;
    }
    struct store_usage_client *c = d->n_clients < STORE_USAGE_CLIENTS ? &d->clients[d->n_clients++] : oldest;
    if (c == oldest && when <= oldest->last_seen)
        return;
    snprintf(c->address, sizeof c->address, "%s", address);
    ua_keep(c->user_agent, ua, ua_len);
    c->last_seen = when;
}

/* Adds n requests to a route; the same route comes back as the same
 * pointer (the router's names), so that is tried before comparing text. */
static void count_route(struct usage_detail *d, const char *route, int64_t n, int64_t last_seen)
{
    struct usage_route_count *r = NULL;
    for (size_t i = 0; !r && i < d->n_routes; i++)
        if (d->routes[i].route == route)
            r = &d->routes[i];
    for (size_t i = 0; !r && i < d->n_routes; i++)
        if (strcmp(d->routes[i].route, route) == 0)
            r = &d->routes[i];
    if (!r) {
        if (d->n_routes == d->cap_routes) {
            d->cap_routes = d->cap_routes ? d->cap_routes * 2 : 4;
            d->routes = xrealloc(d->routes, d->cap_routes * sizeof *d->routes);
        }
        r = &d->routes[d->n_routes++];
        *r = (struct usage_route_count){.route = route};
    }
    r->requests += n;
    if (last_seen > r->last_seen)
        r->last_seen = last_seen;
}

static void count_day(struct usage_detail *d, int64_t day, int64_t n)
{
    for (size_t i = 0; i < d->n_days; i++)
        if (d->days[i].day == day) {
            d->days[i].requests += n;
            return;
        }
    if (d->n_days == d->cap_days) {
        d->cap_days = d->cap_days ? d->cap_days * 2 : 2;
        d->days = xrealloc(d->days, d->cap_days * sizeof *d->days);
    }
    d->days[d->n_days++] = (struct store_usage_day){.day = day, .requests = n};
}

static struct usage_detail *detail_of(struct usage_slot *s)
{
    if (!s->detail)
        s->detail = xcalloc(1, sizeof *s->detail);
    return s->detail;
}

/* Adds what src counted to dst (merging two loops' buffers). */
static void merge_detail(struct usage_detail *dst, const struct usage_detail *src)
{
    for (size_t i = 0; i < src->n_clients; i++)
        see_client(dst, src->clients[i].address, src->clients[i].user_agent, strlen(src->clients[i].user_agent),
                   src->clients[i].last_seen);
    for (size_t i = 0; i < src->n_routes; i++)
        count_route(dst, src->routes[i].route, src->routes[i].requests, src->routes[i].last_seen);
    for (size_t i = 0; i < src->n_days; i++)
        count_day(dst, src->days[i].day, src->days[i].requests);
}

/* ---- recording ---- */

/* The slot of use's credential, taking the use's time (the latest wins) or,
 * for a credential new to the buffer, the whole use. */
static struct usage_slot *note_use(struct usage_buffer *u, const struct store_touch *use)
{
    struct usage_slot *s = slot_for(u->slots, u->cap, use->kind, use->id);
    if (!s->use.kind) {
        s->use = *use; /* who and where: the first use the buffer saw */
        s->use.id[UUID_STR - 1] = '\0';
        if (++u->used * 2 > u->cap) {
            grow(u);
            s = slot_for(u->slots, u->cap, use->kind, use->id);
        }
    } else {
        if (use->when > s->use.when)
            s->use.when = use->when;
        s->use.close_overlap |= use->close_overlap; /* any use of a rotated token's new secret closes the overlap */
    }
    return s;
}

void usage_record(struct usage_buffer *u, const struct store_touch *use, const struct usage_client *client)
{
    struct usage_detail *d = detail_of(note_use(u, use));
    int64_t when = use->when > 0 ? use->when : 0;
    count_day(d, when / STORE_DAY_US, 1);
    if (client && client->route)
        count_route(d, client->route, 1, when);
    see_client(d, use->source, client && client->user_agent ? client->user_agent : "",
               client && client->user_agent ? client->user_agent_len : 0, when);
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
    for (size_t i = 0; i < src->cap; i++) {
        if (!src->slots[i].use.kind)
            continue;
        struct usage_slot *s = note_use(dst, &src->slots[i].use);
        if (src->slots[i].detail)
            merge_detail(detail_of(s), src->slots[i].detail);
    }
    for (size_t i = 0; i < src->n_events; i++)
        usage_record_event(dst, &src->events[i]);
    dst->dropped_events += src->dropped_events;
}

/* ---- flushing ---- */

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

/* One credential's counts as the store takes them; the route names are
 * copied into *routes (at least d->n_routes free places). */
static void add_of(const char *id, const struct usage_detail *d, struct store_usage_route *routes,
                   struct store_usage_add *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->credential_id, id, UUID_STR);
    for (size_t i = 0; i < d->n_routes; i++) {
        snprintf(routes[i].route, sizeof routes[i].route, "%s", d->routes[i].route);
        routes[i].requests = d->routes[i].requests;
        routes[i].last_seen = d->routes[i].last_seen;
    }
    out->clients = d->clients;
    out->n_clients = d->n_clients;
    out->routes = routes;
    out->n_routes = d->n_routes;
    out->days = d->days;
    out->n_days = d->n_days;
}

/* Adds every credential's counts to the store's. */
static int write_counts(struct usage_buffer *u, struct store *st)
{
    size_t n = 0, n_routes = 0;
    for (size_t i = 0; i < u->cap; i++)
        if (u->slots[i].use.kind && u->slots[i].detail) {
            n++;
            n_routes += u->slots[i].detail->n_routes;
        }
    if (!n)
        return KH_OK;
    struct store_usage_add *adds = xmalloc(n * sizeof *adds);
    struct store_usage_route *routes = xmalloc((n_routes ? n_routes : 1) * sizeof *routes), *r = routes;
    size_t k = 0;
    for (size_t i = 0; i < u->cap; i++) {
        const struct usage_slot *s = &u->slots[i];
        if (!s->use.kind || !s->detail)
            continue;
        add_of(s->use.id, s->detail, r, &adds[k++]);
        r += s->detail->n_routes;
    }
    int rc = store_usage_add(st, adds, n);
    free(routes);
    free(adds);
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
        if (u->slots[i].use.kind)
            batch[n++] = u->slots[i].use;
    int rc = store_begin(st);
    if (!rc && n)
        rc = store_touch(st, batch, n, first);
    if (!rc && n)
        rc = write_counts(u, st);
    if (!rc)
        rc = write_events(u, st, batch, n, first);
    rc = rc ? (store_rollback(st), rc) : store_commit(st);
    if (rc == KH_OK) {
        clear_slots(u);
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

int usage_peek(const struct usage_buffer *u, const char *id, struct store_usage *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < u->cap; i++) {
        const struct usage_slot *s = &u->slots[i];
        if (!s->use.kind || !s->detail || strcmp(s->use.id, id) != 0)
            continue;
        const struct usage_detail *d = s->detail;
        out->n_clients = d->n_clients;
        memcpy(out->clients, d->clients, sizeof out->clients);
        out->routes = xcalloc(d->n_routes ? d->n_routes : 1, sizeof *out->routes);
        out->n_routes = d->n_routes;
        for (size_t j = 0; j < d->n_routes; j++) {
            snprintf(out->routes[j].route, sizeof out->routes[j].route, "%s", d->routes[j].route);
            out->routes[j].requests = d->routes[j].requests;
            out->routes[j].last_seen = d->routes[j].last_seen;
        }
        out->days = xcalloc(d->n_days ? d->n_days : 1, sizeof *out->days);
        out->n_days = d->n_days;
        if (d->n_days)
            memcpy(out->days, d->days, d->n_days * sizeof *d->days);
        return KH_OK;
    }
    return KH_ENOTFOUND;
}
