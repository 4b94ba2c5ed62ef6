/* writer.c - the group-commit writer thread (see writer.h). */
#include "api/writer.h"

#include "auth/auditchain.h"
#include "auth/events.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WRITER_AUTH_CACHE_ENTRIES 4096
#define WRITER_USAGE_SLOTS 4096
/* How often the audit chain's heads are signed while events arrive (and
 * once more when the writer stops): the longest stretch of events that
 * someone with write access to the store but not the secret could rewrite
 * unnoticed (auth/auditchain.h). */
#define AUDIT_CHECKPOINT_EVERY_US (60 * 1000000LL)

struct writer {
    struct api_env env; /* the writer's store, its own last-used buffer */
    pthread_t thread;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;
    struct write_job *head, **tail;
    struct usage_buffer **handed; /* last-used buffers from the loops */
    size_t n_handed, cap_handed;
    int stopping;
    struct writer_stats stats;
    /* The writer thread's own: the server secret (given at start, then that
     * of the latest job: every secret the server loaded lives until it
     * stops), and when it last signed the audit trail. */
    const struct server_secret *secret;
    int64_t last_checkpoint_us;
    int64_t last_expiry_scan_us; /* webhooks' expiry warnings (events_expiry_scan) */
};

/* ---- metrics ---- */

static struct metric_family *batch_sizes, *commit_seconds; /* NULL until registered */

void writer_metrics_register(void)
{
    static const double sizes[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
    static const double seconds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
    if (batch_sizes)
        return; /* once per process */
    batch_sizes = metrics_register("keyhold_writer_batch_size", "Requests committed together by the writer.",
                                   METRIC_HISTOGRAM, "", 1, sizes, sizeof sizes / sizeof sizes[0]);
    commit_seconds = metrics_register("keyhold_writer_commit_seconds",
                                      "Time the writer's COMMIT took (durable: the answers wait for it).",
                                      METRIC_HISTOGRAM, "", 1, seconds, sizeof seconds / sizeof seconds[0]);
}

/* ---- jobs ---- */

struct job_copy {
    struct write_job job;
    struct api_header *headers;
    char *bytes;
};

/* Copies n bytes to *at, NUL-terminated; NULL stays NULL. */
static const char *copy_text(char **at, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *out = *at;
    memcpy(out, s, n);
    out[n] = '\0';
    *at += n + 1;
    return out;
}

struct write_job *write_job_new(const struct api_request *req)
{
    size_t size = req->method_len + req->path_len + req->query_len + req->body_len + 4;
    for (size_t i = 0; i < req->n_headers; i++)
        size += req->headers[i].name_len + req->headers[i].value_len + 2;
    if (req->remote_addr)
        size += strlen(req->remote_addr) + 1;

    struct job_copy *c = xcalloc(1, sizeof *c);
    c->bytes = xmalloc(size);
    c->headers = xcalloc(req->n_headers ? req->n_headers : 1, sizeof *c->headers);
    char *at = c->bytes;
    struct api_request *r = &c->job.req;
    r->method = copy_text(&at, req->method, req->method_len);
    r->method_len = req->method_len;
    r->path = copy_text(&at, req->path, req->path_len);
    r->path_len = req->path_len;
    r->query = copy_text(&at, req->query, req->query_len);
    r->query_len = req->query_len;
    r->body = copy_text(&at, req->body, req->body_len);
    r->body_len = req->body_len;
    for (size_t i = 0; i < req->n_headers; i++) {
        c->headers[i].name = copy_text(&at, req->headers[i].name, req->headers[i].name_len);
        c->headers[i].name_len = req->headers[i].name_len;
        c->headers[i].value = copy_text(&at, req->headers[i].value, req->headers[i].value_len);
        c->headers[i].value_len = req->headers[i].value_len;
    }
    r->headers = c->headers;
    r->n_headers = req->n_headers;
    if (req->remote_addr)
        r->remote_addr = copy_text(&at, req->remote_addr, strlen(req->remote_addr));
    return &c->job;
}

void write_job_free(struct write_job *job)
{
    if (!job)
        return;
    struct job_copy *c = (struct job_copy *)job;
    api_response_free(&job->res);
    free(c->headers);
    free(c->bytes);
    free(c);
}

/* ---- batches ---- */

/* The COMMIT failed: nothing of the batch was applied, so no job may be
 * answered as if it had been. Jobs that had failed already keep their
 * answers (their savepoints were rolled back anyway). */
static void unapply(struct write_job *jobs)
{
    for (struct write_job *j = jobs; j; j = j->next) {
        if (j->res.status < 200 || j->res.status >= 300)
            continue;
        api_response_free(&j->res);
        j->res.status = 503;
        j->res.content_type = "application/json";
        j->res.body = api_error_body("The credential store is unavailable; try again");
        j->res.body_len = strlen(j->res.body);
        j->res.n_headers = 0;
    }
}

static void run_batch(struct writer *wr, struct write_job *jobs, struct usage_buffer **handed, size_t n_handed,
                      int flush_usage)
{
    struct store *st = wr->env.store;
    /* If BEGIN fails (another process holds the write lock past the busy
     * timeout), each job runs in its own transaction, as router.c does
     * without a writer, and answers for itself. */
    int batched = store_begin(st) == KH_OK;
    size_t n = 0;
    for (struct write_job *j = jobs; j; j = j->next, n++) {
        wr->env.secret = j->secret;
        api_handle(&wr->env, &j->req, &j->res);
        wr->secret = j->secret;
    }
    for (size_t i = 0; i < n_handed; i++) {
        usage_merge(wr->env.usage, handed[i]);
        usage_free(handed[i]);
    }
    int64_t commit_start = clock_mono_us();
    int committed = batched ? store_commit(st) : KH_OK;
    if (batched && n) {
        metrics_observe(batch_sizes, 0, (double)n);
        metrics_observe(commit_seconds, 0, (double)(clock_mono_us() - commit_start) / 1e6);
    }
    if (batched && committed != KH_OK) {
        store_rollback(st);
        unapply(jobs);
        log_error("writer: a batch could not be committed; its changes were answered 503");
        pthread_mutex_lock(&wr->lock);
        wr->stats.failed_commits++;
        pthread_mutex_unlock(&wr->lock);
    }
    while (jobs) {
        struct write_job *next = jobs->next;
        jobs->on_done(jobs); /* the job may be freed from here on */
        jobs = next;
    }
    /* Last-used times and the events of reads: their own transaction, after
     * the batch is answered, so a batch that fails to commit takes none of
     * them with it (they stay pending when their own commit fails). */
    if (flush_usage)
        usage_flush(wr->env.usage, st);
}

/* Runs one upkeep step in a transaction of its own; logs a failure. */
static int in_transaction(struct store *st, int (*step)(struct writer *), struct writer *wr, const char *what)
{
    int rc = store_begin(st);
    if (!rc) {
        if ((rc = step(wr)) != KH_OK)
            store_rollback(st);
        else
            rc = store_commit(st);
    }
    if (rc)
        log_error("writer: %s failed (%d); trying again in a minute", what, rc);
    return rc;
}

static int sign_audit(struct writer *wr)
{
    int written = 0;
    return auditchain_checkpoint(wr->env.store, wr->secret, clock_now_us(), &written);
}

/* Answers kept for Idempotency-Keys (api/rotation.c) hold sealed secrets and
 * live ten minutes at most: on this one-minute beat, those older than nine
 * are forgotten. */
static int forget_kept_answers(struct writer *wr)
{
    return store_idem_prune(wr->env.store, clock_now_us() - 9 * 60 * 1000000LL);
}

/* Credentials' usage (auth/usage.h) is kept for STORE_USAGE_DAYS days,
 * today's included: on this beat, older days, and routes and clients not
 * seen since, are forgotten. */
static int forget_old_usage(struct writer *wr)
{
    return store_usage_prune(wr->env.store, clock_now_us() / STORE_DAY_US - (STORE_USAGE_DAYS - 1));
}

/* Ended credentials (revoked and expired tokens, deleted keys' tombstones)
 * are listed for --history-retention (api/history.c), then forgotten on
 * this beat, a bounded number a beat so that a backlog (the first start
 * after an upgrade) never holds the writer long; the rest waits a minute. */
#define HISTORY_PRUNE_PER_BEAT 5000

static int prune_history(struct writer *wr)
{
    int64_t pruned = 0;
    int64_t before = clock_now_us() - wr->env.cfg->history_retention_s * 1000000;
    int rc = store_history_prune(wr->env.store, before, HISTORY_PRUNE_PER_BEAT, &pruned);
    if (!rc) /* the log of leak reports received (api/leaks.c) is kept as long */
        rc = store_leak_reports_prune(wr->env.store, before);
    if (!rc && pruned)
        log_info("writer: %lld ended credentials past the history retention forgotten", (long long)pruned);
    return rc;
}

/* Once a minute (or always with force, at stop): signs the audit trail,
 * forgets old kept answers, old usage and ended credentials past the
 * retention, each in its own transaction; a failure waits for the next
 * beat. */
/* Webhooks (docs/api/webhooks.md): the expiry warnings due now, each
 * enqueued once, in the transaction that records it sent. */
static int warn_expiring(struct writer *wr)
{
    int n = 0;
    int rc = events_expiry_scan(wr->env.store, clock_now_us(), &n);
    if (!rc && n)
        log_info("webhooks: %d expiry warning(s) enqueued", n);
    return rc;
}

/* The outbox keeps finished deliveries (and their log) for 30 days. */
static int forget_old_deliveries(struct writer *wr)
{
    return store_webhook_prune(wr->env.store, clock_now_us() - 30 * 86400 * 1000000LL);
}

/* Once a minute (or always with force, at stop): signs the audit trail and
 * forgets old kept answers and deliveries, each in its own transaction; a
 * failure waits for the next beat. The expiry warnings have their own beat
 * (a minute; a second in test mode). */
static void upkeep(struct writer *wr, int force)
{
    int64_t now = clock_mono_us();
    if (now - wr->last_expiry_scan_us >= (int64_t)wr->env.cfg->expiry_scan_ms * 1000) {
        wr->last_expiry_scan_us = now;
        in_transaction(wr->env.store, warn_expiring, wr, "looking for expiring tokens");
    }
    if (!force && now - wr->last_checkpoint_us < AUDIT_CHECKPOINT_EVERY_US)
        return;
    wr->last_checkpoint_us = now;
    if (wr->secret)
        in_transaction(wr->env.store, sign_audit, wr, "signing the audit trail");
    in_transaction(wr->env.store, forget_kept_answers, wr, "forgetting old idempotent answers");
    in_transaction(wr->env.store, forget_old_usage, wr, "forgetting old usage of credentials");
    in_transaction(wr->env.store, prune_history, wr, "forgetting ended credentials past the history retention");
    in_transaction(wr->env.store, forget_old_deliveries, wr, "forgetting old webhook deliveries");
}

/* Waits until there is work, the writer stops, the audit trail is due to be
 * signed, or (with last-used times pending) the flush interval has passed
 * since the last flush. Called and returns with the lock held. */
static void wait_for_work(struct writer *wr, int64_t last_flush_us)
{
    while (!wr->head && !wr->n_handed && !wr->stopping) {
        int64_t now = clock_mono_us();
        int64_t due_us = wr->last_checkpoint_us + AUDIT_CHECKPOINT_EVERY_US - now;
        int64_t scan_us = wr->last_expiry_scan_us + (int64_t)wr->env.cfg->expiry_scan_ms * 1000 - now;
        if (scan_us < due_us)
            due_us = scan_us;
        if (usage_pending(wr->env.usage) && last_flush_us + (int64_t)wr->env.cfg->usage_flush_ms * 1000 - now < due_us)
            due_us = last_flush_us + (int64_t)wr->env.cfg->usage_flush_ms * 1000 - now;
        if (due_us <= 0)
            return;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += due_us / 1000000;
        until.tv_nsec += (long)(due_us % 1000000) * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&wr->wake, &wr->lock, &until) == ETIMEDOUT)
            return;
    }
}

static void *writer_main(void *arg)
{
    struct writer *wr = arg;
    int64_t last_flush = clock_mono_us();
    pthread_mutex_lock(&wr->lock);
    for (;;) {
        wait_for_work(wr, last_flush);
        int stop = wr->stopping && !wr->head;
        struct write_job *batch = wr->head, **end = &wr->head;
        size_t n = 0;
        while (*end && n < WRITER_MAX_BATCH) {
            end = &(*end)->next;
            n++;
        }
        wr->head = *end;
        *end = NULL;
        if (!wr->head)
            wr->tail = &wr->head;
        struct usage_buffer **handed = wr->handed;
        size_t n_handed = wr->n_handed;
        wr->handed = NULL;
        wr->n_handed = wr->cap_handed = 0;
        wr->stats.jobs += n;
        wr->stats.batches += n > 0;
        pthread_mutex_unlock(&wr->lock);

        int due = stop || clock_mono_us() - last_flush >= (int64_t)wr->env.cfg->usage_flush_ms * 1000;
        if (batch || n_handed || (due && usage_pending(wr->env.usage)))
            run_batch(wr, batch, handed, n_handed, due);
        if (due)
            last_flush = clock_mono_us();
        free(handed);
        upkeep(wr, stop);
        if (stop)
            return NULL;
        pthread_mutex_lock(&wr->lock);
    }
}

/* ---- the interface ---- */

struct writer *writer_start(const struct config *cfg, struct store *st, struct ratelimiter *limiter,
                            const struct server_secret *secret)
{
    struct writer *wr = xcalloc(1, sizeof *wr);
    /* The writer's own authentication cache: within a batch (one open
     * transaction) the callers of many requests are looked up once. It is
     * safe there because the change stamp moves at once when a statement
     * that may take access away runs, before its commit (store.h), and with
     * every commit. Its last-used buffer merges every loop's. */
    api_env_init(&wr->env, cfg, st, limiter, WRITER_USAGE_SLOTS, WRITER_AUTH_CACHE_ENTRIES);
    wr->tail = &wr->head;
    wr->secret = secret;
    /* Events from before the audit chain (an upgraded store) are chained
     * now, so that every event is covered by the next checkpoint. */
    if (secret && store_audit_chain_backlog(st) != KH_OK)
        log_error("writer: the audit events from before the chain could not be chained; trying at next start");
    pthread_mutex_init(&wr->lock, NULL);
    pthread_cond_init(&wr->wake, NULL);
    pthread_create(&wr->thread, NULL, writer_main, wr);
    return wr;
}

void writer_submit(struct writer *wr, struct write_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&wr->lock);
    *wr->tail = job;
    wr->tail = &job->next;
    pthread_cond_signal(&wr->wake);
    pthread_mutex_unlock(&wr->lock);
}

void writer_submit_usage(struct writer *wr, struct usage_buffer *u)
{
    pthread_mutex_lock(&wr->lock);
    if (wr->n_handed == wr->cap_handed) {
        wr->cap_handed = wr->cap_handed ? wr->cap_handed * 2 : 8;
        wr->handed = xrealloc(wr->handed, wr->cap_handed * sizeof *wr->handed);
    }
    wr->handed[wr->n_handed++] = u;
    pthread_cond_signal(&wr->wake);
    pthread_mutex_unlock(&wr->lock);
}

void writer_stop(struct writer *wr)
{
    if (!wr)
        return;
    pthread_mutex_lock(&wr->lock);
    wr->stopping = 1;
    pthread_cond_signal(&wr->wake);
    pthread_mutex_unlock(&wr->lock);
    pthread_join(wr->thread, NULL);
    log_info("writer: %llu changes in %llu batches, %llu failed commits", (unsigned long long)wr->stats.jobs,
             (unsigned long long)wr->stats.batches, (unsigned long long)wr->stats.failed_commits);
    api_env_clear(&wr->env);
    pthread_cond_destroy(&wr->wake);
    pthread_mutex_destroy(&wr->lock);
    free(wr);
}

void writer_get_stats(struct writer *wr, struct writer_stats *out)
{
    pthread_mutex_lock(&wr->lock);
    *out = wr->stats;
    pthread_mutex_unlock(&wr->lock);
}
