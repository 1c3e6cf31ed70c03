/* SPDX-License-Identifier: MIT */
/*
 * The provcat CLI's internals shared by cli.c (options, output, the small
 * commands), cli_data.c (import, export, backup, verify-backup) and
 * cli_flow.c (sharing, open data, objections, redaction, the facts).
 * Exit codes: 0 done, 1 the operation failed (the server's message on
 * stderr), 2 usage.
 */
#ifndef PC_CLI_H
#define PC_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/provcat.h"

#define CLI_OK    0
#define CLI_FAIL  1
#define CLI_USAGE 2

/* What every command gets: the global settings and its arguments. */
struct cli {
    const char *endpoints;
    const char *token_file;
    const char *state_file;
    bool json; /* -o json */
    long timeout_ms;
    bool timeout_set;
    bool stale;
    struct provcat *c; /* made on first use by cli_client() */
    const struct cli_cmd *cmd;
};

typedef int (*cli_fn)(struct cli *g, int argc, char **argv);

struct cli_cmd {
    const char *name; /* "put", "catalog create", ... */
    cli_fn fn;
    const char *usage;   /* after "provcat NAME " */
    const char *summary; /* one line */
    const char *help;    /* options, one per line */
    const char *example;
};

/* Options of a command: `name` is "--x" (and `alt` "-x" or NULL); `arg`
 * says whether it takes a value. After cli_parse: `set`, `val`. */
struct cli_opt {
    const char *name;
    const char *alt;
    bool arg;
    bool set;
    const char *val;
};

/*
 * Split argv into options (`opts`, NULL-name terminated) and positionals
 * (`pos`, at most `max_pos`); "--help" prints the command's help and gives
 * -1 with `*rc` CLI_OK; a bad option or count gives -1 with `*rc`
 * CLI_USAGE. Returns the number of positionals otherwise.
 */
int cli_parse(struct cli *g, int argc, char **argv, struct cli_opt *opts,
              char **pos, int min_pos, int max_pos, int *rc);
/*
 * Parse a command without options that takes one argument (into `*arg`),
 * or none when `arg` is NULL; then the client. NULL after --help or after
 * printing why: the command returns `*rc`.
 */
struct provcat *cli_start(struct cli *g, int argc, char **argv, char **arg,
                          int *rc);
/*
 * Parse a command that names one record, as ENTRY/KEY or ENTRY KEY, and
 * takes the options `opts`. False after --help or after printing why: the
 * command returns `*rc`.
 */
bool cli_parse_record(struct cli *g, int argc, char **argv,
                      struct cli_opt *opts, const char **entry,
                      const char **key, int *rc);
/* The option was given, with a value that is not empty. */
bool cli_given(const struct cli_opt *o);
/* The command's usage line on stderr with `why`; returns CLI_USAGE. */
int cli_usage(struct cli *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The client, made from the global settings on first use; NULL after
 * printing why (then return CLI_FAIL or CLI_USAGE as `*rc` says). */
struct provcat *cli_client(struct cli *g, int *rc);
/* Print the client's last error ("provcat: what: message"); CLI_FAIL. */
int cli_fail(struct cli *g);
/* The client's last error with the HTTP status and API code, if any. */
void cli_errtext(struct provcat *c, char *buf, size_t cap);
/* Print a local failure; CLI_FAIL. */
int cli_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a decimal >= `min`; false if not one. */
bool cli_u64(const char *s, uint64_t min, uint64_t *out);

/* "ENTRY/KEY" or ENTRY KEY from the positionals. */
bool cli_entry_key(char **pos, int n, const char **entry, const char **key);

/* Read a whole file ("-" is stdin) into a NUL-terminated buffer. */
char *cli_read_file(const char *path, size_t *len);

/* Print `json` (server JSON text): as it is with -o json, else as
 * "member: value" lines. */
void cli_print_object(struct cli *g, const char *json);

/* The document of -f FILE, or stdin when it is not a terminal; NULL after
 * printing why (`*rc` the exit status). */
char *cli_read_doc(struct cli *g, const char *file, int *rc);

/* A member's value for a table cell or a "member: value" line (malloc'ed):
 * strings as they are, lists of strings as "a,b", null or absent as "-",
 * anything else as compact JSON. */
char *cli_show(json_t *v);
/* The member at `path` of `o`, "a.b" for member b of member a, or NULL. */
json_t *cli_member(json_t *o, const char *path);

/* Print a list and free `it`: with -o json one JSON array of the items as
 * they came, else a table of the `cols` members (paths as cli_member
 * takes) under `hdr`. CLI_OK, or CLI_FAIL with the error printed. */
int cli_print_list(struct cli *g, struct provcat_iter *it,
                   const char *const *cols, const char *const *hdr,
                   size_t n_cols);

/* The same, stopping after `max` items (0: all). */
int cli_print_list_max(struct cli *g, struct provcat_iter *it,
                       const char *const *cols, const char *const *hdr,
                       size_t n_cols, uint64_t max);

/* The most filter options a list command has. */
#define CLI_MAX_FILTERS 8

/* A list command: the options that filter it, the call, the table. */
struct cli_list {
    /* "--name" options taking a value, NULL-ended: each one given goes
     * to the call as the filter "name". */
    const char *const *filters;
    /* One of `filters` whose value is true or false, or NULL. */
    const char *boolean;
    /* The list call; NULL: provcat_list() of `kind`. */
    int (*list)(struct provcat *c, const char *const *filters,
                struct provcat_iter **out);
    enum provcat_list_kind kind;
    const char *const *cols; /* the members shown, as cli_member takes */
    const char *const *hdr;
    size_t n_cols;
};

/* Run the list command `l`: parse, call, print (cli_print_list). */
int cli_list(struct cli *g, int argc, char **argv, const struct cli_list *l);

/* Print the JSON answer `json` of a call that returned `rc` and free it:
 * CLI_OK, or CLI_FAIL with the client's error printed. */
int cli_answer(struct cli *g, int rc, char *json);

/* A table of rows of strings, printed with aligned columns. */
struct cli_table {
    size_t n_cols;
    size_t n_rows, cap;
    char **cells; /* row-major, n_cols per row, owned */
};
void cli_table_init(struct cli_table *t, size_t n_cols, const char *const *hdr);
/* Add a row of n_cols strings (copied; NULL shows as "-"). */
void cli_table_row(struct cli_table *t, const char *const *row);
void cli_table_print(struct cli_table *t);
void cli_table_release(struct cli_table *t);

/* A terminal progress line on stderr: [####....] pct, done/total, rate,
 * ETA; `unit` names what is counted ("records", "bytes"). */
struct cli_progress {
    bool on;
    long long start_ms, last_ms;
    const char *unit;
};
void cli_progress_start(struct cli_progress *p, const char *unit, bool on);
void cli_progress_show(struct cli_progress *p, uint64_t done, uint64_t total,
                       bool final);
long long cli_now_ms(void);

/* Commands of cli_data.c. */
int cli_import(struct cli *g, int argc, char **argv);
int cli_export(struct cli *g, int argc, char **argv);
int cli_backup(struct cli *g, int argc, char **argv);
int cli_verify_backup(struct cli *g, int argc, char **argv);

/* Commands of cli_flow.c. */
int cli_share_request(struct cli *g, int argc, char **argv);
int cli_share_decide(struct cli *g, int argc, char **argv);
int cli_share_get(struct cli *g, int argc, char **argv);
int cli_share_list(struct cli *g, int argc, char **argv);
int cli_grants_list(struct cli *g, int argc, char **argv);
int cli_grants_get(struct cli *g, int argc, char **argv);
int cli_grants_revoke(struct cli *g, int argc, char **argv);
int cli_lists_responsibility(struct cli *g, int argc, char **argv);
int cli_lists_demand(struct cli *g, int argc, char **argv);
int cli_lists_negative(struct cli *g, int argc, char **argv);
int cli_lists_open(struct cli *g, int argc, char **argv);
int cli_open_request(struct cli *g, int argc, char **argv);
int cli_open_decide(struct cli *g, int argc, char **argv);
int cli_open_get(struct cli *g, int argc, char **argv);
int cli_open_list(struct cli *g, int argc, char **argv);
int cli_calendar_get(struct cli *g, int argc, char **argv);
int cli_calendar_set(struct cli *g, int argc, char **argv);
int cli_objection_file(struct cli *g, int argc, char **argv);
int cli_objection_decide(struct cli *g, int argc, char **argv);
int cli_objection_get(struct cli *g, int argc, char **argv);
int cli_objection_list(struct cli *g, int argc, char **argv);
int cli_redact(struct cli *g, int argc, char **argv);
int cli_redactions(struct cli *g, int argc, char **argv);
int cli_ledger_facts(struct cli *g, int argc, char **argv);

#endif
