/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.1 server layer of provcat-node: a libuv listener, keep-alive and
 * pipelined connections parsed with http-parser, limits and timeouts, and a
 * generic router. Responses on a connection always leave in request order,
 * whatever order the handlers answer in; everything runs on one loop thread.
 */
#ifndef PC_HTTP_H
#define PC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common/buf.h"

/*
 * Limits of one server. A zero field takes its default (in brackets).
 *
 * A connection accepted beyond `max_connections` gets a canned 503
 * `unavailable` answer with `Retry-After: 1` (best effort, written without
 * waiting) and is closed at once; it is counted in `conn_rejected`.
 * `max_header_bytes` bounds the request line plus all header names and
 * values of one request; over it, and over `max_headers` headers, the answer
 * is 400 `bad_request` (the API has no 431) and the connection closes.
 */
struct http_limits {
    size_t max_connections;      /* open connections [1024] */
    size_t max_header_bytes;     /* request line + headers [16 KiB] */
    size_t max_headers;          /* header lines per request [64] */
    size_t max_body_bytes;       /* request body, bytes [1 MiB] */
    size_t max_inflight;         /* requests in flight per conn [64] */
    uint64_t idle_timeout_ms;    /* keep-alive with no request [60000] */
    uint64_t request_timeout_ms; /* first byte to complete request [30000] */
    uint64_t linger_ms;          /* drain after a closing answer [2000] */
};

/* Fill `l` with the defaults listed above. */
void http_limits_default(struct http_limits *l);

/*
 * Counters, plain fields readable by the metrics code on the loop thread.
 * `conn_open` is a gauge; the rest only grow.
 */
struct http_stats {
    uint64_t conn_open;     /* connections open now */
    uint64_t conn_accepted; /* accepted and served */
    uint64_t conn_rejected; /* accepted over max_connections, closed */
    uint64_t requests;      /* requests handed to the handler */
    uint64_t responses[6];  /* by status class: [1] 1xx ... [5] 5xx */
    uint64_t bytes_in;      /* bytes read from clients */
    uint64_t bytes_out;     /* bytes written to clients */
    uint64_t parse_errors;  /* requests answered 400 or 413 by this layer */
    uint64_t timeouts;      /* connections closed by idle/request timers */
};

/* A header: a NUL-terminated name and value. */
struct http_header {
    const char *name;
    const char *value;
};

/* A query parameter, name and value percent-decoded ('+' is a space). */
struct http_param {
    const char *name;
    const char *value;
};

enum http_verb {
    HTTP_VERB_OTHER = 0,
    HTTP_VERB_GET,
    HTTP_VERB_HEAD,
    HTTP_VERB_POST,
    HTTP_VERB_PUT,
    HTTP_VERB_DELETE,
    HTTP_VERB_PATCH,
    HTTP_VERB_OPTIONS,
};

/*
 * A parsed request, as handed to a handler. Every field is read-only except
 * `data`; all strings are NUL-terminated and live as long as the request.
 *
 * Lifetime: the request belongs to this layer and stays valid, even if the
 * client disconnects or the server stops, until the handler finishes it with
 * http_respond() (or one of its helpers) or http_respond_end(); that call
 * frees it (possibly a little later, once its bytes are written), so the
 * handler must not touch `req` after it. Every request must be finished
 * exactly once. Once the connection is gone, finishing only frees.
 */
struct http_request {
    enum http_verb verb;
    const char *method; /* "GET", "POST", ... */
    const char *target; /* raw request target, path and query */
    const char *path;   /* raw path, not decoded, without the query */
    const char *query;  /* raw query without '?', "" if none */
    char **segs;        /* path split on '/', then each percent-decoded */
    size_t n_segs;      /* "/" has 0 segments, "/a/" has "a" and "" */
    struct http_param *params;
    size_t n_params;
    struct http_header *headers; /* in arrival order, value trimmed */
    size_t n_headers;
    const uint8_t *body; /* complete body, plus a NUL not counted */
    size_t body_len;
    const char *client_ip; /* "127.0.0.1"; "" when not from a socket */
    int http_minor;        /* 1 for HTTP/1.1, 0 for HTTP/1.0 */
    const char **caps;     /* segments captured by the route's {} */
    size_t n_caps;
    void *data; /* free for the handler */
};

/*
 * Handles `req`. Must eventually finish it (see struct http_request), from
 * this call or later from any callback on the loop thread.
 */
typedef void (*http_handler_cb)(struct http_request *req, void *arg);

/*
 * Case-insensitive lookup of header `name`: the first value, or NULL.
 * Context: any time before the request is finished.
 */
const char *http_req_header(const struct http_request *req, const char *name);

/* The decoded value of the first query parameter `name`, or NULL. */
const char *http_req_param(const struct http_request *req, const char *name);

/*
 * `size` bytes from the request's arena, aligned for any type, freed with
 * the request. Returns NULL when out of memory.
 */
void *http_req_alloc(struct http_request *req, size_t size);

/*
 * Add a response header (e.g. "X-Provcat-Revision") to the answer that will
 * be sent for `req`; both strings are copied. Returns PC_OK, PC_EINVAL (an
 * empty name, or CR/LF in either string) or PC_ENOMEM. Content-Length,
 * Transfer-Encoding and Connection are this layer's and are ignored.
 */
int http_req_add_header(struct http_request *req, const char *name,
                        const char *value);

/*
 * Answer `req` with `status`, the headers added with http_req_add_header(),
 * the array `headers` ({NULL, NULL}-terminated, may be NULL) and `len` bytes
 * of `body` (copied). Content-Length is always set and Content-Type defaults
 * to application/json; HEAD answers omit the body, 1xx/204/304 carry none. A
 * "Connection: close" in `headers` closes the connection after this answer.
 * Finishes `req` (see struct http_request). Out of memory closes the
 * connection instead of answering.
 */
void http_respond(struct http_request *req, int status,
                  const struct http_header *headers, const void *body,
                  size_t len);

/* http_respond() with only the added headers and a JSON body. */
void http_respond_json(struct http_request *req, int status, const char *json,
                       size_t len);

/*
 * Answer `{"error":{"code":<code>,"message":<message>}}` with `status`; both
 * strings are JSON-escaped. Finishes `req`.
 */
void http_respond_error(struct http_request *req, int status, const char *code,
                        const char *message);

/*
 * Streaming answers (chunked transfer encoding; plain and then closed for an
 * HTTP/1.0 client). http_respond_start() sends the head like http_respond()
 * but without Content-Length; Content-Type defaults to application/json.
 * Returns PC_OK or PC_EINVAL (already answered or started).
 */
int http_respond_start(struct http_request *req, int status,
                       const struct http_header *headers);

/*
 * Called once per http_respond_write() chunk when it has been handed to the
 * kernel (`status` PC_OK) or dropped because the connection is gone
 * (PC_ESHUTDOWN or PC_EIO). `req` is still valid in the callback unless the
 * request was already ended before it ran.
 */
typedef void (*http_write_cb)(struct http_request *req, int status, void *arg);

/*
 * Queue `len` bytes (copied, `len` > 0) as one chunk. `cb` (may be NULL)
 * reports its completion: a producer applies backpressure by keeping only a
 * few chunks outstanding. Returns PC_OK (`cb` will run), PC_EINVAL (not
 * started, or ended), PC_ESHUTDOWN (the connection is gone: `cb` will not
 * run; call http_respond_end()) or PC_ENOMEM.
 */
int http_respond_write(struct http_request *req, const void *data, size_t len,
                       http_write_cb cb, void *arg);

/*
 * End a started stream (the terminating chunk) and finish `req`, which is
 * freed once its outstanding writes complete. Callbacks of chunks already
 * queued still run. A request finished before http_respond_start() (for
 * instance after PC_ENOMEM) is answered 500 instead.
 */
void http_respond_end(struct http_request *req);

/*
 * Write the API error body `{"error":{"code":..,"message":..}}` into `out`,
 * escaping both strings for JSON (invalid UTF-8 becomes U+FFFD). Returns
 * PC_OK or PC_ENOMEM.
 */
int http_json_error(struct pc_buf *out, const char *code, const char *message);

/* Append `s` as a quoted, escaped JSON string to `out`; PC_OK, PC_ENOMEM. */
int http_json_string(struct pc_buf *out, const char *s, size_t len);

struct http_server;

/*
 * Create a server on `loop` listening on the IPv4 literal `host` at `port`
 * (0 = kernel's choice, see http_server_port()), handing each request to
 * `handler` with `arg`. `limits` may be NULL for all defaults; it is copied.
 * Returns PC_OK with `*out` set, PC_EINVAL (bad address) or PC_EIO (bind or
 * listen failed; errmsg says why; the handle is released on the loop's next
 * turn, so run the loop before closing it), PC_ENOMEM.
 *
 * Connections: keep-alive by default (HTTP/1.0 only with "Connection:
 * keep-alive"); pipelined requests are dispatched in order; a request this
 * layer rejects (400/413) is answered in its turn with "Connection: close".
 * A client's EOF closes its connection at once (half-closed clients get no
 * answers): its requests still with handlers are orphaned.
 * Context: the loop thread.
 */
int http_server_start(uv_loop_t *loop, const char *host, int port,
                      const struct http_limits *limits, http_handler_cb handler,
                      void *arg, struct http_server **out, char *errmsg);

/*
 * Call `cb` (on the loop thread) for each request this layer refuses as
 * malformed (answered 400) or too large (413), with the client's address,
 * the status and why; once, before any connection. NULL stops it.
 */
typedef void (*http_reject_cb)(void *arg, const char *client, int status,
                               const char *why);
void http_server_on_reject(struct http_server *srv, http_reject_cb cb,
                           void *arg);

/* The port the server listens on. */
int http_server_port(const struct http_server *srv);

/* The counters; the pointer is valid until the server is stopped. */
const struct http_stats *http_server_stats(const struct http_server *srv);

typedef void (*http_stop_cb)(void *arg);

/*
 * Close the listener and every connection (pending writes are dropped), free
 * the server once every handle is closed, then call `cb(arg)` (may be NULL)
 * from the loop. Requests still pending in handlers are orphaned: finishing
 * them later only frees them. Call at most once.
 */
void http_server_stop(struct http_server *srv, http_stop_cb cb, void *arg);

/*
 * Request reader: the parser behind each connection, driven from a buffer so
 * tests and fuzzers need no socket. Requests it returns carry no connection:
 * finishing them only frees them.
 */
struct http_reader;

/*
 * A reader with `limits` (NULL: defaults) stamping `client_ip` (may be NULL)
 * on its requests. Returns PC_OK or PC_ENOMEM.
 */
int http_reader_new(const struct http_limits *limits, const char *client_ip,
                    struct http_reader **out);

/* Free `r` (NULL is fine); requests already returned stay valid. */
void http_reader_free(struct http_reader *r);

/*
 * Parse from `data`, stopping after at most one complete request: `*used`
 * says how many bytes were consumed, `*req` gets the request (the caller now
 * finishes it) or NULL when more bytes are needed. Returns PC_OK, PC_EPROTO
 * (malformed: 400) or PC_ETOOLARGE (body over the limit: 413), with a reason
 * from http_reader_error(); after an error the reader takes no more input,
 * PC_ENOMEM likewise. After a request that asked to close the connection
 * (see http_reader_close_after()) the caller should stop feeding.
 */
int http_reader_feed(struct http_reader *r, const char *data, size_t len,
                     size_t *used, struct http_request **req);

/* The reason of the last error, e.g. "invalid percent-encoding in path". */
const char *http_reader_error(const struct http_reader *r);

/* True while a request has started but not completed. */
bool http_reader_in_request(const struct http_reader *r);

/* True if the request last returned ends the connection (no keep-alive). */
bool http_reader_close_after(const struct http_reader *r);

/*
 * True once per request whose headers asked "Expect: 100-continue" and whose
 * body has not arrived yet: the server then sends "100 Continue".
 */
bool http_reader_take_continue(struct http_reader *r);

/*
 * Router. A route is a method ("GET"; NULL for any) and a pattern of '/'
 * separated segments where "{}" (or "{name}") captures one whole decoded
 * segment and anything else must equal the decoded segment. Routes are tried
 * in table order; the first whose pattern and method match wins. A GET route
 * also serves HEAD. No route matching the path: 404 `not_found`; routes
 * matching the path but not the method: 405 `method_not_allowed` with an
 * `Allow` header.
 */
struct http_route {
    const char *method;
    const char *pattern; /* "/v1/catalog/{}/records/{}" */
    http_handler_cb handler;
    void *arg;
};

struct http_router;

/*
 * Compile `n` routes (the array and its strings are copied). Returns PC_OK,
 * PC_EINVAL (a pattern not starting with '/'; errmsg names it) or PC_ENOMEM.
 */
int http_router_new(const struct http_route *routes, size_t n,
                    struct http_router **out, char *errmsg);

/* Free `r` (NULL is fine). */
void http_router_free(struct http_router *r);

/*
 * Match `req` against `r`. On a match returns the route and sets
 * `req->caps`/`req->n_caps`; otherwise returns NULL with `*status` 404 or 405
 * and, for 405, the allowed methods ("GET, HEAD, PUT") in `allow`
 * (`allow_size` bytes, always NUL-terminated). Out of memory for the
 * captures is reported as `*status` 500.
 */
const struct http_route *http_router_match(const struct http_router *r,
                                           struct http_request *req,
                                           int *status, char *allow,
                                           size_t allow_size);

/*
 * An http_handler_cb with `arg` = the router: match `req` and call the
 * route's handler with the route's `arg`, or answer 404/405.
 */
void http_router_dispatch(struct http_request *req, void *router);

/*
 * Called once for each request the handler answers, with the status, just
 * before the head is written (http_respond and its helpers, or
 * http_respond_start): `req` and its `data` are still the handler's, and a
 * header added now goes out with the answer. Also when the client is gone
 * (nothing is written then). Not called for what this layer answers itself
 * (400/413 before the handler, connections over the limit).
 */
typedef void (*http_answer_cb)(struct http_request *req, int status, void *arg);

/* Set the answer hook of `srv` (NULL: none). Context: the loop thread. */
void http_server_on_answer(struct http_server *srv, http_answer_cb cb,
                           void *arg);

/* ---- clients behind proxies (proxy.c) ---------------------------------- */

/* An IPv4 or IPv6 network. */
struct http_cidr {
    uint8_t family;   /* 4 or 6 */
    uint8_t bits;     /* prefix length, 0..32 or 0..128 */
    uint8_t addr[16]; /* network address, host bits zero */
};

/*
 * Parse "A.B.C.D/N", "A.B.C.D" (a /32), or the same in IPv6. Bits past the
 * prefix must be zero. PC_OK, or PC_EINVAL with a reason in `errmsg`
 * (may be NULL) naming the text.
 */
int http_cidr_parse(const char *s, struct http_cidr *out, char *errmsg);

/*
 * Parse networks separated by commas and/or spaces, at least one. PC_OK
 * with `*out` (free with pc_free) and `*n`, PC_EINVAL (errmsg names the
 * bad one) or PC_ENOMEM. Out-parameters are written only on success.
 */
int http_cidr_list_parse(const char *s, struct http_cidr **out, size_t *n,
                         char *errmsg);

/* Whether the address literal `ip` lies in one of the `n` networks. */
bool http_cidr_match(const struct http_cidr *list, size_t n, const char *ip);

/*
 * The client's address: `peer` (the socket's) unless `peer` is a trusted
 * proxy and X-Forwarded-For (the `n_xff` header lines, in order) names
 * another hop, in which case the right-most entry that is not a trusted
 * proxy (docs/node.md). Returns `peer`, or `buf` (`size` >= 46) holding the
 * address in canonical form.
 */
const char *http_client_addr(const char *peer, const char *const *xff,
                             size_t n_xff, const struct http_cidr *trusted,
                             size_t n_trusted, char *buf, size_t size);

#endif
