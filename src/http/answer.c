/* answer.c - a struct api_response written back through libh2o: status
 * and reason, Content-Type and the answer's own headers, and the body with
 * an explicit content length, so that keep-alive survives every answer.
 * Used for answers made on the loop (request.c) and for those that come
 * back from the writer (handoff.c). */
#include "http/internal.h"

#include <stdio.h>
#include <string.h>

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return status < 500 ? "Client Error" : "Internal Server Error";
    }
}

/* Records what the access log will show, and that the connection's answer
 * is now being written. */
void http_send_answer(h2o_req_t *req, struct request_done *done, struct api_response *ares)
{
    done->status = ares->status;
    http_conn_answer_begins(done->watch);
    snprintf(done->method, sizeof done->method, "%.*s", (int)(req->method.len > 10 ? 10 : req->method.len),
             req->method.base);
    memcpy(done->path, ares->log_path, sizeof done->path);
    done->route = ares->route;
    memcpy(done->org_id, ares->org_id, UUID_STR);
    memcpy(done->credential_id, ares->credential_id, UUID_STR);
    done->credential = ares->credential;
    done->reason = ares->reason; /* a static string */
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, done->request_id,
                          strlen(done->request_id));

    req->res.status = ares->status;
    req->res.reason = reason_phrase(ares->status);
    if (ares->content_type)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ares->content_type,
                       strlen(ares->content_type));
    for (size_t i = 0; i < ares->n_headers; i++) {
        const char *v = ares->headers[i].text ? ares->headers[i].text
                                              : h2o_strdup(&req->pool, ares->headers[i].value, SIZE_MAX).base;
        h2o_add_header_by_str(&req->pool, &req->res.headers, ares->headers[i].name, strlen(ares->headers[i].name), 0,
                              NULL, v, strlen(v));
    }
    size_t len = ares->body_len;
    char *body = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(body, ares->body ? ares->body : "", len);
    /* A 304 has no body, and its Content-Length may only say what a 200
     * would have (RFC 9110, 8.6): none is sent. */
    req->res.content_length = ares->status == 304 ? SIZE_MAX : len;
    api_response_free(ares);
    h2o_send_inline(req, body, len);
}
