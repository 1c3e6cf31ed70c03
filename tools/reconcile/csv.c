/* SPDX-License-Identifier: MIT */
/*
 * Streaming readers of source exports: CSV by RFC 4180 (quoted cells with
 * delimiters, "" and line breaks inside; CRLF, LF or CR line ends; a byte
 * order mark skipped) and JSON Lines. Both read through a 1 MiB buffer, so
 * a file of any size is read in constant memory (one record at a time).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/jcs.h"
#include "tools/reconcile/reconcile.h"

#define READ_CHUNK (1u << 20)

/* Refill `buf` when it is used up: 1 with bytes, 0 at the end, PC_EIO. */
static int
refill(FILE *f, uint8_t *buf, size_t *len, size_t *pos, bool *eof)
{
    if (*pos < *len) {
        return 1;
    }
    if (*eof) {
        return 0;
    }
    *len = fread(buf, 1, READ_CHUNK, f);
    *pos = 0;
    if (*len == 0) {
        *eof = true;
        return ferror(f) ? PC_EIO : 0;
    }
    return 1;
}

/* Skip a UTF-8 byte order mark at the very start. */
static int
skip_bom(FILE *f, uint8_t *buf, size_t *len, size_t *pos, bool *eof,
         uint64_t *bytes)
{
    int r = refill(f, buf, len, pos, eof);

    if (r <= 0) {
        return r;
    }
    /* The first read is a whole chunk unless the file is shorter. */
    if (*len - *pos >= 3 && buf[*pos] == 0xef && buf[*pos + 1] == 0xbb &&
        buf[*pos + 2] == 0xbf) {
        *pos += 3;
        *bytes += 3;
    }
    return 1;
}

/* ---- CSV ---------------------------------------------------------------- */

int
rcl_csv_open(struct rcl_csv *c, FILE *f, char delim)
{
    memset(c, 0, sizeof(*c));
    c->f = f;
    c->delim = delim;
    c->next_line = 1;
    c->buf = pc_malloc(READ_CHUNK);
    c->cap_cells = 64;
    c->cell_off = pc_malloc(c->cap_cells * sizeof(*c->cell_off));
    pc_buf_init(&c->text);
    if (c->buf == NULL || c->cell_off == NULL) {
        rcl_csv_close(c);
        return PC_ENOMEM;
    }
    return PC_OK;
}

void
rcl_csv_close(struct rcl_csv *c)
{
    pc_free(c->buf);
    pc_free(c->cell_off);
    pc_buf_release(&c->text);
    c->buf = NULL;
    c->cell_off = NULL;
}

/* End the current cell: NUL-terminate it and open the next. */
static int
end_cell(struct rcl_csv *c)
{
    if (pc_buf_put_u8(&c->text, '\0') != PC_OK) {
        return PC_ENOMEM;
    }
    if (c->n_cells + 2 > c->cap_cells) {
        size_t cap = c->cap_cells * 2;
        size_t *v = pc_realloc(c->cell_off, cap * sizeof(*v));

        if (v == NULL) {
            return PC_ENOMEM;
        }
        c->cell_off = v;
        c->cap_cells = cap;
    }
    c->cell_off[++c->n_cells] = c->text.len;
    return PC_OK;
}

static int
csv_fail(struct rcl_csv *c, uint64_t line, const char *what)
{
    snprintf(c->err, sizeof(c->err), "line %llu: %s", (unsigned long long)line,
             what);
    return PC_EINVAL;
}

/* The next byte, or -1 at the end (`*rc` set on a read error). */
static inline int
next_byte(struct rcl_csv *c, int *rc)
{
    if (c->pos >= c->len) {
        int r = refill(c->f, c->buf, &c->len, &c->pos, &c->eof);

        if (r <= 0) {
            *rc = r;
            return -1;
        }
    }
    c->bytes++;
    return c->buf[c->pos++];
}

/* Put a byte back (only the one just read). */
static inline void
unread(struct rcl_csv *c)
{
    c->pos--;
    c->bytes--;
}

int
rcl_csv_next(struct rcl_csv *c)
{
    enum {
        START,
        UNQUOTED,
        QUOTED,
        AFTER_QUOTE
    } st = START;
    uint64_t qline = 0;
    int rc = PC_OK, ch;

    if (!c->started) {
        c->started = true;
        rc = skip_bom(c->f, c->buf, &c->len, &c->pos, &c->eof, &c->bytes);
        if (rc < 0) {
            snprintf(c->err, sizeof(c->err), "read: %s", strerror(errno));
            return rc;
        }
        rc = PC_OK;
    }
    for (;;) {
        c->text.len = 0;
        c->n_cells = 0;
        c->cell_off[0] = 0;
        c->line = c->next_line;
        st = START;
        for (;;) {
            ch = next_byte(c, &rc);
            if (ch < 0) {
                if (rc < 0) {
                    snprintf(c->err, sizeof(c->err), "read: %s",
                             strerror(errno));
                    return PC_EIO;
                }
                if (st == QUOTED) {
                    return csv_fail(c, qline,
                                    "a quoted cell is not closed before the "
                                    "end of the file");
                }
                if (st == START && c->n_cells == 0 && c->text.len == 0) {
                    return 0; /* the end, after a line end or nothing */
                }
                rc = end_cell(c);
                goto record;
            }
            if (st == QUOTED) {
                if (ch == '"') {
                    st = AFTER_QUOTE;
                    continue;
                }
                if (ch == '\n' || (ch == '\r')) {
                    /* A line break inside a cell: counted, kept as is. */
                    if (ch == '\r') {
                        int n = next_byte(c, &rc);

                        if (n >= 0 && n != '\n') {
                            unread(c);
                        } else if (n == '\n') {
                            if (pc_buf_put_u8(&c->text, '\r') != PC_OK) {
                                return PC_ENOMEM;
                            }
                            ch = '\n';
                        }
                    }
                    c->next_line++;
                }
                if (pc_buf_put_u8(&c->text, (uint8_t)ch) != PC_OK) {
                    return PC_ENOMEM;
                }
                continue;
            }
            if (st == AFTER_QUOTE && ch == '"') {
                /* "" inside quotes: one quote. */
                if (pc_buf_put_u8(&c->text, '"') != PC_OK) {
                    return PC_ENOMEM;
                }
                st = QUOTED;
                continue;
            }
            if (ch == c->delim) {
                rc = end_cell(c);
                if (rc != PC_OK) {
                    return rc;
                }
                st = START;
                continue;
            }
            if (ch == '\r' || ch == '\n') {
                if (ch == '\r') {
                    int n = next_byte(c, &rc);

                    if (n >= 0 && n != '\n') {
                        unread(c);
                    }
                }
                c->next_line++;
                if (st == START && c->n_cells == 0) {
                    /* An empty line: skipped. */
                    c->line = c->next_line;
                    continue;
                }
                rc = end_cell(c);
                goto record;
            }
            if (st == AFTER_QUOTE) {
                return csv_fail(c, c->next_line,
                                "text after the closing quote of a cell (a "
                                "quote inside a quoted cell is written \"\")");
            }
            if (ch == '"') {
                if (st == START) {
                    st = QUOTED;
                    qline = c->next_line;
                    continue;
                }
                return csv_fail(c, c->next_line,
                                "a quote inside an unquoted cell (quote the "
                                "whole cell and write the quote as \"\")");
            }
            st = UNQUOTED;
            if (pc_buf_put_u8(&c->text, (uint8_t)ch) != PC_OK) {
                return PC_ENOMEM;
            }
        }
    record:
        if (rc != PC_OK) {
            return rc;
        }
        for (size_t i = 0; i < c->n_cells; i++) {
            if (!jcs_utf8_valid(c->text.data + c->cell_off[i],
                                c->cell_off[i + 1] - c->cell_off[i] - 1)) {
                snprintf(c->err, sizeof(c->err),
                         "line %llu: cell %zu is not valid UTF-8",
                         (unsigned long long)c->line, i + 1);
                return PC_EINVAL;
            }
        }
        return 1;
    }
}

const char *
rcl_csv_cell(const struct rcl_csv *c, size_t i, size_t *len)
{
    if (i >= c->n_cells) {
        *len = 0;
        return "";
    }
    *len = c->cell_off[i + 1] - c->cell_off[i] - 1;
    return (const char *)c->text.data + c->cell_off[i];
}

/* ---- JSON Lines ------------------------------------------------------- */

int
rcl_lines_open(struct rcl_lines *r, FILE *f)
{
    memset(r, 0, sizeof(*r));
    r->f = f;
    r->buf = pc_malloc(READ_CHUNK);
    pc_buf_init(&r->text);
    return r->buf == NULL ? PC_ENOMEM : PC_OK;
}

void
rcl_lines_close(struct rcl_lines *r)
{
    pc_free(r->buf);
    r->buf = NULL;
    pc_buf_release(&r->text);
}

int
rcl_lines_next(struct rcl_lines *r)
{
    int rc;

    if (!r->started) {
        r->started = true;
        rc = skip_bom(r->f, r->buf, &r->len, &r->pos, &r->eof, &r->bytes);
        if (rc < 0) {
            snprintf(r->err, sizeof(r->err), "read: %s", strerror(errno));
            return rc;
        }
    }
    for (;;) {
        bool any = false;

        r->text.len = 0;
        for (;;) {
            uint8_t *nl;
            size_t n;

            rc = refill(r->f, r->buf, &r->len, &r->pos, &r->eof);
            if (rc < 0) {
                snprintf(r->err, sizeof(r->err), "read: %s", strerror(errno));
                return PC_EIO;
            }
            if (rc == 0) {
                break;
            }
            any = true;
            nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
            n = nl != NULL ? (size_t)(nl - (r->buf + r->pos)) : r->len - r->pos;
            if (pc_buf_put(&r->text, r->buf + r->pos, n) != PC_OK) {
                return PC_ENOMEM;
            }
            r->pos += n;
            r->bytes += n;
            if (nl != NULL) {
                r->pos++;
                r->bytes++;
                break;
            }
        }
        if (!any) {
            return 0;
        }
        r->line++;
        if (r->text.len > 0 && r->text.data[r->text.len - 1] == '\r') {
            r->text.len--;
        }
        /* Blank lines (whitespace only) are skipped. */
        size_t i = 0;
        while (i < r->text.len &&
               (r->text.data[i] == ' ' || r->text.data[i] == '\t')) {
            i++;
        }
        if (i < r->text.len) {
            return 1;
        }
    }
}
