/* jsonw.c - the streaming JSON writer (see jsonw.h). */
#include "json/jsonw.h"

#include "util/errors.h"

#include <stdint.h>
#include <string.h>

/* No ceiling of its own: what is written comes from the store, whose pages
 * are bounded by the page size the handlers accept. */
#define JSONW_MAX ((size_t)SIZE_MAX / 2)

void jsonw_init(struct jsonw *w)
{
    buf_init(&w->b, JSONW_MAX);
}

void jsonw_free(struct jsonw *w)
{
    buf_free(&w->b);
}

void jsonw_rawn_slow(struct jsonw *w, const char *s, size_t len)
{
    buf_add(&w->b, s, len); /* below JSONW_MAX, only allocation could fail, and that aborts */
}

void jsonw_reserve(struct jsonw *w, size_t len)
{
    buf_reserve(&w->b, len);
}

/* Length of the UTF-8 sequence at s (1..4), or 0 when it is not valid UTF-8:
 * a stray continuation byte, an overlong form, a surrogate, a value above
 * U+10FFFF or a sequence cut short, as jansson's utf8_check_* refuse. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    uint32_t v;
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0; /* continuation byte, or the overlong 0xC0/0xC1 */
    if (c < 0xE0) {
        n = 2;
        v = c & 0x1F;
    } else if (c < 0xF0) {
        n = 3;
        v = c & 0x0F;
    } else if (c < 0xF5) {
        n = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF)
        return 0;
    return n;
}

/* Escapes c (a control character, '"' or '\\') as jansson's compact dump
 * does. */
static void put_escape(struct jsonw *w, unsigned c)
{
    static const char hex[] = "0123456789ABCDEF";
    char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
    size_t len = 2;
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 0xF];
        len = 6;
    }
    jsonw_rawn(w, esc, len);
}

/* The bytes written as they are without a second look: printable ASCII but
 * '"' and '\\'. */
static const unsigned char plain[256] = {
    [0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20-0x2f; 0x22 is '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,          /* 0x30-0x3f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,          /* 0x40-0x4f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,          /* 0x50-0x5f; 0x5c is '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,          /* 0x60-0x6f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,          /* 0x70-0x7f */
};

/* One pass: runs of plain ASCII are copied whole, escapes written as they
 * come, and a multi-byte sequence is checked where it stands; a string that
 * is not UTF-8 takes back what was written of it. */
int jsonw_string(struct jsonw *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t mark = jsonw_len(w);
    jsonw_rawn(w, "\"", 1);
    const unsigned char *run = p; /* bytes that need no escape, written in one go */
    for (;; p++) {
        while (plain[*p])
            p++;
        unsigned c = *p;
        if (!c)
            break;
        if (c >= 0x80) {
            size_t n = utf8_len(p);
            if (!n) {
                jsonw_truncate(w, mark);
                return KH_EINVAL;
            }
            p += n - 1;
            continue;
        }
        jsonw_rawn(w, (const char *)run, (size_t)(p - run));
        run = p + 1;
        put_escape(w, c);
    }
    jsonw_rawn(w, (const char *)run, (size_t)(p - run));
    jsonw_rawn(w, "\"", 1);
    return KH_OK;
}

void jsonw_int(struct jsonw *w, long long v)
{
    char d[24];
    size_t i = sizeof d;
    /* the magnitude as unsigned, so that LLONG_MIN has one too */
    unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        d[--i] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (v < 0)
        d[--i] = '-';
    jsonw_rawn(w, d + i, sizeof d - i);
}

void jsonw_null(struct jsonw *w)
{
    jsonw_rawn(w, "null", 4);
}

const char *jsonw_text(const struct jsonw *w)
{
    return w->b.p ? w->b.p : "";
}

size_t jsonw_len(const struct jsonw *w)
{
    return w->b.len;
}

void jsonw_truncate(struct jsonw *w, size_t len)
{
    if (len < w->b.len) {
        w->b.len = len;
        if (w->b.p)
            w->b.p[len] = '\0';
    }
}

char *jsonw_steal(struct jsonw *w, size_t *len)
{
    char *text = buf_steal(&w->b, len);
    return text;
}
