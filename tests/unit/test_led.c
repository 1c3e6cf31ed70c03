/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for storage/led.c: version chains, every append check, documents
 * (compressed or not), truncation, redaction, frozen views read from another
 * thread, and allocation failure at every index leaving the ledger unchanged.
 */
#include "tests/lib/test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "storage/fact.h"
#include "storage/idx.h"
#include "storage/led.h"
#include "storage/mrk.h"
#include "storage/snap.h"
#include "storage/storage_int.h"

#define CHUNK ((size_t)1 << 20) /* led.c's arena chunk */
#define RECS  4096              /* led.c's records per block */

static struct pc_slice
str(const char *s)
{
    return (struct pc_slice){ (const uint8_t *)s, s ? strlen(s) : 0 };
}

/*
 * Fill `f` as the next valid fact of `l`: revision, time (ledger time +
 * `dt`), the chain of (kind, parent, id) and the content hash of `doc`.
 * Slices borrow `parent`, `id` and `payload`.
 */
static void
next_fact(struct led *l, struct fact *f, uint32_t kind, const char *parent,
          const char *id, const struct led_doc *doc, const char *payload,
          int64_t dt)
{
    memset(f, 0, sizeof(*f));
    f->format = FACT_FORMAT_VERSION;
    f->kind = kind;
    f->revision = led_count(l) + 1;
    f->time_ms = led_time(l) + dt;
    f->principal = str("alice");
    f->request_id = str("req");
    f->parent = str(parent);
    f->id = str(id);
    f->payload = str(payload);
    if (fact_kind_versioned(kind)) {
        struct idx_key k = { kind, f->parent, f->id };
        uint64_t rev = 0;

        f->version = idx_latest(led_idx(l), &k, &rev) + 1;
        if (f->version > 1) {
            f->has_prev = true;
            assert_int_equal(led_hash(l, rev, f->prev_hash), PC_OK);
        }
    }
    if (doc != NULL) {
        f->has_content = true;
        pc_hash_content(f->content_hash, doc->salt, doc->json, doc->len);
    }
}

static void
append_ok(struct led *l, uint32_t kind, const char *parent, const char *id,
          const struct led_doc *doc, const char *payload)
{
    struct fact f;
    char msg[PC_ERRMSG_SIZE];

    next_fact(l, &f, kind, parent, id, doc, payload, 1);
    if (led_append(l, &f, doc, 1000 + f.revision, NULL, msg) != PC_OK) {
        fail_msg("append %llu: %s", (unsigned long long)f.revision, msg);
    }
}

/* RFC 6962 root over leaves, computed here independently of mrk.c. */
static void
ref_root(const uint8_t (*leaf)[PC_HASH_LEN], uint64_t n,
         uint8_t out[PC_HASH_LEN])
{
    uint8_t a[PC_HASH_LEN], b[PC_HASH_LEN];
    uint64_t k = 1;

    if (n == 0) {
        pc_hash(out, "", 0);
        return;
    }
    if (n == 1) {
        memcpy(out, leaf[0], PC_HASH_LEN);
        return;
    }
    while (k * 2 < n) {
        k *= 2;
    }
    ref_root(leaf, k, a);
    ref_root(leaf + k, n - k, b);
    pc_hash_prefixed(out, PC_HASH_NODE, a, PC_HASH_LEN, b, PC_HASH_LEN);
}

/* The ledger's observable state, for "unchanged" checks. */
struct state {
    uint64_t count;
    int64_t time_ms;
    uint8_t root[PC_HASH_LEN];
    struct led_mem mem;
    uint64_t latest[3]; /* of the entities below */
};

static const char *const keys[3] = { "k1", "k2", "k3" };

static void
take(struct led *l, struct state *s)
{
    memset(s, 0, sizeof(*s));
    s->count = led_count(l);
    s->time_ms = led_time(l);
    led_root(l, s->root);
    led_mem(l, &s->mem);
    for (int i = 0; i < 3; i++) {
        struct idx_key k = { FACT_RECORD, str("e1"), str(keys[i]) };
        s->latest[i] = idx_latest(led_idx(l), &k, NULL);
    }
}

static void
assert_same(struct led *l, const struct state *s)
{
    struct state now;

    take(l, &now);
    assert_true(now.count == s->count);
    assert_true(now.time_ms == s->time_ms);
    assert_memory_equal(now.root, s->root, PC_HASH_LEN);
    /*
     * Every byte count of the ledger's own. The Merkle tree and the index
     * count capacity, which a failed append or a truncate may leave
     * reserved for the next append; their contents are checked above and in
     * take() (root, latest versions).
     */
    now.mem.merkle = s->mem.merkle;
    now.mem.index = s->mem.index;
    assert_memory_equal(&now.mem, &s->mem, sizeof(now.mem));
    assert_memory_equal(now.latest, s->latest, sizeof(now.latest));
}

static const uint8_t salt1[PC_SALT_LEN] = { 1, 2,  3,  4,  5,  6,  7,  8,
                                            9, 10, 11, 12, 13, 14, 15, 16 };

static struct led_doc
mkdoc(const char *json)
{
    return (struct led_doc){ salt1, (const uint8_t *)json, strlen(json) };
}

/* An empty ledger: revision 0, root H(""), no facts. */
static void
test_led_empty(void **state)
{
    (void)state;
    struct led *l;
    uint8_t root[PC_HASH_LEN], h[PC_HASH_LEN];
    struct fact f;
    struct pc_slice s;

    assert_int_equal(led_new(&l), PC_OK);
    assert_true(led_count(l) == 0);
    assert_true(led_time(l) == 0);
    led_root(l, root);
    pc_hash(h, "", 0);
    assert_memory_equal(root, h, PC_HASH_LEN);
    assert_int_equal(led_get(l, 1, &f), PC_ENOTFOUND);
    assert_int_equal(led_get(l, 0, &f), PC_ENOTFOUND);
    assert_int_equal(led_hash(l, 1, h), PC_ENOTFOUND);
    assert_int_equal(led_encoding(l, 1, &s), PC_ENOTFOUND);
    assert_true(led_raft_index(l, 1) == 0);
    assert_int_equal(led_doc_state(l, 1), LED_DOC_NONE);
    assert_int_equal(led_redact(l, 1), PC_ENOTFOUND);
    led_free(l);
    led_free(NULL);
}

/*
 * Chains over several entities: every fact reads back as appended, its hash
 * is H(0x00 ‖ encoding), the root is RFC 6962 over those, the index follows.
 */
static void
test_led_chains(void **state)
{
    (void)state;
    struct led *l;
    uint8_t(*leaves)[PC_HASH_LEN] = pc_malloc(64 * PC_HASH_LEN);
    uint8_t root[PC_HASH_LEN], want[PC_HASH_LEN], leaf[PC_HASH_LEN];
    struct fact f, g;
    struct pc_buf b;
    struct pc_slice s;
    char msg[PC_ERRMSG_SIZE];

    assert_non_null(leaves);
    assert_int_equal(led_new(&l), PC_OK);
    pc_buf_init(&b);
    for (int i = 0; i < 60; i++) {
        static const uint32_t kinds[] = { FACT_RECORD, FACT_ORG, FACT_TICK,
                                          FACT_ENTRY, FACT_RECORD };
        uint32_t kind = kinds[i % 5];
        const char *id = kind == FACT_TICK ? "" : keys[i % 3];
        const char *parent = kind == FACT_RECORD ? "e1" : "";
        struct led_doc doc = mkdoc("{\"n\":1}");
        bool with_doc = kind == FACT_RECORD && i % 2 == 0;

        next_fact(l, &f, kind, parent, id, with_doc ? &doc : NULL,
                  "{\"x\":true}", i % 4 == 0 ? 0 : 5);
        assert_int_equal(led_append(l, &f, with_doc ? &doc : NULL,
                                    7 * (uint64_t)i, leaf, msg),
                         PC_OK);
        b.len = 0;
        assert_int_equal(fact_encode(&f, &b, NULL), PC_OK);
        fact_leaf_hash(leaves[i], b.data, b.len);
        assert_memory_equal(leaf, leaves[i], PC_HASH_LEN);
        assert_true(led_count(l) == (uint64_t)i + 1);
        assert_true(led_time(l) == f.time_ms);
    }
    for (uint64_t rev = 1; rev <= 60; rev++) {
        assert_int_equal(led_get(l, rev, &g), PC_OK);
        assert_true(g.revision == rev);
        assert_int_equal(led_encoding(l, rev, &s), PC_OK);
        fact_leaf_hash(leaf, s.p, s.len);
        assert_memory_equal(leaf, leaves[rev - 1], PC_HASH_LEN);
        assert_int_equal(led_hash(l, rev, leaf), PC_OK);
        assert_memory_equal(leaf, leaves[rev - 1], PC_HASH_LEN);
        assert_true(led_raft_index(l, rev) == 7 * (rev - 1));
        if (fact_kind_versioned(g.kind) && g.version > 1) {
            /* prev_hash is the hash of the previous version. */
            struct idx_key k = { g.kind, g.parent, g.id };
            uint64_t prev;
            assert_int_equal(
                idx_version_rev(led_idx(l), &k, g.version - 1, &prev), PC_OK);
            assert_int_equal(led_hash(l, prev, leaf), PC_OK);
            assert_memory_equal(leaf, g.prev_hash, PC_HASH_LEN);
        }
    }
    led_root(l, root);
    ref_root((const uint8_t(*)[PC_HASH_LEN])leaves, 60, want);
    assert_memory_equal(root, want, PC_HASH_LEN);
    /* 24 record facts over k1..k3 of e1: 8 versions each. */
    for (int i = 0; i < 3; i++) {
        struct idx_key k = { FACT_RECORD, str("e1"), str(keys[i]) };
        assert_true(idx_latest(led_idx(l), &k, NULL) == 8);
    }
    pc_buf_release(&b);
    pc_free(leaves);
    led_free(l);
}

/*
 * led_append_next fills revision, version chain and content hash as a
 * caller of led_append computes them (next_fact): two ledgers fed the same
 * facts each way hold the same bytes and root; its other checks still
 * refuse (time going back).
 */
static void
test_led_append_next(void **state)
{
    (void)state;
    static const uint8_t salt[PC_SALT_LEN] = { 1, 2, 3 };
    static const char *const ids[] = { "k1", "k2", "k1", "k3", "k1" };
    struct led *a, *b;
    struct led_doc doc = { salt, (const uint8_t *)"{\"v\":1}", 7 };
    uint8_t ra[PC_HASH_LEN], rb[PC_HASH_LEN];
    char msg[PC_ERRMSG_SIZE];
    struct fact f, g;

    assert_int_equal(led_new(&a), PC_OK);
    assert_int_equal(led_new(&b), PC_OK);
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        const struct led_doc *d = i == 3 ? NULL : &doc;

        append_ok(a, FACT_RECORD, "e", ids[i], d, "{}");
        next_fact(b, &f, FACT_RECORD, "e", ids[i], d, "{}", 1);
        g = f;
        g.revision = 99; /* all four are the ledger's to set */
        g.version = 7;
        g.has_prev = i % 2 == 0;
        memset(g.content_hash, 0, PC_HASH_LEN);
        assert_int_equal(led_append_next(b, &g, d, 1000 + f.revision, msg),
                         PC_OK);
        assert_int_equal(g.revision, f.revision);
        assert_int_equal(g.version, f.version);
        assert_int_equal(g.has_prev, f.has_prev);
        if (f.has_prev) {
            assert_memory_equal(g.prev_hash, f.prev_hash, PC_HASH_LEN);
        }
        assert_int_equal(g.has_content, f.has_content);
        if (f.has_content) {
            assert_memory_equal(g.content_hash, f.content_hash, PC_HASH_LEN);
        }
    }
    led_root(a, ra);
    led_root(b, rb);
    assert_memory_equal(ra, rb, PC_HASH_LEN);
    next_fact(b, &f, FACT_RECORD, "e", "k4", &doc, "{}", -1);
    assert_int_equal(led_append_next(b, &f, &doc, 2000, msg), PC_EINVAL);
    assert_int_equal(led_count(b), led_count(a));
    led_free(a);
    led_free(b);
}

/* Every append rule is refused with its message and the ledger unchanged. */
static void
test_led_append_refusals(void **state)
{
    (void)state;
    static uint8_t bigdoc[FACT_MAX_DOC + 1];
    struct led *l;
    struct fact f;
    struct state before;
    struct led_doc doc = mkdoc("{\"a\":1}"), other = mkdoc("{\"a\":2}");
    struct led_doc huge = { salt1, bigdoc, sizeof(bigdoc) };
    char msg[PC_ERRMSG_SIZE], want[PC_ERRMSG_SIZE];
    char longid[FACT_MAX_ID + 2];

    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    assert_int_equal(led_new(&l), PC_OK);
    append_ok(l, FACT_RECORD, "e1", "k1", &doc, "{}"); /* rev 1, v1 */
    append_ok(l, FACT_TICK, "", "", NULL, "{}");       /* rev 2 */
    take(l, &before);

#define REFUSED(d, rc_want, text)                                          \
    do {                                                                   \
        msg[0] = '\0';                                                     \
        assert_int_equal(led_append(l, &f, (d), 9, NULL, msg), (rc_want)); \
        assert_string_equal(msg, (text));                                  \
        assert_same(l, &before);                                           \
    } while (0)

    next_fact(l, &f, FACT_TICK, "", "", NULL, "{}", 1);
    f.revision = 4;
    REFUSED(NULL, PC_EINVAL, "led: revision 4 is not the next revision 3");
    f.revision = 2;
    REFUSED(NULL, PC_EINVAL, "led: revision 2 is not the next revision 3");
    /* The first rule broken is the one reported. */
    f.revision = 5;
    f.time_ms = 0;
    REFUSED(NULL, PC_EINVAL, "led: revision 5 is not the next revision 3");

    next_fact(l, &f, FACT_TICK, "", "", NULL, "{}", -1);
    snprintf(want, sizeof(want),
             "led: time %lld is before the ledger time %lld",
             (long long)led_time(l) - 1, (long long)led_time(l));
    REFUSED(NULL, PC_EINVAL, want);
    next_fact(l, &f, FACT_TICK, "", "", NULL, "{}", 0);
    f.kind = 99;
    REFUSED(NULL, PC_EINVAL, "led: unknown kind 99");
    f.kind = 0;
    REFUSED(NULL, PC_EINVAL, "led: unknown kind 0");

    /* Version chain of record e1/k1 (latest version 1 at revision 1). */
    next_fact(l, &f, FACT_RECORD, "e1", "k1", &doc, "{}", 0);
    f.version = 3;
    REFUSED(&doc, PC_EINVAL,
            "led: record version 3 does not follow the latest version 1");
    f.version = 1;
    f.has_prev = false;
    REFUSED(&doc, PC_EINVAL,
            "led: record version 1 does not follow the latest version 1");
    next_fact(l, &f, FACT_RECORD, "e1", "k1", &doc, "{}", 0);
    f.has_prev = false;
    REFUSED(&doc, PC_EINVAL, "led: record version 2 has no prev_hash");
    next_fact(l, &f, FACT_RECORD, "e1", "k1", &doc, "{}", 0);
    f.prev_hash[7] ^= 1;
    REFUSED(&doc, PC_EINVAL,
            "led: record version 2 prev_hash is not the hash of version 1 "
            "(revision 1)");
    /* A new entity: version 1 with no prev_hash. */
    next_fact(l, &f, FACT_RECORD, "e1", "k2", NULL, "{}", 0);
    f.version = 2;
    f.has_prev = true;
    REFUSED(NULL, PC_EINVAL,
            "led: record version 2 does not follow the latest version 0");
    f.version = 1;
    REFUSED(NULL, PC_EINVAL, "led: record version 1 has a prev_hash");
    /* The same id under another kind or parent is another entity. */
    next_fact(l, &f, FACT_RECORD, "e2", "k1", NULL, "{}", 0);
    assert_true(f.version == 1);
    next_fact(l, &f, FACT_ENTRY, "e1", "k1", NULL, "{}", 0);
    assert_true(f.version == 1);

    /* Documents. */
    next_fact(l, &f, FACT_RECORD, "e1", "k2", &doc, "{}", 0);
    REFUSED(NULL, PC_EINVAL, "led: fact has a content hash but no document");
    next_fact(l, &f, FACT_RECORD, "e1", "k2", NULL, "{}", 0);
    REFUSED(&doc, PC_EINVAL,
            "led: document given for a fact without content hash");
    next_fact(l, &f, FACT_RECORD, "e1", "k2", &doc, "{}", 0);
    REFUSED(&other, PC_EINVAL, "led: content hash does not match the document");
    next_fact(l, &f, FACT_RECORD, "e1", "k2", &huge, "{}", 0);
    REFUSED(&huge, PC_EINVAL,
            "led: document of 262145 bytes over the limit of 262144");

    /* The format's own rules come last. */
    next_fact(l, &f, FACT_TICK, "", "", NULL, "{}", 0);
    f.version = 1;
    REFUSED(NULL, PC_EINVAL,
            "fact: version 1 of unversioned kind tick at field \"version\"");
    next_fact(l, &f, FACT_RECORD, "e1", longid, NULL, "{}", 0);
    REFUSED(NULL, PC_EINVAL,
            "fact: 513 bytes over the limit of 512 at field \"id\"");
    next_fact(l, &f, FACT_TICK, "", "", NULL, "{}", 0);
    f.format = 0;
    REFUSED(NULL, PC_EINVAL,
            "fact: unknown format version 0 at field \"format\"");
#undef REFUSED

    /* And the fact that was refused so often goes in once it is right. */
    next_fact(l, &f, FACT_RECORD, "e1", "k1", &doc, "{}", 0);
    assert_int_equal(led_append(l, &f, &doc, 9, NULL, msg), PC_OK);
    led_free(l);
}

/* The encoded path stores the same bytes, checks the same rules. */
static void
test_led_append_encoded(void **state)
{
    (void)state;
    struct led *a, *b;
    struct led_doc doc = mkdoc("{\"v\":\"encoded\"}");
    uint8_t ra[PC_HASH_LEN], rb[PC_HASH_LEN];
    struct pc_slice sa, sb;
    struct pc_buf json;
    char msg[PC_ERRMSG_SIZE];

    assert_int_equal(led_new(&a), PC_OK);
    assert_int_equal(led_new(&b), PC_OK);
    for (int i = 0; i < 20; i++) {
        append_ok(a, FACT_RECORD, "e1", keys[i % 3], i % 2 ? &doc : NULL, "{}");
    }
    for (uint64_t rev = 1; rev <= 20; rev++) {
        assert_int_equal(led_encoding(a, rev, &sa), PC_OK);
        const struct led_doc *d = rev % 2 == 0 ? &doc : NULL;
        if (rev == 5) {
            /* Out of order: refused with led_append's message. */
            assert_int_equal(led_encoding(a, rev + 1, &sb), PC_OK);
            assert_int_equal(led_append_encoded(b, sb.p, sb.len, &doc, 1, msg),
                             PC_EINVAL);
            assert_string_equal(msg,
                                "led: revision 6 is not the next revision 5");
            /* Undecodable: trailing byte. */
            uint8_t tmp[512];
            memcpy(tmp, sa.p, sa.len);
            tmp[sa.len] = 0;
            assert_int_equal(led_append_encoded(b, tmp, sa.len + 1, d, 1, msg),
                             PC_ECORRUPT);
            assert_string_equal(
                msg, "fact: 1 trailing bytes after field \"payload\"");
            /* A chain break is caught as on the other path. */
            tmp[sa.len - 10] ^= 1; /* inside prev_hash: flags, "{}" follow */
            assert_int_equal(led_append_encoded(b, tmp, sa.len, d, 1, msg),
                             PC_EINVAL);
            assert_non_null(strstr(msg, "prev_hash is not the hash"));
            assert_true(led_count(b) == 4);
        }
        assert_int_equal(
            led_append_encoded(b, sa.p, sa.len, d, led_raft_index(a, rev), msg),
            PC_OK);
        assert_int_equal(led_encoding(b, rev, &sb), PC_OK);
        assert_int_equal(sa.len, sb.len);
        assert_memory_equal(sa.p, sb.p, sa.len);
        assert_true(sa.p != sb.p);
    }
    led_root(a, ra);
    led_root(b, rb);
    assert_memory_equal(ra, rb, PC_HASH_LEN);
    pc_buf_init(&json);
    assert_int_equal(led_doc_get(b, 4, &json, NULL), PC_OK);
    assert_int_equal(json.len, doc.len);
    pc_buf_release(&json);
    led_free(a);
    led_free(b);
}

/*
 * A repetitive document is stored compressed, random bytes raw; both read
 * back byte-identical with their salt, appended after existing bytes.
 */
static void
test_led_docs_compression(void **state)
{
    (void)state;
    uint64_t seed = test_seed(), rs = seed;
    static uint8_t rep[8000], rnd[8000];
    struct led *l;
    struct led_mem m0, m1, m2;
    struct pc_buf json;
    uint8_t salt2[PC_SALT_LEN], got[PC_SALT_LEN];

    for (size_t i = 0; i < sizeof(rep); i++) {
        rep[i] = (uint8_t) "{\"name\":\"abc\"},"[i % 15];
        rnd[i] = (uint8_t)test_rand(&rs);
    }
    for (int i = 0; i < PC_SALT_LEN; i++) {
        salt2[i] = (uint8_t)(0xa0 + i);
    }
    struct led_doc d1 = { salt1, rep, sizeof(rep) };
    struct led_doc d2 = { salt2, rnd, sizeof(rnd) };
    struct led_doc d3 = mkdoc("{}");

    assert_int_equal(led_new(&l), PC_OK);
    led_mem(l, &m0);
    append_ok(l, FACT_RECORD, "e1", "k1", &d1, "{}");
    led_mem(l, &m1);
    assert_true(m1.doc_raw - m0.doc_raw == sizeof(rep));
    assert_true(m1.docs - m0.docs < sizeof(rep) / 8);
    append_ok(l, FACT_RECORD, "e1", "k2", &d2, "{}");
    led_mem(l, &m2);
    assert_true(m2.doc_raw - m1.doc_raw == sizeof(rnd));
    assert_true(m2.docs - m1.docs > sizeof(rnd));
    assert_true(m2.docs - m1.docs < sizeof(rnd) + 64);
    append_ok(l, FACT_RECORD, "e1", "k3", &d3, "{}");
    append_ok(l, FACT_TICK, "", "", NULL, "{}");

    pc_buf_init(&json);
    assert_int_equal(pc_buf_put(&json, "pre", 3), PC_OK);
    assert_int_equal(led_doc_get(l, 1, &json, got), PC_OK);
    assert_int_equal(json.len, 3 + sizeof(rep));
    assert_memory_equal(json.data, "pre", 3);
    assert_memory_equal(json.data + 3, rep, sizeof(rep));
    assert_memory_equal(got, salt1, PC_SALT_LEN);
    json.len = 0;
    assert_int_equal(led_doc_get(l, 2, &json, got), PC_OK);
    assert_int_equal(json.len, sizeof(rnd));
    assert_memory_equal(json.data, rnd, sizeof(rnd));
    assert_memory_equal(got, salt2, PC_SALT_LEN);
    json.len = 0;
    assert_int_equal(led_doc_get(l, 3, &json, NULL), PC_OK);
    assert_int_equal(json.len, 2);
    assert_memory_equal(json.data, "{}", 2);
    assert_int_equal(led_doc_get(l, 4, &json, got), PC_ENOTFOUND);
    assert_int_equal(led_doc_get(l, 5, &json, got), PC_ENOTFOUND);
    assert_int_equal(led_doc_state(l, 1), LED_DOC_PRESENT);
    assert_int_equal(led_doc_state(l, 4), LED_DOC_NONE);
    /* Reading fails cleanly when the copy cannot be allocated. */
    pc_buf_release(&json);
    pc_alloc_fault(0, 1);
    assert_int_equal(led_doc_get(l, 1, &json, got), PC_ENOMEM);
    pc_alloc_fault_off();
    assert_int_equal(json.len, 0);
    pc_buf_release(&json);
    led_free(l);
}

/* Appends a mix of facts (some with documents) `n` times. */
static void
append_mix(struct led *l, int n, int salt)
{
    char id[32], payload[64], json[64];

    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "k%d", (i * 7 + salt) % 13);
        snprintf(payload, sizeof(payload), "{\"i\":%d}", i);
        snprintf(json, sizeof(json), "{\"doc\":%d,\"pad\":\"xxxxxxxxxxxx\"}",
                 i + salt);
        struct led_doc doc = mkdoc(json);
        if (i % 4 == 3) {
            append_ok(l, FACT_TICK, "", "", NULL, payload);
        } else {
            append_ok(l, FACT_RECORD, "e1", id, i % 2 ? &doc : NULL, payload);
        }
    }
}

/*
 * led_truncate undoes appends exactly (count, time, root, index, memory),
 * across chunk and record-block boundaries, and the same appends redo the
 * same root.
 */
static void
test_led_truncate(void **state)
{
    (void)state;
    static char big[CHUNK];
    struct led *l;
    struct state s0, s1, s2, s3;
    struct fact f;

    assert_int_equal(led_new(&l), PC_OK);
    take(l, &s0);
    append_mix(l, 100, 0);
    take(l, &s1);
    append_mix(l, 50, 1);
    take(l, &s2);
    led_truncate(l, 100);
    assert_same(l, &s1);
    led_truncate(l, 100); /* no-op */
    assert_same(l, &s1);
    append_mix(l, 50, 1);
    assert_same(l, &s2);

    /* Across a big fact (own chunk), a new chunk and a record block. */
    memset(big, 'b', sizeof(big) - 1);
    append_ok(l, FACT_TICK, "", "", NULL, big);
    append_mix(l, RECS, 2);
    take(l, &s3);
    assert_true(s3.mem.facts > s2.mem.facts + 2 * CHUNK);
    led_truncate(l, s2.count);
    assert_same(l, &s2);
    append_ok(l, FACT_TICK, "", "", NULL, big);
    append_mix(l, RECS, 2);
    assert_same(l, &s3);
    assert_int_equal(led_get(l, s3.count, &f), PC_OK);
    assert_true(f.revision == s3.count);

    led_truncate(l, 0);
    assert_same(l, &s0);
    append_mix(l, 100, 0);
    assert_same(l, &s1);
    led_free(l);
}

/*
 * Redaction drops the document (readers see it redacted) but keeps every
 * hash and the root; the block's memory is released.
 */
static void
test_led_redact(void **state)
{
    (void)state;
    struct led *l;
    struct led_doc doc = mkdoc("{\"id_number\":\"110101199003077777\"}");
    struct state before, after;
    uint8_t h1[PC_HASH_LEN], h2[PC_HASH_LEN];
    struct pc_buf json;

    assert_int_equal(led_new(&l), PC_OK);
    append_ok(l, FACT_RECORD, "e1", "k1", &doc, "{}");
    append_ok(l, FACT_RECORD, "e1", "k1", &doc, "{}");
    append_ok(l, FACT_TICK, "", "", NULL, "{}");
    assert_int_equal(led_hash(l, 1, h1), PC_OK);
    take(l, &before);
    assert_int_equal(led_redact(l, 1), PC_OK);
    take(l, &after);
    assert_int_equal(led_doc_state(l, 1), LED_DOC_REDACTED);
    assert_int_equal(led_doc_state(l, 2), LED_DOC_PRESENT);
    pc_buf_init(&json);
    assert_int_equal(led_doc_get(l, 1, &json, NULL), PC_EFORBIDDEN);
    assert_int_equal(json.len, 0);
    assert_int_equal(led_doc_get(l, 2, &json, NULL), PC_OK);
    pc_buf_release(&json);
    assert_int_equal(led_hash(l, 1, h2), PC_OK);
    assert_memory_equal(h1, h2, PC_HASH_LEN);
    assert_memory_equal(before.root, after.root, PC_HASH_LEN);
    assert_true(after.mem.doc_raw == before.mem.doc_raw - doc.len);
    assert_true(after.mem.docs < before.mem.docs);
    assert_true(after.mem.facts == before.mem.facts);
    /* Again is fine; no document or no fact is not found. */
    assert_int_equal(led_redact(l, 1), PC_OK);
    assert_int_equal(led_redact(l, 3), PC_ENOTFOUND);
    assert_int_equal(led_redact(l, 4), PC_ENOTFOUND);
    assert_int_equal(led_redact(l, 0), PC_ENOTFOUND);
    /* The chain still verifies: version 3 appends over a redacted v1. */
    append_ok(l, FACT_RECORD, "e1", "k1", &doc, "{}");

    /* A restore copies it with a redacted document: same hashes, state. */
    struct led *c;
    struct led_doc gone = { NULL, NULL, 0 };
    struct pc_slice e;
    char msg[PC_ERRMSG_SIZE];
    assert_int_equal(led_new(&c), PC_OK);
    assert_int_equal(led_encoding(l, 3, &e), PC_OK);
    assert_int_equal(led_append_encoded(c, e.p, e.len, &gone, 1, msg),
                     PC_EINVAL); /* out of order */
    assert_int_equal(led_encoding(l, 1, &e), PC_OK);
    gone.len = 1;
    assert_int_equal(led_append_encoded(c, e.p, e.len, &gone, 1, msg),
                     PC_EINVAL);
    assert_string_equal(msg, "led: redacted document with bytes");
    gone.len = 0;
    for (uint64_t rev = 1; rev <= led_count(l); rev++) {
        enum led_doc_state st = led_doc_state(l, rev);
        assert_int_equal(led_encoding(l, rev, &e), PC_OK);
        assert_int_equal(led_append_encoded(c, e.p, e.len,
                                            st == LED_DOC_REDACTED  ? &gone
                                            : st == LED_DOC_PRESENT ? &doc
                                                                    : NULL,
                                            1, msg),
                         PC_OK);
        assert_int_equal(led_doc_state(c, rev), st);
    }
    take(c, &after);
    take(l, &before);
    assert_memory_equal(after.root, before.root, PC_HASH_LEN);
    assert_true(after.mem.doc_raw == before.mem.doc_raw);
    led_free(c);

    /* Truncating a redacted fact is fine too. */
    assert_int_equal(led_redact(l, 4), PC_OK);
    led_truncate(l, 3);
    take(l, &before);
    assert_true(before.mem.doc_raw == doc.len);
    led_free(l);
}

/*
 * led_release with views open frees the ledger only when the last view
 * closes, and views stay readable until then (ASan and the leak checker
 * watch both halves).
 */
static void
test_led_release_deferred(void **state)
{
    (void)state;
    struct led *l;
    struct led_view *v1, *v2;
    uint8_t root[PC_HASH_LEN], vroot[PC_HASH_LEN];
    struct pc_buf snap;

    assert_int_equal(led_new(&l), PC_OK);
    append_mix(l, 300, 1);
    led_root(l, root);
    assert_int_equal(led_view_open(l, &v1), PC_OK);
    assert_int_equal(led_view_open(l, &v2), PC_OK);
    led_release(l); /* replaced by a restore while a backup reads it */
    assert_int_equal(led_views_open(l), 2);
    led_view_close(l, v1);
    pc_buf_init(&snap);
    assert_int_equal(snap_encode_buf(v2, &snap, NULL), PC_OK);
    assert_true(snap.len > 0);
    led_view_root(v2, vroot);
    assert_memory_equal(root, vroot, PC_HASH_LEN);
    pc_buf_release(&snap);
    led_view_close(l, v2); /* frees the ledger */
    led_release(NULL);
}

/*
 * A view keeps reading its prefix (count, root, encodings, raft indexes,
 * documents) while the ledger appends; blocks redacted while views are open
 * stay allocated until the last view that could reach them closes.
 */
static void
test_led_view_prefix(void **state)
{
    (void)state;
    struct led *l;
    struct led_view *v1, *v2;
    struct led_doc doc = mkdoc("{\"a\":\"document\"}");
    uint8_t root[PC_HASH_LEN], vroot[PC_HASH_LEN];
    struct pc_slice s, t;
    struct pc_buf json;
    struct led_mem m0, m1, m2, m3;

    assert_int_equal(led_new(&l), PC_OK);
    for (int i = 0; i < 10; i++) {
        append_ok(l, FACT_RECORD, "e1", keys[i % 3], &doc, "{}");
    }
    led_root(l, root);
    assert_int_equal(led_view_open(l, &v1), PC_OK);
    append_mix(l, 5000, 3); /* new record block and more */
    assert_true(led_view_count(v1) == 10);
    led_view_root(v1, vroot);
    assert_memory_equal(root, vroot, PC_HASH_LEN);
    for (uint64_t rev = 1; rev <= 10; rev++) {
        assert_int_equal(led_view_encoding(v1, rev, &s), PC_OK);
        assert_int_equal(led_encoding(l, rev, &t), PC_OK);
        assert_true(s.p == t.p && s.len == t.len);
        assert_true(led_view_raft_index(v1, rev) == 1000 + rev);
    }
    assert_int_equal(led_view_encoding(v1, 11, &s), PC_ENOTFOUND);
    assert_int_equal(led_view_encoding(v1, 0, &s), PC_ENOTFOUND);
    assert_true(led_view_raft_index(v1, 11) == 0);
    pc_buf_init(&json);
    assert_int_equal(led_view_doc(v1, 11, &json, NULL), PC_ENOTFOUND);
    assert_int_equal(led_view_doc(v1, 1, &json, NULL), PC_OK);
    assert_int_equal(json.len, doc.len);

    /* Overlapping views and redactions. */
    led_mem(l, &m0);
    assert_int_equal(led_redact(l, 1), PC_OK); /* held by v1 */
    assert_int_equal(led_view_open(l, &v2), PC_OK);
    assert_int_equal(led_redact(l, 2), PC_OK); /* held by v1 and v2 */
    assert_int_equal(led_view_doc(v1, 1, &json, NULL), PC_EFORBIDDEN);
    assert_int_equal(led_view_doc(v2, 2, &json, NULL), PC_EFORBIDDEN);
    led_mem(l, &m1);
    assert_true(m1.docs == m0.docs && m1.doc_raw == m0.doc_raw);
    led_view_close(l, v1);
    led_mem(l, &m2);
    assert_true(m2.doc_raw == m0.doc_raw - doc.len);
    led_view_close(l, v2);
    led_mem(l, &m3);
    assert_true(m3.doc_raw == m0.doc_raw - 2 * doc.len);
    led_view_close(l, NULL);
    /* No view: freed at once. */
    assert_int_equal(led_redact(l, 3), PC_OK);
    led_mem(l, &m0);
    assert_true(m0.doc_raw == m3.doc_raw - doc.len);
    /* Truncation back to a view's count is allowed. */
    assert_int_equal(led_view_open(l, &v1), PC_OK);
    uint64_t n = led_count(l);
    append_mix(l, 10, 4);
    led_truncate(l, n);
    assert_true(led_view_count(v1) == n);
    led_view_close(l, v1);
    pc_buf_release(&json);
    led_free(l);
}

struct reader {
    struct led_view *v;
    atomic_bool stop;
    uint64_t passes;
    uint64_t docs;
    int failed; /* first failing revision, 0 if none */
};

static void *
reader_main(void *arg)
{
    struct reader *r = arg;
    uint64_t n = led_view_count(r->v);
    uint8_t(*leaves)[PC_HASH_LEN] = pc_malloc(n * PC_HASH_LEN);
    uint8_t root[PC_HASH_LEN], vroot[PC_HASH_LEN];
    struct pc_buf json;
    struct fact f;

    pc_buf_init(&json);
    led_view_root(r->v, vroot);
    do {
        for (uint64_t rev = 1; rev <= n && r->failed == 0; rev++) {
            struct pc_slice s;
            int rc;

            if (led_view_encoding(r->v, rev, &s) != PC_OK ||
                fact_decode(s.p, s.len, &f, NULL) != PC_OK ||
                f.revision != rev ||
                led_view_raft_index(r->v, rev) != 1000 + rev) {
                r->failed = (int)rev;
                break;
            }
            fact_leaf_hash(leaves[rev - 1], s.p, s.len);
            json.len = 0;
            rc = led_view_doc(r->v, rev, &json, NULL);
            if (rc == PC_OK) {
                uint8_t h[PC_HASH_LEN];
                pc_hash_content(h, salt1, json.data, json.len);
                if (!f.has_content ||
                    memcmp(h, f.content_hash, PC_HASH_LEN) != 0) {
                    r->failed = (int)rev;
                }
                r->docs++;
            } else if (rc != (f.has_content ? PC_EFORBIDDEN : PC_ENOTFOUND)) {
                r->failed = (int)rev;
            }
        }
        ref_root((const uint8_t(*)[PC_HASH_LEN])leaves, n, root);
        if (r->failed == 0 && memcmp(root, vroot, PC_HASH_LEN) != 0) {
            r->failed = -1;
        }
        r->passes++;
    } while (!atomic_load(&r->stop) && r->failed == 0);
    pc_buf_release(&json);
    pc_free(leaves);
    return NULL;
}

/*
 * A reader thread reads a view (encodings, hashes, root, documents) while
 * the loop thread appends 100k facts and redacts documents in the prefix.
 */
static void
test_led_view_thread(void **state)
{
    (void)state;
    struct led *l;
    struct reader r;
    pthread_t th;
    struct led_mem m0, m1;

    assert_int_equal(led_new(&l), PC_OK);
    append_mix(l, 3000, 5);
    memset(&r, 0, sizeof(r));
    atomic_init(&r.stop, false);
    assert_int_equal(led_view_open(l, &r.v), PC_OK);
    assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);
    for (int i = 0; i < 100; i++) {
        append_mix(l, 1000, i);
        /* Facts 2, 6, 10, ... carry documents (append_mix: i % 4 == 1). */
        uint64_t rev = 2 + 4 * (uint64_t)(i * 7 % 700);
        assert_int_equal(led_doc_state(l, rev) == LED_DOC_NONE, false);
        assert_int_equal(led_redact(l, rev), PC_OK);
    }
    atomic_store(&r.stop, true);
    assert_int_equal(pthread_join(th, NULL), 0);
    if (r.failed != 0) {
        fail_msg("reader failed at revision %d", r.failed);
    }
    assert_true(r.passes >= 1);
    assert_true(led_count(l) == 103000);
    led_mem(l, &m0);
    led_view_close(l, r.v);
    led_mem(l, &m1);
    assert_true(m1.docs < m0.docs);
    led_free(l);
}

/*
 * Every allocation failing in turn during one append leaves the ledger
 * unchanged (count, time, root, index, memory) until the append succeeds.
 * Returns how many failures were injected.
 */
static long
append_every_oom(struct led *l, const struct fact *f, const struct led_doc *doc,
                 const struct pc_slice *enc)
{
    struct state before;
    char msg[PC_ERRMSG_SIZE];
    long n;

    take(l, &before);
    for (n = 0;; n++) {
        int rc;

        pc_alloc_fault(n, 1);
        if (enc != NULL) {
            rc = led_append_encoded(l, enc->p, enc->len, doc, 5, msg);
        } else {
            rc = led_append(l, f, doc, 5, NULL, msg);
        }
        pc_alloc_fault_off();
        if (rc == PC_OK) {
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
        assert_string_equal(msg, "led: out of memory");
        assert_same(l, &before);
        assert_true(n < 1000);
    }
    assert_true(led_count(l) == before.count + 1);
    return n;
}

/* OOM at every allocation index, for every kind of append. */
static void
test_led_append_oom(void **state)
{
    (void)state;
    static char fill[CHUNK];
    static char big[700];
    struct led *l;
    struct fact f;
    struct led_doc doc;
    struct led_doc small = mkdoc("{}");
    struct led_mem m0, m1;
    struct led_view *v;
    struct pc_buf b;
    size_t len;

    /* First fact: a new chunk, record block, entity and compressed doc (big
     * enough for the ledger to try LZ4, which needs a buffer). */
    memset(big, 'v', sizeof(big) - 1);
    memcpy(big, "{\"k\":\"", 6);
    memcpy(big + sizeof(big) - 3, "\"}", 2);
    doc = mkdoc(big);
    assert_int_equal(led_new(&l), PC_OK);
    next_fact(l, &f, FACT_RECORD, "e1", "k1", &doc, "{}", 1);
    assert_true(append_every_oom(l, &f, &doc, NULL) >= 4);
    /* Next version, uncompressed doc. */
    next_fact(l, &f, FACT_RECORD, "e1", "k1", &small, "{}", 1);
    assert_true(append_every_oom(l, &f, &small, NULL) >= 1);
    /* A new entity without a document; a tick. */
    next_fact(l, &f, FACT_RECORD, "e1", "k2", NULL, "{}", 1);
    assert_true(append_every_oom(l, &f, NULL, NULL) >= 1);
    /* A tick in the chunk's room allocates nothing: no failure to inject
     * (the sweep says so rather than passing without one). */
    next_fact(l, &f, FACT_TICK, "", "", NULL, "{}", 1);
    assert_int_equal(append_every_oom(l, &f, NULL, NULL), 0);

    /* Fill the chunk to within a few bytes, then open a new one. */
    led_mem(l, &m0);
    memset(fill, 'f', sizeof(fill) - 1);
    next_fact(l, &f, FACT_TICK, "", "", NULL, "", 1);
    f.payload.p = (const uint8_t *)fill;
    f.payload.len = CHUNK - m0.enc - 64;
    assert_int_equal(fact_encoded_len(&f, &len, NULL), PC_OK);
    f.payload.len -= m0.enc + len + 10 - CHUNK;
    assert_int_equal(append_every_oom(l, &f, NULL, NULL), 0); /* it fits */
    led_mem(l, &m1);
    assert_true(m1.facts == m0.facts); /* still in the first chunk */
    next_fact(l, &f, FACT_RECORD, "e1", "k3", &doc, "{\"more\":1}", 1);
    assert_true(append_every_oom(l, &f, &doc, NULL) >= 4);
    led_mem(l, &m0);
    assert_true(m0.facts >= m1.facts + CHUNK);

    /* A fact bigger than a chunk gets its own. */
    next_fact(l, &f, FACT_TICK, "", "", NULL, "", 1);
    f.payload.p = (const uint8_t *)fill;
    f.payload.len = CHUNK - 1;
    assert_true(append_every_oom(l, &f, NULL, NULL) >= 1);
    led_mem(l, &m1);
    assert_true(m1.facts > m0.facts + CHUNK);

    /* The first fact of a new record block. */
    append_mix(l, (int)(RECS - led_count(l)), 9);
    next_fact(l, &f, FACT_RECORD, "e1", "k1", &doc, "{}", 1);
    led_mem(l, &m0);
    assert_true(append_every_oom(l, &f, &doc, NULL) >= 1);
    led_mem(l, &m1);
    assert_true(m1.facts >= m0.facts + RECS * 24);

    /* The encoded path, with a document, for a new entity. */
    next_fact(l, &f, FACT_RECORD, "e1", "k9", &doc, "{}", 1);
    pc_buf_init(&b);
    assert_int_equal(fact_encode(&f, &b, NULL), PC_OK);
    struct pc_slice enc = { b.data, b.len };
    /* The LZ4 buffer and the block at least (a Merkle level used to grow
     * at this revision too, before levels 1-3 stopped being stored). */
    led_mem(l, &m0);
    assert_true(append_every_oom(l, NULL, &doc, &enc) >= 2);
    led_mem(l, &m1);
    assert_true(m1.doc_raw == m0.doc_raw + doc.len);
    assert_true(m1.doc_stored < doc.len / 8 + m0.doc_stored);
    pc_buf_release(&b);

    /* Opening a view. */
    pc_alloc_fault(0, 1);
    assert_int_equal(led_view_open(l, &v), PC_ENOMEM);
    pc_alloc_fault_off();
    assert_int_equal(led_view_open(l, &v), PC_OK);
    led_view_close(l, v);
    led_free(l);

    /* Creating a ledger. */
    struct test_oom o = { 0 };
    for (long n = 0;; n++) {
        test_oom_arm(&o, n, 1);
        int rc = led_new(&l);
        if (test_oom_disarm(&o, rc == PC_OK)) {
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
    }
    test_oom_end(&o);
    led_free(l);
}

/*
 * The memory budget: prints the fixed overhead per fact (records, chunk
 * slack, document block headers, Merkle tree and index share; not the
 * encoding or the stored document bytes) and checks the ledger's own share
 * (records, slack, block headers) stays within 80 bytes.
 * $PC_LED_FACTS sets the number of facts (default 100000; the report used
 * 1000000).
 */
static void
test_led_memory_budget(void **state)
{
    (void)state;
    const char *env = getenv("PC_LED_FACTS");
    uint64_t n = env != NULL ? strtoull(env, NULL, 10) : 100000;
    struct led *l;
    struct led_mem m;
    struct fact f;
    char id[32], json[160], payload[64];
    char msg[PC_ERRMSG_SIZE];
    uint8_t salt[PC_SALT_LEN];

    assert_int_equal(led_new(&l), PC_OK);
    for (uint64_t i = 0; i < n; i++) {
        /* Records of 10 entries, each key written twice, ~100-byte docs. */
        char parent[16];
        snprintf(parent, sizeof(parent), "entry-%u", (unsigned)(i % 10));
        snprintf(id, sizeof(id), "%012llu", (unsigned long long)(i / 20));
        snprintf(json, sizeof(json),
                 "{\"name\":\"person %llu\",\"org\":\"city-%llu\","
                 "\"score\":%llu,\"updated\":\"2026-11-%02llu\"}",
                 (unsigned long long)i, (unsigned long long)(i % 97),
                 (unsigned long long)(i * 31 % 1000),
                 (unsigned long long)(1 + i % 28));
        snprintf(payload, sizeof(payload), "{\"op\":\"%s\"}",
                 i % 20 < 10 ? "create" : "update");
        memcpy(salt, &i, sizeof(i));
        memset(salt + sizeof(i), 0x5a, sizeof(salt) - sizeof(i));
        struct led_doc doc = { salt, (const uint8_t *)json, strlen(json) };
        next_fact(l, &f, FACT_RECORD, parent, id, &doc, payload, 1);
        f.principal = str("provider-city-3");
        f.request_id = str("0f3c2a9e7d6b4c1a");
        if (led_append(l, &f, &doc, i + 1, NULL, msg) != PC_OK) {
            fail_msg("append %llu: %s", (unsigned long long)i, msg);
        }
    }
    led_mem(l, &m);
    size_t total = m.facts + m.docs + m.merkle + m.index;
    double over = (double)(total - m.enc - m.doc_stored) / (double)n;
    printf("led_mem %llu facts: facts %zu (encodings %zu) docs %zu (stored "
           "%zu, raw %zu) merkle %zu index %zu\n",
           (unsigned long long)n, m.facts, m.enc, m.docs, m.doc_stored,
           m.doc_raw, m.merkle, m.index);
    printf("per fact: %.1f total, %.1f encoding, %.1f stored doc (%.1f raw); "
           "overhead %.1f = records+chunk slack %.1f + doc header %.1f + "
           "merkle %.1f + index %.1f\n",
           (double)total / (double)n, (double)m.enc / (double)n,
           (double)m.doc_stored / (double)n, (double)m.doc_raw / (double)n,
           over, (double)(m.facts - m.enc) / (double)n,
           (double)(m.docs - m.doc_stored) / (double)n,
           (double)m.merkle / (double)n, (double)m.index / (double)n);
    assert_true((double)(m.facts - m.enc + m.docs - m.doc_stored) / (double)n <=
                80.0);
    led_free(l);
}

/*
 * led_append_pre with led_pre_compute's hashes and blocks rebuilds a ledger
 * identical to the original (roots, leaves, documents, redactions); a
 * content hash that does not match the fact's is still refused, a failed
 * allocation leaves the ledger unchanged, and in both cases the caller
 * keeps the block (released here; ASan reports a leak or double free).
 */
static void
test_led_append_pre(void **state)
{
    (void)state;
    struct led *a, *b;
    struct pc_buf json;
    char msg[PC_ERRMSG_SIZE];
    uint8_t ra[PC_HASH_LEN], rb[PC_HASH_LEN], salt[PC_SALT_LEN];
    struct led_pre pre;

    assert_int_equal(led_new(&a), PC_OK);
    assert_int_equal(led_new(&b), PC_OK);
    append_mix(a, 40, 3);
    assert_int_equal(led_redact(a, 2), PC_OK);
    pc_buf_init(&json);
    for (uint64_t rev = 1; rev <= led_count(a); rev++) {
        struct pc_slice e;
        struct led_doc d = { salt, NULL, 0 }, *dp = NULL;

        assert_int_equal(led_encoding(a, rev, &e), PC_OK);
        json.len = 0;
        switch (led_doc_get(a, rev, &json, salt)) {
        case PC_OK:
            d.json = json.data;
            d.len = json.len;
            dp = &d;
            break;
        case PC_EFORBIDDEN:
            d.salt = NULL;
            dp = &d;
            break;
        default:
            break;
        }
        led_pre_compute(e.p, e.len, dp, &pre);
        assert_true((pre.block != NULL) == (dp != NULL && dp->salt != NULL));
        if (rev == 5 && dp != NULL && dp->salt != NULL) {
            /* A wrong content hash is refused; the block stays ours. */
            pre.content[0] ^= 1;
            assert_int_equal(led_append_pre(b, e.p, e.len, dp, 7, &pre, msg),
                             PC_EINVAL);
            assert_string_equal(msg, "led: content hash does not match the "
                                     "document");
            assert_int_equal(led_count(b), rev - 1);
            assert_non_null(pre.block);
            pre.content[0] ^= 1;
            pc_alloc_fault(0, -1);
            assert_int_equal(led_append_pre(b, e.p, e.len, dp, 7, &pre, msg),
                             PC_ENOMEM);
            pc_alloc_fault_off();
            assert_int_equal(led_count(b), rev - 1);
            assert_non_null(pre.block);
        }
        if (led_append_pre(b, e.p, e.len, dp, 7, &pre, msg) != PC_OK) {
            fail_msg("append_pre %llu: %s", (unsigned long long)rev, msg);
        }
        assert_null(pre.block);
        led_pre_release(&pre); /* nothing left: a no-op */
    }
    led_root(a, ra);
    led_root(b, rb);
    assert_memory_equal(ra, rb, PC_HASH_LEN);
    assert_int_equal(led_doc_state(b, 2), LED_DOC_REDACTED);
    for (uint64_t rev = 1; rev <= led_count(a); rev++) {
        uint8_t ha[PC_HASH_LEN], hb[PC_HASH_LEN];
        assert_int_equal(led_hash(a, rev, ha), PC_OK);
        assert_int_equal(led_hash(b, rev, hb), PC_OK);
        assert_memory_equal(ha, hb, PC_HASH_LEN);
        assert_int_equal(led_doc_state(a, rev), led_doc_state(b, rev));
    }

    /* A document with a fact that carries none: refused, block released. */
    struct fact f;
    struct pc_buf enc;
    struct led_doc d = mkdoc("{\"x\":1}");
    next_fact(b, &f, FACT_TICK, "", "", NULL, "{}", 1);
    pc_buf_init(&enc);
    assert_int_equal(fact_encode(&f, &enc, NULL), PC_OK);
    led_pre_compute(enc.data, enc.len, &d, &pre);
    assert_int_equal(led_append_pre(b, enc.data, enc.len, &d, 7, &pre, msg),
                     PC_EINVAL);
    led_pre_release(&pre);
    assert_null(pre.block);
    pc_buf_release(&enc);
    pc_buf_release(&json);
    led_free(a);
    led_free(b);
}

/*
 * With views overlapping, each redacted block is freed (its bytes leave the
 * memory count) exactly when the last view that was open at its redaction
 * closes, and the other documents read intact meanwhile.
 */
static void
test_led_redact_overlapping_views(void **state)
{
    (void)state;
    struct led *l;
    struct led_view *v1, *v2, *v3;
    struct led_mem m[8];
    struct pc_buf json;
    char docs[4][64];

    assert_int_equal(led_new(&l), PC_OK);
    for (int i = 0; i < 4; i++) {
        snprintf(docs[i], sizeof(docs[i]), "{\"doc\":%d,\"pad\":\"%0*d\"}", i,
                 10 * (i + 1), 0);
        struct led_doc d = mkdoc(docs[i]);
        append_ok(l, FACT_RECORD, "e", docs[i], &d, "{}");
    }
    pc_buf_init(&json);
    led_mem(l, &m[0]);
    assert_int_equal(led_view_open(l, &v1), PC_OK);
    assert_int_equal(led_redact(l, 1), PC_OK);
    assert_int_equal(led_view_open(l, &v2), PC_OK);
    assert_int_equal(led_redact(l, 2), PC_OK);
    led_mem(l, &m[1]);
    assert_true(m[1].docs == m[0].docs); /* both held */
    /* Readers that load the pointer now see the redaction. */
    assert_int_equal(led_view_doc(v1, 1, &json, NULL), PC_EFORBIDDEN);
    led_view_close(l, v1);
    led_mem(l, &m[2]);
    /* Block 1: only v1 could reach it. Block 2: v2 still may. */
    assert_true(m[1].docs - m[2].docs == 32 + strlen(docs[0]));
    assert_int_equal(led_view_open(l, &v3), PC_OK);
    assert_int_equal(led_redact(l, 3), PC_OK);
    led_view_close(l, v2);
    led_mem(l, &m[3]);
    assert_true(m[2].docs - m[3].docs == 32 + strlen(docs[1]));
    json.len = 0;
    assert_int_equal(led_view_doc(v3, 4, &json, NULL), PC_OK);
    assert_int_equal(json.len, strlen(docs[3]));
    assert_int_equal(led_view_doc(v3, 3, &json, NULL), PC_EFORBIDDEN);
    led_view_close(l, v3);
    led_mem(l, &m[4]);
    assert_true(m[3].docs - m[4].docs == 32 + strlen(docs[2]));
    /* No view: a redaction frees at once. */
    assert_int_equal(led_redact(l, 4), PC_OK);
    led_mem(l, &m[5]);
    assert_true(m[4].docs - m[5].docs == 32 + strlen(docs[3]));
    assert_int_equal(led_doc_state(l, 4), LED_DOC_REDACTED);
    pc_buf_release(&json);
    led_free(l);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_led_empty),
        cmocka_unit_test(test_led_chains),
        cmocka_unit_test(test_led_append_next),
        cmocka_unit_test(test_led_append_refusals),
        cmocka_unit_test(test_led_append_encoded),
        cmocka_unit_test(test_led_docs_compression),
        cmocka_unit_test(test_led_truncate),
        cmocka_unit_test(test_led_redact),
        cmocka_unit_test(test_led_release_deferred),
        cmocka_unit_test(test_led_view_prefix),
        cmocka_unit_test(test_led_view_thread),
        cmocka_unit_test(test_led_append_oom),
        cmocka_unit_test(test_led_memory_budget),
        cmocka_unit_test(test_led_append_pre),
        cmocka_unit_test(test_led_redact_overlapping_views),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("led", tests, NULL, NULL);
}
