/* SPDX-License-Identifier: MIT */
/*
 * The workflow calls of libprovcat: share requests and grants, open
 * requests and the calendar, objections and redaction. Every object comes
 * back as a struct parsed from the answer with `json` holding the answer
 * whole; list iterators of these kinds hand out the same structs. Each
 * kind of object is a `struct kind` (its struct's size, how to fill and
 * free one, its iterator), so one request path, one parser and one
 * iterator step serve them all. Writes carry an Idempotency-Key (every
 * workflow write is idempotent in the API), so the client retries them
 * safely.
 */
#include "client/client_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"

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

/* ---- kinds of objects ---------------------------------------------------- */

/* A kind of workflow object. */
struct kind {
    size_t size;             /* of its public struct */
    enum pcl_iter_kind iter; /* of a list of them (none: PCL_ITER_JSON) */
    /*
     * Fill the zeroed struct `obj` from the answer object `o`, first
     * giving it `json` (the object's text) to own. PROVCAT_OK,
     * PROVCAT_ENOMEM, or PROVCAT_EPROTO when a member it needs is missing.
     */
    int (*fill)(void *obj, json_t *o, char *json);
    void (*free)(void *obj); /* the kind's provcat_*_free */
};

/* Parse the object `text` (`len` bytes) as a `k` into `*out`:
 * PROVCAT_OK, PROVCAT_EPROTO or PROVCAT_ENOMEM. */
static int
parse(const struct kind *k, const char *text, size_t len, void **out)
{
    json_t *o = json_loadb(text, len, 0, NULL);
    char *copy;
    void *obj;
    int rc;

    if (!json_is_object(o)) {
        json_decref(o);
        return PROVCAT_EPROTO;
    }
    copy = pc_strndup(text, len);
    obj = copy != NULL ? pc_calloc(1, k->size) : NULL;
    if (obj == NULL) {
        json_decref(o);
        pc_free(copy);
        return PROVCAT_ENOMEM;
    }
    rc = k->fill(obj, o, copy);
    json_decref(o);
    if (rc != PROVCAT_OK) {
        k->free(obj);
        return rc;
    }
    *out = obj;
    return PROVCAT_OK;
}

/*
 * Hand the new object `obj` to the caller: `out` is the caller's
 * `struct provcat_X **` (of `obj`'s kind) passed as `void *`, so that one
 * function serves every kind. Object pointers share one representation on
 * every platform libprovcat builds for, so copying the bytes of `obj`
 * stores the typed pointer.
 */
static void
give(void *out, void *obj)
{
    memcpy(out, &obj, sizeof(obj));
}

/* The answer of a call as a `k` into `out` (NULL: not wanted). */
static int
parse_answer(struct provcat *c, const struct kind *k, void *out,
             const char *what)
{
    void *obj;
    int rc;

    if (out == NULL) {
        return PROVCAT_OK;
    }
    rc = parse(k, (const char *)c->body.data, c->body.len, &obj);
    if (rc == PROVCAT_ENOMEM) {
        return pcl_oom(c, what);
    }
    if (rc != PROVCAT_OK) {
        return pcl_fail(c, PROVCAT_EPROTO, "%s: a malformed answer", what);
    }
    give(out, obj);
    return PROVCAT_OK;
}

/*
 * `method` on the path `fmt` (pcl_path's format, its arguments after it):
 * a read when `body` is NULL, else an idempotent write of `body`
 * (released). The answer is parsed as a `k` into `out`, the caller's
 * `struct provcat_X **` of that kind, or NULL when not wanted.
 */
static int
obj_request(struct provcat *c, const struct kind *k, const char *method,
            struct pcl_body *body, void *out, const char *what, const char *fmt,
            ...)
{
    struct pc_buf path;
    va_list ap;
    int rc = body != NULL ? pcl_body_close(body) : PC_OK;

    pc_buf_init(&path);
    if (rc == PC_OK) {
        va_start(ap, fmt);
        rc = pcl_vpath(&path, fmt, ap);
        va_end(ap);
    }
    if (rc != PC_OK) {
        rc = pcl_oom(c, what);
    } else if (body != NULL) {
        rc = pcl_send(c, method, (const char *)path.data,
                      (const char *)body->b.data, body->b.len, PCL_WRITE_IDEM,
                      PROVCAT_ANY_VERSION, what);
    } else {
        rc = pcl_send(c, method, (const char *)path.data, NULL, 0, PCL_READ,
                      PROVCAT_ANY_VERSION, what);
    }
    pc_buf_release(&path);
    if (body != NULL) {
        pc_buf_release(&body->b);
    }
    return rc == PROVCAT_OK ? parse_answer(c, k, out, what) : rc;
}

/* GET of the object `id` at `fmt`. */
static int
get_obj(struct provcat *c, const struct kind *k, const char *fmt,
        const char *id, void *out, const char *what)
{
    pcl_reset(c);
    if (!pcl_has_text(id)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: no id", what);
    }
    return obj_request(c, k, "GET", NULL, out, what, fmt, id);
}

/* A decision {"decision", "reason"?} on `fmt`/{id}. */
static int
decide(struct provcat *c, const struct kind *k, const char *fmt, const char *id,
       const char *decision, const char *const *allowed, const char *reason,
       bool reason_required, void *out, const char *what)
{
    struct pcl_body b;

    pcl_reset(c);
    if (!pcl_has_text(id)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: no id", what);
    }
    if (!one_of(decision, allowed)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: the decision is %s or %s", what,
                        allowed[0], allowed[1]);
    }
    if (reason_required && !pcl_has_text(reason)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: a reason is required", what);
    }
    pcl_body_open(&b);
    pcl_body_str(&b, "decision", decision);
    pcl_body_str(&b, "reason", reason);
    return obj_request(c, k, "POST", &b, out, what, fmt, id);
}

/* The iterator's next item as a `k`, held by the iterator, into `out`
 * (the caller's `const struct provcat_X **`). */
static int
iter_obj(struct provcat_iter *it, const struct kind *k, void *out)
{
    const char *json;
    void *obj;
    int rc = pcl_iter_item(it, k->iter, &json);

    if (rc != 1) {
        return rc;
    }
    rc = parse(k, json, strlen(json), &obj);
    if (rc != PROVCAT_OK) {
        return rc == PROVCAT_ENOMEM
                   ? pcl_oom(pcl_iter_client(it), pcl_iter_what(it))
                   : pcl_fail(pcl_iter_client(it), PROVCAT_EPROTO,
                              "%s: a malformed item", pcl_iter_what(it));
    }
    pcl_iter_hold(it, obj, k->free);
    give(out, obj);
    return 1;
}

/* A step of a request's history, when `o` is one. */
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

/* The members every kind with an id and a status must have. */
static int
need_id_status(int rc, const char *id, const char *status)
{
    return rc == PROVCAT_OK && (id == NULL || status == NULL) ? PROVCAT_EPROTO
                                                              : rc;
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
share_fill(void *obj, json_t *o, char *json)
{
    struct provcat_share_request *r = obj;
    int rc = PROVCAT_OK;

    r->json = json;
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
    return need_id_status(rc, r->id, r->status);
}

static const struct kind share_kind = { sizeof(struct provcat_share_request),
                                        PCL_ITER_SHARE, share_fill,
                                        share_free };

PROVCAT_API int
provcat_share_request_create(struct provcat *c, const char *entry,
                             const char *purpose, const char *const *fields,
                             uint64_t days, struct provcat_share_request **out)
{
    static const char *what = "create share request";
    struct pcl_body b;

    pcl_reset(c);
    if (!pcl_has_text(entry) || !pcl_has_text(purpose) || days == 0) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an entry, a purpose and days >= 1", what);
    }
    pcl_body_open(&b);
    pcl_body_str(&b, "entry", entry);
    pcl_body_str(&b, "purpose", purpose);
    pcl_body_strv(&b, "fields", fields);
    pcl_body_u64(&b, "days", days);
    return obj_request(c, &share_kind, "POST", &b, out, what,
                       "/v1/share-requests");
}

PROVCAT_API int
provcat_share_request_decide(struct provcat *c, const char *id,
                             const char *decision, const char *reason,
                             struct provcat_share_request **out)
{
    static const char *const allowed[] = { "approve", "reject", NULL };

    return decide(c, &share_kind, "/v1/share-requests/%s/decide", id, decision,
                  allowed, reason, false, out, "decide share request");
}

PROVCAT_API int
provcat_share_request_get(struct provcat *c, const char *id,
                          struct provcat_share_request **out)
{
    return get_obj(c, &share_kind, "/v1/share-requests/%s", id, out,
                   "get share request");
}

PROVCAT_API int
provcat_share_requests_list(struct provcat *c, const char *const *filters,
                            struct provcat_iter **out)
{
    return pcl_list_at(c, PCL_ITER_SHARE, "/v1/share-requests", filters,
                       "list share requests", out);
}

PROVCAT_API int
provcat_iter_share_request(struct provcat_iter *it,
                           const struct provcat_share_request **out)
{
    return iter_obj(it, &share_kind, out);
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
grant_fill(void *obj, json_t *o, char *json)
{
    struct provcat_grant *g = obj;
    json_t *ended = json_object_get(o, "ended");
    int rc = PROVCAT_OK;

    g->json = json;
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
    g->ended_reason = pcl_jstrdup(ended, "reason", &rc);
    g->ended_at = pcl_jstrdup(ended, "at", &rc);
    g->ended_revision = pcl_juint(ended, "revision");
    g->version = pcl_juint(o, "version");
    g->revision = pcl_juint(o, "revision");
    g->updated_at = pcl_jstrdup(o, "updated_at", &rc);
    pcl_jhex(o, "hash", g->hash, sizeof(g->hash));
    return need_id_status(rc, g->id, g->status);
}

static const struct kind grant_kind = { sizeof(struct provcat_grant),
                                        PCL_ITER_GRANT, grant_fill,
                                        grant_free };

PROVCAT_API int
provcat_grant_get(struct provcat *c, const char *id, struct provcat_grant **out)
{
    return get_obj(c, &grant_kind, "/v1/grants/%s", id, out, "get grant");
}

PROVCAT_API int
provcat_grant_revoke(struct provcat *c, const char *id, const char *reason,
                     struct provcat_grant **out)
{
    static const char *what = "revoke grant";
    struct pcl_body b;

    pcl_reset(c);
    if (!pcl_has_text(id) || !pcl_has_text(reason)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: an id and a reason", what);
    }
    pcl_body_open(&b);
    pcl_body_str(&b, "reason", reason);
    return obj_request(c, &grant_kind, "POST", &b, out, what,
                       "/v1/grants/%s/revoke", id);
}

PROVCAT_API int
provcat_grants_list(struct provcat *c, const char *const *filters,
                    struct provcat_iter **out)
{
    return pcl_list_at(c, PCL_ITER_GRANT, "/v1/grants", filters, "list grants",
                       out);
}

PROVCAT_API int
provcat_iter_grant(struct provcat_iter *it, const struct provcat_grant **out)
{
    return iter_obj(it, &grant_kind, out);
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
    return pcl_list_at(c, PCL_ITER_JSON, paths[kind], filters, names[kind],
                       out);
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
open_fill(void *obj, json_t *o, char *json)
{
    struct provcat_open_request *r = obj;
    int rc = PROVCAT_OK;

    r->json = json;
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
    return need_id_status(rc, r->id, r->status);
}

static const struct kind open_kind = { sizeof(struct provcat_open_request),
                                       PCL_ITER_OPEN, open_fill, open_free };

PROVCAT_API int
provcat_open_request_create(struct provcat *c, const char *entry,
                            const char *applicant, const char *data_type,
                            const char *description, const char *purpose,
                            struct provcat_open_request **out)
{
    static const char *what = "create open request";
    struct pcl_body b;

    pcl_reset(c);
    if (!pcl_has_text(entry) || !pcl_has_text(applicant) ||
        !pcl_has_text(data_type) || !pcl_has_text(description) ||
        !pcl_has_text(purpose)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an entry, an applicant, a data type, a "
                        "description and a purpose",
                        what);
    }
    pcl_body_open(&b);
    pcl_body_str(&b, "entry", entry);
    pcl_body_str(&b, "applicant", applicant);
    pcl_body_str(&b, "data_type", data_type);
    pcl_body_str(&b, "description", description);
    pcl_body_str(&b, "purpose", purpose);
    return obj_request(c, &open_kind, "POST", &b, out, what,
                       "/v1/open-requests");
}

PROVCAT_API int
provcat_open_request_decide(struct provcat *c, const char *id,
                            const char *decision, const char *reason,
                            struct provcat_open_request **out)
{
    static const char *const allowed[] = { "approve", "reject", NULL };

    return decide(c, &open_kind, "/v1/open-requests/%s/decide", id, decision,
                  allowed, reason, false, out, "decide open request");
}

PROVCAT_API int
provcat_open_request_get(struct provcat *c, const char *id,
                         struct provcat_open_request **out)
{
    return get_obj(c, &open_kind, "/v1/open-requests/%s", id, out,
                   "get open request");
}

PROVCAT_API int
provcat_open_requests_list(struct provcat *c, const char *const *filters,
                           struct provcat_iter **out)
{
    return pcl_list_at(c, PCL_ITER_OPEN, "/v1/open-requests", filters,
                       "list open requests", out);
}

PROVCAT_API int
provcat_iter_open_request(struct provcat_iter *it,
                          const struct provcat_open_request **out)
{
    return iter_obj(it, &open_kind, out);
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

static void
calendar_free(void *p)
{
    provcat_calendar_free(p);
}

static int
calendar_fill(void *obj, json_t *o, char *json)
{
    struct provcat_calendar *cal = obj;
    int rc = PROVCAT_OK;

    cal->json = json;
    cal->year = (unsigned)pcl_juint(o, "year");
    cal->holidays = pcl_jstrv(o, "holidays", &cal->n_holidays, &rc);
    cal->workdays = pcl_jstrv(o, "workdays", &cal->n_workdays, &rc);
    cal->provisional = json_is_true(json_object_get(o, "calendar_provisional"));
    cal->version = pcl_juint(o, "version");
    cal->revision = pcl_juint(o, "revision");
    cal->updated_at = pcl_jstrdup(o, "updated_at", &rc);
    pcl_jhex(o, "hash", cal->hash, sizeof(cal->hash));
    return rc == PROVCAT_OK && cal->year == 0 ? PROVCAT_EPROTO : rc;
}

/* Calendars are read one year at a time: no list. */
static const struct kind calendar_kind = { sizeof(struct provcat_calendar),
                                           PCL_ITER_JSON, calendar_fill,
                                           calendar_free };

PROVCAT_API int
provcat_calendar_put(struct provcat *c, unsigned year,
                     const char *const *holidays, const char *const *workdays,
                     struct provcat_calendar **out)
{
    struct pcl_body b;

    pcl_reset(c);
    pcl_body_open(&b);
    pcl_body_strv(&b, "holidays", holidays);
    pcl_body_strv(&b, "workdays", workdays);
    return obj_request(c, &calendar_kind, "PUT", &b, out, "set calendar",
                       "/v1/calendar/%u", (uint64_t)year);
}

PROVCAT_API int
provcat_calendar_get(struct provcat *c, unsigned year,
                     struct provcat_calendar **out)
{
    pcl_reset(c);
    return obj_request(c, &calendar_kind, "GET", NULL, out, "get calendar",
                       "/v1/calendar/%u", (uint64_t)year);
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
objection_fill(void *obj, json_t *o, char *json)
{
    struct provcat_objection *ob = obj;
    json_t *ex = json_object_get(o, "record_exists");
    json_t *res = json_object_get(o, "resolution");
    int rc = PROVCAT_OK;

    ob->json = json;
    ob->id = pcl_jstrdup(o, "id", &rc);
    ob->status = pcl_jstrdup(o, "status", &rc);
    ob->entry = pcl_jstrdup(o, "entry", &rc);
    ob->key = pcl_jstrdup(o, "key", &rc);
    ob->kind = pcl_jstrdup(o, "kind", &rc);
    ob->description = pcl_jstrdup(o, "description", &rc);
    ob->filer = pcl_jstrdup(o, "filer", &rc);
    ob->filer_org = pcl_jstrdup(o, "filer_org", &rc);
    ob->filed_at = pcl_jstrdup(o, "filed_at", &rc);
    ob->record_exists = json_is_boolean(ex) ? json_is_true(ex) : -1;
    step_fill(json_object_get(o, "decision"), &ob->decision, &rc);
    ob->resolution.op = pcl_jstrdup(res, "op", &rc);
    ob->resolution.by = pcl_jstrdup(res, "by", &rc);
    ob->resolution.at = pcl_jstrdup(res, "at", &rc);
    ob->resolution.revision = pcl_juint(res, "revision");
    ob->resolution.version = pcl_juint(res, "version");
    ob->version = pcl_juint(o, "version");
    ob->revision = pcl_juint(o, "revision");
    ob->updated_at = pcl_jstrdup(o, "updated_at", &rc);
    pcl_jhex(o, "hash", ob->hash, sizeof(ob->hash));
    return need_id_status(rc, ob->id, ob->status);
}

static const struct kind objection_kind = { sizeof(struct provcat_objection),
                                            PCL_ITER_OBJECTION, objection_fill,
                                            objection_free };

PROVCAT_API int
provcat_objection_file(struct provcat *c, const char *entry, const char *key,
                       const char *kind, const char *description,
                       struct provcat_objection **out)
{
    static const char *what = "file objection";
    struct pcl_body b;

    pcl_reset(c);
    if (!pcl_has_text(entry) || !pcl_has_text(key) || !pcl_has_text(kind) ||
        !pcl_has_text(description)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an entry, a key, a kind and a description", what);
    }
    pcl_body_open(&b);
    pcl_body_str(&b, "entry", entry);
    pcl_body_str(&b, "key", key);
    pcl_body_str(&b, "kind", kind);
    pcl_body_str(&b, "description", description);
    return obj_request(c, &objection_kind, "POST", &b, out, what,
                       "/v1/objections");
}

PROVCAT_API int
provcat_objection_decide(struct provcat *c, const char *id,
                         const char *decision, const char *reason,
                         struct provcat_objection **out)
{
    static const char *const allowed[] = { "accept", "reject", NULL };

    return decide(c, &objection_kind, "/v1/objections/%s/decide", id, decision,
                  allowed, reason, true, out, "decide objection");
}

PROVCAT_API int
provcat_objection_get(struct provcat *c, const char *id,
                      struct provcat_objection **out)
{
    return get_obj(c, &objection_kind, "/v1/objections/%s", id, out,
                   "get objection");
}

PROVCAT_API int
provcat_objections_list(struct provcat *c, const char *const *filters,
                        struct provcat_iter **out)
{
    return pcl_list_at(c, PCL_ITER_OBJECTION, "/v1/objections", filters,
                       "list objections", out);
}

PROVCAT_API int
provcat_iter_objection(struct provcat_iter *it,
                       const struct provcat_objection **out)
{
    return iter_obj(it, &objection_kind, out);
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
redaction_fill(void *obj, json_t *o, char *json)
{
    struct provcat_redaction *r = obj;
    int rc = PROVCAT_OK;

    r->json = json;
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
    if (rc == PROVCAT_OK &&
        (r->entry == NULL || r->key == NULL || r->version == 0)) {
        rc = PROVCAT_EPROTO;
    }
    return rc;
}

static const struct kind redaction_kind = { sizeof(struct provcat_redaction),
                                            PCL_ITER_REDACTION, redaction_fill,
                                            redaction_free };

PROVCAT_API int
provcat_record_redact(struct provcat *c, const char *entry, const char *key,
                      uint64_t version, const char *objection,
                      const char *reason, struct provcat_redaction **out)
{
    static const char *what = "redact version";
    struct pcl_body b;

    pcl_reset(c);
    if (!pcl_has_text(entry) || !pcl_has_text(key) || version == 0 ||
        !pcl_has_text(objection) || !pcl_has_text(reason)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an entry, a key, a version >= 1, an objection "
                        "and a reason",
                        what);
    }
    pcl_body_open(&b);
    pcl_body_str(&b, "objection", objection);
    pcl_body_str(&b, "reason", reason);
    return obj_request(c, &redaction_kind, "POST", &b, out, what,
                       "/v1/catalog/%s/records/%s/versions/%u/redact", entry,
                       key, version);
}

PROVCAT_API int
provcat_redactions_list(struct provcat *c, struct provcat_iter **out)
{
    return pcl_list_at(c, PCL_ITER_REDACTION, "/v1/redactions", NULL,
                       "list redactions", out);
}

PROVCAT_API int
provcat_iter_redaction(struct provcat_iter *it,
                       const struct provcat_redaction **out)
{
    return iter_obj(it, &redaction_kind, out);
}
