/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets of the rules share: a state machine driven one
 * command at a time (tests/lib/cmdfx: a one-command raft entry applied at
 * the next raft index, as a replica applies it), the orgs, principals and
 * published entries each target starts from, and check(), which aborts
 * (a finding for libFuzzer) when an invariant fails. Every target keeps
 * its state machine in a struct fuzz_fsm and renews it every so many
 * applies, so that a long run does not grow without bound.
 */
#ifndef PC_FUZZLIB_H
#define PC_FUZZLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/fsm/fsm.h"

#define FUZZ_EPOCH_MS 1790000000000LL /* the time stamp of command 0 */

struct fuzz_fsm {
    struct fsm *f;
    uint64_t index;     /* raft index of the last entry applied */
    unsigned applies;   /* commands applied since fuzz_start */
    int64_t step_ms;    /* between the time stamps of two commands */
    bool stamp_next;    /* a command's number (its time stamp and request
                           id "f<n>") is the raft index it is applied at,
                           not the one before */
    unsigned max_facts; /* when not 0: a command appends at most this many
                           facts, each with a canonical JSON payload */
};

/* Abort with `file`:`line` unless `ok`. */
void fuzz_check_at(bool ok, const char *file, int line);
#define check(ok) fuzz_check_at((ok), __FILE__, __LINE__)

/* Hex of H(`token`) in a static buffer, valid until the next call. */
const char *fuzz_hash_hex(const char *token);

/*
 * A new state machine in `z` (the old one freed) at raft index 0, after a
 * genesis (checked: 201) with an admin token whose hash is `token_hash`
 * (64 hex digits).
 */
void fuzz_start(struct fuzz_fsm *z, const char *token_hash);

/*
 * Apply `type` by `principal` on `target` with `body` (`len` bytes) and
 * `extra` (NULL: empty) at the next raft index: apply must succeed with
 * one result, which is returned (and, with `max_facts`, checked).
 */
struct fsm_result fuzz_apply(struct fuzz_fsm *z, uint32_t type,
                             const char *principal, const char *target,
                             const void *body, size_t len, const char *extra);
/* fuzz_apply with `extra` of `extra_len` bytes. */
struct fsm_result fuzz_apply_extra(struct fuzz_fsm *z, uint32_t type,
                                   const char *principal, const char *target,
                                   const void *body, size_t len,
                                   const void *extra, size_t extra_len);
/* fuzz_apply of strings (NULL: empty): the status. */
int fuzz_run(struct fuzz_fsm *z, uint32_t type, const char *principal,
             const char *target, const char *body, const char *extra);

/* Org `id` named `name` at `level` under the authority, an authority
 * itself if asked, created by admin (checked: 201). */
void fuzz_org(struct fuzz_fsm *z, const char *id, const char *name,
              const char *level, bool authority);
/* Principal `id` of `org` with the one role `role`, or a citizen when
 * `org` is NULL, whose token hash is `token_hash`, created by admin
 * (checked: 201). */
void fuzz_principal(struct fuzz_fsm *z, const char *id, const char *org,
                    const char *role, const char *token_hash);
/* Entry `doc` (whose id is `id`) created by `provider`, submitted, and
 * approved by admin (each checked). */
void fuzz_publish(struct fuzz_fsm *z, const char *provider, const char *id,
                  const char *doc);

#endif
