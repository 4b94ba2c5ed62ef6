/* test_api.c - the handlers through api_handle() with plain requests (no
 * HTTP): routing, which requests are writes, the per-thread env that
 * api_env_init makes, paging arithmetic, every 400 path of the list
 * queries, body validation, and a clean 503 when the store fails. */
#include "test.h"

#include "api/api.h"
#include "auth/credentials.h"
#include "auth/authcache.h"
#include "auth/usage.h"
#include "fixture.h"
#include "store_faulty.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/secret.h"
#include "util/token.h"
#include "util/uuid.h"
#include "util/xmalloc.h"

#include <jansson.h>

struct ctx {
    struct fixture f;
    struct config cfg;
    struct api_env env;
};

static void ctx_open(struct ctx *c)
{
    fixture_open(&c->f);
    config_defaults(&c->cfg);
    memset(&c->env, 0, sizeof c->env); /* no usage buffer, no rate limiter */
    c->env.cfg = &c->cfg;
    c->env.secret = &c->f.secret;
    c->env.store = c->f.st;
}

static void ctx_close(struct ctx *c)
{
    config_free(&c->cfg);
    fixture_close(&c->f);
}

/* Sends method target (path?query) with the admin's keys; returns the status
 * and, when out is given, the parsed body. */
static int send_req_text(struct ctx *c, const char *method, const char *target, const char *body, json_t **out,
                         char **text)
{
    struct api_header h[2] = {
        {"dd-api-key", 10, c->f.admin.api_key, strlen(c->f.admin.api_key)},
        {"dd-application-key", 18, c->f.admin.app_key, strlen(c->f.admin.app_key)},
    };
    struct api_request req = {0};
    struct api_response res;
    const char *q = strchr(target, '?');
    req.method = method;
    req.method_len = strlen(method);
    req.path = target;
    req.path_len = q ? (size_t)(q - target) : strlen(target);
    req.query = q ? q + 1 : NULL;
    req.query_len = q ? strlen(q + 1) : 0;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.headers = h;
    req.n_headers = 2;
    api_handle(&c->env, &req, &res);
    if (out)
        *out = res.body ? json_loads(res.body, 0, NULL) : NULL;
    if (text)
        *text = xstrdup(res.body ? res.body : "");
    int status = res.status;
    /* Every error answer is {"errors":[string, ...]}. */
    if (status >= 400) {
        json_t *e = json_loads(res.body, 0, NULL);
        json_t *arr = json_object_get(e, "errors");
        CHECK(json_is_array(arr) && json_array_size(arr) >= 1 && json_is_string(json_array_get(arr, 0)));
        json_decref(e);
    }
    api_response_free(&res);
    return status;
}

/* The same, with the answer's text (the caller frees it) when text is given. */
static int send_req(struct ctx *c, const char *method, const char *target, const char *body, json_t **out)
{
    return send_req_text(c, method, target, body, out, NULL);
}

static char *pat_body(const char *name)
{
    char exp[CLOCK_BUF];
    clock_format_rfc3339(clock_now_us() + 2LL * 86400 * 1000000, 0, exp);
    return xasprintf("{\"data\":{\"type\":\"personal_access_tokens\",\"attributes\":{\"name\":\"%s\","
                     "\"scopes\":[\"api_keys_read\"],\"expires_at\":\"%s\"}}}",
                     name, exp);
}

static void routing_answers_404_and_405(void)
{
    struct ctx c;
    ctx_open(&c);
    CHECK_INT(send_req(&c, "GET", "/api/v2/nothing", NULL, NULL), 404);
    CHECK_INT(send_req(&c, "GET", "/api/v2/api_keys/", NULL, NULL), 404);
    CHECK_INT(send_req(&c, "PUT", "/api/v2/personal_access_tokens", NULL, NULL), 405);
    CHECK_INT(send_req(&c, "GET", "/api/v2/api_keysX", NULL, NULL), 404);
    CHECK_INT(send_req(&c, "GET", "/api/v2/personal_access_tokens/not-a-uuid", NULL, NULL), 404);
    ctx_close(&c);
}

/* The one answer to "is this request a write" (the route table's
 * ROUTE_WRITE), which the router and the HTTP layer both ask. */
static void a_request_writes_exactly_when_its_route_may_change_state(void)
{
    static const struct {
        const char *method, *path;
        int writes, in_test_mode;
    } cases[] = {
        {"GET", "/api/v2/api_keys", 0, 0},
        {"HEAD", "/api/v2/api_keys", 0, 0}, /* no route: 405, answered where it arrived */
        {"POST", "/api/v2/api_keys", 1, 1},
        {"PATCH", "/api/v2/api_keys/abc", 1, 1},
        {"DELETE", "/api/v2/api_keys/abc", 1, 1},
        {"PUT", "/api/v1/api_key/abc", 1, 1},
        {"GET", "/api/v2/validate_keys", 0, 0},
        {"GET", "/api/v2/personal_access_tokens/abc", 0, 0},
        {"POST", "/api/v2/personal_access_tokens", 1, 1},
        {"DELETE", "/api/v2/service_accounts/a/access_tokens/b", 1, 1},
        {"POST", "/api/v2/roles/abc/clone", 1, 1},
        {"PUT", "/api/v2/api_keys", 0, 0},     /* 405 */
        {"POST", "/api/v2/nowhere", 0, 0},     /* 404 */
        {"POST", "/api/v2/keyhold/reset", 0, 1}, /* a route in test mode only */
        {"POST", "/api/v2/keyhold/leaks", 1, 1},        /* a write without ROUTE_AUTH: signed reports */
        {"GET", "/api/v2/keyhold/leaks", 0, 0},
        {"PATCH", "/api/v2/keyhold/leak_policy", 1, 1},
    };
    struct config cfg;
    config_defaults(&cfg);
    for (int test_mode = 0; test_mode <= 1; test_mode++) {
        cfg.test_mode = test_mode;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            struct api_request req = {0};
            req.method = cases[i].method;
            req.method_len = strlen(cases[i].method);
            req.path = cases[i].path;
            req.path_len = strlen(cases[i].path);
            int want = test_mode ? cases[i].in_test_mode : cases[i].writes;
            if (api_request_writes(&cfg, &req) != want)
                fprintf(stderr, "  %s %s (test mode %d)\n", cases[i].method, cases[i].path, test_mode);
            CHECK_INT(api_request_writes(&cfg, &req), want);
        }
    }
    config_free(&cfg);
}

/* api_env_init gives a thread what the event loops have: its requests are
 * authenticated through its own cache and their uses land in its own
 * last-used buffer; api_env_clear frees both and may run twice. */
static void an_env_from_the_constructor_caches_and_records_use(void)
{
    struct ctx c;
    ctx_open(&c);
    api_env_init(&c.env, &c.cfg, c.f.st, NULL, 16, 64);
    c.env.secret = &c.f.secret;
    struct store_stamp settled; /* the fixture's own commits announced (PostgreSQL) */
    CHECK_INT(fixture_settled_stamp(c.f.st, &settled), KH_OK);
    CHECK(c.env.usage != NULL && c.env.auth_cache != NULL);
    CHECK_INT(send_req(&c, "GET", "/api/v2/validate_keys", NULL, NULL), 200);
    CHECK_INT(send_req(&c, "GET", "/api/v2/validate_keys", NULL, NULL), 200);
    struct auth_cache_stats s;
    auth_cache_get_stats(c.env.auth_cache, &s);
    CHECK(s.hits >= 1 && s.misses >= 1); /* the second request was answered from the cache */
    CHECK(usage_pending(c.env.usage) > 0);
    api_env_clear(&c.env);
    CHECK(c.env.usage == NULL && c.env.auth_cache == NULL);
    api_env_clear(&c.env);
    ctx_close(&c);
}

static void error_messages_quoting_bad_bytes_stay_json(void)
{
    struct ctx c;
    ctx_open(&c);
    /* Invalid UTF-8 in the method and path is quoted by the 405/404 answers. */
    CHECK_INT(send_req(&c, "\xe2GET", "/api/v2/personal_access_tokens", NULL, NULL), 405);
    CHECK_INT(send_req(&c, "GET", "/api/v2/roles/\xff\xfe", NULL, NULL), 404);
    CHECK_INT(send_req(&c, "GET", "/api/v2/users/\xc3", NULL, NULL), 404);
    ctx_close(&c);
}

static void paging_selects_the_right_slice(void)
{
    struct ctx c;
    json_t *body;
    ctx_open(&c);
    for (int i = 0; i < 25; i++) {
        char name[16];
        snprintf(name, sizeof name, "tok%02d", i);
        char *b = pat_body(name);
        CHECK_INT(send_req(&c, "POST", "/api/v2/personal_access_tokens", b, NULL), 201);
        free(b);
    }
    struct {
        const char *q;
        size_t n;
        const char *first;
    } cases[] = {
        {"", 10, "tok00"},
        {"?page%5Bsize%5D=10&page%5Bnumber%5D=2", 5, "tok20"},
        {"?page[size]=7&page[number]=1", 7, "tok07"},
        {"?page[size]=100", 25, "tok00"},
        {"?page[size]=10&page[number]=3", 0, NULL},
        {"?sort=-name&page[size]=1", 1, "tok24"},
        {"?filter=OK1&page[size]=100", 10, "tok10"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char target[128];
        snprintf(target, sizeof target, "/api/v2/personal_access_tokens%s", cases[i].q);
        CHECK_INT(send_req(&c, "GET", target, NULL, &body), 200);
        json_t *data = json_object_get(body, "data");
        CHECK_INT(json_array_size(data), cases[i].n);
        int64_t total = json_integer_value(json_object_get(json_object_get(json_object_get(body, "meta"), "page"),
                                                           "total_filtered_count"));
        CHECK_INT(total, strstr(cases[i].q, "filter") ? 10 : 25);
        if (cases[i].first)
            CHECK_STR(json_string_value(json_object_get(json_object_get(json_array_get(data, 0), "attributes"), "name")),
                      cases[i].first);
        json_decref(body);
    }
    ctx_close(&c);
}

static void bad_query_values_get_400(void)
{
    struct ctx c;
    ctx_open(&c);
    const char *bad[] = {
        "/api/v2/personal_access_tokens?page[size]=0",
        "/api/v2/personal_access_tokens?page[size]=101",
        "/api/v2/personal_access_tokens?page[size]=ten",
        "/api/v2/personal_access_tokens?page[number]=-1",
        "/api/v2/personal_access_tokens?sort=size",
        "/api/v2/personal_access_tokens?sort=--name",
        "/api/v2/personal_access_tokens?filter=%zz",
        "/api/v2/api_keys?sort=expires_at",
        "/api/v2/api_keys?filter[created_at][start]=yesterday",
        "/api/v2/api_keys?filter[modified_at][end]=2020-13-01",
        "/api/v2/api_keys?filter[remote_config_read_enabled]=maybe",
        "/api/v2/api_keys?include=owner",
        "/api/v2/api_keys?page[size]=1000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = send_req(&c, "GET", bad[i], NULL, NULL);
        if (st != 400)
            fprintf(stderr, "  %s -> %d\n", bad[i], st);
        CHECK_INT(st, 400);
    }
    ctx_close(&c);
}

static void bad_bodies_get_400_naming_the_field(void)
{
    struct ctx c;
    json_t *body;
    ctx_open(&c);
    struct {
        const char *body;
        const char *needle;
    } cases[] = {
        {"", "body is required"},
        {"{", "Invalid JSON"},
        {"[]", "expected an object"},
        {"{\"data\":{\"type\":\"api_keys\",\"attributes\":{\"name\":\"a\",\"name\":\"b\"}}}", "Invalid JSON"},
        {"{}", "'data'"},
        {"{\"data\":{\"type\":\"users\",\"attributes\":{\"name\":\"x\"}}}", "'data.type' must be 'api_keys'"},
        {"{\"data\":{\"type\":\"api_keys\"}}", "'data.attributes'"},
        {"{\"data\":{\"type\":\"api_keys\",\"attributes\":{\"name\":5}}}", "'data.attributes.name' must be a string"},
        {"{\"data\":{\"type\":\"api_keys\",\"attributes\":{\"name\":\"  \"}}}", "must not be empty"},
        {"{\"data\":{\"type\":\"api_keys\",\"attributes\":{\"name\":\"k\",\"remote_config_read_enabled\":\"yes\"}}}",
         "must be a boolean"},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "nested deeper"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT(send_req(&c, "POST", "/api/v2/api_keys", cases[i].body, &body), 400);
        const char *msg = json_string_value(json_array_get(json_object_get(body, "errors"), 0));
        if (!msg || !strstr(msg, cases[i].needle)) {
            fprintf(stderr, "  body %s: message '%s' lacks '%s'\n", cases[i].body, msg ? msg : "", cases[i].needle);
            CHECK(0);
        }
        json_decref(body);
    }
    ctx_close(&c);
}

static void store_failure_is_a_clean_503(void)
{
    struct ctx c;
    json_t *body;
    ctx_open(&c);
    faulty_fail_after(1, KH_EBUSY);
    CHECK_INT(send_req(&c, "GET", "/api/v2/api_keys", NULL, NULL), 503);
    faulty_off();
    /* Fail the write itself: no token may appear afterwards. */
    for (int n = 1; n < 12; n++) {
        char *b = pat_body("faulty");
        faulty_fail_after(n, KH_ESTORE);
        int st = send_req(&c, "POST", "/api/v2/personal_access_tokens", b, NULL);
        int calls = faulty_calls();
        faulty_off();
        free(b);
        if (calls < n)
            break;
        CHECK_INT(st, 503);
        CHECK_INT(send_req(&c, "GET", "/api/v2/personal_access_tokens", NULL, &body), 200);
        CHECK_INT(json_array_size(json_object_get(body, "data")), 0);
        json_decref(body);
    }
    ctx_close(&c);
}

static void logged_paths_never_hold_a_key_or_token(void)
{
    static const struct {
        const char *path, *logged;
    } cases[] = {
        {"/api/v1/application_key/0123456789abcdef0123456789abcdef01234567", "/api/v1/application_key/****4567"},
        {"/api/v1/api_key/0123456789abcdef0123456789abcdef/", "/api/v1/api_key/****cdef/"},
        {"/api/v2/personal_access_tokens/ddpat_0000000000000000000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "/api/v2/personal_access_tokens/****aaaa"},
        {"/api/v2/users/5a9e8c1e-34f0-4b7e-9c1f-0a1b2c3d4e5f/orgs", "/api/v2/users/5a9e8c1e-34f0-4b7e-9c1f-0a1b2c3d4e5f/orgs"},
        {"/api/v2/service_accounts/x/access_tokens", "/api/v2/service_accounts/x/access_tokens"},
        {"//a//", "//a//"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[API_LOG_PATH];
        api_log_path(cases[i].path, strlen(cases[i].path), out);
        CHECK_STR(out, cases[i].logged);
    }
    /* a long path is cut, never overrun, and still masks what it shows */
    char longp[2000], out[API_LOG_PATH];
    size_t n = 0;
    while (n + 41 < sizeof longp) {
        memcpy(longp + n, "/0123456789abcdef0123456789abcdef01234567", 41);
        n += 41;
    }
    api_log_path(longp, n, out);
    CHECK(strlen(out) < API_LOG_PATH);
    CHECK(strstr(out, "0123456789") == NULL);
}

/* A list shares the parsed scopes of one row with the next only when their
 * stored text is the same (issue 14): runs of equal and of different scope
 * lists each come back with their own. */
static void a_list_shows_each_tokens_own_scopes(void)
{
    static const char *scopes[] = {"[\"api_keys_read\"]", "[\"api_keys_read\"]", "[\"apm_read\"]",
                                   "[\"api_keys_read\",\"apm_read\"]", "[\"api_keys_read\"]"};
    size_t n = sizeof scopes / sizeof scopes[0];
    struct ctx c;
    ctx_open(&c);
    char exp[CLOCK_BUF];
    clock_format_rfc3339(clock_now_us() + 2LL * 86400 * 1000000, 0, exp);
    for (size_t i = 0; i < n; i++) {
        char *b = xasprintf("{\"data\":{\"type\":\"personal_access_tokens\",\"attributes\":{\"name\":\"s%zu\","
                            "\"scopes\":%s,\"expires_at\":\"%s\"}}}",
                            i, scopes[i], exp);
        CHECK_INT(send_req(&c, "POST", "/api/v2/personal_access_tokens", b, NULL), 201);
        free(b);
    }
    json_t *body = NULL;
    CHECK_INT(send_req(&c, "GET", "/api/v2/personal_access_tokens?sort=name", NULL, &body), 200);
    json_t *data = json_object_get(body, "data");
    CHECK_INT(json_array_size(data), n);
    for (size_t i = 0; i < json_array_size(data) && i < n; i++) {
        json_t *attrs = json_object_get(json_array_get(data, i), "attributes");
        char name[16];
        snprintf(name, sizeof name, "s%zu", i);
        CHECK_STR(json_string_value(json_object_get(attrs, "name")), name);
        char *got = json_dumps(json_object_get(attrs, "scopes"), JSON_COMPACT);
        CHECK_STR(got, scopes[i]);
        free(got);
    }
    json_decref(body);
    ctx_close(&c);
}

/* ---- the jansson rendering of a token list, as access_tokens.c had it
 * before issue 14 wrote the list straight into the answer: the reference the
 * streaming list must match byte for byte ---- */
static json_t *old_rfc3339(int64_t us, int trim)
{
    char buf[CLOCK_BUF];
    if (!us)
        return json_null();
    clock_format_rfc3339(us, trim, buf);
    return json_string(buf);
}

static json_t *old_relationship(const char *type, const char *id)
{
    if (!id || !*id)
        return json_pack("{s:n}", "data");
    return json_pack("{s:{s:s,s:s}}", "data", "id", id, "type", type);
}

static json_t *old_render_token(const struct store_token *t)
{
    char alias[TOKEN_ALIAS_LEN + 1], portion[TOKEN_ALIAS_LEN + 8];
    token_alias(t->id, alias);
    snprintf(portion, sizeof portion, "%s_%s", token_prefix(t->kind == STORE_TOKEN_SAT ? TOKEN_SAT : TOKEN_PAT),
             alias);
    json_t *scopes = json_loads(t->scopes ? t->scopes : "[]", 0, NULL);
    json_t *attrs = json_pack("{s:o,s:o,s:s,s:s,s:o}", "created_at", old_rfc3339(t->created_at, 0), "expires_at",
                              old_rfc3339(t->expires_at, 1), "name", t->name, "public_portion", portion, "scopes",
                              scopes ? scopes : json_array());
    json_object_set_new(attrs, "last_used_at", old_rfc3339(t->last_used_at, 0));
    if (t->kind == STORE_TOKEN_SAT)
        json_object_set_new(attrs, "alias", json_string(alias));
    if (t->modified_at)
        json_object_set_new(attrs, "modified_at", old_rfc3339(t->modified_at, 0));
    const char *owner_type = t->kind == STORE_TOKEN_SAT ? "service_account" : "users";
    return json_pack("{s:s,s:s,s:o,s:{s:o}}", "id", t->id, "type",
                     t->kind == STORE_TOKEN_SAT ? "service_access_tokens" : "personal_access_tokens", "attributes",
                     attrs, "relationships", "owned_by", old_relationship(owner_type, t->owner_id));
}

static char *old_render_list(struct store *st, const struct store_token_query *q)
{
    struct store_token_list list;
    CHECK_INT(store_token_list(st, q, &list), KH_OK);
    json_t *data = json_array();
    for (size_t i = 0; i < list.n; i++)
        json_array_append_new(data, old_render_token(&list.items[i]));
    json_t *body = json_pack("{s:o,s:{s:{s:I}}}", "data", data, "meta", "page", "total_filtered_count",
                             (json_int_t)list.total);
    store_token_list_free(&list);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

/* Inserts a token with every field chosen; returns the store's code. */
static int insert_token(struct ctx *c, int kind, const char *name, const char *scopes, int64_t created,
                        int64_t modified, int64_t expires, int64_t last_used)
{
    struct store_token t;
    memset(&t, 0, sizeof t);
    uuid_generate(t.id);
    snprintf(t.org_id, sizeof t.org_id, "%s", c->f.admin.org_id);
    snprintf(t.owner_id, sizeof t.owner_id, "%s", c->f.admin.user_id);
    t.kind = kind;
    t.name = (char *)name;
    t.scopes = (char *)scopes;
    t.secret_version = c->f.secret.keys[0].version;
    t.created_at = created;
    t.modified_at = modified;
    t.expires_at = expires;
    t.last_used_at = last_used;
    return store_token_insert(c->f.st, &t);
}

/* The token lists write their answer without jansson (issue 14): the same
 * bytes as the jansson rendering above, for names with every control
 * character, quotes, backslashes, slashes and non-ASCII text, PATs and SATs,
 * with and without expiry, modification and last use, equal and different
 * scope lists, on every sort and a filter; a name that is not UTF-8 leaves
 * its row out as jansson did (SQLite only: PostgreSQL refuses such text). */
static void a_token_list_matches_the_jansson_rendering(void)
{
    struct ctx c;
    ctx_open(&c);
    int64_t now = clock_now_us();
    static const char *scopes[] = {"[\"api_keys_read\"]", "[\"apm_read\",\"api_keys_read\"]", "[]",
                                   "[ \"api_keys_read\" ]"};
    char name[64];
    for (int i = 0; i < 40; i++) {
        if (i < 31)
            snprintf(name, sizeof name, "ctl %02d [%c] \"q\" \\b/s é 中 😀", i, i + 1);
        else
            snprintf(name, sizeof name, "plain %d", i);
        int64_t t0 = now - (int64_t)(40 - i) * 1000003;
        CHECK_INT(insert_token(&c, i % 3 == 0 ? STORE_TOKEN_SAT : STORE_TOKEN_PAT, name, scopes[(i / 3) % 4],
                               t0 - (i % 5 == 0 ? t0 % 1000000 : 0), i % 4 == 0 ? t0 + 1 : 0,
                               i % 2 ? now + (int64_t)i * 86400000000 - (i % 7 == 0 ? 0 : 120) : 0,
                               i % 6 == 0 ? t0 + 17 : 0),
                  KH_OK);
    }
    if (!fixture_pg())
        CHECK_INT(insert_token(&c, STORE_TOKEN_PAT, "bad \xff\xfe utf-8", "[]", now - 1, 0, 0, 0), KH_OK);
    static const struct {
        const char *target;
        enum store_sort sort;
        int desc;
        const char *filter;
        int64_t limit, offset;
    } cases[] = {
        {"/api/v2/personal_access_tokens?page[size]=100&sort=-created_at", STORE_SORT_CREATED_AT, 1, NULL, 100, 0},
        {"/api/v2/personal_access_tokens?page[size]=100&sort=name", STORE_SORT_NAME, 0, NULL, 100, 0},
        {"/api/v2/personal_access_tokens?page[size]=7&page[number]=2&sort=expires_at", STORE_SORT_EXPIRES_AT, 0,
         NULL, 7, 14},
        {"/api/v2/personal_access_tokens?page[size]=100&sort=-last_used_at", STORE_SORT_LAST_USED_AT, 1, NULL, 100,
         0},
        {"/api/v2/personal_access_tokens?page[size]=100&filter=ctl", STORE_SORT_NAME, 0, "ctl", 100, 0},
        {"/api/v2/personal_access_tokens?filter=nothing%20like%20it", STORE_SORT_NAME, 0, "nothing like it", 10, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = NULL;
        CHECK_INT(send_req_text(&c, "GET", cases[i].target, NULL, NULL, &got), 200);
        struct store_token_query q;
        memset(&q, 0, sizeof q);
        q.org_id = c.f.admin.org_id;
        q.name_filter = cases[i].filter;
        q.now = clock_now_us();
        q.sort = cases[i].sort;
        q.desc = cases[i].desc;
        q.page.limit = cases[i].limit;
        q.page.offset = cases[i].offset;
        char *want = old_render_list(c.f.st, &q);
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "  %s:\n  got  %.300s\n  want %.300s\n", cases[i].target, got, want);
            CHECK(0);
        }
        free(got);
        free(want);
    }
    ctx_close(&c);
}

/* ---- the jansson rendering of the API key lists (v2 and v1), as
 * api_keys.c and render.c had it before issue 14 wrote those lists straight
 * into the answer: the previous implementation, kept here as the reference
 * the streaming lists must match byte for byte until they have proven
 * themselves ---- */
#define OLD_DAY_US (24LL * 3600 * 1000000)

static json_t *old_iso_time(int64_t us)
{
    char buf[CLOCK_BUF];
    if (!us)
        return json_null();
    clock_format_iso(us, buf);
    return json_string(buf);
}

static json_t *old_render_user(struct store *st, const struct store_user *u)
{
    json_t *roles = json_array();
    struct store_strlist ids;
    if (store_user_roles(st, u->id, &ids) == KH_OK) {
        for (size_t i = 0; i < ids.n; i++)
            json_array_append_new(roles, json_pack("{s:s,s:s}", "id", ids.items[i], "type", "roles"));
        store_strlist_free(&ids);
    }
    char md5[33], icon[96];
    secret_md5_hex(u->email, strlen(u->email), md5);
    snprintf(icon, sizeof icon, "https://secure.gravatar.com/avatar/%s?s=48&d=retro", md5);
    const char *status = u->disabled ? "Disabled" : u->verified ? "Active" : "Pending";
    json_t *attrs = json_pack("{s:[],s:o,s:b,s:s,s:s,s:s,s:n,s:b,s:o,s:o,s:b,s:s,s:o,s:s,s:b}",
                              "allowed_login_methods", "created_at", old_iso_time(u->created_at), "disabled",
                              u->disabled, "email", u->email, "handle", u->service_account ? u->id : u->email, "icon",
                              icon, "last_login_time", "mfa_enabled", 0, "modified_at", old_iso_time(u->modified_at),
                              "name", u->name ? json_string(u->name) : json_null(), "service_account",
                              u->service_account, "status", status, "title",
                              u->title ? json_string(u->title) : json_null(), "uuid", u->id, "verified", u->verified);
    return json_pack("{s:s,s:s,s:o,s:{s:{s:o},s:o}}", "id", u->id, "type", "users", "attributes", attrs,
                     "relationships", "roles", "data", roles, "org", old_relationship("orgs", u->org_id));
}

static void old_include_user(struct store *st, const char *org_id, json_t *included, const char *user_id)
{
    struct store_user u;
    size_t i;
    json_t *v;
    if (!*user_id)
        return;
    json_array_foreach(included, i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "type")), "users") == 0 &&
            strcmp(json_string_value(json_object_get(v, "id")), user_id) == 0)
            return;
    }
    if (store_user_get(st, org_id, user_id, &u) == KH_OK) {
        json_array_append_new(included, old_render_user(st, &u));
        store_user_clear(&u);
    }
}

static json_t *old_render_api_key(const struct store_api_key *k, int64_t now)
{
    json_t *attrs = json_pack("{s:s,s:o,s:o,s:s,s:o,s:s,s:b}", "category", k->category ? k->category : "default",
                              "created_at", old_iso_time(k->created_at), "date_last_used",
                              old_iso_time(k->last_used_at), "last4", k->last4, "modified_at",
                              old_iso_time(k->modified_at), "name", k->name, "remote_config_read_enabled",
                              k->remote_config_read_enabled);
    int64_t used = k->last_used_at;
    json_object_set_new(attrs, "used_in_last_24_hours", json_boolean(used && used > now - OLD_DAY_US));
    json_object_set_new(attrs, "last_used_date",
                        json_pack("{s:o,s:s}", "timestamp", old_iso_time(used > now - 90 * OLD_DAY_US ? used : 0),
                                  "description", "Timestamp of when this key was last used in the past ninety "
                                                 "(90) days, null if no recent usage"));
    return json_pack("{s:s,s:s,s:o,s:{s:o,s:o,s:{s:n}}}", "id", k->id, "type", "api_keys", "attributes", attrs,
                     "relationships", "created_by", old_relationship("users", k->created_by), "modified_by",
                     old_relationship("users", k->modified_by), "leak_information", "data");
}

static char *old_api_key_list(struct ctx *c, const struct store_api_key_query *q, int inc_created, int inc_modified)
{
    struct store_api_key_list list;
    CHECK_INT(store_api_key_list(c->f.st, q, &list), KH_OK);
    json_t *data = json_array(), *included = json_array();
    for (size_t i = 0; i < list.n; i++) {
        json_array_append_new(data, old_render_api_key(&list.items[i], clock_now_us()));
        if (inc_created)
            old_include_user(c->f.st, q->org_id, included, list.items[i].created_by);
        if (inc_modified)
            old_include_user(c->f.st, q->org_id, included, list.items[i].modified_by);
    }
    json_t *body = json_pack("{s:o,s:{s:I,s:{s:I}}}", "data", data, "meta", "max_allowed",
                             (json_int_t)c->cfg.max_api_keys, "page", "total_filtered_count", (json_int_t)list.total);
    if (inc_created || inc_modified)
        json_object_set_new(body, "included", included);
    else
        json_decref(included);
    store_api_key_list_free(&list);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

static json_t *old_render_api_key_v1(struct store *st, const struct store_api_key *k, const char *value)
{
    char created[CLOCK_BUF];
    struct store_user u;
    clock_format_v1(k->created_at, created);
    json_t *o = json_pack("{s:s,s:s,s:s}", "created", created, "key", value, "name", k->name);
    if (store_user_get(st, k->org_id, k->created_by, &u) == KH_OK) {
        json_object_set_new(o, "created_by", json_string(u.email));
        store_user_clear(&u);
    }
    return o;
}

static char *old_api_key_v1_list(struct ctx *c)
{
    struct store_api_key_query q = {.org_id = c->f.admin.org_id, .remote_config = -1, .sort = STORE_SORT_CREATED_AT,
                                    .page = {.limit = 100000}};
    struct store_api_key_list list;
    CHECK_INT(store_api_key_list(c->f.st, &q, &list), KH_OK);
    json_t *keys = json_array();
    for (size_t i = 0; i < list.n; i++) {
        char value[API_KEY_VALUE_LEN + 1];
        CHECK_INT(cred_unseal(&c->f.secret, &list.items[i].key, value, API_KEY_VALUE_LEN), KH_OK);
        json_array_append_new(keys, old_render_api_key_v1(c->f.st, &list.items[i], value));
    }
    store_api_key_list_free(&list);
    json_t *body = json_pack("{s:o}", "api_keys", keys);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}
/* ---- end of the previous implementation ---- */

/* Adds a user to the admin's org; its id goes to id. A user with a title is
 * a disabled service account that never joined, the others active people. */
static void insert_user(struct ctx *c, const char *email, const char *name, const char *title, char id[UUID_STR])
{
    struct store_user u = {.email = (char *)email, .name = (char *)name, .title = (char *)title,
                           .service_account = title != NULL, .disabled = title != NULL, .verified = title == NULL};
    uuid_generate(u.id);
    snprintf(u.org_id, sizeof u.org_id, "%s", c->f.admin.org_id);
    u.created_at = u.modified_at = clock_now_us() - 5000000;
    CHECK_INT(store_user_insert(c->f.st, &u), KH_OK);
    memcpy(id, u.id, UUID_STR);
}

/* Adds an API key with every field chosen (value: 32 hex digits, unique). */
static void insert_api_key(struct ctx *c, int i, const char *name, const char *category, const char *created_by,
                           const char *modified_by, int64_t created, int64_t last_used)
{
    struct store_api_key k;
    char value[API_KEY_VALUE_LEN + 1];
    memset(&k, 0, sizeof k);
    uuid_generate(k.id);
    snprintf(k.org_id, sizeof k.org_id, "%s", c->f.admin.org_id);
    snprintf(value, sizeof value, "%032x", 0xa11c0de0u + (unsigned)i);
    k.name = (char *)name;
    k.category = (char *)category;
    k.remote_config_read_enabled = i % 3 != 0;
    snprintf(k.created_by, sizeof k.created_by, "%s", created_by);
    snprintf(k.modified_by, sizeof k.modified_by, "%s", modified_by);
    k.created_at = created;
    k.modified_at = created + (modified_by[0] ? 1000 : 0);
    k.last_used_at = last_used;
    CHECK_INT(cred_api_key_store(c->f.st, &c->f.secret, &k, value), KH_OK);
}

/* The API key lists (v2 with and without included users, v1 with every
 * value) write their answer without jansson (issue 14): the same bytes as
 * the jansson rendering above on every sort of the v2 list, paging, filters
 * and an empty page; names and categories with control characters, quotes,
 * backslashes and non-ASCII; creators and modifiers that are the same user,
 * different users, nobody, a user that does not exist and (SQLite only,
 * PostgreSQL refuses such text) a user whose email is not UTF-8, which the
 * tree could not render; and a key whose name is not UTF-8, which the tree
 * left out. */
static void the_api_key_lists_match_the_jansson_rendering(void)
{
    struct ctx c;
    ctx_open(&c);
    int pg = fixture_pg() != NULL;
    char bob[UUID_STR], robot[UUID_STR], bad_email[UUID_STR], missing[UUID_STR];
    insert_user(&c, "bob@example.com", "Bob \"the\" \\builder\\ é 中", NULL, bob);
    insert_user(&c, "robot@example.com", NULL, "T\x01 \"x\" ✓", robot);
    if (!pg)
        insert_user(&c, "bad\xff@example.com", "Bad Email", NULL, bad_email);
    uuid_generate(missing);
    const char *admin = c.f.admin.user_id;
    const char *creators[] = {admin, bob, admin, missing, pg ? robot : bad_email, robot};
    const char *modifiers[] = {"", admin, bob, bob, pg ? admin : bad_email, missing, robot};
    int64_t now = clock_now_us(), hour = 3600LL * 1000000;
    int64_t used[] = {0, now - hour, now - 30 * 24 * hour, now - 200 * 24 * hour};
    char name[64];
    for (int i = 0; i < 36; i++) {
        if (i < 31)
            snprintf(name, sizeof name, "ctl %02d [%c] \"q\" \\b/s é 中 😀", i, i + 1);
        else
            snprintf(name, sizeof name, "plain %d", i);
        insert_api_key(&c, i, name, i % 4 == 0 ? "ci" : i % 4 == 1 ? "odd \"cat\"\t\\ é" : "default",
                       creators[i % 6], modifiers[i % 7], now - (int64_t)(40 - i) * 1000003 - (i % 5 == 0 ? 7 : 0),
                       used[i % 4]);
    }
    if (!pg)
        insert_api_key(&c, 99, "bad \xff\xfe utf-8", "default", bob, admin, now - 5, 0);
    static const struct {
        const char *target;
        enum store_sort sort;
        int desc, inc_created, inc_modified, remote_config;
        const char *filter, *category;
        int64_t limit, offset;
    } cases[] = {
        {"?page[size]=100&include=created_by,modified_by", STORE_SORT_NAME, 0, 1, 1, -1, NULL, NULL, 100, 0},
        {"?page[size]=100&sort=-name&include=modified_by,created_by", STORE_SORT_NAME, 1, 1, 1, -1, NULL, NULL, 100, 0},
        {"?page[size]=100&sort=created_at&include=created_by", STORE_SORT_CREATED_AT, 0, 1, 0, -1, NULL, NULL, 100, 0},
        {"?page[size]=100&sort=-created_at&include=modified_by", STORE_SORT_CREATED_AT, 1, 0, 1, -1, NULL, NULL, 100,
         0},
        {"?page[size]=100&sort=modified_at", STORE_SORT_MODIFIED_AT, 0, 0, 0, -1, NULL, NULL, 100, 0},
        {"?page[size]=100&sort=-modified_at&include=created_by,modified_by", STORE_SORT_MODIFIED_AT, 1, 1, 1, -1, NULL,
         NULL, 100, 0},
        {"?page[size]=100&sort=last4&include=created_by,modified_by", STORE_SORT_LAST4, 0, 1, 1, -1, NULL, NULL, 100,
         0},
        {"?page[size]=100&sort=-last4", STORE_SORT_LAST4, 1, 0, 0, -1, NULL, NULL, 100, 0},
        {"?page[size]=7&page[number]=2&sort=created_at&include=created_by,modified_by", STORE_SORT_CREATED_AT, 0, 1,
         1, -1, NULL, NULL, 7, 14},
        {"?include=created_by,modified_by", STORE_SORT_NAME, 0, 1, 1, -1, NULL, NULL, 10, 0},
        {"?page[size]=100&filter=CTL%201&include=created_by", STORE_SORT_NAME, 0, 1, 0, -1, "CTL 1", NULL, 100, 0},
        {"?page[size]=100&filter[category]=ci&filter[remote_config_read_enabled]=true&include=modified_by",
         STORE_SORT_NAME, 0, 0, 1, 1, NULL, "ci", 100, 0},
        {"?page[size]=100&filter=nothing%20like%20it&include=created_by,modified_by", STORE_SORT_NAME, 0, 1, 1, -1,
         "nothing like it", NULL, 100, 0},
        {"?page[size]=10&page[number]=50&include=created_by", STORE_SORT_NAME, 0, 1, 0, -1, NULL, NULL, 10, 500},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char target[256], *got = NULL;
        snprintf(target, sizeof target, "/api/v2/api_keys%s", cases[i].target);
        CHECK_INT(send_req_text(&c, "GET", target, NULL, NULL, &got), 200);
        struct store_api_key_query q = {.org_id = c.f.admin.org_id, .name_filter = cases[i].filter,
                                        .remote_config = cases[i].remote_config, .category = cases[i].category,
                                        .sort = cases[i].sort, .desc = cases[i].desc,
                                        .page = {.limit = cases[i].limit, .offset = cases[i].offset}};
        char *want = old_api_key_list(&c, &q, cases[i].inc_created, cases[i].inc_modified);
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "  %s:\n  got  %.400s\n  want %.400s\n", target, got, want);
            CHECK(0);
        }
        free(got);
        free(want);
    }
    char *got = NULL, *want = NULL;
    CHECK_INT(send_req_text(&c, "GET", "/api/v1/api_key", NULL, NULL, &got), 200);
    want = old_api_key_v1_list(&c);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "  /api/v1/api_key:\n  got  %.400s\n  want %.400s\n", got, want);
        CHECK(0);
    }
    free(got);
    free(want);
    ctx_close(&c);
}

int main(void)
{
    RUN(routing_answers_404_and_405);
    RUN(a_request_writes_exactly_when_its_route_may_change_state);
    RUN(an_env_from_the_constructor_caches_and_records_use);
    RUN(error_messages_quoting_bad_bytes_stay_json);
    RUN(paging_selects_the_right_slice);
    RUN(a_list_shows_each_tokens_own_scopes);
    RUN(a_token_list_matches_the_jansson_rendering);
    RUN(the_api_key_lists_match_the_jansson_rendering);
    RUN(bad_query_values_get_400);
    RUN(bad_bodies_get_400_naming_the_field);
    RUN(store_failure_is_a_clean_503);
    RUN(logged_paths_never_hold_a_key_or_token);
    return TEST_SUMMARY();
}
