/* SPDX-License-Identifier: MIT */
/*
 * The operator's cluster operations (CMD_OPERATION, rules_ops.c) as pure
 * state transitions: who may ask for which operation, what fact an allowed
 * one appends, what a refused or malformed one appends, idempotent
 * repeats, out-of-memory all or nothing, and who may read the ledger's
 * facts (fsm_may_inspect_ledger).
 */
#include "tests/lib/fsmfx.h"
#include "tests/lib/test.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/led.h"

static int
setup(void **state)
{
    struct fsmfx *fx = fsmfx_new("admin-token", 1);

    fsmfx_org(fx, "cityA", "authority", "city", true);
    fsmfx_org(fx, "dept", "authority", "province", false);
    fsmfx_principal(fx, "op", "authority", "\"operator\"");
    fsmfx_principal(fx, "aud", "authority", "\"auditor\"");
    fsmfx_principal(fx, "auth", "authority", "\"authority\"");
    fsmfx_principal(fx, "city", "cityA", "\"authority\"");
    fsmfx_principal(fx, "prov", "dept", "\"provider\"");
    fsmfx_principal(fx, "cons", "dept", "\"consumer\"");
    *state = fx;
    return 0;
}

/* The last fact: its kind, principal, id and payload (NUL-terminated). */
static void
last_fact(struct fsmfx *fx, uint32_t *kind, char *principal, char *id,
          char *payload, size_t cap)
{
    struct led *l = fsm_led(fx->f);
    struct fact f;

    assert_int_equal(led_get(l, led_count(l), &f), PC_OK);
    *kind = f.kind;
    snprintf(principal, 64, "%.*s", (int)f.principal.len,
             (const char *)f.principal.p);
    snprintf(id, 64, "%.*s", (int)f.id.len, (const char *)f.id.p);
    snprintf(payload, cap, "%.*s", (int)f.payload.len,
             (const char *)f.payload.p);
}

static const char *const add_op =
    "{\"op\":\"member.add\",\"node\":4,\"address\":\"127.0.0.1:7004\","
    "\"client_url\":\"http://127.0.0.1:8004\"}";

/* Every operation by an operator appends one OPERATION fact, by that
 * principal, whose payload is the operation in canonical form. */
static void
test_ops_operator_appends_operation_fact(void **state)
{
    struct fsmfx *fx = *state;
    static const struct {
        const char *extra, *id, *payload;
    } cases[] = {
        { "{\"op\":\"member.add\",\"client_url\":\"http://127.0.0.1:8004\","
          "\"address\":\"127.0.0.1:7004\",\"node\":4}",
          "member.add",
          "{\"address\":\"127.0.0.1:7004\",\"client_url\":"
          "\"http://127.0.0.1:8004\",\"node\":4,\"op\":\"member.add\"}" },
        /* A host name, and an https URL (a TLS proxy in front). */
        { "{\"op\":\"member.add\",\"node\":5,\"address\":\"n5.example:7005\","
          "\"client_url\":\"https://n5.example:443\"}",
          "member.add",
          "{\"address\":\"n5.example:7005\",\"client_url\":"
          "\"https://n5.example:443\",\"node\":5,\"op\":\"member.add\"}" },
        { "{\"op\":\"member.remove\",\"node\":3,\"force\":true}",
          "member.remove",
          "{\"force\":true,\"node\":3,\"op\":\"member.remove\"}" },
        { "{\"op\":\"member.remove\",\"node\":2147483647}", "member.remove",
          "{\"node\":2147483647,\"op\":\"member.remove\"}" },
        { "{\"op\":\"leader.transfer\"}", "leader.transfer",
          "{\"op\":\"leader.transfer\"}" },
        { "{\"op\":\"leader.transfer\",\"node\":2}", "leader.transfer",
          "{\"node\":2,\"op\":\"leader.transfer\"}" },
        { "{\"op\":\"backup\"}", "backup", "{\"op\":\"backup\"}" },
    };
    static const char *const who[] = { "op", "admin" };

    for (size_t w = 0; w < 2; w++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            uint64_t before = led_count(fsm_led(fx->f));
            char principal[64], id[64], payload[256];
            uint32_t kind;
            struct fsm_result r = fsmfx_run(fx, CMD_OPERATION, who[w], NULL,
                                            NULL, cases[i].extra, NULL);

            if (r.status != 200) {
                fail_msg("case %zu by %s: %d %s", i, who[w], r.status,
                         r.message);
            }
            assert_int_equal(r.n_facts, 1);
            assert_int_equal(r.first_rev, before + 1);
            assert_int_equal(led_count(fsm_led(fx->f)), before + 1);
            last_fact(fx, &kind, principal, id, payload, sizeof(payload));
            assert_int_equal(kind, FACT_OPERATION);
            assert_string_equal(principal, who[w]);
            assert_string_equal(id, cases[i].id);
            assert_string_equal(payload, cases[i].payload);
        }
    }
}

/* Role x operation: anyone without role operator gets 403 and exactly one
 * rejection fact naming the command and the operation; nothing else
 * changes. An unknown or revoked principal is 401, also as a fact. */
static void
test_ops_refusals_are_rejection_facts(void **state)
{
    struct fsmfx *fx = *state;
    static const char *const ops[] = {
        ("{\"op\":\"member.add\",\"node\":4,\"address\":\"127.0.0.1:7004\","
         "\"client_url\":\"http://127.0.0.1:8004\"}"),
        "{\"op\":\"member.remove\",\"node\":3}",
        "{\"op\":\"leader.transfer\",\"node\":2}",
        "{\"op\":\"backup\"}",
    };
    static const char *const names[] = { "member.add", "member.remove",
                                         "leader.transfer", "backup" };
    static const struct {
        const char *who;
        int status;
    } who[] = {
        { "aud", 403 },  { "auth", 403 }, { "city", 403 },
        { "prov", 403 }, { "cons", 403 }, { "ghost", 401 },
    };

    for (size_t w = 0; w < sizeof(who) / sizeof(who[0]); w++) {
        for (size_t i = 0; i < 4; i++) {
            uint64_t before = led_count(fsm_led(fx->f));
            char principal[64], id[64], payload[256], want[128];
            uint32_t kind;
            struct fsm_result r = fsmfx_run(fx, CMD_OPERATION, who[w].who, NULL,
                                            NULL, ops[i], NULL);

            if (r.status != who[w].status) {
                fail_msg("%s asks %s: got %d want %d (%s)", who[w].who,
                         names[i], r.status, who[w].status, r.message);
            }
            assert_int_equal(led_count(fsm_led(fx->f)), before + 1);
            last_fact(fx, &kind, principal, id, payload, sizeof(payload));
            assert_int_equal(kind, FACT_REJECTION);
            assert_string_equal(principal, who[w].who);
            assert_non_null(strstr(payload, "\"command\":\"operation\""));
            snprintf(want, sizeof(want), "\"status\":%d", who[w].status);
            assert_non_null(strstr(payload, want));
            if (who[w].status == 403) {
                assert_string_equal(id, names[i]);
                assert_string_equal(r.code, "forbidden");
                assert_non_null(strstr(r.message, "needs role operator"));
            }
        }
    }
    /* Revoking the operator takes the right away with the token. */
    assert_int_equal(
        fsmfx_run(fx, CMD_PRINCIPAL_REVOKE, "admin", "op", NULL, NULL, NULL)
            .status,
        200);
    assert_int_equal(
        fsmfx_run(fx, CMD_OPERATION, "op", NULL, NULL, ops[3], NULL).status,
        401);
}

/* A malformed operation is a 400 rejection fact whatever the role. */
static void
test_ops_malformed_is_400(void **state)
{
    struct fsmfx *fx = *state;
    static const char *const bad[] = {
        NULL, /* no extra at all */
        "not json",
        "[]",
        "{}",
        "{\"op\":\"member.explode\",\"node\":1}",
        "{\"op\":1}",
        "{\"op\":\"backup\",\"node\":1,\"extra\":true}",
        "{\"op\":\"member.add\",\"address\":\"a:1\",\"client_url\":"
        "\"http://x\"}",
        "{\"op\":\"member.add\",\"node\":0,\"address\":\"a:1\","
        "\"client_url\":\"http://x\"}",
        "{\"op\":\"member.add\",\"node\":2147483648,\"address\":\"a:1\","
        "\"client_url\":\"http://x\"}",
        "{\"op\":\"member.add\",\"node\":1.5,\"address\":\"a:1\","
        "\"client_url\":\"http://x\"}",
        "{\"op\":\"member.add\",\"node\":4,\"client_url\":\"http://x\"}",
        "{\"op\":\"member.add\",\"node\":4,\"address\":\"a:1\","
        "\"client_url\":\"ftp://x\"}",
        "{\"op\":\"member.add\",\"node\":4,\"address\":\"a:1\","
        "\"client_url\":\"https://\"}",
        "{\"op\":\"member.remove\"}",
        "{\"op\":\"member.remove\",\"node\":3,\"force\":\"yes\"}",
        "{\"op\":\"leader.transfer\",\"node\":-1}",
        "{\"op\":\"leader.transfer\",\"node\":\"2\"}",
    };
    static const char *const who[] = { "op", "cons" };

    for (size_t w = 0; w < 2; w++) {
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            uint64_t before = led_count(fsm_led(fx->f));
            char principal[64], id[64], payload[256];
            uint32_t kind;
            struct fsm_result r =
                fsmfx_run(fx, CMD_OPERATION, who[w], NULL, NULL, bad[i], NULL);

            if (r.status != 400) {
                fail_msg("case %zu (%s) by %s: got %d", i,
                         bad[i] ? bad[i] : "none", who[w], r.status);
            }
            assert_int_equal(led_count(fsm_led(fx->f)), before + 1);
            last_fact(fx, &kind, principal, id, payload, sizeof(payload));
            assert_int_equal(kind, FACT_REJECTION);
        }
    }
}

/* A repeated Idempotency-Key answers the original and appends nothing. */
static void
test_ops_idempotent_repeat(void **state)
{
    struct fsmfx *fx = *state;
    uint64_t n;
    struct fsm_result a, b;

    a = fsmfx_run(fx, CMD_OPERATION, "op", NULL, NULL, add_op, "op-1");
    assert_int_equal(a.status, 200);
    n = led_count(fsm_led(fx->f));
    b = fsmfx_run(fx, CMD_OPERATION, "op", NULL, NULL, add_op, "op-1");
    assert_int_equal(b.status, 200);
    assert_true(b.replayed);
    assert_int_equal(b.first_rev, a.first_rev);
    assert_int_equal(led_count(fsm_led(fx->f)), n);
    /* A refusal replays as the refusal. */
    a = fsmfx_run(fx, CMD_OPERATION, "cons", NULL, NULL, add_op, "op-2");
    assert_int_equal(a.status, 403);
    n = led_count(fsm_led(fx->f));
    b = fsmfx_run(fx, CMD_OPERATION, "cons", NULL, NULL, add_op, "op-2");
    assert_int_equal(b.status, 403);
    assert_true(b.replayed);
    assert_int_equal(led_count(fsm_led(fx->f)), n);
}

/* Every allocation failing once inside apply leaves ledger and root as
 * they were (never a verdict), until the command applies. */
static void
test_ops_oom_all_or_nothing(void **state)
{
    struct fsmfx *fx = *state;
    uint8_t before[PC_HASH_LEN], after[PC_HASH_LEN];
    char errmsg[PC_ERRMSG_SIZE];
    const struct fsm_result *res;
    struct pc_buf entry;
    long k;

    pc_buf_init(&entry);
    fsmfx_encode(fx, &entry, CMD_OPERATION, "op", NULL, NULL, add_op, NULL);
    for (k = 0; k < 10000; k++) {
        uint64_t n = led_count(fsm_led(fx->f));

        led_root(fsm_led(fx->f), before);
        pc_alloc_fault(k, 1);
        int rc = fsm_apply(fx->f, entry.data, entry.len, ++fx->index, errmsg);
        pc_alloc_fault_off();
        if (rc == PC_OK) {
            assert_int_equal(led_count(fsm_led(fx->f)), n + 1);
            assert_int_equal(fsm_results(fx->f, &res), 1);
            assert_int_equal(res[0].status, 200);
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
        assert_int_equal(led_count(fsm_led(fx->f)), n);
        led_root(fsm_led(fx->f), after);
        assert_memory_equal(before, after, PC_HASH_LEN);
    }
    assert_true(k > 0 && k < 10000);
    pc_buf_release(&entry);
}

/* A replica rebuilt from the facts reaches the same root: the operation
 * facts derive nothing, and apply used nothing but the command. */
static void
test_ops_rebuild_same_root(void **state)
{
    struct fsmfx *fx = *state;
    uint8_t a[PC_HASH_LEN], b[PC_HASH_LEN];
    struct fsm *copy;

    fsmfx_run(fx, CMD_OPERATION, "op", NULL, NULL, add_op, NULL);
    fsmfx_run(fx, CMD_OPERATION, "cons", NULL, NULL, "{\"op\":\"backup\"}",
              NULL);
    copy = fsmfx_rebuilt(fx);
    led_root(fsm_led(fx->f), a);
    led_root(fsm_led(copy), b);
    assert_memory_equal(a, b, PC_HASH_LEN);
    assert_int_equal(led_count(fsm_led(copy)), led_count(fsm_led(fx->f)));
    fsm_free(copy);
}

/* Who may read the ledger's facts one by one. */
static void
test_ops_may_inspect_ledger(void **state)
{
    struct fsmfx *fx = *state;
    static const struct {
        const char *who;
        bool may;
    } cases[] = {
        { "admin", true }, { "op", true },    { "aud", true },
        { "auth", true },  { "city", false }, { "prov", false },
        { "cons", false },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct fsm_principal *p = fsm_principal(fx->f, cases[i].who);

        assert_non_null(p);
        if (fsm_may_inspect_ledger(fx->f, p) != cases[i].may) {
            fail_msg("%s: want %d", cases[i].who, cases[i].may);
        }
    }
    assert_false(fsm_may_inspect_ledger(fx->f, NULL));
    assert_int_equal(
        fsmfx_run(fx, CMD_PRINCIPAL_REVOKE, "admin", "aud", NULL, NULL, NULL)
            .status,
        200);
    assert_false(fsm_may_inspect_ledger(fx->f, fsm_principal(fx->f, "aud")));
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_ops_operator_appends_operation_fact, setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_refusals_are_rejection_facts,
                                        setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_malformed_is_400, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_idempotent_repeat, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_oom_all_or_nothing, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_rebuild_same_root, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_may_inspect_ledger, setup,
                                        fsmfx_teardown),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
