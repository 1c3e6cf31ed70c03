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
        return pcl_oom(c, what);
    }
    /* A page's `next` is the revision to ask for next: `from`. */
    snprintf(first, sizeof(first), "%llu", (unsigned long long)from);
    return pcl_iter_new(c, PCL_ITER_JSON, &path, "from", first, what, out);
}

PROVCAT_API int
provcat_ledger_digests(struct provcat *c, const char *entry, char **json)
{
    const char *filters[] = { "entry", entry, NULL };

    return pcl_get_json(c, "/v1/ledger/digests", entry != NULL ? filters : NULL,
                        json, "ledger digests");
}

PROVCAT_API int
provcat_quality(struct provcat *c, const char *const *filters, char **json)
{
    return pcl_get_json(c, "/v1/quality", filters, json, "quality report");
}

PROVCAT_API int
provcat_evaluation(struct provcat *c, char **json)
{
    return pcl_get_json(c, "/v1/evaluation", NULL, json, "evaluation report");
}

PROVCAT_API int
provcat_audit(struct provcat *c, const char *const *filters,
              struct provcat_iter **out)
{
    return pcl_list_at(c, PCL_ITER_JSON, "/v1/audit", filters, "audit events",
                       out);
}

PROVCAT_API int
provcat_security_events(struct provcat *c, struct provcat_iter **out)
{
    return pcl_list_at(c, PCL_ITER_JSON, "/v1/security-events", NULL,
                       "security events", out);
}
