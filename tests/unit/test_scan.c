/* test_scan.c - the offline secret scanner (util/scan.c): real minted tokens
 * are found wherever text puts them, exactly once and without their secret;
 * near-misses (any single changed character, truncated, too long, glued to
 * a longer run, another or an uppercase prefix even with a valid checksum)
 * are not; windows of a long line overlap so a token across their edge is
 * found; hex keys only when asked for and named on their line. */
#include "test.h"

#include "util/base62.h"
#include "util/scan.h"
#include "util/secret.h"
#include "util/token.h"
#include "util/uuid.h"

#include <stdlib.h>
#include <zlib.h>

#define MAX_FOUND 64

struct seen {
    struct scan_finding f[MAX_FOUND];
    size_t n;
    unsigned long lines;    /* line callbacks */
    int complete_lines;     /* of which complete */
};

static void on_found(void *ctx, const struct scan_finding *f)
{
    struct seen *s = ctx;
    if (s->n < MAX_FOUND)
        s->f[s->n] = *f;
    s->n++;
}

static void on_line(void *ctx, unsigned long line, const char *head, size_t n, int complete)
{
    struct seen *s = ctx;
    s->lines++;
    s->complete_lines += complete;
}

static struct seen scan(const char *text, int unverified)
{
    struct seen s = {0};
    struct scan_sink sink = {on_line, on_found, &s};
    scan_text(text, strlen(text), unverified, &sink);
    return s;
}

static void mint(enum token_kind kind, char tok[TOKEN_LEN + 1])
{
    char id[UUID_STR], secret[TOKEN_SECRET_LEN + 1];
    uuid_generate(id);
    token_mint(kind, id, tok, secret);
}

/* A token of any prefix whose checksum holds (as token.c computes it), to
 * show that the prefix is checked apart from the checksum. */
static void forge(const char *prefix, const char *body, char out[TOKEN_LEN + 1])
{
    memcpy(out, prefix, 6);
    memcpy(out + 6, body, 53); /* alias, '_', secret */
    uLong crc = crc32(0L, (const Bytef *)out, 59);
    uint8_t be[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
    base62_encode(be, sizeof be, out + 59, TOKEN_CHECK_LEN);
    out[TOKEN_LEN] = '\0';
}

static void tokens_are_found_wherever_text_puts_them(void)
{
    static const char *const shapes[] = {
        "%s",
        "%s\n",
        "export KEY=%s",
        "token = \"%s\"",
        "'%s',",
        "{\"data\":{\"token\":\"%s\",\"n\":1}}",
        "auth:\n  token: %s\n",
        "https://example.com/hook?token=%s&x=1",
        "curl -H \"Authorization: Bearer %s\" http://h",
        "Authorization: Bearer %s\r\n",
        "`%s`",
        "(%s)",
        "\t%s\t",
        "<token>%s</token>",
    };
    for (int k = TOKEN_PAT; k <= TOKEN_SAT; k++) {
        char tok[TOKEN_LEN + 1], text[512];
        mint((enum token_kind)k, tok);
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            snprintf(text, sizeof text, shapes[i], tok);
            struct seen s = scan(text, 0);
            CHECK_INT(s.n, 1);
            if (s.n != 1) {
                fprintf(stderr, "  shape %s\n", shapes[i]);
                continue;
            }
            const char *at = strstr(text, tok);
            const char *nl = at;
            unsigned long line = 1;
            for (const char *c = text; c < at; c++)
                line += *c == '\n';
            while (nl > text && nl[-1] != '\n')
                nl--;
            CHECK_INT(s.f[0].kind, k == TOKEN_PAT ? SCAN_PAT : SCAN_SAT);
            CHECK_INT(s.f[0].verified, 1);
            CHECK_INT(s.f[0].line, line);
            CHECK_INT(s.f[0].column, at - nl + 1);
            CHECK_INT(strlen(s.f[0].shown), 6 + TOKEN_ALIAS_LEN);
            CHECK(strncmp(s.f[0].shown, tok, 6 + TOKEN_ALIAS_LEN) == 0);
            CHECK(strstr(tok, s.f[0].shown) == tok); /* the public portion, nothing of the secret */
        }
    }
}

static void several_tokens_on_several_lines_are_each_found_once(void)
{
    char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1], c[TOKEN_LEN + 1], text[1024];
    mint(TOKEN_PAT, a);
    mint(TOKEN_SAT, b);
    mint(TOKEN_PAT, c);
    snprintf(text, sizeof text, "first %s %s\n\n\nx=%s", a, b, c);
    struct seen s = scan(text, 0);
    CHECK_INT(s.n, 3);
    CHECK_INT(s.f[0].line, 1);
    CHECK_INT(s.f[0].column, 7);
    CHECK_INT(s.f[1].line, 1);
    CHECK_INT(s.f[1].kind, SCAN_SAT);
    CHECK_INT(s.f[1].column, 7 + TOKEN_LEN + 1);
    CHECK_INT(s.f[2].line, 4);
    CHECK_INT(s.f[2].column, 3);
    CHECK_INT(s.lines, 4);
    CHECK_INT(s.complete_lines, 4);
}

/* Every single-character change of a real token, to any other character
 * (a base62 one, which keeps it one run, or a separator, which splits it),
 * is never reported. */
static void every_single_character_change_is_not_reported(void)
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-. ";
    char tok[TOKEN_LEN + 1], text[128];
    mint(TOKEN_PAT, tok);
    int reported = 0, tried = 0;
    for (size_t i = 0; i < TOKEN_LEN; i++) {
        for (const char *c = alphabet; *c; c++) {
            if (*c == tok[i])
                continue;
            char changed[TOKEN_LEN + 1];
            memcpy(changed, tok, sizeof changed);
            changed[i] = *c;
            snprintf(text, sizeof text, "token: %s\n", changed);
            reported += scan(text, 1).n != 0;
            tried++;
        }
    }
    CHECK_INT(reported, 0);
    CHECK(tried > 60 * TOKEN_LEN);
    snprintf(text, sizeof text, "token: %s\n", tok);
    CHECK_INT(scan(text, 1).n, 1); /* and the unchanged one is */
}

static void near_misses_are_not_reported(void)
{
    char tok[TOKEN_LEN + 1], text[256], forged[TOKEN_LEN + 1];
    mint(TOKEN_PAT, tok);
    const char *fmts[] = {
        "%.64s",           /* truncated */
        "%.60s",           /* truncated more */
        "%sa",             /* one character too long */
        "%s0",             /* one digit too long */
        "%s_",             /* glued to '_' */
        "a%s",             /* a longer run before */
        "x_%s",            /* an identifier before */
        "AAAAAAAA%sBBBBB", /* embedded in a longer base62 run */
    };
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        snprintf(text, sizeof text, fmts[i], tok);
        struct seen s = scan(text, 1);
        if (s.n)
            fprintf(stderr, "  reported: %s\n", fmts[i]);
        CHECK_INT(s.n, 0);
    }
    /* A checksum that holds does not make another prefix a token. */
    forge("ddpat_", tok + 6, forged);
    CHECK_STR(forged, tok); /* the forger computes what token_mint does */
    const char *prefixes[] = {"ddpax_", "DDPAT_", "Ddpat_", "ddapp_", "ddsaT_"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        forge(prefixes[i], tok + 6, forged);
        CHECK_INT(scan(forged, 1).n, 0);
    }
    /* Nor does a valid checksum over a malformed alias. */
    forge("ddpat_", "zzzzzzzzzzzzzzzzzzzzzz_Mgs29LiGDtuUABV2VofNPKqpwKXqGC", forged);
    CHECK_INT(scan(forged, 1).n, 0);
    /* A separator where the alias ends: two shorter runs. */
    memcpy(text, tok, sizeof tok);
    text[28] = '-';
    CHECK_INT(scan(text, 1).n, 0);
}

static void crlf_files_are_scanned_like_lf_ones(void)
{
    char tok[TOKEN_LEN + 1], text[512];
    mint(TOKEN_SAT, tok);
    snprintf(text, sizeof text, "a: 1\r\nb: %s\r\nc: \"%s\"\r\n", tok, tok);
    struct seen s = scan(text, 0);
    CHECK_INT(s.n, 2);
    CHECK_INT(s.f[0].line, 2);
    CHECK_INT(s.f[0].column, 4);
    CHECK_INT(s.f[1].line, 3);
    CHECK_INT(s.f[1].column, 5);
}

/* A line longer than the window is looked at in overlapping windows: a
 * token at every offset around several window edges is found exactly once,
 * with its column, whatever pieces the text is fed in. */
static void tokens_across_window_edges_are_found_once(void)
{
    const size_t window = SCAN_WINDOW_MIN;
    const size_t len = 4 * window;
    char tok[TOKEN_LEN + 1];
    char *text = malloc(len + 1);
    mint(TOKEN_PAT, tok);
    static const size_t pieces[] = {1, 7, 64, 1000, 100000};
    int wrong = 0;
    for (size_t edge = 1; edge <= 3 && !wrong; edge++) {
        /* where the e-th window is cut (SCAN_LOOKAHEAD before its end) and
         * what it keeps of the one before */
        size_t step = window - SCAN_CONTEXT - SCAN_LOOKAHEAD;
        size_t cut = window - SCAN_LOOKAHEAD + (edge - 1) * step;
        for (size_t at = cut - TOKEN_LEN - 3; at <= cut + TOKEN_LEN + 3 && !wrong; at++) {
            for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
                memset(text, ' ', len);
                memcpy(text + at, tok, TOKEN_LEN);
                text[len] = '\0';
                struct seen s = {0};
                struct scan_sink sink = {on_line, on_found, &s};
                struct scan_stream *st = scan_stream_new(window, 0, &sink);
                for (size_t off = 0; off < len; off += pieces[p])
                    scan_stream_feed(st, text + off, len - off < pieces[p] ? len - off : pieces[p]);
                scan_stream_end(st);
                scan_stream_free(st);
                if (s.n != 1 || s.f[0].column != at + 1 || s.f[0].line != 1 || s.lines != 1) {
                    fprintf(stderr, "  token at %zu, pieces of %zu: %zu found\n", at, pieces[p], s.n);
                    wrong = 1;
                    break;
                }
            }
        }
    }
    CHECK_INT(wrong, 0);
    /* Glued to a long base62 run that crosses edges: never a token. */
    memset(text, 'A', len);
    memcpy(text + window - 40, tok, TOKEN_LEN);
    memcpy(text + 2 * window + 5, tok, TOKEN_LEN);
    struct seen s = {0};
    struct scan_sink sink = {NULL, on_found, &s};
    struct scan_stream *st = scan_stream_new(window, 1, &sink);
    scan_stream_feed(st, text, len);
    scan_stream_end(st);
    CHECK_INT(s.n, 0);
    /* The stream starts again at line 1 after end, and free wipes it. */
    char again[128];
    snprintf(again, sizeof again, "\n%s", tok);
    scan_stream_feed(st, again, strlen(again));
    scan_stream_end(st);
    CHECK_INT(s.n, 1);
    CHECK_INT(s.f[0].line, 2);
    scan_stream_free(st);
    scan_stream_free(NULL);
    free(text);
}

static void hex_keys_only_with_the_flag_and_their_name(void)
{
    char api[33], app[41], text[1024];
    secret_random_hex(api, 32);
    api[32] = '\0';
    secret_random_hex(app, 40);
    app[40] = '\0';
    struct {
        const char *fmt;
        const char *key;
        int kind; /* 0: not reported */
    } cases[] = {
        {"DD_API_KEY=%s", api, SCAN_API_KEY},
        {"export DD_API_KEY=\"%s\"", api, SCAN_API_KEY},
        {"curl -H 'DD-API-KEY: %s'", api, SCAN_API_KEY},
        {"{\"apiKey\": \"%s\"}", api, SCAN_API_KEY},
        {"  api_key: %s", api, SCAN_API_KEY},
        {"DD_APP_KEY=%s", app, SCAN_APP_KEY},
        {"DD_APPLICATION_KEY=%s", app, SCAN_APP_KEY},
        {"dd-application-key: %s\r", app, SCAN_APP_KEY},
        {"appKeyAuth: '%s'", app, SCAN_APP_KEY},
        {"app_key = %s", app, SCAN_APP_KEY},
        {"%s", api, 0},                        /* no name */
        {"commit %s", app, 0},                 /* a commit id */
        {"DD_API_KEY=%s", app, 0},             /* 40 characters are no API key */
        {"DD_APP_KEY=%s", api, 0},             /* 32 are no application key */
        {"%s # DD_API_KEY", api, 0},           /* the name must come before */
        {"DD_API_KEY=x%s", api, 0},            /* part of a longer run */
        {"DD_API_KEY=%sa", api, 0},            /* 33 characters */
        {"DD_API_KEY\nvalue: %s", api, 0},     /* named on another line */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, cases[i].fmt, cases[i].key);
        CHECK_INT(scan(text, 0).n, 0); /* never without the flag */
        struct seen s = scan(text, 1);
        CHECK_INT(s.n, cases[i].kind ? 1 : 0);
        if (s.n != (cases[i].kind ? 1u : 0u))
            fprintf(stderr, "  case %s\n", cases[i].fmt);
        if (cases[i].kind && s.n == 1) {
            CHECK_INT(s.f[0].kind, cases[i].kind);
            CHECK_INT(s.f[0].verified, 0);
            CHECK_STR(s.f[0].shown, cases[i].key + strlen(cases[i].key) - 4);
        }
    }
    /* Uppercase hex is not what keyhold mints. */
    snprintf(text, sizeof text, "DD_API_KEY=%s", "0123456789ABCDEF0123456789ABCDEF");
    CHECK_INT(scan(text, 1).n, 0);
    /* The name within SCAN_CONTEXT bytes before the key, not further. */
    memset(text, 0, sizeof text);
    snprintf(text, sizeof text, "apiKey=%*s%s", SCAN_CONTEXT - 7, "", api);
    CHECK_INT(scan(text, 1).n, 1);
    snprintf(text, sizeof text, "apiKey=%*s%s", SCAN_CONTEXT - 6, "", api);
    CHECK_INT(scan(text, 1).n, 0);
}

/* The name of a hex key is still seen when the key sits just after a
 * window edge of a long line. */
static void a_key_name_before_a_window_edge_is_seen(void)
{
    const size_t window = SCAN_WINDOW_MIN;
    char api[33];
    secret_random_hex(api, 32);
    api[32] = '\0';
    char *text = malloc(3 * window);
    int wrong = 0;
    for (size_t at = window - 200; at < window + 100; at++) {
        memset(text, ' ', 3 * window);
        memcpy(text + at - 20, "DD_API_KEY", 10);
        memcpy(text + at, api, 32);
        struct seen s = {0};
        struct scan_sink sink = {NULL, on_found, &s};
        struct scan_stream *st = scan_stream_new(window, 1, &sink);
        scan_stream_feed(st, text, 3 * window);
        scan_stream_end(st);
        scan_stream_free(st);
        wrong += s.n != 1 || s.f[0].column != at + 1;
    }
    CHECK_INT(wrong, 0);
    free(text);
}

static void kinds_have_their_printed_names(void)
{
    CHECK_STR(scan_kind_name(SCAN_PAT), "ddpat");
    CHECK_STR(scan_kind_name(SCAN_SAT), "ddsat");
    CHECK_STR(scan_kind_name(SCAN_API_KEY), "api_key");
    CHECK_STR(scan_kind_name(SCAN_APP_KEY), "application_key");
}

int main(void)
{
    RUN(tokens_are_found_wherever_text_puts_them);
    RUN(several_tokens_on_several_lines_are_each_found_once);
    RUN(every_single_character_change_is_not_reported);
    RUN(near_misses_are_not_reported);
    RUN(crlf_files_are_scanned_like_lf_ones);
    RUN(tokens_across_window_edges_are_found_once);
    RUN(hex_keys_only_with_the_flag_and_their_name);
    RUN(a_key_name_before_a_window_edge_is_seen);
    RUN(kinds_have_their_printed_names);
    return TEST_SUMMARY();
}
