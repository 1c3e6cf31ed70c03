/* SPDX-License-Identifier: MIT */
/*
 * Raft wiring: one canonical-raft instance on the node's libuv loop (raft_uv
 * storage, TCP transport), the state machine behind it, proposals and
 * barriers with completion callbacks, membership and leadership transfer.
 * Snapshots are the storage codec's format over a frozen ledger prefix.
 * Loop thread only.
 */
#ifndef PC_CLU_H
#define PC_CLU_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"
#include "common/prom.h"
#include "node/fsm/fsm.h"

struct clu;

/* Room for a raft address "host:port" and its NUL. */
#define CLU_ADDRESS_SIZE 64

struct clu_peer {
    uint64_t id;
    char address[CLU_ADDRESS_SIZE]; /* host:port (IPv4 literal or name) */
};

struct clu_opts {
    uint64_t id;
    const char *address;          /* this node's raft address */
    const char *raft_dir;         /* created if missing */
    bool bootstrap;               /* --initial-cluster-state new */
    const struct clu_peer *peers; /* the initial voters (with bootstrap) */
    unsigned n_peers;
    unsigned election_ms;
    unsigned heartbeat_ms;
    unsigned snapshot_threshold;
    unsigned snapshot_trailing;
    unsigned max_inflight;
    uint64_t raft_log_budget; /* bytes of log between snapshots, 0: off */
    uint64_t snapshot_cache;  /* bytes of cached snapshot frames, 0: none */
    size_t segment_size;
    const char *client_url; /* this node's advertised URL (hello.h) */
    /* A file that exists while a redaction's forced compaction is not
     * done (created before it starts, removed once raft's directory holds
     * no snapshot or log segment from before it); found at start, the
     * compaction runs again. NULL: none. */
    const char *purge_file;
};

/*
 * Called when a proposal ends: `rc` is PC_OK with one result per command,
 * PC_EUNAVAIL when leadership was lost before it applied (outcome unknown),
 * or another error (I/O: the node must stop).
 */
typedef void (*clu_apply_cb)(void *arg, int rc, const struct fsm_result *res,
                             size_t n);
/* Called when a barrier ends: PC_OK means every earlier entry is applied. */
typedef void (*clu_barrier_cb)(void *arg, int rc);
/* Called for fatal conditions (an unknown rules version, I/O errors). */
typedef void (*clu_fatal_cb)(void *arg, int rc, const char *msg);

#ifdef PC_TEST_HOOKS
/* Test builds only (node/testhooks.c sets it before main): when not 0,
 * replaces the 30 s a joiner's first catch-up round is given. */
extern uint64_t clu_test_hook_catch_up_base_ms;
#endif

/*
 * Start raft on `loop` with `fsm` (borrowed; must outlive the clu). Returns
 * PC_OK, PC_EIO or PC_EINVAL with errmsg.
 */
int clu_start(uv_loop_t *loop, const struct clu_opts *o, struct fsm *fsm,
              clu_fatal_cb fatal, void *fatal_arg, struct clu **out,
              char *errmsg);

/* Close raft (pending callbacks fire with PC_EUNAVAIL), then call `cb`. */
void clu_stop(struct clu *c, void (*cb)(void *arg), void *arg);

/*
 * Propose an entry built with cmd_entry_*: takes `entry`'s bytes on PC_OK
 * (the buffer is left empty). PC_ENOTLEADER, PC_ENOMEM or PC_EUNAVAIL (a
 * transfer is under way) with the buffer untouched.
 */
int clu_propose(struct clu *c, struct pc_buf *entry, clu_apply_cb cb,
                void *arg);

/* A raft barrier. PC_OK (cb will fire) or PC_ENOTLEADER / PC_ENOMEM. */
int clu_barrier(struct clu *c, clu_barrier_cb cb, void *arg);

bool clu_is_leader(struct clu *c);
/* The known leader (0 if none) and its raft address (borrowed or NULL). */
uint64_t clu_leader(struct clu *c, const char **address);
const char *clu_state_name(struct clu *c); /* leader|follower|candidate|... */
uint64_t clu_term(struct clu *c);
uint64_t clu_commit_index(struct clu *c);
uint64_t clu_applied_index(struct clu *c);
uint64_t clu_last_index(struct clu *c);
/* The last log index when raft started (what this process replays). */
uint64_t clu_start_index(struct clu *c);
/*
 * Ledger time now, extrapolated on the monotonic clock from the last entry
 * applied that was appended after this process started (entries replayed
 * from disk say nothing of the present). False before the first one.
 */
bool clu_live_time(struct clu *c, int64_t *now_ms);
/* Whether a leadership transfer is under way. */
bool clu_transferring(struct clu *c);
/*
 * Periodic upkeep (the node's watch timer, every 50 ms): retune the
 * snapshot threshold, which barriers move without any apply
 * (rfsm_retune); and, on a leader while a redaction's forced compaction
 * may be under way on any node (its own, for 20 s after it started or
 * ended, or after this node took over or a peer connected to it with a
 * redaction less than a day old in the ledger: that peer may have
 * restarted mid-way), append an empty entry (a raft barrier) when the log
 * has not moved since the last call, so that every node reaches the
 * snapshots the compaction needs on an idle cluster too.
 */
void clu_tick(struct clu *c);

struct clu_member {
    uint64_t id;
    const char *address;  /* borrowed until the configuration changes */
    const char *role;     /* voter | standby | spare */
    uint64_t match_index; /* on the leader; 0 elsewhere */
    bool joining;         /* on the leader: clu_add of it not finished yet
                           * (catching up, or its promotion uncommitted) */
};
/* The current configuration; `*n` members, valid until the next loop turn. */
size_t clu_members(struct clu *c, struct clu_member *out, size_t max);

typedef void (*clu_change_cb)(void *arg, int rc);
/* Add `id` at `address` as a spare, then promote it to voter once it has
 * caught up; a spare already at `address` (whose promotion raft gave up
 * on) is promoted again. `cb` fires once at the end. PC_OK, PC_ENOTLEADER,
 * PC_ECONFLICT (a change in flight), PC_EEXIST (duplicate id or address). */
int clu_add(struct clu *c, uint64_t id, const char *address, clu_change_cb cb,
            void *arg);
int clu_remove(struct clu *c, uint64_t id, clu_change_cb cb, void *arg);
/* Move leadership to `id` (0: any up-to-date voter). */
int clu_transfer(struct clu *c, uint64_t id, clu_change_cb cb, void *arg);

/*
 * Whether this node learnt that it was removed from the cluster: the
 * committed configuration it applied no longer lists it, or a leader of
 * its cluster told it so over the peer port (hello.h). Latched for the
 * life of the process; `*why` (may be NULL) says how, borrowed.
 */
bool clu_removed(struct clu *c, const char **why);

/*
 * On the leader: a member's client URL, as the member itself told it over
 * the peer port because the ledger holds another (or none). PC_OK with
 * `*id`, `*url` and the member's raft `*address` (borrowed until the next
 * call), or PC_ENOTFOUND when none waits. The caller records it (a member
 * fact).
 */
int clu_url_claim(struct clu *c, uint64_t *id, const char **url,
                  const char **address);

/* Counters for /metrics. */
struct clu_stats {
    uint64_t snapshots;        /* taken */
    uint64_t snapshot_bytes;   /* size of the last one */
    uint64_t snapshot_ms;      /* worker encode time of the last one */
    uint64_t snapshot_loop_us; /* loop time the last one took */
    uint64_t snapshot_reused;  /* facts the last one copied from its cache */
    uint64_t snapshot_cache_bytes; /* what that cache holds */
    uint64_t restores;
    uint64_t apply_errors;
    unsigned snapshot_threshold; /* now in force (--raft-log-budget) */
    unsigned snapshot_trailing;
    uint64_t elections_won;  /* elections this node started and won */
    uint64_t elections_lost; /* ... and did not */
    uint64_t leader_changes; /* a new leader seen (clu_tick) */
    struct pc_hist append;   /* raft_io appends: write and sync */
    struct pc_hist commit;   /* our proposals: raft_apply to applied */
    struct pc_hist apply;    /* each entry's fsm_apply */
    bool purge_pending;      /* a redaction's compaction is under way */
    uint64_t purges_started; /* forced compactions started */
    uint64_t purges_done;    /* finished, files checked */
    uint64_t purge_nudges;   /* empty entries appended for them */
};
void clu_stats(struct clu *c, struct clu_stats *out);

/* The peers raft dialled: connected now, and how often so far. */
#define CLU_MAX_PEERS 64
struct clu_peer_state {
    uint64_t id;
    char address[CLU_ADDRESS_SIZE]; /* as last dialled */
    bool up;                        /* the last dial connected */
    uint64_t connects;              /* successful dials */
    uint64_t losses;                /* connections lost */
};
/* The peers (`*out` valid until the next loop turn) and their count. */
size_t clu_peers(struct clu *c, const struct clu_peer_state **out);

/*
 * The raft address to give raft for `address` ("host:port"): itself with
 * raft 0.17.2 or later, which resolves names when it dials; with 0.15.0
 * (make RAFT=system), the name resolved to an IPv4 address now (blocking).
 * PC_OK, or PC_EINVAL with errmsg (may be NULL) when it does not resolve.
 */
int clu_resolve(const char *address, char out[CLU_ADDRESS_SIZE], char *errmsg);

#endif
