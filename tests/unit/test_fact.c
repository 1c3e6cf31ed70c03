/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for storage/fact.c: the kind table, the canonical encoding
 * (round trips, byte-exact re-encoding, every malformed-input class) and the
 * worked example written down in docs/format.md.
 */
#include "tests/lib/test.h"

#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "storage/fact.h"

/* Backing storage for the slices of a generated fact. */
struct gen {
    struct fact f;
    uint8_t ids[5][FACT_MAX_ID];
    uint8_t payload[4096];
};

static size_t
rand_len(uint64_t *rs, size_t max)
{
    /* Mostly short fields, sometimes at or near the limit. */
    switch (test_rand(rs) % 8) {
    case 0:
        return 0;
    case 1:
        return max;
    case 2:
        return (size_t)(test_rand(rs) % (max + 1));
    default:
        return (size_t)(test_rand(rs) % (max < 40 ? max + 1 : 40));
    }
}

static uint64_t
rand_u64(uint64_t *rs)
{
    /* Spread over every varint width. */
    unsigned bits = (unsigned)(test_rand(rs) % 64) + 1;
    uint64_t v = test_rand(rs);

    return bits == 64 ? v : v & (((uint64_t)1 << bits) - 1);
}

static void
gen_fact(struct gen *g, uint64_t *rs)
{
    struct pc_slice *ids[5] = { &g->f.principal, &g->f.request_id,
                                &g->f.idem_key, &g->f.parent, &g->f.id };

    memset(&g->f, 0, sizeof(g->f));
    g->f.format = FACT_FORMAT_VERSION;
    do { /* codes are appended in blocks: skip the gaps between them */
        g->f.kind = 1 + (uint32_t)(test_rand(rs) % (FACT_KIND_MAX - 1));
    } while (!fact_kind_known(g->f.kind));
    g->f.revision = rand_u64(rs) | 1;
    g->f.time_ms = (int64_t)(rand_u64(rs) >> 1);
    for (int i = 0; i < 5; i++) {
        size_t n = rand_len(rs, FACT_MAX_ID);

        for (size_t j = 0; j < n; j++) {
            g->ids[i][j] = (uint8_t)test_rand(rs);
        }
        ids[i]->p = g->ids[i];
        ids[i]->len = n;
    }
    if (fact_kind_versioned(g->f.kind)) {
        g->f.version = test_rand(rs) % 3 == 0 ? 1 : rand_u64(rs) | 1;
        g->f.has_prev = g->f.version > 1;
        for (int j = 0; j < PC_HASH_LEN && g->f.has_prev; j++) {
            g->f.prev_hash[j] = (uint8_t)test_rand(rs);
        }
    }
    g->f.has_content = test_rand(rs) % 2;
    for (int j = 0; j < PC_HASH_LEN && g->f.has_content; j++) {
        g->f.content_hash[j] = (uint8_t)test_rand(rs);
    }
    g->f.payload.len = rand_len(rs, sizeof(g->payload));
    for (size_t j = 0; j < g->f.payload.len; j++) {
        g->payload[j] = (uint8_t)test_rand(rs);
    }
    g->f.payload.p = g->payload;
}

static bool
slice_eq(struct pc_slice a, struct pc_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static bool
fact_eq(const struct fact *a, const struct fact *b)
{
    return a->format == b->format && a->kind == b->kind &&
           a->revision == b->revision && a->time_ms == b->time_ms &&
           slice_eq(a->principal, b->principal) &&
           slice_eq(a->request_id, b->request_id) &&
           slice_eq(a->idem_key, b->idem_key) &&
           slice_eq(a->parent, b->parent) && slice_eq(a->id, b->id) &&
           a->version == b->version && a->has_prev == b->has_prev &&
           (!a->has_prev ||
            memcmp(a->prev_hash, b->prev_hash, PC_HASH_LEN) == 0) &&
           a->has_content == b->has_content &&
           (!a->has_content ||
            memcmp(a->content_hash, b->content_hash, PC_HASH_LEN) == 0) &&
           slice_eq(a->payload, b->payload);
}

/* A small valid record fact (version 2, with content) to break by hand. */
static void
base_fact(struct fact *f)
{
    memset(f, 0, sizeof(*f));
    f->format = FACT_FORMAT_VERSION;
    f->kind = FACT_RECORD;
    f->revision = 42;
    f->time_ms = 1795000000123;
    f->principal = (struct pc_slice){ (const uint8_t *)"alice", 5 };
    f->request_id = (struct pc_slice){ (const uint8_t *)"req-7", 5 };
    f->parent = (struct pc_slice){ (const uint8_t *)"e1", 2 };
    f->id = (struct pc_slice){ (const uint8_t *)"k1", 2 };
    f->version = 2;
    f->has_prev = true;
    memset(f->prev_hash, 0x11, PC_HASH_LEN);
    f->has_content = true;
    memset(f->content_hash, 0x22, PC_HASH_LEN);
    f->payload =
        (struct pc_slice){ (const uint8_t *)"{\"op\":\"update\"}", 15 };
}

/* Every kind of the map has its lower-case name and versioned flag. */
static void
test_fact_kind_table(void **state)
{
    (void)state;
#define CHECK_KIND(code, name, versioned)                         \
    assert_non_null(fact_kind_name(code));                        \
    assert_int_equal(strcasecmp(fact_kind_name(code), #name), 0); \
    assert_int_equal(fact_kind_known(code), true);                \
    assert_int_equal(fact_kind_versioned(code), versioned);
    FACT_KIND_MAP(CHECK_KIND)
#undef CHECK_KIND
    assert_string_equal(fact_kind_name(FACT_RECORD), "record");
    assert_null(fact_kind_name(0));
    assert_null(fact_kind_name(FACT_KIND_MAX));
    assert_false(fact_kind_known(0));
    assert_false(fact_kind_known(1000));
    assert_false(fact_kind_versioned(FACT_KIND_MAX));
}

/* Random facts (every field) survive encode/decode and re-encode exactly. */
static void
test_fact_roundtrip_random(void **state)
{
    (void)state;
    uint64_t seed = test_seed(), rs = seed;
    struct gen *g = pc_malloc(sizeof(*g));
    struct pc_buf b, b2;
    struct fact d;
    char msg[PC_ERRMSG_SIZE];

    assert_non_null(g);
    pc_buf_init(&b);
    pc_buf_init(&b2);
    for (int i = 0; i < 2000; i++) {
        gen_fact(g, &rs);
        b.len = 0;
        b2.len = 0;
        size_t len;
        if (fact_encode(&g->f, &b, msg) != PC_OK ||
            fact_encoded_len(&g->f, &len, msg) != PC_OK || len != b.len ||
            fact_decode(b.data, b.len, &d, msg) != PC_OK ||
            !fact_eq(&g->f, &d) || fact_encode(&d, &b2, msg) != PC_OK ||
            b2.len != b.len || memcmp(b.data, b2.data, b.len) != 0) {
            test_seed_note(__func__, seed);
            fail_msg("fact %d: %s", i, msg);
        }
    }
    pc_buf_release(&b);
    pc_buf_release(&b2);
    pc_free(g);
}

/* Encoding appends after existing bytes and fact_encode_to agrees; its
 * stored view is what decoding the copy gives, borrowing from the copy. */
static void
test_fact_encode_appends(void **state)
{
    (void)state;
    struct fact f, d, v, rd;
    struct pc_buf b;
    uint8_t raw[512];
    size_t len;

    base_fact(&f);
    pc_buf_init(&b);
    assert_int_equal(pc_buf_put(&b, "xyz", 3), PC_OK);
    assert_int_equal(fact_encode(&f, &b, NULL), PC_OK);
    assert_int_equal(fact_encoded_len(&f, &len, NULL), PC_OK);
    assert_int_equal(b.len, 3 + len);
    assert_memory_equal(b.data, "xyz", 3);
    fact_encode_to(&f, raw, len, &v);
    assert_memory_equal(raw, b.data + 3, len);
    assert_int_equal(fact_decode(raw, len, &rd, NULL), PC_OK);
    assert_true(fact_eq(&v, &rd));
    assert_ptr_equal(v.principal.p, rd.principal.p);
    assert_ptr_equal(v.request_id.p, rd.request_id.p);
    assert_ptr_equal(v.idem_key.p, rd.idem_key.p);
    assert_ptr_equal(v.parent.p, rd.parent.p);
    assert_ptr_equal(v.id.p, rd.id.p);
    assert_ptr_equal(v.payload.p, rd.payload.p);
    assert_int_equal(fact_decode(b.data + 3, len, &d, NULL), PC_OK);
    assert_true(fact_eq(&f, &d));
    pc_buf_release(&b);
}

/* Break rule `i` of the cases in test_fact_encode_refuses. */
static void
break_fact(struct fact *x, size_t i, const uint8_t *big)
{
    struct pc_slice *ids[5] = { &x->principal, &x->request_id, &x->idem_key,
                                &x->parent, &x->id };

    switch (i) {
    case 0:
        x->format = 2;
        break;
    case 1:
        x->kind = 0;
        break;
    case 2:
        x->kind = FACT_KIND_MAX;
        break;
    case 3:
        x->revision = 0;
        break;
    case 4:
        x->time_ms = -1;
        break;
    case 5:
        x->version = 0;
        x->has_prev = false;
        break;
    case 6:
        x->kind = FACT_TICK;
        x->version = 1;
        x->has_prev = false;
        break;
    case 7:
        x->has_prev = false;
        break;
    case 8:
        x->version = 1;
        break;
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
        ids[i - 9]->p = big;
        ids[i - 9]->len = FACT_MAX_ID + 1;
        break;
    default:
        x->payload.p = big;
        x->payload.len = FACT_MAX_PAYLOAD + 1;
        break;
    }
}

/* Encoding refuses every rule break with the field named, output intact. */
static void
test_fact_encode_refuses(void **state)
{
    (void)state;
    static uint8_t big[FACT_MAX_PAYLOAD + 1];
    struct fact f;
    struct pc_buf b;
    char msg[PC_ERRMSG_SIZE];
    static const char *const want[] = {
        "unknown format version 2 at field \"format\"",
        "unknown kind 0 at field \"kind\"",
        "unknown kind 18 at field \"kind\"",
        "revision 0 at field \"revision\"",
        "negative time -1 at field \"time_ms\"",
        "version 0 of versioned kind record at field \"version\"",
        "version 1 of unversioned kind tick at field \"version\"",
        "prev_hash missing for version 2 at field \"prev_hash\"",
        "prev_hash present for version 1 at field \"prev_hash\"",
        "513 bytes over the limit of 512 at field \"principal\"",
        "513 bytes over the limit of 512 at field \"request_id\"",
        "513 bytes over the limit of 512 at field \"idem_key\"",
        "513 bytes over the limit of 512 at field \"parent\"",
        "513 bytes over the limit of 512 at field \"id\"",
        "1048577 bytes over the limit of 1048576 at field \"payload\"",
    };

    pc_buf_init(&b);
    assert_int_equal(pc_buf_put(&b, "ab", 2), PC_OK);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        base_fact(&f);
        break_fact(&f, i, big);
        msg[0] = '\0';
        assert_int_equal(fact_encode(&f, &b, msg), PC_EINVAL);
        if (strncmp(msg, "fact: ", 6) != 0 || strcmp(msg + 6, want[i]) != 0) {
            fail_msg("case %zu: got \"%s\", want \"fact: %s\"", i, msg,
                     want[i]);
        }
        assert_int_equal(b.len, 2);
    }
    /* The limits themselves are fine. */
    base_fact(&f);
    f.principal.p = big;
    f.principal.len = FACT_MAX_ID;
    f.payload.p = big;
    f.payload.len = FACT_MAX_PAYLOAD;
    assert_int_equal(fact_encode(&f, &b, msg), PC_OK);
    pc_buf_release(&b);
}

/* An allocation failure while encoding is PC_ENOMEM with `out` unchanged. */
static void
test_fact_encode_oom(void **state)
{
    (void)state;
    struct fact f;
    struct pc_buf b;

    base_fact(&f);
    pc_buf_init(&b);
    pc_alloc_fault(0, 1);
    assert_int_equal(fact_encode(&f, &b, NULL), PC_ENOMEM);
    pc_alloc_fault_off();
    assert_int_equal(b.len, 0);
    assert_int_equal(fact_encode(&f, &b, NULL), PC_OK);
    pc_buf_release(&b);
}

/* Every proper prefix of valid encodings fails to decode, naming "truncated".
 */
static void
test_fact_decode_truncation(void **state)
{
    (void)state;
    uint64_t seed = test_seed(), rs = seed;
    struct gen *g = pc_malloc(sizeof(*g));
    struct pc_buf b;
    struct fact d;
    char msg[PC_ERRMSG_SIZE];

    assert_non_null(g);
    pc_buf_init(&b);
    for (int i = 0; i < 20; i++) {
        b.len = 0;
        if (i == 0) {
            base_fact(&g->f);
        } else {
            gen_fact(g, &rs);
        }
        assert_int_equal(fact_encode(&g->f, &b, NULL), PC_OK);
        for (size_t n = 0; n < b.len; n++) {
            memset(&d, 0xee, sizeof(d));
            struct fact before = d;
            if (fact_decode(b.data, n, &d, msg) != PC_ECORRUPT ||
                strstr(msg, "fact: truncated at field \"") == NULL ||
                memcmp(&before, &d, sizeof(d)) != 0) {
                test_seed_note(__func__, seed);
                fail_msg("fact %d prefix %zu of %zu: %s", i, n, b.len, msg);
            }
        }
    }
    pc_buf_release(&b);
    pc_free(g);
}

/*
 * Every single-byte change either fails to decode or yields another fact
 * whose encoding is exactly the changed bytes (one encoding per fact).
 */
static void
test_fact_decode_byte_flips(void **state)
{
    (void)state;
    uint64_t seed = test_seed(), rs = seed;
    struct gen *g = pc_malloc(sizeof(*g));
    struct pc_buf b, b2;
    struct fact d;
    unsigned decoded = 0, refused = 0;

    assert_non_null(g);
    pc_buf_init(&b);
    pc_buf_init(&b2);
    for (int i = 0; i < 8; i++) {
        b.len = 0;
        if (i == 0) {
            base_fact(&g->f);
        } else {
            gen_fact(g, &rs);
            /* Keep the random payload short: the loop is per byte. */
            g->f.payload.len %= 64;
        }
        assert_int_equal(fact_encode(&g->f, &b, NULL), PC_OK);
        for (size_t pos = 0; pos < b.len; pos++) {
            uint8_t keep = b.data[pos];
            for (unsigned x = 1; x < 256; x++) {
                b.data[pos] = (uint8_t)(keep ^ x);
                if (fact_decode(b.data, b.len, &d, NULL) != PC_OK) {
                    refused++;
                    continue;
                }
                decoded++;
                b2.len = 0;
                if (fact_eq(&d, &g->f) || fact_encode(&d, &b2, NULL) != PC_OK ||
                    b2.len != b.len || memcmp(b2.data, b.data, b.len) != 0) {
                    test_seed_note(__func__, seed);
                    fail_msg("fact %d byte %zu ^ 0x%02x", i, pos, x);
                }
            }
            b.data[pos] = keep;
        }
    }
    /* Both outcomes occur (ids and payloads take any byte; kinds don't). */
    assert_true(decoded > 0 && refused > 0);
    pc_buf_release(&b);
    pc_buf_release(&b2);
    pc_free(g);
}

/* Hand-made malformed inputs are refused, each with its field named. */
static void
test_fact_decode_malformed(void **state)
{
    (void)state;
    struct fact f, d;
    struct pc_buf b;
    char msg[PC_ERRMSG_SIZE];
    uint8_t x[64];
    size_t n;

    /* Trailing bytes. */
    base_fact(&f);
    pc_buf_init(&b);
    assert_int_equal(fact_encode(&f, &b, NULL), PC_OK);
    assert_int_equal(pc_buf_put_u8(&b, 0), PC_OK);
    assert_int_equal(fact_decode(b.data, b.len, &d, msg), PC_ECORRUPT);
    assert_string_equal(msg, "fact: 1 trailing bytes after field \"payload\"");
    pc_buf_release(&b);

#define DECODE_FAILS(want)                                         \
    do {                                                           \
        msg[0] = '\0';                                             \
        assert_int_equal(fact_decode(x, n, &d, msg), PC_ECORRUPT); \
        assert_string_equal(msg, want);                            \
    } while (0)

    /* A minimal tick: format, kind 4, rev 1, time 0, five empty ids,
     * version 0, flags 0, empty payload. */
    const uint8_t tick[] = { 1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    memcpy(x, tick, sizeof(tick));
    n = sizeof(tick);
    assert_int_equal(fact_decode(x, n, &d, msg), PC_OK);
    assert_int_equal(d.kind, FACT_TICK);

    x[0] = 2;
    DECODE_FAILS("fact: unknown format version 2 at field \"format\"");
    x[0] = 0;
    DECODE_FAILS("fact: unknown format version 0 at field \"format\"");
    memcpy(x, tick, n);
    x[1] = 18;
    DECODE_FAILS("fact: unknown kind 18 at field \"kind\"");
    x[1] = 0;
    DECODE_FAILS("fact: unknown kind 0 at field \"kind\"");
    memcpy(x, tick, n);
    x[2] = 0;
    DECODE_FAILS("fact: revision 0 at field \"revision\"");
    memcpy(x, tick, n);
    x[10] = 0x02;
    DECODE_FAILS("fact: unknown bits 0x02 at field \"flags\"");
    x[10] = 0x80;
    DECODE_FAILS("fact: unknown bits 0x80 at field \"flags\"");
    memcpy(x, tick, n);
    x[9] = 1;
    DECODE_FAILS("fact: version 1 of unversioned kind tick at field "
                 "\"version\"");
    memcpy(x, tick, n);
    x[1] = FACT_ORG;
    DECODE_FAILS("fact: version 0 of versioned kind org at field "
                 "\"version\"");

    /* Non-minimal varint for the revision: 0x81 0x00 means 1. */
    const uint8_t nonmin[] = { 1, 4, 0x81, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    memcpy(x, nonmin, sizeof(nonmin));
    n = sizeof(nonmin);
    DECODE_FAILS("fact: overlong or non-minimal varint at field "
                 "\"revision\"");

    /* A time beyond INT64_MAX (2^63, a valid uvarint). */
    const uint8_t bigtime[] = { 1,    4,    1,    0x80, 0x80, 0x80, 0x80,
                                0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0,
                                0,    0,    0,    0,    0,    0,    0 };
    memcpy(x, bigtime, sizeof(bigtime));
    n = sizeof(bigtime);
    DECODE_FAILS("fact: time 9223372036854775808 out of range at field "
                 "\"time_ms\"");

    /* An id length over FACT_MAX_ID (513 = 0x81 0x04). */
    const uint8_t longid[] = { 1, 4, 1, 0, 0x81, 0x04 };
    memcpy(x, longid, sizeof(longid));
    n = sizeof(longid);
    DECODE_FAILS("fact: length 513 over the limit of 512 at field "
                 "\"principal\"");

    /* A payload length over FACT_MAX_PAYLOAD (2^20 + 1). */
    const uint8_t longpay[] = { 1, 4, 1, 0, 0,    0,    0,
                                0, 0, 0, 0, 0x81, 0x80, 0x40 };
    memcpy(x, longpay, sizeof(longpay));
    n = sizeof(longpay);
    DECODE_FAILS("fact: length 1048577 over the limit of 1048576 at field "
                 "\"payload\"");
#undef DECODE_FAILS
}

/*
 * The worked example of docs/format.md: a record fact, its encoding in hex
 * and its leaf hash. If this fails, the format (or the document) changed.
 */
static void
test_fact_worked_example(void **state)
{
    (void)state;
    static const char want_hex[] =
        "01092afbbcd9f29e3405616c696365057265712d3700026531026b3102111111"
        "1111111111111111111111111111111111111111111111111111111111010e4f"
        "eb0ff22f21c19adf8cf3a39ab49ae88645b467d898d26a90fc4d4210ae750f7b"
        "226f70223a22757064617465227d";
    static const char want_content[] =
        "0e4feb0ff22f21c19adf8cf3a39ab49ae88645b467d898d26a90fc4d4210ae75";
    static const char want_leaf[] =
        "44059c3415a5a71d391f4ee5574a9d28baaf28f42d7f2d3bc438ebe1ee8041db";
    uint8_t salt[PC_SALT_LEN], leaf[PC_HASH_LEN];
    const char *doc = "{\"name\":\"Ada\",\"year\":1815}";
    char hex[2 * 512 + 1];
    struct fact f;
    struct pc_buf b;

    for (int i = 0; i < PC_SALT_LEN; i++) {
        salt[i] = (uint8_t)i;
    }
    base_fact(&f);
    pc_hash_content(f.content_hash, salt, doc, strlen(doc));
    pc_buf_init(&b);
    assert_int_equal(fact_encode(&f, &b, NULL), PC_OK);
    assert_int_equal(b.len, 110);
    fact_leaf_hash(leaf, b.data, b.len);
    char leafhex[PC_HASH_HEX_LEN + 1];
    pc_hex(leafhex, leaf, PC_HASH_LEN);
    pc_hex(hex, f.content_hash, PC_HASH_LEN);
    assert_string_equal(hex, want_content);
    pc_hex(hex, b.data, b.len);
    assert_string_equal(hex, want_hex);
    assert_string_equal(leafhex, want_leaf);
    pc_buf_release(&b);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fact_kind_table),
        cmocka_unit_test(test_fact_roundtrip_random),
        cmocka_unit_test(test_fact_encode_appends),
        cmocka_unit_test(test_fact_encode_refuses),
        cmocka_unit_test(test_fact_encode_oom),
        cmocka_unit_test(test_fact_decode_truncation),
        cmocka_unit_test(test_fact_decode_byte_flips),
        cmocka_unit_test(test_fact_decode_malformed),
        cmocka_unit_test(test_fact_worked_example),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("fact", tests, NULL, NULL);
}
