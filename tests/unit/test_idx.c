/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for storage/idx: versions against a naive model under random
 * adds and undos, ordered scans, prefixes and paging cursors, argument
 * errors, and every allocation failure leaving the index as it was.
 */
#include "tests/lib/test.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "storage/fact.h"
#include "storage/idx.h"

/* Set by randomised tests so EXPECT can print the seed before failing. */
static const char *cur_test;
static uint64_t cur_seed;

#define EXPECT(cond)                                          \
    do {                                                      \
        if (!(cond)) {                                        \
            if (cur_test != NULL) {                           \
                test_seed_note(cur_test, cur_seed);           \
            }                                                 \
            fail_msg("%s:%d: %s", __FILE__, __LINE__, #cond); \
        }                                                     \
    } while (0)

static void
seed_begin(const char *test, uint64_t *rng)
{
    cur_test = test;
    cur_seed = test_seed();
    *rng = cur_seed;
}

static struct pc_slice
sl(const void *p, size_t len)
{
    return (struct pc_slice){ (const uint8_t *)p, len };
}

static struct idx_key
skey(uint32_t kind, const char *parent, const char *id)
{
    return (struct idx_key){ kind, sl(parent, strlen(parent)),
                             sl(id, strlen(id)) };
}

static int
bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n > 0 ? memcmp(a, b, n) : 0;

    if (c != 0) {
        return c;
    }
    return (alen > blen) - (alen < blen);
}

/* Scan results, copied out of the callback. */
#define HIT_MAX_ID 64

struct hit {
    uint8_t id[HIT_MAX_ID];
    size_t len;
    uint64_t latest;
    uint64_t rev;
};

struct hits {
    struct hit *h;
    size_t n;
    size_t cap;
    size_t limit; /* stop after this many (0: never) */
};

static void
hits_init(struct hits *hs, size_t cap, size_t limit)
{
    hs->h = calloc(cap, sizeof(*hs->h));
    assert_non_null(hs->h);
    hs->n = 0;
    hs->cap = cap;
    hs->limit = limit;
}

static bool
collect(void *arg, struct pc_slice id, uint64_t latest, uint64_t rev)
{
    struct hits *hs = arg;

    EXPECT(hs->n < hs->cap);
    EXPECT(id.len <= HIT_MAX_ID);
    if (id.len > 0) {
        memcpy(hs->h[hs->n].id, id.p, id.len);
    }
    hs->h[hs->n].len = id.len;
    hs->h[hs->n].latest = latest;
    hs->h[hs->n].rev = rev;
    hs->n++;
    return hs->limit == 0 || hs->n < hs->limit;
}

/* The universe of the model tests: groups and, per group, sorted ids. */
struct gdesc {
    uint32_t kind;
    const char *parent;
    size_t plen;
};

static const struct gdesc model_groups[] = {
    { FACT_RECORD, "e1", 2 },
    { FACT_RECORD, "", 0 },
    { FACT_ORG, "e1", 2 },
    { FACT_RECORD, "e1\0", 3 },
};
#define N_MODEL_GROUPS (sizeof(model_groups) / sizeof(model_groups[0]))
#define IDS_PER_GROUP  60
#define M_MAXV         40

struct ukey {
    uint32_t grp;
    uint8_t id[24];
    size_t len;
    uint32_t n;
    uint64_t revs[M_MAXV];
};

static struct idx_key
ukey_key(const struct ukey *u)
{
    const struct gdesc *g = &model_groups[u->grp];

    return (struct idx_key){ g->kind, sl(g->parent, g->plen),
                             sl(u->id, u->len) };
}

static int
ukey_cmp(const void *a, const void *b)
{
    const struct ukey *x = a;
    const struct ukey *y = b;

    if (x->grp != y->grp) {
        return x->grp < y->grp ? -1 : 1;
    }
    return bytes_cmp(x->id, x->len, y->id, y->len);
}

/* Short ids over a tiny alphabet, so prefixes, 0x00 and 0xff abound. */
static size_t
rand_id(uint64_t *rng, uint8_t *out, size_t max)
{
    static const uint8_t alpha[] = { 0x00, 0x01, 'a', 'b', 0xff };
    size_t len = test_rand(rng) % (max + 1);

    for (size_t i = 0; i < len; i++) {
        out[i] = alpha[test_rand(rng) % sizeof(alpha)];
    }
    return len;
}

/* A prefix that many ids share, cut at lengths around the 8-byte words
 * idx compares at once, so ids differ before, at and after a word's end
 * (0x00 and 0xff included: the order is unsigned). */
static size_t
rand_shared_prefix(uint64_t *rng, uint8_t *out)
{
    static const uint8_t shared[17] = { 'a',  0xff, 0, 'b', 1,   'a',
                                        'a',  0xff, 0, 'b', 'b', 1,
                                        0xff, 'a',  0, 'b', 1 };
    static const size_t cuts[] = { 0, 0, 0, 7, 8, 9, 15, 16, 17 };
    size_t len = cuts[test_rand(rng) % (sizeof(cuts) / sizeof(cuts[0]))];

    memcpy(out, shared, len);
    return len;
}

/* IDS_PER_GROUP distinct ids per group, sorted by (group, id). */
static struct ukey *
universe_new(uint64_t *rng, size_t *n_out)
{
    size_t n = N_MODEL_GROUPS * IDS_PER_GROUP;
    struct ukey *u = calloc(n, sizeof(*u));
    size_t k = 0;

    assert_non_null(u);
    for (uint32_t g = 0; g < N_MODEL_GROUPS; g++) {
        size_t start = k;
        while (k - start < IDS_PER_GROUP) {
            struct ukey c = { .grp = g };
            bool dup = false;
            c.len = rand_shared_prefix(rng, c.id);
            c.len += rand_id(rng, c.id + c.len, 5);
            for (size_t i = start; i < k && !dup; i++) {
                dup = u[i].len == c.len && memcmp(u[i].id, c.id, c.len) == 0;
            }
            if (!dup) {
                u[k++] = c;
            }
        }
    }
    qsort(u, n, sizeof(*u), ukey_cmp);
    *n_out = n;
    return u;
}

/* The version current at `at` per the model: 0 if none. */
static uint32_t
model_version_at(const struct ukey *u, uint64_t at)
{
    uint32_t v = 0;

    while (v < u->n && u->revs[v] <= at) {
        v++;
    }
    return v;
}

static void
check_version_at(const struct idx *x, const struct ukey *u, uint64_t at)
{
    struct idx_key k = ukey_key(u);
    uint64_t v = 77;
    uint64_t rev = 77;
    uint32_t want = model_version_at(u, at);
    int rc = idx_version_at(x, &k, at, &v, &rev);

    if (want == 0) {
        EXPECT(rc == PC_ENOTFOUND);
        EXPECT(v == 77 && rev == 77);
    } else {
        EXPECT(rc == PC_OK);
        EXPECT(v == want);
        EXPECT(rev == u->revs[want - 1]);
    }
}

/* Every lookup of one entity agrees with the model. */
static void
check_key(const struct idx *x, const struct ukey *u)
{
    struct idx_key k = ukey_key(u);
    uint64_t rev = 77;

    EXPECT(idx_latest(x, &k, &rev) == u->n);
    EXPECT(rev == (u->n > 0 ? u->revs[u->n - 1] : 77));
    EXPECT(idx_latest(x, &k, NULL) == u->n);
    for (uint64_t v = 0; v <= (uint64_t)u->n + 1; v++) {
        rev = 77;
        int rc = idx_version_rev(x, &k, v, &rev);
        if (v >= 1 && v <= u->n) {
            EXPECT(rc == PC_OK && rev == u->revs[v - 1]);
        } else {
            EXPECT(rc == PC_ENOTFOUND && rev == 77);
        }
    }
    check_version_at(x, u, 0);
    check_version_at(x, u, UINT64_MAX);
    for (uint32_t i = 0; i < u->n; i++) {
        check_version_at(x, u, u->revs[i] - 1);
        check_version_at(x, u, u->revs[i]);
        check_version_at(x, u, u->revs[i] + 1);
    }
}

/* Count and a full scan of each group agree with the model, in order. */
static void
check_groups(const struct idx *x, const struct ukey *u, size_t n)
{
    struct hits hs;

    hits_init(&hs, n + 1, 0);
    for (uint32_t g = 0; g < N_MODEL_GROUPS; g++) {
        const struct gdesc *gd = &model_groups[g];
        uint64_t want = 0;
        hs.n = 0;
        uint64_t got = idx_scan(x, gd->kind, sl(gd->parent, gd->plen),
                                sl(NULL, 0), sl(NULL, 0), collect, &hs);
        EXPECT(got == hs.n);
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
            if (u[i].grp != g || u[i].n == 0) {
                continue;
            }
            want++;
            EXPECT(j < hs.n);
            EXPECT(hs.h[j].len == u[i].len);
            EXPECT(u[i].len == 0 || memcmp(hs.h[j].id, u[i].id, u[i].len) == 0);
            EXPECT(hs.h[j].latest == u[i].n);
            EXPECT(hs.h[j].rev == u[i].revs[u[i].n - 1]);
            j++;
        }
        EXPECT(j == hs.n);
        EXPECT(idx_count(x, gd->kind, sl(gd->parent, gd->plen)) == want);
    }
    free(hs.h);
}

static void
check_all(const struct idx *x, const struct ukey *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        check_key(x, &u[i]);
    }
    check_groups(x, u, n);
}

/* One random step: a valid add, an undo, or an add that must be refused. */
static void
model_step(struct idx *x, struct ukey *u, uint64_t *rng)
{
    struct idx_key k = ukey_key(u);
    uint64_t last = u->n > 0 ? u->revs[u->n - 1] : 0;
    unsigned r = test_rand(rng) % 10;

    if (r < 2 || (r < 6 && u->n == M_MAXV)) {
        idx_undo(x, &k);
        if (u->n > 0) {
            u->n--;
        }
    } else if (r < 6) {
        /* Revisions may repeat ones undone before, as the ledger does. */
        uint64_t rev = last + 1 + test_rand(rng) % 4;
        EXPECT(idx_add(x, &k, u->n + 1, rev) == PC_OK);
        u->revs[u->n++] = rev;
    } else {
        uint64_t v = u->n + 1;
        uint64_t rev = last + 1;
        switch (test_rand(rng) % 3) {
        case 0:
            v = u->n + 2; /* a gap */
            break;
        case 1:
            v = u->n; /* a repeat, or version 0 */
            break;
        default:
            if (u->n == 0) {
                v = 0;
            } else {
                rev = last - test_rand(rng) % 2; /* not increasing */
            }
            break;
        }
        EXPECT(idx_add(x, &k, v, rev) == PC_EINVAL);
    }
}

static void
model_run(const char *name, unsigned leaf_cap, unsigned inner_cap)
{
    uint64_t rng;
    size_t n;
    struct idx *x;

    seed_begin(name, &rng);
    struct ukey *u = universe_new(&rng, &n);
    assert_int_equal(idx_new(&x), PC_OK);
    assert_int_equal(idx_set_node_cap(x, leaf_cap, inner_cap), PC_OK);
    size_t at = 0;
    for (int op = 0; op < 20000; op++) {
        /* Half the steps take the next id in key order, as an import
         * does (inserts then land in the last insert's leaf), half any. */
        at = test_rand(&rng) % 2 == 0 ? (at + 1) % n : test_rand(&rng) % n;
        struct ukey *t = &u[at];
        model_step(x, t, &rng);
        check_key(x, t);
        if (op % 1000 == 999) {
            check_all(x, u, n);
        }
    }
    check_all(x, u, n);
    idx_free(x);
    free(u);
    cur_test = NULL;
}

/* 20k random adds, undos and refused adds, half of them to the id after
 * the last in key order, match a naive model step by step (default
 * nodes). */
static void
test_idx_model_random(void **state)
{
    (void)state;
    model_run(__func__, 64, 64);
}

/* The same with tiny nodes, so the B+tree is deep and splits constantly. */
static void
test_idx_model_random_deep(void **state)
{
    (void)state;
    model_run(__func__, 2, 3);
}

/* Version gaps, repeats, non-increasing revisions and over-long keys are
 * PC_EINVAL and change nothing. */
static void
test_idx_add_rejects_bad_versions(void **state)
{
    struct idx *x;
    struct idx_key k = skey(FACT_RECORD, "e", "k");
    uint64_t rev = 0;
    static uint8_t big[IDX_MAX_KEY + 1];

    (void)state;
    assert_int_equal(idx_new(&x), PC_OK);
    assert_int_equal(idx_add(x, &k, 2, 10), PC_EINVAL);
    assert_int_equal(idx_add(x, &k, 0, 10), PC_EINVAL);
    assert_int_equal(idx_latest(x, &k, &rev), 0);
    assert_int_equal(idx_count(x, FACT_RECORD, PC_SLICE_STR("e")), 0);
    assert_int_equal(idx_add(x, &k, 1, 10), PC_OK);
    assert_int_equal(idx_add(x, &k, 1, 11), PC_EINVAL);
    assert_int_equal(idx_add(x, &k, 3, 11), PC_EINVAL);
    assert_int_equal(idx_add(x, &k, 2, 10), PC_EINVAL);
    assert_int_equal(idx_add(x, &k, 2, 9), PC_EINVAL);
    assert_int_equal(idx_latest(x, &k, &rev), 1);
    assert_int_equal(rev, 10);
    assert_int_equal(idx_add(x, &k, 2, 11), PC_OK);
    assert_int_equal(idx_add(x, &k, 3, 11), PC_EINVAL);
    assert_int_equal(idx_latest(x, &k, &rev), 2);
    assert_int_equal(rev, 11);

    struct idx_key kb = { FACT_RECORD, sl("e", 1), sl(big, sizeof(big)) };
    assert_int_equal(idx_add(x, &kb, 1, 1), PC_EINVAL);
    kb = (struct idx_key){ FACT_RECORD, sl(big, sizeof(big)), sl("k", 1) };
    assert_int_equal(idx_add(x, &kb, 1, 1), PC_EINVAL);
    assert_int_equal(idx_latest(x, &kb, &rev), 0);
    assert_int_equal(idx_count(x, FACT_RECORD, kb.parent), 0);
    assert_int_equal(idx_scan(x, FACT_RECORD, kb.parent, sl(NULL, 0),
                              sl(NULL, 0), collect, NULL),
                     0);
    kb.parent.len = IDX_MAX_KEY;
    kb.id = sl(big, IDX_MAX_KEY);
    assert_int_equal(idx_add(x, &kb, 1, 1), PC_OK);
    assert_int_equal(idx_latest(x, &kb, &rev), 1);
    assert_int_equal(idx_count(x, FACT_RECORD, PC_SLICE_STR("e")), 1);
    idx_free(x);
}

/* Kind, parent and id each tell entities apart; lookups of unknown keys
 * and versions are PC_ENOTFOUND with outputs untouched. */
static void
test_idx_keys_are_distinct(void **state)
{
    struct idx *x;
    struct idx_key a = skey(FACT_RECORD, "e", "k");
    struct idx_key b = skey(FACT_ENTRY, "e", "k");
    struct idx_key c = skey(FACT_RECORD, "", "ek");
    struct idx_key d = skey(FACT_RECORD, "ek", "");
    struct idx_key e = { FACT_RECORD, sl("e\0", 2), sl("k", 1) };
    uint64_t v = 5;
    uint64_t rev = 5;

    (void)state;
    assert_int_equal(idx_new(&x), PC_OK);
    assert_int_equal(idx_add(x, &a, 1, 1), PC_OK);
    assert_int_equal(idx_add(x, &b, 1, 2), PC_OK);
    assert_int_equal(idx_add(x, &b, 2, 3), PC_OK);
    assert_int_equal(idx_add(x, &c, 1, 4), PC_OK);
    assert_int_equal(idx_add(x, &d, 1, 5), PC_OK);
    assert_int_equal(idx_latest(x, &a, NULL), 1);
    assert_int_equal(idx_latest(x, &b, NULL), 2);
    assert_int_equal(idx_latest(x, &c, &rev), 1);
    assert_int_equal(rev, 4);
    assert_int_equal(idx_latest(x, &d, &rev), 1);
    assert_int_equal(rev, 5);
    rev = 5;
    assert_int_equal(idx_latest(x, &e, &rev), 0);
    assert_int_equal(rev, 5);
    assert_int_equal(idx_version_rev(x, &e, 1, &rev), PC_ENOTFOUND);
    assert_int_equal(idx_version_at(x, &e, 9, &v, &rev), PC_ENOTFOUND);
    assert_int_equal(idx_version_at(x, &b, 1, &v, &rev), PC_ENOTFOUND);
    assert_int_equal(idx_version_at(x, &b, 2, &v, &rev), PC_OK);
    assert_int_equal(v, 1);
    assert_int_equal(rev, 2);
    assert_int_equal(idx_version_at(x, &b, 1000, &v, &rev), PC_OK);
    assert_int_equal(v, 2);
    assert_int_equal(rev, 3);
    assert_int_equal(idx_count(x, FACT_RECORD, PC_SLICE_STR("e")), 1);
    assert_int_equal(idx_count(x, FACT_ENTRY, PC_SLICE_STR("e")), 1);
    assert_int_equal(idx_count(x, FACT_RECORD, PC_SLICE_STR("")), 1);
    assert_int_equal(idx_count(x, FACT_RECORD, sl("e\0", 2)), 0);
    assert_int_equal(idx_count(x, FACT_ORG, PC_SLICE_STR("e")), 0);
    idx_free(x);
}

/* Undo drops one version at a time, then the entity from map, set and
 * count; revisions may be reused afterwards; unknown keys are a no-op. */
static void
test_idx_undo_versions_and_entities(void **state)
{
    struct idx *x;
    struct idx_key k = skey(FACT_RECORD, "e", "m");
    struct idx_key o = skey(FACT_RECORD, "e", "n");
    struct hits hs;
    uint64_t rev;

    (void)state;
    assert_int_equal(idx_new(&x), PC_OK);
    hits_init(&hs, 8, 0);
    idx_undo(x, &k);
    assert_int_equal(idx_add(x, &o, 1, 1), PC_OK);
    for (uint64_t v = 1; v <= 10; v++) {
        assert_int_equal(idx_add(x, &k, v, 10 * v), PC_OK);
    }
    for (uint64_t v = 10; v >= 1; v--) {
        assert_int_equal(idx_latest(x, &k, &rev), v);
        assert_int_equal(rev, 10 * v);
        assert_int_equal(idx_version_rev(x, &k, v, &rev), PC_OK);
        assert_int_equal(idx_version_rev(x, &k, v + 1, &rev), PC_ENOTFOUND);
        idx_undo(x, &k);
    }
    assert_int_equal(idx_latest(x, &k, &rev), 0);
    assert_int_equal(idx_count(x, FACT_RECORD, PC_SLICE_STR("e")), 1);
    assert_int_equal(idx_scan(x, FACT_RECORD, PC_SLICE_STR("e"), sl(NULL, 0),
                              sl(NULL, 0), collect, &hs),
                     1);
    assert_memory_equal(hs.h[0].id, "n", 1);
    idx_undo(x, &o);
    idx_undo(x, &o);
    assert_int_equal(idx_count(x, FACT_RECORD, PC_SLICE_STR("e")), 0);
    assert_int_equal(idx_scan(x, FACT_RECORD, PC_SLICE_STR("e"), sl(NULL, 0),
                              sl(NULL, 0), collect, &hs),
                     0);
    /* The ledger truncated: revision 1 comes back for another entity. */
    assert_int_equal(idx_add(x, &k, 1, 1), PC_OK);
    assert_int_equal(idx_latest(x, &k, &rev), 1);
    assert_int_equal(rev, 1);
    assert_int_equal(idx_count(x, FACT_RECORD, PC_SLICE_STR("e")), 1);
    free(hs.h);
    idx_free(x);
}

/* Expected scan result per the contract, by brute force over sorted ids. */
static size_t
expect_scan(const struct hit *all, size_t n, const uint8_t *pre, size_t plen,
            const uint8_t *aft, size_t alen, size_t *first)
{
    bool use_after = alen > 0 && bytes_cmp(aft, alen, pre, plen) >= 0;
    size_t cnt = 0;

    *first = n;
    for (size_t i = 0; i < n; i++) {
        if (all[i].len < plen ||
            (plen > 0 && memcmp(all[i].id, pre, plen) != 0)) {
            continue;
        }
        if (use_after && bytes_cmp(all[i].id, all[i].len, aft, alen) <= 0) {
            continue;
        }
        if (cnt == 0) {
            *first = i;
        }
        cnt++;
    }
    return cnt;
}

static int
hit_cmp(const void *a, const void *b)
{
    const struct hit *x = a;
    const struct hit *y = b;

    return bytes_cmp(x->id, x->len, y->id, y->len);
}

static void
scan_run(const char *name, unsigned leaf_cap, unsigned inner_cap)
{
    static const char *fixed[] = { "a",   "a\0",  "a\0\0", "a\x01", "ab",
                                   "abc", "abd",  "b",     "\xff",  "\xff\xff",
                                   "\0",  "\0\0", "\0a",   "ba" };
    static const size_t fixed_len[] = {
        1, 2, 3, 2, 2, 3, 3, 1, 1, 2, 1, 2, 2, 2
    };
    uint64_t rng;
    struct idx *x;
    struct hit *all = calloc(600, sizeof(*all));
    size_t n = 0;
    struct hits hs;

    seed_begin(name, &rng);
    assert_non_null(all);
    hits_init(&hs, 600, 0);
    assert_int_equal(idx_new(&x), PC_OK);
    assert_int_equal(idx_set_node_cap(x, leaf_cap, inner_cap), PC_OK);
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        memcpy(all[n].id, fixed[i], fixed_len[i]);
        all[n++].len = fixed_len[i];
    }
    while (n < 500) {
        struct hit c = { .len = 0 };
        c.len = rand_id(&rng, c.id, 6);
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++) {
            dup = hit_cmp(&all[i], &c) == 0;
        }
        if (!dup) {
            all[n++] = c;
        }
    }
    /* Insert in random order; rival groups share ids but must not leak. */
    for (size_t i = 0; i < n; i++) {
        struct idx_key k = { FACT_RECORD, sl(NULL, 0),
                             sl(all[i].id, all[i].len) };
        EXPECT(idx_add(x, &k, 1, i + 1) == PC_OK);
        all[i].latest = 1;
        all[i].rev = i + 1;
        if (i % 3 == 0) {
            k.parent = sl("x", 1);
            EXPECT(idx_add(x, &k, 1, i + 1) == PC_OK);
            k.parent = sl(NULL, 0);
            k.kind = FACT_ORG;
            EXPECT(idx_add(x, &k, 1, i + 1) == PC_OK);
        }
    }
    qsort(all, n, sizeof(*all), hit_cmp);
    EXPECT(idx_count(x, FACT_RECORD, sl(NULL, 0)) == n);

    /* Prefixes: every id's prefixes of length <= 3, some absent ones. */
    for (size_t t = 0; t < 3000; t++) {
        uint8_t pre[8];
        uint8_t aft[8];
        size_t plen;
        size_t alen;
        const struct hit *src = &all[test_rand(&rng) % n];
        plen = test_rand(&rng) % 4;
        if (plen > src->len || test_rand(&rng) % 5 == 0) {
            plen = rand_id(&rng, pre, 3);
        } else {
            memcpy(pre, src->id, plen);
        }
        switch (test_rand(&rng) % 3) {
        case 0:
            alen = 0;
            break;
        case 1:
            src = &all[test_rand(&rng) % n];
            alen = src->len;
            memcpy(aft, src->id, alen);
            break;
        default:
            alen = rand_id(&rng, aft, 6);
            break;
        }
        size_t first;
        size_t want = expect_scan(all, n, pre, plen, aft, alen, &first);
        size_t limit = test_rand(&rng) % 2 ? 0 : 1 + test_rand(&rng) % 5;
        hs.n = 0;
        hs.limit = limit;
        uint64_t got = idx_scan(x, FACT_RECORD, sl(NULL, 0), sl(pre, plen),
                                sl(aft, alen), collect, &hs);
        size_t exp_n = limit != 0 && limit < want ? limit : want;
        EXPECT(got == exp_n);
        EXPECT(hs.n == exp_n);
        for (size_t i = 0; i < hs.n; i++) {
            EXPECT(hit_cmp(&hs.h[i], &all[first + i]) == 0);
            EXPECT(hs.h[i].latest == 1 && hs.h[i].rev == all[first + i].rev);
        }
    }
    hs.limit = 0;

    /* Ids that are prefixes of each other, around an exact cursor. */
    hs.n = 0;
    EXPECT(idx_scan(x, FACT_RECORD, sl(NULL, 0), sl("a", 1), sl("a\0", 2),
                    collect, &hs) > 0);
    EXPECT(hs.h[0].len == 3 && memcmp(hs.h[0].id, "a\0\0", 3) == 0);
    hs.n = 0;
    EXPECT(idx_scan(x, FACT_RECORD, sl(NULL, 0), sl("ab", 2), sl("a", 1),
                    collect, &hs) > 0);
    EXPECT(hs.h[0].len == 2 && memcmp(hs.h[0].id, "ab", 2) == 0);
    hs.n = 0;
    EXPECT(idx_scan(x, FACT_RECORD, sl(NULL, 0), sl("\xff\xff", 2), sl(NULL, 0),
                    collect, &hs) >= 1);
    EXPECT(hs.h[0].len == 2 && memcmp(hs.h[0].id, "\xff\xff", 2) == 0);
    hs.n = 0;
    EXPECT(idx_scan(x, FACT_RECORD, sl(NULL, 0), sl(NULL, 0), sl("b", 1),
                    collect, &hs) > 0);
    EXPECT(hs.h[0].len >= 2 && hs.h[0].id[0] == 'b');
    /* Unknown groups scan nothing. */
    EXPECT(idx_scan(x, FACT_ENTRY, sl(NULL, 0), sl(NULL, 0), sl(NULL, 0),
                    collect, &hs) == 0);
    idx_free(x);
    free(hs.h);
    free(all);
    cur_test = NULL;
}

/* Prefix and cursor scans over binary ids (0x00, 0xff, ids that prefix
 * each other, an empty parent) match a brute-force reference. */
static void
test_idx_scan_prefix_after(void **state)
{
    (void)state;
    scan_run(__func__, 64, 64);
}

/* The same on a deep tree of tiny nodes. */
static void
test_idx_scan_prefix_after_deep(void **state)
{
    (void)state;
    scan_run(__func__, 3, 3);
}

/* Read one page of 7 after `cur`; returns its size and moves `cur`. */
static size_t
page(const struct idx *x, struct hit *cur, struct hit *out)
{
    struct hits hs = { out, 0, 7, 7 };

    uint64_t got = idx_scan(x, FACT_RECORD, sl("p", 1), sl(NULL, 0),
                            sl(cur->id, cur->len), collect, &hs);
    EXPECT(got == hs.n);
    if (hs.n > 0) {
        *cur = out[hs.n - 1];
    }
    return hs.n;
}

/* Random bytes, half of them after a 30-byte common prefix so that
 * separators are too long to sit inline in inner nodes. */
static void
rand_page_id(uint64_t *rng, struct hit *c)
{
    static const char common[] = "https://example.org/records/x/";
    size_t pre = test_rand(rng) % 2 ? sizeof(common) - 1 : 0;

    memcpy(c->id, common, pre);
    c->len = pre + 1 + test_rand(rng) % 12;
    for (size_t i = pre; i < c->len; i++) {
        c->id[i] = (uint8_t)test_rand(rng);
    }
}

static void
paging_run(const char *name, unsigned leaf_cap, unsigned inner_cap)
{
    uint64_t rng;
    struct idx *x;
    size_t n_all = 0;
    size_t cap = 4000;
    struct hit *all = calloc(cap, sizeof(*all));
    struct hit *seen = calloc(cap, sizeof(*seen));
    uint64_t rev = 1;

    seed_begin(name, &rng);
    assert_non_null(all);
    assert_non_null(seen);
    assert_int_equal(idx_new(&x), PC_OK);
    assert_int_equal(idx_set_node_cap(x, leaf_cap, inner_cap), PC_OK);
    while (n_all < 1000) {
        struct hit c;
        rand_page_id(&rng, &c);
        struct idx_key k = { FACT_RECORD, sl("p", 1), sl(c.id, c.len) };
        if (idx_latest(x, &k, NULL) == 0) {
            EXPECT(idx_add(x, &k, 1, rev++) == PC_OK);
            all[n_all++] = c;
        }
    }
    qsort(all, n_all, sizeof(*all), hit_cmp);

    /* Quiet paging reproduces the full order exactly. */
    struct hit cur = { .len = 0 };
    size_t n_seen = 0;
    size_t got;
    do {
        got = page(x, &cur, seen + n_seen);
        n_seen += got;
        EXPECT(n_seen <= n_all);
    } while (got == 7);
    EXPECT(n_seen == n_all);
    for (size_t i = 0; i < n_all; i++) {
        EXPECT(hit_cmp(&seen[i], &all[i]) == 0);
    }

    /* Busy paging: ids added (and some undone) between pages. */
    struct hit *added = calloc(cap, sizeof(*added));
    size_t n_added = 0;
    assert_non_null(added);
    cur.len = 0;
    n_seen = 0;
    do {
        got = page(x, &cur, seen + n_seen);
        n_seen += got;
        EXPECT(n_seen + 7 < cap);
        for (int j = 0; j < 5 && n_added < cap; j++) {
            struct hit c;
            rand_page_id(&rng, &c);
            struct idx_key k = { FACT_RECORD, sl("p", 1), sl(c.id, c.len) };
            if (idx_latest(x, &k, NULL) == 0) {
                EXPECT(idx_add(x, &k, 1, rev++) == PC_OK);
                added[n_added++] = c;
            }
        }
        if (n_added > 0 && test_rand(&rng) % 3 == 0) {
            struct hit *d = &added[--n_added];
            struct idx_key k = { FACT_RECORD, sl("p", 1), sl(d->id, d->len) };
            idx_undo(x, &k);
        }
    } while (got == 7);
    /* Strictly increasing, so no id twice; every original id is there. */
    for (size_t i = 1; i < n_seen; i++) {
        EXPECT(hit_cmp(&seen[i - 1], &seen[i]) < 0);
    }
    size_t j = 0;
    for (size_t i = 0; i < n_seen && j < n_all; i++) {
        if (hit_cmp(&seen[i], &all[j]) == 0) {
            j++;
        }
    }
    EXPECT(j == n_all);
    EXPECT(n_seen > n_all);
    EXPECT(idx_count(x, FACT_RECORD, sl("p", 1)) == n_all + n_added);
    free(added);
    free(seen);
    free(all);
    idx_free(x);
    cur_test = NULL;
}

/* Pages of 7 reproduce the full order, and while ids are added between
 * pages every pre-existing id is still seen exactly once. */
static void
test_idx_scan_paging(void **state)
{
    (void)state;
    paging_run(__func__, 64, 64);
}

/* The same on a deep tree of tiny nodes. */
static void
test_idx_scan_paging_deep(void **state)
{
    (void)state;
    paging_run(__func__, 2, 3);
}

/* The index's whole observable state for the OOM tests. */
static void
dump(const struct idx *x, const struct gdesc *gs, size_t n_gs, struct pc_buf *b)
{
    struct hits hs;

    hits_init(&hs, 2048, 0);
    b->len = 0;
    for (size_t g = 0; g < n_gs; g++) {
        struct pc_slice parent = sl(gs[g].parent, gs[g].plen);
        hs.n = 0;
        assert_int_equal(pc_buf_put_u64le(b, idx_count(x, gs[g].kind, parent)),
                         PC_OK);
        idx_scan(x, gs[g].kind, parent, sl(NULL, 0), sl(NULL, 0), collect, &hs);
        for (size_t i = 0; i < hs.n; i++) {
            struct idx_key k = { gs[g].kind, parent,
                                 sl(hs.h[i].id, hs.h[i].len) };
            uint64_t rev;
            assert_int_equal(pc_buf_put_lp(b, hs.h[i].id, hs.h[i].len), PC_OK);
            assert_int_equal(pc_buf_put_u64le(b, hs.h[i].latest), PC_OK);
            assert_int_equal(pc_buf_put_u64le(b, hs.h[i].rev), PC_OK);
            assert_int_equal(idx_latest(x, &k, NULL), hs.h[i].latest);
            for (uint64_t v = 1; v <= hs.h[i].latest; v++) {
                assert_int_equal(idx_version_rev(x, &k, v, &rev), PC_OK);
                assert_int_equal(pc_buf_put_u64le(b, rev), PC_OK);
            }
        }
    }
    free(hs.h);
}

struct oom_ent {
    uint32_t grp;
    char id[64];
    uint64_t n;
};

static void
oom_run(const char *name, unsigned leaf_cap, unsigned inner_cap, int n_ops)
{
    enum {
        N_GRPS = 20
    };
    static char parents[N_GRPS][4];
    struct gdesc gs[N_GRPS];
    struct oom_ent *ents = calloc((size_t)n_ops, sizeof(*ents));
    size_t n_ents = 0;
    uint64_t rng;
    uint64_t rev = 1;
    struct idx *x;
    struct pc_buf before;
    struct pc_buf after;
    int n_fail = 0;
    int max_allocs = 0;

    seed_begin(name, &rng);
    assert_non_null(ents);
    for (int g = 0; g < N_GRPS; g++) {
        snprintf(parents[g], sizeof(parents[g]), "p%02d", g);
        gs[g] = (struct gdesc){ FACT_RECORD, parents[g], 3 };
    }
    pc_buf_init(&before);
    pc_buf_init(&after);
    assert_int_equal(idx_new(&x), PC_OK);
    assert_int_equal(idx_set_node_cap(x, leaf_cap, inner_cap), PC_OK);
    for (int op = 0; op < n_ops; op++) {
        struct oom_ent *t;
        if (n_ents == 0 || test_rand(&rng) % 10 < 7) {
            t = &ents[n_ents++];
            /* Groups appear one by one, then most ids go to group 0. */
            t->grp = op < 2 * N_GRPS ? (uint32_t)(op / 2)
                     : test_rand(&rng) % 4 == 0
                         ? (uint32_t)(test_rand(&rng) % N_GRPS)
                         : 0;
            /* Half share a long prefix: out-of-line separators. */
            snprintf(t->id, sizeof(t->id), "%s%08x-%d",
                     op % 2 ? "https://example.org/records/x/" : "",
                     (unsigned)test_rand(&rng), op);
        } else {
            t = &ents[test_rand(&rng) % n_ents];
        }
        struct idx_key k = { FACT_RECORD, sl(parents[t->grp], 3),
                             sl(t->id, strlen(t->id)) };
        dump(x, gs, N_GRPS, &before);
        int rc;
        for (int fail_at = 0;; fail_at++) {
            pc_alloc_fault(fail_at, 1);
            rc = idx_add(x, &k, t->n + 1, rev);
            pc_alloc_fault_off();
            if (rc == PC_OK) {
                if (fail_at > max_allocs) {
                    max_allocs = fail_at;
                }
                break;
            }
            EXPECT(rc == PC_ENOMEM);
            n_fail++;
            dump(x, gs, N_GRPS, &after);
            EXPECT(after.len == before.len);
            EXPECT(memcmp(after.data, before.data, after.len) == 0);
        }
        t->n++;
        rev++;
    }
    /* Rehashes, splits and new roots took several allocations in one add. */
    EXPECT(n_fail > n_ops);
    EXPECT(max_allocs >= 4);
    for (size_t i = 0; i < n_ents; i++) {
        struct idx_key k = { FACT_RECORD, sl(parents[ents[i].grp], 3),
                             sl(ents[i].id, strlen(ents[i].id)) };
        EXPECT(idx_latest(x, &k, NULL) == ents[i].n);
    }
    pc_buf_release(&before);
    pc_buf_release(&after);
    idx_free(x);
    free(ents);
    cur_test = NULL;
}

/* Every allocation of every add failing in turn (rehash, group creation,
 * revision arrays, leaf splits, root) returns PC_ENOMEM and leaves the
 * index exactly as before; default nodes. */
static void
test_idx_add_oom_leaves_no_trace(void **state)
{
    (void)state;
    oom_run(__func__, 64, 64, 400);
}

/* The same with tiny nodes, so inner splits and new roots fail too. */
static void
test_idx_add_oom_leaves_no_trace_deep(void **state)
{
    (void)state;
    oom_run(__func__, 4, 4, 300);
    oom_run(__func__, 2, 3, 200);
}

/* idx_new reports an allocation failure; node caps are checked. */
static void
test_idx_new_oom_and_caps(void **state)
{
    struct idx *x = NULL;
    struct idx_key k = skey(FACT_RECORD, "e", "k");

    (void)state;
    pc_alloc_fault(0, 1);
    assert_int_equal(idx_new(&x), PC_ENOMEM);
    pc_alloc_fault_off();
    assert_null(x);
    assert_int_equal(idx_new(&x), PC_OK);
    assert_int_equal(idx_set_node_cap(x, 1, 64), PC_EINVAL);
    assert_int_equal(idx_set_node_cap(x, 65, 64), PC_EINVAL);
    assert_int_equal(idx_set_node_cap(x, 64, 2), PC_EINVAL);
    assert_int_equal(idx_add(x, &k, 1, 1), PC_OK);
    assert_int_equal(idx_set_node_cap(x, 4, 4), PC_EINVAL);
    idx_free(x);
    idx_free(NULL);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct bench_acc {
    uint64_t sum;
    uint64_t n;
};

static bool
bench_cb(void *arg, struct pc_slice id, uint64_t latest, uint64_t rev)
{
    struct bench_acc *a = arg;

    a->sum += latest + rev + id.len;
    a->n++;
    return a->n < 1000;
}

/* The entity table grows by moving a few slots per insert: every key stays
 * found while its old and new arrays coexist, a second version can land on
 * an entity not yet moved, and an undo right after a growth (the move is
 * finished first) removes exactly its key. */
static void
test_idx_grows_in_steps(void **state)
{
    enum {
        N = 2000,
        GROUPS = 37
    };
    static const size_t grown[] = { 12, 96, 192, 384, 768, 1536 };
    static char parents[N][8], ids[N][48];
    static struct idx_key keys[N];
    static uint64_t latest[N];
    struct idx *x;
    uint64_t rev = 0;
    size_t since_growth = SIZE_MAX;

    (void)state;
    for (size_t m = 0; m < N; m++) {
        snprintf(parents[m], sizeof(parents[m]), "p%zu", m % GROUPS);
        snprintf(ids[m], sizeof(ids[m]), "key-with-a-long-shared-prefix-%zu",
                 m);
        keys[m] = skey(FACT_RECORD, parents[m], ids[m]);
        latest[m] = 0;
    }
    assert_int_equal(idx_new(&x), PC_OK);
    for (size_t i = 0; i < N; i++) {
        size_t j = (i * 7919) % N; /* every key once, scattered */
        assert_int_equal(idx_add(x, &keys[j], 1, ++rev), PC_OK);
        latest[j] = 1;
        since_growth++;
        for (size_t g = 0; g < sizeof(grown) / sizeof(grown[0]); g++) {
            if (i != grown[g]) {
                continue;
            }
            since_growth = 0;
            idx_undo(x, &keys[j]);
            assert_int_equal(idx_latest(x, &keys[j], NULL), 0);
            assert_int_equal(idx_add(x, &keys[j], 1, ++rev), PC_OK);
        }
        if (i % 50 == 49 && latest[(i * 13) % N] == 1) {
            size_t o = (i * 13) % N;
            assert_int_equal(idx_add(x, &keys[o], 2, ++rev), PC_OK);
            latest[o] = 2;
        }
        /* Every key, often while a move is under way. */
        if (since_growth < 24 || i % 32 == 0) {
            for (size_t m = 0; m < N; m++) {
                EXPECT(idx_latest(x, &keys[m], NULL) == latest[m]);
            }
        }
    }
    uint64_t total = 0;
    for (size_t g = 0; g < GROUPS; g++) {
        total += idx_count(x, FACT_RECORD, PC_SLICE_STR(parents[g]));
    }
    assert_int_equal(total, N);
    idx_free(x);
}

/* Record ids of ~20 bytes under 10 entries: counts, cursor scans and
 * lookups hold at scale. PC_IDX_BENCH=1 runs 1M entities and prints
 * timings and memory. */
static void
test_idx_scale(void **state)
{
    bool bench = getenv("PC_IDX_BENCH") != NULL;
    size_t n = bench ? 1000000 : 30000;
    struct idx *x;
    char id[32];
    char parent[16];
    struct mallinfo2 m0 = mallinfo2();
    uint64_t rng = 12345;

    (void)state;
    assert_int_equal(idx_new(&x), PC_OK);
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        uint64_t h = i * 0x9e3779b97f4a7c15u;
        snprintf(parent, sizeof(parent), "entry-%zu", i % 10);
        snprintf(id, sizeof(id), "rec-%016llx", (unsigned long long)h);
        struct idx_key k = skey(FACT_RECORD, parent, id);
        assert_int_equal(idx_add(x, &k, 1, i + 1), PC_OK);
    }
    double t1 = now_s();
    struct mallinfo2 m1 = mallinfo2();
    uint64_t total = 0;
    for (int p = 0; p < 10; p++) {
        snprintf(parent, sizeof(parent), "entry-%d", p);
        total += idx_count(x, FACT_RECORD, PC_SLICE_STR(parent));
    }
    assert_int_equal(total, n);
    /* At least the ids themselves, at most a generous bound per entity. */
    assert_true(idx_mem(x) > n * 20 && idx_mem(x) < n * 200);

    /* Scans of 1000 ids from random cursors. */
    int n_scans = 1000;
    double t2 = now_s();
    for (int s = 0; s < n_scans; s++) {
        size_t i = test_rand(&rng) % n;
        struct bench_acc acc = { 0, 0 };
        snprintf(parent, sizeof(parent), "entry-%zu", i % 10);
        snprintf(id, sizeof(id), "rec-%016llx",
                 (unsigned long long)(i * 0x9e3779b97f4a7c15u));
        uint64_t got =
            idx_scan(x, FACT_RECORD, PC_SLICE_STR(parent), PC_SLICE_STR("rec-"),
                     PC_SLICE_STR(id), bench_cb, &acc);
        assert_true(got == acc.n && got <= 1000);
    }
    double t3 = now_s();

    /* Lookups of existing ids. */
    int n_look = 200000;
    double t4 = now_s();
    for (int s = 0; s < n_look; s++) {
        size_t i = test_rand(&rng) % n;
        uint64_t rev;
        snprintf(parent, sizeof(parent), "entry-%zu", i % 10);
        snprintf(id, sizeof(id), "rec-%016llx",
                 (unsigned long long)(i * 0x9e3779b97f4a7c15u));
        struct idx_key k = skey(FACT_RECORD, parent, id);
        assert_int_equal(idx_latest(x, &k, &rev), 1);
        assert_true(rev == i + 1);
    }
    double t5 = now_s();
    if (bench) {
        printf("idx: %zu adds in %.3f s: %.0f adds/s\n", n, t1 - t0,
               (double)n / (t1 - t0));
        printf("idx: idx_mem %.1f bytes/entity, heap (mallinfo2) %.1f "
               "bytes/entity\n",
               (double)idx_mem(x) / (double)n,
               (double)(m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd) /
                   (double)n);
        printf("idx: scan 1000 ids from a cursor: %.1f us\n",
               (t3 - t2) * 1e6 / n_scans);
        printf("idx: idx_latest (incl. snprintf of the key): %.0f ns\n",
               (t5 - t4) * 1e9 / n_look);
    }
    idx_free(x);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_add_rejects_bad_versions),
        cmocka_unit_test(test_idx_keys_are_distinct),
        cmocka_unit_test(test_idx_undo_versions_and_entities),
        cmocka_unit_test(test_idx_model_random),
        cmocka_unit_test(test_idx_model_random_deep),
        cmocka_unit_test(test_idx_scan_prefix_after),
        cmocka_unit_test(test_idx_scan_prefix_after_deep),
        cmocka_unit_test(test_idx_scan_paging),
        cmocka_unit_test(test_idx_scan_paging_deep),
        cmocka_unit_test(test_idx_add_oom_leaves_no_trace),
        cmocka_unit_test(test_idx_add_oom_leaves_no_trace_deep),
        cmocka_unit_test(test_idx_new_oom_and_caps),
        cmocka_unit_test(test_idx_grows_in_steps),
        cmocka_unit_test(test_idx_scale),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("idx", tests, NULL, NULL);
}
