/* SPDX-License-Identifier: MIT */
/*
 * Commands as a leader proposes them and a replica applies them, for the
 * unit tests (tests/lib/fsmfx), the fuzz targets (tests/fuzz/fuzzlib) and
 * the benchmarks (tests/bench/benchlib) alike: a command of the current
 * rules version, encoded as a one-command raft entry and applied at a raft
 * index. No cmocka here: each caller fails in its own way on an error.
 */
#ifndef PC_TEST_CMDFX_H
#define PC_TEST_CMDFX_H

#include <stdint.h>

#include "common/buf.h"
#include "common/hash.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/led.h"

/*
 * A command of the current rules version: `type` by `principal` on
 * `target` (NULL: empty) with `body` and `extra`, which it borrows. Its
 * time stamp and request id are the caller's to set (0 and empty).
 */
struct cmd cmdfx_cmd(uint32_t type, const char *principal, const char *target,
                     struct pc_slice body, struct pc_slice extra);

/* Append `c` to `entry` as a raft entry of that one command, padded to 8
 * bytes. PC_OK or PC_ENOMEM. */
int cmdfx_entry(struct pc_buf *entry, const struct cmd *c);

/*
 * Apply the one-command raft entry `entry` to `f` at `index`. PC_OK with
 * its result in `*res`; the error of fsm_apply (details in `errmsg`); or
 * PC_EPROTO when the entry gave other than one result.
 */
int cmdfx_apply(struct fsm *f, uint64_t index, const struct pc_buf *entry,
                struct fsm_result *res, char *errmsg);

/* cmdfx_entry, then cmdfx_apply, of `c`. */
int cmdfx_run(struct fsm *f, uint64_t index, const struct cmd *c,
              struct fsm_result *res, char *errmsg);

/*
 * A new ledger in `*out` holding a copy of `src`'s facts and record
 * documents (a redacted one as redacted), as a replica receives them in a
 * snapshot: what fsm_restore rebuilds a state machine from. PC_OK, or the
 * error of reading `src` or appending to the copy (details in `errmsg`).
 */
int cmdfx_led_copy(struct led *src, struct led **out, char *errmsg);

/* Hex of H(token), as the node stores a token. */
void cmdfx_hash_hex(const char *token, char out[PC_HASH_HEX_LEN + 1]);

#endif
