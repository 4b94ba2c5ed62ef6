/* fuzz_token.c - the parsers of presented credentials and ids: token
 * format and checksum, base62, UUIDs and RFC 3339 timestamps. A token that
 * parses must re-encode to the same public portion. */
#include "util/base62.h"
#include "util/clock.h"
#include "util/token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    enum token_kind kind;
    char id[UUID_STR], secret[TOKEN_SECRET_LEN + 1], alias[TOKEN_ALIAS_LEN + 1];
    uint8_t out[16];
    if (token_parse(s, size, &kind, id, secret) == 0) {
        if (token_alias(id, alias) || memcmp(alias, s + 6, TOKEN_ALIAS_LEN) != 0)
            abort();
    }
    base62_decode(s, size, out, sizeof out);
    uuid_parse(s, size, out);
    char *z = malloc(size + 1);
    memcpy(z, s, size);
    z[size] = '\0';
    int64_t us;
    clock_parse(z, &us);
    free(z);
    return 0;
}
