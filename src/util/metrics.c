/* metrics.c - counters, gauges and histograms in Prometheus' text format
 * (see metrics.h). */
#include "util/metrics.h"

#include "util/xmalloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct series {
    char *labels;              /* rendered: a="x",b="y" (NULL: not named) */
    atomic_int_fast64_t value; /* counter or gauge; a histogram's count */
    atomic_uint_fast64_t sum_micro;
    atomic_uint_fast64_t *buckets; /* histograms: per bucket, not cumulative */
};

struct metric_family {
    char *name, *help;
    enum metric_type type;
    char *label_names[METRIC_MAX_LABELS];
    size_t nlabels;
    double bounds[METRIC_MAX_BUCKETS];
    size_t nbuckets;
    int sparse;
    size_t nseries;
    struct series *series;
    struct metric_family *next;
};

static struct metric_family *families, **families_tail = &families;

static void split_labels(struct metric_family *f, const char *labels)
{
    const char *p = labels;
    while (p && *p && f->nlabels < METRIC_MAX_LABELS) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        f->label_names[f->nlabels++] = xstrndup(p, n);
        p = comma ? comma + 1 : NULL;
    }
}

struct metric_family *metrics_register(const char *name, const char *help, enum metric_type type, const char *labels,
                                       size_t nseries, const double *buckets, size_t nbuckets)
{
    struct metric_family *f = xcalloc(1, sizeof *f);
    f->name = xstrdup(name);
    f->help = xstrdup(help);
    f->type = type;
    split_labels(f, labels);
    f->nbuckets = nbuckets < METRIC_MAX_BUCKETS ? nbuckets : METRIC_MAX_BUCKETS;
    if (buckets)
        memcpy(f->bounds, buckets, f->nbuckets * sizeof *buckets);
    f->nseries = nseries;
    f->series = xcalloc(nseries ? nseries : 1, sizeof *f->series);
    for (size_t i = 0; i < nseries && type == METRIC_HISTOGRAM; i++)
        f->series[i].buckets = xcalloc(f->nbuckets + 1, sizeof *f->series[i].buckets);
    if (f->nlabels == 0 && nseries > 0)
        f->series[0].labels = xstrdup("");
    *families_tail = f;
    families_tail = &f->next;
    return f;
}

/* Label values escape backslash, double quote and newline (the format's rule). */
static void add_escaped(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            buf_add(b, "\\", 1), buf_add(b, s, 1);
        else if (*s == '\n')
            buf_adds(b, "\\n");
        else
            buf_add(b, s, 1);
    }
}

void metrics_label(struct metric_family *f, size_t i, const char *const *values)
{
    if (i >= f->nseries)
        return;
    struct buf b;
    buf_init(&b, 4096);
    for (size_t k = 0; k < f->nlabels; k++) {
        buf_printf(&b, "%s%s=\"", k ? "," : "", f->label_names[k]);
        add_escaped(&b, values[k] ? values[k] : "");
        buf_adds(&b, "\"");
    }
    free(f->series[i].labels);
    f->series[i].labels = buf_steal(&b, NULL);
}

void metrics_set_sparse(struct metric_family *f)
{
    f->sparse = 1;
}

void metrics_add(struct metric_family *f, size_t i, uint64_t n)
{
    if (f && i < f->nseries)
        atomic_fetch_add_explicit(&f->series[i].value, (int_fast64_t)n, memory_order_relaxed);
}

void metrics_gauge_set(struct metric_family *f, size_t i, int64_t v)
{
    if (f && i < f->nseries)
        atomic_store_explicit(&f->series[i].value, v, memory_order_relaxed);
}

void metrics_gauge_add(struct metric_family *f, size_t i, int64_t delta)
{
    if (f && i < f->nseries)
        atomic_fetch_add_explicit(&f->series[i].value, delta, memory_order_relaxed);
}

void metrics_observe(struct metric_family *f, size_t i, double value)
{
    if (!f || i >= f->nseries || f->type != METRIC_HISTOGRAM)
        return;
    struct series *s = &f->series[i];
    size_t b = 0;
    while (b < f->nbuckets && value > f->bounds[b])
        b++;
    atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->value, 1, memory_order_relaxed);
    if (value > 0)
        atomic_fetch_add_explicit(&s->sum_micro, (uint_fast64_t)(value * 1e6 + 0.5), memory_order_relaxed);
}

static const char *type_name(enum metric_type t)
{
    return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

/* name{labels,extra} value: the braces only when there is a label. */
static void add_sample(struct buf *b, const char *name, const char *suffix, const char *labels, const char *extra,
                       const char *value)
{
    int any = labels[0] || extra[0];
    buf_printf(b, "%s%s%s%s%s%s%s %s\n", name, suffix, any ? "{" : "", labels, labels[0] && extra[0] ? "," : "",
               extra, any ? "}" : "", value);
}

static void render_histogram(struct buf *b, const struct metric_family *f, struct series *s)
{
    char le[64], v[32];
    uint64_t cumulative = 0;
    for (size_t k = 0; k <= f->nbuckets; k++) {
        cumulative += atomic_load_explicit(&s->buckets[k], memory_order_relaxed);
        if (k < f->nbuckets)
            snprintf(le, sizeof le, "le=\"%.10g\"", f->bounds[k]);
        else
            snprintf(le, sizeof le, "le=\"+Inf\"");
        snprintf(v, sizeof v, "%llu", (unsigned long long)cumulative);
        add_sample(b, f->name, "_bucket", s->labels, le, v);
    }
    snprintf(v, sizeof v, "%.6f", (double)atomic_load_explicit(&s->sum_micro, memory_order_relaxed) / 1e6);
    add_sample(b, f->name, "_sum", s->labels, "", v);
    /* the count is the +Inf bucket: one read, so the two always agree */
    snprintf(v, sizeof v, "%llu", (unsigned long long)cumulative);
    add_sample(b, f->name, "_count", s->labels, "", v);
}

static void render_family(struct buf *b, const struct metric_family *f)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, type_name(f->type));
    for (size_t i = 0; i < f->nseries; i++) {
        struct series *s = &f->series[i];
        if (!s->labels)
            continue;
        int64_t value = atomic_load_explicit(&s->value, memory_order_relaxed);
        if (f->sparse && value == 0)
            continue;
        if (f->type == METRIC_HISTOGRAM) {
            render_histogram(b, f, s);
            continue;
        }
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)value);
        add_sample(b, f->name, "", s->labels, "", v);
    }
}

int metrics_render(struct buf *out)
{
    for (const struct metric_family *f = families; f; f = f->next)
        render_family(out, f);
    return 0;
}

void metrics_reset(void)
{
    struct metric_family *f = families;
    while (f) {
        struct metric_family *next = f->next;
        for (size_t i = 0; i < f->nseries; i++) {
            free(f->series[i].labels);
            free(f->series[i].buckets);
        }
        for (size_t k = 0; k < f->nlabels; k++)
            free(f->label_names[k]);
        free(f->series);
        free(f->name);
        free(f->help);
        free(f);
        f = next;
    }
    families = NULL;
    families_tail = &families;
}
