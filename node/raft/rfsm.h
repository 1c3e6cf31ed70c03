/* SPDX-License-Identifier: MIT */
/*
 * The raft_fsm adapter around the state machine: apply hands each entry to
 * fsm_apply with its raft index, snapshot freezes a ledger view and encodes
 * it with the storage codec on a thread of its own (rfsm.c says how),
 * restore swaps in a ledger the codec verified.
 * Shared by the node (node/raft/clu.c) and the deterministic replication
 * tests on raft_fixture. Loop thread only.
 */
#ifndef PC_RFSM_H
#define PC_RFSM_H

#include <raft.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/prom.h"
#include "node/fsm/fsm.h"

typedef void (*rfsm_fatal_cb)(void *arg, int rc, const char *msg);

/*
 * Called right after entry `index` applied, with its results (valid only
 * during the call): raft fires apply callbacks later, after it may have
 * applied more entries, so whoever proposed the entry copies them here.
 */
typedef void (*rfsm_applied_cb)(void *arg, uint64_t index,
                                const struct fsm_result *res, size_t n);

/*
 * Told when a forced compaction starts (`done` false) and when its second
 * snapshot has been written (`done` true, `bound` the first snapshot's
 * index: no snapshot below it and no log segment starting at or below it
 * should remain; the caller checks its files and may start another).
 */
typedef void (*rfsm_purge_cb)(void *arg, bool done, uint64_t bound);

/* Forced compaction stages (rfsm_purge_start). */
enum rfsm_purge {
    RFSM_PURGE_NONE = 0,
    RFSM_PURGE_FIRST,      /* waiting for a snapshot begun after the start */
    RFSM_PURGE_FIRST_PUT,  /* raft is writing it */
    RFSM_PURGE_SECOND,     /* waiting for one past the first's last index */
    RFSM_PURGE_SECOND_PUT, /* raft is writing it */
};

/* Raft's trailing count during a forced compaction (at most the
 * configured one): the entries it keeps in memory and on disk behind a
 * snapshot, so also how far the second snapshot must be past the first. */
#define RFSM_PURGE_TRAILING 64

struct rfsm_job;
struct rfsm_freer;
struct snap_cache;
struct led;

struct rfsm {
    struct raft_fsm raft_fsm; /* handed to raft_init / raft_fixture_grow */
    struct raft *raft;        /* set once raft is initialised */
    struct fsm *fsm;          /* borrowed */
    struct rfsm_job *job;     /* a snapshot being encoded, or NULL */
    struct rfsm_freer *freer; /* the last snapshot's buffers being freed */
    /* Frames of earlier snapshots (snap.h), valid while the ledger's
     * redaction count is cache_redactions; NULL when off or without
     * memory. */
    struct snap_cache *cache;
    uint64_t cache_redactions;
    uint64_t cache_limit; /* its bytes at most; 0: no cache */
    uint64_t tail_max;    /* facts the last step may encode on the loop */
    /* Tests on raft_fixture, whose clock is simulated: a call that finds
     * the worker busy waits for it rather than skip the turn, so what is
     * encoded where depends on the events only, not on real time. */
    bool wait_worker;
    rfsm_fatal_cb fatal;
    void *fatal_arg;
    rfsm_applied_cb applied; /* may be NULL */
    void *applied_arg;
    uint64_t snapshots;         /* taken */
    uint64_t snapshot_bytes;    /* size of the last one */
    uint64_t snapshot_ms;       /* worker encode time of the last one */
    uint64_t snapshot_loop_us;  /* loop time of the last one, every call */
    uint64_t snapshot_tail;     /* facts of the last one encoded on the loop */
    unsigned snapshot_rounds;   /* worker rounds of the last one */
    uint64_t snapshot_restarts; /* jobs given up (redaction, failure) */
    uint64_t snapshot_reused;   /* facts of the last one copied from cache */
    uint64_t snapshot_cache_bytes; /* the cache after the last one */
    uint64_t restores;
    uint64_t restore_bytes; /* size of the last snapshot restored */
    uint64_t restore_ms;    /* its decoding */
    uint64_t apply_errors;
    struct pc_hist apply_hist; /* time of each entry's fsm_apply */
    /* raft has started: restores now come from the leader, and what
     * happens is logged (tests on raft_fixture leave it false). */
    bool started;
    /* The raft log's memory budget (rfsm_snapshot_policy); 0 when off. */
    uint64_t log_budget;
    unsigned threshold_max, trailing_max; /* the configured counts */
    unsigned threshold, trailing;         /* what raft has now */
    unsigned stagger;                     /* 0-3: threshold - stagger/8 */
    uint64_t entry_bytes_avg;             /* of applied entries, smoothed */
    uint64_t entries_seen;
    /* The raft log since the last snapshot (at snap_index) up to
     * last_index, the last entry counted, and its bytes with raft's
     * per-entry overhead. */
    uint64_t snap_index, last_index;
    uint64_t since_bytes;
    /* A forced compaction after a redaction (rfsm_purge_start). */
    enum rfsm_purge purge;
    uint64_t purge_gen;   /* bumped at each start: older jobs do not count */
    uint64_t purge_first; /* the first snapshot's index */
    uint64_t purge_need;  /* the second's at least: first's last index +
                             the trailing count */
    bool purge_restore;   /* put the policy's counts back at the next turn */
    uint64_t purges_started, purges_done;
    rfsm_purge_cb purge_cb; /* may be NULL */
    void *purge_arg;
};

/*
 * Hand the next restore in this process a ledger `l` already decoded and
 * verified from snapshot bytes of length `len` whose XXH3-64 is `digest`
 * (node/restore.c: --restore verifies the backup, then writes it as the
 * raft snapshot that raft_start restores). A restore whose buffer has that
 * length and digest takes `l` instead of decoding the buffer again; any
 * other restore frees `l` and decodes as usual, and so does rfsm_release.
 * Takes `l` (NULL: drop any preload). Process-wide, as there is one node
 * per process; call on the loop's thread before raft starts.
 */
void rfsm_preload(struct led *l, size_t len, uint64_t digest);

/* Fill `s` for `fsm`; `fatal` (may be NULL) hears deterministic failures. */
void rfsm_init(struct rfsm *s, struct fsm *fsm, rfsm_fatal_cb fatal, void *arg);

/*
 * Set when raft snapshots. A snapshot is due once the entries applied since
 * the last one number `threshold` and carry half the ledger's bytes (each
 * snapshot encodes the whole ledger, so its cost per byte written stays
 * bounded instead of growing with the ledger), or once they carry `budget`
 * bytes, whichever comes first, but not before 64 entries (or `threshold`
 * if lower): raft counts entries and holds them all in memory. raft's
 * threshold is retuned every 64 entries from the bytes counted so far and
 * the average entry size; the trailing count is lowered (never below 16)
 * so that trailing x size <= `budget` / 4. `budget` 0 keeps the counts.
 * A threshold of 128 or more is then lowered by `stagger` % 4 eighths: give
 * each node its own (its id - 1), so that replicas, which apply the same
 * entries, do not all encode a snapshot at once on a shared machine (three
 * at once on two cores held requests up to ~100 ms). Once s->raft is set.
 */
void rfsm_snapshot_policy(struct rfsm *s, uint64_t budget, unsigned threshold,
                          unsigned trailing, unsigned stagger);
/*
 * Retune raft's snapshot threshold now (done every 64 applied commands):
 * call it periodically too, as barriers (linearizable reads) add entries
 * that never reach apply.
 */
void rfsm_retune(struct rfsm *s);

/*
 * Force the compaction a redaction needs: two snapshots taken after now,
 * the second at least RFSM_PURGE_TRAILING entries past the last log index
 * when the first was written, with raft's threshold and trailing count
 * lowered meanwhile. Then no snapshot taken before (they keep the
 * document) and no log segment holding an entry up to the first snapshot
 * (a redacted version's write among them) is left, and raft's in-memory
 * log has dropped them too. Started by apply when a redaction applies, by
 * restore when an installed snapshot brings redactions to a node that had
 * state, and by the node at start when a compaction was cut short; a start
 * while one runs starts over. Tells `purge_cb` when it starts and ends.
 * Once s->raft is set.
 */
void rfsm_purge_start(struct rfsm *s);

/*
 * Give up a snapshot being encoded (waits for its thread, about a frame's
 * time) and free the frame cache; before the state machine is freed, once
 * raft is closed.
 */
void rfsm_release(struct rfsm *s);

#endif
