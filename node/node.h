/* SPDX-License-Identifier: MIT */
/*
 * provcat-node: one libuv loop running raft (node/clu), the state machine
 * (node/fsm) and the HTTP API (node/http + node/api_*.c). This header is the
 * daemon's internal interface between those files; main.c fills node_opts
 * from the configuration and runs node_start / the loop / node_stop.
 */
#ifndef PC_NODE_H
#define PC_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"
#include "common/map.h"
#include "node/raft/clu.h"
#include "node/fsm/fsm.h"
#include "node/http/http.h"

#define NODE_VERSION "0.1.0"

struct node;
struct api_write;
struct api_audit;

struct node_opts {
    uint64_t id;
    const char *data_dir;
    const char *peer;       /* raft address */
    const char *client;     /* HTTP listen host:port */
    const char *client_url; /* advertised */
    const struct clu_peer *cluster;
    unsigned n_cluster;
    bool initial_new;
    const char *admin_token_file;
    unsigned election_ms, heartbeat_ms;
    unsigned snapshot_threshold, snapshot_trailing, max_inflight;
    uint64_t raft_log_budget;
    uint64_t snapshot_cache; /* bytes, 0: none */
    size_t segment_size;
    struct http_limits limits;
    unsigned rate_limit; /* failed authentications per minute per address */
    int log_level;       /* 0 error, 1 warn, 2 info, 3 debug */
    const char *restore_file;
};

/* A read waiting for the next barrier. */
struct node_read {
    struct http_request *req;
    void (*run)(struct node *n, struct http_request *req);
    struct node_read *next;
};

/* A read waiting for this node to apply a min_revision. */
struct node_wait {
    struct http_request *req;
    void (*run)(struct node *n, struct http_request *req);
    uint64_t want;
    int64_t deadline_ms;
    struct node_wait *next;
};

struct node_fail {
    int64_t window_start_ms;
    unsigned failures;
};

struct node {
    uv_loop_t *loop;
    struct node_opts o;
    struct fsm *fsm;
    struct clu *clu;
    struct http_server *http;
    struct http_router *router;
    int lock_fd;
    char *admin_token_hash_hex; /* for genesis; NULL when not a founder */
    char cluster_id_file[4096];
    char request_prefix[32]; /* node id + boot nonce for request ids */
    uint64_t request_seq;
    uv_timer_t timer; /* leadership watch, ticks, genesis */
    bool timer_open;
    uv_check_t batch_check; /* flushes the commands of one loop turn */
    bool batch_check_open;
    struct pc_buf batch_cmds;       /* length-prefixed encoded commands */
    struct api_write *batch_w[256]; /* their requests, in order */
    size_t batch_n;
    uint64_t batches, batched_cmds; /* for metrics */
    bool was_leader;
    bool leader_ready;      /* this term's first barrier has committed */
    bool barrier_in_flight; /* one barrier serves every queued read */
    bool genesis_in_flight, member_in_flight, tick_in_flight;
    struct node_read *reads_head, *reads_tail; /* waiting for a barrier */
    struct node_read *batch;                   /* served by the in-flight */
    uint64_t n_reads_waiting;
    struct node_wait *waiters; /* min_revision, checked by the timer */
    size_t n_waiters;
    struct pc_map fails; /* client address -> struct node_fail */
    FILE *seclog;
    uint64_t sec_auth_failures, sec_denials, sec_rate_limited, sec_malformed;
    /* Ledger time as the last live entry left it, carried forward, minus
     * this node's clock (clock_watch); valid once clock_known. */
    int64_t clock_ahead_ms;
    bool clock_known;
    int64_t clock_warned_ms; /* when clock_watch last recorded an event */
    /* Bytes free on the data directory's file system (node_disk_check);
     * below one raft segment the disk counts as full (API.md: 507). */
    uint64_t disk_free;
    bool disk_low;
    unsigned disk_ticks;      /* watch ticks since the last check */
    int64_t disk_handover_ms; /* when a full disk last handed over */
    uint64_t reads_served, barriers;
    uint64_t req_by_status[6];
    uint64_t latency_buckets[16]; /* request latency histogram, see metrics */
    uint64_t latency_count;
    double latency_sum_ms;
    struct api_audit *audit;  /* read-audit queue (api_records.c) */
    uint64_t reads_open_anon; /* anonymous open-data reads: counted only */
    int64_t last_security_summary_ms;
    uint64_t sec_reported[4]; /* counters at the last summary fact */
    bool stopping;
    bool fatal;        /* stop at the next timer turn */
    bool stop_started; /* stop_now ran */
    int64_t handover_deadline_ms;
    bool cluster_id_ok; /* the data dir's cluster-id file matches */
    void (*stopped_cb)(void *arg);
    void *stopped_arg;
    int exit_code;
};

/*
 * Start everything: lock the data dir, open raft, listen for HTTP. PC_OK, or
 * an error with errmsg (the caller exits 1, or 2 for PC_EINVAL).
 */
int node_start(struct node *n, uv_loop_t *loop, const struct node_opts *o,
               char *errmsg);

/* Hand leadership over (when leading), stop HTTP and raft, then `cb`. */
void node_stop(struct node *n, void (*cb)(void *arg), void *arg);

/* Free what node_start allocated; call once the loop has drained. */
void node_release(struct node *n);

/* ---- shared by the api files ------------------------------------------ */

/* Routes of the API (node/api.c). */
int api_router_new(struct node *n, struct http_router **out, char *errmsg);

/* The top-level handler: counts, then dispatches through the router. */
void api_handle(struct http_request *req, void *arg);

/* Log a line at `level` (0 error ... 3 debug) to stderr. */
void node_log(struct node *n, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Measure the data directory's free space now; true if it is below one raft
 * segment, when raft can no longer open its next segment: writes and
 * linearizable reads are then answered 507 (API.md). The watch timer does
 * it every second; error paths call it for a fresh answer.
 */
bool node_disk_check(struct node *n);

/* A security event: counted, appended to the node-local log. */
void node_security_event(struct node *n, const char *kind, const char *client,
                         const char *detail);

/* Fill `out` with a new request id "<node>-<nonce>-<seq>". */
void node_request_id(struct node *n, char out[64]);

#endif
