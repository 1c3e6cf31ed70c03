/* SPDX-License-Identifier: MIT */
/*
 * Common includes for cmocka unit tests (cmocka wants stdarg, stddef, setjmp
 * and stdint first) and the seed helper for randomised tests.
 */
#ifndef PC_TEST_H
#define PC_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/*
 * An out-of-memory sweep: run k (k = 0, 1, ...) makes the k-th allocation
 * fail (once, or every one from then on) until a run succeeds. A sweep
 * that never injected a failure, or whose successful run allocated
 * nothing, tests nothing; test_oom_end fails it then.
 *
 *     struct test_oom o = { 0 };
 *     for (long k = 0;; k++) {
 *         test_oom_arm(&o, k, 1);
 *         rc = the_operation();
 *         if (test_oom_disarm(&o, rc == PC_OK)) {
 *             break;
 *         }
 *         ... the failed run changed nothing ...
 *     }
 *     test_oom_end(&o);
 */
struct test_oom {
    long failed;         /* runs that failed */
    unsigned long start; /* the allocation count when the run began */
    unsigned long used;  /* allocations of the run that succeeded */
};

/* Start a run: `successes` allocations succeed, then `failures` fail (-1:
 * all the rest), as pc_alloc_fault. */
void test_oom_arm(struct test_oom *o, long successes, long failures);
/* End a run that succeeded (`ok`: returns true, the sweep is over) or
 * failed (returns false); injection stops either way. */
bool test_oom_disarm(struct test_oom *o, bool ok);
/* After the sweep: at least one failed run, and the successful one
 * allocated. */
void test_oom_end(const struct test_oom *o);

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
