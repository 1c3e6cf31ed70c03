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

/* An entity: its kind (enum fact_kind), parent (may be empty) and id. */
struct idx_key {
    uint32_t kind;
    struct pc_slice parent;
    struct pc_slice id;
};

/* PC_OK or PC_ENOMEM. */
int idx_new(struct idx **out);
void idx_free(struct idx *x);

/*
 * Record that version `version` of entity `k` is at revision `rev`. The
 * version must be latest + 1 (1 for a new entity), else PC_EINVAL; revisions
 * of one entity must increase. PC_OK or PC_ENOMEM with the index unchanged.
 */
int idx_add(struct idx *x, const struct idx_key *k, uint64_t version,
            uint64_t rev);

/* Undo the last idx_add of entity `k` (the ledger's failed-append path). */
void idx_undo(struct idx *x, const struct idx_key *k);

/* Latest version of `k` (0 if unknown) and its revision. */
uint64_t idx_latest(const struct idx *x, const struct idx_key *k,
                    uint64_t *rev);

/* Revision of version `version` of `k`. PC_OK or PC_ENOTFOUND. */
int idx_version_rev(const struct idx *x, const struct idx_key *k,
                    uint64_t version, uint64_t *rev);

/*
 * The version of `k` current at revision `at` (the latest with revision <=
 * at): PC_OK with `*version` and `*rev`, or PC_ENOTFOUND if none yet.
 */
int idx_version_at(const struct idx *x, const struct idx_key *k, uint64_t at,
                   uint64_t *version, uint64_t *rev);

/* Number of entities of (kind, parent). */
uint64_t idx_count(const struct idx *x, uint32_t kind, struct pc_slice parent);

/*
 * Visit ids of (kind, parent) in byte order, starting after `after` (empty:
 * from the start) and only those beginning with `prefix` (may be empty),
 * until `cb` returns false. `id` borrows index memory valid during the call.
 * Returns the number visited.
 */
typedef bool (*idx_visit_cb)(void *arg, struct pc_slice id, uint64_t latest,
                             uint64_t latest_rev);
uint64_t idx_scan(const struct idx *x, uint32_t kind, struct pc_slice parent,
                  struct pc_slice prefix, struct pc_slice after,
                  idx_visit_cb cb, void *arg);

/* Bytes of memory held (for benchmarks). */
size_t idx_mem(const struct idx *x);

#endif
