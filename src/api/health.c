/* health.c - probes for supervisors and load balancers, unauthenticated:
 *   GET /healthz  the process answers: 200 {"status":"ok"}
 *   GET /readyz   it can serve: the store answers with the schema this build
 *                 migrates to, and a server secret is loaded; otherwise 503
 *                 {"errors":["<reason>"]}.
 * The reasons are fixed phrases: no address, version, path or error text
 * (those go to the log), so a probe tells an attacker nothing. */
#include "api/internal.h"

#include "util/log.h"
#include "util/secret.h"

void health_live(struct api_call *call)
{
    reply_json(call, 200, json_pack("{s:s}", "status", "ok"));
}

void health_ready(struct api_call *call)
{
    const char *why = NULL;
    if (!call->env->secret || !secret_current(call->env->secret))
        why = "server secret not loaded";
    else if (store_ready(call->env->store, &why) != KH_OK)
        log_warn("readyz: not ready: %s", why);
    if (why)
        reply_error(call, 503, "%s", why);
    else
        reply_json(call, 200, json_pack("{s:s}", "status", "ok"));
}
