/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the snapshot codec: round trips over random ledgers, every
 * single-byte corruption and truncation refused, hand-crafted snapshots that
 * break one rule each, a view encoded on a thread while the ledger grows,
 * out-of-memory at every allocation, and multi-frame snapshots.
 */
#include "tests/lib/test.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <xxhash.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "storage/fact.h"
#include "storage/led.h"
#include "storage/mrk.h"
#include "storage/snap.h"
#include "storage/storage_int.h"

/* A random ledger builder: entities to chain, ledger time, raft index. */
struct ent {
    uint32_t kind;
    char parent[16];
    char id[32];
    uint64_t version;
    uint8_t hash[PC_HASH_LEN];
};

struct gen {
    uint64_t rng;
    struct ent ents[64];
    size_t n_ents;
    int64_t time_ms;
    uint64_t raft_index;
    size_t doc_max; /* largest document, bytes */
    unsigned redact_pct;
    int doc_mode; /* 0 either, 1 JSON-like text, 2 random bytes */
};

static uint64_t
rnd(struct gen *g, uint64_t n)
{
    return test_rand(&g->rng) % n;
}

static void
gen_init(struct gen *g, uint64_t seed)
{
    memset(g, 0, sizeof(*g));
    g->rng = seed;
    g->time_ms = 1767225600000; /* 2026-01-01 */
    g->raft_index = 10;
    g->doc_max = 1500;
    g->redact_pct = 10;
}

/* A document: JSON-looking text, compressible, or random bytes. */
static size_t
gen_doc(struct gen *g, uint8_t *doc, size_t max)
{
    size_t len = (size_t)rnd(g, max + 1);

    int mode = g->doc_mode ? g->doc_mode : 1 + (int)rnd(g, 2);

    if (mode == 1) {
        size_t n = 0;
        while (n < len) {
            int k = snprintf((char *)doc + n, len - n + 1,
                             "{\"amount\":%u.%02u,\"name\":\"item %u\"}",
                             (unsigned)rnd(g, 1000), (unsigned)rnd(g, 100),
                             (unsigned)rnd(g, 50));
            n += (size_t)k;
        }
    } else {
        for (size_t i = 0; i < len; i++) {
            doc[i] = (uint8_t)test_rand(&g->rng);
        }
    }
    return len;
}

/* Append one random fact to `l`; every fact kind family appears. */
static void
gen_fact(struct gen *g, struct led *l)
{
    static const uint32_t versioned[] = { FACT_RECORD, FACT_RECORD,
                                          FACT_RECORD, FACT_ENTRY,
                                          FACT_ORG,    FACT_PRINCIPAL };
    static const uint32_t plain[] = { FACT_TICK, FACT_REJECTION, FACT_AUDIT };
    static uint8_t doc[1u << 18];
    char errmsg[PC_ERRMSG_SIZE];
    char req[32], payload[64];
    uint8_t salt[PC_SALT_LEN];
    struct led_doc d, *dp = NULL;
    struct fact f;
    struct ent *e = NULL;
    uint8_t leaf[PC_HASH_LEN];

    memset(&f, 0, sizeof(f));
    f.format = FACT_FORMAT_VERSION;
    f.revision = led_count(l) + 1;
    g->time_ms += (int64_t)rnd(g, 3) * 997;
    f.time_ms = g->time_ms;
    f.principal = PC_SLICE_STR("p-1");
    snprintf(req, sizeof(req), "req-%" PRIu64, f.revision);
    f.request_id = PC_SLICE_STR(req);
    if (rnd(g, 4) == 0) {
        f.idem_key = PC_SLICE_STR("idem");
    }
    snprintf(payload, sizeof(payload), "{\"n\":%u}", (unsigned)rnd(g, 1000));
    f.payload = PC_SLICE_STR(payload);

    if (rnd(g, 4) == 0) {
        f.kind = plain[rnd(g, 3)];
    } else {
        f.kind = versioned[rnd(g, 6)];
        for (size_t i = 0; i < g->n_ents && e == NULL; i++) {
            size_t j = (size_t)rnd(g, g->n_ents);
            if (g->ents[j].kind == f.kind && rnd(g, 3) != 0) {
                e = &g->ents[j];
            }
        }
        if (e == NULL) {
            e = &g->ents[g->n_ents < 64 ? g->n_ents++ : rnd(g, 64)];
            memset(e, 0, sizeof(*e));
            e->kind = f.kind;
            if (f.kind == FACT_RECORD) {
                snprintf(e->parent, sizeof(e->parent), "E%u",
                         (unsigned)rnd(g, 3));
            }
            snprintf(e->id, sizeof(e->id), "key-%" PRIu64, f.revision);
        }
        f.parent = PC_SLICE_STR(e->parent);
        f.id = PC_SLICE_STR(e->id);
        f.version = e->version + 1;
        if (e->version > 0) {
            f.has_prev = true;
            memcpy(f.prev_hash, e->hash, PC_HASH_LEN);
        }
        if (f.kind == FACT_RECORD && rnd(g, 8) != 0) {
            for (size_t i = 0; i < PC_SALT_LEN; i++) {
                salt[i] = (uint8_t)test_rand(&g->rng);
            }
            d.salt = salt;
            d.json = doc;
            d.len = gen_doc(g, doc, g->doc_max);
            dp = &d;
            f.has_content = true;
            pc_hash_content(f.content_hash, salt, doc, d.len);
        }
    }
    if (rnd(g, 3) == 0) {
        g->raft_index++;
    }
    int rc = led_append(l, &f, dp, g->raft_index, leaf, errmsg);
    if (rc != PC_OK) {
        fail_msg("gen: append %" PRIu64 ": %s", f.revision, errmsg);
    }
    if (e != NULL) {
        e->version = f.version;
        memcpy(e->hash, leaf, PC_HASH_LEN);
    }
    if (dp != NULL && rnd(g, 100) < g->redact_pct) {
        assert_int_equal(led_redact(l, f.revision), PC_OK);
    }
}

static struct led *
gen_ledger(struct gen *g, uint64_t n)
{
    struct led *l;

    assert_int_equal(led_new(&l), PC_OK);
    for (uint64_t i = 0; i < n; i++) {
        gen_fact(g, l);
    }
    return l;
}

/* Encode the whole of `l` into `out` through a view. */
static void
encode_all(struct led *l, struct pc_buf *out)
{
    char errmsg[PC_ERRMSG_SIZE];
    struct led_view *v;

    assert_int_equal(led_view_open(l, &v), PC_OK);
    int rc = snap_encode_buf(v, out, errmsg);
    if (rc != PC_OK) {
        fail_msg("encode: %s", errmsg);
    }
    led_view_close(l, v);
}

/*
 * The first `n` facts of `a` and `b` agree byte for byte: encodings, raft
 * indexes, document states, documents and salts. NULL, or what differs.
 */
static const char *
prefix_differs(const struct led *a, const struct led *b, uint64_t n)
{
    static char why[128];
    struct pc_buf da, db;
    uint8_t sa[PC_SALT_LEN], sb[PC_SALT_LEN];
    const char *res = NULL;

    pc_buf_init(&da);
    pc_buf_init(&db);
    for (uint64_t rev = 1; rev <= n && res == NULL; rev++) {
        struct pc_slice ea, eb;
        if (led_encoding(a, rev, &ea) != PC_OK ||
            led_encoding(b, rev, &eb) != PC_OK || ea.len != eb.len ||
            memcmp(ea.p, eb.p, ea.len) != 0) {
            res = "encoding";
        } else if (led_raft_index(a, rev) != led_raft_index(b, rev)) {
            res = "raft index";
        } else if (led_doc_state(a, rev) != led_doc_state(b, rev)) {
            res = "document state";
        } else if (led_doc_state(a, rev) == LED_DOC_PRESENT) {
            da.len = db.len = 0;
            if (led_doc_get(a, rev, &da, sa) != PC_OK ||
                led_doc_get(b, rev, &db, sb) != PC_OK || da.len != db.len ||
                memcmp(sa, sb, PC_SALT_LEN) != 0 ||
                (da.len > 0 && memcmp(da.data, db.data, da.len) != 0)) {
                res = "document";
            }
        }
        if (res != NULL) {
            snprintf(why, sizeof(why), "fact %" PRIu64 ": %.40s differs", rev,
                     res);
            res = why;
        }
    }
    pc_buf_release(&da);
    pc_buf_release(&db);
    return res;
}

/* `a` and `b` hold the same facts with the same root. */
static const char *
ledgers_differ(const struct led *a, const struct led *b)
{
    uint8_t ra[PC_HASH_LEN], rb[PC_HASH_LEN];

    if (led_count(a) != led_count(b)) {
        return "count differs";
    }
    led_root(a, ra);
    led_root(b, rb);
    if (memcmp(ra, rb, PC_HASH_LEN) != 0) {
        return "root differs";
    }
    return prefix_differs(a, b, led_count(a));
}

/*
 * snap_decode, checked against the decoder with 0, 1 and 2 helper threads:
 * each must give the same code and, on error, the same message (the one a
 * sequential decoder reports first), or on success the same ledger.
 */
static int
decode_ways(const uint8_t *p, size_t len, struct led **out, char *errmsg)
{
    char want[PC_ERRMSG_SIZE] = "";
    struct led *l = NULL;
    int rc = snap_decode(p, len, &l, want);

    for (unsigned w = 0; w <= 2; w++) {
        char got[PC_ERRMSG_SIZE] = "";
        struct led *o = NULL;
        int rw = snap_decode_workers(p, len, w, &o, got);

        if (rw != rc || (rc != PC_OK && strcmp(got, want) != 0)) {
            fail_msg("%u workers: %s \"%s\", default: %s \"%s\"", w,
                     pc_errname(rw), got, pc_errname(rc), want);
        }
        if (rc == PC_OK) {
            const char *diff = ledgers_differ(l, o);
            if (diff != NULL) {
                fail_msg("%u workers: ledger differs: %s", w, diff);
            }
        }
        led_free(o);
    }
    if (rc == PC_OK) {
        *out = l;
    } else if (errmsg != NULL) {
        memcpy(errmsg, want, sizeof(want));
    }
    return rc;
}

/* Decode `p` and expect PC_ECORRUPT with a "snapshot: " message. */
static void
expect_corrupt(const uint8_t *p, size_t len, const char *what, size_t at)
{
    char errmsg[PC_ERRMSG_SIZE] = "";
    struct led *l = (struct led *)&errmsg; /* sentinel: must stay */
    int rc = decode_ways(p, len, &l, errmsg);

    if (rc != PC_ECORRUPT || l != (struct led *)&errmsg ||
        strncmp(errmsg, "snapshot: ", 10) != 0) {
        fail_msg("%s at %zu: rc %s, errmsg \"%s\"", what, at, pc_errname(rc),
                 errmsg);
    }
}

/* Random ledgers of many sizes come back fact for fact, root for root. */
static void
test_snap_roundtrip_random(void **state)
{
    (void)state;
    uint64_t seed = test_seed();

    for (uint64_t round = 0; round < 12; round++) {
        struct gen g;
        char errmsg[PC_ERRMSG_SIZE];
        struct led *a, *b = NULL;
        struct pc_buf s;
        uint64_t n = round == 0 ? 0 : (round * round * 7) % 600 + round;

        gen_init(&g, seed + round);
        a = gen_ledger(&g, n);
        pc_buf_init(&s);
        encode_all(a, &s);
        int rc = decode_ways(s.data, s.len, &b, errmsg);
        const char *why = rc == PC_OK ? ledgers_differ(a, b) : errmsg;
        if (why != NULL) {
            test_seed_note("test_snap_roundtrip_random", seed + round);
            fail_msg("round %" PRIu64 " (%" PRIu64 " facts): %s", round, n,
                     why);
        }
        /* Encoding the decoded ledger gives the same bytes again. */
        struct pc_buf s2;
        pc_buf_init(&s2);
        encode_all(b, &s2);
        assert_int_equal(s2.len, s.len);
        assert_memory_equal(s2.data, s.data, s.len);
        pc_buf_release(&s2);
        pc_buf_release(&s);
        led_free(a);
        led_free(b);
    }
}

/* snap_peek reads count, revision and root; a bad header is refused. */
static void
test_snap_peek(void **state)
{
    (void)state;
    char errmsg[PC_ERRMSG_SIZE];
    struct snap_info info;
    uint8_t root[PC_HASH_LEN];
    struct pc_buf s;
    struct gen g;
    struct led *l;

    gen_init(&g, test_seed());
    l = gen_ledger(&g, 17);
    pc_buf_init(&s);
    encode_all(l, &s);
    assert_int_equal(snap_peek(s.data, s.len, &info, errmsg), PC_OK);
    assert_int_equal(info.version, SNAP_VERSION);
    assert_int_equal(info.count, 17);
    assert_int_equal(info.revision, 17);
    led_root(l, root);
    assert_memory_equal(info.root, root, PC_HASH_LEN);
    assert_memory_equal(s.data, SNAP_MAGIC, SNAP_MAGIC_LEN);

    memset(&info, 0xab, sizeof(info));
    s.data[0] ^= 1;
    assert_int_equal(snap_peek(s.data, s.len, &info, errmsg), PC_ECORRUPT);
    assert_string_equal(errmsg, "snapshot: bad magic (not a provcat snapshot)");
    assert_int_equal(info.count, 0xababababababababu);
    s.data[0] ^= 1;
    s.data[30] ^= 1;
    assert_int_equal(snap_peek(s.data, s.len, &info, errmsg), PC_ECORRUPT);
    assert_string_equal(errmsg, "snapshot: header: checksum mismatch");
    assert_int_equal(snap_peek(s.data, 67, &info, errmsg), PC_ECORRUPT);
    pc_buf_release(&s);
    led_free(l);
}

/*
 * A small snapshot (1-4 KB) of at least 8 facts in which every document
 * state appears: none, present and redacted.
 */
static struct led *
small_ledger(struct pc_buf *s)
{
    struct gen g;
    struct led *l;
    unsigned seen = 0;

    gen_init(&g, test_seed() ^ 0x5a5a);
    g.doc_max = 300;
    g.redact_pct = 30;
    assert_int_equal(led_new(&l), PC_OK);
    pc_buf_init(s);
    while (led_count(l) < 200) {
        gen_fact(&g, l);
        seen |= 1u << led_doc_state(l, led_count(l));
        if (seen == 7 && led_count(l) >= 8) {
            s->len = 0;
            encode_all(l, s);
            if (s->len >= 1000) {
                break;
            }
        }
    }
    if (s->len < 1000 || s->len > 4000) {
        test_seed_note("small_ledger", test_seed() ^ 0x5a5a);
        fail_msg("small ledger: %zu bytes, states %x", s->len, seen);
    }
    return l;
}

/* Flipping any single byte (three xor values each) is always refused. */
static void
test_snap_rejects_every_byte_flip(void **state)
{
    (void)state;
    static const uint8_t xors[] = { 0x01, 0x80, 0xff };
    struct pc_buf s;
    struct led *l = small_ledger(&s);

    for (size_t i = 0; i < s.len; i++) {
        for (size_t k = 0; k < sizeof(xors); k++) {
            s.data[i] ^= xors[k];
            expect_corrupt(s.data, s.len, "flip", i);
            s.data[i] ^= xors[k];
        }
    }
    pc_buf_release(&s);
    led_free(l);
}

/* Every truncation and any trailing byte is refused. */
static void
test_snap_rejects_truncation_and_garbage(void **state)
{
    (void)state;
    struct pc_buf s;
    struct led *l = small_ledger(&s);
    struct led *ok;
    char errmsg[PC_ERRMSG_SIZE];
    size_t len = s.len;

    for (size_t n = 0; n < len; n++) {
        /* A fresh copy of exactly n bytes, so ASan sees any over-read. */
        uint8_t *p = pc_malloc(n ? n : 1);
        memcpy(p, s.data, n);
        expect_corrupt(p, n, "truncate", n);
        pc_free(p);
    }
    assert_int_equal(pc_buf_put_u8(&s, 0), PC_OK);
    expect_corrupt(s.data, s.len, "garbage", len);
    assert_int_equal(decode_ways(s.data, s.len, &ok, errmsg), PC_ECORRUPT);
    char want[96];
    snprintf(want, sizeof(want),
             "snapshot: 1 bytes of garbage after the trailer, at byte %zu",
             len);
    assert_string_equal(errmsg, want);
    assert_int_equal(pc_buf_reserve(&s, len), PC_OK); /* no self-overlap */
    assert_int_equal(pc_buf_put(&s, s.data, len), PC_OK);
    expect_corrupt(s.data, s.len, "appended snapshot", len);
    s.len = len;
    assert_int_equal(decode_ways(s.data, s.len, &ok, errmsg), PC_OK);
    led_free(ok);
    pc_buf_release(&s);
    led_free(l);
}

/* A hand-made snapshot writer, to break one rule at a time. */
struct craft {
    struct pc_buf b;
    XXH64_state_t *all;
};

static void
craft_begin(struct craft *c, uint32_t version, uint64_t count, uint64_t rev,
            const uint8_t root[PC_HASH_LEN])
{
    pc_buf_init(&c->b);
    c->all = XXH64_createState();
    XXH64_reset(c->all, 0);
    assert_int_equal(pc_buf_put(&c->b, SNAP_MAGIC, SNAP_MAGIC_LEN), PC_OK);
    pc_buf_put_u32le(&c->b, version);
    pc_buf_put_u64le(&c->b, count);
    pc_buf_put_u64le(&c->b, rev);
    pc_buf_put(&c->b, root, PC_HASH_LEN);
    pc_buf_put_u64le(&c->b, XXH64(c->b.data, c->b.len, 0));
}

/* One frame of `n` raw bytes; compressed when `lz4` (must then help). */
static void
craft_frame(struct craft *c, const uint8_t *raw, size_t n, bool lz4)
{
    size_t at = c->b.len;
    char *comp = pc_malloc((size_t)LZ4_compressBound((int)n));
    int clen = 0;

    if (lz4) {
        clen = LZ4_compress_default((const char *)raw, comp, (int)n,
                                    LZ4_compressBound((int)n));
        assert_true(clen > 0 && (size_t)clen < n);
    }
    const void *stored = lz4 ? (const void *)comp : (const void *)raw;
    size_t slen = lz4 ? (size_t)clen : n;
    pc_buf_put_u32le(&c->b, (uint32_t)n);
    pc_buf_put_u32le(&c->b, (uint32_t)clen);
    pc_buf_put_u64le(&c->b, XXH64(stored, slen, 0));
    pc_buf_put(&c->b, stored, slen);
    XXH64_update(c->all, c->b.data + at, c->b.len - at);
    pc_free(comp);
}

static void
craft_end(struct craft *c, uint64_t count, uint64_t rev,
          const uint8_t root[PC_HASH_LEN])
{
    size_t at = c->b.len;

    pc_buf_put_u32le(&c->b, SNAP_TRAILER_MARKER);
    pc_buf_put_u64le(&c->b, count);
    pc_buf_put_u64le(&c->b, rev);
    pc_buf_put(&c->b, root, PC_HASH_LEN);
    pc_buf_put_u64le(&c->b, XXH64_digest(c->all));
    pc_buf_put_u64le(&c->b, XXH64(c->b.data + at, c->b.len - at, 0));
    XXH64_freeState(c->all);
}

/* Append fact `rev` of `l` to `raw` as a snapshot record. */
static void
put_record(struct pc_buf *raw, const struct led *l, uint64_t rev)
{
    struct pc_slice enc;
    struct pc_buf doc;
    uint8_t salt[PC_SALT_LEN];
    enum led_doc_state st = led_doc_state(l, rev);

    assert_int_equal(led_encoding(l, rev, &enc), PC_OK);
    pc_buf_put_uvarint(raw, led_raft_index(l, rev));
    pc_buf_put_lp(raw, enc.p, enc.len);
    pc_buf_put_u8(raw, (uint8_t)st);
    if (st == LED_DOC_PRESENT) {
        pc_buf_init(&doc);
        assert_int_equal(led_doc_get(l, rev, &doc, salt), PC_OK);
        pc_buf_put(raw, salt, PC_SALT_LEN);
        pc_buf_put_lp(raw, doc.data, doc.len);
        pc_buf_release(&doc);
    }
}

/*
 * Decode a crafted snapshot of `l`'s facts in the order `revs` (n of them),
 * one frame per `per_frame` records, with header/trailer `count` and `root`;
 * return the code and leave the message in `errmsg`.
 */
static int
decode_crafted(const struct led *l, const uint64_t *revs, size_t n,
               size_t per_frame, uint64_t count, const uint8_t *root,
               char *errmsg)
{
    struct craft c;
    struct pc_buf raw;
    struct led *out = NULL;
    int rc;

    craft_begin(&c, SNAP_VERSION, count, count, root);
    pc_buf_init(&raw);
    for (size_t i = 0; i < n; i++) {
        put_record(&raw, l, revs[i]);
        if ((i + 1) % per_frame == 0 || i + 1 == n) {
            craft_frame(&c, raw.data, raw.len, false);
            raw.len = 0;
        }
    }
    craft_end(&c, count, count, root);
    rc = decode_ways(c.b.data, c.b.len, &out, errmsg);
    led_free(out);
    pc_buf_release(&raw);
    pc_buf_release(&c.b);
    return rc;
}

/*
 * Well-checksummed snapshots that break the rules are refused with a
 * message naming the problem: order, counts, root, chains, frames.
 */
static void
test_snap_rejects_rule_breaks(void **state)
{
    (void)state;
    char errmsg[PC_ERRMSG_SIZE];
    uint8_t root[PC_HASH_LEN], bad[PC_HASH_LEN];
    uint64_t revs[6] = { 1, 2, 3, 4, 5, 6 };
    struct led *l;
    struct gen g;

    gen_init(&g, test_seed());
    l = gen_ledger(&g, 6);
    led_root(l, root);
    memcpy(bad, root, PC_HASH_LEN);
    bad[5] ^= 1;

    /* The crafted writer itself is right. */
    assert_int_equal(decode_crafted(l, revs, 6, 2, 6, root, errmsg), PC_OK);

    /* Revisions out of order. */
    uint64_t swapped[6] = { 1, 3, 2, 4, 5, 6 };
    assert_int_equal(decode_crafted(l, swapped, 6, 6, 6, root, errmsg),
                     PC_ECORRUPT);
    assert_non_null(strstr(errmsg, "snapshot: frame 1 at byte 68: fact 2: "));

    /* Fewer and more facts than the header says. */
    assert_int_equal(decode_crafted(l, revs, 5, 6, 6, root, errmsg),
                     PC_ECORRUPT);
    assert_non_null(strstr(errmsg, ": 5 facts, header says 6"));
    assert_int_equal(decode_crafted(l, revs, 6, 6, 5, root, errmsg),
                     PC_ECORRUPT);
    assert_non_null(strstr(errmsg, "more facts than the header's 5"));

    /* A root that the facts do not give. */
    assert_int_equal(decode_crafted(l, revs, 6, 3, 6, bad, errmsg),
                     PC_ECORRUPT);
    assert_non_null(strstr(errmsg, "differs from the header's"));

    /* Unknown format version, with a good header checksum. */
    struct craft c;
    craft_begin(&c, 2, 0, 0, root);
    craft_end(&c, 0, 0, root);
    struct led *out = NULL;
    assert_int_equal(decode_ways(c.b.data, c.b.len, &out, errmsg), PC_ECORRUPT);
    assert_string_equal(errmsg, "snapshot: unsupported format version 2");
    pc_buf_release(&c.b);

    /* Header revision other than its count. */
    craft_begin(&c, SNAP_VERSION, 0, 1, root);
    craft_end(&c, 0, 1, root);
    assert_int_equal(decode_ways(c.b.data, c.b.len, &out, errmsg), PC_ECORRUPT);
    assert_non_null(strstr(errmsg, "revision 1 is not the fact count 0"));
    pc_buf_release(&c.b);

    /* A record straddling two frames. */
    struct pc_buf raw;
    pc_buf_init(&raw);
    put_record(&raw, l, 1);
    craft_begin(&c, SNAP_VERSION, 1, 1, root);
    craft_frame(&c, raw.data, raw.len - 3, false);
    craft_frame(&c, raw.data + raw.len - 3, 3, false);
    craft_end(&c, 1, 1, root);
    assert_int_equal(decode_ways(c.b.data, c.b.len, &out, errmsg), PC_ECORRUPT);
    assert_non_null(strstr(errmsg, "snapshot: frame 1 at byte 68: fact 1 at "
                                   "raw byte 0: bad or truncated"));
    assert_non_null(strstr(errmsg, "must end inside its frame"));
    pc_buf_release(&c.b);

    /* An unknown document state. */
    raw.len = 0;
    pc_buf_put_uvarint(&raw, 1);
    pc_buf_put_lp(&raw, "x", 1);
    pc_buf_put_u8(&raw, 3);
    craft_begin(&c, SNAP_VERSION, 1, 1, root);
    craft_frame(&c, raw.data, raw.len, false);
    craft_end(&c, 1, 1, root);
    assert_int_equal(decode_ways(c.b.data, c.b.len, &out, errmsg), PC_ECORRUPT);
    assert_non_null(strstr(errmsg, "unknown document state 3"));
    pc_buf_release(&c.b);

    /* LZ4 data that decodes to fewer bytes than declared. */
    static uint8_t big[4096];
    memset(big, 'a', sizeof(big));
    craft_begin(&c, SNAP_VERSION, 1, 1, root);
    craft_frame(&c, big, sizeof(big), true);
    size_t fh = SNAP_HEADER_LEN;
    uint32_t clen;
    memcpy(&clen, c.b.data + fh + 4, 4);
    uint32_t lie = sizeof(big) + 1; /* raw length: one byte too many */
    memcpy(c.b.data + fh, &lie, 4);
    XXH64_reset(c.all, 0);
    XXH64_update(c.all, c.b.data + fh, c.b.len - fh);
    craft_end(&c, 1, 1, root);
    assert_int_equal(decode_ways(c.b.data, c.b.len, &out, errmsg), PC_ECORRUPT);
    assert_string_equal(errmsg, "snapshot: frame 1 at byte 68: bad LZ4 data "
                                "(4096 of 4097 bytes)");
    pc_buf_release(&c.b);

    /* A "compressed" frame no smaller than its raw bytes. */
    craft_begin(&c, SNAP_VERSION, 1, 1, root);
    craft_frame(&c, raw.data, raw.len, false);
    uint32_t same = (uint32_t)raw.len;
    memcpy(c.b.data + fh + 4, &same, 4);
    XXH64_reset(c.all, 0);
    XXH64_update(c.all, c.b.data + fh, c.b.len - fh);
    craft_end(&c, 1, 1, root);
    assert_int_equal(decode_ways(c.b.data, c.b.len, &out, errmsg), PC_ECORRUPT);
    assert_non_null(strstr(errmsg, "not below raw length"));
    pc_buf_release(&c.b);

    /* An empty frame. */
    craft_begin(&c, SNAP_VERSION, 0, 0, root);
    craft_frame(&c, big, 0, false);
    craft_end(&c, 0, 0, root);
    assert_int_equal(decode_ways(c.b.data, c.b.len, &out, errmsg), PC_ECORRUPT);
    assert_non_null(strstr(errmsg, "bad raw length 0"));
    pc_buf_release(&c.b);

    pc_buf_release(&raw);
    led_free(l);
}

/* A fact whose prev_hash is not its predecessor's hash is refused. */
static void
test_snap_rejects_broken_chain(void **state)
{
    (void)state;
    char errmsg[PC_ERRMSG_SIZE];
    uint8_t root[PC_HASH_LEN];
    struct pc_buf enc, raw;
    struct fact f;
    struct craft c;
    struct led *out = NULL;

    pc_buf_init(&enc);
    pc_buf_init(&raw);
    memset(&f, 0, sizeof(f));
    f.format = FACT_FORMAT_VERSION;
    f.kind = FACT_ORG;
    f.time_ms = 1000;
    f.principal = PC_SLICE_STR("system");
    f.request_id = PC_SLICE_STR("r");
    f.id = PC_SLICE_STR("org-1");
    f.payload = PC_SLICE_STR("{}");
    for (uint64_t rev = 1; rev <= 2; rev++) {
        f.revision = rev;
        f.version = rev;
        f.has_prev = rev > 1;
        memset(f.prev_hash, rev > 1 ? 0x42 : 0, PC_HASH_LEN);
        enc.len = 0;
        assert_int_equal(fact_encode(&f, &enc, errmsg), PC_OK);
        pc_buf_put_uvarint(&raw, rev);
        pc_buf_put_lp(&raw, enc.data, enc.len);
        pc_buf_put_u8(&raw, LED_DOC_NONE);
    }
    memset(root, 0, sizeof(root));
    craft_begin(&c, SNAP_VERSION, 2, 2, root);
    craft_frame(&c, raw.data, raw.len, false);
    craft_end(&c, 2, 2, root);
    assert_int_equal(decode_ways(c.b.data, c.b.len, &out, errmsg), PC_ECORRUPT);
    assert_null(out);
    assert_non_null(strstr(errmsg, "snapshot: frame 1 at byte 68: fact 2: "));
    assert_non_null(strstr(errmsg, "prev_hash"));
    pc_buf_release(&c.b);
    pc_buf_release(&raw);
    pc_buf_release(&enc);
}

struct encode_job {
    struct led_view *v;
    struct pc_buf out;
    int rc;
    char errmsg[PC_ERRMSG_SIZE];
};

static void *
encode_thread(void *arg)
{
    struct encode_job *j = arg;

    j->rc = snap_encode_buf(j->v, &j->out, j->errmsg);
    return NULL;
}

/*
 * A view encoded on a worker thread while the loop thread appends (and
 * redacts) decodes to exactly the view's prefix and root.
 */
static void
test_snap_view_encoded_while_appending(void **state)
{
    (void)state;
    char errmsg[PC_ERRMSG_SIZE];
    uint8_t vroot[PC_HASH_LEN], root[PC_HASH_LEN];
    struct encode_job j;
    struct gen g;
    struct led *l, *out;
    pthread_t t;
    uint64_t n;

    gen_init(&g, test_seed() + 99);
    l = gen_ledger(&g, 3000);
    memset(&j, 0, sizeof(j));
    pc_buf_init(&j.out);
    assert_int_equal(led_view_open(l, &j.v), PC_OK);
    n = led_view_count(j.v);
    led_view_root(j.v, vroot);
    assert_int_equal(pthread_create(&t, NULL, encode_thread, &j), 0);
    for (int i = 0; i < 3000; i++) {
        gen_fact(&g, l);
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    led_view_close(l, j.v);
    if (j.rc != PC_OK) {
        fail_msg("encode: %s", j.errmsg);
    }
    assert_true(led_count(l) == 6000);
    int rc = decode_ways(j.out.data, j.out.len, &out, errmsg);
    if (rc != PC_OK) {
        fail_msg("decode: %s", errmsg);
    }
    assert_true(led_count(out) == n);
    led_root(out, root);
    assert_memory_equal(root, vroot, PC_HASH_LEN);
    /* ... which is the root the live ledger gives for that size. */
    assert_int_equal(mrk_root(led_mrk(l), n, root), PC_OK);
    assert_memory_equal(root, vroot, PC_HASH_LEN);
    /* Documents redacted after the freeze may read either way; encodings,
     * raft indexes and hashes may not. */
    for (uint64_t rev = 1; rev <= n; rev++) {
        struct pc_slice a, b;
        assert_int_equal(led_encoding(l, rev, &a), PC_OK);
        assert_int_equal(led_encoding(out, rev, &b), PC_OK);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.p, b.p, a.len);
        assert_true(led_raft_index(l, rev) == led_raft_index(out, rev));
    }
    const char *why = prefix_differs(l, out, n);
    if (why != NULL) {
        test_seed_note("test_snap_view_encoded_while_appending",
                       test_seed() + 99);
        fail_msg("%s", why);
    }
    led_free(out);
    pc_buf_release(&j.out);
    led_free(l);
}

struct step_job {
    struct snap_enc *e;
    struct led_view *v;
    struct pc_buf body;
    int rc;
    char errmsg[PC_ERRMSG_SIZE];
};

static int
step_write(void *arg, const void *p, size_t n)
{
    return pc_buf_put(arg, p, n);
}

static void *
step_thread(void *arg)
{
    struct step_job *j = arg;

    j->rc = snap_enc_step(j->e, j->v, step_write, &j->body, j->errmsg);
    return NULL;
}

/*
 * The node's way: a first step on a worker thread over a view while the
 * main thread appends (and redacts some of what it appends), a second step
 * over a later view, the finish over a third. Header, steps and finish put
 * together are byte for byte the one-shot encoding of the last view, and
 * decode to exactly its prefix, with the root the ledger has at that size.
 */
static void
test_snap_steps_while_appending(void **state)
{
    (void)state;
    char errmsg[PC_ERRMSG_SIZE];
    uint8_t root[PC_HASH_LEN], got[PC_HASH_LEN], hdr[SNAP_HEADER_LEN];
    struct step_job j;
    struct pc_buf tail, all, ref;
    struct led_view *v;
    struct gen g;
    struct led *l, *out;
    pthread_t t;
    uint64_t n;

    gen_init(&g, test_seed() + 7);
    g.doc_max = 4000; /* several frames per step */
    l = gen_ledger(&g, 2500);
    memset(&j, 0, sizeof(j));
    pc_buf_init(&j.body);
    pc_buf_init(&tail);
    pc_buf_init(&all);
    pc_buf_init(&ref);
    assert_int_equal(snap_enc_new(&j.e, NULL), PC_OK);
    assert_int_equal(led_view_open(l, &j.v), PC_OK);
    assert_int_equal(pthread_create(&t, NULL, step_thread, &j), 0);
    for (int i = 0; i < 2000; i++) {
        gen_fact(&g, l);
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    led_view_close(l, j.v);
    if (j.rc != PC_OK) {
        fail_msg("step 1: %s", j.errmsg);
    }
    assert_true(snap_enc_count(j.e) == 2500);

    assert_int_equal(led_view_open(l, &j.v), PC_OK);
    step_thread(&j);
    led_view_close(l, j.v);
    assert_int_equal(j.rc, PC_OK);
    assert_true(snap_enc_count(j.e) == 4500);
    for (int i = 0; i < 300; i++) {
        gen_fact(&g, l);
    }

    assert_int_equal(led_view_open(l, &v), PC_OK);
    n = led_view_count(v);
    assert_int_equal(snap_enc_finish(j.e, v, step_write, &tail, errmsg), PC_OK);
    led_view_root(v, root);
    snap_header(n, root, hdr);
    assert_int_equal(snap_encode_buf(v, &ref, errmsg), PC_OK);
    led_view_close(l, v);
    snap_enc_free(j.e);
    assert_int_equal(pc_buf_put(&all, hdr, sizeof(hdr)), PC_OK);
    assert_int_equal(pc_buf_put(&all, j.body.data, j.body.len), PC_OK);
    assert_int_equal(pc_buf_put(&all, tail.data, tail.len), PC_OK);
    assert_int_equal(all.len, ref.len);
    assert_memory_equal(all.data, ref.data, ref.len);

    for (int i = 0; i < 100; i++) {
        gen_fact(&g, l);
    }
    int rc = decode_ways(all.data, all.len, &out, errmsg);
    if (rc != PC_OK) {
        fail_msg("decode: %s", errmsg);
    }
    assert_true(led_count(out) == n && n == 4800);
    led_root(out, got);
    assert_memory_equal(got, root, PC_HASH_LEN);
    assert_int_equal(mrk_root(led_mrk(l), n, got), PC_OK);
    assert_memory_equal(got, root, PC_HASH_LEN);
    const char *why = prefix_differs(l, out, n);
    if (why != NULL) {
        test_seed_note("test_snap_steps_while_appending", test_seed() + 7);
        fail_msg("%s", why);
    }
    led_free(out);
    pc_buf_release(&j.body);
    pc_buf_release(&tail);
    pc_buf_release(&all);
    pc_buf_release(&ref);
    led_free(l);
}

/* Append a fact whose record is over 1 MiB (a 1 MiB payload and a 200 KB
 * document): it gets a frame of its own. */
static void
append_big(struct gen *g, struct led *l)
{
    static uint8_t payload[FACT_MAX_PAYLOAD - 16];
    static uint8_t doc[200000];
    uint8_t salt[PC_SALT_LEN] = { 1, 2, 3 };
    struct led_doc d = { salt, doc, sizeof(doc) };
    char errmsg[PC_ERRMSG_SIZE];
    struct fact f;

    memset(payload, 'x', sizeof(payload));
    payload[0] = '"';
    payload[sizeof(payload) - 1] = '"';
    for (size_t i = 0; i < sizeof(doc); i++) {
        doc[i] = (uint8_t)test_rand(&g->rng);
    }
    memset(&f, 0, sizeof(f));
    f.format = FACT_FORMAT_VERSION;
    f.kind = FACT_AUDIT;
    f.revision = led_count(l) + 1;
    f.time_ms = g->time_ms;
    f.principal = PC_SLICE_STR("system");
    f.payload = (struct pc_slice){ payload, sizeof(payload) };
    f.has_content = true;
    pc_hash_content(f.content_hash, salt, doc, sizeof(doc));
    if (led_append(l, &f, &d, 5, NULL, errmsg) != PC_OK) {
        fail_msg("append big: %s", errmsg);
    }
}

/* Encode the current ledger with `c` (a step, then the finish over a later
 * view `more` facts on) and check it against the one-shot encoding. */
static void
cached_encode_matches(struct gen *g, struct led *l, struct snap_cache *c,
                      int more, bool want_equal)
{
    char errmsg[PC_ERRMSG_SIZE];
    uint8_t root[PC_HASH_LEN], hdr[SNAP_HEADER_LEN];
    struct pc_buf body, ref;
    struct snap_enc *e;
    struct led_view *v;

    pc_buf_init(&body);
    pc_buf_init(&ref);
    assert_int_equal(snap_enc_new(&e, c), PC_OK);
    assert_int_equal(led_view_open(l, &v), PC_OK);
    assert_int_equal(snap_enc_step(e, v, step_write, &body, errmsg), PC_OK);
    led_view_close(l, v);
    for (int i = 0; i < more; i++) {
        gen_fact(g, l);
    }
    assert_int_equal(led_view_open(l, &v), PC_OK);
    assert_int_equal(snap_enc_finish(e, v, step_write, &body, errmsg), PC_OK);
    snap_enc_free(e);
    led_view_root(v, root);
    snap_header(led_view_count(v), root, hdr);
    /* The reference: the same view's one-shot bytes, header first. */
    assert_int_equal(snap_encode_buf(v, &ref, errmsg), PC_OK);
    led_view_close(l, v);
    assert_memory_equal(ref.data, hdr, sizeof(hdr));
    if (want_equal) {
        assert_int_equal(body.len + sizeof(hdr), ref.len);
        assert_memory_equal(body.data, ref.data + sizeof(hdr), body.len);
    } else {
        assert_true(body.len + sizeof(hdr) != ref.len ||
                    memcmp(body.data, ref.data + sizeof(hdr), body.len) != 0);
    }
    pc_buf_release(&body);
    pc_buf_release(&ref);
}

/*
 * A snapshot that copies the frames of earlier ones is byte for byte the
 * one-shot encoding, however the ledger grew in between; the cache keeps
 * only frames no later fact can join (never the last), grows with each
 * snapshot, and is really what the encoder copies: a redaction it was not
 * told about shows in the output until the cache is cleared. A step that
 * ends on a frame boundary does not copy its own new frame back.
 */
static void
test_snap_cache_reuses_closed_frames(void **state)
{
    (void)state;
    struct snap_cache *c;
    struct gen g;
    struct led *l;
    uint64_t f1, f2;

    gen_init(&g, test_seed() + 11);
    g.doc_max = 4000; /* frames of ~1400 facts */
    g.redact_pct = 0;
    l = gen_ledger(&g, 6000);
    assert_int_equal(snap_cache_new(&c, UINT64_MAX), PC_OK);
    assert_true(snap_cache_facts(c) == 0 && snap_cache_bytes(c) == 0);

    cached_encode_matches(&g, l, c, 300, true);
    f1 = snap_cache_facts(c);
    /* Frames closed for good, not the partly filled last one. */
    assert_true(f1 >= 2 * 1000 && f1 < led_count(l));
    assert_true(snap_cache_bytes(c) > 0);

    for (int i = 0; i < 2000; i++) {
        gen_fact(&g, l);
    }
    cached_encode_matches(&g, l, c, 0, true);
    f2 = snap_cache_facts(c);
    assert_true(f2 > f1 && f2 < led_count(l));
    cached_encode_matches(&g, l, c, 50, true); /* nothing new to cache */
    assert_true(snap_cache_facts(c) >= f2);

    /* Redact a document inside the first cached frame. */
    uint64_t rev = 0;
    for (uint64_t r = 1; r <= 300 && rev == 0; r++) {
        struct pc_buf d;
        uint8_t salt[PC_SALT_LEN];
        pc_buf_init(&d);
        if (led_doc_get(l, r, &d, salt) == PC_OK) {
            rev = r;
        }
        pc_buf_release(&d);
    }
    assert_true(rev != 0);
    assert_int_equal(led_redact(l, rev), PC_OK);
    cached_encode_matches(&g, l, c, 0, false);
    snap_cache_clear(c);
    assert_true(snap_cache_facts(c) == 0 && snap_cache_bytes(c) == 0);
    cached_encode_matches(&g, l, c, 0, true);
    assert_true(snap_cache_facts(c) > 0);
    cached_encode_matches(&g, l, c, 10, true);

    /* A limit keeps the frames up to the first that would not fit. */
    struct snap_cache *half;
    assert_int_equal(snap_cache_new(&half, snap_cache_bytes(c) / 2), PC_OK);
    cached_encode_matches(&g, l, half, 0, true);
    assert_true(snap_cache_facts(half) > 0 &&
                snap_cache_facts(half) < snap_cache_facts(c));
    cached_encode_matches(&g, l, half, 0, true);
    snap_cache_free(half);

    /* A step ending with a record over 1 MiB closes that frame at once and
     * has no partial frame left: the next step must not copy the frame it
     * has just cached back from the cache. */
    struct snap_cache *fresh;
    append_big(&g, l);
    assert_int_equal(snap_cache_new(&fresh, UINT64_MAX), PC_OK);
    cached_encode_matches(&g, l, fresh, 3000, true); /* past a frame */
    snap_cache_free(fresh);
    snap_cache_free(c);
    led_free(l);
}

/* Out of memory, a cached encode fails or matches, and the cache it leaves
 * behind still yields the one-shot bytes. */
static void
test_snap_cache_survives_every_oom(void **state)
{
    (void)state;
    char errmsg[PC_ERRMSG_SIZE];
    struct snap_cache *c;
    struct pc_buf s, ref;
    struct led_view *v;
    struct gen g;
    struct led *l;
    int fails = 0;

    gen_init(&g, test_seed() + 12);
    g.doc_max = 4000;
    g.redact_pct = 0;
    l = gen_ledger(&g, 1500);
    pc_buf_init(&ref);
    assert_int_equal(led_view_open(l, &v), PC_OK);
    assert_int_equal(snap_encode_buf(v, &ref, errmsg), PC_OK);
    for (long n = 0;; n++) {
        struct snap_enc *e = NULL;
        uint8_t root[PC_HASH_LEN], hdr[SNAP_HEADER_LEN];

        assert_int_equal(snap_cache_new(&c, UINT64_MAX), PC_OK);
        pc_buf_init(&s);
        pc_alloc_fault(n, -1);
        int rc = snap_enc_new(&e, c);
        if (rc == PC_OK) {
            rc = snap_enc_finish(e, v, step_write, &s, errmsg);
        }
        pc_alloc_fault_off();
        snap_enc_free(e);
        if (rc == PC_OK) {
            led_view_root(v, root);
            snap_header(led_view_count(v), root, hdr);
            assert_int_equal(s.len + sizeof(hdr), ref.len);
            assert_memory_equal(s.data, ref.data + sizeof(hdr), s.len);
        } else {
            assert_int_equal(rc, PC_ENOMEM);
            fails++;
        }
        pc_buf_release(&s);
        /* Whatever the cache kept, an encode with it is still exact. */
        cached_encode_matches(&g, l, c, 0, true);
        snap_cache_free(c);
        if (rc == PC_OK && n > 40) {
            break;
        }
    }
    assert_true(fails > 1);
    led_view_close(l, v);
    pc_buf_release(&ref);
    led_free(l);
}

/* Failing each allocation of a decode in turn yields PC_ENOMEM, no leak. */
static void
test_snap_decode_survives_every_oom(void **state)
{
    (void)state;
    char errmsg[PC_ERRMSG_SIZE];
    struct pc_buf s;
    struct led *l = small_ledger(&s);
    struct led *out;
    int fails = 0;

    struct test_oom o = { 0 };
    for (long n = 0;; n++) {
        out = NULL;
        test_oom_arm(&o, n, -1);
        int rc = snap_decode(s.data, s.len, &out, errmsg);
        if (test_oom_disarm(&o, rc == PC_OK)) {
            break;
        }
        if (rc != PC_ENOMEM) {
            fail_msg("allocation %ld: %s: %s", n, pc_errname(rc), errmsg);
        }
        assert_null(out);
        fails++;
    }
    test_oom_end(&o);
    assert_true(fails > 3);
    assert_null(ledgers_differ(l, out));
    led_free(out);
    pc_buf_release(&s);
    led_free(l);
}

/* Failing each allocation of an encode in turn yields PC_ENOMEM. */
static void
test_snap_encode_survives_every_oom(void **state)
{
    (void)state;
    char errmsg[PC_ERRMSG_SIZE];
    struct pc_buf s, ref;
    struct led *l = small_ledger(&ref);
    struct led_view *v;
    int fails = 0;

    assert_int_equal(led_view_open(l, &v), PC_OK);
    struct test_oom o = { 0 };
    for (long n = 0;; n++) {
        pc_buf_init(&s);
        test_oom_arm(&o, n, -1);
        int rc = snap_encode_buf(v, &s, errmsg);
        if (test_oom_disarm(&o, rc == PC_OK)) {
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
        assert_int_equal(s.len, 0);
        pc_buf_release(&s);
        fails++;
    }
    test_oom_end(&o);
    assert_true(fails > 1);
    assert_int_equal(s.len, ref.len);
    assert_memory_equal(s.data, ref.data, s.len);
    led_view_close(l, v);
    pc_buf_release(&s);
    pc_buf_release(&ref);
    led_free(l);
}

struct failing_sink {
    int calls_left;
    size_t got;
};

static int
failing_write(void *arg, const void *p, size_t n)
{
    struct failing_sink *s = arg;

    (void)p;
    if (s->calls_left-- == 0) {
        return PC_EIO;
    }
    s->got += n;
    return PC_OK;
}

/* The sink's error stops the encoder and comes back unchanged. */
static void
test_snap_encode_stops_on_write_error(void **state)
{
    (void)state;
    char errmsg[PC_ERRMSG_SIZE];
    struct pc_buf s;
    struct led *l = small_ledger(&s);
    struct led_view *v;

    assert_int_equal(led_view_open(l, &v), PC_OK);
    for (int k = 0; k < 4; k++) {
        struct failing_sink sink = { k, 0 };
        assert_int_equal(snap_encode(v, failing_write, &sink, errmsg), PC_EIO);
        assert_string_equal(errmsg, "snapshot: write: input/output error");
        assert_true(sink.got < s.len);
    }
    led_view_close(l, v);
    pc_buf_release(&s);
    led_free(l);
}

/* The frames of snapshot `s`: count, and whether each obeys the limits. */
static size_t
count_frames(const struct pc_buf *s, size_t *n_big)
{
    size_t off = SNAP_HEADER_LEN, n = 0;

    *n_big = 0;
    for (;;) {
        uint32_t raw, clen;
        memcpy(&raw, s->data + off, 4);
        if (raw == SNAP_TRAILER_MARKER) {
            break;
        }
        memcpy(&clen, s->data + off + 4, 4);
        if (raw > SNAP_FRAME_RAW_MAX) {
            (*n_big)++;
        }
        off += SNAP_FRAME_HEADER_LEN + (clen ? clen : raw);
        n++;
    }
    assert_int_equal(off + SNAP_TRAILER_LEN, s->len);
    return n;
}

/*
 * Over 1 MiB of facts splits into several frames; a record over 1 MiB gets
 * a frame of its own; both round-trip.
 */
static void
test_snap_multi_frame_roundtrip(void **state)
{
    (void)state;
    char errmsg[PC_ERRMSG_SIZE];
    struct pc_buf s;
    struct gen g;
    struct led *l, *out;
    size_t n_big;

    gen_init(&g, test_seed() + 7);
    g.doc_max = 8000;
    l = gen_ledger(&g, 3000); /* ~4 MB of documents */
    pc_buf_init(&s);
    encode_all(l, &s);
    assert_true(count_frames(&s, &n_big) >= 3);
    assert_int_equal(n_big, 0);
    assert_int_equal(decode_ways(s.data, s.len, &out, errmsg), PC_OK);
    assert_null(ledgers_differ(l, out));
    led_free(out);

    /* One fact over 1 MiB, then more. */
    append_big(&g, l);
    for (int i = 0; i < 50; i++) {
        gen_fact(&g, l);
    }
    s.len = 0;
    encode_all(l, &s);
    count_frames(&s, &n_big);
    assert_int_equal(n_big, 1);
    int rc = decode_ways(s.data, s.len, &out, errmsg);
    if (rc != PC_OK) {
        fail_msg("decode: %s", errmsg);
    }
    assert_null(ledgers_differ(l, out));
    led_free(out);
    pc_buf_release(&s);
    led_free(l);
}

/*
 * A snapshot of several frames is refused, with the same message whatever
 * the number of decoder threads, for: flipped bytes in every frame header
 * and at 24 seeded positions throughout, truncation at and around every frame
 * boundary, and a frame dropped or two frames swapped (each with its
 * checksums intact, so only the running checksum, counts or chains fail).
 */
static void
test_snap_parallel_refuses_multi_frame_corruption(void **state)
{
    (void)state;
    uint64_t seed = test_seed() + 11, rs = seed;
    size_t offs[64], n_frames = 0, n_big;
    struct pc_buf s, c;
    struct gen g;
    struct led *l;

    test_seed_note(__func__, seed);
    gen_init(&g, seed);
    g.doc_max = 8000;
    l = gen_ledger(&g, 3000);
    pc_buf_init(&s);
    pc_buf_init(&c);
    encode_all(l, &s);
    assert_true(count_frames(&s, &n_big) >= 3);
    for (size_t off = SNAP_HEADER_LEN;;) {
        uint32_t raw, clen;
        memcpy(&raw, s.data + off, 4);
        offs[n_frames++] = off;
        if (raw == SNAP_TRAILER_MARKER) {
            break;
        }
        memcpy(&clen, s.data + off + 4, 4);
        off += SNAP_FRAME_HEADER_LEN + (clen ? clen : raw);
    }
    /* offs[n_frames - 1] is the trailer. */
    for (size_t f = 0; f < n_frames; f++) {
        /* Raw length, stored length, checksum (or the trailer's fields). */
        static const size_t at[] = { 0, 5, 9, 15 };
        for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
            s.data[offs[f] + at[i]] ^= 0x41;
            expect_corrupt(s.data, s.len, "header flip", offs[f] + at[i]);
            s.data[offs[f] + at[i]] ^= 0x41;
        }
        for (size_t d = 0; d < 3; d++) {
            size_t cut = offs[f] + d - 1;
            expect_corrupt(s.data, cut, "truncation", cut);
        }
    }
    for (int k = 0; k < 24; k++) {
        size_t i = (size_t)(test_rand(&rs) % s.len);
        uint8_t x = (uint8_t)(1 + test_rand(&rs) % 255);
        s.data[i] ^= x;
        expect_corrupt(s.data, s.len, "flip", i);
        s.data[i] ^= x;
    }
    /* Frame 2 dropped; frames 1 and 2 swapped. */
    size_t f1 = offs[0], f2 = offs[1], f3 = offs[2];
    assert_int_equal(pc_buf_put(&c, s.data, f2), PC_OK);
    assert_int_equal(pc_buf_put(&c, s.data + f3, s.len - f3), PC_OK);
    expect_corrupt(c.data, c.len, "dropped frame", f2);
    c.len = 0;
    assert_int_equal(pc_buf_put(&c, s.data, f1), PC_OK);
    assert_int_equal(pc_buf_put(&c, s.data + f2, f3 - f2), PC_OK);
    assert_int_equal(pc_buf_put(&c, s.data + f1, f2 - f1), PC_OK);
    assert_int_equal(pc_buf_put(&c, s.data + f3, s.len - f3), PC_OK);
    expect_corrupt(c.data, c.len, "swapped frames", f1);

    struct led *out = NULL;
    assert_int_equal(decode_ways(s.data, s.len, &out, NULL), PC_OK);
    led_free(out);
    pc_buf_release(&c);
    pc_buf_release(&s);
    led_free(l);
}

/*
 * The offsets of the frames of snapshot `s` in `offs` (at most `max`),
 * then the trailer's; returns how many offsets that is (frames + 1).
 */
static size_t
frame_offsets(const struct pc_buf *s, size_t *offs, size_t max)
{
    size_t n = 0;

    for (size_t off = SNAP_HEADER_LEN;;) {
        uint32_t raw, clen;
        assert_true(n < max);
        memcpy(&raw, s->data + off, 4);
        offs[n++] = off;
        if (raw == SNAP_TRAILER_MARKER) {
            return n;
        }
        memcpy(&clen, s->data + off + 4, 4);
        off += SNAP_FRAME_HEADER_LEN + (clen ? clen : raw);
    }
}

/*
 * snap_verify accepts a good snapshot and says what it holds: its counts
 * equal the ones read fact by fact from the ledger it came from, and the
 * ledger it keeps on request is that ledger.
 */
static void
test_snap_verify_summarises(void **state)
{
    (void)state;
    char errmsg[PC_ERRMSG_SIZE];
    uint64_t facts_of[FACT_KIND_MAX] = { 0 }, first_of[FACT_KIND_MAX] = { 0 };
    uint64_t docs = 0, redacted = 0;
    uint8_t root[PC_HASH_LEN];
    struct snap_summary sum;
    struct snap_damage dmg = { SNAP_PART_FRAME, 7, 7, 7 };
    struct pc_buf s;
    struct gen g;
    struct led *l, *kept = NULL;
    size_t n_big;

    gen_init(&g, test_seed() + 21);
    g.doc_max = 8000;
    g.redact_pct = 10;
    l = gen_ledger(&g, 3000);
    pc_buf_init(&s);
    encode_all(l, &s);
    for (uint64_t rev = 1; rev <= led_count(l); rev++) {
        struct fact f;
        assert_int_equal(led_get(l, rev, &f), PC_OK);
        facts_of[f.kind]++;
        first_of[f.kind] += f.version == 1;
        docs += led_doc_state(l, rev) == LED_DOC_PRESENT;
        redacted += led_doc_state(l, rev) == LED_DOC_REDACTED;
    }
    assert_true(first_of[FACT_ENTRY] > 0 && first_of[FACT_RECORD] > 0);
    assert_true(facts_of[FACT_RECORD] > first_of[FACT_RECORD]);
    assert_true(redacted > 0);

    assert_int_equal(snap_verify(s.data, s.len, NULL, &sum, &dmg, errmsg),
                     PC_OK);
    assert_int_equal(dmg.frame, 7); /* written only on damage */
    led_root(l, root);
    assert_int_equal(sum.bytes, s.len);
    assert_int_equal(sum.frames, count_frames(&s, &n_big));
    assert_true(sum.frames >= 3);
    assert_int_equal(sum.count, led_count(l));
    assert_int_equal(sum.revision, led_count(l));
    assert_memory_equal(sum.root, root, PC_HASH_LEN);
    assert_memory_equal(sum.facts_of, facts_of, sizeof(facts_of));
    assert_memory_equal(sum.entities_of, first_of, sizeof(first_of));
    assert_int_equal(sum.documents, docs);
    assert_int_equal(sum.redacted, redacted);

    assert_int_equal(snap_verify(s.data, s.len, &kept, NULL, NULL, errmsg),
                     PC_OK);
    assert_null(ledgers_differ(l, kept));
    led_free(kept);
    pc_buf_release(&s);
    led_free(l);
}

/*
 * Verify `len` bytes at `p`, which must be damaged in `part`, frame
 * `frame`, starting at byte `byte`, at fact `fact`; the message must say
 * "frame F at byte B" for a frame, `what` in any case. The summary and
 * the kept ledger stay untouched.
 */
static void
expect_damage(const uint8_t *p, size_t len, enum snap_part part, uint64_t frame,
              uint64_t byte, uint64_t fact, const char *what)
{
    char errmsg[PC_ERRMSG_SIZE] = "", at[64];
    struct snap_summary sum;
    struct snap_damage dmg;
    struct led *kept = (struct led *)&at; /* sentinel: must stay */
    int rc;

    memset(&sum, 0x5a, sizeof(sum));
    rc = snap_verify(p, len, &kept, &sum, &dmg, errmsg);
    if (rc != PC_ECORRUPT || dmg.part != part || dmg.frame != frame ||
        dmg.byte != byte || dmg.fact != fact || strstr(errmsg, what) == NULL) {
        fail_msg("%s: rc %s, damage part %d frame %" PRIu64 " byte %" PRIu64
                 " fact %" PRIu64 " (want %d %" PRIu64 " %" PRIu64 " %" PRIu64
                 "), \"%s\"",
                 what, pc_errname(rc), (int)dmg.part, dmg.frame, dmg.byte,
                 dmg.fact, (int)part, frame, byte, fact, errmsg);
    }
    if (part == SNAP_PART_FRAME) {
        snprintf(at, sizeof(at), "frame %" PRIu64 " at byte %" PRIu64, frame,
                 byte);
        if (strstr(errmsg, at) == NULL) {
            fail_msg("\"%s\" does not name \"%s\"", errmsg, at);
        }
    }
    assert_ptr_equal(kept, (struct led *)&at);
    assert_int_equal(sum.count, 0x5a5a5a5a5a5a5a5aull);
}

/*
 * A damaged snapshot is refused with the place named: a byte flipped in
 * any frame (its number and where it starts), in the header or the
 * trailer; a file cut inside a frame, between frames or inside the
 * trailer; bytes after the trailer; a broken chain (the frame and the
 * fact); facts rewritten with every checksum (no single place).
 */
static void
test_snap_verify_names_damage(void **state)
{
    (void)state;
    size_t offs[64], n;
    struct pc_buf s;
    struct gen g;
    struct led *l;

    gen_init(&g, test_seed() + 23);
    g.doc_max = 8000;
    l = gen_ledger(&g, 3000);
    pc_buf_init(&s);
    encode_all(l, &s);
    n = frame_offsets(&s, offs, 64);
    assert_true(n >= 4); /* three frames or more, then the trailer */
    size_t trailer = offs[n - 1];

    for (size_t k = 0; k + 1 < n; k++) {
        /* A byte in the middle of the frame's stored bytes. */
        size_t mid = (offs[k] + SNAP_FRAME_HEADER_LEN + offs[k + 1]) / 2;
        s.data[mid] ^= 0x10;
        expect_damage(s.data, s.len, SNAP_PART_FRAME, k + 1, offs[k], 0,
                      "checksum mismatch");
        s.data[mid] ^= 0x10;
        /* Its last byte, and the checksum in its header. */
        s.data[offs[k + 1] - 1] ^= 0x01;
        expect_damage(s.data, s.len, SNAP_PART_FRAME, k + 1, offs[k], 0,
                      "checksum mismatch");
        s.data[offs[k + 1] - 1] ^= 0x01;
        s.data[offs[k] + 8] ^= 0x80;
        expect_damage(s.data, s.len, SNAP_PART_FRAME, k + 1, offs[k], 0,
                      "checksum mismatch");
        s.data[offs[k] + 8] ^= 0x80;
        /* Cut inside the frame, and just before it. */
        expect_damage(s.data, offs[k] + SNAP_FRAME_HEADER_LEN + 5,
                      SNAP_PART_FRAME, k + 1, offs[k], 0, "truncated");
        expect_damage(s.data, offs[k], SNAP_PART_FRAME, k + 1, offs[k], 0,
                      "truncated");
    }

    /* The header: its root (checksum mismatch), its version field. */
    s.data[40] ^= 0x01;
    expect_damage(s.data, s.len, SNAP_PART_HEADER, 0, 0, 0,
                  "header: checksum mismatch");
    s.data[40] ^= 0x01;
    expect_damage(s.data, 30, SNAP_PART_HEADER, 0, 0, 0, "truncated header");

    /* The trailer: each field (its checksum catches them), a cut, more. */
    for (size_t i = 0; i < SNAP_TRAILER_LEN; i += 7) {
        s.data[trailer + i] ^= 0x04;
        expect_damage(s.data, s.len,
                      i < 4 ? SNAP_PART_FRAME : SNAP_PART_TRAILER,
                      i < 4 ? n : 0, trailer, 0, i < 4 ? "" : "trailer at");
        s.data[trailer + i] ^= 0x04;
    }
    expect_damage(s.data, s.len - 1, SNAP_PART_TRAILER, 0, trailer, 0,
                  "trailer at byte");
    assert_int_equal(pc_buf_put_u8(&s, 0), PC_OK);
    expect_damage(s.data, s.len, SNAP_PART_TRAILER, 0, s.len - 1, 0,
                  "garbage after the trailer");
    s.len--;
    pc_buf_release(&s);

    led_free(l);

    /* Org "o" version 2 in a second frame, naming a wrong predecessor. */
    char errmsg[PC_ERRMSG_SIZE];
    uint8_t root[PC_HASH_LEN], leaf[PC_HASH_LEN];
    struct pc_buf enc, raw;
    struct craft c;
    struct fact f;
    memset(root, 0, sizeof(root));
    pc_buf_init(&enc);
    pc_buf_init(&raw);
    memset(&f, 0, sizeof(f));
    f.format = FACT_FORMAT_VERSION;
    f.kind = FACT_ORG;
    f.time_ms = 1000;
    f.principal = PC_SLICE_STR("system");
    f.request_id = PC_SLICE_STR("r");
    f.id = PC_SLICE_STR("o");
    f.payload = PC_SLICE_STR("{}");
    assert_int_equal(led_new(&l), PC_OK);
    craft_begin(&c, SNAP_VERSION, 2, 2, root);
    for (uint64_t rev = 1; rev <= 2; rev++) {
        f.revision = f.version = rev;
        f.has_prev = rev > 1;
        memset(f.prev_hash, 0x42, PC_HASH_LEN);
        enc.len = raw.len = 0;
        assert_int_equal(fact_encode(&f, &enc, errmsg), PC_OK);
        if (rev == 1) {
            assert_int_equal(led_append(l, &f, NULL, 1, leaf, errmsg), PC_OK);
        }
        pc_buf_put_uvarint(&raw, rev);
        pc_buf_put_lp(&raw, enc.data, enc.len);
        pc_buf_put_u8(&raw, LED_DOC_NONE);
        if (rev == 2) {
            offs[1] = c.b.len;
        }
        craft_frame(&c, raw.data, raw.len, false);
    }
    craft_end(&c, 2, 2, root); /* the header's root: never reached */
    expect_damage(c.b.data, c.b.len, SNAP_PART_FRAME, 2, offs[1], 2,
                  "fact 2: ");
    expect_damage(c.b.data, c.b.len, SNAP_PART_FRAME, 2, offs[1], 2,
                  "prev_hash");
    pc_buf_release(&c.b);

    /* Good facts under a root they do not give: no single place. */
    uint8_t bad[PC_HASH_LEN];
    memset(bad, 0x33, PC_HASH_LEN);
    craft_begin(&c, SNAP_VERSION, 1, 1, bad);
    raw.len = 0;
    put_record(&raw, l, 1);
    craft_frame(&c, raw.data, raw.len, false);
    craft_end(&c, 1, 1, bad);
    expect_damage(c.b.data, c.b.len, SNAP_PART_LEDGER, 0, 0, 0,
                  "differs from the header's");
    pc_buf_release(&c.b);
    pc_buf_release(&raw);
    pc_buf_release(&enc);
    led_free(l);
}

static void
write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "wb");
    if (fp == NULL || fwrite(p, 1, n, fp) != n || fclose(fp) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

/*
 * The fuzz seeds: small valid snapshots (empty, a few facts with every
 * document state, an LZ4 frame) and truncated copies of each.
 */
static void
write_corpus(const char *dir)
{
    static const struct {
        const char *name;
        uint64_t facts;
        size_t doc_max;
        unsigned redact_pct;
        int doc_mode;
    } seeds[] = {
        { "empty", 0, 0, 0, 0 },     { "three", 3, 200, 0, 1 },
        { "small", 8, 400, 30, 0 },  { "twenty", 20, 300, 20, 0 },
        { "stored", 2, 2000, 0, 2 },
    };

    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        char name[64];
        struct pc_buf s;
        struct gen g;
        struct led *l;

        /* For random documents, find a seed whose frame is stored raw. */
        for (uint64_t k = 0;; k++) {
            gen_init(&g, 0x5eed2026u + i + k * 100);
            g.doc_max = seeds[i].doc_max;
            g.redact_pct = seeds[i].redact_pct;
            g.doc_mode = seeds[i].doc_mode;
            l = gen_ledger(&g, seeds[i].facts);
            pc_buf_init(&s);
            encode_all(l, &s);
            if (seeds[i].doc_mode != 2 || k == 100 ||
                (s.len > SNAP_HEADER_LEN + 8 &&
                 memcmp(s.data + SNAP_HEADER_LEN + 4, "\0\0\0\0", 4) == 0)) {
                break;
            }
            pc_buf_release(&s);
            led_free(l);
        }
        write_file(dir, seeds[i].name, s.data, s.len);
        snprintf(name, sizeof(name), "%s-half", seeds[i].name);
        write_file(dir, name, s.data, s.len / 2);
        snprintf(name, sizeof(name), "%s-cut", seeds[i].name);
        write_file(dir, name, s.data, s.len - 1);
        pc_buf_release(&s);
        led_free(l);
    }
}

int
main(int argc, char **argv)
{
    const char *corpus = getenv("PC_SNAP_WRITE_CORPUS");

    if (corpus != NULL) {
        write_corpus(corpus);
        return 0;
    }

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snap_roundtrip_random),
        cmocka_unit_test(test_snap_peek),
        cmocka_unit_test(test_snap_rejects_every_byte_flip),
        cmocka_unit_test(test_snap_rejects_truncation_and_garbage),
        cmocka_unit_test(test_snap_rejects_rule_breaks),
        cmocka_unit_test(test_snap_rejects_broken_chain),
        cmocka_unit_test(test_snap_view_encoded_while_appending),
        cmocka_unit_test(test_snap_steps_while_appending),
        cmocka_unit_test(test_snap_cache_reuses_closed_frames),
        cmocka_unit_test(test_snap_cache_survives_every_oom),
        cmocka_unit_test(test_snap_decode_survives_every_oom),
        cmocka_unit_test(test_snap_encode_survives_every_oom),
        cmocka_unit_test(test_snap_encode_stops_on_write_error),
        cmocka_unit_test(test_snap_multi_frame_roundtrip),
        cmocka_unit_test(test_snap_parallel_refuses_multi_frame_corruption),
        cmocka_unit_test(test_snap_verify_summarises),
        cmocka_unit_test(test_snap_verify_names_damage),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
