/* SPDX-License-Identifier: MIT */
/*
 * RFC 6962 Merkle tree over 32-byte leaf hashes (the leaves are already
 * H(0x00 ‖ fact), so the tree never hashes them again): interior node
 * H(0x01 ‖ left ‖ right), empty root H(""). Leaf i is the fact at revision
 * i + 1. Append is O(log n) amortised; the root of the whole tree is O(1)
 * after an append and the root of any size n is O(log n). The verifiers at
 * the bottom use no tree state, so the client library can use them alone.
 */
#ifndef PC_MRK_H
#define PC_MRK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

#define MRK_MAX_PATH 64 /* hashes in any proof */

struct mrk;

/* PC_OK or PC_ENOMEM. */
int mrk_new(struct mrk **out);
/* Accepts NULL. */
void mrk_free(struct mrk *t);

/* Leaves held. */
uint64_t mrk_size(const struct mrk *t);

/* Append one leaf hash. PC_OK or PC_ENOMEM (the tree is unchanged). */
int mrk_append(struct mrk *t, const uint8_t leaf[PC_HASH_LEN]);

/* Shrink to the first `size` leaves (undoes appends; size <= mrk_size). */
void mrk_truncate(struct mrk *t, uint64_t size);

/* Leaf `i` (0-based). PC_OK or PC_ENOTFOUND. */
int mrk_leaf(const struct mrk *t, uint64_t i, uint8_t out[PC_HASH_LEN]);

/* Root of the first `n` leaves, n <= size. PC_OK or PC_ERANGE. */
int mrk_root(const struct mrk *t, uint64_t n, uint8_t out[PC_HASH_LEN]);

/*
 * Inclusion proof (RFC 6962 §2.1.1 audit path) of leaf `i` in the tree of
 * size `n` (i < n <= size): `*len` hashes into `path`. PC_OK or PC_ERANGE.
 */
int mrk_inclusion(const struct mrk *t, uint64_t i, uint64_t n,
                  uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], size_t *len);

/*
 * Consistency proof (RFC 6962 §2.1.2) between sizes `m` and `n`
 * (0 < m <= n <= size). PC_OK or PC_ERANGE.
 */
int mrk_consistency(const struct mrk *t, uint64_t m, uint64_t n,
                    uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], size_t *len);

/* Bytes of memory held (for benchmarks). */
size_t mrk_mem(const struct mrk *t);

/* Verify an inclusion proof of `leaf` at index `i` in a tree of size `n`. */
bool mrk_verify_inclusion(const uint8_t leaf[PC_HASH_LEN], uint64_t i,
                          uint64_t n,
                          const uint8_t path[][PC_HASH_LEN], size_t len,
                          const uint8_t root[PC_HASH_LEN]);

/* Verify a consistency proof between (m, root_m) and (n, root_n). */
bool mrk_verify_consistency(uint64_t m, uint64_t n,
                            const uint8_t root_m[PC_HASH_LEN],
                            const uint8_t root_n[PC_HASH_LEN],
                            const uint8_t path[][PC_HASH_LEN], size_t len);

#endif
