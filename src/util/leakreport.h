/* leakreport.h - leak reports in GitHub's secret scanning partner format,
 * and the signature GitHub puts on them (POST /api/v2/keyhold/leaks,
 * docs/operations/leaks.md).
 *
 * A report is a JSON array of {"token","type","url","source"} objects:
 * token and type are strings, url and source strings or null (missing is
 * null); other members are ignored, as GitHub may add some. GitHub signs
 * the raw body: Github-Public-Key-Signature is the base64 of a DER ECDSA
 * signature (P-256, SHA-256) by the key Github-Public-Key-Identifier names,
 * one of those GitHub publishes as
 *   {"public_keys":[{"key_identifier":"...","key":"-----BEGIN PUBLIC KEY-----...","is_current":true}]}
 * which the server loads from a file (serve --leak-public-keys). Every key
 * listed is accepted, current or not (GitHub rotates them); the operator
 * removes one by editing the file.
 *
 * Parsing and verifying use no store and no request: the unit test and the
 * fuzz driver call them directly. */
#ifndef KH_LEAKREPORT_H
#define KH_LEAKREPORT_H

#include <stddef.h>

/* Bounds of what a report may hold (anything larger is refused 400/413). */
#define LEAK_MAX_BODY (256 * 1024)
#define LEAK_MAX_ENTRIES 500
#define LEAK_MAX_TOKEN 256
#define LEAK_MAX_TYPE 128
#define LEAK_MAX_URL 2048
#define LEAK_MAX_SOURCE 128

struct leak_entry {
    char *token; /* owned; wiped by leak_report_free */
    size_t token_len;
    char *type;   /* owned */
    char *url;    /* owned, or NULL */
    char *source; /* owned, or NULL */
};

struct leak_report {
    struct leak_entry *items;
    size_t n;
};

/* Parses body (len bytes) into *out (caller frees with leak_report_free,
 * also after a failure). Returns 0, or -1 with a message fit for a 400 in
 * err (never quoting a token). */
int leak_report_parse(const char *body, size_t len, struct leak_report *out, char *err, size_t errlen);
/* Wipes the tokens and frees everything; a zeroed report may be freed. */
void leak_report_free(struct leak_report *r);

/* The public keys a server accepts signatures from. */
struct leak_keys;

/* Parses a file's text in GitHub's shape. Returns NULL with a message in
 * err when it is not that shape, or a key is not an ECDSA P-256 public key
 * in PEM, or two keys share an identifier. */
struct leak_keys *leak_keys_parse(const char *text, size_t len, char *err, size_t errlen);
/* Reads and parses a file (at most 1 MB). */
struct leak_keys *leak_keys_load(const char *path, char *err, size_t errlen);
size_t leak_keys_count(const struct leak_keys *k);
void leak_keys_free(struct leak_keys *k);

enum leak_sig_result {
    LEAK_SIG_OK = 0,
    LEAK_SIG_UNKNOWN_KEY, /* no key has that identifier (or no keys at all) */
    LEAK_SIG_MALFORMED,   /* the signature is not base64 of a DER ECDSA signature */
    LEAK_SIG_BAD,         /* a well-formed signature that does not verify */
};

/* Verifies sig_b64 (the header's value) over body with the key named
 * key_id; k may be NULL (no keys configured: LEAK_SIG_UNKNOWN_KEY). */
enum leak_sig_result leak_sig_verify(const struct leak_keys *k, const char *key_id, size_t key_id_len,
                                     const char *sig_b64, size_t sig_len, const void *body, size_t body_len);

#endif
