/* auditchain.h - the audit trail nobody can quietly rewrite.
 *
 * The store chains each org's audit events (store_audit_hash: each event's
 * hash covers the one before it), so changing, deleting or reordering an
 * event breaks a link that anyone can recompute. What a plain hash chain
 * cannot show is a chain cut short or rewritten from some event on (the
 * hash has no key); so the server signs checkpoints, numbered without gaps:
 * every org's head (event count and last hash) as of event max_seq, and the
 * digest of the checkpoint before, under an HMAC with the server secret's
 * audit key, which someone with only the database file cannot make. The
 * signer first walks the events since the last checkpoint and signs only
 * links that hold. A verifier walks every event once, recomputes each link,
 * and at each checkpoint compares what it found with what was signed.
 *
 * What remains possible for someone who can write the store but lacks the
 * secret: changing the events made since the newest checkpoint (at most a
 * checkpoint interval of them) before the next is signed, and rolling the
 * whole store back to an earlier copy (the server logs each checkpoint's
 * number and MAC: a copy of that log outside the store shows it). */
#ifndef KH_AUDITCHAIN_H
#define KH_AUDITCHAIN_H

#include "store/store.h"
#include "util/secret.h"

#include <stdint.h>

struct auditchain_report {
    int64_t events;          /* events walked */
    int64_t unsigned_events; /* made since the newest checkpoint */
    int64_t orgs;            /* orgs (and the no-org trail) with events */
    int64_t checkpoints;     /* checkpoints checked */
    int64_t signed_at;       /* the newest checkpoint's time, 0 when none */
    int broken;          /* 0 when every link and checkpoint holds */
    int64_t broken_seq;  /* the first event at fault (0 when the fault is not one event's) */
    char broken_org[UUID_STR];
    char why[256];       /* what is wrong, for a person */
};

/* Signs the next checkpoint when events were added since the newest one and
 * every link since holds (in the caller's transaction, if any); *written is
 * 1 when it did. KH_ECONFLICT (logged) when a link or the newest checkpoint
 * does not hold, or another signer took the number first. */
int auditchain_checkpoint(struct store *st, const struct server_secret *secret, int64_t now, int *written);

/* A checkpoint known from outside the store (the server's log): its number
 * and MAC. The store must still hold it, so an older copy put in place of
 * the store is found. */
struct auditchain_anchor {
    int64_t number;
    uint8_t mac[SECRET_HASH_LEN];
};

/* Walks the whole trail and every checkpoint (and, when anchor is not NULL,
 * finds it among them). Returns KH_OK with the verdict in *out (broken or
 * not), or a store error. */
int auditchain_verify(struct store *st, const struct server_secret *secret, const struct auditchain_anchor *anchor,
                      struct auditchain_report *out);

#endif
