/* SPDX-License-Identifier: MIT */
/*
 * Request syntax shared by the routes' `parse` and `run`: JSON bodies,
 * whole-number query parameters, list limits, consistency and If-Match.
 * Nothing here looks at replicated state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "node/api/api_int.h"

json_t *
api_body_object(struct node *n, struct http_request *req)
{
    json_error_t e;
    json_t *o;

    if (req->body_len == 0) {
        api_error(n, req, 400, "bad_request", "a JSON object body is required");
        return NULL;
    }
    o = json_loadb((const char *)req->body, req->body_len,
                   JSON_REJECT_DUPLICATES, &e);
    if (o == NULL) {
        api_error(n, req, 400, "bad_request", "malformed JSON at byte %d: %s",
                  e.position, e.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        api_error(n, req, 400, "bad_request", "the body must be a JSON object");
        return NULL;
    }
    return o;
}

int
api_param_u64(struct node *n, struct http_request *req, const char *name,
              uint64_t min, uint64_t *out)
{
    const char *s = http_req_param(req, name);
    unsigned long long v;
    char *end, msg[96];

    if (s == NULL) {
        return PC_ENOTFOUND;
    }
    v = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || strlen(s) > 19 || v < min) {
        snprintf(msg, sizeof(msg), "%s must be a whole number from %llu", name,
                 (unsigned long long)min);
        api_bad_field(n, req, name, msg);
        return PC_EINVAL;
    }
    *out = v;
    return PC_OK;
}

bool
api_param_limit(struct node *n, struct http_request *req, size_t *out)
{
    const char *s = http_req_param(req, "limit");
    unsigned long v;
    char *end;

    *out = API_LIST_DEFAULT;
    if (s == NULL) {
        return true;
    }
    v = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || v < 1 || v > API_LIST_MAX) {
        api_bad_field(n, req, "limit", "limit must be a number from 1 to 1000");
        return false;
    }
    *out = v;
    return true;
}

bool
api_stale(struct http_request *req)
{
    const char *c = http_req_param(req, "consistency");

    return c != NULL && strcmp(c, "stale") == 0;
}

int
api_if_match(struct http_request *req, uint64_t *out)
{
    const char *h = http_req_header(req, "If-Match");
    unsigned long long v;
    char *end;
    size_t len;

    if (h == NULL) {
        return 0;
    }
    len = strlen(h);
    if (len >= 2 && h[0] == '"' && h[len - 1] == '"') {
        h++;
        len -= 2;
    }
    if (len == 0 || len > 19 || h[0] < '1' || h[0] > '9') {
        return -1;
    }
    v = strtoull(h, &end, 10);
    if ((size_t)(end - h) != len) {
        return -1;
    }
    *out = v;
    return 1;
}
