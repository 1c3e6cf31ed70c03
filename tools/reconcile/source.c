/* SPDX-License-Identifier: MIT */
/*
 * `source ENTRY FILE --key COLUMN`: a source system's export (CSV with a
 * header row, or JSON Lines) against the entry's current records. The
 * file is read as a stream and its rows sorted by key in bounded memory
 * (sort.c: runs on disk when they do not fit), then merged with the
 * records read in key order at one revision (a live cluster page by page,
 * or a backup): each key is missing in provcat, extra in provcat, the
 * same, or differs field by field (diff.c). The report is written as the
 * merge goes: JSON and a readable table, with the counts at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/jcs.h"
#include "tools/reconcile/reconcile.h"

#define INVALID_KEPT 100000 /* invalid rows named one by one, at most */

enum fmt {
    FMT_CSV,
    FMT_JSONL
};

struct counts {
    uint64_t rows, records, same, missing, extra, differs, redacted, duplicate,
        invalid;
};

struct invalid {
    uint64_t line;
    char *msg;
};

struct src_cmp {
    const struct rcl_opts *o;
    const char *entry, *file, *key_field;
    enum fmt fmt;
    struct rcl_schema schema;
    /* CSV: the header */
    char **cols;
    size_t *col_lens, n_cols;
    bool *skip;
    const char **cells; /* a row's cells, n_cols of them */
    size_t *cell_lens;
    /* --ignore */
    char **ignore;
    size_t n_ignore;
    /* the sorted source */
    struct rcl_sorter *sorter;
    struct rcl_row row;
    bool have_row, rows_done;
    char *prev_key; /* the last source key merged, for duplicates */
    size_t prev_len, prev_cap;
    uint64_t prev_line;
    /* output */
    FILE *json[2]; /* stdout with -o json, the report's JSON */
    FILE *txt;     /* the report's table */
    bool first_item;
    struct rcl_table shown; /* the first differences, for stdout */
    size_t show, n_shown;
    uint64_t n_items; /* items reported, invalid rows aside */
    struct counts n;
    struct rcl_changes ch;
    struct rcl_progress prog;
    uint64_t at;
    int rc;
    char err[RCL_ERR_SIZE];
    struct invalid *inv;
    size_t n_inv;
};

/* ---- reading the file ------------------------------------------------- */

static int add_invalid(struct src_cmp *c, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
add_invalid(struct src_cmp *c, uint64_t line, const char *fmt, ...)
{
    char msg[RCL_ERR_SIZE];
    va_list ap;

    c->n.invalid++;
    if (c->n_inv == INVALID_KEPT) {
        return PC_OK;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->n_inv % 256 == 0) {
        struct invalid *v = realloc(c->inv, (c->n_inv + 256) * sizeof(*c->inv));

        if (v == NULL) {
            return PC_ENOMEM;
        }
        c->inv = v;
    }
    c->inv[c->n_inv].line = line;
    c->inv[c->n_inv].msg = strdup(msg);
    if (c->inv[c->n_inv].msg == NULL) {
        return PC_ENOMEM;
    }
    c->n_inv++;
    return PC_OK;
}

static bool
ignored(void *arg, const char *field, size_t len)
{
    struct src_cmp *c = arg;

    for (size_t i = 0; i < c->n_ignore; i++) {
        if (strlen(c->ignore[i]) == len &&
            memcmp(c->ignore[i], field, len) == 0) {
            return true;
        }
    }
    /* The key is the record's key; a field of that name only if declared. */
    return strlen(c->key_field) == len &&
           memcmp(c->key_field, field, len) == 0 &&
           rcl_schema_type(&c->schema, field, len) == RCL_T_UNDECLARED;
}

static uint64_t
file_size(FILE *f)
{
    struct stat st;

    return fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)
               ? (uint64_t)st.st_size
               : 0;
}

static void
read_progress(struct src_cmp *c, uint64_t bytes, uint64_t total, bool final)
{
    if (total > 0) {
        rcl_progress_show(&c->prog, final, "reading %s: %3.0f%%, %llu rows",
                          c->file, 100.0 * (double)bytes / (double)total,
                          (unsigned long long)c->n.rows);
    } else {
        rcl_progress_show(&c->prog, final, "reading %s: %llu rows", c->file,
                          (unsigned long long)c->n.rows);
    }
}

static int
read_csv(struct src_cmp *c, FILE *f, char delim)
{
    uint64_t total = file_size(f);
    struct rcl_csv r;
    struct pc_buf payload;
    size_t key_col = SIZE_MAX;
    int rc;

    rc = rcl_csv_open(&r, f, delim);
    if (rc != PC_OK) {
        return pc_errmsgf(c->err, rc, "out of memory");
    }
    pc_buf_init(&payload);
    rc = rcl_csv_next(&r);
    if (rc <= 0) {
        rc = rc == 0 ? pc_errmsgf(c->err, PC_EINVAL,
                                  "%s: no header row (an empty file)", c->file)
                     : pc_errmsgf(c->err, rc, "%s: %s", c->file, r.err);
        goto out;
    }
    c->n_cols = r.n_cells;
    c->cols = calloc(c->n_cols, sizeof(*c->cols));
    c->col_lens = calloc(c->n_cols, sizeof(*c->col_lens));
    c->skip = calloc(c->n_cols, sizeof(*c->skip));
    c->cells = calloc(c->n_cols, sizeof(*c->cells));
    c->cell_lens = calloc(c->n_cols, sizeof(*c->cell_lens));
    if (c->cols == NULL || c->col_lens == NULL || c->skip == NULL ||
        c->cells == NULL || c->cell_lens == NULL) {
        rc = pc_errmsgf(c->err, PC_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < c->n_cols; i++) {
        size_t len;
        const char *name = rcl_csv_cell(&r, i, &len);

        /* A name may hold NUL bytes (valid UTF-8): copied by length. */
        c->cols[i] = malloc(len + 1);
        if (c->cols[i] != NULL) {
            memcpy(c->cols[i], name, len + 1);
        }
        c->col_lens[i] = len;
        if (c->cols[i] == NULL) {
            rc = pc_errmsgf(c->err, PC_ENOMEM, "out of memory");
            goto out;
        }
        if (len == 0) {
            rc = pc_errmsgf(c->err, PC_EINVAL,
                            "%s: line %llu: column %zu has no name", c->file,
                            (unsigned long long)r.line, i + 1);
            goto out;
        }
        for (size_t k = 0; k < i; k++) {
            if (c->col_lens[k] == len &&
                memcmp(c->cols[k], c->cols[i], len) == 0) {
                rc = pc_errmsgf(c->err, PC_EINVAL,
                                "%s: line %llu: column '%s' appears twice",
                                c->file, (unsigned long long)r.line, name);
                goto out;
            }
        }
        if (len == strlen(c->key_field) &&
            memcmp(name, c->key_field, len) == 0) {
            key_col = i;
        }
        c->skip[i] = ignored(c, name, len);
    }
    if (key_col == SIZE_MAX) {
        rc = pc_errmsgf(c->err, PC_EINVAL,
                        "%s: the header has no column '%s' (--key)", c->file,
                        c->key_field);
        goto out;
    }
    while ((rc = rcl_csv_next(&r)) == 1) {
        struct rcl_row row;
        size_t klen;
        const char *key;
        uint32_t n = (uint32_t)r.n_cells;

        c->n.rows++;
        if (r.n_cells != c->n_cols) {
            rc = add_invalid(c, r.line, "%zu cells where the header has %zu",
                             r.n_cells, c->n_cols);
            if (rc != PC_OK) {
                break;
            }
            continue;
        }
        key = rcl_csv_cell(&r, key_col, &klen);
        if (klen == 0) {
            rc = add_invalid(c, r.line, "the key column '%s' is empty",
                             c->key_field);
            if (rc != PC_OK) {
                break;
            }
            continue;
        }
        payload.len = 0;
        rc = pc_buf_put(&payload, &n, 4);
        for (size_t i = 0; rc == PC_OK && i < r.n_cells; i++) {
            size_t len;
            const char *s = rcl_csv_cell(&r, i, &len);
            uint32_t l32 = (uint32_t)len;

            rc = pc_buf_put(&payload, &l32, 4);
            rc |= pc_buf_put(&payload, s, len + 1);
        }
        if (rc != PC_OK) {
            rc = pc_errmsgf(c->err, PC_ENOMEM, "out of memory");
            break;
        }
        row.key = (const uint8_t *)key;
        row.key_len = klen;
        row.line = r.line;
        row.payload = payload.data;
        row.payload_len = payload.len;
        rc = rcl_sorter_add(c->sorter, &row, c->err);
        if (rc != PC_OK) {
            break;
        }
        read_progress(c, r.bytes, total, false);
    }
    if (rc < 0 && rc != PC_ENOMEM && c->err[0] == '\0') {
        rc = pc_errmsgf(c->err, rc, "%s: %s", c->file, r.err);
    } else if (rc == PC_ENOMEM && c->err[0] == '\0') {
        rc = pc_errmsgf(c->err, rc, "out of memory");
    }
    if (rc == 0) {
        read_progress(c, r.bytes, total, true);
    }
out:
    pc_buf_release(&payload);
    rcl_csv_close(&r);
    return rc < 0 ? rc : PC_OK;
}

static int
read_jsonl(struct src_cmp *c, FILE *f)
{
    uint64_t total = file_size(f);
    char em[PC_ERRMSG_SIZE], num[JCS_NUMBER_SIZE];
    struct rcl_lines r;
    int rc;

    rc = rcl_lines_open(&r, f);
    if (rc != PC_OK) {
        return pc_errmsgf(c->err, rc, "out of memory");
    }
    while ((rc = rcl_lines_next(&r)) == 1) {
        const struct jcs_val *root, *k;
        struct rcl_row row;
        struct jcs_doc *d;
        const char *key = NULL;
        size_t klen = 0;

        c->n.rows++;
        rc = jcs_parse((const char *)r.text.data, r.text.len, &d, em);
        if (rc == PC_ENOMEM) {
            break;
        }
        if (rc != PC_OK) {
            rc = add_invalid(c, r.line, "not JSON: %s", em);
            if (rc != PC_OK) {
                break;
            }
            continue;
        }
        root = jcs_root(d);
        k = jcs_get(root, c->key_field, strlen(c->key_field));
        if (jcs_type(root) != JCS_OBJECT) {
            rc = add_invalid(c, r.line, "not a JSON object");
        } else if (k != NULL && jcs_type(k) == JCS_STRING) {
            key = jcs_string(k, &klen);
        } else if (k != NULL && jcs_type(k) == JCS_NUMBER &&
                   jcs_is_integer(k)) {
            klen = jcs_format_double(jcs_number(k), num);
            key = num;
        }
        if (rc == PC_OK && jcs_type(root) == JCS_OBJECT &&
            (key == NULL || klen == 0)) {
            rc = add_invalid(c, r.line,
                             "no key: member '%s' is missing, empty, or not "
                             "a string or an integer",
                             c->key_field);
        } else if (rc == PC_OK && key != NULL) {
            row.key = (const uint8_t *)key;
            row.key_len = klen;
            row.line = r.line;
            row.payload = r.text.data;
            row.payload_len = r.text.len;
            rc = rcl_sorter_add(c->sorter, &row, c->err);
        }
        jcs_doc_free(d);
        if (rc != PC_OK) {
            break;
        }
        read_progress(c, r.bytes, total, false);
    }
    if (rc == PC_ENOMEM && c->err[0] == '\0') {
        rc = pc_errmsgf(c->err, rc, "out of memory");
    } else if (rc < 0 && c->err[0] == '\0') {
        rc = pc_errmsgf(c->err, rc, "%s: %s", c->file, r.err);
    }
    if (rc == 0) {
        read_progress(c, r.bytes, total, true);
    }
    rcl_lines_close(&r);
    return rc < 0 ? rc : PC_OK;
}

/* ---- the report ---------------------------------------------------------- */

static void
each_json(struct src_cmp *c, void (*fn)(FILE *f, void *arg), void *arg)
{
    for (int k = 0; k < 2; k++) {
        if (c->json[k] != NULL) {
            fn(c->json[k], arg);
        }
    }
}

/* The start of an item: `{"key":...,"status":"..."`; the caller closes. */
static void
item_head(struct src_cmp *c, FILE *f, const char *key, size_t klen,
          const char *status)
{
    fputs(c->first_item ? "\n{\"key\":" : ",\n{\"key\":", f);
    rcl_json_str(f, key, klen);
    fprintf(f, ",\"status\":\"%s\"", status);
}

/* A line of the readable table (fixed widths: it is written as it goes). */
static void
txt_line(FILE *f, const char *key, size_t klen, const char *status,
         const char *field, const char *pc, const char *src)
{
    char k[600];

    if (f == NULL) {
        return;
    }
    snprintf(k, sizeof(k), "%.*s", (int)(klen < 512 ? klen : 512), key);
    fprintf(f, "%-24s  %-18s  %-20s  %-30s  %s\n", k, status, field, pc, src);
}

/* Keep the first differences for the summary on stdout. */
static void
show_row(struct src_cmp *c, const char *key, size_t klen, const char *status,
         const char *field, const char *pc, const char *src)
{
    char k[600];

    if (c->n_shown >= c->show) {
        return;
    }
    snprintf(k, sizeof(k), "%.*s", (int)(klen < 512 ? klen : 512), key);
    {
        const char *row[] = { k, status, field, pc, src };

        rcl_table_row(&c->shown, row);
    }
}

struct item {
    struct src_cmp *c;
    const char *key;
    size_t klen;
    const char *status;
    uint64_t line;
    const struct rcl_rec *rec; /* provcat's side, or NULL */
    uint64_t first_line;       /* duplicates: the line compared */
};

static void
item_json(FILE *f, void *arg)
{
    struct item *it = arg;
    struct src_cmp *c = it->c;

    item_head(c, f, it->key, it->klen, it->status);
    if (it->line > 0) {
        fprintf(f, ",\"line\":%llu", (unsigned long long)it->line);
    }
    if (it->first_line > 0) {
        fprintf(f, ",\"first_line\":%llu", (unsigned long long)it->first_line);
    }
    if (it->rec != NULL) {
        fprintf(f, ",\"version\":%llu,\"revision\":%llu",
                (unsigned long long)it->rec->version,
                (unsigned long long)it->rec->revision);
        if (it->rec->retired) {
            fputs(",\"retired_in_provcat\":true", f);
        }
    }
    if (strcmp(it->status, "differs") == 0) {
        fputs(",\"fields\":[", f);
        for (size_t i = 0; i < c->ch.n; i++) {
            const struct rcl_change *ch = &c->ch.v[i];
            enum rcl_type t =
                rcl_schema_type(&c->schema, ch->field, ch->field_len);

            fputs(i > 0 ? ",{\"field\":" : "{\"field\":", f);
            rcl_json_str(f, ch->field, ch->field_len);
            fprintf(f, ",\"change\":\"%s\",\"type\":\"%s\",\"provcat\":",
                    rcl_change_name(ch->kind), rcl_type_name(t));
            rcl_json_raw(f, ch->a, ch->a_len);
            fputs(",\"source\":", f);
            rcl_json_raw(f, ch->b, ch->b_len);
            fputs("}", f);
        }
        fputs("]", f);
    }
    fputs("}", f);
}

/* Write one item everywhere it goes. */
static void
emit(struct src_cmp *c, const char *key, size_t klen, const char *status,
     uint64_t line, const struct rcl_rec *rec, uint64_t first_line)
{
    struct item it = { c, key, klen, status, line, rec, first_line };
    char where[64];

    each_json(c, item_json, &it);
    c->first_item = false;
    c->n_items++;
    if (strcmp(status, "differs") == 0) {
        for (size_t i = 0; i < c->ch.n; i++) {
            const struct rcl_change *ch = &c->ch.v[i];
            char *a = rcl_show(ch->a, ch->a_len),
                 *b = rcl_show(ch->b, ch->b_len);
            const char *st = i == 0 ? status : "";
            const char *kk = i == 0 ? key : "";
            size_t kl = i == 0 ? klen : 0;
            char fld[300];

            if (ch->kind == RCL_CHANGED) {
                snprintf(fld, sizeof(fld), "%s", ch->field);
            } else {
                snprintf(fld, sizeof(fld), "%s: %s", ch->field,
                         rcl_change_name(ch->kind));
            }
            txt_line(c->txt, kk, kl, st, fld, a, b);
            show_row(c, kk, kl, st, fld, a, b);
            free(a);
            free(b);
        }
        c->n_shown += c->n_shown < c->show;
        return;
    }
    if (line > 0) {
        snprintf(where, sizeof(where), "source line %llu",
                 (unsigned long long)line);
    } else {
        snprintf(where, sizeof(where), "-");
    }
    {
        char pc[64];

        if (rec != NULL) {
            snprintf(pc, sizeof(pc), "version %llu%s",
                     (unsigned long long)rec->version,
                     rec->retired ? " (retired)" : "");
        } else {
            snprintf(pc, sizeof(pc), "(none)");
        }
        if (first_line > 0) {
            snprintf(where, sizeof(where), "line %llu (first: %llu)",
                     (unsigned long long)line, (unsigned long long)first_line);
        }
        txt_line(c->txt, key, klen, status, "", pc, where);
        show_row(c, key, klen, status, "", pc, where);
        c->n_shown += c->n_shown < c->show;
    }
}

/* ---- the merge ------------------------------------------------------------
 */

static int
next_row(struct src_cmp *c)
{
    int rc;

    if (c->rows_done) {
        c->have_row = false;
        return PC_OK;
    }
    rc = rcl_sorter_next(c->sorter, &c->row, c->err);
    if (rc < 0) {
        return rc;
    }
    c->have_row = rc == 1;
    c->rows_done = rc == 0;
    return PC_OK;
}

static int
key_cmp(const uint8_t *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);

    return r != 0 ? r : (alen > blen) - (alen < blen);
}

/* Whether the current row repeats the key of the row before it (which is
 * then reported as a duplicate and not compared). */
static bool
duplicate_row(struct src_cmp *c)
{
    if (c->prev_key != NULL && c->prev_len == c->row.key_len &&
        memcmp(c->prev_key, c->row.key, c->prev_len) == 0) {
        c->n.duplicate++;
        emit(c, (const char *)c->row.key, c->row.key_len, "duplicate",
             c->row.line, NULL, c->prev_line);
        return true;
    }
    if (c->prev_cap < c->row.key_len) {
        char *p = realloc(c->prev_key, c->row.key_len);

        if (p == NULL) {
            return false; /* only a duplicate's report is lost */
        }
        c->prev_key = p;
        c->prev_cap = c->row.key_len;
    }
    memcpy(c->prev_key, c->row.key, c->row.key_len);
    c->prev_len = c->row.key_len;
    c->prev_line = c->row.line;
    return false;
}

/* Compare the current row with record `r` (same key). */
static int
compare_row(struct src_cmp *c, const struct rcl_rec *r)
{
    int rc;

    rcl_changes_reset(&c->ch);
    if (c->fmt == FMT_CSV) {
        const uint8_t *p = c->row.payload + 4;

        /* The row as read_csv packed it: u32 n, then u32 length, bytes
         * and a NUL per cell. */
        for (size_t i = 0; i < c->n_cols; i++) {
            uint32_t len;

            memcpy(&len, p, 4);
            c->cell_lens[i] = len;
            c->cells[i] = (const char *)p + 4;
            p += 4 + len + 1;
        }
        rc = rcl_cmp_csv(&c->schema, (const char *const *)c->cols, c->col_lens,
                         c->cells, c->cell_lens, c->n_cols, c->skip, r->doc,
                         r->value, &c->ch);
    } else {
        struct jcs_doc *d;

        rc = jcs_parse((const char *)c->row.payload, c->row.payload_len, &d,
                       NULL);
        if (rc != PC_OK) {
            return pc_errmsgf(c->err, rc, "line %llu: could not read it again",
                              (unsigned long long)c->row.line);
        }
        rc = rcl_cmp_json(&c->schema, d, jcs_root(d), r->doc, r->value, ignored,
                          c, &c->ch);
        jcs_doc_free(d);
    }
    if (rc != PC_OK) {
        return pc_errmsgf(c->err, rc, "out of memory");
    }
    return PC_OK;
}

/* Source rows before `key` (NULL: all that are left) are missing. */
static int
drain_before(struct src_cmp *c, const char *key, size_t klen)
{
    int rc;

    while (c->have_row && (key == NULL || key_cmp(c->row.key, c->row.key_len,
                                                  key, klen) < 0)) {
        if (!duplicate_row(c)) {
            c->n.missing++;
            emit(c, (const char *)c->row.key, c->row.key_len, "missing",
                 c->row.line, NULL, 0);
        }
        rc = next_row(c);
        if (rc != PC_OK) {
            return rc;
        }
    }
    return PC_OK;
}

static bool
record_cb(void *arg, const struct rcl_rec *r)
{
    struct src_cmp *c = arg;
    bool matched = false;

    if (!r->retired) {
        c->n.records++;
    }
    c->rc = drain_before(c, r->key, r->key_len);
    while (c->rc == PC_OK && c->have_row &&
           key_cmp(c->row.key, c->row.key_len, r->key, r->key_len) == 0) {
        if (!duplicate_row(c)) {
            matched = true;
            if (r->retired) {
                c->n.missing++;
                emit(c, r->key, r->key_len, "missing", c->row.line, r, 0);
            } else if (r->redacted) {
                c->n.redacted++;
                emit(c, r->key, r->key_len, "redacted", c->row.line, r, 0);
            } else {
                c->rc = compare_row(c, r);
                if (c->rc == PC_OK && c->ch.n == 0) {
                    c->n.same++;
                } else if (c->rc == PC_OK) {
                    c->n.differs++;
                    emit(c, r->key, r->key_len, "differs", c->row.line, r, 0);
                }
            }
        }
        if (c->rc == PC_OK) {
            c->rc = next_row(c);
        }
    }
    if (c->rc == PC_OK && !matched && !r->retired) {
        c->n.extra++;
        emit(c, r->key, r->key_len, "extra", 0, r, 0);
    }
    rcl_progress_show(&c->prog, false,
                      "comparing with %s: %llu of %llu source rows, %llu "
                      "records",
                      c->entry,
                      (unsigned long long)(c->n.same + c->n.differs +
                                           c->n.missing + c->n.redacted +
                                           c->n.duplicate),
                      (unsigned long long)rcl_sorter_rows(c->sorter),
                      (unsigned long long)c->n.records);
    return c->rc == PC_OK;
}

/* ---- the command ----------------------------------------------------------
 */

static void
counts_json(FILE *f, void *arg)
{
    struct src_cmp *c = arg;
    const struct counts *n = &c->n;

    fprintf(f,
            "\n],\"counts\":{\"source_rows\":%llu,\"provcat_records\":%llu,"
            "\"same\":%llu,\"missing\":%llu,\"extra\":%llu,\"differs\":%llu,"
            "\"redacted\":%llu,\"duplicate\":%llu,\"invalid\":%llu}",
            (unsigned long long)n->rows, (unsigned long long)n->records,
            (unsigned long long)n->same, (unsigned long long)n->missing,
            (unsigned long long)n->extra, (unsigned long long)n->differs,
            (unsigned long long)n->redacted, (unsigned long long)n->duplicate,
            (unsigned long long)n->invalid);
    if (c->fmt == FMT_CSV) {
        bool first = true;

        fputs(",\"not_compared\":[", f);
        for (size_t i = 0; i < c->schema.n; i++) {
            bool in = false;

            for (size_t k = 0; k < c->n_cols; k++) {
                in |=
                    c->col_lens[k] == strlen(c->schema.names[i]) &&
                    memcmp(c->cols[k], c->schema.names[i], c->col_lens[k]) == 0;
            }
            if (!in) {
                fputs(first ? "" : ",", f);
                rcl_json_str(f, c->schema.names[i], strlen(c->schema.names[i]));
                first = false;
            }
        }
        fputs("]", f);
    }
    fprintf(f, ",\"sort_runs\":%u", rcl_sorter_runs(c->sorter));
    fprintf(f, ",\"agree\":%s}\n",
            n->missing + n->extra + n->differs + n->duplicate + n->invalid == 0
                ? "true"
                : "false");
}

static void
head_json(FILE *f, void *arg)
{
    struct src_cmp *c = arg;

    fputs("{\"command\":\"source\",\"entry\":", f);
    rcl_json_str(f, c->entry, strlen(c->entry));
    fputs(",\"file\":", f);
    rcl_json_str(f, c->file, strlen(c->file));
    fprintf(f,
            ",\"format\":\"%s\",\"key\":", c->fmt == FMT_CSV ? "csv" : "jsonl");
    rcl_json_str(f, c->key_field, strlen(c->key_field));
    fputs(",\"items\":[", f);
}

static void
counts_text(FILE *f, const struct src_cmp *c)
{
    const struct counts *n = &c->n;

    fprintf(f,
            "source rows %llu, provcat records %llu: same %llu, missing in "
            "provcat %llu, extra in provcat %llu, differ %llu, redacted %llu, "
            "duplicate keys %llu, invalid rows %llu\n",
            (unsigned long long)n->rows, (unsigned long long)n->records,
            (unsigned long long)n->same, (unsigned long long)n->missing,
            (unsigned long long)n->extra, (unsigned long long)n->differs,
            (unsigned long long)n->redacted, (unsigned long long)n->duplicate,
            (unsigned long long)n->invalid);
}

static int
split_list(const char *s, char ***out, size_t *n)
{
    char *copy = strdup(s), *save = NULL;

    if (copy == NULL) {
        return PC_ENOMEM;
    }
    for (char *t = strtok_r(copy, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        char **v = realloc(*out, (*n + 1) * sizeof(*v));

        if (v == NULL) {
            free(copy);
            return PC_ENOMEM;
        }
        *out = v;
        v[(*n)++] = strdup(t);
    }
    free(copy);
    return PC_OK;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int
rcl_cmd_source(const struct rcl_opts *o, int argc, char **argv)
{
    static const struct option lo[] = {
        { "key", required_argument, NULL, 'k' },
        { "format", required_argument, NULL, 'f' },
        { "delimiter", required_argument, NULL, 'd' },
        { "backup", required_argument, NULL, 'b' },
        { "at-revision", required_argument, NULL, 'a' },
        { "report", required_argument, NULL, 'r' },
        { "no-report", no_argument, NULL, 'n' },
        { "memory", required_argument, NULL, 'm' },
        { "tmpdir", required_argument, NULL, 't' },
        { "ignore", required_argument, NULL, 'i' },
        { "show", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *backup = NULL, *report = NULL, *format = NULL;
    const char *tmpdir = getenv("TMPDIR");
    char delim = ',', defrep[300], *end;
    struct src_cmp c;
    struct rcl_report rep = { 0 };
    struct rcl_src *s = NULL;
    bool no_report = false;
    unsigned long long mem_mb = 512;
    FILE *in = NULL;
    int opt, rc = RCL_DIFFER;

    memset(&c, 0, sizeof(c));
    c.o = o;
    c.show = 20;
    c.first_item = true;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (opt) {
        case 'k':
            c.key_field = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 'd':
            if (strcmp(optarg, "\\t") == 0 || strcmp(optarg, "tab") == 0) {
                delim = '\t';
            } else if (strlen(optarg) == 1 && optarg[0] != '"' &&
                       optarg[0] != '\n' && optarg[0] != '\r') {
                delim = optarg[0];
            } else {
                return rcl_usage("source", "--delimiter takes one character "
                                           "(or 'tab')");
            }
            break;
        case 'b':
            backup = optarg;
            break;
        case 'a':
            c.at = strtoull(optarg, &end, 10);
            if (*optarg < '1' || *optarg > '9' || *end != '\0') {
                return rcl_usage("source",
                                 "--at-revision takes a revision from 1");
            }
            break;
        case 'r':
            report = optarg;
            break;
        case 'n':
            no_report = true;
            break;
        case 'm':
            mem_mb = strtoull(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || *end != '\0' || mem_mb == 0) {
                return rcl_usage("source", "--memory takes megabytes from 1");
            }
            break;
        case 't':
            tmpdir = optarg;
            break;
        case 'i':
            if (split_list(optarg, &c.ignore, &c.n_ignore) != PC_OK) {
                return rcl_fail("out of memory");
            }
            break;
        case 's':
            c.show = strtoull(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || *end != '\0') {
                return rcl_usage("source", "--show takes a number");
            }
            break;
        case 'h':
            rcl_help("source", stdout);
            return RCL_AGREE;
        default:
            return rcl_usage("source", "unknown option");
        }
    }
    if (argc - optind != 2) {
        return rcl_usage("source", "give ENTRY and FILE");
    }
    c.entry = argv[optind];
    c.file = argv[optind + 1];
    if (c.key_field == NULL) {
        return rcl_usage("source", "--key COLUMN is required (the column or "
                                   "member holding the record key)");
    }
    if (format == NULL) {
        if (ends_with(c.file, ".csv") || ends_with(c.file, ".tsv")) {
            format = "csv";
            if (ends_with(c.file, ".tsv")) {
                delim = '\t';
            }
        } else if (ends_with(c.file, ".jsonl") ||
                   ends_with(c.file, ".ndjson")) {
            format = "jsonl";
        } else {
            return rcl_usage("source", "say --format csv or --format jsonl "
                                       "(the file name does not tell)");
        }
    }
    if (strcmp(format, "csv") == 0) {
        c.fmt = FMT_CSV;
    } else if (strcmp(format, "jsonl") == 0) {
        c.fmt = FMT_JSONL;
    } else {
        return rcl_usage("source", "--format is csv or jsonl");
    }
    if (report != NULL && no_report) {
        return rcl_usage("source", "--report and --no-report exclude each "
                                   "other");
    }
    if (report == NULL && !no_report) {
        snprintf(defrep, sizeof(defrep), "reconcile-%s", c.entry);
        report = defrep;
    }
    in = strcmp(c.file, "-") == 0 ? stdin : fopen(c.file, "r");
    if (in == NULL) {
        return rcl_fail("%s: %s", c.file, strerror(errno));
    }
    rcl_progress_start(&c.prog, o->progress);
    rcl_changes_init(&c.ch);
    if ((backup != NULL ? rcl_src_backup(backup, &s, c.err)
                        : rcl_src_live(o, &s, c.err)) != PC_OK ||
        rcl_src_schema(s, c.entry, c.at, &c.schema, c.err) != PC_OK) {
        rc = rcl_fail("%s", c.err);
        goto out;
    }
    if (rcl_sorter_new(&c.sorter, (size_t)mem_mb << 20,
                       tmpdir != NULL ? tmpdir : "/tmp") != PC_OK) {
        rc = rcl_fail("out of memory");
        goto out;
    }
    if ((c.fmt == FMT_CSV ? read_csv(&c, in, delim) : read_jsonl(&c, in)) !=
            PC_OK ||
        rcl_sorter_finish(c.sorter, c.err) != PC_OK || next_row(&c) != PC_OK) {
        rc = rcl_fail("%s", c.err);
        goto out;
    }
    if (rcl_report_open(&rep, no_report ? NULL : report, c.err) != PC_OK) {
        rc = rcl_fail("%s", c.err);
        goto out;
    }
    c.json[0] = o->json ? stdout : NULL;
    c.json[1] = rep.json;
    c.txt = rep.txt;
    {
        const char *hdr[] = { "KEY", "STATUS", "FIELD", "PROVCAT", "SOURCE" };

        rcl_table_init(&c.shown, 5, hdr);
        c.shown.max_width = 40;
    }
    each_json(&c, head_json, &c);
    for (size_t i = 0; i < c.n_inv; i++) {
        for (int k = 0; k < 2; k++) {
            FILE *f = c.json[k];

            if (f == NULL) {
                continue;
            }
            fprintf(f, "%s{\"status\":\"invalid\",\"line\":%llu,\"message\":",
                    c.first_item ? "\n" : ",\n",
                    (unsigned long long)c.inv[i].line);
            rcl_json_str(f, c.inv[i].msg, strlen(c.inv[i].msg));
            fputs("}", f);
        }
        c.first_item = false;
        if (c.txt != NULL) {
            fprintf(c.txt, "%-24s  %-18s  line %llu: %s\n", "-", "invalid",
                    (unsigned long long)c.inv[i].line, c.inv[i].msg);
        }
    }
    if (c.txt != NULL) {
        fprintf(c.txt, "%-24s  %-18s  %-20s  %-30s  %s\n", "KEY", "STATUS",
                "FIELD", "PROVCAT", "SOURCE");
    }
    if (rcl_src_scan(s, c.entry, &c.at, true, true, record_cb, &c, c.err) !=
            PC_OK ||
        c.rc != PC_OK || (c.rc = drain_before(&c, NULL, 0)) != PC_OK) {
        rc = rcl_fail("%s", c.err);
        goto out;
    }
    rcl_progress_show(
        &c.prog, true, "compared %llu source rows with %llu records of %s",
        (unsigned long long)c.n.rows, (unsigned long long)c.n.records, c.entry);
    each_json(&c, counts_json, &c);
    if (c.txt != NULL) {
        fprintf(c.txt, "\n");
        counts_text(c.txt, &c);
    }
    if (!o->json) {
        printf("entry %s in %s at revision %llu against %s (%s, key '%s')\n",
               c.entry, rcl_src_name(s), (unsigned long long)c.at, c.file,
               c.fmt == FMT_CSV ? "CSV" : "JSON Lines", c.key_field);
        counts_text(stdout, &c);
        if (c.n_shown > 0) {
            rcl_table_print(&c.shown, stdout);
            if (c.n_items > c.n_shown) {
                printf("... and %llu more (the report has them all)\n",
                       (unsigned long long)(c.n_items - c.n_shown));
            }
        }
        if (c.n_inv > 0) {
            printf("invalid rows, first: line %llu: %s\n",
                   (unsigned long long)c.inv[0].line, c.inv[0].msg);
        }
        if (rep.json_path != NULL) {
            printf("report: %s, %s\n", rep.json_path, rep.txt_path);
        }
    }
    if (rcl_report_close(&rep, c.err) != PC_OK) {
        rc = rcl_fail("%s", c.err);
        goto out;
    }
    rc =
        c.n.missing + c.n.extra + c.n.differs + c.n.duplicate + c.n.invalid == 0
            ? RCL_AGREE
            : RCL_DIFFER;
out:
    rcl_report_close(&rep, NULL);
    if (in != NULL && in != stdin) {
        fclose(in);
    }
    rcl_table_release(&c.shown);
    rcl_sorter_free(c.sorter);
    rcl_changes_release(&c.ch);
    rcl_schema_release(&c.schema);
    rcl_src_free(s);
    for (size_t i = 0; i < c.n_cols; i++) {
        free(c.cols[i]);
    }
    free(c.cols);
    free(c.col_lens);
    free(c.skip);
    free(c.cells);
    free(c.cell_lens);
    for (size_t i = 0; i < c.n_ignore; i++) {
        free(c.ignore[i]);
    }
    free(c.ignore);
    for (size_t i = 0; i < c.n_inv; i++) {
        free(c.inv[i].msg);
    }
    free(c.inv);
    free(c.prev_key);
    return rc;
}
