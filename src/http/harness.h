/* harness.h - the HTTP layer in-process, for the request fuzzer
 * (fuzz/fuzz_request.c): the real stack (libh2o's parser, the JSON error
 * filter, routing, authentication, handlers) on one event loop in the
 * calling thread, over a store the caller opened, without sockets to bind
 * or threads to start. */
#ifndef KH_HTTP_HARNESS_H
#define KH_HTTP_HARNESS_H

#include "config.h"
#include "util/secret.h"

#include <stddef.h>

struct store;
struct buf;

/* Sets the harness up once per process over st (which stays the caller's).
 * The loop's api_env is made as a served loop's is (api_env_init: a
 * last-used buffer and an authentication cache); there is no writer, so
 * every request is answered on the loop. */
void http_harness_init(const struct config *cfg, const struct server_secret *secret, struct store *st);
/* Writes len bytes as a client on a fresh connection, then EOF; runs the loop
 * until the server closes; appends what it wrote back to *out. Returns 0, or
 * -1 when the server did not close within the bound. */
int http_harness_exchange(const void *in, size_t len, struct buf *out);

#endif
