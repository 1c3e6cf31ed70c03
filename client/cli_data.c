/* SPDX-License-Identifier: MIT */
/*
 * The provcat commands that move data in bulk: import (JSON lines into
 * records:batch, several batches in flight on threads of their own, each
 * with its own client; skip_identical makes a re-run write only what is
 * missing), export (one consistent snapshot of an entry as JSON lines,
 * records fetched in parallel and written in key order), backup (streamed
 * to a file with progress) and verify-backup (offline, through the storage
 * layer's snap_verify, the check a restore and provcat-node verify-backup
 * make).
 */
#include "client/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client_int.h"
#include "common/err.h"
#include "common/hash.h"
#include "storage/fact.h"
#include "storage/snap.h"

#define IMPORT_MAX_BATCH 1000
#define IMPORT_BYTES     (768u << 10)
#define DEFAULT_PARALLEL 8
#define MAX_PARALLEL     64

/* A whole input file: mapped when it is a regular file, else read. */
struct input {
    char *p;
    size_t len;
    bool mapped;
};

static int
input_open(const char *path, struct input *in)
{
    struct stat st;
    int fd;

    memset(in, 0, sizeof(*in));
    if (strcmp(path, "-") != 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            return cli_failf("open '%s': %s", path, strerror(errno));
        }
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            in->len = (size_t)st.st_size;
            in->p = in->len > 0
                        ? mmap(NULL, in->len, PROT_READ, MAP_PRIVATE, fd, 0)
                        : NULL;
            close(fd);
            if (in->len > 0 && in->p == MAP_FAILED) {
                return cli_failf("map '%s': %s", path, strerror(errno));
            }
            in->mapped = in->len > 0;
            return CLI_OK;
        }
        close(fd);
    }
    in->p = cli_read_file(path, &in->len);
    if (in->p == NULL) {
        return cli_failf("read '%s': %s", path, strerror(errno));
    }
    return CLI_OK;
}

static void
input_close(struct input *in)
{
    if (in->mapped) {
        munmap(in->p, in->len);
    } else {
        free(in->p);
    }
}

/* An output file is written as FILE.part and renamed to FILE once whole,
 * so FILE is never half written. The .part name of `path` (malloc'd). */
static char *
part_name(const char *path)
{
    size_t len = strlen(path) + 8;
    char *tmp = malloc(len);

    if (tmp != NULL) {
        snprintf(tmp, len, "%s.part", path);
    }
    return tmp;
}

/* The end of writing `path` through `tmp`, closed: renamed into place when
 * `rc` is CLI_OK, else removed. Frees `tmp`; returns `rc` or the rename's
 * failure, printed. */
static int
part_done(char *tmp, const char *path, int rc)
{
    if (rc == CLI_OK && rename(tmp, path) != 0) {
        rc = cli_failf("rename '%s': %s", tmp, strerror(errno));
    }
    if (rc != CLI_OK) {
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* ---- import ---------------------------------------------------------- */

struct imp_batch {
    size_t n;
    uint64_t bytes; /* input bytes it covers */
    struct provcat_batch_item items[IMPORT_MAX_BATCH];
    size_t lines[IMPORT_MAX_BATCH];
    char *keys[IMPORT_MAX_BATCH];
};

struct imp {
    struct cli *g;
    const char *entry;
    unsigned flags;
    pthread_mutex_t mu;
    pthread_cond_t nonempty, nonfull, tick;
    struct imp_batch **q;
    size_t qcap, qhead, qlen;
    bool closed, stop, finished;
    uint64_t total, done, created, updated, unchanged, bytes_done;
    bool failed;
    char err[800];
};

struct imp_worker {
    struct imp *im;
    struct provcat *c;
    pthread_t th;
};

static void
batch_free(struct imp_batch *b)
{
    if (b == NULL) {
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        free(b->keys[i]);
    }
    free(b);
}

/* The first failure wins; the others stop quietly. */
static void imp_fail(struct imp *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
imp_fail(struct imp *im, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&im->mu);
    if (!im->failed) {
        im->failed = true;
        va_start(ap, fmt);
        vsnprintf(im->err, sizeof(im->err), fmt, ap);
        va_end(ap);
    }
    im->stop = true;
    pthread_cond_broadcast(&im->nonempty);
    pthread_cond_broadcast(&im->nonfull);
    pthread_mutex_unlock(&im->mu);
}

static void *
imp_work(void *arg)
{
    struct imp_worker *w = arg;
    struct imp *im = w->im;

    for (;;) {
        struct provcat_batch_result *res;
        struct imp_batch *b;
        int rc;

        pthread_mutex_lock(&im->mu);
        while (im->qlen == 0 && !im->closed && !im->stop) {
            pthread_cond_wait(&im->nonempty, &im->mu);
        }
        if (im->stop || im->qlen == 0) {
            pthread_mutex_unlock(&im->mu);
            return NULL;
        }
        b = im->q[im->qhead];
        im->qhead = (im->qhead + 1) % im->qcap;
        im->qlen--;
        pthread_cond_signal(&im->nonfull);
        pthread_mutex_unlock(&im->mu);

        rc = provcat_records_batch(w->c, im->entry, b->items, b->n, im->flags,
                                   &res);
        if (rc != PROVCAT_OK) {
            const struct provcat_error *e = provcat_last_error(w->c);
            size_t i =
                e->index >= 0 && (size_t)e->index < b->n ? (size_t)e->index : 0;
            char msg[PROVCAT_ERRMSG_SIZE + 64];

            cli_errtext(w->c, msg, sizeof(msg));
            if (e->index >= 0) {
                imp_fail(im, "line %zu (key '%s'): %s", b->lines[i], b->keys[i],
                         msg);
            } else {
                imp_fail(im, "lines %zu-%zu: %s", b->lines[0],
                         b->lines[b->n - 1], msg);
            }
            batch_free(b);
            return NULL;
        }
        pthread_mutex_lock(&im->mu);
        im->done += b->n;
        im->created += res->n_created;
        im->updated += res->n_updated;
        im->unchanged += res->n_unchanged;
        im->bytes_done += b->bytes;
        pthread_mutex_unlock(&im->mu);
        provcat_batch_result_free(res);
        batch_free(b);
    }
}

/* Hand a full batch to the workers; false once the import stops. */
static bool
imp_push(struct imp *im, struct imp_batch *b)
{
    pthread_mutex_lock(&im->mu);
    while (im->qlen == im->qcap && !im->stop) {
        pthread_cond_wait(&im->nonfull, &im->mu);
    }
    if (im->stop) {
        pthread_mutex_unlock(&im->mu);
        batch_free(b);
        return false;
    }
    im->q[(im->qhead + im->qlen) % im->qcap] = b;
    im->qlen++;
    pthread_cond_signal(&im->nonempty);
    pthread_mutex_unlock(&im->mu);
    return true;
}

static void *
imp_progress(void *arg)
{
    struct imp *im = arg;
    struct cli_progress p;

    cli_progress_start(&p, "records", true);
    pthread_mutex_lock(&im->mu);
    while (!im->finished) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&im->tick, &im->mu, &ts);
        uint64_t done = im->done, total = im->total;
        pthread_mutex_unlock(&im->mu);
        cli_progress_show(&p, done, total, false);
        pthread_mutex_lock(&im->mu);
    }
    uint64_t done = im->done, total = im->total;
    pthread_mutex_unlock(&im->mu);
    cli_progress_show(&p, done, total < done ? done : total, true);
    return NULL;
}

/* One JSON line's members. */
struct line {
    const char *key;
    size_t key_len;
    bool key_escaped;
    const char *value;
    size_t value_len;
    int64_t if_version;
    char bad[96];
};

static bool
name_is(const char *name, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(name, want, len) == 0;
}

static int
line_member(void *arg, const char *name, size_t len, const char *v, size_t vlen)
{
    /* What an export writes besides key and value: accepted, unused. */
    static const char *const ignored[] = {
        "entry",     "version",   "op",           "revision",
        "hash",      "prev_hash", "salt",         "author",
        "org",       "at",        "retired",      "reason",
        "objection", "redacted",  "content_hash", NULL
    };
    struct line *l = arg;

    if (name_is(name, len, "key")) {
        if (v[0] != '"') {
            snprintf(l->bad, sizeof(l->bad), "\"key\" is not a string");
            return 1;
        }
        l->key = v + 1;
        l->key_len = vlen - 2;
        l->key_escaped = memchr(l->key, '\\', l->key_len) != NULL;
        return 0;
    }
    if (name_is(name, len, "value")) {
        l->value = v;
        l->value_len = vlen;
        return 0;
    }
    if (name_is(name, len, "if_version")) {
        char *end;
        long long n = strtoll(v, &end, 10);

        if (end != v + vlen || n < 0) {
            snprintf(l->bad, sizeof(l->bad),
                     "\"if_version\" is not a version (0 or more)");
            return 1;
        }
        l->if_version = n;
        return 0;
    }
    for (size_t i = 0; ignored[i] != NULL; i++) {
        if (name_is(name, len, ignored[i])) {
            return 0;
        }
    }
    snprintf(l->bad, sizeof(l->bad), "unknown member \"%.*s\"",
             (int)(len < 40 ? len : 40), name);
    return 1;
}

int
cli_import(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--batch", NULL, true, false, NULL },
                           { "--batch-bytes", NULL, true, false, NULL },
                           { "--parallel", NULL, true, false, NULL },
                           { "--create-only", NULL, false, false, NULL },
                           { "--no-progress", NULL, false, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct imp_worker workers[MAX_PARALLEL];
    uint64_t batch = IMPORT_MAX_BATCH, bytes = IMPORT_BYTES;
    uint64_t parallel = DEFAULT_PARALLEL;
    struct imp im = { 0 };
    struct imp_batch *b = NULL;
    struct provcat *c;
    struct input in;
    pthread_t prog;
    bool progress;
    char *pos[2];
    const char *p, *end;
    size_t lineno = 0, nw = 0;
    long long t0;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, pos, 2, 2, &rc) < 0) {
        return rc;
    }
    if ((o[0].set && (!cli_u64(o[0].val, 1, &batch) || batch > 1000)) ||
        (o[1].set && !cli_u64(o[1].val, 1024, &bytes)) ||
        (o[2].set &&
         (!cli_u64(o[2].val, 1, &parallel) || parallel > MAX_PARALLEL))) {
        return cli_usage(g, "--batch 1-1000, --batch-bytes >= 1024, "
                            "--parallel 1-64");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if ((rc = input_open(pos[1], &in)) != CLI_OK) {
        return rc;
    }
    im.g = g;
    im.entry = pos[0];
    im.flags = PROVCAT_SKIP_IDENTICAL;
    im.qcap = (size_t)parallel * 2;
    im.q = calloc(im.qcap, sizeof(*im.q));
    pthread_mutex_init(&im.mu, NULL);
    pthread_cond_init(&im.nonempty, NULL);
    pthread_cond_init(&im.nonfull, NULL);
    pthread_cond_init(&im.tick, NULL);
    /* Lines, for the progress bar (blank ones are few). */
    {
        uint64_t n = 0;
        const char *q = in.p, *e = in.p + in.len;

        while (q < e) {
            const char *nl = memchr(q, '\n', (size_t)(e - q));

            n++;
            q = nl != NULL ? nl + 1 : e;
        }
        im.total = n;
    }
    for (nw = 0; nw < parallel; nw++) {
        workers[nw].im = &im;
        if (provcat_dup(c, &workers[nw].c) != PROVCAT_OK ||
            pthread_create(&workers[nw].th, NULL, imp_work, &workers[nw]) !=
                0) {
            provcat_close(workers[nw].c);
            imp_fail(&im, "could not start the import threads");
            break;
        }
    }
    progress = !o[4].set && isatty(2);
    if (progress) {
        pthread_create(&prog, NULL, imp_progress, &im);
    }
    t0 = cli_now_ms();

    p = in.p;
    end = in.p + in.len;
    while (p < end && !im.stop) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end, *start = p;
        struct line l = { 0 };

        p = nl != NULL ? nl + 1 : end;
        lineno++;
        while (le > start && (le[-1] == '\r' || le[-1] == ' ')) {
            le--;
        }
        if (le == start) {
            continue;
        }
        l.if_version = o[3].set ? PROVCAT_CREATE_ONLY : PROVCAT_ANY_VERSION;
        if (pcl_json_members(start, le, line_member, &l) != 0 ||
            l.key == NULL || l.value == NULL) {
            imp_fail(&im, "line %zu: %s", lineno,
                     l.bad[0] ? l.bad
                              : "not a JSON object with \"key\" and "
                                "\"value\"");
            break;
        }
        if (b == NULL) {
            b = calloc(1, sizeof(*b));
            if (b == NULL) {
                imp_fail(&im, "out of memory");
                break;
            }
        }
        char *key = l.key_escaped ? pcl_json_unescape(l.key, l.key_len)
                                  : strndup(l.key, l.key_len);
        if (key == NULL) {
            imp_fail(&im, "line %zu: a bad escape in \"key\"", lineno);
            break;
        }
        b->keys[b->n] = key;
        b->lines[b->n] = lineno;
        b->items[b->n] = (struct provcat_batch_item){ key, l.value, l.value_len,
                                                      l.if_version };
        b->n++;
        b->bytes += (uint64_t)(p - start);
        if (b->n == batch || b->bytes >= bytes) {
            if (!imp_push(&im, b)) {
                b = NULL;
                break;
            }
            b = NULL;
        }
    }
    if (b != NULL && b->n > 0 && !im.stop) {
        imp_push(&im, b);
    } else {
        batch_free(b);
    }
    pthread_mutex_lock(&im.mu);
    im.closed = true;
    pthread_cond_broadcast(&im.nonempty);
    pthread_mutex_unlock(&im.mu);
    for (size_t i = 0; i < nw; i++) {
        pthread_join(workers[i].th, NULL);
        provcat_close(workers[i].c);
    }
    pthread_mutex_lock(&im.mu);
    im.finished = true;
    pthread_cond_broadcast(&im.tick);
    pthread_mutex_unlock(&im.mu);
    if (progress) {
        pthread_join(prog, NULL);
    }
    /* Batches still queued after a failure were never sent. */
    for (size_t i = 0; i < im.qlen; i++) {
        batch_free(im.q[(im.qhead + i) % im.qcap]);
    }
    free(im.q);
    input_close(&in);

    double secs = (double)(cli_now_ms() - t0) / 1000.0;
    if (g->json) {
        printf("{\"entry\":\"%s\",\"records\":%llu,\"created\":%llu,"
               "\"updated\":%llu,\"unchanged\":%llu,\"seconds\":%.3f,"
               "\"complete\":%s}\n",
               im.entry, (unsigned long long)im.done,
               (unsigned long long)im.created, (unsigned long long)im.updated,
               (unsigned long long)im.unchanged, secs,
               im.failed ? "false" : "true");
    } else {
        printf("%s %llu records into %s in %.1f s (%.0f records/s): %llu "
               "created, %llu updated, %llu unchanged\n",
               im.failed ? "stopped after" : "imported",
               (unsigned long long)im.done, im.entry, secs,
               secs > 0 ? (double)im.done / secs : 0.0,
               (unsigned long long)im.created, (unsigned long long)im.updated,
               (unsigned long long)im.unchanged);
    }
    if (im.failed) {
        cli_failf("import: %s", im.err);
        fprintf(stderr, "provcat: fix it and run the same import again: "
                        "records already in are skipped\n");
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* ---- export ---------------------------------------------------------- */

struct exp {
    const char *entry;
    bool all;
    uint64_t at; /* the list's revision: every line reflects it */
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    unsigned gen;
    bool quit;
    char **keys;
    uint64_t *versions;
    char **out;
    size_t n, next, idle, n_workers;
    bool failed;
    char err[800];
};

struct exp_worker {
    struct exp *ex;
    struct provcat *c;
    pthread_t th;
};

/* The JSON lines for key `i`: its version as listed, or every version up
 * to the list's revision. */
static char *
exp_fetch(struct exp *ex, struct provcat *c, size_t i)
{
    const struct provcat_record *h;
    struct provcat_iter *it;
    struct pc_buf b;
    int rc;

    if (!ex->all) {
        /* The answer as it came: the record's JSON, one line. */
        char *s = NULL;

        pc_buf_init(&b);
        if (pcl_path(&b, "/v1/catalog/%s/records/%s", ex->entry, ex->keys[i]) !=
                PC_OK ||
            pcl_query_u64(&b, "version", ex->versions[i]) != PC_OK ||
            provcat_request(c, "GET", (const char *)b.data, NULL, 0, NULL,
                            &s) != PROVCAT_OK) {
            s = NULL;
        }
        pc_buf_release(&b);
        return s;
    }
    if (provcat_record_history(c, ex->entry, ex->keys[i], &it) != PROVCAT_OK) {
        return NULL;
    }
    pc_buf_init(&b);
    while ((rc = provcat_iter_record(it, &h)) == 1) {
        if (h->revision > ex->at) {
            break;
        }
        if (pc_buf_printf(&b, "%s%s", b.len ? "\n" : "", h->json) != PC_OK) {
            rc = -1;
            break;
        }
    }
    provcat_iter_free(it);
    if (rc < 0 || pc_buf_put_u8(&b, '\0') != PC_OK) {
        pc_buf_release(&b);
        return NULL;
    }
    return (char *)b.data;
}

static void *
exp_work(void *arg)
{
    struct exp_worker *w = arg;
    struct exp *ex = w->ex;
    unsigned gen = 0;

    pthread_mutex_lock(&ex->mu);
    for (;;) {
        while (ex->gen == gen && !ex->quit) {
            pthread_cond_wait(&ex->work, &ex->mu);
        }
        if (ex->quit) {
            break;
        }
        gen = ex->gen;
        while (ex->next < ex->n && !ex->failed) {
            size_t i = ex->next++;
            char *s;

            pthread_mutex_unlock(&ex->mu);
            s = exp_fetch(ex, w->c, i);
            pthread_mutex_lock(&ex->mu);
            if (s == NULL && !ex->failed) {
                ex->failed = true;
                snprintf(ex->err, sizeof(ex->err), "key '%s': %s", ex->keys[i],
                         provcat_errmsg(w->c));
            }
            ex->out[i] = s;
        }
        if (++ex->idle == ex->n_workers) {
            pthread_cond_signal(&ex->done);
        }
    }
    pthread_mutex_unlock(&ex->mu);
    return NULL;
}

/* Fetch keys [0, n) with the workers and write them in order. */
static bool
exp_chunk(struct exp *ex, FILE *f)
{
    pthread_mutex_lock(&ex->mu);
    ex->next = 0;
    ex->idle = 0;
    ex->gen++;
    pthread_cond_broadcast(&ex->work);
    while (ex->idle < ex->n_workers) {
        pthread_cond_wait(&ex->done, &ex->mu);
    }
    pthread_mutex_unlock(&ex->mu);
    for (size_t i = 0; i < ex->n; i++) {
        if (ex->out[i] != NULL && !ex->failed) {
            fputs(ex->out[i], f);
            fputc('\n', f);
        }
        free(ex->out[i]);
        ex->out[i] = NULL;
        free(ex->keys[i]);
    }
    ex->n = 0;
    return !ex->failed && !ferror(f);
}

int
cli_export(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--all", NULL, false, false, NULL },
                           { "--file", "-f", true, false, NULL },
                           { "--parallel", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct exp_worker workers[MAX_PARALLEL];
    const struct provcat_key *k;
    uint64_t parallel = 8, count = 0;
    struct provcat_iter *it;
    struct exp ex = { 0 };
    struct provcat *c;
    FILE *f = stdout;
    char *pos[1], *tmp = NULL;
    size_t nw;
    int rc = CLI_OK, r;

    if (cli_parse(g, argc, argv, o, pos, 1, 1, &rc) < 0) {
        return rc;
    }
    if (o[2].set &&
        (!cli_u64(o[2].val, 1, &parallel) || parallel > MAX_PARALLEL)) {
        return cli_usage(g, "--parallel 1-64");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (o[1].set && strcmp(o[1].val, "-") != 0) {
        if ((tmp = part_name(o[1].val)) == NULL) {
            return cli_failf("out of memory");
        }
        f = fopen(tmp, "w");
        if (f == NULL) {
            rc = cli_failf("create '%s': %s", tmp, strerror(errno));
            free(tmp);
            return rc;
        }
    }
    if (provcat_records_list(c, pos[0], NULL, o[0].set, &it) != PROVCAT_OK) {
        rc = cli_fail(g);
        goto out_file;
    }
    ex.entry = pos[0];
    ex.all = o[0].set;
    ex.keys = calloc(PCL_PAGE_LIMIT, sizeof(*ex.keys));
    ex.versions = calloc(PCL_PAGE_LIMIT, sizeof(*ex.versions));
    ex.out = calloc(PCL_PAGE_LIMIT, sizeof(*ex.out));
    pthread_mutex_init(&ex.mu, NULL);
    pthread_cond_init(&ex.work, NULL);
    pthread_cond_init(&ex.done, NULL);
    for (nw = 0; nw < parallel; nw++) {
        workers[nw].ex = &ex;
        if (provcat_dup(c, &workers[nw].c) != PROVCAT_OK) {
            break;
        }
        if (pthread_create(&workers[nw].th, NULL, exp_work, &workers[nw]) !=
            0) {
            provcat_close(workers[nw].c);
            break;
        }
    }
    ex.n_workers = nw;
    while (nw > 0 && (r = provcat_iter_key(it, &k)) == 1) {
        if (ex.at == 0) {
            /* Every record as of the list's revision, from any node that
             * has applied it: no barrier per read. */
            ex.at = provcat_iter_revision(it);
            for (size_t i = 0; i < ex.n_workers; i++) {
                provcat_set_stale_reads(workers[i].c, true);
                provcat_set_min_revision(workers[i].c, ex.at);
            }
        }
        ex.keys[ex.n] = strdup(k->key);
        ex.versions[ex.n] = k->version;
        ex.n++;
        count++;
        if (ex.n == PCL_PAGE_LIMIT && !exp_chunk(&ex, f)) {
            break;
        }
    }
    if (nw == 0) {
        rc = cli_failf("export: could not start the threads");
    } else if (r < 0) {
        rc = cli_fail(g);
    } else if (!exp_chunk(&ex, f)) {
        rc = ex.failed ? cli_failf("export: %s", ex.err)
                       : cli_failf("export: write: %s", strerror(errno));
    }
    pthread_mutex_lock(&ex.mu);
    ex.quit = true;
    pthread_cond_broadcast(&ex.work);
    pthread_mutex_unlock(&ex.mu);
    for (size_t i = 0; i < ex.n_workers; i++) {
        pthread_join(workers[i].th, NULL);
        provcat_close(workers[i].c);
    }
    for (size_t i = 0; i < ex.n; i++) {
        free(ex.keys[i]);
    }
    free(ex.keys);
    free(ex.versions);
    free(ex.out);
    provcat_iter_free(it);
    if (rc == CLI_OK && f != stdout) {
        fprintf(stderr, "exported %llu records of %s at revision %llu to %s\n",
                (unsigned long long)count, pos[0], (unsigned long long)ex.at,
                o[1].val);
    }
out_file:
    if (f != stdout) {
        if ((fflush(f) != 0 || fsync(fileno(f)) != 0) && rc == CLI_OK) {
            rc = cli_failf("write '%s': %s", tmp, strerror(errno));
        }
        fclose(f);
        rc = part_done(tmp, o[1].val, rc);
    } else if (fflush(stdout) != 0 && rc == CLI_OK) {
        rc = cli_failf("write: %s", strerror(errno));
    }
    return rc;
}

/* ---- backup ---------------------------------------------------------- */

struct bk {
    int fd;
    struct cli_progress p;
};

static int
bk_write(void *arg, const void *p, size_t n)
{
    struct bk *b = arg;
    const char *s = p;

    while (n > 0) {
        ssize_t w = write(b->fd, s, n);

        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static void
bk_progress(void *arg, uint64_t done, uint64_t total)
{
    struct bk *b = arg;

    cli_progress_show(&b->p, done, total, false);
}

int
cli_backup(struct cli *g, int argc, char **argv)
{
    struct provcat_backup_info info;
    struct provcat *c;
    struct bk b;
    char *file, *tmp;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, &file, &rc)) == NULL) {
        return rc;
    }
    if (!g->timeout_set) {
        provcat_set_timeout_ms(c, 3600 * 1000); /* a big ledger takes time */
    }
    if ((tmp = part_name(file)) == NULL) {
        return cli_failf("out of memory");
    }
    b.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (b.fd < 0) {
        rc = cli_failf("create '%s': %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    cli_progress_start(&b.p, "bytes", isatty(2));
    if (provcat_backup(c, bk_write, bk_progress, &b, &info) != PROVCAT_OK) {
        rc = cli_fail(g);
    } else if (fsync(b.fd) != 0) {
        rc = cli_failf("write '%s': %s", tmp, strerror(errno));
    }
    cli_progress_show(&b.p, rc == CLI_OK ? info.bytes : 0,
                      rc == CLI_OK ? info.bytes : 0, true);
    close(b.fd);
    if ((rc = part_done(tmp, file, rc)) != CLI_OK) {
        return rc;
    }
    if (g->json) {
        printf("{\"file\":\"%s\",\"revision\":%llu,\"root\":\"%s\","
               "\"bytes\":%llu}\n",
               file, (unsigned long long)info.revision, info.root,
               (unsigned long long)info.bytes);
    } else {
        printf("backup of revision %llu (root %s), %llu bytes, in %s\n",
               (unsigned long long)info.revision, info.root,
               (unsigned long long)info.bytes, file);
    }
    return CLI_OK;
}

/* The part of a snapshot snap_verify names. */
static const char *
damaged_part(enum snap_part part)
{
    switch (part) {
    case SNAP_PART_HEADER:
        return "header";
    case SNAP_PART_FRAME:
        return "frame";
    case SNAP_PART_TRAILER:
        return "trailer";
    case SNAP_PART_LEDGER:
        return "ledger";
    default:
        return "none";
    }
}

/*
 * The storage layer's snap_verify, called as `provcat-node verify-backup`
 * calls it (node/offline.c): every frame checksum, every fact, chain and
 * content hash, the counts and the root of header, trailer and rebuilt
 * ledger, the check a restore makes before it writes anything. So both
 * programs give the same verdict, the damage in the same words with the
 * same frame and byte ("'b.snap' is damaged: snapshot: frame 3 at byte
 * 2096745: checksum mismatch"), and for an intact backup the same lines.
 */
int
cli_verify_backup(struct cli *g, int argc, char **argv)
{
    char errmsg[PC_ERRMSG_SIZE] = "", hex[PC_HASH_HEX_LEN + 1];
    struct snap_damage d = { 0 };
    struct snap_summary s;
    struct input in;
    char *pos[1];
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, NULL, pos, 1, 1, &rc) < 0) {
        return rc;
    }
    if ((rc = input_open(pos[0], &in)) != CLI_OK) {
        return rc;
    }
    rc = snap_verify((const uint8_t *)in.p, in.len, NULL, &s, &d, errmsg);
    input_close(&in);
    if (rc == PC_ECORRUPT) {
        pc_errmsg_wrap(errmsg, rc, "'%s' is damaged", pos[0]);
    } else if (rc != PC_OK && errmsg[0] == '\0') {
        snprintf(errmsg, sizeof(errmsg), "'%s': %s", pos[0], pc_strerror(rc));
    }
    if (rc != PC_OK) {
        if (g->json && rc == PC_ECORRUPT) {
            json_t *o = json_pack(
                "{s:s, s:b, s:s, s:s, s:I, s:I, s:I}", "file", pos[0], "valid",
                0, "error", errmsg, "part", damaged_part(d.part), "frame",
                (json_int_t)d.frame, "byte", (json_int_t)d.byte, "fact",
                (json_int_t)d.fact);
            char *j = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

            if (j != NULL) {
                printf("%s\n", j);
            }
            free(j);
            json_decref(o);
        }
        return cli_failf("verify-backup: %s", errmsg);
    }
    pc_hex(hex, s.root, PC_HASH_LEN);
    if (g->json) {
        json_t *o = json_pack(
            "{s:s, s:b, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
            "s:I, s:I}",
            "file", pos[0], "valid", 1, "bytes", (json_int_t)s.bytes,
            "revision", (json_int_t)s.revision, "root", hex, "facts",
            (json_int_t)s.count, "frames", (json_int_t)s.frames, "entries",
            (json_int_t)s.entities_of[FACT_ENTRY], "records",
            (json_int_t)s.entities_of[FACT_RECORD], "record_versions",
            (json_int_t)s.facts_of[FACT_RECORD], "orgs",
            (json_int_t)s.entities_of[FACT_ORG], "principals",
            (json_int_t)s.entities_of[FACT_PRINCIPAL], "documents",
            (json_int_t)s.documents, "redacted", (json_int_t)s.redacted);
        char *j = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

        if (j == NULL) {
            json_decref(o);
            return cli_failf("verify-backup: out of memory");
        }
        printf("%s\n", j);
        free(j);
        json_decref(o);
        return CLI_OK;
    }
    printf("file             %s\n"
           "bytes            %llu\n"
           "revision         %llu\n"
           "root             %s\n"
           "facts            %llu\n"
           "frames           %llu\n"
           "entries          %llu\n"
           "records          %llu\n"
           "record_versions  %llu\n"
           "orgs             %llu\n"
           "principals       %llu\n"
           "documents        %llu\n"
           "redacted         %llu\n",
           pos[0], (unsigned long long)s.bytes, (unsigned long long)s.revision,
           hex, (unsigned long long)s.count, (unsigned long long)s.frames,
           (unsigned long long)s.entities_of[FACT_ENTRY],
           (unsigned long long)s.entities_of[FACT_RECORD],
           (unsigned long long)s.facts_of[FACT_RECORD],
           (unsigned long long)s.entities_of[FACT_ORG],
           (unsigned long long)s.entities_of[FACT_PRINCIPAL],
           (unsigned long long)s.documents, (unsigned long long)s.redacted);
    return CLI_OK;
}
