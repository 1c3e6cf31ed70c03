/* SPDX-License-Identifier: MIT */
/*
 * RFC 6962 Merkle tree over 32-byte leaf hashes (the leaves are already
 * H(0x00 ‖ fact), so the tree never hashes them again): interior node
 * H(0x01 ‖ left ‖ right), empty root H(""). Leaf i is the fact at revision
 * i + 1. Append costs about one hash amortised; the root of any size n is
 * O(log n) hashes, and the root of the whole tree is cached from the first
 * mrk_root that asks for it until the next append or truncate. The tree
 * stores the leaves and the interior levels from 4 up (about 36 bytes per
 * leaf); lower nodes are recomputed from the leaves when a root or proof
 * needs them. The verifiers at the bottom use no tree state, so the client
 * library can use them alone.
 */
#ifndef PC_MRK_H
#define PC_MRK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

#define MRK_MAX_PATH 64 /* hashes in any proof */

struct mrk;

/*
 * Create an empty tree (root H("")) in `*out`, freed with mrk_free().
 * PC_OK or PC_ENOMEM. Also initialises libsodium (sodium_init), which picks
 * the fastest BLAKE2b for the CPU: call it once before other threads hash.
 * Context: a tree is not thread-safe; const calls (mrk_root included, though
 * it may fill the root cache: it does so atomically) may run concurrently
 * with each other, never with mrk_append() or mrk_truncate().
 */
int mrk_new(struct mrk **out);
/* Free the tree and everything it holds; accepts NULL. */
void mrk_free(struct mrk *t);

/* Leaves held. */
uint64_t mrk_size(const struct mrk *t);

/*
 * Append one leaf hash (copied; stored as given, never hashed again).
 * About one hash amortised (15 hashes every 16th leaf, then one per higher
 * level completed); drops the cached root of the whole tree.
 * PC_OK or PC_ENOMEM (the tree is unchanged: size, leaves and roots).
 */
int mrk_append(struct mrk *t, const uint8_t leaf[PC_HASH_LEN]);

/*
 * Shrink to the first `size` leaves (undoes appends; `size` <= mrk_size(),
 * asserted). Cannot fail; frees the chunks that no longer hold a node.
 * The cached root becomes that of `size`.
 */
void mrk_truncate(struct mrk *t, uint64_t size);

/* Copy leaf `i` (0-based) into `out`. PC_OK or PC_ENOTFOUND (i >= size). */
int mrk_leaf(const struct mrk *t, uint64_t i, uint8_t out[PC_HASH_LEN]);

/*
 * Root (RFC 6962 MTH) of the first `n` leaves into `out`: H("") for n = 0,
 * O(log n) hashes otherwise (at most about 60 at 2^20 leaves); the root for
 * n = size is then cached, so asking again is O(1) until the tree changes.
 * PC_OK or PC_ERANGE (n > size; `out` untouched).
 * Context: const, but it may write the cache (atomically claimed, so
 * concurrent const calls stay safe); not concurrent with append/truncate.
 */
int mrk_root(const struct mrk *t, uint64_t n, uint8_t out[PC_HASH_LEN]);

/*
 * Inclusion proof (RFC 6962 §2.1.1 audit path) of leaf `i` in the tree of
 * size `n` (i < n <= size): `*len` hashes into `path`, in the RFC's order
 * (the sibling nearest the leaf first). O(log n) hashes.
 * PC_OK or PC_ERANGE (`path` and `*len` untouched).
 */
int mrk_inclusion(const struct mrk *t, uint64_t i, uint64_t n,
                  uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], size_t *len);

/*
 * Consistency proof (RFC 6962 §2.1.2 PROOF(m, D[n])) between sizes `m` and
 * `n` (0 < m <= n <= size): `*len` hashes into `path` in the RFC's order;
 * empty when m == n. O(log n) hashes.
 * PC_OK or PC_ERANGE (`path` and `*len` untouched).
 */
int mrk_consistency(const struct mrk *t, uint64_t m, uint64_t n,
                    uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], size_t *len);

/* Bytes of memory held, counting allocated capacity (for benchmarks). */
size_t mrk_mem(const struct mrk *t);

/*
 * Verify an inclusion proof of `leaf` at index `i` in a tree of size `n`
 * whose root is `root` (RFC 9162 §2.1.3.2). False when i >= n, when the
 * path is longer than MRK_MAX_PATH or not exactly the length the shape
 * (i, n) needs, or when the recomputed root differs. Uses no tree state.
 */
bool mrk_verify_inclusion(const uint8_t leaf[PC_HASH_LEN], uint64_t i,
                          uint64_t n, const uint8_t path[][PC_HASH_LEN],
                          size_t len, const uint8_t root[PC_HASH_LEN]);

/*
 * Verify a consistency proof between (m, root_m) and (n, root_n) (RFC 9162
 * §2.1.4.2). m == n needs an empty path and equal roots; m == 0, m > n or a
 * path longer than MRK_MAX_PATH is false. Uses no tree state.
 */
bool mrk_verify_consistency(uint64_t m, uint64_t n,
                            const uint8_t root_m[PC_HASH_LEN],
                            const uint8_t root_n[PC_HASH_LEN],
                            const uint8_t path[][PC_HASH_LEN], size_t len);

#endif
