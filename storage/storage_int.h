/* SPDX-License-Identifier: MIT */
/*
 * Internals shared inside storage/ only (never included from node/, client/
 * or tools/, so nothing here is reachable from the network): the ledger's
 * append with hashes computed ahead, on another thread, for the snapshot
 * decoder, and the decoder with a chosen number of worker threads, for tests.
 */
#ifndef PC_STORAGE_INT_H
#define PC_STORAGE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"
#include "storage/led.h"

struct led_block;

/*
 * The work on one fact that needs no ledger, done by led_pre_compute away
 * from it: the leaf hash of its encoding, the content hash of its document
 * and the document's block (copied, compressed if that pays).
 */
struct led_pre {
    uint8_t leaf[PC_HASH_LEN];    /* H(0x00 ‖ enc) */
    uint8_t content[PC_HASH_LEN]; /* H(0x02 ‖ salt ‖ doc), if a document */
    struct led_block *block;      /* the document's block, or NULL */
};

/*
 * Fill `pre` for the encoding `enc` (len bytes) and its document `doc`
 * (as for led_append_encoded; NULL or redacted: no content hash and no
 * block, and a document over FACT_MAX_DOC is left for the ledger to
 * refuse). When the block cannot be allocated `pre->block` is NULL and the
 * ledger tries again (and reports PC_ENOMEM) at the append. Reads only its
 * arguments: any thread, concurrently with anything. The block is owned by
 * `pre` until led_append_pre takes it: release with led_pre_release.
 */
void led_pre_compute(const uint8_t *enc, size_t len, const struct led_doc *doc,
                     struct led_pre *pre);

/* Free the block `pre` still owns (zeroed, like the ledger's); any thread. */
void led_pre_release(struct led_pre *pre);

/*
 * led_append_encoded, with the hashes and block taken from `pre` instead
 * of computed: `pre` must come from led_pre_compute over exactly these
 * `enc` bytes and this `doc`. Every check still runs, in led_append's
 * order; the content hash is compared (not trusted) against the fact's, and
 * the leaf goes into the Merkle tree as given. On PC_OK the ledger owns
 * `pre->block` (set to NULL); on error `pre` still owns it. Same codes and
 * all-or-nothing rule as led_append_encoded. Loop thread of `l` (the
 * decoder's own thread).
 */
int led_append_pre(struct led *l, const uint8_t *enc, size_t len,
                   const struct led_doc *doc, uint64_t raft_index,
                   struct led_pre *pre, char *errmsg);

/*
 * snap_decode with exactly `workers` helper threads (0: the calling thread
 * does everything) instead of the number snap_decode chooses. Same result,
 * codes and errmsg as snap_decode for any `workers` (at most 8); when
 * a helper thread cannot be started, the caller's thread does its share.
 * For tests and benchmarks.
 */
int snap_decode_workers(const uint8_t *p, size_t len, unsigned workers,
                        struct led **out, char *errmsg);

#endif
