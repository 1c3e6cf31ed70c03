/* SPDX-License-Identifier: MIT */
/*
 * Read-audit batches in encoding 2: the events of one AUDIT fact are the
 * fact's document (salted, LZ4-compressed by the ledger like any
 * document), written as columns over per-batch dictionaries, so that an
 * audited read costs the ledger some 20 bytes rather than the ~200 of a
 * JSON object per event (docs/format.md, "Audit batches"; docs/bench.md
 * has the measurements). The leader builds a batch (fsm_audit_doc_*),
 * apply checks it and appends it (fsm_audit_apply_doc), and
 * fsm_audit_events reads the events of any audit fact back, in either
 * encoding.
 *
 * The document, canonical JSON with n events (1..FSM_AUDIT_MAX):
 *
 *   principals, orgs  the readers: principals[i] of org orgs[i] (null for
 *                     a citizen)
 *   actions, entries, via
 *                     dictionaries of strings; via holds grant ids
 *                     ("gr-<rev>", "or-<rev>")
 *   t0                the batch's earliest event time, ms
 *   p, a, e           per event: index into principals, actions, entries
 *   w                 per event: index into via, or -1
 *   k                 per event: the record key, or null
 *   v                 per event: the record version, 0 when none
 *   c                 per event: the count of a listing, -1 when none
 *   t                 per event: its time minus t0, ms (>= 0)
 *
 * Every column holds n items. Dictionaries list their strings in the order
 * of first use, so the same events always give the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/jcs.h"
#include "common/map.h"
#include "common/timefmt.h"
#include "node/fsm/fsm_int.h"

#define NO_SLICE ((struct pc_slice){ NULL, 0 })
#define KEY_MAX  FSM_RECORD_KEY_MAX
#define STR_MAX  FACT_MAX_ID

/* ---- the leader's batch ----------------------------------------------- */

/* Strings in order of first use, with their index. */
struct dict {
    struct pc_map idx; /* string -> index + 1 */
    char **s;
    size_t *len;
    size_t n, cap;
    size_t bytes; /* what the strings take in the document, at most */
};

struct fsm_audit_doc {
    struct dict principals; /* key: principal NUL org (or NUL NUL NUL) */
    char **porg;            /* org of each principals entry, or NULL */
    struct dict actions, entries, via;
    uint32_t *p, *a, *e;
    int32_t *w;
    char **k;
    size_t *klen;
    uint64_t *v;
    int64_t *c, *at;
    size_t n, cap;
    size_t bytes;
};

static void
dict_release(struct dict *d)
{
    for (size_t i = 0; i < d->n; i++) {
        pc_free(d->s[i]);
    }
    pc_free(d->s);
    pc_free(d->len);
    pc_map_release(&d->idx);
    memset(d, 0, sizeof(*d));
    pc_map_init(&d->idx);
}

/* The index of `s` (`len` bytes; lookup key `key`/`klen`), added if new:
 * PC_OK or PC_ENOMEM. */
static int
dict_index(struct dict *d, const char *key, size_t klen, const char *s,
           size_t len, uint32_t *out)
{
    uintptr_t v = (uintptr_t)pc_map_get(&d->idx, key, klen);
    char *copy;

    if (v != 0) {
        *out = (uint32_t)(v - 1);
        return PC_OK;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 16;
        char **ns = pc_realloc(d->s, cap * sizeof(*ns));
        size_t *nl;

        if (ns == NULL) {
            return PC_ENOMEM;
        }
        d->s = ns;
        nl = pc_realloc(d->len, cap * sizeof(*nl));
        if (nl == NULL) {
            return PC_ENOMEM;
        }
        d->len = nl;
        d->cap = cap;
    }
    copy = pc_strndup(s, len);
    if (copy == NULL) {
        return PC_ENOMEM;
    }
    if (pc_map_put(&d->idx, key, klen, (void *)(uintptr_t)(d->n + 1), NULL) !=
        PC_OK) {
        pc_free(copy);
        return PC_ENOMEM;
    }
    d->s[d->n] = copy;
    d->len[d->n] = len;
    d->bytes += 3 + 6 * len; /* quotes, comma, \u00XX escapes at worst */
    *out = (uint32_t)d->n++;
    return PC_OK;
}

static int
dict_str(struct dict *d, const char *s, uint32_t *out)
{
    return dict_index(d, s, strlen(s), s, strlen(s), out);
}

int
fsm_audit_doc_new(struct fsm_audit_doc **out)
{
    struct fsm_audit_doc *d = pc_calloc(1, sizeof(*d));

    if (d == NULL) {
        return PC_ENOMEM;
    }
    pc_map_init(&d->principals.idx);
    pc_map_init(&d->actions.idx);
    pc_map_init(&d->entries.idx);
    pc_map_init(&d->via.idx);
    *out = d;
    return PC_OK;
}

/* Forget every event and dictionary string; keeps the column arrays. */
static void
doc_clear(struct fsm_audit_doc *d)
{
    for (size_t i = 0; i < d->principals.n; i++) {
        pc_free(d->porg[i]);
    }
    pc_free(d->porg);
    d->porg = NULL;
    dict_release(&d->principals);
    dict_release(&d->actions);
    dict_release(&d->entries);
    dict_release(&d->via);
    for (size_t i = 0; i < d->n; i++) {
        pc_free(d->k[i]);
    }
    d->n = 0;
    d->bytes = 0;
}

void
fsm_audit_doc_free(struct fsm_audit_doc *d)
{
    if (d == NULL) {
        return;
    }
    doc_clear(d);
    pc_map_release(&d->principals.idx);
    pc_map_release(&d->actions.idx);
    pc_map_release(&d->entries.idx);
    pc_map_release(&d->via.idx);
    pc_free(d->p);
    pc_free(d->a);
    pc_free(d->e);
    pc_free(d->w);
    pc_free(d->k);
    pc_free(d->klen);
    pc_free(d->v);
    pc_free(d->c);
    pc_free(d->at);
    pc_free(d);
}

#define GROW(arr, cap)                                         \
    do {                                                       \
        void *np_ = pc_realloc((arr), (cap) * sizeof(*(arr))); \
        if (np_ == NULL) {                                     \
            return PC_ENOMEM;                                  \
        }                                                      \
        (arr) = np_;                                           \
    } while (0)

static int
doc_grow(struct fsm_audit_doc *d)
{
    size_t cap = d->cap ? 2 * d->cap : 64;

    GROW(d->p, cap);
    GROW(d->a, cap);
    GROW(d->e, cap);
    GROW(d->w, cap);
    GROW(d->k, cap);
    GROW(d->klen, cap);
    GROW(d->v, cap);
    GROW(d->c, cap);
    GROW(d->at, cap);
    d->cap = cap;
    return PC_OK;
}

/* The principals dictionary is keyed by (principal, org). */
static int
principal_index(struct fsm_audit_doc *d, const char *principal, const char *org,
                uint32_t *out)
{
    size_t pl = strlen(principal), ol = org ? strlen(org) : 2;
    char key[2 * STR_MAX + 4];
    size_t before = d->principals.n;
    int rc;

    if (pl > STR_MAX || ol > STR_MAX) {
        return PC_EINVAL;
    }
    memcpy(key, principal, pl);
    key[pl] = '\0';
    memcpy(key + pl + 1, org ? org : "\0\0", ol);
    if (d->principals.n == d->principals.cap) {
        /* porg grows with the dictionary (before dict_index may add). */
        size_t cap = d->principals.cap ? 2 * d->principals.cap : 16;
        GROW(d->porg, cap);
    }
    rc = dict_index(&d->principals, key, pl + 1 + ol, principal, pl, out);
    if (rc == PC_OK && d->principals.n > before) {
        d->porg[*out] = NULL;
        if (org != NULL && (d->porg[*out] = pc_strdup(org)) == NULL) {
            /* The dictionary keeps a NULL org: drop the entry again. */
            pc_map_del(&d->principals.idx, key, pl + 1 + ol);
            pc_free(d->principals.s[--d->principals.n]);
            d->principals.bytes -= 3 + 6 * pl;
            return PC_ENOMEM;
        }
        d->principals.bytes += 3 + (org != NULL ? 6 * ol : 4);
    }
    return rc;
}

static size_t
digits(uint64_t v)
{
    size_t n = 1;

    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

int
fsm_audit_doc_add(struct fsm_audit_doc *d, const struct fsm_audit_event *e)
{
    uint32_t p, a, en, w = 0;
    char *k = NULL;
    int rc;

    if (d->n == d->cap && (rc = doc_grow(d)) != PC_OK) {
        return rc;
    }
    /* A dictionary string added before a later step fails stays unused:
     * harmless, as the document is written from the events. */
    rc = principal_index(d, e->principal, e->org, &p);
    if (rc == PC_OK) {
        rc = dict_str(&d->actions, e->action, &a);
    }
    if (rc == PC_OK) {
        rc = dict_str(&d->entries, e->entry, &en);
    }
    if (rc == PC_OK && e->via != NULL) {
        rc = dict_str(&d->via, e->via, &w);
    }
    if (rc == PC_OK && e->key != NULL &&
        (k = pc_strndup(e->key, e->key_len)) == NULL) {
        rc = PC_ENOMEM;
    }
    if (rc != PC_OK) {
        return rc;
    }
    d->p[d->n] = p;
    d->a[d->n] = a;
    d->e[d->n] = en;
    d->w[d->n] = e->via != NULL ? (int32_t)w : -1;
    d->k[d->n] = k;
    d->klen[d->n] = e->key != NULL ? e->key_len : 0;
    d->v[d->n] = e->version;
    d->c[d->n] = e->count;
    d->at[d->n] = e->at_ms;
    d->n++;
    /* Its column items (each with a comma; a time at most 17 digits
     * after t0) and its key, escapes at worst: never less than written. */
    d->bytes += digits(p) + digits(a) + digits(en) + digits(w) + 1 +
                digits(e->version) + digits((uint64_t)llabs(e->count)) + 1 +
                17 + 7 + (k != NULL ? 3 + 6 * d->klen[d->n - 1] : 5);
    return PC_OK;
}

size_t
fsm_audit_doc_count(const struct fsm_audit_doc *d)
{
    return d->n;
}

size_t
fsm_audit_doc_bytes(const struct fsm_audit_doc *d)
{
    return d->bytes + 200 + d->principals.bytes + d->actions.bytes +
           d->entries.bytes + d->via.bytes;
}

static void
w_dict(struct jcs_writer *w, const char *name, const struct dict *d)
{
    jcs_w_key(w, name);
    jcs_w_arr(w);
    for (size_t i = 0; i < d->n; i++) {
        jcs_w_strn(w, d->s[i], d->len[i]);
    }
    jcs_w_arr_end(w);
}

static void
w_u32s(struct jcs_writer *w, const char *name, const uint32_t *v, size_t n)
{
    jcs_w_key(w, name);
    jcs_w_arr(w);
    for (size_t i = 0; i < n; i++) {
        jcs_w_int(w, v[i]);
    }
    jcs_w_arr_end(w);
}

int
fsm_audit_doc_finish(struct fsm_audit_doc *d, struct pc_buf *out)
{
    struct jcs_writer w;
    int64_t t0 = d->n > 0 ? d->at[0] : 0;
    int rc;

    for (size_t i = 1; i < d->n; i++) {
        t0 = d->at[i] < t0 ? d->at[i] : t0;
    }
    jcs_w_init(&w, out);
    jcs_w_obj(&w);
    w_u32s(&w, "a", d->a, d->n);
    w_dict(&w, "actions", &d->actions);
    jcs_w_key(&w, "c");
    jcs_w_arr(&w);
    for (size_t i = 0; i < d->n; i++) {
        jcs_w_int(&w, d->c[i]);
    }
    jcs_w_arr_end(&w);
    w_u32s(&w, "e", d->e, d->n);
    w_dict(&w, "entries", &d->entries);
    jcs_w_key(&w, "k");
    jcs_w_arr(&w);
    for (size_t i = 0; i < d->n; i++) {
        if (d->k[i] != NULL) {
            jcs_w_strn(&w, d->k[i], d->klen[i]);
        } else {
            jcs_w_null(&w);
        }
    }
    jcs_w_arr_end(&w);
    jcs_w_key(&w, "orgs");
    jcs_w_arr(&w);
    for (size_t i = 0; i < d->principals.n; i++) {
        if (d->porg[i] != NULL) {
            jcs_w_str(&w, d->porg[i]);
        } else {
            jcs_w_null(&w);
        }
    }
    jcs_w_arr_end(&w);
    w_u32s(&w, "p", d->p, d->n);
    w_dict(&w, "principals", &d->principals);
    jcs_w_key(&w, "t");
    jcs_w_arr(&w);
    for (size_t i = 0; i < d->n; i++) {
        jcs_w_int(&w, d->at[i] - t0);
    }
    jcs_w_arr_end(&w);
    jcs_w_kint(&w, "t0", t0);
    jcs_w_key(&w, "v");
    jcs_w_arr(&w);
    for (size_t i = 0; i < d->n; i++) {
        jcs_w_int(&w, (int64_t)d->v[i]);
    }
    jcs_w_arr_end(&w);
    w_dict(&w, "via", &d->via);
    jcs_w_key(&w, "w");
    jcs_w_arr(&w);
    for (size_t i = 0; i < d->n; i++) {
        jcs_w_int(&w, d->w[i]);
    }
    jcs_w_arr_end(&w);
    jcs_w_obj_end(&w);
    rc = jcs_w_finish(&w);
    if (rc == PC_OK) {
        doc_clear(d);
    }
    return rc;
}

/* ---- checking a document (apply and the decoder) ----------------------- */

/* The parsed columns of a document; values borrow from its jcs_doc. */
struct cols {
    const struct jcs_val *principals, *orgs, *actions, *entries, *via;
    const struct jcs_val *p, *a, *e, *w, *k, *v, *c, *t;
    int64_t t0;
    size_t n;
};

static bool
int_in(const struct jcs_val *v, int64_t lo, int64_t hi, int64_t *out)
{
    double d;

    if (v == NULL || !jcs_is_int_literal(v) || !jcs_is_integer(v)) {
        return false;
    }
    d = jcs_number(v);
    if (d < (double)lo || d > (double)hi) {
        return false;
    }
    *out = (int64_t)d;
    return true;
}

/* An array of strings of 1..`max` bytes, or (nullable) nulls. */
static bool
strings_ok(const struct jcs_val *v, size_t max, bool nullable)
{
    if (v == NULL || jcs_type(v) != JCS_ARRAY) {
        return false;
    }
    for (size_t i = 0; i < jcs_len(v); i++) {
        const struct jcs_val *s = jcs_at(v, i);
        size_t len;

        if (nullable && jcs_type(s) == JCS_NULL) {
            continue;
        }
        if (jcs_string(s, &len) == NULL || len < 1 || len > max ||
            memchr(jcs_string(s, NULL), 0, len) != NULL) {
            return false;
        }
    }
    return true;
}

/* A column of n integers in [lo, hi]. */
static bool
ints_ok(const struct jcs_val *v, size_t n, int64_t lo, int64_t hi)
{
    int64_t x;

    if (v == NULL || jcs_type(v) != JCS_ARRAY || jcs_len(v) != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!int_in(jcs_at(v, i), lo, hi, &x)) {
            return false;
        }
    }
    return true;
}

/* Whether `root` is a well-formed encoding-2 document: PC_OK with `c`, or
 * PC_EINVAL with the reason in `msg` (200 bytes). */
static int
cols_read(const struct jcs_val *root, struct cols *c, char *msg)
{
    static const char *const members[] = {
        "a",          "actions", "c",  "e", "entries", "k", "orgs", "p",
        "principals", "t",       "t0", "v", "via",     "w", NULL,
    };
    const char *unknown;
    size_t np, na, ne, nv;

    memset(c, 0, sizeof(*c));
    if (jcs_type(root) != JCS_OBJECT) {
        snprintf(msg, 200, "an audit document must be an object");
        return PC_EINVAL;
    }
    unknown = fsm_unknown_member(root, members);
    if (unknown != NULL) {
        snprintf(msg, 200, "unknown member \"%.64s\" in an audit document",
                 unknown);
        return PC_EINVAL;
    }
    c->principals = fsm_get(root, "principals");
    c->orgs = fsm_get(root, "orgs");
    c->actions = fsm_get(root, "actions");
    c->entries = fsm_get(root, "entries");
    c->via = fsm_get(root, "via");
    if (!strings_ok(c->principals, STR_MAX, false) ||
        !strings_ok(c->orgs, STR_MAX, true) ||
        jcs_len(c->orgs) != jcs_len(c->principals) ||
        !strings_ok(c->actions, 64, false) ||
        !strings_ok(c->entries, STR_MAX, false) ||
        !strings_ok(c->via, 64, false)) {
        snprintf(msg, 200, "bad dictionary in an audit document");
        return PC_EINVAL;
    }
    np = jcs_len(c->principals);
    na = jcs_len(c->actions);
    ne = jcs_len(c->entries);
    nv = jcs_len(c->via);
    c->p = fsm_get(root, "p");
    c->n = c->p != NULL && jcs_type(c->p) == JCS_ARRAY ? jcs_len(c->p) : 0;
    if (c->n < 1 || c->n > FSM_AUDIT_MAX) {
        snprintf(msg, 200, "an audit batch holds 1-%d events", FSM_AUDIT_MAX);
        return PC_EINVAL;
    }
    c->a = fsm_get(root, "a");
    c->e = fsm_get(root, "e");
    c->w = fsm_get(root, "w");
    c->k = fsm_get(root, "k");
    c->v = fsm_get(root, "v");
    c->c = fsm_get(root, "c");
    c->t = fsm_get(root, "t");
    if (!ints_ok(c->p, c->n, 0, (int64_t)np - 1) ||
        !ints_ok(c->a, c->n, 0, (int64_t)na - 1) ||
        !ints_ok(c->e, c->n, 0, (int64_t)ne - 1) ||
        !ints_ok(c->w, c->n, -1, (int64_t)nv - 1) ||
        !ints_ok(c->v, c->n, 0, INT64_C(9007199254740991)) ||
        !ints_ok(c->c, c->n, -1, INT64_C(9007199254740991)) ||
        !ints_ok(c->t, c->n, 0, INT64_C(9007199254740991)) ||
        !int_in(fsm_get(root, "t0"), 0, INT64_C(9007199254740991), &c->t0) ||
        !strings_ok(c->k, KEY_MAX, true) || jcs_len(c->k) != c->n) {
        snprintf(msg, 200, "bad column in an audit document");
        return PC_EINVAL;
    }
    return PC_OK;
}

/* ---- apply ------------------------------------------------------------ */

int
fsm_audit_apply_doc(struct fsm_ctx *c)
{
    uint8_t salt[PC_SALT_LEN];
    char msg[200] = "malformed audit batch";
    struct jcs_doc *d = NULL, *x = NULL;
    const char *hex;
    struct jcs_writer w;
    struct pc_buf doc, p;
    struct led_doc ld;
    struct cols cols;
    size_t hlen;
    int rc;

    /* The salt, in the extra: {"salt": "<32 hex digits>"}. */
    rc = c->cmd->extra.len > 0
             ? fsm_parse(c->cmd->extra.p, c->cmd->extra.len, &x, NULL)
             : PC_EINVAL;
    if (rc == PC_ENOMEM) {
        return rc;
    }
    hex = rc == PC_OK ? fsm_get_str(jcs_root(x), "salt", &hlen) : NULL;
    if (hex == NULL || !pc_unhex(salt, PC_SALT_LEN, hex, hlen)) {
        jcs_doc_free(x);
        return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                          "an audit batch needs a 16-byte salt");
    }
    jcs_doc_free(x);
    rc = fsm_parse(c->cmd->body.p, c->cmd->body.len, &d, NULL);
    if (rc == PC_ENOMEM) {
        return rc;
    }
    if (rc == PC_OK) {
        rc = cols_read(jcs_root(d), &cols, msg);
    }
    if (rc != PC_OK) {
        jcs_doc_free(d);
        return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE, "%s", msg);
    }
    pc_buf_init(&doc);
    rc = jcs_emit(d, &doc);
    jcs_doc_free(d);
    if (rc != PC_OK) {
        pc_buf_release(&doc);
        return rc;
    }
    if (doc.len > FACT_MAX_DOC) {
        pc_buf_release(&doc);
        return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                          "an audit document is at most %u bytes",
                          FACT_MAX_DOC);
    }
    pc_buf_init(&p);
    jcs_w_init(&w, &p);
    jcs_w_obj(&w);
    jcs_w_kint(&w, "encoding", 2);
    jcs_w_kint(&w, "events", (int64_t)cols.n);
    jcs_w_obj_end(&w);
    rc = jcs_w_finish(&w);
    if (rc == PC_OK) {
        ld = (struct led_doc){ salt, doc.data, doc.len };
        rc = fsm_emit_canonical(c, FACT_AUDIT, NO_SLICE, NO_SLICE,
                                (struct pc_slice){ p.data, p.len }, &ld);
    }
    pc_buf_release(&p);
    pc_buf_release(&doc);
    return rc;
}

/* ---- reading events back ---------------------------------------------- */

static const char *
str_at(const struct jcs_val *arr, int64_t i)
{
    return jcs_string(jcs_at(arr, (size_t)i), NULL);
}

static int64_t
int_at(const struct jcs_val *arr, size_t i)
{
    return (int64_t)jcs_number(jcs_at(arr, i));
}

static int
events_doc(const struct led *l, uint64_t rev, fsm_audit_event_cb cb, void *arg)
{
    struct pc_buf json;
    struct jcs_doc *d;
    struct cols c;
    char msg[200];
    int rc;

    pc_buf_init(&json);
    rc = led_doc_get(l, rev, &json, NULL);
    if (rc != PC_OK) {
        pc_buf_release(&json);
        return rc == PC_ENOTFOUND ? PC_ECORRUPT : rc;
    }
    rc = jcs_parse((const char *)json.data, json.len, &d, NULL);
    pc_buf_release(&json);
    if (rc != PC_OK) {
        return rc == PC_ENOMEM ? rc : PC_ECORRUPT;
    }
    if (cols_read(jcs_root(d), &c, msg) != PC_OK) {
        jcs_doc_free(d);
        return PC_ECORRUPT;
    }
    for (size_t i = 0; i < c.n; i++) {
        struct fsm_audit_event e;
        int64_t pi = int_at(c.p, i), w = int_at(c.w, i);
        const struct jcs_val *k = jcs_at(c.k, i);

        memset(&e, 0, sizeof(e));
        e.principal = str_at(c.principals, pi);
        e.org = str_at(c.orgs, pi); /* NULL for null */
        e.action = str_at(c.actions, int_at(c.a, i));
        e.entry = str_at(c.entries, int_at(c.e, i));
        e.key = jcs_string(k, &e.key_len);
        e.version = (uint64_t)int_at(c.v, i);
        e.count = int_at(c.c, i);
        e.at_ms = c.t0 + int_at(c.t, i);
        e.via = w >= 0 ? str_at(c.via, w) : NULL;
        if (!cb(arg, &e)) {
            break;
        }
    }
    jcs_doc_free(d);
    return PC_OK;
}

/* Events of the first encoding: {"events": [{"principal", "org", "action",
 * "entry", "at", "key"?, "version"?, "count"?}, ...]} in the payload. */
static int
events_payload(const struct jcs_val *root, fsm_audit_event_cb cb, void *arg)
{
    const struct jcs_val *ev = fsm_get(root, "events");

    if (ev == NULL || jcs_type(ev) != JCS_ARRAY) {
        return PC_ECORRUPT;
    }
    for (size_t i = 0; i < jcs_len(ev); i++) {
        const struct jcs_val *o = jcs_at(ev, i), *v;
        struct fsm_audit_event e;
        const char *at;

        memset(&e, 0, sizeof(e));
        e.principal = fsm_get_str(o, "principal", NULL);
        e.org = fsm_get_str(o, "org", NULL);
        e.action = fsm_get_str(o, "action", NULL);
        e.entry = fsm_get_str(o, "entry", NULL);
        e.key = fsm_get_str(o, "key", &e.key_len);
        at = fsm_get_str(o, "at", NULL);
        if (e.principal == NULL || e.action == NULL || e.entry == NULL ||
            at == NULL || pc_time_parse(at, &e.at_ms) != PC_OK) {
            return PC_ECORRUPT;
        }
        v = fsm_get(o, "version");
        e.version = v != NULL ? (uint64_t)jcs_number(v) : 0;
        v = fsm_get(o, "count");
        e.count = v != NULL ? (int64_t)jcs_number(v) : -1;
        e.via = fsm_get_str(o, "grant", NULL)
                    ?: fsm_get_str(o, "open_request", NULL);
        if (!cb(arg, &e)) {
            break;
        }
    }
    return PC_OK;
}

int
fsm_audit_events(const struct led *l, uint64_t rev, fsm_audit_event_cb cb,
                 void *arg)
{
    const struct jcs_val *enc;
    struct jcs_doc *d;
    struct fact f;
    int rc;

    if (led_get(l, rev, &f) != PC_OK || f.kind != FACT_AUDIT) {
        return PC_ENOTFOUND;
    }
    rc = jcs_parse((const char *)f.payload.p, f.payload.len, &d, NULL);
    if (rc != PC_OK) {
        return rc == PC_ENOMEM ? rc : PC_ECORRUPT;
    }
    enc = fsm_get(jcs_root(d), "encoding");
    if (enc == NULL) {
        rc = events_payload(jcs_root(d), cb, arg);
    } else if (jcs_number(enc) == 2 && f.has_content) {
        rc = events_doc(l, rev, cb, arg);
    } else {
        rc = PC_ECORRUPT;
    }
    jcs_doc_free(d);
    return rc;
}
