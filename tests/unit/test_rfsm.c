/* SPDX-License-Identifier: MIT */
/*
 * The raft FSM adapter's snapshots, driven directly (raft only calls these
 * three functions): a snapshot taken through the worker is the state at the
 * moment it completes; a redaction while the worker encodes throws the
 * work away so no snapshot carries a redacted document; a restore while a
 * job runs cancels it and installs the new state; later snapshots copy
 * the frames of earlier ones.
 */
#include "tests/lib/fsmfx.h"
#include "tests/lib/test.h"

#include <raft.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "common/alloc.h"
#include "common/err.h"
#include "node/cmd.h"
#include "node/raft/rfsm.h"
#include "storage/led.h"
#include "storage/snap.h"

#define SALT "00112233445566778899aabbccddeeff"

struct fixture {
    struct fsmfx *fx;
    struct rfsm s;
};

static void
put(struct fsmfx *fx, int i)
{
    char target[32], doc[64];

    snprintf(target, sizeof(target), "e/k%d", i % 50);
    snprintf(doc, sizeof(doc), "{\"name\":\"n%d\"}", i);
    assert_true(fsmfx_run(fx, CMD_RECORD_PUT, "prov", target, doc,
                          "{\"salt\":\"" SALT "\"}", NULL)
                    .status < 300);
}

/* A published entry "e" of org dept and `n` record writes by "prov". */
static int
setup(void **state)
{
    struct fixture *t = test_calloc(1, sizeof(*t));

    t->fx = fsmfx_new("admin", 1000);
    fsmfx_org(t->fx, "dept", "authority", "province", false);
    fsmfx_principal(t->fx, "prov", "dept", "\"provider\"");
    fsmfx_create_entry(t->fx, "prov",
                       "{\"id\":\"e\",\"title\":\"e\",\"provider\":\"dept\","
                       "\"fields\":[{\"name\":\"name\",\"type\":\"string\","
                       "\"required\":true}],\"share\":{\"class\":"
                       "\"unconditional\"},\"open\":{\"class\":\"none\"},"
                       "\"update_frequency\":\"daily\",\"security_level\":1,"
                       "\"scope\":\"province\"}");
    fsmfx_publish(t->fx, "prov", "admin", "e");
    for (int i = 0; i < 3000; i++) {
        put(t->fx, i);
    }
    rfsm_init(&t->s, t->fx->f, NULL, NULL);
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *t = *state;

    rfsm_release(&t->s);
    fsmfx_free(t->fx);
    test_free(t);
    return 0;
}

/* Call snapshot() as raft does until it completes; the buffers joined. */
static void
take(struct rfsm *s, struct pc_buf *out, void (*between)(void *), void *arg)
{
    struct raft_buffer *bufs = NULL;
    unsigned n = 0;
    int rv, calls = 0;

    while ((rv = s->raft_fsm.snapshot(&s->raft_fsm, &bufs, &n)) == RAFT_BUSY) {
        if (between != NULL && calls == 0) {
            between(arg);
        }
        assert_true(++calls < 100000);
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
    }
    assert_int_equal(rv, 0);
    assert_true(calls >= 1); /* the encode happened off this call */
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(pc_buf_put(out, bufs[i].base, bufs[i].len), PC_OK);
    }
    assert_int_equal(s->raft_fsm.snapshot_finalize(&s->raft_fsm, &bufs, &n), 0);
}

static void
check_equal_to_ledger(struct pc_buf *snap, struct led *live)
{
    struct led *l;
    char errmsg[PC_ERRMSG_SIZE];
    uint8_t a[PC_HASH_LEN], b[PC_HASH_LEN];

    assert_int_equal(snap_decode(snap->data, snap->len, &l, errmsg), PC_OK);
    assert_int_equal(led_count(l), led_count(live));
    led_root(l, a);
    led_root(live, b);
    assert_memory_equal(a, b, PC_HASH_LEN);
    led_free(l);
}

struct writes {
    struct fsmfx *fx;
    int from;
};

static void
more_writes(void *arg)
{
    struct writes *w = arg;

    for (int i = 0; i < 200; i++) {
        put(w->fx, w->from + i);
    }
}

/* Writes while the worker encodes end up in the snapshot's tail. */
static void
test_rfsm_snapshot_is_the_state_when_done(void **state)
{
    struct fixture *t = *state;
    struct writes w = { t->fx, 10000 };
    struct pc_buf snap;

    pc_buf_init(&snap);
    take(&t->s, &snap, more_writes, &w);
    check_equal_to_ledger(&snap, fsm_led(t->fx->f));
    assert_true(t->s.snapshot_tail >= 200);
    pc_buf_release(&snap);
}

static void
redact_one(void *arg)
{
    struct fixture *t = arg;
    struct led *l = fsm_led(t->fx->f);

    /* The newest record version holds a document. */
    assert_int_equal(led_redact(l, led_count(l)), PC_OK);
}

/* A redaction while the worker encodes: that work is thrown away, and the
 * snapshot raft gets has the document redacted. */
static void
test_rfsm_redaction_restarts_the_job(void **state)
{
    struct fixture *t = *state;
    struct led *l = fsm_led(t->fx->f), *back;
    struct pc_buf snap, doc;
    uint8_t salt[PC_SALT_LEN];
    char errmsg[PC_ERRMSG_SIZE];
    uint64_t restarts = t->s.snapshot_restarts;

    pc_buf_init(&snap);
    take(&t->s, &snap, redact_one, t);
    assert_int_equal(t->s.snapshot_restarts, restarts + 1);
    check_equal_to_ledger(&snap, l);
    assert_int_equal(snap_decode(snap.data, snap.len, &back, errmsg), PC_OK);
    pc_buf_init(&doc);
    assert_int_equal(led_doc_get(back, led_count(back), &doc, salt),
                     PC_EFORBIDDEN);
    assert_int_equal(led_doc_get(back, led_count(back) - 1, &doc, salt), PC_OK);
    pc_buf_release(&doc);
    led_free(back);
    pc_buf_release(&snap);
}

/* A restore while a job runs cancels the job; the FSM then holds the
 * restored state and the next snapshot is of it. */
static void
test_rfsm_restore_cancels_the_job(void **state)
{
    struct fixture *t = *state;
    struct raft_buffer *bufs = NULL, in;
    struct pc_buf older, again;
    unsigned n = 0;
    uint8_t a[PC_HASH_LEN], b[PC_HASH_LEN];

    pc_buf_init(&older);
    take(&t->s, &older, NULL, NULL);
    led_root(fsm_led(t->fx->f), a);
    more_writes(&(struct writes){ t->fx, 20000 });
    assert_int_equal(t->s.raft_fsm.snapshot(&t->s.raft_fsm, &bufs, &n),
                     RAFT_BUSY); /* a job is running */
    in.len = older.len;
    in.base = raft_malloc(in.len);
    assert_non_null(in.base);
    memcpy(in.base, older.data, older.len);
    assert_int_equal(t->s.raft_fsm.restore(&t->s.raft_fsm, &in), 0);
    led_root(fsm_led(t->fx->f), b);
    assert_memory_equal(a, b, PC_HASH_LEN);
    pc_buf_init(&again);
    take(&t->s, &again, NULL, NULL);
    assert_int_equal(again.len, older.len);
    assert_memory_equal(again.data, older.data, older.len);
    pc_buf_release(&again);
    pc_buf_release(&older);
}

/* A copy of `b` in raft's heap, as raft hands restore() its buffer. */
static struct raft_buffer
raft_copy(const struct pc_buf *b)
{
    struct raft_buffer in = { raft_malloc(b->len), b->len };

    assert_non_null(in.base);
    memcpy(in.base, b->data, b->len);
    return in;
}

/*
 * A ledger preloaded for the bytes of a snapshot (what --restore verified)
 * is the one restore() installs, without decoding them again; preloaded
 * for other bytes (a byte differs, or the length), it is dropped and the
 * buffer decoded; a preload is used once.
 */
static void
test_rfsm_restore_takes_the_preload(void **state)
{
    struct fixture *t = *state;
    struct pc_buf snap;
    struct raft_buffer in;
    struct led *l;
    char errmsg[PC_ERRMSG_SIZE];
    uint8_t a[PC_HASH_LEN], b[PC_HASH_LEN];

    pc_buf_init(&snap);
    take(&t->s, &snap, NULL, NULL);
    led_root(fsm_led(t->fx->f), a);
    more_writes(&(struct writes){ t->fx, 100 }); /* the state moves on */

    /* Matching bytes: this very ledger goes in. */
    assert_int_equal(snap_decode(snap.data, snap.len, &l, errmsg), PC_OK);
    rfsm_preload(l, snap.len, XXH3_64bits(snap.data, snap.len));
    in = raft_copy(&snap);
    assert_int_equal(t->s.raft_fsm.restore(&t->s.raft_fsm, &in), 0);
    assert_ptr_equal(fsm_led(t->fx->f), l);
    led_root(fsm_led(t->fx->f), b);
    assert_memory_equal(a, b, PC_HASH_LEN);

    /* Used up: the next restore decodes its buffer. */
    in = raft_copy(&snap);
    assert_int_equal(t->s.raft_fsm.restore(&t->s.raft_fsm, &in), 0);
    assert_ptr_not_equal(fsm_led(t->fx->f), l);

    /* A digest or a length that does not match: decoded, not taken. The
     * preload is an empty ledger, so taking it would show in the root
     * (comparing pointers would not: the freed one may be reused). */
    for (int k = 0; k < 2; k++) {
        assert_int_equal(led_new(&l), PC_OK);
        rfsm_preload(l, snap.len + (size_t)k,
                     XXH3_64bits(snap.data, snap.len) ^ (k == 0));
        in = raft_copy(&snap);
        assert_int_equal(t->s.raft_fsm.restore(&t->s.raft_fsm, &in), 0);
        led_root(fsm_led(t->fx->f), b);
        assert_memory_equal(a, b, PC_HASH_LEN);
    }
    /* A preload nobody takes is freed by rfsm_release (teardown). */
    assert_int_equal(snap_decode(snap.data, snap.len, &l, errmsg), PC_OK);
    rfsm_preload(l, snap.len, 0);
    pc_buf_release(&snap);
}

/* `n` writes of ~1 KiB documents: about 850 to a snapshot frame. */
static void
put_big(struct fsmfx *fx, int from, int n)
{
    char target[32], doc[1200];

    for (int i = from; i < from + n; i++) {
        snprintf(target, sizeof(target), "e/b%d", i);
        snprintf(doc, sizeof(doc), "{\"name\":\"%d %0*d\"}", i, 1000, i);
        assert_true(fsmfx_run(fx, CMD_RECORD_PUT, "prov", target, doc,
                              "{\"salt\":\"" SALT "\"}", NULL)
                        .status < 300);
    }
}

/*
 * A second snapshot copies the frames the first closed for good instead of
 * encoding their facts again, and is still exactly the ledger; a redaction
 * of a fact in those frames empties the cache, so the next snapshot has the
 * document redacted; a restore empties it too.
 */
static void
test_rfsm_snapshot_reuses_earlier_frames(void **state)
{
    struct fixture *t = *state;
    struct led *l = fsm_led(t->fx->f), *back;
    struct pc_buf snap, doc;
    struct raft_buffer in;
    uint8_t salt[PC_SALT_LEN];
    char errmsg[PC_ERRMSG_SIZE];
    uint64_t first, cached;

    put_big(t->fx, 0, 4000);
    pc_buf_init(&snap);
    take(&t->s, &snap, NULL, NULL);
    check_equal_to_ledger(&snap, l);
    assert_true(t->s.snapshot_reused == 0);
    cached = t->s.snapshot_cache_bytes;
    assert_true(cached > 0);

    put_big(t->fx, 4000, 2000);
    pc_buf_release(&snap);
    pc_buf_init(&snap);
    take(&t->s, &snap, more_writes, &(struct writes){ t->fx, 30000 });
    check_equal_to_ledger(&snap, l);
    /* Most of the first 7000 facts, not the first snapshot's last frame. */
    assert_true(t->s.snapshot_reused > 4000 && t->s.snapshot_reused < 7100);
    assert_true(t->s.snapshot_cache_bytes > cached);

    /* A document early in the ledger, so inside a cached frame. */
    pc_buf_init(&doc);
    first = 0;
    for (uint64_t r = 1; r < 2000 && first == 0; r++) {
        if (led_doc_get(l, r, &doc, salt) == PC_OK) {
            first = r;
        }
    }
    assert_true(first != 0);
    assert_int_equal(led_redact(l, first), PC_OK);
    pc_buf_release(&snap);
    pc_buf_init(&snap);
    take(&t->s, &snap, NULL, NULL);
    assert_true(t->s.snapshot_reused == 0);
    check_equal_to_ledger(&snap, l);
    assert_int_equal(snap_decode(snap.data, snap.len, &back, errmsg), PC_OK);
    assert_int_equal(led_doc_get(back, first, &doc, salt), PC_EFORBIDDEN);
    led_free(back);

    in.len = snap.len;
    in.base = raft_malloc(in.len);
    assert_non_null(in.base);
    memcpy(in.base, snap.data, snap.len);
    assert_int_equal(t->s.raft_fsm.restore(&t->s.raft_fsm, &in), 0);
    assert_true(t->s.snapshot_cache_bytes == 0);
    l = fsm_led(t->fx->f);
    pc_buf_release(&snap);
    pc_buf_init(&snap);
    take(&t->s, &snap, NULL, NULL);
    assert_true(t->s.snapshot_reused == 0);
    check_equal_to_ledger(&snap, l);
    pc_buf_release(&doc);
    pc_buf_release(&snap);
}

/*
 * finalize hands a snapshot's buffers to a thread that frees them (a 200 MB
 * free took 12.5 ms, a stall on the loop); the next finalize, or release,
 * joins it. Without memory for that it frees them itself. Leaks in either
 * path show under ASan and valgrind.
 */
static void
test_rfsm_finalize_frees_off_the_loop(void **state)
{
    struct fixture *t = *state;
    struct raft_buffer *bufs = NULL;
    struct pc_buf snap;
    unsigned n = 0;
    int rv;

    pc_buf_init(&snap);
    take(&t->s, &snap, NULL, NULL);
    assert_non_null(t->s.freer);
    put(t->fx, 3000);
    take(&t->s, &snap, NULL, NULL); /* joins the first */
    assert_non_null(t->s.freer);

    put(t->fx, 3001);
    while ((rv = t->s.raft_fsm.snapshot(&t->s.raft_fsm, &bufs, &n)) ==
           RAFT_BUSY) {
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
    }
    assert_int_equal(rv, 0);
    assert_int_equal(n, 3);
    pc_alloc_fault(0, -1);
    assert_int_equal(t->s.raft_fsm.snapshot_finalize(&t->s.raft_fsm, &bufs, &n),
                     0);
    pc_alloc_fault_off();
    assert_null(t->s.freer); /* freed here, the last thread joined */
    assert_null(bufs);
    assert_int_equal(n, 0);
    pc_buf_release(&snap);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_rfsm_snapshot_is_the_state_when_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfsm_redaction_restarts_the_job,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfsm_restore_cancels_the_job,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfsm_restore_takes_the_preload,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_rfsm_snapshot_reuses_earlier_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfsm_finalize_frees_off_the_loop,
                                        setup, teardown),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
