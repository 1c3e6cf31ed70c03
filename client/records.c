/* SPDX-License-Identifier: MIT */
/*
 * Record calls of libprovcat: put, get, retire, correct, history, list and
 * batch. Documents travel as the caller's JSON text and come back as the
 * server's canonical bytes, cut from the answer unchanged so a content hash
 * can be checked over exactly what was received.
 */
#include "client/client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/jsonesc.h"

static bool
args_ok(struct provcat *c, const char *entry, const char *key, const char *what)
{
    if (!pcl_has_text(entry) || !pcl_has_text(key)) {
        pcl_fail(c, PROVCAT_EINVAL, "%s: an entry id and a record key", what);
        return false;
    }
    return true;
}

/* ---- answers ---------------------------------------------------------- */

PROVCAT_API void
provcat_write_free(struct provcat_write *w)
{
    if (w == NULL) {
        return;
    }
    pc_free(w->entry);
    pc_free(w->key);
    pc_free(w->op);
    pc_free(w);
}

static int
write_fill(json_t *o, const char *entry, struct provcat_write *w)
{
    int rc = PROVCAT_OK;

    w->entry = pcl_jstrdup(o, "entry", &rc);
    if (w->entry == NULL && entry != NULL) {
        w->entry = pc_strdup(entry);
        if (w->entry == NULL) {
            rc = PROVCAT_ENOMEM;
        }
    }
    w->key = pcl_jstrdup(o, "key", &rc);
    w->version = pcl_juint(o, "version");
    w->op = pcl_jstrdup(o, "op", &rc);
    w->revision = pcl_juint(o, "revision");
    pcl_jhex(o, "hash", w->hash, sizeof(w->hash));
    pcl_jhex(o, "prev_hash", w->prev_hash, sizeof(w->prev_hash));
    if (rc == PROVCAT_OK && (w->key == NULL || w->op == NULL)) {
        rc = PROVCAT_EPROTO;
    }
    return rc;
}

/* The single-record write answer in c->body. */
static int
write_answer(struct provcat *c, struct provcat_write **out, const char *what)
{
    struct provcat_write *w;
    json_t *o;
    int rc = pcl_body_json(c, &o, what);

    if (rc != PROVCAT_OK) {
        return rc;
    }
    w = pc_calloc(1, sizeof(*w));
    rc = w == NULL ? PROVCAT_ENOMEM : write_fill(o, NULL, w);
    json_decref(o);
    if (rc != PROVCAT_OK) {
        provcat_write_free(w);
        return rc == PROVCAT_ENOMEM
                   ? pcl_oom(c, what)
                   : pcl_fail(c, rc, "%s: the answer lacks key or op", what);
    }
    w->replayed = c->replayed;
    *out = w;
    return PROVCAT_OK;
}

void
pcl_record_release(struct provcat_record *r)
{
    pc_free(r->entry);
    pc_free(r->key);
    pc_free(r->op);
    pc_free(r->value);
    pc_free(r->author);
    pc_free(r->org);
    pc_free(r->at);
    pc_free(r->reason);
    pc_free(r->objection);
    pc_free(r->json);
    pcl_strv_free(r->fields, r->n_fields);
    pcl_strv_free(r->disputed_by, r->n_disputed_by);
    memset(r, 0, sizeof(*r));
}

PROVCAT_API void
provcat_record_free(struct provcat_record *r)
{
    if (r == NULL) {
        return;
    }
    pcl_record_release(r);
    pc_free(r);
}

struct value_scan {
    const char *v;
    size_t len;
};

static int
find_value(void *arg, const char *name, size_t len, const char *v, size_t vlen)
{
    struct value_scan *s = arg;

    if (len == 5 && memcmp(name, "value", 5) == 0) {
        s->v = v;
        s->len = vlen;
    }
    return 0;
}

int
pcl_record_parse(const char *text, const char *end, struct provcat_record *r)
{
    struct value_scan s = { NULL, 0 };
    json_t *o;
    int rc = PROVCAT_OK;

    memset(r, 0, sizeof(*r));
    if (pcl_json_members(text, end, find_value, &s) != 0) {
        return PROVCAT_EPROTO;
    }
    o = json_loadb(text, (size_t)(end - text), 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return PROVCAT_EPROTO;
    }
    r->entry = pcl_jstrdup(o, "entry", &rc);
    r->key = pcl_jstrdup(o, "key", &rc);
    r->version = pcl_juint(o, "version");
    r->op = pcl_jstrdup(o, "op", &rc);
    if (s.v != NULL && !(s.len == 4 && memcmp(s.v, "null", 4) == 0)) {
        r->value = pc_strndup(s.v, s.len);
        if (r->value == NULL) {
            rc = PROVCAT_ENOMEM;
        }
    }
    pcl_jhex(o, "salt", r->salt, sizeof(r->salt));
    pcl_jhex(o, "content_hash", r->content_hash, sizeof(r->content_hash));
    r->author = pcl_jstrdup(o, "author", &rc);
    r->org = pcl_jstrdup(o, "org", &rc);
    r->at = pcl_jstrdup(o, "at", &rc);
    r->revision = pcl_juint(o, "revision");
    pcl_jhex(o, "hash", r->hash, sizeof(r->hash));
    pcl_jhex(o, "prev_hash", r->prev_hash, sizeof(r->prev_hash));
    r->retired = json_is_true(json_object_get(o, "retired"));
    r->redacted = json_is_true(json_object_get(o, "redacted"));
    r->reason = pcl_jstrdup(o, "reason", &rc);
    r->objection = pcl_jstrdup(o, "objection", &rc);
    r->filtered = json_is_true(json_object_get(o, "filtered"));
    r->fields = pcl_jstrv(o, "fields", &r->n_fields, &rc);
    r->disputed = json_is_true(json_object_get(o, "disputed"));
    r->disputed_by = pcl_jstrv(o, "disputed_by", &r->n_disputed_by, &rc);
    r->json = pc_strndup(text, (size_t)(end - text));
    json_decref(o);
    if (r->json == NULL) {
        rc = PROVCAT_ENOMEM;
    }
    if (rc == PROVCAT_OK &&
        (r->key == NULL || r->op == NULL || r->version == 0)) {
        rc = PROVCAT_EPROTO;
    }
    if (rc != PROVCAT_OK) {
        pcl_record_release(r);
    }
    return rc;
}

/* ---- single-record writes --------------------------------------------- */

/* A write to record `key` of `entry` at `fmt` (its path, or an action's
 * under it) with `body` (NUL-terminated), answered by one write. */
static int
record_write(struct provcat *c, const char *method, const char *fmt,
             const char *entry, const char *key, const char *body,
             int64_t if_version, struct provcat_write **out, const char *what)
{
    struct pc_buf path;
    int rc;

    pc_buf_init(&path);
    rc = pcl_path(&path, fmt, entry, key);
    rc = rc == PC_OK ? pcl_send(c, method, (const char *)path.data, body,
                                strlen(body), PCL_WRITE_IDEM, if_version, what)
                     : pcl_oom(c, what);
    pc_buf_release(&path);
    return rc == PROVCAT_OK ? write_answer(c, out, what) : rc;
}

PROVCAT_API int
provcat_record_put(struct provcat *c, const char *entry, const char *key,
                   const char *doc_json, int64_t if_version,
                   struct provcat_write **out)
{
    static const char *what = "put record";

    pcl_reset(c);
    if (!args_ok(c, entry, key, what)) {
        return PROVCAT_EINVAL;
    }
    if (doc_json == NULL || !pcl_json_one_value(doc_json, strlen(doc_json))) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: the document is not well-formed JSON", what);
    }
    if (if_version < PROVCAT_ANY_VERSION) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: a bad if_version", what);
    }
    return record_write(c, "PUT", "/v1/catalog/%s/records/%s", entry, key,
                        doc_json, if_version, out, what);
}

/* An action on a record (retire, correct) with the built body `b`;
 * releases the body. */
static int
record_action(struct provcat *c, const char *fmt, const char *entry,
              const char *key, struct pcl_body *b, int64_t if_version,
              struct provcat_write **out, const char *what)
{
    int rc = pcl_body_close(b) == PC_OK
                 ? record_write(c, "POST", fmt, entry, key,
                                (const char *)b->b.data, if_version, out, what)
                 : pcl_oom(c, what);

    pc_buf_release(&b->b);
    return rc;
}

PROVCAT_API int
provcat_record_retire(struct provcat *c, const char *entry, const char *key,
                      const char *reason, int64_t if_version,
                      struct provcat_write **out)
{
    static const char *what = "retire record";
    struct pcl_body b;

    pcl_reset(c);
    if (!args_ok(c, entry, key, what)) {
        return PROVCAT_EINVAL;
    }
    if (!pcl_has_text(reason) || if_version == 0 ||
        if_version < PROVCAT_ANY_VERSION) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: a reason, and if_version any or >= 1", what);
    }
    pcl_body_open(&b);
    pcl_body_str(&b, "reason", reason);
    return record_action(c, "/v1/catalog/%s/records/%s/retire", entry, key, &b,
                         if_version, out, what);
}

PROVCAT_API int
provcat_record_correct(struct provcat *c, const char *entry, const char *key,
                       const char *doc_json, const char *reason,
                       const char *objection, int64_t if_version,
                       struct provcat_write **out)
{
    static const char *what = "correct record";
    struct pcl_body b;

    pcl_reset(c);
    if (!args_ok(c, entry, key, what)) {
        return PROVCAT_EINVAL;
    }
    if (doc_json == NULL || !pcl_json_one_value(doc_json, strlen(doc_json)) ||
        !pcl_has_text(reason) || if_version == 0 ||
        if_version < PROVCAT_ANY_VERSION) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: a well-formed document, a reason, and "
                        "if_version any or >= 1",
                        what);
    }
    pcl_body_open(&b);
    pcl_body_raw(&b, "value", doc_json);
    pcl_body_str(&b, "reason", reason);
    pcl_body_str(&b, "objection", objection);
    return record_action(c, "/v1/catalog/%s/records/%s/correct", entry, key, &b,
                         if_version, out, what);
}

/* ---- reads -------------------------------------------------------------- */

PROVCAT_API int
provcat_record_get(struct provcat *c, const char *entry, const char *key,
                   uint64_t version, uint64_t at_revision,
                   struct provcat_record **out)
{
    static const char *what = "get record";
    struct provcat_record *rec;
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    if (!args_ok(c, entry, key, what)) {
        return PROVCAT_EINVAL;
    }
    if (version > 0 && at_revision > 0) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: a version or a revision, not both", what);
    }
    pc_buf_init(&path);
    rc = pcl_path(&path, "/v1/catalog/%s/records/%s", entry, key);
    if (rc == PC_OK && version > 0) {
        rc = pcl_query_u64(&path, "version", version);
    }
    if (rc == PC_OK && at_revision > 0) {
        rc = pcl_query_u64(&path, "at_revision", at_revision);
    }
    rc = rc == PC_OK ? pcl_send(c, "GET", (const char *)path.data, NULL, 0,
                                PCL_READ, PROVCAT_ANY_VERSION, what)
                     : pcl_oom(c, what);
    pc_buf_release(&path);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    rec = pc_malloc(sizeof(*rec));
    if (rec == NULL) {
        return pcl_oom(c, what);
    }
    rc = pcl_record_parse((const char *)c->body.data,
                          (const char *)c->body.data + c->body.len, rec);
    if (rc != PROVCAT_OK) {
        pc_free(rec);
        return rc == PROVCAT_ENOMEM
                   ? pcl_oom(c, what)
                   : pcl_fail(c, rc, "%s: a malformed record answer", what);
    }
    *out = rec;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_record_history(struct provcat *c, const char *entry, const char *key,
                       struct provcat_iter **out)
{
    static const char *what = "record history";
    struct pc_buf path;

    pcl_reset(c);
    if (!args_ok(c, entry, key, what)) {
        return PROVCAT_EINVAL;
    }
    pc_buf_init(&path);
    if (pcl_path(&path, "/v1/catalog/%s/records/%s/history", entry, key) !=
        PC_OK) {
        pc_buf_release(&path);
        return pcl_oom(c, what);
    }
    return pcl_iter_new(c, PCL_ITER_RECORDS, &path, NULL, NULL, what, out);
}

PROVCAT_API int
provcat_records_list(struct provcat *c, const char *entry, const char *prefix,
                     bool include_retired, struct provcat_iter **out)
{
    static const char *what = "list records";
    struct pc_buf path;
    int rc;

    pcl_reset(c);
    if (!pcl_has_text(entry)) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: an entry id", what);
    }
    pc_buf_init(&path);
    rc = pcl_path(&path, "/v1/catalog/%s/records", entry);
    if (rc == PC_OK && pcl_has_text(prefix)) {
        rc = pcl_query(&path, "prefix", prefix);
    }
    if (rc == PC_OK && include_retired) {
        rc = pcl_query(&path, "include_retired", "true");
    }
    if (rc != PC_OK) {
        pc_buf_release(&path);
        return pcl_oom(c, what);
    }
    return pcl_iter_new(c, PCL_ITER_KEYS, &path, NULL, NULL, what, out);
}

/* ---- batch ----------------------------------------------------------------
 */

/*
 * A batch answer holds up to 1000 items, and an import reads one per
 * batch: it is scanned in place (no JSON tree), its strings copied into
 * one buffer that the result owns.
 */
struct batch_block {
    struct provcat_batch_result pub; /* first: the caller's pointer */
    char *arena;
};

PROVCAT_API void
provcat_batch_result_free(struct provcat_batch_result *r)
{
    struct batch_block *b = (struct batch_block *)r;

    if (r == NULL) {
        return;
    }
    pc_free(r->items);
    pc_free(b->arena);
    pc_free(b);
}

struct item_scan {
    struct provcat_write *w;
    char *arena; /* where the next string goes */
    bool bad;
};

static uint64_t
raw_uint(const char *v, size_t len)
{
    uint64_t n = 0;

    for (size_t i = 0; i < len && v[i] >= '0' && v[i] <= '9'; i++) {
        n = n * 10 + (uint64_t)(v[i] - '0');
    }
    return n;
}

/* A string member into the arena; NULL if it is not a string. */
static char *
raw_str(struct item_scan *s, const char *v, size_t len)
{
    char *out = s->arena;
    long n;

    if (len < 2 || v[0] != '"' ||
        (n = pcl_json_unescape_to(v + 1, len - 2, out)) < 0) {
        s->bad = true;
        return NULL;
    }
    s->arena += n + 1;
    return out;
}

static void
raw_hex(struct item_scan *s, const char *v, size_t len, char *out)
{
    if (len != PROVCAT_HASH_HEX_LEN + 2 || v[0] != '"') {
        s->bad = true;
        return;
    }
    memcpy(out, v + 1, PROVCAT_HASH_HEX_LEN);
    out[PROVCAT_HASH_HEX_LEN] = '\0';
}

#define IS(lit) (len == sizeof(lit) - 1 && memcmp(name, lit, len) == 0)

static int
item_member(void *arg, const char *name, size_t len, const char *v, size_t vlen)
{
    struct item_scan *s = arg;

    if (IS("key")) {
        s->w->key = raw_str(s, v, vlen);
    } else if (IS("op")) {
        s->w->op = raw_str(s, v, vlen);
    } else if (IS("version")) {
        s->w->version = raw_uint(v, vlen);
    } else if (IS("revision")) {
        s->w->revision = raw_uint(v, vlen);
    } else if (IS("hash")) {
        raw_hex(s, v, vlen, s->w->hash);
    } else if (IS("prev_hash")) {
        raw_hex(s, v, vlen, s->w->prev_hash);
    }
    return s->bad ? 1 : 0;
}

struct top_scan {
    const char *items, *items_end;
    uint64_t revision;
};

static int
top_member(void *arg, const char *name, size_t len, const char *v, size_t vlen)
{
    struct top_scan *t = arg;

    if (IS("items") && v[0] == '[') {
        t->items = v + 1;
        t->items_end = v + vlen - 1;
    } else if (IS("revision")) {
        t->revision = raw_uint(v, vlen);
    }
    return 0;
}

#undef IS

int
pcl_batch_parse(const char *body, size_t len, const char *entry, bool replayed,
                struct provcat_batch_result **out)
{
    struct top_scan t = { NULL, NULL, 0 };
    struct batch_block *b;
    size_t n = 0, elen = strlen(entry);
    const char *p, *q;
    char *ent;

    if (pcl_json_members(body, body + len, top_member, &t) != 0 ||
        t.items == NULL) {
        return PROVCAT_EPROTO;
    }
    for (p = pcl_json_next(t.items, t.items_end); p < t.items_end;
         p = pcl_json_next(q, t.items_end)) {
        q = pcl_json_skip(p, t.items_end);
        if (q == NULL) {
            return PROVCAT_EPROTO;
        }
        n++;
    }
    b = pc_calloc(1, sizeof(*b));
    if (b == NULL) {
        return PROVCAT_ENOMEM;
    }
    /* Each string is at most as long as its quoted span in `body`. */
    b->pub.items = pc_calloc(n + 1, sizeof(*b->pub.items));
    b->arena = pc_malloc(len + elen + 1);
    if (b->pub.items == NULL || b->arena == NULL) {
        provcat_batch_result_free(&b->pub);
        return PROVCAT_ENOMEM;
    }
    memcpy(b->arena, entry, elen + 1);
    ent = b->arena;
    struct item_scan s = { NULL, b->arena + elen + 1, false };
    b->pub.revision = t.revision;
    b->pub.replayed = replayed;
    for (p = pcl_json_next(t.items, t.items_end); p < t.items_end;
         p = pcl_json_next(q, t.items_end)) {
        struct provcat_write *w = &b->pub.items[b->pub.n_items++];

        q = pcl_json_skip(p, t.items_end);
        s.w = w;
        w->entry = ent;
        w->replayed = replayed;
        if (pcl_json_members(p, q, item_member, &s) != 0 || w->key == NULL ||
            w->op == NULL || w->version == 0) {
            provcat_batch_result_free(&b->pub);
            return PROVCAT_EPROTO;
        }
        if (strcmp(w->op, "create") == 0) {
            b->pub.n_created++;
        } else if (strcmp(w->op, "unchanged") == 0) {
            b->pub.n_unchanged++;
        } else {
            b->pub.n_updated++;
        }
    }
    *out = &b->pub;
    return PROVCAT_OK;
}

static int
batch_answer(struct provcat *c, const char *entry,
             struct provcat_batch_result **out, const char *what)
{
    int rc = pcl_batch_parse((const char *)c->body.data, c->body.len, entry,
                             c->replayed, out);

    if (rc == PROVCAT_ENOMEM) {
        return pcl_oom(c, what);
    }
    if (rc != PROVCAT_OK) {
        return pcl_fail(c, rc, "%s: a malformed answer", what);
    }
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_records_batch(struct provcat *c, const char *entry,
                      const struct provcat_batch_item *items, size_t n,
                      unsigned flags, struct provcat_batch_result **out)
{
    static const char *what = "batch";
    struct pc_buf path, b;
    size_t need = 64;
    int rc;

    pcl_reset(c);
    if (!pcl_has_text(entry) || items == NULL || n == 0 || n > 1000) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: an entry id and 1 to 1000 records", what);
    }
    for (size_t i = 0; i < n; i++) {
        if (!pcl_has_text(items[i].key) || items[i].value == NULL ||
            !pcl_json_one_value(items[i].value, items[i].value_len) ||
            items[i].if_version < PROVCAT_ANY_VERSION) {
            c->err.index = (int64_t)i;
            rc = pcl_fail(c, PROVCAT_EINVAL,
                          "%s: record %zu: a key and one well-formed JSON "
                          "value",
                          what, i);
            c->err.index = (int64_t)i;
            return rc;
        }
        need += strlen(items[i].key) + items[i].value_len + 48;
    }
    pc_buf_init(&path);
    pc_buf_init(&b);
    rc = pcl_path(&path, "/v1/catalog/%s/records:batch", entry);
    rc |= pc_buf_reserve(&b, need);
    rc |= pc_buf_put(&b, "{\"records\":[", 12);
    for (size_t i = 0; i < n && rc == PC_OK; i++) {
        rc |= pc_buf_put(&b, i ? ",{\"key\":" : "{\"key\":", i ? 8 : 7);
        rc |= pc_json_put_str(&b, items[i].key, strlen(items[i].key), 0);
        rc |= pc_buf_put(&b, ",\"value\":", 9);
        rc |= pc_buf_put(&b, items[i].value, items[i].value_len);
        if (items[i].if_version >= 0) {
            rc |= pc_buf_printf(&b, ",\"if_version\":%lld",
                                (long long)items[i].if_version);
        }
        rc |= pc_buf_put_u8(&b, '}');
    }
    rc |= pc_buf_put_u8(&b, ']');
    if (flags & PROVCAT_SKIP_IDENTICAL) {
        rc |= pc_buf_printf(&b, ",\"on_conflict\":\"skip_identical\"");
    }
    rc |= pc_buf_put_u8(&b, '}');
    if (rc != PC_OK) {
        pc_buf_release(&path);
        pc_buf_release(&b);
        return pcl_oom(c, what);
    }
    rc = pcl_send(c, "POST", (const char *)path.data, (const char *)b.data,
                  b.len, PCL_WRITE_IDEM, PROVCAT_ANY_VERSION, what);
    pc_buf_release(&path);
    pc_buf_release(&b);
    return rc == PROVCAT_OK ? batch_answer(c, entry, out, what) : rc;
}
