/* health.c - probes for supervisors and load balancers, unauthenticated:
 *   GET /healthz  the process answers: 200 {"status":"ok"}
 *   GET /readyz   it can serve: the store answers with the schema this build
 *                 migrates to, and a server secret is loaded; otherwise 503
 *                 {"errors":["<reason>"]}.
 * The reasons are fixed phrases: no address, version, path or error text
 * (those go to the log), so a probe tells an attacker nothing.
 *
 * Anyone may call /readyz as often as they like, so the store is asked at
 * most once per READY_CHECK_US by whichever loop comes first; the others
 * answer what it found meanwhile and never wait for it (during a database
 * outage, asking costs a connection attempt). Only changes are logged. */
#include "api/internal.h"

#include "util/clock.h"
#include "util/log.h"
#include "util/secret.h"

#include <pthread.h>
#include <string.h>

#define READY_CHECK_US 1000000

static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t ready_checked_us; /* guarded by ready_lock */
static const char *_Atomic ready_why = "not checked yet";

void health_live(struct api_call *call)
{
    reply_json(call, 200, json_pack("{s:s}", "status", "ok"));
}

/* Asks the store, when it is this loop's turn; logs a change of state. */
static void check_store(struct api_call *call)
{
    int64_t now = clock_mono_us();
    if (pthread_mutex_trylock(&ready_lock) != 0)
        return; /* another loop is asking right now */
    if (!ready_checked_us || now - ready_checked_us >= READY_CHECK_US) {
        const char *why = NULL, *was = ready_why;
        if (store_ready(call->env->store, &why) == KH_OK)
            why = NULL;
        ready_checked_us = now;
        ready_why = why;
        if (why && (!was || strcmp(was, why) != 0))
            log_warn("readyz: not ready: %s", why);
        else if (!why && was)
            log_info("readyz: ready");
    }
    pthread_mutex_unlock(&ready_lock);
}

void health_ready(struct api_call *call)
{
    const char *why = NULL;
    if (!call->env->secret || !secret_current(call->env->secret)) {
        why = "server secret not loaded";
    } else {
        check_store(call);
        why = ready_why;
    }
    if (why)
        reply_error(call, 503, "%s", why);
    else
        reply_json(call, 200, json_pack("{s:s}", "status", "ok"));
}
