/* token.c - minting and parsing PAT/SAT strings (format in token.h). */
#include "util/token.h"

#include "util/base62.h"
#include "util/errors.h"
#include "util/secret.h"

#include <string.h>
#include <zlib.h>

const char *token_prefix(enum token_kind kind)
{
    return kind == TOKEN_SAT ? "ddsat" : "ddpat";
}

int token_alias(const char *uuid, char out[TOKEN_ALIAS_LEN + 1])
{
    uint8_t b[16];
    if (uuid_parse(uuid, strlen(uuid), b))
        return KH_EINVAL;
    return base62_encode(b, sizeof b, out, TOKEN_ALIAS_LEN);
}

static void checksum(const char *s, size_t len, char out[TOKEN_CHECK_LEN + 1])
{
    uLong crc = crc32(0L, (const Bytef *)s, (uInt)len);
    uint8_t be[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
    base62_encode(be, sizeof be, out, TOKEN_CHECK_LEN);
}

void token_mint(enum token_kind kind, const char *uuid, char out[TOKEN_LEN + 1], char secret[TOKEN_SECRET_LEN + 1])
{
    char alias[TOKEN_ALIAS_LEN + 1], check[TOKEN_CHECK_LEN + 1];
    token_alias(uuid, alias);
    secret_random_base62(secret, TOKEN_SECRET_LEN);
    secret[TOKEN_SECRET_LEN] = '\0';
    memcpy(out, token_prefix(kind), 5);
    out[5] = '_';
    memcpy(out + 6, alias, TOKEN_ALIAS_LEN);
    out[28] = '_';
    memcpy(out + 29, secret, TOKEN_SECRET_LEN);
    checksum(out, 29 + TOKEN_SECRET_LEN, check);
    memcpy(out + 29 + TOKEN_SECRET_LEN, check, TOKEN_CHECK_LEN);
    out[TOKEN_LEN] = '\0';
}

int token_looks_like(const char *s, size_t len)
{
    return len >= 6 && (memcmp(s, "ddpat_", 6) == 0 || memcmp(s, "ddsat_", 6) == 0);
}

int token_parse(const char *s, size_t len, enum token_kind *kind, char uuid[UUID_STR],
                char secret[TOKEN_SECRET_LEN + 1])
{
    char check[TOKEN_CHECK_LEN + 1];
    uint8_t id[16];
    if (len != TOKEN_LEN || !token_looks_like(s, len) || s[28] != '_')
        return KH_EINVAL;
    checksum(s, 29 + TOKEN_SECRET_LEN, check);
    if (!secret_equal(check, s + 29 + TOKEN_SECRET_LEN, TOKEN_CHECK_LEN))
        return KH_EINVAL;
    if (base62_decode(s + 6, TOKEN_ALIAS_LEN, id, sizeof id))
        return KH_EINVAL;
    for (size_t i = 29; i < 29 + TOKEN_SECRET_LEN; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return KH_EINVAL;
    }
    *kind = s[2] == 's' ? TOKEN_SAT : TOKEN_PAT;
    uuid_format(id, uuid);
    memcpy(secret, s + 29, TOKEN_SECRET_LEN);
    secret[TOKEN_SECRET_LEN] = '\0';
    return KH_OK;
}
