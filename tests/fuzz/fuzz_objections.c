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
#include <string.h>

#include "common/jcs.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "tests/fuzz/fuzzlib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RENEW_AT 2000 /* fresh state machine after this many applies */
#define SALT     "{\"salt\":\"00112233445566778899aabbccddeeff\"}"

/* Genesis appends 3 facts, every other command at most 2. */
static struct fuzz_fsm z = { .step_ms = 1, .max_facts = 3 };
static char open_id[32], pi_id[32];

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
    r = fuzz_apply(&z, CMD_OBJECTION_FILE, "admin", "", b, strlen(b), "");
    check(r.status == 201);
    snprintf(id, 32, "ob-%llu", (unsigned long long)r.first_rev);
    if (accept) {
        check(fuzz_run(&z, CMD_OBJECTION_DECIDE, "admin", id,
                       "{\"decision\":\"accept\",\"reason\":\"r\"}",
                       "") == 200);
    }
}

static void
setup(void)
{
    fuzz_start(&z, fuzz_hash_hex("t"));
    fuzz_org(&z, "dept", "d", "province", false);
    fuzz_principal(&z, "prov", "dept", "provider", fuzz_hash_hex("p"));
    fuzz_publish(&z, "prov", "e",
                 "{\"id\":\"e\",\"title\":\"e\",\"provider\":\"dept\","
                 "\"fields\":[],\"share\":{\"class\":\"unconditional\"},"
                 "\"open\":{\"class\":\"none\"},\"update_frequency\":"
                 "\"daily\",\"security_level\":1,\"scope\":\"province\"}");
    check(fuzz_run(&z, CMD_RECORD_PUT, "prov", "e/k", "{\"a\":1}", SALT) ==
          201);
    objection("error", false, open_id);
    objection("personal_information", true, pi_id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[200] = "", field[FSM_FIELD_LEN] = "";
    struct fsm_result r;
    bool valid;

    if (z.f == NULL || z.applies >= RENEW_AT) {
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
        r = fuzz_apply(&z, CMD_OBJECTION_FILE, "admin", "", p, n, "");
        check(valid ? r.status == 201 || r.status == 404 : r.status == 400);
        break;
    case 1:
        valid = fsm_objection_decision_valid(p, n, msg, field);
        check(valid || strlen(msg) > 0);
        r = fuzz_apply(&z, CMD_OBJECTION_DECIDE, "prov", open_id, p, n, "");
        check(valid ? r.status == 403 : r.status == 400);
        break;
    case 2:
        valid = fsm_redaction_body_valid(p, n, msg, field);
        check(valid || strlen(msg) > 0);
        r = fuzz_apply(&z, CMD_RECORD_REDACT, "admin", "e/k", p, n,
                       "{\"version\":9}");
        check(valid ? r.status == 404 : r.status == 400);
        break;
    default:
        /* Whatever a leader could put in the redaction's extra. */
        r = fuzz_apply_extra(&z, CMD_RECORD_REDACT, "prov", "e/k", NULL, 0, p,
                             n);
        check(r.status == 400);
        break;
    }
    return 0;
}
