/* SPDX-License-Identifier: MIT */
/*
 * What the state-machine benchmarks share: a clock, a way to give up, and
 * a state machine driven one command at a time (tests/lib/cmdfx: a
 * one-command raft entry applied at the next raft index, as a replica
 * applies it). A benchmark stops with a message on any error or status
 * other than the one it wants.
 */
#ifndef PC_BENCHLIB_H
#define PC_BENCHLIB_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "node/fsm/fsm.h"

#define BENCH_EPOCH_MS 1790000000000LL /* the first command's time */

struct bench {
    struct fsm *f;
    uint64_t index;         /* raft index of the last entry applied */
    int64_t now_ms;         /* the next command's time stamp */
    int64_t step_ms;        /* added to `now_ms` after each command */
    const char *request_id; /* every command's */
};

/* Seconds on the monotonic clock. */
double bench_secs(void);

/* Print "<program>: `what`" and exit 1. */
void bench_die(const char *what) __attribute__((noreturn));

/* A new state machine in `b` (the old one freed; raft indexes go on from
 * the old one's) after a genesis whose admin token is "admin". */
void bench_start(struct bench *b);

/* The extra of a command carrying H(token), after the members `more`
 * (each followed by a comma). */
void bench_token_extra(char *out, size_t size, const char *more,
                       const char *token);

/* Append to `entry` command `type` by `principal` on `target` with `body`
 * (`len` bytes) and `extra` (NULL strings are empty) as a raft entry,
 * stamped `b->now_ms`; `b->now_ms` moves on by `b->step_ms`. */
void bench_encode_len(struct bench *b, struct pc_buf *entry, uint32_t type,
                      const char *principal, const char *target,
                      const void *body, size_t len, const char *extra);
/* bench_encode_len of a string `body`. */
void bench_encode(struct bench *b, struct pc_buf *entry, uint32_t type,
                  const char *principal, const char *target, const char *body,
                  const char *extra);

/* Apply `entry` (a command of `type`) at the next raft index: its result,
 * whose status must be `want` (any when 0). */
struct fsm_result bench_apply(struct bench *b, const struct pc_buf *entry,
                              uint32_t type, int want);

/* Encode, then apply, one command. */
struct fsm_result bench_run_len(struct bench *b, uint32_t type,
                                const char *principal, const char *target,
                                const void *body, size_t len, const char *extra,
                                int want);
struct fsm_result bench_run(struct bench *b, uint32_t type,
                            const char *principal, const char *target,
                            const char *body, const char *extra, int want);

#endif
