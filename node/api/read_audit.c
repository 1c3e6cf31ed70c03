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
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
#include "storage/led.h"

#define AUDIT_PER_FACT  1000 /* events in one CMD_AUDIT */
#define AUDIT_BYTES     (512u << 10)
#define AUDIT_QUEUE_MAX 10000 /* pending events; more: 503 */
#define AUDIT_PERIOD_MS 10

struct api_audit {
    json_t *events; /* pending events, oldest first */
    int64_t last_ms;
    bool flushing;
    uint64_t proposed, dropped;
};

static struct api_audit *
audit_of(struct node *n)
{
    if (n->audit == NULL) {
        n->audit = pc_calloc(1, sizeof(*n->audit));
        if (n->audit != NULL) {
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

/* The time is this node's clock, never before ledger time. */
void
api_audit_add(struct node *n, struct http_request *req, const char *action,
              const char *entry, const char *key, uint64_t version, long count)
{
    const struct fsm_principal *p = api_principal(n, req);
    struct api_audit *a = audit_of(n);
    int64_t now = pc_now_ms(), lt = led_time(fsm_led(n->fsm));
    char t[PC_TIME_STR_LEN];
    json_t *ev;

    if (a == NULL || p == NULL) {
        return;
    }
    pc_time_format(t, now > lt ? now : lt);
    ev = json_pack("{s:s, s:s?, s:s, s:s, s:s}", "principal", p->id, "org",
                   p->org, "action", action, "entry", entry, "at", t);
    if (ev == NULL) {
        return;
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
    json_array_append_new(a->events, ev);
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
    json_t *chunk;

    if (a == NULL || a->flushing ||
        (pending = json_array_size(a->events)) == 0) {
        return;
    }
    if (!n->stop.stopping && pc_now_ms() - a->last_ms < AUDIT_PERIOD_MS &&
        pending < AUDIT_PER_FACT) {
        return;
    }
    if (!clu_is_leader(n->clu)) {
        /* Leadership lost: the reads were answered, their events go as a
         * crash would lose them (SPEC-NOTES 16). */
        a->dropped += pending;
        json_array_clear(a->events);
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
    a->flushing = true; /* api_propose_system may flush the batch */
    a->last_ms = pc_now_ms();
    if (api_propose_system(n, CMD_AUDIT, NULL,
                           json_pack("{s:o}", "events", chunk),
                           audit_done) == PC_OK) {
        a->proposed += take;
    } else {
        a->dropped += take;
        node_log(n, 1, "could not propose an audit batch of %zu events", take);
    }
    a->flushing = false;
}

void
api_audit_metrics(struct node *n, struct pc_buf *b)
{
    const struct api_audit *a = n->audit;

    pc_buf_printf(b,
                  "provcat_reads_open_anonymous_total %llu\n"
                  "provcat_audit_events_pending %zu\n"
                  "provcat_audit_events_proposed_total %llu\n"
                  "provcat_audit_events_dropped_total %llu\n",
                  (unsigned long long)n->stats.reads_open_anon,
                  a ? json_array_size(a->events) : 0,
                  (unsigned long long)(a ? a->proposed : 0),
                  (unsigned long long)(a ? a->dropped : 0));
}

void
api_audit_release(struct node *n)
{
    if (n->audit != NULL) {
        json_decref(n->audit->events);
        pc_free(n->audit);
        n->audit = NULL;
    }
}
