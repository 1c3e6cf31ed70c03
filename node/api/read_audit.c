/* SPDX-License-Identifier: MIT */
/*
 * The read-audit queue. A read by anyone outside the provider org of the
 * data it returns (another org, a citizen, an authority, an auditor) is
 * audited: served by the leader only, its event queued here and proposed
 * as a CMD_AUDIT command at most every AUDIT_PERIOD_MS (or at
 * AUDIT_PER_FACT events), riding the raft entry of that loop turn's
 * writes; apply appends one AUDIT fact per command. Events still queued
 * when leadership is lost or the process dies are lost (as a crash would
 * lose them). Whether a read is audited is the fsm's verdict
 * (fsm_may_read_records: FSM_READ_AUDITED).
 *
 * A read through a grant (FSM_READ_GRANTED: an approved open request) must
 * not be answered before its audit event is in the ledger (fail closed):
 * its answer is held with the event's number in the queue, travels with
 * the batch that takes the event, and is sent once that batch's fact has
 * committed, or replaced by a 503 when the batch is lost.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/prom.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
#include "storage/led.h"

#define AUDIT_PER_FACT  1000 /* events in one CMD_AUDIT */
#define AUDIT_BYTES     (512u << 10)
#define AUDIT_QUEUE_MAX 10000 /* pending events; more: 503 */
#define AUDIT_PERIOD_MS 10

/* An answer held until its audit event commits. */
struct held_read {
    struct http_request *req;
    struct pc_buf body; /* the JSON answer, 200 */
    uint64_t seq;       /* its event's number */
    struct held_read *next;
};

struct api_audit {
    json_t *events; /* pending events, oldest first */
    int64_t last_ms;
    bool flushing;
    uint64_t proposed, dropped;
    uint64_t seq_base;                   /* number of events[0] */
    struct held_read *held, **held_tail; /* by event number */
};

/* The held reads of one proposed batch. */
struct held_batch {
    struct held_read *held;
};

static struct api_audit *
audit_of(struct node *n)
{
    if (n->audit == NULL) {
        n->audit = pc_calloc(1, sizeof(*n->audit));
        if (n->audit != NULL) {
            n->audit->held_tail = &n->audit->held;
            n->audit->events = json_array();
            if (n->audit->events == NULL) {
                pc_free(n->audit);
                n->audit = NULL;
            }
        }
    }
    return n->audit;
}

bool
api_audited_read_ok(struct node *n, struct http_request *req)
{
    struct api_audit *a;

    if (!api_leader_or_redirect(n, req)) {
        return false;
    }
    if (n->disk.low) {
        api_disk_full(n, req); /* its audit fact could not be written */
        return false;
    }
    a = audit_of(n);
    if (a == NULL || json_array_size(a->events) >= AUDIT_QUEUE_MAX) {
        api_error(n, req, 503, "unavailable",
                  "the read-audit queue is full; retry shortly");
        return false;
    }
    return true;
}

/* One event (new reference, or NULL). The time is this node's clock,
 * never before ledger time. */
static json_t *
make_event(struct node *n, const struct fsm_principal *p, const char *action,
           const char *entry, const char *key, uint64_t version, long count)
{
    int64_t now = pc_now_ms(), lt = led_time(fsm_led(n->fsm));
    char t[PC_TIME_STR_LEN];
    json_t *ev;

    pc_time_format(t, now > lt ? now : lt);
    ev = json_pack("{s:s, s:s?, s:s, s:s, s:s}", "principal", p->id, "org",
                   p->org, "action", action, "entry", entry, "at", t);
    if (ev == NULL) {
        return NULL;
    }
    if (p->org == NULL) {
        json_object_set_new(ev, "org", json_null());
    }
    if (key != NULL) {
        json_object_set_new(ev, "key", json_string(key));
    }
    if (version > 0) {
        json_object_set_new(ev, "version", json_integer((json_int_t)version));
    }
    if (count >= 0) {
        json_object_set_new(ev, "count", json_integer(count));
    }
    return ev;
}

void
api_audit_add(struct node *n, struct http_request *req, const char *action,
              const char *entry, const char *key, uint64_t version, long count)
{
    const struct fsm_principal *p = api_principal(n, req);
    struct api_audit *a = audit_of(n);
    json_t *ev;

    if (a == NULL || p == NULL) {
        return;
    }
    ev = make_event(n, p, action, entry, key, version, count);
    if (ev != NULL) {
        json_array_append_new(a->events, ev);
    }
}

void
api_audit_hold(struct node *n, struct http_request *req, const char *action,
               const char *entry, const char *key, uint64_t version, long count,
               const char *via, const char *via_id, struct pc_buf *answer)
{
    const struct fsm_principal *p = api_principal(n, req);
    struct api_audit *a = audit_of(n);
    struct held_read *h = pc_calloc(1, sizeof(*h));
    json_t *ev = a == NULL || p == NULL || via_id == NULL
                     ? NULL
                     : make_event(n, p, action, entry, key, version, count);

    if (h == NULL || ev == NULL ||
        json_object_set_new(ev, via, json_string(via_id)) != 0 ||
        json_array_append(a->events, ev) != 0) {
        json_decref(ev);
        pc_free(h);
        pc_buf_release(answer);
        api_error(n, req, 503, "unavailable",
                  "the read could not be audited; retry shortly");
        return;
    }
    json_decref(ev);
    h->req = req;
    h->body = *answer; /* taken */
    pc_buf_init(answer);
    h->seq = a->seq_base + json_array_size(a->events) - 1;
    *a->held_tail = h;
    a->held_tail = &h->next;
}

/* Answer the held reads of list `h`: each as held when `ok`, else 503. */
static void
answer_held(struct node *n, struct held_read *h, bool ok)
{
    while (h != NULL) {
        struct held_read *next = h->next;

        if (ok) {
            api_json_buf(n, h->req, 200, &h->body, PC_OK);
        } else {
            pc_buf_release(&h->body);
            api_error(n, h->req, 503, "unavailable",
                      "the read's audit event could not be recorded (this "
                      "node lost leadership or failed); retry");
        }
        pc_free(h);
        h = next;
    }
}

/* Detach the held reads whose events are below number `end`. */
static struct held_read *
take_held(struct api_audit *a, uint64_t end)
{
    struct held_read *first = a->held, **link = &a->held;

    while (*link != NULL && (*link)->seq < end) {
        link = &(*link)->next;
    }
    if (link == &a->held) {
        return NULL; /* none of them */
    }
    a->held = *link;
    *link = NULL;
    if (a->held == NULL) {
        a->held_tail = &a->held;
    }
    return first;
}

static void
held_batch_done(struct node *n, int rc, const struct fsm_result *res, void *arg)
{
    struct held_batch *b = arg;
    bool ok = rc == PC_OK && res != NULL && res->status < 400;

    if (!ok) {
        node_log(n, 1, "audit batch not recorded: %s",
                 rc != PC_OK   ? pc_strerror(rc)
                 : res == NULL ? "no result"
                               : res->message);
    }
    answer_held(n, b->held, ok);
    pc_free(b);
}

static void
audit_done(struct node *n, int rc, const struct fsm_result *res)
{
    if (rc != PC_OK || res == NULL || res->status >= 400) {
        node_log(n, 1, "audit batch not recorded: %s",
                 rc != PC_OK   ? pc_strerror(rc)
                 : res == NULL ? "no result"
                               : res->message);
    }
}

/* Rough bytes of an event in the fact payload. */
static size_t
event_bytes(json_t *ev)
{
    return 160 + json_string_length(json_object_get(ev, "principal")) +
           json_string_length(json_object_get(ev, "entry")) +
           json_string_length(json_object_get(ev, "key"));
}

void
api_audit_flush(struct node *n)
{
    struct api_audit *a = n->audit;
    size_t pending, take = 0, bytes = 0;
    struct held_read *held;
    struct held_batch *hb;
    json_t *chunk;
    int rc;

    if (a == NULL || a->flushing ||
        (pending = json_array_size(a->events)) == 0) {
        return;
    }
    /* A read held for its event (a grant's) waits for nothing else: the
     * batch goes with this loop turn's entry, taking every read queued in
     * the turn. */
    if (!n->stop.stopping && pc_now_ms() - a->last_ms < AUDIT_PERIOD_MS &&
        pending < AUDIT_PER_FACT && a->held == NULL) {
        return;
    }
    if (!clu_is_leader(n->clu)) {
        /* Leadership lost: the reads were answered, their events go as a
         * crash would lose them (SPEC-NOTES 16); held reads fail closed. */
        a->dropped += pending;
        json_array_clear(a->events);
        a->seq_base += pending;
        answer_held(n, take_held(a, a->seq_base), false);
        return;
    }
    if (n->disk.low) {
        return; /* kept until the disk has room (new audited reads: 507) */
    }
    while (take < pending && take < AUDIT_PER_FACT && bytes < AUDIT_BYTES) {
        bytes += event_bytes(json_array_get(a->events, take));
        take++;
    }
    chunk = json_array();
    for (size_t i = 0; chunk != NULL && i < take; i++) {
        json_array_append(chunk, json_array_get(a->events, i));
    }
    if (chunk == NULL) {
        return; /* out of memory: try again next turn */
    }
    for (size_t i = 0; i < take; i++) {
        json_array_remove(a->events, 0);
    }
    a->seq_base += take;
    held = take_held(a, a->seq_base);
    hb = held == NULL ? NULL : pc_malloc(sizeof(*hb));
    if (held != NULL && hb == NULL) {
        answer_held(n, held, false);
        held = NULL;
    }
    a->flushing = true; /* api_propose_system may flush the batch */
    a->last_ms = pc_now_ms();
    if (hb != NULL) {
        hb->held = held;
        rc = api_propose_system_arg(n, CMD_AUDIT, NULL,
                                    json_pack("{s:o}", "events", chunk),
                                    held_batch_done, hb);
    } else {
        rc =
            api_propose_system(n, CMD_AUDIT, NULL,
                               json_pack("{s:o}", "events", chunk), audit_done);
    }
    if (rc == PC_OK) {
        a->proposed += take;
    } else {
        a->dropped += take;
        node_log(n, 1, "could not propose an audit batch of %zu events", take);
        if (hb != NULL) { /* its callback never runs */
            answer_held(n, hb->held, false);
            pc_free(hb);
        }
    }
    a->flushing = false;
}

void
api_audit_metrics(struct node *n, struct pc_buf *b)
{
    const struct api_audit *a = n->audit;

    pc_prom_family(b, "provcat_reads_open_anonymous_total", "counter",
                   "Anonymous reads of open records (counted, not audited)");
    pc_prom_u64(b, "provcat_reads_open_anonymous_total", NULL,
                n->stats.reads_open_anon);
    pc_prom_family(b, "provcat_audit_events_pending", "gauge",
                   "Read-audit events waiting to be proposed");
    pc_prom_u64(b, "provcat_audit_events_pending", NULL,
                a ? json_array_size(a->events) : 0);
    pc_prom_family(b, "provcat_audit_events_proposed_total", "counter",
                   "Read-audit events proposed");
    pc_prom_u64(b, "provcat_audit_events_proposed_total", NULL,
                a ? a->proposed : 0);
    pc_prom_family(b, "provcat_audit_events_dropped_total", "counter",
                   "Read-audit events dropped (their batch was lost)");
    pc_prom_u64(b, "provcat_audit_events_dropped_total", NULL,
                a ? a->dropped : 0);
}

void
api_audit_release(struct node *n)
{
    if (n->audit != NULL) {
        /* The HTTP server is gone: the held requests with it. */
        for (struct held_read *h = n->audit->held, *next; h != NULL; h = next) {
            next = h->next;
            pc_buf_release(&h->body);
            pc_free(h);
        }
        json_decref(n->audit->events);
        pc_free(n->audit);
        n->audit = NULL;
    }
}
