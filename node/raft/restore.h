/* SPDX-License-Identifier: MIT */
/*
 * Restore a backup (the snapshot format) as the state of a new one-voter
 * cluster member: verify the whole file, then write it through raft_uv's
 * own snapshot writer as the raft snapshot of a fresh data dir whose
 * configuration is this node alone. Other nodes then join it with
 * POST /v1/members and receive the snapshot. Used offline by
 * `provcat-node restore` (node/offline.c) and at start-up by --restore.
 *
 * A data dir is either fresh (absent, empty, or holding only the leftovers
 * of an interrupted restore), restored (its raft/ and a DATA_DIR/restored
 * record of the backup it came from), or something else, which is never
 * touched. Restoring the backup a data dir was already restored from does
 * nothing, so a service that keeps --restore in its arguments starts again
 * on its own state.
 */
#ifndef PC_RESTORE_H
#define PC_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/hash.h"
#include "node/config.h"

/*
 * The raft index and term of the snapshot a restore writes. Not 1: raft
 * 0.22.1 sends a follower whose log is empty AppendEntries from index 1
 * when it finds a term for index 1, and TrailTermOf() answers the
 * snapshot's term for index 1 when the snapshot sits there, so a leader
 * whose log starts with a snapshot at index 1 sends new members empty
 * heartbeats for ever instead of the snapshot (0.15.0 looks at the
 * snapshot index, and sends it). At index 2, entry 1 is plainly gone and
 * both versions send the snapshot.
 */
#define RESTORE_SNAPSHOT_INDEX 2
#define RESTORE_SNAPSHOT_TERM  1

/* The record of a restore, DATA_DIR/RESTORE_RECORD. */
#define RESTORE_RECORD "restored"

struct restore_opts {
    const char *backup;   /* the backup file */
    const char *data_dir; /* fresh, or restored from this backup */
    uint32_t id;          /* this node, the one voter */
    const char *peer;     /* its raft address */
    /* The live cluster's redaction list (GET /v1/redactions pages, one a
     * line; node/raft/redactions.h), or NULL: documents redacted since
     * the backup are dropped before the snapshot is written. */
    const char *redactions;
};

/* What restore_run found and did. */
struct restore_result {
    bool already; /* the data dir was restored from this backup before:
                   * nothing was written */
    uint64_t bytes, revision, facts, entries, records;
    uint8_t root[PC_HASH_LEN];
};

/*
 * Restore `o->backup` into `o->data_dir` (see the top of this file), under
 * the data dir's lock. The backup is verified whole (snap_verify) before
 * anything is written; the raft snapshot is built in DATA_DIR/raft.restoring
 * and renamed into place once complete, after the record, so an
 * interrupted restore leaves a data dir that counts as fresh. When `preload`
 * the verified ledger is handed to rfsm_preload for the node this process
 * starts next, which then does not decode the snapshot again.
 *
 * Returns PC_OK with `*res` filled; PC_ECORRUPT (the backup is damaged:
 * `errmsg` names the frame and byte), PC_EEXIST (the data dir holds other
 * state, or was restored from another backup), PC_EBUSY (a process holds
 * the data dir), PC_EIO or PC_ENOMEM, with `errmsg` saying what.
 * Context: no loop of the caller's is touched (raft_uv runs on a loop of
 * its own); blocks for the decode and the writes.
 */
int restore_run(const struct restore_opts *o, bool preload,
                struct restore_result *res, char *errmsg);

/*
 * Read the whole of the regular file `path` into `out` (appended; one
 * allocation of the file's size). PC_OK, PC_EIO, PC_EINVAL (not a regular
 * file) or PC_ENOMEM, with `errmsg` naming the file; on error `out` may
 * hold part of the file.
 */
int restore_read_file(const char *path, struct pc_buf *out, char *errmsg);

/*
 * provcat-node --restore FILE: restore_run with the node's flags and
 * preload; when the data dir was restored from FILE already, or FILE is
 * gone and the data dir was restored, it says so and leaves it as it is.
 * PC_OK, or as restore_run, with PC_EINVAL for a damaged backup or a data
 * dir that cannot take it (exit 2, a configuration error).
 */
int restore_data_dir(const struct cfg *c, char *errmsg);

#endif
