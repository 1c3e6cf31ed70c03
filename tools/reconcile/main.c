/* SPDX-License-Identifier: MIT */
/*
 * provcat-reconcile: compare versions across replicas, across time, and
 * against the source systems the data came from (docs/reconcile.md).
 * Global options and the dispatch (the help is in help.c); exit codes: 0
 * everything compared agrees, 1 something differs or the run failed, 2
 * usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/provcat.h"
#include "tools/reconcile/reconcile.h"

static void
usage_all(FILE *f)
{
    fprintf(
        f, "usage: provcat-reconcile [--endpoints URLS] [--token-file F] "
           "[-o table|json]\n"
           "                         [--timeout MS] [--no-progress] "
           "COMMAND ...\n\n"
           "Compare provcat's records across replicas, across time, and "
           "against the\nsource systems they came from (docs/reconcile.md).\n\n"
           "  --endpoints URLS   comma-separated node URLs "
           "($PROVCAT_ENDPOINTS)\n"
           "  --token-file F     the token's file ($PROVCAT_TOKEN_FILE; else "
           "$PROVCAT_TOKEN)\n"
           "  -o table|json      the report on standard output for people "
           "(default)\n"
           "                     or as one JSON document for scripts\n"
           "  --timeout MS       bound on each request, retries included "
           "(default 30000)\n"
           "  --no-progress      no progress line, even on a terminal\n\n"
           "commands:\n");
    for (const struct rcl_command *c = rcl_commands; c->name != NULL; c++) {
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    }
    fprintf(f, "\nprovcat-reconcile COMMAND --help shows a command's options "
               "and examples.\n"
               "Exit status: 0 everything compared agrees, 1 something "
               "differs or the\nrun failed (the reason on standard error), "
               "2 usage.\n");
}

int
main(int argc, char **argv)
{
    struct rcl_opts o = { 0 };
    const struct rcl_command *c;
    int i = 1;

    o.timeout_ms = 30000;
    o.progress = isatty(STDERR_FILENO);
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        size_t nlen = eq != NULL ? (size_t)(eq - a) : strlen(a);
        const char *v =
            eq != NULL ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
        bool took = eq == NULL;

#define OPT(s) (nlen == strlen(s) && strncmp(a, s, nlen) == 0)
        if (OPT("--help") || OPT("-h")) {
            usage_all(stdout);
            return RCL_AGREE;
        }
        if (OPT("--version")) {
            printf("provcat-reconcile %s\n", PROVCAT_VERSION);
            return RCL_AGREE;
        }
        if (OPT("--no-progress")) {
            o.progress = false;
            continue;
        }
        if (v == NULL) {
            return rcl_usage(NULL, "%s needs a value", a);
        }
        if (OPT("--endpoints")) {
            o.endpoints = v;
        } else if (OPT("--token-file")) {
            o.token_file = v;
        } else if (OPT("-o") || OPT("--output")) {
            if (strcmp(v, "json") != 0 && strcmp(v, "table") != 0) {
                return rcl_usage(NULL, "-o takes table or json");
            }
            o.json = strcmp(v, "json") == 0;
        } else if (OPT("--timeout")) {
            char *end;
            long ms = strtol(v, &end, 10);

            if (*v < '0' || *v > '9' || *end != '\0') {
                return rcl_usage(NULL, "--timeout takes milliseconds");
            }
            o.timeout_ms = ms;
        } else {
            return rcl_usage(NULL, "unknown option '%s'", a);
        }
#undef OPT
        if (took) {
            i++;
        }
    }
    if (i == argc) {
        usage_all(stderr);
        return RCL_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        if (i + 1 < argc && rcl_find(argv[i + 1]) != NULL) {
            rcl_help(argv[i + 1], stdout);
        } else {
            usage_all(stdout);
        }
        return RCL_AGREE;
    }
    c = rcl_find(argv[i]);
    if (c == NULL) {
        return rcl_usage(NULL, "unknown command '%s'", argv[i]);
    }
    return c->fn(&o, argc - i, argv + i);
}
