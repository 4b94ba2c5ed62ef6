/* server.h - the HTTP front end: the only code that knows the HTTP library
 * (libh2o). See docs/internals/http.md for why libh2o and how it is set up. */
#ifndef KH_HTTP_SERVER_H
#define KH_HTTP_SERVER_H

#include "config.h"
#include "util/secret.h"

/* Binds cfg->listen_host:listen_port, runs cfg->threads event loops, each with
 * its own store handle, until SIGINT or SIGTERM; then stops accepting,
 * finishes in-flight requests, closes the stores and returns 0. Returns 1 if
 * it cannot start. */
int http_serve(const struct config *cfg, const struct server_secret *secret);

/* The same, calling ready(port, arg) once every socket is listening (port is
 * the one bound: the kernel's choice for port 0), before serving. */
int http_serve_notify(const struct config *cfg, const struct server_secret *secret, void (*ready)(int port, void *arg),
                      void *arg);

/* For the request fuzzer: the real HTTP stack (libh2o parsing, the JSON
 * error filter, routing, handlers) on one event loop in this thread, over
 * the given store. */
struct store;
struct buf;
void http_harness_init(const struct config *cfg, const struct server_secret *secret, struct store *st);
/* Writes len bytes as a client on a fresh connection, then EOF; runs the loop
 * until the server closes; appends what it wrote back to *out. Returns 0, or
 * -1 when the server did not close within the bound. */
int http_harness_exchange(const void *in, size_t len, struct buf *out);

#endif
