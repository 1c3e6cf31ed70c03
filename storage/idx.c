/* SPDX-License-Identifier: MIT */
/*
 * The ledger's in-memory indexes: a hash map from entity to its revisions
 * and, per (kind, parent), a B+tree of ids. Main invariant: an idx_add
 * either completes or changes nothing, because everything it may need is
 * allocated before the first change; idx_undo only frees.
 *
 * Layout, chosen for tens of millions of entities:
 * - A group per (kind, parent) holds the parent bytes once (interned), the
 *   entity count and the B+tree. Groups live in an array (an entity names
 *   its group by a 4-byte number) and a small hash table; they are never
 *   removed before idx_free.
 * - An entity is one allocation: group number, version count, the first
 *   revision inline (replaced by a pointer to a revision array from the
 *   second version on), id length and the id bytes: 18 + id bytes, so a
 *   20-byte id fits a 48-byte malloc chunk.
 * - The entity table uses open addressing with linear probing and a control
 *   byte per slot (7 hash bits), so a probe rarely touches a non-matching
 *   entity; load stays <= 3/4. Deletion shifts later entries back instead of
 *   leaving tombstones, so undo needs no allocation and no cleanup pass. An
 *   id hashes with its group's hash as the XXH3 seed. A table that doubles
 *   keeps its old array and moves TAB_STEP of its slots with each later
 *   insert (lookups try both): moving 800k entities at once stalled apply
 *   for 100 ms. Each slot keeps the low 32 bits of its item's hash (13
 *   bytes a slot), so neither a move nor a removal reads an entity.
 * - The ordered set is a B+tree rather than a balanced binary tree: leaves
 *   hold only 8-byte entity pointers (the id bytes stay in the entity), 64
 *   to a node, chained for scans, so it costs ~8-16 bytes per entity instead
 *   of 16-24 for tree links, and a lookup touches log64(n) nodes. Inner
 *   nodes hold separators: the shortest prefix of the right leaf's first id
 *   above the left leaf's last, copied at the split, so they stay valid
 *   whatever happens to the entity they came from; up to 22 bytes they sit
 *   inline in the node, so a descent compares mostly within node memory
 *   (out-of-line separators made inserts ~40% slower). A full leaf receiving
 *   an id at its right end on the rightmost path keeps its entries and
 *   starts a new leaf, so ids arriving in order fill leaves completely.
 *   A group remembers the leaf of its last insert, the separators that
 *   bound it and the position taken (a finger): an id within those bounds
 *   goes into that leaf without a descent, and right after the last one
 *   when two comparisons show that is its place (imports arrive in key
 *   order or near it: batch apply 2.98 -> 2.8 us per record at 2M, a
 *   third of a follower's descents' cost left). Any split clears it.
 * - idx_undo removes the entry from its leaf and never merges: it is the
 *   rare rollback path and must not allocate. An emptied leaf stays linked
 *   (scans skip it) and takes the ids of its range again later.
 */
#include "storage/idx.h"

#include <assert.h>
#include <string.h>

#include <xxhash.h>

#include "common/alloc.h"
#include "common/err.h"

#define NODE_MAX     64 /* entries per leaf, children per inner node */
#define MAX_HEIGHT   40 /* inner levels; fanout >= 2 keeps far below */
#define MAX_VERSIONS (1u << 31)

struct ent {
    uint32_t gidx;  /* x->groups[gidx] is the entity's group */
    uint32_t n_ver; /* versions, >= 1 */
    union {
        uint64_t rev;   /* n_ver == 1 */
        uint64_t *revs; /* n_ver >= 2: revs[v - 1], rev_cap(n_ver) slots */
    } r;
    uint16_t id_len;
    uint8_t id[];
};

/* Never below sizeof (padding) so member access stays in bounds; a short
 * id costs nothing more, as malloc rounds up anyway. */
#define FLEX_SIZE(type, member, len)               \
    (offsetof(type, member) + (len) > sizeof(type) \
         ? offsetof(type, member) + (len)          \
         : sizeof(type))
#define ENT_SIZE(len) FLEX_SIZE(struct ent, id, len)
#define GRP_SIZE(len) FLEX_SIZE(struct grp, parent, len)

struct grp {
    uint64_t hash;  /* of (kind, parent); seeds the hashes of its ids */
    uint64_t count; /* entities */
    void *root;     /* struct leaf if height == 0, else struct inner */
    /* The leaf of the last insert and the separators bounding its range
     * (NULL: unbounded), so that the next id in that range (imports come
     * in key order or near it) skips the descent. Separators stay where
     * they are until a node splits, which clears it. */
    struct leaf *finger;
    const struct sep *finger_lo, *finger_hi;
    uint32_t finger_pos; /* where the last insert went in it */
    uint32_t height;     /* inner levels above the leaves */
    uint32_t gidx;
    uint32_t kind;
    uint16_t parent_len;
    uint8_t parent[];
};

struct leaf {
    uint32_t n;
    struct leaf *next; /* right neighbour, for scans */
    struct ent *e[NODE_MAX];
};

/* A separator: inline when short (most are: they are shortest
 * separators), else `b` holds a pointer to a pc_malloc'd copy. */
#define SEP_INLINE 22

/* Aligned so an out-of-line key's pointer in b[0..7] is a pointer-aligned
 * word: leak checkers find it (LeakSanitizer reported these as leaks). */
struct sep {
    uint8_t b[SEP_INLINE];
    uint16_t len;
} __attribute__((aligned(8)));

struct inner {
    uint32_t n;                 /* children */
    struct sep k[NODE_MAX - 1]; /* c[i] < k[i] <= c[i + 1] */
    void *c[NODE_MAX];
};

/* Open-addressing array of pointers; slot, hash and ctrl share one
 * allocation. */
struct slots {
    void **slot;
    uint32_t *hash; /* the low 32 bits of each item's hash (its home) */
    uint8_t *ctrl;  /* 0: empty; else 0x80 | the hash's top 7 bits */
    size_t cap;     /* 0 or a power of two, at most SLOTS_MAX */
};

/* Bytes per slot; the largest table a 32-bit home addresses. */
#define SLOT_BYTES (sizeof(void *) + sizeof(uint32_t) + 1)
#define SLOTS_MAX  ((uint64_t)1 << 32)

/* A table: `cur`, and while it grows, the array it replaces: `old` slots
 * below `moved` are copied to `cur` (and left in place), the rest not yet.
 * `old` only ever loses its last reader. */
struct tab {
    struct slots cur;
    struct slots old;
    size_t moved;
    size_t n; /* items, counted once */
};

/* Old slots moved per insert (a few microseconds). While a move lasts, a
 * lookup of an absent key probes both arrays, one more cache miss: at 8 a
 * step, single PUTs applied 12% slower; at 128 the move is over 16x sooner
 * and they are as fast as before. It still ends long before `cur` fills. */
#define TAB_STEP 128

struct idx {
    struct tab ents;
    struct tab grps;
    /* The group of the last idx_add: a batch names one group throughout,
     * and its records are looked up three times each. */
    struct grp *last_grp;
    struct grp **groups;
    uint32_t n_groups;
    uint32_t cap_groups;
    uint32_t leaf_cap;
    uint32_t inner_cap;
    size_t mem; /* bytes requested, for idx_mem */
};

/* The path of a descent: node[l] at level l (0: the leaf), pos[l] the child
 * taken (inner levels) or the id's lower bound (leaf). */
struct path {
    uint32_t height; /* the tree's, when descended */
    void *node[MAX_HEIGHT + 1];
    uint32_t pos[MAX_HEIGHT + 1];
};

/* What an insert needs, allocated before anything changes. */
struct spare {
    uint32_t n_split;           /* levels that split, from the leaf up */
    void *node[MAX_HEIGHT + 2]; /* node[l]: right half at level l, or the
                                   new root at level height + 1 */
    struct sep sep;             /* separator for the leaf split */
};

/* Byte order. Ids share long prefixes ("<entry>-<n>") and a descent
 * compares some twenty of them: eight bytes at a time inline beats a call
 * to memcmp. */
static int
key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            x = __builtin_bswap64(x);
            y = __builtin_bswap64(y);
#endif
            return x < y ? -1 : 1;
        }
    }
    for (; i < n; i++) {
        if (a[i] != b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    return (alen > blen) - (alen < blen);
}

static bool
key_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static uint64_t
grp_hash_of(uint32_t kind, struct pc_slice parent)
{
    return XXH3_64bits_withSeed(parent.p, parent.len, kind);
}

static uint64_t
ent_hash(const struct idx *x, const struct ent *e)
{
    return XXH3_64bits_withSeed(e->id, e->id_len, x->groups[e->gidx]->hash);
}

static uint8_t
tag_of(uint64_t h)
{
    return (uint8_t)(0x80 | (h >> 57));
}

/* Revision slots allocated for n >= 2 versions. */
static uint32_t
rev_cap(uint32_t n)
{
    uint32_t c = 2;

    while (c < n) {
        c <<= 1;
    }
    return c;
}

static uint64_t
ent_rev(const struct ent *e, uint32_t i)
{
    return e->n_ver == 1 ? e->r.rev : e->r.revs[i];
}

static void
ent_free(struct idx *x, struct ent *e)
{
    if (e->n_ver >= 2) {
        x->mem -= rev_cap(e->n_ver) * sizeof(uint64_t);
        pc_free(e->r.revs);
    }
    x->mem -= ENT_SIZE(e->id_len);
    pc_free(e);
}

/* Put an item known to be absent into `a`, which has room: its home `h`
 * (the hash's low bits) and its ctrl byte. */
static void
slots_put(struct slots *a, void *item, uint32_t h, uint8_t ctrl)
{
    size_t mask = a->cap - 1;
    size_t i = h & mask;

    while (a->ctrl[i] != 0) {
        i = (i + 1) & mask;
    }
    a->ctrl[i] = ctrl;
    a->hash[i] = h;
    a->slot[i] = item;
}

/* Copy up to `max` more of `t->old` into `t->cur`; free it when done. With
 * each item's home kept beside it, a move reads no item: old slots are read
 * in order and land in two runs of `cur` (home i goes to i or i + old cap),
 * where rehashing each entity missed the cache once per item (15% of a
 * follower's CPU while its 3M-entity table doubled). */
static void
tab_move(struct idx *x, struct tab *t, size_t max)
{
    struct slots *o = &t->old;

    for (; max > 0 && t->moved < o->cap; max--, t->moved++) {
        if (o->ctrl[t->moved] != 0) {
            slots_put(&t->cur, o->slot[t->moved], o->hash[t->moved],
                      o->ctrl[t->moved]);
        }
    }
    if (o->cap > 0 && t->moved == o->cap) {
        x->mem -= o->cap * SLOT_BYTES;
        pc_free(o->slot);
        *o = (struct slots){ 0 };
    }
}

/* Make room for one more item: PC_OK, or PC_ENOMEM with the table's
 * contents unchanged. */
static int
tab_reserve(struct idx *x, struct tab *t)
{
    size_t cap = t->cur.cap == 0 ? 16 : t->cur.cap * 2;
    void **slot;

    tab_move(x, t, TAB_STEP);
    if ((t->n + 1) * 4 <= t->cur.cap * 3) {
        return PC_OK;
    }
    if ((uint64_t)cap > SLOTS_MAX || cap > SIZE_MAX / SLOT_BYTES) {
        return PC_ENOMEM;
    }
    slot = pc_malloc(cap * SLOT_BYTES);
    if (slot == NULL) {
        return PC_ENOMEM;
    }
    /* Only if inserts outpaced TAB_STEP, which they cannot. */
    tab_move(x, t, SIZE_MAX);
    x->mem += cap * SLOT_BYTES;
    t->old = t->cur;
    t->moved = 0;
    t->cur = (struct slots){ slot, (uint32_t *)(slot + cap),
                             (uint8_t *)slot + cap * (SLOT_BYTES - 1), cap };
    memset(t->cur.ctrl, 0, cap);
    return PC_OK;
}

/* Insert an item known to be absent; room was reserved. */
static void
tab_put(struct tab *t, void *item, uint64_t h)
{
    slots_put(&t->cur, item, (uint32_t)h, tag_of(h));
    t->n++;
}

/* Empty slot `i` of a table that is not growing, moving back later
 * members of its probe run. */
static void
tab_remove(struct tab *t, size_t i)
{
    struct slots *a = &t->cur;
    size_t mask = a->cap - 1;
    size_t j = i;

    assert(t->old.cap == 0);
    for (;;) {
        j = (j + 1) & mask;
        if (a->ctrl[j] == 0) {
            break;
        }
        size_t home = a->hash[j] & mask;
        /* The entry at j may fill the hole unless its home is in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            a->slot[i] = a->slot[j];
            a->hash[i] = a->hash[j];
            a->ctrl[i] = a->ctrl[j];
            i = j;
        }
    }
    a->ctrl[i] = 0;
    a->slot[i] = NULL;
    t->n--;
}

static struct grp *
grp_find_in(const struct slots *a, uint32_t kind, struct pc_slice parent,
            uint64_t h)
{
    uint8_t tag = tag_of(h);

    if (a->cap == 0) {
        return NULL;
    }
    for (size_t i = h & (a->cap - 1); a->ctrl[i] != 0;
         i = (i + 1) & (a->cap - 1)) {
        struct grp *g = a->slot[i];
        if (a->ctrl[i] == tag && g->kind == kind &&
            key_eq(g->parent, g->parent_len, parent.p, parent.len)) {
            return g;
        }
    }
    return NULL;
}

static struct grp *
grp_find(const struct idx *x, uint32_t kind, struct pc_slice parent, uint64_t h)
{
    struct grp *g = grp_find_in(&x->grps.cur, kind, parent, h);

    return g != NULL ? g : grp_find_in(&x->grps.old, kind, parent, h);
}

/* The group (kind, parent), or NULL. */
static struct grp *
grp_get(const struct idx *x, uint32_t kind, struct pc_slice parent)
{
    struct grp *g = x->last_grp;

    if (g != NULL && g->kind == kind &&
        key_eq(g->parent, g->parent_len, parent.p, parent.len)) {
        return g;
    }
    return grp_find(x, kind, parent, grp_hash_of(kind, parent));
}

static struct ent *
ent_find_in(const struct slots *a, const struct grp *g, struct pc_slice id,
            uint64_t h, size_t *pos)
{
    uint8_t tag = tag_of(h);

    if (a->cap == 0) {
        return NULL;
    }
    for (size_t i = h & (a->cap - 1); a->ctrl[i] != 0;
         i = (i + 1) & (a->cap - 1)) {
        struct ent *e = a->slot[i];
        if (a->ctrl[i] == tag && e->gidx == g->gidx &&
            key_eq(e->id, e->id_len, id.p, id.len)) {
            *pos = i;
            return e;
        }
    }
    return NULL;
}

/* The entity with id `id` in `g`, or NULL; `*pos` gets its slot, which
 * tab_remove may use only while the table is not growing. */
static struct ent *
ent_find(const struct idx *x, const struct grp *g, struct pc_slice id,
         uint64_t h, size_t *pos)
{
    struct ent *e = ent_find_in(&x->ents.cur, g, id, h, pos);

    return e != NULL ? e : ent_find_in(&x->ents.old, g, id, h, pos);
}

/* A macro, not a function: GCC takes a function that only prefetches for
 * one without effects and drops calls to it. */
#define SLOTS_PREFETCH(a, h)                       \
    do {                                           \
        if ((a)->cap > 0) {                        \
            size_t i_ = (h) & ((a)->cap - 1);      \
            __builtin_prefetch(&(a)->ctrl[i_]);    \
            __builtin_prefetch(&(a)->slot[i_], 1); \
        }                                          \
    } while (0)

/* Find `k`: its group in `*gp` (NULL if none) and its entity, or NULL;
 * with a group, `*hp` (if not NULL) gets the id's hash. */
static struct ent *
lookup(const struct idx *x, const struct idx_key *k, struct grp **gp,
       size_t *pos, uint64_t *hp)
{
    struct grp *g;
    uint64_t h;
    size_t p;

    *gp = NULL;
    if (k->parent.len > IDX_MAX_KEY || k->id.len > IDX_MAX_KEY) {
        return NULL;
    }
    g = grp_get(x, k->kind, k->parent);
    if (g == NULL) {
        return NULL;
    }
    *gp = g;
    h = XXH3_64bits_withSeed(k->id.p, k->id.len, g->hash);
    if (hp != NULL) {
        *hp = h;
    }
    return ent_find(x, g, k->id, h, pos != NULL ? pos : &p);
}

static const uint8_t *
sep_bytes(const struct sep *k)
{
    const uint8_t *p;

    if (k->len <= SEP_INLINE) {
        return k->b;
    }
    memcpy(&p, k->b, sizeof(p));
    return p;
}

static void
sep_release(struct idx *x, struct sep *k)
{
    if (k->len > SEP_INLINE) {
        x->mem -= k->len;
        pc_free((void *)sep_bytes(k));
    }
    k->len = 0;
}

/* Number of separators in `in` that are <= the key: the child to take. */
static uint32_t
inner_pick(const struct inner *in, const uint8_t *key, size_t len)
{
    uint32_t lo = 0;
    uint32_t hi = in->n - 1;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (key_cmp(sep_bytes(&in->k[mid]), in->k[mid].len, key, len) <= 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* First position in `lf` whose id is >= the key. */
static uint32_t
leaf_lower(const struct leaf *lf, const uint8_t *key, size_t len)
{
    uint32_t lo = 0;
    uint32_t hi = lf->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct ent *e = lf->e[mid];
        if (key_cmp(e->id, e->id_len, key, len) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* The leaf whose range holds the key. */
static struct leaf *
tree_leaf(const struct grp *g, const uint8_t *key, size_t len)
{
    void *node = g->root;

    for (uint32_t lvl = g->height; lvl > 0; lvl--) {
        const struct inner *in = node;
        node = in->c[inner_pick(in, key, len)];
    }
    return node;
}

/* Descend to the key's leaf, recording the way in `p` and the leaf's
 * bounds in the finger. */
static void
tree_path(struct grp *g, const uint8_t *key, size_t len, struct path *p)
{
    const struct sep *lo = NULL, *hi = NULL;
    void *node = g->root;

    p->height = g->height;
    for (uint32_t lvl = p->height; lvl > 0; lvl--) {
        struct inner *in = node;
        uint32_t ci = inner_pick(in, key, len);
        p->node[lvl] = in;
        p->pos[lvl] = ci;
        /* c[ci] holds the ids in [k[ci - 1], k[ci]). */
        lo = ci > 0 ? &in->k[ci - 1] : lo;
        hi = ci + 1 < in->n ? &in->k[ci] : hi;
        node = in->c[ci];
    }
    p->node[0] = node;
    p->pos[0] = leaf_lower(node, key, len);
    g->finger = node;
    g->finger_lo = lo;
    g->finger_hi = hi;
}

/* The way to the key's leaf for an insert that will not split it: from
 * the finger when the key is in its range, else by descent. */
static void
tree_path_insert(struct idx *x, struct grp *g, const uint8_t *key, size_t len,
                 struct path *p)
{
    const struct leaf *f = g->finger;

    if (f != NULL && f->n < x->leaf_cap &&
        (g->finger_lo == NULL ||
         key_cmp(sep_bytes(g->finger_lo), g->finger_lo->len, key, len) <= 0) &&
        (g->finger_hi == NULL ||
         key_cmp(key, len, sep_bytes(g->finger_hi), g->finger_hi->len) < 0)) {
        /* Right after the last insert (a sorted leaf has one place for
         * the key, so two comparisons prove it), else a search. */
        uint32_t i = g->finger_pos + 1;
        bool next =
            i <= f->n &&
            key_cmp(f->e[i - 1]->id, f->e[i - 1]->id_len, key, len) < 0 &&
            (i == f->n || key_cmp(key, len, f->e[i]->id, f->e[i]->id_len) < 0);
        p->height = g->height;
        p->node[0] = g->finger;
        p->pos[0] = next ? i : leaf_lower(f, key, len);
        return;
    }
    tree_path(g, key, len, p);
}

/* Entry i of leaf `lf` once `e` is inserted at `pos`. */
static struct ent *
leaf_with(const struct leaf *lf, uint32_t pos, struct ent *e, uint32_t i)
{
    if (i < pos) {
        return lf->e[i];
    }
    return i == pos ? e : lf->e[i - 1];
}

/* How many of the n + 1 entries of a full leaf stay left of the split. */
static uint32_t
leaf_split_point(const struct leaf *lf, uint32_t pos)
{
    if (pos == lf->n && lf->next == NULL) {
        return lf->n;
    }
    return (lf->n + 1) / 2;
}

static void *
node_alloc(struct idx *x, size_t size)
{
    void *n = pc_malloc(size);

    if (n != NULL) {
        memset(n, 0, size);
        x->mem += size;
    }
    return n;
}

static void
node_free(struct idx *x, void *n, size_t size)
{
    if (n != NULL) {
        x->mem -= size;
        pc_free(n);
    }
}

static void
spare_release(struct idx *x, struct spare *s, uint32_t height)
{
    for (uint32_t l = 0; l <= height + 1; l++) {
        node_free(x, s->node[l],
                  l == 0 ? sizeof(struct leaf) : sizeof(struct inner));
        s->node[l] = NULL;
    }
    sep_release(x, &s->sep);
}

/*
 * Allocate what inserting `e` along `p` needs: the right half of every
 * level that splits, a new root if the root splits, and the leaf split's
 * separator. PC_OK or PC_ENOMEM with nothing held.
 */
static int
tree_reserve(struct idx *x, const struct grp *g, struct ent *e,
             const struct path *p, struct spare *s)
{
    const struct leaf *lf = p->node[0];
    uint32_t lvl = 1;

    s->n_split = 0; /* all tree_insert reads when nothing splits */
    if (lf->n < x->leaf_cap) {
        return PC_OK;
    }
    memset(s, 0, sizeof(*s));
    while (lvl <= g->height &&
           ((const struct inner *)p->node[lvl])->n == x->inner_cap) {
        lvl++;
    }
    if (lvl > g->height && g->height == MAX_HEIGHT) {
        return PC_ENOMEM; /* UNTESTED: needs ~2^40 ids */
    }
    s->n_split = lvl;
    /* Right halves for levels 0..lvl-1, and a new root at level lvl. */
    for (uint32_t l = 0; l <= lvl; l++) {
        if (l == lvl && lvl <= g->height) {
            break;
        }
        s->node[l] =
            node_alloc(x, l == 0 ? sizeof(struct leaf) : sizeof(struct inner));
        if (s->node[l] == NULL) {
            goto err;
        }
    }

    uint32_t m = leaf_split_point(lf, p->pos[0]);
    const struct ent *lo = leaf_with(lf, p->pos[0], e, m - 1);
    const struct ent *hi = leaf_with(lf, p->pos[0], e, m);
    size_t cp = 0;
    while (cp < lo->id_len && cp < hi->id_len && lo->id[cp] == hi->id[cp]) {
        cp++;
    }
    /* lo < hi, so hi is longer than the common prefix. */
    size_t len = cp + 1;
    if (len <= SEP_INLINE) {
        memcpy(s->sep.b, hi->id, len);
    } else {
        uint8_t *b = pc_malloc(len);
        if (b == NULL) {
            goto err;
        }
        x->mem += len;
        memcpy(b, hi->id, len);
        memcpy(s->sep.b, &b, sizeof(b));
    }
    s->sep.len = (uint16_t)len;
    return PC_OK;

err:
    spare_release(x, s, g->height);
    return PC_ENOMEM;
}

/* Insert `e` along `p` using the nodes in `s`; cannot fail. */
static void
tree_insert(struct grp *g, struct ent *e, const struct path *p,
            const struct spare *s)
{
    struct leaf *lf = p->node[0];
    uint32_t pos = p->pos[0];
    uint32_t n = lf->n;

    if (s->n_split == 0) {
        memmove(&lf->e[pos + 1], &lf->e[pos], (n - pos) * sizeof(lf->e[0]));
        lf->e[pos] = e;
        lf->n++;
        return;
    }

    struct ent *all[NODE_MAX + 1];
    uint32_t m = leaf_split_point(lf, pos);
    struct leaf *rl = s->node[0];
    for (uint32_t i = 0; i <= n; i++) {
        all[i] = leaf_with(lf, pos, e, i);
    }
    memcpy(lf->e, all, m * sizeof(all[0]));
    lf->n = m;
    memcpy(rl->e, all + m, (n + 1 - m) * sizeof(all[0]));
    rl->n = n + 1 - m;
    rl->next = lf->next;
    lf->next = rl;

    struct sep up = s->sep;
    void *right = rl;
    for (uint32_t lvl = 1; lvl <= p->height; lvl++) {
        struct inner *in = p->node[lvl];
        uint32_t ci = p->pos[lvl];
        uint32_t nc = in->n;

        if (lvl >= s->n_split) {
            memmove(&in->k[ci + 1], &in->k[ci],
                    (nc - 1 - ci) * sizeof(in->k[0]));
            memmove(&in->c[ci + 2], &in->c[ci + 1],
                    (nc - 1 - ci) * sizeof(in->c[0]));
            in->k[ci] = up;
            in->c[ci + 1] = right;
            in->n++;
            return;
        }
        /* nc + 1 children and nc separators once the new pair is in. */
        struct sep ks[NODE_MAX];
        void *cs[NODE_MAX + 1];
        for (uint32_t i = 0; i < nc; i++) {
            ks[i] = i < ci ? in->k[i] : i == ci ? up : in->k[i - 1];
        }
        for (uint32_t i = 0; i <= nc; i++) {
            cs[i] = i <= ci ? in->c[i] : i == ci + 1 ? right : in->c[i - 1];
        }
        uint32_t mid = (nc + 1) / 2;
        struct inner *rn = s->node[lvl];
        memcpy(in->k, ks, (mid - 1) * sizeof(ks[0]));
        memcpy(in->c, cs, mid * sizeof(cs[0]));
        in->n = mid;
        memcpy(rn->k, ks + mid, (nc - mid) * sizeof(ks[0]));
        memcpy(rn->c, cs + mid, (nc + 1 - mid) * sizeof(cs[0]));
        rn->n = nc + 1 - mid;
        up = ks[mid - 1];
        right = rn;
    }

    struct inner *root = s->node[g->height + 1];
    root->n = 2;
    root->c[0] = g->root;
    root->c[1] = right;
    root->k[0] = up;
    g->root = root;
    g->height++;
}

/* Append version n_ver + 1 at `rev` to an existing entity. */
static int
ent_push(struct idx *x, struct ent *e, uint64_t version, uint64_t rev)
{
    uint32_t n = e->n_ver;

    if (version != (uint64_t)n + 1 || rev <= ent_rev(e, n - 1) ||
        n + 1 >= MAX_VERSIONS) {
        return PC_EINVAL;
    }
    if (n == 1) {
        uint64_t *a = pc_malloc(rev_cap(2) * sizeof(*a));
        if (a == NULL) {
            return PC_ENOMEM;
        }
        x->mem += rev_cap(2) * sizeof(*a);
        a[0] = e->r.rev;
        e->r.revs = a;
    } else if (n + 1 > rev_cap(n)) {
        uint64_t *a = pc_realloc(e->r.revs, rev_cap(n + 1) * sizeof(*a));
        if (a == NULL) {
            return PC_ENOMEM;
        }
        x->mem += (rev_cap(n + 1) - rev_cap(n)) * sizeof(*a);
        e->r.revs = a;
    }
    e->r.revs[n] = rev;
    e->n_ver = n + 1;
    return PC_OK;
}

/* Drop the latest of n_ver >= 2 versions; the array is kept (no realloc)
 * unless one version remains, which goes back inline. */
static void
ent_pop(struct idx *x, struct ent *e)
{
    uint32_t n = e->n_ver;

    if (n == 2) {
        uint64_t first = e->r.revs[0];
        x->mem -= rev_cap(2) * sizeof(uint64_t);
        pc_free(e->r.revs);
        e->r.rev = first;
    } else {
        x->mem -= (rev_cap(n) - rev_cap(n - 1)) * sizeof(uint64_t);
    }
    e->n_ver = n - 1;
}

/* Create entity `k` at version 1, and its group if `g` is NULL (else `h`
 * is the id's hash). */
static int
ent_create(struct idx *x, struct grp *g, const struct idx_key *k, uint64_t rev,
           uint64_t h)
{
    struct grp *ng = NULL;
    struct leaf *nl = NULL;
    struct ent *e;
    struct path p;
    struct spare s;

    if (g == NULL) {
        if (x->n_groups == UINT32_MAX) {
            return PC_ENOMEM; /* UNTESTED: 2^32 groups */
        }
        if (x->n_groups == x->cap_groups) {
            uint32_t cap = x->cap_groups == 0 ? 8 : x->cap_groups * 2;
            if (cap < x->cap_groups) {
                cap = UINT32_MAX;
            }
            struct grp **a = pc_realloc(x->groups, cap * sizeof(*a));
            if (a == NULL) {
                return PC_ENOMEM;
            }
            x->mem += (cap - x->cap_groups) * sizeof(*a);
            x->groups = a;
            x->cap_groups = cap;
        }
        if (tab_reserve(x, &x->grps) != PC_OK) {
            return PC_ENOMEM;
        }
        ng = pc_malloc(GRP_SIZE(k->parent.len));
        if (ng == NULL) {
            return PC_ENOMEM;
        }
        x->mem += GRP_SIZE(k->parent.len);
        nl = node_alloc(x, sizeof(*nl));
        if (nl == NULL) {
            goto err_grp;
        }
        ng->hash = grp_hash_of(k->kind, k->parent);
        ng->count = 0;
        ng->root = nl;
        ng->height = 0;
        ng->finger = NULL;
        ng->finger_lo = ng->finger_hi = NULL;
        ng->finger_pos = 0;
        ng->gidx = x->n_groups;
        ng->kind = k->kind;
        ng->parent_len = (uint16_t)k->parent.len;
        if (k->parent.len > 0) {
            memcpy(ng->parent, k->parent.p, k->parent.len);
        }
        g = ng;
    }

    e = pc_malloc(ENT_SIZE(k->id.len));
    if (e == NULL) {
        goto err_leaf;
    }
    x->mem += ENT_SIZE(k->id.len);
    e->gidx = g->gidx;
    e->n_ver = 1;
    e->r.rev = rev;
    e->id_len = (uint16_t)k->id.len;
    if (k->id.len > 0) {
        memcpy(e->id, k->id.p, k->id.len);
    }
    if (tab_reserve(x, &x->ents) != PC_OK) {
        goto err_ent;
    }
    tree_path_insert(x, g, e->id, e->id_len, &p);
    if (tree_reserve(x, g, e, &p, &s) != PC_OK) {
        goto err_ent;
    }

    if (ng != NULL) {
        x->groups[x->n_groups++] = ng;
        tab_put(&x->grps, ng, ng->hash);
    }
    tab_put(&x->ents, e, ng != NULL ? ent_hash(x, e) : h);
    tree_insert(g, e, &p, &s);
    if (s.n_split > 0) {
        g->finger = NULL; /* nodes and separators moved */
    } else {
        g->finger_pos = p.pos[0];
    }
    g->count++;
    return PC_OK;

err_ent:
    x->mem -= ENT_SIZE(k->id.len);
    pc_free(e);
err_leaf:
    if (ng != NULL) {
        node_free(x, nl, sizeof(*nl));
    }
err_grp:
    if (ng != NULL) {
        x->mem -= GRP_SIZE(k->parent.len);
        pc_free(ng);
    }
    return PC_ENOMEM;
}

int
idx_new(struct idx **out)
{
    struct idx *x = pc_calloc(1, sizeof(*x));

    if (x == NULL) {
        return PC_ENOMEM;
    }
    x->leaf_cap = NODE_MAX;
    x->inner_cap = NODE_MAX;
    x->mem = sizeof(*x);
    *out = x;
    return PC_OK;
}

static void
tree_free(struct idx *x, void *node, uint32_t height)
{
    if (height == 0) {
        struct leaf *lf = node;
        for (uint32_t i = 0; i < lf->n; i++) {
            ent_free(x, lf->e[i]);
        }
        node_free(x, lf, sizeof(*lf));
        return;
    }
    struct inner *in = node;
    for (uint32_t i = 0; i < in->n; i++) {
        tree_free(x, in->c[i], height - 1);
        if (i + 1 < in->n) {
            sep_release(x, &in->k[i]);
        }
    }
    node_free(x, in, sizeof(*in));
}

void
idx_free(struct idx *x)
{
    if (x == NULL) {
        return;
    }
    for (uint32_t i = 0; i < x->n_groups; i++) {
        struct grp *g = x->groups[i];
        tree_free(x, g->root, g->height);
        pc_free(g);
    }
    pc_free(x->groups);
    pc_free(x->ents.cur.slot);
    pc_free(x->ents.old.slot);
    pc_free(x->grps.cur.slot);
    pc_free(x->grps.old.slot);
    pc_free(x);
}

int
idx_add(struct idx *x, const struct idx_key *k, uint64_t version, uint64_t rev)
{
    struct grp *g;
    struct ent *e;
    uint64_t h = 0;

    if (k->parent.len > IDX_MAX_KEY || k->id.len > IDX_MAX_KEY) {
        return PC_EINVAL;
    }
    e = lookup(x, k, &g, NULL, &h);
    if (g != NULL) {
        x->last_grp = g; /* groups live as long as the index */
    }
    if (e != NULL) {
        return ent_push(x, e, version, rev);
    }
    if (version != 1) {
        return PC_EINVAL;
    }
    return ent_create(x, g, k, rev, h);
}

void
idx_prefetch(const struct idx *x, const struct idx_key *k)
{
    struct grp *g;
    uint64_t h;

    if (k->parent.len > IDX_MAX_KEY || k->id.len > IDX_MAX_KEY) {
        return;
    }
    g = grp_get(x, k->kind, k->parent);
    if (g != NULL) {
        h = XXH3_64bits_withSeed(k->id.p, k->id.len, g->hash);
        SLOTS_PREFETCH(&x->ents.cur, h);
        SLOTS_PREFETCH(&x->ents.old, h);
    }
}

void
idx_undo(struct idx *x, const struct idx_key *k)
{
    struct grp *g;
    size_t pos;
    struct ent *e;

    /* tab_remove needs one array; finishing a move allocates nothing. */
    tab_move(x, &x->ents, SIZE_MAX);
    e = lookup(x, k, &g, &pos, NULL);
    if (e == NULL) {
        return;
    }
    if (e->n_ver > 1) {
        ent_pop(x, e);
        return;
    }
    struct leaf *lf = tree_leaf(g, e->id, e->id_len);
    uint32_t i = leaf_lower(lf, e->id, e->id_len);
    assert(i < lf->n && lf->e[i] == e);
    memmove(&lf->e[i], &lf->e[i + 1], (lf->n - i - 1) * sizeof(lf->e[0]));
    lf->n--;
    tab_remove(&x->ents, pos);
    g->count--;
    ent_free(x, e);
}

uint64_t
idx_latest(const struct idx *x, const struct idx_key *k, uint64_t *rev)
{
    struct grp *g;
    const struct ent *e = lookup(x, k, &g, NULL, NULL);

    if (e == NULL) {
        return 0;
    }
    if (rev != NULL) {
        *rev = ent_rev(e, e->n_ver - 1);
    }
    return e->n_ver;
}

int
idx_version_rev(const struct idx *x, const struct idx_key *k, uint64_t version,
                uint64_t *rev)
{
    struct grp *g;
    const struct ent *e = lookup(x, k, &g, NULL, NULL);

    if (e == NULL || version == 0 || version > e->n_ver) {
        return PC_ENOTFOUND;
    }
    *rev = ent_rev(e, (uint32_t)(version - 1));
    return PC_OK;
}

int
idx_version_at(const struct idx *x, const struct idx_key *k, uint64_t at,
               uint64_t *version, uint64_t *rev)
{
    struct grp *g;
    const struct ent *e = lookup(x, k, &g, NULL, NULL);
    uint32_t lo = 0;
    uint32_t hi;

    if (e == NULL) {
        return PC_ENOTFOUND;
    }
    /* lo becomes the number of versions with revision <= at. */
    hi = e->n_ver;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ent_rev(e, mid) <= at) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0) {
        return PC_ENOTFOUND;
    }
    *version = lo;
    *rev = ent_rev(e, lo - 1);
    return PC_OK;
}

uint64_t
idx_count(const struct idx *x, uint32_t kind, struct pc_slice parent)
{
    const struct grp *g;

    if (parent.len > IDX_MAX_KEY) {
        return 0;
    }
    g = grp_find(x, kind, parent, grp_hash_of(kind, parent));
    return g != NULL ? g->count : 0;
}

uint64_t
idx_scan(const struct idx *x, uint32_t kind, struct pc_slice parent,
         struct pc_slice prefix, struct pc_slice after, idx_visit_cb cb,
         void *arg)
{
    const struct grp *g;
    struct pc_slice from = prefix;
    bool skip_from = false;
    uint64_t n = 0;

    if (parent.len > IDX_MAX_KEY) {
        return 0;
    }
    g = grp_find(x, kind, parent, grp_hash_of(kind, parent));
    if (g == NULL) {
        return 0;
    }
    if (after.len > 0 &&
        key_cmp(after.p, after.len, prefix.p, prefix.len) >= 0) {
        from = after;
        skip_from = true;
    }
    const struct leaf *lf = tree_leaf(g, from.p, from.len);
    uint32_t i = leaf_lower(lf, from.p, from.len);
    for (;;) {
        while (lf != NULL && i >= lf->n) {
            lf = lf->next;
            i = 0;
        }
        if (lf == NULL) {
            break;
        }
        const struct ent *e = lf->e[i++];
        /* Only the first id reached can equal `after`. */
        if (skip_from) {
            skip_from = false;
            if (key_eq(e->id, e->id_len, from.p, from.len)) {
                continue;
            }
        }
        if (e->id_len < prefix.len ||
            (prefix.len > 0 && memcmp(e->id, prefix.p, prefix.len) != 0)) {
            break;
        }
        n++;
        if (!cb(arg, (struct pc_slice){ e->id, e->id_len }, e->n_ver,
                ent_rev(e, e->n_ver - 1))) {
            break;
        }
    }
    return n;
}

size_t
idx_mem(const struct idx *x)
{
    return x->mem;
}

int
idx_set_node_cap(struct idx *x, unsigned leaf_cap, unsigned inner_cap)
{
    if (x->n_groups > 0 || leaf_cap < 2 || leaf_cap > NODE_MAX ||
        inner_cap < 3 || inner_cap > NODE_MAX) {
        return PC_EINVAL;
    }
    x->leaf_cap = leaf_cap;
    x->inner_cap = inner_cap;
    return PC_OK;
}
