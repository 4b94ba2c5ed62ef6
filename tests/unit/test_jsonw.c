/* test_jsonw.c - the streaming JSON writer against jansson's own dumps: every
 * control character and every byte, valid and invalid UTF-8 (refused exactly
 * when json_string() refuses), integers at their edges, null. */
#include "test.h"

#include "json/jsonw.h"
#include "util/errors.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* What jansson writes for the string s, or NULL when it refuses it. */
static char *jansson_string(const char *s)
{
    json_t *v = json_string(s);
    if (!v)
        return NULL;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return text;
}

/* Writes s and compares with jansson: the same text, or refused by both
 * (and then nothing written). */
static void same_as_jansson(const char *s)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_raw(&w, "[");
    int rc = jsonw_string(&w, s);
    char *want = jansson_string(s);
    if (!want) {
        CHECK_INT(rc, KH_EINVAL);
        CHECK_INT(jsonw_len(&w), 1);
    } else {
        CHECK_INT(rc, KH_OK);
        char *got = jsonw_steal(&w, NULL);
        if (strcmp(got + 1, want) != 0) {
            fprintf(stderr, "  got %s, want %s\n", got + 1, want);
            CHECK(0);
        }
        free(got);
    }
    free(want);
    jsonw_free(&w);
}

static void every_control_character_escapes_as_jansson(void)
{
    for (int c = 1; c < 0x20; c++) {
        char s[8] = {'a', (char)c, 'b', 0};
        same_as_jansson(s);
        char alone[2] = {(char)c, 0};
        same_as_jansson(alone);
    }
    same_as_jansson("");
    same_as_jansson("\"quoted\" and \\back\\slashed");
    same_as_jansson("/slash/ \x7f del");
    same_as_jansson("\x01\x02\x1f\x1e\"\\\n\r\t\b\f");
}

/* Every single byte, every pair of bytes, and sequences at the edges of
 * UTF-8: overlong forms, surrogates, above U+10FFFF, cut short. */
static void utf8_is_refused_exactly_when_jansson_refuses_it(void)
{
    for (int a = 1; a < 256; a++) {
        char s[3] = {(char)a, 0, 0};
        same_as_jansson(s);
        for (int b = 1; b < 256; b++) {
            s[1] = (char)b;
            same_as_jansson(s);
        }
    }
    static const char *edges[] = {
        "\xc0\x80",         "\xc1\xbf",         "\xc2\x80",         "\xdf\xbf",         "\xe0\x80\x80",
        "\xe0\x9f\xbf",     "\xe0\xa0\x80",     "\xed\x9f\xbf",     "\xed\xa0\x80",     "\xed\xbf\xbf",
        "\xee\x80\x80",     "\xef\xbf\xbf",     "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80",
        "\xe2\x82",         "\xf0\x9f\x98",     "ok \xe2\x82\xac then \x80", "é中😀",
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        same_as_jansson(edges[i]);
    /* every 3-byte sequence led by 0xE0..0xEF with a continuation in the middle */
    for (int a = 0xe0; a <= 0xef; a++)
        for (int b = 0x80; b <= 0xbf; b++)
            for (int c = 0x70; c <= 0xc0; c += 8) {
                char s[4] = {(char)a, (char)b, (char)c, 0};
                same_as_jansson(s);
            }
}

static void integers_and_null_dump_as_jansson(void)
{
    static const long long values[] = {0, 1, -1, 9, 10, -10, 99, 100, 123456789, -987654321, INT_MAX, INT_MIN,
                                       LLONG_MAX, LLONG_MIN, LLONG_MIN + 1};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        struct jsonw w;
        jsonw_init(&w);
        jsonw_int(&w, values[i]);
        char *got = jsonw_steal(&w, NULL);
        json_t *v = json_integer(values[i]);
        char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        CHECK_STR(got, want);
        json_decref(v);
        free(want);
        free(got);
    }
    struct jsonw w;
    jsonw_init(&w);
    jsonw_null(&w);
    char *got = jsonw_steal(&w, NULL);
    char *want = json_dumps(json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
    CHECK_STR(got, want);
    free(want);
    free(got);
}

/* A mark taken with jsonw_len goes back exactly there; jsonw_text shows
 * what is written ("" before anything is). */
static void truncate_goes_back_to_a_mark(void)
{
    struct jsonw w;
    jsonw_init(&w);
    CHECK_STR(jsonw_text(&w), "");
    jsonw_raw(&w, "[1");
    CHECK_STR(jsonw_text(&w), "[1");
    size_t mark = jsonw_len(&w);
    jsonw_raw(&w, ",");
    CHECK_INT(jsonw_string(&w, "x\xff"), KH_EINVAL);
    jsonw_truncate(&w, mark);
    jsonw_raw(&w, "]");
    char *got = jsonw_steal(&w, NULL);
    CHECK_STR(got, "[1]");
    free(got);
    jsonw_init(&w); /* empty after steal: an empty text */
    got = jsonw_steal(&w, NULL);
    CHECK_STR(got, "");
    free(got);
}

int main(void)
{
    RUN(every_control_character_escapes_as_jansson);
    RUN(utf8_is_refused_exactly_when_jansson_refuses_it);
    RUN(integers_and_null_dump_as_jansson);
    RUN(truncate_goes_back_to_a_mark);
    return TEST_SUMMARY();
}
