/* base62.c - arbitrary-length base62: encoding by long division in 32-bit limbs, decoding by multiplication on bytes. */
#include "util/base62.h"

#include "util/errors.h"

#include <stdint.h>
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

/* 62^5 is the largest power of 62 below 2^32: the number is held in 32-bit
 * limbs (most significant first) and divided by 62^5 at a time, five digits
 * per pass over the limbs with 64-bit arithmetic, instead of one digit per
 * pass over the bytes. An alias (16 bytes, 22 digits) takes 5 passes over 4
 * limbs instead of 22 over 16 bytes: the token lists render one per row
 * (issue 14). The digits are the same as the schoolbook division's. */
#define CHUNK_DIGITS 5

static const uint32_t POW62[CHUNK_DIGITS + 1] = {1, 62, 3844, 238328, 14776336, 916132832};

/* Divides limbs[0..n) in place by d and returns the remainder. */
static uint32_t divide_limbs(uint32_t *limbs, size_t n, uint32_t d)
{
    uint64_t rem = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t cur = (rem << 32) | limbs[i];
        limbs[i] = (uint32_t)(cur / d);
        rem = cur % d;
    }
    return (uint32_t)rem;
}

int base62_encode(const uint8_t *in, size_t inlen, char *out, size_t outlen)
{
    uint32_t limbs[16];
    if (inlen > 4 * sizeof limbs / sizeof limbs[0])
        return KH_EINVAL;
    size_t n = (inlen + 3) / 4;
    memset(limbs, 0, sizeof limbs);
    for (size_t i = 0; i < inlen; i++) { /* right-aligned: the last byte is the least significant */
        size_t bit = (inlen - 1 - i) * 8;
        limbs[n - 1 - bit / 32] |= (uint32_t)in[i] << (bit % 32);
    }
    for (size_t pos = outlen; pos > 0;) {
        size_t k = pos < CHUNK_DIGITS ? pos : CHUNK_DIGITS;
        uint32_t rem = divide_limbs(limbs, n, POW62[k]);
        for (size_t j = 0; j < k; j++) {
            out[--pos] = ALPHABET[rem % 62];
            rem /= 62;
        }
    }
    out[outlen] = '\0';
    for (size_t i = 0; i < n; i++)
        if (limbs[i])
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
