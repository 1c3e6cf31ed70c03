/* SPDX-License-Identifier: MIT */
/*
 * The read-audit queue. A read by anyone outside the provider org of the
 * data it returns (another org, a citizen, an authority, an auditor) is
 * audited: served by the leader only, its event queued here and proposed
 * as a CMD_AUDIT command, riding the raft entry of that loop turn's
 * writes; apply appends one AUDIT fact per command, whose document holds
 * the events in encoding 2 (node/fsm/audit.c, docs/format.md).
 *
 * Two kinds of event (the fsm's verdict, fsm_may_read_records_via):
 *
 *   - FSM_READ_AUDITED: the read is answered at once; its event goes out
 *     within AUDIT_PERIOD_MS (or at AUDIT_PER_FACT events). Events still
 *     queued when leadership is lost or the process dies are lost, as a
 *     crash would lose them.
 *   - FSM_READ_GRANTED (through a grant): the answer is built and held
 *     here until the fact holding its event has committed and applied,
 *     then sent; if that fails the read gets 503 and nothing (fail
 *     closed). Such events are proposed at once, one batch in flight at a
 *     time (later ones gather meanwhile, as linearizable reads gather
 *     behind one barrier).
 *
 * A linearizable read through a grant on a leader that has committed its
 * term's first barrier does not wait for a barrier at all
 * (api_audit_first): it is served from the applied state and answered
 * when its audit fact, an entry this leader proposed after the read
 * arrived, commits; that commit proves what a barrier would have (this
 * node still leads, and everything acknowledged before the read is in the
 * applied state), so the read costs one round trip, not two.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/prom.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
#include "storage/led.h"

#define AUDIT_PER_FACT     1000         /* events in one CMD_AUDIT */
#define AUDIT_DOC_BYTES    (192u << 10) /* under FACT_MAX_DOC */
#define AUDIT_QUEUE_MAX    10000        /* pending events; more: 503 */
#define AUDIT_PERIOD_MS    10
#define AUDIT_HOLDS_FLYING 1 /* batches holding answers in flight */

/* An answer held until its audit event commits. */
struct audit_hold {
    struct http_request *req;
    int status;
    struct pc_buf body;
};

/* One pending event. */
struct audit_ev {
    char *principal, *org, *entry, *key; /* org, key may be NULL */
    size_t key_len;
    const char *action; /* a string constant */
    uint64_t version;
    int64_t count;
    int64_t at_ms;
    char via[32];
    struct audit_hold *hold; /* NULL: answered already */
};

/* A proposed batch: the held answers it releases. */
struct audit_flight {
    bool holds; /* counted in api_audit's holds_in_flight */
    size_t n;
    struct audit_hold *h[];
};

struct api_audit {
    struct audit_ev *ev; /* pending events, oldest first */
    size_t n, cap;
    size_t n_held;         /* of them, with an answer held */
    unsigned holds_flying; /* batches in flight holding answers */
    struct fsm_audit_doc *doc;
    int64_t last_ms;
    bool flushing;
    uint64_t proposed, batches, dropped, held_served, held_failed;
};

static struct api_audit *
audit_of(struct node *n)
{
    if (n->audit == NULL) {
        n->audit = pc_calloc(1, sizeof(*n->audit));
        if (n->audit != NULL && fsm_audit_doc_new(&n->audit->doc) != PC_OK) {
            pc_free(n->audit);
            n->audit = NULL;
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
    if (a == NULL || a->n >= AUDIT_QUEUE_MAX) {
        api_error(n, req, 503, "unavailable",
                  "the read-audit queue is full; retry shortly");
        return false;
    }
    return true;
}

static void
hold_free(struct audit_hold *h)
{
    if (h != NULL) {
        pc_buf_release(&h->body);
        pc_free(h);
    }
}

static void
ev_release(struct audit_ev *e)
{
    pc_free(e->principal);
    pc_free(e->org);
    pc_free(e->entry);
    pc_free(e->key);
}

/* Answer a held read that will not be served (fail closed). */
static void
hold_fail(struct node *n, struct audit_hold *h, int status, const char *why)
{
    if (n->audit != NULL) {
        n->audit->held_failed++;
    }
    if (status == 507) {
        api_disk_full(n, h->req);
    } else {
        api_error(n, h->req, status, "unavailable",
                  "the read's audit event could not be recorded (%s); it was "
                  "not served: retry",
                  why);
    }
    hold_free(h);
}

/* Queue an event (strings copied); false when out of memory. */
static bool
queue(struct node *n, struct http_request *req, const char *action,
      const char *entry, const char *key, uint64_t version, long count,
      const char *via, struct audit_hold *hold)
{
    const struct fsm_principal *p = api_principal(n, req);
    struct api_audit *a = audit_of(n);
    int64_t now = pc_now_ms(), lt = led_time(fsm_led(n->fsm));
    struct audit_ev *e;

    if (a == NULL || p == NULL) {
        return false;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 256;
        struct audit_ev *ne = pc_realloc(a->ev, cap * sizeof(*ne));

        if (ne == NULL) {
            return false;
        }
        a->ev = ne;
        a->cap = cap;
    }
    e = &a->ev[a->n];
    memset(e, 0, sizeof(*e));
    e->principal = pc_strdup(p->id);
    e->org = p->org != NULL ? pc_strdup(p->org) : NULL;
    e->entry = pc_strdup(entry);
    e->key = key != NULL ? pc_strdup(key) : NULL;
    if (e->principal == NULL || e->entry == NULL ||
        (p->org != NULL && e->org == NULL) || (key != NULL && !e->key)) {
        ev_release(e);
        return false;
    }
    e->key_len = key != NULL ? strlen(key) : 0;
    e->action = action;
    e->version = version;
    e->count = count;
    e->at_ms = now > lt ? now : lt;
    snprintf(e->via, sizeof(e->via), "%s", via != NULL ? via : "");
    e->hold = hold;
    a->n++;
    a->n_held += hold != NULL;
    return true;
}

/* The time is this node's clock, never before ledger time. */
void
api_audit_add(struct node *n, struct http_request *req, const char *action,
              const char *entry, const char *key, uint64_t version, long count)
{
    if (!queue(n, req, action, entry, key, version, count, NULL, NULL) &&
        n->audit != NULL) {
        n->audit->dropped++;
    }
}

void
api_audit_hold(struct node *n, struct http_request *req, const char *action,
               const char *entry, const char *key, uint64_t version, long count,
               const char *via, int status, struct pc_buf *body)
{
    struct audit_hold *h = pc_calloc(1, sizeof(*h));

    if (h == NULL) {
        pc_buf_release(body);
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    h->req = req;
    h->status = status;
    h->body = *body;
    pc_buf_init(body);
    if (!queue(n, req, action, entry, key, version, count, via, h)) {
        hold_fail(n, h, 503, "out of memory");
    }
}

static void
audit_done(struct node *n, int rc, const struct fsm_result *res, void *arg)
{
    struct audit_flight *fl = arg;
    struct api_audit *a = n->audit;
    bool ok = rc == PC_OK && res != NULL && res->status < 400;

    if (!ok) {
        node_log(n, 1, "audit batch not recorded: %s",
                 rc != PC_OK   ? pc_strerror(rc)
                 : res == NULL ? "no result"
                               : res->message);
    }
    for (size_t i = 0; i < fl->n; i++) {
        struct audit_hold *h = fl->h[i];

        if (!ok) {
            hold_fail(n, h, 503,
                      rc == PC_EUNAVAIL ? "leadership was lost"
                                        : "the audit batch failed");
            continue;
        }
        if (a != NULL) {
            a->held_served++;
        }
        api_json_buf(n, h->req, h->status, &h->body, PC_OK);
        pc_free(h);
    }
    if (fl->holds && a != NULL && a->holds_flying > 0) {
        a->holds_flying--;
    }
    pc_free(fl); /* held reads gathered meanwhile go at the next check */
}

/* Drop the first `k` events, failing the held ones with `status`. */
static void
drop_first(struct node *n, size_t k, int status, const char *why)
{
    struct api_audit *a = n->audit;

    for (size_t i = 0; i < k; i++) {
        if (a->ev[i].hold != NULL) {
            a->n_held--;
            hold_fail(n, a->ev[i].hold, status, why);
        } else {
            a->dropped++;
        }
        ev_release(&a->ev[i]);
    }
    memmove(a->ev, a->ev + k, (a->n - k) * sizeof(*a->ev));
    a->n -= k;
}

/* Fail the held reads among the pending events (the disk is full); the
 * others wait for room. */
static void
fail_held(struct node *n, int status, const char *why)
{
    struct api_audit *a = n->audit;
    size_t j = 0;

    for (size_t i = 0; i < a->n; i++) {
        if (a->ev[i].hold != NULL) {
            hold_fail(n, a->ev[i].hold, status, why);
            ev_release(&a->ev[i]);
        } else {
            a->ev[j++] = a->ev[i];
        }
    }
    a->n = j;
    a->n_held = 0;
}

void
api_audit_flush(struct node *n)
{
    struct api_audit *a = n->audit;
    size_t take = 0, held = 0;
    struct audit_flight *fl;
    struct pc_buf doc;
    char extra[64], salt[2 * PC_SALT_LEN + 1];
    uint8_t sb[PC_SALT_LEN];
    int rc = PC_OK;

    if (a == NULL || a->flushing || a->n == 0) {
        return;
    }
    if (a->doc == NULL && fsm_audit_doc_new(&a->doc) != PC_OK) {
        return;
    }
    /* Held reads go at once unless a batch of them is in flight; the
     * others every AUDIT_PERIOD_MS or AUDIT_PER_FACT events. */
    if (!n->stop.stopping &&
        !(a->n_held > 0 && a->holds_flying < AUDIT_HOLDS_FLYING) &&
        pc_now_ms() - a->last_ms < AUDIT_PERIOD_MS && a->n < AUDIT_PER_FACT) {
        return;
    }
    if (!clu_is_leader(n->clu)) {
        /* Leadership lost: answered reads' events go as a crash would
         * lose them; held ones are refused. */
        drop_first(n, a->n, 503, "leadership was lost");
        return;
    }
    if (n->disk.low) {
        fail_held(n, 507, "the disk is full");
        return; /* the rest is kept until the disk has room */
    }
    while (take < a->n && take < AUDIT_PER_FACT &&
           fsm_audit_doc_bytes(a->doc) < AUDIT_DOC_BYTES && rc == PC_OK) {
        const struct audit_ev *e = &a->ev[take];
        struct fsm_audit_event x = {
            .principal = e->principal,
            .org = e->org,
            .action = e->action,
            .entry = e->entry,
            .key = e->key,
            .key_len = e->key_len,
            .version = e->version,
            .count = e->count,
            .at_ms = e->at_ms,
            .via = e->via[0] ? e->via : NULL,
        };

        rc = fsm_audit_doc_add(a->doc, &x);
        if (rc == PC_OK) {
            held += e->hold != NULL;
            take++;
        }
    }
    fl = pc_calloc(1, sizeof(*fl) + held * sizeof(fl->h[0]));
    pc_buf_init(&doc);
    if (take == 0 || fl == NULL ||
        fsm_audit_doc_finish(a->doc, &doc) != PC_OK) {
        /* Out of memory: start the document afresh next turn. */
        fsm_audit_doc_free(a->doc);
        a->doc = NULL;
        pc_free(fl);
        pc_buf_release(&doc);
        return;
    }
    for (size_t i = 0; i < take; i++) {
        if (a->ev[i].hold != NULL) {
            fl->h[fl->n++] = a->ev[i].hold;
            a->ev[i].hold = NULL;
        }
        ev_release(&a->ev[i]);
    }
    memmove(a->ev, a->ev + take, (a->n - take) * sizeof(*a->ev));
    a->n -= take;
    a->n_held -= held;
    fl->holds = held > 0;
    randombytes_buf(sb, sizeof(sb));
    pc_hex(salt, sb, sizeof(sb));
    snprintf(extra, sizeof(extra), "{\"salt\":\"%s\"}", salt);
    a->flushing = true; /* proposing may flush the batch */
    a->last_ms = pc_now_ms();
    a->holds_flying += fl->holds;
    rc = api_propose_system_body(n, CMD_AUDIT,
                                 &(struct pc_slice){ doc.data, doc.len }, extra,
                                 audit_done, fl);
    a = n->audit;
    if (rc == PC_OK) {
        a->proposed += take;
        a->batches++;
    } else {
        a->holds_flying -= fl->holds;
        a->dropped += take - fl->n;
        for (size_t i = 0; i < fl->n; i++) {
            hold_fail(n, fl->h[i], 503, "it could not be proposed");
        }
        pc_free(fl);
        node_log(n, 1, "could not propose an audit batch of %zu events", take);
    }
    a->flushing = false;
    pc_buf_release(&doc);
}

/* A Bearer token's principal, looked up without counting anything or
 * answering (the route's own authentication runs after). */
static const struct fsm_principal *
peek_principal(struct node *n, struct http_request *req)
{
    const char *h = http_req_header(req, "Authorization"), *tok;
    uint8_t th[PC_HASH_LEN];

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || !api_auth_ready(n)) {
        return NULL;
    }
    for (tok = h + 7; *tok == ' '; tok++) {
    }
    pc_hash(th, tok, strlen(tok));
    return fsm_principal_by_token(n->fsm, th);
}

bool
api_audit_first(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p;
    const struct fsm_entry *e;
    struct api_audit *a;

    if (api_stale(req) || http_req_param(req, "min_revision") != NULL ||
        !clu_is_leader(n->clu) || !n->reads.leader_ready || n->disk.low ||
        req->n_caps < 1 || (a = audit_of(n)) == NULL ||
        a->n >= AUDIT_QUEUE_MAX) {
        return false;
    }
    p = peek_principal(n, req);
    e = p != NULL ? fsm_entry(n->fsm, req->caps[0]) : NULL;
    return e != NULL && fsm_entry_visible_rev(n->fsm, e, p) > 0 &&
           fsm_may_read_records(n->fsm, p, e) == FSM_READ_GRANTED;
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
    pc_prom_u64(b, "provcat_audit_events_pending", NULL, a ? a->n : 0);
    pc_prom_family(b, "provcat_audit_events_proposed_total", "counter",
                   "Read-audit events proposed");
    pc_prom_u64(b, "provcat_audit_events_proposed_total", NULL,
                a ? a->proposed : 0);
    pc_prom_family(b, "provcat_audit_batches_proposed_total", "counter",
                   "Read-audit batches (audit commands) proposed");
    pc_prom_u64(b, "provcat_audit_batches_proposed_total", NULL,
                a ? a->batches : 0);
    pc_prom_family(b, "provcat_audit_events_dropped_total", "counter",
                   "Read-audit events dropped (their batch was lost)");
    pc_prom_u64(b, "provcat_audit_events_dropped_total", NULL,
                a ? a->dropped : 0);
    pc_prom_family(b, "provcat_audit_held_reads_served_total", "counter",
                   "Reads through a grant answered once their audit fact "
                   "committed");
    pc_prom_u64(b, "provcat_audit_held_reads_served_total", NULL,
                a ? a->held_served : 0);
    pc_prom_family(b, "provcat_audit_held_reads_failed_total", "counter",
                   "Reads through a grant refused because their audit fact "
                   "was not written (fail closed)");
    pc_prom_u64(b, "provcat_audit_held_reads_failed_total", NULL,
                a ? a->held_failed : 0);
}

void
api_audit_release(struct node *n)
{
    struct api_audit *a = n->audit;

    if (a == NULL) {
        return;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (a->ev[i].hold != NULL) {
            hold_fail(n, a->ev[i].hold, 503, "the node stopped");
        }
        ev_release(&a->ev[i]);
    }
    pc_free(a->ev);
    fsm_audit_doc_free(a->doc);
    pc_free(a);
    n->audit = NULL;
}
