/* SPDX-License-Identifier: MIT */
/*
 * The offline subcommands (offline.h): argument parsing, manuals and
 * output. The work is in storage/snap.c (snap_verify) and node/restore.c
 * (restore_run); this file only turns their results into lines and exit
 * statuses: 0 ok, 1 failure or a damaged backup, 2 usage.
 */
#include "node/offline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "node/config.h"
#include "node/raft/restore.h"
#include "storage/fact.h"
#include "storage/snap.h"

#define EXIT_DAMAGED 1
#define EXIT_USAGE   2

static const char verify_usage[] =
    "NAME\n"
    "    provcat-node verify-backup - check a backup file, offline\n"
    "\n"
    "SYNOPSIS\n"
    "    provcat-node verify-backup FILE\n"
    "    provcat-node verify-backup --help\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads FILE, a backup written by GET /v1/backup, and checks all of\n"
    "    it without a cluster, as a restore would: the header's and the\n"
    "    trailer's checksums, each frame's checksum and decompression, every\n"
    "    fact (revisions in order, ledger time, version chains, the content\n"
    "    hash of every document, leaf hashes), the checksum over all frames,\n"
    "    the counts, and the Merkle root that the header and the trailer\n"
    "    promise. Nothing is written. Time and memory are those of loading\n"
    "    the ledger on a node: about 3.5 s of CPU and 600 MB per million\n"
    "    records of 200-byte documents (docs/bench.md).\n"
    "\n"
    "OUTPUT\n"
    "    For an intact backup, one line per value on standard output, the\n"
    "    name, spaces, the value:\n"
    "\n"
    "        file             FILE as given\n"
    "        bytes            its size\n"
    "        revision         the ledger's revision (its fact count)\n"
    "        root             the Merkle root at that revision, in hex: what\n"
    "                         GET /v1/ledger?tree_size=REVISION answers on\n"
    "                         any node restored from it\n"
    "        facts            facts in the ledger\n"
    "        frames           frames in the file\n"
    "        entries          catalog entries\n"
    "        records          records (an entry's key, every version)\n"
    "        record_versions  versions of those records\n"
    "        orgs             organisations\n"
    "        principals       principals; a restore keeps their tokens\n"
    "        documents        record documents held\n"
    "        redacted         record documents redacted\n"
    "\n"
    "    For a damaged one, one line on standard error that names the part\n"
    "    and where it starts: the frame by number (from 1) and byte offset,\n"
    "    the fact by revision when one was refused, e.g.\n"
    "\n"
    "        provcat-node verify-backup: 'b.snap' is damaged: snapshot:\n"
    "        frame 3 at byte 2096745: checksum mismatch\n"
    "\n"
    "    (on one line). A checksum covers a whole frame, so a flipped byte\n"
    "    is named by the frame that holds it.\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the backup is intact\n"
    "    1  it is damaged, or cannot be read\n"
    "    2  usage error\n";

static const char restore_usage[] =
    "NAME\n"
    "    provcat-node restore - make a node's data dir from a backup, offline\n"
    "\n"
    "SYNOPSIS\n"
    "    provcat-node restore --backup FILE --data-dir DIR --id N\n"
    "                         --peer A.B.C.D:PORT [--redactions LIST]\n"
    "    provcat-node restore --help\n"
    "\n"
    "DESCRIPTION\n"
    "    Verifies FILE, a backup written by GET /v1/backup, as verify-backup\n"
    "    does, and only then writes DIR as the data dir of a new cluster\n"
    "    whose one voter is node N at raft address A.B.C.D:PORT, holding the\n"
    "    backup's ledger as its raft snapshot; then exits. Start the node\n"
    "    afterwards exactly as usual, with the same --id, --data-dir and\n"
    "    --peer (the same unit file), and no restore flag: it leads at once\n"
    "    and serves the ledger at the backup's revision and root. Other\n"
    "    nodes, started with empty data dirs and no --cluster, join with\n"
    "    POST /v1/members and receive the ledger as a raft snapshot.\n"
    "\n"
    "    DIR must be absent or empty (what an interrupted restore left is\n"
    "    cleaned up). Running the same restore again on a DIR it restored\n"
    "    changes nothing and exits 0, even once the node has run; a DIR\n"
    "    restored from another backup, or holding any other state, is\n"
    "    refused and left as it is. DIR is locked as a running node locks\n"
    "    it, so a node using it makes the restore fail.\n"
    "\n"
    "    The restored cluster keeps everything the ledger holds: the cluster\n"
    "    id, the organisations, the principals and every token that was\n"
    "    valid at the backup's revision. A restore is not a credential\n"
    "    rotation (docs/node.md, Disaster recovery, says how to rotate).\n"
    "\n"
    "OPTIONS\n"
    "    --backup FILE\n"
    "        The backup to restore. Required.\n"
    "\n"
    "    --data-dir DIR\n"
    "        The node's data dir, as its --data-dir. Required.\n"
    "        Environment: PROVCAT_DATA_DIR.\n"
    "\n"
    "    --id N\n"
    "        The node's raft id, 1..2147483647, as its --id. Required.\n"
    "        Environment: PROVCAT_ID.\n"
    "\n"
    "    --peer A.B.C.D:PORT\n"
    "        The node's raft address, as its --peer: the one voter of the\n"
    "        restored configuration. Required.\n"
    "        Environment: PROVCAT_PEER.\n"
    "\n"
    "    --help\n"
    "        Print this manual and exit 0. Also -h.\n"
    "\n"
    "    Each option is given as --name VALUE or --name=VALUE, at most once;\n"
    "    the command line wins over the environment (an empty variable\n"
    "    counts as unset), so the node's own PROVCAT_* environment serves.\n"
    "\n"
    "OUTPUT\n"
    "    One line on standard output: what was restored (revision, root,\n"
    "    entries, records) or that DIR already holds this backup. Errors are\n"
    "    one line on standard error naming the cause; a damaged backup is\n"
    "    named by frame and byte as verify-backup does.\n"
    "\n"
    "EXIT STATUS\n"
    "    0  restored, or DIR was restored from this backup already\n"
    "    1  the backup is damaged or unreadable, DIR holds other state or is\n"
    "       in use, or a write failed\n"
    "    2  usage error\n";

bool
offline_is_command(const char *name)
{
    return name != NULL &&
           (strcmp(name, "restore") == 0 || strcmp(name, "verify-backup") == 0);
}

static bool
is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

static int
usage_error(FILE *err, const char *cmd, const char *what, const char *arg)
{
    fprintf(err, "provcat-node %s: %s%s%s%s (try 'provcat-node %s --help')\n",
            cmd, what, arg ? " '" : "", arg ? arg : "", arg ? "'" : "", cmd);
    return EXIT_USAGE;
}

static int
verify_backup(int argc, char **argv, FILE *out, FILE *err)
{
    char errmsg[PC_ERRMSG_SIZE] = "", hex[PC_HASH_HEX_LEN + 1];
    const char *file = NULL;
    struct snap_summary s;
    struct pc_buf b;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            fputs(verify_usage, out);
            return 0;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage_error(err, "verify-backup", "unknown option", argv[i]);
        }
        if (file != NULL) {
            return usage_error(err, "verify-backup",
                               "one FILE only; unexpected", argv[i]);
        }
        file = argv[i];
    }
    if (file == NULL) {
        return usage_error(err, "verify-backup", "FILE is missing", NULL);
    }
    pc_buf_init(&b);
    rc = restore_read_file(file, &b, errmsg);
    if (rc == PC_OK) {
        rc = snap_verify(b.data, b.len, NULL, &s, NULL, errmsg);
        if (rc == PC_ECORRUPT) {
            pc_errmsg_wrap(errmsg, rc, "'%s' is damaged", file);
        }
    }
    pc_buf_release(&b);
    if (rc != PC_OK) {
        fprintf(err, "provcat-node verify-backup: %s\n", errmsg);
        return EXIT_DAMAGED;
    }
    pc_hex(hex, s.root, PC_HASH_LEN);
    fprintf(out,
            "file             %s\n"
            "bytes            %" PRIu64 "\n"
            "revision         %" PRIu64 "\n"
            "root             %s\n"
            "facts            %" PRIu64 "\n"
            "frames           %" PRIu64 "\n"
            "entries          %" PRIu64 "\n"
            "records          %" PRIu64 "\n"
            "record_versions  %" PRIu64 "\n"
            "orgs             %" PRIu64 "\n"
            "principals       %" PRIu64 "\n"
            "documents        %" PRIu64 "\n"
            "redacted         %" PRIu64 "\n",
            file, s.bytes, s.revision, hex, s.count, s.frames,
            s.entities_of[FACT_ENTRY], s.entities_of[FACT_RECORD],
            s.facts_of[FACT_RECORD], s.entities_of[FACT_ORG],
            s.entities_of[FACT_PRINCIPAL], s.documents, s.redacted);
    return fflush(out) == 0 ? 0 : EXIT_DAMAGED;
}

/* The value of `--name VALUE` / `--name=VALUE` at argv[*i], or NULL. */
static const char *
flag_value(int argc, char **argv, int *i, const char *name, bool *bad)
{
    size_t n = strlen(name);
    const char *a = argv[*i];

    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0) {
        return NULL;
    }
    if (a[2 + n] == '=') {
        return a + 3 + n;
    }
    if (a[2 + n] != '\0') {
        return NULL;
    }
    if (*i + 1 >= argc) {
        *bad = true;
        return NULL;
    }
    return argv[++*i];
}

/* `*v` from the environment variable `env` when not given (empty: unset). */
static void
from_env(const char **v, char **envp, const char *env)
{
    size_t n = strlen(env);

    for (char **e = envp; *v == NULL && e != NULL && *e != NULL; e++) {
        if (strncmp(*e, env, n) == 0 && (*e)[n] == '=' && (*e)[n + 1]) {
            *v = *e + n + 1;
        }
    }
}

static int
restore(int argc, char **argv, char **envp, FILE *out, FILE *err)
{
    static const char *const names[] = { "backup", "data-dir", "id", "peer",
                                         "redactions" };
    const char *val[5] = { NULL, NULL, NULL, NULL, NULL };
    char errmsg[PC_ERRMSG_SIZE] = "", hex[PC_HASH_HEX_LEN + 1];
    struct restore_opts o;
    struct restore_result res;
    unsigned long long id;
    char *end;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            fputs(restore_usage, out);
            return 0;
        }
    }
    for (int i = 1; i < argc; i++) {
        bool bad = false, known = false;
        for (size_t k = 0; k < 5 && !known; k++) {
            const char *v = flag_value(argc, argv, &i, names[k], &bad);
            if (bad) {
                return usage_error(err, "restore", "a value is missing after",
                                   argv[i]);
            }
            if (v != NULL) {
                if (val[k] != NULL) {
                    return usage_error(err, "restore", "given twice:", argv[i]);
                }
                if (*v == '\0') {
                    return usage_error(err, "restore", "empty value for",
                                       names[k]);
                }
                val[k] = v;
                known = true;
            }
        }
        if (!known) {
            return usage_error(err, "restore",
                               argv[i][0] == '-' ? "unknown option"
                                                 : "unexpected argument",
                               argv[i]);
        }
    }
    from_env(&val[1], envp, "PROVCAT_DATA_DIR");
    from_env(&val[2], envp, "PROVCAT_ID");
    from_env(&val[3], envp, "PROVCAT_PEER");
    for (size_t k = 0; k < 4; k++) {
        if (val[k] == NULL) {
            char what[32];
            snprintf(what, sizeof(what), "--%s is required", names[k]);
            return usage_error(err, "restore", what, NULL);
        }
    }
    errno = 0;
    id = strtoull(val[2], &end, 10);
    if (*end != '\0' || val[2][0] < '1' || val[2][0] > '9' || errno != 0 ||
        id > CFG_ID_MAX) {
        return usage_error(err, "restore", "--id must be 1..2147483647, not",
                           val[2]);
    }
    if (cfg_check_peer(val[3], errmsg) != PC_OK) {
        fprintf(err,
                "provcat-node restore: --peer: %s (try 'provcat-node "
                "restore --help')\n",
                errmsg);
        return EXIT_USAGE;
    }
    o.backup = val[0];
    o.data_dir = val[1];
    o.id = (uint32_t)id;
    o.peer = val[3];
    o.redactions = val[4];
    rc = restore_run(&o, false, &res, errmsg);
    if (rc != PC_OK) {
        fprintf(err, "provcat-node restore: %s\n", errmsg);
        return 1;
    }
    pc_hex(hex, res.root, PC_HASH_LEN);
    if (res.already) {
        fprintf(out,
                "%s already holds this backup (revision %" PRIu64
                ", root %s); nothing to do\n",
                o.data_dir, res.revision, hex);
    } else {
        fprintf(out,
                "restored %s into %s: revision %" PRIu64 ", root %s, %" PRIu64
                " entries, %" PRIu64 " records; start node %" PRIu32
                " as usual, then add the others with POST /v1/members\n",
                o.backup, o.data_dir, res.revision, hex, res.entries,
                res.records, o.id);
    }
    return fflush(out) == 0 ? 0 : 1;
}

int
offline_main(int argc, char **argv, char **envp, FILE *out, FILE *err)
{
    if (strcmp(argv[0], "verify-backup") == 0) {
        return verify_backup(argc, argv, out, err);
    }
    return restore(argc, argv, envp, out, err);
}
