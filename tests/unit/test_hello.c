/* SPDX-License-Identifier: MIT */
/*
 * The peer-port hello (node/raft/hello.c): the handshake bytes are raft
 * 0.22.1's (protocol 1, id, padded address length, NUL-padded address,
 * little-endian), what a hello and a reply may carry, and a round trip
 * over 127.0.0.1 with libuv: an answer, a silent peer (timeout) and a
 * closed port, each reported exactly once.
 */
#include "tests/lib/test.h"

#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/buf.h"
#include "common/err.h"
#include "node/raft/hello.h"

static uint64_t
get_u64le(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

/* The handshake raft_uv_tcp reads: protocol 1, the id, the padded length
 * of the address that follows, NUL-padded. */
static void
test_hello_handshake_bytes(void **state)
{
    struct hello h = { "0a1b", "http://10.0.0.2:8002" }, back;
    const char *want = "provcat-hello cluster=0a1b url=http://10.0.0.2:8002";
    struct pc_buf b;
    bool malformed;
    uint64_t len;

    (void)state;
    pc_buf_init(&b);
    assert_int_equal(hello_encode(&b, 42, &h), PC_OK);
    assert_int_equal(get_u64le(b.data), 1);
    assert_int_equal(get_u64le(b.data + 8), 42);
    len = get_u64le(b.data + 16);
    assert_int_equal(len % 8, 0);
    assert_true(len >= strlen(want) + 1 && len < strlen(want) + 9);
    assert_int_equal(b.len, 24 + len);
    assert_string_equal((const char *)b.data + 24, want);
    for (size_t i = 24 + strlen(want); i < b.len; i++) {
        assert_int_equal(b.data[i], 0);
    }
    assert_true(hello_parse((const char *)b.data + 24, &back, &malformed));
    assert_false(malformed);
    assert_string_equal(back.cluster, "0a1b");
    assert_string_equal(back.url, h.url);
    pc_buf_release(&b);
    /* no cluster yet travels as "-" */
    pc_buf_init(&b);
    h.cluster[0] = '\0';
    assert_int_equal(hello_encode(&b, 1, &h), PC_OK);
    assert_true(hello_parse((const char *)b.data + 24, &back, &malformed));
    assert_string_equal(back.cluster, "");
    pc_buf_release(&b);
    /* what may not travel */
    pc_buf_init(&b);
    snprintf(h.url, sizeof(h.url), "http://a b");
    assert_int_equal(hello_encode(&b, 1, &h), PC_EINVAL);
    snprintf(h.url, sizeof(h.url), "ftp://x");
    assert_int_equal(hello_encode(&b, 1, &h), PC_EINVAL);
    snprintf(h.url, sizeof(h.url), "http://x:1");
    snprintf(h.cluster, sizeof(h.cluster), "NOTHEX");
    assert_int_equal(hello_encode(&b, 1, &h), PC_EINVAL);
    assert_int_equal(b.len, 0);
    pc_buf_release(&b);
}

/* A raft peer's address is not a hello; a damaged hello is malformed. */
static void
test_hello_parse_refuses(void **state)
{
    static const char *const bad[] = {
        "provcat-hello ",
        "provcat-hello cluster=ab",
        "provcat-hello url=http://x:1",
        "provcat-hello cluster=ab url=",
        "provcat-hello cluster=ab url=http://x:1 extra",
        "provcat-hello cluster=AB url=http://x:1",
        "provcat-hello cluster=ab url=https://x:1",
        "provcat-hello cluster=ab url=http://x:1\x01",
        "provcat-hello cluster=ab  url=http://x:1",
    };
    struct hello h;
    bool malformed;

    (void)state;
    assert_false(hello_parse("127.0.0.1:7001", &h, &malformed));
    assert_false(malformed);
    assert_false(hello_parse("provcat-helloX", &h, &malformed));
    assert_false(malformed);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (hello_parse(bad[i], &h, &malformed) || !malformed) {
            fail_msg("accepted: %s", bad[i]);
        }
    }
    assert_true(
        hello_parse("provcat-hello cluster=- url=http://h:1", &h, &malformed));
}

/* A reply round-trips; damaged ones are refused. */
static void
test_hello_reply_line(void **state)
{
    struct hello_reply r = { "leader", 18446744073709551615ULL, false, true,
                             "00ff" },
                       back;
    char line[256];
    size_t len;

    (void)state;
    assert_int_equal(hello_reply_format(line, sizeof(line), &r), PC_OK);
    assert_string_equal(line, "provcat-hello-reply state=leader "
                              "term=18446744073709551615 member=0 committed=1 "
                              "cluster=00ff\n");
    len = strlen(line) - 1;
    assert_true(hello_reply_parse(line, len, &back));
    assert_string_equal(back.state, "leader");
    assert_true(back.term == r.term);
    assert_false(back.member);
    assert_true(back.committed);
    assert_string_equal(back.cluster, "00ff");
    assert_int_equal(hello_reply_format(line, 20, &r), PC_EINVAL);
    static const char *const bad[] = {
        "provcat-hello-reply state=leader term=1 member=0 committed=1",
        "provcat-hello-reply state=leader term=x member=0 committed=1 "
        "cluster=-",
        "provcat-hello-reply state=leader term=1 member=2 committed=1 "
        "cluster=-",
        "provcat-hello-reply state=leader term=1 member=0 committed=1 "
        "cluster=- more",
        "provcat-hello-reply state=leader term=-1 member=0 committed=1 "
        "cluster=-",
        "hello state=leader term=1 member=0 committed=1 cluster=-",
        "provcat-hello-reply state=leader term=1 member=0 committed=1 "
        "cluster=ZZ",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (hello_reply_parse(bad[i], strlen(bad[i]), &back)) {
            fail_msg("accepted: %s", bad[i]);
        }
    }
    const char *ok = "provcat-hello-reply state=follower term=3 member=1 "
                     "committed=0 cluster=-";
    assert_true(hello_reply_parse(ok, strlen(ok), &back));
    assert_string_equal(back.cluster, "");
    assert_true(back.member);
}

/* ---- over a socket ---------------------------------------------------- */

struct server {
    uv_tcp_t listen;
    int port;
    bool answer; /* else hold the connection silent */
    uv_tcp_t *held;
    char got[512];
    size_t n_got;
};

struct result {
    int calls;
    bool answered;
    struct hello_reply r;
    uint64_t peer;
};

static void
done(void *arg, uint64_t peer, const struct hello_reply *r)
{
    struct result *res = arg;

    res->calls++;
    res->peer = peer;
    res->answered = r != NULL;
    if (r != NULL) {
        res->r = *r;
    }
}

static void
srv_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct server *s = h->loop->data;

    (void)suggested;
    buf->base = s->got + s->n_got;
    buf->len = sizeof(s->got) - s->n_got;
}

static void
srv_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct server *s = stream->loop->data;
    struct hello_reply r = { "leader", 9, false, true, "abcd" };
    char line[256];

    (void)buf;
    if (nread <= 0) {
        return;
    }
    s->n_got += (size_t)nread;
    if (s->n_got < 24 || s->n_got < 24 + get_u64le((uint8_t *)s->got + 16)) {
        return; /* the whole handshake first */
    }
    uv_read_stop(stream);
    assert_int_equal(hello_reply_format(line, sizeof(line), &r), PC_OK);
    hello_answer(stream, line); /* frees the raft_malloc'd handle */
}

static void
srv_conn(uv_stream_t *l, int status)
{
    struct server *s = l->loop->data;
    uv_tcp_t *c = raft_malloc(sizeof(*c));

    assert_int_equal(status, 0);
    assert_non_null(c);
    uv_tcp_init(l->loop, c);
    assert_int_equal(uv_accept(l, (uv_stream_t *)c), 0);
    if (s->answer) {
        uv_read_start((uv_stream_t *)c, srv_alloc, srv_read);
    } else {
        s->held = c; /* say nothing */
    }
}

static void
free_raft_handle(uv_handle_t *h)
{
    raft_free(h);
}

static void
run_one(bool listening, bool answer, struct result *res)
{
    struct hello h = { "abcd", "http://127.0.0.1:8004" };
    struct sockaddr_in sa;
    struct server s;
    char addr[64];
    int namelen = sizeof(sa);
    uv_loop_t loop;

    memset(&s, 0, sizeof(s));
    memset(res, 0, sizeof(*res));
    s.answer = answer;
    assert_int_equal(uv_loop_init(&loop), 0);
    loop.data = &s;
    uv_tcp_init(&loop, &s.listen);
    uv_ip4_addr("127.0.0.1", 0, &sa);
    assert_int_equal(uv_tcp_bind(&s.listen, (struct sockaddr *)&sa, 0), 0);
    assert_int_equal(
        uv_tcp_getsockname(&s.listen, (struct sockaddr *)&sa, &namelen), 0);
    s.port = ntohs(sa.sin_port);
    if (listening) {
        assert_int_equal(uv_listen((uv_stream_t *)&s.listen, 8, srv_conn), 0);
    } else {
        uv_close((uv_handle_t *)&s.listen, NULL); /* the port refuses */
    }
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", s.port);
    assert_int_equal(hello_send(&loop, addr, 3, 4, &h, 300, done, res, NULL),
                     PC_OK);
    while (res->calls == 0 && uv_run(&loop, UV_RUN_ONCE) != 0) {
    }
    if (listening) {
        uv_close((uv_handle_t *)&s.listen, NULL);
    }
    if (s.held != NULL) {
        uv_close((uv_handle_t *)s.held, free_raft_handle);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(res->calls, 1);
    assert_int_equal(res->peer, 3);
    if (answer && listening) {
        /* the server saw our handshake */
        assert_int_equal(get_u64le((uint8_t *)s.got), 1);
        assert_int_equal(get_u64le((uint8_t *)s.got + 8), 4);
        assert_string_equal(s.got + 24, "provcat-hello cluster=abcd "
                                        "url=http://127.0.0.1:8004");
    }
}

/* An answer arrives; a silent peer times out; a closed port fails: each
 * reported once, and every handle is closed afterwards. */
static void
test_hello_round_trip(void **state)
{
    struct result res;

    (void)state;
    run_one(true, true, &res);
    assert_true(res.answered);
    assert_string_equal(res.r.state, "leader");
    assert_int_equal(res.r.term, 9);
    assert_true(res.r.committed);
    assert_false(res.r.member);
    run_one(true, false, &res);
    assert_false(res.answered);
    run_one(false, false, &res);
    assert_false(res.answered);
}

/* A hello cancelled before its answer never calls back. */
static void
test_hello_cancel(void **state)
{
    struct hello h = { "", "http://127.0.0.1:1" };
    struct result res = { 0 };
    struct hello_conn *hc = NULL;
    uv_loop_t loop;

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(
        hello_send(&loop, "127.0.0.1:9", 1, 2, &h, 300, done, &res, &hc),
        PC_OK);
    assert_non_null(hc);
    hello_cancel(hc);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(res.calls, 0);
    assert_int_equal(
        hello_send(&loop, "localhost:9", 1, 2, &h, 300, done, &res, NULL),
        PC_EINVAL);
    assert_int_equal(
        hello_send(&loop, "127.0.0.1", 1, 2, &h, 300, done, &res, NULL),
        PC_EINVAL);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_handshake_bytes),
        cmocka_unit_test(test_hello_parse_refuses),
        cmocka_unit_test(test_hello_reply_line),
        cmocka_unit_test(test_hello_round_trip),
        cmocka_unit_test(test_hello_cancel),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
