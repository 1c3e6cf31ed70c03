/* SPDX-License-Identifier: MIT */
/* Spawn, kill and reap provcat-node processes for the client tests. */
#include "tests/client/cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/provcat.h"

long long
tcl_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
tcl_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Ports the kernel hands out now (closed again before the nodes bind). */
static int
free_ports(int *ports, int n)
{
    int fds[2 * TCL_MAX_NODES];

    for (int i = 0; i < n; i++) {
        struct sockaddr_in a = { 0 };
        socklen_t len = sizeof(a);

        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof(a)) != 0 ||
            getsockname(fds[i], (struct sockaddr *)&a, &len) != 0) {
            return -1;
        }
        ports[i] = ntohs(a.sin_port);
    }
    for (int i = 0; i < n; i++) {
        close(fds[i]);
    }
    return 0;
}

int
tcl_node_start(struct tcl *t, int i)
{
    struct tcl_node *x = &t->nodes[i];
    char id[16], peer[32], client[32];
    pid_t pid;

    snprintf(id, sizeof(id), "%d", x->id);
    snprintf(peer, sizeof(peer), "127.0.0.1:%d", x->peer_port);
    snprintf(client, sizeof(client), "127.0.0.1:%d", x->client_port);
    pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int fd = open(x->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        /* Every test client is 127.0.0.1: without a higher security-log
         * rate, a test's own 403s would crowd out the events a later
         * test looks for within the same minute. */
        execl(t->node_bin, t->node_bin, "--id", id, "--data-dir", x->dir,
              "--peer", peer, "--client", client, "--initial-cluster-state",
              "new", "--admin-token-file", t->token_file, "--cluster", t->spec,
              "--log-level", "info", "--security-log-rate", "100000",
              (char *)NULL);
        _exit(127);
    }
    x->pid = pid;
    return 0;
}

void
tcl_node_kill(struct tcl *t, int i, int sig)
{
    struct tcl_node *x = &t->nodes[i];

    if (x->pid > 0) {
        kill(x->pid, sig);
        waitpid(x->pid, NULL, 0);
        x->pid = 0;
    }
}

static bool
read_token(struct tcl *t)
{
    FILE *f = fopen(t->token_file, "r");
    size_t n;

    if (f == NULL) {
        return false;
    }
    n = fread(t->token, 1, sizeof(t->token) - 1, f);
    fclose(f);
    while (n > 0 && (t->token[n - 1] == '\n' || t->token[n - 1] == ' ')) {
        n--;
    }
    t->token[n] = '\0';
    return n > 0;
}

int
tcl_start(struct tcl *t, int n)
{
    const char *build = getenv("BUILD");
    int ports[2 * TCL_MAX_NODES];
    char bin[512];

    memset(t, 0, sizeof(*t));
    snprintf(bin, sizeof(bin), "%s/provcat-node",
             build != NULL ? build : "build");
    if (realpath(bin, t->node_bin) == NULL) {
        fprintf(stderr, "cluster: no node binary at %s\n", bin);
        return -1;
    }
    snprintf(t->dir, sizeof(t->dir), "/tmp/provcat-ct-XXXXXX");
    if (mkdtemp(t->dir) == NULL || free_ports(ports, 2 * n) != 0) {
        fprintf(stderr, "cluster: temp dir or ports: %s\n", strerror(errno));
        return -1;
    }
    snprintf(t->token_file, sizeof(t->token_file), "%s/admin.token", t->dir);
    t->n = n;
    for (int i = 0; i < n; i++) {
        struct tcl_node *x = &t->nodes[i];
        size_t len = strlen(t->spec), elen = strlen(t->endpoints);

        x->id = i + 1;
        x->peer_port = ports[2 * i];
        x->client_port = ports[2 * i + 1];
        snprintf(x->url, sizeof(x->url), "http://127.0.0.1:%d", x->client_port);
        snprintf(x->dir, sizeof(x->dir), "%s/node%d", t->dir, x->id);
        snprintf(x->log, sizeof(x->log), "%s/node%d.log", t->dir, x->id);
        snprintf(t->spec + len, sizeof(t->spec) - len, "%s%d=127.0.0.1:%d",
                 i ? "," : "", x->id, x->peer_port);
        snprintf(t->endpoints + elen, sizeof(t->endpoints) - elen, "%s%s",
                 i ? "," : "", x->url);
    }
    for (int i = 0; i < n; i++) {
        if (tcl_node_start(t, i) != 0) {
            return -1;
        }
        if (i == 0) {
            long long end = tcl_now_ms() + 5000;

            while (!read_token(t) && tcl_now_ms() < end) {
                tcl_sleep_ms(20);
            }
        }
    }
    if (!read_token(t) || tcl_leader(t, 20000) < 0) {
        fprintf(stderr, "cluster: no ready leader (logs in %s)\n", t->dir);
        return -1;
    }
    return 0;
}

static void
rm_rf(const char *dir)
{
    pid_t pid = fork();

    if (pid == 0) {
        execlp("rm", "rm", "-rf", dir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0) {
        waitpid(pid, NULL, 0);
    }
}

void
tcl_stop(struct tcl *t)
{
    for (int i = 0; i < t->n; i++) {
        struct tcl_node *x = &t->nodes[i];
        long long end = tcl_now_ms() + 10000;

        if (x->pid <= 0) {
            continue;
        }
        kill(x->pid, SIGTERM);
        while (waitpid(x->pid, NULL, WNOHANG) == 0) {
            if (tcl_now_ms() > end) {
                kill(x->pid, SIGKILL);
                waitpid(x->pid, NULL, 0);
                break;
            }
            tcl_sleep_ms(20);
        }
        x->pid = 0;
    }
    if (getenv("TCL_KEEP") == NULL && t->dir[0] != '\0') {
        rm_rf(t->dir);
    }
}

/* The status of node `i`, or NULL. */
static struct provcat_status *
node_status(struct tcl *t, struct provcat *c, int i)
{
    struct provcat_status *s = NULL;

    if (t->nodes[i].pid <= 0 ||
        provcat_status(c, t->nodes[i].url, &s) != PROVCAT_OK) {
        return NULL;
    }
    return s;
}

int
tcl_leader(struct tcl *t, int timeout_ms)
{
    long long end = tcl_now_ms() + timeout_ms;
    struct provcat *c;
    int found = -1;

    if (provcat_new(t->endpoints, NULL, &c, NULL) != PROVCAT_OK) {
        return -1;
    }
    provcat_set_timeout_ms(c, 1000);
    while (found < 0 && tcl_now_ms() < end) {
        for (int i = 0; i < t->n && found < 0; i++) {
            struct provcat_status *s = node_status(t, c, i);
            int st = 0;

            if (s != NULL && strcmp(s->state, "leader") == 0) {
                /* Ready: genesis applied and the leader caught up. */
                struct provcat *one;

                if (provcat_new(t->nodes[i].url, NULL, &one, NULL) ==
                    PROVCAT_OK) {
                    provcat_set_timeout_ms(one, 1000);
                    if (provcat_request(one, "GET", "/readyz", NULL,
                                        PROVCAT_REQ_ANY_NODE, &st,
                                        NULL) == PROVCAT_OK &&
                        st == 200) {
                        found = i;
                    }
                    provcat_close(one);
                }
            }
            provcat_status_free(s);
        }
        if (found < 0) {
            tcl_sleep_ms(50);
        }
    }
    provcat_close(c);
    return found;
}

bool
tcl_converged(struct tcl *t, int timeout_ms)
{
    long long end = tcl_now_ms() + timeout_ms;
    struct provcat *c;
    bool same = false;

    if (provcat_new(t->endpoints, NULL, &c, NULL) != PROVCAT_OK) {
        return false;
    }
    provcat_set_timeout_ms(c, 1000);
    while (!same && tcl_now_ms() < end) {
        unsigned long long rev = 0;
        char root[PROVCAT_HASH_HEX_LEN + 1] = "";

        same = true;
        for (int i = 0; i < t->n && same; i++) {
            struct provcat_status *s;

            if (t->nodes[i].pid <= 0) {
                continue;
            }
            s = node_status(t, c, i);
            if (s == NULL) {
                same = false;
            } else if (root[0] == '\0') {
                rev = s->revision;
                memcpy(root, s->root, sizeof(root));
            } else if (s->revision != rev || strcmp(s->root, root) != 0) {
                same = false;
            }
            provcat_status_free(s);
        }
        if (!same) {
            tcl_sleep_ms(50);
        }
    }
    provcat_close(c);
    return same;
}
