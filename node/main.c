/* SPDX-License-Identifier: MIT */
/*
 * provcat-node: parse the configuration, run the node on one libuv loop,
 * stop cleanly on SIGTERM/SIGINT (leadership handed over first). Exit 0 on
 * a clean stop, 1 on a runtime failure, 2 on a usage or configuration error.
 * `provcat-node restore ...` and `provcat-node verify-backup ...` are
 * offline subcommands (node/offline.c) that run and exit.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/alloc.h"
#include "common/err.h"
#include "node/config.h"
#include "node/log.h"
#include "node/node.h"
#include "node/offline.h"
#include "node/raft/restore.h"

extern char **environ;

struct main_state {
    struct node node;
    uv_signal_t sigterm, sigint;
    bool stopped;
};

/* The effective configuration at start: as the config file's lines, or
 * one JSON line each (event "config") for --log-format json. */
static void
log_config(const struct cfg *c)
{
    char *text = NULL, *line, *next;
    size_t len = 0;
    FILE *f;

    if (log_format() == LOG_FORMAT_TEXT ||
        (f = open_memstream(&text, &len)) == NULL) {
        cfg_describe(c, stderr);
        return;
    }
    cfg_describe(c, f);
    fclose(f);
    for (line = text; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        log_write(LOG_LEVEL_INFO, "config", NULL, "%s", line);
    }
    free(text);
}

static void
closed_cb(uv_handle_t *h)
{
    (void)h;
}

static void
node_stopped(void *arg)
{
    struct main_state *m = arg;

    m->stopped = true;
    uv_close((uv_handle_t *)&m->sigterm, closed_cb);
    uv_close((uv_handle_t *)&m->sigint, closed_cb);
}

static void
signal_cb(uv_signal_t *s, int signum)
{
    struct main_state *m = s->data;

    node_log(&m->node, 2, "signal %d: shutting down", signum);
    node_stop(&m->node, node_stopped, m);
}

int
main(int argc, char **argv)
{
    static struct main_state m;
    char errmsg[PC_ERRMSG_SIZE] = "";
    struct clu_peer *peers = NULL;
    struct node_opts o;
    struct cfg c;
    uv_loop_t loop;

    /* Raft entries, request bodies and answers of up to a few MiB come and
     * go every millisecond: let malloc keep that memory instead of handing
     * it back (mmap/trim) and faulting in fresh zeroed pages for the next
     * one, which cost ~9% of a node's CPU under batch load. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    int rc, code;

    if (argc > 1 && offline_is_command(argv[1])) {
        return offline_main(argc - 1, argv + 1, environ, stdout, stderr);
    }
    memset(&c, 0, sizeof(c));
    rc = cfg_parse(&c, argc, argv, environ, errmsg);
    if (rc != PC_OK) {
        fprintf(stderr, "provcat-node: %s\n", errmsg);
        cfg_release(&c);
        return 2;
    }
    if (c.help) {
        cfg_usage(stdout);
        cfg_release(&c);
        return 0;
    }
    if (c.version) {
        printf("provcat-node %s\n", NODE_VERSION);
        cfg_release(&c);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    log_setup((enum log_level)c.log_level,
              c.log_format == CFG_LOG_JSON ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT,
              c.id);
    if (c.restore != NULL) {
        rc = restore_data_dir(&c, errmsg);
        if (rc != PC_OK) {
            fprintf(stderr, "provcat-node: restore: %s\n", errmsg);
            cfg_release(&c);
            return rc == PC_EINVAL ? 2 : 1;
        }
    }
    memset(&o, 0, sizeof(o));
    peers = pc_calloc(c.n_cluster + 1, sizeof(*peers));
    if (peers == NULL) {
        fprintf(stderr, "provcat-node: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < c.n_cluster; i++) {
        peers[i].id = c.cluster[i].id;
        snprintf(peers[i].address, sizeof(peers[i].address), "%s",
                 c.cluster[i].addr);
    }
    o.id = c.id;
    o.data_dir = c.data_dir;
    o.peer = c.peer;
    o.client = c.client;
    o.client_url = c.advertise_client_url;
    o.cluster = peers;
    o.n_cluster = (unsigned)c.n_cluster;
    o.initial_new = c.initial_cluster_state == CFG_CLUSTER_NEW;
    o.admin_token_file = c.admin_token_file;
    o.holidays_file = c.holidays;
    o.election_ms = c.election_timeout_ms;
    o.heartbeat_ms = c.heartbeat_timeout_ms;
    o.snapshot_threshold = c.snapshot_threshold;
    o.snapshot_trailing = c.snapshot_trailing;
    o.raft_log_budget = c.raft_log_budget;
    o.snapshot_cache = c.snapshot_cache;
    o.max_inflight = c.max_inflight;
    o.segment_size = c.segment_size;
    http_limits_default(&o.limits);
    o.limits.max_body_bytes = c.max_body_bytes;
    o.limits.max_connections = c.max_connections;
    o.limits.idle_timeout_ms = c.idle_timeout_ms;
    o.limits.request_timeout_ms = c.request_timeout_ms;
    o.rate_limit = c.rate_limit;
    o.trusted = c.trusted;
    o.n_trusted = c.n_trusted;
    o.log_level = (int)c.log_level;
    if (c.log_level >= CFG_LOG_INFO) {
        log_config(&c);
    }

    uv_loop_init(&loop);
    rc = node_start(&m.node, &loop, &o, errmsg);
    if (rc != PC_OK) {
        fprintf(stderr, "provcat-node: %s\n", errmsg);
        node_stop(&m.node, NULL, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        node_release(&m.node);
        uv_loop_close(&loop);
        pc_free(peers);
        cfg_release(&c);
        return rc == PC_EINVAL || rc == PC_EBUSY ? 2 : 1;
    }
    uv_signal_init(&loop, &m.sigterm);
    uv_signal_init(&loop, &m.sigint);
    m.sigterm.data = m.sigint.data = &m;
    uv_signal_start(&m.sigterm, signal_cb, SIGTERM);
    uv_signal_start(&m.sigint, signal_cb, SIGINT);
    m.node.stopped_cb = node_stopped;
    m.node.stopped_arg = &m;
    uv_run(&loop, UV_RUN_DEFAULT);
    code = m.node.exit_code;
    node_release(&m.node);
    if (uv_loop_close(&loop) != 0) {
        fprintf(stderr, "provcat-node: warning: handles left open\n");
    }
    pc_free(peers);
    cfg_release(&c);
    return code;
}
