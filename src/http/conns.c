/* conns.c - the connections of an event loop: accepting them under the caps,
 * and watching each one for a client that stalls.
 *
 * Request timeout: libh2o 2.2 drops a connection whose request is not read
 * within req_timeout without a word. keyhold keeps its own watch on every
 * connection (struct conn_watch, reached through sock->on_close) and, when
 * the time runs out, answers 408 with a JSON body if part of a request had
 * arrived, or closes quietly if the connection was merely idle. libh2o's
 * own timeout stays as a backstop a few seconds later (server.c).
 *
 * Connection caps: at most max_connections_per_address open connections from
 * one client address over all loops (conncount.h), so one address cannot
 * hold them all; at a loop's share of max_connections, the connection that
 * has waited longest for a request is closed to make room for the new one,
 * so stalled connections cannot lock legitimate clients out either. A loop
 * counts its open connections itself (worker.n_open, on open and close)
 * rather than walking libh2o's private list of them at every accept. */
#include "http/conncount.h"
#include "http/internal.h"

#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNREAD_ANSWER_MIN_US 1000000 /* an answer unread this long may be closed at the cap */

/* What keyhold knows of one connection, to answer a stalled request. Owned
 * by the socket: freed by its on_close callback. */
struct conn_watch {
    h2o_linklist_t link;
    h2o_socket_t *sock;
    struct worker *w;
    struct request_done *current; /* the request being answered, or NULL */
    size_t bytes_done;            /* sock->bytes_read when it last turned to a new request */
    int64_t waiting_since;        /* when it last turned to a new request */
    int timed_out;                /* answered 408 or shut: libh2o closes it next */
    int answering;                /* current's answer is being written */
    size_t written_seen;          /* sock->bytes_written when last looked at */
    int64_t written_since;        /* when the answer last made progress */
    int counted;                  /* counted in the server's conns under peer */
    struct sockaddr_storage peer;
};

static void on_conn_close(void *p)
{
    struct conn_watch *cw = p;
    if (cw->current)
        cw->current->watch = NULL;
    if (cw->counted)
        conn_counter_release(cw->w->srv->conns, (struct sockaddr *)&cw->peer);
    cw->w->n_open--;
    http_metrics_connections(-1);
    h2o_linklist_unlink(&cw->link);
    free(cw);
}

struct conn_watch *http_conn_watch_of(h2o_conn_t *conn)
{
    h2o_socket_t *sock = conn->callbacks->get_socket ? conn->callbacks->get_socket(conn) : NULL;
    return sock && sock->on_close.cb == on_conn_close ? sock->on_close.data : NULL;
}

void http_conn_request_begins(struct conn_watch *cw, struct request_done *done)
{
    if (cw)
        cw->current = done;
}

/* From here the client must read for the answer to move. */
void http_conn_answer_begins(struct conn_watch *cw)
{
    if (!cw)
        return;
    cw->answering = 1;
    cw->written_seen = cw->sock->bytes_written;
    cw->written_since = clock_mono_us();
}

void http_conn_request_ends(struct conn_watch *cw)
{
    if (!cw)
        return;
    cw->current = NULL;
    cw->answering = 0;
    cw->bytes_done = cw->sock->bytes_read;
    cw->waiting_since = clock_mono_us();
}

/* Ends a connection whose request did not arrive in time. The socket stays
 * libh2o's: the 408 is written straight to the descriptor (nothing else is
 * being written on a connection that waits for a request) and the write side
 * is shut, so the client sees the answer and EOF, and libh2o closes the
 * connection itself when the client does (or at its backstop timeout). */
static void answer_timeout(struct conn_watch *cw, int partial)
{
    static const char body[] = "{\"errors\":[\"Request Timeout: the request was not received in time\"]}";
    char msg[256];
    int fd = h2o_socket_get_fd(cw->sock);
    cw->timed_out = 1;
    /* Under TLS the answer would have to go through the connection's
     * encryption, which libh2o holds mid-request: the connection is closed
     * without one (the client sees the TLS close). */
    if (partial && cw->sock->ssl) {
        log_info("access - - 408 (request not received within the timeout; TLS connection closed)");
        partial = 0;
    }
    if (partial) {
        int n = snprintf(msg, sizeof msg,
                         "HTTP/1.1 408 Request Timeout\r\nServer: keyhold\r\nConnection: close\r\n"
                         "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                         sizeof body - 1, body);
        if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            log_debug("408 not delivered: %s", strerror(errno));
        log_info("access - - 408 (request not received within the timeout)");
    }
    shutdown(fd, partial ? SHUT_WR : SHUT_RDWR);
}

/* How long a connection has made no progress that is the client's to make:
 * waiting for (the rest of) a request, or for the client to read an answer
 * being written (0 while the answer moves, or while keyhold prepares it). */
static int64_t client_stall_us(struct conn_watch *cw, int64_t now)
{
    if (!cw->current)
        return now - cw->waiting_since;
    if (!cw->answering)
        return 0;
    if (cw->sock->bytes_written != cw->written_seen) {
        cw->written_seen = cw->sock->bytes_written;
        cw->written_since = now;
    }
    return now - cw->written_since;
}

/* Ends a connection whose client stopped reading its answer: the answer
 * cannot be finished, and the connection would hold its place for ever. */
static void drop_unread_answer(struct conn_watch *cw, int64_t stalled_us)
{
    cw->timed_out = 1;
    log_info("closing a connection whose client has not read its answer for %.1f s", (double)stalled_us / 1e6);
    shutdown(h2o_socket_get_fd(cw->sock), SHUT_RDWR); /* the write fails; libh2o closes it */
}

void http_conns_watch(struct worker *w, int64_t timeout_us)
{
    int64_t now = clock_mono_us();
    for (h2o_linklist_t *l = w->watches.next; l != &w->watches; l = l->next) {
        struct conn_watch *cw = H2O_STRUCT_FROM_MEMBER(struct conn_watch, link, l);
        int64_t stalled = cw->timed_out ? 0 : client_stall_us(cw, now);
        if (stalled < timeout_us)
            continue;
        if (cw->current)
            drop_unread_answer(cw, stalled);
        else
            answer_timeout(cw, cw->sock->bytes_read > cw->bytes_done);
    }
}

void http_conns_serve(struct worker *w, h2o_socket_t *sock, const struct sockaddr_storage *peer)
{
    struct conn_watch *cw = xcalloc(1, sizeof *cw);
    cw->sock = sock;
    cw->w = w;
    cw->waiting_since = clock_mono_us();
    if (peer) {
        cw->peer = *peer;
        cw->counted = 1;
    }
    h2o_linklist_insert(&w->watches, &cw->link);
    w->n_open++;
    http_metrics_connections(1);
    sock->on_close.cb = on_conn_close;
    sock->on_close.data = cw;
    http_tls_refresh(w);
    h2o_accept(&w->accept_ctx, sock);
}

void http_tls_refresh(struct worker *w)
{
    struct tls_source *tls = w->srv ? w->srv->tls : NULL;
    if (!tls || tls_generation(tls) == w->tls_generation)
        return;
    /* A reload happened (SIGHUP): new connections get the new context;
     * those open keep theirs (OpenSSL counts the references). */
    SSL_CTX *ctx = tls_take(tls, &w->tls_generation);
    if (w->accept_ctx.ssl_ctx)
        SSL_CTX_free(w->accept_ctx.ssl_ctx);
    w->accept_ctx.ssl_ctx = ctx;
    if (w->admin_accept_ctx.ctx) {
        if (w->admin_accept_ctx.ssl_ctx)
            SSL_CTX_free(w->admin_accept_ctx.ssl_ctx);
        SSL_CTX_up_ref(ctx);
        w->admin_accept_ctx.ssl_ctx = ctx;
    }
}

static void on_admin_close(void *p)
{
    struct worker *w = p;
    w->n_admin--;
}

/* The admin listener's connections (worker 0 only): operators and
 * scrapers, answered by observe.c. Not counted against the API's caps but
 * held to a small cap of their own, so that whoever reaches the port cannot
 * take the loop's descriptors or memory (libh2o reads a request's body,
 * up to the body limit, before the handler refuses it). */
void http_conns_on_admin_accept(h2o_socket_t *listener, const char *err)
{
    struct worker *w = listener->data;
    h2o_socket_t *sock;
    if (err || (sock = h2o_evloop_socket_accept(listener)) == NULL)
        return;
    if (w->n_admin >= HTTP_ADMIN_MAX_CONNECTIONS) {
        if (!w->admin_cap_warned)
            log_warn("admin listener: %d connections open, refusing more", HTTP_ADMIN_MAX_CONNECTIONS);
        w->admin_cap_warned = 1;
        h2o_socket_close(sock);
        return;
    }
    w->admin_cap_warned = 0;
    w->n_admin++;
    sock->on_close.cb = on_admin_close;
    sock->on_close.data = w;
    http_tls_refresh(w);
    h2o_accept(&w->admin_accept_ctx, sock);
}

/* Closes the loop's connection that has waited longest on its client: for
 * a request (idle or part-sent), or for the client to read its answer (one
 * stalled at least UNREAD_ANSWER_MIN_US; never an answer that moves, nor a
 * request keyhold is still answering). Returns 0 when there is none. */
static int close_longest_waiting(struct worker *w)
{
    struct conn_watch *oldest = NULL;
    int64_t now = clock_mono_us(), longest = -1;
    for (h2o_linklist_t *l = w->watches.next; l != &w->watches; l = l->next) {
        struct conn_watch *cw = H2O_STRUCT_FROM_MEMBER(struct conn_watch, link, l);
        if (cw->timed_out || (cw->current && !cw->answering))
            continue;
        int64_t stalled = client_stall_us(cw, now);
        if (cw->current && stalled < UNREAD_ANSWER_MIN_US)
            continue;
        if (stalled > longest)
            oldest = cw, longest = stalled;
    }
    if (!oldest)
        return 0;
    log_info("connection cap of %zu per event loop reached: closing the connection that waited longest on its "
             "client (%.1f s)",
             w->max_connections, (double)longest / 1e6);
    oldest->timed_out = 1;
    shutdown(h2o_socket_get_fd(oldest->sock), SHUT_RDWR); /* libh2o sees EOF (or a failed write) and closes it */
    return 1;
}

/* Refuses a new connection: closed at once rather than left in the backlog,
 * so the loop keeps serving the connections it has. */
static void refuse(struct worker *w, h2o_socket_t *sock, const char *why)
{
    if (!w->cap_warned)
        log_warn("%s; refusing new connections", why);
    w->cap_warned = 1;
    h2o_socket_close(sock);
}

void http_conns_on_accept(h2o_socket_t *listener, const char *err)
{
    struct worker *w = listener->data;
    struct server *srv = w->srv;
    struct sockaddr_storage peer;
    h2o_socket_t *sock;
    if (err)
        return;
    if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
        return;
    memset(&peer, 0, sizeof peer);
    h2o_socket_getpeername(sock, (struct sockaddr *)&peer);
    size_t per_address = (size_t)srv->cfg->max_connections_per_address;
    if (!conn_counter_take(srv->conns, (struct sockaddr *)&peer, per_address)) {
        refuse(w, sock, "a client address reached its connection cap (--max-connections-per-address)");
        return;
    }
    if (w->n_open >= w->max_connections && !close_longest_waiting(w)) {
        conn_counter_release(srv->conns, (struct sockaddr *)&peer);
        refuse(w, sock, "every connection of an event loop is being answered at its cap (--max-connections)");
        return;
    }
    w->cap_warned = 0;
    http_conns_serve(w, sock, &peer);
}
