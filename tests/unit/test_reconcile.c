/* SPDX-License-Identifier: MIT */
/*
 * provcat-reconcile's parts without a cluster: the CSV reader (quoting,
 * CRLF, CR, a byte order mark, line breaks inside cells, errors naming
 * their line, records across the read buffer's edge), the JSON Lines
 * reader, the external sort against an in-memory sort (many runs on disk
 * and none), and the comparisons: documents field by field, and source
 * values read by the entry's field types.
 */
#include "tests/lib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/jcs.h"
#include "tools/reconcile/reconcile.h"

/* A FILE over a copy of `len` bytes. */
static FILE *
mem_file(const void *p, size_t len)
{
    FILE *f = tmpfile();

    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    rewind(f);
    return f;
}

/* Read every record of `text` into "cell|cell;" form with the lines. */
static int
csv_all(const char *text, size_t len, char delim, char *out, size_t cap,
        char *err)
{
    struct rcl_csv r;
    FILE *f = mem_file(text, len);
    size_t n = 0;
    int rc;

    assert_int_equal(rcl_csv_open(&r, f, delim), PC_OK);
    out[0] = '\0';
    while ((rc = rcl_csv_next(&r)) == 1) {
        n += (size_t)snprintf(out + n, cap - n,
                              "%llu:", (unsigned long long)r.line);
        for (size_t i = 0; i < r.n_cells; i++) {
            size_t l;
            const char *c = rcl_csv_cell(&r, i, &l);

            assert_int_equal(strlen(c), l);
            n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "|" : "", c);
        }
        n += (size_t)snprintf(out + n, cap - n, ";");
    }
    if (err != NULL) {
        strcpy(err, r.err);
    }
    rcl_csv_close(&r);
    fclose(f);
    return rc;
}

/* RFC 4180: quotes, "" escapes, delimiters and line breaks in cells, CRLF,
 * LF and CR line ends, empty cells, a BOM, empty lines, no final break. */
static void
test_reconcile_csv_quoting(void **state)
{
    static const char in[] = "\xef\xbb\xbf"
                             "id,name,note\r\n"
                             "1,\"Smith, John\",\"said \"\"hi\"\"\"\r\n"
                             "\r\n"
                             "2,,\"two\nlines\"\n"
                             "3,\"a\r\nb\",\r"
                             "4,\"\",last";
    char out[1024];

    (void)state;
    assert_int_equal(csv_all(in, sizeof(in) - 1, ',', out, sizeof(out), NULL),
                     0);
    assert_string_equal(out, "1:id|name|note;"
                             "2:1|Smith, John|said \"hi\";"
                             "4:2||two\nlines;"
                             "6:3|a\r\nb|;"
                             "8:4||last;");
    /* A tab-separated file; a trailing delimiter is an empty last cell. */
    assert_int_equal(csv_all("a\tb\n1\t\n", 7, '\t', out, sizeof(out), NULL),
                     0);
    assert_string_equal(out, "1:a|b;2:1|;");
    /* An empty file has no records. */
    assert_int_equal(csv_all("", 0, ',', out, sizeof(out), NULL), 0);
    assert_string_equal(out, "");
}

/* Malformed input is an error naming its line; nothing is guessed. */
static void
test_reconcile_csv_errors(void **state)
{
    char out[1024], err[RCL_ERR_SIZE];

    (void)state;
    assert_int_equal(csv_all("a,b\n1,x\"y\n", 10, ',', out, sizeof(out), err),
                     PC_EINVAL);
    assert_non_null(strstr(err, "line 2: a quote inside an unquoted cell"));
    assert_int_equal(csv_all("a\n\"x\"y\n", 7, ',', out, sizeof(out), err),
                     PC_EINVAL);
    assert_non_null(strstr(err, "line 2: text after the closing quote"));
    assert_int_equal(
        csv_all("a\n1\n\"open\nstill\n", 17, ',', out, sizeof(out), err),
        PC_EINVAL);
    assert_non_null(strstr(err, "line 3: a quoted cell is not closed"));
    assert_int_equal(csv_all("a\n\xff\xfe\n", 5, ',', out, sizeof(out), err),
                     PC_EINVAL);
    assert_non_null(strstr(err, "line 2: cell 1 is not valid UTF-8"));
}

/* Records across the 1 MiB read buffer's edge: a CRLF split between two
 * reads, and a quoted cell holding a line break across the edge. */
static void
test_reconcile_csv_buffer_edge(void **state)
{
    const size_t chunk = 1u << 20;
    struct rcl_csv r;
    char *text = malloc(3 * chunk);
    size_t n = 0, rows = 0;
    FILE *f;
    int rc;

    (void)state;
    assert_non_null(text);
    n += (size_t)sprintf(text, "k,v\r\n");
    /* Row 1 ends with "\r" as the chunk's last byte and "\n" first. */
    n += (size_t)sprintf(text + n, "1,");
    memset(text + n, 'x', chunk - 1 - n);
    n = chunk - 1;
    text[n++] = '\r';
    text[n++] = '\n';
    /* Row 2: a quoted cell across the next edge, with a break inside. */
    n += (size_t)sprintf(text + n, "2,\"");
    memset(text + n, 'y', 2 * chunk - 3 - n);
    n = 2 * chunk - 3;
    memcpy(text + n, "z\r\nw\"\n3,end", 11);
    n += 11;
    f = mem_file(text, n);
    assert_int_equal(rcl_csv_open(&r, f, ','), PC_OK);
    while ((rc = rcl_csv_next(&r)) == 1) {
        size_t l;
        const char *c = rcl_csv_cell(&r, 1, &l);

        assert_int_equal(r.n_cells, 2);
        if (rows == 1) {
            assert_int_equal(l, chunk - 1 - 7);
            assert_int_equal(r.line, 2);
        }
        if (rows == 2) {
            assert_int_equal(r.line, 3);
            assert_memory_equal(c + l - 4, "z\r\nw", 4);
        }
        if (rows == 3) {
            assert_string_equal(c, "end");
            assert_int_equal(r.line, 5); /* the break inside row 2 counts */
        }
        rows++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(rows, 4);
    assert_int_equal(r.bytes, n);
    rcl_csv_close(&r);
    fclose(f);
    free(text);
}

/* JSON Lines: LF and CRLF, blank lines skipped, a BOM, no final break,
 * a line longer than the read buffer. */
static void
test_reconcile_jsonl_lines(void **state)
{
    const size_t big = (1u << 20) + 100;
    struct rcl_lines r;
    struct pc_buf in;
    FILE *f;
    int i = 0;

    (void)state;
    pc_buf_init(&in);
    assert_int_equal(pc_buf_put(&in, "\xef\xbb\xbf{\"a\":1}\r\n\n  \n", 16),
                     PC_OK);
    assert_int_equal(pc_buf_put(&in, "{\"b\":\"", 6), PC_OK);
    for (size_t k = 0; k < big; k++) {
        assert_int_equal(pc_buf_put_u8(&in, 'q'), PC_OK);
    }
    assert_int_equal(pc_buf_put(&in, "\"}\n{\"c\":3}", 10), PC_OK);
    f = mem_file(in.data, in.len);
    assert_int_equal(rcl_lines_open(&r, f), PC_OK);
    while (rcl_lines_next(&r) == 1) {
        if (i == 0) {
            assert_int_equal(r.text.len, 7);
            assert_memory_equal(r.text.data, "{\"a\":1}", 7);
            assert_int_equal(r.line, 1);
        } else if (i == 1) {
            assert_int_equal(r.text.len, big + 8);
            assert_int_equal(r.line, 4);
        } else {
            assert_int_equal(r.text.len, 7);
            assert_memory_equal(r.text.data, "{\"c\":3}", 7);
            assert_int_equal(r.line, 5);
        }
        i++;
    }
    assert_int_equal(i, 3);
    rcl_lines_close(&r);
    fclose(f);
    pc_buf_release(&in);
}

/* ---- the external sort -------------------------------------------------- */

struct srow {
    char key[16];
    uint64_t line;
    char payload[32];
};

static int
srow_cmp(const void *x, const void *y)
{
    const struct srow *a = x, *b = y;
    int c = strcmp(a->key, b->key);

    return c != 0 ? c : (a->line > b->line) - (a->line < b->line);
}

/* Sort `n` random rows with `mem` bytes of memory: the same order as an
 * in-memory sort by (key bytes, line), payloads intact, repeats kept. */
static void
sort_check(size_t n, size_t mem, bool want_runs)
{
    uint64_t seed = test_seed(), r = seed;
    struct srow *rows = calloc(n, sizeof(*rows));
    struct rcl_sorter *s;
    char err[RCL_ERR_SIZE];
    struct rcl_row row;
    size_t i = 0;

    test_seed_note("sort_check", seed);
    assert_non_null(rows);
    assert_int_equal(rcl_sorter_new(&s, mem, "/tmp"), PC_OK);
    for (size_t k = 0; k < n; k++) {
        /* Keys of varied lengths, some prefixes of others, some repeated. */
        snprintf(rows[k].key, sizeof(rows[k].key), "%llx",
                 (unsigned long long)(test_rand(&r) % (n / 2 + 1)) *
                     (k % 7 == 0 ? 16 : 1));
        rows[k].line = k + 2;
        snprintf(rows[k].payload, sizeof(rows[k].payload), "p%zu", k);
        row.key = (const uint8_t *)rows[k].key;
        row.key_len = strlen(rows[k].key);
        row.line = rows[k].line;
        row.payload = (const uint8_t *)rows[k].payload;
        row.payload_len = strlen(rows[k].payload);
        assert_int_equal(rcl_sorter_add(s, &row, err), PC_OK);
    }
    assert_int_equal(rcl_sorter_finish(s, err), PC_OK);
    if (want_runs) {
        assert_true(rcl_sorter_runs(s) > 2);
    } else {
        assert_int_equal(rcl_sorter_runs(s), 0);
    }
    qsort(rows, n, sizeof(*rows), srow_cmp);
    while (rcl_sorter_next(s, &row, err) == 1) {
        assert_true(i < n);
        assert_int_equal(row.key_len, strlen(rows[i].key));
        assert_memory_equal(row.key, rows[i].key, row.key_len);
        assert_int_equal(row.line, rows[i].line);
        assert_int_equal(row.payload_len, strlen(rows[i].payload));
        assert_memory_equal(row.payload, rows[i].payload, row.payload_len);
        i++;
    }
    assert_int_equal(i, n);
    assert_int_equal(rcl_sorter_rows(s), n);
    rcl_sorter_free(s);
    free(rows);
}

static void
test_reconcile_sort_runs(void **state)
{
    (void)state;
    sort_check(20000, 64 << 10, true); /* dozens of runs on disk */
    sort_check(20000, 64 << 20, false);
    sort_check(1, 64, false);
}

/* ---- comparisons ----------------------------------------------------------
 */

static struct jcs_doc *
parse(const char *json)
{
    struct jcs_doc *d;

    assert_int_equal(jcs_parse(json, strlen(json), &d, NULL), PC_OK);
    return d;
}

/* "field:kind:a:b;" for each change. */
static void
changes_str(const struct rcl_changes *ch, char *out, size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < ch->n; i++) {
        const struct rcl_change *c = &ch->v[i];

        n += (size_t)snprintf(out + n, cap - n, "%s:%s:%s:%s;", c->field,
                              rcl_change_name(c->kind), c->a ? c->a : "-",
                              c->b ? c->b : "-");
    }
}

/* Two documents: added, removed and changed members, canonical values. */
static void
test_reconcile_diff_docs(void **state)
{
    struct jcs_doc *a = parse("{\"n\":1,\"name\":\"Ada\",\"o\":{\"y\":2,"
                              "\"x\":1},\"gone\":true}");
    struct jcs_doc *b = parse("{\"name\":\"Ada L.\",\"n\":1.0,\"o\":{\"x\":1,"
                              "\"y\":2},\"new\":[1,\"2\"]}");
    struct rcl_changes ch;
    char s[1024];

    (void)state;
    rcl_changes_init(&ch);
    assert_int_equal(rcl_diff_docs(a, jcs_root(a), b, jcs_root(b), &ch), PC_OK);
    changes_str(&ch, s, sizeof(s));
    assert_string_equal(s, "gone:removed:true:-;"
                           "name:changed:\"Ada\":\"Ada L.\";"
                           "new:added:-:[1,\"2\"];");
    rcl_changes_reset(&ch);
    assert_int_equal(rcl_diff_docs(a, jcs_root(a), a, jcs_root(a), &ch), PC_OK);
    assert_int_equal(ch.n, 0);
    /* A retire version has no document: everything was removed. */
    rcl_changes_reset(&ch);
    assert_int_equal(rcl_diff_docs(b, jcs_root(b), NULL, NULL, &ch), PC_OK);
    assert_int_equal(ch.n, 4);
    assert_int_equal(ch.v[0].kind, RCL_REMOVED);
    rcl_changes_release(&ch);
    jcs_doc_free(a);
    jcs_doc_free(b);
}

static const char *const entry_json =
    "{\"fields\":[{\"name\":\"s\",\"type\":\"string\"},"
    "{\"name\":\"i\",\"type\":\"integer\"},{\"name\":\"x\",\"type\":"
    "\"number\"},{\"name\":\"b\",\"type\":\"boolean\"},{\"name\":\"d\","
    "\"type\":\"date\"},{\"name\":\"o\",\"type\":\"object\"},{\"name\":\"a\","
    "\"type\":\"array\"}]}";

/* One CSV cell of column `col` against provcat document `doc`. */
static void
cell(const struct rcl_schema *sc, const char *col, const char *value,
     const char *doc, const char *want)
{
    struct jcs_doc *d = doc != NULL ? parse(doc) : NULL;
    const char *cols[] = { col }, *cells[] = { value };
    size_t cl[] = { strlen(col) }, vl[] = { strlen(value) };
    struct rcl_changes ch;
    char s[1024];

    rcl_changes_init(&ch);
    assert_int_equal(rcl_cmp_csv(sc, cols, cl, cells, vl, 1, NULL, d,
                                 d != NULL ? jcs_root(d) : NULL, &ch),
                     PC_OK);
    changes_str(&ch, s, sizeof(s));
    if (strcmp(s, want) != 0) {
        fail_msg("column %s cell '%s' doc %s: got '%s', want '%s'", col, value,
                 doc ? doc : "(none)", s, want);
    }
    rcl_changes_release(&ch);
    jcs_doc_free(d);
}

/* CSV cells read by the declared types (SPEC: integer, number, boolean
 * true/false/1/0, date; empty = absent; undeclared as text). */
static void
test_reconcile_cmp_csv_types(void **state)
{
    struct jcs_doc *e = parse(entry_json);
    struct rcl_schema sc;

    (void)state;
    assert_int_equal(rcl_schema_from_entry(jcs_root(e), &sc), PC_OK);
    assert_int_equal(sc.n, 7);
    assert_int_equal(rcl_schema_type(&sc, "d", 1), RCL_T_DATE);
    /* integer */
    cell(&sc, "i", "1815", "{\"i\":1815}", "");
    cell(&sc, "i", "1815.0", "{\"i\":1815}", "");
    cell(&sc, "i", "+1815", "{\"i\":1815}", "");
    cell(&sc, "i", "1816", "{\"i\":1815}", "i:changed:1815:\"1816\";");
    cell(&sc, "i", "18.5", "{\"i\":1815}", "i:type_differs:1815:\"18.5\";");
    cell(&sc, "i", "x", "{\"i\":1815}", "i:type_differs:1815:\"x\";");
    cell(&sc, "i", "12", "{\"i\":\"12\"}", "i:type_differs:\"12\":\"12\";");
    /* number */
    cell(&sc, "x", "0.1", "{\"x\":0.1}", "");
    cell(&sc, "x", "1e2", "{\"x\":100}", "");
    cell(&sc, "x", "0.10000000000000002", "{\"x\":0.1}",
         "x:changed:0.1:\"0.10000000000000002\";");
    /* boolean */
    cell(&sc, "b", "1", "{\"b\":true}", "");
    cell(&sc, "b", "TRUE", "{\"b\":true}", "");
    cell(&sc, "b", "false", "{\"b\":false}", "");
    cell(&sc, "b", "0", "{\"b\":true}", "b:changed:true:\"0\";");
    cell(&sc, "b", "yes", "{\"b\":true}", "b:type_differs:true:\"yes\";");
    /* date */
    cell(&sc, "d", "2024-02-29", "{\"d\":\"2024-02-29\"}", "");
    cell(&sc, "d", "2023-02-29", "{\"d\":\"2023-02-28\"}",
         "d:type_differs:\"2023-02-28\":\"2023-02-29\";");
    cell(&sc, "d", "2024-03-01", "{\"d\":\"2024-02-29\"}",
         "d:changed:\"2024-02-29\":\"2024-03-01\";");
    /* string: exact, whitespace counts */
    cell(&sc, "s", "Ada", "{\"s\":\"Ada\"}", "");
    cell(&sc, "s", "Ada ", "{\"s\":\"Ada\"}", "s:changed:\"Ada\":\"Ada \";");
    /* object and array as JSON, any member order or spacing */
    cell(&sc, "o", "{ \"y\": 2, \"x\": 1 }", "{\"o\":{\"x\":1,\"y\":2}}", "");
    cell(&sc, "a", "[1, 2]", "{\"a\":[2,1]}", "a:changed:[2,1]:\"[1, 2]\";");
    cell(&sc, "a", "{}", "{\"a\":[]}", "a:type_differs:[]:\"{}\";");
    /* absent: an empty cell, a null, a missing member */
    cell(&sc, "s", "", "{\"s\":null}", "");
    cell(&sc, "s", "", "{}", "");
    cell(&sc, "s", "", "{\"s\":\"Ada\"}", "s:missing_in_source:\"Ada\":-;");
    cell(&sc, "i", "5", "{\"i\":null}", "i:missing_in_provcat:-:\"5\";");
    cell(&sc, "i", "5", NULL, "i:missing_in_provcat:-:\"5\";");
    /* undeclared columns: text, or the same number or boolean */
    cell(&sc, "u", "42", "{\"u\":42}", "");
    cell(&sc, "u", "42.0", "{\"u\":42}", "");
    cell(&sc, "u", "true", "{\"u\":true}", "");
    cell(&sc, "u", "x", "{\"u\":\"y\"}", "u:changed:\"y\":\"x\";");
    cell(&sc, "u", "[1]", "{\"u\":[1]}", "");
    rcl_schema_release(&sc);
    jcs_doc_free(e);
}

static bool
ignore_k(void *arg, const char *field, size_t len)
{
    (void)arg;
    return len == 1 && field[0] == 'k';
}

/* JSONL objects: typed members, strings where a number is declared read
 * as a cell would be, members of either side, ignored members. */
static void
test_reconcile_cmp_json(void **state)
{
    struct jcs_doc *e = parse(entry_json), *src, *pc;
    struct rcl_schema sc;
    struct rcl_changes ch;
    char s[2048];

    (void)state;
    assert_int_equal(rcl_schema_from_entry(jcs_root(e), &sc), PC_OK);
    src = parse("{\"k\":\"key1\",\"i\":\"1815\",\"x\":2.5,\"b\":true,"
                "\"s\":\"same\",\"d\":null,\"u\":1,\"only_src\":[1],"
                "\"o\":{\"b\":1,\"a\":2},\"a\":\"\"}");
    pc = parse("{\"i\":1815,\"x\":2.25,\"b\":true,\"s\":\"same\","
               "\"u\":\"1\",\"only_pc\":\"v\",\"o\":{\"a\":2,\"b\":1},"
               "\"a\":[]}");
    rcl_changes_init(&ch);
    assert_int_equal(rcl_cmp_json(&sc, src, jcs_root(src), pc, jcs_root(pc),
                                  ignore_k, NULL, &ch),
                     PC_OK);
    changes_str(&ch, s, sizeof(s));
    assert_string_equal(s, "a:type_differs:[]:\"\";"
                           "only_pc:missing_in_source:\"v\":-;"
                           "only_src:missing_in_provcat:-:[1];"
                           "x:changed:2.25:2.5;");
    rcl_changes_release(&ch);
    jcs_doc_free(src);
    jcs_doc_free(pc);
    rcl_schema_release(&sc);
    jcs_doc_free(e);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reconcile_csv_quoting),
        cmocka_unit_test(test_reconcile_csv_errors),
        cmocka_unit_test(test_reconcile_csv_buffer_edge),
        cmocka_unit_test(test_reconcile_jsonl_lines),
        cmocka_unit_test(test_reconcile_sort_runs),
        cmocka_unit_test(test_reconcile_diff_docs),
        cmocka_unit_test(test_reconcile_cmp_csv_types),
        cmocka_unit_test(test_reconcile_cmp_json),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
}
