/* SPDX-License-Identifier: MIT */
/*
 * Restore: the backup is decoded and fully verified first (every checksum,
 * leaf, chain and the root); only then is it written, through raft_uv's
 * own snapshot writer, as the snapshot of a fresh data dir whose
 * configuration is this node alone (restore.h has the index and why). The
 * raft files are built in DATA_DIR/raft.restoring; the record
 * DATA_DIR/restored is written, then raft.restoring becomes raft/. A data
 * dir without raft/ is therefore fresh, whatever an interrupted restore
 * left, and one with both is a finished restore.
 * With --redactions, the documents the live cluster redacted after the
 * backup was taken are dropped first (matched by entry, key, version and
 * content hash) and the ledger is encoded again, so no document a
 * redaction removed comes back.
 */
#include "node/raft/restore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "node/log.h"
#include "node/raft/clu.h"
#include "node/raft/raft_compat.h"
#include "node/raft/redactions.h"
#include "node/raft/rfsm.h"
#include "storage/fact.h"
#include "storage/led.h"
#include "storage/snap.h"

#define PATH_SIZE 4096

/* What a data dir holds, as far as a restore is concerned. */
enum dir_state {
    DIR_FRESH,    /* nothing, or only the leftovers of a restore */
    DIR_RESTORED, /* raft/ and the record of a finished restore */
    DIR_OTHER,    /* anything else: never touched */
};

/* The fields of DATA_DIR/restored that a second restore compares. */
struct record {
    uint64_t bytes, revision;
    char root[PC_HASH_HEX_LEN + 1];
};

int
restore_read_file(const char *path, struct pc_buf *out, char *errmsg)
{
    struct stat st;
    size_t want;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = PC_OK;

    if (fd < 0) {
        return pc_errmsg_sys(errmsg, errno, "open '%s'", path);
    }
    if (fstat(fd, &st) != 0) {
        rc = pc_errmsg_sys(errmsg, errno, "stat '%s'", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = pc_errmsgf(errmsg, PC_EINVAL, "'%s' is not a regular file", path);
        goto out;
    }
    if (pc_buf_reserve(out, (size_t)st.st_size) != PC_OK) {
        rc =
            pc_errmsgf(errmsg, PC_ENOMEM, "out of memory for '%s' (%lld bytes)",
                       path, (long long)st.st_size);
        goto out;
    }
    want = out->len + (size_t)st.st_size;
    while (out->len < want) {
        ssize_t n = read(fd, out->data + out->len, want - out->len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = n < 0 ? pc_errmsg_sys(errmsg, errno, "read '%s'", path)
                       : pc_errmsgf(errmsg, PC_EIO,
                                    "read '%s': shorter than its size", path);
            goto out;
        }
        out->len += (size_t)n;
    }
out:
    close(fd);
    return rc;
}

/* Whether `path` exists (as anything). */
static bool
exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* Read DATA_DIR/restored into `r`; PC_OK, or PC_ENOTFOUND if unreadable. */
static int
record_read(const char *path, struct record *r)
{
    FILE *f = fopen(path, "r");
    char line[256], hex[80];
    unsigned long long v;
    int seen = 0;

    if (f == NULL) {
        return PC_ENOTFOUND;
    }
    memset(r, 0, sizeof(*r));
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "bytes %llu", &v) == 1) {
            r->bytes = v;
            seen |= 1;
        } else if (sscanf(line, "revision %llu", &v) == 1) {
            r->revision = v;
            seen |= 2;
        } else if (sscanf(line, "root %79s", hex) == 1 &&
                   strlen(hex) == PC_HASH_HEX_LEN) {
            memcpy(r->root, hex, PC_HASH_HEX_LEN + 1);
            seen |= 4;
        }
    }
    fclose(f);
    return seen == 7 ? PC_OK : PC_ENOTFOUND;
}

/* fsync the directory `dir` itself. */
static int
fsync_path(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0) {
        return -1;
    }
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write the record of this restore, durably (temporary file, rename). */
static int
record_write(const char *dir, const struct restore_opts *o,
             const struct snap_summary *s, char *errmsg)
{
    char path[PATH_SIZE], tmp[PATH_SIZE + 8], hex[PC_HASH_HEX_LEN + 1];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s/%s", dir, RESTORE_RECORD);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    pc_hex(hex, s->root, PC_HASH_LEN);
    f = fopen(tmp, "w");
    if (f == NULL) {
        return pc_errmsg_sys(errmsg, errno, "create '%s'", tmp);
    }
    fprintf(f,
            "# This data dir was restored from a backup by provcat-node.\n"
            "backup %s\nbytes %" PRIu64 "\nrevision %" PRIu64 "\nroot %s\n"
            "node %" PRIu32 "\npeer %s\n",
            o->backup, s->bytes, s->revision, hex, o->id, o->peer);
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        return pc_errmsg_sys(errmsg, errno, "write '%s'", path);
    }
    return PC_OK;
}

/* Remove the directory `path` and the plain files in it (raft_uv's). */
static int
remove_flat_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char p[PATH_SIZE + 256];

    if (d == NULL) {
        return errno == ENOENT ? 0 : -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    return rmdir(path);
}

/*
 * Classify `dir`: fresh when it holds nothing but the lock, and what a
 * restore that did not finish leaves (raft.restoring, the record and its
 * temporary file, never raft/).
 */
static enum dir_state
dir_state(const char *dir)
{
    static const char *const leftovers[] = { "LOCK", "raft.restoring",
                                             RESTORE_RECORD,
                                             RESTORE_RECORD ".tmp" };
    char p[PATH_SIZE];
    DIR *d = opendir(dir);
    struct dirent *e;
    bool other = false;

    if (d == NULL) {
        return errno == ENOENT ? DIR_FRESH : DIR_OTHER;
    }
    while ((e = readdir(d)) != NULL && !other) {
        bool known =
            strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
        for (size_t i = 0; i < sizeof(leftovers) / sizeof(*leftovers); i++) {
            known = known || strcmp(e->d_name, leftovers[i]) == 0;
        }
        other = !known;
    }
    closedir(d);
    if (!other) {
        return DIR_FRESH;
    }
    snprintf(p, sizeof(p), "%s/raft", dir);
    if (exists(p)) {
        snprintf(p, sizeof(p), "%s/%s", dir, RESTORE_RECORD);
        struct record r;
        if (record_read(p, &r) == PC_OK) {
            return DIR_RESTORED;
        }
    }
    return DIR_OTHER;
}

/* Take the data dir's lock (the node's: DATA_DIR/LOCK), creating the dir. */
static int
lock_dir(const char *dir, int *fd_out, char *errmsg)
{
    char path[PATH_SIZE];
    int fd;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return pc_errmsg_sys(errmsg, errno, "create data dir '%s'", dir);
    }
    snprintf(path, sizeof(path), "%s/LOCK", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return pc_errmsg_sys(errmsg, errno, "open '%s'", path);
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK) {
            return pc_errmsgf(errmsg, PC_EBUSY,
                              "data dir '%s' is in use by another process",
                              dir);
        }
        return pc_errmsg_sys(errmsg, e, "lock '%s'", path);
    }
    *fd_out = fd;
    return PC_OK;
}

/*
 * The data dir restored before: PC_OK (`res->already`) if from a backup
 * with the same size, revision and root as `o->backup` (its header is
 * enough: the root covers every fact), else PC_EEXIST.
 */
static int
check_same(const struct restore_opts *o, struct restore_result *res,
           char *errmsg)
{
    char path[PATH_SIZE], hex[PC_HASH_HEX_LEN + 1];
    uint8_t head[SNAP_HEADER_LEN];
    struct snap_info info;
    struct record r;
    struct stat st;
    ssize_t n = -1;
    int fd, rc;

    snprintf(path, sizeof(path), "%s/%s", o->data_dir, RESTORE_RECORD);
    if (record_read(path, &r) != PC_OK) {
        return pc_errmsgf(errmsg, PC_EEXIST, "cannot read '%s'", path);
    }
    fd = open(o->backup, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return pc_errmsg_sys(errmsg, errno, "open '%s'", o->backup);
    }
    if (fstat(fd, &st) == 0) {
        n = read(fd, head, sizeof(head));
    }
    close(fd);
    rc = snap_peek(head, n < 0 ? 0 : (size_t)n, &info, errmsg);
    if (rc != PC_OK) {
        return pc_errmsg_wrap(errmsg, rc, "'%s'", o->backup);
    }
    pc_hex(hex, info.root, PC_HASH_LEN);
    if ((uint64_t)st.st_size != r.bytes || info.revision != r.revision ||
        strcmp(hex, r.root) != 0) {
        return pc_errmsgf(errmsg, PC_EEXIST,
                          "data dir '%s' was restored from another backup "
                          "(revision %" PRIu64 ", root %.16s...); restore "
                          "into an empty data dir",
                          o->data_dir, r.revision, r.root);
    }
    memset(res, 0, sizeof(*res));
    res->already = true;
    res->bytes = r.bytes;
    res->revision = r.revision;
    memcpy(res->root, info.root, PC_HASH_LEN);
    return PC_OK;
}

/*
 * Apply the redaction list `path` to `l` (node/raft/redactions.c) and
 * encode it again into `out`. PC_OK, PC_EINVAL (a bad list), PC_ENOMEM,
 * PC_EIO.
 */
static int
apply_redactions(struct led *l, const char *path, struct pc_buf *out,
                 char *errmsg)
{
    struct redactions_count n = { 0, 0 };
    struct pc_buf text;
    struct led_view *v;
    int rc;

    pc_buf_init(&text);
    rc = restore_read_file(path, &text, errmsg);
    if (rc == PC_OK) {
        rc = redactions_apply(l, (const char *)text.data, text.len, &n, errmsg);
    }
    pc_buf_release(&text);
    if (rc != PC_OK) {
        return rc;
    }
    rc = led_view_open(l, &v);
    if (rc == PC_OK) {
        rc = snap_encode_buf(v, out, errmsg);
        led_view_close(l, v);
    }
    if (rc != PC_OK) {
        return pc_errmsgf(errmsg, rc, "encode the redacted backup: %s",
                          pc_strerror(rc));
    }
    fprintf(stderr,
            "provcat-node: %lu documents redacted since the backup dropped "
            "(%lu listed versions are not in it)\n",
            n.dropped, n.absent);
    return PC_OK;
}

struct put_state {
    bool done;
    int status;
};

static void
put_cb(struct raft_io_snapshot_put *req, int status)
{
    struct put_state *s = req->data;

    s->done = true;
    s->status = status;
}

static void
io_closed(struct raft_io *io)
{
    (void)io;
}

/*
 * Write `bytes` as the raft snapshot (RESTORE_SNAPSHOT_INDEX, term 1,
 * configuration {id: peer}) of a new raft dir `raft_dir`, on a loop of its
 * own, and wait until raft_uv has synced it.
 */
static int
write_raft_dir(const char *raft_dir, const struct restore_opts *o,
               const struct pc_buf *bytes, char *errmsg)
{
    struct raft_uv_transport transport;
    struct raft_io io;
    struct raft_snapshot snap;
    struct raft_io_snapshot_put req;
    struct raft_buffer buf;
    struct put_state st = { false, 0 };
    char peer[CLU_ADDRESS_SIZE];
    uv_loop_t loop;
    int rc = PC_OK, rv;

    /* A name as it is, or resolved now for raft 0.15 (clu_resolve). */
    rc = clu_resolve(o->peer, peer, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    if (mkdir(raft_dir, 0700) != 0) {
        return pc_errmsg_sys(errmsg, errno, "create '%s'", raft_dir);
    }
    uv_loop_init(&loop);
    memset(&transport, 0, sizeof(transport));
    memset(&io, 0, sizeof(io));
#if PC_RAFT_HAS_017
    transport.version = 1;
#endif
    rv = raft_uv_tcp_init(&transport, &loop);
    if (rv == 0) {
        rv = raft_uv_init(&io, &loop, raft_dir, &transport);
    }
    if (rv == 0) {
        rv = io.init(&io, o->id, peer);
    }
    if (rv == 0) {
        rv = io.set_term(&io, RESTORE_SNAPSHOT_TERM);
    }
    if (rv != 0) {
        rc = pc_errmsgf(errmsg, PC_EIO, "raft io: %s", io.errmsg);
        goto out;
    }
    memset(&snap, 0, sizeof(snap));
    snap.index = RESTORE_SNAPSHOT_INDEX;
    snap.term = RESTORE_SNAPSHOT_TERM;
    snap.configuration_index = RESTORE_SNAPSHOT_INDEX;
    raft_configuration_init(&snap.configuration);
    rv = raft_configuration_add(&snap.configuration, o->id, peer, RAFT_VOTER);
    buf.base = bytes->data;
    buf.len = bytes->len;
    snap.bufs = &buf;
    snap.n_bufs = 1;
    req.data = &st;
    if (rv == 0) {
        rv = io.snapshot_put(&io, 0, &req, &snap, put_cb);
    }
    while (rv == 0 && !st.done) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    raft_configuration_close(&snap.configuration);
    if (rv != 0 || st.status != 0) {
        rc = pc_errmsgf(errmsg, PC_EIO, "write the raft snapshot: %s",
                        raft_strerror(rv ? rv : st.status));
    }
out:
    io.close(&io, io_closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    raft_uv_close(&io);
    raft_uv_tcp_close(&transport);
    uv_loop_close(&loop);
    return rc;
}

/* Fill `res` from a verified backup's summary. */
static void
result_from(struct restore_result *res, const struct snap_summary *s)
{
    memset(res, 0, sizeof(*res));
    res->bytes = s->bytes;
    res->revision = s->revision;
    res->facts = s->count;
    res->entries = s->entities_of[FACT_ENTRY];
    res->records = s->entities_of[FACT_RECORD];
    memcpy(res->root, s->root, PC_HASH_LEN);
}

/* Restore into the fresh, locked data dir. */
static int
restore_fresh(const struct restore_opts *o, bool preload,
              struct restore_result *res, char *errmsg)
{
    char raft_dir[PATH_SIZE], tmp_dir[PATH_SIZE], rec[PATH_SIZE];
    struct snap_summary sum;
    struct pc_buf file;
    struct led *l = NULL;
    uint64_t digest = 0;
    int rc;

    pc_buf_init(&file);
    rc = restore_read_file(o->backup, &file, errmsg);
    if (rc != PC_OK) {
        goto out;
    }
    rc = snap_verify(file.data, file.len,
                     preload || o->redactions != NULL ? &l : NULL, &sum, NULL,
                     errmsg);
    if (rc != PC_OK) {
        pc_errmsg_wrap(errmsg, rc, "backup '%s'", o->backup);
        goto out;
    }
    if (o->redactions != NULL) {
        /* What raft writes is the backup with those documents dropped:
         * the same facts, the same root. */
        file.len = 0;
        rc = apply_redactions(l, o->redactions, &file, errmsg);
        if (rc != PC_OK) {
            goto out;
        }
    }
    if (preload) {
        digest = XXH3_64bits(file.data, file.len);
    }
    snprintf(raft_dir, sizeof(raft_dir), "%s/raft", o->data_dir);
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/raft.restoring", o->data_dir);
    snprintf(rec, sizeof(rec), "%s/%s", o->data_dir, RESTORE_RECORD);
    /* What an interrupted restore left. */
    unlink(rec);
    if (remove_flat_dir(tmp_dir) != 0) {
        rc = pc_errmsg_sys(errmsg, errno, "remove '%s'", tmp_dir);
        goto out;
    }
    rc = write_raft_dir(tmp_dir, o, &file, errmsg);
    if (rc == PC_OK) {
        rc = record_write(o->data_dir, o, &sum, errmsg);
    }
    if (rc == PC_OK &&
        (rename(tmp_dir, raft_dir) != 0 || fsync_path(o->data_dir) != 0)) {
        rc = pc_errmsg_sys(errmsg, errno, "rename '%s' to '%s'", tmp_dir,
                           raft_dir);
    }
    if (rc == PC_OK) {
        result_from(res, &sum);
        if (preload) {
            rfsm_preload(l, file.len, digest);
            l = NULL;
        }
    }
out:
    led_free(l);
    pc_buf_release(&file);
    return rc;
}

int
restore_run(const struct restore_opts *o, bool preload,
            struct restore_result *res, char *errmsg)
{
    int lock_fd = -1, rc;

    rc = lock_dir(o->data_dir, &lock_fd, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    switch (dir_state(o->data_dir)) {
    case DIR_FRESH:
        rc = restore_fresh(o, preload, res, errmsg);
        break;
    case DIR_RESTORED:
        rc = check_same(o, res, errmsg);
        break;
    default:
        rc = pc_errmsgf(errmsg, PC_EEXIST,
                        "data dir '%s' is not empty and was not restored "
                        "from a backup; restore into an empty data dir",
                        o->data_dir);
        break;
    }
    close(lock_fd);
    return rc;
}

int
restore_data_dir(const struct cfg *c, char *errmsg)
{
    struct restore_opts o = { c->restore, c->data_dir, c->id, c->peer,
                              c->redactions };
    struct restore_result res;
    char hex[PC_HASH_HEX_LEN + 1], rec[PATH_SIZE];
    int rc;

    /* The service was started with --restore before and restored its data
     * dir; the backup has gone since. The data dir is what counts. */
    snprintf(rec, sizeof(rec), "%s/%s", c->data_dir, RESTORE_RECORD);
    if (!exists(c->restore) && dir_state(c->data_dir) == DIR_RESTORED) {
        log_write(LOG_LEVEL_WARN, "restore_skipped",
                  LOG_FIELDS(LOG_STR("backup", c->restore),
                             LOG_STR("data_dir", c->data_dir)),
                  "--restore: '%s' is gone; data dir '%s' was restored "
                  "before (%s), starting on it",
                  c->restore, c->data_dir, rec);
        return PC_OK;
    }
    if (!exists(c->restore)) { /* the flag names a file that is not there */
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "backup '%s' does not exist, and data dir '%s' "
                          "was not restored from it",
                          c->restore, c->data_dir);
    }
    rc = restore_run(&o, true, &res, errmsg);
    if (rc != PC_OK) {
        return rc == PC_ECORRUPT || rc == PC_EEXIST ? PC_EINVAL : rc;
    }
    pc_hex(hex, res.root, PC_HASH_LEN);
    if (res.already) {
        log_write(LOG_LEVEL_INFO, "restore_skipped",
                  LOG_FIELDS(LOG_STR("backup", c->restore),
                             LOG_STR("data_dir", c->data_dir),
                             LOG_U64("revision", res.revision),
                             LOG_STR("root", hex)),
                  "--restore: data dir '%s' was restored from this backup "
                  "(revision %" PRIu64 ") already; starting on it",
                  c->data_dir, res.revision);
    } else {
        log_write(
            LOG_LEVEL_INFO, "restored",
            LOG_FIELDS(LOG_STR("backup", c->restore),
                       LOG_STR("data_dir", c->data_dir),
                       LOG_U64("revision", res.revision), LOG_STR("root", hex),
                       LOG_U64("entries", res.entries),
                       LOG_U64("records", res.records)),
            "backup verified and restored into '%s': revision %" PRIu64
            ", root %s, %" PRIu64 " entries, %" PRIu64 " records; node %" PRIu32
            " is a one-voter cluster, add the others with POST "
            "/v1/members",
            c->data_dir, res.revision, hex, res.entries, res.records, c->id);
    }
    return PC_OK;
}
