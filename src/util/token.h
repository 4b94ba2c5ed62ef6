/* token.h - the PAT/SAT wire format.
 *
 *   ddpat_<ALIAS>_<SECRET><CHECKSUM>        (65 characters; ddsat_ for SATs)
 *   ALIAS     22 chars: the token id (UUID) as a 128-bit big-endian integer in
 *             base62, left-padded with '0' (docs/datadog.md, "Token format").
 *             It is the `public_portion` and lets a token be found without a
 *             scan.
 *   SECRET    30 random base62 chars (~178 bits) from the CSPRNG
 *   CHECKSUM  6 base62 chars: CRC32 (zlib) of everything before it, so that a
 *             mistyped or truncated token is refused before any lookup, in the
 *             spirit of GitHub's token checksums.
 *
 * Only HMAC-SHA-256(token_key, SECRET) is stored. */
#ifndef KH_TOKEN_H
#define KH_TOKEN_H

#include "util/uuid.h"

#include <stddef.h>

#define TOKEN_LEN 65
#define TOKEN_ALIAS_LEN 22
#define TOKEN_SECRET_LEN 30
#define TOKEN_CHECK_LEN 6

enum token_kind { TOKEN_PAT = 1, TOKEN_SAT = 2 };

/* "ddpat" or "ddsat". */
const char *token_prefix(enum token_kind kind);
/* Writes the 22-char alias of a UUID (out needs 23 bytes). */
int token_alias(const char *uuid, char out[TOKEN_ALIAS_LEN + 1]);
/* Mints a token for an existing id: writes the whole token (66 bytes with NUL)
 * and the secret part (31 bytes with NUL). */
void token_mint(enum token_kind kind, const char *uuid, char out[TOKEN_LEN + 1], char secret[TOKEN_SECRET_LEN + 1]);
/* Splits a presented token. Checks shape, prefix and checksum only; the
 * secret is verified by the caller against the stored hash. Returns 0 or
 * KH_EINVAL. */
int token_parse(const char *s, size_t len, enum token_kind *kind, char uuid[UUID_STR],
                char secret[TOKEN_SECRET_LEN + 1]);
/* Non-zero when s starts like a PAT/SAT (used to route DD-APPLICATION-KEY). */
int token_looks_like(const char *s, size_t len);

#endif
