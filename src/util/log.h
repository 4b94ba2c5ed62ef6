/* log.h - the one logging module (docs/internals/layout.md, "Logging").
 *
 * Lines go to stderr with a UTC timestamp and level. The level is checked
 * before formatting. Never pass a secret or a hash to these functions: log a
 * credential's id and last four characters instead. */
#ifndef KH_LOG_H
#define KH_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
/* text: "TIME LEVEL message"; json: one object per line with "time",
 * "level" and "msg" (and the fields of a request record). */
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 };

void log_set_level(enum log_level level);
int log_enabled(enum log_level level);
/* "error", "warn", "info", "debug": 0, else KH_EINVAL. */
int log_level_parse(const char *name, enum log_level *out);
void log_set_format(enum log_format format);
/* "text" or "json": 0, else KH_EINVAL. */
int log_format_parse(const char *name, enum log_format *out);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One answered request (the access log, at level info). Strings may be NULL
 * (left out). route is the route's template, never the raw path: a v1 key
 * route's path holds the key. Nothing here may be a secret. */
struct log_request {
    const char *request_id;
    const char *method;
    const char *route;
    const char *client; /* address */
    const char *org_id;
    const char *credential_kind; /* api_key, app_key, pat, sat */
    const char *credential_id;
    const char *reason; /* why it was refused, for a 4xx or 5xx */
    int status;
    double duration_ms;
};
void log_request(const struct log_request *r);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                                                 \
    do {                                                                                                               \
        if (log_enabled(LOG_DEBUG))                                                                                    \
            log_msg(LOG_DEBUG, __VA_ARGS__);                                                                           \
    } while (0)

#endif
