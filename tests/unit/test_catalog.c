/* SPDX-License-Identifier: MIT */
/*
 * Catalog-entry rules as pure functions through fsm_apply: who may do what
 * to an entry in which state (role x operation x state table), the
 * lifecycle, validation errors naming the field, one data one source,
 * If-Match, visibility, and determinism of the derived entries.
 */
#include "tests/lib/fsmfx.h"
#include "tests/lib/test.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/led.h"

static struct fsm_result
run(struct fsmfx *fx, uint32_t type, const char *principal, const char *target,
    const char *body, const char *extra)
{
    return fsmfx_run(fx, type, principal, target, body, extra, NULL);
}

/*
 * Orgs: dept, dept2 (province), cityA, cityB (city authorities), county
 * (under cityA). Principals: prov (dept provider), prov2 (dept2 provider),
 * cons (dept2 consumer), ca, ca2 (cityA authority), cb (cityB authority),
 * cprov (county provider), admin2 (provincial authority), gone (dept
 * provider, revoked).
 */
static int
setup(void **state)
{
    struct fsmfx *fx = fsmfx_new("admin", 1000);

    fsmfx_org(fx, "dept", "authority", "province", false);
    fsmfx_org(fx, "dept2", "authority", "province", false);
    fsmfx_org(fx, "cityA", "authority", "city", true);
    fsmfx_org(fx, "cityB", "authority", "city", true);
    fsmfx_org(fx, "county", "cityA", "county", false);
    fsmfx_principal(fx, "prov", "dept", "\"provider\"");
    fsmfx_principal(fx, "prov2", "dept2", "\"provider\"");
    fsmfx_principal(fx, "cons", "dept2", "\"consumer\"");
    fsmfx_principal(fx, "ca", "cityA", "\"authority\"");
    fsmfx_principal(fx, "ca2", "cityA", "\"authority\"");
    fsmfx_principal(fx, "cb", "cityB", "\"authority\"");
    fsmfx_principal(fx, "cprov", "county", "\"provider\"");
    fsmfx_principal(fx, "admin2", "authority", "\"authority\"");
    fsmfx_principal(fx, "gone", "dept", "\"provider\"");
    fsmfx_revoke(fx, "gone");
    *state = fx;
    return 0;
}

/* An entry body; `fields` is the JSON array text. */
static const char *
body(char *buf, size_t cap, const char *id, const char *provider,
     const char *title, const char *scope, const char *share, const char *open,
     const char *fields)
{
    snprintf(buf, cap,
             "{\"id\":\"%s\",\"title\":\"%s\",\"description\":\"d\","
             "\"provider\":\"%s\",\"theme\":\"t\",\"keywords\":[\"k\"],"
             "\"fields\":%s,\"share\":{\"class\":\"%s\"%s},\"open\":{\"class\":"
             "\"%s\",\"conditions\":\"\"},\"update_frequency\":\"daily\","
             "\"security_level\":2,\"scope\":\"%s\"}",
             id, title, provider,
             fields
                 ? fields
                 : "[{\"name\":\"a\",\"type\":\"string\",\"required\":true}]",
             share,
             /* Not sharing needs its legal basis. */
             strcmp(share, "none") == 0 ? ",\"basis\":\"art. 18\"" : "", open,
             scope);
    return buf;
}

static int
create(struct fsmfx *fx, const char *who, const char *id, const char *provider,
       const char *scope)
{
    char b[1024], fields[128];

    /* Field names of its own: not a possible duplicate of another entry.
     * City entries stay closed: a city authority writing them may not
     * open them (article 23, test_catalog_open_class_by_provider_only). */
    snprintf(fields, sizeof(fields),
             "[{\"name\":\"%s\",\"type\":\"string\",\"required\":true}]", id);
    return run(fx, CMD_ENTRY_CREATE, who, NULL,
               body(b, sizeof(b), id, provider, id, scope, "unconditional",
                    strncmp(scope, "city:", 5) == 0 ? "none" : "unconditional",
                    fields),
               NULL)
        .status;
}

static int
update(struct fsmfx *fx, const char *who, const char *id, const char *b,
       int if_match)
{
    char extra[40];

    snprintf(extra, sizeof(extra), "{\"if_match\":%d}", if_match);
    return run(fx, CMD_ENTRY_UPDATE, who, id, b, if_match ? extra : NULL)
        .status;
}

static int
review(struct fsmfx *fx, const char *who, const char *id, bool approve)
{
    return run(fx, CMD_ENTRY_REVIEW, who, id,
               approve ? "{\"decision\":\"approve\"}"
                       : "{\"decision\":\"reject\",\"reason\":\"no\"}",
               NULL)
        .status;
}

static int
retire(struct fsmfx *fx, const char *who, const char *id)
{
    return run(fx, CMD_ENTRY_RETIRE, who, id, "{\"reason\":\"gone\"}", NULL)
        .status;
}

enum op {
    OP_CREATE,
    OP_UPDATE,
    OP_SUBMIT,
    OP_REVIEW,
    OP_RETIRE
};

/* Bring a fresh entry `id` of `provider` to `state` (creator `maker`). */
static void
prepare(struct fsmfx *fx, const char *id, const char *provider,
        const char *scope, const char *maker, const char *reviewer,
        enum fsm_entry_status state)
{
    assert_int_equal(create(fx, maker, id, provider, scope), 201);
    if (state == FSM_ENTRY_DRAFT) {
        return;
    }
    assert_int_equal(run(fx, CMD_ENTRY_SUBMIT, maker, id, NULL, NULL).status,
                     200);
    if (state == FSM_ENTRY_SUBMITTED) {
        return;
    }
    assert_int_equal(review(fx, reviewer, id, true), 200);
    if (state == FSM_ENTRY_RETIRED) {
        assert_int_equal(retire(fx, maker, id), 200);
    }
}

/* Who may do what in which state: the expected status of every cell. */
static void
test_catalog_role_table(void **state)
{
    struct fsmfx *fx = *state;
    static const struct {
        const char *who;
        enum op op;
        bool city; /* a city:cityA entry of org county, else province/dept */
        enum fsm_entry_status state;
        int status;
    } rows[] = {
        /* creating a provincial entry of dept */
        { "prov", OP_CREATE, false, 0, 201 },
        { "prov2", OP_CREATE, false, 0, 403 },
        { "cons", OP_CREATE, false, 0, 403 },
        { "ca", OP_CREATE, false, 0, 403 },
        { "admin", OP_CREATE, false, 0, 403 },
        { "gone", OP_CREATE, false, 0, 401 },
        /* creating a city:cityA entry of county */
        { "cprov", OP_CREATE, true, 0, 201 },
        { "ca", OP_CREATE, true, 0, 201 },
        { "cb", OP_CREATE, true, 0, 403 },
        { "prov", OP_CREATE, true, 0, 403 },
        /* editing a draft (If-Match 1); drafts are invisible to others */
        { "prov", OP_UPDATE, false, FSM_ENTRY_DRAFT, 200 },
        { "prov2", OP_UPDATE, false, FSM_ENTRY_DRAFT, 404 },
        { "cons", OP_UPDATE, false, FSM_ENTRY_DRAFT, 404 },
        { "ca", OP_UPDATE, false, FSM_ENTRY_DRAFT, 404 },
        { "admin", OP_UPDATE, false, FSM_ENTRY_DRAFT, 403 },
        { "gone", OP_UPDATE, false, FSM_ENTRY_DRAFT, 401 },
        { "ca", OP_UPDATE, true, FSM_ENTRY_DRAFT, 200 },
        { "cb", OP_UPDATE, true, FSM_ENTRY_DRAFT, 404 },
        /* editing a submitted entry is refused until it is reviewed */
        { "prov", OP_UPDATE, false, FSM_ENTRY_SUBMITTED, 409 },
        { "prov", OP_UPDATE, false, FSM_ENTRY_RETIRED, 409 },
        /* submitting */
        { "prov", OP_SUBMIT, false, FSM_ENTRY_DRAFT, 200 },
        { "prov2", OP_SUBMIT, false, FSM_ENTRY_DRAFT, 404 },
        { "admin", OP_SUBMIT, false, FSM_ENTRY_DRAFT, 403 },
        { "gone", OP_SUBMIT, false, FSM_ENTRY_DRAFT, 401 },
        { "prov", OP_SUBMIT, false, FSM_ENTRY_SUBMITTED, 409 },
        { "prov", OP_SUBMIT, false, FSM_ENTRY_PUBLISHED, 409 },
        { "prov2", OP_SUBMIT, false, FSM_ENTRY_PUBLISHED, 403 },
        { "cons", OP_SUBMIT, false, FSM_ENTRY_PUBLISHED, 403 },
        /* reviewing (approve) */
        { "admin", OP_REVIEW, false, FSM_ENTRY_SUBMITTED, 200 },
        { "admin2", OP_REVIEW, false, FSM_ENTRY_SUBMITTED, 200 },
        { "prov", OP_REVIEW, false, FSM_ENTRY_SUBMITTED, 403 },
        { "prov2", OP_REVIEW, false, FSM_ENTRY_SUBMITTED, 404 },
        { "cons", OP_REVIEW, false, FSM_ENTRY_SUBMITTED, 404 },
        { "ca", OP_REVIEW, false, FSM_ENTRY_SUBMITTED, 404 },
        { "gone", OP_REVIEW, false, FSM_ENTRY_SUBMITTED, 401 },
        { "admin", OP_REVIEW, false, FSM_ENTRY_DRAFT, 409 },
        { "admin", OP_REVIEW, false, FSM_ENTRY_PUBLISHED, 409 },
        { "ca", OP_REVIEW, true, FSM_ENTRY_SUBMITTED, 200 },
        { "admin", OP_REVIEW, true, FSM_ENTRY_SUBMITTED, 200 },
        { "cb", OP_REVIEW, true, FSM_ENTRY_SUBMITTED, 404 },
        { "cprov", OP_REVIEW, true, FSM_ENTRY_SUBMITTED, 403 },
        /* retiring */
        { "prov", OP_RETIRE, false, FSM_ENTRY_PUBLISHED, 200 },
        { "admin", OP_RETIRE, false, FSM_ENTRY_PUBLISHED, 200 },
        { "prov2", OP_RETIRE, false, FSM_ENTRY_PUBLISHED, 403 },
        { "cons", OP_RETIRE, false, FSM_ENTRY_PUBLISHED, 403 },
        { "ca", OP_RETIRE, false, FSM_ENTRY_PUBLISHED, 403 },
        { "gone", OP_RETIRE, false, FSM_ENTRY_PUBLISHED, 401 },
        { "prov", OP_RETIRE, false, FSM_ENTRY_DRAFT, 200 },
        { "prov", OP_RETIRE, false, FSM_ENTRY_RETIRED, 409 },
        { "ca", OP_RETIRE, true, FSM_ENTRY_PUBLISHED, 200 },
        { "cb", OP_RETIRE, true, FSM_ENTRY_PUBLISHED, 403 },
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *prov = rows[i].city ? "county" : "dept";
        const char *scope = rows[i].city ? "city:cityA" : "province";
        const char *maker = rows[i].city ? "cprov" : "prov";
        char id[16], b[1024];
        int got;

        snprintf(id, sizeof(id), "e%zu", i);
        if (rows[i].op == OP_CREATE) {
            got = create(fx, rows[i].who, id, prov, scope);
        } else {
            prepare(fx, id, prov, scope, maker, "admin", rows[i].state);
            switch (rows[i].op) {
            case OP_UPDATE:
                got = update(fx, rows[i].who, id,
                             body(b, sizeof(b), id, prov, "new title", scope,
                                  "unconditional", "none", NULL),
                             (int)fsm_entry(fx->f, id)->version);
                break;
            case OP_SUBMIT:
                got = run(fx, CMD_ENTRY_SUBMIT, rows[i].who, id, NULL, NULL)
                          .status;
                break;
            case OP_REVIEW:
                got = review(fx, rows[i].who, id, true);
                break;
            default:
                got = retire(fx, rows[i].who, id);
                break;
            }
        }
        if (got != rows[i].status) {
            fail_msg("row %zu (%s op %d state %d): got %d, want %d", i,
                     rows[i].who, rows[i].op, rows[i].state, got,
                     rows[i].status);
        }
    }
}

/* The whole lifecycle, with the versions and statuses each step leaves. */
static void
test_catalog_lifecycle(void **state)
{
    struct fsmfx *fx = *state;
    const struct fsm_entry *e;
    char b[1024];

    assert_int_equal(create(fx, "prov", "pop", "dept", "province"), 201);
    e = fsm_entry(fx->f, "pop");
    assert_non_null(e);
    assert_int_equal(e->status, FSM_ENTRY_DRAFT);
    assert_int_equal(e->version, 1);
    assert_int_equal(e->public_rev, 0);
    assert_int_equal(
        run(fx, CMD_ENTRY_SUBMIT, "prov", "pop", NULL, NULL).status, 200);
    /* A rejection needs a reason. */
    struct fsm_result r = run(fx, CMD_ENTRY_REVIEW, "admin", "pop",
                              "{\"decision\":\"reject\"}", NULL);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.message, "reason"));
    assert_int_equal(review(fx, "admin", "pop", false), 200);
    e = fsm_entry(fx->f, "pop");
    assert_int_equal(e->status, FSM_ENTRY_REJECTED);
    assert_int_equal(e->version, 3);
    /* A rejected entry is edited back to draft, then resubmitted. */
    assert_int_equal(
        update(fx, "prov", "pop",
               body(b, sizeof(b), "pop", "dept", "Population", "province",
                    "unconditional", "conditional", NULL),
               3),
        200);
    assert_int_equal(fsm_entry(fx->f, "pop")->status, FSM_ENTRY_DRAFT);
    assert_int_equal(
        run(fx, CMD_ENTRY_SUBMIT, "prov", "pop", NULL, NULL).status, 200);
    assert_int_equal(review(fx, "admin", "pop", true), 200);
    e = fsm_entry(fx->f, "pop");
    assert_int_equal(e->status, FSM_ENTRY_PUBLISHED);
    assert_int_equal(e->version, 6);
    assert_int_equal(e->public_rev, e->rev);
    assert_int_equal(e->open, FSM_CLASS_CONDITIONAL);
    uint64_t published_rev = e->rev;
    /* A title change keeps it published. */
    assert_int_equal(
        update(fx, "prov", "pop",
               body(b, sizeof(b), "pop", "dept", "Population 2", "province",
                    "unconditional", "conditional", NULL),
               6),
        200);
    e = fsm_entry(fx->f, "pop");
    assert_int_equal(e->status, FSM_ENTRY_PUBLISHED);
    assert_string_equal(e->title_norm, "population 2");
    published_rev = e->rev;
    /* A field change goes back to review; others still see version 7. */
    assert_int_equal(
        update(fx, "prov", "pop",
               body(b, sizeof(b), "pop", "dept", "Population 2", "province",
                    "unconditional", "conditional",
                    "[{\"name\":\"a\",\"type\":\"string\"},"
                    "{\"name\":\"n\",\"type\":\"integer\",\"required\":true}]"),
               7),
        200);
    e = fsm_entry(fx->f, "pop");
    assert_int_equal(e->status, FSM_ENTRY_SUBMITTED);
    assert_int_equal(e->version, 8);
    assert_int_equal(e->n_fields, 2);
    assert_string_equal(e->fields[1].name, "n");
    assert_int_equal(e->fields[1].type, FSM_FIELD_INTEGER);
    assert_true(e->fields[1].required);
    assert_false(e->fields[0].required);
    assert_int_equal(e->public_rev, published_rev);
    assert_int_equal(
        fsm_entry_visible_rev(fx->f, e, fsm_principal(fx->f, "cons")),
        published_rev);
    assert_int_equal(
        fsm_entry_visible_rev(fx->f, e, fsm_principal(fx->f, "prov")), e->rev);
    assert_int_equal(fsm_entry_visible_rev(fx->f, e, NULL), published_rev);
    /* Approve the change, then retire: retired is final. */
    assert_int_equal(review(fx, "admin", "pop", true), 200);
    assert_int_equal(retire(fx, "admin", "pop"), 200);
    e = fsm_entry(fx->f, "pop");
    assert_int_equal(e->status, FSM_ENTRY_RETIRED);
    assert_int_equal(e->version, 10);
    assert_int_equal(retire(fx, "prov", "pop"), 409);
    assert_int_equal(
        run(fx, CMD_ENTRY_SUBMIT, "prov", "pop", NULL, NULL).status, 409);
    assert_int_equal(update(fx, "prov", "pop",
                            body(b, sizeof(b), "pop", "dept", "x", "province",
                                 "unconditional", "none", NULL),
                            10),
                     409);
    assert_int_equal(fsm_entry(fx->f, "pop")->version, 10);
}

/* Security-level and class changes of a published entry need review. */
static void
test_catalog_major_changes(void **state)
{
    struct fsmfx *fx = *state;
    char b[1024];

    prepare(fx, "m", "dept", "province", "prov", "admin", FSM_ENTRY_PUBLISHED);
    /* share class unconditional -> conditional (open must follow) */
    assert_int_equal(update(fx, "prov", "m",
                            body(b, sizeof(b), "m", "dept", "m", "province",
                                 "conditional", "conditional", NULL),
                            3),
                     200);
    assert_int_equal(fsm_entry(fx->f, "m")->status, FSM_ENTRY_SUBMITTED);
    assert_int_equal(fsm_entry(fx->f, "m")->share, FSM_CLASS_CONDITIONAL);
    assert_int_equal(review(fx, "admin", "m", true), 200);
    /* description and keywords alone do not */
    static const char minor[] =
        "{\"id\":\"m\",\"title\":\"m\",\"description\":\"other\","
        "\"provider\":\"dept\",\"keywords\":[\"x\",\"y\"],"
        "\"fields\":[{\"name\":\"a\",\"type\":\"string\",\"required\":true}],"
        "\"share\":{\"class\":\"conditional\"},\"open\":{\"class\":"
        "\"conditional\"},\"update_frequency\":\"daily\","
        "\"security_level\":%d,\"scope\":\"province\"}";
    snprintf(b, sizeof(b), minor, 2);
    assert_int_equal(update(fx, "prov", "m", b, 5), 200);
    assert_int_equal(fsm_entry(fx->f, "m")->status, FSM_ENTRY_PUBLISHED);
    /* security level 2 -> 3 does */
    snprintf(b, sizeof(b), minor, 3);
    assert_int_equal(update(fx, "prov", "m", b, 6), 200);
    assert_int_equal(fsm_entry(fx->f, "m")->status, FSM_ENTRY_SUBMITTED);
    assert_int_equal(fsm_entry(fx->f, "m")->security_level, 3);
}

/* Syntax errors name the offending field, both before proposing and in
 * apply (where they become rejection facts). */
static void
test_catalog_validation_names_field(void **state)
{
    struct fsmfx *fx = *state;
    char b[1024], msg[200], field[FSM_FIELD_LEN];
    static const struct {
        const char *from, *to, *field;
    } cases[] = {
        { "\"id\":\"v\"", "\"id\":\"bad id\"", "id" },
        { "\"title\":\"v\"", "\"title\":\"  \"", "title" },
        { "\"provider\":\"dept\"", "\"provider\":7", "provider" },
        { "\"type\":\"string\"", "\"type\":\"text\"", "fields[0].type" },
        { "\"required\":true", "\"required\":\"yes\"", "fields[0].required" },
        { "\"name\":\"a\"", "\"name\":\"\"", "fields[0].name" },
        { "\"share\":{\"class\":\"unconditional\"}",
          "\"share\":{\"class\":\"none\",\"basis\":\"l\"}", "open.class" },
        { "\"share\":{\"class\":\"unconditional\"}",
          "\"share\":{\"class\":\"none\"}", "share.basis" },
        { "\"share\":{\"class\":\"unconditional\"}",
          "\"share\":{\"class\":\"none\",\"basis\":\" \"}", "share.basis" },
        { "\"share\":{\"class\":\"unconditional\"}",
          "\"share\":{\"class\":\"unconditional\",\"basis\":1}",
          "share.basis" },
        { "\"share\":{\"class\":\"unconditional\"}",
          "\"share\":{\"class\":\"some\"}", "share.class" },
        { "\"conditions\":\"\"", "\"conditions\":\"\",\"x\":1", "open.x" },
        { "\"update_frequency\":\"daily\"", "\"update_frequency\":\"hourly\"",
          "update_frequency" },
        { "\"security_level\":2", "\"security_level\":5", "security_level" },
        { "\"security_level\":2", "\"security_level\":2.5", "security_level" },
        /* An integer as written, as the rule always read it. */
        { "\"security_level\":2", "\"security_level\":2.0", "security_level" },
        { "\"security_level\":2", "\"security_level\":2e0", "security_level" },
        { "\"security_level\":2", "\"security_level\":99999999999999999999",
          "security_level" },
        /* Of several unknown members, the first written is named. */
        { "\"theme\":\"t\"", "\"zz\":1,\"theme\":\"t\",\"aa\":1", "zz" },
        { "\"required\":true", "\"required\":true,\"zz\":1,\"aa\":2",
          "fields[0].zz" },
        { "\"conditions\":\"\"", "\"conditions\":\"\",\"y\":1,\"x\":1",
          "open.y" },
        /* Strings are C strings in the rules: U+0000 is refused. */
        { "\"title\":\"v\"", "\"title\":\"a\\u0000b\"", "" },
        { "\"scope\":\"province\"", "\"scope\":\"city:\"", "scope" },
        { "\"scope\":\"province\"", "\"scope\":\"county:x\"", "scope" },
        { "\"theme\":\"t\"", "\"colour\":\"t\"", "colour" },
        { "\"keywords\":[\"k\"]", "\"keywords\":[1]", "keywords[0]" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char in[1024], out[1200];
        uint64_t n = led_count(fsm_led(fx->f));

        body(in, sizeof(in), "v", "dept", "v", "province", "unconditional",
             "unconditional", NULL);
        char *at = strstr(in, cases[i].from);
        assert_non_null(at);
        snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - in), in, cases[i].to,
                 at + strlen(cases[i].from));
        if (fsm_entry_body_valid(out, strlen(out), NULL, msg, field)) {
            fail_msg("case %zu accepted: %s", i, out);
        }
        if (strcmp(field, cases[i].field) != 0) {
            fail_msg("case %zu: field \"%s\", want \"%s\" (%s)", i, field,
                     cases[i].field, msg);
        }
        struct fsm_result r =
            run(fx, CMD_ENTRY_CREATE, "prov", NULL, out, NULL);
        assert_int_equal(r.status, 400);
        assert_non_null(strstr(r.message, cases[i].field));
        assert_int_equal(led_count(fsm_led(fx->f)), n + 1); /* rejection */
    }
    /* Duplicate field names. */
    body(b, sizeof(b), "v", "dept", "v", "province", "unconditional", "none",
         "[{\"name\":\"a\",\"type\":\"date\"},{\"name\":\"a\",\"type\":"
         "\"array\"}]");
    assert_false(fsm_entry_body_valid(b, strlen(b), NULL, msg, field));
    assert_string_equal(field, "fields[1].name");
    assert_non_null(strstr(msg, "duplicate"));
    /* The first repeat in declaration order; a bad declaration before it
     * is reported first. */
    body(b, sizeof(b), "v", "dept", "v", "province", "unconditional", "none",
         "[{\"name\":\"b\",\"type\":\"date\"},{\"name\":\"a\",\"type\":"
         "\"date\"},{\"name\":\"c\",\"type\":\"date\"},{\"name\":\"a\","
         "\"type\":\"date\"},{\"name\":\"b\",\"type\":\"date\"}]");
    assert_false(fsm_entry_body_valid(b, strlen(b), NULL, msg, field));
    assert_string_equal(field, "fields[3].name");
    assert_string_equal(msg, "\"fields[3].name\": duplicate field name \"a\"");
    body(b, sizeof(b), "v", "dept", "v", "province", "unconditional", "none",
         "[{\"name\":\"a\",\"type\":\"date\"},{\"name\":\"b\",\"type\":"
         "\"day\"},{\"name\":\"a\",\"type\":\"date\"}]");
    assert_false(fsm_entry_body_valid(b, strlen(b), NULL, msg, field));
    assert_string_equal(field, "fields[1].type");
    /* Messages of bodies that are not an object of strings. */
    assert_false(fsm_entry_body_valid("{\"id\":", 6, NULL, msg, field));
    assert_string_equal(msg,
                        "malformed JSON: unexpected end of input at byte 6");
    assert_string_equal(field, "");
    assert_false(fsm_entry_body_valid("[1]", 3, NULL, msg, field));
    assert_string_equal(msg, "the body must be a JSON object");
    assert_false(
        fsm_entry_body_valid("{\"title\":\"\\u0000\"}", 18, NULL, msg, field));
    assert_string_equal(msg, "malformed JSON: a string holds \\u0000");
    /* A PUT body's id must match the path. */
    body(b, sizeof(b), "v", "dept", "v", "province", "unconditional", "none",
         NULL);
    assert_true(fsm_entry_body_valid(b, strlen(b), NULL, msg, field));
    assert_false(fsm_entry_body_valid(b, strlen(b), "w", msg, field));
    assert_string_equal(field, "id");
    /* State-dependent rules: unknown provider, scope org, province level. */
    struct fsm_result r = run(fx, CMD_ENTRY_CREATE, "prov", NULL,
                              body(b, sizeof(b), "v", "nope", "v", "province",
                                   "unconditional", "none", NULL),
                              NULL);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.message, "provider"));
    r = run(fx, CMD_ENTRY_CREATE, "cprov", NULL,
            body(b, sizeof(b), "v", "county", "v", "city:dept", "unconditional",
                 "none", NULL),
            NULL);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.message, "scope"));
    r = run(fx, CMD_ENTRY_CREATE, "cprov", NULL,
            body(b, sizeof(b), "v", "county", "v", "city:cityB",
                 "unconditional", "none", NULL),
            NULL);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.message, "scope"));
    r = run(fx, CMD_ENTRY_CREATE, "cprov", NULL,
            body(b, sizeof(b), "v", "county", "v", "province", "unconditional",
                 "none", NULL),
            NULL);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.message, "province-level"));
    assert_null(fsm_entry(fx->f, "v"));
}

/* One data, one source: a provider's titles are unique (normalised). */
static void
test_catalog_duplicates(void **state)
{
    struct fsmfx *fx = *state;
    char b[1024];

    assert_int_equal(run(fx, CMD_ENTRY_CREATE, "prov", NULL,
                         body(b, sizeof(b), "d1", "dept", "Road Works",
                              "province", "unconditional", "none", NULL),
                         NULL)
                         .status,
                     201);
    /* same id */
    assert_int_equal(run(fx, CMD_ENTRY_CREATE, "prov", NULL,
                         body(b, sizeof(b), "d1", "dept", "Other", "province",
                              "unconditional", "none", NULL),
                         NULL)
                         .status,
                     409);
    /* same title up to case and surrounding blanks */
    struct fsm_result r = run(fx, CMD_ENTRY_CREATE, "prov", NULL,
                              body(b, sizeof(b), "d2", "dept", "  ROAD works ",
                                   "province", "unconditional", "none", NULL),
                              NULL);
    assert_int_equal(r.status, 409);
    assert_string_equal(r.code, "conflict");
    assert_non_null(strstr(r.message, "d1"));
    /* another provider may use the title */
    assert_int_equal(run(fx, CMD_ENTRY_CREATE, "prov2", NULL,
                         body(b, sizeof(b), "d3", "dept2", "Road Works",
                              "province", "unconditional", "none", NULL),
                         NULL)
                         .status,
                     201);
    /* renaming onto a taken title */
    assert_int_equal(run(fx, CMD_ENTRY_CREATE, "prov", NULL,
                         body(b, sizeof(b), "d4", "dept", "Bridges", "province",
                              "unconditional", "none", NULL),
                         NULL)
                         .status,
                     201);
    assert_int_equal(update(fx, "prov", "d4",
                            body(b, sizeof(b), "d4", "dept", "road works",
                                 "province", "unconditional", "none", NULL),
                            1),
                     409);
    /* a retired entry frees its title */
    assert_int_equal(retire(fx, "prov", "d1"), 200);
    assert_int_equal(update(fx, "prov", "d4",
                            body(b, sizeof(b), "d4", "dept", "road works",
                                 "province", "unconditional", "none", NULL),
                            1),
                     200);
}

/* The current version's payload of entry `id`, as JSON (caller decrefs). */
static json_t *
current(struct fsmfx *fx, const char *id)
{
    const struct fsm_entry *e = fsm_entry(fx->f, id);
    struct fact fact;
    json_t *o;

    assert_non_null(e);
    assert_int_equal(led_get(fsm_led(fx->f), e->rev, &fact), PC_OK);
    o = json_loadb((const char *)fact.payload.p, fact.payload.len, 0, NULL);
    assert_non_null(o);
    return o;
}

static int
approve(struct fsmfx *fx, const char *id, const char *extra_members)
{
    char b[256];

    snprintf(b, sizeof(b), "{\"decision\":\"approve\"%s}", extra_members);
    return run(fx, CMD_ENTRY_REVIEW, "admin", id, b, NULL).status;
}

/*
 * Article 12 across providers: another provider's entry
 * with the same title, or with field names all inside a published entry's,
 * is flagged when submitted, and approving it needs an explicit override
 * with a reason, both kept in the published version.
 */
static void
test_catalog_possible_duplicates(void **state)
{
    struct fsmfx *fx = *state;
    static const char *const two =
        "[{\"name\":\"road\",\"type\":\"string\",\"required\":true},"
        "{\"name\":\"km\",\"type\":\"number\",\"required\":false},"
        "{\"name\":\"owner\",\"type\":\"string\",\"required\":false}]";
    static const char *const sub =
        "[{\"name\":\"km\",\"type\":\"number\",\"required\":false},"
        "{\"name\":\"road\",\"type\":\"string\",\"required\":true}]";
    static const char *const one =
        "[{\"name\":\"road\",\"type\":\"string\",\"required\":true}]";
    char b[1024];
    json_t *o, *d;

    assert_int_equal(run(fx, CMD_ENTRY_CREATE, "prov", NULL,
                         body(b, sizeof(b), "roads", "dept", "Roads",
                              "province", "unconditional", "none", two),
                         NULL)
                         .status,
                     201);
    assert_int_equal(
        run(fx, CMD_ENTRY_SUBMIT, "prov", "roads", NULL, NULL).status, 200);
    o = current(fx, "roads");
    assert_null(json_object_get(o, "possible_duplicate_of"));
    json_decref(o);
    assert_int_equal(approve(fx, "roads", ""), 200);

    /* Same title by another provider; a field subset; one common field. */
    assert_int_equal(run(fx, CMD_ENTRY_CREATE, "prov2", NULL,
                         body(b, sizeof(b), "roads2", "dept2", " ROADS",
                              "province", "unconditional", "none", one),
                         NULL)
                         .status,
                     201);
    assert_int_equal(run(fx, CMD_ENTRY_CREATE, "prov2", NULL,
                         body(b, sizeof(b), "km", "dept2", "Kilometres",
                              "province", "unconditional", "none", sub),
                         NULL)
                         .status,
                     201);
    assert_int_equal(run(fx, CMD_ENTRY_CREATE, "prov2", NULL,
                         body(b, sizeof(b), "solo", "dept2", "Solo", "province",
                              "unconditional", "none", one),
                         NULL)
                         .status,
                     201);
    for (const char *const *id =
             (const char *const[]){ "roads2", "km", "solo", NULL };
         *id != NULL; id++) {
        assert_int_equal(
            run(fx, CMD_ENTRY_SUBMIT, "prov2", *id, NULL, NULL).status, 200);
    }
    o = current(fx, "roads2");
    d = json_object_get(o, "possible_duplicate_of");
    assert_int_equal(json_array_size(d), 1);
    assert_string_equal(json_string_value(json_array_get(d, 0)), "roads");
    json_decref(o);
    o = current(fx, "km");
    d = json_object_get(o, "possible_duplicate_of");
    assert_int_equal(json_array_size(d), 1);
    assert_string_equal(json_string_value(json_array_get(d, 0)), "roads");
    json_decref(o);
    o = current(fx, "solo");
    assert_null(json_object_get(o, "possible_duplicate_of"));
    json_decref(o);

    /* Approval needs the override and a reason. */
    assert_int_equal(approve(fx, "km", ""), 409);
    assert_int_equal(approve(fx, "km", ",\"override_duplicate\":true"), 409);
    assert_int_equal(approve(fx, "km", ",\"reason\":\"x\""), 409);
    assert_int_equal(fsm_entry(fx->f, "km")->status, FSM_ENTRY_SUBMITTED);
    assert_int_equal(approve(fx, "km",
                             ",\"override_duplicate\":true,\"reason\":"
                             "\"kilometres only, by the road agency\""),
                     200);
    o = current(fx, "km");
    assert_true(json_is_true(json_object_get(o, "override_duplicate")));
    assert_string_equal(json_string_value(json_object_get(o, "reason")),
                        "kilometres only, by the road agency");
    assert_string_equal(json_string_value(json_object_get(o, "status")),
                        "published");
    json_decref(o);
    assert_int_equal(approve(fx, "solo", ""), 200);
}

/* If-Match: required, compared in apply; the provider never changes. */
static void
test_catalog_if_match(void **state)
{
    struct fsmfx *fx = *state;
    char b[1024];

    assert_int_equal(create(fx, "prov", "im", "dept", "province"), 201);
    body(b, sizeof(b), "im", "dept", "t2", "province", "unconditional", "none",
         NULL);
    struct fsm_result r = run(fx, CMD_ENTRY_UPDATE, "prov", "im", b, NULL);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.message, "If-Match required"));
    assert_int_equal(update(fx, "prov", "im", b, 1), 200);
    r = run(fx, CMD_ENTRY_UPDATE, "prov", "im", b, "{\"if_match\":1}");
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.message, "current version is 2"));
    {
        /* The rejection keeps current_version for the error body. */
        struct fact fact;
        json_t *p, *d;

        assert_int_equal(
            led_get(fsm_led(fx->f), led_count(fsm_led(fx->f)), &fact), PC_OK);
        assert_int_equal(fact.kind, FACT_REJECTION);
        p = json_loadb((const char *)fact.payload.p, fact.payload.len, 0, NULL);
        d = json_object_get(p, "detail");
        assert_int_equal(
            json_integer_value(json_object_get(d, "current_version")), 2);
        json_decref(p);
    }
    assert_int_equal(update(fx, "prov", "im", b, 3), 409);
    assert_int_equal(fsm_entry(fx->f, "im")->version, 2);
    /* The leader's number is read exactly, beyond 2^53 too; one that does
     * not fit 64 bits, or is not written as an integer, is no If-Match. */
    r = run(fx, CMD_ENTRY_UPDATE, "prov", "im", b,
            "{\"if_match\":9007199254740993}");
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.message, "version 9007199254740993 is"));
    r = run(fx, CMD_ENTRY_UPDATE, "prov", "im", b,
            "{\"if_match\":9223372036854775807}");
    assert_non_null(strstr(r.message, "version 9223372036854775807 is"));
    r = run(fx, CMD_ENTRY_UPDATE, "prov", "im", b,
            "{\"if_match\":9223372036854775808}");
    assert_string_equal(r.message, "If-Match required");
    r = run(fx, CMD_ENTRY_UPDATE, "prov", "im", b,
            "{\"if_match\":-9223372036854775808}");
    assert_string_equal(r.message, "If-Match required");
    r = run(fx, CMD_ENTRY_UPDATE, "prov", "im", b, "{\"if_match\":2.0}");
    assert_string_equal(r.message, "If-Match required");
    r = run(fx, CMD_ENTRY_UPDATE, "prov", "im", b, "{\"if_match\":\"2\"}");
    assert_string_equal(r.message, "If-Match required");
    assert_int_equal(fsm_entry(fx->f, "im")->version, 2);
    /* the provider is fixed at creation */
    body(b, sizeof(b), "im", "dept2", "t2", "province", "unconditional", "none",
         NULL);
    r = run(fx, CMD_ENTRY_UPDATE, "prov", "im", b, "{\"if_match\":2}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.message, "provider"));
    /* a missing entry is 404 */
    assert_int_equal(update(fx, "prov", "nope", b, 1), 404);
}

/* A principal never approves a version it edited, even as an authority;
 * another principal of the same authority may. */
static void
test_catalog_no_self_review(void **state)
{
    struct fsmfx *fx = *state;

    prepare(fx, "self", "county", "city:cityA", "ca", NULL,
            FSM_ENTRY_SUBMITTED);
    struct fsm_result r = run(fx, CMD_ENTRY_REVIEW, "ca", "self",
                              "{\"decision\":\"approve\"}", NULL);
    assert_int_equal(r.status, 403);
    assert_int_equal(fsm_entry(fx->f, "self")->status, FSM_ENTRY_SUBMITTED);
    assert_int_equal(review(fx, "ca2", "self", true), 200);
    assert_int_equal(fsm_entry(fx->f, "self")->status, FSM_ENTRY_PUBLISHED);
}

/* Article 23: only the provider org sets an entry's open class. A city
 * authority writing its city's supplementary entries keeps the class of
 * the current version (none for a new entry), a refusal being a 403
 * rejection fact; the provider org changes it freely. */
static void
test_catalog_open_class_by_provider_only(void **state)
{
    struct fsmfx *fx = *state;
    struct fsm_result r;
    char b[1024];

#define OC(title, open)                                                      \
    body(b, sizeof(b), "oc", "county", title, "city:cityA", "unconditional", \
         open, NULL)
    r = run(fx, CMD_ENTRY_CREATE, "ca", NULL, OC("oc", "conditional"), NULL);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.message, "article 23"));
    assert_null(fsm_entry(fx->f, "oc"));
    r = run(fx, CMD_ENTRY_CREATE, "ca", NULL, OC("oc", "unconditional"), NULL);
    assert_int_equal(r.status, 403);
    assert_int_equal(
        run(fx, CMD_ENTRY_CREATE, "ca", NULL, OC("oc", "none"), NULL).status,
        201);
    assert_int_equal(update(fx, "ca", "oc", OC("oc", "conditional"), 1), 403);
    assert_int_equal(fsm_entry(fx->f, "oc")->version, 1);
    assert_int_equal(update(fx, "ca", "oc", OC("oc2", "none"), 1), 200);
    /* The provider org opens it; the authority may keep that class. */
    assert_int_equal(update(fx, "cprov", "oc", OC("oc2", "conditional"), 2),
                     200);
    assert_int_equal(fsm_entry(fx->f, "oc")->open, FSM_CLASS_CONDITIONAL);
    assert_int_equal(update(fx, "ca", "oc", OC("oc3", "conditional"), 3), 200);
    assert_int_equal(update(fx, "ca", "oc", OC("oc4", "none"), 4), 403);
    assert_int_equal(fsm_entry(fx->f, "oc")->open, FSM_CLASS_CONDITIONAL);
    assert_int_equal(update(fx, "cprov", "oc", OC("oc4", "none"), 4), 200);
    assert_int_equal(fsm_entry(fx->f, "oc")->open, FSM_CLASS_NONE);
#undef OC
}

/* Visibility: drafts to the provider side and the authority in scope;
 * published to principals; open class not none to the public. */
static void
test_catalog_visibility(void **state)
{
    struct fsmfx *fx = *state;
    const struct fsm_principal *prov = fsm_principal(fx->f, "prov"),
                               *cons = fsm_principal(fx->f, "cons"),
                               *admin = fsm_principal(fx->f, "admin"),
                               *ca = fsm_principal(fx->f, "ca"),
                               *cb = fsm_principal(fx->f, "cb");
    const struct fsm_entry *e;
    char b[1024];

    assert_int_equal(run(fx, CMD_ENTRY_CREATE, "prov", NULL,
                         body(b, sizeof(b), "vis", "dept", "vis", "province",
                              "conditional", "none", NULL),
                         NULL)
                         .status,
                     201);
    e = fsm_entry(fx->f, "vis");
    assert_int_not_equal(fsm_entry_visible_rev(fx->f, e, prov), 0);
    assert_int_not_equal(fsm_entry_visible_rev(fx->f, e, admin), 0);
    assert_int_equal(fsm_entry_visible_rev(fx->f, e, cons), 0);
    assert_int_equal(fsm_entry_visible_rev(fx->f, e, ca), 0);
    assert_int_equal(fsm_entry_visible_rev(fx->f, e, NULL), 0);
    prepare(fx, "cvis", "county", "city:cityA", "cprov", NULL, FSM_ENTRY_DRAFT);
    e = fsm_entry(fx->f, "cvis");
    assert_int_not_equal(fsm_entry_visible_rev(fx->f, e, ca), 0);
    assert_int_equal(fsm_entry_visible_rev(fx->f, e, cb), 0);
    assert_int_not_equal(fsm_entry_visible_rev(fx->f, e, admin), 0);
    /* published with open none: principals yes, the public no */
    run(fx, CMD_ENTRY_SUBMIT, "prov", "vis", NULL, NULL);
    assert_int_equal(review(fx, "admin", "vis", true), 200);
    e = fsm_entry(fx->f, "vis");
    assert_int_equal(fsm_entry_visible_rev(fx->f, e, cons), e->rev);
    assert_int_equal(fsm_entry_visible_rev(fx->f, e, cb), e->rev);
    assert_int_equal(fsm_entry_visible_rev(fx->f, e, NULL), 0);
    /* conditional opening makes it public (it is a major change: review) */
    assert_int_equal(update(fx, "prov", "vis",
                            body(b, sizeof(b), "vis", "dept", "vis", "province",
                                 "conditional", "conditional", NULL),
                            3),
                     200);
    e = fsm_entry(fx->f, "vis");
    assert_int_equal(fsm_entry_visible_rev(fx->f, e, NULL), 0);
    assert_int_equal(review(fx, "admin", "vis", true), 200);
    e = fsm_entry(fx->f, "vis");
    assert_int_equal(fsm_entry_visible_rev(fx->f, e, NULL), e->rev);
    /* retired entries stay visible */
    assert_int_equal(retire(fx, "prov", "vis"), 200);
    e = fsm_entry(fx->f, "vis");
    assert_int_equal(fsm_entry_visible_rev(fx->f, e, NULL), e->rev);
}

static bool
entries_equal(const struct fsm_entry *a, const struct fsm_entry *b)
{
    if (strcmp(a->id, b->id) || strcmp(a->provider, b->provider) ||
        strcmp(a->scope, b->scope) || strcmp(a->title_norm, b->title_norm) ||
        a->status != b->status || a->share != b->share || a->open != b->open ||
        a->security_level != b->security_level || a->n_fields != b->n_fields ||
        a->version != b->version || a->rev != b->rev ||
        a->public_rev != b->public_rev || a->public_open != b->public_open) {
        return false;
    }
    for (size_t i = 0; i < a->n_fields; i++) {
        if (strcmp(a->fields[i].name, b->fields[i].name) ||
            a->fields[i].type != b->fields[i].type ||
            a->fields[i].required != b->fields[i].required) {
            return false;
        }
    }
    return true;
}

/* Rebuilding from the ledger gives the same entries; the payload of a
 * version is the canonical entry object with its status. */
static void
test_catalog_rebuild_same_entries(void **state)
{
    struct fsmfx *fx = *state;
    const char *ids[] = { "r0", "r1", "r2", "r3", "r4" };
    char b[1024];

    for (int i = 0; i < 5; i++) {
        prepare(fx, ids[i], i % 2 ? "county" : "dept",
                i % 2 ? "city:cityA" : "province", i % 2 ? "cprov" : "prov",
                "admin", (enum fsm_entry_status)(i % 3));
    }
    assert_int_equal(
        update(fx, "prov", "r0",
               body(b, sizeof(b), "r0", "dept", "R0", "province", "conditional",
                    "none", "[{\"name\":\"x\",\"type\":\"boolean\"}]"),
               1),
        200);
    struct fsm *other = fsmfx_rebuilt(fx);
    for (int i = 0; i < 5; i++) {
        const struct fsm_entry *a = fsm_entry(fx->f, ids[i]);
        const struct fsm_entry *c = fsm_entry(other, ids[i]);
        assert_non_null(a);
        assert_non_null(c);
        assert_true(entries_equal(a, c));
    }
    assert_int_equal(fsm_entry(other, "r0")->fields[0].type, FSM_FIELD_BOOLEAN);
    /* The stored object: every member present, status set. */
    struct fact f;
    assert_int_equal(led_get(fsm_led(fx->f), fsm_entry(fx->f, "r0")->rev, &f),
                     PC_OK);
    assert_int_equal(f.kind, FACT_ENTRY);
    assert_int_equal(f.version, 2);
    assert_true(f.has_prev);
    json_t *p = json_loadb((const char *)f.payload.p, f.payload.len, 0, NULL);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "status")),
                        "draft");
    assert_int_equal(json_object_size(p), 13);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(p, "fields"), 0), "description")),
        "");
    assert_null(json_object_get(p, "version"));
    json_decref(p);
    fsm_free(other);
}

/* Out of memory anywhere in an update leaves ledger and entry unchanged;
 * the retry applies it. */
static void
test_catalog_oom_update(void **state)
{
    struct fsmfx *fx = *state;
    char b[1024];

    prepare(fx, "oom", "dept", "province", "prov", "admin",
            FSM_ENTRY_PUBLISHED);
    body(b, sizeof(b), "oom", "dept", "oom", "province", "conditional", "none",
         NULL);
    fsmfx_oom_run(fx, CMD_ENTRY_UPDATE, "prov", "oom", b, "{\"if_match\":3}",
                  NULL, 200);
    assert_int_equal(fsm_entry(fx->f, "oom")->version, 4);
    assert_int_equal(fsm_entry(fx->f, "oom")->status, FSM_ENTRY_SUBMITTED);
}

/* Every catalog command under out of memory, through a whole lifecycle
 * with a possible duplicate, and its refusals: each allocation failing
 * (the body's parse, the stored version's, the payload's writing, the
 * ledger, the derived entry) is PC_ENOMEM and leaves nothing. */
static void
test_catalog_oom_every_command(void **state)
{
    struct fsmfx *fx = *state;
    char b[1024];

    body(b, sizeof(b), "o1", "dept", "Same \\u00e9", "province",
         "unconditional", "conditional",
         "[{\"name\":\"a\",\"type\":\"string\"},{\"name\":\"b\","
         "\"type\":\"integer\",\"required\":true,\"description\":\"x\"}]");
    fsmfx_oom_run(fx, CMD_ENTRY_CREATE, "prov", NULL, b, NULL, "c1", 201);
    assert_true(
        fsmfx_oom_run(fx, CMD_ENTRY_CREATE, "prov", NULL, b, NULL, "c1", 201)
            .replayed);
    fsmfx_oom_run(fx, CMD_ENTRY_CREATE, "prov", NULL, b, NULL, NULL, 409);
    fsmfx_oom_run(fx, CMD_ENTRY_CREATE, "prov", NULL, "{\"id\":1}", NULL, NULL,
                  400);
    fsmfx_oom_run(fx, CMD_ENTRY_UPDATE, "prov", "o1", b, "{\"if_match\":9}",
                  NULL, 409);
    fsmfx_oom_run(fx, CMD_ENTRY_SUBMIT, "prov", "o1", NULL, NULL, NULL, 200);
    fsmfx_oom_run(fx, CMD_ENTRY_REVIEW, "admin", "o1",
                  "{\"decision\":\"reject\",\"reason\":\"r \\u00e9\"}", NULL,
                  NULL, 200);
    fsmfx_oom_run(fx, CMD_ENTRY_SUBMIT, "prov", "o1", NULL, NULL, NULL, 200);
    fsmfx_oom_run(fx, CMD_ENTRY_REVIEW, "admin", "o1", "{\"decision\":1}", NULL,
                  NULL, 400);
    fsmfx_oom_run(fx, CMD_ENTRY_REVIEW, "admin", "o1",
                  "{\"decision\":\"approve\"}", NULL, NULL, 200);
    /* Another provider, the same title: flagged on submission. */
    body(b, sizeof(b), "o2", "dept2", "same \\u00e9", "province", "none",
         "none", NULL);
    fsmfx_oom_run(fx, CMD_ENTRY_CREATE, "prov2", NULL, b, NULL, NULL, 201);
    fsmfx_oom_run(fx, CMD_ENTRY_SUBMIT, "prov2", "o2", NULL, NULL, NULL, 200);
    fsmfx_oom_run(fx, CMD_ENTRY_REVIEW, "admin", "o2",
                  "{\"decision\":\"approve\"}", NULL, NULL, 409);
    fsmfx_oom_run(fx, CMD_ENTRY_REVIEW, "admin", "o2",
                  "{\"decision\":\"approve\",\"override_duplicate\":true,"
                  "\"reason\":\"checked\"}",
                  NULL, NULL, 200);
    fsmfx_oom_run(fx, CMD_ENTRY_RETIRE, "prov2", "o2", "{\"reason\":\"old\"}",
                  NULL, NULL, 200);
    fsmfx_oom_run(fx, CMD_ENTRY_RETIRE, "prov2", "o2", "{}", NULL, NULL, 400);
    assert_int_equal(fsm_entry(fx->f, "o1")->status, FSM_ENTRY_PUBLISHED);
    assert_int_equal(fsm_entry(fx->f, "o2")->status, FSM_ENTRY_RETIRED);
    assert_int_equal(fsm_entry(fx->f, "o2")->version, 4);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_catalog_role_table, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_catalog_lifecycle, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_catalog_major_changes, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_catalog_validation_names_field,
                                        setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_catalog_duplicates, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_catalog_possible_duplicates, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_catalog_if_match, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_catalog_no_self_review, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(
            test_catalog_open_class_by_provider_only, setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_catalog_visibility, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_catalog_rebuild_same_entries,
                                        setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_catalog_oom_update, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_catalog_oom_every_command, setup,
                                        fsmfx_teardown),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
