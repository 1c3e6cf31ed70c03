/* SPDX-License-Identifier: MIT */
/*
 * Answers: JSON bodies with the revision and time headers every answer
 * carries, the error body and its variants, redirects to the leader, and
 * facts turned into answers. Every answer is counted by route, status and
 * latency in metrics.c's answer hook, whichever way it leaves.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
#include "storage/led.h"

static void
add_state_headers(struct node *n, struct http_request *req, uint64_t rev)
{
    char buf[32], t[PC_TIME_STR_LEN];
    struct led *l = fsm_led(n->fsm);

    snprintf(buf, sizeof(buf), "%llu",
             (unsigned long long)(rev ? rev : led_count(l)));
    http_req_add_header(req, "X-Provcat-Revision", buf);
    pc_time_format(t, led_time(l));
    http_req_add_header(req, "X-Provcat-Time", t);
}

/* Retry-After of a 429 or 503: the limiter's window, else a second. */
static void
add_retry_after(struct http_request *req, int status)
{
    struct api_req *a = api_req(req);
    char s[16];

    if (status != 503 && status != 429) {
        return;
    }
    snprintf(s, sizeof(s), "%u",
             a != NULL && a->retry_after_s > 0 ? a->retry_after_s : 1);
    http_req_add_header(req, "Retry-After", s);
}

void
api_json(struct node *n, struct http_request *req, int status, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);

    json_decref(o);
    add_state_headers(n, req, 0);
    if (s == NULL) {
        http_respond_error(req, 500, "internal", "out of memory");
        return;
    }
    http_respond_json(req, status, s, strlen(s));
    free(s);
}

void
api_json_text(struct node *n, struct http_request *req, int status,
              const char *json, size_t len)
{
    add_state_headers(n, req, 0);
    http_respond_json(req, status, json, len);
}

void
api_json_buf(struct node *n, struct http_request *req, int status,
             struct pc_buf *b, int rc)
{
    if (rc != PC_OK) {
        api_error(n, req, 503, "unavailable", "out of memory");
    } else {
        api_json_text(n, req, status, (const char *)b->data, b->len);
    }
    pc_buf_release(b);
}

static void verror(struct node *n, struct http_request *req, int status,
                   const char *code, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
verror(struct node *n, struct http_request *req, int status, const char *code,
       const char *fmt, va_list ap)
{
    char msg[256];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (status == 400) {
        api_security_event(n, req, "malformed", msg);
    }
    add_state_headers(n, req, 0);
    if (status == 401) {
        http_req_add_header(req, "WWW-Authenticate", "Bearer");
    }
    add_retry_after(req, status);
    http_respond_error(req, status, code, msg);
}

void
api_error(struct node *n, struct http_request *req, int status,
          const char *code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    verror(n, req, status, code, fmt, ap);
    va_end(ap);
}

void
api_error_with(struct node *n, struct http_request *req, int status,
               const char *code, json_t *extra, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    json_t *err;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err = json_pack("{s:s, s:s}", "code", code, "message", msg);
    if (status == 400 && err != NULL && extra != NULL) {
        api_security_event(n, req, "malformed", msg);
    }
    if (err == NULL || extra == NULL ||
        json_object_update_missing(err, extra) != 0) {
        json_decref(err);
        json_decref(extra);
        api_error(n, req, status, code, "%s", msg);
        return;
    }
    json_decref(extra);
    if (status == 401) {
        http_req_add_header(req, "WWW-Authenticate", "Bearer");
    }
    add_retry_after(req, status);
    api_json(n, req, status, json_pack("{s:o}", "error", err));
}

void
api_bad_field(struct node *n, struct http_request *req, const char *field,
              const char *msg)
{
    api_error_with(n, req, 400, "bad_request",
                   field != NULL && field[0] != '\0'
                       ? json_pack("{s:s}", "field", field)
                       : NULL,
                   "%s", msg);
}

void
api_security_event(struct node *n, struct http_request *req, const char *kind,
                   const char *detail)
{
    const struct api_req *a = api_req(req);
    char route[200] = "";

    if (a != NULL && a->route != NULL) {
        snprintf(route, sizeof(route), "%s %s", a->route->method,
                 a->route->pattern);
    }
    node_security_event_by(
        n, kind, a != NULL && a->client != NULL ? a->client : req->client_ip,
        a != NULL && a->authed ? a->principal : NULL, route, detail);
}

void
api_denied(struct node *n, struct http_request *req, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    api_security_event(n, req, "denied", msg);
    api_error(n, req, 403, "forbidden", "%s", msg);
}

void
api_answer_rejection(struct node *n, struct http_request *req,
                     const struct fsm_result *res)
{
    json_t *p = res->first_rev ? api_fact_payload(n, res->first_rev) : NULL;
    json_t *det = json_object_get(p, "detail");

    if (!json_is_object(det)) {
        json_decref(p);
        api_error(n, req, res->status, res->code, "%s", res->message);
        return;
    }
    json_incref(det);
    json_decref(p);
    api_error_with(n, req, res->status, res->code, det, "%s", res->message);
}

bool
api_leader_or_redirect(struct node *n, struct http_request *req)
{
    const char *url;
    uint64_t id;
    json_t *o;

    if (clu_is_leader(n->clu) && !clu_transferring(n->clu)) {
        return true;
    }
    id = clu_leader(n->clu, NULL);
    url = id == 0 || id == n->o.id ? NULL : fsm_member_url(n->fsm, id);
    if (url == NULL || clu_transferring(n->clu)) {
        api_error(n, req, 503, "unavailable",
                  "no leader is known right now; retry shortly");
        return false;
    }
    size_t len = strlen(url) + strlen(req->target) + 1;
    char *loc = http_req_alloc(req, len);
    if (loc == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return false;
    }
    snprintf(loc, len, "%s%s", url, req->target);
    http_req_add_header(req, "Location", loc);
    o = json_pack("{s:{s:s, s:s, s:{s:I, s:s}}}", "error", "code", "not_leader",
                  "message", "this node is not the leader; retry at the leader",
                  "leader", "id", (json_int_t)id, "client_url", url);
    api_json(n, req, 307, o);
    return false;
}

void
api_disk_full(struct node *n, struct http_request *req)
{
    api_error(n, req, 507, "insufficient_storage",
              "the node's disk is full (%llu bytes free, less than one "
              "raft segment): writes, linearizable reads and reads that "
              "must be audited are refused; other stale reads are served",
              (unsigned long long)n->disk.free);
}

void
api_unproposed(struct node *n, struct http_request *req, int rc,
               const char *what)
{
    if (rc == PC_ENOTLEADER) {
        api_leader_or_redirect(n, req);
    } else if (rc == PC_ENOSPC || node_disk_check(n)) {
        api_disk_full(n, req);
    } else {
        api_error(n, req, 503, "unavailable", "%s: %s", what, pc_strerror(rc));
    }
}

void
api_set_etag(struct http_request *req, uint64_t version)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "\"%llu\"", (unsigned long long)version);
    http_req_add_header(req, "ETag", buf);
}

json_t *
api_fact_payload(struct node *n, uint64_t rev)
{
    struct fact f;

    if (led_get(fsm_led(n->fsm), rev, &f) != PC_OK) {
        return NULL;
    }
    return json_loadb((const char *)f.payload.p, f.payload.len, 0, NULL);
}

void
api_add_fact_meta(struct node *n, json_t *o, uint64_t rev)
{
    uint8_t h[PC_HASH_LEN];
    char hex[PC_HASH_HEX_LEN + 1], t[PC_TIME_STR_LEN];
    struct fact f;

    if (led_get(fsm_led(n->fsm), rev, &f) != PC_OK ||
        led_hash(fsm_led(n->fsm), rev, h) != PC_OK) {
        return;
    }
    pc_hex(hex, h, PC_HASH_LEN);
    pc_time_format(t, f.time_ms);
    json_object_set_new(o, "revision", json_integer((json_int_t)rev));
    json_object_set_new(o, "hash", json_string(hex));
    json_object_set_new(o, "updated_at", json_string(t));
    if (f.version > 0) {
        json_object_set_new(o, "version", json_integer((json_int_t)f.version));
    }
}

json_t *
api_fact_object(struct node *n, uint64_t rev)
{
    json_t *o = api_fact_payload(n, rev);

    if (o != NULL) {
        api_add_fact_meta(n, o, rev);
    }
    return o;
}

json_t *
api_hex_json(const uint8_t h[PC_HASH_LEN])
{
    char hex[PC_HASH_HEX_LEN + 1];

    pc_hex(hex, h, PC_HASH_LEN);
    return json_string(hex);
}

int
api_put_hex(struct pc_buf *b, const char *name, const uint8_t *p, size_t len)
{
    return pc_buf_put(b, ",\"", 2) | pc_buf_put(b, name, strlen(name)) |
                   pc_buf_put(b, "\":\"", 3) | pc_buf_put_hex(b, p, len) |
                   pc_buf_put_u8(b, '"')
               ? PC_ENOMEM
               : PC_OK;
}

void
api_list(struct node *n, struct http_request *req, json_t *items,
         const char *next)
{
    json_t *o = items == NULL
                    ? NULL
                    : json_pack("{s:o, s:o}", "items", items, "next",
                                next != NULL ? json_string(next) : json_null());

    if (o == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    api_json(n, req, 200, o);
}
