/* SPDX-License-Identifier: MIT */
/*
 * Reads: a linearizable read waits for one raft barrier, shared by every
 * read queued before it was proposed (so concurrent reads share one round
 * trip), then for ?min_revision when asked; a stale read only for the
 * latter. The route table's common handler sends API_READ routes here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
#include "storage/led.h"

#define MAX_WAITERS 1000
#define WAIT_MS     1000

static void serve_at_revision(struct node *n, struct http_request *req,
                              api_run_fn run);

static void
read_enqueue(struct node *n, struct http_request *req, api_run_fn run)
{
    struct node_read *r;

    if (n->disk.low) {
        api_disk_full(n, req); /* its barrier is a raft entry */
        return;
    }
    r = http_req_alloc(req, sizeof(*r));
    if (r == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    r->req = req;
    r->run = run;
    r->next = NULL;
    if (n->reads.tail != NULL) {
        n->reads.tail->next = r;
    } else {
        n->reads.head = r;
    }
    n->reads.tail = r;
    n->reads.n_waiting++;
    api_reads_kick(n);
}

void
api_reads_fail(struct node *n, int status, const char *code)
{
    struct node_read *lists[2] = { n->reads.riding, n->reads.head };

    n->reads.riding = NULL;
    n->reads.head = n->reads.tail = NULL;
    n->reads.n_waiting = 0;
    for (int i = 0; i < 2; i++) {
        for (struct node_read *r = lists[i], *next; r != NULL; r = next) {
            next = r->next;
            api_error(n, r->req, status, code,
                      "leadership changed before the read was served; "
                      "retry");
        }
    }
}

static void
barrier_cb(void *arg, int rc)
{
    struct node *n = arg;
    struct node_read *r = n->reads.riding, *next;

    n->reads.barrier_in_flight = false;
    n->reads.riding = NULL;
    if (rc == PC_OK) {
        n->reads.leader_ready = true;
    }
    for (; r != NULL; r = next) {
        next = r->next;
        if (rc != PC_OK) {
            api_error(n, r->req, 503, "unavailable",
                      "leadership changed before the read was served; "
                      "retry");
            continue;
        }
        n->reads.served++;
        serve_at_revision(n, r->req, r->run);
    }
    api_reads_kick(n);
}

void
api_reads_kick(struct node *n)
{
    int rc;

    if (n->reads.barrier_in_flight || n->reads.head == NULL ||
        n->stop.stopping) {
        return;
    }
    /* Everything queued so far rides this barrier; later reads wait. */
    n->reads.riding = n->reads.head;
    n->reads.head = n->reads.tail = NULL;
    n->reads.n_waiting = 0;
    rc = clu_barrier(n->clu, barrier_cb, n);
    if (rc != PC_OK) {
        struct node_read *r = n->reads.riding, *next;

        n->reads.riding = NULL;
        for (; r != NULL; r = next) {
            next = r->next;
            api_unproposed(n, r->req,
                           clu_is_leader(n->clu) ? rc : PC_ENOTLEADER,
                           "could not start a read barrier");
        }
        return;
    }
    n->reads.barrier_in_flight = true;
    n->reads.barriers++;
}

/* Run `run` once this node has applied min_revision (if asked), waiting up
 * to a second; a junk or absurd min_revision is 400. */
static void
serve_at_revision(struct node *n, struct http_request *req, api_run_fn run)
{
    const char *mr = http_req_param(req, "min_revision");
    uint64_t have = led_count(fsm_led(n->fsm));
    unsigned long long want;
    struct node_wait *w;
    char *end;

    if (mr == NULL) {
        run(n, req);
        return;
    }
    want = strtoull(mr, &end, 10);
    if (*mr < '0' || *mr > '9' || *end != '\0' || want > have + 1000000) {
        api_error(n, req, 400, "bad_request",
                  "min_revision must be a whole number not far beyond %llu",
                  (unsigned long long)have);
        return;
    }
    if (want <= have) {
        run(n, req);
        return;
    }
    w = http_req_alloc(req, sizeof(*w));
    if (w == NULL || n->reads.n_waiters >= MAX_WAITERS) {
        api_error(n, req, 503, "unavailable",
                  "this node has not applied revision %llu yet", want);
        return;
    }
    w->req = req;
    w->run = run;
    w->want = want;
    w->deadline_ms = pc_now_ms() + WAIT_MS;
    w->next = n->reads.waiters;
    n->reads.waiters = w;
    n->reads.n_waiters++;
}

void
api_waiters_check(struct node *n, bool fail_all)
{
    struct node_wait **pp = &n->reads.waiters, *w;
    /* No state machine yet: a start that failed early stops through
     * here too. */
    uint64_t have = n->fsm == NULL ? 0 : led_count(fsm_led(n->fsm));
    int64_t now = pc_now_ms();

    while ((w = *pp) != NULL) {
        if (!fail_all && w->want > have && now < w->deadline_ms) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        n->reads.n_waiters--;
        if (!fail_all && w->want <= have) {
            w->run(n, w->req);
        } else {
            api_error(n, w->req, 503, "unavailable",
                      "this node has not applied revision %llu yet",
                      (unsigned long long)w->want);
        }
    }
}

void
api_read_start(struct node *n, struct http_request *req, api_run_fn run)
{
    if (api_stale(req)) {
        serve_at_revision(n, req, run);
        return;
    }
    read_enqueue(n, req, run);
}
