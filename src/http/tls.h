/* tls.h - the server's TLS contexts: a certificate chain and key loaded
 * into an OpenSSL SSL_CTX (TLS 1.2 and 1.3 only), reloaded on SIGHUP.
 *
 * Each event loop takes a reference to the current context when it sees a
 * newer generation (tls_take), so a reload never frees a context a loop
 * is still handing to new connections, and connections already open keep
 * the context they were accepted with (OpenSSL counts its references). */
#ifndef KH_HTTP_TLS_H
#define KH_HTTP_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

struct tls_source;

/* Loads cert_path (PEM, leaf first, then intermediates) and key_path. NULL
 * with err set when they cannot be read or do not match. */
struct tls_source *tls_open(const char *cert_path, const char *key_path, char *err, size_t errlen);
/* Reads both files again; on success later tls_take calls get the new
 * context. On failure the old one stays and err says why. */
int tls_reload(struct tls_source *t, char *err, size_t errlen);
/* The current generation (moves with each successful reload). */
uint64_t tls_generation(const struct tls_source *t);
/* A new reference to the current context (the caller SSL_CTX_free()s it),
 * and its generation in *gen. */
SSL_CTX *tls_take(struct tls_source *t, uint64_t *gen);
void tls_close(struct tls_source *t);

#endif
