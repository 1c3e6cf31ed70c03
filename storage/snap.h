/* SPDX-License-Identifier: MIT */
/*
 * The snapshot / backup codec: a whole ledger as a header, a run of LZ4 frames
 * of fact records, each with an xxHash64 of its stored bytes, and a trailer
 * with the fact count, revision and Merkle root (docs/format.md, "Snapshot and
 * backup format"). Decoding verifies every checksum and rebuilds the ledger
 * through its own checks, so a ledger comes back only when every hash, chain
 * and the root agree; anything else is refused whole.
 */
#ifndef PC_SNAP_H
#define PC_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/hash.h"
#include "storage/led.h"

#define SNAP_MAGIC            "PCSNAP\r\n" /* 8 bytes, no NUL */
#define SNAP_MAGIC_LEN        8
#define SNAP_VERSION          1
#define SNAP_HEADER_LEN       68 /* magic, version, count, revision, root, xxh */
#define SNAP_FRAME_HEADER_LEN 16 /* raw length, stored length, xxh */
#define SNAP_TRAILER_LEN      68 /* marker, count, revision, root, 2 xxh */
#define SNAP_TRAILER_MARKER   0xFFFFFFFFu
/* Raw bytes per frame; only a frame holding a single record may be larger. */
#define SNAP_FRAME_RAW_MAX (1u << 20)
/* No record can be larger than this (fact and document limits included). */
#define SNAP_RECORD_MAX (FACT_MAX_PAYLOAD + FACT_MAX_DOC + (64u << 10))

/* What snap_peek reads from a header. */
struct snap_info {
    uint32_t version;          /* SNAP_VERSION */
    uint64_t count;            /* facts */
    uint64_t revision;         /* equal to count */
    uint8_t root[PC_HASH_LEN]; /* Merkle root over the count facts */
};

/*
 * The sink snap_encode streams to: consume `n` bytes at `p` (borrowed for
 * the call only). Return PC_OK, or a negative PC_E* code that stops the
 * encoder and comes back from snap_encode.
 */
typedef int (*snap_write_cb)(void *arg, const void *p, size_t n);

/*
 * Serialise the frozen view `v` (every fact, its raft index and its document
 * or redaction state) as one snapshot, handed to `write` in chunks in order
 * (the header, then each frame header and payload, then the trailer).
 *
 * Returns PC_OK; PC_ENOMEM; PC_ECORRUPT when the view cannot be read back
 * (a stored block failed to decompress); PC_ETOOLARGE for a record over
 * SNAP_RECORD_MAX (the ledger's limits make that impossible); or the first
 * error `write` returns (a positive value becomes PC_EIO).
 * On error, what `write` already received is an incomplete snapshot that
 * the decoder refuses. Peak memory is about two frames (2 MiB).
 * Context: any one thread holding `v`, while the loop goes on appending;
 * CPU-bound, does no I/O itself.
 */
int snap_encode(const struct led_view *v, snap_write_cb write, void *arg,
                char *errmsg);

/*
 * snap_encode into `out`: the snapshot is appended after `out->len` bytes.
 * Same codes as snap_encode (but for the sink's); on error `out->len` is
 * back to its value at the call (the capacity may have grown).
 */
int snap_encode_buf(const struct led_view *v, struct pc_buf *out, char *errmsg);

/*
 * The same encoding in steps, for a ledger that grows while it is encoded
 * (the node's snapshots: most of the facts on a worker thread, the few
 * appended meanwhile on the loop). The output is the header (snap_header,
 * written last since it holds the final count and root, and placed first),
 * then what every step wrote, in order, then what snap_enc_finish wrote;
 * byte for byte what snap_encode of the last view gives, wherever the steps
 * split the facts.
 */
struct snap_enc;

/*
 * Frames of earlier snapshots of one ledger, so that the next snapshot
 * copies them instead of encoding their facts again: a ledger only grows,
 * so a frame that no later record could join comes out the same every
 * time. Holds the compressed bytes of every such frame (about the size of
 * the last snapshot). Valid only while no fact it covers changes: clear it
 * when a document is redacted or the ledger is replaced. Not thread-safe:
 * one encoder at a time.
 */
struct snap_cache;

/* An empty cache that keeps at most `limit` bytes of frames (the frames up
 * to the first that would not fit). PC_OK or PC_ENOMEM. */
int snap_cache_new(struct snap_cache **out, uint64_t limit);
/* Free `c` (accepts NULL). */
void snap_cache_free(struct snap_cache *c);
/* Forget every frame. */
void snap_cache_clear(struct snap_cache *c);
/* Facts its frames cover, from revision 1. */
uint64_t snap_cache_facts(const struct snap_cache *c);
/* Bytes it holds. */
size_t snap_cache_bytes(const struct snap_cache *c);

/*
 * A new encoder at revision 1, with `cache` (or NULL): it copies the cached
 * frames its views hold, then encodes the rest and adds each frame it
 * closes for good to the cache. The output is byte for byte the same as
 * without a cache. PC_OK or PC_ENOMEM.
 */
int snap_enc_new(struct snap_enc **out, struct snap_cache *cache);
/* Free `e` (accepts NULL), finished or not. */
void snap_enc_free(struct snap_enc *e);
/* Facts encoded so far (a step's frames may still hold some back). */
uint64_t snap_enc_count(const struct snap_enc *e);

/*
 * Encode the facts of `v` after snap_enc_count(e), handing whole frames to
 * `write`; the last, partly filled frame stays in `e` for the next step.
 * `v` must hold at least snap_enc_count(e) facts, identical to the ones the
 * earlier steps read (a later view of the same ledger with no redaction in
 * between). Codes as snap_encode; after an error only snap_enc_free is
 * allowed. Context: one thread at a time (hand `e` over with a
 * happens-before, e.g. pthread_join), holding `v`.
 */
int snap_enc_step(struct snap_enc *e, const struct led_view *v,
                  snap_write_cb write, void *arg, char *errmsg);

/*
 * The last step: encode the rest of `v`, flush, and write the trailer for
 * led_view_count(v) facts and `v`'s root. Codes as snap_enc_step; either
 * way only snap_enc_free remains.
 */
int snap_enc_finish(struct snap_enc *e, const struct led_view *v,
                    snap_write_cb write, void *arg, char *errmsg);

/* The SNAP_HEADER_LEN header bytes for `count` facts with root `root`. */
void snap_header(uint64_t count, const uint8_t root[PC_HASH_LEN],
                 uint8_t out[SNAP_HEADER_LEN]);

/*
 * Decode the snapshot of exactly `len` bytes at `p` into a new ledger:
 * verifies the header, every frame checksum, LZ4 decompression bounded by the
 * declared raw length, record boundaries (no record straddles frames), each
 * fact through led_append_encoded (revision order, time, chains, content
 * hashes, leaf hashes), the running checksum over all frames, and that the
 * count, revision and root of the header, the trailer and the rebuilt ledger
 * all agree. Nothing may follow the trailer.
 *
 * Returns PC_OK with `*out` owned by the caller (free with led_free);
 * PC_ECORRUPT with what and where in `errmsg`, e.g. "snapshot: frame 3 at
 * byte 1048602: checksum mismatch" or "snapshot: fact 1207: ..."; PC_ENOMEM.
 * On error nothing is allocated and `*out` is untouched.
 * Context: any thread; CPU-bound, `p` is only read. Uses one helper thread
 * (pthreads) for the call's duration when there are two frames or more:
 * it checksums, decompresses and hashes frames ahead while the calling
 * thread checks and appends them in order; if it cannot start, the caller
 * does it all.
 */
int snap_decode(const uint8_t *p, size_t len, struct led **out, char *errmsg);

/* The part of a snapshot in which the decoder found damage. */
enum snap_part {
    SNAP_PART_NONE = 0, /* not damaged */
    SNAP_PART_HEADER,   /* the 68-byte header */
    SNAP_PART_FRAME,    /* a frame: its header, bytes or one of its facts */
    SNAP_PART_TRAILER,  /* the trailer, or what follows it */
    SNAP_PART_LEDGER,   /* every checksum held but the facts' root differs:
                         * rewritten facts, no single place to name */
};

/*
 * Where a snapshot is damaged, as precisely as its layout allows: a
 * checksum names its frame, not the flipped byte inside it, and a fact in a
 * compressed frame has no offset in the file, only in the frame's raw bytes
 * (which the message gives).
 */
struct snap_damage {
    enum snap_part part;
    uint64_t frame; /* SNAP_PART_FRAME: the frame, from 1; else 0 */
    uint64_t byte;  /* offset in the snapshot where the damaged part (or
                     * header field) starts, or where the bytes run out */
    uint64_t fact;  /* revision of the fact refused, 0 if not a fact's */
};

/* What a verified snapshot holds. */
struct snap_summary {
    uint64_t bytes;  /* the snapshot's length */
    uint64_t frames; /* LZ4 or raw frames */
    uint64_t count;  /* facts */
    uint64_t revision;
    uint8_t root[PC_HASH_LEN];
    uint64_t facts_of[FACT_KIND_MAX]; /* facts of each kind (by code) */
    uint64_t
        entities_of[FACT_KIND_MAX]; /* entities of each versioned kind:
                                     * catalog entries are
                                     * entities_of[FACT_ENTRY], records
                                     * (entry, key) entities_of[FACT_RECORD]
                                     */
    uint64_t documents;             /* documents present */
    uint64_t redacted;              /* documents redacted */
};

/*
 * Verify the snapshot (or backup) of exactly `len` bytes at `p` as
 * snap_decode does: every checksum, every fact through the ledger's checks
 * (revisions, time, chains, content and leaf hashes), the counts and the
 * root; and say what it holds in `sum` (may be NULL). When `keep` is not
 * NULL the ledger built on the way is handed over in `*keep` (free with
 * led_free), so that a restore decodes once; otherwise it is freed.
 *
 * Returns PC_OK; PC_ECORRUPT with the place in `dmg` (may be NULL) and in
 * `errmsg`, which names the frame and the byte where it starts (e.g.
 * "snapshot: frame 3 at byte 1048602: checksum mismatch",
 * "snapshot: frame 2 at byte 68012: fact 1207: version 3 of ..."); or
 * PC_ENOMEM. Out-parameters are written only as stated.
 * Memory and time: those of snap_decode, the whole ledger at its peak.
 * Context: any thread; `p` is only read.
 */
int snap_verify(const uint8_t *p, size_t len, struct led **keep,
                struct snap_summary *sum, struct snap_damage *dmg,
                char *errmsg);

/*
 * Read and verify the header (magic, version, its checksum) at the start of
 * the `len` bytes at `p` into `info`, for tools. Checks nothing past the
 * header. PC_OK or PC_ECORRUPT (`info` untouched).
 */
int snap_peek(const uint8_t *p, size_t len, struct snap_info *info,
              char *errmsg);

#endif
