/* test_metrics.c - the Prometheus text rendering: names, labels, escaping,
 * cumulative histogram buckets, sparse families, counts from many threads. */
#include "test.h"

#include "util/metrics.h"

#include <pthread.h>
#include <stdlib.h>

static char *rendered(void)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    metrics_render(&b);
    return buf_steal(&b, NULL);
}

static void counter_and_gauge_with_labels(void)
{
    struct metric_family *c = metrics_register("kh_things_total", "Things.", METRIC_COUNTER, "kind,why", 2, NULL, 0);
    struct metric_family *g = metrics_register("kh_open", "Open now.", METRIC_GAUGE, "", 1, NULL, 0);
    metrics_label(c, 0, (const char *const[]){"pat", "say \"hi\"\\\n"});
    metrics_label(c, 1, (const char *const[]){"sat", "ok"});
    metrics_add(c, 0, 3);
    metrics_add(c, 5, 1); /* out of range: ignored */
    metrics_gauge_add(g, 0, 5);
    metrics_gauge_add(g, 0, -2);
    char *s = rendered();
    CHECK(strstr(s, "# HELP kh_things_total Things.\n# TYPE kh_things_total counter\n") != NULL);
    CHECK(strstr(s, "kh_things_total{kind=\"pat\",why=\"say \\\"hi\\\"\\\\\\n\"} 3\n") != NULL);
    CHECK(strstr(s, "kh_things_total{kind=\"sat\",why=\"ok\"} 0\n") != NULL); /* dense: zero shown */
    CHECK(strstr(s, "# TYPE kh_open gauge\nkh_open 3\n") != NULL);
    free(s);
    metrics_reset();
}

static void histogram_buckets_are_cumulative(void)
{
    static const double bounds[] = {0.001, 0.01, 0.1};
    struct metric_family *h = metrics_register("kh_latency_seconds", "Latency.", METRIC_HISTOGRAM, "route", 1, bounds, 3);
    metrics_label(h, 0, (const char *const[]){"GET /x"});
    metrics_observe(h, 0, 0.0005);
    metrics_observe(h, 0, 0.001); /* on the bound: le is inclusive */
    metrics_observe(h, 0, 0.05);
    metrics_observe(h, 0, 3);
    char *s = rendered();
    CHECK(strstr(s, "kh_latency_seconds_bucket{route=\"GET /x\",le=\"0.001\"} 2\n") != NULL);
    CHECK(strstr(s, "kh_latency_seconds_bucket{route=\"GET /x\",le=\"0.01\"} 2\n") != NULL);
    CHECK(strstr(s, "kh_latency_seconds_bucket{route=\"GET /x\",le=\"0.1\"} 3\n") != NULL);
    CHECK(strstr(s, "kh_latency_seconds_bucket{route=\"GET /x\",le=\"+Inf\"} 4\n") != NULL);
    CHECK(strstr(s, "kh_latency_seconds_sum{route=\"GET /x\"} 3.051500\n") != NULL);
    CHECK(strstr(s, "kh_latency_seconds_count{route=\"GET /x\"} 4\n") != NULL);
    free(s);
    metrics_reset();
}

static void sparse_family_shows_only_what_happened(void)
{
    struct metric_family *c = metrics_register("kh_requests_total", "Requests.", METRIC_COUNTER, "status", 3, NULL, 0);
    metrics_set_sparse(c);
    metrics_label(c, 0, (const char *const[]){"200"});
    metrics_label(c, 1, (const char *const[]){"404"});
    metrics_add(c, 1, 1);
    metrics_add(c, 2, 1); /* never named: not rendered */
    char *s = rendered();
    CHECK(strstr(s, "status=\"200\"") == NULL);
    CHECK(strstr(s, "kh_requests_total{status=\"404\"} 1\n") != NULL);
    free(s);
    metrics_reset();
}

static struct metric_family *shared;

static void *count_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++)
        metrics_add(shared, 0, 1);
    return NULL;
}

static void counts_from_threads_are_exact(void)
{
    shared = metrics_register("kh_n_total", "N.", METRIC_COUNTER, "", 1, NULL, 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, count_many, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    char *s = rendered();
    CHECK(strstr(s, "\nkh_n_total 400000\n") != NULL);
    free(s);
    metrics_reset();
}

int main(void)
{
    RUN(counter_and_gauge_with_labels);
    RUN(histogram_buckets_are_cumulative);
    RUN(sparse_family_shows_only_what_happened);
    RUN(counts_from_threads_are_exact);
    return TEST_SUMMARY();
}
