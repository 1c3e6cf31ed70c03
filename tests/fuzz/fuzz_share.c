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
#include <string.h>

#include "common/err.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/led.h"
#include "tests/fuzz/fuzzlib.h"

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

static struct fuzz_fsm z = { .step_ms = 1 };
static char pending[32], grant[32];

static void
setup(void)
{
    const char *ask = "{\"entry\":\"e\",\"purpose\":\"p\",\"days\":9}";
    struct fsm_result r;

    fuzz_start(&z, fuzz_hash_hex("t"));
    fuzz_org(&z, "dept", "d", "province", false);
    fuzz_org(&z, "dept2", "d", "province", false);
    fuzz_principal(&z, "prov", "dept", "provider", fuzz_hash_hex("prov"));
    fuzz_principal(&z, "cons", "dept2", "consumer", fuzz_hash_hex("cons"));
    fuzz_publish(&z, "prov", "e", ENTRY_DOC);
    r = fuzz_apply(&z, CMD_SHARE_REQUEST, "cons", "", ask, strlen(ask), "");
    check(r.status == 201);
    snprintf(grant, sizeof(grant), "sr-%llu", (unsigned long long)r.first_rev);
    check(fuzz_run(&z, CMD_SHARE_DECIDE, "prov", grant,
                   "{\"decision\":\"approve\"}", NULL) == 200);
    check(fuzz_run(&z, CMD_SHARE_DECIDE, "admin", grant,
                   "{\"decision\":\"approve\"}", NULL) == 200);
    snprintf(grant, sizeof(grant), "gr-%llu",
             (unsigned long long)fsm_share_request(z.f, r.first_rev)->grant);
    r = fuzz_apply(&z, CMD_SHARE_REQUEST, "cons", "", ask, strlen(ask), "");
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
    uint64_t before = led_count(fsm_led(z.f));
    struct fsm_result r;
    bool valid;

    field[0] = msg[0] = '\0';
    valid = which == 0   ? fsm_share_request_body_valid(p, n, msg, field)
            : which == 1 ? fsm_share_decide_body_valid(p, n, msg, field)
                         : fsm_grant_revoke_body_valid(p, n, msg, field);
    check(valid || strlen(msg) > 0);
    if (which == 1 && fsm_server_id_parse(pending, "sr", &id) &&
        fsm_share_request(z.f, id)->status != FSM_SHARE_PENDING_PROVIDER) {
        who = "admin"; /* the authority's turn */
    }
    r = fuzz_apply(&z, types[which], who, target, p, n, "");
    check(valid == (r.status != 400));
    if (r.status >= 400) {
        check(led_count(fsm_led(z.f)) == before + 1);
        return;
    }
    switch (which) {
    case 0:
        check(r.status == 201);
        check(fsm_share_request(z.f, r.first_rev)->status ==
              FSM_SHARE_PENDING_PROVIDER);
        snprintf(pending, sizeof(pending), "sr-%llu",
                 (unsigned long long)r.first_rev);
        break;
    case 1: /* an approval by the authority also makes the grant */
        check(r.status == 200 &&
              r.n_facts == (strcmp(who, "admin") == 0 &&
                                    fsm_share_request(z.f, id)->status ==
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
    uint64_t before = led_count(fsm_led(z.f));
    struct fsm_result r;
    size_t events = 0;
    struct fact f;

    r = fuzz_apply(&z, CMD_AUDIT, "", "", p, n,
                   "{\"salt\":\"00112233445566778899aabbccddeeff\"}");
    check(r.status == 200 || r.status == 400);
    check(led_count(fsm_led(z.f)) == before + 1);
    if (r.status != 200) {
        return;
    }
    check(led_get(fsm_led(z.f), before + 1, &f) == PC_OK);
    check(f.kind == FACT_AUDIT && f.has_content);
    check(fsm_audit_events(fsm_led(z.f), before + 1, count_cb, &events) ==
          PC_OK);
    check(events >= 1 && events <= FSM_AUDIT_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (z.f == NULL || z.applies >= RENEW_AT) {
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
