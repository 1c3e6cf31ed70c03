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
 *
 * The failed-login limiter counts failures per client address (the
 * socket's, or X-Forwarded-For's behind --trusted-proxy) in a fixed
 * window of a minute. It only ever refuses requests whose token fails: a
 * valid token is checked first and served, so clients behind one address
 * (a NAT, a proxy) are not locked out by another's failures. A refused
 * request is told the real rest of the window in Retry-After.
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

static void count_failure(struct node *n, const char *ip);

/* 0 when `ip` may still fail, else the seconds left of its window. */
static unsigned
rate_limited(struct node *n, const char *ip)
{
    struct node_fail *f = pc_map_get(&n->sec.fails, ip, strlen(ip));
    int64_t left;

    if (f == NULL || f->failures < n->o.rate_limit) {
        return 0;
    }
    left = f->window_start_ms + FAIL_WINDOW_MS - pc_now_ms();
    return left <= 0 ? 0 : (unsigned)((left + 999) / 1000);
}

/* A failed authentication: 429 when the address is over the limit (the
 * failure is not counted then: the window does not grow), else counted
 * and answered 401 with `why`. */
static void
refuse(struct node *n, struct http_request *req, const char *why,
       const char *message)
{
    struct api_req *a = api_req(req);
    unsigned wait_s = rate_limited(n, a->client);

    if (wait_s > 0) {
        api_security_event(n, req, "rate_limited",
                           "too many failed authentications");
        a->retry_after_s = wait_s;
        api_error(n, req, 429, "rate_limited",
                  "too many failed authentications from this address; "
                  "retry in %u s",
                  wait_s);
        return;
    }
    count_failure(n, a->client);
    api_security_event(n, req, "auth_failure", why);
    api_error(n, req, 401, "unauthorized", "%s", message);
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
        f = pc_map_get_or_add(&n->sec.fails, ip, strlen(ip), sizeof(*f));
        if (f == NULL) {
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
    if (!api_auth_ready(n)) {
        api_error(n, req, 503, "unavailable",
                  "this node has not yet applied what it needs to check "
                  "tokens; retry shortly");
        return false;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        refuse(n, req, "malformed Authorization header",
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
        refuse(n, req, "unknown or revoked token",
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
