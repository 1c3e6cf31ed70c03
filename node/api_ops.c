/* SPDX-License-Identifier: MIT */
/*
 * Operations routes: health, readiness, status, Prometheus metrics, the
 * ledger's root and RFC 6962 proofs, backups, membership and leadership
 * transfer. Status, health and metrics are node-local: never redirected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "node/api.h"
#include "storage/mrk.h"
#include "storage/snap.h"

static bool
parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    v = strtoull(s, &end, 10);
    if (*end != '\0') {
        return false;
    }
    *out = v;
    return true;
}

static json_t *
hex_json(const uint8_t h[PC_HASH_LEN])
{
    char hex[PC_HASH_HEX_LEN + 1];

    pc_hex(hex, h, PC_HASH_LEN);
    return json_string(hex);
}

void
api_healthz(struct http_request *req, void *arg)
{
    api_json(arg, req, 200, json_pack("{s:s}", "status", "ok"));
}

void
api_readyz(struct http_request *req, void *arg)
{
    struct node *n = arg;
    uint64_t leader = clu_leader(n->clu, NULL);
    bool ready = leader != 0 &&
                 clu_applied_index(n->clu) >= clu_commit_index(n->clu) &&
                 fsm_cluster_id(n->fsm) != NULL;

    if (!ready) {
        api_error(n, req, 503, "unavailable",
                  leader == 0 ? "no leader known" : "catching up");
        return;
    }
    api_json(n, req, 200, json_pack("{s:s}", "status", "ready"));
}

void
api_status(struct http_request *req, void *arg)
{
    struct node *n = arg;
    struct clu_member m[64];
    size_t nm = clu_members(n->clu, m, 64);
    uint64_t lid = clu_leader(n->clu, NULL);
    uint8_t root[PC_HASH_LEN];
    json_t *members = json_array(), *o, *leader;

    led_root(fsm_led(n->fsm), root);
    for (size_t i = 0; i < nm; i++) {
        json_t *j =
            json_pack("{s:I, s:s, s:s?, s:s}", "id", (json_int_t)m[i].id,
                      "address", m[i].address, "client_url",
                      fsm_member_url(n->fsm, m[i].id), "role", m[i].role);
        if (clu_is_leader(n->clu)) {
            json_object_set_new(j, "match_index",
                                json_integer((json_int_t)m[i].match_index));
        }
        if (m[i].joining) {
            json_object_set_new(j, "status", json_string("catching_up"));
        }
        json_array_append_new(members, j);
    }
    leader = lid == 0 ? json_null()
                      : json_pack("{s:I, s:s?}", "id", (json_int_t)lid,
                                  "client_url", fsm_member_url(n->fsm, lid));
    o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:o, s:o, "
                  "s:s, s:s?}",
                  "id", (json_int_t)n->o.id, "address", n->o.peer, "client_url",
                  n->o.client_url, "state", clu_state_name(n->clu), "leader",
                  leader, "term", (json_int_t)clu_term(n->clu), "commit_index",
                  (json_int_t)clu_commit_index(n->clu), "applied_index",
                  (json_int_t)clu_applied_index(n->clu), "revision",
                  (json_int_t)led_count(fsm_led(n->fsm)), "root",
                  hex_json(root), "members", members, "version", NODE_VERSION,
                  "cluster_id", fsm_cluster_id(n->fsm));
    api_json(n, req, 200, o);
}

void
api_metrics(struct http_request *req, void *arg)
{
    struct node *n = arg;
    const struct http_stats *hs = http_server_stats(n->http);
    struct clu_stats cs;
    struct led_mem lm;
    struct pc_buf b;
    struct clu_member m[64];
    size_t nm;
    double lim = 0.5;
    uint64_t cum = 0;
    struct http_header hdr[] = {
        { "Content-Type", "text/plain; version=0.0.4" }, { NULL, NULL }
    };

    clu_stats(n->clu, &cs);
    led_mem(fsm_led(n->fsm), &lm);
    pc_buf_init(&b);
    pc_buf_printf(
        &b,
        "# TYPE provcat_raft_state gauge\n"
        "provcat_raft_state{state=\"%s\"} 1\n"
        "provcat_raft_is_leader %d\n"
        "provcat_raft_term %llu\n"
        "provcat_raft_commit_index %llu\n"
        "provcat_raft_applied_index %llu\n"
        "provcat_raft_last_index %llu\n"
        "provcat_ledger_revision %llu\n"
        "provcat_ledger_time_ms %lld\n"
        "provcat_ledger_bytes{part=\"facts\"} %zu\n"
        "provcat_ledger_bytes{part=\"docs\"} %zu\n"
        "provcat_ledger_bytes{part=\"merkle\"} %zu\n"
        "provcat_ledger_bytes{part=\"index\"} %zu\n"
        "provcat_snapshots_total %llu\n"
        "provcat_snapshot_bytes %llu\n"
        "provcat_snapshot_duration_ms %llu\n"
        "provcat_snapshot_loop_us %llu\n"
        "provcat_snapshot_reused_facts %llu\n"
        "provcat_snapshot_cache_bytes %llu\n"
        "provcat_snapshot_restores_total %llu\n"
        "provcat_snapshot_threshold_entries %u\n"
        "provcat_snapshot_trailing_entries %u\n"
        "provcat_apply_errors_total %llu\n"
        "provcat_read_barriers_total %llu\n"
        "provcat_reads_linearizable_total %llu\n"
        "provcat_auth_failures_total %llu\n"
        "provcat_denials_total %llu\n"
        "provcat_rate_limited_total %llu\n"
        "provcat_http_connections_open %llu\n"
        "provcat_http_connections_accepted_total %llu\n"
        "provcat_http_connections_rejected_total %llu\n"
        "provcat_http_requests_total %llu\n"
        "provcat_http_parse_errors_total %llu\n",
        clu_state_name(n->clu), clu_is_leader(n->clu) ? 1 : 0,
        (unsigned long long)clu_term(n->clu),
        (unsigned long long)clu_commit_index(n->clu),
        (unsigned long long)clu_applied_index(n->clu),
        (unsigned long long)clu_last_index(n->clu),
        (unsigned long long)led_count(fsm_led(n->fsm)),
        (long long)led_time(fsm_led(n->fsm)), lm.facts, lm.docs, lm.merkle,
        lm.index, (unsigned long long)cs.snapshots,
        (unsigned long long)cs.snapshot_bytes,
        (unsigned long long)cs.snapshot_ms,
        (unsigned long long)cs.snapshot_loop_us,
        (unsigned long long)cs.snapshot_reused,
        (unsigned long long)cs.snapshot_cache_bytes,
        (unsigned long long)cs.restores, cs.snapshot_threshold,
        cs.snapshot_trailing, (unsigned long long)cs.apply_errors,
        (unsigned long long)n->barriers, (unsigned long long)n->reads_served,
        (unsigned long long)n->sec_auth_failures,
        (unsigned long long)n->sec_denials,
        (unsigned long long)n->sec_rate_limited,
        (unsigned long long)hs->conn_open,
        (unsigned long long)hs->conn_accepted,
        (unsigned long long)hs->conn_rejected, (unsigned long long)hs->requests,
        (unsigned long long)hs->parse_errors);
    pc_buf_printf(&b,
                  "provcat_proposed_entries_total %llu\n"
                  "provcat_proposed_commands_total %llu\n",
                  (unsigned long long)n->batches,
                  (unsigned long long)n->batched_cmds);
    pc_buf_printf(&b, "provcat_disk_free_bytes %llu\nprovcat_disk_full %d\n",
                  (unsigned long long)n->disk_free, n->disk_low ? 1 : 0);
    if (n->clock_known) {
        pc_buf_printf(&b, "provcat_ledger_time_ahead_ms %lld\n",
                      (long long)n->clock_ahead_ms);
    }
    api_records_metrics(n, &b);
    for (int i = 1; i <= 5; i++) {
        pc_buf_printf(&b, "provcat_http_responses_total{class=\"%dxx\"} %llu\n",
                      i, (unsigned long long)n->req_by_status[i]);
    }
    pc_buf_printf(&b, "# TYPE provcat_http_request_duration_ms histogram\n");
    for (int i = 0; i < 15; i++, lim *= 2) {
        cum += n->latency_buckets[i];
        pc_buf_printf(&b,
                      "provcat_http_request_duration_ms_bucket{le=\"%g\"} "
                      "%llu\n",
                      lim, (unsigned long long)cum);
    }
    cum += n->latency_buckets[15];
    pc_buf_printf(&b,
                  "provcat_http_request_duration_ms_bucket{le=\"+Inf\"} %llu\n"
                  "provcat_http_request_duration_ms_sum %.3f\n"
                  "provcat_http_request_duration_ms_count %llu\n",
                  (unsigned long long)cum, n->latency_sum_ms,
                  (unsigned long long)n->latency_count);
    if (clu_is_leader(n->clu)) {
        nm = clu_members(n->clu, m, 64);
        for (size_t i = 0; i < nm; i++) {
            uint64_t last = clu_last_index(n->clu);
            pc_buf_printf(&b, "provcat_raft_follower_lag{id=\"%llu\"} %llu\n",
                          (unsigned long long)m[i].id,
                          (unsigned long long)(last > m[i].match_index
                                                   ? last - m[i].match_index
                                                   : 0));
        }
    }
    n->req_by_status[2]++;
    http_respond(req, 200, hdr, b.data, b.len);
    pc_buf_release(&b);
}

void
api_ledger(struct http_request *req, void *arg)
{
    struct node *n = arg;
    struct led *l = fsm_led(n->fsm);
    uint8_t root[PC_HASH_LEN];
    uint64_t size = led_count(l);
    const char *ts = http_req_param(req, "tree_size");

    if (ts != NULL && (!parse_u64(ts, &size) || size > led_count(l))) {
        api_error(n, req, 400, "bad_request",
                  "tree_size must be a number up to %llu",
                  (unsigned long long)led_count(l));
        return;
    }
    mrk_root(led_mrk(l), size, root);
    api_json(n, req, 200,
             json_pack("{s:I, s:o}", "revision", (json_int_t)size, "root",
                       hex_json(root)));
}

static json_t *
path_json(uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], size_t len)
{
    json_t *a = json_array();

    for (size_t i = 0; i < len; i++) {
        json_array_append_new(a, hex_json(path[i]));
    }
    return a;
}

static void
proof_run(struct node *n, struct http_request *req)
{
    struct led *l = fsm_led(n->fsm);
    uint64_t r, size = led_count(l);
    uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], leaf[PC_HASH_LEN],
        root[PC_HASH_LEN];
    size_t len;

    if (!parse_u64(http_req_param(req, "revision"), &r) ||
        (http_req_param(req, "tree_size") != NULL &&
         !parse_u64(http_req_param(req, "tree_size"), &size)) ||
        r < 1 || r > size || size > led_count(l)) {
        api_error(n, req, 400, "bad_request",
                  "need 1 <= revision <= tree_size <= %llu",
                  (unsigned long long)led_count(l));
        return;
    }
    mrk_inclusion(led_mrk(l), r - 1, size, path, &len);
    mrk_leaf(led_mrk(l), r - 1, leaf);
    mrk_root(led_mrk(l), size, root);
    api_json(n, req, 200,
             json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "revision",
                       (json_int_t)r, "leaf_index", (json_int_t)(r - 1),
                       "tree_size", (json_int_t)size, "leaf_hash",
                       hex_json(leaf), "path", path_json(path, len), "root",
                       hex_json(root)));
}

void
api_ledger_proof(struct http_request *req, void *arg)
{
    api_read(arg, req, proof_run);
}

static void
consistency_run(struct node *n, struct http_request *req)
{
    struct led *l = fsm_led(n->fsm);
    uint64_t m, to;
    uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], r1[PC_HASH_LEN], r2[PC_HASH_LEN];
    size_t len;

    if (!parse_u64(http_req_param(req, "from"), &m) ||
        !parse_u64(http_req_param(req, "to"), &to) || m < 1 || m > to ||
        to > led_count(l)) {
        api_error(n, req, 400, "bad_request", "need 1 <= from <= to <= %llu",
                  (unsigned long long)led_count(l));
        return;
    }
    mrk_consistency(led_mrk(l), m, to, path, &len);
    mrk_root(led_mrk(l), m, r1);
    mrk_root(led_mrk(l), to, r2);
    api_json(n, req, 200,
             json_pack("{s:I, s:I, s:o, s:o, s:o}", "from", (json_int_t)m, "to",
                       (json_int_t)to, "path", path_json(path, len),
                       "from_root", hex_json(r1), "to_root", hex_json(r2)));
}

void
api_ledger_consistency(struct http_request *req, void *arg)
{
    api_read(arg, req, consistency_run);
}

/* ---- backup: encoded on a worker thread over a frozen view ------------ */

struct backup_job {
    uv_work_t work;
    struct node *n;
    struct http_request *req;
    struct led *led; /* the view's: a restore may replace the fsm's */
    struct led_view *view;
    struct pc_buf out;
    int rc;
    char errmsg[PC_ERRMSG_SIZE];
};

static void
backup_work(uv_work_t *w)
{
    struct backup_job *j = w->data;

    j->rc = snap_encode_buf(j->view, &j->out, j->errmsg);
}

static void
backup_after(uv_work_t *w, int status)
{
    struct backup_job *j = w->data;
    struct node *n = j->n;
    uint8_t root[PC_HASH_LEN];
    char rev[24], hex[PC_HASH_HEX_LEN + 1];
    struct http_header hdr[] = {
        { "Content-Type", "application/octet-stream" },
        { "X-Provcat-Backup-Revision", rev },
        { "X-Provcat-Backup-Root", hex },
        { NULL, NULL },
    };

    led_view_root(j->view, root);
    pc_hex(hex, root, PC_HASH_LEN);
    snprintf(rev, sizeof(rev), "%llu",
             (unsigned long long)led_view_count(j->view));
    led_view_close(j->led, j->view);
    if (status != 0 || j->rc != PC_OK) {
        api_error(n, j->req, 500, "internal", "backup failed: %s", j->errmsg);
    } else {
        n->req_by_status[2]++;
        http_respond(j->req, 200, hdr, j->out.data, j->out.len);
    }
    pc_buf_release(&j->out);
    pc_free(j);
}

static void
backup_run(struct node *n, struct http_request *req)
{
    struct backup_job *j;

    if (!api_auth_principal(n, req) ||
        !api_require_role(n, req, FSM_ROLE_OPERATOR,
                          "backups need role operator")) {
        return;
    }
    j = pc_calloc(1, sizeof(*j));
    if (j != NULL) {
        j->led = fsm_led(n->fsm);
    }
    if (j == NULL || led_view_open(j->led, &j->view) != PC_OK) {
        pc_free(j);
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    j->n = n;
    j->req = req;
    j->work.data = j;
    pc_buf_init(&j->out);
    if (uv_queue_work(n->loop, &j->work, backup_work, backup_after) != 0) {
        led_view_close(j->led, j->view);
        pc_free(j);
        api_error(n, req, 503, "unavailable", "could not start the backup");
    }
}

void
api_backup(struct http_request *req, void *arg)
{
    api_read(arg, req, backup_run);
}

/* ---- membership ------------------------------------------------------- */

static void
member_change_cb(void *arg, int rc)
{
    struct node *n = arg;

    node_log(n, rc == PC_OK ? 2 : 1, "membership change finished: %s",
             pc_strerror(rc));
}

static void
member_url_recorded(struct node *n, struct http_request *req,
                    const struct fsm_result *res, void *ctx)
{
    uint64_t *id = ctx;

    (void)res;
    api_json(n, req, 202,
             json_pack("{s:I, s:s}", "id", (json_int_t)*id, "status",
                       "catching_up"));
}

void
api_members_add(struct http_request *req, void *arg)
{
    struct node *n = arg;
    json_t *b, *x;
    json_int_t id;
    const char *addr, *url;
    uint64_t *idp;
    char target[24];
    int rc;

    if ((b = api_body_object(n, req)) == NULL) {
        return;
    }
    id = json_integer_value(json_object_get(b, "id"));
    addr = json_string_value(json_object_get(b, "address"));
    url = json_string_value(json_object_get(b, "client_url"));
    if (id < 1 || id > 2147483647 || addr == NULL || url == NULL ||
        strncmp(url, "http://", 7) != 0 || strlen(addr) > 63) {
        json_decref(b);
        api_error(n, req, 400, "bad_request",
                  "need {\"id\": 1..2^31-1, \"address\": \"a.b.c.d:port\", "
                  "\"client_url\": \"http://...\"}");
        return;
    }
    if (!api_leader_or_redirect(n, req) || !api_auth_principal(n, req) ||
        !api_require_role(n, req, FSM_ROLE_OPERATOR,
                          "membership changes need role operator")) {
        json_decref(b);
        return;
    }
    rc = clu_add(n->clu, (uint64_t)id, addr, member_change_cb, n);
    if (rc != PC_OK) {
        json_decref(b);
        api_error(n, req, rc == PC_ECONFLICT || rc == PC_EEXIST ? 409 : 503,
                  rc == PC_ECONFLICT || rc == PC_EEXIST ? "conflict"
                                                        : "unavailable",
                  "cannot add member %lld: %s", (long long)id,
                  rc == PC_ECONFLICT ? "a membership change is in flight"
                                     : pc_strerror(rc));
        return;
    }
    idp = http_req_alloc(req, sizeof(*idp));
    *idp = (uint64_t)id;
    snprintf(target, sizeof(target), "%lld", (long long)id);
    x = json_pack("{s:s, s:s}", "client_url", url, "address", addr);
    json_decref(b);
    api_propose(n, req, CMD_MEMBER_URL, target, false, x, member_url_recorded,
                idp);
}

struct remove_ctx {
    struct node *n;
    struct http_request *req;
    uint64_t id;
};

static void
removed_cb(void *arg, int rc)
{
    struct remove_ctx *r = arg;

    if (rc != PC_OK) {
        api_error(r->n, r->req, 503, "unavailable", "removal failed: %s",
                  pc_strerror(rc));
        return;
    }
    api_json(
        r->n, r->req, 200,
        json_pack("{s:I, s:s}", "id", (json_int_t)r->id, "status", "removed"));
}

static void
handed_over_cb(void *arg, int rc)
{
    struct remove_ctx *r = arg;

    (void)rc;
    /* No longer the leader: send the client to the one that is. */
    if (api_leader_or_redirect(r->n, r->req)) {
        api_error(r->n, r->req, 503, "unavailable",
                  "could not hand leadership over; retry");
    }
}

void
api_members_remove(struct http_request *req, void *arg)
{
    struct node *n = arg;
    struct clu_member m[64];
    struct remove_ctx *r;
    uint64_t id;
    size_t nm, voters = 0;
    bool found = false, force;
    int rc;

    if (!parse_u64(req->caps[0], &id) || id < 1 || id > 2147483647) {
        api_error(n, req, 400, "bad_request", "bad member id");
        return;
    }
    if (!api_leader_or_redirect(n, req) || !api_auth_principal(n, req) ||
        !api_require_role(n, req, FSM_ROLE_OPERATOR,
                          "membership changes need role operator")) {
        return;
    }
    force = http_req_param(req, "force") != NULL &&
            strcmp(http_req_param(req, "force"), "true") == 0;
    nm = clu_members(n->clu, m, 64);
    for (size_t i = 0; i < nm; i++) {
        voters += strcmp(m[i].role, "voter") == 0 && m[i].id != id;
        found |= m[i].id == id;
    }
    if (!found) {
        api_error(n, req, 404, "not_found", "no member %llu",
                  (unsigned long long)id);
        return;
    }
    if (voters < 3 && !force) {
        api_error(n, req, 409, "conflict",
                  "removing member %llu would leave %zu voters (fewer than "
                  "3); add ?force=true to insist",
                  (unsigned long long)id, voters);
        return;
    }
    r = http_req_alloc(req, sizeof(*r));
    r->n = n;
    r->req = req;
    r->id = id;
    if (id == n->o.id) {
        rc = clu_transfer(n->clu, 0, handed_over_cb, r);
    } else {
        rc = clu_remove(n->clu, id, removed_cb, r);
    }
    if (rc != PC_OK) {
        api_error(n, req, rc == PC_ECONFLICT ? 409 : 503,
                  rc == PC_ECONFLICT ? "conflict" : "unavailable",
                  "cannot remove member %llu: %s", (unsigned long long)id,
                  rc == PC_ECONFLICT ? "a membership change is in flight"
                                     : pc_strerror(rc));
    }
}

static void
transferred_cb(void *arg, int rc)
{
    struct remove_ctx *r = arg;
    uint64_t lid = clu_leader(r->n->clu, NULL);

    if (rc != PC_OK || lid == r->n->o.id) {
        api_error(r->n, r->req, 503, "unavailable",
                  "leadership did not move; retry");
        return;
    }
    api_json(r->n, r->req, 200,
             json_pack("{s:{s:I, s:s?}}", "leader", "id", (json_int_t)lid,
                       "client_url", fsm_member_url(r->n->fsm, lid)));
}

void
api_leader_transfer(struct http_request *req, void *arg)
{
    struct node *n = arg;
    struct remove_ctx *r;
    uint64_t id = 0;
    int rc;

    if (req->body_len > 0) {
        json_t *b = api_body_object(n, req);
        if (b == NULL) {
            return;
        }
        json_t *v = json_object_get(b, "id");
        if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1)) {
            json_decref(b);
            api_error(n, req, 400, "bad_request", "\"id\" must be a node id");
            return;
        }
        id = v ? (uint64_t)json_integer_value(v) : 0;
        json_decref(b);
    }
    if (!api_leader_or_redirect(n, req) || !api_auth_principal(n, req) ||
        !api_require_role(n, req, FSM_ROLE_OPERATOR,
                          "leadership transfer needs role operator")) {
        return;
    }
    r = http_req_alloc(req, sizeof(*r));
    r->n = n;
    r->req = req;
    r->id = id;
    rc = clu_transfer(n->clu, id, transferred_cb, r);
    if (rc != PC_OK) {
        api_error(n, req, rc == PC_ENOTFOUND ? 404 : 503,
                  rc == PC_ENOTFOUND ? "not_found" : "unavailable",
                  "cannot transfer leadership: %s", pc_strerror(rc));
    }
}
