/* SPDX-License-Identifier: MIT */
/*
 * Ledger routes: the root (GET /v1/ledger), RFC 6962 inclusion and
 * consistency proofs, the facts one by one for those who may inspect the
 * whole ledger (fsm_may_inspect_ledger), and backups: an operation apply
 * decides (CMD_OPERATION, the role operator), then encoded on a worker
 * thread over a frozen view of the ledger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
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

static json_t *
hex_json(const uint8_t h[PC_HASH_LEN])
{
    char hex[PC_HASH_HEX_LEN + 1];

    pc_hex(hex, h, PC_HASH_LEN);
    return json_string(hex);
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
                       hex_json(root)));
}

static json_t *
path_json(uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], size_t len)
{
    json_t *a = json_array();

    for (size_t i = 0; i < len; i++) {
        json_array_append_new(a, hex_json(path[i]));
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
                       hex_json(leaf), "path", path_json(path, len), "root",
                       hex_json(root)));
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
                       "from_root", hex_json(r1), "to_root", hex_json(r2)));
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
put_hex(struct pc_buf *b, const char *name, const uint8_t *p, size_t len)
{
    return pc_buf_printf(b, ",\"%s\":\"", name) | pc_buf_put_hex(b, p, len) |
                   pc_buf_put_u8(b, '"')
               ? PC_ENOMEM
               : PC_OK;
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
    rc |= put_hex(b, "hash", h, PC_HASH_LEN);
    if (f.has_prev) {
        rc |= put_hex(b, "prev_hash", f.prev_hash, PC_HASH_LEN);
    }
    if (f.has_content) {
        rc |= put_hex(b, "content_hash", f.content_hash, PC_HASH_LEN);
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
