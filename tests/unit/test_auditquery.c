/* test_auditquery.c - the Audit Trail search syntax (api/auditquery.h):
 * what each form matches on sample events, precedence, words that only
 * look like operators, refusals with their messages, and time expressions. */
#include "test.h"

#include "api/auditquery.h"
#include "util/errors.h"

static struct store_audit event(const char *action, const char *kind, const char *id, const char *actor,
                                const char *source)
{
    struct store_audit e = {.seq = 1, .at = 1764619200000000LL};
    snprintf(e.org_id, sizeof e.org_id, "7d4fda67-94a6-45c3-bb74-fa19e08cea0c");
    snprintf(e.action, sizeof e.action, "%s", action);
    snprintf(e.target_kind, sizeof e.target_kind, "%s", kind);
    snprintf(e.target_id, sizeof e.target_id, "%s", id);
    snprintf(e.actor_id, sizeof e.actor_id, "%s", actor);
    snprintf(e.source, sizeof e.source, "%s", source);
    return e;
}

/* 1 when text parses and matches e, 0 when it parses and does not. */
static int matches(const char *text, const struct store_audit *e)
{
    struct auditq *q = NULL;
    char msg[160];
    int rc = auditq_parse(text, &q, msg, sizeof msg);
    if (rc) {
        fprintf(stderr, "  %s: %s\n", text, msg);
        CHECK_INT(rc, KH_OK);
        return -1;
    }
    int64_t steps = 0;
    int m = auditq_match(q, e, &steps);
    CHECK(steps >= 0);
    auditq_free(q);
    return m;
}

static void refused(const char *text, const char *why)
{
    struct auditq *q = NULL;
    char msg[160] = "";
    CHECK_INT(auditq_parse(text, &q, msg, sizeof msg), KH_EINVAL);
    CHECK(q == NULL);
    if (!strstr(msg, why))
        fprintf(stderr, "  %s: '%s' lacks '%s'\n", text, msg, why);
    CHECK(strstr(msg, why) != NULL);
}

static void forms_match_what_they_say(void)
{
    struct store_audit pat = event("revoked", "personal_access_token", "01a23357-62aa-71c2", "u-1", "10.0.0.7");
    struct store_audit key = event("created", "api_key", "k-1", "operator", "cli");
    CHECK_INT(matches("", &pat), 1);
    CHECK_INT(matches("*", &key), 1);
    CHECK_INT(matches("@action:revoked", &pat), 1);
    CHECK_INT(matches("@action:revoke", &pat), 0); /* a whole value */
    CHECK_INT(matches("@action:rev*", &pat), 1);
    CHECK_INT(matches("@action:*oke*", &pat), 1);
    CHECK_INT(matches("@action:Revoked", &pat), 0); /* attribute values keep their case */
    CHECK_INT(matches("@asset.id:01a23357-62aa-71c2", &pat), 1);
    CHECK_INT(matches("@network.client.ip:10.0.0.*", &pat), 1);
    CHECK_INT(matches("@usr.id:operator", &key), 1);
    CHECK_INT(matches("@org.id:7d4fda67*", &key), 1);
    CHECK_INT(matches("@evt.name:\"Access Management\"", &key), 1);
    CHECK_INT(matches("@evt.name:Access", &key), 0);
    CHECK_INT(matches("@nothing:x", &key), 0);
    CHECK_INT(matches("service:keyhold", &key), 1);
    CHECK_INT(matches("source:keyhold", &key), 1);
    CHECK_INT(matches("action:created", &key), 1); /* a tag */
    CHECK_INT(matches("asset_type:api_*", &key), 1);
    CHECK_INT(matches("team:x", &key), 0);
    CHECK_INT(matches("API_KEY", &key), 1); /* free text ignores case */
    CHECK_INT(matches("k-1 created", &key), 1);
    CHECK_INT(matches("\"api_key k-1 created\"", &key), 1);
    CHECK_INT(matches("\"api_key created\"", &key), 0);
    CHECK_INT(matches("\"say \\\"hi\\\"\"", &key), 0);
}

static void operators_and_precedence(void)
{
    struct store_audit e = event("created", "api_key", "k-1", "operator", "cli");
    CHECK_INT(matches("@action:created @asset.type:api_key", &e), 1);
    CHECK_INT(matches("@action:created AND @asset.type:user", &e), 0);
    CHECK_INT(matches("@action:deleted OR @asset.type:api_key", &e), 1);
    /* AND binds tighter: (deleted AND user) OR api_key */
    CHECK_INT(matches("@action:deleted @asset.type:user OR @asset.type:api_key", &e), 1);
    CHECK_INT(matches("@action:deleted (@asset.type:user OR @asset.type:api_key)", &e), 0);
    CHECK_INT(matches("-@action:created", &e), 0);
    CHECK_INT(matches("NOT @action:deleted", &e), 1);
    CHECK_INT(matches("NOT (@action:deleted OR @asset.type:api_key)", &e), 0);
    CHECK_INT(matches("NOT NOT @action:created", &e), 1);
    /* words that only start like operators are text */
    struct store_audit n = event("created", "NOTE", "ORACLE", "ANDY", "cli");
    CHECK_INT(matches("NOTE", &n), 1);
    CHECK_INT(matches("ORACLE ANDY", &n), 1);
    CHECK_INT(matches("  @action:created\t", &n), 1);
}

static void malformed_queries_are_refused_with_a_reason(void)
{
    refused("(@action:created", "not closed");
    refused("@action:created)", "unexpected");
    refused("\"open", "not closed");
    refused("@action:", "value is missing");
    refused("@action", "without a value");
    refused("OR x", "term is missing");
    refused("x OR", "term is missing");
    refused("x AND", "term is missing");
    refused("NOT", "term is missing");
    refused("()", "term is missing");
    char deep[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "(");
    strcat(deep, "x");
    refused(deep, "nested deeper");
    /* a failure inside parentheses stops there (read past the end before) */
    refused("(", "term is missing");
    refused("((((a", "not closed");
    char nots[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(nots, "-");
    strcat(nots, "x");
    refused(nots, "nested deeper");
    memset(nots, 0, sizeof nots);
    for (int i = 0; i < 40; i++)
        strcat(nots, "NOT ");
    strcat(nots, "x");
    refused(nots, "nested deeper");
    char many[2000] = "";
    for (int i = 0; i < 300; i++)
        strcat(many, "a ");
    refused(many, "more than");
    static char huge[5000];
    memset(huge, 'a', sizeof huge - 1);
    refused(huge, "longer than");
}

/* Each comparison step is counted, so that a request can bound its work:
 * many wildcard terms cost more than one plain term. */
static void matching_counts_its_steps(void)
{
    struct store_audit e = event("created", "api_key", "k-1", "operator", "cli");
    struct auditq *plain = NULL, *heavy = NULL;
    char msg[160];
    int64_t light = 0, costly = 0;
    CHECK_INT(auditq_parse("@action:created", &plain, msg, sizeof msg), KH_OK);
    CHECK_INT(auditq_parse("z*z*z*z*q OR y*y*y*y*q OR x*x*x*x*q", &heavy, msg, sizeof msg), KH_OK);
    CHECK_INT(auditq_match(plain, &e, &light), 1);
    CHECK_INT(auditq_match(heavy, &e, &costly), 0);
    CHECK(light > 0 && costly > 10 * light);
    auditq_free(plain);
    auditq_free(heavy);
}

static void time_expressions(void)
{
    const int64_t now = 1764619200000000LL;
    int64_t t = 0;
    CHECK_INT(auditq_time("now", now, &t), KH_OK);
    CHECK(t == now);
    CHECK_INT(auditq_time("now-15m", now, &t), KH_OK);
    CHECK(t == now - 15 * 60 * 1000000LL);
    CHECK_INT(auditq_time("now+2h", now, &t), KH_OK);
    CHECK(t == now + 2 * 3600 * 1000000LL);
    CHECK_INT(auditq_time("now-1d", now, &t), KH_OK);
    CHECK(t == now - 86400 * 1000000LL);
    CHECK_INT(auditq_time("now-1w", now, &t), KH_OK);
    CHECK(t == now - 7 * 86400 * 1000000LL);
    CHECK_INT(auditq_time("1764619200123", now, &t), KH_OK);
    CHECK(t == 1764619200123000LL);
    CHECK_INT(auditq_time("2025-12-01T20:00:00Z", now, &t), KH_OK);
    CHECK(t == 1764619200000000LL);
    const char *bad[] = {"", "now-", "now-15", "now-15x", "now*2", "nowish", "now-1mm", "yesterday", "12ab",
                         "now-99999999999m"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(auditq_time(bad[i], now, &t), KH_EINVAL);
}

int main(void)
{
    RUN(forms_match_what_they_say);
    RUN(operators_and_precedence);
    RUN(malformed_queries_are_refused_with_a_reason);
    RUN(matching_counts_its_steps);
    RUN(time_expressions);
    return TEST_SUMMARY();
}
