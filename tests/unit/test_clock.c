/* test_clock.c - RFC 3339 parsing and Datadog's two timestamp formats. */
#include "test.h"

#include "util/clock.h"
#include "util/errors.h"

static void formats_match_datadog(void)
{
    char buf[CLOCK_BUF];
    int64_t us = 1757323482999350LL; /* 2025-09-08T09:24:42.999350Z */
    clock_format_iso(us, buf);
    CHECK_STR(buf, "2025-09-08T09:24:42.999350+00:00");
    clock_format_rfc3339(us, 0, buf);
    CHECK_STR(buf, "2025-09-08T09:24:42.999350Z");
    clock_format_rfc3339(1757323482540000LL, 1, buf);
    CHECK_STR(buf, "2025-09-08T09:24:42.54Z");
    clock_format_rfc3339(1757323482000000LL, 1, buf);
    CHECK_STR(buf, "2025-09-08T09:24:42Z");
    clock_format_v1(us, buf);
    CHECK_STR(buf, "2025-09-08T09:24:42+00:00");
}

static void parse_accepts_rfc3339_variants(void)
{
    int64_t us = 0;
    CHECK_INT(clock_parse("2025-09-08T09:24:42.999350Z", &us), KH_OK);
    CHECK_INT(us, 1757323482999350LL);
    CHECK_INT(clock_parse("2025-09-08T11:24:42.999350+02:00", &us), KH_OK);
    CHECK_INT(us, 1757323482999350LL);
    CHECK_INT(clock_parse("2025-09-08 09:24:42.999350123Z", &us), KH_OK);
    CHECK_INT(us, 1757323482999350LL);
    CHECK_INT(clock_parse("2020-11-24T18:46:21+00:00", &us), KH_OK);
    CHECK_INT(us, 1606243581000000LL);
    CHECK_INT(clock_parse("2024-02-29", &us), KH_OK);
    CHECK_INT(us, 1709164800000000LL);
    CHECK_INT(clock_parse("1970-01-01T00:00:00Z", &us), KH_OK);
    CHECK_INT(us, 0);
}

static void parse_refuses_malformed_dates(void)
{
    int64_t us;
    const char *bad[] = {"",
                         "yesterday",
                         "2025-13-01T00:00:00Z",
                         "2023-02-29T00:00:00Z",
                         "2025-01-01T24:00:00Z",
                         "2025-01-01T00:00:00",
                         "2025-01-01T00:00:00.Z",
                         "2025-01-01T00:00:00.1234567890Z",
                         "2025-01-01T00:00:00+0100",
                         "2025-01-01T00:00:00Zjunk",
                         "2025-1-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (clock_parse(bad[i], &us) != KH_EINVAL) {
            fprintf(stderr, "  accepted: %s\n", bad[i]);
            CHECK(0);
        }
    }
}

int main(void)
{
    RUN(formats_match_datadog);
    RUN(parse_accepts_rfc3339_variants);
    RUN(parse_refuses_malformed_dates);
    return TEST_SUMMARY();
}
