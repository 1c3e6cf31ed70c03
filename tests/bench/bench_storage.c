/* SPDX-License-Identifier: MIT */
/*
 * Storage benchmark: appends N facts (default 1,000,000) of ~300-byte
 * canonical JSON record documents, chained as versions of ~N/5 record keys,
 * then measures memory per fact, snapshot encode and decode+verify rates,
 * the snapshot's size, how long a raft snapshot holds the loop (the whole
 * encode on the loop, as node/raft/rfsm.c did, against its worker thread with
 * only a 1024-fact tail on the loop), Merkle roots and proofs. Prints a
 * table, then one `name value unit` line per result.
 * Usage: bench_storage [facts].
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "storage/fact.h"
#include "storage/led.h"
#include "storage/mrk.h"
#include "storage/snap.h"

struct result {
    const char *name;
    double value;
    const char *unit;
    const char *what;
};

static struct result results[32];
static size_t n_results;

static void
report(const char *name, double value, const char *unit, const char *what)
{
    results[n_results++] = (struct result){ name, value, unit, what };
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x2545f4914f6cdd1du;

static uint64_t
rnd(uint64_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (rng * 0x2545f4914f6cdd1du) % n;
}

static const char *const names[] = {
    "Li Wei",    "Zhang Min", "Wang Fang", "Chen Jing", "Liu Yang",
    "Huang Lei", "Zhao Xin",  "Wu Hao",    "Zhou Ting", "Xu Ming",
    "Sun Li",    "Ma Jun",    "Hu Yan",    "Guo Qiang", "He Ping",
    "Lin Na",    "Gao Feng",  "Luo Jie",   "Zheng Hui", "Liang Yu",
};
static const char *const cities[] = {
    "Hangzhou", "Ningbo", "Wenzhou",  "Jiaxing", "Huzhou", "Shaoxing",
    "Jinhua",   "Quzhou", "Zhoushan", "Taizhou", "Lishui",
};
static const char *const categories[] = {
    "business-licence", "land-use", "social-insurance", "tax-record",
    "permit",           "subsidy",  "inspection",       "registration",
};
static const char *const statuses[] = { "active", "pending", "closed",
                                        "suspended" };

/*
 * A plausible record document, already canonical (RFC 8785): keys sorted,
 * no spaces, numbers in shortest form (two decimals, the last non-zero).
 */
static size_t
make_doc(char *out, size_t cap, uint64_t key, uint64_t version)
{
    int n = snprintf(
        out, cap,
        "{\"amount\":%u.%u%u,\"category\":\"%s\",\"city\":\"%s\","
        "\"date\":\"2026-%02u-%02uT%02u:%02u:%02uZ\",\"id\":\"R%08" PRIu64
        "\",\"name\":\"%s\",\"notes\":\"version %" PRIu64
        " of the record, checked by office %u\",\"office\":\"%s market "
        "supervision bureau, window %u\",\"reference\":\"%016" PRIx64
        "\",\"status\":\"%s\",\"units\":%u}",
        (unsigned)rnd(100000), (unsigned)rnd(10), 1 + (unsigned)rnd(9),
        categories[rnd(8)], cities[rnd(11)], 1 + (unsigned)rnd(12),
        1 + (unsigned)rnd(28), (unsigned)rnd(24), (unsigned)rnd(60),
        (unsigned)rnd(60), key, names[rnd(20)], version,
        100 + (unsigned)rnd(900), cities[rnd(11)], 1 + (unsigned)rnd(40), rng,
        statuses[rnd(4)], 1 + (unsigned)rnd(5000));
    return (size_t)n;
}

struct key_state {
    uint32_t version;
    uint8_t hash[PC_HASH_LEN];
};

static int
sink_write(void *arg, const void *p, size_t n)
{
    struct pc_buf *b = arg;

    if (b->cap - b->len < n) {
        return pc_buf_put(b, p, n);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return PC_OK;
}

static void
die(const char *what, const char *errmsg)
{
    fprintf(stderr, "bench_storage: %s: %s\n", what, errmsg);
    exit(1);
}

/* Facts appended while the worker encodes: node/raft/rfsm.c's RFSM_TAIL_MAX,
 * the most its last step encodes on the loop. */
#define SNAP_TAIL 1024

/* node/raft/rfsm.c's worker: one step over the view into the body buffer. */
struct snap_job {
    struct snap_enc *e;
    struct led_view *v;
    struct pc_buf body;
    double secs;
    int rc;
    char errmsg[PC_ERRMSG_SIZE];
};

static void *
snap_job_run(void *arg)
{
    struct snap_job *j = arg;
    double t0 = now_s();

    j->rc = snap_enc_step(j->e, j->v, sink_write, &j->body, j->errmsg);
    j->secs = now_s() - t0;
    return NULL;
}

int
main(int argc, char **argv)
{
    uint64_t n_facts = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint64_t n_keys = n_facts / 5 ? n_facts / 5 : 1;
    char errmsg[PC_ERRMSG_SIZE];
    struct key_state *keys = calloc(n_keys, sizeof(*keys));
    char doc[1024], key[32], req[32], payload[64];
    uint8_t salt[PC_SALT_LEN];
    uint64_t doc_bytes = 0, enc_bytes = 0;
    double t_append = 0, t0, t_first = 0;
    struct led *l, *l2;
    struct snap_job job;
    pthread_t job_thread;
    bool job_on = false;

    if (keys == NULL || led_new(&l) != PC_OK) {
        die("setup", "out of memory");
    }

    /* Append: the ledger's own work (checks, hashes, storage) is timed. */
    for (uint64_t rev = 1; rev <= n_facts; rev++) {
        uint64_t k = rev <= n_keys ? rev - 1 : rnd(n_keys);
        struct key_state *ks = &keys[k];
        struct fact f;
        struct led_doc d;
        uint8_t leaf[PC_HASH_LEN];

        if (n_facts > 2 * SNAP_TAIL && rev == n_facts - SNAP_TAIL + 1) {
            /* rfsm's first snapshot call: freeze, start the worker; the
             * last SNAP_TAIL appends then run beside it. */
            memset(&job, 0, sizeof(job));
            pc_buf_init(&job.body);
            t0 = now_s();
            if (led_view_open(l, &job.v) != PC_OK ||
                snap_enc_new(&job.e, NULL) != PC_OK ||
                pthread_create(&job_thread, NULL, snap_job_run, &job) != 0) {
                die("snapshot job", "cannot start");
            }
            t_first = now_s() - t0;
            job_on = true;
        }
        memset(&f, 0, sizeof(f));
        f.format = FACT_FORMAT_VERSION;
        f.kind = FACT_RECORD;
        f.revision = rev;
        f.time_ms = 1767225600000 + (int64_t)rev * 3;
        f.principal = PC_SLICE_STR("prov-hz-01");
        snprintf(req, sizeof(req), "req-%" PRIu64, rev);
        f.request_id = PC_SLICE_STR(req);
        f.parent = PC_SLICE_STR("hz.market.licences");
        snprintf(key, sizeof(key), "R%08" PRIu64, k);
        f.id = PC_SLICE_STR(key);
        f.version = ks->version + 1;
        f.has_prev = ks->version > 0;
        memcpy(f.prev_hash, ks->hash, PC_HASH_LEN);
        snprintf(payload, sizeof(payload), "{\"op\":\"%s\"}",
                 ks->version ? "update" : "create");
        f.payload = PC_SLICE_STR(payload);
        for (int i = 0; i < PC_SALT_LEN; i += 8) {
            uint64_t r = rnd(UINT64_MAX);
            memcpy(salt + i, &r, 8);
        }
        d.salt = salt;
        d.json = (const uint8_t *)doc;
        d.len = make_doc(doc, sizeof(doc), k, f.version);
        f.has_content = true;
        pc_hash_content(f.content_hash, salt, doc, d.len);

        t0 = now_s();
        int rc = led_append(l, &f, &d, rev, leaf, errmsg);
        t_append += now_s() - t0;
        if (rc != PC_OK) {
            die("append", errmsg);
        }
        ks->version++;
        memcpy(ks->hash, leaf, PC_HASH_LEN);
        doc_bytes += d.len;
    }
    for (uint64_t rev = 1; rev <= n_facts; rev++) {
        struct pc_slice e;
        led_encoding(l, rev, &e);
        enc_bytes += e.len;
    }
    free(keys);
    report("append_rate", (double)n_facts / t_append, "facts/s",
           "led_append (checks, leaf + content hash, Merkle, index)");
    report("doc_avg", (double)doc_bytes / (double)n_facts, "bytes",
           "canonical JSON document per fact");
    report("enc_avg", (double)enc_bytes / (double)n_facts, "bytes",
           "fact encoding per fact");

    struct led_mem m;
    led_mem(l, &m);
    size_t mem = m.facts + m.docs + m.merkle + m.index;
    report("mem_per_fact", (double)mem / (double)n_facts, "bytes",
           "ledger memory per fact (all parts)");
    report("mem_overhead_per_fact",
           (double)(mem - m.enc - m.doc_stored) / (double)n_facts, "bytes",
           "  beyond encoding + stored document (budget 120)");
    report("mem_facts_per_fact", (double)m.facts / (double)n_facts, "bytes",
           "  of which encodings and records");
    report("mem_docs_per_fact", (double)m.docs / (double)n_facts, "bytes",
           "  of which documents");
    report("mem_merkle_per_fact", (double)m.merkle / (double)n_facts, "bytes",
           "  of which Merkle tree");
    report("mem_index_per_fact", (double)m.index / (double)n_facts, "bytes",
           "  of which indexes");

    /* rfsm's last snapshot call: the tail and trailer from a fresh view,
     * then the header. */
    struct pc_buf tail, steps;
    uint8_t hdr[SNAP_HEADER_LEN], vroot[PC_HASH_LEN];
    double t_last = 0;
    struct led_view *v;
    pc_buf_init(&tail);
    pc_buf_init(&steps);
    if (job_on) {
        pthread_join(job_thread, NULL);
        if (job.rc != PC_OK) {
            die("snapshot job", job.errmsg);
        }
        led_view_close(l, job.v);
        t0 = now_s();
        if (led_view_open(l, &v) != PC_OK ||
            snap_enc_finish(job.e, v, sink_write, &tail, errmsg) != PC_OK) {
            die("snapshot tail", errmsg);
        }
        led_view_root(v, vroot);
        snap_header(led_view_count(v), vroot, hdr);
        led_view_close(l, v);
        t_last = now_s() - t0;
        snap_enc_free(job.e);
        if (pc_buf_put(&steps, hdr, sizeof(hdr)) != PC_OK ||
            pc_buf_put(&steps, job.body.data, job.body.len) != PC_OK ||
            pc_buf_put(&steps, tail.data, tail.len) != PC_OK) {
            die("snapshot", "out of memory");
        }
        pc_buf_release(&job.body);
        pc_buf_release(&tail);
    }

    /* The old snapshot call: freeze and encode it all, on the loop, into
     * a buffer that grows as it goes. */
    struct pc_buf grown;
    pc_buf_init(&grown);
    t0 = now_s();
    if (led_view_open(l, &v) != PC_OK ||
        snap_encode_buf(v, &grown, errmsg) != PC_OK) {
        die("encode", errmsg);
    }
    led_view_close(l, v);
    report("snapcb_loop_whole", (now_s() - t0) * 1e3, "ms",
           "snapshot call, whole encode on the loop (before)");
    if (job_on) {
        report("snapcb_loop_first", t_first * 1e3, "ms",
               "snapshot call 1: view + worker start (after)");
        report("snapcb_loop_last", t_last * 1e3, "ms",
               "last call: 1024-fact tail + trailer (after)");
        report("snapcb_worker", job.secs * 1e3, "ms",
               "  worker encode, off the loop");
        if (steps.len != grown.len ||
            memcmp(steps.data, grown.data, grown.len) != 0) {
            die("snapshot", "steps differ from the one-shot encoding");
        }
    }
    pc_buf_release(&grown);
    pc_buf_release(&steps);

    /* Snapshot encode into a buffer reserved up front. */
    struct pc_buf snap;
    pc_buf_init(&snap);
    if (pc_buf_reserve(&snap, doc_bytes + enc_bytes + (64u << 20)) != PC_OK ||
        led_view_open(l, &v) != PC_OK) {
        die("snapshot", "out of memory");
    }
    memset(snap.data, 0, snap.cap); /* fault the pages in before timing */
    /* Raw fact bytes: what the frames hold before compression. */
    double raw = (double)(doc_bytes + enc_bytes);
    t0 = now_s();
    if (snap_encode(v, sink_write, &snap, errmsg) != PC_OK) {
        die("encode", errmsg);
    }
    double t_enc = now_s() - t0;
    led_view_close(l, v);
    report("snap_encode", raw / t_enc / 1e6, "MB/s",
           "snapshot encode, raw fact bytes (docs + encodings)");
    report("snap_size_ratio", (double)snap.len / raw, "ratio",
           "snapshot size / raw fact bytes");
    report("snap_size", (double)snap.len / 1e6, "MB", "snapshot size");

    /* rfsm's frame cache: one snapshot fills it, the next copies the
     * frames (every one but the last) instead of encoding their facts. */
    struct snap_cache *cache;
    struct pc_buf cb;
    double t_cached[2];
    pc_buf_init(&cb);
    if (snap_cache_new(&cache, UINT64_MAX) != PC_OK ||
        led_view_open(l, &v) != PC_OK) {
        die("snapshot", "out of memory");
    }
    for (int i = 0; i < 2; i++) {
        struct snap_enc *e;
        cb.len = 0;
        t0 = now_s();
        if (snap_enc_new(&e, cache) != PC_OK ||
            snap_enc_finish(e, v, sink_write, &cb, errmsg) != PC_OK) {
            die("encode", errmsg);
        }
        t_cached[i] = now_s() - t0;
        snap_enc_free(e);
    }
    led_view_close(l, v);
    report("snap_encode_ms", t_cached[0] * 1e3, "ms",
           "snapshot encode, first with a frame cache");
    report("snap_reencode_cached_ms", t_cached[1] * 1e3, "ms",
           "  the next one, copying the cached frames");
    report("snap_cache_mb", (double)snap_cache_bytes(cache) / 1e6, "MB",
           "  what the cache holds");
    snap_cache_free(cache);
    pc_buf_release(&cb);

    t0 = now_s();
    if (snap_decode(snap.data, snap.len, &l2, errmsg) != PC_OK) {
        die("decode", errmsg);
    }
    double t_dec = now_s() - t0;
    report("snap_decode_verify", raw / t_dec / 1e6, "MB/s",
           "snapshot decode + verify (rebuilds the ledger)");
    uint8_t r1[PC_HASH_LEN], r2[PC_HASH_LEN];
    led_root(l, r1);
    led_root(l2, r2);
    if (memcmp(r1, r2, PC_HASH_LEN) != 0 || led_count(l2) != n_facts) {
        die("decode", "root or count differs");
    }
    led_free(l2);
    pc_buf_release(&snap);

    /* Merkle: roots of arbitrary sizes, proofs, verification. */
    const struct mrk *t = led_mrk(l);
    uint8_t path[MRK_MAX_PATH][PC_HASH_LEN], root[PC_HASH_LEN];
    uint8_t leaf[PC_HASH_LEN], rm[PC_HASH_LEN];
    size_t plen;
    int reps = 20000;
    t0 = now_s();
    for (int i = 0; i < reps; i++) {
        mrk_root(t, 1 + rnd(n_facts), root);
    }
    report("merkle_root", (now_s() - t0) / reps * 1e6, "us",
           "Merkle root of an arbitrary size");
    t0 = now_s();
    for (int i = 0; i < reps; i++) {
        uint64_t n = 1 + rnd(n_facts);
        mrk_inclusion(t, rnd(n), n, path, &plen);
    }
    report("merkle_inclusion", (now_s() - t0) / reps * 1e6, "us",
           "inclusion proof (arbitrary leaf and size)");
    t0 = now_s();
    for (int i = 0; i < reps; i++) {
        uint64_t n = 1 + rnd(n_facts);
        mrk_consistency(t, 1 + rnd(n), n, path, &plen);
    }
    report("merkle_consistency", (now_s() - t0) / reps * 1e6, "us",
           "consistency proof (arbitrary sizes)");
    uint64_t ok = 0;
    t0 = now_s();
    for (int i = 0; i < reps; i++) {
        uint64_t n = 1 + rnd(n_facts), j = rnd(n);
        mrk_root(t, n, root);
        mrk_leaf(t, j, leaf);
        mrk_inclusion(t, j, n, path, &plen);
        ok += mrk_verify_inclusion(leaf, j, n, (const void *)path, plen, root);
    }
    report("merkle_inclusion_verify", (now_s() - t0) / reps * 1e6, "us",
           "root + inclusion proof + verification");
    t0 = now_s();
    for (int i = 0; i < reps; i++) {
        uint64_t n = 1 + rnd(n_facts), k = 1 + rnd(n);
        mrk_root(t, n, root);
        mrk_root(t, k, rm);
        mrk_consistency(t, k, n, path, &plen);
        ok += mrk_verify_consistency(k, n, rm, root, (const void *)path, plen);
    }
    report("merkle_consistency_verify", (now_s() - t0) / reps * 1e6, "us",
           "2 roots + consistency proof + verification");
    if (ok != 2 * (uint64_t)reps) {
        die("merkle", "a proof failed to verify");
    }
    led_free(l);

    printf("bench_storage: %" PRIu64 " facts, %" PRIu64 " record keys\n",
           n_facts, n_keys);
    printf("%-28s %14s %-8s %s\n", "result", "value", "unit", "what");
    for (size_t i = 0; i < n_results; i++) {
        printf("%-28s %14.2f %-8s %s\n", results[i].name, results[i].value,
               results[i].unit, results[i].what);
    }
    printf("\n");
    for (size_t i = 0; i < n_results; i++) {
        printf("%s %.2f %s\n", results[i].name, results[i].value,
               results[i].unit);
    }
    return 0;
}
