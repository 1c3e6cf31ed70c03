/* SPDX-License-Identifier: MIT */
/*
 * Reconciliation digests (docs/format.md, "Entry digests"; GET
 * /v1/ledger/digests): per catalog entry, derived state kept as record
 * facts are appended (one map lookup and a 256-bit add and subtract per
 * record version, no hashing: the head hash is the fact's own) and rebuilt
 * with the rest of the derived state from the ledger, so every replica and
 * every restore holds the same. A digest at an earlier revision takes the
 * record facts since then back out of the current state, for revisions at
 * most FSM_DIGEST_WINDOW behind.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "node/fsm/fsm_int.h"
#include "storage/fact.h"
#include "storage/led.h"

/* An entry's digest, with its id so that the last one used can be
 * recognised without hashing (a batch writes one entry many times). */
struct fsm_digest_slot {
    struct pc_digest d;
    size_t len;
    char id[];
};

int
fsm_digest_record(struct fsm *f, const struct fact *fact)
{
    struct fsm_digest_slot *s = f->digest_last;
    uint8_t head[PC_HASH_LEN];

    if (led_hash(f->led, fact->revision, head) != PC_OK) {
        return PC_ECORRUPT; /* the fact was just appended or loaded */
    }
    if (s == NULL || s->len != fact->parent.len ||
        memcmp(s->id, fact->parent.p, s->len) != 0) {
        s = pc_map_get(&f->digests, fact->parent.p, fact->parent.len);
    }
    if (s == NULL) {
        s = pc_malloc(sizeof(*s) + fact->parent.len);
        if (s == NULL) {
            return PC_ENOMEM;
        }
        pc_digest_init(&s->d);
        s->len = fact->parent.len;
        memcpy(s->id, fact->parent.p, s->len);
        if (pc_map_put(&f->digests, s->id, s->len, s, NULL) != PC_OK) {
            pc_free(s);
            return PC_ENOMEM;
        }
    }
    f->digest_last = s;
    pc_digest_step(&s->d, head, fact->has_prev ? fact->prev_hash : NULL);
    return PC_OK;
}

void
fsm_digests_release(struct fsm *f)
{
    pc_map_release_values(&f->digests, pc_free);
    f->digest_last = NULL;
}

int
fsm_digests_at(const struct fsm *f, uint64_t at, const char *const *entries,
               size_t n, struct pc_digest *out)
{
    uint64_t count = led_count(f->led);
    struct pc_map want;
    int rc = PC_OK;

    if (at > count || count - at > FSM_DIGEST_WINDOW) {
        return PC_ERANGE;
    }
    pc_map_init(&want);
    for (size_t i = 0; i < n; i++) {
        const struct fsm_digest_slot *s =
            pc_map_get(&f->digests, entries[i], strlen(entries[i]));

        if (s != NULL) {
            out[i] = s->d;
        } else {
            pc_digest_init(&out[i]);
        }
        if (at < count && pc_map_put(&want, entries[i], strlen(entries[i]),
                                     &out[i], NULL) != PC_OK) {
            rc = PC_ENOMEM;
            goto out;
        }
    }
    /* Newest first, each record version taken back out of its entry. */
    for (uint64_t rev = count; rev > at && want.len > 0; rev--) {
        struct pc_digest *d;
        uint8_t head[PC_HASH_LEN];
        struct fact fact;

        if (led_get(f->led, rev, &fact) != PC_OK ||
            led_hash(f->led, rev, head) != PC_OK) {
            rc = PC_ECORRUPT;
            goto out;
        }
        if (fact.kind != FACT_RECORD) {
            continue;
        }
        d = pc_map_get(&want, fact.parent.p, fact.parent.len);
        if (d != NULL) {
            pc_digest_unstep(d, head, fact.has_prev ? fact.prev_hash : NULL);
        }
    }
out:
    pc_map_release(&want);
    return rc;
}

bool
fsm_may_read_digests(const struct fsm *f, const struct fsm_principal *p,
                     const struct fsm_entry *e)
{
    if (p == NULL || !p->active) {
        return false;
    }
    if (p->roles & (FSM_ROLE_OPERATOR | FSM_ROLE_AUDITOR)) {
        return true;
    }
    if (!(p->roles & FSM_ROLE_AUTHORITY)) {
        return false;
    }
    return e == NULL || fsm_entry_authority(f, p, e);
}
