/* SPDX-License-Identifier: MIT */
/*
 * provcat-node's configuration: flags from the command line, PROVCAT_*
 * environment variables and a `key = value` file, merged with that
 * precedence over the defaults, then validated as a whole. A struct cfg that
 * cfg_parse() returned is complete and consistent; nothing else reads flags.
 */
#ifndef PC_NODE_CONFIG_H
#define PC_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "node/http/http.h"

/* Room for a raft address "host:port" (an IPv4 literal or a DNS name;
 * the API's members take 63 bytes at most) and its NUL, and so for its
 * host part. */
#define CFG_HOST_SIZE 64
#define CFG_ADDR_SIZE 64

/* The largest node id raft and the ledger accept (ids start at 1). */
#define CFG_ID_MAX 2147483647u

enum cfg_log_level {
    CFG_LOG_ERROR = 0,
    CFG_LOG_WARN,
    CFG_LOG_INFO,
    CFG_LOG_DEBUG,
};

enum cfg_log_format {
    CFG_LOG_TEXT = 0, /* "<time> node=<id> <level>: <message> key=value" */
    CFG_LOG_JSON,     /* one JSON object per line */
};

enum cfg_cluster_state {
    CFG_CLUSTER_EXISTING = 0, /* an empty data dir waits to be added */
    CFG_CLUSTER_NEW,          /* an empty data dir bootstraps --cluster */
};

/* One voter of the initial configuration given by --cluster. */
struct cfg_member {
    uint32_t id;              /* 1..CFG_ID_MAX */
    char addr[CFG_ADDR_SIZE]; /* raft address "host:port", as given */
};

/*
 * The effective configuration. Strings are NUL-terminated, owned by the
 * struct and freed by cfg_release(); an optional string that was not given
 * is NULL. Addresses are canonical (no leading zeros), so two addresses are
 * equal exactly when their strings are.
 */
struct cfg {
    uint32_t id;                     /* --id, 1..CFG_ID_MAX */
    char *data_dir;                  /* --data-dir */
    char *peer;                      /* --peer "host:port" (raft) */
    char peer_host[CFG_HOST_SIZE];   /* host part of `peer` */
    uint16_t peer_port;              /* port part of `peer` */
    char *client;                    /* --client "a.b.c.d:port" (HTTP) */
    char client_host[CFG_HOST_SIZE]; /* host part of `client` */
    uint16_t client_port;            /* port part of `client` */
    char *advertise_client_url;      /* always set: given or http://client */
    struct cfg_member *cluster;      /* --cluster, NULL when not given */
    size_t n_cluster;                /* entries in `cluster` */
    enum cfg_cluster_state initial_cluster_state;
    char *admin_token_file;      /* path only; never read by this module */
    uint32_t snapshot_threshold; /* entries between snapshots */
    uint32_t snapshot_trailing;  /* entries kept after a snapshot */
    uint64_t raft_log_budget;    /* bytes of raft log between snapshots */
    uint64_t snapshot_cache;     /* bytes of cached snapshot frames */
    uint32_t max_inflight;       /* raft_set_max_inflight_entries */
    uint64_t segment_size;       /* bytes per raft log segment */
    uint32_t election_timeout_ms;
    uint32_t heartbeat_timeout_ms; /* < election_timeout_ms */
    uint64_t max_body_bytes;       /* largest HTTP request body */
    uint32_t max_connections;      /* concurrent HTTP connections */
    uint32_t idle_timeout_ms;      /* idle keep-alive connection lifetime */
    uint32_t request_timeout_ms;   /* one request, read to reply */
    uint32_t rate_limit; /* failed authentications/min/address before 429 */
    char *trusted_proxy; /* --trusted-proxy as given, NULL when not */
    struct http_cidr *trusted; /* it parsed: `n_trusted` networks */
    size_t n_trusted;
    enum cfg_log_level log_level;
    enum cfg_log_format log_format;
    char *log_file;                  /* --log-file FILE, or NULL: stderr */
    uint64_t security_log_max_bytes; /* security.log rotates at this size */
    uint32_t security_log_keep;      /* rotated security logs kept */
    uint32_t security_log_rate;      /* lines per client address per minute */
    char *holidays;   /* --holidays FILE, read by the genesis proposer */
    char *restore;    /* --restore FILE */
    char *redactions; /* --redactions FILE (with --restore) */
    char *config;     /* --config FILE that was read, if any */
    bool help;        /* --help given: print cfg_usage(), exit 0 */
    bool version;     /* --version given: print the version, exit 0 */
    /* --exit-when-removed: stop once removed from the cluster (true). */
    bool exit_when_removed;
};

/*
 * Parse the configuration of provcat-node from `argv` (argv[0] is the
 * program name and is skipped), `envp` (a NULL-terminated "NAME=value"
 * array as main's third argument or `environ`; may be NULL) and the file
 * named by --config or PROVCAT_CONFIG, and validate it.
 *
 * Precedence: command line > environment > config file > default. Flags are
 * `--name VALUE` or `--name=VALUE`; a value may not start with "--" in the
 * two-word form. Giving a flag twice in one source is an error. Environment
 * variables are PROVCAT_<NAME> (upper case, dashes as underscores); an empty
 * variable counts as unset, and PROVCAT_* names that are not flags are
 * ignored (the CLI has its own). --help, -h and --version are command-line
 * only and win over everything else: they set `c->help` / `c->version`,
 * leave the other fields at their defaults and return PC_OK without
 * validating anything.
 *
 * Returns PC_OK (`*c` filled; release it with cfg_release), PC_EINVAL (a
 * usage or configuration error, one line in `errmsg` such as `--id: "x" is
 * not a number`; the caller prints "provcat-node: <errmsg>" on stderr and
 * exits 2) or PC_ENOMEM ("out of memory"; exit 1). On error `*c` is
 * untouched and owns nothing, so releasing a zeroed `*c` is safe.
 * Context: start-up, before the loop runs; may read the config file.
 */
int cfg_parse(struct cfg *c, int argc, char **argv, char **envp, char *errmsg);

/* Free the strings and the cluster of `c` and zero it. Accepts NULL. */
void cfg_release(struct cfg *c);

/*
 * Print the manual of provcat-node to `out`: synopsis, every flag with its
 * meaning, default and environment variable, the config file, bootstrap and
 * join, exit status, signals and examples.
 */
void cfg_usage(FILE *out);

/*
 * Print the effective configuration of `c`, one "key = value" line per
 * setting in the config-file syntax (unset optional files appear as a
 * "# key: not set" comment), so the output can be read back with --config.
 * Prints paths, never the content of any file (no secrets).
 */
void cfg_describe(const struct cfg *c, FILE *out);

/*
 * Parse "a.b.c.d:port" with a dotted-decimal IPv4 literal (four parts
 * 0..255, no leading zeros) and a port 1..65535 (no leading zeros): the
 * HTTP listener's address. Hostnames and IPv6 are refused.
 * 0.0.0.0 is accepted here (a bind address); see cfg_check_peer().
 *
 * Returns PC_OK, writing the host part to `host` (`hostlen` >=
 * CFG_HOST_SIZE) and the port to `*port`, or PC_EINVAL (nothing written).
 */
int cfg_parse_hostport(const char *s, char *host, size_t hostlen,
                       uint16_t *port);

/*
 * Check that `s` can be a raft address that other nodes connect to:
 * "host:port" where host is an IPv4 literal as cfg_parse_hostport() takes
 * it (not 0.0.0.0) or a DNS name (resolved by raft when it dials, or at
 * start with make RAFT=system: docs/node.md), 63 bytes at most. Used for
 * --peer, --cluster and `provcat-node restore --peer`.
 *
 * Returns PC_OK or PC_EINVAL with a reason in `errmsg` (may be NULL), e.g.
 * `"n_1:7001" has a bad host (expected an IPv4 address or a DNS name)`.
 */
int cfg_check_peer(const char *s, char *errmsg);

/*
 * Check a client URL as --advertise-client-url and the "client_url" of
 * POST /v1/members take it: "http://" or "https://" (a TLS-terminating
 * proxy in front: the node never serves TLS, it only sends clients there),
 * then an IPv4 address or a DNS name, port 1..65535, nothing after the
 * port (no path, no trailing slash), host not 0.0.0.0.
 *
 * Returns PC_OK or PC_EINVAL with a reason in `errmsg` (may be NULL).
 */
int cfg_check_client_url(const char *url, char *errmsg);

/*
 * Parse an initial configuration "1=a.b.c.d:port,2=a.b.c.d:port,...": ids
 * 1..CFG_ID_MAX, each address as cfg_check_peer(), ids unique and
 * addresses unique, at least one entry.
 *
 * Returns PC_OK with `*members` (an array of `*n_members` entries, in the
 * given order, owned by the caller: free with pc_free), PC_EINVAL with a
 * reason in `errmsg` (e.g. "duplicate id 2"), or PC_ENOMEM. Out-parameters
 * are written only on success.
 */
int cfg_parse_cluster(const char *s, struct cfg_member **members,
                      size_t *n_members, char *errmsg);

/* "error", "warn", "info" or "debug". */
const char *cfg_log_level_name(enum cfg_log_level level);

/* "text" or "json". */
const char *cfg_log_format_name(enum cfg_log_format format);

#endif
