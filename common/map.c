/* SPDX-License-Identifier: MIT */
/* Open-addressing hash map with tombstones; grows at 3/4 load. */
#include "common/map.h"

#include <string.h>
#include <xxhash.h>

#include "common/alloc.h"
#include "common/err.h"

struct pc_map_slot {
    uint64_t hash;
    void *key; /* NULL: empty; TOMBSTONE: deleted */
    size_t klen;
    void *val;
};

static char tombstone_mark;
#define TOMBSTONE ((void *)&tombstone_mark)

void
pc_map_init(struct pc_map *m)
{
    memset(m, 0, sizeof(*m));
}

void
pc_map_release(struct pc_map *m)
{
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key != NULL && m->slots[i].key != TOMBSTONE) {
            pc_free(m->slots[i].key);
        }
    }
    pc_free(m->slots);
    pc_map_init(m);
}

void
pc_map_release_values(struct pc_map *m, pc_map_free_cb free_val)
{
    for (size_t i = 0; m != NULL && i < m->cap; i++) {
        if (m->slots[i].key != NULL && m->slots[i].key != TOMBSTONE) {
            free_val(m->slots[i].val);
        }
    }
    pc_map_release(m);
}

static struct pc_map_slot *
find(const struct pc_map *m, uint64_t h, const void *key, size_t klen)
{
    if (m->cap == 0) {
        return NULL;
    }
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct pc_map_slot *s = &m->slots[i];

        if (s->key == NULL) {
            return NULL;
        }
        if (s->key != TOMBSTONE && s->hash == h && s->klen == klen &&
            memcmp(s->key, key, klen) == 0) {
            return s;
        }
    }
}

void *
pc_map_get(const struct pc_map *m, const void *key, size_t klen)
{
    struct pc_map_slot *s = find(m, XXH3_64bits(key, klen), key, klen);

    return s == NULL ? NULL : s->val;
}

static void
insert_slot(struct pc_map_slot *slots, size_t cap, struct pc_map_slot *from)
{
    for (size_t i = from->hash & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (slots[i].key == NULL) {
            slots[i] = *from;
            return;
        }
    }
}

static int
grow(struct pc_map *m)
{
    size_t cap = m->cap == 0                     ? 16
                 : (m->len + 1) * 4 > m->cap * 2 ? m->cap * 2
                                                 : m->cap;
    struct pc_map_slot *slots = pc_calloc(cap, sizeof(*slots));

    if (slots == NULL) {
        return PC_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key != NULL && m->slots[i].key != TOMBSTONE) {
            insert_slot(slots, cap, &m->slots[i]);
        }
    }
    pc_free(m->slots);
    m->slots = slots;
    m->cap = cap;
    m->used = m->len;
    return PC_OK;
}

int
pc_map_put(struct pc_map *m, const void *key, size_t klen, void *val,
           void **old)
{
    uint64_t h = XXH3_64bits(key, klen);
    struct pc_map_slot *s = find(m, h, key, klen);
    struct pc_map_slot n;

    if (s != NULL) {
        if (old != NULL) {
            *old = s->val;
        }
        s->val = val;
        return PC_OK;
    }
    if ((m->used + 1) * 4 > m->cap * 3 && grow(m) != PC_OK) {
        return PC_ENOMEM;
    }
    n.hash = h;
    n.klen = klen;
    n.val = val;
    n.key = pc_malloc(klen);
    if (n.key == NULL) {
        return PC_ENOMEM;
    }
    memcpy(n.key, key, klen);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].key == NULL || m->slots[i].key == TOMBSTONE) {
            if (m->slots[i].key == NULL) {
                m->used++;
            }
            m->slots[i] = n;
            break;
        }
    }
    m->len++;
    if (old != NULL) {
        *old = NULL;
    }
    return PC_OK;
}

void *
pc_map_get_or_add(struct pc_map *m, const void *key, size_t klen, size_t size)
{
    void *val = pc_map_get(m, key, klen);

    if (val != NULL) {
        return val;
    }
    val = pc_calloc(1, size);
    if (val != NULL && pc_map_put(m, key, klen, val, NULL) != PC_OK) {
        pc_free(val);
        val = NULL;
    }
    return val;
}

void *
pc_map_del(struct pc_map *m, const void *key, size_t klen)
{
    struct pc_map_slot *s = find(m, XXH3_64bits(key, klen), key, klen);
    void *val;

    if (s == NULL) {
        return NULL;
    }
    val = s->val;
    pc_free(s->key);
    s->key = TOMBSTONE;
    s->val = NULL;
    m->len--;
    return val;
}

void
pc_map_each(const struct pc_map *m, pc_map_visit_cb cb, void *arg)
{
    for (size_t i = 0; i < m->cap; i++) {
        struct pc_map_slot *s = &m->slots[i];

        if (s->key != NULL && s->key != TOMBSTONE &&
            !cb(arg, s->key, s->klen, s->val)) {
            return;
        }
    }
}
