/* SPDX-License-Identifier: MIT */
/*
 * The node-local security log, DATA_DIR/security.log: one JSON line per
 * event, {"at","node","kind","client","detail"}, never a token or its hash.
 *
 * Unauthenticated clients cause most of its lines (every 401 and 429), and
 * the file sits on the disk raft writes to, so it is bounded two ways:
 *
 *   - per client address, at most `per_client` lines a minute; the events
 *     past that are counted, and once the address's minute is over one
 *     `log_suppressed` line says how many were left out. At most
 *     SECLOG_MAX_CLIENTS addresses are tracked in a minute; events of
 *     addresses beyond them are left out and summed in one line (client "");
 *   - by size: before a line would take the file past `max_bytes` it is
 *     renamed security.log.1 (security.log.1 becomes .2, and so on; the
 *     oldest beyond `keep` is deleted) and a new file is started. The files
 *     together never exceed (keep + 1) * max_bytes.
 *
 * seclog_reopen() closes and opens the file again by name (SIGHUP, after an
 * outside tool such as logrotate moved it away).
 */
#ifndef PC_NODE_SECLOG_H
#define PC_NODE_SECLOG_H

#include <stdint.h>

#include "common/buf.h"

#define SECLOG_WINDOW_MS   60000 /* the per-address limit's window */
#define SECLOG_MAX_CLIENTS 4096  /* addresses tracked in one window */
#define SECLOG_DETAIL_MAX  512   /* bytes of `detail` kept in a line */
#define SECLOG_CLIENT_MAX  64    /* bytes of `client` kept in a line */

struct seclog;

struct seclog_opts {
    const char *path;    /* DATA_DIR/security.log; copied */
    uint64_t node_id;    /* "node" in every line */
    uint64_t max_bytes;  /* rotate before a line would pass it; >= 4096 */
    unsigned keep;       /* rotated files kept: path.1 (newest) .. path.keep */
    unsigned per_client; /* lines per client address per minute, >= 1 */
};

/* Counters, for /metrics. */
struct seclog_stats {
    uint64_t lines;      /* lines written, summaries included */
    uint64_t suppressed; /* events not written: past an address's limit */
    uint64_t rotations;  /* files rotated */
    uint64_t errors;     /* lines lost to a failed write, rotation or open */
    uint64_t bytes;      /* size of the current file */
};

/*
 * Open (append, creating it with mode 0600) the log at `o->path`.
 * Returns PC_OK, PC_EIO (`errmsg` names the file and the reason) or
 * PC_ENOMEM. Free with seclog_close().
 */
int seclog_open(const struct seclog_opts *o, struct seclog **out, char *errmsg);

/* Write the pending summaries, close the file, free `s`. Accepts NULL. */
void seclog_close(struct seclog *s);

/*
 * Log one event of `kind` from `client` ("" or NULL when no address) with
 * `detail` (either may be cut, at a UTF-8 boundary, to the maxima above),
 * or count it as suppressed. `mono_ms` is a monotonic clock in ms (the
 * limit's windows); "at" is the wall clock. Never fails: a line that
 * cannot be written is counted in `errors`.
 */
void seclog_event(struct seclog *s, int64_t mono_ms, const char *kind,
                  const char *client, const char *detail);
/* seclog_event with the principal (NULL or "": unknown) and the route
 * (NULL or "": none) the event concerns, as "principal" and "route". */
void seclog_event_by(struct seclog *s, int64_t mono_ms, const char *kind,
                     const char *client, const char *principal,
                     const char *route, const char *detail);

/*
 * End the windows that are over at `mono_ms`: each address that had
 * events suppressed gets its `log_suppressed` line, and is forgotten.
 * Call about once a second (cheap when nothing is due).
 */
void seclog_tick(struct seclog *s, int64_t mono_ms);

/*
 * Close the file and open `path` again (a new file if it was moved away).
 * PC_OK, or PC_EIO with `errmsg`: the old file stays in use.
 */
int seclog_reopen(struct seclog *s, char *errmsg);

void seclog_stats(const struct seclog *s, struct seclog_stats *out);

/* Append the counters to `b` as Prometheus text (provcat_security_log_*). */
void seclog_metrics(const struct seclog *s, struct pc_buf *b);

#endif
