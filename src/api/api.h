/* api.h - the boundary between the HTTP layer and the handlers.
 *
 * The HTTP layer (src/http/request.c) fills a plain struct api_request, has
 * it answered by api_handle() (directly, or through the writer thread,
 * api/writer.h, when api_request_writes() says it may change state), and
 * writes the struct api_response back. Nothing under api/ knows the HTTP
 * library, so handlers can be unit-tested and fuzzed with a plain request. */
#ifndef KH_API_H
#define KH_API_H

#include "auth/authn.h"
#include "config.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

struct api_header {
    const char *name; /* lower-case */
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct api_request {
    const char *method;
    size_t method_len;
    const char *path; /* without the query string */
    size_t path_len;
    const char *query; /* after '?', or NULL */
    size_t query_len;
    const char *body;
    size_t body_len;
    const struct api_header *headers;
    size_t n_headers;
    const char *remote_addr; /* the client's address as text, or NULL */
};

/* An answer header beyond Content-Type (the rate-limit headers, the
 * console's security and caching headers). */
struct api_out_header {
    const char *name; /* static string */
    char value[24];
    const char *text; /* a static value used instead of value when not NULL */
};
#define API_MAX_OUT_HEADERS 10

#define API_LOG_PATH 160

struct api_response {
    int status;
    const char *content_type; /* static string */
    char *body;               /* owned; free with api_response_free */
    size_t body_len;
    char log_path[API_LOG_PATH]; /* the path as it may be logged (secrets masked) */
    struct api_out_header headers[API_MAX_OUT_HEADERS];
    size_t n_headers;
    /* For the access log and the metrics; never a secret. */
    size_t route;                  /* index of the route answered (api_route_name), api_route_count() when none */
    char org_id[UUID_STR];         /* the caller's org, once known */
    char credential_id[UUID_STR];  /* what authenticated (or was refused), once known */
    enum auth_cred credential;     /* its kind */
    const char *reason;            /* why a request was refused at authentication or authorization, or NULL */
};

/* What a handler may use: settings, keys and this thread's store handle. */
struct api_env {
    const struct config *cfg;
    const struct server_secret *secret;
    struct store *store;
    struct usage_buffer *usage; /* last-used bookkeeping of this thread; may be NULL */
    struct auth_cache *auth_cache; /* this thread's authentication outcomes; may be NULL */
    struct ratelimiter *limiter; /* shared by every thread; NULL = no limits */
};

/* Fills *env for one thread that answers requests (an event loop, the
 * writer, the fuzz harness): its own last-used buffer (usage_slots to start
 * with) and authentication cache (auth_cache_entries outcomes), over the
 * thread's store handle st and the process's limiter (NULL: no limits); the
 * secret is set per request. The env owns the buffer and the cache. */
void api_env_init(struct api_env *env, const struct config *cfg, struct store *st, struct ratelimiter *limiter,
                  size_t usage_slots, size_t auth_cache_entries);
/* Frees what api_env_init made (not the store nor the limiter) and leaves
 * them NULL; a cleared or zeroed env may be cleared again. */
void api_env_clear(struct api_env *env);

/* The routes, for metrics and logs: api_route_name(i) is "METHOD /path/{id}"
 * for i < api_route_count(), "unmatched" for i == api_route_count(). */
size_t api_route_count(void);
const char *api_route_name(size_t i);
/* Counts rate-limit refusals as metrics (util/metrics.h); before serving. */
void api_metrics_register(void);

/* Routes and answers one request. Always fills *res (status >= 200). */
void api_handle(struct api_env *env, const struct api_request *req, struct api_response *res);
void api_response_free(struct api_response *res);
/* Non-zero when req matches a route that may change state (ROUTE_WRITE in
 * router.c's table): the one answer to "is this a write", for the router
 * (which runs it in a transaction) and for whoever hands writes to the
 * writer (api/writer.h). A request that matches no route is not one: it is
 * answered 404 or 405 and changes nothing. */
int api_request_writes(const struct config *cfg, const struct api_request *req);
/* {"errors":["message"]} as compact JSON text (malloc'd; caller frees), with
 * bytes that are not UTF-8 made printable. Used for every error body, also
 * those the HTTP layer writes itself. */
char *api_error_body(const char *message);

/* The path as the access log may show it (at most API_LOG_PATH - 1 bytes):
 * every segment that could be a key value or a token cut to "****" and its
 * last 4 characters, whatever the route, status or method. */
void api_log_path(const char *path, size_t len, char out[API_LOG_PATH]);

/* Finds a request header by lower-case name; NULL when absent. The value
 * (len bytes, not NUL-terminated) comes without surrounding whitespace. */
const char *api_header_get(const struct api_request *req, const char *name, size_t *len);

#endif
