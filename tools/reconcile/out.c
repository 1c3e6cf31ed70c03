/* SPDX-License-Identifier: MIT */
/*
 * Output of the reconciliation tool: JSON text written straight to a
 * stream (reports can hold millions of items, so nothing is built in
 * memory first), tables aligned for people, the progress line on a
 * terminal, the report files, and the token.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/err.h"
#include "tools/reconcile/reconcile.h"

/* ---- JSON --------------------------------------------------------------- */

void
rcl_json_str(FILE *f, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            continue;
        }
        fwrite(s + run, 1, i - run, f);
        run = i + 1;
        switch (ch) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\b':
            fputs("\\b", f);
            break;
        case '\f':
            fputs("\\f", f);
            break;
        default:
            fprintf(f, "\\u00%c%c", hex[ch >> 4], hex[ch & 15]);
        }
    }
    fwrite(s + run, 1, len - run, f);
    fputc('"', f);
}

void
rcl_json_raw(FILE *f, const char *s, size_t len)
{
    if (s == NULL) {
        fputs("null", f);
    } else {
        fwrite(s, 1, len, f);
    }
}

/* ---- tables ----------------------------------------------------------- */

/* Display width of UTF-8 text: one column per code point. */
static size_t
width(const char *s)
{
    size_t w = 0;

    for (; *s != '\0'; s++) {
        w += ((unsigned char)*s & 0xc0) != 0x80;
    }
    return w;
}

void
rcl_table_init(struct rcl_table *t, size_t n_cols, const char *const *hdr)
{
    memset(t, 0, sizeof(*t));
    t->n_cols = n_cols;
    t->max_width = 60;
    rcl_table_row(t, hdr);
}

void
rcl_table_row(struct rcl_table *t, const char *const *row)
{
    if (t->n_rows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **c = realloc(t->cells, cap * t->n_cols * sizeof(*c));

        if (c == NULL) {
            return; /* a row short of memory is left out */
        }
        t->cells = c;
        t->cap = cap;
    }
    for (size_t i = 0; i < t->n_cols; i++) {
        const char *s = row[i] != NULL ? row[i] : "-";
        char *cell = strdup(s);

        /* Line breaks would break the table: shown escaped. */
        for (char *p = cell; p != NULL && *p != '\0'; p++) {
            if (*p == '\n' || *p == '\r' || *p == '\t') {
                *p = ' ';
            }
        }
        if (cell != NULL && width(cell) > t->max_width) {
            size_t w = 0, i2 = 0;

            while (cell[i2] != '\0' && w < t->max_width - 3) {
                i2++;
                while (((unsigned char)cell[i2] & 0xc0) == 0x80) {
                    i2++;
                }
                w++;
            }
            memcpy(cell + i2, "...", 4);
        }
        t->cells[t->n_rows * t->n_cols + i] = cell;
    }
    t->n_rows++;
}

void
rcl_table_print(const struct rcl_table *t, FILE *f)
{
    size_t *w = calloc(t->n_cols, sizeof(*w));

    if (w == NULL) {
        return;
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *s = t->cells[r * t->n_cols + c];
            size_t n = s != NULL ? width(s) : 1;

            if (n > w[c]) {
                w[c] = n;
            }
        }
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *s = t->cells[r * t->n_cols + c];

            s = s != NULL ? s : "-";
            if (c + 1 == t->n_cols) {
                fprintf(f, "%s\n", s);
            } else {
                fprintf(f, "%s%*s  ", s, (int)(w[c] - width(s)), "");
            }
        }
    }
    free(w);
}

void
rcl_table_release(struct rcl_table *t)
{
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++) {
        free(t->cells[i]);
    }
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

char *
rcl_show(const char *json, size_t len)
{
    char *s;

    if (json == NULL) {
        return strdup("(absent)");
    }
    s = malloc(len + 1);
    if (s != NULL) {
        memcpy(s, json, len);
        s[len] = '\0';
    }
    return s;
}

/* ---- progress ------------------------------------------------------- */

int64_t
rcl_now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void
rcl_progress_start(struct rcl_progress *p, bool on)
{
    p->on = on;
    p->start_ms = rcl_now_ms();
    p->last_ms = 0;
}

void
rcl_progress_show(struct rcl_progress *p, bool final, const char *fmt, ...)
{
    int64_t now;
    va_list ap;

    if (!p->on) {
        return;
    }
    now = rcl_now_ms();
    if (!final && now - p->last_ms < 200) {
        return;
    }
    p->last_ms = now;
    fputs("\r\033[K", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (%.1f s)", (double)(now - p->start_ms) / 1000.0);
    if (final) {
        fputc('\n', stderr);
    }
    fflush(stderr);
}

/* ---- report files ------------------------------------------------------- */

static char *
suffixed(const char *base, const char *ext)
{
    size_t n = strlen(base) + strlen(ext) + 1;
    char *s = malloc(n);

    if (s != NULL) {
        snprintf(s, n, "%s%s", base, ext);
    }
    return s;
}

int
rcl_report_open(struct rcl_report *r, const char *base, char *err)
{
    memset(r, 0, sizeof(*r));
    if (base == NULL) {
        return PC_OK;
    }
    r->json_path = suffixed(base, ".json");
    r->txt_path = suffixed(base, ".txt");
    if (r->json_path == NULL || r->txt_path == NULL) {
        rcl_report_close(r, NULL);
        return pc_errmsgf(err, PC_ENOMEM, "out of memory");
    }
    r->json = fopen(r->json_path, "w");
    if (r->json == NULL) {
        int rc = pc_errmsg_sys(err, errno, "create '%s'", r->json_path);

        rcl_report_close(r, NULL);
        return rc;
    }
    r->txt = fopen(r->txt_path, "w");
    if (r->txt == NULL) {
        int rc = pc_errmsg_sys(err, errno, "create '%s'", r->txt_path);

        rcl_report_close(r, NULL);
        return rc;
    }
    return PC_OK;
}

int
rcl_report_close(struct rcl_report *r, char *err)
{
    int rc = PC_OK;
    FILE *fs[2] = { r->json, r->txt };
    char *ps[2] = { r->json_path, r->txt_path };

    for (int i = 0; i < 2; i++) {
        if (fs[i] != NULL &&
            (ferror(fs[i]) || fflush(fs[i]) != 0 || fclose(fs[i]) != 0) &&
            rc == PC_OK) {
            rc = pc_errmsg_sys(err, errno, "write '%s'", ps[i]);
        }
    }
    free(r->json_path);
    free(r->txt_path);
    memset(r, 0, sizeof(*r));
    return rc;
}

/* ---- the token ---------------------------------------------------------- */

char *
rcl_token(const struct rcl_opts *o, bool *failed, char *err)
{
    const char *path = o->token_file;
    char line[4096];
    FILE *f;

    *failed = false;
    if (path == NULL) {
        path = getenv("PROVCAT_TOKEN_FILE");
    }
    if (path == NULL) {
        const char *t = getenv("PROVCAT_TOKEN");

        return t != NULL && *t != '\0' ? strdup(t) : NULL;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        *failed = true;
        pc_errmsg_sys(err, errno, "token file '%s'", path);
        return NULL;
    }
    if (fgets(line, sizeof(line), f) == NULL) {
        line[0] = '\0';
    }
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    return strdup(line);
}

/* ---- failures ------------------------------------------------------------ */

int
rcl_fail(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("provcat-reconcile: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return RCL_DIFFER;
}
