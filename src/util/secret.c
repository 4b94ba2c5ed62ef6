/* secret.c - CSPRNG, keyed hashes, AES-GCM and the server secret file, all on
 * OpenSSL's libcrypto (see secret.h for the key layout). */
#define _POSIX_C_SOURCE 200809L
#include "util/secret.h"

#include "util/errors.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void secret_random(void *buf, size_t n)
{
    if (RAND_bytes(buf, (int)n) != 1) {
        fprintf(stderr, "keyhold: CSPRNG failure\n");
        abort();
    }
}

void secret_random_base62(char *out, size_t n)
{
    size_t i = 0;
    uint8_t pool[64];
    while (i < n) {
        secret_random(pool, sizeof pool);
        for (size_t j = 0; j < sizeof pool && i < n; j++) {
            /* 248 = 4 * 62: values at or above it would bias the result. */
            if (pool[j] < 248)
                out[i++] = B62[pool[j] % 62];
        }
    }
    secret_wipe(pool, sizeof pool);
}

void secret_random_hex(char *out, size_t n)
{
    static const char HEX[] = "0123456789abcdef";
    uint8_t b[64];
    for (size_t i = 0; i < n;) {
        secret_random(b, sizeof b);
        for (size_t j = 0; j < sizeof b && i < n; j++)
            out[i++] = HEX[b[j] & 0x0f];
    }
    secret_wipe(b, sizeof b);
}

void secret_hmac(const uint8_t key[SECRET_KEY_LEN], const void *data, size_t len, uint8_t out[SECRET_HASH_LEN])
{
    unsigned int outlen = SECRET_HASH_LEN;
    if (!HMAC(EVP_sha256(), key, SECRET_KEY_LEN, data, len, out, &outlen))
        abort();
}

int secret_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void secret_sha256(const void *data, size_t len, uint8_t out[SECRET_HASH_LEN])
{
    unsigned int n = 0;
    if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) || n != SECRET_HASH_LEN)
        abort(); /* a broken libcrypto: nothing sensible to answer */
}

void secret_md5_hex(const void *data, size_t len, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const char hex[] = "0123456789abcdef";
    if (!EVP_Digest(data, len, md, &n, EVP_md5(), NULL) || n != 16)
        abort(); /* a broken libcrypto: nothing sensible to answer */
    for (unsigned i = 0; i < 16; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[32] = '\0';
}

void secret_wipe(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}

void secret_seal(const struct secret_key *s, const void *in, size_t len, uint8_t *out)
{
    uint8_t *nonce = out, *ct = out + 12, *tag = out + 12 + len;
    int n = 0;
    secret_random(nonce, 12);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, s->enc_key, nonce) != 1 ||
        EVP_EncryptUpdate(c, ct, &n, in, (int)len) != 1 || EVP_EncryptFinal_ex(c, ct + n, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
        abort();
    EVP_CIPHER_CTX_free(c);
}

void secret_opener_init(struct secret_opener *o)
{
    o->ctx = NULL;
    o->key = NULL;
}

void secret_opener_clear(struct secret_opener *o)
{
    EVP_CIPHER_CTX_free(o->ctx); /* NULL-safe; cleanses the key schedule */
    secret_opener_init(o);
}

int secret_opener_open(struct secret_opener *o, const struct secret_key *k, const uint8_t *in, size_t len,
                       uint8_t *out)
{
    if (len < SECRET_SEAL_OVERHEAD)
        return KH_ECRYPTO;
    size_t ctlen = len - SECRET_SEAL_OVERHEAD;
    const uint8_t *nonce = in, *ct = in + 12, *tag = in + 12 + ctlen;
    int n = 0, ok;
    if (!o->ctx && !(o->ctx = EVP_CIPHER_CTX_new()))
        abort();
    EVP_CIPHER_CTX *c = o->ctx;
    /* The same key as the last open: only the nonce is new, and the cipher
     * keeps its key schedule. Otherwise (first open, new key, or after a
     * failure) the context is set up from scratch. */
    if (o->key == k)
        ok = EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) == 1;
    else
        ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->enc_key, nonce) == 1;
    o->key = ok ? k : NULL;
    ok = ok && EVP_DecryptUpdate(c, out, &n, ct, (int)ctlen) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) == 1 &&
         EVP_DecryptFinal_ex(c, out + n, &n) == 1;
    if (!ok) {
        o->key = NULL;
        secret_wipe(out, ctlen);
        return KH_ECRYPTO;
    }
    return KH_OK;
}

int secret_open(const struct secret_key *s, const uint8_t *in, size_t len, uint8_t *out)
{
    struct secret_opener o;
    secret_opener_init(&o);
    int rc = secret_opener_open(&o, s, in, len, out);
    secret_opener_clear(&o);
    return rc;
}

const struct secret_key *secret_current(const struct server_secret *s)
{
    return &s->keys[0];
}

const struct secret_key *secret_version(const struct server_secret *s, int version)
{
    for (int i = 0; i < s->n; i++)
        if (s->keys[i].version == version)
            return &s->keys[i];
    return NULL;
}

/* The labels name the derivation scheme, not the secret version: every
 * version derives its subkeys the same way from its own master key. */
void secret_derive(const uint8_t master[SECRET_KEY_LEN], int version, struct secret_key *out)
{
    out->version = version;
    memcpy(out->master, master, SECRET_KEY_LEN);
    secret_hmac(master, "keyhold token hash v1", 21, out->token_key);
    secret_hmac(master, "keyhold key lookup v1", 21, out->lookup_key);
    secret_hmac(master, "keyhold key encryption v1", 25, out->enc_key);
    secret_hmac(master, "keyhold audit checkpoint v1", 27, out->audit_key);
}

/* ---- SipHash for hash tables (OpenSSL's EVP_MAC "SIPHASH") ----
 *
 * A context per thread, made once and re-keyed on each call (which for
 * SipHash only loads the key): no allocation on the request path. Freed by
 * the thread-specific key's destructor when its thread ends. */

static pthread_once_t siphash_once = PTHREAD_ONCE_INIT;
static pthread_key_t siphash_ctx_key;
static EVP_MAC *siphash_mac;

static void free_siphash_ctx(void *ctx)
{
    EVP_MAC_CTX_free(ctx);
}

static void siphash_setup(void)
{
    siphash_mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    if (!siphash_mac || pthread_key_create(&siphash_ctx_key, free_siphash_ctx) != 0)
        abort(); /* the library cannot hash: nothing would be safe to go on with */
}

uint64_t secret_siphash(const uint8_t key[SECRET_SIPHASH_KEY_LEN], const void *data, size_t len)
{
    size_t size = sizeof(uint64_t), out_len = 0;
    unsigned char out[sizeof(uint64_t)];
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size), OSSL_PARAM_construct_end()};
    pthread_once(&siphash_once, siphash_setup);
    EVP_MAC_CTX *ctx = pthread_getspecific(siphash_ctx_key);
    if (!ctx) {
        if (!(ctx = EVP_MAC_CTX_new(siphash_mac)) || pthread_setspecific(siphash_ctx_key, ctx) != 0)
            abort();
    }
    if (!EVP_MAC_init(ctx, key, SECRET_SIPHASH_KEY_LEN, params) || !EVP_MAC_update(ctx, data, len) ||
        !EVP_MAC_final(ctx, out, &out_len, sizeof out) || out_len != sizeof out)
        abort();
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

void secret_fingerprint(const struct secret_key *k, char out[SECRET_FINGERPRINT_LEN + 1])
{
    uint8_t mac[SECRET_HASH_LEN];
    static const char hex[] = "0123456789abcdef";
    secret_hmac(k->master, "keyhold secret fingerprint v1", 29, mac);
    for (int i = 0; i < SECRET_FINGERPRINT_LEN / 2; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[SECRET_FINGERPRINT_LEN] = '\0';
    secret_wipe(mac, sizeof mac);
}

void secret_from_master(const uint8_t master[SECRET_KEY_LEN], struct server_secret *out)
{
    memset(out, 0, sizeof *out);
    out->n = 1;
    secret_derive(master, 1, &out->keys[0]);
}

/* "keyhold-secret v<N> <64 hex>" */
static int parse_line(const char *line, size_t len, struct secret_key *out)
{
    uint8_t master[SECRET_KEY_LEN];
    char *end;
    if (len < 16 || memcmp(line, "keyhold-secret v", 16) != 0)
        return KH_EINVAL;
    errno = 0;
    long version = strtol(line + 16, &end, 10);
    if (errno || end == line + 16 || version < 1 || version > 1000000 || *end != ' ' ||
        (size_t)(end + 1 - line) + 2 * SECRET_KEY_LEN != len)
        return KH_EINVAL;
    const char *hex = end + 1;
    for (size_t i = 0; i < SECRET_KEY_LEN; i++) {
        char hx[3] = {hex[2 * i], hex[2 * i + 1], 0};
        if (!isxdigit((unsigned char)hx[0]) || !isxdigit((unsigned char)hx[1]))
            return KH_EINVAL;
        master[i] = (uint8_t)strtoul(hx, NULL, 16);
    }
    secret_derive(master, (int)version, out);
    secret_wipe(master, sizeof master);
    return KH_OK;
}

static int newest_first(const void *a, const void *b)
{
    return ((const struct secret_key *)b)->version - ((const struct secret_key *)a)->version;
}

/* Parses the file content: every line a version, newest first after. */
static int parse_file(char *text, size_t len, struct server_secret *out)
{
    memset(out, 0, sizeof *out);
    for (size_t at = 0; at < len;) {
        char *nl = memchr(text + at, '\n', len - at);
        size_t line_len = (nl ? (size_t)(nl - text) : len) - at;
        if (line_len) {
            if (out->n == SECRET_MAX_VERSIONS || parse_line(text + at, line_len, &out->keys[out->n]))
                return KH_EINVAL;
            if (secret_version(out, out->keys[out->n].version))
                return KH_EINVAL; /* the same version twice */
            out->n++;
        }
        at += line_len + 1;
    }
    if (!out->n)
        return KH_EINVAL;
    qsort(out->keys, (size_t)out->n, sizeof out->keys[0], newest_first);
    return KH_OK;
}

/* Writes every version of s to fd, newest first. */
static int write_versions(int fd, const struct server_secret *s)
{
    char line[128];
    int rc = KH_OK;
    for (int k = 0; k < s->n && !rc; k++) {
        int n = snprintf(line, sizeof line, "keyhold-secret v%d ", s->keys[k].version);
        for (size_t i = 0; i < SECRET_KEY_LEN; i++)
            n += snprintf(line + n, sizeof line - (size_t)n, "%02x", s->keys[k].master[i]);
        line[n++] = '\n';
        if (write(fd, line, (size_t)n) != n)
            rc = KH_EIO;
    }
    secret_wipe(line, sizeof line);
    return rc || fsync(fd) ? KH_EIO : KH_OK;
}

int secret_file_create(const char *path, char *err, size_t errlen)
{
    struct server_secret s;
    uint8_t master[SECRET_KEY_LEN];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create secret file %s: %s", path, strerror(errno));
        return errno == EEXIST ? KH_ECONFLICT : KH_EIO;
    }
    secret_random(master, sizeof master);
    memset(&s, 0, sizeof s);
    s.n = 1;
    secret_derive(master, 1, &s.keys[0]);
    secret_wipe(master, sizeof master);
    int rc = write_versions(fd, &s);
    if (rc)
        snprintf(err, errlen, "cannot write secret file %s: %s", path, strerror(errno));
    close(fd);
    secret_wipe(&s, sizeof s);
    if (rc)
        unlink(path);
    return rc;
}

int secret_file_load(const char *path, struct server_secret *out, char *err, size_t errlen)
{
    struct stat st;
    char text[SECRET_MAX_VERSIONS * 100 + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    memset(out, 0, sizeof *out);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open secret file %s: %s", path, strerror(errno));
        return errno == ENOENT ? KH_ENOTFOUND : KH_EIO;
    }
    if (fstat(fd, &st) != 0 || (st.st_mode & 077)) {
        snprintf(err, errlen, "secret file %s must not be accessible by group or others (chmod 600)", path);
        close(fd);
        return KH_EINVAL;
    }
    size_t len = 0;
    ssize_t n;
    while (len < sizeof text - 1 && (n = read(fd, text + len, sizeof text - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    int rc = len == sizeof text - 1 ? KH_EINVAL : parse_file(text, len, out);
    if (rc) {
        snprintf(err, errlen, "secret file %s is not a keyhold secret (or holds more than %d versions)", path,
                 SECRET_MAX_VERSIONS);
        secret_wipe(out, sizeof *out);
    }
    secret_wipe(text, sizeof text);
    return rc;
}

/* Replaces the file with the versions of s: a new 0600 file beside it,
 * fsynced, renamed over it, and the directory fsynced, so a crash leaves
 * either the old file or the new one. */
static int replace_file(const char *path, const struct server_secret *s, char *err, size_t errlen)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5), *dir = malloc(plen + 2);
    if (!tmp || !dir)
        abort();
    snprintf(tmp, plen + 5, "%s.new", path);
    unlink(tmp); /* left by an interrupted rotation */
    int rc = KH_EIO, fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        rc = write_versions(fd, s);
        close(fd);
    }
    if (!rc && rename(tmp, path) != 0)
        rc = KH_EIO;
    if (rc) {
        snprintf(err, errlen, "cannot replace secret file %s: %s", path, strerror(errno));
        unlink(tmp);
    } else {
        const char *slash = strrchr(path, '/');
        snprintf(dir, plen + 2, "%.*s", slash ? (int)(slash - path + 1) : 1, slash ? path : ".");
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    free(tmp);
    free(dir);
    return rc;
}

int secret_file_add_version(const char *path, struct server_secret *out, char *err, size_t errlen)
{
    uint8_t master[SECRET_KEY_LEN];
    int rc = secret_file_load(path, out, err, errlen);
    if (rc)
        return rc;
    if (out->n == SECRET_MAX_VERSIONS) {
        snprintf(err, errlen, "secret file %s already holds %d versions: run `keyhold rotate-secret --prune` first",
                 path, SECRET_MAX_VERSIONS);
        return KH_ECONFLICT;
    }
    memmove(&out->keys[1], &out->keys[0], sizeof out->keys[0] * (size_t)out->n);
    secret_random(master, sizeof master);
    secret_derive(master, out->keys[1].version + 1, &out->keys[0]);
    secret_wipe(master, sizeof master);
    out->n++;
    return replace_file(path, out, err, errlen);
}

int secret_file_retain(const char *path, int (*keep)(int version, void *arg), void *arg, struct server_secret *out,
                       char *err, size_t errlen)
{
    int rc = secret_file_load(path, out, err, errlen), kept = 1;
    if (rc)
        return rc;
    for (int i = 1; i < out->n; i++)
        if (keep(out->keys[i].version, arg))
            out->keys[kept++] = out->keys[i];
    if (kept == out->n)
        return KH_OK;
    secret_wipe(&out->keys[kept], sizeof out->keys[0] * (size_t)(out->n - kept));
    out->n = kept;
    return replace_file(path, out, err, errlen);
}
