/* SPDX-License-Identifier: MIT */
/*
 * Record rules as pure functions through fsm_apply: who may write and read
 * in which share/open class (role x operation x class table), schema
 * violations naming the field, If-Match / If-None-Match, batch atomicity,
 * retire and re-create, content hashes and the hash chain recomputed
 * independently, at_revision lookups, key and batch syntax.
 */
#include "tests/lib/fsmfx.h"
#include "tests/lib/test.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/jcs.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/idx.h"
#include "storage/led.h"

#define SALT_A  "00112233445566778899aabbccddeeff"
#define SALT_B  "ffeeddccbbaa99887766554433221100"
#define EXTRA_A "{\"salt\":\"" SALT_A "\"}"

static struct fsm_result
run_idem(struct fsmfx *fx, uint32_t type, const char *principal,
         const char *target, const char *body, const char *extra,
         const char *idem)
{
    return fsmfx_run(fx, type, principal, target, body, extra, idem);
}

static struct fsm_result
run(struct fsmfx *fx, uint32_t type, const char *principal, const char *target,
    const char *body, const char *extra)
{
    return run_idem(fx, type, principal, target, body, extra, NULL);
}

static const char *const schema =
    "[{\"name\":\"name\",\"type\":\"string\",\"required\":true},"
    "{\"name\":\"n\",\"type\":\"integer\",\"required\":false},"
    "{\"name\":\"x\",\"type\":\"number\",\"required\":false},"
    "{\"name\":\"b\",\"type\":\"boolean\",\"required\":false},"
    "{\"name\":\"d\",\"type\":\"date\",\"required\":false},"
    "{\"name\":\"o\",\"type\":\"object\",\"required\":false},"
    "{\"name\":\"a\",\"type\":\"array\",\"required\":false}]";

/* Create entry `id` of dept with the classes, and publish it if asked. */
static void
mkentry(struct fsmfx *fx, const char *id, const char *share, const char *open,
        bool publish)
{
    char b[2048];

    snprintf(b, sizeof(b),
             "{\"id\":\"%s\",\"title\":\"%s\",\"description\":\"d\","
             "\"provider\":\"dept\",\"theme\":\"t\",\"keywords\":[],"
             "\"fields\":%s,\"share\":{\"class\":\"%s\",\"basis\":\"b\"},"
             "\"open\":{\"class\":\"%s\"},\"update_frequency\":\"daily\","
             "\"security_level\":2,"
             "\"scope\":\"province\"}",
             id, id, schema, share, open);
    fsmfx_create_entry(fx, "prov", b);
    if (publish) {
        /* The entries share one schema: each is a possible duplicate. */
        fsmfx_publish(fx, "prov", "admin", id);
    }
}

/*
 * Orgs dept (the provider) and dept2. Principals: prov, prov_b (dept
 * providers), dcons (dept consumer), prov2 (dept2 provider), cons (dept2
 * consumer), aud (auditor), cit (a citizen), gone (dept provider, revoked);
 * admin is the provincial authority. Entry "e" (unconditional/unconditional)
 * is published.
 */
static int
setup(void **state)
{
    struct fsmfx *fx = fsmfx_new("admin", 1000);

    fsmfx_org(fx, "dept", "authority", "province", false);
    fsmfx_org(fx, "dept2", "authority", "province", false);
    fsmfx_principal(fx, "prov", "dept", "\"provider\"");
    fsmfx_principal(fx, "prov_b", "dept", "\"provider\"");
    fsmfx_principal(fx, "dcons", "dept", "\"consumer\"");
    fsmfx_principal(fx, "prov2", "dept2", "\"provider\"");
    fsmfx_principal(fx, "cons", "dept2", "\"consumer\"");
    fsmfx_principal(fx, "aud", "authority", "\"auditor\"");
    fsmfx_principal(fx, "cit", NULL, NULL);
    fsmfx_principal(fx, "gone", "dept", "\"provider\"");
    fsmfx_revoke(fx, "gone");
    mkentry(fx, "e", "unconditional", "unconditional", true);
    *state = fx;
    return 0;
}

static int
put(struct fsmfx *fx, const char *who, const char *target, const char *doc,
    const char *extra)
{
    return run(fx, CMD_RECORD_PUT, who, target, doc, extra ? extra : EXTRA_A)
        .status;
}

/* The payload of the last fact as JSON (new reference). */
static json_t *
last_payload(struct fsmfx *fx, uint32_t *kind)
{
    struct fact f;
    struct led *l = fsm_led(fx->f);

    assert_int_equal(led_get(l, led_count(l), &f), PC_OK);
    if (kind != NULL) {
        *kind = f.kind;
    }
    return json_loadb((const char *)f.payload.p, f.payload.len, 0, NULL);
}

/* The "detail" member `k` of the last (rejection) fact as a string. */
static const char *
detail_str(struct fsmfx *fx, const char *k, char *buf, size_t cap)
{
    uint32_t kind;
    json_t *p = last_payload(fx, &kind);

    assert_int_equal(kind, FACT_REJECTION);
    snprintf(buf, cap, "%s",
             json_string_value(json_object_get(json_object_get(p, "detail"), k))
                 ?: "");
    json_decref(p);
    return buf;
}

static long long
detail_int(struct fsmfx *fx, const char *k)
{
    json_t *p = last_payload(fx, NULL);
    json_t *v = json_object_get(json_object_get(p, "detail"), k);
    long long r = v ? json_integer_value(v) : -1;

    json_decref(p);
    return r;
}

static const struct fsm_principal *
who(struct fsmfx *fx, const char *id)
{
    return id == NULL ? NULL : fsm_principal(fx->f, id);
}

/* Write and read statuses by role and class: every cell of the table. */
static void
test_records_role_class_table(void **state)
{
    struct fsmfx *fx = *state;
    static const struct {
        const char *entry, *share, *open;
    } entries[] = {
        { "uu", "unconditional", "unconditional" },
        { "un", "unconditional", "none" },
        { "cc", "conditional", "conditional" },
        { "nn", "none", "none" },
    };
    /* expected read results per entry in the order above:
     * 'O' own, 'F' free (open), 'A' audited, 'D' denied, 'H' hidden (404) */
    static const struct {
        const char *who;
        int write;
        const char *reads;
    } rows[] = {
        { "prov", 201, "OOOO" },  { "dcons", 403, "OOOO" },
        { "prov2", 403, "ADDD" }, { "cons", 403, "AADD" },
        { "admin", 403, "AAAA" }, { "aud", 403, "AAAA" },
        { "cit", 403, "ADDD" },   { "gone", 401, NULL },
        { NULL, 0, "FHDH" },
    };
    char target[64];

    for (size_t i = 0; i < 4; i++) {
        mkentry(fx, entries[i].entry, entries[i].share, entries[i].open, true);
    }
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        for (size_t i = 0; i < 4; i++) {
            const struct fsm_entry *e = fsm_entry(fx->f, entries[i].entry);
            const struct fsm_principal *p = who(fx, rows[r].who);
            char got;

            if (rows[r].who != NULL) {
                snprintf(target, sizeof(target), "%s/k-%s", entries[i].entry,
                         rows[r].who);
                int st = put(fx, rows[r].who, target, "{\"name\":\"x\"}", NULL);
                if (st != rows[r].write) {
                    fail_msg("write %s on %s: %d, want %d", rows[r].who,
                             entries[i].entry, st, rows[r].write);
                }
            }
            if (rows[r].reads == NULL) {
                continue;
            }
            if (fsm_entry_visible_rev(fx->f, e, p) == 0) {
                got = 'H';
            } else {
                switch (fsm_may_read_records(fx->f, p, e)) {
                case FSM_READ_OWN:
                    got = 'O';
                    break;
                case FSM_READ_OPEN:
                    got = 'F';
                    break;
                case FSM_READ_AUDITED:
                    got = 'A';
                    break;
                default:
                    got = 'D';
                }
            }
            if (got != rows[r].reads[i]) {
                fail_msg("read by %s of %s: %c, want %c",
                         rows[r].who ? rows[r].who : "(public)",
                         entries[i].entry, got, rows[r].reads[i]);
            }
        }
    }
}

/* Writes need a published entry; retired entries are read-only (409). */
static void
test_records_entry_state(void **state)
{
    struct fsmfx *fx = *state;

    mkentry(fx, "draft", "unconditional", "unconditional", false);
    assert_int_equal(put(fx, "prov", "draft/k", "{\"name\":\"x\"}", NULL), 409);
    /* a draft is invisible outside the provider side: 404, not 403 */
    assert_int_equal(put(fx, "prov2", "draft/k", "{\"name\":\"x\"}", NULL),
                     404);
    assert_int_equal(put(fx, "prov", "nope/k", "{\"name\":\"x\"}", NULL), 404);
    assert_int_equal(put(fx, "prov", "e/k", "{\"name\":\"x\"}", NULL), 201);
    assert_int_equal(
        run(fx, CMD_ENTRY_RETIRE, "prov", "e", "{\"reason\":\"r\"}", NULL)
            .status,
        200);
    assert_int_equal(put(fx, "prov", "e/k", "{\"name\":\"y\"}", NULL), 409);
    assert_int_equal(
        run(fx, CMD_RECORD_RETIRE, "prov", "e/k", "{\"reason\":\"r\"}", NULL)
            .status,
        409);
    /* records of a retired entry stay readable */
    assert_int_equal(
        fsm_may_read_records(fx->f, who(fx, "cons"), fsm_entry(fx->f, "e")),
        FSM_READ_AUDITED);
}

/*
 * While a change to a published entry awaits review, the published version
 * stays in force: records follow its schema and its classes; approval
 * brings in the new ones.
 */
static void
test_records_published_stays_in_force(void **state)
{
    struct fsmfx *fx = *state;
    char b[2048];

    assert_int_equal(put(fx, "prov", "e/k1", "{\"name\":\"x\"}", NULL), 201);
    /* A new required field, and no sharing: both need review. */
    snprintf(b, sizeof(b),
             "{\"id\":\"e\",\"title\":\"e\",\"description\":\"d\","
             "\"provider\":\"dept\",\"theme\":\"t\",\"keywords\":[],"
             "\"fields\":[{\"name\":\"name\",\"type\":\"string\","
             "\"required\":true},{\"name\":\"z\",\"type\":\"string\","
             "\"required\":true}],\"share\":{\"class\":\"none\","
             "\"basis\":\"b\"},\"open\":{\"class\":\"none\"},"
             "\"update_frequency\":\"daily\",\"security_level\":2,"
             "\"scope\":\"province\"}");
    assert_int_equal(
        run(fx, CMD_ENTRY_UPDATE, "prov", "e", b, "{\"if_match\":3}").status,
        200);
    assert_int_equal(fsm_entry(fx->f, "e")->status, FSM_ENTRY_SUBMITTED);
    /* The published schema: "z" not needed, "name" still required. */
    assert_int_equal(put(fx, "prov", "e/k2", "{\"name\":\"y\"}", NULL), 201);
    assert_int_equal(put(fx, "prov", "e/k3", "{\"z\":\"q\"}", NULL), 422);
    /* The published classes: another org still reads. */
    assert_int_equal(
        fsm_may_read_records(fx->f, who(fx, "cons"), fsm_entry(fx->f, "e")),
        FSM_READ_AUDITED);
    /* Rejecting the change keeps the published version in force. */
    assert_int_equal(run(fx, CMD_ENTRY_REVIEW, "admin", "e",
                         "{\"decision\":\"reject\",\"reason\":\"no\"}", NULL)
                         .status,
                     200);
    assert_int_equal(put(fx, "prov", "e/k4", "{\"name\":\"y\"}", NULL), 201);
    /* Resubmitted and approved: the new schema and classes apply. */
    assert_int_equal(run(fx, CMD_ENTRY_SUBMIT, "prov", "e", NULL, NULL).status,
                     200);
    assert_int_equal(run(fx, CMD_ENTRY_REVIEW, "admin", "e",
                         "{\"decision\":\"approve\"}", NULL)
                         .status,
                     200);
    assert_int_equal(put(fx, "prov", "e/k5", "{\"name\":\"y\"}", NULL), 422);
    assert_int_equal(
        put(fx, "prov", "e/k5", "{\"name\":\"y\",\"z\":\"q\"}", NULL), 201);
    assert_int_equal(
        fsm_may_read_records(fx->f, who(fx, "cons"), fsm_entry(fx->f, "e")),
        FSM_READ_DENIED);
}

/* Each schema violation is 422 naming the field; valid edge cases pass. */
static void
test_records_schema_names_field(void **state)
{
    struct fsmfx *fx = *state;
    static const struct {
        const char *doc;
        const char *field; /* NULL: accepted */
    } cases[] = {
        { "{\"n\":1}", "name" },
        { "{\"name\":null}", "name" },
        { "{\"name\":5}", "name" },
        { "{\"name\":\"a\",\"n\":1.5}", "n" },
        { "{\"name\":\"a\",\"n\":9007199254740992}", "n" },
        { "{\"name\":\"a\",\"n\":\"1\"}", "n" },
        { "{\"name\":\"a\",\"n\":9007199254740991}", NULL },
        { "{\"name\":\"a\",\"n\":-3e2}", NULL },
        { "{\"name\":\"a\",\"x\":\"1\"}", "x" },
        { "{\"name\":\"a\",\"x\":1e-7}", NULL },
        { "{\"name\":\"a\",\"b\":\"true\"}", "b" },
        { "{\"name\":\"a\",\"b\":false}", NULL },
        { "{\"name\":\"a\",\"d\":\"2023-02-29\"}", "d" },
        { "{\"name\":\"a\",\"d\":\"2024-02-29\"}", NULL },
        { "{\"name\":\"a\",\"d\":\"1900-02-29\"}", "d" },
        { "{\"name\":\"a\",\"d\":\"2000-02-29\"}", NULL },
        { "{\"name\":\"a\",\"d\":\"2024-13-01\"}", "d" },
        { "{\"name\":\"a\",\"d\":\"2024-04-31\"}", "d" },
        { "{\"name\":\"a\",\"d\":\"2024-4-01\"}", "d" },
        { "{\"name\":\"a\",\"d\":\"2024-04-01T00:00:00Z\"}", "d" },
        { "{\"name\":\"a\",\"o\":[]}", "o" },
        { "{\"name\":\"a\",\"o\":{}}", NULL },
        { "{\"name\":\"a\",\"a\":{}}", "a" },
        { "{\"name\":\"a\",\"a\":[1,\"x\"]}", NULL },
        /* a declared optional field may be null; undeclared are kept */
        { "{\"name\":\"a\",\"n\":null,\"extra\":{\"z\":1}}", NULL },
    };
    char field[80], target[32];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t before = led_count(fsm_led(fx->f));
        snprintf(target, sizeof(target), "e/s%zu", i);
        int st = put(fx, "prov", target, cases[i].doc, NULL);

        assert_int_equal(led_count(fsm_led(fx->f)), before + 1);
        if (cases[i].field == NULL) {
            if (st != 201) {
                fail_msg("case %zu %s: %d", i, cases[i].doc, st);
            }
            continue;
        }
        if (st != 422) {
            fail_msg("case %zu %s: %d, want 422", i, cases[i].doc, st);
        }
        assert_string_equal(detail_str(fx, "field", field, sizeof(field)),
                            cases[i].field);
    }
    /* not an object, and not JSON at all: 400 */
    assert_int_equal(put(fx, "prov", "e/arr", "[1]", NULL), 400);
    assert_int_equal(put(fx, "prov", "e/bad", "{\"a\":1,\"a\":2}", NULL), 400);
}

/* If-Match and If-None-Match: 409 with the current version, else applied. */
static void
test_records_preconditions(void **state)
{
    struct fsmfx *fx = *state;

    assert_int_equal(put(fx, "prov", "e/k", "{\"name\":\"1\"}",
                         "{\"salt\":\"" SALT_A "\",\"if_none_match\":true}"),
                     201);
    assert_int_equal(put(fx, "prov", "e/k", "{\"name\":\"2\"}",
                         "{\"salt\":\"" SALT_A "\",\"if_none_match\":true}"),
                     409);
    assert_int_equal(detail_int(fx, "current_version"), 1);
    assert_int_equal(put(fx, "prov", "e/k", "{\"name\":\"2\"}",
                         "{\"salt\":\"" SALT_A "\",\"if_match\":2}"),
                     409);
    assert_int_equal(detail_int(fx, "current_version"), 1);
    assert_int_equal(put(fx, "prov", "e/k", "{\"name\":\"2\"}",
                         "{\"salt\":\"" SALT_A "\",\"if_match\":1}"),
                     200);
    assert_int_equal(put(fx, "prov", "e/k", "{\"name\":\"3\"}", NULL), 200);
    /* If-Match on a key that never existed: current_version 0 */
    assert_int_equal(put(fx, "prov", "e/new", "{\"name\":\"3\"}",
                         "{\"salt\":\"" SALT_A "\",\"if_match\":1}"),
                     409);
    assert_int_equal(detail_int(fx, "current_version"), 0);
    /* retire and correct take If-Match too */
    assert_int_equal(run(fx, CMD_RECORD_RETIRE, "prov", "e/k",
                         "{\"reason\":\"r\"}", "{\"if_match\":2}")
                         .status,
                     409);
    assert_int_equal(run(fx, CMD_RECORD_RETIRE, "prov", "e/k",
                         "{\"reason\":\"r\"}", "{\"if_match\":3}")
                         .status,
                     200);
    /* no salt: a malformed command */
    assert_int_equal(put(fx, "prov", "e/z", "{\"name\":\"3\"}", "{}"), 400);
}

/* Salts SALT_A, SALT_B, SALT_A, ... for n records. */
static void
alternate_salts(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_true(pc_unhex(out + i * PC_SALT_LEN, PC_SALT_LEN,
                             i % 2 ? SALT_B : SALT_A, 32));
    }
}

/* The prepared command a leader proposes for `body` (which must parse). */
static void
prepare(struct fsmfx *fx, const char *entry, const char *body,
        struct pc_buf *out)
{
    char msg[200], field[FSM_FIELD_LEN];
    uint8_t salts[8 * PC_SALT_LEN];
    struct fsm_batch b;
    long index;

    assert_int_equal(
        fsm_batch_parse(body, strlen(body), &b, msg, field, &index), PC_OK);
    assert_true(b.n <= 8);
    alternate_salts(salts, b.n);
    pc_buf_init(out);
    assert_int_equal(fsm_batch_prepare(fx->f, entry, &b, salts, out), PC_OK);
    fsm_batch_release(&b);
}

/* A batch as a leader proposes it (record.batch2, salts as in
 * alternate_salts); `n` its item count. A body that does not parse goes
 * in the JSON form, whose apply refuses it as the leader would have. */
static struct fsm_result
batch(struct fsmfx *fx, const char *who, const char *entry, const char *body,
      size_t n)
{
    char msg[200], field[FSM_FIELD_LEN];
    struct fsm_batch b;
    struct fsm_result r;
    struct pc_buf prep;
    long index;

    if (fsm_batch_parse(body, strlen(body), &b, msg, field, &index) != PC_OK) {
        return run(fx, CMD_RECORD_BATCH, who, entry, body, "{\"salts\":\"\"}");
    }
    assert_int_equal(b.n, n);
    fsm_batch_release(&b);
    prepare(fx, entry, body, &prep);
    r = fsmfx_run_len(fx, CMD_RECORD_BATCH2, who, entry, prep.data, prep.len,
                      NULL, NULL);
    pc_buf_release(&prep);
    return r;
}

/* The same in the JSON form older logs hold: the body, and the salts in
 * the extra as one hex string ("array": one string per salt). */
static struct fsm_result
batch_json(struct fsmfx *fx, const char *who, const char *entry,
           const char *body, size_t n, bool array)
{
    char extra[4096];
    size_t len = 0;

    len += (size_t)snprintf(extra, sizeof(extra), "{\"salts\":%s",
                            array ? "[" : "\"");
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(
            extra + len, sizeof(extra) - len, array ? "%s\"%s\"" : "%s%s",
            array && i > 0 ? "," : "", i % 2 ? SALT_B : SALT_A);
    }
    snprintf(extra + len, sizeof(extra) - len, array ? "]}" : "\"}");
    return run(fx, CMD_RECORD_BATCH, who, entry, body, extra);
}

static uint64_t
latest(struct fsmfx *fx, const char *entry, const char *key)
{
    struct idx_key k = { FACT_RECORD, PC_SLICE_STR(entry), PC_SLICE_STR(key) };

    return idx_latest(led_idx(fsm_led(fx->f)), &k, NULL);
}

/* A failing item leaves no record fact, one rejection naming it; else all. */
static void
test_records_batch_atomic(void **state)
{
    struct fsmfx *fx = *state;
    struct led *l = fsm_led(fx->f);
    uint64_t before = led_count(l);
    char buf[80];
    struct fsm_result r;

    assert_int_equal(put(fx, "prov", "e/b", "{\"name\":\"old\"}", NULL), 201);
    before = led_count(l);
    r = batch(fx, "prov", "e",
              "{\"records\":[{\"key\":\"a\",\"value\":{\"name\":\"1\"}},"
              "{\"key\":\"b\",\"value\":{\"name\":\"2\",\"n\":0.5}},"
              "{\"key\":\"c\",\"value\":{}}]}",
              3);
    assert_int_equal(r.status, 422);
    assert_int_equal(r.n_facts, 1);
    assert_int_equal(led_count(l), before + 1);
    assert_string_equal(detail_str(fx, "field", buf, sizeof(buf)), "n");
    assert_string_equal(detail_str(fx, "key", buf, sizeof(buf)), "b");
    assert_int_equal(detail_int(fx, "index"), 1);
    assert_int_equal(latest(fx, "e", "a"), 0);
    assert_int_equal(latest(fx, "e", "b"), 1);
    /* a stale if_version: 409 naming the item and the current version */
    r = batch(fx, "prov", "e",
              "{\"records\":[{\"key\":\"a\",\"value\":{\"name\":\"1\"}},"
              "{\"key\":\"b\",\"value\":{\"name\":\"2\"},\"if_version\":0}]}",
              2);
    assert_int_equal(r.status, 409);
    assert_int_equal(detail_int(fx, "index"), 1);
    assert_int_equal(detail_int(fx, "current_version"), 1);
    assert_int_equal(latest(fx, "e", "a"), 0);
    /* duplicate keys: 400 naming the second */
    r = batch(fx, "prov", "e",
              "{\"records\":[{\"key\":\"a\",\"value\":{\"name\":\"1\"}},"
              "{\"key\":\"q\",\"value\":{\"name\":\"1\"}},"
              "{\"key\":\"a\",\"value\":{\"name\":\"2\"}}]}",
              3);
    assert_int_equal(r.status, 400);
    assert_int_equal(detail_int(fx, "index"), 2);
    /* all good: one fact per item, in request order */
    before = led_count(l);
    r = batch(fx, "prov", "e",
              "{\"records\":[{\"key\":\"z\",\"value\":{\"name\":\"1\"}},"
              "{\"key\":\"b\",\"value\":{\"name\":\"2\"},\"if_version\":1},"
              "{\"key\":\"a\",\"value\":{\"name\":\"3\"},\"if_version\":0}]}",
              3);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_facts, 3);
    assert_int_equal(r.first_rev, before + 1);
    for (uint64_t i = 0; i < 3; i++) {
        struct fact f;
        static const char *const keys[] = { "z", "b", "a" };

        assert_int_equal(led_get(l, before + 1 + i, &f), PC_OK);
        assert_int_equal(f.kind, FACT_RECORD);
        assert_int_equal(f.id.len, 1);
        assert_memory_equal(f.id.p, keys[i], 1);
    }
    assert_int_equal(latest(fx, "e", "b"), 2);
    /* another org's provider: 403 and nothing written */
    r = batch(fx, "prov2", "e",
              "{\"records\":[{\"key\":\"y\",\"value\":{\"name\":\"1\"}}]}", 1);
    assert_int_equal(r.status, 403);
    assert_int_equal(latest(fx, "e", "y"), 0);
}

/* Retire adds a version without a document; PUT re-creates; correct stays. */
static void
test_records_retire_recreate(void **state)
{
    struct fsmfx *fx = *state;
    struct led *l = fsm_led(fx->f);
    struct fact f;
    json_t *p;

    assert_int_equal(put(fx, "prov", "e/k", "{\"name\":\"1\"}", NULL), 201);
    assert_int_equal(
        run(fx, CMD_RECORD_RETIRE, "prov", "e/k", "{}", NULL).status,
        400); /* a reason is required */
    assert_int_equal(run(fx, CMD_RECORD_RETIRE, "prov", "e/k",
                         "{\"reason\":\"moved\"}", NULL)
                         .status,
                     200);
    assert_int_equal(led_get(l, led_count(l), &f), PC_OK);
    assert_int_equal(f.version, 2);
    assert_false(f.has_content);
    assert_int_equal(led_doc_state(l, led_count(l)), LED_DOC_NONE);
    p = last_payload(fx, NULL);
    assert_string_equal(json_string_value(json_object_get(p, "op")), "retire");
    assert_string_equal(json_string_value(json_object_get(p, "reason")),
                        "moved");
    assert_string_equal(json_string_value(json_object_get(p, "org")), "dept");
    json_decref(p);
    assert_int_equal(run(fx, CMD_RECORD_RETIRE, "prov", "e/k",
                         "{\"reason\":\"again\"}", NULL)
                         .status,
                     409);
    /* a correction of a retired record keeps it retired */
    assert_int_equal(run(fx, CMD_RECORD_CORRECT, "prov", "e/k",
                         "{\"value\":{\"name\":\"fixed\"},\"reason\":\"typo\"}",
                         EXTRA_A)
                         .status,
                     200);
    p = last_payload(fx, NULL);
    assert_string_equal(json_string_value(json_object_get(p, "op")), "correct");
    assert_true(json_is_true(json_object_get(p, "retired")));
    json_decref(p);
    /* If-None-Match: * succeeds on a retired key; the op is create */
    assert_int_equal(put(fx, "prov", "e/k", "{\"name\":\"2\"}",
                         "{\"salt\":\"" SALT_A "\",\"if_none_match\":true}"),
                     201);
    p = last_payload(fx, NULL);
    assert_string_equal(json_string_value(json_object_get(p, "op")), "create");
    json_decref(p);
    assert_int_equal(latest(fx, "e", "k"), 4);
    /* correct: missing record 404, objection not accepted 409, no value 400,
     * another org 403 */
    assert_int_equal(run(fx, CMD_RECORD_CORRECT, "prov", "e/none",
                         "{\"value\":{\"name\":\"x\"},\"reason\":\"r\"}",
                         EXTRA_A)
                         .status,
                     404);
    assert_int_equal(run(fx, CMD_RECORD_CORRECT, "prov", "e/k",
                         "{\"value\":{\"name\":\"x\"},\"reason\":\"r\","
                         "\"objection\":\"ob-7\"}",
                         EXTRA_A)
                         .status,
                     409);
    assert_int_equal(run(fx, CMD_RECORD_CORRECT, "prov", "e/k",
                         "{\"reason\":\"r\"}", EXTRA_A)
                         .status,
                     400);
    assert_int_equal(run(fx, CMD_RECORD_CORRECT, "admin", "e/k",
                         "{\"value\":{\"name\":\"x\"},\"reason\":\"r\"}",
                         EXTRA_A)
                         .status,
                     403);
    assert_int_equal(run(fx, CMD_RECORD_CORRECT, "prov", "e/k",
                         "{\"value\":{\"n\":1},\"reason\":\"r\"}", EXTRA_A)
                         .status,
                     422);
}

/* The content hash of record `key` of entry "e" (its latest version). */
static void
content_of(struct fsmfx *fx, const char *key, uint8_t out[PC_HASH_LEN])
{
    struct led *l = fsm_led(fx->f);
    struct idx_key k = { FACT_RECORD, PC_SLICE_STR("e"), PC_SLICE_STR(key) };
    uint64_t rev;
    struct fact f;

    assert_true(idx_latest(led_idx(l), &k, &rev) >= 1);
    assert_int_equal(led_get(l, rev, &f), PC_OK);
    memcpy(out, f.content_hash, PC_HASH_LEN);
}

/*
 * Item i of a batch gets salt i of its command, in all three forms: the
 * prepared one leaders propose and the JSON one older logs hold, with the
 * salts as one hex string or an array. The JSON form's wrong salt counts
 * and bad digits refuse the batch and write no record.
 */
static void
test_records_batch_salts(void **state)
{
    struct fsmfx *fx = *state;
    struct led *l = fsm_led(fx->f);
    static const char *const bodies[] = {
        "{\"records\":[{\"key\":\"s1\",\"value\":{\"name\":\"1\"}},"
        "{\"key\":\"s2\",\"value\":{\"name\":\"2\"}}]}",
        "{\"records\":[{\"key\":\"t1\",\"value\":{\"name\":\"1\"}},"
        "{\"key\":\"t2\",\"value\":{\"name\":\"2\"}}]}",
        "{\"records\":[{\"key\":\"u1\",\"value\":{\"name\":\"1\"}},"
        "{\"key\":\"u2\",\"value\":{\"name\":\"2\"}}]}",
    };
    static const char *const bad[] = {
        "{\"salts\":\"" SALT_A "\"}",               /* one salt short */
        "{\"salts\":\"" SALT_A SALT_B SALT_A "\"}", /* one too many */
        "{\"salts\":\"" SALT_A "ffeeddccbbaa998877665544332211x0\"}",
        "{\"salts\":[\"" SALT_A "\"]}",
        "{\"salts\":[\"" SALT_A "\",7]}",
        "{\"salts\":7}",
        "{}",
        "[]",
        "{\"salts\":",
    };
    static const char *const docs[] = { "{\"name\":\"1\"}",
                                        "{\"name\":\"2\"}" };
    uint8_t salt[PC_SALT_LEN], want[PC_HASH_LEN], got[PC_HASH_LEN];
    struct fsm_result r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t before = led_count(l);

        r = run(fx, CMD_RECORD_BATCH, "prov", "e", bodies[0], bad[i]);
        assert_int_equal(r.status, 400);
        assert_int_equal(r.n_facts, 1); /* the rejection */
        assert_int_equal(led_count(l), before + 1);
        assert_int_equal(latest(fx, "e", "s1"), 0);
    }
    assert_int_equal(batch(fx, "prov", "e", bodies[0], 2).status, 200);
    assert_int_equal(batch_json(fx, "prov", "e", bodies[1], 2, false).status,
                     200);
    assert_int_equal(batch_json(fx, "prov", "e", bodies[2], 2, true).status,
                     200);
    for (int k = 0; k < 2; k++) {
        static const char *const keys[][3] = { { "s1", "t1", "u1" },
                                               { "s2", "t2", "u2" } };

        assert_true(pc_unhex(salt, PC_SALT_LEN, k ? SALT_B : SALT_A, 32));
        pc_hash_content(want, salt, docs[k], strlen(docs[k]));
        for (int form = 0; form < 3; form++) {
            content_of(fx, keys[k][form], got);
            assert_memory_equal(got, want, PC_HASH_LEN);
        }
    }
}

/*
 * A prepared batch and the same batch in the JSON form leave the same
 * ledger (same root on two state machines fed the same commands
 * otherwise). The leader's schema finding holds only for the entry version
 * it checked: once another version is in force, apply checks each value
 * itself and names the first failing one.
 */
static void
test_records_batch_prepared(void **state)
{
    struct fsmfx *fx = *state, *twin;
    static const char body[] =
        "{\"records\":[{\"key\":\"p1\",\"value\":{\"name\":\"a\",\"n\":1}},"
        "{\"key\":\"p2\",\"value\":{\"name\":\"b\"}},"
        "{\"key\":\"p3\",\"value\":{\"name\":\"c\",\"x\":2.5}}]}";
    uint8_t r1[PC_HASH_LEN], r2[PC_HASH_LEN];
    struct pc_buf prep;
    struct fsm_result r;
    char b[2048], buf[80];
    void *st;

    assert_int_equal(setup(&st), 0);
    twin = st;
    assert_int_equal(batch(fx, "prov", "e", body, 3).status, 200);
    assert_int_equal(batch_json(twin, "prov", "e", body, 3, false).status, 200);
    led_root(fsm_led(fx->f), r1);
    led_root(fsm_led(twin->f), r2);
    assert_memory_equal(r1, r2, PC_HASH_LEN);
    assert_int_equal(led_count(fsm_led(fx->f)), led_count(fsm_led(twin->f)));
    fsmfx_teardown(&st);

    /* Prepared while "z" is not in the schema; then a version requiring
     * "z" is published before the command applies. */
    prepare(fx, "e",
            "{\"records\":[{\"key\":\"q1\",\"value\":{\"name\":\"a\"}},"
            "{\"key\":\"q2\",\"value\":{\"name\":\"b\",\"z\":\"y\"}}]}",
            &prep);
    snprintf(b, sizeof(b),
             "{\"id\":\"e\",\"title\":\"e\",\"description\":\"d\","
             "\"provider\":\"dept\",\"theme\":\"t\",\"keywords\":[],"
             "\"fields\":[{\"name\":\"name\",\"type\":\"string\","
             "\"required\":true},{\"name\":\"z\",\"type\":\"string\","
             "\"required\":true}],\"share\":{\"class\":\"unconditional\"},"
             "\"open\":{\"class\":\"unconditional\"},"
             "\"update_frequency\":\"daily\",\"security_level\":2,"
             "\"scope\":\"province\"}");
    assert_int_equal(
        run(fx, CMD_ENTRY_UPDATE, "prov", "e", b, "{\"if_match\":3}").status,
        200);
    /* A change to a published entry awaits review at once. */
    assert_int_equal(run(fx, CMD_ENTRY_REVIEW, "admin", "e",
                         "{\"decision\":\"approve\"}", NULL)
                         .status,
                     200);
    r = fsmfx_run_len(fx, CMD_RECORD_BATCH2, "prov", "e", prep.data, prep.len,
                      NULL, NULL);
    pc_buf_release(&prep);
    assert_int_equal(r.status, 422);
    assert_string_equal(detail_str(fx, "field", buf, sizeof(buf)), "z");
    assert_string_equal(detail_str(fx, "key", buf, sizeof(buf)), "q1");
    assert_int_equal(detail_int(fx, "index"), 0);
    assert_int_equal(latest(fx, "e", "q2"), 0);
    /* Prepared against the version now in force: written. */
    assert_int_equal(
        batch(fx, "prov", "e",
              "{\"records\":[{\"key\":\"q2\",\"value\":{\"name\":\"b\","
              "\"z\":\"y\"}}]}",
              1)
            .status,
        200);
    assert_int_equal(latest(fx, "e", "q2"), 1);
}

/* The first occurrence of `s` in `b`, or NULL. */
static uint8_t *
find(struct pc_buf *b, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i + n <= b->len; i++) {
        if (memcmp(b->data + i, s, n) == 0) {
            return b->data + i;
        }
    }
    return NULL;
}

/* Whatever bytes a faulty leader proposes as a prepared batch are refused
 * whole (400, one rejection fact) unless they hold a well-formed batch. */
static void
test_records_batch_prepared_malformed(void **state)
{
    struct fsmfx *fx = *state;
    struct led *l = fsm_led(fx->f);
    struct pc_buf good, bad;
    uint64_t before;
    struct fsm_result r;

    prepare(fx, "e",
            "{\"records\":[{\"key\":\"m1\",\"value\":{\"name\":\"a\"}},"
            "{\"key\":\"m2\",\"value\":{\"name\":\"b\"}}]}",
            &good);
    /* every truncation, and one byte too many */
    for (size_t len = 0; len <= good.len + 1; len++) {
        if (len == good.len) {
            continue;
        }
        pc_buf_init(&bad);
        assert_int_equal(pc_buf_put(&bad, good.data, good.len), PC_OK);
        assert_int_equal(pc_buf_put_u8(&bad, 0), PC_OK);
        before = led_count(l);
        r = fsmfx_run_len(fx, CMD_RECORD_BATCH2, "prov", "e", bad.data, len,
                          NULL, NULL);
        assert_int_equal(r.status, 400);
        assert_int_equal(led_count(l), before + 1);
        pc_buf_release(&bad);
    }
    /* a wrong format byte, unknown flags, a bad key, a repeated key */
    for (int k = 0; k < 4; k++) {
        pc_buf_init(&bad);
        assert_int_equal(pc_buf_put(&bad, good.data, good.len), PC_OK);
        uint8_t *m1 = find(&bad, "m1"), *m2 = find(&bad, "m2");

        assert_non_null(m1);
        assert_non_null(m2);
        if (k == 0) {
            bad.data[0] = 2;
        } else if (k == 1) {
            m1[-2] = 0x80; /* the flags byte, before the count 2 */
        } else if (k == 2) {
            m1[0] = '\n';
        } else {
            m2[1] = '1';
        }
        before = led_count(l);
        r = fsmfx_run_len(fx, CMD_RECORD_BATCH2, "prov", "e", bad.data, bad.len,
                          NULL, NULL);
        assert_int_equal(r.status, 400);
        assert_int_equal(led_count(l), before + 1);
        pc_buf_release(&bad);
    }
    assert_int_equal(latest(fx, "e", "m1"), 0);
    /* The leader's schema finding is taken while its entry version is in
     * force: apply does not parse the documents again (the contract that
     * makes batches cheap; a leader that lies can write anything anyway). */
    pc_buf_init(&bad);
    assert_int_equal(pc_buf_put_u8(&bad, 1), PC_OK);
    assert_int_equal(
        pc_buf_put_uvarint(&bad, fsm_entry(fx->f, "e")->public_rev), PC_OK);
    assert_int_equal(pc_buf_put_u8(&bad, 0), PC_OK);
    assert_int_equal(pc_buf_put_uvarint(&bad, 1), PC_OK);
    assert_int_equal(pc_buf_put_lp(&bad, "m3", 2), PC_OK);
    assert_int_equal(pc_buf_put_svarint(&bad, -1), PC_OK);
    assert_int_equal(pc_buf_put(&bad, good.data, PC_SALT_LEN), PC_OK);
    assert_int_equal(pc_buf_put_lp(&bad, "{\"n\":1}", 7), PC_OK);
    r = fsmfx_run_len(fx, CMD_RECORD_BATCH2, "prov", "e", bad.data, bad.len,
                      NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(latest(fx, "e", "m3"), 1);
    /* ... and checked when the finding is absent (0). */
    bad.data[1] = 0;
    assert_int_equal(bad.len, 1 + 1 + 1 + 1 + 3 + 1 + PC_SALT_LEN + 8);
    memcpy(bad.data + 5, "4", 1); /* m3 -> m4 */
    r = fsmfx_run_len(fx, CMD_RECORD_BATCH2, "prov", "e", bad.data, bad.len,
                      NULL, NULL);
    assert_int_equal(r.status, 422);
    assert_int_equal(latest(fx, "e", "m4"), 0);
    pc_buf_release(&bad);
    r = fsmfx_run_len(fx, CMD_RECORD_BATCH2, "prov", "e", good.data, good.len,
                      NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(latest(fx, "e", "m2"), 1);
    pc_buf_release(&good);
}

/* content_hash = BLAKE2b-256(0x02 ‖ salt ‖ canonical); prev_hash chains. */
static void
test_records_hashes(void **state)
{
    struct fsmfx *fx = *state;
    struct led *l = fsm_led(fx->f);
    static const char canon[] = "{\"name\":\"\xc3\xa9\",\"q\":2.5,\"z\":[1e+21,"
                                "1]}";
    uint8_t salt[PC_SALT_LEN], want[PC_HASH_LEN], leaf1[PC_HASH_LEN];
    crypto_generichash_state st;
    struct pc_buf doc;
    uint8_t got_salt[PC_SALT_LEN];
    struct fact f1, f2;
    uint64_t r1, r2;

    /* stored canonical: keys sorted, numbers in ECMAScript form */
    assert_int_equal(put(fx, "prov", "e/h",
                         "{ \"z\": [1E21, 1.0], \"name\": \"\\u00e9\", "
                         "\"q\": 2.50 }",
                         NULL),
                     201);
    r1 = led_count(l);
    pc_buf_init(&doc);
    assert_int_equal(led_doc_get(l, r1, &doc, got_salt), PC_OK);
    assert_int_equal(doc.len, strlen(canon));
    assert_memory_equal(doc.data, canon, doc.len);
    assert_true(pc_unhex(salt, PC_SALT_LEN, SALT_A, 32));
    assert_memory_equal(got_salt, salt, PC_SALT_LEN);
    crypto_generichash_init(&st, NULL, 0, PC_HASH_LEN);
    crypto_generichash_update(&st, (const uint8_t *)"\x02", 1);
    crypto_generichash_update(&st, salt, PC_SALT_LEN);
    crypto_generichash_update(&st, (const uint8_t *)canon, strlen(canon));
    crypto_generichash_final(&st, want, PC_HASH_LEN);
    assert_int_equal(led_get(l, r1, &f1), PC_OK);
    assert_true(f1.has_content);
    assert_memory_equal(f1.content_hash, want, PC_HASH_LEN);
    assert_false(f1.has_prev);
    /* version 2 (another salt) chains to version 1's leaf hash */
    assert_int_equal(
        put(fx, "prov", "e/h", "{\"name\":\"b\"}", "{\"salt\":\"" SALT_B "\"}"),
        200);
    r2 = led_count(l);
    assert_int_equal(led_get(l, r2, &f2), PC_OK);
    assert_int_equal(f2.version, 2);
    assert_true(f2.has_prev);
    assert_int_equal(led_hash(l, r1, leaf1), PC_OK);
    assert_memory_equal(f2.prev_hash, leaf1, PC_HASH_LEN);
    assert_memory_not_equal(f2.content_hash, f1.content_hash, PC_HASH_LEN);
    pc_buf_release(&doc);
}

/* The version current at a revision, by the index, across a retire. */
static void
test_records_at_revision(void **state)
{
    struct fsmfx *fx = *state;
    struct led *l = fsm_led(fx->f);
    struct idx_key k = { FACT_RECORD, PC_SLICE_STR("e"), PC_SLICE_STR("t") };
    uint64_t r0 = led_count(l), r1, r2, r3, v, rev;

    assert_int_equal(put(fx, "prov", "e/t", "{\"name\":\"1\"}", NULL), 201);
    r1 = led_count(l);
    assert_int_equal(put(fx, "prov", "e/other", "{\"name\":\"1\"}", NULL), 201);
    assert_int_equal(put(fx, "prov", "e/t", "{\"name\":\"2\"}", NULL), 200);
    r2 = led_count(l);
    assert_int_equal(
        run(fx, CMD_RECORD_RETIRE, "prov", "e/t", "{\"reason\":\"r\"}", NULL)
            .status,
        200);
    r3 = led_count(l);
    assert_int_equal(idx_version_at(led_idx(l), &k, r0, &v, &rev),
                     PC_ENOTFOUND);
    assert_int_equal(idx_version_at(led_idx(l), &k, r1 + 1, &v, &rev), PC_OK);
    assert_int_equal(v, 1);
    assert_int_equal(rev, r1);
    assert_int_equal(idx_version_at(led_idx(l), &k, r2, &v, &rev), PC_OK);
    assert_int_equal(v, 2);
    assert_int_equal(idx_version_at(led_idx(l), &k, r3 + 5, &v, &rev), PC_OK);
    assert_int_equal(v, 3);
    assert_int_equal(rev, r3);
}

/* Key syntax: length, UTF-8, controls (C0, DEL, C1), dot segments. */
static void
test_records_key_syntax(void **state)
{
    char big[514];

    (void)state;
    assert_true(fsm_record_key_valid("a", 1));
    assert_true(fsm_record_key_valid("110101199003077777", 18));
    assert_true(fsm_record_key_valid("a/b c", 5));
    assert_true(fsm_record_key_valid("\xe5\x8c\x97\xe4\xba\xac", 6));
    assert_true(fsm_record_key_valid("...", 3));
    assert_false(fsm_record_key_valid("", 0));
    assert_false(fsm_record_key_valid(".", 1));
    assert_false(fsm_record_key_valid("..", 2));
    assert_false(fsm_record_key_valid("a\nb", 3));
    assert_false(fsm_record_key_valid("a\0b", 3));
    assert_false(fsm_record_key_valid("a\x7f", 2));
    assert_false(fsm_record_key_valid("a\xc2\x85", 3)); /* U+0085 NEL */
    assert_true(fsm_record_key_valid("a\xc2\xa0", 3));  /* U+00A0 */
    assert_false(fsm_record_key_valid("\xff", 1));
    assert_false(fsm_record_key_valid("\xed\xa0\x80", 3)); /* a surrogate */
    /* NFC: composed e-acute is a key, e + combining acute is not. */
    assert_true(fsm_record_key_valid("caf\xc3\xa9", 5));
    assert_false(fsm_record_key_valid("cafe\xcc\x81", 6));
    /* Hangul syllable vs its conjoining jamo; a singleton (U+212B). */
    assert_true(fsm_record_key_valid("\xea\xb0\x80", 3));
    assert_false(fsm_record_key_valid("\xe1\x84\x80\xe1\x85\xa1", 6));
    assert_false(fsm_record_key_valid("\xe2\x84\xab", 3));
    memset(big, 'k', sizeof(big));
    assert_true(fsm_record_key_valid(big, 512));
    assert_false(fsm_record_key_valid(big, 513));
    /* the same rules in apply */
    assert_int_equal(
        put(*(struct fsmfx **)state, "prov", "e/..", "{\"name\":\"x\"}", NULL),
        400);
    assert_int_equal(put(*(struct fsmfx **)state, "prov", "e/cafe\xcc\x81",
                         "{\"name\":\"x\"}", NULL),
                     400);
    memset(big, 0, sizeof(big));
    for (size_t i = 0; i + 3 <= 510; i += 3) {
        memcpy(big + i, "\xe2\x84\xab", 3); /* grows no larger under NFC */
    }
    assert_false(fsm_record_key_valid(big, 510));
}

/*
 * "on_conflict": "skip_identical" (a resumed import): an item whose live
 * record holds the same canonical document is skipped, whatever its
 * if_version; a different document still conflicts and nothing is written.
 */
static void
test_records_batch_skip_identical(void **state)
{
    struct fsmfx *fx = *state;
    struct led *l = fsm_led(fx->f);
    struct fsm_result r;
    uint64_t before;
    char buf[80];

    r = batch(fx, "prov", "e",
              "{\"records\":[{\"key\":\"a\",\"value\":{\"name\":\"1\"}},"
              "{\"key\":\"b\",\"value\":{\"name\":\"2\",\"n\":3}}]}",
              2);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_facts, 2);
    /* the same records again, keys reordered inside a value: all skipped */
    before = led_count(l);
    r = batch(fx, "prov", "e",
              "{\"on_conflict\":\"skip_identical\",\"records\":["
              "{\"key\":\"a\",\"value\":{\"name\":\"1\"},\"if_version\":0},"
              "{\"key\":\"b\",\"value\":{\"n\":3.0,\"name\":\"2\"}}]}",
              2);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_facts, 0);
    assert_int_equal(led_count(l), before);
    assert_int_equal(r.revision, before);
    /* one new, one identical: only the new one is written */
    r = batch(fx, "prov", "e",
              "{\"on_conflict\":\"skip_identical\",\"records\":["
              "{\"key\":\"a\",\"value\":{\"name\":\"1\"}},"
              "{\"key\":\"c\",\"value\":{\"name\":\"3\"}}]}",
              2);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_facts, 1);
    assert_int_equal(latest(fx, "e", "a"), 1);
    assert_int_equal(latest(fx, "e", "c"), 1);
    /* a different document with if_version 0 still conflicts: all or none */
    before = led_count(l);
    r = batch(fx, "prov", "e",
              "{\"on_conflict\":\"skip_identical\",\"records\":["
              "{\"key\":\"d\",\"value\":{\"name\":\"4\"}},"
              "{\"key\":\"b\",\"value\":{\"name\":\"changed\"},"
              "\"if_version\":0}]}",
              2);
    assert_int_equal(r.status, 409);
    assert_int_equal(led_count(l), before + 1); /* the rejection fact */
    assert_string_equal(detail_str(fx, "key", buf, sizeof(buf)), "b");
    assert_int_equal(latest(fx, "e", "d"), 0);
    /* without the flag an identical create is a conflict as before */
    r = batch(fx, "prov", "e",
              "{\"on_conflict\":\"fail\",\"records\":["
              "{\"key\":\"a\",\"value\":{\"name\":\"1\"},\"if_version\":0}]}",
              1);
    assert_int_equal(r.status, 409);
    /* a redacted document is never "the same": the item is written */
    {
        struct idx_key k = { FACT_RECORD, PC_SLICE_STR("e"),
                             PC_SLICE_STR("a") };
        uint64_t rev;

        assert_int_equal(idx_latest(led_idx(l), &k, &rev), 1);
        assert_int_equal(led_redact(l, rev), PC_OK);
    }
    r = batch(fx, "prov", "e",
              "{\"on_conflict\":\"skip_identical\",\"records\":["
              "{\"key\":\"a\",\"value\":{\"name\":\"1\"}}]}",
              1);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_facts, 1);
    assert_int_equal(latest(fx, "e", "a"), 2);
}

/* Batch bodies: envelope, items, sizes; the first failing item is named. */
static void
test_records_batch_parse(void **state)
{
    static const struct {
        const char *body;
        int rc;
        long index;
        const char *field;
    } cases[] = {
        { "{\"records\":[{\"key\":\"a\",\"value\":{}}]}", PC_OK, -1, "" },
        { "[]", PC_EINVAL, -1, "" },
        { "{\"records\":[]}", PC_EINVAL, -1, "records" },
        { "{}", PC_EINVAL, -1, "records" },
        { "{\"records\":[{\"value\":{}}]}", PC_EINVAL, 0, "key" },
        { "{\"records\":[{\"key\":7,\"value\":{}}]}", PC_EINVAL, 0, "key" },
        { "{\"records\":{}}", PC_EINVAL, -1, "records" },
        { "{\"recs\":[]}", PC_EINVAL, -1, "recs" },
        { "{\"records\":[{\"key\":\"a\",\"value\":{}}],\"on_conflict\":"
          "\"skip_identical\"}",
          PC_OK, -1, "" },
        { "{\"records\":[{\"key\":\"a\",\"value\":{}}],\"on_conflict\":"
          "\"skip\"}",
          PC_EINVAL, -1, "on_conflict" },
        { "{\"records\":[{\"key\":\"a\",\"value\":{}}],\"on_conflict\":1}",
          PC_EINVAL, -1, "on_conflict" },
        { "{\"records\":[{\"key\":\"a\",\"value\":{}},1]}", PC_EINVAL, 1,
          "records" },
        { "{\"records\":[{\"key\":\"\",\"value\":{}}]}", PC_EINVAL, 0, "key" },
        { "{\"records\":[{\"key\":\"a\",\"value\":[]}]}", PC_EINVAL, 0,
          "value" },
        { "{\"records\":[{\"key\":\"a\"}]}", PC_EINVAL, 0, "value" },
        { "{\"records\":[{\"key\":\"a\",\"value\":{},\"x\":1}]}", PC_EINVAL, 0,
          "x" },
        { "{\"records\":[{\"key\":\"a\",\"value\":{},\"if_version\":-1}]}",
          PC_EINVAL, 0, "if_version" },
        { "{\"records\":[{\"key\":\"a\",\"value\":{},\"if_version\":1.5}]}",
          PC_EINVAL, 0, "if_version" },
        /* of two repeats, the one earlier in the request is named */
        { "{\"records\":[{\"key\":\"a\",\"value\":{}},{\"key\":\"b\",\"value\""
          ":{}},{\"key\":\"b\",\"value\":{}},{\"key\":\"a\",\"value\":{}}]}",
          PC_EINVAL, 2, "key" },
        /* a duplicate before a later syntax error is the first failure */
        { "{\"records\":[{\"key\":\"a\",\"value\":{}},{\"key\":\"a\",\"value\""
          ":{}},{\"key\":\"\"}]}",
          PC_EINVAL, 1, "key" },
        { "{\"records\":[{\"key\":\"a\",\"value\":{}},{\"key\":\"\"},{\"key\":"
          "\"a\",\"value\":{}}]}",
          PC_EINVAL, 1, "key" },
        { "{\"records\":[{\"key\":\"a\",\"value\":{},\"value\":{}}]}",
          PC_EINVAL, -1, "" },
    };
    char msg[200], field[FSM_FIELD_LEN];
    struct fsm_batch b;
    long index;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = fsm_batch_parse(cases[i].body, strlen(cases[i].body), &b, msg,
                                 field, &index);

        if (rc != cases[i].rc || index != cases[i].index ||
            strcmp(field, cases[i].field) != 0) {
            fail_msg("case %zu: rc %d index %ld field '%s' (%s)", i, rc, index,
                     field, msg);
        }
        if (rc == PC_OK) {
            assert_int_equal(b.n, 1);
            assert_int_equal(b.items[0].if_version, -1);
            fsm_batch_release(&b);
        }
    }
}

/* Over 1000 records, or one document over 256 KiB canonical: refused;
 * 1000 are taken, unless a key repeats. */
static void
test_records_batch_limits(void **state)
{
    struct pc_buf body;
    char msg[200], field[FSM_FIELD_LEN];
    struct fsm_batch b;
    long index;

    (void)state;
    pc_buf_init(&body);
    assert_int_equal(pc_buf_printf(&body, "{\"records\":["), PC_OK);
    for (int i = 0; i < 1001; i++) {
        assert_int_equal(pc_buf_printf(&body,
                                       "%s{\"key\":\"k%d\",\"value\":{}}",
                                       i ? "," : "", i),
                         PC_OK);
    }
    assert_int_equal(pc_buf_printf(&body, "]}"), PC_OK);
    assert_int_equal(
        fsm_batch_parse(body.data, body.len, &b, msg, field, &index),
        PC_EINVAL);
    assert_string_equal(field, "records");
    /* 1000 distinct keys are taken; the same with the last repeating the
     * first is refused at the last (the duplicate check's largest set). */
    for (int dup = 0; dup <= 1; dup++) {
        body.len = 0;
        assert_int_equal(pc_buf_printf(&body, "{\"records\":["), PC_OK);
        for (int i = 0; i < 1000; i++) {
            assert_int_equal(
                pc_buf_printf(&body, "%s{\"key\":\"k%d\",\"value\":{}}",
                              i ? "," : "", i == 999 && dup ? 0 : i),
                PC_OK);
        }
        assert_int_equal(pc_buf_printf(&body, "]}"), PC_OK);
        int rc = fsm_batch_parse(body.data, body.len, &b, msg, field, &index);
        if (!dup) {
            assert_int_equal(rc, PC_OK);
            assert_int_equal(b.n, 1000);
            fsm_batch_release(&b);
        } else {
            assert_int_equal(rc, PC_EINVAL);
            assert_int_equal(index, 999);
            assert_string_equal(field, "key");
        }
    }
    body.len = 0;
    assert_int_equal(pc_buf_printf(&body,
                                   "{\"records\":[{\"key\":\"a\",\"value\":{}},"
                                   "{\"key\":\"b\",\"value\":{\"s\":\""),
                     PC_OK);
    assert_int_equal(pc_buf_reserve(&body, 300000), PC_OK);
    memset(body.data + body.len, 'x', 270000);
    body.len += 270000;
    assert_int_equal(pc_buf_printf(&body, "\"}}]}"), PC_OK);
    assert_int_equal(
        fsm_batch_parse(body.data, body.len, &b, msg, field, &index),
        PC_ETOOLARGE);
    assert_int_equal(index, 1);
    assert_string_equal(field, "value");
    pc_buf_release(&body);
}

/* An idempotent PUT replays 201 without appending; audit is system-only. */
static void
test_records_replay_and_audit(void **state)
{
    struct fsmfx *fx = *state;
    struct led *l = fsm_led(fx->f);
    struct fsm_result r;
    uint64_t before;
    uint32_t kind;
    json_t *p;

    r = run_idem(fx, CMD_RECORD_PUT, "prov", "e/i", "{\"name\":\"1\"}", EXTRA_A,
                 "k1");
    assert_int_equal(r.status, 201);
    before = led_count(l);
    r = run_idem(fx, CMD_RECORD_PUT, "prov", "e/i", "{\"name\":\"1\"}",
                 "{\"salt\":\"" SALT_B "\"}", "k1");
    assert_int_equal(r.status, 201);
    assert_true(r.replayed);
    assert_int_equal(led_count(l), before);
    /* a refused batch replays its refusal */
    assert_int_equal(
        run_idem(fx, CMD_RECORD_PUT, "prov", "e/i", "{}", EXTRA_A, "k2").status,
        422);
    before = led_count(l);
    r = run_idem(fx, CMD_RECORD_PUT, "prov", "e/i", "{}", EXTRA_A, "k2");
    assert_int_equal(r.status, 422);
    assert_true(r.replayed);
    assert_int_equal(led_count(l), before);

    r = run(fx, CMD_AUDIT, NULL, NULL, NULL,
            "{\"events\":[{\"principal\":\"cons\",\"action\":\"record.read\","
            "\"entry\":\"e\",\"key\":\"i\",\"version\":1}]}");
    assert_int_equal(r.status, 200);
    p = last_payload(fx, &kind);
    assert_int_equal(kind, FACT_AUDIT);
    assert_int_equal(json_array_size(json_object_get(p, "events")), 1);
    json_decref(p);
    assert_int_equal(
        run(fx, CMD_AUDIT, NULL, NULL, NULL, "{\"events\":[]}").status, 400);
    assert_int_equal(
        run(fx, CMD_AUDIT, "admin", NULL, NULL, "{\"events\":[{}]}").status,
        403);
}

/* Rebuilding from the ledger gives the same state: records derive nothing
 * outside it, so a restored node answers exactly like the original. */
static void
test_records_restore_same(void **state)
{
    struct fsmfx *fx = *state;
    struct led *copy;
    char errmsg[PC_ERRMSG_SIZE];
    struct pc_slice enc;

    assert_int_equal(put(fx, "prov", "e/r", "{\"name\":\"1\"}", NULL), 201);
    assert_int_equal(put(fx, "prov", "e/r", "{\"name\":\"2\"}", NULL), 200);
    assert_int_equal(led_new(&copy), PC_OK);
    for (uint64_t r = 1; r <= led_count(fsm_led(fx->f)); r++) {
        struct pc_buf doc;
        uint8_t salt[PC_SALT_LEN];
        struct led_doc d;

        pc_buf_init(&doc);
        assert_int_equal(led_encoding(fsm_led(fx->f), r, &enc), PC_OK);
        if (led_doc_get(fsm_led(fx->f), r, &doc, salt) == PC_OK) {
            d = (struct led_doc){ salt, doc.data, doc.len };
            assert_int_equal(
                led_append_encoded(copy, enc.p, enc.len, &d, r, errmsg), PC_OK);
        } else {
            assert_int_equal(
                led_append_encoded(copy, enc.p, enc.len, NULL, r, errmsg),
                PC_OK);
        }
        pc_buf_release(&doc);
    }
    assert_int_equal(fsm_restore(fx->f, copy, errmsg), PC_OK);
    assert_int_equal(latest(fx, "e", "r"), 2);
    assert_int_equal(put(fx, "prov", "e/r", "{\"name\":\"3\"}",
                         "{\"salt\":\"" SALT_A "\",\"if_match\":2}"),
                     200);
}

/* Apply `entry` with the k-th allocation failing, for k = 0, 1, ... until
 * it applies: every failure is PC_ENOMEM and leaves the ledger as it was
 * (an allocation failure is never a verdict: no rejection fact); then the
 * result's status is `want`. */
static void
oom_sweep(struct fsmfx *fx, const struct pc_buf *entry, int want)
{
    fsmfx_oom_apply(fx, entry, want);
}

/* Out of memory anywhere in a batch (both forms), a PUT, a retire, a
 * correction, a refusal or an audit batch leaves the ledger unchanged; the
 * retry applies it. */
static void
test_records_oom(void **state)
{
    struct fsmfx *fx = *state;
    static const char body[] =
        "{\"records\":[{\"key\":\"a\",\"value\":{\"name\":\"1\"}},"
        "{\"key\":\"b\",\"value\":{\"name\":\"2\",\"o\":{\"x\":[1]}}}]}";
    struct pc_buf entry, prep;

    pc_buf_init(&entry);
    fsmfx_encode(fx, &entry, CMD_RECORD_BATCH, "prov", "e", body,
                 "{\"salts\":[\"" SALT_A "\",\"" SALT_B "\"]}", NULL);
    oom_sweep(fx, &entry, 200);
    assert_int_equal(latest(fx, "e", "a"), 1);
    assert_int_equal(latest(fx, "e", "b"), 1);
    entry.len = 0;
    prepare(fx, "e", body, &prep);
    fsmfx_encode_len(fx, &entry, CMD_RECORD_BATCH2, "prov", "e", prep.data,
                     prep.len, NULL, NULL);
    pc_buf_release(&prep);
    oom_sweep(fx, &entry, 200);
    assert_int_equal(latest(fx, "e", "a"), 2);
    entry.len = 0;
    fsmfx_encode(fx, &entry, CMD_RECORD_PUT, "prov", "e/c", "{\"name\":\"3\"}",
                 EXTRA_A, NULL);
    oom_sweep(fx, &entry, 201);
    entry.len = 0;
    fsmfx_encode(fx, &entry, CMD_RECORD_RETIRE, "prov", "e/c",
                 "{\"reason\":\"r\"}", "{\"if_match\":1}", NULL);
    oom_sweep(fx, &entry, 200);
    entry.len = 0;
    fsmfx_encode(fx, &entry, CMD_RECORD_CORRECT, "prov", "e/c",
                 "{\"value\":{\"name\":\"4\"},\"reason\":\"r\"}", EXTRA_A,
                 NULL);
    oom_sweep(fx, &entry, 200);
    assert_int_equal(latest(fx, "e", "c"), 3);
    pc_buf_release(&entry);

    /* Refusals whose facts carry a detail; an idempotent replay of a PUT;
     * read-audit batches. */
    fsmfx_oom_run(fx, CMD_RECORD_PUT, "prov", "e/c", "{\"name\":\"5\"}",
                  "{\"salt\":\"" SALT_A "\",\"if_match\":1}", NULL, 409);
    fsmfx_oom_run(fx, CMD_RECORD_PUT, "prov", "e/d", "{\"n\":1}", EXTRA_A, NULL,
                  422);
    fsmfx_oom_run(fx, CMD_RECORD_RETIRE, "prov", "e/c", "{\"x\":1}", NULL, NULL,
                  400);
    fsmfx_oom_run(fx, CMD_RECORD_BATCH, "prov", "e",
                  "{\"records\":[{\"key\":\"a\",\"value\":{}}]}",
                  "{\"salts\":\"" SALT_A "\"}", NULL, 422);
    fsmfx_oom_run(fx, CMD_RECORD_PUT, "prov", "e/d", "{\"name\":\"6\"}",
                  EXTRA_A, "put-d", 201);
    assert_true(fsmfx_oom_run(fx, CMD_RECORD_PUT, "prov", "e/d",
                              "{\"name\":\"6\"}", EXTRA_A, "put-d", 201)
                    .replayed);
    fsmfx_oom_run(fx, CMD_AUDIT, NULL, NULL, NULL,
                  "{\"events\":[{\"principal\":\"cons\",\"entry\":\"e\","
                  "\"count\":3,\"w\":[1.5,null]}]}",
                  NULL, 200);
    fsmfx_oom_run(fx, CMD_AUDIT, NULL, NULL, NULL, "{\"events\":[2]}", NULL,
                  400);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_records_role_class_table, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_published_stays_in_force,
                                        setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_entry_state, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_schema_names_field, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_preconditions, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_batch_atomic, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_retire_recreate, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_hashes, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_batch_salts, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_batch_prepared, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_batch_prepared_malformed,
                                        setup, fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_at_revision, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_key_syntax, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_batch_skip_identical,
                                        setup, fsmfx_teardown),
        cmocka_unit_test(test_records_batch_parse),
        cmocka_unit_test(test_records_batch_limits),
        cmocka_unit_test_setup_teardown(test_records_replay_and_audit, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_restore_same, setup,
                                        fsmfx_teardown),
        cmocka_unit_test_setup_teardown(test_records_oom, setup,
                                        fsmfx_teardown),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
