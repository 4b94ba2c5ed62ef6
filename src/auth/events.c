/* events.c - credential events into the webhook outbox (events.h). */
#include "auth/events.h"

#include "auth/lifecycle.h"

#include "util/clock.h"
#include "util/log.h"
#include "util/uuid.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define DAY_US (86400 * 1000000LL)
#define EXPIRY_SCAN_BATCH 200
/* How long before its "disabled" audit event a disabling may have ended
 * the user's credentials (the CLI audits a moment after it disables). */
#define DISABLE_WINDOW_US (5 * 1000000LL) /* warnings of one kind per scan; the rest wait for the next */

static const char *const type_names[EVENT_TYPE_COUNT] = {
    [EVENT_CREATED] = "credential.created",
    [EVENT_ROTATED] = "credential.rotated",
    [EVENT_REVOKED] = "credential.revoked",
    [EVENT_LEAKED] = "credential.leaked",
    [EVENT_EXPIRING_7D] = "credential.expiring_in_7_days",
    [EVENT_EXPIRING_1D] = "credential.expiring_in_1_day",
    [EVENT_EXPIRED] = "credential.expired",
};

const char *event_type_name(int type)
{
    return type >= 0 && type < EVENT_TYPE_COUNT ? type_names[type] : NULL;
}

int event_type_parse(const char *name)
{
    for (int i = 0; i < EVENT_TYPE_COUNT; i++)
        if (strcmp(name, type_names[i]) == 0)
            return i;
    return -1;
}

static json_t *time_or_null(int64_t us)
{
    char buf[CLOCK_BUF];
    if (!us)
        return json_null();
    clock_format_rfc3339(us, 0, buf);
    return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
    json_t *j = s && *s ? json_string(s) : NULL;
    return j ? j : json_null(); /* NULL too for text that is not UTF-8 */
}

/* The event's JSON: what docs/api/webhooks.md shows, and nothing secret. */
static char *event_body(const char *event_id, int type, const struct event_credential *c, int64_t now)
{
    json_t *cred = json_pack("{s:s,s:s,s:o,s:o,s:o}", "id", c->id, "kind", c->kind, "name", str_or_null(c->name),
                             "owner_id", str_or_null(c->owner_id), "expires_at", time_or_null(c->expires_at));
    json_t *body = json_pack("{s:s,s:s,s:o,s:s,s:{s:o,s:o}}", "id", event_id, "type", type_names[type], "created_at",
                             time_or_null(now), "org_id", c->org_id, "data", "credential", cred, "actor_id",
                             str_or_null(c->actor_id));
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        abort(); /* jansson fails only on allocation failure; ids and kinds are ASCII */
    return text;
}

int events_emit(struct store *st, int type, const struct event_credential *c, int64_t now)
{
    char id[UUID_STR];
    if (type < 0 || type >= EVENT_TYPE_COUNT || !c->org_id || !c->id || !c->kind)
        return KH_EINVAL;
    uuid_generate(id);
    char *body = event_body(id, type, c, now);
    struct store_event e = {
        .id = id, .org_id = c->org_id, .type = type_names[type], .mask = EVENT_MASK(type), .body = body, .at = now};
    int64_t fanned = 0;
    int rc = store_event_enqueue(st, &e, &fanned);
    if (rc)
        log_error("webhooks: could not enqueue %s of %s %s", type_names[type], c->kind, c->id);
    else if (fanned)
        log_debug("webhooks: %s of %s %s for %lld webhook(s)", type_names[type], c->kind, c->id, (long long)fanned);
    free(body);
    return rc;
}

/* ---- from the audit trail ---- */

static int audit_type(const char *action)
{
    static const struct {
        const char *action;
        int type;
    } map[] = {
        {"created", EVENT_CREATED}, {"rotated", EVENT_ROTATED}, {"revoked", EVENT_REVOKED},
        {"deleted", EVENT_REVOKED}, {"leaked", EVENT_LEAKED},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(action, map[i].action) == 0)
            return map[i].type;
    return -1;
}

/* Emits with what the store still holds of the credential. */
static int emit_token(struct store *st, int type, const struct store_audit *e, struct event_credential *c)
{
    struct store_token t;
    int rc = store_token_get(st, e->target_id, &t);
    if (rc == KH_OK && strcmp(t.org_id, e->org_id) == 0) {
        c->name = t.name;
        c->owner_id = t.owner_id;
        c->expires_at = t.expires_at;
    } else if (rc != KH_OK && rc != KH_ENOTFOUND) {
        return rc;
    }
    rc = events_emit(st, type, c, e->at);
    store_token_clear(&t);
    return rc;
}

/* A deleted key's name and owner, as the history keeps them (*gone owns
 * them; nothing when the history has none). */
static int from_history(struct store *st, const struct store_audit *e, struct event_credential *c,
                        struct store_ended *gone)
{
    int rc = store_ended_get(st, e->org_id, e->target_id, gone);
    if (rc == KH_OK) {
        c->name = gone->name;
        c->owner_id = gone->owner_id[0] ? gone->owner_id : NULL;
    }
    return rc == KH_ENOTFOUND ? KH_OK : rc;
}

static int emit_api_key(struct store *st, int type, const struct store_audit *e, struct event_credential *c)
{
    struct store_api_key k;
    int rc = store_api_key_get(st, e->org_id, e->target_id, &k);
    struct store_ended gone;
    memset(&gone, 0, sizeof gone);
    if (rc == KH_OK) {
        c->name = k.name;
        c->owner_id = k.created_by; /* API keys belong to the org: who made it */
    } else if (rc == KH_ENOTFOUND && (rc = from_history(st, e, c, &gone)) != KH_OK) {
        return rc;
    } else if (rc != KH_OK && rc != KH_ENOTFOUND) {
        return rc;
    }
    rc = events_emit(st, type, c, e->at);
    store_api_key_clear(&k);
    store_ended_clear(&gone);
    return rc;
}

static int emit_app_key(struct store *st, int type, const struct store_audit *e, struct event_credential *c)
{
    struct store_app_key k;
    int rc = store_app_key_get(st, e->org_id, e->target_id, &k);
    struct store_ended gone;
    memset(&gone, 0, sizeof gone);
    if (rc == KH_OK) {
        c->name = k.name;
        c->owner_id = k.owner_id;
    } else if (rc == KH_ENOTFOUND && (rc = from_history(st, e, c, &gone)) != KH_OK) {
        return rc;
    } else if (rc != KH_OK && rc != KH_ENOTFOUND) {
        return rc;
    }
    rc = events_emit(st, type, c, e->at);
    store_app_key_clear(&k);
    store_ended_clear(&gone);
    return rc;
}

/* A user disabled: each credential the disabling ended is revoked. */
static int emit_disabled(struct store *st, const struct store_audit *e)
{
    struct store_ended_list l;
    int64_t subscribed = 0;
    int rc = store_webhook_subscribed(st, e->org_id, EVENT_MASK(EVENT_REVOKED), &subscribed);
    if (rc || !subscribed)
        return rc;
    rc = store_ended_by_owner(st, e->org_id, e->target_id, e->at - DISABLE_WINDOW_US, e->at, LIFECYCLE_OWNER_DISABLED,
                              &l);
    for (size_t i = 0; !rc && i < l.n; i++) {
        struct event_credential c = {.org_id = e->org_id, .id = l.items[i].id, .kind = l.items[i].kind,
                                     .name = l.items[i].name, .owner_id = l.items[i].owner_id,
                                     .expires_at = l.items[i].expires_at, .actor_id = e->actor_id};
        rc = events_emit(st, EVENT_REVOKED, &c, e->at);
    }
    store_ended_list_free(&l);
    return rc;
}

int events_from_audit(struct store *st, const struct store_audit *e)
{
    int type = audit_type(e->action);
    int64_t subscribed = 0;
    if (strcmp(e->action, "disabled") == 0 && strcmp(e->target_kind, "user") == 0 &&
        uuid_valid(e->target_id, strlen(e->target_id)))
        return emit_disabled(st, e);
    if (type < 0 || !uuid_valid(e->target_id, strlen(e->target_id)))
        return KH_OK;
    /* Most orgs have no webhook: one read, and no lookup of the credential. */
    int rc = store_webhook_subscribed(st, e->org_id, EVENT_MASK(type), &subscribed);
    if (rc || !subscribed)
        return rc;
    struct event_credential c = {.org_id = e->org_id, .id = e->target_id, .kind = e->target_kind,
                                 .actor_id = e->actor_id};
    if (strcmp(e->target_kind, "personal_access_token") == 0 || strcmp(e->target_kind, "service_access_token") == 0)
        return emit_token(st, type, e, &c);
    if (strcmp(e->target_kind, "api_key") == 0)
        return emit_api_key(st, type, e, &c);
    if (strcmp(e->target_kind, "application_key") == 0)
        return emit_app_key(st, type, e, &c);
    return KH_OK; /* users, roles, ...: not credentials */
}

/* ---- expiry warnings ---- */

static const char *token_kind(int kind)
{
    return kind == STORE_TOKEN_SAT ? "service_access_token" : "personal_access_token";
}

static int scan_one(struct store *st, int notice, int type, int64_t from, int64_t to, int64_t now, int *n)
{
    struct store_token_list l;
    int rc = store_expiry_candidates(st, notice, EVENT_MASK(type), from, to, EXPIRY_SCAN_BATCH, &l);
    for (size_t i = 0; !rc && i < l.n; i++) {
        const struct store_token *t = &l.items[i];
        int inserted = 0;
        rc = store_expiry_notice_put(st, t->id, notice, now, &inserted);
        if (rc || !inserted)
            continue; /* another node warned first */
        struct event_credential c = {.org_id = t->org_id, .id = t->id, .kind = token_kind(t->kind),
                                     .name = t->name, .owner_id = t->owner_id, .expires_at = t->expires_at};
        rc = events_emit(st, type, &c, now);
        if (!rc)
            (*n)++;
    }
    store_token_list_free(&l);
    return rc;
}

int events_expiry_scan(struct store *st, int64_t now, int *n)
{
    *n = 0;
    /* The most urgent first; a token within a day gets the 1-day warning
     * only (the 7-day window starts after a day). Expired tokens are warned
     * within 7 days of their expiry: older ones (a store upgraded, a server
     * down that long) are not announced late. */
    int rc = scan_one(st, STORE_NOTICE_EXPIRED, EVENT_EXPIRED, now - 7 * DAY_US, now, now, n);
    if (!rc)
        rc = scan_one(st, STORE_NOTICE_1D, EVENT_EXPIRING_1D, now, now + DAY_US, now, n);
    if (!rc)
        rc = scan_one(st, STORE_NOTICE_7D, EVENT_EXPIRING_7D, now + DAY_US, now + 7 * DAY_US, now, n);
    return rc;
}
