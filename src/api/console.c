/* console.c - the web console (docs/console.md): the files under console/,
 * embedded in the binary at build time (cmake/embed_files.cmake), served
 * without authentication because they hold no data. The console signs in
 * with the same credentials a client sends and calls the same HTTP API, so
 * it can do nothing `curl` could not.
 *
 *   GET /console         308 to /console/ (relative module paths need the slash)
 *   GET /console/        index.html
 *   GET /console/{name}  one file; 404 for a name the build did not embed
 *
 * Every answer, 404 included, carries the security headers below; files
 * carry an ETag (part of their SHA-256) and are revalidated on each load
 * (Cache-Control: no-cache), so a new build is seen at once and an
 * unchanged file costs a 304. */
#include "api/console_files.h"
#include "api/internal.h"

#include "util/xmalloc.h"

#include <string.h>

/* Only the console's own files may load (no inline script or style, no
 * eval, nothing from another origin), it may talk only to this server, and
 * no other page may frame it (clickjacking). base-uri and form-action close
 * the two ways around default-src an injected tag could take. */
static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                          "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
                          "frame-ancestors 'none'";

static const struct {
    const char *name;
    const char *value;
} security_headers[] = {
    {"content-security-policy", csp},
    {"x-frame-options", "DENY"},            /* frame-ancestors for browsers without CSP 2 */
    {"referrer-policy", "no-referrer"},     /* no URL of the console leaves with a request */
    {"x-content-type-options", "nosniff"},  /* a file is only ever what its Content-Type says */
    {"cross-origin-opener-policy", "same-origin"},   /* no handle on the window from an opener */
    {"cross-origin-resource-policy", "same-origin"}, /* no other site may embed the files */
    {"cache-control", "no-cache"},          /* revalidate: the ETag makes that a 304 */
};
#define N_SECURITY (sizeof security_headers / sizeof security_headers[0])

static void add_header(struct api_response *res, const char *name, const char *value)
{
    if (res->n_headers == API_MAX_OUT_HEADERS)
        return; /* not reached: the table above fits */
    struct api_out_header *h = &res->headers[res->n_headers++];
    h->name = name;
    h->text = value;
}

static void add_security_headers(struct api_response *res)
{
    res->n_headers = 0;
    for (size_t i = 0; i < N_SECURITY; i++)
        add_header(res, security_headers[i].name, security_headers[i].value);
}

static const struct console_file *find_file(const char *name)
{
    for (const struct console_file *f = console_files; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* Non-zero when If-None-Match names the file's ETag (or is "*"). A list is
 * compared entry by entry; a weak W/ prefix still names the same bytes. */
static int not_modified(const struct api_call *call, const struct console_file *f)
{
    size_t len, etag_len = strlen(f->etag);
    const char *v = api_header_get(call->req, "if-none-match", &len);
    if (!v)
        return 0;
    while (len) {
        while (len && (*v == ' ' || *v == ',' || *v == '\t'))
            v++, len--;
        size_t n = 0;
        while (n < len && v[n] != ',')
            n++;
        const char *e = v;
        size_t elen = n;
        while (elen && (e[elen - 1] == ' ' || e[elen - 1] == '\t'))
            elen--;
        if (elen >= 2 && e[0] == 'W' && e[1] == '/')
            e += 2, elen -= 2;
        if ((elen == 1 && e[0] == '*') || (elen == etag_len && memcmp(e, f->etag, elen) == 0))
            return 1;
        v += n, len -= n;
    }
    return 0;
}

static void serve(struct api_call *call, const struct console_file *f)
{
    struct api_response *res = call->res;
    add_security_headers(res);
    add_header(res, "etag", f->etag);
    if (not_modified(call, f)) {
        res->status = 304;
        return;
    }
    res->status = 200;
    res->content_type = f->content_type;
    res->body = xmalloc(f->size + 1); /* owned by the response, as every body */
    memcpy(res->body, f->data, f->size);
    res->body_len = f->size;
}

void console_redirect(struct api_call *call)
{
    add_security_headers(call->res);
    add_header(call->res, "location", "/console/");
    reply_empty(call, 308);
}

void console_index(struct api_call *call)
{
    const struct console_file *f = find_file("index.html");
    if (!f) {
        add_security_headers(call->res);
        reply_error(call, 404, "Not found");
        return;
    }
    serve(call, f);
}

void console_file(struct api_call *call)
{
    const struct console_file *f = find_file(call->params[0]);
    if (!f) {
        add_security_headers(call->res);
        reply_error(call, 404, "Not found");
        return;
    }
    serve(call, f);
}
