/* SPDX-License-Identifier: MIT */
/*
 * Catalog routes: syntax checks (400 naming the field) before proposing,
 * writes proposed as ENTRY commands whose rules (roles, scope, workflow
 * state, If-Match) are decided in apply, and reads that answer each caller
 * the version it may see (fsm_entry_visible_rev, fsm_entry_sees_all).
 * Answers are built from the facts, so replays match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "node/api/api_int.h"
#include "storage/idx.h"
#include "storage/led.h"

bool
api_catalog_id_parse(struct node *n, struct http_request *req)
{
    const char *id = req->caps[0];

    if (!fsm_id_valid(id, strlen(id))) {
        api_bad_field(n, req, "id",
                      "the entry id must be [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
        return false;
    }
    return true;
}

/* ---- writes ----------------------------------------------------------- */

static void
entry_written(struct node *n, struct http_request *req,
              const struct fsm_result *res, void *ctx)
{
    json_t *o = api_fact_object(n, res->first_rev);
    struct fact f;

    (void)ctx;
    if (o == NULL || led_get(fsm_led(n->fsm), res->first_rev, &f) != PC_OK) {
        json_decref(o);
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    api_set_etag(req, f.version);
    api_json(n, req, res->status, o);
}

bool
api_catalog_create_parse(struct node *n, struct http_request *req)
{
    char msg[200], field[FSM_FIELD_LEN];

    if (!fsm_entry_body_valid(req->body, req->body_len, NULL, msg, field)) {
        api_bad_field(n, req, field, msg);
        return false;
    }
    return true;
}

void
api_catalog_create(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_ENTRY_CREATE, NULL, true, NULL, entry_written,
                NULL);
}

bool
api_catalog_update_parse(struct node *n, struct http_request *req)
{
    char msg[200], field[FSM_FIELD_LEN];

    if (!api_catalog_id_parse(n, req)) {
        return false;
    }
    if (!fsm_entry_body_valid(req->body, req->body_len, req->caps[0], msg,
                              field)) {
        api_bad_field(n, req, field, msg);
        return false;
    }
    /* Its syntax was checked by the common handler (API_IF_MATCH). */
    if (api_req(req)->if_match == 0) {
        api_bad_field(n, req, "If-Match", "If-Match required");
        return false;
    }
    return true;
}

/* A stale If-Match is apply's to answer (409 with current_version). */
void
api_catalog_update(struct node *n, struct http_request *req)
{
    struct api_precond pre = { api_req(req)->if_match, false };
    json_t *x = json_object();

    if (x == NULL || api_precond_extra(x, &pre) != 0) {
        json_decref(x);
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    api_propose(n, req, CMD_ENTRY_UPDATE, req->caps[0], true, x, entry_written,
                NULL);
}

void
api_catalog_submit(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_ENTRY_SUBMIT, req->caps[0], false, NULL,
                entry_written, NULL);
}

/* A non-blank "reason" string of at most 4096 bytes, if present. */
static bool
reason_ok(json_t *b, bool required)
{
    json_t *r = json_object_get(b, "reason");
    const char *s = json_string_value(r);

    if (r == NULL || json_is_null(r)) {
        return !required;
    }
    if (s == NULL || json_string_length(r) > 4096) {
        return false;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
        s++;
    }
    return *s != '\0' || !required;
}

bool
api_catalog_review_parse(struct node *n, struct http_request *req)
{
    json_t *b;
    const char *d;
    bool reject;

    if (!api_catalog_id_parse(n, req)) {
        return false;
    }
    b = api_body_object(n, req);
    if (b == NULL) {
        return false;
    }
    d = json_string_value(json_object_get(b, "decision"));
    reject = d != NULL && strcmp(d, "reject") == 0;
    if (d == NULL || (!reject && strcmp(d, "approve") != 0)) {
        json_decref(b);
        api_bad_field(n, req, "decision",
                      "\"decision\" must be \"approve\" or \"reject\"");
        return false;
    }
    if (!reason_ok(b, reject)) {
        json_decref(b);
        api_bad_field(n, req, "reason",
                      reject ? "\"reason\" is required to reject"
                             : "\"reason\" must be a string of at most 4096 "
                               "bytes");
        return false;
    }
    if (json_object_get(b, "override_duplicate") != NULL &&
        !json_is_boolean(json_object_get(b, "override_duplicate"))) {
        json_decref(b);
        api_bad_field(n, req, "override_duplicate",
                      "\"override_duplicate\" must be true or false");
        return false;
    }
    json_decref(b);
    return true;
}

void
api_catalog_review(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_ENTRY_REVIEW, req->caps[0], true, NULL,
                entry_written, NULL);
}

bool
api_catalog_retire_parse(struct node *n, struct http_request *req)
{
    json_t *b;
    bool ok;

    if (!api_catalog_id_parse(n, req)) {
        return false;
    }
    b = api_body_object(n, req);
    if (b == NULL) {
        return false;
    }
    ok = reason_ok(b, true);
    json_decref(b);
    if (!ok) {
        api_bad_field(n, req, "reason", "\"reason\" is required to retire");
    }
    return ok;
}

void
api_catalog_retire(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_ENTRY_RETIRE, req->caps[0], true, NULL,
                entry_written, NULL);
}

/* ---- reads ------------------------------------------------------------ */

void
api_catalog_get(struct node *n, struct http_request *req)
{
    const struct fsm_entry *e;
    uint64_t rev;
    json_t *o;
    struct fact f;

    e = fsm_entry(n->fsm, req->caps[0]);
    rev =
        e == NULL ? 0 : fsm_entry_visible_rev(n->fsm, e, api_principal(n, req));
    if (rev == 0) {
        api_error(n, req, 404, "not_found", "no catalog entry \"%s\"",
                  req->caps[0]);
        return;
    }
    o = api_fact_object(n, rev);
    if (o == NULL || led_get(fsm_led(n->fsm), rev, &f) != PC_OK) {
        json_decref(o);
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    api_set_etag(req, f.version);
    api_json(n, req, 200, o);
}

/* ?after: a version number (0 when absent); false once answered 400. */
static bool
history_after(struct node *n, struct http_request *req, uint64_t *after)
{
    const char *s = http_req_param(req, "after");
    char *end;

    *after = 0;
    if (s == NULL) {
        return true;
    }
    *after = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0') {
        api_bad_field(n, req, "after", "after must be a version number");
        return false;
    }
    return true;
}

bool
api_catalog_history_parse(struct node *n, struct http_request *req)
{
    uint64_t after;
    size_t limit;

    return api_catalog_id_parse(n, req) && api_param_limit(n, req, &limit) &&
           history_after(n, req, &after);
}

void
api_catalog_history(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p;
    const struct fsm_entry *e;
    uint64_t after = 0;
    size_t limit, count = 0;
    uint64_t last = 0;
    bool more = false;
    json_t *items, *o;
    char next[24];

    api_param_limit(n, req, &limit);
    history_after(n, req, &after);
    p = api_principal(n, req);
    e = fsm_entry(n->fsm, req->caps[0]);
    if (e == NULL || fsm_entry_visible_rev(n->fsm, e, p) == 0) {
        api_error(n, req, 404, "not_found", "no catalog entry \"%s\"",
                  req->caps[0]);
        return;
    }
    items = json_array();
    struct idx_key k = { FACT_ENTRY, { NULL, 0 }, PC_SLICE_STR(e->id) };
    for (uint64_t v = after + 1; v <= e->version; v++) {
        uint64_t rev;
        struct fact f;
        char hex[PC_HASH_HEX_LEN + 1];

        if (idx_version_rev(led_idx(fsm_led(n->fsm)), &k, v, &rev) != PC_OK ||
            led_get(fsm_led(n->fsm), rev, &f) != PC_OK) {
            break;
        }
        o = api_fact_object(n, rev);
        if (o == NULL) {
            json_decref(items);
            api_error(n, req, 503, "unavailable", "out of memory");
            return;
        }
        if (!fsm_entry_version_visible(
                n->fsm, e, p, json_string_value(json_object_get(o, "status")),
                json_string_value(
                    json_object_get(json_object_get(o, "open"), "class")))) {
            json_decref(o);
            continue;
        }
        if (count == limit) {
            json_decref(o);
            more = true;
            break;
        }
        if (f.has_prev) {
            pc_hex(hex, f.prev_hash, PC_HASH_LEN);
            json_object_set_new(o, "prev_hash", json_string(hex));
        }
        json_object_set_new(
            o, "author",
            json_stringn((const char *)f.principal.p, f.principal.len));
        json_array_append_new(items, o);
        count++;
        last = v;
    }
    snprintf(next, sizeof(next), "%llu", (unsigned long long)last);
    api_list(n, req, items, more ? next : NULL);
}

/* ---- listing ---------------------------------------------------------- */

struct list_ctx {
    struct node *n;
    const struct fsm_principal *p;
    const char *provider, *status, *share, *open, *theme, *q;
    size_t limit, count;
    json_t *items;
    const char *last; /* the id of the last item */
    bool more, oom;
};

/* ASCII case-insensitive substring search. */
static bool
ci_contains(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);

    if (hay == NULL) {
        return false;
    }
    for (; *hay != '\0'; hay++) {
        if (strncasecmp(hay, needle, nl) == 0) {
            return true;
        }
    }
    return nl == 0;
}

static bool
str_eq(json_t *o, const char *key, const char *want)
{
    const char *s = json_string_value(json_object_get(o, key));

    return want == NULL || (s != NULL && strcmp(s, want) == 0);
}

static bool
matches(const struct list_ctx *c, json_t *o)
{
    json_t *k;
    size_t i;
    bool hit;

    if (!str_eq(o, "provider", c->provider) ||
        !str_eq(o, "status", c->status) || !str_eq(o, "theme", c->theme) ||
        !str_eq(json_object_get(o, "share"), "class", c->share) ||
        !str_eq(json_object_get(o, "open"), "class", c->open)) {
        return false;
    }
    if (c->q == NULL) {
        return true;
    }
    hit =
        ci_contains(json_string_value(json_object_get(o, "title")), c->q) ||
        ci_contains(json_string_value(json_object_get(o, "description")), c->q);
    json_array_foreach(json_object_get(o, "keywords"), i, k)
    {
        hit = hit || ci_contains(json_string_value(k), c->q);
    }
    return hit;
}

/* The entries api_entries_each visits, as an idx_scan callback. */
struct entries_walk {
    struct node *n;
    api_entry_cb cb;
    void *arg;
};

static bool
entries_walk_cb(void *arg, struct pc_slice id, uint64_t latest,
                uint64_t latest_rev)
{
    struct entries_walk *w = arg;
    char key[FACT_MAX_ID + 1];
    const struct fsm_entry *e;

    (void)latest, (void)latest_rev;
    if (id.len > FACT_MAX_ID) {
        return true;
    }
    memcpy(key, id.p, id.len);
    key[id.len] = '\0';
    e = fsm_entry(w->n->fsm, key);
    return e == NULL || w->cb(w->arg, e);
}

void
api_entries_each(struct node *n, const char *after, api_entry_cb cb, void *arg)
{
    struct entries_walk w = { n, cb, arg };

    idx_scan(led_idx(fsm_led(n->fsm)), FACT_ENTRY, (struct pc_slice){ NULL, 0 },
             (struct pc_slice){ NULL, 0 },
             after != NULL ? PC_SLICE_STR(after) : (struct pc_slice){ NULL, 0 },
             entries_walk_cb, &w);
}

static bool
list_cb(void *arg, const struct fsm_entry *e)
{
    struct list_ctx *c = arg;
    uint64_t rev = fsm_entry_visible_rev(c->n->fsm, e, c->p);
    json_t *o;

    if (rev == 0) {
        return true;
    }
    o = api_fact_object(c->n, rev);
    if (o == NULL) {
        c->oom = true;
        return false;
    }
    if (!matches(c, o)) {
        json_decref(o);
        return true;
    }
    if (c->count == c->limit) {
        json_decref(o);
        c->more = true;
        return false;
    }
    json_array_append_new(c->items, o);
    c->count++;
    c->last = e->id;
    return true;
}

void
api_catalog_list(struct node *n, struct http_request *req)
{
    struct list_ctx c;

    memset(&c, 0, sizeof(c));
    c.n = n;
    c.p = api_principal(n, req);
    c.provider = http_req_param(req, "provider");
    c.status = http_req_param(req, "status");
    c.share = http_req_param(req, "share");
    c.open = http_req_param(req, "open");
    c.theme = http_req_param(req, "theme");
    c.q = http_req_param(req, "q");
    if (!api_param_limit(n, req, &c.limit)) {
        return;
    }
    c.items = json_array();
    if (c.items != NULL) {
        api_entries_each(n, http_req_param(req, "after"), list_cb, &c);
    }
    if (c.oom) {
        json_decref(c.items);
        c.items = NULL;
    }
    api_list(n, req, c.items, c.more ? c.last : NULL);
}

static bool
param_in(struct node *n, struct http_request *req, const char *name,
         const char *const *set)
{
    const char *v = http_req_param(req, name);
    char msg[200];

    if (v == NULL) {
        return true;
    }
    for (; *set != NULL; set++) {
        if (strcmp(v, *set) == 0) {
            return true;
        }
    }
    snprintf(msg, sizeof(msg), "unknown %s filter value", name);
    api_bad_field(n, req, name, msg);
    return false;
}

bool
api_catalog_list_parse(struct node *n, struct http_request *req)
{
    static const char *const statuses[] = { "draft",     "submitted",
                                            "published", "rejected",
                                            "retired",   NULL };
    static const char *const classes[] = { "none", "conditional",
                                           "unconditional", NULL };
    const char *after = http_req_param(req, "after");
    size_t limit;

    if (!param_in(n, req, "status", statuses) ||
        !param_in(n, req, "share", classes) ||
        !param_in(n, req, "open", classes) ||
        !api_param_limit(n, req, &limit)) {
        return false;
    }
    if (after != NULL && !fsm_id_valid(after, strlen(after))) {
        api_bad_field(n, req, "after", "after must be the cursor of a page");
        return false;
    }
    return true;
}
