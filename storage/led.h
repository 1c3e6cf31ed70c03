/* SPDX-License-Identifier: MIT */
/*
 * The ledger: an append-only sequence of facts (fact n is revision n), each
 * stored as its canonical encoding in a chunked arena, with its document (if
 * any) in a value block, LZ4-compressed when that saves at least an eighth
 * (tried from 512 bytes up: smaller JSON seldom gains that much). The ledger
 * owns the Merkle tree over the leaf hashes and the entity/key indexes, and
 * checks every append: consecutive revision, non-decreasing time, known kind,
 * version chain (version = latest + 1 and prev_hash = that version's hash),
 * content hash of the document.
 *
 * Invariant: appending never moves or changes an existing fact, so a frozen
 * view of a prefix [1, n] can be read from another thread while the loop
 * appends. Only the loop thread appends, redacts or freezes.
 */
#ifndef PC_LED_H
#define PC_LED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/hash.h"
#include "storage/fact.h"

struct led;
struct idx;
struct mrk;

/*
 * A document as appended: canonical JSON bytes and its salt. All three NULL
 * / 0 stand for a document already redacted (a snapshot restore): the fact
 * keeps its content hash, which cannot be checked, and reads as redacted.
 */
struct led_doc {
    const uint8_t *salt; /* PC_SALT_LEN bytes */
    const uint8_t *json; /* canonical (RFC 8785) bytes */
    size_t len;
};

/* Create an empty ledger. PC_OK or PC_ENOMEM. */
int led_new(struct led **out);
/* Free the ledger; accepts NULL. No view may be open. */
void led_free(struct led *l);
/*
 * Free the ledger now or, while views are open, when the last one closes
 * (a ledger a restore replaced while a backup still reads it). Accepts
 * NULL. Loop thread only, like led_view_close.
 */
void led_release(struct led *l);

/* Facts held, which is also the current revision. */
uint64_t led_count(const struct led *l);
/* Ledger time: the time of the last fact (0 when empty). */
int64_t led_time(const struct led *l);
/* Merkle root of the whole ledger (H("") when empty). */
void led_root(const struct led *l, uint8_t out[PC_HASH_LEN]);

/*
 * Append `f` with its document `doc` (NULL unless f->has_content) and raft
 * index `raft_index` (metadata, not hashed). `f->revision` must be
 * led_count() + 1. On success `leaf` (may be NULL) receives the fact's hash.
 * Checks, in this order: revision, time, kind, version chain, document
 * (presence, size <= FACT_MAX_DOC, content hash), then the format's rules
 * (fact_encoded_len). The ledger copies `f`'s bytes and the document.
 * Returns PC_OK; PC_EINVAL with a precise errmsg when the fact breaks a rule
 * above; PC_ENOMEM. On any error the ledger is unchanged.
 */
int led_append(struct led *l, const struct fact *f, const struct led_doc *doc,
               uint64_t raft_index, uint8_t leaf[PC_HASH_LEN], char *errmsg);

/*
 * Append `f` as the next fact, the state machine's path: the ledger sets
 * f->revision, the version chain (f->version, f->has_prev, f->prev_hash)
 * from its index and, when `doc` is given, f->has_content and the content
 * hash H(0x02 || salt || document), so none of them can be wrong; `f`
 * then holds what was stored. Checks and codes otherwise as led_append.
 */
int led_append_next(struct led *l, struct fact *f, const struct led_doc *doc,
                    uint64_t raft_index, char *errmsg);

/*
 * Append an already-encoded fact (the snapshot decoder's path): decodes,
 * checks and stores `enc` exactly as given. Same codes as led_append, plus
 * PC_ECORRUPT when `enc` does not decode (fact_decode's errmsg).
 */
int led_append_encoded(struct led *l, const uint8_t *enc, size_t len,
                       const struct led_doc *doc, uint64_t raft_index,
                       char *errmsg);

/*
 * Undo appends back to `n` facts (n <= led_count): the state machine's path
 * when a command that yields several facts fails half-way (out of memory),
 * so a command appends all its facts or none. Only facts appended since the
 * last led_view_open may be undone (views never see them). Cannot fail.
 */
void led_truncate(struct led *l, uint64_t n);

/*
 * Read fact `rev` (1..led_count). `f` borrows from the ledger: valid while
 * the ledger lives and `rev` is not truncated (facts never move). PC_OK or
 * PC_ENOTFOUND.
 */
int led_get(const struct led *l, uint64_t rev, struct fact *f);
/* The leaf hash of fact `rev`. PC_OK or PC_ENOTFOUND. */
int led_hash(const struct led *l, uint64_t rev, uint8_t out[PC_HASH_LEN]);
/* The raft index stored with fact `rev` (0 if there is no such fact). */
uint64_t led_raft_index(const struct led *l, uint64_t rev);
/* The encoding of fact `rev`, borrowed as led_get's. PC_OK, PC_ENOTFOUND. */
int led_encoding(const struct led *l, uint64_t rev, struct pc_slice *out);

/* Document state of a fact. */
enum led_doc_state {
    LED_DOC_NONE = 0, /* the fact carries no document */
    LED_DOC_PRESENT = 1,
    LED_DOC_REDACTED = 2, /* dropped by a redaction; hashes stay */
};

/*
 * Append fact `rev`'s document (decompressed) to `json` and copy its salt
 * into `salt` (may be NULL). Returns PC_OK, PC_ENOTFOUND (no such fact or no
 * document), PC_EFORBIDDEN (redacted), PC_ENOMEM or PC_ECORRUPT (a block
 * failed to decompress: memory corruption); on error `json->len` and `salt`
 * are unchanged. Loop thread.
 */
int led_doc_get(const struct led *l, uint64_t rev, struct pc_buf *json,
                uint8_t salt[PC_SALT_LEN]);
/* LED_DOC_NONE also for a revision out of range. */
enum led_doc_state led_doc_state(const struct led *l, uint64_t rev);

/*
 * Drop fact `rev`'s document and salt (a lawful redaction decided by a later
 * fact). Readers see LED_DOC_REDACTED at once; the block is zeroed and freed
 * now if no view is open, else when the last view that was open at this
 * call closes. Redacting a redacted document is PC_OK. Returns PC_OK or
 * PC_ENOTFOUND (no such fact, or it has no document). Never allocates.
 */
int led_redact(struct led *l, uint64_t rev);

/*
 * Documents redacted so far (led_redact calls that dropped one): a reader
 * that encoded facts from a view over several steps compares it before and
 * after, since a view may show a document redacted after its freeze.
 */
uint64_t led_redactions(const struct led *l);

/* The Merkle tree and the indexes the ledger maintains (borrowed). */
const struct mrk *led_mrk(const struct led *l);
const struct idx *led_idx(const struct led *l);

/*
 * A frozen prefix [1, n] of the ledger for a reader on another thread (the
 * snapshot encoder, a backup stream). Freezing is O(n / chunk) on the loop;
 * the view keeps document blocks alive until released.
 */
struct led_view;

/*
 * Freeze the current ledger. PC_OK or PC_ENOMEM. Loop thread only. While the
 * view is open, led_truncate may not go below its count.
 */
int led_view_open(struct led *l, struct led_view **out);
/*
 * Release `v` (accepts NULL); loop thread only, after the reader is done.
 * Frees the blocks redacted while it was open that no other view holds.
 */
void led_view_close(struct led *l, struct led_view *v);
/* Views open on `l` (led_free needs none). */
unsigned led_views_open(const struct led *l);
uint64_t led_view_count(const struct led_view *v);
/* The root of the frozen prefix (computed at freeze time). */
void led_view_root(const struct led_view *v, uint8_t out[PC_HASH_LEN]);
/*
 * Same as the ledger calls, over the frozen prefix (a revision past the
 * view's count is PC_ENOTFOUND / 0); any one thread holding `v`, while the
 * loop goes on appending and redacting. led_view_doc has led_doc_get's
 * codes: a document redacted after the freeze reads as PC_EFORBIDDEN or
 * (if the reader loaded it first) as the document, which stays intact.
 */
int led_view_encoding(const struct led_view *v, uint64_t rev,
                      struct pc_slice *out);
uint64_t led_view_raft_index(const struct led_view *v, uint64_t rev);
int led_view_doc(const struct led_view *v, uint64_t rev, struct pc_buf *json,
                 uint8_t salt[PC_SALT_LEN]);

/*
 * Memory accounting for benchmarks: bytes held, split by purpose (requested
 * sizes; directories counted by entries in use, not capacity).
 */
struct led_mem {
    size_t facts;      /* arena chunks, per-fact records, directories */
    size_t enc;        /* of `facts`: the encodings themselves */
    size_t docs;       /* document blocks (compressed where it paid) */
    size_t doc_stored; /* of `docs`: the stored bytes, without headers */
    size_t doc_raw;    /* the same documents uncompressed */
    size_t merkle;
    size_t index;
};
void led_mem(const struct led *l, struct led_mem *out);

#endif
