/* SPDX-License-Identifier: MIT */
/*
 * Read-audit batches (node/fsm/audit.c): a batch built by the leader in
 * encoding 2 applies as one AUDIT fact whose document holds the events,
 * and reads back event for event; the same events always give the same
 * bytes; the first encoding still applies and reads back; malformed
 * batches are 400 rejection facts; every allocation failing leaves the
 * ledger as it was; and what an audited read costs the ledger stays under
 * 64 bytes from batches of 64 events on (docs/bench.md).
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
#include "storage/snap.h"

#define SALT "{\"salt\":\"00112233445566778899aabbccddeeff\"}"

static int
setup(void **state)
{
    *state = fsmfx_new("admin", 1);
    return 0;
}

/* A few events covering every column: null org, no key, a count, no
 * grant, an open request. */
static const struct fsm_audit_event sample[] = {
    { "cons", "dept2", "record.read", "cc", "110101199003077777", 18, 3, -1,
      1790000000100LL, "gr-17" },
    { "cit", NULL, "record.read", "oo", "k\"2", 3, 1, -1, 1790000000099LL,
      "or-9" },
    { "cons", "dept2", "record.list", "cc", NULL, 0, 0, 25, 1790000000105LL,
      "gr-17" },
    { "aud", "authority", "record.history", "uu", "k\xc3\xa9", 3, 0, 4,
      1790000000105LL, NULL },
    { "cons2", "dept2", "record.read", "cc", "110101199003077777", 18, 2, -1,
      1790000000107LL, "gr-18" },
};
#define N_SAMPLE (sizeof(sample) / sizeof(sample[0]))

static void
build(const struct fsm_audit_event *ev, size_t n, struct pc_buf *out)
{
    size_t at = out->len, bound;
    struct fsm_audit_doc *d;

    assert_int_equal(fsm_audit_doc_new(&d), PC_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fsm_audit_doc_add(d, &ev[i]), PC_OK);
    }
    assert_int_equal(fsm_audit_doc_count(d), n);
    bound = fsm_audit_doc_bytes(d);
    assert_int_equal(fsm_audit_doc_finish(d, out), PC_OK);
    assert_true(out->len - at <= bound); /* an upper bound */
    assert_int_equal(fsm_audit_doc_count(d), 0);
    fsm_audit_doc_free(d);
}

struct got {
    size_t n;
    char text[4096];
    size_t len;
};

static bool
collect(void *arg, const struct fsm_audit_event *e)
{
    struct got *g = arg;

    g->len += (size_t)snprintf(
        g->text + g->len, sizeof(g->text) - g->len,
        "%s|%s|%s|%s|%.*s|%d|%llu|%lld|%lld|%s\n", e->principal,
        e->org ? e->org : "-", e->action, e->entry, (int)e->key_len,
        e->key ? e->key : "", e->key != NULL, (unsigned long long)e->version,
        (long long)e->count, (long long)e->at_ms, e->via ? e->via : "-");
    g->n++;
    return true;
}

static void
expect_text(const struct fsm_audit_event *ev, size_t n, struct got *want)
{
    memset(want, 0, sizeof(*want));
    for (size_t i = 0; i < n; i++) {
        collect(want, &ev[i]);
    }
}

/* A batch applies as one AUDIT fact (author system, payload the count,
 * the document the columns) and reads back event for event. */
static void
test_audit_roundtrip(void **state)
{
    struct fsmfx *fx = *state;
    struct got got = { 0 }, want;
    struct pc_buf doc, json;
    struct fsm_result r;
    struct fact f;

    pc_buf_init(&doc);
    build(sample, N_SAMPLE, &doc);
    r = fsmfx_run_len(fx, CMD_AUDIT, NULL, NULL, doc.data, doc.len, SALT, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_facts, 1);
    assert_int_equal(led_get(fsm_led(fx->f), r.first_rev, &f), PC_OK);
    assert_int_equal(f.kind, FACT_AUDIT);
    assert_true(f.has_content);
    assert_int_equal(f.payload.len, strlen("{\"encoding\":2,\"events\":5}"));
    assert_memory_equal(f.payload.p, "{\"encoding\":2,\"events\":5}",
                        f.payload.len);
    assert_memory_equal(f.principal.p, "system", 6);
    /* The document is the batch, canonical as the leader wrote it. */
    pc_buf_init(&json);
    assert_int_equal(led_doc_get(fsm_led(fx->f), r.first_rev, &json, NULL),
                     PC_OK);
    assert_int_equal(json.len, doc.len);
    assert_memory_equal(json.data, doc.data, doc.len);
    assert_int_equal(
        fsm_audit_events(fsm_led(fx->f), r.first_rev, collect, &got), PC_OK);
    expect_text(sample, N_SAMPLE, &want);
    assert_string_equal(got.text, want.text);
    /* Not an audit fact. */
    assert_int_equal(fsm_audit_events(fsm_led(fx->f), 1, collect, &got),
                     PC_ENOTFOUND);
    assert_int_equal(fsm_audit_events(fsm_led(fx->f), 1000, collect, &got),
                     PC_ENOTFOUND);
    /* A node that refuses audit commands from principals. */
    r = fsmfx_run_len(fx, CMD_AUDIT, "admin", NULL, doc.data, doc.len, SALT,
                      NULL);
    assert_int_equal(r.status, 403);
    pc_buf_release(&json);
    pc_buf_release(&doc);
}

/* The exact document of two events: dictionaries in order of first use,
 * columns, times from the earliest. */
static void
test_audit_document_bytes(void **state)
{
    struct pc_buf doc;
    const char *want =
        "{\"a\":[0,0],\"actions\":[\"record.read\"],\"c\":[-1,-1],\"e\":[0,0],"
        "\"entries\":[\"cc\"],\"k\":[\"110101199003077777\",\"k\\\"2\"],"
        "\"orgs\":[\"dept2\",null],\"p\":[0,1],\"principals\":[\"cons\","
        "\"cit\"],\"t\":[1,0],\"t0\":1790000000099,\"v\":[3,1],\"via\":"
        "[\"gr-17\",\"or-9\"],\"w\":[0,1]}";
    struct fsm_audit_event two[2];

    (void)state;
    two[0] = sample[0];
    two[1] = sample[1];
    two[1].entry = "cc";
    pc_buf_init(&doc);
    build(two, 2, &doc);
    assert_int_equal(doc.len, strlen(want));
    assert_memory_equal(doc.data, want, doc.len);
    /* The same events give the same bytes, again. */
    doc.len = 0;
    build(two, 2, &doc);
    assert_memory_equal(doc.data, want, doc.len);
    pc_buf_release(&doc);
}

/* docs/format.md's example of encoding 2 is what the builder writes. */
static void
test_audit_format_example(void **state)
{
    const char *want =
        "{\"a\":[0,0],\"actions\":[\"record.read\"],\"c\":[-1,-1],\"e\":[0,0],"
        "\"entries\":[\"cc\"],\"k\":[\"110101199003077777\","
        "\"110101198807011234\"],\"orgs\":[\"dept2\"],\"p\":[0,0],"
        "\"principals\":[\"cons\"],\"t\":[0,3],\"t0\":1790000100000,\"v\":"
        "[1,2],\"via\":[\"gr-17\"],\"w\":[0,0]}";
    const struct fsm_audit_event ev[] = {
        { "cons", "dept2", "record.read", "cc", "110101199003077777", 18, 1, -1,
          1790000100000LL, "gr-17" },
        { "cons", "dept2", "record.read", "cc", "110101198807011234", 18, 2, -1,
          1790000100003LL, "gr-17" },
    };
    struct pc_buf doc;

    (void)state;
    pc_buf_init(&doc);
    build(ev, 2, &doc);
    assert_int_equal(doc.len, strlen(want));
    assert_memory_equal(doc.data, want, doc.len);
    pc_buf_release(&doc);
}

/* The first encoding (events as JSON objects in the payload) still
 * applies as before and reads back through the same call. */
static void
test_audit_first_encoding(void **state)
{
    struct fsmfx *fx = *state;
    struct got got = { 0 };
    struct fsm_result r;
    struct fact f;

    r = fsmfx_run(fx, CMD_AUDIT, NULL, NULL, NULL,
                  "{\"events\":[{\"principal\":\"cons\",\"org\":\"dept2\","
                  "\"action\":\"record.read\",\"entry\":\"cc\",\"at\":"
                  "\"2026-09-21T13:20:00.100Z\",\"key\":\"k1\",\"version\":"
                  "2},{\"principal\":\"cit\",\"org\":null,\"action\":"
                  "\"record.list\",\"entry\":\"oo\",\"at\":"
                  "\"2026-09-21T13:20:00.101Z\",\"count\":7}]}",
                  NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(led_get(fsm_led(fx->f), r.first_rev, &f), PC_OK);
    assert_false(f.has_content);
    assert_int_equal(
        fsm_audit_events(fsm_led(fx->f), r.first_rev, collect, &got), PC_OK);
    assert_string_equal(got.text,
                        "cons|dept2|record.read|cc|k1|1|2|-1|1789996800100|-\n"
                        "cit|-|record.list|oo||0|0|7|1789996800101|-\n");
}

/* A batch apply cannot read is a 400 rejection fact, nothing else. */
static void
test_audit_malformed(void **state)
{
    struct fsmfx *fx = *state;
    struct pc_buf doc, big;
    char *text;
    static const struct {
        const char *from, *to; /* replace in the sample's document */
    } edits[] = {
        { "\"a\":[", "\"z\":0,\"a\":[" },         /* unknown member */
        { "\"a\":[0,", "\"a\":[" },               /* a column too short */
        { "\"a\":[0,", "\"a\":[3," },             /* index out of range */
        { "\"w\":[0,", "\"w\":[-2," },            /* below -1 */
        { "\"t\":[", "\"t\":[-1," },              /* negative time */
        { "\"v\":[3,", "\"v\":[3.5," },           /* not an integer */
        { "\"v\":[3,", "\"v\":[3e0," },           /* not an integer literal */
        { "\"orgs\":[\"dept2\",", "\"orgs\":[" }, /* orgs != principals */
        { "\"t0\":", "\"t0\":-" },                /* negative base */
        { "\"k\":[\"1", "\"k\":[\"\",\"1" },      /* an empty key */
        { "\"entries\":[\"cc\"", "\"entries\":[\"\"" },
        { "{", "[" },
    };

    pc_buf_init(&doc);
    build(sample, N_SAMPLE, &doc);
    pc_buf_put_u8(&doc, 0);
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        const char *at = strstr((const char *)doc.data, edits[i].from);
        uint64_t before = led_count(fsm_led(fx->f));
        struct fsm_result r;
        struct fact f;
        size_t len;

        assert_non_null(at);
        len = doc.len + strlen(edits[i].to);
        text = test_malloc(len);
        snprintf(text, len, "%.*s%s%s", (int)(at - (const char *)doc.data),
                 (const char *)doc.data, edits[i].to,
                 at + strlen(edits[i].from));
        r = fsmfx_run(fx, CMD_AUDIT, NULL, NULL, text, SALT, NULL);
        if (r.status != 400) {
            fail_msg("edit %zu: %d (%s) for %s", i, r.status, r.message, text);
        }
        assert_int_equal(led_count(fsm_led(fx->f)), before + 1);
        assert_int_equal(led_get(fsm_led(fx->f), before + 1, &f), PC_OK);
        assert_int_equal(f.kind, FACT_REJECTION);
        test_free(text);
    }
    /* No salt, a bad salt, no events. */
    doc.len--;
    assert_int_equal(
        fsmfx_run_len(fx, CMD_AUDIT, NULL, NULL, doc.data, doc.len, NULL, NULL)
            .status,
        400);
    assert_int_equal(fsmfx_run_len(fx, CMD_AUDIT, NULL, NULL, doc.data, doc.len,
                                   "{\"salt\":\"00\"}", NULL)
                         .status,
                     400);
    assert_int_equal(fsmfx_run(fx, CMD_AUDIT, NULL, NULL,
                               "{\"a\":[],\"actions\":[],\"c\":[],\"e\":[],"
                               "\"entries\":[],\"k\":[],\"orgs\":[],\"p\":[],"
                               "\"principals\":[],\"t\":[],\"t0\":0,\"v\":[],"
                               "\"via\":[],\"w\":[]}",
                               SALT, NULL)
                         .status,
                     400);
    /* A document over the 256 KiB a document may hold. */
    {
        struct fsm_audit_doc *d;
        struct fsm_audit_event e = sample[0];
        char key[FSM_RECORD_KEY_MAX + 1];

        assert_int_equal(fsm_audit_doc_new(&d), PC_OK);
        for (int i = 0; i < 600; i++) {
            memset(key, 'a' + i % 26, FSM_RECORD_KEY_MAX);
            snprintf(key, 8, "%07d", i);
            key[7] = 'x';
            e.key = key;
            e.key_len = FSM_RECORD_KEY_MAX;
            assert_int_equal(fsm_audit_doc_add(d, &e), PC_OK);
        }
        pc_buf_init(&big);
        assert_int_equal(fsm_audit_doc_finish(d, &big), PC_OK);
        assert_true(big.len > FACT_MAX_DOC);
        assert_int_equal(fsmfx_run_len(fx, CMD_AUDIT, NULL, NULL, big.data,
                                       big.len, SALT, NULL)
                             .status,
                         400);
        pc_buf_release(&big);
        fsm_audit_doc_free(d);
    }
    pc_buf_release(&doc);
}

/* Every allocation of the apply failing once leaves the ledger as it
 * was; then it applies. */
static void
test_audit_oom(void **state)
{
    struct fsmfx *fx = *state;
    struct pc_buf doc, entry;
    struct got got = { 0 };
    struct fsm_result r;

    pc_buf_init(&doc);
    pc_buf_init(&entry);
    build(sample, N_SAMPLE, &doc);
    fsmfx_encode_len(fx, &entry, CMD_AUDIT, NULL, NULL, doc.data, doc.len, SALT,
                     NULL);
    r = fsmfx_oom_apply(fx, &entry, 200);
    assert_int_equal(
        fsm_audit_events(fsm_led(fx->f), r.first_rev, collect, &got), PC_OK);
    assert_int_equal(got.n, N_SAMPLE);
    pc_buf_release(&entry);
    pc_buf_release(&doc);
}

/* Building a batch under failing allocations: an error leaves the batch
 * usable, and what it then writes holds exactly the events added. */
static void
test_audit_builder_oom(void **state)
{
    struct test_oom o = { 0 };
    struct fsm_audit_doc *d;
    struct pc_buf doc, want;

    (void)state;
    pc_buf_init(&want);
    build(sample, N_SAMPLE, &want);
    for (long k = 0;; k++) {
        size_t added = 0;
        int rc = PC_OK;

        test_oom_arm(&o, k, 1);
        if (fsm_audit_doc_new(&d) != PC_OK) {
            test_oom_disarm(&o, false);
            continue;
        }
        for (size_t i = 0; i < N_SAMPLE && rc == PC_OK; i++) {
            rc = fsm_audit_doc_add(d, &sample[i]);
            added += rc == PC_OK;
        }
        pc_buf_init(&doc);
        if (rc == PC_OK) {
            rc = fsm_audit_doc_finish(d, &doc);
        }
        if (test_oom_disarm(&o, rc == PC_OK)) {
            assert_int_equal(doc.len, want.len);
            assert_memory_equal(doc.data, want.data, want.len);
            pc_buf_release(&doc);
            fsm_audit_doc_free(d);
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
        assert_int_equal(fsm_audit_doc_count(d), added);
        pc_buf_release(&doc);
        fsm_audit_doc_free(d);
        assert_true(k < 10000);
    }
    test_oom_end(&o);
    pc_buf_release(&want);
}

/* Realistic reads: 18-character ID numbers of a few regions, four
 * readers, grants and entries, times a fraction of a millisecond apart. */
static void
realistic(uint64_t *rs, struct fsm_audit_event *e, char key[19], int64_t *t)
{
    static const char *const regions[] = { "110101", "110105", "310104",
                                           "320102", "330106", "440305" };
    static const char *const who[][3] = {
        { "tax-sys-01", "tax-bureau", "gr-48213" },
        { "tax-sys-02", "tax-bureau", "gr-48213" },
        { "civil-app", "civil-affairs", "gr-50117" },
        { "health-etl", "health-comm", "gr-50302" },
    };
    unsigned w = (unsigned)(test_rand(rs) % 4);

    snprintf(
        key, 19, "%s%04u%02u%02u%03u%c", regions[test_rand(rs) % 6],
        1950 + (unsigned)(test_rand(rs) % 56),
        1 + (unsigned)(test_rand(rs) % 12), 1 + (unsigned)(test_rand(rs) % 28),
        (unsigned)(test_rand(rs) % 1000), "10X98765432"[test_rand(rs) % 11]);
    memset(e, 0, sizeof(*e));
    e->principal = who[w][0];
    e->org = who[w][1];
    e->via = who[w][2];
    e->action = "record.read";
    e->entry = w < 2 ? "household-register" : "population-basic";
    e->key = key;
    e->key_len = 18;
    e->version = 1 + test_rand(rs) % 3;
    e->count = -1;
    *t += (int64_t)(test_rand(rs) % 2);
    e->at_ms = *t;
}

/* The ledger's bytes (led_mem without the arena chunks' slack) and the
 * snapshot's. */
static void
measure(struct fsm *f, size_t *mem, size_t *snap)
{
    struct led_view *v;
    struct led_mem m;
    struct pc_buf b;

    led_mem(fsm_led(f), &m);
    *mem = m.enc + 24 * led_count(fsm_led(f)) + m.docs + m.merkle + m.index;
    pc_buf_init(&b);
    assert_int_equal(led_view_open(fsm_led(f), &v), PC_OK);
    assert_int_equal(snap_encode_buf(v, &b, NULL), PC_OK);
    led_view_close(fsm_led(f), v);
    *snap = b.len;
    pc_buf_release(&b);
}

/* An audited read costs the ledger (memory and snapshot) under 64 bytes
 * in batches of 64 events or more (bench_audit has the other sizes and
 * the first encoding). */
static void
test_audit_bytes_per_read(void **state)
{
    static const size_t sizes[] = { 64, 256, 1000 };
    uint64_t rs = test_seed();

    (void)state;
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        struct fsmfx *fx = fsmfx_new("admin", 1);
        size_t m0, s0, m1, s1, events = 32000;
        int64_t t = fx->now;
        struct pc_buf doc;
        double mem, snap;

        measure(fx->f, &m0, &s0);
        pc_buf_init(&doc);
        for (size_t b = 0; b < events / sizes[s]; b++) {
            struct fsm_audit_doc *d;
            struct fsm_audit_event e;
            char key[19];

            assert_int_equal(fsm_audit_doc_new(&d), PC_OK);
            for (size_t i = 0; i < sizes[s]; i++) {
                realistic(&rs, &e, key, &t);
                assert_int_equal(fsm_audit_doc_add(d, &e), PC_OK);
            }
            doc.len = 0;
            assert_int_equal(fsm_audit_doc_finish(d, &doc), PC_OK);
            fsm_audit_doc_free(d);
            fx->now = t + 1;
            assert_int_equal(fsmfx_run_len(fx, CMD_AUDIT, NULL, NULL, doc.data,
                                           doc.len, SALT, NULL)
                                 .status,
                             200);
        }
        measure(fx->f, &m1, &s1);
        mem = (double)(m1 - m0) / (double)(events / sizes[s] * sizes[s]);
        snap = (double)(s1 - s0) / (double)(events / sizes[s] * sizes[s]);
        print_message("batches of %zu: %.1f ledger bytes, %.1f snapshot "
                      "bytes per read\n",
                      sizes[s], mem, snap);
        if (mem >= 64 || snap >= 64) {
            test_seed_note("test_audit_bytes_per_read", rs);
            fail_msg("batches of %zu: %.1f / %.1f bytes per read", sizes[s],
                     mem, snap);
        }
        pc_buf_release(&doc);
        fsmfx_free(fx);
    }
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, fsmfx_teardown)
        T(test_audit_roundtrip),
        cmocka_unit_test(test_audit_document_bytes),
        cmocka_unit_test(test_audit_format_example),
        T(test_audit_first_encoding),
        T(test_audit_malformed),
        T(test_audit_oom),
        cmocka_unit_test(test_audit_builder_oom),
        cmocka_unit_test(test_audit_bytes_per_read),
#undef T
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
