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

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <lz4.h>
#define XXH_STATIC_LINKING_ONLY /* XXH64_state_t on the stack */
#include <xxhash.h>

#include "common/alloc.h"
#include "common/err.h"
#include "storage/storage_int.h"

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

/*
 * Encoder state, kept between steps: the frame of raw records being filled
 * (flushed when the next record would not fit, so where the steps split the
 * facts changes no byte of the output), the running checksum over every
 * frame, and the next revision to encode. The sink is the current step's.
 */
struct snap_enc {
    snap_write_cb write;
    void *arg;
    struct pc_buf raw;  /* records of the current frame */
    struct pc_buf comp; /* LZ4 output */
    struct pc_buf doc;  /* scratch for one document */
    XXH64_state_t all;  /* over every frame header and payload */
    uint64_t n_frames;
    uint64_t next;        /* revision the next step starts at */
    uint64_t frame_first; /* revision of the first record in `raw` */
    struct snap_cache *cache;
    size_t cache_next; /* the cached frame to copy next */
    bool failed;       /* a step failed: only snap_enc_free remains */
    char *errmsg;
};

/*
 * Frames an encoder closed for good, from revision 1 on without a gap. A
 * frame is closed for good when the next record did not fit (or its one
 * record fills it): the same facts frame the same way every time. The last
 * frame of a snapshot is not kept, since the next snapshot fills it further.
 */
struct cached_frame {
    uint64_t first; /* revision of its first record */
    uint64_t n_facts;
    uint8_t hdr[SNAP_FRAME_HEADER_LEN];
    uint8_t *stored;
    size_t stored_len;
};

struct snap_cache {
    struct cached_frame *f;
    size_t n, cap;
    uint64_t end;   /* revision after the last cached frame's facts */
    size_t bytes;   /* stored bytes held */
    uint64_t limit; /* on `bytes` */
};

int
snap_cache_new(struct snap_cache **out, uint64_t limit)
{
    struct snap_cache *c = pc_calloc(1, sizeof(*c));

    if (c == NULL) {
        return PC_ENOMEM;
    }
    c->end = 1;
    c->limit = limit;
    *out = c;
    return PC_OK;
}

void
snap_cache_clear(struct snap_cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        pc_free(c->f[i].stored);
    }
    pc_free(c->f);
    *c = (struct snap_cache){ .end = 1, .limit = c->limit };
}

void
snap_cache_free(struct snap_cache *c)
{
    if (c != NULL) {
        snap_cache_clear(c);
        pc_free(c);
    }
}

uint64_t
snap_cache_facts(const struct snap_cache *c)
{
    return c->end - 1;
}

size_t
snap_cache_bytes(const struct snap_cache *c)
{
    return c->bytes + c->cap * sizeof(*c->f);
}

/* Keep a frame closed for good that starts where the cache ends. At its
 * limit or out of memory, the cache just stops growing: it is an
 * optimisation. */
static void
cache_add(struct snap_cache *c, uint64_t first, uint64_t n_facts,
          const uint8_t *hdr, const uint8_t *stored, size_t len)
{
    struct cached_frame *f;

    if (first != c->end || len > c->limit - c->bytes) {
        return;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap == 0 ? 64 : c->cap * 2;
        f = pc_realloc(c->f, cap * sizeof(*f));
        if (f == NULL) {
            return;
        }
        c->f = f;
        c->cap = cap;
    }
    f = &c->f[c->n];
    f->stored = pc_malloc(len);
    if (f->stored == NULL) {
        return;
    }
    memcpy(f->stored, stored, len);
    memcpy(f->hdr, hdr, SNAP_FRAME_HEADER_LEN);
    f->stored_len = len;
    f->first = first;
    f->n_facts = n_facts;
    c->n++;
    c->end += n_facts;
    c->bytes += len;
}

static int
enc_emit(struct snap_enc *e, const void *p, size_t n)
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

/* Write one frame (header and stored bytes) and add it to the running
 * checksum. */
static int
enc_frame(struct snap_enc *e, const uint8_t *hdr, const uint8_t *stored,
          size_t stored_len)
{
    int rc;

    XXH64_update(&e->all, hdr, SNAP_FRAME_HEADER_LEN);
    XXH64_update(&e->all, stored, stored_len);
    rc = enc_emit(e, hdr, SNAP_FRAME_HEADER_LEN);
    if (rc == PC_OK) {
        rc = enc_emit(e, stored, stored_len);
    }
    e->n_frames++;
    return rc;
}

/* Compress (if that helps) and write the current frame; empties `raw`.
 * `last`: the revision of its last record when no later record can join
 * it (see struct cached_frame), else 0. */
static int
enc_flush(struct snap_enc *e, uint64_t last)
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
    if (last != 0 && e->cache != NULL) {
        cache_add(e->cache, e->frame_first, last + 1 - e->frame_first, hdr,
                  stored, stored_len);
    }
    rc = enc_frame(e, hdr, stored, stored_len);
    e->raw.len = 0;
    return rc;
}

/* Copy the cached frames that start at the next revision and whose facts
 * `v` holds (`count`), instead of encoding those facts again. */
static int
enc_cached(struct snap_enc *e, uint64_t count)
{
    const struct snap_cache *c = e->cache;
    int rc = PC_OK;

    while (rc == PC_OK && e->raw.len == 0 && e->cache_next < c->n &&
           c->f[e->cache_next].first == e->next &&
           e->next - 1 + c->f[e->cache_next].n_facts <= count) {
        const struct cached_frame *f = &c->f[e->cache_next++];
        rc = enc_frame(e, f->hdr, f->stored, f->stored_len);
        e->next += f->n_facts;
    }
    return rc;
}

/* Append fact `rev` of `v` as one record, flushing first if it won't fit. */
static int
enc_fact(struct snap_enc *e, const struct led_view *v, uint64_t rev)
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
        rc = enc_flush(e, rev - 1);
        if (rc != PC_OK) {
            return rc;
        }
    }
    if (e->raw.len == 0) {
        e->frame_first = rev;
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
        return enc_flush(e, rev);
    }
    return PC_OK;
}

void
snap_header(uint64_t count, const uint8_t root[PC_HASH_LEN],
            uint8_t out[SNAP_HEADER_LEN])
{
    memcpy(out, SNAP_MAGIC, SNAP_MAGIC_LEN);
    put_u32le(out + 8, SNAP_VERSION);
    put_u64le(out + 12, count);
    put_u64le(out + 20, count);
    memcpy(out + 28, root, PC_HASH_LEN);
    put_u64le(out + 60, XXH64(out, 60, 0));
}

int
snap_enc_new(struct snap_enc **out, struct snap_cache *cache)
{
    struct snap_enc *e = pc_calloc(1, sizeof(*e));

    if (e == NULL) {
        return PC_ENOMEM;
    }
    XXH64_reset(&e->all, 0);
    e->next = 1;
    e->cache = cache;
    *out = e;
    return PC_OK;
}

void
snap_enc_free(struct snap_enc *e)
{
    if (e == NULL) {
        return;
    }
    pc_buf_release(&e->raw);
    pc_buf_release(&e->comp);
    pc_buf_release(&e->doc);
    pc_free(e);
}

uint64_t
snap_enc_count(const struct snap_enc *e)
{
    return e->next - 1;
}

int
snap_enc_step(struct snap_enc *e, const struct led_view *v, snap_write_cb write,
              void *arg, char *errmsg)
{
    uint64_t count = led_view_count(v);
    int rc = PC_OK;

    assert(!e->failed && count >= e->next - 1);
    e->write = write;
    e->arg = arg;
    e->errmsg = errmsg;
    if (e->cache != NULL) {
        rc = enc_cached(e, count);
    }
    for (; rc == PC_OK && e->next <= count; e->next++) {
        rc = enc_fact(e, v, e->next);
    }
    e->failed = rc != PC_OK;
    return rc;
}

int
snap_enc_finish(struct snap_enc *e, const struct led_view *v,
                snap_write_cb write, void *arg, char *errmsg)
{
    uint8_t tr[SNAP_TRAILER_LEN];
    uint8_t root[PC_HASH_LEN];
    uint64_t count = led_view_count(v);
    int rc;

    rc = snap_enc_step(e, v, write, arg, errmsg);
    if (rc == PC_OK) {
        rc = enc_flush(e, 0);
    }
    if (rc == PC_OK) {
        led_view_root(v, root);
        put_u32le(tr, SNAP_TRAILER_MARKER);
        put_u64le(tr + 4, count);
        put_u64le(tr + 12, count);
        memcpy(tr + 20, root, PC_HASH_LEN);
        put_u64le(tr + 52, XXH64_digest(&e->all));
        put_u64le(tr + 60, XXH64(tr, 60, 0));
        rc = enc_emit(e, tr, sizeof(tr));
    }
    e->failed = true; /* finished, or failed: either way done */
    return rc;
}

int
snap_encode(const struct led_view *v, snap_write_cb write, void *arg,
            char *errmsg)
{
    uint8_t hdr[SNAP_HEADER_LEN];
    uint8_t root[PC_HASH_LEN];
    struct snap_enc *e;
    int rc;

    rc = snap_enc_new(&e, NULL);
    if (rc != PC_OK) {
        return pc_errmsgf(errmsg, rc, "snapshot: out of memory");
    }
    led_view_root(v, root);
    snap_header(led_view_count(v), root, hdr);
    e->write = write;
    e->arg = arg;
    e->errmsg = errmsg;
    rc = enc_emit(e, hdr, sizeof(hdr));
    if (rc == PC_OK) {
        rc = snap_enc_finish(e, v, write, arg, errmsg);
    }
    snap_enc_free(e);
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

/* Record where a snapshot is damaged, if the caller wants to know. */
static void
damage_at(struct snap_damage *dmg, enum snap_part part, uint64_t frame,
          uint64_t byte, uint64_t fact)
{
    if (dmg != NULL) {
        *dmg = (struct snap_damage){ part, frame, byte, fact };
    }
}

/* Header fields after the checksum check; shared by peek and decode. */
static int
read_header(const uint8_t *p, size_t len, struct snap_info *info,
            struct snap_damage *dmg, char *errmsg)
{
    damage_at(dmg, SNAP_PART_HEADER, 0, 0, 0);
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
    damage_at(dmg, SNAP_PART_HEADER, 0, 8, 0);
    if (info->version != SNAP_VERSION) {
        return pc_errmsgf(errmsg, PC_ECORRUPT,
                          "snapshot: unsupported format version %" PRIu32,
                          info->version);
    }
    info->count = get_u64le(p + 12);
    info->revision = get_u64le(p + 20);
    memcpy(info->root, p + 28, PC_HASH_LEN);
    damage_at(dmg, SNAP_PART_HEADER, 0, 12, 0);
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
    int rc = read_header(p, len, &tmp, NULL, errmsg);

    if (rc == PC_OK) {
        *info = tmp;
    }
    return rc;
}

/*
 * Decoding runs in two stages so that it can use two cores while checking
 * every fact exactly once, in order. A scan of the frame headers (cheap, in
 * order) lists the frames up to the trailer or up to the first bad header.
 * Then each frame is *prepared* (its checksum verified, LZ4 decompressed
 * into a buffer of the declared size, its records parsed, and each fact's
 * leaf and content hashes computed: the bulk of the work) by whichever
 * thread claims it first, the decoder's own or a worker, at most WINDOW
 * frames ahead of the one being appended; and the decoder's thread
 * *appends* the prepared frames in order through led_append_pre, which runs
 * every check of led_append_encoded (revisions, time, chains, content hash
 * against the fact's, size rules) with the hashes given. A problem found
 * while scanning or preparing is kept with its frame and reported only when
 * the appends reach it, so the error (and its message) is the one a purely
 * sequential decoder would report first, whatever the number of workers.
 */
#define WINDOW_PER_THREAD 2 /* frames in flight per thread */
#define MAX_WORKERS       8

/* One record of a prepared frame, pointing into the frame's raw bytes. */
struct prec {
    uint64_t raft_index;
    struct pc_slice enc;
    uint8_t state; /* LED_DOC_* */
    struct led_doc doc;
    struct led_pre pre;
    uint32_t kind; /* from the encoding, for the summary (0: unreadable) */
    bool first;    /* version 1 of a versioned kind: a new entity */
};

/* Why the records of a prepared frame stop before its end. */
enum perr {
    PERR_NONE = 0,
    PERR_PARSE, /* bad or truncated field `what` of a record at `at` */
    PERR_STATE, /* unknown document state `state` */
    PERR_NOMEM, /* the record array could not grow */
    PERR_SPLIT, /* a frame over SNAP_FRAME_RAW_MAX with a second record */
};

/* A scanned frame and, once prepared, its records. */
struct frame {
    size_t off;        /* of its header in the snapshot */
    uint32_t raw_len;  /* declared */
    uint32_t clen;     /* 0: stored raw */
    size_t stored_len; /* bytes after the header */
};

/* Where a frame is prepared: one of WINDOW, reused round-robin. */
struct slot {
    bool ready; /* prepared; the appends may read it */
    int rc;     /* PC_OK, or a frame-level error (msg) */
    char msg[PC_ERRMSG_SIZE];
    struct pc_buf raw; /* decompressed bytes */
    struct prec *recs; /* parsed records */
    size_t n_recs, cap_recs;
    enum perr perr;   /* after n_recs records */
    const char *what; /* PERR_PARSE */
    size_t at;        /* PERR_PARSE: offset of the record in the frame */
    uint8_t state;    /* PERR_STATE */
};

/* Decoder state. */
struct dec {
    const uint8_t *p;
    size_t len;
    struct led *l;
    struct snap_info info;
    uint64_t n_facts; /* appended so far */
    char *errmsg;

    struct snap_damage dmg; /* where the error being returned was found */
    uint64_t facts_of[FACT_KIND_MAX];    /* appended, by kind */
    uint64_t entities_of[FACT_KIND_MAX]; /* version-1 facts, by kind */
    uint64_t documents, redacted;

    struct frame *frames; /* scanned, in order */
    size_t n_frames, cap_frames;
    size_t end_off; /* where the scan stopped: trailer or bad bytes */
    int scan_rc;    /* PC_OK (trailer at end_off) or the scan error */
    char scan_msg[PC_ERRMSG_SIZE];
    struct snap_damage scan_dmg; /* with scan_rc */

    struct slot *slots;
    size_t window;
    pthread_mutex_t mu; /* guards the fields below and slot `ready` */
    pthread_cond_t cv;
    size_t next_claim;  /* lowest frame nobody prepares yet */
    size_t next_append; /* frame the appends reach next */
    bool stop;
};

/* Map the ledger's verdict on the next fact, in frame `i`, to ours. */
static int
dec_led_error(struct dec *d, size_t i, int rc)
{
    if (rc == PC_ENOMEM) {
        return pc_errmsgf(d->errmsg, rc, "snapshot: out of memory");
    }
    damage_at(&d->dmg, SNAP_PART_FRAME, i + 1, d->frames[i].off,
              d->n_facts + 1);
    return pc_errmsg_wrap(d->errmsg, PC_ECORRUPT,
                          "snapshot: frame %zu at byte %zu: fact %" PRIu64,
                          i + 1, d->frames[i].off, d->n_facts + 1);
}

/*
 * List the frames from SNAP_HEADER_LEN on, checking each header as the
 * sequential decoder would, until the trailer marker or the first bad
 * header (kept in scan_rc / scan_msg for when the appends get there).
 */
static int
dec_scan(struct dec *d)
{
    const uint8_t *p = d->p;
    size_t len = d->len, off = SNAP_HEADER_LEN;
    char *m = d->scan_msg;

    for (uint64_t frame = 1;; frame++) {
        if (len - off >= 4 && get_u32le(p + off) == SNAP_TRAILER_MARKER) {
            d->scan_rc = PC_OK;
            break;
        }
        damage_at(&d->scan_dmg, SNAP_PART_FRAME, frame, off, 0);
        if (len - off < SNAP_FRAME_HEADER_LEN) {
            d->scan_rc = pc_errmsgf(m, PC_ECORRUPT,
                                    "snapshot: frame %" PRIu64 " at byte %zu: "
                                    "truncated (frame or trailer expected, "
                                    "%zu bytes left)",
                                    frame, off, len - off);
            break;
        }
        const uint8_t *h = p + off;
        uint32_t raw_len = get_u32le(h), clen = get_u32le(h + 4);
        if (raw_len == 0 || raw_len > SNAP_RECORD_MAX) {
            d->scan_rc = pc_errmsgf(m, PC_ECORRUPT,
                                    "snapshot: frame %" PRIu64 " at byte %zu: "
                                    "bad raw length %" PRIu32,
                                    frame, off, raw_len);
            break;
        }
        if (clen >= raw_len) {
            d->scan_rc = pc_errmsgf(m, PC_ECORRUPT,
                                    "snapshot: frame %" PRIu64 " at byte %zu: "
                                    "compressed length %" PRIu32
                                    " not below raw length %" PRIu32,
                                    frame, off, clen, raw_len);
            break;
        }
        size_t stored_len = clen != 0 ? clen : raw_len;
        if (len - off - SNAP_FRAME_HEADER_LEN < stored_len) {
            d->scan_rc = pc_errmsgf(
                m, PC_ECORRUPT,
                "snapshot: frame %" PRIu64 " at byte %zu: "
                "truncated (%zu of %zu bytes)",
                frame, off, len - off - SNAP_FRAME_HEADER_LEN, stored_len);
            break;
        }
        if (d->n_frames == d->cap_frames) {
            size_t cap = d->cap_frames ? 2 * d->cap_frames : 16;
            struct frame *f = pc_realloc(d->frames, cap * sizeof(*f));
            if (f == NULL) {
                return pc_errmsgf(d->errmsg, PC_ENOMEM,
                                  "snapshot: out of memory");
            }
            d->frames = f;
            d->cap_frames = cap;
        }
        d->frames[d->n_frames++] =
            (struct frame){ off, raw_len, clen, stored_len };
        off += SNAP_FRAME_HEADER_LEN + stored_len;
    }
    d->end_off = off;
    return PC_OK;
}

/*
 * The kind of the fact encoded at `enc` and whether it is version 1 of a
 * versioned kind (a new entity), read from the fields that precede the
 * version (docs/format.md: format, kind, revision, time, five lp fields);
 * for the summary only, so an encoding too bad to read gives kind 0 and
 * the ledger refuses it at the append.
 */
static void
peek_kind(struct prec *pr)
{
    struct pc_rd r;
    struct pc_slice skip;
    uint64_t kind = 0, v = 0;
    uint8_t format;
    int rc;

    pr->kind = 0;
    pr->first = false;
    pc_rd_init(&r, pr->enc.p, pr->enc.len);
    rc = pc_rd_u8(&r, &format);
    if (rc == PC_OK) {
        rc = pc_rd_uvarint(&r, &kind);
    }
    for (int i = 0; i < 2 && rc == PC_OK; i++) {
        rc = pc_rd_uvarint(&r, &v); /* revision, time */
    }
    for (int i = 0; i < 5 && rc == PC_OK; i++) {
        rc = pc_rd_lp(&r, pc_rd_left(&r), &skip);
    }
    if (rc == PC_OK) {
        rc = pc_rd_uvarint(&r, &v);
    }
    if (rc == PC_OK && kind < FACT_KIND_MAX) {
        pr->kind = (uint32_t)kind;
        pr->first = v == 1 && fact_kind_versioned((unsigned)kind);
    }
}

/* Parse the records of `n` raw bytes at `p` into `s` and hash them. */
static void
prep_records(struct slot *s, const uint8_t *p, size_t n)
{
    struct pc_rd r;
    int rc;

    pc_rd_init(&r, p, n);
    while (pc_rd_left(&r) > 0) {
        struct pc_slice salt, json;
        struct prec *pr;
        size_t rec_at = r.off;

        if (n > SNAP_FRAME_RAW_MAX && s->n_recs > 0) {
            s->perr = PERR_SPLIT;
            return;
        }
        if (s->n_recs == s->cap_recs) {
            size_t cap = s->cap_recs ? 2 * s->cap_recs : 256;
            struct prec *a = pc_realloc(s->recs, cap * sizeof(*a));
            if (a == NULL) {
                s->perr = PERR_NOMEM;
                return;
            }
            s->recs = a;
            s->cap_recs = cap;
        }
        pr = &s->recs[s->n_recs];
        s->what = "raft index";
        rc = pc_rd_uvarint(&r, &pr->raft_index);
        if (rc == PC_OK) {
            s->what = "encoding";
            rc = pc_rd_lp(&r, pc_rd_left(&r), &pr->enc);
        }
        if (rc == PC_OK) {
            s->what = "document state";
            rc = pc_rd_u8(&r, &pr->state);
        }
        if (rc == PC_OK && pr->state > LED_DOC_REDACTED) {
            s->perr = PERR_STATE;
            s->state = pr->state;
            return;
        }
        if (rc == PC_OK && pr->state == LED_DOC_PRESENT) {
            s->what = "salt";
            rc = pc_rd_bytes(&r, PC_SALT_LEN, &salt);
            if (rc == PC_OK) {
                s->what = "document";
                rc = pc_rd_lp(&r, FACT_MAX_DOC, &json);
            }
            pr->doc = (struct led_doc){ salt.p, json.p, json.len };
        } else {
            pr->doc = redacted_doc;
        }
        if (rc != PC_OK) {
            s->perr = PERR_PARSE;
            s->at = rec_at;
            return;
        }
        led_pre_compute(pr->enc.p, pr->enc.len,
                        pr->state == LED_DOC_PRESENT ? &pr->doc : NULL,
                        &pr->pre);
        peek_kind(pr);
        s->n_recs++;
    }
}

/* Prepare frame `i` into its slot: checksum, decompression, records. */
static void
dec_prepare(struct dec *d, size_t i)
{
    const struct frame *f = &d->frames[i];
    struct slot *s = &d->slots[i % d->window];
    const uint8_t *stored = d->p + f->off + SNAP_FRAME_HEADER_LEN;
    uint64_t frame = i + 1;

    /* The appends took every block of the frame this slot held before. */
    s->rc = PC_OK;
    s->n_recs = 0;
    s->perr = PERR_NONE;
    if (XXH64(stored, f->stored_len, 0) != get_u64le(d->p + f->off + 8)) {
        s->rc = pc_errmsgf(s->msg, PC_ECORRUPT,
                           "snapshot: frame %" PRIu64 " at byte %zu: "
                           "checksum mismatch",
                           frame, f->off);
        return;
    }
    if (f->clen != 0) {
        if (s->raw.cap < f->raw_len) {
            s->raw.len = 0;
            if (pc_buf_reserve(&s->raw, f->raw_len) != PC_OK) {
                s->rc =
                    pc_errmsgf(s->msg, PC_ENOMEM, "snapshot: out of memory");
                return;
            }
        }
        int n = LZ4_decompress_safe((const char *)stored, (char *)s->raw.data,
                                    (int)f->clen, (int)f->raw_len);
        if (n < 0 || (uint32_t)n != f->raw_len) {
            s->rc = pc_errmsgf(s->msg, PC_ECORRUPT,
                               "snapshot: frame %" PRIu64 " at byte %zu: "
                               "bad LZ4 data (%d of %" PRIu32 " bytes)",
                               frame, f->off, n, f->raw_len);
            return;
        }
        stored = s->raw.data;
    }
    prep_records(s, stored, f->raw_len);
}

/*
 * Claim the lowest frame nobody prepares yet, if it is within the window
 * (its slot is free once the frame WINDOW before it was appended). Called
 * with `mu` held; returns the frame, or SIZE_MAX.
 */
static size_t
dec_claim(struct dec *d)
{
    if (d->stop || d->next_claim >= d->n_frames ||
        d->next_claim >= d->next_append + d->window) {
        return SIZE_MAX;
    }
    return d->next_claim++;
}

/* Prepare `i` (claimed) without the lock, then publish it. */
static void
dec_prepare_publish(struct dec *d, size_t i)
{
    pthread_mutex_unlock(&d->mu);
    dec_prepare(d, i);
    pthread_mutex_lock(&d->mu);
    d->slots[i % d->window].ready = true;
    pthread_cond_broadcast(&d->cv);
}

static void *
dec_worker(void *arg)
{
    struct dec *d = arg;

    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        size_t i = dec_claim(d);
        if (i == SIZE_MAX) {
            pthread_cond_wait(&d->cv, &d->mu);
        } else {
            dec_prepare_publish(d, i);
        }
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/*
 * Append the records of prepared frame `i` in order, reporting what the
 * sequential decoder would at each record boundary. Record offsets inside
 * a frame are offsets in its raw (decompressed) bytes, which is all a
 * compressed frame can offer.
 */
static int
dec_append_frame(struct dec *d, size_t i)
{
    const struct frame *f = &d->frames[i];
    struct slot *s = &d->slots[i % d->window];
    uint64_t frame = i + 1;
    size_t at = f->off;
    int rc;

    damage_at(&d->dmg, SNAP_PART_FRAME, frame, at, 0);
    if (s->rc != PC_OK) {
        return pc_errmsgf(d->errmsg, s->rc, "%s", s->msg);
    }
    for (size_t k = 0;; k++) {
        if (k == s->n_recs && s->perr == PERR_NONE) {
            return PC_OK;
        }
        if (f->raw_len > SNAP_FRAME_RAW_MAX && k > 0) {
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
        if (k == s->n_recs) {
            damage_at(&d->dmg, SNAP_PART_FRAME, frame, at, d->n_facts + 1);
            switch (s->perr) {
            case PERR_STATE:
                return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                                  "snapshot: frame %" PRIu64 " at byte %zu: "
                                  "fact %" PRIu64 ": unknown document state %u",
                                  frame, at, d->n_facts + 1, s->state);
            case PERR_PARSE:
                return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                                  "snapshot: frame %" PRIu64 " at byte %zu: "
                                  "fact %" PRIu64 " at raw byte %zu: bad or "
                                  "truncated %s (a record must end inside "
                                  "its frame)",
                                  frame, at, d->n_facts + 1, s->at, s->what);
            default:
                return pc_errmsgf(d->errmsg, PC_ENOMEM,
                                  "snapshot: out of memory");
            }
        }
        struct prec *pr = &s->recs[k];
        const struct led_doc *dp = NULL;
        if (pr->state == LED_DOC_PRESENT) {
            dp = &pr->doc;
        } else if (pr->state == LED_DOC_REDACTED) {
            dp = &redacted_doc;
        }
        rc = led_append_pre(d->l, pr->enc.p, pr->enc.len, dp, pr->raft_index,
                            &pr->pre, d->errmsg);
        if (rc != PC_OK) {
            return dec_led_error(d, i, rc);
        }
        d->n_facts++;
        d->facts_of[pr->kind]++;
        d->entities_of[pr->kind] += pr->first;
        d->documents += pr->state == LED_DOC_PRESENT;
        d->redacted += pr->state == LED_DOC_REDACTED;
    }
}

/* Check the trailer at `off` against the header, the frames and the ledger. */
static int
dec_trailer(struct dec *d, const uint8_t *p, size_t len, size_t off,
            uint64_t frames_xxh)
{
    const uint8_t *t = p + off;
    uint8_t root[PC_HASH_LEN];

    damage_at(&d->dmg, SNAP_PART_TRAILER, 0, off, 0);
    if (len - off < SNAP_TRAILER_LEN) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: trailer at byte %zu: truncated (%zu of "
                          "%d bytes)",
                          off, len - off, SNAP_TRAILER_LEN);
    }
    if (len - off > SNAP_TRAILER_LEN) {
        damage_at(&d->dmg, SNAP_PART_TRAILER, 0, off + SNAP_TRAILER_LEN, 0);
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: %zu bytes of garbage after the trailer, "
                          "at byte %zu",
                          len - off - SNAP_TRAILER_LEN, off + SNAP_TRAILER_LEN);
    }
    if (get_u64le(t + 60) != XXH64(t, 60, 0)) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: trailer at byte %zu: checksum mismatch",
                          off);
    }
    if (get_u64le(t + 52) != frames_xxh) {
        /* Every frame matched its own checksum: one was rewritten whole. */
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: trailer at byte %zu: frames checksum "
                          "mismatch (a frame was replaced with its checksum)",
                          off);
    }
    if (get_u64le(t + 4) != d->info.count ||
        get_u64le(t + 12) != d->info.revision) {
        return pc_errmsgf(
            d->errmsg, PC_ECORRUPT,
            "snapshot: trailer at byte %zu: count %" PRIu64
            " / revision %" PRIu64 " differ from the header's %" PRIu64,
            off, get_u64le(t + 4), get_u64le(t + 12), d->info.count);
    }
    if (memcmp(t + 20, d->info.root, PC_HASH_LEN) != 0) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: trailer at byte %zu: root differs from "
                          "the header's",
                          off);
    }
    if (d->n_facts != d->info.count) {
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: trailer at byte %zu: %" PRIu64
                          " facts, header says %" PRIu64,
                          off, d->n_facts, d->info.count);
    }
    led_root(d->l, root);
    if (memcmp(root, d->info.root, PC_HASH_LEN) != 0) {
        /* Every checksum held: facts were rewritten with their checksums,
         * and nothing tells which. */
        damage_at(&d->dmg, SNAP_PART_LEDGER, 0, 0, 0);
        return pc_errmsgf(d->errmsg, PC_ECORRUPT,
                          "snapshot: root of the %" PRIu64
                          " decoded facts differs from the header's",
                          d->n_facts);
    }
    damage_at(&d->dmg, SNAP_PART_NONE, 0, 0, 0);
    return PC_OK;
}

/*
 * The appends, in order: wait for (or prepare) each frame, fold it into the
 * running checksum, append its records; then the scan's end.
 */
static int
dec_run(struct dec *d)
{
    XXH64_state_t all;
    int rc = PC_OK;

    XXH64_reset(&all, 0);
    for (size_t i = 0; i < d->n_frames; i++) {
        struct slot *s = &d->slots[i % d->window];

        pthread_mutex_lock(&d->mu);
        while (!s->ready) {
            /* Help rather than wait: ours first if nobody took it. */
            size_t j = dec_claim(d);
            if (j != SIZE_MAX) {
                dec_prepare_publish(d, j);
            } else {
                pthread_cond_wait(&d->cv, &d->mu);
            }
        }
        pthread_mutex_unlock(&d->mu);

        const struct frame *f = &d->frames[i];
        if (s->rc == PC_OK) {
            /* The checksum held: the sequential decoder folds it in. */
            XXH64_update(&all, d->p + f->off,
                         SNAP_FRAME_HEADER_LEN + f->stored_len);
        }
        rc = dec_append_frame(d, i);

        pthread_mutex_lock(&d->mu);
        s->ready = false;
        d->next_append = i + 1;
        if (rc != PC_OK) {
            d->stop = true;
        }
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        if (rc != PC_OK) {
            return rc;
        }
    }
    if (d->scan_rc != PC_OK) {
        d->dmg = d->scan_dmg;
        return pc_errmsgf(d->errmsg, d->scan_rc, "%s", d->scan_msg);
    }
    return dec_trailer(d, d->p, d->len, d->end_off, XXH64_digest(&all));
}

/*
 * Decode with `workers` helper threads into `*out` (when `out` is NULL the
 * ledger is built, checked and freed), filling `sum` (may be NULL) on
 * success and `dmg` (may be NULL) on PC_ECORRUPT.
 */
static int
decode(const uint8_t *p, size_t len, unsigned workers, struct led **out,
       struct snap_summary *sum, struct snap_damage *dmg, char *errmsg)
{
    pthread_t threads[MAX_WORKERS];
    unsigned started = 0;
    struct dec d;
    int rc;

    memset(&d, 0, sizeof(d));
    d.p = p;
    d.len = len;
    d.errmsg = errmsg;
    rc = read_header(p, len, &d.info, &d.dmg, errmsg);
    if (rc != PC_OK) {
        if (dmg != NULL) {
            *dmg = d.dmg;
        }
        return rc;
    }
    rc = dec_scan(&d);
    if (rc != PC_OK) {
        return rc;
    }
    if (workers > MAX_WORKERS) {
        workers = MAX_WORKERS;
    }
    if (workers > d.n_frames) {
        workers = (unsigned)d.n_frames; /* a frame is the unit of work */
    }
    d.window = WINDOW_PER_THREAD * (workers + 1);
    d.slots = pc_calloc(d.window, sizeof(*d.slots));
    if (d.slots == NULL) {
        rc = pc_errmsgf(errmsg, PC_ENOMEM, "snapshot: out of memory");
        goto err_frames;
    }
    rc = led_new(&d.l);
    if (rc != PC_OK) {
        rc = pc_errmsgf(errmsg, rc, "snapshot: out of memory");
        goto err_slots;
    }
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.cv, NULL);
    /* A worker that cannot start only costs speed: the appends help. */
    while (started < workers &&
           pthread_create(&threads[started], NULL, dec_worker, &d) == 0) {
        started++;
    }
    rc = dec_run(&d);
    pthread_mutex_lock(&d.mu);
    d.stop = true;
    pthread_cond_broadcast(&d.cv);
    pthread_mutex_unlock(&d.mu);
    for (unsigned t = 0; t < started; t++) {
        pthread_join(threads[t], NULL);
    }
    pthread_cond_destroy(&d.cv);
    pthread_mutex_destroy(&d.mu);
    if (rc != PC_OK) {
        led_free(d.l);
    }
err_slots:
    for (size_t i = 0; i < d.window; i++) {
        /* Blocks of records prepared but not appended (after an error). */
        for (size_t k = 0; k < d.slots[i].n_recs; k++) {
            led_pre_release(&d.slots[i].recs[k].pre);
        }
        pc_buf_release(&d.slots[i].raw);
        pc_free(d.slots[i].recs);
    }
    pc_free(d.slots);
err_frames:
    pc_free(d.frames);
    if (rc != PC_OK) {
        if (dmg != NULL && rc == PC_ECORRUPT) {
            *dmg = d.dmg;
        }
        return rc;
    }
    if (sum != NULL) {
        memset(sum, 0, sizeof(*sum));
        sum->bytes = len;
        sum->frames = d.n_frames;
        sum->count = d.info.count;
        sum->revision = d.info.revision;
        memcpy(sum->root, d.info.root, PC_HASH_LEN);
        memcpy(sum->facts_of, d.facts_of, sizeof(sum->facts_of));
        memcpy(sum->entities_of, d.entities_of, sizeof(sum->entities_of));
        sum->documents = d.documents;
        sum->redacted = d.redacted;
    }
    if (out != NULL) {
        *out = d.l;
    } else {
        led_free(d.l);
    }
    return PC_OK;
}

int
snap_decode_workers(const uint8_t *p, size_t len, unsigned workers,
                    struct led **out, char *errmsg)
{
    return decode(p, len, workers, out, NULL, NULL, errmsg);
}

int
snap_decode(const uint8_t *p, size_t len, struct led **out, char *errmsg)
{
    /* One worker beside the caller: the loop's two cores (2 vCPUs). */
    return decode(p, len, 1, out, NULL, NULL, errmsg);
}

int
snap_verify(const uint8_t *p, size_t len, struct led **keep,
            struct snap_summary *sum, struct snap_damage *dmg, char *errmsg)
{
    struct snap_summary tmp;
    int rc = decode(p, len, 1, keep, &tmp, dmg, errmsg);

    if (rc == PC_OK && sum != NULL) {
        *sum = tmp;
    }
    return rc;
}
