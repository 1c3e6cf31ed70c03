/* SPDX-License-Identifier: MIT */
/*
 * Prometheus text exposition (format 0.0.4) and latency histograms: the
 * pieces /metrics is written with (node/api/metrics.c states the naming
 * rules). Pure: no clock but pc_mono_ns, no I/O.
 */
#ifndef PC_PROM_H
#define PC_PROM_H

#include <stdint.h>

#include "common/buf.h"

/*
 * A latency histogram in seconds with fixed bounds: 100 us doubling up to
 * 6.5536 s (17 bounds), then +Inf. Buckets are not cumulative here; the
 * writer sums them. Zero it to start.
 */
#define PC_HIST_BOUNDS 17
struct pc_hist {
    uint64_t buckets[PC_HIST_BOUNDS + 1]; /* the last one is +Inf */
    uint64_t count;
    uint64_t sum_ns;
};

/* Record one observation of `ns` nanoseconds. */
void pc_hist_observe_ns(struct pc_hist *h, uint64_t ns);

/* Upper bound of bucket `i` (< PC_HIST_BOUNDS) in seconds. */
double pc_hist_bound(unsigned i);

/* A monotonic clock in nanoseconds, for durations. */
uint64_t pc_mono_ns(void);

/*
 * Begin the family `name`: its "# HELP" and "# TYPE" lines. `type` is
 * "counter", "gauge" or "histogram"; `help` is escaped (backslash, newline).
 * Every sample of the family must follow before the next family begins.
 * Each writer here returns PC_OK or PC_ENOMEM.
 */
int pc_prom_family(struct pc_buf *b, const char *name, const char *type,
                   const char *help);

/*
 * One sample: `name{labels} value`. `labels` is NULL or the inside of the
 * braces, as built by pc_prom_label ("route=\"/v1/orgs\",code=\"200\"").
 */
int pc_prom_u64(struct pc_buf *b, const char *name, const char *labels,
                uint64_t v);
int pc_prom_i64(struct pc_buf *b, const char *name, const char *labels,
                int64_t v);
int pc_prom_f64(struct pc_buf *b, const char *name, const char *labels,
                double v);

/*
 * Append `key="value"` to `labels` (a comma first when it is not empty),
 * the value escaped as the format wants (backslash, quote, newline).
 */
int pc_prom_label(struct pc_buf *labels, const char *key, const char *value);

/*
 * The samples of histogram `name` (its family already begun): the
 * cumulative `name_bucket{labels,le="..."}` lines, `name_sum` in seconds
 * and `name_count`.
 */
int pc_prom_hist(struct pc_buf *b, const char *name, const char *labels,
                 const struct pc_hist *h);

#endif
