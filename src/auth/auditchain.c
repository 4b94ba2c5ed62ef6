/* auditchain.c - signing and verifying the audit chain (see auditchain.h). */
#include "auth/auditchain.h"

#include "util/xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WALK_PAGE 1000

/* The MAC of a checkpoint under key: a label, then the org, count, hash and
 * time, fixed-width or length-prefixed. */
static void checkpoint_mac(const uint8_t key[SECRET_KEY_LEN], const struct store_audit_checkpoint *c,
                           uint8_t out[SECRET_HASH_LEN])
{
    uint8_t msg[28 + 1 + UUID_STR + 8 + SECRET_HASH_LEN + 8];
    size_t n = 0, org = strlen(c->org_id);
    memcpy(msg, "keyhold audit checkpoint v1", 28); /* with its NUL */
    n = 28;
    msg[n++] = (uint8_t)org;
    memcpy(msg + n, c->org_id, org);
    n += org;
    for (int i = 0; i < 8; i++)
        msg[n++] = (uint8_t)((uint64_t)c->count >> (56 - 8 * i));
    memcpy(msg + n, c->hash, SECRET_HASH_LEN);
    n += SECRET_HASH_LEN;
    for (int i = 0; i < 8; i++)
        msg[n++] = (uint8_t)((uint64_t)c->at >> (56 - 8 * i));
    secret_hmac(key, msg, n, out);
}

static const struct store_audit_checkpoint *latest_of(const struct store_audit_checkpoint_list *l, const char *org)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].org_id, org) == 0)
            return &l->items[i];
    return NULL;
}

int auditchain_checkpoint(struct store *st, const struct server_secret *secret, int64_t now, int *written)
{
    struct store_audit_head_list heads;
    struct store_audit_checkpoint_list latest;
    const struct secret_key *k = secret_current(secret);
    *written = 0;
    int rc = store_audit_heads(st, &heads);
    if (rc)
        return rc;
    if ((rc = store_audit_checkpoints(st, 0, &latest))) {
        store_audit_head_list_free(&heads);
        return rc;
    }
    for (size_t i = 0; !rc && i < heads.n; i++) {
        const struct store_audit_head *h = &heads.items[i];
        const struct store_audit_checkpoint *last = latest_of(&latest, h->org_id);
        if (last && last->count == h->count && memcmp(last->hash, h->hash, SECRET_HASH_LEN) == 0)
            continue;
        struct store_audit_checkpoint c = {.count = h->count, .at = now, .secret_version = k->version};
        memcpy(c.org_id, h->org_id, UUID_STR);
        memcpy(c.hash, h->hash, SECRET_HASH_LEN);
        checkpoint_mac(k->audit_key, &c, c.mac);
        if (!(rc = store_audit_checkpoint_insert(st, &c)))
            (*written)++;
    }
    store_audit_checkpoint_list_free(&latest);
    store_audit_head_list_free(&heads);
    return rc;
}

/* ---- verifying ---- */

/* Where the walk stands in one org's chain, and its checkpoints (a slice of
 * the list of all, which is sorted by org then count). */
struct org_walk {
    char org_id[UUID_STR];
    int64_t count;
    uint8_t hash[SECRET_HASH_LEN];
    const struct store_audit_checkpoint *cps;
    size_t n_cps, next_cp;
};

struct walk {
    struct org_walk *orgs;
    size_t n, cap;
    struct auditchain_report *out;
};

static struct org_walk *org_of(struct walk *w, const char *org_id)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->orgs[i].org_id, org_id) == 0)
            return &w->orgs[i];
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 16;
        w->orgs = xrealloc(w->orgs, w->cap * sizeof *w->orgs);
    }
    struct org_walk *o = &w->orgs[w->n++];
    memset(o, 0, sizeof *o);
    snprintf(o->org_id, sizeof o->org_id, "%s", org_id);
    return o;
}

__attribute__((format(printf, 4, 5))) static void broken(struct auditchain_report *r, int64_t seq, const char *org,
                                                         const char *fmt, ...)
{
    va_list ap;
    r->broken = 1;
    r->broken_seq = seq;
    snprintf(r->broken_org, sizeof r->broken_org, "%s", org);
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

/* Checks the checkpoint due at the org's present count, if any. */
static void check_due_checkpoints(struct walk *w, struct org_walk *o, int64_t seq)
{
    while (!w->out->broken && o->next_cp < o->n_cps && o->cps[o->next_cp].count <= o->count) {
        const struct store_audit_checkpoint *c = &o->cps[o->next_cp++];
        if (c->count == o->count && memcmp(c->hash, o->hash, SECRET_HASH_LEN) != 0)
            broken(w->out, seq, o->org_id,
                   "the chain differs from what was signed at its event %lld: events up to it were rewritten",
                   (long long)c->count);
    }
}

/* One event: its link to the org's previous event and its own hash. */
static void walk_event(struct walk *w, const struct store_audit *e)
{
    struct org_walk *o = org_of(w, e->org_id);
    w->out->events++;
    if (!e->chained) {
        if (o->count)
            broken(w->out, e->seq, e->org_id, "event %lld has no hash, after chained events of its org",
                   (long long)e->seq);
        else
            w->out->unchained++;
        return;
    }
    uint8_t want[SECRET_HASH_LEN];
    if (memcmp(e->prev_hash, o->hash, SECRET_HASH_LEN) != 0) {
        broken(w->out, e->seq, e->org_id,
               "event %lld does not follow the event before it in its org: an event was deleted, inserted or "
               "moved there",
               (long long)e->seq);
        return;
    }
    store_audit_hash(e, o->hash, want);
    if (memcmp(want, e->hash, SECRET_HASH_LEN) != 0) {
        broken(w->out, e->seq, e->org_id, "event %lld was changed after it was written", (long long)e->seq);
        return;
    }
    memcpy(o->hash, e->hash, SECRET_HASH_LEN);
    o->count++;
    check_due_checkpoints(w, o, e->seq);
}

/* Hands each org its slice of the checkpoints, checking their signatures. */
static void attach_checkpoints(struct walk *w, const struct store_audit_checkpoint_list *all,
                               const struct server_secret *secret)
{
    for (size_t i = 0; i < all->n && !w->out->broken;) {
        size_t j = i;
        while (j < all->n && strcmp(all->items[j].org_id, all->items[i].org_id) == 0)
            j++;
        struct org_walk *o = org_of(w, all->items[i].org_id);
        o->cps = &all->items[i];
        o->n_cps = j - i;
        for (size_t c = i; c < j && !w->out->broken; c++) {
            const struct store_audit_checkpoint *cp = &all->items[c];
            const struct secret_key *k = secret_version(secret, cp->secret_version);
            uint8_t mac[SECRET_HASH_LEN];
            w->out->checkpoints++;
            if (!k) {
                broken(w->out, 0, cp->org_id, "a checkpoint is signed under secret version %d, which the secret "
                       "file no longer holds", cp->secret_version);
                break;
            }
            checkpoint_mac(k->audit_key, cp, mac);
            if (!secret_equal(mac, cp->mac, SECRET_HASH_LEN))
                broken(w->out, 0, cp->org_id, "a checkpoint's signature does not verify: it was forged or changed");
        }
        i = j;
    }
}

/* After the walk: every org reached its checkpoints (none cut off). */
static void check_ends(struct walk *w)
{
    for (size_t i = 0; i < w->n && !w->out->broken; i++) {
        struct org_walk *o = &w->orgs[i];
        if (o->next_cp < o->n_cps)
            broken(w->out, 0, o->org_id,
                   "%lld events remain of the %lld signed in a checkpoint: events were removed from the end",
                   (long long)o->count, (long long)o->cps[o->n_cps - 1].count);
        if (o->count)
            w->out->orgs++;
    }
}

int auditchain_verify(struct store *st, const struct server_secret *secret, struct auditchain_report *out)
{
    struct walk w = {.out = out};
    struct store_audit_checkpoint_list all;
    memset(out, 0, sizeof *out);
    int rc = store_audit_checkpoints(st, 1, &all);
    if (rc)
        return rc;
    attach_checkpoints(&w, &all, secret);
    int64_t after = 0;
    while (!rc && !out->broken) {
        struct store_audit_list page;
        if ((rc = store_audit_walk(st, after, WALK_PAGE, &page)))
            break;
        for (size_t i = 0; i < page.n && !out->broken; i++)
            walk_event(&w, &page.items[i]);
        size_t n = page.n;
        if (n)
            after = page.items[n - 1].seq;
        store_audit_list_free(&page);
        if (n < WALK_PAGE)
            break;
    }
    if (!rc)
        check_ends(&w);
    free(w.orgs);
    store_audit_checkpoint_list_free(&all);
    return rc;
}
