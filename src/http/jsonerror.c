/* jsonerror.c - libh2o answers some requests itself (unparsable request
 * lines, bodies past max_request_entity_size, bad framing) with a text/plain
 * body. The API promises {"errors":[...]} on every error, so this output
 * filter turns those bodies into that JSON, keeping libh2o's message.
 * libh2o sends such an answer in one piece; anything else passes through
 * untouched. (Bytes libh2o cannot parse as a request at all are answered
 * before any filter runs: docs/internals/http.md, "Known limits".) */
#include "http/internal.h"

#include <stdlib.h>
#include <string.h>

static void json_error_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                            h2o_send_state_t state)
{
    if (h2o_send_state_is_in_progress(state)) {
        h2o_ostream_send_next(self, req, bufs, bufcnt, state);
        return;
    }
    size_t len = 0;
    for (size_t i = 0; i < bufcnt; i++)
        len += bufs[i].len;
    char *text = h2o_mem_alloc_pool(&req->pool, len + 1);
    len = 0;
    for (size_t i = 0; i < bufcnt; i++) {
        memcpy(text + len, bufs[i].base, bufs[i].len);
        len += bufs[i].len;
    }
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    text[len] = '\0';
    char *body = api_error_body(len ? text : req->res.reason);
    h2o_iovec_t json = h2o_strdup(&req->pool, body, SIZE_MAX);
    free(body);
    req->res.content_length = json.len;
    h2o_ostream_send_next(self, req, &json, 1, state);
}

static void json_error_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    ssize_t ct = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (req->res.status >= 400 && ct != -1 && req->res.headers.entries[ct].value.len >= 10 &&
        memcmp(req->res.headers.entries[ct].value.base, "text/plain", 10) == 0) {
        req->res.headers.entries[ct].value = h2o_iovec_init(H2O_STRLIT("application/json"));
        h2o_ostream_t *o = h2o_add_ostream(req, sizeof *o, slot);
        o->do_send = json_error_send;
        slot = &o->next;
    }
    h2o_setup_next_ostream(req, slot);
}

void http_json_errors_register(h2o_pathconf_t *path)
{
    h2o_create_filter(path, sizeof(h2o_filter_t))->on_setup_ostream = json_error_setup;
}
