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
#include <string.h>

#include "common/jcs.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/led.h"
#include "tests/fuzz/fuzzlib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RENEW_AT 2000 /* fresh state machine after this many applies */
#define TOKEN_EXTRA                                                          \
    "{\"token_hash\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123" \
    "456789abcdef\"}"

/* Genesis appends 3 facts, every other command at most 1 here. */
static struct fuzz_fsm z = { .step_ms = 1, .max_facts = 3 };

/* Apply one command; its status. At most `max_facts` facts appended. */
static int
apply(uint32_t type, const char *principal, const char *target,
      const void *body, size_t len, const char *extra, size_t extra_len,
      uint64_t max_facts)
{
    uint64_t before = led_count(fsm_led(z.f));
    int status;

    status = fuzz_apply_extra(&z, type, principal, target, body, len, extra,
                              extra_len)
                 .status;
    check(led_count(fsm_led(z.f)) <= before + max_facts);
    return status;
}

static void
setup(void)
{
    fuzz_start(&z, fuzz_hash_hex("t"));
    fuzz_org(&z, "dept", "d", "province", false);
    fuzz_org(&z, "cityA", "c", "city", true);
    fuzz_principal(&z, "prov", "dept", "provider", fuzz_hash_hex("p"));
    check(fuzz_run(&z, CMD_ENTRY_CREATE, "prov", "",
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
    const struct fsm_entry *e = fsm_entry(z.f, "e");
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
        check(valid && fsm_entry(z.f, "e")->status == FSM_ENTRY_DRAFT);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[200] = "";
    bool valid;
    int status;

    if (z.f == NULL || z.applies >= RENEW_AT) {
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
