/* SPDX-License-Identifier: MIT */
/*
 * provcat-node's offline subcommands, which run without a cluster and
 * exit: `verify-backup FILE` checks a backup whole and says what it holds;
 * `restore --backup FILE --data-dir DIR --id N --peer ADDR` makes DIR the
 * data dir of a new one-voter cluster holding the backup, to be started
 * as usual afterwards. Exit status 0 ok, 1 failure or damage, 2 usage.
 */
#ifndef PC_OFFLINE_H
#define PC_OFFLINE_H

#include <stdbool.h>
#include <stdio.h>

/* Whether `name` (argv[1]) names an offline subcommand. */
bool offline_is_command(const char *name);

/*
 * Run the subcommand argv[0] with its arguments argv[1..argc-1] and the
 * environment `envp`; returns the process's exit status. Writes results to
 * `out` and one-line errors to `err`.
 */
int offline_main(int argc, char **argv, char **envp, FILE *out, FILE *err);

#endif
