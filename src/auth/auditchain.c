/* auditchain.c - signing and verifying the audit chain (see auditchain.h).
 *
 * A checkpoint's signed text is fixed-width fields and one length-prefixed
 * list of heads ("<org> <count> <hash hex>" lines sorted by org, '-' for
 * the events of no org): every org's chain as of event max_seq. Its digest
 * (SHA-256 of that text, the secret version and the MAC) is part of the
 * next checkpoint's signed text, so checkpoints form a chain of their own. */
#include "auth/auditchain.h"

#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WALK_PAGE 1000
#define CHECKPOINT_PAGE 100

/* ---- every org's chain as the walk finds it ---- */

struct head {
    char org_id[UUID_STR];
    int64_t count;
    uint8_t hash[SECRET_HASH_LEN];
};

/* Heads sorted by org (binary search: one lookup per event). */
struct heads {
    struct head *items;
    size_t n, cap;
};

static int head_cmp(const void *key, const void *item)
{
    return strcmp(key, ((const struct head *)item)->org_id);
}

/* The head of org, added (count 0, zero hash) when it has none yet. */
static struct head *head_of(struct heads *h, const char *org)
{
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = head_cmp(org, &h->items[mid]);
        if (c == 0)
            return &h->items[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 16;
        h->items = xrealloc(h->items, h->cap * sizeof *h->items);
    }
    memmove(&h->items[lo + 1], &h->items[lo], (h->n - lo) * sizeof *h->items);
    h->n++;
    memset(&h->items[lo], 0, sizeof h->items[lo]);
    snprintf(h->items[lo].org_id, sizeof h->items[lo].org_id, "%s", org);
    return &h->items[lo];
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The heads as a checkpoint's text (orgs with events only). Caller frees. */
static char *heads_text(const struct heads *h)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 30);
    for (size_t i = 0; i < h->n; i++) {
        char hx[2 * SECRET_HASH_LEN + 1];
        if (!h->items[i].count)
            continue;
        hex(h->items[i].hash, SECRET_HASH_LEN, hx);
        buf_printf(&b, "%s %" PRId64 " %s\n", h->items[i].org_id[0] ? h->items[i].org_id : "-", h->items[i].count, hx);
    }
    return buf_steal(&b, NULL);
}

/* Parses a checkpoint's heads text back; -1 when it is malformed. */
static int heads_parse(const char *text, struct heads *out)
{
    memset(out, 0, sizeof *out);
    for (const char *p = text; *p;) {
        char org[UUID_STR], hx[2 * SECRET_HASH_LEN + 1];
        long long count;
        int used = 0;
        const char *nl = strchr(p, '\n');
        if (!nl || sscanf(p, "%36s %lld %64s%n", org, &count, hx, &used) != 3 || p + used != nl ||
            strlen(hx) != 2 * SECRET_HASH_LEN || count <= 0)
            return -1;
        struct head *h = head_of(out, strcmp(org, "-") == 0 ? "" : org);
        if (h->count)
            return -1; /* an org twice */
        h->count = count;
        for (int i = 0; i < SECRET_HASH_LEN; i++) {
            unsigned v;
            if (sscanf(hx + 2 * i, "%2x", &v) != 1)
                return -1;
            h->hash[i] = (uint8_t)v;
        }
        p = nl + 1;
    }
    return 0;
}

/* ---- a checkpoint's signed text, MAC and digest ---- */

static void put64(struct buf *b, int64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    buf_add(b, x, sizeof x);
}

static void signed_text(const struct store_audit_checkpoint *c, struct buf *b)
{
    buf_init(b, (size_t)1 << 30);
    buf_add(b, "keyhold audit checkpoint v2", 28); /* with its NUL */
    put64(b, c->number);
    put64(b, c->at);
    put64(b, c->max_seq);
    buf_add(b, c->prev_digest, SECRET_HASH_LEN);
    put64(b, (int64_t)strlen(c->heads));
    buf_adds(b, c->heads);
}

static void checkpoint_mac(const struct secret_key *k, const struct store_audit_checkpoint *c,
                           uint8_t out[SECRET_HASH_LEN])
{
    struct buf b;
    signed_text(c, &b);
    secret_hmac(k->audit_key, b.p, b.len, out);
    buf_free(&b);
}

/* What the next checkpoint names as the one before it. */
static void checkpoint_digest(const struct store_audit_checkpoint *c, uint8_t out[SECRET_HASH_LEN])
{
    struct buf b;
    signed_text(c, &b);
    put64(&b, c->secret_version);
    buf_add(&b, c->mac, SECRET_HASH_LEN);
    secret_sha256(b.p, b.len, out);
    buf_free(&b);
}

/* ---- walking events ---- */

enum link { LINK_OK, LINK_UNCHAINED, LINK_BROKEN, LINK_CHANGED };

/* One event against the heads: does it follow its org's head, and is its
 * hash its own? Moves the head on LINK_OK. */
static enum link follow(struct heads *h, const struct store_audit *e)
{
    if (!e->chained)
        return LINK_UNCHAINED;
    struct head *head = head_of(h, e->org_id);
    uint8_t want[SECRET_HASH_LEN];
    if (memcmp(e->prev_hash, head->hash, SECRET_HASH_LEN) != 0)
        return LINK_BROKEN;
    store_audit_hash(e, head->hash, want);
    if (memcmp(want, e->hash, SECRET_HASH_LEN) != 0)
        return LINK_CHANGED;
    memcpy(head->hash, e->hash, SECRET_HASH_LEN);
    head->count++;
    return LINK_OK;
}

static const char *link_fault(enum link l)
{
    switch (l) {
    case LINK_UNCHAINED:
        return "has no hash: it was inserted, or no server has chained it since the chain began";
    case LINK_BROKEN:
        return "does not follow the event before it in its org: an event was deleted, inserted or moved there";
    case LINK_CHANGED:
        return "was changed after it was written";
    default:
        return "";
    }
}

/* ---- signing ---- */

int auditchain_checkpoint(struct store *st, const struct server_secret *secret, int64_t now, int *written)
{
    struct store_audit_checkpoint last, next = {0};
    struct heads heads = {0};
    const struct secret_key *k = secret_current(secret);
    *written = 0;
    int rc = store_audit_checkpoint_latest(st, &last);
    if (rc && rc != KH_ENOTFOUND)
        return rc;
    int have_last = rc == KH_OK;
    rc = KH_OK;
    if (have_last) {
        const struct secret_key *lk = secret_version(secret, last.secret_version);
        uint8_t mac[SECRET_HASH_LEN];
        if (lk)
            checkpoint_mac(lk, &last, mac);
        /* The server signs only on top of what it can vouch for: a forged or
         * changed last checkpoint, or heads it cannot read, stop it. */
        if ((lk && !secret_equal(mac, last.mac, SECRET_HASH_LEN)) || heads_parse(last.heads, &heads)) {
            log_error("audit: checkpoint %" PRId64 " does not verify; the trail is not signed further "
                      "(keyhold audit verify says more)",
                      last.number);
            rc = KH_ECONFLICT;
        }
    }
    int64_t after = have_last ? last.max_seq : INT64_MIN, max_seq = after;
    while (!rc) {
        struct store_audit_list page;
        if ((rc = store_audit_walk(st, after, WALK_PAGE, &page)))
            break;
        for (size_t i = 0; !rc && i < page.n; i++) {
            enum link l = follow(&heads, &page.items[i]);
            if (l != LINK_OK) {
                log_error("audit: event %" PRId64 " %s; the trail is not signed further", page.items[i].seq,
                          link_fault(l));
                rc = KH_ECONFLICT;
            }
            max_seq = page.items[i].seq;
        }
        size_t n = page.n;
        if (n)
            after = page.items[n - 1].seq;
        store_audit_list_free(&page);
        if (n < WALK_PAGE)
            break;
    }
    if (!rc && max_seq != (have_last ? last.max_seq : INT64_MIN)) {
        next.number = have_last ? last.number + 1 : 1;
        next.at = now;
        next.max_seq = max_seq;
        next.heads = heads_text(&heads);
        if (have_last)
            checkpoint_digest(&last, next.prev_digest);
        next.secret_version = k->version;
        checkpoint_mac(k, &next, next.mac);
        if (!(rc = store_audit_checkpoint_insert(st, &next))) {
            *written = 1;
            char m[2 * SECRET_HASH_LEN + 1];
            hex(next.mac, SECRET_HASH_LEN, m);
            /* Outside the store: a copy of these lines proves a later rollback of the whole store. */
            log_info("audit: signed checkpoint %" PRId64 " (events up to %" PRId64 "), mac %s", next.number,
                     next.max_seq, m);
        }
    }
    store_audit_checkpoint_clear(&next);
    if (have_last)
        store_audit_checkpoint_clear(&last);
    free(heads.items);
    return rc;
}

/* ---- verifying ---- */

struct verify {
    struct store *st;
    const struct server_secret *secret;
    struct auditchain_report *out;
    struct heads heads;
    int64_t after_seq; /* events walked up to here */
    int ended;         /* no events after after_seq */
};

__attribute__((format(printf, 4, 5))) static void broken(struct auditchain_report *r, int64_t seq, const char *org,
                                                         const char *fmt, ...)
{
    va_list ap;
    if (r->broken)
        return;
    r->broken = 1;
    r->broken_seq = seq;
    snprintf(r->broken_org, sizeof r->broken_org, "%s", org);
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

/* Walks the events up to and including seq `upto` (INT64_MAX: all). */
static int walk_events(struct verify *v, int64_t upto)
{
    while (!v->out->broken && !v->ended && v->after_seq < upto) {
        struct store_audit_list page;
        int rc = store_audit_walk(v->st, v->after_seq, WALK_PAGE, &page);
        if (rc)
            return rc;
        size_t i = 0;
        for (; i < page.n && page.items[i].seq <= upto && !v->out->broken; i++) {
            const struct store_audit *e = &page.items[i];
            enum link l = follow(&v->heads, e);
            v->out->events++;
            if (upto == INT64_MAX)
                v->out->unsigned_events++;
            if (l != LINK_OK)
                broken(v->out, e->seq, e->org_id, "event %" PRId64 " %s", e->seq, link_fault(l));
            v->after_seq = e->seq;
        }
        int beyond = i < page.n; /* reached an event after upto: all up to it are walked */
        if (page.n < WALK_PAGE && !beyond)
            v->ended = 1;
        store_audit_list_free(&page);
        if (beyond)
            break;
    }
    return KH_OK;
}

/* The heads the walk reached equal those the checkpoint signed. */
static void compare_heads(struct verify *v, const struct store_audit_checkpoint *c)
{
    struct heads want;
    if (heads_parse(c->heads, &want)) {
        broken(v->out, 0, "", "checkpoint %" PRId64 " cannot be read", c->number);
        free(want.items);
        return;
    }
    char *have = heads_text(&v->heads), *signed_heads = heads_text(&want);
    if (strcmp(have, signed_heads) != 0)
        broken(v->out, 0, "",
               "the events up to %" PRId64 " differ from what checkpoint %" PRId64
               " signed: events were changed, removed or added and the chain rewritten",
               c->max_seq, c->number);
    free(have);
    free(signed_heads);
    free(want.items);
}

/* One checkpoint: numbered next, naming the one before, signed (when its
 * secret version is still held), and matching the events up to it. */
static int check_checkpoint(struct verify *v, const struct store_audit_checkpoint *c, int64_t expected_number,
                            const uint8_t prev_digest[SECRET_HASH_LEN], int *verified)
{
    const struct secret_key *k = secret_version(v->secret, c->secret_version);
    uint8_t mac[SECRET_HASH_LEN];
    *verified = 0;
    if (c->number != expected_number) {
        broken(v->out, 0, "", "checkpoint %" PRId64 " is missing: checkpoints were removed", expected_number);
        return KH_OK;
    }
    if (memcmp(c->prev_digest, prev_digest, SECRET_HASH_LEN) != 0) {
        broken(v->out, 0, "", "checkpoint %" PRId64 " does not follow the one before it: checkpoints were changed",
               c->number);
        return KH_OK;
    }
    if (k) {
        checkpoint_mac(k, c, mac);
        if (!secret_equal(mac, c->mac, SECRET_HASH_LEN)) {
            broken(v->out, 0, "", "checkpoint %" PRId64 "'s signature does not verify: it was forged or changed",
                   c->number);
            return KH_OK;
        }
        *verified = 1;
    }
    int rc = walk_events(v, c->max_seq);
    if (!rc && !v->out->broken)
        compare_heads(v, c);
    v->out->checkpoints++;
    return rc;
}

int auditchain_verify(struct store *st, const struct server_secret *secret, const struct auditchain_anchor *anchor,
                      struct auditchain_report *out)
{
    int anchor_seen = 0;
    struct verify v = {.st = st, .secret = secret, .out = out, .after_seq = INT64_MIN};
    uint8_t prev[SECRET_HASH_LEN] = {0};
    int64_t number = 0;
    int newest_verified = 0, rc = KH_OK;
    memset(out, 0, sizeof *out);
    while (!rc && !out->broken) {
        struct store_audit_checkpoint_list page;
        if ((rc = store_audit_checkpoint_walk(st, number, CHECKPOINT_PAGE, &page)))
            break;
        for (size_t i = 0; !rc && i < page.n && !out->broken; i++) {
            rc = check_checkpoint(&v, &page.items[i], number + 1, prev, &newest_verified);
            if (anchor && page.items[i].number == anchor->number) {
                anchor_seen = 1;
                if (!secret_equal(anchor->mac, page.items[i].mac, SECRET_HASH_LEN))
                    broken(out, 0, "", "checkpoint %" PRId64 " is not the one logged: the store was replaced or "
                           "its checkpoints rewritten", anchor->number);
            }
            checkpoint_digest(&page.items[i], prev);
            number = page.items[i].number;
            out->signed_at = page.items[i].at;
        }
        size_t n = page.n;
        store_audit_checkpoint_list_free(&page);
        if (n < CHECKPOINT_PAGE)
            break;
    }
    /* A later checkpoint vouches for earlier ones (their digests are in
     * what it signed), so only the newest must be verifiable. */
    if (!rc && !out->broken && number && !newest_verified)
        broken(out, 0, "", "the newest checkpoint (%" PRId64 ") is signed under a secret version the secret file "
               "no longer holds", number);
    if (!rc && !out->broken)
        rc = walk_events(&v, INT64_MAX); /* made since the newest checkpoint: not signed yet */
    if (!rc && !out->broken && anchor && !anchor_seen)
        broken(out, 0, "", "checkpoint %" PRId64 " (logged by a server) is not in the store: an older copy of the "
               "store was put in its place, or checkpoints were removed", anchor->number);
    if (!rc && !out->broken && !number && out->events)
        broken(out, 0, "", "no checkpoint signs these %" PRId64 " events: none was written yet (a server signs "
               "within a minute of its first write, and when it stops) or all were removed",
               out->events);
    for (size_t i = 0; i < v.heads.n; i++)
        out->orgs += v.heads.items[i].count > 0;
    free(v.heads.items);
    return rc;
}
