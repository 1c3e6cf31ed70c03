/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/prom.c: histogram buckets (inclusive upper bounds
 * in seconds), the exposition text byte for byte (HELP/TYPE, escaping of
 * help and label values, cumulative buckets, _sum and _count), numbers
 * that read back exactly, and allocation failures.
 */
#include "tests/lib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/prom.h"

static char *
text(struct pc_buf *b)
{
    char *s = strndup((const char *)b->data, b->len);

    assert_non_null(s);
    return s;
}

/* An observation lands in the first bucket whose bound it does not
 * exceed (le is inclusive); the bounds double from 100 us. */
static void
test_prom_hist_buckets(void **state)
{
    struct pc_hist h;

    (void)state;
    memset(&h, 0, sizeof(h));
    assert_true(pc_hist_bound(0) == 0.0001);
    assert_true(pc_hist_bound(16) == 6.5536);
    pc_hist_observe_ns(&h, 0);
    pc_hist_observe_ns(&h, 100000);     /* exactly 100 us: bucket 0 */
    pc_hist_observe_ns(&h, 100001);     /* just over: bucket 1 */
    pc_hist_observe_ns(&h, 3000000);    /* 3 ms: <= 3.2 ms, bucket 5 */
    pc_hist_observe_ns(&h, 6553600000); /* 6.5536 s: the last bound */
    pc_hist_observe_ns(&h, 6553600001); /* beyond: +Inf */
    assert_int_equal(h.buckets[0], 2);
    assert_int_equal(h.buckets[1], 1);
    assert_int_equal(h.buckets[5], 1);
    assert_int_equal(h.buckets[16], 1);
    assert_int_equal(h.buckets[17], 1);
    assert_int_equal(h.count, 6);
    assert_true(h.sum_ns == 100000 + 100001 + 3000000 + 2 * 6553600000ull + 1);
}

/* A family's text: HELP escaped, TYPE, samples with and without labels. */
static void
test_prom_family_and_samples(void **state)
{
    struct pc_buf b, l;
    char *s;

    (void)state;
    pc_buf_init(&b);
    pc_buf_init(&l);
    assert_int_equal(pc_prom_family(&b, "provcat_x_total", "counter",
                                    "a \\ back\nslash and \"quotes\""),
                     PC_OK);
    assert_int_equal(
        pc_prom_u64(&b, "provcat_x_total", NULL, 18446744073709551615ull),
        PC_OK);
    assert_int_equal(pc_prom_label(&l, "route", "/v1/catalog/{id}"), PC_OK);
    assert_int_equal(pc_prom_label(&l, "v", "a\"b\\c\nd"), PC_OK);
    assert_int_equal(
        pc_prom_u64(&b, "provcat_x_total", (const char *)l.data, 3), PC_OK);
    assert_int_equal(pc_prom_i64(&b, "provcat_y", "", -4), PC_OK);
    assert_int_equal(pc_prom_f64(&b, "provcat_z_seconds", NULL, 0.05), PC_OK);
    assert_int_equal(pc_prom_f64(&b, "provcat_z_seconds", NULL, 1796610322.457),
                     PC_OK);
    assert_int_equal(pc_prom_f64(&b, "provcat_z_seconds", NULL, 1.0 / 3),
                     PC_OK);
    s = text(&b);
    assert_string_equal(
        s, "# HELP provcat_x_total a \\\\ back\\nslash and \"quotes\"\n"
           "# TYPE provcat_x_total counter\n"
           "provcat_x_total 18446744073709551615\n"
           "provcat_x_total{route=\"/v1/catalog/{id}\",v=\"a\\\"b\\\\c\\nd\"} "
           "3\n"
           "provcat_y -4\n"
           "provcat_z_seconds 0.05\n"
           "provcat_z_seconds 1796610322.457\n"
           "provcat_z_seconds 0.33333333333333331\n");
    /* 17 digits read back as the same double. */
    assert_true(strtod("0.33333333333333331", NULL) == 1.0 / 3);
    free(s);
    pc_buf_release(&b);
    pc_buf_release(&l);
}

/* A histogram's samples: cumulative buckets with le in seconds, then +Inf,
 * _sum in seconds and _count, with and without labels. */
static void
test_prom_hist_text(void **state)
{
    struct pc_hist h;
    struct pc_buf b;
    char *s, want[4096];
    size_t off = 0;
    static const char *const le[] = {
        "0.0001", "0.0002", "0.0004", "0.0008", "0.0016", "0.0032",
        "0.0064", "0.0128", "0.0256", "0.0512", "0.1024", "0.2048",
        "0.4096", "0.8192", "1.6384", "3.2768", "6.5536", "+Inf",
    };

    (void)state;
    memset(&h, 0, sizeof(h));
    pc_hist_observe_ns(&h, 50000);      /* 50 us */
    pc_hist_observe_ns(&h, 1500000);    /* 1.5 ms: le 0.0016 */
    pc_hist_observe_ns(&h, 9000000000); /* 9 s: +Inf */
    pc_buf_init(&b);
    assert_int_equal(pc_prom_hist(&b, "provcat_d_seconds",
                                  "family=\"orgs\",kind=\"write\"", &h),
                     PC_OK);
    for (size_t i = 0; i < 18; i++) {
        unsigned cum = 1 + (i >= 4) + (i == 17);
        off += (size_t)snprintf(want + off, sizeof(want) - off,
                                "provcat_d_seconds_bucket{family=\"orgs\","
                                "kind=\"write\",le=\"%s\"} %u\n",
                                le[i], cum);
    }
    snprintf(want + off, sizeof(want) - off,
             "provcat_d_seconds_sum{family=\"orgs\",kind=\"write\"} "
             "9.001550000\n"
             "provcat_d_seconds_count{family=\"orgs\",kind=\"write\"} 3\n");
    s = text(&b);
    assert_string_equal(s, want);
    free(s);
    b.len = 0;
    memset(&h, 0, sizeof(h));
    assert_int_equal(pc_prom_hist(&b, "provcat_e_seconds", NULL, &h), PC_OK);
    s = text(&b);
    assert_non_null(strstr(s, "provcat_e_seconds_bucket{le=\"0.0001\"} 0\n"));
    assert_non_null(strstr(s, "\nprovcat_e_seconds_sum 0.000000000\n"
                              "provcat_e_seconds_count 0\n"));
    free(s);
    pc_buf_release(&b);
}

/* Each writer fails cleanly when memory runs out (no crash, no leak). */
static void
test_prom_oom(void **state)
{
    struct test_oom o = { 0 };
    struct pc_hist h;
    struct pc_buf b, l;
    int rc;

    (void)state;
    memset(&h, 0, sizeof(h));
    pc_hist_observe_ns(&h, 1000);
    for (long k = 0;; k++) {
        pc_buf_init(&b);
        pc_buf_init(&l);
        test_oom_arm(&o, k, 1);
        rc = pc_prom_label(&l, "k", "value");
        rc = rc == PC_OK ? pc_prom_family(&b, "n", "histogram", "help") : rc;
        rc = rc == PC_OK ? pc_prom_hist(&b, "n", (const char *)l.data, &h) : rc;
        rc = rc == PC_OK ? pc_prom_f64(&b, "m", NULL, 2.5) : rc;
        bool ok = test_oom_disarm(&o, rc == PC_OK);
        if (!ok) {
            assert_int_equal(rc, PC_ENOMEM);
        }
        pc_buf_release(&b);
        pc_buf_release(&l);
        if (ok) {
            break;
        }
    }
    test_oom_end(&o);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prom_hist_buckets),
        cmocka_unit_test(test_prom_family_and_samples),
        cmocka_unit_test(test_prom_hist_text),
        cmocka_unit_test(test_prom_oom),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
