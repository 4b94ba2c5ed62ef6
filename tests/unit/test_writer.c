/* test_writer.c - the group-commit writer: every job answered once its batch
 * is committed, many jobs per batch, a failed COMMIT answered 503 with
 * nothing applied, and handed-over last-used times written. */
#include "test.h"

#include "fixture.h"
#include "api/writer.h"
#include "util/xmalloc.h"

#include <pthread.h>

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
};

static struct waiter waiter = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void on_done(struct write_job *job)
{
    (void)job;
    pthread_mutex_lock(&waiter.lock);
    waiter.done++;
    pthread_cond_signal(&waiter.cond);
    pthread_mutex_unlock(&waiter.lock);
}

static void wait_done(int n)
{
    pthread_mutex_lock(&waiter.lock);
    while (waiter.done < n)
        pthread_cond_wait(&waiter.cond, &waiter.lock);
    waiter.done = 0;
    pthread_mutex_unlock(&waiter.lock);
}

/* A POST /api/v2/api_keys by the fixture's admin; the job copies every byte,
 * so the request's buffers may go at once. */
static struct write_job *create_key_job(struct fixture *f, const char *path, int i)
{
    char body[128];
    snprintf(body, sizeof body, "{\"data\":{\"type\":\"api_keys\",\"attributes\":{\"name\":\"batch %d\"}}}", i);
    struct api_header h[2] = {
        {"dd-api-key", 10, f->admin.api_key, strlen(f->admin.api_key)},
        {"dd-application-key", 18, f->admin.app_key, strlen(f->admin.app_key)},
    };
    struct api_request req = {"POST", 4, path, strlen(path), NULL, 0, body, strlen(body), h, 2, "127.0.0.1"};
    struct write_job *job = write_job_new(&req);
    memset(body, 'x', sizeof body); /* the job must not point here */
    job->secret = &f->secret;
    job->on_done = on_done;
    return job;
}

static int64_t api_key_count(struct fixture *f)
{
    int64_t n = -1;
    CHECK_INT(store_api_key_count(f->st, f->admin.org_id, &n), KH_OK);
    return n;
}

/* A store with an admin, default settings, and the second connection the
 * writer uses. */
struct writer_fixture {
    struct fixture f;
    struct config cfg;
    struct store *wst;
};

static void writer_fixture_open(struct writer_fixture *b)
{
    char *err = NULL;
    fixture_open(&b->f);
    config_defaults(&b->cfg);
    b->wst = NULL;
    CHECK_INT(store_open(b->f.dsn, &b->wst, &err), KH_OK);
}

static void writer_fixture_close(struct writer_fixture *b)
{
    store_close(b->wst);
    config_free(&b->cfg);
    fixture_close(&b->f);
}

static void answers_every_job_after_commit_in_few_batches(void)
{
    enum { N = 300 };
    struct writer_fixture b;
    writer_fixture_open(&b);
    int64_t before = api_key_count(&b.f);
    /* The org's key limit must count the keys made earlier in the same
     * batch: exactly 200 of the 270 creates fit. */
    b.cfg.max_api_keys = before + 200;

    struct writer *wr = writer_start(&b.cfg, b.wst, NULL, NULL);
    struct write_job *jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = create_key_job(&b.f, i % 10 == 9 ? "/api/v2/no_such_thing" : "/api/v2/api_keys", i);
        writer_submit(wr, jobs[i]);
    }
    wait_done(N);
    int created = 0, not_found = 0, over_limit = 0;
    for (int i = 0; i < N; i++) {
        created += jobs[i]->res.status == 201;
        not_found += jobs[i]->res.status == 404;
        over_limit += jobs[i]->res.status == 400 && strstr(jobs[i]->res.body, "limit reached");
        write_job_free(jobs[i]);
    }
    CHECK_INT(created, 200);
    CHECK_INT(over_limit, N - N / 10 - 200);
    CHECK_INT(not_found, N / 10);
    /* committed, as seen from another connection */
    CHECK_INT(api_key_count(&b.f), before + created);

    struct writer_stats stats;
    writer_get_stats(wr, &stats);
    CHECK_INT(stats.jobs, N);
    CHECK_INT(stats.failed_commits, 0);
    /* Submitting takes microseconds, a commit waits for the disk: the jobs
     * that queued meanwhile share the next commit. */
    CHECK(stats.batches >= 1 && stats.batches < N / 4);
    writer_stop(wr);
    writer_fixture_close(&b);
}

/* Fails the second commit: the first is the job's own savepoint (router.c),
 * the second the writer's COMMIT of the batch. */
static int commits;
static int fail_batch_commit(const char *op)
{
    return strcmp(op, "commit") == 0 && ++commits == 2 ? KH_ESTORE : KH_OK;
}

static void failed_commit_answers_503_and_applies_nothing(void)
{
    struct writer_fixture b;
    writer_fixture_open(&b);
    int64_t before = api_key_count(&b.f);
    struct writer *wr = writer_start(&b.cfg, b.wst, NULL, NULL);

    commits = 0;
    store_set_fault_hook(fail_batch_commit);
    struct write_job *job = create_key_job(&b.f, "/api/v2/api_keys", 1);
    writer_submit(wr, job);
    wait_done(1);
    store_set_fault_hook(NULL);
    CHECK_INT(job->res.status, 503);
    CHECK(job->res.body && strstr(job->res.body, "\"errors\""));
    CHECK_INT(api_key_count(&b.f), before);
    write_job_free(job);

    /* the writer goes on: the next batch commits */
    job = create_key_job(&b.f, "/api/v2/api_keys", 2);
    writer_submit(wr, job);
    wait_done(1);
    CHECK_INT(job->res.status, 201);
    CHECK_INT(api_key_count(&b.f), before + 1);
    write_job_free(job);

    struct writer_stats stats;
    writer_get_stats(wr, &stats);
    CHECK_INT(stats.failed_commits, 1);
    writer_stop(wr);
    writer_fixture_close(&b);
}

static void handed_usage_is_written_by_stop(void)
{
    struct writer_fixture b;
    writer_fixture_open(&b);
    b.cfg.usage_flush_ms = 60000; /* only the stop may write it */
    struct store_api_key_list list;
    struct store_api_key_query q = {.org_id = b.f.admin.org_id, .remote_config = -1, .page = {10, 0}};
    CHECK_INT(store_api_key_list(b.f.st, &q, &list), KH_OK);
    char id[UUID_STR];
    memcpy(id, list.items[0].id, UUID_STR);
    store_api_key_list_free(&list);

    struct writer *wr = writer_start(&b.cfg, b.wst, NULL, NULL);
    struct usage_buffer *u = usage_new(64);
    struct store_touch use = {.kind = STORE_TOUCH_API_KEY, .when = 123456};
    memcpy(use.id, id, UUID_STR);
    usage_record(u, &use, NULL);
    writer_submit_usage(wr, u); /* the writer owns it now */
    writer_stop(wr);

    struct store_api_key k;
    CHECK_INT(store_api_key_get(b.f.st, b.f.admin.org_id, id, &k), KH_OK);
    CHECK_INT(k.last_used_at, 123456);
    store_api_key_clear(&k);
    writer_fixture_close(&b);
}

/* Fails the second commit after last-used times were touched: when they are
 * written inside the batch (a savepoint, then the batch's COMMIT) that is the
 * batch's commit, and they would go with it; written in their own
 * transaction after the batch, their one commit goes through. */
static int seen_touch, commits_after_touch;
static int fail_second_commit_after_touch(const char *op)
{
    if (strcmp(op, "touch") == 0)
        seen_touch = 1;
    return seen_touch && strcmp(op, "commit") == 0 && ++commits_after_touch == 2 ? KH_ESTORE : KH_OK;
}

static void usage_survives_a_failed_batch_commit(void)
{
    struct writer_fixture b;
    writer_fixture_open(&b);
    b.cfg.usage_flush_ms = 0; /* every batch flushes */
    struct store_api_key_list list;
    struct store_api_key_query q = {.org_id = b.f.admin.org_id, .remote_config = -1, .page = {10, 0}};
    CHECK_INT(store_api_key_list(b.f.st, &q, &list), KH_OK);
    char id[UUID_STR];
    memcpy(id, list.items[0].id, UUID_STR);
    store_api_key_list_free(&list);

    seen_touch = commits_after_touch = 0;
    store_set_fault_hook(fail_second_commit_after_touch);
    struct writer *wr = writer_start(&b.cfg, b.wst, NULL, NULL);
    struct usage_buffer *u = usage_new(64);
    struct store_touch use = {.kind = STORE_TOUCH_API_KEY, .when = 123456};
    memcpy(use.id, id, UUID_STR);
    usage_record(u, &use, NULL);
    writer_submit_usage(wr, u);
    while (commits_after_touch < 1)
        usleep(1000);
    writer_stop(wr); /* the batch under way ends first */
    store_set_fault_hook(NULL);

    struct store_api_key k;
    CHECK_INT(store_api_key_get(b.f.st, b.f.admin.org_id, id, &k), KH_OK);
    CHECK_INT(k.last_used_at, 123456);
    store_api_key_clear(&k);
    writer_fixture_close(&b);
}

int main(void)
{
    RUN(answers_every_job_after_commit_in_few_batches);
    RUN(failed_commit_answers_503_and_applies_nothing);
    RUN(handed_usage_is_written_by_stop);
    RUN(usage_survives_a_failed_batch_commit);
    return TEST_SUMMARY();
}
