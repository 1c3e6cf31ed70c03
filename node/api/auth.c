/* SPDX-License-Identifier: MIT */
/*
 * Authentication: Bearer tokens checked against the principals this node
 * has applied, the per-address limit on failed authentications, and when a
 * node can judge a token at all.
 *
 * A node that restarts replays its raft log only once it has learned the
 * commit index from a leader; until then it does not know the principals
 * created since its last snapshot, and used to answer their valid tokens
 * `401 the token is unknown or revoked`, counting each toward the
 * address's failure limit (issue #14). It now answers 503 `unavailable`
 * (retryable) to every request that presents a token, and counts nothing,
 * until api_auth_ready says it can judge tokens:
 *
 *   - a leader: once its term's first barrier has applied (every entry
 *     committed before it is applied; the node serves no read before);
 *   - any other node: a leader is known, this node has applied up to the
 *     commit index it learned from it, genesis is applied, and that
 *     commit index reaches the last log index this node had at start, or
 *     its last log index now when raft has since replaced an uncommitted
 *     tail (so the entries it had on disk are applied, or were never
 *     committed).
 *
 * It then stays able (latched): later it lags as any follower does. The
 * public (no Authorization header) is served meanwhile, as it needs no
 * principal.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"

#define FAIL_WINDOW_MS 60000
#define FAIL_MAX_ADDRS 100000 /* an address flood cannot grow memory */

bool
api_auth_ready(struct node *n)
{
    uint64_t commit, start, last;

    if (n->sec.judges_tokens) {
        return true;
    }
    if (clu_is_leader(n->clu)) {
        n->sec.judges_tokens = n->reads.leader_ready;
        return n->sec.judges_tokens;
    }
    commit = clu_commit_index(n->clu);
    start = clu_start_index(n->clu);
    last = clu_last_index(n->clu);
    n->sec.judges_tokens = clu_leader(n->clu, NULL) != 0 &&
                           fsm_cluster_id(n->fsm) != NULL &&
                           clu_applied_index(n->clu) >= commit &&
                           commit >= (last < start ? last : start);
    return n->sec.judges_tokens;
}

static bool
rate_limited(struct node *n, const char *ip)
{
    struct node_fail *f = pc_map_get(&n->sec.fails, ip, strlen(ip));

    if (f == NULL || pc_now_ms() - f->window_start_ms >= FAIL_WINDOW_MS) {
        return false;
    }
    return f->failures >= n->o.rate_limit;
}

static void
count_failure(struct node *n, const char *ip)
{
    struct node_fail *f = pc_map_get(&n->sec.fails, ip, strlen(ip));
    int64_t now = pc_now_ms();

    if (f == NULL) {
        if (n->sec.fails.len > FAIL_MAX_ADDRS) {
            return;
        }
        f = pc_calloc(1, sizeof(*f));
        if (f == NULL || pc_map_put(&n->sec.fails, ip, strlen(ip), f, NULL)) {
            pc_free(f);
            return;
        }
    }
    if (now - f->window_start_ms >= FAIL_WINDOW_MS) {
        f->window_start_ms = now;
        f->failures = 0;
    }
    f->failures++;
}

bool
api_authenticate(struct node *n, struct http_request *req)
{
    struct api_req *a = api_req(req);
    const char *h = http_req_header(req, "Authorization");
    const struct fsm_principal *p;
    uint8_t th[PC_HASH_LEN];
    const char *tok;

    a->principal[0] = '\0';
    a->authed = false;
    if (h == NULL) {
        return true; /* the anonymous public */
    }
    if (rate_limited(n, req->client_ip)) {
        n->sec.rate_limited++;
        api_security_event(n, req, "rate_limited",
                           "too many failed authentications");
        api_error(n, req, 429, "rate_limited",
                  "too many failed authentications from this address");
        return false;
    }
    if (!api_auth_ready(n)) {
        api_error(n, req, 503, "unavailable",
                  "this node has not yet applied what it needs to check "
                  "tokens; retry shortly");
        return false;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        count_failure(n, req->client_ip);
        api_security_event(n, req, "auth_failure",
                           "malformed Authorization header");
        api_error(n, req, 401, "unauthorized",
                  "the Authorization header must be \"Bearer <token>\"");
        return false;
    }
    tok = h + 7;
    while (*tok == ' ') {
        tok++;
    }
    pc_hash(th, tok, strlen(tok));
    p = fsm_principal_by_token(n->fsm, th);
    if (p == NULL) {
        count_failure(n, req->client_ip);
        api_security_event(n, req, "auth_failure", "unknown or revoked token");
        api_error(n, req, 401, "unauthorized",
                  "the token is unknown or revoked");
        return false;
    }
    snprintf(a->principal, sizeof(a->principal), "%s", p->id);
    a->authed = true;
    return true;
}

const struct fsm_principal *
api_principal(struct node *n, struct http_request *req)
{
    struct api_req *a = api_req(req);

    return a->authed ? fsm_principal(n->fsm, a->principal) : NULL;
}
