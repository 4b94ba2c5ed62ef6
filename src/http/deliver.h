/* deliver.h - the webhook delivery thread (docs/api/webhooks.md): sends
 * what the store's outbox holds (auth/events.h put it there), signed, with
 * retries, at least once. Not on an event loop: a slow receiver never holds
 * up an answer. It has its own store handle. */
#ifndef KH_HTTP_DELIVER_H
#define KH_HTTP_DELIVER_H

#include "config.h"
#include "store/store.h"

struct deliverer;

/* The server secret in force now (the server swaps it on reload). */
typedef const struct server_secret *(*deliver_secret_fn)(void *arg);

/* Starts the thread over st (the caller's, closed by the caller after
 * deliverer_stop). */
struct deliverer *deliverer_start(const struct config *cfg, struct store *st, deliver_secret_fn secret, void *arg);
/* Stops it: a request in flight is cut short (and logged as an attempt,
 * due again at once), the leases of deliveries not tried are given back.
 * NULL-safe. */
void deliverer_stop(struct deliverer *d);

#endif
