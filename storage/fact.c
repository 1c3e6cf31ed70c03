/* SPDX-License-Identifier: MIT */
/*
 * The canonical binary encoding of a fact, the bytes every replica hashes.
 * There is exactly one encoding per fact: minimal varints, fixed field order,
 * no optional padding, so decode(encode(f)) == f and encode(decode(b)) == b;
 * docs/format.md is the reference for the layout.
 *
 * Layout: format u8 | kind uv | revision uv | time_ms uv | principal lp |
 * request_id lp | idem_key lp | parent lp | id lp | version uv |
 * [prev_hash 32 iff version > 1] | flags u8 | [content_hash 32 iff flag 0] |
 * payload lp, where uv is a LEB128 uvarint and lp a uvarint length then the
 * bytes.
 */
#include "storage/fact.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "common/err.h"

#define FLAG_CONTENT 0x01u

/*
 * The map's names in lower case, as the API and docs spell them (C cannot
 * lower-case a token); a unit test checks that they agree with the map.
 */
static const char *const kind_names[FACT_KIND_MAX] = {
    [FACT_CLUSTER] = "cluster",
    [FACT_ORG] = "org",
    [FACT_PRINCIPAL] = "principal",
    [FACT_TICK] = "tick",
    [FACT_REJECTION] = "rejection",
    [FACT_MEMBER] = "member",
    [FACT_SECURITY] = "security",
    [FACT_ENTRY] = "entry",
    [FACT_RECORD] = "record",
    [FACT_AUDIT] = "audit",
    [FACT_CALENDAR] = "calendar",
    [FACT_OPERATION] = "operation",
    [FACT_SHARE_REQUEST] = "share_request",
    [FACT_GRANT] = "grant",
    [FACT_OPEN_REQUEST] = "open_request",
    [FACT_OBJECTION] = "objection",
    [FACT_REDACTION] = "redaction",
};

const char *
fact_kind_name(unsigned kind)
{
    if (kind >= FACT_KIND_MAX) {
        return NULL;
    }
    return kind_names[kind];
}

bool
fact_kind_known(unsigned kind)
{
    return fact_kind_name(kind) != NULL;
}

bool
fact_kind_versioned(unsigned kind)
{
    switch (kind) {
#define FACT_KIND_CASE(code, name, versioned) \
    case code:                                \
        return versioned;
        FACT_KIND_MAP(FACT_KIND_CASE)
#undef FACT_KIND_CASE
    default:
        return false;
    }
}

/* The rules shared by encode and decode, on an already filled `f`. */
static int
check_rules(const struct fact *f, int rc, char *errmsg)
{
    if (!fact_kind_known(f->kind)) {
        return pc_errmsgf(errmsg, rc,
                          "fact: unknown kind %" PRIu32 " at field \"kind\"",
                          f->kind);
    }
    if (f->revision < 1) {
        return pc_errmsgf(errmsg, rc, "fact: revision 0 at field \"revision\"");
    }
    if (f->time_ms < 0) {
        return pc_errmsgf(
            errmsg, rc, "fact: negative time %" PRId64 " at field \"time_ms\"",
            f->time_ms);
    }
    if (fact_kind_versioned(f->kind)) {
        if (f->version < 1) {
            return pc_errmsgf(errmsg, rc,
                              "fact: version 0 of versioned kind %s at field "
                              "\"version\"",
                              fact_kind_name(f->kind));
        }
    } else if (f->version != 0) {
        return pc_errmsgf(errmsg, rc,
                          "fact: version %" PRIu64 " of unversioned kind %s "
                          "at field \"version\"",
                          f->version, fact_kind_name(f->kind));
    }
    if (f->has_prev != (f->version > 1)) {
        return pc_errmsgf(errmsg, rc,
                          "fact: prev_hash %s for version %" PRIu64
                          " at field \"prev_hash\"",
                          f->has_prev ? "present" : "missing", f->version);
    }
    return PC_OK;
}

static size_t
uvarint_len(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t
lp_len(struct pc_slice s)
{
    return uvarint_len(s.len) + s.len;
}

int
fact_encoded_len(const struct fact *f, size_t *len, char *errmsg)
{
    static const char *const names[] = { "principal", "request_id", "idem_key",
                                         "parent", "id" };
    const struct pc_slice ids[] = { f->principal, f->request_id, f->idem_key,
                                    f->parent, f->id };
    size_t n;
    int rc;

    if (f->format != FACT_FORMAT_VERSION) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "fact: unknown format version %u at field "
                          "\"format\"",
                          f->format);
    }
    rc = check_rules(f, PC_EINVAL, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    n = 1 + uvarint_len(f->kind) + uvarint_len(f->revision) +
        uvarint_len((uint64_t)f->time_ms);
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        if (ids[i].len > FACT_MAX_ID) {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "fact: %zu bytes over the limit of %d at field "
                              "\"%s\"",
                              ids[i].len, FACT_MAX_ID, names[i]);
        }
        n += lp_len(ids[i]);
    }
    if (f->payload.len > FACT_MAX_PAYLOAD) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "fact: %zu bytes over the limit of %u at field "
                          "\"payload\"",
                          f->payload.len, FACT_MAX_PAYLOAD);
    }
    n += uvarint_len(f->version) + (f->has_prev ? PC_HASH_LEN : 0) + 1 +
         (f->has_content ? PC_HASH_LEN : 0) + lp_len(f->payload);
    *len = n;
    return PC_OK;
}

static uint8_t *
put_uvarint(uint8_t *p, uint64_t v)
{
    return p + pc_uvarint_encode(p, v);
}

static uint8_t *
put_bytes(uint8_t *p, const void *src, size_t n)
{
    if (n > 0) {
        memcpy(p, src, n);
    }
    return p + n;
}

/* A length-prefixed field; `*out`, when not NULL, names the copy. */
static uint8_t *
put_lp_at(uint8_t *p, struct pc_slice s, struct pc_slice *out)
{
    p = put_uvarint(p, s.len);
    if (out != NULL) {
        *out = (struct pc_slice){ p, s.len };
    }
    return put_bytes(p, s.p, s.len);
}

void
fact_encode_to(const struct fact *f, uint8_t *dst, size_t len,
               struct fact *stored)
{
    uint8_t *p = dst;
    struct fact *v = stored;

    if (v != NULL) {
        *v = *f;
    }
    *p++ = FACT_FORMAT_VERSION;
    p = put_uvarint(p, f->kind);
    p = put_uvarint(p, f->revision);
    p = put_uvarint(p, (uint64_t)f->time_ms);
    p = put_lp_at(p, f->principal, v ? &v->principal : NULL);
    p = put_lp_at(p, f->request_id, v ? &v->request_id : NULL);
    p = put_lp_at(p, f->idem_key, v ? &v->idem_key : NULL);
    p = put_lp_at(p, f->parent, v ? &v->parent : NULL);
    p = put_lp_at(p, f->id, v ? &v->id : NULL);
    p = put_uvarint(p, f->version);
    if (f->has_prev) {
        p = put_bytes(p, f->prev_hash, PC_HASH_LEN);
    }
    *p++ = f->has_content ? FLAG_CONTENT : 0;
    if (f->has_content) {
        p = put_bytes(p, f->content_hash, PC_HASH_LEN);
    }
    p = put_lp_at(p, f->payload, v ? &v->payload : NULL);
    /* A mismatch is our bug, and it would overrun the ledger's arena. */
    assert((size_t)(p - dst) == len);
    (void)len;
}

int
fact_encode(const struct fact *f, struct pc_buf *out, char *errmsg)
{
    size_t len;
    int rc;

    rc = fact_encoded_len(f, &len, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    if (pc_buf_reserve(out, len) != PC_OK) {
        return pc_errmsgf(errmsg, PC_ENOMEM, "fact: out of memory");
    }
    fact_encode_to(f, out->data + out->len, len, NULL);
    out->len += len;
    return PC_OK;
}

/*
 * A failed varint read is either the input ending inside it (every byte left
 * has its continuation bit) or a varint that is too long or not minimal.
 */
static int
rd_uvarint(struct pc_rd *r, uint64_t *v, const char *field, char *errmsg)
{
    size_t left = pc_rd_left(r);
    bool ended = true;

    if (pc_rd_uvarint(r, v) == PC_OK) {
        return PC_OK;
    }
    for (size_t i = 0; i < left && i < 10; i++) {
        if ((r->p[r->off + i] & 0x80) == 0) {
            ended = false;
            break;
        }
    }
    if (ended && left < 10) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "fact: truncated at field \"%s\"", field);
    }
    return pc_errmsgf(errmsg, PC_ECORRUPT,
                      "fact: overlong or non-minimal varint at field \"%s\"",
                      field);
}

static int
rd_lp(struct pc_rd *r, size_t max, struct pc_slice *out, const char *field,
      char *errmsg)
{
    uint64_t n;
    int rc;

    rc = rd_uvarint(r, &n, field, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    if (n > max) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "fact: length %" PRIu64 " over the limit of %zu at "
                          "field \"%s\"",
                          n, max, field);
    }
    if (pc_rd_bytes(r, (size_t)n, out) != PC_OK) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "fact: truncated at field \"%s\"", field);
    }
    return PC_OK;
}

static int
rd_hash(struct pc_rd *r, uint8_t out[PC_HASH_LEN], const char *field,
        char *errmsg)
{
    struct pc_slice s;

    if (pc_rd_bytes(r, PC_HASH_LEN, &s) != PC_OK) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "fact: truncated at field \"%s\"", field);
    }
    memcpy(out, s.p, PC_HASH_LEN);
    return PC_OK;
}

int
fact_decode(const uint8_t *p, size_t len, struct fact *out, char *errmsg)
{
    struct pc_slice *ids[5];
    static const char *const names[] = { "principal", "request_id", "idem_key",
                                         "parent", "id" };
    struct fact f;
    struct pc_rd r;
    uint64_t v;
    uint8_t flags;
    int rc;

    memset(&f, 0, sizeof(f));
    ids[0] = &f.principal;
    ids[1] = &f.request_id;
    ids[2] = &f.idem_key;
    ids[3] = &f.parent;
    ids[4] = &f.id;
    pc_rd_init(&r, p, len);
    if (pc_rd_u8(&r, &f.format) != PC_OK) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "fact: truncated at field \"format\"");
    }
    if (f.format != FACT_FORMAT_VERSION) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "fact: unknown format version %u at field "
                          "\"format\"",
                          f.format);
    }
    rc = rd_uvarint(&r, &v, "kind", errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    if (!fact_kind_known(v > UINT32_MAX ? FACT_KIND_MAX : (unsigned)v)) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "fact: unknown kind %" PRIu64 " at field \"kind\"",
                          v);
    }
    f.kind = (uint32_t)v;
    rc = rd_uvarint(&r, &f.revision, "revision", errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    rc = rd_uvarint(&r, &v, "time_ms", errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    if (v > INT64_MAX) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "fact: time %" PRIu64 " out of range at field "
                          "\"time_ms\"",
                          v);
    }
    f.time_ms = (int64_t)v;
    for (size_t i = 0; i < 5; i++) {
        rc = rd_lp(&r, FACT_MAX_ID, ids[i], names[i], errmsg);
        if (rc != PC_OK) {
            return rc;
        }
    }
    rc = rd_uvarint(&r, &f.version, "version", errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    f.has_prev = f.version > 1;
    /* The rules now, so a bad version is named before its missing bytes. */
    rc = check_rules(&f, PC_ECORRUPT, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    if (f.has_prev) {
        rc = rd_hash(&r, f.prev_hash, "prev_hash", errmsg);
        if (rc != PC_OK) {
            return rc;
        }
    }
    if (pc_rd_u8(&r, &flags) != PC_OK) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "fact: truncated at field \"flags\"");
    }
    if ((flags & ~FLAG_CONTENT) != 0) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "fact: unknown bits 0x%02x at field \"flags\"",
                          flags & ~FLAG_CONTENT);
    }
    f.has_content = (flags & FLAG_CONTENT) != 0;
    if (f.has_content) {
        rc = rd_hash(&r, f.content_hash, "content_hash", errmsg);
        if (rc != PC_OK) {
            return rc;
        }
    }
    rc = rd_lp(&r, FACT_MAX_PAYLOAD, &f.payload, "payload", errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    if (pc_rd_left(&r) != 0) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "fact: %zu trailing bytes after field \"payload\"",
                          pc_rd_left(&r));
    }
    *out = f;
    return PC_OK;
}

void
fact_leaf_hash(uint8_t out[PC_HASH_LEN], const uint8_t *enc, size_t len)
{
    pc_hash_prefixed(out, PC_HASH_LEAF, enc, len, NULL, 0);
}
