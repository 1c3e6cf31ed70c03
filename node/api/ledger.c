/* SPDX-License-Identifier: MIT */
/*
 * Ledger routes: the root (GET /v1/ledger), RFC 6962 inclusion and
 * consistency proofs, the facts one by one for those who may inspect the
 * whole ledger (fsm_may_inspect_ledger), reconciliation digests
 * (fsm_may_read_digests, from state node/fsm/digest.c keeps), and backups:
 * an operation apply decides (CMD_OPERATION, the role operator), then
 * encoded on a worker thread over a frozen view of the ledger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
#include "storage/idx.h"
#include "storage/led.h"
#include "storage/mrk.h"
#include "storage/snap.h"

static bool
parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    v = strtoull(s, &end, 10);
    if (*end != '\0') {
        return false;
    }
    *out = v;
    return true;
}

bool
api_ledger_parse(struct node *n, struct http_request *req)
{
    uint64_t size;
    const char *ts = http_req_param(req, "tree_size");

    if (ts != NULL && !parse_u64(ts, &size)) {
        api_bad_field(n, req, "tree_size", "tree_size must be a number");
        return false;
    }
    return true;
}

void
api_ledger(struct node *n, struct http_request *req)
{
    struct led *l = fsm_led(n->fsm);
    uint8_t root[PC_HASH_LEN];
    uint64_t size = led_count(l);
    const char *ts = http_req_param(req, "tree_size");

    if (ts != NULL && (!parse_u64(ts, &size) || size > led_count(l))) {
        api_error(n, req, 400, "bad_request",
                  "tree_size must be a number up to %llu",
                  (unsigned long long)led_count(l));
        return;
    }
    mrk_root(led_mrk(l), size, root);
    api_json(n, req, 200,
             json_pack("{s:I, s:o}", "revision", (json_int_t)size, "root",
                       api_hex_json(root)));
}

static json_t *
path_json(uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], size_t len)
{
    json_t *a = json_array();

    for (size_t i = 0; i < len; i++) {
        json_array_append_new(a, api_hex_json(path[i]));
    }
    return a;
}

bool
api_ledger_proof_parse(struct node *n, struct http_request *req)
{
    const char *ts = http_req_param(req, "tree_size");
    uint64_t v;

    if (!parse_u64(http_req_param(req, "revision"), &v) ||
        (ts != NULL && !parse_u64(ts, &v))) {
        api_error(n, req, 400, "bad_request",
                  "need revision and, optionally, tree_size as numbers");
        return false;
    }
    return true;
}

void
api_ledger_proof(struct node *n, struct http_request *req)
{
    struct led *l = fsm_led(n->fsm);
    uint64_t r, size = led_count(l);
    uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], leaf[PC_HASH_LEN],
        root[PC_HASH_LEN];
    size_t len;

    if (!parse_u64(http_req_param(req, "revision"), &r) ||
        (http_req_param(req, "tree_size") != NULL &&
         !parse_u64(http_req_param(req, "tree_size"), &size)) ||
        r < 1 || r > size || size > led_count(l)) {
        api_error(n, req, 400, "bad_request",
                  "need 1 <= revision <= tree_size <= %llu",
                  (unsigned long long)led_count(l));
        return;
    }
    mrk_inclusion(led_mrk(l), r - 1, size, path, &len);
    mrk_leaf(led_mrk(l), r - 1, leaf);
    mrk_root(led_mrk(l), size, root);
    api_json(n, req, 200,
             json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "revision",
                       (json_int_t)r, "leaf_index", (json_int_t)(r - 1),
                       "tree_size", (json_int_t)size, "leaf_hash",
                       api_hex_json(leaf), "path", path_json(path, len), "root",
                       api_hex_json(root)));
}

bool
api_ledger_consistency_parse(struct node *n, struct http_request *req)
{
    uint64_t v;

    if (!parse_u64(http_req_param(req, "from"), &v) ||
        !parse_u64(http_req_param(req, "to"), &v)) {
        api_error(n, req, 400, "bad_request", "need from and to as numbers");
        return false;
    }
    return true;
}

void
api_ledger_consistency(struct node *n, struct http_request *req)
{
    struct led *l = fsm_led(n->fsm);
    uint64_t m, to;
    uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], r1[PC_HASH_LEN], r2[PC_HASH_LEN];
    size_t len;

    if (!parse_u64(http_req_param(req, "from"), &m) ||
        !parse_u64(http_req_param(req, "to"), &to) || m < 1 || m > to ||
        to > led_count(l)) {
        api_error(n, req, 400, "bad_request", "need 1 <= from <= to <= %llu",
                  (unsigned long long)led_count(l));
        return;
    }
    mrk_consistency(led_mrk(l), m, to, path, &len);
    mrk_root(led_mrk(l), m, r1);
    mrk_root(led_mrk(l), to, r2);
    api_json(n, req, 200,
             json_pack("{s:I, s:I, s:o, s:o, s:o}", "from", (json_int_t)m, "to",
                       (json_int_t)to, "path", path_json(path, len),
                       "from_root", api_hex_json(r1), "to_root",
                       api_hex_json(r2)));
}

/* ---- the facts one by one -------------------------------------------- */

bool
api_ledger_facts_parse(struct node *n, struct http_request *req)
{
    uint64_t from;
    size_t limit;

    return api_param_u64(n, req, "from", 1, &from) != PC_EINVAL &&
           api_param_limit(n, req, &limit);
}

static int
put_str(struct pc_buf *b, const char *name, struct pc_slice s)
{
    return pc_buf_printf(b, ",\"%s\":", name) |
                   http_json_string(b, (const char *)s.p, s.len)
               ? PC_ENOMEM
               : PC_OK;
}

struct events_out {
    struct pc_buf *b;
    size_t n;
    int rc;
};

/* One read-audit event as the first encoding wrote it, plus the grant a
 * read went through ("grant" or "open_request"). */
static bool
event_cb(void *arg, const struct fsm_audit_event *e)
{
    struct events_out *o = arg;
    char t[PC_TIME_STR_LEN];
    struct pc_buf *b = o->b;
    int rc;

    pc_time_format(t, e->at_ms);
    rc = o->n++ > 0 ? pc_buf_put_u8(b, ',') : PC_OK;
    rc |= pc_buf_put(b, "{\"principal\":", 13);
    rc |= http_json_string(b, e->principal, strlen(e->principal));
    if (e->org != NULL) {
        rc |= put_str(b, "org", PC_SLICE_STR(e->org));
    } else {
        rc |= pc_buf_put(b, ",\"org\":null", 11);
    }
    rc |= put_str(b, "action", PC_SLICE_STR(e->action));
    rc |= put_str(b, "entry", PC_SLICE_STR(e->entry));
    if (e->key != NULL) {
        rc |= put_str(b, "key",
                      (struct pc_slice){ (const uint8_t *)e->key, e->key_len });
    }
    if (e->version > 0) {
        rc |= pc_buf_printf(b, ",\"version\":%llu",
                            (unsigned long long)e->version);
    }
    if (e->count >= 0) {
        rc |= pc_buf_printf(b, ",\"count\":%lld", (long long)e->count);
    }
    if (e->via != NULL) {
        rc |= put_str(b,
                      strncmp(e->via, "gr-", 3) == 0 ? "grant" : "open_request",
                      PC_SLICE_STR(e->via));
    }
    rc |= pc_buf_printf(b, ",\"at\":\"%s\"}", t);
    o->rc |= rc;
    return o->rc == PC_OK;
}

/* `,"events":[...]` of an audit fact whose events are its document
 * (encoding 2; the first encoding's are in its payload already). */
static int
put_events(struct node *n, struct pc_buf *b, uint64_t rev)
{
    struct events_out o = { b, 0, PC_OK };
    int rc = pc_buf_put(b, ",\"events\":[", 11);

    if (rc == PC_OK) {
        rc = fsm_audit_events(fsm_led(n->fsm), rev, event_cb, &o);
    }
    if (rc == PC_EFORBIDDEN) {
        rc = PC_OK; /* redacted: no events to show */
    }
    rc |= o.rc;
    rc |= pc_buf_put_u8(b, ']');
    return rc == PC_OK ? PC_OK : PC_ENOMEM;
}

/* Fact `rev` as one JSON object; its payload spliced in verbatim (it is
 * canonical JSON already); an audit fact's events decoded. */
static int
put_fact(struct node *n, struct pc_buf *b, uint64_t rev)
{
    struct led *l = fsm_led(n->fsm);
    char t[PC_TIME_STR_LEN];
    uint8_t h[PC_HASH_LEN];
    struct fact f;
    int rc;

    if (led_get(l, rev, &f) != PC_OK || led_hash(l, rev, h) != PC_OK) {
        return PC_ENOTFOUND;
    }
    pc_time_format(t, f.time_ms);
    rc = pc_buf_printf(b, "{\"revision\":%llu,\"kind\":\"%s\",\"at\":\"%s\"",
                       (unsigned long long)rev,
                       fact_kind_name(f.kind) ?: "unknown", t);
    rc |= put_str(b, "principal", f.principal);
    rc |= put_str(b, "request_id", f.request_id);
    if (f.idem_key.len > 0) {
        rc |= put_str(b, "idempotency_key", f.idem_key);
    }
    if (f.parent.len > 0) {
        rc |= put_str(b, "parent", f.parent);
    }
    rc |= put_str(b, "id", f.id);
    if (f.version > 0) {
        rc |= pc_buf_printf(b, ",\"version\":%llu",
                            (unsigned long long)f.version);
    }
    rc |= api_put_hex(b, "hash", h, PC_HASH_LEN);
    if (f.has_prev) {
        rc |= api_put_hex(b, "prev_hash", f.prev_hash, PC_HASH_LEN);
    }
    if (f.has_content) {
        rc |= api_put_hex(b, "content_hash", f.content_hash, PC_HASH_LEN);
    }
    rc |= pc_buf_put(b, ",\"payload\":", 11);
    rc |= f.payload.len > 0 ? pc_buf_put(b, f.payload.p, f.payload.len)
                            : pc_buf_put(b, "null", 4);
    if (rc == PC_OK && f.kind == FACT_AUDIT && f.has_content) {
        rc = put_events(n, b, rev);
    }
    rc |= pc_buf_put_u8(b, '}');
    return rc == PC_OK ? PC_OK : PC_ENOMEM;
}

/*
 * GET /v1/ledger/facts?from=R&limit=N: facts R.. in revision order, each
 * with its metadata, hash and payload (never a document: a record's is
 * only its content hash), in the list envelope; `next` is the revision to
 * ask for next. For operators, auditors and the provincial authority
 * (fsm_may_inspect_ledger); rejection facts are how refusals are
 * inspected.
 */
void
api_ledger_facts(struct node *n, struct http_request *req)
{
    uint64_t count = led_count(fsm_led(n->fsm)), from = 1, rev;
    struct pc_buf b;
    size_t limit;
    int rc;

    api_param_u64(n, req, "from", 1, &from);
    api_param_limit(n, req, &limit);
    if (!fsm_may_inspect_ledger(n->fsm, api_principal(n, req))) {
        api_denied(n, req,
                   "reading the ledger's facts needs role operator or "
                   "auditor, or the provincial authority");
        return;
    }
    pc_buf_init(&b);
    rc = pc_buf_put(&b, "{\"items\":[", 10);
    for (rev = from; rc == PC_OK && rev <= count && rev < from + limit; rev++) {
        rc = rev > from ? pc_buf_put_u8(&b, ',') : PC_OK;
        rc = rc == PC_OK ? put_fact(n, &b, rev) : rc;
    }
    if (rc == PC_OK) {
        rc = rev <= count ? pc_buf_printf(&b, "],\"next\":\"%llu\"}",
                                          (unsigned long long)rev)
                          : pc_buf_put(&b, "],\"next\":null}", 14);
    }
    api_json_buf(n, req, 200, &b, rc == PC_OK ? PC_OK : PC_ENOMEM);
}

/* ---- digests ---------------------------------------------------------- */

/* Ids and keys a digest page visits without listing them (keys created
 * after the page's revision), per item asked: bounds a page's work. */
#define DIGEST_VISITS_PER_ITEM 16

/* The parameters of GET /v1/ledger/digests, as parse and run read them. */
struct digest_params {
    const char *entry; /* NULL: every entry */
    const char *prefix;
    uint64_t at; /* 0: the applied revision */
    size_t limit;
    uint8_t after[FSM_RECORD_KEY_MAX];
    size_t after_len;
};

/* Read the parameters; false once answered 400. */
static bool
digest_params(struct node *n, struct http_request *req, struct digest_params *d)
{
    const char *after = http_req_param(req, "after");
    uint64_t crev = 0;

    memset(d, 0, sizeof(*d));
    d->entry = http_req_param(req, "entry");
    d->prefix = http_req_param(req, "prefix");
    if (d->entry != NULL && !fsm_id_valid(d->entry, strlen(d->entry))) {
        api_bad_field(n, req, "entry",
                      "bad entry id: [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
        return false;
    }
    if (d->prefix != NULL &&
        (d->entry == NULL || strlen(d->prefix) > FSM_RECORD_KEY_MAX)) {
        api_bad_field(n, req, "prefix",
                      "prefix (at most 512 bytes) goes with entry");
        return false;
    }
    if (api_param_u64(n, req, "at_revision", 1, &d->at) == PC_EINVAL ||
        !api_param_limit(n, req, &d->limit)) {
        return false;
    }
    if (after != NULL) {
        if (!api_cursor_decode(after, &crev, d->after, &d->after_len)) {
            api_bad_field(n, req, "after",
                          "after must be the cursor of a page");
            return false;
        }
        if (d->at != 0 && d->at != crev) {
            api_bad_field(n, req, "at_revision",
                          "at_revision differs from the cursor's revision");
            return false;
        }
        d->at = crev;
    }
    return true;
}

bool
api_ledger_digests_parse(struct node *n, struct http_request *req)
{
    struct digest_params d;

    return digest_params(n, req, &d);
}

static int
put_digest_fields(struct pc_buf *b, const struct pc_digest *d)
{
    uint8_t h[PC_HASH_LEN];

    pc_digest_final(d, h);
    return pc_buf_printf(b, "\"records\":%llu,\"versions\":%llu",
                         (unsigned long long)d->records,
                         (unsigned long long)d->versions) |
                   api_put_hex(b, "digest", h, PC_HASH_LEN)
               ? PC_ENOMEM
               : PC_OK;
}

/* One page of entries: the ids that existed at the revision and that the
 * caller may see, in byte order. */
struct entries_page {
    struct node *n;
    const struct fsm_principal *p;
    uint64_t at;
    size_t limit, visits;
    char **ids;
    size_t n_ids;
    uint8_t last[FSM_RECORD_KEY_MAX]; /* the last id visited */
    size_t last_len;
    bool more;
    int rc;
};

static bool
entries_page_cb(void *arg, struct pc_slice id, uint64_t latest,
                uint64_t latest_rev)
{
    struct entries_page *pg = arg;
    struct idx_key k = { FACT_ENTRY, { NULL, 0 }, id };
    const struct fsm_entry *e;
    uint64_t v, rev;
    char *s;

    (void)latest, (void)latest_rev;
    if (pg->n_ids == pg->limit ||
        pg->visits == pg->limit * DIGEST_VISITS_PER_ITEM) {
        pg->more = true;
        return false;
    }
    pg->visits++;
    memcpy(pg->last, id.p, id.len);
    pg->last_len = id.len;
    if (idx_version_at(led_idx(fsm_led(pg->n->fsm)), &k, pg->at, &v, &rev) !=
        PC_OK) {
        return true; /* created after the page's revision */
    }
    s = pc_strndup((const char *)id.p, id.len);
    if (s == NULL) {
        pg->rc = PC_ENOMEM;
        return false;
    }
    e = fsm_entry(pg->n->fsm, s);
    if (e == NULL || !fsm_may_read_digests(pg->n->fsm, pg->p, e)) {
        pc_free(s);
        return true;
    }
    pg->ids[pg->n_ids++] = s;
    return true;
}

/* GET /v1/ledger/digests: every entry's digest at the revision. */
static void
digests_all(struct node *n, struct http_request *req,
            const struct digest_params *d, const struct fsm_principal *p)
{
    struct entries_page pg;
    struct pc_digest *dg = NULL;
    struct pc_buf b;
    int rc;

    memset(&pg, 0, sizeof(pg));
    pg.n = n;
    pg.p = p;
    pg.at = d->at;
    pg.limit = d->limit;
    pg.ids = pc_calloc(d->limit, sizeof(*pg.ids));
    dg = pc_calloc(d->limit, sizeof(*dg));
    pc_buf_init(&b);
    if (pg.ids == NULL || dg == NULL) {
        rc = PC_ENOMEM;
        goto out;
    }
    idx_scan(led_idx(fsm_led(n->fsm)), FACT_ENTRY, (struct pc_slice){ 0 },
             (struct pc_slice){ 0 },
             (struct pc_slice){ d->after, d->after_len }, entries_page_cb, &pg);
    rc = pg.rc;
    if (rc == PC_OK) {
        rc = fsm_digests_at(n->fsm, d->at, (const char *const *)pg.ids,
                            pg.n_ids, dg);
    }
    if (rc == PC_OK) {
        rc = pc_buf_printf(&b, "{\"revision\":%llu,\"items\":[",
                           (unsigned long long)d->at);
    }
    for (size_t i = 0; rc == PC_OK && i < pg.n_ids; i++) {
        rc = pc_buf_put(&b,
                        i > 0 ? ",{\"entry\":" : "{\"entry\":", i > 0 ? 10 : 9);
        rc |= http_json_string(&b, pg.ids[i], strlen(pg.ids[i]));
        rc |= pc_buf_put_u8(&b, ',');
        rc |= put_digest_fields(&b, &dg[i]);
        rc |= pc_buf_put_u8(&b, '}');
    }
    if (rc == PC_OK) {
        rc = pc_buf_put(&b, "],\"next\":", 9);
        rc |= pg.more ? api_cursor_put(&b, d->at, pg.last, pg.last_len)
                      : pc_buf_put(&b, "null", 4);
        rc |= pc_buf_put_u8(&b, '}');
    }
out:
    for (size_t i = 0; i < pg.n_ids; i++) {
        pc_free(pg.ids[i]);
    }
    pc_free(pg.ids);
    pc_free(dg);
    api_json_buf(n, req, 200, &b, rc == PC_OK ? PC_OK : PC_ENOMEM);
}

/* One page of an entry's records as of a revision. */
struct records_page {
    struct node *n;
    struct pc_slice entry;
    uint64_t at;
    size_t limit, visits, count;
    struct pc_buf *out;
    uint8_t last[FSM_RECORD_KEY_MAX];
    size_t last_len;
    bool more;
    int rc;
};

static bool
records_page_cb(void *arg, struct pc_slice id, uint64_t latest,
                uint64_t latest_rev)
{
    struct records_page *pg = arg;
    struct led *l = fsm_led(pg->n->fsm);
    struct idx_key k = { FACT_RECORD, pg->entry, id };
    uint8_t h[PC_HASH_LEN];
    uint64_t v, rev;
    int rc;

    (void)latest, (void)latest_rev;
    if (pg->count == pg->limit ||
        pg->visits == pg->limit * DIGEST_VISITS_PER_ITEM) {
        pg->more = true;
        return false;
    }
    pg->visits++;
    memcpy(pg->last, id.p, id.len);
    pg->last_len = id.len;
    if (idx_version_at(led_idx(l), &k, pg->at, &v, &rev) != PC_OK) {
        return true; /* created after the page's revision */
    }
    if (led_hash(l, rev, h) != PC_OK) {
        pg->rc = PC_ECORRUPT;
        return false;
    }
    rc = pc_buf_put(pg->out, pg->count > 0 ? ",{\"key\":" : "{\"key\":",
                    pg->count > 0 ? 8 : 7);
    rc |= http_json_string(pg->out, (const char *)id.p, id.len);
    rc |= pc_buf_printf(pg->out, ",\"version\":%llu,\"revision\":%llu",
                        (unsigned long long)v, (unsigned long long)rev);
    rc |= api_put_hex(pg->out, "hash", h, PC_HASH_LEN);
    rc |= pc_buf_put_u8(pg->out, '}');
    pg->count++;
    pg->rc = rc == PC_OK ? PC_OK : PC_ENOMEM;
    return pg->rc == PC_OK;
}

/* GET /v1/ledger/digests?entry=: the entry's digest and its records. */
static void
digests_entry(struct node *n, struct http_request *req,
              const struct digest_params *d, const struct fsm_entry *e)
{
    struct idx_key k = { FACT_ENTRY, { NULL, 0 }, PC_SLICE_STR(e->id) };
    const char *ids[1] = { e->id };
    struct records_page pg;
    struct pc_digest dg;
    uint64_t v, rev;
    struct pc_buf b;
    int rc;

    if (idx_version_at(led_idx(fsm_led(n->fsm)), &k, d->at, &v, &rev) !=
        PC_OK) {
        api_error(n, req, 404, "not_found",
                  "no catalog entry \"%s\" at revision %llu", e->id,
                  (unsigned long long)d->at);
        return;
    }
    rc = fsm_digests_at(n->fsm, d->at, ids, 1, &dg);
    if (rc != PC_OK) {
        api_error(n, req, 503, "unavailable", "digests: %s", pc_strerror(rc));
        return;
    }
    pc_buf_init(&b);
    rc = pc_buf_put(&b, "{\"entry\":", 9);
    rc |= http_json_string(&b, e->id, strlen(e->id));
    rc |= pc_buf_printf(&b, ",\"revision\":%llu,", (unsigned long long)d->at);
    rc |= put_digest_fields(&b, &dg);
    rc |= pc_buf_put(&b, ",\"items\":[", 10);
    memset(&pg, 0, sizeof(pg));
    pg.n = n;
    pg.entry = PC_SLICE_STR(e->id);
    pg.at = d->at;
    pg.limit = d->limit;
    pg.out = &b;
    if (rc == PC_OK) {
        idx_scan(led_idx(fsm_led(n->fsm)), FACT_RECORD, pg.entry,
                 PC_SLICE_STR(d->prefix != NULL ? d->prefix : ""),
                 (struct pc_slice){ d->after, d->after_len }, records_page_cb,
                 &pg);
        rc = pg.rc;
    }
    if (rc == PC_OK) {
        rc = pc_buf_put(&b, "],\"next\":", 9);
        rc |= pg.more ? api_cursor_put(&b, d->at, pg.last, pg.last_len)
                      : pc_buf_put(&b, "null", 4);
        rc |= pc_buf_put_u8(&b, '}');
    }
    api_json_buf(n, req, 200, &b, rc == PC_OK ? PC_OK : PC_ENOMEM);
}

/*
 * GET /v1/ledger/digests[?entry=E]: reconciliation digests at one revision
 * (?at_revision=, at most FSM_DIGEST_WINDOW behind this node's applied
 * revision; the applied one by default; a cursor keeps the first page's).
 * Every entry's digest, or entry E's with its records' heads in key order.
 */
void
api_ledger_digests(struct node *n, struct http_request *req)
{
    const struct fsm_principal *p = api_principal(n, req);
    uint64_t count = led_count(fsm_led(n->fsm));
    const struct fsm_entry *e = NULL;
    struct digest_params d;

    if (!digest_params(n, req, &d)) {
        return;
    }
    if (d.entry != NULL) {
        e = fsm_entry(n->fsm, d.entry);
        if (e == NULL || fsm_entry_visible_rev(n->fsm, e, p) == 0) {
            api_error(n, req, 404, "not_found", "no catalog entry \"%s\"",
                      d.entry);
            return;
        }
    }
    if (!fsm_may_read_digests(n->fsm, p, e)) {
        api_denied(n, req,
                   "digests need role operator or auditor, or an authority "
                   "whose scope holds the entry");
        return;
    }
    if (d.at == 0) {
        d.at = count;
    }
    if (d.at > count || count - d.at > FSM_DIGEST_WINDOW) {
        api_error_with(n, req, 400, "bad_request",
                       json_pack("{s:s}", "field", "at_revision"),
                       "at_revision must be from %llu to this node's applied "
                       "revision %llu (digests go back %u revisions; ask "
                       "min_revision to wait for a later one)",
                       (unsigned long long)(count > FSM_DIGEST_WINDOW
                                                ? count - FSM_DIGEST_WINDOW
                                                : 1),
                       (unsigned long long)count, FSM_DIGEST_WINDOW);
        return;
    }
    if (e != NULL) {
        digests_entry(n, req, &d, e);
    } else {
        digests_all(n, req, &d, p);
    }
}

/* ---- backup: encoded on a worker thread over a frozen view ------------ */

struct backup_job {
    uv_work_t work;
    struct node *n;
    struct http_request *req;
    struct led *led; /* the view's: a restore may replace the fsm's */
    struct led_view *view;
    struct pc_buf out;
    int rc;
    char errmsg[PC_ERRMSG_SIZE];
};

static void
backup_work(uv_work_t *w)
{
    struct backup_job *j = w->data;

    j->rc = snap_encode_buf(j->view, &j->out, j->errmsg);
}

static void
backup_after(uv_work_t *w, int status)
{
    struct backup_job *j = w->data;
    struct node *n = j->n;
    uint8_t root[PC_HASH_LEN];
    char rev[24], hex[PC_HASH_HEX_LEN + 1];
    struct http_header hdr[] = {
        { "Content-Type", "application/octet-stream" },
        { "X-Provcat-Backup-Revision", rev },
        { "X-Provcat-Backup-Root", hex },
        { NULL, NULL },
    };

    led_view_root(j->view, root);
    pc_hex(hex, root, PC_HASH_LEN);
    snprintf(rev, sizeof(rev), "%llu",
             (unsigned long long)led_view_count(j->view));
    led_view_close(j->led, j->view);
    if (status != 0 || j->rc != PC_OK) {
        struct log_field f[6];

        log_write(LOG_LEVEL_WARN, "backup_failed",
                  api_log_fields(j->req, NULL, f, 6), "backup failed: %s",
                  j->errmsg);
        api_error(n, j->req, 500, "internal", "backup failed: %s", j->errmsg);
    } else {
        struct log_field f[8];

        log_write(
            LOG_LEVEL_INFO, "backup_served",
            api_log_fields(
                j->req,
                LOG_FIELDS(LOG_STR("client", api_req(j->req)->client),
                           LOG_STR("revision", rev),
                           LOG_U64("bytes", j->out.len), LOG_STR("root", hex)),
                f, 8),
            "backup served to %s at %s: revision %s, %zu bytes",
            api_req(j->req)->principal, api_req(j->req)->client, rev,
            j->out.len);
        http_respond(j->req, 200, hdr, j->out.data, j->out.len);
    }
    pc_buf_release(&j->out);
    pc_free(j);
}

/* The backup operation applied: encode what this node has applied now,
 * which holds the OPERATION fact recording it. */
static void
backup_allowed(struct node *n, struct http_request *req,
               const struct fsm_result *res, void *ctx)
{
    struct backup_job *j;

    (void)res, (void)ctx;
    j = pc_calloc(1, sizeof(*j));
    if (j != NULL) {
        j->led = fsm_led(n->fsm);
    }
    if (j == NULL || led_view_open(j->led, &j->view) != PC_OK) {
        pc_free(j);
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    j->n = n;
    j->req = req;
    j->work.data = j;
    pc_buf_init(&j->out);
    if (uv_queue_work(n->loop, &j->work, backup_work, backup_after) != 0) {
        led_view_close(j->led, j->view);
        pc_free(j);
        api_error(n, req, 503, "unavailable", "could not start the backup");
    }
}

void
api_backup(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_OPERATION, NULL, false,
                json_pack("{s:s}", "op", "backup"), backup_allowed, NULL);
}
