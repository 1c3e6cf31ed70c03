/* SPDX-License-Identifier: MIT */
/*
 * The reports' counters and the audit log's index, against recounts by
 * brute force over the whole ledger: quality per entry (records, versions,
 * retired, last write, refused writes by code, completeness before, during
 * and after the recount a change of required fields starts, redactions),
 * timeliness at the period boundaries of every frequency, entries by class
 * per provider org, overdue open requests, and audit-log queries (every
 * filter, paging with small pages, the work bound, a city authority's
 * scope); a rebuild from the ledger gives the same answers, and every
 * allocation failure in apply leaves the counters right.
 */
#include "tests/lib/fsmfx.h"
#include "tests/lib/test.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/jcs.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/idx.h"
#include "storage/led.h"

#define SALT_HEX "00112233445566778899aabbccddeeff"
#define SALT     "{\"salt\":\"" SALT_HEX "\"}"
#define DAY      (86400000LL)

static struct fsm_result
run(struct fsmfx *fx, uint32_t type, const char *who, const char *target,
    const char *body, const char *extra)
{
    return fsmfx_run(fx, type, who, target, body, extra, NULL);
}

/* An entry body: `fields` the inside of its "fields" array. */
static void
entry_body(char *b, size_t cap, const char *id, const char *provider,
           const char *scope, const char *fields, const char *share,
           const char *open, const char *freq)
{
    snprintf(b, cap,
             "{\"id\":\"%s\",\"title\":\"t %s\",\"provider\":\"%s\","
             "\"fields\":[%s],\"share\":{\"class\":\"%s\"%s},"
             "\"open\":{\"class\":\"%s\"},\"update_frequency\":\"%s\","
             "\"security_level\":2,\"scope\":\"%s\"}",
             id, id, provider, fields, share,
             strcmp(share, "none") == 0 ? ",\"basis\":\"law\"" : "", open, freq,
             scope);
}

/* Create entry `id` as `who`, published unless `draft`. */
static void
mkentry(struct fsmfx *fx, const char *who, const char *id, const char *provider,
        const char *scope, const char *fields, const char *share,
        const char *open, const char *freq, bool draft)
{
    char b[2048];

    entry_body(b, sizeof(b), id, provider, scope, fields, share, open, freq);
    fsmfx_create_entry(fx, who, b);
    if (!draft) {
        fsmfx_publish(fx, who, "admin", id);
    }
}

/* Change entry `id`'s fields (and so its schema) and publish that. */
static void
reschema(struct fsmfx *fx, const char *id, const char *fields)
{
    const struct fsm_entry *e = fsm_entry(fx->f, id);
    char b[2048], x[64];
    struct fsm_result r;

    entry_body(b, sizeof(b), id, e->provider, e->scope, fields,
               e->public_share == FSM_CLASS_UNCONDITIONAL ? "unconditional"
               : e->public_share == FSM_CLASS_CONDITIONAL ? "conditional"
                                                          : "none",
               e->public_open == FSM_CLASS_UNCONDITIONAL ? "unconditional"
               : e->public_open == FSM_CLASS_CONDITIONAL ? "conditional"
                                                         : "none",
               "daily");
    snprintf(x, sizeof(x), "{\"if_match\":%llu}",
             (unsigned long long)e->version);
    r = run(fx, CMD_ENTRY_UPDATE, "prov", id, b, x);
    if (r.status != 200) {
        fail_msg("update %s: %d %s", id, r.status, r.message);
    }
    if (fsm_entry(fx->f, id)->status == FSM_ENTRY_SUBMITTED) {
        fsmfx_approve(fx, "admin", id);
    }
}

static int
put_as(struct fsmfx *fx, const char *who, const char *target, const char *doc)
{
    return run(fx, CMD_RECORD_PUT, who, target, doc, SALT).status;
}

static int
put(struct fsmfx *fx, const char *target, const char *doc)
{
    return put_as(fx, "prov", target, doc);
}

static int
retire(struct fsmfx *fx, const char *target)
{
    return run(fx, CMD_RECORD_RETIRE, "prov", target, "{\"reason\":\"gone\"}",
               NULL)
        .status;
}

static int
correct(struct fsmfx *fx, const char *target, const char *doc)
{
    char b[512];

    snprintf(b, sizeof(b), "{\"value\":%s,\"reason\":\"fix\"}", doc);
    return run(fx, CMD_RECORD_CORRECT, "prov", target, b, SALT).status;
}

/* An audit batch of `n` events of readers `who` (cycled), on entry e. */
static void
audit_batch(struct fsmfx *fx, const char *const *who, const char *const *orgs,
            size_t n_who, size_t n)
{
    struct fsm_audit_doc *d;
    struct pc_buf doc;
    struct fsm_result r;

    pc_buf_init(&doc);
    assert_int_equal(fsm_audit_doc_new(&d), PC_OK);
    for (size_t i = 0; i < n; i++) {
        char key[16];
        struct fsm_audit_event e = {
            .principal = who[i % n_who],
            .org = orgs[i % n_who],
            .action = i % 3 == 2 ? "record.list" : "record.read",
            .entry = i % 4 == 3 ? "ce" : "e",
            .key = key,
            .version = 1,
            .count = i % 3 == 2 ? 5 : -1,
            .at_ms = fx->now - 5 + (int64_t)i,
            .via = i % 5 == 4 ? "gr-1" : NULL,
        };

        /* Some keys need escapes: the index skips them in the text. */
        snprintf(key, sizeof(key), i % 5 == 1 ? "k\"%zu\\\u00e9" : "k%zu",
                 i % 7);
        e.key_len = strlen(key);
        if (i % 3 == 2) {
            e.key = NULL;
            e.key_len = 0;
        }
        assert_int_equal(fsm_audit_doc_add(d, &e), PC_OK);
    }
    assert_int_equal(fsm_audit_doc_finish(d, &doc), PC_OK);
    fsm_audit_doc_free(d);
    r = fsmfx_run_len(fx, CMD_AUDIT, NULL, NULL, doc.data, doc.len, SALT, NULL);
    assert_int_equal(r.status, 200);
    pc_buf_release(&doc);
}

/*
 * Orgs dept and dept2 (province), city (a city authority) and cdept under
 * it. Principals: prov (dept provider), prov2 (dept2 provider), cons
 * (dept2 consumer), aud (auditor), cit (citizen), cityauth (city's
 * authority), cprov (cdept provider); admin the provincial authority.
 * Entries: e (dept; a required, b optional; unconditional, daily), c
 * (dept; conditional share and open, weekly, no record), d (dept2, a
 * draft), ce (cdept, scope city:city, monthly). Records e/k1 (2
 * versions), e/k2, e/k3 (retired).
 */
static int
setup(void **state)
{
    struct fsmfx *fx = fsmfx_new("admin", 1000);

    fsmfx_org(fx, "dept", "authority", "province", false);
    fsmfx_org(fx, "dept2", "authority", "province", false);
    fsmfx_org(fx, "city", "authority", "city", true);
    fsmfx_org(fx, "cdept", "city", "city", false);
    fsmfx_principal(fx, "prov", "dept", "\"provider\"");
    fsmfx_principal(fx, "prov2", "dept2", "\"provider\"");
    fsmfx_principal(fx, "cons", "dept2", "\"consumer\"");
    fsmfx_principal(fx, "aud", "authority", "\"auditor\"");
    fsmfx_principal(fx, "cit", NULL, NULL);
    fsmfx_principal(fx, "cityauth", "city", "\"authority\"");
    fsmfx_principal(fx, "cprov", "cdept", "\"provider\"");
    mkentry(fx, "prov", "e", "dept", "province",
            "{\"name\":\"a\",\"type\":\"string\",\"required\":true},"
            "{\"name\":\"b\",\"type\":\"integer\"}",
            "unconditional", "unconditional", "daily", false);
    mkentry(fx, "prov", "c", "dept", "province",
            "{\"name\":\"a\",\"type\":\"string\",\"required\":true}",
            "conditional", "conditional", "weekly", false);
    mkentry(fx, "prov2", "d", "dept2", "province", "", "none", "none", "yearly",
            true);
    mkentry(fx, "cprov", "ce", "cdept", "city:city",
            "{\"name\":\"a\",\"type\":\"string\",\"required\":true}",
            "unconditional", "none", "monthly", false);
    assert_int_equal(put(fx, "e/k1", "{\"a\":\"x\"}"), 201);
    assert_int_equal(put(fx, "e/k1", "{\"a\":\"y\",\"b\":1}"), 200);
    assert_int_equal(put(fx, "e/k2", "{\"a\":\"x\",\"b\":2}"), 201);
    assert_int_equal(put(fx, "e/k3", "{\"a\":\"x\"}"), 201);
    assert_int_equal(retire(fx, "e/k3"), 200);
    *state = fx;
    return 0;
}

/* ---- recounts by brute force ---------------------------------------- */

/* Whether a record version's payload says it is retired (parsed). */
static bool
retired_payload(const struct fact *f)
{
    struct jcs_doc *d;
    const struct jcs_val *op, *ret;
    size_t len;
    bool out;

    assert_int_equal(
        jcs_parse((const char *)f->payload.p, f->payload.len, &d, NULL), PC_OK);
    op = jcs_get(jcs_root(d), "op", 2);
    ret = jcs_get(jcs_root(d), "retired", 7);
    out = (op != NULL && jcs_string(op, &len) != NULL && len == 6 &&
           memcmp(jcs_string(op, NULL), "retire", 6) == 0) ||
          (ret != NULL && jcs_type(ret) == JCS_TRUE);
    jcs_doc_free(d);
    return out;
}

struct recount {
    const struct fsm *f;
    const struct fsm_entry *e;
    uint64_t live, retired, versions, complete;
};

static bool
recount_cb(void *arg, struct pc_slice key, uint64_t latest, uint64_t rev)
{
    struct recount *r = arg;
    struct pc_buf json;
    struct jcs_doc *d;
    struct fact f;
    bool ok = true;
    int rc;

    (void)key;
    r->versions += latest;
    assert_int_equal(led_get(fsm_led(r->f), rev, &f), PC_OK);
    if (retired_payload(&f)) {
        r->retired++;
        return true;
    }
    r->live++;
    pc_buf_init(&json);
    rc = led_doc_get(fsm_led(r->f), rev, &json, NULL);
    if (rc == PC_EFORBIDDEN) {
        r->complete++; /* a redacted document counts as complete */
        pc_buf_release(&json);
        return true;
    }
    assert_int_equal(rc, PC_OK);
    assert_int_equal(jcs_parse((const char *)json.data, json.len, &d, NULL),
                     PC_OK);
    for (size_t i = 0; i < r->e->n_force_fields; i++) {
        const struct fsm_field *fd = &r->e->force_fields[i];
        const struct jcs_val *v =
            jcs_get(jcs_root(d), fd->name, strlen(fd->name));

        if (fd->required && (v == NULL || jcs_type(v) == JCS_NULL)) {
            ok = false;
        }
    }
    r->complete += ok;
    jcs_doc_free(d);
    pc_buf_release(&json);
    return true;
}

/* The quality of `entry` by scanning keys and the whole ledger, compared
 * with fsm_quality (whose recount must be over). */
static void
assert_quality_recount(const struct fsm *f, const char *entry)
{
    static const char *const writes[] = { "record.put", "record.batch",
                                          "record.batch2", "record.retire",
                                          "record.correct" };
    struct recount r = { f, fsm_entry(f, entry), 0, 0, 0, 0 };
    uint64_t rejected[FSM_REJECT_N] = { 0 }, last_rev = 0;
    int64_t last_ms = -1;
    struct fsm_quality q;

    assert_non_null(r.e);
    idx_scan(led_idx(fsm_led(f)), FACT_RECORD, PC_SLICE_STR(entry),
             (struct pc_slice){ NULL, 0 }, (struct pc_slice){ NULL, 0 },
             recount_cb, &r);
    for (uint64_t rev = 1; rev <= led_count(fsm_led(f)); rev++) {
        struct fact x;
        struct jcs_doc *d;
        const char *cmd, *code;

        assert_int_equal(led_get(fsm_led(f), rev, &x), PC_OK);
        if (x.parent.len != strlen(entry) ||
            memcmp(x.parent.p, entry, x.parent.len) != 0) {
            continue;
        }
        if (x.kind == FACT_RECORD) {
            last_rev = rev;
            last_ms = x.time_ms;
        }
        if (x.kind != FACT_REJECTION) {
            continue;
        }
        assert_int_equal(
            jcs_parse((const char *)x.payload.p, x.payload.len, &d, NULL),
            PC_OK);
        cmd = jcs_string(jcs_get(jcs_root(d), "command", 7), NULL);
        code = jcs_string(jcs_get(jcs_root(d), "code", 4), NULL);
        for (size_t w = 0; w < sizeof(writes) / sizeof(writes[0]); w++) {
            if (strcmp(cmd, writes[w]) == 0) {
                unsigned i = 0;

                while (i < FSM_REJECT_N - 1 &&
                       strcmp(code, fsm_reject_code_name(i)) != 0) {
                    i++;
                }
                rejected[i]++;
            }
        }
        jcs_doc_free(d);
    }
    assert_false(fsm_reports_pending(f));
    assert_int_equal(fsm_quality(f, entry, led_time(fsm_led(f)), &q), PC_OK);
    assert_string_equal(q.entry, entry);
    assert_int_equal(q.records, r.live);
    assert_int_equal(q.retired, r.retired);
    assert_int_equal(q.versions, r.versions);
    assert_int_equal(q.last_write_rev, last_rev);
    assert_int_equal(q.last_write_ms, last_ms);
    assert_int_equal(q.unchecked, 0);
    assert_int_equal(q.known, r.live);
    assert_int_equal(q.complete, r.complete);
    for (int i = 0; i < FSM_REJECT_N; i++) {
        if (q.rejected[i] != rejected[i]) {
            fail_msg("%s: rejected %s: %llu, recount %llu", entry,
                     fsm_reject_code_name((unsigned)i),
                     (unsigned long long)q.rejected[i],
                     (unsigned long long)rejected[i]);
        }
    }
}

/* While a recount runs: what is known adds up. */
static void
assert_quality_sane(const struct fsm *f, const char *entry)
{
    struct fsm_quality q;

    assert_int_equal(fsm_quality(f, entry, 0, &q), PC_OK);
    assert_int_equal(q.known + q.unchecked, q.records);
    assert_true(q.complete <= q.known);
}

/* Every quality counter of every entry, and the classes, the same in two
 * state machines (a live one and one rebuilt from its ledger). */
static void
assert_same_reports(const struct fsm *a, const struct fsm *b, int64_t now)
{
    static const char *const orgs[] = { "dept", "dept2", "cdept", NULL };

    for (size_t i = 0; i < 4; i++) {
        static const char *const ids[] = { "e", "c", "d", "ce" };
        struct fsm_quality x, y;

        assert_int_equal(fsm_quality(a, ids[i], now, &x), PC_OK);
        assert_int_equal(fsm_quality(b, ids[i], now, &y), PC_OK);
        assert_string_equal(x.entry, y.entry);
        assert_int_equal(x.records, y.records);
        assert_int_equal(x.retired, y.retired);
        assert_int_equal(x.versions, y.versions);
        assert_int_equal(x.last_write_ms, y.last_write_ms);
        assert_int_equal(x.last_write_rev, y.last_write_rev);
        assert_true((x.frequency == NULL) == (y.frequency == NULL));
        if (x.frequency != NULL) {
            assert_string_equal(x.frequency, y.frequency);
        }
        assert_int_equal(x.timeliness, y.timeliness);
        assert_int_equal(x.known, y.known);
        assert_int_equal(x.complete, y.complete);
        assert_int_equal(x.unchecked, y.unchecked);
        assert_int_equal(x.schema_rev, y.schema_rev);
        assert_memory_equal(x.rejected, y.rejected, sizeof(x.rejected));
        assert_int_equal(x.open_objections, y.open_objections);
    }
    for (size_t o = 0; o < sizeof(orgs) / sizeof(orgs[0]); o++) {
        struct fsm_entry_classes x, y;

        fsm_entry_classes(a, orgs[o], &x);
        fsm_entry_classes(b, orgs[o], &y);
        assert_memory_equal(&x, &y, sizeof(x));
    }
}

static void
step_all(struct fsm *f)
{
    for (int i = 0; fsm_reports_pending(f); i++) {
        fsm_reports_step(f, 3);
        assert_true(i < 100000);
    }
}

static const char *const entries[] = { "e", "c", "d", "ce" };
#define N_ENTRIES (sizeof(entries) / sizeof(entries[0]))

/* ---- timeliness ------------------------------------------------------- */

/* Each frequency's period: exactly the period since the last write is on
 * time, a millisecond more is late; no write is never; irregular is never
 * late; an unknown frequency is not judged. */
static void
test_reports_timeliness_table(void **state)
{
    static const struct {
        const char *freq;
        int64_t period;
    } periods[] = {
        { "realtime", 3600000LL }, { "daily", 2 * DAY },
        { "weekly", 8 * DAY },     { "monthly", 32 * DAY },
        { "quarterly", 93 * DAY }, { "yearly", 366 * DAY },
    };
    const int64_t t = 1790000000000LL;

    (void)state;
    for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
        const char *fq = periods[i].freq;
        int64_t p = periods[i].period;

        assert_int_equal(fsm_frequency_period_ms(fq), p);
        assert_int_equal(fsm_timeliness(fq, t, t), FSM_TIMELY_ON_TIME);
        assert_int_equal(fsm_timeliness(fq, t, t + p - 1), FSM_TIMELY_ON_TIME);
        assert_int_equal(fsm_timeliness(fq, t, t + p), FSM_TIMELY_ON_TIME);
        assert_int_equal(fsm_timeliness(fq, t, t + p + 1), FSM_TIMELY_LATE);
        assert_int_equal(fsm_timeliness(fq, -1, t + 10 * p), FSM_TIMELY_NEVER);
        assert_int_equal(fsm_timeliness(fq, -1, t), FSM_TIMELY_NEVER);
    }
    assert_int_equal(fsm_frequency_period_ms("irregular"), 0);
    assert_int_equal(fsm_timeliness("irregular", t, t + 3650 * DAY),
                     FSM_TIMELY_ON_TIME);
    assert_int_equal(fsm_timeliness("irregular", -1, t), FSM_TIMELY_NEVER);
    assert_int_equal(fsm_frequency_period_ms("hourly"), -1);
    assert_int_equal(fsm_frequency_period_ms(NULL), -1);
    assert_int_equal(fsm_timeliness("hourly", t, t), FSM_TIMELY_NONE);
    assert_int_equal(fsm_timeliness(NULL, t, t), FSM_TIMELY_NONE);
    assert_string_equal(fsm_timeliness_name(FSM_TIMELY_ON_TIME), "on_time");
    assert_string_equal(fsm_timeliness_name(FSM_TIMELY_LATE), "late");
    assert_string_equal(fsm_timeliness_name(FSM_TIMELY_NEVER), "never");
    assert_null(fsm_timeliness_name(FSM_TIMELY_NONE));
}

/* ---- quality ---------------------------------------------------------- */

/* The counts of the fixture, exactly, and by recount; timeliness per
 * entry state: a draft and... not judged, a published entry without
 * records never, e on time until two days pass. */
static void
test_reports_quality_counts(void **state)
{
    struct fsmfx *fx = *state;
    int64_t now = led_time(fsm_led(fx->f));
    struct fsm_quality q;
    uint64_t k1_rev;

    assert_int_equal(fsm_quality(fx->f, "e", now, &q), PC_OK);
    assert_int_equal(q.records, 2);
    assert_int_equal(q.retired, 1);
    assert_int_equal(q.versions, 5);
    assert_int_equal(q.complete, 2);
    assert_int_equal(q.unchecked, 0);
    assert_int_equal(q.rejected_total, 0);
    assert_int_equal(q.open_objections, 0);
    assert_string_equal(q.frequency, "daily");
    assert_int_equal(q.timeliness, FSM_TIMELY_ON_TIME);
    assert_int_equal(q.last_write_rev, led_count(fsm_led(fx->f)));
    assert_int_equal(q.last_write_ms, now);
    assert_int_equal(fsm_quality(fx->f, "e", now + 2 * DAY, &q), PC_OK);
    assert_int_equal(q.timeliness, FSM_TIMELY_ON_TIME);
    assert_int_equal(fsm_quality(fx->f, "e", now + 2 * DAY + 1, &q), PC_OK);
    assert_int_equal(q.timeliness, FSM_TIMELY_LATE);
    assert_int_equal(fsm_quality(fx->f, "c", now, &q), PC_OK);
    assert_int_equal(q.timeliness, FSM_TIMELY_NEVER);
    assert_int_equal(q.last_write_ms, -1);
    assert_string_equal(q.frequency, "weekly");
    assert_int_equal(fsm_quality(fx->f, "d", now, &q), PC_OK);
    assert_int_equal(q.timeliness, FSM_TIMELY_NONE);
    assert_null(q.frequency);
    assert_int_equal(fsm_quality(fx->f, "nope", now, &q), PC_ENOTFOUND);
    /* A correction of a retired record leaves it retired; a PUT revives. */
    assert_int_equal(correct(fx, "e/k3", "{\"a\":\"z\"}"), 200);
    assert_int_equal(fsm_quality(fx->f, "e", now, &q), PC_OK);
    assert_int_equal(q.records, 2);
    assert_int_equal(q.retired, 1);
    assert_int_equal(q.versions, 6);
    assert_int_equal(put(fx, "e/k3", "{\"a\":\"w\"}"), 201);
    assert_int_equal(fsm_quality(fx->f, "e", now, &q), PC_OK);
    assert_int_equal(q.records, 3);
    assert_int_equal(q.retired, 0);
    assert_int_equal(q.versions, 7);
    k1_rev = q.last_write_rev;
    assert_int_equal(fsm_quality(fx->f, "e", now, &q), PC_OK);
    assert_int_equal(q.last_write_rev, k1_rev);
    /* An objection counts until it is settled. */
    assert_int_equal(run(fx, CMD_OBJECTION_FILE, "cit", NULL,
                         "{\"entry\":\"e\",\"key\":\"k1\",\"kind\":\"error\","
                         "\"description\":\"wrong\"}",
                         NULL)
                         .status,
                     201);
    assert_int_equal(fsm_quality(fx->f, "e", now, &q), PC_OK);
    assert_int_equal(q.open_objections, 1);
    /* A retired entry is not judged, its counts stay. */
    assert_int_equal(
        run(fx, CMD_ENTRY_RETIRE, "prov", "c", "{\"reason\":\"old\"}", NULL)
            .status,
        200);
    assert_int_equal(fsm_quality(fx->f, "c", now, &q), PC_OK);
    assert_int_equal(q.timeliness, FSM_TIMELY_NONE);
    for (size_t i = 0; i < N_ENTRIES; i++) {
        assert_quality_recount(fx->f, entries[i]);
    }
}

/* Refused record writes by code, per entry; refused catalog commands and
 * refusals of other entries do not count. */
static void
test_reports_rejected_by_code(void **state)
{
    struct fsmfx *fx = *state;
    struct fsm_quality q;
    const struct {
        const char *who;
        uint32_t type;
        const char *target, *body, *extra;
        int status;
        const char *code;
    } cases[] = {
        { "prov", CMD_RECORD_PUT, "e/k9", "{\"b\":1}", SALT, 422, "invalid" },
        { "prov", CMD_RECORD_PUT, "e/k9", "{\"a\":1}", SALT, 422, "invalid" },
        { "prov", CMD_RECORD_PUT, "e/k1", "{\"a\":\"q\"}",
          "{\"salt\":\"" SALT_HEX "\",\"if_none_match\":true}", 409,
          "conflict" },
        { "prov2", CMD_RECORD_PUT, "e/k1", "{\"a\":\"q\"}", SALT, 403,
          "forbidden" },
        { "prov", CMD_RECORD_PUT, "e/k1", "[1]", SALT, 400, "bad_request" },
        { "prov", CMD_RECORD_RETIRE, "e/nokey", "{\"reason\":\"r\"}", NULL, 404,
          "not_found" },
        { "prov", CMD_RECORD_RETIRE, "e/k3", "{\"reason\":\"r\"}", NULL, 409,
          "conflict" },
        { "prov", CMD_RECORD_CORRECT, "e/k1", "{\"reason\":\"r\"}", SALT, 400,
          "bad_request" },
        { "prov", CMD_RECORD_PUT, "d/k1", "{}", SALT, 404, "not_found" },
        { "prov", CMD_ENTRY_SUBMIT, "e", NULL, NULL, 409, "conflict" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fsm_result r =
            run(fx, cases[i].type, cases[i].who, cases[i].target, cases[i].body,
                cases[i].extra);

        if (r.status != cases[i].status || strcmp(r.code, cases[i].code) != 0) {
            fail_msg("case %zu: %d %s (%s)", i, r.status, r.code, r.message);
        }
    }
    assert_int_equal(fsm_quality(fx->f, "e", 0, &q), PC_OK);
    assert_int_equal(q.rejected_total, 8);
    assert_int_equal(q.rejected[0], 2); /* bad_request */
    assert_int_equal(q.rejected[2], 1); /* forbidden */
    assert_int_equal(q.rejected[3], 1); /* not_found */
    assert_int_equal(q.rejected[4], 2); /* conflict */
    assert_int_equal(q.rejected[6], 2); /* invalid */
    assert_string_equal(fsm_reject_code_name(6), "invalid");
    assert_string_equal(fsm_reject_code_name(FSM_REJECT_N - 1), "other");
    assert_null(fsm_reject_code_name(FSM_REJECT_N));
    assert_int_equal(fsm_quality(fx->f, "d", 0, &q), PC_OK);
    assert_int_equal(q.rejected_total, 1);
    for (size_t i = 0; i < N_ENTRIES; i++) {
        assert_quality_recount(fx->f, entries[i]);
    }
}

/*
 * A change of required fields: the records written before are unknown
 * until the recount reaches them; writes, retirements, corrections and a
 * redaction during the recount keep what is known right; at the end the
 * counts equal the recount. Dropping a required field when every record
 * was complete needs no recount; a change of a non-required field none.
 */
static void
test_reports_completeness_schema_change(void **state)
{
    struct fsmfx *fx = *state;
    static const char *const ab =
        "{\"name\":\"a\",\"type\":\"string\",\"required\":true},"
        "{\"name\":\"b\",\"type\":\"integer\",\"required\":true}";
    struct fsm_quality q;
    char ob[32];

    /* More keys, with and without b: k1 (a, b), k2 (a, b), k4 (a), k5 (a),
     * k6 (a, b), k7 (a); k3 retired. */
    assert_int_equal(put(fx, "e/k4", "{\"a\":\"x\"}"), 201);
    assert_int_equal(put(fx, "e/k5", "{\"a\":\"x\",\"b\":null}"), 201);
    assert_int_equal(put(fx, "e/k6", "{\"a\":\"x\",\"b\":6}"), 201);
    assert_int_equal(put(fx, "e/k7", "{\"a\":\"x\"}"), 201);
    /* An objection on k7 to redact it later. */
    fsmfx_objection(fx, "cit", "e", "k7", "personal_information", "accept", ob);
    assert_int_equal(fsm_quality(fx->f, "e", 0, &q), PC_OK);
    assert_int_equal(q.records, 6);
    assert_int_equal(q.complete, 6);
    reschema(fx, "e", ab);
    assert_true(fsm_reports_pending(fx->f));
    assert_int_equal(fsm_quality(fx->f, "e", 0, &q), PC_OK);
    assert_int_equal(q.records, 6);
    assert_int_equal(q.unchecked, 6);
    assert_int_equal(q.known, 0);
    assert_int_equal(q.complete, 0);
    assert_int_equal(q.schema_rev, fsm_entry(fx->f, "e")->public_rev);
    /* Two keys walked (k1 complete, k2 complete). */
    assert_int_equal(fsm_reports_step(fx->f, 2), 2);
    assert_int_equal(fsm_quality(fx->f, "e", 0, &q), PC_OK);
    assert_int_equal(q.known, 2);
    assert_int_equal(q.complete, 2);
    /* A write to a walked key (k1: complete -> complete, known), to one
     * not reached (k4: now known complete), a retirement not reached
     * (k5), a write missing b refused. */
    assert_int_equal(put(fx, "e/k1", "{\"a\":\"n\",\"b\":7}"), 200);
    assert_int_equal(put(fx, "e/k4", "{\"a\":\"n\",\"b\":7}"), 200);
    assert_int_equal(retire(fx, "e/k5"), 200);
    assert_int_equal(put(fx, "e/k6", "{\"a\":\"n\"}"), 422);
    assert_quality_sane(fx->f, "e");
    assert_int_equal(fsm_quality(fx->f, "e", 0, &q), PC_OK);
    assert_int_equal(q.records, 5);
    assert_int_equal(q.known, 3);
    assert_int_equal(q.complete, 3);
    /* k3 (retired), k4 (counted), k5 (retired): three keys, nothing new. */
    assert_int_equal(fsm_reports_step(fx->f, 3), 3);
    assert_int_equal(fsm_quality(fx->f, "e", 0, &q), PC_OK);
    assert_int_equal(q.known, 3);
    /* k6 (complete), k7 (incomplete). */
    assert_int_equal(fsm_reports_step(fx->f, 2), 2);
    assert_int_equal(fsm_quality(fx->f, "e", 0, &q), PC_OK);
    assert_int_equal(q.known, 5);
    assert_int_equal(q.complete, 4);
    assert_true(fsm_reports_pending(fx->f)); /* it has not seen the end */
    assert_int_equal(fsm_reports_step(fx->f, 100), 0);
    assert_false(fsm_reports_pending(fx->f));
    assert_quality_recount(fx->f, "e");
    /* Redacting k7's only version (incomplete): counted complete now. */
    assert_int_equal(fsmfx_redact(fx, "admin", "e/k7", 1, ob), 200);
    assert_int_equal(fsm_quality(fx->f, "e", 0, &q), PC_OK);
    assert_int_equal(q.complete, 5);
    assert_quality_recount(fx->f, "e");
    /* Back to a alone required: every record was complete: no recount. */
    reschema(fx, "e",
             "{\"name\":\"a\",\"type\":\"string\",\"required\":true},"
             "{\"name\":\"b\",\"type\":\"integer\"}");
    assert_false(fsm_reports_pending(fx->f));
    assert_quality_recount(fx->f, "e");
    /* A non-required field added: the same required fields, no recount. */
    reschema(fx, "e",
             "{\"name\":\"a\",\"type\":\"string\",\"required\":true},"
             "{\"name\":\"b\",\"type\":\"integer\"},"
             "{\"name\":\"c\",\"type\":\"string\"}");
    assert_false(fsm_reports_pending(fx->f));
    /* Records without c, then c required: a recount finds them wanting,
     * and one written during it (k2, c given) is known at once. */
    reschema(fx, "e",
             "{\"name\":\"a\",\"type\":\"string\",\"required\":true},"
             "{\"name\":\"c\",\"type\":\"string\",\"required\":true}");
    assert_true(fsm_reports_pending(fx->f));
    assert_int_equal(put(fx, "e/k2", "{\"a\":\"n\",\"c\":\"c\"}"), 200);
    assert_int_equal(fsm_quality(fx->f, "e", 0, &q), PC_OK);
    assert_int_equal(q.known, 1);
    assert_int_equal(q.complete, 1);
    step_all(fx->f);
    assert_quality_recount(fx->f, "e");
    assert_int_equal(fsm_quality(fx->f, "e", 0, &q), PC_OK);
    assert_int_equal(q.complete, 2); /* k2 and the redacted k7 */
    /* Rebuilt: the same, once its recount is over. */
    {
        struct fsm *g = fsmfx_rebuilt(fx);
        struct fsm_quality q2;

        step_all(g);
        assert_int_equal(fsm_quality(g, "e", 0, &q2), PC_OK);
        assert_int_equal(q2.complete, q.complete);
        assert_int_equal(q2.known, q.known);
        assert_int_equal(q2.records, q.records);
        assert_quality_recount(g, "e");
        fsm_free(g);
    }
}

/* Entries in force by share and open class, per provider org and all,
 * against the entries themselves. */
static void
assert_classes_recount(const struct fsm *f)
{
    static const char *const orgs[] = { "dept", "dept2", "cdept", "city",
                                        NULL };
    struct fsm_entry_classes all, c;
    uint64_t sum = 0;

    fsm_entry_classes(f, NULL, &all);
    for (size_t o = 0; o < sizeof(orgs) / sizeof(orgs[0]); o++) {
        struct fsm_entry_classes want = { 0 };

        for (size_t i = 0; i < N_ENTRIES; i++) {
            const struct fsm_entry *e = fsm_entry(f, entries[i]);

            if (e->in_force &&
                (orgs[o] == NULL || strcmp(e->provider, orgs[o]) == 0)) {
                want.total++;
                want.share[e->public_share]++;
                want.open[e->public_open]++;
            }
        }
        fsm_entry_classes(f, orgs[o], &c);
        assert_memory_equal(&c, &want, sizeof(c));
        sum += orgs[o] != NULL ? c.total : 0;
    }
    assert_int_equal(sum, all.total);
}

/* Entries by class follow publication, class changes and retirement. */
static void
test_reports_entry_classes(void **state)
{
    struct fsmfx *fx = *state;
    struct fsm_entry_classes c;

    fsm_entry_classes(fx->f, "dept", &c);
    assert_int_equal(c.total, 2);
    assert_int_equal(c.share[FSM_CLASS_UNCONDITIONAL], 1);
    assert_int_equal(c.share[FSM_CLASS_CONDITIONAL], 1);
    assert_int_equal(c.open[FSM_CLASS_CONDITIONAL], 1);
    fsm_entry_classes(fx->f, "dept2", &c);
    assert_int_equal(c.total, 0); /* d is a draft */
    fsm_entry_classes(fx->f, "nobody", &c);
    assert_int_equal(c.total, 0);
    assert_classes_recount(fx->f);
    /* e's classes change: counted once approved. */
    {
        char b[1024], x[32];
        const struct fsm_entry *e = fsm_entry(fx->f, "e");

        entry_body(b, sizeof(b), "e", "dept", "province",
                   "{\"name\":\"a\",\"type\":\"string\",\"required\":true}",
                   "conditional", "none", "daily");
        snprintf(x, sizeof(x), "{\"if_match\":%llu}",
                 (unsigned long long)e->version);
        assert_int_equal(run(fx, CMD_ENTRY_UPDATE, "prov", "e", b, x).status,
                         200);
        fsm_entry_classes(fx->f, "dept", &c);
        assert_int_equal(c.share[FSM_CLASS_UNCONDITIONAL], 1);
        fsmfx_approve(fx, "admin", "e");
        fsm_entry_classes(fx->f, "dept", &c);
        assert_int_equal(c.share[FSM_CLASS_UNCONDITIONAL], 0);
        assert_int_equal(c.share[FSM_CLASS_CONDITIONAL], 2);
        assert_int_equal(c.open[FSM_CLASS_NONE], 1);
    }
    assert_int_equal(
        run(fx, CMD_ENTRY_RETIRE, "prov", "c", "{\"reason\":\"old\"}", NULL)
            .status,
        200);
    fsm_entry_classes(fx->f, "dept", &c);
    assert_int_equal(c.total, 1);
    fsmfx_publish(fx, "prov2", "admin", "d");
    fsm_entry_classes(fx->f, "dept2", &c);
    assert_int_equal(c.total, 1);
    assert_int_equal(c.share[FSM_CLASS_NONE], 1);
    assert_classes_recount(fx->f);
    {
        struct fsm *g = fsmfx_rebuilt(fx);

        assert_classes_recount(g);
        fsm_free(g);
    }
}

static bool
count_overdue_cb(void *arg, const struct fsm_open_request *r)
{
    (void)r;
    (*(int *)arg)++;
    return true;
}

/* Overdue open requests in one pass, as fsm_open_stats counts them. */
static void
test_reports_open_overdue_each(void **state)
{
    struct fsmfx *fx = *state;
    const char *body = "{\"entry\":\"c\",\"applicant\":\"me\",\"data_type\":"
                       "\"x\",\"description\":\"d\",\"purpose\":\"p\"}";
    struct fsm_open_stats st;
    int n = 0;

    assert_int_equal(run(fx, CMD_OPEN_REQUEST, "cit", NULL, body, NULL).status,
                     201);
    assert_int_equal(run(fx, CMD_OPEN_REQUEST, "cons", NULL, body, NULL).status,
                     201);
    fsm_open_overdue_each(fx->f, led_time(fsm_led(fx->f)), count_overdue_cb,
                          &n);
    assert_int_equal(n, 0);
    fsm_open_overdue_each(fx->f, led_time(fsm_led(fx->f)) + 60 * DAY,
                          count_overdue_cb, &n);
    assert_int_equal(n, 2);
    fsm_open_stats(fx->f, "dept", NULL, led_time(fsm_led(fx->f)) + 60 * DAY,
                   &st);
    assert_int_equal(st.overdue, 2);
}

/* Who may ask for which report, principal by principal (docs/rules.md,
 * Reports): quality of each entry, the evaluation, the audit log. */
static void
test_reports_who_may(void **state)
{
    struct fsmfx *fx = *state;
    static const struct {
        const char *who;
        bool quality;     /* fsm_may_report_quality */
        const char *sees; /* entries whose quality it sees, in order */
        bool evaluation, audit;
    } cases[] = {
        { "admin", true, "e c d ce", true, true },
        { "aud", true, "e c ce", true, true }, /* not the draft d */
        { "cityauth", true, "ce", true, true },
        { "prov", true, "e c", false, false },
        { "prov2", true, "d", false, false },
        { "cons", true, "d", false, false }, /* its org provides d */
        { "cprov", true, "ce", false, false },
        { "cit", false, "", false, false },
    };

    fsmfx_principal(fx, "gone", "dept", "\"auditor\"");
    fsmfx_revoke(fx, "gone");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct fsm_principal *p = fsm_principal(fx->f, cases[i].who);
        char sees[64] = "";

        for (size_t j = 0; j < N_ENTRIES; j++) {
            if (fsm_quality_visible(fx->f, p, fsm_entry(fx->f, entries[j]))) {
                snprintf(sees + strlen(sees), sizeof(sees) - strlen(sees),
                         "%s%s", sees[0] ? " " : "", entries[j]);
            }
        }
        if (fsm_may_report_quality(fx->f, p) != cases[i].quality ||
            strcmp(sees, cases[i].sees) != 0 ||
            fsm_may_read_evaluation(fx->f, p) != cases[i].evaluation ||
            fsm_may_read_audit(fx->f, p) != cases[i].audit) {
            fail_msg("%s: quality %d sees \"%s\" evaluation %d audit %d",
                     cases[i].who, fsm_may_report_quality(fx->f, p), sees,
                     fsm_may_read_evaluation(fx->f, p),
                     fsm_may_read_audit(fx->f, p));
        }
    }
    /* A revoked auditor, and the public: nothing. */
    {
        const struct fsm_principal *g = fsm_principal(fx->f, "gone");

        assert_false(fsm_may_report_quality(fx->f, g));
        assert_false(fsm_quality_visible(fx->f, g, fsm_entry(fx->f, "e")));
        assert_false(fsm_may_read_evaluation(fx->f, g));
        assert_false(fsm_may_read_audit(fx->f, g));
        assert_false(fsm_may_report_quality(fx->f, NULL));
        assert_false(fsm_quality_visible(fx->f, NULL, fsm_entry(fx->f, "e")));
        assert_false(fsm_may_read_evaluation(fx->f, NULL));
        assert_false(fsm_may_read_audit(fx->f, NULL));
    }
}

/* ---- the audit log ---------------------------------------------------- */

/* Every event of the ledger as a line, by brute force. */
struct lines {
    char **v;
    size_t n, cap;
};

static void
lines_add(struct lines *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        assert_non_null(l->v);
    }
    l->v[l->n] = strdup(s);
    assert_non_null(l->v[l->n]);
    l->n++;
}

static void
lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i]);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* The fields a filter looks at, and the event's identity. */
struct ev {
    uint64_t rev;
    uint32_t index;
    char principal[130], org[130], entry[130], action[64];
    int64_t at;
};

static void
ev_line(const struct ev *e, char *out, size_t cap)
{
    snprintf(out, cap, "%llu.%u %s %s %s %s %lld", (unsigned long long)e->rev,
             e->index, e->principal, e->org, e->entry, e->action,
             (long long)e->at);
}

static bool
ev_passes(const struct ev *e, const struct fsm_audit_filter *flt)
{
    return (flt->principal == NULL ||
            strcmp(e->principal, flt->principal) == 0) &&
           (flt->org == NULL || strcmp(e->org, flt->org) == 0) &&
           (flt->entry == NULL || strcmp(e->entry, flt->entry) == 0) &&
           (flt->action == NULL || strcmp(e->action, flt->action) == 0) &&
           e->at >= flt->since_ms && e->at <= flt->until_ms;
}

struct scan {
    const struct fsm_audit_filter *flt;
    struct lines *out;
    uint64_t rev;
    uint32_t index;
    bool (*visible)(const struct ev *e);
};

static bool
scan_read_cb(void *arg, const struct fsm_audit_event *e)
{
    struct scan *s = arg;
    struct ev ev;
    char line[512];

    memset(&ev, 0, sizeof(ev));
    ev.rev = s->rev;
    ev.index = s->index++;
    snprintf(ev.principal, sizeof(ev.principal), "%s", e->principal);
    snprintf(ev.org, sizeof(ev.org), "%s", e->org ? e->org : "");
    snprintf(ev.entry, sizeof(ev.entry), "%s", e->entry);
    snprintf(ev.action, sizeof(ev.action), "%s", e->action);
    ev.at = e->at_ms;
    if (ev_passes(&ev, s->flt) && (s->visible == NULL || s->visible(&ev))) {
        ev_line(&ev, line, sizeof(line));
        lines_add(s->out, line);
    }
    return true;
}

/* The events of the whole ledger that pass `flt`, by brute force: a
 * write fact's entry as docs/rules.md defines it. */
static void
scan_all(const struct fsm *f, const struct fsm_audit_filter *flt,
         bool (*visible)(const struct ev *e), struct lines *out)
{
    for (uint64_t rev = 1; rev <= led_count(fsm_led(f)); rev++) {
        struct scan sc = { flt, out, rev, 0, visible };
        const struct fsm_principal *p;
        struct ev ev;
        struct fact x;
        char line[512], id[130];

        assert_int_equal(led_get(fsm_led(f), rev, &x), PC_OK);
        if (x.kind == FACT_TICK) {
            continue;
        }
        if (x.kind == FACT_AUDIT) {
            assert_int_equal(
                fsm_audit_events(fsm_led(f), rev, scan_read_cb, &sc), PC_OK);
            continue;
        }
        memset(&ev, 0, sizeof(ev));
        ev.rev = rev;
        ev.at = x.time_ms;
        snprintf(ev.principal, sizeof(ev.principal), "%.*s",
                 (int)x.principal.len, (const char *)x.principal.p);
        p = fsm_principal(f, ev.principal);
        snprintf(ev.org, sizeof(ev.org), "%s",
                 p != NULL && p->org != NULL ? p->org : "");
        snprintf(ev.action, sizeof(ev.action), "%s", fact_kind_name(x.kind));
        snprintf(id, sizeof(id), "%.*s", (int)x.id.len, (const char *)x.id.p);
        if (x.kind == FACT_RECORD || x.kind == FACT_REDACTION) {
            snprintf(ev.entry, sizeof(ev.entry), "%.*s", (int)x.parent.len,
                     (const char *)x.parent.p);
        } else if (x.kind == FACT_ENTRY) {
            snprintf(ev.entry, sizeof(ev.entry), "%s", id);
        } else if (x.kind == FACT_SHARE_REQUEST || x.kind == FACT_GRANT ||
                   x.kind == FACT_OPEN_REQUEST || x.kind == FACT_OBJECTION ||
                   x.kind == FACT_REJECTION) {
            struct jcs_doc *d;
            const char *s;

            assert_int_equal(
                jcs_parse((const char *)x.payload.p, x.payload.len, &d, NULL),
                PC_OK);
            if (x.kind != FACT_REJECTION) {
                s = jcs_string(jcs_get(jcs_root(d), "entry", 5), NULL);
                snprintf(ev.entry, sizeof(ev.entry), "%s", s ? s : "");
            } else {
                s = jcs_string(jcs_get(jcs_root(d), "command", 7), NULL);
                if (strncmp(s, "record.", 7) == 0) {
                    snprintf(ev.entry, sizeof(ev.entry), "%.*s",
                             (int)x.parent.len, (const char *)x.parent.p);
                } else if (strncmp(s, "entry.", 6) == 0) {
                    snprintf(ev.entry, sizeof(ev.entry), "%s", id);
                }
            }
            jcs_doc_free(d);
        }
        if (ev_passes(&ev, flt) && (visible == NULL || visible(&ev))) {
            ev_line(&ev, line, sizeof(line));
            lines_add(out, line);
        }
    }
}

static bool
query_cb(void *arg, const struct fsm_audit_item *it)
{
    struct lines *out = arg;
    struct ev ev;
    char line[512];

    memset(&ev, 0, sizeof(ev));
    ev.rev = it->rev;
    ev.index = it->index;
    snprintf(ev.principal, sizeof(ev.principal), "%.*s", (int)it->principal.len,
             (const char *)it->principal.p);
    snprintf(ev.org, sizeof(ev.org), "%.*s", (int)it->org.len,
             (const char *)it->org.p);
    snprintf(ev.entry, sizeof(ev.entry), "%.*s", (int)it->entry.len,
             (const char *)it->entry.p);
    snprintf(ev.action, sizeof(ev.action), "%s", it->action);
    ev.at = it->at_ms;
    assert_true(it->fact != NULL && it->fact->revision == it->rev);
    assert_int_equal(it->read, it->fact->kind == FACT_AUDIT);
    ev_line(&ev, line, sizeof(line));
    lines_add(out, line);
    return true;
}

/* Every page of a query, `limit` at a time; the number of calls. */
static size_t
query_all(const struct fsm *f, const char *viewer,
          const struct fsm_audit_filter *flt, size_t limit, struct lines *out)
{
    struct fsm_audit_pos pos = { 0, 0 };
    size_t calls = 0;
    bool more;

    do {
        size_t before = out->n;

        assert_int_equal(fsm_audit_query(f, fsm_principal(f, viewer), flt,
                                         limit, &pos, &more, query_cb, out),
                         PC_OK);
        assert_true(out->n - before <= limit);
        calls++;
        assert_true(calls < 100000);
    } while (more);
    return calls;
}

static void
assert_same_lines(const struct lines *a, const struct lines *b,
                  const char *what)
{
    size_t n = a->n < b->n ? a->n : b->n;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(a->v[i], b->v[i]) != 0) {
            fail_msg("%s: item %zu: query \"%s\", scan \"%s\"", what, i,
                     a->v[i], b->v[i]);
        }
    }
    if (a->n != b->n) {
        fail_msg("%s: query %zu items, scan %zu", what, a->n, b->n);
    }
}

/* A history with writes of many kinds and audit batches. */
static void
audit_history(struct fsmfx *fx)
{
    static const char *const who[] = { "cons", "cit", "aud", "cityauth" };
    static const char *const orgs[] = { "dept2", NULL, "authority", "city" };

    audit_batch(fx, who, orgs, 4, 30);
    assert_int_equal(put_as(fx, "cprov", "ce/x1", "{\"a\":\"x\"}"), 201);
    assert_int_equal(put(fx, "e/k9", "{\"b\":1}"), 422);
    assert_int_equal(run(fx, CMD_SHARE_REQUEST, "cons", NULL,
                         "{\"entry\":\"c\",\"purpose\":\"p\",\"days\":3}", NULL)
                         .status,
                     201);
    assert_int_equal(run(fx, CMD_OBJECTION_FILE, "cit", NULL,
                         "{\"entry\":\"ce\",\"key\":\"x1\",\"kind\":\"error\","
                         "\"description\":\"wrong\"}",
                         NULL)
                         .status,
                     201);
    audit_batch(fx, who + 1, orgs + 1, 2, 7);
    assert_int_equal(put(fx, "e/k1", "{\"a\":\"z\"}"), 200);
    fx->now += 100000;
    audit_batch(fx, who, orgs, 1, 3);
    assert_int_equal(put_as(fx, "cprov", "ce/x2", "{\"a\":\"x\"}"), 201);
}

/* Queries with every filter and page size give what a scan of the whole
 * ledger gives, in the same order. */
static void
test_reports_audit_matches_scan(void **state)
{
    struct fsmfx *fx = *state;
    int64_t t_mid;
    struct fsm_audit_filter base = { NULL, NULL,      NULL,
                                     NULL, INT64_MIN, INT64_MAX };

    audit_history(fx);
    t_mid = led_time(fsm_led(fx->f)) - 50000;
    struct fsm_audit_filter flts[14];
    for (size_t i = 0; i < 14; i++) {
        flts[i] = base;
    }
    flts[1].principal = "cons";
    flts[2].principal = "prov";
    flts[3].org = "dept";
    flts[4].org = "dept2";
    flts[5].entry = "e";
    flts[6].entry = "ce";
    flts[7].action = "record.read";
    flts[8].action = "record";
    flts[9].action = "rejection";
    flts[10].since_ms = t_mid;
    flts[11].until_ms = t_mid;
    flts[12].principal = "cityauth";
    flts[12].entry = "ce";
    flts[12].action = "record.list";
    flts[13].principal = "nobody";
    for (size_t i = 0; i < sizeof(flts) / sizeof(flts[0]); i++) {
        static const size_t limits[] = { 1, 2, 7, 1000 };
        struct lines want = { 0 };

        scan_all(fx->f, &flts[i], NULL, &want);
        if (i != 13 && want.n == 0) {
            fail_msg("filter %zu passes no event", i);
        }
        for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
            struct lines got = { 0 };
            char what[64];

            query_all(fx->f, "aud", &flts[i], limits[l], &got);
            snprintf(what, sizeof(what), "filter %zu limit %zu", i, limits[l]);
            assert_same_lines(&got, &want, what);
            lines_free(&got);
        }
        /* The provincial authority sees the same. */
        {
            struct lines got = { 0 };

            query_all(fx->f, "admin", &flts[i], 5, &got);
            assert_same_lines(&got, &want, "admin");
            lines_free(&got);
        }
        lines_free(&want);
    }
    assert_true(fsm_audit_action_valid("record"));
    assert_true(fsm_audit_action_valid("record.read"));
    assert_true(fsm_audit_action_valid("audit.read"));
    assert_true(fsm_audit_action_valid("rejection"));
    assert_false(fsm_audit_action_valid("tick"));
    assert_false(fsm_audit_action_valid("audit"));
    assert_false(fsm_audit_action_valid("read"));
    /* Rebuilt from the ledger: the same answers. */
    {
        struct fsm *g = fsmfx_rebuilt(fx);

        for (size_t i = 0; i < sizeof(flts) / sizeof(flts[0]); i++) {
            struct lines a = { 0 }, b = { 0 };

            query_all(fx->f, "aud", &flts[i], 3, &a);
            query_all(g, "aud", &flts[i], 3, &b);
            assert_same_lines(&b, &a, "rebuilt");
            lines_free(&a);
            lines_free(&b);
        }
        fsm_free(g);
    }
}

static const struct fsm *scope_fsm;

/* What the city authority may see: events of orgs under city, or of
 * entries in its scope. */
static bool
city_visible(const struct ev *e)
{
    const struct fsm_entry *en = fsm_entry(scope_fsm, e->entry);

    return strcmp(e->org, "city") == 0 || strcmp(e->org, "cdept") == 0 ||
           (en != NULL && strcmp(en->scope, "city:city") == 0);
}

/* A city authority's audit log holds its orgs' and entries' events only;
 * others may query nothing. */
static void
test_reports_audit_scope(void **state)
{
    struct fsmfx *fx = *state;
    struct fsm_audit_filter all = {
        NULL, NULL, NULL, NULL, INT64_MIN, INT64_MAX
    };
    struct lines want = { 0 }, got = { 0 };

    audit_history(fx);
    scope_fsm = fx->f;
    scan_all(fx->f, &all, city_visible, &want);
    assert_true(want.n > 5);
    query_all(fx->f, "cityauth", &all, 4, &got);
    assert_same_lines(&got, &want, "city authority");
    lines_free(&got);
    lines_free(&want);
    /* A provider sees nothing (the route answers 403 before asking). */
    query_all(fx->f, "prov", &all, 4, &got);
    assert_int_equal(got.n, 0);
    lines_free(&got);
}

/* A query looks at a bounded number of facts and batches per call: when
 * the viewer may see none of the events it walks it goes on in several
 * calls, none holding an item, and ends. */
static void
test_reports_audit_bounded(void **state)
{
    struct fsmfx *fx = *state;
    static const char *const who[] = { "cons" };
    static const char *const orgs[] = { "dept2" };
    struct fsm_audit_filter flt = { "prov", NULL,      NULL,
                                    NULL,   INT64_MIN, INT64_MAX };
    struct lines got = { 0 };
    size_t calls;

    fx->step_ms = 0;
    for (int i = 0; i < FSM_AUDIT_SCAN_FACTS + 100; i++) {
        char t[32];

        snprintf(t, sizeof(t), "e/b%d", i);
        assert_int_equal(put(fx, t, "{\"a\":\"x\"}"), 201);
    }
    calls = query_all(fx->f, "cityauth", &flt, 10, &got);
    assert_int_equal(got.n, 0);
    assert_int_equal(calls, 2);
    {
        struct lines want = { 0 };

        scan_all(fx->f, &flt, NULL, &want);
        calls = query_all(fx->f, "aud", &flt, 1000, &got);
        assert_true(want.n > FSM_AUDIT_SCAN_FACTS + 100);
        assert_same_lines(&got, &want, "prov");
        assert_int_equal(calls, (want.n + 999) / 1000);
        lines_free(&want);
    }
    lines_free(&got);
    /* Batches: more than FSM_AUDIT_SCAN_BATCHES holding cons's reads. */
    fx->step_ms = 1000;
    fx->now += 1000;
    for (int i = 0; i < FSM_AUDIT_SCAN_BATCHES + 4; i++) {
        audit_batch(fx, who, orgs, 1, 2);
    }
    flt = (struct fsm_audit_filter){ "cons", NULL,      NULL,
                                     NULL,   INT64_MIN, INT64_MAX };
    calls = query_all(fx->f, "cityauth", &flt, 10, &got);
    assert_int_equal(got.n, 0);
    assert_int_equal(calls, 2);
    /* `since` starts at the first fact that can hold its events (a
     * minute before it: an event's time is its node's clock). */
    fx->now += 600000;
    assert_int_equal(put(fx, "e/late", "{\"a\":\"x\"}"), 201);
    flt = (struct fsm_audit_filter){
        NULL, NULL, NULL, NULL, led_time(fsm_led(fx->f)), INT64_MAX
    };
    calls = query_all(fx->f, "cityauth", &flt, 1000, &got);
    assert_int_equal(calls, 1);
    assert_int_equal(got.n, 0);
    calls = query_all(fx->f, "aud", &flt, 1000, &got);
    assert_int_equal(calls, 1);
    assert_int_equal(got.n, 1);
    lines_free(&got);
}

/*
 * A rebuild from the ledger (what a replica does after a snapshot
 * install) gives every counter the live state machine has, also when the
 * live one was in the middle of a recount (the rebuilt one starts its own
 * walk over), after writes of every kind, refusals, objections and a
 * redaction.
 */
static void
test_reports_rebuild_same(void **state)
{
    struct fsmfx *fx = *state;
    char ob[32];
    struct fsm *g;

    audit_history(fx);
    fsmfx_objection(fx, "cit", "e", "k1", "trade_secret", "accept", ob);
    assert_int_equal(fsmfx_redact(fx, "admin", "e/k1", 1, ob), 200);
    for (int i = 0; i < 12; i++) {
        char t[32];

        snprintf(t, sizeof(t), "e/m%d", i);
        assert_int_equal(
            put(fx, t, i % 3 ? "{\"a\":\"x\",\"b\":1}" : "{\"a\":\"x\"}"), 201);
    }
    reschema(fx, "e",
             "{\"name\":\"a\",\"type\":\"string\",\"required\":true},"
             "{\"name\":\"b\",\"type\":\"integer\",\"required\":true}");
    fsm_reports_step(fx->f, 5); /* mid-way */
    assert_int_equal(put(fx, "e/m0", "{\"a\":\"y\",\"b\":2}"), 200);
    assert_int_equal(retire(fx, "e/m1"), 200);
    g = fsmfx_rebuilt(fx);
    assert_true(fsm_reports_pending(g));
    step_all(fx->f);
    step_all(g);
    assert_same_reports(fx->f, g, led_time(fsm_led(fx->f)) + 3 * DAY);
    assert_same_reports(fx->f, g, led_time(fsm_led(fx->f)));
    for (size_t i = 0; i < N_ENTRIES; i++) {
        assert_quality_recount(g, entries[i]);
    }
    fsm_free(g);
}

/* Allocation failures in apply, of a record write during a recount and
 * of an audit batch, change nothing; the counters stay right. */
static void
test_reports_oom(void **state)
{
    struct fsmfx *fx = *state;
    static const char *const ab =
        "{\"name\":\"a\",\"type\":\"string\",\"required\":true},"
        "{\"name\":\"b\",\"type\":\"integer\",\"required\":true}";
    struct fsm_audit_doc *d;
    struct pc_buf doc;
    struct fsm_audit_event e = { "cons", "dept2", "record.read", "e", "k1", 2,
                                 1,      -1,      fx->now,       NULL };

    reschema(fx, "e", ab);
    fsm_reports_step(fx->f, 1); /* k1 walked, k2 not */
    fsmfx_oom_run(fx, CMD_RECORD_PUT, "prov", "e/k1", "{\"a\":\"q\",\"b\":3}",
                  SALT, NULL, 200);
    fsmfx_oom_run(fx, CMD_RECORD_PUT, "prov", "e/k2", "{\"a\":\"q\",\"b\":3}",
                  SALT, NULL, 200);
    fsmfx_oom_run(fx, CMD_RECORD_RETIRE, "prov", "e/k1", "{\"reason\":\"r\"}",
                  NULL, NULL, 200);
    step_all(fx->f);
    assert_quality_recount(fx->f, "e");
    pc_buf_init(&doc);
    assert_int_equal(fsm_audit_doc_new(&d), PC_OK);
    assert_int_equal(fsm_audit_doc_add(d, &e), PC_OK);
    assert_int_equal(fsm_audit_doc_finish(d, &doc), PC_OK);
    fsm_audit_doc_free(d);
    {
        struct pc_buf entry;
        struct fsm_audit_filter flt = { "cons", NULL,      NULL,
                                        NULL,   INT64_MIN, INT64_MAX };
        struct lines want = { 0 }, got = { 0 };

        pc_buf_init(&entry);
        fsmfx_encode_len(fx, &entry, CMD_AUDIT, NULL, NULL, doc.data, doc.len,
                         SALT, NULL);
        fsmfx_oom_apply(fx, &entry, 200);
        pc_buf_release(&entry);
        scan_all(fx->f, &flt, NULL, &want);
        query_all(fx->f, "aud", &flt, 3, &got);
        assert_int_equal(got.n, 1);
        assert_same_lines(&got, &want, "after OOM");
        lines_free(&got);
        lines_free(&want);
    }
    pc_buf_release(&doc);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports_timeliness_table),
        cmocka_unit_test_setup_teardown(test_reports_quality_counts, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_reports_rejected_by_code, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_reports_completeness_schema_change,
                                        setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_reports_entry_classes, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_reports_open_overdue_each, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_reports_who_may, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_reports_audit_matches_scan, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_reports_audit_scope, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_reports_audit_bounded, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_reports_rebuild_same, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_reports_oom, setup,
                                        fsmfx_teardown),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
