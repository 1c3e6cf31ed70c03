/* SPDX-License-Identifier: MIT */
/*
 * The calls of libprovcat that answer JSON documents: cluster and
 * operations, organisations and principals, catalog entries, and the paged
 * list iterator every list call returns, with the helpers the other files'
 * JSON calls and lists share (pcl_get_json, pcl_list_at). Each call builds
 * its path and body, states its kind (write with an Idempotency-Key,
 * linearizable read, node-local) and hands it to pcl_call; a new route is
 * one such function.
 */
#include "client/client_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"

/* Copy the answer body into `*json` when the caller wants it. */
static int
answer_json(struct provcat *c, char **json, const char *what)
{
    char *s;

    if (json == NULL) {
        return PROVCAT_OK;
    }
    s = pc_strndup((const char *)c->body.data, c->body.len);
    if (s == NULL) {
        return pcl_oom(c, what);
    }
    *json = s;
    return PROVCAT_OK;
}

int
pcl_call_json(struct provcat *c, const char *method, const struct pc_buf *path,
              const char *body, size_t body_len, unsigned flags,
              int64_t if_version, char **json, const char *what)
{
    int rc = pcl_send(c, method, (const char *)path->data, body, body_len,
                      flags, if_version, what);

    return rc == PROVCAT_OK ? answer_json(c, json, what) : rc;
}

/*
 * `method` on the path `fmt` (pcl_path's format, its arguments after it)
 * with `body` (NUL-terminated; NULL: none), the answer's JSON into `*json`
 * (may be NULL). Any version: the calls with a precondition build theirs.
 */
static int
json_call(struct provcat *c, const char *method, const char *body,
          unsigned flags, char **json, const char *what, const char *fmt, ...)
{
    struct pc_buf path;
    va_list ap;
    int rc;

    pc_buf_init(&path);
    va_start(ap, fmt);
    rc = pcl_vpath(&path, fmt, ap);
    va_end(ap);
    rc = rc == PC_OK ? pcl_call_json(c, method, &path, body,
                                     body != NULL ? strlen(body) : 0, flags,
                                     PROVCAT_ANY_VERSION, json, what)
                     : pcl_oom(c, what);
    pc_buf_release(&path);
    return rc;
}

/* A body built with pcl_body_*, sent as a write of `flags` to `base`;
 * releases the body. */
static int
post_body(struct provcat *c, const char *base, struct pcl_body *b,
          unsigned flags, char **json, const char *what)
{
    int rc = pcl_body_close(b) == PC_OK
                 ? json_call(c, "POST", (const char *)b->b.data, flags, json,
                             what, base)
                 : pcl_oom(c, what);

    pc_buf_release(&b->b);
    return rc;
}

/* A body given by the caller must be one JSON object before it goes out;
 * false after recording why. */
static bool
object_ok(struct provcat *c, const char *json, const char *what)
{
    const char *p = json;

    if (json != NULL) {
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
            p++;
        }
        if (*p == '{' && pcl_json_one_value(json, strlen(json))) {
            return true;
        }
    }
    pcl_fail(c, PROVCAT_EINVAL, "%s: the body must be one JSON object", what);
    return false;
}

/* POST of the caller's object `obj` to the collection at `base`. */
static int
create(struct provcat *c, const char *base, const char *obj, char **json,
       const char *what)
{
    pcl_reset(c);
    if (!object_ok(c, obj, what)) {
        return PROVCAT_EINVAL;
    }
    return json_call(c, "POST", obj, PCL_WRITE_IDEM, json, what, base);
}

/* GET of one object by `id` at `fmt`. */
static int
get_by_id(struct provcat *c, const char *fmt, const char *id, char **json,
          const char *what)
{
    pcl_reset(c);
    if (!pcl_has_text(id)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: no id", what);
    }
    return json_call(c, "GET", NULL, PCL_READ, json, what, fmt, id);
}

/* POST to a sub-path `fmt` of object `id`, with `body` (NULL: "{}"). */
static int
post_on(struct provcat *c, const char *fmt, const char *id, const char *body,
        char **json, const char *what)
{
    pcl_reset(c);
    if (!pcl_has_text(id)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: no id", what);
    }
    return json_call(c, "POST", body != NULL ? body : "{}", PCL_WRITE_IDEM,
                     json, what, fmt, id);
}

/* A filtered list's path: `base` and the name/value `filters` as its
 * query. PROVCAT_OK or the error, recorded. */
static int
filtered_path(struct provcat *c, struct pc_buf *path, const char *base,
              const char *const *filters, const char *what)
{
    int rc = pcl_path(path, base);

    for (size_t i = 0; filters != NULL && filters[i] != NULL && rc == PC_OK;
         i += 2) {
        if (filters[i + 1] == NULL) {
            return pcl_fail(c, PROVCAT_EINVAL,
                            "%s: filters are name/value pairs", what);
        }
        rc = pcl_query(path, filters[i], filters[i + 1]);
    }
    return rc == PC_OK ? PROVCAT_OK : pcl_oom(c, what);
}

int
pcl_get_json(struct provcat *c, const char *base, const char *const *filters,
             char **json, const char *what)
{
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    pc_buf_init(&path);
    rc = filtered_path(c, &path, base, filters, what);
    if (rc == PROVCAT_OK) {
        rc = pcl_call_json(c, "GET", &path, NULL, 0, PCL_READ,
                           PROVCAT_ANY_VERSION, json, what);
    }
    pc_buf_release(&path);
    return rc;
}

/* ---- cluster and operations ------------------------------------------- */

PROVCAT_API void
provcat_status_free(struct provcat_status *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->n_members; i++) {
        pc_free(s->members[i].address);
        pc_free(s->members[i].client_url);
        pc_free(s->members[i].role);
    }
    pc_free(s->members);
    pc_free(s->address);
    pc_free(s->client_url);
    pc_free(s->state);
    pc_free(s->leader_url);
    pc_free(s->version);
    pc_free(s->json);
    pc_free(s);
}

PROVCAT_API int
provcat_status(struct provcat *c, const char *origin,
               struct provcat_status **out)
{
    static const char *what = "status";
    struct pcl_req r = { 0 };
    struct provcat_status *s;
    json_t *o, *m, *lead;
    size_t i;
    int rc;

    r.method = "GET";
    r.path = "/v1/status";
    r.flags = PCL_LOCAL;
    r.origin = origin;
    r.if_version = PROVCAT_ANY_VERSION;
    rc = pcl_call(c, &r, what);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    rc = pcl_body_json(c, &o, what);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    s = pc_calloc(1, sizeof(*s));
    if (s == NULL) {
        json_decref(o);
        return pcl_oom(c, what);
    }
    rc = PROVCAT_OK;
    s->id = pcl_juint(o, "id");
    s->address = pcl_jstrdup(o, "address", &rc);
    s->client_url = pcl_jstrdup(o, "client_url", &rc);
    s->state = pcl_jstrdup(o, "state", &rc);
    lead = json_object_get(o, "leader");
    s->leader_id = pcl_juint(lead, "id");
    s->leader_url = pcl_jstrdup(lead, "client_url", &rc);
    s->term = pcl_juint(o, "term");
    s->commit_index = pcl_juint(o, "commit_index");
    s->applied_index = pcl_juint(o, "applied_index");
    s->revision = pcl_juint(o, "revision");
    pcl_jhex(o, "root", s->root, sizeof(s->root));
    s->version = pcl_jstrdup(o, "version", &rc);
    s->json = pc_strndup((const char *)c->body.data, c->body.len);
    if (s->json == NULL) {
        rc = PROVCAT_ENOMEM;
    }
    pcl_learn_members(c, o);
    m = json_object_get(o, "members");
    if (rc == PROVCAT_OK && json_array_size(m) > 0) {
        s->members = pc_calloc(json_array_size(m), sizeof(*s->members));
        if (s->members == NULL) {
            rc = PROVCAT_ENOMEM;
        }
    }
    for (i = 0; rc == PROVCAT_OK && i < json_array_size(m); i++) {
        json_t *x = json_array_get(m, i);
        struct provcat_member *mb = &s->members[s->n_members++];

        mb->id = pcl_juint(x, "id");
        mb->address = pcl_jstrdup(x, "address", &rc);
        mb->client_url = pcl_jstrdup(x, "client_url", &rc);
        mb->role = pcl_jstrdup(x, "role", &rc);
    }
    json_decref(o);
    if (rc != PROVCAT_OK || s->state == NULL) {
        provcat_status_free(s);
        return rc != PROVCAT_OK
                   ? pcl_oom(c, what)
                   : pcl_fail(c, PROVCAT_EPROTO, "status: no \"state\"");
    }
    *out = s;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_member_add(struct provcat *c, uint64_t id, const char *address,
                   const char *client_url, char **json)
{
    static const char *what = "add member";
    struct pcl_body b;

    pcl_reset(c);
    if (id == 0 || !pcl_has_text(address) || !pcl_has_text(client_url)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an id, an address and a client URL", what);
    }
    pcl_body_open(&b);
    pcl_body_u64(&b, "id", id);
    pcl_body_str(&b, "address", address);
    pcl_body_str(&b, "client_url", client_url);
    return post_body(c, "/v1/members", &b, PCL_WRITE, json, what);
}

PROVCAT_API int
provcat_member_remove(struct provcat *c, uint64_t id, bool force, char **json)
{
    static const char *what = "remove member";

    pcl_reset(c);
    if (id == 0) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: a node id >= 1", what);
    }
    return json_call(c, "DELETE", NULL, PCL_WRITE, json, what,
                     force ? "/v1/members/%u?force=true" : "/v1/members/%u",
                     id);
}

PROVCAT_API int
provcat_leader_transfer(struct provcat *c, uint64_t id, char **json)
{
    struct pcl_body b;

    pcl_reset(c);
    pcl_body_open(&b);
    if (id > 0) {
        pcl_body_u64(&b, "id", id);
    }
    return post_body(c, "/v1/leader/transfer", &b, PCL_WRITE, json,
                     "leader transfer");
}

PROVCAT_API int
provcat_backup(struct provcat *c, provcat_write_cb write,
               provcat_progress_cb progress, void *arg,
               struct provcat_backup_info *info)
{
    static const char *what = "backup";
    struct pcl_req r = { 0 };
    int rc;

    pcl_reset(c);
    if (write == NULL) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: no sink", what);
    }
    r.method = "GET";
    r.path = "/v1/backup";
    r.flags = PCL_READ | PCL_NO_STALE;
    r.if_version = PROVCAT_ANY_VERSION;
    r.sink = write;
    r.progress = progress;
    r.arg = arg;
    rc = pcl_call(c, &r, what);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    if (c->backup_root[0] == '\0' || c->backup_revision == 0) {
        return pcl_fail(c, PROVCAT_EPROTO,
                        "%s: the answer has no X-Provcat-Backup-Revision "
                        "and -Root",
                        what);
    }
    if (info != NULL) {
        info->revision = c->backup_revision;
        memcpy(info->root, c->backup_root, sizeof(info->root));
        info->bytes = c->delivered;
    }
    return PROVCAT_OK;
}

/* ---- organisations and principals --------------------------------------- */

PROVCAT_API int
provcat_org_create(struct provcat *c, const char *org_json, char **json)
{
    return create(c, "/v1/orgs", org_json, json, "create org");
}

PROVCAT_API int
provcat_org_get(struct provcat *c, const char *id, char **json)
{
    return get_by_id(c, "/v1/orgs/%s", id, json, "get org");
}

PROVCAT_API int
provcat_principal_create(struct provcat *c, const char *principal_json,
                         char **json)
{
    return create(c, "/v1/principals", principal_json, json,
                  "create principal");
}

PROVCAT_API int
provcat_principal_revoke(struct provcat *c, const char *id, char **json)
{
    return post_on(c, "/v1/principals/%s/revoke", id, NULL, json,
                   "revoke principal");
}

PROVCAT_API int
provcat_principal_token(struct provcat *c, const char *id, char **token)
{
    static const char *what = "issue token";
    json_t *o;
    int rc;

    rc = post_on(c, "/v1/principals/%s/token", id, NULL, NULL, what);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    rc = pcl_body_json(c, &o, what);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    if (!json_is_string(json_object_get(o, "token"))) {
        json_decref(o);
        return pcl_fail(c, PROVCAT_ECONFLICT,
                        "%s: the answer is a replay without the token; issue "
                        "another",
                        what);
    }
    rc = PROVCAT_OK;
    *token = pcl_jstrdup(o, "token", &rc);
    json_decref(o);
    return rc == PROVCAT_OK ? rc : pcl_oom(c, what);
}

PROVCAT_API int
provcat_whoami(struct provcat *c, char **json)
{
    return pcl_get_json(c, "/v1/whoami", NULL, json, "whoami");
}

/* ---- catalog entries ----------------------------------------------------- */

PROVCAT_API int
provcat_entry_create(struct provcat *c, const char *entry_json, char **json)
{
    return create(c, "/v1/catalog", entry_json, json, "create entry");
}

PROVCAT_API int
provcat_entry_update(struct provcat *c, const char *id, const char *entry_json,
                     int64_t if_version, char **json)
{
    static const char *what = "update entry";
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    if (!pcl_has_text(id) || if_version < 1) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an id and the version to replace (>= 1)", what);
    }
    if (!object_ok(c, entry_json, what)) {
        return PROVCAT_EINVAL;
    }
    pc_buf_init(&path);
    rc = pcl_path(&path, "/v1/catalog/%s", id);
    rc = rc == PC_OK
             ? pcl_call_json(c, "PUT", &path, entry_json, strlen(entry_json),
                             PCL_WRITE_IDEM, if_version, json, what)
             : pcl_oom(c, what);
    pc_buf_release(&path);
    return rc;
}

PROVCAT_API int
provcat_entry_submit(struct provcat *c, const char *id, char **json)
{
    return post_on(c, "/v1/catalog/%s/submit", id, NULL, json, "submit entry");
}

/* POST of the built body `b` to a sub-path `fmt` of object `id`;
 * releases the body. */
static int
post_body_on(struct provcat *c, const char *fmt, const char *id,
             struct pcl_body *b, char **json, const char *what)
{
    int rc = pcl_body_close(b) == PC_OK
                 ? post_on(c, fmt, id, (const char *)b->b.data, json, what)
                 : pcl_oom(c, what);

    pc_buf_release(&b->b);
    return rc;
}

PROVCAT_API int
provcat_entry_review(struct provcat *c, const char *id, const char *decision,
                     const char *reason, unsigned flags, char **json)
{
    static const char *what = "review entry";
    struct pcl_body b;

    pcl_reset(c);
    if (decision == NULL ||
        (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: the decision is approve or reject", what);
    }
    pcl_body_open(&b);
    pcl_body_str(&b, "decision", decision);
    pcl_body_str(&b, "reason", reason);
    if (flags & PROVCAT_OVERRIDE_DUPLICATE) {
        pcl_body_raw(&b, "override_duplicate", "true");
    }
    return post_body_on(c, "/v1/catalog/%s/review", id, &b, json, what);
}

PROVCAT_API int
provcat_entry_retire(struct provcat *c, const char *id, const char *reason,
                     char **json)
{
    static const char *what = "retire entry";
    struct pcl_body b;

    pcl_reset(c);
    if (!pcl_has_text(id) || !pcl_has_text(reason)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: an id and a reason", what);
    }
    pcl_body_open(&b);
    pcl_body_str(&b, "reason", reason);
    return post_body_on(c, "/v1/catalog/%s/retire", id, &b, json, what);
}

PROVCAT_API int
provcat_entry_get(struct provcat *c, const char *id, char **json)
{
    return get_by_id(c, "/v1/catalog/%s", id, json, "get entry");
}

/* ---- lists -----------------------------------------------------------------
 */

struct provcat_iter {
    struct provcat *c;
    enum pcl_iter_kind kind;
    struct pc_buf base; /* path and query, without the cursor and limit */
    const char *cursor; /* the query parameter of the cursor: "after" */
    char *next;         /* cursor of the next page, NULL when none */
    bool started;
    uint64_t revision;
    char *page; /* the current page's text */
    size_t page_len;
    const char *pos, *end; /* items not yet returned, inside `page` */
    char *item;            /* the current item's text */
    struct provcat_record rec;
    json_t *key_obj;
    struct provcat_key key;
    void *held; /* the current typed item of the workflow kinds */
    void (*held_free)(void *);
    const char *what;
};

struct page_scan {
    const char *items, *items_end;
    const char *next;
    size_t next_len;
    bool next_null;
    uint64_t revision;
};

static int
page_member(void *arg, const char *name, size_t len, const char *v, size_t vlen)
{
    struct page_scan *s = arg;

    if (len == 5 && memcmp(name, "items", 5) == 0 && vlen >= 2 && v[0] == '[') {
        s->items = v + 1;
        s->items_end = v + vlen - 1;
    } else if (len == 4 && memcmp(name, "next", 4) == 0) {
        if (v[0] == '"') {
            s->next = v + 1;
            s->next_len = vlen - 2;
        } else {
            s->next_null = true;
        }
    } else if (len == 8 && memcmp(name, "revision", 8) == 0) {
        s->revision = strtoull(v, NULL, 10);
    }
    return 0;
}

static int
iter_fetch(struct provcat_iter *it)
{
    struct provcat *c = it->c;
    struct pc_buf path;
    struct page_scan s = { 0 };
    int rc;

    pc_buf_init(&path);
    rc = pc_buf_put(&path, it->base.data, it->base.len);
    rc |= pc_buf_put_u8(&path, '\0');
    if (rc == PC_OK) {
        path.len--;
        rc = pcl_query_u64(&path, "limit", PCL_PAGE_LIMIT);
    }
    if (rc == PC_OK && it->next != NULL) {
        rc = pcl_query(&path, it->cursor, it->next);
    }
    if (rc != PC_OK) {
        pc_buf_release(&path);
        return pcl_oom(c, it->what);
    }
    rc = pcl_send(c, "GET", (const char *)path.data, NULL, 0, PCL_READ,
                  PROVCAT_ANY_VERSION, it->what);
    pc_buf_release(&path);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    pc_free(it->page);
    it->page = pc_strndup((const char *)c->body.data, c->body.len);
    if (it->page == NULL) {
        return pcl_oom(c, it->what);
    }
    it->page_len = c->body.len;
    if (pcl_json_members(it->page, it->page + it->page_len, page_member, &s) !=
            0 ||
        s.items == NULL) {
        return pcl_fail(c, PROVCAT_EPROTO, "%s: a page without \"items\"",
                        it->what);
    }
    pc_free(it->next);
    it->next = NULL;
    if (s.next != NULL) {
        it->next = pcl_json_unescape(s.next, s.next_len);
        if (it->next == NULL) {
            return pcl_fail(c, PROVCAT_EPROTO, "%s: a bad \"next\"", it->what);
        }
    }
    if (!it->started) {
        it->revision = s.revision ? s.revision : c->last_revision;
    }
    it->started = true;
    it->pos = s.items;
    it->end = s.items_end;
    return PROVCAT_OK;
}

/* The next item's span; 1, 0 at the end, or an error. */
static int
iter_step(struct provcat_iter *it, const char **start, const char **stop)
{
    const char *p;
    int rc;

    pcl_reset(it->c);
    for (;;) {
        if (it->started) {
            p = pcl_json_next(it->pos, it->end);
            if (p < it->end) {
                break;
            }
            if (it->next == NULL) {
                return 0;
            }
        }
        rc = iter_fetch(it);
        if (rc != PROVCAT_OK) {
            return rc;
        }
    }
    *start = p;
    *stop = pcl_json_skip(p, it->end);
    if (*stop == NULL) {
        return pcl_fail(it->c, PROVCAT_EPROTO, "%s: a malformed item",
                        it->what);
    }
    it->pos = *stop;
    pc_free(it->item);
    it->item = pc_strndup(p, (size_t)(*stop - p));
    if (it->item == NULL) {
        return pcl_oom(it->c, it->what);
    }
    return 1;
}

PROVCAT_API int
provcat_iter_next(struct provcat_iter *it, const char **json)
{
    const char *a, *b;
    int rc = iter_step(it, &a, &b);

    if (rc == 1) {
        *json = it->item;
    }
    return rc;
}

PROVCAT_API int
provcat_iter_record(struct provcat_iter *it, const struct provcat_record **rec)
{
    const char *a, *b;
    int rc;

    if (it->kind != PCL_ITER_RECORDS) {
        return pcl_fail(it->c, PROVCAT_EINVAL,
                        "%s: not a list of record versions", it->what);
    }
    rc = iter_step(it, &a, &b);
    if (rc != 1) {
        return rc;
    }
    pcl_record_release(&it->rec);
    rc = pcl_record_parse(it->item, it->item + strlen(it->item), &it->rec);
    if (rc != PROVCAT_OK) {
        return pcl_fail(it->c, rc, "%s: a malformed record version", it->what);
    }
    *rec = &it->rec;
    return 1;
}

PROVCAT_API int
provcat_iter_key(struct provcat_iter *it, const struct provcat_key **key)
{
    const char *a, *b;
    json_t *o;
    int rc;

    if (it->kind != PCL_ITER_KEYS) {
        return pcl_fail(it->c, PROVCAT_EINVAL, "%s: not a list of keys",
                        it->what);
    }
    rc = iter_step(it, &a, &b);
    if (rc != 1) {
        return rc;
    }
    o = json_loads(it->item, 0, NULL);
    if (!json_is_string(json_object_get(o, "key"))) {
        json_decref(o);
        return pcl_fail(it->c, PROVCAT_EPROTO, "%s: an item without a key",
                        it->what);
    }
    json_decref(it->key_obj);
    it->key_obj = o;
    it->key.key = json_string_value(json_object_get(o, "key"));
    it->key.version = pcl_juint(o, "version");
    it->key.op = json_string_value(json_object_get(o, "op"));
    it->key.revision = pcl_juint(o, "revision");
    it->key.hash = json_string_value(json_object_get(o, "hash"));
    it->key.retired = json_is_true(json_object_get(o, "retired"));
    *key = &it->key;
    return 1;
}

PROVCAT_API uint64_t
provcat_iter_revision(const struct provcat_iter *it)
{
    return it->revision;
}

PROVCAT_API void
provcat_iter_free(struct provcat_iter *it)
{
    if (it == NULL) {
        return;
    }
    pc_buf_release(&it->base);
    pc_free(it->next);
    pc_free(it->page);
    pc_free(it->item);
    pcl_record_release(&it->rec);
    json_decref(it->key_obj);
    if (it->held_free != NULL) {
        it->held_free(it->held);
    }
    pc_free(it);
}

int
pcl_iter_new(struct provcat *c, enum pcl_iter_kind kind, struct pc_buf *base,
             const char *cursor, const char *first, const char *what,
             struct provcat_iter **out)
{
    struct provcat_iter *it = pc_calloc(1, sizeof(*it));

    if (it != NULL && first != NULL) {
        it->next = pc_strdup(first);
        if (it->next == NULL) {
            pc_free(it);
            it = NULL;
        }
    }
    if (it == NULL) {
        pc_buf_release(base);
        return pcl_oom(c, what);
    }
    it->c = c;
    it->kind = kind;
    it->base = *base;
    it->cursor = cursor != NULL ? cursor : "after";
    it->what = what;
    pc_buf_init(base);
    *out = it;
    return PROVCAT_OK;
}

int
pcl_iter_item(struct provcat_iter *it, enum pcl_iter_kind kind,
              const char **json)
{
    if (it->kind != kind) {
        return pcl_fail(it->c, PROVCAT_EINVAL, "%s: a list of another kind",
                        it->what);
    }
    return provcat_iter_next(it, json);
}

void
pcl_iter_hold(struct provcat_iter *it, void *obj, void (*free_fn)(void *))
{
    if (it->held_free != NULL) {
        it->held_free(it->held);
    }
    it->held = obj;
    it->held_free = free_fn;
}

struct provcat *
pcl_iter_client(struct provcat_iter *it)
{
    return it->c;
}

const char *
pcl_iter_what(const struct provcat_iter *it)
{
    return it->what;
}

int
pcl_list_at(struct provcat *c, enum pcl_iter_kind kind, const char *base,
            const char *const *filters, const char *what,
            struct provcat_iter **out)
{
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    pc_buf_init(&path);
    rc = filtered_path(c, &path, base, filters, what);
    if (rc != PROVCAT_OK) {
        pc_buf_release(&path);
        return rc;
    }
    return pcl_iter_new(c, kind, &path, NULL, NULL, what, out);
}

PROVCAT_API int
provcat_orgs_list(struct provcat *c, struct provcat_iter **out)
{
    return pcl_list_at(c, PCL_ITER_JSON, "/v1/orgs", NULL, "list orgs", out);
}

PROVCAT_API int
provcat_entry_history(struct provcat *c, const char *id,
                      struct provcat_iter **out)
{
    struct pc_buf path;

    pcl_reset(c);
    if (!pcl_has_text(id)) {
        return pcl_fail(c, PROVCAT_EINVAL, "entry history: no id");
    }
    pc_buf_init(&path);
    if (pcl_path(&path, "/v1/catalog/%s/history", id) != PC_OK) {
        pc_buf_release(&path);
        return pcl_oom(c, "entry history");
    }
    return pcl_iter_new(c, PCL_ITER_JSON, &path, NULL, NULL, "entry history",
                        out);
}

PROVCAT_API int
provcat_entries_list(struct provcat *c, const char *const *filters,
                     struct provcat_iter **out)
{
    return pcl_list_at(c, PCL_ITER_JSON, "/v1/catalog", filters, "list entries",
                       out);
}
