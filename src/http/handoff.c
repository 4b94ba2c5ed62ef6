/* handoff.c - what an event loop hands to the writer thread (api/writer.h)
 * and gets back: requests that may change state, whose answers are posted
 * back to the loop through a libh2o multithread queue, and the loop's
 * last-used times. No event loop waits for a disk write of its own. */
#include "http/internal.h"

#include "api/writer.h"
#include "auth/usage.h"
#include "util/xmalloc.h"

#include <stdlib.h>

/* A request handed to the writer thread. Owned by the loop that handed it:
 * freed when the writer's answer comes back (http_handoff_on_written). If
 * libh2o drops the request first (the connection died), its pool's guard
 * clears req. */
struct pending_write {
    h2o_multithread_message_t msg; /* first: the message is the struct */
    struct worker *w;
    h2o_req_t *req;
    struct request_done *done;
    struct write_guard *guard;
    struct write_job *job;
};

struct write_guard {
    struct pending_write *pw; /* NULL once answered */
};

static void on_guard_dispose(void *p)
{
    struct write_guard *g = p;
    if (g->pw)
        g->pw->req = NULL;
}

/* Writer thread: the job's answer is final; post it to its loop. */
static void on_write_done(struct write_job *job)
{
    struct pending_write *pw = job->owner;
    h2o_multithread_send_message(&pw->w->written, &pw->msg);
}

/* Loop thread: answers that came back from the writer. */
void http_handoff_on_written(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    struct worker *w = H2O_STRUCT_FROM_MEMBER(struct worker, written, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        struct pending_write *pw = (struct pending_write *)messages->next; /* msg.link is first */
        h2o_linklist_unlink(&pw->msg.link);
        w->pending_writes--;
        if (pw->req) {
            pw->guard->pw = NULL;
            http_send_answer(pw->req, pw->done, &pw->job->res);
        }
        write_job_free(pw->job);
        free(pw);
    }
}

void http_handoff_request(struct worker *w, h2o_req_t *req, struct request_done *done,
                          const struct api_request *areq)
{
    struct pending_write *pw = xcalloc(1, sizeof *pw);
    pw->w = w;
    pw->req = req;
    pw->done = done;
    pw->guard = h2o_mem_alloc_shared(&req->pool, sizeof *pw->guard, on_guard_dispose);
    pw->guard->pw = pw;
    pw->job = write_job_new(areq);
    pw->job->secret = w->env.secret;
    pw->job->on_done = on_write_done;
    pw->job->owner = pw;
    w->pending_writes++;
    writer_submit(w->srv->writer, pw->job);
}

void http_handoff_usage(struct worker *w)
{
    if (!usage_pending(w->env.usage))
        return;
    if (!w->srv->writer) {
        usage_flush(w->env.usage, w->store);
        return;
    }
    writer_submit_usage(w->srv->writer, w->env.usage);
    w->env.usage = usage_new(HTTP_USAGE_START_SLOTS);
}
