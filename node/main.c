/* SPDX-License-Identifier: MIT */
/*
 * provcat-node: parse the configuration, run the node on one libuv loop,
 * stop cleanly on SIGTERM/SIGINT (leadership handed over first), open the
 * log files again on SIGHUP. The exit status is one of the table in
 * node/config.c (exit_status, printed by --help): 0 a clean stop, 1 a
 * runtime failure, 2 a usage or configuration error; a failed start
 * prints one line on stderr. `provcat-node restore ...` and `provcat-node
 * verify-backup ...` are offline subcommands (node/offline.c) that run and
 * exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/alloc.h"
#include "common/err.h"
#include "node/cmd.h"
#include "node/config.h"
#include "node/log.h"
#include "node/node.h"
#include "node/offline.h"
#include "node/raft/restore.h"

extern char **environ;

struct main_state {
    struct node node;
    uv_signal_t sigterm, sigint, sighup;
    const char *log_file; /* --log-file, or NULL: stderr as it came */
    int first_stderr;     /* stderr as it came, with --log-file; else -1 */
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

/* The exit status of a start that failed with `rc`: PC_EINVAL is the
 * configuration's fault (the table in node/config.c), anything else the
 * machine's. */
static int
exit_status_of(int rc)
{
    return rc == PC_EINVAL ? 2 : 1;
}

/* One line on stderr, "provcat-node: " and the cause; with --log-file on
 * the stderr the process started with too, where whoever started it
 * looks. */
static void __attribute__((format(printf, 2, 3)))
say(const struct main_state *m, const char *fmt, ...)
{
    char line[PC_ERRMSG_SIZE + 64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n > sizeof(line) - 2) {
        n = (int)sizeof(line) - 2;
    }
    line[n++] = '\n';
    fprintf(stderr, "provcat-node: %.*s", n, line);
    if (m->first_stderr >= 0 &&
        (write(m->first_stderr, "provcat-node: ", 14) < 0 ||
         write(m->first_stderr, line, (size_t)n) < 0)) {
        return; /* nowhere left to say it */
    }
}

/* Point stderr (fd 2) at --log-file, opened for appending; the old stderr
 * stays in use if that fails. */
static int
open_log_file(const char *path, char *errmsg)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

    if (fd < 0) {
        return pc_errmsg_sys(errmsg, errno, "--log-file '%s'", path);
    }
    if (dup2(fd, STDERR_FILENO) < 0) {
        int e = errno;
        close(fd);
        return pc_errmsg_sys(errmsg, e, "--log-file '%s'", path);
    }
    close(fd);
    return PC_OK;
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
    uv_close((uv_handle_t *)&m->sighup, closed_cb);
    /* Closing the handles gave the signals their default action back,
     * which is death: the node has stopped cleanly, and exits so. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
}

static void
signal_cb(uv_signal_t *s, int signum)
{
    struct main_state *m = s->data;

    node_log(&m->node, 2, "signal %d: shutting down", signum);
    node_stop(&m->node, node_stopped, m);
}

/* SIGHUP: the log files again by name (logrotate moved them away), and
 * nothing else. */
static void
sighup_cb(uv_signal_t *s, int signum)
{
    struct main_state *m = s->data;
    char errmsg[PC_ERRMSG_SIZE];

    (void)signum;
    if (m->log_file != NULL && open_log_file(m->log_file, errmsg) != PC_OK) {
        node_log(&m->node, 1, "SIGHUP: %s; logging on to the old file", errmsg);
    }
    if (node_reopen_logs(&m->node, errmsg) != PC_OK) {
        node_log(&m->node, 1,
                 "SIGHUP: %s; the security log goes on in the "
                 "old file",
                 errmsg);
    }
    node_log(&m->node, 2, "SIGHUP: log files opened again");
}

static void
fill_opts(struct node_opts *o, const struct cfg *c, struct clu_peer *peers)
{
    memset(o, 0, sizeof(*o));
    for (size_t i = 0; i < c->n_cluster; i++) {
        peers[i].id = c->cluster[i].id;
        snprintf(peers[i].address, sizeof(peers[i].address), "%s",
                 c->cluster[i].addr);
    }
    o->id = c->id;
    o->data_dir = c->data_dir;
    o->peer = c->peer;
    o->client = c->client;
    o->client_url = c->advertise_client_url;
    o->cluster = peers;
    o->n_cluster = (unsigned)c->n_cluster;
    o->initial_new = c->initial_cluster_state == CFG_CLUSTER_NEW;
    o->admin_token_file = c->admin_token_file;
    o->holidays_file = c->holidays;
    o->election_ms = c->election_timeout_ms;
    o->heartbeat_ms = c->heartbeat_timeout_ms;
    o->snapshot_threshold = c->snapshot_threshold;
    o->snapshot_trailing = c->snapshot_trailing;
    o->raft_log_budget = c->raft_log_budget;
    o->snapshot_cache = c->snapshot_cache;
    o->max_inflight = c->max_inflight;
    o->segment_size = c->segment_size;
    http_limits_default(&o->limits);
    o->limits.max_body_bytes = c->max_body_bytes;
    o->limits.max_connections = c->max_connections;
    o->limits.idle_timeout_ms = c->idle_timeout_ms;
    o->limits.request_timeout_ms = c->request_timeout_ms;
    o->rate_limit = c->rate_limit;
    o->trusted = c->trusted;
    o->n_trusted = c->n_trusted;
    o->log_level = (int)c->log_level;
    o->exit_when_removed = c->exit_when_removed;
    o->seclog_max_bytes = c->security_log_max_bytes;
    o->seclog_keep = c->security_log_keep;
    o->seclog_rate = c->security_log_rate;
}

/* Start the node and run the loop until it stops; the exit status. */
static int
run(struct main_state *m, const struct cfg *c)
{
    char errmsg[PC_ERRMSG_SIZE] = "";
    struct clu_peer *peers;
    struct node_opts o;
    uv_loop_t loop;
    int rc, code;

    peers = pc_calloc(c->n_cluster + 1, sizeof(*peers));
    if (peers == NULL) {
        say(m, "out of memory");
        return 1;
    }
    fill_opts(&o, c, peers);
    if (c->log_level >= CFG_LOG_INFO) {
        log_config(c);
    }
    uv_loop_init(&loop);
    rc = node_start(&m->node, &loop, &o, errmsg);
    if (rc != PC_OK) {
        say(m, "%s", errmsg);
        node_stop(&m->node, NULL, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        node_release(&m->node);
        uv_loop_close(&loop);
        pc_free(peers);
        return exit_status_of(rc);
    }
    uv_signal_init(&loop, &m->sigterm);
    uv_signal_init(&loop, &m->sigint);
    uv_signal_init(&loop, &m->sighup);
    m->sigterm.data = m->sigint.data = m->sighup.data = m;
    uv_signal_start(&m->sigterm, signal_cb, SIGTERM);
    uv_signal_start(&m->sigint, signal_cb, SIGINT);
    uv_signal_start(&m->sighup, sighup_cb, SIGHUP);
    m->node.stopped_cb = node_stopped;
    m->node.stopped_arg = m;
    uv_run(&loop, UV_RUN_DEFAULT);
    code = m->node.exit_code;
    node_release(&m->node);
    if (uv_loop_close(&loop) != 0) {
        node_log(&m->node, 1, "handles left open at exit");
    }
    pc_free(peers);
    return code;
}

int
main(int argc, char **argv)
{
    static struct main_state m;
    char errmsg[PC_ERRMSG_SIZE] = "";
    struct cfg c;
    int rc, code;

    /* Until the loop runs, a SIGHUP (a terminal closing, a log rotation)
     * must not kill a start half done; from then on it reopens logs. */
    signal(SIGHUP, SIG_IGN);
    /* Raft entries, request bodies and answers of up to a few MiB come and
     * go every millisecond: let malloc keep that memory instead of handing
     * it back (mmap/trim) and faulting in fresh zeroed pages for the next
     * one, which cost ~9% of a node's CPU under batch load. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    m.first_stderr = -1;

    if (argc > 1 && offline_is_command(argv[1])) {
        return offline_main(argc - 1, argv + 1, environ, stdout, stderr);
    }
    memset(&c, 0, sizeof(c));
    rc = cfg_parse(&c, argc, argv, environ, errmsg);
    if (rc != PC_OK) {
        say(&m, "%s", errmsg);
        return exit_status_of(rc);
    }
    if (c.help) {
        cfg_usage(stdout);
        cfg_release(&c);
        return 0;
    }
    if (c.version) {
        printf("provcat-node %s (rules %u)\n", NODE_VERSION,
               (unsigned)CMD_RULES_VERSION);
        cfg_release(&c);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    if (c.log_file != NULL) {
        m.first_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        rc = open_log_file(c.log_file, errmsg);
        if (rc != PC_OK) { /* stderr is still the first one */
            close(m.first_stderr);
            m.first_stderr = -1;
            say(&m, "%s", errmsg);
            cfg_release(&c);
            return 1;
        }
        m.log_file = c.log_file;
    }
    log_setup((enum log_level)c.log_level,
              c.log_format == CFG_LOG_JSON ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT,
              c.id);
    if (c.restore != NULL) {
        rc = restore_data_dir(&c, errmsg);
        if (rc != PC_OK) {
            say(&m, "restore: %s", errmsg);
            cfg_release(&c);
            return exit_status_of(rc);
        }
    }
    code = run(&m, &c);
    cfg_release(&c);
    return code;
}
