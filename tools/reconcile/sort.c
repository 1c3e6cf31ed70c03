/* SPDX-License-Identifier: MIT */
/*
 * External merge sort of source rows by (key bytes, line). Rows are copied
 * into an arena; when it holds `mem_bytes` the rows are sorted and written
 * to a run file (created in `tmpdir` and unlinked at once, so nothing is
 * left behind whatever happens); at the end the last rows are sorted in
 * memory and merged with the runs through a small heap, each run read
 * through its own buffer. A row in a run: u32 key length, key, u64 line,
 * u32 payload length, payload (little-endian).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "tools/reconcile/reconcile.h"

#define RUN_BUF (1u << 20)

/* A row held in memory: offsets into the arena. */
struct mrow {
    size_t off; /* the key's first byte */
    uint32_t key_len, payload_len;
    uint64_t line;
};

/* A run being merged. */
struct run {
    FILE *f;
    struct pc_buf row; /* the current row's bytes */
    struct rcl_row cur;
    bool done;
};

struct rcl_sorter {
    size_t mem_bytes;
    char *tmpdir;
    struct pc_buf arena;
    struct mrow *rows;
    size_t n_rows, cap_rows;
    uint64_t total;
    struct run *runs;
    unsigned n_runs;
    /* Merge state: a heap of sources, run index or n_runs for memory. */
    unsigned *heap;
    unsigned n_heap;
    size_t mem_next; /* the next in-memory row */
    bool finished;
    int last; /* the source of the row last returned, -1 before */
};

int
rcl_sorter_new(struct rcl_sorter **out, size_t mem_bytes, const char *tmpdir)
{
    struct rcl_sorter *s = pc_calloc(1, sizeof(*s));

    if (s == NULL) {
        return PC_ENOMEM;
    }
    s->mem_bytes = mem_bytes;
    s->tmpdir = pc_strdup(tmpdir != NULL ? tmpdir : "/tmp");
    s->last = -1;
    pc_buf_init(&s->arena);
    if (s->tmpdir == NULL) {
        pc_free(s);
        return PC_ENOMEM;
    }
    *out = s;
    return PC_OK;
}

void
rcl_sorter_free(struct rcl_sorter *s)
{
    if (s == NULL) {
        return;
    }
    for (unsigned i = 0; i < s->n_runs; i++) {
        if (s->runs[i].f != NULL) {
            fclose(s->runs[i].f);
        }
        pc_buf_release(&s->runs[i].row);
    }
    pc_free(s->runs);
    pc_free(s->heap);
    pc_free(s->rows);
    pc_buf_release(&s->arena);
    pc_free(s->tmpdir);
    pc_free(s);
}

unsigned
rcl_sorter_runs(const struct rcl_sorter *s)
{
    return s->n_runs;
}

uint64_t
rcl_sorter_rows(const struct rcl_sorter *s)
{
    return s->total;
}

static int
key_cmp(const uint8_t *a, size_t alen, uint64_t aline, const uint8_t *b,
        size_t blen, uint64_t bline)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0) {
        return c;
    }
    if (alen != blen) {
        return alen < blen ? -1 : 1;
    }
    return aline < bline ? -1 : aline > bline;
}

/* qsort has no context argument: the arena of the sort in progress. */
static const uint8_t *sort_base;

static int
mrow_cmp(const void *x, const void *y)
{
    const struct mrow *a = x, *b = y;

    return key_cmp(sort_base + a->off, a->key_len, a->line, sort_base + b->off,
                   b->key_len, b->line);
}

static void
sort_memory(struct rcl_sorter *s)
{
    sort_base = s->arena.data;
    qsort(s->rows, s->n_rows, sizeof(*s->rows), mrow_cmp);
    sort_base = NULL;
}

/* Sort what memory holds into a new run file, and empty memory. */
static int
spill(struct rcl_sorter *s, char *err)
{
    char path[4096];
    struct run *runs;
    FILE *f;
    int fd;

    runs = pc_realloc(s->runs, (s->n_runs + 1) * sizeof(*runs));
    if (runs == NULL) {
        return pc_errmsgf(err, PC_ENOMEM, "sort: out of memory");
    }
    s->runs = runs;
    snprintf(path, sizeof(path), "%s/provcat-reconcile-XXXXXX", s->tmpdir);
    fd = mkstemp(path);
    if (fd < 0) {
        return pc_errmsg_sys(err, errno, "sort: create a file in '%s'",
                             s->tmpdir);
    }
    unlink(path); /* gone when closed, whatever happens */
    f = fdopen(fd, "w+b");
    if (f == NULL) {
        close(fd);
        return pc_errmsg_sys(err, errno, "sort: open a run file");
    }
    setvbuf(f, NULL, _IOFBF, RUN_BUF);
    sort_memory(s);
    for (size_t i = 0; i < s->n_rows; i++) {
        const struct mrow *r = &s->rows[i];
        uint32_t kl = r->key_len, pl = r->payload_len;
        uint64_t line = r->line;

        if (fwrite(&kl, 4, 1, f) != 1 ||
            fwrite(s->arena.data + r->off, 1, kl, f) != kl ||
            fwrite(&line, 8, 1, f) != 1 || fwrite(&pl, 4, 1, f) != 1 ||
            fwrite(s->arena.data + r->off + kl, 1, pl, f) != pl) {
            int e = errno;

            fclose(f);
            return pc_errmsg_sys(err, e, "sort: write a run file in '%s'",
                                 s->tmpdir);
        }
    }
    if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0) {
        int e = errno;

        fclose(f);
        return pc_errmsg_sys(err, e, "sort: write a run file in '%s'",
                             s->tmpdir);
    }
    memset(&s->runs[s->n_runs], 0, sizeof(s->runs[s->n_runs]));
    s->runs[s->n_runs].f = f;
    pc_buf_init(&s->runs[s->n_runs].row);
    s->n_runs++;
    s->n_rows = 0;
    s->arena.len = 0;
    return PC_OK;
}

int
rcl_sorter_add(struct rcl_sorter *s, const struct rcl_row *row, char *err)
{
    struct mrow *r;
    int rc;

    if (row->key_len > UINT32_MAX || row->payload_len > UINT32_MAX) {
        return pc_errmsgf(err, PC_EINVAL, "sort: a row over 4 GiB");
    }
    if (s->n_rows > 0 && s->arena.len + row->key_len + row->payload_len +
                                 s->n_rows * sizeof(struct mrow) >
                             s->mem_bytes) {
        rc = spill(s, err);
        if (rc != PC_OK) {
            return rc;
        }
    }
    if (s->n_rows == s->cap_rows) {
        size_t cap = s->cap_rows ? 2 * s->cap_rows : 4096;
        struct mrow *v = pc_realloc(s->rows, cap * sizeof(*v));

        if (v == NULL) {
            return pc_errmsgf(err, PC_ENOMEM, "sort: out of memory");
        }
        s->rows = v;
        s->cap_rows = cap;
    }
    r = &s->rows[s->n_rows];
    r->off = s->arena.len;
    r->key_len = (uint32_t)row->key_len;
    r->payload_len = (uint32_t)row->payload_len;
    r->line = row->line;
    if (pc_buf_put(&s->arena, row->key, row->key_len) != PC_OK ||
        pc_buf_put(&s->arena, row->payload, row->payload_len) != PC_OK) {
        return pc_errmsgf(err, PC_ENOMEM, "sort: out of memory");
    }
    s->n_rows++;
    s->total++;
    return PC_OK;
}

/* Read run `i`'s next row into its `cur`: PC_OK (or done), PC_EIO. */
static int
run_read(struct run *r, char *err)
{
    uint32_t kl, pl;
    uint64_t line;

    if (fread(&kl, 4, 1, r->f) != 1) {
        if (ferror(r->f)) {
            return pc_errmsg_sys(err, errno, "sort: read a run file");
        }
        r->done = true;
        return PC_OK;
    }
    r->row.len = 0;
    if (pc_buf_reserve(&r->row, kl) != PC_OK ||
        fread(r->row.data, 1, kl, r->f) != kl ||
        fread(&line, 8, 1, r->f) != 1 || fread(&pl, 4, 1, r->f) != 1 ||
        pc_buf_reserve(&r->row, (size_t)kl + pl) != PC_OK ||
        fread(r->row.data + kl, 1, pl, r->f) != pl) {
        return pc_errmsgf(err, PC_EIO, "sort: a run file is short");
    }
    r->row.len = (size_t)kl + pl;
    r->cur.key = r->row.data;
    r->cur.key_len = kl;
    r->cur.line = line;
    r->cur.payload = r->row.data + kl;
    r->cur.payload_len = pl;
    return PC_OK;
}

/* The current row of source `i` (a run, or memory when i == n_runs). */
static void
source_row(const struct rcl_sorter *s, unsigned i, struct rcl_row *out)
{
    if (i < s->n_runs) {
        *out = s->runs[i].cur;
        return;
    }
    const struct mrow *r = &s->rows[s->mem_next];
    out->key = s->arena.data + r->off;
    out->key_len = r->key_len;
    out->line = r->line;
    out->payload = s->arena.data + r->off + r->key_len;
    out->payload_len = r->payload_len;
}

static bool
heap_less(const struct rcl_sorter *s, unsigned a, unsigned b)
{
    struct rcl_row x, y;

    source_row(s, a, &x);
    source_row(s, b, &y);
    return key_cmp(x.key, x.key_len, x.line, y.key, y.key_len, y.line) < 0;
}

static void
heap_down(struct rcl_sorter *s, unsigned i)
{
    for (;;) {
        unsigned l = 2 * i + 1, r = l + 1, m = i;

        if (l < s->n_heap && heap_less(s, s->heap[l], s->heap[m])) {
            m = l;
        }
        if (r < s->n_heap && heap_less(s, s->heap[r], s->heap[m])) {
            m = r;
        }
        if (m == i) {
            return;
        }
        unsigned t = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = t;
        i = m;
    }
}

int
rcl_sorter_finish(struct rcl_sorter *s, char *err)
{
    int rc;

    sort_memory(s);
    s->finished = true;
    s->heap = pc_malloc((s->n_runs + 1) * sizeof(*s->heap));
    if (s->heap == NULL) {
        return pc_errmsgf(err, PC_ENOMEM, "sort: out of memory");
    }
    for (unsigned i = 0; i < s->n_runs; i++) {
        rc = run_read(&s->runs[i], err);
        if (rc != PC_OK) {
            return rc;
        }
        if (!s->runs[i].done) {
            s->heap[s->n_heap++] = i;
        }
    }
    if (s->n_rows > 0) {
        s->heap[s->n_heap++] = s->n_runs;
    }
    for (unsigned i = s->n_heap / 2; i-- > 0;) {
        heap_down(s, i);
    }
    return PC_OK;
}

int
rcl_sorter_next(struct rcl_sorter *s, struct rcl_row *row, char *err)
{
    int rc;

    /* Advance the source of the row returned last, now that the caller
     * is done with it. */
    if (s->last >= 0) {
        unsigned src = (unsigned)s->last;
        bool more;

        s->last = -1;
        if (src < s->n_runs) {
            rc = run_read(&s->runs[src], err);
            if (rc != PC_OK) {
                return rc;
            }
            more = !s->runs[src].done;
        } else {
            more = ++s->mem_next < s->n_rows;
        }
        if (!more) {
            s->heap[0] = s->heap[--s->n_heap];
        }
        heap_down(s, 0);
    }
    if (s->n_heap == 0) {
        return 0;
    }
    s->last = (int)s->heap[0];
    source_row(s, s->heap[0], row);
    return 1;
}
