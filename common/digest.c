/* SPDX-License-Identifier: MIT */
/*
 * Entry digests: 256-bit sums of head hashes in four 64-bit limbs, with the
 * carries written out so the result is the same on every machine.
 */
#include "common/digest.h"

#include <endian.h>
#include <string.h>

/* Limb `i` of a hash read as a little-endian 256-bit integer (one load on
 * a little-endian machine: this runs for every record version applied). */
static uint64_t
limb(const uint8_t *h, int i)
{
    uint64_t v;

    memcpy(&v, h + 8 * i, sizeof(v));
    return le64toh(v);
}

void
pc_digest_init(struct pc_digest *d)
{
    memset(d, 0, sizeof(*d));
}

void
pc_digest_add(struct pc_digest *d, const uint8_t head[PC_HASH_LEN])
{
    uint64_t carry = 0;

    for (int i = 0; i < 4; i++) {
        uint64_t x = limb(head, i), s = d->sum[i] + x;
        uint64_t c = s < x;

        d->sum[i] = s + carry;
        carry = c | (d->sum[i] < s);
    }
}

void
pc_digest_sub(struct pc_digest *d, const uint8_t head[PC_HASH_LEN])
{
    uint64_t borrow = 0;

    for (int i = 0; i < 4; i++) {
        uint64_t x = limb(head, i), s = d->sum[i] - x;
        uint64_t b = d->sum[i] < x;

        d->sum[i] = s - borrow;
        borrow = b | (s < borrow);
    }
}

void
pc_digest_step(struct pc_digest *d, const uint8_t head[PC_HASH_LEN],
               const uint8_t *prev)
{
    if (prev != NULL) {
        pc_digest_sub(d, prev);
    } else {
        d->records++;
    }
    pc_digest_add(d, head);
    d->versions++;
}

void
pc_digest_unstep(struct pc_digest *d, const uint8_t head[PC_HASH_LEN],
                 const uint8_t *prev)
{
    pc_digest_sub(d, head);
    if (prev != NULL) {
        pc_digest_add(d, prev);
    } else {
        d->records--;
    }
    d->versions--;
}

void
pc_digest_final(const struct pc_digest *d, uint8_t out[PC_HASH_LEN])
{
    uint8_t b[16 + PC_HASH_LEN];

    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(d->records >> (56 - 8 * i));
        b[8 + i] = (uint8_t)(d->versions >> (56 - 8 * i));
    }
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 8; k++) {
            b[16 + 8 * i + k] = (uint8_t)(d->sum[i] >> (8 * k));
        }
    }
    pc_hash_prefixed(out, PC_HASH_DIGEST, b, sizeof(b), NULL, 0);
}

bool
pc_digest_equal(const struct pc_digest *a, const struct pc_digest *b)
{
    return a->records == b->records && a->versions == b->versions &&
           memcmp(a->sum, b->sum, sizeof(a->sum)) == 0;
}
