/* credentials.c - generation and storage of credential values (see
 * credentials.h). Values leave this file only through value_out, to be shown
 * once to whoever created them. */
#include "auth/credentials.h"

#include "util/secret.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

/* Seals value under the current secret version. */
static void seal_value(const struct server_secret *s, const char *value, size_t len, struct store_sealed *sealed)
{
    const struct secret_key *k = secret_current(s);
    secret_hmac(k->lookup_key, value, len, sealed->lookup);
    sealed->sealed_len = len + SECRET_SEAL_OVERHEAD;
    sealed->sealed = xmalloc(sealed->sealed_len);
    sealed->secret_version = k->version;
    secret_seal(k, value, len, sealed->sealed);
}

static void drop_sealed(struct store_sealed *sealed)
{
    free(sealed->sealed);
    sealed->sealed = NULL;
    sealed->sealed_len = 0;
}

int cred_api_key_store(struct store *st, const struct server_secret *s, struct store_api_key *key, const char *value)
{
    seal_value(s, value, API_KEY_VALUE_LEN, &key->key);
    memcpy(key->last4, value + API_KEY_VALUE_LEN - 4, 5);
    int rc = store_api_key_insert(st, key);
    drop_sealed(&key->key);
    return rc;
}

int cred_app_key_store(struct store *st, const struct server_secret *s, struct store_app_key *key, const char *value)
{
    seal_value(s, value, APP_KEY_VALUE_LEN, &key->key);
    memcpy(key->last4, value + APP_KEY_VALUE_LEN - 4, 5);
    int rc = store_app_key_insert(st, key);
    drop_sealed(&key->key);
    return rc;
}

int cred_api_key_create(struct store *st, const struct server_secret *s, struct store_api_key *key,
                        char value_out[API_KEY_VALUE_LEN + 1])
{
    secret_random_hex(value_out, API_KEY_VALUE_LEN);
    value_out[API_KEY_VALUE_LEN] = '\0';
    int rc = cred_api_key_store(st, s, key, value_out);
    if (rc)
        secret_wipe(value_out, API_KEY_VALUE_LEN);
    return rc;
}

int cred_app_key_create(struct store *st, const struct server_secret *s, struct store_app_key *key,
                        char value_out[APP_KEY_VALUE_LEN + 1])
{
    secret_random_hex(value_out, APP_KEY_VALUE_LEN);
    value_out[APP_KEY_VALUE_LEN] = '\0';
    int rc = cred_app_key_store(st, s, key, value_out);
    if (rc)
        secret_wipe(value_out, APP_KEY_VALUE_LEN);
    return rc;
}

int cred_value_plausible(const char *value, size_t len)
{
    if (!value || strlen(value) != len || token_looks_like(value, len))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = value[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
            return 0;
    }
    return 1;
}

int cred_token_create(struct store *st, const struct server_secret *s, struct store_token *tok,
                      char value_out[TOKEN_LEN + 1])
{
    char secret[TOKEN_SECRET_LEN + 1];
    token_mint(tok->kind == STORE_TOKEN_SAT ? TOKEN_SAT : TOKEN_PAT, tok->id, value_out, secret);
    tok->secret_version = secret_current(s)->version;
    secret_hmac(secret_current(s)->token_key, secret, TOKEN_SECRET_LEN, tok->secret_hash);
    secret_wipe(secret, sizeof secret);
    int rc = store_token_insert(st, tok);
    if (rc)
        secret_wipe(value_out, TOKEN_LEN);
    return rc;
}

int cred_token_rotate(struct store *st, const struct server_secret *s, const struct store_token *tok,
                      int64_t prev_valid_until, int64_t now, char value_out[TOKEN_LEN + 1])
{
    char secret[TOKEN_SECRET_LEN + 1];
    uint8_t hash[SECRET_HASH_LEN];
    token_mint(tok->kind == STORE_TOKEN_SAT ? TOKEN_SAT : TOKEN_PAT, tok->id, value_out, secret);
    secret_hmac(secret_current(s)->token_key, secret, TOKEN_SECRET_LEN, hash);
    secret_wipe(secret, sizeof secret);
    int rc = store_token_rotate(st, tok->org_id, tok->id, hash, secret_current(s)->version, prev_valid_until, now);
    if (rc)
        secret_wipe(value_out, TOKEN_LEN);
    return rc;
}

int cred_unseal_with(struct secret_opener *o, const struct server_secret *s, const struct store_sealed *sealed,
                     char *out, size_t outlen)
{
    if (sealed->sealed_len < SECRET_SEAL_OVERHEAD || sealed->sealed_len - SECRET_SEAL_OVERHEAD != outlen)
        return KH_ECRYPTO;
    const struct secret_key *k = secret_version(s, sealed->secret_version);
    int rc = k ? secret_opener_open(o, k, sealed->sealed, sealed->sealed_len, (uint8_t *)out) : KH_ECRYPTO;
    out[rc ? 0 : outlen] = '\0';
    return rc;
}

int cred_unseal(const struct server_secret *s, const struct store_sealed *sealed, char *out, size_t outlen)
{
    struct secret_opener o;
    secret_opener_init(&o);
    int rc = cred_unseal_with(&o, s, sealed, out, outlen);
    secret_opener_clear(&o);
    return rc;
}

int cred_reseal(const struct server_secret *s, const struct store_sealed *old, struct store_sealed *out)
{
    char value[APP_KEY_VALUE_LEN + 1];
    size_t len = old->sealed_len - SECRET_SEAL_OVERHEAD;
    if (old->sealed_len < SECRET_SEAL_OVERHEAD || len >= sizeof value)
        return KH_ECRYPTO;
    int rc = cred_unseal(s, old, value, len);
    if (!rc)
        seal_value(s, value, len, out);
    secret_wipe(value, sizeof value);
    return rc;
}

/* Tries the lookup hash of value under each secret version, newest first:
 * after a rotation of the server secret, keys not yet re-sealed are still
 * found. Then, only when no key has that value and now is not 0, the
 * previous values of keys in a rotation's overlap at now (found_by_previous
 * set). */
#define FIND_BY_VALUE(kind, finder, previous, clear)                                                                   \
    int cred_find_##kind(struct store *st, const struct server_secret *s, const char *value, size_t len,            \
                         int64_t now, struct store_##kind *out)                                                        \
    {                                                                                                                  \
        uint8_t lookup[SECRET_HASH_LEN];                                                                               \
        int rc = KH_ENOTFOUND;                                                                                         \
        memset(out, 0, sizeof *out);                                                                                   \
        for (int i = 0; i < s->n && rc == KH_ENOTFOUND; i++) {                                                        \
            secret_hmac(s->keys[i].lookup_key, value, len, lookup);                                                   \
            rc = finder(st, lookup, out);                                                                              \
            if (!rc && !secret_equal(lookup, out->key.lookup, SECRET_HASH_LEN)) {                                     \
                clear(out);                                                                                            \
                rc = KH_ENOTFOUND;                                                                                     \
            }                                                                                                          \
        }                                                                                                              \
        for (int i = 0; now && i < s->n && rc == KH_ENOTFOUND; i++) {                                                 \
            secret_hmac(s->keys[i].lookup_key, value, len, lookup);                                                   \
            rc = previous(st, lookup, now, out);                                                                       \
            if (!rc && !secret_equal(lookup, out->overlap.prev_lookup, SECRET_HASH_LEN)) {                            \
                clear(out);                                                                                            \
                rc = KH_ENOTFOUND;                                                                                     \
            }                                                                                                          \
            out->overlap.found_by_previous = !rc;                                                                      \
        }                                                                                                              \
        secret_wipe(lookup, sizeof lookup);                                                                            \
        return rc;                                                                                                     \
    }

FIND_BY_VALUE(api_key, store_api_key_find, store_api_key_find_previous, store_api_key_clear)
FIND_BY_VALUE(app_key, store_app_key_find, store_app_key_find_previous, store_app_key_clear)

/* A new random value of len characters for key id, sealed, stored in place
 * of the one in use (kept as the previous one until prev_valid_until). */
static int key_rotate(struct store *st, const struct server_secret *s, int kind, const char *org_id, const char *id,
                      const char *modified_by, size_t len, int64_t prev_valid_until, int64_t now, char *value_out)
{
    struct store_sealed sealed = {0};
    char last4[5];
    secret_random_hex(value_out, len);
    value_out[len] = '\0';
    seal_value(s, value_out, len, &sealed);
    memcpy(last4, value_out + len - 4, 5);
    int rc = store_key_rotate(st, kind, org_id, id, &sealed, last4, modified_by, prev_valid_until, now);
    drop_sealed(&sealed);
    if (rc)
        secret_wipe(value_out, len);
    return rc;
}

int cred_api_key_rotate(struct store *st, const struct server_secret *s, const struct store_api_key *key,
                        const char *modified_by, int64_t prev_valid_until, int64_t now,
                        char value_out[API_KEY_VALUE_LEN + 1])
{
    return key_rotate(st, s, STORE_TOUCH_API_KEY, key->org_id, key->id, modified_by, API_KEY_VALUE_LEN,
                      prev_valid_until, now, value_out);
}

int cred_app_key_rotate(struct store *st, const struct server_secret *s, const struct store_app_key *key,
                        int64_t prev_valid_until, int64_t now, char value_out[APP_KEY_VALUE_LEN + 1])
{
    return key_rotate(st, s, STORE_TOUCH_APP_KEY, key->org_id, key->id, NULL, APP_KEY_VALUE_LEN, prev_valid_until,
                      now, value_out);
}
