/* SPDX-License-Identifier: MIT */
/*
 * The reports (articles 15, 19, 25): GET /v1/quality, per entry, and GET
 * /v1/evaluation, per org and overall. Both read counters node/fsm keeps
 * as facts are applied (fsm_quality, fsm_entry_classes, fsm_share_stats,
 * fsm_open_stats), so an answer costs O(entries listed) or O(orgs), never
 * a scan of records; timeliness and grants are judged at the ledger time
 * the answer reflects (X-Provcat-Time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/map.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
#include "storage/led.h"

static const char *const status_names[] = { "draft", "submitted", "published",
                                            "rejected", "retired" };
static const char *const class_names[] = { "none", "conditional",
                                           "unconditional" };

static json_t *
time_or_null(int64_t ms)
{
    char t[PC_TIME_STR_LEN];

    if (ms < 0) {
        return json_null();
    }
    pc_time_format(t, ms);
    return json_string(t);
}

static json_t *
int_or_null(int64_t v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)v);
}

/* ---- GET /v1/quality -------------------------------------------------- */

/* The quality item of entry `e` at ledger time `now`, revision `rev`. */
static json_t *
quality_json(struct node *n, const struct fsm_entry *e, int64_t now,
             uint64_t rev)
{
    struct fsm_quality q;
    json_t *o, *rej;

    if (fsm_quality(n->fsm, e->id, now, &q) != PC_OK) {
        return NULL;
    }
    rej = json_object();
    for (unsigned i = 0; rej != NULL && i < FSM_REJECT_N; i++) {
        if (q.rejected[i] > 0) {
            json_object_set_new(rej, fsm_reject_code_name(i),
                                json_integer((json_int_t)q.rejected[i]));
        }
    }
    o = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:s?, s:o, s:o, s:I, s:I, "
        "s:o, s:I, s:o, s:I, s:I}",
        "entry", e->id, "provider", e->provider, "status",
        status_names[e->status], "records", (json_int_t)q.records, "retired",
        (json_int_t)q.retired, "versions", (json_int_t)q.versions, "last_write",
        time_or_null(q.last_write_ms), "last_write_revision",
        q.last_write_rev > 0 ? json_integer((json_int_t)q.last_write_rev)
                             : json_null(),
        "update_frequency", q.frequency, "timeliness",
        fsm_timeliness_name(q.timeliness) != NULL
            ? json_string(fsm_timeliness_name(q.timeliness))
            : json_null(),
        "completeness",
        q.known > 0 ? json_real((double)q.complete / (double)q.known)
                    : json_null(),
        "complete_records", (json_int_t)q.complete, "unchecked_records",
        (json_int_t)q.unchecked, "completeness_as_of",
        q.unchecked == 0 ? json_integer((json_int_t)rev) : json_null(),
        "schema_revision", (json_int_t)q.schema_rev, "rejected_writes", rej,
        "rejected_writes_total", (json_int_t)q.rejected_total,
        "open_objections", (json_int_t)q.open_objections);
    return o;
}

bool
api_quality_parse(struct node *n, struct http_request *req)
{
    static const char *const ids[] = { "entry", "provider", "after", NULL };
    size_t limit;

    return api_param_limit(n, req, &limit) && api_param_ids(n, req, ids);
}

struct qlist {
    struct node *n;
    const struct fsm_principal *p;
    const char *provider;
    int64_t now;
    uint64_t rev;
    size_t limit, count;
    bool more;
    json_t *items;
    const char *last; /* the id of the last item */
};

static bool
qlist_cb(void *arg, const struct fsm_entry *e)
{
    struct qlist *l = arg;
    json_t *o;

    if ((l->provider != NULL && strcmp(e->provider, l->provider) != 0) ||
        !fsm_quality_visible(l->n->fsm, l->p, e)) {
        return true;
    }
    if (l->count == l->limit) {
        l->more = true;
        return false;
    }
    o = quality_json(l->n, e, l->now, l->rev);
    if (o == NULL || json_array_append_new(l->items, o) != 0) {
        json_decref(l->items);
        l->items = NULL;
        return false;
    }
    l->last = e->id;
    l->count++;
    return true;
}

/*
 * GET /v1/quality: the quality of the entries the caller may see it of
 * (fsm_quality_visible), in entry id order, filtered by `provider`;
 * `?entry=` answers that entry alone (404 one the caller may not see, 403
 * one it sees but may not have the quality of). The list envelope; `after`
 * is the previous page's `next`, the last entry it held.
 */
void
api_quality(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p = api_principal(n, req);
    const char *entry = http_req_param(req, "entry");
    struct led *l = fsm_led(n->fsm);
    struct qlist q = { .n = n,
                       .p = p,
                       .provider = http_req_param(req, "provider"),
                       .now = led_time(l),
                       .rev = led_count(l) };

    if (!fsm_may_report_quality(n->fsm, p)) {
        api_denied(n, req,
                   "the quality report is for authorities, auditors and the "
                   "principals of an org (its own entries)");
        return;
    }
    if (q.provider != NULL &&
        !(p->roles & (FSM_ROLE_AUDITOR | FSM_ROLE_AUTHORITY)) &&
        (p->org == NULL || strcmp(q.provider, p->org) != 0)) {
        api_denied(n, req,
                   "only authorities and auditors see the quality of another "
                   "org's entries");
        return;
    }
    api_param_limit(n, req, &q.limit);
    q.items = json_array();
    if (entry != NULL) {
        const struct fsm_entry *e = fsm_entry(n->fsm, entry);

        if (e == NULL || fsm_entry_visible_rev(n->fsm, e, p) == 0) {
            json_decref(q.items);
            api_error(n, req, 404, "not_found", "no catalog entry \"%s\"",
                      entry);
            return;
        }
        if (!fsm_quality_visible(n->fsm, p, e)) {
            json_decref(q.items);
            api_denied(n, req,
                       "the quality of \"%s\" is for the authority in its "
                       "scope, auditors and its provider org",
                       entry);
            return;
        }
        if (q.provider == NULL || strcmp(q.provider, e->provider) == 0) {
            json_array_append_new(q.items, quality_json(n, e, q.now, q.rev));
        }
    } else {
        api_entries_each(n, http_req_param(req, "after"), qlist_cb, &q);
    }
    api_list(n, req, q.items, q.more ? q.last : NULL);
}

/* ---- GET /v1/evaluation ----------------------------------------------- */

static json_t *
classes_json(const uint64_t *by)
{
    json_t *o = json_object();

    for (int i = 0; o != NULL && i < 3; i++) {
        json_object_set_new(o, class_names[i], json_integer((json_int_t)by[i]));
    }
    return o;
}

static json_t *
share_json(const struct fsm_share_stats *s, bool medians)
{
    json_t *o = json_object();

    for (unsigned i = 0; o != NULL && i < FSM_SHARE_N_STATUS; i++) {
        json_object_set_new(o, fsm_share_status_name(i),
                            json_integer((json_int_t)s->requests[i]));
    }
    json_object_set_new(o, "total",
                        json_integer((json_int_t)s->requests_total));
    if (medians) {
        json_object_set_new(o, "median_opinion_ms",
                            int_or_null(s->median_opinion_ms));
        json_object_set_new(o, "median_decision_ms",
                            int_or_null(s->median_decision_ms));
    }
    return o;
}

struct overdue {
    struct pc_map by_org; /* provider org -> count (as a pointer) */
    uint64_t total;
    bool oom;
};

static bool
overdue_cb(void *arg, const struct fsm_open_request *r)
{
    struct overdue *o = arg;
    uintptr_t c =
        (uintptr_t)pc_map_get(&o->by_org, r->provider, strlen(r->provider));

    o->total++;
    if (pc_map_put(&o->by_org, r->provider, strlen(r->provider),
                   (void *)(c + 1), NULL) != PC_OK) {
        o->oom = true;
        return false;
    }
    return true;
}

/*
 * One row of the evaluation: `org` NULL for the whole catalog, else that
 * org as provider (its entries, the requests for them, the grants on
 * them) and as requester (the requests it made, the grants it holds).
 */
static json_t *
eval_row(struct node *n, const char *org, int64_t now, const struct overdue *od)
{
    struct fsm_entry_classes ec;
    struct fsm_share_stats ss, sm;
    struct fsm_open_stats os;
    uint64_t overdue;
    json_t *o;

    fsm_entry_classes(n->fsm, org, &ec);
    fsm_share_stats(n->fsm, org ? FSM_SHARE_PROVIDER : FSM_SHARE_ALL, org, now,
                    &ss);
    /* Overdue from the one pass over the overdue requests, not per org. */
    fsm_open_stats(n->fsm, org, NULL, INT64_MIN, &os);
    overdue = org == NULL ? od->total
                          : (uint64_t)(uintptr_t)pc_map_get(&od->by_org, org,
                                                            strlen(org));
    o = json_pack(
        "{s:{s:I, s:o, s:o}, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:o, "
        "s:o}, s:{s:I, s:I, s:I, s:I, s:I}}",
        "entries", "total", (json_int_t)ec.total, "share",
        classes_json(ec.share), "open", classes_json(ec.open), "share_requests",
        share_json(&ss, true), "open_requests", "pending",
        (json_int_t)os.pending, "approved", (json_int_t)os.approved, "rejected",
        (json_int_t)os.rejected, "total",
        (json_int_t)(os.pending + os.approved + os.rejected), "overdue",
        (json_int_t)overdue, "answered_late", (json_int_t)os.answered_late,
        "median_response_days", int_or_null(os.median_days), "mean_response_ms",
        int_or_null(os.mean_ms), "grants", "active",
        (json_int_t)ss.grants_active, "expired", (json_int_t)ss.grants_expired,
        "revoked", (json_int_t)ss.grants_revoked, "ended",
        (json_int_t)ss.grants_ended, "total", (json_int_t)ss.grants_total);
    if (o != NULL && org != NULL) {
        fsm_share_stats(n->fsm, FSM_SHARE_REQUESTER, org, now, &sm);
        json_object_set_new(o, "org", json_string(org));
        json_object_set_new(o, "share_requests_made", share_json(&sm, false));
        json_object_set_new(o, "grants_held",
                            json_pack("{s:I, s:I}", "active",
                                      (json_int_t)sm.grants_active, "total",
                                      (json_int_t)sm.grants_total));
    }
    return o;
}

bool
api_evaluation_parse(struct node *n, struct http_request *req)
{
    const char *org = http_req_param(req, "org");

    if (org != NULL && !fsm_id_valid(org, strlen(org))) {
        api_bad_field(n, req, "org", "org must be an id");
        return false;
    }
    return true;
}

/*
 * GET /v1/evaluation (authorities, auditors): the whole catalog's row and
 * one per org (id order; `?org=` that one), from the counters. Share
 * requests by status with the medians of the provider's opinion and of the
 * decision (ms of ledger time from submission), open requests by status
 * with the overdue ones at the answer's ledger time and the median
 * response in working days, grants at the answer's ledger time.
 */
void
api_evaluation(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p = api_principal(n, req);
    const char *only = http_req_param(req, "org");
    int64_t now = led_time(fsm_led(n->fsm));
    struct overdue od = { .total = 0 };
    const char **ids;
    size_t n_ids;
    json_t *orgs, *all;

    if (!fsm_may_read_evaluation(n->fsm, p)) {
        api_denied(n, req, "the evaluation is for authorities and auditors");
        return;
    }
    if (only != NULL && fsm_org(n->fsm, only) == NULL) {
        api_error(n, req, 404, "not_found", "no org \"%s\"", only);
        return;
    }
    pc_map_init(&od.by_org);
    fsm_open_overdue_each(n->fsm, now, overdue_cb, &od);
    orgs = json_array();
    all = od.oom ? NULL : eval_row(n, NULL, now, &od);
    if (fsm_org_ids(n->fsm, &ids, &n_ids) != PC_OK) {
        n_ids = 0;
        json_decref(all);
        all = NULL;
    }
    for (size_t i = 0; all != NULL && orgs != NULL && i < n_ids; i++) {
        json_t *row;

        if (only != NULL && strcmp(only, ids[i]) != 0) {
            continue;
        }
        row = eval_row(n, ids[i], now, &od);
        if (row == NULL || json_array_append_new(orgs, row) != 0) {
            json_decref(orgs);
            orgs = NULL;
        }
    }
    pc_map_release(&od.by_org);
    if (all == NULL || orgs == NULL) {
        json_decref(all);
        json_decref(orgs);
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    api_json(n, req, 200,
             json_pack("{s:o, s:o}", "overall", all, "orgs", orgs));
}
