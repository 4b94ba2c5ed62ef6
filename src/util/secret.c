/* secret.c - CSPRNG, keyed hashes, AES-GCM and the server secret file, all on
 * OpenSSL's libcrypto (see secret.h for the key layout). */
#define _POSIX_C_SOURCE 200809L
#include "util/secret.h"

#include "util/errors.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
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

void secret_wipe(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}

void secret_seal(const struct server_secret *s, const void *in, size_t len, uint8_t *out)
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

int secret_open(const struct server_secret *s, const uint8_t *in, size_t len, uint8_t *out)
{
    if (len < SECRET_SEAL_OVERHEAD)
        return KH_ECRYPTO;
    size_t ctlen = len - SECRET_SEAL_OVERHEAD;
    const uint8_t *nonce = in, *ct = in + 12, *tag = in + 12 + ctlen;
    int n = 0, ok;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c)
        abort();
    ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, s->enc_key, nonce) == 1 &&
         EVP_DecryptUpdate(c, out, &n, ct, (int)ctlen) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) == 1 &&
         EVP_DecryptFinal_ex(c, out + n, &n) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        secret_wipe(out, ctlen);
        return KH_ECRYPTO;
    }
    return KH_OK;
}

void secret_derive(const uint8_t master[SECRET_KEY_LEN], struct server_secret *out)
{
    out->version = 1;
    secret_hmac(master, "keyhold token hash v1", 21, out->token_key);
    secret_hmac(master, "keyhold key lookup v1", 21, out->lookup_key);
    secret_hmac(master, "keyhold key encryption v1", 25, out->enc_key);
}

int secret_file_create(const char *path, char *err, size_t errlen)
{
    uint8_t master[SECRET_KEY_LEN];
    char line[128];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create secret file %s: %s", path, strerror(errno));
        return errno == EEXIST ? KH_ECONFLICT : KH_EIO;
    }
    secret_random(master, sizeof master);
    int n = snprintf(line, sizeof line, "keyhold-secret v1 ");
    for (size_t i = 0; i < sizeof master; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "%02x", master[i]);
    line[n++] = '\n';
    int rc = KH_OK;
    if (write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write secret file %s: %s", path, strerror(errno));
        rc = KH_EIO;
    }
    close(fd);
    secret_wipe(master, sizeof master);
    secret_wipe(line, sizeof line);
    if (rc)
        unlink(path);
    return rc;
}

int secret_file_load(const char *path, struct server_secret *out, char *err, size_t errlen)
{
    struct stat st;
    char line[160];
    uint8_t master[SECRET_KEY_LEN];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open secret file %s: %s", path, strerror(errno));
        return errno == ENOENT ? KH_ENOTFOUND : KH_EIO;
    }
    if (fstat(fd, &st) != 0 || (st.st_mode & 077)) {
        snprintf(err, errlen, "secret file %s must not be accessible by group or others (chmod 600)", path);
        close(fd);
        return KH_EINVAL;
    }
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    int rc = KH_OK;
    if (n < 18 + 64 || memcmp(line, "keyhold-secret v1 ", 18) != 0) {
        rc = KH_EINVAL;
    } else {
        for (size_t i = 0; i < SECRET_KEY_LEN; i++) {
            unsigned v;
            char hx[3] = {line[18 + 2 * i], line[18 + 2 * i + 1], 0};
            char *end;
            v = (unsigned)strtoul(hx, &end, 16);
            if (*end) {
                rc = KH_EINVAL;
                break;
            }
            master[i] = (uint8_t)v;
        }
    }
    if (rc)
        snprintf(err, errlen, "secret file %s is not a keyhold secret", path);
    else
        secret_derive(master, out);
    secret_wipe(master, sizeof master);
    secret_wipe(line, sizeof line);
    return rc;
}
