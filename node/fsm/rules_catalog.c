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
static const char *const frequencies[] = { "realtime",  "daily",     "weekly",
                                           "monthly",   "quarterly", "yearly",
                                           "irregular", NULL };
static const char *const status_names[] = { "draft",     "submitted",
                                            "published", "rejected",
                                            "retired",   NULL };

static int
index_of(const char *s, const char *const *set)
{
    for (int i = 0; s != NULL && set[i] != NULL; i++) {
        if (strcmp(s, set[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static struct pc_slice
str_slice(const char *s)
{
    return (struct pc_slice){ (const uint8_t *)s, s == NULL ? 0 : strlen(s) };
}

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

/* An optional string of at most `max` bytes, defaulting to "". */
static bool
opt_text(json_t *in, json_t *out, const char *key, size_t max, struct verr *e)
{
    json_t *v = json_object_get(in, key);

    if (v == NULL || json_is_null(v)) {
        json_object_set_new(out, key, json_string(""));
        return true;
    }
    if (!json_is_string(v) || json_string_length(v) > max) {
        return verr_set(e, key, "\"%s\" must be a string of at most %zu bytes",
                        key, max);
    }
    json_object_set(out, key, v);
    return true;
}

static bool
blank(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
            return false;
        }
    }
    return true;
}

static bool
norm_keywords(json_t *in, json_t *out, struct verr *e)
{
    json_t *v = json_object_get(in, "keywords"), *k;
    size_t i;

    if (v == NULL || json_is_null(v)) {
        json_object_set_new(out, "keywords", json_array());
        return true;
    }
    if (!json_is_array(v) || json_array_size(v) > MAX_KEYWORDS) {
        return verr_set(e, "keywords",
                        "\"keywords\" must be an array of at most %d strings",
                        MAX_KEYWORDS);
    }
    json_array_foreach(v, i, k)
    {
        if (!json_is_string(k) || json_string_length(k) == 0 ||
            json_string_length(k) > MAX_KEYWORD) {
            char f[32];
            snprintf(f, sizeof(f), "keywords[%zu]", i);
            return verr_set(e, f, "\"%s\" must be a string of 1-%d bytes", f,
                            MAX_KEYWORD);
        }
    }
    json_object_set(out, "keywords", v);
    return true;
}

static bool
norm_field(json_t *in, size_t i, json_t *seen, json_t *out, struct verr *e)
{
    static const char *const allowed[] = { "name", "type", "required",
                                           "description", NULL };
    char f[FSM_FIELD_LEN];
    const char *k;
    json_t *v, *name, *req, *descr;

    snprintf(f, sizeof(f), "fields[%zu]", i);
    if (!json_is_object(in)) {
        return verr_set(e, f, "\"%s\" must be an object", f);
    }
    json_object_foreach(in, k, v)
    {
        if (index_of(k, allowed) < 0) {
            snprintf(f, sizeof(f), "fields[%zu].%.16s", i, k);
            return verr_set(e, f, "unknown field \"%s\"", f);
        }
    }
    name = json_object_get(in, "name");
    snprintf(f, sizeof(f), "fields[%zu].name", i);
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) > MAX_FIELD_NAME) {
        return verr_set(e, f, "\"%s\" must be a string of 1-%d bytes", f,
                        MAX_FIELD_NAME);
    }
    if (json_object_get(seen, json_string_value(name)) != NULL) {
        return verr_set(e, f, "\"%s\": duplicate field name \"%.64s\"", f,
                        json_string_value(name));
    }
    json_object_set_new(seen, json_string_value(name), json_true());
    snprintf(f, sizeof(f), "fields[%zu].type", i);
    if (index_of(json_string_value(json_object_get(in, "type")), type_names) <
        0) {
        return verr_set(e, f,
                        "\"%s\" must be string, integer, number, boolean, "
                        "date, object or array",
                        f);
    }
    req = json_object_get(in, "required");
    snprintf(f, sizeof(f), "fields[%zu].required", i);
    if (req != NULL && !json_is_boolean(req)) {
        return verr_set(e, f, "\"%s\" must be true or false", f);
    }
    descr = json_object_get(in, "description");
    snprintf(f, sizeof(f), "fields[%zu].description", i);
    if (descr != NULL && !json_is_null(descr) &&
        (!json_is_string(descr) ||
         json_string_length(descr) > MAX_FIELD_DESCR)) {
        return verr_set(e, f, "\"%s\" must be a string of at most %d bytes", f,
                        MAX_FIELD_DESCR);
    }
    json_t *o = json_pack(
        "{s:O, s:O, s:b, s:s}", "name", name, "type",
        json_object_get(in, "type"), "required", json_is_true(req),
        "description", json_is_string(descr) ? json_string_value(descr) : "");
    return json_array_append_new(out, o) == 0 ||
           verr_set(e, "fields", "out of memory");
}

static bool
norm_fields(json_t *in, json_t *out, struct verr *e)
{
    json_t *v = json_object_get(in, "fields"), *seen, *arr, *x;
    size_t i;

    if (!json_is_array(v) || json_array_size(v) > MAX_FIELDS) {
        return verr_set(e, "fields",
                        "\"fields\" must be an array of at most %d field "
                        "declarations",
                        MAX_FIELDS);
    }
    seen = json_object();
    arr = json_array();
    json_array_foreach(v, i, x)
    {
        if (!norm_field(x, i, seen, arr, e)) {
            json_decref(seen);
            json_decref(arr);
            return false;
        }
    }
    json_decref(seen);
    json_object_set_new(out, "fields", arr);
    return true;
}

/*
 * A class object {class, conditions, basis}; returns the class or -1. Not
 * sharing needs its legal basis (article 18; SPEC-NOTES 73), which the
 * negative list shows; for "open" the basis is optional.
 */
static int
norm_class(json_t *in, json_t *out, const char *key, struct verr *e)
{
    json_t *v = json_object_get(in, key), *cond, *basis, *o;
    const char *k;
    json_t *x;
    char f[32];
    int cls;

    if (!json_is_object(v)) {
        verr_set(e, key, "\"%s\" must be an object {\"class\", \"conditions\"}",
                 key);
        return -1;
    }
    json_object_foreach(v, k, x)
    {
        if (strcmp(k, "class") != 0 && strcmp(k, "conditions") != 0 &&
            strcmp(k, "basis") != 0) {
            snprintf(f, sizeof(f), "%s.%.16s", key, k);
            verr_set(e, f, "unknown field \"%s\"", f);
            return -1;
        }
    }
    cls = index_of(json_string_value(json_object_get(v, "class")), class_names);
    if (cls < 0) {
        snprintf(f, sizeof(f), "%s.class", key);
        verr_set(e, f,
                 "\"%s\" must be \"unconditional\", \"conditional\" or "
                 "\"none\"",
                 f);
        return -1;
    }
    cond = json_object_get(v, "conditions");
    if (cond != NULL && !json_is_null(cond) &&
        (!json_is_string(cond) || json_string_length(cond) > MAX_TEXT)) {
        snprintf(f, sizeof(f), "%s.conditions", key);
        verr_set(e, f, "\"%s\" must be a string of at most %d bytes", f,
                 MAX_TEXT);
        return -1;
    }
    basis = json_object_get(v, "basis");
    if ((basis != NULL && !json_is_null(basis) &&
         (!json_is_string(basis) || json_string_length(basis) > MAX_TEXT)) ||
        (cls == FSM_CLASS_NONE && strcmp(key, "share") == 0 &&
         (!json_is_string(basis) || blank(json_string_value(basis))))) {
        snprintf(f, sizeof(f), "%s.basis", key);
        verr_set(e, f,
                 "\"%s\" must be a string of at most %d bytes; class "
                 "\"none\" needs it (the legal basis for not sharing)",
                 f, MAX_TEXT);
        return -1;
    }
    o = json_pack("{s:s, s:s}", "class", class_names[cls], "conditions",
                  json_is_string(cond) ? json_string_value(cond) : "");
    if (json_is_string(basis) && !blank(json_string_value(basis))) {
        json_object_set(o, "basis", basis);
    }
    json_object_set_new(out, key, o);
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
 * The entry object a body describes, every optional member filled in, in
 * the shape stored in facts (status not yet set); NULL with `e` set if the
 * body breaks a syntax rule. `path_id` is the id of a PUT's path.
 */
static json_t *
entry_normalize(json_t *in, const char *path_id, struct verr *e)
{
    static const char *const allowed[] = {
        "id", "title", "description", "provider", "theme", "keywords", "fields",
        "share", "open", "scope", "update_frequency", "security_level",
        /* read-only members of an answer, accepted and ignored so that a
         * client may PUT back what it read */
        "status", "version", "revision", "updated_at", "hash", "reason", NULL
    };
    json_t *out, *v, *id, *title;
    const char *k;
    int share, open, freq;

    json_object_foreach(in, k, v)
    {
        if (index_of(k, allowed) < 0) {
            char f[FSM_FIELD_LEN];
            snprintf(f, sizeof(f), "%.60s", k);
            verr_set(e, f, "unknown field \"%s\"", f);
            return NULL;
        }
    }
    out = json_object();
    if (out == NULL) {
        verr_set(e, "", "out of memory");
        return NULL;
    }
    id = json_object_get(in, "id");
    if (id == NULL && path_id != NULL) {
        json_object_set_new(out, "id", json_string(path_id));
    } else if (!json_is_string(id) ||
               !fsm_id_valid(json_string_value(id), json_string_length(id))) {
        verr_set(e, "id",
                 "\"id\" must be an id: [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
        goto err;
    } else if (path_id != NULL && strcmp(json_string_value(id), path_id) != 0) {
        verr_set(e, "id", "\"id\" must match the id in the path");
        goto err;
    } else {
        json_object_set(out, "id", id);
    }
    title = json_object_get(in, "title");
    if (!json_is_string(title) || json_string_length(title) > MAX_TITLE ||
        blank(json_string_value(title))) {
        verr_set(e, "title",
                 "\"title\" must be a non-blank string of 1-%d bytes",
                 MAX_TITLE);
        goto err;
    }
    json_object_set(out, "title", title);
    v = json_object_get(in, "provider");
    if (!json_is_string(v) ||
        !fsm_id_valid(json_string_value(v), json_string_length(v))) {
        verr_set(e, "provider", "\"provider\" must be the id of an org");
        goto err;
    }
    json_object_set(out, "provider", v);
    if (!opt_text(in, out, "description", MAX_TEXT, e) ||
        !opt_text(in, out, "theme", MAX_THEME, e) ||
        !norm_keywords(in, out, e) || !norm_fields(in, out, e)) {
        goto err;
    }
    share = norm_class(in, out, "share", e);
    if (share < 0) {
        goto err;
    }
    open = norm_class(in, out, "open", e);
    if (open < 0) {
        goto err;
    }
    if (open > share) {
        verr_set(e, "open.class",
                 "\"open.class\" may not be more permissive than "
                 "\"share.class\" (unconditional > conditional > none)");
        goto err;
    }
    freq = index_of(json_string_value(json_object_get(in, "update_frequency")),
                    frequencies);
    if (freq < 0) {
        verr_set(e, "update_frequency",
                 "\"update_frequency\" must be realtime, daily, weekly, "
                 "monthly, quarterly, yearly or irregular");
        goto err;
    }
    json_object_set_new(out, "update_frequency",
                        json_string(frequencies[freq]));
    v = json_object_get(in, "security_level");
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > 4) {
        verr_set(e, "security_level",
                 "\"security_level\" must be an integer from 1 to 4");
        goto err;
    }
    json_object_set(out, "security_level", v);
    v = json_object_get(in, "scope");
    if (!scope_valid(json_string_value(v))) {
        verr_set(e, "scope",
                 "\"scope\" must be \"province\" or \"city:<org>\"");
        goto err;
    }
    json_object_set(out, "scope", v);
    return out;
err:
    json_decref(out);
    return NULL;
}

static json_t *
load_body(const void *body, size_t len, struct verr *e)
{
    json_error_t je;
    json_t *o = fsm_json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

    if (o == NULL) {
        verr_set(e, "", "malformed JSON: %s", je.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        verr_set(e, "", "the body must be a JSON object");
        return NULL;
    }
    return o;
}

bool
fsm_entry_body_valid(const void *body, size_t len, const char *path_id,
                     char *msg, char *field)
{
    struct verr e = { msg, field };
    json_t *in = load_body(body, len, &e), *out;

    if (in == NULL) {
        return false;
    }
    out = entry_normalize(in, path_id, &e);
    json_decref(in);
    json_decref(out);
    return out != NULL;
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
fsm_entry_free(struct fsm_entry *e)
{
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
class_of(json_t *p, const char *key)
{
    int c = index_of(
        json_string_value(json_object_get(json_object_get(p, key), "class")),
        class_names);

    return c < 0 ? FSM_CLASS_NONE : (enum fsm_class)c;
}

int
fsm_derive_entry(struct fsm *f, const struct fact *fact, json_t *p)
{
    struct fsm_entry *e = pc_calloc(1, sizeof(*e)), *prev;
    json_t *fields = json_object_get(p, "fields"), *x;
    void *old = NULL;
    size_t i;
    int st;

    if (e == NULL) {
        return PC_ENOMEM;
    }
    e->id = pc_strndup((const char *)fact->id.p, fact->id.len);
    e->provider =
        pc_strdup(json_string_value(json_object_get(p, "provider")) ?: "");
    e->scope = pc_strdup(json_string_value(json_object_get(p, "scope")) ?: "");
    e->title_norm =
        title_norm(json_string_value(json_object_get(p, "title")) ?: "");
    if (e->id == NULL || e->provider == NULL || e->scope == NULL ||
        e->title_norm == NULL) {
        goto err;
    }
    st =
        index_of(json_string_value(json_object_get(p, "status")), status_names);
    e->status = st < 0 ? FSM_ENTRY_DRAFT : (enum fsm_entry_status)st;
    e->share = class_of(p, "share");
    e->open = class_of(p, "open");
    e->security_level = (int)json_integer_value(json_object_get(p, "security_"
                                                                   "level"));
    if (json_array_size(fields) > 0) {
        e->fields = pc_calloc(json_array_size(fields), sizeof(*e->fields));
        if (e->fields == NULL) {
            goto err;
        }
    }
    json_array_foreach(fields, i, x)
    {
        struct fsm_field *fd = &e->fields[e->n_fields];
        int t =
            index_of(json_string_value(json_object_get(x, "type")), type_names);

        fd->name =
            pc_strdup(json_string_value(json_object_get(x, "name")) ?: "");
        if (fd->name == NULL) {
            goto err;
        }
        fd->type = t < 0 ? FSM_FIELD_STRING : (enum fsm_field_type)t;
        fd->required = json_is_true(json_object_get(x, "required"));
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
 * Entries another department may already provide (article 12; SPEC-NOTES
 * 13): live entries of other providers with the same normalised title, and
 * published entries whose field names include all of `o`'s (two or more).
 */
struct similar_find {
    const char *self, *provider, *title_norm;
    json_t *fields; /* o's field list */
    const char **ids;
    size_t n, cap;
    bool oom;
};

static bool
fields_within(json_t *fields, const struct fsm_entry *e)
{
    json_t *fd;
    size_t i;

    if (json_array_size(fields) < 2) {
        return false; /* one common field name says little */
    }
    json_array_foreach(fields, i, fd)
    {
        const char *name = json_string_value(json_object_get(fd, "name"));
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

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Set o's "possible_duplicate_of" (sorted ids; absent when none). */
static int
mark_similar(struct fsm *f, json_t *o)
{
    struct similar_find d = { 0 };
    json_t *ids;
    int rc = PC_OK;

    json_object_del(o, "possible_duplicate_of");
    d.self = json_string_value(json_object_get(o, "id"));
    d.provider = json_string_value(json_object_get(o, "provider"));
    d.fields = json_object_get(o, "fields");
    d.title_norm = title_norm(json_string_value(json_object_get(o, "title")));
    if (d.title_norm == NULL) {
        return PC_ENOMEM;
    }
    pc_map_each(&f->entries, similar_cb, &d);
    if (d.oom) {
        rc = PC_ENOMEM;
    } else if (d.n > 0) {
        /* Map order is not part of the answer: sort. */
        qsort(d.ids, d.n, sizeof(*d.ids), cmp_str);
        ids = json_array();
        for (size_t i = 0; i < d.n; i++) {
            json_array_append_new(ids, json_string(d.ids[i]));
        }
        json_object_set_new(o, "possible_duplicate_of", ids);
    }
    pc_free((void *)d.title_norm);
    pc_free(d.ids);
    return rc;
}

static int
emit_entry(struct fsm_ctx *c, json_t *o, const char *id, const char *status,
           const char *reason)
{
    if (strcmp(status, "submitted") == 0) {
        int rc = mark_similar(c->f, o);

        if (rc != PC_OK) {
            return rc;
        }
    } else if (strcmp(status, "draft") == 0) {
        json_object_del(o, "possible_duplicate_of");
        json_object_del(o, "override_duplicate");
    }
    json_object_set_new(o, "status", json_string(status));
    json_object_del(o, "reason");
    if (reason != NULL) {
        json_object_set_new(o, "reason", json_string(reason));
    }
    return fsm_emit(c, FACT_ENTRY, NO_SLICE, str_slice(id), o);
}

/*
 * State rules shared by create and update: the provider org exists, the
 * scope names a city authority org whose subtree holds the provider (or is
 * "province" with a province-level provider), and the actor edits for it.
 * Returns 0 when they hold, else the HTTP status of the rejection made.
 */
static int
check_provider_scope(struct fsm_ctx *c, const struct fsm_principal *actor,
                     json_t *o, const char *id, int *rc)
{
    const char *provider = json_string_value(json_object_get(o, "provider"));
    const char *scope = json_string_value(json_object_get(o, "scope"));
    const struct fsm_org *po = fsm_org(c->f, provider);

    if (po == NULL) {
        *rc = fsm_reject(c, 400, "bad_request", NO_SLICE, str_slice(id),
                         "\"provider\": no org \"%s\"", provider);
        return 400;
    }
    if (!editor_of(c->f, actor, provider, scope)) {
        *rc = fsm_reject(c, 403, "forbidden", NO_SLICE, str_slice(id),
                         "entries of \"%s\" are written by its providers (or "
                         "a city authority for its supplementary catalog)",
                         provider);
        return 403;
    }
    if (strncmp(scope, "city:", 5) == 0) {
        const struct fsm_org *city = fsm_org(c->f, scope + 5);
        bool inside = false;

        if (!is_city_authority_org(city)) {
            *rc = fsm_reject(c, 400, "bad_request", NO_SLICE, str_slice(id),
                             "\"scope\": \"%s\" is not a city authority org",
                             scope + 5);
            return 400;
        }
        for (int d = 0; po != NULL && d < 64 && !inside; d++) {
            inside = strcmp(po->id, city->id) == 0;
            po = po->parent == NULL ? NULL : fsm_org(c->f, po->parent);
        }
        if (!inside) {
            *rc = fsm_reject(c, 400, "bad_request", NO_SLICE, str_slice(id),
                             "\"scope\": provider \"%s\" is not inside city "
                             "\"%s\"",
                             provider, city->id);
            return 400;
        }
    } else if (strcmp(po->level, "province") != 0) {
        *rc = fsm_reject(c, 400, "bad_request", NO_SLICE, str_slice(id),
                         "\"scope\": the provincial catalog needs a "
                         "province-level provider; \"%s\" is %s",
                         provider, po->level);
        return 400;
    }
    return 0;
}

static int
entry_create(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    char msg[200], field[FSM_FIELD_LEN];
    struct verr e = { msg, field };
    unsigned long failures = fsm_json_failures();
    json_t *in = load_body(c->cmd->body.p, c->cmd->body.len, &e), *o = NULL;
    const char *id, *dup;
    bool oom = false;
    int rc = PC_OK;

    if (in != NULL) {
        o = entry_normalize(in, NULL, &e);
        json_decref(in);
    }
    if (fsm_json_failures() != failures) {
        json_decref(o);
        return PC_ENOMEM;
    }
    if (o == NULL) {
        return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE, "%s", msg);
    }
    id = json_string_value(json_object_get(o, "id"));
    if (check_provider_scope(c, actor, o, id, &rc) != 0) {
        json_decref(o);
        return rc;
    }
    if (fsm_entry(c->f, id) != NULL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, str_slice(id),
                        "entry \"%s\" already exists", id);
    } else if ((dup = duplicate_of(
                    c->f, json_string_value(json_object_get(o, "provider")),
                    json_string_value(json_object_get(o, "title")), NULL,
                    &oom)) != NULL ||
               oom) {
        rc = oom ? PC_ENOMEM
                 : fsm_reject(c, 409, "conflict", NO_SLICE, str_slice(id),
                              "one data, one source: entry \"%s\" of the "
                              "same provider has this title",
                              dup);
    } else {
        rc = emit_entry(c, o, id, "draft", NULL);
    }
    json_decref(o);
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

/* The current version's payload as a new object. */
static json_t *
current_payload(struct fsm_ctx *c, const struct fsm_entry *e)
{
    struct fact fact;

    if (led_get(c->f->led, e->rev, &fact) != PC_OK) {
        return NULL;
    }
    return fsm_json_loadb((const char *)fact.payload.p, fact.payload.len, 0,
                          NULL);
}

static bool
member_changed(json_t *a, json_t *b, const char *key)
{
    return !json_equal(json_object_get(a, key), json_object_get(b, key));
}

static int
entry_update(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    static const char *const reviewed[] = { "fields",         "share", "open",
                                            "security_level", "scope", NULL };
    char msg[200], field[FSM_FIELD_LEN];
    struct verr ve = { msg, field };
    const struct fsm_entry *e;
    json_t *in, *o = NULL, *cur = NULL, *x;
    const char *status, *dup;
    json_int_t if_match;
    bool oom = false, major = false;
    int rc = PC_OK;

    e = target_entry(c, actor, &rc);
    if (e == NULL) {
        return rc;
    }
    unsigned long failures = fsm_json_failures();
    in = load_body(c->cmd->body.p, c->cmd->body.len, &ve);
    if (in != NULL) {
        o = entry_normalize(in, e->id, &ve);
        json_decref(in);
    }
    x = fsm_json_loadb((const char *)c->cmd->extra.p, c->cmd->extra.len, 0,
                       NULL);
    if_match = json_integer_value(json_object_get(x, "if_match"));
    json_decref(x);
    if (fsm_json_failures() != failures) {
        json_decref(o);
        return PC_ENOMEM;
    }
    if (o == NULL) {
        return fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target, "%s",
                          msg);
    }
    if (strcmp(json_string_value(json_object_get(o, "provider")),
               e->provider) != 0) {
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
    if (check_provider_scope(c, actor, o, e->id, &rc) != 0) {
        goto out;
    }
    if (if_match <= 0) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                        "If-Match required");
        goto out;
    }
    if ((uint64_t)if_match != e->version) {
        rc = fsm_reject_detail(
            c, 409, "conflict", NO_SLICE, c->cmd->target,
            json_pack("{s:I}", "current_version", (json_int_t)e->version),
            "If-Match: version %lld is not current; the current version is "
            "%llu",
            (long long)if_match, (unsigned long long)e->version);
        goto out;
    }
    switch (e->status) {
    case FSM_ENTRY_DRAFT:
    case FSM_ENTRY_REJECTED:
        status = "draft";
        break;
    case FSM_ENTRY_PUBLISHED:
        cur = current_payload(c, e);
        if (cur == NULL) {
            rc = PC_ENOMEM;
            goto out;
        }
        for (int i = 0; reviewed[i] != NULL; i++) {
            major = major || member_changed(cur, o, reviewed[i]);
        }
        status = major ? "submitted" : "published";
        break;
    default:
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "entry \"%s\" is %s: it cannot be edited now", e->id,
                        status_names[e->status]);
        goto out;
    }
    dup = duplicate_of(c->f, e->provider,
                       json_string_value(json_object_get(o, "title")), e->id,
                       &oom);
    if (oom) {
        rc = PC_ENOMEM;
    } else if (dup != NULL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "one data, one source: entry \"%s\" of the same "
                        "provider has this title",
                        dup);
    } else {
        rc = emit_entry(c, o, e->id, status, NULL);
    }
out:
    json_decref(cur);
    json_decref(o);
    return rc;
}

/* A new version of `e` with only the status (and reason) changed. */
static int
entry_transition(struct fsm_ctx *c, const struct fsm_entry *e,
                 const char *status, const char *reason)
{
    json_t *o = current_payload(c, e);
    int rc;

    if (o == NULL) {
        return PC_ENOMEM;
    }
    rc = emit_entry(c, o, e->id, status, reason);
    json_decref(o);
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
    struct idx_key k = { FACT_ENTRY, NO_SLICE, str_slice(e->id) };

    *out = false;
    for (uint64_t v = e->version; v >= 1 && !*out; v--) {
        uint64_t rev;
        struct fact fact;
        json_t *p;
        int st;

        if (idx_version_rev(led_idx(c->f->led), &k, v, &rev) != PC_OK ||
            led_get(c->f->led, rev, &fact) != PC_OK) {
            return PC_OK;
        }
        p = fsm_json_loadb((const char *)fact.payload.p, fact.payload.len, 0,
                           NULL);
        if (p == NULL) {
            return PC_ENOMEM;
        }
        st = index_of(json_string_value(json_object_get(p, "status")),
                      status_names);
        json_decref(p);
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
body_reason(json_t *b)
{
    const char *r = json_string_value(json_object_get(b, "reason"));

    return r != NULL && !blank(r) && strlen(r) <= MAX_TEXT ? r : NULL;
}

/* Approve; an entry flagged as a possible duplicate needs the reviewer's
 * "override_duplicate": true and a reason, both kept in the version. */
static int
entry_approve(struct fsm_ctx *c, const struct fsm_entry *e, json_t *b,
              const char *reason)
{
    json_t *o = current_payload(c, e), *dups;
    int rc;

    if (o == NULL) {
        return PC_ENOMEM;
    }
    dups = json_object_get(o, "possible_duplicate_of");
    if (json_array_size(dups) > 0 &&
        (!json_is_true(json_object_get(b, "override_duplicate")) ||
         reason == NULL)) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "entry \"%s\" may duplicate \"%s\"%s: approve with "
                        "\"override_duplicate\": true and a \"reason\"",
                        e->id, json_string_value(json_array_get(dups, 0)),
                        json_array_size(dups) > 1 ? " and others" : "");
    } else {
        if (json_array_size(dups) > 0) {
            json_object_set_new(o, "override_duplicate", json_true());
        }
        rc = emit_entry(c, o, e->id, "published", reason);
    }
    json_decref(o);
    return rc;
}

static int
entry_review(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    const struct fsm_entry *e;
    json_t *b;
    const char *decision, *reason;
    bool approve, own = false;
    int rc = PC_OK;

    b = fsm_json_loadb((const char *)c->cmd->body.p, c->cmd->body.len, 0, NULL);
    decision = json_string_value(json_object_get(b, "decision"));
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
    json_decref(b);
    return rc;
}

static int
entry_retire(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    const struct fsm_entry *e;
    json_t *b;
    const char *reason;
    int rc = PC_OK;

    b = fsm_json_loadb((const char *)c->cmd->body.p, c->cmd->body.len, 0, NULL);
    reason = body_reason(b);
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
    json_decref(b);
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
