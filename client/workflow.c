/* SPDX-License-Identifier: MIT */
/*
 * The workflow calls of libprovcat: share requests and grants, open
 * requests and the calendar, objections and redaction. Every object comes
 * back as a struct parsed from the answer with `json` holding the answer
 * whole; list iterators of these kinds hand out the same structs. Writes
 * carry an Idempotency-Key (every workflow write is idempotent in the
 * API), so the client retries them safely.
 */
#include "client/client_int.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"

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

/* `s` is one of the NULL-terminated `words`. */
static bool
one_of(const char *s, const char *const *words)
{
    for (size_t i = 0; s != NULL && words[i] != NULL; i++) {
        if (strcmp(s, words[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- request bodies ---------------------------------------------------- */

/* A JSON object built member by member; the first failure sticks. */
struct body {
    struct pc_buf b;
    int rc;
    bool first;
};

static void
body_open(struct body *x)
{
    pc_buf_init(&x->b);
    x->rc = pc_buf_put_u8(&x->b, '{');
    x->first = true;
}

static void
body_name(struct body *x, const char *name)
{
    if (!x->first) {
        x->rc |= pc_buf_put_u8(&x->b, ',');
    }
    x->first = false;
    x->rc |= pcl_json_str(&x->b, name, strlen(name));
    x->rc |= pc_buf_put_u8(&x->b, ':');
}

/* "name": "v", unless `v` is NULL. */
static void
body_str(struct body *x, const char *name, const char *v)
{
    if (v == NULL) {
        return;
    }
    body_name(x, name);
    x->rc |= pcl_json_str(&x->b, v, strlen(v));
}

static void
body_u64(struct body *x, const char *name, uint64_t v)
{
    body_name(x, name);
    x->rc |= pc_buf_put_dec(&x->b, v);
}

/* "name": [...] of the NULL-terminated `v`, unless `v` is NULL. */
static void
body_strv(struct body *x, const char *name, const char *const *v)
{
    if (v == NULL) {
        return;
    }
    body_name(x, name);
    x->rc |= pc_buf_put_u8(&x->b, '[');
    for (size_t i = 0; v[i] != NULL; i++) {
        if (i > 0) {
            x->rc |= pc_buf_put_u8(&x->b, ',');
        }
        x->rc |= pcl_json_str(&x->b, v[i], strlen(v[i]));
    }
    x->rc |= pc_buf_put_u8(&x->b, ']');
}

/* Close the object (NUL-terminated); PC_OK or PC_ENOMEM. */
static int
body_close(struct body *x)
{
    x->rc |= pc_buf_put(&x->b, "}", 2);
    if (x->rc == PC_OK) {
        x->b.len--;
    }
    return x->rc == PC_OK ? PC_OK : PC_ENOMEM;
}

/* ---- parsing answers into structs ------------------------------------- */

/* Parse the object `text` (`len` bytes) into a new struct in `*out`:
 * PROVCAT_OK, PROVCAT_EPROTO or PROVCAT_ENOMEM. */
typedef int (*parse_fn)(const char *text, size_t len, void **out);

/* The object at `text` as a jansson tree and a copy of its text. */
static int
load(const char *text, size_t len, json_t **o, char **copy)
{
    *o = json_loadb(text, len, 0, NULL);
    if (!json_is_object(*o)) {
        json_decref(*o);
        return PROVCAT_EPROTO;
    }
    *copy = pc_strndup(text, len);
    if (*copy == NULL) {
        json_decref(*o);
        return PROVCAT_ENOMEM;
    }
    return PROVCAT_OK;
}

static void
step_fill(json_t *o, struct provcat_step *s, int *rc)
{
    if (!json_is_object(o)) {
        return;
    }
    s->by = pcl_jstrdup(o, "by", rc);
    s->at = pcl_jstrdup(o, "at", rc);
    s->decision = pcl_jstrdup(o, "decision", rc);
    s->reason = pcl_jstrdup(o, "reason", rc);
}

static void
step_release(struct provcat_step *s)
{
    pc_free(s->by);
    pc_free(s->at);
    pc_free(s->decision);
    pc_free(s->reason);
}

/* The answer of a call into a struct, or an error naming `what`. */
static int
parse_answer(struct provcat *c, parse_fn parse, void **out, const char *what)
{
    int rc;

    if (out == NULL) {
        return PROVCAT_OK;
    }
    rc = parse((const char *)c->body.data, c->body.len, out);
    if (rc == PROVCAT_ENOMEM) {
        return oom(c, what);
    }
    if (rc != PROVCAT_OK) {
        return pcl_fail(c, PROVCAT_EPROTO, "%s: a malformed answer", what);
    }
    return PROVCAT_OK;
}

/* Send `method` `path` with `body` (or none) and parse the answer. */
static int
obj_call(struct provcat *c, const char *method, const struct pc_buf *path,
         const struct pc_buf *body, unsigned flags, parse_fn parse, void **out,
         const char *what)
{
    struct pcl_req r = { 0 };
    int rc;

    r.method = method;
    r.path = (const char *)path->data;
    r.body = body != NULL ? (const char *)body->data : NULL;
    r.body_len = body != NULL ? body->len : 0;
    r.flags = flags;
    r.if_version = PROVCAT_ANY_VERSION;
    rc = pcl_call(c, &r, what);
    return rc == PROVCAT_OK ? parse_answer(c, parse, out, what) : rc;
}

/* GET `fmt` with one id segment, parsed. */
static int
get_obj(struct provcat *c, const char *fmt, const char *id, parse_fn parse,
        void **out, const char *what)
{
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    if (!valid_str(id)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: no id", what);
    }
    pc_buf_init(&path);
    rc = pcl_path(&path, fmt, id);
    rc = rc == PC_OK
             ? obj_call(c, "GET", &path, NULL, PCL_READ, parse, out, what)
             : oom(c, what);
    pc_buf_release(&path);
    return rc;
}

/* POST the built `body` to `fmt` (with an id segment or none), parsed.
 * Releases `body`. */
static int
post_obj(struct provcat *c, const char *fmt, const char *id, struct body *body,
         parse_fn parse, void **out, const char *what)
{
    struct pc_buf path;
    int rc;

    pc_buf_init(&path);
    rc = body_close(body);
    if (rc == PC_OK) {
        rc = id != NULL ? pcl_path(&path, fmt, id) : pcl_path(&path, fmt);
    }
    rc = rc == PC_OK ? obj_call(c, "POST", &path, &body->b, WRITE_IDEM, parse,
                                out, what)
                     : oom(c, what);
    pc_buf_release(&path);
    pc_buf_release(&body->b);
    return rc;
}

/* A decision {"decision", "reason"?} on `fmt`/{id}. */
static int
decide(struct provcat *c, const char *fmt, const char *id, const char *decision,
       const char *const *allowed, const char *reason, bool reason_required,
       parse_fn parse, void **out, const char *what)
{
    struct body b;

    pcl_reset(c);
    if (!valid_str(id)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: no id", what);
    }
    if (!one_of(decision, allowed)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: the decision is %s or %s", what,
                        allowed[0], allowed[1]);
    }
    if (reason_required && !valid_str(reason)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: a reason is required", what);
    }
    body_open(&b);
    body_str(&b, "decision", decision);
    body_str(&b, "reason", reason);
    return post_obj(c, fmt, id, &b, parse, out, what);
}

/* A list of `kind` at `base` + filters. */
static int
list_of(struct provcat *c, enum pcl_iter_kind kind, const char *base,
        const char *const *filters, const char *what, struct provcat_iter **out)
{
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    pc_buf_init(&path);
    rc = pcl_path(&path, base);
    rc = rc == PC_OK ? pcl_add_filters(&path, filters) : rc;
    if (rc != PC_OK) {
        pc_buf_release(&path);
        return rc == PC_EINVAL
                   ? pcl_fail(c, PROVCAT_EINVAL,
                              "%s: filters are name/value pairs", what)
                   : oom(c, what);
    }
    return pcl_iter_new(c, kind, &path, NULL, NULL, what, out);
}

/* The iterator's next item of `kind`, parsed and held by the iterator. */
static int
iter_typed(struct provcat_iter *it, enum pcl_iter_kind kind, parse_fn parse,
           void (*free_fn)(void *), void **out)
{
    const char *json;
    void *obj;
    int rc = pcl_iter_item(it, kind, &json);

    if (rc != 1) {
        return rc;
    }
    rc = parse(json, strlen(json), &obj);
    if (rc != PROVCAT_OK) {
        return rc == PROVCAT_ENOMEM
                   ? oom(pcl_iter_client(it), pcl_iter_what(it))
                   : pcl_fail(pcl_iter_client(it), PROVCAT_EPROTO,
                              "%s: a malformed item", pcl_iter_what(it));
    }
    pcl_iter_hold(it, obj, free_fn);
    *out = obj;
    return 1;
}

/* ---- share requests ------------------------------------------------------ */

PROVCAT_API void
provcat_share_request_free(struct provcat_share_request *r)
{
    if (r == NULL) {
        return;
    }
    pc_free(r->id);
    pc_free(r->status);
    pc_free(r->entry);
    pc_free(r->org);
    pc_free(r->requester);
    pc_free(r->provider);
    pc_free(r->purpose);
    pcl_strv_free(r->fields, r->n_fields);
    pc_free(r->submitted_at);
    step_release(&r->provider_opinion);
    step_release(&r->decision);
    pc_free(r->grant);
    pc_free(r->updated_at);
    pc_free(r->json);
    pc_free(r);
}

static void
share_free(void *p)
{
    provcat_share_request_free(p);
}

static int
share_parse(const char *text, size_t len, void **out)
{
    struct provcat_share_request *r;
    json_t *o;
    char *copy;
    int rc = load(text, len, &o, &copy);

    if (rc != PROVCAT_OK) {
        return rc;
    }
    r = pc_calloc(1, sizeof(*r));
    if (r == NULL) {
        json_decref(o);
        pc_free(copy);
        return PROVCAT_ENOMEM;
    }
    r->json = copy;
    r->id = pcl_jstrdup(o, "id", &rc);
    r->status = pcl_jstrdup(o, "status", &rc);
    r->entry = pcl_jstrdup(o, "entry", &rc);
    r->org = pcl_jstrdup(o, "org", &rc);
    r->requester = pcl_jstrdup(o, "requester", &rc);
    r->provider = pcl_jstrdup(o, "provider", &rc);
    r->purpose = pcl_jstrdup(o, "purpose", &rc);
    r->fields = pcl_jstrv(o, "fields", &r->n_fields, &rc);
    r->days = pcl_juint(o, "days");
    r->submitted_at = pcl_jstrdup(o, "submitted_at", &rc);
    step_fill(json_object_get(o, "provider_opinion"), &r->provider_opinion,
              &rc);
    step_fill(json_object_get(o, "decision"), &r->decision, &rc);
    r->grant = pcl_jstrdup(o, "grant", &rc);
    r->version = pcl_juint(o, "version");
    r->revision = pcl_juint(o, "revision");
    r->updated_at = pcl_jstrdup(o, "updated_at", &rc);
    pcl_jhex(o, "hash", r->hash, sizeof(r->hash));
    json_decref(o);
    if (rc == PROVCAT_OK && (r->id == NULL || r->status == NULL)) {
        rc = PROVCAT_EPROTO;
    }
    if (rc != PROVCAT_OK) {
        provcat_share_request_free(r);
        return rc;
    }
    *out = r;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_share_request_create(struct provcat *c, const char *entry,
                             const char *purpose, const char *const *fields,
                             uint64_t days, struct provcat_share_request **out)
{
    static const char *what = "create share request";
    struct body b;
    void *p = NULL;
    int rc;

    pcl_reset(c);
    if (!valid_str(entry) || !valid_str(purpose) || days == 0) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an entry, a purpose and days >= 1", what);
    }
    body_open(&b);
    body_str(&b, "entry", entry);
    body_str(&b, "purpose", purpose);
    body_strv(&b, "fields", fields);
    body_u64(&b, "days", days);
    rc = post_obj(c, "/v1/share-requests", NULL, &b, share_parse,
                  out != NULL ? &p : NULL, what);
    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_share_request_decide(struct provcat *c, const char *id,
                             const char *decision, const char *reason,
                             struct provcat_share_request **out)
{
    static const char *const allowed[] = { "approve", "reject", NULL };
    void *p = NULL;
    int rc = decide(c, "/v1/share-requests/%s/decide", id, decision, allowed,
                    reason, false, share_parse, out != NULL ? &p : NULL,
                    "decide share request");

    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_share_request_get(struct provcat *c, const char *id,
                          struct provcat_share_request **out)
{
    void *p = NULL;
    int rc = get_obj(c, "/v1/share-requests/%s", id, share_parse,
                     out != NULL ? &p : NULL, "get share request");

    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_share_requests_list(struct provcat *c, const char *const *filters,
                            struct provcat_iter **out)
{
    return list_of(c, PCL_ITER_SHARE, "/v1/share-requests", filters,
                   "list share requests", out);
}

PROVCAT_API int
provcat_iter_share_request(struct provcat_iter *it,
                           const struct provcat_share_request **out)
{
    void *p;
    int rc = iter_typed(it, PCL_ITER_SHARE, share_parse, share_free, &p);

    if (rc == 1) {
        *out = p;
    }
    return rc;
}

/* ---- grants ----------------------------------------------------------------
 */

PROVCAT_API void
provcat_grant_free(struct provcat_grant *g)
{
    if (g == NULL) {
        return;
    }
    pc_free(g->id);
    pc_free(g->request);
    pc_free(g->entry);
    pc_free(g->org);
    pc_free(g->provider);
    pc_free(g->purpose);
    pcl_strv_free(g->fields, g->n_fields);
    pc_free(g->status);
    pc_free(g->granted_at);
    pc_free(g->ends_at);
    step_release(&g->revoked);
    pc_free(g->ended_reason);
    pc_free(g->ended_at);
    pc_free(g->updated_at);
    pc_free(g->json);
    pc_free(g);
}

static void
grant_free(void *p)
{
    provcat_grant_free(p);
}

static int
grant_parse(const char *text, size_t len, void **out)
{
    struct provcat_grant *g;
    json_t *o, *ended;
    char *copy;
    int rc = load(text, len, &o, &copy);

    if (rc != PROVCAT_OK) {
        return rc;
    }
    g = pc_calloc(1, sizeof(*g));
    if (g == NULL) {
        json_decref(o);
        pc_free(copy);
        return PROVCAT_ENOMEM;
    }
    g->json = copy;
    g->id = pcl_jstrdup(o, "id", &rc);
    g->request = pcl_jstrdup(o, "request", &rc);
    g->entry = pcl_jstrdup(o, "entry", &rc);
    g->org = pcl_jstrdup(o, "org", &rc);
    g->provider = pcl_jstrdup(o, "provider", &rc);
    g->purpose = pcl_jstrdup(o, "purpose", &rc);
    g->fields = pcl_jstrv(o, "fields", &g->n_fields, &rc);
    g->days = pcl_juint(o, "days");
    g->status = pcl_jstrdup(o, "status", &rc);
    g->granted_at = pcl_jstrdup(o, "granted_at", &rc);
    g->ends_at = pcl_jstrdup(o, "ends_at", &rc);
    step_fill(json_object_get(o, "revoked"), &g->revoked, &rc);
    ended = json_object_get(o, "ended");
    g->ended_reason = pcl_jstrdup(ended, "reason", &rc);
    g->ended_at = pcl_jstrdup(ended, "at", &rc);
    g->ended_revision = pcl_juint(ended, "revision");
    g->version = pcl_juint(o, "version");
    g->revision = pcl_juint(o, "revision");
    g->updated_at = pcl_jstrdup(o, "updated_at", &rc);
    pcl_jhex(o, "hash", g->hash, sizeof(g->hash));
    json_decref(o);
    if (rc == PROVCAT_OK && (g->id == NULL || g->status == NULL)) {
        rc = PROVCAT_EPROTO;
    }
    if (rc != PROVCAT_OK) {
        provcat_grant_free(g);
        return rc;
    }
    *out = g;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_grant_get(struct provcat *c, const char *id, struct provcat_grant **out)
{
    void *p = NULL;
    int rc = get_obj(c, "/v1/grants/%s", id, grant_parse,
                     out != NULL ? &p : NULL, "get grant");

    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_grant_revoke(struct provcat *c, const char *id, const char *reason,
                     struct provcat_grant **out)
{
    static const char *what = "revoke grant";
    struct body b;
    void *p = NULL;
    int rc;

    pcl_reset(c);
    if (!valid_str(id) || !valid_str(reason)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: an id and a reason", what);
    }
    body_open(&b);
    body_str(&b, "reason", reason);
    rc = post_obj(c, "/v1/grants/%s/revoke", id, &b, grant_parse,
                  out != NULL ? &p : NULL, what);
    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_grants_list(struct provcat *c, const char *const *filters,
                    struct provcat_iter **out)
{
    return list_of(c, PCL_ITER_GRANT, "/v1/grants", filters, "list grants",
                   out);
}

PROVCAT_API int
provcat_iter_grant(struct provcat_iter *it, const struct provcat_grant **out)
{
    void *p;
    int rc = iter_typed(it, PCL_ITER_GRANT, grant_parse, grant_free, &p);

    if (rc == 1) {
        *out = p;
    }
    return rc;
}

/* ---- the public lists -------------------------------------------------- */

PROVCAT_API int
provcat_list(struct provcat *c, enum provcat_list_kind kind,
             const char *const *filters, struct provcat_iter **out)
{
    static const char *const paths[] = { NULL, "/v1/lists/responsibility",
                                         "/v1/lists/demand",
                                         "/v1/lists/negative",
                                         "/v1/lists/open" };
    static const char *const names[] = { NULL, "responsibility list",
                                         "demand list", "negative list",
                                         "open list" };

    if ((int)kind < PROVCAT_LIST_RESPONSIBILITY ||
        (int)kind > PROVCAT_LIST_OPEN) {
        pcl_reset(c);
        return pcl_fail(c, PROVCAT_EINVAL, "list: no such list (%d)",
                        (int)kind);
    }
    return list_of(c, PCL_ITER_JSON, paths[kind], filters, names[kind], out);
}

/* ---- open requests ------------------------------------------------------- */

PROVCAT_API void
provcat_open_request_free(struct provcat_open_request *r)
{
    if (r == NULL) {
        return;
    }
    pc_free(r->id);
    pc_free(r->status);
    pc_free(r->entry);
    pc_free(r->provider);
    pc_free(r->requester);
    pc_free(r->org);
    pc_free(r->applicant);
    pc_free(r->data_type);
    pc_free(r->description);
    pc_free(r->purpose);
    pc_free(r->submitted_at);
    pc_free(r->due_at);
    pc_free(r->decided_at);
    pc_free(r->decided_by);
    pc_free(r->reason);
    pc_free(r->updated_at);
    pc_free(r->json);
    pc_free(r);
}

static void
open_free(void *p)
{
    provcat_open_request_free(p);
}

static int
open_parse(const char *text, size_t len, void **out)
{
    struct provcat_open_request *r;
    json_t *o;
    char *copy;
    int rc = load(text, len, &o, &copy);

    if (rc != PROVCAT_OK) {
        return rc;
    }
    r = pc_calloc(1, sizeof(*r));
    if (r == NULL) {
        json_decref(o);
        pc_free(copy);
        return PROVCAT_ENOMEM;
    }
    r->json = copy;
    r->id = pcl_jstrdup(o, "id", &rc);
    r->status = pcl_jstrdup(o, "status", &rc);
    r->entry = pcl_jstrdup(o, "entry", &rc);
    r->provider = pcl_jstrdup(o, "provider", &rc);
    r->requester = pcl_jstrdup(o, "requester", &rc);
    r->org = pcl_jstrdup(o, "org", &rc);
    r->applicant = pcl_jstrdup(o, "applicant", &rc);
    r->data_type = pcl_jstrdup(o, "data_type", &rc);
    r->description = pcl_jstrdup(o, "description", &rc);
    r->purpose = pcl_jstrdup(o, "purpose", &rc);
    r->submitted_at = pcl_jstrdup(o, "submitted_at", &rc);
    pcl_jhex(o, "due", r->due, sizeof(r->due));
    r->due_at = pcl_jstrdup(o, "due_at", &rc);
    r->calendar_provisional =
        json_is_true(json_object_get(o, "calendar_provisional"));
    r->overdue = json_is_true(json_object_get(o, "overdue"));
    r->decided_at = pcl_jstrdup(o, "decided_at", &rc);
    r->decided_by = pcl_jstrdup(o, "decided_by", &rc);
    r->reason = pcl_jstrdup(o, "reason", &rc);
    r->answered_late = json_is_true(json_object_get(o, "answered_late"));
    r->version = pcl_juint(o, "version");
    r->revision = pcl_juint(o, "revision");
    r->updated_at = pcl_jstrdup(o, "updated_at", &rc);
    pcl_jhex(o, "hash", r->hash, sizeof(r->hash));
    json_decref(o);
    if (rc == PROVCAT_OK && (r->id == NULL || r->status == NULL)) {
        rc = PROVCAT_EPROTO;
    }
    if (rc != PROVCAT_OK) {
        provcat_open_request_free(r);
        return rc;
    }
    *out = r;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_open_request_create(struct provcat *c, const char *entry,
                            const char *applicant, const char *data_type,
                            const char *description, const char *purpose,
                            struct provcat_open_request **out)
{
    static const char *what = "create open request";
    struct body b;
    void *p = NULL;
    int rc;

    pcl_reset(c);
    if (!valid_str(entry) || !valid_str(applicant) || !valid_str(data_type) ||
        !valid_str(description) || !valid_str(purpose)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an entry, an applicant, a data type, a "
                        "description and a purpose",
                        what);
    }
    body_open(&b);
    body_str(&b, "entry", entry);
    body_str(&b, "applicant", applicant);
    body_str(&b, "data_type", data_type);
    body_str(&b, "description", description);
    body_str(&b, "purpose", purpose);
    rc = post_obj(c, "/v1/open-requests", NULL, &b, open_parse,
                  out != NULL ? &p : NULL, what);
    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_open_request_decide(struct provcat *c, const char *id,
                            const char *decision, const char *reason,
                            struct provcat_open_request **out)
{
    static const char *const allowed[] = { "approve", "reject", NULL };
    void *p = NULL;
    int rc = decide(c, "/v1/open-requests/%s/decide", id, decision, allowed,
                    reason, false, open_parse, out != NULL ? &p : NULL,
                    "decide open request");

    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_open_request_get(struct provcat *c, const char *id,
                         struct provcat_open_request **out)
{
    void *p = NULL;
    int rc = get_obj(c, "/v1/open-requests/%s", id, open_parse,
                     out != NULL ? &p : NULL, "get open request");

    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_open_requests_list(struct provcat *c, const char *const *filters,
                           struct provcat_iter **out)
{
    return list_of(c, PCL_ITER_OPEN, "/v1/open-requests", filters,
                   "list open requests", out);
}

PROVCAT_API int
provcat_iter_open_request(struct provcat_iter *it,
                          const struct provcat_open_request **out)
{
    void *p;
    int rc = iter_typed(it, PCL_ITER_OPEN, open_parse, open_free, &p);

    if (rc == 1) {
        *out = p;
    }
    return rc;
}

/* ---- the calendar ----------------------------------------------------------
 */

PROVCAT_API void
provcat_calendar_free(struct provcat_calendar *cal)
{
    if (cal == NULL) {
        return;
    }
    pcl_strv_free(cal->holidays, cal->n_holidays);
    pcl_strv_free(cal->workdays, cal->n_workdays);
    pc_free(cal->updated_at);
    pc_free(cal->json);
    pc_free(cal);
}

static int
calendar_parse(const char *text, size_t len, void **out)
{
    struct provcat_calendar *cal;
    json_t *o;
    char *copy;
    int rc = load(text, len, &o, &copy);

    if (rc != PROVCAT_OK) {
        return rc;
    }
    cal = pc_calloc(1, sizeof(*cal));
    if (cal == NULL) {
        json_decref(o);
        pc_free(copy);
        return PROVCAT_ENOMEM;
    }
    cal->json = copy;
    cal->year = (unsigned)pcl_juint(o, "year");
    cal->holidays = pcl_jstrv(o, "holidays", &cal->n_holidays, &rc);
    cal->workdays = pcl_jstrv(o, "workdays", &cal->n_workdays, &rc);
    cal->provisional = json_is_true(json_object_get(o, "calendar_provisional"));
    cal->version = pcl_juint(o, "version");
    cal->revision = pcl_juint(o, "revision");
    cal->updated_at = pcl_jstrdup(o, "updated_at", &rc);
    pcl_jhex(o, "hash", cal->hash, sizeof(cal->hash));
    json_decref(o);
    if (rc == PROVCAT_OK && cal->year == 0) {
        rc = PROVCAT_EPROTO;
    }
    if (rc != PROVCAT_OK) {
        provcat_calendar_free(cal);
        return rc;
    }
    *out = cal;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_calendar_put(struct provcat *c, unsigned year,
                     const char *const *holidays, const char *const *workdays,
                     struct provcat_calendar **out)
{
    static const char *what = "set calendar";
    struct pc_buf path;
    struct body b;
    void *p = NULL;
    int rc;

    pcl_reset(c);
    body_open(&b);
    body_strv(&b, "holidays", holidays);
    body_strv(&b, "workdays", workdays);
    pc_buf_init(&path);
    rc = body_close(&b);
    rc = rc == PC_OK ? pcl_path(&path, "/v1/calendar/%u", (uint64_t)year) : rc;
    rc = rc == PC_OK ? obj_call(c, "PUT", &path, &b.b, WRITE_IDEM,
                                calendar_parse, out != NULL ? &p : NULL, what)
                     : oom(c, what);
    pc_buf_release(&path);
    pc_buf_release(&b.b);
    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_calendar_get(struct provcat *c, unsigned year,
                     struct provcat_calendar **out)
{
    static const char *what = "get calendar";
    struct pc_buf path;
    void *p = NULL;
    int rc;

    pcl_reset(c);
    pc_buf_init(&path);
    rc = pcl_path(&path, "/v1/calendar/%u", (uint64_t)year);
    rc = rc == PC_OK ? obj_call(c, "GET", &path, NULL, PCL_READ, calendar_parse,
                                out != NULL ? &p : NULL, what)
                     : oom(c, what);
    pc_buf_release(&path);
    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

/* ---- objections ---------------------------------------------------------- */

PROVCAT_API void
provcat_objection_free(struct provcat_objection *o)
{
    if (o == NULL) {
        return;
    }
    pc_free(o->id);
    pc_free(o->status);
    pc_free(o->entry);
    pc_free(o->key);
    pc_free(o->kind);
    pc_free(o->description);
    pc_free(o->filer);
    pc_free(o->filer_org);
    pc_free(o->filed_at);
    step_release(&o->decision);
    pc_free(o->resolution.op);
    pc_free(o->resolution.by);
    pc_free(o->resolution.at);
    pc_free(o->updated_at);
    pc_free(o->json);
    pc_free(o);
}

static void
objection_free(void *p)
{
    provcat_objection_free(p);
}

static int
objection_parse(const char *text, size_t len, void **out)
{
    struct provcat_objection *ob;
    json_t *o, *res, *ex;
    char *copy;
    int rc = load(text, len, &o, &copy);

    if (rc != PROVCAT_OK) {
        return rc;
    }
    ob = pc_calloc(1, sizeof(*ob));
    if (ob == NULL) {
        json_decref(o);
        pc_free(copy);
        return PROVCAT_ENOMEM;
    }
    ob->json = copy;
    ob->id = pcl_jstrdup(o, "id", &rc);
    ob->status = pcl_jstrdup(o, "status", &rc);
    ob->entry = pcl_jstrdup(o, "entry", &rc);
    ob->key = pcl_jstrdup(o, "key", &rc);
    ob->kind = pcl_jstrdup(o, "kind", &rc);
    ob->description = pcl_jstrdup(o, "description", &rc);
    ob->filer = pcl_jstrdup(o, "filer", &rc);
    ob->filer_org = pcl_jstrdup(o, "filer_org", &rc);
    ob->filed_at = pcl_jstrdup(o, "filed_at", &rc);
    ex = json_object_get(o, "record_exists");
    ob->record_exists = json_is_boolean(ex) ? json_is_true(ex) : -1;
    step_fill(json_object_get(o, "decision"), &ob->decision, &rc);
    res = json_object_get(o, "resolution");
    ob->resolution.op = pcl_jstrdup(res, "op", &rc);
    ob->resolution.by = pcl_jstrdup(res, "by", &rc);
    ob->resolution.at = pcl_jstrdup(res, "at", &rc);
    ob->resolution.revision = pcl_juint(res, "revision");
    ob->resolution.version = pcl_juint(res, "version");
    ob->version = pcl_juint(o, "version");
    ob->revision = pcl_juint(o, "revision");
    ob->updated_at = pcl_jstrdup(o, "updated_at", &rc);
    pcl_jhex(o, "hash", ob->hash, sizeof(ob->hash));
    json_decref(o);
    if (rc == PROVCAT_OK && (ob->id == NULL || ob->status == NULL)) {
        rc = PROVCAT_EPROTO;
    }
    if (rc != PROVCAT_OK) {
        provcat_objection_free(ob);
        return rc;
    }
    *out = ob;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_objection_file(struct provcat *c, const char *entry, const char *key,
                       const char *kind, const char *description,
                       struct provcat_objection **out)
{
    static const char *what = "file objection";
    struct body b;
    void *p = NULL;
    int rc;

    pcl_reset(c);
    if (!valid_str(entry) || !valid_str(key) || !valid_str(kind) ||
        !valid_str(description)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an entry, a key, a kind and a description", what);
    }
    body_open(&b);
    body_str(&b, "entry", entry);
    body_str(&b, "key", key);
    body_str(&b, "kind", kind);
    body_str(&b, "description", description);
    rc = post_obj(c, "/v1/objections", NULL, &b, objection_parse,
                  out != NULL ? &p : NULL, what);
    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_objection_decide(struct provcat *c, const char *id,
                         const char *decision, const char *reason,
                         struct provcat_objection **out)
{
    static const char *const allowed[] = { "accept", "reject", NULL };
    void *p = NULL;
    int rc = decide(c, "/v1/objections/%s/decide", id, decision, allowed,
                    reason, true, objection_parse, out != NULL ? &p : NULL,
                    "decide objection");

    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_objection_get(struct provcat *c, const char *id,
                      struct provcat_objection **out)
{
    void *p = NULL;
    int rc = get_obj(c, "/v1/objections/%s", id, objection_parse,
                     out != NULL ? &p : NULL, "get objection");

    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_objections_list(struct provcat *c, const char *const *filters,
                        struct provcat_iter **out)
{
    return list_of(c, PCL_ITER_OBJECTION, "/v1/objections", filters,
                   "list objections", out);
}

PROVCAT_API int
provcat_iter_objection(struct provcat_iter *it,
                       const struct provcat_objection **out)
{
    void *p;
    int rc =
        iter_typed(it, PCL_ITER_OBJECTION, objection_parse, objection_free, &p);

    if (rc == 1) {
        *out = p;
    }
    return rc;
}

/* ---- redaction -------------------------------------------------------------
 */

PROVCAT_API void
provcat_redaction_free(struct provcat_redaction *r)
{
    if (r == NULL) {
        return;
    }
    pc_free(r->entry);
    pc_free(r->key);
    pc_free(r->objection);
    pc_free(r->reason);
    pc_free(r->updated_at);
    pc_free(r->json);
    pc_free(r);
}

static void
redaction_free(void *p)
{
    provcat_redaction_free(p);
}

static int
redaction_parse(const char *text, size_t len, void **out)
{
    struct provcat_redaction *r;
    json_t *o;
    char *copy;
    int rc = load(text, len, &o, &copy);

    if (rc != PROVCAT_OK) {
        return rc;
    }
    r = pc_calloc(1, sizeof(*r));
    if (r == NULL) {
        json_decref(o);
        pc_free(copy);
        return PROVCAT_ENOMEM;
    }
    r->json = copy;
    r->entry = pcl_jstrdup(o, "entry", &rc);
    r->key = pcl_jstrdup(o, "key", &rc);
    r->version = pcl_juint(o, "version");
    pcl_jhex(o, "content_hash", r->content_hash, sizeof(r->content_hash));
    r->objection = pcl_jstrdup(o, "objection", &rc);
    r->reason = pcl_jstrdup(o, "reason", &rc);
    r->record_revision = pcl_juint(o, "record_revision");
    r->revision = pcl_juint(o, "revision");
    pcl_jhex(o, "hash", r->hash, sizeof(r->hash));
    r->updated_at = pcl_jstrdup(o, "updated_at", &rc);
    json_decref(o);
    if (rc == PROVCAT_OK &&
        (r->entry == NULL || r->key == NULL || r->version == 0)) {
        rc = PROVCAT_EPROTO;
    }
    if (rc != PROVCAT_OK) {
        provcat_redaction_free(r);
        return rc;
    }
    *out = r;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_record_redact(struct provcat *c, const char *entry, const char *key,
                      uint64_t version, const char *objection,
                      const char *reason, struct provcat_redaction **out)
{
    static const char *what = "redact version";
    struct pc_buf path;
    struct body b;
    void *p = NULL;
    int rc;

    pcl_reset(c);
    if (!valid_str(entry) || !valid_str(key) || version == 0 ||
        !valid_str(objection) || !valid_str(reason)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an entry, a key, a version >= 1, an objection "
                        "and a reason",
                        what);
    }
    body_open(&b);
    body_str(&b, "objection", objection);
    body_str(&b, "reason", reason);
    pc_buf_init(&path);
    rc = body_close(&b);
    rc = rc == PC_OK
             ? pcl_path(&path, "/v1/catalog/%s/records/%s/versions/%u/redact",
                        entry, key, version)
             : rc;
    rc = rc == PC_OK ? obj_call(c, "POST", &path, &b.b, WRITE_IDEM,
                                redaction_parse, out != NULL ? &p : NULL, what)
                     : oom(c, what);
    pc_buf_release(&path);
    pc_buf_release(&b.b);
    if (rc == PROVCAT_OK && out != NULL) {
        *out = p;
    }
    return rc;
}

PROVCAT_API int
provcat_redactions_list(struct provcat *c, struct provcat_iter **out)
{
    return list_of(c, PCL_ITER_REDACTION, "/v1/redactions", NULL,
                   "list redactions", out);
}

PROVCAT_API int
provcat_iter_redaction(struct provcat_iter *it,
                       const struct provcat_redaction **out)
{
    void *p;
    int rc =
        iter_typed(it, PCL_ITER_REDACTION, redaction_parse, redaction_free, &p);

    if (rc == 1) {
        *out = p;
    }
    return rc;
}
