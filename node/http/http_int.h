/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by node/http/ only: the request object behind struct
 * http_request, its arena, and the hooks the reader and the server use to
 * create and free requests. Never included from outside node/http/.
 */
#ifndef PC_HTTP_INT_H
#define PC_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "node/http/http.h"

struct http_conn;
struct http_out;

/* Bump allocator in blocks; everything is freed with the request. */
struct http_arena_blk {
    struct http_arena_blk *next;
    size_t len;
    size_t cap;
    max_align_t data[];
};

/* A response header added by the handler, kept in the arena. */
struct http_xhdr {
    struct http_xhdr *next;
    const char *name;
    const char *value;
};

struct http_req {
    struct http_request pub;      /* first: handlers see only this */
    struct http_arena_blk *arena; /* newest block first */
    uint8_t *body_mem;            /* pc_malloc'd body, or NULL */
    struct http_conn *conn;       /* NULL once orphaned or conn-less */
    struct http_req *next;        /* connection's in-flight queue */
    struct http_xhdr *xhdrs;      /* added headers, in order */
    struct http_out *out_head;    /* answer bytes not yet written */
    struct http_out **out_tail;
    /* The server's answer hook, copied at dispatch so that an orphan
     * needs no server. */
    http_answer_cb answer_cb;
    void *answer_arg;
    unsigned n_writing;   /* chunks handed to uv_write */
    bool in_queue;        /* linked in conn's queue */
    bool finished;        /* handler is done with it */
    bool streaming;       /* http_respond_start() called */
    bool stream_raw;      /* HTTP/1.0 stream: no chunk framing */
    bool close_after;     /* connection ends after the answer */
    bool expect_continue; /* reader: "Expect: 100-continue" */
};

static inline struct http_req *
http_req_of(struct http_request *pub)
{
    return (struct http_req *)pub;
}

/* A new empty request, or NULL. */
struct http_req *http_req_new(void);

/* Free a request and everything it owns. */
void http_req_destroy(struct http_req *r);

/* Arena copy of `n` bytes of `s` plus a NUL, or NULL. */
char *http_req_strndup(struct http_req *r, const char *s, size_t n);

#endif
