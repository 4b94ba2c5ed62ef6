/* usage.h - last-used bookkeeping without a database write per request.
 *
 * Each event loop keeps one buffer. A successful authentication records the
 * credentials it used (latest time per id wins); the loop flushes the buffer
 * to the store every few seconds, at shutdown, and at once when it fills, in
 * one transaction (store_touch). last_used_at / date_last_used therefore lag
 * real use by at most the flush interval. */
#ifndef KH_USAGE_H
#define KH_USAGE_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

struct usage_buffer;

struct usage_buffer *usage_new(size_t capacity);
void usage_free(struct usage_buffer *u);
/* Records one use. Returns 1 when the buffer is full enough that the caller
 * should flush now. */
int usage_record(struct usage_buffer *u, int kind, const char *id, int64_t when);
/* Writes pending uses to the store; on failure they stay pending (and are
 * retried by the next flush). Returns the store's result. */
int usage_flush(struct usage_buffer *u, struct store *st);
size_t usage_pending(const struct usage_buffer *u);
/* Non-zero when a use of (kind, id) is waiting to be written. */
int usage_has(const struct usage_buffer *u, int kind, const char *id);

#endif
