/* SPDX-License-Identifier: MIT */
/*
 * The state machine as a pure function: entries in, facts and results out.
 * Genesis, org and principal rules by role and scope, idempotency, ledger
 * time, rejection facts, rebuild after restore, and determinism (two
 * replicas fed the same entries reach the same root).
 */
#include "tests/lib/fsmfx.h"
#include "tests/lib/test.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/led.h"

/* H("admin-token"), the genesis token hash of every fixture. */
static char admin_hash[PC_HASH_HEX_LEN + 1];

static int
setup(void **state)
{
    fsmfx_hash_hex("admin-token", admin_hash);
    *state = fsmfx_new("admin-token", 0);
    return 0;
}

static int
teardown(void **state)
{
    fsmfx_free(*state);
    return 0;
}

static const struct fsm_principal *
by_token(struct fsmfx *fx, const char *token)
{
    uint8_t h[PC_HASH_LEN];

    pc_hash(h, token, strlen(token));
    return fsm_principal_by_token(fx->f, h);
}

/* Genesis creates the authority org and admin; a second one changes nothing. */
static void
test_fsm_genesis_once(void **state)
{
    struct fsmfx *fx = *state;
    uint64_t n = led_count(fsm_led(fx->f));
    char extra[200];

    assert_int_equal(n, 3);
    assert_non_null(fsm_org(fx->f, "authority"));
    assert_non_null(by_token(fx, "admin-token"));
    assert_string_equal(fsm_cluster_id(fx->f),
                        "00112233445566778899aabbccddeeff");
    snprintf(extra, sizeof(extra),
             "{\"cluster_id\":\"ffffffffffffffffffffffffffffffff\","
             "\"token_hash\":\"%s\"}",
             admin_hash);
    struct fsm_result r =
        fsmfx_run(fx, CMD_GENESIS, NULL, NULL, NULL, extra, NULL);
    assert_int_equal(r.status, 409);
    assert_int_equal(led_count(fsm_led(fx->f)), n);
    assert_string_equal(fsm_cluster_id(fx->f),
                        "00112233445566778899aabbccddeeff");
}

/* Who may create orgs and principals: role x scope table. */
static void
test_fsm_scope_table(void **state)
{
    struct fsmfx *fx = *state;

    assert_int_equal(
        fsmfx_org_by(fx, "admin", "cityA", "authority", "city", true).status,
        201);
    assert_int_equal(
        fsmfx_org_by(fx, "admin", "cityB", "authority", "city", true).status,
        201);
    assert_int_equal(
        fsmfx_principal_by(fx, "admin", "ca", "cityA", "\"authority\"", "t-ca")
            .status,
        201);
    assert_int_equal(fsmfx_principal_by(fx, "admin", "prov", "cityA",
                                        "\"provider\"", "t-prov")
                         .status,
                     201);
    static const struct {
        const char *who, *id, *parent, *level;
        bool authority;
        int status;
    } orgs[] = {
        { "ca", "a1", "cityA", "county", false, 201 },     /* own subtree */
        { "ca", "b1", "cityB", "county", false, 403 },     /* another city */
        { "ca", "top", NULL, "province", false, 403 },     /* top level */
        { "ca", "a2", "cityA", "county", true, 403 },      /* authority org */
        { "prov", "a3", "cityA", "county", false, 403 },   /* not authority */
        { "admin", "a1", "cityA", "county", false, 409 },  /* duplicate */
        { "admin", "c9", "nosuch", "county", false, 400 }, /* no parent */
        { "ghost", "c8", "cityA", "county", false, 401 },  /* unknown actor */
    };
    for (size_t i = 0; i < sizeof(orgs) / sizeof(orgs[0]); i++) {
        uint64_t before = led_count(fsm_led(fx->f));
        struct fsm_result r =
            fsmfx_org_by(fx, orgs[i].who, orgs[i].id, orgs[i].parent,
                         orgs[i].level, orgs[i].authority);
        if (r.status != orgs[i].status) {
            fail_msg("org case %zu (%s creates %s): got %d want %d: %s", i,
                     orgs[i].who, orgs[i].id, r.status, orgs[i].status,
                     r.message);
        }
        /* Every command appends exactly one fact: the org or a rejection. */
        assert_int_equal(led_count(fsm_led(fx->f)), before + 1);
    }
    static const struct {
        const char *who, *id, *org, *roles;
        int status;
    } ps[] = {
        { "ca", "p1", "a1", "\"provider\"", 201 },
        { "ca", "p2", "cityB", "\"provider\"", 403 },
        { "ca", "p3", "a1", "\"operator\"", 403 },  /* only provincial */
        { "ca", "p4", "a1", "\"authority\"", 403 }, /* not an authority org */
        { "admin", "p5", "a1", "\"auditor\"", 201 },
        { "prov", "p6", "cityA", "\"consumer\"", 403 },
        { "admin", "p1", "a1", "\"consumer\"", 409 },
        { "admin", "system", "a1", "\"consumer\"", 409 },
        { "ca", "cit", NULL, "", 201 }, /* citizens: any authority */
    };
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        char tok[32];
        snprintf(tok, sizeof(tok), "tok-%zu", i);
        struct fsm_result r = fsmfx_principal_by(fx, ps[i].who, ps[i].id,
                                                 ps[i].org, ps[i].roles, tok);
        if (r.status != ps[i].status) {
            fail_msg("principal case %zu (%s creates %s): got %d want %d: %s",
                     i, ps[i].who, ps[i].id, r.status, ps[i].status, r.message);
        }
    }
    assert_true(fsm_principal(fx->f, "cit")->citizen);
}

/* Idempotent repeats append nothing and answer the original. */
static void
test_fsm_idempotency(void **state)
{
    struct fsmfx *fx = *state;
    const char *body = "{\"id\":\"o1\",\"name\":\"n\",\"level\":\"province\","
                       "\"kind\":\"agency\",\"parent\":\"authority\"}";
    struct fsm_result a =
        fsmfx_run(fx, CMD_ORG_CREATE, "admin", NULL, body, NULL, "key-1");
    uint64_t n = led_count(fsm_led(fx->f));
    struct fsm_result b =
        fsmfx_run(fx, CMD_ORG_CREATE, "admin", NULL, body, NULL, "key-1");

    assert_int_equal(a.status, 201);
    assert_false(a.replayed);
    assert_int_equal(b.status, 201);
    assert_true(b.replayed);
    assert_int_equal(b.first_rev, a.first_rev);
    assert_int_equal(led_count(fsm_led(fx->f)), n);
    /* Same key, other body: 422 and nothing appended. */
    struct fsm_result c = fsmfx_run(fx, CMD_ORG_CREATE, "admin", NULL,
                                    "{\"id\":\"o2\",\"name\":\"n\",\"level\":"
                                    "\"province\",\"kind\":\"agency\"}",
                                    NULL, "key-1");
    assert_int_equal(c.status, 422);
    assert_string_equal(c.code, "idempotency_mismatch");
    assert_int_equal(led_count(fsm_led(fx->f)), n);
    /* Another principal's same key is independent. */
    fsmfx_principal_by(fx, "admin", "p", "authority", "\"authority\"", "t-p");
    struct fsm_result d =
        fsmfx_run(fx, CMD_ORG_CREATE, "p", NULL, body, NULL, "key-1");
    assert_false(d.replayed);
    assert_int_equal(d.status, 409); /* o1 exists */
    /* A replayed rejection is the rejection. */
    struct fsm_result e =
        fsmfx_run(fx, CMD_ORG_CREATE, "p", NULL, body, NULL, "key-1");
    assert_true(e.replayed);
    assert_int_equal(e.status, 409);
    assert_string_equal(e.code, "conflict");
    /* After 24 h of ledger time the key may be used again. */
    fx->now += 24LL * 3600 * 1000 + 1;
    struct fsm_result g =
        fsmfx_run(fx, CMD_ORG_CREATE, "admin", NULL, body, NULL, "key-1");
    assert_false(g.replayed);
    assert_int_equal(g.status, 409);
}

/* Ledger time never goes backwards, whatever the leader's clock says. */
static void
test_fsm_time_monotonic(void **state)
{
    struct fsmfx *fx = *state;
    int64_t t0 = led_time(fsm_led(fx->f));

    fx->now -= 100000; /* a new leader whose clock is behind */
    fsmfx_run(fx, CMD_TICK, NULL, NULL, NULL, NULL, NULL);
    assert_true(led_time(fsm_led(fx->f)) == t0);
    fx->now = t0 + 5000;
    fsmfx_run(fx, CMD_TICK, NULL, NULL, NULL, NULL, NULL);
    assert_true(led_time(fsm_led(fx->f)) == t0 + 5000);
}

/* Revocation and reissue take effect in apply; the last authority stays. */
static void
test_fsm_revoke_and_token(void **state)
{
    struct fsmfx *fx = *state;
    char extra[120], h[PC_HASH_HEX_LEN + 1];

    assert_int_equal(
        fsmfx_principal_by(fx, "admin", "u", "authority", "\"consumer\"", "t-u")
            .status,
        201);
    fsmfx_hash_hex("t-u2", h);
    snprintf(extra, sizeof(extra), "{\"token_hash\":\"%s\"}", h);
    assert_int_equal(
        fsmfx_run(fx, CMD_PRINCIPAL_TOKEN, "u", "u", NULL, extra, NULL).status,
        200);
    assert_null(by_token(fx, "t-u"));
    assert_non_null(by_token(fx, "t-u2"));
    assert_int_equal(
        fsmfx_run(fx, CMD_PRINCIPAL_REVOKE, "u", "u", NULL, NULL, NULL).status,
        403);
    assert_int_equal(
        fsmfx_run(fx, CMD_PRINCIPAL_REVOKE, "admin", "u", NULL, NULL, NULL)
            .status,
        200);
    assert_null(by_token(fx, "t-u2"));
    /* A revoked principal's commands are refused in apply. */
    assert_int_equal(
        fsmfx_org_by(fx, "u", "zz", "authority", "city", false).status, 401);
    assert_int_equal(
        fsmfx_run(fx, CMD_PRINCIPAL_REVOKE, "admin", "admin", NULL, NULL, NULL)
            .status,
        409);
}

/* Two replicas fed the same entries agree; a rebuild from the ledger
 * reproduces the derived state. */
static void
test_fsm_determinism_and_rebuild(void **state)
{
    struct fsmfx *fx = *state;
    struct fsmfx *other = fsmfx_new("admin-token", 0);
    uint8_t r1[PC_HASH_LEN], r2[PC_HASH_LEN];

    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof(id), "org%d", i);
        fsmfx_org_by(fx, "admin", id, "authority", "city", i % 3 == 0);
        fsmfx_org_by(other, "admin", id, "authority", "city", i % 3 == 0);
    }
    led_root(fsm_led(fx->f), r1);
    led_root(fsm_led(other->f), r2);
    assert_memory_equal(r1, r2, PC_HASH_LEN);
    /* Restore a third fsm from a copy of the ledger's facts. */
    struct fsm *third = fsmfx_rebuilt(fx);
    assert_non_null(fsm_org(third, "org19"));
    assert_true(fsm_org(third, "org18")->authority);
    uint8_t h[PC_HASH_LEN];
    pc_hash(h, "admin-token", 11);
    assert_non_null(fsm_principal_by_token(third, h));
    assert_string_equal(fsm_cluster_id(third),
                        "00112233445566778899aabbccddeeff");
    fsm_free(third);
    fsmfx_free(other);
}

/* Apply the admin's command failing allocation k = 0, 1, ... once each:
 * every failure is PC_ENOMEM with ledger and root unchanged (never a
 * verdict, which would be one replica's alone), until it applies (201). */
static void
oom_sweep(struct fsmfx *fx, enum cmd_type type, const char *body,
          const char *extra)
{
    uint8_t before[PC_HASH_LEN], after[PC_HASH_LEN];
    char errmsg[PC_ERRMSG_SIZE];
    const struct fsm_result *res;
    struct pc_buf entry;

    pc_buf_init(&entry);
    fsmfx_encode(fx, &entry, type, "admin", NULL, body, extra, NULL);
    for (long k = 0;; k++) {
        uint64_t n = led_count(fsm_led(fx->f));
        led_root(fsm_led(fx->f), before);
        pc_alloc_fault(k, 1);
        int rc = fsm_apply(fx->f, entry.data, entry.len, ++fx->index, errmsg);
        pc_alloc_fault_off();
        if (rc == PC_OK) {
            assert_int_equal(led_count(fsm_led(fx->f)), n + 1);
            assert_int_equal(fsm_results(fx->f, &res), 1);
            assert_int_equal(res[0].status, 201);
            pc_buf_release(&entry);
            return;
        }
        assert_int_equal(rc, PC_ENOMEM);
        assert_int_equal(led_count(fsm_led(fx->f)), n);
        led_root(fsm_led(fx->f), after);
        assert_memory_equal(before, after, PC_HASH_LEN);
        assert_true(k < 10000);
    }
}

/* Out of memory in the middle of a command leaves no trace; the retry
 * (raft offers the entry again) then succeeds with the same result. The
 * org and principal rules build their facts with jansson, whose
 * allocations fail here too. */
static void
test_fsm_oom_all_or_nothing(void **state)
{
    struct fsmfx *fx = *state;
    char extra[120], h[PC_HASH_HEX_LEN + 1];

    oom_sweep(fx, CMD_ORG_CREATE,
              "{\"id\":\"oom\",\"name\":\"n\",\"level\":\"city\","
              "\"kind\":\"agency\",\"parent\":\"authority\"}",
              NULL);
    assert_non_null(fsm_org(fx->f, "oom"));

    fsmfx_hash_hex("oom-token", h);
    snprintf(extra, sizeof(extra), "{\"token_hash\":\"%s\"}", h);
    oom_sweep(fx, CMD_PRINCIPAL_CREATE,
              "{\"id\":\"oomp\",\"org\":\"oom\","
              "\"roles\":[\"provider\",\"consumer\"]}",
              extra);
    const struct fsm_principal *p = fsm_principal(fx->f, "oomp");
    assert_non_null(p);
    assert_string_equal(p->org, "oom");
}

/* Entries that are not commands, or of an unknown rules version, are
 * errors that stop the replica (never silently skipped). */
static void
test_fsm_bad_entries(void **state)
{
    struct fsmfx *fx = *state;
    char errmsg[PC_ERRMSG_SIZE];
    uint8_t junk[16] = { 'E', 1, 1, 0xff };
    struct cmd c;
    struct pc_buf one, entry;

    assert_int_equal(fsm_apply(fx->f, junk, sizeof(junk), 5, errmsg),
                     PC_EPROTO);
    memset(&c, 0, sizeof(c));
    c.type = CMD_TICK;
    c.rules = CMD_RULES_VERSION + 1;
    pc_buf_init(&one);
    pc_buf_init(&entry);
    cmd_encode(&c, &one);
    cmd_entry_begin(&entry, 1);
    cmd_entry_add(&entry, &one);
    cmd_entry_end(&entry);
    uint64_t n = led_count(fsm_led(fx->f));
    assert_int_equal(fsm_apply(fx->f, entry.data, entry.len, 6, errmsg),
                     PC_EVERSION);
    assert_non_null(strstr(errmsg, "rules version"));
    assert_int_equal(led_count(fsm_led(fx->f)), n);
    pc_buf_release(&one);
    pc_buf_release(&entry);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fsm_genesis_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsm_scope_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsm_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsm_time_monotonic, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fsm_revoke_and_token, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fsm_determinism_and_rebuild, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fsm_oom_all_or_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fsm_bad_entries, setup, teardown),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("fsm", tests, NULL, NULL);
}
