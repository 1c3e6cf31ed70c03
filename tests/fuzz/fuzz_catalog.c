/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the bodies and extras the org, principal, catalog
 * and cluster rules parse: the checks the HTTP layer runs before proposing
 * (fsm_org_body_valid, fsm_principal_body_valid, fsm_entry_body_valid) and
 * the same bytes applied as commands to a state machine holding orgs, a
 * provider and an entry. The first input byte picks the path. Apply must
 * never fail; a body the check refuses is refused in apply (400); every
 * command appends at most its facts, and every payload appended is
 * canonical JSON (what the writer wrote parses and re-serialises to the
 * same bytes).
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
#define TOKEN_EXTRA                                                          \
    "{\"token_hash\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123" \
    "456789abcdef\"}"

static struct fsm *fsm;
static uint64_t raft_index;
static unsigned applies;

static void
check_at(int ok, int line)
{
    if (!ok) {
        fprintf(stderr, "fuzz_catalog: check failed at line %d\n", line);
        abort();
    }
}

#define check(ok) check_at((ok), __LINE__)

/* Every fact from `from` on holds canonical JSON. */
static void
payloads_canonical(uint64_t from)
{
    struct led *l = fsm_led(fsm);

    for (uint64_t r = from; r <= led_count(l); r++) {
        struct pc_buf c;
        struct fact f;

        check(led_get(l, r, &f) == PC_OK);
        pc_buf_init(&c);
        check(jcs_canonicalize((const char *)f.payload.p, f.payload.len, &c,
                               NULL) == PC_OK);
        check(c.len == f.payload.len &&
              memcmp(c.data, f.payload.p, c.len) == 0);
        pc_buf_release(&c);
    }
}

/* Apply one command; its status. At most `max_facts` facts appended, all
 * canonical. */
static int
apply(uint32_t type, const char *principal, const char *target,
      const void *body, size_t len, const char *extra, size_t extra_len,
      uint64_t max_facts)
{
    char errmsg[PC_ERRMSG_SIZE], rid[32];
    const struct fsm_result *res;
    uint64_t before = led_count(fsm_led(fsm));
    struct pc_buf one, entry;
    struct cmd c;
    int status;

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
    status = res[0].status;
    pc_buf_release(&entry);
    pc_buf_release(&one);
    applies++;
    check(led_count(fsm_led(fsm)) <= before + max_facts);
    payloads_canonical(before + 1);
    return status;
}

static int
apply_str(uint32_t type, const char *principal, const char *target,
          const char *body, const char *extra)
{
    return apply(type, principal, target, body, strlen(body), extra,
                 strlen(extra), 3);
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
    check(apply_str(CMD_ORG_CREATE, "admin", "",
                    "{\"id\":\"cityA\",\"name\":\"c\",\"level\":\"city\","
                    "\"kind\":\"agency\",\"parent\":\"authority\","
                    "\"authority\":true}",
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
                    "\"fields\":[{\"name\":\"a\",\"type\":\"string\"}],"
                    "\"share\":{\"class\":\"unconditional\"},\"open\":"
                    "{\"class\":\"none\"},\"update_frequency\":\"daily\","
                    "\"security_level\":1,\"scope\":\"province\"}",
                    "") == 201);
}

/* An entry body: checked, then created, then as an update of "e". */
static void
one_entry(const uint8_t *p, size_t n)
{
    char msg[200] = "", field[FSM_FIELD_LEN] = "", extra[40];
    const struct fsm_entry *e = fsm_entry(fsm, "e");
    bool valid = fsm_entry_body_valid(p, n, NULL, msg, field);
    int status;

    check(valid || strlen(msg) > 0);
    check(jcs_utf8_valid((const uint8_t *)field, strlen(field)));
    status = apply(CMD_ENTRY_CREATE, "prov", "", p, n, "", 0, 1);
    check(valid || status == 400);
    if (status == 201) {
        check(valid);
    }
    valid = fsm_entry_body_valid(p, n, "e", msg, field);
    snprintf(extra, sizeof(extra), "{\"if_match\":%llu}",
             (unsigned long long)e->version);
    status =
        apply(CMD_ENTRY_UPDATE, "prov", "e", p, n, extra, strlen(extra), 1);
    check(valid || status == 400);
    if (status == 200) {
        check(valid && fsm_entry(fsm, "e")->status == FSM_ENTRY_DRAFT);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[200] = "";
    bool valid;
    int status;

    if (fsm == NULL || applies >= RENEW_AT) {
        setup();
    }
    if (size < 1) {
        return 0;
    }
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 6) {
    case 0:
        one_entry(p, n);
        break;
    case 1:
        valid = fsm_org_body_valid(p, n, msg);
        check(valid || strlen(msg) > 0);
        status = apply(CMD_ORG_CREATE, "admin", "", p, n, "", 0, 1);
        check(valid || status == 400);
        break;
    case 2:
        valid = fsm_principal_body_valid(p, n, msg);
        check(valid || strlen(msg) > 0);
        status = apply(CMD_PRINCIPAL_CREATE, "admin", "", p, n, TOKEN_EXTRA,
                       strlen(TOKEN_EXTRA), 1);
        check(valid || status == 400);
        break;
    case 3:
        /* A review or retirement body (the entry is a draft: refused). */
        status = apply(data[0] % 12 == 3 ? CMD_ENTRY_REVIEW : CMD_ENTRY_RETIRE,
                       "admin", "e", p, n, "", 0, 1);
        check(status >= 200 && status < 500);
        break;
    case 4:
        /* Whatever a leader could put in a cluster command's extra. */
        apply(data[0] % 12 == 4 ? CMD_SECURITY_SUMMARY : CMD_MEMBER_URL, "",
              "5", NULL, 0, (const char *)p, n, 1);
        break;
    default:
        status = apply(CMD_AUDIT, "", "", NULL, 0, (const char *)p, n, 1);
        check(status == 200 || status == 400);
        break;
    }
    return 0;
}
