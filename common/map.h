/* SPDX-License-Identifier: MIT */
/*
 * A hash map from byte-string keys to pointers (open addressing, linear
 * probing, XXH3 hashes). Iteration order is the table's and must never leak
 * into replicated results: callers that list sort first. Keys are copied in.
 */
#ifndef PC_MAP_H
#define PC_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_map_slot;

struct pc_map {
    struct pc_map_slot *slots;
    size_t cap;  /* slots allocated, a power of two (or 0) */
    size_t len;  /* live entries */
    size_t used; /* live entries + tombstones */
};

void pc_map_init(struct pc_map *m);
/* Free the table and the key copies (not the values). Accepts zeroed maps. */
void pc_map_release(struct pc_map *m);

/* What frees one value of a map that owns its values (pc_free will do). */
typedef void (*pc_map_free_cb)(void *val);
/* Free every value with `free_val`, then release the map (pc_map_release). */
void pc_map_release_values(struct pc_map *m, pc_map_free_cb free_val);

/* The value stored under the key, or NULL. */
void *pc_map_get(const struct pc_map *m, const void *key, size_t klen);

/*
 * Store `val` (not NULL) under the key, replacing any value (returned in
 * `*old` if `old` is not NULL; NULL when new). PC_OK or PC_ENOMEM (unchanged).
 */
int pc_map_put(struct pc_map *m, const void *key, size_t klen, void *val,
               void **old);

/*
 * The value under the key; when there is none, a new zeroed block of `size`
 * bytes (pc_calloc: the caller frees it, see pc_map_release_values) stored
 * there first. NULL when out of memory, the map unchanged.
 */
void *pc_map_get_or_add(struct pc_map *m, const void *key, size_t klen,
                        size_t size);

/* Remove the key; returns its value or NULL. Never allocates. */
void *pc_map_del(struct pc_map *m, const void *key, size_t klen);

/*
 * Visit every entry until `cb` returns false; the map must not change during
 * the walk. The order is unspecified.
 */
typedef bool (*pc_map_visit_cb)(void *arg, const void *key, size_t klen,
                                void *val);
void pc_map_each(const struct pc_map *m, pc_map_visit_cb cb, void *arg);

#endif
