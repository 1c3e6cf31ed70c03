/* SPDX-License-Identifier: MIT */
/*
 * The state machine core: entry decoding, ledger time, idempotency, fact
 * emission, rejections and the derived state rebuilt from facts. The rules
 * of each command live in node/fsm/rules_*.c behind fsm_int.h. All JSON is
 * read with common/jcs and written with its writer, so what a replica
 * decides and appends depends on this code alone (docs/rules.md).
 */
#include "node/fsm/fsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/jcs.h"
#include "node/cmd.h"
#include "node/fsm/fsm_int.h"
#include "storage/idx.h"

static const char *const role_names[] = { "authority", "provider", "consumer",
                                          "operator", "auditor" };

unsigned
fsm_role_parse(const char *name, size_t len)
{
    for (unsigned i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
        if (strlen(role_names[i]) == len &&
            memcmp(role_names[i], name, len) == 0) {
            return 1u << i;
        }
    }
    return 0;
}

const char *
fsm_role_name(unsigned bit)
{
    for (unsigned i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
        if (bit == 1u << i) {
            return role_names[i];
        }
    }
    return NULL;
}

/* ---- derived state ---------------------------------------------------- */

/* The values of `orgs` and `principals` (pc_map_free_cb). */
static void
org_free(void *val)
{
    struct fsm_org *o = val;

    if (o == NULL) {
        return;
    }
    pc_free(o->id);
    pc_free(o->name);
    pc_free(o->level);
    pc_free(o->kind);
    pc_free(o->parent);
    pc_free(o);
}

static void
principal_free(void *val)
{
    struct fsm_principal *p = val;

    if (p == NULL) {
        return;
    }
    pc_free(p->id);
    pc_free(p->org);
    pc_free(p);
}

static void
derived_release(struct fsm *f)
{
    pc_map_release_values(&f->entries, fsm_entry_free);
    fsm_digests_release(f);
    pc_map_release_values(&f->orgs, org_free);
    pc_map_release_values(&f->principals, principal_free);
    pc_map_release(&f->tokens); /* values are owned by `principals` */
    pc_map_release_values(&f->members, pc_free);
    for (size_t i = 0; i < f->idem_q.len; i++) {
        pc_free(f->idem_q.v[(f->idem_q.head + i) % f->idem_q.cap]);
    }
    pc_free(f->idem_q.v);
    memset(&f->idem_q, 0, sizeof(f->idem_q));
    pc_map_release(&f->idem); /* its values were the queue's */
    fsm_share_reset(f->share);
    fsm_open_clear(f->open);
    fsm_objections_clear(f->obj);
    fsm_reports_clear(f->rep);
    fsm_audit_log_clear(f->alog);
    pc_free(f->cluster_id);
    f->cluster_id = NULL;
    pc_free(f->org_ids);
    f->org_ids = NULL;
    f->n_org_ids = 0;
    f->org_ids_stale = true;
}

static int
derive_org(struct fsm *f, const struct fact *fact, const struct jcs_val *p)
{
    struct fsm_org *o = pc_calloc(1, sizeof(*o));
    void *old = NULL;

    if (o == NULL) {
        return PC_ENOMEM;
    }
    o->id = pc_strndup((const char *)fact->id.p, fact->id.len);
    o->name = fsm_get_dup(p, "name");
    o->level = fsm_get_dup(p, "level");
    o->kind = fsm_get_dup(p, "kind");
    if (fsm_get_str(p, "parent", NULL) != NULL) {
        o->parent = fsm_get_dup(p, "parent");
        if (o->parent == NULL) {
            goto err;
        }
    }
    o->authority = fsm_get_true(p, "authority");
    o->rev = fact->revision;
    if (o->id == NULL || o->name == NULL || o->level == NULL ||
        o->kind == NULL) {
        goto err;
    }
    if (pc_map_put(&f->orgs, o->id, strlen(o->id), o, &old) != PC_OK) {
        goto err;
    }
    org_free(old);
    if (old == NULL) {
        f->org_ids_stale = true;
    }
    return PC_OK;
err:
    org_free(o);
    return PC_ENOMEM;
}

static int
derive_principal(struct fsm *f, const struct fact *fact,
                 const struct jcs_val *p)
{
    struct fsm_principal *n = pc_calloc(1, sizeof(*n));
    void *old = NULL;
    const struct jcs_val *roles = fsm_get(p, "roles");
    const char *th, *st;
    size_t th_len, st_len;

    if (n == NULL) {
        return PC_ENOMEM;
    }
    n->id = pc_strndup((const char *)fact->id.p, fact->id.len);
    if (n->id == NULL) {
        goto err;
    }
    if (fsm_get_str(p, "org", NULL) != NULL) {
        n->org = fsm_get_dup(p, "org");
        if (n->org == NULL) {
            goto err;
        }
    }
    for (size_t i = 0; roles != NULL && i < jcs_len(roles); i++) {
        size_t len;
        const char *r = jcs_string(jcs_at(roles, i), &len);

        n->roles |= r == NULL ? 0 : fsm_role_parse(r, len);
    }
    n->citizen = fsm_get_true(p, "citizen");
    st = fsm_get_str(p, "status", &st_len);
    n->active = st != NULL && st_len == 6 && memcmp(st, "active", 6) == 0;
    th = fsm_get_str(p, "token_hash", &th_len);
    if (th == NULL || !pc_unhex(n->token_hash, PC_HASH_LEN, th, th_len)) {
        memset(n->token_hash, 0, PC_HASH_LEN);
    }
    n->rev = fact->revision;
    struct fsm_principal *prev =
        pc_map_get(&f->principals, n->id, strlen(n->id));
    if (prev != NULL) {
        pc_map_del(&f->tokens, prev->token_hash, PC_HASH_LEN);
    }
    if (pc_map_put(&f->principals, n->id, strlen(n->id), n, &old) != PC_OK) {
        goto err;
    }
    principal_free(old);
    if (n->active &&
        pc_map_put(&f->tokens, n->token_hash, PC_HASH_LEN, n, NULL) != PC_OK) {
        return PC_ENOMEM; /* `n` is in `principals`; the caller rebuilds */
    }
    return PC_OK;
err:
    principal_free(n);
    return PC_ENOMEM;
}

static int
derive_member(struct fsm *f, const struct fact *fact, const struct jcs_val *p)
{
    char *copy;
    void *old = NULL;

    if (fsm_get_str(p, "client_url", NULL) == NULL) {
        return PC_OK;
    }
    copy = fsm_get_dup(p, "client_url");
    if (copy == NULL ||
        pc_map_put(&f->members, fact->id.p, fact->id.len, copy, &old)) {
        pc_free(copy);
        return PC_ENOMEM;
    }
    pc_free(old);
    return PC_OK;
}

/* Room for one more entry at the queue's tail: PC_OK or PC_ENOMEM. */
static int
idem_reserve(struct fsm_idem_queue *q)
{
    struct fsm_idem **v;
    size_t cap;

    if (q->len < q->cap) {
        return PC_OK;
    }
    cap = q->cap < 64 ? 64 : 2 * q->cap;
    v = pc_malloc(cap * sizeof(*v));
    if (v == NULL) {
        return PC_ENOMEM;
    }
    for (size_t i = 0; i < q->len; i++) {
        v[i] = q->v[(q->head + i) % q->cap];
    }
    pc_free(q->v);
    q->v = v;
    q->cap = cap;
    q->head = 0;
    return PC_OK;
}

void
fsm_idem_expire(struct fsm *f, int64_t now_ms)
{
    struct fsm_idem_queue *q = &f->idem_q;

    while (q->len > 0) {
        struct fsm_idem *e = q->v[q->head];

        if (now_ms - e->time_ms < FSM_IDEM_WINDOW_MS) {
            break;
        }
        if (!e->superseded) {
            pc_map_del(&f->idem, e->key, e->key_len);
        }
        pc_free(e);
        q->head = (q->head + 1) % q->cap;
        q->len--;
    }
    if (q->len == 0) {
        q->head = 0;
    }
}

/* The fact's idem_key field is "<key>#<hex fingerprint>" (docs/format.md). */
static int
derive_idem(struct fsm *f, const struct fact *fact)
{
    struct fsm_idem *e;
    const uint8_t *hash = memchr(fact->idem_key.p, '#', fact->idem_key.len);
    size_t klen, hlen;
    struct pc_buf k;
    void *old = NULL;
    int rc;

    if (hash == NULL) {
        return PC_OK;
    }
    klen = (size_t)(hash - fact->idem_key.p);
    hlen = fact->idem_key.len - klen - 1;
    pc_buf_init(&k);
    rc = fsm_idem_key(&k, fact->principal,
                      (struct pc_slice){ fact->idem_key.p, klen });
    rc = rc == PC_OK ? idem_reserve(&f->idem_q) : rc;
    e = rc == PC_OK ? pc_calloc(1, sizeof(*e) + k.len) : NULL;
    if (e == NULL) {
        pc_buf_release(&k);
        return PC_ENOMEM;
    }
    if (!pc_unhex(e->fingerprint, CMD_FINGERPRINT_LEN, (const char *)hash + 1,
                  hlen)) {
        pc_buf_release(&k);
        pc_free(e);
        return PC_OK;
    }
    e->rev = fact->revision;
    e->time_ms = fact->time_ms;
    e->key_len = k.len;
    memcpy(e->key, k.data, k.len);
    pc_buf_release(&k);
    if (pc_map_put(&f->idem, e->key, e->key_len, e, &old) != PC_OK) {
        pc_free(e);
        return PC_ENOMEM;
    }
    if (old != NULL) {
        /* Still in the queue, which frees it in its turn. */
        ((struct fsm_idem *)old)->superseded = true;
    }
    f->idem_q.v[(f->idem_q.head + f->idem_q.len) % f->idem_q.cap] = e;
    f->idem_q.len++;
    return PC_OK;
}

int
fsm_idem_key(struct pc_buf *out, struct pc_slice principal, struct pc_slice key)
{
    if (pc_buf_put(out, principal.p, principal.len) || pc_buf_put_u8(out, 0) ||
        pc_buf_put(out, key.p, key.len)) {
        return PC_ENOMEM;
    }
    return PC_OK;
}

/* Whether fsm_derive parses the payload of facts of `kind` for state of
 * their own (every fact also feeds the reports' counters and the audit
 * log's index, and may carry an Idempotency-Key). */
static bool
fsm_derives(uint32_t kind)
{
    switch (kind) {
    case FACT_CLUSTER:
    case FACT_ORG:
    case FACT_PRINCIPAL:
    case FACT_MEMBER:
    case FACT_ENTRY:
    case FACT_SHARE_REQUEST:
    case FACT_GRANT:
    case FACT_CALENDAR:
    case FACT_OPEN_REQUEST:
    case FACT_OBJECTION:
    case FACT_REDACTION:
    case FACT_REJECTION:
        return true;
    default:
        return false;
    }
}

/* Update the derived state for one appended (or loaded) fact. */
int
fsm_derive(struct fsm *f, const struct fact *fact)
{
    const struct jcs_val *p = NULL;
    struct jcs_doc *d = NULL;
    int rc = PC_OK;

    if (fact->idem_key.len > 0) {
        rc = derive_idem(f, fact);
        if (rc != PC_OK) {
            return rc;
        }
    }
    if (!fsm_derives(fact->kind)) {
        rc = fsm_reports_fact(f, fact, NULL);
        return rc == PC_OK ? fsm_audit_log_fact(f, fact, NULL) : rc;
    }
    rc = jcs_parse((const char *)fact->payload.p, fact->payload.len, &d, NULL);
    if (rc != PC_OK) {
        /* Canonical JSON this code wrote: anything but OOM is damage. */
        return rc == PC_ENOMEM ? rc : PC_ECORRUPT;
    }
    p = jcs_root(d);
    switch (fact->kind) {
    case FACT_CLUSTER:
        pc_free(f->cluster_id);
        f->cluster_id = fsm_get_dup(p, "cluster_id");
        rc = f->cluster_id == NULL ? PC_ENOMEM : PC_OK;
        break;
    case FACT_ORG:
        rc = derive_org(f, fact, p);
        break;
    case FACT_PRINCIPAL:
        rc = derive_principal(f, fact, p);
        break;
    case FACT_MEMBER:
        rc = derive_member(f, fact, p);
        break;
    case FACT_ENTRY:
        rc = fsm_derive_entry(f, fact, p);
        if (rc == PC_OK) {
            rc = fsm_share_entry_changed(f, fact); /* may end grants */
        }
        if (rc == PC_OK) {
            rc = fsm_reports_entry(f, fact, p);
        }
        break;
    case FACT_SHARE_REQUEST:
    case FACT_GRANT:
        rc = fsm_derive_share(f, fact, p);
        break;
    case FACT_CALENDAR:
    case FACT_OPEN_REQUEST:
        rc = fsm_derive_open(f, fact, p);
        break;
    case FACT_OBJECTION:
        rc = fsm_derive_objection(f, fact, p);
        break;
    case FACT_REDACTION:
        rc = fsm_derive_redaction(f, fact, p);
        break;
    }
    if (rc == PC_OK) {
        rc = fsm_reports_fact(f, fact, p);
    }
    if (rc == PC_OK) {
        rc = fsm_audit_log_fact(f, fact, p);
    }
    jcs_doc_free(d);
    return rc;
}

/* Rebuild every derived structure from the ledger. */
static int
rebuild(struct fsm *f, char *errmsg)
{
    uint64_t n = led_count(f->led);
    struct fact fact;

    derived_release(f);
    for (uint64_t rev = 1; rev <= n; rev++) {
        if (led_get(f->led, rev, &fact) != PC_OK) {
            return pc_errmsgf(errmsg, PC_ECORRUPT, "fact %llu missing",
                              (unsigned long long)rev);
        }
        fsm_idem_expire(f, fact.time_ms);
        int rc = fsm_derive(f, &fact);
        if (rc == PC_OK && fact.kind == FACT_RECORD) {
            rc = fsm_digest_record(f, &fact);
        }
        if (rc != PC_OK) {
            return pc_errmsgf(errmsg, rc, "rebuild at fact %llu: %s",
                              (unsigned long long)rev, pc_strerror(rc));
        }
    }
    fsm_redactions_reapply(f);
    return PC_OK;
}

/* ---- lifecycle -------------------------------------------------------- */

int
fsm_new(struct fsm **out)
{
    struct fsm *f = pc_calloc(1, sizeof(*f));

    if (f == NULL) {
        return PC_ENOMEM;
    }
    f->open = fsm_open_new();
    if (f->open == NULL || led_new(&f->led) != PC_OK) {
        pc_free(f->open);
        pc_free(f);
        return PC_ENOMEM;
    }
    if (fsm_objections_new(&f->obj) != PC_OK) {
        led_free(f->led);
        fsm_open_free(f->open);
        pc_free(f);
        return PC_ENOMEM;
    }
    if (fsm_share_new(&f->share) != PC_OK) {
        led_free(f->led);
        fsm_open_free(f->open);
        fsm_objections_free(f->obj);
        pc_free(f);
        return PC_ENOMEM;
    }
    if (fsm_reports_new(&f->rep) != PC_OK ||
        fsm_audit_log_new(&f->alog) != PC_OK) {
        fsm_reports_free(f->rep);
        fsm_share_free(f->share);
        led_free(f->led);
        fsm_open_free(f->open);
        fsm_objections_free(f->obj);
        pc_free(f);
        return PC_ENOMEM;
    }
    pc_map_init(&f->orgs);
    pc_map_init(&f->principals);
    pc_map_init(&f->tokens);
    pc_map_init(&f->members);
    pc_map_init(&f->idem);
    pc_map_init(&f->entries);
    pc_map_init(&f->digests);
    f->org_ids_stale = true;
    *out = f;
    return PC_OK;
}

void
fsm_free(struct fsm *f)
{
    if (f == NULL) {
        return;
    }
    derived_release(f);
    fsm_share_free(f->share);
    fsm_open_free(f->open);
    fsm_objections_free(f->obj);
    fsm_reports_free(f->rep);
    fsm_audit_log_free(f->alog);
    led_free(f->led);
    pc_free(f->results);
    pc_free(f);
}

struct led *
fsm_led(const struct fsm *f)
{
    return f->led;
}

const char *
fsm_cluster_id(const struct fsm *f)
{
    return f->cluster_id;
}

int
fsm_restore(struct fsm *f, struct led *l, char *errmsg)
{
    struct led *old = f->led;
    int rc;

    f->led = l;
    rc = rebuild(f, errmsg);
    if (rc != PC_OK) {
        f->led = old;
        if (rebuild(f, NULL) != PC_OK) {
            /* Out of memory twice: leave derived state empty but safe. */
            derived_release(f);
        }
        return rc;
    }
    led_release(old); /* a backup may still be reading it */
    return PC_OK;
}

/* ---- queries ---------------------------------------------------------- */

const struct fsm_org *
fsm_org(const struct fsm *f, const char *id)
{
    return pc_map_get(&f->orgs, id, strlen(id));
}

const struct fsm_principal *
fsm_principal(const struct fsm *f, const char *id)
{
    return pc_map_get(&f->principals, id, strlen(id));
}

const struct fsm_principal *
fsm_principal_by_token(const struct fsm *f, const uint8_t h[PC_HASH_LEN])
{
    const struct fsm_principal *p = pc_map_get(&f->tokens, h, PC_HASH_LEN);

    return p != NULL && p->active ? p : NULL;
}

const struct fsm_entry *
fsm_entry(const struct fsm *f, const char *id)
{
    return pc_map_get(&f->entries, id, strlen(id));
}

const char *
fsm_member_url(const struct fsm *f, uint64_t id)
{
    char key[24];

    snprintf(key, sizeof(key), "%llu", (unsigned long long)id);
    return pc_map_get(&f->members, key, strlen(key));
}

size_t
fsm_idem_count(const struct fsm *f)
{
    return f->idem.len;
}

static bool
collect_id_cb(void *arg, const void *key, size_t klen, void *val)
{
    struct fsm *f = arg;

    (void)key, (void)klen;
    f->org_ids[f->n_org_ids++] = ((struct fsm_org *)val)->id;
    return true;
}

int
fsm_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
fsm_org_ids(const struct fsm *f, const char ***ids, size_t *n)
{
    struct fsm *m = (struct fsm *)f; /* a cache, not state */

    if (m->org_ids_stale) {
        const char **a = pc_calloc(f->orgs.len + 1, sizeof(*a));

        if (a == NULL) {
            return PC_ENOMEM;
        }
        pc_free(m->org_ids);
        m->org_ids = a;
        m->n_org_ids = 0;
        pc_map_each(&f->orgs, collect_id_cb, m);
        qsort(m->org_ids, m->n_org_ids, sizeof(*a), fsm_cmp_str);
        m->org_ids_stale = false;
    }
    *ids = m->org_ids;
    *n = m->n_org_ids;
    return PC_OK;
}

bool
fsm_authority_over(const struct fsm *f, const struct fsm_principal *p,
                   const char *org_id)
{
    const struct fsm_org *home, *o;

    if (p == NULL || !p->active || !(p->roles & FSM_ROLE_AUTHORITY) ||
        p->org == NULL) {
        return false;
    }
    home = fsm_org(f, p->org);
    if (home == NULL || !home->authority) {
        return false;
    }
    if (strcmp(home->level, "province") == 0 && home->parent == NULL) {
        return true; /* the provincial authority's scope is everything */
    }
    /* A city authority: its own subtree. Parent chains are acyclic because
     * an org's parent must exist before it; the bound guards anyway. */
    o = org_id == NULL ? NULL : fsm_org(f, org_id);
    for (int depth = 0; o != NULL && depth < 64; depth++) {
        if (strcmp(o->id, home->id) == 0) {
            return true;
        }
        o = o->parent == NULL ? NULL : fsm_org(f, o->parent);
    }
    return false;
}

/* ---- apply ------------------------------------------------------------ */

size_t
fsm_results(const struct fsm *f, const struct fsm_result **out)
{
    *out = f->results;
    return f->n_results;
}

int
fsm_emit_canonical(struct fsm_ctx *c, uint32_t kind, struct pc_slice parent,
                   struct pc_slice id, struct pc_slice payload,
                   const struct led_doc *doc)
{
    struct fact fact;
    struct pc_buf ik;
    char hex[2 * CMD_FINGERPRINT_LEN + 1];
    int rc;

    memset(&fact, 0, sizeof(fact));
    pc_buf_init(&ik);
    fact.format = FACT_FORMAT_VERSION;
    fact.kind = kind;
    fact.time_ms = c->now;
    fact.principal = c->cmd->principal.len > 0 ? c->cmd->principal
                                               : PC_SLICE_STR(FSM_SYSTEM);
    fact.request_id = c->cmd->request_id;
    if (c->n_facts == 0 && c->cmd->idem_key.len > 0) {
        pc_hex(hex, c->cmd->fingerprint, CMD_FINGERPRINT_LEN);
        if (pc_buf_put(&ik, c->cmd->idem_key.p, c->cmd->idem_key.len) ||
            pc_buf_put_u8(&ik, '#') || pc_buf_put(&ik, hex, strlen(hex))) {
            rc = PC_ENOMEM;
            goto out;
        }
        fact.idem_key = (struct pc_slice){ ik.data, ik.len };
    }
    fact.parent = parent;
    fact.id = id;
    fact.payload = payload;
    rc = led_append_next(c->f->led, &fact, doc, c->raft_index, c->errmsg);
    if (rc != PC_OK) {
        goto out;
    }
    if (c->n_facts == 0) {
        c->first_rev = fact.revision;
    }
    c->n_facts++;
    fsm_idem_expire(c->f, fact.time_ms); /* as rebuild does, fact by fact */
    if (fact.idem_key.len > 0 || fsm_derives(kind)) {
        /* Derive from the stored copy: `fact` borrows buffers freed below. */
        struct fact stored;
        rc = led_get(c->f->led, fact.revision, &stored);
        if (rc == PC_OK) {
            rc = fsm_derive(c->f, &stored);
        }
    } else {
        /* Only counted and indexed (what fsm_derive does for such facts),
         * from `fact`, which holds what was stored (led_append_next). */
        rc = fsm_reports_fact(c->f, &fact, NULL);
        if (rc == PC_OK) {
            rc = fsm_audit_log_fact(c->f, &fact, NULL);
        }
    }
    if (rc == PC_OK && kind == FACT_RECORD) {
        rc = fsm_digest_record(c->f, &fact);
    }
out:
    pc_buf_release(&ik);
    return rc;
}

int
fsm_emit_w(struct fsm_ctx *c, uint32_t kind, struct pc_slice parent,
           struct pc_slice id, struct jcs_writer *w)
{
    int rc = jcs_w_finish(w);

    if (rc != PC_OK) {
        return rc;
    }
    return fsm_emit_canonical(
        c, kind, parent, id,
        (struct pc_slice){ w->out->data + w->start, w->out->len - w->start },
        NULL);
}

int
fsm_detail(struct pc_buf *out, int64_t current, const char *field, long index,
           struct pc_slice key)
{
    struct jcs_writer w;

    jcs_w_init(&w, out);
    jcs_w_obj(&w);
    if (current >= 0) {
        jcs_w_kint(&w, "current_version", current);
    }
    if (field != NULL) {
        jcs_w_kstr(&w, "field", field);
    }
    if (index >= 0) {
        jcs_w_kint(&w, "index", index);
    }
    if (key.len > 0) {
        jcs_w_key(&w, "key");
        jcs_w_strn(&w, (const char *)key.p, key.len);
    }
    jcs_w_obj_end(&w);
    return jcs_w_finish(&w);
}

static int reject_v(struct fsm_ctx *c, int status, const char *code,
                    struct pc_slice parent, struct pc_slice id,
                    const struct pc_buf *detail, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

static int
reject_v(struct fsm_ctx *c, int status, const char *code,
         struct pc_slice parent, struct pc_slice id,
         const struct pc_buf *detail, const char *fmt, va_list ap)
{
    struct jcs_writer w;
    struct pc_buf p;
    int rc;

    c->status = status;
    snprintf(c->code, sizeof(c->code), "%s", code);
    vsnprintf(c->message, sizeof(c->message), fmt, ap);
    /* A name cut by %.64s may end mid-character; JSON needs valid UTF-8. */
    if (!jcs_utf8_valid((const uint8_t *)c->message, strlen(c->message))) {
        for (char *m = c->message; *m != '\0'; m++) {
            *m = (uint8_t)*m >= 0x80 ? '?' : *m;
        }
    }
    pc_buf_init(&p);
    jcs_w_init(&w, &p);
    jcs_w_obj(&w);
    jcs_w_kstr(&w, "code", code);
    jcs_w_kstr(&w, "command", cmd_type_name(c->cmd->type) ?: "unknown");
    if (detail != NULL) {
        jcs_w_key(&w, "detail");
        jcs_w_raw(&w, detail->data, detail->len);
    }
    jcs_w_kstr(&w, "message", c->message);
    jcs_w_kint(&w, "status", status);
    jcs_w_obj_end(&w);
    rc = fsm_emit_w(c, FACT_REJECTION, parent, id, &w);
    pc_buf_release(&p);
    return rc;
}

int
fsm_reject(struct fsm_ctx *c, int status, const char *code,
           struct pc_slice parent, struct pc_slice id, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = reject_v(c, status, code, parent, id, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int
fsm_reject_detail(struct fsm_ctx *c, int status, const char *code,
                  struct pc_slice parent, struct pc_slice id,
                  const struct pc_buf *detail, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = reject_v(c, status, code, parent, id, detail, fmt, ap);
    va_end(ap);
    return rc;
}

/* Rebuild the answer to a repeated command from its original facts:
 * PC_OK or PC_ENOMEM. */
static int
replay(struct fsm *f, const struct fsm_idem *e, const struct cmd *cmd,
       struct fsm_result *res)
{
    struct fact first, fact;
    const struct jcs_val *v;
    struct jcs_doc *d;
    const char *s;
    size_t len;
    int rc;

    memset(res, 0, sizeof(*res));
    res->replayed = true;
    res->first_rev = e->rev;
    if (led_get(f->led, e->rev, &first) != PC_OK) {
        res->status = 500;
        return PC_OK;
    }
    for (uint64_t r = e->rev; led_get(f->led, r, &fact) == PC_OK; r++) {
        if (fact.request_id.len != first.request_id.len ||
            memcmp(fact.request_id.p, first.request_id.p,
                   first.request_id.len) != 0) {
            break;
        }
        res->n_facts++;
    }
    res->revision = res->first_rev + res->n_facts - 1;
    if (first.kind != FACT_REJECTION) {
        res->status = fsm_success_status(cmd->type);
        return fsm_records_replay_status(cmd->type, &first, &res->status);
    }
    rc = jcs_parse((const char *)first.payload.p, first.payload.len, &d, NULL);
    if (rc != PC_OK) {
        return rc == PC_ENOMEM ? rc : PC_ECORRUPT;
    }
    v = fsm_get(jcs_root(d), "status");
    res->status = v != NULL ? (int)jcs_number(v) : 0;
    s = fsm_get_str(jcs_root(d), "code", &len);
    snprintf(res->code, sizeof(res->code), "%.*s", s ? (int)len : 7,
             s ?: "invalid");
    s = fsm_get_str(jcs_root(d), "message", &len);
    snprintf(res->message, sizeof(res->message), "%.*s", s ? (int)len : 0,
             s ?: "");
    jcs_doc_free(d);
    return PC_OK;
}

static int
ensure_results(struct fsm *f, size_t n)
{
    if (n > f->cap_results) {
        struct fsm_result *r = pc_realloc(f->results, n * sizeof(*r));

        if (r == NULL) {
            return PC_ENOMEM;
        }
        f->results = r;
        f->cap_results = n;
    }
    return PC_OK;
}

static int
apply_one(struct fsm *f, const struct cmd *cmd, uint64_t raft_index,
          struct fsm_result *res, char *errmsg)
{
    struct fsm_ctx c;
    int rc;

    memset(&c, 0, sizeof(c));
    memset(res, 0, sizeof(*res));
    c.f = f;
    c.cmd = cmd;
    c.raft_index = raft_index;
    c.errmsg = errmsg;
    c.now = cmd->time_ms > led_time(f->led) ? cmd->time_ms : led_time(f->led);
    if (c.now < 0) {
        c.now = 0;
    }
    if (cmd->idem_key.len > 0) {
        struct pc_buf k;
        struct fsm_idem *e;

        pc_buf_init(&k);
        if (fsm_idem_key(&k, cmd->principal, cmd->idem_key) != PC_OK) {
            pc_buf_release(&k);
            return PC_ENOMEM;
        }
        e = pc_map_get(&f->idem, k.data, k.len);
        pc_buf_release(&k);
        if (e != NULL && c.now - e->time_ms < FSM_IDEM_WINDOW_MS) {
            if (memcmp(e->fingerprint, cmd->fingerprint, CMD_FINGERPRINT_LEN) !=
                0) {
                res->status = 422;
                snprintf(res->code, sizeof(res->code), "idempotency_mismatch");
                snprintf(res->message, sizeof(res->message),
                         "this Idempotency-Key was used with another "
                         "method, path or body");
                return PC_OK;
            }
            return replay(f, e, cmd, res);
        }
    }
    c.status = fsm_success_status(cmd->type);
    rc = fsm_rules_apply(&c);
    if (rc != PC_OK) {
        return rc;
    }
    res->status = c.status;
    res->first_rev = c.first_rev;
    res->n_facts = c.n_facts;
    res->revision = led_count(f->led);
    memcpy(res->code, c.code, sizeof(res->code));
    memcpy(res->message, c.message, sizeof(res->message));
    return PC_OK;
}

int
fsm_apply(struct fsm *f, const void *entry, size_t len, uint64_t raft_index,
          char *errmsg)
{
    struct cmd_iter it;
    struct cmd cmd;
    uint64_t start = led_count(f->led);
    size_t n = 0;
    int rc;

    if (f->derived_broken) {
        if (rebuild(f, errmsg) != PC_OK) {
            return PC_ENOMEM;
        }
        f->derived_broken = false;
    }
    fsm_redactions_forget(f);
    rc = cmd_entry_open(&it, entry, len, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    rc = ensure_results(f, it.left);
    if (rc != PC_OK) {
        return rc;
    }
    while ((rc = cmd_entry_next(&it, &cmd, errmsg)) == 1) {
        if (cmd.rules != CMD_RULES_VERSION) {
            rc = pc_errmsgf(
                errmsg, PC_EVERSION,
                "entry %llu was proposed under rules version %u; this build "
                "applies version %u only: %s (docs/node.md, Upgrading)",
                (unsigned long long)raft_index, cmd.rules, CMD_RULES_VERSION,
                cmd.rules > CMD_RULES_VERSION
                    ? "run a build that knows it on this node"
                    : "a log of an older version is moved to this one "
                      "through a backup and a restore");
            goto undo;
        }
        rc = apply_one(f, &cmd, raft_index, &f->results[n], errmsg);
        if (rc != PC_OK) {
            goto undo;
        }
        n++;
    }
    if (rc < 0) {
        goto undo;
    }
    f->n_results = n;
    fsm_redactions_commit(f);
    return PC_OK;

undo:
    /* All or nothing per entry: raft offers the entry again later. */
    fsm_redactions_forget(f);
    led_truncate(f->led, start);
    if (rebuild(f, NULL) != PC_OK) {
        derived_release(f);
        f->derived_broken = true;
    }
    f->n_results = 0;
    return rc;
}
