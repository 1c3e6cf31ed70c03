/* SPDX-License-Identifier: MIT */
/*
 * Rules for the cluster's own commands (genesis, tick, member URLs,
 * security summaries) and for organisations and principals, with the
 * authority scopes of docs/rules.md: the provincial authority acts everywhere,
 * a city authority in its own subtree; only the provincial authority creates
 * authority orgs and grants operator and auditor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "node/fsm/fsm_int.h"

#define NO_SLICE ((struct pc_slice){ NULL, 0 })

bool
fsm_id_valid(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > 128) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9');

        if (!alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-'))) {
            return false;
        }
    }
    return true;
}

static const char *const levels[] = { "province", "city", "county", NULL };
static const char *const kinds[] = { "agency", "institution", NULL };

/* Whether every member of body `o` is one of `allowed`; else `msg`. */
static bool
only_keys(const struct jcs_val *o, const char *const *allowed, char *msg)
{
    const char *k = fsm_unknown_member(o, allowed);

    if (k != NULL) {
        snprintf(msg, 200, "unknown field \"%.64s\"", k);
        return false;
    }
    return true;
}

static bool
id_field(const struct jcs_val *o, const char *key, bool required, char *msg)
{
    const struct jcs_val *v = fsm_get(o, key);
    const char *s;
    size_t len;

    if (v == NULL || jcs_type(v) == JCS_NULL) {
        if (required) {
            snprintf(msg, 200, "\"%s\" is required", key);
        }
        return !required;
    }
    s = jcs_string(v, &len);
    if (s == NULL || !fsm_id_valid(s, len)) {
        snprintf(msg, 200,
                 "\"%s\" must be an id: [A-Za-z0-9][A-Za-z0-9._-]{0,127}", key);
        return false;
    }
    return true;
}

static bool
org_valid(const struct jcs_val *o, char *msg)
{
    static const char *const allowed[] = { "id",   "name",   "level",
                                           "kind", "parent", "authority",
                                           NULL };
    const struct jcs_val *auth = fsm_get(o, "authority");
    size_t len;

    if (!only_keys(o, allowed, msg) || !id_field(o, "id", true, msg) ||
        !id_field(o, "parent", false, msg)) {
        return false;
    }
    if (fsm_get_str(o, "name", &len) == NULL || len == 0 || len > 256) {
        snprintf(msg, 200, "\"name\" must be a string of 1-256 bytes");
        return false;
    }
    if (fsm_name_index(levels, fsm_get_str(o, "level", NULL)) < 0) {
        snprintf(msg, 200,
                 "\"level\" must be \"province\", \"city\" or \"county\"");
        return false;
    }
    if (fsm_name_index(kinds, fsm_get_str(o, "kind", NULL)) < 0) {
        snprintf(msg, 200, "\"kind\" must be \"agency\" or \"institution\"");
        return false;
    }
    if (auth != NULL && jcs_type(auth) != JCS_TRUE &&
        jcs_type(auth) != JCS_FALSE) {
        snprintf(msg, 200, "\"authority\" must be true or false");
        return false;
    }
    return true;
}

bool
fsm_org_body_valid(const void *body, size_t len, char *msg)
{
    struct jcs_doc *d;
    bool ok;

    if (fsm_parse_object(body, len, &d, msg) != PC_OK) {
        return false;
    }
    ok = org_valid(jcs_root(d), msg);
    jcs_doc_free(d);
    return ok;
}

static bool
principal_valid(const struct jcs_val *o, char *msg)
{
    static const char *const allowed[] = { "id", "org", "roles", NULL };
    const struct jcs_val *roles = fsm_get(o, "roles");
    unsigned seen = 0;

    if (!only_keys(o, allowed, msg) || !id_field(o, "id", true, msg) ||
        !id_field(o, "org", false, msg)) {
        return false;
    }
    if (roles != NULL && jcs_type(roles) != JCS_ARRAY) {
        snprintf(msg, 200, "\"roles\" must be an array of role names");
        return false;
    }
    for (size_t i = 0, n = roles != NULL ? jcs_len(roles) : 0; i < n; i++) {
        size_t len;
        const char *r = jcs_string(jcs_at(roles, i), &len);
        unsigned bit = r != NULL ? fsm_role_parse(r, len) : 0;

        if (bit == 0) {
            snprintf(msg, 200,
                     "\"roles\"[%zu]: unknown role (authority, provider, "
                     "consumer, operator, auditor)",
                     i);
            return false;
        }
        if (seen & bit) {
            snprintf(msg, 200, "\"roles\"[%zu]: duplicate role", i);
            return false;
        }
        seen |= bit;
    }
    bool has_org = fsm_get_str(o, "org", NULL) != NULL;
    if (!has_org && seen != 0) {
        snprintf(msg, 200,
                 "a principal without \"org\" is a citizen and has no roles");
        return false;
    }
    if (has_org && seen == 0) {
        snprintf(msg, 200, "\"roles\" must name at least one role");
        return false;
    }
    return true;
}

bool
fsm_principal_body_valid(const void *body, size_t len, char *msg)
{
    struct jcs_doc *d;
    bool ok;

    if (fsm_parse_object(body, len, &d, msg) != PC_OK) {
        return false;
    }
    ok = principal_valid(jcs_root(d), msg);
    jcs_doc_free(d);
    return ok;
}

int
fsm_success_status(uint32_t type)
{
    switch (type) {
    case CMD_ORG_CREATE:
    case CMD_PRINCIPAL_CREATE:
    case CMD_GENESIS:
    case CMD_ENTRY_CREATE:
    case CMD_SHARE_REQUEST:
    case CMD_OPEN_REQUEST:
    case CMD_OBJECTION_FILE:
        return 201;
    default:
        return 200;
    }
}

const struct fsm_principal *
fsm_actor(struct fsm_ctx *c)
{
    char id[FACT_MAX_ID + 1];
    const struct fsm_principal *p;

    if (c->cmd->principal.len == 0 || c->cmd->principal.len > FACT_MAX_ID) {
        return NULL;
    }
    memcpy(id, c->cmd->principal.p, c->cmd->principal.len);
    id[c->cmd->principal.len] = '\0';
    p = fsm_principal(c->f, id);
    return p != NULL && p->active ? p : NULL;
}

static bool
is_provincial(struct fsm *f, const struct fsm_principal *p)
{
    const struct fsm_org *o = p->org == NULL ? NULL : fsm_org(f, p->org);

    return (p->roles & FSM_ROLE_AUTHORITY) && o != NULL && o->authority &&
           o->parent == NULL && strcmp(o->level, "province") == 0;
}

/*
 * The extra JSON the leader put in the command: PC_OK with `*d` (NULL when
 * it is not a JSON object: empty, malformed or another type), or
 * PC_ENOMEM.
 */
static int
extra_object(struct fsm_ctx *c, struct jcs_doc **d)
{
    int rc = fsm_parse(c->cmd->extra.p, c->cmd->extra.len, d, NULL);

    if (rc == PC_ENOMEM) {
        return rc;
    }
    if (rc != PC_OK) {
        *d = NULL;
    } else if (jcs_type(jcs_root(*d)) != JCS_OBJECT) {
        jcs_doc_free(*d);
        *d = NULL;
    }
    return PC_OK;
}

/* The root of `d`, or NULL for no document. */
static const struct jcs_val *
root_of(const struct jcs_doc *d)
{
    return d == NULL ? NULL : jcs_root(d);
}

static bool
hex_hash_ok(const char *s, size_t len)
{
    uint8_t h[PC_HASH_LEN];

    return s != NULL && pc_unhex(h, PC_HASH_LEN, s, len);
}

static int
genesis(struct fsm_ctx *c)
{
    const struct jcs_val *cal;
    struct jcs_writer w;
    struct pc_buf p;
    struct jcs_doc *x;
    const char *cid, *th;
    size_t cid_len, th_len;
    int rc;

    if (c->f->cluster_id != NULL || led_count(c->f->led) > 0) {
        /* Later genesis commands (a deposed leader's) change nothing. */
        c->status = 409;
        snprintf(c->code, sizeof(c->code), "conflict");
        snprintf(c->message, sizeof(c->message), "genesis already applied");
        return PC_OK;
    }
    rc = extra_object(c, &x);
    if (rc != PC_OK) {
        return rc;
    }
    cid = fsm_get_str(root_of(x), "cluster_id", &cid_len);
    th = fsm_get_str(root_of(x), "token_hash", &th_len);
    /* A --holidays file's calendars, checked by the node before. */
    cal = fsm_get(root_of(x), "calendar");
    rc = cal == NULL ? PC_OK : fsm_open_genesis_check(cal);
    if (rc == PC_ENOMEM) {
        jcs_doc_free(x);
        return rc;
    }
    if (cid == NULL || cid_len != 32 || !hex_hash_ok(th, th_len) ||
        rc != PC_OK) {
        jcs_doc_free(x);
        c->status = 400;
        snprintf(c->code, sizeof(c->code), "bad_request");
        snprintf(c->message, sizeof(c->message), "malformed genesis");
        return PC_OK;
    }
    pc_buf_init(&p);
    jcs_w_init(&w, &p);
    jcs_w_obj(&w);
    jcs_w_key(&w, "cluster_id");
    jcs_w_strn(&w, cid, cid_len);
    jcs_w_kint(&w, "rules", CMD_RULES_VERSION);
    jcs_w_obj_end(&w);
    rc = fsm_emit_w(c, FACT_CLUSTER, NO_SLICE,
                    (struct pc_slice){ (const uint8_t *)cid, cid_len }, &w);
    if (rc == PC_OK) {
        p.len = 0;
        jcs_w_init(&w, &p);
        jcs_w_obj(&w);
        jcs_w_kbool(&w, "authority", true);
        jcs_w_kstr(&w, "id", "authority");
        jcs_w_kstr(&w, "kind", "agency");
        jcs_w_kstr(&w, "level", "province");
        jcs_w_kstr(&w, "name", "Provincial data authority");
        jcs_w_obj_end(&w);
        rc = fsm_emit_w(c, FACT_ORG, NO_SLICE, fsm_str_slice("authority"), &w);
    }
    if (rc == PC_OK) {
        p.len = 0;
        jcs_w_init(&w, &p);
        jcs_w_obj(&w);
        jcs_w_kstr(&w, "id", "admin");
        jcs_w_kstr(&w, "org", "authority");
        jcs_w_key(&w, "roles");
        jcs_w_arr(&w);
        jcs_w_str(&w, "authority");
        jcs_w_str(&w, "operator");
        jcs_w_arr_end(&w);
        jcs_w_kstr(&w, "status", "active");
        jcs_w_key(&w, "token_hash");
        jcs_w_strn(&w, th, th_len);
        jcs_w_obj_end(&w);
        rc =
            fsm_emit_w(c, FACT_PRINCIPAL, NO_SLICE, fsm_str_slice("admin"), &w);
    }
    if (rc == PC_OK && cal != NULL) {
        rc = fsm_open_genesis_calendars(c, cal);
    }
    pc_buf_release(&p);
    jcs_doc_free(x);
    return rc;
}

/* A tick or security summary: the extra object as it is ({} if none). */
static int
system_fact(struct fsm_ctx *c, uint32_t kind, struct pc_slice id)
{
    struct jcs_writer w;
    struct jcs_doc *x;
    struct pc_buf p;
    int rc;

    rc = extra_object(c, &x);
    if (rc != PC_OK) {
        return rc;
    }
    pc_buf_init(&p);
    jcs_w_init(&w, &p);
    if (x != NULL) {
        jcs_w_val(&w, x, jcs_root(x));
    } else {
        jcs_w_obj(&w);
        jcs_w_obj_end(&w);
    }
    rc = fsm_emit_w(c, kind, NO_SLICE, id, &w);
    pc_buf_release(&p);
    jcs_doc_free(x);
    return rc;
}

static int
member_url(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    struct jcs_writer w;
    struct jcs_doc *x;
    struct pc_buf p;
    const char *url, *cur;
    char id[24];
    size_t len;
    int rc;

    if (actor != NULL && !(actor->roles & FSM_ROLE_OPERATOR)) {
        return fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                          "recording a member needs role operator");
    }
    if (c->cmd->target.len == 0 || c->cmd->target.len >= sizeof(id)) {
        return fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                          "bad node id");
    }
    memcpy(id, c->cmd->target.p, c->cmd->target.len);
    id[c->cmd->target.len] = '\0';
    rc = extra_object(c, &x);
    if (rc != PC_OK) {
        return rc;
    }
    url = fsm_get_str(root_of(x), "client_url", &len);
    if (url == NULL) {
        jcs_doc_free(x);
        return fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                          "\"client_url\" is required");
    }
    cur = fsm_member_url(c->f, strtoull(id, NULL, 10));
    if (cur != NULL && strlen(cur) == len && memcmp(cur, url, len) == 0) {
        jcs_doc_free(x); /* unchanged: nothing to record */
        return PC_OK;
    }
    pc_buf_init(&p);
    jcs_w_init(&w, &p);
    jcs_w_val(&w, x, jcs_root(x));
    rc = fsm_emit_w(c, FACT_MEMBER, NO_SLICE, c->cmd->target, &w);
    pc_buf_release(&p);
    jcs_doc_free(x);
    return rc;
}

static int
org_create(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    char msg[200];
    const struct jcs_val *o;
    const char *id, *parent;
    struct jcs_writer w;
    struct jcs_doc *d;
    struct pc_buf p;
    bool authority;
    int rc;

    rc = fsm_command_body(c, NULL, NO_SLICE, &d);
    if (d == NULL) {
        return rc;
    }
    o = jcs_root(d);
    if (!org_valid(o, msg)) {
        jcs_doc_free(d);
        return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE, "%s", msg);
    }
    id = fsm_get_str(o, "id", NULL);
    parent = fsm_get_str(o, "parent", NULL);
    authority = fsm_get_true(o, "authority");
    if (!(actor->roles & FSM_ROLE_AUTHORITY)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, fsm_str_slice(id),
                        "creating organisations needs role authority");
    } else if (parent != NULL && fsm_org(c->f, parent) == NULL) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, fsm_str_slice(id),
                        "parent org \"%s\" does not exist", parent);
    } else if ((parent == NULL || authority) && !is_provincial(c->f, actor)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, fsm_str_slice(id),
                        "only the provincial authority creates top-level or "
                        "authority organisations");
    } else if (parent != NULL && !fsm_authority_over(c->f, actor, parent)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, fsm_str_slice(id),
                        "org \"%s\" is outside your authority's scope", parent);
    } else if (fsm_org(c->f, id) != NULL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, fsm_str_slice(id),
                        "org \"%s\" already exists", id);
    } else {
        /* The body as given, "authority" (the first key) filled in. */
        pc_buf_init(&p);
        jcs_w_init(&w, &p);
        jcs_w_obj(&w);
        if (fsm_get(o, "authority") == NULL) {
            jcs_w_kbool(&w, "authority", false);
        }
        for (size_t i = 0; i < jcs_len(o); i++) {
            size_t len;
            const char *k = jcs_key(o, i, &len);

            jcs_w_keyn(&w, k, len);
            jcs_w_val(&w, d, jcs_at(o, i));
        }
        jcs_w_obj_end(&w);
        rc = fsm_emit_w(c, FACT_ORG, NO_SLICE, fsm_str_slice(id), &w);
        pc_buf_release(&p);
    }
    jcs_doc_free(d);
    return rc;
}

/* Whether `actor` may manage principal `p` (create, reissue, revoke). */
static bool
manages(struct fsm *f, const struct fsm_principal *actor, const char *org)
{
    if (!(actor->roles & FSM_ROLE_AUTHORITY)) {
        return false;
    }
    if (org == NULL) {
        /* Citizens belong to no org: any authority may manage them. */
        const struct fsm_org *home =
            actor->org == NULL ? NULL : fsm_org(f, actor->org);
        return home != NULL && home->authority;
    }
    return fsm_authority_over(f, actor, org);
}

static int
principal_create(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    char msg[200];
    const struct jcs_val *o, *roles_in;
    const char *id, *org, *th;
    const struct fsm_org *po;
    struct jcs_doc *d, *x = NULL;
    unsigned roles = 0;
    size_t th_len;
    int rc;

    rc = fsm_command_body(c, NULL, NO_SLICE, &d);
    if (d == NULL) {
        return rc;
    }
    o = jcs_root(d);
    if (!principal_valid(o, msg)) {
        jcs_doc_free(d);
        return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE, "%s", msg);
    }
    rc = extra_object(c, &x);
    if (rc != PC_OK) {
        jcs_doc_free(d);
        return rc;
    }
    th = fsm_get_str(root_of(x), "token_hash", &th_len);
    id = fsm_get_str(o, "id", NULL);
    org = fsm_get_str(o, "org", NULL);
    roles_in = fsm_get(o, "roles");
    for (size_t i = 0, n = roles_in ? jcs_len(roles_in) : 0; i < n; i++) {
        size_t len;
        const char *r = jcs_string(jcs_at(roles_in, i), &len);

        roles |= fsm_role_parse(r, len); /* valid: checked above */
    }
    po = org == NULL ? NULL : fsm_org(c->f, org);
    if (!hex_hash_ok(th, th_len)) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, fsm_str_slice(id),
                        "malformed command: no token hash");
    } else if (!(actor->roles & FSM_ROLE_AUTHORITY)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, fsm_str_slice(id),
                        "creating principals needs role authority");
    } else if (org != NULL && po == NULL) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, fsm_str_slice(id),
                        "org \"%s\" does not exist", org);
    } else if (!manages(c->f, actor, org)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, fsm_str_slice(id),
                        "org \"%s\" is outside your authority's scope",
                        org ? org : "(citizens)");
    } else if ((roles & FSM_ROLE_AUTHORITY) && !po->authority) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, fsm_str_slice(id),
                        "role authority is valid only in an authority org");
    } else if ((roles & (FSM_ROLE_OPERATOR | FSM_ROLE_AUDITOR)) &&
               !is_provincial(c->f, actor)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, fsm_str_slice(id),
                        "only the provincial authority grants operator and "
                        "auditor");
    } else if (strcmp(id, FSM_SYSTEM) == 0 || fsm_principal(c->f, id) != NULL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, fsm_str_slice(id),
                        "principal \"%s\" already exists", id);
    } else {
        uint8_t h[PC_HASH_LEN];

        pc_unhex(h, PC_HASH_LEN, th, th_len);
        if (fsm_principal_by_token(c->f, h) != NULL) {
            rc = fsm_reject(c, 409, "conflict", NO_SLICE, fsm_str_slice(id),
                            "token collision; retry");
        } else {
            struct jcs_writer w;
            struct pc_buf p;

            /* The roles as the body lists them. */
            pc_buf_init(&p);
            jcs_w_init(&w, &p);
            jcs_w_obj(&w);
            jcs_w_kbool(&w, "citizen", org == NULL);
            jcs_w_kstr(&w, "id", id);
            jcs_w_key(&w, "org");
            if (org != NULL) {
                jcs_w_str(&w, org);
            } else {
                jcs_w_null(&w);
            }
            jcs_w_key(&w, "roles");
            if (roles_in != NULL) {
                jcs_w_val(&w, d, roles_in);
            } else {
                jcs_w_arr(&w);
                jcs_w_arr_end(&w);
            }
            jcs_w_kstr(&w, "status", "active");
            jcs_w_key(&w, "token_hash");
            jcs_w_strn(&w, th, th_len);
            jcs_w_obj_end(&w);
            rc = fsm_emit_w(c, FACT_PRINCIPAL, NO_SLICE, fsm_str_slice(id), &w);
            pc_buf_release(&p);
        }
    }
    jcs_doc_free(x);
    jcs_doc_free(d);
    return rc;
}

/* A new version of principal `p` with `token_hash` (`th_len` bytes; NULL:
 * its own) and `status`; its roles in bit order. */
static int
principal_version(struct fsm_ctx *c, const struct fsm_principal *p,
                  const char *token_hash, size_t th_len, const char *status)
{
    char hex[PC_HASH_HEX_LEN + 1];
    struct jcs_writer w;
    struct pc_buf b;
    int rc;

    if (token_hash == NULL) {
        pc_hex(hex, p->token_hash, PC_HASH_LEN);
        token_hash = hex;
        th_len = strlen(hex);
    }
    pc_buf_init(&b);
    jcs_w_init(&w, &b);
    jcs_w_obj(&w);
    jcs_w_kbool(&w, "citizen", p->citizen);
    jcs_w_kstr(&w, "id", p->id);
    jcs_w_key(&w, "org");
    if (p->org != NULL) {
        jcs_w_str(&w, p->org);
    } else {
        jcs_w_null(&w);
    }
    jcs_w_key(&w, "roles");
    jcs_w_arr(&w);
    for (unsigned bit = 1; bit <= FSM_ROLE_AUDITOR; bit <<= 1) {
        if (p->roles & bit) {
            jcs_w_str(&w, fsm_role_name(bit));
        }
    }
    jcs_w_arr_end(&w);
    jcs_w_kstr(&w, "status", status);
    jcs_w_key(&w, "token_hash");
    jcs_w_strn(&w, token_hash, th_len);
    jcs_w_obj_end(&w);
    rc = fsm_emit_w(c, FACT_PRINCIPAL, NO_SLICE, fsm_str_slice(p->id), &w);
    pc_buf_release(&b);
    return rc;
}

/*
 * Whether `actor` may know that principal `t` exists: itself, or an
 * authority that manages it. Any other principal is answered like a
 * missing one (404, not 403), so principal ids cannot be probed.
 */
static bool
knows(struct fsm *f, const struct fsm_principal *actor,
      const struct fsm_principal *t)
{
    return t != NULL && (t == actor || manages(f, actor, t->org));
}

static const struct fsm_principal *
target_principal(struct fsm_ctx *c)
{
    char id[FACT_MAX_ID + 1];

    if (c->cmd->target.len == 0 || c->cmd->target.len > FACT_MAX_ID) {
        return NULL;
    }
    memcpy(id, c->cmd->target.p, c->cmd->target.len);
    id[c->cmd->target.len] = '\0';
    return fsm_principal(c->f, id);
}

static bool
count_authority_cb(void *arg, const void *key, size_t klen, void *val)
{
    struct fsm_principal *p = val;
    int *n = arg;

    (void)key, (void)klen;
    *n += p->active && (p->roles & FSM_ROLE_AUTHORITY) && p->org != NULL &&
          strcmp(p->org, "authority") == 0;
    return true;
}

static int
principal_token(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    const struct fsm_principal *t = target_principal(c);
    struct jcs_doc *x;
    const char *th;
    uint8_t h[PC_HASH_LEN];
    size_t th_len;
    int rc;

    rc = extra_object(c, &x);
    if (rc != PC_OK) {
        return rc;
    }
    th = fsm_get_str(root_of(x), "token_hash", &th_len);
    if (!knows(c->f, actor, t)) {
        rc = fsm_reject(c, 404, "not_found", NO_SLICE, c->cmd->target,
                        "no such principal");
    } else if (actor != t && !manages(c->f, actor, t->org)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                        "only the principal itself or an authority in scope "
                        "reissues a token");
    } else if (!t->active) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "principal \"%s\" is revoked", t->id);
    } else if (!hex_hash_ok(th, th_len)) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                        "malformed command: no token hash");
    } else if (pc_unhex(h, PC_HASH_LEN, th, th_len),
               fsm_principal_by_token(c->f, h) != NULL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "token collision; retry");
    } else {
        rc = principal_version(c, t, th, th_len, "active");
    }
    jcs_doc_free(x);
    return rc;
}

static int
principal_revoke(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    const struct fsm_principal *t = target_principal(c);
    int n = 0;

    if (!knows(c->f, actor, t)) {
        return fsm_reject(c, 404, "not_found", NO_SLICE, c->cmd->target,
                          "no such principal");
    }
    if (!manages(c->f, actor, t->org)) {
        return fsm_reject(c, 403, "forbidden", NO_SLICE, c->cmd->target,
                          "revoking principal \"%s\" needs an authority in "
                          "its scope",
                          t->id);
    }
    if (!t->active) {
        return fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                          "principal \"%s\" is already revoked", t->id);
    }
    pc_map_each(&c->f->principals, count_authority_cb, &n);
    if ((t->roles & FSM_ROLE_AUTHORITY) && t->org != NULL &&
        strcmp(t->org, "authority") == 0 && n <= 1) {
        return fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                          "\"%s\" is the last active provincial authority "
                          "principal",
                          t->id);
    }
    return principal_version(c, t, NULL, 0, "revoked");
}

int
fsm_rules_apply(struct fsm_ctx *c)
{
    const struct fsm_principal *actor = NULL;
    bool system = c->cmd->principal.len == 0;

    switch (c->cmd->type) {
    case CMD_GENESIS:
    case CMD_TICK:
    case CMD_SECURITY_SUMMARY:
    case CMD_AUDIT:
        if (!system) {
            return fsm_reject(c, 403, "forbidden", NO_SLICE, NO_SLICE,
                              "%s is a node-internal command",
                              cmd_type_name(c->cmd->type));
        }
        break;
    case CMD_MEMBER_URL:
        if (system) {
            break;
        }
        /* fallthrough */
    default:
        actor = fsm_actor(c);
        if (actor == NULL) {
            return fsm_reject(c, 401, "unauthorized", NO_SLICE, NO_SLICE,
                              "the token's principal is unknown or revoked");
        }
    }
    switch (c->cmd->type) {
    case CMD_GENESIS:
        return genesis(c);
    case CMD_TICK:
        return system_fact(c, FACT_TICK, NO_SLICE);
    case CMD_SECURITY_SUMMARY:
        return system_fact(c, FACT_SECURITY, NO_SLICE);
    case CMD_MEMBER_URL:
        return member_url(c, actor);
    case CMD_ORG_CREATE:
        return org_create(c, actor);
    case CMD_PRINCIPAL_CREATE:
        return principal_create(c, actor);
    case CMD_PRINCIPAL_TOKEN:
        return principal_token(c, actor);
    case CMD_PRINCIPAL_REVOKE:
        return principal_revoke(c, actor);
    case CMD_ENTRY_CREATE:
    case CMD_ENTRY_UPDATE:
    case CMD_ENTRY_SUBMIT:
    case CMD_ENTRY_REVIEW:
    case CMD_ENTRY_RETIRE:
        return fsm_rules_catalog(c, actor);
    case CMD_RECORD_PUT:
    case CMD_RECORD_BATCH:
    case CMD_RECORD_BATCH2:
    case CMD_RECORD_RETIRE:
    case CMD_RECORD_CORRECT:
        return fsm_rules_records(c, actor);
    case CMD_AUDIT:
        return fsm_rules_audit(c);
    case CMD_OPERATION:
        return fsm_rules_ops(c, actor);
    case CMD_SHARE_REQUEST:
    case CMD_SHARE_DECIDE:
    case CMD_GRANT_REVOKE:
        return fsm_rules_share(c, actor);
    case CMD_OPEN_REQUEST:
    case CMD_OPEN_DECIDE:
    case CMD_CALENDAR_SET:
        return fsm_rules_open(c, actor);
    case CMD_OBJECTION_FILE:
    case CMD_OBJECTION_DECIDE:
    case CMD_RECORD_REDACT:
        return fsm_rules_objections(c, actor);
    }
    return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                      "unknown command type %u", c->cmd->type);
}
