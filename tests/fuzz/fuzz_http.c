/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the HTTP request reader and router: arbitrary bytes
 * are fed, split at input-chosen points, through http_reader_feed() exactly
 * as a connection would, and every request is routed, inspected and
 * finished. No sockets; the first input byte picks limits and split size.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jcs.h"
#include "node/fsm/fsm.h"
#include "node/http/http.h"

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
