/* clock.c - time source and RFC 3339 formatting/parsing (see clock.h). */
#define _POSIX_C_SOURCE 200809L
#include "util/clock.h"

#include "util/errors.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Splits us into a UTC calendar date and time and the microseconds. The
 * date is computed from the day count (the proleptic Gregorian calendar in
 * 400-year eras, whose days repeat exactly) rather than with gmtime_r(),
 * which takes glibc's time zone lock on every call: the lists format three
 * timestamps a row on two event loops at once (issue 14). test_clock checks
 * it against gmtime_r() from before year 0 to after 9999. */
static void split(int64_t us, struct tm *tm, int *frac)
{
    int64_t secs = us / 1000000;
    int64_t rem = us % 1000000;
    if (rem < 0) {
        rem += 1000000;
        secs -= 1;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    /* Days since 0000-03-01: years then start in March, so the leap day
     * is the last day of a year. */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                     /* day of the era, 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* year of the era, 0..399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              /* day of that March year, 0..365 */
    int64_t mp = (5 * doy + 2) / 153;                                   /* month from March, 0..11 */
    int64_t month = mp < 10 ? mp + 3 : mp - 9;                          /* 1..12 */
    memset(tm, 0, sizeof *tm);
    tm->tm_year = (int)(yoe + era * 400 + (month <= 2) - 1900);
    tm->tm_mon = (int)month - 1;
    tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm->tm_hour = (int)(sod / 3600);
    tm->tm_min = (int)(sod / 60 % 60);
    tm->tm_sec = (int)(sod % 60);
    *frac = (int)rem;
}

/* Writes n decimal digits of v, zero-padded, and returns the end. */
static char *put_digits(char *p, int v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* Writes "YYYY-MM-DDTHH:MM:SS" and returns the end, or NULL when the year has
 * not four digits (then the caller's snprintf says what "%04d" would). The
 * token lists format three times a row, and snprintf's vfprintf was a good
 * part of their CPU (issue 14). */
static char *put_date_time(char *p, const struct tm *tm)
{
    int year = tm->tm_year + 1900;
    if (year < 0 || year > 9999)
        return NULL;
    p = put_digits(p, year, 4);
    *p++ = '-';
    p = put_digits(p, tm->tm_mon + 1, 2);
    *p++ = '-';
    p = put_digits(p, tm->tm_mday, 2);
    *p++ = 'T';
    p = put_digits(p, tm->tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, tm->tm_min, 2);
    *p++ = ':';
    return put_digits(p, tm->tm_sec, 2);
}

void clock_format_iso(int64_t us, char out[CLOCK_BUF])
{
    struct tm tm;
    int frac;
    split(us, &tm, &frac);
    char *p = put_date_time(out, &tm);
    if (!p) {
        snprintf(out, CLOCK_BUF, "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
        return;
    }
    *p++ = '.';
    p = put_digits(p, frac, 6);
    memcpy(p, "+00:00", 7);
}

void clock_format_rfc3339(int64_t us, int trim, char out[CLOCK_BUF])
{
    struct tm tm;
    int frac;
    split(us, &tm, &frac);
    char fr[24] = "";
    if (frac || !trim) {
        fr[0] = '.';
        put_digits(fr + 1, frac, 6);
        size_t n = 7;
        if (trim)
            while (n > 1 && fr[n - 1] == '0')
                n--;
        fr[n] = '\0';
    }
    char *p = put_date_time(out, &tm);
    if (!p) {
        snprintf(out, CLOCK_BUF, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, fr);
        return;
    }
    size_t n = strlen(fr);
    memcpy(p, fr, n);
    memcpy(p + n, "Z", 2);
}

void clock_format_v1(int64_t us, char out[CLOCK_BUF])
{
    struct tm tm;
    int frac;
    split(us, &tm, &frac);
    char *p = put_date_time(out, &tm);
    if (!p) {
        snprintf(out, CLOCK_BUF, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        return;
    }
    memcpy(p, "+00:00", 7);
}

/* Reads exactly n digits at *p; advances *p. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), without timegm's
 * dependency on the TZ environment. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int clock_parse(const char *s, int64_t *us)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, frac_us = 0, off_min = 0;
    if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return KH_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
        return KH_EINVAL;
    if (*p == '\0')
        goto done;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return KH_EINVAL;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &sec))
        return KH_EINVAL;
    if (h > 23 || mi > 59 || sec > 60)
        return KH_EINVAL;
    if (*p == '.') {
        p++;
        int n = 0, scale = 100000;
        while (isdigit((unsigned char)*p)) {
            if (n < 6)
                frac_us += (*p - '0') * scale, scale /= 10;
            n++, p++;
        }
        if (n == 0 || n > 9)
            return KH_EINVAL;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
            return KH_EINVAL;
        off_min = sign * (oh * 60 + om);
    } else {
        return KH_EINVAL;
    }
    if (*p != '\0')
        return KH_EINVAL;
done:;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off_min * 60;
    *us = secs * 1000000 + frac_us;
    return KH_OK;
}
