/* test_secret.c - keyed hashing, sealing, the secret file and randomness. */
#include "test.h"

#include "util/errors.h"
#include "util/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void derived_keys_are_distinct_and_deterministic(void)
{
    uint8_t master[SECRET_KEY_LEN] = {1, 2, 3};
    struct secret_key a, b;
    secret_derive(master, 1, &a);
    secret_derive(master, 1, &b);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK(memcmp(a.token_key, a.lookup_key, SECRET_KEY_LEN) != 0);
    CHECK(memcmp(a.lookup_key, a.enc_key, SECRET_KEY_LEN) != 0);
    master[0] = 9;
    secret_derive(master, 2, &b);
    CHECK(memcmp(a.token_key, b.token_key, SECRET_KEY_LEN) != 0);
    CHECK_INT(b.version, 2);
}

static void hmac_depends_on_key_and_data(void)
{
    uint8_t k1[SECRET_KEY_LEN] = {0}, k2[SECRET_KEY_LEN] = {1};
    uint8_t h1[SECRET_HASH_LEN], h2[SECRET_HASH_LEN], h3[SECRET_HASH_LEN];
    secret_hmac(k1, "abc", 3, h1);
    secret_hmac(k2, "abc", 3, h2);
    secret_hmac(k1, "abd", 3, h3);
    CHECK(!secret_equal(h1, h2, SECRET_HASH_LEN));
    CHECK(!secret_equal(h1, h3, SECRET_HASH_LEN));
    secret_hmac(k1, "abc", 3, h2);
    CHECK(secret_equal(h1, h2, SECRET_HASH_LEN));
}

static void seal_round_trips_and_detects_tampering(void)
{
    uint8_t master[SECRET_KEY_LEN] = {7};
    struct secret_key s, other;
    secret_derive(master, 1, &s);
    master[0] = 8;
    secret_derive(master, 1, &other);
    const char *plain = "0123456789abcdef0123456789abcdef";
    uint8_t sealed[32 + SECRET_SEAL_OVERHEAD], out[32], sealed2[32 + SECRET_SEAL_OVERHEAD];
    secret_seal(&s, plain, 32, sealed);
    secret_seal(&s, plain, 32, sealed2);
    CHECK(memcmp(sealed, sealed2, sizeof sealed) != 0); /* fresh nonce each time */
    CHECK(memcmp(sealed + 12, plain, 32) != 0);         /* not stored in clear */
    CHECK_INT(secret_open(&s, sealed, sizeof sealed, out), KH_OK);
    CHECK(memcmp(out, plain, 32) == 0);
    CHECK_INT(secret_open(&other, sealed, sizeof sealed, out), KH_ECRYPTO);
    sealed[20] ^= 1;
    CHECK_INT(secret_open(&s, sealed, sizeof sealed, out), KH_ECRYPTO);
    CHECK_INT(secret_open(&s, sealed, 10, out), KH_ECRYPTO);
}

/* One opener over a run of values (a list's keys, issue 14) opens each as
 * secret_open does: runs under one key and switches between two, a tampered
 * value or one under the wrong key refused without spoiling the next, a
 * value too short to be sealed refused. */
static void an_opener_opens_a_run_like_secret_open(void)
{
    uint8_t master[SECRET_KEY_LEN] = {9};
    struct secret_key a, b;
    secret_derive(master, 1, &a);
    master[0] = 10;
    secret_derive(master, 2, &b);
    /* which key seals value i, which key opens it, and whether it is tampered */
    static const struct {
        int seal_b, open_b, tamper;
    } run[] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 1}, {0, 0, 0}, {1, 1, 0}, {1, 1, 0}, {0, 0, 0},
               {0, 1, 0}, {0, 0, 0}, {1, 1, 1}, {1, 1, 0}, {1, 0, 0}, {1, 1, 0}};
    struct secret_opener o;
    secret_opener_init(&o);
    for (size_t i = 0; i < sizeof run / sizeof run[0]; i++) {
        char plain[33];
        uint8_t sealed[32 + SECRET_SEAL_OVERHEAD], got[32], want[32];
        snprintf(plain, sizeof plain, "value %02zu 56789abcdef0123456789ab", i);
        secret_seal(run[i].seal_b ? &b : &a, plain, 32, sealed);
        if (run[i].tamper)
            sealed[12 + (i % 32)] ^= 0x40;
        const struct secret_key *k = run[i].open_b ? &b : &a;
        int want_rc = secret_open(k, sealed, sizeof sealed, want);
        CHECK_INT(want_rc, run[i].tamper || run[i].seal_b != run[i].open_b ? KH_ECRYPTO : KH_OK);
        CHECK_INT(secret_opener_open(&o, k, sealed, sizeof sealed, got), want_rc);
        if (!want_rc)
            CHECK(memcmp(got, plain, 32) == 0);
        CHECK_INT(secret_opener_open(&o, k, sealed, SECRET_SEAL_OVERHEAD - 1, got), KH_ECRYPTO);
    }
    secret_opener_clear(&o);
    CHECK(o.ctx == NULL && o.key == NULL);
    secret_opener_clear(&o); /* twice is harmless */
}

static void secret_file_is_private_and_round_trips(void)
{
    char path[] = "/tmp/kh-secret-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    char err[256];
    struct server_secret a, b;
    CHECK_INT(secret_file_create(path, err, sizeof err), KH_OK);
    struct stat st;
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    CHECK_INT(secret_file_create(path, err, sizeof err), KH_ECONFLICT);
    CHECK_INT(secret_file_load(path, &a, err, sizeof err), KH_OK);
    CHECK_INT(secret_file_load(path, &b, err, sizeof err), KH_OK);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    chmod(path, 0644);
    CHECK_INT(secret_file_load(path, &a, err, sizeof err), KH_EINVAL);
    CHECK(strstr(err, "chmod 600") != NULL);
    FILE *f = fopen(path, "w");
    fputs("garbage\n", f);
    fclose(f);
    chmod(path, 0600);
    CHECK_INT(secret_file_load(path, &a, err, sizeof err), KH_EINVAL);
    unlink(path);
    CHECK_INT(secret_file_load(path, &a, err, sizeof err), KH_ENOTFOUND);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    chmod(path, 0600);
}

static int keep_version_1(int version, void *arg)
{
    (void)arg;
    return version == 1;
}

/* rotate-secret's file operations: versions are added atomically, loaded
 * newest first, old ones stay readable, and retain drops only what it is
 * told to (never the current version). */
static void secret_file_versions(void)
{
    char path[] = "/tmp/kh-secret-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    char err[256];
    struct server_secret v1, v3, again, kept;
    CHECK_INT(secret_file_create(path, err, sizeof err), KH_OK);
    CHECK_INT(secret_file_load(path, &v1, err, sizeof err), KH_OK);
    CHECK_INT(v1.n, 1);
    CHECK_INT(secret_current(&v1)->version, 1);
    CHECK_INT(secret_file_add_version(path, &v3, err, sizeof err), KH_OK);
    CHECK_INT(secret_file_add_version(path, &v3, err, sizeof err), KH_OK);
    CHECK_INT(v3.n, 3);
    CHECK_INT(secret_current(&v3)->version, 3);
    CHECK(secret_version(&v3, 4) == NULL);
    /* version 1 is unchanged, so what it sealed still opens */
    CHECK(memcmp(secret_version(&v3, 1), secret_current(&v1), sizeof(struct secret_key)) == 0);
    CHECK(memcmp(secret_version(&v3, 2)->enc_key, secret_version(&v3, 3)->enc_key, SECRET_KEY_LEN) != 0);
    CHECK_INT(secret_file_load(path, &again, err, sizeof err), KH_OK);
    CHECK(memcmp(&again, &v3, sizeof again) == 0);
    struct stat st;
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);

    CHECK_INT(secret_file_retain(path, keep_version_1, NULL, &kept, err, sizeof err), KH_OK);
    CHECK_INT(kept.n, 2);
    CHECK_INT(kept.keys[0].version, 3);
    CHECK_INT(kept.keys[1].version, 1);
    CHECK_INT(secret_file_load(path, &again, err, sizeof err), KH_OK);
    CHECK(memcmp(&again, &kept, sizeof again) == 0);

    /* a duplicated version or a malformed line is refused */
    char line[200];
    snprintf(line, sizeof line, "keyhold-secret v7 %064d\nkeyhold-secret v7 %064d\n", 1, 2);
    write_text(path, line);
    CHECK_INT(secret_file_load(path, &again, err, sizeof err), KH_EINVAL);
    snprintf(line, sizeof line, "keyhold-secret v7 %063dg\n", 1);
    write_text(path, line);
    CHECK_INT(secret_file_load(path, &again, err, sizeof err), KH_EINVAL);
    snprintf(line, sizeof line, "keyhold-secret v0 %064d\n", 1);
    write_text(path, line);
    CHECK_INT(secret_file_load(path, &again, err, sizeof err), KH_EINVAL);
    snprintf(line, sizeof line, "\nkeyhold-secret v12 %064d\n\n", 1);
    write_text(path, line);
    CHECK_INT(secret_file_load(path, &again, err, sizeof err), KH_OK);
    CHECK_INT(secret_current(&again)->version, 12);
    unlink(path);
}

static void random_strings_use_their_alphabets(void)
{
    char b62[200], hex[200];
    secret_random_base62(b62, sizeof b62);
    secret_random_hex(hex, sizeof hex);
    int ok62 = 1, okhex = 1, distinct = 0;
    for (size_t i = 0; i < sizeof b62; i++) {
        char c = b62[i];
        ok62 &= (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        okhex &= (hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f');
        distinct += i && b62[i] != b62[i - 1];
    }
    CHECK(ok62);
    CHECK(okhex);
    CHECK(distinct > 150);
}

/* The SipHash-2-4 reference vector (key 00..0f, message 00..0e): the
 * tables' hash is the real SipHash, keyed, and depends on every byte. */
static void siphash_matches_the_reference(void)
{
    uint8_t key[SECRET_SIPHASH_KEY_LEN], msg[15];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    uint64_t h = secret_siphash(key, msg, sizeof msg);
    static const uint8_t want[8] = {0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1}; /* the output's bytes */
    CHECK(memcmp(&h, want, 8) == 0);
    msg[14] ^= 1;
    CHECK(secret_siphash(key, msg, sizeof msg) != h);
    key[0] ^= 1;
    msg[14] ^= 1;
    CHECK(secret_siphash(key, msg, sizeof msg) != h);
}

int main(void)
{
    RUN(siphash_matches_the_reference);
    RUN(derived_keys_are_distinct_and_deterministic);
    RUN(hmac_depends_on_key_and_data);
    RUN(seal_round_trips_and_detects_tampering);
    RUN(an_opener_opens_a_run_like_secret_open);
    RUN(secret_file_is_private_and_round_trips);
    RUN(secret_file_versions);
    RUN(random_strings_use_their_alphabets);
    return TEST_SUMMARY();
}
