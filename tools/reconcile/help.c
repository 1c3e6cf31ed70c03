/* SPDX-License-Identifier: MIT */
/*
 * The subcommands of provcat-reconcile and their help, written as a man
 * page would: what each does, its options, exit status and examples.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tools/reconcile/reconcile.h"

const struct rcl_command rcl_commands[] = {
    { "nodes", rcl_cmd_nodes,
      "nodes [--at-revision N | --current] [--report BASE] ENDPOINT...",
      "Compare the nodes of a cluster (or of clusters restored from one "
      "backup) at one revision, down to the keys that differ.",
      "Each ENDPOINT (a node's client URL; several may be given, or one\n"
      "comma-separated list; without any, --endpoints is used) is asked on\n"
      "its own: its applied revision (GET /v1/ledger), then, at one revision\n"
      "R, its ledger root and every catalog entry's digest (GET\n"
      "/v1/ledger/digests with consistency=stale, at_revision=R and\n"
      "min_revision=R, so a node that is behind waits for R). R is by\n"
      "default the lowest revision any node has applied: every node holds\n"
      "it, and a node answers digests up to 100000 revisions back.\n"
      "\n"
      "When the roots differ at R, a bisection over tree sizes finds the\n"
      "last revision the ledgers agree on. Entries whose digests (or record\n"
      "and version counts) differ, or that a node lacks, are narrowed down\n"
      "to their records: every node's record heads at R (key, version,\n"
      "revision, fact hash) are merged in key order and each key whose heads\n"
      "differ is named with each node's head. Each node's heads are also\n"
      "added up and checked against its own digest (docs/format.md, \"Entry\n"
      "digests\"); a mismatch is reported as INCONSISTENT.\n"
      "\n"
      "  --at-revision N  compare at revision N instead (each node must\n"
      "                   have applied it and be at most 100000 past it)\n"
      "  --current        compare each node at its own applied revision:\n"
      "                   for clusters that no longer share a history (a\n"
      "                   backup restored elsewhere and written to); the\n"
      "                   roots are still compared at the lowest revision\n"
      "  --report BASE    also write BASE.json and BASE.txt\n"
      "\n"
      "The token needs role operator or auditor, or an authority (who sees\n"
      "the entries in its scope). Exit status 0 when every node answered\n"
      "and all agree, 1 when they differ or a node could not be compared.\n"
      "\n"
      "Examples:\n"
      "  provcat-reconcile --token-file op.token nodes \\\n"
      "      http://10.0.0.1:8001 http://10.0.0.2:8001 http://10.0.0.3:8001\n"
      "  provcat-reconcile -o json nodes --current --report drill \\\n"
      "      http://10.0.0.1:8001 http://10.9.0.1:8001\n" },
    { "versions", rcl_cmd_versions,
      "versions ENTRY KEY [--from N] [--to M] [--backup FILE] "
      "[--report BASE]",
      "Two versions of one record, field by field.",
      "Reads versions N and M of record KEY of entry ENTRY (by default the\n"
      "current version and the one before it; --from N alone compares N\n"
      "with N + 1) and lists every top-level field that was added, removed\n"
      "or changed, with both values as canonical JSON, and each version's\n"
      "operation, author, time, revision and hash. A retire version has no\n"
      "document: its fields show as removed. A version whose document was\n"
      "redacted (article 16) is reported as redacted, never as a\n"
      "difference.\n"
      "\n"
      "  --from N, --to M  the versions to compare (from 1)\n"
      "  --backup FILE     read a backup file instead of a cluster (checked\n"
      "                    whole first, as provcat-node verify-backup does;\n"
      "                    no cluster needs to run)\n"
      "  --report BASE     also write BASE.json and BASE.txt\n"
      "\n"
      "Exit status 0 when the documents are the same, 1 when they differ\n"
      "(or on failure).\n"
      "\n"
      "Examples:\n"
      "  provcat-reconcile versions licences L-0001\n"
      "  provcat-reconcile versions licences L-0001 --from 1 --to 4\n"
      "  provcat-reconcile versions licences L-0001 --backup "
      "2026-12-01.snap\n" },
    { "revisions", rcl_cmd_revisions,
      "revisions ENTRY --from R1 [--to R2] [--keys-only] [--backup FILE] "
      "[--report BASE]",
      "Which records of an entry changed between two revisions, and how.",
      "Lists the entry's keys as they were at revision R1 and at R2 (by\n"
      "default the current revision), retired records included, and names\n"
      "each record whose version moved: created, updated, corrected,\n"
      "retired, or created again after a retirement, with the versions at\n"
      "R1 and R2 and the fields that changed between those two versions\n"
      "(as `versions` shows them). Records are listed in key byte order.\n"
      "\n"
      "  --from R1, --to R2  the revisions (1 <= R1 < R2)\n"
      "  --keys-only         name the records without reading their\n"
      "                      documents (two reads per changed record saved)\n"
      "  --backup FILE       read a backup file instead of a cluster\n"
      "  --report BASE       also write BASE.json and BASE.txt\n"
      "\n"
      "Exit status 0 when nothing changed, 1 when records changed (or on\n"
      "failure).\n"
      "\n"
      "Examples:\n"
      "  provcat-reconcile revisions licences --from 120000 --to 125000\n"
      "  provcat-reconcile -o json revisions licences --from 120000 "
      "--keys-only\n" },
    { "source", rcl_cmd_source,
      "source ENTRY FILE --key COLUMN [--format csv|jsonl] [--backup FILE] "
      "[--report BASE | --no-report] [options]",
      "A source system's export against the entry's current records.",
      "FILE is a CSV file with a header row (RFC 4180: quoted cells may hold\n"
      "the delimiter, line breaks and \"\" for a quote; CRLF or LF; a UTF-8\n"
      "byte order mark is skipped) or JSON Lines (one object per line);\n"
      "COLUMN names the column (or member) holding the record key. \"-\"\n"
      "reads standard input. The file is streamed and its rows sorted by key\n"
      "in bounded memory (--memory; beyond it, sorted runs go to temporary\n"
      "files in --tmpdir, removed at once), so files larger than memory\n"
      "work. The entry's records are read in key order at one revision\n"
      "(page by page from a cluster, or from a backup) and merged with the\n"
      "rows. Each key is:\n"
      "\n"
      "  missing    in the source, not a current record of provcat (a\n"
      "             retired record says retired_in_provcat)\n"
      "  extra      a current record of provcat, not in the source\n"
      "  differs    in both, with the fields that differ: changed,\n"
      "             missing_in_provcat, missing_in_source, type_differs\n"
      "  redacted   provcat's current document was redacted: not compared,\n"
      "             never a difference\n"
      "  duplicate  a key the source repeats (the first row is compared)\n"
      "  invalid    a row that cannot be read (wrong number of cells, no\n"
      "             key, not a JSON object), named by its line\n"
      "\n"
      "Values are compared by the entry's field types: integer and number\n"
      "as numbers (\"1815\", \"1815.0\" and 1815 are equal), boolean as\n"
      "true/false/1/0, date as YYYY-MM-DD, object and array as JSON; an\n"
      "empty cell, a null and a missing member are all absent; a cell that\n"
      "cannot be read as its field's type is type_differs. Columns the\n"
      "entry does not declare are compared as text (a number or boolean in\n"
      "provcat equals a cell that reads as the same value). The key column\n"
      "is compared only when the entry declares a field of that name; CSV\n"
      "compares the header's columns only (the report lists the entry's\n"
      "fields it did not compare); JSON Lines compares every member of\n"
      "either side.\n"
      "\n"
      "  --key COLUMN       the key column or member (required)\n"
      "  --format F         csv or jsonl (default: from the file name,\n"
      "                     .csv .tsv .jsonl .ndjson)\n"
      "  --delimiter C      the CSV delimiter (default ','; 'tab' for TSV)\n"
      "  --ignore F1,F2     columns or members not to compare\n"
      "  --at-revision R    compare with the records as of revision R\n"
      "  --backup FILE      read a backup file instead of a cluster\n"
      "  --report BASE      write BASE.json and BASE.txt (default\n"
      "                     reconcile-ENTRY.json and .txt)\n"
      "  --no-report        write no report files\n"
      "  --memory MB        rows kept in memory before sorting to disk\n"
      "                     (default 512)\n"
      "  --tmpdir DIR       where sorted runs go (default $TMPDIR or /tmp)\n"
      "  --show N           differences shown on standard output (default\n"
      "                     20; the report files hold all of them)\n"
      "\n"
      "A progress line is shown on a terminal. Exit status 0 when every key\n"
      "is the same on both sides, 1 when anything is missing, extra,\n"
      "different, duplicated or invalid (or on failure).\n"
      "\n"
      "Examples:\n"
      "  provcat-reconcile source licences export.csv --key licence_no\n"
      "  provcat-reconcile source licences export.jsonl --key id \\\n"
      "      --backup /backups/2026-12-01.snap --report /tmp/licences\n"
      "  zcat big.csv.gz | provcat-reconcile source licences - --key id \\\n"
      "      --format csv --memory 256 --tmpdir /var/tmp\n" },
    { NULL, NULL, NULL, NULL, NULL },
};

const struct rcl_command *
rcl_find(const char *name)
{
    for (const struct rcl_command *c = rcl_commands; c->name != NULL; c++) {
        if (strcmp(c->name, name) == 0) {
            return c;
        }
    }
    return NULL;
}

void
rcl_help(const char *cmd, FILE *f)
{
    const struct rcl_command *c = rcl_find(cmd);

    if (c == NULL) {
        return;
    }
    fprintf(f, "usage: provcat-reconcile [GLOBAL OPTIONS] %s\n\n%s\n\n%s",
            c->usage, c->summary, c->help);
    fprintf(f, "\nGlobal options: provcat-reconcile --help.\n");
}

int
rcl_usage(const char *cmd, const char *fmt, ...)
{
    const struct rcl_command *c = cmd != NULL ? rcl_find(cmd) : NULL;
    va_list ap;

    fprintf(stderr, "provcat-reconcile%s%s: ", c ? " " : "", c ? c->name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (c != NULL) {
        fprintf(stderr, "usage: provcat-reconcile %s\n", c->usage);
        fprintf(stderr, "(provcat-reconcile %s --help for more)\n", c->name);
    } else {
        fprintf(stderr, "(provcat-reconcile --help for more)\n");
    }
    return RCL_USAGE;
}
