/* SPDX-License-Identifier: MIT */
/*
 * The node's log (log.h): levels, the text and JSON line formats, and
 * raft's tracer at debug. A line is formatted into a stack buffer (the
 * heap only for a long one) and written with one write(2) to stderr.
 */
#include "node/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/jsonesc.h"
#include "common/timefmt.h"
#include "node/node.h"
#include "node/raft/raft_compat.h"

/* Set once at start-up (log_setup), read by every thread after. */
static enum log_level cur_level = LOG_LEVEL_WARN;
static enum log_format cur_format = LOG_FORMAT_TEXT;
static uint64_t cur_node;

void
log_setup(enum log_level level, enum log_format format, uint64_t node_id)
{
    cur_level = level;
    cur_format = format;
    cur_node = node_id;
}

bool
log_on(enum log_level level)
{
    return level <= cur_level;
}

enum log_level
log_level(void)
{
    return cur_level;
}

enum log_format
log_format(void)
{
    return cur_format;
}

const char *
log_level_name(enum log_level level)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };

    return (unsigned)level < 4 ? names[level] : "debug";
}

/* ---- formatting ------------------------------------------------------- */

/* A log value as a JSON string: invalid UTF-8 as U+FFFD, DEL escaped. */
static int
json_str(struct pc_buf *b, const char *str)
{
    return pc_json_put_str(b, str, strlen(str),
                           PC_JSON_VALID_UTF8 | PC_JSON_ESC_DEL);
}

/* A text value goes in quotes when it would not read back as one word. */
static bool
text_needs_quotes(const char *s)
{
    if (*s == '\0') {
        return true;
    }
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= ' ' || ch == '"' || ch == '=' || ch == '\\' || ch == 0x7f) {
            return true;
        }
    }
    return false;
}

static int
text_value(struct pc_buf *b, const char *s)
{
    int rc;

    if (!text_needs_quotes(s)) {
        return pc_buf_put(b, s, strlen(s));
    }
    rc = pc_buf_put_u8(b, '"');
    for (; rc == PC_OK && *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\') {
            char esc[2] = { '\\', (char)ch };
            rc = pc_buf_put(b, esc, 2);
        } else if (ch < 0x20 || ch == 0x7f) {
            rc = pc_buf_printf(b, "\\x%02x", ch);
        } else {
            rc = pc_buf_put_u8(b, ch);
        }
    }
    return rc == PC_OK ? pc_buf_put_u8(b, '"') : rc;
}

/* The message of a text line: control bytes become spaces. */
static int
text_msg(struct pc_buf *b, const char *s)
{
    size_t start = b->len;
    int rc = pc_buf_put(b, s, strlen(s));

    for (size_t i = start; rc == PC_OK && i < b->len; i++) {
        if (b->data[i] < 0x20 || b->data[i] == 0x7f) {
            b->data[i] = ' ';
        }
    }
    return rc;
}

static int
put_field(struct pc_buf *b, enum log_format format, const struct log_field *f)
{
    char num[24];
    const char *v = num;
    int rc;

    switch (f->type) {
    case LOG_T_STR:
        v = f->s;
        break;
    case LOG_T_U64:
        snprintf(num, sizeof(num), "%llu", (unsigned long long)f->u);
        break;
    case LOG_T_I64:
        snprintf(num, sizeof(num), "%lld", (long long)f->i);
        break;
    case LOG_T_BOOL:
        v = f->u ? "true" : "false";
        break;
    }
    if (format == LOG_FORMAT_JSON) {
        rc = pc_buf_put_u8(b, ',');
        rc = rc == PC_OK ? json_str(b, f->key) : rc;
        rc = rc == PC_OK ? pc_buf_put_u8(b, ':') : rc;
        if (rc == PC_OK) {
            rc = f->type == LOG_T_STR ? json_str(b, v)
                                      : pc_buf_put(b, v, strlen(v));
        }
        return rc;
    }
    rc = pc_buf_put_u8(b, ' ');
    rc = rc == PC_OK ? pc_buf_put(b, f->key, strlen(f->key)) : rc;
    rc = rc == PC_OK ? pc_buf_put_u8(b, '=') : rc;
    return rc == PC_OK ? text_value(b, v) : rc;
}

int
log_format_line(struct pc_buf *out, enum log_format format, int64_t time_ms,
                uint64_t node_id, enum log_level level, const char *event,
                const struct log_field *fields, const char *msg)
{
    char t[PC_TIME_STR_LEN];
    size_t start = out->len;
    int rc;

    pc_time_format(t, time_ms);
    if (format == LOG_FORMAT_JSON) {
        rc = pc_buf_printf(out,
                           "{\"time\":\"%s\",\"level\":\"%s\",\"node\":%llu", t,
                           log_level_name(level), (unsigned long long)node_id);
        if (rc == PC_OK && event != NULL) {
            rc = put_field(out, format, &LOG_STR("event", event));
        }
        if (rc == PC_OK) {
            rc = put_field(out, format, &LOG_STR("msg", msg));
        }
    } else {
        rc = pc_buf_printf(out, "%s node=%llu %s: ", t,
                           (unsigned long long)node_id, log_level_name(level));
        rc = rc == PC_OK ? text_msg(out, msg) : rc;
        if (rc == PC_OK && event != NULL) {
            rc = put_field(out, format, &LOG_STR("event", event));
        }
    }
    for (size_t i = 0; rc == PC_OK && fields != NULL && fields[i].key != NULL;
         i++) {
        if (fields[i].type != LOG_T_STR || fields[i].s != NULL) {
            rc = put_field(out, format, &fields[i]);
        }
    }
    if (rc == PC_OK && format == LOG_FORMAT_JSON) {
        rc = pc_buf_put_u8(out, '}');
    }
    if (rc == PC_OK) {
        rc = pc_buf_put_u8(out, '\n');
    }
    if (rc != PC_OK) {
        out->len = start;
    }
    return rc;
}

static void
write_all(const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, p, len);
        if (w <= 0) {
            return; /* nowhere to tell */
        }
        p += w;
        len -= (size_t)w;
    }
}

void
log_write(enum log_level level, const char *event,
          const struct log_field *fields, const char *fmt, ...)
{
    char msg[1024];
    struct pc_buf b;
    va_list ap;

    if (!log_on(level)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pc_buf_init(&b);
    if (log_format_line(&b, cur_format, pc_now_ms(), cur_node, level, event,
                        fields, msg) == PC_OK) {
        write_all(b.data, b.len);
    } else {
        /* Out of memory: the message alone, as it came. */
        write_all((const uint8_t *)msg, strlen(msg));
        write_all((const uint8_t *)"\n", 1);
    }
    pc_buf_release(&b);
}

/* ---- raft's tracer ---------------------------------------------------- */

/* raft's source file without its directories. */
static const char *
base_name(const char *path)
{
    const char *slash = path != NULL ? strrchr(path, '/') : NULL;

    return slash != NULL ? slash + 1 : path != NULL ? path : "";
}

static void
raft_line(const char *file, int line, int raft_level, const char *message)
{
    log_write(LOG_LEVEL_DEBUG, "raft",
              LOG_FIELDS(LOG_STR("file", base_name(file)),
                         LOG_I64("line", line),
                         LOG_I64("raft_level", raft_level)),
              "raft: %s", message != NULL ? message : "");
}

#if PC_RAFT_HAS_017
/* raft 0.17 and later: versioned events, diagnostics among them. */
static void
tracer_emit(struct raft_tracer *t, int type, const void *data)
{
    const struct raft_tracer_info *info = data;

    (void)t;
    if (type != RAFT_TRACER_DIAGNOSTIC || info == NULL) {
        return;
    }
    raft_line(info->diagnostic.file, info->diagnostic.line,
              info->diagnostic.level, info->diagnostic.message);
}

static struct raft_tracer tracer = {
    .impl = NULL,
    .version = 2,
    .emit = tracer_emit,
};
#else
/* raft 0.15 (make RAFT=system): a message with its place. */
static void
tracer_emit(struct raft_tracer *t, const char *file, int line,
            const char *message)
{
    (void)t;
    raft_line(file, line, 5, message);
}

static struct raft_tracer tracer = {
    .impl = NULL,
    .enabled = true,
    .emit = tracer_emit,
};
#endif

void *
log_raft_tracer(void)
{
    return log_on(LOG_LEVEL_DEBUG) ? &tracer : NULL;
}

/* ---- node_log (node.h) ------------------------------------------------ */

void
node_log(struct node *n, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    (void)n;
    if (!log_on((enum log_level)level)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_write((enum log_level)level, NULL, NULL, "%s", msg);
}
