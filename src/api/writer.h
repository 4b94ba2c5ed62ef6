/* writer.h - group commit: one thread answers every request that may change
 * state, many of them in one store transaction, so that one fsync makes a
 * whole batch durable.
 *
 * Where it sits: in api/, above the router and beside it. It takes plain
 * struct api_request, answers them with api_handle() and owns a store
 * transaction; it knows nothing of HTTP (no libh2o), so the HTTP layer hands
 * it requests (http/handoff.c) and anything else that answers api requests
 * (a test, another front end) can too. Nothing else in api/ includes it, so
 * the arrows still point one way (docs/internals/layout.md).
 *
 * Why: with synchronous=FULL every commit waits for the disk, and SQLite lets
 * one writer in at a time. Event loops that each commit their own writes wait
 * for one another in SQLite's busy handler (sleeps of up to 100 ms) and stall
 * every connection of the loop while they wait. Instead the loops hand
 * writes to this thread and go on serving reads.
 *
 * A batch is every job queued when the writer turns to it (at most
 * WRITER_MAX_BATCH): BEGIN IMMEDIATE; each job through api_handle() in its own
 * savepoint (router.c opens it; a job that fails rolls back alone); the
 * last-used times handed over by the loops; COMMIT. Only then does any job of
 * the batch get its answer (on_done), so an acknowledged write survives a
 * crash. When the COMMIT fails, every job that had succeeded is answered 503
 * instead, and nothing of the batch is applied.
 *
 * Threads: writer_submit() and writer_submit_usage() may be called from any
 * thread; on_done runs on the writer's thread. */
#ifndef KH_API_WRITER_H
#define KH_API_WRITER_H

#include "api/api.h"
#include "auth/usage.h"

#define WRITER_MAX_BATCH 512

struct write_job {
    struct write_job *next; /* the writer's queue link */
    struct api_request req; /* points into the job's own copy of the request */
    struct api_response res;
    const struct server_secret *secret; /* the secret current when the request arrived */
    void (*on_done)(struct write_job *job);
    void *owner; /* the submitter's, untouched by the writer */
};

struct writer;

/* A job holding a copy of req (every byte it points to), so the job outlives
 * the HTTP library's request. Freed with write_job_free(), which also frees
 * the response. */
struct write_job *write_job_new(const struct api_request *req);
void write_job_free(struct write_job *job);

/* Starts the writer thread on st, which it uses alone until writer_stop().
 * With secret (the server secret, which must outlive the writer), it chains
 * audit events from before the chain at once and signs the audit trail every
 * minute while events arrive, and when it stops (auth/auditchain.h). */
struct writer *writer_start(const struct config *cfg, struct store *st, struct ratelimiter *limiter,
                            const struct server_secret *secret);
/* Counts batch sizes and commit times as metrics (util/metrics.h); before serving. */
void writer_metrics_register(void);
void writer_submit(struct writer *wr, struct write_job *job);
/* Takes ownership of a loop's filled last-used buffer; it is written in the
 * next batch and freed. */
void writer_submit_usage(struct writer *wr, struct usage_buffer *u);
/* Answers what is queued, writes pending last-used times, joins the thread
 * and frees the writer (not the store). */
void writer_stop(struct writer *wr);

/* Counters for tests and the log. */
struct writer_stats {
    uint64_t jobs, batches, failed_commits;
};
void writer_get_stats(struct writer *wr, struct writer_stats *out);

#endif
