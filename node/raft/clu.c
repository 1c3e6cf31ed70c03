/* SPDX-License-Identifier: MIT */
/*
 * Raft wiring. The FSM adapter hands each committed entry to fsm_apply with
 * its raft index (raft_last_applied() + 1 inside apply), snapshots are the
 * storage codec over a frozen ledger view, and restore swaps in a ledger the
 * codec has fully verified. Settings (docs/node.md, tuning defaults): tracer
 * off (on, into the log, at --log-level debug), transport version 1, large
 * in-flight limit and segments, capacity threshold 0 for segments over 21
 * MiB, heartbeat below election timeout, and TCP_NODELAY on raft's peer
 * connections (raft_uv_tcp leaves Nagle on).
 *
 * What operators see of raft is observed here, around raft rather than in
 * it: raft_io's append and set_term/set_vote are wrapped (append latency,
 * elections this node started), the transport's connect (peers connected
 * and lost), and clu_tick compares leadership with the previous tick
 * (elections won and lost, leader changes). One log line each (node/log.h).
 */
#include "node/raft/clu.h"

#include <arpa/inet.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
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
#include "common/prom.h"
#include "node/log.h"
#include "node/raft/hello.h"
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
    /* raft_uv's own methods, wrapped to observe them. */
    int (*io_append)(struct raft_io *io, struct raft_io_append *req,
                     const struct raft_entry entries[], unsigned n,
                     raft_io_append_cb cb);
    int (*io_set_term)(struct raft_io *io, raft_term term);
    int (*io_set_vote)(struct raft_io *io, raft_id server_id);
    struct pc_hist append_hist; /* raft_io append: write and sync */
    struct pc_hist commit_hist; /* our proposals: raft_apply to applied */
    raft_term set_term;         /* the last term raft persisted */
    raft_term campaign_term;    /* an election we started, undecided (0) */
    uint64_t elections_won, elections_lost, leader_changes;
    uint64_t last_leader; /* the leader seen at the last tick (0: none) */
    struct clu_peer_state peers[CLU_MAX_PEERS];
    size_t n_peers;
    struct rfsm rfsm;
    struct fsm *fsm;
    struct pc_map pending; /* raft index -> struct clu_req of our proposals */
    void (*stop_cb)(void *arg);
    void *stop_arg;
    bool closing;
    uint64_t start_index; /* last log index at start: later ones are live */
    int64_t live_time;    /* ledger time after the last live entry (0: none) */
    uint64_t live_mono;   /* uv_now() when it applied */
    struct clu_members_state *mem; /* the peer-port hello (below) */
    uint64_t catch_up_ms;      /* raft's snapshot and catch-up limits, as set */
    uint64_t catch_up_base_ms; /* CLU_CATCH_UP_BASE_MS, or the test's */
    uint64_t joining;          /* the id clu_add works on until its cb, or 0 */
    /* Redactions' forced compactions (rfsm_purge_start). */
    char *raft_dir;
    char *purge_file;       /* exists while one is not done; NULL: none */
    unsigned purge_retries; /* checks in a row that found files left */
    uint64_t purges_checked;
    uint64_t nudge_until; /* uv_now() before which a leader nudges */
    uint64_t nudge_index; /* raft's last index after the last nudge */
    uint64_t nudges;      /* empty entries appended */
    bool nudge_in_flight;
    bool nudge_leader; /* leader at the last tick */
    char errmsg[PC_ERRMSG_SIZE];
};

/* How long a leader keeps the log moving for other nodes' compactions. */
#define PURGE_NUDGE_MS 20000
/* A redaction this recent (ledger time) when a node takes over may have
 * left other nodes mid-compaction. */
#define PURGE_RECENT_MS (24 * 3600 * 1000LL)
/* Compactions started again in a row when files remain, before giving up
 * until the next start (the file stays). */
#define PURGE_RETRIES 3

struct clu_req {
    union { /* first: raft's callbacks hand back its address */
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
    uint64_t t0_ns; /* proposals: when raft_apply took it */
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

/* raft owns io.data too. */
static struct clu *
clu_of_io(struct raft_io *io)
{
    return (struct clu *)((char *)io - offsetof(struct clu, io));
}

/* The state of peer `id` (created on first sight), or NULL when full. */
static struct clu_peer_state *
peer_state(struct clu *c, uint64_t id, const char *address)
{
    struct clu_peer_state *p = NULL;

    for (size_t i = 0; i < c->n_peers; i++) {
        if (c->peers[i].id == id) {
            p = &c->peers[i];
        }
    }
    if (p == NULL && c->n_peers < CLU_MAX_PEERS) {
        p = &c->peers[c->n_peers++];
        memset(p, 0, sizeof(*p));
        p->id = id;
    }
    if (p != NULL && address != NULL) {
        snprintf(p->address, sizeof(p->address), "%s", address);
    }
    return p;
}

static void
no_delay(struct uv_stream_s *stream)
{
    if (stream != NULL && stream->type == UV_TCP) {
        uv_tcp_nodelay((uv_tcp_t *)stream, 1);
    }
}

static void hello_received(struct clu *c, uint64_t id, const char *address,
                           uv_stream_t *stream);

static bool recent_redaction(struct clu *c);

static void
accepted(struct raft_uv_transport *t, raft_id id, const char *address,
         struct uv_stream_s *stream)
{
    struct clu *c = clu_of(t);

    if (strncmp(address, HELLO_PREFIX, strlen(HELLO_PREFIX)) == 0) {
        hello_received(c, id, address, stream); /* not raft's */
        return;
    }
    no_delay(stream);
    log_write(LOG_LEVEL_DEBUG, "peer_accepted",
              LOG_FIELDS(LOG_U64("peer", id), LOG_STR("address", address)),
              "peer %llu connected to us from %s", (unsigned long long)id,
              address);
    /* A peer (re)connecting may have restarted mid-way through a
     * redaction's compaction: a leader keeps the log moving a while. */
    if (recent_redaction(c)) {
        c->nudge_until = uv_now(c->loop) + PURGE_NUDGE_MS;
    }
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
 * keeps req->data for itself, so the callback to chain to is process-wide,
 * and so are the dials in flight (which clu and peer each is for).
 */
static raft_uv_connect_cb raft_connected;

#define CLU_MAX_DIALS 64
static struct clu_dial {
    struct raft_uv_connect *req;
    struct clu *c;
    uint64_t id;
} dials[CLU_MAX_DIALS];

/*
 * raft_uv dials a peer when it first has a message for it, and again
 * (after the retry delay) whenever the connection broke: a dial to a
 * peer we were connected to means that connection was lost. One line
 * each way at info/warn; failed retries only at debug.
 */
static void
connected(struct raft_uv_connect *req, struct uv_stream_s *stream, int status)
{
    struct clu_peer_state *p = NULL;

    for (size_t i = 0; i < CLU_MAX_DIALS; i++) {
        if (dials[i].req == req) {
            p = peer_state(dials[i].c, dials[i].id, NULL);
            dials[i].req = NULL;
            break;
        }
    }
    if (status == 0) {
        no_delay(stream);
    }
    if (p != NULL && status == 0) {
        p->up = true;
        p->connects++;
        log_write(
            LOG_LEVEL_INFO, "peer_connected",
            LOG_FIELDS(LOG_U64("peer", p->id), LOG_STR("address", p->address)),
            "connected to peer %llu at %s", (unsigned long long)p->id,
            p->address);
    } else if (p != NULL) {
        log_write(LOG_LEVEL_DEBUG, "peer_unreachable",
                  LOG_FIELDS(LOG_U64("peer", p->id),
                             LOG_STR("address", p->address),
                             LOG_STR("error", raft_strerror(status))),
                  "cannot connect to peer %llu at %s: %s",
                  (unsigned long long)p->id, p->address, raft_strerror(status));
    }
    raft_connected(req, stream, status);
}

static int
connect_nodelay(struct raft_uv_transport *t, struct raft_uv_connect *req,
                raft_id id, const char *address, raft_uv_connect_cb cb)
{
    struct clu *c = clu_of(t);
    struct clu_peer_state *p = peer_state(c, id, address);
    int rv;

    assert(raft_connected == NULL || raft_connected == cb);
    raft_connected = cb;
    if (p != NULL && p->up) {
        p->up = false;
        p->losses++;
        log_write(LOG_LEVEL_WARN, "peer_lost",
                  LOG_FIELDS(LOG_U64("peer", id), LOG_STR("address", address)),
                  "lost the connection to peer %llu at %s; reconnecting",
                  (unsigned long long)id, address);
    }
    rv = c->tcp_connect(t, req, id, address, connected);
    for (size_t i = 0; rv == 0 && i < CLU_MAX_DIALS; i++) {
        if (dials[i].req == NULL) {
            dials[i] = (struct clu_dial){ req, c, id };
            break;
        }
    }
    return rv;
}

/* ---- raft_io, observed ------------------------------------------------ */

/* An append in flight: raft's own data and callback, put back when done. */
struct clu_append {
    struct clu *c;
    void *data;
    raft_io_append_cb cb;
    uint64_t t0_ns;
};

static void
appended(struct raft_io_append *req, int status)
{
    struct clu_append *w = req->data;
    raft_io_append_cb cb = w->cb;

    pc_hist_observe_ns(&w->c->append_hist, pc_mono_ns() - w->t0_ns);
    req->data = w->data;
    pc_free(w);
    cb(req, status);
}

static int
append_timed(struct raft_io *io, struct raft_io_append *req,
             const struct raft_entry entries[], unsigned n,
             raft_io_append_cb cb)
{
    struct clu *c = clu_of_io(io);
    struct clu_append *w = pc_malloc(sizeof(*w));
    int rv;

    if (w == NULL) {
        return c->io_append(io, req, entries, n, cb); /* untimed */
    }
    *w = (struct clu_append){ c, req->data, cb, pc_mono_ns() };
    req->data = w;
    rv = c->io_append(io, req, entries, n, appended);
    if (rv != 0) {
        req->data = w->data;
        pc_free(w);
    }
    return rv;
}

static int
set_term_seen(struct raft_io *io, raft_term term)
{
    struct clu *c = clu_of_io(io);

    c->set_term = term;
    return c->io_set_term(io, term);
}

/* raft persists a vote for itself when it starts an election (after a
 * successful pre-vote round): clu_tick tells how it ended. */
static int
set_vote_seen(struct raft_io *io, raft_id server_id)
{
    struct clu *c = clu_of_io(io);
    raft_term term = raft_current_term(&c->raft);

    if (server_id == c->raft.id) {
        c->campaign_term = c->set_term > term ? c->set_term : term;
        log_write(LOG_LEVEL_DEBUG, "election_started",
                  LOG_FIELDS(LOG_U64("term", c->campaign_term)),
                  "starting an election for term %llu",
                  (unsigned long long)c->campaign_term);
    }
    return c->io_set_vote(io, server_id);
}

/*
 * Leadership against the last tick (every 50 ms): the end of an election
 * this node started, and changes of leader as this node sees them.
 */
static void
watch_leadership(struct clu *c)
{
    raft_term term = raft_current_term(&c->raft);
    int state = raft_state(&c->raft);
    uint64_t lid = clu_leader(c, NULL);

    if (c->campaign_term != 0) {
        if (state == RAFT_LEADER && term == c->campaign_term) {
            c->elections_won++;
            log_write(LOG_LEVEL_INFO, "election_won",
                      LOG_FIELDS(LOG_U64("term", term)),
                      "election won: leading term %llu",
                      (unsigned long long)term);
            c->campaign_term = 0;
        } else if (state != RAFT_CANDIDATE || term > c->campaign_term) {
            c->elections_lost++;
            log_write(LOG_LEVEL_INFO, "election_lost",
                      LOG_FIELDS(LOG_U64("term", c->campaign_term),
                                 LOG_U64("leader", lid),
                                 LOG_U64("current_term", term)),
                      "election for term %llu lost (now term %llu, leader "
                      "%llu)",
                      (unsigned long long)c->campaign_term,
                      (unsigned long long)term, (unsigned long long)lid);
            c->campaign_term = 0;
        }
    }
    if (lid != c->last_leader) {
        if (lid != 0) {
            c->leader_changes++;
        }
        const struct log_field *f =
            LOG_FIELDS(LOG_U64("from", c->last_leader), LOG_U64("to", lid),
                       LOG_U64("term", term));
        if (lid != 0) {
            log_write(LOG_LEVEL_INFO, "leader_changed", f,
                      "leader is node %llu in term %llu (was %llu)",
                      (unsigned long long)lid, (unsigned long long)term,
                      (unsigned long long)c->last_leader);
        } else {
            log_write(LOG_LEVEL_WARN, "leader_changed", f,
                      "no leader known in term %llu (was node %llu)",
                      (unsigned long long)term,
                      (unsigned long long)c->last_leader);
        }
        c->last_leader = lid;
    }
}

/* Raft resolves DNS names itself (0.17.2 on) when it listens and dials. */
#define CLU_RAFT_RESOLVES (RAFT_VERSION_NUMBER >= 1702)

static int resolve_v4(const char *address, char out[CLU_ADDRESS_SIZE],
                      char *errmsg);

/* ---- the peer-port hello (hello.h) ------------------------------------ */

#define HELLO_TIMEOUT_MS 1000
#define HELLO_EVERY_MS   1000 /* a follower's URL, at most */
#define PROBE_EVERY_MS   2000 /* a leaderless node's probe, at most */
#define HELLOS_MAX       16   /* in flight; one per peer */
#define CLAIMS_MAX       8

/* URLs members told this leader, waiting for clu_url_claim. */
struct clu_claim {
    uint64_t id;
    char url[HELLO_URL_MAX + 1];
    char address[64];
};

struct clu_members_state {
    char client_url[HELLO_URL_MAX + 1]; /* ours, "" when unknown */
    unsigned election_ms;
    bool was_member;        /* a configuration listed us at some point */
    bool removed;           /* latched */
    char why[160];          /* how we learnt it */
    uint64_t leaderless_ms; /* uv_now() since no leader is known; 0 */
    uint64_t next_url_ms;   /* earliest next hello to the leader */
    uint64_t next_probe_ms; /* earliest next probe of every member */
    struct {
        struct hello_conn *hc;
        uint64_t peer;
    } hellos[HELLOS_MAX];
    struct clu_claim claims[CLAIMS_MAX];
    size_t n_claims;
    struct clu_claim taken; /* the one clu_url_claim handed out */
};

static const struct raft_server *
server_of(const struct clu *c, uint64_t id)
{
    const struct raft_configuration *conf = &c->raft.configuration;

    for (unsigned i = 0; i < conf->n; i++) {
        if (conf->servers[i].id == id) {
            return &conf->servers[i];
        }
    }
    return NULL;
}

static bool
config_committed(const struct clu *c)
{
    return c->raft.configuration.n > 0 &&
           c->raft.configuration_uncommitted_index == 0;
}

static void
set_removed(struct clu *c, const char *why)
{
    if (!c->mem->removed) {
        c->mem->removed = true;
        snprintf(c->mem->why, sizeof(c->mem->why), "%s", why);
    }
}

/* The answering side: state of this node as the asker sees it, and a
 * member's URL claim kept when this node leads. */
static void
hello_received(struct clu *c, uint64_t id, const char *address,
               uv_stream_t *stream)
{
    const char *cid = fsm_cluster_id(c->fsm), *cur;
    const struct raft_server *s = server_of(c, id);
    struct hello_reply r;
    struct hello h;
    char line[256];
    bool malformed;

    if (!hello_parse(address, &h, &malformed)) {
        hello_answer(stream, ""); /* malformed: closed unanswered */
        return;
    }
    memset(&r, 0, sizeof(r));
    snprintf(r.state, sizeof(r.state), "%s", clu_state_name(c));
    r.term = raft_current_term(&c->raft);
    r.member = s != NULL;
    r.committed = config_committed(c);
    snprintf(r.cluster, sizeof(r.cluster), "%s", cid != NULL ? cid : "");
    if (hello_reply_format(line, sizeof(line), &r) != PC_OK) {
        line[0] = '\0';
    }
    hello_answer(stream, line);
    cur = fsm_member_url(c->fsm, id);
    if (raft_state(&c->raft) != RAFT_LEADER || s == NULL || cid == NULL ||
        strcmp(h.cluster, cid) != 0 ||
        (cur != NULL && strcmp(cur, h.url) == 0)) {
        return;
    }
    for (size_t i = 0; i < c->mem->n_claims; i++) {
        if (c->mem->claims[i].id == id) {
            snprintf(c->mem->claims[i].url, sizeof(c->mem->claims[i].url), "%s",
                     h.url);
            return;
        }
    }
    if (c->mem->n_claims < CLAIMS_MAX) {
        struct clu_claim *k = &c->mem->claims[c->mem->n_claims++];

        k->id = id;
        snprintf(k->url, sizeof(k->url), "%s", h.url);
        snprintf(k->address, sizeof(k->address), "%s", s->address);
    }
}

int
clu_url_claim(struct clu *c, uint64_t *id, const char **url,
              const char **address)
{
    struct clu_members_state *m = c->mem;

    if (m->n_claims == 0) {
        return PC_ENOTFOUND;
    }
    m->taken = m->claims[0];
    memmove(&m->claims[0], &m->claims[1],
            (m->n_claims - 1) * sizeof(m->claims[0]));
    m->n_claims--;
    *id = m->taken.id;
    *url = m->taken.url;
    *address = m->taken.address;
    return PC_OK;
}

bool
clu_removed(struct clu *c, const char **why)
{
    if (why != NULL) {
        *why = c->mem->why;
    }
    return c->mem->removed;
}

/* An answer to one of our hellos: only a leader of our cluster, in our
 * term or a later one, whose committed configuration lacks us, says that
 * we were removed (a deposed leader's older configuration, or one whose
 * change is still uncommitted, does not). */
static void
hello_answered(void *arg, uint64_t peer, const struct hello_reply *r)
{
    struct clu *c = arg;
    const char *cid = fsm_cluster_id(c->fsm);
    char why[160];

    for (int i = 0; i < HELLOS_MAX; i++) {
        if (c->mem->hellos[i].hc != NULL && c->mem->hellos[i].peer == peer) {
            c->mem->hellos[i].hc = NULL;
        }
    }
    if (r == NULL || cid == NULL || strcmp(r->state, "leader") != 0 ||
        strcmp(r->cluster, cid) != 0 || !r->committed || r->member ||
        r->term < raft_current_term(&c->raft) ||
        server_of(c, c->raft.id) == NULL) {
        return;
    }
    snprintf(why, sizeof(why),
             "leader %llu (term %llu) no longer lists this node",
             (unsigned long long)peer, (unsigned long long)r->term);
    set_removed(c, why);
}

static void
hello_to(struct clu *c, uint64_t peer, const char *address)
{
    const char *cid = fsm_cluster_id(c->fsm);
    struct hello h;
    int free_slot = -1;

    for (int i = 0; i < HELLOS_MAX; i++) {
        if (c->mem->hellos[i].hc != NULL && c->mem->hellos[i].peer == peer) {
            return; /* one at a time */
        }
        if (c->mem->hellos[i].hc == NULL && free_slot < 0) {
            free_slot = i;
        }
    }
    if (free_slot < 0 || cid == NULL || strlen(cid) > HELLO_CID_MAX) {
        return;
    }
    memset(&h, 0, sizeof(h));
    snprintf(h.cluster, sizeof(h.cluster), "%s", cid);
    snprintf(h.url, sizeof(h.url), "%s", c->mem->client_url);
    if (hello_send(c->loop, address, peer, c->raft.id, &h, HELLO_TIMEOUT_MS,
                   hello_answered, c, &c->mem->hellos[free_slot].hc) == PC_OK) {
        c->mem->hellos[free_slot].peer = peer;
    } else {
        c->mem->hellos[free_slot].hc = NULL;
    }
}

static void
hellos_cancel(struct clu *c)
{
    for (int i = 0; i < HELLOS_MAX; i++) {
        if (c->mem->hellos[i].hc != NULL) {
            hello_cancel(c->mem->hellos[i].hc);
            c->mem->hellos[i].hc = NULL;
        }
    }
}

/*
 * Every watch tick: learn from the configuration whether this node was
 * removed; as a follower whose URL the ledger lacks, tell the leader; as
 * a node that has heard from no leader for two election timeouts, ask the
 * members of its configuration whether it still belongs.
 */
static void
membership_watch(struct clu *c)
{
    struct clu_members_state *m = c->mem;
    const struct raft_configuration *conf = &c->raft.configuration;
    uint64_t now = uv_now(c->loop), leader;
    const char *laddr = NULL, *url;
    bool me = server_of(c, c->raft.id) != NULL;

    m->was_member |= me;
    if (raft_state(&c->raft) != RAFT_LEADER) {
        m->n_claims = 0; /* a later leader hears them again */
    }
    if (m->removed) {
        return;
    }
    if (m->was_member && !me && config_committed(c)) {
        set_removed(c, "the committed configuration no longer lists this "
                       "node");
        return;
    }
    leader = clu_leader(c, &laddr);
    if (leader != 0) {
        m->leaderless_ms = 0;
    } else if (m->leaderless_ms == 0) {
        m->leaderless_ms = now;
    }
    if (!me || m->client_url[0] == '\0' || fsm_cluster_id(c->fsm) == NULL) {
        return;
    }
    url = fsm_member_url(c->fsm, c->raft.id);
    if (leader != 0 && leader != c->raft.id && laddr != NULL &&
        (url == NULL || strcmp(url, m->client_url) != 0) &&
        now >= m->next_url_ms) {
        m->next_url_ms = now + HELLO_EVERY_MS;
        hello_to(c, leader, laddr);
    }
    if (leader == 0 && m->leaderless_ms != 0 &&
        now - m->leaderless_ms >= 2 * (uint64_t)m->election_ms &&
        now >= m->next_probe_ms) {
        m->next_probe_ms = now + PROBE_EVERY_MS;
        for (unsigned i = 0; i < conf->n; i++) {
            if (conf->servers[i].id != c->raft.id) {
                hello_to(c, conf->servers[i].id, conf->servers[i].address);
            }
        }
    }
}

/* ---- redactions' compactions ---------------------------------------- */

/* fsync the directory holding `path`. */
static void
sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    int fd;

    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else {
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Create the purge file (durably: it must outlive a crash mid-way). */
static void
purge_file_write(struct clu *c)
{
    static const char text[] =
        "a redaction's compaction is not finished: provcat-node compacts "
        "again when it starts\n";
    int fd;

    if (c->purge_file == NULL) {
        return;
    }
    fd = open(c->purge_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, sizeof(text) - 1) < 0 || fsync(fd) != 0) {
        fprintf(stderr, "provcat-node: write '%s': %s\n", c->purge_file,
                strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    sync_parent(c->purge_file);
}

/*
 * Whether raft's directory still holds a snapshot below index `bound` or
 * a closed log segment that starts at or below it (file names say:
 * snapshot-TERM-INDEX-TIME[.meta], FIRST-LAST; open segments hold only
 * entries appended after the last snapshot began). True when it cannot
 * tell.
 */
static bool
raft_dir_holds_before(const char *dir, uint64_t bound)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool held = false;

    if (d == NULL) {
        return true;
    }
    while (!held && (e = readdir(d)) != NULL) {
        unsigned long long a, b, t;
        int len = 0;

        if (sscanf(e->d_name, "snapshot-%llu-%llu-%llu%n", &t, &b, &a, &len) ==
                3 &&
            len > 0) {
            held = b < bound;
        } else if (strlen(e->d_name) == 33 && e->d_name[16] == '-' &&
                   sscanf(e->d_name, "%llu-%llu", &a, &b) == 2) {
            held = a <= bound;
        }
    }
    closedir(d);
    return held;
}

/*
 * rfsm's hook: a compaction starts (write the purge file first) or its
 * second snapshot is written (check the files, then remove the purge
 * file, or start over). A leader keeps the log moving meanwhile.
 */
static void
purge_changed(void *arg, bool done, uint64_t bound)
{
    struct clu *c = arg;

    c->nudge_until = uv_now(c->loop) + PURGE_NUDGE_MS;
    if (!done) {
        purge_file_write(c);
        return;
    }
    if (c->closing) {
        return; /* raft gave the snapshot up: the file stays */
    }
    if (raft_dir_holds_before(c->raft_dir, bound)) {
        /* UNTESTED: raft gave the second snapshot's put up (out of
         * memory) after finalize, or deleted less than it should. */
        if (c->purge_retries++ < PURGE_RETRIES) {
            rfsm_purge_start(&c->rfsm);
        } else {
            fprintf(stderr,
                    "provcat-node: a redaction's compaction left files from "
                    "before raft index %llu in '%s'; it runs again at the "
                    "next start\n",
                    (unsigned long long)bound, c->raft_dir);
        }
        return;
    }
    c->purge_retries = 0;
    c->purges_checked++;
    if (c->purge_file != NULL && unlink(c->purge_file) == 0) {
        sync_parent(c->purge_file);
    }
}

/* Whether the ledger's last redaction is recent (ledger time). */
static bool
recent_redaction(struct clu *c)
{
    const struct led *l = fsm_led(c->fsm);
    const uint64_t *revs;
    size_t n = fsm_redactions(c->fsm, &revs);
    struct fact f;

    return n > 0 && led_get(l, revs[n - 1], &f) == PC_OK &&
           f.time_ms + PURGE_RECENT_MS >= led_time(l);
}

static void
nudge_done(void *arg, int rc)
{
    struct clu *c = arg;

    (void)rc;
    c->nudge_in_flight = false;
}

/* See clu_tick. */
static void
nudge(struct clu *c)
{
    uint64_t now = uv_now(c->loop), last = raft_last_index(&c->raft);
    bool leader = raft_state(&c->raft) == RAFT_LEADER;

    if (leader && !c->nudge_leader && recent_redaction(c)) {
        c->nudge_until = now + PURGE_NUDGE_MS;
    }
    c->nudge_leader = leader;
    if (c->rfsm.purge != RFSM_PURGE_NONE) {
        c->nudge_until = now + PURGE_NUDGE_MS;
    }
    if (!leader || now >= c->nudge_until || c->nudge_in_flight ||
        last != c->nudge_index) {
        c->nudge_index = last; /* moving, or not ours to move */
        return;
    }
    if (clu_barrier(c, nudge_done, c) == PC_OK) {
        c->nudge_in_flight = true;
        c->nudges++;
        c->nudge_index = raft_last_index(&c->raft);
    }
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
    char address[CLU_ADDRESS_SIZE], bad[PC_ERRMSG_SIZE];
    struct raft_tracer *tracer;
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
    /* This node's own name must resolve now (raft binds it at start): a
     * precise error (exit 2) rather than raft's bare I/O error; with raft
     * 0.15 every founder's too, as it is resolved once, now. */
    rv = resolve_v4(o->address, address, bad);
    if (rv != PC_OK) {
        return pc_errmsgf(errmsg, rv, "--peer: %s", bad);
    }
    for (unsigned i = 0; !CLU_RAFT_RESOLVES && o->bootstrap && i < o->n_peers;
         i++) {
        rv = resolve_v4(o->peers[i].address, address, bad);
        if (rv != PC_OK) {
            return pc_errmsgf(errmsg, rv, "--cluster: %s", bad);
        }
    }
    clu_resolve(o->address, address, NULL); /* resolved above */
    c = pc_calloc(1, sizeof(*c));
    if (c == NULL) {
        return PC_ENOMEM;
    }
    c->mem = pc_calloc(1, sizeof(*c->mem));
    if (c->mem == NULL) {
        pc_free(c);
        return PC_ENOMEM;
    }
    if (o->client_url != NULL) {
        snprintf(c->mem->client_url, sizeof(c->mem->client_url), "%s",
                 o->client_url);
    }
    c->mem->election_ms = o->election_ms;
    c->loop = loop;
    c->fsm = fsm;
    c->raft_dir = pc_strdup(o->raft_dir);
    c->purge_file = o->purge_file != NULL ? pc_strdup(o->purge_file) : NULL;
    if (c->raft_dir == NULL || (o->purge_file != NULL && !c->purge_file)) {
        pc_free(c->raft_dir);
        pc_free(c->purge_file);
        pc_free(c);
        return PC_ENOMEM;
    }
    rfsm_init(&c->rfsm, fsm, fatal, fatal_arg);
    c->rfsm.applied = applied_cb;
    c->rfsm.applied_arg = c;
    c->rfsm.purge_cb = purge_changed;
    c->rfsm.purge_arg = c;
    pc_map_init(&c->pending);

#if PC_RAFT_HAS_017
    c->transport.version = 1;
#endif
    c->transport.data = c;
    rv = raft_uv_tcp_init(&c->transport, loop);
    if (rv != 0) {
        pc_free(c->mem);
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
    c->io_append = c->io.append;
    c->io_set_term = c->io.set_term;
    c->io_set_vote = c->io.set_vote;
    c->io.append = append_timed;
    c->io.set_term = set_term_seen;
    c->io.set_vote = set_vote_seen;
    rv = raft_init(&c->raft, &c->io, &c->rfsm.raft_fsm, o->id, address);
    if (rv != 0) {
        pc_errmsgf(errmsg, PC_EIO, "raft init: %s", raft_errmsg(&c->raft));
        raft_uv_close(&c->io);
        goto err_transport;
    }
    c->raft.data = c;
    c->rfsm.raft = &c->raft;
    /* The default tracer formats every message even when disabled: ours
     * at debug, none otherwise (0.15.0 calls it unconditionally: there the
     * default stays below debug). */
    tracer = log_raft_tracer();
#if PC_RAFT_HAS_017
    c->raft.tracer = tracer;
    raft_uv_set_tracer(&c->io, tracer);
#else
    if (tracer != NULL) {
        c->raft.tracer = tracer;
        raft_uv_set_tracer(&c->io, tracer);
    }
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
            char peer[CLU_ADDRESS_SIZE];

            rv = clu_resolve(o->peers[i].address, peer, errmsg);
            if (rv != PC_OK) {
                raft_configuration_close(&conf);
                goto err_raft;
            }
            rv =
                raft_configuration_add(&conf, o->peers[i].id, peer, RAFT_VOTER);
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
    c->rfsm.started = true;
    if (c->rfsm.restores > 0) {
        log_write(LOG_LEVEL_INFO, "snapshot_loaded",
                  LOG_FIELDS(LOG_U64("index", raft_last_applied(&c->raft)),
                             LOG_U64("revision", led_count(fsm_led(fsm))),
                             LOG_U64("bytes", c->rfsm.restore_bytes),
                             LOG_U64("ms", c->rfsm.restore_ms)),
                  "snapshot loaded at start: index %llu, revision %llu, "
                  "%llu bytes in %llu ms",
                  (unsigned long long)raft_last_applied(&c->raft),
                  (unsigned long long)led_count(fsm_led(fsm)),
                  (unsigned long long)c->rfsm.restore_bytes,
                  (unsigned long long)c->rfsm.restore_ms);
    }
    if (c->purge_file != NULL && access(c->purge_file, F_OK) == 0) {
        /* Stopped before a redaction's compaction was done. */
        rfsm_purge_start(&c->rfsm);
    }
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
    pc_free(c->mem);
    pc_free(c->raft_dir);
    pc_free(c->purge_file);
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
    pc_free(c->mem);
    pc_free(c->raft_dir);
    pc_free(c->purge_file);
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
    hellos_cancel(c);
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
    if (rc == PC_OK) {
        pc_hist_observe_ns(&q->c->commit_hist, pc_mono_ns() - q->t0_ns);
    }
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
    q->t0_ns = pc_mono_ns();
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
        membership_watch(c);
        catch_up_limits(c);
        watch_leadership(c);
        nudge(c);
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
    char resolved[CLU_ADDRESS_SIZE];
    int rv;

    if (q == NULL) {
        return PC_ENOMEM;
    }
    rv = clu_resolve(address, resolved, NULL);
    if (rv != PC_OK) {
        pc_free(q);
        return PC_EUNAVAIL;
    }
    address = resolved;
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
    out->elections_won = c->elections_won;
    out->elections_lost = c->elections_lost;
    out->leader_changes = c->leader_changes;
    out->append = c->append_hist;
    out->commit = c->commit_hist;
    out->apply = c->rfsm.apply_hist;
    out->purge_pending =
        c->rfsm.purge != RFSM_PURGE_NONE ||
        (c->purge_file != NULL && access(c->purge_file, F_OK) == 0);
    out->purges_started = c->rfsm.purges_started;
    out->purges_done = c->purges_checked;
    out->purge_nudges = c->nudges;
}

size_t
clu_peers(struct clu *c, const struct clu_peer_state **out)
{
    *out = c->peers;
    return c->n_peers;
}

/* `address` ("host:port") with its host resolved to an IPv4 address now
 * (blocking): PC_OK, or PC_EINVAL naming the name. */
static int
resolve_v4(const char *address, char out[CLU_ADDRESS_SIZE], char *errmsg)
{
    const char *colon = strrchr(address, ':');
    struct addrinfo hints, *ai = NULL;
    char host[CLU_ADDRESS_SIZE], ip[INET_ADDRSTRLEN];
    struct in_addr lit;
    int rv;

    if (colon == NULL || (size_t)(colon - address) >= sizeof(host)) {
        return pc_errmsgf(errmsg, PC_EINVAL, "bad raft address '%s'", address);
    }
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    if (inet_pton(AF_INET, host, &lit) == 1) {
        snprintf(out, CLU_ADDRESS_SIZE, "%s", address);
        return PC_OK;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    rv = getaddrinfo(host, NULL, &hints, &ai);
    if (rv != 0 || ai == NULL) {
        if (ai != NULL) {
            freeaddrinfo(ai);
        }
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "cannot resolve '%s' in raft address '%s': %s", host,
                          address, rv != 0 ? gai_strerror(rv) : "no address");
    }
    inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, ip,
              sizeof(ip));
    freeaddrinfo(ai);
    snprintf(out, CLU_ADDRESS_SIZE, "%s%s", ip, colon);
    return PC_OK;
}

/*
 * With raft 0.15.0 (make RAFT=system), which takes IPv4 literals only,
 * names are resolved here, once: at start, and for a member added (rare,
 * an operator's request). Blocking.
 */
int
clu_resolve(const char *address, char out[CLU_ADDRESS_SIZE], char *errmsg)
{
    int rc;

    if (CLU_RAFT_RESOLVES) {
        snprintf(out, CLU_ADDRESS_SIZE, "%s", address);
        return PC_OK;
    }
    rc = resolve_v4(address, out, errmsg);
    if (rc == PC_OK && strcmp(out, address) != 0) {
        log_write(LOG_LEVEL_INFO, "resolved",
                  LOG_FIELDS(LOG_STR("name", address), LOG_STR("address", out)),
                  "resolved raft address %s to %s (once: raft 0.15)", address,
                  out);
    }
    return rc;
}
