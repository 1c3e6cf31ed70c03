/* SPDX-License-Identifier: MIT */
/*
 * provcat-reconcile's internals (docs/reconcile.md): the readers of source
 * exports (CSV, JSONL), the external sort that puts their rows in key
 * order, the comparisons (two versions of a document field by field, a
 * source row against a record by the entry's field types), the record
 * sources (a live cluster through libprovcat, or a backup file decoded
 * with storage/snap), the report writers, and the subcommands. Every
 * listing is in key byte order, the order the node's index keeps, so the
 * comparisons are merges of two sorted streams in bounded memory.
 */
#ifndef PC_RECONCILE_H
#define PC_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/hash.h"

struct jcs_doc;
struct jcs_val;

/* Exit codes: all agree, something differs (or the run failed), usage. */
#define RCL_AGREE  0
#define RCL_DIFFER 1
#define RCL_USAGE  2

#define RCL_ERR_SIZE 1024

/* ---- settings every subcommand shares (main.c) ----------------------- */

struct rcl_opts {
    const char *endpoints;  /* NULL: $PROVCAT_ENDPOINTS */
    const char *token_file; /* NULL: $PROVCAT_TOKEN_FILE, else $PROVCAT_TOKEN */
    long timeout_ms;        /* per call of the library, retries included */
    bool json;              /* -o json: the report on stdout as JSON */
    bool progress;          /* a progress line on stderr (a terminal) */
};

/* The token from --token-file, $PROVCAT_TOKEN_FILE or $PROVCAT_TOKEN
 * (NULL: none, the public). Malloc'd; NULL with `err` set on failure. */
char *rcl_token(const struct rcl_opts *o, bool *failed, char *err);

/* ---- CSV and JSONL readers (csv.c) ------------------------------------ */

/*
 * A streaming RFC 4180 reader: records of cells separated by `delim`
 * (',' by default), ended by CRLF, LF or CR; a cell in double quotes may
 * hold the delimiter, line breaks and "" for a quote; a UTF-8 byte order
 * mark at the start is skipped; empty lines are skipped. A quote inside an
 * unquoted cell, text after a closing quote, an unterminated quote and
 * invalid UTF-8 are errors naming the line.
 */
struct rcl_csv {
    FILE *f;
    uint8_t *buf;
    size_t len, pos, cap;
    bool eof, started;
    char delim;
    uint64_t line;      /* the line the current record starts on (from 1) */
    uint64_t next_line; /* the line the next record starts on */
    uint64_t bytes;     /* bytes consumed so far */
    struct pc_buf text; /* the current record's cells, back to back */
    size_t *cell_off;   /* n_cells + 1 offsets into `text` */
    size_t n_cells, cap_cells;
    char err[RCL_ERR_SIZE];
};

/* Start reading `f` (the caller keeps and closes it). PC_OK, PC_ENOMEM. */
int rcl_csv_open(struct rcl_csv *c, FILE *f, char delim);
void rcl_csv_close(struct rcl_csv *c);
/* The next record: 1, 0 at the end, or PC_EINVAL (`c->err` says where; the
 * reader cannot go on), PC_EIO, PC_ENOMEM. */
int rcl_csv_next(struct rcl_csv *c);
/* Cell `i` of the current record (`*len` bytes, NUL-terminated). */
const char *rcl_csv_cell(const struct rcl_csv *c, size_t i, size_t *len);

/*
 * A JSON Lines reader: one JSON text per line (LF or CRLF), blank lines
 * skipped, a byte order mark at the start skipped. Lines are returned as
 * they are; the caller parses them.
 */
struct rcl_lines {
    FILE *f;
    uint8_t *buf;
    size_t len, pos, cap;
    bool eof, started;
    uint64_t line, bytes;
    struct pc_buf text;
    char err[RCL_ERR_SIZE];
};
int rcl_lines_open(struct rcl_lines *r, FILE *f);
void rcl_lines_close(struct rcl_lines *r);
/* 1 with the line in r->text (without its end), 0 at the end, PC_EIO,
 * PC_ENOMEM. */
int rcl_lines_next(struct rcl_lines *r);

/* ---- external sort (sort.c) ------------------------------------------- */

/*
 * Rows of a source export sorted by key bytes (then by line, so the first
 * of repeated keys comes first) in bounded memory: rows are kept until
 * they fill `mem_bytes`, then sorted and written to a temporary file in
 * `tmpdir` (a run, unlinked at once); at the end the runs are merged.
 */
struct rcl_sorter;

struct rcl_row {
    const uint8_t *key;
    size_t key_len;
    uint64_t line;
    const uint8_t *payload;
    size_t payload_len;
};

int rcl_sorter_new(struct rcl_sorter **out, size_t mem_bytes,
                   const char *tmpdir);
void rcl_sorter_free(struct rcl_sorter *s);
/* Add a row (copied). PC_OK, PC_EIO or PC_ENOMEM (`err`). */
int rcl_sorter_add(struct rcl_sorter *s, const struct rcl_row *row, char *err);
/* No more rows: sort what is held, get ready to merge. */
int rcl_sorter_finish(struct rcl_sorter *s, char *err);
/* The next row in order (borrowed until the next call): 1, 0, or an error. */
int rcl_sorter_next(struct rcl_sorter *s, struct rcl_row *row, char *err);
/* Runs written to disk (0: everything fitted in memory); rows added. */
unsigned rcl_sorter_runs(const struct rcl_sorter *s);
uint64_t rcl_sorter_rows(const struct rcl_sorter *s);

/* ---- comparisons (diff.c) --------------------------------------------- */

/* An entry's field types (docs/openapi.yaml: fields[].type). */
enum rcl_type {
    RCL_T_UNDECLARED = 0,
    RCL_T_STRING,
    RCL_T_INTEGER,
    RCL_T_NUMBER,
    RCL_T_BOOLEAN,
    RCL_T_DATE,
    RCL_T_OBJECT,
    RCL_T_ARRAY,
};

struct rcl_schema {
    size_t n;
    char **names;
    enum rcl_type *types;
};

/* The schema of a catalog entry object (its "fields"). PC_OK, PC_ENOMEM. */
int rcl_schema_from_entry(const struct jcs_val *entry, struct rcl_schema *out);
void rcl_schema_release(struct rcl_schema *s);
/* The declared type of field `name`, or RCL_T_UNDECLARED. */
enum rcl_type rcl_schema_type(const struct rcl_schema *s, const char *name,
                              size_t len);
const char *rcl_type_name(enum rcl_type t);

/* How one field differs. */
enum rcl_change_kind {
    RCL_ADDED,        /* versions: only in the later one */
    RCL_REMOVED,      /* versions: only in the earlier one */
    RCL_CHANGED,      /* both, different values */
    RCL_MISSING_PC,   /* source: a value in the source, none in provcat */
    RCL_MISSING_SRC,  /* source: a value in provcat, none in the source */
    RCL_TYPE_DIFFERS, /* source: not of the field's type on one side */
};
const char *rcl_change_name(enum rcl_change_kind k);

/*
 * One field's difference. `a` and `b` are JSON texts (canonical for
 * provcat's side; a CSV cell as a JSON string), NULL when absent. For
 * versions `a` is the earlier version, `b` the later; for a source
 * comparison `a` is provcat's value and `b` the source's.
 */
struct rcl_change {
    const char *field;
    size_t field_len;
    enum rcl_change_kind kind;
    const char *a;
    size_t a_len;
    const char *b;
    size_t b_len;
};

/* The changes of one comparison, owning their text. */
struct rcl_changes {
    struct rcl_change *v;
    size_t n, cap;
    struct pc_buf text;  /* every string of `v`, back to back */
    size_t *offs;        /* per change: field, a, b offsets (or SIZE_MAX) */
    struct pc_buf sb[4]; /* scratch of the comparisons, kept for reuse */
};
void rcl_changes_init(struct rcl_changes *c);
void rcl_changes_reset(struct rcl_changes *c);
void rcl_changes_release(struct rcl_changes *c);
/* Fix up the pointers of `c->v` into `c->text` (after the last add). */
void rcl_changes_seal(struct rcl_changes *c);

/*
 * Compare two documents (objects, or NULL for none: a retire or a
 * redacted version) member by member in canonical key order: added,
 * removed, changed, with the values in canonical form. PC_OK, PC_ENOMEM.
 */
int rcl_diff_docs(const struct jcs_doc *da, const struct jcs_val *a,
                  const struct jcs_doc *db, const struct jcs_val *b,
                  struct rcl_changes *out);

/*
 * Compare a source row with provcat's document `doc` (an object, or NULL)
 * by the entry's field types (SPEC: integer, number, boolean true/false/
 * 1/0, date YYYY-MM-DD, object and array as JSON text; an empty cell is
 * absent, as is a null or missing member; a column the schema does not
 * declare compares as text). `cols`/`cells` are the CSV's header and the
 * row's cells (`n` of each); `skip` (may be NULL) marks columns not to
 * compare. PC_OK, PC_ENOMEM.
 */
int rcl_cmp_csv(const struct rcl_schema *s, const char *const *cols,
                const size_t *col_lens, const char *const *cells,
                const size_t *cell_lens, size_t n, const bool *skip,
                const struct jcs_doc *pd, const struct jcs_val *doc,
                struct rcl_changes *out);

/*
 * Compare a JSONL source object `src` with provcat's `doc`: every member
 * of either but those `ignored` says (may be NULL) and `key_field`; a
 * string on the source side where the schema declares another type is
 * read as a CSV cell would be. PC_OK, PC_ENOMEM.
 */
typedef bool (*rcl_ignored_fn)(void *arg, const char *field, size_t len);
int rcl_cmp_json(const struct rcl_schema *s, const struct jcs_doc *sd,
                 const struct jcs_val *src, const struct jcs_doc *pd,
                 const struct jcs_val *doc, rcl_ignored_fn ignored, void *arg,
                 struct rcl_changes *out);

/* ---- record sources (src.c) ------------------------------------------- */

/* A record version as a node or a backup holds it. */
struct rcl_rec {
    const char *key;
    size_t key_len;
    uint64_t version;
    uint64_t revision;
    char hash[PC_HASH_HEX_LEN + 1];
    char op[16];
    bool retired;
    bool redacted; /* its document was lawfully dropped (article 16) */
    bool filtered; /* a grant let only some fields through */
    const struct jcs_doc *doc;   /* the tree `value` lives in */
    const struct jcs_val *value; /* the document, or NULL (retire, redacted) */
    const char *author;          /* may be NULL */
    char at[32];                 /* RFC 3339, "" when unknown */
};

struct rcl_src;

/* A live cluster (the library's leader finding and retries). */
int rcl_src_live(const struct rcl_opts *o, struct rcl_src **out, char *err);
/* A backup file, checked and decoded whole (docs/format.md). */
int rcl_src_backup(const char *path, struct rcl_src **out, char *err);
void rcl_src_free(struct rcl_src *s);
/* "the cluster at http://..." or "backup FILE (revision N)". */
const char *rcl_src_name(const struct rcl_src *s);
/* The revision reads default to: the leader's applied one, or the
 * backup's. PC_OK or an error in `err`. */
int rcl_src_revision(struct rcl_src *s, uint64_t *rev, char *err);

/* Entry `entry` as of revision `at` (0: now): its schema. PC_ENOTFOUND. */
int rcl_src_schema(struct rcl_src *s, const char *entry, uint64_t at,
                   struct rcl_schema *out, char *err);

/* Visit one record version. Return false to stop. */
typedef bool (*rcl_rec_cb)(void *arg, const struct rcl_rec *r);

/* Every version of a record, oldest first. PC_ENOTFOUND for no record. */
int rcl_src_history(struct rcl_src *s, const char *entry, const char *key,
                    rcl_rec_cb cb, void *arg, char *err);

/*
 * Every record of `entry` as of revision `*at` (0: now, and `*at` gets the
 * revision read), in key byte order: its version current then, with its
 * document when `values`; retired records too when `retired`.
 */
int rcl_src_scan(struct rcl_src *s, const char *entry, uint64_t *at,
                 bool values, bool retired, rcl_rec_cb cb, void *arg,
                 char *err);

/* One version of a record: `version`, or the one current at `at`. */
int rcl_src_get(struct rcl_src *s, const char *entry, const char *key,
                uint64_t version, uint64_t at, rcl_rec_cb cb, void *arg,
                char *err);

/* ---- output (out.c) --------------------------------------------------- */

/* JSON text of `len` bytes of UTF-8 as a JSON string, into `f`. */
void rcl_json_str(FILE *f, const char *s, size_t len);
/* A canonical JSON value, or null for NULL. */
void rcl_json_raw(FILE *f, const char *s, size_t len);

/* A table of strings printed with aligned columns (one column per code
 * point; long cells are cut at `max_width` with "..."). */
struct rcl_table {
    size_t n_cols, n_rows, cap;
    char **cells;
    size_t max_width;
};
void rcl_table_init(struct rcl_table *t, size_t n_cols, const char *const *hdr);
void rcl_table_row(struct rcl_table *t, const char *const *row);
void rcl_table_print(const struct rcl_table *t, FILE *f);
void rcl_table_release(struct rcl_table *t);

/* Display form of a JSON value for a table: strings without quotes are
 * ambiguous, so values are shown as JSON; NULL shows as "(absent)". */
char *rcl_show(const char *json, size_t len);

/* A progress line on stderr, rewritten at most every 200 ms. */
struct rcl_progress {
    bool on;
    int64_t start_ms, last_ms;
};
void rcl_progress_start(struct rcl_progress *p, bool on);
void rcl_progress_show(struct rcl_progress *p, bool final, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int64_t rcl_now_ms(void);

/* Report files BASE.json and BASE.txt (either may be NULL). */
struct rcl_report {
    FILE *json;
    FILE *txt;
    char *json_path, *txt_path;
};
int rcl_report_open(struct rcl_report *r, const char *base, char *err);
/* Close both; PC_OK, or PC_EIO when a write failed (named in `err`). */
int rcl_report_close(struct rcl_report *r, char *err);

/* ---- subcommands ------------------------------------------------------ */

int rcl_cmd_nodes(const struct rcl_opts *o, int argc, char **argv);
int rcl_cmd_versions(const struct rcl_opts *o, int argc, char **argv);
int rcl_cmd_revisions(const struct rcl_opts *o, int argc, char **argv);
int rcl_cmd_source(const struct rcl_opts *o, int argc, char **argv);

/* A subcommand: its function and its help (help.c). */
struct rcl_command {
    const char *name;
    int (*fn)(const struct rcl_opts *o, int argc, char **argv);
    const char *usage;
    const char *summary;
    const char *help;
};
/* Every subcommand, ending with a NULL name. */
extern const struct rcl_command rcl_commands[];
const struct rcl_command *rcl_find(const char *name);

/* The help of one subcommand, for --help and usage errors. */
void rcl_help(const char *cmd, FILE *f);
/* Print "provcat-reconcile CMD: msg" and the usage line; RCL_USAGE. */
int rcl_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print "provcat-reconcile: msg" on stderr; RCL_DIFFER. */
int rcl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
