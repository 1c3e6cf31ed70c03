/* SPDX-License-Identifier: MIT */
/*
 * Generic router: patterns are compiled into literal and capture segments
 * and compared with the request's decoded segments, so a key holding '/'
 * (sent as %2F) is still one segment. First match in table order wins.
 */
#include "node/http/http.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "node/http/http_int.h"

struct route {
    struct http_route pub; /* method and pattern point into `strs` */
    char **segs;           /* literal, or NULL for a capture */
    size_t n_segs;
    size_t n_caps;
    char *strs;
};

struct http_router {
    struct route *routes;
    size_t n;
};

static void
route_release(struct route *rt)
{
    if (rt->segs != NULL) {
        pc_free(rt->segs[rt->n_segs]);
    }
    pc_free(rt->segs);
    pc_free(rt->strs);
}

void
http_router_free(struct http_router *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        route_release(&r->routes[i]);
    }
    pc_free(r->routes);
    pc_free(r);
}

static int
route_compile(struct route *rt, const struct http_route *src, char *errmsg)
{
    const char *m = src->method != NULL ? src->method : "";
    size_t mlen = strlen(m), plen;

    if (src->pattern == NULL || src->pattern[0] != '/') {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "route pattern '%s' must start with '/'",
                          src->pattern != NULL ? src->pattern : "(null)");
    }
    plen = strlen(src->pattern);
    rt->strs = pc_malloc(mlen + 1 + plen + 1);
    if (rt->strs == NULL) {
        return PC_ENOMEM;
    }
    memcpy(rt->strs, m, mlen + 1);
    char *pat = rt->strs + mlen + 1;
    memcpy(pat, src->pattern, plen + 1);
    rt->pub = *src;
    rt->pub.method = src->method != NULL ? rt->strs : NULL;
    rt->pub.pattern = pat;

    /* Segments are cut in a second copy so the pattern stays whole. */
    char *p = pc_strdup(pat + 1);
    if (p == NULL) {
        return PC_ENOMEM;
    }
    size_t n = *p == '\0' ? 0 : 1;
    for (const char *q = p; *q != '\0'; q++) {
        n += *q == '/';
    }
    rt->segs = pc_calloc(n + 1, sizeof(char *));
    if (rt->segs == NULL) {
        pc_free(p);
        return PC_ENOMEM;
    }
    /* segs[n] keeps the buffer so route_release can free it. */
    rt->segs[n] = p;
    rt->n_segs = n;
    for (size_t i = 0; i < n; i++) {
        char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        if (end != NULL) {
            *end = '\0';
        }
        if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
            rt->segs[i] = NULL;
            rt->n_caps++;
        } else {
            rt->segs[i] = p;
        }
        p += len + 1;
    }
    return PC_OK;
}

int
http_router_new(const struct http_route *routes, size_t n,
                struct http_router **out, char *errmsg)
{
    struct http_router *r = pc_calloc(1, sizeof(*r));
    int rc;

    if (r == NULL) {
        return PC_ENOMEM;
    }
    r->routes = pc_calloc(n, sizeof(*r->routes));
    if (r->routes == NULL) {
        pc_free(r);
        return PC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        rc = route_compile(&r->routes[i], &routes[i], errmsg);
        r->n = i + 1;
        if (rc != PC_OK) {
            http_router_free(r);
            return rc;
        }
    }
    *out = r;
    return PC_OK;
}

static bool
path_matches(const struct route *rt, const struct http_request *req)
{
    if (rt->n_segs != req->n_segs) {
        return false;
    }
    for (size_t i = 0; i < rt->n_segs; i++) {
        if (rt->segs[i] != NULL && strcmp(rt->segs[i], req->segs[i]) != 0) {
            return false;
        }
    }
    return true;
}

static bool
method_matches(const struct route *rt, const struct http_request *req)
{
    const char *m = rt->pub.method;

    if (m == NULL || strcmp(m, req->method) == 0) {
        return true;
    }
    return req->verb == HTTP_VERB_HEAD && strcmp(m, "GET") == 0;
}

/* Append `m` to the comma-separated list in `allow` unless present. */
static void
allow_add(char *allow, size_t size, const char *m)
{
    size_t len = strlen(allow), mlen = strlen(m);

    for (const char *p = allow; *p != '\0';) {
        size_t l = strcspn(p, ",");

        if (l == mlen && memcmp(p, m, l) == 0) {
            return;
        }
        p += l;
        p += strspn(p, ", ");
    }
    if (len + (len > 0 ? 2 : 0) + mlen + 1 > size) {
        return;
    }
    if (len > 0) {
        memcpy(allow + len, ", ", 2);
        len += 2;
    }
    memcpy(allow + len, m, mlen + 1);
}

const struct http_route *
http_router_match(const struct http_router *r, struct http_request *req,
                  int *status, char *allow, size_t allow_size)
{
    bool path_found = false;

    if (allow_size > 0) {
        allow[0] = '\0';
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct route *rt = &r->routes[i];

        if (!path_matches(rt, req)) {
            continue;
        }
        if (!method_matches(rt, req)) {
            path_found = true;
            if (allow_size > 0 && rt->pub.method != NULL) {
                allow_add(allow, allow_size, rt->pub.method);
                if (strcmp(rt->pub.method, "GET") == 0) {
                    allow_add(allow, allow_size, "HEAD");
                }
            }
            continue;
        }
        const char **caps = NULL;
        if (rt->n_caps > 0) {
            caps = http_req_alloc(req, rt->n_caps * sizeof(char *));
            if (caps == NULL) {
                *status = 500;
                return NULL;
            }
            size_t k = 0;
            for (size_t j = 0; j < rt->n_segs; j++) {
                if (rt->segs[j] == NULL) {
                    caps[k++] = req->segs[j];
                }
            }
        }
        req->caps = caps;
        req->n_caps = rt->n_caps;
        return &rt->pub;
    }
    *status = path_found ? 405 : 404;
    return NULL;
}

void
http_router_dispatch(struct http_request *req, void *router)
{
    char allow[128];
    int status = 0;
    const struct http_route *rt;

    rt = http_router_match(router, req, &status, allow, sizeof(allow));
    if (rt != NULL) {
        rt->handler(req, rt->arg);
        return;
    }
    switch (status) {
    case 405:
        if (http_req_add_header(req, "Allow", allow) != PC_OK) {
            http_respond_error(req, 500, "internal", "out of memory");
            return;
        }
        http_respond_error(req, 405, "method_not_allowed",
                           "method not allowed on this path");
        return;
    case 404:
        http_respond_error(req, 404, "not_found", "no such path");
        return;
    default:
        http_respond_error(req, 500, "internal", "out of memory");
        return;
    }
}
