/* SPDX-License-Identifier: MIT */
/*
 * Rules for the cluster's own commands (genesis, tick, member URLs,
 * security summaries) and for organisations and principals, with the
 * authority scopes of DESIGN.md: the provincial authority acts everywhere, a
 * city authority in its own subtree; only the provincial authority creates
 * authority orgs and grants operator and auditor.
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "node/fsm/fsm_int.h"

#define NO_SLICE ((struct pc_slice){ NULL, 0 })

static struct pc_slice
str_slice(const char *s)
{
    return (struct pc_slice){ (const uint8_t *)s, s == NULL ? 0 : strlen(s) };
}

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

static bool
one_of(const char *s, const char *const *set)
{
    for (; s != NULL && *set != NULL; set++) {
        if (strcmp(s, *set) == 0) {
            return true;
        }
    }
    return false;
}

static const char *const levels[] = { "province", "city", "county", NULL };
static const char *const kinds[] = { "agency", "institution", NULL };

static json_t *
load_object(const void *body, size_t len, char *msg)
{
    json_error_t e;
    json_t *o = fsm_json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);

    if (o == NULL) {
        snprintf(msg, 200, "malformed JSON: %s", e.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        snprintf(msg, 200, "the body must be a JSON object");
        json_decref(o);
        return NULL;
    }
    return o;
}

static bool
only_keys(json_t *o, const char *const *allowed, char *msg)
{
    const char *k;
    json_t *v;

    json_object_foreach(o, k, v)
    {
        if (!one_of(k, allowed)) {
            snprintf(msg, 200, "unknown field \"%.64s\"", k);
            return false;
        }
    }
    return true;
}

static bool
id_field(json_t *o, const char *key, bool required, char *msg)
{
    json_t *v = json_object_get(o, key);

    if (v == NULL || json_is_null(v)) {
        if (required) {
            snprintf(msg, 200, "\"%s\" is required", key);
        }
        return !required;
    }
    if (!json_is_string(v) ||
        !fsm_id_valid(json_string_value(v), json_string_length(v))) {
        snprintf(msg, 200,
                 "\"%s\" must be an id: [A-Za-z0-9][A-Za-z0-9._-]{0,127}", key);
        return false;
    }
    return true;
}

static bool
org_valid(json_t *o, char *msg)
{
    static const char *const allowed[] = { "id",   "name",   "level",
                                           "kind", "parent", "authority",
                                           NULL };
    json_t *name = json_object_get(o, "name");
    json_t *auth = json_object_get(o, "authority");

    if (!only_keys(o, allowed, msg) || !id_field(o, "id", true, msg) ||
        !id_field(o, "parent", false, msg)) {
        return false;
    }
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) > 256) {
        snprintf(msg, 200, "\"name\" must be a string of 1-256 bytes");
        return false;
    }
    if (!one_of(json_string_value(json_object_get(o, "level")), levels)) {
        snprintf(msg, 200,
                 "\"level\" must be \"province\", \"city\" or \"county\"");
        return false;
    }
    if (!one_of(json_string_value(json_object_get(o, "kind")), kinds)) {
        snprintf(msg, 200, "\"kind\" must be \"agency\" or \"institution\"");
        return false;
    }
    if (auth != NULL && !json_is_boolean(auth)) {
        snprintf(msg, 200, "\"authority\" must be true or false");
        return false;
    }
    return true;
}

bool
fsm_org_body_valid(const void *body, size_t len, char *msg)
{
    json_t *o = load_object(body, len, msg);
    bool ok = o != NULL && org_valid(o, msg);

    json_decref(o);
    return ok;
}

static bool
principal_valid(json_t *o, char *msg)
{
    static const char *const allowed[] = { "id", "org", "roles", NULL };
    json_t *roles = json_object_get(o, "roles"), *r;
    unsigned seen = 0;
    size_t i;

    if (!only_keys(o, allowed, msg) || !id_field(o, "id", true, msg) ||
        !id_field(o, "org", false, msg)) {
        return false;
    }
    if (roles != NULL && !json_is_array(roles)) {
        snprintf(msg, 200, "\"roles\" must be an array of role names");
        return false;
    }
    json_array_foreach(roles, i, r)
    {
        unsigned bit = json_is_string(r) ? fsm_role_parse(json_string_value(r),
                                                          json_string_length(r))
                                         : 0;
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
    bool has_org = json_is_string(json_object_get(o, "org"));
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
    json_t *o = load_object(body, len, msg);
    bool ok = o != NULL && principal_valid(o, msg);

    json_decref(o);
    return ok;
}

int
fsm_success_status(uint32_t type, const struct fact *first)
{
    switch (type) {
    case CMD_ORG_CREATE:
    case CMD_PRINCIPAL_CREATE:
    case CMD_GENESIS:
    case CMD_ENTRY_CREATE:
        return 201;
    case CMD_RECORD_PUT:
    case CMD_RECORD_BATCH:
    case CMD_RECORD_BATCH2:
        return first != NULL ? fsm_records_replay_status(type, first) : 200;
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

/* Decode the extra JSON object the leader put in the command. */
static json_t *
extra_object(struct fsm_ctx *c)
{
    json_t *o = fsm_json_loadb((const char *)c->cmd->extra.p, c->cmd->extra.len,
                               0, NULL);

    if (o != NULL && !json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static bool
hex_hash_ok(const char *s)
{
    uint8_t h[PC_HASH_LEN];

    return s != NULL && pc_unhex(h, PC_HASH_LEN, s, strlen(s));
}

static int
genesis(struct fsm_ctx *c)
{
    json_t *x = extra_object(c), *p;
    const char *cid, *th;
    int rc;

    if (c->f->cluster_id != NULL || led_count(c->f->led) > 0) {
        /* Later genesis commands (a deposed leader's) change nothing. */
        c->status = 409;
        snprintf(c->code, sizeof(c->code), "conflict");
        snprintf(c->message, sizeof(c->message), "genesis already applied");
        json_decref(x);
        return PC_OK;
    }
    cid = json_string_value(json_object_get(x, "cluster_id"));
    th = json_string_value(json_object_get(x, "token_hash"));
    if (cid == NULL || strlen(cid) != 32 || !hex_hash_ok(th)) {
        json_decref(x);
        c->status = 400;
        snprintf(c->code, sizeof(c->code), "bad_request");
        snprintf(c->message, sizeof(c->message), "malformed genesis");
        return PC_OK;
    }
    p = json_pack("{s:s, s:i}", "cluster_id", cid, "rules", CMD_RULES_VERSION);
    rc = p == NULL ? PC_ENOMEM
                   : fsm_emit(c, FACT_CLUSTER, NO_SLICE, str_slice(cid), p);
    json_decref(p);
    if (rc == PC_OK) {
        p = json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", "authority", "name",
                      "Provincial data authority", "level", "province", "kind",
                      "agency", "authority", 1);
        rc = p == NULL
                 ? PC_ENOMEM
                 : fsm_emit(c, FACT_ORG, NO_SLICE, str_slice("authority"), p);
        json_decref(p);
    }
    if (rc == PC_OK) {
        p = json_pack("{s:s, s:s, s:[s,s], s:s, s:s}", "id", "admin", "org",
                      "authority", "roles", "authority", "operator",
                      "token_hash", th, "status", "active");
        rc = p == NULL
                 ? PC_ENOMEM
                 : fsm_emit(c, FACT_PRINCIPAL, NO_SLICE, str_slice("admin"), p);
        json_decref(p);
    }
    json_decref(x);
    return rc;
}

static int
system_fact(struct fsm_ctx *c, uint32_t kind, struct pc_slice id)
{
    json_t *x = extra_object(c);
    int rc;

    if (x == NULL) {
        x = json_object();
        if (x == NULL) {
            return PC_ENOMEM;
        }
    }
    rc = fsm_emit(c, kind, NO_SLICE, id, x);
    json_decref(x);
    return rc;
}

static int
member_url(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    json_t *x;
    const char *url, *cur;
    char id[24];
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
    x = extra_object(c);
    url = json_string_value(json_object_get(x, "client_url"));
    if (url == NULL) {
        json_decref(x);
        return fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                          "\"client_url\" is required");
    }
    cur = fsm_member_url(c->f, strtoull(id, NULL, 10));
    if (cur != NULL && strcmp(cur, url) == 0) {
        json_decref(x); /* unchanged: nothing to record */
        return PC_OK;
    }
    rc = fsm_emit(c, FACT_MEMBER, NO_SLICE, c->cmd->target, x);
    json_decref(x);
    return rc;
}

static int
org_create(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    char msg[200];
    json_t *o = load_object(c->cmd->body.p, c->cmd->body.len, msg);
    const char *id, *parent;
    bool authority;
    int rc;

    if (o == NULL || !org_valid(o, msg)) {
        json_decref(o);
        return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE, "%s", msg);
    }
    id = json_string_value(json_object_get(o, "id"));
    parent = json_string_value(json_object_get(o, "parent"));
    authority = json_is_true(json_object_get(o, "authority"));
    if (!(actor->roles & FSM_ROLE_AUTHORITY)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, str_slice(id),
                        "creating organisations needs role authority");
    } else if (parent != NULL && fsm_org(c->f, parent) == NULL) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, str_slice(id),
                        "parent org \"%s\" does not exist", parent);
    } else if ((parent == NULL || authority) && !is_provincial(c->f, actor)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, str_slice(id),
                        "only the provincial authority creates top-level or "
                        "authority organisations");
    } else if (parent != NULL && !fsm_authority_over(c->f, actor, parent)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, str_slice(id),
                        "org \"%s\" is outside your authority's scope", parent);
    } else if (fsm_org(c->f, id) != NULL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, str_slice(id),
                        "org \"%s\" already exists", id);
    } else {
        if (!json_object_get(o, "authority")) {
            json_object_set_new(o, "authority", json_false());
        }
        rc = fsm_emit(c, FACT_ORG, NO_SLICE, str_slice(id), o);
    }
    json_decref(o);
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
    json_t *o = load_object(c->cmd->body.p, c->cmd->body.len, msg), *x, *r;
    const char *id, *org, *th;
    const struct fsm_org *po;
    unsigned roles = 0;
    size_t i;
    int rc;

    if (o == NULL || !principal_valid(o, msg)) {
        json_decref(o);
        return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE, "%s", msg);
    }
    x = extra_object(c);
    th = json_string_value(json_object_get(x, "token_hash"));
    id = json_string_value(json_object_get(o, "id"));
    org = json_string_value(json_object_get(o, "org"));
    json_array_foreach(json_object_get(o, "roles"), i, r)
    {
        roles |= fsm_role_parse(json_string_value(r), json_string_length(r));
    }
    po = org == NULL ? NULL : fsm_org(c->f, org);
    if (!hex_hash_ok(th)) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, str_slice(id),
                        "malformed command: no token hash");
    } else if (!(actor->roles & FSM_ROLE_AUTHORITY)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, str_slice(id),
                        "creating principals needs role authority");
    } else if (org != NULL && po == NULL) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, str_slice(id),
                        "org \"%s\" does not exist", org);
    } else if (!manages(c->f, actor, org)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, str_slice(id),
                        "org \"%s\" is outside your authority's scope",
                        org ? org : "(citizens)");
    } else if ((roles & FSM_ROLE_AUTHORITY) && !po->authority) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, str_slice(id),
                        "role authority is valid only in an authority org");
    } else if ((roles & (FSM_ROLE_OPERATOR | FSM_ROLE_AUDITOR)) &&
               !is_provincial(c->f, actor)) {
        rc = fsm_reject(c, 403, "forbidden", NO_SLICE, str_slice(id),
                        "only the provincial authority grants operator and "
                        "auditor");
    } else if (strcmp(id, FSM_SYSTEM) == 0 || fsm_principal(c->f, id) != NULL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, str_slice(id),
                        "principal \"%s\" already exists", id);
    } else {
        uint8_t h[PC_HASH_LEN];

        pc_unhex(h, PC_HASH_LEN, th, strlen(th));
        if (fsm_principal_by_token(c->f, h) != NULL) {
            rc = fsm_reject(c, 409, "conflict", NO_SLICE, str_slice(id),
                            "token collision; retry");
        } else {
            json_t *roles_in = json_object_get(o, "roles");
            json_t *p = json_pack(
                "{s:s, s:O, s:o, s:s, s:s, s:b}", "id", id, "org",
                org ? json_object_get(o, "org") : json_null(), "roles",
                roles_in ? json_incref(roles_in) : json_array(), "token_hash",
                th, "status", "active", "citizen", org == NULL);
            rc = p == NULL
                     ? PC_ENOMEM
                     : fsm_emit(c, FACT_PRINCIPAL, NO_SLICE, str_slice(id), p);
            json_decref(p);
        }
    }
    json_decref(x);
    json_decref(o);
    return rc;
}

/* A new version of principal `p` with `token_hash` and `status` replaced. */
static int
principal_version(struct fsm_ctx *c, const struct fsm_principal *p,
                  const char *token_hash, const char *status)
{
    char hex[PC_HASH_HEX_LEN + 1];
    json_t *roles = json_array(), *o;
    int rc;

    if (roles == NULL) {
        return PC_ENOMEM;
    }
    for (unsigned bit = 1; bit <= FSM_ROLE_AUDITOR; bit <<= 1) {
        if (p->roles & bit) {
            json_array_append_new(roles, json_string(fsm_role_name(bit)));
        }
    }
    pc_hex(hex, p->token_hash, PC_HASH_LEN);
    o = json_pack("{s:s, s:s?, s:o, s:s, s:s, s:b}", "id", p->id, "org", p->org,
                  "roles", roles, "token_hash", token_hash ? token_hash : hex,
                  "status", status, "citizen", p->citizen);
    if (o == NULL) {
        return PC_ENOMEM;
    }
    if (p->org == NULL) {
        json_object_set_new(o, "org", json_null());
    }
    rc = fsm_emit(c, FACT_PRINCIPAL, NO_SLICE, str_slice(p->id), o);
    json_decref(o);
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
    json_t *x = extra_object(c);
    const char *th = json_string_value(json_object_get(x, "token_hash"));
    uint8_t h[PC_HASH_LEN];
    int rc;

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
    } else if (!hex_hash_ok(th)) {
        rc = fsm_reject(c, 400, "bad_request", NO_SLICE, c->cmd->target,
                        "malformed command: no token hash");
    } else if (pc_unhex(h, PC_HASH_LEN, th, strlen(th)),
               fsm_principal_by_token(c->f, h) != NULL) {
        rc = fsm_reject(c, 409, "conflict", NO_SLICE, c->cmd->target,
                        "token collision; retry");
    } else {
        rc = principal_version(c, t, th, "active");
    }
    json_decref(x);
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
    return principal_version(c, t, NULL, "revoked");
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
    }
    return fsm_reject(c, 400, "bad_request", NO_SLICE, NO_SLICE,
                      "unknown command type %u", c->cmd->type);
}
