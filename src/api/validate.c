/* validate.c - GET /api/v1/validate: is this API key valid? Needs only the
 * API key (no application key, no permission) and answers exactly
 * {"valid":true}, or 403 as Datadog does (SEMANTICS 2.2). */
#include "api/internal.h"

#include <string.h>

void validate_v1(struct api_call *call)
{
    size_t len = 0;
    const char *key = api_header_get(call->req, "dd-api-key", &len);
    if (!key && (key = query_get(&call->query, "api_key")))
        len = strlen(key);
    if (!key || !len) {
        reply_error(call, 403, "API key required");
        return;
    }
    struct auth_env env = {call->env->store, call->env->secret, call->now};
    struct store_api_key k;
    int rc = auth_find_api_key(&env, key, len, &k);
    store_api_key_clear(&k);
    if (rc == AUTH_INVALID)
        reply_error(call, 403, "Forbidden");
    else if (rc)
        reply_store_error(call, rc);
    else
        reply_json(call, 200, json_pack("{s:b}", "valid", 1));
}
