/* SPDX-License-Identifier: MIT */
/* Command and raft-entry encoding: round trips, padding, refusals. */
#include "tests/lib/test.h"

#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "node/cmd.h"

static struct cmd
sample(void)
{
    struct cmd c;

    memset(&c, 0, sizeof(c));
    c.type = CMD_ORG_CREATE;
    c.rules = CMD_RULES_VERSION;
    c.time_ms = 1790000000123;
    c.principal = PC_SLICE_STR("admin");
    c.request_id = PC_SLICE_STR("n1-abcd-7");
    c.idem_key = PC_SLICE_STR("key-1");
    memset(c.fingerprint, 0xab, sizeof(c.fingerprint));
    c.target = PC_SLICE_STR("t");
    c.body = PC_SLICE_STR("{\"id\":\"x\"}");
    c.extra = PC_SLICE_STR("{}");
    return c;
}

static void
assert_slice(struct pc_slice a, struct pc_slice b)
{
    assert_int_equal(a.len, b.len);
    if (a.len > 0) {
        assert_memory_equal(a.p, b.p, a.len);
    }
}

/* Every field survives encode and decode, with and without a key. */
static void
test_cmd_roundtrip(void **state)
{
    (void)state;
    for (int with_key = 0; with_key < 2; with_key++) {
        struct cmd c = sample(), d;
        struct pc_buf b;

        if (!with_key) {
            c.idem_key = (struct pc_slice){ NULL, 0 };
        }
        c.time_ms = with_key ? -5 : c.time_ms; /* zigzag handles negatives */
        pc_buf_init(&b);
        assert_int_equal(cmd_encode(&c, &b), PC_OK);
        assert_int_equal(cmd_decode(b.data, b.len, &d, NULL), PC_OK);
        assert_int_equal(d.type, c.type);
        assert_int_equal(d.rules, c.rules);
        assert_true(d.time_ms == c.time_ms);
        assert_slice(d.principal, c.principal);
        assert_slice(d.request_id, c.request_id);
        assert_slice(d.idem_key, c.idem_key);
        if (with_key) {
            assert_memory_equal(d.fingerprint, c.fingerprint,
                                CMD_FINGERPRINT_LEN);
        }
        assert_slice(d.target, c.target);
        assert_slice(d.body, c.body);
        assert_slice(d.extra, c.extra);
        pc_buf_release(&b);
    }
}

/* Any truncation and any trailing byte is refused, never misread. */
static void
test_cmd_truncation_and_trailing(void **state)
{
    (void)state;
    struct cmd c = sample(), d;
    struct pc_buf b;
    char errmsg[PC_ERRMSG_SIZE];

    pc_buf_init(&b);
    assert_int_equal(cmd_encode(&c, &b), PC_OK);
    for (size_t cut = 0; cut < b.len; cut++) {
        assert_int_equal(cmd_decode(b.data, cut, &d, errmsg), PC_EPROTO);
    }
    assert_int_equal(pc_buf_put_u8(&b, 0), PC_OK);
    assert_int_equal(cmd_decode(b.data, b.len, &d, errmsg), PC_EPROTO);
    assert_non_null(strstr(errmsg, "trailing"));
    b.data[0] = 'X';
    assert_int_equal(cmd_decode(b.data, b.len - 1, &d, errmsg), PC_EPROTO);
    pc_buf_release(&b);
}

/* Entries pad to 8 bytes with zeros and iterate their commands in order;
 * bad padding, counts and junk are refused. */
static void
test_cmd_entry_packing(void **state)
{
    (void)state;
    struct pc_buf one, entry;
    struct cmd_iter it;
    struct cmd c = sample(), d;
    char errmsg[PC_ERRMSG_SIZE];
    int n = 0, rc;

    pc_buf_init(&one);
    pc_buf_init(&entry);
    assert_int_equal(cmd_entry_begin(&entry, 3), PC_OK);
    for (int i = 0; i < 3; i++) {
        one.len = 0;
        c.type = CMD_TICK + (uint32_t)i;
        assert_int_equal(cmd_encode(&c, &one), PC_OK);
        assert_int_equal(cmd_entry_add(&entry, &one), PC_OK);
    }
    assert_int_equal(cmd_entry_end(&entry), PC_OK);
    assert_int_equal(entry.len % 8, 0);
    assert_int_equal(cmd_entry_open(&it, entry.data, entry.len, errmsg), PC_OK);
    while ((rc = cmd_entry_next(&it, &d, errmsg)) == 1) {
        assert_int_equal(d.type, CMD_TICK + (uint32_t)n);
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 3);

    /* Eight bytes of padding, or a non-zero padding byte, is refused. */
    assert_int_equal(pc_buf_put(&entry, "\0\0\0\0\0\0\0\0", 8), PC_OK);
    cmd_entry_open(&it, entry.data, entry.len, errmsg);
    while ((rc = cmd_entry_next(&it, &d, errmsg)) == 1) {
    }
    assert_int_equal(rc, PC_EPROTO);
    entry.len -= 8;
    /* Make sure there is padding to corrupt: grow the last body a byte at
     * a time until the entry needs some. */
    for (int extra = 0;; extra++) {
        char body[64];
        memset(body, 'x', sizeof(body));
        c.body = (struct pc_slice){ (const uint8_t *)body, (size_t)extra };
        one.len = 0;
        entry.len = 0;
        cmd_encode(&c, &one);
        cmd_entry_begin(&entry, 1);
        cmd_entry_add(&entry, &one);
        size_t unpadded = entry.len;
        cmd_entry_end(&entry);
        if (entry.len > unpadded) {
            entry.data[entry.len - 1] = 1;
            break;
        }
        assert_true(extra < 60);
    }
    cmd_entry_open(&it, entry.data, entry.len, errmsg);
    assert_int_equal(cmd_entry_next(&it, &d, errmsg), 1);
    assert_int_equal(cmd_entry_next(&it, &d, errmsg), PC_EPROTO);
    assert_non_null(strstr(errmsg, "padding"));
    uint8_t junk[8] = { 'E', 1, 0, 0, 0, 0, 0, 0 }; /* zero commands */
    assert_int_equal(cmd_entry_open(&it, junk, sizeof(junk), errmsg),
                     PC_EPROTO);
    pc_buf_release(&one);
    pc_buf_release(&entry);
}

/* The fingerprint separates method, path and body. */
static void
test_cmd_fingerprint(void **state)
{
    (void)state;
    uint8_t a[CMD_FINGERPRINT_LEN], b[CMD_FINGERPRINT_LEN];

    cmd_fingerprint(a, "POST", "/v1/orgs", "{}", 2);
    cmd_fingerprint(b, "POST", "/v1/orgs", "{}", 2);
    assert_memory_equal(a, b, sizeof(a));
    cmd_fingerprint(b, "PUT", "/v1/orgs", "{}", 2);
    assert_memory_not_equal(a, b, sizeof(a));
    cmd_fingerprint(b, "POST", "/v1/org", "s{}", 3);
    assert_memory_not_equal(a, b, sizeof(a));
    cmd_fingerprint(b, "POST", "/v1/orgs", "{ }", 3);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_string_equal(cmd_type_name(CMD_ORG_CREATE), "org.create");
    assert_null(cmd_type_name(9999));
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_roundtrip),
        cmocka_unit_test(test_cmd_truncation_and_trailing),
        cmocka_unit_test(test_cmd_entry_packing),
        cmocka_unit_test(test_cmd_fingerprint),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("cmd", tests, NULL, NULL);
}
