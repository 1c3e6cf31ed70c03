/* SPDX-License-Identifier: MIT */
/*
 * Snapshot codec. Layout (docs/format.md has the reference):
 *
 *   header  "PCSNAP\r\n" | version u32 | count u64 | revision u64 | root 32 |
 *           xxh64(header so far) u64
 *   frame*  raw_len u32 | stored_len u32 (0: raw) | xxh64(stored bytes) u64 |
 *           stored bytes (an LZ4 block of raw_len bytes, or the raw bytes)
 *   trailer 0xFFFFFFFF | count u64 | revision u64 | root 32 |
 *           xxh64(every frame header and payload) u64 | xxh64(trailer so far)
 *
 * A frame's raw bytes are whole fact records: raft index uv | encoding lp |
 * doc state u8 | [salt 16 | document lp, iff state is 1]. All integers are
 * little-endian, xxHash64 has seed 0. The decoder trusts nothing: it checks
 * each checksum before it looks inside, decompresses into a buffer of exactly
 * the declared size, and lets the ledger re-check every fact, so the ledger
 * it returns is the one whose root the header promised.
 */
#include "storage/snap.h"

#include <inttypes.h>
#include <string.h>

#include <lz4.h>
#define XXH_STATIC_LINKING_ONLY /* XXH64_state_t on the stack */
#include <xxhash.h>

#include "common/alloc.h"
#include "common/err.h"

/*
 * The document argument that tells led_append_encoded the fact's document
 * was redacted: there is nothing to hash, the fact keeps its content hash.
 */
static const struct led_doc redacted_doc = { NULL, NULL, 0 };

static void
put_u32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void
put_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint32_t
get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t
get_u64le(const uint8_t *p)
{
    return (uint64_t)get_u32le(p) | (uint64_t)get_u32le(p + 4) << 32;
}

/* Encoder state: one frame of raw records being filled, then flushed. */
struct enc {
    snap_write_cb write;
    void *arg;
    struct pc_buf raw;  /* records of the current frame */
    struct pc_buf comp; /* LZ4 output */
    struct pc_buf doc;  /* scratch for one document */
    XXH64_state_t all;  /* over every frame header and payload */
    uint64_t n_frames;
    char *errmsg;
};

static int
enc_emit(struct enc *e, const void *p, size_t n)
{
    int rc = e->write(e->arg, p, n);

    if (rc != PC_OK) {
        if (rc > 0) {
            rc = PC_EIO;
        }
        return pc_errmsgf(e->errmsg, rc, "snapshot: write: %s",
                          pc_strerror(rc));
    }
    return PC_OK;
}

/* Compress (if that helps) and write the current frame; empties `raw`. */
static int
enc_flush(struct enc *e)
{
    uint8_t hdr[SNAP_FRAME_HEADER_LEN];
    const uint8_t *stored = e->raw.data;
    size_t stored_len = e->raw.len;
    uint32_t clen = 0;
    int bound;
    int rc;

    if (e->raw.len == 0) {
        return PC_OK;
    }
    bound = LZ4_compressBound((int)e->raw.len);
    if (e->comp.cap < (size_t)bound) {
        e->comp.len = 0;
        rc = pc_buf_reserve(&e->comp, (size_t)bound);
        if (rc != PC_OK) {
            return pc_errmsgf(e->errmsg, rc, "snapshot: out of memory");
        }
    }
    int n = LZ4_compress_default((const char *)e->raw.data,
                                 (char *)e->comp.data, (int)e->raw.len, bound);
    if (n > 0 && (size_t)n < e->raw.len) {
        stored = e->comp.data;
        stored_len = (size_t)n;
        clen = (uint32_t)n;
    }
    put_u32le(hdr, (uint32_t)e->raw.len);
    put_u32le(hdr + 4, clen);
    put_u64le(hdr + 8, XXH64(stored, stored_len, 0));
    XXH64_update(&e->all, hdr, sizeof(hdr));
    XXH64_update(&e->all, stored, stored_len);
    rc = enc_emit(e, hdr, sizeof(hdr));
    if (rc == PC_OK) {
        rc = enc_emit(e, stored, stored_len);
    }
    e->raw.len = 0;
    e->n_frames++;
    return rc;
}

/* Append fact `rev` of `v` as one record, flushing first if it won't fit. */
static int
enc_fact(struct enc *e, const struct led_view *v, uint64_t rev)
{
    uint8_t salt[PC_SALT_LEN];
    uint8_t vi[10], vl[10], vd[10];
    struct pc_slice enc;
    uint8_t state;
    size_t nvi, nvl, nvd = 0, need;
    int rc;

    rc = led_view_encoding(v, rev, &enc);
    if (rc != PC_OK) {
        return pc_errmsgf(e->errmsg, PC_ECORRUPT,
                          "snapshot: fact %" PRIu64 ": not in the view", rev);
    }
    e->doc.len = 0;
    rc = led_view_doc(v, rev, &e->doc, salt);
    switch (rc) {
    case PC_OK:
        state = LED_DOC_PRESENT;
        break;
    case PC_ENOTFOUND:
        state = LED_DOC_NONE;
        break;
    case PC_EFORBIDDEN:
        state = LED_DOC_REDACTED;
        break;
    case PC_ENOMEM:
        return pc_errmsgf(e->errmsg, rc, "snapshot: out of memory");
    default:
        return pc_errmsgf(e->errmsg, rc,
                          "snapshot: fact %" PRIu64 ": read document: %s", rev,
                          pc_strerror(rc));
    }
    nvi = pc_uvarint_encode(vi, led_view_raft_index(v, rev));
    nvl = pc_uvarint_encode(vl, enc.len);
    need = nvi + nvl + enc.len + 1;
    if (state == LED_DOC_PRESENT) {
        nvd = pc_uvarint_encode(vd, e->doc.len);
        need += PC_SALT_LEN + nvd + e->doc.len;
    }
    if (need > SNAP_RECORD_MAX) {
        /* The decoder would refuse it: fail here, not at restore time. */
        return pc_errmsgf(e->errmsg, PC_ETOOLARGE,
                          "snapshot: fact %" PRIu64 ": record of %zu bytes "
                          "over the limit of %u",
                          rev, need, SNAP_RECORD_MAX);
    }
    if (e->raw.len > 0 && e->raw.len + need > SNAP_FRAME_RAW_MAX) {
        rc = enc_flush(e);
        if (rc != PC_OK) {
            return rc;
        }
    }
    rc = pc_buf_reserve(&e->raw, need);
    if (rc != PC_OK) {
        return pc_errmsgf(e->errmsg, rc, "snapshot: out of memory");
    }
    uint8_t *w = e->raw.data + e->raw.len;
    memcpy(w, vi, nvi);
    w += nvi;
    memcpy(w, vl, nvl);
    w += nvl;
    memcpy(w, enc.p, enc.len);
    w += enc.len;
    *w++ = state;
    if (state == LED_DOC_PRESENT) {
        memcpy(w, salt, PC_SALT_LEN);
        w += PC_SALT_LEN;
        memcpy(w, vd, nvd);
        w += nvd;
        if (e->doc.len > 0) {
            memcpy(w, e->doc.data, e->doc.len);
        }
    }
    e->raw.len += need;
    /* A record over the frame limit travels alone. */
    if (e->raw.len >= SNAP_FRAME_RAW_MAX) {
        return enc_flush(e);
    }
    return PC_OK;
}

int
snap_encode(const struct led_view *v, snap_write_cb write, void *arg,
            char *errmsg)
{
    uint8_t hdr[SNAP_HEADER_LEN];
    uint8_t tr[SNAP_TRAILER_LEN];
    uint8_t root[PC_HASH_LEN];
    uint64_t count = led_view_count(v);
    struct enc e;
    int rc;

    memset(&e, 0, sizeof(e));
    e.write = write;
    e.arg = arg;
    e.errmsg = errmsg;
    XXH64_reset(&e.all, 0);
    led_view_root(v, root);

    memcpy(hdr, SNAP_MAGIC, SNAP_MAGIC_LEN);
    put_u32le(hdr + 8, SNAP_VERSION);
    put_u64le(hdr + 12, count);
    put_u64le(hdr + 20, count);
    memcpy(hdr + 28, root, PC_HASH_LEN);
    put_u64le(hdr + 60, XXH64(hdr, 60, 0));
    rc = enc_emit(&e, hdr, sizeof(hdr));
    for (uint64_t rev = 1; rc == PC_OK && rev <= count; rev++) {
        rc = enc_fact(&e, v, rev);
    }
    if (rc == PC_OK) {
        rc = enc_flush(&e);
    }
    if (rc == PC_OK) {
        put_u32le(tr, SNAP_TRAILER_MARKER);
        put_u64le(tr + 4, count);
        put_u64le(tr + 12, count);
        memcpy(tr + 20, root, PC_HASH_LEN);
        put_u64le(tr + 52, XXH64_digest(&e.all));
        put_u64le(tr + 60, XXH64(tr, 60, 0));
        rc = enc_emit(&e, tr, sizeof(tr));
    }
    pc_buf_release(&e.raw);
    pc_buf_release(&e.comp);
    pc_buf_release(&e.doc);
    return rc;
}

static int
buf_write(void *arg, const void *p, size_t n)
{
    return pc_buf_put(arg, p, n);
}

int
snap_encode_buf(const struct led_view *v, struct pc_buf *out, char *errmsg)
{
    size_t start = out->len;
    int rc = snap_encode(v, buf_write, out, errmsg);

    if (rc != PC_OK) {
        out->len = start;
    }
    return rc;
}

/* Header fields after the checksum check; shared by peek and decode. */
static int
read_header(const uint8_t *p, size_t len, struct snap_info *info, char *errmsg)
{
    if (len < SNAP_HEADER_LEN) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "snapshot: truncated header (%zu of %d bytes)", len,
                          SNAP_HEADER_LEN);
    }
    if (memcmp(p, SNAP_MAGIC, SNAP_MAGIC_LEN) != 0) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "snapshot: bad magic (not a provcat snapshot)");
    }
    if (get_u64le(p + 60) != XXH64(p, 60, 0)) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "snapshot: header: checksum mismatch");
    }
    info->version = get_u32le(p + 8);
    if (info->version != SNAP_VERSION) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "snapshot: unsupported format version %" PRIu32,
                          info->version);
    }
    info->count = get_u64le(p + 12);
    info->revision = get_u64le(p + 20);
    memcpy(info->root, p + 28, PC_HASH_LEN);
    if (info->revision != info->count) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "snapshot: header: revision %" PRIu64
                          " is not the fact count %" PRIu64,
                          info->revision, info->count);
    }
    return PC_OK;
}

int
snap_peek(const uint8_t *p, size_t len, struct snap_info *info, char *errmsg)
{
    struct snap_info tmp;
    int rc = read_header(p, len, &tmp, errmsg);

    if (rc == PC_OK) {
        *info = tmp;
    }
    return rc;
}

/* Decoder state. */
struct dec {
    struct led *l;
    struct snap_info info;
    struct pc_buf raw; /* the current frame, decompressed */
    uint64_t n_facts;  /* appended so far */
    char *errmsg;
};

/* Map the ledger's verdict on fact `rev` to ours, with context. */
static int
dec_led_error(struct dec *d, int rc)
{
    if (rc == PC_ENOMEM) {
        return pc_errmsgf(d->errmsg, rc, "snapshot: out of memory");
    }
    return pc_errmsg_wrap(d->errmsg, PC_ECORRUPT, "snapshot: fact %" PRIu64,
                          d->n_facts + 1);
}

/*
 * Append the records of one frame's `n` raw bytes; `frame` and `at` (its
 * offset in the snapshot) only name it in messages.
 */
static int
dec_records(struct dec *d, const uint8_t *p, size_t n, uint64_t frame,
            size_t at)
{
    struct pc_rd r;
    uint64_t in_frame = 0;
    int rc;

    pc_rd_init(&r, p, n);
    while (pc_rd_left(&r) > 0) {
        struct pc_slice enc, salt, json;
        struct led_doc doc;
        const struct led_doc *dp = NULL;
        uint64_t raft_index;
        uint8_t state;
        size_t rec_at = r.off;
        const char *what;

        if (n > SNAP_FRAME_RAW_MAX && in_frame > 0) {
            return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                              "snapshot: frame %" PRIu64 " at byte %zu: "
                              "over %u bytes but holds more than one record",
                              frame, at, SNAP_FRAME_RAW_MAX);
        }
        if (d->n_facts >= d->info.count) {
            return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                              "snapshot: frame %" PRIu64 " at byte %zu: "
                              "more facts than the header's %" PRIu64,
                              frame, at, d->info.count);
        }
        what = "raft index";
        rc = pc_rd_uvarint(&r, &raft_index);
        if (rc == PC_OK) {
            what = "encoding";
            rc = pc_rd_lp(&r, pc_rd_left(&r), &enc);
        }
        if (rc == PC_OK) {
            what = "document state";
            rc = pc_rd_u8(&r, &state);
        }
        if (rc == PC_OK && state > LED_DOC_REDACTED) {
            return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                              "snapshot: fact %" PRIu64 " in frame %" PRIu64
                              ": unknown document state %u",
                              d->n_facts + 1, frame, state);
        }
        if (rc == PC_OK && state == LED_DOC_PRESENT) {
            what = "salt";
            rc = pc_rd_bytes(&r, PC_SALT_LEN, &salt);
            if (rc == PC_OK) {
                what = "document";
                rc = pc_rd_lp(&r, FACT_MAX_DOC, &json);
            }
            doc.salt = salt.p;
            doc.json = json.p;
            doc.len = json.len;
            dp = &doc;
        } else if (rc == PC_OK && state == LED_DOC_REDACTED) {
            dp = &redacted_doc;
        }
        if (rc != PC_OK) {
            return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                              "snapshot: fact %" PRIu64 " in frame %" PRIu64
                              " at byte %zu: bad or truncated %s (a record "
                              "must end inside its frame)",
                              d->n_facts + 1, frame, at + rec_at, what);
        }
        rc =
            led_append_encoded(d->l, enc.p, enc.len, dp, raft_index, d->errmsg);
        if (rc != PC_OK) {
            return dec_led_error(d, rc);
        }
        d->n_facts++;
        in_frame++;
    }
    return PC_OK;
}

/*
 * Verify and decode the frame whose header starts at `off`; on success
 * `*next` is the offset after it.
 */
static int
dec_frame(struct dec *d, const uint8_t *p, size_t len, size_t off,
          uint64_t frame, XXH64_state_t *all, size_t *next)
{
    const uint8_t *h = p + off;
    const uint8_t *stored;
    uint32_t raw_len, clen;
    size_t stored_len;
    int rc;

    if (len - off < SNAP_FRAME_HEADER_LEN) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: frame %" PRIu64 " at byte %zu: "
                          "truncated header",
                          frame, off);
    }
    raw_len = get_u32le(h);
    clen = get_u32le(h + 4);
    if (raw_len == 0 || raw_len > SNAP_RECORD_MAX) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: frame %" PRIu64 " at byte %zu: "
                          "bad raw length %" PRIu32,
                          frame, off, raw_len);
    }
    if (clen >= raw_len) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: frame %" PRIu64 " at byte %zu: "
                          "compressed length %" PRIu32
                          " not below raw length %" PRIu32,
                          frame, off, clen, raw_len);
    }
    stored_len = clen != 0 ? clen : raw_len;
    if (len - off - SNAP_FRAME_HEADER_LEN < stored_len) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: frame %" PRIu64 " at byte %zu: "
                          "truncated (%zu of %zu bytes)",
                          frame, off, len - off - SNAP_FRAME_HEADER_LEN,
                          stored_len);
    }
    stored = h + SNAP_FRAME_HEADER_LEN;
    if (XXH64(stored, stored_len, 0) != get_u64le(h + 8)) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: frame %" PRIu64 " at byte %zu: "
                          "checksum mismatch",
                          frame, off);
    }
    XXH64_update(all, h, SNAP_FRAME_HEADER_LEN + stored_len);
    if (clen != 0) {
        if (d->raw.cap < raw_len) {
            d->raw.len = 0;
            rc = pc_buf_reserve(&d->raw, raw_len);
            if (rc != PC_OK) {
                return pc_errmsgf(d->errmsg, rc, "snapshot: out of memory");
            }
        }
        int n = LZ4_decompress_safe((const char *)stored, (char *)d->raw.data,
                                    (int)clen, (int)raw_len);
        if (n < 0 || (uint32_t)n != raw_len) {
            return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                              "snapshot: frame %" PRIu64 " at byte %zu: "
                              "bad LZ4 data (%d of %" PRIu32 " bytes)",
                              frame, off, n, raw_len);
        }
        stored = d->raw.data;
    }
    rc = dec_records(d, stored, raw_len, frame, off + SNAP_FRAME_HEADER_LEN);
    if (rc != PC_OK) {
        return rc;
    }
    *next = off + SNAP_FRAME_HEADER_LEN + stored_len;
    return PC_OK;
}

/* Check the trailer at `off` against the header, the frames and the ledger. */
static int
dec_trailer(struct dec *d, const uint8_t *p, size_t len, size_t off,
            uint64_t frames_xxh)
{
    const uint8_t *t = p + off;
    uint8_t root[PC_HASH_LEN];

    if (len - off < SNAP_TRAILER_LEN) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: trailer at byte %zu: truncated", off);
    }
    if (len - off > SNAP_TRAILER_LEN) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: %zu bytes of garbage after the trailer",
                          len - off - SNAP_TRAILER_LEN);
    }
    if (get_u64le(t + 60) != XXH64(t, 60, 0)) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: trailer at byte %zu: checksum mismatch",
                          off);
    }
    if (get_u64le(t + 52) != frames_xxh) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: trailer: frames checksum mismatch");
    }
    if (get_u64le(t + 4) != d->info.count ||
        get_u64le(t + 12) != d->info.revision) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: trailer: count %" PRIu64
                          " / revision %" PRIu64
                          " differ from the header's %" PRIu64,
                          get_u64le(t + 4), get_u64le(t + 12), d->info.count);
    }
    if (memcmp(t + 20, d->info.root, PC_HASH_LEN) != 0) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: trailer: root differs from the header's");
    }
    if (d->n_facts != d->info.count) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: %" PRIu64 " facts, header says %" PRIu64,
                          d->n_facts, d->info.count);
    }
    led_root(d->l, root);
    if (memcmp(root, d->info.root, PC_HASH_LEN) != 0) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: root of the %" PRIu64
                          " decoded facts differs from the header's",
                          d->n_facts);
    }
    return PC_OK;
}

int
snap_decode(const uint8_t *p, size_t len, struct led **out, char *errmsg)
{
    XXH64_state_t all;
    struct dec d;
    size_t off;
    int rc;

    memset(&d, 0, sizeof(d));
    d.errmsg = errmsg;
    rc = read_header(p, len, &d.info, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    rc = led_new(&d.l);
    if (rc != PC_OK) {
        return pc_errmsgf(errmsg, rc, "snapshot: out of memory");
    }
    XXH64_reset(&all, 0);
    off = SNAP_HEADER_LEN;
    for (uint64_t frame = 1;; frame++) {
        if (len - off >= 4 && get_u32le(p + off) == SNAP_TRAILER_MARKER) {
            rc = dec_trailer(&d, p, len, off, XXH64_digest(&all));
            break;
        }
        if (len - off < SNAP_FRAME_HEADER_LEN) {
            rc = pc_errmsgf(errmsg, PC_ECORRUPT,
                            "snapshot: truncated at byte %zu (frame or "
                            "trailer expected)",
                            off);
            break;
        }
        rc = dec_frame(&d, p, len, off, frame, &all, &off);
        if (rc != PC_OK) {
            break;
        }
    }
    pc_buf_release(&d.raw);
    if (rc != PC_OK) {
        led_free(d.l);
        return rc;
    }
    *out = d.l;
    return PC_OK;
}
