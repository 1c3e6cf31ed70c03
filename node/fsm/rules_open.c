/* SPDX-License-Identifier: MIT */
/*
 * Open data (articles 22-23): open requests for conditionally open entries,
 * their decisions by the provider org, the working-day calendars their due
 * dates follow, read access through an approved request, and the counters
 * the evaluation report reads.
 *
 * Derived state (rebuilt from OPEN_REQUEST and CALENDAR facts): every
 * request by id (the owner of the structs) and in revision order, by
 * requester and by provider org for listings; pending requests sorted by
 * (due_at, revision) for overdue counts; and, per year, the pending
 * requests whose due date consulted that year's calendar, so a calendar
 * change recomputes those and no others. A recomputed due date is derived
 * state, not a new version: it follows from the calendar fact, and the
 * decision's version records the due date in force when it was decided.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/timefmt.h"
#include "node/fsm/calendar.h"
#include "node/fsm/fsm_int.h"

#define NO_SLICE      ((struct pc_slice){ NULL, 0 })
#define TEXT_SHORT    256  /* applicant, data_type */
#define TEXT_LONG     4096 /* description, purpose, reason */
#define HOLIDAY_YEARS 100  /* years in a --holidays file */

struct open_vec {
    struct fsm_open_request **v;
    size_t n, cap;
};

/* Counters of one provider org, one entry, or all. */
struct open_counts {
    uint64_t by_status[3]; /* enum fsm_open_status */
    uint64_t late;
    uint64_t hist[FSM_OPEN_HIST_MAX + 1]; /* working days to a decision */
    int64_t sum_ms;                       /* filing to decision */
};

/* A calendar with its days in one block (holidays, then workdays). */
struct cal_owned {
    struct fsm_calendar c;
    int32_t *days;
};

struct fsm_open {
    struct pc_map reqs;         /* id -> struct fsm_open_request (owned) */
    struct open_vec all;        /* every request, by revision */
    struct pc_map by_requester; /* principal -> struct open_vec */
    struct pc_map by_provider;  /* org -> struct open_vec */
    struct open_vec pending;    /* by (due.at_ms, rev) */
    struct pc_map years;      /* int32 year -> struct pc_map (rev -> request) */
    struct pc_map calendars;  /* int32 year -> struct cal_owned */
    struct pc_map grants;     /* requester NUL entry -> first approved */
    struct pc_map org_counts; /* provider org -> struct open_counts */
    struct pc_map entry_counts; /* entry -> struct open_counts */
    struct open_counts total;
};

const char *
fsm_open_status_name(enum fsm_open_status s)
{
    static const char *const names[] = { "pending", "approved", "rejected" };

    return (unsigned)s < 3 ? names[s] : "unknown";
}

/* ---- derived state: containers ---------------------------------------- */

static int
vec_push(struct open_vec *v, struct fsm_open_request *r)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 8;
        struct fsm_open_request **a = pc_realloc(v->v, cap * sizeof(*a));

        if (a == NULL) {
            return PC_ENOMEM;
        }
        v->v = a;
        v->cap = cap;
    }
    v->v[v->n++] = r;
    return PC_OK;
}

/* Append `r` to the vector stored under `key` in `m`, creating it. */
static int
map_vec_push(struct pc_map *m, const char *key, struct fsm_open_request *r)
{
    struct open_vec *v = pc_map_get_or_add(m, key, strlen(key), sizeof(*v));

    return v == NULL ? PC_ENOMEM : vec_push(v, r);
}

static bool
pending_before(const struct fsm_open_request *a,
               const struct fsm_open_request *b)
{
    return a->due.at_ms != b->due.at_ms ? a->due.at_ms < b->due.at_ms
                                        : a->rev < b->rev;
}

/* The first position in `pending` not before `r`. */
static size_t
pending_pos(const struct open_vec *v, const struct fsm_open_request *r)
{
    size_t lo = 0, hi = v->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (pending_before(v->v[mid], r)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static int
pending_insert(struct open_vec *v, struct fsm_open_request *r)
{
    size_t at = pending_pos(v, r);
    int rc = vec_push(v, r); /* grows it; the slot is set below */

    if (rc != PC_OK) {
        return rc;
    }
    memmove(&v->v[at + 1], &v->v[at], (v->n - 1 - at) * sizeof(v->v[0]));
    v->v[at] = r;
    return PC_OK;
}

static void
pending_remove(struct open_vec *v, const struct fsm_open_request *r)
{
    size_t at = pending_pos(v, r);

    if (at < v->n && v->v[at] == r) {
        memmove(&v->v[at], &v->v[at + 1], (v->n - at - 1) * sizeof(v->v[0]));
        v->n--;
    }
}

/* Index pending `r` under each year its due date consulted. */
static int
years_add(struct fsm_open *o, struct fsm_open_request *r)
{
    for (int32_t y = r->due.first_year; y <= r->due.last_year; y++) {
        struct pc_map *set =
            pc_map_get_or_add(&o->years, &y, sizeof(y), sizeof(*set));

        if (set == NULL ||
            pc_map_put(set, &r->rev, sizeof(r->rev), r, NULL) != PC_OK) {
            return PC_ENOMEM;
        }
    }
    return PC_OK;
}

static void
years_remove(struct fsm_open *o, const struct fsm_open_request *r)
{
    for (int32_t y = r->due.first_year; y <= r->due.last_year; y++) {
        struct pc_map *set = pc_map_get(&o->years, &y, sizeof(y));

        if (set != NULL) {
            pc_map_del(set, &r->rev, sizeof(r->rev));
        }
    }
}

static struct open_counts *
counts_of(struct pc_map *m, const char *key)
{
    return pc_map_get_or_add(m, key, strlen(key), sizeof(struct open_counts));
}

/* The values of the maps (pc_map_free_cb). */
static void
vec_free(void *val)
{
    struct open_vec *v = val;

    pc_free(v->v);
    pc_free(v);
}

static void
set_free(void *val)
{
    pc_map_release(val);
    pc_free(val);
}

static void
cal_free(void *val)
{
    struct cal_owned *c = val;

    pc_free(c->days);
    pc_free(c);
}

static void
request_free(void *val)
{
    struct fsm_open_request *r = val;

    if (r == NULL) {
        return;
    }
    pc_free(r->id);
    pc_free(r->entry);
    pc_free(r->provider);
    pc_free(r->requester);
    pc_free(r);
}

struct fsm_open *
fsm_open_new(void)
{
    return pc_calloc(1, sizeof(struct fsm_open));
}

void
fsm_open_clear(struct fsm_open *o)
{
    if (o == NULL) {
        return;
    }
    pc_map_release_values(&o->by_requester, vec_free);
    pc_map_release_values(&o->by_provider, vec_free);
    pc_map_release_values(&o->years, set_free);
    pc_map_release_values(&o->calendars, cal_free);
    pc_map_release(&o->grants); /* values are owned by `reqs` */
    pc_map_release_values(&o->org_counts, pc_free);
    pc_map_release_values(&o->entry_counts, pc_free);
    pc_free(o->all.v);
    pc_free(o->pending.v);
    pc_map_release_values(&o->reqs, request_free);
    memset(o, 0, sizeof(*o));
}

void
fsm_open_free(struct fsm_open *o)
{
    fsm_open_clear(o);
    pc_free(o);
}

/* ---- calendars -------------------------------------------------------- */

static const struct cal_year *
lookup_cb(void *arg, int32_t year)
{
    const struct fsm_open *o = arg;
    const struct cal_owned *c = pc_map_get(&o->calendars, &year, sizeof(year));

    return c == NULL ? NULL : &c->c.cal;
}

const struct fsm_calendar *
fsm_calendar(const struct fsm *f, int32_t year)
{
    const struct cal_owned *c =
        pc_map_get(&f->open->calendars, &year, sizeof(year));

    return c == NULL ? NULL : &c->c;
}

bool
fsm_calendar_year_parse(const char *s, int32_t *year)
{
    int v = 0;

    if (s == NULL || strlen(s) != 4) {
        return false;
    }
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (v < CAL_YEAR_MIN || v > CAL_YEAR_MAX) {
        return false;
    }
    *year = v;
    return true;
}

static int
cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

    return (x > y) - (x < y);
}

/* A calendar read from a body or a fact: its days sorted, one block. */
struct cal_in {
    int32_t *days; /* holidays then workdays */
    size_t n_holidays, n_workdays;
};

static void verr(char *msg, char *field, const char *f, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
verr(char *msg, char *field, const char *f, const char *fmt, ...)
{
    va_list ap;

    size_t len;

    va_start(ap, fmt);
    vsnprintf(msg, 200, fmt, ap);
    va_end(ap);
    /* A long name is cut: at a character boundary, for the JSON detail. */
    snprintf(field, FSM_FIELD_LEN, "%s", f);
    len = strlen(field);
    while (len > 0 && !jcs_utf8_valid((const uint8_t *)field, len)) {
        field[--len] = '\0';
    }
}

/* Read list `key` of calendar `o` for `year` into `out` (n slots). */
static bool
cal_list(const struct jcs_val *o, const char *key, int32_t year, int32_t *out,
         size_t *n, char *msg, char *field)
{
    const struct jcs_val *a = fsm_get(o, key);
    char f[FSM_FIELD_LEN];

    *n = 0;
    if (a == NULL) {
        return true;
    }
    if (jcs_type(a) != JCS_ARRAY) {
        verr(msg, field, key, "\"%s\" must be an array of dates", key);
        return false;
    }
    if (jcs_len(a) > 366) {
        verr(msg, field, key, "\"%s\" lists more days than a year has", key);
        return false;
    }
    for (size_t i = 0; i < jcs_len(a); i++) {
        size_t len;
        const char *s = jcs_string(jcs_at(a, i), &len);
        int64_t day;

        snprintf(f, sizeof(f), "%s[%zu]", key, i);
        if (s == NULL || !cal_parse_day(s, len, &day)) {
            verr(msg, field, f, "%s must be a date YYYY-MM-DD", f);
            return false;
        }
        if (cal_year_of(day) != year) {
            verr(msg, field, f, "%s: %.10s is not in %d", f, s, (int)year);
            return false;
        }
        if (strcmp(key, "workdays") == 0 && cal_weekday(day) <= 5) {
            static const char *const wd[] = { "Monday", "Tuesday", "Wednesday",
                                              "Thursday", "Friday" };
            verr(msg, field, f,
                 "%s: %.10s is a %s; a make-up working day must fall on a "
                 "Saturday or Sunday",
                 f, s, wd[cal_weekday(day) - 1]);
            return false;
        }
        for (size_t j = 0; j < *n; j++) {
            if (out[j] == day) {
                verr(msg, field, f, "%s: %.10s is listed twice", f, s);
                return false;
            }
        }
        out[(*n)++] = (int32_t)day;
    }
    qsort(out, *n, sizeof(out[0]), cmp_i32);
    return true;
}

/*
 * Check calendar `o` (the body of PUT /v1/calendar/{year}) and read it:
 * true with `*out` filled (pc_free out->days), or false with `msg` and
 * `field`, or false with PC_ENOMEM in `*oom`.
 */
static bool
cal_read(const struct jcs_val *o, int32_t year, struct cal_in *out, char *msg,
         char *field, bool *oom)
{
    static const char *const allowed[] = { "holidays", "workdays", NULL };
    const char *k;
    int32_t *days;
    struct cal_year cy;
    unsigned working;

    *oom = false;
    if (jcs_type(o) != JCS_OBJECT) {
        verr(msg, field, "", "a calendar must be a JSON object");
        return false;
    }
    k = fsm_unknown_member(o, allowed);
    if (k != NULL) {
        verr(msg, field, "", "unknown field \"%.64s\"", k);
        return false;
    }
    days = pc_malloc(2 * 366 * sizeof(*days));
    if (days == NULL) {
        *oom = true;
        return false;
    }
    if (!cal_list(o, "holidays", year, days, &out->n_holidays, msg, field) ||
        !cal_list(o, "workdays", year, days + out->n_holidays, &out->n_workdays,
                  msg, field)) {
        pc_free(days);
        return false;
    }
    for (size_t i = 0; i < out->n_workdays; i++) {
        int32_t d = days[out->n_holidays + i];

        if (bsearch(&d, days, out->n_holidays, sizeof(d), cmp_i32) != NULL) {
            char s[CAL_DATE_LEN + 1];

            cal_format_day(s, d);
            verr(msg, field, "workdays", "%s is both a holiday and a workday",
                 s);
            pc_free(days);
            return false;
        }
    }
    cy = (struct cal_year){ year, days, out->n_holidays, days + out->n_holidays,
                            out->n_workdays };
    working = cal_working_days_in_year(&cy);
    if (working < CAL_MIN_WORKDAYS) {
        verr(msg, field, "holidays",
             "this calendar leaves %d only %u working days (at least %d)",
             (int)year, working, CAL_MIN_WORKDAYS);
        pc_free(days);
        return false;
    }
    out->days = days;
    return true;
}

static void
write_days(struct jcs_writer *w, const char *key, const int32_t *days, size_t n)
{
    char s[CAL_DATE_LEN + 1];

    jcs_w_key(w, key);
    jcs_w_arr(w);
    for (size_t i = 0; i < n; i++) {
        cal_format_day(s, days[i]);
        jcs_w_str(w, s);
    }
    jcs_w_arr_end(w);
}

/* The canonical calendar payload {"holidays", "workdays"}, sorted. */
static void
write_calendar(struct jcs_writer *w, const struct cal_in *c)
{
    jcs_w_obj(w);
    write_days(w, "holidays", c->days, c->n_holidays);
    write_days(w, "workdays", c->days + c->n_holidays, c->n_workdays);
    jcs_w_obj_end(w);
}

bool
fsm_calendar_body_valid(int32_t year, const void *body, size_t len, char *msg,
                        char *field)
{
    struct cal_in c;
    struct jcs_doc *d;
    bool ok, oom;

    field[0] = '\0';
    if (fsm_parse_object(body, len, &d, msg) != PC_OK) {
        return false;
    }
    ok = cal_read(jcs_root(d), year, &c, msg, field, &oom);
    if (oom) {
        snprintf(msg, 200, "out of memory");
    }
    if (ok) {
        pc_free(c.days);
    }
    jcs_doc_free(d);
    return ok;
}

int
fsm_holidays_check(const void *text, size_t len, struct pc_buf *canon,
                   char *errmsg)
{
    char em[PC_ERRMSG_SIZE], msg[200], field[FSM_FIELD_LEN];
    struct jcs_writer w;
    struct jcs_doc *d;
    const struct jcs_val *o;
    int rc = fsm_parse(text, len, &d, em);

    if (rc != PC_OK) {
        return rc == PC_ENOMEM
                   ? rc
                   : pc_errmsgf(errmsg, rc, "malformed JSON: %s", em);
    }
    o = jcs_root(d);
    if (jcs_type(o) != JCS_OBJECT || jcs_len(o) == 0 ||
        jcs_len(o) > HOLIDAY_YEARS) {
        jcs_doc_free(d);
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "must be a JSON object of 1-%d years, e.g. "
                          "{\"2027\": {\"holidays\": [\"2027-01-01\"], "
                          "\"workdays\": []}}",
                          HOLIDAY_YEARS);
    }
    jcs_w_init(&w, canon);
    jcs_w_obj(&w);
    for (size_t i = 0; i < jcs_len(o); i++) {
        const char *key = jcs_key(o, i, NULL);
        struct cal_in c;
        int32_t year;
        bool oom = false;

        if (!fsm_calendar_year_parse(key, &year)) {
            rc = pc_errmsgf(errmsg, PC_EINVAL,
                            "\"%.16s\": a key must be a year %d-%d", key,
                            CAL_YEAR_MIN, CAL_YEAR_MAX);
            break;
        }
        if (!cal_read(jcs_at(o, i), year, &c, msg, field, &oom)) {
            rc = oom ? PC_ENOMEM
                     : pc_errmsgf(errmsg, PC_EINVAL, "\"%s\"%s%s: %s", key,
                                  field[0] ? "." : "", field, msg);
            break;
        }
        jcs_w_key(&w, key);
        write_calendar(&w, &c);
        pc_free(c.days);
    }
    if (rc != PC_OK) {
        canon->len = w.start; /* drop what was written */
        jcs_doc_free(d);
        return rc;
    }
    jcs_w_obj_end(&w);
    jcs_doc_free(d);
    return jcs_w_finish(&w);
}

/* ---- due dates -------------------------------------------------------- */

static void
due_of(const struct fsm_open *o, int64_t from_ms, struct cal_due *out)
{
    cal_due(from_ms, CAL_OPEN_DAYS, lookup_cb, (void *)o, out);
}

/* Recompute the due date of pending `r` under the calendars now in force
 * (the caller sorts the pending list again afterwards). */
static int
recompute(struct fsm_open *o, struct fsm_open_request *r)
{
    years_remove(o, r);
    due_of(o, r->submitted_ms, &r->due);
    return years_add(o, r); /* PC_ENOMEM: the caller rebuilds everything */
}

static int
cmp_pending(const void *a, const void *b)
{
    const struct fsm_open_request *x =
        *(const struct fsm_open_request *const *)a;
    const struct fsm_open_request *y =
        *(const struct fsm_open_request *const *)b;

    return pending_before(x, y) ? -1 : pending_before(y, x) ? 1 : 0;
}

static bool
collect_cb(void *arg, const void *key, size_t klen, void *val)
{
    struct open_vec *v = arg;

    (void)key, (void)klen;
    v->v[v->n++] = val;
    return true;
}

static int
cmp_rev(const void *a, const void *b)
{
    const struct fsm_open_request *x =
        *(const struct fsm_open_request *const *)a;
    const struct fsm_open_request *y =
        *(const struct fsm_open_request *const *)b;

    return (x->rev > y->rev) - (x->rev < y->rev);
}

/* A CALENDAR fact: the year's calendar in force, then the pending
 * requests whose due date consulted that year, in revision order. */
static int
derive_calendar(struct fsm *f, const struct fact *fact, const struct jcs_val *p)
{
    struct fsm_open *o = f->open;
    char id[8], msg[200], field[FSM_FIELD_LEN];
    struct cal_owned *c;
    struct pc_map *set;
    struct open_vec todo = { NULL, 0, 0 };
    struct cal_in in;
    void *old = NULL;
    int32_t year;
    bool oom = false;
    int rc = PC_OK;

    if (fact->id.len >= sizeof(id)) {
        return PC_ECORRUPT;
    }
    memcpy(id, fact->id.p, fact->id.len);
    id[fact->id.len] = '\0';
    if (!fsm_calendar_year_parse(id, &year)) {
        return PC_ECORRUPT;
    }
    if (!cal_read(p, year, &in, msg, field, &oom)) {
        return oom ? PC_ENOMEM : PC_ECORRUPT;
    }
    c = pc_calloc(1, sizeof(*c));
    if (c == NULL) {
        pc_free(in.days);
        return PC_ENOMEM;
    }
    c->days = in.days;
    c->c.cal = (struct cal_year){ year, in.days, in.n_holidays,
                                  in.days + in.n_holidays, in.n_workdays };
    c->c.rev = fact->revision;
    if (pc_map_put(&o->calendars, &year, sizeof(year), c, &old) != PC_OK) {
        cal_free(c);
        return PC_ENOMEM;
    }
    if (old != NULL) {
        cal_free(old);
    }
    set = pc_map_get(&o->years, &year, sizeof(year));
    if (set == NULL || set->len == 0) {
        return PC_OK;
    }
    /* Recomputing moves requests between the year sets: work on a copy,
     * in revision order. */
    todo.v = pc_malloc(set->len * sizeof(todo.v[0]));
    if (todo.v == NULL) {
        return PC_ENOMEM;
    }
    pc_map_each(set, collect_cb, &todo);
    qsort(todo.v, todo.n, sizeof(todo.v[0]), cmp_rev);
    for (size_t i = 0; i < todo.n && rc == PC_OK; i++) {
        rc = recompute(o, todo.v[i]);
    }
    pc_free(todo.v);
    /* Due times moved: sort the pending list once (a total order: ties
     * go by revision). */
    qsort(o->pending.v, o->pending.n, sizeof(o->pending.v[0]), cmp_pending);
    return rc;
}

/* ---- requests: derived state ------------------------------------------ */

static enum fsm_open_status
status_of(const struct jcs_val *p)
{
    const char *s = fsm_get_str(p, "status", NULL);

    if (s != NULL && strcmp(s, "approved") == 0) {
        return FSM_OPEN_APPROVED;
    }
    if (s != NULL && strcmp(s, "rejected") == 0) {
        return FSM_OPEN_REJECTED;
    }
    return FSM_OPEN_PENDING;
}

/* Add `delta` requests of status `s` to the counters of `r`. */
static int
count(struct fsm_open *o, const struct fsm_open_request *r,
      enum fsm_open_status s, int delta)
{
    struct open_counts *c[3] = { &o->total,
                                 counts_of(&o->org_counts, r->provider),
                                 counts_of(&o->entry_counts, r->entry) };

    if (c[1] == NULL || c[2] == NULL) {
        return PC_ENOMEM;
    }
    for (int i = 0; i < 3; i++) {
        c[i]->by_status[s] += (uint64_t)(int64_t)delta;
    }
    return PC_OK;
}

static int
derive_filed(struct fsm_open *o, const struct fact *fact,
             const struct jcs_val *p)
{
    struct fsm_open_request *r = pc_calloc(1, sizeof(*r));
    int rc;

    if (r == NULL) {
        return PC_ENOMEM;
    }
    r->id = pc_strndup((const char *)fact->id.p, fact->id.len);
    r->entry = fsm_get_dup(p, "entry");
    r->provider = fsm_get_dup(p, "provider");
    r->requester = fsm_get_dup(p, "requester");
    if (r->id == NULL || r->entry == NULL || r->provider == NULL ||
        r->requester == NULL) {
        request_free(r);
        return PC_ENOMEM;
    }
    r->rev = r->last_rev = fact->revision;
    r->status = FSM_OPEN_PENDING;
    r->submitted_ms = fact->time_ms;
    due_of(o, r->submitted_ms, &r->due);
    if (pc_map_put(&o->reqs, r->id, strlen(r->id), r, NULL) != PC_OK) {
        request_free(r);
        return PC_ENOMEM;
    }
    /* From here `reqs` owns `r`; a failure below makes the caller
     * rebuild every derived structure. */
    rc = vec_push(&o->all, r);
    if (rc == PC_OK) {
        rc = map_vec_push(&o->by_requester, r->requester, r);
    }
    if (rc == PC_OK) {
        rc = map_vec_push(&o->by_provider, r->provider, r);
    }
    if (rc == PC_OK) {
        rc = pending_insert(&o->pending, r);
    }
    if (rc == PC_OK) {
        rc = years_add(o, r);
    }
    if (rc == PC_OK) {
        rc = count(o, r, FSM_OPEN_PENDING, 1);
    }
    return rc;
}

static int
grant_key(struct pc_buf *k, const char *principal, const char *entry)
{
    if (pc_buf_put(k, principal, strlen(principal)) || pc_buf_put_u8(k, 0) ||
        pc_buf_put(k, entry, strlen(entry))) {
        return PC_ENOMEM;
    }
    return PC_OK;
}

static int
derive_decided(struct fsm *f, const struct fact *fact, const struct jcs_val *p)
{
    struct fsm_open *o = f->open;
    struct fsm_open_request *r;
    struct open_counts *c[3];
    char id[FACT_MAX_ID + 1];
    unsigned days;
    int rc;

    memcpy(id, fact->id.p, fact->id.len);
    id[fact->id.len] = '\0';
    r = pc_map_get(&o->reqs, id, strlen(id));
    if (r == NULL || r->status != FSM_OPEN_PENDING) {
        return PC_ECORRUPT;
    }
    pending_remove(&o->pending, r);
    years_remove(o, r);
    r->status = status_of(p);
    r->last_rev = fact->revision;
    r->decided_ms = fact->time_ms;
    r->answered_late = r->decided_ms > r->due.at_ms;
    rc = count(o, r, FSM_OPEN_PENDING, -1);
    if (rc == PC_OK) {
        rc = count(o, r, r->status, 1);
    }
    if (rc != PC_OK) {
        return rc;
    }
    days = cal_working_days_between(cal_local_day(r->submitted_ms),
                                    cal_local_day(r->decided_ms),
                                    FSM_OPEN_HIST_MAX, lookup_cb, o);
    c[0] = &o->total;
    c[1] = counts_of(&o->org_counts, r->provider);
    c[2] = counts_of(&o->entry_counts, r->entry);
    if (c[1] == NULL || c[2] == NULL) {
        return PC_ENOMEM;
    }
    for (int i = 0; i < 3; i++) {
        c[i]->hist[days]++;
        c[i]->late += r->answered_late;
        c[i]->sum_ms += r->decided_ms - r->submitted_ms;
    }
    if (r->status == FSM_OPEN_APPROVED) {
        struct pc_buf k;

        pc_buf_init(&k);
        rc = grant_key(&k, r->requester, r->entry);
        if (rc == PC_OK && pc_map_get(&o->grants, k.data, k.len) == NULL) {
            rc = pc_map_put(&o->grants, k.data, k.len, r, NULL);
        }
        pc_buf_release(&k);
    }
    return rc;
}

int
fsm_derive_open(struct fsm *f, const struct fact *fact,
                const struct jcs_val *payload)
{
    if (fact->kind == FACT_CALENDAR) {
        return derive_calendar(f, fact, payload);
    }
    if (fact->version == 1) {
        return derive_filed(f->open, fact, payload);
    }
    return derive_decided(f, fact, payload);
}

/* ---- queries ---------------------------------------------------------- */

const struct fsm_open_request *
fsm_open_request(const struct fsm *f, const char *id)
{
    return pc_map_get(&f->open->reqs, id, strlen(id));
}

bool
fsm_open_request_visible(const struct fsm *f, const struct fsm_principal *p,
                         const struct fsm_open_request *r)
{
    const struct fsm_entry *e;

    if (p == NULL || r == NULL) {
        return false;
    }
    if (strcmp(p->id, r->requester) == 0 ||
        (p->org != NULL && strcmp(p->org, r->provider) == 0)) {
        return true;
    }
    e = fsm_entry(f, r->entry);
    return e != NULL && fsm_entry_authority(f, p, e);
}

bool
fsm_open_overdue(const struct fsm_open_request *r, int64_t at_ms)
{
    return r->status == FSM_OPEN_PENDING && at_ms > r->due.at_ms;
}

static bool
passes(const struct fsm_open_request *r, const struct fsm_open_filter *flt)
{
    if (flt->status >= 0 && (int)r->status != flt->status) {
        return false;
    }
    if (flt->overdue >= 0 &&
        fsm_open_overdue(r, flt->at_ms) != (flt->overdue == 1)) {
        return false;
    }
    return flt->entry == NULL || strcmp(flt->entry, r->entry) == 0;
}

/* The first index of `v` with a revision above `after`. */
static size_t
vec_after(const struct open_vec *v, uint64_t after)
{
    size_t lo = 0, hi = v == NULL ? 0 : v->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v->v[mid]->rev <= after) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

int
fsm_open_list(const struct fsm *f, const struct fsm_principal *p,
              const struct fsm_open_filter *flt, uint64_t after, size_t limit,
              const struct fsm_open_request ***out, size_t *n, bool *more)
{
    const struct fsm_open *o = f->open;
    const struct open_vec *a, *b = NULL;
    const struct fsm_open_request **items;
    size_t i, j, k = 0;

    items = pc_malloc((limit + 1) * sizeof(*items));
    if (items == NULL) {
        return PC_ENOMEM;
    }
    if (p == NULL) {
        a = NULL; /* the public sees no request */
    } else if (p->roles & FSM_ROLE_AUTHORITY) {
        a = &o->all; /* its scope: filtered below */
    } else {
        /* Its own requests and its org's, merged by revision. */
        a = pc_map_get(&o->by_requester, p->id, strlen(p->id));
        b = p->org == NULL
                ? NULL
                : pc_map_get(&o->by_provider, p->org, strlen(p->org));
    }
    i = vec_after(a, after);
    j = vec_after(b, after);
    while (k <= limit) {
        const struct fsm_open_request *r;
        bool ai = a != NULL && i < a->n, bj = b != NULL && j < b->n;

        if (!ai && !bj) {
            break;
        }
        if (ai && (!bj || a->v[i]->rev <= b->v[j]->rev)) {
            r = a->v[i++];
            if (bj && b->v[j] == r) {
                j++;
            }
        } else {
            r = b->v[j++];
        }
        if (passes(r, flt) && fsm_open_request_visible(f, p, r)) {
            items[k++] = r;
        }
    }
    *more = k > limit;
    *n = k > limit ? limit : k;
    *out = items;
    return PC_OK;
}

const char *
fsm_open_grant(const struct fsm *f, const struct fsm_principal *p,
               const struct fsm_entry *e)
{
    const struct fsm_open_request *r;
    size_t plen, elen;
    char key[2 * FACT_MAX_ID + 2]; /* on every such read: no allocation */

    if (p == NULL || f->open->grants.len == 0) {
        return NULL;
    }
    plen = strlen(p->id);
    elen = strlen(e->id);
    if (plen + elen + 1 > sizeof(key)) {
        return NULL; /* longer than any id: never granted */
    }
    memcpy(key, p->id, plen);
    key[plen] = '\0';
    memcpy(key + plen + 1, e->id, elen);
    r = pc_map_get(&f->open->grants, key, plen + 1 + elen);
    return r == NULL ? NULL : r->id;
}

void
fsm_open_stats(const struct fsm *f, const char *org, const char *entry,
               int64_t at_ms, struct fsm_open_stats *out)
{
    const struct fsm_open *o = f->open;
    const struct open_counts *c = &o->total;
    static const struct open_counts zero;
    uint64_t decided, seen = 0;

    if (entry != NULL) {
        c = pc_map_get(&o->entry_counts, entry, strlen(entry));
    } else if (org != NULL) {
        c = pc_map_get(&o->org_counts, org, strlen(org));
    }
    if (c == NULL) {
        c = &zero;
    }
    memset(out, 0, sizeof(*out));
    out->pending = c->by_status[FSM_OPEN_PENDING];
    out->approved = c->by_status[FSM_OPEN_APPROVED];
    out->rejected = c->by_status[FSM_OPEN_REJECTED];
    out->answered_late = c->late;
    decided = out->approved + out->rejected;
    out->median_days = -1;
    out->mean_ms = decided ? c->sum_ms / (int64_t)decided : -1;
    for (int d = 0; decided > 0 && d <= FSM_OPEN_HIST_MAX; d++) {
        seen += c->hist[d];
        if (seen > (decided - 1) / 2) {
            out->median_days = d;
            break;
        }
    }
    /* Overdue: the pending requests due before `at_ms`, a prefix of the
     * list sorted by due time. */
    for (size_t i = 0; i < o->pending.n; i++) {
        const struct fsm_open_request *r = o->pending.v[i];

        if (!fsm_open_overdue(r, at_ms)) {
            break;
        }
        out->overdue +=
            (entry != NULL && strcmp(entry, r->entry) == 0) ||
            (entry == NULL && org != NULL && strcmp(org, r->provider) == 0) ||
            (entry == NULL && org == NULL);
    }
}

void
fsm_open_overdue_each(const struct fsm *f, int64_t at_ms,
                      fsm_open_request_cb cb, void *arg)
{
    const struct fsm_open *o = f->open;

    /* The pending requests sorted by due time: the overdue ones first. */
    for (size_t i = 0; i < o->pending.n; i++) {
        if (!fsm_open_overdue(o->pending.v[i], at_ms) ||
            !cb(arg, o->pending.v[i])) {
            break;
        }
    }
}

size_t
fsm_open_pending_in_year(const struct fsm *f, int32_t year)
{
    const struct pc_map *set = pc_map_get(&f->open->years, &year, sizeof(year));

    return set == NULL ? 0 : set->len;
}

/* ---- syntax ----------------------------------------------------------- */

bool
fsm_open_id_valid(const char *s, size_t len)
{
    if (s == NULL || len < 4 || len > 23 || memcmp(s, "or-", 3) != 0 ||
        s[3] < '1' || s[3] > '9') {
        return false;
    }
    for (size_t i = 4; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

/* A required, non-blank string member of at most `max` bytes. */
static bool
text_member(const struct jcs_val *o, const char *key, size_t max, char *msg,
            char *field)
{
    if (!fsm_text_ok(fsm_get(o, key), max)) {
        verr(msg, field, key,
             "\"%s\" must be a non-blank string of at most %zu "
             "bytes",
             key, max);
        return false;
    }
    return true;
}

static bool
request_valid(const struct jcs_val *o, char *msg, char *field)
{
    static const char *const allowed[] = { "entry",     "applicant",
                                           "data_type", "description",
                                           "purpose",   NULL };
    const char *k = fsm_unknown_member(o, allowed);
    size_t len;
    const char *e;

    if (k != NULL) {
        verr(msg, field, k, "unknown field \"%.64s\"", k);
        return false;
    }
    e = fsm_get_str(o, "entry", &len);
    if (e == NULL || !fsm_id_valid(e, len)) {
        verr(msg, field, "entry", "\"entry\" must be a catalog entry id");
        return false;
    }
    return text_member(o, "applicant", TEXT_SHORT, msg, field) &&
           text_member(o, "data_type", TEXT_SHORT, msg, field) &&
           text_member(o, "description", TEXT_LONG, msg, field) &&
           text_member(o, "purpose", TEXT_LONG, msg, field);
}

static bool
decide_valid(const struct jcs_val *o, char *msg, char *field)
{
    static const char *const allowed[] = { "decision", "reason", NULL };
    const char *k = fsm_unknown_member(o, allowed);
    const struct jcs_val *rv = fsm_get(o, "reason");
    const char *d = fsm_get_str(o, "decision", NULL), *r;
    size_t len = 0;

    if (k != NULL) {
        verr(msg, field, k, "unknown field \"%.64s\"", k);
        return false;
    }
    if (d == NULL || (strcmp(d, "approve") != 0 && strcmp(d, "reject") != 0)) {
        verr(msg, field, "decision",
             "\"decision\" must be \"approve\" or \"reject\"");
        return false;
    }
    r = rv == NULL || jcs_type(rv) == JCS_NULL ? "" : jcs_string(rv, &len);
    if (r == NULL || len > TEXT_LONG) {
        verr(msg, field, "reason",
             "\"reason\" must be a string of at most %d "
             "bytes",
             TEXT_LONG);
        return false;
    }
    if (strcmp(d, "reject") == 0 && fsm_blank(r, len)) {
        verr(msg, field, "reason", "a rejection must state its reason");
        return false;
    }
    return true;
}

bool
fsm_open_request_body_valid(const void *body, size_t len, char *msg,
                            char *field)
{
    return fsm_body_valid(body, len, request_valid, msg, field);
}

bool
fsm_open_decide_body_valid(const void *body, size_t len, char *msg, char *field)
{
    return fsm_body_valid(body, len, decide_valid, msg, field);
}

/* ---- apply ------------------------------------------------------------ */

/* What a version of an open request says (strings borrowed). */
struct req_out {
    const char *applicant, *data_type, *description, *entry, *id, *org,
        *provider, *purpose, *requester;
    size_t applicant_len, data_type_len, description_len, purpose_len;
    enum fsm_open_status status;
    int64_t submitted_ms;
    const struct cal_due *due;
    /* A decision's version. */
    bool decided, late;
    int64_t decided_ms;
    const char *decided_by, *reason;
    size_t reason_len;
};

static void
write_time(struct jcs_writer *w, const char *key, int64_t ms)
{
    char t[PC_TIME_STR_LEN];

    pc_time_format(t, ms);
    jcs_w_kstr(w, key, t);
}

/* The whole request object, members in canonical order. */
static void
write_request(struct jcs_writer *w, const struct req_out *q)
{
    char day[CAL_DATE_LEN + 1];

    jcs_w_obj(w);
    if (q->decided) {
        jcs_w_kbool(w, "answered_late", q->late);
    }
    jcs_w_key(w, "applicant");
    jcs_w_strn(w, q->applicant, q->applicant_len);
    jcs_w_kbool(w, "calendar_provisional", q->due->provisional);
    jcs_w_key(w, "data_type");
    jcs_w_strn(w, q->data_type, q->data_type_len);
    if (q->decided) {
        write_time(w, "decided_at", q->decided_ms);
        jcs_w_kstr(w, "decided_by", q->decided_by);
    }
    jcs_w_key(w, "description");
    jcs_w_strn(w, q->description, q->description_len);
    cal_format_day(day, q->due->day);
    jcs_w_kstr(w, "due", day);
    write_time(w, "due_at", q->due->at_ms);
    jcs_w_kstr(w, "entry", q->entry);
    jcs_w_kstr(w, "id", q->id);
    if (q->org != NULL) {
        jcs_w_kstr(w, "org", q->org);
    } else {
        jcs_w_knull(w, "org");
    }
    jcs_w_kstr(w, "provider", q->provider);
    jcs_w_key(w, "purpose");
    jcs_w_strn(w, q->purpose, q->purpose_len);
    if (q->decided) {
        jcs_w_key(w, "reason");
        jcs_w_strn(w, q->reason, q->reason_len);
    }
    jcs_w_kstr(w, "requester", q->requester);
    jcs_w_kstr(w, "status", fsm_open_status_name(q->status));
    write_time(w, "submitted_at", q->submitted_ms);
    jcs_w_obj_end(w);
}

static int
open_request(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    char id[32];
    const struct jcs_val *o;
    const struct fsm_entry *e;
    struct jcs_writer w;
    struct jcs_doc *d;
    struct cal_due due;
    struct req_out q;
    struct pc_buf p;
    enum fsm_class open;
    const char *entry;
    int rc;

    rc = fsm_command_body(c, request_valid, NO_SLICE, &d);
    if (d == NULL) {
        return rc;
    }
    o = jcs_root(d);
    entry = fsm_get_str(o, "entry", NULL);
    e = fsm_entry(c->f, entry);
    open = e == NULL || e->public_rev == 0 ? FSM_CLASS_NONE : e->public_open;
    if (e == NULL || fsm_entry_visible_rev(c->f, e, actor) == 0) {
        rc = fsm_reject(c, 404, "not_found", NO_SLICE, fsm_str_slice(entry),
                        "no catalog entry \"%s\"", entry);
    } else if (e->public_rev == 0) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, fsm_str_slice(entry),
                        "entry \"%s\" has no published version", entry);
    } else if (open != FSM_CLASS_CONDITIONAL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, fsm_str_slice(entry),
                        "entry \"%s\" is %s open data: only conditionally "
                        "open entries take open requests",
                        entry,
                        open == FSM_CLASS_NONE ? "not" : "unconditionally");
    } else {
        snprintf(id, sizeof(id), "or-%llu",
                 (unsigned long long)led_count(c->f->led) + 1);
        due_of(c->f->open, c->now, &due);
        memset(&q, 0, sizeof(q));
        q.applicant = fsm_get_str(o, "applicant", &q.applicant_len);
        q.data_type = fsm_get_str(o, "data_type", &q.data_type_len);
        q.description = fsm_get_str(o, "description", &q.description_len);
        q.purpose = fsm_get_str(o, "purpose", &q.purpose_len);
        q.entry = e->id;
        q.id = id;
        q.org = actor->org;
        q.provider = e->provider;
        q.requester = actor->id;
        q.status = FSM_OPEN_PENDING;
        q.submitted_ms = c->now;
        q.due = &due;
        pc_buf_init(&p);
        jcs_w_init(&w, &p);
        write_request(&w, &q);
        rc = fsm_emit_w(c, FACT_OPEN_REQUEST, NO_SLICE, fsm_str_slice(id), &w);
        pc_buf_release(&p);
    }
    jcs_doc_free(d);
    return rc;
}

/* The latest payload of request `r` (jcs_doc_free it). */
static int
request_payload(struct fsm_ctx *c, const struct fsm_open_request *r,
                struct jcs_doc **d)
{
    struct fact f;
    int rc = led_get(c->f->led, r->last_rev, &f);

    if (rc != PC_OK) {
        return PC_ECORRUPT;
    }
    rc = jcs_parse((const char *)f.payload.p, f.payload.len, d, NULL);
    return rc == PC_OK || rc == PC_ENOMEM ? rc : PC_ECORRUPT;
}

static int
open_decide(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    char id[32];
    const struct fsm_open_request *r = NULL;
    const struct jcs_val *o, *prev;
    struct jcs_doc *d, *pd = NULL;
    struct jcs_writer w;
    struct req_out q;
    struct pc_buf p;
    int rc;

    if (c->cmd->target.len < sizeof(id) &&
        fsm_open_id_valid((const char *)c->cmd->target.p, c->cmd->target.len)) {
        memcpy(id, c->cmd->target.p, c->cmd->target.len);
        id[c->cmd->target.len] = '\0';
        r = fsm_open_request(c->f, id);
    }
    rc = fsm_command_body(c, decide_valid, c->cmd->target, &d);
    if (d == NULL) {
        return rc;
    }
    o = jcs_root(d);
    if (!fsm_open_request_visible(c->f, actor, r)) {
        rc =
            fsm_reject(c, 404, "not_found", NO_SLICE, c->cmd->target,
                       "no open request \"%.*s\"",
                       (int)(c->cmd->target.len > 32 ? 32 : c->cmd->target.len),
                       (const char *)c->cmd->target.p);
    } else if (!(actor->roles & FSM_ROLE_PROVIDER) || actor->org == NULL ||
               strcmp(actor->org, r->provider) != 0) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                        "open requests are decided by a provider of the "
                        "entry's org \"%s\"",
                        r->provider);
    } else if (strcmp(actor->id, r->requester) == 0) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                        "a principal does not decide its own open request");
    } else if (r->status != FSM_OPEN_PENDING) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "open request \"%s\" is already %s", r->id,
                        fsm_open_status_name(r->status));
    } else if ((rc = request_payload(c, r, &pd)) == PC_OK) {
        prev = jcs_root(pd);
        memset(&q, 0, sizeof(q));
        q.applicant = fsm_get_str(prev, "applicant", &q.applicant_len);
        q.data_type = fsm_get_str(prev, "data_type", &q.data_type_len);
        q.description = fsm_get_str(prev, "description", &q.description_len);
        q.purpose = fsm_get_str(prev, "purpose", &q.purpose_len);
        q.org = fsm_get_str(prev, "org", NULL);
        if (q.applicant == NULL || q.data_type == NULL ||
            q.description == NULL || q.purpose == NULL) {
            rc = PC_ECORRUPT;
            goto out;
        }
        q.entry = r->entry;
        q.id = r->id;
        q.provider = r->provider;
        q.requester = r->requester;
        q.status = strcmp(fsm_get_str(o, "decision", NULL), "approve") == 0
                       ? FSM_OPEN_APPROVED
                       : FSM_OPEN_REJECTED;
        q.submitted_ms = r->submitted_ms;
        q.due = &r->due;
        q.decided = true;
        q.decided_ms = c->now;
        q.late = c->now > r->due.at_ms;
        q.decided_by = actor->id;
        q.reason = fsm_get_str(o, "reason", &q.reason_len);
        if (q.reason == NULL) {
            q.reason = "";
            q.reason_len = 0;
        }
        pc_buf_init(&p);
        jcs_w_init(&w, &p);
        write_request(&w, &q);
        rc = fsm_emit_w(c, FACT_OPEN_REQUEST, NO_SLICE, fsm_str_slice(r->id),
                        &w);
        pc_buf_release(&p);
    }
out:
    jcs_doc_free(pd);
    jcs_doc_free(d);
    return rc;
}

/* The provincial authority: an authority org at the top, province level. */
static bool
provincial(const struct fsm *f, const struct fsm_principal *p)
{
    const struct fsm_org *o = p->org == NULL ? NULL : fsm_org(f, p->org);

    return (p->roles & FSM_ROLE_AUTHORITY) && o != NULL && o->authority &&
           o->parent == NULL && strcmp(o->level, "province") == 0;
}

/* Append the CALENDAR fact of `year` for calendar `in`. */
static int
emit_calendar(struct fsm_ctx *c, int32_t year, const struct cal_in *in)
{
    struct jcs_writer w;
    struct pc_buf p;
    char id[8];
    int rc;

    snprintf(id, sizeof(id), "%d", (int)year);
    pc_buf_init(&p);
    jcs_w_init(&w, &p);
    write_calendar(&w, in);
    rc = fsm_emit_w(c, FACT_CALENDAR, NO_SLICE, fsm_str_slice(id), &w);
    pc_buf_release(&p);
    return rc;
}

static int
calendar_set(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    char msg[200], field[FSM_FIELD_LEN], ys[8];
    struct jcs_doc *d;
    struct cal_in in;
    int32_t year = 0;
    bool oom = false;
    int rc;

    if (c->cmd->target.len < sizeof(ys)) {
        memcpy(ys, c->cmd->target.p, c->cmd->target.len);
        ys[c->cmd->target.len] = '\0';
    } else {
        ys[0] = '\0';
    }
    if (!fsm_calendar_year_parse(ys, &year)) {
        return fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                          "the year must be 4 digits, %d-%d", CAL_YEAR_MIN,
                          CAL_YEAR_MAX);
    }
    rc = fsm_command_body(c, NULL, c->cmd->target, &d);
    if (d == NULL) {
        return rc;
    }
    field[0] = '\0';
    if (!cal_read(jcs_root(d), year, &in, msg, field, &oom)) {
        jcs_doc_free(d);
        return oom ? PC_ENOMEM
                   : fsm_reject_field(c, 400, NO_SLICE, c->cmd->target,
                                      field[0] != '\0' ? field : NULL, msg);
    }
    jcs_doc_free(d);
    if (!provincial(c->f, actor)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                        "the working-day calendar is set by the provincial "
                        "authority");
    } else {
        rc = emit_calendar(c, year, &in);
    }
    pc_free(in.days);
    return rc;
}

int
fsm_open_genesis_check(const struct jcs_val *cal)
{
    char msg[200], field[FSM_FIELD_LEN];

    if (jcs_type(cal) != JCS_OBJECT || jcs_len(cal) > HOLIDAY_YEARS) {
        return PC_EINVAL;
    }
    for (size_t i = 0; i < jcs_len(cal); i++) {
        struct cal_in in;
        int32_t year;
        bool oom = false;

        if (!fsm_calendar_year_parse(jcs_key(cal, i, NULL), &year) ||
            !cal_read(jcs_at(cal, i), year, &in, msg, field, &oom)) {
            return oom ? PC_ENOMEM : PC_EINVAL;
        }
        pc_free(in.days);
    }
    return PC_OK;
}

int
fsm_open_genesis_calendars(struct fsm_ctx *c, const struct jcs_val *cal)
{
    char msg[200], field[FSM_FIELD_LEN];
    int rc = PC_OK;

    /* Years in key order: ascending. */
    for (size_t i = 0; i < jcs_len(cal) && rc == PC_OK; i++) {
        struct cal_in in;
        int32_t year;
        bool oom = false;

        if (!fsm_calendar_year_parse(jcs_key(cal, i, NULL), &year) ||
            !cal_read(jcs_at(cal, i), year, &in, msg, field, &oom)) {
            /* Checked before anything was appended: only OOM here. */
            return oom ? PC_ENOMEM : PC_EINVAL;
        }
        rc = emit_calendar(c, year, &in);
        pc_free(in.days);
    }
    return rc;
}

int
fsm_rules_open(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    switch (c->cmd->type) {
    case CMD_OPEN_REQUEST:
        return open_request(c, actor);
    case CMD_OPEN_DECIDE:
        return open_decide(c, actor);
    case CMD_CALENDAR_SET:
        return calendar_set(c, actor);
    }
    return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                      "unknown open-data command");
}
