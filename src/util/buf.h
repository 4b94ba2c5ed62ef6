/* buf.h - a growable byte buffer with a size ceiling (after curl's dynbuf).
 *
 * Appends beyond `max` fail with KH_EINVAL and leave the buffer as it was, so
 * anything built from network input stays bounded. The buffer is always
 * NUL-terminated. */
#ifndef KH_BUF_H
#define KH_BUF_H

#include <stddef.h>

struct buf {
    char *p;
    size_t len;
    size_t cap;
    size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
int buf_add(struct buf *b, const void *data, size_t len);
/* Makes room for len more bytes at once (an answer whose size is known
 * roughly), so that appends do not grow the buffer step by step. Room beyond
 * max is not taken; appends still stop there. */
void buf_reserve(struct buf *b, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the storage to the caller (who frees it) and resets b. */
char *buf_steal(struct buf *b, size_t *len);

#endif
