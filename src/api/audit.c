/* audit.c - Datadog's Audit Trail API over keyhold's audit trail:
 * GET /api/v2/audit/events and POST /api/v2/audit/events/search
 * (docs/api/audit.md). Each answers the caller's org's events within a time
 * window, filtered by a search query (auditquery.h), oldest or newest first,
 * a page at a time with an opaque cursor. Needs audit_logs_read.
 *
 * The query is evaluated here, on events read from the store in the order
 * asked, so one request reads at most MAX_SCANNED events: when the page is
 * not full by then, it answers what it found with meta.status "timeout"
 * and a cursor that continues where the reading stopped (Datadog's
 * "partial results"). */
#include "api/auditquery.h"
#include "api/internal.h"
#include "util/clock.h"
#include "util/xmalloc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h> /* OPENSSL_hexchar2int */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 10
#define MAX_LIMIT 1000
#define READ_CHUNK 500
#define MAX_SCANNED 20000
/* Comparison steps one request may spend (auditq_match): a query of many
 * wildcard terms costs more per event than a simple one, so the events read
 * alone do not bound the work. About 0.1 s of one core. */
#define MAX_STEPS 50000000
#define DEFAULT_WINDOW_US (15 * 60 * 1000000LL) /* Datadog's default: from now-15m to now */

/* What a request asks, from the query string or the body. */
struct audit_search {
    const char *query; /* borrowed */
    int64_t from, to;
    int desc;
    int64_t limit;
    int has_cursor;
    int64_t cursor_at, cursor_seq;
};

/* ---- the cursor: "<d|a>:<at>:<seq>" in hex, so that it reads as opaque ---- */

static void cursor_encode(int desc, int64_t at, int64_t seq, char *out, size_t len)
{
    char text[64];
    int n = snprintf(text, sizeof text, "%c:%" PRId64 ":%" PRId64, desc ? 'd' : 'a', at, seq);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < len; i++)
        o += (size_t)snprintf(out + o, len - o, "%02x", (unsigned char)text[i]);
}

/* A whole decimal int64 at *p up to stop (or the end); advances *p. */
static int cursor_number(const char **p, char stop, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(*p, &end, 10);
    if (errno || end == *p || *end != stop || (!isdigit((unsigned char)**p) && **p != '-'))
        return -1;
    *out = v;
    *p = *end ? end + 1 : end;
    return 0;
}

static int cursor_decode(const char *hex, int *desc, int64_t *at, int64_t *seq)
{
    char text[64];
    size_t n = strlen(hex);
    if (n == 0 || n % 2 || n / 2 >= sizeof text)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = OPENSSL_hexchar2int((unsigned char)hex[2 * i]), lo = OPENSSL_hexchar2int((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        text[i] = (char)(hi << 4 | lo);
    }
    text[n / 2] = '\0';
    const char *p = text + 2;
    if ((text[0] != 'a' && text[0] != 'd') || text[1] != ':' || cursor_number(&p, ':', at) ||
        cursor_number(&p, '\0', seq))
        return -1;
    *desc = text[0] == 'd';
    return 0;
}

/* ---- reading the request ---- */

static int time_or_reply(struct api_call *call, const char *what, const char *text, int64_t *out)
{
    if (auditq_time(text, call->now, out)) {
        reply_error(call, 400, "Invalid %s: '%.64s' is not a time (RFC 3339, milliseconds, or now-15m)", what, text);
        return -1;
    }
    return 0;
}

static int sort_text_or_reply(struct api_call *call, const char *text, int *desc)
{
    if (strcmp(text, "timestamp") == 0 || strcmp(text, "-timestamp") == 0) {
        *desc = text[0] == '-';
        return 0;
    }
    reply_error(call, 400, "Invalid sort: '%.32s' (timestamp or -timestamp)", text);
    return -1;
}

static int cursor_or_reply(struct api_call *call, const char *text, struct audit_search *s)
{
    int desc = 0;
    if (cursor_decode(text, &desc, &s->cursor_at, &s->cursor_seq)) {
        reply_error(call, 400, "Invalid page cursor");
        return -1;
    }
    if (desc != s->desc) {
        reply_error(call, 400, "Invalid page cursor: it continues a list in the other order");
        return -1;
    }
    s->has_cursor = 1;
    return 0;
}

/* The window's defaults, and its sense. */
static int window_or_reply(struct api_call *call, struct audit_search *s, const char *from, const char *to)
{
    s->to = call->now;
    s->from = call->now - DEFAULT_WINDOW_US;
    if ((to && time_or_reply(call, "to", to, &s->to)) || (from && time_or_reply(call, "from", from, &s->from)))
        return -1;
    if (s->from > s->to) {
        reply_error(call, 400, "Invalid time window: from is after to");
        return -1;
    }
    return 0;
}

static int search_from_query_or_reply(struct api_call *call, struct audit_search *s)
{
    char msg[160];
    const char *sort = query_get(&call->query, "sort"), *cursor = query_get(&call->query, "page[cursor]");
    s->query = query_get(&call->query, "filter[query]");
    s->limit = DEFAULT_LIMIT;
    if (query_int(&call->query, "page[limit]", 1, MAX_LIMIT, &s->limit, msg, sizeof msg)) {
        reply_error(call, 400, "%s", msg);
        return -1;
    }
    if ((sort && sort_text_or_reply(call, sort, &s->desc)) ||
        window_or_reply(call, s, query_get(&call->query, "filter[from]"), query_get(&call->query, "filter[to]")) ||
        (cursor && cursor_or_reply(call, cursor, s)))
        return -1;
    return 0;
}

/* A string member of o, NULL when absent; answers 400 for another type. */
static int body_string_or_reply(struct api_call *call, json_t *o, const char *path, const char *key,
                                const char **out)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        reply_error(call, 400, "Invalid %s.%s: a string is expected", path, key);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int body_object_or_reply(struct api_call *call, json_t *root, const char *key, json_t **out)
{
    json_t *v = json_object_get(root, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        reply_error(call, 400, "Invalid %s: an object is expected", key);
        return -1;
    }
    *out = v;
    return 0;
}

/* The search body (every member optional; an empty body is every event of
 * the last 15 minutes). */
static int search_from_body_or_reply(struct api_call *call, json_t *root, struct audit_search *s)
{
    json_t *filter, *page, *options, *limit;
    const char *from, *to, *sort, *cursor, *zone;
    s->limit = DEFAULT_LIMIT;
    if (body_object_or_reply(call, root, "filter", &filter) || body_object_or_reply(call, root, "page", &page) ||
        body_object_or_reply(call, root, "options", &options) ||
        body_string_or_reply(call, filter, "filter", "query", &s->query) ||
        body_string_or_reply(call, filter, "filter", "from", &from) ||
        body_string_or_reply(call, filter, "filter", "to", &to) ||
        body_string_or_reply(call, page, "page", "cursor", &cursor) ||
        body_string_or_reply(call, options, "options", "timezone", &zone) ||
        body_string_or_reply(call, root, "body", "sort", &sort))
        return -1;
    json_t *offset = options ? json_object_get(options, "time_offset") : NULL;
    if (offset && !json_is_null(offset) && !json_is_integer(offset)) {
        reply_error(call, 400, "Invalid options.time_offset: an integer is expected");
        return -1;
    }
    if (zone && offset && !json_is_null(offset)) {
        reply_error(call, 400, "Invalid options: give a timezone or a time_offset, not both");
        return -1;
    }
    if (zone && strcmp(zone, "UTC") != 0) {
        reply_error(call, 400, "Invalid options.timezone: keyhold records times in UTC only");
        return -1;
    }
    if ((limit = page ? json_object_get(page, "limit") : NULL) && !json_is_null(limit)) {
        if (!json_is_integer(limit) || json_integer_value(limit) < 1 || json_integer_value(limit) > MAX_LIMIT) {
            reply_error(call, 400, "Invalid page.limit: an integer from 1 to %d is expected", MAX_LIMIT);
            return -1;
        }
        s->limit = json_integer_value(limit);
    }
    if ((sort && sort_text_or_reply(call, sort, &s->desc)) || window_or_reply(call, s, from, to) ||
        (cursor && cursor_or_reply(call, cursor, s)))
        return -1;
    return 0;
}

/* ---- answering ---- */

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* An optional string: absent when empty. */
static void set_nonempty(json_t *o, const char *key, const char *v)
{
    if (v && v[0])
        json_object_set_new(o, key, json_string(v));
}

static json_t *render_event(const struct store_audit *e)
{
    char at[CLOCK_BUF], message[256], id[24], h[2 * SECRET_HASH_LEN + 1], ph[2 * SECRET_HASH_LEN + 1];
    clock_format_rfc3339(e->at, 1, at);
    auditq_message(e, message, sizeof message);
    snprintf(id, sizeof id, "%" PRId64, e->seq);
    json_t *asset = json_object(), *usr = json_object(), *attrs = json_object();
    set_nonempty(asset, "type", e->target_kind);
    set_nonempty(asset, "id", e->target_id);
    set_nonempty(usr, "id", e->actor_id);
    json_object_set_new(attrs, "evt", json_pack("{s:s}", "name", auditq_evt_name(e)));
    json_object_set_new(attrs, "action", json_string(e->action));
    json_object_set_new(attrs, "asset", asset);
    json_object_set_new(attrs, "usr", usr);
    if (auditq_client_ip(e)[0])
        json_object_set_new(attrs, "network", json_pack("{s:{s:s}}", "client", "ip", auditq_client_ip(e)));
    json_object_set_new(attrs, "org", json_pack("{s:s}", "id", e->org_id));
    if (e->chained) { /* the hash chain, for anyone checking events they exported */
        hex(e->hash, SECRET_HASH_LEN, h);
        hex(e->prev_hash, SECRET_HASH_LEN, ph);
        json_object_set_new(attrs, "keyhold", json_pack("{s:s,s:s}", "hash", h, "prev_hash", ph));
    }
    char tag_action[48], tag_kind[48];
    snprintf(tag_action, sizeof tag_action, "action:%s", e->action);
    snprintf(tag_kind, sizeof tag_kind, "asset_type:%s", e->target_kind);
    return json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:[s,s,s],s:o}}", "id", id, "type", "audit", "attributes", "timestamp",
                     at, "service", "keyhold", "message", message, "tags", "source:keyhold", tag_action, tag_kind,
                     "attributes", attrs);
}

/* The GET that continues the list (Datadog's links.next), with an absolute
 * window so that every page reads the same one. */
static json_t *next_link(const struct audit_search *s, const char *cursor)
{
    char from[CLOCK_BUF], to[CLOCK_BUF];
    struct buf b;
    clock_format_rfc3339(s->from, 1, from);
    clock_format_rfc3339(s->to, 1, to);
    buf_init(&b, 16384);
    buf_printf(&b, "/api/v2/audit/events?filter%%5Bfrom%%5D=%s&filter%%5Bto%%5D=%s&sort=%s&page%%5Blimit%%5D=%" PRId64
                   "&page%%5Bcursor%%5D=%s",
               from, to, s->desc ? "-timestamp" : "timestamp", s->limit, cursor);
    if (s->query && s->query[0]) {
        buf_adds(&b, "&filter%5Bquery%5D=");
        for (const unsigned char *p = (const unsigned char *)s->query; *p; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr("-_.~", *p))
                buf_add(&b, p, 1);
            else
                buf_printf(&b, "%%%02X", *p);
        }
    }
    json_t *link = json_string(b.p);
    buf_free(&b);
    return link;
}

/* Reads the org's events in order from the cursor, keeping those the
 * query matches, until the page is full, the window ends, or MAX_SCANNED
 * were read. */
static void search_and_reply(struct api_call *call, const struct audit_search *s, const struct auditq *q)
{
    int64_t started = clock_mono_us(), scanned = 0, steps = 0;
    struct store_audit_page page = {.org_id = call->who.org_id, .from = s->from, .to = s->to, .desc = s->desc};
    page.after_at = s->has_cursor ? s->cursor_at : s->desc ? s->to : s->from;
    page.after_seq = s->has_cursor ? s->cursor_seq : s->desc ? INT64_MAX : 0;
    json_t *data = json_array();
    int more = 1, timeout = 0;
    while ((int64_t)json_array_size(data) < s->limit) {
        struct store_audit_list l;
        page.limit = READ_CHUNK;
        int rc = store_audit_page(call->env->store, &page, &l);
        if (rc) {
            json_decref(data);
            reply_store_error(call, rc);
            return;
        }
        size_t i = 0;
        for (; i < l.n && (int64_t)json_array_size(data) < s->limit; i++) {
            page.after_at = l.items[i].at;
            page.after_seq = l.items[i].seq;
            scanned++;
            if (auditq_match(q, &l.items[i], &steps))
                json_array_append_new(data, render_event(&l.items[i]));
            if (steps > MAX_STEPS) {
                i++;
                break;
            }
        }
        /* The window has more if this chunk did not end it, or the page
         * filled before the chunk's end. */
        more = l.n == READ_CHUNK || i < l.n;
        store_audit_list_free(&l);
        if (!more)
            break;
        if ((scanned >= MAX_SCANNED || steps > MAX_STEPS) && (int64_t)json_array_size(data) < s->limit) {
            timeout = 1;
            break;
        }
    }
    json_t *meta = json_pack("{s:I,s:s}", "elapsed", (json_int_t)((clock_mono_us() - started) / 1000), "status",
                             timeout ? "timeout" : "done");
    json_t *body = json_pack("{s:o}", "data", data);
    if (more) {
        char cursor[160];
        cursor_encode(s->desc, page.after_at, page.after_seq, cursor, sizeof cursor);
        json_object_set_new(meta, "page", json_pack("{s:s}", "after", cursor));
        json_object_set_new(body, "links", json_pack("{s:o}", "next", next_link(s, cursor)));
    }
    if (timeout)
        json_object_set_new(meta, "warnings",
                            json_pack("[{s:s,s:s,s:s}]", "code", "partial_results", "title", "Partial results",
                                      "detail", "The search read its limit of events before filling the page; "
                                                "continue with the cursor"));
    json_object_set_new(body, "meta", meta);
    reply_json(call, 200, body);
}

static void run_search(struct api_call *call, const struct audit_search *s)
{
    char msg[160];
    struct auditq *q = NULL;
    if (auditq_parse(s->query, &q, msg, sizeof msg)) {
        reply_error(call, 400, "%s", msg);
        return;
    }
    search_and_reply(call, s, q);
    auditq_free(q);
}

/* GET /api/v2/audit/events */
void audit_events_list(struct api_call *call)
{
    struct audit_search s = {0};
    if (require_perm_or_reply(call, PERM_AUDIT_LOGS_READ) || search_from_query_or_reply(call, &s))
        return;
    run_search(call, &s);
}

/* POST /api/v2/audit/events/search: the same, asked in a body. */
void audit_events_search(struct api_call *call)
{
    struct audit_search s = {0};
    struct jx jx = {0};
    json_t *root = NULL;
    if (require_perm_or_reply(call, PERM_AUDIT_LOGS_READ))
        return;
    if (call->req->body_len) {
        if (!(root = body_or_reply(call, &jx)))
            return;
        if (!json_is_object(root)) {
            reply_error(call, 400, "Invalid body: a JSON object is expected");
            json_decref(root);
            return;
        }
    }
    if (!search_from_body_or_reply(call, root, &s))
        run_search(call, &s);
    json_decref(root);
}
