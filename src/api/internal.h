/* internal.h - what the handler files share: the per-call context, the reply
 * helpers (reply.c) and the handler declarations (one family per file). */
#ifndef KH_API_INTERNAL_H
#define KH_API_INTERNAL_H

#include "api/api.h"
#include "api/query.h"
#include "json/jsonx.h"

#include <jansson.h>

#define API_MAX_PARAMS 3

/* route flags */
#define ROUTE_AUTH 0x1         /* needs an authenticated principal */
#define ROUTE_VND 0x2          /* answers application/vnd.api+json (PAT/SAT endpoints) */
#define ROUTE_SECRET_PARAM 0x4 /* the last path parameter is a key value: mask it in logs */

struct api_call;
typedef void (*api_handler)(struct api_call *call);

struct route {
    const char *method;
    const char *pattern; /* "{}" stands for one path segment */
    api_handler handler;
    unsigned flags;
};

struct api_call {
    struct api_env *env;
    const struct api_request *req;
    struct api_response *res;
    const struct route *route;
    char params[API_MAX_PARAMS][KH_MAX_ID_LEN + 1];
    size_t n_params;
    struct query query;
    struct principal who; /* valid when route->flags & ROUTE_AUTH */
    int64_t now;
};

/* ---- replies (reply.c); each sets call->res completely ---- */
/* Steals body. */
void reply_json(struct api_call *call, int status, json_t *body);
void reply_error(struct api_call *call, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void reply_empty(struct api_call *call, int status);
/* 400 from a struct jx. */
void reply_jx(struct api_call *call, const struct jx *jx);
/* 503/500 for a store failure code. */
void reply_store_error(struct api_call *call, int rc);

/* Returns 1 when the principal holds `perm`; otherwise answers 403 and
 * returns 0. */
int require_perm_or_reply(struct api_call *call, int perm);
/* Same for "any of two" (x-permission OR). */
int require_any_perm_or_reply(struct api_call *call, int perm_a, int perm_b);
int has_perm(const struct api_call *call, int perm);
/* Parses the JSON body or answers 400; NULL when answered. */
json_t *body_or_reply(struct api_call *call, struct jx *jx);
/* page[size] (1..100, default 10) and page[number] (>= 0) or answers 400. */
int page_or_reply(struct api_call *call, int64_t *limit, int64_t *offset);

struct sort_option {
    const char *name;
    enum store_sort sort;
};
/* Reads `sort` (one of options' names, each optionally prefixed with '-');
 * absent = options[0] ascending. Answers 400 on anything else. */
int sort_or_reply(struct api_call *call, const struct sort_option *options, size_t n, enum store_sort *sort,
                  int *desc);
/* Reads an optional filter string (bounded) or answers 400; *out NULL when
 * absent or empty. */
int filter_or_reply(struct api_call *call, const char *key, const char **out);

/* ---- shared renderers (render.c) ---- */
json_t *render_relationship(const char *type, const char *id);
json_t *render_iso_time(int64_t us);     /* key service format, null for 0 */
json_t *render_rfc3339(int64_t us, int trim); /* token service format, null for 0 */
json_t *render_user(struct store *st, const struct store_user *u);
/* Validates a scopes array: 1.. known permission names, none beyond what the
 * caller holds. Answers 400/403 and returns NULL on failure; else returns the
 * compact JSON text (caller frees) and fills *set. */
char *scopes_or_reply(struct api_call *call, struct jx *jx, json_t *scopes, const char *path, int required,
                      struct permset *set);

/* ---- handlers ---- */
void api_keys_list(struct api_call *call);
void api_keys_create(struct api_call *call);
void api_keys_v1_list(struct api_call *call);
void api_keys_v1_create(struct api_call *call);
void access_tokens_list(struct api_call *call);
void access_tokens_create(struct api_call *call);
void access_tokens_get(struct api_call *call);
void access_tokens_revoke(struct api_call *call);
void sa_tokens_create(struct api_call *call);
void sa_tokens_get(struct api_call *call);
void service_accounts_create(struct api_call *call);
void validate_v1(struct api_call *call);

#endif
