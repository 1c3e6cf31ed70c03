/* SPDX-License-Identifier: MIT */
/*
 * Request reader: drives http-parser over a buffer and builds complete
 * requests (decoded path segments, query parameters, headers, body) in a
 * per-request arena. It pauses the parser after each request so the caller
 * dispatches one at a time and can stop between pipelined requests.
 */
#include "node/http/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "common/alloc.h"
#include "common/err.h"
#include "node/http/http_int.h"

#define ARENA_BLOCK 4096

enum last_cb {
    LAST_NONE,
    LAST_URL,
    LAST_FIELD,
    LAST_VALUE,
};

/* Offsets into `head` of one header's name and value. */
struct hdr_off {
    size_t name;
    size_t value;
};

struct http_reader {
    http_parser parser;
    struct http_limits limits;
    char client_ip[64];
    struct pc_buf head;   /* url \0 name \0 value \0 ... */
    struct hdr_off *hdrs; /* max_headers entries */
    size_t n_hdrs;
    size_t head_bytes; /* url + header bytes of this request */
    enum last_cb last;
    struct http_req *cur; /* built at headers complete */
    struct pc_buf body;
    struct http_req *ready; /* completed, returned by the next feed */
    int err;                /* our own error, set before failing a cb */
    char errmsg[128];
    bool failed;
    bool in_request;
    bool close_after;
    bool continue_pending;
};

void
http_limits_default(struct http_limits *l)
{
    l->max_connections = 1024;
    l->max_header_bytes = 16 * 1024;
    l->max_headers = 64;
    l->max_body_bytes = 1024 * 1024;
    l->max_inflight = 64;
    l->idle_timeout_ms = 60000;
    l->request_timeout_ms = 30000;
    l->linger_ms = 2000;
}

/* ---- requests and their arena ---- */

struct http_req *
http_req_new(void)
{
    struct http_req *r = pc_calloc(1, sizeof(*r));

    if (r == NULL) {
        return NULL;
    }
    r->out_tail = &r->out_head;
    r->pub.client_ip = "";
    r->pub.method = "";
    r->pub.target = "";
    r->pub.path = "";
    r->pub.query = "";
    r->pub.body = (const uint8_t *)"";
    r->pub.http_minor = 1;
    return r;
}

void
http_req_destroy(struct http_req *r)
{
    struct http_arena_blk *b;

    if (r == NULL) {
        return;
    }
    while ((b = r->arena) != NULL) {
        r->arena = b->next;
        pc_free(b);
    }
    pc_free(r->body_mem);
    pc_free(r);
}

void *
http_req_alloc(struct http_request *pub, size_t size)
{
    struct http_req *r = http_req_of(pub);
    const size_t align = sizeof(max_align_t);
    struct http_arena_blk *b = r->arena;
    size_t need = (size + align - 1) / align * align;

    if (need < size) {
        return NULL;
    }
    if (need == 0) {
        need = align;
    }
    if (b == NULL || b->cap - b->len < need) {
        size_t cap = need > ARENA_BLOCK / 2 ? need : ARENA_BLOCK;

        if (cap > SIZE_MAX - sizeof(*b)) {
            return NULL;
        }
        b = pc_malloc(sizeof(*b) + cap);
        if (b == NULL) {
            return NULL;
        }
        b->cap = cap;
        b->len = 0;
        /* A big one-off block goes behind the current one so the current
         * block keeps serving small allocations. */
        if (r->arena != NULL && cap != ARENA_BLOCK) {
            b->next = r->arena->next;
            r->arena->next = b;
        } else {
            b->next = r->arena;
            r->arena = b;
        }
    }
    void *p = (char *)b->data + b->len;
    b->len += need;
    return p;
}

char *
http_req_strndup(struct http_req *r, const char *s, size_t n)
{
    char *p = http_req_alloc(&r->pub, n + 1);

    if (p == NULL) {
        return NULL;
    }
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

const char *
http_req_header(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            return req->headers[i].value;
        }
    }
    return NULL;
}

const char *
http_req_param(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_params; i++) {
        if (strcmp(req->params[i].name, name) == 0) {
            return req->params[i].value;
        }
    }
    return NULL;
}

/* ---- decoding ---- */

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/*
 * Percent-decode `n` bytes of `s` into the arena. A '%' not followed by two
 * hex digits, or decoding to NUL, is an error: a NUL would silently cut the
 * C strings handlers see.
 */
static int
pct_decode(struct http_req *r, const char *s, size_t n, bool plus_space,
           char **out)
{
    char *d = http_req_alloc(&r->pub, n + 1);
    size_t j = 0;

    if (d == NULL) {
        return PC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '%') {
            if (i + 2 >= n) {
                return PC_EPROTO;
            }
            int hi = hexval(s[i + 1]);
            int lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return PC_EPROTO;
            }
            d[j++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            d[j++] = ' ';
        } else if (c == '\0') {
            return PC_EPROTO;
        } else {
            d[j++] = c;
        }
    }
    d[j] = '\0';
    *out = d;
    return PC_OK;
}

static int
reader_fail(struct http_reader *rd, int rc, const char *msg)
{
    if (rd->err == PC_OK) {
        rd->err = rc;
        snprintf(rd->errmsg, sizeof(rd->errmsg), "%s", msg);
    }
    return -1;
}

/* Split the raw path on '/' first, then decode each segment. */
static int
build_segments(struct http_reader *rd, struct http_req *r)
{
    const char *p = r->pub.path + 1;
    size_t n = 1;
    int rc;

    if (*p == '\0') {
        r->pub.segs = NULL;
        r->pub.n_segs = 0;
        return PC_OK;
    }
    for (const char *q = p; *q != '\0'; q++) {
        n += *q == '/';
    }
    r->pub.segs = http_req_alloc(&r->pub, n * sizeof(char *));
    if (r->pub.segs == NULL) {
        return PC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        rc = pct_decode(r, p, len, false, &r->pub.segs[i]);
        if (rc != PC_OK) {
            if (rc == PC_EPROTO) {
                reader_fail(rd, PC_EPROTO, "invalid percent-encoding in path");
            }
            return rc;
        }
        p += len + 1;
    }
    r->pub.n_segs = n;
    return PC_OK;
}

static int
build_params(struct http_reader *rd, struct http_req *r)
{
    const char *p = r->pub.query;
    size_t n = 1, k = 0;
    int rc;

    if (*p == '\0') {
        return PC_OK;
    }
    for (const char *q = p; *q != '\0'; q++) {
        n += *q == '&';
    }
    r->pub.params = http_req_alloc(&r->pub, n * sizeof(struct http_param));
    if (r->pub.params == NULL) {
        return PC_ENOMEM;
    }
    while (*p != '\0') {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t nlen = eq != NULL ? (size_t)(eq - p) : len;
        char *name, *value;

        if (len > 0) {
            rc = pct_decode(r, p, nlen, true, &name);
            if (rc == PC_OK) {
                rc = eq != NULL
                         ? pct_decode(r, eq + 1, len - nlen - 1, true, &value)
                         : pct_decode(r, "", 0, true, &value);
            }
            if (rc != PC_OK) {
                if (rc == PC_EPROTO) {
                    reader_fail(rd, PC_EPROTO,
                                "invalid percent-encoding in query");
                }
                return rc;
            }
            r->pub.params[k].name = name;
            r->pub.params[k].value = value;
            k++;
        }
        p += len;
        if (*p == '&') {
            p++;
        }
    }
    r->pub.n_params = k;
    return PC_OK;
}

static enum http_verb
verb_of(unsigned method)
{
    switch (method) {
    case HTTP_GET:
        return HTTP_VERB_GET;
    case HTTP_HEAD:
        return HTTP_VERB_HEAD;
    case HTTP_POST:
        return HTTP_VERB_POST;
    case HTTP_PUT:
        return HTTP_VERB_PUT;
    case HTTP_DELETE:
        return HTTP_VERB_DELETE;
    case HTTP_PATCH:
        return HTTP_VERB_PATCH;
    case HTTP_OPTIONS:
        return HTTP_VERB_OPTIONS;
    default:
        return HTTP_VERB_OTHER;
    }
}

/* Build the request from the head buffer once all headers are in. */
static int
build_request(struct http_reader *rd)
{
    struct http_req *r = http_req_new();
    const http_parser *p = &rd->parser;
    char *base;
    int rc = PC_ENOMEM;

    if (r == NULL) {
        return PC_ENOMEM;
    }
    base = http_req_strndup(r, (const char *)rd->head.data, rd->head.len);
    if (base == NULL) {
        goto err;
    }
    r->pub.method = http_method_str((enum http_method)p->method);
    r->pub.verb = verb_of(p->method);
    r->pub.http_minor = p->http_major == 1 ? p->http_minor : 0;
    r->pub.target = base;
    if (rd->client_ip[0] != '\0') {
        r->pub.client_ip =
            http_req_strndup(r, rd->client_ip, strlen(rd->client_ip));
        if (r->pub.client_ip == NULL) {
            goto err;
        }
    }
    if (base[0] != '/') {
        rc = PC_EPROTO;
        reader_fail(rd, rc, "request target must be an absolute path");
        goto err;
    }
    size_t plen = strcspn(base, "?#");
    char *path = http_req_strndup(r, base, plen);
    if (path == NULL) {
        goto err;
    }
    r->pub.path = path;
    if (base[plen] == '?') {
        size_t qlen = strcspn(base + plen + 1, "#");
        char *query = http_req_strndup(r, base + plen + 1, qlen);
        if (query == NULL) {
            goto err;
        }
        r->pub.query = query;
    }
    rc = build_segments(rd, r);
    if (rc == PC_OK) {
        rc = build_params(rd, r);
    }
    if (rc != PC_OK) {
        goto err;
    }
    rc = PC_ENOMEM;
    if (rd->n_hdrs > 0) {
        r->pub.headers =
            http_req_alloc(&r->pub, rd->n_hdrs * sizeof(struct http_header));
        if (r->pub.headers == NULL) {
            goto err;
        }
    }
    for (size_t i = 0; i < rd->n_hdrs; i++) {
        char *v = base + rd->hdrs[i].value;
        size_t vlen = strlen(v);

        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) {
            v[--vlen] = '\0';
        }
        while (*v == ' ' || *v == '\t') {
            v++;
        }
        r->pub.headers[i].name = base + rd->hdrs[i].name;
        r->pub.headers[i].value = v;
    }
    r->pub.n_headers = rd->n_hdrs;
    const char *expect = http_req_header(&r->pub, "Expect");
    r->expect_continue =
        expect != NULL && strcasecmp(expect, "100-continue") == 0;
    rd->cur = r;
    return PC_OK;

err:
    http_req_destroy(r);
    return rc;
}

/* ---- http-parser callbacks ---- */

static int
on_message_begin(http_parser *p)
{
    struct http_reader *rd = p->data;

    rd->in_request = true;
    rd->head.len = 0;
    rd->body.len = 0;
    rd->n_hdrs = 0;
    rd->head_bytes = 0;
    rd->last = LAST_NONE;
    rd->continue_pending = false;
    return 0;
}

/* Append header-section bytes, enforcing the size limit and no NULs. */
static int
head_append(struct http_reader *rd, const char *at, size_t len)
{
    rd->head_bytes += len;
    if (rd->head_bytes > rd->limits.max_header_bytes) {
        return reader_fail(rd, PC_EPROTO, "request header too large");
    }
    if (memchr(at, '\0', len) != NULL) {
        return reader_fail(rd, PC_EPROTO, "NUL byte in request header");
    }
    if (pc_buf_put(&rd->head, at, len) != PC_OK) {
        return reader_fail(rd, PC_ENOMEM, "out of memory");
    }
    return 0;
}

static int
head_terminate(struct http_reader *rd)
{
    if (pc_buf_put_u8(&rd->head, 0) != PC_OK) {
        return reader_fail(rd, PC_ENOMEM, "out of memory");
    }
    return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
    struct http_reader *rd = p->data;

    rd->last = LAST_URL;
    return head_append(rd, at, len);
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
    struct http_reader *rd = p->data;

    if (rd->last != LAST_FIELD) {
        if (rd->n_hdrs == rd->limits.max_headers) {
            return reader_fail(rd, PC_EPROTO, "too many request headers");
        }
        if (head_terminate(rd) != 0) {
            return -1;
        }
        rd->hdrs[rd->n_hdrs].name = rd->head.len;
        rd->hdrs[rd->n_hdrs].value = rd->head.len;
        rd->n_hdrs++;
        rd->last = LAST_FIELD;
    }
    return head_append(rd, at, len);
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
    struct http_reader *rd = p->data;

    if (rd->last != LAST_VALUE) {
        if (rd->last != LAST_FIELD || head_terminate(rd) != 0) {
            return reader_fail(rd, PC_EPROTO, "malformed header");
        }
        rd->hdrs[rd->n_hdrs - 1].value = rd->head.len;
        rd->last = LAST_VALUE;
    }
    return head_append(rd, at, len);
}

static int
on_headers_complete(http_parser *p)
{
    struct http_reader *rd = p->data;
    int rc;

    if (rd->last == LAST_FIELD) {
        /* A name with no value callback at all: give it an empty one. */
        if (head_terminate(rd) != 0) {
            return -1;
        }
        rd->hdrs[rd->n_hdrs - 1].value = rd->head.len;
    }
    if (rd->last == LAST_NONE) {
        return reader_fail(rd, PC_EPROTO, "empty request target");
    }
    if (head_terminate(rd) != 0) {
        return -1;
    }
    if ((p->flags & F_CONTENTLENGTH) &&
        p->content_length > rd->limits.max_body_bytes) {
        return reader_fail(rd, PC_ETOOLARGE, "request body too large");
    }
    rc = build_request(rd);
    if (rc != PC_OK) {
        return reader_fail(rd, rc, "out of memory");
    }
    rd->continue_pending =
        rd->cur->expect_continue &&
        ((p->flags & F_CHUNKED) ||
         ((p->flags & F_CONTENTLENGTH) && p->content_length > 0));
    return 0;
}

static int
on_chunk_header(http_parser *p)
{
    struct http_reader *rd = p->data;

    if (p->content_length > rd->limits.max_body_bytes - rd->body.len) {
        return reader_fail(rd, PC_ETOOLARGE, "request body too large");
    }
    return 0;
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
    struct http_reader *rd = p->data;

    rd->continue_pending = false;
    if (len > rd->limits.max_body_bytes - rd->body.len) {
        return reader_fail(rd, PC_ETOOLARGE, "request body too large");
    }
    if (pc_buf_put(&rd->body, at, len) != PC_OK) {
        return reader_fail(rd, PC_ENOMEM, "out of memory");
    }
    return 0;
}

static int
on_message_complete(http_parser *p)
{
    struct http_reader *rd = p->data;
    struct http_req *r = rd->cur;

    if (r == NULL) {
        return reader_fail(rd, PC_EPROTO, "malformed request");
    }
    if (rd->body.len > 0) {
        /* The body keeps a NUL after it for handlers parsing text. */
        if (pc_buf_put_u8(&rd->body, 0) != PC_OK) {
            return reader_fail(rd, PC_ENOMEM, "out of memory");
        }
        size_t len;
        r->body_mem = pc_buf_detach(&rd->body, &len);
        r->pub.body = r->body_mem;
        r->pub.body_len = len - 1;
    }
    rd->close_after = !http_should_keep_alive(p) || p->upgrade;
    r->close_after = rd->close_after;
    rd->ready = r;
    rd->cur = NULL;
    rd->in_request = false;
    rd->continue_pending = false;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings reader_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
    .on_chunk_header = on_chunk_header,
};

/* ---- reader ---- */

int
http_reader_new(const struct http_limits *limits, const char *client_ip,
                struct http_reader **out)
{
    struct http_reader *rd = pc_calloc(1, sizeof(*rd));
    struct http_limits def;

    if (rd == NULL) {
        return PC_ENOMEM;
    }
    http_limits_default(&def);
    rd->limits = limits != NULL ? *limits : def;
    if (rd->limits.max_header_bytes == 0) {
        rd->limits.max_header_bytes = def.max_header_bytes;
    }
    if (rd->limits.max_headers == 0) {
        rd->limits.max_headers = def.max_headers;
    }
    if (rd->limits.max_body_bytes == 0) {
        rd->limits.max_body_bytes = def.max_body_bytes;
    }
    rd->hdrs = pc_calloc(rd->limits.max_headers, sizeof(*rd->hdrs));
    if (rd->hdrs == NULL) {
        pc_free(rd);
        return PC_ENOMEM;
    }
    if (client_ip != NULL) {
        snprintf(rd->client_ip, sizeof(rd->client_ip), "%s", client_ip);
    }
    pc_buf_init(&rd->head);
    pc_buf_init(&rd->body);
    http_parser_init(&rd->parser, HTTP_REQUEST);
    rd->parser.data = rd;
    *out = rd;
    return PC_OK;
}

void
http_reader_free(struct http_reader *rd)
{
    if (rd == NULL) {
        return;
    }
    http_req_destroy(rd->cur);
    http_req_destroy(rd->ready);
    pc_buf_release(&rd->head);
    pc_buf_release(&rd->body);
    pc_free(rd->hdrs);
    pc_free(rd);
}

int
http_reader_feed(struct http_reader *rd, const char *data, size_t len,
                 size_t *used, struct http_request **req)
{
    size_t n;
    enum http_errno e;

    *used = 0;
    *req = NULL;
    if (rd->failed) {
        return rd->err != PC_OK ? rd->err : PC_EPROTO;
    }
    if (len == 0) {
        return PC_OK; /* http-parser reads a zero length as EOF */
    }
    rd->close_after = false;
    n = http_parser_execute(&rd->parser, &reader_settings, data, len);
    e = HTTP_PARSER_ERRNO(&rd->parser);
    if (e == HPE_PAUSED) {
        http_parser_pause(&rd->parser, 0);
    } else if (e != HPE_OK || (n < len && rd->ready == NULL)) {
        rd->failed = true;
        if (rd->err == PC_OK) {
            rd->err = PC_EPROTO;
            snprintf(rd->errmsg, sizeof(rd->errmsg), "malformed request: %s",
                     e != HPE_OK ? http_errno_description(e)
                                 : "unsupported upgrade");
        }
        http_req_destroy(rd->cur);
        rd->cur = NULL;
        *used = n;
        return rd->err;
    }
    *used = n;
    if (rd->ready != NULL) {
        *req = &rd->ready->pub;
        rd->ready = NULL;
    }
    return PC_OK;
}

const char *
http_reader_error(const struct http_reader *rd)
{
    return rd->errmsg;
}

bool
http_reader_in_request(const struct http_reader *rd)
{
    return rd->in_request;
}

bool
http_reader_close_after(const struct http_reader *rd)
{
    return rd->close_after;
}

bool
http_reader_take_continue(struct http_reader *rd)
{
    bool c = rd->continue_pending;

    rd->continue_pending = false;
    return c;
}
