/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the API route files: authentication, leader redirects,
 * batched linearizable reads, proposals and the JSON answers with the
 * revision and time headers every answer carries.
 */
#ifndef PC_API_H
#define PC_API_H

#include <jansson.h>

#include "node/cmd.h"
#include "node/node.h"

/* Per-request state, in the request's arena. */
struct api_req {
    struct node *n;
    int64_t start_ms;
    char principal[129]; /* authenticated principal id; "" = public */
    bool authed;         /* a token was presented and accepted */
};

static inline struct api_req *
api_req(struct http_request *req)
{
    return req->data;
}

/*
 * Authenticate: no Authorization header is the public (returns true with
 * principal ""); a bad, unknown or revoked token answers 401 (or 429 when
 * the address failed too often) and returns false.
 */
bool api_auth(struct node *n, struct http_request *req);

/* Authenticate and require a principal (401 for the public). */
bool api_auth_principal(struct node *n, struct http_request *req);

/* The current principal (after api_auth), or NULL for the public. */
const struct fsm_principal *api_principal(struct node *n,
                                          struct http_request *req);

/* Require one of `roles` (a mask); answers 403 and returns false if not. */
bool api_require_role(struct node *n, struct http_request *req, unsigned roles,
                      const char *what);

/*
 * Whether this node may serve a write or linearizable read now; otherwise
 * answers 307 to the leader or 503 and returns false.
 */
bool api_leader_or_redirect(struct node *n, struct http_request *req);

/* Whether the request asked for consistency=stale. */
bool api_stale(struct http_request *req);

/*
 * Serve a read: stale reads run now (after min_revision), linearizable ones
 * on the leader after the next raft barrier. `run` answers the request.
 */
typedef void (*api_read_fn)(struct node *n, struct http_request *req);
void api_read(struct node *n, struct http_request *req, api_read_fn run);

/* Answer JSON `o` (stolen) with `status`, revision and time headers. */
void api_json(struct node *n, struct http_request *req, int status, json_t *o);

/* Answer `len` bytes of JSON text with `status`, revision and time headers. */
void api_json_text(struct node *n, struct http_request *req, int status,
                   const char *json, size_t len);

/*
 * NULL when this node's clock may stamp commands, else why not: more than
 * CLOCK_BEHIND_MS behind ledger time, or more than CLOCK_AHEAD_MS ahead of
 * the ledger time last stamped by a live leader (DESIGN.md, ledger time).
 */
#define CLOCK_BEHIND_MS 5000
#define CLOCK_AHEAD_MS  3600000
const char *api_clock_skew(struct node *n);

/* Answer 507 insufficient_storage: the node's disk is full (n->disk_low). */
void api_disk_full(struct node *n, struct http_request *req);

/* Answer the API error body with `status` and `code`. */
void api_error(struct node *n, struct http_request *req, int status,
               const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Parse the body as a JSON object; answers 400 and returns NULL if not. */
json_t *api_body_object(struct node *n, struct http_request *req);

/*
 * Called with the result of a proposed command; builds the success answer
 * (errors and replays of rejections are answered by the caller).
 */
typedef void (*api_done_fn)(struct node *n, struct http_request *req,
                            const struct fsm_result *res, void *ctx);

/*
 * Propose a command built from the request: `type`, path `target` (may be
 * NULL), the request body (when `with_body`) and `extra` (leader-made JSON,
 * stolen, may be NULL). The Idempotency-Key header is checked here. On
 * success `done` builds the answer; rejections, 503 outcome_unknown and
 * 422 idempotency_mismatch are answered here.
 */
void api_propose(struct node *n, struct http_request *req, uint32_t type,
                 const char *target, bool with_body, json_t *extra,
                 api_done_fn done, void *ctx);
/* api_propose with `body` (NULL: none) and `extra` (NULL: none) given
 * as bytes; an Idempotency-Key's fingerprint still covers the request's
 * own body when `body` is given. */
void api_propose_bytes(struct node *n, struct http_request *req, uint32_t type,
                       const char *target, const struct pc_slice *body,
                       const char *extra, api_done_fn done, void *ctx);

/* Propose a node-internal command (principal "system"); no HTTP request. */
int api_propose_system(struct node *n, uint32_t type, const char *target,
                       json_t *extra,
                       void (*cb)(struct node *n, int rc,
                                  const struct fsm_result *res));

/* The payload of fact `rev` as JSON (new reference), or NULL. */
json_t *api_fact_payload(struct node *n, uint64_t rev);

/* Add the fact's revision, hash and time to `o`. */
void api_add_fact_meta(struct node *n, json_t *o, uint64_t rev);

/* Serve the pending reads after a barrier (node.c's timer also kicks it). */
void api_reads_kick(struct node *n);
/*
 * Propose the read-audit events queued since the last batch (api_records.c)
 * when ~10 ms have passed, 1000 are waiting or the node stops; leadership
 * lost drops them (as a crash would). Called by api_batch_flush.
 */
void api_audit_flush(struct node *n);
/* Append the record and read-audit counters to a /metrics body. */
void api_records_metrics(struct node *n, struct pc_buf *b);
/* Free the read-audit queue (node_release). */
void api_audit_release(struct node *n);
/* Propose the commands gathered this loop turn as one raft entry. */
void api_batch_flush(struct node *n);
/* Serve or expire min_revision waiters (all with 503 if `fail_all`). */
void api_waiters_check(struct node *n, bool fail_all);
/* Fail every queued read with 503 (leadership lost, shutting down). */
void api_reads_fail(struct node *n, int status, const char *code);

/* Route handlers (api_ops.c, api_auth.c). */
void api_healthz(struct http_request *req, void *arg);
void api_readyz(struct http_request *req, void *arg);
void api_status(struct http_request *req, void *arg);
void api_metrics(struct http_request *req, void *arg);
void api_ledger(struct http_request *req, void *arg);
void api_ledger_proof(struct http_request *req, void *arg);
void api_ledger_consistency(struct http_request *req, void *arg);
void api_backup(struct http_request *req, void *arg);
void api_members_add(struct http_request *req, void *arg);
void api_members_remove(struct http_request *req, void *arg);
void api_leader_transfer(struct http_request *req, void *arg);
void api_orgs_create(struct http_request *req, void *arg);
void api_orgs_list(struct http_request *req, void *arg);
void api_orgs_get(struct http_request *req, void *arg);
void api_principals_create(struct http_request *req, void *arg);
void api_principals_token(struct http_request *req, void *arg);
void api_principals_revoke(struct http_request *req, void *arg);
void api_whoami(struct http_request *req, void *arg);
/* Catalog entries (api_catalog.c). */
void api_catalog_create(struct http_request *req, void *arg);
void api_catalog_list(struct http_request *req, void *arg);
void api_catalog_get(struct http_request *req, void *arg);
void api_catalog_history(struct http_request *req, void *arg);
void api_catalog_update(struct http_request *req, void *arg);
void api_catalog_submit(struct http_request *req, void *arg);
void api_catalog_review(struct http_request *req, void *arg);
void api_catalog_retire(struct http_request *req, void *arg);
/* Records (api_records.c). */
void api_records_put(struct http_request *req, void *arg);
void api_records_get(struct http_request *req, void *arg);
void api_records_history(struct http_request *req, void *arg);
void api_records_list(struct http_request *req, void *arg);
void api_records_batch(struct http_request *req, void *arg);
void api_records_retire(struct http_request *req, void *arg);
void api_records_correct(struct http_request *req, void *arg);

#endif
