/* uuid.c - version 4 and version 7 UUIDs from the CSPRNG. */
#include "util/uuid.h"

#include "util/errors.h"
#include "util/secret.h"


void uuid_generate(char out[UUID_STR])
{
    uint8_t b[16];
    secret_random(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

void uuid_generate_ordered(char out[UUID_STR], int64_t now_us)
{
    uint8_t b[16];
    uint64_t ms = now_us > 0 ? (uint64_t)now_us / 1000 : 0;
    secret_random(b + 6, sizeof b - 6);
    for (int i = 5; i >= 0; i--, ms >>= 8)
        b[i] = (uint8_t)(ms & 0xff);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x70);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

/* The value of a hex digit of either case, or -1. Inline arithmetic: every
 * row of a token list parses its id for the alias (issue 14). */
static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* ASCII upper case to lower case; other bytes stay outside a..f */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
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
        int hi = hex_value((unsigned char)s[i]), lo = hex_value((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0)
            return KH_EINVAL;
        out[bi++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return KH_OK;
}

void uuid_format(const uint8_t b[16], char out[UUID_STR])
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 0x0f];
    }
    *o = '\0';
}

int uuid_valid(const char *s, size_t len)
{
    uint8_t b[16];
    return uuid_parse(s, len, b) == KH_OK;
}
