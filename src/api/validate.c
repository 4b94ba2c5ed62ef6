/* validate.c - the validation endpoints (docs/datadog.md, "Validation
 * endpoints"):
 *   GET /api/v1/validate       API key only: {"valid":true} or 403
 *   GET /api/v2/validate       API key only: org id, key id and scopes; its
 *                              403 is a JSON:API error object
 *   GET /api/v2/validate_keys  API + application key (or a PAT/SAT in
 *                              DD-APPLICATION-KEY): {"status":"ok"}, 401 when
 *                              no credentials, 403 when they are not valid */
#include "api/internal.h"

#include <string.h>

#define AUTH_LIMITED 199 /* answered 429 already */

/* Checks the API key of the request (header or deprecated query parameter):
 * on KH_OK k->api_key_id and k->org_id name it; *present tells whether one
 * was sent. */
static int find_request_api_key(struct api_call *call, struct principal *k, int *present)
{
    size_t len = 0;
    const char *key = api_header_get(call->req, "dd-api-key", &len);
    if (!key && (key = query_get(&call->query, "api_key")))
        len = strlen(key);
    *present = key && len;
    if (!*present)
        return AUTH_MISSING;
    /* Guessing API keys here is limited like everywhere else. */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
    call->fingerprint = h;
    if (api_auth_guard_or_reply(call))
        return AUTH_LIMITED;
    struct auth_env env;
    api_auth_env(call, &env);
    int rc = auth_check_api_key(&env, key, len, k);
    api_auth_note(call, rc, k);
    return rc;
}

void validate_v1(struct api_call *call)
{
    struct principal k;
    int present;
    int rc = find_request_api_key(call, &k, &present);
    if (rc == AUTH_LIMITED)
        return;
    if (!present)
        reply_error(call, 403, "API key required");
    else if (rc == AUTH_INVALID)
        reply_error(call, 403, "Forbidden");
    else if (rc)
        reply_store_error(call, rc);
    else
        reply_json(call, 200, json_pack("{s:b}", "valid", 1));
}

void validate_v2(struct api_call *call)
{
    struct principal k;
    int present;
    int rc = find_request_api_key(call, &k, &present);
    if (rc == AUTH_LIMITED) {
        /* answered */
    } else if (rc == KH_OK) {
        /* keyhold API keys carry no scopes of their own. */
        reply_json(call, 200,
                   json_pack("{s:{s:s,s:s,s:{s:s,s:[],s:b}}}", "data", "id", k.org_id, "type", "validate_v2",
                             "attributes", "api_key_id", k.api_key_id, "api_key_scopes", "valid", 1));
    } else if (rc == AUTH_INVALID || rc == AUTH_MISSING) {
        const char *detail = present ? "The API key is not valid" : "API key required";
        json_t *body = json_pack("{s:[{s:s,s:s,s:s}]}", "errors", "status", "403", "title", "Forbidden", "detail",
                                 detail);
        reply_json(call, 403, body);
    } else {
        reply_store_error(call, rc);
    }
}

/* Authenticated by the router (ROUTE_AUTH); answers 401 itself for a request
 * without credentials, which the router lets through for this route. */
void validate_keys(struct api_call *call)
{
    reply_json(call, 200, json_pack("{s:s}", "status", "ok"));
}
