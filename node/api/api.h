/* SPDX-License-Identifier: MIT */
/*
 * The HTTP API as the daemon (node.c) sees it: the router and the handler
 * every request enters through, and the API's periodic work driven by the
 * node's loop (the command batch, read barriers, min_revision waiters, the
 * read-audit queue). Everything a route file needs is in api_int.h.
 * Loop thread only.
 */
#ifndef PC_API_H
#define PC_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "node/http/http.h"
#include "node/node.h"

/* The router over the route table (table.c). PC_OK, PC_ENOMEM. */
int api_router_new(struct http_router **out, char *errmsg);

/* Group the routes into families for `n`'s latency histograms; once, at
 * start-up (metrics.c). */
void api_metrics_setup(struct node *n);

/*
 * The server's handler (`arg` is the node): match the route, then apply
 * its needs in the contract's order and run it (table.c).
 */
void api_handle(struct http_request *req, void *arg);

/*
 * The HTTP server's answer hook (`arg` the node; http_server_on_answer):
 * counts the answer by route and status and its latency by route family,
 * echoes X-Request-Id, and at debug logs one line for the request
 * (metrics.c).
 */
void api_on_answer(struct http_request *req, int status, void *arg);

/* Propose the commands gathered this loop turn as one raft entry
 * (propose.c); the node's check handle calls it after each turn. */
void api_batch_flush(struct node *n);

/*
 * Propose a node-internal command (principal "system"; no HTTP request):
 * `extra` (stolen, may be NULL) as its JSON extra. `cb` (may be NULL) gets
 * the result once it applied. PC_OK, PC_ENOTLEADER, PC_ENOSPC or PC_ENOMEM
 * (then `cb` never runs).
 */
typedef void (*api_system_cb)(struct node *n, int rc,
                              const struct fsm_result *res);
int api_propose_system(struct node *n, uint32_t type, const char *target,
                       json_t *extra, api_system_cb cb);

/*
 * NULL when this node's clock may stamp commands, else why not: more than
 * CLOCK_BEHIND_MS behind ledger time, or more than CLOCK_AHEAD_MS ahead of
 * the ledger time last stamped by a live leader (docs/node.md, ledger time).
 */
#define CLOCK_BEHIND_MS 5000
#define CLOCK_AHEAD_MS  3600000
const char *api_clock_skew(struct node *n);

/* Serve the reads queued for a barrier (read.c; the watch timer kicks it
 * too, after the term's first barrier). */
void api_reads_kick(struct node *n);
/* Fail every queued read (leadership lost, shutting down). */
void api_reads_fail(struct node *n, int status, const char *code);
/* Serve or expire min_revision waiters (all with 503 if `fail_all`). */
void api_waiters_check(struct node *n, bool fail_all);

/*
 * Whether this node can judge a token: it has applied what it needs to
 * know every principal (auth.c says precisely when). Latched once true;
 * the watch timer asks every tick, requests whenever they present a token.
 */
bool api_auth_ready(struct node *n);

/* Free the read-audit queue (read_audit.c; node_release). */
void api_audit_release(struct node *n);

/*
 * Read and check the --holidays file at `path` (open.c): PC_OK with its
 * canonical JSON in `*out` (NUL-terminated; pc_free it), what genesis
 * carries as "calendar"; PC_EINVAL with the reason in `errmsg` naming
 * the file and the place ("--holidays 'h.json': \"2027\".workdays[0]:
 * ..."), or PC_ENOMEM. Start-up only; reads the file.
 */
int api_holidays_load(const char *path, char **out, char *errmsg);

#endif
