/* uuid.c - version 4 UUIDs from the CSPRNG. */
#include "util/uuid.h"

#include "util/errors.h"
#include "util/secret.h"

#include <openssl/crypto.h> /* OPENSSL_hexchar2int */
#include <stdio.h>

void uuid_generate(char out[UUID_STR])
{
    uint8_t b[16];
    secret_random(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

int uuid_parse(const char *s, size_t len, uint8_t out[16])
{
    if (len != 36)
        return KH_EINVAL;
    size_t bi = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return KH_EINVAL;
            i++;
            continue;
        }
        int hi = OPENSSL_hexchar2int((unsigned char)s[i]), lo = OPENSSL_hexchar2int((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0)
            return KH_EINVAL;
        out[bi++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return KH_OK;
}

void uuid_format(const uint8_t b[16], char out[UUID_STR])
{
    snprintf(out, UUID_STR, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int uuid_valid(const char *s, size_t len)
{
    uint8_t b[16];
    return uuid_parse(s, len, b) == KH_OK;
}
