/* SPDX-License-Identifier: MIT */
/*
 * Sharing (rules_share.c) as pure state transitions through fsm_apply: the
 * request's checks, the provider's opinion then the authority's decision
 * (every out-of-turn and wrong-role decision, table-driven), the grant an
 * approval makes and the reads it allows (field subsets), expiry by ledger
 * time, revocation, grants ended by a class change or retirement, the
 * counters reports read, out-of-memory all or nothing, idempotent
 * repeats, and a rebuild from the ledger giving the same state.
 */
#include "tests/lib/fsmfx.h"
#include "tests/lib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/jcs.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/led.h"

#define DAY_MS 86400000LL

static struct fsm_result
run(struct fsmfx *fx, uint32_t type, const char *principal, const char *target,
    const char *body)
{
    return fsmfx_run(fx, type, principal, target, body, NULL, NULL);
}

static const char *const schema =
    "[{\"name\":\"name\",\"type\":\"string\",\"required\":true},"
    "{\"name\":\"n\",\"type\":\"integer\",\"required\":false},"
    "{\"name\":\"d\",\"type\":\"date\",\"required\":false}]";

static void
entry_body(char *b, size_t cap, const char *id, const char *provider,
           const char *scope, const char *share, const char *title)
{
    snprintf(b, cap,
             "{\"id\":\"%s\",\"title\":\"%s\",\"description\":\"d\","
             "\"provider\":\"%s\",\"theme\":\"t\",\"keywords\":[],"
             "\"fields\":%s,\"share\":{\"class\":\"%s\",\"basis\":\"art. "
             "18\"},\"open\":{\"class\":\"none\"},\"update_frequency\":"
             "\"daily\",\"security_level\":2,\"scope\":\"%s\"}",
             id, title, provider, schema, share, scope);
}

/* Entry `id` of `provider` (written by `who`) with share class `share`,
 * published by `reviewer` when asked. */
static void
mkentry(struct fsmfx *fx, const char *who, const char *reviewer, const char *id,
        const char *provider, const char *scope, const char *share,
        bool publish)
{
    char b[2048];

    entry_body(b, sizeof(b), id, provider, scope, share, id);
    fsmfx_create_entry(fx, who, b);
    if (publish) {
        fsmfx_publish(fx, who, reviewer, id);
    }
}

/*
 * Orgs: dept (provides), dept2 and dept3 (consumers' orgs), cityA (a city
 * authority) with citydept under it. Principals: prov, prov_b (dept
 * providers), dcons (dept consumer), cons, cons2 (dept2 consumers),
 * d2prov (dept2 provider, no consumer role), cons3 (dept3 consumer), aud
 * (auditor), cit (citizen), city (cityA authority), cprov (citydept
 * provider), ccons (citydept consumer), both (authority org: authority
 * and provider), aprov (authority org provider), auth2 (a second
 * provincial authority); admin is the provincial authority.
 * Entries: cond (conditional), uncond, none, draft (unpublished
 * conditional), citye (conditional, scope city:cityA, provider citydept),
 * selfe (conditional, provider the authority org).
 */
static int
setup(void **state)
{
    struct fsmfx *fx = fsmfx_new("admin", 1000);

    fsmfx_org(fx, "dept", "authority", "province", false);
    fsmfx_org(fx, "dept2", "authority", "province", false);
    fsmfx_org(fx, "dept3", "authority", "province", false);
    fsmfx_org(fx, "cityA", "authority", "city", true);
    fsmfx_org(fx, "citydept", "cityA", "city", false);
    fsmfx_principal(fx, "prov", "dept", "\"provider\"");
    fsmfx_principal(fx, "prov_b", "dept", "\"provider\"");
    fsmfx_principal(fx, "dcons", "dept", "\"consumer\"");
    fsmfx_principal(fx, "cons", "dept2", "\"consumer\"");
    fsmfx_principal(fx, "cons2", "dept2", "\"consumer\"");
    fsmfx_principal(fx, "d2prov", "dept2", "\"provider\"");
    fsmfx_principal(fx, "cons3", "dept3", "\"consumer\"");
    fsmfx_principal(fx, "aud", "authority", "\"auditor\"");
    fsmfx_principal(fx, "cit", NULL, NULL);
    fsmfx_principal(fx, "city", "cityA", "\"authority\"");
    fsmfx_principal(fx, "cprov", "citydept", "\"provider\"");
    fsmfx_principal(fx, "ccons", "citydept", "\"consumer\"");
    fsmfx_principal(fx, "both", "authority", "\"authority\",\"provider\"");
    fsmfx_principal(fx, "aprov", "authority", "\"provider\"");
    fsmfx_principal(fx, "auth2", "authority", "\"authority\"");
    mkentry(fx, "prov", "admin", "cond", "dept", "province", "conditional",
            true);
    mkentry(fx, "prov", "admin", "uncond", "dept", "province", "unconditional",
            true);
    mkentry(fx, "prov", "admin", "none", "dept", "province", "none", true);
    mkentry(fx, "prov", "admin", "draft", "dept", "province", "conditional",
            false);
    mkentry(fx, "cprov", "city", "citye", "citydept", "city:cityA",
            "conditional", true);
    mkentry(fx, "aprov", "auth2", "selfe", "authority", "province",
            "conditional", true);
    *state = fx;
    return 0;
}

/* The payload of fact `rev` (NUL-terminated into `out`). */
static void
payload(struct fsmfx *fx, uint64_t rev, char *out, size_t cap)
{
    struct fact f;

    assert_int_equal(led_get(fsm_led(fx->f), rev, &f), PC_OK);
    snprintf(out, cap, "%.*s", (int)f.payload.len, (const char *)f.payload.p);
}

/* A new request by `who` on `entry` (201 asserted): its id. */
static uint64_t
ask(struct fsmfx *fx, const char *who, const char *entry, const char *extra)
{
    char b[512];
    struct fsm_result r;

    snprintf(b, sizeof(b),
             "{\"entry\":\"%s\",\"purpose\":\"audit of "
             "benefits\",\"days\":30%s}",
             entry, extra ? extra : "");
    r = run(fx, CMD_SHARE_REQUEST, who, NULL, b);
    if (r.status != 201) {
        fail_msg("ask %s by %s: %d %s", entry, who, r.status, r.message);
    }
    assert_int_equal(r.n_facts, 1);
    return r.first_rev;
}

static struct fsm_result
decide(struct fsmfx *fx, const char *who, uint64_t id, const char *decision,
       const char *reason)
{
    char target[32], b[256];

    snprintf(target, sizeof(target), "sr-%llu", (unsigned long long)id);
    if (reason != NULL) {
        snprintf(b, sizeof(b), "{\"decision\":\"%s\",\"reason\":\"%s\"}",
                 decision, reason);
    } else {
        snprintf(b, sizeof(b), "{\"decision\":\"%s\"}", decision);
    }
    return run(fx, CMD_SHARE_DECIDE, who, target, b);
}

static struct fsm_result
revoke(struct fsmfx *fx, const char *who, uint64_t gid, const char *body)
{
    char target[32];

    snprintf(target, sizeof(target), "gr-%llu", (unsigned long long)gid);
    return run(fx, CMD_GRANT_REVOKE, who, target, body);
}

/* Approved by prov then admin: the grant's id. */
static uint64_t
granted(struct fsmfx *fx, const char *who, const char *entry, const char *extra)
{
    uint64_t id = ask(fx, who, entry, extra);
    const struct fsm_share_request *r;

    assert_int_equal(decide(fx, "prov", id, "approve", NULL).status, 200);
    assert_int_equal(decide(fx, "admin", id, "approve", "ok").status, 200);
    r = fsm_share_request(fx->f, id);
    assert_non_null(r);
    assert_int_equal(r->status, FSM_SHARE_APPROVED);
    assert_true(r->grant > 0);
    return r->grant;
}

static enum fsm_read_access
access_of(struct fsmfx *fx, const char *who, const char *entry,
          struct fsm_read_via *via)
{
    return fsm_may_read_records_via(fx->f, fsm_principal(fx->f, who),
                                    fsm_entry(fx->f, entry), via);
}

/* The whole workflow: request, opinion, decision, grant; the facts carry
 * the whole object at every step, and the grantee org's consumers (only
 * they) read through the grant, with its id. */
static void
test_share_workflow(void **state)
{
    struct fsmfx *fx = *state;
    struct fsm_read_via via;
    struct fsm_result r;
    char p[2048], want[2048], id[32];
    const struct fsm_share_request *sr;
    const struct fsm_grant *g;
    uint64_t rid;

    assert_int_equal(access_of(fx, "cons", "cond", &via), FSM_READ_DENIED);
    assert_string_equal(via.id, "");
    rid = ask(fx, "cons", "cond", ",\"fields\":[\"name\",\"d\"]");
    payload(fx, rid, p, sizeof(p));
    snprintf(want, sizeof(want),
             "{\"days\":30,\"entry\":\"cond\",\"fields\":[\"name\",\"d\"],"
             "\"id\":\"sr-%llu\",\"org\":\"dept2\",\"provider\":\"dept\","
             "\"purpose\":\"audit of benefits\",\"requester\":\"cons\","
             "\"status\":\"pending_provider\",\"submitted_at\":",
             (unsigned long long)rid);
    assert_memory_equal(p, want, strlen(want));
    sr = fsm_share_request(fx->f, rid);
    assert_non_null(sr);
    assert_int_equal(sr->status, FSM_SHARE_PENDING_PROVIDER);
    assert_string_equal(sr->org, "dept2");
    assert_string_equal(sr->provider, "dept");
    assert_int_equal(sr->opinion_ms, -1);

    r = decide(fx, "prov", rid, "reject", "personal data");
    assert_int_equal(r.status, 200);
    payload(fx, r.first_rev, p, sizeof(p));
    assert_non_null(strstr(p, "\"provider_opinion\":{\"at\":"));
    assert_non_null(strstr(p, "\"by\":\"prov\",\"decision\":\"reject\","
                              "\"reason\":\"personal data\"}"));
    assert_non_null(strstr(p, "\"status\":\"pending_authority\""));
    assert_int_equal(fsm_share_request(fx->f, rid)->status,
                     FSM_SHARE_PENDING_AUTHORITY);
    /* The provider's view is an opinion, not a veto (article 19). */
    r = decide(fx, "admin", rid, "approve", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_facts, 2);
    payload(fx, r.first_rev, p, sizeof(p));
    snprintf(id, sizeof(id), "\"grant\":\"gr-%llu\"",
             (unsigned long long)r.first_rev + 1);
    assert_non_null(strstr(p, id));
    assert_non_null(strstr(p, "\"status\":\"approved\""));
    assert_non_null(strstr(p, "\"provider_opinion\":{"));
    assert_non_null(strstr(p, "\"decision\":{\"at\":"));
    payload(fx, r.first_rev + 1, p, sizeof(p));
    assert_memory_equal(p, "{\"days\":30,\"ends_at\":\"", 22);
    assert_non_null(strstr(p, "\"entry\":\"cond\",\"fields\":[\"name\","
                              "\"d\"],\"granted_at\":"));
    snprintf(want, sizeof(want),
             "\"id\":\"gr-%llu\",\"org\":\"dept2\",\"provider\":\"dept\","
             "\"purpose\":\"audit of benefits\",\"request\":\"sr-%llu\","
             "\"status\":\"active\"}",
             (unsigned long long)r.first_rev + 1, (unsigned long long)rid);
    assert_non_null(strstr(p, want));
    g = fsm_grant(fx->f, r.first_rev + 1);
    assert_non_null(g);
    assert_int_equal(g->request, rid);
    assert_int_equal(g->ends_ms - g->granted_ms, 30 * DAY_MS);
    assert_int_equal(g->n_fields, 2);
    assert_string_equal(g->fields[0], "name");
    assert_string_equal(g->fields[1], "d");

    /* Any consumer of the grantee org reads through it, with its id and
     * field subset; no one else gains anything. */
    static const struct {
        const char *who;
        enum fsm_read_access want;
    } readers[] = {
        { "cons", FSM_READ_GRANTED },  { "cons2", FSM_READ_GRANTED },
        { "d2prov", FSM_READ_DENIED }, { "cons3", FSM_READ_DENIED },
        { "cit", FSM_READ_DENIED },    { "dcons", FSM_READ_OWN },
        { "admin", FSM_READ_AUDITED }, { "aud", FSM_READ_AUDITED },
        { "city", FSM_READ_DENIED },
    };
    for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
        enum fsm_read_access a = access_of(fx, readers[i].who, "cond", &via);

        if (a != readers[i].want) {
            fail_msg("%s reads cond: %d, want %d", readers[i].who, a,
                     readers[i].want);
        }
        if (a == FSM_READ_GRANTED) {
            snprintf(id, sizeof(id), "gr-%llu",
                     (unsigned long long)r.first_rev + 1);
            assert_string_equal(via.id, id);
            assert_int_equal(via.n_fields, 2);
            assert_string_equal(via.fields[0], "name");
        } else {
            assert_string_equal(via.id, "");
            assert_null(via.fields);
        }
    }
    assert_int_equal(fsm_may_read_records(fx->f, fsm_principal(fx->f, "cons"),
                                          fsm_entry(fx->f, "cond")),
                     FSM_READ_GRANTED);
}

/* The request's own checks, in the contract's order: 400 syntax (with the
 * field), 404 an entry the caller may not see, 403 who asks, 409 the
 * entry's class or state, 422 a field the entry does not have. */
static void
test_share_request_refusals(void **state)
{
    struct fsmfx *fx = *state;
    char b[2048];

    /* A published conditional entry, then retired. */
    mkentry(fx, "prov", "admin", "gone", "dept", "province", "conditional",
            true);
    assert_int_equal(
        run(fx, CMD_ENTRY_RETIRE, "prov", "gone", "{\"reason\":\"obsolete\"}")
            .status,
        200);
    static const struct {
        const char *who, *body, *field;
        int status;
    } cases[] = {
        { "cons", "", NULL, 400 },
        { "cons", "[]", NULL, 400 },
        { "cons", "{\"purpose\":\"p\",\"days\":1}", "entry", 400 },
        { "cons", "{\"entry\":\"a/b\",\"purpose\":\"p\",\"days\":1}", "entry",
          400 },
        { "cons", "{\"entry\":\"cond\",\"days\":1}", "purpose", 400 },
        { "cons", "{\"entry\":\"cond\",\"purpose\":\"  \",\"days\":1}",
          "purpose", 400 },
        { "cons", "{\"entry\":\"cond\",\"purpose\":\"p\"}", "days", 400 },
        { "cons", "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":0}", "days",
          400 },
        { "cons", "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":3651}",
          "days", 400 },
        { "cons", "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1.5}", "days",
          400 },
        { "cons", "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1.0}", "days",
          400 },
        { "cons", "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":\"3\"}",
          "days", 400 },
        { "cons",
          "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1,\"fields\":[]}",
          "fields", 400 },
        { "cons",
          "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1,\"fields\":"
          "[\"n\",\"n\"]}",
          "fields", 400 },
        { "cons",
          "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1,\"fields\":[1]}",
          "fields", 400 },
        { "cons", "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1,\"why\":1}",
          "why", 400 },
        /* 404 before 403: the caller may not see the entry. */
        { "cons", "{\"entry\":\"nope\",\"purpose\":\"p\",\"days\":1}", NULL,
          404 },
        { "cons", "{\"entry\":\"draft\",\"purpose\":\"p\",\"days\":1}", NULL,
          404 },
        { "cit", "{\"entry\":\"draft\",\"purpose\":\"p\",\"days\":1}", NULL,
          404 },
        /* 403: who asks. */
        { "cit", "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1}", NULL,
          403 },
        { "d2prov", "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1}", NULL,
          403 },
        { "aud", "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1}", NULL,
          403 },
        { "dcons", "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1}", NULL,
          403 },
        { "prov", "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1}", NULL,
          403 },
        /* 409: the entry's class or state. */
        { "cons", "{\"entry\":\"uncond\",\"purpose\":\"p\",\"days\":1}", NULL,
          409 },
        { "cons", "{\"entry\":\"none\",\"purpose\":\"p\",\"days\":1}", NULL,
          409 },
        { "cons", "{\"entry\":\"gone\",\"purpose\":\"p\",\"days\":1}", NULL,
          409 },
        /* 422: a field the entry does not declare. */
        { "cons",
          "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1,\"fields\":"
          "[\"name\",\"salary\"]}",
          "fields", 422 },
        /* 401: a revoked or unknown principal, decided in apply. */
        { "ghost", "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1}", NULL,
          401 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t before = led_count(fsm_led(fx->f));
        struct fsm_result r =
            run(fx, CMD_SHARE_REQUEST, cases[i].who, NULL, cases[i].body);
        char p[1024], want[96];
        struct fact f;

        if (r.status != cases[i].status) {
            fail_msg("case %zu (%s %s): %d, want %d (%s)", i, cases[i].who,
                     cases[i].body, r.status, cases[i].status, r.message);
        }
        /* Each refusal is one rejection fact, nothing else. */
        assert_int_equal(led_count(fsm_led(fx->f)), before + 1);
        assert_int_equal(led_get(fsm_led(fx->f), before + 1, &f), PC_OK);
        assert_int_equal(f.kind, FACT_REJECTION);
        payload(fx, before + 1, p, sizeof(p));
        assert_non_null(strstr(p, "\"command\":\"share.request\""));
        if (cases[i].field != NULL) {
            snprintf(want, sizeof(want), "\"field\":\"%s\"", cases[i].field);
            if (strstr(p, want) == NULL) {
                fail_msg("case %zu: %s has no %s", i, p, want);
            }
        }
    }
    assert_int_equal(fsm_share_stats(fx->f, FSM_SHARE_ENTRY, "cond", 0,
                                     &(struct fsm_share_stats){ 0 }),
                     PC_ENOTFOUND);
    /* And what is accepted: a subset of the declared fields; a city
     * entry by a consumer of another org. */
    snprintf(b, sizeof(b), ",\"fields\":[\"n\"]");
    ask(fx, "cons", "cond", b);
    ask(fx, "cons", "citye", NULL);
    ask(fx, "cons3", "selfe", NULL);
}

/* Who decides what, in which state: a table of (state, principal,
 * decision) -> status. A fresh request is brought to each state. */
static void
test_share_decide_turns_and_roles(void **state)
{
    struct fsmfx *fx = *state;
    enum {
        PP,
        PA,
        AP,
        RJ
    }; /* the state the request is brought to */
    static const struct {
        int at;
        const char *who;
        int status;
    } cases[] = {
        /* Outside their org or scope (the entry is visible to all
         * principals): another consumer org, a citizen, an authority of
         * another scope; unknown principals are 401. */
        { PP, "cons3", 403 },
        { PP, "cit", 403 },
        { PP, "city", 403 },
        { PA, "city", 403 },
        { PA, "cprov", 403 },
        { PP, "ghost", 401 },
        /* Visible but without the role: the requester org, the provider
         * org's consumer, an auditor. */
        { PP, "cons", 403 },
        { PP, "cons2", 403 },
        { PP, "d2prov", 403 },
        { PP, "dcons", 403 },
        { PP, "aud", 403 },
        { PA, "cons", 403 },
        { PA, "aud", 403 },
        { AP, "cons", 403 },
        /* Out of turn. */
        { PP, "admin", 409 },
        { PP, "auth2", 409 },
        { PA, "prov", 409 },
        { PA, "prov_b", 409 },
        { AP, "prov", 409 },
        { AP, "admin", 409 },
        { RJ, "prov", 409 },
        { RJ, "admin", 409 },
        /* In turn. */
        { PP, "prov", 200 },
        { PP, "prov_b", 200 },
        { PA, "admin", 200 },
        { PA, "auth2", 200 },
    };
    static const char *const decisions[] = { "approve", "reject" };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t d = 0; d < 2; d++) {
            uint64_t id = ask(fx, "cons", "cond", NULL), before;
            struct fsm_result r;
            enum fsm_share_status st;

            if (cases[i].at >= PA) {
                assert_int_equal(decide(fx, "prov", id, "approve", NULL).status,
                                 200);
            }
            if (cases[i].at == AP) {
                assert_int_equal(
                    decide(fx, "admin", id, "approve", NULL).status, 200);
            }
            if (cases[i].at == RJ) {
                assert_int_equal(
                    decide(fx, "admin", id, "reject", "no basis").status, 200);
            }
            st = fsm_share_request(fx->f, id)->status;
            before = led_count(fsm_led(fx->f));
            r = decide(fx, cases[i].who, id, decisions[d], "a reason");
            if (r.status != cases[i].status) {
                fail_msg("case %zu: %s %s at state %d: %d, want %d (%s)", i,
                         cases[i].who, decisions[d], cases[i].at, r.status,
                         cases[i].status, r.message);
            }
            if (r.status != 200) {
                struct fact f;

                /* Nothing changes but one rejection fact. */
                assert_int_equal(fsm_share_request(fx->f, id)->status, st);
                assert_int_equal(led_count(fsm_led(fx->f)), before + 1);
                assert_int_equal(led_get(fsm_led(fx->f), before + 1, &f),
                                 PC_OK);
                assert_int_equal(f.kind, FACT_REJECTION);
                continue;
            }
            st = fsm_share_request(fx->f, id)->status;
            if (cases[i].at == PP) {
                assert_int_equal(st, FSM_SHARE_PENDING_AUTHORITY);
            } else {
                assert_int_equal(st, d == 0 ? FSM_SHARE_APPROVED
                                            : FSM_SHARE_REJECTED);
                assert_int_equal(r.n_facts, d == 0 ? 2 : 1);
            }
        }
    }
}

/* A city entry: its provider org's opinion, then an authority over the
 * city (the city's own or the provincial one); the city authority
 * revokes. */
static void
test_share_city_scope(void **state)
{
    struct fsmfx *fx = *state;
    uint64_t id = ask(fx, "cons", "citye", NULL), id2, gid;

    assert_int_equal(decide(fx, "prov", id, "approve", NULL).status, 403);
    assert_int_equal(decide(fx, "city", id, "approve", NULL).status, 409);
    assert_int_equal(decide(fx, "cprov", id, "approve", NULL).status, 200);
    assert_int_equal(decide(fx, "city", id, "approve", NULL).status, 200);
    gid = fsm_share_request(fx->f, id)->grant;
    assert_int_equal(access_of(fx, "cons", "citye", NULL), FSM_READ_GRANTED);
    id2 = ask(fx, "cons3", "citye", NULL);
    assert_int_equal(decide(fx, "cprov", id2, "approve", NULL).status, 200);
    assert_int_equal(decide(fx, "admin", id2, "reject", "not needed").status,
                     200);
    assert_int_equal(revoke(fx, "prov", gid, "{\"reason\":\"r\"}").status, 403);
    assert_int_equal(revoke(fx, "cprov", gid, "{\"reason\":\"r\"}").status,
                     403);
    assert_int_equal(revoke(fx, "city", gid, "{\"reason\":\"r\"}").status, 200);
    assert_int_equal(access_of(fx, "cons", "citye", NULL), FSM_READ_DENIED);
}

/* When the provider org is the authority org, the opinion and the
 * decision need two principals. */
static void
test_share_same_org_needs_two_principals(void **state)
{
    struct fsmfx *fx = *state;
    uint64_t id = ask(fx, "cons", "selfe", NULL);
    struct fsm_result r;

    assert_int_equal(decide(fx, "both", id, "approve", NULL).status, 200);
    r = decide(fx, "both", id, "approve", NULL);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.message, "another principal"));
    assert_int_equal(decide(fx, "aprov", id, "approve", NULL).status, 409);
    assert_int_equal(decide(fx, "admin", id, "approve", NULL).status, 200);
    assert_int_equal(fsm_share_request(fx->f, id)->status, FSM_SHARE_APPROVED);
}

/* A rejection states its reason (article 18), whoever rejects; an
 * approval may give one or not. */
static void
test_share_decide_body(void **state)
{
    struct fsmfx *fx = *state;
    uint64_t id = ask(fx, "cons", "cond", NULL);
    char target[32];
    static const struct {
        const char *body, *field;
    } bad[] = {
        { "", NULL },
        { "{}", "decision" },
        { "{\"decision\":\"maybe\"}", "decision" },
        { "{\"decision\":\"reject\"}", "reason" },
        { "{\"decision\":\"reject\",\"reason\":\" \"}", "reason" },
        { "{\"decision\":\"reject\",\"reason\":null}", "reason" },
        { "{\"decision\":\"approve\",\"reason\":7}", "reason" },
        { "{\"decision\":\"approve\",\"note\":\"x\"}", "note" },
    };

    snprintf(target, sizeof(target), "sr-%llu", (unsigned long long)id);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (int w = 0; w < 2; w++) {
            struct fsm_result r =
                run(fx, CMD_SHARE_DECIDE, w ? "admin" : "prov", target,
                    bad[i].body);
            char p[512], want[64];

            if (r.status != 400) {
                fail_msg("case %zu: %d %s", i, r.status, r.message);
            }
            payload(fx, led_count(fsm_led(fx->f)), p, sizeof(p));
            if (bad[i].field != NULL) {
                snprintf(want, sizeof(want), "\"field\":\"%s\"", bad[i].field);
                assert_non_null(strstr(p, want));
            }
        }
    }
    /* Not a request id at all, or no such request: 404. */
    assert_int_equal(
        run(fx, CMD_SHARE_DECIDE, "prov", "sr-0", "{\"decision\":\"approve\"}")
            .status,
        404);
    assert_int_equal(
        run(fx, CMD_SHARE_DECIDE, "prov", "gr-1", "{\"decision\":\"approve\"}")
            .status,
        404);
    assert_int_equal(decide(fx, "prov", 1, "approve", NULL).status, 404);
    assert_int_equal(decide(fx, "prov", id + 1000, "approve", NULL).status,
                     404);
    assert_int_equal(decide(fx, "prov", id, "approve", NULL).status, 200);
    assert_int_equal(decide(fx, "admin", id, "approve", NULL).status, 200);
}

/* A grant ends after `days` of ledger time, not before; a read then is
 * denied and a revocation is 409. */
static void
test_share_expiry_by_ledger_time(void **state)
{
    struct fsmfx *fx = *state;
    uint64_t id = ask(fx, "cons", "cond", NULL), gid;
    const struct fsm_grant *g;
    struct fsm_share_stats st;
    struct fsm_result r;
    char b[256];

    snprintf(b, sizeof(b), "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":1}");
    id = run(fx, CMD_SHARE_REQUEST, "cons", NULL, b).first_rev;
    assert_int_equal(decide(fx, "prov", id, "approve", NULL).status, 200);
    assert_int_equal(decide(fx, "admin", id, "approve", NULL).status, 200);
    gid = fsm_share_request(fx->f, id)->grant;
    g = fsm_grant(fx->f, gid);
    assert_int_equal(g->ends_ms, g->granted_ms + DAY_MS);
    /* One millisecond before the end: still active. */
    fx->now = g->ends_ms - 1;
    run(fx, CMD_TICK, NULL, NULL, NULL);
    assert_int_equal(led_time(fsm_led(fx->f)), g->ends_ms - 1);
    assert_int_equal(fsm_grant_status(g, led_time(fsm_led(fx->f))),
                     FSM_GRANT_ACTIVE);
    assert_int_equal(access_of(fx, "cons", "cond", NULL), FSM_READ_GRANTED);
    assert_int_equal(fsm_share_stats(fx->f, FSM_SHARE_ENTRY, "cond",
                                     led_time(fsm_led(fx->f)), &st),
                     PC_OK);
    assert_int_equal(st.grants_active, 1);
    /* At the end: expired. Ledger time is the last fact's. */
    fx->now = g->ends_ms;
    run(fx, CMD_TICK, NULL, NULL, NULL);
    assert_int_equal(fsm_grant_status(g, led_time(fsm_led(fx->f))),
                     FSM_GRANT_EXPIRED);
    assert_int_equal(access_of(fx, "cons", "cond", NULL), FSM_READ_DENIED);
    fsm_share_stats(fx->f, FSM_SHARE_ENTRY, "cond", led_time(fsm_led(fx->f)),
                    &st);
    assert_int_equal(st.grants_active, 0);
    assert_int_equal(st.grants_expired, 1);
    r = revoke(fx, "admin", gid, "{\"reason\":\"late\"}");
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.message, "expired"));
    /* A new request makes a new grant; the old one stays expired. */
    assert_true(granted(fx, "cons", "cond", NULL) != gid);
    assert_int_equal(access_of(fx, "cons", "cond", NULL), FSM_READ_GRANTED);
    assert_int_equal(fsm_grant_status(g, led_time(fsm_led(fx->f))),
                     FSM_GRANT_EXPIRED);
}

/* Revocation: the authority in scope only, with a reason, once. */
static void
test_share_revocation(void **state)
{
    struct fsmfx *fx = *state;
    uint64_t gid = granted(fx, "cons", "cond", NULL);
    const struct fsm_grant *g;
    struct fsm_result r;
    char p[2048];
    static const struct {
        const char *who, *body;
        int status;
    } cases[] = {
        { "admin", "{}", 400 },
        { "admin", "{\"reason\":\"\"}", 400 },
        { "admin", "{\"reason\":\"x\",\"why\":1}", 400 },
        { "cons3", "{\"reason\":\"x\"}", 403 },
        { "cit", "{\"reason\":\"x\"}", 403 },
        { "city", "{\"reason\":\"x\"}", 403 },
        { "ghost", "{\"reason\":\"x\"}", 401 },
        { "cons", "{\"reason\":\"x\"}", 403 },
        { "prov", "{\"reason\":\"x\"}", 403 },
        { "aud", "{\"reason\":\"x\"}", 403 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = revoke(fx, cases[i].who, gid, cases[i].body);
        if (r.status != cases[i].status) {
            fail_msg("case %zu: %d, want %d (%s)", i, r.status, cases[i].status,
                     r.message);
        }
    }
    assert_int_equal(
        revoke(fx, "admin", gid + 1000, "{\"reason\":\"x\"}").status, 404);
    assert_int_equal(access_of(fx, "cons", "cond", NULL), FSM_READ_GRANTED);
    r = revoke(fx, "admin", gid, "{\"reason\":\"misuse\"}");
    assert_int_equal(r.status, 200);
    payload(fx, r.first_rev, p, sizeof(p));
    assert_non_null(strstr(p, "\"revoked\":{\"at\":"));
    assert_non_null(strstr(p, "\"by\":\"admin\",\"reason\":\"misuse\"},"
                              "\"status\":\"revoked\"}"));
    g = fsm_grant(fx->f, gid);
    assert_true(g->revoked);
    assert_int_equal(fsm_grant_status(g, led_time(fsm_led(fx->f))),
                     FSM_GRANT_REVOKED);
    assert_int_equal(access_of(fx, "cons", "cond", NULL), FSM_READ_DENIED);
    r = revoke(fx, "admin", gid, "{\"reason\":\"again\"}");
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.message, "revoked"));
}

/* A PUT by `who` changing the share class: a published entry goes back
 * to submitted. */
static void
update_share(struct fsmfx *fx, const char *who, const char *id,
             const char *share, const char *provider, const char *scope)
{
    const struct fsm_entry *e = fsm_entry(fx->f, id);
    char b[2048], extra[64], target[64];
    struct fsm_result r;

    entry_body(b, sizeof(b), id, provider, scope, share, id);
    snprintf(extra, sizeof(extra), "{\"if_match\":%llu}",
             (unsigned long long)e->version);
    snprintf(target, sizeof(target), "%s", id);
    r = fsmfx_run(fx, CMD_ENTRY_UPDATE, who, target, b, extra, NULL);
    if (r.status != 200) {
        fail_msg("update %s: %d %s", id, r.status, r.message);
    }
}

static void
approve_entry(struct fsmfx *fx, const char *id)
{
    assert_int_equal(run(fx, CMD_ENTRY_REVIEW, "admin", id,
                         "{\"decision\":\"approve\",\"override_duplicate\":"
                         "true,\"reason\":\"ok\"}")
                         .status,
                     200);
}

/* A grant ends when the share class in force stops being conditional (not
 * while the change awaits review), and when the entry is retired; it does
 * not come back with the class. A pending request can no longer be
 * approved then. */
static void
test_share_class_change_ends_grants(void **state)
{
    struct fsmfx *fx = *state;
    uint64_t gid = granted(fx, "cons", "cond", NULL), gid3, pending, gid4;
    const struct fsm_grant *g;
    struct fsm_share_stats st;
    struct fsm_result r;

    gid3 = granted(fx, "cons3", "cond", ",\"fields\":[\"name\"]");
    pending = ask(fx, "cons", "cond", NULL);
    assert_int_equal(decide(fx, "prov", pending, "approve", NULL).status, 200);
    update_share(fx, "prov", "cond", "unconditional", "dept", "province");
    /* Submitted: the published version (conditional) is still in force. */
    assert_int_equal(fsm_entry(fx->f, "cond")->status, FSM_ENTRY_SUBMITTED);
    assert_int_equal(access_of(fx, "cons", "cond", NULL), FSM_READ_GRANTED);
    approve_entry(fx, "cond");
    g = fsm_grant(fx->f, gid);
    assert_true(g->ended);
    assert_string_equal(g->end_reason, "share_class_changed");
    assert_int_equal(g->ended_rev, fsm_entry(fx->f, "cond")->rev);
    assert_int_equal(fsm_grant_status(g, led_time(fsm_led(fx->f))),
                     FSM_GRANT_ENDED);
    assert_true(fsm_grant(fx->f, gid3)->ended);
    /* Unconditional now: consumers read without a grant. */
    assert_int_equal(access_of(fx, "cons", "cond", NULL), FSM_READ_AUDITED);
    r = decide(fx, "admin", pending, "approve", NULL);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.message, "unconditional"));
    assert_int_equal(revoke(fx, "admin", gid, "{\"reason\":\"x\"}").status,
                     409);
    /* Back to conditional: the ended grants stay ended. */
    update_share(fx, "prov", "cond", "conditional", "dept", "province");
    approve_entry(fx, "cond");
    assert_int_equal(access_of(fx, "cons", "cond", NULL), FSM_READ_DENIED);
    assert_int_equal(access_of(fx, "cons3", "cond", NULL), FSM_READ_DENIED);
    assert_int_equal(decide(fx, "admin", pending, "approve", NULL).status, 200);
    assert_int_equal(access_of(fx, "cons", "cond", NULL), FSM_READ_GRANTED);
    fsm_share_stats(fx->f, FSM_SHARE_ENTRY, "cond", led_time(fsm_led(fx->f)),
                    &st);
    assert_int_equal(st.grants_total, 3);
    assert_int_equal(st.grants_ended, 2);
    assert_int_equal(st.grants_active, 1);
    /* Retirement ends them too. */
    gid4 = fsm_share_request(fx->f, pending)->grant;
    assert_int_equal(
        run(fx, CMD_ENTRY_RETIRE, "prov", "cond", "{\"reason\":\"obsolete\"}")
            .status,
        200);
    g = fsm_grant(fx->f, gid4);
    assert_true(g->ended);
    assert_string_equal(g->end_reason, "entry_retired");
    assert_int_equal(access_of(fx, "cons", "cond", NULL), FSM_READ_DENIED);
    fsm_share_stats(fx->f, FSM_SHARE_ALL, NULL, led_time(fsm_led(fx->f)), &st);
    assert_int_equal(st.grants_active, 0);
    assert_int_equal(st.grants_ended, 3);
}

/* Grants do not combine: a read goes through the one active grant giving
 * the most fields (every field first). */
static void
test_share_field_subsets(void **state)
{
    struct fsmfx *fx = *state;
    struct fsm_read_via via;
    uint64_t g1, g2, g3;
    char id[32];

    g1 = granted(fx, "cons", "cond", ",\"fields\":[\"n\"]");
    assert_int_equal(access_of(fx, "cons", "cond", &via), FSM_READ_GRANTED);
    assert_int_equal(via.n_fields, 1);
    assert_string_equal(via.fields[0], "n");
    g2 = granted(fx, "cons2", "cond", ",\"fields\":[\"name\",\"d\"]");
    assert_int_equal(access_of(fx, "cons", "cond", &via), FSM_READ_GRANTED);
    snprintf(id, sizeof(id), "gr-%llu", (unsigned long long)g2);
    assert_string_equal(via.id, id);
    assert_int_equal(via.n_fields, 2);
    g3 = granted(fx, "cons", "cond", NULL);
    assert_int_equal(access_of(fx, "cons2", "cond", &via), FSM_READ_GRANTED);
    snprintf(id, sizeof(id), "gr-%llu", (unsigned long long)g3);
    assert_string_equal(via.id, id);
    assert_null(via.fields);
    assert_int_equal(revoke(fx, "admin", g3, "{\"reason\":\"x\"}").status, 200);
    assert_int_equal(access_of(fx, "cons2", "cond", &via), FSM_READ_GRANTED);
    snprintf(id, sizeof(id), "gr-%llu", (unsigned long long)g2);
    assert_string_equal(via.id, id);
    assert_true(g1 < g2);
}

/* The counters: requests by status per scope, response-time medians,
 * grants by state, and the demand list's entries and orgs. */
static void
test_share_counters(void **state)
{
    struct fsmfx *fx = *state;
    struct fsm_share_stats st;
    const char *const *ids;
    char *const *orgs;
    uint64_t a, b, c, d;
    size_t n;

    fx->step_ms = 0;
    fx->now += 1000;
    a = ask(fx, "cons", "cond", NULL);
    b = ask(fx, "cons3", "cond", NULL);
    c = ask(fx, "cons", "citye", NULL);
    d = ask(fx, "cons", "selfe", NULL);
    fx->now += 1000; /* a: opinion after 1 s */
    assert_int_equal(decide(fx, "prov", a, "approve", NULL).status, 200);
    fx->now += 2000; /* b: after 3 s */
    assert_int_equal(decide(fx, "prov", b, "reject", "x").status, 200);
    fx->now += 4000; /* c: after 7 s; a decided after 7 s */
    assert_int_equal(decide(fx, "cprov", c, "approve", NULL).status, 200);
    assert_int_equal(decide(fx, "admin", a, "approve", NULL).status, 200);
    fx->now += 1000; /* b decided after 8 s */
    assert_int_equal(decide(fx, "admin", b, "reject", "no").status, 200);
    (void)d;

    assert_int_equal(fsm_share_stats(fx->f, FSM_SHARE_ALL, NULL,
                                     led_time(fsm_led(fx->f)), &st),
                     PC_OK);
    assert_int_equal(st.requests_total, 4);
    assert_int_equal(st.requests[FSM_SHARE_PENDING_PROVIDER], 1);
    assert_int_equal(st.requests[FSM_SHARE_PENDING_AUTHORITY], 1);
    assert_int_equal(st.requests[FSM_SHARE_APPROVED], 1);
    assert_int_equal(st.requests[FSM_SHARE_REJECTED], 1);
    assert_int_equal(st.n_opinions, 3);
    assert_int_equal(st.median_opinion_ms, 3000); /* 1, 3, 7 s */
    assert_int_equal(st.n_decisions, 2);
    assert_int_equal(st.median_decision_ms, 7000); /* lower of 7, 8 s */
    assert_int_equal(st.grants_total, 1);
    assert_int_equal(st.grants_active, 1);

    fsm_share_stats(fx->f, FSM_SHARE_PROVIDER, "dept", 0, &st);
    assert_int_equal(st.requests_total, 2);
    assert_int_equal(st.median_opinion_ms, 1000); /* lower of 1, 3 s */
    fsm_share_stats(fx->f, FSM_SHARE_REQUESTER, "dept2", 0, &st);
    assert_int_equal(st.requests_total, 3);
    assert_int_equal(st.requests[FSM_SHARE_APPROVED], 1);
    fsm_share_stats(fx->f, FSM_SHARE_ENTRY, "cond", 0, &st);
    assert_int_equal(st.requests_total, 2);
    assert_int_equal(st.n_orgs, 2);
    assert_int_equal(
        fsm_share_stats(fx->f, FSM_SHARE_PROVIDER, "dept3", 0, &st),
        PC_ENOTFOUND);
    assert_int_equal(st.median_decision_ms, -1);

    assert_int_equal(fsm_share_demand_entries(fx->f, &ids, &n), PC_OK);
    assert_int_equal(n, 3);
    assert_string_equal(ids[0], "citye");
    assert_string_equal(ids[1], "cond");
    assert_string_equal(ids[2], "selfe");
    assert_int_equal(fsm_share_entry_orgs(fx->f, "cond", &orgs), 2);
    assert_string_equal(orgs[0], "dept2");
    assert_string_equal(orgs[1], "dept3");
    assert_int_equal(fsm_share_entry_orgs(fx->f, "uncond", &orgs), 0);
}

/* Every allocation of each share command failing once leaves the ledger
 * as it was (never a verdict); the successful run answers as always. */
static void
test_share_oom_all_or_nothing(void **state)
{
    struct fsmfx *fx = *state;
    char target[32];
    struct fsm_result r;
    uint64_t id;

    r = fsmfx_oom_run(fx, CMD_SHARE_REQUEST, "cons", NULL,
                      "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":5,"
                      "\"fields\":[\"name\"]}",
                      NULL, NULL, 201);
    id = r.first_rev;
    snprintf(target, sizeof(target), "sr-%llu", (unsigned long long)id);
    fsmfx_oom_run(fx, CMD_SHARE_DECIDE, "prov", target,
                  "{\"decision\":\"approve\",\"reason\":\"fine\"}", NULL, NULL,
                  200);
    fsmfx_oom_run(fx, CMD_SHARE_DECIDE, "admin", target,
                  "{\"decision\":\"approve\"}", NULL, NULL, 200);
    assert_int_equal(access_of(fx, "cons", "cond", NULL), FSM_READ_GRANTED);
    snprintf(target, sizeof(target), "gr-%llu",
             (unsigned long long)fsm_share_request(fx->f, id)->grant);
    fsmfx_oom_run(fx, CMD_GRANT_REVOKE, "admin", target,
                  "{\"reason\":\"done\"}", NULL, NULL, 200);
    fsmfx_oom_run(fx, CMD_SHARE_DECIDE, "admin", "sr-1",
                  "{\"decision\":\"approve\"}", NULL, NULL, 404);
    /* An entry change that ends grants, under failing allocations. */
    granted(fx, "cons", "cond", NULL);
    assert_int_equal(
        run(fx, CMD_ENTRY_RETIRE, "prov", "cond", "{\"reason\":\"obsolete\"}")
            .status,
        200);
    assert_int_equal(access_of(fx, "cons", "cond", NULL), FSM_READ_DENIED);
}

/* A repeated command with the same Idempotency-Key answers the same and
 * appends nothing: one request, one opinion. */
static void
test_share_idempotent(void **state)
{
    struct fsmfx *fx = *state;
    const char *b = "{\"entry\":\"cond\",\"purpose\":\"p\",\"days\":5}";
    struct fsm_result r1, r2;
    uint64_t n;

    r1 = fsmfx_run(fx, CMD_SHARE_REQUEST, "cons", NULL, b, NULL, "k1");
    n = led_count(fsm_led(fx->f));
    r2 = fsmfx_run(fx, CMD_SHARE_REQUEST, "cons", NULL, b, NULL, "k1");
    assert_int_equal(r2.status, 201);
    assert_true(r2.replayed);
    assert_int_equal(r2.first_rev, r1.first_rev);
    assert_int_equal(led_count(fsm_led(fx->f)), n);
}

struct snapshot_view {
    char text[16384];
    size_t len;
};

static void view_add(struct snapshot_view *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
view_add(struct snapshot_view *v, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    v->len +=
        (size_t)vsnprintf(v->text + v->len, sizeof(v->text) - v->len, fmt, ap);
    va_end(ap);
    assert_true(v->len < sizeof(v->text));
}

/* Everything sharing derives, as text, for comparing two state machines. */
static void
describe(struct fsm *f, struct snapshot_view *v)
{
    static const char *const who[] = { "cons",  "cons2",  "cons3",
                                       "ccons", "d2prov", "cit" };
    static const char *const entries[] = { "cond", "citye", "selfe" };
    struct fsm_share_request *const *rs;
    struct fsm_grant *const *gs;
    int64_t now = led_time(fsm_led(f));
    size_t n;

    memset(v, 0, sizeof(*v));
    n = fsm_share_requests(f, &rs);
    for (size_t i = 0; i < n; i++) {
        view_add(v, "sr-%llu %s %s %s %s %d %lld %lld %lld %llu %llu %s\n",
                 (unsigned long long)rs[i]->id, rs[i]->entry, rs[i]->org,
                 rs[i]->requester, rs[i]->provider, rs[i]->status,
                 (long long)rs[i]->submitted_ms, (long long)rs[i]->opinion_ms,
                 (long long)rs[i]->decided_ms, (unsigned long long)rs[i]->grant,
                 (unsigned long long)rs[i]->rev,
                 rs[i]->opinion_by ? rs[i]->opinion_by : "-");
    }
    n = fsm_grants(f, &gs);
    for (size_t i = 0; i < n; i++) {
        view_add(v, "gr-%llu %llu %s %s %zu %lld %lld %d %llu %s\n",
                 (unsigned long long)gs[i]->id,
                 (unsigned long long)gs[i]->request, gs[i]->entry, gs[i]->org,
                 gs[i]->n_fields, (long long)gs[i]->granted_ms,
                 (long long)gs[i]->ends_ms, fsm_grant_status(gs[i], now),
                 (unsigned long long)gs[i]->ended_rev,
                 gs[i]->end_reason ? gs[i]->end_reason : "-");
    }
    for (size_t e = 0; e < 3; e++) {
        struct fsm_share_stats st;

        fsm_share_stats(f, FSM_SHARE_ENTRY, entries[e], now, &st);
        view_add(v, "%s %llu %llu %llu %llu %lld %lld %llu %llu %llu %zu\n",
                 entries[e], (unsigned long long)st.requests[0],
                 (unsigned long long)st.requests[1],
                 (unsigned long long)st.requests[2],
                 (unsigned long long)st.requests[3],
                 (long long)st.median_opinion_ms,
                 (long long)st.median_decision_ms,
                 (unsigned long long)st.grants_active,
                 (unsigned long long)st.grants_revoked,
                 (unsigned long long)st.grants_ended, st.n_orgs);
        for (size_t w = 0; w < sizeof(who) / sizeof(who[0]); w++) {
            struct fsm_read_via via;

            view_add(v, "%s/%s %d %s\n", who[w], entries[e],
                     fsm_may_read_records_via(f, fsm_principal(f, who[w]),
                                              fsm_entry(f, entries[e]), &via),
                     via.id);
        }
    }
}

/* A replica restored from a snapshot rebuilds the same requests, grants,
 * counters and read access from the facts alone. */
static void
test_share_rebuild_same_state(void **state)
{
    struct fsmfx *fx = *state;
    struct snapshot_view *a = test_malloc(sizeof(*a)),
                         *b = test_malloc(sizeof(*b));
    uint64_t x, gx;
    struct fsm *copy;

    granted(fx, "cons", "cond", ",\"fields\":[\"name\"]");
    gx = granted(fx, "cons3", "cond", NULL);
    x = ask(fx, "ccons", "cond", NULL);
    assert_int_equal(decide(fx, "prov", x, "reject", "no").status, 200);
    assert_int_equal(revoke(fx, "admin", gx, "{\"reason\":\"r\"}").status, 200);
    x = ask(fx, "cons", "citye", NULL);
    assert_int_equal(decide(fx, "cprov", x, "approve", NULL).status, 200);
    assert_int_equal(decide(fx, "city", x, "approve", NULL).status, 200);
    ask(fx, "cons", "selfe", NULL);
    granted(fx, "cons2", "cond", NULL);
    update_share(fx, "cprov", "citye", "none", "citydept", "city:cityA");
    assert_int_equal(run(fx, CMD_ENTRY_REVIEW, "city", "citye",
                         "{\"decision\":\"approve\",\"override_duplicate\":"
                         "true,\"reason\":\"ok\"}")
                         .status,
                     200);
    fx->now += 40 * DAY_MS; /* some expire */
    run(fx, CMD_TICK, NULL, NULL, NULL);

    describe(fx->f, a);
    copy = fsmfx_rebuilt(fx);
    describe(copy, b);
    assert_string_equal(a->text, b->text);
    assert_non_null(strstr(a->text, "share_class_changed"));
    fsm_free(copy);
    test_free(a);
    test_free(b);
}

/*
 * The facts sharing appends are the format (docs/format.md): this fixed
 * sequence (every step, an approval over the provider's negative opinion
 * with escapes in its reason, a rejection, two refusals, an audit batch
 * of encoding 2, a revocation) after setup's catalog gives this root over
 * 50 facts, obtained when the rules were written (commit of the sharing
 * rules), then changed once by the rules version genesis records (2 from
 * 0.2.0). Never update it to make a change pass: only a deliberate rules
 * change, named here, may change facts.
 */
#define SHARE_GOLDEN_ROOT \
    "de5ba05c5e1e8978d84f1c8c251afd4ac0f192233ff7bf57da8433e78339e136"

static void
test_share_golden(void **state)
{
    struct fsmfx *fx = *state;
    uint8_t root[PC_HASH_LEN];
    char hex[PC_HASH_HEX_LEN + 1], target[32];
    struct fsm_result r;
    uint64_t a, b, gid;

    fx->step_ms = 1000;
    a = ask(fx, "cons", "cond", ",\"fields\":[\"name\",\"d\"]");
    assert_int_equal(decide(fx, "prov", a, "reject", "\u00e9\\\"").status, 200);
    assert_int_equal(decide(fx, "admin", a, "approve", NULL).status, 200);
    gid = fsm_share_request(fx->f, a)->grant;
    b = ask(fx, "cons3", "cond", NULL);
    assert_int_equal(decide(fx, "prov", b, "approve", "ok").status, 200);
    assert_int_equal(decide(fx, "admin", b, "reject", "no need").status, 200);
    assert_int_equal(decide(fx, "admin", b, "reject", "no need").status, 409);
    assert_int_equal(run(fx, CMD_SHARE_REQUEST, "cons", NULL,
                         "{\"entry\":\"uncond\",\"purpose\":\"p\","
                         "\"days\":2}")
                         .status,
                     409);
    snprintf(target, sizeof(target), "gr-%llu", (unsigned long long)gid);
    r = fsmfx_run(fx, CMD_AUDIT, NULL, NULL,
                  "{\"a\":[0,0],\"actions\":[\"record.read\"],\"c\":"
                  "[-1,-1],\"e\":[0,0],\"entries\":[\"cond\"],\"k\":"
                  "[\"k1\",\"k2\"],\"orgs\":[\"dept2\"],\"p\":[0,0],"
                  "\"principals\":[\"cons\"],\"t\":[0,3],\"t0\":"
                  "1790000100000,\"v\":[1,2],\"via\":[\"gr-1\"],\"w\":"
                  "[0,-1]}",
                  "{\"salt\":\"00112233445566778899aabbccddeeff\"}", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(
        run(fx, CMD_GRANT_REVOKE, "admin", target, "{\"reason\":\"done\"}")
            .status,
        200);
    led_root(fsm_led(fx->f), root);
    pc_hex(hex, root, PC_HASH_LEN);
    if (strcmp(hex, SHARE_GOLDEN_ROOT) != 0) {
        fail_msg("root %s over %llu facts; golden %s", hex,
                 (unsigned long long)led_count(fsm_led(fx->f)),
                 SHARE_GOLDEN_ROOT);
    }
}

/* Server id syntax: "<prefix>-<rev>", rev 1..2^63-1 without leading
 * zeros. */
static void
test_share_server_ids(void **state)
{
    static const struct {
        const char *s;
        bool ok;
        uint64_t v;
    } cases[] = {
        { "sr-1", true, 1 },
        { "sr-42", true, 42 },
        { "sr-9223372036854775807", true, 9223372036854775807ULL },
        { "sr-9223372036854775808", false, 0 },
        { "sr-0", false, 0 },
        { "sr-01", false, 0 },
        { "sr-", false, 0 },
        { "sr-1a", false, 0 },
        { "gr-1", false, 0 },
        { "sr1", false, 0 },
        { "sr-12345678901234567890", false, 0 },
    };
    uint64_t v;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = 0;
        assert_int_equal(fsm_server_id_parse(cases[i].s, "sr", &v),
                         cases[i].ok);
        if (cases[i].ok) {
            assert_int_equal(v, cases[i].v);
        }
    }
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, fsmfx_teardown)
        T(test_share_workflow),
        T(test_share_request_refusals),
        T(test_share_decide_turns_and_roles),
        T(test_share_city_scope),
        T(test_share_same_org_needs_two_principals),
        T(test_share_decide_body),
        T(test_share_expiry_by_ledger_time),
        T(test_share_revocation),
        T(test_share_class_change_ends_grants),
        T(test_share_field_subsets),
        T(test_share_counters),
        T(test_share_oom_all_or_nothing),
        T(test_share_idempotent),
        T(test_share_rebuild_same_state),
        T(test_share_golden),
        cmocka_unit_test(test_share_server_ids),
#undef T
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
