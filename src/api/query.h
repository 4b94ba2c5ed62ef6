/* query.h - the query string: percent-decoding into bounded key/value pairs
 * (struct query_string), and the typed readers (integers, timestamps,
 * booleans) that fill an error message for the 400 that the *_or_reply
 * helpers of reply.c and the handlers answer with. */
#ifndef KH_QUERY_H
#define KH_QUERY_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define QUERY_MAX_PARAMS 64
#define QUERY_MAX_LEN 8192

struct query_param {
    char *key;
    char *value;
};

struct query_string {
    struct query_param params[QUERY_MAX_PARAMS];
    size_t n;
};

/* Splits and percent-decodes (and '+' as space) a raw query string.
 * Returns 0, or KH_EINVAL for a string too long, too many parameters, a bad
 * escape or a decoded NUL. */
int query_parse(const char *raw, size_t len, struct query_string *q);
void query_free(struct query_string *q);
/* The last value of key, or NULL. */
const char *query_get(const struct query_string *q, const char *key);
/* Collects every value of key, splitting comma lists; returns the count, or
 * -1 when there are more than max. Values are borrowed (out[i] points into q
 * or into scratch, which the caller frees). */
int query_get_list(const struct query_string *q, const char *key, const char **out, size_t max, char **scratch);

/* Strict readers; return 0 with *out set (or untouched when absent), or
 * KH_EINVAL with msg filled. */
int query_int(const struct query_string *q, const char *key, int64_t min, int64_t max, int64_t *out, char *msg,
              size_t msglen);
int query_bool(const struct query_string *q, const char *key, int *out, char *msg, size_t msglen);
int query_time(const struct query_string *q, const char *key, int64_t *out, char *msg, size_t msglen);
/* Reads prefix[start] and prefix[end] ("filter[created_at][start]") into r,
 * marking which were given. */
int query_time_range(const struct query_string *q, const char *prefix, struct store_time_range *r, char *msg,
                     size_t msglen);

#endif
