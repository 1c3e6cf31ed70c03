/* SPDX-License-Identifier: MIT */
/*
 * Catalog entry rules: creation, whole-entry updates under If-Match,
 * submission, review by the authority in scope, retirement, and the entries
 * map derived from ENTRY facts. Every change appends a new version whose
 * payload is the whole entry object (without the version, revision, time
 * and hash, which the fact carries), so an entry is its facts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "node/fsm/fsm_int.h"
#include "storage/idx.h"

#define NO_SLICE ((struct pc_slice){ NULL, 0 })

#define MAX_TITLE       256
#define MAX_TEXT        4096
#define MAX_THEME       128
#define MAX_KEYWORDS    64
#define MAX_KEYWORD     64
#define MAX_FIELDS      1000
#define MAX_FIELD_NAME  128
#define MAX_FIELD_DESCR 1024

static const char *const type_names[] = { "string",  "integer", "number",
                                          "boolean", "date",    "object",
                                          "array",   NULL };
static const char *const class_names[] = { "none", "conditional",
                                           "unconditional", NULL };
static const char *const status_names[] = { "draft",     "submitted",
                                            "published", "rejected",
                                            "retired",   NULL };

/* ---- syntax ----------------------------------------------------------- */

struct verr {
    char *msg;   /* 200 bytes */
    char *field; /* FSM_FIELD_LEN bytes */
};

static bool verr_set(struct verr *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
verr_set(struct verr *e, const char *field, const char *fmt, ...)
{
    va_list ap;

    snprintf(e->field, FSM_FIELD_LEN, "%s", field);
    va_start(ap, fmt);
    vsnprintf(e->msg, 200, fmt, ap);
    va_end(ap);
    return false;
}

/* Whether `v` is absent or null. */
static bool
none(const struct jcs_val *v)
{
    return v == NULL || jcs_type(v) == JCS_NULL;
}

/* The length of string `v`, or SIZE_MAX when `v` is not a string. */
static size_t
str_len(const struct jcs_val *v)
{
    size_t len;

    return v != NULL && jcs_string(v, &len) != NULL ? len : SIZE_MAX;
}

/* The members of an entry body once checked (values of its document), from
 * which entry_write writes the entry object stored in facts. */
struct entry_in {
    const char *path_id; /* a PUT's id, used when the body has none */
    const struct jcs_val *id, *title, *provider, *scope, *security_level;
    const struct jcs_val *description, *theme, *keywords; /* NULL: empty */
    const struct jcs_val *fields, *share, *open;
    const char *freq; /* update_frequency, one fsm_frequency_period_ms knows */
};

/* An optional string of at most `max` bytes (`*out` NULL: ""). */
static bool
opt_text(const struct jcs_val *in, const char *key, size_t max,
         const struct jcs_val **out, struct verr *e)
{
    const struct jcs_val *v = fsm_get(in, key);

    *out = NULL;
    if (none(v)) {
        return true;
    }
    if (str_len(v) > max) {
        return verr_set(e, key, "\"%s\" must be a string of at most %zu bytes",
                        key, max);
    }
    *out = v;
    return true;
}

static bool
check_keywords(const struct jcs_val *in, const struct jcs_val **out,
               struct verr *e)
{
    const struct jcs_val *v = fsm_get(in, "keywords");

    *out = NULL;
    if (none(v)) {
        return true;
    }
    if (jcs_type(v) != JCS_ARRAY || jcs_len(v) > MAX_KEYWORDS) {
        return verr_set(e, "keywords",
                        "\"keywords\" must be an array of at most %d strings",
                        MAX_KEYWORDS);
    }
    for (size_t i = 0; i < jcs_len(v); i++) {
        size_t len = str_len(jcs_at(v, i));

        if (len == 0 || len > MAX_KEYWORD) {
            char f[32];
            snprintf(f, sizeof(f), "keywords[%zu]", i);
            return verr_set(e, f, "\"%s\" must be a string of 1-%d bytes", f,
                            MAX_KEYWORD);
        }
    }
    *out = v;
    return true;
}

/* A field's name and where it is, for finding repeated names. */
struct name_at {
    const char *s;
    size_t len, i;
};

static int
name_at_cmp(const void *pa, const void *pb)
{
    const struct name_at *a = pa, *b = pb;
    int c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);

    if (c != 0) {
        return c;
    }
    if (a->len != b->len) {
        return a->len < b->len ? -1 : 1;
    }
    return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * The index of the first declaration whose name an earlier one has, or
 * SIZE_MAX (declarations without a valid name left out: checking stops at
 * them first). Sorting, not a hash: no allocation, so no out-of-memory.
 */
static size_t
first_repeat(const struct jcs_val *fields)
{
    struct name_at names[MAX_FIELDS];
    size_t n = 0, first = SIZE_MAX;

    for (size_t i = 0; i < jcs_len(fields); i++) {
        const struct jcs_val *name = fsm_get(jcs_at(fields, i), "name");
        size_t len = str_len(name);

        if (jcs_type(jcs_at(fields, i)) == JCS_OBJECT && len > 0 &&
            len <= MAX_FIELD_NAME) {
            names[n++] = (struct name_at){ jcs_string(name, NULL), len, i };
        }
    }
    qsort(names, n, sizeof(names[0]), name_at_cmp);
    for (size_t k = 1; k < n; k++) {
        if (names[k].len == names[k - 1].len &&
            memcmp(names[k].s, names[k - 1].s, names[k].len) == 0 &&
            names[k].i < first) {
            first = names[k].i;
        }
    }
    return first;
}

static bool
check_field(const struct jcs_val *in, size_t i, size_t repeat, struct verr *e)
{
    static const char *const allowed[] = { "name", "type", "required",
                                           "description", NULL };
    char f[FSM_FIELD_LEN];
    const struct jcs_val *name, *req, *descr;
    const char *key;

    /* `f`, the field a refusal names, is written only for one. */
    if (jcs_type(in) != JCS_OBJECT) {
        snprintf(f, sizeof(f), "fields[%zu]", i);
        return verr_set(e, f, "\"%s\" must be an object", f);
    }
    key = fsm_unknown_member(in, allowed);
    if (key != NULL) {
        snprintf(f, sizeof(f), "fields[%zu].%.16s", i, key);
        return verr_set(e, f, "unknown field \"%s\"", f);
    }
    name = fsm_get(in, "name");
    if (str_len(name) == 0 || str_len(name) > MAX_FIELD_NAME) {
        snprintf(f, sizeof(f), "fields[%zu].name", i);
        return verr_set(e, f, "\"%s\" must be a string of 1-%d bytes", f,
                        MAX_FIELD_NAME);
    }
    if (i == repeat) {
        snprintf(f, sizeof(f), "fields[%zu].name", i);
        return verr_set(e, f, "\"%s\": duplicate field name \"%.64s\"", f,
                        jcs_string(name, NULL));
    }
    if (fsm_name_index(type_names, fsm_get_str(in, "type", NULL)) < 0) {
        snprintf(f, sizeof(f), "fields[%zu].type", i);
        return verr_set(e, f,
                        "\"%s\" must be string, integer, number, boolean, "
                        "date, object or array",
                        f);
    }
    req = fsm_get(in, "required");
    if (req != NULL && jcs_type(req) != JCS_TRUE &&
        jcs_type(req) != JCS_FALSE) {
        snprintf(f, sizeof(f), "fields[%zu].required", i);
        return verr_set(e, f, "\"%s\" must be true or false", f);
    }
    descr = fsm_get(in, "description");
    if (!none(descr) && str_len(descr) > MAX_FIELD_DESCR) {
        snprintf(f, sizeof(f), "fields[%zu].description", i);
        return verr_set(e, f, "\"%s\" must be a string of at most %d bytes", f,
                        MAX_FIELD_DESCR);
    }
    return true;
}

static bool
check_fields(const struct jcs_val *in, const struct jcs_val **out,
             struct verr *e)
{
    const struct jcs_val *v = fsm_get(in, "fields");
    size_t repeat;

    if (v == NULL || jcs_type(v) != JCS_ARRAY || jcs_len(v) > MAX_FIELDS) {
        return verr_set(e, "fields",
                        "\"fields\" must be an array of at most %d field "
                        "declarations",
                        MAX_FIELDS);
    }
    repeat = first_repeat(v);
    for (size_t i = 0; i < jcs_len(v); i++) {
        if (!check_field(jcs_at(v, i), i, repeat, e)) {
            return false;
        }
    }
    *out = v;
    return true;
}

/*
 * A class object {class, conditions, basis}; returns the class or -1. Not
 * sharing needs its legal basis (article 18), which the
 * negative list shows; for "open" the basis is optional.
 */
static int
check_class(const struct jcs_val *in, const char *key,
            const struct jcs_val **out, struct verr *e)
{
    static const char *const allowed[] = { "class", "conditions", "basis",
                                           NULL };
    const struct jcs_val *v = fsm_get(in, key), *cond, *basis;
    const char *b, *name;
    char f[32];
    int cls;

    if (v == NULL || jcs_type(v) != JCS_OBJECT) {
        verr_set(e, key, "\"%s\" must be an object {\"class\", \"conditions\"}",
                 key);
        return -1;
    }
    name = fsm_unknown_member(v, allowed);
    if (name != NULL) {
        snprintf(f, sizeof(f), "%s.%.16s", key, name);
        verr_set(e, f, "unknown field \"%s\"", f);
        return -1;
    }
    cls = fsm_name_index(class_names, fsm_get_str(v, "class", NULL));
    if (cls < 0) {
        snprintf(f, sizeof(f), "%s.class", key);
        verr_set(e, f,
                 "\"%s\" must be \"unconditional\", \"conditional\" or "
                 "\"none\"",
                 f);
        return -1;
    }
    cond = fsm_get(v, "conditions");
    if (!none(cond) && str_len(cond) > MAX_TEXT) {
        snprintf(f, sizeof(f), "%s.conditions", key);
        verr_set(e, f, "\"%s\" must be a string of at most %d bytes", f,
                 MAX_TEXT);
        return -1;
    }
    basis = fsm_get(v, "basis");
    b = basis != NULL ? jcs_string(basis, NULL) : NULL;
    if ((!none(basis) && str_len(basis) > MAX_TEXT) ||
        (cls == FSM_CLASS_NONE && strcmp(key, "share") == 0 &&
         (b == NULL || fsm_blank(b, strlen(b))))) {
        snprintf(f, sizeof(f), "%s.basis", key);
        verr_set(e, f,
                 "\"%s\" must be a string of at most %d bytes; class "
                 "\"none\" needs it (the legal basis for not sharing)",
                 f, MAX_TEXT);
        return -1;
    }
    *out = v;
    return cls;
}

static bool
scope_valid(const char *s)
{
    if (s == NULL) {
        return false;
    }
    if (strcmp(s, "province") == 0) {
        return true;
    }
    return strncmp(s, "city:", 5) == 0 && fsm_id_valid(s + 5, strlen(s + 5));
}

/*
 * Check an entry body (the object `in`) by the syntax rules, in the order
 * that decides which error is reported, filling `x`; false with `e` set on
 * the first broken rule. `path_id` is the id of a PUT's path.
 */
static bool
entry_check(const struct jcs_val *in, const char *path_id, struct entry_in *x,
            struct verr *e)
{
    static const char *const allowed[] = {
        "id", "title", "description", "provider", "theme", "keywords", "fields",
        "share", "open", "scope", "update_frequency", "security_level",
        /* read-only members of an answer, accepted and ignored so that a
         * client may PUT back what it read */
        "status", "version", "revision", "updated_at", "hash", "reason", NULL
    };
    const struct jcs_val *v;
    const char *s;
    size_t len;
    int share, open;

    memset(x, 0, sizeof(*x));
    x->path_id = path_id;
    s = fsm_unknown_member(in, allowed);
    if (s != NULL) {
        char f[FSM_FIELD_LEN];
        snprintf(f, sizeof(f), "%.60s", s);
        return verr_set(e, f, "unknown field \"%s\"", f);
    }
    v = fsm_get(in, "id");
    s = v != NULL ? jcs_string(v, &len) : NULL;
    if (v == NULL && path_id != NULL) {
        /* the path's */
    } else if (s == NULL || !fsm_id_valid(s, len)) {
        return verr_set(
            e, "id", "\"id\" must be an id: [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    } else if (path_id != NULL && strcmp(s, path_id) != 0) {
        return verr_set(e, "id", "\"id\" must match the id in the path");
    } else {
        x->id = v;
    }
    x->title = fsm_get(in, "title");
    s = x->title != NULL ? jcs_string(x->title, &len) : NULL;
    if (s == NULL || len > MAX_TITLE || fsm_blank(s, len)) {
        return verr_set(e, "title",
                        "\"title\" must be a non-blank string of 1-%d bytes",
                        MAX_TITLE);
    }
    x->provider = fsm_get(in, "provider");
    s = x->provider != NULL ? jcs_string(x->provider, &len) : NULL;
    if (s == NULL || !fsm_id_valid(s, len)) {
        return verr_set(e, "provider", "\"provider\" must be the id of an org");
    }
    if (!opt_text(in, "description", MAX_TEXT, &x->description, e) ||
        !opt_text(in, "theme", MAX_THEME, &x->theme, e) ||
        !check_keywords(in, &x->keywords, e) ||
        !check_fields(in, &x->fields, e)) {
        return false;
    }
    share = check_class(in, "share", &x->share, e);
    if (share < 0) {
        return false;
    }
    open = check_class(in, "open", &x->open, e);
    if (open < 0) {
        return false;
    }
    if (open > share) {
        return verr_set(e, "open.class",
                        "\"open.class\" may not be more permissive than "
                        "\"share.class\" (unconditional > conditional > none)");
    }
    /* The frequencies are those the reports know a period for. */
    x->freq = fsm_get_str(in, "update_frequency", NULL);
    if (fsm_frequency_period_ms(x->freq) < 0) {
        return verr_set(e, "update_frequency",
                        "\"update_frequency\" must be realtime, daily, weekly, "
                        "monthly, quarterly, yearly or irregular");
    }
    /* An integer as written (2, not 2.0): the type the rule always had. */
    v = fsm_get(in, "security_level");
    if (v == NULL || !jcs_is_int_literal(v) || jcs_number(v) < 1 ||
        jcs_number(v) > 4) {
        return verr_set(e, "security_level",
                        "\"security_level\" must be an integer from 1 to 4");
    }
    x->security_level = v;
    x->scope = fsm_get(in, "scope");
    if (!scope_valid(x->scope ? jcs_string(x->scope, NULL) : NULL)) {
        return verr_set(e, "scope",
                        "\"scope\" must be \"province\" or \"city:<org>\"");
    }
    return true;
}

/* String `v` of `d`, or "" when NULL. */
static void
write_text(struct jcs_writer *w, const struct jcs_doc *d,
           const struct jcs_val *v)
{
    if (v != NULL && jcs_type(v) == JCS_STRING) {
        jcs_w_val(w, d, v);
    } else {
        jcs_w_str(w, "");
    }
}

/* A class object as stored: basis (when not blank), class, conditions. */
static void
write_class(struct jcs_writer *w, const struct jcs_doc *d,
            const struct jcs_val *v)
{
    const struct jcs_val *basis = fsm_get(v, "basis");
    const char *b = basis != NULL ? jcs_string(basis, NULL) : NULL;

    jcs_w_obj(w);
    if (b != NULL && !fsm_blank(b, strlen(b))) {
        jcs_w_key(w, "basis");
        jcs_w_val(w, d, basis);
    }
    jcs_w_kstr(w, "class",
               class_names[fsm_name_index(class_names,
                                          fsm_get_str(v, "class", NULL))]);
    jcs_w_key(w, "conditions");
    write_text(w, d, fsm_get(v, "conditions"));
    jcs_w_obj_end(w);
}

/*
 * The entry object checked into `x` (values of `d`), in the shape stored in
 * facts, every optional member filled in, status not yet set.
 */
static void
entry_write(struct jcs_writer *w, const struct jcs_doc *d,
            const struct entry_in *x)
{
    jcs_w_obj(w);
    jcs_w_key(w, "description");
    write_text(w, d, x->description);
    jcs_w_key(w, "fields");
    jcs_w_arr(w);
    for (size_t i = 0; i < jcs_len(x->fields); i++) {
        const struct jcs_val *fd = jcs_at(x->fields, i);

        jcs_w_obj(w);
        jcs_w_key(w, "description");
        write_text(w, d, fsm_get(fd, "description"));
        jcs_w_key(w, "name");
        jcs_w_val(w, d, fsm_get(fd, "name"));
        jcs_w_kbool(w, "required", fsm_get_true(fd, "required"));
        jcs_w_key(w, "type");
        jcs_w_val(w, d, fsm_get(fd, "type"));
        jcs_w_obj_end(w);
    }
    jcs_w_arr_end(w);
    jcs_w_key(w, "id");
    if (x->id != NULL) {
        jcs_w_val(w, d, x->id);
    } else {
        jcs_w_str(w, x->path_id);
    }
    jcs_w_key(w, "keywords");
    if (x->keywords != NULL) {
        jcs_w_val(w, d, x->keywords);
    } else {
        jcs_w_arr(w);
        jcs_w_arr_end(w);
    }
    jcs_w_key(w, "open");
    write_class(w, d, x->open);
    jcs_w_key(w, "provider");
    jcs_w_val(w, d, x->provider);
    jcs_w_key(w, "scope");
    jcs_w_val(w, d, x->scope);
    jcs_w_key(w, "security_level");
    jcs_w_val(w, d, x->security_level);
    jcs_w_key(w, "share");
    write_class(w, d, x->share);
    jcs_w_key(w, "theme");
    write_text(w, d, x->theme);
    jcs_w_key(w, "title");
    jcs_w_val(w, d, x->title);
    jcs_w_kstr(w, "update_frequency", x->freq);
    jcs_w_obj_end(w);
}

/*
 * Parse and check the command's entry body: PC_OK with `*o` the entry
 * object as stored (its own document, status not set), or NULL with `e` set
 * (a verdict); PC_ENOMEM.
 */
static int
entry_from_body(struct pc_slice body, const char *path_id, struct jcs_doc **o,
                struct verr *e)
{
    struct entry_in x;
    struct jcs_writer w;
    struct jcs_doc *in;
    struct pc_buf b;
    int rc;

    *o = NULL;
    rc = fsm_parse_object(body.p, body.len, &in, e->msg);
    if (rc != PC_OK) {
        snprintf(e->field, FSM_FIELD_LEN, "%s", "");
        return rc == PC_ENOMEM ? rc : PC_OK;
    }
    if (!entry_check(jcs_root(in), path_id, &x, e)) {
        jcs_doc_free(in);
        return PC_OK;
    }
    pc_buf_init(&b);
    jcs_w_init(&w, &b);
    entry_write(&w, in, &x);
    rc = jcs_w_finish(&w);
    if (rc == PC_OK) {
        rc = jcs_parse((const char *)b.data, b.len, o, NULL);
    }
    pc_buf_release(&b);
    jcs_doc_free(in);
    return rc;
}

bool
fsm_entry_body_valid(const void *body, size_t len, const char *path_id,
                     char *msg, char *field)
{
    struct verr e = { msg, field };
    struct entry_in x;
    struct jcs_doc *in;
    bool ok;

    if (fsm_parse_object(body, len, &in, msg) != PC_OK) {
        snprintf(field, FSM_FIELD_LEN, "%s", "");
        return false;
    }
    ok = entry_check(jcs_root(in), path_id, &x, &e);
    jcs_doc_free(in);
    return ok;
}

/* ---- derived state ---------------------------------------------------- */

static void
fields_free(struct fsm_field *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pc_free(fields[i].name);
    }
    pc_free(fields);
}

/* A deep copy of `n` fields into `*out` (NULL when n is 0). */
static int
fields_dup(const struct fsm_field *in, size_t n, struct fsm_field **out)
{
    *out = NULL;
    if (n == 0) {
        return PC_OK;
    }
    *out = pc_calloc(n, sizeof(**out));
    if (*out == NULL) {
        return PC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        (*out)[i] = in[i];
        (*out)[i].name = pc_strdup(in[i].name);
        if ((*out)[i].name == NULL) {
            fields_free(*out, i);
            *out = NULL;
            return PC_ENOMEM;
        }
    }
    return PC_OK;
}

void
fsm_entry_free(void *entry)
{
    struct fsm_entry *e = entry;

    if (e == NULL) {
        return;
    }
    pc_free(e->id);
    pc_free(e->provider);
    pc_free(e->scope);
    pc_free(e->title_norm);
    fields_free(e->fields, e->n_fields);
    fields_free(e->force_fields, e->n_force_fields);
    pc_free(e);
}

/* Trimmed (ASCII whitespace), ASCII case-folded: one data, one source. */
static char *
title_norm(const char *t)
{
    size_t len;
    char *s;

    while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r') {
        t++;
    }
    len = strlen(t);
    while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t' ||
                       t[len - 1] == '\n' || t[len - 1] == '\r')) {
        len--;
    }
    s = pc_strndup(t, len);
    for (size_t i = 0; s != NULL && i < len; i++) {
        if (s[i] >= 'A' && s[i] <= 'Z') {
            s[i] = (char)(s[i] - 'A' + 'a');
        }
    }
    return s;
}

static enum fsm_class
class_of(const struct jcs_val *p, const char *key)
{
    int c = fsm_name_index(class_names,
                           fsm_get_str(fsm_get(p, key), "class", NULL));

    return c < 0 ? FSM_CLASS_NONE : (enum fsm_class)c;
}

/* String member `key` of `p`, or "" (for the derived state). */
static const char *
str_or_empty(const struct jcs_val *p, const char *key)
{
    return fsm_get_str(p, key, NULL) ?: "";
}

int
fsm_derive_entry(struct fsm *f, const struct fact *fact,
                 const struct jcs_val *p)
{
    struct fsm_entry *e = pc_calloc(1, sizeof(*e)), *prev;
    const struct jcs_val *fields = fsm_get(p, "fields"), *level;
    size_t n_fields = fields != NULL ? jcs_len(fields) : 0;
    void *old = NULL;
    int st;

    if (e == NULL) {
        return PC_ENOMEM;
    }
    e->id = pc_strndup((const char *)fact->id.p, fact->id.len);
    e->provider = pc_strdup(str_or_empty(p, "provider"));
    e->scope = pc_strdup(str_or_empty(p, "scope"));
    e->title_norm = title_norm(str_or_empty(p, "title"));
    if (e->id == NULL || e->provider == NULL || e->scope == NULL ||
        e->title_norm == NULL) {
        goto err;
    }
    st = fsm_name_index(status_names, fsm_get_str(p, "status", NULL));
    e->status = st < 0 ? FSM_ENTRY_DRAFT : (enum fsm_entry_status)st;
    e->share = class_of(p, "share");
    e->open = class_of(p, "open");
    level = fsm_get(p, "security_level");
    e->security_level = level != NULL ? (int)jcs_number(level) : 0;
    if (n_fields > 0) {
        e->fields = pc_calloc(n_fields, sizeof(*e->fields));
        if (e->fields == NULL) {
            goto err;
        }
    }
    for (size_t i = 0; i < n_fields; i++) {
        const struct jcs_val *x = jcs_at(fields, i);
        struct fsm_field *fd = &e->fields[e->n_fields];
        int t = fsm_name_index(type_names, fsm_get_str(x, "type", NULL));

        fd->name = pc_strdup(str_or_empty(x, "name"));
        if (fd->name == NULL) {
            goto err;
        }
        fd->type = t < 0 ? FSM_FIELD_STRING : (enum fsm_field_type)t;
        fd->required = fsm_get_true(x, "required");
        e->n_fields++;
    }
    e->version = fact->version;
    e->rev = fact->revision;
    prev = pc_map_get(&f->entries, e->id, strlen(e->id));
    if (e->status == FSM_ENTRY_PUBLISHED || e->status == FSM_ENTRY_RETIRED) {
        e->public_rev = fact->revision;
        e->public_open = e->open;
        e->public_share = e->share;
        e->in_force = e->status == FSM_ENTRY_PUBLISHED;
        if (e->in_force &&
            fields_dup(e->fields, e->n_fields, &e->force_fields) != PC_OK) {
            goto err;
        }
        e->n_force_fields = e->in_force ? e->n_fields : 0;
    } else if (prev != NULL) {
        e->public_rev = prev->public_rev;
        e->public_open = prev->public_open;
        e->public_share = prev->public_share;
        e->in_force = prev->in_force;
        if (fields_dup(prev->force_fields, prev->n_force_fields,
                       &e->force_fields) != PC_OK) {
            goto err;
        }
        e->n_force_fields = prev->n_force_fields;
    }
    if (pc_map_put(&f->entries, e->id, strlen(e->id), e, &old) != PC_OK) {
        goto err;
    }
    fsm_entry_free(old);
    return PC_OK;
err:
    fsm_entry_free(e);
    return PC_ENOMEM;
}

/* ---- access ----------------------------------------------------------- */

static bool
is_provincial_authority(const struct fsm *f, const struct fsm_principal *p)
{
    const struct fsm_org *o;

    if (p == NULL || !p->active || !(p->roles & FSM_ROLE_AUTHORITY) ||
        p->org == NULL) {
        return false;
    }
    o = fsm_org(f, p->org);
    return o != NULL && o->authority && o->parent == NULL &&
           strcmp(o->level, "province") == 0;
}

/* A city authority org: the org named by scope "city:<id>". */
static bool
is_city_authority_org(const struct fsm_org *o)
{
    return o != NULL && o->authority && strcmp(o->level, "city") == 0;
}

bool
fsm_entry_authority(const struct fsm *f, const struct fsm_principal *p,
                    const struct fsm_entry *e)
{
    if (strncmp(e->scope, "city:", 5) == 0) {
        return fsm_authority_over(f, p, e->scope + 5);
    }
    return is_provincial_authority(f, p);
}

/* Whether `p` edits entries of `provider` with `scope` (see fsm.h). */
static bool
editor_of(const struct fsm *f, const struct fsm_principal *p,
          const char *provider, const char *scope)
{
    if (p == NULL || !p->active || p->org == NULL) {
        return false;
    }
    if ((p->roles & FSM_ROLE_PROVIDER) && strcmp(p->org, provider) == 0) {
        return true;
    }
    return (p->roles & FSM_ROLE_AUTHORITY) && strncmp(scope, "city:", 5) == 0 &&
           strcmp(scope + 5, p->org) == 0 &&
           is_city_authority_org(fsm_org(f, p->org));
}

bool
fsm_entry_editor(const struct fsm *f, const struct fsm_principal *p,
                 const struct fsm_entry *e)
{
    return editor_of(f, p, e->provider, e->scope);
}

uint64_t
fsm_entry_visible_rev(const struct fsm *f, const struct fsm_entry *e,
                      const struct fsm_principal *p)
{
    if (p == NULL) {
        return e->public_open != FSM_CLASS_NONE ? e->public_rev : 0;
    }
    if ((p->org != NULL && strcmp(p->org, e->provider) == 0) ||
        fsm_entry_editor(f, p, e) || fsm_entry_authority(f, p, e)) {
        return e->rev;
    }
    return e->public_rev;
}

bool
fsm_entry_version_visible(const struct fsm *f, const struct fsm_entry *e,
                          const struct fsm_principal *p, const char *status,
                          const char *open_class)
{
    bool settled, open;

    if (p != NULL &&
        ((p->org != NULL && strcmp(p->org, e->provider) == 0) ||
         fsm_entry_editor(f, p, e) || fsm_entry_authority(f, p, e))) {
        return true; /* the provider side and the authority in scope */
    }
    settled = status != NULL && (strcmp(status, "published") == 0 ||
                                 strcmp(status, "retired") == 0);
    open = open_class != NULL && strcmp(open_class, "none") != 0;
    return settled && (p != NULL || open);
}

/* ---- rules ------------------------------------------------------------ */

struct dup_find {
    const char *provider, *title_norm, *self;
    const char *found; /* the smallest matching id, for a stable message */
};

static bool
dup_cb(void *arg, const void *key, size_t klen, void *val)
{
    struct dup_find *d = arg;
    const struct fsm_entry *e = val;

    (void)key, (void)klen;
    if (e->status != FSM_ENTRY_RETIRED &&
        strcmp(e->provider, d->provider) == 0 &&
        strcmp(e->title_norm, d->title_norm) == 0 &&
        (d->self == NULL || strcmp(e->id, d->self) != 0) &&
        (d->found == NULL || strcmp(e->id, d->found) < 0)) {
        d->found = e->id;
    }
    return true;
}

/* The live entry of `provider` with the same normalised title, or NULL. */
static const char *
duplicate_of(struct fsm *f, const char *provider, const char *title,
             const char *self, bool *oom)
{
    struct dup_find d = { provider, NULL, self, NULL };
    char *norm = title_norm(title);

    if (norm == NULL) {
        *oom = true;
        return NULL;
    }
    d.title_norm = norm;
    pc_map_each(&f->entries, dup_cb, &d);
    pc_free(norm);
    return d.found;
}

/*
 * Entries another department may already provide (article 12):
 * live entries of other providers with the same normalised title, and
 * published entries whose field names include all of `o`'s (two or more).
 */
struct similar_find {
    const char *self, *provider, *title_norm;
    const struct jcs_val *fields; /* o's field list */
    const char **ids;
    size_t n, cap;
    bool oom;
};

static bool
fields_within(const struct jcs_val *fields, const struct fsm_entry *e)
{
    if (fields == NULL || jcs_len(fields) < 2) {
        return false; /* one common field name says little */
    }
    for (size_t i = 0; i < jcs_len(fields); i++) {
        const char *name = str_or_empty(jcs_at(fields, i), "name");
        size_t j = 0;

        while (j < e->n_fields && strcmp(e->fields[j].name, name) != 0) {
            j++;
        }
        if (j == e->n_fields) {
            return false;
        }
    }
    return true;
}

static bool
similar_cb(void *arg, const void *key, size_t klen, void *val)
{
    struct similar_find *d = arg;
    const struct fsm_entry *e = val;

    (void)key, (void)klen;
    if (strcmp(e->id, d->self) == 0 || e->status == FSM_ENTRY_RETIRED) {
        return true;
    }
    if ((strcmp(e->provider, d->provider) != 0 &&
         strcmp(e->title_norm, d->title_norm) == 0) ||
        (e->status == FSM_ENTRY_PUBLISHED && fields_within(d->fields, e))) {
        if (d->n == d->cap) {
            size_t cap = d->cap ? 2 * d->cap : 8;
            const char **ids = pc_realloc(d->ids, cap * sizeof(*ids));

            if (ids == NULL) {
                d->oom = true;
                return false;
            }
            d->ids = ids;
            d->cap = cap;
        }
        d->ids[d->n++] = e->id;
    }
    return true;
}

/* The sorted ids of the entries entry `o` may duplicate, into `d` (free
 * d->ids): PC_OK or PC_ENOMEM. */
static int
find_similar(struct fsm *f, const struct jcs_val *o, struct similar_find *d)
{
    char *norm = title_norm(str_or_empty(o, "title"));

    memset(d, 0, sizeof(*d));
    if (norm == NULL) {
        return PC_ENOMEM;
    }
    d->self = str_or_empty(o, "id");
    d->provider = str_or_empty(o, "provider");
    d->fields = fsm_get(o, "fields");
    d->title_norm = norm;
    pc_map_each(&f->entries, similar_cb, d);
    pc_free(norm);
    d->title_norm = NULL;
    if (d->oom) {
        return PC_ENOMEM;
    }
    /* Map order is not part of the answer: sort. */
    if (d->n > 1) {
        qsort(d->ids, d->n, sizeof(*d->ids), fsm_cmp_str);
    }
    return PC_OK;
}

/* A member a new entry version sets, replacing the current one's. */
enum set_what {
    SET_OVERRIDE,
    SET_SIMILAR,
    SET_REASON,
    SET_STATUS
};

/*
 * Append a version of entry `id`: the members of `od` (the entry object as
 * stored, or as a body makes it) with `status`, the `reason` (NULL: none),
 * "override_duplicate": true when `override`; a draft drops the
 * duplicate marks, a submission recomputes "possible_duplicate_of" (absent
 * when there is none).
 */
static int
emit_entry(struct fsm_ctx *c, const struct jcs_doc *od, const char *id,
           const char *status, const char *reason, bool override)
{
    static const char *const names[] = { "override_duplicate",
                                         "possible_duplicate_of", "reason",
                                         "status" };
    const struct jcs_val *o = jcs_root(od);
    bool draft = strcmp(status, "draft") == 0;
    bool submitted = strcmp(status, "submitted") == 0;
    enum set_what set[4];
    struct similar_find sim = { 0 };
    struct jcs_writer w;
    struct pc_buf p;
    size_t n_set = 0, k = 0;
    int rc;

    if (submitted) {
        rc = find_similar(c->f, o, &sim);
        if (rc != PC_OK) {
            pc_free(sim.ids);
            return rc;
        }
    }
    /* In canonical key order. */
    if (override) {
        set[n_set++] = SET_OVERRIDE;
    }
    if (sim.n > 0) {
        set[n_set++] = SET_SIMILAR;
    }
    if (reason != NULL) {
        set[n_set++] = SET_REASON;
    }
    set[n_set++] = SET_STATUS;
    pc_buf_init(&p);
    jcs_w_init(&w, &p);
    jcs_w_obj(&w);
    for (size_t i = 0; i <= jcs_len(o); i++) {
        size_t len = 0;
        const char *key = i < jcs_len(o) ? jcs_key(o, i, &len) : NULL;

        while (k < n_set &&
               (key == NULL || jcs_key_cmp(names[set[k]], strlen(names[set[k]]),
                                           key, len) < 0)) {
            jcs_w_key(&w, names[set[k]]);
            switch (set[k++]) {
            case SET_OVERRIDE:
                jcs_w_bool(&w, true);
                break;
            case SET_SIMILAR:
                jcs_w_arr(&w);
                for (size_t j = 0; j < sim.n; j++) {
                    jcs_w_str(&w, sim.ids[j]);
                }
                jcs_w_arr_end(&w);
                break;
            case SET_REASON:
                jcs_w_str(&w, reason);
                break;
            case SET_STATUS:
                jcs_w_str(&w, status);
                break;
            }
        }
        if (key == NULL || strcmp(key, "status") == 0 ||
            strcmp(key, "reason") == 0 ||
            (strcmp(key, "possible_duplicate_of") == 0 &&
             (draft || submitted)) ||
            (strcmp(key, "override_duplicate") == 0 && (draft || override))) {
            continue; /* replaced or dropped */
        }
        jcs_w_keyn(&w, key, len);
        jcs_w_val(&w, od, jcs_at(o, i));
    }
    jcs_w_obj_end(&w);
    rc = fsm_emit_w(c, FACT_ENTRY, NO_SLICE, fsm_str_slice(id), &w);
    pc_buf_release(&p);
    pc_free(sim.ids);
    return rc;
}

/*
 * State rules shared by create and update: the provider org exists, the
 * scope names a city authority org whose subtree holds the provider (or is
 * "province" with a province-level provider), and the actor edits for it.
 * Returns 0 when they hold, else the HTTP status of the rejection made.
 */
static int
check_provider_scope(struct fsm_ctx *c, const struct fsm_principal *actor,
                     const struct jcs_val *o, const char *id, int *rc)
{
    const char *provider = str_or_empty(o, "provider");
    const char *scope = str_or_empty(o, "scope");
    const struct fsm_org *po = fsm_org(c->f, provider);

    if (po == NULL) {
        *rc = fsm_reject(c, 400, "bad_request", NO_SLICE, fsm_str_slice(id),
                         "\"provider\": no org \"%s\"", provider);
        return 400;
    }
    if (!editor_of(c->f, actor, provider, scope)) {
        *rc = fsm_reject(c, 403, "forbidden", NO_SLICE, fsm_str_slice(id),
                         "entries of \"%s\" are written by its providers (or "
                         "a city authority for its supplementary catalog)",
                         provider);
        return 403;
    }
    if (strncmp(scope, "city:", 5) == 0) {
        const struct fsm_org *city = fsm_org(c->f, scope + 5);
        bool inside = false;

        if (!is_city_authority_org(city)) {
            *rc = fsm_reject(c, 400, "bad_request", NO_SLICE, fsm_str_slice(id),
                             "\"scope\": \"%s\" is not a city authority org",
                             scope + 5);
            return 400;
        }
        for (int d = 0; po != NULL && d < 64 && !inside; d++) {
            inside = strcmp(po->id, city->id) == 0;
            po = po->parent == NULL ? NULL : fsm_org(c->f, po->parent);
        }
        if (!inside) {
            *rc = fsm_reject(c, 400, "bad_request", NO_SLICE, fsm_str_slice(id),
                             "\"scope\": provider \"%s\" is not inside city "
                             "\"%s\"",
                             provider, city->id);
            return 400;
        }
    } else if (strcmp(po->level, "province") != 0) {
        *rc = fsm_reject(c, 400, "bad_request", NO_SLICE, fsm_str_slice(id),
                         "\"scope\": the provincial catalog needs a "
                         "province-level provider; \"%s\" is %s",
                         provider, po->level);
        return 400;
    }
    return 0;
}

/*
 * Article 23: only the provider org sets an entry's open class, so data an
 * org did not collect never enters its open list. An editor outside the
 * provider org (a city authority writing its supplementary catalog) keeps
 * the class of the current version `e`, `none` for a new entry: 403
 * otherwise. Returns 0 or the status it refused with (`*rc` set).
 */
static int
check_open_class(struct fsm_ctx *c, const struct fsm_principal *actor,
                 const struct jcs_val *o, const struct fsm_entry *e,
                 const char *id, int *rc)
{
    enum fsm_class keep = e == NULL ? FSM_CLASS_NONE : e->open;

    if ((actor->org != NULL &&
         strcmp(actor->org, str_or_empty(o, "provider")) == 0) ||
        class_of(o, "open") == keep) {
        return 0;
    }
    *rc = fsm_reject(c, 403, "forbidden", NO_SLICE, fsm_str_slice(id),
                     "only the provider org sets the open class (article "
                     "23): \"open.class\" must stay \"%s\"",
                     class_names[keep]);
    return 403;
}

static int
entry_create(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    char msg[200], field[FSM_FIELD_LEN];
    struct verr e = { msg, field };
    const struct jcs_val *o;
    struct jcs_doc *od;
    const char *id, *dup;
    bool oom = false;
    int rc;

    rc = entry_from_body(c->cmd->body, NULL, &od, &e);
    if (rc != PC_OK) {
        return rc;
    }
    if (od == NULL) {
        return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE, "%s", msg);
    }
    o = jcs_root(od);
    id = str_or_empty(o, "id");
    if (check_provider_scope(c, actor, o, id, &rc) != 0 ||
        check_open_class(c, actor, o, NULL, id, &rc) != 0) {
        jcs_doc_free(od);
        return rc;
    }
    if (fsm_entry(c->f, id) != NULL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, fsm_str_slice(id),
                        "entry \"%s\" already exists", id);
    } else if ((dup = duplicate_of(c->f, str_or_empty(o, "provider"),
                                   str_or_empty(o, "title"), NULL, &oom)) !=
                   NULL ||
               oom) {
        rc = oom ? PC_ENOMEM
                 : fsm_reject(c, 409, "conflict", NO_SLICE, fsm_str_slice(id),
                              "one data, one source: entry \"%s\" of the "
                              "same provider has this title",
                              dup);
    } else {
        rc = emit_entry(c, od, id, "draft", NULL, false);
    }
    jcs_doc_free(od);
    return rc;
}

/* The entry named by the command's target, or NULL (rejected with 404). */
static const struct fsm_entry *
target_entry(struct fsm_ctx *c, const struct fsm_principal *actor, int *rc)
{
    char id[FACT_MAX_ID + 1];
    const struct fsm_entry *e = NULL;

    if (c->cmd->target.len > 0 && c->cmd->target.len <= FACT_MAX_ID) {
        memcpy(id, c->cmd->target.p, c->cmd->target.len);
        id[c->cmd->target.len] = '\0';
        e = fsm_entry(c->f, id);
    }
    /* An entry the actor may not see is answered like a missing one. */
    if (e == NULL || fsm_entry_visible_rev(c->f, e, actor) == 0) {
        *rc = fsm_reject(c, 404, "not_found", NO_SLICE, c->cmd->target,
                         "no such catalog entry");
        return NULL;
    }
    return e;
}

/* The current version's payload as a document (`*out`): PC_OK, PC_ENOMEM
 * or PC_ECORRUPT. */
static int
current_payload(struct fsm_ctx *c, const struct fsm_entry *e,
                struct jcs_doc **out)
{
    struct fact fact;
    int rc;

    if (led_get(c->f->led, e->rev, &fact) != PC_OK) {
        return PC_ECORRUPT;
    }
    rc = jcs_parse((const char *)fact.payload.p, fact.payload.len, out, NULL);
    return rc == PC_OK || rc == PC_ENOMEM ? rc : PC_ECORRUPT;
}

/* Whether two values are equal: same type and content, objects member by
 * member. */
static bool
same_value(const struct jcs_val *a, const struct jcs_val *b)
{
    size_t alen, blen;
    const char *as, *bs;

    if (jcs_type(a) != jcs_type(b) || jcs_len(a) != jcs_len(b)) {
        return false;
    }
    switch (jcs_type(a)) {
    case JCS_NUMBER:
        return jcs_number(a) == jcs_number(b);
    case JCS_STRING:
        as = jcs_string(a, &alen);
        bs = jcs_string(b, &blen);
        return alen == blen && memcmp(as, bs, alen) == 0;
    case JCS_OBJECT:
        for (size_t i = 0; i < jcs_len(a); i++) {
            as = jcs_key(a, i, &alen);
            bs = jcs_key(b, i, &blen);
            if (alen != blen || memcmp(as, bs, alen) != 0) {
                return false;
            }
        }
        /* fallthrough */
    case JCS_ARRAY:
        for (size_t i = 0; i < jcs_len(a); i++) {
            if (!same_value(jcs_at(a, i), jcs_at(b, i))) {
                return false;
            }
        }
        return true;
    default:
        return true; /* null, true, false */
    }
}

/* Whether member `key` differs between objects `a` and `b` (or is absent
 * from either). */
static bool
member_changed(const struct jcs_val *a, const struct jcs_val *b,
               const char *key)
{
    const struct jcs_val *x = fsm_get(a, key), *y = fsm_get(b, key);

    return x == NULL || y == NULL || !same_value(x, y);
}

/*
 * The integer at `off` of `text` (an integer literal jcs accepted), exact,
 * as apply has always read it: 0 when it does not fit 64 bits (the jansson
 * parse apply once used refused the whole text then).
 */
static long long
int_literal(struct pc_slice text, size_t off)
{
    bool neg = off < text.len && text.p[off] == '-';
    unsigned long long v = 0, max = neg ? 1ULL << 63 : (1ULL << 63) - 1;

    for (size_t i = off + neg;
         i < text.len && text.p[i] >= '0' && text.p[i] <= '9'; i++) {
        unsigned d = (unsigned)(text.p[i] - '0');

        if (v > (max - d) / 10) {
            return 0;
        }
        v = v * 10 + d;
    }
    return neg ? (long long)(0 - v) : (long long)v;
}

/* The leader's "if_match" in the extra (0 when none or not an integer):
 * PC_OK or PC_ENOMEM. */
static int
extra_if_match(struct fsm_ctx *c, long long *out)
{
    const struct jcs_val *v;
    struct jcs_doc *x;
    int rc;

    *out = 0;
    rc = fsm_parse(c->cmd->extra.p, c->cmd->extra.len, &x, NULL);
    if (rc != PC_OK) {
        return rc == PC_ENOMEM ? rc : PC_OK;
    }
    v = fsm_get(jcs_root(x), "if_match");
    if (v != NULL && jcs_is_int_literal(v)) {
        *out = int_literal(c->cmd->extra, jcs_offset(v));
    }
    jcs_doc_free(x);
    return PC_OK;
}

static int
entry_update(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    static const char *const reviewed[] = { "fields",         "share", "open",
                                            "security_level", "scope", NULL };
    char msg[200], field[FSM_FIELD_LEN];
    struct verr ve = { msg, field };
    const struct fsm_entry *e;
    const struct jcs_val *o;
    struct jcs_doc *od = NULL, *cur = NULL;
    const char *status, *dup;
    long long if_match;
    bool oom = false, major = false;
    int rc = PC_OK;

    e = target_entry(c, actor, &rc);
    if (e == NULL) {
        return rc;
    }
    rc = entry_from_body(c->cmd->body, e->id, &od, &ve);
    if (rc == PC_OK) {
        rc = extra_if_match(c, &if_match);
    }
    if (rc != PC_OK) {
        jcs_doc_free(od);
        return rc;
    }
    if (od == NULL) {
        return fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target, "%s",
                          msg);
    }
    o = jcs_root(od);
    if (strcmp(str_or_empty(o, "provider"), e->provider) != 0) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                        "\"provider\" cannot change (it is \"%s\")",
                        e->provider);
        goto out;
    }
    if (!fsm_entry_editor(c->f, actor, e)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                        "only the provider side edits entry \"%s\"", e->id);
        goto out;
    }
    if (check_provider_scope(c, actor, o, e->id, &rc) != 0 ||
        check_open_class(c, actor, o, e, e->id, &rc) != 0) {
        goto out;
    }
    if (if_match <= 0) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                        "If-Match required");
        goto out;
    }
    if ((uint64_t)if_match != e->version) {
        struct pc_buf det;

        pc_buf_init(&det);
        rc = fsm_detail(&det, (int64_t)e->version, NULL, -1, NO_SLICE);
        if (rc == PC_OK) {
            rc = fsm_reject_detail(
                c, 409, "conflict", NO_SLICE, c->cmd->target, &det,
                "If-Match: version %lld is not current; the current version "
                "is %llu",
                if_match, (unsigned long long)e->version);
        }
        pc_buf_release(&det);
        goto out;
    }
    switch (e->status) {
    case FSM_ENTRY_DRAFT:
    case FSM_ENTRY_REJECTED:
        status = "draft";
        break;
    case FSM_ENTRY_PUBLISHED:
        rc = current_payload(c, e, &cur);
        if (rc != PC_OK) {
            goto out;
        }
        for (int i = 0; reviewed[i] != NULL; i++) {
            major = major || member_changed(jcs_root(cur), o, reviewed[i]);
        }
        status = major ? "submitted" : "published";
        break;
    default:
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "entry \"%s\" is %s: it cannot be edited now", e->id,
                        status_names[e->status]);
        goto out;
    }
    dup =
        duplicate_of(c->f, e->provider, str_or_empty(o, "title"), e->id, &oom);
    if (oom) {
        rc = PC_ENOMEM;
    } else if (dup != NULL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "one data, one source: entry \"%s\" of the same "
                        "provider has this title",
                        dup);
    } else {
        rc = emit_entry(c, od, e->id, status, NULL, false);
    }
out:
    jcs_doc_free(cur);
    jcs_doc_free(od);
    return rc;
}

/* A new version of `e` with only the status (and reason) changed. */
static int
entry_transition(struct fsm_ctx *c, const struct fsm_entry *e,
                 const char *status, const char *reason)
{
    struct jcs_doc *o;
    int rc = current_payload(c, e, &o);

    if (rc != PC_OK) {
        return rc;
    }
    rc = emit_entry(c, o, e->id, status, reason, false);
    jcs_doc_free(o);
    return rc;
}

static int
entry_submit(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    const struct fsm_entry *e;
    int rc = PC_OK;

    e = target_entry(c, actor, &rc);
    if (e == NULL) {
        return rc;
    }
    if (!fsm_entry_editor(c->f, actor, e)) {
        return fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                          "only the provider side submits entry \"%s\"", e->id);
    }
    if (e->status != FSM_ENTRY_DRAFT && e->status != FSM_ENTRY_REJECTED) {
        return fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                          "entry \"%s\" is %s; only a draft or rejected "
                          "entry is submitted",
                          e->id, status_names[e->status]);
    }
    return entry_transition(c, e, "submitted", NULL);
}

/*
 * Whether `actor` wrote one of the versions under review: the trailing run
 * of draft and submitted versions (a reviewer never approves its own work).
 */
static int
edited_pending(struct fsm_ctx *c, const struct fsm_entry *e,
               const struct fsm_principal *actor, bool *out)
{
    struct idx_key k = { FACT_ENTRY, NO_SLICE, fsm_str_slice(e->id) };

    *out = false;
    for (uint64_t v = e->version; v >= 1 && !*out; v--) {
        uint64_t rev;
        struct fact fact;
        struct jcs_doc *p;
        int st, rc;

        if (idx_version_rev(led_idx(c->f->led), &k, v, &rev) != PC_OK ||
            led_get(c->f->led, rev, &fact) != PC_OK) {
            return PC_OK;
        }
        rc =
            jcs_parse((const char *)fact.payload.p, fact.payload.len, &p, NULL);
        if (rc != PC_OK) {
            return rc == PC_ENOMEM ? rc : PC_ECORRUPT;
        }
        st = fsm_name_index(status_names,
                            fsm_get_str(jcs_root(p), "status", NULL));
        jcs_doc_free(p);
        if (st != FSM_ENTRY_DRAFT && st != FSM_ENTRY_SUBMITTED) {
            break;
        }
        *out = fact.principal.len == strlen(actor->id) &&
               memcmp(fact.principal.p, actor->id, fact.principal.len) == 0;
    }
    return PC_OK;
}

/* The body's "reason": a non-blank string, or NULL. */
static const char *
body_reason(const struct jcs_val *b)
{
    const struct jcs_val *r = fsm_get(b, "reason");

    return fsm_text_ok(r, MAX_TEXT) ? jcs_string(r, NULL) : NULL;
}

/* Approve; an entry flagged as a possible duplicate needs the reviewer's
 * "override_duplicate": true and a reason, both kept in the version. */
static int
entry_approve(struct fsm_ctx *c, const struct fsm_entry *e,
              const struct jcs_val *b, const char *reason)
{
    const struct jcs_val *dups;
    struct jcs_doc *o;
    size_t n;
    int rc = current_payload(c, e, &o);

    if (rc != PC_OK) {
        return rc;
    }
    dups = fsm_get(jcs_root(o), "possible_duplicate_of");
    n = dups != NULL && jcs_type(dups) == JCS_ARRAY ? jcs_len(dups) : 0;
    if (n > 0 && (!fsm_get_true(b, "override_duplicate") || reason == NULL)) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "entry \"%s\" may duplicate \"%s\"%s: approve with "
                        "\"override_duplicate\": true and a \"reason\"",
                        e->id, jcs_string(jcs_at(dups, 0), NULL) ?: "(null)",
                        n > 1 ? " and others" : "");
    } else {
        rc = emit_entry(c, o, e->id, "published", reason, n > 0);
    }
    jcs_doc_free(o);
    return rc;
}

/* The command's body parsed (`*b` NULL when it is not JSON): PC_OK or
 * PC_ENOMEM. */
static int
loose_body(struct fsm_ctx *c, struct jcs_doc **b)
{
    int rc = fsm_parse(c->cmd->body.p, c->cmd->body.len, b, NULL);

    if (rc != PC_OK) {
        *b = NULL;
    }
    return rc == PC_ENOMEM ? rc : PC_OK;
}

static int
entry_review(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    const struct fsm_entry *e;
    const struct jcs_val *b;
    struct jcs_doc *bd;
    const char *decision, *reason;
    bool approve, own = false;
    int rc;

    rc = loose_body(c, &bd);
    if (rc != PC_OK) {
        return rc;
    }
    b = bd != NULL ? jcs_root(bd) : NULL;
    decision = fsm_get_str(b, "decision", NULL);
    reason = body_reason(b);
    approve = decision != NULL && strcmp(decision, "approve") == 0;
    if (!approve && (decision == NULL || strcmp(decision, "reject") != 0)) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                        "\"decision\" must be \"approve\" or \"reject\"");
        goto out;
    }
    if (!approve && reason == NULL) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                        "\"reason\" is required to reject");
        goto out;
    }
    e = target_entry(c, actor, &rc);
    if (e == NULL) {
        goto out;
    }
    if (!fsm_entry_authority(c->f, actor, e)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                        "entry \"%s\" is reviewed by the authority of its "
                        "scope (%s)",
                        e->id, e->scope);
        goto out;
    }
    rc = edited_pending(c, e, actor, &own);
    if (rc != PC_OK) {
        goto out;
    }
    if (own) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                        "a principal does not review an entry it edited");
    } else if (e->status != FSM_ENTRY_SUBMITTED) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "entry \"%s\" is %s; only a submitted entry is "
                        "reviewed",
                        e->id, status_names[e->status]);
    } else if (approve) {
        rc = entry_approve(c, e, b, reason);
    } else {
        rc = entry_transition(c, e, "rejected", reason);
    }
out:
    jcs_doc_free(bd);
    return rc;
}

static int
entry_retire(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    const struct fsm_entry *e;
    struct jcs_doc *bd;
    const char *reason;
    int rc;

    rc = loose_body(c, &bd);
    if (rc != PC_OK) {
        return rc;
    }
    reason = body_reason(bd != NULL ? jcs_root(bd) : NULL);
    if (reason == NULL) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                        "\"reason\" is required to retire an entry");
    } else if ((e = target_entry(c, actor, &rc)) == NULL) {
        /* rejected as not found */
    } else if (!fsm_entry_editor(c->f, actor, e) &&
               !fsm_entry_authority(c->f, actor, e)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                        "entry \"%s\" is retired by its provider or the "
                        "authority of its scope",
                        e->id);
    } else if (e->status == FSM_ENTRY_RETIRED) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "entry \"%s\" is already retired", e->id);
    } else {
        rc = entry_transition(c, e, "retired", reason);
    }
    jcs_doc_free(bd);
    return rc;
}

int
fsm_rules_catalog(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    switch (c->cmd->type) {
    case CMD_ENTRY_CREATE:
        return entry_create(c, actor);
    case CMD_ENTRY_UPDATE:
        return entry_update(c, actor);
    case CMD_ENTRY_SUBMIT:
        return entry_submit(c, actor);
    case CMD_ENTRY_REVIEW:
        return entry_review(c, actor);
    case CMD_ENTRY_RETIRE:
        return entry_retire(c, actor);
    }
    return fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                      "unknown catalog command %u", c->cmd->type);
}
