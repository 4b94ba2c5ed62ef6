/* test_token.c - PAT/SAT format: alias encoding, checksum, parsing; the ids they carry. */
#include "test.h"

#include "util/base62.h"
#include "util/errors.h"
#include "util/secret.h"
#include "util/token.h"

#include <ctype.h>

static void alias_matches_datadog_recording(void)
{
    /* docs/datadog.md, "Token format": id da1bd5f8-... is public portion 6dZ2zcpumTdlnHIgx2SlHA. */
    char alias[TOKEN_ALIAS_LEN + 1];
    CHECK_INT(token_alias("da1bd5f8-847b-4aec-a33d-11b04ebde244", alias), KH_OK);
    CHECK_STR(alias, "6dZ2zcpumTdlnHIgx2SlHA");
    CHECK_INT(token_alias("00000000-0000-0000-0000-000000000000", alias), KH_OK);
    CHECK_STR(alias, "0000000000000000000000");
    CHECK_INT(token_alias("not-a-uuid", alias), KH_EINVAL);
}

static void mint_then_parse_round_trips(void)
{
    const char *id = "6a0f3c8e-2b1d-4f5a-9c7e-1d2b3c4d5e6f";
    char tok[TOKEN_LEN + 1], secret[TOKEN_SECRET_LEN + 1], got_id[UUID_STR], got_secret[TOKEN_SECRET_LEN + 1];
    enum token_kind kind;
    for (int k = TOKEN_PAT; k <= TOKEN_SAT; k++) {
        token_mint((enum token_kind)k, id, tok, secret);
        CHECK_INT(strlen(tok), TOKEN_LEN);
        CHECK(strncmp(tok, k == TOKEN_PAT ? "ddpat_" : "ddsat_", 6) == 0);
        CHECK_INT(token_parse(tok, strlen(tok), &kind, got_id, got_secret), KH_OK);
        CHECK_INT(kind, k);
        CHECK_STR(got_id, id);
        CHECK_STR(got_secret, secret);
    }
}

static void secrets_differ_between_mints(void)
{
    const char *id = "6a0f3c8e-2b1d-4f5a-9c7e-1d2b3c4d5e6f";
    char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1], sa[TOKEN_SECRET_LEN + 1], sb[TOKEN_SECRET_LEN + 1];
    token_mint(TOKEN_PAT, id, a, sa);
    token_mint(TOKEN_PAT, id, b, sb);
    CHECK(strcmp(sa, sb) != 0);
    CHECK(strncmp(a, b, 29) == 0); /* same prefix and alias */
}

static void checksum_catches_any_single_change(void)
{
    char tok[TOKEN_LEN + 1], secret[TOKEN_SECRET_LEN + 1], id[UUID_STR], s[TOKEN_SECRET_LEN + 1];
    enum token_kind kind;
    token_mint(TOKEN_PAT, "6a0f3c8e-2b1d-4f5a-9c7e-1d2b3c4d5e6f", tok, secret);
    int caught = 0, tried = 0;
    for (size_t i = 6; i < TOKEN_LEN; i++) {
        if (i == 28)
            continue;
        char saved = tok[i];
        tok[i] = saved == 'a' ? 'b' : 'a';
        tried++;
        caught += token_parse(tok, TOKEN_LEN, &kind, id, s) == KH_EINVAL;
        tok[i] = saved;
    }
    CHECK_INT(caught, tried);
}

static void malformed_tokens_are_refused(void)
{
    char id[UUID_STR], s[TOKEN_SECRET_LEN + 1];
    enum token_kind kind;
    const char *bad[] = {
        "",
        "ddpat_",
        "ddxxx_5TnZu0gjGUZ8B5p9KHLWOL_Mgs29LiGDtuUABV2VofNPKqpwKXqGC1N9aVZ",
        "ddpat_5TnZu0gjGUZ8B5p9KHLWOL-Mgs29LiGDtuUABV2VofNPKqpwKXqGC1N9aVZ",
        "ddpat_5TnZu0gjGUZ8B5p9KHLWOL_Mgs29LiGDtuUABV2VofNPKqpwKXqGC1N9aV",
        "ddpat_5TnZu0gjGUZ8B5p9KHLWOL_Mgs29LiGDtuUABV2VofNPKqpwKXqGC1N9aVZZ",
        "ddpat_zzzzzzzzzzzzzzzzzzzzzz_Mgs29LiGDtuUABV2VofNPKqpwKXqGC1N9aVZ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(token_parse(bad[i], strlen(bad[i]), &kind, id, s), KH_EINVAL);
    CHECK(token_looks_like("ddsat_x", 7));
    CHECK(!token_looks_like("ddapp_x", 7));
}

static void base62_round_trips_and_bounds(void)
{
    uint8_t in[16], out[16];
    char enc[23];
    for (int v = 0; v < 256; v += 17) {
        memset(in, v, sizeof in);
        CHECK_INT(base62_encode(in, 16, enc, 22), KH_OK);
        CHECK_INT(base62_decode(enc, 22, out, 16), KH_OK);
        CHECK(memcmp(in, out, 16) == 0);
    }
    uint8_t big[4] = {0xff, 0xff, 0xff, 0xff};
    CHECK_INT(base62_encode(big, 4, enc, 5), KH_EINVAL); /* 62^5 < 2^32 */
    CHECK_INT(base62_encode(big, 4, enc, 6), KH_OK);
    CHECK_INT(base62_decode("zzzzzzzzzzzzzzzzzzzzzzz", 23, out, 16), KH_EINVAL); /* overflow */
    CHECK_INT(base62_decode("ab-c", 4, out, 16), KH_EINVAL);
}

/* The schoolbook encoder base62_encode used before issue 14 (one digit per
 * pass over the bytes), kept as the reference the limb encoder must match. */
static int base62_encode_reference(const uint8_t *in, size_t inlen, char *out, size_t outlen)
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint8_t num[64];
    if (inlen > sizeof num)
        return KH_EINVAL;
    memcpy(num, in, inlen);
    for (size_t pos = outlen; pos-- > 0;) {
        unsigned rem = 0;
        for (size_t i = 0; i < inlen; i++) {
            unsigned cur = rem * 256 + num[i];
            num[i] = (uint8_t)(cur / 62);
            rem = cur % 62;
        }
        out[pos] = alphabet[rem];
    }
    out[outlen] = '\0';
    for (size_t i = 0; i < inlen; i++)
        if (num[i])
            return KH_EINVAL;
    return KH_OK;
}

/* Every input length 0..64 (limb boundaries and partial leading limbs), with
 * output lengths around the chunk size and around the exact fit, random and
 * all-0xff bytes: same result code and same digits as the reference. */
static void base62_encode_matches_schoolbook(void)
{
    uint8_t in[65];
    char got[100], want[100];
    uint32_t x = 12345;
    for (size_t len = 0; len <= 65; len++) {
        for (int pattern = 0; pattern < 3; pattern++) {
            for (size_t i = 0; i < len; i++) {
                x = x * 1103515245u + 12345u;
                in[i] = pattern == 0 ? (uint8_t)(x >> 16) : pattern == 1 ? 0xff : (uint8_t)(i == 0);
            }
            size_t fit = (len * 8 * 100 + 594) / 595 + 1; /* log62(256) ~ 1.3435 digits a byte, rounded up */
            size_t outs[] = {0, 1, 4, 5, 6, 10, fit > 2 ? fit - 2 : 0, fit > 1 ? fit - 1 : 0, fit, fit + 3, 99};
            for (size_t o = 0; o < sizeof outs / sizeof outs[0]; o++) {
                size_t outlen = outs[o] > 99 ? 99 : outs[o];
                int rg = base62_encode(in, len, got, outlen), rw = base62_encode_reference(in, len, want, outlen);
                CHECK_INT(rg, rw);
                if (!rw && strcmp(got, want) != 0) {
                    fprintf(stderr, "  len %zu pattern %d outlen %zu: %s, not %s\n", len, pattern, outlen, got, want);
                    CHECK(0);
                }
            }
        }
    }
}

/* Version 7 ids: the millisecond in the first 48 bits, version and variant
 * bits set, random bits that differ, and later ids sort after earlier ones as
 * strings (what the store's indexes compare). */
static void ordered_uuids_carry_their_millisecond_and_sort_by_it(void)
{
    const int64_t t0 = 1764619200123456; /* 2025-12-01T20:00:00.123456Z */
    char a[UUID_STR], b[UUID_STR], c[UUID_STR];
    uuid_generate_ordered(a, t0);
    uuid_generate_ordered(b, t0);
    uuid_generate_ordered(c, t0 + 1000);
    CHECK(uuid_valid(a, strlen(a)));
    CHECK(strncmp(a, "019adb80-267b-7", 15) == 0); /* 1764619200123 ms = 0x019adb80267b */
    CHECK_INT(a[14], '7');
    CHECK(strchr("89ab", a[19]) != NULL);
    CHECK(strcmp(a, b) != 0);
    CHECK(strcmp(a, c) < 0 && strcmp(b, c) < 0);
    for (int i = 0; i < 1000; i++) {
        char later[UUID_STR];
        uuid_generate_ordered(later, t0 + 1000 * (i + 2));
        CHECK(strcmp(c, later) < 0);
        memcpy(c, later, UUID_STR);
    }
}

/* Parsing reads hex digits of either case back to the bytes formatted, and
 * refuses every other byte at every digit position, and misplaced dashes. */
static void uuids_parse_hex_of_either_case_and_nothing_else(void)
{
    for (int round = 0; round < 200; round++) {
        uint8_t in[16], out[16];
        char s[UUID_STR];
        secret_random(in, sizeof in);
        uuid_format(in, s);
        CHECK_INT(uuid_parse(s, 36, out), KH_OK);
        CHECK(memcmp(in, out, 16) == 0);
        for (char *c = s; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        CHECK_INT(uuid_parse(s, 36, out), KH_OK);
        CHECK(memcmp(in, out, 16) == 0);
    }
    char s[UUID_STR];
    uuid_generate(s);
    for (int pos = 0; pos < 36; pos++) {
        char saved = s[pos];
        for (int c = 0; c < 256; c++) {
            s[pos] = (char)c;
            int dash = pos == 8 || pos == 13 || pos == 18 || pos == 23;
            int ok = dash ? c == '-' : isxdigit(c) != 0;
            CHECK_INT(uuid_parse(s, 36, (uint8_t[16]){0}) == KH_OK, ok);
        }
        s[pos] = saved;
    }
    CHECK_INT(uuid_parse(s, 35, (uint8_t[16]){0}), KH_EINVAL);
}

int main(void)
{
    RUN(ordered_uuids_carry_their_millisecond_and_sort_by_it);
    RUN(uuids_parse_hex_of_either_case_and_nothing_else);
    RUN(alias_matches_datadog_recording);
    RUN(mint_then_parse_round_trips);
    RUN(secrets_differ_between_mints);
    RUN(checksum_catches_any_single_change);
    RUN(malformed_tokens_are_refused);
    RUN(base62_round_trips_and_bounds);
    RUN(base62_encode_matches_schoolbook);
    return TEST_SUMMARY();
}
