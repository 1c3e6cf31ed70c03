/* SPDX-License-Identifier: MIT */
/*
 * raft_fsm version 2 (snapshot + finalize). The snapshot buffer is the
 * storage codec over a frozen ledger view; raft writes it from its thread
 * pool and calls finalize, where the view is released.
 */
#include "node/rfsm.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/timefmt.h"
#include "storage/snap.h"

static int
apply_cb(struct raft_fsm *rf, const struct raft_buffer *buf, void **result)
{
    struct rfsm *s = rf->data;
    uint64_t index = raft_last_applied(s->raft) + 1;
    char errmsg[PC_ERRMSG_SIZE] = "";
    int rc = fsm_apply(s->fsm, buf->base, buf->len, index, errmsg);

    *result = NULL;
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

static int
snapshot_cb(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct rfsm *s = rf->data;
    struct led *l = fsm_led(s->fsm);
    struct led_view *v = NULL;
    struct pc_buf out;
    char errmsg[PC_ERRMSG_SIZE];
    int64_t t0 = pc_now_ms();

    if (s->view != NULL) {
        return RAFT_BUSY;
    }
    if (led_view_open(l, &v) != PC_OK) {
        return RAFT_NOMEM;
    }
    pc_buf_init(&out);
    /* TODO(#3): encode on a worker thread, adding only the tail here. */
    if (snap_encode_buf(v, &out, errmsg) != PC_OK) {
        led_view_close(l, v);
        pc_buf_release(&out);
        return RAFT_NOMEM;
    }
    *bufs = raft_malloc(sizeof(**bufs));
    if (*bufs == NULL) {
        led_view_close(l, v);
        pc_buf_release(&out);
        return RAFT_NOMEM;
    }
    (*bufs)[0].len = out.len;
    (*bufs)[0].base = pc_buf_detach(&out, NULL);
    *n_bufs = 1;
    s->view = v;
    s->snapshots++;
    s->snapshot_bytes = (*bufs)[0].len;
    s->snapshot_ms = (uint64_t)(pc_now_ms() - t0);
    return 0;
}

static int
finalize_cb(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct rfsm *s = rf->data;

    for (unsigned i = 0; i < *n_bufs; i++) {
        pc_free((*bufs)[i].base);
    }
    raft_free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    rfsm_release(s);
    return 0;
}

static int
restore_cb(struct raft_fsm *rf, struct raft_buffer *buf)
{
    struct rfsm *s = rf->data;
    struct led *l = NULL;
    char errmsg[PC_ERRMSG_SIZE] = "";
    int rc;

    if (s->view != NULL) {
        return RAFT_BUSY; /* never replace the ledger under a view */
    }
    rc = snap_decode(buf->base, buf->len, &l, errmsg);
    if (rc == PC_OK) {
        rc = fsm_restore(s->fsm, l, errmsg);
        if (rc != PC_OK) {
            led_free(l);
        }
    }
    if (rc != PC_OK) {
        fprintf(stderr, "provcat-node: snapshot refused: %s\n", errmsg);
        return rc == PC_ENOMEM ? RAFT_NOMEM : RAFT_CORRUPT;
    }
    s->restores++;
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
    if (s->view != NULL) {
        led_view_close(fsm_led(s->fsm), s->view);
        s->view = NULL;
    }
}
