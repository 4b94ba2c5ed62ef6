/* usage.h - last-used bookkeeping and the audit events of reads, without a
 * database write on an event loop.
 *
 * Each event loop keeps one buffer. A successful authentication records the
 * credentials it used (latest time per id wins, with who used it from where
 * the first time in the buffer). Events that reads cause (an expired token
 * presented, a burst of failed authentications) are queued beside them, one
 * per credential or address and kind per buffer. Every few seconds, and at
 * shutdown, the loop hands its buffer to the writer thread (api/writer.h),
 * which merges it into its own and writes it in its next batch, in the same
 * transaction as the batch's requests: last-used times (store_touch), a
 * first_use audit event for each credential whose first use ever that
 * was (the store tells, exactly, whichever loop or node saw it), and the
 * queued events. No event loop ever writes to the store. last_used_at /
 * date_last_used therefore lag real use by about the flush interval. */
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
/* Records one use (kind, id, when, and who from where); the buffer grows as
 * needed. */
void usage_record(struct usage_buffer *u, const struct store_touch *use);
/* Queues an audit event, unless one with the same action and target waits. */
void usage_record_event(struct usage_buffer *u, const struct store_audit *e);
/* Records every use and event held by src into dst. */
void usage_merge(struct usage_buffer *dst, const struct usage_buffer *src);
/* Writes pending uses, first-use events and queued events to the store, in
 * the caller's transaction when it has one; on failure they stay pending
 * (and are retried by the next flush). Returns the store's result. */
int usage_flush(struct usage_buffer *u, struct store *st);
size_t usage_pending(const struct usage_buffer *u);

#endif
