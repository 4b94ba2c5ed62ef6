/* test_events.c - webhooks' store functions and credential events
 * (auth/events.h, store.h webhook_*, event_enqueue, delivery_*, expiry_*),
 * on SQLite and (KEYHOLD_TEST_PG) PostgreSQL: an event reaches exactly the
 * enabled webhooks of its org subscribed to it; a claimed delivery is
 * leased (a second claimer gets nothing until the lease ends, and the
 * first then cannot record); recorded outcomes and released leases; the
 * delivery log; expiry warnings once each; events from audit events carry
 * names but nothing secret. */
#include "test.h"

#include "auth/events.h"
#include "auth/lifecycle.h"
#include "fixture.h"
#include "util/clock.h"
#include "util/uuid.h"
#include "util/xmalloc.h"

static const char *const other_org = "0a0a0a0a-0000-4000-8000-000000000002";
#define T0 1764619200000000LL
#define HOUR (3600 * 1000000LL)

static void add_webhook(struct fixture *f, const char *org, int64_t events, int enabled, char id[UUID_STR])
{
    struct store_webhook w = {.events = events, .enabled = enabled, .created_at = T0, .modified_at = T0};
    uint8_t sealed[40] = {1, 2, 3};
    uuid_generate(w.id);
    snprintf(w.org_id, sizeof w.org_id, "%s", org);
    w.name = "hook";
    w.url = "https://hooks.example.com/in";
    w.secret.sealed = sealed;
    w.secret.sealed_len = sizeof sealed;
    w.secret.secret_version = 1;
    CHECK_INT(store_webhook_insert(f->st, &w), KH_OK);
    snprintf(id, UUID_STR, "%s", w.id);
}

static int64_t enqueue(struct fixture *f, const char *org, int type, int64_t at)
{
    char id[UUID_STR];
    int64_t n = -1;
    uuid_generate(id);
    struct store_event e = {.id = id, .org_id = org, .type = event_type_name(type), .mask = EVENT_MASK(type),
                            .body = "{}", .at = at};
    CHECK_INT(store_event_enqueue(f->st, &e, &n), KH_OK);
    return n;
}

static void an_event_reaches_the_subscribed_enabled_webhooks_of_its_org(void)
{
    struct fixture f;
    char all[UUID_STR], revoked_only[UUID_STR], off[UUID_STR], elsewhere[UUID_STR];
    fixture_open(&f);
    add_webhook(&f, f.admin.org_id, EVENT_MASK_ALL, 1, all);
    add_webhook(&f, f.admin.org_id, EVENT_MASK(EVENT_REVOKED), 1, revoked_only);
    add_webhook(&f, f.admin.org_id, EVENT_MASK_ALL, 0, off);
    add_webhook(&f, other_org, EVENT_MASK_ALL, 1, elsewhere);
    CHECK_INT(enqueue(&f, f.admin.org_id, EVENT_CREATED, T0), 1);
    CHECK_INT(enqueue(&f, f.admin.org_id, EVENT_REVOKED, T0), 2);
    CHECK_INT(enqueue(&f, "0a0a0a0a-0000-4000-8000-00000000ffff", EVENT_REVOKED, T0), 0);
    struct store_page page = {.limit = 10, .offset = 0};
    struct store_delivery_list l;
    CHECK_INT(store_delivery_list(f.st, all, &page, &l), KH_OK);
    CHECK_INT(l.total, 2);
    store_delivery_list_free(&l);
    CHECK_INT(store_delivery_list(f.st, revoked_only, &page, &l), KH_OK);
    CHECK_INT(l.total, 1);
    CHECK_STR(l.n ? l.items[0].event_type : NULL, "credential.revoked");
    store_delivery_list_free(&l);
    CHECK_INT(store_delivery_list(f.st, off, &page, &l), KH_OK);
    CHECK_INT(l.total, 0);
    store_delivery_list_free(&l);
    /* update and delete (the delete takes the outbox rows with it) */
    struct store_webhook w;
    CHECK_INT(store_webhook_get(f.st, f.admin.org_id, off, &w), KH_OK);
    w.enabled = 1;
    CHECK_INT(store_webhook_update(f.st, &w), KH_OK);
    store_webhook_clear(&w);
    CHECK_INT(store_webhook_get(f.st, other_org, off, &w), KH_ENOTFOUND);
    CHECK_INT(enqueue(&f, f.admin.org_id, EVENT_CREATED, T0), 2);
    CHECK_INT(store_webhook_delete(f.st, f.admin.org_id, all), KH_OK);
    CHECK_INT(store_webhook_delete(f.st, f.admin.org_id, all), KH_ENOTFOUND);
    CHECK_INT(store_delivery_list(f.st, all, &page, &l), KH_OK);
    CHECK_INT(l.total, 0);
    store_delivery_list_free(&l);
    struct store_webhook_list wl;
    CHECK_INT(store_webhook_list(f.st, f.admin.org_id, &page, &wl), KH_OK);
    CHECK_INT(wl.total, 2);
    store_webhook_list_free(&wl);
    fixture_close(&f);
}

static struct store_delivery_outcome outcome_of(const struct store_delivery *d, int state, int64_t at, int status)
{
    struct store_delivery_outcome o = {.state = state, .next_attempt_at = at + HOUR};
    snprintf(o.attempt.webhook_id, sizeof o.attempt.webhook_id, "%s", d->webhook_id);
    snprintf(o.attempt.event_id, sizeof o.attempt.event_id, "%s", d->event_id);
    o.attempt.attempt = d->attempts + 1;
    o.attempt.at = at;
    o.attempt.status_code = status;
    o.attempt.error = state == STORE_DELIVERY_DELIVERED ? NULL : "the receiver answered 500";
    o.attempt.duration_ms = 3;
    return o;
}

static void a_claimed_delivery_is_leased_until_recorded_or_released(void)
{
    struct fixture f;
    char hook[UUID_STR];
    struct store_delivery_list a, b;
    fixture_open(&f);
    add_webhook(&f, f.admin.org_id, EVENT_MASK_ALL, 1, hook);
    for (int i = 0; i < 3; i++)
        enqueue(&f, f.admin.org_id, EVENT_CREATED, T0 + i);
    /* not due yet */
    CHECK_INT(store_delivery_claim(f.st, T0 - 1, T0 + HOUR, "lease-a", 8, &a), KH_OK);
    CHECK_INT(a.n, 0);
    store_delivery_list_free(&a);
    CHECK_INT(store_delivery_claim(f.st, T0 + 10, T0 + HOUR, "lease-a", 2, &a), KH_OK);
    CHECK_INT(a.n, 2);
    CHECK_STR(a.n ? a.items[0].url : NULL, "https://hooks.example.com/in");
    CHECK_INT(a.n ? (long long)a.items[0].secret.sealed_len : 0, 40);
    /* another claimer gets only the one left, then nothing */
    CHECK_INT(store_delivery_claim(f.st, T0 + 20, T0 + HOUR, "lease-b", 8, &b), KH_OK);
    CHECK_INT(b.n, 1);
    store_delivery_list_free(&b);
    CHECK_INT(store_delivery_claim(f.st, T0 + 30, T0 + HOUR, "lease-c", 8, &b), KH_OK);
    CHECK_INT(b.n, 0);
    store_delivery_list_free(&b);
    /* the first is delivered, the second fails (due again in an hour) */
    struct store_delivery_outcome o1 = outcome_of(&a.items[0], STORE_DELIVERY_DELIVERED, T0 + 40, 200);
    struct store_delivery_outcome o2 = outcome_of(&a.items[1], STORE_DELIVERY_PENDING, T0 + 40, 500);
    CHECK_INT(store_delivery_record(f.st, "lease-a", &o1), KH_OK);
    CHECK_INT(store_delivery_record(f.st, "lease-a", &o2), KH_OK);
    /* recorded once: the lease is given back with the record */
    CHECK_INT(store_delivery_record(f.st, "lease-a", &o2), KH_ENOTFOUND);
    store_delivery_list_free(&a);
    /* once lease-b's lease ran out, its delivery is claimed again; the
     * failed one waits for its next attempt time */
    CHECK_INT(store_delivery_claim(f.st, T0 + HOUR, T0 + 2 * HOUR, "lease-d", 8, &a), KH_OK);
    CHECK_INT(a.n, 1);
    store_delivery_list_free(&a);
    CHECK_INT(store_delivery_claim(f.st, T0 + HOUR + 41, T0 + 2 * HOUR, "lease-e", 8, &a), KH_OK);
    CHECK_INT(a.n, 1);
    CHECK_INT(a.n ? a.items[0].attempts : -1, 1);
    /* released: due again at once for anyone */
    CHECK_INT(store_delivery_release(f.st, "lease-e"), KH_OK);
    store_delivery_list_free(&a);
    CHECK_INT(store_delivery_claim(f.st, T0 + HOUR + 42, T0 + 2 * HOUR, "lease-f", 8, &a), KH_OK);
    CHECK_INT(a.n, 1);
    store_delivery_list_free(&a);
    /* the log */
    struct store_page page = {.limit = 10, .offset = 0};
    struct store_attempt_list log;
    CHECK_INT(store_attempt_list(f.st, hook, &page, &log), KH_OK);
    CHECK_INT(log.n, 2);
    int delivered = 0, failed = 0;
    for (size_t i = 0; i < log.n; i++) {
        delivered += log.items[i].status_code == 200 && !log.items[i].error;
        failed += log.items[i].status_code == 500 && log.items[i].error;
    }
    CHECK_INT(delivered, 1);
    CHECK_INT(failed, 1);
    store_attempt_list_free(&log);
    /* finished deliveries are forgotten after the retention, pending ones never */
    CHECK_INT(store_webhook_prune(f.st, T0 + 10 * HOUR), KH_OK);
    struct store_delivery_list left;
    CHECK_INT(store_delivery_list(f.st, hook, &page, &left), KH_OK);
    CHECK_INT(left.total, 2);
    store_delivery_list_free(&left);
    fixture_close(&f);
}

static void add_token(struct fixture *f, const char *name, int64_t expires_at, char id[UUID_STR])
{
    struct store_token t = {.kind = STORE_TOKEN_PAT, .created_at = T0, .modified_at = T0, .expires_at = expires_at,
                            .secret_version = 1};
    uuid_generate(t.id);
    snprintf(t.org_id, sizeof t.org_id, "%s", f->admin.org_id);
    snprintf(t.owner_id, sizeof t.owner_id, "%s", f->admin.user_id);
    t.name = (char *)name;
    t.scopes = "[]";
    memset(t.secret_hash, 7, sizeof t.secret_hash);
    CHECK_INT(store_token_insert(f->st, &t), KH_OK);
    snprintf(id, UUID_STR, "%s", t.id);
}

static void expiry_warnings_are_sent_once_each(void)
{
    struct fixture f;
    char hook[UUID_STR], created_only[UUID_STR], soon[UUID_STR], later[UUID_STR], gone[UUID_STR], far[UUID_STR];
    int n = -1;
    int64_t now = clock_now_us();
    fixture_open(&f);
    add_token(&f, "soon", now + 12 * HOUR, soon);
    add_token(&f, "later", now + 72 * HOUR, later);
    add_token(&f, "gone", now - HOUR, gone);
    add_token(&f, "far", now + 30 * 24 * HOUR, far);
    /* an org without webhooks is not warned (nor recorded) */
    CHECK_INT(events_expiry_scan(f.st, now, &n), KH_OK);
    CHECK_INT(n, 0);
    /* nor one whose webhooks want other events: nothing is recorded sent */
    add_webhook(&f, f.admin.org_id, EVENT_MASK(EVENT_CREATED), 1, created_only);
    CHECK_INT(events_expiry_scan(f.st, now, &n), KH_OK);
    CHECK_INT(n, 0);
    add_webhook(&f, f.admin.org_id, EVENT_MASK_ALL, 1, hook);
    CHECK_INT(events_expiry_scan(f.st, now, &n), KH_OK);
    CHECK_INT(n, 3);
    CHECK_INT(events_expiry_scan(f.st, now + 1000, &n), KH_OK);
    CHECK_INT(n, 0);
    struct store_page page = {.limit = 10, .offset = 0};
    struct store_delivery_list l;
    CHECK_INT(store_delivery_list(f.st, hook, &page, &l), KH_OK);
    int seen = 0;
    for (size_t i = 0; i < l.n; i++) {
        const struct store_delivery *d = &l.items[i];
        if (strstr(d->body, soon))
            {
            seen |= 1;
            CHECK_STR(d->event_type, "credential.expiring_in_1_day");
        }
        if (strstr(d->body, later))
            {
            seen |= 2;
            CHECK_STR(d->event_type, "credential.expiring_in_7_days");
        }
        if (strstr(d->body, gone))
            {
            seen |= 4;
            CHECK_STR(d->event_type, "credential.expired");
        }
        CHECK(strstr(d->body, far) == NULL);
        CHECK(strstr(d->body, "\"actor_id\":null") != NULL);
    }
    CHECK_INT(seen, 7);
    store_delivery_list_free(&l);
    /* two days on, "later" is within a day, and "soon" has expired */
    CHECK_INT(events_expiry_scan(f.st, now + 48 * HOUR + 1000, &n), KH_OK);
    CHECK_INT(n, 2);
    fixture_close(&f);
}

static void an_audited_credential_change_emits_its_event_without_secrets(void)
{
    struct fixture f;
    char hook[UUID_STR], tok[UUID_STR];
    fixture_open(&f);
    add_webhook(&f, f.admin.org_id, EVENT_MASK_ALL, 1, hook);
    add_token(&f, "deploy bot", T0 + 48 * HOUR, tok);
    struct store_audit e = {.at = T0};
    snprintf(e.org_id, sizeof e.org_id, "%s", f.admin.org_id);
    snprintf(e.actor_id, sizeof e.actor_id, "%s", f.admin.user_id);
    snprintf(e.action, sizeof e.action, "revoked");
    snprintf(e.target_kind, sizeof e.target_kind, "personal_access_token");
    snprintf(e.target_id, sizeof e.target_id, "%s", tok);
    CHECK_INT(events_from_audit(f.st, &e), KH_OK);
    /* not a credential: no event */
    snprintf(e.target_kind, sizeof e.target_kind, "role");
    CHECK_INT(events_from_audit(f.st, &e), KH_OK);
    /* an API key deleted: its id and kind only */
    snprintf(e.target_kind, sizeof e.target_kind, "api_key");
    snprintf(e.action, sizeof e.action, "deleted");
    snprintf(e.target_id, sizeof e.target_id, "0a0a0a0a-0000-4000-8000-0000000000aa");
    CHECK_INT(events_from_audit(f.st, &e), KH_OK);
    struct store_page page = {.limit = 10, .offset = 0};
    struct store_delivery_list l;
    CHECK_INT(store_delivery_list(f.st, hook, &page, &l), KH_OK);
    CHECK_INT(l.n, 2);
    for (size_t i = 0; i < l.n; i++) {
        const char *b = l.items[i].body;
        CHECK_STR(l.items[i].event_type, "credential.revoked");
        CHECK(strstr(b, "secret") == NULL && strstr(b, "hash") == NULL && strstr(b, "0707") == NULL);
        if (strstr(b, tok)) {
            CHECK(strstr(b, "\"name\":\"deploy bot\"") != NULL);
            CHECK(strstr(b, f.admin.user_id) != NULL);
        } else {
            CHECK(strstr(b, "\"kind\":\"api_key\"") != NULL);
            CHECK(strstr(b, "\"name\":null") != NULL);
        }
    }
    store_delivery_list_free(&l);
    fixture_close(&f);
}

static void a_disabled_user_s_credentials_are_each_revoked(void)
{
    struct fixture f;
    char hook[UUID_STR], tok[UUID_STR];
    struct store_user u;
    fixture_open(&f);
    add_webhook(&f, f.admin.org_id, EVENT_MASK(EVENT_REVOKED), 1, hook);
    add_token(&f, "owned", T0 + 48 * HOUR, tok);
    CHECK_INT(store_user_get(f.st, f.admin.org_id, f.admin.user_id, &u), KH_OK);
    CHECK_INT(lifecycle_disable_user(f.st, &u, T0 + 10, "operator"), KH_OK);
    store_user_clear(&u);
    struct store_audit e = {.at = T0 + 20};
    snprintf(e.org_id, sizeof e.org_id, "%s", f.admin.org_id);
    snprintf(e.actor_id, sizeof e.actor_id, "operator");
    snprintf(e.action, sizeof e.action, "disabled");
    snprintf(e.target_kind, sizeof e.target_kind, "user");
    snprintf(e.target_id, sizeof e.target_id, "%s", f.admin.user_id);
    CHECK_INT(events_from_audit(f.st, &e), KH_OK);
    struct store_page page = {.limit = 10, .offset = 0};
    struct store_delivery_list l;
    CHECK_INT(store_delivery_list(f.st, hook, &page, &l), KH_OK);
    int token = 0, app_key = 0;
    for (size_t i = 0; i < l.n; i++) {
        CHECK_STR(l.items[i].event_type, "credential.revoked");
        token += strstr(l.items[i].body, tok) != NULL;
        app_key += strstr(l.items[i].body, f.admin.app_key_id) != NULL &&
                   strstr(l.items[i].body, "\"kind\":\"application_key\"") != NULL;
    }
    CHECK_INT(token, 1);
    CHECK_INT(app_key, 1);
    store_delivery_list_free(&l);
    /* much later, a second "disabled" finds nothing more to revoke */
    e.at = T0 + HOUR;
    CHECK_INT(events_from_audit(f.st, &e), KH_OK);
    CHECK_INT(store_delivery_list(f.st, hook, &page, &l), KH_OK);
    CHECK_INT(l.total, 2);
    store_delivery_list_free(&l);
    fixture_close(&f);
}

/* What a write transaction knows of an org's subscriptions is read once and
 * kept while it is open (sql.c): a webhook this transaction adds or
 * deletes is seen at once, and a rolled-back part is forgotten, so no
 * event is lost to a stale answer and none is kept for a webhook that is
 * gone. */
static void subscriptions_kept_in_a_transaction_follow_its_own_changes(void)
{
    struct fixture f;
    char id[UUID_STR];
    int64_t n = -1;
    const int64_t created = EVENT_MASK(EVENT_CREATED), leaked = EVENT_MASK(EVENT_LEAKED);
    fixture_open(&f);
    const char *org = f.admin.org_id;
    CHECK_INT(store_begin(f.st), KH_OK); /* the writer's batch */
    CHECK_INT(store_webhook_subscribed(f.st, org, created, &n), KH_OK);
    CHECK(n == 0);
    CHECK_INT(store_begin(f.st), KH_OK); /* a request adding a webhook */
    add_webhook(&f, org, created, 1, id);
    CHECK_INT(store_webhook_subscribed(f.st, org, created, &n), KH_OK);
    CHECK(n == 1);
    CHECK_INT(store_webhook_subscribed(f.st, org, leaked, &n), KH_OK);
    CHECK(n == 0);
    CHECK_INT(store_commit(f.st), KH_OK);
    CHECK_INT(store_begin(f.st), KH_OK); /* a request deleting it, then rolled back */
    CHECK_INT(store_webhook_delete(f.st, org, id), KH_OK);
    CHECK_INT(store_webhook_subscribed(f.st, org, created, &n), KH_OK);
    CHECK(n == 0);
    CHECK_INT(store_rollback(f.st), KH_OK);
    CHECK_INT(store_webhook_subscribed(f.st, org, created, &n), KH_OK);
    CHECK(n == 1); /* the delete was rolled back: the webhook is there again */
    CHECK_INT(store_webhook_subscribed(f.st, other_org, created, &n), KH_OK);
    CHECK(n == 0); /* another org's answer is its own */
    CHECK_INT(store_webhook_subscribed(f.st, org, created, &n), KH_OK);
    CHECK(n == 1);
    CHECK_INT(store_commit(f.st), KH_OK);
    CHECK_INT(store_webhook_subscribed(f.st, org, created | leaked, &n), KH_OK);
    CHECK(n == 1);
    fixture_close(&f);
}

int main(void)
{
    RUN(an_event_reaches_the_subscribed_enabled_webhooks_of_its_org);
    RUN(a_claimed_delivery_is_leased_until_recorded_or_released);
    RUN(expiry_warnings_are_sent_once_each);
    RUN(an_audited_credential_change_emits_its_event_without_secrets);
    RUN(a_disabled_user_s_credentials_are_each_revoked);
    RUN(subscriptions_kept_in_a_transaction_follow_its_own_changes);
    return TEST_SUMMARY();
}
