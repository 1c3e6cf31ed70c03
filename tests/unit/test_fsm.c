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

/* A token hash no fixture uses. */
#define OTHER_HASH \
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* H("admin-token"), the genesis token hash of every fixture. */
static char admin_hash[PC_HASH_HEX_LEN + 1];

static int
setup(void **state)
{
    cmdfx_hash_hex("admin-token", admin_hash);
    *state = fsmfx_new("admin-token", 0);
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
    cmdfx_hash_hex("t-u2", h);
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

/* Out of memory anywhere in a command (its parses, its payloads, the
 * ledger, the derived state) leaves no trace; the retry (raft offers the
 * entry again) then succeeds with the same result. Every org, principal
 * and cluster command, accepted and refused, and idempotent replays. */
static void
test_fsm_oom_all_or_nothing(void **state)
{
    struct fsmfx *fx = *state;
    char extra[120], h[PC_HASH_HEX_LEN + 1];
    static const char org[] =
        "{\"id\":\"oom\",\"name\":\"n \\u00e9\",\"level\":\"city\","
        "\"kind\":\"agency\",\"parent\":\"authority\"}";

    fsmfx_oom_run(fx, CMD_ORG_CREATE, "admin", NULL, org, NULL, "k1", 201);
    assert_non_null(fsm_org(fx->f, "oom"));
    assert_true(
        fsmfx_oom_run(fx, CMD_ORG_CREATE, "admin", NULL, org, NULL, "k1", 201)
            .replayed);
    fsmfx_oom_run(fx, CMD_ORG_CREATE, "admin", NULL, org, NULL, "k2", 409);
    assert_true(
        fsmfx_oom_run(fx, CMD_ORG_CREATE, "admin", NULL, org, NULL, "k2", 409)
            .replayed);
    fsmfx_oom_run(fx, CMD_ORG_CREATE, "admin", NULL, "{\"id\":", NULL, NULL,
                  400);
    fsmfx_oom_run(fx, CMD_ORG_CREATE, "admin", NULL,
                  "{\"id\":\"x\",\"name\":\"\\u0000\"}", NULL, NULL, 400);

    cmdfx_hash_hex("oom-token", h);
    snprintf(extra, sizeof(extra), "{\"token_hash\":\"%s\"}", h);
    fsmfx_oom_run(fx, CMD_PRINCIPAL_CREATE, "admin", NULL,
                  "{\"id\":\"oomp\",\"org\":\"oom\","
                  "\"roles\":[\"provider\",\"consumer\"]}",
                  extra, NULL, 201);
    const struct fsm_principal *p = fsm_principal(fx->f, "oomp");
    assert_non_null(p);
    assert_string_equal(p->org, "oom");
    fsmfx_oom_run(fx, CMD_PRINCIPAL_CREATE, "admin", NULL, "{\"id\":\"oomc\"}",
                  "{\"token_hash\":\"" OTHER_HASH "\"}", NULL, 201);
    assert_true(fsm_principal(fx->f, "oomc")->citizen);
    cmdfx_hash_hex("oom-token-2", h);
    snprintf(extra, sizeof(extra), "{\"token_hash\":\"%s\"}", h);
    fsmfx_oom_run(fx, CMD_PRINCIPAL_TOKEN, "oomp", "oomp", NULL, extra, NULL,
                  200);
    assert_non_null(by_token(fx, "oom-token-2"));
    fsmfx_oom_run(fx, CMD_PRINCIPAL_TOKEN, "oomp", "oomp", NULL, "{}", NULL,
                  400);
    fsmfx_oom_run(fx, CMD_PRINCIPAL_REVOKE, "admin", "oomp", NULL, NULL, NULL,
                  200);
    assert_false(fsm_principal(fx->f, "oomp")->active);

    fsmfx_oom_run(fx, CMD_MEMBER_URL, NULL, "7", NULL,
                  "{\"client_url\":\"http://n7\",\"address\":\"a\"}", NULL,
                  200);
    assert_string_equal(fsm_member_url(fx->f, 7), "http://n7");
    fsmfx_oom_run(fx, CMD_MEMBER_URL, NULL, "7", NULL, "{}", NULL, 400);
    fsmfx_oom_run(fx, CMD_SECURITY_SUMMARY, NULL, NULL, NULL,
                  "{\"node\":1,\"denials\":[1.5,{\"x\":null}]}", NULL, 200);
    fsmfx_oom_run(fx, CMD_TICK, "admin", NULL, NULL, NULL, NULL, 403);
}

/* A restore rebuilds the derived state from the facts: out of memory at
 * any point of it (each payload's parse included) fails it with the old
 * state kept; the retry gives the same state as the original. */
static void
test_fsm_restore_survives_oom(void **state)
{
    struct fsmfx *fx = *state;
    char errmsg[PC_ERRMSG_SIZE];
    struct test_oom o = { 0 };
    struct fsm *f;

    fsmfx_org(fx, "city", "authority", "city", true);
    fsmfx_principal(fx, "ca", "city", "\"authority\",\"provider\"");
    fsmfx_principal(fx, "cit", NULL, NULL);
    fsmfx_run(fx, CMD_MEMBER_URL, NULL, "3", NULL, "{\"client_url\":\"u3\"}",
              NULL);
    assert_int_equal(fsm_new(&f), PC_OK);
    for (long k = 0;; k++) {
        struct fsm *copy = fsmfx_rebuilt(fx);
        struct led *l = fsm_led(copy), *mine;

        /* Take the rebuilt state machine's ledger for our own. */
        assert_int_equal(led_new(&mine), PC_OK);
        for (uint64_t r = 1; r <= led_count(l); r++) {
            struct pc_slice enc;

            assert_int_equal(led_encoding(l, r, &enc), PC_OK);
            assert_int_equal(
                led_append_encoded(mine, enc.p, enc.len, NULL, r, NULL), PC_OK);
        }
        fsm_free(copy);
        test_oom_arm(&o, k, 1);
        int rc = fsm_restore(f, mine, errmsg);
        if (test_oom_disarm(&o, rc == PC_OK)) {
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
        led_free(mine);
        assert_null(fsm_cluster_id(f));
        assert_int_equal(led_count(fsm_led(f)), 0);
        assert_null(fsm_org(f, "authority"));
    }
    test_oom_end(&o);
    assert_string_equal(fsm_cluster_id(f), "00112233445566778899aabbccddeeff");
    assert_true(fsm_org(f, "city")->authority);
    assert_int_equal(fsm_principal(f, "ca")->roles,
                     FSM_ROLE_AUTHORITY | FSM_ROLE_PROVIDER);
    assert_true(fsm_principal(f, "cit")->citizen);
    assert_string_equal(fsm_member_url(f, 3), "u3");
    uint8_t h[PC_HASH_LEN];
    pc_hash(h, "ca", 2);
    assert_non_null(fsm_principal_by_token(f, h));
    fsm_free(f);
}

/* The body checks the HTTP layer runs before proposing (and apply again):
 * each refusal's message, the first unknown member as written named. */
static void
test_fsm_body_checks(void **state)
{
    static const struct {
        bool principal;
        const char *body, *msg; /* msg NULL: valid */
    } cases[] = {
        { false,
          "{\"id\":\"o\",\"name\":\"n\",\"level\":\"city\",\"kind\":"
          "\"agency\",\"parent\":null,\"authority\":false}",
          NULL },
        { false,
          "{\"id\":", "malformed JSON: unexpected end of input at byte 6" },
        { false, "{\"id\":\"a\",\"id\":\"b\"}",
          "malformed JSON: duplicate key \"id\" at byte 10" },
        { false, "\"o\"", "the body must be a JSON object" },
        { false, "{\"id\":\"o\",\"name\":\"a\\u0000\"}",
          "malformed JSON: a string holds \\u0000" },
        { false, "{\"zz\":1,\"id\":\"o\",\"aa\":2}", "unknown field \"zz\"" },
        { false, "{\"name\":\"n\"}", "\"id\" is required" },
        { false, "{\"id\":\"o p\"}",
          "\"id\" must be an id: [A-Za-z0-9][A-Za-z0-9._-]{0,127}" },
        { false, "{\"id\":\"o\",\"parent\":7}",
          "\"parent\" must be an id: [A-Za-z0-9][A-Za-z0-9._-]{0,127}" },
        { false, "{\"id\":\"o\",\"name\":\"\"}",
          "\"name\" must be a string of 1-256 bytes" },
        { false, "{\"id\":\"o\",\"name\":\"n\",\"level\":\"town\"}",
          "\"level\" must be \"province\", \"city\" or \"county\"" },
        { false,
          "{\"id\":\"o\",\"name\":\"n\",\"level\":\"city\",\"kind\":"
          "\"club\"}",
          "\"kind\" must be \"agency\" or \"institution\"" },
        { false,
          "{\"id\":\"o\",\"name\":\"n\",\"level\":\"city\",\"kind\":"
          "\"agency\",\"authority\":null}",
          "\"authority\" must be true or false" },
        { true, "{\"id\":\"p\",\"org\":\"o\",\"roles\":[\"auditor\"]}", NULL },
        { true, "{\"id\":\"p\"}", NULL },
        { true, "{\"id\":\"p\",\"org\":null,\"roles\":[]}", NULL },
        { true, "{\"roles\":[],\"x\":1,\"id\":\"p\",\"a\":1}",
          "unknown field \"x\"" },
        { true, "{\"id\":\"p\",\"org\":\"o\",\"roles\":\"provider\"}",
          "\"roles\" must be an array of role names" },
        { true, "{\"id\":\"p\",\"org\":\"o\",\"roles\":[\"provider\",1]}",
          "\"roles\"[1]: unknown role (authority, provider, consumer, "
          "operator, auditor)" },
        { true,
          "{\"id\":\"p\",\"org\":\"o\",\"roles\":[\"auditor\",\"auditor\"]}",
          "\"roles\"[1]: duplicate role" },
        { true, "{\"id\":\"p\",\"roles\":[\"consumer\"]}",
          "a principal without \"org\" is a citizen and has no roles" },
        { true, "{\"id\":\"p\",\"org\":\"o\"}",
          "\"roles\" must name at least one role" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char msg[200] = "";
        const char *b = cases[i].body;
        bool ok = cases[i].principal
                      ? fsm_principal_body_valid(b, strlen(b), msg)
                      : fsm_org_body_valid(b, strlen(b), msg);

        if (ok != (cases[i].msg == NULL) ||
            (cases[i].msg != NULL && strcmp(msg, cases[i].msg) != 0)) {
            fail_msg("case %zu (%s): %s \"%s\"", i, b, ok ? "valid" : "refused",
                     msg);
        }
    }
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
    uint64_t n = led_count(fsm_led(fx->f));
    /* A later version, and an earlier one (a log of 0.1.0: its rules
     * differ from these), stop apply with nothing appended. */
    for (int d = 1; d >= -1; d -= 2) {
        c.rules = (uint32_t)(CMD_RULES_VERSION + d);
        pc_buf_init(&one);
        pc_buf_init(&entry);
        cmd_encode(&c, &one);
        cmd_entry_begin(&entry, 1);
        cmd_entry_add(&entry, &one);
        cmd_entry_end(&entry);
        assert_int_equal(fsm_apply(fx->f, entry.data, entry.len, 6, errmsg),
                         PC_EVERSION);
        assert_non_null(strstr(errmsg, "rules version"));
        assert_non_null(strstr(errmsg, d > 0 ? "a build that knows it"
                                             : "a backup and a restore"));
        assert_int_equal(led_count(fsm_led(fx->f)), n);
        pc_buf_release(&one);
        pc_buf_release(&entry);
    }
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fsm_genesis_once, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_fsm_scope_table, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_fsm_idempotency, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_fsm_time_monotonic, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_fsm_revoke_and_token, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_fsm_determinism_and_rebuild, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_fsm_oom_all_or_nothing, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_fsm_restore_survives_oom, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_fsm_bad_entries, setup,
                                        fsmfx_teardown),
        cmocka_unit_test(test_fsm_body_checks),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("fsm", tests, NULL, NULL);
}
