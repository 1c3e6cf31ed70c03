/* SPDX-License-Identifier: MIT */
/*
 * Node-local routes: health, readiness and status (GET /metrics is
 * metrics.c's).
 * Answered by whichever node receives them, from its own state, to anyone:
 * never redirected, no token looked at (API_LOCAL | API_NOAUTH).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "node/api/api_int.h"
#include "storage/led.h"

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
                  api_hex_json(root), "members", members, "version",
                  NODE_VERSION, "cluster_id", fsm_cluster_id(n->fsm));
    if (o != NULL) {
        json_object_set_new(o, "removed",
                            json_boolean(clu_removed(n->clu, NULL)));
        json_object_set_new(o, "rules", json_integer(CMD_RULES_VERSION));
    }
    api_json(n, req, 200, o);
}
