/* SPDX-License-Identifier: MIT */
/*
 * What the API's files share; never included outside node/api/. The route
 * table (table.c) declares each route's needs; the machinery applies them
 * in the contract's order before a route's `run` is called, so a route file
 * holds only its syntax checks (`parse`) and its work (`run`):
 *
 *   table.c       the route table, the needs and the common handler
 *   answer.c      answers, errors, redirects, facts in answers
 *   parse.c       request syntax shared by routes (ids, params, bodies)
 *   auth.c        authentication, the failed-login limiter, when a node
 *                 can judge tokens
 *   propose.c     proposals and the per-loop-turn command batch
 *   read.c        linearizable reads, the shared barrier, min_revision
 *   read_audit.c  the read-audit queue (audited reads, CMD_AUDIT)
 *   metrics.c     GET /metrics, the per-route counters and latencies,
 *                 request ids and the per-request log line
 *   health.c cluster.c ledger.c orgs.c principals.c catalog.c records.c
 *   share.c lists.c open.c objections.c reports.c audit.c:
 *                 one route family each
 */
#ifndef PC_API_INT_H
#define PC_API_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "node/api/api.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "node/log.h"
#include "node/node.h"

/* ---- the route table (table.c) ----------------------------------------- */

/*
 * What a route needs before it runs. Exactly one of API_WRITE, API_READ and
 * API_LOCAL; API_TOKEN or API_NOAUTH at most.
 */
enum api_need {
    /* A principal is required: the public (no Authorization) gets 401.
     * Without it the public is let through and a token, when one is
     * presented, must still be valid. */
    API_TOKEN = 1 << 0,
    /* No authentication at all: the answer is the same for everyone
     * (health, readiness, metrics, status); a token is not looked at. */
    API_NOAUTH = 1 << 1,
    /* Proposed through raft: served by the leader only (307, or 503 when
     * no leader is known); 507 on a full disk, 503 clock_skew. */
    API_WRITE = 1 << 2,
    /* Reads replicated state: linearizable (the leader, after the shared
     * barrier) unless ?consistency=stale, which any node serves from its
     * applied state; ?min_revision=N waits up to 1 s for revision N. */
    API_READ = 1 << 3,
    /* Node-local: answered from this node's own state, never redirected,
     * no barrier. */
    API_LOCAL = 1 << 4,
    /* Preconditions an API_WRITE route honours (parse.c, api_precond_parse):
     * If-Match: "<version>" and If-None-Match: *. A write route without the
     * flag refuses the header with 400 rather than ignore it, so no
     * precondition is ever dropped; reads ignore both. */
    API_IF_MATCH = 1 << 5,
    API_IF_NONE_MATCH = 1 << 6,
    /* Still served by a node removed from the cluster (health, metrics,
     * status: what an operator looks at); every other route, /readyz
     * included, answers 503 removed there. */
    API_WHEN_REMOVED = 1 << 7,
    /* An API_READ of an entry's records (the entry in caps[0]): a
     * linearizable read through a grant skips the barrier, as its audit
     * fact linearizes it (api_audit_first). */
    API_GRANT = 1 << 8,
};

/*
 * Syntax only (no replicated state): answer 400/413 and return false
 * (keeping nothing), or return true. May stash parsed values for `run` in
 * api_req(req)->parsed, allocated in the request's arena
 * (http_req_alloc). A value on the heap also sets api_req(req)->release,
 * which the common handler calls once `run` returned or the request was
 * answered before reaching it; only API_WRITE and API_LOCAL routes may do
 * that (their `run` is called in the same loop turn), and `run` must copy
 * what it keeps.
 */
typedef bool (*api_parse_fn)(struct node *n, struct http_request *req);
/* The route's work, once its needs are met. Answers the request, now or
 * later (a proposal, a worker thread). */
typedef void (*api_run_fn)(struct node *n, struct http_request *req);

struct api_route {
    const char *method;  /* "GET", "POST", ... (a GET route serves HEAD) */
    const char *pattern; /* "/v1/catalog/{id}": {} captures a segment */
    unsigned needs;      /* enum api_need */
    api_parse_fn parse;  /* NULL: nothing to check */
    api_run_fn run;
};

/* X-Request-Id: 1-128 bytes of [A-Za-z0-9._:/@+=-] (else ignored). */
#define API_REQUEST_ID_MAX 128

/* Per-request state, in the request's arena (api_handle sets it up). */
struct api_req {
    struct node *n;
    const struct api_route *route; /* NULL before a route matched */
    /* When it arrived (pc_mono_ns). */
    uint64_t start_ns;
    /* The client's address: the socket's peer, or X-Forwarded-For's
     * behind --trusted-proxy. */
    const char *client;
    /* X-Request-Id as the client sent it (request_id_given), or one made
     * here; echoed in the answer and in every log line about the request.
     * A client's id may repeat, so a write's facts then get one made here
     * (fact_request_id), as does a request's second command
     * (request_id_used). */
    char request_id[API_REQUEST_ID_MAX + 1];
    bool request_id_given;
    bool request_id_used;
    char fact_request_id[64];
    /* Retry-After of a 429 or 503 in seconds (0: 1). */
    unsigned retry_after_s;
    char principal[129]; /* the authenticated principal; "" = public */
    bool authed;         /* a token was presented and accepted */
    uint64_t if_match;   /* If-Match's version; 0: none (API_IF_MATCH) */
    bool if_none_match;  /* If-None-Match: * (API_IF_NONE_MATCH) */
    void *parsed;        /* what `parse` stashed for `run` */
    void (*release)(void *parsed);
};

static inline struct api_req *
api_req(struct http_request *req)
{
    return req->data;
}

/* ---- answers (answer.c) ------------------------------------------------ */

/* Answer JSON `o` (stolen) with `status`, revision and time headers. */
void api_json(struct node *n, struct http_request *req, int status, json_t *o);

/* Answer `len` bytes of JSON text with `status`, revision and time headers. */
void api_json_text(struct node *n, struct http_request *req, int status,
                   const char *json, size_t len);

/* Answer the JSON text in `b` (released here) with `status`, or 503 when
 * `rc` (how building it went) is not PC_OK. */
void api_json_buf(struct node *n, struct http_request *req, int status,
                  struct pc_buf *b, int rc);

/* Answer the API error body with `status` and `code`. */
void api_error(struct node *n, struct http_request *req, int status,
               const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* api_error whose error object also holds the members of `extra` (an
 * object, stolen, may be NULL): "field", "current_version", ... */
void api_error_with(struct node *n, struct http_request *req, int status,
                    const char *code, json_t *extra, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* 400 bad_request naming `field` (none when NULL or ""). */
void api_bad_field(struct node *n, struct http_request *req, const char *field,
                   const char *msg);

/*
 * Record a security event of `kind` for `req` (node_security_event_by):
 * its client address, its principal when authenticated, its route.
 */
void api_security_event(struct node *n, struct http_request *req,
                        const char *kind, const char *detail);

/*
 * 403 forbidden for a read an fsm access rule refused: counted as a denial
 * and recorded as a security event (writes are refused in apply instead,
 * as rejection facts).
 */
void api_denied(struct node *n, struct http_request *req, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Answer a refused command from its result (and its rejection fact's
 * "detail": current_version, field, key, index). */
void api_answer_rejection(struct node *n, struct http_request *req,
                          const struct fsm_result *res);

/*
 * Whether this node is the leader and may serve a write or linearizable
 * read now; otherwise answers 307 to the leader (or 503 when none is known
 * or a transfer is under way) and returns false.
 */
bool api_leader_or_redirect(struct node *n, struct http_request *req);

/* Answer 507 insufficient_storage: the node's disk is full. */
void api_disk_full(struct node *n, struct http_request *req);

/* Answer a request whose command or barrier could not be proposed (`rc`:
 * 307 not the leader, 507 disk full, else 503 naming `what`). */
void api_unproposed(struct node *n, struct http_request *req, int rc,
                    const char *what);

/* ETag: "<version>". */
void api_set_etag(struct http_request *req, uint64_t version);

/* The payload of fact `rev` as JSON (new reference), or NULL. */
json_t *api_fact_payload(struct node *n, uint64_t rev);

/* Add the fact's revision, hash, time and version to `o`. */
void api_add_fact_meta(struct node *n, json_t *o, uint64_t rev);

/* The payload of fact `rev` with its meta (api_add_fact_meta): the object
 * whose version it is (new reference), or NULL. */
json_t *api_fact_object(struct node *n, uint64_t rev);

/* A hash as a JSON string of hex digits (new reference). */
json_t *api_hex_json(const uint8_t h[PC_HASH_LEN]);

/* Append `,"<name>":"<hex of len bytes>"` to JSON text being written in
 * `b`: PC_OK or PC_ENOMEM. */
int api_put_hex(struct pc_buf *b, const char *name, const uint8_t *p,
                size_t len);

/*
 * Answer a page of a list: 200 with the list envelope {"items": `items`
 * (stolen), "next": `next`, the cursor of the next page, or null when
 * NULL}; 503 when `items` is NULL (out of memory while building it).
 */
void api_list(struct node *n, struct http_request *req, json_t *items,
              const char *next);

/* ---- request syntax (parse.c) ------------------------------------------ */

/* The body as a JSON object (new reference); answers 400, returns NULL. */
json_t *api_body_object(struct node *n, struct http_request *req);

/* One of the fsm's syntax checks of a body (fsm_*_body_valid). */
typedef bool (*api_body_check_cb)(const void *body, size_t len, char *msg,
                                  char *field);
/* The body through `check`; false once answered 400 naming the field. */
bool api_body_valid(struct node *n, struct http_request *req,
                    api_body_check_cb check);

/* A record route's path: an entry id in caps[0] (api_entry_path_ok), and
 * a record key in caps[1] (api_record_path_ok); false once answered 400
 * naming the one at fault. */
bool api_entry_path_ok(struct node *n, struct http_request *req);
bool api_record_path_ok(struct node *n, struct http_request *req);

/*
 * Query parameter `name` as a whole number >= `min`: PC_OK (`*out` set),
 * PC_ENOTFOUND when absent (`*out` untouched), or answers 400 naming it
 * and returns PC_EINVAL.
 */
int api_param_u64(struct node *n, struct http_request *req, const char *name,
                  uint64_t min, uint64_t *out);

/* ?limit=1..1000, default 100; false once answered 400. */
#define API_LIST_DEFAULT 100
#define API_LIST_MAX     1000
bool api_param_limit(struct node *n, struct http_request *req, size_t *out);

/* Each of the query parameters `names` (NULL-terminated) that is given
 * must be an id (fsm_id_valid); false once answered 400 naming it. */
bool api_param_ids(struct node *n, struct http_request *req,
                   const char *const *names);

/*
 * The cursor of a listing that answers every page as of its first page's
 * revision: base64url of the 8-byte big-endian revision and the last key
 * (an entry id or record key) of the page. api_cursor_decode reads it
 * into `key` (room for FSM_RECORD_KEY_MAX bytes): true with a revision
 * from 1. api_cursor_put appends it as a JSON string: PC_OK, PC_ENOMEM.
 */
bool api_cursor_decode(const char *s, uint64_t *rev, uint8_t *key,
                       size_t *key_len);
int api_cursor_put(struct pc_buf *out, uint64_t rev, const uint8_t *key,
                   size_t key_len);

/* Whether the request asked for consistency=stale. */
bool api_stale(struct http_request *req);

/* The preconditions of a write, as api_precond_parse read them. */
struct api_precond {
    uint64_t if_match;  /* 0: none */
    bool if_none_match; /* If-None-Match: * */
};

/*
 * The preconditions of `req` to a route with `needs`, by one rule for
 * every route: on an API_WRITE route, If-Match ("<n>" or n, n by
 * fsm_version_parse from 1) and If-None-Match (`*`) are taken, each at
 * most once and not both, only where the route honours them (API_IF_MATCH,
 * API_IF_NONE_MATCH); If-Unmodified-Since never (there are no dates to
 * compare). Other routes ignore them (a cache's conditional GET). True with
 * `*out` set, or false with the header in `*field` and why in `*msg`:
 * a precondition is taken exactly or the request refused, never dropped.
 */
bool api_precond_parse(const struct http_request *req, unsigned needs,
                       struct api_precond *out, const char **field,
                       const char **msg);

/* api_precond_parse into api_req(req), or answer 400 and return false
 * (the common handler's step 2). */
bool api_preconditions(struct node *n, struct http_request *req,
                       unsigned needs);

/*
 * Put the preconditions `p` into the leader's extra `x` as apply reads
 * them ("if_match": n, "if_none_match": true). 0 or -1 (out of memory).
 */
int api_precond_extra(json_t *x, const struct api_precond *p);

/* ---- authentication (auth.c) ------------------------------------------- */

/*
 * Authenticate: no Authorization header is the public (true, principal
 * ""); a malformed, unknown or revoked token answers 401 (429 when the
 * address failed too often; 503 while this node cannot judge tokens yet,
 * see api_auth_ready) and returns false.
 */
bool api_authenticate(struct node *n, struct http_request *req);

/* The authenticated principal, or NULL for the public. */
const struct fsm_principal *api_principal(struct node *n,
                                          struct http_request *req);

/* ---- proposals (propose.c) --------------------------------------------- */

/*
 * Called with the result of a proposed command that succeeded; builds the
 * answer. Refusals (rejection facts), 503 outcome_unknown and 422
 * idempotency_mismatch are answered by api_propose.
 */
typedef void (*api_done_fn)(struct node *n, struct http_request *req,
                            const struct fsm_result *res, void *ctx);

/*
 * Propose a command built from the request: `type`, path `target` (may be
 * NULL), the request body (when `with_body`) and `extra` (leader-made JSON,
 * stolen, may be NULL). The Idempotency-Key header is checked here.
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

/* api_propose_system with a context for `cb`. */
typedef void (*api_system_arg_cb)(struct node *n, int rc,
                                  const struct fsm_result *res, void *arg);
int api_propose_system_arg(struct node *n, uint32_t type, const char *target,
                           json_t *extra, api_system_arg_cb cb, void *arg);

/* A node-internal command with a `body` (copied; may be NULL) and `extra`
 * JSON text (may be NULL): what an audit batch of encoding 2 is. On an
 * error `cb` is not called. */
int api_propose_system_body(struct node *n, uint32_t type,
                            const struct pc_slice *body, const char *extra,
                            api_system_arg_cb cb, void *arg);

/* Flush the read-audit queue into the batch (read_audit.c; propose.c). */
void api_audit_flush(struct node *n);

/* ---- reads (read.c) ---------------------------------------------------- */

/*
 * Serve an API_READ route: linearizable ones after the next barrier (the
 * caller checked leadership), then min_revision, then `run`.
 */
void api_read_start(struct node *n, struct http_request *req, api_run_fn run);

/* ---- the read-audit queue (read_audit.c) ------------------------------- */

/*
 * An audited read may be served here now: this node leads (else 307), its
 * disk has room for the audit fact (else 507) and the queue is not full
 * (else 503). False once answered.
 */
bool api_audited_read_ok(struct node *n, struct http_request *req);

/*
 * Queue one audit event for the current principal. `key` may be NULL,
 * `version` 0 and `count` -1 when they do not apply.
 */
void api_audit_add(struct node *n, struct http_request *req, const char *action,
                   const char *entry, const char *key, uint64_t version,
                   long count);

/*
 * Queue the event of a read through a grant (`via`, the grant's id) and
 * hold its answer, `status` and the JSON in `body` (taken over; `body` is
 * left empty), until the audit fact holding the event has committed; if it
 * does not, the read is answered 503 (or 507) instead: fail closed. The
 * caller checked api_audited_read_ok.
 */
void api_audit_hold(struct node *n, struct http_request *req,
                    const char *action, const char *entry, const char *key,
                    uint64_t version, long count, const char *via, int status,
                    struct pc_buf *body);

/*
 * Whether a linearizable read of an API_GRANT route (the entry in
 * caps[0]) goes through a grant on this leader now, so that its audit
 * fact linearizes it and it needs no barrier: the common handler then runs
 * it at once (its answer waits for that fact). Looks the token up without
 * counting or answering anything.
 */
bool api_audit_first(struct node *n, struct http_request *req);

/* Append the read-audit counters to a /metrics body (as metrics.c's
 * conventions say). */
void api_audit_metrics(struct node *n, struct pc_buf *b);

/* ---- metrics and request ids (metrics.c) ------------------------------- */

/* The route table: `*out` its rows, returns their count (table.c). */
size_t api_routes(const struct api_route **out);

/* Take a valid X-Request-Id from `req`, or make one (api_handle). */
void api_request_id(struct node *n, struct http_request *req,
                    struct api_req *a);

/* Whether `id` is a request id a client may give (X-Request-Id). */
bool api_request_id_ok(const char *id);

/*
 * The fields every log line about `req` carries (request_id, and the
 * principal once known), then `more` (may be NULL): a LOG_END-terminated
 * array in `out` (room for `cap`, at least 3 + those of `more`).
 */
const struct log_field *api_log_fields(struct http_request *req,
                                       const struct log_field *more,
                                       struct log_field *out, size_t cap);

/* ---- route families: `parse` and `run` of every route in the table ---- */

/* health.c: node-local state. */
void api_healthz(struct node *n, struct http_request *req);
void api_readyz(struct node *n, struct http_request *req);
void api_status(struct node *n, struct http_request *req);
void api_metrics(struct node *n, struct http_request *req);

/* cluster.c: membership and leadership (operations decided in apply). */
bool api_members_add_parse(struct node *n, struct http_request *req);
void api_members_add(struct node *n, struct http_request *req);
bool api_members_remove_parse(struct node *n, struct http_request *req);
void api_members_remove(struct node *n, struct http_request *req);
bool api_leader_transfer_parse(struct node *n, struct http_request *req);
void api_leader_transfer(struct node *n, struct http_request *req);

/* ledger.c: root, proofs, facts, digests, backup. */
bool api_ledger_parse(struct node *n, struct http_request *req);
void api_ledger(struct node *n, struct http_request *req);
bool api_ledger_proof_parse(struct node *n, struct http_request *req);
void api_ledger_proof(struct node *n, struct http_request *req);
bool api_ledger_consistency_parse(struct node *n, struct http_request *req);
void api_ledger_consistency(struct node *n, struct http_request *req);
bool api_ledger_facts_parse(struct node *n, struct http_request *req);
void api_ledger_facts(struct node *n, struct http_request *req);
bool api_ledger_digests_parse(struct node *n, struct http_request *req);
void api_ledger_digests(struct node *n, struct http_request *req);
void api_backup(struct node *n, struct http_request *req);

/* orgs.c */
bool api_orgs_create_parse(struct node *n, struct http_request *req);
void api_orgs_create(struct node *n, struct http_request *req);
void api_orgs_list(struct node *n, struct http_request *req);
void api_orgs_get(struct node *n, struct http_request *req);

/* principals.c (and whoami) */
bool api_principals_create_parse(struct node *n, struct http_request *req);
void api_principals_create(struct node *n, struct http_request *req);
bool api_principals_id_parse(struct node *n, struct http_request *req);
void api_principals_token(struct node *n, struct http_request *req);
void api_principals_revoke(struct node *n, struct http_request *req);
void api_whoami(struct node *n, struct http_request *req);

/* catalog.c; and the catalog entries in id order after `after` (NULL:
 * from the first), each given to `cb` until it returns false. */
typedef bool (*api_entry_cb)(void *arg, const struct fsm_entry *e);
void api_entries_each(struct node *n, const char *after, api_entry_cb cb,
                      void *arg);
bool api_catalog_create_parse(struct node *n, struct http_request *req);
void api_catalog_create(struct node *n, struct http_request *req);
bool api_catalog_list_parse(struct node *n, struct http_request *req);
void api_catalog_list(struct node *n, struct http_request *req);
bool api_catalog_id_parse(struct node *n, struct http_request *req);
void api_catalog_get(struct node *n, struct http_request *req);
bool api_catalog_history_parse(struct node *n, struct http_request *req);
void api_catalog_history(struct node *n, struct http_request *req);
bool api_catalog_update_parse(struct node *n, struct http_request *req);
void api_catalog_update(struct node *n, struct http_request *req);
void api_catalog_submit(struct node *n, struct http_request *req);
bool api_catalog_review_parse(struct node *n, struct http_request *req);
void api_catalog_review(struct node *n, struct http_request *req);
bool api_catalog_retire_parse(struct node *n, struct http_request *req);
void api_catalog_retire(struct node *n, struct http_request *req);

/* records.c */
bool api_records_put_parse(struct node *n, struct http_request *req);
void api_records_put(struct node *n, struct http_request *req);
bool api_records_batch_parse(struct node *n, struct http_request *req);
void api_records_batch(struct node *n, struct http_request *req);
bool api_records_retire_parse(struct node *n, struct http_request *req);
void api_records_retire(struct node *n, struct http_request *req);
bool api_records_correct_parse(struct node *n, struct http_request *req);
void api_records_correct(struct node *n, struct http_request *req);
bool api_records_get_parse(struct node *n, struct http_request *req);
void api_records_get(struct node *n, struct http_request *req);
bool api_records_history_parse(struct node *n, struct http_request *req);
void api_records_history(struct node *n, struct http_request *req);
bool api_records_list_parse(struct node *n, struct http_request *req);
void api_records_list(struct node *n, struct http_request *req);

/* share.c: share requests and grants. */
bool api_share_create_parse(struct node *n, struct http_request *req);
void api_share_create(struct node *n, struct http_request *req);
bool api_share_decide_parse(struct node *n, struct http_request *req);
void api_share_decide(struct node *n, struct http_request *req);
bool api_share_list_parse(struct node *n, struct http_request *req);
void api_share_list(struct node *n, struct http_request *req);
bool api_share_id_parse(struct node *n, struct http_request *req);
void api_share_get(struct node *n, struct http_request *req);
bool api_grant_list_parse(struct node *n, struct http_request *req);
void api_grant_list(struct node *n, struct http_request *req);
bool api_grant_id_parse(struct node *n, struct http_request *req);
void api_grant_get(struct node *n, struct http_request *req);
bool api_grant_revoke_parse(struct node *n, struct http_request *req);
void api_grant_revoke(struct node *n, struct http_request *req);

/* lists.c: the responsibility, demand, negative and open lists. */
bool api_lists_parse(struct node *n, struct http_request *req);
void api_lists_responsibility(struct node *n, struct http_request *req);
void api_lists_demand(struct node *n, struct http_request *req);
void api_lists_negative(struct node *n, struct http_request *req);
void api_lists_open(struct node *n, struct http_request *req);

/* open.c: open requests and calendars (articles 22-23). */
bool api_open_create_parse(struct node *n, struct http_request *req);
void api_open_create(struct node *n, struct http_request *req);
bool api_open_decide_parse(struct node *n, struct http_request *req);
void api_open_decide(struct node *n, struct http_request *req);
bool api_open_list_parse(struct node *n, struct http_request *req);
void api_open_list(struct node *n, struct http_request *req);
bool api_open_get_parse(struct node *n, struct http_request *req);
void api_open_get(struct node *n, struct http_request *req);
bool api_calendar_put_parse(struct node *n, struct http_request *req);
void api_calendar_put(struct node *n, struct http_request *req);
bool api_calendar_get_parse(struct node *n, struct http_request *req);
void api_calendar_get(struct node *n, struct http_request *req);
/* objections.c: objections, redaction, the list of redactions */
bool api_objections_file_parse(struct node *n, struct http_request *req);
void api_objections_file(struct node *n, struct http_request *req);
bool api_objections_decide_parse(struct node *n, struct http_request *req);
void api_objections_decide(struct node *n, struct http_request *req);
bool api_objections_list_parse(struct node *n, struct http_request *req);
void api_objections_list(struct node *n, struct http_request *req);
bool api_objections_id_parse(struct node *n, struct http_request *req);
void api_objections_get(struct node *n, struct http_request *req);
bool api_records_redact_parse(struct node *n, struct http_request *req);
void api_records_redact(struct node *n, struct http_request *req);
bool api_redactions_list_parse(struct node *n, struct http_request *req);
void api_redactions_list(struct node *n, struct http_request *req);

/* reports.c: the quality and evaluation reports. */
bool api_quality_parse(struct node *n, struct http_request *req);
void api_quality(struct node *n, struct http_request *req);
bool api_evaluation_parse(struct node *n, struct http_request *req);
void api_evaluation(struct node *n, struct http_request *req);

/* audit.c: the audit log and this node's security events. */
bool api_audit_parse(struct node *n, struct http_request *req);
void api_audit(struct node *n, struct http_request *req);
bool api_security_events_parse(struct node *n, struct http_request *req);
void api_security_events(struct node *n, struct http_request *req);

#endif
