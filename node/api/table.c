/* SPDX-License-Identifier: MIT */
/*
 * The route table and the common handler every request enters through.
 *
 * One row per route: {method, pattern, needs, parse, run}. `needs` says
 * what the route needs before it runs (api_int.h, enum api_need); `parse`
 * checks syntax only and `run` does the route's work. The common handler
 * applies the needs in the contract's order, so no route repeats them:
 *
 *   1. 503 while the node stops; 404/405 for no route (DELETE on a data
 *      path: 405 immutable); 503 removed on a node removed from the
 *      cluster (but API_WHEN_REMOVED routes: health, metrics, status)
 *   2. 400: ?min_revision's syntax (API_READ), the preconditions of a
 *      write (If-Match, If-None-Match: taken exactly where the route
 *      honours them, API_IF_MATCH / API_IF_NONE_MATCH, else refused), then
 *      the route's `parse`
 *   3. 307/503 not the leader: API_WRITE, and API_READ unless
 *      ?consistency=stale
 *   4. API_READ: the shared barrier when linearizable (507 on a full
 *      disk), then ?min_revision (503 after 1 s). An API_GRANT read
 *      through a grant skips the barrier: its audit fact, which it
 *      waits for, linearizes it (read_audit.c)
 *   5. 401/429, or 503 while this node cannot judge tokens
 *      (api_authenticate; API_NOAUTH skips it); 401 for the public on an
 *      API_TOKEN route
 *   6. `run`: everything that depends on replicated state. A write
 *      proposes a command and apply decides (404 invisible, 403 role, 404
 *      missing, 409/422), so a refusal is a rejection fact; a read calls
 *      the access rules in node/fsm (fsm_entry_visible_rev,
 *      fsm_may_read_records, ...) and appends nothing.
 *
 * Adding a route: write `parse` (syntax, 400; NULL when there is none)
 * and `run` in the family's file (one file per route family: orgs.c,
 * catalog.c, ... a new workflow gets its own, e.g. share.c), declare both
 * in api_int.h, add the row below. Roles, classes, grants and workflow
 * states never go in `parse` or in this table: apply decides writes
 * (node/fsm/rules_*.c) and reads ask node/fsm's access functions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"

/* Every API route. Order matters only between patterns that overlap: the
 * first match wins. */
static const struct api_route routes[] = {
    /* health.c */
    { "GET", "/healthz", API_LOCAL | API_NOAUTH | API_WHEN_REMOVED, NULL,
      api_healthz },
    { "GET", "/readyz", API_LOCAL | API_NOAUTH, NULL, api_readyz },
    { "GET", "/metrics", API_LOCAL | API_NOAUTH | API_WHEN_REMOVED, NULL,
      api_metrics },
    { "GET", "/v1/status", API_LOCAL | API_NOAUTH | API_WHEN_REMOVED, NULL,
      api_status },
    /* cluster.c */
    { "POST", "/v1/members", API_WRITE | API_TOKEN, api_members_add_parse,
      api_members_add },
    { "DELETE", "/v1/members/{id}", API_WRITE | API_TOKEN,
      api_members_remove_parse, api_members_remove },
    { "POST", "/v1/leader/transfer", API_WRITE | API_TOKEN,
      api_leader_transfer_parse, api_leader_transfer },
    /* ledger.c */
    { "GET", "/v1/backup", API_WRITE | API_TOKEN, NULL, api_backup },
    { "GET", "/v1/ledger", API_LOCAL | API_TOKEN, api_ledger_parse,
      api_ledger },
    { "GET", "/v1/ledger/proof", API_READ | API_TOKEN, api_ledger_proof_parse,
      api_ledger_proof },
    { "GET", "/v1/ledger/consistency", API_READ | API_TOKEN,
      api_ledger_consistency_parse, api_ledger_consistency },
    { "GET", "/v1/ledger/facts", API_READ | API_TOKEN, api_ledger_facts_parse,
      api_ledger_facts },
    { "GET", "/v1/ledger/digests", API_READ | API_TOKEN,
      api_ledger_digests_parse, api_ledger_digests },
    /* orgs.c */
    { "POST", "/v1/orgs", API_WRITE | API_TOKEN, api_orgs_create_parse,
      api_orgs_create },
    { "GET", "/v1/orgs", API_READ | API_TOKEN, NULL, api_orgs_list },
    { "GET", "/v1/orgs/{id}", API_READ | API_TOKEN, NULL, api_orgs_get },
    /* principals.c */
    { "POST", "/v1/principals", API_WRITE | API_TOKEN,
      api_principals_create_parse, api_principals_create },
    { "POST", "/v1/principals/{id}/token", API_WRITE | API_TOKEN,
      api_principals_id_parse, api_principals_token },
    { "POST", "/v1/principals/{id}/revoke", API_WRITE | API_TOKEN,
      api_principals_id_parse, api_principals_revoke },
    { "GET", "/v1/whoami", API_READ | API_TOKEN, NULL, api_whoami },
    /* catalog.c */
    { "POST", "/v1/catalog", API_WRITE | API_TOKEN, api_catalog_create_parse,
      api_catalog_create },
    { "GET", "/v1/catalog", API_READ, api_catalog_list_parse,
      api_catalog_list },
    { "GET", "/v1/catalog/{id}", API_READ, api_catalog_id_parse,
      api_catalog_get },
    { "PUT", "/v1/catalog/{id}", API_WRITE | API_TOKEN | API_IF_MATCH,
      api_catalog_update_parse, api_catalog_update },
    { "GET", "/v1/catalog/{id}/history", API_READ, api_catalog_history_parse,
      api_catalog_history },
    { "POST", "/v1/catalog/{id}/submit", API_WRITE | API_TOKEN,
      api_catalog_id_parse, api_catalog_submit },
    { "POST", "/v1/catalog/{id}/review", API_WRITE | API_TOKEN,
      api_catalog_review_parse, api_catalog_review },
    { "POST", "/v1/catalog/{id}/retire", API_WRITE | API_TOKEN,
      api_catalog_retire_parse, api_catalog_retire },
    /* records.c */
    { "POST", "/v1/catalog/{id}/records:batch", API_WRITE | API_TOKEN,
      api_records_batch_parse, api_records_batch },
    { "GET", "/v1/catalog/{id}/records", API_READ | API_GRANT,
      api_records_list_parse, api_records_list },
    { "PUT", "/v1/catalog/{id}/records/{key}",
      API_WRITE | API_TOKEN | API_IF_MATCH | API_IF_NONE_MATCH,
      api_records_put_parse, api_records_put },
    { "GET", "/v1/catalog/{id}/records/{key}", API_READ | API_GRANT,
      api_records_get_parse, api_records_get },
    { "GET", "/v1/catalog/{id}/records/{key}/history", API_READ | API_GRANT,
      api_records_history_parse, api_records_history },
    { "POST", "/v1/catalog/{id}/records/{key}/retire",
      API_WRITE | API_TOKEN | API_IF_MATCH, api_records_retire_parse,
      api_records_retire },
    { "POST", "/v1/catalog/{id}/records/{key}/correct",
      API_WRITE | API_TOKEN | API_IF_MATCH, api_records_correct_parse,
      api_records_correct },
    /* share.c */
    { "POST", "/v1/share-requests", API_WRITE | API_TOKEN,
      api_share_create_parse, api_share_create },
    { "GET", "/v1/share-requests", API_READ | API_TOKEN, api_share_list_parse,
      api_share_list },
    { "GET", "/v1/share-requests/{id}", API_READ | API_TOKEN,
      api_share_id_parse, api_share_get },
    { "POST", "/v1/share-requests/{id}/decide", API_WRITE | API_TOKEN,
      api_share_decide_parse, api_share_decide },
    { "GET", "/v1/grants", API_READ | API_TOKEN, api_grant_list_parse,
      api_grant_list },
    { "GET", "/v1/grants/{id}", API_READ | API_TOKEN, api_grant_id_parse,
      api_grant_get },
    { "POST", "/v1/grants/{id}/revoke", API_WRITE | API_TOKEN,
      api_grant_revoke_parse, api_grant_revoke },
    /* lists.c */
    { "GET", "/v1/lists/responsibility", API_READ | API_TOKEN, api_lists_parse,
      api_lists_responsibility },
    { "GET", "/v1/lists/demand", API_READ | API_TOKEN, api_lists_parse,
      api_lists_demand },
    { "GET", "/v1/lists/negative", API_READ | API_TOKEN, api_lists_parse,
      api_lists_negative },
    { "GET", "/v1/lists/open", API_READ, api_lists_parse, api_lists_open },
    /* open.c */
    { "POST", "/v1/open-requests", API_WRITE | API_TOKEN, api_open_create_parse,
      api_open_create },
    { "GET", "/v1/open-requests", API_READ | API_TOKEN, api_open_list_parse,
      api_open_list },
    { "GET", "/v1/open-requests/{id}", API_READ | API_TOKEN, api_open_get_parse,
      api_open_get },
    { "POST", "/v1/open-requests/{id}/decide", API_WRITE | API_TOKEN,
      api_open_decide_parse, api_open_decide },
    { "PUT", "/v1/calendar/{year}", API_WRITE | API_TOKEN,
      api_calendar_put_parse, api_calendar_put },
    { "GET", "/v1/calendar/{year}", API_READ, api_calendar_get_parse,
      api_calendar_get },
    /* objections.c */
    { "POST", "/v1/objections", API_WRITE | API_TOKEN,
      api_objections_file_parse, api_objections_file },
    { "GET", "/v1/objections", API_READ | API_TOKEN, api_objections_list_parse,
      api_objections_list },
    { "GET", "/v1/objections/{id}", API_READ | API_TOKEN,
      api_objections_id_parse, api_objections_get },
    { "POST", "/v1/objections/{id}/decide", API_WRITE | API_TOKEN,
      api_objections_decide_parse, api_objections_decide },
    { "POST", "/v1/catalog/{id}/records/{key}/versions/{n}/redact",
      API_WRITE | API_TOKEN, api_records_redact_parse, api_records_redact },
    { "GET", "/v1/redactions", API_READ | API_TOKEN, api_redactions_list_parse,
      api_redactions_list },
    /* reports.c */
    { "GET", "/v1/quality", API_READ | API_TOKEN, api_quality_parse,
      api_quality },
    { "GET", "/v1/evaluation", API_READ | API_TOKEN, api_evaluation_parse,
      api_evaluation },
    /* audit.c */
    { "GET", "/v1/audit", API_READ | API_TOKEN, api_audit_parse, api_audit },
    { "GET", "/v1/security-events", API_LOCAL | API_TOKEN,
      api_security_events_parse, api_security_events },
};

/* History is never deleted: DELETE on any data path is 405 immutable (a
 * path that has routes but no DELETE is answered so in api_handle). */
static const char *const immutable_paths[] = {
    "/v1/orgs/{}",
    "/v1/principals/{}",
    "/v1/catalog/{}",
    "/v1/catalog/{}/records/{}",
    "/v1/catalog/{}/records/{}/versions/{}",
    "/v1/ledger",
    "/v1/share-requests/{}",
    "/v1/grants/{}",
    "/v1/objections/{}",
};

#define N_ROUTES    (sizeof(routes) / sizeof(routes[0]))
#define N_IMMUTABLE (sizeof(immutable_paths) / sizeof(immutable_paths[0]))

static bool
needs_valid(unsigned needs)
{
    unsigned kind = needs & (API_WRITE | API_READ | API_LOCAL);

    return (kind == API_WRITE || kind == API_READ || kind == API_LOCAL) &&
           (needs & (API_TOKEN | API_NOAUTH)) != (API_TOKEN | API_NOAUTH) &&
           (kind == API_WRITE ||
            (needs & (API_IF_MATCH | API_IF_NONE_MATCH)) == 0) &&
           (!(needs & API_GRANT) || kind == API_READ);
}

/* The router only matches: api_handle dispatches itself, from the row the
 * match's `arg` points to (NULL for the immutable paths' DELETE). */
static void
unused_handler(struct http_request *req, void *arg)
{
    (void)req, (void)arg;
}

int
api_router_new(struct http_router **out, char *errmsg)
{
    struct http_route r[N_ROUTES + N_IMMUTABLE];

    if (N_ROUTES > NODE_ROUTES_MAX) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "%zu routes: raise NODE_ROUTES_MAX (node.h)",
                          (size_t)N_ROUTES);
    }
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!needs_valid(routes[i].needs) || routes[i].run == NULL) {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "route %s %s: bad needs or no run",
                              routes[i].method, routes[i].pattern);
        }
        r[i] = (struct http_route){ routes[i].method, routes[i].pattern,
                                    unused_handler, (void *)&routes[i] };
    }
    for (size_t i = 0; i < N_IMMUTABLE; i++) {
        r[N_ROUTES + i] = (struct http_route){ "DELETE", immutable_paths[i],
                                               unused_handler, NULL };
    }
    return http_router_new(r, N_ROUTES + N_IMMUTABLE, out, errmsg);
}

size_t
api_routes(const struct api_route **out)
{
    *out = routes;
    return N_ROUTES;
}

/* The client's address: X-Forwarded-For's only from a trusted proxy. */
static const char *
client_of(struct node *n, struct http_request *req)
{
    const char *xff[16];
    size_t n_xff = 0;
    char *buf;

    if (n->o.n_trusted == 0) {
        return req->client_ip;
    }
    for (size_t i = 0; i < req->n_headers && n_xff < 16; i++) {
        if (strcasecmp(req->headers[i].name, "X-Forwarded-For") == 0) {
            xff[n_xff++] = req->headers[i].value;
        }
    }
    buf = n_xff > 0 ? http_req_alloc(req, 48) : NULL;
    if (buf == NULL) {
        return req->client_ip;
    }
    return http_client_addr(req->client_ip, xff, n_xff, n->o.trusted,
                            n->o.n_trusted, buf, 48);
}

static void
answer_immutable(struct node *n, struct http_request *req, const char *allow)
{
    http_req_add_header(req, "Allow", allow);
    api_error(n, req, 405, "immutable",
              "provcat never deletes or overwrites history");
}

/* Step 5: authentication, then API_TOKEN. False once answered. */
static bool
authenticated(struct node *n, struct http_request *req, unsigned needs)
{
    if (needs & API_NOAUTH) {
        return true;
    }
    if (!api_authenticate(n, req)) {
        return false;
    }
    if ((needs & API_TOKEN) && !api_req(req)->authed) {
        api_error(n, req, 401, "unauthorized", "a token is required");
        return false;
    }
    return true;
}

/* Steps 5 and 6 of an API_READ route, once the barrier and min_revision
 * are behind it (read.c calls this as the read's `run`). */
static void
read_run(struct node *n, struct http_request *req)
{
    const struct api_route *r = api_req(req)->route;

    if (authenticated(n, req, r->needs)) {
        r->run(n, req);
    }
}

/* ?min_revision's syntax (step 2 of API_READ routes). */
static bool
min_revision_ok(struct node *n, struct http_request *req)
{
    const char *mr = http_req_param(req, "min_revision");

    for (const char *s = mr; s != NULL && *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            mr = "";
            break;
        }
    }
    if (mr != NULL && (*mr == '\0' || strlen(mr) > 19)) {
        api_bad_field(n, req, "min_revision",
                      "min_revision must be a whole number");
        return false;
    }
    return true;
}

static void
dispatch(struct node *n, struct http_request *req, const struct api_route *r)
{
    struct api_req *a = api_req(req);
    void (*release)(void *parsed);
    void *parsed;

    if ((r->needs & API_READ) && !min_revision_ok(n, req)) {
        return;
    }
    if (!api_preconditions(n, req, r->needs)) {
        return;
    }
    if (r->parse != NULL && !r->parse(n, req)) {
        return;
    }
    /* Answering may free the request (and `a` with it): keep what parse
     * stashed on the heap here. */
    release = a->release;
    parsed = a->parsed;
    if (((r->needs & API_WRITE) ||
         ((r->needs & API_READ) && !api_stale(req))) &&
        !api_leader_or_redirect(n, req)) {
        /* answered 307 or 503 */
    } else if ((r->needs & API_GRANT) && api_audit_first(n, req)) {
        read_run(n, req); /* its audit fact linearizes it: no barrier */
    } else if (r->needs & API_READ) {
        api_read_start(n, req, read_run);
    } else if (authenticated(n, req, r->needs)) {
        r->run(n, req);
    }
    if (release != NULL) {
        release(parsed);
    }
}

void
api_handle(struct http_request *req, void *arg)
{
    struct node *n = arg;
    struct api_req *a = http_req_alloc(req, sizeof(*a));
    const struct http_route *route;
    const char *why;
    char allow[64];
    int status;

    if (a == NULL) {
        http_respond_error(req, 503, "unavailable", "out of memory");
        return;
    }
    memset(a, 0, sizeof(*a));
    a->n = n;
    a->start_ns = pc_mono_ns();
    req->data = a;
    a->client = client_of(n, req);
    api_request_id(n, req, a);
    if (n->stop.stopping) {
        api_error(n, req, 503, "unavailable", "the node is shutting down");
        return;
    }
    route = http_router_match(n->router, req, &status, allow, sizeof(allow));
    if (route != NULL && route->arg == NULL) {
        answer_immutable(n, req, "GET, HEAD, PUT, POST");
        return;
    }
    if (route == NULL) {
        if (status == 405 && req->verb == HTTP_VERB_DELETE) {
            answer_immutable(n, req, allow);
        } else if (status == 405) {
            http_req_add_header(req, "Allow", allow);
            api_error(n, req, 405, "method_not_allowed",
                      "%s is not allowed here (allowed: %s)", req->method,
                      allow);
        } else {
            api_error(n, req, status == 404 ? 404 : 500,
                      status == 404 ? "not_found" : "internal",
                      status == 404 ? "no such route" : "out of memory");
        }
        return;
    }
    a->route = route->arg;
    if (!(a->route->needs & API_WHEN_REMOVED) && clu_removed(n->clu, &why)) {
        /* Its state is stale for good and no leader will serve it. */
        http_req_add_header(req, "Retry-After", "1");
        api_error(n, req, 503, "removed",
                  "this node was removed from the cluster (%s): use another "
                  "member",
                  why);
        return;
    }
    dispatch(n, req, a->route);
}
