/* SPDX-License-Identifier: MIT */
/*
 * Reconciliation digests: the 256-bit arithmetic with its carries, the
 * worked example of docs/format.md byte for byte, and the state the state
 * machine keeps (node/fsm/digest.c) against a recomputation from the
 * ledger's index, at the applied revision and earlier ones, after a
 * rebuild, and through an out-of-memory sweep.
 */
#include "tests/lib/fsmfx.h"
#include "tests/lib/test.h"

#include <stdio.h>
#include <string.h>

#include "common/digest.h"
#include "common/err.h"
#include "common/hash.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/fact.h"
#include "storage/idx.h"
#include "storage/led.h"

#define EXTRA_SALT "{\"salt\":\"00112233445566778899aabbccddeeff\"}"

static void
unhex(uint8_t out[PC_HASH_LEN], const char *hex)
{
    assert_true(pc_unhex(out, PC_HASH_LEN, hex, strlen(hex)));
}

static void
final_hex(const struct pc_digest *d, char out[PC_HASH_HEX_LEN + 1])
{
    uint8_t h[PC_HASH_LEN];

    pc_digest_final(d, h);
    pc_hex(out, h, PC_HASH_LEN);
}

/* Carries and borrows run through all four limbs and wrap at 2^256. */
static void
test_digest_carries(void **state)
{
    uint8_t ones[PC_HASH_LEN], one[PC_HASH_LEN] = { 1 };
    struct pc_digest d;

    (void)state;
    memset(ones, 0xff, sizeof(ones));
    pc_digest_init(&d);
    pc_digest_add(&d, ones); /* 2^256 - 1 */
    for (int i = 0; i < 4; i++) {
        assert_true(d.sum[i] == UINT64_MAX);
    }
    pc_digest_add(&d, one); /* wraps to 0 */
    for (int i = 0; i < 4; i++) {
        assert_true(d.sum[i] == 0);
    }
    pc_digest_sub(&d, one); /* borrows back to 2^256 - 1 */
    for (int i = 0; i < 4; i++) {
        assert_true(d.sum[i] == UINT64_MAX);
    }
    pc_digest_sub(&d, ones);
    for (int i = 0; i < 4; i++) {
        assert_true(d.sum[i] == 0);
    }
    /* A carry out of limb 0 only: 2^64 - 1 + 1 = 2^64. */
    memset(ones + 8, 0, PC_HASH_LEN - 8);
    pc_digest_add(&d, ones);
    pc_digest_add(&d, one);
    assert_true(d.sum[0] == 0 && d.sum[1] == 1 && d.sum[2] == 0 &&
                d.sum[3] == 0);
    /* Little-endian: byte 8 is the low byte of limb 1. */
    memset(ones, 0, sizeof(ones));
    ones[8] = 0x02;
    ones[31] = 0x80;
    pc_digest_init(&d);
    pc_digest_add(&d, ones);
    assert_true(d.sum[0] == 0 && d.sum[1] == 2 && d.sum[2] == 0 &&
                d.sum[3] == 0x8000000000000000ULL);
}

/* Steps in any order reach the same state; unstep undoes a step. */
static void
test_digest_order_and_unstep(void **state)
{
    uint64_t seed = test_seed(), r = seed;
    uint8_t h[8][PC_HASH_LEN];
    struct pc_digest a, b, c;

    (void)state;
    test_seed_note("test_digest_order_and_unstep", seed);
    for (int i = 0; i < 8; i++) {
        for (int k = 0; k < PC_HASH_LEN; k++) {
            h[i][k] = (uint8_t)test_rand(&r);
        }
    }
    pc_digest_init(&a);
    pc_digest_init(&b);
    /* Keys 0..3 created; then key 0 moves to head 4 and key 1 to head 5. */
    for (int i = 0; i < 4; i++) {
        pc_digest_step(&a, h[i], NULL);
    }
    pc_digest_step(&a, h[4], h[0]);
    pc_digest_step(&a, h[5], h[1]);
    for (int i = 3; i >= 0; i--) {
        pc_digest_step(&b, h[i], NULL);
    }
    pc_digest_step(&b, h[5], h[1]);
    pc_digest_step(&b, h[4], h[0]);
    assert_true(pc_digest_equal(&a, &b));
    assert_true(a.records == 4 && a.versions == 6);
    c = a;
    pc_digest_step(&c, h[6], h[4]);
    assert_false(pc_digest_equal(&a, &c));
    pc_digest_unstep(&c, h[6], h[4]);
    assert_true(pc_digest_equal(&a, &c));
    pc_digest_step(&c, h[7], NULL);
    pc_digest_unstep(&c, h[7], NULL);
    assert_true(pc_digest_equal(&a, &c));
}

/*
 * docs/format.md, "Entry digests", worked example: three records of entry
 * e1 whose heads are the fact example's hash (k1, version 2), 32 bytes
 * 0xff (k2, version 1) and 0x02 then 31 zero bytes (k3, version 2).
 */
static void
test_digest_worked_example(void **state)
{
    uint8_t h1[PC_HASH_LEN], h2[PC_HASH_LEN], h3[PC_HASH_LEN] = { 2 };
    uint8_t b[PC_HASH_LEN];
    char hex[PC_HASH_HEX_LEN + 1];
    struct pc_digest d;

    (void)state;
    unhex(h1, "44059c3415a5a71d391f4ee5574a9d28baaf28f42d7f2d3bc438ebe1ee8041"
              "db");
    memset(h2, 0xff, sizeof(h2));
    pc_digest_init(&d);
    final_hex(&d, hex);
    assert_string_equal(
        hex,
        "8e8513e09bb4cf7355486ec553e6756d30276d2fd57f9e6f26fa24b1b73d8d97");
    pc_digest_step(&d, h1, NULL);
    pc_digest_step(&d, h2, NULL);
    pc_digest_step(&d, h3, NULL);
    d.versions = 5; /* k1 and k3 at version 2 */
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 8; k++) {
            b[8 * i + k] = (uint8_t)(d.sum[i] >> (8 * k));
        }
    }
    pc_hex(hex, b, PC_HASH_LEN);
    assert_string_equal(
        hex,
        "45059c3415a5a71d391f4ee5574a9d28baaf28f42d7f2d3bc438ebe1ee8041db");
    final_hex(&d, hex);
    assert_string_equal(
        hex,
        "e9280359ca37bf677a5a7313ff654d5b160a852f3b5d3f2fb4b5d82bbfa8a0a2");
}

/* ---- the state machine's digests -------------------------------------- */

static struct fsm_result
run(struct fsmfx *fx, uint32_t type, const char *who, const char *target,
    const char *body, const char *extra)
{
    return fsmfx_run(fx, type, who, target, body, extra, NULL);
}

static int
setup(void **state)
{
    struct fsmfx *fx = fsmfx_new("admin", 1000);

    fsmfx_org(fx, "dept", "authority", "province", false);
    fsmfx_principal(fx, "prov", "dept", "\"provider\"");
    fsmfx_principal(fx, "aud", "authority", "\"auditor\"");
    fsmfx_principal(fx, "op", "authority", "\"operator\"");
    fsmfx_principal(fx, "cons", "dept", "\"consumer\"");
    fsmfx_dept_entry(fx, "e1", true);
    fsmfx_dept_entry(fx, "e2", true);
    *state = fx;
    return 0;
}

static void
put(struct fsmfx *fx, const char *entry, const char *key, const char *doc)
{
    char target[128];
    int st;

    snprintf(target, sizeof(target), "%s/%s", entry, key);
    st = run(fx, CMD_RECORD_PUT, "prov", target, doc, EXTRA_SALT).status;
    assert_true(st == 200 || st == 201);
}

struct recompute {
    const struct led *l;
    const char *entry;
    uint64_t at;
    struct pc_digest d;
};

static bool
recompute_cb(void *arg, struct pc_slice id, uint64_t latest,
             uint64_t latest_rev)
{
    struct recompute *r = arg;
    struct idx_key k = { FACT_RECORD, PC_SLICE_STR(r->entry), id };
    uint8_t h[PC_HASH_LEN];
    uint64_t v, rev;

    (void)latest, (void)latest_rev;
    if (idx_version_at(led_idx(r->l), &k, r->at, &v, &rev) != PC_OK) {
        return true;
    }
    assert_int_equal(led_hash(r->l, rev, h), PC_OK);
    pc_digest_add(&r->d, h);
    r->d.records++;
    r->d.versions += v;
    return true;
}

/* The definition applied to the ledger's index: every key of `entry`
 * with a version at `at`, its head at `at`. */
static struct pc_digest
recompute(const struct fsm *f, const char *entry, uint64_t at)
{
    struct recompute r = { fsm_led(f), entry, at, { 0 } };

    pc_digest_init(&r.d);
    idx_scan(led_idx(r.l), FACT_RECORD, PC_SLICE_STR(entry),
             (struct pc_slice){ 0 }, (struct pc_slice){ 0 }, recompute_cb, &r);
    return r.d;
}

static void
check_at(const struct fsm *f, uint64_t at)
{
    static const char *const ids[] = { "e1", "e2", "none" };
    struct pc_digest got[3];

    assert_int_equal(fsm_digests_at(f, at, ids, 3, got), PC_OK);
    for (int i = 0; i < 3; i++) {
        struct pc_digest want = recompute(f, ids[i], at);

        assert_true(pc_digest_equal(&got[i], &want));
    }
}

/*
 * Creations, updates, a retirement, a re-creation and a batch: the kept
 * state equals the recomputation at the applied revision and at every
 * earlier one, and a rebuild from the facts holds the same.
 */
static void
test_digest_fsm_matches_recomputation(void **state)
{
    struct fsmfx *fx = *state;
    struct led *l = fsm_led(fx->f);
    uint64_t start = led_count(l), end;
    static const char *const ids[] = { "e1", "e2" };
    struct pc_digest a[2], b[2];
    struct fsm *g;

    put(fx, "e1", "b", "{\"name\":\"1\"}");
    put(fx, "e1", "a", "{\"name\":\"1\"}");
    put(fx, "e2", "a", "{\"name\":\"other entry\"}");
    put(fx, "e1", "b", "{\"name\":\"2\"}");
    assert_int_equal(
        run(fx, CMD_RECORD_RETIRE, "prov", "e1/a", "{\"reason\":\"r\"}", NULL)
            .status,
        200);
    put(fx, "e1", "a", "{\"name\":\"back\"}");
    for (int i = 0; i < 20; i++) {
        char key[16];

        snprintf(key, sizeof(key), "k%02d", (i * 7) % 20);
        put(fx, "e1", key, "{\"name\":\"x\"}");
    }
    /* A refused write appends a rejection, which changes no digest. */
    assert_int_equal(
        run(fx, CMD_RECORD_PUT, "prov", "e1/bad", "{}", EXTRA_SALT).status,
        422);
    end = led_count(l);
    for (uint64_t at = start; at <= end; at++) {
        check_at(fx->f, at);
    }
    assert_int_equal(fsm_digests_at(fx->f, end, ids, 2, a), PC_OK);
    assert_true(a[0].records == 22 && a[0].versions == 25);
    assert_true(a[1].records == 1 && a[1].versions == 1);
    g = fsmfx_rebuilt(fx);
    assert_int_equal(fsm_digests_at(g, end, ids, 2, b), PC_OK);
    assert_true(pc_digest_equal(&a[0], &b[0]));
    assert_true(pc_digest_equal(&a[1], &b[1]));
    check_at(g, start);
    fsm_free(g);
    /* Beyond the applied revision, or further back than the window. */
    assert_int_equal(fsm_digests_at(fx->f, end + 1, ids, 2, a), PC_ERANGE);
}

/* The window: FSM_DIGEST_WINDOW facts back is served, one more is not;
 * ticks in between take nothing out of a digest. */
static void
test_digest_window(void **state)
{
    struct fsmfx *fx = *state;
    static const char *const ids[] = { "e1" };
    struct pc_digest d, now;
    uint64_t count, at;

    put(fx, "e1", "k", "{\"name\":\"1\"}");
    at = led_count(fsm_led(fx->f));
    put(fx, "e1", "k", "{\"name\":\"2\"}");
    while (led_count(fsm_led(fx->f)) < at + FSM_DIGEST_WINDOW + 1) {
        assert_int_equal(run(fx, CMD_TICK, NULL, NULL, NULL, NULL).status, 200);
    }
    count = led_count(fsm_led(fx->f));
    assert_int_equal(fsm_digests_at(fx->f, count, ids, 1, &now), PC_OK);
    assert_true(now.records == 1 && now.versions == 2);
    assert_int_equal(
        fsm_digests_at(fx->f, count - FSM_DIGEST_WINDOW, ids, 1, &d), PC_OK);
    assert_true(pc_digest_equal(&d, &now));
    assert_int_equal(fsm_digests_at(fx->f, at, ids, 1, &d), PC_ERANGE);
    assert_true(count - at == FSM_DIGEST_WINDOW + 1);
}

/* Every allocation of a record PUT failing once: PC_ENOMEM with nothing
 * changed, then the successful run leaves the digest right. */
static void
test_digest_oom(void **state)
{
    struct fsmfx *fx = *state;

    put(fx, "e1", "k", "{\"name\":\"1\"}");
    fsmfx_oom_run(fx, CMD_RECORD_PUT, "prov", "e1/k", "{\"name\":\"2\"}",
                  EXTRA_SALT, NULL, 200);
    fsmfx_oom_run(fx, CMD_RECORD_PUT, "prov", "e2/new", "{\"name\":\"2\"}",
                  EXTRA_SALT, NULL, 201);
    check_at(fx->f, led_count(fsm_led(fx->f)));
    check_at(fx->f, led_count(fsm_led(fx->f)) - 1);
}

/* Who may read digests: operators and auditors, an authority in scope. */
static void
test_digest_access(void **state)
{
    struct fsmfx *fx = *state;
    const struct fsm_entry *e = fsm_entry(fx->f, "e1");
    const char *yes[] = { "admin", "aud", "op" }, *no[] = { "prov", "cons" };

    assert_non_null(e);
    for (size_t i = 0; i < 3; i++) {
        const struct fsm_principal *p = fsm_principal(fx->f, yes[i]);

        assert_true(fsm_may_read_digests(fx->f, p, NULL));
        assert_true(fsm_may_read_digests(fx->f, p, e));
    }
    for (size_t i = 0; i < 2; i++) {
        const struct fsm_principal *p = fsm_principal(fx->f, no[i]);

        assert_false(fsm_may_read_digests(fx->f, p, NULL));
        assert_false(fsm_may_read_digests(fx->f, p, e));
    }
    assert_false(fsm_may_read_digests(fx->f, NULL, e));
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_carries),
        cmocka_unit_test(test_digest_order_and_unstep),
        cmocka_unit_test(test_digest_worked_example),
        cmocka_unit_test_setup_teardown(test_digest_fsm_matches_recomputation,
                                        setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_digest_window, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_digest_oom, setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_digest_access, setup,
                                        fsmfx_teardown),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
