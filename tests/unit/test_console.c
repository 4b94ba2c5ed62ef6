/* test_console.c - the web console's files through api_handle() (console.c):
 * every embedded file served with its Content-Type, its bytes and an ETag,
 * index.html at /console/, the security headers on every answer (404 and
 * 308 included), revalidation by If-None-Match (304, no body), and no
 * write, no authentication and no store needed. */
#include "test.h"

#include "api/api.h"
#include "api/console_files.h"
#include "config.h"

#include <string.h>


static void get(const struct config *cfg, const char *method, const char *path, const char *if_none_match,
                struct api_response *res)
{
    struct api_env env;
    struct api_header h = {"if-none-match", 13, if_none_match, if_none_match ? strlen(if_none_match) : 0};
    struct api_request req = {0};
    memset(&env, 0, sizeof env); /* no store, no secret: the console needs neither */
    env.cfg = cfg;
    req.method = method;
    req.method_len = strlen(method);
    req.path = path;
    req.path_len = strlen(path);
    req.headers = &h;
    req.n_headers = if_none_match ? 1 : 0;
    api_handle(&env, &req, res);
}

static const char *header(const struct api_response *res, const char *name)
{
    for (size_t i = 0; i < res->n_headers; i++)
        if (strcmp(res->headers[i].name, name) == 0)
            return res->headers[i].text ? res->headers[i].text : res->headers[i].value;
    return NULL;
}

static void check_security_headers(const struct api_response *res)
{
    const char *csp = header(res, "content-security-policy");
    CHECK(csp && strstr(csp, "default-src 'none'") && strstr(csp, "script-src 'self'") &&
          strstr(csp, "frame-ancestors 'none'") && !strstr(csp, "unsafe"));
    CHECK_STR(header(res, "x-frame-options"), "DENY");
    CHECK_STR(header(res, "referrer-policy"), "no-referrer");
    CHECK_STR(header(res, "x-content-type-options"), "nosniff");
    CHECK_STR(header(res, "cache-control"), "no-cache");
}

static void every_file_is_served_with_its_type_bytes_and_etag(void)
{
    struct config cfg;
    config_defaults(&cfg);
    size_t n = 0;
    for (const struct console_file *f = console_files; f->name; f++, n++) {
        char path[256];
        struct api_response res;
        snprintf(path, sizeof path, "/console/%s", f->name);
        get(&cfg, "GET", path, NULL, &res);
        CHECK_INT(res.status, 200);
        CHECK_STR(res.content_type, f->content_type);
        CHECK_INT(res.body_len, f->size);
        CHECK(res.body && memcmp(res.body, f->data, f->size) == 0);
        CHECK_STR(header(&res, "etag"), f->etag);
        check_security_headers(&res);
        api_response_free(&res);
    }
    CHECK(n >= 5); /* index.html, app.js, api.js, ui.js, console.css at least */
    config_free(&cfg);
}

static void the_index_is_served_at_the_folder(void)
{
    struct config cfg;
    struct api_response res;
    config_defaults(&cfg);
    get(&cfg, "GET", "/console/", NULL, &res);
    CHECK_INT(res.status, 200);
    CHECK_STR(res.content_type, "text/html; charset=utf-8");
    CHECK(res.body && strstr(res.body, "<script type=\"module\" src=\"app.js\"></script>"));
    check_security_headers(&res);
    api_response_free(&res);
    get(&cfg, "GET", "/console", NULL, &res);
    CHECK_INT(res.status, 308);
    CHECK_STR(header(&res, "location"), "/console/");
    check_security_headers(&res);
    api_response_free(&res);
    config_free(&cfg);
}

static void unknown_names_and_methods_are_refused_with_the_headers(void)
{
    struct config cfg;
    struct api_response res;
    config_defaults(&cfg);
    get(&cfg, "GET", "/console/nothing.js", NULL, &res);
    CHECK_INT(res.status, 404);
    check_security_headers(&res);
    api_response_free(&res);
    get(&cfg, "GET", "/console/a/app.js", NULL, &res); /* the console is flat */
    CHECK_INT(res.status, 404);
    api_response_free(&res);
    get(&cfg, "POST", "/console/", NULL, &res);
    CHECK_INT(res.status, 405);
    api_response_free(&res);
    struct api_request req = {.method = "GET", .method_len = 3, .path = "/console/", .path_len = 9};
    CHECK_INT(api_request_writes(&cfg, &req), 0);
    config_free(&cfg);
}

static void if_none_match_revalidates(void)
{
    struct config cfg;
    struct api_response res;
    char list[200], weak[100];
    config_defaults(&cfg);
    const struct console_file *f = console_files;
    snprintf(list, sizeof list, "\"0000\", %s , \"ffff\"", f->etag);
    snprintf(weak, sizeof weak, "W/%s", f->etag);
    const char *same[] = {f->etag, list, weak, "*"};
    for (size_t i = 0; i < 4; i++) {
        char path[256];
        snprintf(path, sizeof path, "/console/%s", f->name);
        get(&cfg, "GET", path, same[i], &res);
        CHECK_INT(res.status, 304);
        CHECK_INT(res.body_len, 0);
        CHECK_STR(header(&res, "etag"), f->etag);
        check_security_headers(&res);
        api_response_free(&res);
    }
    const char *other[] = {"\"0000\"", "", ",,", "W/", f->etag + 1};
    for (size_t i = 0; i < 5; i++) {
        char path[256];
        snprintf(path, sizeof path, "/console/%s", f->name);
        get(&cfg, "GET", path, other[i], &res);
        CHECK_INT(res.status, 200);
        api_response_free(&res);
    }
    config_free(&cfg);
}

int main(void)
{
    RUN(every_file_is_served_with_its_type_bytes_and_etag);
    RUN(the_index_is_served_at_the_folder);
    RUN(unknown_names_and_methods_are_refused_with_the_headers);
    RUN(if_none_match_revalidates);
    return TEST_SUMMARY();
}
