/* log.h - the one logging module (STYLE.md habit 6).
 *
 * Lines go to stderr with a UTC timestamp and level. The level is checked
 * before formatting. Never pass a secret or a hash to these functions: log a
 * credential's id and last four characters instead. */
#ifndef KH_LOG_H
#define KH_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
int log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                                                 \
    do {                                                                                                               \
        if (log_enabled(LOG_DEBUG))                                                                                    \
            log_msg(LOG_DEBUG, __VA_ARGS__);                                                                           \
    } while (0)

#endif
