/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the bodies the objection rules parse: the checks the
 * HTTP layer runs before proposing (fsm_objection_body_valid,
 * fsm_objection_decision_valid, fsm_redaction_body_valid) and the same
 * bytes applied as commands (objection.file, objection.decide on an open
 * objection, record.redact with the bytes as the leader's extra too) to a
 * state machine holding an entry, a record and objections. The first byte
 * picks the path. Apply must never fail; a body the check refuses is
 * refused in apply (400), one it accepts is never a 400; every payload
 * appended is canonical JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/jcs.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/led.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RENEW_AT 2000 /* fresh state machine after this many applies */
#define SALT     "{\"salt\":\"00112233445566778899aabbccddeeff\"}"

static struct fsm *fsm;
static uint64_t raft_index;
static unsigned applies;
static char open_id[32], pi_id[32];

static void
check_at(int ok, int line)
{
    if (!ok) {
        fprintf(stderr, "fuzz_objections: check failed at line %d\n", line);
        abort();
    }
}

#define check(ok) check_at((ok), __LINE__)

/* Apply one command: its result; every payload appended is canonical. */
static struct fsm_result
apply(uint32_t type, const char *principal, const char *target,
      const void *body, size_t len, const char *extra, size_t extra_len)
{
    char errmsg[PC_ERRMSG_SIZE], rid[32];
    const struct fsm_result *res;
    struct led *l = fsm_led(fsm);
    uint64_t before = led_count(l);
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
    c.extra = (struct pc_slice){ (const uint8_t *)extra, extra_len };
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
    check(led_count(l) <= before + 3); /* genesis: 3, the rest <= 2 */
    for (uint64_t r = before + 1; r <= led_count(l); r++) {
        struct pc_buf cb;
        struct fact f;

        check(led_get(l, r, &f) == PC_OK);
        pc_buf_init(&cb);
        check(jcs_canonicalize((const char *)f.payload.p, f.payload.len, &cb,
                               NULL) == PC_OK);
        check(cb.len == f.payload.len &&
              memcmp(cb.data, f.payload.p, cb.len) == 0);
        pc_buf_release(&cb);
    }
    return res[0];
}

static int
apply_str(uint32_t type, const char *principal, const char *target,
          const char *body, const char *extra)
{
    return apply(type, principal, target, body, strlen(body), extra,
                 strlen(extra))
        .status;
}

/* An objection on e/k filed by admin, accepted if asked; its id. */
static void
objection(const char *kind, bool accept, char *id)
{
    char b[200];
    struct fsm_result r;

    snprintf(b, sizeof(b),
             "{\"entry\":\"e\",\"key\":\"k\",\"kind\":\"%s\","
             "\"description\":\"d\"}",
             kind);
    r = apply(CMD_OBJECTION_FILE, "admin", "", b, strlen(b), "", 0);
    check(r.status == 201);
    snprintf(id, 32, "ob-%llu", (unsigned long long)r.first_rev);
    if (accept) {
        check(apply_str(CMD_OBJECTION_DECIDE, "admin", id,
                        "{\"decision\":\"accept\",\"reason\":\"r\"}",
                        "") == 200);
    }
}

static void
setup(void)
{
    char extra[200], h[PC_HASH_HEX_LEN + 1];
    uint8_t d[PC_HASH_LEN];

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
    check(apply_str(CMD_GENESIS, "", "", "", extra) == 201);
    check(apply_str(CMD_ORG_CREATE, "admin", "",
                    "{\"id\":\"dept\",\"name\":\"d\",\"level\":\"province\","
                    "\"kind\":\"agency\",\"parent\":\"authority\"}",
                    "") == 201);
    pc_hash(d, "p", 1);
    pc_hex(h, d, PC_HASH_LEN);
    snprintf(extra, sizeof(extra), "{\"token_hash\":\"%s\"}", h);
    check(apply_str(CMD_PRINCIPAL_CREATE, "admin", "",
                    "{\"id\":\"prov\",\"org\":\"dept\",\"roles\":"
                    "[\"provider\"]}",
                    extra) == 201);
    check(apply_str(CMD_ENTRY_CREATE, "prov", "",
                    "{\"id\":\"e\",\"title\":\"e\",\"provider\":\"dept\","
                    "\"fields\":[],\"share\":{\"class\":\"unconditional\"},"
                    "\"open\":{\"class\":\"none\"},\"update_frequency\":"
                    "\"daily\",\"security_level\":1,\"scope\":\"province\"}",
                    "") == 201);
    check(apply_str(CMD_ENTRY_SUBMIT, "prov", "e", "", "") == 200);
    check(apply_str(CMD_ENTRY_REVIEW, "admin", "e",
                    "{\"decision\":\"approve\"}", "") == 200);
    check(apply_str(CMD_RECORD_PUT, "prov", "e/k", "{\"a\":1}", SALT) == 201);
    objection("error", false, open_id);
    objection("personal_information", true, pi_id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[200] = "", field[FSM_FIELD_LEN] = "";
    struct fsm_result r;
    bool valid;

    if (fsm == NULL || applies >= RENEW_AT) {
        setup();
    }
    if (size < 1) {
        return 0;
    }
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0:
        valid = fsm_objection_body_valid(p, n, msg, field);
        check(valid || strlen(msg) > 0);
        check(jcs_utf8_valid((const uint8_t *)field, strlen(field)));
        r = apply(CMD_OBJECTION_FILE, "admin", "", p, n, "", 0);
        check(valid ? r.status == 201 || r.status == 404 : r.status == 400);
        break;
    case 1:
        valid = fsm_objection_decision_valid(p, n, msg, field);
        check(valid || strlen(msg) > 0);
        r = apply(CMD_OBJECTION_DECIDE, "prov", open_id, p, n, "", 0);
        check(valid ? r.status == 403 : r.status == 400);
        break;
    case 2:
        valid = fsm_redaction_body_valid(p, n, msg, field);
        check(valid || strlen(msg) > 0);
        r = apply(CMD_RECORD_REDACT, "admin", "e/k", p, n, "{\"version\":9}",
                  13);
        check(valid ? r.status == 404 : r.status == 400);
        break;
    default:
        /* Whatever a leader could put in the redaction's extra. */
        r = apply(CMD_RECORD_REDACT, "prov", "e/k", NULL, 0, (const char *)p,
                  n);
        check(r.status == 400);
        break;
    }
    return 0;
}
