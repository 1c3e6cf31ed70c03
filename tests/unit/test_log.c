/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for node/log.c: the text and JSON line formats byte for byte,
 * escaping (quotes, control bytes, invalid UTF-8) so that a line is always
 * one line and JSON always parses, levels, and log_write reaching stderr
 * as one line.
 */
#include "tests/lib/test.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "node/log.h"

/* The line for `fields` in `format` at time 0, node 7, info. */
static char *
line(enum log_format format, const char *event, const struct log_field *f,
     const char *msg)
{
    struct pc_buf b;
    char *s;

    pc_buf_init(&b);
    assert_int_equal(
        log_format_line(&b, format, 0, 7, LOG_LEVEL_INFO, event, f, msg),
        PC_OK);
    s = strndup((const char *)b.data, b.len);
    pc_buf_release(&b);
    return s;
}

/* Text: time, node, level, message, then event and key=value pairs; a
 * NULL string field is left out, a value that is not one word quoted. */
static void
test_log_text_format(void **state)
{
    char *s;

    (void)state;
    s = line(LOG_FORMAT_TEXT, "peer_lost",
             LOG_FIELDS(LOG_U64("peer", 3), LOG_STR("address", "n3:7003"),
                        LOG_STR("skipped", NULL), LOG_I64("delta", -5),
                        LOG_BOOL("ok", true), LOG_STR("who", "a b"),
                        LOG_STR("q", "x=\"y\"\\"), LOG_STR("empty", "")),
             "lost peer 3");
    assert_string_equal(s, "1970-01-01T00:00:00.000Z node=7 info: lost peer 3 "
                           "event=peer_lost peer=3 address=n3:7003 delta=-5 "
                           "ok=true who=\"a b\" q=\"x=\\\"y\\\"\\\\\" "
                           "empty=\"\"\n");
    free(s);
    /* Control bytes: the message keeps one line, values are escaped. */
    s = line(LOG_FORMAT_TEXT, NULL, LOG_FIELDS(LOG_STR("v", "a\nb\tc\x7f")),
             "two\nlines\r");
    assert_string_equal(s, "1970-01-01T00:00:00.000Z node=7 info: two lines  "
                           "v=\"a\\x0ab\\x09c\\x7f\"\n");
    free(s);
    s = line(LOG_FORMAT_TEXT, NULL, NULL, "plain");
    assert_string_equal(s, "1970-01-01T00:00:00.000Z node=7 info: plain\n");
    free(s);
}

/* JSON: one object per line with time, level, node, event, msg, then the
 * fields with their types; strings escaped, invalid UTF-8 as U+FFFD. */
static void
test_log_json_format(void **state)
{
    json_error_t err;
    json_t *o;
    char *s;

    (void)state;
    s = line(LOG_FORMAT_JSON, "snapshot_taken",
             LOG_FIELDS(LOG_U64("index", 42), LOG_I64("delta", -1),
                        LOG_BOOL("ok", false), LOG_STR("none", NULL),
                        LOG_STR("s", "q\"b\\n\n\x01 \xe4\xb8\xad")),
             "snapshot\ttaken");
    assert_string_equal(s, "{\"time\":\"1970-01-01T00:00:00.000Z\","
                           "\"level\":\"info\",\"node\":7,"
                           "\"event\":\"snapshot_taken\","
                           "\"msg\":\"snapshot\\ttaken\",\"index\":42,"
                           "\"delta\":-1,\"ok\":false,"
                           "\"s\":\"q\\\"b\\\\n\\n\\u0001 \xe4\xb8\xad\"}\n");
    o = json_loads(s, 0, &err);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "index")), 42);
    assert_string_equal(json_string_value(json_object_get(o, "s")),
                        "q\"b\\n\n\x01 \xe4\xb8\xad");
    json_decref(o);
    free(s);

    /* Bytes that are not UTF-8 (a lone continuation, a cut sequence, an
     * overlong form, a surrogate) each become U+FFFD: still valid JSON. */
    static const char *const bad[] = { "a\x80z",           "a\xe4\xb8",
                                       "\xc0\xaf",         "\xed\xa0\x80",
                                       "\xf5\x80\x80\x80", "\xff" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = line(LOG_FORMAT_JSON, NULL, LOG_FIELDS(LOG_STR("v", bad[i])), "m");
        o = json_loads(s, 0, &err);
        if (o == NULL) {
            fail_msg("case %zu: %s: %s", i, s, err.text);
        }
        assert_non_null(
            strstr(json_string_value(json_object_get(o, "v")), "\xef\xbf\xbd"));
        assert_null(json_object_get(o, "event"));
        json_decref(o);
        free(s);
    }
}

/* Out of memory leaves the buffer as it was and says so. */
static void
test_log_format_oom(void **state)
{
    struct test_oom o = { 0 };
    struct pc_buf b;
    int rc;

    (void)state;
    pc_buf_init(&b);
    assert_int_equal(pc_buf_put(&b, "x", 1), PC_OK);
    for (long k = 0;; k++) {
        test_oom_arm(&o, k, 1);
        rc = log_format_line(&b, LOG_FORMAT_JSON, 0, 1, LOG_LEVEL_WARN, "e",
                             LOG_FIELDS(LOG_STR("k", "a long enough value to "
                                                     "need the buffer to grow "
                                                     "more than once, surely")),
                             "a message");
        if (test_oom_disarm(&o, rc == PC_OK)) {
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
        assert_int_equal(b.len, 1);
    }
    test_oom_end(&o);
    assert_true(b.len > 1);
    pc_buf_release(&b);
}

/* Levels: a line is written at or above the level set, as one line on
 * stderr; below it nothing is. */
static void
test_log_levels_reach_stderr(void **state)
{
    char path[] = "/tmp/pc-test-log-XXXXXX", buf[512];
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    ssize_t n;

    (void)state;
    assert_true(fd >= 0 && saved >= 0);
    assert_string_equal(log_level_name(LOG_LEVEL_DEBUG), "debug");
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, 9);
    assert_true(log_on(LOG_LEVEL_INFO));
    assert_false(log_on(LOG_LEVEL_DEBUG));
    assert_null(log_raft_tracer()); /* raft formats nothing below debug */
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    log_write(LOG_LEVEL_DEBUG, "request", NULL, "not written");
    log_write(LOG_LEVEL_WARN, "disk_full",
              LOG_FIELDS(LOG_U64("free_bytes", 12)), "disk %s", "full");
    log_setup(LOG_LEVEL_DEBUG, LOG_FORMAT_JSON, 9);
    assert_non_null(log_raft_tracer());
    log_write(LOG_LEVEL_DEBUG, "request", NULL, "written");
    dup2(saved, STDERR_FILENO);
    close(saved);
    log_setup(LOG_LEVEL_WARN, LOG_FORMAT_TEXT, 0);
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_null(strstr(buf, "not written"));
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    *nl = '\0';
    assert_non_null(strstr(buf, " node=9 warn: disk full event=disk_full "
                                "free_bytes=12"));
    assert_non_null(strstr(nl + 1, "\"level\":\"debug\",\"node\":9,"
                                   "\"event\":\"request\",\"msg\":"
                                   "\"written\"}\n"));
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_text_format),
        cmocka_unit_test(test_log_json_format),
        cmocka_unit_test(test_log_format_oom),
        cmocka_unit_test(test_log_levels_reach_stderr),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
