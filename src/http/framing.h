/* framing.h - the checks on a request head that libh2o 2.2 does not make
 * (docs/internals/http.md, "Framing"). libh2o frames a body by the first
 * Content-Length, or by Transfer-Encoding when both are present, and joins
 * obs-fold continuation lines into a nameless header; the headers that frame
 * a body never reach the handler. A front proxy that frames the same bytes
 * another way would let a second request be smuggled inside the first
 * (RFC 9112 section 6.3, 11.2), so such a head is refused with 400 and its
 * connection closed, whatever it asks for. */
#ifndef KH_FRAMING_H
#define KH_FRAMING_H

#include <stddef.h>

/* Looks at the head at the start of bytes (the request line, header lines,
 * then an empty line; bytes past that are not looked at). Returns NULL when
 * its framing is unambiguous, else why not, as an error message. */
const char *http_framing_problem(const char *bytes, size_t len);

#endif
