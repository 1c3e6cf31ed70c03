/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.1 server on libuv: accepts connections, feeds their bytes to a
 * request reader, hands requests to the handler and writes the answers.
 *
 * Each connection keeps a FIFO of requests in flight. Answer bytes are
 * attached to their request and only handed to uv_write() while that request
 * is at the head of the FIFO, so answers leave in request order even when
 * handlers finish out of order; libuv keeps the writes themselves in order.
 * With max_inflight requests queued the connection stops reading and parsing
 * (backpressure) until one is answered. A request whose connection goes away
 * is orphaned: it stays valid until its handler finishes it, which then only
 * frees it. Memory embedding uv handles is freed only in close callbacks.
 */
#include "node/http/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "common/alloc.h"
#include "common/err.h"
#include "node/http/http_int.h"

#define READ_BUF_SIZE (64 * 1024)

enum timer_mode {
    TIMER_NONE,
    TIMER_IDLE,
    TIMER_REQUEST,
    TIMER_CLOSING,
};

struct http_out {
    struct http_out *next;
    uv_write_t wr;
    struct http_conn *conn;
    struct http_req *req; /* NULL for connection-level bytes */
    http_write_cb cb;
    void *cb_arg;
    size_t len;
    char data[];
};

struct http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    struct http_server *srv;
    struct http_conn *prev;
    struct http_conn *next;
    struct http_reader *rd;
    struct http_req *q_head; /* requests in flight, oldest first */
    struct http_req *q_tail;
    size_t n_queue;
    struct pc_buf pending; /* unparsed bytes held while paused */
    size_t pending_off;
    uint64_t req_deadline; /* loop time (ms) the current request must end */
    enum timer_mode tmode;
    int n_open_handles; /* freed when this drops to 0 */
    bool closing;       /* uv_close() called */
    bool rejected;      /* over max_connections */
    bool reading;
    bool paused;       /* too many in flight: not parsing */
    bool processing;   /* inside conn_parse(): no re-entry */
    bool stop_parsing; /* a closing request or an error was seen */
    bool draining;     /* last answer queued, shutting down */
    char ip[64];
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct http_limits limits;
    http_handler_cb handler;
    void *arg;
    http_reject_cb reject_cb; /* requests refused here (node's log) */
    void *reject_arg;
    http_answer_cb answer_cb; /* http_server_on_answer */
    void *answer_arg;
    struct http_stats stats;
    struct http_conn *conns;
    size_t n_alive; /* listener + connections not yet freed */
    bool stopping;
    http_stop_cb stop_cb;
    void *stop_arg;
    int port;
    char readbuf[READ_BUF_SIZE]; /* shared: one read callback at a time */
};

static void conn_close(struct http_conn *c);
static void conn_flush(struct http_conn *c);
static void conn_update_timer(struct http_conn *c);
static size_t conn_parse(struct http_conn *c, const char *data, size_t len);
static void on_timer(uv_timer_t *t);

/* ---- JSON ---- */

/* Length of the valid UTF-8 sequence at `s`, or 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;

    if (c < 0x80) {
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return len;
}

int
http_json_string(struct pc_buf *out, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t start = out->len;
    int rc = pc_buf_put_u8(out, '"');

    for (size_t i = 0; i < len && rc == PC_OK;) {
        unsigned char c = s[i];
        size_t n, run = i;

        /* Printable ASCII but '"' and '\\' goes out as is, in one piece. */
        while (run < len && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' &&
               s[run] != '\\') {
            run++;
        }
        if (run > i) {
            rc = pc_buf_put(out, s + i, run - i);
            i = run;
            continue;
        }
        n = utf8_len(s + i, len - i);

        if (n == 0) {
            rc = pc_buf_put(out, "\\ufffd", 6);
            i++;
            continue;
        }
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            rc = pc_buf_put(out, e, 2);
        } else if (c == '\n') {
            rc = pc_buf_put(out, "\\n", 2);
        } else if (c == '\r') {
            rc = pc_buf_put(out, "\\r", 2);
        } else if (c == '\t') {
            rc = pc_buf_put(out, "\\t", 2);
        } else if (c < 0x20) {
            rc = pc_buf_printf(out, "\\u%04x", c);
        } else {
            rc = pc_buf_put(out, s + i, n);
        }
        i += n;
    }
    if (rc == PC_OK) {
        rc = pc_buf_put_u8(out, '"');
    }
    if (rc != PC_OK) {
        out->len = start;
    }
    return rc;
}

int
http_json_error(struct pc_buf *out, const char *code, const char *message)
{
    size_t start = out->len;
    int rc = pc_buf_put(out, "{\"error\":{\"code\":", 17);

    if (rc == PC_OK) {
        rc = http_json_string(out, code, strlen(code));
    }
    if (rc == PC_OK) {
        rc = pc_buf_put(out, ",\"message\":", 11);
    }
    if (rc == PC_OK) {
        rc = http_json_string(out, message, strlen(message));
    }
    if (rc == PC_OK) {
        rc = pc_buf_put(out, "}}", 2);
    }
    if (rc != PC_OK) {
        out->len = start;
    }
    return rc;
}

/* ---- requests and answer bytes ---- */

static void
req_maybe_free(struct http_req *r)
{
    if (r->finished && r->n_writing == 0 && !r->in_queue &&
        r->out_head == NULL) {
        http_req_destroy(r);
    }
}

static struct http_out *
out_new(struct http_conn *c, struct http_req *r, size_t len)
{
    struct http_out *o = pc_malloc(sizeof(*o) + len);

    if (o == NULL) {
        return NULL;
    }
    o->next = NULL;
    o->conn = c;
    o->req = r;
    o->cb = NULL;
    o->cb_arg = NULL;
    o->len = len;
    return o;
}

static void
out_append(struct http_req *r, struct http_out *o)
{
    *r->out_tail = o;
    r->out_tail = &o->next;
}

/*
 * A chunk is done: written, failed or dropped. Its request may be freed
 * here, or by the write callback calling http_respond_end().
 */
static void
out_complete(struct http_out *o, int status)
{
    struct http_req *r = o->req;
    http_write_cb cb = o->cb;
    void *arg = o->cb_arg;

    pc_free(o);
    if (r == NULL) {
        return;
    }
    bool was_finished = r->finished;
    r->n_writing--;
    if (cb != NULL) {
        cb(&r->pub, status, arg);
    }
    if (was_finished) {
        req_maybe_free(r);
    }
}

static void
on_write(uv_write_t *wr, int status)
{
    struct http_out *o = wr->data;
    struct http_conn *c = o->conn;

    if (status == 0) {
        c->srv->stats.bytes_out += o->len;
        out_complete(o, PC_OK);
        return;
    }
    conn_close(c);
    out_complete(o, status == UV_ECANCELED ? PC_ESHUTDOWN : PC_EIO);
}

static int
out_submit(struct http_conn *c, struct http_out *o)
{
    uv_buf_t buf = uv_buf_init(o->data, (unsigned)o->len);

    o->wr.data = o;
    if (o->req != NULL) {
        o->req->n_writing++;
    }
    int rc = uv_write(&o->wr, (uv_stream_t *)&c->tcp, &buf, 1, on_write);
    if (rc != 0) {
        out_complete(o, PC_EIO);
        return PC_EIO;
    }
    return PC_OK;
}

/* ---- connection ---- */

static void
conn_free_if_closed(struct http_conn *c)
{
    struct http_server *srv = c->srv;

    if (--c->n_open_handles > 0) {
        return;
    }
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        srv->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    http_reader_free(c->rd);
    pc_buf_release(&c->pending);
    pc_free(c);
    if (--srv->n_alive == 0 && srv->stopping) {
        http_stop_cb cb = srv->stop_cb;
        void *arg = srv->stop_arg;

        pc_free(srv);
        if (cb != NULL) {
            cb(arg);
        }
    }
}

static void
on_conn_handle_close(uv_handle_t *h)
{
    conn_free_if_closed(h->data);
}

/*
 * Close now: orphan the requests still with a handler, drop answer bytes
 * not yet written (their callbacks report PC_ESHUTDOWN), and close both
 * handles; writes already handed to libuv are cancelled by uv_close().
 */
static void
conn_close(struct http_conn *c)
{
    struct http_out *drop = NULL, **drop_tail = &drop;
    struct http_req *r, *next;

    if (c->closing) {
        return;
    }
    c->closing = true;
    if (!c->rejected) {
        c->srv->stats.conn_open--;
    }
    for (r = c->q_head; r != NULL; r = next) {
        next = r->next;
        r->next = NULL;
        r->in_queue = false;
        r->conn = NULL;
        if (r->out_head != NULL) {
            for (struct http_out *o = r->out_head; o != NULL; o = o->next) {
                r->n_writing++;
            }
            *drop_tail = r->out_head;
            drop_tail = r->out_tail;
            r->out_head = NULL;
            r->out_tail = &r->out_head;
        } else {
            req_maybe_free(r);
        }
    }
    c->q_head = c->q_tail = NULL;
    c->n_queue = 0;
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_close);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_close);
    while (drop != NULL) {
        struct http_out *o = drop;

        drop = o->next;
        out_complete(o, PC_ESHUTDOWN);
    }
}

static void
on_shutdown(uv_shutdown_t *sr, int status)
{
    struct http_conn *c = sr->data;

    if (status < 0 || c->closing) {
        conn_close(c);
        return;
    }
    /* Everything is written; wait a little for the client's EOF so unread
     * input does not turn our close into a reset that eats the answer. */
    c->tmode = TIMER_CLOSING;
    uv_timer_start(&c->timer, on_timer, c->srv->limits.linger_ms, 0);
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct http_conn *c = h->data;

    (void)suggested;
    *buf = uv_buf_init(c->srv->readbuf, sizeof(c->srv->readbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void
conn_read_start(struct http_conn *c)
{
    if (!c->reading && !c->closing) {
        if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read) != 0) {
            conn_close(c);
            return;
        }
        c->reading = true;
    }
}

static void
conn_read_stop(struct http_conn *c)
{
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

/* The last answer is queued: half-close once it is written, then drain. */
static void
conn_graceful_close(struct http_conn *c)
{
    if (c->draining || c->closing) {
        return;
    }
    c->draining = true;
    c->stop_parsing = true;
    pc_buf_release(&c->pending);
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        conn_close(c);
        return;
    }
    conn_read_start(c);
    c->tmode = TIMER_NONE;
    conn_update_timer(c);
}

static void
on_timer(uv_timer_t *t)
{
    struct http_conn *c = t->data;

    if (c->tmode == TIMER_IDLE || c->tmode == TIMER_REQUEST) {
        c->srv->stats.timeouts++;
    }
    conn_close(c);
}

/*
 * Arm the one timer for the connection's state: a request being received
 * has an absolute deadline (slow senders cannot stretch it), an empty
 * connection the idle timeout, a draining one the linger time; requests in
 * handlers have none.
 */
static void
conn_update_timer(struct http_conn *c)
{
    const struct http_limits *l = &c->srv->limits;
    uint64_t now = uv_now(c->srv->loop);

    if (c->closing) {
        return;
    }
    if (c->draining) {
        if (c->tmode == TIMER_NONE) {
            /* Until the answer is written: bounded by the request time. */
            c->tmode = TIMER_CLOSING;
            uv_timer_start(&c->timer, on_timer, l->request_timeout_ms, 0);
        }
        return;
    }
    if (http_reader_in_request(c->rd) && !c->stop_parsing) {
        if (c->tmode != TIMER_REQUEST) {
            c->tmode = TIMER_REQUEST;
            c->req_deadline = now + l->request_timeout_ms;
            uv_timer_start(&c->timer, on_timer, l->request_timeout_ms, 0);
        }
    } else if (c->n_queue == 0 && !c->stop_parsing) {
        if (c->tmode != TIMER_IDLE) {
            c->tmode = TIMER_IDLE;
            uv_timer_start(&c->timer, on_timer, l->idle_timeout_ms, 0);
        }
    } else if (c->tmode != TIMER_NONE) {
        c->tmode = TIMER_NONE;
        uv_timer_stop(&c->timer);
    }
}

/* Parse what is held back, then read again if nothing stops us. */
static void
conn_resume(struct http_conn *c)
{
    c->paused = false;
    if (c->processing || c->closing) {
        return;
    }
    if (c->pending.len > c->pending_off) {
        c->processing = true;
        size_t used =
            conn_parse(c, (const char *)c->pending.data + c->pending_off,
                       c->pending.len - c->pending_off);
        c->processing = false;
        c->pending_off += used;
        if (c->closing) {
            return;
        }
        if (c->stop_parsing || c->pending_off == c->pending.len) {
            pc_buf_release(&c->pending);
            c->pending_off = 0;
        }
    }
    if (!c->paused && c->pending.len == 0) {
        conn_read_start(c);
    }
    conn_update_timer(c);
}

/* Hand written-out-able bytes to libuv, oldest request first. */
static void
conn_flush(struct http_conn *c)
{
    struct http_req *r;

    if (c->closing || c->draining) {
        return;
    }
    while ((r = c->q_head) != NULL) {
        while (r->out_head != NULL) {
            struct http_out *o = r->out_head;

            r->out_head = o->next;
            if (r->out_head == NULL) {
                r->out_tail = &r->out_head;
            }
            o->next = NULL;
            if (out_submit(c, o) != PC_OK) {
                conn_close(c);
                return;
            }
        }
        if (!r->finished) {
            break;
        }
        c->q_head = r->next;
        if (c->q_head == NULL) {
            c->q_tail = NULL;
        }
        c->n_queue--;
        r->in_queue = false;
        r->next = NULL;
        bool close_after = r->close_after;
        req_maybe_free(r);
        if (close_after) {
            conn_graceful_close(c);
            return;
        }
    }
    if (c->paused && c->n_queue < c->srv->limits.max_inflight) {
        conn_resume(c);
        return;
    }
    conn_update_timer(c);
}

static void
conn_enqueue(struct http_conn *c, struct http_req *r)
{
    r->conn = c;
    r->in_queue = true;
    r->next = NULL;
    if (c->q_tail != NULL) {
        c->q_tail->next = r;
    } else {
        c->q_head = r;
    }
    c->q_tail = r;
    c->n_queue++;
}

/* A request this layer rejects still takes its turn in the FIFO. */
static void
conn_parse_error(struct http_conn *c, int rc)
{
    struct http_req *r = http_req_new();

    c->stop_parsing = true;
    if (r == NULL) {
        conn_close(c);
        return;
    }
    r->close_after = true;
    conn_enqueue(c, r);
    if (rc != PC_ENOMEM && c->srv->reject_cb != NULL) {
        c->srv->reject_cb(c->srv->reject_arg, c->ip,
                          rc == PC_ETOOLARGE ? 413 : 400,
                          http_reader_error(c->rd));
    }
    if (rc == PC_ETOOLARGE) {
        c->srv->stats.parse_errors++;
        http_respond_error(&r->pub, 413, "too_large", http_reader_error(c->rd));
    } else if (rc == PC_ENOMEM) {
        http_respond_error(&r->pub, 503, "unavailable", "out of memory");
    } else {
        c->srv->stats.parse_errors++;
        http_respond_error(&r->pub, 400, "bad_request",
                           http_reader_error(c->rd));
    }
}

void
http_server_on_reject(struct http_server *srv, http_reject_cb cb, void *arg)
{
    srv->reject_cb = cb;
    srv->reject_arg = arg;
}

/* Parse and dispatch requests from `data`; returns the bytes consumed. */
static size_t
conn_parse(struct http_conn *c, const char *data, size_t len)
{
    size_t off = 0;

    while (off < len && !c->closing && !c->stop_parsing && !c->paused) {
        struct http_request *req;
        size_t used;
        int rc = http_reader_feed(c->rd, data + off, len - off, &used, &req);

        off += used;
        if (rc != PC_OK) {
            conn_parse_error(c, rc);
            break;
        }
        if (req == NULL) {
            if (used == 0) {
                break;
            }
            continue;
        }
        struct http_req *r = http_req_of(req);
        if (r->close_after) {
            c->stop_parsing = true;
        }
        conn_enqueue(c, r);
        c->tmode = TIMER_NONE; /* the next request gets its own deadline */
        c->srv->stats.requests++;
        r->answer_cb = c->srv->answer_cb;
        r->answer_arg = c->srv->answer_arg;
        if (c->n_queue >= c->srv->limits.max_inflight) {
            c->paused = true;
            conn_read_stop(c);
        }
        c->srv->handler(req, c->srv->arg);
    }
    return off;
}

static void
conn_send_continue(struct http_conn *c)
{
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct http_out *o = out_new(c, NULL, sizeof(msg) - 1);

    if (o == NULL) {
        return; /* the client sends the body after its own timeout */
    }
    memcpy(o->data, msg, sizeof(msg) - 1);
    if (out_submit(c, o) != PC_OK) {
        conn_close(c);
    }
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct http_conn *c = s->data;

    if (nread < 0) {
        /* EOF or error: a client gone half-way gets no answers. */
        conn_close(c);
        return;
    }
    if (nread == 0 || c->closing) {
        return;
    }
    c->srv->stats.bytes_in += (uint64_t)nread;
    if (c->stop_parsing) {
        return; /* draining or past a closing request: discard */
    }
    c->processing = true;
    size_t used = conn_parse(c, buf->base, (size_t)nread);
    c->processing = false;
    if (c->closing) {
        return;
    }
    if (c->paused && !c->stop_parsing && used < (size_t)nread) {
        if (pc_buf_put(&c->pending, buf->base + used, (size_t)nread - used) !=
            PC_OK) {
            conn_close(c);
            return;
        }
    } else if (!c->paused && c->pending.len == 0 && !c->stop_parsing) {
        /* A handler may have resumed us synchronously. */
        conn_read_start(c);
    }
    if (http_reader_take_continue(c->rd) && c->n_queue == 0 &&
        !c->stop_parsing) {
        conn_send_continue(c);
    }
    conn_update_timer(c);
}

/* ---- answers ---- */

static bool
header_ok(const char *name, const char *value)
{
    if (name == NULL || value == NULL || name[0] == '\0') {
        return false;
    }
    for (const char *p = name; *p != '\0'; p++) {
        if (*p <= ' ' || *p == ':' || *p == 0x7f) {
            return false;
        }
    }
    return strpbrk(value, "\r\n") == NULL;
}

int
http_req_add_header(struct http_request *req, const char *name,
                    const char *value)
{
    struct http_req *r = http_req_of(req);
    struct http_xhdr *x, **tail;

    if (!header_ok(name, value)) {
        return PC_EINVAL;
    }
    x = http_req_alloc(req, sizeof(*x));
    if (x == NULL) {
        return PC_ENOMEM;
    }
    x->name = http_req_strndup(r, name, strlen(name));
    x->value = http_req_strndup(r, value, strlen(value));
    if (x->name == NULL || x->value == NULL) {
        return PC_ENOMEM;
    }
    x->next = NULL;
    for (tail = &r->xhdrs; *tail != NULL; tail = &(*tail)->next) {
    }
    *tail = x;
    return PC_OK;
}

/* Headers this layer writes itself; a "Connection: close" asks to close. */
static bool
header_reserved(const char *name, const char *value, bool *close)
{
    if (strcasecmp(name, "Connection") == 0) {
        if (strcasecmp(value, "close") == 0) {
            *close = true;
        }
        return true;
    }
    return strcasecmp(name, "Content-Length") == 0 ||
           strcasecmp(name, "Transfer-Encoding") == 0;
}

static const char *
reason_of(int status)
{
    const char *s = http_status_str((enum http_status)status);

    return s[0] == '<' ? "Status" : s;
}

/*
 * Write the status line and headers. `body_len` < 0 means a stream
 * (chunked, or raw then close for HTTP/1.0).
 */
static int
build_head(struct pc_buf *b, struct http_req *r, int status,
           const struct http_header *headers, long long body_len)
{
    bool close = r->close_after, has_type = false;
    int rc = pc_buf_printf(b, "HTTP/1.1 %d %s\r\n", status, reason_of(status));
    const struct http_xhdr *x;

    for (x = r->xhdrs; x != NULL && rc == PC_OK; x = x->next) {
        if (header_reserved(x->name, x->value, &close)) {
            continue;
        }
        has_type |= strcasecmp(x->name, "Content-Type") == 0;
        rc = pc_buf_printf(b, "%s: %s\r\n", x->name, x->value);
    }
    for (size_t i = 0; headers != NULL && headers[i].name != NULL; i++) {
        const struct http_header *h = &headers[i];

        if (rc != PC_OK) {
            break;
        }
        if (!header_ok(h->name, h->value) ||
            header_reserved(h->name, h->value, &close)) {
            continue;
        }
        has_type |= strcasecmp(h->name, "Content-Type") == 0;
        rc = pc_buf_printf(b, "%s: %s\r\n", h->name, h->value);
    }
    if (rc == PC_OK && !has_type && status >= 200 && status != 204 &&
        status != 304) {
        rc = pc_buf_printf(b, "Content-Type: application/json\r\n");
    }
    if (rc == PC_OK && body_len >= 0 && status >= 200 && status != 204 &&
        status != 304) {
        rc = pc_buf_printf(b, "Content-Length: %lld\r\n", body_len);
    }
    if (rc == PC_OK && body_len < 0) {
        if (r->pub.http_minor == 0) {
            r->stream_raw = true;
            close = true;
        } else if (r->pub.verb != HTTP_VERB_HEAD) {
            rc = pc_buf_printf(b, "Transfer-Encoding: chunked\r\n");
        }
    }
    if (rc == PC_OK && close) {
        rc = pc_buf_printf(b, "Connection: close\r\n");
    } else if (rc == PC_OK && r->pub.http_minor == 0) {
        rc = pc_buf_printf(b, "Connection: keep-alive\r\n");
    }
    if (rc == PC_OK) {
        rc = pc_buf_put(b, "\r\n", 2);
    }
    if (rc == PC_OK) {
        r->close_after = close;
    }
    return rc;
}

static bool
req_gone(const struct http_req *r)
{
    return r->conn == NULL || r->conn->closing;
}

/* The answer hook, once per request, before its head is built. */
static void
answer_hook(struct http_req *r, int status)
{
    http_answer_cb cb = r->answer_cb;

    if (cb != NULL) {
        r->answer_cb = NULL;
        cb(&r->pub, status, r->answer_arg);
    }
}

static void
count_status(struct http_req *r, int status)
{
    if (r->conn != NULL && status >= 100 && status < 600) {
        r->conn->srv->stats.responses[status / 100]++;
    }
}

/* Queue an out chunk holding the bytes of `b` (released). */
static int
queue_buf(struct http_req *r, struct pc_buf *b, http_write_cb cb, void *arg)
{
    struct http_out *o = out_new(r->conn, r, b->len);

    if (o == NULL) {
        pc_buf_release(b);
        return PC_ENOMEM;
    }
    memcpy(o->data, b->data, b->len);
    pc_buf_release(b);
    o->cb = cb;
    o->cb_arg = arg;
    out_append(r, o);
    return PC_OK;
}

void
http_respond(struct http_request *req, int status,
             const struct http_header *headers, const void *body, size_t len)
{
    struct http_req *r = http_req_of(req);
    struct http_conn *c = r->conn;
    struct pc_buf b;
    bool no_body = status < 200 || status == 204 || status == 304;
    int rc;

    if (r->finished) {
        return;
    }
    answer_hook(r, status);
    if (req_gone(r)) {
        r->finished = true;
        req_maybe_free(r);
        return;
    }
    count_status(r, status);
    pc_buf_init(&b);
    rc = build_head(&b, r, status, headers, no_body ? 0 : (long long)len);
    if (rc == PC_OK && !no_body && req->verb != HTTP_VERB_HEAD && len > 0) {
        rc = pc_buf_put(&b, body, len);
    }
    if (rc == PC_OK) {
        rc = queue_buf(r, &b, NULL, NULL);
    }
    pc_buf_release(&b);
    r->finished = true;
    if (rc != PC_OK) {
        conn_close(c);
        return;
    }
    conn_flush(c);
}

void
http_respond_json(struct http_request *req, int status, const char *json,
                  size_t len)
{
    http_respond(req, status, NULL, json, len);
}

void
http_respond_error(struct http_request *req, int status, const char *code,
                   const char *message)
{
    struct http_req *r = http_req_of(req);
    struct pc_buf b;

    if (req_gone(r)) {
        http_respond(req, status, NULL, NULL, 0);
        return;
    }
    pc_buf_init(&b);
    if (http_json_error(&b, code, message) != PC_OK) {
        struct http_conn *c = r->conn;

        r->finished = true;
        conn_close(c);
        return;
    }
    http_respond(req, status, NULL, b.data, b.len);
    pc_buf_release(&b);
}

int
http_respond_start(struct http_request *req, int status,
                   const struct http_header *headers)
{
    struct http_req *r = http_req_of(req);
    struct pc_buf b;
    int rc;

    if (r->finished || r->streaming) {
        return PC_EINVAL;
    }
    answer_hook(r, status);
    if (req_gone(r)) {
        r->streaming = true;
        return PC_OK;
    }
    pc_buf_init(&b);
    rc = build_head(&b, r, status, headers, -1);
    if (rc == PC_OK) {
        rc = queue_buf(r, &b, NULL, NULL);
    }
    pc_buf_release(&b);
    if (rc != PC_OK) {
        return rc;
    }
    count_status(r, status);
    r->streaming = true;
    conn_flush(r->conn);
    return PC_OK;
}

int
http_respond_write(struct http_request *req, const void *data, size_t len,
                   http_write_cb cb, void *arg)
{
    struct http_req *r = http_req_of(req);
    struct http_out *o;
    size_t off = 0;
    char hdr[24];
    int hlen = 0;

    if (!r->streaming || r->finished || len == 0) {
        return PC_EINVAL;
    }
    if (req_gone(r)) {
        return PC_ESHUTDOWN;
    }
    bool framed = !r->stream_raw;
    if (req->verb == HTTP_VERB_HEAD) {
        len = 0; /* a HEAD answer has no body, but the callback still runs */
        framed = false;
    }
    if (framed) {
        hlen = snprintf(hdr, sizeof(hdr), "%zx\r\n", len);
    }
    o = out_new(r->conn, r, (size_t)hlen + len + (framed ? 2 : 0));
    if (o == NULL) {
        return PC_ENOMEM;
    }
    memcpy(o->data, hdr, (size_t)hlen);
    off = (size_t)hlen;
    if (len > 0) {
        memcpy(o->data + off, data, len);
        off += len;
    }
    if (framed) {
        memcpy(o->data + off, "\r\n", 2);
    }
    o->cb = cb;
    o->cb_arg = arg;
    out_append(r, o);
    conn_flush(r->conn);
    return PC_OK;
}

void
http_respond_end(struct http_request *req)
{
    struct http_req *r = http_req_of(req);

    if (r->finished) {
        return;
    }
    if (!r->streaming) {
        http_respond_error(req, 500, "internal", "answer never started");
        return;
    }
    if (req_gone(r)) {
        r->finished = true;
        req_maybe_free(r);
        return;
    }
    if (!r->stream_raw && req->verb != HTTP_VERB_HEAD) {
        struct http_out *o = out_new(r->conn, r, 5);

        if (o == NULL) {
            struct http_conn *c = r->conn;

            r->finished = true;
            conn_close(c);
            return;
        }
        memcpy(o->data, "0\r\n\r\n", 5);
        out_append(r, o);
    }
    r->finished = true;
    conn_flush(r->conn);
}

/* ---- server ---- */

static void
reject_conn(struct http_conn *c)
{
    static const char msg[] =
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: application/json\r\n"
        "Retry-After: 1\r\n"
        "Connection: close\r\n"
        "Content-Length: 65\r\n\r\n"
        "{\"error\":{\"code\":\"unavailable\",\"message\":\"too many "
        "connections\"}}";
    uv_buf_t buf = uv_buf_init((char *)msg, sizeof(msg) - 1);

    c->rejected = true;
    c->srv->stats.conn_rejected++;
    if (uv_try_write((uv_stream_t *)&c->tcp, &buf, 1) > 0) {
        c->srv->stats.bytes_out += sizeof(msg) - 1;
    }
    conn_close(c);
}

static void
on_connection(uv_stream_t *listener, int status)
{
    struct http_server *srv = listener->data;
    struct http_conn *c;
    struct sockaddr_storage ss;
    int len = sizeof(ss);

    if (status < 0 || srv->stopping) {
        return;
    }
    c = pc_calloc(1, sizeof(*c));
    if (c == NULL) {
        return; /* libuv offers the connection again on the next turn */
    }
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->n_open_handles = 2;
    c->next = srv->conns;
    if (srv->conns != NULL) {
        srv->conns->prev = c;
    }
    srv->conns = c;
    srv->n_alive++;
    pc_buf_init(&c->pending);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        c->rejected = true;
        conn_close(c);
        return;
    }
    if (srv->stats.conn_open >= srv->limits.max_connections) {
        reject_conn(c);
        return;
    }
    srv->stats.conn_open++;
    srv->stats.conn_accepted++;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&ss, c->ip, sizeof(c->ip));
        } else if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->ip, sizeof(c->ip));
        }
    }
    if (http_reader_new(&srv->limits, c->ip, &c->rd) != PC_OK) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    conn_read_start(c);
    conn_update_timer(c);
}

static void
on_listener_close(uv_handle_t *h)
{
    struct http_server *srv = h->data;

    if (--srv->n_alive == 0) {
        http_stop_cb cb = srv->stop_cb;
        void *arg = srv->stop_arg;

        pc_free(srv);
        if (cb != NULL) {
            cb(arg);
        }
    }
}

static void
limits_fill(struct http_limits *l, const struct http_limits *in)
{
    struct http_limits d;

    http_limits_default(&d);
    *l = in != NULL ? *in : d;
#define FILL(f)      \
    if (l->f == 0) { \
        l->f = d.f;  \
    }
    FILL(max_connections)
    FILL(max_header_bytes)
    FILL(max_headers)
    FILL(max_body_bytes)
    FILL(max_inflight)
    FILL(idle_timeout_ms)
    FILL(request_timeout_ms)
    FILL(linger_ms)
#undef FILL
}

int
http_server_start(uv_loop_t *loop, const char *host, int port,
                  const struct http_limits *limits, http_handler_cb handler,
                  void *arg, struct http_server **out, char *errmsg)
{
    struct http_server *srv;
    struct sockaddr_in addr;
    struct sockaddr_storage ss;
    int len = sizeof(ss), rc;

    if (port < 0 || port > 65535 || handler == NULL ||
        uv_ip4_addr(host, port, &addr) != 0) {
        return pc_errmsgf(errmsg, PC_EINVAL, "bad listen address '%s:%d'",
                          host != NULL ? host : "(null)", port);
    }
    srv = pc_calloc(1, sizeof(*srv));
    if (srv == NULL) {
        return PC_ENOMEM;
    }
    srv->loop = loop;
    limits_fill(&srv->limits, limits);
    srv->handler = handler;
    srv->arg = arg;
    uv_tcp_init(loop, &srv->listener);
    srv->listener.data = srv;
    srv->n_alive = 1;
    rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&srv->listener, 511, on_connection);
    }
    if (rc == 0) {
        rc = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len);
    }
    if (rc != 0) {
        /* Freed in the close callback, on the loop's next turn. */
        pc_errmsgf(errmsg, PC_EIO, "listen on %s:%d: %s", host, port,
                   uv_strerror(rc));
        srv->stopping = true;
        uv_close((uv_handle_t *)&srv->listener, on_listener_close);
        return PC_EIO;
    }
    srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *out = srv;
    return PC_OK;
}

int
http_server_port(const struct http_server *srv)
{
    return srv->port;
}

void
http_server_on_answer(struct http_server *srv, http_answer_cb cb, void *arg)
{
    srv->answer_cb = cb;
    srv->answer_arg = arg;
}

const struct http_stats *
http_server_stats(const struct http_server *srv)
{
    return &srv->stats;
}

void
http_server_stop(struct http_server *srv, http_stop_cb cb, void *arg)
{
    struct http_conn *c, *next;

    if (srv->stopping) {
        return;
    }
    srv->stopping = true;
    srv->stop_cb = cb;
    srv->stop_arg = arg;
    uv_close((uv_handle_t *)&srv->listener, on_listener_close);
    for (c = srv->conns; c != NULL; c = next) {
        next = c->next;
        conn_close(c);
    }
}
