/* SPDX-License-Identifier: MIT */
/*
 * The peer-port hello (hello.h): its handshake and reply line, the asking
 * side's connection and the answering side's write on a connection raft's
 * transport accepted. Nothing here touches raft's state; clu.c decides
 * what to ask, whom, and what an answer means.
 */
#include "node/raft/hello.h"

#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"

#define HANDSHAKE_PROTOCOL 1 /* raft_uv_tcp's, 0.15.0 to 0.22.1 */
#define REPLY_PREFIX       "provcat-hello-reply "
#define REPLY_MAX          256

bool
hello_url_valid(const char *url)
{
    size_t len = strlen(url);

    if (len <= 7 || len > HELLO_URL_MAX || strncmp(url, "http://", 7) != 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (url[i] <= ' ' || url[i] > '~') {
            return false;
        }
    }
    return true;
}

static bool
cluster_valid(const char *s)
{
    size_t len = strlen(s);

    if (len > HELLO_CID_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

static int
put_u64le(struct pc_buf *out, uint64_t v)
{
    uint8_t b[8];

    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
    return pc_buf_put(out, b, sizeof(b));
}

int
hello_encode(struct pc_buf *out, uint64_t id, const struct hello *h)
{
    char addr[sizeof(HELLO_PREFIX) + HELLO_CID_MAX + HELLO_URL_MAX + 16];
    size_t len, padded;
    int rc;

    if (!cluster_valid(h->cluster) || !hello_url_valid(h->url)) {
        return PC_EINVAL;
    }
    snprintf(addr, sizeof(addr), HELLO_PREFIX "cluster=%s url=%s",
             h->cluster[0] != '\0' ? h->cluster : "-", h->url);
    len = strlen(addr) + 1;
    padded = (len + 7) / 8 * 8;
    rc = put_u64le(out, HANDSHAKE_PROTOCOL);
    rc |= put_u64le(out, id);
    rc |= put_u64le(out, padded);
    rc |= pc_buf_put(out, addr, len);
    for (size_t i = len; i < padded; i++) {
        rc |= pc_buf_put_u8(out, 0);
    }
    return rc == PC_OK ? PC_OK : PC_ENOMEM;
}

/* Copy the value of `key` (up to a space or the end of `s`) into `out`. */
static bool
field(const char *s, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key), vlen;

    if (strncmp(s, key, klen) != 0) {
        return false;
    }
    s += klen;
    vlen = strcspn(s, " ");
    if (vlen >= size) {
        return false;
    }
    memcpy(out, s, vlen);
    out[vlen] = '\0';
    return true;
}

bool
hello_parse(const char *address, struct hello *out, bool *malformed)
{
    const char *s = address;

    *malformed = false;
    if (strncmp(s, HELLO_PREFIX, strlen(HELLO_PREFIX)) != 0) {
        return false;
    }
    s += strlen(HELLO_PREFIX);
    memset(out, 0, sizeof(*out));
    if (!field(s, "cluster=", out->cluster, sizeof(out->cluster))) {
        *malformed = true;
        return false;
    }
    s += strlen("cluster=") + strlen(out->cluster);
    if (strncmp(s, " url=", 5) != 0 || strlen(s + 5) >= sizeof(out->url)) {
        *malformed = true;
        return false;
    }
    memcpy(out->url, s + 5, strlen(s + 5) + 1);
    if (strcmp(out->cluster, "-") == 0) {
        out->cluster[0] = '\0';
    }
    if (!cluster_valid(out->cluster) || !hello_url_valid(out->url)) {
        *malformed = true;
        return false;
    }
    return true;
}

int
hello_reply_format(char *out, size_t size, const struct hello_reply *r)
{
    int n = snprintf(out, size,
                     REPLY_PREFIX "state=%s term=%llu member=%d "
                                  "committed=%d cluster=%s\n",
                     r->state, (unsigned long long)r->term, r->member ? 1 : 0,
                     r->committed ? 1 : 0,
                     r->cluster[0] != '\0' ? r->cluster : "-");

    return n > 0 && (size_t)n < size ? PC_OK : PC_EINVAL;
}

bool
hello_reply_parse(const char *line, size_t len, struct hello_reply *out)
{
    char buf[REPLY_MAX + 1], term[24], member[4], committed[4];
    const char *s = buf;
    char *end;

    if (len > REPLY_MAX) {
        return false;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    memset(out, 0, sizeof(*out));
    if (strncmp(s, REPLY_PREFIX, strlen(REPLY_PREFIX)) != 0) {
        return false;
    }
    s += strlen(REPLY_PREFIX);
    if (!field(s, "state=", out->state, sizeof(out->state))) {
        return false;
    }
    s += strlen("state=") + strlen(out->state) + 1;
    if (s > buf + len || !field(s, "term=", term, sizeof(term))) {
        return false;
    }
    s += strlen("term=") + strlen(term) + 1;
    if (s > buf + len || !field(s, "member=", member, sizeof(member))) {
        return false;
    }
    s += strlen("member=") + strlen(member) + 1;
    if (s > buf + len ||
        !field(s, "committed=", committed, sizeof(committed))) {
        return false;
    }
    s += strlen("committed=") + strlen(committed) + 1;
    if (s > buf + len ||
        !field(s, "cluster=", out->cluster, sizeof(out->cluster)) ||
        s[strlen("cluster=") + strlen(out->cluster)] != '\0') {
        return false;
    }
    if (term[0] < '0' || term[0] > '9') {
        return false;
    }
    out->term = strtoull(term, &end, 10);
    if (*end != '\0' || (strcmp(member, "0") != 0 && strcmp(member, "1")) ||
        (strcmp(committed, "0") != 0 && strcmp(committed, "1") != 0)) {
        return false;
    }
    out->member = member[0] == '1';
    out->committed = committed[0] == '1';
    if (strcmp(out->cluster, "-") == 0) {
        out->cluster[0] = '\0';
    }
    return cluster_valid(out->cluster);
}

/* ---- sending ---------------------------------------------------------- */

struct hello_conn {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uv_timer_t timer;
    struct pc_buf out;
    char in[REPLY_MAX + 1];
    size_t n_in;
    uint64_t peer;
    hello_cb cb;
    void *arg;
    int open;     /* handles not closed yet */
    bool closing; /* finish ran */
};

static void
conn_closed(uv_handle_t *h)
{
    struct hello_conn *hc = h->data;

    if (--hc->open == 0) {
        pc_buf_release(&hc->out);
        pc_free(hc);
    }
}

/* Report once (NULL: no answer), then close both handles. */
static void
finish(struct hello_conn *hc, const struct hello_reply *reply)
{
    hello_cb cb = hc->cb;

    if (hc->closing) {
        return;
    }
    hc->closing = true;
    hc->cb = NULL;
    uv_timer_stop(&hc->timer);
    uv_close((uv_handle_t *)&hc->timer, conn_closed);
    uv_close((uv_handle_t *)&hc->tcp, conn_closed);
    if (cb != NULL) {
        cb(hc->arg, hc->peer, reply);
    }
}

static void
timed_out(uv_timer_t *t)
{
    finish(t->data, NULL);
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct hello_conn *hc = h->data;

    (void)suggested;
    buf->base = hc->in + hc->n_in;
    buf->len = REPLY_MAX - hc->n_in;
}

static void
read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct hello_conn *hc = s->data;
    struct hello_reply r;
    char *nl;

    (void)buf;
    if (nread < 0) {
        finish(hc, NULL); /* closed before a whole line */
        return;
    }
    hc->n_in += (size_t)nread;
    hc->in[hc->n_in] = '\0';
    nl = memchr(hc->in, '\n', hc->n_in);
    if (nl != NULL) {
        bool ok = hello_reply_parse(hc->in, (size_t)(nl - hc->in), &r);
        finish(hc, ok ? &r : NULL);
    } else if (hc->n_in >= REPLY_MAX) {
        finish(hc, NULL);
    }
}

static void
written(uv_write_t *w, int status)
{
    struct hello_conn *hc = w->data;

    if (hc->closing) {
        return;
    }
    if (status != 0 ||
        uv_read_start((uv_stream_t *)&hc->tcp, alloc_cb, read_cb) != 0) {
        finish(hc, NULL);
    }
}

static void
connected(uv_connect_t *req, int status)
{
    struct hello_conn *hc = req->data;
    uv_buf_t b;

    if (hc->closing) {
        return;
    }
    b = uv_buf_init((char *)hc->out.data, (unsigned)hc->out.len);
    if (status != 0 ||
        uv_write(&hc->write, (uv_stream_t *)&hc->tcp, &b, 1, written) != 0) {
        finish(hc, NULL);
    }
}

int
hello_send(uv_loop_t *loop, const char *address, uint64_t peer, uint64_t id,
           const struct hello *h, unsigned timeout_ms, hello_cb cb, void *arg,
           struct hello_conn **out)
{
    struct sockaddr_in sa;
    struct hello_conn *hc;
    const char *colon = strrchr(address, ':');
    char host[64];
    int rc;

    if (colon == NULL || (size_t)(colon - address) >= sizeof(host)) {
        return PC_EINVAL;
    }
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    if (uv_ip4_addr(host, atoi(colon + 1), &sa) != 0) {
        return PC_EINVAL;
    }
    hc = pc_calloc(1, sizeof(*hc));
    if (hc == NULL) {
        return PC_ENOMEM;
    }
    pc_buf_init(&hc->out);
    rc = hello_encode(&hc->out, id, h);
    if (rc != PC_OK) {
        pc_buf_release(&hc->out);
        pc_free(hc);
        return rc;
    }
    hc->peer = peer;
    hc->cb = cb;
    hc->arg = arg;
    uv_tcp_init(loop, &hc->tcp);
    uv_timer_init(loop, &hc->timer);
    hc->open = 2;
    hc->tcp.data = hc->timer.data = hc->connect.data = hc->write.data = hc;
    uv_timer_start(&hc->timer, timed_out, timeout_ms, 0);
    if (uv_tcp_connect(&hc->connect, &hc->tcp, (struct sockaddr *)&sa,
                       connected) != 0) {
        hc->cb = NULL; /* failed now: no call back, the caller is told */
        finish(hc, NULL);
        return PC_EIO;
    }
    if (out != NULL) {
        *out = hc;
    }
    return PC_OK;
}

void
hello_cancel(struct hello_conn *hc)
{
    hc->cb = NULL;
    finish(hc, NULL);
}

/* ---- answering -------------------------------------------------------- */

struct answer {
    uv_write_t w;
    char line[REPLY_MAX];
};

static void
free_stream(uv_handle_t *h)
{
    raft_free(h);
}

static void
answered(uv_write_t *w, int status)
{
    (void)status;
    uv_close((uv_handle_t *)w->handle, free_stream);
    pc_free(w->data);
}

void
hello_answer(uv_stream_t *stream, const char *line)
{
    struct answer *a = pc_malloc(sizeof(*a));
    size_t len = strlen(line);
    uv_buf_t b;

    if (a == NULL || len >= sizeof(a->line)) {
        pc_free(a);
        uv_close((uv_handle_t *)stream, free_stream);
        return;
    }
    memcpy(a->line, line, len);
    a->w.data = a;
    b = uv_buf_init(a->line, (unsigned)len);
    if (uv_write(&a->w, stream, &b, 1, answered) != 0) {
        pc_free(a);
        uv_close((uv_handle_t *)stream, free_stream);
    }
}
