/* SPDX-License-Identifier: MIT */
/*
 * The state machine alone: how much CPU one replica spends applying record
 * commands, without raft, HTTP or disk. A published entry, then
 * BENCH_APPLY_BATCHES (default 2000) records:batch commands of 100 new
 * ~256-byte records, prepared as a leader does (whose parse and prepare is
 * timed too), then ten times as many single-record PUTs; prints us per
 * record. Every replica applies every record, so the cluster pays apply
 * three times and the parse once. Then as many org and principal creations,
 * updates of a 20-field catalog entry and entry status changes; prints us
 * per command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "tests/bench/benchlib.h"

#define PER_BATCH 100

static struct bench bn = { .now_ms = BENCH_EPOCH_MS,
                           .step_ms = 1,
                           .request_id = "bench" };

static void
setup(void)
{
    char extra[200];

    bench_start(&bn);
    bench_run(&bn, CMD_ORG_CREATE, "admin", NULL,
              "{\"id\":\"dept\",\"name\":\"n\",\"level\":\"province\",\"kind\":"
              "\"agency\",\"parent\":\"authority\",\"authority\":false}",
              NULL, 201);
    bench_token_extra(extra, sizeof(extra), "", "prov");
    bench_run(&bn, CMD_PRINCIPAL_CREATE, "admin", NULL,
              "{\"id\":\"prov\",\"org\":\"dept\",\"roles\":[\"provider\"]}",
              extra, 201);
    bench_run(
        &bn, CMD_ENTRY_CREATE, "prov", NULL,
        "{\"id\":\"bench\",\"title\":\"bench\",\"description\":\"d\","
        "\"provider\":\"dept\",\"theme\":\"t\",\"keywords\":[],"
        "\"fields\":[{\"name\":\"name\",\"type\":\"string\",\"required\":true},"
        "{\"name\":\"n\",\"type\":\"integer\",\"required\":false},"
        "{\"name\":\"note\",\"type\":\"string\",\"required\":false}],"
        "\"share\":{\"class\":\"unconditional\"},\"open\":{\"class\":"
        "\"unconditional\"},\"update_frequency\":\"daily\","
        "\"security_level\":2,\"scope\":\"province\"}",
        NULL, 201);
    bench_run(&bn, CMD_ENTRY_SUBMIT, "prov", "bench", NULL, NULL, 200);
    bench_run(&bn, CMD_ENTRY_REVIEW, "admin", "bench",
              "{\"decision\":\"approve\"}", NULL, 200);
}

/* A record document like the cluster benchmark's (~256 bytes). */
static void
doc(struct pc_buf *b, const char *key, long n)
{
    char d[400];
    int pad = 220 - (int)strlen(key);

    snprintf(d, sizeof(d),
             "{\"name\":\"bench batch %s\",\"n\":%ld,\"note\":\"%.*s\"}", key,
             n, pad,
             "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
             "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
             "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
             "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
    pc_buf_put(b, d, strlen(d));
}

static void
salt_hex(char out[2 * PC_SALT_LEN + 1], long i)
{
    uint8_t s[PC_SALT_LEN];

    memset(s, 0, sizeof(s));
    memcpy(s, &i, sizeof(i));
    pc_hex(out, s, PC_SALT_LEN);
}

/* An entry body with `n_fields` declared fields and every optional member,
 * as a provider writes one. */
static void
entry_body(struct pc_buf *b, const char *id, int n_fields, const char *descr)
{
    pc_buf_printf(b,
                  "{\"id\":\"%s\",\"title\":\"Catalog %s\",\"description\":"
                  "\"%s\",\"provider\":\"dept\",\"theme\":\"environment\","
                  "\"keywords\":[\"air\",\"quality\",\"hourly\"],\"fields\":[",
                  id, id, descr);
    for (int i = 0; i < n_fields; i++) {
        pc_buf_printf(b,
                      "%s{\"name\":\"field_%d\",\"type\":\"%s\","
                      "\"required\":%s,\"description\":\"the field %d\"}",
                      i ? "," : "", i, i % 3 ? "string" : "integer",
                      i % 2 ? "true" : "false", i);
    }
    pc_buf_printf(b, "],\"share\":{\"class\":\"conditional\",\"conditions\":"
                     "\"ask the provider\"},\"open\":{\"class\":\"none\","
                     "\"basis\":\"art. 18\"},\"update_frequency\":\"daily\","
                     "\"security_level\":2,\"scope\":\"province\"}");
}

static double
per_command_us(double t0, long n)
{
    return (bench_secs() - t0) * 1e6 / (double)n;
}

/*
 * The catalog commands, whose JSON is parsed and built by the rules: org
 * creations, principal creations, updates of a 20-field entry, and status
 * transitions of another (submit, then reject), each `n` times.
 */
static void
catalog(long n)
{
    char id[64], extra[200];
    struct pc_buf b, e;
    double t0;

    t0 = bench_secs();
    for (long i = 0; i < n; i++) {
        pc_buf_init(&b);
        pc_buf_init(&e);
        snprintf(id, sizeof(id), "org-%ld", i);
        pc_buf_printf(&b,
                      "{\"id\":\"%s\",\"name\":\"Department %ld\",\"level\":"
                      "\"city\",\"kind\":\"agency\",\"parent\":\"authority\","
                      "\"authority\":false}",
                      id, i);
        bench_encode(&bn, &e, CMD_ORG_CREATE, "admin", NULL,
                     (const char *)b.data, NULL);
        bench_apply(&bn, &e, CMD_ORG_CREATE, 201);
        pc_buf_release(&e);
        pc_buf_release(&b);
    }
    printf("apply org.create               %8.2f us/command\n",
           per_command_us(t0, n));
    t0 = bench_secs();
    for (long i = 0; i < n; i++) {
        pc_buf_init(&b);
        pc_buf_init(&e);
        snprintf(id, sizeof(id), "p-%ld", i);
        pc_buf_printf(&b,
                      "{\"id\":\"%s\",\"org\":\"org-%ld\",\"roles\":"
                      "[\"provider\",\"consumer\"]}",
                      id, i);
        bench_token_extra(extra, sizeof(extra), "", id);
        bench_encode(&bn, &e, CMD_PRINCIPAL_CREATE, "admin", NULL,
                     (const char *)b.data, extra);
        bench_apply(&bn, &e, CMD_PRINCIPAL_CREATE, 201);
        pc_buf_release(&e);
        pc_buf_release(&b);
    }
    printf("apply principal.create         %8.2f us/command\n",
           per_command_us(t0, n));
    pc_buf_init(&b);
    entry_body(&b, "cat", 20, "first");
    pc_buf_put_u8(&b, 0);
    bench_run(&bn, CMD_ENTRY_CREATE, "prov", NULL, (const char *)b.data, NULL,
              201);
    pc_buf_release(&b);
    t0 = bench_secs();
    for (long i = 0; i < n; i++) {
        char descr[32];

        pc_buf_init(&b);
        snprintf(descr, sizeof(descr), "version %ld", i + 2);
        entry_body(&b, "cat", 20, descr);
        pc_buf_put_u8(&b, 0);
        snprintf(extra, sizeof(extra), "{\"if_match\":%ld}", i + 1);
        bench_run(&bn, CMD_ENTRY_UPDATE, "prov", "cat", (const char *)b.data,
                  extra, 200);
        pc_buf_release(&b);
    }
    printf("apply entry.update (20 fields) %8.2f us/command\n",
           per_command_us(t0, n));
    /* Another entry, so that the review's walk back over the versions
     * under review stays short. */
    pc_buf_init(&b);
    entry_body(&b, "cat2", 20, "first");
    pc_buf_put_u8(&b, 0);
    bench_run(&bn, CMD_ENTRY_CREATE, "prov", NULL, (const char *)b.data, NULL,
              201);
    pc_buf_release(&b);
    t0 = bench_secs();
    for (long i = 0; i < n; i++) {
        bench_run(&bn, CMD_ENTRY_SUBMIT, "prov", "cat2", NULL, NULL, 200);
        bench_run(&bn, CMD_ENTRY_REVIEW, "admin", "cat2",
                  "{\"decision\":\"reject\",\"reason\":\"not yet\"}", NULL,
                  200);
    }
    printf("apply entry.submit/review      %8.2f us/command\n",
           per_command_us(t0, 2 * n));
}

int
main(int argc, char **argv)
{
    const char *env = getenv("BENCH_APPLY_BATCHES");
    long batches = env != NULL ? atol(env) : 2000, rec = 0;
    struct pc_buf *entries;
    char salt[2 * PC_SALT_LEN + 1];
    double t0, t, prep_s, slowest = 0;

    if (argc > 1) {
        printf("usage: bench_apply (env BENCH_APPLY_BATCHES, default 2000)\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    setup();
    entries = calloc((size_t)batches, sizeof(*entries));
    prep_s = 0;
    for (long i = 0; i < batches; i++) {
        char key[64], msg[200], field[FSM_FIELD_LEN];
        uint8_t salts[PER_BATCH * PC_SALT_LEN] = { 0 };
        struct pc_buf body, prep;
        struct fsm_batch b;
        long index;

        pc_buf_init(&body);
        pc_buf_init(&prep);
        pc_buf_put(&body, "{\"records\":[", 12);
        for (int j = 0; j < PER_BATCH; j++, rec++) {
            snprintf(key, sizeof(key), "bb-%ld", rec);
            pc_buf_put(&body, j ? ",{\"key\":\"" : "{\"key\":\"", j ? 9 : 8);
            pc_buf_put(&body, key, strlen(key));
            pc_buf_put(&body, "\",\"value\":", 10);
            doc(&body, key, rec);
            pc_buf_put(&body, "}", 1);
            memcpy(salts + j * PC_SALT_LEN, &rec, sizeof(rec));
        }
        pc_buf_put(&body, "]}", 2);
        /* What the leader does once per request: parse and prepare. */
        t0 = bench_secs();
        if (fsm_batch_parse(body.data, body.len, &b, msg, field, &index) !=
                PC_OK ||
            fsm_batch_prepare(bn.f, "bench", &b, salts, &prep) != PC_OK) {
            bench_die(msg);
        }
        fsm_batch_release(&b);
        prep_s += bench_secs() - t0;
        pc_buf_init(&entries[i]);
        bench_encode_len(&bn, &entries[i], CMD_RECORD_BATCH2, "prov", "bench",
                         prep.data, prep.len, NULL);
        pc_buf_release(&body);
        pc_buf_release(&prep);
    }
    printf("leader parse+prepare of 100 %8.2f us/record  %10.0f records/s\n",
           prep_s * 1e6 / (double)rec, (double)rec / prep_s);
    t0 = bench_secs();
    for (long i = 0; i < batches; i++) {
        double b0 = bench_secs(), bt;

        bench_apply(&bn, &entries[i], CMD_RECORD_BATCH2, 200);
        bt = bench_secs() - b0;
        slowest = bt > slowest ? bt : slowest;
        pc_buf_release(&entries[i]);
    }
    t = bench_secs() - t0;
    printf("apply records:batch of %d     %8.2f us/record  %10.0f records/s"
           "  (slowest batch %.1f ms)\n",
           PER_BATCH, t * 1e6 / (double)rec, (double)rec / t, slowest * 1e3);
    t0 = bench_secs();
    for (long i = 0; i < batches * 10; i++) {
        struct pc_buf body, e;
        char key[80], target[100], extra[80];

        pc_buf_init(&body);
        pc_buf_init(&e);
        snprintf(key, sizeof(key), "pp-%ld", i);
        snprintf(target, sizeof(target), "bench/%s", key);
        doc(&body, key, i);
        pc_buf_put(&body, "", 1);
        salt_hex(salt, i);
        snprintf(extra, sizeof(extra), "{\"salt\":\"%s\"}", salt);
        bench_encode(&bn, &e, CMD_RECORD_PUT, "prov", target,
                     (const char *)body.data, extra);
        bench_apply(&bn, &e, CMD_RECORD_PUT, 201);
        pc_buf_release(&e);
        pc_buf_release(&body);
    }
    t = bench_secs() - t0;
    printf("apply PUT (encode included)    %8.2f us/record  %10.0f records/s\n",
           t * 1e6 / (double)(batches * 10), (double)(batches * 10) / t);
    catalog(batches);
    free(entries);
    fsm_free(bn.f);
    return 0;
}
