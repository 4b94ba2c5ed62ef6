/* leakreport.c - GitHub secret scanning partner reports: the JSON array and
 * the ECDSA signature over it (see leakreport.h). jansson reads the JSON,
 * OpenSSL's EVP verifies; nothing here keeps or logs a reported token. */
#include "util/leakreport.h"

#include "util/secret.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_FILE_MAX (1024 * 1024)
#define MAX_KEYS 64
#define MAX_KEY_ID 256
#define MAX_SIG_B64 1024 /* a DER P-256 signature is at most 72 bytes: 96 in base64 */

static int failf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int failf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- the report ---- */

void leak_report_free(struct leak_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        struct leak_entry *e = &r->items[i];
        if (e->token)
            secret_wipe(e->token, e->token_len);
        free(e->token);
        free(e->type);
        free(e->url);
        free(e->source);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

/* A string member of entry i: required (non-empty) or optional (absent or
 * null gives NULL), at most max bytes, no NUL inside. */
static int member(json_t *o, size_t i, const char *name, int required, size_t max, char **out, size_t *out_len,
                  char *err, size_t errlen)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return failf(err, errlen, "Entry %zu of the report has no '%s' (a string is expected)", i, name);
        return 0;
    }
    if (!json_is_string(v))
        return failf(err, errlen, "Entry %zu of the report: '%s' must be a string", i, name);
    size_t len = json_string_length(v);
    if (required && len == 0)
        return failf(err, errlen, "Entry %zu of the report: '%s' is empty", i, name);
    if (len > max)
        return failf(err, errlen, "Entry %zu of the report: '%s' is longer than %zu bytes", i, name, max);
    if (memchr(json_string_value(v), '\0', len))
        return failf(err, errlen, "Entry %zu of the report: '%s' holds a NUL character", i, name);
    *out = xstrndup(json_string_value(v), len);
    if (out_len)
        *out_len = len;
    return 0;
}

int leak_report_parse(const char *body, size_t len, struct leak_report *out, char *err, size_t errlen)
{
    json_error_t jerr;
    memset(out, 0, sizeof *out);
    if (len > LEAK_MAX_BODY)
        return failf(err, errlen, "The report is larger than %d bytes", LEAK_MAX_BODY);
    /* JSON_ALLOW_NUL: a NUL inside a string is refused by member() with a
     * message, not by the parser with a vaguer one. */
    json_t *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!root)
        return failf(err, errlen, "The report is not valid JSON (line %d, column %d): %.80s", jerr.line, jerr.column,
                     jerr.text);
    int rc = 0;
    if (!json_is_array(root)) {
        rc = failf(err, errlen, "The report must be a JSON array of {\"token\",\"type\",\"url\",\"source\"} objects");
    } else if (json_array_size(root) == 0) {
        rc = failf(err, errlen, "The report is empty: at least one entry is expected");
    } else if (json_array_size(root) > LEAK_MAX_ENTRIES) {
        rc = failf(err, errlen, "The report has %zu entries; at most %d are accepted in one request",
                   json_array_size(root), LEAK_MAX_ENTRIES);
    } else {
        size_t n = json_array_size(root);
        out->items = xcalloc(n, sizeof *out->items);
        for (size_t i = 0; i < n && !rc; i++) {
            json_t *o = json_array_get(root, i);
            struct leak_entry *e = &out->items[i];
            out->n = i + 1;
            if (!json_is_object(o)) {
                rc = failf(err, errlen, "Entry %zu of the report must be an object", i);
                break;
            }
            rc = member(o, i, "token", 1, LEAK_MAX_TOKEN, &e->token, &e->token_len, err, errlen);
            if (!rc)
                rc = member(o, i, "type", 1, LEAK_MAX_TYPE, &e->type, NULL, err, errlen);
            if (!rc)
                rc = member(o, i, "url", 0, LEAK_MAX_URL, &e->url, NULL, err, errlen);
            if (!rc)
                rc = member(o, i, "source", 0, LEAK_MAX_SOURCE, &e->source, NULL, err, errlen);
        }
    }
    /* jansson's copy of the tokens goes with root: wipe the strings first. */
    if (json_is_array(root)) {
        size_t i;
        json_t *o;
        json_array_foreach(root, i, o)
        {
            json_t *t = json_object_get(o, "token");
            if (json_is_string(t))
                secret_wipe((char *)json_string_value(t), json_string_length(t));
        }
    }
    json_decref(root);
    return rc;
}

/* ---- the keys ---- */

struct leak_key {
    char *id;
    EVP_PKEY *pkey;
};

struct leak_keys {
    struct leak_key *items;
    size_t n;
};

size_t leak_keys_count(const struct leak_keys *k)
{
    return k ? k->n : 0;
}

void leak_keys_free(struct leak_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++) {
        free(k->items[i].id);
        EVP_PKEY_free(k->items[i].pkey);
    }
    free(k->items);
    free(k);
}

/* A PEM public key that must be ECDSA on P-256 (what GitHub signs with). */
static EVP_PKEY *read_p256(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    char group[64];
    size_t glen = 0;
    if (pkey && (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
                 !EVP_PKEY_get_group_name(pkey, group, sizeof group, &glen) ||
                 (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0))) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey;
}

static int add_key(struct leak_keys *k, size_t i, json_t *o, char *err, size_t errlen)
{
    json_t *id = json_object_get(o, "key_identifier"), *pem = json_object_get(o, "key");
    if (!json_is_object(o) || !json_is_string(id) || !json_is_string(pem))
        return failf(err, errlen, "public_keys[%zu] needs the strings key_identifier and key", i);
    const char *ids = json_string_value(id);
    if (!*ids || strlen(ids) > MAX_KEY_ID)
        return failf(err, errlen, "public_keys[%zu].key_identifier must be 1 to %d characters", i, MAX_KEY_ID);
    for (size_t j = 0; j < k->n; j++)
        if (strcmp(k->items[j].id, ids) == 0)
            return failf(err, errlen, "public_keys[%zu]: the key_identifier is listed twice", i);
    EVP_PKEY *pkey = read_p256(json_string_value(pem));
    if (!pkey)
        return failf(err, errlen, "public_keys[%zu].key is not an ECDSA P-256 public key in PEM", i);
    k->items[k->n].id = xstrdup(ids);
    k->items[k->n].pkey = pkey;
    k->n++;
    return 0;
}

struct leak_keys *leak_keys_parse(const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *arr = root ? json_object_get(root, "public_keys") : NULL;
    struct leak_keys *k = NULL;
    if (!root) {
        failf(err, errlen, "not JSON (line %d): %.80s", jerr.line, jerr.text);
    } else if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > MAX_KEYS) {
        failf(err, errlen, "expected {\"public_keys\":[{\"key_identifier\",\"key\",\"is_current\"}, ...]} with 1 to "
                           "%d keys",
              MAX_KEYS);
    } else {
        k = xcalloc(1, sizeof *k);
        k->items = xcalloc(json_array_size(arr), sizeof *k->items);
        size_t i;
        json_t *o;
        json_array_foreach(arr, i, o)
        {
            if (add_key(k, i, o, err, errlen)) {
                leak_keys_free(k);
                k = NULL;
                break;
            }
        }
    }
    json_decref(root);
    return k;
}

struct leak_keys *leak_keys_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        failf(err, errlen, "cannot open %s", path);
        return NULL;
    }
    char *text = xmalloc(KEYS_FILE_MAX + 1);
    size_t n = fread(text, 1, KEYS_FILE_MAX + 1, f);
    int bad = ferror(f) || n > KEYS_FILE_MAX;
    fclose(f);
    struct leak_keys *k = NULL;
    if (bad)
        failf(err, errlen, "cannot read %s (or it is larger than 1 MB)", path);
    else
        k = leak_keys_parse(text, n, err, errlen);
    free(text);
    return k;
}

/* ---- the signature ---- */

/* Decodes standard base64 (with its padding) into out; returns the length
 * or -1. EVP_DecodeBlock counts padding as zero bytes: they are taken off. */
static int unbase64(const char *s, size_t len, unsigned char *out, size_t outcap)
{
    if (len == 0 || len % 4 || len > MAX_SIG_B64 || len / 4 * 3 > outcap)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                 c == '/' || (c == '=' && i >= len - 2);
        if (!ok || (i == len - 2 && c == '=' && s[len - 1] != '='))
            return -1;
    }
    int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
    if (n < 0)
        return -1;
    return n - (s[len - 1] == '=') - (s[len - 2] == '=');
}

enum leak_sig_result leak_sig_verify(const struct leak_keys *k, const char *key_id, size_t key_id_len,
                                     const char *sig_b64, size_t sig_len, const void *body, size_t body_len)
{
    const struct leak_key *key = NULL;
    for (size_t i = 0; k && i < k->n && !key; i++)
        if (strlen(k->items[i].id) == key_id_len && memcmp(k->items[i].id, key_id, key_id_len) == 0)
            key = &k->items[i];
    if (!key)
        return LEAK_SIG_UNKNOWN_KEY;
    unsigned char der[MAX_SIG_B64];
    int der_len = unbase64(sig_b64, sig_len, der, sizeof der);
    if (der_len <= 0)
        return LEAK_SIG_MALFORMED;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        abort(); /* allocation failure: as xmalloc does */
    int ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
             EVP_DigestVerify(ctx, (const unsigned char *)der, (size_t)der_len, body, body_len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? LEAK_SIG_OK : LEAK_SIG_BAD;
}
