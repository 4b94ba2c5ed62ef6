/* log.c - leveled logging to stderr, one write(2) per line so lines from
 * several event-loop threads never interleave; text or JSON lines (jansson
 * does the escaping, so a client-chosen value cannot break a line). */
#define _POSIX_C_SOURCE 200809L
#include "util/log.h"

#include "util/clock.h"
#include "util/errors.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static atomic_int current_level = LOG_INFO;
static atomic_int current_format = LOG_FORMAT_TEXT;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *name, enum log_level *out)
{
    for (int i = 0; i <= LOG_DEBUG; i++)
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return KH_OK;
        }
    return KH_EINVAL;
}

void log_set_format(enum log_format format)
{
    atomic_store(&current_format, (int)format);
}

int log_format_parse(const char *name, enum log_format *out)
{
    if (strcmp(name, "text") == 0 || strcmp(name, "json") == 0) {
        *out = name[0] == 't' ? LOG_FORMAT_TEXT : LOG_FORMAT_JSON;
        return KH_OK;
    }
    return KH_EINVAL;
}

static void write_line(char *line, size_t len)
{
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

/* Writes obj as one line (and takes it). An object too long for a line loses
 * its message text rather than its closing brace: lines stay parseable. */
static void write_json(json_t *obj)
{
    char line[LOG_LINE_MAX];
    size_t n = json_dumpb(obj, line, sizeof line - 1, JSON_COMPACT);
    if (n > sizeof line - 1) {
        json_object_set_new(obj, "msg", json_string("(line too long, truncated)"));
        n = json_dumpb(obj, line, sizeof line - 1, JSON_COMPACT);
    }
    json_decref(obj);
    if (n <= sizeof line - 1)
        write_line(line, n);
}

static json_t *json_head(enum log_level level)
{
    char ts[CLOCK_BUF];
    clock_format_rfc3339(clock_now_us(), 0, ts);
    return json_pack("{s:s, s:s}", "time", ts, "level", level_names[level]);
}

void log_set_level(enum log_level level)
{
    atomic_store(&current_level, (int)level);
}

int log_enabled(enum log_level level)
{
    return (int)level <= atomic_load(&current_level);
}

static void log_text(enum log_level level, const char *msg)
{
    char line[LOG_LINE_MAX], ts[CLOCK_BUF];
    clock_format_rfc3339(clock_now_us(), 0, ts);
    int n = snprintf(line, sizeof line - 1, "%s %s %s", ts, level_names[level], msg);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    write_line(line, len);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m < 0)
        msg[0] = 0;
    if (atomic_load(&current_format) == LOG_FORMAT_TEXT) {
        log_text(level, msg);
        return;
    }
    json_t *obj = json_head(level);
    json_object_set_new(obj, "msg", json_string(msg));
    write_json(obj);
}

static void set_if(json_t *obj, const char *key, const char *value)
{
    if (value && value[0])
        json_object_set_new(obj, key, json_string(value));
}

static void request_json(const struct log_request *r)
{
    json_t *obj = json_head(LOG_INFO);
    json_object_set_new(obj, "msg", json_string("request"));
    set_if(obj, "request_id", r->request_id);
    set_if(obj, "method", r->method);
    set_if(obj, "route", r->route);
    json_object_set_new(obj, "status", json_integer(r->status));
    json_object_set_new(obj, "duration_ms", json_real(r->duration_ms));
    set_if(obj, "client", r->client);
    set_if(obj, "org_id", r->org_id);
    set_if(obj, "credential_kind", r->credential_kind);
    set_if(obj, "credential_id", r->credential_id);
    set_if(obj, "reason", r->reason);
    write_json(obj);
}

#define OR_DASH(s) ((s) && (s)[0] ? (s) : "-")

void log_request(const struct log_request *r)
{
    if (!log_enabled(LOG_INFO))
        return;
    if (atomic_load(&current_format) == LOG_FORMAT_JSON) {
        request_json(r);
        return;
    }
    char msg[LOG_LINE_MAX];
    snprintf(msg, sizeof msg, "access %s %s %d %.3fms id=%s client=%s org=%s cred=%s:%s%s%s", OR_DASH(r->method),
             OR_DASH(r->route), r->status, r->duration_ms, OR_DASH(r->request_id), OR_DASH(r->client),
             OR_DASH(r->org_id), OR_DASH(r->credential_kind), OR_DASH(r->credential_id),
             r->reason && r->reason[0] ? " reason=" : "", r->reason && r->reason[0] ? r->reason : "");
    log_text(LOG_INFO, msg);
}
