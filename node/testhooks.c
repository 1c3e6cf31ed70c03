/* SPDX-License-Identifier: MIT */
/*
 * The test hooks of provcat-node-test, the build of provcat-node that the
 * integration tests run when they need a wrong clock, a full disk or a
 * short catch-up. Only that binary has this file and the hooks it sets
 * (every PC_TEST_HOOKS block, Makefile); provcat-node, which make install
 * installs and the image ships, reads none of these variables, and the
 * build checks that it has no trace of them (build/node-no-hooks).
 *
 *   PROVCAT_TEST_CLOCK_OFFSET_MS   added to the wall clock (pc_now_ms)
 *   PROVCAT_TEST_DISK_FREE_FILE    a file whose number is taken for the
 *                                  data dir's free bytes when it exists
 *   PROVCAT_TEST_CATCH_UP_BASE_MS  replaces the 30 s of a joiner's first
 *                                  catch-up round
 *
 * Read before main, so that threads only ever read the hooks.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/timefmt.h"
#include "node/node.h"
#include "node/raft/clu.h"

#ifndef PC_TEST_HOOKS
#error "node/testhooks.c is built with -DPC_TEST_HOOKS only"
#endif

__attribute__((constructor)) static void
testhooks_init(void)
{
    const char *e;

    if ((e = getenv("PROVCAT_TEST_CLOCK_OFFSET_MS")) != NULL) {
        pc_test_hook_clock_offset_ms = strtoll(e, NULL, 10);
    }
    node_test_hook_disk_free_file = getenv("PROVCAT_TEST_DISK_FREE_FILE");
    if ((e = getenv("PROVCAT_TEST_CATCH_UP_BASE_MS")) != NULL && atoi(e) > 0) {
        clu_test_hook_catch_up_base_ms = (uint64_t)atoi(e);
    }
}
