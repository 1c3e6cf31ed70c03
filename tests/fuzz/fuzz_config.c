/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the node's configuration: the input is a config
 * file (first byte even) or NUL-separated command-line arguments and
 * environment entries (first byte odd, "ENV:NAME=value" tokens go to the
 * environment). Every input is refused with PC_EINVAL and a one-line
 * message, or gives a configuration that holds the checks below; nothing
 * leaks (cfg_release) either way.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/err.h"
#include "node/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TOKENS 64

static void
check_at(int ok, int line)
{
    if (!ok) {
        fprintf(stderr, "fuzz_config: check failed at line %d\n", line);
        abort();
    }
}

#define check(ok) check_at((ok), __LINE__)

static void
check_result(int rc, const struct cfg *c, const char *errmsg)
{
    if (rc != PC_OK) {
        check(rc == PC_EINVAL);
        check(errmsg[0] != '\0' && strchr(errmsg, '\n') == NULL);
        return;
    }
    if (c->help || c->version) {
        return;
    }
    check(c->id >= 1 && c->id <= CFG_ID_MAX);
    check(c->data_dir != NULL && c->peer != NULL && c->client != NULL);
    check(c->advertise_client_url != NULL);
    check(cfg_check_peer(c->peer, (char[PC_ERRMSG_SIZE]){ 0 }) == PC_OK);
    check(c->cluster == NULL || c->n_cluster > 0);
}

static void
run(int argc, char **argv, char **envp)
{
    char errmsg[PC_ERRMSG_SIZE] = "";
    struct cfg c;
    FILE *devnull;
    int rc;

    memset(&c, 0, sizeof(c));
    rc = cfg_parse(&c, argc, argv, envp, errmsg);
    check_result(rc, &c, errmsg);
    if (rc == PC_OK) {
        devnull = fopen("/dev/null", "w");
        if (devnull != NULL) {
            cfg_describe(&c, devnull);
            fclose(devnull);
        }
        cfg_release(&c);
    }
}

/* The input as a config file, with the flags a node needs given. */
static void
as_file(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = memfd_create("fuzz_config", 0);

    if (fd < 0) {
        return;
    }
    if (size == 0 || write(fd, data, size) == (ssize_t)size) {
        char *argv[] = { "provcat-node", "--config", path, NULL };
        char *envp[] = { NULL };

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        run(3, argv, envp);
    }
    close(fd);
}

/* The input as NUL-separated arguments and environment entries. */
static void
as_args(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1), *argv[MAX_TOKENS + 2], *envp[MAX_TOKENS + 1];
    int argc = 1, envc = 0;

    if (copy == NULL) {
        return;
    }
    memcpy(copy, data, size);
    copy[size] = '\0';
    argv[0] = "provcat-node";
    for (char *s = copy; s <= copy + size && argc <= MAX_TOKENS;
         s += strlen(s) + 1) {
        if (strncmp(s, "ENV:", 4) == 0) {
            if (envc < MAX_TOKENS) {
                envp[envc++] = s + 4;
            }
        } else {
            argv[argc++] = s;
        }
    }
    argv[argc] = NULL;
    envp[envc] = NULL;
    run(argc, argv, envp);
    free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    if (data[0] % 2 == 0) {
        as_file(data + 1, size - 1);
    } else {
        as_args(data + 1, size - 1);
    }
    return 0;
}
