/* SPDX-License-Identifier: MIT */
/*
 * The peer-port hello: a member asks another member about itself over the
 * raft port, with the trust raft's own traffic has (none beyond the
 * network: docs/node.md, Security). canonical raft has no message for
 * either question, so the hello rides on its TCP transport's handshake
 * (protocol 1: u64 protocol, u64 server id, u64 address length, address
 * NUL-padded to 8 bytes; little-endian), whose address is
 * "provcat-hello cluster=<id> url=<client URL>". The receiving node's
 * transport wrapper (clu.c) answers it instead of raft, with one line
 * "provcat-hello-reply state=<raft state> term=<n> member=<0|1>
 * committed=<0|1> cluster=<id>" and closes the connection:
 *
 *   - a follower whose client URL the ledger does not hold (a founder, a
 *     node restarted with another --advertise-client-url) tells the
 *     leader, which records it (a member fact);
 *   - a node that hears from no leader asks its configuration's members:
 *     a leader whose committed configuration lacks it, of its cluster and
 *     in its term or a later one, tells it that it was removed.
 *
 * Loop thread only.
 */
#ifndef PC_HELLO_H
#define PC_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"

#define HELLO_PREFIX  "provcat-hello "
#define HELLO_URL_MAX 255 /* bytes of a client URL */
#define HELLO_CID_MAX 64  /* bytes of a cluster id */

/* What a hello carries. */
struct hello {
    char cluster[HELLO_CID_MAX + 1]; /* "" when the sender knows none */
    char url[HELLO_URL_MAX + 1];
};

/* What a node answers. */
struct hello_reply {
    char state[16]; /* leader, follower, candidate, unavailable */
    uint64_t term;
    bool member;    /* the asker is in the answerer's configuration */
    bool committed; /* that configuration is committed */
    char cluster[HELLO_CID_MAX + 1];
};

/* A client URL a hello may carry: http://, at most HELLO_URL_MAX bytes of
 * printable ASCII without spaces. */
bool hello_url_valid(const char *url);

/*
 * Append the transport handshake of a hello from node `id` to `out`.
 * PC_OK, PC_EINVAL (a field too long or a URL hello_url_valid refuses) or
 * PC_ENOMEM.
 */
int hello_encode(struct pc_buf *out, uint64_t id, const struct hello *h);

/*
 * Whether `address`, the address of a raft handshake, is a hello: true
 * with `*out` filled; false for a raft peer's address (or a malformed
 * hello, which is then answered by nobody and closed).
 */
bool hello_parse(const char *address, struct hello *out, bool *malformed);

/* The reply line (with its '\n') into `out` (`size` bytes): PC_OK or
 * PC_EINVAL when it does not fit. */
int hello_reply_format(char *out, size_t size, const struct hello_reply *r);

/* Parse a reply line (`len` bytes, without the '\n'): true with `*out`. */
bool hello_reply_parse(const char *line, size_t len, struct hello_reply *out);

/* ---- sending (the asker) ---------------------------------------------- */

struct hello_conn;

/* Called once: `reply` is NULL when the peer did not answer in time (or
 * could not be reached), else borrowed for the call. */
typedef void (*hello_cb)(void *arg, uint64_t peer,
                         const struct hello_reply *reply);

/*
 * Connect to `address` (IPv4 a.b.c.d:port, the peer `peer`'s raft
 * address), send the hello of node `id`, wait up to `timeout_ms` for the
 * reply, then call `cb`. PC_OK (`*out` set, the connection lives until
 * `cb` returned; NULL allowed), PC_EINVAL (a bad address) or PC_ENOMEM.
 */
int hello_send(uv_loop_t *loop, const char *address, uint64_t peer, uint64_t id,
               const struct hello *h, unsigned timeout_ms, hello_cb cb,
               void *arg, struct hello_conn **out);

/* Forget `cb` (it will not be called) and close the connection. */
void hello_cancel(struct hello_conn *hc);

/* ---- answering (the asked) -------------------------------------------- */

/*
 * Write `line` on `stream`, a connection raft_uv_tcp accepted (allocated
 * with raft_malloc, now ours), then close it and free it with raft_free.
 * `line` is copied. On any failure the stream is closed all the same.
 */
void hello_answer(uv_stream_t *stream, const char *line);

#endif
