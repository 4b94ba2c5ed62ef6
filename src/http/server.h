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

#endif
