/* SPDX-License-Identifier: MIT */
/* Unit tests for node/seclog: the security log's line format, its limit per
 * client address, rotation by size and reopening. */
#include "tests/lib/test.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "node/seclog.h"

struct fixture {
    char dir[64];
    char path[128];
    struct seclog *log;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/pc-seclog-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/security.log", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    seclog_close(f->log);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void
open_log(struct fixture *f, uint64_t max_bytes, unsigned keep,
         unsigned per_client)
{
    struct seclog_opts o = { f->path, 7, max_bytes, keep, per_client };
    char msg[PC_ERRMSG_SIZE];

    assert_int_equal(seclog_open(&o, &f->log, msg), PC_OK);
}

/* The lines of `path` (NULL if it does not exist), each checked to be one
 * JSON object with the five fields in order; `*n` gets their count. */
static json_t **
read_lines(const char *path, size_t *n)
{
    static const char *const keys[] = { "at", "node", "kind", "client",
                                        "detail" };
    json_t **out = NULL;
    char line[4096];
    FILE *fp = fopen(path, "r");

    *n = 0;
    if (fp == NULL) {
        return NULL;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        const char *k;
        json_t *v;
        size_t i = 0;

        if (o == NULL || line[strlen(line) - 1] != '\n') {
            fail_msg("%s: line %zu is not a JSON line: %s", path, *n + 1, line);
        }
        json_object_foreach(o, k, v)
        {
            assert_true(i < 5);
            assert_string_equal(k, keys[i++]);
        }
        assert_int_equal(i, 5);
        out = realloc(out, (*n + 1) * sizeof(*out));
        assert_non_null(out);
        out[(*n)++] = o;
    }
    fclose(fp);
    return out;
}

static void
free_lines(json_t **l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(l[i]);
    }
    free(l);
}

static const char *
field(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static off_t
file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* One event is one JSON line {"at","node","kind","client","detail"}. */
static void
test_seclog_line_format(void **state)
{
    struct fixture *f = *state;
    struct seclog_stats st;
    json_t **l;
    size_t n;

    open_log(f, 1 << 20, 3, 10);
    seclog_event(f->log, 0, "auth_failure", "10.0.0.1",
                 "unknown or revoked token");
    seclog_event(f->log, 0, "clock_skew", NULL, "ahead");
    l = read_lines(f->path, &n);
    assert_int_equal(n, 2);
    assert_int_equal(json_integer_value(json_object_get(l[0], "node")), 7);
    assert_string_equal(field(l[0], "kind"), "auth_failure");
    assert_string_equal(field(l[0], "client"), "10.0.0.1");
    assert_string_equal(field(l[0], "detail"), "unknown or revoked token");
    assert_int_equal(strlen(field(l[0], "at")), 24); /* RFC 3339, ms, Z */
    assert_string_equal(field(l[1], "client"), "");
    seclog_stats(f->log, &st);
    assert_int_equal(st.lines, 2);
    assert_int_equal(st.bytes, file_size(f->path));
    free_lines(l, n);
}

/* An address gets `per_client` lines a minute; the rest are counted and
 * summed up in one log_suppressed line once its minute is over, after
 * which it is logged again. Other addresses are not affected. */
static void
test_seclog_limits_each_address(void **state)
{
    struct fixture *f = *state;
    struct seclog_stats st;
    json_t **l;
    size_t n;

    open_log(f, 1 << 20, 3, 3);
    for (int i = 0; i < 10; i++) {
        seclog_event(f->log, 1000 + i, "auth_failure", "10.0.0.1", "x");
    }
    seclog_event(f->log, 2000, "auth_failure", "10.0.0.2", "y");
    seclog_event(f->log, 2000, "auth_failure", "10.0.0.2", "y");
    seclog_tick(f->log, 1000 + SECLOG_WINDOW_MS - 1);
    l = read_lines(f->path, &n);
    assert_int_equal(n, 5);
    free_lines(l, n);
    seclog_stats(f->log, &st);
    assert_int_equal(st.suppressed, 7);

    seclog_tick(f->log, 1000 + SECLOG_WINDOW_MS);
    l = read_lines(f->path, &n);
    assert_int_equal(n, 6);
    assert_string_equal(field(l[5], "kind"), "log_suppressed");
    assert_string_equal(field(l[5], "client"), "10.0.0.1");
    assert_non_null(strstr(field(l[5], "detail"), "7 more events"));
    free_lines(l, n);

    /* 10.0.0.2 had nothing suppressed: no summary when its minute ends. */
    seclog_tick(f->log, 2000 + SECLOG_WINDOW_MS);
    l = read_lines(f->path, &n);
    assert_int_equal(n, 6);
    free_lines(l, n);

    /* A new minute for 10.0.0.1. */
    for (int i = 0; i < 5; i++) {
        seclog_event(f->log, 70000, "rate_limited", "10.0.0.1", "z");
    }
    l = read_lines(f->path, &n);
    assert_int_equal(n, 9);
    free_lines(l, n);
    seclog_stats(f->log, &st);
    assert_int_equal(st.suppressed, 9);
    assert_int_equal(st.lines, 9);
}

/* Without a tick, the next event after the minute writes the summary
 * first; closing writes the summaries still pending. */
static void
test_seclog_summary_without_tick_and_at_close(void **state)
{
    struct fixture *f = *state;
    json_t **l;
    size_t n;

    open_log(f, 1 << 20, 3, 1);
    seclog_event(f->log, 0, "auth_failure", "a", "1");
    seclog_event(f->log, 1, "auth_failure", "a", "2");
    seclog_event(f->log, SECLOG_WINDOW_MS, "auth_failure", "a", "3");
    seclog_event(f->log, SECLOG_WINDOW_MS + 1, "auth_failure", "a", "4");
    seclog_event(f->log, SECLOG_WINDOW_MS + 2, "auth_failure", "a", "5");
    seclog_close(f->log);
    f->log = NULL;
    l = read_lines(f->path, &n);
    assert_int_equal(n, 4);
    assert_string_equal(field(l[0], "detail"), "1");
    assert_string_equal(field(l[1], "kind"), "log_suppressed");
    assert_non_null(strstr(field(l[1], "detail"), "1 more events"));
    assert_string_equal(field(l[2], "detail"), "3");
    assert_string_equal(field(l[3], "kind"), "log_suppressed");
    assert_non_null(strstr(field(l[3], "detail"), "2 more events"));
    free_lines(l, n);
}

/* Past SECLOG_MAX_CLIENTS addresses in a minute, the events of new ones
 * are left out and summed in one line with no address. */
static void
test_seclog_bounds_addresses(void **state)
{
    struct fixture *f = *state;
    struct seclog_stats st;
    char addr[32];
    json_t **l;
    size_t n;

    open_log(f, 64 << 20, 1, 5);
    for (int i = 0; i < SECLOG_MAX_CLIENTS + 10; i++) {
        snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
                 i & 255);
        seclog_event(f->log, i, "auth_failure", addr, "x");
    }
    seclog_stats(f->log, &st);
    assert_int_equal(st.lines, SECLOG_MAX_CLIENTS);
    assert_int_equal(st.suppressed, 10);
    seclog_tick(f->log, SECLOG_MAX_CLIENTS + SECLOG_WINDOW_MS);
    l = read_lines(f->path, &n);
    assert_int_equal(n, SECLOG_MAX_CLIENTS + 1);
    assert_string_equal(field(l[n - 1], "kind"), "log_suppressed");
    assert_string_equal(field(l[n - 1], "client"), "");
    assert_non_null(strstr(field(l[n - 1], "detail"), "10 events"));
    free_lines(l, n);
    /* Every address was forgotten: a new one is logged. */
    seclog_event(f->log, 2 * SECLOG_WINDOW_MS, "auth_failure", "1.2.3.4", "x");
    seclog_stats(f->log, &st);
    assert_int_equal(st.lines, SECLOG_MAX_CLIENTS + 2);
}

/* Rotation: security.log never passes max_bytes; .1 (newest) .. .keep
 * hold the lines before it, in order; nothing older is kept. */
static void
test_seclog_rotates_by_size(void **state)
{
    struct fixture *f = *state;
    char name[160], detail[32];
    struct seclog_stats st;
    long expect = -1;
    long first = -1;

    open_log(f, 4096, 2, 1000000);
    for (int i = 0; i < 1000; i++) {
        snprintf(detail, sizeof(detail), "%d", i);
        seclog_event(f->log, 0, "auth_failure", "10.0.0.1", detail);
    }
    seclog_stats(f->log, &st);
    assert_true(st.rotations > 10);
    assert_int_equal(st.errors, 0);
    snprintf(name, sizeof(name), "%s.3", f->path);
    assert_int_equal(file_size(name), -1);
    /* Oldest to newest: .2, .1, the log; consecutive, ending at 999. */
    for (int k = 2; k >= 0; k--) {
        json_t **l;
        size_t n;

        if (k > 0) {
            snprintf(name, sizeof(name), "%s.%d", f->path, k);
        } else {
            snprintf(name, sizeof(name), "%s", f->path);
        }
        assert_true(file_size(name) > 0 && file_size(name) <= 4096);
        l = read_lines(name, &n);
        for (size_t i = 0; i < n; i++) {
            long v = atol(field(l[i], "detail"));
            if (expect >= 0) {
                assert_int_equal(v, expect);
            } else {
                first = v;
            }
            expect = v + 1;
        }
        free_lines(l, n);
    }
    assert_int_equal(expect, 1000);
    assert_true(first > 0); /* the oldest were deleted */
    assert_int_equal(st.bytes, file_size(f->path));
}

/* keep = 0: the log starts over, nothing is kept. */
static void
test_seclog_keep_zero(void **state)
{
    struct fixture *f = *state;
    char name[160];

    open_log(f, 4096, 0, 1000000);
    for (int i = 0; i < 300; i++) {
        seclog_event(f->log, 0, "auth_failure", "10.0.0.1", "x");
    }
    assert_true(file_size(f->path) <= 4096);
    snprintf(name, sizeof(name), "%s.1", f->path);
    assert_int_equal(file_size(name), -1);
}

/* A rotation that fails loses the line (counted) rather than letting the
 * file grow past its bound. */
static void
test_seclog_failed_rotation_keeps_the_bound(void **state)
{
    struct fixture *f = *state;
    char name[160], inner[200];
    struct seclog_stats st;

    /* security.log.1 is a non-empty directory: the rename fails. */
    snprintf(name, sizeof(name), "%s.1", f->path);
    assert_int_equal(mkdir(name, 0700), 0);
    snprintf(inner, sizeof(inner), "%s/x", name);
    assert_int_equal(mkdir(inner, 0700), 0);
    open_log(f, 4096, 1, 1000000);
    for (int i = 0; i < 300; i++) {
        seclog_event(f->log, 0, "auth_failure", "10.0.0.1", "x");
    }
    seclog_stats(f->log, &st);
    assert_true(st.errors > 0);
    assert_true(st.lines > 0);
    assert_true(file_size(f->path) <= 4096);
    assert_int_equal(st.lines + st.errors, 300);
}

/* seclog_reopen: after the file was moved away, lines go to a new file of
 * the same name; the moved file keeps the old ones. */
static void
test_seclog_reopen(void **state)
{
    struct fixture *f = *state;
    char moved[160], msg[PC_ERRMSG_SIZE];
    json_t **l;
    size_t n;

    open_log(f, 1 << 20, 3, 100);
    seclog_event(f->log, 0, "auth_failure", "a", "old");
    snprintf(moved, sizeof(moved), "%s.moved", f->path);
    assert_int_equal(rename(f->path, moved), 0);
    assert_int_equal(seclog_reopen(f->log, msg), PC_OK);
    seclog_event(f->log, 0, "auth_failure", "a", "new");
    l = read_lines(f->path, &n);
    assert_int_equal(n, 1);
    assert_string_equal(field(l[0], "detail"), "new");
    free_lines(l, n);
    l = read_lines(moved, &n);
    assert_int_equal(n, 1);
    assert_string_equal(field(l[0], "detail"), "old");
    free_lines(l, n);
}

/* Open names the file it could not open; a reopen that fails leaves the
 * open file in use. */
static void
test_seclog_open_errors(void **state)
{
    struct fixture *f = *state;
    struct seclog_opts o = { "/nonexistent/dir/security.log", 1, 4096, 1, 1 };
    char msg[PC_ERRMSG_SIZE], away[80];
    struct seclog *s = NULL;
    json_t **l;
    size_t n;

    assert_int_equal(seclog_open(&o, &s, msg), PC_EIO);
    assert_null(s);
    assert_string_equal(msg, "open '/nonexistent/dir/security.log': No such "
                             "file or directory");

    open_log(f, 1 << 20, 3, 100);
    seclog_event(f->log, 0, "auth_failure", "a", "1");
    snprintf(away, sizeof(away), "%s.away", f->dir);
    assert_int_equal(rename(f->dir, away), 0);
    assert_int_equal(seclog_reopen(f->log, msg), PC_EIO);
    seclog_event(f->log, 0, "auth_failure", "a", "2");
    assert_int_equal(rename(away, f->dir), 0);
    l = read_lines(f->path, &n);
    assert_int_equal(n, 2);
    free_lines(l, n);
}

/* Long parts are cut at a UTF-8 boundary; bytes that are not UTF-8 still
 * make a line. */
static void
test_seclog_cuts_and_cleans(void **state)
{
    struct fixture *f = *state;
    char big[2002], bad[] = "bad \xff\xfe byte";
    json_t **l;
    size_t n;

    /* "x" and 1000 "é" of 2 bytes: cut at 512 bytes, the 256th "é" would
     * be cut in two, so "x" and 255 of them are kept. */
    big[0] = 'x';
    for (int i = 0; i < 1000; i++) {
        memcpy(big + 1 + 2 * i, "\xc3\xa9", 2);
    }
    big[2001] = '\0';
    open_log(f, 1 << 20, 3, 100);
    seclog_event(f->log, 0, "denied", "a", big);
    seclog_event(f->log, 0, "denied", "a", bad);
    l = read_lines(f->path, &n); /* jansson refuses lines that are not UTF-8 */
    assert_int_equal(n, 2);
    assert_int_equal(strlen(field(l[0], "detail")), 511);
    assert_string_equal(field(l[1], "detail"), "bad ?? byte");
    free_lines(l, n);
}

/* Out of memory in seclog_open: PC_ENOMEM, nothing left open. */
static void
test_seclog_open_survives_oom(void **state)
{
    struct fixture *f = *state;
    struct seclog_opts o = { f->path, 1, 4096, 1, 1 };
    char msg[PC_ERRMSG_SIZE];
    struct test_oom t = { 0 };
    struct seclog *s = NULL;

    for (long k = 0;; k++) {
        test_oom_arm(&t, k, 1);
        int rc = seclog_open(&o, &s, msg);
        if (test_oom_disarm(&t, rc == PC_OK)) {
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
        assert_null(s);
    }
    test_oom_end(&t);
    f->log = s;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seclog_line_format, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seclog_limits_each_address, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_seclog_summary_without_tick_and_at_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seclog_bounds_addresses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seclog_rotates_by_size, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seclog_keep_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_seclog_failed_rotation_keeps_the_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seclog_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seclog_open_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seclog_cuts_and_cleans, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seclog_open_survives_oom, setup,
                                        teardown),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
