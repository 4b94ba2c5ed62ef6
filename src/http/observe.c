/* observe.c - what an operator sees of the HTTP layer: request ids, the
 * access log line (text or JSON, util/log.h), the request metrics, and the
 * admin listener's answers: /metrics in Prometheus' text format and the
 * probes (docs/operations/observability.md).
 *
 * Metrics are counted into families registered before any loop runs
 * (util/metrics.h): per route and status a counter, per route a latency
 * histogram, so counting a request is two atomic additions. */
#include "http/internal.h"

#include "util/log.h"
#include "util/metrics.h"
#include "util/secret.h"

#include <stdio.h>
#include <string.h>

/* The statuses keyhold answers; any other is counted as "other". */
static const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 431, 500, 503};
#define N_STATUSES (sizeof statuses / sizeof statuses[0] + 1)

static struct metric_family *requests, *durations, *connections, *secret_in_use;

static size_t status_slot(int status)
{
    for (size_t i = 0; i < N_STATUSES - 1; i++)
        if (statuses[i] == status)
            return i;
    return N_STATUSES - 1;
}

static void register_requests(void)
{
    static const double seconds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                     0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
    size_t n_routes = api_route_count() + 1; /* and "unmatched" */
    requests = metrics_register("keyhold_http_requests_total", "Requests answered, by route and status.",
                                METRIC_COUNTER, "route,status", n_routes * N_STATUSES, NULL, 0);
    durations = metrics_register("keyhold_http_request_duration_seconds",
                                 "Time from a request's arrival to its answer's last byte, by route.", METRIC_HISTOGRAM,
                                 "route", n_routes, seconds, sizeof seconds / sizeof seconds[0]);
    metrics_set_sparse(requests);
    metrics_set_sparse(durations);
    for (size_t r = 0; r < n_routes; r++) {
        const char *route = api_route_name(r);
        metrics_label(durations, r, (const char *const[]){route});
        for (size_t s = 0; s < N_STATUSES; s++) {
            char status[8];
            snprintf(status, sizeof status, "%d", s < N_STATUSES - 1 ? statuses[s] : 0);
            metrics_label(requests, r * N_STATUSES + s,
                          (const char *const[]){route, s < N_STATUSES - 1 ? status : "other"});
        }
    }
}

void http_metrics_register(const char *version)
{
    if (requests)
        return; /* once per process (util/metrics.h) */
    register_requests();
    connections = metrics_register("keyhold_open_connections", "Client connections open now.", METRIC_GAUGE, "", 1,
                                   NULL, 0);
    secret_in_use = metrics_register("keyhold_secret_version",
                                      "The server secret version new keys are sealed under.", METRIC_GAUGE, "", 1,
                                      NULL, 0);
    struct metric_family *build = metrics_register("keyhold_build_info", "The running keyhold.", METRIC_GAUGE,
                                                   "version", 1, NULL, 0);
    metrics_label(build, 0, (const char *const[]){version});
    metrics_gauge_set(build, 0, 1);
}

void http_metrics_connections(int delta)
{
    metrics_gauge_add(connections, 0, delta);
}

void http_metrics_secret_version(int version)
{
    metrics_gauge_set(secret_in_use, 0, version);
}

/* ---- request ids ---- */

static int plain_token(const char *s, size_t len)
{
    if (len == 0 || len > HTTP_REQUEST_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || c == ':'))
            return 0;
    }
    return 1;
}

void http_request_id(h2o_req_t *req, struct request_done *done)
{
    ssize_t at = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
    if (at >= 0 && plain_token(req->headers.entries[at].value.base, req->headers.entries[at].value.len)) {
        h2o_iovec_t v = req->headers.entries[at].value;
        memcpy(done->request_id, v.base, v.len);
        done->request_id[v.len] = '\0';
        return;
    }
    /* Anything else (spaces, quotes, line breaks, too long) could forge a
     * log line or a header: a fresh id instead. Ids need to be unique, not
     * secret: a random prefix per thread and a counter, no CSPRNG call per
     * request. */
    static _Thread_local char prefix[17];
    static _Thread_local uint64_t counter;
    if (!prefix[0])
        secret_random_hex(prefix, 16);
    snprintf(done->request_id, sizeof done->request_id, "%.16s%016llx", prefix, (unsigned long long)++counter);
}

/* ---- the access log line and the request metrics ---- */

/* The method as logged: one keyhold knows, else "OTHER" (a client's text
 * must not pose as a field of the line). */
static const char *logged_method(const char *m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(m, known[i]) == 0)
            return known[i];
    return m[0] ? "OTHER" : "-";
}

/* A path no route matched, as logged: every byte outside printable ASCII,
 * and '=' and '%', percent-encoded, so the text line's fields stay its own. */
static void logged_path(const char *path, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p && o + 4 < cap; p++) {
        if (*p > 0x20 && *p < 0x7f && *p != '=' && *p != '%')
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", *p);
    }
    out[o] = '\0';
}

void http_observe_done(const struct request_done *d, int64_t duration_us)
{
    size_t route = d->route <= api_route_count() ? d->route : api_route_count();
    metrics_add(requests, route * N_STATUSES + status_slot(d->status), 1);
    metrics_observe(durations, route, (double)duration_us / 1e6);
    if (!log_enabled(LOG_INFO))
        return;
    /* The route's template, never the path: a v1 key route's path holds the
     * key. Requests no route matched show their masked path. */
    char unmatched[3 * API_LOG_PATH + 16], path[3 * API_LOG_PATH];
    const char *shown = strchr(api_route_name(route), ' '); /* the template, after "METHOD " */
    shown = shown ? shown + 1 : api_route_name(route);
    if (route == api_route_count()) {
        logged_path(d->path, path, sizeof path);
        snprintf(unmatched, sizeof unmatched, "unmatched %s", path);
        shown = unmatched;
    }
    struct log_request r = {
        .request_id = d->request_id,
        .method = logged_method(d->method),
        .route = shown,
        .client = d->client,
        .org_id = d->org_id,
        .credential_kind = d->credential ? auth_cred_name(d->credential) : NULL,
        .credential_id = d->credential_id,
        .reason = d->status >= 400 ? d->reason : NULL,
        .status = d->status,
        .duration_ms = (double)duration_us / 1000.0,
    };
    log_request(&r);
}

/* ---- the admin listener ---- */

static void admin_send(h2o_req_t *req, int status, const char *type, char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = status == 200   ? "OK"
                      : status == 404 ? "Not Found"
                      : status == 405 ? "Method Not Allowed"
                      : status == 503 ? "Service Unavailable"
                                      : "Error";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
    req->res.content_length = len;
    h2o_send_inline(req, body, len);
}

static void admin_metrics(h2o_req_t *req)
{
    struct buf b;
    buf_init(&b, 64 << 20);
    metrics_render(&b);
    char *body = h2o_mem_alloc_pool(&req->pool, b.len + 1);
    memcpy(body, b.p ? b.p : "", b.len);
    admin_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", body, b.len);
    buf_free(&b);
}

/* The probes through the API's own handlers (api/health.c), on this loop. */
static void admin_probe(struct worker *w, h2o_req_t *req)
{
    struct api_request areq = {.method = "GET", .method_len = 3, /* HEAD too: libh2o drops the body */
                               .path = req->path_normalized.base, .path_len = req->path_normalized.len};
    struct api_response ares;
    api_handle(&w->env, &areq, &ares);
    char *body = h2o_mem_alloc_pool(&req->pool, ares.body_len + 1);
    memcpy(body, ares.body ? ares.body : "", ares.body_len);
    admin_send(req, ares.status, "application/json", body, ares.body_len);
    api_response_free(&ares);
}

int http_on_admin_request(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    struct worker *w = (struct worker *)req->conn->ctx;
    w->env.secret = atomic_load(&w->srv->secret);
    h2o_iovec_t p = req->path_normalized;
    int known = h2o_memis(p.base, p.len, H2O_STRLIT("/metrics")) || h2o_memis(p.base, p.len, H2O_STRLIT("/healthz")) ||
                h2o_memis(p.base, p.len, H2O_STRLIT("/readyz"));
    int get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
              h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    if (!known) {
        static const char not_found[] = "{\"errors\":[\"Not found: the admin listener serves /metrics, /healthz and /readyz\"]}";
        admin_send(req, 404, "application/json", (char *)not_found, sizeof not_found - 1);
    } else if (!get) {
        static const char not_allowed[] = "{\"errors\":[\"Method not allowed: only GET and HEAD\"]}";
        admin_send(req, 405, "application/json", (char *)not_allowed, sizeof not_allowed - 1);
    } else if (h2o_memis(p.base, p.len, H2O_STRLIT("/metrics"))) {
        admin_metrics(req);
    } else {
        admin_probe(w, req);
    }
    return 0;
}
