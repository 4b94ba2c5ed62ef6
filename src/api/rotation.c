/* rotation.c - POST /api/v2/keyhold/credentials/{id}/rotate, a keyhold
 * extension (docs/api/keyhold-extensions.yaml, docs/api/rotation.md).
 *
 * Rotating a credential (an API key, an application key, a PAT or a SAT)
 * gives it a new secret and keeps everything else: id, name, scopes, owner
 * and expiry (a token's public portion is its id, so it stays too). The
 * secret in use is still accepted for an overlap: until grace_seconds pass
 * (default a day, 0 = at once) or the new secret is first used, whichever
 * comes first (auth/authn.c marks the first use; the writer closes the
 * overlap with the next flush of last-used times). A credential already in
 * an overlap is not rotated again (409). The new secret is shown once, in
 * the 201.
 *
 * With an Idempotency-Key header, the answer is kept sealed for ten
 * minutes under the caller's credential and that key: the same request
 * again gets the same answer (the same secret) instead of a second
 * rotation; another request with the same key is refused (422).
 *
 * With ?dry_run=true nothing happens: the answer (200) says what the
 * rotation would do and what would stop working (the credential's usage,
 * credential_usage.c), after the same checks, refused as the rotation
 * would be (a malformed Idempotency-Key included). No kept answer is
 * looked up or kept, no audit event written.
 *
 * Who may rotate: whoever may revoke or delete the credential (see
 * may_rotate_or_reply), and, since the answer reveals a working secret of a
 * token or an application key, only a caller holding every permission it
 * has (rule 2 of docs/security.md, which has no exception,
 * user_access_manage included). An API key holds no permission of its own;
 * rotating one needs api_keys_write and api_keys_delete (a rotation ends the
 * value in use, at once with grace 0). */
#include "api/internal.h"
#include "auth/authz.h"
#include "auth/credentials.h"
#include "util/clock.h"
#include "util/token.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_GRACE_S 86400
#define MAX_GRACE_S (30 * 86400)
#define IDEMPOTENCY_WINDOW_US (10 * 60 * 1000000LL)
#define MAX_IDEMPOTENCY_KEY 255

/* Reads {"data":{"type":"credential_rotations","attributes":{"grace_seconds":N}}}
 * (every part optional; an empty body takes the default). */
static int grace_or_reply(struct api_call *call, int64_t *grace_s)
{
    static const char *const data_keys[] = {"type", "attributes", NULL};
    static const char *const attr_keys[] = {"grace_seconds", NULL};
    struct jx jx = {0};
    *grace_s = DEFAULT_GRACE_S;
    if (!call->req->body_len)
        return 0;
    json_t *root = body_or_reply(call, &jx);
    if (!root)
        return -1;
    json_t *data = jx_obj(&jx, root, "", "data", 0);
    if (data) {
        jx_only(&jx, data, data_keys);
        if (json_object_get(data, "type"))
            jx_type(&jx, data, "data", "credential_rotations");
    }
    json_t *attrs = data ? jx_obj(&jx, data, "data", "attributes", 0) : NULL;
    if (attrs)
        jx_only(&jx, attrs, attr_keys);
    json_t *g = attrs ? json_object_get(attrs, "grace_seconds") : NULL;
    if (!jx.failed && g && !json_is_null(g)) {
        if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > MAX_GRACE_S)
            jx_fail(&jx, "Field 'data.attributes.grace_seconds' must be an integer from 0 to %d", MAX_GRACE_S);
        else
            *grace_s = json_integer_value(g);
    }
    json_decref(root);
    if (jx.failed) {
        reply_jx(call, &jx);
        return -1;
    }
    return 0;
}

/* ---- Idempotency-Key ---- */

struct idempotency {
    int present;
    uint8_t key_hash[SECRET_HASH_LEN];
    uint8_t request_hash[SECRET_HASH_LEN];
};

/* Reads the header: the key is keyed by the caller's credential (another
 * caller's same key is another key) and the server secret (so the store
 * holds nothing a header could be matched against). */
static int idempotency_or_reply(struct api_call *call, struct idempotency *idem)
{
    size_t len = 0;
    const char *v = api_header_get(call->req, "idempotency-key", &len);
    memset(idem, 0, sizeof *idem);
    if (!v)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (v[i] < 0x21 || v[i] > 0x7e) {
            reply_error(call, 400, "Invalid Idempotency-Key: printable ASCII without spaces is expected");
            return -1;
        }
    if (len == 0 || len > MAX_IDEMPOTENCY_KEY) {
        reply_error(call, 400, "Invalid Idempotency-Key: 1 to %d characters are expected", MAX_IDEMPOTENCY_KEY);
        return -1;
    }
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_printf(&b, "keyhold idempotency v1|%s|%s|", call->who.credential_id, call->who.api_key_id);
    buf_add(&b, v, len);
    secret_hmac(secret_current(call->env->secret)->lookup_key, b.p, b.len, idem->key_hash);
    b.len = 0;
    buf_printf(&b, "%.*s %.*s|", (int)call->req->method_len, call->req->method, (int)call->req->path_len,
               call->req->path);
    buf_add(&b, call->req->body ? call->req->body : "", call->req->body_len);
    secret_sha256(b.p, b.len, idem->request_hash);
    buf_free(&b);
    idem->present = 1;
    return 0;
}

/* Answers from a kept answer when there is one (returns 1: answered). */
static int replayed(struct api_call *call, const struct idempotency *idem)
{
    struct store_idempotent kept;
    int rc = store_idem_get(call->env->store, idem->key_hash, call->now - IDEMPOTENCY_WINDOW_US, &kept);
    if (rc == KH_ENOTFOUND)
        return 0;
    if (rc) {
        reply_store_error(call, rc);
        return 1;
    }
    if (!secret_equal(kept.request_hash, idem->request_hash, SECRET_HASH_LEN)) {
        reply_error(call, 422, "This Idempotency-Key was used for another request within the last 10 minutes");
    } else {
        size_t len = kept.answer.sealed_len - SECRET_SEAL_OVERHEAD;
        char *body = xmalloc(len + 1);
        if (kept.answer.sealed_len < SECRET_SEAL_OVERHEAD || cred_unseal(call->env->secret, &kept.answer, body, len)) {
            free(body);
            reply_error(call, 500, "The kept answer of this Idempotency-Key cannot be read");
        } else {
            reply_json_text(call, kept.status, body);
        }
    }
    store_idempotent_clear(&kept);
    return 1;
}

/* Keeps the answer just made, sealed, for replays. */
static int keep_answer(struct api_call *call, const struct idempotency *idem, int status, const char *body)
{
    size_t len = strlen(body);
    const struct secret_key *k = secret_current(call->env->secret);
    struct store_idempotent kept = {.created_at = call->now, .status = status};
    memcpy(kept.key_hash, idem->key_hash, SECRET_HASH_LEN);
    memcpy(kept.request_hash, idem->request_hash, SECRET_HASH_LEN);
    snprintf(kept.org_id, sizeof kept.org_id, "%s", call->who.org_id);
    kept.answer.secret_version = k->version;
    kept.answer.sealed_len = len + SECRET_SEAL_OVERHEAD;
    kept.answer.sealed = xmalloc(kept.answer.sealed_len);
    secret_seal(k, body, len, kept.answer.sealed);
    int rc = store_idem_put(call->env->store, &kept, call->now - IDEMPOTENCY_WINDOW_US);
    secret_wipe(kept.answer.sealed, kept.answer.sealed_len);
    store_idempotent_clear(&kept);
    return rc;
}

/* ---- the credential ---- */

/* The credential being rotated: one of the three rows, by kind. */
struct rotated {
    int kind; /* STORE_TOUCH_TOKEN, STORE_TOUCH_API_KEY or STORE_TOUCH_APP_KEY */
    struct store_token tok;
    struct store_api_key api;
    struct store_app_key app;
    int64_t prev_valid_until, rotated_at; /* of the last rotation */
    const char *type;                     /* the answer's credential_type */
    const char *audit_kind;               /* the audit trail's target kind */
};

static void rotated_clear(struct rotated *r)
{
    store_token_clear(&r->tok);
    store_api_key_clear(&r->api);
    store_app_key_clear(&r->app);
}

/* Finds id among the live credentials of the caller's org: a token, an API
 * key or an application key (ids are UUIDs drawn apart, so at most one). */
static int find_rotated(struct api_call *call, const char *id, struct rotated *r)
{
    struct store *st = call->env->store;
    memset(r, 0, sizeof *r);
    if (!uuid_valid(id, strlen(id)))
        return KH_ENOTFOUND;
    int rc = store_token_get(st, id, &r->tok);
    if (!rc) {
        int live = strcmp(r->tok.org_id, call->who.org_id) == 0 && !r->tok.revoked_at &&
                   (!r->tok.expires_at || r->tok.expires_at > call->now);
        r->kind = STORE_TOUCH_TOKEN;
        r->prev_valid_until = r->tok.prev_valid_until;
        r->rotated_at = r->tok.rotated_at;
        r->type = r->tok.kind == STORE_TOKEN_SAT ? "service_access_tokens" : "personal_access_tokens";
        r->audit_kind = r->tok.kind == STORE_TOKEN_SAT ? "service_access_token" : "personal_access_token";
        return live ? KH_OK : KH_ENOTFOUND;
    }
    if (rc == KH_ENOTFOUND && !(rc = store_api_key_get(st, call->who.org_id, id, &r->api))) {
        r->kind = STORE_TOUCH_API_KEY;
        r->prev_valid_until = r->api.overlap.prev_valid_until;
        r->rotated_at = r->api.overlap.rotated_at;
        r->type = "api_keys";
        r->audit_kind = "api_key";
        return KH_OK;
    }
    if (rc == KH_ENOTFOUND && !(rc = store_app_key_get(st, call->who.org_id, id, &r->app))) {
        r->kind = STORE_TOUCH_APP_KEY;
        r->prev_valid_until = r->app.overlap.prev_valid_until;
        r->rotated_at = r->app.overlap.rotated_at;
        r->type = "application_keys";
        r->audit_kind = "application_key";
        return KH_OK;
    }
    return rc;
}

/* Who may rotate what: whoever may revoke or delete it. For a PAT or an
 * application key, its owner with user_app_keys, anyone with
 * org_app_keys_write (another user's is answered 404 otherwise, as revoking
 * answers); service_account_write for a service account's token or key;
 * api_keys_write for an API key. Application keys are not rotated with a
 * token, which cannot create or update them either. */
static int may_rotate_or_reply(struct api_call *call, struct rotated *r)
{
    const char *owner = r->kind == STORE_TOUCH_TOKEN ? r->tok.owner_id : r->app.owner_id;
    int sa = 0;
    if (r->kind == STORE_TOUCH_API_KEY) {
        /* a rotation ends the value in use (at once with grace 0): what
         * deleting the key needs, besides what changing it needs */
        return require_perm_or_reply(call, PERM_API_KEYS_WRITE) || require_perm_or_reply(call, PERM_API_KEYS_DELETE)
                   ? KH_EINVAL
                   : KH_OK;
    } else if (r->kind == STORE_TOUCH_TOKEN) {
        sa = r->tok.kind == STORE_TOKEN_SAT;
    } else {
        struct store_user u;
        int rc = store_user_get(call->env->store, call->who.org_id, owner, &u);
        if (rc && rc != KH_ENOTFOUND) {
            reply_store_error(call, rc);
            return rc;
        }
        sa = !rc && u.service_account;
        store_user_clear(&u);
        if (not_token_or_reply(call))
            return KH_EINVAL;
    }
    if (!sa && strcmp(owner, call->who.user_id) != 0 && !api_has_perm(call, PERM_ORG_APP_KEYS_WRITE))
        return KH_ENOTFOUND;
    int allowed = sa ? api_has_perm(call, PERM_SERVICE_ACCOUNT_WRITE)
                     : api_has_perm(call, PERM_USER_APP_KEYS) || api_has_perm(call, PERM_ORG_APP_KEYS_WRITE);
    if (!allowed) {
        reply_error(call, 403, "Forbidden: rotating this %s needs %s", r->kind == STORE_TOUCH_TOKEN ? "token" : "key",
                    sa ? "service_account_write" : "user_app_keys or org_app_keys_write");
        return KH_EINVAL;
    }
    /* rule 2 of docs/security.md, without exception: the answer is a secret */
    struct permset target;
    int rc = authz_credential_perms(call->env->store, owner, r->kind == STORE_TOUCH_TOKEN ? r->tok.scopes : r->app.scopes,
                                    &target);
    if (rc) {
        reply_store_error(call, rc);
    } else if (!authz_may_reveal(&call->who, &target)) {
        reply_error(call, 403,
                    "Forbidden: the %s holds the %s permission, which the caller does not; its new secret is shown "
                    "only to a caller holding every permission it has",
                    r->kind == STORE_TOUCH_TOKEN ? "token" : "key", perm_name(authz_first_excess(&call->who, &target)));
        rc = KH_EINVAL;
    }
    return rc;
}

/* The live credential id of the caller's org that the caller may rotate, or
 * an answer (404 as for a credential the caller may not see; 403 for one it
 * may see but not rotate; 409 within an overlap). */
static int may_rotate_found_or_reply(struct api_call *call, const char *id, struct rotated *r)
{
    int rc = find_rotated(call, id, r);
    if (!rc)
        rc = may_rotate_or_reply(call, r);
    if (rc == KH_ENOTFOUND)
        reply_error(call, 404, "Credential not found: keyhold rotates the live API keys, application keys, personal "
                               "and service access tokens of the caller's org");
    else if (rc && rc != KH_EINVAL)
        reply_store_error(call, rc);
    if (rc)
        rotated_clear(r);
    return rc;
}

/* The same, and not within an overlap (409). */
static int rotatable_or_reply(struct api_call *call, const char *id, struct rotated *r)
{
    int rc = may_rotate_found_or_reply(call, id, r);
    if (!rc && r->prev_valid_until > call->now) {
        char at[CLOCK_BUF], until[CLOCK_BUF];
        clock_format_rfc3339(r->rotated_at, 0, at);
        clock_format_rfc3339(r->prev_valid_until, 0, until);
        reply_error(call, 409,
                    "This credential was rotated at %s and its previous secret is accepted until %s or the new "
                    "secret's first use; rotate it again after that, or revoke it",
                    at, until);
        rc = KH_ECONFLICT;
    }
    if (rc)
        rotated_clear(r);
    return rc;
}

/* What the answer shows of the new value besides itself: a token's public
 * portion (its id, which stays), a key's last four characters. */
static json_t *rotation_answer_public(const struct rotated *r, const char *value)
{
    if (r->kind != STORE_TOUCH_TOKEN)
        return json_pack("{s:s%}", "last4", value + strlen(value) - 4, (size_t)4);
    char alias[TOKEN_ALIAS_LEN + 1], portion[TOKEN_ALIAS_LEN + 8];
    token_alias(r->tok.id, alias);
    snprintf(portion, sizeof portion, "%s_%s", token_prefix(r->tok.kind == STORE_TOKEN_SAT ? TOKEN_SAT : TOKEN_PAT),
             alias);
    return json_pack("{s:s}", "public_portion", portion);
}

static char *rotation_answer(const struct rotated *r, const char *id, const char *value, int64_t now, int64_t grace_s)
{
    json_t *attrs = json_pack("{s:s,s:s,s:o,s:I,s:o}", "credential_type", r->type, "key", value, "rotated_at",
                              render_rfc3339(now, 0), "grace_seconds", (json_int_t)grace_s,
                              "previous_secret_valid_until",
                              grace_s ? render_rfc3339(now + grace_s * 1000000, 0) : json_null());
    json_t *public = rotation_answer_public(r, value);
    json_object_update(attrs, public);
    json_decref(public);
    json_t *body = json_pack("{s:{s:s,s:s,s:o}}", "data", "id", id, "type", "credential_rotations", "attributes", attrs);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text)
        abort(); /* jansson fails only on allocation failure */
    return text;
}

/* Mints and stores the new value (value: room for the longest). */
static int rotate_credential(struct api_call *call, const struct rotated *r, int64_t grace_s, char *value)
{
    struct store *st = call->env->store;
    int64_t until = call->now + grace_s * 1000000;
    switch (r->kind) {
    case STORE_TOUCH_API_KEY:
        return cred_api_key_rotate(st, call->env->secret, &r->api, call->who.user_id, until, call->now, value);
    case STORE_TOUCH_APP_KEY:
        return cred_app_key_rotate(st, call->env->secret, &r->app, until, call->now, value);
    default:
        return cred_token_rotate(st, call->env->secret, &r->tok, until, call->now, value);
    }
}

/* ?dry_run=true: what rotating r would do, and its usage (whoever still
 * sends the secret that would stop), answered without rotating, keeping
 * an answer or recording an event (credential_usage.c renders it). */
static void preview_rotation(struct api_call *call, const struct rotated *r, int64_t grace_s)
{
    char effect[360], until[CLOCK_BUF];
    struct api_credential c = {0}; /* its name is borrowed from r: c is not cleared */
    if (r->kind == STORE_TOUCH_API_KEY) {
        c = (struct api_credential){.kind = API_CRED_API_KEY, .name = r->api.name, .last_used_at = r->api.last_used_at};
    } else if (r->kind == STORE_TOUCH_APP_KEY) {
        c = (struct api_credential){.kind = API_CRED_APP_KEY, .name = r->app.name, .last_used_at = r->app.last_used_at};
        memcpy(c.owner_id, r->app.owner_id, UUID_STR);
    } else {
        c = (struct api_credential){.kind = r->tok.kind == STORE_TOKEN_SAT ? API_CRED_SAT : API_CRED_PAT,
                                    .name = r->tok.name,
                                    .last_used_at = r->tok.last_used_at,
                                    .expires_at = r->tok.expires_at};
        memcpy(c.owner_id, r->tok.owner_id, UUID_STR);
    }
    snprintf(c.id, sizeof c.id, "%.36s", call->params[0]); /* a UUID: find_rotated found it */
    memcpy(c.org_id, call->who.org_id, UUID_STR);
    clock_format_rfc3339(call->now + grace_s * 1000000, 0, until);
    if (grace_s)
        snprintf(effect, sizeof effect,
                 "A new secret would be made and shown once; the secret in use would keep working until %s or the "
                 "new secret's first use, whichever comes first, and be refused after that. Everything else would "
                 "stay: id, name, scopes, owner and expiry.",
                 until);
    else
        snprintf(effect, sizeof effect,
                 "A new secret would be made and shown once; the secret in use would be refused at once. Everything "
                 "else would stay: id, name, scopes, owner and expiry.");
    struct api_preview p = {.action = "rotate",
                            .effect = effect,
                            .stops_at = call->now + grace_s * 1000000,
                            .ends_on_new_secret_use = grace_s > 0,
                            .grace_s = grace_s};
    reply_credential_preview(call, &c, &p);
}

void keyhold_credential_rotate(struct api_call *call)
{
    struct rotated r;
    struct idempotency idem;
    int64_t grace_s;
    int dry_run;
    char value[TOKEN_LEN + APP_KEY_VALUE_LEN + API_KEY_VALUE_LEN + 1]; /* room for any of them */
    if (dry_run_or_reply(call, &dry_run) || grace_or_reply(call, &grace_s) || idempotency_or_reply(call, &idem))
        return;
    if (dry_run) { /* the same checks and refusals as the rotation (no kept answer is looked up); nothing changes */
        if (!rotatable_or_reply(call, call->params[0], &r)) {
            preview_rotation(call, &r, grace_s);
            rotated_clear(&r);
        }
        return;
    }
    /* A replay answers the kept secret again: only while the caller still
     * may rotate the credential (and rule 2 still holds); the overlap the
     * kept rotation opened is no refusal for it. */
    if (idem.present) {
        if (may_rotate_found_or_reply(call, call->params[0], &r))
            return;
        rotated_clear(&r);
        if (replayed(call, &idem))
            return;
    }
    if (rotatable_or_reply(call, call->params[0], &r))
        return;
    int rc = rotate_credential(call, &r, grace_s, value);
    if (rc == KH_ECONFLICT) {
        reply_error(call, 409, "This credential's previous secret is still accepted; rotate it again after that");
    } else if (rc == KH_ENOTFOUND) {
        reply_error(call, 404, "Credential not found");
    } else if (rc) {
        reply_store_error(call, rc);
    } else {
        char *body = rotation_answer(&r, call->params[0], value, call->now, grace_s);
        api_audit(call, "rotated", r.audit_kind, call->params[0]);
        rc = idem.present ? keep_answer(call, &idem, 201, body) : KH_OK;
        if (rc) {
            secret_wipe(body, strlen(body));
            free(body);
            reply_store_error(call, rc);
        } else {
            reply_json_text(call, 201, body);
        }
    }
    secret_wipe(value, sizeof value);
    rotated_clear(&r);
}
