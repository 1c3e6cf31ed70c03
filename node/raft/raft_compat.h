/* SPDX-License-Identifier: MIT */
/*
 * What `make RAFT=system` needs from Debian 12's libraft 0.15.0, which
 * predates RAFT_VERSION_NUMBER and the accessors 0.17 added: the same
 * functions over the struct fields they read in later versions. With
 * 0.22.1 (the default build) this header adds nothing.
 */
#ifndef PC_NODE_RAFT_COMPAT_H
#define PC_NODE_RAFT_COMPAT_H

#include <raft.h>

#ifndef RAFT_VERSION_NUMBER
#define RAFT_VERSION_NUMBER 1500 /* 0.15.0 */

static inline raft_term
raft_current_term(const struct raft *r)
{
    return r->current_term;
}

static inline raft_index
raft_commit_index(const struct raft *r)
{
    return r->commit_index;
}

static inline raft_id
raft_transferee(const struct raft *r)
{
    return r->transfer != NULL ? r->transfer->id : 0;
}

/* Only in leader state, like 0.22.1's. */
static inline int
raft_match_index(const struct raft *r, raft_id id, raft_index *index)
{
    for (unsigned i = 0; i < r->configuration.n; i++) {
        if (r->configuration.servers[i].id == id) {
            *index = r->leader_state.progress[i].match_index;
            return 0;
        }
    }
    return RAFT_BADID;
}
#endif

/* Transport versions, the capacity threshold and the in-flight limit came
 * with 0.17. */
#define PC_RAFT_HAS_017 (RAFT_VERSION_NUMBER >= 1700)

#endif
