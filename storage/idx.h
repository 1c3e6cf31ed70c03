/* SPDX-License-Identifier: MIT */
/*
 * Indexes over the ledger, rebuilt from it on load: every versioned entity
 * (kind, parent, id) -> its versions' revisions (latest in O(1), the version
 * current at revision r by binary search), and per (kind, parent) an ordered
 * set of ids (byte order) with prefix scans and a stable cursor for paging.
 * Nothing here leaks hash-table order: every listing is in key order.
 * Loop thread only.
 */
#ifndef PC_IDX_H
#define PC_IDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct idx;

/* Longest parent and id the index stores (bytes); FACT_MAX_ID is far less. */
#define IDX_MAX_KEY 65535

/*
 * An entity: its kind (enum fact_kind), parent (may be empty) and id (may be
 * empty, but an empty id cannot serve as a scan cursor). Ids order by
 * memcmp over the common length, a shorter id first when it is a prefix of
 * a longer one.
 */
struct idx_key {
    uint32_t kind;
    struct pc_slice parent;
    struct pc_slice id;
};

/*
 * Create an empty index into `*out` (free with idx_free).
 * Returns PC_OK or PC_ENOMEM.
 */
int idx_new(struct idx **out);

/* Free the index and everything it holds. Accepts NULL. */
void idx_free(struct idx *x);

/*
 * Record that version `version` of entity `k` is at revision `rev`. The
 * version must be latest + 1 (1 for a new entity) and `rev` must exceed the
 * entity's latest revision; revisions of different entities are unrelated.
 * The index copies the key bytes.
 *
 * Returns PC_OK; PC_EINVAL (version gap, non-increasing revision, parent or
 * id longer than IDX_MAX_KEY, 2^31 versions) or PC_ENOMEM, both with the
 * index exactly as it was. O(1) amortised, plus O(log n) for a new id.
 */
int idx_add(struct idx *x, const struct idx_key *k, uint64_t version,
            uint64_t rev);

/*
 * Undo the last idx_add of entity `k` (the ledger's failed-append path):
 * drop its latest version, and the entity itself (map, ordered set, count)
 * if that was its only version. Unknown `k` is a no-op. Never allocates, so
 * it cannot fail; B+tree nodes are not merged (see idx.c).
 */
void idx_undo(struct idx *x, const struct idx_key *k);

/*
 * Start fetching the memory a lookup or an insert of `k` will touch first
 * (its slots in the entity table), so that a caller about to visit many
 * keys overlaps their cache misses instead of waiting for each in turn.
 * Changes nothing; O(1).
 */
void idx_prefetch(const struct idx *x, const struct idx_key *k);

/*
 * Latest version of `k`, 0 if unknown. When nonzero and `rev` is not NULL,
 * `*rev` gets that version's revision. O(1).
 */
uint64_t idx_latest(const struct idx *x, const struct idx_key *k,
                    uint64_t *rev);

/* Revision of version `version` of `k`. PC_OK or PC_ENOTFOUND. O(1). */
int idx_version_rev(const struct idx *x, const struct idx_key *k,
                    uint64_t version, uint64_t *rev);

/*
 * The version of `k` current at revision `at` (the latest with revision <=
 * at): PC_OK with `*version` and `*rev`, or PC_ENOTFOUND if `k` is unknown
 * or had no version yet at `at`. O(log versions).
 */
int idx_version_at(const struct idx *x, const struct idx_key *k, uint64_t at,
                   uint64_t *version, uint64_t *rev);

/* Number of entities of (kind, parent). O(1). */
uint64_t idx_count(const struct idx *x, uint32_t kind, struct pc_slice parent);

/*
 * Visit ids of (kind, parent) in byte order, with their latest version and
 * its revision. The scan starts at the first id > `after` when `after` is
 * not empty and not below `prefix`, else at the first id >= `prefix`; it
 * stops at the first id not beginning with `prefix` (empty: no limit) or
 * when `cb` returns false. So paging with `after` = the last id seen visits
 * every id that existed throughout exactly once, in order, whatever is
 * added or undone between pages.
 *
 * Returns the number of calls made to `cb` (including one that returned
 * false). `id` borrows index memory valid during the call; `cb` must not
 * modify `x`. O(log n + visited).
 */
typedef bool (*idx_visit_cb)(void *arg, struct pc_slice id, uint64_t latest,
                             uint64_t latest_rev);
uint64_t idx_scan(const struct idx *x, uint32_t kind, struct pc_slice parent,
                  struct pc_slice prefix, struct pc_slice after,
                  idx_visit_cb cb, void *arg);

/*
 * Bytes the index has requested from the allocator (allocator overhead not
 * included), for benchmarks. O(1).
 */
size_t idx_mem(const struct idx *x);

/*
 * Tests only: B+tree capacities, entries per leaf in [2, 64] and children
 * per inner node in [3, 64] (both 64 by default), so that small inputs
 * build deep trees. PC_OK, or PC_EINVAL if out of range or `x` is not empty.
 */
int idx_set_node_cap(struct idx *x, unsigned leaf_cap, unsigned inner_cap);

#endif
