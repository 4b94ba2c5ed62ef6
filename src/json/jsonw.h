/* jsonw.h - a streaming JSON writer: values written straight into one growing
 * buffer, in the bytes jansson's json_dumps(..., JSON_COMPACT) gives for the
 * same values, without building a tree first (issue 14: building, dumping
 * and freeing the tree was about 70% of a token list page's CPU).
 *
 * The caller writes the punctuation and the keys (jsonw_raw) and the values
 * through the typed calls, which escape as jansson does: '"' and '\\' and the
 * control characters below 0x20 (\b \f \n \r \t short, the others \u00XX with
 * upper-case hex), nothing else (not '/', not non-ASCII). A string that is
 * not valid UTF-8 is refused, as json_string() refuses it.
 *
 * Ownership: the writer owns its buffer until jsonw_steal() hands it over;
 * jsonw_free() frees what was not handed over. Allocation failure aborts
 * (util/xmalloc.h). */
#ifndef KH_JSONW_H
#define KH_JSONW_H

#include "util/buf.h"

#include <stddef.h>
#include <string.h>

struct jsonw {
    struct buf b;
};

void jsonw_init(struct jsonw *w);
void jsonw_free(struct jsonw *w);
/* Appends s as it is: punctuation, keys, JSON text made elsewhere. Inline,
 * so that the length of a literal is known when compiling. */
void jsonw_rawn_slow(struct jsonw *w, const char *s, size_t len);
/* Inline while the bytes fit in the room already made (jsonw_reserve): a
 * list row is about thirty small appends, and a call each was a tenth of a
 * page's CPU (issue 14). */
static inline void jsonw_rawn(struct jsonw *w, const char *s, size_t len)
{
    struct buf *b = &w->b;
    if (len < b->cap - b->len) { /* room for the bytes and the NUL (b->len < b->cap, or both 0) */
        memcpy(b->p + b->len, s, len);
        b->len += len;
        b->p[b->len] = '\0';
        return;
    }
    jsonw_rawn_slow(w, s, len);
}
static inline void jsonw_raw(struct jsonw *w, const char *s)
{
    jsonw_rawn(w, s, strlen(s));
}
/* Makes room for about len more bytes at once. */
void jsonw_reserve(struct jsonw *w, size_t len);
/* Appends s as a quoted, escaped string. Returns KH_EINVAL and appends
 * nothing when s is not valid UTF-8; 0 otherwise. */
int jsonw_string(struct jsonw *w, const char *s);
void jsonw_int(struct jsonw *w, long long v);
void jsonw_null(struct jsonw *w);
/* What is written so far, NUL-terminated ("" before anything is); valid
 * until the next write. */
const char *jsonw_text(const struct jsonw *w);
/* How many bytes are written: a mark to go back to with jsonw_truncate(). */
size_t jsonw_len(const struct jsonw *w);
void jsonw_truncate(struct jsonw *w, size_t len);
/* Hands the NUL-terminated text to the caller (who frees it); w is empty
 * afterwards. */
char *jsonw_steal(struct jsonw *w, size_t *len);

#endif
