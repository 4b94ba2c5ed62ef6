/* test_leakreport.c - util/leakreport.c (GitHub's secret scanning partner
 * reports: the parser and the ECDSA signature check, with keys made here)
 * and the store's leak operations (on SQLite, or on PostgreSQL with
 * KEYHOLD_TEST_PG). */
#include "fixture.h"
#include "test.h"
#include "util/leakreport.h"
#include "util/uuid.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

/* ---- the parser ---- */

static const struct {
    const char *body;
    const char *error; /* a substring of the message, or NULL: accepted */
    size_t entries;
} parse_cases[] = {
    {"[{\"token\":\"ddpat_x\",\"type\":\"t\",\"url\":\"https://x\",\"source\":\"content\"}]", NULL, 1},
    {"[{\"token\":\"a\",\"type\":\"t\"},{\"token\":\"b\",\"type\":\"t\",\"url\":null,\"source\":null,\"extra\":1}]", NULL,
     2},
    {"", "not valid JSON", 0},
    {"[", "not valid JSON", 0},
    {"{\"token\":\"a\",\"type\":\"t\"}", "JSON array", 0},
    {"[]", "empty", 0},
    {"[1]", "Entry 0 of the report must be an object", 0},
    {"[{\"type\":\"t\"}]", "has no 'token'", 0},
    {"[{\"token\":\"\",\"type\":\"t\"}]", "'token' is empty", 0},
    {"[{\"token\":\"a\"}]", "has no 'type'", 0},
    {"[{\"token\":\"a\",\"type\":\"t\",\"url\":5}]", "'url' must be a string", 0},
    {"[{\"token\":\"a\",\"type\":\"t\",\"source\":[]}]", "'source' must be a string", 0},
    {"[{\"token\":\"a\\u0000b\",\"type\":\"t\"}]", "NUL", 0},
    {"[{\"token\":\"a\",\"type\":\"t\",\"token\":\"b\"}]", "not valid JSON", 0}, /* duplicate member */
    {"[{\"token\":\"a\",\"type\":\"t\"},{\"token\":7,\"type\":\"t\"}]", "Entry 1", 0},
};

static void reports_parse_or_say_what_is_wrong(void)
{
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        struct leak_report r;
        char err[256] = "";
        int rc = leak_report_parse(parse_cases[i].body, strlen(parse_cases[i].body), &r, err, sizeof err);
        if (parse_cases[i].error) {
            CHECK_INT(rc, -1);
            if (!strstr(err, parse_cases[i].error))
                fprintf(stderr, "  case %zu: '%s' lacks '%s'\n", i, err, parse_cases[i].error);
            CHECK(strstr(err, parse_cases[i].error) != NULL);
        } else {
            CHECK_INT(rc, 0);
            CHECK_INT(r.n, parse_cases[i].entries);
        }
        leak_report_free(&r);
    }
    struct leak_report r;
    char err[256];
    const char *one = "[{\"token\":\"tok\",\"type\":\"t\",\"url\":\"u\"}]";
    CHECK_INT(leak_report_parse(one, strlen(one), &r, err, sizeof err), 0);
    if (r.n != 1)
        return;
    CHECK_STR(r.items[0].token, "tok");
    CHECK_INT(r.items[0].token_len, 3);
    CHECK_STR(r.items[0].url, "u");
    CHECK(r.items[0].source == NULL);
    leak_report_free(&r);
    leak_report_free(&r); /* freed twice: a no-op */
}

static void reports_are_bounded(void)
{
    struct leak_report r;
    char err[256];
    size_t n = LEAK_MAX_ENTRIES + 1, len = 0;
    char *body = malloc(n * 32 + 8);
    len += (size_t)snprintf(body, 8, "[");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(body + len, 32, "%s{\"token\":\"a\",\"type\":\"t\"}", i ? "," : "");
    body[len++] = ']';
    CHECK_INT(leak_report_parse(body, len, &r, err, sizeof err), -1);
    CHECK(strstr(err, "at most 500") != NULL);
    leak_report_free(&r);
    CHECK_INT(leak_report_parse(body, LEAK_MAX_BODY + 1, &r, err, sizeof err), -1);
    CHECK(strstr(err, "larger than") != NULL);
    leak_report_free(&r);
    free(body);
    char token[LEAK_MAX_TOKEN + 64];
    memset(token, 'x', sizeof token);
    snprintf(token, sizeof token, "[{\"type\":\"t\",\"token\":\"%0*d\"}]", LEAK_MAX_TOKEN + 1, 0);
    CHECK_INT(leak_report_parse(token, strlen(token), &r, err, sizeof err), -1);
    CHECK(strstr(err, "longer than 256") != NULL);
    leak_report_free(&r);
}

/* ---- the signature ---- */

/* A fresh P-256 key pair; *pem_out the public key in PEM (caller frees). */
static EVP_PKEY *make_key(char **pem_out)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, k);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    *pem_out = strndup(p, (size_t)n);
    BIO_free(b);
    return k;
}

/* The JSON string of a PEM (its newlines as \n). */
static void json_pem(const char *pem, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *c = pem; *c && o + 3 < cap; c++) {
        if (*c == '\n')
            out[o++] = '\\', out[o++] = 'n';
        else
            out[o++] = *c;
    }
    out[o] = '\0';
}

/* base64(DER ECDSA(SHA-256(body))) with key. */
static void sign_b64(EVP_PKEY *key, const char *body, char *out, size_t cap)
{
    unsigned char sig[128];
    size_t n = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key);
    EVP_DigestSign(ctx, sig, &n, (const unsigned char *)body, strlen(body));
    EVP_MD_CTX_free(ctx);
    if (cap > 4 * ((n + 2) / 3))
        EVP_EncodeBlock((unsigned char *)out, sig, (int)n);
}

static void signatures_verify_only_with_the_named_key(void)
{
    char *pem_a, *pem_b, ja[512], jb[512], file[1400], err[256], sig[256], other[256];
    EVP_PKEY *a = make_key(&pem_a), *b = make_key(&pem_b);
    json_pem(pem_a, ja, sizeof ja);
    json_pem(pem_b, jb, sizeof jb);
    snprintf(file, sizeof file,
             "{\"public_keys\":[{\"key_identifier\":\"ka\",\"key\":\"%s\",\"is_current\":false},"
             "{\"key_identifier\":\"kb\",\"key\":\"%s\",\"is_current\":true}]}",
             ja, jb);
    struct leak_keys *keys = leak_keys_parse(file, strlen(file), err, sizeof err);
    CHECK(keys != NULL);
    CHECK_INT(leak_keys_count(keys), 2);
    const char *body = "[{\"token\":\"x\",\"type\":\"t\"}]";
    sign_b64(b, body, sig, sizeof sig);
    sign_b64(a, body, other, sizeof other);
    CHECK_INT(leak_sig_verify(keys, "kb", 2, sig, strlen(sig), body, strlen(body)), LEAK_SIG_OK);
    CHECK_INT(leak_sig_verify(keys, "ka", 2, other, strlen(other), body, strlen(body)), LEAK_SIG_OK);
    CHECK_INT(leak_sig_verify(keys, "ka", 2, sig, strlen(sig), body, strlen(body)), LEAK_SIG_BAD);
    CHECK_INT(leak_sig_verify(keys, "kb", 2, sig, strlen(sig), body, strlen(body) - 1), LEAK_SIG_BAD);
    CHECK_INT(leak_sig_verify(keys, "kc", 2, sig, strlen(sig), body, strlen(body)), LEAK_SIG_UNKNOWN_KEY);
    CHECK_INT(leak_sig_verify(keys, "k", 1, sig, strlen(sig), body, strlen(body)), LEAK_SIG_UNKNOWN_KEY);
    CHECK_INT(leak_sig_verify(NULL, "kb", 2, sig, strlen(sig), body, strlen(body)), LEAK_SIG_UNKNOWN_KEY);
    CHECK_INT(leak_sig_verify(keys, "kb", 2, "****", 4, body, strlen(body)), LEAK_SIG_MALFORMED);
    CHECK_INT(leak_sig_verify(keys, "kb", 2, "", 0, body, strlen(body)), LEAK_SIG_MALFORMED);
    CHECK_INT(leak_sig_verify(keys, "kb", 2, "QUJD", 4, body, strlen(body)), LEAK_SIG_BAD); /* "ABC": not DER */
    CHECK_INT(leak_sig_verify(keys, "kb", 2, sig, strlen(sig) - 1, body, strlen(body)), LEAK_SIG_MALFORMED);
    /* a flipped bit of the signature */
    char flipped[256];
    memcpy(flipped, sig, strlen(sig) + 1);
    flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
    CHECK(leak_sig_verify(keys, "kb", 2, flipped, strlen(flipped), body, strlen(body)) != LEAK_SIG_OK);
    leak_keys_free(keys);
    leak_keys_free(NULL);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    free(pem_a);
    free(pem_b);
}

static void key_files_of_another_shape_are_refused(void)
{
    char *pem, j[512], file[1400], err[256];
    EVP_PKEY *k = make_key(&pem);
    json_pem(pem, j, sizeof j);
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, rsa);
    char *p;
    long n = BIO_get_mem_data(bio, &p);
    char *rsa_pem = strndup(p, (size_t)n), jr[1024];
    json_pem(rsa_pem, jr, sizeof jr);
    const char *bad[] = {"", "[]", "{\"public_keys\":[]}", "{\"public_keys\":[{\"key\":\"x\"}]}",
                         "{\"public_keys\":[{\"key_identifier\":\"a\",\"key\":\"not a pem\"}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK(leak_keys_parse(bad[i], strlen(bad[i]), err, sizeof err) == NULL);
        CHECK(err[0] != '\0');
    }
    snprintf(file, sizeof file, "{\"public_keys\":[{\"key_identifier\":\"a\",\"key\":\"%s\"}]}", jr);
    CHECK(leak_keys_parse(file, strlen(file), err, sizeof err) == NULL);
    CHECK(strstr(err, "P-256") != NULL);
    snprintf(file, sizeof file, "{\"public_keys\":[{\"key_identifier\":\"a\",\"key\":\"%s\"},{\"key_identifier\":\"a\","
                                "\"key\":\"%s\"}]}",
             j, j);
    CHECK(leak_keys_parse(file, strlen(file), err, sizeof err) == NULL);
    CHECK(strstr(err, "twice") != NULL);
    CHECK(leak_keys_load("/nonexistent/keys.json", err, sizeof err) == NULL);
    BIO_free(bio);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(k);
    free(rsa_pem);
    free(pem);
}

/* ---- the store ---- */

static void leaks_are_recorded_listed_and_counted(void)
{
    struct fixture f;
    fixture_open(&f);
    struct store_leak l = {.leaked_at = 1000, .last_reported_at = 1000, .url = "https://x/y", .source = "content"};
    uuid_generate(l.credential_id);
    memcpy(l.org_id, f.admin.org_id, UUID_STR);
    snprintf(l.kind, sizeof l.kind, "api_key");
    snprintf(l.reporter, sizeof l.reporter, "github:k");
    snprintf(l.action, sizeof l.action, "quarantined");
    CHECK_INT(store_leak_mark(f.st, &l), KH_OK);
    l.last_reported_at = 2000;
    l.url = "https://elsewhere";
    snprintf(l.action, sizeof l.action, "revoked");
    CHECK_INT(store_leak_mark(f.st, &l), KH_OK);
    struct store_leak got;
    CHECK_INT(store_leak_get(f.st, l.credential_id, &got), KH_OK);
    CHECK_INT(got.reports, 2);
    CHECK_INT(got.leaked_at, 1000);
    CHECK_INT(got.last_reported_at, 2000);
    CHECK_STR(got.url, "https://x/y"); /* the first report's */
    CHECK_STR(got.action, "revoked");   /* the latest */
    CHECK_STR(got.reporter, "github:k");
    store_leak_clear(&got);
    CHECK_INT(store_leak_get(f.st, "00000000-0000-0000-0000-000000000000", &got), KH_ENOTFOUND);
    struct store_leak l2 = l;
    uuid_generate(l2.credential_id);
    l2.leaked_at = 3000;
    l2.url = NULL;
    l2.source = NULL;
    snprintf(l2.kind, sizeof l2.kind, "personal_access_token");
    snprintf(l2.action, sizeof l2.action, "quarantined");
    CHECK_INT(store_leak_mark(f.st, &l2), KH_OK);
    struct store_leak_list list;
    CHECK_INT(store_leak_list(f.st, f.admin.org_id, NULL, NULL, 10, &list), KH_OK);
    CHECK_INT(list.n, 2);
    if (list.n == 2) {
        CHECK_STR(list.items[0].credential_id, l2.credential_id); /* newest first */
        CHECK(list.items[0].url == NULL);
    }
    store_leak_list_free(&list);
    CHECK_INT(store_leak_list(f.st, f.admin.org_id, "api_key", NULL, 10, &list), KH_OK);
    CHECK_INT(list.n, 1);
    store_leak_list_free(&list);
    CHECK_INT(store_leak_list(f.st, f.admin.org_id, NULL, "quarantined", 10, &list), KH_OK);
    CHECK_INT(list.n, 1);
    store_leak_list_free(&list);
    CHECK_INT(store_leak_list(f.st, "another-org", NULL, NULL, 10, &list), KH_OK);
    CHECK_INT(list.n, 0);
    store_leak_list_free(&list);
    /* the policy: none until set */
    struct store_leak_policy p;
    CHECK_INT(store_leak_policy_get(f.st, f.admin.org_id, &p), KH_ENOTFOUND);
    struct store_leak_policy set = {.modified_at = 5};
    memcpy(set.org_id, f.admin.org_id, UUID_STR);
    memcpy(set.modified_by, f.admin.user_id, UUID_STR);
    snprintf(set.policy, sizeof set.policy, "quarantine");
    CHECK_INT(store_leak_policy_set(f.st, &set), KH_OK);
    snprintf(set.policy, sizeof set.policy, "revoke");
    set.modified_at = 6;
    CHECK_INT(store_leak_policy_set(f.st, &set), KH_OK);
    CHECK_INT(store_leak_policy_get(f.st, f.admin.org_id, &p), KH_OK);
    CHECK_STR(p.policy, "revoke");
    CHECK_INT(p.modified_at, 6);
    struct store_leak_report r = {.received_at = 7, .entries = 3, .matched = 1};
    uuid_generate(r.id);
    snprintf(r.reporter, sizeof r.reporter, "github:k");
    CHECK_INT(store_leak_report_insert(f.st, &r), KH_OK);
    char *counts = NULL;
    CHECK_INT(store_counts(f.st, &counts), KH_OK);
    CHECK(counts && strstr(counts, "credential_leaks 2") && strstr(counts, "leak_reports 1"));
    free(counts);
    fixture_close(&f);
}

int main(void)
{
    RUN(reports_parse_or_say_what_is_wrong);
    RUN(reports_are_bounded);
    RUN(signatures_verify_only_with_the_named_key);
    RUN(key_files_of_another_shape_are_refused);
    RUN(leaks_are_recorded_listed_and_counted);
    return TEST_SUMMARY();
}
