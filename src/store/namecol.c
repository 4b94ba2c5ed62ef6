/* namecol.c - the in-memory name column of an org's live tokens (namecol.h):
 * its rows, the two orders a page can be taken in, the substring scan, and
 * a bounded memo of scan results.
 *
 * Layout (why it is compact: a million tokens must fit beside the server in
 * well under 300 MB):
 *   slots[]    one 48-byte record per row ever put since the last full build:
 *              the id as 16 bytes, created_at, expires_at, where its name is,
 *              the interned owner and the kind. A replaced or revoked row's
 *              slot stays, marked dead, until the next full build.
 *   arena      every slot's lowered name followed by a NUL, in slot order, so
 *              one memmem() pass over the arena finds every name holding the
 *              filter (a filter has no NUL, so a match never spans two names).
 *   by_name[], by_created[]
 *              the live slots in the two SQL orders, kept sorted: a scan
 *              marks matching slots in a bitmap, then walks an order.
 *   hash       id -> slot (open addressing, never shrinks: a dead slot keeps
 *              its entry until the id is put again).
 *   memo       the matching slots of recent (filter, order) pairs at the
 *              column's revision, most recent first, at most MEMO_BYTES. */
#define _GNU_SOURCE
#include "store/namecol.h"

#include "util/errors.h"
#include "util/uuid.h"
#include "util/xmalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMO_BYTES (8u << 20) /* matching slots kept per column, at most */
#define LOWERED_CACHE 64      /* filters whose lowered form is remembered */
#define MAX_DEAD_SHARE 2      /* dead slots beyond live / this (+ slack) ask for a full build */
#define DEAD_SLACK 65536

struct slot {
    uint8_t id[16];
    int64_t created_at;
    int64_t expires_at;
    uint32_t name_off, name_len;
    uint32_t owner;
    uint8_t kind, dead;
};

struct memo {
    struct memo *prev, *next;
    char *filter;
    enum namecol_order order;
    uint32_t *slots;
    size_t n;
};

struct lowered {
    char *filter, *lfilter;
};

struct owners {
    char (*ids)[UUID_STR];
    size_t n, cap;
    uint32_t *hash; /* index + 1, 0 = empty */
    size_t hash_cap;
};

struct namecol {
    struct namecol *next; /* in its set */
    char org_id[UUID_STR];
    pthread_mutex_t lock;
    int64_t rev;  /* -1: nothing held */
    size_t odd;   /* rows that cannot be judged exactly (namecol_put) */
    struct slot *slots;
    size_t n, cap;
    char *arena;
    size_t arena_len, arena_cap;
    uint32_t *by_name, *by_created;
    size_t n_sorted;          /* entries of by_name/by_created */
    size_t n_done;            /* slots at the last namecol_done: those below are in the orders (or dead) */
    size_t dead_sorted;       /* of those, slots dead since */
    uint32_t *pending;        /* live slots put since the last namecol_done, not yet in the orders */
    size_t n_pending, pending_cap;
    uint32_t *hash;           /* slot + 1, 0 = empty */
    size_t hash_cap;
    struct owners owners;
    struct memo *memo_head, *memo_tail;
    size_t memo_bytes;
    struct lowered lowered[LOWERED_CACHE];
    unsigned lowered_next;
};

struct namecol_set {
    struct namecol_set *next;
    char *key;
    int users;
    pthread_mutex_t lock; /* the list of columns */
    struct namecol *cols;
};

static pthread_mutex_t sets_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t answers;
static struct namecol_set *sets;

/* ---- small helpers ---- */

static uint64_t hash_bytes(const void *p, size_t len)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a final mix: seeded ids share their first bytes */
    for (size_t i = 0; i < len; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
}

/* Strict UTF-8 (no overlong forms, surrogates or values past U+10FFFF): on
 * such text a byte substring is a character substring, which is what both
 * backends' LIKE compare. */
static int utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        if (c < 0x80)
            n = 0;
        else if (c >= 0xc2 && c <= 0xdf)
            n = 1;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3;
        else
            return 0;
        if (n >= len - i)
            return 0;
        for (size_t k = 1; k <= n; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        if (n == 2 && ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f)))
            return 0;
        if (n == 3 && ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f)))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* Canonical (lowercase) UUID text to 16 bytes: the order of such strings is
 * the order of their bytes, which is what lets the column sort by id. */
static int id_bytes(const char *id, uint8_t out[16])
{
    char back[UUID_STR];
    size_t len = strlen(id);
    if (uuid_parse(id, len, out))
        return -1;
    uuid_format(out, back);
    return strcmp(back, id) == 0 ? 0 : -1;
}

/* ---- owners: interned, so a slot holds 4 bytes instead of 37 ---- */

static uint32_t owner_find(const struct owners *o, const char *id)
{
    if (!o->hash_cap)
        return UINT32_MAX;
    for (size_t i = hash_bytes(id, strlen(id)) & (o->hash_cap - 1);; i = (i + 1) & (o->hash_cap - 1)) {
        uint32_t v = o->hash[i];
        if (!v)
            return UINT32_MAX;
        if (strcmp(o->ids[v - 1], id) == 0)
            return v - 1;
    }
}

static void owner_hash_insert(struct owners *o, uint32_t idx)
{
    size_t i = hash_bytes(o->ids[idx], strlen(o->ids[idx])) & (o->hash_cap - 1);
    while (o->hash[i])
        i = (i + 1) & (o->hash_cap - 1);
    o->hash[i] = idx + 1;
}

static uint32_t owner_intern(struct owners *o, const char *id)
{
    uint32_t found = owner_find(o, id);
    if (found != UINT32_MAX)
        return found;
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 16;
        o->ids = xrealloc(o->ids, o->cap * sizeof *o->ids);
    }
    snprintf(o->ids[o->n], UUID_STR, "%s", id);
    uint32_t idx = (uint32_t)o->n++;
    if (2 * o->n > o->hash_cap) {
        free(o->hash);
        o->hash_cap = o->hash_cap ? 2 * o->hash_cap : 64;
        o->hash = xcalloc(o->hash_cap, sizeof *o->hash);
        for (uint32_t k = 0; k < o->n; k++)
            owner_hash_insert(o, k);
    } else {
        owner_hash_insert(o, idx);
    }
    return idx;
}

static void owners_free(struct owners *o)
{
    free(o->ids);
    free(o->hash);
    memset(o, 0, sizeof *o);
}

/* ---- id -> slot ---- */

static size_t hash_find(const struct namecol *c, const uint8_t id[16])
{
    size_t i = hash_bytes(id, 16) & (c->hash_cap - 1);
    while (c->hash[i] && memcmp(c->slots[c->hash[i] - 1].id, id, 16) != 0)
        i = (i + 1) & (c->hash_cap - 1);
    return i;
}

static void hash_grow(struct namecol *c)
{
    free(c->hash);
    c->hash_cap = c->hash_cap ? 2 * c->hash_cap : 1024;
    c->hash = xcalloc(c->hash_cap, sizeof *c->hash);
    /* Only the newest slot of each id goes back in: older ones are dead. */
    for (size_t s = c->n; s-- > 0;) {
        size_t i = hash_find(c, c->slots[s].id);
        if (!c->hash[i])
            c->hash[i] = (uint32_t)s + 1;
    }
}

/* ---- the orders ---- */

static int cmp_name(const struct namecol *c, uint32_t a, uint32_t b)
{
    const struct slot *x = &c->slots[a], *y = &c->slots[b];
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int r = memcmp(c->arena + x->name_off, c->arena + y->name_off, n);
    if (r)
        return r;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    return memcmp(x->id, y->id, 16);
}

static int cmp_created(const struct namecol *c, uint32_t a, uint32_t b)
{
    const struct slot *x = &c->slots[a], *y = &c->slots[b];
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    return memcmp(x->id, y->id, 16);
}

typedef int (*slot_cmp)(const struct namecol *, uint32_t, uint32_t);

struct sort_ctx {
    const struct namecol *c;
    slot_cmp cmp;
};

static int qsort_cmp(const void *a, const void *b, void *arg)
{
    const struct sort_ctx *x = arg;
    return x->cmp(x->c, *(const uint32_t *)a, *(const uint32_t *)b);
}

/* Makes *order (n_sorted entries, sorted) the live slots of *order and
 * pending (sorted by cmp here): dead ones dropped, a merge of two sorted
 * runs. Appending is the common case (new tokens are the newest) and costs
 * nothing more than the copy of pending. */
static void order_merge(struct namecol *c, uint32_t **order, slot_cmp cmp)
{
    struct sort_ctx ctx = {c, cmp};
    qsort_r(c->pending, c->n_pending, sizeof *c->pending, qsort_cmp, &ctx);
    size_t total = c->n_sorted - c->dead_sorted + c->n_pending;
    uint32_t *old = *order;
    size_t n_old = c->n_sorted;
    if (!c->dead_sorted && (!n_old || !c->n_pending || cmp(c, old[n_old - 1], c->pending[0]) < 0)) {
        old = xrealloc(old, (total ? total : 1) * sizeof *old);
        memcpy(old + n_old, c->pending, c->n_pending * sizeof *old);
        *order = old;
        return;
    }
    uint32_t *out = xmalloc((total ? total : 1) * sizeof *out);
    size_t i = 0, j = 0, k = 0;
    while (i < n_old || j < c->n_pending) {
        if (i < n_old && c->slots[old[i]].dead) {
            i++;
            continue;
        }
        if (j >= c->n_pending || (i < n_old && cmp(c, old[i], c->pending[j]) < 0))
            out[k++] = old[i++];
        else
            out[k++] = c->pending[j++];
    }
    free(old);
    *order = out;
}

/* ---- memo and lowered filters ---- */

static void memo_unlink(struct namecol *c, struct memo *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        c->memo_head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        c->memo_tail = m->prev;
    m->prev = m->next = NULL;
}

static void memo_push_front(struct namecol *c, struct memo *m)
{
    m->next = c->memo_head;
    m->prev = NULL;
    if (c->memo_head)
        c->memo_head->prev = m;
    c->memo_head = m;
    if (!c->memo_tail)
        c->memo_tail = m;
}

static void memo_free(struct memo *m)
{
    if (!m)
        return;
    free(m->filter);
    free(m->slots);
    free(m);
}

static void memo_drop(struct namecol *c, struct memo *m)
{
    memo_unlink(c, m);
    c->memo_bytes -= m->n * sizeof *m->slots;
    memo_free(m);
}

static void memo_clear(struct namecol *c)
{
    while (c->memo_head)
        memo_drop(c, c->memo_head);
}

static struct memo *memo_find(struct namecol *c, const char *filter, enum namecol_order order)
{
    for (struct memo *m = c->memo_head; m; m = m->next) {
        if (m->order == order && strcmp(m->filter, filter) == 0) {
            memo_unlink(c, m);
            memo_push_front(c, m);
            return m;
        }
    }
    return NULL;
}

/* Keeps m (the column owns it from here) unless it alone exceeds the bound;
 * older entries go first. Returns whether it was kept. */
static int memo_keep(struct namecol *c, struct memo *m)
{
    size_t bytes = m->n * sizeof *m->slots;
    if (bytes > MEMO_BYTES)
        return 0;
    while (c->memo_tail && c->memo_bytes + bytes > MEMO_BYTES)
        memo_drop(c, c->memo_tail);
    memo_push_front(c, m);
    c->memo_bytes += bytes;
    return 1;
}

static const char *lowered_find(const struct namecol *c, const char *filter)
{
    for (unsigned i = 0; i < LOWERED_CACHE; i++)
        if (c->lowered[i].filter && strcmp(c->lowered[i].filter, filter) == 0)
            return c->lowered[i].lfilter;
    return NULL;
}

static void lowered_remember(struct namecol *c, const char *filter, const char *lfilter)
{
    if (lowered_find(c, filter))
        return;
    struct lowered *l = &c->lowered[c->lowered_next++ % LOWERED_CACHE];
    free(l->filter);
    free(l->lfilter);
    l->filter = xstrdup(filter);
    l->lfilter = xstrdup(lfilter);
}

/* ---- the set of columns ---- */

struct namecol_set *namecol_set_take(const char *key)
{
    pthread_mutex_lock(&sets_lock);
    struct namecol_set *set = sets;
    while (set && strcmp(set->key, key) != 0)
        set = set->next;
    if (!set) {
        set = xcalloc(1, sizeof *set);
        set->key = xstrdup(key);
        pthread_mutex_init(&set->lock, NULL);
        set->next = sets;
        sets = set;
    }
    set->users++;
    pthread_mutex_unlock(&sets_lock);
    return set;
}

static void column_free(struct namecol *c)
{
    namecol_clear(c);
    for (unsigned i = 0; i < LOWERED_CACHE; i++) {
        free(c->lowered[i].filter);
        free(c->lowered[i].lfilter);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void namecol_set_release(struct namecol_set *set)
{
    if (!set)
        return;
    pthread_mutex_lock(&sets_lock);
    int last = --set->users == 0;
    if (last) {
        struct namecol_set **p = &sets;
        while (*p != set)
            p = &(*p)->next;
        *p = set->next;
    }
    pthread_mutex_unlock(&sets_lock);
    if (!last)
        return;
    while (set->cols) {
        struct namecol *c = set->cols;
        set->cols = c->next;
        column_free(c);
    }
    pthread_mutex_destroy(&set->lock);
    free(set->key);
    free(set);
}

struct namecol *namecol_lock(struct namecol_set *set, const char *org_id)
{
    pthread_mutex_lock(&set->lock);
    struct namecol *c = set->cols;
    while (c && strcmp(c->org_id, org_id) != 0)
        c = c->next;
    if (!c) {
        c = xcalloc(1, sizeof *c);
        snprintf(c->org_id, sizeof c->org_id, "%s", org_id);
        pthread_mutex_init(&c->lock, NULL);
        c->rev = -1;
        c->next = set->cols;
        set->cols = c;
    }
    pthread_mutex_unlock(&set->lock);
    pthread_mutex_lock(&c->lock);
    return c;
}

void namecol_unlock(struct namecol *c)
{
    pthread_mutex_unlock(&c->lock);
}

/* ---- filling ---- */

int64_t namecol_rev(const struct namecol *c)
{
    return c->rev;
}

void namecol_clear(struct namecol *c)
{
    memo_clear(c);
    free(c->slots);
    free(c->arena);
    free(c->by_name);
    free(c->by_created);
    free(c->pending);
    free(c->hash);
    owners_free(&c->owners);
    c->slots = NULL;
    c->arena = NULL;
    c->by_name = c->by_created = c->pending = c->hash = NULL;
    c->n = c->cap = c->arena_len = c->arena_cap = c->n_sorted = c->dead_sorted = 0;
    c->n_pending = c->pending_cap = c->hash_cap = c->n_done = 0;
    c->odd = 0;
    c->rev = -1;
}

/* Marks the slot of id dead (if any); returns the hash position for id. */
static size_t kill_slot(struct namecol *c, const uint8_t id[16])
{
    if (!c->hash_cap)
        hash_grow(c);
    size_t i = hash_find(c, id);
    if (c->hash[i]) {
        struct slot *old = &c->slots[c->hash[i] - 1];
        if (!old->dead) {
            old->dead = 1;
            /* A pending slot is not in the orders yet: namecol_done skips it. */
            if (c->hash[i] - 1 < c->n_done)
                c->dead_sorted++;
        }
    }
    return i;
}

void namecol_put(struct namecol *c, const struct namecol_row *r)
{
    uint8_t id[16];
    if (id_bytes(r->id, id) || !utf8_valid((const unsigned char *)r->lname, r->lname_len) ||
        r->lname_len > UINT32_MAX / 2 || c->arena_len + r->lname_len + 1 > UINT32_MAX) {
        c->odd++;
        return;
    }
    size_t h = kill_slot(c, id);
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->slots = xrealloc(c->slots, c->cap * sizeof *c->slots);
    }
    while (c->arena_len + r->lname_len + 1 > c->arena_cap) {
        c->arena_cap = c->arena_cap ? 2 * c->arena_cap : 65536;
        c->arena = xrealloc(c->arena, c->arena_cap);
    }
    struct slot *s = &c->slots[c->n];
    memset(s, 0, sizeof *s);
    memcpy(s->id, id, 16);
    s->created_at = r->created_at;
    s->expires_at = r->expires_at;
    s->name_off = (uint32_t)c->arena_len;
    s->name_len = (uint32_t)r->lname_len;
    s->owner = owner_intern(&c->owners, r->owner_id);
    s->kind = (uint8_t)r->kind;
    memcpy(c->arena + c->arena_len, r->lname, r->lname_len);
    c->arena[c->arena_len + r->lname_len] = '\0';
    c->arena_len += r->lname_len + 1;
    uint32_t slot = (uint32_t)c->n++;
    c->hash[h] = slot + 1;
    if (2 * c->n > c->hash_cap)
        hash_grow(c);
    if (c->n_pending == c->pending_cap) {
        c->pending_cap = c->pending_cap ? 2 * c->pending_cap : 256;
        c->pending = xrealloc(c->pending, c->pending_cap * sizeof *c->pending);
    }
    c->pending[c->n_pending++] = slot;
}

void namecol_remove(struct namecol *c, const char *id)
{
    uint8_t b[16];
    if (id_bytes(id, b))
        return; /* never put: nothing to drop (its put made the column odd) */
    kill_slot(c, b);
}

void namecol_done(struct namecol *c, int64_t rev)
{
    size_t k = 0;
    for (size_t i = 0; i < c->n_pending; i++) /* put, then replaced or revoked before now */
        if (!c->slots[c->pending[i]].dead)
            c->pending[k++] = c->pending[i];
    c->n_pending = k;
    if (k || c->dead_sorted) {
        order_merge(c, &c->by_name, cmp_name);
        order_merge(c, &c->by_created, cmp_created);
        c->n_sorted = c->n_sorted - c->dead_sorted + k;
        c->dead_sorted = 0;
    }
    c->n_pending = 0;
    if (c->pending_cap > 4096) { /* a full build's list of every row: not needed until the next */
        free(c->pending);
        c->pending = NULL;
        c->pending_cap = 0;
    }
    c->n_done = c->n;
    if (c->rev != rev)
        memo_clear(c);
    c->rev = rev;
    /* Dead slots cost memory and scan time; past a share of the live ones a
     * full build (at the next query) is cheaper than carrying them. */
    if (c->n - c->n_sorted > c->n_sorted / MAX_DEAD_SHARE + DEAD_SLACK)
        c->rev = -1;
}

/* ---- answering ---- */

/* A bitmap of the live slots whose lowered name holds lf (m bytes): one
 * memmem() pass over the arena; each hit is mapped to its slot by a binary
 * search above the previous hit's slot, and the search goes on after that
 * name. Caller frees. */
static uint64_t *match_bits(const struct namecol *c, const char *lf, size_t m)
{
    uint64_t *bits = xcalloc(c->n / 64 + 1, sizeof *bits);
    const char *p = c->arena, *end = c->arena ? c->arena + c->arena_len : NULL; /* no arithmetic on NULL */
    size_t lo = 0;
    while (c->n && p && p < end) {
        const char *hit = m ? memmem(p, (size_t)(end - p), lf, m) : p;
        if (!hit)
            break;
        size_t off = (size_t)(hit - c->arena), a = lo, b = c->n;
        while (b - a > 1) {
            size_t mid = a + (b - a) / 2;
            if (c->slots[mid].name_off <= off)
                a = mid;
            else
                b = mid;
        }
        if (!c->slots[a].dead)
            bits[a / 64] |= 1ULL << (a % 64);
        lo = a;
        p = c->arena + c->slots[a].name_off + c->slots[a].name_len + 1;
    }
    return bits;
}

/* The live slots matching lf, in the given order (ascending). */
static struct memo *memo_build(const struct namecol *c, const char *filter, const char *lf, enum namecol_order order)
{
    uint64_t *bits = match_bits(c, lf, strlen(lf));
    const uint32_t *arr = order == NAMECOL_BY_NAME ? c->by_name : c->by_created;
    size_t n = 0;
    for (size_t i = 0; i < c->n / 64 + 1; i++)
        n += (size_t)__builtin_popcountll(bits[i]);
    struct memo *m = xcalloc(1, sizeof *m);
    m->filter = xstrdup(filter);
    m->order = order;
    m->slots = xmalloc((n ? n : 1) * sizeof *m->slots);
    for (size_t i = 0; i < c->n_sorted && m->n < n; i++)
        if (bits[arr[i] / 64] >> (arr[i] % 64) & 1)
            m->slots[m->n++] = arr[i];
    free(bits);
    return m;
}

static int owner_listed(const uint32_t *owners, size_t n, uint32_t owner)
{
    for (size_t i = 0; i < n; i++)
        if (owners[i] == owner)
            return 1;
    return 0;
}

int namecol_query(struct namecol *c, const struct namecol_query *q, struct namecol_page *out)
{
    uint32_t owners[NAMECOL_MAX_OWNERS];
    memset(out, 0, sizeof *out);
    if (c->odd || c->rev < 0 || q->n_owners > NAMECOL_MAX_OWNERS || q->offset < 0 || q->limit < 0 ||
        q->limit > NAMECOL_MAX_PAGE || !utf8_valid((const unsigned char *)q->filter, strlen(q->filter)))
        return KH_ENOTSUP;
    const char *lf = q->lfilter ? q->lfilter : lowered_find(c, q->filter);
    if (!lf)
        return KH_EINVAL;
    if (!utf8_valid((const unsigned char *)lf, strlen(lf)))
        return KH_ENOTSUP;
    if (q->lfilter)
        lowered_remember(c, q->filter, q->lfilter);
    for (size_t i = 0; i < q->n_owners; i++)
        owners[i] = owner_find(&c->owners, q->owner_ids[i]); /* UINT32_MAX, an owner without tokens, matches none */
    enum namecol_order order = q->order == NAMECOL_BY_NAME ? NAMECOL_BY_NAME : NAMECOL_BY_CREATED;
    struct memo *m = memo_find(c, q->filter, order), *temp = NULL;
    if (!m) {
        m = memo_build(c, q->filter, lf, order);
        if (!memo_keep(c, m))
            temp = m;
    }
    int64_t end = q->order == NAMECOL_COUNT_ONLY ? 0 : q->offset + q->limit;
    for (size_t k = 0; k < m->n; k++) {
        const struct slot *s = &c->slots[m->slots[q->desc ? m->n - 1 - k : k]];
        if (s->expires_at <= q->now || (q->kind && s->kind != q->kind) ||
            (q->n_owners && !owner_listed(owners, q->n_owners, s->owner)))
            continue;
        if (out->total >= q->offset && out->total < end)
            uuid_format(s->id, out->ids[out->n++]);
        out->total++;
    }
    memo_free(temp);
    if (q->order != NAMECOL_COUNT_ONLY)
        atomic_fetch_add(&answers, 1);
    return KH_OK;
}

uint64_t namecol_answers(void)
{
    return atomic_load(&answers);
}

size_t namecol_bytes(const struct namecol *c)
{
    return c->cap * sizeof *c->slots + c->arena_cap + 2 * c->n_sorted * sizeof(uint32_t) +
           c->hash_cap * sizeof *c->hash + c->owners.cap * UUID_STR + c->owners.hash_cap * sizeof(uint32_t) +
           c->memo_bytes;
}
