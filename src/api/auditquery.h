/* auditquery.h - Datadog's Audit Trail search syntax, for the fields keyhold
 * records (docs/api/audit.md), and its time expressions.
 *
 * A query is terms joined by AND (also implied by a space), OR and NOT (or a
 * leading '-'), grouped with parentheses; AND binds tighter than OR. A term
 * is free text (matched, ignoring ASCII case, anywhere in the event's
 * message), "@attribute:value" (one of the attributes below, whole value),
 * or "key:value" for the reserved keys service and source and for tags;
 * values may be double-quoted and may hold '*' wildcards. "*" alone matches
 * every event. Attributes: @action, @asset.type, @asset.id, @usr.id,
 * @network.client.ip, @org.id, @evt.name.
 *
 * Parsing allocates a tree the caller frees; a syntax error is a message
 * for the 400 answer. */
#ifndef KH_AUDITQUERY_H
#define KH_AUDITQUERY_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

struct auditq;

/* Parses text (NULL or empty: every event). Returns 0 and *out, or
 * KH_EINVAL with msg filled. */
int auditq_parse(const char *text, struct auditq **out, char *msg, size_t msglen);
void auditq_free(struct auditq *q);
/* Non-zero when event e matches q. Adds the steps spent comparing to
 * *steps, so that a caller can bound the work of one request. */
int auditq_match(const struct auditq *q, const struct store_audit *e, int64_t *steps);

/* What an event's attributes are called in the answer, and the event's
 * message and evt.name, as the query sees them. */
const char *auditq_evt_name(const struct store_audit *e);
void auditq_message(const struct store_audit *e, char *out, size_t len);
/* The client's address, or "" for what the shell did (source "cli", which
 * the message still says). */
const char *auditq_client_ip(const struct store_audit *e);

/* A time as Datadog's search accepts it: "now", "now-15m" (s, m, h, d, w),
 * an RFC 3339 time, or milliseconds since the epoch. Returns 0 with *us,
 * or KH_EINVAL. */
int auditq_time(const char *text, int64_t now_us, int64_t *us);

#endif
