/* SPDX-License-Identifier: MIT */
/*
 * Objections and redaction (regulation articles 14 and 16). Any principal
 * files an objection on a record of an entry it can see (error, omission,
 * personal information, trade secret); the authority in the entry's scope
 * accepts or rejects it with a reason; a correction naming an accepted
 * objection resolves it (rules_records.c calls fsm_objection_resolve), and
 * for an accepted personal-information or trade-secret objection the
 * authority may redact a named version: a REDACTION fact, after which the
 * version's document and salt are dropped from the ledger (its hashes
 * stay). An objection is a versioned OBJECTION fact (id "ob-<rev>", no
 * parent) whose every version carries the whole object.
 *
 * Derived state (struct fsm_objections), rebuilt from the facts: objections
 * by id and in order of creation, per entry the count of unsettled ones
 * (open or accepted: the quality report's), per record the objections that
 * name it (disputed while one is accepted), and the redaction facts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/jcs.h"
#include "common/timefmt.h"
#include "node/fsm/fsm_int.h"
#include "storage/idx.h"

#define NO_SLICE   ((struct pc_slice){ NULL, 0 })
#define TEXT_MAX   4096 /* bytes of a description or a reason */
#define MSG_LEN    200
#define ID_PREFIX  "ob-"
#define ID_MAX_LEN (3 + 19)

/* ---- names and syntax ------------------------------------------------- */

static const char *const kind_names[] = { "error", "omission",
                                          "personal_information",
                                          "trade_secret" };
static const char *const status_names[] = { "open", "accepted", "rejected",
                                            "resolved" };

static int
name_index(const char *const *names, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; s != NULL && i < n; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
            return (int)i;
        }
    }
    return -1;
}

#define KIND_OF(s, len)   name_index(kind_names, 4, s, len)
#define STATUS_OF(s, len) name_index(status_names, 4, s, len)

int
fsm_objection_kind_parse(const char *name)
{
    return name == NULL ? -1 : KIND_OF(name, strlen(name));
}

int
fsm_objection_status_parse(const char *name)
{
    return name == NULL ? -1 : STATUS_OF(name, strlen(name));
}

bool
fsm_objection_id_valid(const char *s, size_t len)
{
    if (len <= 3 || len > ID_MAX_LEN || memcmp(s, ID_PREFIX, 3) != 0 ||
        s[3] == '0') {
        return false;
    }
    for (size_t i = 3; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

/* The body's unknown member (named in `field`), if any: false then. */
static bool
members_ok(const struct jcs_val *o, const char *const *allowed, char *msg,
           char *field)
{
    const char *u = fsm_unknown_member(o, allowed);

    if (u != NULL) {
        snprintf(field, FSM_FIELD_LEN, "%.63s", u);
        snprintf(msg, MSG_LEN, "unknown member \"%.64s\" in the body", u);
        return false;
    }
    return true;
}

static bool
filing_valid(const struct jcs_val *o, char *msg, char *field)
{
    static const char *const allowed[] = { "entry", "key", "kind",
                                           "description", NULL };
    const char *s;
    size_t len;
    bool ok;

    if (!members_ok(o, allowed, msg, field)) {
        return false;
    }
    s = fsm_get_str(o, "entry", &len);
    if (s == NULL || !fsm_id_valid(s, len)) {
        return fsm_check_fail(msg, field, "entry",
                              "\"entry\" must be a catalog entry id");
    }
    s = fsm_get_str(o, "key", &len);
    if (s == NULL) {
        return fsm_check_fail(msg, field, "key",
                              "\"key\" (the record key) is required");
    }
    if (fsm_record_key_check(s, len, &ok) != PC_OK || !ok) {
        return fsm_check_fail(
            msg, field, "key",
            "a record key is 1-512 bytes of UTF-8 in NFC without "
            "control characters, and not \".\" or \"..\"");
    }
    s = fsm_get_str(o, "kind", &len);
    if (KIND_OF(s, len) < 0) {
        return fsm_check_fail(
            msg, field, "kind",
            "\"kind\" must be error, omission, personal_information "
            "or trade_secret");
    }
    if (!fsm_text_ok(fsm_get(o, "description"), TEXT_MAX)) {
        return fsm_check_fail(
            msg, field, "description",
            "\"description\" (non-blank, at most 4096 bytes) is "
            "required");
    }
    return true;
}

static bool
decision_valid(const struct jcs_val *o, char *msg, char *field)
{
    static const char *const allowed[] = { "decision", "reason", NULL };
    const char *s;
    size_t len;

    if (!members_ok(o, allowed, msg, field)) {
        return false;
    }
    s = fsm_get_str(o, "decision", &len);
    if (s == NULL || !((len == 6 && memcmp(s, "accept", 6) == 0) ||
                       (len == 6 && memcmp(s, "reject", 6) == 0))) {
        return fsm_check_fail(msg, field, "decision",
                              "\"decision\" must be accept or reject");
    }
    if (!fsm_text_ok(fsm_get(o, "reason"), TEXT_MAX)) {
        return fsm_check_fail(
            msg, field, "reason",
            "\"reason\" (non-blank, at most 4096 bytes) is required");
    }
    return true;
}

static bool
redaction_valid(const struct jcs_val *o, char *msg, char *field)
{
    static const char *const allowed[] = { "objection", "reason", NULL };
    const char *s;
    size_t len;

    if (!members_ok(o, allowed, msg, field)) {
        return false;
    }
    s = fsm_get_str(o, "objection", &len);
    if (s == NULL || !fsm_objection_id_valid(s, len)) {
        return fsm_check_fail(msg, field, "objection",
                              "\"objection\" must be an objection id (ob-<n>)");
    }
    if (!fsm_text_ok(fsm_get(o, "reason"), TEXT_MAX)) {
        return fsm_check_fail(
            msg, field, "reason",
            "\"reason\" (non-blank, at most 4096 bytes) is required");
    }
    return true;
}

bool
fsm_objection_body_valid(const void *body, size_t len, char *msg, char *field)
{
    return fsm_body_valid(body, len, filing_valid, msg, field);
}

bool
fsm_objection_decision_valid(const void *body, size_t len, char *msg,
                             char *field)
{
    return fsm_body_valid(body, len, decision_valid, msg, field);
}

bool
fsm_redaction_body_valid(const void *body, size_t len, char *msg, char *field)
{
    return fsm_body_valid(body, len, redaction_valid, msg, field);
}

/* ---- derived state ---------------------------------------------------- */

/* The objections naming one record, in order of creation. */
struct rec_objs {
    struct fsm_objection **v;
    size_t n, cap;
};

struct fsm_objections {
    struct pc_map by_id;         /* id -> struct fsm_objection (owned here) */
    struct pc_map unsettled;     /* entry id -> uint64_t count (owned) */
    struct pc_map by_record;     /* entry NUL key -> struct rec_objs (owned) */
    struct fsm_objection **list; /* in order of creation (borrowed) */
    size_t n, cap;
    uint64_t *red_facts;  /* revisions of the redaction facts */
    uint64_t *red_target; /* the record version each one redacted */
    size_t n_red, cap_red, cap_target;
    uint64_t *pending; /* versions to redact once the entry applied */
    size_t n_pending, cap_pending;
};

/* The values of the maps (pc_map_free_cb). */
static void
objection_free(void *val)
{
    struct fsm_objection *o = val;

    if (o != NULL) {
        pc_free(o->id);
        pc_free(o->entry);
        pc_free(o->key);
        pc_free(o->filer);
        pc_free(o);
    }
}

static void
rec_objs_free(void *val)
{
    struct rec_objs *r = val;

    pc_free(r->v);
    pc_free(r);
}

int
fsm_objections_new(struct fsm_objections **out)
{
    struct fsm_objections *o = pc_calloc(1, sizeof(*o));

    if (o == NULL) {
        return PC_ENOMEM;
    }
    pc_map_init(&o->by_id);
    pc_map_init(&o->unsettled);
    pc_map_init(&o->by_record);
    *out = o;
    return PC_OK;
}

void
fsm_objections_clear(struct fsm_objections *o)
{
    if (o == NULL) {
        return;
    }
    pc_map_release_values(&o->by_id, objection_free);
    pc_map_release_values(&o->unsettled, pc_free);
    pc_map_release_values(&o->by_record, rec_objs_free);
    pc_free(o->list);
    pc_free(o->red_facts);
    pc_free(o->red_target);
    pc_free(o->pending);
    memset(o, 0, sizeof(*o));
}

void
fsm_objections_free(struct fsm_objections *o)
{
    fsm_objections_clear(o);
    pc_free(o);
}

/*
 * `v` (`*cap` elements of `size` bytes) grown to hold `need`: the array to
 * use from now on, or NULL (out of memory, `v` and `*cap` untouched).
 */
static void *
grow(void *v, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 8;
    void *p;

    if (need <= *cap) {
        return v;
    }
    while (n < need) {
        n *= 2;
    }
    p = pc_realloc(v, n * size);
    if (p != NULL) {
        *cap = n;
    }
    return p;
}

/* "entry NUL key", the by_record map's key. */
static int
record_key(struct pc_buf *b, struct pc_slice entry, struct pc_slice key)
{
    return pc_buf_put(b, entry.p, entry.len) || pc_buf_put_u8(b, 0) ||
                   pc_buf_put(b, key.p, key.len)
               ? PC_ENOMEM
               : PC_OK;
}

static bool
unsettled(enum fsm_objection_status s)
{
    return s == FSM_OBJECTION_OPEN || s == FSM_OBJECTION_ACCEPTED;
}

/* Add `delta` (+1 or -1) to the unsettled count of `entry`. */
static int
count_unsettled(struct fsm_objections *o, const char *entry, int delta)
{
    uint64_t *n = delta < 0 ? pc_map_get(&o->unsettled, entry, strlen(entry))
                            : pc_map_get_or_add(&o->unsettled, entry,
                                                strlen(entry), sizeof(*n));

    if (n == NULL) {
        /* A decrement finding no count cannot happen: counted when filed. */
        return delta < 0 ? PC_OK : PC_ENOMEM;
    }
    *n = delta < 0 ? *n - 1 : *n + 1;
    return PC_OK;
}

/* A new objection from its first version's payload, registered everywhere
 * (owned by by_id as soon as it is in it). */
static int
objection_add(struct fsm_objections *os, const struct fact *fact,
              const struct jcs_val *p, struct fsm_objection **out)
{
    struct fsm_objection *o = pc_calloc(1, sizeof(*o));
    struct fsm_objection **list;
    const char *entry, *key, *filer, *kind;
    size_t elen, klen, flen, kl;
    struct rec_objs *r;
    struct pc_buf rk;
    int rc;

    entry = fsm_get_str(p, "entry", &elen);
    key = fsm_get_str(p, "key", &klen);
    filer = fsm_get_str(p, "filer", &flen);
    kind = fsm_get_str(p, "kind", &kl);
    if (o == NULL) {
        return PC_ENOMEM;
    }
    if (entry == NULL || key == NULL || filer == NULL ||
        KIND_OF(kind, kl) < 0) {
        pc_free(o);
        return PC_ECORRUPT; /* a payload this code wrote */
    }
    o->id = pc_strndup((const char *)fact->id.p, fact->id.len);
    o->entry = pc_strndup(entry, elen);
    o->key = pc_strndup(key, klen); /* keys hold no NUL (their syntax) */
    o->filer = pc_strndup(filer, flen);
    o->kind = (enum fsm_objection_kind)KIND_OF(kind, kl);
    o->first_rev = fact->revision;
    if (o->id == NULL || o->entry == NULL || o->key == NULL ||
        o->filer == NULL ||
        pc_map_put(&os->by_id, o->id, strlen(o->id), o, NULL) != PC_OK) {
        objection_free(o);
        return PC_ENOMEM;
    }
    list = grow(os->list, &os->cap, os->n + 1, sizeof(*os->list));
    if (list == NULL) {
        return PC_ENOMEM;
    }
    os->list = list;
    os->list[os->n++] = o;
    pc_buf_init(&rk);
    rc = record_key(&rk, PC_SLICE_STR(o->entry),
                    (struct pc_slice){ (const uint8_t *)key, klen });
    r = rc == PC_OK
            ? pc_map_get_or_add(&os->by_record, rk.data, rk.len, sizeof(*r))
            : NULL;
    pc_buf_release(&rk);
    list = r != NULL ? grow(r->v, &r->cap, r->n + 1, sizeof(*r->v)) : NULL;
    if (list == NULL) {
        return PC_ENOMEM;
    }
    r->v = list;
    r->v[r->n++] = o;
    *out = o;
    return PC_OK;
}

int
fsm_derive_objection(struct fsm *f, const struct fact *fact,
                     const struct jcs_val *p)
{
    struct fsm_objections *os = f->obj;
    struct fsm_objection *o;
    const char *st;
    size_t len;
    int status, rc;
    bool was;

    st = fsm_get_str(p, "status", &len);
    status = STATUS_OF(st, len);
    if (status < 0) {
        return PC_ECORRUPT;
    }
    o = pc_map_get(&os->by_id, fact->id.p, fact->id.len);
    if (o == NULL) {
        rc = objection_add(os, fact, p, &o);
        if (rc != PC_OK) {
            return rc;
        }
        was = false;
    } else {
        was = unsettled(o->status);
    }
    o->status = (enum fsm_objection_status)status;
    o->rev = fact->revision;
    if (was != unsettled(o->status)) {
        return count_unsettled(os, o->entry, was ? -1 : 1);
    }
    return PC_OK;
}

int
fsm_derive_redaction(struct fsm *f, const struct fact *fact,
                     const struct jcs_val *p)
{
    struct fsm_objections *os = f->obj;
    const struct jcs_val *v = fsm_get(p, "record_revision");

    if (v == NULL || !jcs_is_integer(v) || jcs_number(v) < 1) {
        return PC_ECORRUPT;
    }
    uint64_t *a;

    a = grow(os->red_facts, &os->cap_red, os->n_red + 1, sizeof(*a));
    if (a == NULL) {
        return PC_ENOMEM;
    }
    os->red_facts = a;
    a = grow(os->red_target, &os->cap_target, os->n_red + 1, sizeof(*a));
    if (a == NULL) {
        return PC_ENOMEM;
    }
    os->red_target = a;
    os->red_facts[os->n_red] = fact->revision;
    os->red_target[os->n_red] = (uint64_t)jcs_number(v);
    os->n_red++;
    return PC_OK;
}

void
fsm_redactions_reapply(struct fsm *f)
{
    for (size_t i = 0; i < f->obj->n_red; i++) {
        led_redact(f->led, f->obj->red_target[i]);
    }
}

void
fsm_redactions_commit(struct fsm *f)
{
    struct fsm_objections *os = f->obj;

    for (size_t i = 0; i < os->n_pending; i++) {
        led_redact(f->led, os->pending[i]); /* never allocates */
    }
    os->n_pending = 0;
}

void
fsm_redactions_forget(struct fsm *f)
{
    f->obj->n_pending = 0;
}

/* ---- queries ---------------------------------------------------------- */

const struct fsm_objection *
fsm_objection(const struct fsm *f, const char *id)
{
    return pc_map_get(&f->obj->by_id, id, strlen(id));
}

size_t
fsm_objections(const struct fsm *f, const struct fsm_objection *const **out)
{
    *out = (const struct fsm_objection *const *)f->obj->list;
    return f->obj->n;
}

bool
fsm_objection_visible(const struct fsm *f, const struct fsm_principal *p,
                      const struct fsm_objection *o, bool *sees_existence)
{
    const struct fsm_entry *e = fsm_entry(f, o->entry);
    bool privileged;

    if (sees_existence != NULL) {
        *sees_existence = false;
    }
    if (p == NULL || !p->active) {
        return false;
    }
    privileged =
        (p->roles & FSM_ROLE_AUDITOR) ||
        (e != NULL && ((p->org != NULL && strcmp(p->org, e->provider) == 0) ||
                       fsm_entry_authority(f, p, e)));
    if (sees_existence != NULL) {
        *sees_existence = privileged;
    }
    return privileged || strcmp(p->id, o->filer) == 0;
}

uint64_t
fsm_objections_open(const struct fsm *f, const char *entry)
{
    const uint64_t *n = pc_map_get(&f->obj->unsettled, entry, strlen(entry));

    return n != NULL ? *n : 0;
}

size_t
fsm_record_disputes(const struct fsm *f, struct pc_slice entry,
                    struct pc_slice key, const struct fsm_objection **out,
                    size_t max)
{
    uint8_t k[FACT_MAX_ID + 1 + FACT_MAX_ID];
    const struct rec_objs *r;
    size_t n = 0;

    /* Every record read asks: no allocation, and nothing to look up
     * before the first objection. */
    if (f->obj->by_record.len == 0 || entry.len > FACT_MAX_ID ||
        key.len > FACT_MAX_ID) {
        return 0;
    }
    memcpy(k, entry.p, entry.len);
    k[entry.len] = 0;
    memcpy(k + entry.len + 1, key.p, key.len);
    r = pc_map_get(&f->obj->by_record, k, entry.len + 1 + key.len);
    for (size_t i = 0; r != NULL && i < r->n; i++) {
        if (r->v[i]->status == FSM_OBJECTION_ACCEPTED) {
            if (n < max) {
                out[n] = r->v[i];
            }
            n++;
        }
    }
    return n;
}

size_t
fsm_redactions(const struct fsm *f, const uint64_t **revs)
{
    *revs = f->obj->red_facts;
    return f->obj->n_red;
}

/* The objection `id` of `len` bytes, or NULL. */
static const struct fsm_objection *
objection_n(const struct fsm *f, const char *id, size_t len)
{
    return pc_map_get(&f->obj->by_id, id, len);
}

static bool
names_record(const struct fsm_objection *o, const struct fsm_entry *e,
             struct pc_slice key)
{
    return strcmp(o->entry, e->id) == 0 && strlen(o->key) == key.len &&
           memcmp(o->key, key.p, key.len) == 0;
}

bool
fsm_objection_accepted(const struct fsm *f, const char *id, size_t len,
                       const struct fsm_entry *e, struct pc_slice key,
                       bool missing)
{
    const struct fsm_objection *o = objection_n(f, id, len);

    return o != NULL && o->status == FSM_OBJECTION_ACCEPTED &&
           names_record(o, e, key) &&
           (!missing || o->kind == FSM_OBJECTION_OMISSION);
}

/* ---- writing objection versions --------------------------------------- */

/* The members an objection's payload may hold, in canonical order. */
static const char *const members[] = {
    "decision",      "description", "entry",  "filed_at",
    "filer",         "filer_org",   "key",    "kind",
    "record_exists", "resolution",  "status", NULL,
};

/* What a new version changes: its status, and a decision or resolution
 * object (canonical JSON) when it adds one. */
struct change {
    const char *status;
    const struct pc_buf *decision;
    const struct pc_buf *resolution;
};

/*
 * Append the next version of objection `o` (its current payload with the
 * change applied). PC_OK, PC_ENOMEM, PC_EINVAL.
 */
static int
emit_next(struct fsm_ctx *c, const struct fsm_objection *o,
          const struct change *ch)
{
    struct jcs_writer w;
    struct jcs_doc *d;
    struct pc_buf p;
    struct fact fact;
    int rc;

    if (led_get(c->f->led, o->rev, &fact) != PC_OK) {
        return PC_ECORRUPT;
    }
    rc = jcs_parse((const char *)fact.payload.p, fact.payload.len, &d, NULL);
    if (rc != PC_OK) {
        return rc == PC_ENOMEM ? rc : PC_ECORRUPT;
    }
    pc_buf_init(&p);
    jcs_w_init(&w, &p);
    jcs_w_obj(&w);
    for (size_t i = 0; members[i] != NULL; i++) {
        const struct jcs_val *v = fsm_get(jcs_root(d), members[i]);

        if (strcmp(members[i], "status") == 0) {
            jcs_w_kstr(&w, "status", ch->status);
        } else if (strcmp(members[i], "decision") == 0 &&
                   ch->decision != NULL) {
            jcs_w_key(&w, "decision");
            jcs_w_raw(&w, ch->decision->data, ch->decision->len);
        } else if (strcmp(members[i], "resolution") == 0 &&
                   ch->resolution != NULL) {
            jcs_w_key(&w, "resolution");
            jcs_w_raw(&w, ch->resolution->data, ch->resolution->len);
        } else if (v != NULL) {
            jcs_w_key(&w, members[i]);
            jcs_w_val(&w, d, v);
        }
    }
    jcs_w_obj_end(&w);
    rc = fsm_emit_w(c, FACT_OBJECTION, NO_SLICE, PC_SLICE_STR(o->id), &w);
    pc_buf_release(&p);
    jcs_doc_free(d);
    return rc;
}

/* {"at", "by", ...}: the time and author of a decision or resolution. */
static void
w_at_by(struct jcs_writer *w, struct fsm_ctx *c)
{
    char t[PC_TIME_STR_LEN];

    pc_time_format(t, c->now);
    jcs_w_kstr(w, "at", t);
    jcs_w_key(w, "by");
    jcs_w_strn(w, (const char *)c->cmd->principal.p, c->cmd->principal.len);
}

int
fsm_objection_resolve(struct fsm_ctx *c, const char *id, size_t len,
                      const char *op, uint64_t revision, uint64_t version)
{
    const struct fsm_objection *o = objection_n(c->f, id, len);
    struct jcs_writer w;
    struct pc_buf r;
    struct change ch = { "resolved", NULL, &r };
    int rc;

    if (o == NULL || o->status != FSM_OBJECTION_ACCEPTED) {
        return PC_OK; /* the caller checked; nothing to resolve */
    }
    pc_buf_init(&r);
    jcs_w_init(&w, &r);
    jcs_w_obj(&w);
    w_at_by(&w, c);
    jcs_w_kstr(&w, "op", op);
    jcs_w_kint(&w, "revision", (int64_t)revision);
    jcs_w_kint(&w, "version", (int64_t)version);
    jcs_w_obj_end(&w);
    rc = jcs_w_finish(&w);
    if (rc == PC_OK) {
        rc = emit_next(c, o, &ch);
    }
    pc_buf_release(&r);
    return rc;
}

/* ---- commands --------------------------------------------------------- */

/*
 * fsm_command_body, but a check's refusal always names its field, even an
 * unknown member "" (as objections always did).
 */
static int
command_body(struct fsm_ctx *c, fsm_body_check_cb check, struct pc_slice id,
             struct jcs_doc **d)
{
    char msg[MSG_LEN], field[FSM_FIELD_LEN] = "";
    int rc = fsm_command_body(c, NULL, id, d);

    if (*d == NULL || check(jcs_root(*d), msg, field)) {
        return rc;
    }
    jcs_doc_free(*d);
    *d = NULL;
    return fsm_reject_field(c, 400, NO_SLICE, id, field, msg);
}

/* The entry `id` (`len` bytes, a valid id) if `actor` may see it. */
static const struct fsm_entry *
visible_entry(struct fsm_ctx *c, const struct fsm_principal *actor,
              const char *id, size_t len)
{
    char buf[FACT_MAX_ID + 1];
    const struct fsm_entry *e;

    memcpy(buf, id, len);
    buf[len] = '\0';
    e = fsm_entry(c->f, buf);
    return e != NULL && fsm_entry_visible_rev(c->f, e, actor) > 0 ? e : NULL;
}

/* POST /v1/objections: version 1, status open (201 for any well-formed key
 * of an entry the filer can see: no existence oracle). */
static int
objection_file(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    char t[PC_TIME_STR_LEN], id[32];
    const struct fsm_entry *e;
    const struct jcs_val *root;
    struct idx_key k;
    struct jcs_writer w;
    struct jcs_doc *d;
    const char *entry, *key;
    size_t elen, klen;
    struct pc_buf p;
    int rc;

    rc = command_body(c, filing_valid, NO_SLICE, &d);
    if (rc != PC_OK || d == NULL) {
        return rc;
    }
    root = jcs_root(d);
    entry = fsm_get_str(root, "entry", &elen);
    key = fsm_get_str(root, "key", &klen);
    e = visible_entry(c, actor, entry, elen);
    if (e == NULL) {
        rc =
            fsm_reject(c, 404, "not_found",
                       (struct pc_slice){ (const uint8_t *)entry, elen },
                       NO_SLICE, "no catalog entry \"%.*s\"", (int)elen, entry);
        jcs_doc_free(d);
        return rc;
    }
    k = (struct idx_key){ FACT_RECORD,
                          PC_SLICE_STR(e->id),
                          { (const uint8_t *)key, klen } };
    snprintf(id, sizeof(id), ID_PREFIX "%llu",
             (unsigned long long)led_count(c->f->led) + 1);
    pc_time_format(t, c->now);
    pc_buf_init(&p);
    jcs_w_init(&w, &p);
    jcs_w_obj(&w);
    jcs_w_key(&w, "description");
    jcs_w_val(&w, d, fsm_get(root, "description"));
    jcs_w_kstr(&w, "entry", e->id);
    jcs_w_kstr(&w, "filed_at", t);
    jcs_w_kstr(&w, "filer", actor->id);
    if (actor->org != NULL) {
        jcs_w_kstr(&w, "filer_org", actor->org);
    }
    jcs_w_key(&w, "key");
    jcs_w_strn(&w, key, klen);
    jcs_w_key(&w, "kind");
    jcs_w_val(&w, d, fsm_get(root, "kind"));
    jcs_w_kbool(&w, "record_exists",
                idx_latest(led_idx(c->f->led), &k, NULL) > 0);
    jcs_w_kstr(&w, "status", "open");
    jcs_w_obj_end(&w);
    rc = fsm_emit_w(c, FACT_OBJECTION, NO_SLICE, PC_SLICE_STR(id), &w);
    pc_buf_release(&p);
    jcs_doc_free(d);
    return rc;
}

/* The objection named by the command's target, if `actor` may see it;
 * otherwise a rejection (400 malformed id, 404) and NULL. */
static int
target_objection(struct fsm_ctx *c, const struct fsm_principal *actor,
                 const struct fsm_objection **out)
{
    const struct pc_slice t = c->cmd->target;
    const struct fsm_objection *o;

    *out = NULL;
    if (!fsm_objection_id_valid((const char *)t.p, t.len)) {
        return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                          "bad objection id");
    }
    o = objection_n(c->f, (const char *)t.p, t.len);
    if (o == NULL || !fsm_objection_visible(c->f, actor, o, NULL)) {
        return fsm_reject(c, 404, "not_found", NO_SLICE, t,
                          "no objection \"%.*s\"", (int)t.len,
                          (const char *)t.p);
    }
    *out = o;
    return PC_OK;
}

/* POST /v1/objections/{id}/decide: the authority in the entry's scope
 * accepts or rejects an open objection, with a reason. */
static int
objection_decide(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    const struct fsm_objection *o;
    const struct fsm_entry *e;
    const struct jcs_val *root;
    struct jcs_writer w;
    struct jcs_doc *d = NULL;
    struct pc_buf dec;
    struct change ch;
    const char *s;
    size_t len;
    bool accept;
    int rc;

    rc = command_body(c, decision_valid, c->cmd->target, &d);
    if (rc != PC_OK || d == NULL) {
        return rc;
    }
    rc = target_objection(c, actor, &o);
    if (rc != PC_OK || o == NULL) {
        jcs_doc_free(d);
        return rc;
    }
    e = fsm_entry(c->f, o->entry);
    if (e == NULL || !fsm_entry_authority(c->f, actor, e)) {
        jcs_doc_free(d);
        return fsm_reject(c, 403, "forbidden", NO_SLICE, PC_SLICE_STR(o->id),
                          "deciding objections on \"%s\" needs role "
                          "authority in the entry's scope",
                          o->entry);
    }
    if (o->status != FSM_OBJECTION_OPEN) {
        jcs_doc_free(d);
        return fsm_reject(c, 409, "conflict", NO_SLICE, PC_SLICE_STR(o->id),
                          "objection %s is %s, not open", o->id,
                          status_names[o->status]);
    }
    root = jcs_root(d);
    s = fsm_get_str(root, "decision", &len);
    accept = len == 6 && memcmp(s, "accept", 6) == 0;
    pc_buf_init(&dec);
    jcs_w_init(&w, &dec);
    jcs_w_obj(&w);
    w_at_by(&w, c);
    jcs_w_kstr(&w, "decision", accept ? "accept" : "reject");
    jcs_w_key(&w, "reason");
    jcs_w_val(&w, d, fsm_get(root, "reason"));
    jcs_w_obj_end(&w);
    rc = jcs_w_finish(&w);
    if (rc == PC_OK) {
        ch = (struct change){ accept ? "accepted" : "rejected", &dec, NULL };
        rc = emit_next(c, o, &ch);
    }
    pc_buf_release(&dec);
    jcs_doc_free(d);
    return rc;
}

/* The record version the leader's extra names ({"version": n}), or 0. */
static uint64_t
extra_version(struct fsm_ctx *c, int *rc)
{
    const struct jcs_val *v;
    struct jcs_doc *d;
    uint64_t n = 0;

    *rc = PC_OK;
    if (c->cmd->extra.len == 0) {
        return 0;
    }
    *rc = jcs_parse((const char *)c->cmd->extra.p, c->cmd->extra.len, &d, NULL);
    if (*rc != PC_OK) {
        *rc = *rc == PC_ENOMEM ? *rc : PC_OK;
        return 0;
    }
    v = fsm_get(jcs_root(d), "version");
    if (v != NULL && jcs_is_integer(v) && jcs_number(v) >= 1) {
        n = (uint64_t)jcs_number(v);
    }
    jcs_doc_free(d);
    return n;
}

/* Whether version `rev` is already queued for redaction by this entry. */
static bool
pending(const struct fsm_objections *os, uint64_t rev)
{
    for (size_t i = 0; i < os->n_pending; i++) {
        if (os->pending[i] == rev) {
            return true;
        }
    }
    return false;
}

/*
 * POST /v1/catalog/{id}/records/{key}/versions/{n}/redact: the authority
 * in the entry's scope, naming an accepted (or already resolved)
 * personal-information or trade-secret objection on this record, drops
 * version n's document. Appends the redaction fact, then, if the objection
 * was still accepted, its resolved version; the document goes once the
 * whole raft entry applied (fsm_redactions_commit).
 */
static int
record_redact(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    struct fsm_objections *os = c->f->obj;
    const struct fsm_objection *o;
    const struct fsm_entry *e;
    const uint8_t *slash;
    struct pc_slice entry, key;
    const struct jcs_val *root;
    struct jcs_writer w;
    struct jcs_doc *d = NULL;
    struct pc_buf p;
    struct fact fact;
    char hex[PC_HASH_HEX_LEN + 1];
    uint64_t version, rev, fact_rev;
    const char *oid;
    size_t olen;
    enum led_doc_state ds;
    bool ok;
    int rc;

    slash = c->cmd->target.len
                ? memchr(c->cmd->target.p, '/', c->cmd->target.len)
                : NULL;
    version = extra_version(c, &rc);
    if (rc != PC_OK) {
        return rc;
    }
    if (slash == NULL || version == 0) {
        return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                          "malformed command: no record version");
    }
    entry = (struct pc_slice){ c->cmd->target.p,
                               (size_t)(slash - c->cmd->target.p) };
    key = (struct pc_slice){ slash + 1, c->cmd->target.len - entry.len - 1 };
    if (!fsm_id_valid((const char *)entry.p, entry.len)) {
        return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                          "bad entry id");
    }
    if (fsm_record_key_check((const char *)key.p, key.len, &ok) != PC_OK) {
        return PC_ENOMEM;
    }
    if (!ok) {
        return fsm_reject(c, 400, "bad_request", entry, NO_SLICE,
                          "bad record key");
    }
    rc = command_body(c, redaction_valid, key, &d);
    if (rc != PC_OK || d == NULL) {
        return rc;
    }
    root = jcs_root(d);
    oid = fsm_get_str(root, "objection", &olen);
    e = visible_entry(c, actor, (const char *)entry.p, entry.len);
    if (e == NULL) {
        rc = fsm_reject(c, 404, "not_found", entry, key,
                        "no catalog entry \"%.*s\"", (int)entry.len,
                        (const char *)entry.p);
        goto out;
    }
    if (!fsm_entry_authority(c->f, actor, e)) {
        rc = fsm_reject(c, 403, "forbidden", entry, key,
                        "redacting records of \"%s\" needs role authority "
                        "in the entry's scope",
                        e->id);
        goto out;
    }
    if (idx_version_rev(led_idx(c->f->led),
                        &(struct idx_key){ FACT_RECORD, entry, key }, version,
                        &rev) != PC_OK) {
        rc = fsm_reject(c, 404, "not_found", entry, key,
                        "no version %llu of this record",
                        (unsigned long long)version);
        goto out;
    }
    o = objection_n(c->f, oid, olen);
    if (o == NULL || !names_record(o, e, key) ||
        (o->kind != FSM_OBJECTION_PERSONAL_INFORMATION &&
         o->kind != FSM_OBJECTION_TRADE_SECRET) ||
        (o->status != FSM_OBJECTION_ACCEPTED &&
         o->status != FSM_OBJECTION_RESOLVED)) {
        rc = fsm_reject_field(
            c, 409, entry, key, "objection",
            "a redaction needs an accepted personal_information "
            "or trade_secret objection on this record");
        goto out;
    }
    ds = led_doc_state(c->f->led, rev);
    if (ds == LED_DOC_NONE) {
        rc = fsm_reject(c, 409, "conflict", entry, key,
                        "version %llu has no document (a retire version)",
                        (unsigned long long)version);
        goto out;
    }
    if (ds == LED_DOC_REDACTED || pending(os, rev)) {
        rc = fsm_reject(c, 409, "conflict", entry, key,
                        "version %llu is already redacted",
                        (unsigned long long)version);
        goto out;
    }
    if (led_get(c->f->led, rev, &fact) != PC_OK) {
        rc = PC_ECORRUPT;
        goto out;
    }
    pc_hex(hex, fact.content_hash, PC_HASH_LEN);
    pc_buf_init(&p);
    jcs_w_init(&w, &p);
    jcs_w_obj(&w);
    jcs_w_kstr(&w, "content_hash", hex);
    jcs_w_kstr(&w, "objection", o->id);
    jcs_w_key(&w, "reason");
    jcs_w_val(&w, d, fsm_get(root, "reason"));
    jcs_w_kint(&w, "record_revision", (int64_t)rev);
    jcs_w_kint(&w, "version", (int64_t)version);
    jcs_w_obj_end(&w);
    rc = fsm_emit_w(c, FACT_REDACTION, entry, key, &w);
    pc_buf_release(&p);
    fact_rev = led_count(c->f->led);
    if (rc == PC_OK && o->status == FSM_OBJECTION_ACCEPTED) {
        rc = fsm_objection_resolve(c, o->id, strlen(o->id), "redact", fact_rev,
                                   version);
    }
    if (rc == PC_OK) {
        uint64_t *a =
            grow(os->pending, &os->cap_pending, os->n_pending + 1, sizeof(*a));

        if (a == NULL) {
            rc = PC_ENOMEM;
        } else {
            os->pending = a;
            os->pending[os->n_pending++] = rev;
        }
    }
out:
    jcs_doc_free(d);
    return rc;
}

int
fsm_rules_objections(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    switch (c->cmd->type) {
    case CMD_OBJECTION_FILE:
        return objection_file(c, actor);
    case CMD_OBJECTION_DECIDE:
        return objection_decide(c, actor);
    case CMD_RECORD_REDACT:
        return record_redact(c, actor);
    }
    return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                      "unknown objection command");
}
