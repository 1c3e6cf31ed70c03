/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: a precondition is never silently lost. The input is
 * HTTP requests, read by the node's reader and routed by its route table
 * (node/api/table.c). A write's If-Match / If-None-Match go through the
 * common handler's rule (api_precond_parse) and, when taken, into the
 * command exactly as the leader builds it (api_precond_extra; a batch body
 * through fsm_batch_parse and fsm_batch_prepare), which is applied to a
 * state machine holding a published entry "e" with records "k" (version
 * 2) and "r" (retired). Checked for every request:
 *
 *   - a header the route does not honour, a repeated one, both at once or
 *     If-Unmodified-Since is refused, never accepted;
 *   - an If-Match that is taken names exactly the digits the header holds;
 *     a batch item's if_version exactly the digits its literal holds (-1
 *     only when it has none);
 *   - a command that applied found exactly the version it named (If-None-
 *     Match and if_version 0: no live record), so no write went through
 *     without its precondition.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jcs.h"
#include "node/api/api_int.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "node/http/http.h"
#include "node/node.h"
#include "storage/idx.h"
#include "storage/led.h"
#include "tests/fuzz/fuzzlib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SALT     "00112233445566778899aabbccddeeff"
#define SALTED   "{\"salt\":\"" SALT "\"}"
#define DOC      "{\"s\":\"1\"}"
#define RENEW_AT 1000 /* fresh state machine after this many applies */
#define ENTRY_DOC                                                      \
    "{\"id\":\"e\",\"title\":\"e\",\"description\":\"\",\"provider\":" \
    "\"dept\",\"theme\":\"t\",\"keywords\":[],\"fields\":[{\"name\":"  \
    "\"s\",\"type\":\"string\",\"required\":false}],\"share\":{"       \
    "\"class\":\"unconditional\"},\"open\":{\"class\":\"none\"},"      \
    "\"update_frequency\":\"daily\",\"security_level\":1,\"scope\":"   \
    "\"province\"}"

static struct fuzz_fsm z = { .step_ms = 1 };
static struct http_router *router;

static void
setup(void)
{
    fuzz_start(&z, fuzz_hash_hex("t"));
    fuzz_org(&z, "dept", "d", "province", false);
    fuzz_principal(&z, "prov", "dept", "provider", fuzz_hash_hex("p"));
    fuzz_publish(&z, "prov", "e", ENTRY_DOC);
    check(fuzz_run(&z, CMD_RECORD_PUT, "prov", "e/k", DOC, SALTED) == 201);
    check(fuzz_run(&z, CMD_RECORD_PUT, "prov", "e/k", DOC, SALTED) == 200);
    check(fuzz_run(&z, CMD_RECORD_PUT, "prov", "e/r", DOC, SALTED) == 201);
    check(fuzz_run(&z, CMD_RECORD_RETIRE, "prov", "e/r",
                   "{\"reason\":\"gone\"}", "") == 200);
}

/* The current version of record entry/key (0: none) and whether it is
 * retired: what a precondition is compared with. */
static uint64_t
record_version(const char *entry, const char *key, size_t key_len,
               bool *retired)
{
    struct idx_key k = { FACT_RECORD,
                         PC_SLICE_STR(entry),
                         { (const uint8_t *)key, key_len } };
    struct jcs_doc *d;
    struct fact f;
    uint64_t rev, v = idx_latest(led_idx(fsm_led(z.f)), &k, &rev);
    const char *op;
    size_t len;

    *retired = false;
    if (v == 0) {
        return 0;
    }
    check(led_get(fsm_led(z.f), rev, &f) == PC_OK);
    check(jcs_parse((const char *)f.payload.p, f.payload.len, &d, NULL) ==
          PC_OK);
    op = jcs_get(jcs_root(d), "op", 2) != NULL
             ? jcs_string(jcs_get(jcs_root(d), "op", 2), &len)
             : NULL;
    *retired = op != NULL && len == 6 && memcmp(op, "retire", 6) == 0;
    jcs_doc_free(d);
    return v;
}

/* How many times header `name` appears, and its first value. */
static size_t
count_header(const struct http_request *req, const char *name,
             const char **first)
{
    size_t n = 0;

    *first = NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            *first = n++ == 0 ? req->headers[i].value : *first;
        }
    }
    return n;
}

/* The preconditions taken are exactly those the request holds. */
static void
check_taken(const struct http_request *req, unsigned needs, bool ok,
            const struct api_precond *p)
{
    const char *im, *inm, *ius;
    size_t n_im = count_header(req, "If-Match", &im);
    size_t n_inm = count_header(req, "If-None-Match", &inm);
    size_t n_ius = count_header(req, "If-Unmodified-Since", &ius);
    char digits[32];
    size_t len;

    if (!(needs & API_WRITE)) {
        check(ok && p->if_match == 0 && !p->if_none_match);
        return;
    }
    if (!ok) {
        return;
    }
    check(n_im <= 1 && n_inm <= 1 && n_ius == 0 && n_im + n_inm <= 1);
    check(n_im == 0 || (needs & API_IF_MATCH));
    check(n_inm == 0 || (needs & API_IF_NONE_MATCH));
    check(p->if_none_match == (n_inm == 1));
    check(n_inm == 0 || strcmp(inm, "*") == 0);
    if (n_im == 0) {
        check(p->if_match == 0);
        return;
    }
    len = strlen(im);
    if (len >= 2 && im[0] == '"' && im[len - 1] == '"') {
        im++;
        len -= 2;
    }
    snprintf(digits, sizeof(digits), "%llu", (unsigned long long)p->if_match);
    check(p->if_match >= 1 && p->if_match <= FSM_VERSION_MAX);
    check(strlen(digits) == len && memcmp(digits, im, len) == 0);
}

/* The extra the leader proposes with the preconditions `p`. */
static char *
extra_for(const struct api_precond *p, bool salted)
{
    json_t *x = json_object();
    char *s;

    check(x != NULL && api_precond_extra(x, p) == 0);
    if (salted) {
        json_object_set_new(x, "salt", json_string(SALT));
    }
    s = json_dumps(x, JSON_COMPACT);
    check(s != NULL);
    json_decref(x);
    return s;
}

/* A record write (PUT, retire, correct) with its preconditions. */
static void
record_write(const struct http_request *req, uint32_t type,
             const struct api_precond *p, bool salted)
{
    const char *entry = req->caps[0], *key = req->caps[1];
    char *extra = extra_for(p, salted);
    char target[1024];
    bool retired;
    uint64_t before;
    int status;

    /* the route's parse refuses other ids (and a '/' would move the
     * split between entry and key) */
    if (!fsm_id_valid(entry, strlen(entry)) ||
        strlen(entry) + strlen(key) + 2 > sizeof(target)) {
        free(extra);
        return;
    }
    snprintf(target, sizeof(target), "%s/%s", entry, key);
    before = record_version(entry, key, strlen(key), &retired);
    status =
        fuzz_apply(&z, type, "prov", target, req->body, req->body_len, extra)
            .status;
    free(extra);
    if (status >= 300) {
        return; /* refused: nothing written */
    }
    if (p->if_match > 0) {
        check(before == p->if_match);
    }
    if (p->if_none_match) {
        check(before == 0 || retired);
    }
}

/* An entry PUT: apply compares the If-Match with the entry's version. */
static void
entry_write(const struct http_request *req, const struct api_precond *p)
{
    const struct fsm_entry *e = fsm_entry(z.f, req->caps[0]);
    uint64_t before = e != NULL ? e->version : 0;
    char *extra;
    int status;

    if (!fsm_id_valid(req->caps[0], strlen(req->caps[0]))) {
        return;
    }
    extra = extra_for(p, false);
    status = fuzz_apply(&z, CMD_ENTRY_UPDATE, "prov", req->caps[0], req->body,
                        req->body_len, extra)
                 .status;
    free(extra);
    if (status < 300) {
        check(p->if_match > 0 && before == p->if_match);
    }
}

/* The digits of item `i`'s "if_version" literal in `body` (NULL when the
 * item has none): read apart from fsm_batch_parse. */
static const char *
literal_of(const struct jcs_doc *d, const char *body, size_t i, size_t *len)
{
    const struct jcs_val *recs = jcs_get(jcs_root(d), "records", 7);
    const struct jcs_val *v = jcs_get(jcs_at(recs, i), "if_version", 10);
    const char *s;

    if (v == NULL) {
        return NULL;
    }
    s = body + jcs_offset(v);
    for (*len = 0; s[*len] != '\0' && strchr("-+.eE0123456789", s[*len]);
         (*len)++) {
    }
    return s;
}

static void
batch_write(const struct http_request *req)
{
    char msg[200], field[FSM_FIELD_LEN], digits[32];
    const char *body = (const char *)req->body;
    struct fsm_batch b;
    struct jcs_doc *d;
    struct pc_buf prep;
    uint8_t *salts;
    uint64_t *before;
    bool *retired;
    long index;
    int status;

    if (!fsm_id_valid(req->caps[0], strlen(req->caps[0])) ||
        fsm_batch_parse(body, req->body_len, &b, msg, field, &index) != PC_OK) {
        return; /* refused with 400: nothing proposed */
    }
    /* the body parsed, so it is JSON: read each if_version literal */
    check(jcs_parse(body, req->body_len, &d, NULL) == PC_OK);
    before = calloc(b.n, sizeof(*before));
    retired = calloc(b.n, sizeof(*retired));
    salts = calloc(b.n, PC_SALT_LEN);
    check(before != NULL && retired != NULL && salts != NULL);
    for (size_t i = 0; i < b.n; i++) {
        size_t len = 0;
        const char *lit = literal_of(d, body, i, &len);

        if (lit == NULL) {
            check(b.items[i].if_version == -1);
        } else {
            check(b.items[i].if_version >= 0);
            snprintf(digits, sizeof(digits), "%lld",
                     (long long)b.items[i].if_version);
            check(strlen(digits) == len && memcmp(digits, lit, len) == 0);
        }
        before[i] = record_version(req->caps[0], b.items[i].key,
                                   b.items[i].key_len, &retired[i]);
    }
    jcs_doc_free(d);
    pc_buf_init(&prep);
    check(fsm_batch_prepare(z.f, req->caps[0], &b, salts, &prep) == PC_OK);
    status = fuzz_apply(&z, CMD_RECORD_BATCH2, "prov", req->caps[0], prep.data,
                        prep.len, "")
                 .status;
    pc_buf_release(&prep);
    for (size_t i = 0; status < 300 && i < b.n; i++) {
        int64_t iv = b.items[i].if_version;

        check(iv != 0 || before[i] == 0 || retired[i]);
        check(iv <= 0 || before[i] == (uint64_t)iv);
    }
    fsm_batch_release(&b);
    free(before);
    free(retired);
    free(salts);
}

static void
one_request(struct http_request *req)
{
    const struct api_route *r;
    const struct http_route *rt;
    const char *field = NULL, *msg = NULL;
    struct api_precond p;
    char allow[64];
    int status = 0;
    bool ok;

    rt = http_router_match(router, req, &status, allow, sizeof(allow));
    if (rt == NULL || rt->arg == NULL) {
        return;
    }
    r = rt->arg;
    ok = api_precond_parse(req, r->needs, &p, &field, &msg);
    check(ok || (field != NULL && msg != NULL && strlen(msg) > 0));
    check_taken(req, r->needs, ok, &p);
    if (!ok || !(r->needs & API_WRITE)) {
        return;
    }
    if (strcmp(r->pattern, "/v1/catalog/{id}/records/{key}") == 0) {
        record_write(req, CMD_RECORD_PUT, &p, true);
    } else if (strcmp(r->pattern, "/v1/catalog/{id}/records/{key}/retire") ==
               0) {
        record_write(req, CMD_RECORD_RETIRE, &p, false);
    } else if (strcmp(r->pattern, "/v1/catalog/{id}/records/{key}/correct") ==
               0) {
        record_write(req, CMD_RECORD_CORRECT, &p, true);
    } else if (strcmp(r->pattern, "/v1/catalog/{id}") == 0) {
        entry_write(req, &p);
    } else if (strcmp(r->pattern, "/v1/catalog/{id}/records:batch") == 0) {
        batch_write(req);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errmsg[PC_ERRMSG_SIZE];
    struct http_limits l;
    struct http_reader *rd;
    size_t off = 0;

    if (router == NULL) {
        check(api_router_new(&router, errmsg) == PC_OK);
    }
    if (z.f == NULL || z.applies >= RENEW_AT) {
        setup();
    }
    http_limits_default(&l);
    l.max_body_bytes = 64 << 10;
    if (http_reader_new(&l, "127.0.0.1", &rd) != PC_OK) {
        return 0;
    }
    while (off < size) {
        struct http_request *req;
        size_t used;

        if (http_reader_feed(rd, (const char *)data + off, size - off, &used,
                             &req) != PC_OK) {
            break;
        }
        off += used;
        if (req == NULL) {
            if (used == 0) {
                break;
            }
            continue;
        }
        one_request(req);
        http_respond_error(req, 400, "bad_request", "done");
        if (http_reader_close_after(rd)) {
            break;
        }
    }
    http_reader_free(rd);
    return 0;
}
