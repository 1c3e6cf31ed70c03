/* SPDX-License-Identifier: MIT */
/*
 * Command and raft-entry encoding. A command: 'C', format 1, type, rules,
 * time (zigzag), then principal, request id, idempotency key, fingerprint
 * (only with a key), target, body and extra as length-prefixed bytes.
 */
#include "node/cmd.h"

#include <sodium.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"

#define CMD_MAGIC   'C'
#define ENTRY_MAGIC 'E'
#define FORMAT      1
#define MAX_FIELD   (16u << 20)

const char *
cmd_type_name(unsigned type)
{
    switch (type) {
#define CMD_TYPE_STR(code, name, str) \
    case code:                        \
        return str;
        CMD_TYPE_MAP(CMD_TYPE_STR)
#undef CMD_TYPE_STR
    }
    return NULL;
}

int
cmd_encode(const struct cmd *c, struct pc_buf *out)
{
    size_t old = out->len;
    int rc = PC_OK;

    rc |= pc_buf_put_u8(out, CMD_MAGIC);
    rc |= pc_buf_put_u8(out, FORMAT);
    rc |= pc_buf_put_uvarint(out, c->type);
    rc |= pc_buf_put_uvarint(out, c->rules);
    rc |= pc_buf_put_svarint(out, c->time_ms);
    rc |= pc_buf_put_lp(out, c->principal.p, c->principal.len);
    rc |= pc_buf_put_lp(out, c->request_id.p, c->request_id.len);
    rc |= pc_buf_put_lp(out, c->idem_key.p, c->idem_key.len);
    if (c->idem_key.len > 0) {
        rc |= pc_buf_put(out, c->fingerprint, CMD_FINGERPRINT_LEN);
    }
    rc |= pc_buf_put_lp(out, c->target.p, c->target.len);
    rc |= pc_buf_put_lp(out, c->body.p, c->body.len);
    rc |= pc_buf_put_lp(out, c->extra.p, c->extra.len);
    if (rc != PC_OK) {
        out->len = old;
        return PC_ENOMEM;
    }
    return PC_OK;
}

int
cmd_decode(const uint8_t *p, size_t len, struct cmd *c, char *errmsg)
{
    struct pc_rd r;
    struct cmd d;
    uint8_t magic, format;
    uint64_t type, rules;
    struct pc_slice fp;

    memset(&d, 0, sizeof(d));
    pc_rd_init(&r, p, len);
    if (pc_rd_u8(&r, &magic) || magic != CMD_MAGIC || pc_rd_u8(&r, &format)) {
        return pc_errmsgf(errmsg, PC_EPROTO, "command: bad magic");
    }
    if (format != FORMAT) {
        return pc_errmsgf(errmsg, PC_EPROTO, "command: unknown format %u",
                          format);
    }
    if (pc_rd_uvarint(&r, &type) || pc_rd_uvarint(&r, &rules) ||
        pc_rd_svarint(&r, &d.time_ms) || type > UINT32_MAX ||
        rules > UINT32_MAX) {
        return pc_errmsgf(errmsg, PC_EPROTO, "command: bad header");
    }
    d.type = (uint32_t)type;
    d.rules = (uint32_t)rules;
    if (pc_rd_lp(&r, 512, &d.principal) || pc_rd_lp(&r, 512, &d.request_id) ||
        pc_rd_lp(&r, 64, &d.idem_key)) {
        return pc_errmsgf(errmsg, PC_EPROTO, "command: bad identity fields");
    }
    if (d.idem_key.len > 0) {
        if (pc_rd_bytes(&r, CMD_FINGERPRINT_LEN, &fp)) {
            return pc_errmsgf(errmsg, PC_EPROTO, "command: bad fingerprint");
        }
        memcpy(d.fingerprint, fp.p, CMD_FINGERPRINT_LEN);
    }
    if (pc_rd_lp(&r, MAX_FIELD, &d.target) ||
        pc_rd_lp(&r, MAX_FIELD, &d.body) || pc_rd_lp(&r, MAX_FIELD, &d.extra)) {
        return pc_errmsgf(errmsg, PC_EPROTO, "command: bad payload fields");
    }
    if (pc_rd_left(&r) != 0) {
        return pc_errmsgf(errmsg, PC_EPROTO, "command: %zu trailing bytes",
                          pc_rd_left(&r));
    }
    *c = d;
    return PC_OK;
}

int
cmd_entry_begin(struct pc_buf *out, uint32_t n)
{
    size_t old = out->len;

    if (pc_buf_put_u8(out, ENTRY_MAGIC) || pc_buf_put_u8(out, FORMAT) ||
        pc_buf_put_uvarint(out, n)) {
        out->len = old;
        return PC_ENOMEM;
    }
    return PC_OK;
}

int
cmd_entry_add(struct pc_buf *out, const struct pc_buf *encoded_cmd)
{
    return pc_buf_put_lp(out, encoded_cmd->data, encoded_cmd->len);
}

int
cmd_entry_end(struct pc_buf *out)
{
    static const uint8_t zeros[8];
    size_t pad = (8 - out->len % 8) % 8;

    return pc_buf_put(out, zeros, pad);
}

int
cmd_entry_open(struct cmd_iter *it, const void *p, size_t len, char *errmsg)
{
    uint8_t magic, format;
    uint64_t n;

    pc_rd_init(&it->rd, p, len);
    if (pc_rd_u8(&it->rd, &magic) || magic != ENTRY_MAGIC ||
        pc_rd_u8(&it->rd, &format) || format != FORMAT ||
        pc_rd_uvarint(&it->rd, &n) || n == 0 || n > CMD_MAX_PER_ENTRY) {
        return pc_errmsgf(errmsg, PC_EPROTO, "entry: bad header");
    }
    it->left = (uint32_t)n;
    return PC_OK;
}

int
cmd_entry_next(struct cmd_iter *it, struct cmd *c, char *errmsg)
{
    struct pc_slice s;

    if (it->left == 0) {
        /* Only zero padding may follow, and less than 8 bytes of it. */
        size_t left = pc_rd_left(&it->rd);

        if (left >= 8) {
            return pc_errmsgf(errmsg, PC_EPROTO, "entry: trailing bytes");
        }
        for (size_t i = 0; i < left; i++) {
            if (it->rd.p[it->rd.off + i] != 0) {
                return pc_errmsgf(errmsg, PC_EPROTO, "entry: bad padding");
            }
        }
        return 0;
    }
    if (pc_rd_lp(&it->rd, pc_rd_left(&it->rd), &s)) {
        return pc_errmsgf(errmsg, PC_EPROTO, "entry: truncated command");
    }
    it->left--;
    int rc = cmd_decode(s.p, s.len, c, errmsg);
    return rc == PC_OK ? 1 : rc;
}

void
cmd_fingerprint(uint8_t out[CMD_FINGERPRINT_LEN], const char *method,
                const char *path, const void *body, size_t len)
{
    crypto_generichash_state st;
    uint8_t h[PC_HASH_LEN];

    crypto_generichash_init(&st, NULL, 0, PC_HASH_LEN);
    crypto_generichash_update(&st, (const uint8_t *)method, strlen(method) + 1);
    crypto_generichash_update(&st, (const uint8_t *)path, strlen(path) + 1);
    crypto_generichash_update(&st, body, len);
    crypto_generichash_final(&st, h, PC_HASH_LEN);
    memcpy(out, h, CMD_FINGERPRINT_LEN);
}
