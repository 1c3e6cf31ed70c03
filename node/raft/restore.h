/* SPDX-License-Identifier: MIT */
/*
 * provcat-node --restore FILE: verify a backup (the snapshot format) and make
 * it the state of a new single-voter cluster member in an empty data dir,
 * as a raft snapshot at index 1, term 1. Other nodes then join it with
 * POST /v1/members and receive the snapshot.
 */
#ifndef PC_RESTORE_H
#define PC_RESTORE_H

#include "node/config.h"

/* PC_OK, PC_EINVAL (bad file or non-empty data dir), PC_ECORRUPT, PC_EIO. */
int restore_data_dir(const struct cfg *c, char *errmsg);

#endif
