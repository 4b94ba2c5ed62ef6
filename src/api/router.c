/* router.c - the exact method + path table, authentication before the
 * handler, and api_handle(), the entry point the HTTP adapter calls.
 *
 * Patterns match whole paths segment by segment; "{}" captures one segment of
 * at most KH_MAX_ID_LEN bytes (a longer one can name nothing, so it is 404). */
#include "api/internal.h"

#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/secret.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Flags of the table's lines: W a change by an authenticated caller, V (VW)
 * a token endpoint that reads (changes). */
#define W (ROUTE_AUTH | ROUTE_WRITE)
#define V (ROUTE_AUTH | ROUTE_VND)
#define VW (V | ROUTE_WRITE)
#define S (ROUTE_AUTH | ROUTE_SECRETS)

static const struct route routes[] = {
    /* validation */
    {"GET", "/api/v1/validate", validate_v1, 0},
    {"GET", "/api/v2/validate", validate_v2, 0},
    {"GET", "/api/v2/validate_keys", validate_keys, ROUTE_AUTH | ROUTE_MISSING_401},
    /* API keys */
    {"GET", "/api/v1/api_key", api_keys_v1_list, S},
    {"POST", "/api/v1/api_key", api_keys_v1_create, W},
    {"GET", "/api/v1/api_key/{}", api_keys_v1_get, S},
    {"PUT", "/api/v1/api_key/{}", api_keys_v1_update, W},
    {"DELETE", "/api/v1/api_key/{}", api_keys_v1_delete, W},
    {"GET", "/api/v2/api_keys", api_keys_list, S},
    {"POST", "/api/v2/api_keys", api_keys_create, W},
    {"GET", "/api/v2/api_keys/{}", api_keys_get, S},
    {"PATCH", "/api/v2/api_keys/{}", api_keys_update, W},
    {"DELETE", "/api/v2/api_keys/{}", api_keys_delete, W},
    /* application keys */
    {"GET", "/api/v1/application_key", app_keys_v1_list, S},
    {"POST", "/api/v1/application_key", app_keys_v1_create, W},
    {"GET", "/api/v1/application_key/{}", app_keys_v1_get, S},
    {"PUT", "/api/v1/application_key/{}", app_keys_v1_update, W},
    {"DELETE", "/api/v1/application_key/{}", app_keys_v1_delete, W},
    {"GET", "/api/v2/application_keys", app_keys_list, S},
    {"GET", "/api/v2/application_keys/{}", app_keys_get, S},
    {"PATCH", "/api/v2/application_keys/{}", app_keys_update, W},
    {"DELETE", "/api/v2/application_keys/{}", app_keys_delete, W},
    {"GET", "/api/v2/current_user/application_keys", my_app_keys_list, S},
    {"POST", "/api/v2/current_user/application_keys", my_app_keys_create, W},
    {"GET", "/api/v2/current_user/application_keys/{}", my_app_keys_get, S},
    {"PATCH", "/api/v2/current_user/application_keys/{}", my_app_keys_update, W},
    {"DELETE", "/api/v2/current_user/application_keys/{}", my_app_keys_delete, W},
    {"GET", "/api/v2/service_accounts/{}/application_keys", sa_app_keys_list, S},
    {"POST", "/api/v2/service_accounts/{}/application_keys", sa_app_keys_create, W},
    {"GET", "/api/v2/service_accounts/{}/application_keys/{}", sa_app_keys_get, S},
    {"PATCH", "/api/v2/service_accounts/{}/application_keys/{}", sa_app_keys_update, W},
    {"DELETE", "/api/v2/service_accounts/{}/application_keys/{}", sa_app_keys_delete, W},
    /* personal and service access tokens */
    {"GET", "/api/v2/personal_access_tokens", access_tokens_list, V},
    {"POST", "/api/v2/personal_access_tokens", access_tokens_create, VW},
    {"GET", "/api/v2/personal_access_tokens/{}", access_tokens_get, V},
    {"PATCH", "/api/v2/personal_access_tokens/{}", access_tokens_update, VW},
    {"DELETE", "/api/v2/personal_access_tokens/{}", access_tokens_revoke, VW},
    {"POST", "/api/v2/service_accounts", service_accounts_create, W},
    {"GET", "/api/v2/service_accounts/{}/access_tokens", sa_tokens_list, V},
    {"POST", "/api/v2/service_accounts/{}/access_tokens", sa_tokens_create, VW},
    {"GET", "/api/v2/service_accounts/{}/access_tokens/{}", sa_tokens_get, V},
    {"PATCH", "/api/v2/service_accounts/{}/access_tokens/{}", sa_tokens_update, VW},
    {"DELETE", "/api/v2/service_accounts/{}/access_tokens/{}", sa_tokens_revoke, VW},
    /* users, roles, permissions */
    {"GET", "/api/v2/users", users_list, ROUTE_AUTH},
    {"POST", "/api/v2/users", users_create, W},
    {"GET", "/api/v2/users/{}", users_get, ROUTE_AUTH},
    {"GET", "/api/v2/users/{}/permissions", users_permissions_list, ROUTE_AUTH},
    {"GET", "/api/v2/users/{}/orgs", users_orgs_list, ROUTE_AUTH},
    {"POST", "/api/v2/user_invitations", invitations_send, W},
    {"GET", "/api/v2/user_invitations/{}", invitations_get, ROUTE_AUTH},
    {"PATCH", "/api/v2/users/{}", users_update, W},
    {"DELETE", "/api/v2/users/{}", users_disable, W},
    {"GET", "/api/v2/roles/templates", roles_templates, ROUTE_AUTH}, /* before /api/v2/roles/{} */
    {"GET", "/api/v2/roles", roles_list, ROUTE_AUTH},
    {"POST", "/api/v2/roles", roles_create, W},
    {"GET", "/api/v2/roles/{}", roles_get, ROUTE_AUTH},
    {"PATCH", "/api/v2/roles/{}", roles_update, W},
    {"DELETE", "/api/v2/roles/{}", roles_delete, W},
    {"POST", "/api/v2/roles/{}/clone", roles_clone, W},
    {"GET", "/api/v2/roles/{}/permissions", role_permissions_list, ROUTE_AUTH},
    {"POST", "/api/v2/roles/{}/permissions", role_permissions_add, W},
    {"DELETE", "/api/v2/roles/{}/permissions", role_permissions_remove, W},
    {"GET", "/api/v2/roles/{}/users", role_users_list, ROUTE_AUTH},
    {"POST", "/api/v2/roles/{}/users", role_users_add, W},
    {"DELETE", "/api/v2/roles/{}/users", role_users_remove, W},
    {"GET", "/api/v2/permissions", permissions_list, ROUTE_AUTH},
    /* the audit trail, as Datadog's Audit Trail API serves it (audit.c); a search is a read */
    {"GET", "/api/v2/audit/events", audit_events_list, ROUTE_AUTH},
    {"POST", "/api/v2/audit/events/search", audit_events_search, ROUTE_AUTH},
    /* probes for supervisors and load balancers (health.c), unauthenticated */
    {"GET", "/healthz", health_live, 0},
    {"GET", "/readyz", health_ready, 0},
    /* keyhold's own extensions */
    {"POST", "/api/v2/keyhold/reset", keyhold_reset, W | ROUTE_TEST_MODE},
    {"POST", "/api/v2/keyhold/credentials/{}/rotate", keyhold_credential_rotate, W},
    {"GET", "/api/v2/keyhold/credentials/{}/usage", keyhold_credential_usage, ROUTE_AUTH},
    {"GET", "/api/v2/keyhold/credentials", keyhold_credentials_history, ROUTE_AUTH},
    {"POST", "/api/v2/keyhold/credentials/{}/revoke", keyhold_credential_revoke, W},
    /* leak reports (leaks.c): signed by GitHub or authenticated; the handler authenticates */
    {"POST", "/api/v2/keyhold/leaks", keyhold_leaks_report, ROUTE_WRITE},
    {"GET", "/api/v2/keyhold/leaks", keyhold_leaks_list, ROUTE_AUTH},
    {"GET", "/api/v2/keyhold/leak_policy", keyhold_leak_policy_get, ROUTE_AUTH},
    {"PATCH", "/api/v2/keyhold/leak_policy", keyhold_leak_policy_update, W},
    {"GET", "/api/v2/keyhold/webhooks", keyhold_webhooks_list, ROUTE_AUTH},
    {"POST", "/api/v2/keyhold/webhooks", keyhold_webhooks_create, W},
    {"GET", "/api/v2/keyhold/webhooks/{}", keyhold_webhooks_get, ROUTE_AUTH},
    {"PATCH", "/api/v2/keyhold/webhooks/{}", keyhold_webhooks_update, W},
    {"DELETE", "/api/v2/keyhold/webhooks/{}", keyhold_webhooks_delete, W},
    {"GET", "/api/v2/keyhold/webhooks/{}/deliveries", keyhold_webhook_deliveries_list, ROUTE_AUTH},
    /* the web console's files (console.c), unauthenticated: they hold no data */
    {"GET", "/console", console_redirect, 0},
    {"GET", "/console/", console_index, 0},
    {"GET", "/console/{}", console_file, 0},
};

/* The revocations: routes that delete or revoke a credential, or disable a
 * user (which revokes all of theirs). One is never refused 429 to a caller
 * holding one of the permissions its handler accepts for it, so that no flood
 * can hold up an emergency revocation; it is still counted (rate_or_reply). */
static const struct revocation {
    api_handler handler;
    int perms[5]; /* ends at the first -1 */
} revocations[] = {
    {api_keys_v1_delete, {PERM_API_KEYS_DELETE, -1}},
    {api_keys_delete, {PERM_API_KEYS_DELETE, -1}},
    {app_keys_v1_delete, {PERM_ORG_APP_KEYS_WRITE, PERM_USER_APP_KEYS, -1}}, /* the caller's own keys */
    {app_keys_delete, {PERM_ORG_APP_KEYS_WRITE, -1}},
    {my_app_keys_delete, {PERM_USER_APP_KEYS, -1}},
    {sa_app_keys_delete, {PERM_SERVICE_ACCOUNT_WRITE, -1}},
    {access_tokens_revoke, {PERM_USER_APP_KEYS, PERM_ORG_APP_KEYS_WRITE, -1}},
    {sa_tokens_revoke, {PERM_SERVICE_ACCOUNT_WRITE, -1}},
    {users_disable, {PERM_USER_ACCESS_MANAGE, PERM_SERVICE_ACCOUNT_WRITE, -1}},
    {keyhold_credential_revoke,
     {PERM_API_KEYS_DELETE, PERM_ORG_APP_KEYS_WRITE, PERM_USER_APP_KEYS, PERM_SERVICE_ACCOUNT_WRITE, -1}},
};

/* Matches path against pattern; on success copies the captured segments into
 * call->params (unless call is NULL). Returns 1 on a match. */
static int match(const char *pattern, const char *path, size_t path_len, struct api_call *call)
{
    const char *p = pattern, *s = path, *end = path + path_len;
    size_t n = 0;
    while (*p && s < end) {
        if (p[0] == '{' && p[1] == '}') {
            const char *seg = s;
            while (s < end && *s != '/')
                s++;
            size_t len = (size_t)(s - seg);
            if (len == 0 || len > KH_MAX_ID_LEN || n == API_MAX_PARAMS)
                return 0;
            if (call) {
                memcpy(call->params[n], seg, len);
                call->params[n][len] = '\0';
            }
            n++;
            p += 2;
        } else if (*p == *s) {
            p++, s++;
        } else {
            return 0;
        }
    }
    if (*p || s != end)
        return 0;
    if (call)
        call->n_params = n;
    return 1;
}

/* Finds the route of req under cfg, its path parameters going to call
 * (unless NULL); *path_known is set when some route has this path (so a
 * wrong method is 405, not 404). */
static const struct route *find_route(const struct config *cfg, const struct api_request *req, struct api_call *call,
                                      int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if ((routes[i].flags & ROUTE_TEST_MODE) && !cfg->test_mode)
            continue;
        if (!match(routes[i].pattern, req->path, req->path_len, call))
            continue;
        *path_known = 1;
        if (strlen(routes[i].method) == req->method_len && memcmp(routes[i].method, req->method, req->method_len) == 0)
            return &routes[i];
    }
    return NULL;
}

int api_request_writes(const struct config *cfg, const struct api_request *req)
{
    int path_known;
    const struct route *route = find_route(cfg, req, NULL, &path_known);
    return route && (route->flags & ROUTE_WRITE);
}

const char *api_header_get(const struct api_request *req, const char *name, size_t *len)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct api_header *h = &req->headers[i];
        if (h->name_len == nlen && memcmp(h->name, name, nlen) == 0) {
            /* The field value, without the optional whitespace around it
             * (RFC 9110 section 5.5): "DD-API-KEY: <key> \t" is the key. */
            const char *v = h->value;
            size_t n = h->value_len;
            while (n && (*v == ' ' || *v == '\t'))
                v++, n--;
            while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            *len = n;
            return v;
        }
    }
    *len = 0;
    return NULL;
}

/* Non-zero when a path segment is a word of some route ("application_key",
 * "personal_access_tokens"): never a secret. */
static int route_word(const char *seg, size_t len)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *p = routes[i].pattern;
        while ((p = strchr(p, '/')) != NULL) {
            p++;
            size_t n = strcspn(p, "/");
            if (n == len && memcmp(p, seg, len) == 0)
                return 1;
        }
    }
    return 0;
}

/* A segment that could be a key value or a token (20 bytes or more, neither
 * a route's word nor a UUID): every credential keyhold makes is that long. */
static int secret_like(const char *seg, size_t len)
{
    return len >= 20 && !uuid_valid(seg, len) && !route_word(seg, len);
}

void api_log_path(const char *path, size_t len, char out[API_LOG_PATH])
{
    size_t o = 0;
    for (size_t i = 0; i < len && o < API_LOG_PATH - 9;) {
        size_t n = 0;
        while (i + n < len && path[i + n] != '/')
            n++;
        if (n && secret_like(path + i, n)) {
            o += (size_t)snprintf(out + o, API_LOG_PATH - o, "****%.4s", path + i + n - 4);
        } else {
            size_t take = n < API_LOG_PATH - 9 - o ? n : API_LOG_PATH - 9 - o;
            memcpy(out + o, path + i, take);
            o += take;
        }
        i += n;
        if (i < len && o < API_LOG_PATH - 9)
            out[o++] = '/', i++;
    }
    out[o] = '\0';
}

/* The path as it may be logged, whatever route it matched or failed to. */
static void set_log_path(struct api_call *call)
{
    api_log_path(call->req->path, call->req->path_len, call->res->log_path);
}

/* FNV-1a over the credential headers: tells an address's known-good
 * credentials apart without keeping them (64 bits, in memory only). */
static pthread_once_t fingerprint_once = PTHREAD_ONCE_INIT;
static uint8_t fingerprint_key[SECRET_SIPHASH_KEY_LEN];

static void make_fingerprint_key(void)
{
    secret_random(fingerprint_key, sizeof fingerprint_key);
}

/* Keyed (SipHash under a key made at start): a client past its failure
 * limit must not be able to make a guess's fingerprint equal to that of a
 * credential that succeeded from its address. */
static uint64_t fingerprint(const struct auth_input *in)
{
    const char *parts[3] = {in->api_key, in->app_key, in->authorization};
    size_t lens[3] = {in->api_key_len, in->app_key_len, in->authorization_len};
    char small[512];
    size_t total = 0;
    for (int i = 0; i < 3; i++)
        total += 21 + (parts[i] ? lens[i] : 0);
    char *text = total <= sizeof small ? small : xmalloc(total), *p = text;
    for (int i = 0; i < 3; i++) { /* each part after its length: no two splits read alike */
        size_t n = parts[i] ? lens[i] : 0;
        p += snprintf(p, 21, "%zu:", n);
        memcpy(p, parts[i] ? parts[i] : "", n);
        p += n;
    }
    pthread_once(&fingerprint_once, make_fingerprint_key);
    uint64_t h = secret_siphash(fingerprint_key, text, (size_t)(p - text));
    if (text != small)
        free(text);
    return h;
}

/* Sets the X-RateLimit-* headers of an answer from a verdict. */
static void set_rate_headers(struct api_call *call, const struct rate_verdict *v)
{
    struct api_response *res = call->res;
    if (!v->limit)
        return;
    static const char *const names[] = {"x-ratelimit-limit", "x-ratelimit-period", "x-ratelimit-remaining",
                                        "x-ratelimit-reset", "x-ratelimit-name"};
    const int64_t values[] = {v->limit, v->period, v->remaining, v->reset};
    res->n_headers = 0;
    for (int i = 0; i < 5; i++) {
        struct api_out_header *h = &res->headers[res->n_headers++];
        h->name = names[i];
        h->text = NULL;
        if (i < 4)
            snprintf(h->value, sizeof h->value, "%lld", (long long)values[i]);
        else
            snprintf(h->value, sizeof h->value, "%s", v->name);
    }
}

/* ---- names for metrics and logs ---- */

#define N_ROUTES (sizeof routes / sizeof routes[0])
#define ROUTE_NAME_MAX 80

static char route_names[N_ROUTES + 1][ROUTE_NAME_MAX];
static pthread_once_t route_names_once = PTHREAD_ONCE_INIT;

/* "GET /api/v2/api_keys/{id}": each "{}" of a pattern shown as {id}. */
static void make_route_names(void)
{
    for (size_t i = 0; i < N_ROUTES; i++) {
        char *out = route_names[i];
        size_t o = (size_t)snprintf(out, ROUTE_NAME_MAX, "%s ", routes[i].method);
        for (const char *p = routes[i].pattern; *p && o < ROUTE_NAME_MAX - 5; p++) {
            if (p[0] == '{' && p[1] == '}') {
                memcpy(out + o, "{id}", 4), o += 4, p++;
                continue;
            }
            out[o++] = *p;
        }
        out[o] = '\0';
    }
    snprintf(route_names[N_ROUTES], ROUTE_NAME_MAX, "unmatched");
}

size_t api_route_count(void)
{
    return N_ROUTES;
}

const char *api_route_name(size_t i)
{
    pthread_once(&route_names_once, make_route_names);
    return route_names[i < N_ROUTES ? i : N_ROUTES];
}

static const char *const limit_names[] = {"org", "credential", "auth_failures"};
static struct metric_family *rate_limited; /* NULL until registered: counting is a no-op */

void api_metrics_register(void)
{
    if (rate_limited)
        return; /* once per process */
    rate_limited = metrics_register("keyhold_rate_limited_total", "Requests refused 429, by the limit that refused.",
                                    METRIC_COUNTER, "limit", 3, NULL, 0);
    for (size_t i = 0; i < 3; i++)
        metrics_label(rate_limited, i, (const char *const[]){limit_names[i]});
}

static void count_rate_limited(const char *name)
{
    for (size_t i = 0; i < 3; i++)
        if (name && strcmp(name, limit_names[i]) == 0)
            metrics_add(rate_limited, i, 1);
}

static void reply_rate_limited(struct api_call *call, const struct rate_verdict *v)
{
    count_rate_limited(v->name);
    call->res->reason = "rate_limited";
    set_rate_headers(call, v);
    reply_error(call, 429, "Rate limit of %lld requests in %lld seconds reached. Please try again later.",
                (long long)v->limit, (long long)v->period);
}

static const char *remote(const struct api_call *call)
{
    return call->req->remote_addr ? call->req->remote_addr : "unknown";
}

/* Whom the failure limits count: the client's address, an IPv6 client by its
 * /64 (one host commonly holds a whole /64, and would otherwise have as many
 * allowances as addresses). */
static const char *client_key(const struct api_call *call, char out[INET6_ADDRSTRLEN + 4])
{
    struct in6_addr a6;
    const char *addr = remote(call);
    if (!strchr(addr, ':') || inet_pton(AF_INET6, addr, &a6) != 1 || IN6_IS_ADDR_V4MAPPED(&a6))
        return addr;
    memset(a6.s6_addr + 8, 0, 8);
    if (!inet_ntop(AF_INET6, &a6, out, INET6_ADDRSTRLEN))
        return addr;
    memcpy(out + strlen(out), "/64", 4); /* inet_ntop leaves room: at most 45 characters */
    return out;
}

/* The process's limiter, or NULL for none. The HTTP layer makes it before any
 * request, without the table size (ratelimit_new); the first request sizes it
 * from the config, every later one finds it sized (one atomic load). */
static struct ratelimiter *limiter(const struct api_call *call)
{
    struct ratelimiter *r = call->env->limiter;
    if (r)
        ratelimit_size(r, (size_t)call->env->cfg->rate_table_entries);
    return r;
}

int api_auth_guard_or_reply(struct api_call *call)
{
    struct rate_verdict v;
    char buf[INET6_ADDRSTRLEN + 4];
    struct ratelimiter *r = limiter(call);
    if (!r || !call->env->cfg->rate_auth_failures.limit)
        return 0;
    const char *client = client_key(call, buf);
    ratelimit_failure_peek(r, "auth_failures", &call->env->cfg->rate_auth_failures, client, call->now / 1000000, &v);
    if (v.allowed || ratelimit_known_success(r, client, call->fingerprint))
        return 0;
    reply_rate_limited(call, &v);
    return -1;
}

/* What the access log shows of an authentication. */
static void note_principal(struct api_call *call, int rc, const struct principal *who)
{
    struct api_response *res = call->res;
    res->credential = who->cred;
    if (rc == KH_OK || who->expired) {
        memcpy(res->org_id, who->org_id, UUID_STR);
        memcpy(res->credential_id, who->credential_id[0] ? who->credential_id : who->api_key_id, UUID_STR);
    }
    if (rc == AUTH_INVALID || rc == AUTH_MISSING)
        res->reason = auth_reason_name(who->reason);
    if (rc != KH_OK && log_enabled(LOG_DEBUG))
        log_debug("authentication refused: %s %s%s%s", auth_cred_name(who->cred), auth_reason_name(who->reason),
                  res->credential_id[0] ? " " : "", res->credential_id);
}

void api_auth_note(struct api_call *call, int rc, const struct principal *who)
{
    struct rate_verdict v;
    char buf[INET6_ADDRSTRLEN + 4];
    note_principal(call, rc, who);
    struct ratelimiter *r = limiter(call);
    if (!r)
        return;
    const char *client = client_key(call, buf);
    if (rc == KH_OK) {
        ratelimit_remember_success(r, client, call->fingerprint);
    } else if (rc == AUTH_INVALID) {
        ratelimit_failure_hit(r, "auth_failures", &call->env->cfg->rate_auth_failures, client, call->now / 1000000,
                              &v);
        set_rate_headers(call, &v);
        /* This failure spent the address's allowance: from now on the guard
         * refuses its unknown credentials. Recorded once per window. */
        if (v.limit && v.allowed && v.remaining == 0)
            api_audit_later(call, "auth_failure_burst", "client_address", remote(call));
    }
}

void api_auth_env(const struct api_call *call, struct auth_env *env)
{
    memset(env, 0, sizeof *env);
    env->store = call->env->store;
    env->secret = call->env->secret;
    env->now = call->now;
    env->usage = call->env->usage;
    env->source = remote(call);
    env->cache = call->env->auth_cache;
    env->user_agent = api_header_get(call->req, "user-agent", &env->user_agent_len);
    env->route = call->route ? api_route_name((size_t)(call->route - routes)) : NULL;
}

/* The audit event only authentication sees: an expired token presented
 * (a credential's first use is told by the store when its use is written,
 * auth/usage.h). */
static void audit_authentication(struct api_call *call, int rc)
{
    if (rc == AUTH_INVALID && call->who.expired)
        api_audit_later(call, "expired_use", "access_token", call->who.credential_id);
}

/* One limit a request is counted against. */
struct rate_check {
    const char *name; /* in the headers */
    struct rate_rule rule;
    char key[48];
    struct rate_verdict v;
};

/* The limits an authenticated request is counted against, in the order they
 * are taken: its credential's (its own rule and its share of the org's
 * budget, one counter or, when their periods differ, two) and its org's. */
static size_t rate_checks(const struct api_call *call, struct rate_check checks[3])
{
    const struct config *cfg = call->env->cfg;
    struct rate_rule credential[2];
    int n_credential =
        ratelimit_credential_rules(&cfg->rate_credential, &cfg->rate_org, cfg->rate_credential_share, credential);
    size_t n = 0;
    for (int i = 0; i < n_credential; i++, n++) {
        checks[n].name = "credential";
        checks[n].rule = credential[i];
        snprintf(checks[n].key, sizeof checks[n].key, "%s:%s", i ? "s" : "c", call->who.credential_id);
    }
    if (cfg->rate_org.limit) {
        checks[n].name = "org";
        checks[n].rule = cfg->rate_org;
        snprintf(checks[n].key, sizeof checks[n].key, "o:%s", call->who.org_id);
        n++;
    }
    return n;
}

/* Non-zero when the route is a revocation and the caller holds a permission
 * its handler accepts for it (see revocations). */
static int revocation_by_holder(const struct api_call *call)
{
    /* A preview revokes nothing, and may be asked again and again. */
    if (query_get(&call->query, "dry_run"))
        return 0;
    for (size_t i = 0; i < sizeof revocations / sizeof revocations[0]; i++) {
        if (revocations[i].handler != call->route->handler)
            continue;
        for (const int *perm = revocations[i].perms; *perm >= 0; perm++)
            if (api_has_perm(call, *perm))
                return 1;
    }
    return 0;
}

/* Counts the request against its credential and its org; answers 429 when a
 * limit is spent. A refused request consumes nothing (what the limits taken
 * before the refusing one counted is given back), so a flood of refused
 * requests spends nobody's budget, and one credential spends at most its
 * share of its org's. A revocation by a holder of its permission is never
 * refused: it is counted up to the first limit without room and no further,
 * so revocations past a credential's share spend nothing of its org's. The
 * headers report the limit closest to being spent, or the one that refused
 * (or was spent). */
static int rate_or_reply(struct api_call *call)
{
    struct rate_check checks[3];
    const struct rate_verdict *closest = NULL;
    struct ratelimiter *r = limiter(call);
    if (!r)
        return 0;
    int64_t now_s = call->now / 1000000;
    int never_refused = revocation_by_holder(call);
    size_t n = rate_checks(call, checks);
    for (size_t i = 0; i < n; i++) {
        ratelimit_take(r, checks[i].name, &checks[i].rule, checks[i].key, now_s, &checks[i].v);
        if (!checks[i].v.allowed && !never_refused) {
            for (size_t j = 0; j < i; j++)
                ratelimit_give_back(r, &checks[j].rule, checks[j].key, now_s);
            reply_rate_limited(call, &checks[i].v);
            return -1;
        }
        if (!closest || checks[i].v.remaining <= closest->remaining)
            closest = &checks[i].v;
        if (!checks[i].v.allowed)
            break;
    }
    if (closest)
        set_rate_headers(call, closest);
    return 0;
}

/* A rotated credential's previous secret, within its overlap, keeps
 * deployments working while they move to the new one: it reads, but it
 * neither writes (no rotation, no new credential, no replayed rotation) nor
 * reads a key's value, so that a leaked previous secret cannot reach the
 * new one or outlive the overlap (docs/api/rotation.md). */
static int previous_secret_or_reply(struct api_call *call)
{
    if (!call->who.by_previous || !(call->route->flags & (ROUTE_WRITE | ROUTE_SECRETS)))
        return 0;
    reply_error(call, 403, "Forbidden: this credential was rotated, and its previous secret, accepted until the "
                           "overlap ends, only reads and never sees a key's value: use the new secret");
    return -1;
}

static int authenticate_or_reply(struct api_call *call)
{
    const struct api_request *req = call->req;
    struct auth_input in;
    memset(&in, 0, sizeof in);
    in.api_key = api_header_get(req, "dd-api-key", &in.api_key_len);
    in.app_key = api_header_get(req, "dd-application-key", &in.app_key_len);
    in.authorization = api_header_get(req, "authorization", &in.authorization_len);
    /* Deprecated query-string equivalents (apiKeyAuthQuery/appKeyAuthQuery). */
    if (!in.api_key && (in.api_key = query_get(&call->query, "api_key")))
        in.api_key_len = strlen(in.api_key);
    if (!in.app_key && (in.app_key = query_get(&call->query, "application_key")))
        in.app_key_len = strlen(in.app_key);
    call->fingerprint = fingerprint(&in);
    if (api_auth_guard_or_reply(call))
        return -1;
    struct auth_env env;
    api_auth_env(call, &env);
    int rc = auth_authenticate(&env, &in, &call->who);
    api_auth_note(call, rc, &call->who);
    audit_authentication(call, rc);
    switch (rc) {
    case KH_OK:
        return previous_secret_or_reply(call) || rate_or_reply(call);
    case AUTH_MISSING:
        if (call->route->flags & ROUTE_MISSING_401) {
            reply_error(call, 401, "Unauthorized: send DD-API-KEY and DD-APPLICATION-KEY");
            return -1;
        }
        reply_error(call, 403, "Forbidden: no credentials (send DD-API-KEY and DD-APPLICATION-KEY, or "
                               "Authorization: Bearer <token>)");
        return -1;
    case AUTH_INVALID:
        reply_error(call, 403, "Forbidden");
        return -1;
    default:
        reply_store_error(call, rc);
        return -1;
    }
}

int api_authenticate_or_reply(struct api_call *call)
{
    return authenticate_or_reply(call);
}

/* A 403 after a successful authentication is a permission the credential
 * lacks (its owner's roles narrowed by its scopes): out of scope. */
static void note_authorization(struct api_call *call)
{
    if (call->res->status != 403 || !(call->route->flags & ROUTE_AUTH) || call->res->reason)
        return;
    call->res->reason = auth_reason_name(AUTH_REASON_OUT_OF_SCOPE);
    auth_metrics_count(call->who.cred, AUTH_REASON_OUT_OF_SCOPE);
}

/* Runs the handler. A request that may change state (ROUTE_WRITE) runs in
 * one store transaction, so that its changes and their audit events are
 * committed together, before the answer is sent, or not at all: a failed
 * commit turns a success into 503. */
static void run_handler(struct api_call *call)
{
    if (!(call->route->flags & ROUTE_WRITE)) {
        call->route->handler(call);
        return;
    }
    int rc = store_begin(call->env->store);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    call->route->handler(call);
    if (call->audit_failed) {
        store_rollback(call->env->store);
        reply_store_error(call, KH_ESTORE);
    } else if (call->res->status >= 200 && call->res->status < 300) {
        rc = store_commit(call->env->store);
        if (rc) {
            store_rollback(call->env->store);
            reply_store_error(call, rc);
        }
    } else {
        store_rollback(call->env->store);
    }
}

void api_handle(struct api_env *env, const struct api_request *req, struct api_response *res)
{
    struct api_call call;
    int path_known;
    memset(res, 0, sizeof *res);
    memset(&call, 0, sizeof call);
    call.env = env;
    call.req = req;
    call.res = res;
    call.now = clock_now_us();
    call.route = find_route(env->cfg, req, &call, &path_known);
    res->route = call.route ? (size_t)(call.route - routes) : N_ROUTES;
    set_log_path(&call);
    if (!call.route) {
        if (path_known)
            reply_error(&call, 405, "Method %.*s not allowed on %.*s", (int)(req->method_len > 16 ? 16 : req->method_len),
                        req->method, (int)(req->path_len > 100 ? 100 : req->path_len), req->path);
        else
            reply_error(&call, 404, "Not found");
        return;
    }
    if (query_parse(req->query, req->query_len, &call.query)) {
        reply_error(&call, 400, "Malformed query string");
        return;
    }
    if (!(call.route->flags & ROUTE_AUTH) || !authenticate_or_reply(&call)) {
        run_handler(&call);
        note_authorization(&call);
    }
    query_free(&call.query);
    if (res->status == 0)
        reply_error(&call, 500, "Internal error: no answer");
}

void api_response_free(struct api_response *res)
{
    free(res->body);
    res->body = NULL;
}
