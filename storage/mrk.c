/* SPDX-License-Identifier: MIT */
/*
 * RFC 6962 Merkle tree kept as levels of complete aligned subtrees: level j
 * node i = MTH(leaves [i*2^j, (i+1)*2^j)), written once, when its last leaf
 * arrives, and never changed until a truncate removes it. Level 0 holds the
 * leaves; levels 1 to LOW_LEVELS are not stored (they would cost 56 of the
 * 64 bytes per leaf that the interior levels take) and are recomputed from
 * the leaves when needed: at most 2^LOW_LEVELS - 1 = 15 hashes per node.
 * Every subtree the RFC recursion visits starts at a multiple of a power of
 * two at least its width, so its hash is a fold of the aligned nodes that
 * tile it (one per set bit of its width); roots and proofs therefore cost
 * O(log n) hashes (plus up to 1 + 3 + 7 hashes per fold for the unstored
 * levels), and an append costs about one hash amortised (15 per 16 leaves to
 * build the lowest stored node, then one per higher level it completes).
 *
 * The root of the whole tree is computed on demand and cached until the next
 * append or truncate. The cache sits behind the const pointer of mrk_root,
 * so it is claimed with an atomic state: concurrent const calls stay safe,
 * and whoever loses the claim just uses the root it computed.
 *
 * Each level is a directory of chunks of CHUNK_LEN hashes. A level's first
 * chunk starts small and doubles up to CHUNK_LEN (so small trees stay small,
 * and the high levels, which hold few nodes, stay tiny); later chunks are
 * allocated whole, so growth never copies more than one chunk. An append
 * first reserves room on every level it will touch and only then writes,
 * so a failed allocation leaves the tree as it was.
 */
#include "storage/mrk.h"

#include <assert.h>
#include <stdatomic.h>
#include <string.h>

#include <sodium.h>

#include "common/alloc.h"
#include "common/err.h"

#define CHUNK_SHIFT 13
#define CHUNK_LEN   ((uint64_t)1 << CHUNK_SHIFT) /* hashes per full chunk */
#define FIRST_CAP   8  /* hashes in a level's first chunk when created */
#define DIR_CAP     4  /* directory slots when created */
#define N_LEVELS    64 /* a size below 2^64 completes no node at level 64 */
#define LOW_LEVELS  3  /* levels 1..LOW_LEVELS are recomputed, not stored */
#define STORED_MIN  (LOW_LEVELS + 1) /* lowest stored interior level */

/* States of the cached root. */
enum {
    ROOT_STALE = 0,
    ROOT_WRITING = 1,
    ROOT_READY = 2
};

struct level {
    uint8_t (**chunks)[PC_HASH_LEN]; /* directory of n_chunks chunks */
    size_t n_chunks;                 /* chunks allocated */
    size_t dir_cap;                  /* directory slots allocated */
    size_t first_cap;                /* hashes chunks[0] can hold */
    uint64_t len;                    /* nodes held */
};

struct mrk {
    struct level levels[N_LEVELS]; /* levels 1..LOW_LEVELS stay empty */
    uint64_t size;                 /* leaves held */
    atomic_int root_state;         /* ROOT_*: whether `root` is MTH(size) */
    uint8_t root[PC_HASH_LEN];     /* MTH of all `size` leaves, when READY */
};

static bool
level_stored(int j)
{
    return j == 0 || j >= STORED_MIN;
}

static uint8_t *
slot(const struct level *lv, uint64_t i)
{
    return lv->chunks[i >> CHUNK_SHIFT][i & (CHUNK_LEN - 1)];
}

static void
node_hash(uint8_t out[PC_HASH_LEN], const uint8_t *left, const uint8_t *right)
{
    pc_hash_prefixed(out, PC_HASH_NODE, left, PC_HASH_LEN, right, PC_HASH_LEN);
}

/* The RFC's k: the largest power of two below `n` (n >= 2). */
static uint64_t
split(uint64_t n)
{
    return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

/*
 * Make room for node `lv->len` without changing what the level holds: grow
 * the first chunk, or add a chunk (and directory slots). What a failed
 * append reserved stays reserved; the next append uses it.
 */
static int
level_reserve(struct level *lv)
{
    uint64_t c = lv->len >> CHUNK_SHIFT;
    uint64_t off = lv->len & (CHUNK_LEN - 1);
    void *p;

    if (c < lv->n_chunks) {
        if (c > 0 || off < lv->first_cap) {
            return PC_OK;
        }
        size_t cap = lv->first_cap * 2;
        p = pc_realloc(lv->chunks[0], cap * PC_HASH_LEN);
        if (p == NULL) {
            return PC_ENOMEM;
        }
        lv->chunks[0] = p;
        lv->first_cap = cap;
        return PC_OK;
    }
    if (lv->n_chunks == lv->dir_cap) {
        size_t cap = lv->dir_cap == 0 ? DIR_CAP : lv->dir_cap * 2;
        p = pc_realloc(lv->chunks, cap * sizeof(*lv->chunks));
        if (p == NULL) {
            return PC_ENOMEM;
        }
        lv->chunks = p;
        lv->dir_cap = cap;
    }
    /* Chunk 0 has grown to CHUNK_LEN before any later chunk is needed:
     * truncate frees chunks from the end, so a kept chunk 0 is as big as
     * it was when chunk 1 was allocated. */
    size_t cap = c == 0 ? FIRST_CAP : CHUNK_LEN;
    p = pc_malloc(cap * PC_HASH_LEN);
    if (p == NULL) {
        return PC_ENOMEM;
    }
    lv->chunks[lv->n_chunks++] = p;
    if (c == 0) {
        lv->first_cap = cap;
    }
    return PC_OK;
}

/*
 * Drop nodes past `len` and free the chunks that no longer hold any. The
 * first chunk keeps its capacity while it holds a node; the directory keeps
 * its slots.
 */
static void
level_shrink(struct level *lv, uint64_t len)
{
    uint64_t keep = (len + CHUNK_LEN - 1) >> CHUNK_SHIFT;

    lv->len = len;
    while (lv->n_chunks > keep) {
        pc_free(lv->chunks[--lv->n_chunks]);
    }
}

/*
 * Hash of the complete aligned subtree `i` of level `j` (j <= LOW_LEVELS,
 * not stored) from its 2^j leaves, which are contiguous in one leaf chunk:
 * 2^j - 1 hashes, pairwise from the bottom up.
 */
static void
low_node(const struct mrk *t, int j, uint64_t i, uint8_t out[PC_HASH_LEN])
{
    uint8_t tmp[1u << (LOW_LEVELS - 1)][PC_HASH_LEN];
    const uint8_t *leaves = slot(&t->levels[0], i << j);
    size_t w = (size_t)1 << j;

    if (j == 0) {
        memcpy(out, leaves, PC_HASH_LEN);
        return;
    }
    for (size_t k = 0; k < w / 2; k++) {
        node_hash(tmp[k], leaves + 2 * k * PC_HASH_LEN,
                  leaves + (2 * k + 1) * PC_HASH_LEN);
    }
    for (w /= 2; w > 1; w /= 2) {
        for (size_t k = 0; k < w / 2; k++) {
            node_hash(tmp[k], tmp[2 * k], tmp[2 * k + 1]);
        }
    }
    memcpy(out, tmp[0], PC_HASH_LEN);
}

/* Node `i` of level `j` (complete): stored, or recomputed from leaves. */
static const uint8_t *
node_at(const struct mrk *t, int j, uint64_t i, uint8_t buf[PC_HASH_LEN])
{
    if (level_stored(j)) {
        return slot(&t->levels[j], i);
    }
    low_node(t, j, i, buf);
    return buf;
}

/*
 * MTH(leaves [lo, lo + len)) for len >= 1, lo + len <= t->size and `lo` a
 * multiple of a power of two >= len (true of every subtree the RFC
 * recursion visits). Folds the stored complete subtrees that tile the
 * range, from the smallest (rightmost) one up, as the recursion would.
 */
static void
range_hash(const struct mrk *t, uint64_t lo, uint64_t len,
           uint8_t out[PC_HASH_LEN])
{
    uint64_t end = lo + len;
    bool first = true;

    for (int j = 0; j < N_LEVELS && len != 0; j++) {
        uint64_t w = (uint64_t)1 << j;
        if ((len & w) == 0) {
            continue;
        }
        len &= ~w;
        end -= w;
        uint8_t buf[PC_HASH_LEN];
        const uint8_t *peak = node_at(t, j, end >> j, buf);
        if (first) {
            memcpy(out, peak, PC_HASH_LEN);
            first = false;
        } else {
            uint8_t acc[PC_HASH_LEN];
            node_hash(acc, peak, out);
            memcpy(out, acc, PC_HASH_LEN);
        }
    }
}

static void
root_of(const struct mrk *t, uint64_t n, uint8_t out[PC_HASH_LEN])
{
    if (n == 0) {
        pc_hash(out, "", 0);
    } else {
        range_hash(t, 0, n, out);
    }
}

int
mrk_new(struct mrk **out)
{
    /* Lets libsodium pick its fastest BLAKE2b for this CPU (the portable
     * one runs until then); idempotent and thread-safe, and a failure only
     * costs speed: every implementation computes the same hashes. */
    int init = sodium_init();
    (void)init;

    struct mrk *t = pc_calloc(1, sizeof(*t));

    if (t == NULL) {
        return PC_ENOMEM;
    }
    atomic_init(&t->root_state, ROOT_STALE);
    *out = t;
    return PC_OK;
}

void
mrk_free(struct mrk *t)
{
    if (t == NULL) {
        return;
    }
    for (int j = 0; j < N_LEVELS; j++) {
        struct level *lv = &t->levels[j];
        for (size_t c = 0; c < lv->n_chunks; c++) {
            pc_free(lv->chunks[c]);
        }
        pc_free(lv->chunks);
    }
    pc_free(t);
}

uint64_t
mrk_size(const struct mrk *t)
{
    return t->size;
}

int
mrk_append(struct mrk *t, const uint8_t leaf[PC_HASH_LEN])
{
    if (t->size == UINT64_MAX) {
        return PC_ENOMEM; /* UNTESTED: memory runs out long before */
    }
    uint64_t n = t->size + 1;
    /* Leaf n-1 completes the subtrees ending at n: levels 0..ctz(n). */
    int top = __builtin_ctzll(n);
    int rc;

    for (int j = 0; j <= top; j++) {
        if (!level_stored(j)) {
            continue;
        }
        rc = level_reserve(&t->levels[j]);
        if (rc != PC_OK) {
            return rc;
        }
    }
    struct level *lv = &t->levels[0];
    memcpy(slot(lv, lv->len), leaf, PC_HASH_LEN);
    lv->len++;
    for (int j = STORED_MIN; j <= top; j++) {
        lv = &t->levels[j];
        uint64_t i = lv->len;
        if (j == STORED_MIN) {
            /* Its two children are not stored: fold them from the leaves. */
            uint8_t l[PC_HASH_LEN], r[PC_HASH_LEN];
            low_node(t, LOW_LEVELS, 2 * i, l);
            low_node(t, LOW_LEVELS, 2 * i + 1, r);
            node_hash(slot(lv, i), l, r);
        } else {
            struct level *below = &t->levels[j - 1];
            node_hash(slot(lv, i), slot(below, 2 * i), slot(below, 2 * i + 1));
        }
        lv->len++;
    }
    t->size = n;
    atomic_store_explicit(&t->root_state, ROOT_STALE, memory_order_relaxed);
    return PC_OK;
}

void
mrk_truncate(struct mrk *t, uint64_t size)
{
    assert(size <= t->size);
    if (size >= t->size) {
        return;
    }
    for (int j = 0; j < N_LEVELS; j++) {
        if (level_stored(j)) {
            level_shrink(&t->levels[j], size >> j);
        }
    }
    t->size = size;
    atomic_store_explicit(&t->root_state, ROOT_STALE, memory_order_relaxed);
}

int
mrk_leaf(const struct mrk *t, uint64_t i, uint8_t out[PC_HASH_LEN])
{
    if (i >= t->size) {
        return PC_ENOTFOUND;
    }
    memcpy(out, slot(&t->levels[0], i), PC_HASH_LEN);
    return PC_OK;
}

int
mrk_root(const struct mrk *t, uint64_t n, uint8_t out[PC_HASH_LEN])
{
    if (n > t->size) {
        return PC_ERANGE;
    }
    if (n != t->size) {
        root_of(t, n, out);
        return PC_OK;
    }
    /* Appends and truncates never run concurrently with us (see mrk.h). */
    struct mrk *c = (struct mrk *)t;
    int st = atomic_load_explicit(&c->root_state, memory_order_acquire);
    if (st == ROOT_READY) {
        memcpy(out, c->root, PC_HASH_LEN);
        return PC_OK;
    }
    root_of(t, n, out);
    st = ROOT_STALE;
    if (atomic_compare_exchange_strong_explicit(
            &c->root_state, &st, ROOT_WRITING, memory_order_acquire,
            memory_order_relaxed)) {
        memcpy(c->root, out, PC_HASH_LEN);
        atomic_store_explicit(&c->root_state, ROOT_READY, memory_order_release);
    }
    return PC_OK;
}

/*
 * PATH(m, D[lo:lo+w]) appends the sibling after the sub-path, so the
 * top-level sibling comes last: count the steps first, then fill `path`
 * from the end while walking down. Only the first right sibling can be an
 * incomplete subtree (everything left of a split is a complete one), so the
 * proof costs O(log n) hashes.
 */
int
mrk_inclusion(const struct mrk *t, uint64_t i, uint64_t n,
              uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], size_t *len)
{
    if (i >= n || n > t->size) {
        return PC_ERANGE;
    }
    size_t count = 0;
    uint64_t m = i, w = n, lo = 0;
    while (w > 1) {
        uint64_t k = split(w);
        if (m < k) {
            w = k;
        } else {
            m -= k;
            lo += k;
            w -= k;
        }
        count++;
    }
    assert(count <= MRK_MAX_PATH);

    size_t pos = count;
    m = i;
    w = n;
    lo = 0;
    while (w > 1) {
        uint64_t k = split(w);
        pos--;
        if (m < k) {
            range_hash(t, lo + k, w - k, path[pos]);
            w = k;
        } else {
            range_hash(t, lo, k, path[pos]);
            m -= k;
            lo += k;
            w -= k;
        }
    }
    *len = count;
    return PC_OK;
}

/*
 * SUBPROOF(m, D[lo:lo+w], b), unrolled like mrk_inclusion: each step puts
 * its sibling after the deeper steps' hashes, and the walk ends, when m
 * reaches the width of the subtree, with that subtree's own hash first
 * unless every step went left (b still true: the verifier has it as the
 * old root).
 */
int
mrk_consistency(const struct mrk *t, uint64_t m, uint64_t n,
                uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], size_t *len)
{
    if (m == 0 || m > n || n > t->size) {
        return PC_ERANGE;
    }
    size_t count = 0;
    uint64_t mm = m, w = n, lo = 0;
    bool b = true;
    while (mm != w) {
        uint64_t k = split(w);
        if (mm <= k) {
            w = k;
        } else {
            mm -= k;
            lo += k;
            w -= k;
            b = false;
        }
        count++;
    }
    if (!b) {
        count++;
    }
    assert(count <= MRK_MAX_PATH);

    size_t pos = count;
    mm = m;
    w = n;
    lo = 0;
    while (mm != w) {
        uint64_t k = split(w);
        pos--;
        if (mm <= k) {
            range_hash(t, lo + k, w - k, path[pos]);
            w = k;
        } else {
            range_hash(t, lo, k, path[pos]);
            mm -= k;
            lo += k;
            w -= k;
        }
    }
    if (!b) {
        range_hash(t, lo, w, path[--pos]);
    }
    assert(pos == 0);
    *len = count;
    return PC_OK;
}

size_t
mrk_mem(const struct mrk *t)
{
    size_t bytes = sizeof(*t);

    for (int j = 0; j < N_LEVELS; j++) {
        const struct level *lv = &t->levels[j];
        bytes += lv->dir_cap * sizeof(*lv->chunks);
        if (lv->n_chunks > 0) {
            bytes +=
                (lv->first_cap + (lv->n_chunks - 1) * CHUNK_LEN) * PC_HASH_LEN;
        }
    }
    return bytes;
}

/* RFC 9162 §2.1.3.2, with fn and sn the index and last index. */
bool
mrk_verify_inclusion(const uint8_t leaf[PC_HASH_LEN], uint64_t i, uint64_t n,
                     const uint8_t path[][PC_HASH_LEN], size_t len,
                     const uint8_t root[PC_HASH_LEN])
{
    uint8_t r[PC_HASH_LEN], tmp[PC_HASH_LEN];

    if (i >= n || len > MRK_MAX_PATH) {
        return false;
    }
    uint64_t fn = i, sn = n - 1;
    memcpy(r, leaf, PC_HASH_LEN);
    for (size_t p = 0; p < len; p++) {
        if (sn == 0) {
            return false;
        }
        if ((fn & 1) != 0 || fn == sn) {
            node_hash(tmp, path[p], r);
            /* Skip the levels where this node has no right sibling. */
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node_hash(tmp, r, path[p]);
        }
        memcpy(r, tmp, PC_HASH_LEN);
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, PC_HASH_LEN) == 0;
}

/*
 * RFC 9162 §2.1.4.2: fr rebuilds the old root and sr the new one from the
 * same path. When m is a power of two the old tree is a complete subtree of
 * the new one and the proof leaves its hash out, so root_m seeds both.
 */
bool
mrk_verify_consistency(uint64_t m, uint64_t n,
                       const uint8_t root_m[PC_HASH_LEN],
                       const uint8_t root_n[PC_HASH_LEN],
                       const uint8_t path[][PC_HASH_LEN], size_t len)
{
    uint8_t fr[PC_HASH_LEN], sr[PC_HASH_LEN], tmp[PC_HASH_LEN];
    size_t p = 0;

    if (m == 0 || m > n || len > MRK_MAX_PATH) {
        return false;
    }
    if (m == n) {
        return len == 0 && memcmp(root_m, root_n, PC_HASH_LEN) == 0;
    }
    if (len == 0) {
        return false;
    }
    if ((m & (m - 1)) == 0) {
        memcpy(fr, root_m, PC_HASH_LEN);
    } else {
        memcpy(fr, path[p++], PC_HASH_LEN);
    }
    memcpy(sr, fr, PC_HASH_LEN);
    uint64_t fn = m - 1, sn = n - 1;
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; p < len; p++) {
        if (sn == 0) {
            return false;
        }
        if ((fn & 1) != 0 || fn == sn) {
            node_hash(tmp, path[p], fr);
            memcpy(fr, tmp, PC_HASH_LEN);
            node_hash(tmp, path[p], sr);
            memcpy(sr, tmp, PC_HASH_LEN);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node_hash(tmp, sr, path[p]);
            memcpy(sr, tmp, PC_HASH_LEN);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, root_m, PC_HASH_LEN) == 0 &&
           memcmp(sr, root_n, PC_HASH_LEN) == 0;
}
