/* clock.h - wall-clock time in microseconds and the timestamp formats the
 * Datadog API uses.
 *
 * Every timestamp is stored as int64 microseconds since the Unix epoch, UTC.
 * Two output formats exist because Datadog's services differ
 * (docs/datadog.md, "Timestamps"):
 *   key service:    2025-09-08T09:24:42.999350+00:00   (clock_format_iso)
 *   token service:  2026-04-08T16:45:36.006189Z        (clock_format_rfc3339,
 *                   Go RFC3339Nano style: trailing zeros of the fraction trimmed
 *                   when trim is set) */
#ifndef KH_CLOCK_H
#define KH_CLOCK_H

#include <stdint.h>

#define CLOCK_BUF 64

int64_t clock_now_us(void);
/* Monotonic microseconds, for durations only. */
int64_t clock_mono_us(void);
void clock_format_iso(int64_t us, char out[CLOCK_BUF]);
void clock_format_rfc3339(int64_t us, int trim, char out[CLOCK_BUF]);
/* "2024-01-01T00:00:00+00:00", the v1 `created` format (seconds precision). */
void clock_format_v1(int64_t us, char out[CLOCK_BUF]);
/* Parses an RFC 3339 date-time (`T` or space separator, fraction up to 9
 * digits, `Z` or +hh:mm offset) or a plain date "YYYY-MM-DD" (midnight UTC).
 * Returns 0 and sets *us, or KH_EINVAL. */
int clock_parse(const char *s, int64_t *us);

#endif
