/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for node/http/: the request reader and router driven from
 * buffers, and the server over real sockets on 127.0.0.1 (kernel-chosen
 * port) with a blocking client in a thread while the test runs the loop.
 */
#define _GNU_SOURCE /* memmem */
#include "tests/lib/test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <uv.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "node/http/http.h"

#define MAX_HELD      64
#define STREAM_CHUNK  (64 * 1024)
#define STREAM_CHUNKS 16

struct fixture;
typedef void (*client_fn)(struct fixture *f);

struct fixture {
    uv_loop_t loop;
    uv_timer_t tick;
    struct http_server *srv;
    struct http_router *router;
    int port;
    bool stopped;
    struct http_stats last_stats;

    /* Handler side (loop thread). */
    struct http_request *held[MAX_HELD];
    int n_held;
    int max_held;
    int hold_answer_at; /* answer all held, newest first, at this count */
    int n_answered;
    uv_timer_t slow_timer;
    struct http_request *slow_req;
    char order[64]; /* which handlers answered, in answer order */
    struct http_request *stream_req;
    int stream_sent;
    int stream_outstanding;
    int stream_max_outstanding;
    int stream_write_rc;

    /* Client side (its own thread); checked after the join. */
    pthread_t thread;
    client_fn fn;
    atomic_bool client_done;
    int n_resp;
    int status[16];
    char head[16][2048];
    char body[16][512];
    size_t body_len[16];
    bool eof[16];
    int flag[16];
    bool head_only; /* the next response answers a HEAD */
};

/* ---- client helpers (blocking sockets) ---- */

struct rbuf {
    char data[1 << 18];
    size_t len;
};

static int
cli_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { 0 };
    struct timeval tv = { .tv_sec = 5 };

    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
cli_send(int fd, const void *p, size_t n)
{
    const char *s = p;

    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void
cli_sends(int fd, const char *s)
{
    cli_send(fd, s, strlen(s));
}

/* Read more into `rb`; 0 on EOF, reset or timeout. */
static int
cli_fill(int fd, struct rbuf *rb)
{
    if (rb->len == sizeof(rb->data)) {
        return 0;
    }
    ssize_t n = recv(fd, rb->data + rb->len, sizeof(rb->data) - rb->len, 0);
    if (n <= 0) {
        return 0;
    }
    rb->len += (size_t)n;
    return 1;
}

static void
rb_consume(struct rbuf *rb, size_t n)
{
    memmove(rb->data, rb->data + n, rb->len - n);
    rb->len -= n;
}

/* Find the header `name` in a response head; copy its value. */
static bool
head_value(const char *head, const char *name, char *out, size_t size)
{
    const char *p = head;
    size_t nlen = strlen(name);

    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ') {
                v++;
            }
            size_t l = strcspn(v, "\r");
            if (l >= size) {
                l = size - 1;
            }
            memcpy(out, v, l);
            out[l] = '\0';
            return true;
        }
    }
    return false;
}

/*
 * Read one response into slot `i` of the fixture (body capped at 512 bytes,
 * whole length in body_len; `big` receives the whole body if not NULL).
 * Returns false on EOF before a full response.
 */
static bool
cli_read_resp(struct fixture *f, int fd, struct rbuf *rb, int i,
              struct pc_buf *big)
{
    char *end;
    char v[64];

    while ((end = memmem(rb->data, rb->len, "\r\n\r\n", 4)) == NULL) {
        if (!cli_fill(fd, rb)) {
            return false;
        }
    }
    size_t hlen = (size_t)(end - rb->data) + 4;
    size_t copy = hlen < sizeof(f->head[i]) ? hlen : sizeof(f->head[i]) - 1;
    memcpy(f->head[i], rb->data, copy);
    f->head[i][copy] = '\0';
    f->status[i] = atoi(rb->data + 9);
    rb_consume(rb, hlen);
    f->body_len[i] = 0;
    f->body[i][0] = '\0';
    if (f->status[i] == 100 || f->head_only) {
        return true;
    }
    if (head_value(f->head[i], "Transfer-Encoding", v, sizeof(v))) {
        for (;;) {
            while ((end = memmem(rb->data, rb->len, "\r\n", 2)) == NULL) {
                if (!cli_fill(fd, rb)) {
                    return false;
                }
            }
            size_t n = strtoul(rb->data, NULL, 16);
            size_t line = (size_t)(end - rb->data) + 2;
            while (rb->len < line + n + 2) {
                if (!cli_fill(fd, rb)) {
                    return false;
                }
            }
            if (big != NULL) {
                pc_buf_put(big, rb->data + line, n);
            }
            size_t room = sizeof(f->body[i]) - 1 - f->body_len[i];
            if (room > 0 && f->body_len[i] < sizeof(f->body[i]) - 1) {
                size_t c = n < room ? n : room;
                memcpy(f->body[i] + f->body_len[i], rb->data + line, c);
            }
            f->body_len[i] += n;
            rb_consume(rb, line + n + 2);
            if (n == 0) {
                break;
            }
        }
    } else {
        size_t n = 0;
        if (head_value(f->head[i], "Content-Length", v, sizeof(v))) {
            n = strtoul(v, NULL, 10);
        }
        while (rb->len < n) {
            if (!cli_fill(fd, rb)) {
                return false;
            }
        }
        size_t c = n < sizeof(f->body[i]) - 1 ? n : sizeof(f->body[i]) - 1;
        memcpy(f->body[i], rb->data, c);
        f->body_len[i] = n;
        rb_consume(rb, n);
    }
    size_t c = f->body_len[i] < sizeof(f->body[i]) - 1 ? f->body_len[i]
                                                       : sizeof(f->body[i]) - 1;
    f->body[i][c] = '\0';
    return true;
}

/* True if the server closes (EOF or reset) within the receive timeout. */
static bool
cli_eof(int fd, struct rbuf *rb)
{
    for (;;) {
        ssize_t n = recv(fd, rb->data, sizeof(rb->data), 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            return true;
        }
        if (n < 0) {
            return false;
        }
    }
}

static void *
client_main(void *arg)
{
    struct fixture *f = arg;

    f->fn(f);
    atomic_store(&f->client_done, true);
    return NULL;
}

/* ---- loop side ---- */

static void
on_tick(uv_timer_t *t)
{
    (void)t;
}

typedef bool (*cond_fn)(struct fixture *f);

/* Run the loop until `cond` holds or `ms` pass; returns cond's value. */
static bool
run_until(struct fixture *f, cond_fn cond, int ms)
{
    uint64_t end = uv_now(&f->loop) + (uint64_t)ms;

    uv_timer_start(&f->tick, on_tick, 1, 1);
    while (!cond(f) && uv_now(&f->loop) < end) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&f->tick);
    return cond(f);
}

static bool
cond_client_done(struct fixture *f)
{
    return atomic_load(&f->client_done);
}

static bool
cond_never(struct fixture *f)
{
    (void)f;
    return false;
}

static void
client_start(struct fixture *f, client_fn fn)
{
    f->fn = fn;
    atomic_store(&f->client_done, false);
    assert_int_equal(pthread_create(&f->thread, NULL, client_main, f), 0);
}

static void
client_join(struct fixture *f)
{
    assert_true(run_until(f, cond_client_done, 10000));
    pthread_join(f->thread, NULL);
}

/* ---- handlers ---- */

static void
order_add(struct fixture *f, char c)
{
    size_t n = strlen(f->order);

    if (n + 1 < sizeof(f->order)) {
        f->order[n] = c;
        f->order[n + 1] = '\0';
    }
}

static void
h_hello(struct http_request *req, void *arg)
{
    static const char body[] = "{\"hello\":\"world\"}";

    order_add(arg, 'h');
    assert_int_equal(http_req_add_header(req, "X-Provcat-Revision", "12"),
                     PC_OK);
    http_respond_json(req, 200, body, sizeof(body) - 1);
}

static void
h_echo(struct http_request *req, void *arg)
{
    const struct http_header hdrs[] = { { "Content-Type", "text/plain" },
                                        { NULL, NULL } };

    (void)arg;
    http_respond(req, 200, hdrs, req->body, req->body_len);
}

/* Answers "cap0|cap1|name=value|..." from the decoded pieces. */
static void
h_segs(struct http_request *req, void *arg)
{
    struct pc_buf b;

    (void)arg;
    pc_buf_init(&b);
    for (size_t i = 0; i < req->n_caps; i++) {
        pc_buf_printf(&b, "%s|", req->caps[i]);
    }
    for (size_t i = 0; i < req->n_params; i++) {
        pc_buf_printf(&b, "%s=%s|", req->params[i].name, req->params[i].value);
    }
    pc_buf_printf(&b, "ip=%s", req->client_ip);
    http_respond(req, 200, NULL, b.data, b.len);
    pc_buf_release(&b);
}

static void
on_slow_timer(uv_timer_t *t)
{
    struct fixture *f = t->data;

    order_add(f, 's');
    http_respond_json(f->slow_req, 200, "\"slow\"", 6);
    f->slow_req = NULL;
}

static void
h_slow(struct http_request *req, void *arg)
{
    struct fixture *f = arg;

    f->slow_req = req;
    uv_timer_start(&f->slow_timer, on_slow_timer, 50, 0);
}

/* Answer every held request, newest first. Answering can dispatch more
 * requests into `held` at once, so work from a snapshot. */
static void
answer_held(struct fixture *f)
{
    struct http_request *batch[MAX_HELD];
    int n = f->n_held;
    char body[32];

    memcpy(batch, f->held, sizeof(batch));
    f->n_held = 0;
    while (n > 0) {
        struct http_request *req = batch[--n];
        int len = snprintf(body, sizeof(body), "\"%s\"",
                           req->query[0] != '\0' ? req->query : "held");
        http_respond_json(req, 200, body, (size_t)len);
        f->n_answered++;
    }
}

static void
h_hold(struct http_request *req, void *arg)
{
    struct fixture *f = arg;

    f->held[f->n_held++] = req;
    if (f->n_held > f->max_held) {
        f->max_held = f->n_held;
    }
    if (f->hold_answer_at > 0 && f->n_held == f->hold_answer_at) {
        answer_held(f);
    }
}

static void stream_pump(struct fixture *f);

static void
on_stream_written(struct http_request *req, int status, void *arg)
{
    struct fixture *f = arg;

    (void)req;
    f->stream_outstanding--;
    if (status != PC_OK) {
        f->stream_write_rc = status;
    }
    stream_pump(f);
}

/* Keep at most two chunks outstanding: the producer's backpressure. */
static void
stream_pump(struct fixture *f)
{
    static char chunk[STREAM_CHUNK];

    if (f->stream_req == NULL) {
        return;
    }
    while (f->stream_outstanding < 2 && f->stream_sent < STREAM_CHUNKS) {
        for (size_t i = 0; i < sizeof(chunk); i++) {
            chunk[i] = (char)('a' + (f->stream_sent * 7 + i) % 26);
        }
        int rc = http_respond_write(f->stream_req, chunk, sizeof(chunk),
                                    on_stream_written, f);
        if (rc != PC_OK) {
            f->stream_write_rc = rc;
            http_respond_end(f->stream_req);
            f->stream_req = NULL;
            return;
        }
        f->stream_sent++;
        f->stream_outstanding++;
        if (f->stream_outstanding > f->stream_max_outstanding) {
            f->stream_max_outstanding = f->stream_outstanding;
        }
    }
    if (f->stream_sent == STREAM_CHUNKS && f->stream_outstanding == 0) {
        http_respond_end(f->stream_req);
        f->stream_req = NULL;
    }
}

static void
h_stream(struct http_request *req, void *arg)
{
    struct fixture *f = arg;
    const struct http_header hdrs[] = {
        { "Content-Type", "application/octet-stream" }, { NULL, NULL }
    };

    assert_int_equal(http_respond_start(req, 200, hdrs), PC_OK);
    f->stream_req = req;
    f->stream_sent = 0;
    stream_pump(f);
}

/* ---- fixture ---- */

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_init(&f->loop, &f->slow_timer);
    f->slow_timer.data = f;

    const struct http_route routes[] = {
        { "GET", "/hello", h_hello, f },
        { "POST", "/echo", h_echo, f },
        { "PUT", "/echo", h_echo, f },
        { "GET", "/segs/{a}/{b}", h_segs, f },
        { "GET", "/slow", h_slow, f },
        { "GET", "/hold", h_hold, f },
        { "GET", "/stream", h_stream, f },
        { "DELETE", "/segs/{a}/{b}", h_segs, f },
    };
    char errmsg[PC_ERRMSG_SIZE];
    assert_int_equal(http_router_new(routes, sizeof(routes) / sizeof(*routes),
                                     &f->router, errmsg),
                     PC_OK);
    *state = f;
    return 0;
}

static void
server_start(struct fixture *f, const struct http_limits *l)
{
    char errmsg[PC_ERRMSG_SIZE];

    assert_int_equal(http_server_start(&f->loop, "127.0.0.1", 0, l,
                                       http_router_dispatch, f->router, &f->srv,
                                       errmsg),
                     PC_OK);
    f->port = http_server_port(f->srv);
    assert_true(f->port > 0);
}

static void
on_stopped(void *arg)
{
    struct fixture *f = arg;

    f->stopped = true;
}

static bool
cond_stopped(struct fixture *f)
{
    return f->stopped;
}

static void
server_stop(struct fixture *f)
{
    if (f->srv != NULL && !f->stopped) {
        f->last_stats = *http_server_stats(f->srv);
        http_server_stop(f->srv, on_stopped, f);
        assert_true(run_until(f, cond_stopped, 5000));
    }
}

static void
close_cb(uv_handle_t *h)
{
    (void)h;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    server_stop(f);
    /* Requests still held are orphans now: finishing them only frees. */
    answer_held(f);
    if (f->slow_req != NULL) {
        http_respond_json(f->slow_req, 200, "{}", 2);
    }
    if (f->stream_req != NULL) {
        http_respond_end(f->stream_req);
    }
    http_router_free(f->router);
    uv_close((uv_handle_t *)&f->tick, close_cb);
    uv_close((uv_handle_t *)&f->slow_timer, close_cb);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

static struct http_limits
test_limits(void)
{
    struct http_limits l;

    http_limits_default(&l);
    l.idle_timeout_ms = 5000;
    l.request_timeout_ms = 5000;
    l.linger_ms = 500;
    return l;
}

/* ---- reader and router, no sockets ---- */

/* Feed `s` to a fresh reader `step` bytes at a time; collect requests. */
static int
feed_all(const char *s, size_t len, size_t step, struct http_request **out,
         int max, int *rc_out, struct http_reader **rd_out)
{
    struct http_reader *rd;
    int n = 0;
    size_t off = 0;

    assert_int_equal(http_reader_new(NULL, "10.0.0.1", &rd), PC_OK);
    *rc_out = PC_OK;
    while (off < len) {
        size_t chunk = len - off < step ? len - off : step;
        size_t base = off;

        while (off < base + chunk) {
            struct http_request *req;
            size_t used;
            int rc =
                http_reader_feed(rd, s + off, base + chunk - off, &used, &req);
            off += used;
            if (rc != PC_OK) {
                *rc_out = rc;
                goto out;
            }
            if (req != NULL) {
                assert_true(n < max);
                out[n++] = req;
            } else if (used == 0) {
                break;
            }
        }
    }
out:
    if (rd_out != NULL) {
        *rd_out = rd;
    } else {
        http_reader_free(rd);
    }
    return n;
}

/* Pipelined requests parse the same whether fed at once or byte by byte. */
static void
test_http_reader_pipelined_any_split(void **state)
{
    static const char in[] =
        "GET /v1/a%2Fb/c%20d/?x=1+2&y=%41&flag HTTP/1.1\r\n"
        "Host: h\r\nX-Thing:  spaced value \t\r\n\r\n"
        "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
        "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        "GET / HTTP/1.0\r\n\r\n";
    size_t steps[] = { sizeof(in), 1, 3, 17 };

    (void)state;
    for (size_t s = 0; s < sizeof(steps) / sizeof(*steps); s++) {
        struct http_request *r[8];
        int rc;
        int n = feed_all(in, sizeof(in) - 1, steps[s], r, 8, &rc, NULL);

        assert_int_equal(rc, PC_OK);
        assert_int_equal(n, 4);
        assert_int_equal(r[0]->verb, HTTP_VERB_GET);
        assert_string_equal(r[0]->path, "/v1/a%2Fb/c%20d/");
        assert_string_equal(r[0]->query, "x=1+2&y=%41&flag");
        assert_int_equal(r[0]->n_segs, 4);
        assert_string_equal(r[0]->segs[0], "v1");
        assert_string_equal(r[0]->segs[1], "a/b");
        assert_string_equal(r[0]->segs[2], "c d");
        assert_string_equal(r[0]->segs[3], "");
        assert_int_equal(r[0]->n_params, 3);
        assert_string_equal(http_req_param(r[0], "x"), "1 2");
        assert_string_equal(http_req_param(r[0], "y"), "A");
        assert_string_equal(http_req_param(r[0], "flag"), "");
        assert_null(http_req_param(r[0], "z"));
        assert_string_equal(http_req_header(r[0], "x-THING"), "spaced value");
        assert_string_equal(http_req_header(r[0], "host"), "h");
        assert_string_equal(r[0]->client_ip, "10.0.0.1");
        assert_string_equal(r[1]->method, "POST");
        assert_int_equal(r[1]->body_len, 5);
        assert_memory_equal(r[1]->body, "hello", 5);
        assert_int_equal(r[2]->body_len, 5);
        assert_string_equal((const char *)r[2]->body, "abcde");
        assert_int_equal(r[3]->n_segs, 0);
        assert_int_equal(r[3]->http_minor, 0);
        for (int i = 0; i < n; i++) {
            http_respond(r[i], 200, NULL, NULL, 0); /* conn-less: frees */
        }
    }
}

/* A 512-byte key sent fully percent-encoded fits the default limits. */
static void
test_http_reader_long_key(void **state)
{
    struct pc_buf b;
    struct http_request *r[1];
    int rc;

    (void)state;
    pc_buf_init(&b);
    pc_buf_printf(&b, "PUT /v1/catalog/entry/records/");
    for (int i = 0; i < 512; i++) {
        pc_buf_printf(&b, "%%%02X", 'A' + i % 26);
    }
    pc_buf_printf(&b, " HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(feed_all((char *)b.data, b.len, 700, r, 1, &rc, NULL), 1);
    assert_int_equal(r[0]->n_segs, 5);
    assert_int_equal(strlen(r[0]->segs[4]), 512);
    assert_int_equal(r[0]->segs[4][27], 'B');
    http_respond(r[0], 200, NULL, NULL, 0);
    pc_buf_release(&b);
}

/* Bad percent-encoding, %00, bad syntax and limits are refused. */
static void
test_http_reader_rejects(void **state)
{
    static const struct {
        const char *in;
        int rc;
    } cases[] = {
        { "GET /a/%zz HTTP/1.1\r\n\r\n", PC_EPROTO },
        { "GET /a/%4 HTTP/1.1\r\n\r\n", PC_EPROTO },
        { "GET /a/%00 HTTP/1.1\r\n\r\n", PC_EPROTO },
        { "GET /a?q=%0 HTTP/1.1\r\n\r\n", PC_EPROTO },
        { "GET http://x/ HTTP/1.1\r\n\r\n", PC_EPROTO },
        { "\x01\x02garbage\r\n\r\n", PC_EPROTO },
        { "GET / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", PC_ETOOLARGE },
        { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
          "200000\r\n",
          PC_ETOOLARGE },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct http_request *r[2];
        struct http_reader *rd;
        int rc;
        int n =
            feed_all(cases[i].in, strlen(cases[i].in), 1000, r, 2, &rc, &rd);

        assert_int_equal(n, 0);
        assert_int_equal(rc, cases[i].rc);
        assert_true(strlen(http_reader_error(rd)) > 0);
        http_reader_free(rd);
    }

    /* 65 headers is one too many. */
    struct pc_buf b;
    pc_buf_init(&b);
    pc_buf_printf(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 65; i++) {
        pc_buf_printf(&b, "H%d: v\r\n", i);
    }
    pc_buf_printf(&b, "\r\n");
    struct http_request *r[2];
    int rc;
    assert_int_equal(feed_all((char *)b.data, b.len, b.len, r, 2, &rc, NULL),
                     0);
    assert_int_equal(rc, PC_EPROTO);
    pc_buf_release(&b);
}

/* The router matches decoded segments, captures them, and says 404/405. */
static void
test_http_router_match(void **state)
{
    struct fixture *f = *state;
    static const char in[] = "GET /segs/a%2Fb/c HTTP/1.1\r\n\r\n"
                             "GET /segs/a/b/c HTTP/1.1\r\n\r\n"
                             "PUT /segs/a/b HTTP/1.1\r\n\r\n"
                             "HEAD /hello HTTP/1.1\r\n\r\n";
    struct http_request *r[4];
    char allow[64];
    int rc, status;
    const struct http_route *rt;

    assert_int_equal(feed_all(in, sizeof(in) - 1, 1000, r, 4, &rc, NULL), 4);
    rt = http_router_match(f->router, r[0], &status, allow, sizeof(allow));
    assert_non_null(rt);
    assert_string_equal(rt->pattern, "/segs/{a}/{b}");
    assert_int_equal(r[0]->n_caps, 2);
    assert_string_equal(r[0]->caps[0], "a/b");
    assert_string_equal(r[0]->caps[1], "c");
    assert_null(http_router_match(f->router, r[1], &status, allow, 64));
    assert_int_equal(status, 404);
    assert_null(http_router_match(f->router, r[2], &status, allow, 64));
    assert_int_equal(status, 405);
    assert_string_equal(allow, "GET, HEAD, DELETE");
    rt = http_router_match(f->router, r[3], &status, allow, sizeof(allow));
    assert_non_null(rt);
    assert_string_equal(rt->pattern, "/hello");
    for (int i = 0; i < 4; i++) {
        http_respond(r[i], 200, NULL, NULL, 0);
    }

    struct http_router *bad;
    char errmsg[PC_ERRMSG_SIZE];
    const struct http_route br[] = { { "GET", "nope", h_hello, NULL } };
    assert_int_equal(http_router_new(br, 1, &bad, errmsg), PC_EINVAL);
}

/* Error bodies are exact and escape quotes, controls and bad UTF-8. */
static void
test_http_json_error_escapes(void **state)
{
    struct pc_buf b;

    (void)state;
    pc_buf_init(&b);
    assert_int_equal(
        http_json_error(&b, "bad_request", "a \"q\"\\\n\x01 \xc3\xa9 \xff end"),
        PC_OK);
    pc_buf_put_u8(&b, 0);
    assert_string_equal((char *)b.data,
                        "{\"error\":{\"code\":\"bad_request\",\"message\":"
                        "\"a \\\"q\\\"\\\\\\n\\u0001 \xc3\xa9 \\ufffd end\"}}");
    pc_buf_release(&b);
}

/* Out of memory anywhere in the reader fails cleanly, never leaks. */
static void
test_http_reader_survives_oom(void **state)
{
    static const char in[] = "GET /a/b%20c?x=1&y=2 HTTP/1.1\r\nH: v\r\n"
                             "Content-Length: 3\r\n\r\nabc";

    struct test_oom o = { 0 };

    (void)state;
    for (long n = 0;; n++) {
        struct http_reader *rd = NULL;
        struct http_request *req = NULL;
        size_t used;

        test_oom_arm(&o, n, 1);
        int rc = http_reader_new(NULL, "ip", &rd);
        if (rc == PC_OK) {
            rc = http_reader_feed(rd, in, sizeof(in) - 1, &used, &req);
        }
        test_oom_disarm(&o, rc == PC_OK);
        http_reader_free(rd);
        if (rc == PC_OK) {
            assert_non_null(req);
            assert_string_equal(req->segs[1], "b c");
            assert_string_equal((const char *)req->body, "abc");
            http_respond(req, 200, NULL, NULL, 0);
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
        assert_true(n < 1000);
    }
    test_oom_end(&o);
}

/* ---- server over sockets ---- */

static void
c_simple_get(struct fixture *f)
{
    struct rbuf rb = { .len = 0 };
    int fd = cli_connect(f->port);

    cli_sends(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    f->n_resp = cli_read_resp(f, fd, &rb, 0, NULL);
    close(fd);
}

/* A GET is answered with JSON, Content-Length and the added header. */
static void
test_http_simple_get(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();
    char v[64];

    server_start(f, &l);
    client_start(f, c_simple_get);
    client_join(f);
    assert_int_equal(f->n_resp, 1);
    assert_int_equal(f->status[0], 200);
    assert_string_equal(f->body[0], "{\"hello\":\"world\"}");
    assert_true(head_value(f->head[0], "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "application/json");
    assert_true(head_value(f->head[0], "Content-Length", v, sizeof(v)));
    assert_string_equal(v, "17");
    assert_true(head_value(f->head[0], "X-Provcat-Revision", v, sizeof(v)));
    assert_string_equal(v, "12");
    assert_false(head_value(f->head[0], "Connection", v, sizeof(v)));
    const struct http_stats *st = http_server_stats(f->srv);
    assert_int_equal(st->requests, 1);
    assert_int_equal(st->responses[2], 1);
    assert_true(st->bytes_in > 0 && st->bytes_out > 0);
}

static void
c_post_keepalive(struct fixture *f)
{
    struct rbuf rb = { .len = 0 };
    int fd = cli_connect(f->port);

    cli_sends(fd, "POST /echo HTTP/1.1\r\nContent-Length: 11\r\n\r\n"
                  "hello world");
    f->n_resp += cli_read_resp(f, fd, &rb, 0, NULL);
    cli_sends(fd, "PUT /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz");
    f->n_resp += cli_read_resp(f, fd, &rb, 1, NULL);
    cli_sends(fd, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
    f->n_resp += cli_read_resp(f, fd, &rb, 2, NULL);
    f->eof[0] = cli_eof(fd, &rb);
    close(fd);
}

/* Bodies arrive whole; one connection serves sequential requests until a
 * "Connection: close" request, which is answered with close and EOF. */
static void
test_http_post_keepalive(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();
    char v[64];

    server_start(f, &l);
    client_start(f, c_post_keepalive);
    client_join(f);
    assert_int_equal(f->n_resp, 3);
    assert_string_equal(f->body[0], "hello world");
    assert_true(head_value(f->head[0], "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "text/plain");
    assert_string_equal(f->body[1], "xyz");
    assert_int_equal(f->status[2], 200);
    assert_true(head_value(f->head[2], "Connection", v, sizeof(v)));
    assert_string_equal(v, "close");
    assert_true(f->eof[0]);
    assert_int_equal(http_server_stats(f->srv)->conn_accepted, 1);
}

static void
c_pipelined(struct fixture *f)
{
    struct rbuf rb = { .len = 0 };
    int fd = cli_connect(f->port);

    cli_sends(fd, "GET /slow HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n"
                  "GET /nope HTTP/1.1\r\n\r\n");
    for (int i = 0; i < 3; i++) {
        f->n_resp += cli_read_resp(f, fd, &rb, i, NULL);
    }
    close(fd);
}

/* Pipelined answers keep request order though the first is answered last. */
static void
test_http_pipelined_in_order(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();

    server_start(f, &l);
    client_start(f, c_pipelined);
    client_join(f);
    assert_string_equal(f->order, "hs");
    assert_int_equal(f->n_resp, 3);
    assert_string_equal(f->body[0], "\"slow\"");
    assert_string_equal(f->body[1], "{\"hello\":\"world\"}");
    assert_int_equal(f->status[2], 404);
    assert_string_equal(f->body[2], "{\"error\":{\"code\":\"not_found\","
                                    "\"message\":\"no such path\"}}");
}

static void
c_backpressure(struct fixture *f)
{
    struct rbuf rb = { .len = 0 };
    int fd = cli_connect(f->port);
    char req[64];

    for (int i = 0; i < 12; i++) {
        snprintf(req, sizeof(req), "GET /hold?%d HTTP/1.1\r\n\r\n", i);
        cli_sends(fd, req);
    }
    for (int i = 0; i < 12; i++) {
        f->n_resp += cli_read_resp(f, fd, &rb, i, NULL);
    }
    close(fd);
}

/* With 4 requests in flight the server stops taking more from the
 * connection, and all 12 answers, each batch answered newest first, still
 * come back in request order. */
static void
test_http_backpressure(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();

    l.max_inflight = 4;
    server_start(f, &l);
    f->hold_answer_at = 0;
    client_start(f, c_backpressure);
    run_until(f, cond_never, 150);
    assert_int_equal(f->n_held, 4);
    f->hold_answer_at = 4;
    answer_held(f);
    client_join(f);
    assert_int_equal(f->max_held, 4);
    assert_int_equal(f->n_resp, 12);
    for (int i = 0; i < 12; i++) {
        char want[8];
        snprintf(want, sizeof(want), "\"%d\"", i);
        assert_string_equal(f->body[i], want);
    }
}

static void
c_decoding(struct fixture *f)
{
    struct rbuf rb = { .len = 0 };
    int fd = cli_connect(f->port);

    cli_sends(fd, "GET /segs/a%2Fb/c%20d?x=1+2&y=%41 HTTP/1.1\r\n\r\n");
    f->n_resp += cli_read_resp(f, fd, &rb, 0, NULL);
    cli_sends(fd, "DELETE /hello HTTP/1.1\r\n\r\n");
    f->n_resp += cli_read_resp(f, fd, &rb, 1, NULL);
    cli_sends(fd, "GET /segs/%zz/b HTTP/1.1\r\n\r\n");
    f->n_resp += cli_read_resp(f, fd, &rb, 2, NULL);
    f->eof[0] = cli_eof(fd, &rb);
    close(fd);
}

/* Segments are split then decoded (%2F stays inside one); a bad escape is
 * 400 with the API body and closes the connection; 405 lists Allow. */
static void
test_http_percent_decoding(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();
    char v[64];

    server_start(f, &l);
    client_start(f, c_decoding);
    client_join(f);
    assert_int_equal(f->n_resp, 3);
    assert_string_equal(f->body[0], "a/b|c d|x=1 2|y=A|ip=127.0.0.1");
    assert_int_equal(f->status[1], 405);
    assert_true(head_value(f->head[1], "Allow", v, sizeof(v)));
    assert_string_equal(v, "GET, HEAD");
    assert_int_equal(f->status[2], 400);
    assert_string_equal(f->body[2],
                        "{\"error\":{\"code\":\"bad_request\",\"message\":"
                        "\"invalid percent-encoding in path\"}}");
    assert_true(head_value(f->head[2], "Connection", v, sizeof(v)));
    assert_string_equal(v, "close");
    assert_true(f->eof[0]);
    assert_int_equal(http_server_stats(f->srv)->parse_errors, 1);
}

static void
c_too_large(struct fixture *f)
{
    struct rbuf rb = { .len = 0 };
    int fd = cli_connect(f->port);
    char body[5000];

    memset(body, 'x', sizeof(body));
    cli_sends(fd, "POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
    cli_send(fd, body, sizeof(body));
    f->n_resp += cli_read_resp(f, fd, &rb, 0, NULL);
    f->eof[0] = cli_eof(fd, &rb);
    close(fd);

    /* Chunked: refused once the chunks pass the limit. */
    fd = cli_connect(f->port);
    cli_sends(fd, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; i++) {
        cli_sends(fd, "190\r\n");
        cli_send(fd, body, 400);
        cli_sends(fd, "\r\n");
    }
    f->n_resp += cli_read_resp(f, fd, &rb, 1, NULL);
    f->eof[1] = cli_eof(fd, &rb);
    close(fd);

    /* Within the limit, chunked bodies are reassembled. */
    fd = cli_connect(f->port);
    cli_sends(fd, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    f->n_resp += cli_read_resp(f, fd, &rb, 2, NULL);
    close(fd);
}

/* Bodies over the limit get 413 too_large and a closed connection, whether
 * announced by Content-Length or found while reading chunks. */
static void
test_http_body_too_large(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();
    char v[64];

    l.max_body_bytes = 1000;
    server_start(f, &l);
    client_start(f, c_too_large);
    client_join(f);
    assert_int_equal(f->n_resp, 3);
    assert_int_equal(f->status[0], 413);
    assert_string_equal(f->body[0], "{\"error\":{\"code\":\"too_large\","
                                    "\"message\":\"request body too large\"}}");
    assert_true(head_value(f->head[0], "Connection", v, sizeof(v)));
    assert_true(f->eof[0]);
    assert_int_equal(f->status[1], 413);
    assert_true(f->eof[1]);
    assert_int_equal(f->status[2], 200);
    assert_string_equal(f->body[2], "hello world");
}

static void
c_garbage(struct fixture *f)
{
    struct rbuf rb = { .len = 0 };
    int fd = cli_connect(f->port);
    char big[20000];

    cli_send(fd, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage", 18);
    f->n_resp += cli_read_resp(f, fd, &rb, 0, NULL);
    f->eof[0] = cli_eof(fd, &rb);
    close(fd);

    fd = cli_connect(f->port);
    memset(big, 'a', sizeof(big));
    cli_sends(fd, "GET /hello HTTP/1.1\r\nX-Big: ");
    cli_send(fd, big, sizeof(big));
    cli_sends(fd, "\r\n\r\n");
    f->n_resp += cli_read_resp(f, fd, &rb, 1, NULL);
    f->eof[1] = cli_eof(fd, &rb);
    close(fd);

    fd = cli_connect(f->port);
    cli_sends(fd, "GET /hello HTTP/1.1\r\n\r\n");
    f->n_resp += cli_read_resp(f, fd, &rb, 2, NULL);
    close(fd);
}

/* Garbage and oversized headers get 400 bad_request and a close; the server
 * then serves a new connection normally. */
static void
test_http_garbage_and_big_header(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();

    server_start(f, &l);
    client_start(f, c_garbage);
    client_join(f);
    assert_int_equal(f->n_resp, 3);
    assert_int_equal(f->status[0], 400);
    assert_non_null(strstr(f->body[0], "\"code\":\"bad_request\""));
    assert_true(f->eof[0]);
    assert_int_equal(f->status[1], 400);
    assert_non_null(strstr(f->body[1], "request header too large"));
    assert_true(f->eof[1]);
    assert_int_equal(f->status[2], 200);
    assert_int_equal(http_server_stats(f->srv)->parse_errors, 2);
}

static void
c_timeouts(struct fixture *f)
{
    struct rbuf rb = { .len = 0 };
    struct timespec t0, t1;
    int fd;

    /* Idle: a connection that never sends. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fd = cli_connect(f->port);
    f->eof[0] = cli_eof(fd, &rb);
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    f->flag[0] = (int)((t1.tv_sec - t0.tv_sec) * 1000 +
                       (t1.tv_nsec - t0.tv_nsec) / 1000000);

    /* Idle after a request. */
    fd = cli_connect(f->port);
    cli_sends(fd, "GET /hello HTTP/1.1\r\n\r\n");
    f->n_resp += cli_read_resp(f, fd, &rb, 0, NULL);
    f->eof[1] = cli_eof(fd, &rb);
    close(fd);

    /* Slow request: headers trickle and never end. */
    fd = cli_connect(f->port);
    cli_sends(fd, "GET /hello HTTP/1.1\r\n");
    for (int i = 0; i < 5; i++) {
        usleep(30000);
        cli_sends(fd, "X: y\r\n");
    }
    f->eof[2] = cli_eof(fd, &rb);
    close(fd);
}

/* An idle connection closes after the idle timeout; one whose request does
 * not complete in time closes though it keeps sending bytes. */
static void
test_http_timeouts(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();

    l.idle_timeout_ms = 100;
    l.request_timeout_ms = 100;
    server_start(f, &l);
    client_start(f, c_timeouts);
    client_join(f);
    assert_true(f->eof[0]);
    assert_true(f->flag[0] >= 80 && f->flag[0] < 3000);
    assert_int_equal(f->n_resp, 1);
    assert_true(f->eof[1]);
    assert_true(f->eof[2]);
    assert_int_equal(http_server_stats(f->srv)->timeouts, 3);
    assert_int_equal(http_server_stats(f->srv)->conn_open, 0);
}

static void
c_disconnect(struct fixture *f)
{
    int fd = cli_connect(f->port);

    cli_sends(fd, "GET /hold HTTP/1.1\r\n\r\nGET /stream HTTP/1.1\r\n\r\n");
    usleep(100000);
    close(fd);
}

static bool
cond_no_conns(struct fixture *f)
{
    return atomic_load(&f->client_done) &&
           http_server_stats(f->srv)->conn_open == 0;
}

/* A client leaving while its requests are with handlers orphans them:
 * answering later, or streaming into them, is safe and frees them. */
static void
test_http_disconnect_then_respond(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();

    server_start(f, &l);
    client_start(f, c_disconnect);
    assert_true(run_until(f, cond_no_conns, 5000));
    pthread_join(f->thread, NULL);
    assert_int_equal(f->n_held, 1);
    /* The stream was queued behind the held request: its chunks were
     * dropped with PC_ESHUTDOWN, or its writes refused. */
    assert_null(f->stream_req);
    assert_true(f->stream_write_rc == PC_ESHUTDOWN);
    answer_held(f);
    assert_int_equal(f->n_answered, 1);
}

static void
c_max_conns(struct fixture *f)
{
    struct rbuf rb = { .len = 0 };
    int a = cli_connect(f->port);
    int b = cli_connect(f->port);

    cli_sends(a, "GET /hello HTTP/1.1\r\n\r\n");
    f->n_resp += cli_read_resp(f, a, &rb, 0, NULL);
    cli_sends(b, "GET /hello HTTP/1.1\r\n\r\n");
    f->n_resp += cli_read_resp(f, b, &rb, 1, NULL);
    int c = cli_connect(f->port);
    f->n_resp += cli_read_resp(f, c, &rb, 2, NULL);
    f->eof[0] = cli_eof(c, &rb);
    close(c);
    close(a);
    for (int tries = 0; tries < 50; tries++) {
        usleep(20000);
        int d = cli_connect(f->port);
        cli_sends(d, "GET /hello HTTP/1.1\r\n\r\n");
        bool ok = cli_read_resp(f, d, &rb, 3, NULL);
        close(d);
        if (ok && f->status[3] == 200) {
            f->n_resp++;
            break;
        }
    }
    close(b);
}

/* Beyond max_connections a connection gets 503 unavailable and is closed;
 * once one closes, new connections are served again. */
static void
test_http_max_connections(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();
    char v[64];

    l.max_connections = 2;
    server_start(f, &l);
    client_start(f, c_max_conns);
    client_join(f);
    assert_int_equal(f->n_resp, 4);
    assert_int_equal(f->status[0], 200);
    assert_int_equal(f->status[1], 200);
    assert_int_equal(f->status[2], 503);
    assert_true(head_value(f->head[2], "Retry-After", v, sizeof(v)));
    assert_string_equal(f->body[2], "{\"error\":{\"code\":\"unavailable\","
                                    "\"message\":\"too many connections\"}}");
    assert_true(f->eof[0]);
    assert_int_equal(f->status[3], 200);
    assert_true(http_server_stats(f->srv)->conn_rejected >= 1);
}

static void
c_stream(struct fixture *f)
{
    struct rbuf rb = { .len = 0 };
    int fd = cli_connect(f->port);
    struct pc_buf big;

    pc_buf_init(&big);
    cli_sends(fd, "GET /stream HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n");
    /* Let the server fill the socket buffers before reading. */
    usleep(50000);
    f->n_resp += cli_read_resp(f, fd, &rb, 0, &big);
    f->n_resp += cli_read_resp(f, fd, &rb, 1, NULL);
    f->flag[0] = big.len == (size_t)STREAM_CHUNK * STREAM_CHUNKS;
    f->flag[1] = 1;
    for (size_t i = 0; i < big.len; i++) {
        size_t k = i / STREAM_CHUNK, j = i % STREAM_CHUNK;
        if (big.data[i] != (uint8_t)('a' + (k * 7 + j) % 26)) {
            f->flag[1] = 0;
            break;
        }
    }
    pc_buf_release(&big);
    /* HEAD: the head only, and the connection stays usable. */
    cli_sends(fd, "HEAD /stream HTTP/1.1\r\n\r\n");
    f->head_only = true;
    f->n_resp += cli_read_resp(f, fd, &rb, 3, NULL);
    f->head_only = false;
    cli_sends(fd, "GET /stream HTTP/1.0\r\n\r\n");
    f->n_resp += cli_read_resp(f, fd, &rb, 2, NULL);
    /* HTTP/1.0: the body runs to EOF. */
    size_t total = f->body_len[2] + rb.len;
    for (;;) {
        ssize_t n = recv(fd, rb.data, sizeof(rb.data), 0);
        if (n <= 0) {
            break;
        }
        total += (size_t)n;
    }
    f->flag[2] = total == (size_t)STREAM_CHUNK * STREAM_CHUNKS;
    close(fd);
}

/* A streamed 1 MiB answer arrives intact (chunked for HTTP/1.1, to EOF for
 * HTTP/1.0, head only for HEAD) while the producer keeps at most two chunks
 * outstanding, and the pipelined request after it is answered after it. */
static void
test_http_streaming(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();
    char v[64];

    server_start(f, &l);
    client_start(f, c_stream);
    client_join(f);
    assert_int_equal(f->n_resp, 4);
    assert_int_equal(f->status[0], 200);
    assert_int_equal(f->status[3], 200);
    assert_false(head_value(f->head[3], "Content-Length", v, sizeof(v)));
    assert_true(head_value(f->head[0], "Transfer-Encoding", v, sizeof(v)));
    assert_string_equal(v, "chunked");
    assert_true(head_value(f->head[0], "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "application/octet-stream");
    assert_true(f->flag[0]);
    assert_true(f->flag[1]);
    assert_string_equal(f->body[1], "{\"hello\":\"world\"}");
    assert_true(head_value(f->head[2], "Connection", v, sizeof(v)));
    assert_string_equal(v, "close");
    assert_true(f->flag[2]);
    assert_int_equal(f->stream_max_outstanding, 2);
    assert_int_equal(f->stream_write_rc, PC_OK);
}

static void
c_continue_http10(struct fixture *f)
{
    struct rbuf rb = { .len = 0 };
    int fd = cli_connect(f->port);

    cli_sends(fd, "POST /echo HTTP/1.1\r\nContent-Length: 4\r\n"
                  "Expect: 100-continue\r\n\r\n");
    f->n_resp += cli_read_resp(f, fd, &rb, 0, NULL);
    cli_sends(fd, "ping");
    f->n_resp += cli_read_resp(f, fd, &rb, 1, NULL);
    close(fd);

    fd = cli_connect(f->port);
    cli_sends(fd, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    f->n_resp += cli_read_resp(f, fd, &rb, 2, NULL);
    cli_sends(fd, "HEAD /hello HTTP/1.0\r\n\r\n");
    f->head_only = true;
    f->n_resp += cli_read_resp(f, fd, &rb, 3, NULL);
    f->eof[0] = cli_eof(fd, &rb) && rb.len == 0;
    close(fd);
}

/* "Expect: 100-continue" gets an interim 100; HTTP/1.0 keeps the connection
 * only when asked; HEAD answers carry the length but no body. */
static void
test_http_continue_and_http10(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();
    char v[64];

    server_start(f, &l);
    client_start(f, c_continue_http10);
    client_join(f);
    assert_int_equal(f->n_resp, 4);
    assert_int_equal(f->status[0], 100);
    assert_int_equal(f->status[1], 200);
    assert_string_equal(f->body[1], "ping");
    assert_true(head_value(f->head[2], "Connection", v, sizeof(v)));
    assert_string_equal(v, "keep-alive");
    assert_int_equal(f->status[3], 200);
    assert_true(head_value(f->head[3], "Content-Length", v, sizeof(v)));
    assert_string_equal(v, "17");
    assert_true(head_value(f->head[3], "Connection", v, sizeof(v)));
    assert_string_equal(v, "close");
    assert_true(f->eof[0]);
}

static void
c_stop(struct fixture *f)
{
    struct rbuf rb = { .len = 0 };
    int fd = cli_connect(f->port);
    int idle = cli_connect(f->port);

    cli_sends(fd, "GET /hold HTTP/1.1\r\n\r\n");
    f->n_resp += cli_read_resp(f, fd, &rb, 0, NULL);
    f->eof[0] = cli_eof(fd, &rb);
    f->eof[1] = cli_eof(idle, &rb);
    close(fd);
    close(idle);
}

static bool
cond_held_and_two_conns(struct fixture *f)
{
    return f->n_held == 1 && http_server_stats(f->srv)->conn_open == 2;
}

/* Stopping closes the listener and every connection, busy or idle, and
 * frees the server; the pending request is finished afterwards, and the
 * teardown checks uv_loop_close() returns 0. */
static void
test_http_stop_closes_everything(void **state)
{
    struct fixture *f = *state;
    struct http_limits l = test_limits();

    server_start(f, &l);
    client_start(f, c_stop);
    assert_true(run_until(f, cond_held_and_two_conns, 5000));
    server_stop(f);
    assert_true(f->stopped);
    client_join(f);
    assert_int_equal(f->n_resp, 0);
    assert_true(f->eof[0]);
    assert_true(f->eof[1]);
    assert_int_equal(f->last_stats.conn_open, 2);
    assert_int_equal(cli_connect(f->port), -1);
    answer_held(f);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_reader_pipelined_any_split),
        cmocka_unit_test(test_http_reader_long_key),
        cmocka_unit_test(test_http_reader_rejects),
        cmocka_unit_test(test_http_json_error_escapes),
        cmocka_unit_test(test_http_reader_survives_oom),
        cmocka_unit_test_setup_teardown(test_http_router_match, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_simple_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_post_keepalive, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_pipelined_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_backpressure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_percent_decoding, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_body_too_large, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_garbage_and_big_header, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_disconnect_then_respond,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_max_connections, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_streaming, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_continue_and_http10, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_stop_closes_everything, setup,
                                        teardown),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
