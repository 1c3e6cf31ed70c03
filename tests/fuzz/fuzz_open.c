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
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "tests/fuzz/fuzzlib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RENEW_AT 2000 /* fresh state machine after this many applies */
#define TOKEN_HASH(c) \
    c "123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ADMIN_TOKEN_HASH \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define GENESIS_IDS                                        \
    "\"cluster_id\":\"00112233445566778899aabbccddeeff\"," \
    "\"token_hash\":\"" ADMIN_TOKEN_HASH "\""

/* An hour between commands, for the deadlines in business days. */
static struct fuzz_fsm z = { .step_ms = 3600000, .stamp_next = true };

static int
apply(uint32_t type, const char *principal, const char *target,
      const void *body, size_t len)
{
    return fuzz_apply(&z, type, principal, target, body, len, "").status;
}

static void
setup(void)
{
    fuzz_start(&z, ADMIN_TOKEN_HASH);
    fuzz_org(&z, "dept", "d", "province", false);
    fuzz_principal(&z, "prov", "dept", "provider", TOKEN_HASH("1"));
    fuzz_principal(&z, "cit", NULL, NULL, TOKEN_HASH("2"));
    fuzz_publish(&z, "prov", "cond",
                 "{\"id\":\"cond\",\"title\":\"c\",\"provider\":\"dept\","
                 "\"fields\":[],\"share\":{\"class\":\"conditional\"},"
                 "\"open\":{\"class\":\"conditional\"},"
                 "\"update_frequency\":\"daily\",\"security_level\":1,"
                 "\"scope\":\"province\"}");
    check(fuzz_run(&z, CMD_OPEN_REQUEST, "cit", "",
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
    int rc;

    pc_buf_init(&canon);
    pc_buf_init(&again);
    pc_buf_init(&extra);
    rc = fsm_holidays_check(p, n, &canon, em);
    check(rc == PC_OK || rc == PC_EINVAL);
    if (rc == PC_EINVAL) {
        check(canon.len == 0 && strlen(em) > 0);
    } else {
        struct fuzz_fsm g = { .step_ms = z.step_ms, .stamp_next = true };

        check(fsm_holidays_check(canon.data, canon.len, &again, em) == PC_OK);
        check(again.len == canon.len &&
              memcmp(again.data, canon.data, canon.len) == 0);
        check(pc_buf_printf(&extra, "{\"calendar\":%.*s," GENESIS_IDS "}",
                            (int)canon.len, (const char *)canon.data) == PC_OK);
        check(fsm_new(&g.f) == PC_OK);
        check(fuzz_apply_extra(&g, CMD_GENESIS, "", "", "", 0, extra.data,
                               extra.len)
                  .status == 201);
        fsm_free(g.f);
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
        valid = fsm_open_request_body_valid(p, n, msg, field);
        check(valid || strlen(msg) > 0);
        status = apply(CMD_OPEN_REQUEST, "cit", "", p, n);
        check(valid == (status != 400));
        break;
    case 1:
        valid = fsm_open_decide_body_valid(p, n, msg, field);
        check(valid || strlen(msg) > 0);
        r = fsm_open_request(z.f, "or-10"); /* filed by setup */
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
