/* SPDX-License-Identifier: MIT */
/*
 * A state machine driven one command at a time, for the unit tests of the
 * rules: each command is encoded as a one-command raft entry and applied at
 * the next raft index, as a replica would.
 */
#ifndef PC_TEST_FSMFX_H
#define PC_TEST_FSMFX_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/hash.h"
#include "node/fsm/fsm.h"
#include "tests/lib/cmdfx.h"

#define FSMFX_EPOCH_MS 1790000000000LL /* the first command's time */

struct fsmfx {
    struct fsm *f;
    uint64_t index;  /* raft index of the last entry applied */
    int64_t now;     /* the next command's time stamp */
    int64_t step_ms; /* added to `now` after each command */
};

/*
 * A new state machine after genesis, whose admin token is `admin_token`
 * (test_calloc'd; free with fsmfx_free).
 */
struct fsmfx *fsmfx_new(const char *admin_token, int64_t step_ms);
void fsmfx_free(struct fsmfx *fx);

/*
 * Encode one command (NULL strings are empty; `idem`, when given, is the
 * Idempotency-Key with a fingerprint of target and body) as a raft entry
 * appended to `entry`.
 */
void fsmfx_encode(const struct fsmfx *fx, struct pc_buf *entry, uint32_t type,
                  const char *principal, const char *target, const char *body,
                  const char *extra, const char *idem);
/* fsmfx_encode of a binary body of `len` bytes. */
void fsmfx_encode_len(const struct fsmfx *fx, struct pc_buf *entry,
                      uint32_t type, const char *principal, const char *target,
                      const void *body, size_t len, const char *extra,
                      const char *idem);

/* Org `id` under `parent` (none when NULL) at `level`, an authority if
 * asked, created by `who`: the result. */
struct fsm_result fsmfx_org_by(struct fsmfx *fx, const char *who,
                               const char *id, const char *parent,
                               const char *level, bool authority);
/* Principal `id` with H(token) in `org` with `roles` (the inside of a JSON
 * array), or a citizen when `org` is NULL, created by `who`: the result. */
struct fsm_result fsmfx_principal_by(struct fsmfx *fx, const char *who,
                                     const char *id, const char *org,
                                     const char *roles, const char *token);
/* The same by admin, asserting 201; a principal's token is its id (tests
 * never authenticate). */
void fsmfx_org(struct fsmfx *fx, const char *id, const char *parent,
               const char *level, bool authority);
void fsmfx_principal(struct fsmfx *fx, const char *id, const char *org,
                     const char *roles);

/* Principal `id` revoked by admin (asserting 200). */
void fsmfx_revoke(struct fsmfx *fx, const char *id);

/* Entry `body` created by `who` (asserting 201). */
void fsmfx_create_entry(struct fsmfx *fx, const char *who, const char *body);
/* Entry `id` approved by `reviewer`, overriding a possible duplicate (the
 * fixtures' entries share their schemas on purpose), asserting 200. */
void fsmfx_approve(struct fsmfx *fx, const char *reviewer, const char *id);
/* Entry `id` submitted by `who`, then approved by `reviewer` as
 * fsmfx_approve: published. */
void fsmfx_publish(struct fsmfx *fx, const char *who, const char *reviewer,
                   const char *id);

/* Entry `id` of org dept, created by its provider prov: one required
 * string field "name", share and open classes unconditional; published
 * (fsmfx_publish, approved by admin) if asked. */
void fsmfx_dept_entry(struct fsmfx *fx, const char *id, bool publish);

/* An objection of `kind` on record `entry`/`key` ("it is wrong") filed by
 * `who`: the result, and on 201 its id in `id` (32 bytes) if not NULL. */
struct fsm_result fsmfx_objection_file(struct fsmfx *fx, const char *who,
                                       const char *entry, const char *key,
                                       const char *kind, char *id);
/* Objection `id` decided `decision` ("accept", "reject"...) by `who`,
 * "because": the status. */
int fsmfx_objection_decide(struct fsmfx *fx, const char *who, const char *id,
                           const char *decision);
/* An objection filed by `who` (asserting 201), its id in `id` (32 bytes),
 * then, unless `decision` is NULL, decided so by admin (asserting 200). */
void fsmfx_objection(struct fsmfx *fx, const char *who, const char *entry,
                     const char *key, const char *kind, const char *decision,
                     char *id);
/* Version `version` of record `target` ("entry/key") redacted by `who` on
 * the strength of objection `objection_id`: the status. */
int fsmfx_redact(struct fsmfx *fx, const char *who, const char *target,
                 unsigned version, const char *objection_id);

/* A cmocka teardown for tests whose state is a struct fsmfx. */
int fsmfx_teardown(void **state);

/* A new state machine restored from a copy of `fx`'s facts and record
 * documents (fsm_free it): what a replica rebuilds from a snapshot. */
struct fsm *fsmfx_rebuilt(const struct fsmfx *fx);

/* Encode and apply one command at the next index; its result (a copy). */
struct fsm_result fsmfx_run(struct fsmfx *fx, uint32_t type,
                            const char *principal, const char *target,
                            const char *body, const char *extra,
                            const char *idem);
/* fsmfx_run of a binary body of `len` bytes. */
struct fsm_result fsmfx_run_len(struct fsmfx *fx, uint32_t type,
                                const char *principal, const char *target,
                                const void *body, size_t len, const char *extra,
                                const char *idem);

/*
 * Apply `entry` (one command, as fsmfx_encode makes) at the next indexes
 * with allocation k = 0, 1, ... failing once each (parses, payloads, the
 * ledger, the derived state): every failure must be PC_ENOMEM with the
 * ledger and its root as they were (never a verdict, which would be one
 * replica's alone); the sweep must inject at least one and the run that
 * succeeds must answer `want`. Returns that result.
 */
struct fsm_result fsmfx_oom_apply(struct fsmfx *fx, const struct pc_buf *entry,
                                  int want);
/* fsmfx_oom_apply of one command encoded as fsmfx_run would. */
struct fsm_result fsmfx_oom_run(struct fsmfx *fx, uint32_t type,
                                const char *principal, const char *target,
                                const char *body, const char *extra,
                                const char *idem, int want);

#endif
