/* jsonx.h - strict reading of request bodies with jansson.
 *
 * Every getter takes a struct jx that remembers the first error as a message
 * naming the field ("Missing required field 'data.attributes.name'"). Once an
 * error is recorded the getters return NULL/defaults, so a handler reads all
 * fields and checks jx.failed once. Values returned are borrowed from the
 * parsed document. */
#ifndef KH_JSONX_H
#define KH_JSONX_H

#include <jansson.h>
#include <stddef.h>

struct jx {
    int failed;
    char msg[320];
};

/* Parses a body: NULL with jx->msg set for an empty body, a body nested deeper
 * than max_depth, invalid JSON, duplicate keys, or a non-object root. The
 * caller owns the result. */
json_t *jx_parse(struct jx *jx, const char *body, size_t len, int max_depth);

void jx_fail(struct jx *jx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
json_t *jx_obj(struct jx *jx, json_t *o, const char *path, const char *key, int required);
/* A string of 1..maxlen bytes (when non_empty) or 0..maxlen bytes. */
const char *jx_str(struct jx *jx, json_t *o, const char *path, const char *key, int required, int non_empty,
                   size_t maxlen);
/* Returns the boolean, or def when absent; -1 never. */
int jx_bool(struct jx *jx, json_t *o, const char *path, const char *key, int def);
json_t *jx_arr(struct jx *jx, json_t *o, const char *path, const char *key, int required);
/* Requires o[key] to be the string `expected` (the JSON:API `type`). */
void jx_type(struct jx *jx, json_t *o, const char *path, const char *expected);
/* Fails on any key of o not in the NULL-terminated allowed list, with the
 * message Datadog's v1 API uses. */
void jx_only(struct jx *jx, json_t *o, const char *const allowed[]);

#endif
