/* SPDX-License-Identifier: MIT */
/*
 * A real provcat-node cluster for the client library's tests: N nodes on
 * 127.0.0.1 with kernel-chosen ports, in a fresh temporary directory,
 * spawned from $BUILD/provcat-node (BUILD defaults to "build"), killed and
 * restarted at will, and stopped (SIGTERM, then SIGKILL) and removed at
 * the end. It talks to the nodes through libprovcat itself.
 */
#ifndef TCL_CLUSTER_H
#define TCL_CLUSTER_H

#include <stdbool.h>
#include <sys/types.h>

#define TCL_MAX_NODES 5

struct tcl_node {
    int id;
    int peer_port, client_port;
    pid_t pid; /* 0 when not running */
    char url[64];
    char dir[300];
    char log[300];
};

struct tcl {
    char dir[256];
    char token_file[300];
    char token[128]; /* the admin token */
    char node_bin[512];
    char spec[512];      /* --cluster */
    char endpoints[512]; /* every node's URL, comma-separated */
    int n;
    struct tcl_node nodes[TCL_MAX_NODES];
};

/* Start `n` founders and wait (up to 20 s) for a ready leader. 0 or -1
 * with a line on stderr. */
int tcl_start(struct tcl *t, int n);
/* Stop every node and remove the directory. */
void tcl_stop(struct tcl *t);
/* (Re)start node index `i` on its data dir. */
int tcl_node_start(struct tcl *t, int i);
/* Send `sig` to node `i` and reap it. */
void tcl_node_kill(struct tcl *t, int i, int sig);
/* Index of the node that says it is leader and is ready, waiting up to
 * `timeout_ms`; -1 if none. */
int tcl_leader(struct tcl *t, int timeout_ms);
/* Wait until every running node reports the same (revision, root). */
bool tcl_converged(struct tcl *t, int timeout_ms);
/* Milliseconds on the monotonic clock. */
long long tcl_now_ms(void);
void tcl_sleep_ms(long ms);

#endif
