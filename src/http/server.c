/* server.c - the HTTP server's life: listening socket, event-loop threads,
 * the writer thread, the server secret's reload, and the stop.
 *
 * One h2o event loop per thread, each with its own store handle, all
 * accepting on one listening socket (each through its own descriptor of it).
 * No SO_REUSEPORT: another process cannot bind the same address and take
 * half of the connections; a second `keyhold serve` there fails with
 * "address already in use". What a loop does with a connection is conns.c's
 * job, with a request request.c's (internal.h lists the files). HTTP/1.1
 * only: Debian's libh2o 2.2.5 lacks the HTTP/2 rapid-reset fix, so
 * upgrade_to_http2 is off and no ALPN is offered; with --tls-cert/--tls-key
 * every listener speaks TLS 1.2 or 1.3 (tls.c), reloaded on SIGHUP.
 *
 * With --admin-listen, loop 0 also accepts on a second socket whose
 * connections are answered by observe.c (metrics, probes) under a host
 * configuration of their own: nothing of the API is reachable there, and
 * nothing of the admin listener on the API's socket.
 *
 * Shutdown: the main thread waits for SIGINT/SIGTERM with sigtimedwait()
 * (waking every SECRET_CHECK_MS to look at the secret file, and on SIGHUP to
 * reload it), raises `stopping`; every loop notices within LOOP_TICK_MS,
 * closes its listener, keeps running until its in-flight requests have been
 * written (bounded by DRAIN_MS), then closes its store; the writer stops
 * after the loops, answering what they handed over. */
#include "http/server.h"
#include "http/conncount.h"
#include "http/internal.h"

#include "api/ratelimit.h"
#include "api/writer.h"
#include "http/deliver.h"
#include "auth/keyring.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOOP_TICK_MS 100
#define DRAIN_MS 10000
#define WATCH_EVERY_MS 250
#define SECRET_CHECK_MS 1000
#define BACKSTOP_MS 5000 /* libh2o's timeout, past ours (conns.c) */
#define LISTEN_BACKLOG 1024

/* The running server. Static so that what the event loops allocated stays
 * reachable after http_serve() returns: the process exits right after, and
 * leak checkers should not report connections we deliberately leave open. */
static struct server the_server;

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

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct server *srv = w->srv;
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_init(&w->ctx, loop, &srv->globalconf);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = srv->api_hosts;
    w->listener = h2o_evloop_socket_create(loop, w->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listener->data = w;
    h2o_socket_read_start(w->listener, http_conns_on_accept);
    if (w->admin_fd >= 0) {
        w->admin_accept_ctx.ctx = &w->ctx;
        w->admin_accept_ctx.hosts = srv->admin_hosts;
        w->admin_listener = h2o_evloop_socket_create(loop, w->admin_fd, H2O_SOCKET_FLAG_DONT_READ);
        w->admin_listener->data = w;
        h2o_socket_read_start(w->admin_listener, http_conns_on_admin_accept);
    }
    http_tls_refresh(w);
    w->queue = h2o_multithread_create_queue(loop);
    h2o_multithread_register_receiver(w->queue, &w->written, http_handoff_on_written);

    int64_t flush_every = (int64_t)srv->cfg->usage_flush_ms * 1000, last_flush = clock_mono_us();
    int64_t last_watch = last_flush, timeout_us = (int64_t)srv->cfg->request_timeout_ms * 1000;
    while (!atomic_load(&srv->stopping)) {
        h2o_evloop_run(loop, LOOP_TICK_MS); /* returns on signals and ticks alike: loop again */
        if (clock_mono_us() - last_watch >= WATCH_EVERY_MS * 1000) {
            http_conns_watch(w, timeout_us);
            last_watch = clock_mono_us();
        }
        if (clock_mono_us() - last_flush >= flush_every) {
            http_handoff_usage(w);
            last_flush = clock_mono_us();
        }
    }

    /* Stop accepting, then let in-flight answers finish writing. */
    h2o_socket_read_stop(w->listener);
    h2o_socket_close(w->listener);
    if (w->admin_listener) {
        h2o_socket_read_stop(w->admin_listener);
        h2o_socket_close(w->admin_listener);
    }
    h2o_context_request_shutdown(&w->ctx);
    int64_t deadline = clock_mono_us() + (int64_t)DRAIN_MS * 1000;
    while ((w->inflight > 0 || w->pending_writes > 0) && clock_mono_us() < deadline)
        h2o_evloop_run(loop, 10);
    /* Last uses go to the writer (stopped after every loop), the store is
     * closed cleanly; the loop and context die with the process (idle
     * keep-alive connections may still reference them). */
    http_handoff_usage(w);
    api_env_clear(&w->env);
    store_close(w->store);
    w->store = NULL;
    return NULL;
}

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

/* Loads the secret file again (after `keyhold rotate-secret`) and makes it
 * the one every new request uses. A bad file, or one that is not the
 * store's, is reported and ignored: the server keeps the secret it has. */
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
    http_metrics_secret_version(secret_current(s)->version);
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

/* Reads the certificate and key again (SIGHUP): new connections get them;
 * a pair that cannot be read or does not match keeps the one before. */
static void reload_tls(struct server *srv)
{
    char err[512];
    if (tls_reload(srv->tls, err, sizeof err))
        log_error("TLS certificate not reloaded: %s (keeping the certificate loaded before)", err);
    else
        log_info("TLS certificate reloaded from %s", srv->cfg->tls_cert_path);
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
        if (sig == SIGHUP && srv->tls)
            reload_tls(srv);
    }
}

/* A host configuration whose every path is answered by on_req. */
static h2o_hostconf_t *register_host(struct server *srv, const char *name, uint16_t port,
                                     int (*on_req)(h2o_handler_t *, h2o_req_t *))
{
    h2o_hostconf_t *host = h2o_config_register_host(&srv->globalconf, h2o_iovec_init(name, strlen(name)), port);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = on_req;
    /* libh2o's own errors are answered under "/" or, before a host is
     * chosen, under the host's fallback path: filter both. */
    http_json_errors_register(path);
    http_json_errors_register(&host->fallback_path);
    return host;
}

void http_configure(struct server *srv)
{
    h2o_config_init(&srv->globalconf);
    srv->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("keyhold"));
    srv->globalconf.max_request_entity_size = KH_MAX_BODY;
    srv->globalconf.http1.upgrade_to_http2 = 0;
    srv->globalconf.http1.req_timeout = (uint64_t)srv->cfg->request_timeout_ms + BACKSTOP_MS;
    srv->api_host = register_host(srv, "default", 65535, http_on_request);
    srv->admin_host = register_host(srv, "admin", 65534, http_on_admin_request);
    srv->api_hosts[0] = srv->api_host;
    srv->admin_hosts[0] = srv->admin_host;
}

/* The admin listener's socket, served by loop 0; logged before the API's
 * address (which tells a supervisor that keyhold serves). */
static int open_admin_listener(struct server *srv)
{
    char err[256];
    struct worker *w = &srv->workers[0];
    w->admin_fd = open_listener(srv->cfg->admin_host, srv->cfg->admin_port, err, sizeof err);
    if (w->admin_fd < 0) {
        log_error("admin listener: %s", err);
        return -1;
    }
    srv->admin_port = bound_port(w->admin_fd);
    log_info("admin listening on %s://%s:%d (metrics, probes)", srv->tls ? "https" : "http", srv->cfg->admin_host,
             srv->admin_port);
    return 0;
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
        w->srv = srv;
        w->admin_fd = -1;
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
        api_env_init(&w->env, srv->cfg, w->store, srv->limiter, HTTP_USAGE_START_SLOTS, HTTP_AUTH_CACHE_ENTRIES);
        w->max_connections = (size_t)(srv->cfg->max_connections / srv->n_workers + 1);
    }
    if (srv->cfg->admin_host && open_admin_listener(srv))
        return -1;
    char store[512];
    config_store_label(srv->cfg->db_path, store, sizeof store);
    log_info("keyhold listening on %s://%s:%d (%d event loops, store %s)", srv->tls ? "https" : "http",
             srv->cfg->listen_host, port, srv->n_workers, srv->cfg->ephemeral ? "in memory" : store);
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
    srv->writer = writer_start(srv->cfg, srv->writer_store, srv->limiter, atomic_load(&srv->secret));
    return 0;
}

static const struct server_secret *current_secret(void *arg)
{
    struct server *srv = arg;
    return atomic_load(&srv->secret);
}

/* The webhook delivery thread, on a store handle of its own. */
static int start_deliverer(struct server *srv)
{
    char *err = NULL;
    if (store_open(srv->cfg->db_path, &srv->deliver_store, &err)) {
        log_error("%s", err);
        free(err);
        return -1;
    }
    srv->deliverer = deliverer_start(srv->cfg, srv->deliver_store, current_secret, srv);
    return 0;
}

#ifndef KEYHOLD_VERSION
#define KEYHOLD_VERSION "unknown"
#endif

/* Every layer's metrics, registered before any thread counts (once per
 * process: each registration is kept, and a second serve counts on). */
static void register_metrics(const struct server_secret *secret)
{
    http_metrics_register(KEYHOLD_VERSION);
    api_metrics_register();
    writer_metrics_register();
    auth_metrics_register();
    store_metrics_register();
    http_metrics_secret_version(secret_current(secret)->version);
}

static int open_tls(struct server *srv)
{
    char err[512];
    const struct config *cfg = srv->cfg;
    if (!cfg->tls_cert_path && !cfg->tls_key_path)
        return 0;
    if (!cfg->tls_cert_path || !cfg->tls_key_path) {
        log_error("TLS needs both --tls-cert and --tls-key");
        return -1;
    }
    srv->tls = tls_open(cfg->tls_cert_path, cfg->tls_key_path, err, sizeof err);
    if (!srv->tls)
        log_error("TLS: %s", err);
    return srv->tls ? 0 : -1;
}

int http_serve(const struct config *cfg, const struct server_secret *secret)
{
    return http_serve_notify(cfg, secret, NULL, NULL);
}

int http_serve_notify(const struct config *cfg, const struct server_secret *secret, void (*ready)(int port, void *arg),
                      void *arg)
{
    struct server *srv = &the_server;
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

    /* Every thread inherits this mask: only wait_for_stop's sigtimedwait()
     * sees these signals. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    http_configure(srv);
    register_metrics(secret);
    srv->limiter = ratelimit_new();
    srv->conns = conn_counter_new((size_t)cfg->max_connections + (size_t)srv->n_workers);
    if (open_tls(srv) || prepare_workers(srv) || start_writer(srv) || start_deliverer(srv)) {
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
    deliverer_stop(srv->deliverer);
    srv->deliverer = NULL;
    log_info("keyhold stopped");
out:
    deliverer_stop(srv->deliverer); /* started, then something after it failed */
    store_close(srv->deliver_store);
    store_close(srv->writer_store);
    for (int i = 0; i < srv->n_workers; i++) {
        api_env_clear(&srv->workers[i].env);
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
    for (int i = 0; i < srv->n_workers; i++) {
        if (srv->workers[i].accept_ctx.ssl_ctx)
            SSL_CTX_free(srv->workers[i].accept_ctx.ssl_ctx);
        if (srv->workers[i].admin_accept_ctx.ssl_ctx)
            SSL_CTX_free(srv->workers[i].admin_accept_ctx.ssl_ctx);
        if (rc && srv->workers[i].admin_fd > 0)
            close(srv->workers[i].admin_fd);
    }
    tls_close(srv->tls);
    srv->tls = NULL;
    return rc;
}
