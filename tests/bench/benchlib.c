/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* program_invocation_short_name */
#include "tests/bench/benchlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "node/cmd.h"
#include "tests/lib/cmdfx.h"

double
bench_secs(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void
bench_die(const char *what)
{
    fprintf(stderr, "%s: %s\n", program_invocation_short_name, what);
    exit(1);
}

void
bench_start(struct bench *b)
{
    char extra[200];

    fsm_free(b->f);
    if (fsm_new(&b->f) != PC_OK) {
        bench_die("fsm_new failed");
    }
    bench_token_extra(extra, sizeof(extra),
                      "\"cluster_id\":\"00112233445566778899aabbccddeeff\",",
                      "admin");
    bench_run(b, CMD_GENESIS, NULL, NULL, NULL, extra, 201);
}

void
bench_token_extra(char *out, size_t size, const char *more, const char *token)
{
    char hex[PC_HASH_HEX_LEN + 1];

    cmdfx_hash_hex(token, hex);
    snprintf(out, size, "{%s\"token_hash\":\"%s\"}", more, hex);
}

void
bench_encode_len(struct bench *b, struct pc_buf *entry, uint32_t type,
                 const char *principal, const char *target, const void *body,
                 size_t len, const char *extra)
{
    struct cmd c =
        cmdfx_cmd(type, principal, target, (struct pc_slice){ body, len },
                  PC_SLICE_STR(extra ? extra : ""));

    c.time_ms = b->now_ms;
    b->now_ms += b->step_ms;
    c.request_id = PC_SLICE_STR(b->request_id);
    if (cmdfx_entry(entry, &c) != PC_OK) {
        bench_die("encode failed");
    }
}

void
bench_encode(struct bench *b, struct pc_buf *entry, uint32_t type,
             const char *principal, const char *target, const char *body,
             const char *extra)
{
    bench_encode_len(b, entry, type, principal, target, body ? body : "",
                     body ? strlen(body) : 0, extra);
}

struct fsm_result
bench_apply(struct bench *b, const struct pc_buf *entry, uint32_t type,
            int want)
{
    char errmsg[PC_ERRMSG_SIZE];
    struct fsm_result r;

    if (cmdfx_apply(b->f, ++b->index, entry, &r, errmsg) != PC_OK) {
        bench_die(errmsg);
    }
    if (want != 0 && r.status != want) {
        fprintf(stderr, "%s: %s: status %d (%s), wanted %d\n",
                program_invocation_short_name, cmd_type_name(type), r.status,
                r.message, want);
        exit(1);
    }
    return r;
}

struct fsm_result
bench_run_len(struct bench *b, uint32_t type, const char *principal,
              const char *target, const void *body, size_t len,
              const char *extra, int want)
{
    struct fsm_result r;
    struct pc_buf e;

    pc_buf_init(&e);
    bench_encode_len(b, &e, type, principal, target, body, len, extra);
    r = bench_apply(b, &e, type, want);
    pc_buf_release(&e);
    return r;
}

struct fsm_result
bench_run(struct bench *b, uint32_t type, const char *principal,
          const char *target, const char *body, const char *extra, int want)
{
    return bench_run_len(b, type, principal, target, body ? body : "",
                         body ? strlen(body) : 0, extra, want);
}
