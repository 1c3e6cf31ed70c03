/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for node/http/proxy.c: CIDR networks as --trusted-proxy takes
 * them, and which X-Forwarded-For entry is the client: the right-most one
 * that is not a trusted proxy, believed only from a trusted peer.
 */
#include "tests/lib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "node/http/http.h"

/* Networks parse to family, prefix and address; the text round-trips. */
static void
test_proxy_cidr_parse(void **state)
{
    struct http_cidr c;
    char msg[PC_ERRMSG_SIZE];

    (void)state;
    assert_int_equal(http_cidr_parse("10.0.0.0/8", &c, msg), PC_OK);
    assert_int_equal(c.family, 4);
    assert_int_equal(c.bits, 8);
    assert_int_equal(c.addr[0], 10);
    assert_int_equal(http_cidr_parse("192.168.1.7", &c, msg), PC_OK);
    assert_int_equal(c.bits, 32);
    assert_int_equal(http_cidr_parse("0.0.0.0/0", &c, msg), PC_OK);
    assert_int_equal(c.bits, 0);
    assert_int_equal(http_cidr_parse("fd00::/8", &c, msg), PC_OK);
    assert_int_equal(c.family, 6);
    assert_int_equal(c.bits, 8);
    assert_int_equal(http_cidr_parse("::1", &c, msg), PC_OK);
    assert_int_equal(c.bits, 128);

    static const struct {
        const char *in, *msg;
    } bad[] = {
        { "10.0.0.1/8", "\"10.0.0.1/8\" has address bits set past the /8 "
                        "prefix (a network is written with them zero)" },
        { "10.0.0.0/33", "\"10.0.0.0/33\" has a bad prefix length (expected "
                         "0..32)" },
        { "10.0.0.0/", "\"10.0.0.0/\" has a bad prefix length (expected "
                       "0..32)" },
        { "10.0.0.0/08", "\"10.0.0.0/08\" has a bad prefix length (expected "
                         "0..32)" },
        { "10.0.0.0/-1", "\"10.0.0.0/-1\" has a bad prefix length (expected "
                         "0..32)" },
        { "fd00::/129", "\"fd00::/129\" has a bad prefix length (expected "
                        "0..128)" },
        { "10.0.0/8", "\"10.0.0/8\" is not an address or network (expected "
                      "A.B.C.D/N, A.B.C.D, or an IPv6 one)" },
        { "proxy", "\"proxy\" is not an address or network (expected "
                   "A.B.C.D/N, A.B.C.D, or an IPv6 one)" },
        { "", "\"\" is not an address or network (expected A.B.C.D/N, "
              "A.B.C.D, or an IPv6 one)" },
        { "1.2.3.4 /8", "\"1.2.3.4 /8\" is not an address or network "
                        "(expected A.B.C.D/N, A.B.C.D, or an IPv6 one)" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&c, 0x5a, sizeof(c));
        struct http_cidr before = c;
        if (http_cidr_parse(bad[i].in, &c, msg) != PC_EINVAL ||
            strcmp(msg, bad[i].msg) != 0) {
            fail_msg("\"%s\": got \"%s\"", bad[i].in, msg);
        }
        assert_memory_equal(&c, &before, sizeof(c)); /* untouched */
    }
}

/* Lists split on commas and spaces; errors name the item; out-parameters
 * are written only on success, and no allocation failure leaks. */
static void
test_proxy_cidr_list(void **state)
{
    struct http_cidr *l = NULL;
    char msg[PC_ERRMSG_SIZE];
    size_t n = 99;

    (void)state;
    assert_int_equal(
        http_cidr_list_parse("10.0.0.0/8, 127.0.0.1 ,,fd00::/8", &l, &n, msg),
        PC_OK);
    assert_int_equal(n, 3);
    assert_int_equal(l[1].bits, 32);
    assert_int_equal(l[2].family, 6);
    pc_free(l);
    l = NULL;
    n = 99;
    assert_int_equal(http_cidr_list_parse("10.0.0.0/8,x", &l, &n, msg),
                     PC_EINVAL);
    assert_null(l);
    assert_int_equal(n, 99);
    assert_string_equal(msg, "\"x\" is not an address or network (expected "
                             "A.B.C.D/N, A.B.C.D, or an IPv6 one)");
    assert_int_equal(http_cidr_list_parse(" , ", &l, &n, msg), PC_EINVAL);
    assert_string_equal(msg, "empty list (expected CIDR networks separated "
                             "by commas)");

    struct test_oom o = { 0 };
    for (long k = 0;; k++) {
        test_oom_arm(&o, k, 1);
        int rc = http_cidr_list_parse("10.0.0.0/8,1.2.3.4", &l, &n, msg);
        if (test_oom_disarm(&o, rc == PC_OK)) {
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
    }
    test_oom_end(&o);
    assert_int_equal(n, 2);
    pc_free(l);
}

/* Membership by prefix, per family; /0 matches its whole family only. */
static void
test_proxy_cidr_match(void **state)
{
    struct http_cidr *l;
    size_t n;

    (void)state;
    assert_int_equal(http_cidr_list_parse("10.0.0.0/8,192.168.1.128/25,"
                                          "2001:db8::/32",
                                          &l, &n, NULL),
                     PC_OK);
    assert_true(http_cidr_match(l, n, "10.255.255.255"));
    assert_false(http_cidr_match(l, n, "11.0.0.0"));
    assert_true(http_cidr_match(l, n, "192.168.1.128"));
    assert_true(http_cidr_match(l, n, "192.168.1.255"));
    assert_false(http_cidr_match(l, n, "192.168.1.127"));
    assert_true(http_cidr_match(l, n, "2001:db8:ffff::1"));
    assert_false(http_cidr_match(l, n, "2001:db9::1"));
    assert_false(http_cidr_match(l, n, "::ffff:10.0.0.1"));
    assert_false(http_cidr_match(l, n, "not an address"));
    assert_false(http_cidr_match(l, n, ""));
    assert_false(http_cidr_match(l, n, NULL));
    pc_free(l);
    assert_int_equal(http_cidr_list_parse("0.0.0.0/0", &l, &n, NULL), PC_OK);
    assert_true(http_cidr_match(l, n, "8.8.8.8"));
    assert_false(http_cidr_match(l, n, "::1"));
    pc_free(l);
}

/* Which address is the client: a table of peers, header lines and the
 * trusted networks 127.0.0.0/8 and 10.0.0.0/8. */
static void
test_proxy_client_choice(void **state)
{
    static const struct {
        const char *peer;
        const char *xff[3]; /* header lines, NULL-terminated */
        const char *want;
        const char *why;
    } cases[] = {
        { "127.0.0.1", { NULL }, "127.0.0.1", "no header: the peer" },
        { "203.0.113.5",
          { "1.2.3.4", NULL },
          "203.0.113.5",
          "an untrusted peer's header is ignored" },
        { "127.0.0.1", { "1.2.3.4", NULL }, "1.2.3.4", "one hop" },
        { "127.0.0.1",
          { "9.9.9.9, 1.2.3.4", NULL },
          "1.2.3.4",
          "a client's own entry (left) is not believed" },
        { "127.0.0.1",
          { "9.9.9.9, 1.2.3.4, 10.0.0.2", NULL },
          "1.2.3.4",
          "through two trusted proxies" },
        { "127.0.0.1",
          { "10.0.0.5, 10.0.0.2", NULL },
          "10.0.0.5",
          "every hop trusted: the left-most" },
        { "127.0.0.1",
          { "evil, 10.0.0.2", NULL },
          "10.0.0.2",
          "garbage ends the walk at the last trusted hop" },
        { "127.0.0.1",
          { "evil", NULL },
          "127.0.0.1",
          "garbage right away: the peer" },
        { "127.0.0.1", { "1.2.3.4:5678", NULL }, "1.2.3.4", "with a port" },
        { "127.0.0.1",
          { "[2001:db8::1]:443", NULL },
          "2001:db8::1",
          "IPv6 in brackets with a port" },
        { "127.0.0.1",
          { "2001:DB8:0::1", NULL },
          "2001:db8::1",
          "IPv6, canonical form" },
        { "127.0.0.1",
          { "1.1.1.1", "2.2.2.2", NULL },
          "2.2.2.2",
          "several lines: the last line's right-most" },
        { "127.0.0.1",
          { "1.1.1.1", "10.0.0.3", NULL },
          "1.1.1.1",
          "several lines, walked right to left" },
        { "127.0.0.1",
          { " , ,1.2.3.4 ", NULL },
          "1.2.3.4",
          "empty entries and blanks" },
        { "127.0.0.1", { "", NULL }, "127.0.0.1", "an empty header" },
        { "127.0.0.1",
          { "[1.2.3.4]", NULL },
          "127.0.0.1",
          "an IPv4 address in brackets is not an entry" },
    };
    struct http_cidr *l;
    size_t n;

    (void)state;
    assert_int_equal(
        http_cidr_list_parse("127.0.0.0/8,10.0.0.0/8", &l, &n, NULL), PC_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64];
        size_t nx = 0;
        const char *got;

        while (cases[i].xff[nx] != NULL) {
            nx++;
        }
        got = http_client_addr(cases[i].peer, cases[i].xff, nx, l, n, buf,
                               sizeof(buf));
        if (strcmp(got, cases[i].want) != 0) {
            fail_msg("case %zu (%s): got %s, want %s", i, cases[i].why, got,
                     cases[i].want);
        }
    }
    /* No trusted networks: X-Forwarded-For is never read. */
    const char *xff[] = { "1.2.3.4" };
    char buf[64];
    assert_string_equal(
        http_client_addr("127.0.0.1", xff, 1, NULL, 0, buf, sizeof(buf)),
        "127.0.0.1");
    pc_free(l);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proxy_cidr_parse),
        cmocka_unit_test(test_proxy_cidr_list),
        cmocka_unit_test(test_proxy_cidr_match),
        cmocka_unit_test(test_proxy_client_choice),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
