/* fuzz_request.c - the whole request path: raw bytes are framed into a
 * request (first line "METHOD /path?query", then "name: value" headers up to
 * a blank line, then the body) and answered by api_handle() against an
 * in-memory store holding one provisioned org.
 *
 * When the input's first byte is odd, the admin's valid API and application
 * keys are added, so the fuzzer reaches the handlers behind authentication.
 * Invariants checked on every answer: a status from 200 to 499 (or 503), and
 * a body that is JSON when there is one. */
#include "api/api.h"
#include "auth/provision.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADERS 40

static struct config cfg;
static struct server_secret secret;
static struct store *st;
static struct provisioned admin;

static void setup(void)
{
    uint8_t master[SECRET_KEY_LEN] = {1};
    char *err = NULL;
    config_defaults(&cfg);
    secret_from_master(master, &secret);
    if (store_open(":memory:", &st, &err) || provision_org(st, &secret, "fuzz", "fuzz@example.com", &admin))
        abort();
}

/* Finds the next line of buf[*pos..n); returns its length (without CR LF). */
static size_t next_line(const char *buf, size_t n, size_t *pos, const char **line)
{
    size_t start = *pos, end = start;
    while (end < n && buf[end] != '\n')
        end++;
    *line = buf + start;
    *pos = end < n ? end + 1 : n;
    size_t len = end - start;
    if (len && buf[start + len - 1] == '\r')
        len--;
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size == 0)
        return 0;
    const char *buf = (const char *)data;
    struct api_header headers[MAX_HEADERS + 2];
    struct api_request req;
    struct api_response res;
    size_t pos = 1, nh = 0;
    const char *line;
    memset(&req, 0, sizeof req);

    size_t len = next_line(buf, size, &pos, &line);
    const char *sp = memchr(line, ' ', len);
    req.method = line;
    req.method_len = sp ? (size_t)(sp - line) : len;
    req.path = sp ? sp + 1 : "/";
    req.path_len = sp ? len - req.method_len - 1 : 1;
    const char *q = memchr(req.path, '?', req.path_len);
    if (q) {
        req.query = q + 1;
        req.query_len = req.path_len - (size_t)(q - req.path) - 1;
        req.path_len = (size_t)(q - req.path);
    }
    while (pos < size && (len = next_line(buf, size, &pos, &line)) > 0 && nh < MAX_HEADERS) {
        const char *colon = memchr(line, ':', len);
        if (!colon)
            continue;
        headers[nh].name = line;
        headers[nh].name_len = (size_t)(colon - line);
        headers[nh].value = colon + 1 + (colon + 1 < line + len && colon[1] == ' ');
        headers[nh].value_len = (size_t)(line + len - headers[nh].value);
        nh++;
    }
    if (data[0] & 1) {
        headers[nh++] = (struct api_header){"dd-api-key", 10, admin.api_key, strlen(admin.api_key)};
        headers[nh++] = (struct api_header){"dd-application-key", 18, admin.app_key, strlen(admin.app_key)};
    }
    req.headers = headers;
    req.n_headers = nh;
    req.body = buf + pos;
    req.body_len = size - pos;

    struct api_env env = {.cfg = &cfg, .secret = &secret, .store = st};
    api_handle(&env, &req, &res);
    if (res.status < 200 || (res.status >= 500 && res.status != 503))
        abort();
    if (res.body_len) {
        json_t *j = json_loadb(res.body, res.body_len, 0, NULL);
        if (!j)
            abort();
        json_decref(j);
    }
    api_response_free(&res);
    return 0;
}
