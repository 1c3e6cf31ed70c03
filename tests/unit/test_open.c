/* SPDX-License-Identifier: MIT */
/*
 * Open data (articles 22-23, node/fsm/rules_open.c) as pure state
 * transitions through fsm_apply: who may file an open request for which
 * entry, every out-of-turn and wrong-role decision, read access through an
 * approved request (and only that one), calendars and who sets them, due
 * dates recomputed when a calendar changes while requests are pending (and
 * only the requests that consulted that year), listings, the evaluation
 * counters, idempotent repeats, out-of-memory all or nothing, calendars
 * carried by genesis, and a rebuild from the facts giving the same state.
 */
#include "tests/lib/fsmfx.h"
#include "tests/lib/test.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/timefmt.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/led.h"

#define HOUR_MS (3600 * 1000LL)

static struct fsm_result
run(struct fsmfx *fx, uint32_t type, const char *who, const char *target,
    const char *body)
{
    return fsmfx_run(fx, type, who, target, body, NULL, NULL);
}

/* The instant of Shanghai local time y-m-d hh:mm. */
static int64_t
local_ms(int y, unsigned m, unsigned d, int hh, int mm)
{
    return pc_days_from_civil(y, m, d) * CAL_DAY_MS + hh * HOUR_MS +
           mm * 60000LL - CAL_UTC_OFFSET;
}

/* Move the next command's time stamp to `ms` (ledger time never goes
 * back, so only forward). */
static void
at(struct fsmfx *fx, int64_t ms)
{
    assert_true(ms >= led_time(fsm_led(fx->f)));
    fx->now = ms;
}

/* Entry `id` of dept with the classes, published if asked. */
static void
mkentry(struct fsmfx *fx, const char *id, const char *share, const char *open,
        bool publish)
{
    char b[1024];

    snprintf(b, sizeof(b),
             "{\"id\":\"%s\",\"title\":\"%s\",\"provider\":\"dept\","
             "\"fields\":[{\"name\":\"name\",\"type\":\"string\"}],"
             "\"share\":{\"class\":\"%s\",\"basis\":\"art. 18\"},"
             "\"open\":{\"class\":\"%s\"},\"update_frequency\":\"daily\","
             "\"security_level\":2,\"scope\":\"province\"}",
             id, id, share, open);
    fsmfx_create_entry(fx, "prov", b);
    if (publish) {
        fsmfx_publish(fx, "prov", "admin", id);
    }
}

/* Change the open class of published entry `id` (and publish that). */
static void
reopen(struct fsmfx *fx, const char *id, const char *open)
{
    const struct fsm_entry *e = fsm_entry(fx->f, id);
    char b[1024], extra[40];

    snprintf(b, sizeof(b),
             "{\"id\":\"%s\",\"title\":\"%s\",\"provider\":\"dept\","
             "\"fields\":[{\"name\":\"name\",\"type\":\"string\"}],"
             "\"share\":{\"class\":\"unconditional\"},"
             "\"open\":{\"class\":\"%s\"},\"update_frequency\":\"daily\","
             "\"security_level\":2,\"scope\":\"province\"}",
             id, id, open);
    snprintf(extra, sizeof(extra), "{\"if_match\":%llu}",
             (unsigned long long)e->version);
    assert_int_equal(
        fsmfx_run(fx, CMD_ENTRY_UPDATE, "prov", id, b, extra, NULL).status,
        200);
    fsmfx_approve(fx, "admin", id);
}

/*
 * Orgs dept (the provider) and dept2; cityA, a city authority. Principals:
 * prov, prov_b (dept providers), dcons (dept consumer), prov2 (dept2
 * provider), cons2 (dept2 consumer), aud (auditor), auth2 (a second
 * provincial authority), ca (cityA's authority), cit, cit2 (citizens), gone
 * (a revoked citizen); admin. Entries of dept: cond, cond2 (conditional,
 * conditional), pub (unconditional both), shut (share unconditional, open
 * none), closed (none, none), all published; draft (conditional, never
 * published).
 */
static int
setup(void **state)
{
    struct fsmfx *fx = fsmfx_new("admin", 1000);

    fsmfx_org(fx, "dept", "authority", "province", false);
    fsmfx_org(fx, "dept2", "authority", "province", false);
    fsmfx_org(fx, "cityA", "authority", "city", true);
    fsmfx_principal(fx, "prov", "dept", "\"provider\"");
    fsmfx_principal(fx, "prov_b", "dept", "\"provider\"");
    fsmfx_principal(fx, "dcons", "dept", "\"consumer\"");
    fsmfx_principal(fx, "prov2", "dept2", "\"provider\"");
    fsmfx_principal(fx, "cons2", "dept2", "\"consumer\"");
    fsmfx_principal(fx, "aud", "authority", "\"auditor\"");
    fsmfx_principal(fx, "auth2", "authority", "\"authority\"");
    fsmfx_principal(fx, "ca", "cityA", "\"authority\"");
    fsmfx_principal(fx, "cit", NULL, NULL);
    fsmfx_principal(fx, "cit2", NULL, NULL);
    fsmfx_principal(fx, "gone", NULL, NULL);
    fsmfx_revoke(fx, "gone");
    mkentry(fx, "cond", "conditional", "conditional", true);
    mkentry(fx, "cond2", "conditional", "conditional", true);
    mkentry(fx, "pub", "unconditional", "unconditional", true);
    mkentry(fx, "shut", "unconditional", "none", true);
    mkentry(fx, "closed", "none", "none", true);
    mkentry(fx, "draft", "conditional", "conditional", false);
    *state = fx;
    return 0;
}

static const char *
body_for(char *b, size_t cap, const char *entry)
{
    snprintf(b, cap,
             "{\"entry\":\"%s\",\"applicant\":\"Zhang San\",\"data_type\":"
             "\"records\",\"description\":\"my own file\",\"purpose\":"
             "\"a loan application\"}",
             entry);
    return b;
}

/* File an open request for `entry` as `who`. */
static struct fsm_result
file(struct fsmfx *fx, const char *who, const char *entry)
{
    char b[300];

    return run(fx, CMD_OPEN_REQUEST, who, NULL, body_for(b, sizeof(b), entry));
}

/* File one that must succeed; its id in `id` (32 bytes). */
static void
file_ok(struct fsmfx *fx, const char *who, const char *entry, char *id)
{
    struct fsm_result r = file(fx, who, entry);

    if (r.status != 201) {
        fail_msg("filing %s for %s: %d %s", entry, who, r.status, r.message);
    }
    snprintf(id, 32, "or-%llu", (unsigned long long)r.first_rev);
}

static int
decide(struct fsmfx *fx, const char *who, const char *id, const char *body)
{
    return run(fx, CMD_OPEN_DECIDE, who, id, body).status;
}

#define APPROVE "{\"decision\":\"approve\",\"reason\":\"\"}"
#define REJECT  "{\"decision\":\"reject\",\"reason\":\"not yours\"}"

/* The last fact: kind, version, id and payload (JSON, new reference). */
static json_t *
last_fact(struct fsmfx *fx, uint32_t *kind, uint64_t *version, char *id)
{
    struct led *l = fsm_led(fx->f);
    struct fact f;

    assert_int_equal(led_get(l, led_count(l), &f), PC_OK);
    *kind = f.kind;
    *version = f.version;
    snprintf(id, 64, "%.*s", (int)f.id.len, (const char *)f.id.p);
    return json_loadb((const char *)f.payload.p, f.payload.len, 0, NULL);
}

static const char *
jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static const char *
due_str(const struct fsm_open_request *r, char out[CAL_DATE_LEN + 1])
{
    cal_format_day(out, r->due.day);
    return out;
}

#define X62 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

/* Who files for which entry, and what each refusal appends: one
 * rejection fact with the answer's status, the body's offending member
 * named; a request is one OPEN_REQUEST fact, version 1, id or-<rev>. */
static void
test_open_request_who_and_what(void **state)
{
    struct fsmfx *fx = *state;
    static char big[5000];
    static const struct {
        const char *who, *entry, *body, *field;
        int status;
    } rows[] = {
        { "cit", "cond", NULL, NULL, 201 },
        { "cit2", "cond", NULL, NULL, 201 },
        { "prov2", "cond", NULL, NULL, 201 }, /* any principal */
        { "cons2", "cond2", NULL, NULL, 201 },
        { "admin", "cond", NULL, NULL, 201 },
        { "prov", "cond", NULL, NULL, 201 }, /* pointless, not refused */
        { "cit", "pub", NULL, NULL, 409 },   /* open without a request */
        { "cit", "shut", NULL, NULL, 409 },  /* never opened */
        { "cit", "closed", NULL, NULL, 409 },
        { "cit", "draft", NULL, NULL, 404 },  /* invisible to others */
        { "prov", "draft", NULL, NULL, 409 }, /* no published version */
        { "cit", "nope", NULL, NULL, 404 },
        { "gone", "cond", NULL, NULL, 401 },
        { "nobody", "cond", NULL, NULL, 401 },
        { "cit", NULL,
          "{\"entry\":\"cond\",\"data_type\":\"t\",\"description\":\"d\","
          "\"purpose\":\"p\"}",
          "applicant", 400 },
        { "cit", NULL,
          "{\"entry\":\"cond\",\"applicant\":\"a\",\"data_type\":\"t\","
          "\"description\":\"d\",\"purpose\":\" \\t\"}",
          "purpose", 400 },
        { "cit", NULL,
          "{\"entry\":\"cond\",\"applicant\":\"a\",\"data_type\":\"t\","
          "\"description\":\"d\",\"purpose\":\"p\",\"days\":3}",
          "days", 400 },
        { "cit", NULL,
          "{\"entry\":\"co nd\",\"applicant\":\"a\",\"data_type\":\"t\","
          "\"description\":\"d\",\"purpose\":\"p\"}",
          "entry", 400 },
        { "cit", NULL,
          "{\"entry\":\"cond\",\"applicant\":7,\"data_type\":\"t\","
          "\"description\":\"d\",\"purpose\":\"p\"}",
          "applicant", 400 },
        { "cit", NULL, big, "description", 400 },
        /* An unknown member named at a character boundary (fuzz_open). */
        { "cit", NULL,
          "{\"entry\":\"cond\",\"applicant\":\"a\",\"data_type\":\"t\","
          "\"description\":\"d\",\"purpose\":\"p\",\"" X62 "\u00e9\":1}",
          X62, 400 },
        { "cit", NULL, "[]", NULL, 400 },
        { "cit", NULL, "{\"entry\":", NULL, 400 },
    };

    memset(big, 'x', sizeof(big));
    snprintf(big, sizeof(big),
             "{\"entry\":\"cond\",\"applicant\":\"a\",\"data_type\":\"t\","
             "\"purpose\":\"p\",\"description\":\"%4097s\"}",
             "");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint64_t before = led_count(fsm_led(fx->f)), version;
        char b[300], id[64], want_id[32];
        uint32_t kind;
        struct fsm_result r =
            run(fx, CMD_OPEN_REQUEST, rows[i].who, NULL,
                rows[i].body ? rows[i].body
                             : body_for(b, sizeof(b), rows[i].entry));
        json_t *p;

        if (r.status != rows[i].status) {
            fail_msg("row %zu (%s, %s): %d %s, want %d", i, rows[i].who,
                     rows[i].entry ? rows[i].entry : "-", r.status, r.message,
                     rows[i].status);
        }
        assert_int_equal(led_count(fsm_led(fx->f)), before + 1);
        assert_int_equal(r.n_facts, 1);
        p = last_fact(fx, &kind, &version, id);
        assert_non_null(p);
        if (r.status == 201) {
            const struct fsm_principal *who = fsm_principal(fx->f, rows[i].who);

            snprintf(want_id, sizeof(want_id), "or-%llu",
                     (unsigned long long)(before + 1));
            assert_int_equal(kind, FACT_OPEN_REQUEST);
            assert_int_equal(version, 1);
            assert_string_equal(id, want_id);
            assert_string_equal(jstr(p, "id"), want_id);
            assert_string_equal(jstr(p, "status"), "pending");
            assert_string_equal(jstr(p, "requester"), rows[i].who);
            assert_string_equal(jstr(p, "provider"), "dept");
            assert_string_equal(jstr(p, "entry"), rows[i].entry);
            assert_string_equal(jstr(p, "applicant"), "Zhang San");
            if (who->org == NULL) {
                assert_true(json_is_null(json_object_get(p, "org")));
            } else {
                assert_string_equal(jstr(p, "org"), who->org);
            }
            assert_non_null(fsm_open_request(fx->f, want_id));
        } else {
            assert_int_equal(kind, FACT_REJECTION);
            assert_int_equal(json_integer_value(json_object_get(p, "status")),
                             r.status);
            assert_string_equal(jstr(p, "command"), "open.request");
            if (rows[i].field != NULL) {
                assert_string_equal(json_string_value(json_object_get(
                                        json_object_get(p, "detail"), "field")),
                                    rows[i].field);
            }
        }
        json_decref(p);
    }
}

/* Every out-of-turn and wrong-role decision, in the contract's order: 404
 * for whoever may not see the request, 403 for those who see it but are
 * not a provider of the entry's org (or filed it), 409 once decided; a
 * malformed body is 400 first. Each refusal is one rejection fact and
 * leaves the request as it was. */
static void
test_open_decide_who_and_when(void **state)
{
    struct fsmfx *fx = *state;
    char id[32], own[32], missing[32];
    static const struct {
        const char *who, *body;
        int status;
    } rows[] = {
        { "cit2", APPROVE, 404 },  /* another citizen */
        { "prov2", APPROVE, 404 }, /* another org's provider */
        { "cons2", APPROVE, 404 },
        { "aud", APPROVE, 404 },
        { "ca", APPROVE, 404 }, /* a city authority, out of scope */
        { "gone", APPROVE, 401 },
        { "cit", APPROVE, 403 },   /* the requester itself */
        { "dcons", APPROVE, 403 }, /* provider org, not a provider */
        { "admin", APPROVE, 403 }, /* the authority sees, does not decide */
        { "auth2", REJECT, 403 },
        { "prov", "{\"decision\":\"reject\"}", 400 },
        { "prov", "{\"decision\":\"reject\",\"reason\":\"  \"}", 400 },
        { "prov", "{\"decision\":\"maybe\",\"reason\":\"x\"}", 400 },
        { "prov", "{\"decision\":\"approve\",\"why\":1}", 400 },
        { "cit2", "{\"decision\":\"maybe\"}", 400 }, /* syntax first */
        { "prov", APPROVE, 200 },
        { "prov", APPROVE, 409 }, /* out of turn: decided already */
        { "prov_b", REJECT, 409 },
        { "cit", APPROVE, 403 },
        { "cit2", APPROVE, 404 },
    };

    file_ok(fx, "cit", "cond", id);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct fsm_open_request *r = fsm_open_request(fx->f, id);
        enum fsm_open_status was = r->status;
        uint64_t before = led_count(fsm_led(fx->f)), version;
        uint32_t kind;
        char fid[64];
        struct fsm_result res =
            run(fx, CMD_OPEN_DECIDE, rows[i].who, id, rows[i].body);
        json_t *p;

        if (res.status != rows[i].status) {
            fail_msg("row %zu (%s): %d %s, want %d", i, rows[i].who, res.status,
                     res.message, rows[i].status);
        }
        assert_int_equal(led_count(fsm_led(fx->f)), before + 1);
        p = last_fact(fx, &kind, &version, fid);
        if (res.status == 200) {
            assert_int_equal(kind, FACT_OPEN_REQUEST);
            assert_int_equal(version, 2);
            assert_string_equal(fid, id);
            assert_string_equal(jstr(p, "status"), "approved");
            assert_string_equal(jstr(p, "decided_by"), "prov");
            assert_false(json_is_true(json_object_get(p, "answered_late")));
            assert_int_equal(fsm_open_request(fx->f, id)->status,
                             FSM_OPEN_APPROVED);
        } else {
            assert_int_equal(kind, FACT_REJECTION);
            assert_string_equal(jstr(p, "command"), "open.decide");
            assert_int_equal(fsm_open_request(fx->f, id)->status, was);
        }
        json_decref(p);
    }
    /* Requests that do not exist, whatever their spelling. */
    snprintf(missing, sizeof(missing), "or-%llu",
             (unsigned long long)led_count(fsm_led(fx->f))); /* a rejection */
    assert_int_equal(decide(fx, "prov", missing, APPROVE), 404);
    assert_int_equal(decide(fx, "prov", "or-999999", APPROVE), 404);
    assert_int_equal(decide(fx, "prov", "or-0", APPROVE), 404);
    assert_int_equal(decide(fx, "prov", "cond", APPROVE), 404);
    assert_int_equal(decide(fx, "prov", "", APPROVE), 404);
    /* A provider of the org does not decide its own request; another
     * does, and a rejection keeps its reason. */
    file_ok(fx, "prov_b", "cond2", own);
    assert_int_equal(decide(fx, "prov_b", own, APPROVE), 403);
    assert_int_equal(decide(fx, "prov", own, REJECT), 200);
    assert_int_equal(fsm_open_request(fx->f, own)->status, FSM_OPEN_REJECTED);
    assert_int_equal(decide(fx, "prov", own, APPROVE), 409);
}

/* Approval lets exactly the requester read exactly that entry's records,
 * through the request (FSM_READ_GRANTED, audited with its id), while the
 * open class in force is conditional; unconditional open data is for
 * anyone without a token, `none` never for the public. */
static void
test_open_read_access(void **state)
{
    struct fsmfx *fx = *state;
    const struct fsm_principal *cit = fsm_principal(fx->f, "cit"),
                               *cit2 = fsm_principal(fx->f, "cit2"),
                               *prov = fsm_principal(fx->f, "prov"),
                               *cons2 = fsm_principal(fx->f, "cons2");
    const struct fsm_entry *cond = fsm_entry(fx->f, "cond"),
                           *cond2 = fsm_entry(fx->f, "cond2");
    char a[32], b[32], c2[32];

    /* The public and the classes. */
    assert_int_equal(fsm_may_read_records(fx->f, NULL, fsm_entry(fx->f, "pub")),
                     FSM_READ_OPEN);
    assert_int_equal(fsm_may_read_records(fx->f, NULL, cond), FSM_READ_DENIED);
    assert_int_equal(
        fsm_may_read_records(fx->f, NULL, fsm_entry(fx->f, "closed")),
        FSM_READ_DENIED);
    assert_int_equal(
        fsm_entry_visible_rev(fx->f, fsm_entry(fx->f, "closed"), NULL), 0);
    assert_int_equal(
        fsm_entry_visible_rev(fx->f, fsm_entry(fx->f, "shut"), NULL), 0);
    assert_int_not_equal(fsm_entry_visible_rev(fx->f, cond, NULL), 0);

    file_ok(fx, "cit", "cond", a);
    file_ok(fx, "cit2", "cond", b);
    file_ok(fx, "cons2", "cond2", c2);
    assert_int_equal(fsm_may_read_records(fx->f, cit, cond), FSM_READ_DENIED);
    assert_null(fsm_open_grant(fx->f, cit, cond));
    assert_int_equal(decide(fx, "prov", a, APPROVE), 200);
    assert_int_equal(decide(fx, "prov", b, REJECT), 200);
    assert_int_equal(decide(fx, "prov", c2, APPROVE), 200);
    assert_int_equal(fsm_may_read_records(fx->f, cit, cond), FSM_READ_GRANTED);
    assert_string_equal(fsm_open_grant(fx->f, cit, cond), a);
    assert_int_equal(fsm_may_read_records(fx->f, cit, cond2), FSM_READ_DENIED);
    assert_null(fsm_open_grant(fx->f, cit, cond2));
    assert_int_equal(fsm_may_read_records(fx->f, cit2, cond), FSM_READ_DENIED);
    assert_null(fsm_open_grant(fx->f, cit2, cond));
    /* A consumer of another org, through its own open request. */
    assert_int_equal(fsm_may_read_records(fx->f, cons2, cond2),
                     FSM_READ_GRANTED);
    assert_int_equal(fsm_may_read_records(fx->f, cons2, cond), FSM_READ_DENIED);
    assert_int_equal(fsm_may_read_records(fx->f, prov, cond), FSM_READ_OWN);
    /* A second approval for the same pair: the first stays the grant. */
    file_ok(fx, "cit", "cond", b);
    assert_int_equal(decide(fx, "prov", b, APPROVE), 200);
    assert_string_equal(fsm_open_grant(fx->f, cit, cond), a);
    /* The open class in force decides: closed, nobody; opened, anyone. */
    reopen(fx, "cond", "none");
    cond = fsm_entry(fx->f, "cond");
    assert_int_equal(fsm_may_read_records(fx->f, cit, cond), FSM_READ_DENIED);
    reopen(fx, "cond", "unconditional");
    cond = fsm_entry(fx->f, "cond");
    assert_int_equal(fsm_may_read_records(fx->f, cit, cond), FSM_READ_AUDITED);
    assert_int_equal(fsm_may_read_records(fx->f, NULL, cond), FSM_READ_OPEN);
    reopen(fx, "cond", "conditional");
    cond = fsm_entry(fx->f, "cond");
    assert_int_equal(fsm_may_read_records(fx->f, cit, cond), FSM_READ_GRANTED);
    assert_int_equal(fsm_may_read_records(fx->f, NULL, cond), FSM_READ_DENIED);
}

/* Who sets a calendar, what a calendar may say, and what it appends: one
 * CALENDAR fact per change (id = the year, versioned), its lists sorted. */
static void
test_open_calendar_set(void **state)
{
    struct fsmfx *fx = *state;
    static const struct {
        const char *who, *year, *body, *field;
        int status;
    } rows[] = {
        { "admin", "2026",
          "{\"holidays\":[\"2026-10-02\",\"2026-10-01\"],\"workdays\":"
          "[\"2026-10-10\",\"2026-09-27\"]}",
          NULL, 200 },
        { "auth2", "2026", "{\"holidays\":[\"2026-10-01\"]}", NULL, 200 },
        { "admin", "2027", "{}", NULL, 200 },
        { "ca", "2026", "{}", NULL, 403 }, /* a city authority */
        { "prov", "2026", "{}", NULL, 403 },
        { "aud", "2026", "{}", NULL, 403 },
        { "cit", "2026", "{}", NULL, 403 },
        { "gone", "2026", "{}", NULL, 401 },
        { "admin", "26", "{}", NULL, 400 },
        { "admin", "1969", "{}", NULL, 400 },
        { "admin", "2026", "{\"workdays\":[\"2026-10-09\"]}", "workdays[0]",
          400 }, /* a Friday */
        { "admin", "2026", "{\"holidays\":[\"2027-01-01\"]}", "holidays[0]",
          400 },
        { "admin", "2026",
          "{\"holidays\":[\"2026-10-01\",\"2026-10-02\",\"2026-10-01\"]}",
          "holidays[2]", 400 },
        { "admin", "2026",
          "{\"holidays\":[\"2026-10-10\"],\"workdays\":[\"2026-10-10\"]}",
          "workdays", 400 },
        { "admin", "2026", "{\"holidays\":[\"2026-02-30\"]}", "holidays[0]",
          400 },
        { "admin", "2026", "{\"holidays\":\"2026-10-01\"}", "holidays", 400 },
        { "admin", "2026", "{\"weekends\":[]}", NULL, 400 },
        { "admin", "2026", "[]", NULL, 400 },
        { "ca", "2026", "{\"workdays\":[\"2026-10-09\"]}", "workdays[0]",
          400 }, /* syntax before role */
    };
    char many[8192];
    size_t len;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint64_t before = led_count(fsm_led(fx->f)), version;
        uint32_t kind;
        char id[64];
        struct fsm_result r =
            run(fx, CMD_CALENDAR_SET, rows[i].who, rows[i].year, rows[i].body);
        json_t *p;

        if (r.status != rows[i].status) {
            fail_msg("row %zu (%s %s): %d %s, want %d", i, rows[i].who,
                     rows[i].year, r.status, r.message, rows[i].status);
        }
        assert_int_equal(led_count(fsm_led(fx->f)), before + 1);
        p = last_fact(fx, &kind, &version, id);
        assert_int_equal(kind,
                         r.status == 200 ? FACT_CALENDAR : FACT_REJECTION);
        if (rows[i].field != NULL) {
            assert_string_equal(json_string_value(json_object_get(
                                    json_object_get(p, "detail"), "field")),
                                rows[i].field);
        }
        json_decref(p);
        if (i == 0) {
            char *text = NULL;
            struct fact f;

            assert_int_equal(led_get(fsm_led(fx->f), before + 1, &f), PC_OK);
            text = pc_strndup((const char *)f.payload.p, f.payload.len);
            assert_string_equal(
                text, "{\"holidays\":[\"2026-10-01\",\"2026-10-02\"],"
                      "\"workdays\":[\"2026-09-27\",\"2026-10-10\"]}");
            pc_free(text);
            assert_string_equal(id, "2026");
            assert_int_equal(version, 1);
        }
    }
    /* The calendar in force: the latest version. */
    const struct fsm_calendar *c = fsm_calendar(fx->f, 2026);
    assert_non_null(c);
    assert_int_equal(c->cal.n_holidays, 1);
    assert_int_equal(c->cal.n_workdays, 0);
    assert_null(fsm_calendar(fx->f, 2028));
    assert_non_null(fsm_calendar(fx->f, 2027));
    /* A calendar must leave at least 10 working days. */
    len = (size_t)snprintf(many, sizeof(many), "{\"holidays\":[");
    for (int64_t d = pc_days_from_civil(2029, 1, 1);
         d < pc_days_from_civil(2029, 12, 20); d++) {
        char s[CAL_DATE_LEN + 1];

        cal_format_day(s, d);
        len +=
            (size_t)snprintf(many + len, sizeof(many) - len, "%s\"%s\"",
                             d == pc_days_from_civil(2029, 1, 1) ? "" : ",", s);
    }
    snprintf(many + len, sizeof(many) - len, "]}");
    struct fsm_result r = run(fx, CMD_CALENDAR_SET, "admin", "2029", many);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.message, "only 8 working days"));
}

/* (Dates in 2037 and 2038, whose calendars are 2026's and 2027's: the
 * fixture's ledger time is past March 2026.) */

/* A calendar changed while requests are pending: their due dates are
 * recomputed (a decided request's stays as it was decided), and only the
 * requests whose due date consulted that year are; a request across New
 * Year consults both years. The state rebuilt from the facts agrees. */
static void
test_open_due_follows_calendar(void **state)
{
    struct fsmfx *fx = *state;
    char ra[32], rb[32], rc[32], rd[32], s[CAL_DATE_LEN + 1];
    const struct fsm_open_request *a, *b, *c, *d;
    struct fsm *twin;

    /* Friday evening in Shanghai. */
    at(fx, local_ms(2037, 3, 6, 20, 0));
    file_ok(fx, "cit", "cond", ra);
    file_ok(fx, "cit2", "cond", rc);
    at(fx, local_ms(2037, 3, 10, 10, 0)); /* Tuesday */
    file_ok(fx, "prov2", "cond", rb);
    a = fsm_open_request(fx->f, ra);
    b = fsm_open_request(fx->f, rb);
    c = fsm_open_request(fx->f, rc);
    assert_string_equal(due_str(a, s), "2037-03-20");
    assert_true(a->due.provisional);
    assert_string_equal(due_str(b, s), "2037-03-24");
    assert_int_equal(a->due.at_ms,
                     local_ms(2037, 3, 21, 0, 0) - 1); /* 15:59:59.999Z */
    assert_int_equal(decide(fx, "prov", rc, APPROVE), 200);
    assert_int_equal(fsm_open_pending_in_year(fx->f, 2037), 2);
    assert_int_equal(fsm_open_pending_in_year(fx->f, 2038), 0);

    /* A holiday on Monday Mar 16. */
    assert_int_equal(run(fx, CMD_CALENDAR_SET, "admin", "2037",
                         "{\"holidays\":[\"2037-03-16\"]}")
                         .status,
                     200);
    assert_string_equal(due_str(a, s), "2037-03-23");
    assert_false(a->due.provisional);
    assert_string_equal(due_str(b, s), "2037-03-25");
    assert_string_equal(due_str(c, s), "2037-03-20"); /* decided: frozen */
    assert_true(c->due.provisional);
    /* Changed again: no holiday, a make-up working Saturday Mar 14. */
    assert_int_equal(run(fx, CMD_CALENDAR_SET, "admin", "2037",
                         "{\"workdays\":[\"2037-03-14\"]}")
                         .status,
                     200);
    assert_string_equal(due_str(a, s), "2037-03-19");
    assert_string_equal(due_str(b, s), "2037-03-23");
    /* Received Thursday Dec 24: consults 2037 and 2038 (unset). */
    at(fx, local_ms(2037, 12, 24, 9, 0));
    file_ok(fx, "cit", "cond2", rd);
    d = fsm_open_request(fx->f, rd);
    assert_string_equal(due_str(d, s), "2038-01-07");
    assert_true(d->due.provisional);
    assert_int_equal(d->due.first_year, 2037);
    assert_int_equal(d->due.last_year, 2038);
    assert_int_equal(fsm_open_pending_in_year(fx->f, 2037), 3);
    assert_int_equal(fsm_open_pending_in_year(fx->f, 2038), 1);
    /* 2038's calendar recomputes that one request, no other. */
    assert_int_equal(run(fx, CMD_CALENDAR_SET, "admin", "2038",
                         "{\"holidays\":[\"2038-01-01\"]}")
                         .status,
                     200);
    assert_string_equal(due_str(d, s), "2038-01-08");
    assert_false(d->due.provisional);
    assert_string_equal(due_str(a, s), "2037-03-19");
    /* A 2037 holiday on Dec 31 moves it (it consulted 2037 too). */
    assert_int_equal(run(fx, CMD_CALENDAR_SET, "admin", "2037",
                         "{\"holidays\":[\"2037-12-31\"],\"workdays\":"
                         "[\"2037-03-14\"]}")
                         .status,
                     200);
    assert_string_equal(due_str(d, s), "2038-01-11");
    assert_string_equal(due_str(a, s), "2037-03-19");
    /* Deciding takes it out of the year index. */
    assert_int_equal(decide(fx, "prov", rd, REJECT), 200);
    assert_int_equal(fsm_open_pending_in_year(fx->f, 2038), 0);
    assert_int_equal(fsm_open_pending_in_year(fx->f, 2037), 2);
    assert_true(d->answered_late == false);

    /* The same state from the facts alone. */
    twin = fsmfx_rebuilt(fx);
    const char *const ids[] = { ra, rb, rc, rd };
    for (size_t i = 0; i < 4; i++) {
        const struct fsm_open_request *x = fsm_open_request(fx->f, ids[i]);
        const struct fsm_open_request *y = fsm_open_request(twin, ids[i]);

        assert_non_null(y);
        assert_int_equal(x->due.day, y->due.day);
        assert_int_equal(x->due.at_ms, y->due.at_ms);
        assert_int_equal(x->due.provisional, y->due.provisional);
        assert_int_equal(x->status, y->status);
        assert_int_equal(x->last_rev, y->last_rev);
    }
    assert_int_equal(fsm_open_pending_in_year(twin, 2037), 2);
    assert_string_equal(fsm_open_grant(twin, fsm_principal(twin, "cit2"),
                                       fsm_entry(twin, "cond")),
                        rc);
    fsm_free(twin);
}

static size_t
list(struct fsmfx *fx, const char *who, int status, int overdue,
     const char *entry, int64_t at_ms, uint64_t after, size_t limit,
     char ids[][32], bool *more)
{
    const struct fsm_open_request **items;
    struct fsm_open_filter flt = { status, overdue, entry, at_ms };
    size_t n;

    assert_int_equal(fsm_open_list(fx->f, fsm_principal(fx->f, who), &flt,
                                   after, limit, &items, &n, more),
                     PC_OK);
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], 32, "%s", items[i]->id);
    }
    pc_free(items);
    return n;
}

/* Listings: own requests, the provider org's, the authority's scope, with
 * status, overdue and entry filters and pages; and the evaluation
 * counters per org, per entry and overall. */
static void
test_open_list_and_stats(void **state)
{
    struct fsmfx *fx = *state;
    char r1[32], r2[32], r3[32], r4[32], got[8][32];
    struct fsm_open_stats st;
    bool more;
    int64_t t0, later;

    at(fx, local_ms(2037, 3, 6, 20, 0)); /* Friday evening */
    t0 = fx->now;
    file_ok(fx, "cit", "cond", r1);
    file_ok(fx, "cit2", "cond", r2);
    file_ok(fx, "cit", "cond2", r3);
    file_ok(fx, "prov2", "cond2", r4);
    /* r1 approved on Wednesday (3 working days), r2 rejected the Monday
     * after the due date (11 working days, late). */
    at(fx, local_ms(2037, 3, 11, 9, 0));
    assert_int_equal(decide(fx, "prov", r1, APPROVE), 200);
    at(fx, local_ms(2037, 3, 23, 9, 0));
    assert_int_equal(decide(fx, "prov_b", r2, REJECT), 200);
    assert_true(fsm_open_request(fx->f, r2)->answered_late);
    later = fx->now;

    assert_int_equal(list(fx, "cit", -1, -1, NULL, later, 0, 10, got, &more),
                     2);
    assert_string_equal(got[0], r1);
    assert_string_equal(got[1], r3);
    assert_int_equal(list(fx, "prov", -1, -1, NULL, later, 0, 10, got, &more),
                     4);
    assert_int_equal(list(fx, "dcons", -1, -1, NULL, later, 0, 10, got, &more),
                     4);
    assert_int_equal(list(fx, "admin", -1, -1, NULL, later, 0, 10, got, &more),
                     4);
    assert_int_equal(list(fx, "ca", -1, -1, NULL, later, 0, 10, got, &more), 0);
    assert_int_equal(list(fx, "prov2", -1, -1, NULL, later, 0, 10, got, &more),
                     1);
    assert_string_equal(got[0], r4);
    assert_int_equal(list(fx, "cons2", -1, -1, NULL, later, 0, 10, got, &more),
                     0);
    assert_int_equal(
        list(fx, "prov", FSM_OPEN_APPROVED, -1, NULL, later, 0, 10, got, &more),
        1);
    assert_string_equal(got[0], r1);
    assert_int_equal(
        list(fx, "prov", -1, -1, "cond2", later, 0, 10, got, &more), 2);
    /* Overdue: pending and ledger time past due_at (2037-03-20T15:59:59.999Z).
     */
    assert_int_equal(list(fx, "prov", -1, 1, NULL, later, 0, 10, got, &more),
                     2);
    assert_string_equal(got[0], r3);
    assert_string_equal(got[1], r4);
    assert_int_equal(list(fx, "prov", -1, 1, NULL, local_ms(2037, 3, 21, 0, 0),
                          0, 10, got, &more),
                     2);
    assert_int_equal(list(fx, "prov", -1, 1, NULL,
                          local_ms(2037, 3, 21, 0, 0) - 1, 0, 10, got, &more),
                     0);
    assert_int_equal(list(fx, "prov", -1, 0, NULL, later, 0, 10, got, &more),
                     2);
    /* Pages in revision order. */
    assert_int_equal(list(fx, "prov", -1, -1, NULL, later, 0, 3, got, &more),
                     3);
    assert_true(more);
    assert_string_equal(got[2], r3);
    assert_int_equal(list(fx, "prov", -1, -1, NULL, later,
                          fsm_open_request(fx->f, r3)->rev, 3, got, &more),
                     1);
    assert_false(more);
    assert_string_equal(got[0], r4);
    assert_int_equal(list(fx, "cit", -1, -1, NULL, later, 0, 1, got, &more), 1);
    assert_true(more);

    /* Counters. */
    fsm_open_stats(fx->f, NULL, NULL, later, &st);
    assert_int_equal(st.pending, 2);
    assert_int_equal(st.approved, 1);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.answered_late, 1);
    assert_int_equal(st.overdue, 2);
    assert_int_equal(st.median_days, 3); /* lower median of 3 and 11 */
    assert_int_equal(st.mean_ms, ((local_ms(2037, 3, 11, 9, 0) - t0) +
                                  (local_ms(2037, 3, 23, 9, 0) - (t0 + 1000))) /
                                     2);
    fsm_open_stats(fx->f, NULL, NULL, t0, &st);
    assert_int_equal(st.overdue, 0);
    fsm_open_stats(fx->f, "dept", NULL, later, &st);
    assert_int_equal(st.pending + st.approved + st.rejected, 4);
    assert_int_equal(st.overdue, 2);
    fsm_open_stats(fx->f, "dept2", NULL, later, &st);
    assert_int_equal(st.pending + st.approved + st.rejected, 0);
    assert_int_equal(st.median_days, -1);
    assert_int_equal(st.mean_ms, -1);
    fsm_open_stats(fx->f, NULL, "cond", later, &st);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.approved, 1);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.overdue, 0);
    fsm_open_stats(fx->f, NULL, "cond2", later, &st);
    assert_int_equal(st.pending, 2);
    assert_int_equal(st.overdue, 2);
    assert_int_equal(st.median_days, -1);
    /* Deciding an overdue request moves it to late answers. */
    assert_int_equal(decide(fx, "prov", r3, APPROVE), 200);
    fsm_open_stats(fx->f, NULL, NULL, fx->now, &st);
    assert_int_equal(st.answered_late, 2);
    assert_int_equal(st.overdue, 1);
    assert_int_equal(st.median_days, 11); /* of 3, 11, 11 */

    /* Rebuilt: the same counters. */
    struct fsm *twin = fsmfx_rebuilt(fx);
    struct fsm_open_stats st2;
    fsm_open_stats(twin, NULL, NULL, fx->now, &st2);
    assert_memory_equal(&st, &st2, sizeof(st));
    fsm_free(twin);
}

/* Repeats with the same Idempotency-Key replay the original answer and
 * append nothing: a request, a decision. */
static void
test_open_idempotent(void **state)
{
    struct fsmfx *fx = *state;
    char b[300], id[32];
    uint64_t n;
    struct fsm_result r1, r2;

    body_for(b, sizeof(b), "cond");
    r1 = fsmfx_run(fx, CMD_OPEN_REQUEST, "cit", NULL, b, NULL, "k1");
    assert_int_equal(r1.status, 201);
    n = led_count(fsm_led(fx->f));
    r2 = fsmfx_run(fx, CMD_OPEN_REQUEST, "cit", NULL, b, NULL, "k1");
    assert_int_equal(r2.status, 201);
    assert_true(r2.replayed);
    assert_int_equal(r2.first_rev, r1.first_rev);
    assert_int_equal(led_count(fsm_led(fx->f)), n);
    snprintf(id, sizeof(id), "or-%llu", (unsigned long long)r1.first_rev);
    r1 = fsmfx_run(fx, CMD_OPEN_DECIDE, "prov", id, APPROVE, NULL, "k2");
    assert_int_equal(r1.status, 200);
    r2 = fsmfx_run(fx, CMD_OPEN_DECIDE, "prov", id, APPROVE, NULL, "k2");
    assert_int_equal(r2.status, 200); /* not 409: the same answer */
    assert_true(r2.replayed);
}

/* Out of memory anywhere in apply (parses, payloads, the ledger, derived
 * state: requests, the year index, recomputations, counters, grants) is
 * never a verdict: the ledger and its root stay as they were. */
static void
test_open_oom(void **state)
{
    struct fsmfx *fx = *state;
    char b[300], id[32];
    struct fsm_result r;

    at(fx, local_ms(2026, 12, 24, 9, 0));
    r = fsmfx_oom_run(fx, CMD_OPEN_REQUEST, "cit", NULL,
                      body_for(b, sizeof(b), "cond"), NULL, NULL, 201);
    snprintf(id, sizeof(id), "or-%llu", (unsigned long long)r.first_rev);
    fsmfx_oom_run(fx, CMD_OPEN_REQUEST, "cit2", NULL,
                  body_for(b, sizeof(b), "pub"), NULL, NULL, 409);
    /* Recomputes the pending request. */
    fsmfx_oom_run(fx, CMD_CALENDAR_SET, "admin", "2027",
                  "{\"holidays\":[\"2027-01-01\"]}", NULL, NULL, 200);
    fsmfx_oom_run(fx, CMD_CALENDAR_SET, "admin", "2027",
                  "{\"workdays\":[\"2027-01-01\"]}", NULL, NULL, 400);
    fsmfx_oom_run(fx, CMD_OPEN_DECIDE, "cit", id, APPROVE, NULL, NULL, 403);
    fsmfx_oom_run(fx, CMD_OPEN_DECIDE, "prov", id, APPROVE, NULL, NULL, 200);
    assert_non_null(fsm_open_grant(fx->f, fsm_principal(fx->f, "cit"),
                                   fsm_entry(fx->f, "cond")));
    {
        char s[CAL_DATE_LEN + 1];

        assert_string_equal(due_str(fsm_open_request(fx->f, id), s),
                            "2027-01-08");
    }
}

/* Genesis carries a --holidays file's calendars: one CALENDAR fact per
 * year after the admin principal; a bad one is a malformed genesis that
 * appends nothing. The file's own check names the place of a problem. */
static void
test_open_genesis_calendars(void **state)
{
    static const char *const bad[][2] = {
        { "[]", "must be a JSON object of 1-100 years" },
        { "{}", "must be a JSON object of 1-100 years" },
        { "{\"27\":{}}", "\"27\": a key must be a year" },
        { "{\"2027\":{\"holidays\":[\"2027-13-01\"]}}",
          "\"2027\".holidays[0]: holidays[0] must be a date YYYY-MM-DD" },
        { "{\"2027\":{},\"2028\":{\"workdays\":[\"2028-01-03\"]}}",
          "\"2028\".workdays[0]: workdays[0]: 2028-01-03 is a Monday; a "
          "make-up working day must fall on a Saturday or Sunday" },
        { "{\"2027\":{\"holiday\":[]}}",
          "\"2027\": unknown field \"holiday\"" },
        { "{\"2027\":{},\"2027\":{}}", "malformed JSON: " },
        { "{\"2027\":[]}", "\"2027\": a calendar must be a JSON object" },
    };
    char em[PC_ERRMSG_SIZE], h[PC_HASH_HEX_LEN + 1], extra[600];
    struct fsm_result r;
    struct pc_buf canon;
    struct fsmfx *fx;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pc_buf_init(&canon);
        assert_int_equal(
            fsm_holidays_check(bad[i][0], strlen(bad[i][0]), &canon, em),
            PC_EINVAL);
        if (strncmp(em, bad[i][1], strlen(bad[i][1])) != 0) {
            fail_msg("%s: \"%s\", want \"%s\"", bad[i][0], em, bad[i][1]);
        }
        assert_int_equal(canon.len, 0);
        pc_buf_release(&canon);
    }
    pc_buf_init(&canon);
    assert_int_equal(
        fsm_holidays_check("{\"2028\":{\"workdays\":[\"2028-01-08\"]}, "
                           "\"2027\":{\"holidays\":[\"2027-01-01\","
                           "\"2026-12-31\"]}}",
                           strlen("{\"2028\":{\"workdays\":[\"2028-01-08\"]}, "
                                  "\"2027\":{\"holidays\":[\"2027-01-01\","
                                  "\"2026-12-31\"]}}"),
                           &canon, em),
        PC_EINVAL); /* 2026-12-31 is not in 2027 */
    assert_non_null(strstr(em, "\"2027\".holidays[1]"));
    canon.len = 0;
    assert_int_equal(
        fsm_holidays_check("{\"2028\":{\"workdays\":[\"2028-01-08\"]}, "
                           "\"2027\":{\"holidays\":[\"2027-02-01\","
                           "\"2027-01-01\"]}}",
                           strlen("{\"2028\":{\"workdays\":[\"2028-01-08\"]}, "
                                  "\"2027\":{\"holidays\":[\"2027-02-01\","
                                  "\"2027-01-01\"]}}"),
                           &canon, em),
        PC_OK);
    assert_int_equal(canon.len,
                     strlen("{\"2027\":{\"holidays\":[\"2027-01-01\","
                            "\"2027-02-01\"],\"workdays\":[]},\"2028\":{"
                            "\"holidays\":[],\"workdays\":[\"2028-01-08\"]}}"));
    assert_memory_equal(canon.data,
                        "{\"2027\":{\"holidays\":[\"2027-01-01\","
                        "\"2027-02-01\"],\"workdays\":[]},\"2028\":{"
                        "\"holidays\":[],\"workdays\":[\"2028-01-08\"]}}",
                        canon.len);

    /* Genesis with those calendars. */
    fx = test_calloc(1, sizeof(*fx));
    assert_int_equal(fsm_new(&fx->f), PC_OK);
    fx->now = FSMFX_EPOCH_MS;
    fx->step_ms = 1000;
    cmdfx_hash_hex("admin", h);
    snprintf(extra, sizeof(extra),
             "{\"calendar\":{\"2026\":{\"holidays\":[\"2027-01-01\"]}},"
             "\"cluster_id\":\"00112233445566778899aabbccddeeff\","
             "\"token_hash\":\"%s\"}",
             h);
    r = fsmfx_run(fx, CMD_GENESIS, NULL, NULL, NULL, extra, NULL);
    assert_int_equal(r.status, 400); /* a day of another year */
    assert_int_equal(led_count(fsm_led(fx->f)), 0);
    snprintf(extra, sizeof(extra),
             "{\"calendar\":{\"2026\":{\"workdays\":[\"2026-12-30\"]}},"
             "\"cluster_id\":\"00112233445566778899aabbccddeeff\","
             "\"token_hash\":\"%s\"}",
             h);
    r = fsmfx_run(fx, CMD_GENESIS, NULL, NULL, NULL, extra, NULL);
    assert_int_equal(r.status, 400); /* a Wednesday */
    assert_int_equal(led_count(fsm_led(fx->f)), 0);
    snprintf(extra, sizeof(extra),
             "{\"calendar\":%.*s,\"cluster_id\":"
             "\"00112233445566778899aabbccddeeff\",\"token_hash\":\"%s\"}",
             (int)canon.len, (const char *)canon.data, h);
    r = fsmfx_run(fx, CMD_GENESIS, NULL, NULL, NULL, extra, NULL);
    assert_int_equal(r.status, 201);
    assert_int_equal(r.n_facts, 5); /* cluster, org, admin, 2027, 2028 */
    assert_int_equal(fsm_calendar(fx->f, 2027)->cal.n_holidays, 2);
    assert_int_equal(fsm_calendar(fx->f, 2028)->cal.n_workdays, 1);
    assert_int_equal(fsm_calendar(fx->f, 2027)->rev, 4);
    assert_null(fsm_calendar(fx->f, 2026));
    pc_buf_release(&canon);
    fsmfx_free(fx);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_request_who_and_what, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_open_decide_who_and_when, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_open_read_access, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_open_calendar_set, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_open_due_follows_calendar, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_open_list_and_stats, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_open_idempotent, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_open_oom, setup, fsmfx_teardown),
        cmocka_unit_test(test_open_genesis_calendars),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("open", tests, NULL, NULL);
}
