/* SPDX-License-Identifier: MIT */
/*
 * Request syntax shared by the routes' `parse` and `run`: JSON bodies,
 * whole-number and id query parameters, record paths, list limits and
 * cursors, consistency and the preconditions of writes (If-Match,
 * If-None-Match).
 * Nothing here looks at replicated state.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

bool
api_body_valid(struct node *n, struct http_request *req,
               api_body_check_cb check)
{
    char msg[200], field[FSM_FIELD_LEN];

    if (!check(req->body, req->body_len, msg, field)) {
        api_bad_field(n, req, field, msg);
        return false;
    }
    return true;
}

bool
api_entry_path_ok(struct node *n, struct http_request *req)
{
    if (!fsm_id_valid(req->caps[0], strlen(req->caps[0]))) {
        api_bad_field(n, req, "entry",
                      "bad entry id: [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
        return false;
    }
    return true;
}

bool
api_record_path_ok(struct node *n, struct http_request *req)
{
    if (!api_entry_path_ok(n, req)) {
        return false;
    }
    if (!fsm_record_key_valid(req->caps[1], strlen(req->caps[1]))) {
        api_bad_field(n, req, "key",
                      "a record key is 1-512 bytes of UTF-8 in NFC without "
                      "control characters, and not \".\" or \"..\"");
        return false;
    }
    return true;
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
api_param_ids(struct node *n, struct http_request *req,
              const char *const *names)
{
    for (; *names != NULL; names++) {
        const char *v = http_req_param(req, *names);
        char msg[96];

        if (v != NULL && !fsm_id_valid(v, strlen(v))) {
            snprintf(msg, sizeof(msg), "%s must be an id", *names);
            api_bad_field(n, req, *names, msg);
            return false;
        }
    }
    return true;
}

bool
api_cursor_decode(const char *s, uint64_t *rev, uint8_t *key, size_t *key_len)
{
    uint8_t raw[8 + FSM_RECORD_KEY_MAX];
    size_t len;

    if (sodium_base642bin(raw, sizeof(raw), s, strlen(s), NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len <= 8) {
        return false;
    }
    *rev = 0;
    for (int i = 0; i < 8; i++) {
        *rev = *rev << 8 | raw[i];
    }
    memcpy(key, raw + 8, len - 8);
    *key_len = len - 8;
    return *rev > 0;
}

int
api_cursor_put(struct pc_buf *out, uint64_t rev, const uint8_t *key,
               size_t key_len)
{
    uint8_t raw[8 + FSM_RECORD_KEY_MAX];
    char s[sodium_base64_ENCODED_LEN(8 + FSM_RECORD_KEY_MAX,
                                     sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

    for (int i = 0; i < 8; i++) {
        raw[i] = (uint8_t)(rev >> (56 - 8 * i));
    }
    memcpy(raw + 8, key, key_len);
    sodium_bin2base64(s, sizeof(s), raw, 8 + key_len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return pc_buf_printf(out, "\"%s\"", s);
}

bool
api_stale(struct http_request *req)
{
    const char *c = http_req_param(req, "consistency");

    return c != NULL && strcmp(c, "stale") == 0;
}

/* The value of header `name` when it appears once (NULL when absent);
 * false when it appears more than once. */
static bool
header_once(const struct http_request *req, const char *name,
            const char **value)
{
    *value = NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            if (*value != NULL) {
                return false;
            }
            *value = req->headers[i].value;
        }
    }
    return true;
}

bool
api_precond_parse(const struct http_request *req, unsigned needs,
                  struct api_precond *out, const char **field, const char **msg)
{
    const char *im, *inm, *ius;
    size_t len;

    memset(out, 0, sizeof(*out));
    if (!(needs & API_WRITE)) {
        return true;
    }
    *field = "If-Match";
    if (!header_once(req, "If-Match", &im)) {
        *msg = "If-Match may be given once";
        return false;
    }
    if (im != NULL && !(needs & API_IF_MATCH)) {
        *msg = "this route takes no If-Match";
        return false;
    }
    if (im != NULL) {
        len = strlen(im);
        if (len >= 2 && im[0] == '"' && im[len - 1] == '"') {
            im++;
            len -= 2;
        }
        if (!fsm_version_parse(im, len, 1, &out->if_match)) {
            *msg = "If-Match must be \"<version>\", a version from 1 to "
                   "9007199254740991 written as digits";
            return false;
        }
    }
    *field = "If-None-Match";
    if (!header_once(req, "If-None-Match", &inm)) {
        *msg = "If-None-Match may be given once";
        return false;
    }
    if (inm != NULL && !(needs & API_IF_NONE_MATCH)) {
        *msg = "this route takes no If-None-Match";
        return false;
    }
    if (inm != NULL && strcmp(inm, "*") != 0) {
        *msg = "only If-None-Match: * (create only) is supported";
        return false;
    }
    if (inm != NULL && im != NULL) {
        *msg = "If-Match and If-None-Match exclude each other";
        return false;
    }
    out->if_none_match = inm != NULL;
    *field = "If-Unmodified-Since";
    ius = http_req_header(req, "If-Unmodified-Since");
    if (ius != NULL) {
        *msg = "If-Unmodified-Since is not supported: use If-Match with a "
               "version";
        return false;
    }
    return true;
}

bool
api_preconditions(struct node *n, struct http_request *req, unsigned needs)
{
    struct api_precond p;
    const char *field = NULL, *msg = NULL;

    if (!api_precond_parse(req, needs, &p, &field, &msg)) {
        api_bad_field(n, req, field, msg);
        return false;
    }
    api_req(req)->if_match = p.if_match;
    api_req(req)->if_none_match = p.if_none_match;
    return true;
}

int
api_precond_extra(json_t *x, const struct api_precond *p)
{
    if (p->if_match > 0 &&
        json_object_set_new(x, "if_match",
                            json_integer((json_int_t)p->if_match)) != 0) {
        return -1;
    }
    if (p->if_none_match &&
        json_object_set_new(x, "if_none_match", json_true()) != 0) {
        return -1;
    }
    return 0;
}
