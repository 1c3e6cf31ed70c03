/* SPDX-License-Identifier: MIT */
/*
 * Command line, environment and config-file parsing for provcat-node. One
 * table describes every flag (type, range, default, help text); the parser,
 * the manual printed by --help and cfg_describe() are all driven by it, so
 * a flag cannot be accepted without being documented.
 *
 * Sources are applied lowest precedence first (defaults, file, environment,
 * command line), each value validated as it is applied, so a bad value is
 * reported even when a higher source overrides it. Cross-flag rules are
 * checked once on the merged result.
 */
#include "node/config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"

/* A config file is a few dozen lines; anything this big is a mistake. */
#define CFG_FILE_MAX (1024 * 1024)

/* Shown values are cut so that a message stays one readable line. */
#define SHOW_MAX 48

#define KIB 1024ull
#define MIB (1024ull * 1024)
#define GIB (1024ull * 1024 * 1024)

enum opt_id {
    O_ID,
    O_DATA_DIR,
    O_PEER,
    O_CLIENT,
    O_ADVERTISE_CLIENT_URL,
    O_CLUSTER,
    O_INITIAL_CLUSTER_STATE,
    O_ADMIN_TOKEN_FILE,
    O_EXIT_WHEN_REMOVED,
    O_SNAPSHOT_THRESHOLD,
    O_SNAPSHOT_TRAILING,
    O_RAFT_LOG_BUDGET,
    O_SNAPSHOT_CACHE,
    O_MAX_INFLIGHT,
    O_SEGMENT_SIZE,
    O_ELECTION_TIMEOUT_MS,
    O_HEARTBEAT_TIMEOUT_MS,
    O_MAX_BODY_BYTES,
    O_MAX_CONNECTIONS,
    O_IDLE_TIMEOUT_MS,
    O_REQUEST_TIMEOUT_MS,
    O_RATE_LIMIT,
    O_TRUSTED_PROXY,
    O_LOG_LEVEL,
    O_LOG_FORMAT,
    O_LOG_FILE,
    O_SECURITY_LOG_MAX_BYTES,
    O_SECURITY_LOG_KEEP,
    O_SECURITY_LOG_RATE,
    O_HOLIDAYS,
    O_RESTORE,
    O_REDACTIONS,
    O_CONFIG,
    O_HELP,
    O_VERSION,
    N_OPTS
};

enum opt_kind {
    K_NUM,     /* decimal integer within [min, max] */
    K_SIZE,    /* K_NUM with an optional K, M or G suffix */
    K_PATH,    /* non-empty string */
    K_ADDR,    /* a.b.c.d:port (--peer: host:port) */
    K_URL,     /* http(s)://host:port */
    K_CLUSTER, /* id=addr,... */
    K_STATE,   /* new | existing */
    K_LEVEL,   /* error | warn | info | debug */
    K_FORMAT,  /* text | json */
    K_CIDRS,   /* networks: a.b.c.d/n,... */
    K_BOOL,    /* true | false */
    K_SWITCH,  /* --help, --version: no value, command line only */
};

#define F_REQUIRED 1u
#define F_NO_FILE  2u /* may not appear in a config file */

struct opt {
    const char *name;    /* flag without dashes, also the config-file key */
    const char *metavar; /* shown in --help */
    enum opt_kind kind;
    unsigned flags;
    uint64_t min, max; /* K_NUM and K_SIZE bounds */
    size_t off;        /* offset of the field in struct cfg */
    size_t size;       /* size of a numeric field (4 or 8 bytes) */
    const char *def;   /* default, applied by the parser and shown */
    const char *group; /* starts a group of flags in --help */
    const char *help;
};

#define FIELD(f) \
    .off = offsetof(struct cfg, f), .size = sizeof(((struct cfg *)0)->f)

static const struct opt opts[N_OPTS] = {
    [O_ID] = {
        .name = "id", .metavar = "N", .kind = K_NUM, .flags = F_REQUIRED,
        .min = 1, .max = CFG_ID_MAX, FIELD(id),
        .group = "Identity and addresses",
        .help = "This node's raft id, 1..2147483647: unique in the cluster "
                "and never reused by another node, even after this one is "
                "removed. Required.",
    },
    [O_DATA_DIR] = {
        .name = "data-dir", .metavar = "DIR", .kind = K_PATH,
        .flags = F_REQUIRED, FIELD(data_dir),
        .help = "Directory of this node's raft log, snapshots and cluster "
                "id. One process at a time; its files are never silently "
                "repaired or overwritten. Required.",
    },
    [O_PEER] = {
        .name = "peer", .metavar = "HOST:PORT", .kind = K_ADDR,
        .flags = F_REQUIRED, FIELD(peer),
        .help = "Address of this node's raft traffic, which the other nodes "
                "connect to: an IPv4 literal or a DNS name (as compose and "
                "Kubernetes give; raft resolves names when it listens and "
                "each time it dials, or once at start with make "
                "RAFT=system), and a port; not 0.0.0.0. It must equal this "
                "node's entry in --cluster when that lists --id. Required.",
    },
    [O_CLIENT] = {
        .name = "client", .metavar = "A.B.C.D:PORT", .kind = K_ADDR,
        .flags = F_REQUIRED, FIELD(client),
        .help = "Address the HTTP API listens on: an IPv4 literal and a "
                "port; 0.0.0.0 listens on every interface and then needs "
                "--advertise-client-url. Required.",
    },
    [O_ADVERTISE_CLIENT_URL] = {
        .name = "advertise-client-url", .metavar = "URL", .kind = K_URL,
        FIELD(advertise_client_url),
        .help = "The URL at which clients and the other nodes reach this "
                "node's API: followers redirect clients to the leader's "
                "URL, and the leader records its members' URLs in the "
                "ledger. http:// or https:// (a TLS-terminating proxy in "
                "front; the node itself never serves TLS), then an IPv4 "
                "address or a DNS name and a port, with nothing after the "
                "port. Default: http:// followed by --client.",
    },
    [O_CLUSTER] = {
        .name = "cluster", .metavar = "ID=HOST:PORT,...",
        .kind = K_CLUSTER, FIELD(cluster),
        .help = "The founding voters of a new cluster by raft address (as "
                "--peer: IPv4 literals or DNS names), separated by commas; "
                "ids and addresses must be unique. "
                "Used only with --initial-cluster-state new on an empty "
                "data dir (see BOOTSTRAP AND JOIN).",
    },
    [O_INITIAL_CLUSTER_STATE] = {
        .name = "initial-cluster-state", .metavar = "new|existing",
        .kind = K_STATE, FIELD(initial_cluster_state), .def = "existing",
        .help = "new: on an empty data dir, bootstrap the configuration "
                "given by --cluster, which must then list this node. "
                "existing: on an empty data dir, wait to be added with POST "
                "/v1/members. Ignored once the data dir holds a cluster.",
    },
    [O_ADMIN_TOKEN_FILE] = {
        .name = "admin-token-file", .metavar = "FILE", .kind = K_PATH,
        FIELD(admin_token_file),
        .help = "File holding the admin token: one line of 16 to 256 "
                "characters (letters, digits, -._~+/=), in a file no other "
                "user may read (mode 0600 or 0400; else exit 2). A founder "
                "on an empty data dir needs it: if the file is missing the "
                "node creates it (a random token, mode 0600) before it may "
                "propose genesis, which carries only the token's hash. Give "
                "every founder the same file; losing it loses the admin "
                "token.",
    },
    [O_EXIT_WHEN_REMOVED] = {
        .name = "exit-when-removed", .metavar = "true|false", .kind = K_BOOL,
        FIELD(exit_when_removed), .def = "true",
        .help = "What this node does once it learns that it was removed "
                "from the cluster (the configuration it applies no longer "
                "lists it, or a leader of its cluster says so): it logs it "
                "and answers 503 removed on every data route and /readyz; "
                "with true it then stops and exits 0, as etcd does, so that "
                "a supervisor restarting on failure leaves it down; with "
                "false it stays up answering 503. To come back, it needs a "
                "fresh data dir and POST /v1/members.",
    },
    [O_SNAPSHOT_THRESHOLD] = {
        .name = "snapshot-threshold", .metavar = "N", .kind = K_NUM,
        .min = 1, .max = 2147483647, FIELD(snapshot_threshold),
        .def = "65536", .group = "Raft tuning",
        .help = "Log entries applied before a snapshot is due, which "
                "also needs half the ledger's bytes in the log since the "
                "last one (or --raft-log-budget bytes, whatever the count). "
                "Every entry since the last snapshot stays in memory and is "
                "replayed at restart; a small value snapshots too often to "
                "keep up under load.",
    },
    [O_SNAPSHOT_TRAILING] = {
        .name = "snapshot-trailing", .metavar = "N", .kind = K_NUM,
        .min = 0, .max = 2147483647, FIELD(snapshot_trailing),
        .def = "8192",
        .help = "Log entries kept after a snapshot, so that a follower "
                "lagging by fewer entries catches up without a snapshot "
                "transfer.",
    },
    [O_RAFT_LOG_BUDGET] = {
        .name = "raft-log-budget", .metavar = "BYTES", .kind = K_SIZE,
        .min = MIB, .max = (uint64_t)64 * GIB, FIELD(raft_log_budget),
        .def = "1G",
        .help = "Memory for the raft log entries held between snapshots "
                "(about 1.25x this at most): a snapshot is due once the log "
                "since the last one holds this many bytes, whatever "
                "--snapshot-threshold says, and the trailing entries are cut "
                "to a quarter of it.",
    },
    [O_SNAPSHOT_CACHE] = {
        .name = "snapshot-cache", .metavar = "BYTES", .kind = K_SIZE,
        .min = 0, .max = (uint64_t)1024 * GIB, FIELD(snapshot_cache),
        .def = "4G",
        .help = "Memory for the compressed frames of earlier snapshots, so "
                "that a snapshot encodes only the facts since the last one "
                "and copies the rest (a ledger only grows): about the size "
                "of a snapshot, e.g. 0.2 GB per million facts of 1 KB "
                "documents. Beyond it, facts are encoded again each time; "
                "0 turns the cache off.",
    },
    [O_MAX_INFLIGHT] = {
        .name = "max-inflight", .metavar = "N", .kind = K_NUM, .min = 1,
        .max = 1048576, FIELD(max_inflight), .def = "1024",
        .help = "Log entries in flight to followers at once. Below a few "
                "hundred, throughput drops several times, and raft "
                "0.22.1's own default (32) crashes followers under load.",
    },
    [O_SEGMENT_SIZE] = {
        .name = "segment-size", .metavar = "BYTES", .kind = K_SIZE,
        .min = MIB, .max = GIB, FIELD(segment_size), .def = "64M",
        .help = "Size of one raft log segment file, 1M..1G; the suffixes K, "
                "M and G multiply by powers of 1024. Large segments are "
                "closed less often, which cuts tail latency.",
    },
    [O_ELECTION_TIMEOUT_MS] = {
        .name = "election-timeout-ms", .metavar = "MS", .kind = K_NUM,
        .min = 10, .max = 600000, FIELD(election_timeout_ms),
        .def = "1000",
        .help = "Milliseconds without word from a leader before a follower "
                "starts an election (randomised between 1x and 2x). Use "
                "about 3000 under valgrind, sanitizers or on slow disks.",
    },
    [O_HEARTBEAT_TIMEOUT_MS] = {
        .name = "heartbeat-timeout-ms", .metavar = "MS", .kind = K_NUM,
        .min = 1, .max = 600000, FIELD(heartbeat_timeout_ms), .def = "100",
        .help = "Milliseconds between a leader's heartbeats, also raft's "
                "tick. Must be below --election-timeout-ms; a tenth of it "
                "is usual.",
    },
    [O_MAX_BODY_BYTES] = {
        .name = "max-body-bytes", .metavar = "BYTES", .kind = K_SIZE,
        .min = KIB, .max = GIB, FIELD(max_body_bytes), .def = "1M",
        .group = "HTTP limits",
        .help = "Largest request body accepted, 1K..1G (suffixes K, M, G); "
                "a larger one is refused with 413.",
    },
    [O_MAX_CONNECTIONS] = {
        .name = "max-connections", .metavar = "N", .kind = K_NUM, .min = 1,
        .max = 1048576, FIELD(max_connections), .def = "1024",
        .help = "Most client connections open at once.",
    },
    [O_IDLE_TIMEOUT_MS] = {
        .name = "idle-timeout-ms", .metavar = "MS", .kind = K_NUM, .min = 1,
        .max = 86400000, FIELD(idle_timeout_ms), .def = "60000",
        .help = "A client connection idle for this long is closed.",
    },
    [O_REQUEST_TIMEOUT_MS] = {
        .name = "request-timeout-ms", .metavar = "MS", .kind = K_NUM,
        .min = 1, .max = 86400000, FIELD(request_timeout_ms),
        .def = "30000",
        .help = "Time limit of one request, from its first byte to its "
                "answer.",
    },
    [O_RATE_LIMIT] = {
        .name = "rate-limit", .metavar = "N", .kind = K_NUM, .min = 1,
        .max = 1000000, FIELD(rate_limit), .def = "20",
        .help = "Failed authentications per minute from one client address "
                "before its requests with no valid token are answered 429 "
                "(a valid token is always served).",
    },
    [O_TRUSTED_PROXY] = {
        .name = "trusted-proxy", .metavar = "CIDR,...", .kind = K_CIDRS,
        FIELD(trusted_proxy),
        .help = "Networks of the proxies in front of the API (e.g. "
                "10.0.0.0/8,192.168.1.7), separated by commas: for a "
                "connection from one of them, the rate limiter and the "
                "logs take the client's address from X-Forwarded-For (the "
                "right-most entry that is not a trusted proxy). Without it, "
                "X-Forwarded-For is ignored.",
    },
    [O_LOG_LEVEL] = {
        .name = "log-level", .metavar = "error|warn|info|debug",
        .kind = K_LEVEL, FIELD(log_level), .def = "info",
        .group = "Files and logging",
        .help = "Least severe messages logged. The effective configuration "
                "is logged at info at start-up; debug adds raft's own "
                "tracing and a line per request.",
    },
    [O_LOG_FORMAT] = {
        .name = "log-format", .metavar = "text|json", .kind = K_FORMAT,
        FIELD(log_format), .def = "text",
        .help = "Lines on stderr as text (\"<time> node=<id> <level>: "
                "<message> key=value ...\") or as one JSON object per "
                "line, for log shippers.",
    },
    [O_LOG_FILE] = {
        .name = "log-file", .metavar = "FILE", .kind = K_PATH,
        FIELD(log_file),
        .help = "Append the node's log to FILE (created with mode 0640) "
                "instead of writing it to stderr, and open FILE again on "
                "SIGHUP, so that logrotate can move it away. Default: "
                "stderr (the journal under systemd).",
    },
    [O_SECURITY_LOG_MAX_BYTES] = {
        .name = "security-log-max-bytes", .metavar = "BYTES",
        .kind = K_SIZE, .min = 64 * KIB, .max = GIB,
        FIELD(security_log_max_bytes), .def = "16M",
        .help = "Size at which DATA_DIR/security.log is rotated: renamed "
                "security.log.1 (the older ones shift to .2, .3, ...) "
                "before a line would take it past BYTES. With "
                "--security-log-keep, this bounds the disk the security "
                "log takes to (keep + 1) x BYTES.",
    },
    [O_SECURITY_LOG_KEEP] = {
        .name = "security-log-keep", .metavar = "N", .kind = K_NUM,
        .min = 0, .max = 100, FIELD(security_log_keep), .def = "4",
        .help = "Rotated security logs kept (security.log.1 is the newest); "
                "the oldest beyond N is deleted. 0 keeps none.",
    },
    [O_SECURITY_LOG_RATE] = {
        .name = "security-log-rate", .metavar = "N", .kind = K_NUM,
        .min = 1, .max = 1000000, FIELD(security_log_rate), .def = "30",
        .help = "Lines per minute that one client address may add to the "
                "security log (each 401, 429 and 403 is a line); the events "
                "past it are counted in /metrics "
                "(provcat_security_log_suppressed_total) and summed up in "
                "one log_suppressed line when the minute is over.",
    },
    [O_HOLIDAYS] = {
        .name = "holidays", .metavar = "FILE", .kind = K_PATH,
        FIELD(holidays),
        .help = "Working-day calendars for genesis, a JSON object by "
                "year: {\"2027\": {\"holidays\": [\"2027-01-01\"], "
                "\"workdays\": [\"2027-02-07\"]}} (days off; weekend "
                "days worked). Checked at start (exit 2 if bad); the node "
                "that proposes genesis carries it, so give every founder "
                "the same file. Later: PUT /v1/calendar/{year}.",
    },
    [O_RESTORE] = {
        .name = "restore", .metavar = "FILE", .kind = K_PATH,
        FIELD(restore),
        .help = "Backup file written by GET /v1/backup: on an empty data "
                "dir, verify it and restore it as a new one-voter cluster, "
                "then start (as provcat-node restore does offline; see "
                "provcat-node restore --help). On a data dir restored from "
                "FILE before, or once FILE is gone, start on the data dir as "
                "it is; any other data dir is refused.",
    },
    [O_REDACTIONS] = {
        .name = "redactions", .metavar = "FILE", .kind = K_PATH,
        FIELD(redactions),
        .help = "With --restore: the pages of GET /v1/redactions from the "
                "live cluster, one JSON object per line; their documents "
                "are dropped from the backup before it is restored "
                "(a backup older than a redaction still holds its "
                "document).",
    },
    [O_CONFIG] = {
        .name = "config", .metavar = "FILE", .kind = K_PATH,
        .flags = F_NO_FILE, FIELD(config),
        .help = "Read settings from FILE (see CONFIGURATION FILE); the "
                "environment and the command line override them.",
    },
    [O_HELP] = {
        .name = "help", .kind = K_SWITCH, .flags = F_NO_FILE, FIELD(help),
        .help = "Print this manual and exit 0. Also -h.",
    },
    [O_VERSION] = {
        .name = "version", .kind = K_SWITCH, .flags = F_NO_FILE,
        FIELD(version),
        .help = "Print the version and exit 0.",
    },
};

static const char *const state_names[] = {
    [CFG_CLUSTER_EXISTING] = "existing",
    [CFG_CLUSTER_NEW] = "new",
};

static const char *const level_names[] = {
    [CFG_LOG_ERROR] = "error",
    [CFG_LOG_WARN] = "warn",
    [CFG_LOG_INFO] = "info",
    [CFG_LOG_DEBUG] = "debug",
};

static const char *const format_names[] = {
    [CFG_LOG_TEXT] = "text",
    [CFG_LOG_JSON] = "json",
};

/* Parsing state; `t` becomes the caller's struct cfg only on success. */
struct parse {
    struct cfg t;
    bool set[N_OPTS];           /* given by a source, not by default */
    const char *argval[N_OPTS]; /* values from the command line */
    unsigned file_line[N_OPTS]; /* line that set the key in the file */
    const char *config_where;   /* "--config" or "PROVCAT_CONFIG" */
    char msg[PC_ERRMSG_SIZE];
};

const char *
cfg_log_format_name(enum cfg_log_format format)
{
    if ((unsigned)format >= sizeof(format_names) / sizeof(format_names[0])) {
        return "?";
    }
    return format_names[format];
}

const char *
cfg_log_level_name(enum cfg_log_level level)
{
    if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0])) {
        return "?";
    }
    return level_names[level];
}

/*
 * Copy `v` for quoting in a message: cut at SHOW_MAX bytes and with control
 * bytes replaced, so a message is always one line.
 */
static const char *
show(char buf[SHOW_MAX + 4], const char *v)
{
    size_t i;

    for (i = 0; v[i] != '\0' && i < SHOW_MAX; i++) {
        buf[i] = iscntrl((unsigned char)v[i]) ? '?' : v[i];
    }
    if (v[i] != '\0') {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

static void
env_name(char out[64], const char *name)
{
    size_t n = strlen("PROVCAT_");

    memcpy(out, "PROVCAT_", n);
    for (const char *p = name; *p != '\0' && n < 63; p++) {
        out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    }
    out[n] = '\0';
}

/* The first "NAME=value" of `envp` with a non-empty value, or NULL. */
static const char *
env_get(char **envp, const char *name)
{
    size_t n = strlen(name);

    if (envp == NULL) {
        return NULL;
    }
    for (char **e = envp; *e != NULL; e++) {
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') {
            return (*e)[n + 1] == '\0' ? NULL : *e + n + 1;
        }
    }
    return NULL;
}

static const struct opt *
find_opt(const char *name, size_t len)
{
    for (int i = 0; i < N_OPTS; i++) {
        if (strlen(opts[i].name) == len &&
            memcmp(opts[i].name, name, len) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

/* Outcome of reading digits: fine, not digits, negative, too large. */
enum num_rc {
    NUM_OK,
    NUM_JUNK,
    NUM_NEGATIVE,
    NUM_OVERFLOW
};

/*
 * Read a decimal number at `s` into `*out`, leaving `*end` after the digits.
 * Signs, spaces and other bases are junk; a '-' before digits is reported
 * as negative so the message can say so.
 */
static enum num_rc
read_digits(const char *s, uint64_t *out, const char **end)
{
    uint64_t v = 0;
    const char *p = s;

    if (*p == '-' && isdigit((unsigned char)p[1])) {
        return NUM_NEGATIVE;
    }
    if (!isdigit((unsigned char)*p)) {
        return NUM_JUNK;
    }
    for (; isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return NUM_OVERFLOW;
        }
        v = v * 10 + d;
    }
    *out = v;
    *end = p;
    return NUM_OK;
}

/* `v` as a size for messages: "64M" when exact, else bytes. */
static void
fmt_size(char out[32], uint64_t v)
{
    if (v != 0 && v % GIB == 0) {
        snprintf(out, 32, "%lluG", (unsigned long long)(v / GIB));
    } else if (v != 0 && v % MIB == 0) {
        snprintf(out, 32, "%lluM", (unsigned long long)(v / MIB));
    } else if (v != 0 && v % KIB == 0) {
        snprintf(out, 32, "%lluK", (unsigned long long)(v / KIB));
    } else {
        snprintf(out, 32, "%llu", (unsigned long long)v);
    }
}

static int
set_number(struct parse *p, const struct opt *o, const char *val,
           const char *where)
{
    char shown[SHOW_MAX + 4], lo[32], hi[32];
    const char *end = val;
    uint64_t v = 0, mult = 1;
    enum num_rc nrc = read_digits(val, &v, &end);

    if (o->kind == K_SIZE) {
        fmt_size(lo, o->min);
        fmt_size(hi, o->max);
    } else {
        snprintf(lo, sizeof(lo), "%llu", (unsigned long long)o->min);
        snprintf(hi, sizeof(hi), "%llu", (unsigned long long)o->max);
    }
    if (nrc == NUM_OK && o->kind == K_SIZE && *end != '\0' && end[1] == '\0') {
        switch (*end) {
        case 'K':
        case 'k':
            mult = KIB;
            end++;
            break;
        case 'M':
        case 'm':
            mult = MIB;
            end++;
            break;
        case 'G':
        case 'g':
            mult = GIB;
            end++;
            break;
        default:
            break;
        }
    }
    if (nrc == NUM_JUNK || (nrc == NUM_OK && *end != '\0')) {
        if (o->kind == K_SIZE) {
            return pc_errmsgf(p->msg, PC_EINVAL,
                              "%s: \"%s\" is not a size (a number "
                              "with an optional K, M or G suffix)",
                              where, show(shown, val));
        }
        return pc_errmsgf(p->msg, PC_EINVAL, "%s: \"%s\" is not a number",
                          where, show(shown, val));
    }
    if (nrc == NUM_NEGATIVE) {
        return pc_errmsgf(p->msg, PC_EINVAL,
                          "%s: \"%s\" is negative (expected %s..%s)", where,
                          show(shown, val), lo, hi);
    }
    if (nrc == NUM_OVERFLOW || v > UINT64_MAX / mult || v * mult > o->max) {
        return pc_errmsgf(p->msg, PC_EINVAL,
                          "%s: \"%s\" is too large (expected %s..%s)", where,
                          show(shown, val), lo, hi);
    }
    v *= mult;
    if (v < o->min) {
        return pc_errmsgf(p->msg, PC_EINVAL,
                          "%s: \"%s\" is too small (expected %s..%s)", where,
                          show(shown, val), lo, hi);
    }
    if (o->size == sizeof(uint32_t)) {
        uint32_t v32 = (uint32_t)v;
        memcpy((char *)&p->t + o->off, &v32, sizeof(v32));
    } else {
        assert(o->size == sizeof(uint64_t));
        memcpy((char *)&p->t + o->off, &v, sizeof(v));
    }
    return PC_OK;
}

/* Is s[0..len) a dotted-decimal IPv4 literal without leading zeros? */
static bool
is_ipv4(const char *s, size_t len)
{
    const char *p = s, *end;
    uint64_t v;

    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (p >= s + len || *p != '.') {
                return false;
            }
            p++;
        }
        /* A leading zero reads as octal to inet_aton: refuse it. */
        if (p >= s + len || (*p == '0' && isdigit((unsigned char)p[1]))) {
            return false;
        }
        if (read_digits(p, &v, &end) != NUM_OK || end > s + len ||
            end - p > 3 || v > 255) {
            return false;
        }
        p = end;
    }
    return p == s + len;
}

/* A port 1..65535 that is all of `s`, without leading zeros. */
static bool
read_port(const char *s, uint16_t *port)
{
    const char *end;
    uint64_t v;

    if (*s == '0' || read_digits(s, &v, &end) != NUM_OK || *end != '\0' ||
        v < 1 || v > 65535) {
        return false;
    }
    *port = (uint16_t)v;
    return true;
}

static bool is_dns_name(const char *s, size_t len);

/*
 * Parse an IPv4 "a.b.c.d:port", or with `names` also "name:port" (a DNS
 * name, 63 bytes in all at most). Returns PC_OK or PC_EINVAL with `*why`
 * completing the sentence `"<s>" ...`.
 */
static int
hostport(const char *s, char host[CFG_HOST_SIZE], uint16_t *port,
         const char **why, bool names)
{
    const char *colon = strchr(s, ':');
    bool dotted = true;
    size_t hlen;

    if (colon == NULL) {
        *why = names ? "has no port (expected host:port)"
                     : "has no port (expected a.b.c.d:port)";
        return PC_EINVAL;
    }
    hlen = (size_t)(colon - s);
    for (size_t i = 0; i < hlen; i++) {
        dotted &= isdigit((unsigned char)s[i]) || s[i] == '.';
    }
    if (names && !dotted) {
        /* All digits and dots cannot be a DNS name: an address then. */
        if (strlen(s) >= CFG_ADDR_SIZE || !is_dns_name(s, hlen)) {
            *why = "has a bad host (expected an IPv4 address or a DNS "
                   "name, host:port in 63 bytes at most)";
            return PC_EINVAL;
        }
    } else if (!is_ipv4(s, hlen)) {
        for (const char *q = s; q < colon; q++) {
            if (isalpha((unsigned char)*q)) {
                *why = "is not an IPv4 address:port (hostnames are not "
                       "supported)";
                return PC_EINVAL;
            }
        }
        *why = "is not an IPv4 address:port (expected a.b.c.d:port)";
        return PC_EINVAL;
    }
    if (!read_port(colon + 1, port)) {
        *why = "has a bad port (expected 1..65535)";
        return PC_EINVAL;
    }
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    return PC_OK;
}

int
cfg_parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
    char h[CFG_HOST_SIZE];
    const char *why;
    uint16_t pt;

    if (s == NULL || host == NULL || port == NULL ||
        hostport(s, h, &pt, &why, false) != PC_OK || strlen(h) >= hostlen) {
        return PC_EINVAL;
    }
    memcpy(host, h, strlen(h) + 1);
    *port = pt;
    return PC_OK;
}

int
cfg_check_peer(const char *s, char *errmsg)
{
    char shown[SHOW_MAX + 4], host[CFG_HOST_SIZE];
    const char *why;
    uint16_t port;

    if (hostport(s, host, &port, &why, true) != PC_OK) {
        return pc_errmsgf(errmsg, PC_EINVAL, "\"%s\" %s", show(shown, s), why);
    }
    if (strcmp(host, "0.0.0.0") == 0) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "\"%s\" is not an address other nodes can reach",
                          show(shown, s));
    }
    return PC_OK;
}

/* A DNS name: dot-separated labels of letters, digits and inner hyphens. */
static bool
is_dns_name(const char *s, size_t len)
{
    size_t label = 0;

    if (len == 0 || len > 253) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '.') {
            if (label == 0 || s[i - 1] == '-') {
                return false;
            }
            label = 0;
        } else if (isalnum((unsigned char)ch) || ch == '-') {
            if ((label == 0 && ch == '-') || ++label > 63) {
                return false;
            }
        } else {
            return false;
        }
    }
    return label > 0 && s[len - 1] != '-';
}

int
cfg_check_client_url(const char *url, char *errmsg)
{
    char shown[SHOW_MAX + 4];
    const char *host, *colon;
    bool dotted = true;
    uint16_t port;
    size_t hlen;

    if (strncmp(url, "http://", 7) == 0) {
        host = url + 7;
    } else if (strncmp(url, "https://", 8) == 0) {
        host = url + 8;
    } else {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "\"%s\" does not start with http:// or https:// "
                          "(expected http://HOST:PORT)",
                          show(shown, url));
    }
    colon = strchr(host, ':');
    if (strpbrk(host, "/?#") != NULL) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "\"%s\" has a path (nothing may follow the port)",
                          show(shown, url));
    }
    if (colon == NULL) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "\"%s\" has no port (expected http://HOST:PORT)",
                          show(shown, url));
    }
    hlen = (size_t)(colon - host);
    for (size_t i = 0; i < hlen; i++) {
        if (!isdigit((unsigned char)host[i]) && host[i] != '.') {
            dotted = false;
        }
    }
    /* All digits and dots cannot be a DNS name: it must be an address. */
    if (dotted ? !is_ipv4(host, hlen) : !is_dns_name(host, hlen)) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "\"%s\" has a bad host (expected an IPv4 address "
                          "or a DNS name)",
                          show(shown, url));
    }
    if (dotted && hlen == strlen("0.0.0.0") &&
        memcmp(host, "0.0.0.0", hlen) == 0) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "\"%s\" is not an address clients can reach",
                          show(shown, url));
    }
    if (!read_port(colon + 1, &port)) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "\"%s\" has a bad port (expected 1..65535)",
                          show(shown, url));
    }
    return PC_OK;
}

int
cfg_parse_cluster(const char *s, struct cfg_member **members, size_t *n_members,
                  char *errmsg)
{
    char shown[SHOW_MAX + 4], item[SHOW_MAX + 4];
    struct cfg_member *m;
    size_t n = 1, i = 0;
    const char *p;

    for (p = s; *p != '\0'; p++) {
        n += *p == ',';
    }
    if (*s == '\0') {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "empty list (expected ID=HOST:PORT,...)");
    }
    m = pc_calloc(n, sizeof(*m));
    if (m == NULL) {
        return pc_errmsgf(errmsg, PC_ENOMEM, "out of memory");
    }
    for (p = s; i < n; i++) {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        const char *end;
        uint64_t id;
        size_t alen;

        /* One byte past SHOW_MAX makes show() mark the cut with "...". */
        snprintf(item, sizeof(item), "%.*s",
                 (int)(len <= SHOW_MAX ? len : SHOW_MAX + 1), p);
        if (len == 0) {
            pc_errmsgf(errmsg, PC_EINVAL, "entry %zu is empty", i + 1);
            goto err;
        }
        if (eq == NULL) {
            pc_errmsgf(errmsg, PC_EINVAL, "\"%s\" is not ID=HOST:PORT",
                       show(shown, item));
            goto err;
        }
        if (read_digits(p, &id, &end) != NUM_OK || end != eq || id < 1 ||
            id > CFG_ID_MAX) {
            pc_errmsgf(errmsg, PC_EINVAL,
                       "\"%s\" has a bad id (expected 1..%u)",
                       show(shown, item), CFG_ID_MAX);
            goto err;
        }
        alen = len - (size_t)(eq + 1 - p);
        if (alen >= CFG_ADDR_SIZE) {
            pc_errmsgf(errmsg, PC_EINVAL, "\"%s\" is not ID=HOST:PORT",
                       show(shown, item));
            goto err;
        }
        memcpy(m[i].addr, eq + 1, alen);
        m[i].addr[alen] = '\0';
        m[i].id = (uint32_t)id;
        if (cfg_check_peer(m[i].addr, errmsg) != PC_OK) {
            goto err;
        }
        for (size_t j = 0; j < i; j++) {
            if (m[j].id == m[i].id) {
                pc_errmsgf(errmsg, PC_EINVAL, "duplicate id %u", m[i].id);
                goto err;
            }
            if (strcmp(m[j].addr, m[i].addr) == 0) {
                pc_errmsgf(errmsg, PC_EINVAL,
                           "duplicate address %s (ids %u and %u)", m[i].addr,
                           m[j].id, m[i].id);
                goto err;
            }
        }
        p += len + (p[len] == ',');
    }
    *members = m;
    *n_members = n;
    return PC_OK;

err:
    pc_free(m);
    return PC_EINVAL;
}

static int
set_string(struct parse *p, const struct opt *o, const char *val)
{
    char **field = (char **)((char *)&p->t + o->off);
    char *copy = pc_strdup(val);

    if (copy == NULL) {
        return pc_errmsgf(p->msg, PC_ENOMEM, "out of memory");
    }
    pc_free(*field);
    *field = copy;
    return PC_OK;
}

static int
set_choice(struct parse *p, const struct opt *o, const char *val,
           const char *where)
{
    const char *const *names = o->kind == K_STATE    ? state_names
                               : o->kind == K_FORMAT ? format_names
                                                     : level_names;
    size_t n = o->kind == K_STATE || o->kind == K_FORMAT ? 2 : 4;
    char shown[SHOW_MAX + 4];

    for (size_t i = 0; i < n; i++) {
        if (strcmp(val, names[i]) == 0) {
            int v = (int)i;
            memcpy((char *)&p->t + o->off, &v, sizeof(v));
            return PC_OK;
        }
    }
    if (o->kind == K_STATE) {
        return pc_errmsgf(p->msg, PC_EINVAL,
                          "%s: \"%s\" is not new or existing", where,
                          show(shown, val));
    }
    if (o->kind == K_FORMAT) {
        return pc_errmsgf(p->msg, PC_EINVAL, "%s: \"%s\" is not text or json",
                          where, show(shown, val));
    }
    return pc_errmsgf(p->msg, PC_EINVAL,
                      "%s: \"%s\" is not error, warn, info or debug", where,
                      show(shown, val));
}

static int
set_bool(struct parse *p, const struct opt *o, const char *val,
         const char *where)
{
    char shown[SHOW_MAX + 4];
    bool v = strcmp(val, "true") == 0;

    if (!v && strcmp(val, "false") != 0) {
        return pc_errmsgf(p->msg, PC_EINVAL, "%s: \"%s\" is not true or false",
                          where, show(shown, val));
    }
    memcpy((char *)&p->t + o->off, &v, sizeof(v));
    return PC_OK;
}

/* Validate `val` for `o` and store it in p->t; `where` names the source. */
static int
set_value(struct parse *p, const struct opt *o, const char *val,
          const char *where)
{
    char why[PC_ERRMSG_SIZE];
    struct cfg_member *m;
    size_t n;
    int rc;

    if (o->kind != K_NUM && o->kind != K_SIZE && val[0] == '\0') {
        return pc_errmsgf(p->msg, PC_EINVAL, "%s: empty value", where);
    }
    switch (o->kind) {
    case K_NUM:
    case K_SIZE:
        return set_number(p, o, val, where);
    case K_PATH:
        return set_string(p, o, val);
    case K_ADDR:
        if (o == &opts[O_PEER]) {
            rc = cfg_check_peer(val, why);
        } else {
            char host[CFG_HOST_SIZE], shown[SHOW_MAX + 4];
            const char *reason;
            uint16_t port;
            rc = hostport(val, host, &port, &reason, false);
            if (rc != PC_OK) {
                snprintf(why, sizeof(why), "\"%s\" %s", show(shown, val),
                         reason);
            }
        }
        if (rc != PC_OK) {
            return pc_errmsgf(p->msg, rc, "%s: %s", where, why);
        }
        return set_string(p, o, val);
    case K_URL:
        rc = cfg_check_client_url(val, why);
        if (rc != PC_OK) {
            return pc_errmsgf(p->msg, rc, "%s: %s", where, why);
        }
        return set_string(p, o, val);
    case K_CLUSTER:
        rc = cfg_parse_cluster(val, &m, &n, why);
        if (rc == PC_ENOMEM) {
            return pc_errmsgf(p->msg, rc, "out of memory");
        }
        if (rc != PC_OK) {
            return pc_errmsgf(p->msg, rc, "%s: %s", where, why);
        }
        pc_free(p->t.cluster);
        p->t.cluster = m;
        p->t.n_cluster = n;
        return PC_OK;
    case K_CIDRS: {
        struct http_cidr *nets;

        rc = http_cidr_list_parse(val, &nets, &n, why);
        if (rc == PC_ENOMEM) {
            return pc_errmsgf(p->msg, rc, "out of memory");
        }
        if (rc != PC_OK) {
            return pc_errmsgf(p->msg, rc, "%s: %s", where, why);
        }
        rc = set_string(p, o, val);
        if (rc != PC_OK) {
            pc_free(nets);
            return rc;
        }
        pc_free(p->t.trusted);
        p->t.trusted = nets;
        p->t.n_trusted = n;
        return PC_OK;
    }
    case K_STATE:
    case K_LEVEL:
    case K_FORMAT:
        return set_choice(p, o, val, where);
    case K_BOOL:
        return set_bool(p, o, val, where);
    case K_SWITCH:
        break;
    }
    assert(!"unreachable option kind");
    return PC_EINVAL;
}

static void
apply_defaults(struct parse *p)
{
    for (int i = 0; i < N_OPTS; i++) {
        if (opts[i].def != NULL) {
            /* Our own constants: they cannot fail or allocate. */
            int rc = set_value(p, &opts[i], opts[i].def, "default");
            assert(rc == PC_OK);
            (void)rc;
        }
    }
}

/* Record an error in p->msg unless an earlier one is there. */
#define FIRST_ERROR(p, rc, ...)                                  \
    do {                                                         \
        if ((rc) == PC_OK) {                                     \
            (rc) = pc_errmsgf((p)->msg, PC_EINVAL, __VA_ARGS__); \
        }                                                        \
    } while (0)

/*
 * Split the command line into p->argval. --help and --version win over any
 * error, so the first error is kept and reported only after the whole line
 * is read.
 */
static int
scan_argv(struct parse *p, int argc, char **argv)
{
    char shown[SHOW_MAX + 4];
    int rc = PC_OK;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *name, *eq, *val;
        const struct opt *o;
        size_t len;

        if (strcmp(a, "-h") == 0) {
            p->t.help = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            FIRST_ERROR(p, rc, "unexpected argument \"%s\" (see --help)",
                        show(shown, a));
            continue;
        }
        name = a + 2;
        eq = strchr(name, '=');
        len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        o = find_opt(name, len);
        if (o == NULL) {
            char flag[SHOW_MAX + 1];

            snprintf(flag, sizeof(flag), "%.*s",
                     (int)(len < SHOW_MAX ? len : SHOW_MAX), name);
            FIRST_ERROR(p, rc, "unknown flag \"--%s\" (see --help)",
                        show(shown, flag));
            continue;
        }
        if (o->kind == K_SWITCH) {
            if (eq != NULL) {
                FIRST_ERROR(p, rc, "--%s takes no value", o->name);
            } else if (o == &opts[O_HELP]) {
                p->t.help = true;
            } else {
                p->t.version = true;
            }
            continue;
        }
        if (eq != NULL) {
            val = eq + 1;
        } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
            val = argv[++i];
        } else {
            FIRST_ERROR(p, rc, "--%s needs a value", o->name);
            continue;
        }
        if (p->argval[o - opts] != NULL) {
            FIRST_ERROR(p, rc, "--%s given twice", o->name);
            continue;
        }
        p->argval[o - opts] = val;
    }
    return rc;
}

/* Read all of `path` into a NUL-terminated pc_malloc buffer. */
static int
slurp(struct parse *p, const char *path, char **text, size_t *len)
{
    char shown[SHOW_MAX + 4];
    size_t cap = 4096, n = 0;
    FILE *f;
    char *buf;
    int err;

    f = fopen(path, "re");
    if (f == NULL) {
        err = errno;
        pc_errmsg_sys(p->msg, err, "%s: cannot read '%s'", p->config_where,
                      show(shown, path));
        return err == ENOMEM ? PC_ENOMEM : PC_EINVAL;
    }
    buf = pc_malloc(cap);
    if (buf == NULL) {
        fclose(f);
        return pc_errmsgf(p->msg, PC_ENOMEM, "out of memory");
    }
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n > CFG_FILE_MAX) {
            pc_errmsgf(p->msg, PC_EINVAL, "%s: '%s' is larger than 1 MiB",
                       p->config_where, show(shown, path));
            goto err;
        }
        if (got == 0) {
            break;
        }
        if (n == cap - 1) {
            char *bigger = pc_realloc(buf, cap * 2);
            if (bigger == NULL) {
                pc_errmsgf(p->msg, PC_ENOMEM, "out of memory");
                fclose(f);
                pc_free(buf);
                return PC_ENOMEM;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    if (ferror(f)) {
        pc_errmsg_sys(p->msg, errno, "%s: cannot read '%s'", p->config_where,
                      show(shown, path));
        goto err;
    }
    fclose(f);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return PC_OK;

err:
    fclose(f);
    pc_free(buf);
    return PC_EINVAL;
}

static char *
trim(char *s, char *end)
{
    while (s < end && (*s == ' ' || *s == '\t')) {
        s++;
    }
    while (end > s && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    *end = '\0';
    return s;
}

/* Apply one "key = value" line of the file `path`. */
static int
apply_line(struct parse *p, const char *path, unsigned line, char *s, char *end)
{
    char where[PC_ERRMSG_SIZE], shown[SHOW_MAX + 4];
    const struct opt *o;
    char *eq, *key, *val;

    s = trim(s, end);
    if (*s == '\0' || *s == '#') {
        return PC_OK;
    }
    eq = strchr(s, '=');
    if (eq == NULL) {
        return pc_errmsgf(p->msg, PC_EINVAL, "%s:%u: expected \"key = value\"",
                          path, line);
    }
    val = trim(eq + 1, eq + 1 + strlen(eq + 1));
    key = trim(s, eq);
    o = find_opt(key, strlen(key));
    if (o == NULL) {
        char dashed[SHOW_MAX + 4];
        show(dashed, key);
        for (char *q = dashed; *q != '\0'; q++) {
            *q = *q == '_' ? '-' : *q;
        }
        if (find_opt(dashed, strlen(dashed)) != NULL) {
            return pc_errmsgf(p->msg, PC_EINVAL,
                              "%s:%u: unknown key \"%s\" (did you "
                              "mean \"%s\"?)",
                              path, line, show(shown, key), dashed);
        }
        return pc_errmsgf(p->msg, PC_EINVAL, "%s:%u: unknown key \"%s\"", path,
                          line, show(shown, key));
    }
    if (o->flags & F_NO_FILE) {
        return pc_errmsgf(p->msg, PC_EINVAL,
                          "%s:%u: \"%s\" cannot be set in a config "
                          "file",
                          path, line, o->name);
    }
    if (p->file_line[o - opts] != 0) {
        return pc_errmsgf(p->msg, PC_EINVAL,
                          "%s:%u: \"%s\" already set on line %u", path, line,
                          o->name, p->file_line[o - opts]);
    }
    p->file_line[o - opts] = line;
    p->set[o - opts] = true;
    snprintf(where, sizeof(where), "%s:%u: %s", path, line, o->name);
    return set_value(p, o, val, where);
}

static int
read_config(struct parse *p, char **envp)
{
    const char *path = p->argval[O_CONFIG];
    size_t len = 0;
    char *text = NULL, *s, *nl;
    unsigned line = 0;
    int rc;

    p->config_where = "--config";
    if (path == NULL) {
        path = env_get(envp, "PROVCAT_CONFIG");
        p->config_where = "PROVCAT_CONFIG";
    }
    if (path == NULL) {
        return PC_OK;
    }
    rc = set_value(p, &opts[O_CONFIG], path, p->config_where);
    if (rc != PC_OK) {
        return rc;
    }
    p->set[O_CONFIG] = true;
    rc = slurp(p, p->t.config, &text, &len);
    if (rc != PC_OK) {
        return rc;
    }
    for (s = text; rc == PC_OK && s < text + len; s = nl + 1) {
        line++;
        nl = memchr(s, '\n', (size_t)(text + len - s));
        if (nl == NULL) {
            nl = text + len;
        }
        if (memchr(s, '\0', (size_t)(nl - s)) != NULL) {
            rc = pc_errmsgf(p->msg, PC_EINVAL, "%s:%u: contains a NUL byte",
                            p->t.config, line);
            break;
        }
        rc = apply_line(p, p->t.config, line, s,
                        nl > s && nl[-1] == '\r' ? nl - 1 : nl);
    }
    pc_free(text);
    return rc;
}

static int
apply_env(struct parse *p, char **envp)
{
    char name[64];

    for (int i = 0; i < N_OPTS; i++) {
        const char *val;
        int rc;

        if (opts[i].kind == K_SWITCH || i == O_CONFIG) {
            continue;
        }
        env_name(name, opts[i].name);
        val = env_get(envp, name);
        if (val == NULL) {
            continue;
        }
        p->set[i] = true;
        rc = set_value(p, &opts[i], val, name);
        if (rc != PC_OK) {
            return rc;
        }
    }
    return PC_OK;
}

static int
apply_argv(struct parse *p)
{
    char where[64];

    for (int i = 0; i < N_OPTS; i++) {
        int rc;

        if (p->argval[i] == NULL || i == O_CONFIG) {
            continue;
        }
        p->set[i] = true;
        snprintf(where, sizeof(where), "--%s", opts[i].name);
        rc = set_value(p, &opts[i], p->argval[i], where);
        if (rc != PC_OK) {
            return rc;
        }
    }
    return PC_OK;
}

/* Rules that involve more than one flag, on the merged configuration. */
static int
check_whole(struct parse *p)
{
    struct cfg *t = &p->t;
    const struct cfg_member *self = NULL;
    const char *why;
    int rc;

    for (int i = 0; i < N_OPTS; i++) {
        if ((opts[i].flags & F_REQUIRED) && !p->set[i]) {
            return pc_errmsgf(p->msg, PC_EINVAL, "--%s is required",
                              opts[i].name);
        }
    }
    rc = hostport(t->peer, t->peer_host, &t->peer_port, &why, true);
    assert(rc == PC_OK); /* validated when it was set */
    rc = cfg_parse_hostport(t->client, t->client_host, sizeof(t->client_host),
                            &t->client_port);
    assert(rc == PC_OK);
    (void)rc;
    if (t->redactions != NULL && t->restore == NULL) {
        return pc_errmsgf(p->msg, PC_EINVAL,
                          "--redactions is read only with --restore");
    }
    if (t->heartbeat_timeout_ms >= t->election_timeout_ms) {
        return pc_errmsgf(p->msg, PC_EINVAL,
                          "--heartbeat-timeout-ms (%u) must be below "
                          "--election-timeout-ms (%u)",
                          t->heartbeat_timeout_ms, t->election_timeout_ms);
    }
    if (t->peer_port == t->client_port &&
        (strcmp(t->peer_host, t->client_host) == 0 ||
         strcmp(t->client_host, "0.0.0.0") == 0)) {
        return pc_errmsgf(p->msg, PC_EINVAL,
                          "--client (%s) and --peer (%s) use the same "
                          "port",
                          t->client, t->peer);
    }
    for (size_t i = 0; i < t->n_cluster; i++) {
        const struct cfg_member *m = &t->cluster[i];
        if (m->id == t->id) {
            self = m;
            if (strcmp(m->addr, t->peer) != 0) {
                return pc_errmsgf(p->msg, PC_EINVAL,
                                  "--peer (%s) must equal this node's "
                                  "--cluster entry %u=%s",
                                  t->peer, m->id, m->addr);
            }
        } else if (strcmp(m->addr, t->peer) == 0) {
            return pc_errmsgf(p->msg, PC_EINVAL,
                              "--peer (%s) is the address of node %u "
                              "in --cluster",
                              t->peer, m->id);
        }
    }
    if (t->initial_cluster_state == CFG_CLUSTER_NEW) {
        if (t->cluster == NULL) {
            return pc_errmsgf(p->msg, PC_EINVAL,
                              "--initial-cluster-state new needs "
                              "--cluster");
        }
        if (self == NULL) {
            return pc_errmsgf(p->msg, PC_EINVAL,
                              "--initial-cluster-state new needs this "
                              "node (--id %u) in --cluster",
                              t->id);
        }
    }
    if (t->advertise_client_url == NULL) {
        size_t n = strlen("http://") + strlen(t->client) + 1;
        if (strcmp(t->client_host, "0.0.0.0") == 0) {
            return pc_errmsgf(p->msg, PC_EINVAL,
                              "--advertise-client-url is required "
                              "when --client binds 0.0.0.0");
        }
        t->advertise_client_url = pc_malloc(n);
        if (t->advertise_client_url == NULL) {
            return pc_errmsgf(p->msg, PC_ENOMEM, "out of memory");
        }
        snprintf(t->advertise_client_url, n, "http://%s", t->client);
    }
    return PC_OK;
}

int
cfg_parse(struct cfg *c, int argc, char **argv, char **envp, char *errmsg)
{
    struct parse *p;
    int rc;

    p = pc_calloc(1, sizeof(*p));
    if (p == NULL) {
        return pc_errmsgf(errmsg, PC_ENOMEM, "out of memory");
    }
    apply_defaults(p);
    rc = scan_argv(p, argc, argv);
    if (p->t.help || p->t.version) {
        /* Nothing was allocated yet: defaults own no memory. */
        *c = p->t;
        pc_free(p);
        return PC_OK;
    }
    if (rc == PC_OK) {
        rc = read_config(p, envp);
    }
    if (rc == PC_OK) {
        rc = apply_env(p, envp);
    }
    if (rc == PC_OK) {
        rc = apply_argv(p);
    }
    if (rc == PC_OK) {
        rc = check_whole(p);
    }
    if (rc != PC_OK) {
        if (errmsg != NULL) {
            memcpy(errmsg, p->msg, PC_ERRMSG_SIZE);
        }
        cfg_release(&p->t);
        pc_free(p);
        return rc;
    }
    *c = p->t;
    pc_free(p);
    return PC_OK;
}

void
cfg_release(struct cfg *c)
{
    if (c == NULL) {
        return;
    }
    pc_free(c->data_dir);
    pc_free(c->peer);
    pc_free(c->client);
    pc_free(c->advertise_client_url);
    pc_free(c->cluster);
    pc_free(c->trusted_proxy);
    pc_free(c->trusted);
    pc_free(c->admin_token_file);
    pc_free(c->log_file);
    pc_free(c->holidays);
    pc_free(c->restore);
    pc_free(c->redactions);
    pc_free(c->config);
    memset(c, 0, sizeof(*c));
}

void
cfg_describe(const struct cfg *c, FILE *out)
{
    for (int i = 0; i < N_OPTS; i++) {
        const struct opt *o = &opts[i];
        const char *field = (const char *)c + o->off;
        const char *s;
        uint64_t v;
        int e;

        switch (o->kind) {
        case K_NUM:
        case K_SIZE:
            if (o->size == sizeof(uint32_t)) {
                uint32_t v32;
                memcpy(&v32, field, sizeof(v32));
                v = v32;
            } else {
                memcpy(&v, field, sizeof(v));
            }
            fprintf(out, "%s = %llu\n", o->name, (unsigned long long)v);
            break;
        case K_PATH:
        case K_ADDR:
        case K_URL:
        case K_CIDRS:
            memcpy(&s, field, sizeof(s));
            if (o->flags & F_NO_FILE) {
                if (s != NULL) {
                    fprintf(out, "# read from %s\n", s);
                }
            } else if (s == NULL) {
                fprintf(out, "# %s: not set\n", o->name);
            } else {
                fprintf(out, "%s = %s\n", o->name, s);
            }
            break;
        case K_CLUSTER:
            if (c->n_cluster == 0) {
                fprintf(out, "# %s: not set\n", o->name);
                break;
            }
            fprintf(out, "%s = ", o->name);
            for (size_t j = 0; j < c->n_cluster; j++) {
                fprintf(out, "%s%u=%s", j > 0 ? "," : "", c->cluster[j].id,
                        c->cluster[j].addr);
            }
            fputc('\n', out);
            break;
        case K_STATE:
        case K_LEVEL:
        case K_FORMAT:
            memcpy(&e, field, sizeof(e));
            fprintf(out, "%s = %s\n", o->name,
                    o->kind == K_LEVEL
                        ? cfg_log_level_name((enum cfg_log_level)e)
                    : o->kind == K_FORMAT
                        ? cfg_log_format_name((enum cfg_log_format)e)
                    : e == CFG_CLUSTER_NEW ? "new"
                                           : "existing");
            break;
        case K_BOOL:
            fprintf(out, "%s = %s\n", o->name, *field ? "true" : "false");
            break;
        case K_SWITCH:
            break;
        }
    }
}

#define USAGE_WIDTH 79

/*
 * The exit statuses, as --help prints them (each line indented 4) and
 * docs/node.md ("Exit status") shows them; tests/integration/
 * test_startup.py checks that the two agree and that each failure it
 * provokes exits as the table says.
 */
static const char *const exit_status[] = {
    "0   A clean stop: SIGTERM or SIGINT (a leader hands leadership over",
    "    first), or --help, --version; or this member was removed from the",
    "    cluster (with --exit-when-removed, the default): an intended end,",
    "    so systemd does not restart it (Restart=on-failure).",
    "1   A runtime failure: something the node was configured to use could",
    "    not be used, or failed while it ran. The same start may succeed",
    "    later, so systemd restarts the unit (Restart=on-failure):",
    "    - the data dir cannot be created, opened or written, is not a",
    "      directory, or another process holds it (DATA_DIR/LOCK);",
    "    - --client or --peer cannot be listened on (in use, or not an",
    "      address of this machine);",
    "    - the data dir's files cannot be read or fail their checksums;",
    "    - --log-file or DATA_DIR/security.log cannot be opened;",
    "    - out of memory; a fatal error while running.",
    "2   A usage or configuration error: the same start fails the same way",
    "    until the configuration, or a file it names, is fixed, so systemd",
    "    does not restart the unit (RestartPreventExitStatus=2):",
    "    - an unknown flag, a bad or missing value, a bad --cluster, an",
    "      error in the --config file;",
    "    - --initial-cluster-state new without --admin-token-file;",
    "    - the admin token file cannot be read or created, is empty, is",
    "      not one line of 16 to 256 token characters, or any user can",
    "      read it;",
    "    - a bad --holidays file;",
    "    - --restore: the backup is missing or damaged, or the data dir is",
    "      not empty and was not restored from that backup;",
    "    - the data dir belongs to another cluster.",
    "A start that fails says why in one line on stderr: \"provcat-node: \"",
    "and the cause (with --log-file, in that file too). A node that fails",
    "later, or finds once it has read its log that the data dir belongs to",
    "another cluster, says why in its log.",
};

/* Print `text` as a paragraph wrapped at USAGE_WIDTH, indented `indent`. */
static void
wrap(FILE *out, int indent, const char *text)
{
    const char *p = text;
    int col = 0;

    for (;;) {
        int n;

        while (*p == ' ') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        n = (int)strcspn(p, " ");
        if (col > 0 && col + 1 + n > USAGE_WIDTH) {
            fputc('\n', out);
            col = 0;
        }
        if (col == 0) {
            col = fprintf(out, "%*s%.*s", indent, "", n, p);
        } else {
            col += fprintf(out, " %.*s", n, p);
        }
        p += n;
    }
    if (col > 0) {
        fputc('\n', out);
    }
}

static void
usage_options(FILE *out)
{
    char env[64], line[PC_ERRMSG_SIZE];

    for (int i = 0; i < N_OPTS; i++) {
        const struct opt *o = &opts[i];

        if (o->group != NULL) {
            fprintf(out, "\n  %s\n", o->group);
        }
        if (o->metavar != NULL) {
            fprintf(out, "\n    --%s %s\n", o->name, o->metavar);
        } else {
            fprintf(out, "\n    --%s\n", o->name);
        }
        wrap(out, 8, o->help);
        if (o->kind == K_SWITCH) {
            continue;
        }
        env_name(env, o->name);
        if (o->def != NULL) {
            snprintf(line, sizeof(line), "Default: %s. Environment: %s.",
                     o->def, env);
        } else {
            snprintf(line, sizeof(line), "Environment: %s.", env);
        }
        wrap(out, 8, line);
    }
}

void
cfg_usage(FILE *out)
{
    fputs("NAME\n"
          "    provcat-node - a node of a replicated provcat catalog store\n"
          "\n"
          "SYNOPSIS\n"
          "    provcat-node --id N --data-dir DIR --peer A.B.C.D:PORT\n"
          "                 --client A.B.C.D:PORT [OPTION]...\n"
          "    provcat-node --config FILE [OPTION]...\n"
          "    provcat-node --help | --version\n"
          "    provcat-node verify-backup FILE\n"
          "    provcat-node restore --backup FILE --data-dir DIR --id N\n"
          "                 --peer A.B.C.D:PORT\n"
          "\n"
          "DESCRIPTION\n",
          out);
    wrap(out, 4,
         "provcat-node runs one member of a provcat cluster. It serves the "
         "HTTP API on --client and replicates the ledger with the other "
         "members over raft on --peer; a write is acknowledged once a "
         "majority of voters hold it on disk. Followers redirect writes to "
         "the leader's advertised URL.");
    fputc('\n', out);
    wrap(out, 4,
         "verify-backup and restore are offline subcommands that need no "
         "cluster, each with its own manual (provcat-node restore --help): "
         "check a backup written by GET /v1/backup, and make a new node's "
         "data dir from one.");
    fputc('\n', out);
    wrap(out, 4,
         "Every flag can also be set in the environment as PROVCAT_<NAME>, "
         "the flag name in upper case with dashes as underscores "
         "(PROVCAT_DATA_DIR for --data-dir; an empty variable counts as "
         "unset), or in the file named by --config. The command line wins "
         "over the environment, which wins over the file, which wins over "
         "the default. A flag is given as --name VALUE or --name=VALUE, at "
         "most once. Numbers are decimal; sizes take a K, M or G suffix.");
    fputs("\nOPTIONS\n", out);
    usage_options(out);
    fputs("\nCONFIGURATION FILE\n", out);
    wrap(out, 4,
         "One setting per line as \"key = value\", the key being the flag "
         "name without its dashes (data-dir = /var/lib/provcat). Spaces "
         "around the key and the value are ignored, and the value is taken "
         "as it stands, without quotes. Blank lines and lines starting with "
         "# are ignored; a # later in a line is part of the value. An "
         "unknown or repeated key is an error naming the line. --config, "
         "--help and --version cannot appear in the file.");
    fputs("\nBOOTSTRAP AND JOIN\n", out);
    wrap(out, 4,
         "A new cluster is founded by starting each of its first members "
         "with the same --cluster list, --initial-cluster-state new and the "
         "same --admin-token-file. --initial-cluster-state new bootstraps "
         "only on an empty data dir: each founder writes the --cluster "
         "configuration, the first leader proposes genesis, and the cluster "
         "id from genesis is stored in the data dir.");
    fputc('\n', out);
    wrap(out, 4,
         "With existing (the default), a node on an empty data dir does not "
         "bootstrap: it waits until a member of the cluster adds it with "
         "POST /v1/members, then catches up and becomes a voter. A founder "
         "whose disk was wiped must never be restarted with new: it could "
         "vote twice in one term and lose committed writes. It rejoins "
         "through the membership API instead.");
    fputc('\n', out);
    wrap(out, 4,
         "Once the data dir holds a cluster, --cluster and "
         "--initial-cluster-state are ignored: the data dir rules. A node "
         "whose data dir belongs to another cluster id refuses to start.");
    fputs("\nEXIT STATUS\n", out);
    for (size_t i = 0; i < sizeof(exit_status) / sizeof(exit_status[0]); i++) {
        fprintf(out, "    %s\n", exit_status[i]);
    }
    fputs("\nSIGNALS\n", out);
    wrap(out, 4,
         "SIGTERM and SIGINT shut the node down cleanly; when it leads, it "
         "first hands leadership over to another voter. SIGHUP opens "
         "--log-file and DATA_DIR/security.log again (after logrotate moved "
         "them away) and changes nothing else: it never stops the node. "
         "SIGKILL at any moment loses no acknowledged write.");
    fputs("\nEXAMPLES\n", out);
    wrap(out, 4,
         "A three-node cluster on one machine, each node in its own "
         "terminal. All three name the same admin token file, which is "
         "created if it is missing:");
    fputs("\n"
          "        provcat-node --id 1 --data-dir /tmp/pc1 "
          "--peer 127.0.0.1:7001 \\\n"
          "            --client 127.0.0.1:8001 \\\n"
          "            --cluster 1=127.0.0.1:7001,2=127.0.0.1:7002,"
          "3=127.0.0.1:7003 \\\n"
          "            --initial-cluster-state new "
          "--admin-token-file /tmp/pc-admin-token\n"
          "        provcat-node --id 2 --data-dir /tmp/pc2 "
          "--peer 127.0.0.1:7002 \\\n"
          "            --client 127.0.0.1:8002 \\\n"
          "            --cluster 1=127.0.0.1:7001,2=127.0.0.1:7002,"
          "3=127.0.0.1:7003 \\\n"
          "            --initial-cluster-state new "
          "--admin-token-file /tmp/pc-admin-token\n"
          "        provcat-node --id 3 --data-dir /tmp/pc3 "
          "--peer 127.0.0.1:7003 \\\n"
          "            --client 127.0.0.1:8003 \\\n"
          "            --cluster 1=127.0.0.1:7001,2=127.0.0.1:7002,"
          "3=127.0.0.1:7003 \\\n"
          "            --initial-cluster-state new "
          "--admin-token-file /tmp/pc-admin-token\n"
          "\n",
          out);
    wrap(out, 4,
         "A fourth node joins later: start it without --cluster, then "
         "send POST /v1/members to the leader with the body shown:");
    fputs("\n"
          "        provcat-node --id 4 --data-dir /tmp/pc4 "
          "--peer 127.0.0.1:7004 \\\n"
          "            --client 127.0.0.1:8004\n"
          "        {\"id\": 4, \"address\": \"127.0.0.1:7004\",\n"
          "         \"client_url\": \"http://127.0.0.1:8004\"}\n"
          "\n",
          out);
    wrap(out, 4,
         "The same settings from a file and the environment, listening on "
         "every interface:");
    fputs("\n"
          "        $ cat /etc/provcat/node1.conf\n"
          "        # provcat-node settings\n"
          "        id = 1\n"
          "        data-dir = /var/lib/provcat\n"
          "        peer = 10.0.0.1:7001\n"
          "        client = 0.0.0.0:8001\n"
          "        advertise-client-url = http://10.0.0.1:8001\n"
          "        $ PROVCAT_LOG_LEVEL=debug provcat-node "
          "--config /etc/provcat/node1.conf\n",
          out);
}
