/* SPDX-License-Identifier: MIT */
/*
 * Rules for the operator's cluster operations (CMD_OPERATION): adding and
 * removing members, moving leadership, taking a backup. They change no
 * catalog state, but who may ask for them is replicated state (the role
 * `operator`), so apply decides: an allowed request appends one OPERATION
 * fact recording who asked what, a refused one a rejection fact, and the
 * node carries the operation out only once the command applied with
 * success. Also who may read the ledger's facts one by one.
 *
 * The command's extra (made by the node that received the request) is one
 * JSON object: {"op": "member.add", "node": <id>, "address", "client_url"},
 * {"op": "member.remove", "node": <id>, "force": <bool>},
 * {"op": "leader.transfer", "node": <id, 0: any voter>} or
 * {"op": "backup"}. The fact's payload is that object in canonical form.
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/jcs.h"
#include "node/fsm/fsm_int.h"

#define NODE_ID_MAX 2147483647.0

/* The operations and the members each takes besides "op". */
static const struct {
    const char *name;
    const char *members[4]; /* NULL-terminated */
    bool node_required;
} ops[] = {
    { "member.add", { "node", "address", "client_url", NULL }, true },
    { "member.remove", { "node", "force", NULL }, true },
    { "leader.transfer", { "node", NULL }, false },
    { "backup", { NULL }, false },
};

#define N_OPS (sizeof(ops) / sizeof(ops[0]))

static bool
str_is(const char *s, size_t len, const char *want)
{
    return s != NULL && len == strlen(want) && memcmp(s, want, len) == 0;
}

/* Whether member `key` is one `op` takes. */
static bool
member_known(size_t op, const char *key, size_t len)
{
    if (str_is(key, len, "op")) {
        return true;
    }
    for (size_t i = 0; ops[op].members[i] != NULL; i++) {
        if (str_is(key, len, ops[op].members[i])) {
            return true;
        }
    }
    return false;
}

/* A node id: an integer 1..2^31-1 (0 too when `zero_ok`). */
static bool
node_id_ok(const struct jcs_val *v, bool zero_ok)
{
    double d;

    if (v == NULL || !jcs_is_integer(v)) {
        return false;
    }
    d = jcs_number(v);
    return d <= NODE_ID_MAX && (d >= 1 || (zero_ok && d == 0));
}

/*
 * Check the operation `root` describes; on failure write why into `msg`
 * (200 bytes) and return false. `*op` gets its index in `ops`.
 */
static bool
op_valid(const struct jcs_val *root, size_t *op, char *msg)
{
    const struct jcs_val *v;
    const char *s, *key;
    size_t len = 0, klen;

    if (root == NULL || jcs_type(root) != JCS_OBJECT) {
        snprintf(msg, 200, "the operation must be a JSON object");
        return false;
    }
    v = jcs_get(root, "op", 2);
    s = v != NULL ? jcs_string(v, &len) : NULL;
    for (*op = 0; *op < N_OPS && !str_is(s, len, ops[*op].name); (*op)++) {
    }
    if (*op == N_OPS) {
        snprintf(msg, 200, "unknown operation");
        return false;
    }
    for (size_t i = 0; i < jcs_len(root); i++) {
        key = jcs_key(root, i, &klen);
        if (!member_known(*op, key, klen)) {
            snprintf(msg, 200, "%s: unknown member", ops[*op].name);
            return false;
        }
    }
    v = jcs_get(root, "node", 4);
    if ((v != NULL || ops[*op].node_required) &&
        !node_id_ok(v, !ops[*op].node_required)) {
        snprintf(msg, 200, "%s: \"node\" must be a node id", ops[*op].name);
        return false;
    }
    if (*op == 0) { /* member.add */
        v = jcs_get(root, "address", 7);
        s = v != NULL ? jcs_string(v, &len) : NULL;
        if (s == NULL || len == 0 || len > 63) {
            snprintf(msg, 200, "member.add: \"address\" must be host:port");
            return false;
        }
        v = jcs_get(root, "client_url", 10);
        s = v != NULL ? jcs_string(v, &len) : NULL;
        if (s == NULL || len < 8 ||
            (strncmp(s, "http://", 7) != 0 &&
             (len < 9 || strncmp(s, "https://", 8) != 0))) {
            snprintf(msg, 200,
                     "member.add: \"client_url\" must be http://... or "
                     "https://...");
            return false;
        }
    }
    v = jcs_get(root, "force", 5);
    if (v != NULL && jcs_type(v) != JCS_TRUE && jcs_type(v) != JCS_FALSE) {
        snprintf(msg, 200, "member.remove: \"force\" must be true or false");
        return false;
    }
    return true;
}

static int
operation(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    struct pc_slice none = { NULL, 0 };
    struct jcs_doc *d = NULL;
    struct pc_buf payload;
    char msg[200];
    size_t op = 0;
    int rc;

    rc = jcs_parse((const char *)c->cmd->extra.p, c->cmd->extra.len, &d, NULL);
    if (rc == PC_ENOMEM) {
        return rc;
    }
    if (rc != PC_OK || !op_valid(jcs_root(d), &op, msg)) {
        jcs_doc_free(d);
        if (rc != PC_OK) {
            snprintf(msg, sizeof(msg), "malformed operation");
        }
        return fsm_reject(c, 400, "bad_request", none, none, "%s", msg);
    }
    if (!(actor->roles & FSM_ROLE_OPERATOR)) {
        jcs_doc_free(d);
        return fsm_reject(c, 403, "forbidden", none, PC_SLICE_STR(ops[op].name),
                          "%s needs role operator", ops[op].name);
    }
    pc_buf_init(&payload);
    rc = jcs_emit(d, &payload);
    jcs_doc_free(d);
    if (rc == PC_OK) {
        rc = fsm_emit_canonical(
            c, FACT_OPERATION, none, PC_SLICE_STR(ops[op].name),
            (struct pc_slice){ payload.data, payload.len }, NULL);
    }
    pc_buf_release(&payload);
    return rc;
}

int
fsm_rules_ops(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    if (c->cmd->type == CMD_OPERATION) {
        return operation(c, actor);
    }
    return fsm_reject(c, 400, "bad_request", (struct pc_slice){ NULL, 0 },
                      (struct pc_slice){ NULL, 0 },
                      "unknown operation command %u", c->cmd->type);
}

bool
fsm_may_inspect_ledger(const struct fsm *f, const struct fsm_principal *p)
{
    const struct fsm_org *o;

    if (p == NULL || !p->active) {
        return false;
    }
    if (p->roles & (FSM_ROLE_OPERATOR | FSM_ROLE_AUDITOR)) {
        return true;
    }
    /* The provincial authority, whose scope is everything. */
    o = p->org != NULL ? fsm_org(f, p->org) : NULL;
    return (p->roles & FSM_ROLE_AUTHORITY) && o != NULL && o->authority &&
           o->parent == NULL && strcmp(o->level, "province") == 0;
}
