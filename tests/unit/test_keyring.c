/* test_keyring.c - the store's record of its server secret (auth/keyring.h):
 * the right secret passes, another one is a mismatch naming the version, a
 * secret without a version live credentials use is missing it, and the
 * record learns new versions without forgetting old ones; a store made
 * before fingerprints proves a secret by opening one of its keys. */
#include "test.h"

#include "auth/keyring.h"
#include "fixture.h"
#include "util/clock.h"

static enum keyring_verdict verdict_of(struct store *st, const struct server_secret *s, int *version)
{
    enum keyring_verdict v;
    CHECK_INT(keyring_check(st, s, clock_now_us(), &v, version), KH_OK);
    return v;
}

static void fingerprints_tell_secrets_apart(void)
{
    uint8_t a[SECRET_KEY_LEN] = {1}, b[SECRET_KEY_LEN] = {2};
    struct secret_key ka, ka2, kb;
    char fa[SECRET_FINGERPRINT_LEN + 1], fa2[SECRET_FINGERPRINT_LEN + 1], fb[SECRET_FINGERPRINT_LEN + 1];
    secret_derive(a, 1, &ka);
    secret_derive(a, 1, &ka2);
    secret_derive(b, 1, &kb);
    secret_fingerprint(&ka, fa);
    secret_fingerprint(&ka2, fa2);
    secret_fingerprint(&kb, fb);
    CHECK_STR(fa, fa2);
    CHECK(strcmp(fa, fb) != 0);
    CHECK_INT(strlen(fa), SECRET_FINGERPRINT_LEN);
    CHECK(!strstr(fa, "0101")); /* not the master's bytes */
}

static void the_stores_own_secret_passes_and_another_does_not(void)
{
    struct fixture f;
    int version;
    fixture_open(&f);
    /* A store without a record yet: nothing to compare, versions in use are there. */
    CHECK_INT(verdict_of(f.st, &f.secret, &version), KEYRING_OK);
    CHECK_INT(keyring_record(f.st, &f.secret), KH_OK);
    CHECK_INT(verdict_of(f.st, &f.secret, &version), KEYRING_OK);

    uint8_t other_master[SECRET_KEY_LEN] = {7};
    struct server_secret other;
    secret_from_master(other_master, &other);
    CHECK_INT(verdict_of(f.st, &other, &version), KEYRING_MISMATCH);
    CHECK_INT(version, 1);
    fixture_close(&f);
}

static void a_version_in_use_must_be_there(void)
{
    struct fixture f;
    int version;
    fixture_open(&f);
    CHECK_INT(keyring_record(f.st, &f.secret), KH_OK);
    /* The same master under another version number: the store's keys were
     * made under v1, which this secret does not hold. */
    uint8_t master[SECRET_KEY_LEN] = {42};
    struct server_secret renumbered = {.n = 1};
    secret_derive(master, 2, &renumbered.keys[0]);
    CHECK_INT(verdict_of(f.st, &renumbered, &version), KEYRING_MISSING);
    CHECK_INT(version, 1);

    /* A second version is learnt, and the first stays recorded. */
    struct server_secret two = {.n = 2};
    uint8_t newer[SECRET_KEY_LEN] = {43};
    secret_derive(newer, 2, &two.keys[0]);
    two.keys[1] = f.secret.keys[0];
    CHECK_INT(keyring_record(f.st, &two), KH_OK);
    char *text = NULL;
    CHECK_INT(store_meta_get(f.st, "secret_fingerprints", &text), KH_OK);
    CHECK(text && strncmp(text, "1:", 2) == 0 && strstr(text, " 2:"));
    free(text);
    CHECK_INT(verdict_of(f.st, &two, &version), KEYRING_OK);
    /* now v2 is recorded: a different v2 is a mismatch */
    struct server_secret wrong2 = two;
    uint8_t other[SECRET_KEY_LEN] = {44};
    secret_derive(other, 2, &wrong2.keys[0]);
    CHECK_INT(verdict_of(f.st, &wrong2, &version), KEYRING_MISMATCH);
    CHECK_INT(version, 2);
    fixture_close(&f);
}

/* A store from before fingerprints: a secret is proven by opening one of
 * its keys, so the wrong file is refused and never recorded. */
static void a_store_without_fingerprints_still_tells_the_wrong_secret(void)
{
    struct fixture f;
    int version;
    fixture_open(&f); /* provisioned, never recorded */
    char *text = NULL;
    CHECK_INT(store_meta_get(f.st, "secret_fingerprints", &text), KH_ENOTFOUND);
    uint8_t other_master[SECRET_KEY_LEN] = {7};
    struct server_secret other;
    secret_from_master(other_master, &other);
    CHECK_INT(verdict_of(f.st, &other, &version), KEYRING_MISMATCH);
    CHECK_INT(version, 1);
    CHECK_INT(verdict_of(f.st, &f.secret, &version), KEYRING_OK);
    fixture_close(&f);
}

int main(void)
{
    RUN(fingerprints_tell_secrets_apart);
    RUN(the_stores_own_secret_passes_and_another_does_not);
    RUN(a_version_in_use_must_be_there);
    RUN(a_store_without_fingerprints_still_tells_the_wrong_secret);
    return TEST_SUMMARY();
}
