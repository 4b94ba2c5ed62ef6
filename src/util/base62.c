/* base62.c - arbitrary-length base62 by schoolbook division on bytes. */
#include "util/base62.h"

#include "util/errors.h"

#include <string.h>

static const char ALPHABET[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 36;
    return -1;
}

int base62_encode(const uint8_t *in, size_t inlen, char *out, size_t outlen)
{
    uint8_t num[64];
    if (inlen > sizeof num)
        return KH_EINVAL;
    memcpy(num, in, inlen);
    for (size_t pos = outlen; pos-- > 0;) {
        unsigned rem = 0;
        for (size_t i = 0; i < inlen; i++) {
            unsigned cur = rem * 256 + num[i];
            num[i] = (uint8_t)(cur / 62);
            rem = cur % 62;
        }
        out[pos] = ALPHABET[rem];
    }
    out[outlen] = '\0';
    for (size_t i = 0; i < inlen; i++)
        if (num[i])
            return KH_EINVAL; /* value needs more than outlen digits */
    return KH_OK;
}

int base62_decode(const char *s, size_t len, uint8_t *out, size_t outlen)
{
    memset(out, 0, outlen);
    for (size_t i = 0; i < len; i++) {
        int d = digit_value(s[i]);
        if (d < 0)
            return KH_EINVAL;
        unsigned carry = (unsigned)d;
        for (size_t j = outlen; j-- > 0;) {
            unsigned cur = out[j] * 62u + carry;
            out[j] = (uint8_t)(cur & 0xff);
            carry = cur >> 8;
        }
        if (carry)
            return KH_EINVAL;
    }
    return KH_OK;
}
