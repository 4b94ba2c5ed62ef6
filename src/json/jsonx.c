/* jsonx.c - strict body parsing and field getters (see jsonx.h). */
#include "json/jsonx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void jx_fail(struct jx *jx, const char *fmt, ...)
{
    if (jx->failed)
        return;
    jx->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(jx->msg, sizeof jx->msg, fmt, ap);
    va_end(ap);
}

/* Nesting depth of a JSON text, counting brackets outside strings. Bounds
 * the work jansson's recursive parser may be asked to do. */
static int too_deep(const char *s, size_t len, int max_depth)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return 1;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

json_t *jx_parse(struct jx *jx, const char *body, size_t len, int max_depth)
{
    json_error_t err;
    if (!body || len == 0) {
        jx_fail(jx, "Request body is required");
        return NULL;
    }
    if (too_deep(body, len, max_depth)) {
        jx_fail(jx, "Invalid JSON body: nested deeper than %d levels", max_depth);
        return NULL;
    }
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        jx_fail(jx, "Invalid JSON body: %s (line %d, column %d)", err.text, err.line, err.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        jx_fail(jx, "Invalid JSON body: expected an object");
        json_decref(root);
        return NULL;
    }
    return root;
}

static json_t *field(struct jx *jx, json_t *o, const char *path, const char *key, int required)
{
    if (jx->failed || !o)
        return NULL;
    json_t *v = json_object_get(o, key);
    if ((!v || json_is_null(v)) && required) {
        jx_fail(jx, "Missing required field '%s%s%s'", path, *path ? "." : "", key);
        return NULL;
    }
    return v && !json_is_null(v) ? v : NULL;
}

json_t *jx_obj(struct jx *jx, json_t *o, const char *path, const char *key, int required)
{
    json_t *v = field(jx, o, path, key, required);
    if (v && !json_is_object(v)) {
        jx_fail(jx, "Field '%s%s%s' must be an object", path, *path ? "." : "", key);
        return NULL;
    }
    return v;
}

const char *jx_str(struct jx *jx, json_t *o, const char *path, const char *key, int required, int non_empty,
                   size_t maxlen)
{
    json_t *v = field(jx, o, path, key, required);
    const char *dot = *path ? "." : "";
    if (!v)
        return NULL;
    if (!json_is_string(v)) {
        jx_fail(jx, "Field '%s%s%s' must be a string", path, dot, key);
        return NULL;
    }
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (memchr(s, '\0', n)) {
        jx_fail(jx, "Field '%s%s%s' must not contain NUL characters", path, dot, key);
        return NULL;
    }
    if (non_empty) {
        size_t i = 0;
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
            i++;
        if (i == n) {
            jx_fail(jx, "Field '%s%s%s' must not be empty", path, dot, key);
            return NULL;
        }
    }
    if (n > maxlen) {
        jx_fail(jx, "Field '%s%s%s' must be at most %zu characters", path, dot, key, maxlen);
        return NULL;
    }
    return s;
}

int jx_bool(struct jx *jx, json_t *o, const char *path, const char *key, int def)
{
    json_t *v = field(jx, o, path, key, 0);
    if (!v)
        return def;
    if (!json_is_boolean(v)) {
        jx_fail(jx, "Field '%s%s%s' must be a boolean", path, *path ? "." : "", key);
        return def;
    }
    return json_is_true(v);
}

json_t *jx_arr(struct jx *jx, json_t *o, const char *path, const char *key, int required)
{
    json_t *v = field(jx, o, path, key, required);
    if (v && !json_is_array(v)) {
        jx_fail(jx, "Field '%s%s%s' must be an array", path, *path ? "." : "", key);
        return NULL;
    }
    return v;
}

void jx_type(struct jx *jx, json_t *o, const char *path, const char *expected)
{
    const char *t = jx_str(jx, o, path, "type", 1, 1, 64);
    if (t && strcmp(t, expected) != 0)
        jx_fail(jx, "Field '%s%stype' must be '%s'", path, *path ? "." : "", expected);
}

void jx_only(struct jx *jx, json_t *o, const char *const allowed[])
{
    const char *key;
    json_t *v;
    if (jx->failed || !o)
        return;
    json_object_foreach(o, key, v)
    {
        int ok = 0;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok) {
            jx_fail(jx, "Additional properties are not allowed ('%.200s' was unexpected)", key);
            return;
        }
    }
}
