#define _GNU_SOURCE
/* test_auditchain.c - the audit trail's hash chain and signed checkpoints
 * (auth/auditchain.h): an untouched trail verifies; an event changed,
 * deleted, inserted (with no hash, or a seq below every other), cut off the
 * end, a chain rewritten from some event on, checkpoints removed, changed
 * or forged, a store rolled back, are each found, through the store's own
 * tables (as someone with the database but not the secret would), on SQLite
 * and on PostgreSQL; the signer refuses to sign over a broken link; a
 * pruned secret version is vouched for by a later checkpoint. */
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

static int checkpoint_with(struct fixture *f, const struct server_secret *secret)
{
    int written = -1;
    CHECK_INT(auditchain_checkpoint(f->st, secret, 1764619300000000LL, &written), KH_OK);
    return written;
}

static int checkpoint(struct fixture *f)
{
    return checkpoint_with(f, &f->secret);
}

static struct auditchain_report verify_with(struct fixture *f, const struct server_secret *secret,
                                            const struct auditchain_anchor *anchor)
{
    struct auditchain_report r;
    CHECK_INT(auditchain_verify(f->st, secret, anchor, &r), KH_OK);
    if (r.broken)
        fprintf(stderr, "  (verify: %s)\n", r.why);
    return r;
}

static struct auditchain_report verify(struct fixture *f)
{
    return verify_with(f, &f->secret, NULL);
}

/* The seq of the nth (from 0) event of org, in order. */
static int64_t nth_seq(struct fixture *f, const char *org, int nth)
{
    struct store_audit_list l;
    int64_t seq = 0;
    CHECK_INT(store_audit_walk(f->st, INT64_MIN, 1000, &l), KH_OK);
    for (size_t i = 0; i < l.n; i++)
        if (strcmp(l.items[i].org_id, org) == 0 && nth-- == 0) {
            seq = l.items[i].seq;
            break;
        }
    store_audit_list_free(&l);
    CHECK(seq != 0);
    return seq;
}

static void an_untouched_trail_verifies(void)
{
    struct fixture f;
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 1);
    CHECK_INT(checkpoint(&f), 0); /* nothing new since */
    add_event(&f, other_org, "revoked", 100);
    CHECK_INT(checkpoint(&f), 1);
    struct auditchain_report r = verify(&f);
    CHECK_INT(r.broken, 0);
    CHECK(r.events >= 19); /* and what provisioning recorded */
    CHECK_INT(r.orgs, 3);
    CHECK_INT(r.checkpoints, 2);
    CHECK_INT(r.unsigned_events, 0);
    add_event(&f, other_org, "revoked", 101);
    r = verify(&f);
    CHECK_INT(r.broken, 0);
    CHECK_INT(r.unsigned_events, 1); /* since the newest checkpoint: the window */
    fixture_close(&f);
}

static void a_changed_event_is_found(void)
{
    struct fixture f;
    char sql[160];
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 1);
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

/* Inserted events: with no hash, or numbered below every other event. */
static void inserted_events_are_found(void)
{
    struct fixture f;
    char sql[512];
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 1);
    snprintf(sql, sizeof sql,
             "INSERT INTO audit_events(seq, at, org_id, action, target_kind, target_id) "
             "VALUES (-1, 1, '%s', 'revoked', 'api_key', 'forged')",
             other_org);
    tamper(&f, sql);
    struct auditchain_report r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK_INT(r.broken_seq, -1);
    CHECK(strstr(r.why, "no hash") != NULL);
    tamper(&f, "DELETE FROM audit_events WHERE seq = -1");
    CHECK_INT(verify(&f).broken, 0);
    add_event(&f, other_org, "created", 50);
    snprintf(sql, sizeof sql,
             "INSERT INTO audit_events(at, org_id, action, target_kind, target_id) "
             "VALUES (2, '%s', 'created', 'api_key', 'backdoor')",
             other_org);
    tamper(&f, sql);
    r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "no hash") != NULL);
    fixture_close(&f);
}

/* The last events of an org deleted and its head put back to match: the
 * checkpoint signed before says how long the chain was. */
static void events_cut_off_the_end_are_found(void)
{
    struct fixture f;
    char sql[512];
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 1);
    int64_t from = nth_seq(&f, other_org, 1);
    snprintf(sql, sizeof sql,
             "DELETE FROM audit_events WHERE org_id = '%s' AND seq >= %lld; "
             "UPDATE audit_heads SET count = 1, hash = (SELECT hash FROM audit_events WHERE org_id = '%s') "
             "WHERE org_key = '%s'",
             other_org, (long long)from, other_org, other_org);
    tamper(&f, sql);
    struct auditchain_report r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "differ from what checkpoint 1 signed") != NULL);
    fixture_close(&f);
}

/* The events a checkpoint covers last, removed while later ones exist: the
 * walk must still stop at the checkpoint (it once waited for the events it
 * could not find, for ever). */
static void the_covered_tail_removed_before_later_events_is_found(void)
{
    struct fixture f;
    char sql[256];
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 1);
    struct store_audit_checkpoint c;
    CHECK_INT(store_audit_checkpoint_latest(f.st, &c), KH_OK);
    add_event(&f, other_org, "revoked", 40);
    add_event(&f, f.admin.org_id, "revoked", 41);
    snprintf(sql, sizeof sql, "DELETE FROM audit_events WHERE seq > %lld AND seq <= %lld", (long long)c.max_seq - 2,
             (long long)c.max_seq);
    tamper(&f, sql);
    struct auditchain_report r = verify(&f);
    CHECK_INT(r.broken, 1);
    store_audit_checkpoint_clear(&c);
    fixture_close(&f);
}

/* Recomputes the hashes of org's events, after changing the action of its
 * nth event (-1: none), through the tables. */
static void rewrite_chain(struct fixture *f, const char *org, int nth)
{
    struct store_audit_list l;
    CHECK_INT(store_audit_walk(f->st, INT64_MIN, 1000, &l), KH_OK);
    uint8_t prev[SECRET_HASH_LEN] = {0};
    int seen = 0;
    for (size_t i = 0; i < l.n; i++) {
        struct store_audit *e = &l.items[i];
        if (strcmp(e->org_id, org) != 0)
            continue;
        if (seen++ == nth)
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
        tamper(f, sql);
    }
    store_audit_list_free(&l);
}

/* Someone changes an event and recomputes every hash after it, so that
 * every link holds: the checkpoint signed before says otherwise, and the
 * signer will not sign over it. */
static void a_rewritten_chain_is_caught_by_its_checkpoint(void)
{
    struct fixture f;
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 1);
    rewrite_chain(&f, other_org, 1);
    struct auditchain_report r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "rewritten") != NULL);
    fixture_close(&f);
}

/* A link broken since the newest checkpoint: nothing more is signed. */
static void the_signer_signs_no_broken_link(void)
{
    struct fixture f;
    char sql[160];
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 1);
    add_event(&f, other_org, "revoked", 60);
    add_event(&f, other_org, "revoked", 61);
    int64_t seq = nth_seq(&f, other_org, 3);
    snprintf(sql, sizeof sql, "UPDATE audit_events SET target_id = 'x' WHERE seq = %lld", (long long)seq);
    tamper(&f, sql);
    int written = -1;
    CHECK_INT(auditchain_checkpoint(f.st, &f.secret, 1764619400000000LL, &written), KH_ECONFLICT);
    CHECK_INT(written, 0);
    struct store_audit_checkpoint last;
    CHECK_INT(store_audit_checkpoint_latest(f.st, &last), KH_OK);
    CHECK(last.number == 1);
    store_audit_checkpoint_clear(&last);
    fixture_close(&f);
}

static void checkpoints_removed_changed_or_forged_are_found(void)
{
    struct fixture f;
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 1);
    add_event(&f, other_org, "revoked", 70);
    CHECK_INT(checkpoint(&f), 1);
    add_event(&f, other_org, "revoked", 71);
    CHECK_INT(checkpoint(&f), 1);
    CHECK_INT(verify(&f).broken, 0);
    struct server_secret other;
    uint8_t master[SECRET_KEY_LEN] = {7};
    secret_from_master(master, &other);
    struct auditchain_report r = verify_with(&f, &other, NULL);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "signature") != NULL);
    tamper(&f, "UPDATE audit_checkpoints SET at = at + 1 WHERE number = 3");
    r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "signature") != NULL);
    tamper(&f, "UPDATE audit_checkpoints SET at = at - 1 WHERE number = 3; "
               "UPDATE audit_checkpoints SET max_seq = max_seq - 1 WHERE number = 1");
    r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "signature") != NULL);
    tamper(&f, "UPDATE audit_checkpoints SET max_seq = max_seq + 1 WHERE number = 1; "
               "DELETE FROM audit_checkpoints WHERE number = 2");
    r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "checkpoint 2 is missing") != NULL);
    /* every checkpoint removed, and the chain rewritten to taste */
    tamper(&f, "DELETE FROM audit_checkpoints");
    rewrite_chain(&f, other_org, 0);
    r = verify(&f);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "no checkpoint signs") != NULL);
    fixture_close(&f);
}

/* An older copy of the store in its place is consistent in itself; the
 * checkpoint a server logged is what it lacks. */
static void a_store_rolled_back_is_found_by_a_logged_checkpoint(void)
{
    struct fixture f;
    char sql[160];
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 1);
    struct store_audit_checkpoint first;
    CHECK_INT(store_audit_checkpoint_latest(f.st, &first), KH_OK);
    add_event(&f, other_org, "revoked", 80);
    CHECK_INT(checkpoint(&f), 1);
    struct store_audit_checkpoint second;
    CHECK_INT(store_audit_checkpoint_latest(f.st, &second), KH_OK);
    struct auditchain_anchor anchor = {.number = second.number};
    memcpy(anchor.mac, second.mac, SECRET_HASH_LEN);
    CHECK_INT(verify_with(&f, &f.secret, &anchor).broken, 0);
    snprintf(sql, sizeof sql, "DELETE FROM audit_events WHERE seq > %lld; DELETE FROM audit_checkpoints WHERE number = 2",
             (long long)first.max_seq);
    tamper(&f, sql);
    CHECK_INT(verify(&f).broken, 0); /* as the store was then */
    struct auditchain_report r = verify_with(&f, &f.secret, &anchor);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "not in the store") != NULL);
    anchor.number = 1;
    CHECK_INT(verify_with(&f, &f.secret, &anchor).broken, 1); /* the MAC of 2 is not that of 1 */
    store_audit_checkpoint_clear(&first);
    store_audit_checkpoint_clear(&second);
    fixture_close(&f);
}

/* A checkpoint under a version pruned from the secret file is vouched for
 * by a later one; the newest must be verifiable. */
static void a_pruned_version_is_vouched_for_by_a_later_checkpoint(void)
{
    struct fixture f;
    fixture_open(&f);
    fill(&f);
    CHECK_INT(checkpoint(&f), 1); /* under version 1 */
    struct server_secret v2 = {.n = 1}, both = {.n = 2};
    uint8_t master2[SECRET_KEY_LEN] = {9};
    secret_derive(master2, 2, &v2.keys[0]);
    both.keys[0] = v2.keys[0];
    both.keys[1] = f.secret.keys[0];
    add_event(&f, other_org, "revoked", 90);
    CHECK_INT(checkpoint_with(&f, &both), 1); /* under version 2 */
    CHECK_INT(verify_with(&f, &v2, NULL).broken, 0);
    struct auditchain_report r = verify_with(&f, &f.secret, NULL);
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "newest checkpoint") != NULL);
    fixture_close(&f);
}

/* Events from before the chain are chained by the backlog, in order. */
static void events_from_before_the_chain_are_chained_by_the_backlog(void)
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
    CHECK_INT(r.broken, 1);
    CHECK(strstr(r.why, "no hash") != NULL);
    CHECK_INT(store_audit_chain_backlog(f.st), KH_OK);
    CHECK_INT(checkpoint(&f), 1);
    r = verify(&f);
    CHECK_INT(r.broken, 0);
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
    RUN(inserted_events_are_found);
    RUN(events_cut_off_the_end_are_found);
    RUN(the_covered_tail_removed_before_later_events_is_found);
    RUN(a_rewritten_chain_is_caught_by_its_checkpoint);
    RUN(the_signer_signs_no_broken_link);
    RUN(checkpoints_removed_changed_or_forged_are_found);
    RUN(a_store_rolled_back_is_found_by_a_logged_checkpoint);
    RUN(a_pruned_version_is_vouched_for_by_a_later_checkpoint);
    RUN(events_from_before_the_chain_are_chained_by_the_backlog);
    return TEST_SUMMARY();
}
