/* auditchain.h - the audit trail nobody can quietly rewrite.
 *
 * The store chains each org's audit events (store_audit_hash: each event's
 * hash covers the one before it), so changing, deleting or reordering an
 * event breaks a link that anyone can recompute. What a plain hash chain
 * cannot show is events cut off its end, or a chain rewritten from some
 * point on; so the server signs checkpoints: "this org's chain had N events
 * ending in hash H", an HMAC under the server secret's audit key, which
 * someone with only the database file cannot make. A verifier walks every
 * event once, recomputes each link, and checks each checkpoint's event at
 * its position and its signature.
 *
 * What remains possible for someone who can write the file without the
 * secret: rewriting the events made since the latest checkpoint (at most one
 * checkpoint interval) before the server signs the next one. */
#ifndef KH_AUDITCHAIN_H
#define KH_AUDITCHAIN_H

#include "store/store.h"
#include "util/secret.h"

#include <stdint.h>

struct auditchain_report {
    int64_t events;      /* events walked */
    int64_t unchained;   /* made before the chain existed, not chained yet */
    int64_t orgs;        /* orgs (and the no-org trail) with chained events */
    int64_t checkpoints; /* signed checkpoints checked */
    int broken;          /* 0 when every link and checkpoint holds */
    int64_t broken_seq;  /* the first event at fault (0 when the fault is not one event's) */
    char broken_org[UUID_STR];
    char why[256];       /* what is wrong, for a person */
};

/* Signs a checkpoint of every org whose chain moved since its latest one
 * (in the caller's transaction, if any). *written gets how many. */
int auditchain_checkpoint(struct store *st, const struct server_secret *secret, int64_t now, int *written);

/* Walks the whole trail and every checkpoint. Returns KH_OK with the
 * verdict in *out (broken or not), or a store error. */
int auditchain_verify(struct store *st, const struct server_secret *secret, struct auditchain_report *out);

#endif
