/* SPDX-License-Identifier: MIT */
/*
 * Principal routes: creation (tokens are made here, on the node that
 * receives the request, and only their hash travels), token reissue,
 * revocation, and whoami. Who may do which is decided in apply
 * (node/fsm/rules_org.c).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "node/api/api_int.h"

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

/* Propose `type` with a token made here for it: only its hash goes into
 * the command (the leader's extra); `done` gets the token as its ctx. */
static void
propose_with_token(struct node *n, struct http_request *req, uint32_t type,
                   const char *target, bool with_body, api_done_fn done)
{
    char hash[PC_HASH_HEX_LEN + 1];
    char *tok = http_req_alloc(req, 64);

    if (tok == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    new_token(tok, hash);
    api_propose(n, req, type, target, with_body,
                json_pack("{s:s}", "token_hash", hash), done, tok);
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

bool
api_principals_create_parse(struct node *n, struct http_request *req)
{
    char msg[200];

    if (!fsm_principal_body_valid(req->body, req->body_len, msg)) {
        api_error(n, req, 400, "bad_request", "%s", msg);
        return false;
    }
    return true;
}

void
api_principals_create(struct node *n, struct http_request *req)
{
    propose_with_token(n, req, CMD_PRINCIPAL_CREATE, NULL, true,
                       principal_created);
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

bool
api_principals_id_parse(struct node *n, struct http_request *req)
{
    if (!fsm_id_valid(req->caps[0], strlen(req->caps[0]))) {
        api_error(n, req, 400, "bad_request", "bad principal id");
        return false;
    }
    return true;
}

void
api_principals_token(struct node *n, struct http_request *req)
{
    propose_with_token(n, req, CMD_PRINCIPAL_TOKEN, req->caps[0], false,
                       token_issued);
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
api_principals_revoke(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_PRINCIPAL_REVOKE, req->caps[0], false, NULL,
                revoked, NULL);
}

void
api_whoami(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p = api_principal(n, req);

    api_json(n, req, 200,
             json_pack("{s:s, s:s?, s:o, s:b}", "id", p->id, "org", p->org,
                       "roles", roles_json(p->roles), "citizen", p->citizen));
}
