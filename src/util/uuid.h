/* uuid.h - the ids of keyhold's objects: random (version 4) UUIDs, and
 * time-ordered (version 7, RFC 9562) ones for credentials. */
#ifndef KH_UUID_H
#define KH_UUID_H

#include <stddef.h>
#include <stdint.h>

#define UUID_STR 37 /* 36 characters + NUL */

void uuid_generate(char out[UUID_STR]);
/* A version 7 UUID: the Unix time in milliseconds of now_us in the first 48
 * bits, then 74 random bits from the CSPRNG. Ids made later sort later (to
 * the millisecond), so the store's indexes that end in the id are appended
 * to instead of written all over: a new credential dirties the last page of
 * each such index, not a random one. The time is no secret (created_at is
 * shown beside every id); a credential's secret is never derived from it. */
void uuid_generate_ordered(char out[UUID_STR], int64_t now_us);
/* Parses the canonical lowercase or uppercase 8-4-4-4-12 form. Returns 0 or
 * KH_EINVAL. */
int uuid_parse(const char *s, size_t len, uint8_t out[16]);
void uuid_format(const uint8_t in[16], char out[UUID_STR]);
/* Non-zero when s[0..len) is a canonical UUID. */
int uuid_valid(const char *s, size_t len);

#endif
