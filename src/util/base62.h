/* base62.h - big-endian base62 with the alphabet 0-9A-Za-z.
 *
 * Used for the public portion of PAT/SAT tokens: the token's UUID read as a
 * 128-bit big-endian integer, encoded in 22 characters, left-padded with '0'
 * (docs/datadog.md, "Token format"), and for the 6-character CRC32 checksum. */
#ifndef KH_BASE62_H
#define KH_BASE62_H

#include <stddef.h>
#include <stdint.h>

/* Encodes the big-endian integer in[0..inlen) into exactly outlen characters
 * (left-padded with '0'), NUL-terminated (out needs outlen + 1 bytes).
 * Returns KH_EINVAL if the value does not fit. */
int base62_encode(const uint8_t *in, size_t inlen, char *out, size_t outlen);
/* Decodes s[0..len) into a big-endian integer of exactly outlen bytes.
 * Returns KH_EINVAL on a bad character or overflow. */
int base62_decode(const char *s, size_t len, uint8_t *out, size_t outlen);

#endif
