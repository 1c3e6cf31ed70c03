/* SPDX-License-Identifier: MIT */
/* Seeds and a small PRNG for reproducible randomised tests; the
 * out-of-memory sweep's bookkeeping. */
#include "tests/lib/test.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/alloc.h"

uint64_t
test_seed(void)
{
    const char *s = getenv("PC_TEST_SEED");

    if (s != NULL && *s != '\0') {
        return strtoull(s, NULL, 0);
    }
    return 0x5eed2026u;
}

void
test_seed_note(const char *test, uint64_t seed)
{
    fprintf(stderr, "%s: PC_TEST_SEED=%llu\n", test, (unsigned long long)seed);
}

uint64_t
test_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15u;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1du;
}

void
test_oom_arm(struct test_oom *o, long successes, long failures)
{
    o->start = pc_alloc_count();
    pc_alloc_fault(successes, failures);
}

bool
test_oom_disarm(struct test_oom *o, bool ok)
{
    pc_alloc_fault_off();
    if (ok) {
        o->used = pc_alloc_count() - o->start;
    } else {
        o->failed++;
    }
    return ok;
}

void
test_oom_end(const struct test_oom *o)
{
    if (o->failed == 0) {
        fail_msg("the out-of-memory sweep injected no failure");
    }
    if (o->used == 0) {
        fail_msg("the sweep's successful run allocated nothing");
    }
}
