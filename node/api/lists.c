/* SPDX-License-Identifier: MIT */
/*
 * The lists of articles 19 and 23, derived from the catalog and the share
 * requests: responsibility (the entries in force, by provider org),
 * demand (share requests by entry), negative (entries with share class
 * none and the basis stated for not sharing) and open (entries whose open
 * class is not none, with their conditions; anyone, no token). Each is
 * paged in entry id order with the list envelope; `after` is the last id
 * of the previous page. Entries are shown as their published version in
 * force (a change awaiting review is not listed until approved; retired
 * entries are not listed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "node/api/api_int.h"
#include "storage/led.h"

enum list_kind {
    LIST_RESPONSIBILITY,
    LIST_NEGATIVE,
    LIST_OPEN
};

bool
api_lists_parse(struct node *n, struct http_request *req)
{
    static const char *const ids[] = { "after", "provider", "entry", NULL };
    size_t limit;

    return api_param_ids(n, req, ids) && api_param_limit(n, req, &limit);
}

struct list_ctx {
    struct node *n;
    enum list_kind kind;
    const char *provider;
    size_t limit, count;
    json_t *items;
    const char *last; /* the id of the last item */
    bool more, oom;
};

/* The members of a class object worth listing: class, conditions, basis. */
static json_t *
class_json(json_t *c)
{
    json_t *o = json_object();

    if (o == NULL || c == NULL) {
        return o;
    }
    json_object_set(o, "class", json_object_get(c, "class"));
    json_object_set(o, "conditions", json_object_get(c, "conditions"));
    if (json_object_get(c, "basis") != NULL) {
        json_object_set(o, "basis", json_object_get(c, "basis"));
    }
    return o;
}

/* The list item of entry `e` (its version in force), or NULL when it is
 * not on this list (`*oom` set when that is for want of memory). */
static json_t *
item_of(struct list_ctx *c, const struct fsm_entry *e, bool *oom)
{
    json_t *v, *o, *share, *open;

    if (!e->in_force || e->public_rev == 0 ||
        (c->provider != NULL && strcmp(c->provider, e->provider) != 0) ||
        (c->kind == LIST_NEGATIVE && e->public_share != FSM_CLASS_NONE) ||
        (c->kind == LIST_OPEN && e->public_open == FSM_CLASS_NONE)) {
        return NULL;
    }
    v = api_fact_payload(c->n, e->public_rev);
    o = json_object();
    if (v == NULL || o == NULL) {
        json_decref(v);
        json_decref(o);
        *oom = true;
        return NULL;
    }
    share = json_object_get(v, "share");
    open = json_object_get(v, "open");
    json_object_set_new(o, "id", json_string(e->id));
    json_object_set(o, "title", json_object_get(v, "title"));
    json_object_set_new(o, "provider", json_string(e->provider));
    json_object_set_new(o, "revision", json_integer((json_int_t)e->public_rev));
    switch (c->kind) {
    case LIST_RESPONSIBILITY:
        json_object_set(o, "theme", json_object_get(v, "theme"));
        json_object_set(o, "scope", json_object_get(v, "scope"));
        json_object_set(o, "update_frequency",
                        json_object_get(v, "update_frequency"));
        json_object_set_new(o, "share", class_json(share));
        json_object_set_new(o, "open", class_json(open));
        break;
    case LIST_NEGATIVE:
        json_object_set(o, "basis", json_object_get(share, "basis"));
        json_object_set(o, "conditions", json_object_get(share, "conditions"));
        break;
    case LIST_OPEN:
        json_object_set(o, "theme", json_object_get(v, "theme"));
        json_object_set(o, "update_frequency",
                        json_object_get(v, "update_frequency"));
        json_object_set_new(o, "open", class_json(open));
        break;
    }
    json_decref(v);
    return o;
}

static bool
list_cb(void *arg, const struct fsm_entry *e)
{
    struct list_ctx *c = arg;
    json_t *o = item_of(c, e, &c->oom);

    if (o == NULL) {
        return !c->oom;
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

static void
entries_list(struct node *n, struct http_request *req, enum list_kind kind)
{
    struct list_ctx c;

    memset(&c, 0, sizeof(c));
    c.n = n;
    c.kind = kind;
    c.provider = http_req_param(req, "provider");
    api_param_limit(n, req, &c.limit); /* checked by parse */
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

void
api_lists_responsibility(struct node *n, struct http_request *req)
{
    entries_list(n, req, LIST_RESPONSIBILITY);
}

void
api_lists_negative(struct node *n, struct http_request *req)
{
    entries_list(n, req, LIST_NEGATIVE);
}

void
api_lists_open(struct node *n, struct http_request *req)
{
    entries_list(n, req, LIST_OPEN);
}

/* The demand list: per entry asked for (and visible to the caller), its
 * share requests by status, the orgs asking and the grants active now,
 * from the counters kept in apply. */
void
api_lists_demand(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p = api_principal(n, req);
    const char *after = http_req_param(req, "after");
    const char *provider = http_req_param(req, "provider");
    const char *only = http_req_param(req, "entry");
    int64_t now = led_time(fsm_led(n->fsm));
    const char *const *ids;
    json_t *items = json_array();
    const char *last = NULL;
    size_t nids, limit, count = 0;
    bool more = false;

    api_param_limit(n, req, &limit); /* checked by parse */
    if (items == NULL || fsm_share_demand_entries(n->fsm, &ids, &nids)) {
        json_decref(items);
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    for (size_t i = 0; i < nids && items != NULL; i++) {
        const struct fsm_entry *e = fsm_entry(n->fsm, ids[i]);
        struct fsm_share_stats st;
        json_t *o, *by, *orgs, *v;
        char *const *os;
        size_t no;

        if (e == NULL || (after != NULL && strcmp(ids[i], after) <= 0) ||
            (only != NULL && strcmp(ids[i], only) != 0) ||
            (provider != NULL && strcmp(e->provider, provider) != 0) ||
            fsm_entry_visible_rev(n->fsm, e, p) == 0 ||
            fsm_share_stats(n->fsm, FSM_SHARE_ENTRY, ids[i], now, &st)) {
            continue;
        }
        if (count == limit) {
            more = true;
            break;
        }
        by = json_object();
        orgs = json_array();
        v = api_fact_payload(n, fsm_entry_visible_rev(n->fsm, e, p));
        no = fsm_share_entry_orgs(n->fsm, ids[i], &os);
        for (int s = 0; by != NULL && s < FSM_SHARE_N_STATUS; s++) {
            json_object_set_new(by, fsm_share_status_name((unsigned)s),
                                json_integer((json_int_t)st.requests[s]));
        }
        for (size_t k = 0; orgs != NULL && k < no; k++) {
            json_array_append_new(orgs, json_string(os[k]));
        }
        o = json_pack("{s:s, s:O?, s:s, s:o?, s:I, s:o?, s:I}", "entry", ids[i],
                      "title", json_object_get(v, "title"), "provider",
                      e->provider, "requests", by, "total",
                      (json_int_t)st.requests_total, "orgs", orgs,
                      "grants_active", (json_int_t)st.grants_active);
        json_decref(v);
        if (o == NULL || json_array_append_new(items, o) != 0) {
            json_decref(items);
            items = NULL;
            break;
        }
        last = ids[i];
        count++;
    }
    api_list(n, req, items, more ? last : NULL);
}
