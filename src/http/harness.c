/* harness.c - the HTTP layer on one event loop in the calling thread, for
 * the request fuzzer (harness.h). The connection is one end of a socketpair,
 * served exactly as an accepted one (conns.c), without the connection caps. */
#include "http/harness.h"
#include "http/internal.h"

#include "api/ratelimit.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define MAX_ROUNDS 1000 /* loop turns an exchange may take */

static struct server harness_server;
static struct worker *harness;

void http_harness_init(const struct config *cfg, const struct server_secret *secret, struct store *st)
{
    struct server *srv = &harness_server;
    memset(srv, 0, sizeof *srv);
    srv->cfg = cfg;
    atomic_store(&srv->secret, secret);
    srv->n_workers = 1;
    srv->workers = harness = xcalloc(1, sizeof *harness);
    signal(SIGPIPE, SIG_IGN);
    http_configure(srv);
    srv->limiter = ratelimit_new();
    harness->srv = srv;
    h2o_linklist_init_anchor(&harness->watches);
    h2o_context_init(&harness->ctx, h2o_evloop_create(), &srv->globalconf);
    harness->accept_ctx.ctx = &harness->ctx;
    harness->accept_ctx.hosts = srv->api_hosts;
    harness->store = st;
    api_env_init(&harness->env, cfg, st, srv->limiter, HTTP_USAGE_START_SLOTS, HTTP_AUTH_CACHE_ENTRIES);
    harness->max_connections = SIZE_MAX;
}

/* Reads what the server wrote so far; returns 1 once it closed its side. */
static int drain_client(int fd, struct buf *out)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0)
            buf_add(out, chunk, (size_t)n);
        else
            return n == 0 || errno != EAGAIN;
    }
}

int http_harness_exchange(const void *in, size_t len, struct buf *out)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
        return -1;
    http_conns_serve(harness, h2o_evloop_socket_create(harness->ctx.loop, sv[0], 0), NULL);
    const char *p = in;
    size_t sent = 0;
    int closed = 0;
    /* Bounded: every exchange ends when the server closes after the client's
     * EOF, which libh2o does once it has answered what it could parse. */
    for (int round = 0; round < MAX_ROUNDS && !closed; round++) {
        if (sent < len) {
            ssize_t n = write(sv[1], p + sent, len - sent);
            if (n > 0)
                sent += (size_t)n;
            if (sent == len)
                shutdown(sv[1], SHUT_WR);
        } else if (len == 0 && round == 0) {
            shutdown(sv[1], SHUT_WR);
        }
        h2o_evloop_run(harness->ctx.loop, 1);
        closed = drain_client(sv[1], out);
    }
    close(sv[1]);
    /* let libh2o finish closing its side before the next exchange */
    for (int i = 0; i < 10 && harness->n_open > 0; i++)
        h2o_evloop_run(harness->ctx.loop, 0);
    /* what a served loop hands over every few seconds, written here at once
     * (no writer), so the last-used buffer does not grow across exchanges */
    http_handoff_usage(harness);
    return closed ? 0 : -1;
}
