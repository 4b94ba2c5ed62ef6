/* env.c - making and freeing struct api_env, the per-thread context every
 * request is answered in (api.h). One constructor, so that every thread that
 * answers requests (event loops, the writer, the fuzz harness) gets the same
 * parts: a last-used buffer and an authentication cache of its own. */
#include "api/api.h"

#include "auth/authcache.h"
#include "auth/usage.h"

#include <string.h>

void api_env_init(struct api_env *env, const struct config *cfg, struct store *st, struct ratelimiter *limiter,
                  size_t usage_slots, size_t auth_cache_entries)
{
    memset(env, 0, sizeof *env);
    env->cfg = cfg;
    env->store = st;
    env->limiter = limiter;
    env->usage = usage_new(usage_slots);
    env->auth_cache = auth_cache_new(auth_cache_entries);
}

void api_env_clear(struct api_env *env)
{
    usage_free(env->usage);
    env->usage = NULL;
    auth_cache_free(env->auth_cache);
    env->auth_cache = NULL;
}
