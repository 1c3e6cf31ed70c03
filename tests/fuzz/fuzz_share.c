/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the sharing bodies and read-audit documents: the
 * checks the HTTP layer runs before proposing (fsm_share_request_body_valid,
 * fsm_share_decide_body_valid, fsm_grant_revoke_body_valid) and the same
 * bytes applied as share.request, share.decide and grant.revoke commands to
 * a state machine holding a conditional entry, a request and a grant; and
 * bytes applied as an audit batch document (CMD_AUDIT, encoding 2), read
 * back with fsm_audit_events. The first input byte picks the path. Any
 * input must be refused cleanly (one rejection fact, 400 exactly when the
 * syntax check refuses) or give results that hold the invariants checked
 * below; apply must never fail.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/led.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RENEW_AT 500 /* fresh state machine after this many applies */
#define ENTRY_DOC                                                          \
    "{\"id\":\"e\",\"title\":\"e\",\"description\":\"\",\"provider\":"     \
    "\"dept\",\"theme\":\"t\",\"keywords\":[],\"fields\":["                \
    "{\"name\":\"s\",\"type\":\"string\",\"required\":true},"              \
    "{\"name\":\"i\",\"type\":\"integer\",\"required\":false}],"           \
    "\"share\":{\"class\":\"conditional\"},\"open\":{\"class\":\"none\"}," \
    "\"update_frequency\":\"daily\",\"security_level\":1,\"scope\":"       \
    "\"province\"}"

static struct fsm *fsm;
static uint64_t raft_index;
static unsigned applies;
static char pending[32], grant[32];

static void
check_at(int ok, int line)
{
    if (!ok) {
        fprintf(stderr, "fuzz_share: check failed at line %d\n", line);
        abort();
    }
}

#define check(ok) check_at((ok), __LINE__)

static struct fsm_result
apply(uint32_t type, const char *principal, const char *target,
      const void *body, size_t len, const char *extra)
{
    char errmsg[PC_ERRMSG_SIZE], rid[32];
    const struct fsm_result *res;
    struct pc_buf one, entry;
    struct cmd c;

    memset(&c, 0, sizeof(c));
    c.type = type;
    c.rules = CMD_RULES_VERSION;
    c.time_ms = 1790000000000 + (int64_t)raft_index;
    c.principal = PC_SLICE_STR(principal);
    snprintf(rid, sizeof(rid), "f%llu", (unsigned long long)raft_index);
    c.request_id = PC_SLICE_STR(rid);
    c.target = PC_SLICE_STR(target);
    c.body = (struct pc_slice){ body, len };
    c.extra = PC_SLICE_STR(extra);
    pc_buf_init(&one);
    pc_buf_init(&entry);
    check(cmd_encode(&c, &one) == PC_OK);
    check(cmd_entry_begin(&entry, 1) == PC_OK);
    check(cmd_entry_add(&entry, &one) == PC_OK);
    check(cmd_entry_end(&entry) == PC_OK);
    check(fsm_apply(fsm, entry.data, entry.len, ++raft_index, errmsg) == PC_OK);
    check(fsm_results(fsm, &res) == 1);
    pc_buf_release(&entry);
    pc_buf_release(&one);
    applies++;
    return res[0];
}

static int
run(uint32_t type, const char *principal, const char *target, const char *body,
    const char *extra)
{
    return apply(type, principal, target, body, body ? strlen(body) : 0,
                 extra ? extra : "")
        .status;
}

static void
principal(const char *id, const char *org, const char *role)
{
    char body[200], extra[120], h[PC_HASH_HEX_LEN + 1];
    uint8_t d[PC_HASH_LEN];

    pc_hash(d, id, strlen(id));
    pc_hex(h, d, PC_HASH_LEN);
    snprintf(extra, sizeof(extra), "{\"token_hash\":\"%s\"}", h);
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"org\":\"%s\",\"roles\":"
             "[\"%s\"]}",
             id, org, role);
    check(run(CMD_PRINCIPAL_CREATE, "admin", "", body, extra) == 201);
}

static void
setup(void)
{
    char extra[200], h[PC_HASH_HEX_LEN + 1];
    const char *ask = "{\"entry\":\"e\",\"purpose\":\"p\",\"days\":9}";
    uint8_t d[PC_HASH_LEN];
    struct fsm_result r;

    fsm_free(fsm);
    check(fsm_new(&fsm) == PC_OK);
    raft_index = 0;
    applies = 0;
    pc_hash(d, "t", 1);
    pc_hex(h, d, PC_HASH_LEN);
    snprintf(extra, sizeof(extra),
             "{\"cluster_id\":\"00112233445566778899aabbccddeeff\","
             "\"token_hash\":\"%s\"}",
             h);
    check(run(CMD_GENESIS, "", "", NULL, extra) == 201);
    for (int i = 0; i < 2; i++) {
        char org[160];

        snprintf(org, sizeof(org),
                 "{\"id\":\"%s\",\"name\":\"d\",\"level\":\"province\","
                 "\"kind\":\"agency\",\"parent\":\"authority\"}",
                 i ? "dept2" : "dept");
        check(run(CMD_ORG_CREATE, "admin", "", org, NULL) == 201);
    }
    principal("prov", "dept", "provider");
    principal("cons", "dept2", "consumer");
    check(run(CMD_ENTRY_CREATE, "prov", "", ENTRY_DOC, NULL) == 201);
    check(run(CMD_ENTRY_SUBMIT, "prov", "e", NULL, NULL) == 200);
    check(run(CMD_ENTRY_REVIEW, "admin", "e", "{\"decision\":\"approve\"}",
              NULL) == 200);
    r = apply(CMD_SHARE_REQUEST, "cons", "", ask, strlen(ask), "");
    check(r.status == 201);
    snprintf(grant, sizeof(grant), "sr-%llu", (unsigned long long)r.first_rev);
    check(run(CMD_SHARE_DECIDE, "prov", grant, "{\"decision\":\"approve\"}",
              NULL) == 200);
    check(run(CMD_SHARE_DECIDE, "admin", grant, "{\"decision\":\"approve\"}",
              NULL) == 200);
    snprintf(grant, sizeof(grant), "gr-%llu",
             (unsigned long long)fsm_share_request(fsm, r.first_rev)->grant);
    r = apply(CMD_SHARE_REQUEST, "cons", "", ask, strlen(ask), "");
    check(r.status == 201);
    snprintf(pending, sizeof(pending), "sr-%llu",
             (unsigned long long)r.first_rev);
}

/* A body through its syntax check, then through apply: 400 exactly when
 * the check refuses; one fact for a refusal. */
static void
one_body(int which, const uint8_t *p, size_t n)
{
    static const uint32_t types[] = { CMD_SHARE_REQUEST, CMD_SHARE_DECIDE,
                                      CMD_GRANT_REVOKE };
    const char *target = which == 0 ? "" : which == 1 ? pending : grant;
    const char *who = which == 0 ? "cons" : which == 2 ? "admin" : "prov";
    uint64_t id;
    char msg[200], field[FSM_FIELD_LEN];
    uint64_t before = led_count(fsm_led(fsm));
    struct fsm_result r;
    bool valid;

    field[0] = msg[0] = '\0';
    valid = which == 0   ? fsm_share_request_body_valid(p, n, msg, field)
            : which == 1 ? fsm_share_decide_body_valid(p, n, msg, field)
                         : fsm_grant_revoke_body_valid(p, n, msg, field);
    check(valid || strlen(msg) > 0);
    if (which == 1 && fsm_server_id_parse(pending, "sr", &id) &&
        fsm_share_request(fsm, id)->status != FSM_SHARE_PENDING_PROVIDER) {
        who = "admin"; /* the authority's turn */
    }
    r = apply(types[which], who, target, p, n, "");
    check(valid == (r.status != 400));
    if (r.status >= 400) {
        check(led_count(fsm_led(fsm)) == before + 1);
        return;
    }
    switch (which) {
    case 0:
        check(r.status == 201);
        check(fsm_share_request(fsm, r.first_rev)->status ==
              FSM_SHARE_PENDING_PROVIDER);
        snprintf(pending, sizeof(pending), "sr-%llu",
                 (unsigned long long)r.first_rev);
        break;
    case 1: /* an approval by the authority also makes the grant */
        check(r.status == 200 &&
              r.n_facts == (strcmp(who, "admin") == 0 &&
                                    fsm_share_request(fsm, id)->status ==
                                        FSM_SHARE_APPROVED
                                ? 2u
                                : 1u));
        break;
    case 2:
        check(r.status == 200 && r.n_facts == 1);
        setup(); /* a new grant to revoke */
        break;
    }
}

static bool
count_cb(void *arg, const struct fsm_audit_event *e)
{
    size_t *n = arg;

    check(e->principal != NULL && e->action != NULL && e->entry != NULL);
    check(e->count >= -1);
    (*n)++;
    return true;
}

/* Bytes as an audit batch document. */
static void
one_audit(const uint8_t *p, size_t n)
{
    uint64_t before = led_count(fsm_led(fsm));
    struct fsm_result r;
    size_t events = 0;
    struct fact f;

    r = apply(CMD_AUDIT, "", "", p, n,
              "{\"salt\":\"00112233445566778899aabbccddeeff\"}");
    check(r.status == 200 || r.status == 400);
    check(led_count(fsm_led(fsm)) == before + 1);
    if (r.status != 200) {
        return;
    }
    check(led_get(fsm_led(fsm), before + 1, &f) == PC_OK);
    check(f.kind == FACT_AUDIT && f.has_content);
    check(fsm_audit_events(fsm_led(fsm), before + 1, count_cb, &events) ==
          PC_OK);
    check(events >= 1 && events <= FSM_AUDIT_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fsm == NULL || applies >= RENEW_AT) {
        setup();
    }
    if (size < 1) {
        return 0;
    }
    switch (data[0] % 4) {
    case 0:
    case 1:
    case 2:
        one_body(data[0] % 4, data + 1, size - 1);
        break;
    default:
        one_audit(data + 1, size - 1);
        break;
    }
    return 0;
}
