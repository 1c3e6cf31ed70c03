/* SPDX-License-Identifier: MIT */
/*
 * Raft wiring. The FSM adapter hands each committed entry to fsm_apply with
 * its raft index (raft_last_applied() + 1 inside apply), snapshots are the
 * storage codec over a frozen ledger view, and restore swaps in a ledger the
 * codec has fully verified. Settings (docs/node.md, tuning defaults): tracer
 * off, transport version 1, large in-flight limit and segments, capacity
 * threshold 0 for segments over 21 MiB, heartbeat below election timeout,
 * and TCP_NODELAY on raft's peer connections (raft_uv_tcp leaves Nagle on).
 */
#include "node/raft/clu.h"

#include <assert.h>
#include <errno.h>
#include <raft/uv.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/map.h"
#include "node/raft/raft_compat.h"
#include "node/raft/rfsm.h"
#include "storage/led.h"

struct clu {
    uv_loop_t *loop;
    struct raft raft;
    struct raft_io io;
    struct raft_uv_transport transport;
    /* raft_uv_tcp's own listen and connect, wrapped to set TCP_NODELAY. */
    int (*tcp_listen)(struct raft_uv_transport *t, raft_uv_accept_cb cb);
    int (*tcp_connect)(struct raft_uv_transport *t, struct raft_uv_connect *req,
                       raft_id id, const char *address, raft_uv_connect_cb cb);
    raft_uv_accept_cb accept_cb; /* raft's, given to listen */
    struct rfsm rfsm;
    struct fsm *fsm;
    struct pc_map pending; /* raft index -> struct clu_req of our proposals */
    void (*stop_cb)(void *arg);
    void *stop_arg;
    bool closing;
    uint64_t start_index; /* last log index at start: later ones are live */
    int64_t live_time;    /* ledger time after the last live entry (0: none) */
    uint64_t live_mono;   /* uv_now() when it applied */
    uint64_t catch_up_ms; /* raft's snapshot and catch-up limits, as set */
    uint64_t catch_up_base_ms; /* CLU_CATCH_UP_BASE_MS, or the test's */
    uint64_t joining;          /* the id clu_add works on until its cb, or 0 */
    char errmsg[PC_ERRMSG_SIZE];
};

struct clu_req {
    union {
        struct raft_apply apply;
        struct raft_barrier barrier;
        struct raft_change change;
        struct raft_transfer transfer;
    } u;
    struct clu *c;
    void *cb;
    void *arg;
    uint64_t id;            /* for changes: the member */
    bool promote;           /* clu_add: promote after the add commits */
    struct fsm_result *res; /* copied when the entry applied */
    size_t n_res;
};

/* Copy the results of one of our own entries for its callback. */
static void
applied_cb(void *arg, uint64_t index, const struct fsm_result *res, size_t n)
{
    struct clu *c = arg;
    struct clu_req *q = pc_map_get(&c->pending, &index, sizeof(index));

    if (index > c->start_index) {
        /* Stamped by a leader of this process's lifetime, not replayed. */
        c->live_time = led_time(fsm_led(c->fsm));
        c->live_mono = uv_now(c->loop);
    }
    if (q == NULL || n == 0) {
        return;
    }
    q->res = pc_malloc(n * sizeof(*res));
    if (q->res != NULL) {
        memcpy(q->res, res, n * sizeof(*res));
        q->n_res = n;
    }
}

static int
from_raft(int rv)
{
    switch (rv) {
    case 0:
        return PC_OK;
    case RAFT_NOMEM:
        return PC_ENOMEM;
    case RAFT_NOTLEADER:
        return PC_ENOTLEADER;
    case RAFT_LEADERSHIPLOST:
    case RAFT_SHUTDOWN:
        return PC_EUNAVAIL;
    case RAFT_CANTCHANGE:
        return PC_ECONFLICT;
    case RAFT_DUPLICATEID:
    case RAFT_DUPLICATEADDRESS:
        return PC_EEXIST;
    case RAFT_BADID:
    case RAFT_NOTFOUND:
        return PC_ENOTFOUND;
    case RAFT_NOCONNECTION:
        return PC_EUNAVAIL;
    default:
        return PC_EIO;
    }
}

/* ---- peer connections ------------------------------------------------- */

/*
 * raft_uv_tcp keeps Nagle's algorithm on its peer sockets. With many
 * AppendEntries in flight a small message then waits for the ACK of the
 * previous one, which the follower delays up to 40 ms: the tail latency of
 * every write. These wrappers turn Nagle off on each connection the
 * transport hands to raft, accepted or dialled.
 */
/* raft_uv owns transport.data, so find our clu from the embedded member. */
static struct clu *
clu_of(struct raft_uv_transport *t)
{
    return (struct clu *)((char *)t - offsetof(struct clu, transport));
}

static void
no_delay(struct uv_stream_s *stream)
{
    if (stream != NULL && stream->type == UV_TCP) {
        uv_tcp_nodelay((uv_tcp_t *)stream, 1);
    }
}

static void
accepted(struct raft_uv_transport *t, raft_id id, const char *address,
         struct uv_stream_s *stream)
{
    struct clu *c = clu_of(t);

    no_delay(stream);
    c->accept_cb(t, id, address, stream);
}

static int
listen_nodelay(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    struct clu *c = clu_of(t);

    c->accept_cb = cb;
    return c->tcp_listen(t, accepted);
}

/*
 * raft_start answers a --peer port it cannot listen on with a bare I/O
 * error and no message: bind a socket of our own to `address` to name the
 * reason (a busy port). NULL when the probe succeeds or cannot tell.
 */
static const char *
listen_failure(const char *address, char *buf, size_t size)
{
    const char *colon = strrchr(address, ':');
    struct sockaddr_in sa;
    char host[64];
    int fd, one = 1, e = 0;

    if (colon == NULL || (size_t)(colon - address) >= sizeof(host)) {
        return NULL;
    }
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    if (uv_ip4_addr(host, atoi(colon + 1), &sa) != 0) {
        return NULL;
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return NULL;
    }
    /* As libuv binds: a port in TIME_WAIT is not busy. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(fd, 1) != 0) {
        e = errno;
    }
    close(fd);
    if (e == 0) {
        return NULL;
    }
    snprintf(buf, size, "listen on %s: %s", address,
             uv_strerror(uv_translate_sys_error(e)));
    return buf;
}

/*
 * raft passes one callback (its own static function) to every connect and
 * keeps req->data for itself, so the callback to chain to is process-wide.
 */
static raft_uv_connect_cb raft_connected;

static void
connected(struct raft_uv_connect *req, struct uv_stream_s *stream, int status)
{
    if (status == 0) {
        no_delay(stream);
    }
    raft_connected(req, stream, status);
}

static int
connect_nodelay(struct raft_uv_transport *t, struct raft_uv_connect *req,
                raft_id id, const char *address, raft_uv_connect_cb cb)
{
    struct clu *c = clu_of(t);

    assert(raft_connected == NULL || raft_connected == cb);
    raft_connected = cb;
    return c->tcp_connect(t, req, id, address, connected);
}

/* ---- lifecycle -------------------------------------------------------- */

/*
 * How long raft waits for a snapshot to be installed, and for a joining
 * node's first catch-up round, which is that snapshot: 30 s, plus 1 s per
 * CLU_CATCH_UP_BYTES of the ledger's raw bytes (encodings and documents),
 * what the joiner receives, writes and decodes on its loop (decoding takes
 * ~1 s of CPU per 100 MB of them: a 10x margin; docs/bench.md). With a
 * fixed 30 s a node joining a ledger of a few million records was given up
 * on while it decoded, and a node given up on stays a spare, to which raft
 * sends no new entries. Retuned as the ledger grows (clu_tick).
 */
#define CLU_CATCH_UP_BASE_MS 30000
#define CLU_CATCH_UP_BYTES   (10u << 20)

#ifdef PC_TEST_HOOKS
uint64_t clu_test_hook_catch_up_base_ms;
#endif

static void
catch_up_limits(struct clu *c)
{
    struct led_mem m;
    uint64_t ms;

    led_mem(fsm_led(c->fsm), &m);
    ms = c->catch_up_base_ms +
         (uint64_t)(m.enc + m.doc_raw) / (CLU_CATCH_UP_BYTES / 1000);
    ms = ms > 24u * 3600 * 1000 ? 24u * 3600 * 1000 : ms;
    if (ms != c->catch_up_ms) {
        c->catch_up_ms = ms;
        /* Never below the 60 s it has always had. */
        raft_set_install_snapshot_timeout(&c->raft,
                                          (unsigned)(ms > 60000 ? ms : 60000));
        raft_set_max_catch_up_round_duration(&c->raft, (unsigned)ms);
    }
}

int
clu_start(uv_loop_t *loop, const struct clu_opts *o, struct fsm *fsm,
          clu_fatal_cb fatal, void *fatal_arg, struct clu **out, char *errmsg)
{
    struct clu *c;
    int rv;

    if (o->heartbeat_ms == 0 || o->heartbeat_ms >= o->election_ms) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "heartbeat (%u ms) must be below the election "
                          "timeout (%u ms)",
                          o->heartbeat_ms, o->election_ms);
    }
    if (mkdir(o->raft_dir, 0700) != 0 && errno != EEXIST) {
        return pc_errmsg_sys(errmsg, errno, "create '%s'", o->raft_dir);
    }
    c = pc_calloc(1, sizeof(*c));
    if (c == NULL) {
        return PC_ENOMEM;
    }
    c->loop = loop;
    c->fsm = fsm;
    rfsm_init(&c->rfsm, fsm, fatal, fatal_arg);
    c->rfsm.applied = applied_cb;
    c->rfsm.applied_arg = c;
    pc_map_init(&c->pending);

#if PC_RAFT_HAS_017
    c->transport.version = 1;
#endif
    c->transport.data = c;
    rv = raft_uv_tcp_init(&c->transport, loop);
    if (rv != 0) {
        pc_free(c);
        return pc_errmsgf(errmsg, PC_EIO, "raft transport: %s",
                          raft_strerror(rv));
    }
    c->tcp_listen = c->transport.listen;
    c->tcp_connect = c->transport.connect;
    c->transport.listen = listen_nodelay;
    c->transport.connect = connect_nodelay;
    rv = raft_uv_init(&c->io, loop, o->raft_dir, &c->transport);
    if (rv != 0) {
        pc_errmsgf(errmsg, PC_EIO, "raft io: %s", c->io.errmsg);
        goto err_transport;
    }
    rv = raft_init(&c->raft, &c->io, &c->rfsm.raft_fsm, o->id, o->address);
    if (rv != 0) {
        pc_errmsgf(errmsg, PC_EIO, "raft init: %s", raft_errmsg(&c->raft));
        raft_uv_close(&c->io);
        goto err_transport;
    }
    c->raft.data = c;
    c->rfsm.raft = &c->raft;
#if PC_RAFT_HAS_017
    /* The default tracer formats every message even when disabled (0.15.0
     * calls it unconditionally: there it stays). */
    c->raft.tracer = NULL;
    raft_uv_set_tracer(&c->io, NULL);
#endif
    raft_uv_set_segment_size(&c->io, o->segment_size);
    raft_uv_set_connect_retry_delay(&c->io, 250);
    raft_set_election_timeout(&c->raft, o->election_ms);
    raft_set_heartbeat_timeout(&c->raft, o->heartbeat_ms);
    raft_set_pre_vote(&c->raft, true);
    rfsm_snapshot_policy(&c->rfsm, o->raft_log_budget, o->snapshot_threshold,
                         o->snapshot_trailing, (unsigned)((o->id - 1) % 4));
    c->rfsm.cache_limit = o->snapshot_cache;
    raft_set_max_catch_up_rounds(&c->raft, 50);
    c->catch_up_base_ms = CLU_CATCH_UP_BASE_MS;
#ifdef PC_TEST_HOOKS
    if (clu_test_hook_catch_up_base_ms > 0) {
        c->catch_up_base_ms = clu_test_hook_catch_up_base_ms;
    }
#endif
    catch_up_limits(c);
#if RAFT_VERSION_NUMBER >= 1701
    raft_set_max_inflight_entries(&c->raft, o->max_inflight);
#endif
#if PC_RAFT_HAS_017
    if (o->segment_size > 16u << 20) {
        /* The free capacity is kept in KiB in an unsigned short. */
        raft_set_capacity_threshold(&c->raft, 0);
    }
#endif
    if (o->bootstrap && o->n_peers > 0) {
        struct raft_configuration conf;

        raft_configuration_init(&conf);
        for (unsigned i = 0; i < o->n_peers; i++) {
            rv = raft_configuration_add(&conf, o->peers[i].id,
                                        o->peers[i].address, RAFT_VOTER);
            if (rv != 0) {
                raft_configuration_close(&conf);
                pc_errmsgf(errmsg, PC_EINVAL, "cluster configuration: %s",
                           raft_strerror(rv));
                goto err_raft;
            }
        }
        rv = raft_bootstrap(&c->raft, &conf);
        raft_configuration_close(&conf);
        if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {
            pc_errmsgf(errmsg, PC_EIO, "raft bootstrap: %s",
                       raft_errmsg(&c->raft));
            goto err_raft;
        }
    }
    rv = raft_start(&c->raft);
    if (rv != 0) {
        char why[128];
        const char *msg = raft_errmsg(&c->raft);

        if (*msg == '\0') {
            msg = listen_failure(o->address, why, sizeof(why));
        }
        pc_errmsgf(errmsg, PC_EIO, "raft start: %s",
                   msg != NULL ? msg : raft_strerror(rv));
        goto err_raft;
    }
    c->start_index = raft_last_index(&c->raft);
    *out = c;
    return PC_OK;

err_raft:
    /* raft_init succeeded: only raft_close releases it; the caller drains
     * the loop, which runs close_cb and frees `c`. */
    c->stop_cb = NULL;
    clu_stop(c, NULL, NULL);
    return PC_EIO;
err_transport:
    raft_uv_tcp_close(&c->transport);
    pc_free(c);
    return PC_EIO;
}

static void
close_cb(struct raft *r)
{
    struct clu *c = r->data;
    void (*cb)(void *) = c->stop_cb;
    void *arg = c->stop_arg;

    raft_uv_close(&c->io);
    raft_uv_tcp_close(&c->transport);
    rfsm_release(&c->rfsm);
    pc_map_release(&c->pending);
    pc_free(c);
    if (cb != NULL) {
        cb(arg);
    }
}

void
clu_stop(struct clu *c, void (*cb)(void *arg), void *arg)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    c->stop_cb = cb;
    c->stop_arg = arg;
    raft_close(&c->raft, close_cb);
}

/* ---- proposals -------------------------------------------------------- */

static void
apply_done(struct raft_apply *req, int status, void *result)
{
    struct clu_req *q = (struct clu_req *)req;
    uint64_t index = req->index;
    int rc = from_raft(status);

    (void)result;
    pc_map_del(&q->c->pending, &index, sizeof(index));
    if (rc == PC_OK && q->res == NULL) {
        rc = PC_ENOMEM; /* applied, but its results could not be kept */
    }
    ((clu_apply_cb)q->cb)(q->arg, rc, q->res, q->n_res);
    pc_free(q->res);
    pc_free(q);
}

int
clu_propose(struct clu *c, struct pc_buf *entry, clu_apply_cb cb, void *arg)
{
    struct clu_req *q;
    struct raft_buffer b;
    int rv;

    if (c->closing) {
        return PC_EUNAVAIL;
    }
    if (raft_state(&c->raft) != RAFT_LEADER) {
        return PC_ENOTLEADER;
    }
    if (raft_transferee(&c->raft) != 0) {
        return PC_EUNAVAIL;
    }
    if (entry->len % 8 != 0) {
        return PC_EINVAL; /* raft would free it and fail: never send it */
    }
    q = pc_calloc(1, sizeof(*q));
    if (q == NULL) {
        return PC_ENOMEM;
    }
    /* The buffer itself goes to raft (its default heap is malloc's, as
     * pc_buf's): an entry of a few hundred KiB is not copied. raft owns it
     * only once raft_apply succeeds. */
    b.base = entry->data;
    b.len = entry->len;
    q->c = c;
    q->cb = (void *)cb;
    q->arg = arg;
    rv = raft_apply(&c->raft, &q->u.apply, &b, 1, apply_done);
    if (rv != 0) {
        pc_free(q);
        return from_raft(rv);
    }
    pc_buf_init(entry);
    uint64_t index = q->u.apply.index;
    if (pc_map_put(&c->pending, &index, sizeof(index), q, NULL) != PC_OK) {
        /* Proposed, but its results will not be kept: answered as an
         * unknown outcome rather than guessed. */
        q->n_res = 0;
    }
    return PC_OK;
}

static void
barrier_done(struct raft_barrier *req, int status)
{
    struct clu_req *q = (struct clu_req *)req;

    ((clu_barrier_cb)q->cb)(q->arg, from_raft(status));
    pc_free(q);
}

int
clu_barrier(struct clu *c, clu_barrier_cb cb, void *arg)
{
    struct clu_req *q;
    int rv;

    if (c->closing) {
        return PC_EUNAVAIL;
    }
    q = pc_calloc(1, sizeof(*q));
    if (q == NULL) {
        return PC_ENOMEM;
    }
    q->c = c;
    q->cb = (void *)cb;
    q->arg = arg;
    rv = raft_barrier(&c->raft, &q->u.barrier, barrier_done);
    if (rv != 0) {
        pc_free(q);
        return from_raft(rv);
    }
    return PC_OK;
}

/* ---- state ------------------------------------------------------------ */

bool
clu_is_leader(struct clu *c)
{
    return !c->closing && raft_state(&c->raft) == RAFT_LEADER;
}

uint64_t
clu_leader(struct clu *c, const char **address)
{
    raft_id id = 0;
    const char *addr = NULL;

    raft_leader(&c->raft, &id, &addr);
    if (address != NULL) {
        *address = addr;
    }
    return id;
}

const char *
clu_state_name(struct clu *c)
{
    switch (raft_state(&c->raft)) {
    case RAFT_LEADER:
        return "leader";
    case RAFT_FOLLOWER:
        return "follower";
    case RAFT_CANDIDATE:
        return "candidate";
    default:
        return "unavailable";
    }
}

uint64_t
clu_term(struct clu *c)
{
    return raft_current_term(&c->raft);
}

uint64_t
clu_commit_index(struct clu *c)
{
    return raft_commit_index(&c->raft);
}

bool
clu_live_time(struct clu *c, int64_t *now_ms)
{
    if (c->live_time == 0) {
        return false;
    }
    *now_ms = c->live_time + (int64_t)(uv_now(c->loop) - c->live_mono);
    return true;
}

uint64_t
clu_applied_index(struct clu *c)
{
    return raft_last_applied(&c->raft);
}

uint64_t
clu_last_index(struct clu *c)
{
    return raft_last_index(&c->raft);
}

uint64_t
clu_start_index(struct clu *c)
{
    return c->start_index;
}

bool
clu_transferring(struct clu *c)
{
    return raft_transferee(&c->raft) != 0;
}

void
clu_tick(struct clu *c)
{
    if (!c->closing) {
        rfsm_retune(&c->rfsm);
        catch_up_limits(c);
    }
}

size_t
clu_members(struct clu *c, struct clu_member *out, size_t max)
{
    const struct raft_configuration *conf = &c->raft.configuration;
    bool leader = raft_state(&c->raft) == RAFT_LEADER;
    size_t n = 0;

    for (unsigned i = 0; i < conf->n && n < max; i++) {
        const struct raft_server *s = &conf->servers[i];
        raft_index match = 0;

        out[n].id = s->id;
        out[n].address = s->address;
        out[n].role = s->role == RAFT_VOTER     ? "voter"
                      : s->role == RAFT_STANDBY ? "standby"
                                                : "spare";
        if (leader) {
            if (s->id == c->raft.id) {
                match = raft_last_index(&c->raft);
            } else if (raft_match_index(&c->raft, s->id, &match) != 0) {
                match = 0;
            }
        }
        out[n].match_index = match;
        out[n].joining = leader && c->joining == s->id;
        n++;
    }
    return n;
}

/* ---- membership ------------------------------------------------------- */

static void
change_done(struct raft_change *req, int status)
{
    struct clu_req *q = (struct clu_req *)req;

    if (status == 0 && q->promote) {
        /* The spare is in: promote it; raft catches it up first. */
        q->promote = false;
        int rv = raft_assign(&q->c->raft, &q->u.change, q->id, RAFT_VOTER,
                             change_done);
        if (rv == 0) {
            return;
        }
        status = rv;
    }
    if (q->c->joining == q->id) {
        q->c->joining = 0;
    }
    if (q->cb != NULL) {
        ((clu_change_cb)q->cb)(q->arg, from_raft(status));
    }
    pc_free(q);
}

static struct clu_req *
req_new(struct clu *c, void *cb, void *arg, uint64_t id)
{
    struct clu_req *q = pc_calloc(1, sizeof(*q));

    if (q != NULL) {
        q->c = c;
        q->cb = cb;
        q->arg = arg;
        q->id = id;
    }
    return q;
}

int
clu_add(struct clu *c, uint64_t id, const char *address, clu_change_cb cb,
        void *arg)
{
    struct clu_req *q = req_new(c, (void *)cb, arg, id);
    int rv;

    if (q == NULL) {
        return PC_ENOMEM;
    }
    catch_up_limits(c);
    q->promote = true;
    for (unsigned i = 0; i < c->raft.configuration.n; i++) {
        const struct raft_server *s = &c->raft.configuration.servers[i];
        if (s->id == id && s->role != RAFT_VOTER &&
            strcmp(s->address, address) == 0) {
            /* Added before, and its promotion given up on (raft leaves it
             * a spare): adding it again is promoting it again. */
            q->promote = false;
            rv = raft_assign(&c->raft, &q->u.change, id, RAFT_VOTER,
                             change_done);
            if (rv != 0) {
                pc_free(q);
                return from_raft(rv);
            }
            c->joining = id;
            return PC_OK;
        }
    }
    rv = raft_add(&c->raft, &q->u.change, id, address, change_done);
    if (rv != 0) {
        pc_free(q);
        return from_raft(rv);
    }
    c->joining = id;
    return PC_OK;
}

int
clu_remove(struct clu *c, uint64_t id, clu_change_cb cb, void *arg)
{
    struct clu_req *q = req_new(c, (void *)cb, arg, id);
    int rv;

    if (q == NULL) {
        return PC_ENOMEM;
    }
    rv = raft_remove(&c->raft, &q->u.change, id, change_done);
    if (rv != 0) {
        pc_free(q);
        return from_raft(rv);
    }
    return PC_OK;
}

static void
transfer_done(struct raft_transfer *req)
{
    struct clu_req *q = (struct clu_req *)req;

    if (q->cb != NULL) {
        ((clu_change_cb)q->cb)(q->arg, raft_state(&q->c->raft) == RAFT_LEADER
                                           ? PC_EUNAVAIL
                                           : PC_OK);
    }
    pc_free(q);
}

int
clu_transfer(struct clu *c, uint64_t id, clu_change_cb cb, void *arg)
{
    struct clu_req *q = req_new(c, (void *)cb, arg, id);
    int rv;

    if (q == NULL) {
        return PC_ENOMEM;
    }
    rv = raft_transfer(&c->raft, &q->u.transfer, id, transfer_done);
    if (rv != 0) {
        pc_free(q);
        return from_raft(rv);
    }
    return PC_OK;
}

void
clu_stats(struct clu *c, struct clu_stats *out)
{
    out->snapshots = c->rfsm.snapshots;
    out->snapshot_bytes = c->rfsm.snapshot_bytes;
    out->snapshot_ms = c->rfsm.snapshot_ms;
    out->snapshot_loop_us = c->rfsm.snapshot_loop_us;
    out->snapshot_reused = c->rfsm.snapshot_reused;
    out->snapshot_cache_bytes = c->rfsm.snapshot_cache_bytes;
    out->restores = c->rfsm.restores;
    out->apply_errors = c->rfsm.apply_errors;
    out->snapshot_threshold = c->rfsm.threshold;
    out->snapshot_trailing = c->rfsm.trailing;
}
