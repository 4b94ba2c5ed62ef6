/* usage.h - last-used bookkeeping, who uses each credential, and the audit
 * events of reads, without a database write on an event loop.
 *
 * Each event loop keeps one buffer. A successful authentication records the
 * credentials it used (latest time per id wins, with who used it from where
 * the first time in the buffer) and counts the request for each of them:
 * per day, per route (the router's template, "GET /api/v2/api_keys/{id}"),
 * and the client (address and user agent) it came from, the latest
 * STORE_USAGE_CLIENTS distinct ones kept. Events that reads cause (an
 * expired token presented, a burst of failed authentications) are queued
 * beside them, one per credential or address and kind per buffer. Every few
 * seconds, and at shutdown, the loop hands its buffer to the writer thread
 * (api/writer.h), which merges it into its own and writes it in its next
 * batch, in the same transaction as the batch's requests: last-used times
 * (store_touch), the counts added to the stored ones (store_usage_add), a
 * first_use audit event for each credential whose first use ever that was
 * (the store tells, exactly, whichever loop or node saw it), and the queued
 * events. No event loop ever writes to the store. last_used_at /
 * date_last_used and a credential's usage therefore lag real use by about
 * the flush interval.
 *
 * Cost per request: one probe of the credential table, and short scans of
 * that credential's few days, routes and clients; memory is allocated once
 * per credential, route and day new to the buffer, never per request. */
#ifndef KH_USAGE_H
#define KH_USAGE_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* At most this many events wait in one buffer; more are counted and dropped
 * (a flood of one kind is one event per period anyway). */
#define USAGE_MAX_EVENTS 4096

struct usage_buffer;

struct usage_buffer *usage_new(size_t capacity);
void usage_free(struct usage_buffer *u);
/* Where a request came from and what it called, beyond use->source (the
 * client's address). */
struct usage_client {
    const char *user_agent; /* the User-Agent header's bytes (not NUL-terminated), or NULL */
    size_t user_agent_len;
    /* The route's template; a string that outlives the buffer (the
     * router's names, api_route_name), or NULL for none. */
    const char *route;
};

/* Records one request made with a credential (kind, id, when, and who from
 * where in use; what else client tells, which may be NULL): its last use,
 * and one more request of its day, route and client. The buffer grows as
 * needed. A user agent is kept as printable ASCII (other bytes become '?'),
 * cut to STORE_USAGE_UA_MAX bytes. */
void usage_record(struct usage_buffer *u, const struct store_touch *use, const struct usage_client *client);
/* Queues an audit event, unless one with the same action and target waits. */
void usage_record_event(struct usage_buffer *u, const struct store_audit *e);
/* Records every use and event held by src into dst. */
void usage_merge(struct usage_buffer *dst, const struct usage_buffer *src);
/* Writes pending uses, their counts, first-use events and queued events to
 * the store, in one transaction (nested in the caller's when it has one);
 * on failure they all stay pending (and are retried by the next flush:
 * nothing is counted twice). Returns the store's result. */
int usage_flush(struct usage_buffer *u, struct store *st);
size_t usage_pending(const struct usage_buffer *u);
/* What the buffer holds for credential id (tests): its day, route and
 * client counts as the next flush would add them (out->routes and
 * out->days allocated, store_usage_clear). KH_ENOTFOUND when it holds no
 * request of id. */
int usage_peek(const struct usage_buffer *u, const char *id, struct store_usage *out);

#endif
