/* usage.h - last-used bookkeeping without a database write per request.
 *
 * Each event loop keeps one buffer. A successful authentication records the
 * credentials it used (latest time per id wins). Every few seconds, and at
 * shutdown, the loop hands its buffer to the writer thread (http/writer.h),
 * which merges it into its own and writes it in its next batch, in the same
 * transaction as the batch's requests (store_touch). No event loop ever
 * writes a last-used time itself. last_used_at / date_last_used therefore
 * lag real use by about the flush interval. */
#ifndef KH_USAGE_H
#define KH_USAGE_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

struct usage_buffer;

struct usage_buffer *usage_new(size_t capacity);
void usage_free(struct usage_buffer *u);
/* Records one use; the buffer grows as needed. */
void usage_record(struct usage_buffer *u, int kind, const char *id, int64_t when);
/* Records every use held by src into dst. */
void usage_merge(struct usage_buffer *dst, const struct usage_buffer *src);
/* Writes pending uses to the store; on failure they stay pending (and are
 * retried by the next flush). Returns the store's result. */
int usage_flush(struct usage_buffer *u, struct store *st);
size_t usage_pending(const struct usage_buffer *u);
/* Non-zero when a use of (kind, id) is waiting to be written. */
int usage_has(const struct usage_buffer *u, int kind, const char *id);

#endif
