/* secret.h - everything keyhold does with cryptography, on OpenSSL's libcrypto.
 *
 * The server secret (a file outside the database, mode 0600, made by
 * `keyhold init`) holds one 32-byte master key. Three subkeys are derived from
 * it with HMAC-SHA-256 so that no key serves two purposes:
 *   token_key   keyed hash of PAT/SAT secrets (the only form stored)
 *   lookup_key  keyed hash of API/application key values, the index by which
 *               a presented key is found without storing it in plain text
 *   enc_key     AES-256-GCM key for API/application key values, which
 *               Datadog's API returns on some reads
 *   audit_key   HMAC key of the audit trail's signed checkpoints
 *
 * The secret is versioned so that it can be rotated (`keyhold rotate-secret`):
 * the file holds one line per version, "keyhold-secret v<N> <64 hex chars>\n".
 * The newest version seals and hashes everything new; every row records the
 * version it was made under, so older versions stay usable for reading until
 * no live row needs them (API and application keys are re-sealed under the
 * new version at rotation; token hashes cannot be, since only the hash is
 * stored, so their version stays in the file while such tokens live). */
#ifndef KH_SECRET_H
#define KH_SECRET_H

#include <stddef.h>
#include <stdint.h>

#define SECRET_KEY_LEN 32
#define SECRET_HASH_LEN 32
/* nonce (12) + tag (16) around the ciphertext */
#define SECRET_SEAL_OVERHEAD 28
#define SECRET_MAX_VERSIONS 32

/* One version of the server secret and its derived subkeys. */
struct secret_key {
    int version;
    uint8_t master[SECRET_KEY_LEN]; /* kept to rewrite the file on rotation */
    uint8_t token_key[SECRET_KEY_LEN];
    uint8_t lookup_key[SECRET_KEY_LEN];
    uint8_t enc_key[SECRET_KEY_LEN];
    uint8_t audit_key[SECRET_KEY_LEN];
};

/* Every version in the secret file, newest first (keys[0] is current). */
struct server_secret {
    int n;
    struct secret_key keys[SECRET_MAX_VERSIONS];
};

/* Fills buf with n bytes from the CSPRNG; aborts if the CSPRNG fails, since
 * no credential may ever be minted from weak randomness. */
void secret_random(void *buf, size_t n);
/* n random characters of [0-9A-Za-z] (rejection sampling, no modulo bias). */
void secret_random_base62(char *out, size_t n);
/* n random lowercase hex characters. */
void secret_random_hex(char *out, size_t n);

void secret_hmac(const uint8_t key[SECRET_KEY_LEN], const void *data, size_t len, uint8_t out[SECRET_HASH_LEN]);
/* SHA-256 of data. */
void secret_sha256(const void *data, size_t len, uint8_t out[SECRET_HASH_LEN]);
/* MD5 of data as 32 lowercase hex characters and a NUL. Not for secrets:
 * Gravatar addresses an avatar by the MD5 of an email (a user's `icon`). */
void secret_md5_hex(const void *data, size_t len, char out[33]);
/* Constant-time comparison; returns 1 when equal. */
int secret_equal(const void *a, const void *b, size_t n);
void secret_wipe(void *p, size_t n);

/* AES-256-GCM. seal writes len + SECRET_SEAL_OVERHEAD bytes to out.
 * open writes len - SECRET_SEAL_OVERHEAD bytes; returns KH_ECRYPTO when the
 * tag does not verify. */
void secret_seal(const struct secret_key *k, const void *in, size_t len, uint8_t *out);
int secret_open(const struct secret_key *k, const uint8_t *in, size_t len, uint8_t *out);
/* secret_open for a run of values, such as the keys of a list: one cipher
 * context for the run, and a key's schedule set up when the key changes
 * rather than for every value (issue 14: the cipher's lookup and setup were
 * most of an open). The key last used must stay where it is until the next
 * open or the clear (a server_secret outlives a request). init allocates
 * nothing; clear frees the context, which OpenSSL cleanses. */
struct secret_opener {
    void *ctx;                    /* EVP_CIPHER_CTX, made by the first open */
    const struct secret_key *key; /* whose schedule ctx holds; NULL: none */
};
void secret_opener_init(struct secret_opener *o);
int secret_opener_open(struct secret_opener *o, const struct secret_key *k, const uint8_t *in, size_t len,
                       uint8_t *out);
void secret_opener_clear(struct secret_opener *o);

/* The version new rows are made under. */
const struct secret_key *secret_current(const struct server_secret *s);
/* The given version, or NULL when the file no longer holds it. */
const struct secret_key *secret_version(const struct server_secret *s, int version);

/* Creates a new secret file with mode 0600; fails with KH_ECONFLICT if it
 * exists. */
int secret_file_create(const char *path, char *err, size_t errlen);
/* Loads every version of a secret file; refuses one readable or writable by
 * group/others, and malformed or duplicate lines. */
int secret_file_load(const char *path, struct server_secret *out, char *err, size_t errlen);
/* Adds a new random version (one above the newest) to the file, replacing it
 * atomically (0600, fsync, rename); *out is the new content. */
int secret_file_add_version(const char *path, struct server_secret *out, char *err, size_t errlen);
/* Rewrites the file keeping only the current version and the versions for
 * which keep(version, arg) is true; *out is the new content. */
int secret_file_retain(const char *path, int (*keep)(int version, void *arg), void *arg, struct server_secret *out,
                       char *err, size_t errlen);
/* SipHash-2-4 (64-bit) of data under a 16-byte key, for hash tables whose
 * keys attackers choose: without the key nobody can tell where a string
 * lands, so nobody can aim strings at one bucket. Not a MAC for secrets. */
#define SECRET_SIPHASH_KEY_LEN 16
uint64_t secret_siphash(const uint8_t key[SECRET_SIPHASH_KEY_LEN], const void *data, size_t len);

/* A fingerprint of one version (32 hex characters): HMAC-SHA-256 of a fixed
 * label under its master key, so it tells versions apart and says nothing of
 * the key. The store records one per version (auth/keyring.h). */
#define SECRET_FINGERPRINT_LEN 32
void secret_fingerprint(const struct secret_key *k, char out[SECRET_FINGERPRINT_LEN + 1]);
/* A one-version secret (version 1) from a master key, as tests use. */
void secret_from_master(const uint8_t master[SECRET_KEY_LEN], struct server_secret *out);
/* Derives the subkeys of one version from its master key (exposed for tests). */
void secret_derive(const uint8_t master[SECRET_KEY_LEN], int version, struct secret_key *out);

#endif
