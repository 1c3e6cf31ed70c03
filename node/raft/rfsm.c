/* SPDX-License-Identifier: MIT */
/*
 * raft_fsm version 2 (snapshot + finalize), with the snapshot encoded off
 * the loop. raft wants the snapshot's bytes when it calls snapshot(), and
 * neither 0.15.0 (v3 only behind a forced io version) nor 0.22.1 (whose
 * legacy layer calls snapshot_async right after snapshot(), on the loop)
 * gives a usable worker thread, so the adapter runs its own:
 *
 *   1. The first snapshot() freezes a ledger view (O(n / chunk)), starts a
 *      thread that encodes it with the storage codec into the body buffer,
 *      and returns RAFT_BUSY: raft skips the turn and asks again at its
 *      next event (an entry, a message, a tick).
 *   2. Calls while the thread runs return RAFT_BUSY at once.
 *   3. Once it is done, the facts appended meanwhile (the tail) are encoded
 *      on the loop from a fresh view, with the trailer, and the header is
 *      written for the final count and root: the buffers are header, body,
 *      tail, exactly the state at last_applied. A tail over RFSM_TAIL_MAX
 *      facts gets another worker round first (at most RFSM_ROUNDS), as
 *      raft's catch-up rounds do.
 *
 * A view may show a document redacted after its freeze, which the state at
 * last_applied no longer has, so a redaction while a job runs discards it
 * (led_redactions). Restore and close cancel a running job and wait for its
 * thread (at most about one frame, a millisecond or so), so the ledger is
 * never replaced or freed under it. raft frees nothing with finalize:
 * finalize frees the buffers (pc_malloc'd).
 */
#include "node/raft/rfsm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/prom.h"
#include "node/log.h"
#include "node/raft/raft_compat.h"
#include "storage/led.h"
#include "storage/snap.h"

/* Facts the final step may encode on the loop by default (about 2 ms). */
#define RFSM_TAIL_MAX 1024
/* Worker rounds before the tail is encoded on the loop whatever its size. */
#define RFSM_ROUNDS 8
/* Between two snapshots the raft log carries at least 1/RFSM_GROWTH_DIV of
 * the ledger's bytes (see rfsm_snapshot_policy). */
#define RFSM_GROWTH_DIV 2
/* What raft holds per log entry besides its bytes (struct raft_entry, its
 * reference count, the buffer's malloc header), charged to the budget. */
#define RFSM_ENTRY_OVERHEAD 96
#define RFSM_INDEX_UNKNOWN  UINT64_MAX

/*
 * A snapshot being encoded. The loop owns every field but those the worker
 * writes while it runs (enc, body, rc, errmsg, work_us), which the loop
 * reads only after joining it; `done` tells the loop it may join.
 */
struct rfsm_job {
    pthread_t thread;
    bool running;          /* a thread was started and not yet joined */
    struct led *led;       /* the ledger of the views */
    struct led_view *view; /* this round's frozen prefix */
    struct snap_enc *enc;
    struct pc_buf body;  /* frames of every round */
    uint64_t redactions; /* led_redactions() at the first round */
    uint64_t reused;     /* facts in cached frames at the start */
    uint64_t purge_gen;  /* rfsm's purge_gen when it started */
    unsigned rounds;
    uint64_t work_us;   /* worker time over the rounds */
    uint64_t loop_us;   /* loop time spent in snapshot() for this job */
    atomic_bool done;   /* the worker finished this round */
    atomic_bool cancel; /* stop at the next frame */
    int rc;
    char errmsg[PC_ERRMSG_SIZE];
};

static uint64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A count of entries of `avg` bytes that fits `budget`, within [lo, hi]. */
static unsigned
fit(uint64_t budget, uint64_t avg, unsigned lo, unsigned hi)
{
    uint64_t n = budget / (avg > 0 ? avg : 1);

    n = n < lo ? lo : n;
    return n > hi ? hi : (unsigned)n;
}

/* This node's share of a snapshot threshold (see rfsm_snapshot_policy). */
static unsigned
staggered(const struct rfsm *s, unsigned n)
{
    return n >= 128 ? n - n / 8 * s->stagger : n;
}

/* Entries in the raft log since the last snapshot (none known yet right
 * after a restore: the next apply follows it), with `pending` more. */
static uint64_t
since_entries(const struct rfsm *s, uint64_t pending)
{
    return s->snap_index == RFSM_INDEX_UNKNOWN
               ? 0
               : s->last_index - s->snap_index + pending;
}

/* Entries of `avg` bytes still to apply before `bytes`, the raft log's
 * since the last snapshot, reach `target`. */
static uint64_t
entries_to(uint64_t bytes, uint64_t target, uint64_t avg)
{
    return bytes >= target ? 0 : (target - bytes) / avg + 1;
}

/* Charge the raft entries applied since the last call (barriers, which
 * never reach apply, show as gaps in the index) RFSM_ENTRY_OVERHEAD each,
 * for raft's own bookkeeping; `len` bytes belong to the one at `index`. */
static uint64_t
log_track(struct rfsm *s, uint64_t index, size_t len)
{
    uint64_t gap, bytes;

    if (s->snap_index == RFSM_INDEX_UNKNOWN || s->snap_index >= index) {
        s->snap_index = s->last_index = index - 1; /* after a restore */
    }
    gap = index - s->last_index;
    bytes = len + gap * RFSM_ENTRY_OVERHEAD;
    s->last_index = index;
    s->since_bytes += bytes;
    return gap > 0 ? bytes / gap : len;
}

/* The policy's counts back after a forced compaction. */
static void
purge_restore(struct rfsm *s)
{
    s->purge_restore = false;
    /* raft's own defaults when no policy was set (tests). */
    s->threshold = staggered(s, s->threshold_max ? s->threshold_max : 1024);
    s->trailing = s->trailing_max ? s->trailing_max : 2048;
    raft_set_snapshot_threshold(s->raft, s->threshold);
    raft_set_snapshot_trailing(s->raft, s->trailing);
}

void
rfsm_retune(struct rfsm *s)
{
    uint64_t avg, want, cap, th, lo, pending = 0, since, bytes;
    struct led_mem m;
    unsigned tr;

    if (s->purge != RFSM_PURGE_NONE) {
        return; /* a forced compaction sets the counts */
    }
    if (s->purge_restore) {
        purge_restore(s);
    }
    if (s->log_budget == 0) {
        return;
    }
    /* Barriers applied since the last command count here, but only the
     * next command's log_track books them: were the timer to, how its
     * ticks fell between entries would change that command's share of
     * the average, and with it the threshold, from replica to replica. */
    if (s->snap_index != RFSM_INDEX_UNKNOWN &&
        s->last_index < raft_last_applied(s->raft)) {
        pending = raft_last_applied(s->raft) - s->last_index;
    }
    since = since_entries(s, pending);
    bytes = s->since_bytes + pending * RFSM_ENTRY_OVERHEAD;
    avg = s->entry_bytes_avg > 0 ? s->entry_bytes_avg : 1;
    led_mem(fsm_led(s->fsm), &m);
    want =
        since + entries_to(bytes, (m.enc + m.doc_raw) / RFSM_GROWTH_DIV, avg);
    want = want > s->threshold_max ? want : s->threshold_max;
    cap = since + entries_to(bytes, s->log_budget, avg);
    th = want < cap ? want : cap;
    lo = s->threshold_max < 64 ? s->threshold_max : 64;
    th = th < lo ? lo : th > INT32_MAX ? INT32_MAX : th;
    th = staggered(s, (unsigned)th);
    tr = fit(s->log_budget / 4, avg, 16, s->trailing_max);
    if (th != s->threshold) {
        s->threshold = (unsigned)th;
        raft_set_snapshot_threshold(s->raft, s->threshold);
    }
    if (tr != s->trailing) {
        s->trailing = tr;
        raft_set_snapshot_trailing(s->raft, tr);
    }
}

/* Per applied command: count it, and every 64, retune raft. */
static void
budget_track(struct rfsm *s, size_t len, uint64_t index)
{
    uint64_t per = log_track(s, index, len);

    if (s->log_budget == 0) {
        return;
    }
    /* Bytes per raft entry, averaged over about the last 64 commands. */
    s->entry_bytes_avg =
        s->entries_seen == 0
            ? per
            : s->entry_bytes_avg - s->entry_bytes_avg / 64 + per / 64;
    if (s->entries_seen++ % 64 == 0) {
        rfsm_retune(s);
    }
}

void
rfsm_snapshot_policy(struct rfsm *s, uint64_t budget, unsigned threshold,
                     unsigned trailing, unsigned stagger)
{
    s->log_budget = budget;
    s->stagger = stagger % 4;
    s->threshold_max = threshold;
    s->threshold = staggered(s, threshold);
    s->trailing_max = s->trailing = trailing;
    raft_set_snapshot_threshold(s->raft, s->threshold);
    raft_set_snapshot_trailing(s->raft, s->trailing);
}

void
rfsm_purge_start(struct rfsm *s)
{
    unsigned tr = s->trailing_max < RFSM_PURGE_TRAILING && s->trailing_max > 0
                      ? s->trailing_max
                      : RFSM_PURGE_TRAILING;

    s->purge_gen++;
    s->purge = RFSM_PURGE_FIRST;
    s->purge_restore = false;
    s->purges_started++;
    /* Due as soon as anything was committed since the last snapshot. */
    s->threshold = 1;
    s->trailing = tr;
    raft_set_snapshot_threshold(s->raft, 1);
    raft_set_snapshot_trailing(s->raft, tr);
    if (s->purge_cb != NULL) {
        s->purge_cb(s->purge_arg, false, 0);
    }
}

static int
apply_cb(struct raft_fsm *rf, const struct raft_buffer *buf, void **result)
{
    struct rfsm *s = rf->data;
    uint64_t index = raft_last_applied(s->raft) + 1;
    char errmsg[PC_ERRMSG_SIZE] = "";
    uint64_t t0 = pc_mono_ns();
    uint64_t redactions = led_redactions(fsm_led(s->fsm));
    int rc = fsm_apply(s->fsm, buf->base, buf->len, index, errmsg);

    pc_hist_observe_ns(&s->apply_hist, pc_mono_ns() - t0);
    *result = NULL;
    budget_track(s, buf->len, index);
    if (rc == PC_OK && led_redactions(fsm_led(s->fsm)) != redactions) {
        /* A document was dropped: it must leave the disk too. */
        rfsm_purge_start(s);
    }
    if (rc == PC_OK) {
        *result = s->fsm;
        if (s->applied != NULL) {
            const struct fsm_result *res;
            size_t n = fsm_results(s->fsm, &res);
            s->applied(s->applied_arg, index, res, n);
        }
        return 0;
    }
    s->apply_errors++;
    if ((rc == PC_EVERSION || rc == PC_EPROTO) && s->fatal != NULL) {
        /* Deterministic: every replica stops here rather than diverge. */
        s->fatal(s->fatal_arg, rc, errmsg);
    }
    return RAFT_NOMEM;
}

/* The worker's sink: the body buffer, unless the loop cancelled. */
static int
body_write(void *arg, const void *p, size_t n)
{
    struct rfsm_job *j = arg;

    if (atomic_load_explicit(&j->cancel, memory_order_relaxed)) {
        return PC_ESHUTDOWN;
    }
    return pc_buf_put(&j->body, p, n);
}

static int
buf_write(void *arg, const void *p, size_t n)
{
    return pc_buf_put(arg, p, n);
}

/* One round: encode the view's facts past the encoder's count. */
static void *
job_run(void *arg)
{
    struct rfsm_job *j = arg;
    uint64_t t0 = now_us();

    j->rc = snap_enc_step(j->enc, j->view, body_write, j, j->errmsg);
    j->work_us += now_us() - t0;
    atomic_store_explicit(&j->done, true, memory_order_release);
    return NULL;
}

/* Start a round over a fresh view of `l`. PC_OK or PC_ENOMEM. */
static int
job_round(struct rfsm_job *j, struct led *l)
{
    if (led_view_open(l, &j->view) != PC_OK) {
        return PC_ENOMEM;
    }
    j->rounds++;
    atomic_store_explicit(&j->done, false, memory_order_relaxed);
    if (pthread_create(&j->thread, NULL, job_run, j) == 0) {
        j->running = true;
    } else {
        job_run(j); /* no thread: this round on the loop */
    }
    return PC_OK;
}

/* Wait for the worker (cancelled or done) and close the round's view. */
static void
job_reap(struct rfsm_job *j)
{
    if (j->running) {
        pthread_join(j->thread, NULL);
        j->running = false;
    }
    led_view_close(j->led, j->view);
    j->view = NULL;
}

static void
job_free(struct rfsm_job *j)
{
    if (j == NULL) {
        return;
    }
    atomic_store_explicit(&j->cancel, true, memory_order_relaxed);
    job_reap(j);
    snap_enc_free(j->enc);
    pc_buf_release(&j->body);
    pc_free(j);
}

/* The frame cache for a snapshot of `l` now: emptied if a document was
 * redacted since it was filled (restore_cb empties it for a new ledger). */
static struct snap_cache *
cache_for(struct rfsm *s, const struct led *l)
{
    if (s->cache_limit == 0) {
        return NULL;
    }
    if (s->cache == NULL &&
        snap_cache_new(&s->cache, s->cache_limit) != PC_OK) {
        return NULL; /* snapshots encode every fact, as without */
    }
    if (led_redactions(l) != s->cache_redactions) {
        snap_cache_clear(s->cache);
        s->cache_redactions = led_redactions(l);
    }
    return s->cache;
}

/* A new job over `l`, its first round started. PC_OK or PC_ENOMEM. */
static int
job_start(struct rfsm *s, struct led *l, struct rfsm_job **out)
{
    struct rfsm_job *j = pc_calloc(1, sizeof(*j));
    struct snap_cache *cache = cache_for(s, l);

    if (j == NULL) {
        return PC_ENOMEM;
    }
    pc_buf_init(&j->body);
    j->led = l;
    j->redactions = led_redactions(l);
    j->purge_gen = s->purge_gen;
    j->reused = cache != NULL ? snap_cache_facts(cache) : 0;
    atomic_init(&j->done, false);
    atomic_init(&j->cancel, false);
    if (snap_enc_new(&j->enc, cache) != PC_OK || job_round(j, l) != PC_OK) {
        job_free(j);
        return PC_ENOMEM;
    }
    *out = j;
    return PC_OK;
}

/*
 * The last step, on the loop: the tail and trailer from a fresh view, the
 * header for it, and the three buffers. PC_OK or PC_ENOMEM (`j` unusable).
 */
static int
job_finish(struct rfsm *s, struct rfsm_job *j, struct led *l,
           struct raft_buffer *bufs[], unsigned *n_bufs)
{
    uint8_t root[PC_HASH_LEN];
    struct raft_buffer *b;
    struct led_view *v;
    struct pc_buf tail;
    uint64_t revision;
    uint8_t *hdr;
    int rc;

    if (led_view_open(l, &v) != PC_OK) {
        return PC_ENOMEM;
    }
    pc_buf_init(&tail);
    rc = snap_enc_finish(j->enc, v, buf_write, &tail, j->errmsg);
    led_view_root(v, root);
    hdr = pc_malloc(SNAP_HEADER_LEN);
    b = raft_malloc(3 * sizeof(*b));
    if (rc != PC_OK || hdr == NULL || b == NULL) {
        led_view_close(l, v);
        pc_buf_release(&tail);
        pc_free(hdr);
        raft_free(b);
        return PC_ENOMEM;
    }
    snap_header(led_view_count(v), root, hdr);
    revision = led_view_count(v);
    led_view_close(l, v);
    b[0] = (struct raft_buffer){ hdr, SNAP_HEADER_LEN };
    b[1].len = j->body.len;
    b[1].base = pc_buf_detach(&j->body, NULL);
    b[2].len = tail.len;
    b[2].base = pc_buf_detach(&tail, NULL);
    *bufs = b;
    *n_bufs = 3;
    s->snapshots++;
    /* raft's count restarts here too (at its last applied index, which
     * only barriers since the last apply can have moved past). */
    s->snap_index = s->last_index;
    s->since_bytes = 0;
    s->snapshot_bytes = b[0].len + b[1].len + b[2].len;
    s->snapshot_ms = j->work_us / 1000;
    s->snapshot_rounds = j->rounds;
    s->snapshot_reused = j->reused;
    /* Read here, on the loop, with no worker running. */
    s->snapshot_cache_bytes = s->cache != NULL ? snap_cache_bytes(s->cache) : 0;
    if (s->started) {
        log_write(LOG_LEVEL_INFO, "snapshot_taken",
                  LOG_FIELDS(LOG_U64("index", s->snap_index),
                             LOG_U64("revision", revision),
                             LOG_U64("bytes", s->snapshot_bytes),
                             LOG_U64("ms", s->snapshot_ms),
                             LOG_U64("reused_facts", s->snapshot_reused)),
                  "snapshot taken: index %llu, %llu bytes, encoded in %llu "
                  "ms",
                  (unsigned long long)s->snap_index,
                  (unsigned long long)s->snapshot_bytes,
                  (unsigned long long)s->snapshot_ms);
    }
    return PC_OK;
}

static int
snapshot_cb(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct rfsm *s = rf->data;
    struct led *l = fsm_led(s->fsm);
    struct rfsm_job *j = s->job;
    uint64_t t0 = now_us();
    int rv = RAFT_BUSY;

    if (j != NULL && !s->wait_worker &&
        !atomic_load_explicit(&j->done, memory_order_acquire)) {
        return RAFT_BUSY; /* the worker is still encoding */
    }
    if (j != NULL) {
        job_reap(j);
        if (j->rc != PC_OK || j->led != l ||
            led_redactions(l) != j->redactions) {
            /* Failed, or a document was redacted since: start over. */
            job_free(j);
            s->job = j = NULL;
            s->snapshot_restarts++;
        }
    }
    if (j == NULL) {
        if (job_start(s, l, &s->job) != PC_OK) {
            return RAFT_NOMEM;
        }
        s->job->loop_us += now_us() - t0;
        return RAFT_BUSY;
    }
    if (led_count(l) - snap_enc_count(j->enc) > s->tail_max &&
        j->rounds < RFSM_ROUNDS) {
        if (job_round(j, l) != PC_OK) {
            rv = RAFT_NOMEM;
            goto err_job;
        }
        j->loop_us += now_us() - t0;
        return RAFT_BUSY;
    }
    s->snapshot_tail = led_count(l) - snap_enc_count(j->enc);
    if (job_finish(s, j, l, bufs, n_bufs) != PC_OK) {
        rv = RAFT_NOMEM;
        goto err_job;
    }
    if (s->purge != RFSM_PURGE_NONE && j->purge_gen == s->purge_gen) {
        /* raft snapshots at its last applied index. */
        uint64_t index = raft_last_applied(s->raft);

        if (s->purge == RFSM_PURGE_FIRST) {
            s->purge = RFSM_PURGE_FIRST_PUT;
            s->purge_first = index;
        } else if (s->purge == RFSM_PURGE_SECOND && index >= s->purge_need) {
            s->purge = RFSM_PURGE_SECOND_PUT;
        }
    }
    s->snapshot_loop_us = j->loop_us + (now_us() - t0);
    job_free(j);
    s->job = NULL;
    return 0;

err_job:
    job_free(j);
    s->job = NULL;
    return rv;
}

/*
 * A snapshot's buffers being freed on a thread of their own: handing a
 * snapshot's pages back to the kernel takes ~60 ms per GB on this machine
 * (12.5 ms for 200 MB), and on the loop every request in flight would wait.
 */
struct rfsm_freer {
    pthread_t thread;
    void *base[3]; /* job_finish's header, body and tail */
};

static void *
freer_run(void *arg)
{
    struct rfsm_freer *f = arg;

    for (size_t i = 0; i < sizeof(f->base) / sizeof(f->base[0]); i++) {
        pc_free(f->base[i]);
    }
    return NULL;
}

/* Wait for the last snapshot's buffers to be freed (long done by the time
 * the next snapshot finishes: they are seconds apart). */
static void
freer_join(struct rfsm *s)
{
    if (s->freer != NULL) {
        pthread_join(s->freer->thread, NULL);
        pc_free(s->freer);
        s->freer = NULL;
    }
}

/*
 * A forced compaction's snapshot was written (finalize runs once raft
 * has written it, just before raft drops the log it covers): after the
 * first, the second is due once the log reaches the last index now plus
 * the trailing count, so that the segments closed for the first (they
 * hold every entry up to its index) fall out; after the second, done. The
 * trailing count stays low until the next turn, so that raft's in-memory
 * log drops those entries too.
 */
static void
purge_written(struct rfsm *s)
{
    uint64_t need;

    if (s->purge == RFSM_PURGE_FIRST_PUT) {
        need = raft_last_index(s->raft) + s->trailing;
        s->purge = RFSM_PURGE_SECOND;
        s->purge_need = need;
        s->threshold = need > s->purge_first
                           ? (unsigned)(need - s->purge_first < INT32_MAX
                                            ? need - s->purge_first
                                            : INT32_MAX)
                           : 1;
        raft_set_snapshot_threshold(s->raft, s->threshold);
    } else if (s->purge == RFSM_PURGE_SECOND_PUT) {
        s->purge = RFSM_PURGE_NONE;
        s->purge_restore = true;
        s->purges_done++;
        if (s->purge_cb != NULL) {
            s->purge_cb(s->purge_arg, true, s->purge_first);
        }
    }
}

static int
finalize_cb(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct rfsm *s = rf->data;
    struct rfsm_freer *f;

    purge_written(s);

    freer_join(s);
    f = *n_bufs == 3 ? pc_calloc(1, sizeof(*f)) : NULL;
    if (f != NULL) {
        for (unsigned i = 0; i < 3; i++) {
            f->base[i] = (*bufs)[i].base;
        }
        if (pthread_create(&f->thread, NULL, freer_run, f) == 0) {
            s->freer = f;
        } else {
            pc_free(f);
            f = NULL;
        }
    }
    if (f == NULL) { /* no memory or no thread: free them here */
        for (unsigned i = 0; i < *n_bufs; i++) {
            pc_free((*bufs)[i].base);
        }
    }
    raft_free(*bufs); /* raft's heap: on the loop */
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

/*
 * A ledger the process already decoded from the snapshot raft is about to
 * restore (rfsm_preload): --restore verified the backup before writing it
 * as the raft snapshot, and raft_start restores that snapshot moments
 * later. Process-wide because it crosses from before the node exists to
 * its first restore; loop thread only.
 */
static struct {
    struct led *l;
    size_t len;
    uint64_t digest;
} preload;

void
rfsm_preload(struct led *l, size_t len, uint64_t digest)
{
    led_free(preload.l);
    preload.l = l;
    preload.len = len;
    preload.digest = digest;
}

/* The preloaded ledger if `buf` holds the bytes it was decoded from (their
 * length and XXH3-64: 0.1 s for 467 MB against ~9 s to decode); NULL
 * otherwise. Either way the preload is used up. */
static struct led *
take_preload(const struct raft_buffer *buf)
{
    struct led *l = preload.l;

    preload.l = NULL;
    if (l != NULL && (buf->len != preload.len ||
                      XXH3_64bits(buf->base, buf->len) != preload.digest)) {
        led_free(l);
        l = NULL;
    }
    return l;
}

static int
restore_cb(struct raft_fsm *rf, struct raft_buffer *buf)
{
    struct rfsm *s = rf->data;
    struct led *l = NULL;
    char errmsg[PC_ERRMSG_SIZE] = "";
    uint64_t t0 = pc_mono_ns();
    const uint64_t *revs;
    size_t redactions = fsm_redactions(s->fsm, &revs);
    int rc;

    /* A snapshot of the ledger being replaced is given up (its thread
     * stops within a frame); other views (a backup) keep the old ledger
     * alive until they close (led_release). Refusing instead would make
     * raft drop the installed snapshot and wedge this follower. */
    job_free(s->job);
    s->job = NULL;
    if (s->cache != NULL) {
        snap_cache_clear(s->cache); /* its frames are the old ledger's */
        s->snapshot_cache_bytes = 0;
    }
    l = take_preload(buf);
    rc = l != NULL ? PC_OK : snap_decode(buf->base, buf->len, &l, errmsg);
    if (rc == PC_OK) {
        rc = fsm_restore(s->fsm, l, errmsg);
        if (rc != PC_OK) {
            led_free(l);
        }
    }
    if (rc != PC_OK) {
        log_write(LOG_LEVEL_ERROR, "snapshot_refused",
                  LOG_FIELDS(LOG_U64("bytes", buf->len)),
                  "snapshot refused: %s", errmsg);
        return rc == PC_ENOMEM ? RAFT_NOMEM : RAFT_CORRUPT;
    }
    s->restores++;
    s->restore_bytes = buf->len;
    s->restore_ms = (pc_mono_ns() - t0) / 1000000;
    if (s->started) {
        /* raft 0.22.1 restores once its commit index reaches the
         * snapshot's: that is its index. */
        uint64_t index = raft_commit_index(s->raft);

        log_write(LOG_LEVEL_INFO, "snapshot_installed",
                  LOG_FIELDS(LOG_U64("index", index),
                             LOG_U64("revision", led_count(fsm_led(s->fsm))),
                             LOG_U64("bytes", s->restore_bytes),
                             LOG_U64("ms", s->restore_ms)),
                  "snapshot installed from the leader: index %llu, revision "
                  "%llu, %llu bytes decoded in %llu ms",
                  (unsigned long long)index,
                  (unsigned long long)led_count(fsm_led(s->fsm)),
                  (unsigned long long)s->restore_bytes,
                  (unsigned long long)s->restore_ms);
    }
    s->snap_index = RFSM_INDEX_UNKNOWN; /* the next apply follows it */
    s->since_bytes = 0;
    /* A node that had state (not the load at start: raft has applied
     * nothing then) and installs redactions it never applied may hold
     * their documents in its older snapshots and log; and a compaction
     * under way starts over on the new ledger. */
    if (s->raft != NULL && (s->purge != RFSM_PURGE_NONE ||
                            (raft_last_applied(s->raft) > 0 &&
                             fsm_redactions(s->fsm, &revs) > redactions))) {
        rfsm_purge_start(s);
    }
    raft_free(buf->base); /* on success the FSM owns the buffer */
    return 0;
}

void
rfsm_init(struct rfsm *s, struct fsm *fsm, rfsm_fatal_cb fatal, void *arg)
{
    memset(s, 0, sizeof(*s));
    s->fsm = fsm;
    s->fatal = fatal;
    s->fatal_arg = arg;
    s->tail_max = RFSM_TAIL_MAX;
    s->cache_limit = UINT64_MAX;
    s->raft_fsm.version = 2;
    s->raft_fsm.data = s;
    s->raft_fsm.apply = apply_cb;
    s->raft_fsm.snapshot = snapshot_cb;
    s->raft_fsm.snapshot_finalize = finalize_cb;
    s->raft_fsm.restore = restore_cb;
}

void
rfsm_release(struct rfsm *s)
{
    freer_join(s);
    job_free(s->job);
    s->job = NULL;
    snap_cache_free(s->cache);
    s->cache = NULL;
    rfsm_preload(NULL, 0, 0); /* never restored: nobody else will */
}
