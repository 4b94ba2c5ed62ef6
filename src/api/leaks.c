/* leaks.c - the leak loop's routes, keyhold extensions
 * (docs/api/keyhold-extensions.yaml, docs/operations/leaks.md):
 *   POST  /api/v2/keyhold/leaks        a report in GitHub's secret scanning
 *                                      partner format, signed by GitHub or
 *                                      sent by an authenticated caller
 *   GET   /api/v2/keyhold/leaks        the caller's org's leaked credentials
 *   GET   /api/v2/keyhold/leak_policy  what the org does with a leaked one
 *   PATCH /api/v2/keyhold/leak_policy
 *
 * A reported value is matched the way authentication finds credentials: a
 * token by the id in its public portion and the keyed hash of its secret,
 * API and application keys by their keyed lookup hash under every secret
 * version. Each entry costs the same lookups whether it matches or not
 * (whatever its shape), and every report writes one row (leak_reports) and
 * commits, so that a match and a miss take about the same time; the answer
 * to a reporter that is not authenticated is always the same. A match of a
 * live credential is recorded (credential_leaks: never the value) with an
 * audit event in the credential's org, and handled by that org's policy:
 * revoke (the token revoked, the key deleted, at once) or quarantine (it
 * keeps working, flagged: Datadog's leaked_keys on API key answers, and the
 * list here). The route runs on the writer (ROUTE_WRITE) without ROUTE_AUTH:
 * the handler authenticates a caller who sent credentials itself. */
#include "api/internal.h"

#include "auth/credentials.h"
#include "auth/events.h"
#include "util/leakreport.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/token.h"
#include "util/uuid.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_REVOKE "revoke"
#define POLICY_QUARANTINE "quarantine"
#define DEFAULT_POLICY POLICY_REVOKE
#define LEAK_LIST_MAX 1000
/* An id no token has: the lookup a value that is not token-shaped still costs. */
#define NO_TOKEN_ID "00000000-0000-0000-0000-000000000000"

enum leak_what { LEAK_NONE = 0, LEAK_TOKEN, LEAK_API_KEY, LEAK_APP_KEY };

struct leak_match {
    enum leak_what what;
    char id[UUID_STR];
    char org_id[UUID_STR];
    const char *kind; /* what the audit trail calls it */
    int previous;     /* only a rotated credential's previous secret matched */
};

/* ---- matching: the same work for every entry ---- */

/* Whether value is the live token its id names (constant-time compares;
 * the hash is computed even when no token was found). */
static int match_token(struct api_call *call, const struct leak_entry *e, struct leak_match *m)
{
    enum token_kind kind = TOKEN_PAT;
    char id[UUID_STR], secret[TOKEN_SECRET_LEN + 1];
    uint8_t mine[SECRET_HASH_LEN];
    struct store_token t;
    int parsed = token_parse(e->token, e->token_len, &kind, id, secret) == 0;
    if (!parsed) {
        memcpy(id, NO_TOKEN_ID, UUID_STR);
        memset(secret, 'x', TOKEN_SECRET_LEN);
        secret[TOKEN_SECRET_LEN] = '\0';
    }
    int rc = store_token_get(call->env->store, id, &t);
    if (rc && rc != KH_ENOTFOUND) {
        secret_wipe(secret, sizeof secret);
        return rc;
    }
    const struct secret_key *k = !rc ? secret_version(call->env->secret, t.secret_version) : NULL;
    const struct secret_key *pk = !rc ? secret_version(call->env->secret, t.prev_secret_version) : NULL;
    secret_hmac((k ? k : secret_current(call->env->secret))->token_key, secret, TOKEN_SECRET_LEN, mine);
    int same = !rc && k && secret_equal(mine, t.secret_hash, SECRET_HASH_LEN);
    secret_hmac((pk ? pk : secret_current(call->env->secret))->token_key, secret, TOKEN_SECRET_LEN, mine);
    int prev = !rc && pk && t.prev_valid_until > call->now && secret_equal(mine, t.prev_secret_hash, SECRET_HASH_LEN);
    secret_wipe(secret, sizeof secret);
    secret_wipe(mine, sizeof mine);
    int live = !rc && parsed && (int)kind == t.kind && (same || prev) && !t.revoked_at &&
               (!t.expires_at || t.expires_at > call->now);
    if (live) {
        m->previous = prev && !same;
        m->what = LEAK_TOKEN;
        memcpy(m->id, t.id, UUID_STR);
        memcpy(m->org_id, t.org_id, UUID_STR);
        m->kind = t.kind == STORE_TOKEN_SAT ? "service_access_token" : "personal_access_token";
    }
    store_token_clear(&t);
    return KH_OK;
}

/* Notes a key found by lookup (current value, or a rotation's previous one
 * still in its overlap) as the match, unless one was noted already. */
static void note_key(struct leak_match *m, enum leak_what what, const char *id, const char *org_id, int same,
                     int previous)
{
    if (!same || m->what != LEAK_NONE)
        return;
    m->previous = previous;
    m->what = what;
    memcpy(m->id, id, UUID_STR);
    memcpy(m->org_id, org_id, UUID_STR);
    m->kind = what == LEAK_API_KEY ? "api_key" : "application_key";
}

/* Looks value up as an API key and as an application key, current value
 * and a rotation's previous value still accepted, under every secret
 * version (authentication stops at the first hit; here every lookup is
 * made, so a hit costs what a miss does). */
static int match_keys(struct api_call *call, const struct leak_entry *e, struct leak_match *m)
{
    const struct server_secret *s = call->env->secret;
    struct store *st = call->env->store;
    uint8_t lookup[SECRET_HASH_LEN];
    int rc = KH_OK;
    for (int i = 0; i < s->n && !rc; i++) {
        struct store_api_key api, api_prev;
        struct store_app_key app, app_prev;
        secret_hmac(s->keys[i].lookup_key, e->token, e->token_len, lookup);
        int codes[4] = {store_api_key_find(st, lookup, &api), store_api_key_find_previous(st, lookup, call->now, &api_prev),
                        store_app_key_find(st, lookup, &app), store_app_key_find_previous(st, lookup, call->now, &app_prev)};
        note_key(m, LEAK_API_KEY, api.id, api.org_id, !codes[0] && secret_equal(lookup, api.key.lookup, SECRET_HASH_LEN),
                 0);
        note_key(m, LEAK_API_KEY, api_prev.id, api_prev.org_id,
                 !codes[1] && secret_equal(lookup, api_prev.overlap.prev_lookup, SECRET_HASH_LEN), 1);
        note_key(m, LEAK_APP_KEY, app.id, app.org_id, !codes[2] && secret_equal(lookup, app.key.lookup, SECRET_HASH_LEN),
                 0);
        note_key(m, LEAK_APP_KEY, app_prev.id, app_prev.org_id,
                 !codes[3] && secret_equal(lookup, app_prev.overlap.prev_lookup, SECRET_HASH_LEN), 1);
        store_api_key_clear(&api);
        store_api_key_clear(&api_prev);
        store_app_key_clear(&app);
        store_app_key_clear(&app_prev);
        for (int c = 0; c < 4 && !rc; c++)
            rc = codes[c] && codes[c] != KH_ENOTFOUND ? codes[c] : KH_OK;
    }
    secret_wipe(lookup, sizeof lookup);
    return rc;
}

/* ---- what a match does ---- */

/* The org's policy ("revoke" or "quarantine"); *set tells whether the org
 * chose it (else it is the default). */
static int policy_of(struct store *st, const char *org_id, struct store_leak_policy *p, int *set)
{
    int rc = store_leak_policy_get(st, org_id, p);
    *set = rc == KH_OK;
    if (rc == KH_ENOTFOUND) {
        memset(p, 0, sizeof *p);
        snprintf(p->org_id, sizeof p->org_id, "%s", org_id);
        snprintf(p->policy, sizeof p->policy, "%s", DEFAULT_POLICY);
        rc = KH_OK;
    }
    return rc;
}

/* An audit event in the leaked credential's org (not the caller's). */
static void audit_in(struct api_call *call, const char *org_id, const char *actor, const char *action,
                     const char *kind, const char *target_id)
{
    struct store_audit ev;
    memset(&ev, 0, sizeof ev);
    ev.at = call->now;
    snprintf(ev.org_id, sizeof ev.org_id, "%s", org_id);
    snprintf(ev.actor_id, sizeof ev.actor_id, "%s", actor);
    snprintf(ev.action, sizeof ev.action, "%s", action);
    snprintf(ev.target_kind, sizeof ev.target_kind, "%s", kind);
    snprintf(ev.target_id, sizeof ev.target_id, "%s", target_id);
    snprintf(ev.source, sizeof ev.source, "%s", call->req->remote_addr ? call->req->remote_addr : "");
    log_info("audit %s %s %s by %s from %s", action, kind, target_id, actor, ev.source[0] ? ev.source : "-");
    if (store_audit_insert(call->env->store, &ev) != KH_OK) {
        log_error("audit: could not record %s %s %s", action, kind, target_id);
        call->audit_failed = 1;
    } else if (events_from_audit(call->env->store, &ev) != KH_OK) {
        call->audit_failed = 1; /* webhooks hear of a leak (and its revocation) with it, or neither happens */
    }
}

/* Revokes (token) or deletes (key) a matched credential. */
static int revoke_match(struct api_call *call, const struct leak_match *m, const char *actor)
{
    struct store *st = call->env->store;
    /* the history (api/history.c) tells who ended it and why */
    struct store_ending end = {.at = call->now, .by = actor, .reason = "leaked: reported, and the org's policy revokes"};
    int rc = m->what == LEAK_TOKEN     ? store_token_revoke(st, m->org_id, m->id, &end)
             : m->what == LEAK_API_KEY ? store_api_key_delete(st, m->org_id, m->id, &end)
                                       : store_app_key_delete(st, m->org_id, m->id, &end);
    if (rc == KH_ENOTFOUND) /* gone since it matched, within this transaction: nothing left to do */
        return KH_OK;
    if (!rc)
        audit_in(call, m->org_id, actor, m->what == LEAK_TOKEN ? "revoked" : "deleted", m->kind, m->id);
    return rc;
}

struct reporter {
    char name[64];        /* leak_reports.reporter / credential_leaks.reporter */
    char actor[UUID_STR]; /* the audit events' actor */
    char org_id[UUID_STR]; /* an authenticated caller's org, "" for a signed report */
};

/* Who reported, as the leaked credential's org is told: another org's
 * caller is not named there (its ids are that org's business). */
static void reporter_for(const struct reporter *who, const char *org_id, char name[64], char actor[UUID_STR])
{
    int stranger = who->org_id[0] && strcmp(who->org_id, org_id) != 0;
    snprintf(name, 64, "%s", stranger ? "credential of another org" : who->name);
    snprintf(actor, UUID_STR, "%s", stranger ? "another-org" : who->actor);
}

/* Records the match as leaked (or counts one more report of it), with what
 * was done about it. */
static int mark_leaked(struct api_call *call, const struct leak_match *m, const struct leak_entry *e,
                       const char *name, const char *action)
{
    struct store_leak l;
    memset(&l, 0, sizeof l);
    memcpy(l.credential_id, m->id, UUID_STR);
    memcpy(l.org_id, m->org_id, UUID_STR);
    snprintf(l.kind, sizeof l.kind, "%s", m->kind);
    l.leaked_at = l.last_reported_at = call->now;
    l.url = e->url;
    l.source = e->source;
    snprintf(l.reporter, sizeof l.reporter, "%s", name);
    snprintf(l.action, sizeof l.action, "%s", action);
    return store_leak_mark(call->env->store, &l);
}

/* Only a rotated credential's previous secret leaked: that secret stops at
 * once (the overlap ends), and the credential, whose new secret did not
 * leak, stays as it is whatever the policy; a credential already marked
 * leaked keeps its mark. Otherwise a leaked previous secret, which may only
 * read, could end the credential through a report. */
static int handle_previous(struct api_call *call, const struct leak_match *m, const struct leak_entry *e,
                           const char *name, const char *actor)
{
    static const int touch_kind[] = {[LEAK_TOKEN] = STORE_TOUCH_TOKEN, [LEAK_API_KEY] = STORE_TOUCH_API_KEY,
                                     [LEAK_APP_KEY] = STORE_TOUCH_APP_KEY};
    struct store_leak l;
    int rc = store_leak_get(call->env->store, m->id, &l);
    if (rc == KH_ENOTFOUND) {
        rc = mark_leaked(call, m, e, name, "previous_ended");
    } else if (!rc) {
        store_leak_clear(&l);
    }
    if (!rc)
        rc = store_overlap_close(call->env->store, touch_kind[m->what], m->id, call->now);
    if (!rc)
        audit_in(call, m->org_id, actor, "leaked", m->kind, m->id);
    return rc;
}

/* Records one match and applies its org's policy. */
static int handle_match(struct api_call *call, const struct leak_match *m, const struct leak_entry *e,
                        const struct reporter *who)
{
    struct store_leak_policy p;
    char name[64], actor[UUID_STR];
    int set, rc = policy_of(call->env->store, m->org_id, &p, &set);
    if (rc)
        return rc;
    reporter_for(who, m->org_id, name, actor);
    if (m->previous)
        return handle_previous(call, m, e, name, actor);
    int revoke = strcmp(p.policy, POLICY_QUARANTINE) != 0;
    rc = mark_leaked(call, m, e, name, revoke ? "revoked" : "quarantined");
    if (!rc)
        audit_in(call, m->org_id, actor, "leaked", m->kind, m->id);
    if (!rc && revoke)
        rc = revoke_match(call, m, actor);
    return rc;
}

/* ---- who reports ---- */

/* Authenticates a caller that sent credentials, or checks GitHub's
 * signature; answers (401/403/429) and returns non-zero when neither
 * holds. */
static int reporter_or_reply(struct api_call *call, struct reporter *who, int *authenticated)
{
    size_t n;
    memset(who, 0, sizeof *who);
    /* credentials as api_authenticate_or_reply reads them, query-string ones included */
    *authenticated = api_header_get(call->req, "dd-api-key", &n) || api_header_get(call->req, "dd-application-key", &n) ||
                     api_header_get(call->req, "authorization", &n) || query_get(&call->query, "api_key") ||
                     query_get(&call->query, "application_key");
    if (*authenticated) {
        if (api_authenticate_or_reply(call))
            return -1;
        snprintf(who->name, sizeof who->name, "credential:%s", call->who.credential_id);
        snprintf(who->actor, sizeof who->actor, "%s", call->who.user_id);
        snprintf(who->org_id, sizeof who->org_id, "%s", call->who.org_id);
        return 0;
    }
    size_t id_len = 0, sig_len = 0;
    const char *id = api_header_get(call->req, "github-public-key-identifier", &id_len);
    const char *sig = api_header_get(call->req, "github-public-key-signature", &sig_len);
    if (!id || !sig || !id_len || !sig_len) {
        reply_error(call, 401, "Unauthorized: sign the report (Github-Public-Key-Identifier and "
                               "Github-Public-Key-Signature) or send credentials (DD-API-KEY and DD-APPLICATION-KEY, "
                               "or Authorization: Bearer <token>)");
        return -1;
    }
    /* A flood of forged signatures is limited like failed logins: each one
     * costs the writer an ECDSA verification. */
    call->fingerprint = secret_siphash((const uint8_t *)"keyhold leak sig", sig, sig_len);
    if (api_auth_guard_or_reply(call))
        return -1;
    const char *body = call->req->body ? call->req->body : "";
    enum leak_sig_result r =
        leak_sig_verify(call->env->cfg->leak_keys, id, id_len, sig, sig_len, body, call->req->body_len);
    if (r != LEAK_SIG_OK) {
        struct principal refused;
        memset(&refused, 0, sizeof refused);
        refused.reason = AUTH_REASON_UNKNOWN;
        api_auth_note(call, AUTH_INVALID, &refused);
        if (r == LEAK_SIG_UNKNOWN_KEY)
            reply_error(call, 403, "Forbidden: Github-Public-Key-Identifier names no public key this server accepts%s",
                        call->env->cfg->leak_keys ? "" : " (none is configured: serve --leak-public-keys)");
        else if (r == LEAK_SIG_MALFORMED)
            reply_error(call, 403, "Forbidden: Github-Public-Key-Signature is not base64 of a DER ECDSA signature");
        else
            reply_error(call, 403, "Forbidden: Github-Public-Key-Signature does not verify over the request body");
        return -1;
    }
    snprintf(who->name, sizeof who->name, "github:%.50s", id);
    snprintf(who->actor, sizeof who->actor, "github");
    return 0;
}

/* ---- POST /api/v2/keyhold/leaks ---- */

/* Whether an earlier entry matched the same credential (handled once). */
static int seen_before(const struct leak_match *m, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (m[j].what != LEAK_NONE && strcmp(m[j].id, m[i].id) == 0)
            return 1;
    return 0;
}

/* Matches every entry (all of them, before anything is changed: a value
 * reported twice matches twice) and handles each credential matched once.
 * *matched and *in_org count matching entries (in_org: of org_id; NULL:
 * none counted). */
static int process(struct api_call *call, const struct leak_report *rep, const struct reporter *who,
                   const char *org_id, int64_t *matched, int64_t *in_org)
{
    struct leak_match *m = xcalloc(rep->n, sizeof *m);
    int rc = KH_OK;
    *matched = *in_org = 0;
    for (size_t i = 0; i < rep->n && !rc; i++) {
        rc = match_token(call, &rep->items[i], &m[i]);
        if (!rc)
            rc = match_keys(call, &rep->items[i], &m[i]);
    }
    for (size_t i = 0; i < rep->n && !rc; i++) {
        if (m[i].what == LEAK_NONE)
            continue;
        if (!seen_before(m, i))
            rc = handle_match(call, &m[i], &rep->items[i], who);
        (*matched)++;
        if (org_id && strcmp(m[i].org_id, org_id) == 0)
            (*in_org)++;
    }
    free(m);
    return rc;
}

void keyhold_leaks_report(struct api_call *call)
{
    struct reporter who;
    struct leak_report rep;
    int authenticated;
    char err[256];
    if (call->req->body_len > LEAK_MAX_BODY) {
        reply_error(call, 413, "The report is larger than %d bytes: send it in parts", LEAK_MAX_BODY);
        return;
    }
    if (reporter_or_reply(call, &who, &authenticated))
        return;
    if (leak_report_parse(call->req->body, call->req->body_len, &rep, err, sizeof err)) {
        leak_report_free(&rep);
        reply_error(call, 400, "%s", err);
        return;
    }
    int64_t matched = 0, in_org = 0;
    int rc = process(call, &rep, &who, authenticated ? call->who.org_id : NULL, &matched, &in_org);
    struct store_leak_report lr = {.received_at = call->now, .entries = (int64_t)rep.n, .matched = matched};
    uuid_generate_ordered(lr.id, call->now);
    snprintf(lr.reporter, sizeof lr.reporter, "%s", who.name);
    if (!rc)
        rc = store_leak_report_insert(call->env->store, &lr);
    log_info("leak report %s from %s: %zu entries", lr.id, who.name, rep.n); /* never how many matched */
    leak_report_free(&rep);
    if (rc) {
        reply_store_error(call, rc);
    } else if (!authenticated) {
        /* GitHub's format for "no feedback": the same answer whatever matched. */
        reply_json_text(call, 200, xstrdup("[]"));
    } else {
        reply_json(call, 202,
                   json_pack("{s:{s:s,s:s,s:{s:o,s:I,s:I}}}", "data", "id", lr.id, "type", "leak_reports",
                             "attributes", "received_at", render_rfc3339(call->now, 0), "entries",
                             (json_int_t)lr.entries, "matched_in_org", (json_int_t)in_org));
    }
}

/* ---- GET /api/v2/keyhold/leaks ---- */

/* Whether the caller may see leaks of this kind: the permission that lists
 * such credentials across the org. */
static int may_see(const struct api_call *call, const char *kind)
{
    return strcmp(kind, "api_key") == 0 ? api_has_perm(call, PERM_API_KEYS_READ)
                                        : api_has_perm(call, PERM_ORG_APP_KEYS_READ);
}

void keyhold_leaks_list(struct api_call *call)
{
    struct store_leak_list list;
    if (!api_has_perm(call, PERM_API_KEYS_READ) && !api_has_perm(call, PERM_ORG_APP_KEYS_READ)) {
        reply_error(call, 403, "Forbidden: listing leaked credentials needs api_keys_read (API keys) or "
                               "org_app_keys_read (application keys and tokens)");
        return;
    }
    int rc = store_leak_list(call->env->store, call->who.org_id, NULL, NULL, LEAK_LIST_MAX, &list);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < list.n; i++) {
        const struct store_leak *l = &list.items[i];
        if (!may_see(call, l->kind))
            continue;
        json_array_append_new(
            data, json_pack("{s:s,s:s,s:{s:s,s:s,s:o,s:o,s:I,s:o,s:o,s:s}}", "id", l->credential_id, "type",
                            "credential_leaks", "attributes", "credential_type", l->kind, "action", l->action,
                            "leaked_at", render_rfc3339(l->leaked_at, 0), "last_reported_at",
                            render_rfc3339(l->last_reported_at, 0), "reports", (json_int_t)l->reports, "url",
                            l->url ? json_string(l->url) : json_null(), "source",
                            l->source ? json_string(l->source) : json_null(), "reporter", l->reporter));
    }
    store_leak_list_free(&list);
    reply_json(call, 200, json_pack("{s:o}", "data", data));
}

/* ---- leaked keys on Datadog's key routes ----
 * A key quarantined after a report is shown as Datadog shows a leaked key:
 * its relationships.leak_information names a leaked_keys resource, which
 * `included` holds (LeakedKey: date, leak_source). */

void leaks_quarantined(struct api_call *call, const char *kind, struct store_leak_list *out)
{
    if (store_leak_list(call->env->store, call->who.org_id, kind, "quarantined", LEAK_LIST_MAX, out))
        memset(out, 0, sizeof *out); /* a flag missing from one answer rather than no answer */
}

int leaks_quarantined_one(struct api_call *call, const char *id, struct store_leak *out)
{
    int found = store_leak_get(call->env->store, id, out) == KH_OK && strcmp(out->org_id, call->who.org_id) == 0 &&
                strcmp(out->action, "quarantined") == 0;
    if (!found)
        store_leak_clear(out);
    return found;
}

const struct store_leak *leaks_find(const struct store_leak_list *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].credential_id, id) == 0)
            return &l->items[i];
    return NULL;
}

const char *leak_source_of(const struct store_leak *l)
{
    return l->url ? l->url : l->source ? l->source : l->reporter;
}

json_t *render_leaked_key(const struct store_leak *l)
{
    return json_pack("{s:s,s:s,s:{s:o,s:s}}", "id", l->credential_id, "type", "leaked_keys", "attributes", "date",
                     render_iso_time(l->leaked_at), "leak_source", leak_source_of(l));
}

/* ---- the policy ---- */

static void reply_policy(struct api_call *call, int status, const struct store_leak_policy *p, int set)
{
    reply_json(call, status,
               json_pack("{s:{s:s,s:s,s:{s:s,s:b,s:o,s:o}}}", "data", "id", p->org_id, "type", "leak_policies",
                         "attributes", "policy", p->policy, "default", !set, "modified_at",
                         set ? render_rfc3339(p->modified_at, 0) : json_null(), "modified_by",
                         set && p->modified_by[0] ? json_string(p->modified_by) : json_null()));
}

void keyhold_leak_policy_get(struct api_call *call)
{
    struct store_leak_policy p;
    int set;
    if (require_any_perm_or_reply(call, PERM_ORG_MANAGEMENT, PERM_API_KEYS_READ))
        return;
    int rc = policy_of(call->env->store, call->who.org_id, &p, &set);
    if (rc)
        reply_store_error(call, rc);
    else
        reply_policy(call, 200, &p, set);
}

/* Reads {"data":{"type":"leak_policies","attributes":{"policy":"revoke"|"quarantine"}}}. */
static int policy_body_or_reply(struct api_call *call, char policy[16])
{
    static const char *const data_keys[] = {"type", "id", "attributes", NULL};
    static const char *const attr_keys[] = {"policy", NULL};
    struct jx jx = {0};
    json_t *root = body_or_reply(call, &jx);
    if (!root)
        return -1;
    json_t *data = jx_obj(&jx, root, "", "data", 1);
    if (data) {
        jx_only(&jx, data, data_keys);
        jx_type(&jx, data, "data", "leak_policies");
    }
    json_t *attrs = data ? jx_obj(&jx, data, "data", "attributes", 1) : NULL;
    if (attrs)
        jx_only(&jx, attrs, attr_keys);
    const char *v = attrs ? jx_str(&jx, attrs, "data.attributes", "policy", 1, 1, 32) : NULL;
    if (!jx.failed && v && strcmp(v, POLICY_REVOKE) != 0 && strcmp(v, POLICY_QUARANTINE) != 0)
        jx_fail(&jx, "Field 'data.attributes.policy' must be \"revoke\" or \"quarantine\"");
    if (!jx.failed)
        snprintf(policy, 16, "%s", v);
    json_decref(root);
    if (jx.failed) {
        reply_jx(call, &jx);
        return -1;
    }
    return 0;
}

void keyhold_leak_policy_update(struct api_call *call)
{
    struct store_leak_policy p;
    if (require_perm_or_reply(call, PERM_ORG_MANAGEMENT))
        return;
    memset(&p, 0, sizeof p);
    if (policy_body_or_reply(call, p.policy))
        return;
    snprintf(p.org_id, sizeof p.org_id, "%s", call->who.org_id);
    snprintf(p.modified_by, sizeof p.modified_by, "%s", call->who.user_id);
    p.modified_at = call->now;
    int rc = store_leak_policy_set(call->env->store, &p);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    api_audit(call, "updated", "leak_policy", call->who.org_id);
    reply_policy(call, 200, &p, 1);
}
