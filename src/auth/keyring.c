/* keyring.c - see keyring.h. */
#include "auth/keyring.h"

#include "auth/credentials.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_KEY "secret_fingerprints"

/* The fingerprint recorded for version in the meta text, copied to out;
 * returns 0 when none is. */
static int recorded(const char *text, int version, char out[SECRET_FINGERPRINT_LEN + 1])
{
    for (const char *p = text; p && *p;) {
        int v, n = 0;
        char fp[SECRET_FINGERPRINT_LEN + 1];
        if (sscanf(p, "%d:%32[0-9a-f]%n", &v, fp, &n) == 2 && v == version) {
            memcpy(out, fp, sizeof fp);
            return 1;
        }
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return 0;
}

static int read_record(struct store *st, char **text)
{
    int rc = store_meta_get(st, META_KEY, text);
    if (rc == KH_ENOTFOUND) {
        *text = NULL;
        return KH_OK;
    }
    return rc;
}

/* A version the store has no fingerprint of (a store made before there were
 * fingerprints): proven by opening a key sealed under it, whose AES-GCM tag
 * only the right secret verifies. Returns 0 when it is refuted; a store
 * without such a key has nothing to refute it with. */
static int version_opens_the_store(struct store *st, const struct server_secret *secret, int version, int *rc)
{
    struct store_sealed sample;
    char value[128];
    *rc = store_sealed_sample(st, version, &sample);
    if (*rc == KH_ENOTFOUND) {
        *rc = KH_OK;
        return 1;
    }
    if (*rc)
        return 1;
    size_t len = sample.sealed_len > SECRET_SEAL_OVERHEAD ? sample.sealed_len - SECRET_SEAL_OVERHEAD : 0;
    int opens = len > 0 && len < sizeof value && cred_unseal(secret, &sample, value, len) == KH_OK;
    secret_wipe(value, sizeof value);
    store_sealed_clear(&sample);
    return opens;
}

int keyring_check(struct store *st, const struct server_secret *secret, int64_t now, enum keyring_verdict *verdict,
                  int *version)
{
    char *text = NULL, mine[SECRET_FINGERPRINT_LEN + 1], theirs[SECRET_FINGERPRINT_LEN + 1];
    int used[SECRET_MAX_VERSIONS * 4];
    size_t n_used = 0;
    *verdict = KEYRING_OK;
    *version = 0;
    int rc = read_record(st, &text);
    for (int i = 0; !rc && i < secret->n && *verdict == KEYRING_OK; i++) {
        int v = secret->keys[i].version, fits;
        if (recorded(text, v, theirs)) {
            secret_fingerprint(&secret->keys[i], mine);
            fits = strcmp(mine, theirs) == 0;
        } else {
            fits = version_opens_the_store(st, secret, v, &rc);
        }
        if (!fits)
            *verdict = KEYRING_MISMATCH, *version = v;
    }
    free(text);
    if (!rc && *verdict == KEYRING_OK)
        rc = store_secret_versions(st, now, used, sizeof used / sizeof used[0], &n_used);
    for (size_t i = 0; !rc && *verdict == KEYRING_OK && i < n_used; i++)
        if (!secret_version(secret, used[i]))
            *verdict = KEYRING_MISSING, *version = used[i];
    return rc;
}

int keyring_record(struct store *st, const struct server_secret *secret)
{
    char *text = NULL, fp[SECRET_FINGERPRINT_LEN + 1];
    struct buf b;
    int added = 0;
    int rc = read_record(st, &text);
    if (rc)
        return rc;
    buf_init(&b, 64 * 1024);
    buf_printf(&b, "%s", text ? text : "");
    for (int i = secret->n - 1; i >= 0; i--) { /* oldest first */
        if (recorded(text, secret->keys[i].version, fp))
            continue;
        secret_fingerprint(&secret->keys[i], fp);
        buf_printf(&b, "%s%d:%s", b.len ? " " : "", secret->keys[i].version, fp);
        added = 1;
    }
    if (added)
        rc = store_meta_set(st, META_KEY, b.p);
    buf_free(&b);
    free(text);
    return rc;
}
