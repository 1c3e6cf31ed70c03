/* SPDX-License-Identifier: MIT */
/*
 * Comparisons: two record documents member by member, and a source row
 * against a record by the entry's field types. Values are compared in a
 * typed form: provcat's side is JSON; a CSV cell is text read as the
 * field's declared type (integer and number as decimals compared as the
 * doubles JSON holds, boolean as true/false/1/0, date as YYYY-MM-DD,
 * object and array as JSON text); an empty cell, a null and a missing
 * member are all "absent". A value that is not of the declared type on
 * either side is `type_differs`, never a plain change.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/jcs.h"
#include "tools/reconcile/reconcile.h"

/* ---- schema --------------------------------------------------------- */

static const char *const type_names[] = {
    "undeclared", "string", "integer", "number",
    "boolean",    "date",   "object",  "array",
};

const char *
rcl_type_name(enum rcl_type t)
{
    return (unsigned)t < sizeof(type_names) / sizeof(type_names[0])
               ? type_names[t]
               : "undeclared";
}

int
rcl_schema_from_entry(const struct jcs_val *entry, struct rcl_schema *out)
{
    const struct jcs_val *fields = jcs_get(entry, "fields", 6);
    size_t n = jcs_type(fields) == JCS_ARRAY ? jcs_len(fields) : 0;
    struct rcl_schema s = { 0 };

    s.names = pc_calloc(n + 1, sizeof(*s.names));
    s.types = pc_calloc(n + 1, sizeof(*s.types));
    if (s.names == NULL || s.types == NULL) {
        rcl_schema_release(&s);
        return PC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct jcs_val *f = jcs_at(fields, i);
        const struct jcs_val *nm = jcs_get(f, "name", 4);
        const struct jcs_val *ty = jcs_get(f, "type", 4);
        const char *name, *type;
        size_t len, tlen;
        enum rcl_type t = RCL_T_UNDECLARED;

        name = nm != NULL ? jcs_string(nm, &len) : NULL;
        type = ty != NULL ? jcs_string(ty, &tlen) : NULL;
        if (name == NULL) {
            continue;
        }
        for (size_t k = 1;
             type != NULL && k < sizeof(type_names) / sizeof(type_names[0]);
             k++) {
            if (strcmp(type, type_names[k]) == 0) {
                t = (enum rcl_type)k;
            }
        }
        s.names[s.n] = pc_strndup(name, len);
        if (s.names[s.n] == NULL) {
            rcl_schema_release(&s);
            return PC_ENOMEM;
        }
        s.types[s.n++] = t;
    }
    *out = s;
    return PC_OK;
}

void
rcl_schema_release(struct rcl_schema *s)
{
    for (size_t i = 0; s->names != NULL && i < s->n; i++) {
        pc_free(s->names[i]);
    }
    pc_free(s->names);
    pc_free(s->types);
    memset(s, 0, sizeof(*s));
}

enum rcl_type
rcl_schema_type(const struct rcl_schema *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strlen(s->names[i]) == len && memcmp(s->names[i], name, len) == 0) {
            return s->types[i];
        }
    }
    return RCL_T_UNDECLARED;
}

/* ---- the list of changes --------------------------------------------- */

static const char *const change_names[] = {
    "added",
    "removed",
    "changed",
    "missing_in_provcat",
    "missing_in_source",
    "type_differs",
};

const char *
rcl_change_name(enum rcl_change_kind k)
{
    return change_names[k];
}

void
rcl_changes_init(struct rcl_changes *c)
{
    memset(c, 0, sizeof(*c));
    pc_buf_init(&c->text);
    for (int i = 0; i < 4; i++) {
        pc_buf_init(&c->sb[i]);
    }
}

void
rcl_changes_reset(struct rcl_changes *c)
{
    c->n = 0;
    c->text.len = 0;
}

void
rcl_changes_release(struct rcl_changes *c)
{
    pc_free(c->v);
    pc_free(c->offs);
    pc_buf_release(&c->text);
    for (int i = 0; i < 4; i++) {
        pc_buf_release(&c->sb[i]);
    }
    memset(c, 0, sizeof(*c));
}

void
rcl_changes_seal(struct rcl_changes *c)
{
    for (size_t i = 0; i < c->n; i++) {
        size_t *o = &c->offs[3 * i];
        struct rcl_change *ch = &c->v[i];

        ch->field = (const char *)c->text.data + o[0];
        ch->a = o[1] == SIZE_MAX ? NULL : (const char *)c->text.data + o[1];
        ch->b = o[2] == SIZE_MAX ? NULL : (const char *)c->text.data + o[2];
    }
}

/* Append `len` bytes and a NUL to the text; its offset, or SIZE_MAX for
 * NULL. */
static int
put_text(struct rcl_changes *c, const char *p, size_t len, size_t *off)
{
    if (p == NULL) {
        *off = SIZE_MAX;
        return PC_OK;
    }
    *off = c->text.len;
    if (pc_buf_put(&c->text, p, len) != PC_OK ||
        pc_buf_put_u8(&c->text, '\0') != PC_OK) {
        return PC_ENOMEM;
    }
    return PC_OK;
}

static int
add_change(struct rcl_changes *c, const char *field, size_t flen,
           enum rcl_change_kind kind, const char *a, size_t alen, const char *b,
           size_t blen)
{
    struct rcl_change *ch;

    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        struct rcl_change *v = pc_realloc(c->v, cap * sizeof(*v));
        size_t *o;

        if (v == NULL) {
            return PC_ENOMEM;
        }
        c->v = v;
        o = pc_realloc(c->offs, 3 * cap * sizeof(*o));
        if (o == NULL) {
            return PC_ENOMEM;
        }
        c->offs = o;
        c->cap = cap;
    }
    ch = &c->v[c->n];
    memset(ch, 0, sizeof(*ch));
    ch->field_len = flen;
    ch->kind = kind;
    ch->a_len = alen;
    ch->b_len = blen;
    if (put_text(c, field, flen, &c->offs[3 * c->n]) != PC_OK ||
        put_text(c, a, alen, &c->offs[3 * c->n + 1]) != PC_OK ||
        put_text(c, b, blen, &c->offs[3 * c->n + 2]) != PC_OK) {
        return PC_ENOMEM;
    }
    c->n++;
    return PC_OK;
}

/* ---- two documents ---------------------------------------------------- */

/* Canonical text of `v` into `b` (reset first). */
static int
canon(const struct jcs_doc *d, const struct jcs_val *v, struct pc_buf *b)
{
    b->len = 0;
    return jcs_emit_value(d, v, b);
}

int
rcl_diff_docs(const struct jcs_doc *da, const struct jcs_val *a,
              const struct jcs_doc *db, const struct jcs_val *b,
              struct rcl_changes *out)
{
    size_t na = a != NULL ? jcs_len(a) : 0, nb = b != NULL ? jcs_len(b) : 0;
    size_t i = 0, j = 0;
    struct pc_buf *x = &out->sb[0], *y = &out->sb[1];
    int rc = PC_OK;

    while (rc == PC_OK && (i < na || j < nb)) {
        size_t ka_len = 0, kb_len = 0;
        const char *ka = i < na ? jcs_key(a, i, &ka_len) : NULL;
        const char *kb = j < nb ? jcs_key(b, j, &kb_len) : NULL;
        int c = ka == NULL   ? 1
                : kb == NULL ? -1
                             : jcs_key_cmp(ka, ka_len, kb, kb_len);

        if (c < 0) {
            rc = canon(da, jcs_at(a, i), x);
            if (rc == PC_OK) {
                rc = add_change(out, ka, ka_len, RCL_REMOVED,
                                (const char *)x->data, x->len, NULL, 0);
            }
            i++;
        } else if (c > 0) {
            rc = canon(db, jcs_at(b, j), y);
            if (rc == PC_OK) {
                rc = add_change(out, kb, kb_len, RCL_ADDED, NULL, 0,
                                (const char *)y->data, y->len);
            }
            j++;
        } else {
            rc = canon(da, jcs_at(a, i), x);
            if (rc == PC_OK) {
                rc = canon(db, jcs_at(b, j), y);
            }
            if (rc == PC_OK &&
                (x->len != y->len || memcmp(x->data, y->data, x->len) != 0)) {
                rc = add_change(out, ka, ka_len, RCL_CHANGED,
                                (const char *)x->data, x->len,
                                (const char *)y->data, y->len);
            }
            i++;
            j++;
        }
    }
    if (rc == PC_OK) {
        rcl_changes_seal(out);
    }
    return rc;
}

/* ---- typed values ----------------------------------------------------- */

enum tv_kind {
    TV_ABSENT,
    TV_BAD, /* not of the declared type */
    TV_STR,
    TV_NUM,
    TV_BOOL,
    TV_JSON, /* an object or array, as canonical text */
};

struct tv {
    enum tv_kind kind;
    const char *s; /* TV_STR, TV_JSON */
    size_t len;
    double d;
    bool b;
};

/* A decimal number as JSON writes it, with an optional leading '+' and
 * leading zeros allowed (exports pad): into `*out`. */
static bool
parse_number(const char *s, size_t len, double *out)
{
    char tmp[128], *end;
    size_t i = 0, digits = 0;

    if (len == 0 || len >= sizeof(tmp)) {
        return false;
    }
    if (s[i] == '+' || s[i] == '-') {
        i++;
    }
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
        digits++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            digits++;
        }
    }
    if (digits == 0) {
        return false;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = 0;

        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            e++;
        }
        if (e == 0) {
            return false;
        }
    }
    if (i != len) {
        return false;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    *out = strtod(tmp, &end);
    return end == tmp + len && isfinite(*out);
}

static bool
parse_bool(const char *s, size_t len, bool *out)
{
    if ((len == 4 && strncasecmp(s, "true", 4) == 0) ||
        (len == 1 && s[0] == '1')) {
        *out = true;
        return true;
    }
    if ((len == 5 && strncasecmp(s, "false", 5) == 0) ||
        (len == 1 && s[0] == '0')) {
        *out = false;
        return true;
    }
    return false;
}

/* YYYY-MM-DD, a real day of the Gregorian calendar. */
static bool
date_ok(const char *s, size_t len)
{
    static const int mdays[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    int y, m, d;

    if (len != 10 || s[4] != '-' || s[7] != '-') {
        return false;
    }
    for (size_t i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
            return false;
        }
    }
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
        (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m < 1 || m > 12 || d < 1) {
        return false;
    }
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
        return d <= 29;
    }
    return d <= mdays[m - 1];
}

/* Text read as declared type `t`. `scratch` holds JSON text. */
static int
text_value(enum rcl_type t, const char *s, size_t len, struct pc_buf *scratch,
           struct tv *out)
{
    struct jcs_doc *d;
    int rc;

    memset(out, 0, sizeof(*out));
    if (len == 0) {
        out->kind = TV_ABSENT;
        return PC_OK;
    }
    out->kind = TV_BAD;
    switch (t) {
    case RCL_T_UNDECLARED:
    case RCL_T_STRING:
        out->kind = TV_STR;
        out->s = s;
        out->len = len;
        break;
    case RCL_T_DATE:
        if (date_ok(s, len)) {
            out->kind = TV_STR;
            out->s = s;
            out->len = len;
        }
        break;
    case RCL_T_INTEGER:
    case RCL_T_NUMBER:
        if (parse_number(s, len, &out->d) &&
            (t == RCL_T_NUMBER ||
             (out->d == floor(out->d) && fabs(out->d) <= 9007199254740991.0))) {
            out->kind = TV_NUM;
        }
        break;
    case RCL_T_BOOLEAN:
        if (parse_bool(s, len, &out->b)) {
            out->kind = TV_BOOL;
        }
        break;
    case RCL_T_OBJECT:
    case RCL_T_ARRAY:
        rc = jcs_parse(s, len, &d, NULL);
        if (rc == PC_ENOMEM) {
            return rc;
        }
        if (rc != PC_OK) {
            break; /* not JSON: not of the type (`d` was not written) */
        }
        if (jcs_type(jcs_root(d)) ==
            (t == RCL_T_OBJECT ? JCS_OBJECT : JCS_ARRAY)) {
            scratch->len = 0;
            rc = jcs_emit(d, scratch);
            if (rc != PC_OK) {
                jcs_doc_free(d);
                return rc;
            }
            out->kind = TV_JSON;
            out->s = (const char *)scratch->data;
            out->len = scratch->len;
        }
        jcs_doc_free(d);
        break;
    }
    return PC_OK;
}

/* A JSON value read as declared type `t` (provcat's side, or a JSONL
 * source's member that is not a string where another type is declared). */
static int
json_value(enum rcl_type t, const struct jcs_doc *d, const struct jcs_val *v,
           struct pc_buf *scratch, struct tv *out)
{
    enum jcs_type jt = v != NULL ? jcs_type(v) : JCS_NULL;

    memset(out, 0, sizeof(*out));
    if (jt == JCS_NULL) {
        out->kind = TV_ABSENT;
        return PC_OK;
    }
    out->kind = TV_BAD;
    switch (jt) {
    case JCS_STRING:
        out->s = jcs_string(v, &out->len);
        if (t == RCL_T_STRING || t == RCL_T_UNDECLARED ||
            (t == RCL_T_DATE && date_ok(out->s, out->len))) {
            out->kind = TV_STR;
        }
        break;
    case JCS_NUMBER:
        out->d = jcs_number(v);
        if (t == RCL_T_NUMBER || t == RCL_T_UNDECLARED ||
            (t == RCL_T_INTEGER && jcs_is_integer(v))) {
            out->kind = TV_NUM;
        }
        break;
    case JCS_TRUE:
    case JCS_FALSE:
        out->b = jt == JCS_TRUE;
        if (t == RCL_T_BOOLEAN || t == RCL_T_UNDECLARED) {
            out->kind = TV_BOOL;
        }
        break;
    case JCS_OBJECT:
    case JCS_ARRAY:
        if (t == RCL_T_UNDECLARED ||
            t == (jt == JCS_OBJECT ? RCL_T_OBJECT : RCL_T_ARRAY)) {
            scratch->len = 0;
            if (jcs_emit_value(d, v, scratch) != PC_OK) {
                return PC_ENOMEM;
            }
            out->kind = TV_JSON;
            out->s = (const char *)scratch->data;
            out->len = scratch->len;
        }
        break;
    case JCS_NULL:
        break;
    }
    return PC_OK;
}

/* Whether text `s` equals typed value `x` when the field is undeclared:
 * as text, or as the same number, boolean or JSON value. */
static int
text_equals(const char *s, size_t len, const struct tv *x, bool *eq)
{
    double d;
    bool b;

    *eq = false;
    switch (x->kind) {
    case TV_STR:
        *eq = len == x->len && memcmp(s, x->s, len) == 0;
        break;
    case TV_NUM:
        *eq = parse_number(s, len, &d) && d == x->d;
        break;
    case TV_BOOL:
        *eq = parse_bool(s, len, &b) && b == x->b;
        break;
    case TV_JSON: {
        struct jcs_doc *doc;
        struct pc_buf c;
        int rc = jcs_parse(s, len, &doc, NULL);

        if (rc == PC_ENOMEM) {
            return rc;
        }
        if (rc != PC_OK) {
            break;
        }
        pc_buf_init(&c);
        rc = jcs_emit(doc, &c);
        jcs_doc_free(doc);
        *eq =
            rc == PC_OK && c.len == x->len && memcmp(c.data, x->s, c.len) == 0;
        pc_buf_release(&c);
        if (rc != PC_OK) {
            return rc;
        }
        break;
    }
    default:
        break;
    }
    return PC_OK;
}

static bool
tv_equal(const struct tv *a, const struct tv *b)
{
    if (a->kind != b->kind) {
        return false;
    }
    switch (a->kind) {
    case TV_STR:
    case TV_JSON:
        return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    case TV_NUM:
        return a->d == b->d;
    case TV_BOOL:
        return a->b == b->b;
    default:
        return true;
    }
}

/* A string value as JSON text into `b`. */
static int
json_string(const char *s, size_t len, struct pc_buf *b)
{
    struct jcs_writer w;

    b->len = 0;
    jcs_w_init(&w, b);
    jcs_w_strn(&w, s, len);
    return jcs_w_finish(&w);
}

/* The source's side of a field as the report shows it. */
struct src_side {
    struct tv v;     /* typed */
    const char *raw; /* text as the source wrote it, or NULL */
    size_t raw_len;
    bool raw_is_cell;        /* a CSV cell: shown as a JSON string */
    const struct jcs_doc *d; /* else its JSON value */
    const struct jcs_val *val;
};

/* The report's text of the source side into `b`: NULL when absent. */
static int
src_text(const struct src_side *s, struct pc_buf *b, const char **out)
{
    int rc;

    *out = NULL;
    b->len = 0;
    if (s->raw_is_cell) {
        if (s->raw_len == 0) {
            return PC_OK;
        }
        rc = json_string(s->raw, s->raw_len, b);
    } else {
        if (s->val == NULL || jcs_type(s->val) == JCS_NULL) {
            return PC_OK;
        }
        rc = jcs_emit_value(s->d, s->val, b);
    }
    if (rc == PC_OK) {
        *out = (const char *)b->data;
    }
    return rc;
}

/*
 * Record the difference of field `name` (if any) between provcat's value
 * `pv` (of document `pd`) and the source's side `ss`.
 */
static int
field_diff(struct rcl_changes *out, const char *name, size_t nlen,
           enum rcl_type t, const struct jcs_doc *pd, const struct jcs_val *pv,
           const struct src_side *ss)
{
    struct pc_buf *ps = &out->sb[2], *ptext = &out->sb[3];
    const struct tv *sv = &ss->v;
    const char *ptx = NULL, *stx;
    enum rcl_change_kind kind;
    struct tv p;
    bool eq;
    int rc;

    rc = json_value(t, pd, pv, ps, &p);
    if (rc != PC_OK || (p.kind == TV_ABSENT && sv->kind == TV_ABSENT)) {
        return rc;
    }
    eq = p.kind != TV_BAD && tv_equal(&p, sv);
    /* Undeclared: text on one side equals the same number, boolean or
     * JSON value on the other. */
    if (!eq && t == RCL_T_UNDECLARED && p.kind > TV_BAD && sv->kind > TV_BAD) {
        if (sv->kind == TV_STR && p.kind != TV_STR) {
            rc = text_equals(sv->s, sv->len, &p, &eq);
        } else if (p.kind == TV_STR && sv->kind != TV_STR) {
            rc = text_equals(p.s, p.len, sv, &eq);
        }
        if (rc != PC_OK) {
            return rc;
        }
    }
    if (eq) {
        return PC_OK;
    }
    ptext->len = 0;
    if (p.kind != TV_ABSENT) {
        rc = jcs_emit_value(pd, pv, ptext);
        if (rc != PC_OK) {
            return rc;
        }
        ptx = (const char *)ptext->data;
    }
    rc = src_text(ss, &out->sb[1], &stx);
    if (rc != PC_OK) {
        return rc;
    }
    if (p.kind == TV_ABSENT) {
        kind = RCL_MISSING_PC;
    } else if (sv->kind == TV_ABSENT) {
        kind = RCL_MISSING_SRC;
    } else if (p.kind == TV_BAD || sv->kind == TV_BAD) {
        kind = RCL_TYPE_DIFFERS;
    } else {
        kind = RCL_CHANGED;
    }
    return add_change(out, name, nlen, kind, ptx, ptext->len, stx,
                      stx != NULL ? out->sb[1].len : 0);
}

int
rcl_cmp_csv(const struct rcl_schema *s, const char *const *cols,
            const size_t *col_lens, const char *const *cells,
            const size_t *cell_lens, size_t n, const bool *skip,
            const struct jcs_doc *pd, const struct jcs_val *doc,
            struct rcl_changes *out)
{
    int rc = PC_OK;

    for (size_t i = 0; rc == PC_OK && i < n; i++) {
        struct src_side ss = { .raw = cells[i],
                               .raw_len = cell_lens[i],
                               .raw_is_cell = true };
        enum rcl_type t;
        const struct jcs_val *pv;

        if (skip != NULL && skip[i]) {
            continue;
        }
        t = rcl_schema_type(s, cols[i], col_lens[i]);
        pv = doc != NULL ? jcs_get(doc, cols[i], col_lens[i]) : NULL;
        rc = text_value(t, cells[i], cell_lens[i], &out->sb[0], &ss.v);
        if (rc == PC_OK) {
            rc = field_diff(out, cols[i], col_lens[i], t, pd, pv, &ss);
        }
    }
    if (rc == PC_OK) {
        rcl_changes_seal(out);
    }
    return rc;
}

/* One member of the union of both objects' members. */
static int
json_member(const struct rcl_schema *s, const struct jcs_doc *sd,
            const struct jcs_val *sv, const struct jcs_doc *pd,
            const struct jcs_val *pv, const char *name, size_t nlen,
            struct rcl_changes *out)
{
    enum rcl_type t = rcl_schema_type(s, name, nlen);
    struct src_side ss = { .d = sd, .val = sv };
    int rc;

    if (sv != NULL && jcs_type(sv) == JCS_STRING) {
        ss.raw = jcs_string(sv, &ss.raw_len);
    }
    if (ss.raw != NULL && t != RCL_T_STRING && t != RCL_T_UNDECLARED &&
        t != RCL_T_DATE) {
        /* "1815" where an integer is declared: read as a CSV cell. */
        rc = text_value(t, ss.raw, ss.raw_len, &out->sb[0], &ss.v);
        if (rc == PC_OK && ss.v.kind == TV_ABSENT) {
            ss.v.kind = TV_BAD; /* "" is a value in JSON, not an absence */
        }
    } else {
        rc = json_value(t, sd, sv, &out->sb[0], &ss.v);
    }
    if (rc == PC_OK) {
        rc = field_diff(out, name, nlen, t, pd, pv, &ss);
    }
    return rc;
}

int
rcl_cmp_json(const struct rcl_schema *s, const struct jcs_doc *sd,
             const struct jcs_val *src, const struct jcs_doc *pd,
             const struct jcs_val *doc, rcl_ignored_fn ignored, void *arg,
             struct rcl_changes *out)
{
    size_t na = src != NULL ? jcs_len(src) : 0;
    size_t nb = doc != NULL ? jcs_len(doc) : 0;
    size_t i = 0, j = 0;
    int rc = PC_OK;

    while (rc == PC_OK && (i < na || j < nb)) {
        size_t ka_len = 0, kb_len = 0;
        const char *ka = i < na ? jcs_key(src, i, &ka_len) : NULL;
        const char *kb = j < nb ? jcs_key(doc, j, &kb_len) : NULL;
        int c = ka == NULL   ? 1
                : kb == NULL ? -1
                             : jcs_key_cmp(ka, ka_len, kb, kb_len);
        const char *name = c <= 0 ? ka : kb;
        size_t nlen = c <= 0 ? ka_len : kb_len;
        const struct jcs_val *sv = c <= 0 ? jcs_at(src, i) : NULL;
        const struct jcs_val *pv = c >= 0 ? jcs_at(doc, j) : NULL;

        if (c <= 0) {
            i++;
        }
        if (c >= 0) {
            j++;
        }
        if (ignored != NULL && ignored(arg, name, nlen)) {
            continue;
        }
        rc = json_member(s, sd, sv, pd, pv, name, nlen, out);
    }
    if (rc == PC_OK) {
        rcl_changes_seal(out);
    }
    return rc;
}
