/* test_webhook.c - util/webhook.h: the signature receivers verify (a
 * vector computed elsewhere, with Python's hmac), the retry schedule's
 * bounds (exponential, capped, jittered, never overflowing), new secrets,
 * and which addresses count as private. */
#include "test.h"

#include "util/webhook.h"

#include <ctype.h>
#include <stdint.h>
#include <sys/socket.h>

static void the_signature_is_hmac_sha256_of_time_dot_body(void)
{
    char sig[WEBHOOK_SIG_HEX + 1], header[WEBHOOK_SIG_HEADER_LEN];
    const char *body = "{\"a\":1}";
    /* python3 -c 'import hmac,hashlib;print(hmac.new(b"whsec_test",b"1700000000.{\"a\":1}",hashlib.sha256).hexdigest())' */
    webhook_sign("whsec_test", 10, 1700000000, body, strlen(body), sig);
    CHECK_STR(sig, "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
    webhook_signature_header("whsec_test", 10, 1700000000, body, strlen(body), header);
    CHECK_STR(header, "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
    /* another time, body or secret: another signature */
    char other[WEBHOOK_SIG_HEX + 1];
    webhook_sign("whsec_test", 10, 1700000001, body, strlen(body), other);
    CHECK(strcmp(sig, other) != 0);
    webhook_sign("whsec_tesu", 10, 1700000000, body, strlen(body), other);
    CHECK(strcmp(sig, other) != 0);
    webhook_sign("whsec_test", 10, 1700000000, "{\"a\":2}", 7, other);
    CHECK(strcmp(sig, other) != 0);
}

static void new_secrets_are_prefixed_random_base62(void)
{
    char a[WEBHOOK_SECRET_LEN + 1], b[WEBHOOK_SECRET_LEN + 1];
    webhook_secret_new(a);
    webhook_secret_new(b);
    CHECK_INT(strlen(a), WEBHOOK_SECRET_LEN);
    CHECK(strncmp(a, "whsec_", 6) == 0);
    for (size_t i = 6; i < WEBHOOK_SECRET_LEN; i++)
        CHECK(isalnum((unsigned char)a[i]));
    CHECK(strcmp(a, b) != 0);
}

/* Attempt n waits between half and all of min(base * 2^(n-1), cap). */
static void the_backoff_doubles_with_jitter_up_to_the_cap(void)
{
    static const struct {
        int attempt;
        int64_t full;
    } table[] = {{1, 10000}, {2, 20000}, {3, 40000}, {4, 80000}, {9, 2560000}, {10, 3600000}, {15, 3600000},
                 {1000, 3600000}};
    const int64_t base = 10000, cap = 3600000;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int64_t lo = webhook_backoff_ms(table[i].attempt, base, cap, 0);
        int64_t hi = webhook_backoff_ms(table[i].attempt, base, cap, UINT32_MAX);
        int64_t mid = webhook_backoff_ms(table[i].attempt, base, cap, 1u << 31);
        CHECK_INT(lo, table[i].full / 2);
        CHECK(hi <= table[i].full && hi > table[i].full - 2);
        CHECK(mid > lo && mid < hi);
    }
    /* the whole schedule outlasts a weekend's outage, and ends within four days */
    int64_t longest = 0, shortest = 0;
    for (int n = 1; n < WEBHOOK_MAX_ATTEMPTS; n++) {
        longest += webhook_backoff_ms(n, base, WEBHOOK_BACKOFF_CAP_MS, UINT32_MAX);
        shortest += webhook_backoff_ms(n, base, WEBHOOK_BACKOFF_CAP_MS, 0);
    }
    CHECK(shortest > 48 * 3600 * 1000LL);
    CHECK(longest < 100 * 3600 * 1000LL);
    /* degenerate settings still wait */
    CHECK(webhook_backoff_ms(1, 0, 0, 0) >= 1);
}

static void private_addresses_are_told_apart(void)
{
    static const struct {
        const char *addr;
        int private;
    } table[] = {
        {"127.0.0.1", 1},       {"10.1.2.3", 1},      {"172.16.0.1", 1},   {"172.31.255.255", 1}, {"172.32.0.1", 0},
        {"192.168.1.1", 1},     {"169.254.169.254", 1}, {"100.64.0.1", 1}, {"0.0.0.0", 1},        {"224.0.0.1", 1},
        {"255.255.255.255", 1}, {"8.8.8.8", 0},       {"93.184.216.34", 0}, {"::1", 1},           {"::", 1},
        {"fe80::1", 1},         {"fd00::1", 1},       {"::ffff:127.0.0.1", 1}, {"::ffff:8.8.8.8", 0},
        {"2606:4700::1111", 0}, {"ff02::1", 1},       {"example.com", -1}, {"127.1", -1},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int got = webhook_addr_private(table[i].addr);
        if (got != table[i].private)
            fprintf(stderr, "  %s\n", table[i].addr);
        CHECK_INT(got, table[i].private);
    }
}

int main(void)
{
    RUN(the_signature_is_hmac_sha256_of_time_dot_body);
    RUN(new_secrets_are_prefixed_random_base62);
    RUN(the_backoff_doubles_with_jitter_up_to_the_cap);
    RUN(private_addresses_are_told_apart);
    return TEST_SUMMARY();
}
