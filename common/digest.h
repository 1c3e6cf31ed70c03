/* SPDX-License-Identifier: MIT */
/*
 * Entry digests for reconciliation (docs/format.md, "Entry digests"): per
 * catalog entry, the number of records (keys with a version, retired ones
 * included), the number of record versions, and the sum modulo 2^256 of
 * every record's head hash (the fact hash of its latest version) read as a
 * little-endian integer; the digest is H(0x03 ‖ u64be records ‖ u64be
 * versions ‖ the sum as 32 little-endian bytes). A new record version
 * changes the sum in O(1) (the old head out, the new one in), the result
 * does not depend on the order of the writes, and the sum over any run of
 * keys stands on its own. Shared by the node and the tools; no state.
 */
#ifndef PC_DIGEST_H
#define PC_DIGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "common/hash.h"

struct pc_digest {
    uint64_t records;  /* keys with at least one version */
    uint64_t versions; /* record versions, all keys together */
    uint64_t sum[4];   /* the heads' sum mod 2^256; sum[0] least significant */
};

/* An empty entry's state: no records, a zero sum. */
void pc_digest_init(struct pc_digest *d);

/* sum += `head` and sum -= `head` (mod 2^256), the counts untouched. */
void pc_digest_add(struct pc_digest *d, const uint8_t head[PC_HASH_LEN]);
void pc_digest_sub(struct pc_digest *d, const uint8_t head[PC_HASH_LEN]);

/*
 * A record version appended: its fact hash `head` replaces `prev` (the
 * previous version's fact hash, NULL for version 1, which adds a record).
 * pc_digest_unstep takes exactly that step back.
 */
void pc_digest_step(struct pc_digest *d, const uint8_t head[PC_HASH_LEN],
                    const uint8_t *prev);
void pc_digest_unstep(struct pc_digest *d, const uint8_t head[PC_HASH_LEN],
                      const uint8_t *prev);

/* The digest H(0x03 ‖ u64be records ‖ u64be versions ‖ sum, 32 LE bytes). */
void pc_digest_final(const struct pc_digest *d, uint8_t out[PC_HASH_LEN]);

/* Whether two states are the same (counts and sum). */
bool pc_digest_equal(const struct pc_digest *a, const struct pc_digest *b);

#endif
