/* SPDX-License-Identifier: MIT */
/*
 * The node's log: one line per event on stderr, as text ("<time> node=<id>
 * <level>: <message> key=value ...") or as one JSON object per line
 * (--log-format json) for log shippers. Each line is written with one
 * write(2), so lines of concurrent writers never interleave.
 *
 * Conventions for whoever adds a line:
 *  - an event an operator may need to reconstruct (membership, leadership,
 *    elections, snapshots, backups, peers, restores, disk, clock) is one
 *    line at info (warn when something is wrong), with an `event` name and
 *    its ids as fields: `member`, `from`, `to`, `index`, `bytes`, `ms`,
 *    `request_id` (the request that caused it), `principal` (who asked);
 *  - a line about a request carries that request's id (log_req_fields in
 *    node/api, or LOG_STR("request_id", ...));
 *  - never a token, its hash or a document;
 *  - per-request and per-message lines only at debug: at info and below
 *    the hot paths format nothing (check log_on() before building fields).
 */
#ifndef PC_NODE_LOG_H
#define PC_NODE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"

/* Levels as --log-level names them (config.h's enum cfg_log_level). */
enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
};

enum log_format {
    LOG_FORMAT_TEXT = 0,
    LOG_FORMAT_JSON,
};

enum log_type {
    LOG_T_STR,
    LOG_T_U64,
    LOG_T_I64,
    LOG_T_BOOL,
};

/* A field of a line: a key and a typed value. Arrays of fields end with
 * LOG_END (key NULL). A LOG_STR whose value is NULL is left out. */
struct log_field {
    const char *key;
    enum log_type type;
    const char *s;
    uint64_t u;
    int64_t i;
};

#define LOG_STR(k, v) \
    ((struct log_field){ .key = (k), .type = LOG_T_STR, .s = (v) })
#define LOG_U64(k, v) \
    ((struct log_field){ .key = (k), .type = LOG_T_U64, .u = (uint64_t)(v) })
#define LOG_I64(k, v) \
    ((struct log_field){ .key = (k), .type = LOG_T_I64, .i = (int64_t)(v) })
#define LOG_BOOL(k, v) \
    ((struct log_field){ .key = (k), .type = LOG_T_BOOL, .u = (v) ? 1 : 0 })
#define LOG_END ((struct log_field){ .key = NULL })
/* A field list in place: LOG_FIELDS(LOG_U64("member", id), ...). */
#define LOG_FIELDS(...) ((const struct log_field[]){ __VA_ARGS__, LOG_END })

/*
 * Set the level, the format and the node id every line names. Until it is
 * called the log writes warnings and errors as text with node id 0 (unit
 * tests, and the offline subcommands). Context: start-up, one thread.
 */
void log_setup(enum log_level level, enum log_format format, uint64_t node_id);

/* Whether a line at `level` would be written: check it before building
 * anything costly. */
bool log_on(enum log_level level);

/* The level and format set by log_setup. */
enum log_level log_level(void);
enum log_format log_format(void);

/*
 * Write one line at `level`: the message `fmt` (printf), then the fields
 * (`fields` may be NULL), `event` first when not NULL. Nothing is built
 * when the level is off. Context: any thread (one write per line).
 */
void log_write(enum log_level level, const char *event,
               const struct log_field *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Format one line (with its newline) into `out`: the pure part of
 * log_write, for tests. `time_ms` is the wall clock in ms since the epoch.
 * Strings are escaped for the format: JSON escapes quotes, backslashes and
 * control bytes and turns invalid UTF-8 into U+FFFD; text quotes a value
 * holding a space, a quote, '=' or a control byte (and escapes those
 * inside) and replaces control bytes of the message by spaces, so a line
 * is always one line. Returns PC_OK or PC_ENOMEM.
 */
int log_format_line(struct pc_buf *out, enum log_format format, int64_t time_ms,
                    uint64_t node_id, enum log_level level, const char *event,
                    const struct log_field *fields, const char *msg);

/* "error", "warn", "info" or "debug". */
const char *log_level_name(enum log_level level);

/*
 * raft's own diagnostics as debug lines (event "raft", with the raft
 * source file and line): a tracer for raft_init's instance and raft_uv.
 * Returns the tracer to install (struct raft_tracer *), or NULL when the
 * level is below debug, so that raft formats nothing (its default tracer
 * formats every message even when disabled). Process-wide, one per node.
 */
void *log_raft_tracer(void);

#endif
