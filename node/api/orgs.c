/* SPDX-License-Identifier: MIT */
/*
 * Organisation routes: creation (who may create which org is decided in
 * apply: node/fsm/rules_org.c), the listing and one org, for any
 * principal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "node/api/api_int.h"

static json_t *
org_json(const struct fsm_org *o)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:b}", "id", o->id, "name",
                     o->name, "level", o->level, "kind", o->kind, "parent",
                     o->parent, "authority", o->authority);
}

static void
org_created(struct node *n, struct http_request *req,
            const struct fsm_result *res, void *ctx)
{
    json_t *o = api_fact_object(n, res->first_rev);

    (void)ctx;
    if (o == NULL) {
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    api_json(n, req, 201, o);
}

bool
api_orgs_create_parse(struct node *n, struct http_request *req)
{
    char msg[200];

    if (!fsm_org_body_valid(req->body, req->body_len, msg)) {
        api_error(n, req, 400, "bad_request", "%s", msg);
        return false;
    }
    return true;
}

void
api_orgs_create(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_ORG_CREATE, NULL, true, NULL, org_created, NULL);
}

void
api_orgs_list(struct node *n, struct http_request *req)
{
    const char **ids;
    size_t count, start = 0, limit = 100;
    const char *after = http_req_param(req, "after");
    const char *lim = http_req_param(req, "limit");
    json_t *items, *o;

    if (lim != NULL) {
        char *end;
        unsigned long v = strtoul(lim, &end, 10);
        if (*lim == '\0' || *end != '\0' || v < 1 || v > 1000) {
            api_error(n, req, 400, "bad_request",
                      "limit must be a number from 1 to 1000");
            return;
        }
        limit = v;
    }
    if (fsm_org_ids(n->fsm, &ids, &count) != PC_OK) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    if (after != NULL) {
        while (start < count && strcmp(ids[start], after) <= 0) {
            start++;
        }
    }
    items = json_array();
    for (size_t i = start; i < count && i < start + limit; i++) {
        json_array_append_new(items, org_json(fsm_org(n->fsm, ids[i])));
    }
    o = json_pack("{s:o, s:s?}", "items", items, "next",
                  start + limit < count ? ids[start + limit - 1] : NULL);
    if (start + limit >= count) {
        json_object_set_new(o, "next", json_null());
    }
    api_json(n, req, 200, o);
}

void
api_orgs_get(struct node *n, struct http_request *req)
{
    const struct fsm_org *o = fsm_org(n->fsm, req->caps[0]);
    json_t *j;

    if (o == NULL) {
        api_error(n, req, 404, "not_found", "no org \"%s\"", req->caps[0]);
        return;
    }
    j = org_json(o);
    api_add_fact_meta(n, j, o->rev);
    api_json(n, req, 200, j);
}
