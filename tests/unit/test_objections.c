/* SPDX-License-Identifier: MIT */
/*
 * Objections and redaction as pure state transitions through fsm_apply:
 * who may file (no existence oracle for keys), who may decide in which
 * state (every out-of-turn and wrong-role decision), corrections that
 * resolve (an omission creating its record), redaction only for accepted
 * personal-information and trade-secret objections on the record (a retire
 * version, a missing version, a redacted one refused), hashes and the root
 * untouched by a redaction, the derived counts, rebuilds, replays and
 * allocation failures.
 */
#include "tests/lib/fsmfx.h"
#include "tests/lib/test.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "node/raft/redactions.h"
#include "storage/idx.h"
#include "storage/led.h"
#include "storage/mrk.h"

#define SALT_A   "00112233445566778899aabbccddeeff"
#define EXTRA_A  "{\"salt\":\"" SALT_A "\"}"
#define S_LEN(s) (s), strlen(s)

static struct fsm_result
run(struct fsmfx *fx, uint32_t type, const char *who, const char *target,
    const char *body, const char *extra)
{
    return fsmfx_run(fx, type, who, target, body, extra, NULL);
}

static int
put(struct fsmfx *fx, const char *target, const char *doc)
{
    return run(fx, CMD_RECORD_PUT, "prov", target, doc, EXTRA_A).status;
}

/*
 * Orgs dept (the provider), dept2, and city (a city authority). Principals:
 * prov, dcons (dept provider, consumer), prov2, cons (dept2), aud
 * (auditor), cit (a citizen), cityauth (the city's authority, whose scope
 * does not hold province entries), gone (revoked); admin is the provincial
 * authority. Entry e is published with records k1 (versions 1, 2) and k2
 * (version 1, then retired: version 2); entry h is a draft.
 */
static int
setup(void **state)
{
    struct fsmfx *fx = fsmfx_new("admin", 1000);

    fsmfx_org(fx, "dept", "authority", "province", false);
    fsmfx_org(fx, "dept2", "authority", "province", false);
    fsmfx_org(fx, "city", "authority", "city", true);
    fsmfx_principal(fx, "prov", "dept", "\"provider\"");
    fsmfx_principal(fx, "dcons", "dept", "\"consumer\"");
    fsmfx_principal(fx, "prov2", "dept2", "\"provider\"");
    fsmfx_principal(fx, "cons", "dept2", "\"consumer\"");
    fsmfx_principal(fx, "aud", "authority", "\"auditor\"");
    fsmfx_principal(fx, "cit", NULL, NULL);
    fsmfx_principal(fx, "cityauth", "city", "\"authority\"");
    fsmfx_principal(fx, "gone", "dept", "\"provider\"");
    fsmfx_revoke(fx, "gone");
    fsmfx_dept_entry(fx, "e", true);
    fsmfx_dept_entry(fx, "h", false);
    assert_int_equal(put(fx, "e/k1", "{\"name\":\"first\"}"), 201);
    assert_int_equal(put(fx, "e/k1", "{\"name\":\"second\"}"), 200);
    assert_int_equal(put(fx, "e/k2", "{\"name\":\"x\"}"), 201);
    assert_int_equal(run(fx, CMD_RECORD_RETIRE, "prov", "e/k2",
                         "{\"reason\":\"gone\"}", NULL)
                         .status,
                     200);
    *state = fx;
    return 0;
}

/* An objection filed by cit on e/key, decided by admin unless
 * `decision` is NULL: its id in `id`. */
static void
objection(struct fsmfx *fx, const char *key, const char *kind,
          const char *decision, char *id)
{
    fsmfx_objection(fx, "cit", "e", key, kind, decision, id);
}

static int
correct(struct fsmfx *fx, const char *who, const char *target,
        const char *objection_id)
{
    char b[200];

    if (objection_id != NULL) {
        snprintf(b, sizeof(b),
                 "{\"value\":{\"name\":\"fixed\"},\"reason\":\"r\","
                 "\"objection\":\"%s\"}",
                 objection_id);
    } else {
        snprintf(b, sizeof(b),
                 "{\"value\":{\"name\":\"fixed\"},\"reason\":\"r\"}");
    }
    return run(fx, CMD_RECORD_CORRECT, who, target, b, EXTRA_A).status;
}

static enum fsm_objection_status
status_of(struct fsmfx *fx, const char *id)
{
    const struct fsm_objection *o = fsm_objection(fx->f, id);

    assert_non_null(o);
    return o->status;
}

/* The payload of fact `rev` (new reference). */
static json_t *
payload(struct fsmfx *fx, uint64_t rev)
{
    struct fact f;

    assert_int_equal(led_get(fsm_led(fx->f), rev, &f), PC_OK);
    return json_loadb((const char *)f.payload.p, f.payload.len, 0, NULL);
}

static uint64_t
record_rev(struct fsmfx *fx, const char *entry, const char *key, uint64_t v)
{
    struct idx_key k = { FACT_RECORD, PC_SLICE_STR(entry), PC_SLICE_STR(key) };
    uint64_t rev = 0;

    assert_int_equal(idx_version_rev(led_idx(fsm_led(fx->f)), &k, v, &rev),
                     PC_OK);
    return rev;
}

/* Filing: any principal on an entry it can see, any well-formed key (201
 * whether or not the record exists); 404 for an entry it cannot see; 400
 * for bad syntax; 401 without an active principal. */
static void
test_objections_file_table(void **state)
{
    struct fsmfx *fx = *state;
    static const struct {
        const char *who, *entry, *key, *kind;
        int want;
    } cases[] = {
        { "cit", "e", "k1", "error", 201 },
        { "cit", "e", "nobody-has-this", "personal_information", 201 },
        { "cons", "e", "k1", "trade_secret", 201 },
        { "prov", "e", "k2", "omission", 201 },
        { "aud", "e", "k1", "error", 201 },
        { "cityauth", "e", "k1", "error", 201 },
        { "prov", "h", "k1", "error", 201 }, /* the provider sees its draft */
        { "admin", "h", "k1", "error", 201 },
        { "cit", "h", "k1", "error", 404 }, /* nor a draft entry */
        { "cons", "h", "k1", "error", 404 },
        { "cit", "nope", "k1", "error", 404 },
        { "cit", "e", "k1", "rumour", 400 },
        { "cit", "e", "..", "error", 400 },
        { "cit", "e", "a\\u0001b", "error", 400 },
        { "cit", "bad id", "k1", "error", 400 },
        { "gone", "e", "k1", "error", 401 },
        { "", "e", "k1", "error", 401 },
    };
    char id[32];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fsm_result r = fsmfx_objection_file(
            fx, cases[i].who, cases[i].entry, cases[i].key, cases[i].kind, id);

        if (r.status != cases[i].want) {
            fail_msg("case %zu (%s on %s/%s): %d, want %d: %s", i, cases[i].who,
                     cases[i].entry, cases[i].key, r.status, cases[i].want,
                     r.message);
        }
        if (r.status == 201) {
            const struct fsm_objection *o = fsm_objection(fx->f, id);

            assert_int_equal(r.n_facts, 1);
            assert_non_null(o);
            assert_int_equal(o->status, FSM_OBJECTION_OPEN);
            assert_string_equal(o->filer, cases[i].who);
            assert_string_equal(o->key, cases[i].key);
            assert_int_equal(o->first_rev, r.first_rev);
        }
    }
    /* The body's syntax, member by member. */
    static const char *const bodies[] = {
        "[]",
        "{\"entry\":\"e\",\"key\":\"k1\",\"kind\":\"error\"}",
        ("{\"entry\":\"e\",\"key\":\"k1\",\"kind\":\"error\","
         "\"description\":\" \"}"),
        "{\"entry\":\"e\",\"kind\":\"error\",\"description\":\"d\"}",
        ("{\"entry\":\"e\",\"key\":\"k1\",\"kind\":\"error\","
         "\"description\":\"d\",\"status\":\"accepted\"}"),
        "{\"entry\":\"e\",\"key\":7,\"kind\":\"error\",\"description\":\"d\"}",
        "{\"entry\":\"e\",",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct fsm_result r =
            run(fx, CMD_OBJECTION_FILE, "cit", NULL, bodies[i], NULL);
        char msg[200], field[FSM_FIELD_LEN];

        assert_int_equal(r.status, 400);
        assert_false(
            fsm_objection_body_valid(bodies[i], strlen(bodies[i]), msg, field));
    }
}

/* The record a filer names is not confirmed or denied to it: the payload
 * says whether it existed, and only the privileged may see that. */
static void
test_objections_no_existence_oracle(void **state)
{
    struct fsmfx *fx = *state;
    char yes[32], no[32];
    bool sees;
    json_t *p;

    objection(fx, "k1", "error", NULL, yes);
    objection(fx, "k404", "error", NULL, no);
    p = payload(fx, fsm_objection(fx->f, yes)->rev);
    assert_true(json_is_true(json_object_get(p, "record_exists")));
    json_decref(p);
    p = payload(fx, fsm_objection(fx->f, no)->rev);
    assert_true(json_is_false(json_object_get(p, "record_exists")));
    assert_string_equal(json_string_value(json_object_get(p, "status")),
                        "open");
    assert_null(json_object_get(p, "filer_org")); /* a citizen */
    json_decref(p);
    assert_true(fsm_objection_visible(fx->f, fsm_principal(fx->f, "cit"),
                                      fsm_objection(fx->f, no), &sees));
    assert_false(sees);
}

/* Who sees an objection (and whether the record existed). */
static void
test_objections_visibility(void **state)
{
    struct fsmfx *fx = *state;
    static const struct {
        const char *who;
        bool visible, sees;
    } cases[] = {
        { "cit", true, false },    { "prov", true, true },
        { "dcons", true, true },   { "admin", true, true },
        { "aud", true, true },     { "cons", false, false },
        { "prov2", false, false }, { "cityauth", false, false },
        { "gone", false, false },
    };
    char id[32];

    objection(fx, "k1", "error", NULL, id);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool sees;
        bool v =
            fsm_objection_visible(fx->f, fsm_principal(fx->f, cases[i].who),
                                  fsm_objection(fx->f, id), &sees);

        if (v != cases[i].visible || sees != cases[i].sees) {
            fail_msg("%s: visible %d sees %d", cases[i].who, v, sees);
        }
    }
    assert_false(
        fsm_objection_visible(fx->f, NULL, fsm_objection(fx->f, id), NULL));
}

/* Deciding: the authority in the entry's scope, on an open objection
 * only; everyone else 403 (or 404 when it may not see the objection); every
 * other state 409. The refusals append a rejection and change nothing. */
static void
test_objections_decide_table(void **state)
{
    struct fsmfx *fx = *state;
    char open[32], acc[32], rej[32], res[32];
    static const struct {
        const char *who;
        int which; /* 0 open, 1 accepted, 2 rejected, 3 resolved */
        const char *decision;
        int want;
    } cases[] = {
        { "cit", 0, "accept", 403 },  /* the filer */
        { "prov", 0, "accept", 403 }, /* the provider org */
        { "dcons", 0, "reject", 403 },
        { "aud", 0, "accept", 403 },  /* sees, may not decide */
        { "cons", 0, "accept", 404 }, /* may not see it */
        { "prov2", 0, "reject", 404 },
        { "cityauth", 0, "accept", 404 }, /* an authority out of scope */
        { "gone", 0, "accept", 401 },
        { "", 0, "accept", 401 },
        { "admin", 1, "accept", 409 }, /* out of turn */
        { "admin", 1, "reject", 409 },
        { "admin", 2, "accept", 409 },
        { "admin", 2, "reject", 409 },
        { "admin", 3, "accept", 409 },
        { "cit", 1, "reject", 403 },
        { "cons", 3, "accept", 404 },
        { "admin", 0, "reject", 200 }, /* last: it moves `open` on */
    };
    const char *ids[4] = { open, acc, rej, res };

    objection(fx, "k1", "error", NULL, open);
    objection(fx, "k1", "error", "accept", acc);
    objection(fx, "k1", "error", "reject", rej);
    objection(fx, "k1", "error", "accept", res);
    assert_int_equal(correct(fx, "prov", "e/k1", res), 200);
    assert_int_equal(status_of(fx, res), FSM_OBJECTION_RESOLVED);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *id = ids[cases[i].which];
        enum fsm_objection_status before = status_of(fx, id);
        uint64_t rev = fsm_objection(fx->f, id)->rev;
        int got =
            fsmfx_objection_decide(fx, cases[i].who, id, cases[i].decision);

        if (got != cases[i].want) {
            fail_msg("case %zu (%s %s objection %d): %d, want %d", i,
                     cases[i].who, cases[i].decision, cases[i].which, got,
                     cases[i].want);
        }
        if (got != 200) {
            assert_int_equal(status_of(fx, id), before);
            assert_int_equal(fsm_objection(fx->f, id)->rev, rev);
        }
    }
    assert_int_equal(status_of(fx, open), FSM_OBJECTION_REJECTED);
    /* Syntax: the decision, the reason, the id. */
    assert_int_equal(fsmfx_objection_decide(fx, "admin", acc, "maybe"), 400);
    assert_int_equal(run(fx, CMD_OBJECTION_DECIDE, "admin", acc,
                         "{\"decision\":\"accept\"}", NULL)
                         .status,
                     400);
    assert_int_equal(fsmfx_objection_decide(fx, "admin", "ob-x", "accept"),
                     400);
    assert_int_equal(fsmfx_objection_decide(fx, "admin", "ob-0", "accept"),
                     400);
    assert_int_equal(fsmfx_objection_decide(fx, "admin", "ob-999999", "accept"),
                     404);
}

/* A decision's version carries the whole object plus the decision; the
 * chain of versions verifies. */
static void
test_objections_versions(void **state)
{
    struct fsmfx *fx = *state;
    char id[32];
    json_t *p, *d;
    struct fact f1, f2;
    uint8_t h1[PC_HASH_LEN];

    objection(fx, "k1", "personal_information", NULL, id);
    assert_int_equal(fsmfx_objection_decide(fx, "admin", id, "accept"), 200);
    p = payload(fx, fsm_objection(fx->f, id)->rev);
    assert_string_equal(json_string_value(json_object_get(p, "status")),
                        "accepted");
    assert_string_equal(json_string_value(json_object_get(p, "kind")),
                        "personal_information");
    assert_string_equal(json_string_value(json_object_get(p, "filer")), "cit");
    assert_string_equal(json_string_value(json_object_get(p, "description")),
                        "it is wrong");
    d = json_object_get(p, "decision");
    assert_string_equal(json_string_value(json_object_get(d, "decision")),
                        "accept");
    assert_string_equal(json_string_value(json_object_get(d, "by")), "admin");
    assert_string_equal(json_string_value(json_object_get(d, "reason")),
                        "because");
    json_decref(p);
    assert_int_equal(
        led_get(fsm_led(fx->f), fsm_objection(fx->f, id)->first_rev, &f1),
        PC_OK);
    assert_int_equal(
        led_get(fsm_led(fx->f), fsm_objection(fx->f, id)->rev, &f2), PC_OK);
    assert_int_equal(f1.kind, FACT_OBJECTION);
    assert_int_equal(f2.version, 2);
    assert_int_equal(led_hash(fsm_led(fx->f), f1.revision, h1), PC_OK);
    assert_memory_equal(f2.prev_hash, h1, PC_HASH_LEN);
}

/* A correction naming an accepted objection on the record resolves it and
 * links the correcting version; by the provider org or by the authority
 * (only with such an objection); any other objection state is 409. */
static void
test_objections_correct_resolves(void **state)
{
    struct fsmfx *fx = *state;
    char open[32], acc[32], acc2[32], rej[32], other[32];
    uint64_t rev;
    json_t *p, *res;

    objection(fx, "k1", "error", NULL, open);
    objection(fx, "k1", "error", "accept", acc);
    objection(fx, "k1", "personal_information", "accept", acc2);
    objection(fx, "k1", "error", "reject", rej);
    objection(fx, "k2", "error", "accept", other);
    assert_int_equal(correct(fx, "prov", "e/k1", open), 409);
    assert_int_equal(correct(fx, "prov", "e/k1", rej), 409);
    assert_int_equal(correct(fx, "prov", "e/k1", other), 409); /* k2's */
    assert_int_equal(correct(fx, "prov", "e/k1", "ob-999999"), 409);
    assert_int_equal(correct(fx, "admin", "e/k1", NULL), 403);
    assert_int_equal(correct(fx, "admin", "e/k1", open), 403);
    assert_int_equal(correct(fx, "cit", "e/k1", acc), 403);
    assert_int_equal(correct(fx, "cityauth", "e/k1", acc), 403);
    assert_int_equal(correct(fx, "prov2", "e/k1", acc), 403);
    assert_int_equal(status_of(fx, acc), FSM_OBJECTION_ACCEPTED);

    /* The provider's correction resolves it. */
    struct fsm_result r = run(fx, CMD_RECORD_CORRECT, "prov", "e/k1",
                              "{\"value\":{\"name\":\"fixed\"},\"reason\":"
                              "\"r\",\"objection\":\"x\"}",
                              EXTRA_A);
    assert_int_equal(r.status, 409);
    r = run(fx, CMD_RECORD_CORRECT, "prov", "e/k1", NULL, EXTRA_A);
    assert_int_equal(r.status, 400);
    char b[200];
    snprintf(b, sizeof(b),
             "{\"value\":{\"name\":\"fixed\"},\"reason\":\"r\","
             "\"objection\":\"%s\"}",
             acc);
    r = run(fx, CMD_RECORD_CORRECT, "prov", "e/k1", b, EXTRA_A);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_facts, 2); /* the version, the objection's */
    rev = r.first_rev;
    assert_int_equal(status_of(fx, acc), FSM_OBJECTION_RESOLVED);
    assert_int_equal(fsm_objection(fx->f, acc)->rev, rev + 1);
    p = payload(fx, rev + 1);
    res = json_object_get(p, "resolution");
    assert_string_equal(json_string_value(json_object_get(res, "op")),
                        "correct");
    assert_int_equal(json_integer_value(json_object_get(res, "revision")), rev);
    assert_int_equal(json_integer_value(json_object_get(res, "version")), 3);
    assert_string_equal(json_string_value(json_object_get(res, "by")), "prov");
    json_decref(p);
    p = payload(fx, rev);
    assert_string_equal(json_string_value(json_object_get(p, "objection")),
                        acc);
    assert_string_equal(json_string_value(json_object_get(p, "op")), "correct");
    json_decref(p);
    /* Once resolved, it resolves nothing more. */
    assert_int_equal(correct(fx, "prov", "e/k1", acc), 409);

    /* The authority corrects with an accepted objection: its org writes. */
    r = run(fx, CMD_RECORD_CORRECT, "admin", "e/k1",
            "{\"value\":{\"name\":\"by-authority\"},\"reason\":\"r\","
            "\"objection\":\"ob-0\"}",
            EXTRA_A);
    assert_int_equal(r.status, 403);
    assert_int_equal(correct(fx, "admin", "e/k1", acc2), 200);
    assert_int_equal(status_of(fx, acc2), FSM_OBJECTION_RESOLVED);
    p = payload(fx, record_rev(fx, "e", "k1", 4));
    assert_string_equal(json_string_value(json_object_get(p, "org")),
                        "authority");
    json_decref(p);
    /* A correction on a retired record (k2) resolves and leaves it
     * retired. */
    assert_int_equal(correct(fx, "prov", "e/k2", other), 200);
    assert_int_equal(status_of(fx, other), FSM_OBJECTION_RESOLVED);
    p = payload(fx, record_rev(fx, "e", "k2", 3));
    assert_true(json_is_true(json_object_get(p, "retired")));
    json_decref(p);
}

/* An omission may name a missing key; a correction naming it once
 * accepted creates the record (version 1, op correct); an open one, or
 * another kind, does not (404, no such record). */
static void
test_objections_omission_creates(void **state)
{
    struct fsmfx *fx = *state;
    char om[32], err[32];
    json_t *p;

    objection(fx, "new", "omission", NULL, om);
    objection(fx, "new", "error", "accept", err);
    assert_int_equal(correct(fx, "prov", "e/new", om), 404);
    assert_int_equal(correct(fx, "prov", "e/new", err), 404);
    assert_int_equal(correct(fx, "prov", "e/new", NULL), 404);
    assert_int_equal(fsmfx_objection_decide(fx, "admin", om, "accept"), 200);
    assert_int_equal(correct(fx, "cit", "e/new", om), 403);
    assert_int_equal(correct(fx, "admin", "e/new", om), 200);
    assert_int_equal(status_of(fx, om), FSM_OBJECTION_RESOLVED);
    p = payload(fx, record_rev(fx, "e", "new", 1));
    assert_string_equal(json_string_value(json_object_get(p, "op")), "correct");
    json_decref(p);
    /* The error objection now names an existing record: it may resolve. */
    assert_int_equal(correct(fx, "prov", "e/new", err), 200);
    assert_int_equal(status_of(fx, err), FSM_OBJECTION_RESOLVED);
}

/* Redaction: the authority in scope, naming an accepted (or resolved)
 * personal_information or trade_secret objection on this record, on a
 * version that holds a document. Every other case is refused and drops
 * nothing. */
static void
test_objections_redact_table(void **state)
{
    struct fsmfx *fx = *state;
    char pi[32], ts[32], err[32], open[32], rej[32], k2pi[32], hpi[32];
    struct {
        const char *who, *target;
        unsigned version;
        const char *id;
        int want;
    } cases[] = {
        { "prov", "e/k1", 1, pi, 403 }, /* the provider may not */
        { "dcons", "e/k1", 1, pi, 403 },
        { "cit", "e/k1", 1, pi, 403 }, /* nor the filer */
        { "aud", "e/k1", 1, pi, 403 },
        { "cityauth", "e/k1", 1, pi, 403 }, /* out of scope */
        { "cons", "h/k1", 1, hpi, 404 },    /* an entry it cannot see */
        { "gone", "e/k1", 1, pi, 401 },
        { "admin", "nope/k1", 1, pi, 404 },
        { "admin", "e/k1", 9, pi, 404 }, /* a missing version */
        { "admin", "e/k9", 1, pi, 404 },
        { "admin", "e/k1", 1, err, 409 },  /* the wrong kind */
        { "admin", "e/k1", 1, open, 409 }, /* not accepted */
        { "admin", "e/k1", 1, rej, 409 },
        { "admin", "e/k1", 1, k2pi, 409 }, /* another record's */
        { "admin", "e/k1", 1, "ob-999999", 409 },
        { "admin", "e/k2", 2, k2pi, 409 }, /* a retire version */
        { "admin", "e/k1", 1, pi, 200 },
        { "admin", "e/k1", 1, pi, 409 }, /* already redacted */
        { "admin", "e/k1", 2, ts, 200 },
        { "admin", "e/k2", 1, k2pi, 200 },
    };
    const uint64_t v1 = record_rev(fx, "e", "k1", 1);

    objection(fx, "k1", "personal_information", "accept", pi);
    objection(fx, "k1", "trade_secret", "accept", ts);
    objection(fx, "k1", "error", "accept", err);
    objection(fx, "k1", "personal_information", NULL, open);
    objection(fx, "k1", "personal_information", "reject", rej);
    objection(fx, "k2", "personal_information", "accept", k2pi);
    assert_int_equal(
        fsmfx_objection_file(fx, "prov", "h", "k1", "personal_information", hpi)
            .status,
        201);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t n = led_count(fsm_led(fx->f));
        int got = fsmfx_redact(fx, cases[i].who, cases[i].target,
                               cases[i].version, cases[i].id);

        if (got != cases[i].want) {
            fail_msg("case %zu (%s %s v%u %s): %d, want %d", i, cases[i].who,
                     cases[i].target, cases[i].version, cases[i].id, got,
                     cases[i].want);
        }
        if (got != 200) {
            assert_int_equal(led_count(fsm_led(fx->f)), n + 1); /* refusal */
            assert_int_equal(led_doc_state(fsm_led(fx->f), v1),
                             i < 17 ? LED_DOC_PRESENT : LED_DOC_REDACTED);
        }
    }
    assert_int_equal(led_doc_state(fsm_led(fx->f), v1), LED_DOC_REDACTED);
    assert_int_equal(
        led_doc_state(fsm_led(fx->f), record_rev(fx, "e", "k1", 2)),
        LED_DOC_REDACTED);
    assert_int_equal(
        led_doc_state(fsm_led(fx->f), record_rev(fx, "e", "k2", 1)),
        LED_DOC_REDACTED);
    /* A redaction resolves an accepted objection, citing its fact. */
    assert_int_equal(status_of(fx, pi), FSM_OBJECTION_RESOLVED);
    assert_int_equal(status_of(fx, ts), FSM_OBJECTION_RESOLVED);
    assert_int_equal(status_of(fx, open), FSM_OBJECTION_OPEN);
    /* Syntax. */
    assert_int_equal(run(fx, CMD_RECORD_REDACT, "admin", "e/k1",
                         "{\"objection\":\"x\",\"reason\":\"r\"}",
                         "{\"version\":1}")
                         .status,
                     400);
    assert_int_equal(run(fx, CMD_RECORD_REDACT, "admin", "e/k1",
                         "{\"objection\":\"ob-1\"}", "{\"version\":1}")
                         .status,
                     400);
    assert_int_equal(run(fx, CMD_RECORD_REDACT, "admin", "e/k1",
                         "{\"objection\":\"ob-1\",\"reason\":\"r\"}", NULL)
                         .status,
                     400);
    assert_int_equal(run(fx, CMD_RECORD_REDACT, "admin", "e",
                         "{\"objection\":\"ob-1\",\"reason\":\"r\"}",
                         "{\"version\":1}")
                         .status,
                     400);
}

/* A redaction of a resolved objection (corrected first, then the older
 * versions redacted) is allowed and leaves its resolution as it was. */
static void
test_objections_redact_after_correction(void **state)
{
    struct fsmfx *fx = *state;
    char pi[32];
    uint64_t rev;
    struct fsm_result r;
    json_t *p;

    objection(fx, "k1", "personal_information", "accept", pi);
    assert_int_equal(correct(fx, "prov", "e/k1", pi), 200);
    rev = fsm_objection(fx->f, pi)->rev;
    r = run(fx, CMD_RECORD_REDACT, "admin", "e/k1",
            "{\"objection\":\"ob-1\",\"reason\":\"r\"}", "{\"version\":1}");
    assert_int_equal(r.status, 409);
    char b[120];
    snprintf(b, sizeof(b), "{\"objection\":\"%s\",\"reason\":\"art. 16\"}", pi);
    r = run(fx, CMD_RECORD_REDACT, "admin", "e/k1", b, "{\"version\":1}");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_facts, 1); /* no objection version: resolved */
    assert_int_equal(fsm_objection(fx->f, pi)->rev, rev);
    p = payload(fx, r.first_rev);
    assert_string_equal(json_string_value(json_object_get(p, "objection")), pi);
    assert_int_equal(json_integer_value(json_object_get(p, "version")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "record_revision")),
                     record_rev(fx, "e", "k1", 1));
    json_decref(p);
    assert_int_equal(fsmfx_redact(fx, "admin", "e/k1", 2, pi), 200);
    assert_int_equal(fsmfx_redact(fx, "admin", "e/k1", 3, pi),
                     200); /* current */
    assert_int_equal(
        led_doc_state(fsm_led(fx->f), record_rev(fx, "e", "k1", 3)),
        LED_DOC_REDACTED);
}

/* A redaction keeps every hash: the versions' leaf hashes, content hashes
 * and chain, and the root of the ledger up to any revision; a copy of the
 * ledger (a snapshot) rebuilds to the same root and the same state. */
static void
test_objections_redaction_keeps_hashes(void **state)
{
    struct fsmfx *fx = *state;
    char pi[32];
    uint8_t leaf[PC_HASH_LEN], leaf2[PC_HASH_LEN], root[PC_HASH_LEN],
        root2[PC_HASH_LEN];
    uint64_t v1 = record_rev(fx, "e", "k1", 1), n;
    struct fact before, after;
    uint8_t content[PC_HASH_LEN];
    struct pc_buf doc;
    uint8_t salt[PC_SALT_LEN];
    struct fsm *copy;

    assert_int_equal(led_hash(fsm_led(fx->f), v1, leaf), PC_OK);
    assert_int_equal(led_get(fsm_led(fx->f), v1, &before), PC_OK);
    memcpy(content, before.content_hash, PC_HASH_LEN);
    objection(fx, "k1", "personal_information", "accept", pi);
    n = led_count(fsm_led(fx->f));
    led_root(fsm_led(fx->f), root);
    assert_int_equal(fsmfx_redact(fx, "admin", "e/k1", 1, pi), 200);
    /* The fact is the same bytes; only the document and salt are gone. */
    assert_int_equal(led_hash(fsm_led(fx->f), v1, leaf2), PC_OK);
    assert_memory_equal(leaf, leaf2, PC_HASH_LEN);
    assert_int_equal(led_get(fsm_led(fx->f), v1, &after), PC_OK);
    assert_memory_equal(after.content_hash, content, PC_HASH_LEN);
    pc_buf_init(&doc);
    assert_int_equal(led_doc_get(fsm_led(fx->f), v1, &doc, salt),
                     PC_EFORBIDDEN);
    assert_int_equal(doc.len, 0);
    pc_buf_release(&doc);
    /* Version 2 still chains to version 1's hash. */
    assert_int_equal(
        led_get(fsm_led(fx->f), record_rev(fx, "e", "k1", 2), &after), PC_OK);
    assert_memory_equal(after.prev_hash, leaf, PC_HASH_LEN);
    /* The tree over the first n facts is the one before the redaction. */
    assert_int_equal(mrk_root(led_mrk(fsm_led(fx->f)), n, root2), PC_OK);
    assert_memory_equal(root, root2, PC_HASH_LEN);
    /* A copy rebuilds to the same root, redaction included. */
    copy = fsmfx_rebuilt(fx);
    led_root(fsm_led(copy), root2);
    led_root(fsm_led(fx->f), root);
    assert_memory_equal(root, root2, PC_HASH_LEN);
    assert_int_equal(led_doc_state(fsm_led(copy), v1), LED_DOC_REDACTED);
    fsm_free(copy);
}

/* The counters the quality report reads (unsettled objections per entry)
 * and the disputed records follow every transition. */
static void
test_objections_counts_and_disputes(void **state)
{
    struct fsmfx *fx = *state;
    char a[32], b[32], c[32], d[32];
    const struct fsm_objection *out[4];
    struct pc_slice e = PC_SLICE_STR("e"), k1 = PC_SLICE_STR("k1");

    assert_int_equal(fsm_objections_open(fx->f, "e"), 0);
    assert_int_equal(fsm_objections_open(fx->f, "nope"), 0);
    objection(fx, "k1", "error", NULL, a);
    objection(fx, "k1", "personal_information", NULL, b);
    objection(fx, "k2", "error", NULL, c);
    assert_int_equal(
        fsmfx_objection_file(fx, "prov", "h", "x", "error", d).status, 201);
    assert_int_equal(fsm_objections_open(fx->f, "e"), 3);
    assert_int_equal(fsm_objections_open(fx->f, "h"), 1);
    assert_int_equal(fsm_record_disputes(fx->f, e, k1, out, 4), 0);
    assert_int_equal(fsmfx_objection_decide(fx, "admin", a, "accept"), 200);
    assert_int_equal(fsmfx_objection_decide(fx, "admin", b, "accept"), 200);
    assert_int_equal(fsm_objections_open(fx->f, "e"), 3); /* accepted */
    assert_int_equal(fsm_record_disputes(fx->f, e, k1, out, 4), 2);
    assert_string_equal(out[0]->id, a);
    assert_string_equal(out[1]->id, b);
    assert_int_equal(fsm_record_disputes(fx->f, e, k1, out, 1), 2);
    assert_int_equal(fsmfx_objection_decide(fx, "admin", c, "reject"), 200);
    assert_int_equal(fsm_objections_open(fx->f, "e"), 2);
    assert_int_equal(correct(fx, "prov", "e/k1", a), 200);
    assert_int_equal(fsm_objections_open(fx->f, "e"), 1);
    assert_int_equal(fsm_record_disputes(fx->f, e, k1, out, 4), 1);
    assert_string_equal(out[0]->id, b);
    assert_int_equal(fsmfx_redact(fx, "admin", "e/k1", 1, b), 200);
    assert_int_equal(fsm_objections_open(fx->f, "e"), 0);
    assert_int_equal(fsm_record_disputes(fx->f, e, k1, out, 4), 0);

    const struct fsm_objection *const *all;
    assert_int_equal(fsm_objections(fx->f, &all), 4);
    assert_string_equal(all[0]->id, a);
    assert_string_equal(all[3]->id, d);
    for (size_t i = 1; i < 4; i++) {
        assert_true(all[i - 1]->first_rev < all[i]->first_rev);
    }
    const uint64_t *revs;
    assert_int_equal(fsm_redactions(fx->f, &revs), 1);
    struct fact f;
    assert_int_equal(led_get(fsm_led(fx->f), revs[0], &f), PC_OK);
    assert_int_equal(f.kind, FACT_REDACTION);
}

/* A rebuild from the ledger (a snapshot restore) gives the same answers;
 * and a redaction fact whose document a copy still holds (an older
 * snapshot's bytes) drops it again on the rebuild. */
static void
test_objections_rebuild_same(void **state)
{
    struct fsmfx *fx = *state;
    char a[32], b[32], c[32];
    uint64_t v1 = record_rev(fx, "e", "k1", 1);
    uint8_t salt[PC_SALT_LEN];
    struct pc_buf saved;
    const struct fsm_objection *out[4];
    struct fsm *copy;
    struct led *l;
    char errmsg[PC_ERRMSG_SIZE];

    pc_buf_init(&saved);
    assert_int_equal(led_doc_get(fsm_led(fx->f), v1, &saved, salt), PC_OK);
    objection(fx, "k1", "personal_information", "accept", a);
    objection(fx, "k1", "error", "accept", b);
    objection(fx, "k2", "error", NULL, c);
    assert_int_equal(fsmfx_redact(fx, "admin", "e/k1", 1, a), 200);
    copy = fsmfx_rebuilt(fx);
    assert_int_equal(fsm_objections_open(copy, "e"), 2);
    assert_int_equal(fsm_objection(copy, a)->status, FSM_OBJECTION_RESOLVED);
    assert_int_equal(fsm_objection(copy, b)->status, FSM_OBJECTION_ACCEPTED);
    assert_int_equal(fsm_objection(copy, c)->rev, fsm_objection(fx->f, c)->rev);
    assert_int_equal(fsm_record_disputes(copy, PC_SLICE_STR("e"),
                                         PC_SLICE_STR("k1"), out, 4),
                     1);
    assert_int_equal(led_doc_state(fsm_led(copy), v1), LED_DOC_REDACTED);
    fsm_free(copy);

    /* A copy with the document still there, as an older snapshot has it. */
    assert_int_equal(led_new(&l), PC_OK);
    for (uint64_t r = 1; r <= led_count(fsm_led(fx->f)); r++) {
        struct pc_slice enc;
        struct pc_buf doc;
        struct led_doc d = { NULL, NULL, 0 };
        uint8_t s2[PC_SALT_LEN];
        enum led_doc_state st = led_doc_state(fsm_led(fx->f), r);

        pc_buf_init(&doc);
        assert_int_equal(led_encoding(fsm_led(fx->f), r, &enc), PC_OK);
        if (r == v1) {
            d = (struct led_doc){ salt, saved.data, saved.len };
        } else if (led_doc_get(fsm_led(fx->f), r, &doc, s2) == PC_OK) {
            d = (struct led_doc){ s2, doc.data, doc.len };
        }
        assert_int_equal(led_append_encoded(l, enc.p, enc.len,
                                            st == LED_DOC_NONE ? NULL : &d, r,
                                            errmsg),
                         PC_OK);
        pc_buf_release(&doc);
    }
    assert_int_equal(led_doc_state(l, v1), LED_DOC_PRESENT);
    assert_int_equal(fsm_new(&copy), PC_OK);
    assert_int_equal(fsm_restore(copy, l, errmsg), PC_OK);
    assert_int_equal(led_doc_state(fsm_led(copy), v1), LED_DOC_REDACTED);
    fsm_free(copy);
    pc_buf_release(&saved);
}

/* An Idempotency-Key replays filing and redaction without appending. */
static void
test_objections_replay(void **state)
{
    struct fsmfx *fx = *state;
    const char *body = "{\"entry\":\"e\",\"key\":\"k1\",\"kind\":"
                       "\"personal_information\",\"description\":\"d\"}";
    struct fsm_result r1, r2;
    char id[32], b[120];
    uint64_t n;

    r1 = fsmfx_run(fx, CMD_OBJECTION_FILE, "cit", NULL, body, NULL, "f1");
    assert_int_equal(r1.status, 201);
    n = led_count(fsm_led(fx->f));
    r2 = fsmfx_run(fx, CMD_OBJECTION_FILE, "cit", NULL, body, NULL, "f1");
    assert_int_equal(r2.status, 201);
    assert_true(r2.replayed);
    assert_int_equal(r2.first_rev, r1.first_rev);
    assert_int_equal(led_count(fsm_led(fx->f)), n);
    snprintf(id, sizeof(id), "ob-%llu", (unsigned long long)r1.first_rev);
    assert_int_equal(fsmfx_objection_decide(fx, "admin", id, "accept"), 200);
    snprintf(b, sizeof(b), "{\"objection\":\"%s\",\"reason\":\"r\"}", id);
    r1 = fsmfx_run(fx, CMD_RECORD_REDACT, "admin", "e/k1", b, "{\"version\":1}",
                   "red");
    assert_int_equal(r1.status, 200);
    assert_int_equal(r1.n_facts, 2);
    n = led_count(fsm_led(fx->f));
    r2 = fsmfx_run(fx, CMD_RECORD_REDACT, "admin", "e/k1", b, "{\"version\":1}",
                   "red");
    assert_true(r2.replayed);
    assert_int_equal(r2.status, 200);
    assert_int_equal(r2.n_facts, 2);
    assert_int_equal(led_count(fsm_led(fx->f)), n);
}

/* Two redactions of one version in one raft entry: the second sees the
 * first (409) although the document goes only once the entry applied. */
static void
test_objections_redact_twice_in_one_entry(void **state)
{
    struct fsmfx *fx = *state;
    char id[32], b[120], errmsg[PC_ERRMSG_SIZE];
    const struct fsm_result *res;
    struct pc_buf entry, one;
    uint64_t v1 = record_rev(fx, "e", "k1", 1);

    objection(fx, "k1", "trade_secret", "accept", id);
    snprintf(b, sizeof(b), "{\"objection\":\"%s\",\"reason\":\"r\"}", id);
    pc_buf_init(&entry);
    assert_int_equal(cmd_entry_begin(&entry, 2), PC_OK);
    for (int i = 0; i < 2; i++) {
        struct cmd c;

        memset(&c, 0, sizeof(c));
        c.type = CMD_RECORD_REDACT;
        c.rules = CMD_RULES_VERSION;
        c.time_ms = fx->now;
        c.principal = PC_SLICE_STR("admin");
        c.request_id = PC_SLICE_STR(i == 0 ? "twice-a" : "twice-b");
        c.target = PC_SLICE_STR("e/k1");
        c.body = PC_SLICE_STR(b);
        c.extra = PC_SLICE_STR("{\"version\":1}");
        pc_buf_init(&one);
        assert_int_equal(cmd_encode(&c, &one), PC_OK);
        assert_int_equal(cmd_entry_add(&entry, &one), PC_OK);
        pc_buf_release(&one);
    }
    assert_int_equal(cmd_entry_end(&entry), PC_OK);
    assert_int_equal(
        fsm_apply(fx->f, entry.data, entry.len, ++fx->index, errmsg), PC_OK);
    assert_int_equal(fsm_results(fx->f, &res), 2);
    assert_int_equal(res[0].status, 200);
    assert_int_equal(res[1].status, 409);
    assert_int_equal(led_doc_state(fsm_led(fx->f), v1), LED_DOC_REDACTED);
    pc_buf_release(&entry);
}

/* Every allocation failing in turn, in each command: PC_ENOMEM with the
 * ledger and root as they were, and (redaction) the document still there
 * until the run that applies. */
static void
test_objections_oom(void **state)
{
    struct fsmfx *fx = *state;
    char id[32], om[32], b[160];
    const char *filing = "{\"entry\":\"e\",\"key\":\"k1\",\"kind\":"
                         "\"personal_information\",\"description\":\"d\"}";
    uint64_t v1 = record_rev(fx, "e", "k1", 1);
    struct fsm_result r;
    struct test_oom o = { 0 };
    struct pc_buf entry;
    char errmsg[PC_ERRMSG_SIZE];
    const struct fsm_result *res;

    r = fsmfx_oom_run(fx, CMD_OBJECTION_FILE, "cit", NULL, filing, NULL, NULL,
                      201);
    snprintf(id, sizeof(id), "ob-%llu", (unsigned long long)r.first_rev);
    fsmfx_oom_run(fx, CMD_OBJECTION_FILE, "cit", NULL, "{\"entry\":1}", NULL,
                  NULL, 400);
    fsmfx_oom_run(fx, CMD_OBJECTION_DECIDE, "cons", id,
                  "{\"decision\":\"accept\",\"reason\":\"r\"}", NULL, NULL,
                  404);
    fsmfx_oom_run(fx, CMD_OBJECTION_DECIDE, "admin", id,
                  "{\"decision\":\"accept\",\"reason\":\"r\"}", NULL, NULL,
                  200);
    objection(fx, "gap", "omission", "accept", om);
    snprintf(b, sizeof(b),
             "{\"value\":{\"name\":\"n\"},\"reason\":\"r\",\"objection\":"
             "\"%s\"}",
             om);
    fsmfx_oom_run(fx, CMD_RECORD_CORRECT, "prov", "e/gap", b, EXTRA_A, NULL,
                  200);
    assert_int_equal(status_of(fx, om), FSM_OBJECTION_RESOLVED);
    snprintf(b, sizeof(b), "{\"objection\":\"%s\",\"reason\":\"r\"}", id);
    pc_buf_init(&entry);
    fsmfx_encode(fx, &entry, CMD_RECORD_REDACT, "admin", "e/k1", b,
                 "{\"version\":1}", NULL);
    for (long k = 0;; k++) {
        test_oom_arm(&o, k, 1);
        int rc = fsm_apply(fx->f, entry.data, entry.len, ++fx->index, errmsg);
        if (test_oom_disarm(&o, rc == PC_OK)) {
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
        assert_int_equal(led_doc_state(fsm_led(fx->f), v1), LED_DOC_PRESENT);
        assert_int_equal(status_of(fx, id), FSM_OBJECTION_ACCEPTED);
        assert_true(k < 100000);
    }
    test_oom_end(&o);
    assert_int_equal(fsm_results(fx->f, &res), 1);
    assert_int_equal(res[0].status, 200);
    assert_int_equal(led_doc_state(fsm_led(fx->f), v1), LED_DOC_REDACTED);
    assert_int_equal(status_of(fx, id), FSM_OBJECTION_RESOLVED);
    pc_buf_release(&entry);
}

/* A restore's redaction list (redactions_apply): the listed versions the
 * ledger holds lose their documents, missing ones are counted, a content
 * hash that differs refuses the list, malformed lines are named. */
static void
test_objections_redaction_list(void **state)
{
    struct fsmfx *fx = *state;
    struct led *l = fsm_led(fx->f);
    uint64_t v1 = record_rev(fx, "e", "k1", 1),
             v2 = record_rev(fx, "e", "k1", 2);
    struct redactions_count n = { 0, 0 };
    char text[1024], hex[PC_HASH_HEX_LEN + 1], errmsg[PC_ERRMSG_SIZE];
    struct fact f;

    assert_int_equal(led_get(l, v1, &f), PC_OK);
    pc_hex(hex, f.content_hash, PC_HASH_LEN);
    snprintf(text, sizeof(text),
             "{\"items\":[{\"entry\":\"e\",\"key\":\"k1\",\"version\":1,"
             "\"content_hash\":\"%s\"}],\"next\":\"9\"}\n\n"
             "{\"items\":[{\"entry\":\"e\",\"key\":\"k1\",\"version\":7,"
             "\"content_hash\":\"%s\"}],\"next\":null}\n",
             hex, hex);
    assert_int_equal(redactions_apply(l, text, strlen(text), &n, errmsg),
                     PC_OK);
    assert_int_equal(n.dropped, 1);
    assert_int_equal(n.absent, 1);
    assert_int_equal(led_doc_state(l, v1), LED_DOC_REDACTED);
    assert_int_equal(led_doc_state(l, v2), LED_DOC_PRESENT);
    /* Version 2 listed with version 1's hash: another ledger's list. */
    snprintf(text, sizeof(text),
             "{\"items\":[{\"entry\":\"e\",\"key\":\"k1\",\"version\":2,"
             "\"content_hash\":\"%s\"}]}",
             hex);
    assert_int_equal(redactions_apply(l, text, strlen(text), &n, errmsg),
                     PC_EINVAL);
    assert_non_null(strstr(errmsg, "another content hash"));
    assert_int_equal(led_doc_state(l, v2), LED_DOC_PRESENT);
    static const char *const bad[] = {
        "{\"items\":3}",
        ("{\"items\":[{\"entry\":\"e\",\"key\":\"k1\",\"version\":0,"
         "\"content_hash\":\"00\"}]}"),
        "not json",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(
            redactions_apply(l, bad[i], strlen(bad[i]), &n, errmsg), PC_EINVAL);
        assert_non_null(strstr(errmsg, "redactions line 1"));
    }
}

/* The syntax checks the HTTP layer shares. */
static void
test_objections_syntax(void **state)
{
    static const struct {
        const char *s;
        bool ok;
    } ids[] = {
        { "ob-1", true },  { "ob-1234567890123456789", true },
        { "ob-0", false }, { "ob-01", false },
        { "ob-", false },  { "ob-1a", false },
        { "OB-1", false }, { "ob-12345678901234567890", false },
        { "sr-1", false },
    };
    char msg[200], field[FSM_FIELD_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        assert_int_equal(fsm_objection_id_valid(ids[i].s, strlen(ids[i].s)),
                         ids[i].ok);
    }
    assert_true(fsm_objection_decision_valid(
        S_LEN("{\"decision\":\"reject\",\"reason\":\"no\"}"), msg, field));
    assert_false(fsm_objection_decision_valid(
        S_LEN("{\"decision\":\"reject\",\"reason\":\"\"}"), msg, field));
    assert_string_equal(field, "reason");
    assert_false(fsm_objection_decision_valid(
        S_LEN("{\"decision\":\"maybe\",\"reason\":\"x\"}"), msg, field));
    assert_string_equal(field, "decision");
    assert_true(fsm_redaction_body_valid(
        S_LEN("{\"objection\":\"ob-5\",\"reason\":\"x\"}"), msg, field));
    assert_false(fsm_redaction_body_valid(
        S_LEN("{\"objection\":\"ob-5\",\"reason\":\"x\",\"why\":1}"), msg,
        field));
    assert_string_equal(field, "why");
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_objections_file_table, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_no_existence_oracle,
                                        setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_visibility, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_decide_table, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_versions, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_correct_resolves, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_omission_creates, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_redact_table, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_redact_after_correction,
                                        setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_redaction_keeps_hashes,
                                        setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_counts_and_disputes,
                                        setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_rebuild_same, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_replay, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(
            test_objections_redact_twice_in_one_entry, setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_oom, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_objections_redaction_list, setup,
                                        fsmfx_teardown),
        cmocka_unit_test(test_objections_syntax),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
