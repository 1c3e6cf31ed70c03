/* SPDX-License-Identifier: MIT */
/*
 * Facts: the unit of the ledger. A fact is one state change or one refused
 * command. This header fixes the in-memory view of a fact, the table of fact
 * kinds and the canonical binary encoding that is hashed (docs/format.md
 * writes the same down for people). The encoding is the same bytes on every
 * replica; the raft index is kept beside a fact, never inside it, and a
 * document appears in the encoding only as its salted content hash.
 */
#ifndef PC_FACT_H
#define PC_FACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/hash.h"

#define FACT_FORMAT_VERSION 1

/* Limits enforced by the decoder (bytes). */
#define FACT_MAX_ID      512 /* principal, request id, entity parent/id */
#define FACT_MAX_PAYLOAD (1u << 20)
#define FACT_MAX_DOC     (256u << 10)

/*
 * Fact kinds. Append only: a code is never reused or renumbered. `versioned`
 * kinds chain: version v > 1 carries the hash of version v - 1 of the same
 * entity (kind, parent, id).
 */
#define FACT_KIND_MAP(X)                                                     \
    /* code, name, versioned */                                              \
    X(1, CLUSTER, false)    /* genesis: cluster id, rules version */         \
    X(2, ORG, true)         /* an organisation version; id = org id */       \
    X(3, PRINCIPAL, true)   /* a principal version; id = principal id */     \
    X(4, TICK, false)       /* ledger time moves on an idle cluster */       \
    X(5, REJECTION, false)  /* a command refused in apply */                 \
    X(6, MEMBER, true)      /* a member's client URL; id = node id */        \
    X(7, SECURITY, false)   /* per-minute security-event summary */          \
    X(8, ENTRY, true)       /* a catalog-entry version; id = entry id */     \
    X(9, RECORD, true)      /* a record version; parent = entry, id = key */ \
    X(10, AUDIT, false)     /* a batch of read-audit events */               \
    X(11, CALENDAR, true)   /* a year's holidays; id = year */               \
    X(12, OPERATION, false) /* an operator's cluster operation */            \
    X(13, SHARE_REQUEST, true) /* a share request version; id sr-<rev> */    \
    X(14, GRANT, true)         /* a share grant version; id gr-<rev> */      \
    X(15, OPEN_REQUEST, true)  /* an open request; id = or-<rev> */          \
    X(16, OBJECTION, true)     /* an objection version; id = ob-<rev> */     \
    X(17, REDACTION, false)    /* a redaction; parent = entry, id = key */

enum fact_kind {
#define FACT_KIND_ENUM(code, name, versioned) FACT_##name = code,
    FACT_KIND_MAP(FACT_KIND_ENUM)
#undef FACT_KIND_ENUM
    FACT_KIND_MAX
};

/* "record" for FACT_RECORD; NULL for an unknown code. */
const char *fact_kind_name(unsigned kind);
/* Whether `kind` is known and chains its versions. */
bool fact_kind_known(unsigned kind);
bool fact_kind_versioned(unsigned kind);

/*
 * The decoded view of one fact. Slices borrow from whatever was decoded (the
 * ledger's arena, a snapshot buffer): their lifetime is the source's.
 */
struct fact {
    uint8_t format;            /* FACT_FORMAT_VERSION */
    uint32_t kind;             /* enum fact_kind */
    uint64_t revision;         /* 1, 2, 3, ... with no gaps */
    int64_t time_ms;           /* ledger time, ms since the epoch */
    struct pc_slice principal; /* author principal id ("system" for ours) */
    struct pc_slice request_id;
    struct pc_slice idem_key; /* Idempotency-Key, or empty */
    struct pc_slice parent;   /* entity parent (a record's entry), or empty */
    struct pc_slice id;       /* entity id (a record's key, an org id) */
    uint64_t version;         /* 0 unless the kind is versioned */
    bool has_prev;            /* version > 1 */
    uint8_t prev_hash[PC_HASH_LEN];
    bool has_content; /* carries a document (as its content hash) */
    uint8_t content_hash[PC_HASH_LEN];
    struct pc_slice payload; /* kind-specific, canonical JSON (RFC 8785) */
};

/*
 * Append the canonical encoding of `f` to `out`. Returns PC_OK, PC_EINVAL
 * (a field breaks the format's rules: `format` not FACT_FORMAT_VERSION,
 * unknown kind, revision 0, negative time, version/prev mismatch, over-long
 * field) or PC_ENOMEM; on error `out->len` is unchanged.
 */
int fact_encode(const struct fact *f, struct pc_buf *out, char *errmsg);

/*
 * Check `f` against the format's rules (the same ones fact_encode applies)
 * and compute the length of its encoding into `*len`. PC_OK or PC_EINVAL
 * with the field named in `errmsg`. Lets the ledger encode straight into its
 * arena with fact_encode_to.
 */
int fact_encoded_len(const struct fact *f, size_t *len, char *errmsg);

/*
 * Write the encoding of `f`, which fact_encoded_len accepted with length
 * `len`, into `dst` (exactly `len` bytes). Cannot fail. `stored`, when not
 * NULL, receives `f` as fact_decode would read it back from `dst` (its
 * slices borrow from `dst`), without decoding it.
 */
void fact_encode_to(const struct fact *f, uint8_t *dst, size_t len,
                    struct fact *stored);

/*
 * Decode exactly `len` bytes into `f` (slices borrow from `p`). Returns PC_OK
 * or PC_ECORRUPT with the field named in `errmsg`; trailing bytes, unknown
 * format versions and kinds, and non-canonical varints are all refused, so
 * decode(encode(f)) == f and encode(decode(b)) == b.
 */
int fact_decode(const uint8_t *p, size_t len, struct fact *f, char *errmsg);

/* leaf hash = H(0x00 ‖ encoding): the fact's `hash` and its Merkle leaf. */
void fact_leaf_hash(uint8_t out[PC_HASH_LEN], const uint8_t *enc, size_t len);

#endif
