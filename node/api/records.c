/* SPDX-License-Identifier: MIT */
/*
 * Record routes: syntax and size checks before proposing (keys, canonical
 * JSON documents, batch bodies), salts made here on the receiving node,
 * writes proposed as RECORD commands decided in apply, and reads decided on
 * the entry before any key is looked up (fsm_may_read_records). Reads by
 * others than the provider org are audited (read_audit.c).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/jcs.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
#include "storage/idx.h"
#include "storage/led.h"

/* ---- request syntax --------------------------------------------------- */

/* "entry/key", the command's target (entry ids never hold '/'). */
static const char *
target_of(struct http_request *req)
{
    size_t len = strlen(req->caps[0]) + strlen(req->caps[1]) + 2;
    char *t = http_req_alloc(req, len);

    if (t != NULL) {
        snprintf(t, len, "%s/%s", req->caps[0], req->caps[1]);
    }
    return t;
}

/* The record path checked (api_record_path_ok), then the body parsed as a
 * JSON object; NULL once answered 400. */
static struct jcs_doc *
record_body(struct node *n, struct http_request *req)
{
    char em[PC_ERRMSG_SIZE];
    struct jcs_doc *d;
    int rc;

    if (!api_record_path_ok(n, req)) {
        return NULL;
    }
    if (req->body_len == 0) {
        api_error(n, req, 400, "bad_request", "a JSON object body is required");
        return NULL;
    }
    rc = jcs_parse((const char *)req->body, req->body_len, &d, em);
    if (rc == PC_ENOMEM) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return NULL;
    }
    if (rc != PC_OK) {
        api_error(n, req, 400, "bad_request", "malformed JSON: %s", em);
        return NULL;
    }
    if (jcs_type(jcs_root(d)) != JCS_OBJECT) {
        jcs_doc_free(d);
        api_error(n, req, 400, "bad_request", "the body must be a JSON object");
        return NULL;
    }
    return d;
}

/* A document value: an object of at most FSM_RECORD_DOC_MAX canonical bytes. */
static bool
doc_ok(struct node *n, struct http_request *req, const struct jcs_doc *d,
       const struct jcs_val *v, const char *field)
{
    struct pc_buf b;
    size_t len;

    if (v == NULL || jcs_type(v) != JCS_OBJECT) {
        api_bad_field(n, req, field, "a record document must be a JSON object");
        return false;
    }
    pc_buf_init(&b);
    if (jcs_emit_value(d, v, &b) != PC_OK) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return false;
    }
    len = b.len;
    pc_buf_release(&b);
    if (len > FSM_RECORD_DOC_MAX) {
        api_error_with(n, req, 413, "too_large",
                       field ? json_pack("{s:s}", "field", field) : NULL,
                       "the document is %zu canonical bytes; the limit is %u",
                       len, FSM_RECORD_DOC_MAX);
        return false;
    }
    return true;
}

static void
salt_hex(char out[2 * PC_SALT_LEN + 1])
{
    uint8_t s[PC_SALT_LEN];

    randombytes_buf(s, sizeof(s));
    pc_hex(out, s, sizeof(s));
}

/* ---- answers built from facts ----------------------------------------- */

/* What a record fact's payload says, read with jcs (free `d`). */
struct rec_meta {
    struct jcs_doc *d;
    const char *op; /* "" when absent */
    size_t op_len;
    bool retired; /* a retire version, or a correction of a retired record */
    const struct jcs_val *org, *reason, *objection; /* NULL when absent */
};

/*
 * Fact `rev` as a record version, with its hash and payload. PC_OK,
 * PC_ENOTFOUND (not a readable record fact) or PC_ENOMEM.
 */
static int
rec_meta_read(struct led *l, uint64_t rev, struct fact *fact,
              uint8_t hash[PC_HASH_LEN], struct rec_meta *m)
{
    const struct jcs_val *root, *v;
    int rc;

    memset(m, 0, sizeof(*m));
    if (led_get(l, rev, fact) != PC_OK || fact->kind != FACT_RECORD ||
        led_hash(l, rev, hash) != PC_OK) {
        return PC_ENOTFOUND;
    }
    rc = jcs_parse((const char *)fact->payload.p, fact->payload.len, &m->d,
                   NULL);
    if (rc != PC_OK) {
        return rc == PC_ENOMEM ? rc : PC_ENOTFOUND;
    }
    root = jcs_root(m->d);
    v = jcs_get(root, "op", 2);
    m->op = v != NULL ? jcs_string(v, &m->op_len) : NULL;
    if (m->op == NULL) {
        m->op = "";
        m->op_len = 0;
    }
    v = jcs_get(root, "retired", 7);
    m->retired = (m->op_len == 6 && memcmp(m->op, "retire", 6) == 0) ||
                 (v != NULL && jcs_type(v) == JCS_TRUE);
    m->org = jcs_get(root, "org", 3);
    m->reason = jcs_get(root, "reason", 6);
    m->objection = jcs_get(root, "objection", 9);
    return PC_OK;
}

/*
 * The op of a record version without parsing its payload: canonical JSON
 * puts "op" first unless an "objection" sorts before it. NULL when it is
 * not there.
 */
static const char *
payload_op(struct pc_slice p, size_t *len)
{
    static const char pre[] = "{\"op\":\"";
    const size_t pl = sizeof(pre) - 1;
    const char *s = (const char *)p.p + pl;
    size_t n = 0;

    if (p.len <= pl || memcmp(p.p, pre, pl) != 0) {
        return NULL;
    }
    while (pl + n < p.len && ((s[n] >= 'a' && s[n] <= 'z') || s[n] == '_')) {
        n++;
    }
    if (pl + n >= p.len || s[n] != '"') {
        return NULL;
    }
    *len = n;
    return s;
}

/* `,"name":<v>` for a member of the payload, if present. */
static int
put_member(struct pc_buf *b, const struct rec_meta *m, const char *name,
           const struct jcs_val *v)
{
    if (v == NULL) {
        return PC_OK;
    }
    return pc_buf_printf(b, ",\"%s\":", name) | jcs_emit_value(m->d, v, b);
}

/* Whether `name` (`len` bytes) is one of the grant's fields. */
static bool
granted_field(const struct fsm_read_via *via, const char *name, size_t len)
{
    for (size_t i = 0; i < via->n_fields; i++) {
        if (strlen(via->fields[i]) == len &&
            memcmp(via->fields[i], name, len) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * `,"filtered":true,"fields":[...],"value":{...}` for a grantee limited to
 * some fields: the document's members named by the grant, in canonical
 * order (so no longer the bytes `content_hash` covers: the answer leaves
 * out content_hash and salt).
 */
static int
put_filtered(struct pc_buf *out, const struct pc_buf *doc,
             const struct fsm_read_via *via)
{
    static const char head[] = ",\"filtered\":true,\"fields\":[";
    const struct jcs_val *root;
    struct jcs_writer w;
    struct jcs_doc *d;
    int rc;

    rc = pc_buf_put(out, head, sizeof(head) - 1);
    for (size_t i = 0; rc == PC_OK && i < via->n_fields; i++) {
        rc = (i > 0 ? pc_buf_put_u8(out, ',') : PC_OK) |
             http_json_string(out, via->fields[i], strlen(via->fields[i]));
    }
    rc |= pc_buf_put(out, "],\"value\":", 10);
    if (rc != PC_OK) {
        return PC_ENOMEM;
    }
    rc = jcs_parse((const char *)doc->data, doc->len, &d, NULL);
    if (rc != PC_OK) {
        return PC_ENOMEM;
    }
    root = jcs_root(d);
    jcs_w_init(&w, out);
    jcs_w_obj(&w);
    for (size_t i = 0; i < jcs_len(root); i++) {
        size_t kl;
        const char *k = jcs_key(root, i, &kl);

        if (granted_field(via, k, kl)) {
            jcs_w_keyn(&w, k, kl);
            jcs_w_val(&w, d, jcs_at(root, i));
        }
    }
    jcs_w_obj_end(&w);
    rc = jcs_w_finish(&w);
    jcs_doc_free(d);
    return rc;
}

/*
 * `,"disputed":true,"disputed_by":[ids]` while accepted objections on the
 * record await a correction (docs/rules.md, Objections); nothing else.
 */
static int
put_disputes(struct node *n, struct pc_buf *out, const struct fact *fact)
{
    const struct fsm_objection *d[16];
    size_t nd = fsm_record_disputes(n->fsm, fact->parent, fact->id, d, 16);
    int rc;

    if (nd == 0) {
        return PC_OK;
    }
    rc = pc_buf_put(out, ",\"disputed\":true,\"disputed_by\":[", 32);
    for (size_t i = 0; i < nd && i < 16; i++) {
        rc |= i > 0 ? pc_buf_put_u8(out, ',') : PC_OK;
        rc |= http_json_string(out, d[i]->id, strlen(d[i]->id));
    }
    return rc | pc_buf_put_u8(out, ']');
}

/*
 * The full view of record version `rev` as one JSON object written
 * straight into `out` (reads are the hot path: no jansson tree): entry,
 * key, version, op, author, org, at, revision, hash, prev_hash,
 * content_hash, retired, reason, objection, then salt and value, the
 * stored canonical bytes spliced in verbatim (clients hash exactly them),
 * or "redacted": true. Read through a grant limited to some fields
 * (`via`, may be NULL), the value holds only those and content_hash and
 * salt are left out (put_filtered).
 */
static int
put_version(struct node *n, struct pc_buf *out, uint64_t rev,
            const struct fsm_read_via *via)
{
    bool filtered = via != NULL && via->fields != NULL;
    struct led *l = fsm_led(n->fsm);
    uint8_t h[PC_HASH_LEN], salt[PC_SALT_LEN];
    char t[PC_TIME_STR_LEN];
    struct rec_meta m;
    struct fact fact;
    struct pc_buf doc;
    int rc;

    rc = rec_meta_read(l, rev, &fact, h, &m);
    if (rc != PC_OK) {
        return PC_ENOMEM;
    }
    pc_time_format(t, fact.time_ms);
    rc = pc_buf_put(out, "{\"entry\":", 9);
    rc |= http_json_string(out, (const char *)fact.parent.p, fact.parent.len);
    rc |= pc_buf_put(out, ",\"key\":", 7);
    rc |= http_json_string(out, (const char *)fact.id.p, fact.id.len);
    rc |= pc_buf_printf(
        out, ",\"version\":%llu,\"op\":", (unsigned long long)fact.version);
    rc |= http_json_string(out, m.op, m.op_len);
    rc |= pc_buf_put(out, ",\"author\":", 10);
    rc |= http_json_string(out, (const char *)fact.principal.p,
                           fact.principal.len);
    rc |= m.org != NULL ? put_member(out, &m, "org", m.org)
                        : pc_buf_put(out, ",\"org\":null", 11);
    rc |= pc_buf_printf(out, ",\"at\":\"%s\",\"revision\":%llu", t,
                        (unsigned long long)rev);
    rc |= api_put_hex(out, "hash", h, PC_HASH_LEN);
    if (fact.has_prev) {
        rc |= api_put_hex(out, "prev_hash", fact.prev_hash, PC_HASH_LEN);
    }
    if (fact.has_content && !filtered) {
        rc |= api_put_hex(out, "content_hash", fact.content_hash, PC_HASH_LEN);
    }
    if (m.retired) {
        rc |= pc_buf_put(out, ",\"retired\":true", 15);
    }
    rc |= put_member(out, &m, "reason", m.reason);
    rc |= put_member(out, &m, "objection", m.objection);
    rc |= put_disputes(n, out, &fact);
    jcs_doc_free(m.d);
    if (rc == PC_OK && fact.has_content) {
        pc_buf_init(&doc);
        rc = led_doc_get(l, rev, &doc, salt);
        if (rc == PC_EFORBIDDEN) {
            rc = pc_buf_put(out, ",\"redacted\":true", 16);
        } else if (rc == PC_OK && filtered) {
            rc = put_filtered(out, &doc, via);
        } else if (rc == PC_OK) {
            rc = api_put_hex(out, "salt", salt, PC_SALT_LEN);
            rc |= pc_buf_put(out, ",\"value\":", 9);
            rc |= pc_buf_put(out, doc.data, doc.len);
        }
        pc_buf_release(&doc);
    }
    rc |= pc_buf_put_u8(out, '}');
    return rc == PC_OK ? PC_OK : PC_ENOMEM;
}

/* ---- writes ----------------------------------------------------------- */

/*
 * The members of a write's answer for record fact `rev`, written straight
 * into `b` (each write answers one of these per record it appended, so no
 * jansson tree and no second serialisation): "key", "version", "op",
 * "revision", "hash" and, from version 2, "prev_hash". `*fact` gets the
 * fact. Returns PC_OK, PC_ENOTFOUND (not a readable record fact) or
 * PC_ENOMEM.
 */
static int
put_written(struct node *n, struct pc_buf *b, uint64_t rev, struct fact *fact,
            const char *op)
{
    struct led *l = fsm_led(n->fsm);
    uint8_t h[PC_HASH_LEN];
    struct rec_meta m = { 0 };
    size_t op_len = 0;
    int rc;

    if (led_get(l, rev, fact) != PC_OK || fact->kind != FACT_RECORD ||
        led_hash(l, rev, h) != PC_OK) {
        return PC_ENOTFOUND;
    }
    if (op != NULL) {
        op_len = strlen(op);
    } else if ((op = payload_op(fact->payload, &op_len)) == NULL) {
        rc = rec_meta_read(l, rev, fact, h, &m);
        if (rc != PC_OK) {
            return rc;
        }
        op = m.op;
        op_len = m.op_len;
    }
    rc = pc_buf_put(b, "\"key\":", 6);
    rc |= http_json_string(b, (const char *)fact->id.p, fact->id.len);
    rc |= pc_buf_put(b, ",\"version\":", 11);
    rc |= pc_buf_put_dec(b, fact->version);
    rc |= pc_buf_put(b, ",\"op\":", 6);
    rc |= http_json_string(b, op, op_len);
    rc |= pc_buf_put(b, ",\"revision\":", 12);
    rc |= pc_buf_put_dec(b, rev);
    rc |= api_put_hex(b, "hash", h, PC_HASH_LEN);
    if (fact->has_prev) {
        rc |= api_put_hex(b, "prev_hash", fact->prev_hash, PC_HASH_LEN);
    }
    jcs_doc_free(m.d);
    return rc == PC_OK ? PC_OK : PC_ENOMEM;
}

static void
version_written(struct node *n, struct http_request *req,
                const struct fsm_result *res, void *ctx)
{
    struct fact fact;
    struct pc_buf b;
    int rc;

    (void)ctx;
    pc_buf_init(&b);
    rc = pc_buf_put(&b, "{\"entry\":", 9);
    rc |= http_json_string(&b, req->caps[0], strlen(req->caps[0]));
    rc |= pc_buf_put_u8(&b, ',');
    if (rc == PC_OK) {
        rc = put_written(n, &b, res->first_rev, &fact, NULL);
    }
    rc = rc == PC_OK ? pc_buf_put_u8(&b, '}') : rc;
    if (rc == PC_ENOTFOUND) {
        pc_buf_release(&b);
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    if (rc == PC_OK) {
        api_set_etag(req, fact.version);
    }
    api_json_buf(n, req, res->status, &b, rc);
}

/*
 * Propose the single-record command `type` for the key in the path, its
 * syntax checked by the route's parse, with the extra members the rules
 * read: a fresh "salt" when the version carries a document, "if_match" and
 * "if_none_match" when asked.
 */
static void
propose_version(struct node *n, struct http_request *req, uint32_t type,
                bool salted)
{
    struct api_precond pre = { api_req(req)->if_match,
                               api_req(req)->if_none_match };
    char salt[2 * PC_SALT_LEN + 1];
    const char *target;
    json_t *x;

    target = target_of(req);
    x = json_object();
    if (target == NULL || x == NULL || api_precond_extra(x, &pre) != 0) {
        json_decref(x);
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    if (salted) {
        salt_hex(salt);
        json_object_set_new(x, "salt", json_string(salt));
    }
    if (json_object_size(x) == 0) {
        json_decref(x);
        x = NULL;
    }
    api_propose(n, req, type, target, true, x, version_written, NULL);
}

/* Its If-Match and If-None-Match were taken by the common handler. */
bool
api_records_put_parse(struct node *n, struct http_request *req)
{
    struct jcs_doc *d;
    bool ok;

    d = record_body(n, req);
    if (d == NULL) {
        return false;
    }
    ok = doc_ok(n, req, d, jcs_root(d), NULL);
    jcs_doc_free(d);
    return ok;
}

void
api_records_put(struct node *n, struct http_request *req)
{
    propose_version(n, req, CMD_RECORD_PUT, true);
}

/*
 * The items of a batch's answer in request order: each written record from
 * the command's facts; with "on_conflict": "skip_identical", a skipped
 * item as the version current at the command's revision, op "unchanged".
 */
static int
put_batch_items(struct node *n, struct pc_buf *b, struct http_request *req,
                const struct fsm_result *res, bool skipping)
{
    uint64_t r = res->first_rev, last = res->first_rev + res->n_facts;
    char msg[200], field[FSM_FIELD_LEN];
    struct fact fact;
    struct fsm_batch bt;
    long index;
    int rc = PC_OK;

    if (!skipping) {
        for (; r < last && rc == PC_OK; r++) {
            rc = pc_buf_put(b, r > res->first_rev ? ",{" : "{",
                            r > res->first_rev ? 2 : 1);
            rc = rc == PC_OK ? put_written(n, b, r, &fact, NULL) : rc;
            rc = rc == PC_OK ? pc_buf_put_u8(b, '}') : rc;
        }
        return rc;
    }
    rc = fsm_batch_parse(req->body, req->body_len, &bt, msg, field, &index);
    if (rc != PC_OK) {
        return rc == PC_ENOMEM ? rc : PC_ENOTFOUND; /* it parsed before */
    }
    for (size_t i = 0; i < bt.n && rc == PC_OK; i++) {
        struct pc_slice key = { (const uint8_t *)bt.items[i].key,
                                bt.items[i].key_len };
        struct idx_key k = { FACT_RECORD, PC_SLICE_STR(req->caps[0]), key };
        uint64_t ver, rev;
        const char *op = NULL;

        if (r < last && led_get(fsm_led(n->fsm), r, &fact) == PC_OK &&
            fact.id.len == key.len && memcmp(fact.id.p, key.p, key.len) == 0) {
            rev = r++;
        } else if (idx_version_at(led_idx(fsm_led(n->fsm)), &k, res->revision,
                                  &ver, &rev) == PC_OK) {
            op = "unchanged";
        } else {
            rc = PC_ENOTFOUND;
            break;
        }
        rc = pc_buf_put(b, i > 0 ? ",{" : "{", i > 0 ? 2 : 1);
        rc = rc == PC_OK ? put_written(n, b, rev, &fact, op) : rc;
        rc = rc == PC_OK ? pc_buf_put_u8(b, '}') : rc;
    }
    fsm_batch_release(&bt);
    return rc;
}

static void
batch_written(struct node *n, struct http_request *req,
              const struct fsm_result *res, void *ctx)
{
    struct pc_buf b;
    int rc;

    pc_buf_init(&b);
    rc = pc_buf_reserve(&b, 64 + 256 * (size_t)res->n_facts);
    rc |= pc_buf_put(&b, "{\"entry\":", 9);
    rc |= http_json_string(&b, req->caps[0], strlen(req->caps[0]));
    rc |= pc_buf_printf(&b, ",\"revision\":%llu,\"items\":[",
                        (unsigned long long)res->revision);
    rc = rc == PC_OK ? put_batch_items(n, &b, req, res, ctx != NULL) : rc;
    rc = rc == PC_OK ? pc_buf_put(&b, "]}", 2) : rc;
    if (rc == PC_ENOTFOUND) {
        pc_buf_release(&b);
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    api_json_buf(n, req, 200, &b, rc);
}

static void
batch_release(void *parsed)
{
    fsm_batch_release(parsed);
}

/* The body parsed and canonicalised once, kept (on the heap) for run. */
bool
api_records_batch_parse(struct node *n, struct http_request *req)
{
    char msg[200], field[FSM_FIELD_LEN];
    struct fsm_batch *b;
    json_t *det;
    long index;
    int rc;

    if (!api_entry_path_ok(n, req)) {
        return false;
    }
    if (req->body_len == 0) {
        api_error(n, req, 400, "bad_request", "a JSON object body is required");
        return false;
    }
    b = http_req_alloc(req, sizeof(*b));
    rc = b == NULL
             ? PC_ENOMEM
             : fsm_batch_parse(req->body, req->body_len, b, msg, field, &index);
    if (rc == PC_ENOMEM) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return false;
    }
    if (rc != PC_OK) {
        det = json_object();
        if (det != NULL && field[0] != '\0') {
            json_object_set_new(det, "field", json_string(field));
        }
        if (det != NULL && index >= 0) {
            json_object_set_new(det, "index", json_integer(index));
        }
        api_error_with(n, req, rc == PC_ETOOLARGE ? 413 : 400,
                       rc == PC_ETOOLARGE ? "too_large" : "bad_request", det,
                       "%s", msg);
        return false;
    }
    api_req(req)->parsed = b;
    api_req(req)->release = batch_release;
    return true;
}

/*
 * Propose the batch prepared (CMD_RECORD_BATCH2): salts drawn here, values
 * checked against the schema in force here so that apply may skip it
 * while that version is in force (fsm_batch_prepare).
 */
void
api_records_batch(struct node *n, struct http_request *req)
{
    struct fsm_batch *b = api_req(req)->parsed;
    struct pc_buf prep;
    uint8_t *salts;
    int rc;

    salts = pc_malloc(b->n * PC_SALT_LEN);
    if (salts != NULL) {
        randombytes_buf(salts, b->n * PC_SALT_LEN);
    }
    pc_buf_init(&prep);
    rc = salts == NULL
             ? PC_ENOMEM
             : fsm_batch_prepare(n->fsm, req->caps[0], b, salts, &prep);
    pc_free(salts);
    if (rc != PC_OK) {
        pc_buf_release(&prep);
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    /* Any non-NULL ctx tells batch_written to interleave skipped items. */
    api_propose_bytes(n, req, CMD_RECORD_BATCH2, req->caps[0],
                      &(struct pc_slice){ prep.data, prep.len }, NULL,
                      batch_written, b->skip_identical ? (void *)req : NULL);
    pc_buf_release(&prep);
}

bool
api_records_retire_parse(struct node *n, struct http_request *req)
{
    struct jcs_doc *d;
    bool ok;

    d = record_body(n, req);
    if (d == NULL) {
        return false;
    }
    ok = fsm_text_ok(jcs_get(jcs_root(d), "reason", 6), 4096);
    jcs_doc_free(d);
    if (!ok) {
        api_bad_field(n, req, "reason",
                      "\"reason\" (non-blank, at most 4096 bytes) is "
                      "required");
    }
    return ok;
}

void
api_records_retire(struct node *n, struct http_request *req)
{
    propose_version(n, req, CMD_RECORD_RETIRE, false);
}

bool
api_records_correct_parse(struct node *n, struct http_request *req)
{
    const struct jcs_val *obj;
    struct jcs_doc *d;

    d = record_body(n, req);
    if (d == NULL) {
        return false;
    }
    obj = jcs_get(jcs_root(d), "objection", 9);
    if (!fsm_text_ok(jcs_get(jcs_root(d), "reason", 6), 4096)) {
        jcs_doc_free(d);
        api_bad_field(n, req, "reason",
                      "\"reason\" (non-blank, at most 4096 bytes) is required");
        return false;
    }
    if (obj != NULL && jcs_type(obj) != JCS_STRING) {
        jcs_doc_free(d);
        api_bad_field(n, req, "objection",
                      "\"objection\" must be an objection id");
        return false;
    }
    if (!doc_ok(n, req, d, jcs_get(jcs_root(d), "value", 5), "value")) {
        jcs_doc_free(d);
        return false;
    }
    jcs_doc_free(d);
    return true;
}

void
api_records_correct(struct node *n, struct http_request *req)
{
    propose_version(n, req, CMD_RECORD_CORRECT, true);
}

/* ---- reads ------------------------------------------------------------ */

/*
 * Decide access on the entry before any key is looked up (the token was
 * checked already): 404 for an entry the caller may not see, then 403 for
 * every key when it may not read the records (fsm_may_read_records).
 * Audited reads are served by the leader only (a stale one on a follower
 * is redirected). Returns false once answered.
 */
static bool
read_access(struct node *n, struct http_request *req,
            const struct fsm_entry **out, enum fsm_read_access *acc,
            struct fsm_read_via *via)
{
    const struct fsm_principal *p;
    const struct fsm_entry *e;

    p = api_principal(n, req);
    e = fsm_entry(n->fsm, req->caps[0]);
    if (e == NULL || fsm_entry_visible_rev(n->fsm, e, p) == 0) {
        api_error(n, req, 404, "not_found", "no catalog entry \"%s\"",
                  req->caps[0]);
        return false;
    }
    *acc = fsm_may_read_records_via(n->fsm, p, e, via);
    if (*acc == FSM_READ_DENIED) {
        api_denied(n, req, "you may not read the records of entry \"%s\"",
                   req->caps[0]);
        return false;
    }
    /* Audited reads, through a grant or not, are the leader's: a read
     * through a grant is answered once its audit fact has committed
     * (api_audit_hold: fail closed). */
    if (*acc == FSM_READ_AUDITED || *acc == FSM_READ_GRANTED) {
        if (!api_audited_read_ok(n, req)) {
            return false;
        }
    } else if (*acc == FSM_READ_OPEN) {
        n->stats.reads_open_anon++;
    }
    *out = e;
    return true;
}

/* Answer a read: at once, audited or not, or held until its audit event
 * (through grant `via`) commits. */
static void
answer_read(struct node *n, struct http_request *req, enum fsm_read_access acc,
            const struct fsm_read_via *via, const char *action,
            const char *entry, const char *key, uint64_t version, long count,
            struct pc_buf *b, int rc)
{
    if (rc != PC_OK) {
        api_json_buf(n, req, 200, b, rc);
        return;
    }
    if (acc == FSM_READ_GRANTED) {
        api_audit_hold(n, req, action, entry, key, version, count, via->id, 200,
                       b);
        return;
    }
    if (acc == FSM_READ_AUDITED) {
        api_audit_add(n, req, action, entry, key, version, count);
    }
    api_json_buf(n, req, 200, b, PC_OK);
}

static bool
uint_param(struct node *n, struct http_request *req, const char *name,
           uint64_t *out)
{
    const char *s = http_req_param(req, name);
    unsigned long long v;
    char *end;

    *out = 0;
    if (s == NULL) {
        return true;
    }
    v = strtoull(s, &end, 10);
    if (*s < '1' || *s > '9' || *end != '\0' || strlen(s) > 19) {
        char msg[80];

        snprintf(msg, sizeof(msg), "%s must be a whole number from 1", name);
        api_bad_field(n, req, name, msg);
        return false;
    }
    *out = v;
    return true;
}

bool
api_records_get_parse(struct node *n, struct http_request *req)
{
    uint64_t v;

    if (!api_record_path_ok(n, req)) {
        return false;
    }
    if (http_req_param(req, "version") != NULL &&
        http_req_param(req, "at_revision") != NULL) {
        api_bad_field(n, req, "version",
                      "give version or at_revision, not both");
        return false;
    }
    return uint_param(n, req, "version", &v) &&
           uint_param(n, req, "at_revision", &v);
}

void
api_records_get(struct node *n, struct http_request *req)
{
    struct idx_key k = { FACT_RECORD, PC_SLICE_STR(req->caps[0]),
                         PC_SLICE_STR(req->caps[1]) };
    const struct idx *x = led_idx(fsm_led(n->fsm));
    enum fsm_read_access acc;
    struct fsm_read_via via;
    const struct fsm_entry *e;
    uint64_t version, at, ver = 0, rev = 0;
    struct pc_buf b;
    int rc;

    if (!uint_param(n, req, "version", &version) ||
        !uint_param(n, req, "at_revision", &at)) {
        return;
    }
    if (!read_access(n, req, &e, &acc, &via)) {
        return;
    }
    if (version > 0) {
        ver = version;
        rc = idx_version_rev(x, &k, version, &rev);
    } else if (at > 0) {
        if (at > led_count(fsm_led(n->fsm))) {
            api_bad_field(n, req, "at_revision",
                          "at_revision is beyond this node's applied revision");
            return;
        }
        rc = idx_version_at(x, &k, at, &ver, &rev);
    } else {
        ver = idx_latest(x, &k, &rev);
        rc = ver > 0 ? PC_OK : PC_ENOTFOUND;
    }
    if (rc != PC_OK) {
        api_error(n, req, 404, "not_found", "no such record version");
        return;
    }
    pc_buf_init(&b);
    rc = put_version(n, &b, rev, &via);
    api_set_etag(req, ver);
    answer_read(n, req, acc, &via, "record.read", e->id, req->caps[1], ver, -1,
                &b, rc);
}

bool
api_records_history_parse(struct node *n, struct http_request *req)
{
    uint64_t after;
    size_t limit;

    return api_record_path_ok(n, req) && api_param_limit(n, req, &limit) &&
           uint_param(n, req, "after", &after);
}

void
api_records_history(struct node *n, struct http_request *req)
{
    struct idx_key k = { FACT_RECORD, PC_SLICE_STR(req->caps[0]),
                         PC_SLICE_STR(req->caps[1]) };
    const struct idx *x = led_idx(fsm_led(n->fsm));
    enum fsm_read_access acc;
    struct fsm_read_via via;
    const struct fsm_entry *e;
    uint64_t latest, after = 0, v, rev;
    const char *a = http_req_param(req, "after");
    size_t limit;
    struct pc_buf b;
    char next[24];
    int rc = PC_OK;

    if (!api_param_limit(n, req, &limit) ||
        (a != NULL && !uint_param(n, req, "after", &after)) ||
        !read_access(n, req, &e, &acc, &via)) {
        return;
    }
    latest = idx_latest(x, &k, NULL);
    if (latest == 0) {
        api_error(n, req, 404, "not_found", "no such record");
        return;
    }
    pc_buf_init(&b);
    rc |= pc_buf_put(&b, "{\"items\":[", 10);
    for (v = after + 1; v <= latest && v <= after + limit && rc == PC_OK; v++) {
        if (v > after + 1) {
            rc |= pc_buf_put_u8(&b, ',');
        }
        rc |= idx_version_rev(x, &k, v, &rev);
        if (rc == PC_OK) {
            rc = put_version(n, &b, rev, &via);
        }
    }
    v--; /* the last version listed */
    if (v < latest) {
        snprintf(next, sizeof(next), "\"%llu\"", (unsigned long long)v);
    } else {
        snprintf(next, sizeof(next), "null");
    }
    rc |= pc_buf_printf(&b, "],\"next\":%s}", next);
    answer_read(n, req, acc, &via, "record.history", e->id, req->caps[1], 0,
                (long)(v - after), &b, rc == PC_OK ? PC_OK : PC_ENOMEM);
}

/*
 * The list's cursor (api_cursor_decode) names the first page's revision
 * and the last key: later pages are answered as of that revision through
 * the version-at-revision index, so a full scan is one consistent snapshot
 * whatever is written meanwhile (docs/rules.md).
 */

/* A page with values stops once it holds this many bytes: documents are
 * up to 256 KiB each. */
#define LIST_VALUES_BYTES (4u << 20)

struct list_ctx {
    struct node *n;
    struct pc_slice entry;
    uint64_t snap; /* the revision the listing reflects */
    bool include_retired;
    bool values; /* whole versions (put_version), filtered as `via` says */
    const struct fsm_read_via *via;
    size_t limit, count;
    bool more;
    struct pc_buf *out;
    uint8_t last[FSM_RECORD_KEY_MAX];
    size_t last_len;
    int rc;
};

static bool
list_cb(void *arg, struct pc_slice id, uint64_t latest, uint64_t latest_rev)
{
    struct list_ctx *c = arg;
    struct idx_key k = { FACT_RECORD, c->entry, id };
    uint8_t h[PC_HASH_LEN];
    uint64_t ver, rev;
    struct rec_meta m;
    struct fact fact;
    int rc;

    (void)latest, (void)latest_rev;
    if (idx_version_at(led_idx(fsm_led(c->n->fsm)), &k, c->snap, &ver, &rev) !=
        PC_OK) {
        return true; /* created after the snapshot */
    }
    if (rec_meta_read(fsm_led(c->n->fsm), rev, &fact, h, &m) != PC_OK) {
        c->rc = PC_ENOMEM;
        return false;
    }
    if (m.retired && !c->include_retired) {
        jcs_doc_free(m.d);
        return true;
    }
    if (c->count == c->limit ||
        (c->values && c->out->len >= LIST_VALUES_BYTES)) {
        jcs_doc_free(m.d);
        c->more = true;
        return false;
    }
    rc = c->count > 0 ? pc_buf_put_u8(c->out, ',') : PC_OK;
    if (c->values) {
        jcs_doc_free(m.d);
        rc |= put_version(c->n, c->out, rev, c->via);
        c->rc = rc == PC_OK ? PC_OK : PC_ENOMEM;
        memcpy(c->last, id.p, id.len);
        c->last_len = id.len;
        c->count++;
        return c->rc == PC_OK;
    }
    rc |= pc_buf_put(c->out, "{\"key\":", 7);
    rc |= http_json_string(c->out, (const char *)id.p, id.len);
    rc |= pc_buf_printf(
        c->out, ",\"version\":%llu,\"op\":", (unsigned long long)fact.version);
    rc |= http_json_string(c->out, m.op, m.op_len);
    rc |= pc_buf_printf(c->out, ",\"revision\":%llu", (unsigned long long)rev);
    rc |= api_put_hex(c->out, "hash", h, PC_HASH_LEN);
    rc |=
        pc_buf_printf(c->out, ",\"retired\":%s}", m.retired ? "true" : "false");
    c->rc = rc == PC_OK ? PC_OK : PC_ENOMEM;
    jcs_doc_free(m.d);
    memcpy(c->last, id.p, id.len);
    c->last_len = id.len;
    c->count++;
    return c->rc == PC_OK;
}

/* The listing's parameters; false once answered 400. */
static bool
list_params(struct node *n, struct http_request *req, size_t *limit,
            uint64_t *snap, uint8_t akey[FSM_RECORD_KEY_MAX], size_t *alen)
{
    const char *prefix = http_req_param(req, "prefix") ?: "";
    const char *after = http_req_param(req, "after");
    const char *inc = http_req_param(req, "include_retired");
    const char *values = http_req_param(req, "values");
    uint64_t at = 0;

    if (!api_param_limit(n, req, limit) ||
        api_param_u64(n, req, "at_revision", 1, &at) == PC_EINVAL) {
        return false;
    }
    if (values != NULL && strcmp(values, "true") != 0 &&
        strcmp(values, "false") != 0) {
        api_bad_field(n, req, "values", "values must be true or false");
        return false;
    }
    if (strlen(prefix) > FSM_RECORD_KEY_MAX) {
        api_bad_field(n, req, "prefix", "prefix is at most 512 bytes");
        return false;
    }
    if (inc != NULL && strcmp(inc, "true") != 0 && strcmp(inc, "false") != 0) {
        api_bad_field(n, req, "include_retired",
                      "include_retired must be true or false");
        return false;
    }
    if (after != NULL && (!api_cursor_decode(after, snap, akey, alen) ||
                          !fsm_record_key_valid((const char *)akey, *alen))) {
        api_bad_field(n, req, "after", "after must be the cursor of a page");
        return false;
    }
    if (at > 0 && after != NULL && at != *snap) {
        api_bad_field(n, req, "at_revision",
                      "at_revision differs from the cursor's revision");
        return false;
    }
    if (at > 0) {
        *snap = at;
    }
    return true;
}

bool
api_records_list_parse(struct node *n, struct http_request *req)
{
    uint8_t akey[FSM_RECORD_KEY_MAX];
    uint64_t snap;
    size_t limit, alen;

    return api_entry_path_ok(n, req) &&
           list_params(n, req, &limit, &snap, akey, &alen);
}

void
api_records_list(struct node *n, struct http_request *req)
{
    const char *prefix = http_req_param(req, "prefix") ?: "";
    const char *inc = http_req_param(req, "include_retired");
    uint8_t akey[FSM_RECORD_KEY_MAX];
    size_t alen = 0;
    enum fsm_read_access acc;
    struct fsm_read_via via;
    const struct fsm_entry *e;
    struct list_ctx c;
    struct pc_buf b;
    int rc;

    memset(&c, 0, sizeof(c));
    c.snap = led_count(fsm_led(n->fsm));
    if (!list_params(n, req, &c.limit, &c.snap, akey, &alen) ||
        !read_access(n, req, &e, &acc, &via)) {
        return;
    }
    if (c.snap > led_count(fsm_led(n->fsm))) {
        if (http_req_param(req, "after") == NULL) {
            api_bad_field(n, req, "at_revision",
                          "at_revision is beyond this node's applied "
                          "revision");
            return;
        }
        api_error(n, req, 503, "unavailable",
                  "this node has not applied the cursor's revision yet");
        return;
    }
    pc_buf_init(&b);
    c.n = n;
    c.entry = PC_SLICE_STR(e->id);
    c.include_retired = inc != NULL && strcmp(inc, "true") == 0;
    c.values = http_req_param(req, "values") != NULL &&
               strcmp(http_req_param(req, "values"), "true") == 0;
    c.via = &via;
    c.out = &b;
    rc = pc_buf_put(&b, "{\"items\":[", 10);
    if (rc == PC_OK) {
        idx_scan(led_idx(fsm_led(n->fsm)), FACT_RECORD, c.entry,
                 PC_SLICE_STR(prefix), (struct pc_slice){ akey, alen }, list_cb,
                 &c);
        rc = c.rc;
    }
    if (rc == PC_OK) {
        rc = pc_buf_put(&b, "],\"next\":", 9);
    }
    if (rc == PC_OK) {
        rc = c.more ? api_cursor_put(&b, c.snap, c.last, c.last_len)
                    : pc_buf_put(&b, "null", 4);
    }
    if (rc == PC_OK) {
        rc = pc_buf_printf(&b, ",\"revision\":%llu}",
                           (unsigned long long)c.snap);
    }
    answer_read(n, req, acc, &via, "record.list", e->id, NULL, 0, (long)c.count,
                &b, rc);
}
