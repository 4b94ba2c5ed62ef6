/* uuid.h - random (version 4) UUIDs, the id of every keyhold object. */
#ifndef KH_UUID_H
#define KH_UUID_H

#include <stddef.h>
#include <stdint.h>

#define UUID_STR 37 /* 36 characters + NUL */

void uuid_generate(char out[UUID_STR]);
/* Parses the canonical lowercase or uppercase 8-4-4-4-12 form. Returns 0 or
 * KH_EINVAL. */
int uuid_parse(const char *s, size_t len, uint8_t out[16]);
void uuid_format(const uint8_t in[16], char out[UUID_STR]);
/* Non-zero when s[0..len) is a canonical UUID. */
int uuid_valid(const char *s, size_t len);

#endif
