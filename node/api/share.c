/* SPDX-License-Identifier: MIT */
/*
 * Sharing routes (articles 17-20): share requests, their decisions, grants
 * and revocations. Writes check syntax here (400 naming the field) and are
 * decided in apply (node/fsm/rules_share.c); reads answer what the caller
 * may see (fsm_share_visible: the requesting org, the provider org, the
 * authority in the entry's scope, auditors), everything else being 404.
 * Objects are the payload of their current version (the whole object)
 * with its version, revision, time and hash; a grant's `status` is its
 * state at ledger time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
#include "storage/led.h"

/* ---- objects ---------------------------------------------------------- */

static json_t *
grant_json(struct node *n, const struct fsm_grant *g)
{
    json_t *o = api_fact_object(n, g->rev);
    int64_t now = led_time(fsm_led(n->fsm));
    char t[PC_TIME_STR_LEN];

    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(
        o, "status",
        json_string(fsm_grant_status_name(fsm_grant_status(g, now))));
    if (g->ended) {
        pc_time_format(t, g->ended_ms);
        json_object_set_new(o, "ended",
                            json_pack("{s:s, s:s, s:I}", "at", t, "reason",
                                      g->end_reason, "revision",
                                      (json_int_t)g->ended_rev));
    }
    return o;
}

/* ---- syntax ----------------------------------------------------------- */

static bool
id_ok(struct node *n, struct http_request *req, const char *prefix)
{
    uint64_t rev;
    char msg[80];

    if (!fsm_server_id_parse(req->caps[0], prefix, &rev)) {
        snprintf(msg, sizeof(msg), "the id must be \"%s-<number>\"", prefix);
        api_bad_field(n, req, "id", msg);
        return false;
    }
    return true;
}

bool
api_share_create_parse(struct node *n, struct http_request *req)
{
    return api_body_valid(n, req, fsm_share_request_body_valid);
}

bool
api_share_decide_parse(struct node *n, struct http_request *req)
{
    return id_ok(n, req, "sr") &&
           api_body_valid(n, req, fsm_share_decide_body_valid);
}

bool
api_share_id_parse(struct node *n, struct http_request *req)
{
    return id_ok(n, req, "sr");
}

bool
api_grant_id_parse(struct node *n, struct http_request *req)
{
    return id_ok(n, req, "gr");
}

bool
api_grant_revoke_parse(struct node *n, struct http_request *req)
{
    return id_ok(n, req, "gr") &&
           api_body_valid(n, req, fsm_grant_revoke_body_valid);
}

static bool
list_parse(struct node *n, struct http_request *req, const char *prefix,
           int (*status_parse)(const char *))
{
    static const char *const ids[] = { "entry", "org", NULL };
    const char *st = http_req_param(req, "status");
    const char *after = http_req_param(req, "after");
    uint64_t rev;
    size_t limit;

    if (st != NULL && status_parse(st) < 0) {
        api_bad_field(n, req, "status", "unknown status filter value");
        return false;
    }
    if (after != NULL && !fsm_server_id_parse(after, prefix, &rev)) {
        api_bad_field(n, req, "after", "after must be the cursor of a page");
        return false;
    }
    return api_param_ids(n, req, ids) && api_param_limit(n, req, &limit);
}

bool
api_share_list_parse(struct node *n, struct http_request *req)
{
    return list_parse(n, req, "sr", fsm_share_status_parse);
}

bool
api_grant_list_parse(struct node *n, struct http_request *req)
{
    return list_parse(n, req, "gr", fsm_grant_status_parse);
}

/* ---- writes ----------------------------------------------------------- */

static void
request_written(struct node *n, struct http_request *req,
                const struct fsm_result *res, void *ctx)
{
    json_t *o = api_fact_object(n, res->first_rev);

    (void)ctx;
    if (o == NULL) {
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    api_json(n, req, res->status, o);
}

void
api_share_create(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_SHARE_REQUEST, NULL, true, NULL, request_written,
                NULL);
}

void
api_share_decide(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_SHARE_DECIDE, req->caps[0], true, NULL,
                request_written, NULL);
}

static void
grant_written(struct node *n, struct http_request *req,
              const struct fsm_result *res, void *ctx)
{
    uint64_t id = 0;
    const struct fsm_grant *g;
    json_t *o;

    (void)ctx;
    fsm_server_id_parse(req->caps[0], "gr", &id);
    g = fsm_grant(n->fsm, id);
    o = g != NULL ? grant_json(n, g) : NULL;
    if (o == NULL) {
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    (void)res;
    api_json(n, req, 200, o);
}

void
api_grant_revoke(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_GRANT_REVOKE, req->caps[0], true, NULL,
                grant_written, NULL);
}

/* ---- reads ------------------------------------------------------------ */

void
api_share_get(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p = api_principal(n, req);
    const struct fsm_share_request *r = NULL;
    uint64_t id;
    json_t *o;

    if (fsm_server_id_parse(req->caps[0], "sr", &id)) {
        r = fsm_share_request(n->fsm, id);
    }
    if (r == NULL ||
        !fsm_share_visible(n->fsm, p, r->entry, r->org, r->provider)) {
        api_error(n, req, 404, "not_found", "no share request \"%s\"",
                  req->caps[0]);
        return;
    }
    o = api_fact_object(n, r->rev);
    if (o == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    api_json(n, req, 200, o);
}

void
api_grant_get(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p = api_principal(n, req);
    const struct fsm_grant *g = NULL;
    uint64_t id;
    json_t *o;

    if (fsm_server_id_parse(req->caps[0], "gr", &id)) {
        g = fsm_grant(n->fsm, id);
    }
    if (g == NULL ||
        !fsm_share_visible(n->fsm, p, g->entry, g->org, g->provider)) {
        api_error(n, req, 404, "not_found", "no grant \"%s\"", req->caps[0]);
        return;
    }
    o = grant_json(n, g);
    if (o == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    api_json(n, req, 200, o);
}

/* The filters of a listing. */
struct filter {
    const char *entry, *org, *status;
    uint64_t after;
    size_t limit;
};

static void
filter_read(struct node *n, struct http_request *req, const char *prefix,
            struct filter *f)
{
    const char *after = http_req_param(req, "after");

    f->entry = http_req_param(req, "entry");
    f->org = http_req_param(req, "org");
    f->status = http_req_param(req, "status");
    f->after = 0;
    if (after != NULL) {
        fsm_server_id_parse(after, prefix, &f->after);
    }
    api_param_limit(n, req, &f->limit); /* checked by parse */
}

static bool
str_is(const char *filter, const char *v)
{
    return filter == NULL || strcmp(filter, v) == 0;
}

/* The list envelope, `next` the id `<prefix>-<last>` when `more`. */
static void
answer_list(struct node *n, struct http_request *req, json_t *items,
            const char *prefix, uint64_t last, bool more)
{
    char next[40];

    snprintf(next, sizeof(next), "%s-%llu", prefix, (unsigned long long)last);
    api_list(n, req, items, more ? next : NULL);
}

void
api_share_list(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p = api_principal(n, req);
    struct fsm_share_request *const *rs;
    size_t nr = fsm_share_requests(n->fsm, &rs), count = 0;
    json_t *items = json_array();
    uint64_t last = 0;
    struct filter f;
    bool more = false;

    filter_read(n, req, "sr", &f);
    for (size_t i = 0; items != NULL && i < nr; i++) {
        const struct fsm_share_request *r = rs[i];
        json_t *o;

        if (r->id <= f.after || !str_is(f.entry, r->entry) ||
            !str_is(f.org, r->org) ||
            !str_is(f.status, fsm_share_status_name(r->status)) ||
            !fsm_share_visible(n->fsm, p, r->entry, r->org, r->provider)) {
            continue;
        }
        if (count == f.limit) {
            more = true;
            break;
        }
        o = api_fact_object(n, r->rev);
        if (o == NULL || json_array_append_new(items, o) != 0) {
            json_decref(items);
            items = NULL;
            break;
        }
        last = r->id;
        count++;
    }
    answer_list(n, req, items, "sr", last, more);
}

void
api_grant_list(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p = api_principal(n, req);
    int64_t now = led_time(fsm_led(n->fsm));
    struct fsm_grant *const *gs;
    size_t ng = fsm_grants(n->fsm, &gs), count = 0;
    json_t *items = json_array();
    uint64_t last = 0;
    struct filter f;
    bool more = false;

    filter_read(n, req, "gr", &f);
    for (size_t i = 0; items != NULL && i < ng; i++) {
        const struct fsm_grant *g = gs[i];
        json_t *o;

        if (g->id <= f.after || !str_is(f.entry, g->entry) ||
            !str_is(f.org, g->org) ||
            !str_is(f.status,
                    fsm_grant_status_name(fsm_grant_status(g, now))) ||
            !fsm_share_visible(n->fsm, p, g->entry, g->org, g->provider)) {
            continue;
        }
        if (count == f.limit) {
            more = true;
            break;
        }
        o = grant_json(n, g);
        if (o == NULL || json_array_append_new(items, o) != 0) {
            json_decref(items);
            items = NULL;
            break;
        }
        last = g->id;
        count++;
    }
    answer_list(n, req, items, "gr", last, more);
}
