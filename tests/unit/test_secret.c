/* test_secret.c - keyed hashing, sealing, the secret file and randomness. */
#include "test.h"

#include "util/errors.h"
#include "util/secret.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void derived_keys_are_distinct_and_deterministic(void)
{
    uint8_t master[SECRET_KEY_LEN] = {1, 2, 3};
    struct server_secret a, b;
    secret_derive(master, &a);
    secret_derive(master, &b);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK(memcmp(a.token_key, a.lookup_key, SECRET_KEY_LEN) != 0);
    CHECK(memcmp(a.lookup_key, a.enc_key, SECRET_KEY_LEN) != 0);
    master[0] = 9;
    secret_derive(master, &b);
    CHECK(memcmp(a.token_key, b.token_key, SECRET_KEY_LEN) != 0);
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
    struct server_secret s, other;
    secret_derive(master, &s);
    master[0] = 8;
    secret_derive(master, &other);
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

int main(void)
{
    RUN(derived_keys_are_distinct_and_deterministic);
    RUN(hmac_depends_on_key_and_data);
    RUN(seal_round_trips_and_detects_tampering);
    RUN(secret_file_is_private_and_round_trips);
    RUN(random_strings_use_their_alphabets);
    return TEST_SUMMARY();
}
