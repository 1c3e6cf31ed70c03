/* SPDX-License-Identifier: MIT */
/* Unit tests for common/: errors, buffers and varints, maps, hashes, times. */
#include "tests/lib/test.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/jsonesc.h"
#include "common/map.h"
#include "common/timefmt.h"

/* Every error has a distinct name and a message; unknown codes say so. */
static void
test_err_names(void **state)
{
    (void)state;
    assert_string_equal(pc_errname(PC_ENOMEM), "ENOMEM");
    assert_string_equal(pc_errname(PC_ECORRUPT), "ECORRUPT");
    assert_string_equal(pc_errname(12345), "EUNKNOWN");
    assert_string_equal(pc_strerror(PC_OK), "success");
    char msg[PC_ERRMSG_SIZE];
    assert_int_equal(pc_errmsgf(msg, PC_EINVAL, "bad %s", "thing"), PC_EINVAL);
    assert_int_equal(pc_errmsg_wrap(msg, PC_EINVAL, "parse"), PC_EINVAL);
    assert_string_equal(msg, "parse: bad thing");
}

/* Varints round-trip at every width and reject overlong or short input. */
static void
test_buf_varint_roundtrip(void **state)
{
    (void)state;
    uint64_t vals[] = { 0,         1,          127,
                        128,       300,        16383,
                        16384,     UINT32_MAX, (uint64_t)1 << 63,
                        UINT64_MAX };
    struct pc_buf b;
    pc_buf_init(&b);
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        assert_int_equal(pc_buf_put_uvarint(&b, vals[i]), PC_OK);
        assert_int_equal(pc_buf_put_svarint(&b, -(int64_t)(vals[i] >> 1)),
                         PC_OK);
    }
    struct pc_rd r;
    pc_rd_init(&r, b.data, b.len);
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint64_t u;
        int64_t s;
        assert_int_equal(pc_rd_uvarint(&r, &u), PC_OK);
        assert_true(u == vals[i]);
        assert_int_equal(pc_rd_svarint(&r, &s), PC_OK);
        assert_true(s == -(int64_t)(vals[i] >> 1));
    }
    assert_int_equal(pc_rd_left(&r), 0);
    uint64_t u;
    assert_int_equal(pc_rd_uvarint(&r, &u), PC_ECORRUPT);
    pc_buf_release(&b);

    const uint8_t nonminimal[] = { 0x80, 0x00 };
    pc_rd_init(&r, nonminimal, sizeof(nonminimal));
    assert_int_equal(pc_rd_uvarint(&r, &u), PC_ECORRUPT);
    assert_int_equal(r.off, 0);
    const uint8_t toolong[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0x02 };
    pc_rd_init(&r, toolong, sizeof(toolong));
    assert_int_equal(pc_rd_uvarint(&r, &u), PC_ECORRUPT);
}

/* A length prefix larger than the input or the limit is refused. */
static void
test_buf_lp_bounds(void **state)
{
    (void)state;
    struct pc_buf b;
    struct pc_slice s;
    struct pc_rd r;
    pc_buf_init(&b);
    assert_int_equal(pc_buf_put_lp(&b, "hello", 5), PC_OK);
    pc_rd_init(&r, b.data, b.len);
    assert_int_equal(pc_rd_lp(&r, 4, &s), PC_ECORRUPT);
    assert_int_equal(r.off, 0);
    assert_int_equal(pc_rd_lp(&r, 5, &s), PC_OK);
    assert_memory_equal(s.p, "hello", 5);
    pc_rd_init(&r, b.data, b.len - 1);
    assert_int_equal(pc_rd_lp(&r, 100, &s), PC_ECORRUPT);
    pc_buf_release(&b);
}

/* A failed allocation leaves the buffer as it was. */
static void
test_buf_oom_unchanged(void **state)
{
    (void)state;
    struct pc_buf b;
    pc_buf_init(&b);
    assert_int_equal(pc_buf_put(&b, "ab", 2), PC_OK);
    char big[100];
    memset(big, 'x', sizeof(big));
    pc_alloc_fault(0, 1);
    assert_int_equal(pc_buf_put(&b, big, sizeof(big)), PC_ENOMEM);
    pc_alloc_fault_off();
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "ab", 2);
    pc_buf_release(&b);
}

/* H is BLAKE2b-256: known vector for H(""), and prefixes separate domains. */
static void
test_hash_vectors(void **state)
{
    (void)state;
    uint8_t h[PC_HASH_LEN], h2[PC_HASH_LEN];
    char hex[PC_HASH_HEX_LEN + 1];
    pc_hash(h, "", 0);
    pc_hex(hex, h, sizeof(h));
    assert_string_equal(
        hex,
        "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    pc_hash(h, "abc", 3);
    pc_hex(hex, h, sizeof(h));
    assert_string_equal(
        hex,
        "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    uint8_t buf[4] = { 0x00, 'a', 'b', 'c' };
    pc_hash(h, buf, 4);
    pc_hash_prefixed(h2, 0x00, "abc", 3, NULL, 0);
    assert_memory_equal(h, h2, PC_HASH_LEN);
    pc_hash_prefixed(h2, 0x01, "abc", 3, NULL, 0);
    assert_memory_not_equal(h, h2, PC_HASH_LEN);
    uint8_t back[PC_HASH_LEN];
    assert_true(pc_unhex(back, PC_HASH_LEN, hex, strlen(hex)));
    pc_hash(h, "abc", 3);
    assert_memory_equal(back, h, PC_HASH_LEN);
    assert_false(pc_unhex(back, PC_HASH_LEN, "zz", 2));
}

/* RFC 3339 formatting and parsing agree, offsets and leap days included. */
static void
test_time_roundtrip(void **state)
{
    (void)state;
    char s[PC_TIME_STR_LEN];
    int64_t ms;
    pc_time_format(s, 0);
    assert_string_equal(s, "1970-01-01T00:00:00.000Z");
    pc_time_format(s, 1795000000123);
    assert_int_equal(pc_time_parse(s, &ms), PC_OK);
    assert_true(ms == 1795000000123);
    assert_int_equal(pc_time_parse("2024-02-29T08:00:00+08:00", &ms), PC_OK);
    pc_time_format(s, ms);
    assert_string_equal(s, "2024-02-29T00:00:00.000Z");
    assert_int_equal(pc_time_parse("2023-02-29T00:00:00Z", &ms), PC_EINVAL);
    assert_int_equal(pc_time_parse("2023-01-01T00:00:00", &ms), PC_EINVAL);
    assert_int_equal(pc_time_parse("2023-01-01T24:00:00Z", &ms), PC_EINVAL);
}

/* pc_map_get_or_add makes a zeroed value once, then finds it; out of
 * memory it leaves the map as it was. */
static void
test_map_get_or_add(void **state)
{
    struct test_oom o = { 0 };
    struct pc_map m;
    uint64_t *v, *again;

    (void)state;
    pc_map_init(&m);
    for (long k = 0;; k++) {
        test_oom_arm(&o, k, 1);
        v = pc_map_get_or_add(&m, "a", 1, sizeof(*v));
        if (test_oom_disarm(&o, v != NULL)) {
            break;
        }
        assert_int_equal(m.len, 0);
        assert_null(pc_map_get(&m, "a", 1));
    }
    test_oom_end(&o);
    assert_int_equal(*v, 0);
    *v = 7;
    again = pc_map_get_or_add(&m, "a", 1, sizeof(*again));
    assert_ptr_equal(again, v);
    assert_int_equal(m.len, 1);
    pc_map_release_values(&m, pc_free);
    assert_int_equal(m.len, 0);
    assert_null(pc_map_get(&m, "a", 1));
}

static int n_freed;

static void
count_free(void *val)
{
    n_freed++;
    pc_free(val);
}

/* pc_map_release_values frees every live value once, none deleted before. */
static void
test_map_release_values(void **state)
{
    struct pc_map m;
    char key[8];

    (void)state;
    pc_map_init(&m);
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_non_null(pc_map_get_or_add(&m, key, strlen(key), 16));
    }
    pc_free(pc_map_del(&m, "k7", 2));
    n_freed = 0;
    pc_map_release_values(&m, count_free);
    assert_int_equal(n_freed, 99);
    assert_int_equal(m.cap, 0);
    pc_map_release_values(&m, count_free); /* a released map is empty */
    assert_int_equal(n_freed, 99);
}

/* pc_json_put_str: each escape, and the two options. */
static void
check_json_str(const char *in, size_t len, unsigned flags, const char *want)
{
    struct pc_buf b;

    pc_buf_init(&b);
    assert_int_equal(pc_json_put_str(&b, in, len, flags), PC_OK);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    pc_buf_release(&b);
}

static void
test_json_put_str(void **state)
{
    (void)state;
    check_json_str("plain", 5, 0, "\"plain\"");
    check_json_str("a\"b\\c\n\r\t", 8, 0, "\"a\\\"b\\\\c\\n\\r\\t\"");
    check_json_str("\x01\x1f", 2, 0, "\"\\u0001\\u001f\"");
    check_json_str("n\0l", 3, 0, "\"n\\u0000l\"");
    check_json_str("\x7f", 1, 0, "\"\x7f\"");
    check_json_str("\x7f", 1, PC_JSON_ESC_DEL, "\"\\u007f\"");
    /* 省 is valid UTF-8 and kept; a lone continuation byte, an overlong
     * '/', a surrogate and a truncated sequence are not. */
    check_json_str("\xe7\x9c\x81", 3, PC_JSON_VALID_UTF8, "\"\xe7\x9c\x81\"");
    check_json_str("\x80", 1, 0, "\"\x80\"");
    check_json_str("\x80", 1, PC_JSON_VALID_UTF8, "\"\\ufffd\"");
    check_json_str("\xc0\xaf", 2, PC_JSON_VALID_UTF8, "\"\\ufffd\\ufffd\"");
    check_json_str("\xed\xa0\x80", 3, PC_JSON_VALID_UTF8,
                   "\"\\ufffd\\ufffd\\ufffd\"");
    check_json_str("a\xe7\x9c", 3, PC_JSON_VALID_UTF8, "\"a\\ufffd\\ufffd\"");
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_names),
        cmocka_unit_test(test_buf_varint_roundtrip),
        cmocka_unit_test(test_buf_lp_bounds),
        cmocka_unit_test(test_buf_oom_unchanged),
        cmocka_unit_test(test_map_get_or_add),
        cmocka_unit_test(test_map_release_values),
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_time_roundtrip),
        cmocka_unit_test(test_json_put_str),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
