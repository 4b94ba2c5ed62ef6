/* text.h - what in a piece of UTF-8 text a terminal or a page would act on
 * rather than show: the controls a name, a reason or a user agent chosen by
 * an API caller must not carry into a terminal (cli/) or be accepted in
 * (api/). */
#ifndef KH_UTIL_TEXT_H
#define KH_UTIL_TEXT_H

#include <stddef.h>

/* The length of the control character at p (0: none there): C0 controls
 * and DEL, C1 controls (U+0080..U+009F), the line and paragraph separators
 * and bidirectional controls (U+2028..U+202E, U+2066..U+2069). p points
 * into a NUL-terminated string. */
size_t text_control_at(const char *p);

#endif
