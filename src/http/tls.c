/* tls.c - TLS contexts from PEM files, reloadable (see tls.h). */
#include "http/tls.h"

#include "util/xmalloc.h"

#include <openssl/err.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

struct tls_source {
    char *cert_path, *key_path;
    pthread_mutex_t lock;
    SSL_CTX *current; /* guarded by lock */
    atomic_uint_fast64_t generation;
};

/* OpenSSL's reason for the last failure, after what we were doing. */
static void openssl_error(char *err, size_t errlen, const char *doing, const char *path)
{
    char reason[256] = "unknown error";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    snprintf(err, errlen, "%s %s: %s", doing, path, reason);
}

static SSL_CTX *load(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    /* A private key any local user can read is refused, as the server
     * secret is; group-readable stays allowed (Debian's ssl-cert group). */
    struct stat st;
    if (stat(key_path, &st) == 0 && (st.st_mode & S_IROTH)) {
        snprintf(err, errlen, "the private key %s is readable by every user (chmod o-r)", key_path);
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        openssl_error(err, errlen, "cannot make a TLS context for", cert_path);
        return NULL;
    }
    /* TLS 1.2 and 1.3 only; no compression (CRIME), no renegotiation. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1)
        openssl_error(err, errlen, "cannot read the certificate chain", cert_path);
    else if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1)
        openssl_error(err, errlen, "cannot read the private key", key_path);
    else if (SSL_CTX_check_private_key(ctx) != 1)
        openssl_error(err, errlen, "the private key does not match the certificate", cert_path);
    else
        return ctx;
    SSL_CTX_free(ctx);
    return NULL;
}

struct tls_source *tls_open(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    SSL_CTX *ctx = load(cert_path, key_path, err, errlen);
    if (!ctx)
        return NULL;
    struct tls_source *t = xcalloc(1, sizeof *t);
    t->cert_path = xstrdup(cert_path);
    t->key_path = xstrdup(key_path);
    pthread_mutex_init(&t->lock, NULL);
    t->current = ctx;
    atomic_init(&t->generation, 1);
    return t;
}

int tls_reload(struct tls_source *t, char *err, size_t errlen)
{
    SSL_CTX *ctx = load(t->cert_path, t->key_path, err, errlen);
    if (!ctx)
        return -1;
    pthread_mutex_lock(&t->lock);
    SSL_CTX *old = t->current;
    t->current = ctx;
    atomic_fetch_add(&t->generation, 1);
    pthread_mutex_unlock(&t->lock);
    SSL_CTX_free(old); /* loops holding it keep their own references */
    return 0;
}

uint64_t tls_generation(const struct tls_source *t)
{
    return atomic_load(&((struct tls_source *)t)->generation);
}

SSL_CTX *tls_take(struct tls_source *t, uint64_t *gen)
{
    pthread_mutex_lock(&t->lock);
    SSL_CTX *ctx = t->current;
    SSL_CTX_up_ref(ctx);
    *gen = atomic_load(&t->generation);
    pthread_mutex_unlock(&t->lock);
    return ctx;
}

void tls_close(struct tls_source *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->current);
    pthread_mutex_destroy(&t->lock);
    free(t->cert_path);
    free(t->key_path);
    free(t);
}
