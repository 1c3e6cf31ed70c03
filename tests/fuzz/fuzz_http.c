/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the HTTP request reader and router: arbitrary bytes
 * are fed, split at input-chosen points, through http_reader_feed() exactly
 * as a connection would, and every request is routed, inspected and
 * finished. No sockets; the first input byte picks limits and split size.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/jcs.h"
#include "node/fsm/fsm.h"
#include "node/http/http.h"
#include "node/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
h_noop(struct http_request *req, void *arg)
{
    (void)arg;
    http_respond(req, 200, NULL, NULL, 0);
}

static const struct http_route routes[] = {
    { "GET", "/v1/catalog/{id}/records/{key}", h_noop, NULL },
    { "PUT", "/v1/catalog/{id}/records/{key}", h_noop, NULL },
    { "POST", "/v1/catalog/{id}/records:batch", h_noop, NULL },
    { "GET", "/v1/catalog", h_noop, NULL },
    { NULL, "/v1/status", h_noop, NULL },
    { "GET", "/", h_noop, NULL },
};

static struct http_router *router;

/* Touch everything a handler may read, and check the invariants. */
static void
inspect(struct http_request *req)
{
    char allow[64];
    int status = 0;
    struct pc_buf b;

    for (size_t i = 0; i < req->n_segs; i++) {
        (void)strlen(req->segs[i]);
    }
    for (size_t i = 0; i < req->n_params; i++) {
        (void)strlen(req->params[i].name);
        (void)strlen(req->params[i].value);
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        (void)http_req_header(req, req->headers[i].name);
    }
    (void)http_req_param(req, "limit");
    if (req->body_len > 0 && req->body[req->body_len] != '\0') {
        __builtin_trap();
    }
    /* X-Forwarded-For behind --trusted-proxy: the answer is the peer or an
     * address literal in canonical form, whatever the lines hold. */
    {
        static struct http_cidr trusted[2];
        static size_t n_trusted;
        const char *xff[8];
        size_t n_xff = 0;
        char buf[64];

        if (n_trusted == 0) {
            struct http_cidr *l;
            if (http_cidr_list_parse("127.0.0.0/8,fd00::/8", &l, &n_trusted,
                                     NULL) != PC_OK) {
                __builtin_trap();
            }
            memcpy(trusted, l, sizeof(trusted));
            pc_free(l);
        }
        for (size_t i = 0; i < req->n_headers && n_xff < 8; i++) {
            if (strcasecmp(req->headers[i].name, "X-Forwarded-For") == 0) {
                xff[n_xff++] = req->headers[i].value;
            }
        }
        const char *who = http_client_addr("127.0.0.1", xff, n_xff, trusted,
                                           n_trusted, buf, sizeof(buf));
        struct http_cidr one;
        if (strcmp(who, "127.0.0.1") != 0 &&
            (who != buf || http_cidr_parse(who, &one, NULL) != PC_OK)) {
            __builtin_trap();
        }
        (void)http_cidr_parse(req->path, &one, NULL);
    }
    /* A log line naming what the client sent is one line, and in JSON it
     * parses (node/log.c escapes it). */
    {
        struct pc_buf lb;
        json_t *o;

        pc_buf_init(&lb);
        if (log_format_line(&lb, LOG_FORMAT_JSON, 0, 1, LOG_LEVEL_DEBUG,
                            "request",
                            LOG_FIELDS(LOG_STR("path", req->path),
                                       LOG_STR("method", req->method)),
                            req->target) == PC_OK) {
            if (memchr(lb.data, '\n', lb.len) != lb.data + lb.len - 1 ||
                (o = json_loadb((const char *)lb.data, lb.len, 0, NULL)) ==
                    NULL) {
                __builtin_trap();
            }
            json_decref(o);
        }
        lb.len = 0;
        if (log_format_line(&lb, LOG_FORMAT_TEXT, 0, 1, LOG_LEVEL_DEBUG,
                            "request", LOG_FIELDS(LOG_STR("path", req->path)),
                            req->target) == PC_OK &&
            memchr(lb.data, '\n', lb.len) != lb.data + lb.len - 1) {
            __builtin_trap();
        }
        pc_buf_release(&lb);
    }
    const struct http_route *rt =
        http_router_match(router, req, &status, allow, sizeof(allow));
    if (rt == NULL && status != 404 && status != 405 && status != 500) {
        __builtin_trap();
    }
    /* The JSON decoding every write route does before proposing. */
    if (req->body_len > 0) {
        char msg[200];
        struct pc_buf canon;

        (void)fsm_org_body_valid(req->body, req->body_len, msg);
        (void)fsm_principal_body_valid(req->body, req->body_len, msg);
        pc_buf_init(&canon);
        (void)jcs_canonicalize((const char *)req->body, req->body_len, &canon,
                               NULL);
        pc_buf_release(&canon);
    }
    pc_buf_init(&b);
    if (req->n_segs > 0) {
        (void)http_json_error(&b, "bad_request", req->segs[req->n_segs - 1]);
    }
    pc_buf_release(&b);
    (void)http_req_add_header(req, "X-Echo",
                              req->n_headers > 0 ? req->headers[0].value : "");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_limits l;
    struct http_reader *rd;
    char errmsg[PC_ERRMSG_SIZE];
    size_t step, off = 0;
    int n = 0;

    if (router == NULL &&
        http_router_new(routes, sizeof(routes) / sizeof(*routes), &router,
                        errmsg) != PC_OK) {
        return 0;
    }
    if (size < 1) {
        return 0;
    }
    http_limits_default(&l);
    l.max_body_bytes = 64 + (size_t)(data[0] & 0x0f) * 256;
    l.max_header_bytes = 256 + (size_t)(data[0] >> 4) * 512;
    l.max_headers = 8;
    step = 1 + (data[0] * 7) % 64;
    data++;
    size--;
    if (http_reader_new(&l, "127.0.0.1", &rd) != PC_OK) {
        return 0;
    }
    while (off < size) {
        size_t end = size - off < step ? size : off + step;

        while (off < end) {
            struct http_request *req;
            size_t used;
            int rc = http_reader_feed(rd, (const char *)data + off, end - off,
                                      &used, &req);

            if (used > end - off) {
                __builtin_trap();
            }
            off += used;
            if (rc != PC_OK) {
                if (strlen(http_reader_error(rd)) == 0) {
                    __builtin_trap();
                }
                goto out;
            }
            if (req == NULL) {
                if (used == 0) {
                    goto out;
                }
                continue;
            }
            inspect(req);
            /* Alternate plain and streamed finishing (both only free). */
            if (n++ % 2 == 0) {
                http_respond_error(req, 400, "bad_request", req->path);
            } else if (http_respond_start(req, 200, NULL) == PC_OK) {
                (void)http_respond_write(req, "x", 1, NULL, NULL);
                http_respond_end(req);
            }
            if (http_reader_close_after(rd)) {
                goto out;
            }
        }
    }
out:
    http_reader_free(rd);
    return 0;
}
