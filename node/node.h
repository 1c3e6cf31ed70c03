/* SPDX-License-Identifier: MIT */
/*
 * provcat-node: one libuv loop running raft (node/raft/), the state machine
 * (node/fsm/) and the HTTP API (node/http/ + node/api/). This header is the
 * daemon's state, shared by those rooms; main.c fills node_opts from the
 * configuration and runs node_start / the loop / node_stop.
 */
#ifndef PC_NODE_H
#define PC_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "common/buf.h"
#include "common/map.h"
#include "common/prom.h"
#include "node/fsm/fsm.h"
#include "node/http/http.h"
#include "node/raft/clu.h"

#define NODE_VERSION "0.2.0"

struct node;
struct seclog;
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
    const struct http_cidr *trusted; /* --trusted-proxy: `n_trusted` nets */
    size_t n_trusted;
    int log_level; /* 0 error, 1 warn, 2 info, 3 debug (node/log.h) */
    const char *restore_file;
    bool exit_when_removed;    /* stop (exit 0) once removed from the cluster */
    const char *holidays_file; /* --holidays: calendars for genesis */
    uint64_t seclog_max_bytes; /* security.log rotates at this size */
    unsigned seclog_keep;      /* rotated files kept */
    unsigned seclog_rate;      /* lines per client address per minute */
};

/* A read waiting for the next barrier (api/read.c). */
struct node_read {
    struct http_request *req;
    void (*run)(struct node *n, struct http_request *req);
    struct node_read *next;
};

/* A read waiting for this node to apply a min_revision (api/read.c). */
struct node_wait {
    struct http_request *req;
    void (*run)(struct node *n, struct http_request *req);
    uint64_t want;
    int64_t deadline_ms;
    struct node_wait *next;
};

/* Failed authentications of one client address (api/auth.c). */
struct node_fail {
    int64_t window_start_ms;
    unsigned failures;
};

/*
 * struct node is one part per concern, the way raft groups its per-role
 * state: each part says which file owns it (writes it); others only read.
 */

/* The data directory's files (node.c). */
struct node_files {
    int lock_fd;                /* flock(2) on DATA_DIR/LOCK; -1 if none */
    char cluster_id_path[4096]; /* DATA_DIR/cluster-id */
    bool cluster_id_ok;         /* that file names the log's cluster */
    char *admin_token_hash;     /* hex H(admin token), for genesis; NULL when
                                 * this node is not a founder */
    char *holidays; /* --holidays as canonical JSON, for genesis, or NULL */
};

/* Request ids "<prefix>-<seq>": node id and a boot nonce (api/propose.c). */
struct node_ids {
    char prefix[32];
    uint64_t seq;
};

/* The watch timer and what a leader proposes on its own (node.c). */
struct node_watch {
    uv_timer_t timer; /* every 50 ms: leadership, ticks, genesis */
    bool timer_open;
    bool was_leader; /* at the previous tick */
    bool genesis_in_flight, member_in_flight, tick_in_flight;
    bool removed; /* clu_removed seen (and logged) */
};

#define NODE_BATCH_MAX 256 /* commands in one raft entry */

/* The commands of one loop turn, proposed as one raft entry
 * (api/propose.c; the check handle is node.c's). */
struct node_batch {
    uv_check_t check; /* after each turn's I/O: api_batch_flush */
    bool check_open;
    struct pc_buf cmds;                  /* length-prefixed commands */
    struct api_write *w[NODE_BATCH_MAX]; /* their requests, in order */
    size_t n;
    uint64_t entries, commands; /* proposed so far, for metrics */
};

/* Linearizable reads: one barrier serves every read queued before it was
 * proposed; min_revision waiters (api/read.c; leader_ready also node.c). */
struct node_reads {
    bool leader_ready;             /* this term's first barrier has committed */
    bool barrier_in_flight;        /* one barrier at a time */
    struct node_read *head, *tail; /* waiting for the next barrier */
    struct node_read *riding;      /* served by the barrier in flight */
    uint64_t n_waiting;
    struct node_wait *waiters; /* min_revision, checked by the timer */
    size_t n_waiters;
    uint64_t served, barriers; /* for metrics */
};

/* The kinds of security event counted one by one in /metrics; any other
 * kind is counted as "other". */
#define NODE_SEC_KINDS(X)                          \
    X(AUTH_FAILURE, "auth_failure") /* 401 */      \
    X(DENIED, "denied")             /* 403 */      \
    X(RATE_LIMITED, "rate_limited") /* 429 */      \
    X(MALFORMED, "malformed")       /* 400, 413 */ \
    X(CLOCK_SKEW, "clock_skew")     /* node.c */   \
    X(OTHER, "other")
enum node_sec_kind {
#define NODE_SEC_ENUM(name, str) NODE_SEC_##name,
    NODE_SEC_KINDS(NODE_SEC_ENUM)
#undef NODE_SEC_ENUM
    NODE_SEC_N
};
/* "auth_failure" ... "other"; NULL beyond. */
const char *node_sec_kind_name(unsigned k);

/* Security: the failed-login limiter, the node-local log and counters
 * (api/auth.c; the log is seclog.c's, opened and closed by node.c, which
 * also proposes the summary fact). */
struct node_security {
    struct pc_map fails; /* client address -> struct node_fail */
    struct seclog *log;  /* DATA_DIR/security.log */
    /* Security events by kind: /metrics and the summary fact read them. */
    uint64_t events[NODE_SEC_N];
    int64_t last_summary_ms; /* when the leader last proposed a summary */
    uint64_t reported[4];    /* the counters in that summary */
    bool judges_tokens;      /* latched by api_auth_ready (api/auth.c) */
};

/* Ledger time against this node's clock (node.c's clock watch). */
struct node_clock {
    int64_t ahead_ms;  /* ledger time, carried forward, minus our clock */
    bool known;        /* ahead_ms is valid (a live entry applied) */
    int64_t warned_ms; /* when the watch last recorded an event */
};

/* Free space of the data directory's file system (node.c). Below one raft
 * segment the disk counts as full (docs/node.md: 507). */
struct node_disk {
    uint64_t free; /* bytes */
    bool low;
    unsigned ticks;      /* watch ticks since the last check */
    int64_t handover_ms; /* when a full disk last handed over */
};

/* Answers of one route by status (api/metrics.c). */
#define NODE_ROUTES_MAX      96 /* rows of the route table, at most */
#define NODE_CODES_PER_ROUTE 24 /* statuses counted apart; more: "other" */
#define NODE_FAMILIES_MAX    32 /* route families (api/metrics.c) */
struct node_route_stats {
    uint16_t code[NODE_CODES_PER_ROUTE]; /* 0: a free slot */
    uint64_t n[NODE_CODES_PER_ROUTE];
    uint64_t other; /* answers with a status that found no slot */
};

/* Request counters for /metrics (api/metrics.c, api/records.c). */
struct node_stats {
    /* By route-table row; row n_routes: requests that matched none. */
    struct node_route_stats route[NODE_ROUTES_MAX + 1];
    size_t n_routes;
    /* Latency by route family and kind (write, read, local). */
    char family[NODE_FAMILIES_MAX][24];
    size_t n_families;
    uint8_t route_family[NODE_ROUTES_MAX + 1];
    struct pc_hist latency[NODE_FAMILIES_MAX][3];
    uint64_t reads_open_anon; /* anonymous open-data reads: counted only */
};

/* Stopping (node.c). */
struct node_stop {
    bool stopping;                /* node_stop ran: new requests get 503 */
    bool fatal;                   /* stop at the next timer turn */
    bool started;                 /* stop_now ran */
    int64_t handover_deadline_ms; /* stop anyway after this */
};

struct node {
    uv_loop_t *loop;
    struct node_opts o;
    struct fsm *fsm;
    struct clu *clu;
    struct http_server *http;
    struct http_router *router;
    struct api_audit *audit; /* read-audit queue (api/read_audit.c) */
    struct node_files files;
    struct node_ids ids;
    struct node_watch watch;
    struct node_batch batch;
    struct node_reads reads;
    struct node_security sec;
    struct node_clock clock;
    struct node_disk disk;
    struct node_stats stats;
    struct node_stop stop;
    /* What main.c sets and reads. */
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

/* ---- shared with node/api/ ------------------------------------------- */

/* Log a line at `level` (0 error ... 3 debug) to stderr (node/log.c;
 * log_write there takes fields: an event's ids). */
void node_log(struct node *n, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Measure the data directory's free space now; true if it is below one raft
 * segment, when raft can no longer open its next segment: writes and
 * linearizable reads are then answered 507 (docs/node.md). The watch timer does
 * it every second; error paths call it for a fresh answer.
 */
bool node_disk_check(struct node *n);

#ifdef PC_TEST_HOOKS
/* Test builds only (node/testhooks.c sets it before main): a file whose
 * number node_disk_check() takes for the free bytes, when it exists. */
extern const char *node_test_hook_disk_free_file;
#endif

/* A security event: counted, appended to the node-local log (at most
 * --security-log-rate lines a minute per client address). */
void node_security_event(struct node *n, const char *kind, const char *client,
                         const char *detail);
/*
 * The same with who and what, when known (NULL or "" when not): the
 * authenticated `principal` and the `route` ("GET /v1/catalog/{id}": the
 * route's pattern, never the path, which may hold a record key). The log
 * line then has "principal" and "route" too.
 */
void node_security_event_by(struct node *n, const char *kind,
                            const char *client, const char *principal,
                            const char *route, const char *detail);

/*
 * Open the node's own log files again by name (SIGHUP: after logrotate
 * moved them): DATA_DIR/security.log. PC_OK, or PC_EIO with `errmsg` (the
 * old file stays in use).
 */
int node_reopen_logs(struct node *n, char *errmsg);

/* Fill `out` with a new request id "<node>-<nonce>-<seq>". */
void node_request_id(struct node *n, char out[64]);

#endif
