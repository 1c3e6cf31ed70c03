/* SPDX-License-Identifier: MIT */
/*
 * The reports at scale, in the state machine alone: a catalog of 100
 * entries of 50 orgs holding BENCH_REPORTS_RECORDS records (default
 * 1,000,000; updates and retirements besides), with share requests and
 * grants, open requests, objections, refused writes and read-audit batches
 * (200,000 events; BENCH_REPORTS_BATCHES batches of 1000), built through
 * fsm_apply as replicas build it. Then
 * times, each the best of BENCH_REPORTS_RUNS (default 20):
 *
 *   - the quality counters of every entry (what GET /v1/quality reads);
 *   - the evaluation's rows, overall and per org (GET /v1/evaluation);
 *   - audit-log pages of 100 events: unfiltered, one reader's reads
 *     (inside audit batches), one entry's writes, refusals, the newest;
 *   - for comparison, a recount of every record by scanning (what the
 *     reports would cost without counters), once;
 *   - the completeness recount after a change of one entry's required
 *     fields (apply of the change, then the walk, per key);
 *   - a rebuild of the derived state from the ledger, as a snapshot
 *     install does, once.
 *
 * Prints one line per result. The HTTP layer's JSON is not included.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/jcs.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/idx.h"
#include "storage/led.h"
#include "tests/bench/benchlib.h"
#include "tests/lib/cmdfx.h"

#define N_ORGS    50
#define N_ENTRIES 100
#define PER_BATCH 1000
#define SALT      "{\"salt\":\"00112233445566778899aabbccddeeff\"}"

static struct bench bn = { .now_ms = BENCH_EPOCH_MS,
                           .step_ms = 10,
                           .request_id = "bench" };

static const char *const classes[] = { "none", "conditional", "unconditional" };
static const char *const freqs[] = { "realtime", "daily",  "weekly",
                                     "monthly",  "yearly", "irregular" };

/* Entry j: provider org-(j % N_ORGS); share class j % 3 (none,
 * conditional, unconditional), the open class at most that. */
static void
entry_body(char *b, size_t cap, int j, bool require_n)
{
    int share = j % 3, open = share == 2 ? (j / 3) % 3 : share == 1 ? 1 : 0;

    snprintf(b, cap,
             "{\"id\":\"ent-%d\",\"title\":\"entry %d\",\"provider\":"
             "\"org-%d\",\"fields\":[{\"name\":\"name\",\"type\":\"string\","
             "\"required\":true},{\"name\":\"n\",\"type\":\"integer\","
             "\"required\":%s}],\"share\":{\"class\":\"%s\"%s},\"open\":"
             "{\"class\":\"%s\"},\"update_frequency\":\"%s\","
             "\"security_level\":2,\"scope\":\"province\"}",
             j, j, j % N_ORGS, require_n ? "true" : "false", classes[share],
             share == 0 ? ",\"basis\":\"law\"" : "", classes[open],
             freqs[j % 6]);
}

static void
setup(void)
{
    char extra[256], body[1024], id[64];

    bench_start(&bn);
    bench_token_extra(extra, sizeof(extra), "", "aud");
    bench_run(&bn, CMD_PRINCIPAL_CREATE, "admin", NULL,
              "{\"id\":\"aud\",\"org\":\"authority\",\"roles\":[\"auditor\"]}",
              extra, 201);
    for (int i = 0; i < N_ORGS; i++) {
        snprintf(body, sizeof(body),
                 "{\"id\":\"org-%d\",\"name\":\"n\",\"level\":\"province\","
                 "\"kind\":\"agency\",\"parent\":\"authority\"}",
                 i);
        bench_run(&bn, CMD_ORG_CREATE, "admin", NULL, body, NULL, 201);
        for (int r = 0; r < 2; r++) {
            snprintf(id, sizeof(id), "%s-%d", r ? "cons" : "prov", i);
            snprintf(body, sizeof(body),
                     "{\"id\":\"%s\",\"org\":\"org-%d\",\"roles\":[\"%s\"]}",
                     id, i, r ? "consumer" : "provider");
            bench_token_extra(extra, sizeof(extra), "", id);
            bench_run(&bn, CMD_PRINCIPAL_CREATE, "admin", NULL, body, extra,
                      201);
        }
    }
    for (int j = 0; j < N_ENTRIES; j++) {
        char prov[32], eid[32];

        entry_body(body, sizeof(body), j, false);
        snprintf(prov, sizeof(prov), "prov-%d", j % N_ORGS);
        snprintf(eid, sizeof(eid), "ent-%d", j);
        bench_run(&bn, CMD_ENTRY_CREATE, prov, NULL, body, NULL, 201);
        bench_run(&bn, CMD_ENTRY_SUBMIT, prov, eid, NULL, NULL, 200);
        bench_run(&bn, CMD_ENTRY_REVIEW, "admin", eid,
                  "{\"decision\":\"approve\",\"override_duplicate\":true,"
                  "\"reason\":\"r\"}",
                  NULL, 200);
    }
}

/* `n` records of entry j in batches of PER_BATCH, prepared as a leader
 * does (keys k-<i>; every tenth without "n"). */
static void
records(int j, long n)
{
    char prov[32], eid[32], key[64], d[128];

    snprintf(prov, sizeof(prov), "prov-%d", j % N_ORGS);
    snprintf(eid, sizeof(eid), "ent-%d", j);
    for (long at = 0; at < n; at += PER_BATCH) {
        uint8_t salts[PER_BATCH * PC_SALT_LEN] = { 0 };
        char msg[200], field[FSM_FIELD_LEN];
        struct pc_buf body, prep;
        struct fsm_batch b;
        long index, m = n - at < PER_BATCH ? n - at : PER_BATCH;

        pc_buf_init(&body);
        pc_buf_init(&prep);
        pc_buf_put(&body, "{\"records\":[", 12);
        for (long i = 0; i < m; i++) {
            snprintf(key, sizeof(key), "k-%ld", at + i);
            if ((at + i) % 10 == 0) {
                snprintf(d, sizeof(d), "{\"name\":\"record %ld of %d\"}",
                         at + i, j);
            } else {
                snprintf(d, sizeof(d),
                         "{\"name\":\"record %ld of %d\",\"n\":%ld}", at + i, j,
                         at + i);
            }
            pc_buf_printf(&body, "%s{\"key\":\"%s\",\"value\":%s}",
                          i ? "," : "", key, d);
            memcpy(salts + i * PC_SALT_LEN, &i, sizeof(i));
        }
        pc_buf_put(&body, "]}", 2);
        if (fsm_batch_parse(body.data, body.len, &b, msg, field, &index) !=
                PC_OK ||
            fsm_batch_prepare(bn.f, eid, &b, salts, &prep) != PC_OK) {
            bench_die(msg);
        }
        fsm_batch_release(&b);
        bench_run_len(&bn, CMD_RECORD_BATCH2, prov, eid, prep.data, prep.len,
                      NULL, 200);
        pc_buf_release(&body);
        pc_buf_release(&prep);
    }
}

/* Updates, retirements and refused writes of entry j's first keys. */
static void
churn(int j, long updates, long retires, long refused)
{
    char prov[32], target[96], d[128];

    snprintf(prov, sizeof(prov), "prov-%d", j % N_ORGS);
    for (long i = 0; i < updates; i++) {
        snprintf(target, sizeof(target), "ent-%d/k-%ld", j, i);
        snprintf(d, sizeof(d), "{\"name\":\"updated\",\"n\":%ld}", i);
        bench_run(&bn, CMD_RECORD_PUT, prov, target, d, SALT, 200);
    }
    for (long i = 0; i < retires; i++) {
        snprintf(target, sizeof(target), "ent-%d/k-%ld", j, updates + i);
        bench_run(&bn, CMD_RECORD_RETIRE, prov, target, "{\"reason\":\"gone\"}",
                  NULL, 200);
    }
    for (long i = 0; i < refused; i++) {
        snprintf(target, sizeof(target), "ent-%d/bad-%ld", j, i);
        bench_run(&bn, CMD_RECORD_PUT, prov, target, "{\"n\":1}", SALT, 422);
    }
}

/* Share requests on the conditional entries by consumers of other orgs,
 * half decided; open requests on the conditionally open ones, half
 * decided; objections, some accepted. */
static void
workflows(int n)
{
    char body[512], id[64], cons[32], prov[32];

    for (int i = 0; i < n; i++) {
        int j = 1 + 3 * (i % (N_ENTRIES / 3)); /* share class conditional */
        int other = (j % N_ORGS + 1 + i % (N_ORGS - 1)) % N_ORGS;
        struct fsm_result r;

        snprintf(cons, sizeof(cons), "cons-%d", other);
        snprintf(prov, sizeof(prov), "prov-%d", j % N_ORGS);
        snprintf(body, sizeof(body),
                 "{\"entry\":\"ent-%d\",\"purpose\":\"duty\",\"days\":%d}", j,
                 1 + i % 365);
        r = bench_run(&bn, CMD_SHARE_REQUEST, cons, NULL, body, NULL, 201);
        if (i % 2 == 0) {
            snprintf(id, sizeof(id), "sr-%llu",
                     (unsigned long long)r.first_rev);
            bench_run(&bn, CMD_SHARE_DECIDE, prov, id,
                      "{\"decision\":\"approve\"}", NULL, 200);
            bench_run(&bn, CMD_SHARE_DECIDE, "admin", id,
                      i % 4 == 0
                          ? "{\"decision\":\"approve\"}"
                          : "{\"decision\":\"reject\",\"reason\":\"no\"}",
                      NULL, 200);
        }
        snprintf(body, sizeof(body),
                 "{\"entry\":\"ent-%d\",\"applicant\":\"a\",\"data_type\":"
                 "\"t\",\"description\":\"d\",\"purpose\":\"p\"}",
                 j);
        r = bench_run(&bn, CMD_OPEN_REQUEST, cons, NULL, body, NULL, 201);
        if (i % 2 == 1) {
            snprintf(id, sizeof(id), "or-%llu",
                     (unsigned long long)r.first_rev);
            bench_run(&bn, CMD_OPEN_DECIDE, prov, id,
                      "{\"decision\":\"approve\"}", NULL, 200);
        }
        snprintf(body, sizeof(body),
                 "{\"entry\":\"ent-%d\",\"key\":\"k-%d\",\"kind\":\"error\","
                 "\"description\":\"wrong\"}",
                 2 + 3 * (i % (N_ENTRIES / 3)), i);
        r = bench_run(&bn, CMD_OBJECTION_FILE, cons, NULL, body, NULL, 201);
        if (i % 3 == 0) {
            snprintf(id, sizeof(id), "ob-%llu",
                     (unsigned long long)r.first_rev);
            bench_run(&bn, CMD_OBJECTION_DECIDE, "admin", id,
                      "{\"decision\":\"accept\",\"reason\":\"yes\"}", NULL,
                      200);
        }
    }
}

/* `batches` audit batches of PER_BATCH reads by the consumers. */
static void
audit(int batches)
{
    for (int b = 0; b < batches; b++) {
        struct fsm_audit_doc *d;
        struct pc_buf doc;

        pc_buf_init(&doc);
        if (fsm_audit_doc_new(&d) != PC_OK) {
            bench_die("audit doc");
        }
        for (int i = 0; i < PER_BATCH; i++) {
            char who[32], org[32], entry[32], key[32];
            int c = (b * 7 + i) % N_ORGS;
            struct fsm_audit_event e = { who, org, "record.read", entry, key, 0,
                                         1,   -1,  bn.now_ms,     NULL };

            snprintf(who, sizeof(who), "cons-%d", c);
            snprintf(org, sizeof(org), "org-%d", c);
            snprintf(entry, sizeof(entry), "ent-%d", 2 + 3 * (i % 33));
            snprintf(key, sizeof(key), "k-%d", i * 7 + b);
            e.key_len = strlen(key);
            if (fsm_audit_doc_add(d, &e) != PC_OK) {
                bench_die("audit add");
            }
        }
        if (fsm_audit_doc_finish(d, &doc) != PC_OK) {
            bench_die("audit finish");
        }
        fsm_audit_doc_free(d);
        bench_run_len(&bn, CMD_AUDIT, NULL, NULL, doc.data, doc.len, SALT, 200);
        pc_buf_release(&doc);
    }
}

static double best_s;

static void
best(double t0)
{
    double t = bench_secs() - t0;

    best_s = t < best_s ? t : best_s;
}

static uint64_t sink; /* keeps the timed reads from being optimised out */

static void
time_quality(int runs, int64_t now)
{
    best_s = 1e9;
    for (int r = 0; r < runs; r++) {
        double t0 = bench_secs();

        for (int j = 0; j < N_ENTRIES; j++) {
            char eid[32];
            struct fsm_quality q;

            snprintf(eid, sizeof(eid), "ent-%d", j);
            if (fsm_quality(bn.f, eid, now, &q) != PC_OK) {
                bench_die("quality");
            }
            sink += q.records + q.complete + q.rejected_total + q.timeliness;
        }
        best(t0);
    }
    printf("quality, %d entries              %10.3f ms  (%.2f us/entry)\n",
           N_ENTRIES, best_s * 1e3, best_s * 1e6 / N_ENTRIES);
}

static bool
overdue_cb(void *arg, const struct fsm_open_request *r)
{
    (void)r;
    (*(uint64_t *)arg)++;
    return true;
}

static void
time_evaluation(int runs, int64_t now)
{
    best_s = 1e9;
    for (int r = 0; r < runs; r++) {
        double t0 = bench_secs();
        uint64_t overdue = 0;
        struct fsm_entry_classes ec;
        struct fsm_share_stats ss;
        struct fsm_open_stats os;

        fsm_open_overdue_each(bn.f, now, overdue_cb, &overdue);
        fsm_entry_classes(bn.f, NULL, &ec);
        fsm_share_stats(bn.f, FSM_SHARE_ALL, NULL, now, &ss);
        fsm_open_stats(bn.f, NULL, NULL, INT64_MIN, &os);
        sink += overdue + ec.total + ss.grants_active + os.pending;
        for (int i = 0; i < N_ORGS; i++) {
            char org[32];

            snprintf(org, sizeof(org), "org-%d", i);
            fsm_entry_classes(bn.f, org, &ec);
            fsm_share_stats(bn.f, FSM_SHARE_PROVIDER, org, now, &ss);
            sink += ec.total + ss.grants_active + ss.requests_total;
            fsm_share_stats(bn.f, FSM_SHARE_REQUESTER, org, now, &ss);
            fsm_open_stats(bn.f, org, NULL, INT64_MIN, &os);
            sink += ss.grants_active + os.pending + os.approved;
        }
        best(t0);
    }
    printf("evaluation, overall + %d orgs    %10.3f ms\n", N_ORGS,
           best_s * 1e3);
}

static bool
count_cb(void *arg, const struct fsm_audit_item *it)
{
    (void)it;
    (*(size_t *)arg)++;
    return true;
}

static void
time_audit(int runs, const char *name, const struct fsm_audit_filter *flt)
{
    const struct fsm_principal *aud = fsm_principal(bn.f, "aud");
    size_t got = 0;

    best_s = 1e9;
    for (int r = 0; r < runs; r++) {
        struct fsm_audit_pos pos = { 0, 0 };
        double t0 = bench_secs();
        bool more;

        got = 0;
        if (fsm_audit_query(bn.f, aud, flt, 100, &pos, &more, count_cb, &got) !=
            PC_OK) {
            bench_die("audit query");
        }
        best(t0);
    }
    printf("audit page of 100, %-14s %10.3f ms  (%zu events)\n", name,
           best_s * 1e3, got);
}

/* What a report would cost without counters: every record read back. */
struct scan {
    uint64_t live, complete;
};

static bool
scan_cb(void *arg, struct pc_slice key, uint64_t latest, uint64_t rev)
{
    struct scan *s = arg;
    struct pc_buf json;
    struct jcs_doc *d;
    struct fact f;

    (void)key, (void)latest;
    if (led_get(fsm_led(bn.f), rev, &f) != PC_OK || !f.has_content) {
        return true;
    }
    s->live++;
    pc_buf_init(&json);
    if (led_doc_get(fsm_led(bn.f), rev, &json, NULL) == PC_OK &&
        jcs_parse((const char *)json.data, json.len, &d, NULL) == PC_OK) {
        s->complete += jcs_get(jcs_root(d), "name", 4) != NULL;
        jcs_doc_free(d);
    }
    pc_buf_release(&json);
    return true;
}

int
main(int argc, char **argv)
{
    const char *env = getenv("BENCH_REPORTS_RECORDS");
    const char *renv = getenv("BENCH_REPORTS_RUNS");
    long total = env != NULL ? atol(env) : 1000000;
    int runs = renv != NULL ? atoi(renv) : 20;
    long per_entry = total / N_ENTRIES;
    double t0;
    int64_t now;
    char body[1024];
    struct fsm_audit_filter all = {
        NULL, NULL, NULL, NULL, INT64_MIN, INT64_MAX
    };

    if (argc > 1 || per_entry < 100 || runs < 1) {
        printf("usage: bench_reports (env BENCH_REPORTS_RECORDS, default "
               "1000000, at least 10000; BENCH_REPORTS_RUNS, default 20)\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    t0 = bench_secs();
    setup();
    for (int j = 0; j < N_ENTRIES; j++) {
        records(j, per_entry);
        churn(j, per_entry / 20, per_entry / 100, 10);
    }
    workflows(2000);
    audit(getenv("BENCH_REPORTS_BATCHES") != NULL
              ? atoi(getenv("BENCH_REPORTS_BATCHES"))
              : 200);
    now = led_time(fsm_led(bn.f));
    printf("built: %ld records in %d entries, %llu facts, in %.1f s\n",
           per_entry * N_ENTRIES, N_ENTRIES,
           (unsigned long long)led_count(fsm_led(bn.f)), bench_secs() - t0);
    time_quality(runs, now);
    time_evaluation(runs, now);
    time_audit(runs, "unfiltered", &all);
    {
        struct fsm_audit_filter f = all;

        f.principal = "cons-7";
        time_audit(runs, "one reader", &f);
        f = all;
        f.entry = "ent-42";
        time_audit(runs, "one entry", &f);
        f = all;
        f.action = "rejection";
        time_audit(runs, "refusals", &f);
        f = all;
        f.since_ms = now - 1000;
        time_audit(runs, "the newest", &f);
    }
    /* Without counters: every record of every entry read back. */
    {
        struct scan s = { 0, 0 };

        t0 = bench_secs();
        for (int j = 0; j < N_ENTRIES; j++) {
            char eid[32];

            snprintf(eid, sizeof(eid), "ent-%d", j);
            idx_scan(led_idx(fsm_led(bn.f)), FACT_RECORD, PC_SLICE_STR(eid),
                     (struct pc_slice){ NULL, 0 }, (struct pc_slice){ NULL, 0 },
                     scan_cb, &s);
        }
        printf("recount by scanning, all records %10.1f ms  (%llu live)\n",
               (bench_secs() - t0) * 1e3, (unsigned long long)s.live);
    }
    /* A change of required fields of one entry: "n" required. */
    {
        struct fsm_quality q;
        double apply_s;
        size_t keys = 0;

        entry_body(body, sizeof(body), 1, true);
        t0 = bench_secs();
        bench_run(&bn, CMD_ENTRY_UPDATE, "prov-1", "ent-1", body,
                  "{\"if_match\":3}", 200);
        bench_run(&bn, CMD_ENTRY_REVIEW, "admin", "ent-1",
                  "{\"decision\":\"approve\",\"override_duplicate\":true,"
                  "\"reason\":\"r\"}",
                  NULL, 200);
        apply_s = bench_secs() - t0;
        t0 = bench_secs();
        while (fsm_reports_pending(bn.f)) {
            keys += fsm_reports_step(bn.f, 256);
        }
        if (fsm_quality(bn.f, "ent-1", now, &q) != PC_OK || q.unchecked != 0) {
            bench_die("recount");
        }
        printf("schema change, apply (update+review) %7.3f ms\n",
               apply_s * 1e3);
        printf("completeness recount, %zu keys  %10.1f ms  (%.2f us/key; "
               "%llu of %llu complete)\n",
               keys, (bench_secs() - t0) * 1e3,
               (bench_secs() - t0) * 1e6 / (double)keys,
               (unsigned long long)q.complete, (unsigned long long)q.records);
    }
    /* What a replica installing a snapshot does: rebuild the derived
     * state (counters and indexes included) from the ledger. */
    {
        struct led *copy;
        struct fsm *g;
        char errmsg[PC_ERRMSG_SIZE];
        double copy_s;

        t0 = bench_secs();
        if (cmdfx_led_copy(fsm_led(bn.f), &copy, errmsg) != PC_OK) {
            bench_die(errmsg);
        }
        copy_s = bench_secs() - t0;
        if (fsm_new(&g) != PC_OK) {
            bench_die("fsm_new");
        }
        t0 = bench_secs();
        if (fsm_restore(g, copy, errmsg) != PC_OK) {
            bench_die(errmsg);
        }
        printf("rebuild of the derived state     %10.1f ms  (%llu facts; "
               "the ledger copy %.1f ms)\n",
               (bench_secs() - t0) * 1e3,
               (unsigned long long)led_count(fsm_led(g)), copy_s * 1e3);
        fsm_free(g);
    }
    fsm_free(bn.f);
    return sink == 42 ? 1 : 0;
}
