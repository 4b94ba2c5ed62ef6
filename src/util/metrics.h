/* metrics.h - the process's counters, gauges and histograms, rendered in
 * Prometheus' text exposition format (docs/operations/observability.md).
 *
 * Families are registered at start-up, once per process, before any thread
 * serves, each with a fixed number of series whose label values are set
 * once. Afterwards the
 * hot path only adds to atomics at an index the caller computes (for
 * instance route * statuses + status), so counting a request takes no lock
 * and no allocation. Rendering reads the atomics without stopping anyone:
 * each value is exact, a scrape is not a snapshot across values. */
#ifndef KH_METRICS_H
#define KH_METRICS_H

#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

#define METRIC_MAX_LABELS 3
#define METRIC_MAX_BUCKETS 20

struct metric_family;

/* Registers a family of nseries series. labels is a comma-separated list of
 * label names ("" for none); a histogram takes nbuckets upper bounds in
 * increasing order (the +Inf bucket is implied). Not thread-safe: call
 * before serving. The family lives until metrics_reset(). */
struct metric_family *metrics_register(const char *name, const char *help, enum metric_type type, const char *labels,
                                       size_t nseries, const double *buckets, size_t nbuckets);
/* Names series i: one value per label name. Values are copied. A series
 * never named is not rendered. */
void metrics_label(struct metric_family *f, size_t i, const char *const *values);
/* Series that are named but still zero are rendered only if the family is
 * dense (the default); a sparse family (route x status) shows what happened. */
void metrics_set_sparse(struct metric_family *f);

void metrics_add(struct metric_family *f, size_t i, uint64_t n);
void metrics_gauge_set(struct metric_family *f, size_t i, int64_t v);
void metrics_gauge_add(struct metric_family *f, size_t i, int64_t delta);
/* A histogram observation; value in the family's unit (seconds, items). */
void metrics_observe(struct metric_family *f, size_t i, double value);

/* Appends every family in the text format (version 0.0.4). */
int metrics_render(struct buf *out);
/* Frees every family. For the unit tests of this module only: a module that
 * registered a family keeps its pointer, so families are registered once per
 * process and never reset while anything may count. */
void metrics_reset(void);

#endif
