/* SPDX-License-Identifier: MIT */
/*
 * Common includes for cmocka unit tests (cmocka wants stdarg, stddef, setjmp
 * and stdint first) and the seed helper for randomised tests.
 */
#ifndef PC_TEST_H
#define PC_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/*
 * The seed for randomised tests: $PC_TEST_SEED if set, else a fixed default.
 * test_seed_note() prints it so a failing run can be repeated.
 */
uint64_t test_seed(void);
void test_seed_note(const char *test, uint64_t seed);

/* xorshift64* generator for reproducible random inputs. */
uint64_t test_rand(uint64_t *state);

/* Run the tests with argv[1] (if any) as the cmocka filter. */
#define TEST_MAIN(group)                                  \
    int main(int argc, char **argv)                       \
    {                                                     \
        if (argc > 1) {                                   \
            cmocka_set_test_filter(argv[1]);              \
        }                                                 \
        return cmocka_run_group_tests(group, NULL, NULL); \
    }

#endif
