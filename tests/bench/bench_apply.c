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
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"

#define PER_BATCH 100

static struct fsm *fsm;
static uint64_t raft_index;
static int64_t now_ms = 1790000000000LL;

static double
secs(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
die(const char *what)
{
    fprintf(stderr, "bench_apply: %s\n", what);
    exit(1);
}

/* One command as a one-command raft entry appended to `entry`. */
static void
encode_len(struct pc_buf *entry, uint32_t type, const char *principal,
           const char *target, const void *body, size_t len, const char *extra)
{
    struct pc_buf one;
    struct cmd c;

    memset(&c, 0, sizeof(c));
    c.type = type;
    c.rules = CMD_RULES_VERSION;
    c.time_ms = now_ms++;
    c.principal = PC_SLICE_STR(principal ? principal : "");
    c.request_id = PC_SLICE_STR("bench");
    c.target = PC_SLICE_STR(target ? target : "");
    c.body = (struct pc_slice){ body, len };
    c.extra = PC_SLICE_STR(extra ? extra : "");
    pc_buf_init(&one);
    if (cmd_encode(&c, &one) != PC_OK || cmd_entry_begin(entry, 1) != PC_OK ||
        cmd_entry_add(entry, &one) != PC_OK || cmd_entry_end(entry) != PC_OK) {
        die("encode failed");
    }
    pc_buf_release(&one);
}

static void
encode(struct pc_buf *entry, uint32_t type, const char *principal,
       const char *target, const char *body, const char *extra)
{
    encode_len(entry, type, principal, target, body ? body : "",
               body ? strlen(body) : 0, extra);
}

static void
apply(const struct pc_buf *entry, int want)
{
    char errmsg[PC_ERRMSG_SIZE];
    const struct fsm_result *res;

    if (fsm_apply(fsm, entry->data, entry->len, ++raft_index, errmsg) !=
            PC_OK ||
        fsm_results(fsm, &res) != 1) {
        die(errmsg);
    }
    if (res[0].status != want) {
        fprintf(stderr, "bench_apply: status %d, wanted %d\n", res[0].status,
                want);
        exit(1);
    }
}

static void
run(uint32_t type, const char *principal, const char *target, const char *body,
    const char *extra, int want)
{
    struct pc_buf e;

    pc_buf_init(&e);
    encode(&e, type, principal, target, body, extra);
    apply(&e, want);
    pc_buf_release(&e);
}

/* The extra of a command carrying H(token) (and `more` members before). */
static void
token_extra(char *out, size_t size, const char *more, const char *token)
{
    uint8_t h[PC_HASH_LEN];
    char hex[PC_HASH_HEX_LEN + 1];

    pc_hash(h, token, strlen(token));
    pc_hex(hex, h, PC_HASH_LEN);
    snprintf(out, size, "{%s\"token_hash\":\"%s\"}", more, hex);
}

static void
setup(void)
{
    char extra[200];

    token_extra(extra, sizeof(extra),
                "\"cluster_id\":\"00112233445566778899aabbccddeeff\",",
                "admin");
    run(CMD_GENESIS, NULL, NULL, NULL, extra, 201);
    run(CMD_ORG_CREATE, "admin", NULL,
        "{\"id\":\"dept\",\"name\":\"n\",\"level\":\"province\",\"kind\":"
        "\"agency\",\"parent\":\"authority\",\"authority\":false}",
        NULL, 201);
    token_extra(extra, sizeof(extra), "", "prov");
    run(CMD_PRINCIPAL_CREATE, "admin", NULL,
        "{\"id\":\"prov\",\"org\":\"dept\",\"roles\":[\"provider\"]}", extra,
        201);
    run(CMD_ENTRY_CREATE, "prov", NULL,
        "{\"id\":\"bench\",\"title\":\"bench\",\"description\":\"d\","
        "\"provider\":\"dept\",\"theme\":\"t\",\"keywords\":[],"
        "\"fields\":[{\"name\":\"name\",\"type\":\"string\",\"required\":true},"
        "{\"name\":\"n\",\"type\":\"integer\",\"required\":false},"
        "{\"name\":\"note\",\"type\":\"string\",\"required\":false}],"
        "\"share\":{\"class\":\"unconditional\"},\"open\":{\"class\":"
        "\"unconditional\"},\"update_frequency\":\"daily\","
        "\"security_level\":2,\"scope\":\"province\"}",
        NULL, 201);
    run(CMD_ENTRY_SUBMIT, "prov", "bench", NULL, NULL, 200);
    run(CMD_ENTRY_REVIEW, "admin", "bench", "{\"decision\":\"approve\"}", NULL,
        200);
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
    return (secs() - t0) * 1e6 / (double)n;
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

    t0 = secs();
    for (long i = 0; i < n; i++) {
        pc_buf_init(&b);
        pc_buf_init(&e);
        snprintf(id, sizeof(id), "org-%ld", i);
        pc_buf_printf(&b,
                      "{\"id\":\"%s\",\"name\":\"Department %ld\",\"level\":"
                      "\"city\",\"kind\":\"agency\",\"parent\":\"authority\","
                      "\"authority\":false}",
                      id, i);
        encode(&e, CMD_ORG_CREATE, "admin", NULL, (const char *)b.data, NULL);
        apply(&e, 201);
        pc_buf_release(&e);
        pc_buf_release(&b);
    }
    printf("apply org.create               %8.2f us/command\n",
           per_command_us(t0, n));
    t0 = secs();
    for (long i = 0; i < n; i++) {
        pc_buf_init(&b);
        pc_buf_init(&e);
        snprintf(id, sizeof(id), "p-%ld", i);
        pc_buf_printf(&b,
                      "{\"id\":\"%s\",\"org\":\"org-%ld\",\"roles\":"
                      "[\"provider\",\"consumer\"]}",
                      id, i);
        token_extra(extra, sizeof(extra), "", id);
        encode(&e, CMD_PRINCIPAL_CREATE, "admin", NULL, (const char *)b.data,
               extra);
        apply(&e, 201);
        pc_buf_release(&e);
        pc_buf_release(&b);
    }
    printf("apply principal.create         %8.2f us/command\n",
           per_command_us(t0, n));
    pc_buf_init(&b);
    entry_body(&b, "cat", 20, "first");
    pc_buf_put_u8(&b, 0);
    run(CMD_ENTRY_CREATE, "prov", NULL, (const char *)b.data, NULL, 201);
    pc_buf_release(&b);
    t0 = secs();
    for (long i = 0; i < n; i++) {
        char descr[32];

        pc_buf_init(&b);
        snprintf(descr, sizeof(descr), "version %ld", i + 2);
        entry_body(&b, "cat", 20, descr);
        pc_buf_put_u8(&b, 0);
        snprintf(extra, sizeof(extra), "{\"if_match\":%ld}", i + 1);
        run(CMD_ENTRY_UPDATE, "prov", "cat", (const char *)b.data, extra, 200);
        pc_buf_release(&b);
    }
    printf("apply entry.update (20 fields) %8.2f us/command\n",
           per_command_us(t0, n));
    /* Another entry, so that the review's walk back over the versions
     * under review stays short. */
    pc_buf_init(&b);
    entry_body(&b, "cat2", 20, "first");
    pc_buf_put_u8(&b, 0);
    run(CMD_ENTRY_CREATE, "prov", NULL, (const char *)b.data, NULL, 201);
    pc_buf_release(&b);
    t0 = secs();
    for (long i = 0; i < n; i++) {
        run(CMD_ENTRY_SUBMIT, "prov", "cat2", NULL, NULL, 200);
        run(CMD_ENTRY_REVIEW, "admin", "cat2",
            "{\"decision\":\"reject\",\"reason\":\"not yet\"}", NULL, 200);
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
    if (fsm_new(&fsm) != PC_OK) {
        die("fsm_new failed");
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
        t0 = secs();
        if (fsm_batch_parse(body.data, body.len, &b, msg, field, &index) !=
                PC_OK ||
            fsm_batch_prepare(fsm, "bench", &b, salts, &prep) != PC_OK) {
            die(msg);
        }
        fsm_batch_release(&b);
        prep_s += secs() - t0;
        pc_buf_init(&entries[i]);
        encode_len(&entries[i], CMD_RECORD_BATCH2, "prov", "bench", prep.data,
                   prep.len, NULL);
        pc_buf_release(&body);
        pc_buf_release(&prep);
    }
    printf("leader parse+prepare of 100 %8.2f us/record  %10.0f records/s\n",
           prep_s * 1e6 / (double)rec, (double)rec / prep_s);
    t0 = secs();
    for (long i = 0; i < batches; i++) {
        double b0 = secs(), bt;

        apply(&entries[i], 200);
        bt = secs() - b0;
        slowest = bt > slowest ? bt : slowest;
        pc_buf_release(&entries[i]);
    }
    t = secs() - t0;
    printf("apply records:batch of %d     %8.2f us/record  %10.0f records/s"
           "  (slowest batch %.1f ms)\n",
           PER_BATCH, t * 1e6 / (double)rec, (double)rec / t, slowest * 1e3);
    t0 = secs();
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
        encode(&e, CMD_RECORD_PUT, "prov", target, (const char *)body.data,
               extra);
        apply(&e, 201);
        pc_buf_release(&e);
        pc_buf_release(&body);
    }
    t = secs() - t0;
    printf("apply PUT (encode included)    %8.2f us/record  %10.0f records/s\n",
           t * 1e6 / (double)(batches * 10), (double)(batches * 10) / t);
    catalog(batches);
    free(entries);
    fsm_free(fsm);
    return 0;
}
