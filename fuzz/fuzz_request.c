/* fuzz_request.c - the whole request path from raw bytes: the input is
 * written as a client on a fresh connection to the real HTTP stack (libh2o's
 * parser, keyhold's error filter, routing, authentication, handlers) over an
 * in-memory store holding one provisioned org, then EOF; whatever the server
 * writes back is checked.
 *
 * "@A" and "@P" in the input become the admin's API and application keys, so
 * that seeds (and their mutations) reach the handlers behind authentication.
 *
 * Invariants, on every answer: well-formed HTTP/1.1 (status line, header
 * lines, a Content-Length that the body matches exactly), a status from 200
 * to 499 (or 503), and a JSON body. The one exception is libh2o 2.2's fixed
 * answer to bytes it cannot parse as a request at all, which it writes
 * straight to the socket before any hook runs: "400 Bad Request", text/plain,
 * then close (docs/security.md). */
#define _GNU_SOURCE /* memmem */
#include "auth/provision.h"
#include "http/harness.h"
#include "store/store.h"
#include "util/buf.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct config cfg;
static struct server_secret secret;
static struct provisioned admin;

static void fail(const char *why, const char *at)
{
    fprintf(stderr, "fuzz_request: %s at: %.200s\n", why, at);
    abort();
}

static void setup(void)
{
    uint8_t master[SECRET_KEY_LEN] = {1};
    struct store *st;
    char *err = NULL;
    config_defaults(&cfg);
    secret_from_master(master, &secret);
    if (store_open(":memory:", &st, &err) || provision_org(st, &secret, &(struct org_spec){.name = "fuzz", .admin_email = "fuzz@example.com", .first = 1}, &admin))
        abort();
    http_harness_init(&cfg, &secret, st);
}

/* The harness must really answer: a valid request gets 200 on a kept-alive
 * connection, then a second request on it is answered too. Without this an
 * exchange that silently returned nothing would pass every input. */
static void self_check(void)
{
    struct buf req, out;
    buf_init(&req, 1 << 16);
    buf_init(&out, 1 << 16);
    for (int i = 0; i < 2; i++)
        buf_printf(&req, "GET /api/v2/validate_keys HTTP/1.1\r\nHost: k\r\nDD-API-KEY: %s\r\n"
                         "DD-APPLICATION-KEY: %s\r\n\r\n",
                   admin.api_key, admin.app_key);
    if (http_harness_exchange(req.p, req.len, &out) || !out.p || strncmp(out.p, "HTTP/1.1 200 ", 13) != 0 ||
        !strstr(out.p + 13, "HTTP/1.1 200 "))
        fail("self-check: a valid request was not answered 200 twice", out.p ? out.p : "(nothing)");
    buf_free(&req);
    buf_free(&out);
}

/* The input with @A / @P replaced by the admin's keys. */
static void expand(const uint8_t *data, size_t size, struct buf *out)
{
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '@' && i + 1 < size && (data[i + 1] == 'A' || data[i + 1] == 'P')) {
            buf_adds(out, data[i + 1] == 'A' ? admin.api_key : admin.app_key);
            i++;
        } else {
            buf_add(out, &data[i], 1);
        }
    }
}

static const char H2O_FIXED_400[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                    "Connection: close\r\nContent-Length: 11\r\n\r\nBad Request";

/* How many requests of the input are HEAD requests (a request line that
 * starts the input or a line): their answers carry a Content-Length but no
 * body, as HTTP says. */
static int head_requests(const char *in, size_t len)
{
    int n = 0;
    for (size_t i = 0; i + 5 <= len; i++)
        if ((i == 0 || in[i - 1] == '\n') && memcmp(in + i, "HEAD ", 5) == 0)
            n++;
    return n;
}

/* Checks one response at *p; returns the position after it. *heads is how
 * many body-less answers to HEAD requests may still come. */
static const char *check_response(const char *p, const char *end, int *heads)
{
    if ((size_t)(end - p) >= sizeof H2O_FIXED_400 - 1 && memcmp(p, H2O_FIXED_400, sizeof H2O_FIXED_400 - 1) == 0)
        return p + sizeof H2O_FIXED_400 - 1;
    if (end - p < 15 || memcmp(p, "HTTP/1.1 ", 9) != 0 || p[12] != ' ')
        fail("no status line", p);
    int status = atoi(p + 9);
    if (status < 200 || (status >= 500 && status != 503))
        fail("status out of range", p);
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    long length = -1;
    while (eol && eol + 2 < end && memcmp(eol + 2, "\r\n", 2) != 0) {
        const char *line = eol + 2;
        eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (!eol || !memchr(line, ':', (size_t)(eol - line)))
            fail("malformed header line", line);
        if ((size_t)(eol - line) > 15 && strncasecmp(line, "content-length:", 15) == 0)
            length = strtol(line + 15, NULL, 10);
    }
    if (!eol || eol + 4 > end)
        fail("headers not terminated", p);
    const char *body = eol + 4;
    if (length > 0 && *heads > 0 && (body == end || (end - body >= 9 && memcmp(body, "HTTP/1.1 ", 9) == 0))) {
        (*heads)--; /* an answer to HEAD: the length of the body GET would have had */
        return body;
    }
    if (length < 0 || length > end - body)
        fail("missing or wrong Content-Length", p);
    if (length) {
        json_t *j = json_loadb(body, (size_t)length, 0, NULL);
        if (!j)
            fail("body is not JSON", body);
        json_decref(j);
    }
    return body + length;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct buf in, out;
    if (!ready) {
        setup();
        self_check();
        ready = 1;
    }
    buf_init(&in, 1 << 20);
    buf_init(&out, 16 << 20);
    expand(data, size, &in);
    if (http_harness_exchange(in.p, in.len, &out))
        fail("the server did not close the connection", "");
    int heads = head_requests(in.p ? in.p : "", in.len);
    for (const char *p = out.p, *end = out.p ? out.p + out.len : NULL; p < end;)
        p = check_response(p, end, &heads);
    buf_free(&in);
    buf_free(&out);
    return 0;
}
