/* SPDX-License-Identifier: MIT */
/*
 * The audit log (GET /v1/audit, articles 20 and 46-50): every write fact is
 * one event, and every read-audit event inside an AUDIT fact is one; they
 * are listed in ledger order (fact revision, then the event's place in its
 * batch), filtered by principal, org, entry, action and time.
 *
 * So that a page never scans the whole ledger, the facts holding events of
 * each principal, org, entry and action are kept as posting lists of
 * revisions, derived with the rest of the state (and rebuilt from the
 * ledger): delta-encoded uvarints, about one byte per fact and list, with
 * a skip entry every POST_SKIP postings to start a page at any revision in
 * O(log n). A query walks the shortest list its filters name (all facts
 * when none), starts at the first fact a `since` can concern (facts are in
 * ledger-time order), stops past `until`, and looks at a bounded number of
 * facts and batches per call, answering where to go on.
 *
 * An audit batch is indexed under the strings of its dictionaries
 * (readers, their orgs, entries, actions), which name every event's; in
 * apply from the document apply just checked (fsm_audit_strings), in a
 * rebuild from the ledger.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/jcs.h"
#include "common/map.h"
#include "node/fsm/fsm_int.h"

#define POST_SKIP 64 /* postings between skip entries */
/* An event's time is its serving node's clock when it read: a little
 * after its fact's time only if that clock stepped back in between. */
#define SLACK_MS (60 * 1000LL)

/* ---- posting lists ------------------------------------------------------ */

struct post_skip {
    uint64_t rev; /* the posting at `off` */
    size_t off;
};

/* Revisions in increasing order, as uvarint deltas (the first absolute). */
struct post {
    uint8_t *buf;
    size_t len, cap;
    uint64_t n, last;
    struct post_skip *skip; /* one per POST_SKIP postings */
    size_t n_skip, cap_skip;
};

/* The values of `by` (pc_map_free_cb). */
static void
post_free(void *val)
{
    struct post *p = val;

    if (p != NULL) {
        pc_free(p->buf);
        pc_free(p->skip);
        pc_free(p);
    }
}

static int
post_add(struct post *p, uint64_t rev)
{
    uint8_t v[10];
    size_t n;

    if (p->n > 0 && rev <= p->last) {
        return PC_OK; /* this fact is in the list already */
    }
    n = pc_uvarint_encode(v, p->n > 0 ? rev - p->last : rev);
    if (p->len + n > p->cap) {
        size_t cap = p->cap < 16 ? 16 : 2 * p->cap;
        uint8_t *b = pc_realloc(p->buf, cap);

        if (b == NULL) {
            return PC_ENOMEM;
        }
        p->buf = b;
        p->cap = cap;
    }
    if (p->n % POST_SKIP == 0) {
        if (p->n_skip == p->cap_skip) {
            size_t cap = p->cap_skip ? 2 * p->cap_skip : 4;
            struct post_skip *s = pc_realloc(p->skip, cap * sizeof(*s));

            if (s == NULL) {
                return PC_ENOMEM;
            }
            p->skip = s;
            p->cap_skip = cap;
        }
        p->skip[p->n_skip++] = (struct post_skip){ rev, p->len };
    }
    memcpy(p->buf + p->len, v, n);
    p->len += n;
    p->n++;
    p->last = rev;
    return PC_OK;
}

/* A position in a list: the posting at `off` is `rev`. */
struct post_it {
    const struct post *p;
    size_t off; /* of the current posting; len at the end */
    uint64_t rev;
};

/* Read the uvarint at it->off: its length. */
static size_t
uvarint_at(const struct post *p, size_t off, uint64_t *v)
{
    uint64_t x = 0;
    size_t i = 0;

    for (unsigned shift = 0; off + i < p->len && shift < 64; shift += 7) {
        uint8_t b = p->buf[off + i++];

        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            break;
        }
    }
    *v = x;
    return i;
}

static bool
post_valid(const struct post_it *it)
{
    return it->off < it->p->len;
}

static void
post_next(struct post_it *it)
{
    uint64_t d;
    size_t n = uvarint_at(it->p, it->off, &d);

    it->off += n;
    if (it->off < it->p->len) {
        uvarint_at(it->p, it->off, &d);
        it->rev += d;
    }
}

/* The first posting >= `from`. */
static void
post_seek(const struct post *p, uint64_t from, struct post_it *it)
{
    size_t lo = 0, hi = p->n_skip;

    it->p = p;
    it->off = p->len;
    if (p->n_skip == 0) {
        return;
    }
    /* The last skip entry at or before `from`, else the first. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (p->skip[mid].rev <= from) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    it->off = p->skip[lo].off;
    it->rev = p->skip[lo].rev;
    while (post_valid(it) && it->rev < from) {
        post_next(it);
    }
}

/* ---- the index ---------------------------------------------------------- */

enum {
    BY_PRINCIPAL,
    BY_ORG,
    BY_ENTRY,
    BY_ACTION,
    N_BY
};

/* An audit batch's events' earliest and latest times. */
struct batch_span {
    uint64_t rev;
    int64_t lo, hi; /* ms */
};

struct fsm_audit_log {
    struct pc_map by[N_BY]; /* string -> struct post */
    /* The last list each map gave, for the run of facts of one writer. */
    struct post *last[N_BY];
    char last_key[N_BY][64];
    size_t last_len[N_BY];
    /* Every audit batch with its events' earliest and latest times, in
     * revision order: a query skips a batch outside its times without
     * decoding it. */
    struct batch_span *spans;
    size_t n_spans, cap_spans;
    /* The org of the last writer looked up (a principal's org never
     * changes): `org_len` 0 for none. */
    char last_writer[64], last_org[FACT_MAX_ID];
    size_t writer_len, org_len;
    bool writer_known;
};

int
fsm_audit_log_new(struct fsm_audit_log **out)
{
    struct fsm_audit_log *a = pc_calloc(1, sizeof(*a));

    if (a == NULL) {
        return PC_ENOMEM;
    }
    for (int i = 0; i < N_BY; i++) {
        pc_map_init(&a->by[i]);
    }
    *out = a;
    return PC_OK;
}

void
fsm_audit_log_clear(struct fsm_audit_log *a)
{
    if (a == NULL) {
        return;
    }
    for (int i = 0; i < N_BY; i++) {
        pc_map_release_values(&a->by[i], post_free);
        a->last[i] = NULL;
        a->last_len[i] = 0;
    }
    a->writer_known = false;
    pc_free(a->spans);
    a->spans = NULL;
    a->n_spans = a->cap_spans = 0;
}

void
fsm_audit_log_free(struct fsm_audit_log *a)
{
    fsm_audit_log_clear(a);
    pc_free(a);
}

/* Add `rev` to the list of string `s` in map `which`. */
static int
index_add(struct fsm_audit_log *a, int which, struct pc_slice s, uint64_t rev)
{
    struct post *p;

    if (s.len == 0) {
        return PC_OK;
    }
    if (a->last[which] != NULL && a->last_len[which] == s.len &&
        memcmp(a->last_key[which], s.p, s.len) == 0) {
        p = a->last[which];
    } else {
        p = pc_map_get_or_add(&a->by[which], s.p, s.len, sizeof(*p));
        if (p == NULL) {
            return PC_ENOMEM;
        }
        a->last[which] = NULL;
        if (s.len <= sizeof(a->last_key[which])) {
            memcpy(a->last_key[which], s.p, s.len);
            a->last_len[which] = s.len;
            a->last[which] = p;
        }
    }
    return post_add(p, rev);
}

/* What a write fact is as an event: who, for which entry and key. */
struct wevent {
    const char *action;
    struct pc_slice principal, org, entry, key;
    char entry_buf[FACT_MAX_ID + 1]; /* an entry read from the payload */
};

static bool
prefixed(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * The event of write fact `fact` (`p`: its parsed payload, or NULL when not
 * parsed: then it is parsed here if the entry is in it). The entry: a
 * record's or a redaction's parent, a catalog entry's id, the "entry" of a
 * share request, grant, open request or objection, and for a refused
 * record or catalog command its parent or id. PC_OK, PC_ENOMEM,
 * PC_ECORRUPT.
 */
static int
write_event(const struct fsm *f, const struct fact *fact,
            const struct jcs_val *p, struct wevent *w)
{
    struct fsm_audit_log *a = f->alog; /* its cache only */
    const struct fsm_principal *pr;
    struct jcs_doc *d = NULL;
    const char *s;
    size_t len;
    int rc;

    /* Not the whole struct: entry_buf is large and mostly unused. */
    w->org = w->entry = w->key = (struct pc_slice){ NULL, 0 };
    w->action = fact_kind_name(fact->kind);
    w->principal = fact->principal;
    if (a->writer_known && a->writer_len == fact->principal.len &&
        memcmp(a->last_writer, fact->principal.p, a->writer_len) == 0) {
        w->org = (struct pc_slice){ (const uint8_t *)a->last_org, a->org_len };
    } else if (fact->principal.len > 0 &&
               fact->principal.len < sizeof(a->last_writer)) {
        char id[sizeof(a->last_writer)];

        memcpy(id, fact->principal.p, fact->principal.len);
        id[fact->principal.len] = '\0';
        pr = fsm_principal(f, id);
        a->writer_known = false;
        if (pr != NULL && pr->org != NULL &&
            strlen(pr->org) <= sizeof(a->last_org)) {
            w->org = PC_SLICE_STR(pr->org);
        }
        if (pr == NULL || pr->org == NULL ||
            strlen(pr->org) <= sizeof(a->last_org)) {
            /* Remembered only once the principal exists: its org is
             * fixed then. */
            a->writer_known = pr != NULL;
            a->writer_len = fact->principal.len;
            memcpy(a->last_writer, fact->principal.p, a->writer_len);
            a->org_len = w->org.len;
            if (w->org.len > 0) {
                memcpy(a->last_org, w->org.p, w->org.len);
            }
            w->org =
                (struct pc_slice){ (const uint8_t *)a->last_org, a->org_len };
        }
    } else if (fact->principal.len > 0) {
        char id[FACT_MAX_ID + 1];

        memcpy(id, fact->principal.p, fact->principal.len);
        id[fact->principal.len] = '\0';
        pr = fsm_principal(f, id);
        if (pr != NULL && pr->org != NULL) {
            w->org = PC_SLICE_STR(pr->org);
        }
    }
    switch (fact->kind) {
    case FACT_RECORD:
    case FACT_REDACTION:
        w->entry = fact->parent;
        w->key = fact->id;
        return PC_OK;
    case FACT_ENTRY:
        w->entry = fact->id;
        return PC_OK;
    case FACT_SHARE_REQUEST:
    case FACT_GRANT:
    case FACT_OPEN_REQUEST:
    case FACT_OBJECTION:
    case FACT_REJECTION:
        break;
    default:
        return PC_OK;
    }
    if (p == NULL) {
        rc = jcs_parse((const char *)fact->payload.p, fact->payload.len, &d,
                       NULL);
        if (rc != PC_OK) {
            return rc == PC_ENOMEM ? rc : PC_ECORRUPT;
        }
        p = jcs_root(d);
    }
    if (fact->kind == FACT_REJECTION) {
        s = fsm_get_str(p, "command", NULL);
        if (prefixed(s, "record.")) {
            w->entry = fact->parent;
            w->key = fact->id;
        } else if (prefixed(s, "entry.")) {
            w->entry = fact->id;
        }
    } else if ((s = fsm_get_str(p, "entry", &len)) != NULL &&
               len <= FACT_MAX_ID) {
        /* Copied: the parse is freed below. */
        memcpy(w->entry_buf, s, len);
        w->entry = (struct pc_slice){ (const uint8_t *)w->entry_buf, len };
    }
    jcs_doc_free(d);
    return PC_OK;
}

struct strings_ctx {
    struct fsm_audit_log *a;
    uint64_t rev;
    int rc;
};

static bool
string_cb(void *arg, int which, const char *s, size_t len)
{
    struct strings_ctx *c = arg;
    static const int map[] = { BY_PRINCIPAL, BY_ORG, BY_ENTRY, BY_ACTION };

    c->rc = index_add(c->a, map[which],
                      (struct pc_slice){ (const uint8_t *)s, len }, c->rev);
    return c->rc == PC_OK;
}

int
fsm_audit_log_fact(struct fsm *f, const struct fact *fact,
                   const struct jcs_val *p)
{
    struct fsm_audit_log *a = f->alog;
    struct wevent w;
    int rc;

    if (fact->kind == FACT_TICK) {
        return PC_OK; /* ledger time moving on: no event */
    }
    if (fact->kind == FACT_AUDIT) {
        struct strings_ctx c = { a, fact->revision, PC_OK };
        int64_t span[2];

        if (a->n_spans == a->cap_spans) {
            size_t cap = a->cap_spans ? 2 * a->cap_spans : 64;
            struct batch_span *v = pc_realloc(a->spans, cap * sizeof(*v));

            if (v == NULL) {
                return PC_ENOMEM;
            }
            a->spans = v;
            a->cap_spans = cap;
        }
        rc = fsm_audit_strings(f, fact, string_cb, &c, span);
        if (rc == PC_EFORBIDDEN) {
            return PC_OK; /* no events to index */
        }
        if (rc == PC_OK && c.rc == PC_OK) {
            a->spans[a->n_spans++] =
                (struct batch_span){ fact->revision, span[0], span[1] };
        }
        return rc != PC_OK ? rc : c.rc;
    }
    rc = write_event(f, fact, p, &w);
    if (rc == PC_OK) {
        rc = index_add(a, BY_PRINCIPAL, w.principal, fact->revision);
    }
    if (rc == PC_OK) {
        rc = index_add(a, BY_ORG, w.org, fact->revision);
    }
    if (rc == PC_OK) {
        rc = index_add(a, BY_ENTRY, w.entry, fact->revision);
    }
    if (rc == PC_OK) {
        rc = index_add(a, BY_ACTION, PC_SLICE_STR(w.action), fact->revision);
    }
    return rc;
}

/* ---- queries ------------------------------------------------------------ */

static const char *const read_actions[] = { "record.read", "record.history",
                                            "record.list", "audit.read", NULL };

bool
fsm_audit_action_valid(const char *action)
{
    for (const char *const *r = read_actions; *r != NULL; r++) {
        if (strcmp(action, *r) == 0) {
            return true;
        }
    }
    for (unsigned k = 1; k < FACT_KIND_MAX; k++) {
        const char *name = fact_kind_name(k);

        if (k != FACT_TICK && k != FACT_AUDIT && name != NULL &&
            strcmp(name, action) == 0) {
            return true;
        }
    }
    return false;
}

const char *const *
fsm_audit_read_actions(void)
{
    return read_actions;
}

/* The first revision whose fact's time is >= `t` (count + 1 if none). */
static uint64_t
first_at(const struct led *l, int64_t t)
{
    uint64_t lo = 1, hi = led_count(l) + 1;
    struct fact x;

    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;

        if (led_get(l, mid, &x) == PC_OK && x.time_ms < t) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static bool
slice_is(struct pc_slice s, const char *want)
{
    return want == NULL ||
           (s.len == strlen(want) && memcmp(s.p, want, s.len) == 0);
}

struct query {
    const struct fsm *f;
    const struct fsm_principal *viewer;
    bool sees_all;
    const struct fsm_audit_filter *flt;
    fsm_audit_item_cb cb;
    void *arg;
    size_t limit, n;
    const struct fact *fact;
    uint32_t from_index; /* events of the current fact before it are done */
    uint32_t index;      /* of the next event in the current batch */
    bool full;           /* `limit` items given: stop */
    int rc;
};

/* Whether a city authority (or none) may see an event of `org` on
 * `entry`: an org of its subtree, or an entry of its scope. */
static bool
in_scope(const struct query *q, struct pc_slice org, struct pc_slice entry)
{
    char id[FACT_MAX_ID + 1];

    if (q->sees_all) {
        return true;
    }
    if (org.len > 0 && org.len <= FACT_MAX_ID) {
        memcpy(id, org.p, org.len);
        id[org.len] = '\0';
        if (fsm_authority_over(q->f, q->viewer, id)) {
            return true;
        }
    }
    if (entry.len > 0 && entry.len <= FACT_MAX_ID) {
        const struct fsm_entry *e;

        memcpy(id, entry.p, entry.len);
        id[entry.len] = '\0';
        e = fsm_entry(q->f, id);
        return e != NULL && fsm_entry_authority(q->f, q->viewer, e);
    }
    return false;
}

/* Give `it` if it passes the filters; false once the page is full. */
static bool
offer(struct query *q, const struct fsm_audit_item *it)
{
    const struct fsm_audit_filter *flt = q->flt;

    if (!slice_is(it->principal, flt->principal) ||
        !slice_is(it->org, flt->org) || !slice_is(it->entry, flt->entry) ||
        (flt->action != NULL && strcmp(it->action, flt->action) != 0) ||
        it->at_ms < flt->since_ms || it->at_ms > flt->until_ms ||
        !in_scope(q, it->org, it->entry)) {
        return true;
    }
    if (!q->cb(q->arg, it)) {
        q->rc = PC_ENOMEM;
        return false;
    }
    if (++q->n == q->limit) {
        q->full = true;
        return false;
    }
    return true;
}

static bool
read_event_cb(void *arg, const struct fsm_audit_event *e)
{
    struct query *q = arg;
    struct fsm_audit_item it;
    uint32_t i = q->index++;

    if (i < q->from_index) {
        return true;
    }
    memset(&it, 0, sizeof(it));
    it.rev = q->fact->revision;
    it.index = i;
    it.read = true;
    it.action = e->action;
    it.principal = PC_SLICE_STR(e->principal);
    it.org = e->org != NULL ? PC_SLICE_STR(e->org) : (struct pc_slice){ 0 };
    it.entry = PC_SLICE_STR(e->entry);
    it.key = e->key != NULL
                 ? (struct pc_slice){ (const uint8_t *)e->key, e->key_len }
                 : (struct pc_slice){ 0 };
    it.version = e->version;
    it.count = e->count;
    it.at_ms = e->at_ms;
    it.via = e->via;
    it.fact = q->fact;
    return offer(q, &it);
}

/* Whether audit batch `rev` may hold events in `flt`'s times. */
static bool
span_meets(const struct fsm_audit_log *a, uint64_t rev,
           const struct fsm_audit_filter *flt)
{
    size_t lo = 0, hi = a->n_spans;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (a->spans[mid].rev < rev) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == a->n_spans || a->spans[lo].rev != rev) {
        return true; /* not known: look */
    }
    return a->spans[lo].hi >= flt->since_ms && a->spans[lo].lo <= flt->until_ms;
}

/* The events of fact `fact` from event `from` on: false to stop. */
static bool
fact_events(struct query *q, const struct fact *fact, uint32_t from,
            size_t *batches)
{
    struct fsm_audit_item it;
    struct wevent w;
    int rc;

    q->fact = fact;
    q->from_index = from;
    q->index = 0;
    if (fact->kind == FACT_TICK) {
        return true;
    }
    if (fact->kind == FACT_AUDIT) {
        if (!span_meets(q->f->alog, fact->revision, q->flt)) {
            return true; /* no event in the times asked */
        }
        (*batches)++;
        rc = fsm_audit_events(q->f->led, fact->revision, read_event_cb, q);
        if (rc != PC_OK && rc != PC_EFORBIDDEN) {
            q->rc = rc;
            return false;
        }
        return !q->full && q->rc == PC_OK;
    }
    if (from > 0) {
        return true;
    }
    q->index = 1;
    /* What costs nothing first: a write's time is its fact's. */
    if (fact->time_ms < q->flt->since_ms || fact->time_ms > q->flt->until_ms ||
        !slice_is(fact->principal, q->flt->principal) ||
        (q->flt->action != NULL &&
         strcmp(fact_kind_name(fact->kind), q->flt->action) != 0)) {
        return true;
    }
    rc = write_event(q->f, fact, NULL, &w);
    if (rc != PC_OK) {
        q->rc = rc;
        return false;
    }
    memset(&it, 0, sizeof(it));
    it.rev = fact->revision;
    it.action = w.action;
    it.principal = w.principal;
    it.org = w.org;
    it.entry = w.entry;
    it.key = w.key;
    it.version = fact->version;
    it.count = -1;
    it.at_ms = fact->time_ms;
    it.fact = fact;
    return offer(q, &it);
}

int
fsm_audit_query(const struct fsm *f, const struct fsm_principal *viewer,
                const struct fsm_audit_filter *flt, size_t limit,
                struct fsm_audit_pos *pos, bool *more, fsm_audit_item_cb cb,
                void *arg)
{
    const struct fsm_audit_log *a = f->alog;
    const char *keys[N_BY] = { flt->principal, flt->org, flt->entry,
                               flt->action };
    const struct post *drive = NULL;
    struct query q = { .f = f,
                       .viewer = viewer,
                       .flt = flt,
                       .cb = cb,
                       .arg = arg,
                       .limit = limit };
    uint64_t start = pos->rev > 0 ? pos->rev : 1, count = led_count(f->led);
    size_t facts = 0, batches = 0;
    struct post_it it = { 0 };
    struct fact fact;

    *more = false;
    /* An auditor, or the provincial authority (whose scope is all). */
    q.sees_all = viewer != NULL && viewer->active &&
                 ((viewer->roles & FSM_ROLE_AUDITOR) ||
                  fsm_authority_over(f, viewer, NULL));
    for (int i = 0; i < N_BY; i++) {
        const struct post *p;

        if (keys[i] == NULL) {
            continue;
        }
        p = pc_map_get(&a->by[i], keys[i], strlen(keys[i]));
        if (p == NULL) {
            return PC_OK; /* nothing ever named it */
        }
        if (drive == NULL || p->n < drive->n) {
            drive = p;
        }
    }
    if (flt->since_ms > INT64_MIN + SLACK_MS) {
        uint64_t s = first_at(f->led, flt->since_ms - SLACK_MS);

        if (s > start) {
            start = s;
            pos->index = 0;
        }
    }
    if (drive != NULL) {
        post_seek(drive, start, &it);
    }
    for (;;) {
        uint64_t rev = drive != NULL ? it.rev : start;
        uint32_t from;

        if ((drive != NULL && !post_valid(&it)) || rev > count) {
            return PC_OK; /* the end */
        }
        if (led_get(f->led, rev, &fact) != PC_OK) {
            return PC_ECORRUPT;
        }
        if (flt->until_ms < INT64_MAX - SLACK_MS &&
            fact.time_ms > flt->until_ms + SLACK_MS) {
            return PC_OK; /* past `until`: the end */
        }
        if (facts == FSM_AUDIT_SCAN_FACTS ||
            batches == FSM_AUDIT_SCAN_BATCHES) {
            pos->rev = rev;
            pos->index = 0;
            *more = true; /* the work bound: go on from here */
            return PC_OK;
        }
        facts++;
        from = rev == pos->rev ? (uint32_t)pos->index : 0;
        if (!fact_events(&q, &fact, from, &batches)) {
            if (q.rc != PC_OK) {
                return q.rc;
            }
            /* Full: go on after the event just given. */
            pos->rev = rev;
            pos->index = q.index;
            *more = true;
            return PC_OK;
        }
        if (drive != NULL) {
            post_next(&it);
        } else {
            start++;
        }
    }
}
