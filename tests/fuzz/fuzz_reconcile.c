/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for provcat-reconcile's readers of source exports and
 * its comparisons (tools/reconcile/csv.c, diff.c). The first byte picks CSV
 * (with a delimiter) or JSON Lines; the rest is the export. Every CSV
 * record is either read (its cells valid UTF-8, as many offsets as cells)
 * or the reader stops with PC_EINVAL and a message naming a line; every
 * row is compared against a fixed typed document, and each reported
 * change names a field of the row or of the document and carries JSON
 * text on the sides it says are present.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/jcs.h"
#include "tools/reconcile/reconcile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok) {
        abort();
    }
}

static const char entry_json[] =
    "{\"fields\":[{\"name\":\"s\",\"type\":\"string\"},{\"name\":\"i\","
    "\"type\":\"integer\"},{\"name\":\"x\",\"type\":\"number\"},{\"name\":"
    "\"b\",\"type\":\"boolean\"},{\"name\":\"d\",\"type\":\"date\"},"
    "{\"name\":\"o\",\"type\":\"object\"},{\"name\":\"a\",\"type\":"
    "\"array\"}]}";
static const char doc_json[] =
    "{\"a\":[1,\"x\"],\"b\":true,\"d\":\"2024-02-29\",\"i\":7,\"o\":{\"k\":"
    "null},\"s\":\"text\",\"u\":1.5,\"x\":0.1}";

/* Each change is well formed: a kind in range, JSON text where a side is
 * present, both sides present for a change or a type mismatch. */
static void
check_changes(const struct rcl_changes *ch)
{
    for (size_t i = 0; i < ch->n; i++) {
        const struct rcl_change *c = &ch->v[i];

        check(c->field != NULL && strlen(c->field) <= c->field_len);
        check(c->kind <= RCL_TYPE_DIFFERS);
        check(c->a == NULL || jcs_utf8_valid((const uint8_t *)c->a, c->a_len));
        check(c->b == NULL || jcs_utf8_valid((const uint8_t *)c->b, c->b_len));
        if (c->kind == RCL_CHANGED) {
            check(c->a != NULL && c->b != NULL);
        }
        if (c->kind == RCL_MISSING_PC) {
            check(c->a == NULL && c->b != NULL);
        }
        if (c->kind == RCL_MISSING_SRC) {
            check(c->a != NULL && c->b == NULL);
        }
    }
}

static void
fuzz_csv(FILE *f, char delim, const struct rcl_schema *sc,
         const struct jcs_doc *doc)
{
    struct rcl_changes ch;
    struct rcl_csv r;
    char **cols = NULL;
    size_t *col_lens = NULL, n_cols = 0;
    int rc;

    check(rcl_csv_open(&r, f, delim) == PC_OK);
    rcl_changes_init(&ch);
    while ((rc = rcl_csv_next(&r)) == 1) {
        const char **cells = calloc(r.n_cells, sizeof(*cells));
        size_t *lens = calloc(r.n_cells, sizeof(*lens));

        check(r.n_cells >= 1 && r.line >= 1);
        for (size_t i = 0; i < r.n_cells; i++) {
            cells[i] = rcl_csv_cell(&r, i, &lens[i]);
            check(jcs_utf8_valid((const uint8_t *)cells[i], lens[i]));
            check(cells[i][lens[i]] == '\0');
        }
        if (cols == NULL) {
            n_cols = r.n_cells;
            cols = calloc(n_cols, sizeof(*cols));
            col_lens = calloc(n_cols, sizeof(*col_lens));
            for (size_t i = 0; i < n_cols; i++) {
                cols[i] = malloc(lens[i] + 1);
                memcpy(cols[i], cells[i], lens[i] + 1);
                col_lens[i] = lens[i];
            }
        } else if (r.n_cells == n_cols) {
            rcl_changes_reset(&ch);
            check(rcl_cmp_csv(sc, (const char *const *)cols, col_lens, cells,
                              lens, n_cols, NULL, doc, jcs_root(doc),
                              &ch) == PC_OK);
            check_changes(&ch);
        }
        free(cells);
        free(lens);
    }
    check(rc == 0 || (rc == PC_EINVAL && strncmp(r.err, "line ", 5) == 0));
    for (size_t i = 0; i < n_cols; i++) {
        free(cols[i]);
    }
    free(cols);
    free(col_lens);
    rcl_changes_release(&ch);
    rcl_csv_close(&r);
}

static void
fuzz_jsonl(FILE *f, const struct rcl_schema *sc, const struct jcs_doc *doc)
{
    struct rcl_changes ch;
    struct rcl_lines r;
    int rc;

    check(rcl_lines_open(&r, f) == PC_OK);
    rcl_changes_init(&ch);
    while ((rc = rcl_lines_next(&r)) == 1) {
        struct jcs_doc *d;

        if (jcs_parse((const char *)r.text.data, r.text.len, &d, NULL) !=
            PC_OK) {
            continue;
        }
        if (jcs_type(jcs_root(d)) == JCS_OBJECT) {
            rcl_changes_reset(&ch);
            check(rcl_cmp_json(sc, d, jcs_root(d), doc, jcs_root(doc), NULL,
                               NULL, &ch) == PC_OK);
            check_changes(&ch);
            /* A document against itself never differs. */
            rcl_changes_reset(&ch);
            check(rcl_diff_docs(d, jcs_root(d), d, jcs_root(d), &ch) == PC_OK);
            check(ch.n == 0);
        }
        jcs_doc_free(d);
    }
    check(rc == 0);
    rcl_changes_release(&ch);
    rcl_lines_close(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rcl_schema sc;
    static struct jcs_doc *doc;
    static const char delims[] = { ',', '\t', ';', '|' };
    FILE *f;

    if (doc == NULL) {
        struct jcs_doc *e;

        check(jcs_parse(entry_json, sizeof(entry_json) - 1, &e, NULL) == PC_OK);
        check(rcl_schema_from_entry(jcs_root(e), &sc) == PC_OK);
        jcs_doc_free(e);
        check(jcs_parse(doc_json, sizeof(doc_json) - 1, &doc, NULL) == PC_OK);
    }
    if (size < 1) {
        return 0;
    }
    f = fmemopen((void *)(data + 1), size - 1 > 0 ? size - 1 : 1, "r");
    if (f == NULL) {
        return 0;
    }
    if (size == 1) {
        fclose(f);
        return 0;
    }
    if (data[0] & 0x80) {
        fuzz_jsonl(f, &sc, doc);
    } else {
        fuzz_csv(f, delims[data[0] & 3], &sc, doc);
    }
    fclose(f);
    return 0;
}
