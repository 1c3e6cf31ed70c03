/* SPDX-License-Identifier: MIT */
/*
 * The read-only inspection calls of libprovcat: the ledger's facts one by
 * one, the per-entry digests replicas are compared by, and the reports
 * (quality, evaluation, audit events, security events). They answer JSON:
 * whole documents as owned strings, paged ones through the list iterator.
 */
#include "client/client_int.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"

static int
oom(struct provcat *c, const char *what)
{
    return pcl_fail(c, PROVCAT_ENOMEM, "%s: out of memory", what);
}

/* Build `base` with `filters` in `path`; PROVCAT_OK or the error. */
static int
filtered_path(struct provcat *c, struct pc_buf *path, const char *base,
              const char *const *filters, const char *what)
{
    int rc = pcl_path(path, base);

    rc = rc == PC_OK ? pcl_add_filters(path, filters) : rc;
    if (rc == PC_EINVAL) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: filters are name/value pairs",
                        what);
    }
    return rc == PC_OK ? PROVCAT_OK : oom(c, what);
}

/* GET of a whole JSON document at `base` + `filters`. */
static int
get_json(struct provcat *c, const char *base, const char *const *filters,
         char **json, const char *what)
{
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    pc_buf_init(&path);
    rc = filtered_path(c, &path, base, filters, what);
    if (rc == PROVCAT_OK) {
        rc = pcl_call_json(c, "GET", &path, NULL, 0, PCL_READ,
                           PROVCAT_ANY_VERSION, json, what);
    }
    pc_buf_release(&path);
    return rc;
}

/* A paged list of JSON items at `base` + `filters`. */
static int
get_list(struct provcat *c, const char *base, const char *const *filters,
         const char *what, struct provcat_iter **out)
{
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    pc_buf_init(&path);
    rc = filtered_path(c, &path, base, filters, what);
    if (rc != PROVCAT_OK) {
        pc_buf_release(&path);
        return rc;
    }
    return pcl_iter_new(c, PCL_ITER_JSON, &path, NULL, NULL, what, out);
}

PROVCAT_API int
provcat_ledger_facts(struct provcat *c, uint64_t from,
                     struct provcat_iter **out)
{
    static const char *what = "ledger facts";
    struct pc_buf path;
    char first[24];

    pcl_reset(c);
    if (from == 0) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: the first revision is 1", what);
    }
    pc_buf_init(&path);
    if (pcl_path(&path, "/v1/ledger/facts") != PC_OK) {
        pc_buf_release(&path);
        return oom(c, what);
    }
    /* A page's `next` is the revision to ask for next: `from`. */
    snprintf(first, sizeof(first), "%llu", (unsigned long long)from);
    return pcl_iter_new(c, PCL_ITER_JSON, &path, "from", first, what, out);
}

PROVCAT_API int
provcat_ledger_digests(struct provcat *c, const char *entry, char **json)
{
    const char *filters[] = { "entry", entry, NULL };

    return get_json(c, "/v1/ledger/digests", entry != NULL ? filters : NULL,
                    json, "ledger digests");
}

PROVCAT_API int
provcat_quality(struct provcat *c, const char *const *filters, char **json)
{
    return get_json(c, "/v1/quality", filters, json, "quality report");
}

PROVCAT_API int
provcat_evaluation(struct provcat *c, char **json)
{
    return get_json(c, "/v1/evaluation", NULL, json, "evaluation report");
}

PROVCAT_API int
provcat_audit(struct provcat *c, const char *const *filters,
              struct provcat_iter **out)
{
    return get_list(c, "/v1/audit", filters, "audit events", out);
}

PROVCAT_API int
provcat_security_events(struct provcat *c, struct provcat_iter **out)
{
    return get_list(c, "/v1/security-events", NULL, "security events", out);
}
