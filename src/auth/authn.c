/* authn.c - credential lookup and verification (see authn.h).
 *
 * API and application keys are found by their keyed lookup hash
 * (HMAC-SHA-256 with the lookup key), so the value itself is never stored or
 * compared in plain text; the found row's hash is compared again in constant
 * time. Tokens are found by the id encoded in their public portion, and the
 * keyed hash of their secret part is compared in constant time. */
#include "auth/authn.h"

#include "auth/authcache.h"
#include "auth/credentials.h"

#include "auth/usage.h"
#include "util/metrics.h"
#include "util/secret.h"
#include "util/token.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define API_KEY_LEN 32
#define APP_KEY_LEN 40

void auth_record_use(const struct auth_env *env, const struct principal *who, int kind, const char *id)
{
    struct store_touch t;
    if (!env->usage)
        return;
    memset(&t, 0, sizeof t);
    t.kind = kind;
    snprintf(t.id, sizeof t.id, "%s", id);
    t.when = env->now;
    snprintf(t.org_id, sizeof t.org_id, "%s", who->org_id);
    snprintf(t.actor_id, sizeof t.actor_id, "%s", who->user_id);
    snprintf(t.source, sizeof t.source, "%s", env->source ? env->source : "");
    t.close_overlap = (who->closes_overlap >> kind) & 1;
    snprintf(t.target_kind, sizeof t.target_kind, "%s",
             kind == STORE_TOUCH_API_KEY   ? "api_key"
             : kind == STORE_TOUCH_APP_KEY ? "application_key"
             : who->kind == PRINCIPAL_SAT  ? "service_access_token"
                                           : "personal_access_token");
    struct usage_client client = {.user_agent = env->user_agent, .user_agent_len = env->user_agent_len,
                                  .route = env->route};
    usage_record(env->usage, &t, &client);
}

int auth_scopes_to_permset(const char *scopes_json, struct permset *out)
{
    if (!scopes_json) {
        permset_all(out);
        return KH_OK;
    }
    permset_clear(out);
    json_t *arr = json_loads(scopes_json, 0, NULL);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return KH_EINVAL;
    }
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v))
            permset_add(out, perm_find(json_string_value(v)));
    }
    json_decref(arr);
    return KH_OK;
}

int auth_user_permset(struct store *st, const char *user_id, struct permset *out)
{
    struct store_strlist names;
    permset_clear(out);
    int rc = store_user_permissions(st, user_id, &names);
    if (rc)
        return rc;
    for (size_t i = 0; i < names.n; i++) {
        int idx = perm_find(names.items[i]);
        if (idx < PERM_CATALOG_COUNT) /* roles hold catalogue permissions only */
            permset_add(out, idx);
    }
    store_strlist_free(&names);
    permset_add(out, PERM_USER_ACCESS_READ); /* every user reads users and roles */
    return KH_OK;
}

/* A refusal, and why (for operators only). */
static int refused(struct principal *out, enum auth_reason why)
{
    out->reason = why;
    return AUTH_INVALID;
}

/* Fills the user part of a principal: refuses disabled or unknown users. */
static int load_user(const struct auth_env *env, const char *org_id, const char *user_id, struct principal *out)
{
    struct store_user u;
    int rc = store_user_get(env->store, org_id, user_id, &u);
    if (rc == KH_ENOTFOUND)
        return refused(out, AUTH_REASON_DISABLED); /* its owner is gone */
    if (rc)
        return rc;
    int disabled = u.disabled;
    out->service_account = u.service_account;
    store_user_clear(&u);
    if (disabled)
        return refused(out, AUTH_REASON_DISABLED);
    memcpy(out->org_id, org_id, UUID_STR);
    memcpy(out->user_id, user_id, UUID_STR);
    return auth_user_permset(env->store, user_id, &out->perms);
}

/* Narrows a principal's permissions to its credential's scopes. */
static void narrow(struct principal *out, const struct permset *scopes)
{
    permset_intersect(&out->perms, scopes);
    out->scoped = 1;
    out->scopes = *scopes;
}

/* Whether secret hashes, under its version's token key, to hash. */
static int secret_matches(const struct auth_env *env, const char *secret, int version,
                          const uint8_t hash[SECRET_HASH_LEN])
{
    uint8_t mine[SECRET_HASH_LEN];
    const struct secret_key *k = secret_version(env->secret, version);
    secret_hmac(k ? k->token_key : secret_current(env->secret)->token_key, secret, TOKEN_SECRET_LEN, mine);
    int same = k && secret_equal(mine, hash, SECRET_HASH_LEN);
    secret_wipe(mine, sizeof mine);
    return same;
}

static int auth_token(const struct auth_env *env, const char *s, size_t len, struct principal *out)
{
    enum token_kind kind;
    char id[UUID_STR], secret[TOKEN_SECRET_LEN + 1];
    struct store_token t;
    if (token_parse(s, len, &kind, id, secret))
        return refused(out, AUTH_REASON_UNKNOWN);
    out->cred = kind == TOKEN_SAT ? AUTH_CRED_SAT : AUTH_CRED_PAT;
    int rc = store_token_get(env->store, id, &t);
    if (rc) {
        secret_wipe(secret, sizeof secret);
        return rc == KH_ENOTFOUND ? refused(out, AUTH_REASON_UNKNOWN) : rc;
    }
    /* The hash is made under the secret version the token was minted under;
     * a version pruned from the secret file leaves nothing to match. Within
     * a rotation's overlap the previous secret matches too, until then. */
    int overlap = t.prev_valid_until > env->now, previous = 0;
    int matches = secret_matches(env, secret, t.secret_version, t.secret_hash) && (int)kind == t.kind;
    if (!matches && overlap && (int)kind == t.kind)
        matches = previous = secret_matches(env, secret, t.prev_secret_version, t.prev_secret_hash);
    secret_wipe(secret, sizeof secret);
    int right = matches && !t.revoked_at;
    int ok = right && (!t.expires_at || t.expires_at > env->now);
    out->reason = !matches ? AUTH_REASON_WRONG_SECRET
                  : !right ? AUTH_REASON_REVOKED
                  : !ok    ? AUTH_REASON_EXPIRED
                           : AUTH_REASON_OK;
    if (right && !ok) { /* for the audit trail's expired_use event */
        out->expired = 1;
        out->expires_at = t.expires_at;
        memcpy(out->credential_id, t.id, UUID_STR);
        memcpy(out->org_id, t.org_id, UUID_STR);
        memcpy(out->user_id, t.owner_id, UUID_STR);
    }
    if (ok) {
        struct permset scopes;
        out->kind = kind == TOKEN_SAT ? PRINCIPAL_SAT : PRINCIPAL_PAT;
        memcpy(out->credential_id, t.id, UUID_STR);
        out->expires_at = t.expires_at;
        if (previous && (!out->expires_at || t.prev_valid_until < out->expires_at))
            out->expires_at = t.prev_valid_until; /* a cached acceptance ends with the overlap */
        out->closes_overlap = overlap && !previous ? 1u << STORE_TOUCH_TOKEN : 0;
        out->by_previous = previous;
        rc = load_user(env, t.org_id, t.owner_id, out);
        if (!rc && auth_scopes_to_permset(t.scopes, &scopes) == KH_OK)
            narrow(out, &scopes);
        else if (!rc)
            rc = refused(out, AUTH_REASON_UNKNOWN);
        if (!rc)
            auth_record_use(env, out, STORE_TOUCH_TOKEN, t.id);
    }
    store_token_clear(&t);
    return ok ? rc : AUTH_INVALID;
}

int auth_find_api_key(const struct auth_env *env, const char *key, size_t len, struct store_api_key *out)
{
    memset(out, 0, sizeof *out);
    if (len != API_KEY_LEN)
        return AUTH_INVALID;
    int rc = cred_find_api_key(env->store, env->secret, key, len, env->now, out);
    return rc == KH_ENOTFOUND ? AUTH_INVALID : rc;
}

/* What presenting a key's current or previous value says about its
 * rotation's overlap: the previous value is accepted (and cached) only until
 * the overlap ends; the current one, while an overlap is open, ends it. */
static void note_overlap(const struct auth_env *env, const struct store_key_overlap *o, int kind,
                         struct principal *out)
{
    if (o->found_by_previous) {
        out->by_previous = 1;
        if (!out->accepted_until || o->prev_valid_until < out->accepted_until)
            out->accepted_until = o->prev_valid_until;
    } else if (o->prev_valid_until > env->now) {
        out->closes_overlap |= 1u << kind;
    }
}

static int auth_keys(const struct auth_env *env, const struct auth_input *in, struct principal *out)
{
    struct store_api_key api;
    struct store_app_key app;
    out->cred = AUTH_CRED_APP_KEY;
    int rc = auth_find_api_key(env, in->api_key, in->api_key_len, &api);
    if (rc)
        return rc == AUTH_INVALID ? refused(out, AUTH_REASON_UNKNOWN) : rc;
    if (in->app_key_len != APP_KEY_LEN) {
        store_api_key_clear(&api);
        return refused(out, AUTH_REASON_UNKNOWN);
    }
    rc = cred_find_app_key(env->store, env->secret, in->app_key, in->app_key_len, env->now, &app);
    if (rc == KH_ENOTFOUND || (!rc && strcmp(app.org_id, api.org_id) != 0))
        rc = refused(out, AUTH_REASON_UNKNOWN);
    if (!rc) {
        struct permset scopes;
        out->kind = PRINCIPAL_KEYS;
        memcpy(out->credential_id, app.id, UUID_STR);
        memcpy(out->api_key_id, api.id, UUID_STR);
        rc = load_user(env, app.org_id, app.owner_id, out);
        if (!rc && auth_scopes_to_permset(app.scopes, &scopes) == KH_OK) {
            if (app.scopes)
                narrow(out, &scopes);
        } else if (!rc) {
            rc = refused(out, AUTH_REASON_UNKNOWN);
        }
        if (!rc) {
            note_overlap(env, &api.overlap, STORE_TOUCH_API_KEY, out);
            note_overlap(env, &app.overlap, STORE_TOUCH_APP_KEY, out);
            auth_record_use(env, out, STORE_TOUCH_API_KEY, api.id);
            auth_record_use(env, out, STORE_TOUCH_APP_KEY, app.id);
        }
    }
    store_api_key_clear(&api);
    store_app_key_clear(&app);
    return rc;
}

static int authenticate_uncached(const struct auth_env *env, const struct auth_input *in, struct principal *out)
{
    memset(out, 0, sizeof *out);
    if (in->authorization_len) {
        const char *a = in->authorization;
        size_t n = in->authorization_len;
        if (n < 7 || strncasecmp(a, "Bearer ", 7) != 0)
            return refused(out, AUTH_REASON_UNKNOWN);
        a += 7, n -= 7;
        while (n && *a == ' ')
            a++, n--;
        return auth_token(env, a, n, out);
    }
    if (in->app_key_len && token_looks_like(in->app_key, in->app_key_len))
        return auth_token(env, in->app_key, in->app_key_len, out);
    if (!in->api_key_len || !in->app_key_len) {
        out->cred = in->api_key_len || in->app_key_len ? AUTH_CRED_APP_KEY : AUTH_CRED_NONE;
        out->reason = in->api_key_len || in->app_key_len ? AUTH_REASON_UNKNOWN : AUTH_REASON_MISSING;
        return in->api_key_len || in->app_key_len ? AUTH_INVALID : AUTH_MISSING;
    }
    return auth_keys(env, in, out);
}

/* ---- metrics ---- */

static const char *const cred_names[AUTH_CRED_COUNT] = {"none", "api_key", "app_key", "pat", "sat"};
static const char *const reason_names[AUTH_REASON_COUNT] = {
    "ok", "missing", "unknown", "wrong_secret", "revoked", "expired", "disabled", "out_of_scope"};

const char *auth_cred_name(enum auth_cred c)
{
    return (unsigned)c < AUTH_CRED_COUNT ? cred_names[c] : "none";
}

const char *auth_reason_name(enum auth_reason r)
{
    return (unsigned)r < AUTH_REASON_COUNT ? reason_names[r] : "unknown";
}

static struct metric_family *outcomes, *cache_use; /* NULL until registered: counting is then a no-op */

void auth_metrics_register(void)
{
    if (outcomes)
        return; /* once per process */
    outcomes = metrics_register("keyhold_auth_outcomes_total",
                                "Authentications by what was presented and how they ended.", METRIC_COUNTER,
                                "kind,outcome", AUTH_CRED_COUNT * AUTH_REASON_COUNT, NULL, 0);
    for (int c = 0; c < AUTH_CRED_COUNT; c++)
        for (int r = 0; r < AUTH_REASON_COUNT; r++)
            metrics_label(outcomes, (size_t)(c * AUTH_REASON_COUNT + r), (const char *const[]){cred_names[c], reason_names[r]});
    metrics_set_sparse(outcomes);
    cache_use = metrics_register("keyhold_auth_cache_total",
                                 "Authentications answered from the cache (hit) or from the store (miss).",
                                 METRIC_COUNTER, "result", 2, NULL, 0);
    metrics_label(cache_use, 0, (const char *const[]){"hit"});
    metrics_label(cache_use, 1, (const char *const[]){"miss"});
}

void auth_metrics_count(enum auth_cred cred, enum auth_reason reason)
{
    if ((unsigned)cred < AUTH_CRED_COUNT && (unsigned)reason < AUTH_REASON_COUNT)
        metrics_add(outcomes, (size_t)cred * AUTH_REASON_COUNT + reason, 1);
}

/* Store errors are neither: the store's own counters tell them. */
static int counted(int rc, const struct principal *who)
{
    if (rc == KH_OK || rc == AUTH_INVALID || rc == AUTH_MISSING)
        auth_metrics_count(who->cred, rc == KH_OK ? AUTH_REASON_OK : who->reason);
    return rc;
}

/* ---- through the cache (authcache.h) ---- */

/* What a successful authentication records, replayed on a cache hit. */
static void record_uses(const struct auth_env *env, const struct principal *who)
{
    switch (who->kind) {
    case PRINCIPAL_KEYS:
        auth_record_use(env, who, STORE_TOUCH_API_KEY, who->api_key_id);
        auth_record_use(env, who, STORE_TOUCH_APP_KEY, who->credential_id);
        break;
    case PRINCIPAL_PAT:
    case PRINCIPAL_SAT:
        auth_record_use(env, who, STORE_TOUCH_TOKEN, who->credential_id);
        break;
    default: /* the API-key-only check */
        auth_record_use(env, who, STORE_TOUCH_API_KEY, who->api_key_id);
    }
}

/* Answers from the cache when it can, else asks `uncached` and keeps its
 * outcome. The stamp is read before the store is: a commit that lands in
 * between leaves the new entry stale at once, never the other way round. */
static int cached(const struct auth_env *env, char domain, const struct auth_input *in, struct principal *out,
                  int (*uncached)(const struct auth_env *, const struct auth_input *, struct principal *))
{
    struct store_stamp stamp;
    uint8_t digest[SECRET_HASH_LEN];
    int rc;
    if (!env->cache || store_change_stamp(env->store, &stamp) != KH_OK)
        return counted(uncached(env, in, out), out);
    auth_cache_digest(env->cache, domain, in, digest);
    if (auth_cache_get(env->cache, digest, &stamp, env->secret, env->now, &rc, out)) {
        metrics_add(cache_use, 0, 1);
        if (rc == KH_OK)
            record_uses(env, out);
        return counted(rc, out);
    }
    metrics_add(cache_use, 1, 1);
    rc = counted(uncached(env, in, out), out);
    /* Refusals are kept too, an expired token's included: a flood of one
     * must not reach the store per request (authcache.c keeps it only while
     * the clock stays past the expiry). */
    if (rc == KH_OK || rc == AUTH_INVALID)
        auth_cache_put(env->cache, digest, &stamp, env->secret, rc, out);
    return rc;
}

int auth_authenticate(const struct auth_env *env, const struct auth_input *in, struct principal *out)
{
    return cached(env, 'A', in, out, authenticate_uncached);
}

static int check_api_key_uncached(const struct auth_env *env, const struct auth_input *in, struct principal *out)
{
    struct store_api_key k;
    memset(out, 0, sizeof *out);
    out->cred = AUTH_CRED_API_KEY;
    int rc = auth_find_api_key(env, in->api_key, in->api_key_len, &k);
    if (rc == AUTH_INVALID)
        out->reason = AUTH_REASON_UNKNOWN;
    if (rc == KH_OK) {
        memcpy(out->api_key_id, k.id, UUID_STR);
        memcpy(out->org_id, k.org_id, UUID_STR);
        note_overlap(env, &k.overlap, STORE_TOUCH_API_KEY, out);
        auth_record_use(env, out, STORE_TOUCH_API_KEY, k.id);
    }
    store_api_key_clear(&k);
    return rc;
}

int auth_check_api_key(const struct auth_env *env, const char *key, size_t len, struct principal *out)
{
    struct auth_input in = {.api_key = key, .api_key_len = len};
    return cached(env, 'K', &in, out, check_api_key_uncached);
}
