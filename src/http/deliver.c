/* deliver.c - the webhook delivery thread (deliver.h).
 *
 * Loop: claim up to DELIVER_BATCH due deliveries under a lease (a random
 * token; store_delivery_claim makes sure no other thread or keyhold node
 * holds them until the lease ends), POST each, record the attempt and the
 * delivery's next state, and wait DELIVER_POLL_MS when nothing was due.
 * Because the outbox is in the store, a restart (or another node, once the
 * lease of a crashed one runs out) picks up where this one stopped: at
 * least once, never lost; receivers de-duplicate by Keyhold-Event-Id.
 *
 * Each POST: Content-Type: application/json, the event's JSON as body,
 * Keyhold-Event-Id, Keyhold-Event-Type, Keyhold-Delivery-Attempt and
 * Keyhold-Signature (util/webhook.h). A 2xx answer is a delivery; anything
 * else (another status, a refused connection, a timeout) is retried after
 * webhook_backoff_ms(), and given up after WEBHOOK_MAX_ATTEMPTS. Redirects
 * are not followed, proxies from the environment are not used, and unless
 * --webhook-allow-private the address a host name resolves to is checked
 * when connecting: loopback, private and link-local addresses are refused
 * (a name that resolves to one, or rebinds to one, cannot reach inside). */
#include "http/deliver.h"

#include "auth/credentials.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/webhook.h"
#include "util/xmalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define DELIVER_BATCH 8
#define DELIVER_POLL_MS 500
#define DELIVER_CONNECT_TIMEOUT_MS 5000
#define DELIVER_TIMEOUT_MS 10000
/* Longer than a batch can take (DELIVER_BATCH x DELIVER_TIMEOUT_MS), so a
 * lease never runs out while its claimer still works on it. */
#define DELIVER_LEASE_US (5 * 60 * 1000000LL)
#define DELIVER_MAX_ERROR 200

#ifndef KEYHOLD_VERSION
#define KEYHOLD_VERSION "unknown"
#endif

struct deliverer {
    const struct config *cfg;
    struct store *st;
    deliver_secret_fn secret;
    void *secret_arg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int stopping;
    CURL *curl; /* kept between requests: connections to a receiver are reused */
};

/* ---- one request ---- */

struct attempt_ctx {
    struct deliverer *d;
    int refused_private; /* the open-socket hook refused the address */
};

static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * nmemb; /* the receiver's answer body is not kept */
}

static int progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    struct attempt_ctx *c = arg;
    return atomic_load(&c->d->stopping) ? 1 : 0; /* non-zero aborts the transfer */
}

/* Refuses non-public addresses at connect time, after name resolution. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct attempt_ctx *c = arg;
    (void)purpose;
    if (!c->d->cfg->webhook_allow_private) {
        int private = 1;
        if (a->family == AF_INET)
            private = webhook_addr_private_bin(AF_INET, &((struct sockaddr_in *)(void *)&a->addr)->sin_addr);
        else if (a->family == AF_INET6)
            private = webhook_addr_private_bin(AF_INET6, &((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr);
        if (private) {
            c->refused_private = 1;
            return CURL_SOCKET_BAD;
        }
    }
    return socket(a->family, a->socktype, a->protocol);
}

/* POSTs d's event to its webhook: the answer's status (0 for none) and an
 * error text (NULL for a 2xx) into *a. */
static void post(struct deliverer *dl, const struct store_delivery *d, const char *secret, struct store_attempt *a)
{
    struct attempt_ctx ctx = {.d = dl};
    char sig[WEBHOOK_SIG_HEADER_LEN], h[WEBHOOK_SIG_HEADER_LEN + 64];
    struct curl_slist *headers = NULL;
    int64_t started = clock_mono_us();
    size_t body_len = strlen(d->body);

    webhook_signature_header(secret, strlen(secret), clock_now_us() / 1000000, d->body, body_len, sig);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    snprintf(h, sizeof h, "Keyhold-Event-Id: %s", d->event_id);
    headers = curl_slist_append(headers, h);
    snprintf(h, sizeof h, "Keyhold-Event-Type: %s", d->event_type);
    headers = curl_slist_append(headers, h);
    snprintf(h, sizeof h, "Keyhold-Delivery-Attempt: %d", d->attempts + 1);
    headers = curl_slist_append(headers, h);
    snprintf(h, sizeof h, "Keyhold-Signature: %s", sig);
    headers = curl_slist_append(headers, h);
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */

    CURL *c = dl->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, d->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never the environment's proxy */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)DELIVER_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)DELIVER_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "keyhold-webhooks/" KEYHOLD_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &ctx);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &ctx);

    CURLcode res = curl_easy_perform(c);
    long status = 0;
    if (res == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    a->status_code = (int)status;
    a->duration_ms = (clock_mono_us() - started) / 1000;
    if (res == CURLE_OK && status >= 200 && status < 300)
        a->error = NULL;
    else if (res == CURLE_OK)
        a->error = xasprintf("the receiver answered %ld", status);
    else if (ctx.refused_private)
        a->error = xstrdup("the host resolves to a loopback, private or link-local address "
                           "(--webhook-allow-private)");
    else if (res == CURLE_ABORTED_BY_CALLBACK)
        a->error = xstrdup("keyhold was stopping; tried again at its next start");
    else
        a->error = xasprintf("%.*s", DELIVER_MAX_ERROR, curl_easy_strerror(res));
    curl_slist_free_all(headers);
    secret_wipe(sig, sizeof sig);
}

/* ---- one delivery ---- */

static uint32_t random32(void)
{
    uint32_t r;
    secret_random(&r, sizeof r);
    return r;
}

/* Attempts d and records what came of it: non-zero when it failed. */
static int attempt(struct deliverer *dl, const char *lease, const struct store_delivery *d)
{
    struct store_delivery_outcome o;
    char secret[WEBHOOK_SECRET_LEN + 1];
    memset(&o, 0, sizeof o);
    snprintf(o.attempt.webhook_id, sizeof o.attempt.webhook_id, "%s", d->webhook_id);
    snprintf(o.attempt.event_id, sizeof o.attempt.event_id, "%s", d->event_id);
    o.attempt.attempt = d->attempts + 1;
    o.attempt.at = clock_now_us();
    const struct server_secret *s = dl->secret(dl->secret_arg);
    if (!s || cred_unseal(s, &d->secret, secret, WEBHOOK_SECRET_LEN) != KH_OK) {
        o.attempt.error = xstrdup("the webhook's secret cannot be opened with this server's secret");
        secret[0] = '\0';
    } else {
        post(dl, d, secret, &o.attempt);
    }
    secret_wipe(secret, sizeof secret);
    int stopped = atomic_load(&dl->stopping) && o.attempt.error;
    if (!o.attempt.error) {
        o.state = STORE_DELIVERY_DELIVERED;
    } else if (stopped) {
        o.state = STORE_DELIVERY_PENDING; /* cut short by the stop: due again at once */
        o.next_attempt_at = o.attempt.at;
    } else if (o.attempt.attempt >= WEBHOOK_MAX_ATTEMPTS) {
        o.state = STORE_DELIVERY_FAILED;
        log_warn("webhooks: %s %s to webhook %s given up after %d attempts: %s", d->event_type, d->event_id,
                 d->webhook_id, o.attempt.attempt, o.attempt.error);
    } else {
        o.state = STORE_DELIVERY_PENDING;
        o.next_attempt_at = o.attempt.at + 1000 * webhook_backoff_ms(o.attempt.attempt, dl->cfg->webhook_retry_base_ms,
                                                                     WEBHOOK_BACKOFF_CAP_MS, random32());
    }
    int failed = o.attempt.error != NULL;
    int rc = store_delivery_record(dl->st, lease, &o);
    if (rc == KH_ENOTFOUND)
        log_warn("webhooks: the lease of event %s for webhook %s was lost; another claimer sends it", d->event_id,
                 d->webhook_id);
    else if (rc)
        log_error("webhooks: could not record an attempt of event %s for webhook %s (%d); it will be sent again",
                  d->event_id, d->webhook_id, rc);
    else if (o.attempt.error)
        log_info("webhooks: %s %s to webhook %s, attempt %d: %s", d->event_type, d->event_id, d->webhook_id,
                 o.attempt.attempt, o.attempt.error);
    else
        log_debug("webhooks: %s %s delivered to webhook %s (attempt %d, %d)", d->event_type, d->event_id,
                  d->webhook_id, o.attempt.attempt, o.attempt.status_code);
    free(o.attempt.error);
    return failed;
}

/* ---- the thread ---- */

/* Whether an earlier delivery of this batch to the same webhook failed. */
static int failed_before(const struct store_delivery_list *l, const unsigned char *failed, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (failed[j] && strcmp(l->items[j].webhook_id, l->items[i].webhook_id) == 0)
            return 1;
    return 0;
}

/* Claims and sends one batch: how many were due. */
static size_t run_batch(struct deliverer *dl)
{
    char lease[33];
    struct store_delivery_list l;
    secret_random_hex(lease, 32);
    lease[32] = '\0';
    int64_t now = clock_now_us();
    int rc = store_delivery_claim(dl->st, now, now + DELIVER_LEASE_US, lease, DELIVER_BATCH, &l);
    if (rc) {
        log_error("webhooks: could not claim deliveries (%d); trying again", rc);
        return 0;
    }
    size_t i = 0, held = 0;
    unsigned char *failed = xcalloc(l.n ? l.n : 1, 1);
    for (; i < l.n && !atomic_load(&dl->stopping); i++) {
        /* A webhook that failed in this batch is not tried again in it: its
         * deliveries wait for its next try (the store moved them there). */
        if (failed_before(&l, failed, i))
            held++;
        else
            failed[i] = (unsigned char)attempt(dl, lease, &l.items[i]);
    }
    free(failed);
    if ((i < l.n || held) && store_delivery_release(dl->st, lease) != KH_OK)
        log_error("webhooks: could not give back leased deliveries; they are sent once their lease ends");
    size_t n = l.n;
    store_delivery_list_free(&l);
    return n;
}

static void wait_ms(struct deliverer *dl, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&dl->lock);
    while (!atomic_load(&dl->stopping))
        if (pthread_cond_timedwait(&dl->wake, &dl->lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&dl->lock);
}

static void *deliver_main(void *arg)
{
    struct deliverer *dl = arg;
    while (!atomic_load(&dl->stopping)) {
        if (run_batch(dl) < DELIVER_BATCH)
            wait_ms(dl, DELIVER_POLL_MS);
    }
    return NULL;
}

struct deliverer *deliverer_start(const struct config *cfg, struct store *st, deliver_secret_fn secret, void *arg)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("webhooks: libcurl could not start; no webhook is sent");
        return NULL;
    }
    struct deliverer *dl = xcalloc(1, sizeof *dl);
    dl->cfg = cfg;
    dl->st = st;
    dl->secret = secret;
    dl->secret_arg = arg;
    dl->curl = curl_easy_init();
    if (!dl->curl)
        abort(); /* only on allocation failure */
    pthread_mutex_init(&dl->lock, NULL);
    pthread_cond_init(&dl->wake, NULL);
    pthread_create(&dl->thread, NULL, deliver_main, dl);
    return dl;
}

void deliverer_stop(struct deliverer *dl)
{
    if (!dl)
        return;
    pthread_mutex_lock(&dl->lock);
    atomic_store(&dl->stopping, 1);
    pthread_cond_signal(&dl->wake);
    pthread_mutex_unlock(&dl->lock);
    pthread_join(dl->thread, NULL);
    curl_easy_cleanup(dl->curl);
    pthread_cond_destroy(&dl->wake);
    pthread_mutex_destroy(&dl->lock);
    free(dl);
    curl_global_cleanup();
}
