/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what the open-data rules parse: open-request and
 * decision bodies, calendar bodies and --holidays files. Each body is
 * checked as the HTTP layer checks it before proposing and applied as a
 * command to a state machine holding a conditionally open entry and a
 * pending request: apply must never fail, and it refuses with 400 exactly
 * what the check refuses. A holidays file the check accepts has a
 * canonical form that checks again to itself and that genesis accepts.
 * The first input byte picks the path.
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

#define RENEW_AT 2000 /* fresh state machine after this many applies */
#define TOKEN(c)                                                             \
    "{\"token_hash\":\"" c "123456789abcdef0123456789abcdef0123456789abcdef" \
    "0123456789abcdef\"}"
#define GENESIS_IDS                                        \
    "\"cluster_id\":\"00112233445566778899aabbccddeeff\"," \
    "\"token_hash\":\"00112233445566778899aabbccddeeff"    \
    "00112233445566778899aabbccddeeff\""

static struct fsm *fsm;
static uint64_t raft_index;
static unsigned applies;

static void
check_at(int ok, int line)
{
    if (!ok) {
        fprintf(stderr, "fuzz_open: check failed at line %d\n", line);
        abort();
    }
}

#define check(ok) check_at((ok), __LINE__)

/* Apply one command to `f`; its status. */
static int
apply_to(struct fsm *f, uint64_t index, uint32_t type, const char *principal,
         const char *target, const void *body, size_t len, const void *extra,
         size_t extra_len)
{
    char errmsg[PC_ERRMSG_SIZE], rid[32];
    const struct fsm_result *res;
    struct pc_buf one, entry;
    struct cmd c;

    memset(&c, 0, sizeof(c));
    c.type = type;
    c.rules = CMD_RULES_VERSION;
    c.time_ms = 1790000000000 + (int64_t)index * 3600000;
    c.principal = PC_SLICE_STR(principal);
    snprintf(rid, sizeof(rid), "f%llu", (unsigned long long)index);
    c.request_id = PC_SLICE_STR(rid);
    c.target = PC_SLICE_STR(target);
    c.body = (struct pc_slice){ body, len };
    c.extra = (struct pc_slice){ extra, extra_len };
    pc_buf_init(&one);
    pc_buf_init(&entry);
    check(cmd_encode(&c, &one) == PC_OK);
    check(cmd_entry_begin(&entry, 1) == PC_OK);
    check(cmd_entry_add(&entry, &one) == PC_OK);
    check(cmd_entry_end(&entry) == PC_OK);
    check(fsm_apply(f, entry.data, entry.len, index, errmsg) == PC_OK);
    check(fsm_results(f, &res) == 1);
    pc_buf_release(&entry);
    pc_buf_release(&one);
    return res[0].status;
}

static int
apply(uint32_t type, const char *principal, const char *target,
      const void *body, size_t len)
{
    applies++;
    return apply_to(fsm, ++raft_index, type, principal, target, body, len, "",
                    0);
}

static int
apply_str(uint32_t type, const char *principal, const char *target,
          const char *body, const char *extra)
{
    applies++;
    return apply_to(fsm, ++raft_index, type, principal, target, body,
                    strlen(body), extra, strlen(extra));
}

static void
setup(void)
{
    fsm_free(fsm);
    check(fsm_new(&fsm) == PC_OK);
    raft_index = 0;
    applies = 0;
    check(apply_str(CMD_GENESIS, "", "", "", "{" GENESIS_IDS "}") == 201);
    check(apply_str(CMD_ORG_CREATE, "admin", "",
                    "{\"id\":\"dept\",\"name\":\"d\",\"level\":\"province\","
                    "\"kind\":\"agency\",\"parent\":\"authority\"}",
                    "") == 201);
    check(apply_str(CMD_PRINCIPAL_CREATE, "admin", "",
                    "{\"id\":\"prov\",\"org\":\"dept\",\"roles\":"
                    "[\"provider\"]}",
                    TOKEN("1")) == 201);
    check(apply_str(CMD_PRINCIPAL_CREATE, "admin", "", "{\"id\":\"cit\"}",
                    TOKEN("2")) == 201);
    check(apply_str(CMD_ENTRY_CREATE, "prov", "",
                    "{\"id\":\"cond\",\"title\":\"c\",\"provider\":\"dept\","
                    "\"fields\":[],\"share\":{\"class\":\"conditional\"},"
                    "\"open\":{\"class\":\"conditional\"},"
                    "\"update_frequency\":\"daily\",\"security_level\":1,"
                    "\"scope\":\"province\"}",
                    "") == 201);
    check(apply_str(CMD_ENTRY_SUBMIT, "prov", "cond", "", "") == 200);
    check(apply_str(CMD_ENTRY_REVIEW, "admin", "cond",
                    "{\"decision\":\"approve\"}", "") == 200);
    check(apply_str(CMD_OPEN_REQUEST, "cit", "",
                    "{\"entry\":\"cond\",\"applicant\":\"a\",\"data_type\":"
                    "\"t\",\"description\":\"d\",\"purpose\":\"p\"}",
                    "") == 201);
}

/* A holidays file: its canonical form checks to itself; genesis takes it. */
static void
holidays(const uint8_t *p, size_t n)
{
    char em[PC_ERRMSG_SIZE];
    struct pc_buf canon, again, extra;
    struct fsm *f;
    int rc;

    pc_buf_init(&canon);
    pc_buf_init(&again);
    pc_buf_init(&extra);
    rc = fsm_holidays_check(p, n, &canon, em);
    check(rc == PC_OK || rc == PC_EINVAL);
    if (rc == PC_EINVAL) {
        check(canon.len == 0 && strlen(em) > 0);
    } else {
        check(fsm_holidays_check(canon.data, canon.len, &again, em) == PC_OK);
        check(again.len == canon.len &&
              memcmp(again.data, canon.data, canon.len) == 0);
        check(pc_buf_printf(&extra, "{\"calendar\":%.*s," GENESIS_IDS "}",
                            (int)canon.len, (const char *)canon.data) == PC_OK);
        check(fsm_new(&f) == PC_OK);
        check(apply_to(f, 1, CMD_GENESIS, "", "", "", 0, extra.data,
                       extra.len) == 201);
        fsm_free(f);
    }
    pc_buf_release(&extra);
    pc_buf_release(&again);
    pc_buf_release(&canon);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[200] = "", field[FSM_FIELD_LEN] = "";
    const struct fsm_open_request *r;
    bool valid, pending;
    int status;

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
        valid = fsm_open_request_body_valid(p, n, msg, field);
        check(valid || strlen(msg) > 0);
        status = apply(CMD_OPEN_REQUEST, "cit", "", p, n);
        check(valid == (status != 400));
        break;
    case 1:
        valid = fsm_open_decide_body_valid(p, n, msg, field);
        check(valid || strlen(msg) > 0);
        r = fsm_open_request(fsm, "or-10"); /* filed by setup */
        check(r != NULL);
        pending = r->status == FSM_OPEN_PENDING;
        status = apply(CMD_OPEN_DECIDE, "prov", "or-10", p, n);
        check(valid == (status != 400));
        check(!valid || status == (pending ? 200 : 409));
        break;
    case 2:
        valid = fsm_calendar_body_valid(2027, p, n, msg, field);
        check(valid || strlen(msg) > 0);
        status = apply(CMD_CALENDAR_SET, "admin", "2027", p, n);
        check(valid == (status == 200));
        check(status == 200 || status == 400);
        break;
    default:
        holidays(p, n);
        break;
    }
    return 0;
}
