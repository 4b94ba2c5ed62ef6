#define _GNU_SOURCE
/* test_auditchain.c - the audit trail's hash chain and signed checkpoints
 * (auth/auditchain.h): an untouched trail verifies; an event changed,
 * deleted, cut off the end, a chain rewritten from some event on, and a
 * forged checkpoint are each found, through the store's own files or
 * tables (as someone with the database but not the secret would), on
 * SQLite and on PostgreSQL. */
#include "test.h"

#include "auth/auditchain.h"
#include "fixture.h"

#include <sqlite3.h>

static const char *const other_org = "0a0a0a0a-0000-4000-8000-000000000001";

/* Runs sql on the store under test behind the store's back. */
static void tamper(struct fixture *f, const char *sql)
{
    if (fixture_pg()) {
        char *both = NULL;
        CHECK(asprintf(&both, "SET search_path TO %s; %s", f->schema, sql) > 0);
        fixture_pg_exec(both);
        free(both);
        return;
    }
    sqlite3 *raw = NULL;
    CHECK_INT(sqlite3_open(f->path, &raw), SQLITE_OK);
    CHECK_INT(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
}

static void add_event(struct fixture *f, const char *org, const char *action, int i)
{
    struct store_audit e = {.at = 1764619200000000LL + i};
    snprintf(e.org_id, sizeof e.org_id, "%s", org);
    snprintf(e.actor_id, sizeof e.actor_id, "%s", f->admin.user_id);
    snprintf(e.action, sizeof e.action, "%s", action);
    snprintf(e.target_kind, sizeof e.target_kind, "personal_access_token");
    snprintf(e.target_id, sizeof e.target_id, "target-%d", i);
    snprintf(e.source, sizeof e.source, "192.0.2.%d", i % 250);
    CHECK_INT(store_audit_insert(f->st, &e), KH_OK);
}

/* Thirteen events in the admin's org, three in another, two of no org. */
static void fill(struct fixture *f)
{
    for (int i = 0; i < 18; i++)
        add_event(f, i % 6 == 1 ? other_org : i % 6 == 4 && i > 9 ? "" : f->admin.org_id, "created", i);
}

static int checkpoint(struct fixture *f)
{
    int written = -1;
    CHECK_INT(auditchain_checkpoint(f->st, &f->secret, 1764619300000000LL, &written), KH_OK);
    return written;
}

static struct auditchain_report verify(struct fixture *f)
{
    struct auditchain_report r;
    CHECK_INT(auditchain_verify(f->st, &f->secret, &r), KH_OK);
    return r;
}

/* The seq of the nth (from 0) event of org, in order. */
static int64_t nth_seq(struct fixture *f, const char *org, int nth)
{
    struct store_audit_list l;
    int64_t seq = 0;
    CHECK_INT(store_audit_walk(f->st, 0, 1000, &l), KH_OK);
    for (size_t i = 0; i < l.n; i++)
        if (strcmp(l.items[i].org_id, org) == 0 && nth-- == 0) {
            seq = l.items[i].seq;
            break;
        }
    store_audit_list_free(&l);
    CHECK(seq > 0);
    return seq;
}

static void an_untouched_trail_verifies(void)
{
    struct fixture f;
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 3);
    CHECK_INT(checkpoint(&f), 0); /* nothing moved since */
    add_event(&f, other_org, "revoked", 100);
    CHECK_INT(checkpoint(&f), 1);
    struct auditchain_report r = verify(&f);
    CHECK_INT(r.broken, 0);
    CHECK(r.events >= 19); /* and what provisioning recorded */
    CHECK_INT(r.orgs, 3);
    CHECK_INT(r.checkpoints, 4);
    CHECK_INT(r.unchained, 0);
    fixture_close(&f);
}

static void a_changed_event_is_found(void)
{
    struct fixture f;
    char sql[160];
    fixture_open(&f);
    fill(&f);
    int64_t seq = nth_seq(&f, other_org, 2);
    snprintf(sql, sizeof sql, "UPDATE audit_events SET source = '203.0.113.9' WHERE seq = %lld", (long long)seq);
    tamper(&f, sql);
    struct auditchain_report r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK_INT(r.broken_seq, seq);
    CHECK_STR(r.broken_org, other_org);
    CHECK(strstr(r.why, "changed") != NULL);
    fixture_close(&f);
}

static void a_deleted_event_is_found_at_the_next(void)
{
    struct fixture f;
    char sql[96];
    fixture_open(&f);
    fill(&f);
    int64_t gone = nth_seq(&f, f.admin.org_id, 3), next = nth_seq(&f, f.admin.org_id, 4);
    snprintf(sql, sizeof sql, "DELETE FROM audit_events WHERE seq = %lld", (long long)gone);
    tamper(&f, sql);
    struct auditchain_report r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK_INT(r.broken_seq, next);
    CHECK(strstr(r.why, "does not follow") != NULL);
    fixture_close(&f);
}

/* The last events of an org deleted and its head put back to match: only
 * the signed checkpoint remembers how long the chain was. */
static void events_cut_off_the_end_are_found(void)
{
    struct fixture f;
    char sql[512];
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 3);
    int64_t from = nth_seq(&f, other_org, 1);
    snprintf(sql, sizeof sql,
             "DELETE FROM audit_events WHERE org_id = '%s' AND seq >= %lld; "
             "UPDATE audit_heads SET count = 1, hash = (SELECT hash FROM audit_events WHERE org_id = '%s') "
             "WHERE org_key = '%s'",
             other_org, (long long)from, other_org, other_org);
    tamper(&f, sql);
    struct auditchain_report r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK_STR(r.broken_org, other_org);
    CHECK(strstr(r.why, "removed from the end") != NULL);
    fixture_close(&f);
}

/* Someone changes an event and recomputes every hash after it, so that
 * every link holds: the checkpoint signed before says otherwise. */
static void a_rewritten_chain_is_caught_by_its_checkpoint(void)
{
    struct fixture f;
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 3);
    struct store_audit_list l;
    CHECK_INT(store_audit_walk(f.st, 0, 1000, &l), KH_OK);
    uint8_t prev[SECRET_HASH_LEN] = {0};
    int seen = 0;
    for (size_t i = 0; i < l.n; i++) {
        struct store_audit *e = &l.items[i];
        if (strcmp(e->org_id, other_org) != 0)
            continue;
        if (seen++ == 1)
            snprintf(e->action, sizeof e->action, "updated");
        memcpy(e->prev_hash, prev, SECRET_HASH_LEN);
        store_audit_hash(e, prev, e->hash);
        memcpy(prev, e->hash, SECRET_HASH_LEN);
        char sql[512], ph[65], h[65];
        for (int b = 0; b < SECRET_HASH_LEN; b++) {
            snprintf(ph + 2 * b, 3, "%02x", e->prev_hash[b]);
            snprintf(h + 2 * b, 3, "%02x", e->hash[b]);
        }
        const char *blob = fixture_pg() ? "'\\x%s'::bytea" : "X'%s'";
        char phv[80], hv[80];
        snprintf(phv, sizeof phv, blob, ph);
        snprintf(hv, sizeof hv, blob, h);
        snprintf(sql, sizeof sql, "UPDATE audit_events SET action = '%s', prev_hash = %s, hash = %s WHERE seq = %lld",
                 e->action, phv, hv, (long long)e->seq);
        tamper(&f, sql);
    }
    store_audit_list_free(&l);
    CHECK_INT(seen, 3);
    struct auditchain_report r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK_STR(r.broken_org, other_org);
    CHECK(strstr(r.why, "rewritten") != NULL);
    fixture_close(&f);
}

static void a_forged_checkpoint_or_another_secret_is_found(void)
{
    struct fixture f;
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 3);
    struct server_secret other;
    uint8_t master[SECRET_KEY_LEN] = {7};
    secret_from_master(master, &other);
    struct auditchain_report r;
    CHECK_INT(auditchain_verify(f.st, &other, &r), KH_OK);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "signature") != NULL);
    CHECK_INT(verify(&f).broken, 0);
    tamper(&f, "UPDATE audit_checkpoints SET count = count - 1");
    r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "signature") != NULL);
    fixture_close(&f);
}

/* Events written before the chain existed (no hashes) are reported, not
 * failed, and chained by their org's next event. */
static void events_from_before_the_chain_are_chained_by_the_next(void)
{
    struct fixture f;
    char sql[512];
    fixture_open(&f);
    for (int i = 0; i < 3; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO audit_events(at, org_id, action, target_kind, target_id) "
                 "VALUES (%d, '%s', 'created', 'api_key', 'old-%d')",
                 1000 + i, other_org, i);
        tamper(&f, sql);
    }
    struct auditchain_report r = verify(&f);
    CHECK_INT(r.broken, 0);
    CHECK_INT(r.unchained, 3);
    add_event(&f, other_org, "revoked", 5);
    r = verify(&f);
    CHECK_INT(r.broken, 0);
    CHECK_INT(r.unchained, 0);
    add_event(&f, f.admin.org_id, "created", 6);
    CHECK(checkpoint(&f) >= 2);
    tamper(&f, "UPDATE audit_events SET target_id = 'old-9' WHERE target_id = 'old-1'");
    r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "changed") != NULL);
    fixture_close(&f);
}

int main(void)
{
    RUN(an_untouched_trail_verifies);
    RUN(a_changed_event_is_found);
    RUN(a_deleted_event_is_found_at_the_next);
    RUN(events_cut_off_the_end_are_found);
    RUN(a_rewritten_chain_is_caught_by_its_checkpoint);
    RUN(a_forged_checkpoint_or_another_secret_is_found);
    RUN(events_from_before_the_chain_are_chained_by_the_next);
    return TEST_SUMMARY();
}
