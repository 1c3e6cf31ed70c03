/* SPDX-License-Identifier: MIT */
/* Seeds and a small PRNG for reproducible randomised tests. */
#include "tests/lib/test.h"

#include <stdio.h>
#include <stdlib.h>

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
