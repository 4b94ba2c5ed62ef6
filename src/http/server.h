/* server.h - the HTTP front end: runs the server until it is told to stop.
 * src/http/ is the only code that knows the HTTP library (libh2o); see
 * docs/internals/http.md for why libh2o, how it is set up and which file of
 * the folder does what. */
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

#endif
