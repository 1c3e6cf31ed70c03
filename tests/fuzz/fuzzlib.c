/* SPDX-License-Identifier: MIT */
#include "tests/fuzz/fuzzlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/jcs.h"
#include "node/cmd.h"
#include "storage/led.h"
#include "tests/lib/cmdfx.h"

void
fuzz_check_at(bool ok, const char *file, int line)
{
    if (!ok) {
        fprintf(stderr, "%s:%d: check failed\n", file, line);
        abort();
    }
}

const char *
fuzz_hash_hex(const char *token)
{
    static char h[PC_HASH_HEX_LEN + 1];

    cmdfx_hash_hex(token, h);
    return h;
}

void
fuzz_start(struct fuzz_fsm *z, const char *token_hash)
{
    char extra[200];

    fsm_free(z->f);
    check(fsm_new(&z->f) == PC_OK);
    z->index = 0;
    z->applies = 0;
    snprintf(extra, sizeof(extra),
             "{\"cluster_id\":\"00112233445566778899aabbccddeeff\","
             "\"token_hash\":\"%s\"}",
             token_hash);
    check(fuzz_run(z, CMD_GENESIS, "", "", "", extra) == 201);
}

/* Every fact from `from` on holds canonical JSON. */
static void
payloads_canonical(struct led *l, uint64_t from)
{
    for (uint64_t r = from; r <= led_count(l); r++) {
        struct pc_buf c;
        struct fact f;

        check(led_get(l, r, &f) == PC_OK);
        pc_buf_init(&c);
        check(jcs_canonicalize((const char *)f.payload.p, f.payload.len, &c,
                               NULL) == PC_OK);
        check(c.len == f.payload.len &&
              memcmp(c.data, f.payload.p, c.len) == 0);
        pc_buf_release(&c);
    }
}

struct fsm_result
fuzz_apply_extra(struct fuzz_fsm *z, uint32_t type, const char *principal,
                 const char *target, const void *body, size_t len,
                 const void *extra, size_t extra_len)
{
    struct cmd c =
        cmdfx_cmd(type, principal, target, (struct pc_slice){ body, len },
                  (struct pc_slice){ extra, extra_len });
    uint64_t n = z->index + (z->stamp_next ? 1 : 0);
    uint64_t before = z->max_facts > 0 ? led_count(fsm_led(z->f)) : 0;
    char errmsg[PC_ERRMSG_SIZE], rid[32];
    struct fsm_result r;

    c.time_ms = FUZZ_EPOCH_MS + (int64_t)n * z->step_ms;
    snprintf(rid, sizeof(rid), "f%llu", (unsigned long long)n);
    c.request_id = PC_SLICE_STR(rid);
    check(cmdfx_run(z->f, ++z->index, &c, &r, errmsg) == PC_OK);
    z->applies++;
    if (z->max_facts > 0) {
        check(led_count(fsm_led(z->f)) <= before + z->max_facts);
        payloads_canonical(fsm_led(z->f), before + 1);
    }
    return r;
}

struct fsm_result
fuzz_apply(struct fuzz_fsm *z, uint32_t type, const char *principal,
           const char *target, const void *body, size_t len, const char *extra)
{
    return fuzz_apply_extra(z, type, principal, target, body, len, extra,
                            extra ? strlen(extra) : 0);
}

int
fuzz_run(struct fuzz_fsm *z, uint32_t type, const char *principal,
         const char *target, const char *body, const char *extra)
{
    return fuzz_apply(z, type, principal, target, body, body ? strlen(body) : 0,
                      extra)
        .status;
}

void
fuzz_org(struct fuzz_fsm *z, const char *id, const char *name,
         const char *level, bool authority)
{
    char body[300];

    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"name\":\"%s\",\"level\":\"%s\",\"kind\":"
             "\"agency\",\"parent\":\"authority\"%s}",
             id, name, level, authority ? ",\"authority\":true" : "");
    check(fuzz_run(z, CMD_ORG_CREATE, "admin", "", body, "") == 201);
}

void
fuzz_principal(struct fuzz_fsm *z, const char *id, const char *org,
               const char *role, const char *token_hash)
{
    char body[300], extra[120];

    if (org != NULL) {
        snprintf(body, sizeof(body),
                 "{\"id\":\"%s\",\"org\":\"%s\",\"roles\":[\"%s\"]}", id, org,
                 role);
    } else {
        snprintf(body, sizeof(body), "{\"id\":\"%s\"}", id);
    }
    snprintf(extra, sizeof(extra), "{\"token_hash\":\"%s\"}", token_hash);
    check(fuzz_run(z, CMD_PRINCIPAL_CREATE, "admin", "", body, extra) == 201);
}

void
fuzz_publish(struct fuzz_fsm *z, const char *provider, const char *id,
             const char *doc)
{
    check(fuzz_run(z, CMD_ENTRY_CREATE, provider, "", doc, "") == 201);
    check(fuzz_run(z, CMD_ENTRY_SUBMIT, provider, id, "", "") == 200);
    check(fuzz_run(z, CMD_ENTRY_REVIEW, "admin", id,
                   "{\"decision\":\"approve\"}", "") == 200);
}
