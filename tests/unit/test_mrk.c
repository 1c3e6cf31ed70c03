/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for storage/mrk: roots and proofs against a reference written
 * straight from the recursive definitions of RFC 6962 §2.1 (MTH, PATH,
 * PROOF/SUBPROOF), the verifiers against every tampering we can think of,
 * out-of-memory during append, and truncate.
 */
#include "tests/lib/test.h"

#include <pthread.h>

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "storage/mrk.h"

#define SMALL 64 /* every size, index and pair up to this is checked */

struct ref_path {
    uint8_t h[MRK_MAX_PATH][PC_HASH_LEN];
    size_t len;
};

/* Leaf i of every test tree: a distinct H(0x00 ‖ i) as the ledger makes. */
static void
leaf_of(uint64_t i, uint8_t out[PC_HASH_LEN])
{
    pc_hash_prefixed(out, PC_HASH_LEAF, &i, sizeof(i), NULL, 0);
}

static uint8_t (*leaves_new(uint64_t n))[PC_HASH_LEN]
{
    uint8_t(*d)[PC_HASH_LEN] = pc_malloc((n + 1) * PC_HASH_LEN);

    assert_non_null(d);
    for (uint64_t i = 0; i < n; i++) {
        leaf_of(i, d[i]);
    }
    return d;
}

static struct mrk *
tree_of(uint64_t n)
{
    struct mrk *t;
    uint8_t leaf[PC_HASH_LEN];

    assert_int_equal(mrk_new(&t), PC_OK);
    for (uint64_t i = 0; i < n; i++) {
        leaf_of(i, leaf);
        assert_int_equal(mrk_append(t, leaf), PC_OK);
    }
    return t;
}

/* k in the RFC: the largest power of two smaller than n, by counting. */
static uint64_t
ref_split(uint64_t n)
{
    uint64_t k = 1;

    while (k * 2 < n) {
        k *= 2;
    }
    return k;
}

/* MTH(D[n]) of RFC 6962 §2.1, leaves given as their leaf hashes. */
static void
ref_mth(const uint8_t (*d)[PC_HASH_LEN], uint64_t n, uint8_t out[PC_HASH_LEN])
{
    uint8_t l[PC_HASH_LEN], r[PC_HASH_LEN];

    if (n == 0) {
        pc_hash(out, "", 0);
        return;
    }
    if (n == 1) {
        memcpy(out, d[0], PC_HASH_LEN);
        return;
    }
    uint64_t k = ref_split(n);
    ref_mth(d, k, l);
    ref_mth(d + k, n - k, r);
    pc_hash_prefixed(out, PC_HASH_NODE, l, PC_HASH_LEN, r, PC_HASH_LEN);
}

static void
ref_push(struct ref_path *p, const uint8_t (*d)[PC_HASH_LEN], uint64_t n)
{
    assert_true(p->len < MRK_MAX_PATH);
    ref_mth(d, n, p->h[p->len++]);
}

/* PATH(m, D[n]) of RFC 6962 §2.1.1. */
static void
ref_path(uint64_t m, const uint8_t (*d)[PC_HASH_LEN], uint64_t n,
         struct ref_path *p)
{
    if (n == 1) {
        return;
    }
    uint64_t k = ref_split(n);
    if (m < k) {
        ref_path(m, d, k, p);
        ref_push(p, d + k, n - k);
    } else {
        ref_path(m - k, d + k, n - k, p);
        ref_push(p, d, k);
    }
}

/* SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2. */
static void
ref_subproof(uint64_t m, const uint8_t (*d)[PC_HASH_LEN], uint64_t n, bool b,
             struct ref_path *p)
{
    if (m == n) {
        if (!b) {
            ref_push(p, d, n);
        }
        return;
    }
    uint64_t k = ref_split(n);
    if (m <= k) {
        ref_subproof(m, d, k, b, p);
        ref_push(p, d + k, n - k);
    } else {
        ref_subproof(m - k, d + k, n - k, false, p);
        ref_push(p, d, k);
    }
}

static void
check_inclusion_matches(const struct mrk *t, const uint8_t (*d)[PC_HASH_LEN],
                        uint64_t i, uint64_t n)
{
    struct ref_path want = { .len = 0 };
    uint8_t got[MRK_MAX_PATH][PC_HASH_LEN];
    size_t len = 999;

    ref_path(i, d, n, &want);
    assert_int_equal(mrk_inclusion(t, i, n, got, &len), PC_OK);
    assert_int_equal(len, want.len);
    assert_memory_equal(got, want.h, len * PC_HASH_LEN);
}

static void
check_consistency_matches(const struct mrk *t, const uint8_t (*d)[PC_HASH_LEN],
                          uint64_t m, uint64_t n)
{
    struct ref_path want = { .len = 0 };
    uint8_t got[MRK_MAX_PATH][PC_HASH_LEN];
    size_t len = 999;

    ref_subproof(m, d, n, true, &want);
    assert_int_equal(mrk_consistency(t, m, n, got, &len), PC_OK);
    assert_int_equal(len, want.len);
    assert_memory_equal(got, want.h, len * PC_HASH_LEN);
}

/* The empty tree's root is H("") (known answer); nothing else is in range. */
static void
test_mrk_empty_root_known_answer(void **state)
{
    struct mrk *t;
    uint8_t root[PC_HASH_LEN], path[MRK_MAX_PATH][PC_HASH_LEN];
    char hex[PC_HASH_HEX_LEN + 1];
    size_t len = 7;

    (void)state;
    assert_int_equal(mrk_new(&t), PC_OK);
    assert_int_equal(mrk_size(t), 0);
    assert_int_equal(mrk_root(t, 0, root), PC_OK);
    pc_hex(hex, root, PC_HASH_LEN);
    assert_string_equal(
        hex,
        "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    assert_int_equal(mrk_root(t, 1, root), PC_ERANGE);
    assert_int_equal(mrk_leaf(t, 0, root), PC_ENOTFOUND);
    assert_int_equal(mrk_inclusion(t, 0, 0, path, &len), PC_ERANGE);
    assert_int_equal(mrk_inclusion(t, 0, 1, path, &len), PC_ERANGE);
    assert_int_equal(mrk_consistency(t, 0, 0, path, &len), PC_ERANGE);
    assert_int_equal(len, 7);
    assert_true(mrk_mem(t) > 0);
    mrk_free(t);
    mrk_free(NULL);
}

/* A one-leaf tree's root is the leaf itself, and its proofs are empty. */
static void
test_mrk_one_leaf_root_is_leaf(void **state)
{
    struct mrk *t = tree_of(1);
    uint8_t leaf[PC_HASH_LEN], root[PC_HASH_LEN], got[PC_HASH_LEN];
    uint8_t path[MRK_MAX_PATH][PC_HASH_LEN];
    size_t len = 7;

    (void)state;
    leaf_of(0, leaf);
    assert_int_equal(mrk_size(t), 1);
    assert_int_equal(mrk_root(t, 1, root), PC_OK);
    assert_memory_equal(root, leaf, PC_HASH_LEN);
    assert_int_equal(mrk_leaf(t, 0, got), PC_OK);
    assert_memory_equal(got, leaf, PC_HASH_LEN);
    assert_int_equal(mrk_leaf(t, 1, got), PC_ENOTFOUND);
    assert_int_equal(mrk_inclusion(t, 0, 1, path, &len), PC_OK);
    assert_int_equal(len, 0);
    assert_true(mrk_verify_inclusion(leaf, 0, 1, path, 0, root));
    len = 7;
    assert_int_equal(mrk_consistency(t, 1, 1, path, &len), PC_OK);
    assert_int_equal(len, 0);
    assert_true(mrk_verify_consistency(1, 1, root, root, path, 0));
    mrk_free(t);
}

/* The cached root after each append and mrk_root of every smaller size
 * equal the reference MTH, and every leaf reads back as appended. */
static void
test_mrk_roots_match_reference(void **state)
{
    uint8_t(*d)[PC_HASH_LEN] = leaves_new(SMALL);
    uint8_t want[PC_HASH_LEN], got[PC_HASH_LEN];
    struct mrk *t;

    (void)state;
    assert_int_equal(mrk_new(&t), PC_OK);
    for (uint64_t n = 0; n <= SMALL; n++) {
        if (n > 0) {
            assert_int_equal(mrk_append(t, d[n - 1]), PC_OK);
        }
        assert_int_equal(mrk_size(t), n);
        for (uint64_t s = 0; s <= n; s++) {
            ref_mth(d, s, want);
            assert_int_equal(mrk_root(t, s, got), PC_OK);
            assert_memory_equal(got, want, PC_HASH_LEN);
        }
        assert_int_equal(mrk_root(t, n + 1, got), PC_ERANGE);
    }
    for (uint64_t i = 0; i < SMALL; i++) {
        assert_int_equal(mrk_leaf(t, i, got), PC_OK);
        assert_memory_equal(got, d[i], PC_HASH_LEN);
    }
    mrk_free(t);
    pc_free(d);
}

/* Inclusion proofs for every (i, n) up to SMALL are the RFC's PATH, hash
 * for hash and in order; out-of-range arguments are refused. */
static void
test_mrk_inclusion_matches_reference(void **state)
{
    uint8_t(*d)[PC_HASH_LEN] = leaves_new(SMALL);
    struct mrk *t = tree_of(SMALL);
    uint8_t path[MRK_MAX_PATH][PC_HASH_LEN];
    size_t len = 7;

    (void)state;
    for (uint64_t n = 1; n <= SMALL; n++) {
        for (uint64_t i = 0; i < n; i++) {
            check_inclusion_matches(t, d, i, n);
        }
        assert_int_equal(mrk_inclusion(t, n, n, path, &len), PC_ERANGE);
    }
    assert_int_equal(mrk_inclusion(t, 0, SMALL + 1, path, &len), PC_ERANGE);
    assert_int_equal(len, 7);
    mrk_free(t);
    pc_free(d);
}

/* Consistency proofs for every (m, n) up to SMALL are the RFC's PROOF;
 * m == 0 and m > n are refused. */
static void
test_mrk_consistency_matches_reference(void **state)
{
    uint8_t(*d)[PC_HASH_LEN] = leaves_new(SMALL);
    struct mrk *t = tree_of(SMALL);
    uint8_t path[MRK_MAX_PATH][PC_HASH_LEN];
    size_t len = 7;

    (void)state;
    for (uint64_t n = 1; n <= SMALL; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            check_consistency_matches(t, d, m, n);
        }
        assert_int_equal(mrk_consistency(t, 0, n, path, &len), PC_ERANGE);
        assert_int_equal(mrk_consistency(t, n + 1, n, path, &len), PC_ERANGE);
    }
    assert_int_equal(mrk_consistency(t, 1, SMALL + 1, path, &len), PC_ERANGE);
    assert_int_equal(len, 7);
    mrk_free(t);
    pc_free(d);
}

/* At random larger sizes (seeded) roots and both proofs still match the
 * reference, and verify. */
static void
test_mrk_random_sizes_match_reference(void **state)
{
    const uint64_t max = 5000;
    uint8_t(*d)[PC_HASH_LEN] = leaves_new(max);
    struct mrk *t = tree_of(max);
    uint64_t seed = test_seed(), rs = seed;
    uint8_t want[PC_HASH_LEN], got[PC_HASH_LEN], rm[PC_HASH_LEN];
    uint8_t path[MRK_MAX_PATH][PC_HASH_LEN];
    size_t len;

    (void)state;
    test_seed_note(__func__, seed);
    for (int round = 0; round < 40; round++) {
        uint64_t n = 1 + test_rand(&rs) % max;
        uint64_t i = test_rand(&rs) % n;
        uint64_t m = 1 + test_rand(&rs) % n;

        ref_mth(d, n, want);
        assert_int_equal(mrk_root(t, n, got), PC_OK);
        assert_memory_equal(got, want, PC_HASH_LEN);
        check_inclusion_matches(t, d, i, n);
        check_consistency_matches(t, d, m, n);

        assert_int_equal(mrk_inclusion(t, i, n, path, &len), PC_OK);
        assert_true(mrk_verify_inclusion(d[i], i, n, path, len, got));
        assert_int_equal(mrk_root(t, m, rm), PC_OK);
        assert_int_equal(mrk_consistency(t, m, n, path, &len), PC_OK);
        assert_true(mrk_verify_consistency(m, n, rm, got, path, len));
    }
    mrk_free(t);
    pc_free(d);
}

/*
 * Bits of a path hash to flip in proofs of trees of size `n`: all 256 up to
 * ALL_BITS_UPTO (every proof shape up to 16 leaves), above that a bit in
 * the first, last and two middle bytes, which still catches a verifier that
 * skips an element or part of one and keeps the binary within seconds (a
 * hash costs about half a microsecond here).
 */
#define ALL_BITS_UPTO 16

static const int sample_bits[] = { 0, 10 * 8 + 2, 21 * 8 + 5, 31 * 8 + 7 };

static int
n_flips(uint64_t n)
{
    return n <= ALL_BITS_UPTO ? PC_HASH_LEN * 8 : 4;
}

static int
flip_bit(uint64_t n, int k)
{
    return n <= ALL_BITS_UPTO ? k : sample_bits[k];
}

/* The root an extra path element `x` would lead a verifier to: H(1 ‖ x ‖ r). */
static void
extended(uint8_t out[PC_HASH_LEN], const uint8_t *x, const uint8_t *r)
{
    pc_hash_prefixed(out, PC_HASH_NODE, x, PC_HASH_LEN, r, PC_HASH_LEN);
}

/* Path length mrk_inclusion gives for (i, n), or mrk_consistency for
 * (m, n) when `cons`. */
static size_t
proof_len(const struct mrk *t, bool cons, uint64_t a, uint64_t n)
{
    uint8_t path[MRK_MAX_PATH][PC_HASH_LEN];
    size_t len;

    if (cons) {
        assert_int_equal(mrk_consistency(t, a, n, path, &len), PC_OK);
    } else {
        assert_int_equal(mrk_inclusion(t, a, n, path, &len), PC_OK);
    }
    return len;
}

/* Flip bits of each path hash in turn; verification must fail. */
static void
check_flips_fail_inclusion(const uint8_t *leaf, uint64_t i, uint64_t n,
                           uint8_t (*path)[PC_HASH_LEN], size_t len,
                           const uint8_t *root)
{
    for (size_t e = 0; e < len; e++) {
        for (int k = 0; k < n_flips(n); k++) {
            int bit = flip_bit(n, k);
            path[e][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            bool ok = mrk_verify_inclusion(
                leaf, i, n, (const uint8_t(*)[PC_HASH_LEN])path, len, root);
            path[e][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_false(ok);
        }
    }
}

/* Every inclusion proof up to SMALL verifies, and fails with any bit of any
 * path hash, of the leaf or of the root flipped, with another index, with
 * another size and that size's root (or the same root when that size needs
 * another path length), with i >= n, and with an element dropped or added
 * at either end, even when the root is made to match the extra element. */
static void
test_mrk_inclusion_verifies_and_rejects_tampering(void **state)
{
    struct mrk *t = tree_of(SMALL + 1);
    uint8_t(*d)[PC_HASH_LEN] = leaves_new(SMALL + 1);
    uint8_t roots[SMALL + 2][PC_HASH_LEN], bad[PC_HASH_LEN];
    uint8_t path[MRK_MAX_PATH + 1][PC_HASH_LEN];
    size_t len;

    (void)state;
    for (uint64_t n = 0; n <= SMALL + 1; n++) {
        assert_int_equal(mrk_root(t, n, roots[n]), PC_OK);
    }
    for (uint64_t n = 1; n <= SMALL; n++) {
        for (uint64_t i = 0; i < n; i++) {
            const uint8_t(*cp)[PC_HASH_LEN] =
                (const uint8_t(*)[PC_HASH_LEN])path;
            assert_int_equal(mrk_inclusion(t, i, n, path, &len), PC_OK);
            assert_true(mrk_verify_inclusion(d[i], i, n, cp, len, roots[n]));

            check_flips_fail_inclusion(d[i], i, n, path, len, roots[n]);
            for (int bit = 0; bit < PC_HASH_LEN * 8; bit += 7) {
                memcpy(bad, d[i], PC_HASH_LEN);
                bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                assert_false(
                    mrk_verify_inclusion(bad, i, n, cp, len, roots[n]));
                memcpy(bad, roots[n], PC_HASH_LEN);
                bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                assert_false(mrk_verify_inclusion(d[i], i, n, cp, len, bad));
            }
            for (uint64_t j = 0; j <= n; j++) {
                if (j != i) {
                    assert_false(
                        mrk_verify_inclusion(d[i], j, n, cp, len, roots[n]));
                }
            }
            for (uint64_t n2 = i + 1; n2 <= SMALL + 1; n2++) {
                if (n2 != n) {
                    assert_false(
                        mrk_verify_inclusion(d[i], i, n2, cp, len, roots[n2]));
                    if (proof_len(t, false, i, n2) != len) {
                        assert_false(mrk_verify_inclusion(d[i], i, n2, cp, len,
                                                          roots[n]));
                    }
                }
            }
            if (len > 0) {
                assert_false(
                    mrk_verify_inclusion(d[i], i, n, cp, len - 1, roots[n]));
                assert_false(mrk_verify_inclusion(d[i], i, n, cp + 1, len - 1,
                                                  roots[n]));
            }
            /* An extra hash at the end, then at the front. */
            memcpy(path[len], d[n], PC_HASH_LEN);
            assert_false(
                mrk_verify_inclusion(d[i], i, n, cp, len + 1, roots[n]));
            extended(bad, d[n], roots[n]);
            assert_false(mrk_verify_inclusion(d[i], i, n, cp, len + 1, bad));
            memmove(path[1], path[0], len * PC_HASH_LEN);
            memcpy(path[0], d[n], PC_HASH_LEN);
            assert_false(
                mrk_verify_inclusion(d[i], i, n, cp, len + 1, roots[n]));
        }
    }
    assert_false(mrk_verify_inclusion(d[0], 0, 0, NULL, 0, roots[0]));
    mrk_free(t);
    pc_free(d);
}

static void
check_flips_fail_consistency(uint64_t m, uint64_t n, const uint8_t *rm,
                             const uint8_t *rn, uint8_t (*path)[PC_HASH_LEN],
                             size_t len)
{
    for (size_t e = 0; e < len; e++) {
        for (int k = 0; k < n_flips(n); k++) {
            int bit = flip_bit(n, k);
            path[e][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            bool ok = mrk_verify_consistency(
                m, n, rm, rn, (const uint8_t(*)[PC_HASH_LEN])path, len);
            path[e][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_false(ok);
        }
    }
}

/* Every consistency proof up to SMALL verifies (m == n with an empty proof,
 * m a power of two included), and fails with any bit of any path hash or of
 * either root flipped, with another m or n and its root (or the same roots
 * when that pair needs another path length), with the roots swapped, with
 * m == 0 or m > n, with no path at all, and with an element dropped or
 * added, even when the roots are made to match the extra element. */
static void
test_mrk_consistency_verifies_and_rejects_tampering(void **state)
{
    struct mrk *t = tree_of(SMALL + 1);
    uint8_t(*d)[PC_HASH_LEN] = leaves_new(SMALL + 1);
    uint8_t roots[SMALL + 2][PC_HASH_LEN], bad[PC_HASH_LEN];
    uint8_t path[MRK_MAX_PATH + 1][PC_HASH_LEN];
    const uint8_t(*cp)[PC_HASH_LEN] = (const uint8_t(*)[PC_HASH_LEN])path;
    size_t len;

    (void)state;
    for (uint64_t n = 0; n <= SMALL + 1; n++) {
        assert_int_equal(mrk_root(t, n, roots[n]), PC_OK);
    }
    for (uint64_t n = 1; n <= SMALL; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            const uint8_t *rm = roots[m], *rn = roots[n];
            assert_int_equal(mrk_consistency(t, m, n, path, &len), PC_OK);
            assert_true(len > 0 || m == n);
            assert_true(mrk_verify_consistency(m, n, rm, rn, cp, len));

            check_flips_fail_consistency(m, n, rm, rn, path, len);
            for (int bit = 0; bit < PC_HASH_LEN * 8; bit += 7) {
                memcpy(bad, rm, PC_HASH_LEN);
                bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                assert_false(mrk_verify_consistency(m, n, bad, rn, cp, len));
                memcpy(bad, rn, PC_HASH_LEN);
                bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                assert_false(mrk_verify_consistency(m, n, rm, bad, cp, len));
            }
            for (uint64_t m2 = 0; m2 <= n + 1; m2++) {
                if (m2 != m) {
                    assert_false(
                        mrk_verify_consistency(m2, n, roots[m2], rn, cp, len));
                    if (m2 > 0 && m2 <= n && proof_len(t, true, m2, n) != len) {
                        assert_false(
                            mrk_verify_consistency(m2, n, rm, rn, cp, len));
                    }
                }
            }
            for (uint64_t n2 = 1; n2 <= SMALL + 1; n2++) {
                if (n2 != n) {
                    assert_false(
                        mrk_verify_consistency(m, n2, rm, roots[n2], cp, len));
                    if (m <= n2 && proof_len(t, true, m, n2) != len) {
                        assert_false(
                            mrk_verify_consistency(m, n2, rm, rn, cp, len));
                    }
                }
            }
            if (m != n) {
                assert_false(mrk_verify_consistency(m, n, rn, rm, cp, len));
                assert_false(mrk_verify_consistency(n, m, rn, rm, cp, len));
                assert_false(mrk_verify_consistency(m, n, rm, rn, cp, 0));
                assert_false(mrk_verify_consistency(m, n, rm, rn, NULL, 0));
            }
            if (len > 0) {
                assert_false(mrk_verify_consistency(m, n, rm, rn, cp, len - 1));
                assert_false(
                    mrk_verify_consistency(m, n, rm, rn, cp + 1, len - 1));
            }
            memcpy(path[len], d[n], PC_HASH_LEN);
            assert_false(mrk_verify_consistency(m, n, rm, rn, cp, len + 1));
            uint8_t xm[PC_HASH_LEN], xn[PC_HASH_LEN];
            extended(xm, d[n], rm);
            extended(xn, d[n], rn);
            assert_false(mrk_verify_consistency(m, n, xm, xn, cp, len + 1));
            memmove(path[1], path[0], len * PC_HASH_LEN);
            memcpy(path[0], d[n], PC_HASH_LEN);
            assert_false(mrk_verify_consistency(m, n, rm, rn, cp, len + 1));
        }
        assert_false(mrk_verify_consistency(0, n, roots[0], roots[n], cp, 0));
    }
    assert_false(mrk_verify_consistency(0, 0, roots[0], roots[0], NULL, 0));
    mrk_free(t);
    pc_free(d);
}

/* Appends until size `target`, checking each against a twin tree that
 * never fails: every allocation failing (once, then for good) leaves size,
 * leaves and roots unchanged, and the append then succeeds. Returns how
 * many appends failed. */
static unsigned long
append_under_oom(struct mrk *t, struct mrk *twin, uint64_t target)
{
    uint8_t leaf[PC_HASH_LEN], before[PC_HASH_LEN], got[PC_HASH_LEN];
    uint8_t last[PC_HASH_LEN];
    unsigned long failed = 0;

    while (mrk_size(t) < target) {
        uint64_t s = mrk_size(t);
        leaf_of(s, leaf);
        assert_int_equal(mrk_root(t, s, before), PC_OK);
        /* A failed append keeps what it reserved, so one success then one
         * failure per attempt walks the failure through every allocation
         * the append needs, in order; the first attempt fails them all. */
        for (long k = 0;; k++) {
            pc_alloc_fault(k == 0 ? 0 : 1, k == 0 ? -1 : 1);
            int rc = mrk_append(t, leaf);
            pc_alloc_fault_off();
            if (rc == PC_OK) {
                break;
            }
            failed++;
            assert_int_equal(rc, PC_ENOMEM);
            assert_int_equal(mrk_size(t), s);
            assert_int_equal(mrk_root(t, s, got), PC_OK);
            assert_memory_equal(got, before, PC_HASH_LEN);
            assert_int_equal(mrk_leaf(t, s, got), PC_ENOTFOUND);
            if (s > 0) {
                assert_int_equal(mrk_leaf(t, s - 1, got), PC_OK);
                leaf_of(s - 1, last);
                assert_memory_equal(got, last, PC_HASH_LEN);
                assert_int_equal(mrk_root(t, s - 1, got), PC_OK);
                assert_int_equal(mrk_root(twin, s - 1, last), PC_OK);
                assert_memory_equal(got, last, PC_HASH_LEN);
            }
        }
        assert_int_equal(mrk_append(twin, leaf), PC_OK);
        assert_int_equal(mrk_root(t, s + 1, got), PC_OK);
        assert_int_equal(mrk_root(twin, s + 1, last), PC_OK);
        assert_memory_equal(got, last, PC_HASH_LEN);
    }
    return failed;
}

/* Out of memory in mrk_new or anywhere in mrk_append (first leaf, each
 * power of two, the first chunk's growth, the second chunk and directory)
 * returns PC_ENOMEM and leaves the tree unchanged. */
static void
test_mrk_append_survives_every_oom(void **state)
{
    struct mrk *t = NULL, *twin;
    uint8_t leaf[PC_HASH_LEN];

    (void)state;
    pc_alloc_fault(0, 1);
    assert_int_equal(mrk_new(&t), PC_ENOMEM);
    pc_alloc_fault_off();
    assert_null(t);

    assert_int_equal(mrk_new(&t), PC_OK);
    assert_int_equal(mrk_new(&twin), PC_OK);
    /* Every append up to 300 runs under faults: all the small growth. */
    assert_true(append_under_oom(t, twin, 300) > 0);
    /* Then cross the first full-chunk boundary (65536) under faults. */
    while (mrk_size(t) < 65530) {
        leaf_of(mrk_size(t), leaf);
        assert_int_equal(mrk_append(t, leaf), PC_OK);
        assert_int_equal(mrk_append(twin, leaf), PC_OK);
    }
    assert_true(append_under_oom(t, twin, 65540) > 0);
    mrk_free(t);
    mrk_free(twin);
}

/* Truncating to any size restores that size's root, and re-appending the
 * same leaves gives the same roots as never truncating; other leaves give
 * the roots of a fresh tree of them. Also across a chunk boundary, with
 * memory given back. */
static void
test_mrk_truncate_then_reappend_matches(void **state)
{
    const uint64_t n = 200;
    const uint64_t cuts[] = { 200, 199, 128, 127, 100, 64, 63, 1, 0 };
    uint8_t roots[201][PC_HASH_LEN], got[PC_HASH_LEN], leaf[PC_HASH_LEN];
    struct mrk *t, *fresh;

    (void)state;
    assert_int_equal(mrk_new(&t), PC_OK);
    for (uint64_t i = 0; i <= n; i++) {
        if (i > 0) {
            leaf_of(i - 1, leaf);
            assert_int_equal(mrk_append(t, leaf), PC_OK);
        }
        assert_int_equal(mrk_root(t, i, roots[i]), PC_OK);
    }
    for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
        mrk_truncate(t, cuts[c]);
        assert_int_equal(mrk_size(t), cuts[c]);
        assert_int_equal(mrk_root(t, cuts[c], got), PC_OK);
        assert_memory_equal(got, roots[cuts[c]], PC_HASH_LEN);
        assert_int_equal(mrk_root(t, cuts[c] + 1, got), PC_ERANGE);
        assert_int_equal(mrk_leaf(t, cuts[c], got), PC_ENOTFOUND);
        for (uint64_t s = 0; s <= cuts[c]; s++) {
            assert_int_equal(mrk_root(t, s, got), PC_OK);
            assert_memory_equal(got, roots[s], PC_HASH_LEN);
        }
        while (mrk_size(t) < n) {
            leaf_of(mrk_size(t), leaf);
            assert_int_equal(mrk_append(t, leaf), PC_OK);
            assert_int_equal(mrk_root(t, mrk_size(t), got), PC_OK);
            assert_memory_equal(got, roots[mrk_size(t)], PC_HASH_LEN);
        }
    }

    /* Different leaves after a cut: the tree of the new sequence. */
    mrk_truncate(t, 77);
    assert_int_equal(mrk_new(&fresh), PC_OK);
    for (uint64_t i = 0; i < 150; i++) {
        leaf_of(i < 77 ? i : 1000 + i, leaf);
        if (i >= 77) {
            assert_int_equal(mrk_append(t, leaf), PC_OK);
        }
        assert_int_equal(mrk_append(fresh, leaf), PC_OK);
        if (i >= 77) {
            assert_int_equal(mrk_root(t, i + 1, got), PC_OK);
            assert_int_equal(mrk_root(fresh, i + 1, roots[0]), PC_OK);
            assert_memory_equal(got, roots[0], PC_HASH_LEN);
        }
    }
    mrk_free(t);
    mrk_free(fresh);

    /* Across the 65536-hash chunk boundary: truncate gives memory back. */
    const uint64_t big = 65536 + 70;
    uint8_t top[PC_HASH_LEN], mid[PC_HASH_LEN], empty[PC_HASH_LEN];
    t = tree_of(big);
    assert_int_equal(mrk_root(t, big, top), PC_OK);
    assert_int_equal(mrk_root(t, 65530, mid), PC_OK);
    size_t mem_big = mrk_mem(t);
    mrk_truncate(t, 65530);
    assert_true(mrk_mem(t) < mem_big);
    assert_int_equal(mrk_root(t, 65530, got), PC_OK);
    assert_memory_equal(got, mid, PC_HASH_LEN);
    while (mrk_size(t) < big) {
        leaf_of(mrk_size(t), leaf);
        assert_int_equal(mrk_append(t, leaf), PC_OK);
    }
    assert_int_equal(mrk_root(t, big, got), PC_OK);
    assert_memory_equal(got, top, PC_HASH_LEN);
    assert_int_equal(mrk_mem(t), mem_big);
    mrk_truncate(t, 0);
    assert_true(mrk_mem(t) < 8192);
    assert_int_equal(mrk_root(t, 0, got), PC_OK);
    pc_hash(empty, "", 0);
    assert_memory_equal(got, empty, PC_HASH_LEN);
    assert_int_equal(mrk_root(t, 1, got), PC_ERANGE);
    while (mrk_size(t) < big) {
        leaf_of(mrk_size(t), leaf);
        assert_int_equal(mrk_append(t, leaf), PC_OK);
    }
    assert_int_equal(mrk_root(t, big, got), PC_OK);
    assert_memory_equal(got, top, PC_HASH_LEN);
    assert_int_equal(mrk_root(t, 65530, got), PC_OK);
    assert_memory_equal(got, mid, PC_HASH_LEN);
    mrk_free(t);
}

struct root_job {
    const struct mrk *t;
    uint8_t root[PC_HASH_LEN];
};

static void *
root_thread(void *arg)
{
    struct root_job *j = arg;

    for (int i = 0; i < 200; i++) {
        assert_int_equal(mrk_root(j->t, mrk_size(j->t), j->root), PC_OK);
    }
    return NULL;
}

/*
 * The tree keeps about 36 bytes per leaf (leaves, then levels 4 and up),
 * and the whole-tree root, computed on demand, is right whether it is
 * cached or not, after appends and truncates, and when two threads ask for
 * it at once (mrk_root fills the cache behind a const pointer).
 */
static void
test_mrk_lazy_root_and_memory(void **state)
{
    const uint64_t n = 4 * 8192 - 3; /* fills its leaf chunks */
    uint8_t(*d)[PC_HASH_LEN] = leaves_new(n);
    uint8_t want[PC_HASH_LEN], got[PC_HASH_LEN];
    struct root_job j[2];
    pthread_t th[2];
    struct mrk *t;

    (void)state;
    t = tree_of(n);
    assert_true(mrk_mem(t) <= 40 * n);
    assert_true(mrk_mem(t) >= 32 * n);
    ref_mth(d, n, want);
    for (int k = 0; k < 2; k++) {
        j[k].t = t;
        assert_int_equal(pthread_create(&th[k], NULL, root_thread, &j[k]), 0);
    }
    for (int k = 0; k < 2; k++) {
        assert_int_equal(pthread_join(th[k], NULL), 0);
        assert_memory_equal(j[k].root, want, PC_HASH_LEN);
    }
    assert_int_equal(mrk_root(t, n, got), PC_OK); /* cached now */
    assert_memory_equal(got, want, PC_HASH_LEN);
    /* Truncate and append drop the cache: no stale root comes back. */
    mrk_truncate(t, n - 5);
    ref_mth(d, n - 5, want);
    assert_int_equal(mrk_root(t, n - 5, got), PC_OK);
    assert_memory_equal(got, want, PC_HASH_LEN);
    for (uint64_t i = n - 5; i < n; i++) {
        assert_int_equal(mrk_append(t, d[i]), PC_OK);
        ref_mth(d, i + 1, want);
        assert_int_equal(mrk_root(t, i + 1, got), PC_OK);
        assert_memory_equal(got, want, PC_HASH_LEN);
        assert_int_equal(mrk_root(t, i + 1, got), PC_OK);
        assert_memory_equal(got, want, PC_HASH_LEN);
    }
    mrk_free(t);
    pc_free(d);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mrk_empty_root_known_answer),
        cmocka_unit_test(test_mrk_one_leaf_root_is_leaf),
        cmocka_unit_test(test_mrk_roots_match_reference),
        cmocka_unit_test(test_mrk_inclusion_matches_reference),
        cmocka_unit_test(test_mrk_consistency_matches_reference),
        cmocka_unit_test(test_mrk_random_sizes_match_reference),
        cmocka_unit_test(test_mrk_inclusion_verifies_and_rejects_tampering),
        cmocka_unit_test(test_mrk_consistency_verifies_and_rejects_tampering),
        cmocka_unit_test(test_mrk_append_survives_every_oom),
        cmocka_unit_test(test_mrk_truncate_then_reappend_matches),
        cmocka_unit_test(test_mrk_lazy_root_and_memory),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("mrk", tests, NULL, NULL);
}
