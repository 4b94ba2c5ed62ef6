/* webhooks.c - /api/v2/keyhold/webhooks, a keyhold extension
 * (docs/api/keyhold-extensions.yaml, docs/api/webhooks.md): an org's
 * webhooks (create, list, get, update, delete) and each one's delivery log.
 * The events themselves are made by auth/events.c, in the transaction of
 * the change that causes them, and sent by the delivery thread
 * (http/deliver.c).
 *
 * Who may: org_management (Datadog's "Org Management": an org-wide setting
 * that sends data out of keyhold) for every route. Creating or changing a
 * webhook also needs api_keys_read and org_app_keys_read, since a webhook
 * receives the names and owners of every credential of the org: nobody
 * routes to a URL of their choosing what they could not read themselves.
 *
 * The signing secret ("whsec_..." from the CSPRNG) is shown once, in the
 * 201 of the creation, and kept sealed under the server secret as API keys
 * are. URLs are http or https; hosts that are IP addresses in private,
 * loopback or link-local ranges (and "localhost") are refused unless the
 * server runs with --webhook-allow-private, and the delivery thread checks
 * the address a name resolves to in the same way, when it connects. */
#include "api/internal.h"
#include "auth/credentials.h"
#include "auth/events.h"
#include "util/secret.h"
#include "util/uuid.h"
#include "util/text.h"
#include "util/webhook.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEBHOOK_MAX_URL 2048
#define WEBHOOK_MAX_PER_ORG 25

/* ---- rendering ---- */

static json_t *events_array(int64_t mask)
{
    json_t *a = json_array();
    for (int i = 0; i < EVENT_TYPE_COUNT; i++)
        if (mask & EVENT_MASK(i))
            json_array_append_new(a, json_string(event_type_name(i)));
    return a;
}

/* {"id","type":"webhooks","attributes":{...}}, with the secret when given
 * (the creation's answer only). */
static json_t *render_webhook(const struct store_webhook *w, const char *secret)
{
    json_t *attrs = json_pack("{s:s,s:s,s:o,s:b,s:o,s:o,s:o}", "name", w->name, "url", w->url, "events",
                              events_array(w->events), "enabled", w->enabled, "created_at",
                              render_rfc3339(w->created_at, 0), "modified_at", render_rfc3339(w->modified_at, 0),
                              "created_by", w->created_by[0] ? json_string(w->created_by) : json_null());
    if (secret)
        json_object_set_new(attrs, "secret", json_string(secret));
    return json_pack("{s:s,s:s,s:o}", "id", w->id, "type", "webhooks", "attributes", attrs);
}

/* ---- reading a request ---- */

/* Non-zero when host[0..len) is "localhost" or a name under it. */
static int localhost_name(const char *host, size_t len)
{
    static const char lh[] = "localhost";
    size_t n = sizeof lh - 1;
    if (len && host[len - 1] == '.')
        len--;
    return len >= n && strncasecmp(host + len - n, lh, n) == 0 && (len == n || host[len - n - 1] == '.');
}

/* A numeric IPv4 host in any form the resolver takes (2130706433,
 * 0x7f000001, 127.1, 0177.0.0.1, a trailing dot): -1 when it is not the
 * plain dotted quad (refused: each form must not slip past the check), else
 * whether it is private (1) or not (0); 0 as well for a name. */
static int numeric_host(const char *addr)
{
    char plain[64], canonical[INET_ADDRSTRLEN];
    struct in_addr in;
    size_t n = strlen(addr);
    if (n >= sizeof plain)
        return 0;
    memcpy(plain, addr, n + 1);
    if (n && plain[n - 1] == '.')
        plain[--n] = '\0';
    if (!inet_aton(plain, &in))
        return 0;
    inet_ntop(AF_INET, &in, canonical, sizeof canonical);
    if (strcmp(canonical, plain) != 0)
        return -1;
    return webhook_addr_private_bin(AF_INET, &in) == 1;
}

/* Checks url; on failure fills why (for a 400). */
static int url_valid(const struct api_call *call, const char *url, char *why, size_t why_len)
{
    const char *rest;
    if (strncmp(url, "https://", 8) == 0)
        rest = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        rest = url + 7;
    else
        return snprintf(why, why_len, "an http:// or https:// URL is expected"), -1;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
            return snprintf(why, why_len, "printable ASCII without spaces or a fragment is expected"), -1;
    size_t alen = strcspn(rest, "/?");
    if (memchr(rest, '@', alen))
        return snprintf(why, why_len, "credentials in the URL are not accepted"), -1;
    const char *host = rest, *port = NULL;
    size_t hlen;
    char addr[64];
    if (*host == '[') {
        const char *close = memchr(host, ']', alen);
        if (!close)
            return snprintf(why, why_len, "an IPv6 address is written [ADDRESS]"), -1;
        hlen = (size_t)(close - host - 1);
        if (hlen == 0 || hlen >= sizeof addr)
            return snprintf(why, why_len, "the host is not a valid IPv6 address"), -1;
        memcpy(addr, host + 1, hlen);
        addr[hlen] = '\0';
        if (close + 1 < rest + alen) {
            if (close[1] != ':')
                return snprintf(why, why_len, "the host is not a valid IPv6 address"), -1;
            port = close + 2;
        }
        if (webhook_addr_private(addr) < 0)
            return snprintf(why, why_len, "the host is not a valid IPv6 address"), -1;
    } else {
        const char *colon = memchr(host, ':', alen);
        hlen = colon ? (size_t)(colon - host) : alen;
        if (colon)
            port = colon + 1;
        if (hlen == 0 || hlen > 253)
            return snprintf(why, why_len, "a host name is expected"), -1;
        for (size_t i = 0; i < hlen; i++)
            if (!isalnum((unsigned char)host[i]) && host[i] != '-' && host[i] != '.')
                return snprintf(why, why_len, "the host name has a character other than letters, digits, '-', '.'"),
                       -1;
        size_t n = hlen < sizeof addr ? hlen : sizeof addr - 1;
        memcpy(addr, host, n);
        addr[n] = '\0';
        if (numeric_host(addr) < 0)
            return snprintf(why, why_len, "a numeric host is written as four decimal numbers (a.b.c.d)"), -1;
    }
    if (port) {
        long v = 0;
        const char *end = rest + alen;
        if (port == end)
            return snprintf(why, why_len, "the port is empty"), -1;
        for (const char *p = port; p < end; p++) {
            if (!isdigit((unsigned char)*p) || (v = v * 10 + (*p - '0')) > 65535)
                return snprintf(why, why_len, "the port is not 1..65535"), -1;
        }
        if (v == 0)
            return snprintf(why, why_len, "the port is not 1..65535"), -1;
    }
    int private = webhook_addr_private(addr) == 1 || numeric_host(addr) == 1 || localhost_name(host, hlen);
    if (private && !call->env->cfg->webhook_allow_private)
        return snprintf(why, why_len,
                        "the host is a loopback, private or link-local address, which this server does not send to "
                        "(--webhook-allow-private)"),
               -1;
    return 0;
}

/* data.attributes.events: names of event types, at least one. */
static int64_t events_of(struct jx *jx, json_t *attrs)
{
    json_t *a = jx_arr(jx, attrs, "data.attributes", "events", 0);
    int64_t mask = 0;
    if (!a || jx->failed)
        return jx->failed ? 0 : EVENT_MASK_ALL;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        int t = json_is_string(v) ? event_type_parse(json_string_value(v)) : -1;
        if (t < 0) {
            jx_fail(jx, "Field 'data.attributes.events' has an unknown event type at index %zu; known: "
                        "credential.created, credential.rotated, credential.revoked, credential.leaked, "
                        "credential.expiring_in_7_days, credential.expiring_in_1_day, credential.expired",
                    i);
            return 0;
        }
        mask |= EVENT_MASK(t);
    }
    if (!mask)
        jx_fail(jx, "Field 'data.attributes.events' must name at least one event type");
    return mask;
}

/* Reads a create (creating) or update body into *w (name and url copied).
 * Answers and returns -1 on a bad body. */
static int webhook_body_or_reply(struct api_call *call, int creating, struct store_webhook *w)
{
    static const char *const data_keys[] = {"type", "id", "attributes", NULL};
    static const char *const attr_keys[] = {"name", "url", "events", "enabled", NULL};
    struct jx jx = {0};
    json_t *root = NULL;
    json_t *data = data_or_reply(call, &jx, &root, "webhooks", creating ? NULL : call->params[0], creating ? 0 : 400,
                                 "Field 'data.id' must be the id in the path");
    if (!data) {
        json_decref(root); /* data_or_reply may answer after parsing (a wrong type or id) */
        return -1;
    }
    jx_only(&jx, data, data_keys);
    json_t *attrs = jx_obj(&jx, data, "data", "attributes", creating);
    if (!jx.failed && !attrs && json_object_get(data, "attributes"))
        jx_fail(&jx, "Field 'data.attributes' must be an object");
    /* null is not "leave as is" nor "the default": a body that nulls a
     * field is refused, so that a PATCH never widens a subscription by it */
    for (size_t i = 0; attrs && !jx.failed && attr_keys[i]; i++)
        if (json_is_null(json_object_get(attrs, attr_keys[i])))
            jx_fail(&jx, "Field 'data.attributes.%s' must not be null", attr_keys[i]);
    if (attrs && !jx.failed) {
        jx_only(&jx, attrs, attr_keys);
        const char *name = jx_str(&jx, attrs, "data.attributes", "name", creating, 1, KH_MAX_NAME_LEN);
        for (const char *c = name; !jx.failed && c && *c; c++)
            if (text_control_at(c))
                jx_fail(&jx, "Field 'data.attributes.name' must not hold control characters");
        const char *url = jx_str(&jx, attrs, "data.attributes", "url", creating, 1, WEBHOOK_MAX_URL);
        char why[160];
        if (!jx.failed && url && url_valid(call, url, why, sizeof why))
            jx_fail(&jx, "Field 'data.attributes.url' is not accepted: %s", why);
        if (!jx.failed && (creating || json_object_get(attrs, "events")))
            w->events = events_of(&jx, attrs);
        if (!jx.failed && (creating || json_object_get(attrs, "enabled")))
            w->enabled = jx_bool(&jx, attrs, "data.attributes", "enabled", 1);
        if (!jx.failed && name) {
            free(w->name);
            w->name = xstrdup(name);
        }
        if (!jx.failed && url) {
            free(w->url);
            w->url = xstrdup(url);
        }
    }
    json_decref(root);
    if (jx.failed) {
        reply_jx(call, &jx);
        return -1;
    }
    return 0;
}

/* The permissions a creation or change needs (see the file's comment). */
/* A webhook receives the name and owner of every credential of the org,
 * and its delivery log shows them: who sets one up or reads that log must
 * be able to read every kind (service accounts' tokens need
 * service_account_write). */
static int may_configure_or_reply(struct api_call *call)
{
    if (require_perm_or_reply(call, PERM_ORG_MANAGEMENT))
        return -1;
    if (!api_has_perm(call, PERM_API_KEYS_READ) || !api_has_perm(call, PERM_ORG_APP_KEYS_READ) ||
        !api_has_perm(call, PERM_SERVICE_ACCOUNT_WRITE)) {
        reply_error(call, 403, "Forbidden: a webhook receives the names and owners of every credential of the org; "
                               "setting one up or reading its deliveries needs api_keys_read, org_app_keys_read and "
                               "service_account_write too");
        return -1;
    }
    return 0;
}

/* The webhook of the path in the caller's org, or a 404. */
static int webhook_or_reply(struct api_call *call, struct store_webhook *w)
{
    const char *id = call->params[0];
    int rc = uuid_valid(id, strlen(id)) ? store_webhook_get(call->env->store, call->who.org_id, id, w) : KH_ENOTFOUND;
    if (rc == KH_ENOTFOUND)
        reply_error(call, 404, "Webhook not found");
    else if (rc)
        reply_store_error(call, rc);
    return rc;
}

/* ---- the routes ---- */

void keyhold_webhooks_create(struct api_call *call)
{
    struct store_webhook w;
    struct store_webhook_list existing;
    char secret[WEBHOOK_SECRET_LEN + 1];
    memset(&w, 0, sizeof w);
    if (may_configure_or_reply(call) || webhook_body_or_reply(call, 1, &w)) {
        store_webhook_clear(&w);
        return;
    }
    struct store_page one = {.limit = 1, .offset = 0};
    int rc = store_webhook_list(call->env->store, call->who.org_id, &one, &existing);
    if (!rc && existing.total >= WEBHOOK_MAX_PER_ORG) {
        reply_error(call, 400, "An org has at most %d webhooks", WEBHOOK_MAX_PER_ORG);
        rc = KH_EINVAL;
    } else if (rc) {
        reply_store_error(call, rc);
    }
    store_webhook_list_free(&existing);
    if (rc) {
        store_webhook_clear(&w);
        return;
    }
    uuid_generate(w.id);
    snprintf(w.org_id, sizeof w.org_id, "%s", call->who.org_id);
    snprintf(w.created_by, sizeof w.created_by, "%s", call->who.user_id);
    w.created_at = w.modified_at = call->now;
    webhook_secret_new(secret);
    const struct secret_key *k = secret_current(call->env->secret);
    w.secret.secret_version = k->version;
    w.secret.sealed_len = WEBHOOK_SECRET_LEN + SECRET_SEAL_OVERHEAD;
    w.secret.sealed = xmalloc(w.secret.sealed_len);
    secret_seal(k, secret, WEBHOOK_SECRET_LEN, w.secret.sealed);
    rc = store_webhook_insert(call->env->store, &w);
    if (rc) {
        reply_store_error(call, rc);
    } else {
        api_audit(call, "created", "webhook", w.id);
        reply_json(call, 201, json_pack("{s:o}", "data", render_webhook(&w, secret)));
    }
    secret_wipe(secret, sizeof secret);
    store_webhook_clear(&w);
}

void keyhold_webhooks_list(struct api_call *call)
{
    struct store_page page;
    struct store_webhook_list l;
    if (require_perm_or_reply(call, PERM_ORG_MANAGEMENT) || page_or_reply(call, &page.limit, &page.offset))
        return;
    int rc = store_webhook_list(call->env->store, call->who.org_id, &page, &l);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(data, render_webhook(&l.items[i], NULL));
    reply_json(call, 200, json_pack("{s:o,s:{s:{s:I}}}", "data", data, "meta", "page", "total_count",
                                    (json_int_t)l.total));
    store_webhook_list_free(&l);
}

void keyhold_webhooks_get(struct api_call *call)
{
    struct store_webhook w;
    if (require_perm_or_reply(call, PERM_ORG_MANAGEMENT) || webhook_or_reply(call, &w))
        return;
    reply_json(call, 200, json_pack("{s:o}", "data", render_webhook(&w, NULL)));
    store_webhook_clear(&w);
}

void keyhold_webhooks_update(struct api_call *call)
{
    struct store_webhook w;
    if (may_configure_or_reply(call) || webhook_or_reply(call, &w))
        return;
    if (webhook_body_or_reply(call, 0, &w) == 0) {
        w.modified_at = call->now;
        int rc = store_webhook_update(call->env->store, &w);
        if (rc == KH_ENOTFOUND) {
            reply_error(call, 404, "Webhook not found");
        } else if (rc) {
            reply_store_error(call, rc);
        } else {
            api_audit(call, "updated", "webhook", w.id);
            reply_json(call, 200, json_pack("{s:o}", "data", render_webhook(&w, NULL)));
        }
    }
    store_webhook_clear(&w);
}

void keyhold_webhooks_delete(struct api_call *call)
{
    if (require_perm_or_reply(call, PERM_ORG_MANAGEMENT))
        return;
    const char *id = call->params[0];
    int rc = uuid_valid(id, strlen(id)) ? store_webhook_delete(call->env->store, call->who.org_id, id) : KH_ENOTFOUND;
    if (rc == KH_ENOTFOUND) {
        reply_error(call, 404, "Webhook not found");
    } else if (rc) {
        reply_store_error(call, rc);
    } else {
        api_audit(call, "deleted", "webhook", id);
        reply_empty(call, 204);
    }
}

/* ---- the delivery log ---- */

static const char *state_name(int state)
{
    return state == STORE_DELIVERY_DELIVERED ? "delivered" : state == STORE_DELIVERY_FAILED ? "failed" : "pending";
}

static json_t *render_attempt(const struct store_attempt *a)
{
    return json_pack("{s:i,s:o,s:o,s:o,s:I}", "attempt", a->attempt, "at", render_rfc3339(a->at, 0), "status_code",
                     a->status_code ? json_integer(a->status_code) : json_null(), "error",
                     a->error ? json_string(a->error) : json_null(), "duration_ms", (json_int_t)a->duration_ms);
}

static json_t *render_delivery(const struct store_delivery *d, const struct store_attempt_list *attempts)
{
    json_t *log = json_array();
    for (size_t i = 0; i < attempts->n; i++)
        if (strcmp(attempts->items[i].event_id, d->event_id) == 0)
            json_array_append_new(log, render_attempt(&attempts->items[i]));
    json_t *payload = d->body ? json_loads(d->body, 0, NULL) : NULL;
    json_t *attrs = json_pack(
        "{s:s,s:s,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "event_type", d->event_type, "state", state_name(d->state),
        "attempts", d->attempts, "created_at", render_rfc3339(d->created_at, 0), "next_attempt_at",
        d->state == STORE_DELIVERY_PENDING ? render_rfc3339(d->next_attempt_at, 0) : json_null(), "last_attempt_at",
        render_rfc3339(d->last_attempt_at, 0), "last_status_code",
        d->last_status ? json_integer(d->last_status) : json_null(), "last_error",
        d->last_error ? json_string(d->last_error) : json_null(), "delivered_at", render_rfc3339(d->delivered_at, 0),
        "payload", payload ? payload : json_null(), "attempt_log", log);
    return json_pack("{s:s,s:s,s:o}", "id", d->event_id, "type", "webhook_deliveries", "attributes", attrs);
}

void keyhold_webhook_deliveries_list(struct api_call *call)
{
    struct store_webhook w;
    struct store_page page;
    struct store_delivery_list l;
    struct store_attempt_list a;
    if (may_configure_or_reply(call) || page_or_reply(call, &page.limit, &page.offset) ||
        webhook_or_reply(call, &w))
        return;
    int rc = store_delivery_list(call->env->store, w.id, &page, &l);
    if (!rc && (rc = store_attempt_list(call->env->store, w.id, &page, &a)) != KH_OK)
        store_delivery_list_free(&l);
    if (rc) {
        reply_store_error(call, rc);
        store_webhook_clear(&w);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(data, render_delivery(&l.items[i], &a));
    reply_json(call, 200, json_pack("{s:o,s:{s:{s:I}}}", "data", data, "meta", "page", "total_count",
                                    (json_int_t)l.total));
    store_attempt_list_free(&a);
    store_delivery_list_free(&l);
    store_webhook_clear(&w);
}
