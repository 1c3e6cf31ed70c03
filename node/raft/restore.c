/* SPDX-License-Identifier: MIT */
/*
 * Offline restore: the backup is decoded and fully verified first (every
 * checksum, leaf, chain and the root); only then is it written, through
 * raft_uv's own snapshot writer, as the snapshot of a fresh data dir whose
 * configuration is this node alone. With --redactions, the documents that
 * the live cluster redacted after the backup was taken are dropped first
 * (matched by entry, key, version and content hash) and the ledger is
 * encoded again, so no document a redaction removed comes back.
 */
#include "node/raft/restore.h"

#include <dirent.h>
#include <errno.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "node/raft/raft_compat.h"
#include "node/raft/redactions.h"
#include "storage/led.h"
#include "storage/snap.h"

static int
read_file(const char *path, struct pc_buf *out, char *errmsg)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (f == NULL) {
        return pc_errmsg_sys(errmsg, errno, "open '%s'", path);
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (pc_buf_put(out, chunk, n) != PC_OK) {
            fclose(f);
            return pc_errmsgf(errmsg, PC_ENOMEM, "out of memory");
        }
    }
    if (ferror(f)) {
        fclose(f);
        return pc_errmsgf(errmsg, PC_EIO, "read '%s' failed", path);
    }
    fclose(f);
    return PC_OK;
}

static bool
dir_empty(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    bool empty = true;

    if (d == NULL) {
        return errno == ENOENT;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            strcmp(e->d_name, "LOCK") != 0) {
            empty = false;
        }
    }
    closedir(d);
    return empty;
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
    rc = read_file(path, &text, errmsg);
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

int
restore_data_dir(const struct cfg *c, char *errmsg)
{
    char raft_dir[4096];
    struct pc_buf file;
    struct led *l = NULL;
    struct raft_uv_transport transport;
    struct raft_io io;
    struct raft_snapshot snap;
    struct raft_io_snapshot_put req;
    struct raft_buffer buf;
    struct put_state st = { false, 0 };
    uv_loop_t loop;
    uint8_t root[PC_HASH_LEN];
    char hex[PC_HASH_HEX_LEN + 1];
    int rc, rv;

    if (!dir_empty(c->data_dir)) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "data dir '%s' is not empty; restore only into a "
                          "new one",
                          c->data_dir);
    }
    pc_buf_init(&file);
    rc = read_file(c->restore, &file, errmsg);
    if (rc != PC_OK) {
        pc_buf_release(&file);
        return rc;
    }
    rc = snap_decode(file.data, file.len, &l, errmsg);
    if (rc != PC_OK) {
        pc_buf_release(&file);
        return rc == PC_ENOMEM ? rc : PC_EINVAL;
    }
    led_root(l, root);
    pc_hex(hex, root, PC_HASH_LEN);
    fprintf(stderr, "provcat-node: backup verified: %llu facts, root %s\n",
            (unsigned long long)led_count(l), hex);
    if (c->redactions != NULL) {
        /* What raft writes is the backup with those documents dropped:
         * same facts, same root. */
        file.len = 0;
        rc = apply_redactions(l, c->redactions, &file, errmsg);
        if (rc != PC_OK) {
            led_free(l);
            pc_buf_release(&file);
            return rc;
        }
    }
    led_free(l);

    if ((mkdir(c->data_dir, 0700) != 0 && errno != EEXIST)) {
        pc_buf_release(&file);
        return pc_errmsg_sys(errmsg, errno, "create '%s'", c->data_dir);
    }
    snprintf(raft_dir, sizeof(raft_dir), "%s/raft", c->data_dir);
    if (mkdir(raft_dir, 0700) != 0 && errno != EEXIST) {
        pc_buf_release(&file);
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
        rv = io.init(&io, c->id, c->peer);
    }
    if (rv == 0) {
        rv = io.set_term(&io, 1);
    }
    if (rv != 0) {
        rc = pc_errmsgf(errmsg, PC_EIO, "raft io: %s", io.errmsg);
        goto out;
    }
    memset(&snap, 0, sizeof(snap));
    snap.index = 1;
    snap.term = 1;
    snap.configuration_index = 1;
    raft_configuration_init(&snap.configuration);
    rv =
        raft_configuration_add(&snap.configuration, c->id, c->peer, RAFT_VOTER);
    buf.base = file.data;
    buf.len = file.len;
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
    } else {
        fprintf(stderr,
                "provcat-node: restored into '%s' as a one-voter cluster "
                "(node %u); add the others with POST /v1/members\n",
                c->data_dir, (unsigned)c->id);
        rc = PC_OK;
    }
out:
    io.close(&io, io_closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    raft_uv_close(&io);
    raft_uv_tcp_close(&transport);
    uv_loop_close(&loop);
    pc_buf_release(&file);
    return rc;
}
