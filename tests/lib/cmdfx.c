/* SPDX-License-Identifier: MIT */
#include "tests/lib/cmdfx.h"

#include <string.h>

#include "common/err.h"

struct cmd
cmdfx_cmd(uint32_t type, const char *principal, const char *target,
          struct pc_slice body, struct pc_slice extra)
{
    struct cmd c;

    memset(&c, 0, sizeof(c));
    c.type = type;
    c.rules = CMD_RULES_VERSION;
    c.principal = PC_SLICE_STR(principal ? principal : "");
    c.request_id = PC_SLICE_STR("");
    c.target = PC_SLICE_STR(target ? target : "");
    c.body = body;
    c.extra = extra;
    return c;
}

int
cmdfx_entry(struct pc_buf *entry, const struct cmd *c)
{
    struct pc_buf one;
    int rc;

    pc_buf_init(&one);
    rc = cmd_encode(c, &one);
    if (rc == PC_OK) {
        rc = cmd_entry_begin(entry, 1);
    }
    if (rc == PC_OK) {
        rc = cmd_entry_add(entry, &one);
    }
    if (rc == PC_OK) {
        rc = cmd_entry_end(entry);
    }
    pc_buf_release(&one);
    return rc;
}

int
cmdfx_apply(struct fsm *f, uint64_t index, const struct pc_buf *entry,
            struct fsm_result *res, char *errmsg)
{
    const struct fsm_result *all;
    size_t n;
    int rc;

    rc = fsm_apply(f, entry->data, entry->len, index, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    n = fsm_results(f, &all);
    if (n != 1) {
        return pc_errmsgf(errmsg, PC_EPROTO, "%zu results of one command", n);
    }
    *res = all[0];
    return PC_OK;
}

int
cmdfx_run(struct fsm *f, uint64_t index, const struct cmd *c,
          struct fsm_result *res, char *errmsg)
{
    struct pc_buf entry;
    int rc;

    pc_buf_init(&entry);
    rc = cmdfx_entry(&entry, c);
    if (rc != PC_OK) {
        pc_errmsgf(errmsg, rc, "encode command %u", (unsigned)c->type);
    } else {
        rc = cmdfx_apply(f, index, &entry, res, errmsg);
    }
    pc_buf_release(&entry);
    return rc;
}

void
cmdfx_hash_hex(const char *token, char out[PC_HASH_HEX_LEN + 1])
{
    uint8_t h[PC_HASH_LEN];

    pc_hash(h, token, strlen(token));
    pc_hex(out, h, PC_HASH_LEN);
}
