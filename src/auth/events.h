/* events.h - credential events for webhooks (issue 15, item 5;
 * docs/api/webhooks.md): what happened to which credential, put in the
 * store's outbox in the transaction of the change that caused it, for the
 * delivery thread (http/deliver.c) to send.
 *
 * An event carries ids, names, kinds, the owner and times; never a secret,
 * a hash or a sealed value.
 *
 * Every change that writes a credential audit event (api/reply.c api_audit,
 * cli/cli_common.c cli_audit_event) calls events_from_audit() with it, so
 * every path that audits a creation, rotation, revocation, deletion or leak
 * (Datadog routes, the rotation extension, the CLI) also emits the event.
 * Code that marks a credential in another way calls events_emit() itself,
 * inside its transaction:
 *
 *     struct event_credential c = {.org_id = t->org_id, .id = t->id,
 *         .kind = "personal_access_token", .name = t->name,
 *         .owner_id = t->owner_id, .expires_at = t->expires_at};
 *     rc = events_emit(st, EVENT_LEAKED, &c, now);   // KH_OK or a store error
 *
 * (a leak recorded with an audit event of action "leaked" needs no call:
 * events_from_audit maps it). The expiry warnings come from the writer's
 * upkeep (events_expiry_scan). */
#ifndef KH_AUTH_EVENTS_H
#define KH_AUTH_EVENTS_H

#include "store/store.h"

#include <stdint.h>

enum event_type {
    EVENT_CREATED = 0,
    EVENT_ROTATED,
    EVENT_REVOKED, /* a token revoked, or an API or application key deleted */
    EVENT_LEAKED,
    EVENT_EXPIRING_7D, /* a token expires within 7 days (and more than 1) */
    EVENT_EXPIRING_1D, /* a token expires within a day */
    EVENT_EXPIRED,
    EVENT_TYPE_COUNT
};

#define EVENT_MASK(t) (1LL << (t))
#define EVENT_MASK_ALL ((1LL << EVENT_TYPE_COUNT) - 1)

/* "credential.created", ... ; NULL out of range. */
const char *event_type_name(int type);
/* The type of a name, -1 when there is none. */
int event_type_parse(const char *name);

/* A credential as an event shows it (borrowed strings; NULL = unknown). */
struct event_credential {
    const char *org_id;
    const char *id;
    const char *kind; /* "api_key", "application_key", "personal_access_token", "service_access_token" */
    const char *name;
    const char *owner_id;
    int64_t expires_at; /* 0: none */
    const char *actor_id; /* who caused it; NULL when keyhold itself did (expiry) */
};

/* Puts a `type` event about c in the outbox of each enabled webhook of
 * c->org_id subscribed to it (none: nothing written), in the caller's
 * transaction. KH_OK or the store's error (the caller fails its change). */
int events_emit(struct store *st, int type, const struct event_credential *c, int64_t now);

/* The event an audit event stands for, if any (a credential created,
 * rotated, revoked, deleted or leaked), emitted with the credential's name,
 * owner and expiry read from the store (a deleted key's are gone: its event
 * has its id and kind only). KH_OK when there is none. */
int events_from_audit(struct store *st, const struct store_audit *e);

/* The expiry warnings due at now: tokens of orgs with webhooks expiring
 * within 7 days, within 1 day, and expired (in the last 7 days), each warned
 * once (recorded in the store, so another node's scan does not repeat it).
 * Runs in the caller's transaction; *n gets the warnings enqueued. */
int events_expiry_scan(struct store *st, int64_t now, int *n);

#endif
