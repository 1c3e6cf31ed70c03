/* SPDX-License-Identifier: MIT */
/*
 * Record rules: key syntax, the entry's field schema, who may write and
 * read an entry's records, and the record commands (put, batch, retire,
 * correct) that append versioned RECORD facts (parent = entry id, id =
 * key) whose document is stored as salted canonical JSON; plus the read
 * audit batches the leader proposes. Everything here is a pure function of
 * the command and the ledger.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>

#include <xxhash.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/jcs.h"
#include "node/fsm/fsm_int.h"
#include "storage/idx.h"

#define NO_SLICE   ((struct pc_slice){ NULL, 0 })
#define REASON_MAX 4096
#define AUDIT_MAX  FSM_AUDIT_MAX
#define MSG_LEN    200

/* ---- syntax ----------------------------------------------------------- */

/*
 * Whether the key is in Unicode NFC (docs/rules.md), so two keys that look the
 * same are the same bytes. ASCII always is; the rest asks libunistring.
 * PC_OK with `*ok`, or PC_ENOMEM.
 */
static int
key_nfc(const uint8_t *p, size_t len, bool *ok)
{
    uint8_t buf[3 * FSM_RECORD_KEY_MAX], *n;
    size_t i = 0, nlen = sizeof(buf);

    while (i < len && p[i] < 0x80) {
        i++;
    }
    if (i == len) {
        *ok = true;
        return PC_OK;
    }
    n = u8_normalize(UNINORM_NFC, p, len, buf, &nlen);
    if (n == NULL) {
        return PC_ENOMEM; /* only allocation fails on valid UTF-8 */
    }
    *ok = nlen == len && memcmp(n, p, len) == 0;
    if (n != buf) {
        free(n);
    }
    return PC_OK;
}

int
fsm_record_key_check(const char *s, size_t len, bool *ok)
{
    const uint8_t *p = (const uint8_t *)s;

    *ok = false;
    if (s == NULL || len == 0 || len > FSM_RECORD_KEY_MAX) {
        return PC_OK;
    }
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
        return PC_OK;
    }
    if (!jcs_utf8_valid(p, len)) {
        return PC_OK;
    }
    for (size_t i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            return PC_OK;
        }
        /* In valid UTF-8 0xc2 only leads; 0xc2 0x80-0x9f is U+0080-U+009F. */
        if (p[i] == 0xc2 && i + 1 < len && p[i + 1] <= 0x9f) {
            return PC_OK;
        }
    }
    return key_nfc(p, len, ok);
}

bool
fsm_record_key_valid(const char *s, size_t len)
{
    bool ok;

    return fsm_record_key_check(s, len, &ok) == PC_OK && ok;
}

static bool
digits(const char *s, size_t n, int *out)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* YYYY-MM-DD naming a day of the proleptic Gregorian calendar. */
static bool
date_valid(const char *s, size_t len)
{
    static const int mdays[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    int y, m, d, dim;

    if (len != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) ||
        !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d) || m < 1 || m > 12) {
        return false;
    }
    dim = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        dim = 29;
    }
    return d >= 1 && d <= dim;
}

/* Copy a name into a FSM_FIELD_LEN buffer, cut at a UTF-8 boundary. */
static void
copy_field(char *dst, const char *src)
{
    size_t n = strlen(src);

    if (n >= FSM_FIELD_LEN) {
        n = FSM_FIELD_LEN - 1;
        while (n > 0 && ((uint8_t)src[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static const char *const type_names[] = { "string",  "integer", "number",
                                          "boolean", "date",    "object",
                                          "array" };

static bool
type_ok(enum fsm_field_type t, const struct jcs_val *v)
{
    size_t len;
    const char *s;

    switch (t) {
    case FSM_FIELD_STRING:
        return jcs_type(v) == JCS_STRING;
    case FSM_FIELD_INTEGER:
        return jcs_is_integer(v);
    case FSM_FIELD_NUMBER:
        return jcs_type(v) == JCS_NUMBER;
    case FSM_FIELD_BOOLEAN:
        return jcs_type(v) == JCS_TRUE || jcs_type(v) == JCS_FALSE;
    case FSM_FIELD_DATE:
        s = jcs_string(v, &len);
        return s != NULL && date_valid(s, len);
    case FSM_FIELD_OBJECT:
        return jcs_type(v) == JCS_OBJECT;
    case FSM_FIELD_ARRAY:
        return jcs_type(v) == JCS_ARRAY;
    }
    return false;
}

bool
fsm_record_doc_valid(const struct fsm_entry *e, const struct jcs_val *doc,
                     char *field, char *msg)
{
    if (jcs_type(doc) != JCS_OBJECT) {
        field[0] = '\0';
        snprintf(msg, MSG_LEN, "a record document must be a JSON object");
        return false;
    }
    for (size_t i = 0; i < e->n_force_fields; i++) {
        const struct fsm_field *fd = &e->force_fields[i];
        const struct jcs_val *v = jcs_get(doc, fd->name, strlen(fd->name));

        if (v == NULL || jcs_type(v) == JCS_NULL) {
            if (!fd->required) {
                continue;
            }
            copy_field(field, fd->name);
            snprintf(msg, MSG_LEN,
                     "required field \"%.64s\" is missing or null", fd->name);
            return false;
        }
        if (!type_ok(fd->type, v)) {
            copy_field(field, fd->name);
            snprintf(msg, MSG_LEN, "field \"%.64s\" must be of type %s%s",
                     fd->name, type_names[fd->type],
                     fd->type == FSM_FIELD_DATE ? " (a valid YYYY-MM-DD)"
                     : fd->type == FSM_FIELD_INTEGER
                         ? " (integral, |v| <= 2^53-1)"
                         : "");
            return false;
        }
    }
    return true;
}

/* ---- batch bodies ----------------------------------------------------- */

static bool
only_members(const struct jcs_val *o, const char *const *allowed,
             const char **bad)
{
    for (size_t i = 0; i < jcs_len(o); i++) {
        const char *k = jcs_key(o, i, NULL);
        bool ok = false;

        for (const char *const *a = allowed; *a != NULL; a++) {
            ok = ok || strcmp(*a, k) == 0;
        }
        if (!ok) {
            *bad = k;
            return false;
        }
    }
    return true;
}

/* Slots of first_duplicate's set: a power of two over twice the most
 * items a batch may hold. */
#define DUP_SLOTS 2048
_Static_assert(DUP_SLOTS >= 2 * FSM_BATCH_MAX && DUP_SLOTS <= 65536,
               "first_duplicate's set");

/* Index of the first item (request order) repeating an earlier key, or n:
 * one pass over a hash set of the keys seen so far (a sort of 100 keys
 * took 2% of a follower's CPU under the batch row). */
static size_t
first_duplicate(const struct fsm_batch_item *items, size_t n)
{
    uint16_t set[DUP_SLOTS]; /* item index + 1; 0: empty */
    size_t mask = 15;

    assert(n <= FSM_BATCH_MAX);
    while (mask + 1 < 2 * n) {
        mask = 2 * mask + 1;
    }
    memset(set, 0, (mask + 1) * sizeof(set[0]));
    for (size_t i = 0; i < n; i++) {
        const struct fsm_batch_item *it = &items[i];
        size_t h = XXH3_64bits(it->key, it->key_len) & mask;

        for (; set[h] != 0; h = (h + 1) & mask) {
            const struct fsm_batch_item *e = &items[set[h] - 1];
            if (e->key_len == it->key_len &&
                memcmp(e->key, it->key, it->key_len) == 0) {
                return i;
            }
        }
        set[h] = (uint16_t)(i + 1);
    }
    return n;
}

/*
 * Check item `i` of the body `text` (`len` bytes); PC_OK, or PC_EINVAL /
 * PC_ETOOLARGE with the details. `legacy`: the rule for "if_version" that
 * apply kept for JSON batches in older logs (any integral number from 0,
 * read as a double), which must replay as they did.
 */
static int
batch_item(const char *text, size_t len, bool legacy, const struct jcs_doc *d,
           const struct jcs_val *it, struct fsm_batch_item *out,
           struct pc_buf *canon, char *msg, char *field)
{
    static const char *const allowed[] = { "key", "value", "if_version", NULL };
    const struct jcs_val *k, *v, *iv;
    const char *bad;
    bool ok = false;

    if (jcs_type(it) != JCS_OBJECT) {
        snprintf(field, FSM_FIELD_LEN, "records");
        snprintf(msg, MSG_LEN, "each record must be a JSON object");
        return PC_EINVAL;
    }
    if (!only_members(it, allowed, &bad)) {
        copy_field(field, bad);
        snprintf(msg, MSG_LEN,
                 "unknown member in a record (key, value, if_version)");
        return PC_EINVAL;
    }
    k = jcs_get(it, "key", 3);
    out->key = k == NULL ? NULL : jcs_string(k, &out->key_len);
    if (out->key != NULL &&
        fsm_record_key_check(out->key, out->key_len, &ok) != PC_OK) {
        return PC_ENOMEM;
    }
    if (out->key == NULL || !ok) {
        snprintf(field, FSM_FIELD_LEN, "key");
        snprintf(msg, MSG_LEN,
                 "\"key\" must be 1-512 bytes of UTF-8 in NFC without "
                 "control characters, not \".\" or \"..\"");
        return PC_EINVAL;
    }
    v = jcs_get(it, "value", 5);
    if (v == NULL || jcs_type(v) != JCS_OBJECT) {
        snprintf(field, FSM_FIELD_LEN, "value");
        snprintf(msg, MSG_LEN, "\"value\" must be a JSON object");
        return PC_EINVAL;
    }
    /* Appended after the earlier items' bytes: fsm_batch_parse points
     * `doc` at them once `canon` stops moving. */
    out->doc_len = canon->len;
    if (jcs_emit_value(d, v, canon) != PC_OK) {
        return PC_ENOMEM;
    }
    out->doc_len = canon->len - out->doc_len;
    if (out->doc_len > FSM_RECORD_DOC_MAX) {
        snprintf(field, FSM_FIELD_LEN, "value");
        snprintf(msg, MSG_LEN,
                 "the document is %zu canonical bytes; the limit is %u",
                 out->doc_len, FSM_RECORD_DOC_MAX);
        return PC_ETOOLARGE;
    }
    out->value = v;
    out->if_version = -1;
    iv = jcs_get(it, "if_version", 10);
    if (iv != NULL) {
        uint64_t ver;
        bool ok_ver = legacy ? jcs_is_integer(iv) && jcs_number(iv) >= 0
                             : fsm_version_literal(text, len, iv, 0, &ver);

        if (!ok_ver) {
            snprintf(field, FSM_FIELD_LEN, "if_version");
            snprintf(msg, MSG_LEN,
                     "\"if_version\" must be a version number from 0 (the "
                     "key must not exist) to 9007199254740991, written as "
                     "digits");
            return PC_EINVAL;
        }
        out->if_version = legacy ? (int64_t)jcs_number(iv) : (int64_t)ver;
    }
    return PC_OK;
}

static int
batch_parse(const void *body, size_t len, bool legacy, struct fsm_batch *out,
            char *msg, char *field, long *index)
{
    static const char *const allowed[] = { "records", "on_conflict", NULL };
    char em[PC_ERRMSG_SIZE];
    const struct jcs_val *root, *recs, *oc;
    struct fsm_batch_item *items = NULL;
    const char *ocs = NULL;
    size_t oc_len = 0;
    struct jcs_doc *d;
    struct pc_buf canon;
    const char *bad;
    size_t n, i, dup;
    int rc;

    *index = -1;
    field[0] = '\0';
    rc = jcs_parse(body, len, &d, em);
    if (rc != PC_OK) {
        snprintf(msg, MSG_LEN, "malformed JSON: %.180s", em);
        return rc == PC_ENOMEM ? PC_ENOMEM : PC_EINVAL;
    }
    root = jcs_root(d);
    if (jcs_type(root) != JCS_OBJECT) {
        snprintf(msg, MSG_LEN, "the body must be a JSON object");
        rc = PC_EINVAL;
        goto err_doc;
    }
    if (!only_members(root, allowed, &bad)) {
        copy_field(field, bad);
        snprintf(msg, MSG_LEN,
                 "unknown member (the body has \"records\" and "
                 "\"on_conflict\")");
        rc = PC_EINVAL;
        goto err_doc;
    }
    oc = jcs_get(root, "on_conflict", 11);
    ocs = oc != NULL ? jcs_string(oc, &oc_len) : NULL;
    if (oc != NULL &&
        (ocs == NULL ||
         !((oc_len == 4 && memcmp(ocs, "fail", 4) == 0) ||
           (oc_len == 14 && memcmp(ocs, "skip_identical", 14) == 0)))) {
        snprintf(field, FSM_FIELD_LEN, "on_conflict");
        snprintf(msg, MSG_LEN,
                 "\"on_conflict\" must be \"fail\" or \"skip_identical\"");
        rc = PC_EINVAL;
        goto err_doc;
    }
    recs = jcs_get(root, "records", 7);
    n = recs == NULL ? 0 : jcs_len(recs);
    if (recs == NULL || jcs_type(recs) != JCS_ARRAY || n == 0 ||
        n > FSM_BATCH_MAX) {
        snprintf(field, FSM_FIELD_LEN, "records");
        snprintf(msg, MSG_LEN, "\"records\" must be an array of 1-%d records",
                 FSM_BATCH_MAX);
        rc = PC_EINVAL;
        goto err_doc;
    }
    items = pc_calloc(n, sizeof(*items));
    if (items == NULL) {
        rc = PC_ENOMEM;
        goto err_doc;
    }
    /* The values are nearly all of the body. */
    pc_buf_init(&canon);
    rc = pc_buf_reserve(&canon, len);
    for (i = 0; rc == PC_OK && i < n; i++) {
        rc = batch_item(body, len, legacy, d, jcs_at(recs, i), &items[i],
                        &canon, msg, field);
        if (rc != PC_OK) {
            break;
        }
    }
    if (rc == PC_ENOMEM) {
        goto err_items;
    }
    /* The first failing item in request order decides: a duplicate of an
     * earlier key comes before a later syntax error. */
    dup = first_duplicate(items, i);
    if (dup < i) {
        snprintf(field, FSM_FIELD_LEN, "key");
        snprintf(msg, MSG_LEN,
                 "records[%zu] repeats the key of an earlier record", dup);
        *index = (long)dup;
        rc = PC_EINVAL;
        goto err_items;
    }
    if (rc != PC_OK) {
        char m2[MSG_LEN];

        snprintf(m2, sizeof(m2), "records[%zu]: %.170s", i, msg);
        memcpy(msg, m2, MSG_LEN);
        *index = (long)i;
        goto err_items;
    }
    for (size_t at = 0, k = 0; k < n; at += items[k++].doc_len) {
        items[k].doc = canon.data + at;
    }
    memset(out, 0, sizeof(*out));
    out->doc = d;
    out->items = items;
    out->n = n;
    out->canon = canon;
    out->skip_identical = ocs != NULL && oc_len == 14;
    return PC_OK;

err_items:
    pc_buf_release(&canon);
    pc_free(items);
err_doc:
    jcs_doc_free(d);
    return rc;
}

int
fsm_batch_parse(const void *body, size_t len, struct fsm_batch *out, char *msg,
                char *field, long *index)
{
    return batch_parse(body, len, false, out, msg, field, index);
}

/* ---- prepared batches ------------------------------------------------- */

#define PREPARED_FORMAT 1
#define PREPARED_SKIP   1 /* flags: skip_identical */

int
fsm_batch_prepare(const struct fsm *f, const char *entry,
                  const struct fsm_batch *b, const uint8_t *salts,
                  struct pc_buf *out)
{
    const struct fsm_entry *e = fsm_entry(f, entry);
    char field[FSM_FIELD_LEN], msg[MSG_LEN];
    uint64_t schema_rev = e != NULL && e->in_force ? e->public_rev : 0;
    size_t need = 32;
    int rc;

    for (size_t i = 0; i < b->n && schema_rev != 0; i++) {
        if (!fsm_record_doc_valid(e, b->items[i].value, field, msg)) {
            schema_rev = 0; /* apply finds and names the failing item */
        }
    }
    for (size_t i = 0; i < b->n; i++) {
        need += b->items[i].key_len + b->items[i].doc_len + PC_SALT_LEN + 30;
    }
    rc = pc_buf_reserve(out, need);
    rc |= pc_buf_put_u8(out, PREPARED_FORMAT);
    rc |= pc_buf_put_uvarint(out, schema_rev);
    rc |= pc_buf_put_u8(out, b->skip_identical ? PREPARED_SKIP : 0);
    rc |= pc_buf_put_uvarint(out, b->n);
    for (size_t i = 0; i < b->n; i++) {
        const struct fsm_batch_item *it = &b->items[i];

        rc |= pc_buf_put_lp(out, it->key, it->key_len);
        rc |= pc_buf_put_svarint(out, it->if_version);
        rc |= pc_buf_put(out, salts + i * PC_SALT_LEN, PC_SALT_LEN);
        rc |= pc_buf_put_lp(out, it->doc, it->doc_len);
    }
    return rc == PC_OK ? PC_OK : PC_ENOMEM;
}

int
fsm_batch_read(const void *body, size_t len, struct fsm_batch *out, char *msg,
               long *index)
{
    struct fsm_batch_item *items = NULL;
    struct pc_slice key, doc, salt;
    uint64_t schema_rev, n;
    int64_t iv;
    uint8_t format, flags;
    struct pc_rd r;
    size_t i = 0, dup;
    bool ok;

    *index = -1;
    pc_rd_init(&r, body, len);
    if (pc_rd_u8(&r, &format) != PC_OK || format != PREPARED_FORMAT ||
        pc_rd_uvarint(&r, &schema_rev) != PC_OK ||
        pc_rd_u8(&r, &flags) != PC_OK || (flags & ~PREPARED_SKIP) != 0 ||
        pc_rd_uvarint(&r, &n) != PC_OK || n == 0 || n > FSM_BATCH_MAX) {
        snprintf(msg, MSG_LEN, "malformed command: bad prepared batch header");
        return PC_EINVAL;
    }
    items = pc_calloc((size_t)n, sizeof(*items));
    if (items == NULL) {
        return PC_ENOMEM;
    }
    for (; i < n; i++) {
        if (pc_rd_lp(&r, FSM_RECORD_KEY_MAX, &key) != PC_OK ||
            pc_rd_svarint(&r, &iv) != PC_OK || iv < -1 ||
            iv > (int64_t)FSM_VERSION_MAX ||
            pc_rd_bytes(&r, PC_SALT_LEN, &salt) != PC_OK ||
            pc_rd_lp(&r, FSM_RECORD_DOC_MAX, &doc) != PC_OK) {
            snprintf(msg, MSG_LEN, "malformed command: bad prepared item");
            break;
        }
        if (fsm_record_key_check((const char *)key.p, key.len, &ok) != PC_OK) {
            pc_free(items);
            return PC_ENOMEM;
        }
        if (!ok) {
            snprintf(msg, MSG_LEN, "malformed command: bad key");
            break;
        }
        items[i] = (struct fsm_batch_item){
            (const char *)key.p, key.len, NULL, iv, doc.p, doc.len, salt.p
        };
    }
    if (i == n && pc_rd_left(&r) != 0) {
        snprintf(msg, MSG_LEN, "malformed command: bytes after the items");
        i = n + 1;
    }
    if (i == n) {
        dup = first_duplicate(items, n);
        if (dup == n) {
            memset(out, 0, sizeof(*out));
            out->items = items;
            out->n = n;
            out->skip_identical = (flags & PREPARED_SKIP) != 0;
            out->schema_rev = schema_rev;
            return PC_OK;
        }
        snprintf(msg, MSG_LEN,
                 "records[%zu] repeats the key of an earlier record", dup);
        i = dup;
    }
    *index = i < n ? (long)i : -1;
    pc_free(items);
    return PC_EINVAL;
}

void
fsm_batch_release(struct fsm_batch *b)
{
    if (b == NULL) {
        return;
    }
    pc_free(b->items);
    jcs_doc_free(b->doc);
    pc_buf_release(&b->canon);
    b->items = NULL;
    b->doc = NULL;
    b->n = 0;
}

/* ---- read access ------------------------------------------------------ */

/*
 * Whether an active grant lets `p` read `e` (such a read then waits for its
 * audit fact to commit: FSM_READ_GRANTED), filling `via`: a share grant
 * (rules_share.c) or an approved open request (rules_open.c).
 */
static bool
share_grant_active(const struct fsm *f, const struct fsm_principal *p,
                   const struct fsm_entry *e, struct fsm_read_via *via)
{
    return fsm_share_grant_for(f, p, e, via);
}

static bool
open_grant_active(const struct fsm *f, const struct fsm_principal *p,
                  const struct fsm_entry *e, struct fsm_read_via *via)
{
    const char *id = fsm_open_grant(f, p, e);

    if (id == NULL) {
        return false;
    }
    if (via != NULL) {
        snprintf(via->id, sizeof(via->id), "%s", id);
        via->fields = NULL;
        via->n_fields = 0;
    }
    return true;
}

enum fsm_read_access
fsm_may_read_records_via(const struct fsm *f, const struct fsm_principal *p,
                         const struct fsm_entry *e, struct fsm_read_via *via)
{
    /* Other principals live by the published version's classes. */
    enum fsm_class open = e->public_rev > 0 ? e->public_open : e->open;
    enum fsm_class share = e->public_rev > 0 ? e->public_share : e->share;

    if (via != NULL) {
        memset(via, 0, sizeof(*via));
    }
    if (p != NULL) {
        if (p->org != NULL && strcmp(p->org, e->provider) == 0) {
            return FSM_READ_OWN;
        }
        if ((p->roles & FSM_ROLE_AUDITOR) || fsm_entry_authority(f, p, e)) {
            return FSM_READ_AUDITED;
        }
        if (p->org != NULL && (p->roles & FSM_ROLE_CONSUMER)) {
            if (share == FSM_CLASS_UNCONDITIONAL) {
                return FSM_READ_AUDITED;
            }
            if (share == FSM_CLASS_CONDITIONAL &&
                share_grant_active(f, p, e, via)) {
                return FSM_READ_GRANTED;
            }
        }
    }
    /* What anyone may read without a token, a token does not take away. */
    if (open == FSM_CLASS_UNCONDITIONAL) {
        return p == NULL ? FSM_READ_OPEN : FSM_READ_AUDITED;
    }
    if (open == FSM_CLASS_CONDITIONAL && p != NULL &&
        open_grant_active(f, p, e, via)) {
        return FSM_READ_GRANTED;
    }
    return FSM_READ_DENIED;
}

enum fsm_read_access
fsm_may_read_records(const struct fsm *f, const struct fsm_principal *p,
                     const struct fsm_entry *e)
{
    return fsm_may_read_records_via(f, p, e, NULL);
}

/* ---- apply helpers ---------------------------------------------------- */

/* The current version of a record and whether it is retired. */
struct rec_state {
    uint64_t version; /* 0: never written */
    uint64_t rev;
    bool retired;
};

static int
record_state(struct fsm *f, struct pc_slice entry, struct pc_slice key,
             struct rec_state *st)
{
    struct idx_key k = { FACT_RECORD, entry, key };
    const struct jcs_val *v;
    struct jcs_doc *d;
    struct fact fact;
    const char *op;
    size_t len;

    memset(st, 0, sizeof(*st));
    st->version = idx_latest(led_idx(f->led), &k, &st->rev);
    if (st->version == 0) {
        return PC_OK;
    }
    if (led_get(f->led, st->rev, &fact) != PC_OK) {
        return PC_ECORRUPT;
    }
    if (jcs_parse((const char *)fact.payload.p, fact.payload.len, &d, NULL) !=
        PC_OK) {
        return PC_ENOMEM; /* our own canonical JSON: only OOM fails */
    }
    v = jcs_get(jcs_root(d), "op", 2);
    op = v != NULL ? jcs_string(v, &len) : NULL;
    v = jcs_get(jcs_root(d), "retired", 7);
    st->retired = (op != NULL && len == 6 && memcmp(op, "retire", 6) == 0) ||
                  (v != NULL && jcs_type(v) == JCS_TRUE);
    jcs_doc_free(d);
    return PC_OK;
}

/* The entry/key named by a target "entry/key" (entry ids have no '/'). */
static void
split_target(struct pc_slice t, struct pc_slice *entry, struct pc_slice *key)
{
    const uint8_t *slash = t.len ? memchr(t.p, '/', t.len) : NULL;

    if (slash == NULL) {
        *entry = t;
        *key = NO_SLICE;
        return;
    }
    *entry = (struct pc_slice){ t.p, (size_t)(slash - t.p) };
    *key = (struct pc_slice){ slash + 1, t.len - entry->len - 1 };
}

/*
 * Whether objection `obj` (a string) is accepted and names this record
 * (rules_objections.c); with `missing` (the record has no version yet),
 * only an accepted omission does: a correction citing it creates the
 * record.
 */
static bool
objection_accepted(const struct fsm *f, const struct jcs_val *obj,
                   const struct fsm_entry *e, struct pc_slice key, bool missing)
{
    size_t len;
    const char *id = obj != NULL ? jcs_string(obj, &len) : NULL;

    return id != NULL && fsm_objection_accepted(f, id, len, e, key, missing);
}

/* A `provider` of the entry's provider org. */
static bool
provider_of(const struct fsm_principal *p, const struct fsm_entry *e)
{
    return (p->roles & FSM_ROLE_PROVIDER) && p->org != NULL &&
           strcmp(p->org, e->provider) == 0;
}

/*
 * Whether the actor may write records of the entry now. PC_OK with `*out`
 * set when it may; PC_OK with `*out` NULL after a rejection was appended.
 */
static int
writable_entry(struct fsm_ctx *c, const struct fsm_principal *actor,
               struct pc_slice eid, struct pc_slice key,
               const struct jcs_val *objection, const struct fsm_entry **out)
{
    char id[FACT_MAX_ID + 1];
    const struct fsm_entry *e;

    *out = NULL;
    if (!fsm_id_valid((const char *)eid.p, eid.len)) {
        return fsm_reject_detail(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                                 NULL, "bad entry id");
    }
    if (key.len > 0) {
        bool ok;

        if (fsm_record_key_check((const char *)key.p, key.len, &ok) != PC_OK) {
            return PC_ENOMEM;
        }
        if (!ok) {
            return fsm_reject_detail(c, 400, "bad_request", eid, NO_SLICE, NULL,
                                     "bad record key");
        }
    }
    memcpy(id, eid.p, eid.len);
    id[eid.len] = '\0';
    e = fsm_entry(c->f, id);
    if (e == NULL || fsm_entry_visible_rev(c->f, e, actor) == 0) {
        return fsm_reject_detail(c, 404, "not_found", eid, key, NULL,
                                 "no catalog entry \"%s\"", id);
    }
    if (!provider_of(actor, e) &&
        !(objection != NULL && fsm_entry_authority(c->f, actor, e) &&
          objection_accepted(c->f, objection, e, key, false))) {
        return fsm_reject_detail(
            c, 403, "forbidden", eid, key, NULL,
            "writing records of \"%s\" needs role provider in org "
            "\"%s\"",
            id, e->provider);
    }
    if (e->status == FSM_ENTRY_RETIRED) {
        return fsm_reject_detail(
            c, 409, "conflict", eid, key, NULL,
            "entry \"%s\" is retired: its records are read-only", id);
    }
    if (!e->in_force) {
        return fsm_reject_detail(c, 409, "conflict", eid, key, NULL,
                                 "entry \"%s\" is not published", id);
    }
    *out = e;
    return PC_OK;
}

/*
 * The n salts of a batch command's extra: "salts" is one hex string of the
 * salts one after another, or an array of one hex string per salt (what
 * leaders wrote before 2026-11-27: older logs still replay).
 */
static int
batch_salts(struct pc_slice extra, size_t n, uint8_t (*salt)[PC_SALT_LEN],
            bool *ok)
{
    char em[PC_ERRMSG_SIZE];
    const struct jcs_val *v;
    struct jcs_doc *d;
    const char *s;
    size_t len;
    int rc;

    *ok = false;
    rc = jcs_parse((const char *)extra.p, extra.len, &d, em);
    if (rc != PC_OK) {
        return rc == PC_ENOMEM ? rc : PC_OK;
    }
    v = jcs_type(jcs_root(d)) == JCS_OBJECT ? jcs_get(jcs_root(d), "salts", 5)
                                            : NULL;
    if (v != NULL && (s = jcs_string(v, &len)) != NULL) {
        *ok = pc_unhex(salt[0], n * PC_SALT_LEN, s, len);
    } else if (v != NULL && jcs_type(v) == JCS_ARRAY && jcs_len(v) == n) {
        *ok = true;
        for (size_t i = 0; *ok && i < n; i++) {
            s = jcs_string(jcs_at(v, i), &len);
            *ok = s != NULL && pc_unhex(salt[i], PC_SALT_LEN, s, len);
        }
    }
    jcs_doc_free(d);
    return PC_OK;
}

/*
 * The canonical payload of a record version: "objection" and "reason" when
 * they are strings, "retired" when true. Creates and updates (almost every
 * version) are copied in directly: "op" and "org" (an id, which needs no
 * escaping) in key order, what the writer writes, without its bookkeeping,
 * which showed in a PUT's profile.
 */
static int
version_payload(const char *op, const char *org, const struct jcs_val *reason,
                const struct jcs_val *objection, bool retired,
                struct pc_buf *out)
{
    struct jcs_writer w;
    const char *s;
    size_t len;

    if (reason == NULL && objection == NULL && !retired) {
        /* `org` is an actor's org: an id since its creation. */
        return pc_buf_put(out, "{\"op\":\"", 7) ||
                       pc_buf_put(out, op, strlen(op)) ||
                       pc_buf_put(out, "\",\"org\":\"", 9) ||
                       pc_buf_put(out, org, strlen(org)) ||
                       pc_buf_put(out, "\"}", 2)
                   ? PC_ENOMEM
                   : PC_OK;
    }
    jcs_w_init(&w, out);
    jcs_w_obj(&w);
    if (objection != NULL && (s = jcs_string(objection, &len)) != NULL) {
        jcs_w_key(&w, "objection");
        jcs_w_strn(&w, s, len);
    }
    jcs_w_kstr(&w, "op", op);
    jcs_w_kstr(&w, "org", org);
    if (reason != NULL && (s = jcs_string(reason, &len)) != NULL) {
        jcs_w_key(&w, "reason");
        jcs_w_strn(&w, s, len);
    }
    if (retired) {
        jcs_w_kbool(&w, "retired", true);
    }
    jcs_w_obj_end(&w);
    return jcs_w_finish(&w);
}

/* Append one record version with its payload built; `doc` (canonical
 * bytes) NULL for a retire version. */
static int
emit_built(struct fsm_ctx *c, struct pc_slice entry, struct pc_slice key,
           const struct pc_buf *payload, const uint8_t salt[PC_SALT_LEN],
           const struct pc_slice *doc)
{
    struct pc_slice ps = { payload->data, payload->len };
    struct led_doc d;

    if (doc != NULL) {
        d = (struct led_doc){ salt, doc->p, doc->len };
    }
    return fsm_emit_canonical(c, FACT_RECORD, entry, key, ps,
                              doc != NULL ? &d : NULL);
}

/* Append one record version; `doc` as for emit_built. */
static int
emit_version(struct fsm_ctx *c, struct pc_slice entry, struct pc_slice key,
             const char *op, const char *org, const struct jcs_val *reason,
             const struct jcs_val *objection, bool retired,
             const uint8_t salt[PC_SALT_LEN], const struct pc_slice *doc)
{
    struct pc_buf p;
    int rc;

    pc_buf_init(&p);
    rc = version_payload(op, org, reason, objection, retired, &p);
    if (rc == PC_OK) {
        rc = emit_built(c, entry, key, &p, salt, doc);
    }
    pc_buf_release(&p);
    return rc;
}

/* Parse the command body as JSON: `*d` NULL after a rejection. */
static int
parse_doc(struct fsm_ctx *c, struct pc_slice body, struct pc_slice entry,
          struct pc_slice key, struct jcs_doc **d)
{
    char em[PC_ERRMSG_SIZE];
    int rc;

    *d = NULL;
    rc = jcs_parse((const char *)body.p, body.len, d, em);
    if (rc == PC_ENOMEM) {
        return rc;
    }
    if (rc != PC_OK) {
        *d = NULL;
        return fsm_reject_detail(c, 400, "bad_request", entry, key, NULL,
                                 "malformed JSON: %s", em);
    }
    return PC_OK;
}

/* Refuse a record document: 400, 413 or 422 (naming `field`). The detail
 * is built only for a refusal: batches check every item. */
static int
refuse_doc(struct fsm_ctx *c, int status, struct pc_slice entry,
           struct pc_slice key, long index, const char *field, const char *msg)
{
    bool has = status == 422 || index >= 0;
    struct pc_buf det;
    int rc = PC_OK;

    pc_buf_init(&det);
    if (has) {
        rc = fsm_detail(&det, -1, status == 422 ? field : NULL, index,
                        index >= 0 ? key : NO_SLICE);
    }
    if (rc == PC_OK) {
        rc = fsm_reject_detail(c, status,
                               status == 400   ? "bad_request"
                               : status == 413 ? "too_large"
                                               : "invalid",
                               entry, key, has ? &det : NULL, "%s", msg);
    }
    pc_buf_release(&det);
    return rc;
}

/*
 * Schema of the document `v` (an object) for entry `e`: `*ok`, or a 422
 * rejection naming the field (and `key` and `index` when index >= 0).
 * Returns PC_OK or PC_ENOMEM.
 */
static int
check_schema(struct fsm_ctx *c, const struct fsm_entry *e,
             const struct jcs_val *v, struct pc_slice entry,
             struct pc_slice key, long index, bool *ok)
{
    char field[FSM_FIELD_LEN] = "", msg[MSG_LEN];

    *ok = fsm_record_doc_valid(e, v, field, msg);
    if (*ok) {
        return PC_OK;
    }
    return refuse_doc(c, 422, entry, key, index, field, msg);
}

/*
 * Schema and size of `v` for entry `e`: `*ok` and its canonical bytes
 * appended to `canon`, or a rejection with `canon` as it was. Returns PC_OK
 * or PC_ENOMEM.
 */
static int
check_doc(struct fsm_ctx *c, const struct fsm_entry *e, const struct jcs_doc *d,
          const struct jcs_val *v, struct pc_buf *canon, struct pc_slice entry,
          struct pc_slice key, bool *ok)
{
    char msg[MSG_LEN];
    size_t start = canon->len;
    int rc;

    *ok = false;
    if (jcs_type(v) != JCS_OBJECT) {
        snprintf(msg, sizeof(msg), "a record document must be a JSON object");
        return refuse_doc(c, 400, entry, key, -1, "", msg);
    }
    if (jcs_emit_value(d, v, canon) != PC_OK) {
        return PC_ENOMEM;
    }
    if (canon->len - start > FSM_RECORD_DOC_MAX) {
        snprintf(msg, sizeof(msg),
                 "the document is %zu canonical bytes; the limit is %u",
                 canon->len - start, FSM_RECORD_DOC_MAX);
        canon->len = start;
        return refuse_doc(c, 413, entry, key, -1, "", msg);
    }
    rc = check_schema(c, e, v, entry, key, -1, ok);
    if (!*ok) {
        canon->len = start;
    }
    return rc;
}

static int
conflict(struct fsm_ctx *c, struct pc_slice entry, struct pc_slice key,
         long index, uint64_t current, const char *what)
{
    struct pc_buf det;
    int rc;

    pc_buf_init(&det);
    rc = fsm_detail(&det, (int64_t)current, NULL, index,
                    index >= 0 ? key : NO_SLICE);
    if (rc == PC_OK) {
        rc = fsm_reject_detail(c, 409, "conflict", entry, key, &det,
                               "%s (current version %llu)", what,
                               (unsigned long long)current);
    }
    pc_buf_release(&det);
    return rc;
}

/* ---- commands --------------------------------------------------------- */

/* The target's entry and key; a rejection (`*ok` false) if no key. */
static int
target_key(struct fsm_ctx *c, struct pc_slice *entry, struct pc_slice *key,
           bool *ok)
{
    split_target(c->cmd->target, entry, key);
    *ok = key->len > 0;
    if (!*ok) {
        return fsm_reject_detail(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                                 NULL, "malformed command: no record key");
    }
    return PC_OK;
}

/* The leader-made values: salt(s) and preconditions. */
struct extra {
    uint8_t salt[PC_SALT_LEN];
    bool has_salt;
    uint64_t if_match;  /* 0: none */
    bool if_none_match; /* If-None-Match: * */
};

static int
read_extra(struct fsm_ctx *c, struct extra *out)
{
    const struct jcs_val *x, *v;
    struct jcs_doc *d;
    const char *s;
    int rc;

    memset(out, 0, sizeof(*out));
    if (c->cmd->extra.len == 0) {
        return PC_OK;
    }
    /* The leader writes an integer if_match and a hex salt. */
    rc = jcs_parse((const char *)c->cmd->extra.p, c->cmd->extra.len, &d, NULL);
    if (rc == PC_ENOMEM) {
        return rc; /* not a verdict: other replicas may have the memory */
    }
    if (rc != PC_OK) {
        return PC_OK; /* as before: no salt, so refused as malformed */
    }
    x = jcs_root(d);
    if (jcs_type(x) != JCS_OBJECT) {
        jcs_doc_free(d);
        return PC_OK;
    }
    v = jcs_get(x, "salt", 4);
    s = v != NULL ? jcs_string(v, NULL) : NULL;
    out->has_salt = s != NULL && pc_unhex(out->salt, PC_SALT_LEN, s, strlen(s));
    v = jcs_get(x, "if_match", 8);
    if (v != NULL && jcs_is_integer(v) && jcs_number(v) > 0) {
        out->if_match = (uint64_t)jcs_number(v);
    }
    v = jcs_get(x, "if_none_match", 13);
    out->if_none_match = v != NULL && jcs_type(v) == JCS_TRUE;
    jcs_doc_free(d);
    return PC_OK;
}

static int
record_put(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    struct pc_slice entry, key;
    const struct fsm_entry *e;
    struct jcs_doc *d = NULL;
    struct rec_state st;
    struct pc_buf canon;
    struct extra x;
    bool ok, create;
    int rc;

    rc = target_key(c, &entry, &key, &ok);
    if (rc != PC_OK || !ok) {
        return rc;
    }
    rc = parse_doc(c, c->cmd->body, entry, key, &d);
    if (rc != PC_OK || d == NULL) {
        return rc;
    }
    pc_buf_init(&canon);
    rc = read_extra(c, &x);
    if (rc != PC_OK) {
        goto out;
    }
    rc = writable_entry(c, actor, entry, key, NULL, &e);
    if (rc != PC_OK || e == NULL) {
        goto out;
    }
    rc = record_state(c->f, entry, key, &st);
    if (rc != PC_OK) {
        goto out;
    }
    if (!x.has_salt) {
        rc = fsm_reject_detail(c, 400, "bad_request", entry, key, NULL,
                               "malformed command: no salt");
    } else if (x.if_none_match && st.version > 0 && !st.retired) {
        rc = conflict(c, entry, key, -1, st.version,
                      "If-None-Match: * but the record exists");
    } else if (x.if_match > 0 && x.if_match != st.version) {
        rc = conflict(c, entry, key, -1, st.version,
                      "If-Match names a version that is not current");
    } else if ((rc = check_doc(c, e, d, jcs_root(d), &canon, entry, key,
                               &ok)) == PC_OK &&
               ok) {
        /* A PUT to a retired key starts it again. */
        create = st.version == 0 || st.retired;
        rc = emit_version(c, entry, key, create ? "create" : "update",
                          actor->org, NULL, NULL, false, x.salt,
                          &(struct pc_slice){ canon.data, canon.len });
        if (rc == PC_OK) {
            c->status = create ? 201 : 200;
        }
    }
out:
    pc_buf_release(&canon);
    jcs_doc_free(d);
    return rc;
}

static int
batch_syntax_reject(struct fsm_ctx *c, struct pc_slice entry, int prc,
                    const char *msg, const char *field, long index)
{
    struct pc_buf det;
    int rc;

    /* Always a detail, if empty ({}): what the first such facts hold. */
    pc_buf_init(&det);
    rc = fsm_detail(&det, -1, field[0] != '\0' ? field : NULL, index, NO_SLICE);
    if (rc == PC_OK) {
        rc =
            fsm_reject_detail(c, prc == PC_ETOOLARGE ? 413 : 400,
                              prc == PC_ETOOLARGE ? "too_large" : "bad_request",
                              entry, NO_SLICE, &det, "%s", msg);
    }
    pc_buf_release(&det);
    return rc;
}

/* Whether the live version at `rev` holds exactly the canonical bytes
 * `doc` (its salt aside); a redacted document never matches. */
static int
same_document(struct fsm *f, uint64_t rev, struct pc_slice doc, bool *same)
{
    uint8_t salt[PC_SALT_LEN];
    struct pc_buf cur;
    int rc;

    *same = false;
    pc_buf_init(&cur);
    rc = led_doc_get(f->led, rev, &cur, salt);
    if (rc == PC_OK) {
        *same = cur.len == doc.len && memcmp(cur.data, doc.p, doc.len) == 0;
    } else if (rc == PC_EFORBIDDEN || rc == PC_ENOTFOUND) {
        rc = PC_OK; /* redacted, or no document (a retire): not the same */
    }
    pc_buf_release(&cur);
    return rc;
}

/* A batch command read into `b`: a prepared one (CMD_RECORD_BATCH2), or a
 * JSON body with its salts in the extra (CMD_RECORD_BATCH, what leaders
 * proposed before 2026-11-27: older logs still replay). PC_OK with
 * `*ok`, false after a rejection; PC_ENOMEM. */
static int
read_batch(struct fsm_ctx *c, struct fsm_batch *b,
           uint8_t (**salts)[PC_SALT_LEN], bool *ok)
{
    char msg[MSG_LEN], field[FSM_FIELD_LEN];
    struct pc_slice entry = c->cmd->target;
    long index;
    int rc;

    *ok = false;
    if (c->cmd->type == CMD_RECORD_BATCH2) {
        rc = fsm_batch_read(c->cmd->body.p, c->cmd->body.len, b, msg, &index);
        if (rc == PC_EINVAL) {
            return batch_syntax_reject(c, entry, rc, msg, "", index);
        }
        *ok = rc == PC_OK;
        return rc;
    }
    /* A JSON batch (CMD_RECORD_BATCH), which no leader proposes any more:
     * read by the rules it was proposed under. */
    rc = batch_parse(c->cmd->body.p, c->cmd->body.len, true, b, msg, field,
                     &index);
    if (rc == PC_ENOMEM) {
        return rc;
    }
    if (rc != PC_OK) {
        return batch_syntax_reject(c, entry, rc, msg, field, index);
    }
    *salts = pc_calloc(b->n, sizeof(**salts));
    if (*salts == NULL) {
        fsm_batch_release(b);
        return PC_ENOMEM;
    }
    rc = batch_salts(c->cmd->extra, b->n, *salts, ok);
    if (rc == PC_OK && !*ok) {
        rc = fsm_reject_detail(c, 400, "bad_request", entry, NO_SLICE, NULL,
                               "malformed command: one salt per record needed");
    }
    for (size_t i = 0; *ok && i < b->n; i++) {
        b->items[i].salt = (*salts)[i];
    }
    if (!*ok) {
        fsm_batch_release(b);
    }
    return rc;
}

/* Schema check of a batch item, parsing its canonical bytes when the
 * batch came prepared. */
static int
check_item_schema(struct fsm_ctx *c, const struct fsm_entry *e,
                  const struct fsm_batch_item *it, struct pc_slice entry,
                  long index, bool *ok)
{
    struct pc_slice key = { (const uint8_t *)it->key, it->key_len };
    char em[PC_ERRMSG_SIZE];
    struct jcs_doc *d = NULL;
    int rc;

    if (it->value != NULL) {
        return check_schema(c, e, it->value, entry, key, index, ok);
    }
    rc = jcs_parse((const char *)it->doc, it->doc_len, &d, em);
    if (rc == PC_OK) {
        rc = check_schema(c, e, jcs_root(d), entry, key, index, ok);
        jcs_doc_free(d);
    } else if (rc != PC_ENOMEM) {
        *ok = false;
        rc = refuse_doc(c, 400, entry, key, index, "",
                        "malformed command: "
                        "a document is not "
                        "JSON");
    }
    return rc;
}

static int
record_batch(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    struct pc_slice entry = c->cmd->target;
    const struct fsm_entry *e;
    struct fsm_batch b;
    uint8_t(*salts)[PC_SALT_LEN] = NULL;
    bool *create = NULL, *skip = NULL, ok, trusted;
    struct pc_buf pay[2]; /* the payloads of an update and of a create */
    int rc;

    pc_buf_init(&pay[0]);
    pc_buf_init(&pay[1]);
    rc = read_batch(c, &b, &salts, &ok);
    if (rc != PC_OK || !ok) {
        pc_free(salts);
        return rc;
    }
    rc = writable_entry(c, actor, entry, NO_SLICE, NULL, &e);
    if (rc != PC_OK || e == NULL) {
        goto out;
    }
    /* Validity against a schema is a function of value and schema: the
     * leader's finding holds while the entry version it checked is the
     * one in force. */
    trusted = b.schema_rev != 0 && b.schema_rev == e->public_rev;
    create = pc_calloc(b.n, sizeof(*create));
    skip = pc_calloc(b.n, sizeof(*skip));
    if (create == NULL || skip == NULL) {
        rc = PC_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < b.n; i++) {
        struct idx_key k = { FACT_RECORD,
                             entry,
                             { (const uint8_t *)b.items[i].key,
                               b.items[i].key_len } };
        idx_prefetch(led_idx(c->f->led), &k);
    }
    /* Decide every item before appending anything: all or none, and the
     * first failing item in request order names the refusal. */
    for (size_t i = 0; i < b.n; i++) {
        const struct fsm_batch_item *it = &b.items[i];
        struct pc_slice key = { (const uint8_t *)it->key, it->key_len };
        struct pc_slice doc = { it->doc, it->doc_len };
        struct rec_state st;

        rc = record_state(c->f, entry, key, &st);
        if (rc != PC_OK) {
            goto out;
        }
        if (b.skip_identical && st.version > 0 && !st.retired) {
            rc = same_document(c->f, st.rev, doc, &skip[i]);
            if (rc != PC_OK) {
                goto out;
            }
            if (skip[i]) {
                continue; /* already there: a resumed import */
            }
        }
        if (it->if_version == 0 && st.version > 0 && !st.retired) {
            rc = conflict(c, entry, key, (long)i, st.version,
                          "if_version 0 but the record exists");
            goto out;
        }
        if (it->if_version > 0 && (uint64_t)it->if_version != st.version) {
            rc = conflict(c, entry, key, (long)i, st.version,
                          "if_version is not the current version");
            goto out;
        }
        if (!trusted) {
            rc = check_item_schema(c, e, it, entry, (long)i, &ok);
            if (rc != PC_OK || !ok) {
                goto out;
            }
        }
        create[i] = st.version == 0 || st.retired;
    }
    /* Every version of a batch has one of two payloads: built once, not
     * once per record (a malloc per record on every replica). */
    rc = version_payload("update", actor->org, NULL, NULL, false, &pay[0]);
    if (rc == PC_OK) {
        rc = version_payload("create", actor->org, NULL, NULL, false, &pay[1]);
    }
    for (size_t i = 0; i < b.n && rc == PC_OK; i++) {
        const struct fsm_batch_item *it = &b.items[i];
        struct pc_slice key = { (const uint8_t *)it->key, it->key_len };

        if (!skip[i]) {
            rc = emit_built(c, entry, key, &pay[create[i]], it->salt,
                            &(struct pc_slice){ it->doc, it->doc_len });
        }
    }
out:
    pc_buf_release(&pay[0]);
    pc_buf_release(&pay[1]);
    pc_free(skip);
    pc_free(create);
    pc_free(salts);
    fsm_batch_release(&b);
    return rc;
}

/*
 * The record the target names and the command's body, a JSON object of
 * `allowed` members (retire, correct): PC_OK with `*d`, or `*d` NULL with
 * what refusing the command returned or why it failed.
 */
static int
record_body(struct fsm_ctx *c, const char *const *allowed,
            struct pc_slice *entry, struct pc_slice *key, struct jcs_doc **d)
{
    const char *bad;
    bool ok;
    int rc;

    *d = NULL;
    rc = target_key(c, entry, key, &ok);
    if (rc != PC_OK || !ok) {
        return rc;
    }
    rc = parse_doc(c, c->cmd->body, *entry, *key, d);
    if (rc != PC_OK || *d == NULL) {
        return rc;
    }
    if (jcs_type(jcs_root(*d)) != JCS_OBJECT) {
        jcs_doc_free(*d);
        *d = NULL;
        return fsm_reject_detail(c, 400, "bad_request", *entry, *key, NULL,
                                 "the body must be a JSON object");
    }
    if (!only_members(jcs_root(*d), allowed, &bad)) {
        /* `bad` lives in the document: refuse before freeing it. */
        rc = fsm_reject_field(c, 400, *entry, *key, bad,
                              "unknown member in the body");
        jcs_doc_free(*d);
        *d = NULL;
        return rc;
    }
    return PC_OK;
}

static int
record_retire(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    static const char *const allowed[] = { "reason", NULL };
    struct pc_slice entry, key;
    const struct fsm_entry *e;
    const struct jcs_val *reason;
    struct jcs_doc *d = NULL;
    struct rec_state st;
    struct extra x;
    int rc;

    rc = record_body(c, allowed, &entry, &key, &d);
    if (d == NULL) {
        return rc;
    }
    reason = jcs_get(jcs_root(d), "reason", 6);
    if ((rc = read_extra(c, &x)) != PC_OK) {
        /* out of memory */
    } else if (!fsm_text_ok(reason, REASON_MAX)) {
        rc = fsm_reject_field(c, 400, entry, key, "reason",
                              "\"reason\" (non-blank, at most 4096 bytes) is "
                              "required");
    } else if ((rc = writable_entry(c, actor, entry, key, NULL, &e)) != PC_OK ||
               e == NULL) {
        /* refused, or rc says why */
    } else if ((rc = record_state(c->f, entry, key, &st)) != PC_OK) {
        /* rc says why */
    } else if (st.version == 0) {
        rc = fsm_reject_detail(c, 404, "not_found", entry, key, NULL,
                               "no such record");
    } else if (x.if_match > 0 && x.if_match != st.version) {
        rc = conflict(c, entry, key, -1, st.version,
                      "If-Match names a version that is not current");
    } else if (st.retired) {
        rc = conflict(c, entry, key, -1, st.version,
                      "the record is already retired");
    } else {
        rc = emit_version(c, entry, key, "retire", actor->org, reason, NULL,
                          false, NULL, NULL);
    }
    jcs_doc_free(d);
    return rc;
}

static int
record_correct(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    static const char *const allowed[] = { "value", "reason", "objection",
                                           NULL };
    struct pc_slice entry, key;
    const struct fsm_entry *e;
    const struct jcs_val *reason, *obj, *value;
    struct jcs_doc *d = NULL;
    struct rec_state st;
    struct pc_buf canon;
    struct extra x;
    const char *os;
    size_t olen;
    bool ok;
    int rc;

    rc = record_body(c, allowed, &entry, &key, &d);
    if (d == NULL) {
        return rc;
    }
    reason = jcs_get(jcs_root(d), "reason", 6);
    obj = jcs_get(jcs_root(d), "objection", 9);
    value = jcs_get(jcs_root(d), "value", 5);
    os = obj == NULL ? NULL : jcs_string(obj, &olen);
    pc_buf_init(&canon);
    if ((rc = read_extra(c, &x)) != PC_OK) {
        /* out of memory */
    } else if (!fsm_text_ok(reason, REASON_MAX)) {
        rc = fsm_reject_field(c, 400, entry, key, "reason",
                              "\"reason\" (non-blank, at most 4096 bytes) is "
                              "required");
    } else if (value == NULL) {
        rc = fsm_reject_field(c, 400, entry, key, "value",
                              "\"value\" (the corrected document) is required");
    } else if (obj != NULL && (os == NULL || !fsm_id_valid(os, olen))) {
        rc = fsm_reject_field(c, 400, entry, key, "objection",
                              "\"objection\" must be an objection id");
    } else if (!x.has_salt) {
        rc = fsm_reject_detail(c, 400, "bad_request", entry, key, NULL,
                               "malformed command: no salt");
    } else if ((rc = writable_entry(c, actor, entry, key, obj, &e)) != PC_OK ||
               e == NULL) {
        /* refused, or rc says why */
    } else if ((rc = record_state(c->f, entry, key, &st)) != PC_OK) {
        /* rc says why */
    } else if (st.version == 0 &&
               !objection_accepted(c->f, obj, e, key, true)) {
        /* Only an accepted omission lets a correction create a record. */
        rc = fsm_reject_detail(c, 404, "not_found", entry, key, NULL,
                               "no such record");
    } else if (x.if_match > 0 && x.if_match != st.version) {
        rc = conflict(c, entry, key, -1, st.version,
                      "If-Match names a version that is not current");
    } else if (obj != NULL && !objection_accepted(c->f, obj, e, key, false)) {
        rc = fsm_reject_field(c, 409, entry, key, "objection",
                              "the objection is not an accepted objection on "
                              "this record");
    } else if ((rc = check_doc(c, e, d, value, &canon, entry, key, &ok)) ==
                   PC_OK &&
               ok) {
        /* A correction leaves a retired record retired. */
        rc = emit_version(c, entry, key, "correct", actor->org, reason, obj,
                          st.retired, x.salt,
                          &(struct pc_slice){ canon.data, canon.len });
        if (rc == PC_OK && obj != NULL) {
            /* The correction resolves the objection it names, citing the
             * correcting version. */
            rc = fsm_objection_resolve(c, os, olen, "correct",
                                       led_count(c->f->led), st.version + 1);
        }
    }
    pc_buf_release(&canon);
    jcs_doc_free(d);
    return rc;
}

int
fsm_rules_records(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    switch (c->cmd->type) {
    case CMD_RECORD_PUT:
        return record_put(c, actor);
    case CMD_RECORD_BATCH:
    case CMD_RECORD_BATCH2:
        return record_batch(c, actor);
    case CMD_RECORD_RETIRE:
        return record_retire(c, actor);
    case CMD_RECORD_CORRECT:
        return record_correct(c, actor);
    }
    return fsm_reject_detail(c, 400, "bad_request", NO_SLICE, NO_SLICE, NULL,
                             "unknown record command");
}

/* ---- read audit ------------------------------------------------------- */

int
fsm_rules_audit(struct fsm_ctx *c)
{
    const struct jcs_val *ev = NULL;
    struct jcs_writer w;
    struct jcs_doc *x = NULL;
    struct pc_buf p;
    size_t n;
    int rc = PC_OK;

    /* Encoding 2: the events are the document (audit.c). */
    if (c->cmd->body.len > 0) {
        return fsm_audit_apply_doc(c);
    }
    /* No extra reads as an object without events. */
    if (c->cmd->extra.len > 0) {
        rc = fsm_parse(c->cmd->extra.p, c->cmd->extra.len, &x, NULL);
        if (rc == PC_ENOMEM) {
            return rc;
        }
        if (rc != PC_OK || jcs_type(jcs_root(x)) != JCS_OBJECT) {
            jcs_doc_free(rc == PC_OK ? x : NULL);
            return fsm_reject_detail(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                                     NULL, "malformed audit batch");
        }
        ev = fsm_get(jcs_root(x), "events");
    }
    n = ev != NULL && jcs_type(ev) == JCS_ARRAY ? jcs_len(ev) : 0;
    if (n == 0 || n > AUDIT_MAX) {
        jcs_doc_free(x);
        return fsm_reject_detail(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                                 NULL, "an audit batch holds 1-%d events",
                                 AUDIT_MAX);
    }
    for (size_t i = 0; i < n; i++) {
        if (jcs_type(jcs_at(ev, i)) != JCS_OBJECT) {
            jcs_doc_free(x);
            return fsm_reject_detail(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                                     NULL, "audit event %zu is not an object",
                                     i);
        }
    }
    pc_buf_init(&p);
    jcs_w_init(&w, &p);
    jcs_w_obj(&w);
    jcs_w_key(&w, "events");
    jcs_w_val(&w, x, ev);
    jcs_w_obj_end(&w);
    rc = fsm_emit_w(c, FACT_AUDIT, NO_SLICE, NO_SLICE, &w);
    pc_buf_release(&p);
    jcs_doc_free(x);
    return rc;
}

int
fsm_records_replay_status(uint32_t type, const struct fact *first, int *status)
{
    struct jcs_doc *p;
    const char *op;
    size_t len;
    int rc;

    if (type != CMD_RECORD_PUT || first->kind != FACT_RECORD) {
        return PC_OK;
    }
    rc =
        jcs_parse((const char *)first->payload.p, first->payload.len, &p, NULL);
    if (rc != PC_OK) {
        return rc == PC_ENOMEM ? rc : PC_ECORRUPT;
    }
    op = fsm_get_str(jcs_root(p), "op", &len);
    *status =
        op != NULL && len == 6 && memcmp(op, "create", 6) == 0 ? 201 : 200;
    jcs_doc_free(p);
    return PC_OK;
}
