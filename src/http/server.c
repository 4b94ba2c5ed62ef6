/* server.c - libh2o adapter and event-loop threads.
 *
 * One h2o event loop per thread, each with its own store handle, all
 * accepting on one listening socket (each through its own descriptor of it).
 * No SO_REUSEPORT: another process cannot bind the same address and take
 * half of the connections; a second `keyhold serve` there fails with
 * "address already in use". A request is turned into a plain struct api_request and
 * answered by api_handle(): a read (GET) at once on the loop, anything that
 * may change state by the writer thread (writer.h), which commits many in
 * one transaction and posts each answer back to its loop through a libh2o
 * multithread queue. The struct api_response is written back with an
 * explicit content length (keep-alive survives every answer). HTTP/1.1 only: Debian's libh2o 2.2.5 lacks the HTTP/2 rapid-reset
 * fix, so upgrade_to_http2 is off and no TLS/ALPN is offered.
 *
 * Request timeout: libh2o 2.2 drops a connection whose request is not read
 * within req_timeout without a word. keyhold keeps its own watch on every
 * connection (struct conn_watch, reached through sock->on_close) and, when
 * the time runs out, answers 408 with a JSON body if part of a request had
 * arrived, or closes quietly if the connection was merely idle. libh2o's
 * own timeout stays as a backstop a few seconds later.
 *
 * Connection caps: at most max_connections_per_address open connections from
 * one client address over all loops (conncount.h), so one address cannot
 * hold them all; at a loop's share of max_connections, the connection that
 * has waited longest for a request is closed to make room for the new one,
 * so stalled connections cannot lock legitimate clients out either.
 *
 * Shutdown: the main thread waits for SIGINT/SIGTERM with sigwait(), raises
 * `stopping`; every loop notices within LOOP_TICK_MS, closes its listener,
 * keeps running until its in-flight requests have been written (bounded by
 * DRAIN_MS), then closes its store. */
#include "http/server.h"
#include "http/conncount.h"
#include "http/framing.h"

#include "http/writer.h"
#include "api/api.h"
#include "api/ratelimit.h"
#include "auth/authcache.h"
#include "auth/keyring.h"
#include "auth/usage.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <h2o.h>
#include <jansson.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOOP_TICK_MS 100
#define DRAIN_MS 10000
#define WATCH_EVERY_MS 250
#define UNREAD_ANSWER_MIN_US 1000000 /* an answer unread this long may be closed at the cap */
#define SECRET_CHECK_MS 1000
#define BACKSTOP_MS 5000 /* libh2o's timeout, past ours */
#define LISTEN_BACKLOG 1024
#define MAX_REQUEST_HEADERS 100
#define MAX_HEADER_BYTES (16 * 1024)
#define USAGE_START_SLOTS 256
#define AUTH_CACHE_ENTRIES 16384 /* per event loop */

struct worker {
    h2o_context_t ctx; /* first: on_req finds the worker from req->conn->ctx */
    pthread_t thread;
    int index;
    int listen_fd;
    h2o_socket_t *listener;
    h2o_accept_ctx_t accept_ctx;
    struct api_env env;
    struct store *store;
    int inflight;       /* requests whose response is not yet fully written */
    int pending_writes; /* requests handed to the writer, not yet back */
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t written; /* answers of the writer */
    size_t max_connections;
    int cap_warned;
    h2o_linklist_t watches; /* struct conn_watch of every open connection */
};

/* What keyhold knows of one connection, to answer a stalled request. Owned
 * by the socket: freed by its on_close callback. */
struct conn_watch {
    h2o_linklist_t link;
    h2o_socket_t *sock;
    struct request_done *current; /* the request being answered, or NULL */
    size_t bytes_done;            /* sock->bytes_read when it last turned to a new request */
    int64_t waiting_since;        /* when it last turned to a new request */
    int timed_out;                /* answered 408 or shut: libh2o closes it next */
    int answering;                /* current's answer is being written */
    size_t written_seen;          /* sock->bytes_written when last looked at */
    int64_t written_since;        /* when the answer last made progress */
    int counted;                  /* counted in the_server->conns under peer */
    struct sockaddr_storage peer;
};

struct server {
    const struct config *cfg;
    _Atomic(const struct server_secret *) secret; /* swapped when the file changes */
    struct server_secret **reloaded;             /* every secret loaded since start, freed at exit */
    size_t n_reloaded;
    char *secret_path;
    struct stat secret_stat;
    h2o_globalconf_t globalconf;
    struct worker *workers;
    int n_workers;
    int port;                    /* the one bound (port 0: the kernel's choice) */
    struct ratelimiter *limiter; /* shared by every loop */
    struct conn_counter *conns;  /* open connections per client address */
    struct writer *writer;       /* answers every request that may change state */
    struct store *writer_store;
    atomic_int stopping;
};

/* The running server. Static so that what the event loops allocated stays
 * reachable after http_serve() returns: the process exits right after, and
 * leak checkers should not report connections we deliberately leave open. */
static struct server the_server_state;
static struct server *the_server;

/* Lives in the request pool; its dispose callback runs once the response
 * has been written (or the connection died): the access log line. */
struct request_done {
    struct worker *w;
    struct conn_watch *watch; /* NULL once the connection is gone */
    int64_t started_us;
    int status;
    char method[12];
    char path[API_LOG_PATH];
};

static void on_request_done(void *p)
{
    struct request_done *d = p;
    d->w->inflight--;
    if (d->watch) {
        d->watch->current = NULL;
        d->watch->answering = 0;
        d->watch->bytes_done = d->watch->sock->bytes_read;
        d->watch->waiting_since = clock_mono_us();
    }
    log_info("access %s %s %d %.3fms", d->method, d->path, d->status,
             (double)(clock_mono_us() - d->started_us) / 1000.0);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return status < 500 ? "Client Error" : "Internal Server Error";
    }
}

/* The client's address as text, in the request pool. */
static const char *peer_address(h2o_req_t *req)
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    char *out = h2o_mem_alloc_pool(&req->pool, INET6_ADDRSTRLEN);
    const void *addr = ss.ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                                                : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
    if (!len || !inet_ntop(ss.ss_family, addr, out, INET6_ADDRSTRLEN))
        return "unknown";
    return out;
}

static void on_conn_close(void *p)
{
    struct conn_watch *cw = p;
    if (cw->current)
        cw->current->watch = NULL;
    if (cw->counted)
        conn_counter_release(the_server->conns, (struct sockaddr *)&cw->peer);
    h2o_linklist_unlink(&cw->link);
    free(cw);
}

static struct conn_watch *watch_of(h2o_conn_t *conn)
{
    h2o_socket_t *sock = conn->callbacks->get_socket ? conn->callbacks->get_socket(conn) : NULL;
    return sock && sock->on_close.cb == on_conn_close ? sock->on_close.data : NULL;
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

static void watch_connections(struct worker *w, int64_t timeout_us)
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

/* Writes a response of ours back through libh2o, and frees its body. */
static void send_answer(h2o_req_t *req, struct request_done *done, struct api_response *ares)
{
    done->status = ares->status;
    if (done->watch) { /* from here the client must read for the answer to move */
        done->watch->answering = 1;
        done->watch->written_seen = done->watch->sock->bytes_written;
        done->watch->written_since = clock_mono_us();
    }
    snprintf(done->method, sizeof done->method, "%.*s", (int)(req->method.len > 10 ? 10 : req->method.len),
             req->method.base);
    memcpy(done->path, ares->log_path, sizeof done->path);

    req->res.status = ares->status;
    req->res.reason = reason_phrase(ares->status);
    if (ares->content_type)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ares->content_type,
                       strlen(ares->content_type));
    for (size_t i = 0; i < ares->n_headers; i++) {
        const char *v = h2o_strdup(&req->pool, ares->headers[i].value, SIZE_MAX).base;
        h2o_add_header_by_str(&req->pool, &req->res.headers, ares->headers[i].name, strlen(ares->headers[i].name), 0,
                              NULL, v, strlen(v));
    }
    size_t len = ares->body_len;
    char *body = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(body, ares->body ? ares->body : "", len);
    req->res.content_length = len;
    api_response_free(ares);
    h2o_send_inline(req, body, len);
}

/* A request handed to the writer thread. Owned by the loop that handed it:
 * freed when the writer's answer comes back (on_written). If libh2o drops the
 * request first (the connection died), its pool's guard clears req. */
struct pending_write {
    h2o_multithread_message_t msg; /* first: the message is the struct */
    struct worker *w;
    h2o_req_t *req;
    struct request_done *done;
    struct write_guard *guard;
    struct write_job *job;
};

struct write_guard {
    struct pending_write *pw; /* NULL once answered */
};

static void on_guard_dispose(void *p)
{
    struct write_guard *g = p;
    if (g->pw)
        g->pw->req = NULL;
}

/* Writer thread: the job's answer is final; post it to its loop. */
static void on_write_done(struct write_job *job)
{
    struct pending_write *pw = job->owner;
    h2o_multithread_send_message(&pw->w->written, &pw->msg);
}

/* Loop thread: answers that came back from the writer. */
static void on_written(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    struct worker *w = H2O_STRUCT_FROM_MEMBER(struct worker, written, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        struct pending_write *pw = (struct pending_write *)messages->next; /* msg.link is first */
        h2o_linklist_unlink(&pw->msg.link);
        w->pending_writes--;
        if (pw->req) {
            pw->guard->pw = NULL;
            send_answer(pw->req, pw->done, &pw->job->res);
        }
        write_job_free(pw->job);
        free(pw);
    }
}

static int is_read(const struct api_request *areq)
{
    return (areq->method_len == 3 && memcmp(areq->method, "GET", 3) == 0) ||
           (areq->method_len == 4 && memcmp(areq->method, "HEAD", 4) == 0);
}

static void hand_to_writer(struct worker *w, h2o_req_t *req, struct request_done *done, const struct api_request *areq)
{
    struct pending_write *pw = xcalloc(1, sizeof *pw);
    pw->w = w;
    pw->req = req;
    pw->done = done;
    pw->guard = h2o_mem_alloc_shared(&req->pool, sizeof *pw->guard, on_guard_dispose);
    pw->guard->pw = pw;
    pw->job = write_job_new(areq);
    pw->job->secret = w->env.secret;
    pw->job->on_done = on_write_done;
    pw->job->owner = pw;
    w->pending_writes++;
    writer_submit(the_server->writer, pw->job);
}

/* framing.h's check, on the head of an HTTP/1 request: libh2o keeps it at
 * the start of the connection's input until the answer is sent. */
static const char *framing_problem(h2o_req_t *req)
{
    h2o_socket_t *sock;
    if (req->version >= 0x200 || !req->conn->callbacks->get_socket ||
        !(sock = req->conn->callbacks->get_socket(req->conn)) || !sock->input)
        return NULL;
    return http_framing_problem(sock->input->bytes, sock->input->size);
}

/* An answer of the HTTP layer itself: status and {"errors":[message]}. */
static void reply_fixed(struct api_response *ares, int status, const char *message)
{
    json_t *body = json_pack("{s:[s]}", "errors", message);
    memset(ares, 0, sizeof *ares);
    ares->status = status;
    ares->content_type = "application/json";
    ares->body = json_dumps(body, JSON_COMPACT);
    ares->body_len = strlen(ares->body);
    json_decref(body);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct worker *w = (struct worker *)req->conn->ctx;
    struct api_request areq;
    struct api_response ares;
    w->env.secret = atomic_load(&the_server->secret);
    struct request_done *done = h2o_mem_alloc_shared(&req->pool, sizeof *done, on_request_done);
    done->w = w;
    done->started_us = clock_mono_us();
    done->watch = watch_of(req->conn);
    if (done->watch)
        done->watch->current = done;
    w->inflight++;

    memset(&areq, 0, sizeof areq);
    areq.method = req->method.base;
    areq.method_len = req->method.len;
    areq.path = req->path.base;
    areq.path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    if (req->query_at != SIZE_MAX) {
        areq.query = req->path.base + req->query_at + 1;
        areq.query_len = req->path.len - req->query_at - 1;
    }
    areq.body = req->entity.base;
    areq.body_len = req->entity.base ? req->entity.len : 0;
    size_t nh = req->headers.size < MAX_REQUEST_HEADERS ? req->headers.size : MAX_REQUEST_HEADERS;
    size_t header_bytes = 0;
    struct api_header *hs = h2o_mem_alloc_pool(&req->pool, sizeof *hs * (nh ? nh : 1));
    for (size_t i = 0; i < req->headers.size; i++)
        header_bytes += req->headers.entries[i].name->len + req->headers.entries[i].value.len;
    for (size_t i = 0; i < nh; i++) {
        hs[i].name = req->headers.entries[i].name->base;
        hs[i].name_len = req->headers.entries[i].name->len;
        hs[i].value = req->headers.entries[i].value.base;
        hs[i].value_len = req->headers.entries[i].value.len;
    }
    areq.headers = hs;
    areq.n_headers = nh;
    areq.remote_addr = peer_address(req);

    const char *framing = framing_problem(req);
    if (framing) {
        reply_fixed(&ares, 400, framing);
        api_log_path(areq.path, areq.path_len, ares.log_path);
        req->http1_is_persistent = 0; /* the bytes after this head are not a request of ours */
    } else if (req->headers.size > MAX_REQUEST_HEADERS || header_bytes > MAX_HEADER_BYTES) {
        reply_fixed(&ares, 431, "Request headers too large: at most 100 headers and 16 KiB");
        api_log_path(areq.path, areq.path_len, ares.log_path);
    } else if (the_server->writer && !is_read(&areq)) {
        hand_to_writer(w, req, done, &areq);
        return 0;
    } else {
        api_handle(&w->env, &areq, &ares);
    }
    send_answer(req, done, &ares);
    return 0;
}

/* Open HTTP/1 connections of a loop (libh2o keeps them in a list). */
static size_t open_connections(struct worker *w)
{
    size_t n = 0;
    for (h2o_linklist_t *l = w->ctx.http1._conns.next; l != &w->ctx.http1._conns; l = l->next)
        n++;
    return n;
}

/* Hands a connected socket to libh2o, with its stall watch; peer (NULL when
 * not counted) is the address conn_counter_take counted it under. */
static void serve_socket(struct worker *w, h2o_socket_t *sock, const struct sockaddr_storage *peer)
{
    struct conn_watch *cw = xcalloc(1, sizeof *cw);
    cw->sock = sock;
    cw->waiting_since = clock_mono_us();
    if (peer) {
        cw->peer = *peer;
        cw->counted = 1;
    }
    h2o_linklist_insert(&w->watches, &cw->link);
    sock->on_close.cb = on_conn_close;
    sock->on_close.data = cw;
    h2o_accept(&w->accept_ctx, sock);
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

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct worker *w = listener->data;
    struct sockaddr_storage peer;
    h2o_socket_t *sock;
    if (err)
        return;
    if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
        return;
    memset(&peer, 0, sizeof peer);
    h2o_socket_getpeername(sock, (struct sockaddr *)&peer);
    size_t per_address = (size_t)the_server->cfg->max_connections_per_address;
    if (!conn_counter_take(the_server->conns, (struct sockaddr *)&peer, per_address)) {
        refuse(w, sock, "a client address reached its connection cap (--max-connections-per-address)");
        return;
    }
    if (open_connections(w) >= w->max_connections && !close_longest_waiting(w)) {
        conn_counter_release(the_server->conns, (struct sockaddr *)&peer);
        refuse(w, sock, "every connection of an event loop is being answered at its cap (--max-connections)");
        return;
    }
    w->cap_warned = 0;
    serve_socket(w, sock, &peer);
}

/* Opens a non-blocking listening socket on host:port. */
static int open_listener(const char *host, int port, char *err, size_t errlen)
{
    struct addrinfo hints, *ai = NULL;
    char portstr[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%d", port);
    int gai = getaddrinfo(host, portstr, &hints, &ai);
    if (gai) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) || bind(fd, ai->ai_addr, ai->ai_addrlen) ||
        listen(fd, LISTEN_BACKLOG) || fcntl(fd, F_SETFL, O_NONBLOCK)) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len))
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Hands the loop's last-used times to the writer, which writes them in its
 * next batch: no event loop waits for a disk write of its own. */
static void hand_usage(struct worker *w)
{
    if (!usage_pending(w->env.usage))
        return;
    if (!the_server->writer) {
        usage_flush(w->env.usage, w->store);
        return;
    }
    writer_submit_usage(the_server->writer, w->env.usage);
    w->env.usage = usage_new(USAGE_START_SLOTS);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct server *srv = the_server;
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_init(&w->ctx, loop, &srv->globalconf);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = srv->globalconf.hosts;
    w->listener = h2o_evloop_socket_create(loop, w->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listener->data = w;
    h2o_socket_read_start(w->listener, on_accept);
    w->queue = h2o_multithread_create_queue(loop);
    h2o_multithread_register_receiver(w->queue, &w->written, on_written);

    int64_t flush_every = (int64_t)srv->cfg->usage_flush_ms * 1000, last_flush = clock_mono_us();
    int64_t last_watch = last_flush, timeout_us = (int64_t)srv->cfg->request_timeout_ms * 1000;
    while (!atomic_load(&srv->stopping)) {
        h2o_evloop_run(loop, LOOP_TICK_MS); /* returns on signals and ticks alike: loop again */
        if (clock_mono_us() - last_watch >= WATCH_EVERY_MS * 1000) {
            watch_connections(w, timeout_us);
            last_watch = clock_mono_us();
        }
        if (clock_mono_us() - last_flush >= flush_every) {
            hand_usage(w);
            last_flush = clock_mono_us();
        }
    }

    /* Stop accepting, then let in-flight answers finish writing. */
    h2o_socket_read_stop(w->listener);
    h2o_socket_close(w->listener);
    h2o_context_request_shutdown(&w->ctx);
    int64_t deadline = clock_mono_us() + (int64_t)DRAIN_MS * 1000;
    while ((w->inflight > 0 || w->pending_writes > 0) && clock_mono_us() < deadline)
        h2o_evloop_run(loop, 10);
    /* Last uses go to the writer (stopped after every loop), the store is
     * closed cleanly; the loop and context die with the process (idle
     * keep-alive connections may still reference them). */
    hand_usage(w);
    usage_free(w->env.usage);
    w->env.usage = NULL;
    auth_cache_free(w->env.auth_cache);
    w->env.auth_cache = NULL;
    store_close(w->store);
    w->store = NULL;
    return NULL;
}

/* Loads the secret file again (after `keyhold rotate-secret`) and makes it
 * the one every new request uses. A bad file is reported and ignored: the
 * server keeps the secret it has. */
/* Whether a secret read from the file still belongs to the store (the
 * check `serve` made at start, auth/keyring.h): a file copied over by
 * mistake must not replace the secret every credential is checked with. */
static int secret_fits_store(const struct server *srv, const struct server_secret *s)
{
    struct store *st = NULL;
    char *err = NULL;
    enum keyring_verdict verdict = KEYRING_OK;
    int version = 0;
    if (store_open(srv->cfg->db_path, &st, &err) || keyring_check(st, s, clock_now_us(), &verdict, &version)) {
        log_error("server secret not reloaded: cannot compare it with the store (%s)", err ? err : "store error");
        free(err);
        store_close(st);
        return 0;
    }
    store_close(st);
    if (verdict != KEYRING_OK)
        log_error("server secret not reloaded: %s %s v%d (keeping the secret loaded before)", srv->secret_path,
                  verdict == KEYRING_MISMATCH ? "is not the store's secret: it differs at" : "lacks a version the store's credentials use:",
                  version);
    return verdict == KEYRING_OK;
}

static void reload_secret(struct server *srv)
{
    char err[512] = "";
    struct server_secret *s = xmalloc(sizeof *s);
    if (secret_file_load(srv->secret_path, s, err, sizeof err) || !secret_fits_store(srv, s)) {
        if (err[0])
            log_error("server secret not reloaded: %s", err);
        secret_wipe(s, sizeof *s);
        free(s);
        return;
    }
    srv->reloaded = xrealloc(srv->reloaded, (srv->n_reloaded + 1) * sizeof *srv->reloaded);
    srv->reloaded[srv->n_reloaded++] = s;
    atomic_store(&srv->secret, s);
    log_info("server secret reloaded: %d version%s, current v%d", s->n, s->n == 1 ? "" : "s",
             secret_current(s)->version);
}

static int secret_file_changed(struct server *srv)
{
    struct stat now;
    if (stat(srv->secret_path, &now))
        return 0; /* mid-rename or gone: keep what we have */
    int changed = now.st_ino != srv->secret_stat.st_ino || now.st_size != srv->secret_stat.st_size ||
                  now.st_mtim.tv_sec != srv->secret_stat.st_mtim.tv_sec ||
                  now.st_mtim.tv_nsec != srv->secret_stat.st_mtim.tv_nsec;
    srv->secret_stat = now;
    return changed;
}

/* The main thread's life while the loops serve: reload the secret on SIGHUP
 * or when its file changes (checked every SECRET_CHECK_MS, so several nodes
 * sharing a rotated file all follow it), until SIGINT or SIGTERM. */
static int wait_for_stop(struct server *srv, const sigset_t *sigs)
{
    struct timespec every = {SECRET_CHECK_MS / 1000, (SECRET_CHECK_MS % 1000) * 1000000L};
    for (;;) {
        int sig = sigtimedwait(sigs, NULL, &every);
        if (sig == SIGINT || sig == SIGTERM)
            return sig;
        if (srv->secret_path && (sig == SIGHUP || secret_file_changed(srv)))
            reload_secret(srv);
    }
}

/* libh2o answers some requests itself (unparsable request lines, bodies
 * past max_request_entity_size, bad framing) with a text/plain body. The
 * API promises {"errors":[...]} on every error, so this filter turns those
 * bodies into that JSON, keeping libh2o's message. libh2o sends such an
 * answer in one piece; anything else passes through untouched. */
static void json_error_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                            h2o_send_state_t state)
{
    if (h2o_send_state_is_in_progress(state)) {
        h2o_ostream_send_next(self, req, bufs, bufcnt, state);
        return;
    }
    size_t len = 0;
    for (size_t i = 0; i < bufcnt; i++)
        len += bufs[i].len;
    char *text = h2o_mem_alloc_pool(&req->pool, len + 1);
    len = 0;
    for (size_t i = 0; i < bufcnt; i++) {
        memcpy(text + len, bufs[i].base, bufs[i].len);
        len += bufs[i].len;
    }
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    text[len] = '\0';
    char *body = api_error_body(len ? text : req->res.reason);
    h2o_iovec_t json = h2o_strdup(&req->pool, body, SIZE_MAX);
    free(body);
    req->res.content_length = json.len;
    h2o_ostream_send_next(self, req, &json, 1, state);
}

static void json_error_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    ssize_t ct = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (req->res.status >= 400 && ct != -1 && req->res.headers.entries[ct].value.len >= 10 &&
        memcmp(req->res.headers.entries[ct].value.base, "text/plain", 10) == 0) {
        req->res.headers.entries[ct].value = h2o_iovec_init(H2O_STRLIT("application/json"));
        h2o_ostream_t *o = h2o_add_ostream(req, sizeof *o, slot);
        o->do_send = json_error_send;
        slot = &o->next;
    }
    h2o_setup_next_ostream(req, slot);
}

static void configure_h2o(struct server *srv)
{
    h2o_config_init(&srv->globalconf);
    srv->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("keyhold"));
    srv->globalconf.max_request_entity_size = KH_MAX_BODY;
    srv->globalconf.http1.upgrade_to_http2 = 0;
    srv->globalconf.http1.req_timeout = (uint64_t)srv->cfg->request_timeout_ms + BACKSTOP_MS;
    h2o_hostconf_t *host = h2o_config_register_host(&srv->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = on_req;
    /* libh2o's own errors are answered under "/" or, before a host is
     * chosen, under the host's fallback path: filter both. */
    h2o_create_filter(path, sizeof(h2o_filter_t))->on_setup_ostream = json_error_setup;
    h2o_create_filter(&host->fallback_path, sizeof(h2o_filter_t))->on_setup_ostream = json_error_setup;
}

/* Opens every worker's socket and store before any thread starts, so that a
 * bad address or database is reported at once. */
static int prepare_workers(struct server *srv)
{
    char err[256];
    int port = srv->cfg->listen_port;
    for (int i = 0; i < srv->n_workers; i++) {
        struct worker *w = &srv->workers[i];
        char *serr = NULL;
        w->index = i;
        h2o_linklist_init_anchor(&w->watches);
        /* One listening socket; each loop closes its own descriptor of it. */
        w->listen_fd = i == 0 ? open_listener(srv->cfg->listen_host, port, err, sizeof err)
                              : fcntl(srv->workers[0].listen_fd, F_DUPFD_CLOEXEC, 0);
        if (w->listen_fd < 0) {
            log_error("%s", i == 0 ? err : strerror(errno));
            return -1;
        }
        if (i == 0)
            port = bound_port(w->listen_fd);
        if (store_open(srv->cfg->db_path, &w->store, &serr)) {
            log_error("%s", serr);
            free(serr);
            return -1;
        }
        w->env.cfg = srv->cfg;
        w->env.store = w->store;
        w->env.usage = usage_new(USAGE_START_SLOTS);
        w->env.auth_cache = auth_cache_new(AUTH_CACHE_ENTRIES);
        w->env.limiter = srv->limiter;
        w->max_connections = (size_t)(srv->cfg->max_connections / srv->n_workers + 1);
    }
    log_info("keyhold listening on http://%s:%d (%d event loops, store %s)", srv->cfg->listen_host, port,
             srv->n_workers, srv->cfg->ephemeral ? "in memory" : srv->cfg->db_path);
    srv->port = port;
    return 0;
}

static int start_writer(struct server *srv)
{
    char *err = NULL;
    if (store_open(srv->cfg->db_path, &srv->writer_store, &err)) {
        log_error("%s", err);
        free(err);
        return -1;
    }
    srv->writer = writer_start(srv->cfg, srv->writer_store, srv->limiter);
    return 0;
}

int http_serve(const struct config *cfg, const struct server_secret *secret)
{
    return http_serve_notify(cfg, secret, NULL, NULL);
}

int http_serve_notify(const struct config *cfg, const struct server_secret *secret, void (*ready)(int port, void *arg),
                      void *arg)
{
    struct server *srv = &the_server_state;
    sigset_t sigs;
    int rc = 0;
    memset(srv, 0, sizeof *srv);
    srv->cfg = cfg;
    atomic_store(&srv->secret, secret);
    if (!cfg->ephemeral) { /* an ephemeral server's secret is in memory only */
        srv->secret_path = config_secret_path(cfg);
        stat(srv->secret_path, &srv->secret_stat);
    }
    srv->n_workers = cfg->threads > 0 ? cfg->threads : 1;
    srv->workers = xcalloc((size_t)srv->n_workers, sizeof *srv->workers);
    the_server = srv;

    /* Every thread inherits this mask; only sigwait() below sees the signals. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    configure_h2o(srv);
    srv->limiter = ratelimit_new();
    srv->conns = conn_counter_new((size_t)cfg->max_connections + (size_t)srv->n_workers);
    if (prepare_workers(srv) || start_writer(srv)) {
        rc = 1;
        goto out;
    }
    for (int i = 0; i < srv->n_workers; i++)
        pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]);
    if (ready)
        ready(srv->port, arg);
    int sig = wait_for_stop(srv, &sigs);
    log_info("received %s: finishing in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
    atomic_store(&srv->stopping, 1);
    for (int i = 0; i < srv->n_workers; i++)
        pthread_join(srv->workers[i].thread, NULL);
    writer_stop(srv->writer); /* after the loops: it answers what they handed over */
    srv->writer = NULL;
    log_info("keyhold stopped");
out:
    store_close(srv->writer_store);
    for (int i = 0; i < srv->n_workers; i++) {
        usage_free(srv->workers[i].env.usage);
        srv->workers[i].env.usage = NULL;
        auth_cache_free(srv->workers[i].env.auth_cache);
        srv->workers[i].env.auth_cache = NULL;
        store_close(srv->workers[i].store);
        if (rc && srv->workers[i].listen_fd > 0)
            close(srv->workers[i].listen_fd);
    }
    for (size_t i = 0; i < srv->n_reloaded; i++) {
        secret_wipe(srv->reloaded[i], sizeof *srv->reloaded[i]);
        free(srv->reloaded[i]);
    }
    free(srv->reloaded);
    free(srv->secret_path);
    return rc;
}

/* ---- in-process harness for the request fuzzer ---- */

static struct worker *harness;

void http_harness_init(const struct config *cfg, const struct server_secret *secret, struct store *st)
{
    struct server *srv = &the_server_state;
    memset(srv, 0, sizeof *srv);
    srv->cfg = cfg;
    atomic_store(&srv->secret, secret);
    srv->n_workers = 1;
    srv->workers = harness = xcalloc(1, sizeof *harness);
    the_server = srv;
    signal(SIGPIPE, SIG_IGN);
    configure_h2o(srv);
    srv->limiter = ratelimit_new();
    h2o_linklist_init_anchor(&harness->watches);
    h2o_context_init(&harness->ctx, h2o_evloop_create(), &srv->globalconf);
    harness->accept_ctx.ctx = &harness->ctx;
    harness->accept_ctx.hosts = srv->globalconf.hosts;
    harness->store = st;
    harness->env.cfg = cfg;
    harness->env.store = st;
    harness->env.limiter = srv->limiter;
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
    serve_socket(harness, h2o_evloop_socket_create(harness->ctx.loop, sv[0], 0), NULL);
    const char *p = in;
    size_t sent = 0;
    int closed = 0;
    /* Bounded: every exchange ends when the server closes after the client's
     * EOF, which libh2o does once it has answered what it could parse. */
    for (int round = 0; round < 1000 && !closed; round++) {
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
    for (int i = 0; i < 10 && harness->watches.next != &harness->watches; i++)
        h2o_evloop_run(harness->ctx.loop, 0);
    return closed ? 0 : -1;
}
