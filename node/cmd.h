/* SPDX-License-Identifier: MIT */
/*
 * Commands: what the node that receives a write proposes through raft. A
 * command carries everything apply may use (the leader's time stamp, the
 * authenticated principal, request id, idempotency key and fingerprint, the
 * path target, the JSON body and leader-generated values such as token
 * hashes and salts), so apply is a pure function of command and state.
 * Several commands may be packed into one raft entry.
 */
#ifndef PC_CMD_H
#define PC_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * The rules this build applies: apply refuses a command proposed under any
 * other version (it stops rather than decide differently from the nodes
 * that proposed it). 1: provcat-node 0.1.0. 2: 0.2.0 (operations decided
 * in apply, the regulation's workflows, preconditions read exactly, ids of
 * principals one may not know answered 404, an open class set only by the
 * provider org, https member URLs). docs/node.md, Upgrading.
 */
#define CMD_RULES_VERSION   2
#define CMD_FINGERPRINT_LEN 16
#define CMD_MAX_PER_ENTRY   4096

/* Command types. Append only: codes are never reused. */
#define CMD_TYPE_MAP(X)                         \
    X(1, GENESIS, "genesis")                    \
    X(2, TICK, "tick")                          \
    X(3, MEMBER_URL, "member.url")              \
    X(4, SECURITY_SUMMARY, "security.summary")  \
    X(5, ORG_CREATE, "org.create")              \
    X(6, PRINCIPAL_CREATE, "principal.create")  \
    X(7, PRINCIPAL_TOKEN, "principal.token")    \
    X(8, PRINCIPAL_REVOKE, "principal.revoke")  \
    X(9, ENTRY_CREATE, "entry.create")          \
    X(10, ENTRY_UPDATE, "entry.update")         \
    X(11, ENTRY_SUBMIT, "entry.submit")         \
    X(12, ENTRY_REVIEW, "entry.review")         \
    X(13, ENTRY_RETIRE, "entry.retire")         \
    X(14, RECORD_PUT, "record.put")             \
    X(15, RECORD_BATCH, "record.batch")         \
    X(16, RECORD_RETIRE, "record.retire")       \
    X(17, RECORD_CORRECT, "record.correct")     \
    X(18, AUDIT, "audit")                       \
    X(19, RECORD_BATCH2, "record.batch2")       \
    X(20, OPERATION, "operation")               \
    X(21, SHARE_REQUEST, "share.request")       \
    X(22, SHARE_DECIDE, "share.decide")         \
    X(23, GRANT_REVOKE, "grant.revoke")         \
    X(24, OPEN_REQUEST, "open.request")         \
    X(25, OPEN_DECIDE, "open.decide")           \
    X(26, CALENDAR_SET, "calendar.set")         \
    X(27, OBJECTION_FILE, "objection.file")     \
    X(28, OBJECTION_DECIDE, "objection.decide") \
    X(29, RECORD_REDACT, "record.redact")

enum cmd_type {
#define CMD_TYPE_ENUM(code, name, str) CMD_##name = code,
    CMD_TYPE_MAP(CMD_TYPE_ENUM)
#undef CMD_TYPE_ENUM
    CMD_TYPE_MAX
};

/* "org.create" for CMD_ORG_CREATE; NULL when unknown. */
const char *cmd_type_name(unsigned type);

/* A decoded command; slices borrow from the bytes it was decoded from. */
struct cmd {
    uint32_t type;
    uint32_t rules;            /* rules version it was proposed under */
    int64_t time_ms;           /* the proposing leader's clock */
    struct pc_slice principal; /* authenticated principal; empty = public */
    struct pc_slice request_id;
    struct pc_slice idem_key;                 /* Idempotency-Key or empty */
    uint8_t fingerprint[CMD_FINGERPRINT_LEN]; /* method, path, body */
    struct pc_slice target; /* object named by the path, or empty */
    struct pc_slice body;   /* the request's JSON body, or empty */
    struct pc_slice extra;  /* leader-made values (JSON), or empty */
};

/* Append one encoded command to `out`. PC_OK or PC_ENOMEM. */
int cmd_encode(const struct cmd *c, struct pc_buf *out);

/* Decode one command from exactly `len` bytes. PC_OK or PC_EPROTO. */
int cmd_decode(const uint8_t *p, size_t len, struct cmd *c, char *errmsg);

/*
 * Raft entries: a header, a count and length-prefixed commands, zero-padded
 * to a multiple of 8 bytes (libraft requires it).
 */
int cmd_entry_begin(struct pc_buf *out, uint32_t n);
int cmd_entry_add(struct pc_buf *out, const struct pc_buf *encoded_cmd);
/* Pad to 8 bytes. */
int cmd_entry_end(struct pc_buf *out);

/* Iterate an entry: cmd_entry_open then cmd_entry_next until it returns 0. */
struct cmd_iter {
    struct pc_rd rd;
    uint32_t left;
};
int cmd_entry_open(struct cmd_iter *it, const void *p, size_t len,
                   char *errmsg);
/* 1 with `c` filled, 0 at the end, or PC_EPROTO. */
int cmd_entry_next(struct cmd_iter *it, struct cmd *c, char *errmsg);

/*
 * The fingerprint that ties an Idempotency-Key to one request: the first
 * 16 bytes of H(method ‖ 0 ‖ path ‖ 0 ‖ body).
 */
void cmd_fingerprint(uint8_t out[CMD_FINGERPRINT_LEN], const char *method,
                     const char *path, const void *body, size_t len);

#endif
