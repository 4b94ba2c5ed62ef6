/* test_clock.c - RFC 3339 parsing and Datadog's two timestamp formats. */
#define _POSIX_C_SOURCE 200809L
#include "test.h"

#include "util/clock.h"
#include "util/errors.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

/* The snprintf formatting the three formats used before issue 14, kept as
 * the reference the digit writers must match. */
static void reference_formats(int64_t us, int trim, char iso[CLOCK_BUF], char rfc[CLOCK_BUF], char v1[CLOCK_BUF])
{
    int64_t secs = us / 1000000, rem = us % 1000000;
    if (rem < 0) {
        rem += 1000000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    int frac = (int)rem;
    snprintf(iso, CLOCK_BUF, "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    char fr[24] = "";
    if (frac || !trim) {
        snprintf(fr, sizeof fr, ".%06d", frac);
        if (trim) {
            size_t n = strlen(fr);
            while (n > 1 && fr[n - 1] == '0')
                fr[--n] = '\0';
        }
    }
    snprintf(rfc, CLOCK_BUF, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, fr);
    snprintf(v1, CLOCK_BUF, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Random instants from before year 0 to after 9999 (the snprintf fallback),
 * with fractions that end in zeros (the trimmed form), byte for byte. */
static void formats_match_snprintf(void)
{
    static const int64_t fixed[] = {0, 1, -1, 999999, 1000000, -1000000, 1757323482540000LL, 1757323482000000LL,
                                    1757323482000001LL, 946684799999999LL, 253402300799999999LL,
                                    253402300800000000LL, -62167219200000000LL, -62167219200000001LL,
                                    951782400000000LL, 951868799999999LL, -2203891200000000LL, 4107456000000000LL};
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        int64_t us;
        if (i < (int)(sizeof fixed / sizeof fixed[0])) {
            us = fixed[i];
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int64_t span = i % 3 == 0 ? 400000000000000000LL : 4102444800000000LL; /* +-12,000 years or 1970..2100 */
            us = (int64_t)(x % (uint64_t)span) - (i % 3 == 0 ? span / 2 : 0);
            if (i % 4 == 1)
                us -= us % 1000; /* trailing zeros in the fraction */
            if (i % 8 == 3)
                us -= us % 1000000;
        }
        for (int trim = 0; trim < 2; trim++) {
            char want_iso[CLOCK_BUF], want_rfc[CLOCK_BUF], want_v1[CLOCK_BUF], got[CLOCK_BUF];
            reference_formats(us, trim, want_iso, want_rfc, want_v1);
            clock_format_rfc3339(us, trim, got);
            CHECK_STR(got, want_rfc);
            clock_format_iso(us, got);
            CHECK_STR(got, want_iso);
            clock_format_v1(us, got);
            CHECK_STR(got, want_v1);
        }
    }
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
    RUN(formats_match_snprintf);
    RUN(parse_accepts_rfc3339_variants);
    RUN(parse_refuses_malformed_dates);
    return TEST_SUMMARY();
}
