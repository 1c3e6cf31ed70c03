/* SPDX-License-Identifier: MIT */
/*
 * Bounded memory for Idempotency-Keys: the state machine forgets a key
 * once the ledger's time has moved FSM_IDEM_WINDOW_MS past its use, fact
 * by fact, so every replica (and one rebuilt from a snapshot) remembers
 * the same keys; a repeat inside the window still replays.
 */
#include "tests/lib/fsmfx.h"
#include "tests/lib/test.h"

#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/led.h"

#define HOUR_MS (3600 * 1000LL)

static int
setup(void **state)
{
    *state = fsmfx_new("admin", HOUR_MS);
    return 0;
}

/* Create org `id` with Idempotency-Key `idem` (NULL: none). */
static struct fsm_result
org(struct fsmfx *fx, const char *id, const char *idem)
{
    char body[256];

    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"name\":\"n\",\"level\":\"province\","
             "\"kind\":\"agency\",\"parent\":\"authority\"}",
             id);
    return fsmfx_run(fx, CMD_ORG_CREATE, "admin", NULL, body, NULL, idem);
}

/*
 * Keys written an hour apart over 40 hours of ledger time: the map holds
 * the last 24 (those less than 24 h older than the newest fact), never
 * more, and a key older than that is forgotten.
 */
static void
test_idem_window_bounds_the_map(void **state)
{
    struct fsmfx *fx = *state;
    char id[32], key[32];

    assert_int_equal(fsm_idem_count(fx->f), 0);
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof(id), "o%d", i);
        snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(org(fx, id, key).status, 201);
        assert_int_equal(fsm_idem_count(fx->f), i < 24 ? i + 1 : 24);
    }
    /* a fact without a key moves ledger time too: 10 h later, 14 left */
    fx->now += 9 * HOUR_MS;
    assert_int_equal(org(fx, "plain", NULL).status, 201);
    assert_int_equal(fsm_idem_count(fx->f), 14);
    /* a day with nothing but a tick: none left */
    fx->now += 24 * HOUR_MS;
    assert_int_equal(
        fsmfx_run(fx, CMD_TICK, NULL, NULL, NULL, NULL, NULL).status, 200);
    assert_int_equal(fsm_idem_count(fx->f), 0);
}

/*
 * A repeat inside the window replays (a refusal as well as a success), a
 * different body with the key is 422; at 24 h the key is forgotten and
 * the same request is a new command.
 */
static void
test_idem_replay_inside_window(void **state)
{
    struct fsmfx *fx = *state;
    struct fsm_result first, r;
    int64_t t0 = fx->now;
    uint64_t rev;

    fx->step_ms = 0;
    first = org(fx, "a", "retry-me");
    assert_int_equal(first.status, 201);
    assert_false(first.replayed);
    /* many keys in between, then just inside the window */
    for (int i = 0; i < 100; i++) {
        char id[32], key[32];

        snprintf(id, sizeof(id), "x%d", i);
        snprintf(key, sizeof(key), "k%d", i);
        fx->now += 14 * 60 * 1000; /* 100 x 14 min: 23 h 20 min */
        assert_int_equal(org(fx, id, key).status, 201);
    }
    fx->now = t0 + 24 * HOUR_MS - 1;
    rev = led_count(fsm_led(fx->f));
    r = org(fx, "a", "retry-me");
    assert_true(r.replayed);
    assert_int_equal(r.status, 201);
    assert_int_equal(r.first_rev, first.first_rev);
    assert_int_equal(led_count(fsm_led(fx->f)), rev); /* nothing appended */
    r = org(fx, "b", "retry-me");
    assert_int_equal(r.status, 422);
    assert_string_equal(r.code, "idempotency_mismatch");
    /* a refused command's key replays its refusal */
    r = org(fx, "a", "dup-a");
    assert_int_equal(r.status, 409);
    r = org(fx, "a", "dup-a");
    assert_true(r.replayed);
    assert_int_equal(r.status, 409);
    /* 24 h after its use the key is gone: the request is new (409 now,
     * since org a exists), and the map shrank by the keys it dropped */
    fx->now = t0 + 24 * HOUR_MS;
    size_t before = fsm_idem_count(fx->f);
    r = org(fx, "a", "retry-me");
    assert_false(r.replayed);
    assert_int_equal(r.status, 409);
    /* retry-me (used at the epoch) went, its new use came */
    assert_int_equal(fsm_idem_count(fx->f), before);
    assert_int_equal(org(fx, "a", "retry-me").replayed, true);
}

/* A state machine rebuilt from the ledger (a snapshot restore) holds the
 * same keys and answers repeats the same way. */
static void
test_idem_rebuild_same(void **state)
{
    struct fsmfx *fx = *state;
    char errmsg[PC_ERRMSG_SIZE], id[32], key[32];
    const struct fsm_result *res;
    struct fsm *g;
    struct pc_buf e;

    for (int i = 0; i < 30; i++) {
        snprintf(id, sizeof(id), "o%d", i);
        snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(org(fx, id, key).status, 201);
    }
    assert_int_equal(fsm_idem_count(fx->f), 24);
    fx->step_ms = 0; /* both repeats at the same time: 24 h after key-6 */
    g = fsmfx_rebuilt(fx);
    assert_int_equal(fsm_idem_count(g), 24);
    /* key-6 (24 h old at the next command) and key-7 on both */
    for (int i = 6; i <= 7; i++) {
        snprintf(id, sizeof(id), "o%d", i);
        snprintf(key, sizeof(key), "key-%d", i);
        pc_buf_init(&e);
        fsmfx_encode(fx, &e, CMD_ORG_CREATE, "admin", NULL,
                     "{\"id\":\"zz\",\"name\":\"n\",\"level\":\"province\","
                     "\"kind\":\"agency\",\"parent\":\"authority\"}",
                     NULL, key);
        assert_int_equal(fsm_apply(g, e.data, e.len, fx->index + 1, errmsg),
                         PC_OK);
        assert_int_equal(fsm_results(g, &res), 1);
        struct fsm_result rg = res[0];
        assert_int_equal(fsm_apply(fx->f, e.data, e.len, fx->index + 1, errmsg),
                         PC_OK);
        assert_int_equal(fsm_results(fx->f, &res), 1);
        fx->index++;
        fx->now += fx->step_ms;
        /* key-6: forgotten on both, a new command (201); key-7: 422 */
        assert_int_equal(rg.status, i == 6 ? 201 : 422);
        assert_int_equal(res[0].status, rg.status);
        assert_int_equal(fsm_idem_count(g), fsm_idem_count(fx->f));
        pc_buf_release(&e);
    }
    fsm_free(g);
}

/* The queue growing (its 65th key) runs out of memory cleanly. */
static void
test_idem_oom(void **state)
{
    struct fsmfx *fx = *state;
    char id[32], key[32];

    fx->step_ms = 1000;
    for (int i = 0; i < 64; i++) {
        snprintf(id, sizeof(id), "o%d", i);
        snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(org(fx, id, key).status, 201);
    }
    fsmfx_oom_run(fx, CMD_ORG_CREATE, "admin", NULL,
                  "{\"id\":\"last\",\"name\":\"n\",\"level\":\"province\","
                  "\"kind\":\"agency\",\"parent\":\"authority\"}",
                  NULL, "key-64", 201);
    assert_int_equal(fsm_idem_count(fx->f), 65);
    assert_true(org(fx, "last", "key-64").replayed);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idem_window_bounds_the_map, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_idem_replay_inside_window, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_idem_rebuild_same, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_idem_oom, setup, fsmfx_teardown),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
