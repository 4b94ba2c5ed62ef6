/* scan.c - finding keyhold secrets in text (what and why in scan.h).
 *
 * A stream keeps the current line in one window of bounded size. When a
 * line ends, the window is scanned whole; when a line is longer than the
 * window, the window is scanned up to SCAN_LOOKAHEAD bytes before its end
 * (a run starting later could still grow) and slid, keeping its last
 * SCAN_CONTEXT + SCAN_LOOKAHEAD bytes: the look-ahead to decide next time,
 * and the context a hex key's name may sit in. Every run start is decided
 * exactly once, in the window where it first has its look-ahead. */
#include "util/scan.h"

#include "util/secret.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct scan_stream {
    struct scan_sink sink;
    int include_unverified;
    size_t window;          /* capacity of buf */
    char *buf;              /* the part of the current line being looked at */
    size_t len;             /* bytes in buf */
    size_t used;            /* the most buf has held since it was last wiped */
    size_t from;            /* runs starting before this were decided in an earlier window */
    unsigned long line;     /* 1-based number of the current line */
    unsigned long line_off; /* bytes of the current line before buf[0] */
    int announced;          /* sink->line was called for the current line */
};

const char *scan_kind_name(enum scan_kind kind)
{
    switch (kind) {
    case SCAN_PAT:
        return "ddpat";
    case SCAN_SAT:
        return "ddsat";
    case SCAN_API_KEY:
        return "api_key";
    case SCAN_APP_KEY:
        return "application_key";
    }
    return "unknown";
}

/* The characters a candidate is made of. '_' is one (tokens contain it),
 * so a token glued to an identifier is not taken for a token. */
static int is_word(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* Folds a byte for comparing names: lowercase, and '-' as '_', so that
 * DD-API-KEY, dd_api_key and apiKey meet the same spellings. */
static char fold(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    return c == '-' ? '_' : c;
}

static int names_at(const char *s, size_t n, const char *name)
{
    size_t k = strlen(name);
    if (k > n)
        return 0;
    for (size_t i = 0; i + k <= n; i++) {
        size_t j = 0;
        while (j < k && fold(s[i + j]) == name[j])
            j++;
        if (j == k)
            return 1;
    }
    return 0;
}

/* Non-zero when s[0..n) names a key of this kind (see scan.h for why the
 * name is required). Longer names contain the shorter ones: DD_API_KEY has
 * api_key, DD_APPLICATION_KEY has application_key. */
static int names_key(const char *s, size_t n, enum scan_kind kind)
{
    static const char *const api[] = {"api_key", "apikey", NULL};
    static const char *const app[] = {"app_key", "appkey", "application_key", "applicationkey", NULL};
    for (const char *const *name = kind == SCAN_API_KEY ? api : app; *name; name++)
        if (names_at(s, n, *name))
            return 1;
    return 0;
}

/* A run of n word characters at buf[p] (n is at most TOKEN_LEN + 1: longer
 * runs are not looked at further): a token whose checksum holds, or a hex
 * key named on its line, goes to the sink. */
static void classify(struct scan_stream *s, size_t p, size_t n)
{
    const char *run = s->buf + p;
    struct scan_finding f = {.line = s->line, .column = s->line_off + p + 1, .value = run, .value_len = n};
    if (n == TOKEN_LEN && token_looks_like(run, n)) {
        enum token_kind kind;
        char uuid[UUID_STR], secret[TOKEN_SECRET_LEN + 1];
        int rc = token_parse(run, n, &kind, uuid, secret);
        secret_wipe(secret, sizeof secret); /* only the verdict is wanted */
        if (rc)
            return; /* a near-miss or a typo: never reported as a secret */
        f.kind = kind == TOKEN_SAT ? SCAN_SAT : SCAN_PAT;
        f.verified = 1;
        memcpy(f.shown, run, 6 + TOKEN_ALIAS_LEN); /* "ddpat_" and the alias */
        f.shown[6 + TOKEN_ALIAS_LEN] = '\0';
    } else if (s->include_unverified && (n == 32 || n == 40) && is_lower_hex(run, n)) {
        f.kind = n == 32 ? SCAN_API_KEY : SCAN_APP_KEY;
        size_t ctx = p < SCAN_CONTEXT ? p : SCAN_CONTEXT;
        if (!names_key(run - ctx, ctx, f.kind))
            return;
        memcpy(f.shown, run + n - 4, 4); /* last4, as Datadog shows a key */
        f.shown[4] = '\0';
    } else {
        return;
    }
    s->sink.found(s->sink.ctx, &f);
}

/* Decides the runs that start in buf[s->from .. limit). */
static void scan_window(struct scan_stream *s, size_t limit)
{
    const char *b = s->buf;
    size_t p = s->from;
    while (p < limit) {
        if (!is_word((unsigned char)b[p])) {
            p++;
            continue;
        }
        /* Only at s->from can a run have begun earlier (decided then). */
        int starts = p == 0 || !is_word((unsigned char)b[p - 1]);
        size_t end = p;
        while (end < s->len && end - p <= TOKEN_LEN && is_word((unsigned char)b[end]))
            end++;
        if (starts)
            classify(s, p, end - p);
        while (end < s->len && is_word((unsigned char)b[end]))
            end++;
        p = end;
    }
}

/* Scans what the window holds: all of it when the line ended (last), else
 * up to the look-ahead, sliding the window on. */
static void flush(struct scan_stream *s, int last)
{
    if (!s->announced && s->sink.line)
        s->sink.line(s->sink.ctx, s->line, s->buf, s->len, last);
    s->announced = 1;
    if (last) {
        scan_window(s, s->len);
        s->len = s->from = 0;
        s->line_off = 0;
        s->announced = 0;
        s->line++;
        return;
    }
    scan_window(s, s->len - SCAN_LOOKAHEAD);
    size_t keep = SCAN_CONTEXT + SCAN_LOOKAHEAD;
    memmove(s->buf, s->buf + s->len - keep, keep);
    s->line_off += s->len - keep;
    s->len = keep;
    s->from = SCAN_CONTEXT; /* what was at len - SCAN_LOOKAHEAD */
}

struct scan_stream *scan_stream_new(size_t window, int include_unverified, const struct scan_sink *sink)
{
    struct scan_stream *s = xcalloc(1, sizeof *s);
    s->window = window == 0 ? SCAN_WINDOW_DEFAULT : window < SCAN_WINDOW_MIN ? SCAN_WINDOW_MIN : window;
    s->buf = xmalloc(s->window);
    s->sink = *sink;
    s->include_unverified = include_unverified;
    s->line = 1;
    return s;
}

void scan_stream_feed(struct scan_stream *s, const char *data, size_t len)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        while (take > 0) {
            size_t n = s->window - s->len < take ? s->window - s->len : take;
            memcpy(s->buf + s->len, data, n);
            s->len += n;
            if (s->len > s->used)
                s->used = s->len;
            data += n;
            len -= n;
            take -= n;
            if (s->len == s->window)
                flush(s, 0);
        }
        if (nl) {
            data++;
            len--;
            flush(s, 1);
        }
    }
}

void scan_stream_end(struct scan_stream *s)
{
    if (s->len > 0 || s->announced)
        flush(s, 1);
    secret_wipe(s->buf, s->used); /* what the text held may have been a secret */
    s->used = 0;
    s->line = 1;
}

void scan_stream_free(struct scan_stream *s)
{
    if (!s)
        return;
    secret_wipe(s->buf, s->used);
    free(s->buf);
    free(s);
}

void scan_text(const char *data, size_t len, int include_unverified, const struct scan_sink *sink)
{
    struct scan_stream *s = scan_stream_new(0, include_unverified, sink);
    scan_stream_feed(s, data, len);
    scan_stream_end(s);
    scan_stream_free(s);
}
