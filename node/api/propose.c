/* SPDX-License-Identifier: MIT */
/*
 * Proposals: a write becomes a command (node/cmd.h) stamped with the
 * leader's clock, the principal, a request id and the Idempotency-Key;
 * every command proposed during one loop turn travels in one raft entry.
 * Answers are rebuilt from the facts a command appended, so an idempotent
 * replay answers exactly like the original.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
#include "storage/led.h"

struct api_write {
    struct node *n;
    struct http_request *req;
    api_done_fn done;
    void *ctx;
    /* A node-internal command (req NULL): one of these, or neither. */
    api_system_cb sys_cb;
    api_system_arg_cb sys_arg_cb;
    void *sys_arg;
};

/* Tell a node-internal command's callback how it ended; frees `w`. */
static void
system_done(struct node *n, struct api_write *w, int rc,
            const struct fsm_result *res)
{
    if (w->sys_cb != NULL) {
        w->sys_cb(n, rc, res);
    } else if (w->sys_arg_cb != NULL) {
        w->sys_arg_cb(n, rc, res, w->sys_arg);
    }
    pc_free(w);
}

static void
write_done(void *arg, int rc, const struct fsm_result *res, size_t nres)
{
    struct api_write *w = arg;
    struct node *n = w->n;
    struct http_request *req = w->req;

    if (req == NULL) { /* a node-internal command */
        system_done(n, w, rc, nres > 0 ? res : NULL);
        return;
    }
    if (rc == PC_EUNAVAIL) {
        api_error(n, req, 503, "outcome_unknown",
                  "leadership was lost before the write applied; it may "
                  "or may not take effect: retry only with the same "
                  "Idempotency-Key");
        return;
    }
    if (rc != PC_OK || nres < 1) {
        api_error(n, req, 503, "unavailable", "the write failed: %s",
                  pc_strerror(rc));
        return;
    }
    if (res[0].replayed) {
        http_req_add_header(req, "Idempotent-Replayed", "true");
    }
    if (res[0].status >= 400) {
        if (res[0].status == 403) {
            /* Refused in apply: a rejection fact too. */
            api_security_event(n, req, "denied", res[0].message);
        }
        api_answer_rejection(n, req, &res[0]);
        return;
    }
    w->done(n, req, &res[0], w->ctx);
}

static bool
idem_key_valid(const char *k)
{
    size_t len = strlen(k);

    if (len < 1 || len > 64) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
              c == '-')) {
            return false;
        }
    }
    return true;
}

void
node_request_id(struct node *n, char out[64])
{
    snprintf(out, 64, "%s-%llu", n->ids.prefix,
             (unsigned long long)++n->ids.seq);
}

/*
 * Commands proposed during one loop turn travel in one raft entry (up to
 * NODE_BATCH_MAX commands or BATCH_BYTES): one log append and one
 * replication round for all of them. apply answers each command in order.
 */
#define BATCH_BYTES (512u << 10)

struct api_batch {
    size_t n;
    struct api_write *w[];
};

static void
answer_unproposed(struct node *n, struct api_write *w, int rc)
{
    if (w->req == NULL) {
        system_done(n, w, rc, NULL);
    } else {
        api_unproposed(n, w->req, rc, "could not propose");
    }
}

static void
batch_done(void *arg, int rc, const struct fsm_result *res, size_t nres)
{
    struct api_batch *b = arg;

    for (size_t i = 0; i < b->n; i++) {
        bool ok = rc == PC_OK && i < nres;
        write_done(b->w[i], ok || rc != PC_OK ? rc : PC_EIO,
                   ok ? &res[i] : NULL, ok ? 1 : 0);
    }
    pc_free(b);
}

void
api_batch_flush(struct node *n)
{
    struct api_batch *b;
    struct pc_buf entry;
    size_t count = n->batch.n;
    int rc;

    api_audit_flush(n); /* audit batches ride the same raft entry */
    count = n->batch.n;
    if (count == 0) {
        return;
    }
    n->batch.n = 0;
    pc_buf_init(&entry);
    b = pc_malloc(sizeof(*b) + count * sizeof(b->w[0]));
    rc = b == NULL ? PC_ENOMEM : cmd_entry_begin(&entry, (uint32_t)count);
    if (rc == PC_OK) {
        rc = pc_buf_put(&entry, n->batch.cmds.data, n->batch.cmds.len);
    }
    if (rc == PC_OK) {
        rc = cmd_entry_end(&entry);
    }
    n->batch.cmds.len = 0;
    if (rc == PC_OK) {
        b->n = count;
        memcpy(b->w, n->batch.w, count * sizeof(b->w[0]));
        rc = clu_propose(n->clu, &entry, batch_done, b);
    }
    pc_buf_release(&entry);
    if (rc != PC_OK) {
        pc_free(b);
        for (size_t i = 0; i < count; i++) {
            answer_unproposed(n, n->batch.w[i], rc);
        }
        return;
    }
    n->batch.entries++;
    n->batch.commands += count;
}

static int
propose(struct node *n, struct cmd *c, struct api_write *w)
{
    struct pc_buf one;
    int rc;

    if (!clu_is_leader(n->clu)) {
        return PC_ENOTLEADER;
    }
    if (n->disk.low) {
        return PC_ENOSPC;
    }
    if (n->batch.n == NODE_BATCH_MAX || n->batch.cmds.len > BATCH_BYTES) {
        api_batch_flush(n);
    }
    pc_buf_init(&one);
    rc = cmd_encode(c, &one);
    if (rc == PC_OK) {
        size_t old = n->batch.cmds.len;
        rc = pc_buf_put_lp(&n->batch.cmds, one.data, one.len);
        if (rc != PC_OK) {
            n->batch.cmds.len = old;
        }
    }
    pc_buf_release(&one);
    if (rc != PC_OK) {
        return rc;
    }
    n->batch.w[n->batch.n++] = w;
    return PC_OK;
}

/* Leader clock against ledger time (docs/node.md: ledger time). */
const char *
api_clock_skew(struct node *n)
{
    struct led *l = fsm_led(n->fsm);
    int64_t now = pc_now_ms(), live;

    if (led_count(l) == 0) {
        return NULL;
    }
    if (now < led_time(l) - CLOCK_BEHIND_MS) {
        return "this leader's clock is behind ledger time";
    }
    /* Ledger time itself cannot tell a clock that ran ahead: compare with
     * the ledger time other leaders stamped, carried forward. */
    if (clu_live_time(n->clu, &live) && now > live + CLOCK_AHEAD_MS) {
        return "this leader's clock is ahead of ledger time";
    }
    return NULL;
}

void
api_propose(struct node *n, struct http_request *req, uint32_t type,
            const char *target, bool with_body, json_t *extra, api_done_fn done,
            void *ctx)
{
    char *xs = NULL;

    if (extra != NULL) {
        xs = json_dumps(extra, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(extra);
        if (xs == NULL) {
            api_error(n, req, 503, "unavailable", "out of memory");
            return;
        }
    }
    api_propose_bytes(n, req, type, target,
                      with_body ? &(struct pc_slice){ req->body, req->body_len }
                                : NULL,
                      xs, done, ctx);
    free(xs);
}

void
api_propose_bytes(struct node *n, struct http_request *req, uint32_t type,
                  const char *target, const struct pc_slice *body,
                  const char *extra, api_done_fn done, void *ctx)
{
    struct api_req *a = api_req(req);
    const char *ik = http_req_header(req, "Idempotency-Key");
    struct api_write *w;
    const char *skew;
    char rid[64];
    struct cmd c;
    int rc;

    if (ik != NULL && !idem_key_valid(ik)) {
        api_error(n, req, 400, "bad_request",
                  "Idempotency-Key must be 1-64 of [A-Za-z0-9._:-]");
        return;
    }
    if ((skew = api_clock_skew(n)) != NULL) {
        node_security_event(n, "clock_skew", "", skew);
        if (clu_transfer(n->clu, 0, NULL, NULL) == PC_OK) {
            struct log_field f[6];

            log_write(LOG_LEVEL_WARN, "leadership_transfer",
                      api_log_fields(req,
                                     LOG_FIELDS(LOG_STR("reason", "clock_skew"),
                                                LOG_U64("from", n->o.id),
                                                LOG_U64("to", 0)),
                                     f, 6),
                      "%s: handing over leadership (to any voter)", skew);
        }
        api_error(n, req, 503, "clock_skew",
                  "%s; it is handing over leadership", skew);
        return;
    }
    w = http_req_alloc(req, sizeof(*w));
    if (w == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    memset(w, 0, sizeof(*w));
    w->n = n;
    w->req = req;
    w->done = done;
    w->ctx = ctx;
    memset(&c, 0, sizeof(c));
    c.type = type;
    c.rules = CMD_RULES_VERSION;
    c.time_ms = pc_now_ms();
    c.principal = PC_SLICE_STR(a->principal);
    if (!a->request_id_given && !a->request_id_used) {
        /* The id the answer's X-Request-Id shows, unique as made here. */
        c.request_id = PC_SLICE_STR(a->request_id);
        a->request_id_used = true;
    } else {
        /* A client's id may repeat, and a request's second command needs
         * its own (replay finds a command's facts by their common id). */
        node_request_id(n, rid);
        c.request_id = PC_SLICE_STR(rid);
        if (a->fact_request_id[0] == '\0') {
            memcpy(a->fact_request_id, rid, sizeof(rid));
        }
    }
    if (ik != NULL) {
        c.idem_key = PC_SLICE_STR(ik);
        cmd_fingerprint(c.fingerprint, req->method, req->path,
                        body != NULL ? req->body : NULL,
                        body != NULL ? req->body_len : 0);
    }
    if (target != NULL) {
        c.target = PC_SLICE_STR(target);
    }
    if (body != NULL) {
        c.body = *body;
    }
    if (extra != NULL) {
        c.extra = PC_SLICE_STR(extra);
    }
    rc = propose(n, &c, w);
    if (rc != PC_OK) {
        api_unproposed(n, req, rc, "could not propose");
    }
}

/* A node-internal command: principal "system", no HTTP request; `body`
 * (may be NULL) and `xs` (the extra as text, may be NULL) are copied into
 * the batch. */
static int
propose_system_raw(struct node *n, uint32_t type, const char *target,
                   const struct pc_slice *body, const char *xs,
                   struct api_write *w)
{
    char rid[64];
    struct cmd c;
    int rc;

    w->n = n;
    memset(&c, 0, sizeof(c));
    c.type = type;
    c.rules = CMD_RULES_VERSION;
    c.time_ms = pc_now_ms();
    node_request_id(n, rid);
    c.request_id = PC_SLICE_STR(rid);
    if (target != NULL) {
        c.target = PC_SLICE_STR(target);
    }
    if (body != NULL) {
        c.body = *body;
    }
    if (xs != NULL) {
        c.extra = PC_SLICE_STR(xs);
    }
    rc = propose(n, &c, w);
    if (rc != PC_OK) {
        pc_free(w);
    }
    return rc;
}

static int
propose_system(struct node *n, uint32_t type, const char *target, json_t *extra,
               struct api_write *w)
{
    char *xs = NULL;
    int rc;

    if (extra != NULL) {
        xs = json_dumps(extra, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(extra);
        if (xs == NULL) {
            pc_free(w);
            return PC_ENOMEM;
        }
    }
    rc = propose_system_raw(n, type, target, NULL, xs, w);
    free(xs);
    return rc;
}

int
api_propose_system_body(struct node *n, uint32_t type,
                        const struct pc_slice *body, const char *extra,
                        api_system_arg_cb cb, void *arg)
{
    struct api_write *w = pc_calloc(1, sizeof(*w));

    if (w == NULL) {
        return PC_ENOMEM;
    }
    w->sys_arg_cb = cb;
    w->sys_arg = arg;
    return propose_system_raw(n, type, NULL, body, extra, w);
}

int
api_propose_system(struct node *n, uint32_t type, const char *target,
                   json_t *extra, api_system_cb cb)
{
    struct api_write *w = pc_calloc(1, sizeof(*w));

    if (w == NULL) {
        json_decref(extra);
        return PC_ENOMEM;
    }
    w->sys_cb = cb;
    return propose_system(n, type, target, extra, w);
}

int
api_propose_system_arg(struct node *n, uint32_t type, const char *target,
                       json_t *extra, api_system_arg_cb cb, void *arg)
{
    struct api_write *w = pc_calloc(1, sizeof(*w));

    if (w == NULL) {
        json_decref(extra);
        return PC_ENOMEM;
    }
    w->sys_arg_cb = cb;
    w->sys_arg = arg;
    return propose_system(n, type, target, extra, w);
}
