/* SPDX-License-Identifier: MIT */
/*
 * Objection and redaction routes (article 16): filing and deciding
 * objections, the redaction of a record version, and the lists of
 * objections and redactions. Writes are proposed as commands whose rules
 * (node/fsm/rules_objections.c) decide in apply; reads ask the fsm who may
 * see what (fsm_objection_visible, fsm_may_inspect_ledger). Answers are
 * built from the facts, so replays match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "node/api/api_int.h"
#include "storage/led.h"

/* ---- answers ---------------------------------------------------------- */

/*
 * Objection version `rev` as the API shows it: the payload (the whole
 * object) with its id, version, revision, time and hash; "record_exists"
 * only for those who may know it (SPEC: no existence oracle). NULL when
 * the fact is unreadable.
 */
static json_t *
objection_json(struct node *n, uint64_t rev, bool sees_existence)
{
    json_t *o = api_fact_payload(n, rev);
    struct fact f;

    if (o == NULL || led_get(fsm_led(n->fsm), rev, &f) != PC_OK) {
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "id", json_stringn((const char *)f.id.p, f.id.len));
    api_add_fact_meta(n, o, rev);
    if (!sees_existence) {
        json_object_del(o, "record_exists");
    }
    return o;
}

/* Whether the caller may see the objection whose version is fact `rev`
 * and whether the record existed. */
static bool
caller_sees(struct node *n, struct http_request *req, uint64_t rev,
            bool *sees_existence)
{
    const struct fsm_principal *p = api_principal(n, req);
    const struct fsm_objection *o;
    char id[64];
    struct fact f;

    *sees_existence = false;
    if (led_get(fsm_led(n->fsm), rev, &f) != PC_OK || f.id.len >= sizeof(id)) {
        return false;
    }
    memcpy(id, f.id.p, f.id.len);
    id[f.id.len] = '\0';
    o = fsm_objection(n->fsm, id);
    return o != NULL && fsm_objection_visible(n->fsm, p, o, sees_existence);
}

/* The answer to a filing or a decision: the objection version the command
 * appended (its first fact). */
static void
objection_written(struct node *n, struct http_request *req,
                  const struct fsm_result *res, void *ctx)
{
    bool sees;
    json_t *o;

    (void)ctx;
    caller_sees(n, req, res->first_rev, &sees);
    o = objection_json(n, res->first_rev, sees);
    if (o == NULL) {
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    api_set_etag(req,
                 (uint64_t)json_integer_value(json_object_get(o, "version")));
    api_json(n, req, res->status, o);
}

/* A redaction fact as the API shows it. */
static json_t *
redaction_json(struct node *n, uint64_t rev)
{
    json_t *o = api_fact_payload(n, rev);
    struct fact f;

    if (o == NULL || led_get(fsm_led(n->fsm), rev, &f) != PC_OK) {
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "entry",
                        json_stringn((const char *)f.parent.p, f.parent.len));
    json_object_set_new(o, "key", json_stringn((const char *)f.id.p, f.id.len));
    json_object_set_new(o, "redacted", json_true());
    api_add_fact_meta(n, o, rev);
    return o;
}

static void
redaction_written(struct node *n, struct http_request *req,
                  const struct fsm_result *res, void *ctx)
{
    json_t *o = redaction_json(n, res->first_rev);

    (void)ctx;
    if (o == NULL) {
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    api_json(n, req, res->status, o);
}

/* ---- syntax ----------------------------------------------------------- */

static bool
objection_id_ok(struct node *n, struct http_request *req, const char *id)
{
    if (!fsm_objection_id_valid(id, strlen(id))) {
        api_bad_field(n, req, "id", "an objection id is ob-<n>");
        return false;
    }
    return true;
}

/* A whole number >= 1 of at most 19 digits; false if not. */
static bool
positive(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t len = strlen(s);

    if (len == 0 || len > 19 || s[0] == '0') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* ---- writes ----------------------------------------------------------- */

bool
api_objections_file_parse(struct node *n, struct http_request *req)
{
    return api_body_valid(n, req, fsm_objection_body_valid);
}

void
api_objections_file(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_OBJECTION_FILE, NULL, true, NULL, objection_written,
                NULL);
}

bool
api_objections_decide_parse(struct node *n, struct http_request *req)
{
    return objection_id_ok(n, req, req->caps[0]) &&
           api_body_valid(n, req, fsm_objection_decision_valid);
}

void
api_objections_decide(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_OBJECTION_DECIDE, req->caps[0], true, NULL,
                objection_written, NULL);
}

bool
api_records_redact_parse(struct node *n, struct http_request *req)
{
    uint64_t v;

    if (!api_record_path_ok(n, req)) {
        return false;
    }
    if (!positive(req->caps[2], &v) || v > INT64_MAX / 2) {
        api_bad_field(n, req, "version",
                      "the version is a whole number from 1");
        return false;
    }
    return api_body_valid(n, req, fsm_redaction_body_valid);
}

void
api_records_redact(struct node *n, struct http_request *req)
{
    size_t len = strlen(req->caps[0]) + strlen(req->caps[1]) + 2;
    char *target = http_req_alloc(req, len);
    uint64_t v = 0;

    positive(req->caps[2], &v);
    if (target == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    snprintf(target, len, "%s/%s", req->caps[0], req->caps[1]);
    api_propose(n, req, CMD_RECORD_REDACT, target, true,
                json_pack("{s:I}", "version", (json_int_t)v), redaction_written,
                NULL);
}

/* ---- reads ------------------------------------------------------------ */

bool
api_objections_id_parse(struct node *n, struct http_request *req)
{
    return objection_id_ok(n, req, req->caps[0]);
}

void
api_objections_get(struct node *n, struct http_request *req)
{
    const struct fsm_objection *o;
    bool sees;
    json_t *j;

    o = fsm_objection(n->fsm, req->caps[0]);
    if (o == NULL ||
        !fsm_objection_visible(n->fsm, api_principal(n, req), o, &sees)) {
        api_error(n, req, 404, "not_found", "no objection \"%s\"",
                  req->caps[0]);
        return;
    }
    j = objection_json(n, o->rev, sees);
    if (j == NULL) {
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    api_set_etag(req,
                 (uint64_t)json_integer_value(json_object_get(j, "version")));
    api_json(n, req, 200, j);
}

/* Query parameter `name` through `parse` (fsm_objection_*_parse): -1 if
 * absent, -2 if unknown. */
static int
param_enum(struct http_request *req, const char *name,
           int (*parse)(const char *))
{
    const char *s = http_req_param(req, name);

    if (s == NULL) {
        return -1;
    }
    return parse(s) < 0 ? -2 : parse(s);
}

bool
api_objections_list_parse(struct node *n, struct http_request *req)
{
    const char *entry = http_req_param(req, "entry");
    const char *after = http_req_param(req, "after");
    uint64_t a;
    size_t limit;

    if (!api_param_limit(n, req, &limit)) {
        return false;
    }
    if (param_enum(req, "status", fsm_objection_status_parse) == -2) {
        api_bad_field(n, req, "status",
                      "status must be open, accepted, rejected or resolved");
        return false;
    }
    if (param_enum(req, "kind", fsm_objection_kind_parse) == -2) {
        api_bad_field(n, req, "kind",
                      "kind must be error, omission, personal_information "
                      "or trade_secret");
        return false;
    }
    if (entry != NULL && !fsm_id_valid(entry, strlen(entry))) {
        api_bad_field(n, req, "entry", "bad entry id");
        return false;
    }
    if (after != NULL && !positive(after, &a)) {
        api_bad_field(n, req, "after", "after must be the cursor of a page");
        return false;
    }
    return true;
}

/*
 * GET /v1/objections: the objections the caller may see, in the order of
 * creation, filtered by `status`, `kind` and `entry`; `after` is the
 * previous page's `next` (the revision that created its last item).
 */
void
api_objections_list(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p = api_principal(n, req);
    const char *entry = http_req_param(req, "entry");
    const char *after = http_req_param(req, "after");
    int status = param_enum(req, "status", fsm_objection_status_parse);
    int kind = param_enum(req, "kind", fsm_objection_kind_parse);
    const struct fsm_objection *const *all;
    size_t n_all = fsm_objections(n->fsm, &all), limit, count = 0;
    uint64_t from = 0, last = 0;
    bool more = false;
    json_t *items = json_array(), *o;
    char next[24];

    api_param_limit(n, req, &limit);
    if (after != NULL) {
        positive(after, &from);
    }
    for (size_t i = 0; i < n_all && items != NULL; i++) {
        const struct fsm_objection *x = all[i];
        bool sees;

        if (x->first_rev <= from || (status >= 0 && (int)x->status != status) ||
            (kind >= 0 && (int)x->kind != kind) ||
            (entry != NULL && strcmp(entry, x->entry) != 0) ||
            !fsm_objection_visible(n->fsm, p, x, &sees)) {
            continue;
        }
        if (count == limit) {
            more = true;
            break;
        }
        o = objection_json(n, x->rev, sees);
        if (o == NULL || json_array_append_new(items, o) != 0) {
            json_decref(items);
            items = NULL;
            break;
        }
        last = x->first_rev;
        count++;
    }
    snprintf(next, sizeof(next), "%llu", (unsigned long long)last);
    api_list(n, req, items, more ? next : NULL);
}

bool
api_redactions_list_parse(struct node *n, struct http_request *req)
{
    const char *after = http_req_param(req, "after");
    size_t limit;
    uint64_t a;

    if (!api_param_limit(n, req, &limit)) {
        return false;
    }
    if (after != NULL && !positive(after, &a)) {
        api_bad_field(n, req, "after", "after must be the cursor of a page");
        return false;
    }
    return true;
}

/*
 * GET /v1/redactions: every redaction fact, oldest first (operators,
 * auditors and the provincial authority: the list a restore of an older
 * backup re-applies, docs/node.md). `after` is the previous page's `next`.
 */
void
api_redactions_list(struct node *n, struct http_request *req)
{
    const char *after = http_req_param(req, "after");
    const uint64_t *revs;
    size_t n_revs = fsm_redactions(n->fsm, &revs), limit, i = 0, lo, hi;
    uint64_t from = 0;
    json_t *items = json_array(), *o;
    char next[24];

    if (!fsm_may_inspect_ledger(n->fsm, api_principal(n, req))) {
        json_decref(items);
        api_denied(n, req,
                   "the list of redactions is for operators, auditors and "
                   "the provincial authority");
        return;
    }
    api_param_limit(n, req, &limit);
    if (after != NULL) {
        positive(after, &from);
    }
    /* The first redaction after the cursor: revisions ascend. */
    lo = 0;
    hi = n_revs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (revs[mid] <= from) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (i = lo; i < n_revs && i < lo + limit && items != NULL; i++) {
        o = redaction_json(n, revs[i]);
        if (o == NULL || json_array_append_new(items, o) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    snprintf(next, sizeof(next), "%llu",
             (unsigned long long)(i > 0 ? revs[i - 1] : 0));
    api_list(n, req, items, i < n_revs ? next : NULL);
}
