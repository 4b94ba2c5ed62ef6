/* internal.h - what the files of the HTTP layer share: the server and its
 * event loops, and the calls from one file's job into another's. One file
 * per job (docs/internals/http.md, "Files"):
 *   server.c     lifecycle: listeners, event-loop threads, secret reload, stop
 *   request.c    an h2o request turned into a struct api_request, checked,
 *                and answered on the loop or handed to the writer
 *   answer.c     a struct api_response written back through libh2o
 *   handoff.c    requests and last-used times handed to the writer thread
 *                (api/writer.h), and its answers brought back to the loop
 *   conns.c      connections: accept, caps, stall watch and timeouts
 *   conncount.c  open connections per client address (conncount.h)
 *   jsonerror.c  the filter that turns libh2o's own error bodies into JSON
 *   framing.c    the request-head checks libh2o does not make (framing.h)
 *   tls.c        TLS contexts from PEM files, reloadable (tls.h)
 *   observe.c    request ids, the access log line, the HTTP metrics, and
 *                the admin listener's answers (/metrics and the probes)
 *   harness.c    the whole stack on one loop, for the request fuzzer
 * Only this folder includes libh2o's headers. */
#ifndef KH_HTTP_INTERNAL_H
#define KH_HTTP_INTERNAL_H

#include "api/api.h"
#include "http/tls.h"
#include "util/secret.h"

#include <h2o.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define HTTP_USAGE_START_SLOTS 256
#define HTTP_AUTH_CACHE_ENTRIES 16384 /* per event loop */
#define HTTP_ADMIN_MAX_CONNECTIONS 16 /* on the admin listener: a scraper or two, an operator */

struct conn_watch; /* conns.c */

/* One event loop (one thread), accepting on the shared listening socket. */
struct worker {
    h2o_context_t ctx; /* first: request.c finds the worker from req->conn->ctx */
    struct server *srv;
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
    size_t n_open; /* open connections: counted by conns.c on open and close */
    int cap_warned;
    h2o_linklist_t watches; /* struct conn_watch of every open connection */
    uint64_t tls_generation; /* of the TLS context in accept_ctx (tls.h) */
    int admin_fd;            /* worker 0 with --admin-listen: its listening socket; else -1 */
    h2o_socket_t *admin_listener;
    h2o_accept_ctx_t admin_accept_ctx;
    int n_admin; /* open admin connections (at most HTTP_ADMIN_MAX_CONNECTIONS) */
    int admin_cap_warned;
};

/* The running server: what every loop shares. */
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
    struct conn_counter *conns;  /* open connections per client address; NULL: not counted */
    struct writer *writer;       /* answers every request that may change state; NULL: the loop does */
    struct store *writer_store;
    struct deliverer *deliverer; /* sends the webhook outbox (deliver.c); NULL: not started */
    struct store *deliver_store;
    struct tls_source *tls;      /* --tls-cert/--tls-key; NULL: plain HTTP */
    h2o_hostconf_t *api_host, *admin_host;
    h2o_hostconf_t *api_hosts[2], *admin_hosts[2]; /* what each listener's accept context serves */
    int admin_port;
    atomic_int stopping;
};

/* One request being answered. Lives in the request pool; its dispose
 * callback runs once the response has been written (or the connection
 * died): the access log line. */
#define HTTP_REQUEST_ID_MAX 64

struct request_done {
    struct worker *w;
    struct conn_watch *watch; /* NULL once the connection is gone */
    int64_t started_us;
    int status;
    char method[12];
    char path[API_LOG_PATH];
    char request_id[HTTP_REQUEST_ID_MAX + 1];
    char client[48];
    /* from the answer (struct api_response), for the log and the metrics */
    size_t route;
    char org_id[UUID_STR];
    char credential_id[UUID_STR];
    enum auth_cred credential;
    const char *reason;
};

/* ---- server.c ---- */
/* Sets up libh2o's configuration: limits, the one handler at "/" and the
 * JSON error filter. */
void http_configure(struct server *srv);

/* ---- request.c ---- */
/* libh2o's handler for every request. */
int http_on_request(h2o_handler_t *self, h2o_req_t *req);

/* ---- answer.c ---- */
/* Writes a response of ours back through libh2o, and frees its body. */
void http_send_answer(h2o_req_t *req, struct request_done *done, struct api_response *ares);

/* ---- handoff.c ---- */
/* Hands a request that may change state to the writer; its answer comes
 * back through http_handoff_on_written on this loop. */
void http_handoff_request(struct worker *w, h2o_req_t *req, struct request_done *done,
                          const struct api_request *areq);
/* The loop's receiver of the writer's answers (registered by server.c). */
void http_handoff_on_written(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);
/* Hands the loop's last-used times to the writer (or, without one, writes
 * them itself) and starts a fresh buffer. */
void http_handoff_usage(struct worker *w);

/* ---- conns.c ---- */
/* libh2o's accept callback of a loop's listener (listener->data: the worker). */
void http_conns_on_accept(h2o_socket_t *listener, const char *err);
/* Hands a connected socket to libh2o with its stall watch; peer (NULL when
 * not counted) is the address the per-address counter counted it under. */
void http_conns_serve(struct worker *w, h2o_socket_t *sock, const struct sockaddr_storage *peer);
/* Answers or closes every connection of the loop stalled past timeout_us. */
void http_conns_watch(struct worker *w, int64_t timeout_us);
/* The admin listener's accept callback (listener->data: worker 0). */
void http_conns_on_admin_accept(h2o_socket_t *listener, const char *err);
/* Picks up a reloaded TLS context for the loop's next connections. */
void http_tls_refresh(struct worker *w);
/* The watch of a request's connection, or NULL. */
struct conn_watch *http_conn_watch_of(h2o_conn_t *conn);
/* The connection turned to a new request (done), its answer started being
 * written, or the request is over (its answer written or dropped). */
void http_conn_request_begins(struct conn_watch *cw, struct request_done *done);
void http_conn_answer_begins(struct conn_watch *cw);
void http_conn_request_ends(struct conn_watch *cw);

/* ---- observe.c ---- */
/* Registers the HTTP layer's metrics (and build_info) before serving. */
void http_metrics_register(const char *version);
/* The request's X-Request-Id when it is a plain token (letters, digits and
 * "-._:", at most HTTP_REQUEST_ID_MAX), else a new random one, into done. */
void http_request_id(h2o_req_t *req, struct request_done *done);
/* The access log line and the request's metrics, once it is over. */
void http_observe_done(const struct request_done *done, int64_t duration_us);
/* Open connections moved by delta; the server secret now in use. */
void http_metrics_connections(int delta);
void http_metrics_secret_version(int version);
/* libh2o's handler on the admin listener: /metrics, /healthz, /readyz. */
int http_on_admin_request(h2o_handler_t *self, h2o_req_t *req);

/* ---- jsonerror.c ---- */
/* Adds the filter that rewrites libh2o's own text/plain error answers as
 * {"errors":[...]} to a path's configuration. */
void http_json_errors_register(h2o_pathconf_t *path);

#endif
