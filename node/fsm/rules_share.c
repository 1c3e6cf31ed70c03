/* SPDX-License-Identifier: MIT */
/*
 * Sharing (articles 17-20): share requests for conditional entries, the
 * provider org's opinion, the authority's decision, the grant an approval
 * makes and its revocation; the derived state of requests and grants
 * (rebuilt from their facts); the counters reports read; and the grant
 * lookup behind fsm_may_read_records.
 *
 * Requests and grants are versioned facts (SHARE_REQUEST "sr-<rev>",
 * GRANT "gr-<rev>", rev = the creating fact's revision) whose payload is
 * the whole object; each step appends a new version. A grant ends by
 * ledger time (`days` after the approval), by revocation (a new version),
 * or when an ENTRY fact takes the entry's share class in force away from
 * `conditional` or retires it (derived from that fact, so no grant fact:
 * fsm_share_entry_changed). Everything here is a pure function of the
 * ledger; docs/rules.md ("Sharing") has every rule and refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/timefmt.h"
#include "node/fsm/fsm_int.h"

#define NO_SLICE       ((struct pc_slice){ NULL, 0 })
#define MAX_TEXT       4096 /* purpose, reason */
#define MAX_FIELDS     1000
#define MAX_FIELD_NAME 128
#define MAX_DAYS       3650
#define DAY_MS         86400000LL

static const char *const status_names[] = { "pending_provider",
                                            "pending_authority", "approved",
                                            "rejected", NULL };
static const char *const grant_status_names[] = { "active", "expired",
                                                  "revoked", "ended", NULL };

const char *
fsm_share_status_name(unsigned s)
{
    return s < FSM_SHARE_N_STATUS ? status_names[s] : NULL;
}

int
fsm_share_status_parse(const char *name)
{
    return fsm_name_index(status_names, name);
}

const char *
fsm_grant_status_name(unsigned s)
{
    return s <= FSM_GRANT_ENDED ? grant_status_names[s] : NULL;
}

int
fsm_grant_status_parse(const char *name)
{
    return fsm_name_index(grant_status_names, name);
}

bool
fsm_server_id_parse(const char *s, const char *prefix, uint64_t *rev)
{
    size_t pl = strlen(prefix), n;
    uint64_t v = 0;

    if (s == NULL || strncmp(s, prefix, pl) != 0 || s[pl] != '-') {
        return false;
    }
    s += pl + 1;
    n = strlen(s);
    if (n < 1 || n > 19 || s[0] < '1' || s[0] > '9') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX) {
        return false;
    }
    *rev = v;
    return true;
}

/* ---- syntax ----------------------------------------------------------- */

static size_t
str_len(const struct jcs_val *v)
{
    size_t len = 0;

    jcs_string(v, &len);
    return len;
}

static bool
request_check(const struct jcs_val *o, char *msg, char *field)
{
    static const char *const allowed[] = { "entry", "purpose", "fields", "days",
                                           NULL };
    const char *unknown = fsm_unknown_member(o, allowed);
    const struct jcs_val *v;
    const char *s;
    size_t len;

    if (unknown != NULL) {
        snprintf(field, FSM_FIELD_LEN, "%.63s", unknown);
        snprintf(msg, 200, "unknown member \"%.64s\"", unknown);
        return false;
    }
    s = fsm_get_str(o, "entry", &len);
    if (s == NULL || !fsm_id_valid(s, len)) {
        return fsm_check_fail(msg, field, "entry",
                              "\"entry\" must be an entry id: "
                              "[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    }
    if (!fsm_text_ok(fsm_get(o, "purpose"), MAX_TEXT)) {
        return fsm_check_fail(
            msg, field, "purpose",
            "\"purpose\" is required: a non-blank string of at most "
            "4096 bytes");
    }
    v = fsm_get(o, "days");
    if (v == NULL || !jcs_is_int_literal(v) || !jcs_is_integer(v) ||
        jcs_number(v) < 1 || jcs_number(v) > MAX_DAYS) {
        return fsm_check_fail(msg, field, "days",
                              "\"days\" must be a whole number from 1 to 3650");
    }
    v = fsm_get(o, "fields");
    if (v == NULL) {
        return true;
    }
    if (jcs_type(v) != JCS_ARRAY || jcs_len(v) < 1 || jcs_len(v) > MAX_FIELDS) {
        return fsm_check_fail(
            msg, field, "fields",
            "\"fields\" must be an array of 1-1000 field names");
    }
    for (size_t i = 0; i < jcs_len(v); i++) {
        s = jcs_string(jcs_at(v, i), &len);
        if (s == NULL || len < 1 || len > MAX_FIELD_NAME) {
            return fsm_check_fail(
                msg, field, "fields",
                "each of \"fields\" must be a field name of 1-128 "
                "bytes");
        }
        for (size_t j = 0; j < i; j++) {
            size_t l2;
            const char *t = jcs_string(jcs_at(v, j), &l2);

            if (l2 == len && memcmp(s, t, len) == 0) {
                return fsm_check_fail(msg, field, "fields",
                                      "\"fields\" names a field twice");
            }
        }
    }
    return true;
}

static bool
decide_check(const struct jcs_val *o, char *msg, char *field)
{
    static const char *const allowed[] = { "decision", "reason", NULL };
    const char *unknown = fsm_unknown_member(o, allowed);
    const struct jcs_val *r = fsm_get(o, "reason");
    const char *d = fsm_get_str(o, "decision", NULL);

    if (unknown != NULL) {
        snprintf(field, FSM_FIELD_LEN, "%.63s", unknown);
        snprintf(msg, 200, "unknown member \"%.64s\"", unknown);
        return false;
    }
    if (d == NULL || (strcmp(d, "approve") != 0 && strcmp(d, "reject") != 0)) {
        return fsm_check_fail(msg, field, "decision",
                              "\"decision\" must be \"approve\" or \"reject\"");
    }
    if (r != NULL && jcs_type(r) != JCS_NULL &&
        (jcs_type(r) != JCS_STRING || str_len(r) > MAX_TEXT)) {
        return fsm_check_fail(
            msg, field, "reason",
            "\"reason\" must be a string of at most 4096 bytes");
    }
    if (strcmp(d, "reject") == 0 && !fsm_text_ok(r, MAX_TEXT)) {
        return fsm_check_fail(
            msg, field, "reason",
            "a rejection states its reason (article 18): \"reason\" "
            "must be a non-blank string of at most 4096 bytes");
    }
    return true;
}

static bool
revoke_check(const struct jcs_val *o, char *msg, char *field)
{
    static const char *const allowed[] = { "reason", NULL };
    const char *unknown = fsm_unknown_member(o, allowed);

    if (unknown != NULL) {
        snprintf(field, FSM_FIELD_LEN, "%.63s", unknown);
        snprintf(msg, 200, "unknown member \"%.64s\"", unknown);
        return false;
    }
    if (!fsm_text_ok(fsm_get(o, "reason"), MAX_TEXT)) {
        return fsm_check_fail(
            msg, field, "reason",
            "\"reason\" is required: a non-blank string of at most "
            "4096 bytes");
    }
    return true;
}

bool
fsm_share_request_body_valid(const void *body, size_t len, char *msg,
                             char *field)
{
    return fsm_body_valid(body, len, request_check, msg, field);
}

bool
fsm_share_decide_body_valid(const void *body, size_t len, char *msg,
                            char *field)
{
    return fsm_body_valid(body, len, decide_check, msg, field);
}

bool
fsm_grant_revoke_body_valid(const void *body, size_t len, char *msg,
                            char *field)
{
    return fsm_body_valid(body, len, revoke_check, msg, field);
}

/* ---- derived state ---------------------------------------------------- */

/* A median kept as two heaps: `lo` (a max-heap, stored negated) holds the
 * lower half and at most one more than `hi` (a min-heap). */
struct med {
    int64_t *lo, *hi;
    size_t nlo, nhi, caplo, caphi;
};

static void
heap_up(int64_t *h, size_t i)
{
    while (i > 0 && h[(i - 1) / 2] > h[i]) {
        int64_t t = h[i];

        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static void
heap_down(int64_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t m = i, l = 2 * i + 1, r = 2 * i + 2;

        if (l < n && h[l] < h[m]) {
            m = l;
        }
        if (r < n && h[r] < h[m]) {
            m = r;
        }
        if (m == i) {
            return;
        }
        int64_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static int
heap_push(int64_t **h, size_t *n, size_t *cap, int64_t v)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 8;
        int64_t *nh = pc_realloc(*h, nc * sizeof(*nh));

        if (nh == NULL) {
            return PC_ENOMEM;
        }
        *h = nh;
        *cap = nc;
    }
    (*h)[(*n)++] = v;
    heap_up(*h, *n - 1);
    return PC_OK;
}

static int64_t
heap_pop(int64_t *h, size_t *n)
{
    int64_t top = h[0];

    h[0] = h[--*n];
    heap_down(h, *n, 0);
    return top;
}

static int
med_add(struct med *m, int64_t v)
{
    int rc;

    /* Room in both heaps first, so the moves below cannot fail. */
    if (m->nlo + 1 >= m->caplo || m->nhi + 1 >= m->caphi) {
        size_t c = (m->caplo > m->caphi ? m->caplo : m->caphi) * 2 + 8;
        int64_t *a = pc_realloc(m->lo, c * sizeof(*a)), *b;

        if (a == NULL) {
            return PC_ENOMEM;
        }
        m->lo = a;
        m->caplo = c;
        b = pc_realloc(m->hi, c * sizeof(*b));
        if (b == NULL) {
            return PC_ENOMEM;
        }
        m->hi = b;
        m->caphi = c;
    }
    if (m->nlo == 0 || v <= -m->lo[0]) {
        rc = heap_push(&m->lo, &m->nlo, &m->caplo, -v);
    } else {
        rc = heap_push(&m->hi, &m->nhi, &m->caphi, v);
    }
    if (rc != PC_OK) {
        return rc;
    }
    if (m->nlo > m->nhi + 1) {
        rc = heap_push(&m->hi, &m->nhi, &m->caphi, -heap_pop(m->lo, &m->nlo));
    } else if (m->nhi > m->nlo) {
        rc = heap_push(&m->lo, &m->nlo, &m->caplo, -heap_pop(m->hi, &m->nhi));
    }
    return rc;
}

static int64_t
med_get(const struct med *m)
{
    return m->nlo > 0 ? -m->lo[0] : -1;
}

static void
med_release(struct med *m)
{
    pc_free(m->lo);
    pc_free(m->hi);
    memset(m, 0, sizeof(*m));
}

/* The counters of one scope (all, an entry, a provider or requesting org). */
struct group {
    uint64_t by_status[FSM_SHARE_N_STATUS];
    struct med opinion, decision;
    int64_t *live; /* ends_ms of grants neither revoked nor ended, sorted */
    size_t n_live, cap_live;
    uint64_t grants, revoked, ended;
    /* Entry groups only: the requesting orgs (sorted) and the grants. */
    char **orgs;
    size_t n_orgs, cap_orgs;
    struct fsm_grant **eg;
    size_t n_eg, cap_eg;
};

/* The grants one org holds on one entry (key: entry NUL org). */
struct holding {
    struct fsm_grant **v;
    size_t n, cap;
};

struct fsm_share {
    struct fsm_share_request **reqs; /* by id (= creation order) */
    size_t n_reqs, cap_reqs;
    struct fsm_grant **grants;
    size_t n_grants, cap_grants;
    struct pc_map entries;    /* entry id -> struct group */
    struct pc_map providers;  /* org -> struct group */
    struct pc_map requesters; /* org -> struct group */
    struct pc_map holdings;   /* entry NUL org -> struct holding */
    struct group all;
    const char **demand; /* sorted ids of `entries`, a cache */
    size_t n_demand;
    bool demand_stale;
};

static void
strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pc_free(v[i]);
    }
    pc_free(v);
}

static void
group_release(struct group *g)
{
    med_release(&g->opinion);
    med_release(&g->decision);
    pc_free(g->live);
    strv_free(g->orgs, g->n_orgs);
    pc_free(g->eg);
    memset(g, 0, sizeof(*g));
}

/* The values of the maps (pc_map_free_cb). */
static void
group_free(void *val)
{
    group_release(val);
    pc_free(val);
}

static void
holding_free(void *val)
{
    struct holding *h = val;

    pc_free(h->v);
    pc_free(h);
}

static void
request_free(struct fsm_share_request *r)
{
    if (r == NULL) {
        return;
    }
    pc_free(r->entry);
    pc_free(r->org);
    pc_free(r->requester);
    pc_free(r->provider);
    pc_free(r->opinion_by);
    pc_free(r);
}

static void
grant_free(struct fsm_grant *g)
{
    if (g == NULL) {
        return;
    }
    pc_free(g->entry);
    pc_free(g->org);
    pc_free(g->provider);
    strv_free(g->fields, g->n_fields);
    pc_free(g);
}

int
fsm_share_new(struct fsm_share **out)
{
    struct fsm_share *s = pc_calloc(1, sizeof(*s));

    if (s == NULL) {
        return PC_ENOMEM;
    }
    pc_map_init(&s->entries);
    pc_map_init(&s->providers);
    pc_map_init(&s->requesters);
    pc_map_init(&s->holdings);
    s->demand_stale = true;
    *out = s;
    return PC_OK;
}

void
fsm_share_reset(struct fsm_share *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->n_reqs; i++) {
        request_free(s->reqs[i]);
    }
    pc_free(s->reqs);
    for (size_t i = 0; i < s->n_grants; i++) {
        grant_free(s->grants[i]);
    }
    pc_free(s->grants);
    s->reqs = NULL;
    s->grants = NULL;
    s->n_reqs = s->cap_reqs = s->n_grants = s->cap_grants = 0;
    pc_map_release_values(&s->entries, group_free);
    pc_map_release_values(&s->providers, group_free);
    pc_map_release_values(&s->requesters, group_free);
    pc_map_release_values(&s->holdings, holding_free);
    group_release(&s->all);
    for (size_t i = 0; i < s->n_demand; i++) {
        pc_free((char *)s->demand[i]);
    }
    pc_free(s->demand);
    s->demand = NULL;
    s->n_demand = 0;
    s->demand_stale = true;
}

void
fsm_share_free(struct fsm_share *s)
{
    fsm_share_reset(s);
    pc_free(s);
}

/* The group of `key` in `m`, made when missing; NULL when out of memory. */
static struct group *
group_of(struct fsm_share *s, struct pc_map *m, const char *key)
{
    struct group *g = pc_map_get(m, key, strlen(key));

    if (g != NULL) {
        return g;
    }
    g = pc_map_get_or_add(m, key, strlen(key), sizeof(*g));
    if (g != NULL && m == &s->entries) {
        s->demand_stale = true;
    }
    return g;
}

/* The four groups a request or grant counts in: all, entry, provider,
 * requester. PC_OK or PC_ENOMEM. */
static int
groups_of(struct fsm_share *s, const char *entry, const char *provider,
          const char *org, struct group *out[4])
{
    out[0] = &s->all;
    out[1] = group_of(s, &s->entries, entry);
    out[2] = group_of(s, &s->providers, provider);
    out[3] = group_of(s, &s->requesters, org);
    return out[1] && out[2] && out[3] ? PC_OK : PC_ENOMEM;
}

/* First index in sorted `v` whose value is > `x` (upper) or >= (lower). */
static size_t
bound(const int64_t *v, size_t n, int64_t x, bool upper)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (upper ? v[mid] <= x : v[mid] < x) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static int
live_add(struct group *g, int64_t ends)
{
    size_t i;

    if (g->n_live == g->cap_live) {
        size_t c = g->cap_live ? 2 * g->cap_live : 8;
        int64_t *n = pc_realloc(g->live, c * sizeof(*n));

        if (n == NULL) {
            return PC_ENOMEM;
        }
        g->live = n;
        g->cap_live = c;
    }
    i = bound(g->live, g->n_live, ends, true);
    memmove(g->live + i + 1, g->live + i, (g->n_live - i) * sizeof(*g->live));
    g->live[i] = ends;
    g->n_live++;
    return PC_OK;
}

static void
live_del(struct group *g, int64_t ends)
{
    size_t i = bound(g->live, g->n_live, ends, false);

    if (i < g->n_live && g->live[i] == ends) {
        memmove(g->live + i, g->live + i + 1,
                (g->n_live - i - 1) * sizeof(*g->live));
        g->n_live--;
    }
}

/* Add `org` to the sorted set `g->orgs`. */
static int
orgs_add(struct group *g, const char *org)
{
    size_t lo = 0, hi = g->n_orgs;
    char *copy;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(g->orgs[mid], org);

        if (c == 0) {
            return PC_OK;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (g->n_orgs == g->cap_orgs) {
        size_t c = g->cap_orgs ? 2 * g->cap_orgs : 4;
        char **n = pc_realloc(g->orgs, c * sizeof(*n));

        if (n == NULL) {
            return PC_ENOMEM;
        }
        g->orgs = n;
        g->cap_orgs = c;
    }
    copy = pc_strdup(org);
    if (copy == NULL) {
        return PC_ENOMEM;
    }
    memmove(g->orgs + lo + 1, g->orgs + lo, (g->n_orgs - lo) * sizeof(char *));
    g->orgs[lo] = copy;
    g->n_orgs++;
    return PC_OK;
}

static int
push_ptr(void ***v, size_t *n, size_t *cap, void *p)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 8;
        void **nv = pc_realloc(*v, c * sizeof(*nv));

        if (nv == NULL) {
            return PC_ENOMEM;
        }
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = p;
    return PC_OK;
}

/* Binary search by id in a vector sorted by id. */
#define FIND_BY_ID(v, n, want)                   \
    do {                                         \
        size_t lo_ = 0, hi_ = (n);               \
        while (lo_ < hi_) {                      \
            size_t mid_ = lo_ + (hi_ - lo_) / 2; \
            if ((v)[mid_]->id == (want)) {       \
                return (v)[mid_];                \
            }                                    \
            if ((v)[mid_]->id < (want)) {        \
                lo_ = mid_ + 1;                  \
            } else {                             \
                hi_ = mid_;                      \
            }                                    \
        }                                        \
        return NULL;                             \
    } while (0)

static struct fsm_share_request *
req_find(const struct fsm_share *s, uint64_t id)
{
    FIND_BY_ID(s->reqs, s->n_reqs, id);
}

static struct fsm_grant *
grant_find(const struct fsm_share *s, uint64_t id)
{
    FIND_BY_ID(s->grants, s->n_grants, id);
}

/* A copy of string member `key` of `o`; "" when absent. NULL: no memory. */
static char *
dup_member(const struct jcs_val *o, const char *key)
{
    size_t len;
    const char *s = fsm_get_str(o, key, &len);

    return s != NULL ? pc_strndup(s, len) : pc_strdup("");
}

static int
derive_request(struct fsm *f, const struct fact *fact, const struct jcs_val *p)
{
    struct fsm_share *s = f->share;
    struct fsm_share_request *r;
    struct group *g[4];
    char id[FACT_MAX_ID + 1];
    uint64_t rid, gid;
    int st, old, rc;

    snprintf(id, sizeof(id), "%.*s", (int)fact->id.len,
             (const char *)fact->id.p);
    st = fsm_share_status_parse(fsm_get_str(p, "status", NULL));
    if (!fsm_server_id_parse(id, "sr", &rid) || st < 0) {
        return PC_ECORRUPT;
    }
    if (fact->version == 1) {
        r = pc_calloc(1, sizeof(*r));
        if (r == NULL) {
            return PC_ENOMEM;
        }
        r->id = rid;
        r->entry = dup_member(p, "entry");
        r->org = dup_member(p, "org");
        r->requester = dup_member(p, "requester");
        r->provider = dup_member(p, "provider");
        r->submitted_ms = fact->time_ms;
        r->opinion_ms = r->decided_ms = -1;
        r->status = FSM_SHARE_PENDING_PROVIDER;
        if (r->entry == NULL || r->org == NULL || r->requester == NULL ||
            r->provider == NULL ||
            push_ptr((void ***)&s->reqs, &s->n_reqs, &s->cap_reqs, r) !=
                PC_OK) {
            request_free(r);
            return PC_ENOMEM;
        }
        old = -1;
    } else {
        r = req_find(s, rid);
        if (r == NULL) {
            return PC_ECORRUPT;
        }
        old = (int)r->status;
    }
    rc = groups_of(s, r->entry, r->provider, r->org, g);
    if (rc == PC_OK) {
        rc = orgs_add(g[1], r->org);
    }
    if (rc != PC_OK) {
        return rc;
    }
    r->status = (enum fsm_share_status)st;
    r->rev = fact->revision;
    for (int i = 0; i < 4; i++) {
        if (old >= 0) {
            g[i]->by_status[old]--;
        }
        g[i]->by_status[st]++;
    }
    if (st == FSM_SHARE_PENDING_AUTHORITY && old != st) {
        const struct jcs_val *op = fsm_get(p, "provider_opinion");

        r->opinion_ms = fact->time_ms;
        pc_free(r->opinion_by);
        r->opinion_by = dup_member(op, "by");
        if (r->opinion_by == NULL) {
            return PC_ENOMEM;
        }
        for (int i = 0; i < 4; i++) {
            rc = med_add(&g[i]->opinion, r->opinion_ms - r->submitted_ms);
            if (rc != PC_OK) {
                return rc;
            }
        }
    }
    if ((st == FSM_SHARE_APPROVED || st == FSM_SHARE_REJECTED) && old != st) {
        r->decided_ms = fact->time_ms;
        if (fsm_server_id_parse(fsm_get_str(p, "grant", NULL), "gr", &gid)) {
            r->grant = gid;
        }
        for (int i = 0; i < 4; i++) {
            rc = med_add(&g[i]->decision, r->decided_ms - r->submitted_ms);
            if (rc != PC_OK) {
                return rc;
            }
        }
    }
    return PC_OK;
}

/* The holding of `org` on `entry`, made when missing; NULL: no memory. */
static struct holding *
holding_of(struct fsm_share *s, const char *entry, const char *org, bool make)
{
    size_t el = strlen(entry), ol = strlen(org);
    char key[2 * FACT_MAX_ID + 2];

    if (el > FACT_MAX_ID || ol > FACT_MAX_ID) {
        return NULL;
    }
    memcpy(key, entry, el);
    key[el] = '\0';
    memcpy(key + el + 1, org, ol);
    return make ? pc_map_get_or_add(&s->holdings, key, el + 1 + ol,
                                    sizeof(struct holding))
                : pc_map_get(&s->holdings, key, el + 1 + ol);
}

/* A grant leaves the live counts (revoked or ended). */
static int
grant_unlive(struct fsm_share *s, struct fsm_grant *g)
{
    struct group *gs[4];
    int rc = groups_of(s, g->entry, g->provider, g->org, gs);

    if (rc != PC_OK) {
        return rc;
    }
    for (int i = 0; i < 4; i++) {
        live_del(gs[i], g->ends_ms);
        if (g->revoked) {
            gs[i]->revoked++;
        } else {
            gs[i]->ended++;
        }
    }
    return PC_OK;
}

static int
derive_grant(struct fsm *f, const struct fact *fact, const struct jcs_val *p)
{
    struct fsm_share *s = f->share;
    const struct jcs_val *fields = fsm_get(p, "fields"), *days;
    struct group *gs[4];
    struct holding *h;
    struct fsm_grant *g;
    char id[FACT_MAX_ID + 1];
    uint64_t gid;
    int rc;

    snprintf(id, sizeof(id), "%.*s", (int)fact->id.len,
             (const char *)fact->id.p);
    if (!fsm_server_id_parse(id, "gr", &gid)) {
        return PC_ECORRUPT;
    }
    if (fact->version > 1) {
        const char *st = fsm_get_str(p, "status", NULL);

        g = grant_find(s, gid);
        if (g == NULL || st == NULL) {
            return PC_ECORRUPT;
        }
        g->rev = fact->revision;
        if (strcmp(st, "revoked") == 0 && !g->revoked) {
            bool was_live = !g->ended;

            g->revoked = true;
            g->revoked_ms = fact->time_ms;
            if (was_live) {
                return grant_unlive(s, g);
            }
        }
        return PC_OK;
    }
    g = pc_calloc(1, sizeof(*g));
    if (g == NULL) {
        return PC_ENOMEM;
    }
    g->id = gid;
    fsm_server_id_parse(fsm_get_str(p, "request", NULL), "sr", &g->request);
    g->entry = dup_member(p, "entry");
    g->org = dup_member(p, "org");
    g->provider = dup_member(p, "provider");
    days = fsm_get(p, "days");
    g->granted_ms = fact->time_ms;
    g->ends_ms =
        fact->time_ms + (days ? (int64_t)jcs_number(days) : 0) * DAY_MS;
    g->rev = fact->revision;
    if (g->entry == NULL || g->org == NULL || g->provider == NULL) {
        goto oom;
    }
    if (fields != NULL && jcs_len(fields) > 0) {
        g->fields = pc_calloc(jcs_len(fields), sizeof(*g->fields));
        if (g->fields == NULL) {
            goto oom;
        }
        for (size_t i = 0; i < jcs_len(fields); i++) {
            size_t len;
            const char *n = jcs_string(jcs_at(fields, i), &len);

            g->fields[i] = pc_strndup(n ? n : "", n ? len : 0);
            if (g->fields[i] == NULL) {
                goto oom;
            }
            g->n_fields++;
        }
    }
    if (push_ptr((void ***)&s->grants, &s->n_grants, &s->cap_grants, g)) {
        goto oom;
    }
    /* From here `g` belongs to s->grants: errors leave it there. */
    rc = groups_of(s, g->entry, g->provider, g->org, gs);
    if (rc != PC_OK) {
        return rc;
    }
    h = holding_of(s, g->entry, g->org, true);
    if (h == NULL || push_ptr((void ***)&h->v, &h->n, &h->cap, g) ||
        push_ptr((void ***)&gs[1]->eg, &gs[1]->n_eg, &gs[1]->cap_eg, g)) {
        return PC_ENOMEM;
    }
    for (int i = 0; i < 4; i++) {
        gs[i]->grants++;
        rc = live_add(gs[i], g->ends_ms);
        if (rc != PC_OK) {
            return rc;
        }
    }
    return PC_OK;
oom:
    grant_free(g);
    return PC_ENOMEM;
}

int
fsm_derive_share(struct fsm *f, const struct fact *fact,
                 const struct jcs_val *payload)
{
    switch (fact->kind) {
    case FACT_SHARE_REQUEST:
        return derive_request(f, fact, payload);
    case FACT_GRANT:
        return derive_grant(f, fact, payload);
    }
    return PC_OK;
}

int
fsm_share_entry_changed(struct fsm *f, const struct fact *fact)
{
    struct fsm_share *s = f->share;
    char id[FACT_MAX_ID + 1];
    const struct fsm_entry *e;
    const char *why = NULL;
    struct group *g;

    snprintf(id, sizeof(id), "%.*s", (int)fact->id.len,
             (const char *)fact->id.p);
    g = pc_map_get(&s->entries, id, strlen(id));
    e = fsm_entry(f, id);
    if (g == NULL || e == NULL || g->n_eg == 0) {
        return PC_OK;
    }
    if (e->status == FSM_ENTRY_RETIRED) {
        why = "entry_retired";
    } else if (e->public_rev > 0 && e->public_share != FSM_CLASS_CONDITIONAL) {
        why = "share_class_changed";
    } else {
        return PC_OK;
    }
    for (size_t i = 0; i < g->n_eg; i++) {
        struct fsm_grant *x = g->eg[i];
        int rc;

        if (x->revoked || x->ended || x->ends_ms <= fact->time_ms) {
            continue; /* over already: it stays as it ended */
        }
        x->ended = true;
        x->ended_ms = fact->time_ms;
        x->ended_rev = fact->revision;
        x->end_reason = why;
        rc = grant_unlive(s, x);
        if (rc != PC_OK) {
            return rc;
        }
    }
    return PC_OK;
}

/* ---- queries ---------------------------------------------------------- */

const struct fsm_share_request *
fsm_share_request(const struct fsm *f, uint64_t id)
{
    return req_find(f->share, id);
}

const struct fsm_grant *
fsm_grant(const struct fsm *f, uint64_t id)
{
    return grant_find(f->share, id);
}

size_t
fsm_share_requests(const struct fsm *f, struct fsm_share_request *const **out)
{
    *out = f->share->reqs;
    return f->share->n_reqs;
}

size_t
fsm_grants(const struct fsm *f, struct fsm_grant *const **out)
{
    *out = f->share->grants;
    return f->share->n_grants;
}

enum fsm_grant_status
fsm_grant_status(const struct fsm_grant *g, int64_t now)
{
    if (g->revoked) {
        return FSM_GRANT_REVOKED;
    }
    if (g->ended) {
        return FSM_GRANT_ENDED;
    }
    return now < g->ends_ms ? FSM_GRANT_ACTIVE : FSM_GRANT_EXPIRED;
}

bool
fsm_share_visible(const struct fsm *f, const struct fsm_principal *p,
                  const char *entry, const char *org, const char *provider)
{
    const struct fsm_entry *e;

    if (p == NULL || !p->active) {
        return false;
    }
    if (p->org != NULL &&
        (strcmp(p->org, org) == 0 || strcmp(p->org, provider) == 0)) {
        return true;
    }
    if (p->roles & FSM_ROLE_AUDITOR) {
        return true;
    }
    e = fsm_entry(f, entry);
    return e != NULL && fsm_entry_authority(f, p, e);
}

int
fsm_share_stats(const struct fsm *f, enum fsm_share_scope scope, const char *id,
                int64_t now, struct fsm_share_stats *out)
{
    const struct fsm_share *s = f->share;
    const struct group *g = NULL;

    memset(out, 0, sizeof(*out));
    out->median_opinion_ms = out->median_decision_ms = -1;
    switch (scope) {
    case FSM_SHARE_ALL:
        g = &s->all;
        break;
    case FSM_SHARE_ENTRY:
        g = id ? pc_map_get(&s->entries, id, strlen(id)) : NULL;
        break;
    case FSM_SHARE_PROVIDER:
        g = id ? pc_map_get(&s->providers, id, strlen(id)) : NULL;
        break;
    case FSM_SHARE_REQUESTER:
        g = id ? pc_map_get(&s->requesters, id, strlen(id)) : NULL;
        break;
    }
    if (g == NULL) {
        return PC_ENOTFOUND;
    }
    for (int i = 0; i < FSM_SHARE_N_STATUS; i++) {
        out->requests[i] = g->by_status[i];
        out->requests_total += g->by_status[i];
    }
    out->n_opinions = g->opinion.nlo + g->opinion.nhi;
    out->n_decisions = g->decision.nlo + g->decision.nhi;
    out->median_opinion_ms = med_get(&g->opinion);
    out->median_decision_ms = med_get(&g->decision);
    out->grants_total = g->grants;
    out->grants_revoked = g->revoked;
    out->grants_ended = g->ended;
    out->grants_active = g->n_live - bound(g->live, g->n_live, now, true);
    out->grants_expired = g->n_live - out->grants_active;
    out->n_orgs = g->n_orgs;
    return PC_OK;
}

static bool
collect_demand_cb(void *arg, const void *key, size_t klen, void *val)
{
    struct fsm_share *s = arg;
    char *copy = pc_strndup(key, klen);

    (void)val;
    if (copy == NULL) {
        return false;
    }
    s->demand[s->n_demand++] = copy;
    return true;
}

int
fsm_share_demand_entries(const struct fsm *f, const char *const **ids,
                         size_t *n)
{
    struct fsm_share *s = f->share; /* a cache, not state */

    if (s->demand_stale) {
        for (size_t i = 0; i < s->n_demand; i++) {
            pc_free((char *)s->demand[i]);
        }
        pc_free(s->demand);
        s->n_demand = 0;
        s->demand = pc_calloc(s->entries.len + 1, sizeof(*s->demand));
        if (s->demand == NULL) {
            return PC_ENOMEM;
        }
        pc_map_each(&s->entries, collect_demand_cb, s);
        if (s->n_demand != s->entries.len) {
            return PC_ENOMEM; /* stays stale: made again next time */
        }
        qsort(s->demand, s->n_demand, sizeof(*s->demand), fsm_cmp_str);
        s->demand_stale = false;
    }
    *ids = s->demand;
    *n = s->n_demand;
    return PC_OK;
}

size_t
fsm_share_entry_orgs(const struct fsm *f, const char *entry, char *const **orgs)
{
    const struct group *g =
        pc_map_get(&f->share->entries, entry, strlen(entry));

    *orgs = g != NULL ? g->orgs : NULL;
    return g != NULL ? g->n_orgs : 0;
}

/* ---- read access ------------------------------------------------------ */

bool
fsm_share_grant_for(const struct fsm *f, const struct fsm_principal *p,
                    const struct fsm_entry *e, struct fsm_read_via *via)
{
    const struct holding *h;
    const struct fsm_grant *best = NULL;
    int64_t now = led_time(f->led);

    if (p == NULL || p->org == NULL) {
        return false;
    }
    h = holding_of(f->share, e->id, p->org, false);
    for (size_t i = 0; h != NULL && i < h->n; i++) {
        const struct fsm_grant *g = h->v[i];

        if (fsm_grant_status(g, now) != FSM_GRANT_ACTIVE) {
            continue;
        }
        /* Grants do not combine: the read goes through the one giving the
         * most (every field first; else the largest subset; the oldest of
         * equals). */
        if (best == NULL || (g->n_fields == 0 && best->n_fields != 0) ||
            (best->n_fields != 0 && g->n_fields > best->n_fields)) {
            best = g;
        }
    }
    if (best == NULL) {
        return false;
    }
    if (via != NULL) {
        snprintf(via->id, sizeof(via->id), "gr-%llu",
                 (unsigned long long)best->id);
        via->fields = best->fields;
        via->n_fields = best->n_fields;
    }
    return true;
}

/* ---- apply ------------------------------------------------------------ */

/* One step of a request or a grant: who, when, what and why. */
struct step {
    int64_t at_ms;
    const char *by;
    const char *decision;         /* NULL: none (a revocation) */
    const struct jcs_val *reason; /* NULL or null: none */
    const struct jcs_doc *reason_doc;
};

/* A member written by `merge`: a string, an integer, a step, or a value of
 * a parsed document. Listed in canonical key order. */
struct nm {
    const char *key;
    const char *str;
    int64_t num;
    bool is_num;
    const struct step *step;
};

static void
w_step(struct jcs_writer *w, const struct step *s)
{
    char t[PC_TIME_STR_LEN];

    pc_time_format(t, s->at_ms);
    jcs_w_obj(w);
    jcs_w_kstr(w, "at", t);
    jcs_w_kstr(w, "by", s->by);
    if (s->decision != NULL) {
        jcs_w_kstr(w, "decision", s->decision);
    }
    if (s->reason != NULL && jcs_type(s->reason) == JCS_STRING) {
        jcs_w_key(w, "reason");
        jcs_w_val(w, s->reason_doc, s->reason);
    }
    jcs_w_obj_end(w);
}

static void
w_nm(struct jcs_writer *w, const struct nm *m)
{
    jcs_w_key(w, m->key);
    if (m->step != NULL) {
        w_step(w, m->step);
    } else if (m->is_num) {
        jcs_w_int(w, m->num);
    } else {
        jcs_w_str(w, m->str);
    }
}

static bool
listed(const char *key, const char *const *keep)
{
    for (; keep != NULL && *keep != NULL; keep++) {
        if (strcmp(*keep, key) == 0) {
            return true;
        }
    }
    return keep == NULL;
}

/*
 * Write an object: the members of `src` (an object of `sd`; only those in
 * `keep`, NULL: all) merged with `add` (n, canonical key order), `add`
 * winning on equal keys.
 */
static void
merge(struct jcs_writer *w, const struct jcs_doc *sd, const struct jcs_val *src,
      const char *const *keep, const struct nm *add, size_t n)
{
    size_t i = 0, j = 0, ns = jcs_len(src);

    jcs_w_obj(w);
    while (i < ns || j < n) {
        size_t kl;
        const char *k = i < ns ? jcs_key(src, i, &kl) : NULL;
        int cmp = k == NULL ? 1
                  : j == n  ? -1
                           : jcs_key_cmp(k, kl, add[j].key, strlen(add[j].key));

        if (cmp < 0) {
            if (listed(k, keep)) {
                jcs_w_keyn(w, k, kl);
                jcs_w_val(w, sd, jcs_at(src, i));
            }
            i++;
        } else {
            w_nm(w, &add[j]);
            j++;
            i += cmp == 0;
        }
    }
    jcs_w_obj_end(w);
}

/* Emit `kind` version of entity `id` merged as `merge` does. */
static int
emit_merged(struct fsm_ctx *c, uint32_t kind, const char *id,
            const struct jcs_doc *sd, const struct jcs_val *src,
            const char *const *keep, const struct nm *add, size_t n)
{
    struct jcs_writer w;
    struct pc_buf p;
    int rc;

    pc_buf_init(&p);
    jcs_w_init(&w, &p);
    merge(&w, sd, src, keep, add, n);
    rc = fsm_emit_w(c, kind, NO_SLICE, PC_SLICE_STR(id), &w);
    pc_buf_release(&p);
    return rc;
}

/* The payload of fact `rev`, parsed: PC_OK, PC_ENOMEM or PC_ECORRUPT. */
static int
payload_of(struct fsm_ctx *c, uint64_t rev, struct jcs_doc **d)
{
    struct fact f;
    int rc;

    if (led_get(c->f->led, rev, &f) != PC_OK) {
        return PC_ECORRUPT;
    }
    rc = jcs_parse((const char *)f.payload.p, f.payload.len, d, NULL);
    return rc == PC_OK || rc == PC_ENOMEM ? rc : PC_ECORRUPT;
}

static bool
has_field(const struct fsm_entry *e, const char *name, size_t len)
{
    for (size_t i = 0; i < e->n_force_fields; i++) {
        if (strlen(e->force_fields[i].name) == len &&
            memcmp(e->force_fields[i].name, name, len) == 0) {
            return true;
        }
    }
    return false;
}

/* Why entry `e` cannot be shared through a grant now, or NULL. */
static const char *
not_grantable(const struct fsm_entry *e)
{
    if (e->status == FSM_ENTRY_RETIRED) {
        return "is retired";
    }
    if (!e->in_force) {
        return "is not published";
    }
    if (e->public_share == FSM_CLASS_NONE) {
        return "has share class none: it is never shared";
    }
    if (e->public_share == FSM_CLASS_UNCONDITIONAL) {
        return "has share class unconditional: every consumer reads it "
               "without a grant";
    }
    return NULL;
}

static int
share_request(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    char sid[32], t[PC_TIME_STR_LEN], ename[FACT_MAX_ID + 1];
    const struct jcs_val *o, *fields;
    const struct fsm_entry *e;
    struct jcs_doc *d;
    const char *why;
    int rc;

    rc = fsm_command_body(c, request_check, NO_SLICE, &d);
    if (d == NULL) {
        return rc;
    }
    o = jcs_root(d);
    snprintf(ename, sizeof(ename), "%s", fsm_get_str(o, "entry", NULL));
    e = fsm_entry(c->f, ename);
    if (e == NULL || fsm_entry_visible_rev(c->f, e, actor) == 0) {
        rc = fsm_reject(c, 404, "not_found", NO_SLICE, PC_SLICE_STR(ename),
                        "no catalog entry \"%s\"", ename);
    } else if (actor->org == NULL || !(actor->roles & FSM_ROLE_CONSUMER)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, PC_SLICE_STR(ename),
                        "asking for a share needs role consumer in an org");
    } else if (strcmp(actor->org, e->provider) == 0) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, PC_SLICE_STR(ename),
                        "org \"%s\" provides entry \"%s\" and reads it "
                        "without a grant: share requests come from other "
                        "orgs",
                        e->provider, ename);
    } else if ((why = not_grantable(e)) != NULL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, PC_SLICE_STR(ename),
                        "entry \"%s\" %s", ename, why);
    } else {
        rc = PC_OK;
        fields = fsm_get(o, "fields");
        for (size_t i = 0; fields != NULL && i < jcs_len(fields); i++) {
            size_t len;
            const char *n = jcs_string(jcs_at(fields, i), &len);
            struct pc_buf det;

            if (has_field(e, n, len)) {
                continue;
            }
            pc_buf_init(&det);
            rc = fsm_detail(&det, -1, "fields", -1, NO_SLICE);
            if (rc == PC_OK) {
                rc = fsm_reject_detail(
                    c, 422, "invalid", NO_SLICE, PC_SLICE_STR(ename), &det,
                    "entry \"%s\" has no field \"%.128s\"", ename, n);
            }
            pc_buf_release(&det);
            jcs_doc_free(d);
            return rc;
        }
        snprintf(sid, sizeof(sid), "sr-%llu",
                 (unsigned long long)led_count(c->f->led) + 1);
        pc_time_format(t, c->now);
        const struct nm add[] = {
            { .key = "id", .str = sid },
            { .key = "org", .str = actor->org },
            { .key = "provider", .str = e->provider },
            { .key = "requester", .str = actor->id },
            { .key = "status", .str = "pending_provider" },
            { .key = "submitted_at", .str = t },
        };
        rc = emit_merged(c, FACT_SHARE_REQUEST, sid, d, o, NULL, add,
                         sizeof(add) / sizeof(add[0]));
    }
    jcs_doc_free(d);
    return rc;
}

/* The approval: the request's last version names the grant, which is the
 * next fact. */
static int
approve(struct fsm_ctx *c, const struct fsm_share_request *r,
        const struct jcs_doc *pd, const struct step *s)
{
    char sid[32], gid[32], t[PC_TIME_STR_LEN], ends[PC_TIME_STR_LEN];
    static const char *const copy[] = { "days",     "entry",   "fields", "org",
                                        "provider", "purpose", NULL };
    const struct jcs_val *days = fsm_get(jcs_root(pd), "days");
    int rc;

    snprintf(sid, sizeof(sid), "sr-%llu", (unsigned long long)r->id);
    snprintf(gid, sizeof(gid), "gr-%llu",
             (unsigned long long)led_count(c->f->led) + 2);
    {
        const struct nm add[] = {
            { .key = "decision", .step = s },
            { .key = "grant", .str = gid },
            { .key = "status", .str = "approved" },
        };
        rc = emit_merged(c, FACT_SHARE_REQUEST, sid, pd, jcs_root(pd), NULL,
                         add, 3);
    }
    if (rc != PC_OK) {
        return rc;
    }
    pc_time_format(t, c->now);
    pc_time_format(ends,
                   c->now + (days ? (int64_t)jcs_number(days) : 0) * DAY_MS);
    {
        const struct nm add[] = {
            { .key = "ends_at", .str = ends },
            { .key = "granted_at", .str = t },
            { .key = "id", .str = gid },
            { .key = "request", .str = sid },
            { .key = "status", .str = "active" },
        };
        return emit_merged(c, FACT_GRANT, gid, pd, jcs_root(pd), copy, add, 5);
    }
}

static int
share_decide(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    char id[FACT_MAX_ID + 1];
    const struct fsm_share_request *r = NULL;
    const struct fsm_entry *e = NULL;
    struct jcs_doc *d, *pd = NULL;
    const char *decision, *why;
    bool as_provider, as_auth, yes;
    struct step s;
    uint64_t rid;
    int rc;

    rc = fsm_command_body(c, decide_check, c->cmd->target, &d);
    if (d == NULL) {
        return rc;
    }
    snprintf(id, sizeof(id), "%.*s", (int)c->cmd->target.len,
             (const char *)c->cmd->target.p);
    if (fsm_server_id_parse(id, "sr", &rid)) {
        r = fsm_share_request(c->f, rid);
    }
    /* The issue: deciding for an entry outside one's org or scope is 403,
     * so past a missing request or an entry the caller may not see, who
     * may not decide is 403 (reads of requests are 404 for them). */
    if (r == NULL || (e = fsm_entry(c->f, r->entry)) == NULL ||
        fsm_entry_visible_rev(c->f, e, actor) == 0) {
        rc = fsm_reject(c, 404, "not_found", NO_SLICE, c->cmd->target,
                        "no share request \"%s\"", id);
        goto out;
    }
    decision = fsm_get_str(jcs_root(d), "decision", NULL);
    yes = strcmp(decision, "approve") == 0;
    as_provider = actor->org != NULL && strcmp(actor->org, r->provider) == 0 &&
                  (actor->roles & FSM_ROLE_PROVIDER);
    as_auth = fsm_entry_authority(c->f, actor, e);
    if (!as_provider && !as_auth) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                        "entry \"%s\" is outside your org or scope: share "
                        "request \"%s\" is decided by a provider of org "
                        "\"%s\" (its opinion), then by the authority in the "
                        "entry's scope",
                        e->id, id, r->provider);
        goto out;
    }
    if (r->status == FSM_SHARE_APPROVED || r->status == FSM_SHARE_REJECTED) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "share request \"%s\" is already %s", id,
                        status_names[r->status]);
        goto out;
    }
    if (r->status == FSM_SHARE_PENDING_PROVIDER && !as_provider) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "share request \"%s\" awaits the opinion of provider "
                        "org \"%s\" first (article 19)",
                        id, r->provider);
        goto out;
    }
    if (r->status == FSM_SHARE_PENDING_AUTHORITY && !as_auth) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "org \"%s\" has given its opinion on share request "
                        "\"%s\": the authority decides now",
                        r->provider, id);
        goto out;
    }
    if (r->status == FSM_SHARE_PENDING_AUTHORITY && r->opinion_by != NULL &&
        strcmp(r->opinion_by, actor->id) == 0) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                        "\"%s\" gave the provider's opinion on share request "
                        "\"%s\": another principal of the authority decides",
                        actor->id, id);
        goto out;
    }
    if (r->status == FSM_SHARE_PENDING_AUTHORITY && yes &&
        (why = not_grantable(e)) != NULL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "entry \"%s\" %s: share request \"%s\" cannot be "
                        "approved",
                        e->id, why, id);
        goto out;
    }
    rc = payload_of(c, r->rev, &pd);
    if (rc != PC_OK) {
        goto out;
    }
    s = (struct step){ c->now, actor->id, decision,
                       fsm_get(jcs_root(d), "reason"), d };
    if (r->status == FSM_SHARE_PENDING_PROVIDER) {
        const struct nm add[] = {
            { .key = "provider_opinion", .step = &s },
            { .key = "status", .str = "pending_authority" },
        };
        rc = emit_merged(c, FACT_SHARE_REQUEST, id, pd, jcs_root(pd), NULL, add,
                         2);
    } else if (yes) {
        rc = approve(c, r, pd, &s);
    } else {
        const struct nm add[] = {
            { .key = "decision", .step = &s },
            { .key = "status", .str = "rejected" },
        };
        rc = emit_merged(c, FACT_SHARE_REQUEST, id, pd, jcs_root(pd), NULL, add,
                         2);
    }
out:
    jcs_doc_free(pd);
    jcs_doc_free(d);
    return rc;
}

static int
grant_revoke(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    char id[FACT_MAX_ID + 1];
    const struct fsm_grant *g = NULL;
    const struct fsm_entry *e = NULL;
    struct jcs_doc *d, *pd = NULL;
    enum fsm_grant_status st;
    struct step s;
    uint64_t gid;
    int rc;

    rc = fsm_command_body(c, revoke_check, c->cmd->target, &d);
    if (d == NULL) {
        return rc;
    }
    snprintf(id, sizeof(id), "%.*s", (int)c->cmd->target.len,
             (const char *)c->cmd->target.p);
    if (fsm_server_id_parse(id, "gr", &gid)) {
        g = fsm_grant(c->f, gid);
    }
    if (g == NULL || (e = fsm_entry(c->f, g->entry)) == NULL ||
        fsm_entry_visible_rev(c->f, e, actor) == 0) {
        rc = fsm_reject(c, 404, "not_found", NO_SLICE, c->cmd->target,
                        "no grant \"%s\"", id);
        goto out;
    }
    if (!fsm_entry_authority(c->f, actor, e)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                        "revoking grant \"%s\" needs the authority in the "
                        "scope of entry \"%s\"",
                        id, e->id);
        goto out;
    }
    st = fsm_grant_status(g, c->now);
    if (st != FSM_GRANT_ACTIVE) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "grant \"%s\" is %s", id, grant_status_names[st]);
        goto out;
    }
    rc = payload_of(c, g->rev, &pd);
    if (rc != PC_OK) {
        goto out;
    }
    s = (struct step){ c->now, actor->id, NULL, fsm_get(jcs_root(d), "reason"),
                       d };
    {
        const struct nm add[] = {
            { .key = "revoked", .step = &s },
            { .key = "status", .str = "revoked" },
        };
        rc = emit_merged(c, FACT_GRANT, id, pd, jcs_root(pd), NULL, add, 2);
    }
out:
    jcs_doc_free(pd);
    jcs_doc_free(d);
    return rc;
}

int
fsm_rules_share(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    switch (c->cmd->type) {
    case CMD_SHARE_REQUEST:
        return share_request(c, actor);
    case CMD_SHARE_DECIDE:
        return share_decide(c, actor);
    case CMD_GRANT_REVOKE:
        return grant_revoke(c, actor);
    }
    return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                      "unknown share command");
}
