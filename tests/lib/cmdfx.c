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

int
cmdfx_led_copy(struct led *src, struct led **out, char *errmsg)
{
    struct led *copy;
    int rc;

    rc = led_new(&copy);
    if (rc != PC_OK) {
        return pc_errmsgf(errmsg, rc, "led_new");
    }
    for (uint64_t r = 1; rc == PC_OK && r <= led_count(src); r++) {
        uint8_t salt[PC_SALT_LEN];
        struct led_doc d = { NULL, NULL, 0 };
        struct pc_slice enc;
        struct pc_buf doc;
        /* Record versions carry a document (a retire version none), or
         * one redacted since (no salt, no bytes: a snapshot's state 2). */
        bool has_doc = led_doc_state(src, r) != LED_DOC_NONE;

        pc_buf_init(&doc);
        rc = led_encoding(src, r, &enc);
        if (rc != PC_OK) {
            pc_errmsgf(errmsg, rc, "encoding of fact %llu",
                       (unsigned long long)r);
        } else {
            if (led_doc_get(src, r, &doc, salt) == PC_OK) {
                d = (struct led_doc){ salt, doc.data, doc.len };
            }
            rc = led_append_encoded(copy, enc.p, enc.len, has_doc ? &d : NULL,
                                    r, errmsg);
        }
        pc_buf_release(&doc);
    }
    if (rc != PC_OK) {
        led_free(copy);
        return rc;
    }
    *out = copy;
    return PC_OK;
}

void
cmdfx_hash_hex(const char *token, char out[PC_HASH_HEX_LEN + 1])
{
    uint8_t h[PC_HASH_LEN];

    pc_hash(h, token, strlen(token));
    pc_hex(out, h, PC_HASH_LEN);
}
