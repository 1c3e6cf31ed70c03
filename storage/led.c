/* SPDX-License-Identifier: MIT */
/*
 * The ledger: fact encodings in an append-only chunked arena, a chunked table
 * of per-fact records, documents in their own blocks, and the Merkle tree and
 * indexes kept in step. Nothing appended ever moves, so a view (a copy of the
 * two chunk directories for a prefix) can be read from another thread while
 * the loop appends.
 *
 * Memory layout. Encodings are packed into chunks of LED_CHUNK bytes; a fact
 * that does not fit in the rest of the last chunk opens a new one (one larger
 * than LED_CHUNK gets a chunk of its own size), so at most one fact's worth
 * of each chunk is wasted. Records (24 bytes: raft index, document pointer,
 * packed chunk number, offset and length) live in blocks of LED_RECS. A
 * document block (a 32-byte header: pending-list link, both lengths, salt)
 * holds the bytes, LZ4-compressed when that saves at least an eighth of the
 * raw size. Documents under LED_LZ4_MIN bytes are not tried: an LZ4 attempt
 * costs about 1 us whatever it finds (most of it clearing LZ4's 16 KiB
 * table), more than all the hashing of a fact, and a few hundred bytes of
 * JSON seldom shrink by an eighth.
 *
 * Appends are all-or-nothing: every allocation happens before the first
 * change that is visible (Merkle append, index add), new chunks and record
 * blocks are installed only at commit, and directory growth only raises
 * capacity, which the accounting does not count.
 *
 * Redaction and views. A record's document pointer is a C11 atomic: NULL (no
 * document), &redacted_mark, or the block. led_redact swaps in the mark and
 * frees the block (zeroed) at once if no view is open. Otherwise the block
 * goes on the head of the pending list (newest first), since any open view
 * may have loaded the pointer before the swap. Views are kept in opening
 * order, and each remembers the head of the pending list when it opened (its
 * mark): the blocks from the oldest open view's mark to the end of the list
 * were redacted before every open view opened, so none can reach them, and
 * closing a view frees them. So a block lives exactly as long as a view that
 * could reach it, even when views overlap without end (snapshot and backup
 * streams), and the bookkeeping costs no byte per block beyond its link.
 *
 * snap.c's parallel decoder appends through led_append_pre
 * (storage_int.h), with the leaf and content hashes computed on a worker
 * thread; every check still runs here, once, in order.
 */
#include "storage/led.h"

#include <assert.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include <lz4.h>
#include <sodium.h>

#include "common/alloc.h"
#include "common/err.h"
#include "storage/idx.h"
#include "storage/mrk.h"
#include "storage/storage_int.h"

#define LED_CHUNK ((size_t)1 << 20) /* bytes per arena chunk */
#define LED_RECS  4096              /* records per record block */

#define LED_LZ4_MIN 512 /* smallest document worth an LZ4 attempt */

/*
 * A document. The bytes never change between creation and free. It is LZ4
 * compressed iff stored_len < raw_len (only a saving of an eighth is kept).
 */
struct led_block {
    struct led_block *next; /* pending list, once redacted */
    uint32_t raw_len;       /* canonical JSON bytes */
    uint32_t stored_len;    /* bytes in `bytes` */
    uint8_t salt[PC_SALT_LEN];
    uint8_t bytes[];
};

#define BLOCK_HEAD offsetof(struct led_block, bytes)

_Static_assert(BLOCK_HEAD == 32, "a block header is 32 bytes");

/* The document pointer of a redacted fact. */
static struct led_block redacted_mark;

/*
 * Where an encoding lives, packed in 64 bits: chunk number (22 bits: 4 TiB
 * of arena), offset in the chunk (20 bits: only a chunk of LED_CHUNK bytes
 * holds more than one fact, and its facts start below 2^20) and length (22
 * bits: an encoding is under 1.1 MiB).
 */
#define LOC_OFF_BITS 20
#define LOC_LEN_BITS 22
#define LOC(chunk, off, len)                              \
    ((uint64_t)(chunk) << (LOC_OFF_BITS + LOC_LEN_BITS) | \
     (uint64_t)(off) << LOC_LEN_BITS | (uint64_t)(len))
#define LOC_CHUNK(loc) ((size_t)((loc) >> (LOC_OFF_BITS + LOC_LEN_BITS)))
#define LOC_OFF(loc) \
    ((size_t)((loc) >> LOC_LEN_BITS) & (((size_t)1 << LOC_OFF_BITS) - 1))
#define LOC_LEN(loc) ((size_t)(loc) & (((size_t)1 << LOC_LEN_BITS) - 1))

_Static_assert(LED_CHUNK <= (size_t)1 << LOC_OFF_BITS, "offset bits");
_Static_assert(1 + 3 * 10 + 5 * (2 + FACT_MAX_ID) + 10 + 2 * PC_HASH_LEN + 1 +
                       4 + FACT_MAX_PAYLOAD <
                   (size_t)1 << LOC_LEN_BITS,
               "length bits");

/* One per fact. */
struct led_rec {
    uint64_t raft_index;
    _Atomic(struct led_block *) doc; /* NULL, &redacted_mark or a block */
    uint64_t loc;                    /* LOC(chunk, offset, length) */
};

_Static_assert(sizeof(struct led_rec) == 24, "a record is 24 bytes");

struct led_chunk {
    uint8_t *p;
    size_t size; /* bytes allocated */
};

struct led {
    uint64_t count;
    int64_t time_ms;          /* of the last fact */
    struct led_chunk *chunks; /* directory; the last one is being filled */
    size_t n_chunks;
    size_t cap_chunks;
    size_t used;           /* bytes used in the last chunk */
    struct led_rec **recs; /* directory of record blocks */
    size_t n_recs;
    size_t cap_recs;
    struct mrk *mrk;
    struct idx *idx;
    size_t mem_chunks; /* bytes of chunks */
    size_t mem_enc;    /* bytes of encodings */
    size_t mem_docs;   /* bytes of document blocks, pending ones included */
    size_t mem_stored; /* of mem_docs: stored bytes without headers */
    size_t mem_raw;    /* raw bytes of the same documents */
    unsigned n_views;
    bool released; /* led_release while views were open: free at the last */
    struct led_view *oldest; /* open views, oldest first */
    struct led_view *newest;
    uint64_t view_floor;        /* largest count of an open view */
    struct led_block *redacted; /* pending: redacted, newest first */
    uint64_t n_redactions;      /* documents redacted, ever */
};

struct led_view {
    uint64_t n;
    struct led_view *older, *newer; /* the ledger's list of open views */
    struct led_block *mark; /* l->redacted at open: it and older ones are
                               out of this view's reach */
    uint8_t root[PC_HASH_LEN];
    struct led_chunk *chunks; /* copies of the directories, in this block */
    struct led_rec **recs;
};

int
led_new(struct led **out)
{
    struct led *l = pc_calloc(1, sizeof(*l));

    if (l == NULL) {
        return PC_ENOMEM;
    }
    if (mrk_new(&l->mrk) != PC_OK) {
        goto err_free;
    }
    if (idx_new(&l->idx) != PC_OK) {
        goto err_mrk;
    }
    *out = l;
    return PC_OK;

err_mrk:
    mrk_free(l->mrk);
err_free:
    pc_free(l);
    return PC_ENOMEM;
}

/* Zero and free a document block (its bytes may be personal data). */
static void
block_free(struct led *l, struct led_block *b)
{
    l->mem_docs -= BLOCK_HEAD + b->stored_len;
    l->mem_stored -= b->stored_len;
    l->mem_raw -= b->raw_len;
    sodium_memzero(b, BLOCK_HEAD + b->stored_len);
    pc_free(b);
}

static struct led_rec *
rec_at(struct led_rec *const *recs, uint64_t rev)
{
    return &recs[(rev - 1) / LED_RECS][(rev - 1) % LED_RECS];
}

static struct pc_slice
rec_enc(const struct led_chunk *chunks, const struct led_rec *r)
{
    return (struct pc_slice){ chunks[LOC_CHUNK(r->loc)].p + LOC_OFF(r->loc),
                              LOC_LEN(r->loc) };
}

void
led_free(struct led *l)
{
    if (l == NULL) {
        return;
    }
    assert(l->n_views == 0 && l->redacted == NULL);
    for (uint64_t rev = 1; rev <= l->count; rev++) {
        struct led_block *b = atomic_load_explicit(&rec_at(l->recs, rev)->doc,
                                                   memory_order_relaxed);

        if (b != NULL && b != &redacted_mark) {
            block_free(l, b);
        }
    }
    for (size_t i = 0; i < l->n_chunks; i++) {
        pc_free(l->chunks[i].p);
    }
    for (size_t i = 0; i < l->n_recs; i++) {
        pc_free(l->recs[i]);
    }
    pc_free(l->chunks);
    pc_free(l->recs);
    idx_free(l->idx);
    mrk_free(l->mrk);
    pc_free(l);
}

uint64_t
led_count(const struct led *l)
{
    return l->count;
}

int64_t
led_time(const struct led *l)
{
    return l->time_ms;
}

void
led_root(const struct led *l, uint8_t out[PC_HASH_LEN])
{
    int rc = mrk_root(l->mrk, l->count, out);

    assert(rc == PC_OK);
    (void)rc;
}

/*
 * The rules of led_append, in the documented order, on a fact that may come
 * from anywhere; the format's own rules are left to fact_encoded_len.
 */
static int
check(struct led *l, const struct fact *f, const struct led_doc *doc,
      const uint8_t *content, bool chain, char *errmsg)
{
    uint8_t h[PC_HASH_LEN];

    if (f->revision != l->count + 1) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "led: revision %" PRIu64 " is not the next "
                          "revision %" PRIu64,
                          f->revision, l->count + 1);
    }
    if (f->time_ms < l->time_ms) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "led: time %" PRId64 " is before the ledger time "
                          "%" PRId64,
                          f->time_ms, l->time_ms);
    }
    if (!fact_kind_known(f->kind)) {
        return pc_errmsgf(errmsg, PC_EINVAL, "led: unknown kind %" PRIu32,
                          f->kind);
    }
    if (chain && fact_kind_versioned(f->kind)) {
        struct idx_key k = { f->kind, f->parent, f->id };
        uint64_t rev = 0;
        uint64_t latest = idx_latest(l->idx, &k, &rev);

        if (f->version != latest + 1) {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "led: %s version %" PRIu64 " does not follow "
                              "the latest version %" PRIu64,
                              fact_kind_name(f->kind), f->version, latest);
        }
        if (latest == 0 && f->has_prev) {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "led: %s version 1 has a prev_hash",
                              fact_kind_name(f->kind));
        }
        if (latest > 0) {
            if (!f->has_prev) {
                return pc_errmsgf(errmsg, PC_EINVAL,
                                  "led: %s version %" PRIu64
                                  " has no prev_hash",
                                  fact_kind_name(f->kind), f->version);
            }
            if (rev < 1 || mrk_leaf(l->mrk, rev - 1, h) != PC_OK) {
                return pc_errmsgf(errmsg, PC_EINVAL,
                                  "led: index names revision %" PRIu64
                                  " for the previous version",
                                  rev);
            }
            if (memcmp(h, f->prev_hash, PC_HASH_LEN) != 0) {
                return pc_errmsgf(errmsg, PC_EINVAL,
                                  "led: %s version %" PRIu64 " prev_hash "
                                  "is not the hash of version %" PRIu64
                                  " (revision %" PRIu64 ")",
                                  fact_kind_name(f->kind), f->version, latest,
                                  rev);
            }
        }
    }
    if (f->has_content && doc == NULL) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "led: fact has a content hash but no document");
    }
    if (!f->has_content && doc != NULL) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "led: document given for a fact without content "
                          "hash");
    }
    if (doc != NULL && doc->salt == NULL) {
        /* A redacted document (a restore): its content hash stays unchecked. */
        if (doc->json != NULL || doc->len != 0) {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "led: redacted document with bytes");
        }
    } else if (doc != NULL) {
        if (doc->len > FACT_MAX_DOC) {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "led: document of %zu bytes over the limit of "
                              "%u",
                              doc->len, FACT_MAX_DOC);
        }
        if (content == NULL) {
            pc_hash_content(h, doc->salt, doc->json, doc->len);
            content = h;
        }
        if (memcmp(content, f->content_hash, PC_HASH_LEN) != 0) {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "led: content hash does not match the "
                              "document");
        }
    }
    return PC_OK;
}

/* A new document block, compressed if that saves an eighth. */
static int
block_new(const struct led_doc *doc, struct led_block **out)
{
    size_t raw = doc->len, stored = raw, limit = raw - raw / 8;
    const uint8_t *src = doc->json;
    char *tmp = NULL;
    struct led_block *b;

    if (raw >= LED_LZ4_MIN) {
        /* LZ4 returns 0 when the output would not fit in `limit`. */
        tmp = pc_malloc(limit);
        if (tmp == NULL) {
            return PC_ENOMEM;
        }
        int n = LZ4_compress_default((const char *)doc->json, tmp, (int)raw,
                                     (int)limit);
        if (n > 0 && (size_t)n < raw) {
            stored = (size_t)n;
            src = (const uint8_t *)tmp;
        }
    }
    b = pc_malloc(BLOCK_HEAD + stored);
    if (b == NULL) {
        pc_free(tmp);
        return PC_ENOMEM;
    }
    b->next = NULL;
    b->raw_len = (uint32_t)raw;
    b->stored_len = (uint32_t)stored;
    memcpy(b->salt, doc->salt, PC_SALT_LEN);
    if (stored > 0) {
        memcpy(b->bytes, src, stored);
    }
    pc_free(tmp);
    *out = b;
    return PC_OK;
}

/* Make room for `need` entries; only capacity changes. */
static int
grow_chunks(struct led *l, size_t need)
{
    size_t cap = l->cap_chunks ? l->cap_chunks : 16;
    struct led_chunk *p;

    if (need <= l->cap_chunks) {
        return PC_OK;
    }
    while (cap < need) {
        cap *= 2;
    }
    p = pc_realloc(l->chunks, cap * sizeof(*p));
    if (p == NULL) {
        return PC_ENOMEM;
    }
    l->chunks = p;
    l->cap_chunks = cap;
    return PC_OK;
}

static int
grow_recs(struct led *l, size_t need)
{
    size_t cap = l->cap_recs ? l->cap_recs : 16;
    struct led_rec **p;

    if (need <= l->cap_recs) {
        return PC_OK;
    }
    while (cap < need) {
        cap *= 2;
    }
    p = pc_realloc(l->recs, cap * sizeof(*p));
    if (p == NULL) {
        return PC_ENOMEM;
    }
    l->recs = p;
    l->cap_recs = cap;
    return PC_OK;
}

static void
stored_fact(const uint8_t *enc, size_t len, struct fact *f)
{
    int rc = fact_decode(enc, len, f, NULL);

    /* Only checked encodings enter the arena. */
    assert(rc == PC_OK);
    (void)rc;
}

/*
 * Store a checked fact: `enc` (len bytes) as given, or when NULL, `f`
 * encoded in place. `pre`, when not NULL, has the leaf hash of `enc`
 * already computed and maybe the document's block, taken on success.
 * All-or-nothing, see the top of the file.
 */
static int
store(struct led *l, const struct fact *f, const uint8_t *enc, size_t len,
      const struct led_doc *doc, uint64_t raft_index, struct led_pre *pre,
      uint8_t leaf[PC_HASH_LEN], char *errmsg)
{
    struct led_block *b = NULL;
    uint8_t *chunk = NULL, *dst;
    size_t chunk_size = 0;
    struct led_rec *recs = NULL, *r;
    uint64_t rev = l->count + 1;
    uint8_t h[PC_HASH_LEN];
    struct fact s;
    int rc;

    rc = PC_ENOMEM;
    if (pre != NULL && pre->block != NULL) {
        b = pre->block;
    } else if (doc != NULL && doc->salt != NULL &&
               block_new(doc, &b) != PC_OK) {
        goto err;
    }
    if (l->n_chunks == 0 || len > l->chunks[l->n_chunks - 1].size - l->used) {
        chunk_size = len > LED_CHUNK ? len : LED_CHUNK;
        chunk = pc_malloc(chunk_size);
        if (chunk == NULL || grow_chunks(l, l->n_chunks + 1) != PC_OK) {
            goto err;
        }
        dst = chunk;
    } else {
        dst = l->chunks[l->n_chunks - 1].p + l->used;
    }
    if (l->count / LED_RECS == l->n_recs) {
        recs = pc_malloc(LED_RECS * sizeof(*recs));
        if (recs == NULL || grow_recs(l, l->n_recs + 1) != PC_OK) {
            goto err;
        }
    }
    /* Past the last fact: no view reads these bytes yet. */
    if (enc != NULL) {
        memcpy(dst, enc, len);
    } else {
        fact_encode_to(f, dst, len, &s);
    }
    if (pre != NULL) {
        memcpy(h, pre->leaf, PC_HASH_LEN);
    } else {
        fact_leaf_hash(h, dst, len);
    }
    if (mrk_append(l->mrk, h) != PC_OK) {
        goto err;
    }
    if (fact_kind_versioned(f->kind)) {
        /* Key bytes from the arena: they outlive the caller's. A fact
         * decoded from `enc` borrows from it, so the same offsets in the
         * copy name them without decoding it again. */
        if (enc != NULL) {
            s = *f;
            s.parent.p = dst + (f->parent.p - enc);
            s.id.p = dst + (f->id.p - enc);
        }
        struct idx_key k = { s.kind, s.parent, s.id };
        rc = idx_add(l->idx, &k, s.version, rev);
        if (rc != PC_OK) {
            mrk_truncate(l->mrk, l->count);
            goto err;
        }
    }

    if (chunk != NULL) {
        l->chunks[l->n_chunks++] = (struct led_chunk){ chunk, chunk_size };
        l->used = 0;
        l->mem_chunks += chunk_size;
    }
    if (recs != NULL) {
        l->recs[l->n_recs++] = recs;
    }
    r = rec_at(l->recs, rev);
    r->raft_index = raft_index;
    atomic_store_explicit(&r->doc,
                          doc != NULL && b == NULL ? &redacted_mark : b,
                          memory_order_relaxed);
    r->loc = LOC(l->n_chunks - 1, l->used, len);
    l->used += len;
    l->mem_enc += len;
    if (b != NULL) {
        l->mem_docs += BLOCK_HEAD + b->stored_len;
        l->mem_stored += b->stored_len;
        l->mem_raw += b->raw_len;
    }
    l->time_ms = f->time_ms;
    l->count = rev;
    if (leaf != NULL) {
        memcpy(leaf, h, PC_HASH_LEN);
    }
    if (pre != NULL) {
        pre->block = NULL;
    }
    return PC_OK;

err:
    pc_free(recs);
    pc_free(chunk);
    if (pre == NULL || b != pre->block) {
        pc_free(b);
    }
    if (rc == PC_ENOMEM) {
        return pc_errmsgf(errmsg, rc, "led: out of memory");
    }
    /* check() consulted the same index, so this is a bug of ours. */
    return pc_errmsgf(errmsg, rc, "led: index refused version %" PRIu64,
                      f->version);
}

/* check (with `content` and `chain` as there), then store `f` encoded. */
static int
append_fact(struct led *l, const struct fact *f, const struct led_doc *doc,
            const uint8_t *content, bool chain, uint64_t raft_index,
            uint8_t leaf[PC_HASH_LEN], char *errmsg)
{
    size_t len;
    int rc;

    rc = check(l, f, doc, content, chain, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    rc = fact_encoded_len(f, &len, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    return store(l, f, NULL, len, doc, raft_index, NULL, leaf, errmsg);
}

int
led_append(struct led *l, const struct fact *f, const struct led_doc *doc,
           uint64_t raft_index, uint8_t leaf[PC_HASH_LEN], char *errmsg)
{
    return append_fact(l, f, doc, NULL, true, raft_index, leaf, errmsg);
}

int
led_append_next(struct led *l, struct fact *f, const struct led_doc *doc,
                uint64_t raft_index, char *errmsg)
{
    f->revision = l->count + 1;
    f->version = 0;
    f->has_prev = false;
    if (fact_kind_versioned(f->kind)) {
        struct idx_key k = { f->kind, f->parent, f->id };
        uint64_t prev = 0;

        f->version = idx_latest(l->idx, &k, &prev) + 1;
        if (f->version > 1) {
            f->has_prev = true;
            if (prev < 1 || mrk_leaf(l->mrk, prev - 1, f->prev_hash) != PC_OK) {
                return pc_errmsgf(errmsg, PC_EINVAL,
                                  "led: index names revision %" PRIu64
                                  " for the previous version",
                                  prev);
            }
        }
    }
    f->has_content = doc != NULL;
    if (doc != NULL && doc->salt != NULL && doc->len <= FACT_MAX_DOC) {
        pc_hash_content(f->content_hash, doc->salt, doc->json, doc->len);
    }
    /* The chain and the content hash hold by construction. */
    return append_fact(l, f, doc, f->content_hash, false, raft_index, NULL,
                       errmsg);
}

/* led_append_encoded with the hashes optionally computed by the caller. */
static int
append_encoded(struct led *l, const uint8_t *enc, size_t len,
               const struct led_doc *doc, uint64_t raft_index,
               struct led_pre *pre, char *errmsg)
{
    struct fact f;
    int rc;

    rc = fact_decode(enc, len, &f, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    rc = check(l, &f, doc,
               pre != NULL && doc != NULL && doc->salt != NULL ? pre->content
                                                               : NULL,
               true, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    return store(l, &f, enc, len, doc, raft_index, pre, NULL, errmsg);
}

void
led_pre_compute(const uint8_t *enc, size_t len, const struct led_doc *doc,
                struct led_pre *pre)
{
    fact_leaf_hash(pre->leaf, enc, len);
    pre->block = NULL;
    if (doc != NULL && doc->salt != NULL && doc->len <= FACT_MAX_DOC) {
        pc_hash_content(pre->content, doc->salt, doc->json, doc->len);
        /* Out of memory here: the append builds it (or says so). */
        if (block_new(doc, &pre->block) != PC_OK) {
            pre->block = NULL;
        }
    } else {
        memset(pre->content, 0, PC_HASH_LEN);
    }
}

void
led_pre_release(struct led_pre *pre)
{
    struct led_block *b = pre->block;

    if (b != NULL) {
        sodium_memzero(b, BLOCK_HEAD + b->stored_len);
        pc_free(b);
        pre->block = NULL;
    }
}

int
led_append_pre(struct led *l, const uint8_t *enc, size_t len,
               const struct led_doc *doc, uint64_t raft_index,
               struct led_pre *pre, char *errmsg)
{
    return append_encoded(l, enc, len, doc, raft_index, pre, errmsg);
}

int
led_append_encoded(struct led *l, const uint8_t *enc, size_t len,
                   const struct led_doc *doc, uint64_t raft_index, char *errmsg)
{
    return append_encoded(l, enc, len, doc, raft_index, NULL, errmsg);
}

void
led_truncate(struct led *l, uint64_t n)
{
    struct fact f;
    size_t keep;

    assert(n <= l->count);
    assert(l->n_views == 0 || n >= l->view_floor);
    for (uint64_t rev = l->count; rev > n; rev--) {
        struct led_rec *r = rec_at(l->recs, rev);
        struct led_block *b =
            atomic_load_explicit(&r->doc, memory_order_relaxed);

        struct pc_slice e = rec_enc(l->chunks, r);

        stored_fact(e.p, e.len, &f);
        if (fact_kind_versioned(f.kind)) {
            struct idx_key k = { f.kind, f.parent, f.id };

            idx_undo(l->idx, &k);
        }
        if (b != NULL && b != &redacted_mark) {
            block_free(l, b);
        }
        l->mem_enc -= e.len;
    }
    mrk_truncate(l->mrk, n);

    keep = 0;
    l->used = 0;
    l->time_ms = 0;
    if (n > 0) {
        struct led_rec *r = rec_at(l->recs, n);

        struct pc_slice e = rec_enc(l->chunks, r);

        keep = LOC_CHUNK(r->loc) + 1;
        l->used = LOC_OFF(r->loc) + LOC_LEN(r->loc);
        stored_fact(e.p, e.len, &f);
        l->time_ms = f.time_ms;
    }
    while (l->n_chunks > keep) {
        l->n_chunks--;
        l->mem_chunks -= l->chunks[l->n_chunks].size;
        pc_free(l->chunks[l->n_chunks].p);
    }
    keep = (size_t)((n + LED_RECS - 1) / LED_RECS);
    while (l->n_recs > keep) {
        pc_free(l->recs[--l->n_recs]);
    }
    l->count = n;
}

int
led_encoding(const struct led *l, uint64_t rev, struct pc_slice *out)
{
    const struct led_rec *r;

    if (rev < 1 || rev > l->count) {
        return PC_ENOTFOUND;
    }
    r = rec_at(l->recs, rev);
    *out = rec_enc(l->chunks, r);
    return PC_OK;
}

int
led_get(const struct led *l, uint64_t rev, struct fact *f)
{
    struct pc_slice s;

    if (led_encoding(l, rev, &s) != PC_OK) {
        return PC_ENOTFOUND;
    }
    stored_fact(s.p, s.len, f);
    return PC_OK;
}

int
led_hash(const struct led *l, uint64_t rev, uint8_t out[PC_HASH_LEN])
{
    if (rev < 1 || rev > l->count) {
        return PC_ENOTFOUND;
    }
    return mrk_leaf(l->mrk, rev - 1, out);
}

uint64_t
led_raft_index(const struct led *l, uint64_t rev)
{
    if (rev < 1 || rev > l->count) {
        return 0;
    }
    return rec_at(l->recs, rev)->raft_index;
}

/* Document reads shared by the ledger and its views. */
static int
doc_read(struct led_rec *r, struct pc_buf *json, uint8_t salt[PC_SALT_LEN])
{
    struct led_block *b = atomic_load_explicit(&r->doc, memory_order_acquire);

    if (b == NULL) {
        return PC_ENOTFOUND;
    }
    if (b == &redacted_mark) {
        return PC_EFORBIDDEN;
    }
    if (pc_buf_reserve(json, b->raw_len) != PC_OK) {
        return PC_ENOMEM;
    }
    if (b->stored_len < b->raw_len) {
        int n = LZ4_decompress_safe((const char *)b->bytes,
                                    (char *)json->data + json->len,
                                    (int)b->stored_len, (int)b->raw_len);

        if (n < 0 || (uint32_t)n != b->raw_len) {
            return PC_ECORRUPT;
        }
    } else if (b->raw_len > 0) {
        memcpy(json->data + json->len, b->bytes, b->raw_len);
    }
    json->len += b->raw_len;
    if (salt != NULL) {
        memcpy(salt, b->salt, PC_SALT_LEN);
    }
    return PC_OK;
}

int
led_doc_get(const struct led *l, uint64_t rev, struct pc_buf *json,
            uint8_t salt[PC_SALT_LEN])
{
    if (rev < 1 || rev > l->count) {
        return PC_ENOTFOUND;
    }
    return doc_read(rec_at(l->recs, rev), json, salt);
}

enum led_doc_state
led_doc_state(const struct led *l, uint64_t rev)
{
    struct led_block *b;

    if (rev < 1 || rev > l->count) {
        return LED_DOC_NONE;
    }
    b = atomic_load_explicit(&rec_at(l->recs, rev)->doc, memory_order_relaxed);
    if (b == NULL) {
        return LED_DOC_NONE;
    }
    return b == &redacted_mark ? LED_DOC_REDACTED : LED_DOC_PRESENT;
}

int
led_redact(struct led *l, uint64_t rev)
{
    struct led_rec *r;
    struct led_block *b;

    if (rev < 1 || rev > l->count) {
        return PC_ENOTFOUND;
    }
    r = rec_at(l->recs, rev);
    b = atomic_load_explicit(&r->doc, memory_order_relaxed);
    if (b == NULL) {
        return PC_ENOTFOUND;
    }
    if (b == &redacted_mark) {
        return PC_OK;
    }
    /* Readers that load after this never touch the block again. */
    atomic_store_explicit(&r->doc, &redacted_mark, memory_order_release);
    l->n_redactions++;
    if (l->n_views == 0) {
        block_free(l, b);
        return PC_OK;
    }
    b->next = l->redacted;
    l->redacted = b;
    return PC_OK;
}

uint64_t
led_redactions(const struct led *l)
{
    return l->n_redactions;
}

const struct mrk *
led_mrk(const struct led *l)
{
    return l->mrk;
}

const struct idx *
led_idx(const struct led *l)
{
    return l->idx;
}

int
led_view_open(struct led *l, struct led_view **out)
{
    size_t n_chunks = 0,
           n_recs = (size_t)((l->count + LED_RECS - 1) / LED_RECS);
    struct led_view *v;

    if (l->count > 0) {
        n_chunks = LOC_CHUNK(rec_at(l->recs, l->count)->loc) + 1;
    }
    /* One allocation: the view, then the two directory copies. */
    v = pc_malloc(sizeof(*v) + n_chunks * sizeof(*v->chunks) +
                  n_recs * sizeof(*v->recs));
    if (v == NULL) {
        return PC_ENOMEM;
    }
    v->n = l->count;
    v->chunks = (struct led_chunk *)(v + 1);
    v->recs = (struct led_rec **)(v->chunks + n_chunks);
    if (n_chunks > 0) {
        memcpy(v->chunks, l->chunks, n_chunks * sizeof(*v->chunks));
    }
    if (n_recs > 0) {
        memcpy(v->recs, l->recs, n_recs * sizeof(*v->recs));
    }
    led_root(l, v->root);
    v->mark = l->redacted;
    v->older = l->newest;
    v->newer = NULL;
    if (l->newest != NULL) {
        l->newest->newer = v;
    } else {
        l->oldest = v;
    }
    l->newest = v;
    if (l->n_views == 0 || l->count > l->view_floor) {
        l->view_floor = l->count;
    }
    l->n_views++;
    *out = v;
    return PC_OK;
}

void
led_view_close(struct led *l, struct led_view *v)
{
    struct led_block **pp;

    if (v == NULL) {
        return;
    }
    assert(l->n_views > 0);
    l->n_views--;
    if (v->older != NULL) {
        v->older->newer = v->newer;
    } else {
        l->oldest = v->newer;
    }
    if (v->newer != NULL) {
        v->newer->older = v->older;
    } else {
        l->newest = v->older;
    }
    /* Free what no open view can reach: all of it when none is open, else
     * what was redacted before the oldest one opened (from its mark on). */
    struct led_block *cut = l->oldest != NULL ? l->oldest->mark : l->redacted;
    if (cut != NULL) {
        pp = &l->redacted;
        while (*pp != cut) {
            assert(*pp != NULL);
            pp = &(*pp)->next;
        }
        *pp = NULL;
        /* Views that opened with the same pending head now mark the end. */
        for (struct led_view *w = l->oldest; w != NULL; w = w->newer) {
            if (w->mark == cut) {
                w->mark = NULL;
            }
        }
        while (cut != NULL) {
            struct led_block *b = cut;
            cut = b->next;
            block_free(l, b);
        }
    }
    pc_free(v);
    if (l->released && l->n_views == 0) {
        led_free(l);
    }
}

void
led_release(struct led *l)
{
    if (l != NULL && l->n_views > 0) {
        l->released = true;
    } else {
        led_free(l);
    }
}

unsigned
led_views_open(const struct led *l)
{
    return l->n_views;
}

uint64_t
led_view_count(const struct led_view *v)
{
    return v->n;
}

void
led_view_root(const struct led_view *v, uint8_t out[PC_HASH_LEN])
{
    memcpy(out, v->root, PC_HASH_LEN);
}

int
led_view_encoding(const struct led_view *v, uint64_t rev, struct pc_slice *out)
{
    const struct led_rec *r;

    if (rev < 1 || rev > v->n) {
        return PC_ENOTFOUND;
    }
    r = rec_at(v->recs, rev);
    *out = rec_enc(v->chunks, r);
    return PC_OK;
}

uint64_t
led_view_raft_index(const struct led_view *v, uint64_t rev)
{
    if (rev < 1 || rev > v->n) {
        return 0;
    }
    return rec_at(v->recs, rev)->raft_index;
}

int
led_view_doc(const struct led_view *v, uint64_t rev, struct pc_buf *json,
             uint8_t salt[PC_SALT_LEN])
{
    if (rev < 1 || rev > v->n) {
        return PC_ENOTFOUND;
    }
    return doc_read(rec_at(v->recs, rev), json, salt);
}

void
led_mem(const struct led *l, struct led_mem *out)
{
    out->facts =
        sizeof(*l) + l->mem_chunks + l->n_chunks * sizeof(*l->chunks) +
        l->n_recs * (sizeof(*l->recs) + LED_RECS * sizeof(struct led_rec));
    out->enc = l->mem_enc;
    out->docs = l->mem_docs;
    out->doc_stored = l->mem_stored;
    out->doc_raw = l->mem_raw;
    out->merkle = mrk_mem(l->mrk);
    out->index = idx_mem(l->idx);
}
