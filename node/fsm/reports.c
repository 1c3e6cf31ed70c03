/* SPDX-License-Identifier: MIT */
/*
 * Counters for the quality and evaluation reports (articles 15, 19, 25),
 * kept as facts are derived (in apply, and the same way when the derived
 * state is rebuilt from the ledger), so that a report reads them in O(1)
 * per entry or org and never scans records: per entry its live and retired
 * records, versions, last write, update frequency, complete records and
 * refused writes by code; per provider org and overall, the entries in
 * force by share and open class.
 *
 * Completeness is the share of live records whose current document holds
 * every required field (present, not null) of the schema in force. A
 * version with a document passed that schema when it was written, so a
 * record written after the required fields last changed (at revision
 * `req_rev`) is complete without a look at its document. When an approved
 * entry version changes the required fields, the records written before
 * are not known until a walk over the entry's keys checks their documents;
 * the walk runs outside apply, a bounded number of keys at a time
 * (fsm_reports_step), and writes meanwhile keep the counts exact for what
 * is known: a key the walk has passed is known, one it has not is known
 * once written again. A redacted document counts as complete: what it held
 * is gone, and it passed the schema in force when it was written.
 *
 * The walk's progress is not replicated state (it may differ between
 * replicas, and after a rebuild it starts over); what it computes is, and
 * once it is over every replica holds the same counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/jcs.h"
#include "common/map.h"
#include "node/fsm/fsm_int.h"
#include "storage/idx.h"

#define DAY_MS (86400000LL)

/* Update frequencies and the period after which an entry without a write
 * is late; irregular is never late. */
static const char *const freq_names[] = { "realtime",  "daily",     "weekly",
                                          "monthly",   "quarterly", "yearly",
                                          "irregular", NULL };
static const int64_t freq_ms[] = {
    3600000LL, 2 * DAY_MS, 8 * DAY_MS, 32 * DAY_MS, 93 * DAY_MS, 366 * DAY_MS, 0
};

static const char *const code_names[FSM_REJECT_N] = {
    "bad_request", "unauthorized", "forbidden", "not_found",
    "conflict",    "too_large",    "invalid",   "other",
};

/* The commands that write records: their refusals are rejected writes. */
static const char *const write_commands[] = {
    "record.put",    "record.batch",   "record.batch2",
    "record.retire", "record.correct", NULL,
};

/* Entries in force by class, for one provider org or all. */
struct rep_classes {
    uint64_t total;
    uint64_t share[3]; /* by enum fsm_class */
    uint64_t open[3];
};

/* One catalog entry's counters. */
struct rep_entry {
    char *id;
    uint64_t live;    /* keys whose current version is not retired */
    uint64_t retired; /* keys whose current version is retired */
    uint64_t versions;
    int64_t last_ms;   /* ledger time of the last record write; 0: none */
    uint64_t last_rev; /* its revision; 0: none */
    int freq;          /* index in freq_names of the version in force; -1 */
    /* The required fields of the schema in force (sorted), and the
     * revision of the entry fact from which they are in force. */
    char **req;
    size_t n_req;
    bool has_schema;
    uint64_t req_rev;
    uint64_t known;       /* live records whose completeness is known */
    uint64_t complete;    /* of them, complete */
    bool pending;         /* a walk over the keys is under way */
    struct pc_buf cursor; /* the last key walked; none while `walked` 0 */
    bool walked;
    uint64_t rejected[FSM_REJECT_N];
    /* What it counts in the class counters: in force, and its classes and
     * provider then. */
    bool counted;
    int share, open;
    char *provider;
};

struct fsm_reports {
    struct pc_map entries; /* entry id -> struct rep_entry */
    struct pc_map orgs;    /* provider org -> struct rep_classes */
    struct rep_classes all;
    /* Entries with a walk pending, in the order their walks began. */
    char **pending;
    size_t n_pending, cap_pending;
};

/* ---- life ------------------------------------------------------------- */

static void
free_req(struct rep_entry *re)
{
    for (size_t i = 0; i < re->n_req; i++) {
        pc_free(re->req[i]);
    }
    pc_free(re->req);
    re->req = NULL;
    re->n_req = 0;
}

/* The values of `entries` (pc_map_free_cb). */
static void
entry_free(void *val)
{
    struct rep_entry *re = val;

    free_req(re);
    pc_buf_release(&re->cursor);
    pc_free(re->provider);
    pc_free(re->id);
    pc_free(re);
}

int
fsm_reports_new(struct fsm_reports **out)
{
    struct fsm_reports *r = pc_calloc(1, sizeof(*r));

    if (r == NULL) {
        return PC_ENOMEM;
    }
    pc_map_init(&r->entries);
    pc_map_init(&r->orgs);
    *out = r;
    return PC_OK;
}

void
fsm_reports_clear(struct fsm_reports *r)
{
    if (r == NULL) {
        return;
    }
    pc_map_release_values(&r->entries, entry_free);
    pc_map_release_values(&r->orgs, pc_free);
    for (size_t i = 0; i < r->n_pending; i++) {
        pc_free(r->pending[i]);
    }
    pc_free(r->pending);
    r->pending = NULL;
    r->n_pending = r->cap_pending = 0;
    memset(&r->all, 0, sizeof(r->all));
}

void
fsm_reports_free(struct fsm_reports *r)
{
    fsm_reports_clear(r);
    pc_free(r);
}

static struct rep_entry *
rep_get(const struct fsm *f, struct pc_slice id)
{
    return pc_map_get(&f->rep->entries, id.p, id.len);
}

/* ---- helpers ---------------------------------------------------------- */

/* Keys order as the index orders them: bytes, a prefix first. */
static int
key_cmp(struct pc_slice a, const struct pc_buf *b)
{
    size_t n = a.len < b->len ? a.len : b->len;
    int c = n > 0 ? memcmp(a.p, b->data, n) : 0;

    if (c != 0) {
        return c;
    }
    return a.len < b->len ? -1 : a.len > b->len;
}

/* The offset of the first `n` bytes `s` in `p`, or p.len. */
static size_t
find(struct pc_slice p, const char *s, size_t n)
{
    for (size_t i = 0; n <= p.len && i <= p.len - n; i++) {
        if (p.p[i] == (uint8_t)s[0] && memcmp(p.p + i, s, n) == 0) {
            return i;
        }
    }
    return p.len;
}

/*
 * Whether a record version's payload says it is retired: op "retire", or
 * "retired": true (a correction of a retired record). Payloads are the
 * canonical JSON rules_records.c writes, members in key order; neither
 * pattern can occur inside a string (its quotes would be escaped), and the
 * first "op" member is the op (an objection id, which sorts before it,
 * holds no quote).
 */
static bool
payload_retired(struct pc_slice p)
{
    static const char op[] = "\"op\":\"";
    static const char ret[] = "\"retired\":true";
    size_t at = find(p, op, sizeof(op) - 1);

    if (at < p.len) {
        size_t off = at + sizeof(op) - 1;

        if (p.len - off >= 7 && memcmp(p.p + off, "retire\"", 7) == 0) {
            return true;
        }
    }
    return find(p, ret, sizeof(ret) - 1) < p.len;
}

/*
 * Whether the document of record version `rev` holds every required field
 * of `re` (present and not null). A redacted document counts as complete.
 * PC_OK with `*out`, PC_ENOMEM, PC_ECORRUPT.
 */
static int
doc_complete(const struct fsm *f, const struct rep_entry *re, uint64_t rev,
             bool *out)
{
    struct pc_buf json;
    struct jcs_doc *d;
    int rc;

    if (re->n_req == 0) {
        *out = true;
        return PC_OK;
    }
    pc_buf_init(&json);
    rc = led_doc_get(f->led, rev, &json, NULL);
    if (rc == PC_EFORBIDDEN) {
        pc_buf_release(&json);
        *out = true;
        return PC_OK;
    }
    if (rc != PC_OK) {
        pc_buf_release(&json);
        return rc == PC_ENOMEM ? rc : PC_ECORRUPT;
    }
    rc = jcs_parse((const char *)json.data, json.len, &d, NULL);
    pc_buf_release(&json);
    if (rc != PC_OK) {
        return rc == PC_ENOMEM ? rc : PC_ECORRUPT;
    }
    *out = true;
    for (size_t i = 0; i < re->n_req && *out; i++) {
        const struct jcs_val *v =
            jcs_get(jcs_root(d), re->req[i], strlen(re->req[i]));

        *out = v != NULL && jcs_type(v) != JCS_NULL;
    }
    jcs_doc_free(d);
    return PC_OK;
}

/*
 * What live version `rev` of `key` counts for: whether its completeness is
 * known and whether it is complete (see the top of the file). PC_OK,
 * PC_ENOMEM, PC_ECORRUPT.
 */
static int
contribution(const struct fsm *f, const struct rep_entry *re,
             struct pc_slice key, uint64_t rev, bool *known, bool *complete)
{
    if (rev > re->req_rev) {
        *known = *complete = true; /* passed the schema with these fields */
        return PC_OK;
    }
    if (re->pending && (!re->walked || key_cmp(key, &re->cursor) > 0)) {
        *known = *complete = false; /* the walk has not reached it */
        return PC_OK;
    }
    *known = true;
    return doc_complete(f, re, rev, complete);
}

static int
pending_add(struct fsm_reports *r, const char *id)
{
    char *copy;

    for (size_t i = 0; i < r->n_pending; i++) {
        if (strcmp(r->pending[i], id) == 0) {
            return PC_OK;
        }
    }
    if (r->n_pending == r->cap_pending) {
        size_t cap = r->cap_pending ? 2 * r->cap_pending : 8;
        char **v = pc_realloc(r->pending, cap * sizeof(*v));

        if (v == NULL) {
            return PC_ENOMEM;
        }
        r->pending = v;
        r->cap_pending = cap;
    }
    copy = pc_strdup(id);
    if (copy == NULL) {
        return PC_ENOMEM;
    }
    r->pending[r->n_pending++] = copy;
    return PC_OK;
}

static void
pending_remove(struct fsm_reports *r, const char *id)
{
    for (size_t i = 0; i < r->n_pending; i++) {
        if (strcmp(r->pending[i], id) == 0) {
            pc_free(r->pending[i]);
            memmove(r->pending + i, r->pending + i + 1,
                    (r->n_pending - i - 1) * sizeof(*r->pending));
            r->n_pending--;
            return;
        }
    }
}

/* The required field names of `e`'s schema in force, sorted: PC_OK with
 * `*out` (pc_free each and the array) and `*n`, or PC_ENOMEM. */
static int
required_of(const struct fsm_entry *e, char ***out, size_t *n)
{
    char **v = NULL;
    size_t k = 0;

    if (e->n_force_fields > 0) {
        v = pc_calloc(e->n_force_fields, sizeof(*v));
        if (v == NULL) {
            return PC_ENOMEM;
        }
    }
    for (size_t i = 0; i < e->n_force_fields; i++) {
        if (!e->force_fields[i].required) {
            continue;
        }
        v[k] = pc_strdup(e->force_fields[i].name);
        if (v[k] == NULL) {
            for (size_t j = 0; j < k; j++) {
                pc_free(v[j]);
            }
            pc_free(v);
            return PC_ENOMEM;
        }
        k++;
    }
    if (k > 1) {
        qsort(v, k, sizeof(*v), fsm_cmp_str);
    }
    *out = v;
    *n = k;
    return PC_OK;
}

/* Whether sorted set `a` holds every name of sorted set `b`. */
static bool
superset(char *const *a, size_t na, char *const *b, size_t nb)
{
    size_t i = 0;

    for (size_t j = 0; j < nb; j++) {
        while (i < na && strcmp(a[i], b[j]) < 0) {
            i++;
        }
        if (i == na || strcmp(a[i], b[j]) != 0) {
            return false;
        }
    }
    return true;
}

/* ---- derivation --------------------------------------------------------- */

static struct rep_classes *
classes_of(struct fsm_reports *r, const char *org, bool create)
{
    return create ? pc_map_get_or_add(&r->orgs, org, strlen(org),
                                      sizeof(struct rep_classes))
                  : pc_map_get(&r->orgs, org, strlen(org));
}

static void
classes_add(struct rep_classes *c, int share, int open, int64_t d)
{
    c->total += (uint64_t)d;
    c->share[share] += (uint64_t)d;
    c->open[open] += (uint64_t)d;
}

/* The entry's part in the class counters: PC_OK or PC_ENOMEM. */
static int
entry_classes(struct fsm_reports *r, struct rep_entry *re,
              const struct fsm_entry *e)
{
    struct rep_classes *c;
    char *prov;

    if (re->counted) {
        c = classes_of(r, re->provider, false);
        if (c != NULL) {
            classes_add(c, re->share, re->open, -1);
        }
        classes_add(&r->all, re->share, re->open, -1);
        re->counted = false;
    }
    if (!e->in_force) {
        return PC_OK;
    }
    if (re->provider == NULL || strcmp(re->provider, e->provider) != 0) {
        prov = pc_strdup(e->provider);
        if (prov == NULL) {
            return PC_ENOMEM;
        }
        pc_free(re->provider);
        re->provider = prov;
    }
    c = classes_of(r, re->provider, true);
    if (c == NULL) {
        return PC_ENOMEM;
    }
    re->share = (int)e->public_share;
    re->open = (int)e->public_open;
    classes_add(c, re->share, re->open, 1);
    classes_add(&r->all, re->share, re->open, 1);
    re->counted = true;
    return PC_OK;
}

int
fsm_reports_entry(struct fsm *f, const struct fact *fact,
                  const struct jcs_val *p)
{
    struct fsm_reports *r = f->rep;
    const struct fsm_entry *e;
    struct rep_entry *re;
    const char *st, *freq;
    char **req;
    size_t n_req, len;
    int rc;

    e = pc_map_get(&f->entries, fact->id.p, fact->id.len);
    if (e == NULL) {
        return PC_OK;
    }
    re = rep_get(f, fact->id);
    if (re == NULL) {
        re = pc_calloc(1, sizeof(*re));
        if (re == NULL) {
            return PC_ENOMEM;
        }
        re->freq = -1;
        pc_buf_init(&re->cursor);
        re->id = pc_strdup(e->id);
        if (re->id == NULL ||
            pc_map_put(&r->entries, re->id, strlen(re->id), re, NULL)) {
            pc_free(re->id);
            pc_free(re);
            return PC_ENOMEM;
        }
    }
    rc = entry_classes(r, re, e);
    if (rc != PC_OK) {
        return rc;
    }
    st = fsm_get_str(p, "status", &len);
    freq = fsm_get_str(p, "update_frequency", NULL);
    if (st != NULL && ((len == 9 && memcmp(st, "published", 9) == 0) ||
                       (len == 7 && memcmp(st, "retired", 7) == 0))) {
        re->freq = fsm_name_index(freq_names, freq);
    }
    if (!e->in_force) {
        return PC_OK; /* not yet published, or retired: no new writes */
    }
    rc = required_of(e, &req, &n_req);
    if (rc != PC_OK) {
        return rc;
    }
    if (re->has_schema && n_req == re->n_req &&
        superset(req, n_req, re->req, re->n_req)) {
        for (size_t i = 0; i < n_req; i++) {
            pc_free(req[i]);
        }
        pc_free(req);
        return PC_OK; /* the same required fields: nothing to recount */
    }
    if (re->live == 0 ||
        (re->has_schema && !re->pending && re->complete == re->live &&
         superset(re->req, re->n_req, req, n_req))) {
        /* No records, or every record held every field of a superset of
         * the new required fields: all of them are complete now too. */
        re->pending = false;
        pending_remove(r, re->id);
    } else {
        rc = pending_add(r, re->id);
        if (rc != PC_OK) {
            for (size_t i = 0; i < n_req; i++) {
                pc_free(req[i]);
            }
            pc_free(req);
            return rc;
        }
        re->pending = true;
        re->walked = false;
        re->cursor.len = 0;
        re->known = re->complete = 0;
    }
    free_req(re);
    re->req = req;
    re->n_req = n_req;
    re->has_schema = true;
    re->req_rev = fact->revision;
    return PC_OK;
}

/* A record version: counts, and completeness (rec_contribution). */
static int
derive_record(struct fsm *f, const struct fact *fact)
{
    struct rep_entry *re = rep_get(f, fact->parent);
    bool retired = payload_retired(fact->payload);

    if (re == NULL) {
        return PC_OK;
    }
    if (fact->version > 1) {
        struct idx_key k = { FACT_RECORD, fact->parent, fact->id };
        bool known, complete;
        uint64_t prev;
        struct fact pf;
        int rc;

        if (idx_version_rev(led_idx(f->led), &k, fact->version - 1, &prev) !=
                PC_OK ||
            led_get(f->led, prev, &pf) != PC_OK) {
            return PC_ECORRUPT;
        }
        if (payload_retired(pf.payload)) {
            re->retired--;
        } else {
            rc = contribution(f, re, fact->id, prev, &known, &complete);
            if (rc != PC_OK) {
                return rc;
            }
            re->live--;
            re->known -= known;
            re->complete -= complete;
        }
    }
    if (retired) {
        re->retired++;
    } else {
        /* Written now, under the schema in force: complete. */
        re->live++;
        re->known++;
        re->complete++;
    }
    re->versions++;
    re->last_ms = fact->time_ms;
    re->last_rev = fact->revision;
    return PC_OK;
}

/* A refused command: a rejected write of its entry when it wrote records
 * (the rejection's parent is the entry). */
static int
derive_rejection(struct fsm *f, const struct fact *fact)
{
    struct rep_entry *re = rep_get(f, fact->parent);
    const char *cmd, *code;
    struct jcs_doc *d;
    bool write = false;
    int i, rc;

    if (re == NULL) {
        return PC_OK;
    }
    rc = jcs_parse((const char *)fact->payload.p, fact->payload.len, &d, NULL);
    if (rc != PC_OK) {
        return rc == PC_ENOMEM ? rc : PC_ECORRUPT;
    }
    cmd = fsm_get_str(jcs_root(d), "command", NULL);
    code = fsm_get_str(jcs_root(d), "code", NULL);
    for (const char *const *w = write_commands; cmd != NULL && *w; w++) {
        write = write || strcmp(cmd, *w) == 0;
    }
    if (write) {
        for (i = 0; i < FSM_REJECT_N - 1; i++) {
            if (code != NULL && strcmp(code, code_names[i]) == 0) {
                break;
            }
        }
        re->rejected[i]++;
    }
    jcs_doc_free(d);
    return PC_OK;
}

/* A redaction of the current version of a live record known to be
 * incomplete makes it complete (a redacted document counts as complete);
 * in apply its document is still there to tell. */
static int
derive_redaction(struct fsm *f, const struct fact *fact,
                 const struct jcs_val *p)
{
    struct rep_entry *re = rep_get(f, fact->parent);
    struct idx_key k = { FACT_RECORD, fact->parent, fact->id };
    const struct jcs_val *v = fsm_get(p, "record_revision");
    uint64_t target, latest;
    bool known, complete;
    struct fact rf;
    int rc;

    if (re == NULL || v == NULL || !jcs_is_integer(v)) {
        return PC_OK;
    }
    target = (uint64_t)jcs_number(v);
    if (idx_latest(led_idx(f->led), &k, &latest) == 0 || latest != target ||
        led_get(f->led, target, &rf) != PC_OK || payload_retired(rf.payload)) {
        return PC_OK;
    }
    rc = contribution(f, re, fact->id, target, &known, &complete);
    if (rc == PC_OK && known && !complete) {
        re->complete++;
    }
    return rc;
}

int
fsm_reports_fact(struct fsm *f, const struct fact *fact,
                 const struct jcs_val *p)
{
    switch (fact->kind) {
    case FACT_RECORD:
        return derive_record(f, fact);
    case FACT_REJECTION:
        return fact->parent.len > 0 ? derive_rejection(f, fact) : PC_OK;
    case FACT_REDACTION:
        return p != NULL ? derive_redaction(f, fact, p) : PC_OK;
    default:
        return PC_OK;
    }
}

/* ---- the walk ----------------------------------------------------------- */

struct walk {
    const struct fsm *f;
    struct rep_entry *re;
    size_t budget, done;
    int rc;
};

static bool
walk_cb(void *arg, struct pc_slice key, uint64_t latest, uint64_t latest_rev)
{
    struct walk *w = arg;
    struct rep_entry *re = w->re;
    bool complete = false, counts = false;
    struct fact rf;

    (void)latest;
    if (w->done == w->budget) {
        return false;
    }
    /* Room for the cursor first, so that a key once counted is walked. */
    if (pc_buf_reserve(&re->cursor, key.len) != PC_OK) {
        w->rc = PC_ENOMEM;
        return false;
    }
    /* Versions written since the required fields changed were counted
     * when written; retired records do not count. */
    if (latest_rev < re->req_rev) {
        if (led_get(w->f->led, latest_rev, &rf) != PC_OK) {
            w->rc = PC_ECORRUPT;
            return false;
        }
        counts = !payload_retired(rf.payload);
    }
    if (counts) {
        w->rc = doc_complete(w->f, re, latest_rev, &complete);
        if (w->rc != PC_OK) {
            return false;
        }
        re->known++;
        re->complete += complete;
    }
    re->cursor.len = 0;
    (void)pc_buf_put(&re->cursor, key.p, key.len); /* reserved above */
    re->walked = true;
    w->done++;
    return true;
}

size_t
fsm_reports_step(struct fsm *f, size_t max_keys)
{
    struct fsm_reports *r = f->rep;
    size_t done = 0;

    while (r->n_pending > 0 && done < max_keys) {
        struct rep_entry *re =
            pc_map_get(&r->entries, r->pending[0], strlen(r->pending[0]));
        struct walk w = { f, re, max_keys - done, 0, PC_OK };
        struct pc_buf after;

        if (re == NULL || !re->pending) {
            pending_remove(r, r->pending[0]);
            continue;
        }
        pc_buf_init(&after);
        if (re->walked &&
            pc_buf_put(&after, re->cursor.data, re->cursor.len) != PC_OK) {
            break;
        }
        idx_scan(led_idx(f->led), FACT_RECORD, PC_SLICE_STR(re->id),
                 (struct pc_slice){ NULL, 0 },
                 (struct pc_slice){ after.data, after.len }, walk_cb, &w);
        pc_buf_release(&after);
        done += w.done;
        if (w.rc != PC_OK) {
            break; /* out of memory: the next step goes on from here */
        }
        if (w.done < w.budget) {
            re->pending = false; /* every key walked */
            pending_remove(r, re->id);
        }
    }
    return done;
}

bool
fsm_reports_pending(const struct fsm *f)
{
    return f->rep->n_pending > 0;
}

/* ---- queries ------------------------------------------------------------ */

const char *
fsm_reject_code_name(unsigned i)
{
    return i < FSM_REJECT_N ? code_names[i] : NULL;
}

const char *
fsm_timeliness_name(enum fsm_timeliness t)
{
    switch (t) {
    case FSM_TIMELY_ON_TIME:
        return "on_time";
    case FSM_TIMELY_LATE:
        return "late";
    case FSM_TIMELY_NEVER:
        return "never";
    default:
        return NULL;
    }
}

int64_t
fsm_frequency_period_ms(const char *freq)
{
    int i = fsm_name_index(freq_names, freq);

    return i < 0 ? -1 : freq_ms[i];
}

enum fsm_timeliness
fsm_timeliness(const char *freq, int64_t last_ms, int64_t now)
{
    int64_t period = fsm_frequency_period_ms(freq);

    if (period < 0) {
        return FSM_TIMELY_NONE;
    }
    if (last_ms <= 0) {
        return FSM_TIMELY_NEVER;
    }
    if (period > 0 && now - last_ms > period) {
        return FSM_TIMELY_LATE;
    }
    return FSM_TIMELY_ON_TIME;
}

int
fsm_quality(const struct fsm *f, const char *entry, int64_t now,
            struct fsm_quality *out)
{
    const struct fsm_entry *e = fsm_entry(f, entry);
    const struct rep_entry *re = rep_get(f, PC_SLICE_STR(entry));

    if (e == NULL || re == NULL) {
        return PC_ENOTFOUND;
    }
    memset(out, 0, sizeof(*out));
    out->entry = e->id;
    out->records = re->live;
    out->retired = re->retired;
    out->versions = re->versions;
    out->last_write_ms = re->last_rev > 0 ? re->last_ms : -1;
    out->last_write_rev = re->last_rev;
    out->frequency = re->freq >= 0 ? freq_names[re->freq] : NULL;
    out->timeliness =
        e->in_force ? fsm_timeliness(out->frequency, out->last_write_ms, now)
                    : FSM_TIMELY_NONE;
    out->known = re->known;
    out->complete = re->complete;
    out->unchecked = re->live - re->known;
    out->schema_rev = re->has_schema ? re->req_rev : 0;
    for (int i = 0; i < FSM_REJECT_N; i++) {
        out->rejected[i] = re->rejected[i];
        out->rejected_total += re->rejected[i];
    }
    out->open_objections = fsm_objections_open(f, entry);
    return PC_OK;
}

void
fsm_entry_classes(const struct fsm *f, const char *org,
                  struct fsm_entry_classes *out)
{
    const struct rep_classes *c =
        org == NULL ? &f->rep->all
                    : pc_map_get(&f->rep->orgs, org, strlen(org));

    memset(out, 0, sizeof(*out));
    if (c == NULL) {
        return;
    }
    out->total = c->total;
    memcpy(out->share, c->share, sizeof(out->share));
    memcpy(out->open, c->open, sizeof(out->open));
}

/* ---- who may ask ----------------------------------------------------------
 */

static bool
active(const struct fsm_principal *p)
{
    return p != NULL && p->active;
}

bool
fsm_may_report_quality(const struct fsm *f, const struct fsm_principal *p)
{
    (void)f;
    return active(p) && ((p->roles & (FSM_ROLE_AUDITOR | FSM_ROLE_AUTHORITY)) ||
                         p->org != NULL);
}

bool
fsm_quality_visible(const struct fsm *f, const struct fsm_principal *p,
                    const struct fsm_entry *e)
{
    if (!active(p) || fsm_entry_visible_rev(f, e, p) == 0) {
        return false;
    }
    return (p->roles & FSM_ROLE_AUDITOR) || fsm_entry_authority(f, p, e) ||
           (p->org != NULL && strcmp(p->org, e->provider) == 0);
}

bool
fsm_may_read_evaluation(const struct fsm *f, const struct fsm_principal *p)
{
    (void)f;
    return active(p) && (p->roles & (FSM_ROLE_AUDITOR | FSM_ROLE_AUTHORITY));
}

bool
fsm_may_read_audit(const struct fsm *f, const struct fsm_principal *p)
{
    (void)f;
    return active(p) && (p->roles & (FSM_ROLE_AUDITOR | FSM_ROLE_AUTHORITY));
}
