/* credentials.h - minting credentials: the one place where a new API key,
 * application key or token value is generated, sealed or hashed, and stored.
 * Used by the API handlers and by the CLI (init, org add, user add). */
#ifndef KH_CREDENTIALS_H
#define KH_CREDENTIALS_H

#include "store/store.h"
#include "util/token.h"

#define API_KEY_VALUE_LEN 32
#define APP_KEY_VALUE_LEN 40

/* Fills key->key (sealed value and lookup hash) and key->last4 from a fresh
 * 32-hex-character value, inserts the row, and copies the value to
 * value_out. The caller fills the other fields; key->key is freed here on
 * every path. */
int cred_api_key_create(struct store *st, const struct server_secret *s, struct store_api_key *key,
                        char value_out[API_KEY_VALUE_LEN + 1]);
/* The same for a 40-hex-character application key. */
int cred_app_key_create(struct store *st, const struct server_secret *s, struct store_app_key *key,
                        char value_out[APP_KEY_VALUE_LEN + 1]);
/* The same with a value chosen by the operator (keyhold serve --ephemeral
 * --api-key/--app-key): value is API_KEY_VALUE_LEN / APP_KEY_VALUE_LEN
 * characters that cred_value_plausible() accepted. */
int cred_api_key_store(struct store *st, const struct server_secret *s, struct store_api_key *key, const char *value);
int cred_app_key_store(struct store *st, const struct server_secret *s, struct store_app_key *key, const char *value);
/* Non-zero when value is exactly len characters of [0-9A-Za-z_] and does not
 * look like a PAT or SAT (which DD-APPLICATION-KEY would route to tokens). */
int cred_value_plausible(const char *value, size_t len);
/* Mints a token for tok (id, org, owner, name, scopes, times filled by the
 * caller; kind decides the prefix), stores its keyed hash and writes the
 * whole token to value_out. */
int cred_token_create(struct store *st, const struct server_secret *s, struct store_token *tok,
                      char value_out[TOKEN_LEN + 1]);
/* Decrypts a sealed key value into out (len bytes + NUL); KH_ECRYPTO if the
 * stored value does not authenticate. */
/* Mints a new secret for the live token tok (same id, kind and so alias),
 * keeping the one in use valid until prev_valid_until (now for none):
 * store_token_rotate's results. value_out gets the new token. */
int cred_token_rotate(struct store *st, const struct server_secret *s, const struct store_token *tok,
                      int64_t prev_valid_until, int64_t now, char value_out[TOKEN_LEN + 1]);
int cred_unseal(const struct server_secret *s, const struct store_sealed *sealed, char *out, size_t outlen);
/* The same for one of a run of values (a list's keys), through the caller's
 * opener (util/secret.h), which keeps the cipher set up between them. */
int cred_unseal_with(struct secret_opener *o, const struct server_secret *s, const struct store_sealed *sealed,
                     char *out, size_t outlen);
/* Finds a key by its presented value, whichever secret version it is sealed
 * under, or, failing that, by its previous value while a rotation's overlap
 * is open at now (out->overlap.found_by_previous; now 0: never by the
 * previous value). KH_OK, KH_ENOTFOUND or a
 * store error; *out as the store fills it. */
int cred_find_api_key(struct store *st, const struct server_secret *s, const char *value, size_t len, int64_t now,
                      struct store_api_key *out);
int cred_find_app_key(struct store *st, const struct server_secret *s, const char *value, size_t len, int64_t now,
                      struct store_app_key *out);
/* Rotate a key: a new value (in value_out, to be shown once) replaces the
 * one in use, which is still accepted until prev_valid_until (the store
 * closes the overlap sooner on the new value's first use). KH_ECONFLICT
 * while an earlier rotation's overlap is open, KH_ENOTFOUND when the key is
 * gone; value_out is wiped on failure. */
int cred_api_key_rotate(struct store *st, const struct server_secret *s, const struct store_api_key *key,
                        const char *modified_by, int64_t prev_valid_until, int64_t now,
                        char value_out[API_KEY_VALUE_LEN + 1]);
int cred_app_key_rotate(struct store *st, const struct server_secret *s, const struct store_app_key *key,
                        int64_t prev_valid_until, int64_t now, char value_out[APP_KEY_VALUE_LEN + 1]);
/* Opens *old (under whichever version sealed it) and seals the value again
 * under the current version into *out (out->sealed from xmalloc). */
int cred_reseal(const struct server_secret *s, const struct store_sealed *old, struct store_sealed *out);

#endif
