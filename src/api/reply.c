/* reply.c - every answer is built here: JSON bodies, {"errors":[...]} error
 * bodies, permission checks that answer 403 themselves, and the shared
 * request readers (body, paging) that answer 400 themselves. */
#include "api/internal.h"
#include "auth/events.h"
#include "auth/usage.h"

#include "util/log.h"
#include "util/uuid.h"
#include "util/xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_body(struct api_call *call, int status, const char *ctype, char *body)
{
    struct api_response *res = call->res;
    free(res->body);
    res->status = status;
    res->content_type = ctype;
    res->body = body;
    res->body_len = body ? strlen(body) : 0;
}

void reply_json(struct api_call *call, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text)
        abort(); /* jansson fails only on allocation failure */
    int vnd = call->route && (call->route->flags & ROUTE_VND);
    set_body(call, status, vnd ? "application/vnd.api+json" : "application/json", text);
}

void reply_json_text(struct api_call *call, int status, char *text)
{
    int vnd = call->route && (call->route->flags & ROUTE_VND);
    set_body(call, status, vnd ? "application/vnd.api+json" : "application/json", text);
}

/* Replaces what cannot go into a JSON string as is (bytes of invalid UTF-8,
 * control characters) with '?'. Messages may quote request input. */
static void make_printable(char *msg)
{
    for (unsigned char *p = (unsigned char *)msg; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            *p = '?';
}

void reply_error(struct api_call *call, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    set_body(call, status, "application/json", api_error_body(msg));
}

char *api_error_body(const char *message)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", message);
    json_t *str = json_string(msg);
    if (!str) { /* not valid UTF-8 */
        make_printable(msg);
        str = json_string(msg);
    }
    json_t *body = json_pack("{s:[o]}", "errors", str);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text)
        abort();
    return text;
}

void reply_empty(struct api_call *call, int status)
{
    set_body(call, status, NULL, NULL);
}

void reply_jx(struct api_call *call, const struct jx *jx)
{
    reply_error(call, 400, "%s", jx->msg);
}

void reply_store_error(struct api_call *call, int rc)
{
    if (rc == KH_EBUSY || rc == KH_ESTORE)
        reply_error(call, 503, "The credential store is unavailable; try again");
    else
        reply_error(call, 500, "Internal error");
}

int api_has_perm(const struct api_call *call, int perm)
{
    return permset_has(&call->who.perms, perm);
}

int require_perm_or_reply(struct api_call *call, int perm)
{
    if (api_has_perm(call, perm))
        return 0;
    reply_error(call, 403, "Forbidden: this operation requires the %s permission", perm_name(perm));
    return -1;
}

int require_any_perm_or_reply(struct api_call *call, int perm_a, int perm_b)
{
    if (api_has_perm(call, perm_a) || api_has_perm(call, perm_b))
        return 0;
    reply_error(call, 403, "Forbidden: this operation requires the %s or %s permission",
                perm_name(perm_a), perm_name(perm_b));
    return -1;
}

json_t *body_or_reply(struct api_call *call, struct jx *jx)
{
    json_t *root = jx_parse(jx, call->req->body, call->req->body_len, KH_MAX_JSON_DEPTH);
    if (!root)
        reply_jx(call, jx);
    return root;
}

int page_or_reply(struct api_call *call, int64_t *limit, int64_t *offset)
{
    char msg[256];
    int64_t size = 10, number = 0;
    if (query_int(&call->query, "page[size]", 1, 100, &size, msg, sizeof msg) ||
        query_int(&call->query, "page[number]", 0, 1000000000, &number, msg, sizeof msg)) {
        reply_error(call, 400, "%s", msg);
        return -1;
    }
    *limit = size;
    *offset = size * number;
    return 0;
}

int sort_or_reply(struct api_call *call, const struct sort_option *options, size_t n, enum store_sort *sort,
                  int *desc)
{
    const char *v = query_get(&call->query, "sort");
    *sort = options[0].sort;
    *desc = 0;
    if (!v)
        return 0;
    const char *name = v[0] == '-' ? v + 1 : v;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(options[i].name, name) == 0) {
            *sort = options[i].sort;
            *desc = v[0] == '-';
            return 0;
        }
    }
    char allowed[512] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s, -%s", i ? ", " : "",
                 options[i].name, options[i].name);
    reply_error(call, 400, "Invalid value for sort: '%.64s' (expected one of %s)", v, allowed);
    return -1;
}

int filter_or_reply(struct api_call *call, const char *key, const char **out)
{
    const char *v = query_get(&call->query, key);
    *out = NULL;
    if (v && strlen(v) > KH_MAX_NAME_LEN) {
        reply_error(call, 400, "Invalid value for %s: at most %d characters", key, KH_MAX_NAME_LEN);
        return -1;
    }
    if (v && *v)
        *out = v;
    return 0;
}

json_t *data_or_reply(struct api_call *call, struct jx *jx, json_t **root, const char *type, const char *path_id,
                      int id_status, const char *id_msg)
{
    *root = body_or_reply(call, jx);
    if (!*root)
        return NULL;
    json_t *data = jx_obj(jx, *root, "", "data", 1);
    if (type)
        jx_type(jx, data, "data", type);
    const char *id = id_status ? jx_str(jx, data, "data", "id", 1, 1, KH_MAX_ID_LEN) : NULL;
    if (jx->failed) {
        reply_jx(call, jx);
        return NULL;
    }
    if (id_status && strcmp(id, path_id) != 0) {
        reply_error(call, id_status, "%s", id_msg);
        return NULL;
    }
    return data;
}

int grant_or_reply(struct api_call *call, const struct permset *target, const char *what)
{
    if (authz_may_grant(&call->who, target))
        return 0;
    reply_error(call, 403,
                "Forbidden: the %s would hold the %s permission, which the caller does not; nobody grants more than "
                "they hold",
                what, perm_name(authz_first_excess(&call->who, target)));
    return -1;
}

int not_token_or_reply(struct api_call *call)
{
    if (call->who.kind != PRINCIPAL_PAT && call->who.kind != PRINCIPAL_SAT)
        return 0;
    reply_error(call, 403, "Forbidden: application keys cannot be created or updated with a personal or service "
                           "access token");
    return -1;
}

/* The event of action on (kind, target_id) by the caller, from its address.
 * A field the caller cannot tell is named, never left empty: "unknown" for
 * the org and "anonymous" for the actor of a refused request. */
static void audit_event(const struct api_call *call, const char *action, const char *kind, const char *target_id,
                        struct store_audit *e)
{
    memset(e, 0, sizeof *e);
    e->at = call->now;
    snprintf(e->org_id, sizeof e->org_id, "%s", call->who.org_id[0] ? call->who.org_id : "unknown");
    snprintf(e->actor_id, sizeof e->actor_id, "%s", call->who.user_id[0] ? call->who.user_id : "anonymous");
    snprintf(e->action, sizeof e->action, "%s", action);
    snprintf(e->target_kind, sizeof e->target_kind, "%s", kind);
    snprintf(e->target_id, sizeof e->target_id, "%s", target_id ? target_id : "");
    snprintf(e->source, sizeof e->source, "%s", call->req->remote_addr ? call->req->remote_addr : "");
    log_info("audit %s %s %s by user %s from %s", action, kind, e->target_id, e->actor_id,
             e->source[0] ? e->source : "-");
}

void api_audit(struct api_call *call, const char *action, const char *kind, const char *target_id)
{
    struct store_audit e;
    audit_event(call, action, kind, target_id, &e);
    if (store_audit_insert(call->env->store, &e) != KH_OK) {
        log_error("audit: could not record %s %s %s", action, kind, e.target_id);
        call->audit_failed = 1;
    } else if (events_from_audit(call->env->store, &e) != KH_OK) {
        call->audit_failed = 1; /* the webhook event goes with its change, or neither does */
    }
}

void api_audit_later(struct api_call *call, const char *action, const char *kind, const char *target_id)
{
    struct store_audit e;
    audit_event(call, action, kind, target_id, &e);
    if (call->env->usage)
        usage_record_event(call->env->usage, &e);
    else if (store_audit_insert(call->env->store, &e) != KH_OK)
        log_error("audit: could not record %s %s %s", action, kind, e.target_id);
}
