/* webhook.c - webhook signatures, the retry schedule and the private
 * address test (webhook.h). */
#include "util/webhook.h"

#include "util/secret.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void webhook_secret_new(char out[WEBHOOK_SECRET_LEN + 1])
{
    size_t p = sizeof WEBHOOK_SECRET_PREFIX - 1;
    memcpy(out, WEBHOOK_SECRET_PREFIX, p);
    secret_random_base62(out + p, WEBHOOK_SECRET_RANDOM);
    out[WEBHOOK_SECRET_LEN] = '\0';
}

void webhook_sign(const char *secret, size_t secret_len, int64_t t, const char *body, size_t body_len,
                  char out[WEBHOOK_SIG_HEX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char ts[32];
    int n = snprintf(ts, sizeof ts, "%lld.", (long long)t);
    /* "<t>.<body>" in one buffer: HMAC() is OpenSSL 3's one-shot call (the
     * HMAC_CTX calls are deprecated there). */
    unsigned char *msg = xmalloc((size_t)n + body_len + 1);
    memcpy(msg, ts, (size_t)n);
    if (body_len)
        memcpy(msg + n, body, body_len);
    int ok = HMAC(EVP_sha256(), secret, (int)secret_len, msg, (size_t)n + body_len, mac, &mac_len) != NULL;
    free(msg);
    if (!ok || mac_len != 32) {
        out[0] = '\0'; /* only on allocation failure; an empty signature never verifies */
        return;
    }
    for (unsigned i = 0; i < mac_len; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[WEBHOOK_SIG_HEX] = '\0';
    secret_wipe(mac, sizeof mac);
}

void webhook_signature_header(const char *secret, size_t secret_len, int64_t t, const char *body, size_t body_len,
                              char out[WEBHOOK_SIG_HEADER_LEN])
{
    char sig[WEBHOOK_SIG_HEX + 1];
    webhook_sign(secret, secret_len, t, body, body_len, sig);
    snprintf(out, WEBHOOK_SIG_HEADER_LEN, "t=%lld,v1=%s", (long long)t, sig);
}

int64_t webhook_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint32_t rnd)
{
    if (base_ms < 1)
        base_ms = 1;
    if (cap_ms < base_ms)
        cap_ms = base_ms;
    int64_t d = base_ms;
    for (int i = 1; i < attempt && d < cap_ms; i++)
        d *= 2; /* stops at the cap: no overflow however many attempts */
    if (d > cap_ms)
        d = cap_ms;
    int64_t half = d / 2;
    int64_t jitter = (int64_t)(((uint64_t)(d - half) * rnd) >> 32);
    int64_t out = half + jitter;
    return out < 1 ? 1 : out;
}

static int v4_private(const unsigned char a[4])
{
    return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 100 && (a[1] & 0xc0) == 64) ||
           (a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
           (a[0] == 192 && a[1] == 0 && a[2] == 0) || (a[0] == 198 && (a[1] & 0xfe) == 18) || a[0] >= 224;
}

int webhook_addr_private_bin(int family, const void *bytes)
{
    const unsigned char *a = bytes;
    if (family == AF_INET)
        return v4_private(a);
    if (family != AF_INET6)
        return 1;
    static const unsigned char zero[10] = {0};
    if (memcmp(a, zero, 10) == 0 && ((a[10] == 0xff && a[11] == 0xff) || (a[10] == 0 && a[11] == 0))) {
        /* ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, :: and ::1 among them) */
        return v4_private(a + 12);
    }
    return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff ||
           (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) /* documentation */ ||
           (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b) /* NAT64 of anything */;
}

int webhook_addr_private(const char *addr)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, addr, b) == 1)
        return webhook_addr_private_bin(AF_INET, b);
    if (inet_pton(AF_INET6, addr, b) == 1)
        return webhook_addr_private_bin(AF_INET6, b);
    return -1;
}
