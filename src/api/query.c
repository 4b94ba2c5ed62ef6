/* query.c - query-string parsing (see query.h). */
#include "api/query.h"

#include "store/store.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/xmalloc.h"

#include <openssl/crypto.h> /* OPENSSL_hexchar2int */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes s[0..len) into a new string; NULL on a bad escape or a NUL. */
static char *decode(const char *s, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < len ? OPENSSL_hexchar2int((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < len ? OPENSSL_hexchar2int((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0') {
            free(out);
            return NULL;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

void query_free(struct query_string *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->params[i].key);
        free(q->params[i].value);
    }
    q->n = 0;
}

int query_parse(const char *raw, size_t len, struct query_string *q)
{
    q->n = 0;
    if (!raw || len == 0)
        return KH_OK;
    if (len > QUERY_MAX_LEN)
        return KH_EINVAL;
    size_t start = 0;
    while (start <= len) {
        size_t end = start;
        while (end < len && raw[end] != '&')
            end++;
        if (end > start) {
            const char *eq = memchr(raw + start, '=', end - start);
            size_t klen = eq ? (size_t)(eq - (raw + start)) : end - start;
            if (q->n == QUERY_MAX_PARAMS)
                goto bad;
            char *k = decode(raw + start, klen);
            char *v = eq ? decode(eq + 1, (size_t)(raw + end - eq - 1)) : xstrdup("");
            if (!k || !v) {
                free(k);
                free(v);
                goto bad;
            }
            q->params[q->n].key = k;
            q->params[q->n].value = v;
            q->n++;
        }
        start = end + 1;
    }
    return KH_OK;
bad:
    query_free(q);
    return KH_EINVAL;
}

const char *query_get(const struct query_string *q, const char *key)
{
    const char *found = NULL;
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->params[i].key, key) == 0)
            found = q->params[i].value;
    return found;
}

int query_get_list(const struct query_string *q, const char *key, const char **out, size_t max, char **scratch)
{
    size_t n = 0, total = 0;
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->params[i].key, key) == 0)
            total += strlen(q->params[i].value) + 1;
    *scratch = xmalloc(total + 1);
    char *p = *scratch;
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->params[i].key, key) != 0)
            continue;
        const char *v = q->params[i].value;
        while (*v) {
            const char *comma = strchr(v, ',');
            size_t len = comma ? (size_t)(comma - v) : strlen(v);
            if (len) {
                if (n == max)
                    return -1;
                memcpy(p, v, len);
                p[len] = '\0';
                out[n++] = p;
                p += len + 1;
            }
            v += len + (comma ? 1 : 0);
        }
    }
    return (int)n;
}

int query_int(const struct query_string *q, const char *key, int64_t min, int64_t max, int64_t *out, char *msg,
              size_t msglen)
{
    const char *v = query_get(q, key);
    if (!v)
        return KH_OK;
    char *end;
    int neg = v[0] == '-';
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || (!neg && (v[0] < '0' || v[0] > '9')) || (neg && (v[1] < '0' || v[1] > '9')) || n < min ||
        n > max || strlen(v) > 19) {
        snprintf(msg, msglen, "Invalid value for %s: '%.64s' (expected an integer from %lld to %lld)", key, v,
                 (long long)min, (long long)max);
        return KH_EINVAL;
    }
    *out = n;
    return KH_OK;
}

int query_bool(const struct query_string *q, const char *key, int *out, char *msg, size_t msglen)
{
    const char *v = query_get(q, key);
    if (!v)
        return KH_OK;
    if (strcmp(v, "true") == 0) {
        *out = 1;
    } else if (strcmp(v, "false") == 0) {
        *out = 0;
    } else {
        snprintf(msg, msglen, "Invalid value for %s: '%.64s' (expected true or false)", key, v);
        return KH_EINVAL;
    }
    return KH_OK;
}

int query_time_range(const struct query_string *q, const char *prefix, struct store_time_range *r, char *msg,
                     size_t msglen)
{
    char start[64], end[64];
    snprintf(start, sizeof start, "%s[start]", prefix);
    snprintf(end, sizeof end, "%s[end]", prefix);
    memset(r, 0, sizeof *r);
    if (query_time(q, start, &r->start, msg, msglen) || query_time(q, end, &r->end, msg, msglen))
        return KH_EINVAL;
    r->has_start = query_get(q, start) != NULL;
    r->has_end = query_get(q, end) != NULL;
    return KH_OK;
}

int query_time(const struct query_string *q, const char *key, int64_t *out, char *msg, size_t msglen)
{
    const char *v = query_get(q, key);
    if (!v)
        return KH_OK;
    if (clock_parse(v, out)) {
        snprintf(msg, msglen, "Invalid value for %s: '%.64s' (expected an RFC 3339 date-time)", key, v);
        return KH_EINVAL;
    }
    return KH_OK;
}
