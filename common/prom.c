/* SPDX-License-Identifier: MIT */
/*
 * Prometheus text exposition and fixed-bucket histograms (prom.h). Doubles
 * are written with the fewest of 15 or 17 digits that read back exactly,
 * integers in decimal; label values and help texts are escaped as the
 * format says, so no byte of a label can break a line.
 */
#include "common/prom.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

#define HIST_FIRST_NS 100000ull /* 100 us */

void
pc_hist_observe_ns(struct pc_hist *h, uint64_t ns)
{
    uint64_t bound = HIST_FIRST_NS;
    unsigned i = 0;

    /* Bucket i holds values <= its bound (le is inclusive). */
    while (i < PC_HIST_BOUNDS && ns > bound) {
        bound <<= 1;
        i++;
    }
    h->buckets[i]++;
    h->count++;
    h->sum_ns += ns;
}

double
pc_hist_bound(unsigned i)
{
    return (double)(HIST_FIRST_NS << i) / 1e9;
}

uint64_t
pc_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Append `s` escaped: backslash and newline always, quotes in labels. */
static int
escaped(struct pc_buf *b, const char *s, bool quotes)
{
    int rc = PC_OK;

    for (; rc == PC_OK && *s != '\0'; s++) {
        if (*s == '\\') {
            rc = pc_buf_put(b, "\\\\", 2);
        } else if (*s == '\n') {
            rc = pc_buf_put(b, "\\n", 2);
        } else if (*s == '"' && quotes) {
            rc = pc_buf_put(b, "\\\"", 2);
        } else {
            rc = pc_buf_put_u8(b, (uint8_t)*s);
        }
    }
    return rc;
}

int
pc_prom_family(struct pc_buf *b, const char *name, const char *type,
               const char *help)
{
    int rc = pc_buf_printf(b, "# HELP %s ", name);

    rc = rc == PC_OK ? escaped(b, help, false) : rc;
    return rc == PC_OK ? pc_buf_printf(b, "\n# TYPE %s %s\n", name, type) : rc;
}

static int
head(struct pc_buf *b, const char *name, const char *labels)
{
    if (labels != NULL && labels[0] != '\0') {
        return pc_buf_printf(b, "%s{%s} ", name, labels);
    }
    return pc_buf_printf(b, "%s ", name);
}

int
pc_prom_u64(struct pc_buf *b, const char *name, const char *labels, uint64_t v)
{
    int rc = head(b, name, labels);

    rc = rc == PC_OK ? pc_buf_put_dec(b, v) : rc;
    return rc == PC_OK ? pc_buf_put_u8(b, '\n') : rc;
}

int
pc_prom_i64(struct pc_buf *b, const char *name, const char *labels, int64_t v)
{
    int rc = head(b, name, labels);

    return rc == PC_OK ? pc_buf_printf(b, "%lld\n", (long long)v) : rc;
}

int
pc_prom_f64(struct pc_buf *b, const char *name, const char *labels, double v)
{
    char s[32];
    int rc = head(b, name, labels);

    /* The shortest of 15 or 17 digits that reads back as `v`. */
    snprintf(s, sizeof(s), "%.15g", v);
    if (strtod(s, NULL) != v) {
        snprintf(s, sizeof(s), "%.17g", v);
    }
    return rc == PC_OK ? pc_buf_printf(b, "%s\n", s) : rc;
}

int
pc_prom_label(struct pc_buf *labels, const char *key, const char *value)
{
    int rc = labels->len > 0 ? pc_buf_put_u8(labels, ',') : PC_OK;

    rc = rc == PC_OK ? pc_buf_printf(labels, "%s=\"", key) : rc;
    rc = rc == PC_OK ? escaped(labels, value, true) : rc;
    rc = rc == PC_OK ? pc_buf_put_u8(labels, '"') : rc;
    if (rc == PC_OK) {
        /* Keep it a C string for the sample writers. */
        rc = pc_buf_reserve(labels, 1);
        if (rc == PC_OK) {
            labels->data[labels->len] = '\0';
        }
    }
    return rc;
}

int
pc_prom_hist(struct pc_buf *b, const char *name, const char *labels,
             const struct pc_hist *h)
{
    const char *sep = labels != NULL && labels[0] != '\0' ? "," : "";
    uint64_t cum = 0;
    int rc = PC_OK;

    if (labels == NULL) {
        labels = "";
    }
    for (unsigned i = 0; rc == PC_OK && i <= PC_HIST_BOUNDS; i++) {
        cum += h->buckets[i];
        if (i < PC_HIST_BOUNDS) {
            rc = pc_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} ", name, labels,
                               sep, pc_hist_bound(i));
        } else {
            rc = pc_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} ", name, labels,
                               sep);
        }
        rc = rc == PC_OK ? pc_buf_put_dec(b, cum) : rc;
        rc = rc == PC_OK ? pc_buf_put_u8(b, '\n') : rc;
    }
    if (rc == PC_OK) {
        rc = pc_buf_printf(
            b, "%s_sum%s%s%s %.9f\n", name, labels[0] != '\0' ? "{" : "",
            labels, labels[0] != '\0' ? "}" : "", (double)h->sum_ns / 1e9);
    }
    if (rc == PC_OK) {
        rc = pc_buf_printf(
            b, "%s_count%s%s%s %llu\n", name, labels[0] != '\0' ? "{" : "",
            labels, labels[0] != '\0' ? "}" : "", (unsigned long long)h->count);
    }
    return rc;
}
