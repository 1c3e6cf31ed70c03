/* SPDX-License-Identifier: MIT */
/*
 * Membership and leadership: POST /v1/members, DELETE /v1/members/{id},
 * POST /v1/leader/transfer. Each is an operation apply decides first
 * (CMD_OPERATION, node/fsm/rules_ops.c: the role operator; an OPERATION
 * fact records who asked what, a rejection fact a refusal); the node
 * carries it out once that command applied with success. What depends on
 * raft's configuration rather than the ledger (a change in flight, an
 * unknown member, too few voters left) is answered afterwards, from this
 * node's view of it.
 *
 * Each change is logged twice, when it is asked (who, which member) and
 * when raft finished it (the result), with the request's id: a join that
 * never completes shows as an "asked" line without its "finished" one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"

#define NODE_ID_MAX 2147483647

/* What parse found, for run (in the request's arena). */
struct member_args {
    uint64_t id;         /* the member, or the transfer's target (0: any) */
    const char *address; /* member.add */
    const char *url;     /* member.add */
    bool force;          /* member.remove */
};

/* Shared by the callbacks of one request. */
struct member_ctx {
    struct node *n;
    struct http_request *req;
    uint64_t id;
    struct change_log *log; /* a removal's, until it finished */
};

/* What a membership change's log lines name; outlives the request, as
 * raft may finish the change after it was answered. */
struct change_log {
    struct node *n;
    uint64_t member;
    const char *op; /* "add", "remove" */
    char request_id[API_REQUEST_ID_MAX + 1];
    char principal[129];
    int64_t start_ms;
};

/* Log that a change was asked: PC_OK with `*out` (pc_free'd by
 * change_finished), or PC_ENOMEM. */
static struct change_log *
change_asked(struct node *n, struct http_request *req, const char *op,
             uint64_t member, const char *address)
{
    struct api_req *a = api_req(req);
    struct change_log *l = pc_calloc(1, sizeof(*l));
    struct log_field f[8];

    log_write(
        LOG_LEVEL_INFO, "membership_change_asked",
        api_log_fields(req,
                       LOG_FIELDS(LOG_STR("op", op), LOG_U64("member", member),
                                  LOG_STR("address", address)),
                       f, 8),
        "membership change asked by %s: %s member %llu%s%s", a->principal, op,
        (unsigned long long)member, address != NULL ? " at " : "",
        address != NULL ? address : "");
    if (l != NULL) {
        l->n = n;
        l->member = member;
        l->op = op;
        l->start_ms = pc_now_ms();
        snprintf(l->request_id, sizeof(l->request_id), "%s", a->request_id);
        snprintf(l->principal, sizeof(l->principal), "%s", a->principal);
    }
    return l;
}

/* Log how a change ended, and free `l` (NULL: nothing to log). */
static void
change_finished(struct change_log *l, int rc)
{
    if (l == NULL) {
        return;
    }
    log_write(rc == PC_OK ? LOG_LEVEL_INFO : LOG_LEVEL_WARN,
              "membership_change_finished",
              LOG_FIELDS(LOG_STR("request_id", l->request_id),
                         LOG_STR("principal", l->principal),
                         LOG_STR("op", l->op), LOG_U64("member", l->member),
                         LOG_STR("result", pc_errname(rc)),
                         LOG_I64("ms", pc_now_ms() - l->start_ms)),
              "membership change finished: %s: %s member %llu", pc_strerror(rc),
              l->op, (unsigned long long)l->member);
    pc_free(l);
}

static struct member_args *
args_new(struct node *n, struct http_request *req)
{
    struct member_args *a = http_req_alloc(req, sizeof(*a));

    if (a == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return NULL;
    }
    memset(a, 0, sizeof(*a));
    api_req(req)->parsed = a;
    return a;
}

static char *
arena_strdup(struct http_request *req, const char *s)
{
    size_t len = strlen(s) + 1;
    char *p = http_req_alloc(req, len);

    if (p != NULL) {
        memcpy(p, s, len);
    }
    return p;
}

static struct member_ctx *
ctx_new(struct node *n, struct http_request *req, uint64_t id)
{
    struct member_ctx *c = http_req_alloc(req, sizeof(*c));

    if (c != NULL) {
        c->n = n;
        c->req = req;
        c->id = id;
    }
    return c;
}

/* Propose the operation `x` (stolen); `done` carries it out. */
static void
propose_op(struct node *n, struct http_request *req, json_t *x,
           api_done_fn done, struct member_args *a)
{
    if (x == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    api_propose(n, req, CMD_OPERATION, NULL, false, x, done, a);
}

/* Who asked to move leadership, from this node to `to` (0: any voter). */
static void
transfer_asked(struct node *n, struct http_request *req, const char *reason,
               uint64_t to)
{
    struct log_field f[8];

    log_write(
        LOG_LEVEL_INFO, "leadership_transfer",
        api_log_fields(req,
                       LOG_FIELDS(LOG_STR("reason", reason),
                                  LOG_U64("from", n->o.id), LOG_U64("to", to)),
                       f, 8),
        "leadership transfer asked by %s (%s): from node %llu to %s%llu",
        api_req(req)->principal, reason, (unsigned long long)n->o.id,
        to == 0 ? "any voter, " : "node ", (unsigned long long)to);
}

static void
transfer_done(struct node *n, struct http_request *req, int rc)
{
    uint64_t lid = clu_leader(n->clu, NULL);
    struct log_field f[8];

    log_write(
        lid != n->o.id && rc == PC_OK ? LOG_LEVEL_INFO : LOG_LEVEL_WARN,
        "leadership_transfer_finished",
        api_log_fields(req,
                       LOG_FIELDS(LOG_U64("from", n->o.id), LOG_U64("to", lid),
                                  LOG_STR("result", pc_errname(rc))),
                       f, 8),
        "leadership transfer finished: %s; the leader is node %llu",
        pc_strerror(rc), (unsigned long long)lid);
}

/* ---- POST /v1/members ------------------------------------------------- */

bool
api_members_add_parse(struct node *n, struct http_request *req)
{
    struct member_args *a;
    const char *addr, *url;
    json_int_t id;
    json_t *b;

    if ((b = api_body_object(n, req)) == NULL) {
        return false;
    }
    id = json_integer_value(json_object_get(b, "id"));
    addr = json_string_value(json_object_get(b, "address"));
    url = json_string_value(json_object_get(b, "client_url"));
    if (id < 1 || id > NODE_ID_MAX || addr == NULL || url == NULL ||
        (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
        strlen(addr) == 0 || strlen(addr) > 63) {
        json_decref(b);
        api_error(n, req, 400, "bad_request",
                  "need {\"id\": 1..2^31-1, \"address\": \"host:port\", "
                  "\"client_url\": \"http(s)://...\"}");
        return false;
    }
    a = args_new(n, req);
    if (a != NULL) {
        a->id = (uint64_t)id;
        a->address = arena_strdup(req, addr);
        a->url = arena_strdup(req, url);
    }
    json_decref(b);
    if (a != NULL && (a->address == NULL || a->url == NULL)) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return false;
    }
    return a != NULL;
}

static void
member_change_cb(void *arg, int rc)
{
    change_finished(arg, rc);
}

/* The joiner's client URL is in the ledger: every node can redirect to it
 * once it leads. */
static void
member_url_recorded(struct node *n, int rc, const struct fsm_result *res,
                    void *arg)
{
    struct member_ctx *c = arg;

    if (rc != PC_OK || res == NULL || res->status >= 400) {
        api_error(n, c->req, 503, "unavailable",
                  "member %llu is being added, but its client URL was not "
                  "recorded (%s); retry",
                  (unsigned long long)c->id,
                  rc != PC_OK ? pc_strerror(rc) : "refused");
        return;
    }
    api_json(n, c->req, 202,
             json_pack("{s:I, s:s}", "id", (json_int_t)c->id, "status",
                       "catching_up"));
}

static void
member_add_allowed(struct node *n, struct http_request *req,
                   const struct fsm_result *res, void *ctx)
{
    struct member_args *a = ctx;
    struct change_log *l;
    struct member_ctx *c;
    char target[24];
    int rc;

    (void)res;
    l = change_asked(n, req, "add", a->id, a->address);
    rc = clu_add(n->clu, a->id, a->address, member_change_cb, l);
    if (rc != PC_OK) {
        bool conflict = rc == PC_ECONFLICT || rc == PC_EEXIST;

        change_finished(l, rc);
        api_error(n, req, conflict ? 409 : 503,
                  conflict ? "conflict" : "unavailable",
                  "cannot add member %llu: %s", (unsigned long long)a->id,
                  rc == PC_ECONFLICT ? "a membership change is in flight"
                                     : pc_strerror(rc));
        return;
    }
    c = ctx_new(n, req, a->id);
    snprintf(target, sizeof(target), "%llu", (unsigned long long)a->id);
    rc = c == NULL
             ? PC_ENOMEM
             : api_propose_system_arg(n, CMD_MEMBER_URL, target,
                                      json_pack("{s:s, s:s}", "client_url",
                                                a->url, "address", a->address),
                                      member_url_recorded, c);
    if (rc != PC_OK) {
        api_unproposed(n, req, rc, "could not record the member's URL");
    }
}

void
api_members_add(struct node *n, struct http_request *req)
{
    struct member_args *a = api_req(req)->parsed;

    propose_op(n, req,
               json_pack("{s:s, s:I, s:s, s:s}", "op", "member.add", "node",
                         (json_int_t)a->id, "address", a->address, "client_url",
                         a->url),
               member_add_allowed, a);
}

/* ---- DELETE /v1/members/{id} ------------------------------------------ */

static bool
parse_node_id(const char *s, uint64_t *out)
{
    unsigned long long v;
    char *end;

    if (s == NULL || *s < '1' || *s > '9') {
        return false;
    }
    v = strtoull(s, &end, 10);
    if (*end != '\0' || v > NODE_ID_MAX) {
        return false;
    }
    *out = v;
    return true;
}

bool
api_members_remove_parse(struct node *n, struct http_request *req)
{
    const char *force = http_req_param(req, "force");
    struct member_args *a;
    uint64_t id;

    if (!parse_node_id(req->caps[0], &id)) {
        api_error(n, req, 400, "bad_request", "bad member id");
        return false;
    }
    a = args_new(n, req);
    if (a != NULL) {
        a->id = id;
        a->force = force != NULL && strcmp(force, "true") == 0;
    }
    return a != NULL;
}

static void
removed_cb(void *arg, int rc)
{
    struct member_ctx *c = arg;

    change_finished(c->log, rc);
    c->log = NULL;
    if (rc != PC_OK) {
        api_error(c->n, c->req, 503, "unavailable", "removal failed: %s",
                  pc_strerror(rc));
        return;
    }
    api_json(
        c->n, c->req, 200,
        json_pack("{s:I, s:s}", "id", (json_int_t)c->id, "status", "removed"));
}

static void
handed_over_cb(void *arg, int rc)
{
    struct member_ctx *c = arg;

    transfer_done(c->n, c->req, rc);
    /* No longer the leader: send the client to the one that is. */
    if (api_leader_or_redirect(c->n, c->req)) {
        api_error(c->n, c->req, 503, "unavailable",
                  "could not hand leadership over; retry");
    }
}

static void
member_remove_allowed(struct node *n, struct http_request *req,
                      const struct fsm_result *res, void *ctx)
{
    struct member_args *a = ctx;
    struct clu_member m[64];
    struct member_ctx *c;
    size_t nm, voters = 0;
    bool found = false, voter = false;
    int rc;

    (void)res;
    nm = clu_members(n->clu, m, 64);
    for (size_t i = 0; i < nm; i++) {
        bool v = strcmp(m[i].role, "voter") == 0;

        voters += v;
        found |= m[i].id == a->id;
        voter |= v && m[i].id == a->id;
    }
    if (!found) {
        api_error(n, req, 404, "not_found", "no member %llu",
                  (unsigned long long)a->id);
        return;
    }
    /* Only a voter's removal lowers the count: a spare or standby (one
     * that never caught up, say) goes without ?force. */
    if (voter && voters - 1 < 3 && !a->force) {
        api_error(n, req, 409, "conflict",
                  "removing voter %llu would leave %zu voter%s (fewer than "
                  "3); add ?force=true to insist",
                  (unsigned long long)a->id, voters - 1,
                  voters - 1 == 1 ? "" : "s");
        return;
    }
    c = ctx_new(n, req, a->id);
    if (c == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    if (a->id == n->o.id) {
        transfer_asked(n, req, "removal of the leader", 0);
        rc = clu_transfer(n->clu, 0, handed_over_cb, c);
    } else {
        c->log = change_asked(n, req, "remove", a->id, NULL);
        rc = clu_remove(n->clu, a->id, removed_cb, c);
        if (rc != PC_OK) {
            change_finished(c->log, rc);
            c->log = NULL;
        }
    }
    if (rc != PC_OK) {
        api_error(n, req, rc == PC_ECONFLICT ? 409 : 503,
                  rc == PC_ECONFLICT ? "conflict" : "unavailable",
                  "cannot remove member %llu: %s", (unsigned long long)a->id,
                  rc == PC_ECONFLICT ? "a membership change is in flight"
                                     : pc_strerror(rc));
    }
}

void
api_members_remove(struct node *n, struct http_request *req)
{
    struct member_args *a = api_req(req)->parsed;

    propose_op(n, req,
               json_pack("{s:s, s:I, s:b}", "op", "member.remove", "node",
                         (json_int_t)a->id, "force", a->force),
               member_remove_allowed, a);
}

/* ---- POST /v1/leader/transfer ----------------------------------------- */

bool
api_leader_transfer_parse(struct node *n, struct http_request *req)
{
    struct member_args *a;
    uint64_t id = 0;

    if (req->body_len > 0) {
        json_t *b = api_body_object(n, req);
        if (b == NULL) {
            return false;
        }
        json_t *v = json_object_get(b, "id");
        if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1 ||
                          json_integer_value(v) > NODE_ID_MAX)) {
            json_decref(b);
            api_error(n, req, 400, "bad_request", "\"id\" must be a node id");
            return false;
        }
        id = v ? (uint64_t)json_integer_value(v) : 0;
        json_decref(b);
    }
    a = args_new(n, req);
    if (a != NULL) {
        a->id = id;
    }
    return a != NULL;
}

static void
transferred_cb(void *arg, int rc)
{
    struct member_ctx *c = arg;
    uint64_t lid = clu_leader(c->n->clu, NULL);

    transfer_done(c->n, c->req, rc);
    if (rc != PC_OK || lid == c->n->o.id) {
        api_error(c->n, c->req, 503, "unavailable",
                  "leadership did not move; retry");
        return;
    }
    api_json(c->n, c->req, 200,
             json_pack("{s:{s:I, s:s?}}", "leader", "id", (json_int_t)lid,
                       "client_url", fsm_member_url(c->n->fsm, lid)));
}

static void
transfer_allowed(struct node *n, struct http_request *req,
                 const struct fsm_result *res, void *ctx)
{
    struct member_args *a = ctx;
    struct member_ctx *c = ctx_new(n, req, a->id);
    int rc;

    (void)res;
    transfer_asked(n, req, "asked", a->id);
    rc = c == NULL ? PC_ENOMEM : clu_transfer(n->clu, a->id, transferred_cb, c);
    if (rc != PC_OK) {
        api_error(n, req, rc == PC_ENOTFOUND ? 404 : 503,
                  rc == PC_ENOTFOUND ? "not_found" : "unavailable",
                  "cannot transfer leadership: %s", pc_strerror(rc));
    }
}

void
api_leader_transfer(struct node *n, struct http_request *req)
{
    struct member_args *a = api_req(req)->parsed;
    json_t *x = json_pack("{s:s}", "op", "leader.transfer");

    if (x != NULL && a->id > 0 &&
        json_object_set_new(x, "node", json_integer((json_int_t)a->id)) != 0) {
        json_decref(x);
        x = NULL;
    }
    propose_op(n, req, x, transfer_allowed, a);
}
