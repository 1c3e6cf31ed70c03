/* SPDX-License-Identifier: MIT */
/*
 * Preconditions hold for every value: the one rule for a version
 * (fsm_version_parse) over the boundary values, If-Match / If-None-Match
 * as the common handler takes them (api_precond_parse), a batch item's
 * "if_version" as the literal it was written as, and every value the edge
 * accepts honoured exactly by apply (409 unless it names the current
 * version), while JSON batches of older logs replay as they did.
 */
#include "tests/lib/fsmfx.h"
#include "tests/lib/test.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "node/api/api_int.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/idx.h"
#include "storage/led.h"

#define SALT_A  "00112233445566778899aabbccddeeff"
#define EXTRA_A "{\"salt\":\"" SALT_A "\"}"

/* The needs of the routes as the table declares them. */
#define PUT_NEEDS    (API_WRITE | API_TOKEN | API_IF_MATCH | API_IF_NONE_MATCH)
#define RETIRE_NEEDS (API_WRITE | API_TOKEN | API_IF_MATCH)
#define BATCH_NEEDS  (API_WRITE | API_TOKEN)
#define READ_NEEDS   (API_READ)

/* The boundary values of the issue, as text, and whether a version from 1
 * accepts them. */
static const struct {
    const char *text;
    bool ok;
    uint64_t value;
} boundary[] = {
    { "1", true, 1 },
    { "9007199254740991", true, 9007199254740991ULL }, /* 2^53 - 1 */
    { "9007199254740992", false, 0 },                  /* 2^53 */
    { "9007199254740993", false, 0 },
    { "9223372036854775807", false, 0 },  /* 2^63 - 1 */
    { "9223372036854775808", false, 0 },  /* 2^63 */
    { "9999999999999999999", false, 0 },  /* 19 digits */
    { "18446744073709551615", false, 0 }, /* 2^64 - 1 */
    { "18446744073709551616", false, 0 }, /* 2^64 */
    { "99999999999999999999", false, 0 }, /* 20 digits */
    { "0", false, 0 },
    { "00", false, 0 },
    { "01", false, 0 },
    { "0009", false, 0 },
    { "+1", false, 0 },
    { "-1", false, 0 },
    { "-0", false, 0 },
    { " 1", false, 0 },
    { "1 ", false, 0 },
    { "1 2", false, 0 },
    { "1.0", false, 0 },
    { "1e0", false, 0 },
    { "0x1", false, 0 },
    { "", false, 0 },
    { "\xd9\xa1", false, 0 }, /* ARABIC-INDIC DIGIT ONE */
};

#define N_BOUNDARY (sizeof(boundary) / sizeof(boundary[0]))

/* The one rule over every boundary value; 0 only where 0 is allowed. */
static void
test_precond_version_parse(void **state)
{
    uint64_t v;

    (void)state;
    for (size_t i = 0; i < N_BOUNDARY; i++) {
        v = 77;
        bool ok = fsm_version_parse(boundary[i].text, strlen(boundary[i].text),
                                    1, &v);
        if (ok != boundary[i].ok) {
            fail_msg("\"%s\": %s", boundary[i].text,
                     ok ? "accepted" : "refused");
        }
        assert_int_equal(v, ok ? boundary[i].value : 77);
    }
    assert_true(fsm_version_parse("0", 1, 0, &v));
    assert_int_equal(v, 0);
    assert_false(fsm_version_parse("00", 2, 0, &v));
    assert_false(fsm_version_parse("5", 1, 6, &v));
    /* `len` bounds the text: a digit past it is not read. */
    assert_true(fsm_version_parse("12", 1, 1, &v));
    assert_int_equal(v, 1);
}

/* A request to a route with these headers (name, value pairs). */
struct fake {
    struct http_request req;
    struct http_header h[4];
};

static struct http_request *
fake(struct fake *f, const char *n1, const char *v1, const char *n2,
     const char *v2)
{
    memset(f, 0, sizeof(*f));
    f->req.headers = f->h;
    f->h[f->req.n_headers++] = (struct http_header){ "Content-Type", "x" };
    if (n1 != NULL) {
        f->h[f->req.n_headers++] = (struct http_header){ n1, v1 };
    }
    if (n2 != NULL) {
        f->h[f->req.n_headers++] = (struct http_header){ n2, v2 };
    }
    return &f->req;
}

static bool
parse1(unsigned needs, const char *n1, const char *v1, const char *n2,
       const char *v2, struct api_precond *out, const char **field)
{
    struct fake f;
    const char *msg = NULL;
    bool ok;

    *field = NULL;
    ok = api_precond_parse(fake(&f, n1, v1, n2, v2), needs, out, field, &msg);
    if (!ok) {
        assert_non_null(*field);
        assert_non_null(msg);
        assert_true(strlen(msg) > 0);
    }
    return ok;
}

/* If-Match over every boundary value, quoted and bare, on each route. */
static void
test_precond_if_match_header(void **state)
{
    struct api_precond p;
    const char *field;
    char q[64];

    (void)state;
    for (size_t i = 0; i < N_BOUNDARY; i++) {
        snprintf(q, sizeof(q), "\"%s\"", boundary[i].text);
        for (int quoted = 0; quoted < 2; quoted++) {
            const char *v = quoted ? q : boundary[i].text;
            bool ok = parse1(PUT_NEEDS, "If-Match", v, NULL, NULL, &p, &field);

            if (ok != boundary[i].ok) {
                fail_msg("If-Match: %s: %s", v, ok ? "accepted" : "refused");
            }
            assert_int_equal(p.if_match, ok ? boundary[i].value : 0);
            if (!ok) {
                assert_string_equal(field, "If-Match");
            }
            /* retire and correct take it too; the batch never does */
            assert_true(parse1(RETIRE_NEEDS, "If-Match", v, NULL, NULL, &p,
                               &field) == boundary[i].ok);
            assert_false(
                parse1(BATCH_NEEDS, "If-Match", v, NULL, NULL, &p, &field));
            assert_string_equal(field, "If-Match");
            /* reads ignore it (a cache's conditional GET) */
            assert_true(
                parse1(READ_NEEDS, "If-Match", v, NULL, NULL, &p, &field));
            assert_int_equal(p.if_match, 0);
        }
    }
    /* other spellings of a version, and lists, are refused */
    static const char *const bad[] = { "W/\"1\"", "*",        "\"1\", \"2\"",
                                       "\"1",     "1\"",      "\"\"",
                                       "\"",      "\"\"1\"\"" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(
            parse1(PUT_NEEDS, "If-Match", bad[i], NULL, NULL, &p, &field));
    }
    /* the header name is case-insensitive, and it is taken once only */
    assert_true(parse1(PUT_NEEDS, "if-match", "\"3\"", NULL, NULL, &p, &field));
    assert_int_equal(p.if_match, 3);
    assert_false(parse1(PUT_NEEDS, "If-Match", "\"3\"", "IF-MATCH", "\"3\"", &p,
                        &field));
    assert_string_equal(field, "If-Match");
    assert_false(parse1(PUT_NEEDS, "If-Match", "\"3\"", "If-Match", "\"4\"", &p,
                        &field));
    /* none at all: nothing asked */
    assert_true(parse1(PUT_NEEDS, NULL, NULL, NULL, NULL, &p, &field));
    assert_int_equal(p.if_match, 0);
    assert_false(p.if_none_match);
}

/* If-None-Match: * where the route takes it; If-Unmodified-Since never. */
static void
test_precond_other_headers(void **state)
{
    struct api_precond p;
    const char *field;

    (void)state;
    assert_true(
        parse1(PUT_NEEDS, "If-None-Match", "*", NULL, NULL, &p, &field));
    assert_true(p.if_none_match);
    assert_false(
        parse1(RETIRE_NEEDS, "If-None-Match", "*", NULL, NULL, &p, &field));
    assert_string_equal(field, "If-None-Match");
    assert_false(
        parse1(BATCH_NEEDS, "If-None-Match", "*", NULL, NULL, &p, &field));
    assert_false(
        parse1(PUT_NEEDS, "If-None-Match", "\"1\"", NULL, NULL, &p, &field));
    assert_false(parse1(PUT_NEEDS, "If-None-Match", "*", "If-None-Match", "*",
                        &p, &field));
    assert_false(parse1(PUT_NEEDS, "If-None-Match", "*", "If-Match", "\"1\"",
                        &p, &field));
    assert_false(parse1(PUT_NEEDS, "If-Unmodified-Since",
                        "Tue, 01 Jan 2030 00:00:00 GMT", NULL, NULL, &p,
                        &field));
    assert_string_equal(field, "If-Unmodified-Since");
    assert_true(parse1(READ_NEEDS, "If-None-Match", "\"1\"",
                       "If-Unmodified-Since", "x", &p, &field));
}

/* A batch body with one record whose "if_version" is written `lit`. */
static int
batch_with(const char *lit, struct fsm_batch *b, char *field)
{
    char body[256], msg[200];
    long index;

    snprintf(body, sizeof(body),
             "{\"records\":[{\"key\":\"a\",\"value\":{},\"if_version\":%s}]}",
             lit);
    return fsm_batch_parse(body, strlen(body), b, msg, field, &index);
}

/* "if_version" is taken as the literal it was written as, from 0. */
static void
test_precond_batch_if_version(void **state)
{
    char field[FSM_FIELD_LEN];
    struct fsm_batch b;

    (void)state;
    for (size_t i = 0; i < N_BOUNDARY; i++) {
        int rc = batch_with(boundary[i].text, &b, field);
        /* 0 is a version here ("the key must not exist"), and JSON's
         * whitespace is around a literal, not in it */
        bool zero = strcmp(boundary[i].text, "0") == 0;
        bool spaced = strcmp(boundary[i].text, " 1") == 0 ||
                      strcmp(boundary[i].text, "1 ") == 0;

        if (rc == PC_OK) {
            if (!boundary[i].ok && !zero && !spaced) {
                fail_msg("if_version %s accepted", boundary[i].text);
            }
            assert_int_equal(b.items[0].if_version,
                             spaced ? 1 : boundary[i].value);
            fsm_batch_release(&b);
        } else if (boundary[i].ok || zero || spaced) {
            fail_msg("if_version %s refused", boundary[i].text);
        } else {
            /* refused as a version, or as JSON ("01", "+1", "0x1") */
            assert_int_equal(rc, PC_EINVAL);
        }
    }
    /* JSON's whitespace is around the literal, not in it */
    assert_int_equal(batch_with(" 7 ", &b, field), PC_OK);
    assert_int_equal(b.items[0].if_version, 7);
    fsm_batch_release(&b);
    /* what a double would round, or a non-number, is refused */
    static const char *const bad[] = { "9007199254740990.6",
                                       "1.0000000000000001",
                                       "2E0",
                                       "0.0",
                                       "1e-0",
                                       "\"1\"",
                                       "null",
                                       "true",
                                       "[1]",
                                       "{}",
                                       "-1",
                                       "-0" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (batch_with(bad[i], &b, field) != PC_EINVAL) {
            fail_msg("if_version %s accepted", bad[i]);
        }
        assert_string_equal(field, "if_version");
    }
}

static struct fsm_result
run(struct fsmfx *fx, uint32_t type, const char *who, const char *target,
    const char *body, const char *extra)
{
    return fsmfx_run(fx, type, who, target, body, extra, NULL);
}

#define ENTRY_DOC                                                          \
    "{\"id\":\"e\",\"title\":\"e\",\"description\":\"d\",\"provider\":"    \
    "\"dept\",\"theme\":\"t\",\"keywords\":[],\"fields\":[{\"name\":"      \
    "\"name\",\"type\":\"string\",\"required\":true}],\"share\":{"         \
    "\"class\":\"unconditional\"},\"open\":{\"class\":\"unconditional\"}," \
    "\"update_frequency\":\"daily\",\"security_level\":2,\"scope\":"       \
    "\"province\"}"

/* dept, its provider prov, entry "e" published (version 3), record e/a
 * at version 1. */
static int
setup(void **state)
{
    struct fsmfx *fx = fsmfx_new("admin", 1000);

    fsmfx_org(fx, "dept", "authority", "province", false);
    fsmfx_principal(fx, "prov", "dept", "\"provider\"");
    fsmfx_create_entry(fx, "prov", ENTRY_DOC);
    fsmfx_publish(fx, "prov", "admin", "e");
    assert_int_equal(
        run(fx, CMD_RECORD_PUT, "prov", "e/a", "{\"name\":\"1\"}", EXTRA_A)
            .status,
        201);
    *state = fx;
    return 0;
}

static uint64_t
version_of(struct fsmfx *fx, const char *key)
{
    struct idx_key k = { FACT_RECORD, PC_SLICE_STR("e"), PC_SLICE_STR(key) };
    uint64_t rev;

    return idx_latest(led_idx(fsm_led(fx->f)), &k, &rev);
}

/* The extra the leader makes for If-Match `header` (NULL: refused at the
 * edge), as records.c does. */
static char *
leader_extra(const char *header, unsigned needs, bool salted)
{
    struct api_precond p;
    const char *field;
    json_t *x;
    char *s;

    if (!parse1(needs, "If-Match", header, NULL, NULL, &p, &field)) {
        return NULL;
    }
    x = json_object();
    assert_int_equal(api_precond_extra(x, &p), 0);
    if (salted) {
        json_object_set_new(x, "salt", json_string(SALT_A));
    }
    s = json_dumps(x, JSON_COMPACT);
    json_decref(x);
    return s;
}

/*
 * Every If-Match the edge accepts reaches apply exactly: PUT, retire,
 * correct and the catalog PUT answer 409 for any version but the current
 * one, and succeed for it; nothing the edge refused is proposed.
 */
static void
test_precond_honoured_in_apply(void **state)
{
    struct fsmfx *fx = *state;
    char q[64];

    for (size_t i = 0; i < N_BOUNDARY; i++) {
        snprintf(q, sizeof(q), "\"%s\"", boundary[i].text);
        char *put = leader_extra(q, PUT_NEEDS, true);
        char *ret = leader_extra(q, RETIRE_NEEDS, false);
        char *cat = leader_extra(q, API_WRITE | API_IF_MATCH, false);
        uint64_t before = led_count(fsm_led(fx->f)), cur = version_of(fx, "a");

        assert_true((put != NULL) == boundary[i].ok);
        if (put == NULL) {
            assert_null(ret);
            assert_null(cat);
            continue;
        }
        /* the record is at version 1, the entry at 3: only 1 and 3 match */
        struct fsm_result r =
            run(fx, CMD_RECORD_PUT, "prov", "e/a", "{\"name\":\"x\"}", put);
        assert_int_equal(r.status, boundary[i].value == cur ? 200 : 409);
        if (r.status == 409) {
            assert_string_equal(r.code, "conflict");
            r = run(fx, CMD_RECORD_RETIRE, "prov", "e/a", "{\"reason\":\"r\"}",
                    ret);
            assert_int_equal(r.status, 409);
            r = run(fx, CMD_RECORD_CORRECT, "prov", "e/a",
                    "{\"value\":{\"name\":\"y\"},\"reason\":\"r\"}", put);
            assert_int_equal(r.status, 409);
            r = run(fx, CMD_ENTRY_UPDATE, "prov", "e", ENTRY_DOC, cat);
            assert_int_equal(r.status, 409);
            /* four rejection facts, no version */
            assert_int_equal(led_count(fsm_led(fx->f)), before + 4);
            assert_int_equal(version_of(fx, "a"), cur);
        }
        free(put);
        free(ret);
        free(cat);
        assert_int_equal(version_of(fx, "a"),
                         boundary[i].value == cur ? cur + 1 : cur);
    }
}

/* A batch "if_version" the edge accepts is applied exactly too. */
static void
test_precond_batch_honoured(void **state)
{
    struct fsmfx *fx = *state;
    char body[256], msg[200], field[FSM_FIELD_LEN];
    uint8_t salts[PC_SALT_LEN] = { 0 };
    struct fsm_batch b;
    struct pc_buf prep;
    long index;

    for (size_t i = 0; i < N_BOUNDARY; i++) {
        snprintf(body, sizeof(body),
                 "{\"records\":[{\"key\":\"a\",\"value\":{\"name\":\"b\"},"
                 "\"if_version\":%s}]}",
                 boundary[i].text);
        if (fsm_batch_parse(body, strlen(body), &b, msg, field, &index) !=
            PC_OK) {
            continue;
        }
        uint64_t cur = version_of(fx, "a");
        pc_buf_init(&prep);
        assert_int_equal(fsm_batch_prepare(fx->f, "e", &b, salts, &prep),
                         PC_OK);
        fsm_batch_release(&b);
        struct fsm_result r = fsmfx_run_len(fx, CMD_RECORD_BATCH2, "prov", "e",
                                            prep.data, prep.len, NULL, NULL);
        pc_buf_release(&prep);
        assert_int_equal(r.status, boundary[i].value == cur ? 200 : 409);
        assert_int_equal(version_of(fx, "a"),
                         boundary[i].value == cur ? cur + 1 : cur);
    }
}

/* A prepared batch naming a version past FSM_VERSION_MAX is malformed. */
static void
test_precond_prepared_out_of_range(void **state)
{
    struct fsmfx *fx = *state;
    uint8_t salt[PC_SALT_LEN] = { 0 };
    struct pc_buf p;

    for (int over = 0; over < 2; over++) {
        pc_buf_init(&p);
        assert_int_equal(pc_buf_put_u8(&p, 1), PC_OK); /* format */
        assert_int_equal(pc_buf_put_uvarint(&p, 0), PC_OK);
        assert_int_equal(pc_buf_put_u8(&p, 0), PC_OK);
        assert_int_equal(pc_buf_put_uvarint(&p, 1), PC_OK);
        assert_int_equal(pc_buf_put_lp(&p, "a", 1), PC_OK);
        assert_int_equal(
            pc_buf_put_svarint(&p, (int64_t)FSM_VERSION_MAX + over), PC_OK);
        assert_int_equal(pc_buf_put(&p, salt, sizeof(salt)), PC_OK);
        assert_int_equal(pc_buf_put_lp(&p, "{\"name\":\"z\"}", 12), PC_OK);
        struct fsm_result r = fsmfx_run_len(fx, CMD_RECORD_BATCH2, "prov", "e",
                                            p.data, p.len, NULL, NULL);
        pc_buf_release(&p);
        assert_int_equal(r.status, over ? 400 : 409);
    }
}

/*
 * JSON batches (CMD_RECORD_BATCH, in logs written before the prepared
 * form) replay by the rule they were proposed under: "if_version": 1.0
 * still names version 1, so a replica rebuilt from an old log appends what
 * the others did.
 */
static void
test_precond_legacy_batch_replays(void **state)
{
    struct fsmfx *fx = *state;
    struct fsm_result r;

    r = run(fx, CMD_RECORD_BATCH, "prov", "e",
            "{\"records\":[{\"key\":\"a\",\"value\":{\"name\":\"l\"},"
            "\"if_version\":1.0},{\"key\":\"n\",\"value\":{\"name\":\"l\"},"
            "\"if_version\":-0}]}",
            "{\"salts\":\"" SALT_A SALT_A "\"}");
    assert_int_equal(r.status, 200);
    assert_int_equal(version_of(fx, "a"), 2);
    assert_int_equal(version_of(fx, "n"), 1);
    r = run(fx, CMD_RECORD_BATCH, "prov", "e",
            "{\"records\":[{\"key\":\"a\",\"value\":{\"name\":\"m\"},"
            "\"if_version\":1e0}]}",
            "{\"salts\":\"" SALT_A "\"}");
    assert_int_equal(r.status, 409);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precond_version_parse),
        cmocka_unit_test(test_precond_if_match_header),
        cmocka_unit_test(test_precond_other_headers),
        cmocka_unit_test(test_precond_batch_if_version),
        cmocka_unit_test_setup_teardown(test_precond_honoured_in_apply, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_precond_batch_honoured, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_precond_prepared_out_of_range,
                                        setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_precond_legacy_batch_replays,
                                        setup, fsmfx_teardown),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
