/* test_query.c - query-string decoding and the strict typed readers. */
#include "test.h"

#include "api/query.h"
#include "util/errors.h"

#include <stdlib.h>

static int parse(const char *s, struct query_string *q)
{
    return query_parse(s, strlen(s), q);
}

static void decodes_brackets_plus_and_repeats(void)
{
    struct query_string q;
    CHECK_INT(parse("page%5Bsize%5D=5&filter=my+key&sort=-name&flag&page[number]=2&sort=name", &q), KH_OK);
    CHECK_STR(query_get(&q, "page[size]"), "5");
    CHECK_STR(query_get(&q, "filter"), "my key");
    CHECK_STR(query_get(&q, "sort"), "name"); /* last one wins */
    CHECK_STR(query_get(&q, "flag"), "");
    CHECK_STR(query_get(&q, "page[number]"), "2");
    CHECK(query_get(&q, "missing") == NULL);
    query_free(&q);
    CHECK_INT(parse("", &q), KH_OK);
    CHECK_INT(q.n, 0);
}

static void refuses_bad_escapes_nul_and_floods(void)
{
    struct query_string q;
    CHECK_INT(parse("a=%zz", &q), KH_EINVAL);
    CHECK_INT(parse("a=%4", &q), KH_EINVAL);
    CHECK_INT(parse("a=%00", &q), KH_EINVAL);
    char flood[2000] = "";
    for (int i = 0; i < QUERY_MAX_PARAMS + 1; i++)
        strcat(flood, "a=1&");
    CHECK_INT(parse(flood, &q), KH_EINVAL);
    char *huge = malloc(QUERY_MAX_LEN + 10);
    memset(huge, 'a', QUERY_MAX_LEN + 9);
    huge[QUERY_MAX_LEN + 9] = '\0';
    CHECK_INT(parse(huge, &q), KH_EINVAL);
    free(huge);
}

static void lists_split_commas_and_repeats(void)
{
    struct query_string q;
    const char *out[4];
    char *scratch;
    CHECK_INT(parse("filter%5Bowned_by%5D=a,b&filter[owned_by]=c&x=1", &q), KH_OK);
    int n = query_get_list(&q, "filter[owned_by]", out, 4, &scratch);
    CHECK_INT(n, 3);
    CHECK_STR(out[0], "a");
    CHECK_STR(out[1], "b");
    CHECK_STR(out[2], "c");
    free(scratch);
    CHECK_INT(query_get_list(&q, "filter[owned_by]", out, 2, &scratch), -1);
    free(scratch);
    query_free(&q);
}

static void typed_readers_check_ranges(void)
{
    struct query_string q;
    char msg[256];
    int64_t v = 10;
    int b = -1;
    struct {
        const char *raw;
        int ok;
        int64_t want;
    } cases[] = {
        {"page[size]=1", 1, 1},      {"page[size]=100", 1, 100},  {"page[size]=0", 0, 0},
        {"page[size]=101", 0, 0},    {"page[size]=-5", 0, 0},     {"page[size]=abc", 0, 0},
        {"page[size]=5x", 0, 0},     {"page[size]=", 0, 0},       {"page[size]=+5", 0, 0},
        {"page[size]=99999999999999999999", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        v = -7;
        CHECK_INT(parse(cases[i].raw, &q), KH_OK);
        int rc = query_int(&q, "page[size]", 1, 100, &v, msg, sizeof msg);
        CHECK_INT(rc == KH_OK, cases[i].ok);
        if (cases[i].ok)
            CHECK_INT(v, cases[i].want);
        else
            CHECK(strstr(msg, "page[size]") != NULL);
        query_free(&q);
    }
    CHECK_INT(parse("x=true&y=false&z=yes&t=2020-11-24T18:46:21%2B00:00&u=nope", &q), KH_OK);
    CHECK_INT(query_bool(&q, "x", &b, msg, sizeof msg), KH_OK);
    CHECK_INT(b, 1);
    CHECK_INT(query_bool(&q, "y", &b, msg, sizeof msg), KH_OK);
    CHECK_INT(b, 0);
    CHECK_INT(query_bool(&q, "z", &b, msg, sizeof msg), KH_EINVAL);
    CHECK_INT(query_time(&q, "t", &v, msg, sizeof msg), KH_OK);
    CHECK_INT(v, 1606243581000000LL);
    CHECK_INT(query_time(&q, "u", &v, msg, sizeof msg), KH_EINVAL);
    CHECK(strstr(msg, "RFC 3339") != NULL);
    v = 42;
    CHECK_INT(query_int(&q, "absent", 0, 1, &v, msg, sizeof msg), KH_OK);
    CHECK_INT(v, 42);
    query_free(&q);
}

int main(void)
{
    RUN(decodes_brackets_plus_and_repeats);
    RUN(refuses_bad_escapes_nul_and_floods);
    RUN(lists_split_commas_and_repeats);
    RUN(typed_readers_check_ranges);
    return TEST_SUMMARY();
}
