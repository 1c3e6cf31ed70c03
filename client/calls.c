/* SPDX-License-Identifier: MIT */
/*
 * The calls of libprovcat that answer JSON documents: cluster and
 * operations, organisations and principals, catalog entries, and the paged
 * list iterator every list call returns. Each call builds its path and
 * body, states its kind (write with an Idempotency-Key, linearizable read,
 * node-local) and hands it to pcl_call; a new route is one such function.
 */
#include "client/client_int.h"

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
        return pcl_fail(c, PROVCAT_ENOMEM, "%s: out of memory", what);
    }
    *json = s;
    return PROVCAT_OK;
}

int
pcl_call_json(struct provcat *c, const char *method, const struct pc_buf *path,
              const char *body, size_t body_len, unsigned flags,
              int64_t if_version, char **json, const char *what)
{
    struct pcl_req r = { 0 };
    int rc;

    r.method = method;
    r.path = (const char *)path->data;
    r.body = body;
    r.body_len = body_len;
    r.flags = flags;
    r.if_version = if_version;
    rc = pcl_call(c, &r, what);
    return rc == PROVCAT_OK ? answer_json(c, json, what) : rc;
}

#define WRITE_IDEM (PCL_WRITE | PCL_IDEM)

static int
oom(struct provcat *c, const char *what)
{
    return pcl_fail(c, PROVCAT_ENOMEM, "%s: out of memory", what);
}

static bool
valid_str(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* A body must be one JSON object before it goes out. */
static bool
is_object(const char *json)
{
    const char *end;
    const char *p = json;

    if (json == NULL) {
        return false;
    }
    end = json + strlen(json);
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')) {
        p++;
    }
    if (p >= end || *p != '{') {
        return false;
    }
    p = pcl_json_skip(p, end);
    while (p != NULL && p < end &&
           (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')) {
        p++;
    }
    return p == end;
}

/* A call with a JSON object body given by the caller. */
static int
call_with_object(struct provcat *c, const char *method,
                 const struct pc_buf *path, const char *obj, unsigned flags,
                 int64_t if_version, char **json, const char *what)
{
    if (!is_object(obj)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: the body must be one JSON object", what);
    }
    return pcl_call_json(c, method, path, obj, strlen(obj), flags, if_version,
                         json, what);
}

/* POST with a body of one optional string member, e.g. {"reason": "..."}. */
static int
post_member(struct provcat *c, const struct pc_buf *path, const char *name,
            const char *value, char **json, const char *what)
{
    struct pc_buf b;
    int rc = PC_OK;

    pc_buf_init(&b);
    rc = pc_buf_put_u8(&b, '{');
    if (rc == PC_OK && value != NULL) {
        rc = pcl_json_str(&b, name, strlen(name));
        rc = rc == PC_OK ? pc_buf_put_u8(&b, ':') : rc;
        rc = rc == PC_OK ? pcl_json_str(&b, value, strlen(value)) : rc;
    }
    rc = rc == PC_OK ? pc_buf_put_u8(&b, '}') : rc;
    if (rc != PC_OK) {
        pc_buf_release(&b);
        return oom(c, what);
    }
    rc = pcl_call_json(c, "POST", path, (const char *)b.data, b.len, WRITE_IDEM,
                       PROVCAT_ANY_VERSION, json, what);
    pc_buf_release(&b);
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
        return oom(c, what);
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
                   ? oom(c, what)
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
    struct pc_buf path, b;
    int rc;

    pcl_reset(c);
    if (id == 0 || !valid_str(address) || !valid_str(client_url)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an id, an address and a client URL", what);
    }
    pc_buf_init(&path);
    pc_buf_init(&b);
    rc = pcl_path(&path, "/v1/members");
    rc |=
        pc_buf_printf(&b, "{\"id\":%llu,\"address\":", (unsigned long long)id);
    rc |= pcl_json_str(&b, address, strlen(address));
    rc |= pc_buf_put(&b, ",\"client_url\":", 14);
    rc |= pcl_json_str(&b, client_url, strlen(client_url));
    rc |= pc_buf_put_u8(&b, '}');
    rc = rc == PC_OK
             ? pcl_call_json(c, "POST", &path, (const char *)b.data, b.len,
                             PCL_WRITE, PROVCAT_ANY_VERSION, json, what)
             : oom(c, what);
    pc_buf_release(&path);
    pc_buf_release(&b);
    return rc;
}

PROVCAT_API int
provcat_member_remove(struct provcat *c, uint64_t id, bool force, char **json)
{
    static const char *what = "remove member";
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    if (id == 0) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: a node id >= 1", what);
    }
    pc_buf_init(&path);
    rc = pcl_path(&path, "/v1/members/%u", id);
    if (rc == PC_OK && force) {
        rc = pcl_query(&path, "force", "true");
    }
    rc = rc == PC_OK ? pcl_call_json(c, "DELETE", &path, NULL, 0, PCL_WRITE,
                                     PROVCAT_ANY_VERSION, json, what)
                     : oom(c, what);
    pc_buf_release(&path);
    return rc;
}

PROVCAT_API int
provcat_leader_transfer(struct provcat *c, uint64_t id, char **json)
{
    static const char *what = "leader transfer";
    struct pc_buf path;
    char body[40];
    int rc;

    pcl_reset(c);
    pc_buf_init(&path);
    if (id > 0) {
        snprintf(body, sizeof(body), "{\"id\":%llu}", (unsigned long long)id);
    } else {
        snprintf(body, sizeof(body), "{}");
    }
    rc = pcl_path(&path, "/v1/leader/transfer");
    rc = rc == PC_OK ? pcl_call_json(c, "POST", &path, body, strlen(body),
                                     PCL_WRITE, PROVCAT_ANY_VERSION, json, what)
                     : oom(c, what);
    pc_buf_release(&path);
    return rc;
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
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    pc_buf_init(&path);
    rc = pcl_path(&path, "/v1/orgs");
    rc = rc == PC_OK ? call_with_object(c, "POST", &path, org_json, WRITE_IDEM,
                                        PROVCAT_ANY_VERSION, json, "create org")
                     : oom(c, "create org");
    pc_buf_release(&path);
    return rc;
}

/* GET of one object by id under `fmt`. */
static int
get_by_id(struct provcat *c, const char *fmt, const char *id, char **json,
          const char *what)
{
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    if (!valid_str(id)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: no id", what);
    }
    pc_buf_init(&path);
    rc = pcl_path(&path, fmt, id);
    rc = rc == PC_OK ? pcl_call_json(c, "GET", &path, NULL, 0, PCL_READ,
                                     PROVCAT_ANY_VERSION, json, what)
                     : oom(c, what);
    pc_buf_release(&path);
    return rc;
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
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    pc_buf_init(&path);
    rc = pcl_path(&path, "/v1/principals");
    rc = rc == PC_OK
             ? call_with_object(c, "POST", &path, principal_json, WRITE_IDEM,
                                PROVCAT_ANY_VERSION, json, "create principal")
             : oom(c, "create principal");
    pc_buf_release(&path);
    return rc;
}

/* POST to a sub-path of an object, with body `body` (or "{}"). */
static int
post_on(struct provcat *c, const char *fmt, const char *id, const char *body,
        char **json, const char *what)
{
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    if (!valid_str(id)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: no id", what);
    }
    pc_buf_init(&path);
    rc = pcl_path(&path, fmt, id);
    if (body == NULL) {
        body = "{}";
    }
    rc = rc == PC_OK
             ? pcl_call_json(c, "POST", &path, body, strlen(body), WRITE_IDEM,
                             PROVCAT_ANY_VERSION, json, what)
             : oom(c, what);
    pc_buf_release(&path);
    return rc;
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
    return rc == PROVCAT_OK ? rc : oom(c, what);
}

PROVCAT_API int
provcat_whoami(struct provcat *c, char **json)
{
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    pc_buf_init(&path);
    rc = pcl_path(&path, "/v1/whoami");
    rc = rc == PC_OK ? pcl_call_json(c, "GET", &path, NULL, 0, PCL_READ,
                                     PROVCAT_ANY_VERSION, json, "whoami")
                     : oom(c, "whoami");
    pc_buf_release(&path);
    return rc;
}

/* ---- catalog entries ----------------------------------------------------- */

PROVCAT_API int
provcat_entry_create(struct provcat *c, const char *entry_json, char **json)
{
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    pc_buf_init(&path);
    rc = pcl_path(&path, "/v1/catalog");
    rc = rc == PC_OK
             ? call_with_object(c, "POST", &path, entry_json, WRITE_IDEM,
                                PROVCAT_ANY_VERSION, json, "create entry")
             : oom(c, "create entry");
    pc_buf_release(&path);
    return rc;
}

PROVCAT_API int
provcat_entry_update(struct provcat *c, const char *id, const char *entry_json,
                     int64_t if_version, char **json)
{
    static const char *what = "update entry";
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    if (!valid_str(id) || if_version < 1) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an id and the version to replace (>= 1)", what);
    }
    pc_buf_init(&path);
    rc = pcl_path(&path, "/v1/catalog/%s", id);
    rc = rc == PC_OK ? call_with_object(c, "PUT", &path, entry_json, WRITE_IDEM,
                                        if_version, json, what)
                     : oom(c, what);
    pc_buf_release(&path);
    return rc;
}

PROVCAT_API int
provcat_entry_submit(struct provcat *c, const char *id, char **json)
{
    return post_on(c, "/v1/catalog/%s/submit", id, NULL, json, "submit entry");
}

PROVCAT_API int
provcat_entry_review(struct provcat *c, const char *id, const char *decision,
                     const char *reason, unsigned flags, char **json)
{
    static const char *what = "review entry";
    struct pc_buf b;
    int rc;

    pcl_reset(c);
    if (decision == NULL ||
        (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: the decision is approve or reject", what);
    }
    pc_buf_init(&b);
    rc = pc_buf_printf(&b, "{\"decision\":\"%s\"", decision);
    if (reason != NULL) {
        rc |= pc_buf_put(&b, ",\"reason\":", 10);
        rc |= pcl_json_str(&b, reason, strlen(reason));
    }
    if (flags & PROVCAT_OVERRIDE_DUPLICATE) {
        rc |= pc_buf_printf(&b, ",\"override_duplicate\":true");
    }
    rc |= pc_buf_put(&b, "}", 2); /* with its NUL */
    rc = rc == PC_OK ? post_on(c, "/v1/catalog/%s/review", id,
                               (const char *)b.data, json, what)
                     : oom(c, what);
    pc_buf_release(&b);
    return rc;
}

PROVCAT_API int
provcat_entry_retire(struct provcat *c, const char *id, const char *reason,
                     char **json)
{
    static const char *what = "retire entry";
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    if (!valid_str(id) || !valid_str(reason)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: an id and a reason", what);
    }
    pc_buf_init(&path);
    rc = pcl_path(&path, "/v1/catalog/%s/retire", id);
    rc = rc == PC_OK ? post_member(c, &path, "reason", reason, json, what)
                     : oom(c, what);
    pc_buf_release(&path);
    return rc;
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
    struct pcl_req r = { 0 };
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
        return oom(c, it->what);
    }
    r.method = "GET";
    r.path = (const char *)path.data;
    r.flags = PCL_READ;
    r.if_version = PROVCAT_ANY_VERSION;
    rc = pcl_call(c, &r, it->what);
    pc_buf_release(&path);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    pc_free(it->page);
    it->page = pc_strndup((const char *)c->body.data, c->body.len);
    if (it->page == NULL) {
        return oom(c, it->what);
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

static const char *
skip_ws(const char *p, const char *end)
{
    while (p < end &&
           (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == ',')) {
        p++;
    }
    return p;
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
            p = skip_ws(it->pos, it->end);
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
        return oom(it->c, it->what);
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
        return oom(c, what);
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

static int
iter_new(struct provcat *c, enum pcl_iter_kind kind, struct pc_buf *base,
         const char *what, struct provcat_iter **out)
{
    return pcl_iter_new(c, kind, base, NULL, NULL, what, out);
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
pcl_add_filters(struct pc_buf *b, const char *const *filters)
{
    int rc = PC_OK;

    for (size_t i = 0; filters != NULL && filters[i] != NULL && rc == PC_OK;
         i += 2) {
        if (filters[i + 1] == NULL) {
            return PC_EINVAL;
        }
        rc = pcl_query(b, filters[i], filters[i + 1]);
    }
    return rc;
}

int
pcl_list(struct provcat *c, bool records, struct pc_buf *base, const char *what,
         struct provcat_iter **out)
{
    return iter_new(c, records ? PCL_ITER_RECORDS : PCL_ITER_KEYS, base, what,
                    out);
}

PROVCAT_API int
provcat_orgs_list(struct provcat *c, struct provcat_iter **out)
{
    struct pc_buf path;

    pcl_reset(c);
    pc_buf_init(&path);
    if (pcl_path(&path, "/v1/orgs") != PC_OK) {
        pc_buf_release(&path);
        return oom(c, "list orgs");
    }
    return iter_new(c, PCL_ITER_JSON, &path, "list orgs", out);
}

PROVCAT_API int
provcat_entry_history(struct provcat *c, const char *id,
                      struct provcat_iter **out)
{
    struct pc_buf path;

    pcl_reset(c);
    if (!valid_str(id)) {
        return pcl_fail(c, PROVCAT_EINVAL, "entry history: no id");
    }
    pc_buf_init(&path);
    if (pcl_path(&path, "/v1/catalog/%s/history", id) != PC_OK) {
        pc_buf_release(&path);
        return oom(c, "entry history");
    }
    return iter_new(c, PCL_ITER_JSON, &path, "entry history", out);
}

PROVCAT_API int
provcat_entries_list(struct provcat *c, const char *const *filters,
                     struct provcat_iter **out)
{
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    pc_buf_init(&path);
    rc = pcl_path(&path, "/v1/catalog");
    rc = rc == PC_OK ? pcl_add_filters(&path, filters) : rc;
    if (rc != PC_OK) {
        pc_buf_release(&path);
        return rc == PC_EINVAL
                   ? pcl_fail(c, PROVCAT_EINVAL,
                              "list entries: filters are name/value pairs")
                   : oom(c, "list entries");
    }
    return iter_new(c, PCL_ITER_JSON, &path, "list entries", out);
}
