/* SPDX-License-Identifier: MIT */
/*
 * Audit and security events (articles 20, 46-50).
 *
 * GET /v1/audit: the audit log's events, write facts and read-audit
 * events alike, from node/fsm's indexed query (fsm_audit_query): bounded
 * work per page, an opaque cursor "<revision>.<event>" to go on. Reading
 * the audit log is itself audited (action "audit.read"), so it is served
 * by the leader only, as every audited read is.
 *
 * GET /v1/security-events: this node's security log, DATA_DIR/security.log
 * and its rotated files security.log.1, .2, ... (newest first), read
 * backwards, at most SEC_READ_MAX bytes per page; the cursor names the
 * file by inode and the offset to go on before, so it survives a rotation
 * in between. Node-local: `?node=` another member is redirected there.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
#include "storage/led.h"

#define SEC_READ_MAX  (1u << 20) /* bytes of security log read per page */
#define SEC_FILES_MAX 100        /* rotated files looked for */
#define SEC_SLACK_MS  60000      /* lines are in clock order, about */

/* A time parameter: absent (true, `*ms` untouched), valid (true), or 400
 * answered (false). */
static bool
time_param(struct node *n, struct http_request *req, const char *name,
           int64_t *ms)
{
    const char *s = http_req_param(req, name);
    char msg[96];

    if (s == NULL || pc_time_parse(s, ms) == PC_OK) {
        return true;
    }
    snprintf(msg, sizeof(msg),
             "%s must be an RFC 3339 UTC time (2026-01-31T08:00:00.000Z)",
             name);
    api_bad_field(n, req, name, msg);
    return false;
}

/* "<a>.<b>", two whole numbers: true with both. */
static bool
cursor_parse(const char *s, uint64_t *a, uint64_t *b)
{
    char *end;
    unsigned long long x, y;

    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    x = strtoull(s, &end, 10);
    if (*end != '.' || end[1] < '0' || end[1] > '9' || errno != 0) {
        return false;
    }
    y = strtoull(end + 1, &end, 10);
    if (*end != '\0' || errno != 0) {
        return false;
    }
    *a = x;
    *b = y;
    return true;
}

/* ---- GET /v1/audit ---------------------------------------------------- */

bool
api_audit_parse(struct node *n, struct http_request *req)
{
    static const char *const ids[] = { "principal", "org", "entry" };
    const char *action = http_req_param(req, "action");
    const char *after = http_req_param(req, "after");
    int64_t t;
    uint64_t a, b;
    size_t limit;

    if (!api_param_limit(n, req, &limit) || !time_param(n, req, "since", &t) ||
        !time_param(n, req, "until", &t)) {
        return false;
    }
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        const char *v = http_req_param(req, ids[i]);
        char msg[64];

        if (v != NULL && !fsm_id_valid(v, strlen(v))) {
            snprintf(msg, sizeof(msg), "%s must be an id", ids[i]);
            api_bad_field(n, req, ids[i], msg);
            return false;
        }
    }
    if (action != NULL && !fsm_audit_action_valid(action)) {
        api_bad_field(n, req, "action",
                      "action must be record.read, record.history, "
                      "record.list, audit.read or a fact kind (docs/rules.md)");
        return false;
    }
    if (after != NULL &&
        (!cursor_parse(after, &a, &b) || a == 0 || b > UINT32_MAX)) {
        api_bad_field(n, req, "after", "after must be the cursor of a page");
        return false;
    }
    return true;
}

struct items_out {
    struct node *n;
    json_t *items;
};

static json_t *
slice_json(struct pc_slice s)
{
    return json_stringn((const char *)s.p, s.len);
}

/* The refused command, its status and code, from a rejection's payload. */
static void
add_rejection(json_t *o, const struct fact *f)
{
    json_t *p = json_loadb((const char *)f->payload.p, f->payload.len, 0, NULL);

    if (p != NULL) {
        json_object_set(o, "command", json_object_get(p, "command"));
        json_object_set(o, "status", json_object_get(p, "status"));
        json_object_set(o, "code", json_object_get(p, "code"));
    }
    json_decref(p);
}

static bool
item_cb(void *arg, const struct fsm_audit_item *it)
{
    struct items_out *out = arg;
    char id[48], t[PC_TIME_STR_LEN];
    json_t *o;

    if (it->read) {
        snprintf(id, sizeof(id), "%llu.%u", (unsigned long long)it->rev,
                 it->index);
    } else {
        snprintf(id, sizeof(id), "%llu", (unsigned long long)it->rev);
    }
    pc_time_format(t, it->at_ms);
    o = json_pack("{s:s, s:I, s:s, s:o, s:o, s:s}", "id", id, "fact_revision",
                  (json_int_t)it->rev, "at", t, "principal",
                  slice_json(it->principal), "org",
                  it->org.len > 0 ? slice_json(it->org) : json_null(), "action",
                  it->action);
    if (o == NULL) {
        return false;
    }
    if (it->entry.len > 0) {
        json_object_set_new(o, "entry", slice_json(it->entry));
    }
    if (it->key.len > 0) {
        json_object_set_new(o, "key", slice_json(it->key));
    }
    if (it->version > 0) {
        json_object_set_new(o, "version",
                            json_integer((json_int_t)it->version));
    }
    if (it->count >= 0) {
        json_object_set_new(o, "count", json_integer((json_int_t)it->count));
    }
    if (it->via != NULL) {
        json_object_set_new(
            o, strncmp(it->via, "gr-", 3) == 0 ? "grant" : "open_request",
            json_string(it->via));
    }
    if (!it->read && it->fact->kind != FACT_RECORD &&
        it->fact->kind != FACT_REDACTION && it->fact->id.len > 0) {
        json_object_set_new(o, "object", slice_json(it->fact->id));
    }
    if (!it->read && it->fact->kind == FACT_REJECTION) {
        add_rejection(o, it->fact);
    }
    return json_array_append_new(out->items, o) == 0;
}

/*
 * GET /v1/audit (auditors and authorities; a city authority within its
 * scope): the audit log's events in ledger order, filtered by principal,
 * org, entry, action and time (`since`, `until`: the event's time), in
 * the list envelope. A page may hold fewer than `limit` events, even none,
 * with a `next`: the query looks at a bounded number of facts per page.
 */
void
api_audit(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p = api_principal(n, req);
    struct fsm_audit_filter flt = {
        http_req_param(req, "principal"),
        http_req_param(req, "org"),
        http_req_param(req, "entry"),
        http_req_param(req, "action"),
        INT64_MIN,
        INT64_MAX,
    };
    struct fsm_audit_pos pos = { 0, 0 };
    struct items_out out = { n, NULL };
    const char *after = http_req_param(req, "after");
    uint64_t a = 0, b = 0;
    size_t limit;
    bool more;
    char next[48];
    int rc;

    if (!fsm_may_read_audit(n->fsm, p)) {
        api_denied(n, req, "the audit log is for authorities and auditors");
        return;
    }
    /* Reading the audit log is audited: by the leader, as other audited
     * reads (a stale read on a follower is redirected). */
    if (!api_audited_read_ok(n, req)) {
        return;
    }
    api_param_limit(n, req, &limit);
    time_param(n, req, "since", &flt.since_ms);
    time_param(n, req, "until", &flt.until_ms);
    if (after != NULL && cursor_parse(after, &a, &b)) {
        pos.rev = a;
        pos.index = (uint32_t)b;
    }
    out.items = json_array();
    rc = out.items != NULL ? fsm_audit_query(n->fsm, p, &flt, limit, &pos,
                                             &more, item_cb, &out)
                           : PC_ENOMEM;
    if (rc != PC_OK) {
        json_decref(out.items);
        api_error(n, req, 503, "unavailable", "the audit log: %s",
                  pc_strerror(rc));
        return;
    }
    api_audit_add(n, req, "audit.read", flt.entry ? flt.entry : "*", NULL, 0,
                  (long)json_array_size(out.items));
    snprintf(next, sizeof(next), "%llu.%u", (unsigned long long)pos.rev,
             pos.index);
    api_json(n, req, 200,
             json_pack("{s:o, s:o}", "items", out.items, "next",
                       more ? json_string(next) : json_null()));
}

/* ---- GET /v1/security-events ------------------------------------------ */

bool
api_security_events_parse(struct node *n, struct http_request *req)
{
    const char *kind = http_req_param(req, "kind");
    const char *after = http_req_param(req, "after");
    int64_t t;
    uint64_t a, b, node;
    size_t limit;

    if (!api_param_limit(n, req, &limit) || !time_param(n, req, "since", &t) ||
        !time_param(n, req, "until", &t) ||
        api_param_u64(n, req, "node", 1, &node) == PC_EINVAL) {
        return false;
    }
    for (const char *s = kind; s != NULL && *s != '\0'; s++) {
        if (!((*s >= 'a' && *s <= 'z') || *s == '_') || s - kind >= 32) {
            kind = "";
            break;
        }
    }
    if (kind != NULL && *kind == '\0') {
        api_bad_field(n, req, "kind",
                      "kind must be an event kind (auth_failure, denied, "
                      "rate_limited, malformed, ...)");
        return false;
    }
    if (after != NULL && !cursor_parse(after, &a, &b)) {
        api_bad_field(n, req, "after", "after must be the cursor of a page");
        return false;
    }
    return true;
}

/* File `i` of the log: security.log, then security.log.1, .2, ... */
static void
sec_path(struct node *n, unsigned i, char *out, size_t cap)
{
    if (i == 0) {
        snprintf(out, cap, "%s/security.log", n->o.data_dir);
    } else {
        snprintf(out, cap, "%s/security.log.%u", n->o.data_dir, i);
    }
}

struct secq {
    const char *kind;
    int64_t since, until;
    size_t limit;
    json_t *items;
    bool done;     /* older lines cannot pass `since`, or the page is full */
    uint64_t ino;  /* where the next page goes on ... */
    uint64_t off;  /* ... before this offset; 0 ino: at the end */
    size_t budget; /* bytes left to read */
};

/* One line: false once the page is full or `since` is passed. */
static bool
sec_line(struct secq *q, const char *line, size_t len)
{
    json_t *o = json_loadb(line, len, 0, NULL);
    const char *kind = json_string_value(json_object_get(o, "kind"));
    const char *at = json_string_value(json_object_get(o, "at"));
    int64_t t;

    if (o == NULL || kind == NULL || at == NULL ||
        pc_time_parse(at, &t) != PC_OK) {
        json_decref(o); /* not a line of ours: skipped */
        return true;
    }
    if (q->since > INT64_MIN + SEC_SLACK_MS && t < q->since - SEC_SLACK_MS) {
        json_decref(o);
        q->done = true; /* older than anything `since` asks for */
        return false;
    }
    if (t < q->since || t > q->until ||
        (q->kind != NULL && strcmp(kind, q->kind) != 0)) {
        json_decref(o);
        return true;
    }
    if (json_array_append_new(q->items, o) != 0) {
        return true;
    }
    return json_array_size(q->items) < q->limit;
}

/*
 * Read file `fd` (inode `ino`) backwards from offset `end`: PC_OK with
 * `*finished` when the file's start was reached (and nothing stopped the
 * page), else q->ino/q->off say where to go on. PC_EIO, PC_ENOMEM.
 */
static int
sec_file(struct secq *q, int fd, uint64_t ino, uint64_t end, bool *finished)
{
    uint64_t start = end > q->budget ? end - q->budget : 0;
    size_t len = (size_t)(end - start), first = 0;
    char *buf;
    ssize_t got;

    *finished = false;
    if (len == 0 && end > 0) {
        q->ino = ino; /* the read bound: go on from here */
        q->off = end;
        return PC_OK;
    }
    if (len == 0) {
        *finished = true;
        return PC_OK;
    }
    buf = pc_malloc(len);
    if (buf == NULL) {
        return PC_ENOMEM;
    }
    got = pread(fd, buf, len, (off_t)start);
    if (got != (ssize_t)len) {
        pc_free(buf);
        return PC_EIO;
    }
    q->budget -= len;
    if (start > 0) {
        /* The first line began before what was read: the next page. */
        while (first < len && buf[first] != '\n') {
            first++;
        }
        /* No line end at all (a line longer than the bound: not one of
         * ours): skipped. */
        first = first < len ? first + 1 : len;
    }
    for (size_t e = len; e > first;) {
        size_t s = e - 1; /* e is past a '\n' (or the file's end) */

        while (s > first && buf[s - 1] != '\n') {
            s--;
        }
        if (e - s > 1 && !sec_line(q, buf + s, e - s)) {
            if (!q->done) { /* full: the next page starts before it */
                q->ino = ino;
                q->off = start + s;
            }
            pc_free(buf);
            return PC_OK;
        }
        e = s;
    }
    pc_free(buf);
    if (start > 0) {
        q->ino = ino;
        q->off = first < len ? start + first : start; /* the read bound */
        return PC_OK;
    }
    *finished = true;
    return PC_OK;
}

/* Answer the page from file `i` on, offset `end` in it. */
static int
sec_read(struct node *n, struct secq *q, unsigned i, uint64_t end)
{
    for (; i < SEC_FILES_MAX && !q->done && q->ino == 0; i++) {
        char path[PATH_MAX];
        struct stat st;
        bool finished;
        int fd, rc;

        sec_path(n, i, path, sizeof(path));
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && i == 0) {
            end = UINT64_MAX; /* moved away, not yet opened again */
            continue;
        }
        if (fd < 0) {
            return errno == ENOENT ? PC_OK : PC_EIO; /* no older file */
        }
        if (fstat(fd, &st) != 0) {
            close(fd);
            return PC_EIO;
        }
        if (end == UINT64_MAX || end > (uint64_t)st.st_size) {
            end = (uint64_t)st.st_size;
        }
        rc = sec_file(q, fd, (uint64_t)st.st_ino, end, &finished);
        close(fd);
        if (rc != PC_OK) {
            return rc;
        }
        if (!finished) {
            return PC_OK;
        }
        end = UINT64_MAX;
    }
    return PC_OK;
}

/* The file whose inode is `ino`, or -1 (rotated away and deleted). */
static int
sec_find(struct node *n, uint64_t ino)
{
    for (unsigned i = 0; i < SEC_FILES_MAX; i++) {
        char path[PATH_MAX];
        struct stat st;

        sec_path(n, i, path, sizeof(path));
        if (stat(path, &st) != 0 && i > 0) {
            return -1;
        }
        if (stat(path, &st) != 0) {
            continue;
        }
        if ((uint64_t)st.st_ino == ino) {
            return (int)i;
        }
    }
    return -1;
}

/* ?node= another member: 307 to it (its client URL), or 404. False once
 * answered. */
static bool
sec_this_node(struct node *n, struct http_request *req)
{
    uint64_t id = n->o.id;
    const char *url;
    char *loc;
    size_t len;

    if (api_param_u64(n, req, "node", 1, &id) != PC_OK || id == n->o.id) {
        return true;
    }
    url = fsm_member_url(n->fsm, id);
    if (url == NULL) {
        api_error(n, req, 404, "not_found", "no member %llu known",
                  (unsigned long long)id);
        return false;
    }
    len = strlen(url) + strlen(req->target) + 1;
    loc = http_req_alloc(req, len);
    if (loc == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return false;
    }
    snprintf(loc, len, "%s%s", url, req->target);
    http_req_add_header(req, "Location", loc);
    api_json(n, req, 307,
             json_pack("{s:{s:s, s:s, s:{s:I, s:s}}}", "error", "code",
                       "other_node", "message",
                       "security events are node-local: ask that node", "node",
                       "id", (json_int_t)id, "client_url", url));
    return false;
}

/*
 * GET /v1/security-events (operators, auditors, the provincial authority):
 * this node's security events, newest first, filtered by `kind`, `since`
 * and `until`, in the list envelope; `next` goes on to older ones.
 */
void
api_security_events(struct node *n, struct http_request *req)
{
    const char *after = http_req_param(req, "after");
    struct secq q = { .kind = http_req_param(req, "kind"),
                      .since = INT64_MIN,
                      .until = INT64_MAX };
    uint64_t ino = 0, off = UINT64_MAX;
    char next[48];
    int start = 0, rc;

    if (!fsm_may_inspect_ledger(n->fsm, api_principal(n, req))) {
        api_denied(n, req,
                   "security events are for operators, auditors and the "
                   "provincial authority");
        return;
    }
    if (!sec_this_node(n, req)) {
        return;
    }
    api_param_limit(n, req, &q.limit);
    time_param(n, req, "since", &q.since);
    time_param(n, req, "until", &q.until);
    q.budget = SEC_READ_MAX;
    q.items = json_array();
    if (after != NULL && cursor_parse(after, &ino, &off)) {
        start = sec_find(n, ino);
    }
    if (q.items == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    rc = start < 0 ? PC_OK : sec_read(n, &q, (unsigned)start, off);
    if (rc != PC_OK) {
        json_decref(q.items);
        api_error(n, req, 503, "unavailable", "reading the security log: %s",
                  pc_strerror(rc));
        return;
    }
    snprintf(next, sizeof(next), "%llu.%llu", (unsigned long long)q.ino,
             (unsigned long long)q.off);
    api_json(n, req, 200,
             json_pack("{s:o, s:o, s:I}", "items", q.items, "next",
                       q.ino != 0 ? json_string(next) : json_null(), "node",
                       (json_int_t)n->o.id));
}
