/* SPDX-License-Identifier: MIT */
/*
 * Organisations and principals: creation (tokens are made here, on the node
 * that receives the request, and only their hash travels), token reissue,
 * revocation, listings and whoami. Scope rules are decided in apply.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "node/api.h"

/* A new token "pct_" + 32 random bytes base64url, and its hash in hex. */
static void
new_token(char tok[64], char hash_hex[PC_HASH_HEX_LEN + 1])
{
    uint8_t raw[32], h[PC_HASH_LEN];

    randombytes_buf(raw, sizeof(raw));
    memcpy(tok, "pct_", 4);
    sodium_bin2base64(tok + 4, 60, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    pc_hash(h, tok, strlen(tok));
    pc_hex(hash_hex, h, PC_HASH_LEN);
    sodium_memzero(raw, sizeof(raw));
}

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
    json_t *o = api_fact_payload(n, res->first_rev);

    (void)ctx;
    if (o == NULL) {
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    api_add_fact_meta(n, o, res->first_rev);
    api_json(n, req, 201, o);
}

void
api_orgs_create(struct http_request *req, void *arg)
{
    struct node *n = arg;
    char msg[200];

    if (!fsm_org_body_valid(req->body, req->body_len, msg)) {
        api_error(n, req, 400, "bad_request", "%s", msg);
        return;
    }
    if (!api_leader_or_redirect(n, req) || !api_auth_principal(n, req) ||
        !api_require_role(n, req, FSM_ROLE_AUTHORITY,
                          "creating organisations needs role authority")) {
        return;
    }
    api_propose(n, req, CMD_ORG_CREATE, NULL, true, NULL, org_created, NULL);
}

static void
orgs_list_run(struct node *n, struct http_request *req)
{
    const char **ids;
    size_t count, start = 0, limit = 100;
    const char *after = http_req_param(req, "after");
    const char *lim = http_req_param(req, "limit");
    json_t *items, *o;

    if (!api_auth_principal(n, req)) {
        return;
    }
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
api_orgs_list(struct http_request *req, void *arg)
{
    api_read(arg, req, orgs_list_run);
}

static void
orgs_get_run(struct node *n, struct http_request *req)
{
    const struct fsm_org *o;

    if (!api_auth_principal(n, req)) {
        return;
    }
    o = fsm_org(n->fsm, req->caps[0]);
    if (o == NULL) {
        api_error(n, req, 404, "not_found", "no org \"%s\"", req->caps[0]);
        return;
    }
    json_t *j = org_json(o);
    api_add_fact_meta(n, j, o->rev);
    api_json(n, req, 200, j);
}

void
api_orgs_get(struct http_request *req, void *arg)
{
    api_read(arg, req, orgs_get_run);
}

static json_t *
roles_json(unsigned roles)
{
    json_t *a = json_array();

    for (unsigned bit = 1; bit <= FSM_ROLE_AUDITOR; bit <<= 1) {
        if (roles & bit) {
            json_array_append_new(a, json_string(fsm_role_name(bit)));
        }
    }
    return a;
}

/* The token made for this request; NULL when a replay answers. */
static void
principal_created(struct node *n, struct http_request *req,
                  const struct fsm_result *res, void *ctx)
{
    const char *token = ctx;
    json_t *p = api_fact_payload(n, res->first_rev), *o;

    if (p == NULL) {
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    o = json_pack("{s:O, s:O, s:O}", "id", json_object_get(p, "id"), "org",
                  json_object_get(p, "org") ?: json_null(), "roles",
                  json_object_get(p, "roles"));
    json_decref(p);
    json_object_set_new(o, "token",
                        res->replayed || token == NULL ? json_null()
                                                       : json_string(token));
    api_json(n, req, 201, o);
}

void
api_principals_create(struct http_request *req, void *arg)
{
    struct node *n = arg;
    char msg[200], hash[PC_HASH_HEX_LEN + 1];
    char *tok;

    if (!fsm_principal_body_valid(req->body, req->body_len, msg)) {
        api_error(n, req, 400, "bad_request", "%s", msg);
        return;
    }
    if (!api_leader_or_redirect(n, req) || !api_auth_principal(n, req) ||
        !api_require_role(n, req, FSM_ROLE_AUTHORITY,
                          "creating principals needs role authority")) {
        return;
    }
    tok = http_req_alloc(req, 64);
    if (tok == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    new_token(tok, hash);
    api_propose(n, req, CMD_PRINCIPAL_CREATE, NULL, true,
                json_pack("{s:s}", "token_hash", hash), principal_created, tok);
}

static void
token_issued(struct node *n, struct http_request *req,
             const struct fsm_result *res, void *ctx)
{
    json_t *o = json_pack("{s:s?}", "token", res->replayed ? NULL : ctx);

    if (res->replayed) {
        json_object_set_new(o, "token", json_null());
    }
    api_json(n, req, 200, o);
}

void
api_principals_token(struct http_request *req, void *arg)
{
    struct node *n = arg;
    char hash[PC_HASH_HEX_LEN + 1];
    char *tok;

    if (!fsm_id_valid(req->caps[0], strlen(req->caps[0]))) {
        api_error(n, req, 400, "bad_request", "bad principal id");
        return;
    }
    if (!api_leader_or_redirect(n, req) || !api_auth_principal(n, req)) {
        return;
    }
    tok = http_req_alloc(req, 64);
    if (tok == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    new_token(tok, hash);
    api_propose(n, req, CMD_PRINCIPAL_TOKEN, req->caps[0], false,
                json_pack("{s:s}", "token_hash", hash), token_issued, tok);
}

static void
revoked(struct node *n, struct http_request *req, const struct fsm_result *res,
        void *ctx)
{
    json_t *p = api_fact_payload(n, res->first_rev), *o;

    (void)ctx;
    o = json_pack("{s:O, s:s}", "id",
                  p ? json_object_get(p, "id") : json_null(), "status",
                  "revoked");
    json_decref(p);
    api_json(n, req, 200, o);
}

void
api_principals_revoke(struct http_request *req, void *arg)
{
    struct node *n = arg;

    if (!fsm_id_valid(req->caps[0], strlen(req->caps[0]))) {
        api_error(n, req, 400, "bad_request", "bad principal id");
        return;
    }
    if (!api_leader_or_redirect(n, req) || !api_auth_principal(n, req) ||
        !api_require_role(n, req, FSM_ROLE_AUTHORITY,
                          "revoking principals needs role authority")) {
        return;
    }
    api_propose(n, req, CMD_PRINCIPAL_REVOKE, req->caps[0], false, NULL,
                revoked, NULL);
}

static void
whoami_run(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p;

    if (!api_auth_principal(n, req)) {
        return;
    }
    p = api_principal(n, req);
    api_json(n, req, 200,
             json_pack("{s:s, s:s?, s:o, s:b}", "id", p->id, "org", p->org,
                       "roles", roles_json(p->roles), "citizen", p->citizen));
}

void
api_whoami(struct http_request *req, void *arg)
{
    api_read(arg, req, whoami_run);
}
