/* xmalloc.h - allocation that aborts on failure.
 *
 * keyhold treats out-of-memory as fatal (like Redis zmalloc and h2o's "or
 * dies" helpers), so every other function can reserve its error codes for
 * real failures. */
#ifndef KH_XMALLOC_H
#define KH_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a freshly allocated string owned by the caller. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
