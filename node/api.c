/* SPDX-License-Identifier: MIT */
/*
 * The API's common machinery: the route table, authentication with
 * failed-login rate limiting, leader redirects, batched linearizable reads
 * (one raft barrier serves every read queued before it was proposed) and
 * proposals whose answers are rebuilt from the facts they appended, so an
 * idempotent replay answers exactly like the original.
 */
#include "node/api.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/timefmt.h"
#include "storage/led.h"

/* ---- answers ---------------------------------------------------------- */

static void
add_state_headers(struct node *n, struct http_request *req, uint64_t rev)
{
    char buf[32], t[PC_TIME_STR_LEN];
    struct led *l = fsm_led(n->fsm);

    snprintf(buf, sizeof(buf), "%llu",
             (unsigned long long)(rev ? rev : led_count(l)));
    http_req_add_header(req, "X-Provcat-Revision", buf);
    pc_time_format(t, led_time(l));
    http_req_add_header(req, "X-Provcat-Time", t);
}

static void
finish_stats(struct node *n, struct http_request *req, int status)
{
    struct api_req *a = api_req(req);

    n->req_by_status[status / 100 % 6]++;
    if (a != NULL) {
        double ms = (double)(pc_now_ms() - a->start_ms);
        unsigned b = 0;

        /* Buckets: 0.5 ms doubling, the last one open-ended. */
        for (double lim = 0.5; b < 15 && ms > lim; lim *= 2) {
            b++;
        }
        n->latency_buckets[b]++;
        n->latency_count++;
        n->latency_sum_ms += ms;
    }
}

static void
respond_json_rev(struct node *n, struct http_request *req, int status,
                 json_t *o, uint64_t rev)
{
    char *s = json_dumps(o, JSON_COMPACT);

    json_decref(o);
    add_state_headers(n, req, rev);
    finish_stats(n, req, status);
    if (s == NULL) {
        http_respond_error(req, 500, "internal", "out of memory");
        return;
    }
    http_respond_json(req, status, s, strlen(s));
    free(s);
}

void
api_json(struct node *n, struct http_request *req, int status, json_t *o)
{
    respond_json_rev(n, req, status, o, 0);
}

void
api_json_text(struct node *n, struct http_request *req, int status,
              const char *json, size_t len)
{
    add_state_headers(n, req, 0);
    finish_stats(n, req, status);
    http_respond_json(req, status, json, len);
}

/*
 * Answer a refused command. A rejection fact whose payload has a "detail"
 * object (current_version, field, key, index) adds its members to the
 * error body; the others answer the plain error.
 */
static void
answer_rejection(struct node *n, struct http_request *req,
                 const struct fsm_result *res)
{
    json_t *p = res->first_rev ? api_fact_payload(n, res->first_rev) : NULL;
    json_t *det = json_object_get(p, "detail"), *err;

    if (!json_is_object(det)) {
        json_decref(p);
        api_error(n, req, res->status, res->code, "%s", res->message);
        return;
    }
    err = json_pack("{s:s, s:s}", "code", res->code, "message", res->message);
    if (err == NULL || json_object_update_missing(err, det) != 0) {
        json_decref(err);
        json_decref(p);
        api_error(n, req, res->status, res->code, "%s", res->message);
        return;
    }
    json_decref(p);
    api_json(n, req, res->status, json_pack("{s:o}", "error", err));
}

static void verror(struct node *n, struct http_request *req, int status,
                   const char *code, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
verror(struct node *n, struct http_request *req, int status, const char *code,
       const char *fmt, va_list ap)
{
    char msg[256];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    add_state_headers(n, req, 0);
    finish_stats(n, req, status);
    if (status == 401) {
        http_req_add_header(req, "WWW-Authenticate", "Bearer");
    }
    if (status == 503 || status == 429) {
        http_req_add_header(req, "Retry-After", "1");
    }
    http_respond_error(req, status, code, msg);
}

void
api_error(struct node *n, struct http_request *req, int status,
          const char *code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    verror(n, req, status, code, fmt, ap);
    va_end(ap);
}

json_t *
api_body_object(struct node *n, struct http_request *req)
{
    json_error_t e;
    json_t *o;

    if (req->body_len == 0) {
        api_error(n, req, 400, "bad_request", "a JSON object body is required");
        return NULL;
    }
    o = json_loadb((const char *)req->body, req->body_len,
                   JSON_REJECT_DUPLICATES, &e);
    if (o == NULL) {
        api_error(n, req, 400, "bad_request", "malformed JSON at byte %d: %s",
                  e.position, e.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        api_error(n, req, 400, "bad_request", "the body must be a JSON object");
        return NULL;
    }
    return o;
}

/* ---- authentication --------------------------------------------------- */

static bool
rate_limited(struct node *n, const char *ip)
{
    struct node_fail *f = pc_map_get(&n->fails, ip, strlen(ip));
    int64_t now = pc_now_ms();

    if (f == NULL || now - f->window_start_ms >= 60000) {
        return false;
    }
    return f->failures >= n->o.rate_limit;
}

static void
count_failure(struct node *n, const char *ip)
{
    struct node_fail *f = pc_map_get(&n->fails, ip, strlen(ip));
    int64_t now = pc_now_ms();

    if (f == NULL) {
        if (n->fails.len > 100000) {
            return; /* bounded: an address flood cannot grow memory */
        }
        f = pc_calloc(1, sizeof(*f));
        if (f == NULL || pc_map_put(&n->fails, ip, strlen(ip), f, NULL)) {
            pc_free(f);
            return;
        }
    }
    if (now - f->window_start_ms >= 60000) {
        f->window_start_ms = now;
        f->failures = 0;
    }
    f->failures++;
}

bool
api_auth(struct node *n, struct http_request *req)
{
    struct api_req *a = api_req(req);
    const char *h = http_req_header(req, "Authorization");
    const struct fsm_principal *p;
    uint8_t th[PC_HASH_LEN];
    const char *tok;

    a->principal[0] = '\0';
    a->authed = false;
    if (h == NULL) {
        return true; /* the anonymous public */
    }
    if (rate_limited(n, req->client_ip)) {
        n->sec_rate_limited++;
        node_security_event(n, "rate_limited", req->client_ip,
                            "too many failed authentications");
        api_error(n, req, 429, "rate_limited",
                  "too many failed authentications from this address");
        return false;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        count_failure(n, req->client_ip);
        node_security_event(n, "auth_failure", req->client_ip,
                            "malformed Authorization header");
        api_error(n, req, 401, "unauthorized",
                  "the Authorization header must be \"Bearer <token>\"");
        return false;
    }
    tok = h + 7;
    while (*tok == ' ') {
        tok++;
    }
    pc_hash(th, tok, strlen(tok));
    p = fsm_principal_by_token(n->fsm, th);
    if (p == NULL) {
        count_failure(n, req->client_ip);
        node_security_event(n, "auth_failure", req->client_ip,
                            "unknown or revoked token");
        api_error(n, req, 401, "unauthorized",
                  "the token is unknown or revoked");
        return false;
    }
    snprintf(a->principal, sizeof(a->principal), "%s", p->id);
    a->authed = true;
    return true;
}

bool
api_auth_principal(struct node *n, struct http_request *req)
{
    if (!api_auth(n, req)) {
        return false;
    }
    if (!api_req(req)->authed) {
        api_error(n, req, 401, "unauthorized", "a token is required");
        return false;
    }
    return true;
}

const struct fsm_principal *
api_principal(struct node *n, struct http_request *req)
{
    struct api_req *a = api_req(req);

    return a->authed ? fsm_principal(n->fsm, a->principal) : NULL;
}

bool
api_require_role(struct node *n, struct http_request *req, unsigned roles,
                 const char *what)
{
    const struct fsm_principal *p = api_principal(n, req);

    if (p != NULL && (p->roles & roles)) {
        return true;
    }
    n->sec_denials++;
    node_security_event(n, "denied", req->client_ip, what);
    api_error(n, req, 403, "forbidden", "%s", what);
    return false;
}

/* ---- leader and reads ------------------------------------------------- */

bool
api_leader_or_redirect(struct node *n, struct http_request *req)
{
    const char *url;
    uint64_t id;
    json_t *o;

    if (clu_is_leader(n->clu) && !clu_transferring(n->clu)) {
        return true;
    }
    id = clu_leader(n->clu, NULL);
    url = id == 0 || id == n->o.id ? NULL : fsm_member_url(n->fsm, id);
    if (url == NULL || clu_transferring(n->clu)) {
        api_error(n, req, 503, "unavailable",
                  "no leader is known right now; retry shortly");
        return false;
    }
    size_t len = strlen(url) + strlen(req->target) + 1;
    char *loc = http_req_alloc(req, len);
    if (loc == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return false;
    }
    snprintf(loc, len, "%s%s", url, req->target);
    http_req_add_header(req, "Location", loc);
    o = json_pack("{s:{s:s, s:s, s:{s:I, s:s}}}", "error", "code", "not_leader",
                  "message", "this node is not the leader; retry at the leader",
                  "leader", "id", (json_int_t)id, "client_url", url);
    api_json(n, req, 307, o);
    return false;
}

bool
api_stale(struct http_request *req)
{
    const char *c = http_req_param(req, "consistency");

    return c != NULL && strcmp(c, "stale") == 0;
}

void
api_disk_full(struct node *n, struct http_request *req)
{
    api_error(n, req, 507, "insufficient_storage",
              "the node's disk is full (%llu bytes free, less than one "
              "raft segment): writes, linearizable reads and reads that "
              "must be audited are refused; other stale reads are served",
              (unsigned long long)n->disk_free);
}

/* Answer a request that could not be proposed, or start its barrier. */
static void
unproposed(struct node *n, struct http_request *req, int rc, const char *what)
{
    if (rc == PC_ENOTLEADER) {
        api_leader_or_redirect(n, req);
    } else if (rc == PC_ENOSPC || node_disk_check(n)) {
        api_disk_full(n, req);
    } else {
        api_error(n, req, 503, "unavailable", "%s: %s", what, pc_strerror(rc));
    }
}

static void serve_at_revision(struct node *n, struct http_request *req,
                              api_read_fn run);

static void
read_enqueue(struct node *n, struct http_request *req, api_read_fn run)
{
    struct node_read *r;

    if (n->disk_low) {
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
    if (n->reads_tail != NULL) {
        n->reads_tail->next = r;
    } else {
        n->reads_head = r;
    }
    n->reads_tail = r;
    n->n_reads_waiting++;
    api_reads_kick(n);
}

void
api_reads_fail(struct node *n, int status, const char *code)
{
    struct node_read *lists[2] = { n->batch, n->reads_head };

    n->batch = NULL;
    n->reads_head = n->reads_tail = NULL;
    n->n_reads_waiting = 0;
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
    struct node_read *r = n->batch, *next;

    n->barrier_in_flight = false;
    n->batch = NULL;
    if (rc == PC_OK) {
        n->leader_ready = true;
    }
    for (; r != NULL; r = next) {
        next = r->next;
        if (rc != PC_OK) {
            api_error(n, r->req, 503, "unavailable",
                      "leadership changed before the read was served; "
                      "retry");
            continue;
        }
        n->reads_served++;
        serve_at_revision(n, r->req, r->run);
    }
    api_reads_kick(n);
}

void
api_reads_kick(struct node *n)
{
    int rc;

    if (n->barrier_in_flight || n->reads_head == NULL || n->stopping) {
        return;
    }
    /* Everything queued so far rides this barrier; later reads wait. */
    n->batch = n->reads_head;
    n->reads_head = n->reads_tail = NULL;
    n->n_reads_waiting = 0;
    rc = clu_barrier(n->clu, barrier_cb, n);
    if (rc != PC_OK) {
        struct node_read *r = n->batch, *next;

        n->batch = NULL;
        for (; r != NULL; r = next) {
            next = r->next;
            unproposed(n, r->req, clu_is_leader(n->clu) ? rc : PC_ENOTLEADER,
                       "could not start a read barrier");
        }
        return;
    }
    n->barrier_in_flight = true;
    n->barriers++;
}

#define MAX_WAITERS 1000
#define WAIT_MS     1000

/* Run `run` once this node has applied min_revision (if asked), waiting up
 * to a second; a junk or absurd min_revision is 400. */
static void
serve_at_revision(struct node *n, struct http_request *req, api_read_fn run)
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
    if (w == NULL || n->n_waiters >= MAX_WAITERS) {
        api_error(n, req, 503, "unavailable",
                  "this node has not applied revision %llu yet", want);
        return;
    }
    w->req = req;
    w->run = run;
    w->want = want;
    w->deadline_ms = pc_now_ms() + WAIT_MS;
    w->next = n->waiters;
    n->waiters = w;
    n->n_waiters++;
}

void
api_waiters_check(struct node *n, bool fail_all)
{
    struct node_wait **pp = &n->waiters, *w;
    uint64_t have = led_count(fsm_led(n->fsm));
    int64_t now = pc_now_ms();

    while ((w = *pp) != NULL) {
        if (!fail_all && w->want > have && now < w->deadline_ms) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        n->n_waiters--;
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
api_read(struct node *n, struct http_request *req, api_read_fn run)
{
    if (api_stale(req)) {
        serve_at_revision(n, req, run);
        return;
    }
    if (!api_leader_or_redirect(n, req)) {
        return;
    }
    read_enqueue(n, req, run);
}

/* ---- facts in answers ------------------------------------------------- */

json_t *
api_fact_payload(struct node *n, uint64_t rev)
{
    struct fact f;

    if (led_get(fsm_led(n->fsm), rev, &f) != PC_OK) {
        return NULL;
    }
    return json_loadb((const char *)f.payload.p, f.payload.len, 0, NULL);
}

void
api_add_fact_meta(struct node *n, json_t *o, uint64_t rev)
{
    uint8_t h[PC_HASH_LEN];
    char hex[PC_HASH_HEX_LEN + 1], t[PC_TIME_STR_LEN];
    struct fact f;

    if (led_get(fsm_led(n->fsm), rev, &f) != PC_OK ||
        led_hash(fsm_led(n->fsm), rev, h) != PC_OK) {
        return;
    }
    pc_hex(hex, h, PC_HASH_LEN);
    pc_time_format(t, f.time_ms);
    json_object_set_new(o, "revision", json_integer((json_int_t)rev));
    json_object_set_new(o, "hash", json_string(hex));
    json_object_set_new(o, "updated_at", json_string(t));
    if (f.version > 0) {
        json_object_set_new(o, "version", json_integer((json_int_t)f.version));
    }
}

/* ---- proposals -------------------------------------------------------- */

struct api_write {
    struct node *n;
    struct http_request *req;
    api_done_fn done;
    void *ctx;
    void (*sys_cb)(struct node *n, int rc, const struct fsm_result *res);
};

static void
write_done(void *arg, int rc, const struct fsm_result *res, size_t nres)
{
    struct api_write *w = arg;
    struct node *n = w->n;
    struct http_request *req = w->req;

    if (req == NULL) { /* a node-internal command */
        if (w->sys_cb != NULL) {
            w->sys_cb(n, rc, nres > 0 ? res : NULL);
        }
        pc_free(w);
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
            n->sec_denials++;
        }
        answer_rejection(n, req, &res[0]);
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
    snprintf(out, 64, "%s-%llu", n->request_prefix,
             (unsigned long long)++n->request_seq);
}

/*
 * Commands proposed during one loop turn travel in one raft entry (up to
 * BATCH_MAX commands or BATCH_BYTES): one log append and one replication
 * round for all of them. apply answers each command in order.
 */
#define BATCH_MAX   256
#define BATCH_BYTES (512u << 10)

struct api_batch {
    size_t n;
    struct api_write *w[];
};

static void
answer_unproposed(struct node *n, struct api_write *w, int rc)
{
    if (w->req == NULL) {
        if (w->sys_cb != NULL) {
            w->sys_cb(n, rc, NULL);
        }
        pc_free(w);
    } else {
        unproposed(n, w->req, rc, "could not propose");
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
    size_t count = n->batch_n;
    int rc;

    api_audit_flush(n); /* audit batches ride the same raft entry */
    count = n->batch_n;
    if (count == 0) {
        return;
    }
    n->batch_n = 0;
    pc_buf_init(&entry);
    b = pc_malloc(sizeof(*b) + count * sizeof(b->w[0]));
    rc = b == NULL ? PC_ENOMEM : cmd_entry_begin(&entry, (uint32_t)count);
    if (rc == PC_OK) {
        rc = pc_buf_put(&entry, n->batch_cmds.data, n->batch_cmds.len);
    }
    if (rc == PC_OK) {
        rc = cmd_entry_end(&entry);
    }
    n->batch_cmds.len = 0;
    if (rc == PC_OK) {
        b->n = count;
        memcpy(b->w, n->batch_w, count * sizeof(b->w[0]));
        rc = clu_propose(n->clu, &entry, batch_done, b);
    }
    pc_buf_release(&entry);
    if (rc != PC_OK) {
        pc_free(b);
        for (size_t i = 0; i < count; i++) {
            answer_unproposed(n, n->batch_w[i], rc);
        }
        return;
    }
    n->batches++;
    n->batched_cmds += count;
}

static int
propose(struct node *n, struct cmd *c, struct api_write *w)
{
    struct pc_buf one;
    int rc;

    if (!clu_is_leader(n->clu)) {
        return PC_ENOTLEADER;
    }
    if (n->disk_low) {
        return PC_ENOSPC;
    }
    if (n->batch_n == BATCH_MAX || n->batch_cmds.len > BATCH_BYTES) {
        api_batch_flush(n);
    }
    pc_buf_init(&one);
    rc = cmd_encode(c, &one);
    if (rc == PC_OK) {
        size_t old = n->batch_cmds.len;
        rc = pc_buf_put_lp(&n->batch_cmds, one.data, one.len);
        if (rc != PC_OK) {
            n->batch_cmds.len = old;
        }
    }
    pc_buf_release(&one);
    if (rc != PC_OK) {
        return rc;
    }
    n->batch_w[n->batch_n++] = w;
    return PC_OK;
}

/* Leader clock against ledger time (DESIGN.md: ledger time). */
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
        clu_transfer(n->clu, 0, NULL, NULL);
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
    node_request_id(n, rid);
    c.request_id = PC_SLICE_STR(rid);
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
        unproposed(n, req, rc, "could not propose");
    }
}

int
api_propose_system(struct node *n, uint32_t type, const char *target,
                   json_t *extra,
                   void (*cb)(struct node *n, int rc,
                              const struct fsm_result *res))
{
    struct api_write *w = pc_calloc(1, sizeof(*w));
    char rid[64], *xs = NULL;
    struct cmd c;
    int rc;

    if (w == NULL) {
        json_decref(extra);
        return PC_ENOMEM;
    }
    w->n = n;
    w->sys_cb = cb;
    memset(&c, 0, sizeof(c));
    c.type = type;
    c.rules = CMD_RULES_VERSION;
    c.time_ms = pc_now_ms();
    node_request_id(n, rid);
    c.request_id = PC_SLICE_STR(rid);
    if (target != NULL) {
        c.target = PC_SLICE_STR(target);
    }
    if (extra != NULL) {
        xs = json_dumps(extra, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(extra);
        if (xs == NULL) {
            pc_free(w);
            return PC_ENOMEM;
        }
        c.extra = PC_SLICE_STR(xs);
    }
    rc = propose(n, &c, w);
    free(xs);
    if (rc != PC_OK) {
        pc_free(w);
    }
    return rc;
}

/* ---- routing ---------------------------------------------------------- */

static void
immutable(struct http_request *req, void *arg)
{
    struct node *n = arg;

    http_req_add_header(req, "Allow", "GET, HEAD, PUT, POST");
    api_error(n, req, 405, "immutable",
              "provcat never deletes or overwrites history");
}

int
api_router_new(struct node *n, struct http_router **out, char *errmsg)
{
    const struct http_route routes[] = {
        { "GET", "/healthz", api_healthz, n },
        { "GET", "/readyz", api_readyz, n },
        { "GET", "/metrics", api_metrics, n },
        { "GET", "/v1/status", api_status, n },
        { "POST", "/v1/members", api_members_add, n },
        { "DELETE", "/v1/members/{id}", api_members_remove, n },
        { "POST", "/v1/leader/transfer", api_leader_transfer, n },
        { "GET", "/v1/backup", api_backup, n },
        { "GET", "/v1/ledger", api_ledger, n },
        { "GET", "/v1/ledger/proof", api_ledger_proof, n },
        { "GET", "/v1/ledger/consistency", api_ledger_consistency, n },
        { "POST", "/v1/orgs", api_orgs_create, n },
        { "GET", "/v1/orgs", api_orgs_list, n },
        { "GET", "/v1/orgs/{id}", api_orgs_get, n },
        { "POST", "/v1/principals", api_principals_create, n },
        { "POST", "/v1/principals/{id}/token", api_principals_token, n },
        { "POST", "/v1/principals/{id}/revoke", api_principals_revoke, n },
        { "GET", "/v1/whoami", api_whoami, n },
        { "POST", "/v1/catalog", api_catalog_create, n },
        { "GET", "/v1/catalog", api_catalog_list, n },
        { "GET", "/v1/catalog/{id}", api_catalog_get, n },
        { "PUT", "/v1/catalog/{id}", api_catalog_update, n },
        { "GET", "/v1/catalog/{id}/history", api_catalog_history, n },
        { "POST", "/v1/catalog/{id}/submit", api_catalog_submit, n },
        { "POST", "/v1/catalog/{id}/review", api_catalog_review, n },
        { "POST", "/v1/catalog/{id}/retire", api_catalog_retire, n },
        { "POST", "/v1/catalog/{id}/records:batch", api_records_batch, n },
        { "GET", "/v1/catalog/{id}/records", api_records_list, n },
        { "PUT", "/v1/catalog/{id}/records/{key}", api_records_put, n },
        { "GET", "/v1/catalog/{id}/records/{key}", api_records_get, n },
        { "GET", "/v1/catalog/{id}/records/{key}/history", api_records_history,
          n },
        { "POST", "/v1/catalog/{id}/records/{key}/retire", api_records_retire,
          n },
        { "POST", "/v1/catalog/{id}/records/{key}/correct", api_records_correct,
          n },
        /* History is never deleted: DELETE on any data path is 405. */
        { "DELETE", "/v1/orgs/{}", immutable, n },
        { "DELETE", "/v1/principals/{}", immutable, n },
        { "DELETE", "/v1/catalog/{}", immutable, n },
        { "DELETE", "/v1/catalog/{}/records/{}", immutable, n },
        { "DELETE", "/v1/catalog/{}/records/{}/versions/{}", immutable, n },
        { "DELETE", "/v1/ledger", immutable, n },
    };

    return http_router_new(routes, sizeof(routes) / sizeof(routes[0]), out,
                           errmsg);
}

void
api_handle(struct http_request *req, void *arg)
{
    struct node *n = arg;
    struct api_req *a = http_req_alloc(req, sizeof(*a));
    const struct http_route *route;
    char allow[64];
    int status;

    if (a == NULL) {
        http_respond_error(req, 503, "unavailable", "out of memory");
        return;
    }
    memset(a, 0, sizeof(*a));
    a->n = n;
    a->start_ms = pc_now_ms();
    req->data = a;
    if (n->stopping) {
        api_error(n, req, 503, "unavailable", "the node is shutting down");
        return;
    }
    route = http_router_match(n->router, req, &status, allow, sizeof(allow));
    if (route == NULL) {
        if (status == 405) {
            if (req->verb == HTTP_VERB_DELETE) {
                http_req_add_header(req, "Allow", allow);
                api_error(n, req, 405, "immutable",
                          "provcat never deletes or overwrites history");
                return;
            }
            http_req_add_header(req, "Allow", allow);
            api_error(n, req, 405, "method_not_allowed",
                      "%s is not allowed here (allowed: %s)", req->method,
                      allow);
            return;
        }
        api_error(n, req, status == 404 ? 404 : 500,
                  status == 404 ? "not_found" : "internal",
                  status == 404 ? "no such route" : "out of memory");
        return;
    }
    route->handler(req, route->arg);
}
