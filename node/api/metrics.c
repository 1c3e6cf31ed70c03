/* SPDX-License-Identifier: MIT */
/*
 * GET /metrics (Prometheus text format 0.0.4), the per-route request
 * counters and latency histograms behind it, request ids (X-Request-Id)
 * and the per-request log line at debug.
 *
 * Conventions: every metric, here or in another file, follows them, and
 * `promtool check metrics` on a live node's output is a test
 * (tests/integration/test_observe.py), so a slip fails the build:
 *
 *  1. Names: provcat_<area>_<what>[_<unit>]. Base units only: seconds and
 *     bytes (never _ms, _us, _kb, _mb); counts of things carry no unit or
 *     name the thing (_entries, _facts). A ratio ends in _ratio.
 *  2. Counters end in _total and only grow (from 0 at process start);
 *     gauges never end in _total.
 *  3. Every family begins with pc_prom_family() (HELP and TYPE), and all
 *     its samples follow it before the next family begins: never two
 *     blocks of one name.
 *  4. Labels take bounded values only: route templates from the route
 *     table (never a raw path), status codes, member ids, fixed words.
 *     Never a principal, a client address, a key or an entry id. Values
 *     go through pc_prom_label (escaping).
 *  5. Durations are histograms in seconds (struct pc_hist, common/prom.h:
 *     100 us doubling to 6.55 s), or, for a single last value, a gauge in
 *     seconds (_duration_seconds of the last snapshot).
 *  6. A new family: a line in docs/node.md's metric table (what it means,
 *     what to alert on), and a panel in docker/grafana-dashboard.json if
 *     an operator would watch it.
 *
 * Request ids: X-Request-Id from the client when it is 1-128 bytes of
 * [A-Za-z0-9._:/@+=-], else one made here ("n<id>-<boot nonce>-<seq>",
 * unique per node). It is echoed in the answer and every log line about
 * the request carries it. A write's facts carry a request id too
 * (GET /v1/ledger/facts); it is the same one unless the client gave its
 * own, which the ledger does not trust to be unique (consecutive facts of
 * one command are found by their common id): they then get one made here,
 * which the request's debug line names as fact_request_id.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/err.h"
#include "common/prom.h"
#include "node/api/api_int.h"
#include "node/raft/raft_compat.h"
#include "node/seclog.h"
#include "storage/led.h"

#ifndef PC_COMMIT
#define PC_COMMIT "unknown" /* the Makefile passes the git commit */
#endif

static const char *const kinds[3] = { "write", "read", "local" };

/* ---- request ids ------------------------------------------------------ */

bool
api_request_id_ok(const char *id)
{
    size_t len = strlen(id);

    if (len < 1 || len > API_REQUEST_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr("._:/@+=-", c) != NULL)) {
            return false;
        }
    }
    return true;
}

void
api_request_id(struct node *n, struct http_request *req, struct api_req *a)
{
    const char *given = http_req_header(req, "X-Request-Id");

    if (given != NULL && api_request_id_ok(given)) {
        memcpy(a->request_id, given, strlen(given) + 1);
        a->request_id_given = true;
        return;
    }
    node_request_id(n, a->request_id);
}

const struct log_field *
api_log_fields(struct http_request *req, const struct log_field *more,
               struct log_field *out, size_t cap)
{
    struct api_req *a = api_req(req);
    size_t k = 0;

    if (a != NULL && k + 1 < cap) {
        out[k++] = LOG_STR("request_id", a->request_id);
    }
    if (a != NULL && a->principal[0] != '\0' && k + 1 < cap) {
        out[k++] = LOG_STR("principal", a->principal);
    }
    for (size_t i = 0; more != NULL && more[i].key != NULL && k + 1 < cap;
         i++) {
        out[k++] = more[i];
    }
    out[k] = LOG_END;
    return out;
}

/* ---- routes, families, the answer hook -------------------------------- */

/*
 * The family of a route for its latency histogram: the first path segment
 * after /v1/ ("orgs", "catalog", "open-requests", ...), "records" for the
 * routes under /v1/catalog/{id}/records, "health" for those outside /v1.
 * A new route family gets its own histogram without any table to edit.
 */
static void
family_of(const char *pattern, char out[24])
{
    const char *p = pattern;
    size_t len;

    if (strncmp(p, "/v1/", 4) != 0) {
        snprintf(out, 24, "health");
        return;
    }
    if (strstr(p, "/records") != NULL) {
        snprintf(out, 24, "records");
        return;
    }
    p += 4;
    len = strcspn(p, "/");
    snprintf(out, 24, "%.*s", (int)(len < 23 ? len : 23), p);
}

static unsigned
kind_of(unsigned needs)
{
    return (needs & API_WRITE) ? 0 : (needs & API_READ) ? 1 : 2;
}

void
api_metrics_setup(struct node *n)
{
    struct node_stats *st = &n->stats;
    const struct api_route *r;
    size_t nr = api_routes(&r);

    st->n_routes = nr;
    st->n_families = 0;
    for (size_t i = 0; i <= nr; i++) {
        char fam[24];
        size_t f;

        if (i < nr) {
            family_of(r[i].pattern, fam);
        } else {
            snprintf(fam, sizeof(fam), "unmatched");
        }
        for (f = 0; f < st->n_families; f++) {
            if (strcmp(st->family[f], fam) == 0) {
                break;
            }
        }
        if (f == st->n_families && f < NODE_FAMILIES_MAX) {
            memcpy(st->family[f], fam, sizeof(fam));
            st->n_families++;
        }
        st->route_family[i] = (uint8_t)(f < NODE_FAMILIES_MAX ? f : 0);
    }
}

static void
count_code(struct node_route_stats *rs, int status)
{
    for (size_t i = 0; i < NODE_CODES_PER_ROUTE; i++) {
        if (rs->code[i] == status) {
            rs->n[i]++;
            return;
        }
        if (rs->code[i] == 0) {
            rs->code[i] = (uint16_t)status;
            rs->n[i] = 1;
            return;
        }
    }
    rs->other++;
}

/* One line per request at debug: what, how it ended, how long, for whom. */
static void
log_request(struct node *n, struct http_request *req, struct api_req *a,
            int status, uint64_t ns)
{
    struct log_field f[12];

    (void)n;
    log_write(
        LOG_LEVEL_DEBUG, "request",
        api_log_fields(
            req,
            LOG_FIELDS(
                LOG_STR("method", req->method),
                LOG_STR("route", a->route != NULL ? a->route->pattern : NULL),
                LOG_STR("path", req->path), LOG_I64("status", status),
                LOG_U64("us", ns / 1000), LOG_STR("client", a->client),
                LOG_STR("fact_request_id", a->fact_request_id[0] != '\0'
                                               ? a->fact_request_id
                                               : NULL)),
            f, 12),
        "%s %s %d %.3f ms", req->method, req->path, status, (double)ns / 1e6);
}

void
api_on_answer(struct http_request *req, int status, void *arg)
{
    struct node *n = arg;
    struct node_stats *st = &n->stats;
    struct api_req *a = api_req(req);
    const struct api_route *base;
    size_t row = st->n_routes;
    uint64_t ns;

    api_routes(&base);
    if (a != NULL && a->route != NULL) {
        row = (size_t)(a->route - base);
    }
    if (status >= 100 && status < 600) {
        count_code(&st->route[row], status);
    }
    if (a == NULL) {
        return; /* out of memory before the request was set up */
    }
    ns = pc_mono_ns() - a->start_ns;
    pc_hist_observe_ns(
        &st->latency[st->route_family[row]]
                    [a->route != NULL ? kind_of(a->route->needs) : 2],
        ns);
    http_req_add_header(req, "X-Request-Id", a->request_id);
    if (log_on(LOG_LEVEL_DEBUG)) {
        log_request(n, req, a, status, ns);
    }
}

/* ---- /metrics --------------------------------------------------------- */

/* A family of one unlabelled sample. */
static int
one_u64(struct pc_buf *b, const char *name, const char *type, const char *help,
        uint64_t v)
{
    int rc = pc_prom_family(b, name, type, help);

    return rc == PC_OK ? pc_prom_u64(b, name, NULL, v) : rc;
}

static int
one_f64(struct pc_buf *b, const char *name, const char *help, double v)
{
    int rc = pc_prom_family(b, name, "gauge", help);

    return rc == PC_OK ? pc_prom_f64(b, name, NULL, v) : rc;
}

static int
one_hist(struct pc_buf *b, const char *name, const char *help,
         const struct pc_hist *h)
{
    int rc = pc_prom_family(b, name, "histogram", help);

    return rc == PC_OK ? pc_prom_hist(b, name, NULL, h) : rc;
}

static int
raft_metrics(struct node *n, struct pc_buf *b)
{
    static const char *const states[] = { "leader", "follower", "candidate",
                                          "unavailable" };
    const char *state = clu_state_name(n->clu);
    const struct clu_peer_state *peers;
    struct clu_member m[64];
    struct clu_stats cs;
    struct pc_buf l;
    uint64_t lid = clu_leader(n->clu, NULL);
    size_t np;
    int rc;

    clu_stats(n->clu, &cs);
    pc_buf_init(&l);
    rc = pc_prom_family(b, "provcat_raft_state", "gauge",
                        "1 for this node's raft state, 0 for the others");
    for (size_t i = 0; rc == PC_OK && i < 4; i++) {
        l.len = 0;
        rc = pc_prom_label(&l, "state", states[i]);
        rc = rc == PC_OK
                 ? pc_prom_u64(b, "provcat_raft_state", (const char *)l.data,
                               strcmp(state, states[i]) == 0)
                 : rc;
    }
    rc |= one_u64(b, "provcat_raft_is_leader", "gauge",
                  "1 while this node is the leader", clu_is_leader(n->clu));
    rc |= one_u64(b, "provcat_raft_has_leader", "gauge",
                  "1 while this node knows a leader", lid != 0);
    rc |=
        one_u64(b, "provcat_raft_leader_id", "gauge",
                "The leader's node id as this node knows it, 0 for none", lid);
    rc |= one_u64(b, "provcat_raft_term", "gauge", "The current raft term",
                  clu_term(n->clu));
    rc |= one_u64(b, "provcat_raft_commit_index", "gauge",
                  "The raft commit index this node knows",
                  clu_commit_index(n->clu));
    rc |= one_u64(b, "provcat_raft_applied_index", "gauge",
                  "The last raft index this node applied",
                  clu_applied_index(n->clu));
    rc |= one_u64(b, "provcat_raft_last_index", "gauge",
                  "The last index of this node's raft log",
                  clu_last_index(n->clu));
    rc |= one_u64(b, "provcat_raft_leader_changes_total", "counter",
                  "Times this node saw a new leader", cs.leader_changes);
    rc |= pc_prom_family(b, "provcat_raft_elections_total", "counter",
                         "Elections this node started, by how they ended");
    rc |= pc_prom_u64(b, "provcat_raft_elections_total", "result=\"won\"",
                      cs.elections_won);
    rc |= pc_prom_u64(b, "provcat_raft_elections_total", "result=\"lost\"",
                      cs.elections_lost);
    rc |= one_hist(b, "provcat_raft_append_duration_seconds",
                   "Time to write and sync a batch of entries to the raft "
                   "log (raft_io append)",
                   &cs.append);
    rc |= one_hist(b, "provcat_raft_commit_duration_seconds",
                   "Leader: from proposing an entry to having applied it "
                   "(replication, commit, apply)",
                   &cs.commit);
    rc |= one_hist(b, "provcat_raft_apply_duration_seconds",
                   "Time the state machine took to apply one raft entry",
                   &cs.apply);
    rc |= one_u64(b, "provcat_apply_errors_total", "counter",
                  "Entries the state machine could not apply", cs.apply_errors);
    np = clu_peers(n->clu, &peers);
    rc |= pc_prom_family(b, "provcat_raft_peer_connected", "gauge",
                         "1 while raft's connection to the peer is up");
    for (size_t i = 0; rc == PC_OK && i < np; i++) {
        char lab[40];
        snprintf(lab, sizeof(lab), "peer=\"%llu\"",
                 (unsigned long long)peers[i].id);
        rc = pc_prom_u64(b, "provcat_raft_peer_connected", lab, peers[i].up);
    }
    rc |= pc_prom_family(b, "provcat_raft_peer_losses_total", "counter",
                         "Connections to the peer that broke");
    for (size_t i = 0; rc == PC_OK && i < np; i++) {
        char lab[40];
        snprintf(lab, sizeof(lab), "peer=\"%llu\"",
                 (unsigned long long)peers[i].id);
        rc = pc_prom_u64(b, "provcat_raft_peer_losses_total", lab,
                         peers[i].losses);
    }
    rc |= pc_prom_family(b, "provcat_raft_follower_lag_entries", "gauge",
                         "Leader only: entries a member's log is behind the "
                         "leader's");
    if (clu_is_leader(n->clu)) {
        size_t nm = clu_members(n->clu, m, 64);
        uint64_t last = clu_last_index(n->clu);

        for (size_t i = 0; rc == PC_OK && i < nm; i++) {
            char lab[40];
            snprintf(lab, sizeof(lab), "id=\"%llu\"",
                     (unsigned long long)m[i].id);
            rc = pc_prom_u64(b, "provcat_raft_follower_lag_entries", lab,
                             last > m[i].match_index ? last - m[i].match_index
                                                     : 0);
        }
    }
    rc |= one_u64(b, "provcat_snapshots_total", "counter",
                  "Snapshots this node took", cs.snapshots);
    rc |= one_u64(b, "provcat_snapshot_bytes", "gauge",
                  "Size of the last snapshot taken", cs.snapshot_bytes);
    rc |= one_f64(b, "provcat_snapshot_duration_seconds",
                  "Worker time encoding the last snapshot",
                  (double)cs.snapshot_ms / 1e3);
    rc |= one_f64(b, "provcat_snapshot_loop_seconds",
                  "Event-loop time the last snapshot took, over all its "
                  "calls",
                  (double)cs.snapshot_loop_us / 1e6);
    rc |= one_u64(b, "provcat_snapshot_reused_facts", "gauge",
                  "Facts the last snapshot copied from the frame cache",
                  cs.snapshot_reused);
    rc |= one_u64(b, "provcat_snapshot_cache_bytes", "gauge",
                  "Bytes of snapshot frames cached for the next snapshot",
                  cs.snapshot_cache_bytes);
    rc |= one_u64(b, "provcat_snapshot_restores_total", "counter",
                  "Snapshots restored: loaded at start or installed from "
                  "the leader",
                  cs.restores);
    rc |= one_u64(b, "provcat_snapshot_threshold_entries", "gauge",
                  "Entries since the last snapshot at which raft takes the "
                  "next",
                  cs.snapshot_threshold);
    rc |= one_u64(b, "provcat_snapshot_trailing_entries", "gauge",
                  "Entries raft keeps after a snapshot", cs.snapshot_trailing);
    pc_buf_release(&l);
    return rc == PC_OK ? PC_OK : PC_ENOMEM;
}

static int
ledger_metrics(struct node *n, struct pc_buf *b)
{
    static const char *const parts[] = { "facts", "docs", "merkle", "index",
                                         "encodings" };
    struct led *led = fsm_led(n->fsm);
    struct led_mem lm;
    size_t v[5];
    int rc;

    led_mem(led, &lm);
    v[0] = lm.facts, v[1] = lm.docs, v[2] = lm.merkle, v[3] = lm.index;
    v[4] = lm.enc;
    rc = one_u64(b, "provcat_ledger_revision", "gauge",
                 "Facts in this node's ledger", led_count(led));
    rc |= one_f64(b, "provcat_ledger_time_seconds",
                  "Ledger time of the last fact, seconds since the epoch",
                  (double)led_time(led) / 1e3);
    rc |= pc_prom_family(b, "provcat_ledger_time_ahead_seconds", "gauge",
                         "How far ledger time (carried forward from the last "
                         "live entry) runs ahead of this node's clock; absent "
                         "until an entry arrived live");
    if (n->clock.known) {
        rc |= pc_prom_f64(b, "provcat_ledger_time_ahead_seconds", NULL,
                          (double)n->clock.ahead_ms / 1e3);
    }
    rc |= pc_prom_family(b, "provcat_ledger_bytes", "gauge",
                         "Memory the ledger holds, by part");
    for (size_t i = 0; rc == PC_OK && i < 5; i++) {
        char lab[24];
        snprintf(lab, sizeof(lab), "part=\"%s\"", parts[i]);
        rc = pc_prom_u64(b, "provcat_ledger_bytes", lab, v[i]);
    }
    rc |= one_u64(b, "provcat_proposed_entries_total", "counter",
                  "Raft entries this node proposed (each a batch of "
                  "commands)",
                  n->batch.entries);
    rc |= one_u64(b, "provcat_proposed_commands_total", "counter",
                  "Commands this node proposed", n->batch.commands);
    rc |= one_u64(b, "provcat_read_barriers_total", "counter",
                  "Raft barriers proposed for linearizable reads",
                  n->reads.barriers);
    rc |= one_u64(b, "provcat_reads_linearizable_total", "counter",
                  "Linearizable reads served after a barrier", n->reads.served);
    rc |=
        one_u64(b, "provcat_disk_free_bytes", "gauge",
                "Free space of the data directory's file system", n->disk.free);
    rc |= one_u64(b, "provcat_disk_full", "gauge",
                  "1 while free space is below one raft segment (writes get "
                  "507)",
                  n->disk.low);
    rc |=
        one_u64(b, "provcat_auth_failures_total", "counter",
                "Failed authentications", n->sec.events[NODE_SEC_AUTH_FAILURE]);
    rc |= one_u64(b, "provcat_denials_total", "counter",
                  "Reads refused by the access rules (403)",
                  n->sec.events[NODE_SEC_DENIED]);
    rc |= one_u64(b, "provcat_rate_limited_total", "counter",
                  "Requests refused by the failed-login limiter (429)",
                  n->sec.events[NODE_SEC_RATE_LIMITED]);
    rc |= one_u64(b, "provcat_auth_ready", "gauge",
                  "1 once this node can judge tokens", api_auth_ready(n));
    rc |= pc_prom_family(b, "provcat_security_events_total", "counter",
                         "Security events of this node by kind (each also a "
                         "line in security.log, within its per-address "
                         "limit)");
    for (unsigned k = 0; rc == PC_OK && k < NODE_SEC_N; k++) {
        char lab[48];
        snprintf(lab, sizeof(lab), "kind=\"%s\"", node_sec_kind_name(k));
        rc = pc_prom_u64(b, "provcat_security_events_total", lab,
                         n->sec.events[k]);
    }
    rc |= one_u64(b, "provcat_reports_recount_pending", "gauge",
                  "1 while completeness is being recounted after a change "
                  "of an entry's required fields",
                  fsm_reports_pending(n->fsm) ? 1 : 0);
    rc |= one_u64(b, "provcat_idempotency_keys", "gauge",
                  "Idempotency keys remembered (those of the last 24 h of "
                  "ledger time)",
                  fsm_idem_count(n->fsm));
    return rc == PC_OK ? PC_OK : PC_ENOMEM;
}

/* Membership as this node sees it, and redactions' forced compactions. */
static int
member_metrics(struct node *n, struct pc_buf *b)
{
    struct clu_stats cs;
    int rc;

    clu_stats(n->clu, &cs);
    rc = one_u64(b, "provcat_removed", "gauge",
                 "1 once this node learnt it was removed from the cluster",
                 clu_removed(n->clu, NULL) ? 1 : 0);
    rc |= one_u64(b, "provcat_redaction_compaction_pending", "gauge",
                  "1 while a redaction's forced compaction is under way",
                  cs.purge_pending ? 1 : 0);
    rc |=
        one_u64(b, "provcat_redaction_compactions_started_total", "counter",
                "Forced compactions started for redactions", cs.purges_started);
    rc |= one_u64(b, "provcat_redaction_compactions_total", "counter",
                  "Forced compactions finished, raft's files checked",
                  cs.purges_done);
    rc |= one_u64(b, "provcat_redaction_compaction_nudges_total", "counter",
                  "Empty entries a leader appended to move a compaction on",
                  cs.purge_nudges);
    return rc == PC_OK ? PC_OK : PC_ENOMEM;
}

static int
http_metrics(struct node *n, struct pc_buf *b)
{
    const struct http_stats *hs = http_server_stats(n->http);
    const struct node_stats *st = &n->stats;
    const struct api_route *r;
    struct pc_buf l;
    int rc;

    api_routes(&r);
    pc_buf_init(&l);
    rc = one_u64(b, "provcat_http_connections_open", "gauge",
                 "Client connections open now", hs->conn_open);
    rc |= one_u64(b, "provcat_http_connections_accepted_total", "counter",
                  "Client connections accepted", hs->conn_accepted);
    rc |= one_u64(b, "provcat_http_connections_rejected_total", "counter",
                  "Client connections over --max-connections, closed (503)",
                  hs->conn_rejected);
    rc |= one_u64(b, "provcat_http_parse_errors_total", "counter",
                  "Requests the HTTP layer refused as malformed or too large "
                  "(400, 413)",
                  hs->parse_errors);
    rc |= one_u64(b, "provcat_http_timeouts_total", "counter",
                  "Connections closed by the idle or request timeout",
                  hs->timeouts);
    rc |= one_u64(b, "provcat_http_received_bytes_total", "counter",
                  "Bytes read from clients", hs->bytes_in);
    rc |= one_u64(b, "provcat_http_sent_bytes_total", "counter",
                  "Bytes written to clients", hs->bytes_out);
    rc |= pc_prom_family(b, "provcat_http_responses_total", "counter",
                         "Answers written, by status class (the HTTP layer's "
                         "own 400/413 included)");
    for (int i = 1; rc == PC_OK && i <= 5; i++) {
        char lab[24];
        snprintf(lab, sizeof(lab), "class=\"%dxx\"", i);
        rc = pc_prom_u64(b, "provcat_http_responses_total", lab,
                         hs->responses[i]);
    }
    rc |= pc_prom_family(b, "provcat_http_requests_total", "counter",
                         "Requests answered, by route template and status "
                         "(route \"unmatched\": no route)");
    for (size_t i = 0; rc == PC_OK && i <= st->n_routes; i++) {
        const struct node_route_stats *rs = &st->route[i];

        for (size_t k = 0; rc == PC_OK && k <= NODE_CODES_PER_ROUTE; k++) {
            char code[8];
            uint64_t v;

            if (k < NODE_CODES_PER_ROUTE) {
                if (rs->code[k] == 0) {
                    continue;
                }
                snprintf(code, sizeof(code), "%u", rs->code[k]);
                v = rs->n[k];
            } else if (rs->other > 0) {
                snprintf(code, sizeof(code), "other");
                v = rs->other;
            } else {
                continue;
            }
            l.len = 0;
            rc = pc_prom_label(&l, "method",
                               i < st->n_routes ? r[i].method : "any");
            rc = rc == PC_OK ? pc_prom_label(&l, "route",
                                             i < st->n_routes ? r[i].pattern
                                                              : "unmatched")
                             : rc;
            rc = rc == PC_OK ? pc_prom_label(&l, "code", code) : rc;
            rc = rc == PC_OK ? pc_prom_u64(b, "provcat_http_requests_total",
                                           (const char *)l.data, v)
                             : rc;
        }
    }
    rc |=
        pc_prom_family(b, "provcat_http_request_duration_seconds", "histogram",
                       "From a request's arrival to its answer, by route "
                       "family and kind (write, read, local)");
    for (size_t f = 0; rc == PC_OK && f < st->n_families; f++) {
        for (unsigned k = 0; rc == PC_OK && k < 3; k++) {
            if (st->latency[f][k].count == 0) {
                continue;
            }
            l.len = 0;
            rc = pc_prom_label(&l, "family", st->family[f]);
            rc = rc == PC_OK ? pc_prom_label(&l, "kind", kinds[k]) : rc;
            rc = rc == PC_OK
                     ? pc_prom_hist(b,
                                    "provcat_http_request_duration_"
                                    "seconds",
                                    (const char *)l.data, &st->latency[f][k])
                     : rc;
        }
    }
    pc_buf_release(&l);
    return rc == PC_OK ? PC_OK : PC_ENOMEM;
}

/* The raft library this binary runs ("0.22.1"). */
static void
raft_version(char out[16])
{
#if PC_RAFT_HAS_017
    int v = raft_version_number();
#else
    int v = RAFT_VERSION_NUMBER;
#endif
    snprintf(out, 16, "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
}

/* CPU, memory, file descriptors and start time from /proc/self. */
static int
process_metrics(struct pc_buf *b)
{
    unsigned long long utime = 0, stime = 0, start = 0, vsize = 0, btime = 0;
    long rss = 0, tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    char line[1024], *p;
    struct rlimit rl;
    uint64_t fds = 0;
    struct dirent *e;
    DIR *d;
    FILE *f;
    int rc;

    if ((f = fopen("/proc/self/stat", "re")) != NULL) {
        if (fgets(line, sizeof(line), f) != NULL &&
            (p = strrchr(line, ')')) != NULL) {
            /* Fields 14, 15, 22, 23, 24 (utime, stime, starttime, vsize,
             * rss); p + 2 is field 3. */
            sscanf(p + 2,
                   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
                   "%*d %*d %*d %*d %*d %*d %llu %llu %ld",
                   &utime, &stime, &start, &vsize, &rss);
        }
        fclose(f);
    }
    if ((f = fopen("/proc/stat", "re")) != NULL) {
        while (fgets(line, sizeof(line), f) != NULL) {
            if (sscanf(line, "btime %llu", &btime) == 1) {
                break;
            }
        }
        fclose(f);
    }
    if ((d = opendir("/proc/self/fd")) != NULL) {
        while ((e = readdir(d)) != NULL) {
            fds += e->d_name[0] != '.';
        }
        closedir(d);
        fds -= fds > 0; /* the directory's own descriptor */
    }
    if (tck <= 0) {
        tck = 100;
    }
    rc = pc_prom_family(b, "process_cpu_seconds_total", "counter",
                        "User and system CPU time this process used");
    rc |= pc_prom_f64(b, "process_cpu_seconds_total", NULL,
                      (double)(utime + stime) / (double)tck);
    rc |= one_u64(b, "process_resident_memory_bytes", "gauge",
                  "Resident memory of this process",
                  (uint64_t)(rss > 0 ? rss : 0) * (uint64_t)page);
    rc |= one_u64(b, "process_virtual_memory_bytes", "gauge",
                  "Virtual memory of this process", vsize);
    rc |= one_u64(b, "process_open_fds", "gauge",
                  "File descriptors this process has open", fds);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rc |= one_u64(b, "process_max_fds", "gauge",
                      "Limit on this process's file descriptors",
                      rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX
                                                   : (uint64_t)rl.rlim_cur);
    }
    rc |= one_f64(b, "process_start_time_seconds",
                  "When this process started, seconds since the epoch",
                  (double)btime + (double)start / (double)tck);
    return rc == PC_OK ? PC_OK : PC_ENOMEM;
}

void
api_metrics(struct node *n, struct http_request *req)
{
    struct http_header hdr[] = { { "Content-Type",
                                   "text/plain; version=0.0.4; charset=utf-8" },
                                 { NULL, NULL } };
    char raft[16], lab[160];
    struct pc_buf b;
    int rc;

    raft_version(raft);
    snprintf(lab, sizeof(lab), "version=\"%s\",commit=\"%s\",raft=\"%s\"",
             NODE_VERSION, PC_COMMIT, raft);
    pc_buf_init(&b);
    rc = pc_prom_family(&b, "provcat_build_info", "gauge",
                        "Always 1: the version, git commit and raft library "
                        "of this node");
    rc |= pc_prom_u64(&b, "provcat_build_info", lab, 1);
    rc |= raft_metrics(n, &b);
    rc |= ledger_metrics(n, &b);
    rc |= http_metrics(n, &b);
    rc |= member_metrics(n, &b);
    api_audit_metrics(n, &b);
    seclog_metrics(n->sec.log, &b);
    rc |= process_metrics(&b);
    if (rc != PC_OK) {
        pc_buf_release(&b);
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    http_respond(req, 200, hdr, b.data, b.len);
    pc_buf_release(&b);
}
