/* SPDX-License-Identifier: MIT */
/*
 * Node-local routes: health, readiness, status and Prometheus metrics.
 * Answered by whichever node receives them, from its own state, to anyone:
 * never redirected, no token looked at (API_LOCAL | API_NOAUTH).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "node/api/api_int.h"
#include "node/seclog.h"
#include "storage/led.h"

static json_t *
hex_json(const uint8_t h[PC_HASH_LEN])
{
    char hex[PC_HASH_HEX_LEN + 1];

    pc_hex(hex, h, PC_HASH_LEN);
    return json_string(hex);
}

void
api_healthz(struct node *n, struct http_request *req)
{
    api_json(n, req, 200, json_pack("{s:s}", "status", "ok"));
}

/* Ready: a leader is known, this node applied up to the commit index it
 * knows, genesis is applied, and it can judge tokens (auth.c). */
void
api_readyz(struct node *n, struct http_request *req)
{
    uint64_t leader = clu_leader(n->clu, NULL);
    bool ready = leader != 0 &&
                 clu_applied_index(n->clu) >= clu_commit_index(n->clu) &&
                 fsm_cluster_id(n->fsm) != NULL && api_auth_ready(n);

    if (!ready) {
        api_error(n, req, 503, "unavailable",
                  leader == 0 ? "no leader known" : "catching up");
        return;
    }
    api_json(n, req, 200, json_pack("{s:s}", "status", "ready"));
}

void
api_status(struct node *n, struct http_request *req)
{
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
    if (o != NULL) {
        json_object_set_new(o, "removed",
                            json_boolean(clu_removed(n->clu, NULL)));
    }
    api_json(n, req, 200, o);
}

void
api_metrics(struct node *n, struct http_request *req)
{
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
    pc_buf_printf(&b,
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
                  (long long)led_time(fsm_led(n->fsm)), lm.facts, lm.docs,
                  lm.merkle, lm.index, (unsigned long long)cs.snapshots,
                  (unsigned long long)cs.snapshot_bytes,
                  (unsigned long long)cs.snapshot_ms,
                  (unsigned long long)cs.snapshot_loop_us,
                  (unsigned long long)cs.snapshot_reused,
                  (unsigned long long)cs.snapshot_cache_bytes,
                  (unsigned long long)cs.restores, cs.snapshot_threshold,
                  cs.snapshot_trailing, (unsigned long long)cs.apply_errors,
                  (unsigned long long)n->reads.barriers,
                  (unsigned long long)n->reads.served,
                  (unsigned long long)n->sec.auth_failures,
                  (unsigned long long)n->sec.denials,
                  (unsigned long long)n->sec.rate_limited,
                  (unsigned long long)hs->conn_open,
                  (unsigned long long)hs->conn_accepted,
                  (unsigned long long)hs->conn_rejected,
                  (unsigned long long)hs->requests,
                  (unsigned long long)hs->parse_errors);
    pc_buf_printf(&b,
                  "provcat_proposed_entries_total %llu\n"
                  "provcat_proposed_commands_total %llu\n",
                  (unsigned long long)n->batch.entries,
                  (unsigned long long)n->batch.commands);
    pc_buf_printf(&b, "provcat_ledger_bytes{part=\"encodings\"} %zu\n", lm.enc);
    pc_buf_printf(&b, "provcat_auth_ready %d\n", api_auth_ready(n) ? 1 : 0);
    pc_buf_printf(&b, "provcat_idempotency_keys %zu\n", fsm_idem_count(n->fsm));
    pc_buf_printf(&b, "provcat_removed %d\n",
                  clu_removed(n->clu, NULL) ? 1 : 0);
    pc_buf_printf(&b,
                  "provcat_redaction_compaction_pending %d\n"
                  "provcat_redaction_compactions_started_total %llu\n"
                  "provcat_redaction_compactions_total %llu\n"
                  "provcat_redaction_compaction_nudges_total %llu\n",
                  cs.purge_pending ? 1 : 0,
                  (unsigned long long)cs.purges_started,
                  (unsigned long long)cs.purges_done,
                  (unsigned long long)cs.purge_nudges);
    pc_buf_printf(&b, "provcat_disk_free_bytes %llu\nprovcat_disk_full %d\n",
                  (unsigned long long)n->disk.free, n->disk.low ? 1 : 0);
    if (n->clock.known) {
        pc_buf_printf(&b, "provcat_ledger_time_ahead_ms %lld\n",
                      (long long)n->clock.ahead_ms);
    }
    api_audit_metrics(n, &b);
    seclog_metrics(n->sec.log, &b);
    for (int i = 1; i <= 5; i++) {
        pc_buf_printf(&b, "provcat_http_responses_total{class=\"%dxx\"} %llu\n",
                      i, (unsigned long long)n->stats.by_status[i]);
    }
    pc_buf_printf(&b, "# TYPE provcat_http_request_duration_ms histogram\n");
    for (int i = 0; i < 15; i++, lim *= 2) {
        cum += n->stats.latency_buckets[i];
        pc_buf_printf(&b,
                      "provcat_http_request_duration_ms_bucket{le=\"%g\"} "
                      "%llu\n",
                      lim, (unsigned long long)cum);
    }
    cum += n->stats.latency_buckets[15];
    pc_buf_printf(&b,
                  "provcat_http_request_duration_ms_bucket{le=\"+Inf\"} %llu\n"
                  "provcat_http_request_duration_ms_sum %.3f\n"
                  "provcat_http_request_duration_ms_count %llu\n",
                  (unsigned long long)cum, n->stats.latency_sum_ms,
                  (unsigned long long)n->stats.latency_count);
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
    n->stats.by_status[2]++;
    http_respond(req, 200, hdr, b.data, b.len);
    pc_buf_release(&b);
}
