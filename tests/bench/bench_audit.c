/* SPDX-License-Identifier: MIT */
/*
 * What an audited read costs the ledger, which keeps it forever: the
 * growth of the ledger's memory (led_mem: fact encodings, documents,
 * Merkle tree, indexes) and of a snapshot, per read-audit event, for
 * batches of 1 to 1000 events, in encoding 2 (the events as the audit
 * fact's columns document) and, for comparison, encoding 1 (a JSON object
 * per event in the payload). Events look like a department's system
 * reading a population register through a grant: 18-character citizen ID
 * numbers as keys, a few principals, grants and entries, times a fraction
 * of a millisecond apart. Also the CPU of building a batch (the leader)
 * and applying it (every replica), per event. BENCH_AUDIT_EVENTS (default
 * 256000) events per row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/timefmt.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/led.h"
#include "storage/snap.h"
#include "tests/bench/benchlib.h"

/* Audit batches are the leader's: no principal, no target; the clock
 * moves with the events. */
static struct bench bn = { .now_ms = BENCH_EPOCH_MS,
                           .request_id = "n1-123456" };
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

/* A citizen ID number: region, birth date, sequence, check character. */
static void
id_number(char out[19])
{
    static const char *const regions[] = { "110101", "110105", "310104",
                                           "320102", "330106", "440305",
                                           "510107", "610113" };
    static const char check[] = "10X98765432";
    unsigned y = 1950 + (unsigned)(rnd() % 56), m = 1 + (unsigned)(rnd() % 12),
             d = 1 + (unsigned)(rnd() % 28), s = (unsigned)(rnd() % 1000);

    snprintf(out, 19, "%s%04u%02u%02u%03u%c", regions[rnd() % 8], y, m, d, s,
             check[rnd() % 11]);
}

static void
event(struct fsm_audit_event *e, char key[19])
{
    static const char *const who[][2] = { { "tax-sys-01", "tax-bureau" },
                                          { "tax-sys-02", "tax-bureau" },
                                          { "civil-app", "civil-affairs" },
                                          { "health-etl", "health-comm" } };
    static const char *const via[] = { "gr-48213", "gr-48219", "gr-50117",
                                       "gr-50302" };
    unsigned w = (unsigned)(rnd() % 4);

    id_number(key);
    memset(e, 0, sizeof(*e));
    e->principal = who[w][0];
    e->org = who[w][1];
    e->action = "record.read";
    e->entry = w < 2 ? "household-register" : "population-basic";
    e->key = key;
    e->key_len = 18;
    e->version = 1 + rnd() % 3;
    e->count = -1;
    bn.now_ms += (int64_t)(rnd() % 2); /* ~20k reads/s */
    e->at_ms = bn.now_ms;
    e->via = via[w];
}

/* The ledger's bytes as led_mem counts them, without the slack of its
 * 1 MiB arena chunks (which would swamp a small run): the encodings, a
 * 24-byte record per fact, the documents, the Merkle tree, the indexes. */
static size_t
mem_total(void)
{
    struct led_mem m;

    led_mem(fsm_led(bn.f), &m);
    return m.enc + 24 * led_count(fsm_led(bn.f)) + m.docs + m.merkle + m.index;
}

static size_t
snap_size(void)
{
    struct led_view *v;
    struct pc_buf b;
    size_t n;

    pc_buf_init(&b);
    if (led_view_open(fsm_led(bn.f), &v) != PC_OK ||
        snap_encode_buf(v, &b, NULL) != PC_OK) {
        bench_die("snapshot");
    }
    n = b.len;
    led_view_close(fsm_led(bn.f), v);
    pc_buf_release(&b);
    return n;
}

/* Encoding 1: {"events": [{...}, ...]} in the command's extra. */
static void
batch_v1(size_t n, struct pc_buf *x)
{
    char key[19], t[PC_TIME_STR_LEN];
    struct fsm_audit_event e;

    x->len = 0;
    pc_buf_put(x, "{\"events\":[", 11);
    for (size_t i = 0; i < n; i++) {
        event(&e, key);
        pc_time_format(t, e.at_ms);
        pc_buf_printf(x,
                      "%s{\"action\":\"%s\",\"at\":\"%s\",\"entry\":\"%s\","
                      "\"grant\":\"%s\",\"key\":\"%s\",\"org\":\"%s\","
                      "\"principal\":\"%s\",\"version\":%llu}",
                      i ? "," : "", e.action, t, e.entry, e.via, key, e.org,
                      e.principal, (unsigned long long)e.version);
    }
    pc_buf_put(x, "]}", 3); /* with the NUL */
    x->len--;
}

static void
row(int encoding, size_t per, size_t total)
{
    struct fsm_audit_doc *d;
    struct pc_buf body, x;
    size_t m0, s0, m1, s1, batches = total / per;
    double build = 0, app = 0, t0;

    bench_start(&bn);
    m0 = mem_total();
    s0 = snap_size();
    if (fsm_audit_doc_new(&d) != PC_OK) {
        bench_die("doc");
    }
    pc_buf_init(&body);
    pc_buf_init(&x);
    for (size_t b = 0; b < batches; b++) {
        t0 = bench_secs();
        if (encoding == 2) {
            char key[19];
            struct fsm_audit_event e;

            body.len = 0;
            for (size_t i = 0; i < per; i++) {
                event(&e, key);
                if (fsm_audit_doc_add(d, &e) != PC_OK) {
                    bench_die("add");
                }
            }
            if (fsm_audit_doc_finish(d, &body) != PC_OK) {
                bench_die("finish");
            }
        } else {
            batch_v1(per, &x);
        }
        build += bench_secs() - t0;
        bn.now_ms++;
        t0 = bench_secs();
        if (encoding == 2) {
            bench_run_len(&bn, CMD_AUDIT, NULL, NULL, body.data, body.len,
                          "{\"salt\":\"00112233445566778899aabbccddeeff\"}",
                          200);
        } else {
            bench_run_len(&bn, CMD_AUDIT, NULL, NULL, "", 0,
                          (const char *)x.data, 200);
        }
        app += bench_secs() - t0;
    }
    m1 = mem_total();
    s1 = snap_size();
    printf("%-10s %6zu %12.1f %12.1f %12.2f %12.2f\n",
           encoding == 2 ? "columns" : "json", per,
           (double)(m1 - m0) / (double)(batches * per),
           (double)(s1 - s0) / (double)(batches * per),
           build * 1e6 / (double)(batches * per),
           app * 1e6 / (double)(batches * per));
    printf("audit_enc%d_b%zu_ledger_bytes_per_read %.1f bytes\n", encoding, per,
           (double)(m1 - m0) / (double)(batches * per));
    printf("audit_enc%d_b%zu_snapshot_bytes_per_read %.1f bytes\n", encoding,
           per, (double)(s1 - s0) / (double)(batches * per));
    pc_buf_release(&body);
    pc_buf_release(&x);
    fsm_audit_doc_free(d);
}

int
main(void)
{
    static const size_t sizes[] = { 1, 8, 64, 256, 1000 };
    const char *env = getenv("BENCH_AUDIT_EVENTS");
    size_t total = env ? strtoul(env, NULL, 10) : 256000;

    printf("%-10s %6s %12s %12s %12s %12s\n", "encoding", "batch",
           "ledger B/ev", "snap B/ev", "build us/ev", "apply us/ev");
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = total < sizes[i] ? sizes[i] : total;

        /* Single-event batches cost a fact each: fewer of them suffice. */
        row(2, sizes[i], sizes[i] == 1 ? n / 16 : n);
        row(1, sizes[i], sizes[i] == 1 ? n / 16 : n);
    }
    fsm_free(bn.f);
    return 0;
}
