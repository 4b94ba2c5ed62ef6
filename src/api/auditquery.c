/* auditquery.c - Datadog's Audit Trail search syntax (see auditquery.h):
 * a recursive-descent parser into a small tree, and its evaluation on one
 * event at a time. */
#include "api/auditquery.h"

#include "util/clock.h"
#include "util/errors.h"
#include "util/xmalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUERY_LEN 4096
#define MAX_DEPTH 32
#define MAX_TERMS 256

enum node_kind { N_ALL, N_TEXT, N_ATTR, N_KEY, N_AND, N_OR, N_NOT };

struct auditq {
    enum node_kind kind;
    char *key;     /* N_ATTR: the attribute without '@'; N_KEY: the reserved key or tag name */
    char *pattern; /* N_TEXT, N_ATTR, N_KEY: the value, '*' a wildcard */
    struct auditq *a, *b;
};

struct parser {
    const char *p;
    int depth, terms;
    char *msg;
    size_t msglen;
    int failed;
};

__attribute__((format(printf, 2, 3))) static void fail(struct parser *ps, const char *fmt, ...)
{
    va_list ap;
    if (ps->failed)
        return;
    ps->failed = 1;
    va_start(ap, fmt);
    vsnprintf(ps->msg, ps->msglen, fmt, ap);
    va_end(ap);
}

static struct auditq *node(enum node_kind kind, struct auditq *a, struct auditq *b)
{
    struct auditq *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->a = a;
    n->b = b;
    return n;
}

void auditq_free(struct auditq *q)
{
    if (!q)
        return;
    auditq_free(q->a);
    auditq_free(q->b);
    free(q->key);
    free(q->pattern);
    free(q);
}

static void skip_space(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

/* The word at p is exactly w (followed by a space, a parenthesis or the end). */
static int at_word(const char *p, const char *w)
{
    size_t n = strlen(w);
    return strncmp(p, w, n) == 0 && (p[n] == '\0' || p[n] == ' ' || p[n] == '\t' || p[n] == '(' || p[n] == ')');
}

/* A value: "quoted" (with \" and \\) or a bare run up to a space or a
 * parenthesis. Returns it allocated, or NULL (failed). */
static char *value(struct parser *ps)
{
    const char *p = ps->p;
    if (*p == '"') {
        char *out = xmalloc(strlen(p) + 1), *o = out;
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                p++;
            *o++ = *p;
        }
        if (*p != '"') {
            free(out);
            fail(ps, "Invalid query: a quoted value is not closed");
            return NULL;
        }
        *o = '\0';
        ps->p = p + 1;
        return out;
    }
    size_t n = strcspn(p, " \t\r\n()");
    if (n == 0) {
        fail(ps, "Invalid query: a value is missing at '%.20s'", p);
        return NULL;
    }
    ps->p = p + n;
    return xstrndup(p, n);
}

/* A name before ':' : letters, digits, '_', '-', '.', and '@' first. */
static size_t name_len(const char *p)
{
    size_t n = *p == '@' ? 1 : 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '-' || p[n] == '.')
        n++;
    return n;
}

static struct auditq *term(struct parser *ps)
{
    if (++ps->terms > MAX_TERMS) {
        fail(ps, "Invalid query: more than %d terms", MAX_TERMS);
        return NULL;
    }
    size_t n = name_len(ps->p);
    if (n > (ps->p[0] == '@' ? 1u : 0u) && ps->p[n] == ':') {
        int attr = ps->p[0] == '@';
        char *key = xstrndup(ps->p + attr, n - (size_t)attr);
        ps->p += n + 1;
        char *v = value(ps);
        if (!v) {
            free(key);
            return NULL;
        }
        struct auditq *t = node(attr ? N_ATTR : N_KEY, NULL, NULL);
        t->key = key;
        t->pattern = v;
        return t;
    }
    if (ps->p[0] == '@') {
        fail(ps, "Invalid query: '%.*s' names an attribute without a value (@attribute:value)", (int)n, ps->p);
        return NULL;
    }
    char *v = value(ps);
    if (!v)
        return NULL;
    struct auditq *t = node(strcmp(v, "*") == 0 ? N_ALL : N_TEXT, NULL, NULL);
    if (t->kind == N_TEXT) { /* anywhere in the message: wrapped in '*' once, here */
        size_t len = strlen(v) + 3;
        t->pattern = xmalloc(len);
        snprintf(t->pattern, len, "*%s*", v);
        free(v);
    } else {
        t->pattern = v;
    }
    return t;
}

static struct auditq *or_expr(struct parser *ps);

static struct auditq *unary(struct parser *ps)
{
    skip_space(ps);
    int negated = at_word(ps->p, "NOT") || ps->p[0] == '-';
    if (negated || ps->p[0] == '(') {
        /* NOT and parentheses both nest: one budget for the depth of the
         * tree, so that neither parsing nor matching recurses unbounded */
        if (++ps->depth > MAX_DEPTH) {
            fail(ps, "Invalid query: operators or parentheses nested deeper than %d", MAX_DEPTH);
            return NULL;
        }
    }
    if (negated) {
        ps->p += ps->p[0] == '-' ? 1 : 3;
        struct auditq *x = unary(ps);
        ps->depth--;
        return x ? node(N_NOT, x, NULL) : NULL;
    }
    if (ps->p[0] == '(') {
        ps->p++;
        struct auditq *x = or_expr(ps);
        if (!x)
            return NULL; /* failed inside: p may stand at the end already */
        skip_space(ps);
        if (ps->p[0] != ')') {
            fail(ps, "Invalid query: '(' is not closed");
            auditq_free(x);
            return NULL;
        }
        ps->p++;
        ps->depth--;
        return x;
    }
    if (ps->p[0] == '\0' || ps->p[0] == ')' || at_word(ps->p, "AND") || at_word(ps->p, "OR")) {
        fail(ps, "Invalid query: a term is missing at '%.20s'", ps->p);
        return NULL;
    }
    return term(ps);
}

static struct auditq *and_expr(struct parser *ps)
{
    struct auditq *left = unary(ps);
    for (;;) {
        if (!left)
            return NULL;
        skip_space(ps);
        if (ps->p[0] == '\0' || ps->p[0] == ')' || at_word(ps->p, "OR"))
            return left;
        if (at_word(ps->p, "AND"))
            ps->p += 3;
        struct auditq *right = unary(ps);
        if (!right) {
            auditq_free(left);
            return NULL;
        }
        left = node(N_AND, left, right);
    }
}

static struct auditq *or_expr(struct parser *ps)
{
    struct auditq *left = and_expr(ps);
    for (;;) {
        if (!left)
            return NULL;
        skip_space(ps);
        if (!at_word(ps->p, "OR"))
            return left;
        ps->p += 2;
        struct auditq *right = and_expr(ps);
        if (!right) {
            auditq_free(left);
            return NULL;
        }
        left = node(N_OR, left, right);
    }
}

int auditq_parse(const char *text, struct auditq **out, char *msg, size_t msglen)
{
    struct parser ps = {.p = text ? text : "", .msg = msg, .msglen = msglen};
    *out = NULL;
    if (strlen(ps.p) > MAX_QUERY_LEN) {
        snprintf(msg, msglen, "Invalid query: longer than %d characters", MAX_QUERY_LEN);
        return KH_EINVAL;
    }
    skip_space(&ps);
    if (ps.p[0] == '\0') {
        *out = node(N_ALL, NULL, NULL);
        return KH_OK;
    }
    struct auditq *q = or_expr(&ps);
    skip_space(&ps);
    if (q && ps.p[0] != '\0') {
        fail(&ps, "Invalid query: unexpected '%.20s'", ps.p);
        auditq_free(q);
        q = NULL;
    }
    if (!q) {
        if (!ps.failed)
            snprintf(msg, msglen, "Invalid query");
        return KH_EINVAL;
    }
    *out = q;
    return KH_OK;
}

/* ---- matching ---- */

static int fold(int c, int nocase)
{
    return nocase ? tolower(c) : c;
}

/* One event being matched: its message made once (free text needs it),
 * and the steps spent so far (a request's budget, auditq_match). */
struct match {
    const struct store_audit *e;
    char message[256];
    int has_message;
    int64_t *steps;
};

/* '*' matches any run of characters; everything else itself. Iterative:
 * at most about len(pat) * len(s) steps, each counted. */
static int glob(struct match *m, const char *pat, const char *s, int nocase)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        ++*m->steps;
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat && fold((unsigned char)*pat, nocase) == fold((unsigned char)*s, nocase)) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

const char *auditq_evt_name(const struct store_audit *e)
{
    if (strcmp(e->action, "auth_failure_burst") == 0 || strcmp(e->action, "first_use") == 0 ||
        strcmp(e->action, "expired_use") == 0)
        return "Authentication";
    if (strcmp(e->target_kind, "server_secret") == 0)
        return "Server Secret";
    return "Access Management";
}

void auditq_message(const struct store_audit *e, char *out, size_t len)
{
    snprintf(out, len, "%s %s %s by %s from %s", e->target_kind, e->target_id[0] ? e->target_id : "-", e->action,
             e->actor_id[0] ? e->actor_id : "-", e->source[0] ? e->source : "-");
}

const char *auditq_client_ip(const struct store_audit *e)
{
    return strcmp(e->source, "cli") == 0 ? "" : e->source;
}

/* The value of an attribute the events carry, or NULL. */
static const char *attribute(const struct store_audit *e, const char *key)
{
    if (strcmp(key, "action") == 0)
        return e->action;
    if (strcmp(key, "asset.type") == 0)
        return e->target_kind;
    if (strcmp(key, "asset.id") == 0)
        return e->target_id;
    if (strcmp(key, "usr.id") == 0)
        return e->actor_id;
    if (strcmp(key, "network.client.ip") == 0)
        return auditq_client_ip(e);
    if (strcmp(key, "org.id") == 0)
        return e->org_id;
    if (strcmp(key, "evt.name") == 0)
        return auditq_evt_name(e);
    return NULL;
}

/* key:value for service and source (always keyhold) and the event's tags. */
static int key_matches(const struct auditq *t, struct match *m)
{
    if (strcmp(t->key, "service") == 0 || strcmp(t->key, "source") == 0)
        return glob(m, t->pattern, "keyhold", 0);
    const char *tag = strcmp(t->key, "action") == 0       ? m->e->action
                      : strcmp(t->key, "asset_type") == 0 ? m->e->target_kind
                                                          : NULL;
    return tag && glob(m, t->pattern, tag, 0);
}

static int match_node(const struct auditq *q, struct match *m)
{
    switch (q->kind) {
    case N_ALL:
        return 1;
    case N_AND:
        return match_node(q->a, m) && match_node(q->b, m);
    case N_OR:
        return match_node(q->a, m) || match_node(q->b, m);
    case N_NOT:
        return !match_node(q->a, m);
    case N_ATTR: {
        const char *v = attribute(m->e, q->key);
        return v && v[0] && glob(m, q->pattern, v, 0);
    }
    case N_KEY:
        return key_matches(q, m);
    case N_TEXT:
        if (!m->has_message) {
            auditq_message(m->e, m->message, sizeof m->message);
            m->has_message = 1;
        }
        return glob(m, q->pattern, m->message, 1);
    }
    return 0;
}

int auditq_match(const struct auditq *q, const struct store_audit *e, int64_t *steps)
{
    struct match m = {.e = e, .steps = steps};
    return match_node(q, &m);
}

/* ---- time expressions ---- */

int auditq_time(const char *text, int64_t now_us, int64_t *us)
{
    if (strncmp(text, "now", 3) == 0) {
        const char *p = text + 3;
        if (*p == '\0') {
            *us = now_us;
            return KH_OK;
        }
        if (*p != '-' && *p != '+')
            return KH_EINVAL;
        char *end;
        errno = 0;
        long long n = strtoll(p + 1, &end, 10);
        if (errno || end == p + 1 || n < 0 || n > 100000 || end[0] == '\0' || end[1] != '\0')
            return KH_EINVAL;
        int64_t unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : end[0] == 'd' ? 86400
                     : end[0] == 'w'   ? 604800
                                       : 0;
        if (!unit)
            return KH_EINVAL;
        int64_t delta = (int64_t)n * unit * 1000000;
        *us = *p == '-' ? now_us - delta : now_us + delta;
        return KH_OK;
    }
    size_t digits = strspn(text, "0123456789");
    if (digits && text[digits] == '\0' && digits <= 15) {
        *us = strtoll(text, NULL, 10) * 1000; /* milliseconds since the epoch */
        return KH_OK;
    }
    return clock_parse(text, us) ? KH_EINVAL : KH_OK;
}
