/* request.c - one request through the HTTP layer: libh2o's h2o_req_t turned
 * into a plain struct api_request, answered by api_handle() on the event
 * loop when it only reads, or handed to the writer thread (handoff.c) when
 * its route may change state (api_request_writes); answer.c writes the
 * answer back. The checks the HTTP layer answers itself (framing, header
 * bounds) come first; the access log line is written once the answer has
 * been sent. */
#include "http/framing.h"
#include "http/internal.h"

#include "util/clock.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REQUEST_HEADERS 100
#define MAX_HEADER_BYTES (16 * 1024)

static void on_request_done(void *p)
{
    struct request_done *d = p;
    d->w->inflight--;
    http_conn_request_ends(d->watch);
    http_observe_done(d, clock_mono_us() - d->started_us);
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
    memset(ares, 0, sizeof *ares);
    ares->route = api_route_count(); /* no route answered it */
    ares->status = status;
    ares->content_type = "application/json";
    ares->body = api_error_body(message);
    ares->body_len = strlen(ares->body);
}

/* Fills *areq from req; the pointers are into req (and its pool), and at
 * most MAX_REQUEST_HEADERS headers are passed on. Returns the bytes of
 * every header's name and value, for the bound on them. */
static size_t translate(h2o_req_t *req, struct api_request *areq)
{
    memset(areq, 0, sizeof *areq);
    areq->method = req->method.base;
    areq->method_len = req->method.len;
    areq->path = req->path.base;
    areq->path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    if (req->query_at != SIZE_MAX) {
        areq->query = req->path.base + req->query_at + 1;
        areq->query_len = req->path.len - req->query_at - 1;
    }
    areq->body = req->entity.base;
    areq->body_len = req->entity.base ? req->entity.len : 0;
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
    areq->headers = hs;
    areq->n_headers = nh;
    areq->remote_addr = peer_address(req);
    return header_bytes;
}

/* Starts the bookkeeping of one request: in flight until its answer has
 * been written, and the connection's current request. */
static struct request_done *request_begins(struct worker *w, h2o_req_t *req)
{
    struct request_done *done = h2o_mem_alloc_shared(&req->pool, sizeof *done, on_request_done);
    memset(done, 0, sizeof *done);
    done->w = w;
    done->route = api_route_count(); /* until an answer says which */
    snprintf(done->method, sizeof done->method, "%.*s", (int)(req->method.len > 10 ? 10 : req->method.len),
             req->method.base); /* logged even if the connection dies before an answer */
    http_request_id(req, done);
    done->started_us = clock_mono_us();
    done->watch = http_conn_watch_of(req->conn);
    http_conn_request_begins(done->watch, done);
    w->inflight++;
    return done;
}

int http_on_request(h2o_handler_t *self, h2o_req_t *req)
{
    struct worker *w = (struct worker *)req->conn->ctx;
    struct api_request areq;
    struct api_response ares;
    w->env.secret = atomic_load(&w->srv->secret);
    struct request_done *done = request_begins(w, req);
    size_t header_bytes = translate(req, &areq);
    snprintf(done->client, sizeof done->client, "%s", areq.remote_addr);

    const char *framing = framing_problem(req);
    if (framing) {
        reply_fixed(&ares, 400, framing);
        api_log_path(areq.path, areq.path_len, ares.log_path);
        req->http1_is_persistent = 0; /* the bytes after this head are not a request of ours */
    } else if (req->headers.size > MAX_REQUEST_HEADERS || header_bytes > MAX_HEADER_BYTES) {
        reply_fixed(&ares, 431, "Request headers too large: at most 100 headers and 16 KiB");
        api_log_path(areq.path, areq.path_len, ares.log_path);
    } else if (w->srv->writer && api_request_writes(w->env.cfg, &areq)) {
        http_handoff_request(w, req, done, &areq);
        return 0;
    } else {
        api_handle(&w->env, &areq, &ares);
    }
    http_send_answer(req, done, &ares);
    return 0;
}
